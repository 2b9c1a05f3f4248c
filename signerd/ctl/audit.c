/*
 * signerctl audit verify [FILE ...]: check the chain of the audit trail
 * with the engine's own code (audit.c).  Files are given oldest first;
 * without any, the live ones (rotated, then current) are found where
 * the engine says, and its head tells whether the tail was cut.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "imsg.h"
#include "signerd.h"
#include "signerctl.h"

struct vfile {
	char		*path;
	unsigned long	 n;		/* rotated: its number; current: 0 */
};

static int	 audit_ask(const char *, struct ctl_audit *);
static int	 audit_live(const struct ctl_audit *, struct vfile **,
		    size_t *);
static int	 vfile_cmp(const void *, const void *);

/* Where the last record was, and the head's record if seen. */
struct vstate {
	struct audit_chain	 ch;
	const char		*file;
	unsigned long		 line;
	uint64_t		 want;		/* the engine's head, or 0 */
	char			 want_hash[AUDIT_HASH_HEX];
	int			 seen;		/* its record was found */
};

static int	 audit_verify_file(struct vstate *, const char *);

int
audit_verify_main(const char *sock, int argc, char *argv[])
{
	struct vstate		 vs;
	struct ctl_audit	 ca;
	struct vfile		*files = NULL;
	size_t			 nfiles = 0, i;
	char			 why[512];
	int			 rv = 0;

	memset(&vs, 0, sizeof(vs));
	if (argc > 0) {
		if ((files = calloc(argc, sizeof(*files))) == NULL)
			err(1, NULL);
		for (i = 0; i < (size_t)argc; i++)
			if ((files[i].path = strdup(argv[i])) == NULL)
				err(1, NULL);
		nfiles = argc;
	} else {
		if (audit_ask(sock, &ca) == -1)
			return (1);
		if (!ca.enabled)
			errx(1, "the audit trail is off or not open");
		if (audit_live(&ca, &files, &nfiles) == -1)
			return (1);
		vs.want = ca.seq;
		(void)strlcpy(vs.want_hash, ca.head, sizeof(vs.want_hash));
	}
	for (i = 0; i < nfiles && rv == 0; i++)
		rv = audit_verify_file(&vs, files[i].path);
	if (rv == 0 && audit_chain_end(&vs.ch, why, sizeof(why)) == -1) {
		printf("%s:%lu: %s\n", vs.file, vs.line, why);
		rv = 1;
	}
	if (rv == 0 && vs.want > 0 && !vs.seen) {
		if (vs.ch.seq < vs.want) {
			printf("%s:%lu: the trail ends at record %llu; the "
			    "engine wrote up to record %llu: its tail was "
			    "cut\n", vs.file, vs.line,
			    (unsigned long long)vs.ch.seq,
			    (unsigned long long)vs.want);
		} else
			printf("%s: record %llu, the engine's head, is not "
			    "in the files\n", vs.file,
			    (unsigned long long)vs.want);
		rv = 1;
	}
	if (rv == 0)
		printf("ok: %llu records in %zu file%s, the last record %llu "
		    "(%s)\n", (unsigned long long)vs.ch.records, nfiles,
		    nfiles == 1 ? "" : "s", (unsigned long long)vs.ch.seq,
		    vs.ch.started ? vs.ch.hash : "none");
	for (i = 0; i < nfiles; i++)
		free(files[i].path);
	free(files);
	return (rv);
}

