/*
 * libFuzzer target for the audit trail (signerd/audit.c).  The first
 * byte chooses:
 *
 *	0	the rest is a file as signerctl audit verify reads it: every
 *		line through the parser and the chain, which must neither
 *		crash nor accept a line the parser refused unless a "torn"
 *		record names it
 *	1	the rest, split at NUL bytes, is what a client controls of a
 *		record (identity, peer, ids, signer, message): the engine
 *		writes records of it, and every line it wrote must parse and
 *		chain
 *	2	the rest is a file the engine finds at its start, and after
 *		a NUL byte the records the keystore kept: it recovers the
 *		chain from the file's tail, restores those records that the
 *		file lacks, and every line it adds must parse and chain on
 *		from the last line it found whole
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <event.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "kmip.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FZ_FILE		"fuzz-audit.log"

static void	 fz_verify(const uint8_t *, size_t);
static void	 fz_write(const uint8_t *, size_t);
static void	 fz_recover(const uint8_t *, size_t);
static size_t	 fz_read(char **);
static void	 fz_check_new(const char *, size_t, size_t, const char *);

static struct engine_conf	 conf;
static int			 topfd, workfd;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 dir[] = "/tmp/fuzz_audit.XXXXXX";

	/*
	 * The engine's files go in a directory of their own, the current
	 * one while an input runs (libFuzzer's paths are relative).
	 */
	if (mkdtemp(dir) == NULL ||
	    (workfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1 ||
	    (topfd = open(".", O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", dir);
	log_init(0, 0);
	log_setverbose(0);
	event_init();
	conf.audit_on = 1;
	conf.audit_syslog = 0;
	conf.audit_rotate = 0;
	(void)strlcpy(conf.audit_file, FZ_FILE, sizeof(conf.audit_file));
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	switch (data[0] % 3) {
	case 0:
		fz_verify(data + 1, size - 1);
		break;
	case 1:
	case 2:
		if (fchdir(workfd) == -1)
			abort();
		if (data[0] % 3 == 1)
			fz_write(data + 1, size - 1);
		else
			fz_recover(data + 1, size - 1);
		if (fchdir(topfd) == -1)
			abort();
		break;
	}
	return (0);
}

/* Lines through the chain as verify sends them; no crash, no leak. */
static void
fz_verify(const uint8_t *data, size_t size)
{
	struct audit_chain	 ch;
	struct audit_rec	 rec;
	const char		*p = (const char *)data, *end = p + size, *nl;
	const char		*why;
	char			 msg[512], hash[AUDIT_HASH_HEX];
	size_t			 len;
	int			 r, first = 1, ok;

	memset(&ch, 0, sizeof(ch));
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		len = nl - p;
		ok = audit_parse(p, len, &rec, &why) == 0;
		if (ok && (strlen(rec.prev) != 64 ||
		    strnlen(rec.event, sizeof(rec.event)) ==
		    sizeof(rec.event) || rec.seq == 0))
			abort();
		r = audit_chain_line(&ch, p, len, first, msg, sizeof(msg));
		if (r == 0 && !ok && !ch.torn_pending)
			abort();	/* a non-record taken as one */
		if (r == 0 && ok) {
			audit_hash(p, len, hash);
			if (strcmp(hash, ch.hash) != 0 || ch.seq != rec.seq)
				abort();
		}
		if (r != 0)
			break;
		first = 0;
		p = nl + 1;
	}
	(void)audit_chain_end(&ch, msg, sizeof(msg));
}

/* The file's bytes, NUL-terminated; its length. */
static size_t
fz_read(char **bufp)
{
	struct stat	 st;
	char		*buf;
	int		 fd;

	if ((fd = open(FZ_FILE, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		abort();
	if ((buf = malloc(st.st_size + 1)) == NULL ||
	    read(fd, buf, st.st_size) != st.st_size)
		abort();
	buf[st.st_size] = '\0';
	close(fd);
	*bufp = buf;
	return (st.st_size);
}

/*
 * The lines from off on are the engine's: each parses and chains, the
 * first after prev (if not NULL).
 */
static void
fz_check_new(const char *buf, size_t len, size_t off, const char *prev)
{
	struct audit_chain	 ch;
	struct audit_rec	 rec;
	const char		*p = buf + off, *end = buf + len, *nl, *why;
	char			 msg[512];
	int			 first = 1;

	memset(&ch, 0, sizeof(ch));
	if (p >= end)
		abort();	/* at least the start record */
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			abort();	/* the engine ends every line */
		if (audit_parse(p, nl - p, &rec, &why) == -1) {
			fprintf(stderr, "%.*s: %s\n", (int)(nl - p), p, why);
			abort();
		}
		if (first && prev != NULL && strcmp(rec.prev, prev) != 0)
			abort();
		if (audit_chain_line(&ch, p, nl - p, first, msg,
		    sizeof(msg)) != 0) {
			fprintf(stderr, "%s\n", msg);
			abort();
		}
		first = 0;
		p = nl + 1;
	}
}

static void
fz_write(const uint8_t *data, size_t size)
{
	struct fe_hdr	 hdr;
	struct audit_req ar;
	const char	*f[6];
	char		*copy, *p, *buf;
	size_t		 n = 0, len, i;

	(void)unlink(FZ_FILE);
	audit_configure(&conf, ".", NULL, 0);
	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy; n < 6; n++) {
		f[n] = p;
		p += strlen(p);
		if (p < copy + size)
			p++;
	}
	memset(&hdr, 0, sizeof(hdr));
	(void)strlcpy(hdr.identity, f[0], sizeof(hdr.identity));
	(void)strlcpy(hdr.peer, f[1], sizeof(hdr.peer));
	for (i = 0; i < 3; i++) {
		memset(&ar, 0, sizeof(ar));
		ar.hdr = &hdr;
		ar.msgid = i;
		ar.item = (int)i - 1;
		ar.op = size > 0 ? data[0] : 0;
		ar.ids[0] = f[2];
		ar.ids[1] = f[3];
		ar.signer = f[4];
		ar.failed = i;
		ar.reason = size > 1 ? data[1] : 0;
		ar.msg = f[5];
		ar.us = (int64_t)size * 1000;
		audit_request(&ar);
	}
	audit_close();
	len = fz_read(&buf);
	fz_check_new(buf, len, 0, NULL);
	free(buf);
	free(copy);
}

static void
fz_recover(const uint8_t *data, size_t size)
{
	struct audit_rec	 rec;
	struct fe_hdr		 hdr;
	struct audit_req	 ar;
	char			*buf, prev[AUDIT_HASH_HEX];
	const char		*why, *last, *end, *restore = NULL, *nul;
	size_t			 len, off, rlen = 0;
	int			 fd, known = 0;

	if ((nul = memchr(data, '\0', size)) != NULL) {
		restore = nul + 1;
		rlen = (const char *)data + size - restore;
		size = nul - (const char *)data;
	}
	(void)unlink(FZ_FILE);
	if ((fd = open(FZ_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	/* The last whole line, which the engine chains on from if a record. */
	end = (const char *)data + size;
	while (end > (const char *)data && end[-1] != '\n')
		end--;
	if (end > (const char *)data) {
		for (last = end - 1; last > (const char *)data &&
		    last[-1] != '\n'; last--)
			;
		if (audit_parse(last, end - 1 - last, &rec, &why) == 0) {
			audit_hash(last, end - 1 - last, prev);
			known = 1;
		}
	}
	audit_configure(&conf, ".", restore, rlen);
	memset(&hdr, 0, sizeof(hdr));
	(void)strlcpy(hdr.identity, "alice", sizeof(hdr.identity));
	memset(&ar, 0, sizeof(ar));
	ar.hdr = &hdr;
	ar.op = KMIP_OP_SIGN;
	audit_request(&ar);
	audit_close();
	len = fz_read(&buf);
	if (unlink(FZ_FILE ".1") == 0) {
		/* Its end unreadable, it was set aside: a new chain. */
		fz_check_new(buf, len, 0, NULL);
		free(buf);
		return;
	}
	if (len < size)
		abort();	/* nothing of it may go */
	off = size;
	if (size > 0 && data[size - 1] != '\n')
		off++;		/* the torn line, ended */
	fz_check_new(buf, len, off, known ? prev : NULL);
	free(buf);
}
