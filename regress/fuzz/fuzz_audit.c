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
 *	3	the rest is an IMSG_FE_REFUSED from the frontend (cut or
 *		padded with zeros to its size when its first byte is even):
 *		the engine records it if and only if it is well formed, and
 *		the record parses, chains and says what the message did
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
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
static void	 fz_refused(const uint8_t *, size_t);
static int	 fz_refused_ok(const struct fe_refused *);
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
	switch (data[0] % 4) {
	case 0:
		fz_verify(data + 1, size - 1);
		break;
	case 1:
	case 2:
	case 3:
		if (fchdir(workfd) == -1)
			abort();
		if (data[0] % 4 == 1)
			fz_write(data + 1, size - 1);
		else if (data[0] % 4 == 2)
			fz_recover(data + 1, size - 1);
		else
			fz_refused(data + 1, size - 1);
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

/* What the engine must take, said again here from struct fe_refused. */
static int
fz_refused_ok(const struct fe_refused *r)
{
	static const uint8_t	 zero[32];

	if (strnlen(r->peer, sizeof(r->peer)) == sizeof(r->peer) ||
	    strnlen(r->claimed, sizeof(r->claimed)) == sizeof(r->claimed) ||
	    strnlen(r->reason, sizeof(r->reason)) == sizeof(r->reason) ||
	    r->reason[0] == '\0' || r->suppressed > LLONG_MAX)
		return (0);
	if (r->peer[0] == '\0')
		return (r->claimed[0] == '\0' && r->suppressed > 0 &&
		    memcmp(r->cert_sha256, zero, sizeof(zero)) == 0);
	return (1);
}

static void
fz_refused(const uint8_t *data, size_t size)
{
	struct fe_refused	 r;
	const uint8_t		*msg = data;
	char			*buf, *last, want[64];
	size_t			 len, before, n = size;
	int			 ok, rv;

	if (size > 0 && data[0] % 2 == 0) {
		memset(&r, 0, sizeof(r));
		memcpy(&r, data + 1, size - 1 < sizeof(r) ? size - 1 :
		    sizeof(r));
		msg = (const uint8_t *)&r;
		n = sizeof(r);
	} else if (size == sizeof(r))
		memcpy(&r, data, sizeof(r));
	ok = n == sizeof(r) && fz_refused_ok(&r);

	(void)unlink(FZ_FILE);
	audit_configure(&conf, ".", NULL, 0);
	audit_write();
	before = fz_read(&buf);
	free(buf);
	rv = audit_refused(msg, n);
	audit_close();
	if ((rv == 0) != ok)
		abort();	/* a bad one taken, or a good one not */
	len = fz_read(&buf);
	fz_check_new(buf, len, 0, NULL);
	if (!ok) {
		if (len != before)
			abort();	/* a bad one left a trace */
		free(buf);
		return;
	}
	/* One record more, a refused one, with the count if any. */
	if (len <= before || memchr(buf + before, '\n', len - before) !=
	    buf + len - 1)
		abort();
	last = buf + before;
	buf[len - 1] = '\0';
	if (strstr(last, "\"event\":\"refused\"") == NULL ||
	    (r.peer[0] != '\0') != (strstr(last, "\"peer\":") != NULL) ||
	    (r.claimed[0] != '\0') !=
	    (strstr(last, "\"claimed\":") != NULL))
		abort();
	(void)snprintf(want, sizeof(want), "\"suppressed\":%llu}",
	    (unsigned long long)r.suppressed);
	if ((r.suppressed > 0) != (strstr(last, want) != NULL))
		abort();
	free(buf);
}