/* One file of the series: 0, or 1 once the first broken line is said. */
static int
audit_verify_file(struct vstate *vs, const char *path)
{
	FILE		*fp;
	char		*line = NULL, why[512];
	size_t		 cap = 0, len;
	ssize_t		 n;
	unsigned long	 lineno = 0;
	int		 r, rv = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return (1);
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		len = n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		r = audit_chain_line(&vs->ch, line, len, lineno == 1, why,
		    sizeof(why));
		if (r == -2 && vs->file != NULL) {
			printf("%s:%lu: %s\n", vs->file, vs->line, why);
			rv = 1;
			break;
		}
		if (r != 0) {
			printf("%s:%lu: %s\n", path, lineno, why);
			rv = 1;
			break;
		}
		vs->file = path;
		vs->line = lineno;
		if (vs->want > 0 && vs->ch.started && !vs->ch.torn_pending &&
		    vs->ch.seq == vs->want) {
			if (strcmp(vs->ch.hash, vs->want_hash) != 0) {
				printf("%s:%lu: record %llu is not the one "
				    "the engine wrote: the tail was replaced\n",
				    path, lineno,
				    (unsigned long long)vs->want);
				rv = 1;
				break;
			}
			vs->seen = 1;
		}
	}
	if (rv == 0 && ferror(fp)) {
		warn("%s", path);
		rv = 1;
	}
	if (rv == 0 && lineno == 0) {
		printf("%s: empty\n", path);
		rv = 1;
	}
	free(line);
	fclose(fp);
	return (rv);
}

/* IMSG_CTL_AUDIT: where the trail is and its head. */
static int
audit_ask(const char *sock, struct ctl_audit *ca)
{
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct ctl_result	 res;
	int			 fd, rv = -1;

	fd = ctl_connect(sock, &ibuf,
	    " (give the files to verify them offline)");
	imsg_compose(&ibuf, IMSG_CTL_AUDIT, IMSG_VERSION, 0, -1, NULL, 0);
	if (imsgbuf_flush(&ibuf) == -1)
		err(1, "write to %s", sock);
	ctl_read(&ibuf, &imsg, sock);
	if (imsg_get_type(&imsg) == IMSG_CTL_AUDIT &&
	    imsg_get_data(&imsg, ca, sizeof(*ca)) == 0) {
		strterm(ca->dir, sizeof(ca->dir));
		strterm(ca->file, sizeof(ca->file));
		strterm(ca->head, sizeof(ca->head));
		rv = 0;
	} else if (imsg_get_type(&imsg) == IMSG_CTL_RESULT &&
	    imsg_get_data(&imsg, &res, sizeof(res)) == 0) {
		strterm(res.msg, sizeof(res.msg));
		warnx("%s", res.msg);
	} else
		warnx("unexpected reply from signerd");
	imsg_free(&imsg);
	imsgbuf_clear(&ibuf);
	close(fd);
	return (rv);
}

/* The live files: FILE.N by N, then FILE. */
static int
audit_live(const struct ctl_audit *ca, struct vfile **filesp, size_t *np)
{
	DIR		*d;
	struct dirent	*de;
	struct vfile	*files = NULL, *nf;
	size_t		 n = 0, flen = strlen(ca->file);
	unsigned long	 v;
	char		*end;

	if (ca->file[0] == '\0' || strchr(ca->file, '/') != NULL)
		errx(1, "bad audit file name from signerd");
	if ((d = opendir(ca->dir)) == NULL) {
		warn("%s", ca->dir);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ca->file, flen) != 0 ||
		    de->d_name[flen] != '.' || de->d_name[flen + 1] < '1' ||
		    de->d_name[flen + 1] > '9')
			continue;
		errno = 0;
		v = strtoul(de->d_name + flen + 1, &end, 10);
		if (errno != 0 || *end != '\0')
			continue;
		if ((nf = reallocarray(files, n + 1, sizeof(*files))) == NULL)
			err(1, NULL);
		files = nf;
		files[n].n = v;
		if (asprintf(&files[n].path, "%s/%s", ca->dir,
		    de->d_name) == -1)
			err(1, NULL);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(files, n, sizeof(*files), vfile_cmp);
	if ((nf = reallocarray(files, n + 1, sizeof(*files))) == NULL)
		err(1, NULL);
	files = nf;
	files[n].n = 0;
	if (asprintf(&files[n].path, "%s/%s", ca->dir, ca->file) == -1)
		err(1, NULL);
	*filesp = files;
	*np = n + 1;
	return (0);
}

static int
vfile_cmp(const void *a, const void *b)
{
	const struct vfile	*x = a, *y = b;

	return (x->n < y->n ? -1 : x->n > y->n);
}
