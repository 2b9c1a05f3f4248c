/*
 * The audit trail.
 *
 * One JSON line per request item (and per message refused before its
 * items decode), in a file in the keystore's directory, which is all of
 * the disk the engine sees.  Each line carries "prev", the SHA-256 in
 * hex of the line before it, so that a record edited, removed or moved
 * breaks the chain at the record after it; "seq" numbers the records.
 *
 * Records are made in memory as items end and written with one write(2)
 * before any answer they describe can leave the engine: at the end of
 * the event callback that ended the items (audit_hold, audit_release),
 * or before the answer is queued when no callback holds them.  A kill
 * of the engine loses none: the kernel has them.  They are fsync'ed
 * with the keystore's commit when the turn changed state, before its
 * answers are sent, and otherwise within a second.
 *
 * The file is rotated by size: it is renamed NAME.N (N counts up and
 * never changes after), and the new file starts with a "rotate" record
 * naming NAME.N, chained to its last record.  On start the chain goes on
 * from the last line of the file (a bounded read of its tail); a last
 * line cut by a crash is not trusted: it is ended and a "torn" record
 * after it names its hash.
 *
 * The parser and the chain check below are signerctl audit verify's.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "kmip.h"
#include "log.h"
#include "ttlv.h"

/* Formatted records not yet written, at most; beyond, they are counted. */
#define AUDIT_BUF_MAX		(4 * 1024 * 1024)
#define AUDIT_KICK		(256 * 1024)	/* writeback started each */
#define AUDIT_SYNC_SEC		1
#define AUDIT_SERIAL_MAX	1000000000U
#define AUDIT_NEW_SUFFIX	".new"
#define AUDIT_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct line {
	char	 buf[AUDIT_LINE_MAX];
	size_t	 len;
	int	 over;
};

static void	 line_raw(struct line *, const char *);
static void	 line_str(struct line *, const char *, const char *, size_t);
static void	 line_num(struct line *, const char *, long long);
static void	 line_begin(struct line *, const char *);
static void	 line_begin_raw(struct line *);
static void	 line_text(struct line *, const char *, const char *,
		    size_t);
static void	 hex32(const uint8_t *, char *);
static void	 audit_add(struct line *);
static size_t	 audit_seal(struct line *, char *);
static int	 audit_open(const char *, const char *, size_t);
static void	 audit_early(void);
static void	 audit_buf_reset(void);
static size_t	 audit_restore(const char *, size_t);
static void	 audit_synced(size_t);
static void	 audit_sync_start(void);
static void	 audit_sync_wait(void);
static void	 audit_sync_end(void);
static void	 audit_sync_later(void);
static void	 audit_sync_done(int, short, void *);
static void	*audit_syncer(void *);
static int	 audit_recover(int, char *, size_t);
static int	 audit_first(int, unsigned int *);
static void	 audit_rotate(void);
static void	 audit_expire(unsigned int);
static void	 audit_flush_cb(int, short, void *);
static void	 audit_sync_cb(int, short, void *);
static void	 audit_schedule(void);
static const char *audit_reason_name(uint32_t);
static int	 json_ws(const char *, size_t, size_t *);
static int	 json_string(const char *, size_t, size_t *, char *, size_t);
static int	 json_number(const char *, size_t, size_t *, long long *);
static int	 is_hash(const char *);

static struct {
	int		 configured;
	int		 on;
	int		 syslog;
	int		 fd;
	char		 file[AUDIT_FILE_MAX];
	char		 dir[1024];
	int64_t		 rotate;
	int		 keep;
	off_t		 size;		/* of the file, written */
	off_t		 kicked;	/* its writeback started up to */
	unsigned int	 serial;	/* the next rotated file's N */
	uint64_t	 seq;		/* the last record made */
	char		 head[AUDIT_HASH_HEX];	/* its hash */
	uint64_t	 wseq;		/* the last record written */
	char		 whead[AUDIT_HASH_HEX];
	/*
	 * Records made and not on disk: written up to woff, handed to the
	 * keystore's commit up to dboff (the last, dbseq); the first is
	 * bufseq, the last on disk syncseq.
	 */
	char		*buf;
	size_t		 len, cap, woff, dboff;
	uint64_t	 bufseq, syncseq, dbseq, trimmed;
	uint64_t	 lost;		/* not made: no room */
	char		*early;		/* made before the configuration */
	size_t		 elen, ecap;
	int		 unsynced;
	int		 hold;
	int		 werr;		/* the last write failed */
	struct event	 flush_ev, sync_ev;
	int		 flush_set, sync_set, events;
} au = { .fd = -1 };

/*
 * The file's periodic sync runs on a thread of its own (audit_syncer), so
 * that the engine's event loop does not wait for the disk between
 * requests: the 1 s timer and the buffer's bound start one
 * (audit_sync_start), and the loop hears of its end through a pipe
 * (audit_sync_done).  A sync that must be over before the engine goes on
 * (a commit the keystore could not take, a rotation, the start, the
 * close) is made in the loop, after the thread's (audit_sync_wait).
 * Without the thread (audit_thread_start failed, or signerctl and the
 * fuzzer, which never start it) every sync is made in the loop.
 */
static struct {
	pthread_t	 thr;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	int		 on;		/* the thread runs */
	int		 ready;		/* it reached audit_syncer */
	int		 pipe[2];	/* the thread's "done", to the loop */
	struct event	 ev;
	int		 fd;		/* for the thread to sync, or -1 */
	int		 busy;		/* a sync asked and not ended */
	int		 done;		/* it ended, with rc and err */
	int		 rc, err;
	off_t		 upto;		/* au.size when it was asked */
} sy = { .mtx = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
    .pipe = { -1, -1 }, .fd = -1 };

/* SHA-256 of a line, without its newline, in lower-case hex. */
void
audit_hash(const char *line, size_t len, char *hex)
{
	static EVP_MD		*sha256;
	static EVP_MD_CTX	*ctx;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;

	/* Fetched once: a fetch per record costs more than the hash. */
	if (sha256 == NULL && ((sha256 = EVP_MD_fetch(NULL, "SHA256",
	    NULL)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL))
		fatalx("%s: SHA-256", __func__);
	if (EVP_DigestInit_ex(ctx, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, line, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		fatalx("%s: SHA-256", __func__);
	hex32(md, hex);
}

/* 32 bytes in hex, NUL-terminated: hex has AUDIT_HASH_HEX bytes. */
static void
hex32(const uint8_t *b, char *hex)
{
	static const char	 digits[] = "0123456789abcdef";
	int			 i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 0xf];
	}
	hex[64] = '\0';
}

static int
is_hash(const char *s)
{
	size_t	 i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (s[64] == '\0');
}

/*
 * The JSON of a record: one object of strings, integers and arrays of
 * them, no key twice, nothing after it.  What the chain needs is taken;
 * other keys are checked for form only.  0, or -1 and why.
 */
int
audit_parse(const char *p, size_t len, struct audit_rec *rec,
    const char **why)
{
	char		 keys[32][24], val[AUDIT_LINE_MAX];
	long long	 num;
	size_t		 i = 0, nkeys = 0, k;
	int		 have_seq = 0, have_prev = 0, have_event = 0;

	memset(rec, 0, sizeof(*rec));
	*why = "not a JSON object";
	if (len > AUDIT_LINE_MAX)
		return (-1);
	json_ws(p, len, &i);
	if (i >= len || p[i++] != '{')
		return (-1);
	json_ws(p, len, &i);
	if (i < len && p[i] == '}')
		goto bad;
	for (;;) {
		if (nkeys == sizeof(keys) / sizeof(keys[0])) {
			*why = "too many keys";
			return (-1);
		}
		if (json_string(p, len, &i, keys[nkeys],
		    sizeof(keys[nkeys])) == -1) {
			*why = "bad key";
			return (-1);
		}
		for (k = 0; k < nkeys; k++)
			if (strcmp(keys[k], keys[nkeys]) == 0) {
				*why = "a key appears twice";
				return (-1);
			}
		json_ws(p, len, &i);
		if (i >= len || p[i++] != ':')
			return (-1);
		json_ws(p, len, &i);
		if (i >= len)
			return (-1);
		if (p[i] == '"') {
			if (json_string(p, len, &i, val, sizeof(val)) == -1) {
				*why = "bad string";
				return (-1);
			}
			if (strcmp(keys[nkeys], "prev") == 0) {
				if (!is_hash(val)) {
					*why = "prev is not a SHA-256 in hex";
					return (-1);
				}
				memcpy(rec->prev, val, sizeof(rec->prev));
				have_prev = 1;
			} else if (strcmp(keys[nkeys], "event") == 0) {
				if (strlcpy(rec->event, val,
				    sizeof(rec->event)) >= sizeof(rec->event)) {
					*why = "unknown event";
					return (-1);
				}
				have_event = 1;
			} else if (strcmp(keys[nkeys], "prev_file") == 0) {
				if (strlcpy(rec->prev_file, val,
				    sizeof(rec->prev_file)) >=
				    sizeof(rec->prev_file)) {
					*why = "prev_file too long";
					return (-1);
				}
			} else if (strcmp(keys[nkeys], "torn_sha256") == 0) {
				if (!is_hash(val)) {
					*why = "torn_sha256 is not a SHA-256";
					return (-1);
				}
				memcpy(rec->torn, val, sizeof(rec->torn));
			}
		} else if (p[i] == '[') {
			i++;
			json_ws(p, len, &i);
			if (i < len && p[i] == ']')
				i++;
			else for (;;) {
				if (i < len && p[i] == '"') {
					if (json_string(p, len, &i, NULL,
					    0) == -1)
						return (-1);
				} else if (json_number(p, len, &i,
				    &num) == -1)
					return (-1);
				json_ws(p, len, &i);
				if (i < len && p[i] == ',') {
					i++;
					json_ws(p, len, &i);
					continue;
				}
				if (i < len && p[i] == ']') {
					i++;
					break;
				}
				return (-1);
			}
		} else {
			if (json_number(p, len, &i, &num) == -1) {
				*why = "bad value";
				return (-1);
			}
			if (strcmp(keys[nkeys], "seq") == 0) {
				if (num < 1) {
					*why = "seq is not positive";
					return (-1);
				}
				rec->seq = (uint64_t)num;
				have_seq = 1;
			}
		}
		nkeys++;
		json_ws(p, len, &i);
		if (i < len && p[i] == ',') {
			i++;
			json_ws(p, len, &i);
			continue;
		}
		if (i < len && p[i] == '}') {
			i++;
			break;
		}
		return (-1);
	}
	json_ws(p, len, &i);
	if (i != len) {
		*why = "text after the object";
		return (-1);
	}
	if (!have_seq || !have_prev || !have_event) {
		*why = "seq, prev or event missing";
		return (-1);
	}
	return (0);
 bad:
	return (-1);
}

static int
json_ws(const char *p, size_t len, size_t *i)
{
	while (*i < len && (p[*i] == ' ' || p[*i] == '\t'))
		(*i)++;
	return (0);
}

/*
 * A string at p[*i]: decoded into out (NUL-terminated) if out is not
 * NULL.  -1 if malformed or longer than out.
 */
static int
json_string(const char *p, size_t len, size_t *i, char *out, size_t outlen)
{
	size_t		 o = 0, j, n;
	unsigned int	 cp;
	unsigned char	 c, u[3];
	int		 h;

	if (*i >= len || p[*i] != '"')
		return (-1);
	(*i)++;
	for (;;) {
		if (*i >= len)
			return (-1);
		c = (unsigned char)p[(*i)++];
		if (c == '"')
			break;
		if (c < 0x20)
			return (-1);
		n = 1;
		u[0] = c;
		if (c == '\\') {
			if (*i >= len)
				return (-1);
			c = (unsigned char)p[(*i)++];
			switch (c) {
			case '"':
			case '\\':
			case '/':
				u[0] = c;
				break;
			case 'b':
				u[0] = '\b';
				break;
			case 'f':
				u[0] = '\f';
				break;
			case 'n':
				u[0] = '\n';
				break;
			case 'r':
				u[0] = '\r';
				break;
			case 't':
				u[0] = '\t';
				break;
			case 'u':
				if (len - *i < 4)
					return (-1);
				for (cp = 0, j = 0; j < 4; j++) {
					c = (unsigned char)p[(*i)++];
					c = tolower(c);
					h = c >= '0' && c <= '9' ? c - '0' :
					    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
					if (h == -1)
						return (-1);
					cp = cp << 4 | h;
				}
				/* Never written: no surrogates, no NUL. */
				if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
					return (-1);
				if (cp < 0x80)
					u[0] = cp;
				else if (cp < 0x800) {
					u[0] = 0xc0 | cp >> 6;
					u[1] = 0x80 | (cp & 0x3f);
					n = 2;
				} else {
					u[0] = 0xe0 | cp >> 12;
					u[1] = 0x80 | ((cp >> 6) & 0x3f);
					u[2] = 0x80 | (cp & 0x3f);
					n = 3;
				}
				break;
			default:
				return (-1);
			}
		}
		if (out != NULL) {
			if (outlen - o <= n)
				return (-1);
			memcpy(out + o, u, n);
			o += n;
		}
	}
	if (out != NULL)
		out[o] = '\0';
	return (0);
}

/* An integer, -?[0-9]+, within long long. */
static int
json_number(const char *p, size_t len, size_t *i, long long *v)
{
	unsigned long long	 n = 0;
	int			 neg = 0, digits = 0;

	if (*i < len && p[*i] == '-') {
		neg = 1;
		(*i)++;
	}
	while (*i < len && p[*i] >= '0' && p[*i] <= '9') {
		if (n > (unsigned long long)(LLONG_MAX - 9) / 10)
			return (-1);
		n = n * 10 + (p[(*i)++] - '0');
		digits++;
	}
	if (digits == 0 || (digits > 1 && p[*i - digits] == '0'))
		return (-1);
	*v = neg ? -(long long)n : (long long)n;
	return (0);
}

/*
 * One line of a series, in order; first says it begins a file.  0 if
 * it continues the chain; -1 if this line breaks it, -2 if the line
 * before it does (it was changed, or is not a record); why says how.
 */
int
audit_chain_line(struct audit_chain *ch, const char *line, size_t len,
    int first, char *why, size_t whylen)
{
	struct audit_rec	 rec;
	const char		*err;
	char			 hash[AUDIT_HASH_HEX];

	if (len > AUDIT_LINE_MAX) {
		(void)snprintf(why, whylen, "longer than any record");
		return (-1);
	}
	audit_hash(line, len, hash);
	if (audit_parse(line, len, &rec, &err) == -1) {
		if (ch->torn_pending) {
			(void)snprintf(why, whylen, "not a record: %s", err);
			return (-2);
		}
		/* A write cut short, if the engine's next record says so. */
		ch->torn_pending = 1;
		memcpy(ch->torn_hash, hash, sizeof(ch->torn_hash));
		return (0);
	}
	if (ch->torn_pending) {
		if (strcmp(rec.event, "torn") != 0 ||
		    strcmp(rec.torn, ch->torn_hash) != 0) {
			(void)snprintf(why, whylen, "not a record, and no "
			    "\"torn\" record names it");
			return (-2);
		}
		ch->torn_pending = 0;
	}
	if (ch->started) {
		if (rec.seq != ch->seq + 1 && first &&
		    strcmp(rec.prev, ch->hash) != 0) {
			(void)snprintf(why, whylen, "record %llu does not "
			    "follow record %llu of the file before: a file is "
			    "missing in between%s%s",
			    (unsigned long long)rec.seq,
			    (unsigned long long)ch->seq,
			    rec.prev_file[0] != '\0' ? "; it follows " : "",
			    rec.prev_file);
			return (-1);
		}
		if (rec.seq != ch->seq + 1) {
			(void)snprintf(why, whylen, "record %llu where record "
			    "%llu belongs: records were removed or moved",
			    (unsigned long long)rec.seq,
			    (unsigned long long)ch->seq + 1);
			return (-1);
		}
		if (strcmp(rec.prev, ch->hash) != 0) {
			(void)snprintf(why, whylen, "record %llu was changed: "
			    "the next record names another hash",
			    (unsigned long long)ch->seq);
			return (-2);
		}
	}
	ch->started = 1;
	ch->seq = rec.seq;
	memcpy(ch->hash, hash, sizeof(ch->hash));
	ch->records++;
	return (0);
}

/* The end of a series: a line left unexplained is an error. */
int
audit_chain_end(struct audit_chain *ch, char *why, size_t whylen)
{
	if (ch->torn_pending) {
		(void)snprintf(why, whylen, "the last line is not a record, "
		    "and no \"torn\" record names it");
		return (-1);
	}
	return (0);
}

/*
 * The engine's side.  The configuration arrives after the keystore is
 * open and the sandbox applied; the file is opened then (and again if a
 * reload names another), relative to the keystore's directory.
 */
int
audit_configure(const struct engine_conf *ec, const char *dir,
    const char *restore, size_t rlen)
{
	const char	*file = ec->audit_file[0] != '\0' ? ec->audit_file :
			    "audit.log";

	if (!au.events) {
		evtimer_set(&au.flush_ev, audit_flush_cb, NULL);
		evtimer_set(&au.sync_ev, audit_sync_cb, NULL);
		au.events = 1;
	}
	au.configured = 1;
	au.syslog = ec->audit_syslog;
	au.rotate = ec->audit_rotate;
	au.keep = ec->audit_keep;
	(void)strlcpy(au.dir, dir, sizeof(au.dir));
	if (!ec->audit_on) {
		if (au.on)
			log_warnx("audit trail off");
		audit_close();
		au.on = 0;
		free(au.early);
		au.early = NULL;
		au.elen = au.ecap = 0;
		free(au.buf);
		au.buf = NULL;
		au.len = au.cap = au.woff = au.dboff = 0;
		return (-1);
	}
	au.on = 1;
	if (au.fd != -1 && strcmp(file, au.file) == 0)
		return (0);
	return (audit_open(file, restore, rlen));
}

/*
 * Open file, recover the chain from it or from the new file left by a
 * rotation cut short, and record the start.
 */
static int
audit_open(const char *file, const char *restore, size_t rlen)
{
	struct line	 l;
	struct stat	 st;
	char		 newname[AUDIT_FILE_MAX + 8], note[160];
	char		 oldfile[AUDIT_FILE_MAX];
	size_t		 n;
	int		 fd, r, carried;

	audit_write();
	(void)strlcpy(oldfile, au.file, sizeof(oldfile));
	carried = au.fd != -1;
	audit_close();
	(void)strlcpy(au.file, file, sizeof(au.file));
	note[0] = '\0';

	/* A rotation cut short: its new file is the current one, or none. */
	(void)snprintf(newname, sizeof(newname), "%s%s", file,
	    AUDIT_NEW_SUFFIX);
	if (stat(newname, &st) == 0) {
		if (stat(file, &st) == 0)
			(void)unlink(newname);
		else if (rename(newname, file) == -1)
			log_warn("audit: rename %s", newname);
	}
	if ((fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		log_warn("audit: open %s/%s: the trail is not written",
		    au.dir, file);
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		log_warn("audit: fstat %s", file);
		close(fd);
		return (-1);
	}
	au.fd = fd;
	au.size = au.kicked = st.st_size;
	au.serial = 1;
	if (st.st_size > 0) {
		(void)audit_first(fd, &au.serial);
		r = audit_recover(fd, note, sizeof(note));
		if (r == -1) {
			/* Nothing to chain to: set the file aside. */
			au.seq = 0;
			(void)strlcpy(au.head, AUDIT_ZERO_HASH,
			    sizeof(au.head));
			audit_rotate();
			(void)strlcpy(note, "the end of the file before was "
			    "unreadable: a new chain starts", sizeof(note));
		}
	} else if (!carried) {
		au.seq = 0;
		(void)strlcpy(au.head, AUDIT_ZERO_HASH, sizeof(au.head));
	}
	if (au.len == 0)
		audit_buf_reset();
	au.wseq = au.seq;
	memcpy(au.whead, au.head, sizeof(au.whead));
	/* Those of committed turns that the file lost go first. */
	if ((n = audit_restore(restore, rlen)) > 0 && note[0] == '\0')
		(void)snprintf(note, sizeof(note), "%zu records restored from "
		    "the keystore", n);
	line_begin(&l, "start");
	line_str(&l, "file", file, strlen(file));
	if (carried && st.st_size == 0)
		line_str(&l, "prev_file", oldfile, strlen(oldfile));
	if (note[0] != '\0')
		line_str(&l, "note", note, strlen(note));
	audit_add(&l);
	log_info("audit trail %s/%s, record %llu%s%s", au.dir, file,
	    (unsigned long long)au.seq, note[0] != '\0' ? ": " : "", note);
	audit_early();
	/* On disk before the keystore forgets them. */
	audit_sync();
	return (au.len == 0 ? 0 : -1);
}

/* The buffer is empty: its next record follows the head. */
static void
audit_buf_reset(void)
{
	au.woff = au.dboff = 0;
	au.bufseq = au.seq + 1;
	au.syncseq = au.dbseq = au.seq;
}

/*
 * Records the keystore kept of committed turns (lines) that the file
 * does not have: chained again after the head, in order.  How many.
 */
static size_t
audit_restore(const char *p, size_t len)
{
	struct audit_rec	 rec;
	struct line		 l;
	const char		*end, *nl, *why, *q;
	size_t			 n = 0;

	if (p == NULL)
		return (0);
	for (end = p + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;
		if (nl - p > (ptrdiff_t)sizeof(l.buf) - 2 ||
		    audit_parse(p, nl - p, &rec, &why) == -1 ||
		    rec.seq <= au.seq)
			continue;
		/* {"seq":N,"prev":"HASH", is made anew. */
		q = p + 7;
		while (q < nl && *q >= '0' && *q <= '9')
			q++;
		if (nl - q < 9 + 64 + 2 || strncmp(q, ",\"prev\":\"", 9) != 0 ||
		    strncmp(q + 9 + 64, "\",", 2) != 0)
			continue;
		q += 9 + 64 + 2;
		memcpy(l.buf, "{\"seq\":0,", 9);
		memcpy(l.buf + 9, q, nl - q);
		l.len = 9 + (nl - q);
		l.over = 0;
		audit_add(&l);
		n++;
	}
	return (n);
}

/* Records made before the trail was configured, chained now. */
static void
audit_early(void)
{
	struct line	 l;
	char		*p, *nl, *end;

	if (au.early == NULL)
		return;
	end = au.early + au.elen;
	for (p = au.early; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;
		l.len = nl - p;
		l.over = 0;
		memcpy(l.buf, p, l.len);
		audit_add(&l);
	}
	free(au.early);
	au.early = NULL;
	au.elen = au.ecap = 0;
}

/*
 * The serial of the next rotated file: one more than the file the
 * current one's first record names, if it is a rotation.
 */
static int
audit_first(int fd, unsigned int *serial)
{
	struct audit_rec	 rec;
	char			 buf[AUDIT_LINE_MAX + 1], *nl, *dot;
	const char		*why;
	ssize_t			 n;
	unsigned long		 v;

	if ((n = pread(fd, buf, sizeof(buf), 0)) <= 0 ||
	    (nl = memchr(buf, '\n', n)) == NULL ||
	    audit_parse(buf, nl - buf, &rec, &why) == -1 ||
	    strcmp(rec.event, "rotate") != 0 ||
	    (dot = strrchr(rec.prev_file, '.')) == NULL)
		return (-1);
	errno = 0;
	v = strtoul(dot + 1, &nl, 10);
	if (errno != 0 || *nl != '\0' || v == 0 || v >= AUDIT_SERIAL_MAX)
		return (-1);
	*serial = v + 1;
	return (0);
}

/*
 * The chain's head from the file's tail: the hash and number of its
 * last record.  A last line without its newline (a write cut short) is
 * ended, and a "torn" record names it.  -1 if no last record is found.
 */
static int
audit_recover(int fd, char *note, size_t notelen)
{
	struct audit_rec	 rec;
	struct line		 l;
	char			 buf[2 * AUDIT_LINE_MAX + 2], *p, *end;
	char			 torn[AUDIT_HASH_HEX];
	const char		*why;
	off_t			 off;
	size_t			 len, tornlen = 0;
	ssize_t			 n;

	off = au.size > (off_t)sizeof(buf) ? au.size - sizeof(buf) : 0;
	if ((n = pread(fd, buf, sizeof(buf), off)) <= 0)
		return (-1);
	len = n;
	end = buf + len;
	if (buf[len - 1] != '\n') {
		/* Torn: the bytes after the last newline. */
		for (p = end; p > buf && p[-1] != '\n'; p--)
			;
		if (p == buf && off > 0)
			return (-1);	/* no line end in the window */
		tornlen = end - p;
		audit_hash(p, tornlen, torn);
		end = p;
		if (write(fd, "\n", 1) != 1) {
			log_warn("audit: ending the torn line");
			return (-1);
		}
		au.size++;
	}
	if (end == buf)
		p = NULL;
	else {
		/* The line before the last newline. */
		for (p = end - 1; p > buf && p[-1] != '\n'; p--)
			;
		if (p == buf && off > 0)
			p = NULL;
	}
	if (p != NULL && audit_parse(p, end - 1 - p, &rec, &why) == 0) {
		au.seq = rec.seq;
		audit_hash(p, end - 1 - p, au.head);
	} else if (p != NULL) {
		/* Not ours: chained to as it is; verify will say. */
		log_warnx("audit: the last line of %s is not a record: %s",
		    au.file, why);
		audit_hash(p, end - 1 - p, au.head);
		(void)snprintf(note, notelen, "the last line before is not "
		    "a record");
	} else if (p == NULL && tornlen > 0 && off == 0) {
		/* The first line was torn: nothing before it. */
		au.seq = 0;
		(void)strlcpy(au.head, AUDIT_ZERO_HASH, sizeof(au.head));
	} else
		return (-1);
	if (tornlen > 0) {
		audit_buf_reset();
		log_warnx("audit: %s ended in a torn line of %zu bytes, "
		    "not trusted", au.file, tornlen);
		line_begin(&l, "torn");
		line_str(&l, "torn_sha256", torn, strlen(torn));
		line_num(&l, "torn_bytes", tornlen);
		audit_add(&l);
	}
	return (0);
}

/*
 * Rename the file NAME.N and start a new one with a "rotate" record
 * naming it.  The new file is made first under NAME.new and renamed
 * last: a crash in between leaves either the old file current, or both
 * renamed but the last step, which audit_open finishes.
 */
static void
audit_rotate(void)
{
	struct stat	 st;
	struct line	 l;
	char		 old[AUDIT_FILE_MAX + 16], newname[AUDIT_FILE_MAX + 8];
	char		 head[AUDIT_HASH_HEX], out[AUDIT_LINE_MAX + 128];
	uint64_t	 seq;
	size_t		 n;
	int		 fd, tries;

	audit_sync_wait();	/* the thread is done with the old file */
	for (tries = 0; tries < 1000; tries++, au.serial++) {
		if (au.serial == 0 || au.serial >= AUDIT_SERIAL_MAX)
			au.serial = 1;
		(void)snprintf(old, sizeof(old), "%s.%u", au.file,
		    au.serial);
		if (stat(old, &st) == -1 && errno == ENOENT)
			break;
	}
	(void)snprintf(newname, sizeof(newname), "%s%s", au.file,
	    AUDIT_NEW_SUFFIX);
	if ((fd = open(newname, O_RDWR | O_APPEND | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) == -1) {
		log_warn("audit: open %s", newname);
		return;
	}
	/* The rotate record, written and synced on its own. */
	seq = au.seq;
	memcpy(head, au.head, sizeof(head));
	line_begin(&l, "rotate");
	line_str(&l, "prev_file", old, strlen(old));
	line_raw(&l, "}");
	n = audit_seal(&l, out);
	if (au.len != au.woff || write(fd, out, n) != (ssize_t)n ||
	    fdatasync(fd) == -1 || fdatasync(au.fd) == -1 ||
	    rename(au.file, old) == -1) {
		log_warn("audit: rotating %s", au.file);
		close(fd);
		(void)unlink(newname);
		au.seq = seq;
		memcpy(au.head, head, sizeof(au.head));
		return;
	}
	if (rename(newname, au.file) == -1)
		log_warn("audit: rename %s", newname);
	/* The old file is on disk, and the rotate record. */
	audit_synced(au.woff);
	if (au.len == 0)
		audit_buf_reset();
	close(au.fd);
	au.fd = fd;
	au.size = au.kicked = n;
	au.wseq = au.seq;
	memcpy(au.whead, au.head, sizeof(au.whead));
	au.unsynced = 0;
	log_info("audit: %s rotated to %s", au.file, old);
	audit_expire(au.serial);
	au.serial++;
}

/*
 * IMSG_FE_REFUSED: a connection the frontend closed before it admitted
 * it.  The frontend is less privileged: the message is checked whole,
 * and a bad one leaves no record.  0, or -1 if it is malformed.
 */
int
audit_refused(const void *data, size_t len)
{
	static const uint8_t	 zero[32];
	struct fe_refused	 r;
	struct line		 l;
	char			 hex[AUDIT_HASH_HEX];

	if (len != sizeof(r))
		return (-1);
	memcpy(&r, data, sizeof(r));
	if (memchr(r.peer, '\0', sizeof(r.peer)) == NULL ||
	    memchr(r.claimed, '\0', sizeof(r.claimed)) == NULL ||
	    memchr(r.reason, '\0', sizeof(r.reason)) == NULL ||
	    r.reason[0] == '\0' || r.suppressed > LLONG_MAX)
		return (-1);
	/* Only a count says nothing of a client. */
	if (r.peer[0] == '\0' && (r.claimed[0] != '\0' ||
	    memcmp(r.cert_sha256, zero, sizeof(zero)) != 0 ||
	    r.suppressed == 0))
		return (-1);
	if (au.configured && !au.on)
		return (0);
	line_begin(&l, "refused");
	if (r.peer[0] != '\0')
		line_text(&l, "peer", r.peer, sizeof(r.peer));
	if (r.claimed[0] != '\0')
		line_text(&l, "claimed", r.claimed, sizeof(r.claimed));
	if (memcmp(r.cert_sha256, zero, sizeof(zero)) != 0) {
		hex32(r.cert_sha256, hex);
		line_str(&l, "cert_sha256", hex, 64);
	}
	line_text(&l, "reason", r.reason, sizeof(r.reason));
	if (r.suppressed > 0)
		line_num(&l, "suppressed", (long long)r.suppressed);
	audit_add(&l);
	return (0);
}

/* Remove the rotated files beyond the keep newest, up to newest. */
static void
audit_expire(unsigned int newest)
{
	char		 name[AUDIT_FILE_MAX + 16];
	unsigned int	 n;

	if (au.keep <= 0 || newest <= (unsigned int)au.keep)
		return;
	for (n = newest - au.keep; n > 0; n--) {
		(void)snprintf(name, sizeof(name), "%s.%u", au.file, n);
		if (unlink(name) == -1)
			break;
	}
}

/* A record of a request item, or of a message refused as a whole. */
void
audit_request(const struct audit_req *a)
{
	struct line	 l;
	const char	*op, *reason;
	int		 i, n;

	if (au.configured && !au.on)
		return;
	op = a->op == 0 ? "" : kmip_op_name(a->op) != NULL ?
	    kmip_op_name(a->op) : "unknown";
	line_begin(&l, "request");
	line_text(&l, "identity", a->hdr->identity, sizeof(a->hdr->identity));
	line_text(&l, "peer", a->hdr->peer, sizeof(a->hdr->peer));
	line_num(&l, "request", a->msgid);
	line_num(&l, "item", a->item);
	line_str(&l, "op", op, strlen(op));
	line_raw(&l, ",\"ids\":[");
	for (i = n = 0; i < 2; i++)
		if (a->ids[i] != NULL && a->ids[i][0] != '\0') {
			if (n++ > 0)
				line_raw(&l, ",");
			line_text(&l, NULL, a->ids[i], CTL_ID_MAX);
		}
	line_raw(&l, "]");
	line_text(&l, "signer", a->signer != NULL ? a->signer : "",
	    SIGNER_NAME_MAX);
	line_str(&l, "result", a->failed ? "Operation Failed" : "Success",
	    a->failed ? 16 : 7);
	if (a->failed) {
		reason = audit_reason_name(a->reason);
		line_str(&l, "reason", reason, strlen(reason));
		line_text(&l, "message", a->msg != NULL ? a->msg : "", 256);
	}
	line_num(&l, "us", a->us);
	audit_add(&l);
}

/*
 * Text from a client or another process: at most max - 1 bytes of s,
 * made clean (ttlv_text_clean) first unless it is printable ASCII.
 */
static void
line_text(struct line *l, const char *key, const char *s, size_t max)
{
	char	 buf[1024];
	size_t	 n;

	for (n = 0; n < max - 1 && s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f)
			break;
	if (n == max - 1 || s[n] == '\0') {
		line_str(l, key, s, n);
		return;
	}
	n = strnlen(s, max - 1);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	ttlv_text_clean(buf);
	line_str(l, key, buf, strlen(buf));
}

static const char *
audit_reason_name(uint32_t reason)
{
	static char	 buf[32];

	switch (reason) {
	case KMIP_REASON_ITEM_NOT_FOUND:
		return ("Item Not Found");
	case KMIP_REASON_RESPONSE_TOO_LARGE:
		return ("Response Too Large");
	case KMIP_REASON_AUTHENTICATION_NOT_SUCCESSFUL:
		return ("Authentication Not Successful");
	case KMIP_REASON_INVALID_MESSAGE:
		return ("Invalid Message");
	case KMIP_REASON_OPERATION_NOT_SUPPORTED:
		return ("Operation Not Supported");
	case KMIP_REASON_MISSING_DATA:
		return ("Missing Data");
	case KMIP_REASON_INVALID_FIELD:
		return ("Invalid Field");
	case KMIP_REASON_FEATURE_NOT_SUPPORTED:
		return ("Feature Not Supported");
	case KMIP_REASON_CRYPTOGRAPHIC_FAILURE:
		return ("Cryptographic Failure");
	case KMIP_REASON_ILLEGAL_OPERATION:
		return ("Illegal Operation");
	case KMIP_REASON_PERMISSION_DENIED:
		return ("Permission Denied");
	case KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED:
		return ("Key Format Type Not Supported");
	case KMIP_REASON_GENERAL_FAILURE:
		return ("General Failure");
	}
	(void)snprintf(buf, sizeof(buf), "0x%x", reason);
	return (buf);
}

/* An empty line but its brace. */
static void
line_begin_raw(struct line *l)
{
	l->buf[0] = '{';
	l->len = 1;
	l->over = 0;
}

/* A record's start: seq, time, prev, event. */
static void
line_begin(struct line *l, const char *event)
{
	static time_t	 last = -1;
	static char	 t[40];
	struct timespec	 ts;
	struct tm	 tm;
	long		 ms;

	l->len = 0;
	l->over = 0;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	/* The seconds change less often than records are made. */
	if (ts.tv_sec != last) {
		last = ts.tv_sec;
		(void)gmtime_r(&ts.tv_sec, &tm);
		(void)strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	}
	ms = ts.tv_nsec / 1000000;
	t[20] = '0' + ms / 100;
	t[21] = '0' + ms / 10 % 10;
	t[22] = '0' + ms % 10;
	line_raw(l, "{");
	line_num(l, "seq", 0);	/* set by audit_add */
	line_str(l, "time", t, strlen(t));
	line_str(l, "event", event, strlen(event));
}

static void
line_raw(struct line *l, const char *s)
{
	size_t	 n = strlen(s);

	if (l->len + n >= sizeof(l->buf) - 2) {
		l->over = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* A byte JSON writes escaped: a quote, a backslash, a control. */
static inline int
json_escaped(unsigned char c)
{
	return (c == '"' || c == '\\' || c < 0x20 || c == 0x7f);
}

/* "key":"value" after a comma (no key: an array element). */
static void
line_str(struct line *l, const char *key, const char *s, size_t n)
{
	char		 esc[8];
	size_t		 i, run;
	unsigned char	 c;

	if (key != NULL) {
		line_raw(l, ",\"");
		line_raw(l, key);
		line_raw(l, "\":\"");
	} else
		line_raw(l, "\"");
	for (i = 0; i < n && s[i] != '\0'; i++) {
		/* Most of it: a run copied at once. */
		for (run = i; run < n && s[run] != '\0' &&
		    !json_escaped((unsigned char)s[run]); run++)
			;
		if (run > i) {
			if (l->len + (run - i) >= sizeof(l->buf) - 2) {
				l->over = 1;
				return;
			}
			memcpy(l->buf + l->len, s + i, run - i);
			l->len += run - i;
			if (run == n || s[run] == '\0')
				break;
			i = run;
		}
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = c;
			esc[2] = '\0';
		} else
			(void)snprintf(esc, sizeof(esc), "\\u%04x", c);
		line_raw(l, esc);
	}
	line_raw(l, "\"");
}

static void
line_num(struct line *l, const char *key, long long v)
{
	char			 buf[24], *p = buf + sizeof(buf);
	unsigned long long	 u;

	/* By hand: snprintf was a tenth of a record's cost. */
	u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
	*--p = '\0';
	do {
		*--p = '0' + u % 10;
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	line_raw(l, l->len == 1 ? "\"" : ",\"");
	line_raw(l, key);
	line_raw(l, "\":");
	line_raw(l, p);
}

/*
 * Chain l into dst (room for l and 128 bytes): its seq and prev are set
 * here, in the order records are made, and its hash is the new head.
 * The length written, with the newline.
 */
static size_t
audit_seal(struct line *l, char *dst)
{
	struct line	 pre;
	size_t		 n;

	/* "{\"seq\":0," becomes the record's seq and prev. */
	line_begin_raw(&pre);
	line_num(&pre, "seq", au.seq + 1);
	line_raw(&pre, ",\"prev\":\"");
	line_raw(&pre, au.head);
	line_raw(&pre, "\",");
	n = pre.len;
	memcpy(dst, pre.buf, n);
	memcpy(dst + n, l->buf + 9, l->len - 9);
	n += l->len - 9;
	audit_hash(dst, n, au.head);
	/* The log's copy is the record itself (held: one write). */
	if (au.syslog)
		log_line(LOG_INFO, "audit: ", dst, n);
	dst[n++] = '\n';
	au.seq++;
	return (n);
}

/* Close l and queue it, chained, to be written. */
static void
audit_add(struct line *l)
{
	struct line	 lost;
	char		*nb;
	size_t		 need, cap, n;

	if (l->over) {
		/* Cannot happen with the fields' bounds; never a torn line. */
		log_warnx("audit: a record over %d bytes dropped",
		    AUDIT_LINE_MAX);
		au.lost++;
		return;
	}
	if (l->buf[l->len - 1] != '}')
		line_raw(l, "}");
	if (!au.configured) {
		/* Chained once the file's head is known. */
		if (au.elen + l->len + 1 > AUDIT_BUF_MAX) {
			au.lost++;
			return;
		}
		if (au.elen + l->len + 1 > au.ecap) {
			cap = au.ecap == 0 ? 65536 : au.ecap * 2;
			if ((nb = realloc(au.early, cap)) == NULL)
				fatal(NULL);
			au.early = nb;
			au.ecap = cap;
		}
		memcpy(au.early + au.elen, l->buf, l->len);
		au.elen += l->len;
		au.early[au.elen++] = '\n';
		return;
	}
	if (au.len + l->len + 256 > AUDIT_BUF_MAX) {
		if (au.lost++ == 0)
			log_warnx("audit: records cannot be written: "
			    "counting those lost");
		return;
	}
	if (au.lost > 0) {
		/* Said first, so that the gap is in the trail itself. */
		n = au.lost;
		au.lost = 0;
		line_begin(&lost, "lost");
		line_num(&lost, "count", n);
		audit_add(&lost);
	}
	need = au.len + l->len + 128;
	if (need > au.cap) {
		cap = au.cap == 0 ? 65536 : au.cap;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(au.buf, cap)) == NULL)
			fatal(NULL);
		au.buf = nb;
		au.cap = cap;
	}
	au.len += audit_seal(l, au.buf + au.len);
	audit_schedule();
}

static void
audit_schedule(void)
{
	struct timeval	 tv = { 0, 0 };

	if (!au.events || au.flush_set)
		return;
	au.flush_set = 1;
	evtimer_add(&au.flush_ev, &tv);
}

/* The end of a turn that did not answer what it recorded. */
static void
audit_flush_cb(int fd, short event, void *arg)
{
	au.flush_set = 0;
	audit_write();
}

/*
 * Records made so far go to the file, in one write(2), unless a
 * callback holds them to write once at its end.  They stay in the
 * buffer until the file is synced (the keystore may want them).
 */
void
audit_write(void)
{
	ssize_t		 n;

	if (au.hold > 0 || au.woff == au.len || au.fd == -1)
		return;
	while (au.woff < au.len) {
		if ((n = write(au.fd, au.buf + au.woff,
		    au.len - au.woff)) == -1) {
			if (errno == EINTR)
				continue;
			if (!au.werr)
				log_warn("audit: write %s", au.file);
			au.werr = 1;
			break;
		}
		au.woff += n;
		au.size += n;
		au.unsynced = 1;
	}
	audit_sync_later();
#ifdef SYNC_FILE_RANGE_WRITE
	/*
	 * Start the disk on what is written, without waiting for it: the
	 * sync that makes it durable (a blocking call in the engine's only
	 * thread) then finds little left to do.
	 */
	if (au.size - au.kicked >= AUDIT_KICK) {
		(void)sync_file_range(au.fd, au.kicked, au.size - au.kicked,
		    SYNC_FILE_RANGE_WRITE);
		au.kicked = au.size;
	}
#endif
	if (au.woff == au.len) {
		au.werr = 0;
		au.wseq = au.seq;
		memcpy(au.whead, au.head, sizeof(au.whead));
		/* Past its size: the next record starts the next file. */
		if (au.rotate > 0 && au.size >= au.rotate)
			audit_rotate();
		else if (au.woff > AUDIT_BUF_MAX / 2)
			audit_sync();	/* the thread lags: wait for it */
		else if (au.woff > AUDIT_BUF_MAX / 4)
			audit_sync_start();	/* bounds the buffer */
	}
}

/* The file is on disk up to the buffer's byte upto: those records go. */
static void
audit_synced(size_t upto)
{
	char		*nl;
	size_t		 keep, i;
	uint64_t	 lines = 0;

	if (upto > au.woff)
		upto = au.woff;
	if (upto == 0 || (nl = memrchr(au.buf, '\n', upto)) == NULL)
		return;
	keep = nl + 1 - au.buf;
	if (keep == au.len)
		au.bufseq = au.seq + 1;		/* all of it */
	else {
		for (i = 0; i < keep; i++)
			if (au.buf[i] == '\n')
				lines++;
		au.bufseq += lines;
	}
	au.syncseq = au.bufseq - 1;
	memmove(au.buf, au.buf + keep, au.len - keep);
	au.len -= keep;
	au.woff -= keep;
	au.dboff = au.dboff > keep ? au.dboff - keep : 0;
}

/* What was written is on disk when this returns. */
void
audit_sync(void)
{
	audit_sync_wait();
	audit_write();
	if (au.fd != -1 && au.unsynced && au.hold == 0) {
		if (fdatasync(au.fd) == -1)
			log_warn("audit: fdatasync %s", au.file);
		else
			audit_synced(au.woff);
		au.unsynced = 0;
	}
}

/*
 * Engine, before the sandbox: the sync thread and its pipe.  Without
 * them the syncs are made in the event loop, as they were.
 */
void
audit_thread_start(void)
{
	if (sy.on)
		return;
	if (pipe2(sy.pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("audit: pipe: the trail is synced in the loop");
		return;
	}
	if (pthread_create(&sy.thr, NULL, audit_syncer, NULL) != 0) {
		log_warnx("audit: no sync thread: the trail is synced in "
		    "the loop");
		close(sy.pipe[0]);
		close(sy.pipe[1]);
		sy.pipe[0] = sy.pipe[1] = -1;
		return;
	}
	/*
	 * Until the thread runs its function: glibc starts a thread with
	 * system calls (set_robust_list, rseq) that the engine's filter,
	 * applied next to every thread, does not allow.
	 */
	pthread_mutex_lock(&sy.mtx);
	while (!sy.ready)
		pthread_cond_wait(&sy.cv, &sy.mtx);
	pthread_mutex_unlock(&sy.mtx);
	event_set(&sy.ev, sy.pipe[0], EV_READ | EV_PERSIST, audit_sync_done,
	    NULL);
	event_add(&sy.ev, NULL);
	sy.on = 1;
}

/* The sync thread: fdatasync of what it is given, one at a time. */
static void *
audit_syncer(void *arg)
{
	ssize_t	 w;
	int	 fd, rc, err;

	pthread_mutex_lock(&sy.mtx);
	sy.ready = 1;
	pthread_cond_broadcast(&sy.cv);
	for (;;) {
		while (sy.fd == -1)
			pthread_cond_wait(&sy.cv, &sy.mtx);
		fd = sy.fd;
		pthread_mutex_unlock(&sy.mtx);
		rc = fdatasync(fd);
		err = errno;
		pthread_mutex_lock(&sy.mtx);
		sy.fd = -1;
		sy.rc = rc;
		sy.err = err;
		sy.done = 1;
		pthread_cond_broadcast(&sy.cv);
		pthread_mutex_unlock(&sy.mtx);
		w = write(sy.pipe[1], "", 1);	/* one unread is enough */
		(void)w;
		pthread_mutex_lock(&sy.mtx);
	}
	/* NOTREACHED */
	return (NULL);
}

/*
 * Hand the thread a sync of what is written, unless one runs (the next
 * timer or bound starts another) or there is no thread (then at once).
 */
static void
audit_sync_start(void)
{
	if (!sy.on) {
		audit_sync();
		return;
	}
	if (sy.busy)
		return;
	audit_write();
	if (au.fd == -1 || !au.unsynced || au.hold > 0)
		return;
	au.unsynced = 0;	/* what is written from now on is not */
	sy.busy = 1;
	sy.upto = au.size;
	pthread_mutex_lock(&sy.mtx);
	sy.fd = au.fd;
	pthread_cond_signal(&sy.cv);
	pthread_mutex_unlock(&sy.mtx);
}

/* The loop: a byte from the thread, a sync ended. */
static void
audit_sync_done(int fd, short event, void *arg)
{
	char	 buf[16];
	ssize_t	 r;

	r = read(fd, buf, sizeof(buf));
	(void)r;
	audit_sync_end();
}

/* Until the thread is idle; then what it did is taken in. */
static void
audit_sync_wait(void)
{
	if (!sy.busy)
		return;
	pthread_mutex_lock(&sy.mtx);
	while (!sy.done)
		pthread_cond_wait(&sy.cv, &sy.mtx);
	pthread_mutex_unlock(&sy.mtx);
	audit_sync_end();
}

/*
 * A sync the thread ended: the records written before it was asked are
 * on disk (the file is the same: a rotation or a close waits for the
 * thread first).  A failed one is made again by the next.
 */
static void
audit_sync_end(void)
{
	off_t	 start;
	int	 rc, err;

	pthread_mutex_lock(&sy.mtx);
	if (!sy.done) {
		pthread_mutex_unlock(&sy.mtx);
		return;
	}
	sy.done = 0;
	rc = sy.rc;
	err = sy.err;
	pthread_mutex_unlock(&sy.mtx);
	sy.busy = 0;
	if (rc == -1) {
		errno = err;
		log_warn("audit: fdatasync %s", au.file);
		au.unsynced = 1;
	} else {
		/* The buffer's first byte is the file's byte start. */
		start = au.size - (off_t)au.woff;
		if (sy.upto > start)
			audit_synced(sy.upto - start);
	}
	/* What was written meanwhile: the timer may have found it busy. */
	audit_sync_later();
}

/* Unsynced records: the sync timer, unless it is set already. */
static void
audit_sync_later(void)
{
	struct timeval	 tv = { AUDIT_SYNC_SEC, 0 };

	if (au.unsynced && au.events && !au.sync_set) {
		au.sync_set = 1;
		evtimer_add(&au.sync_ev, &tv);
	}
}

/*
 * What the keystore's commit should make durable with it: the records
 * made since it last took some that the file does not have on disk
 * yet (0: none); and, in *upto, up to where it may forget (0: keep).
 */
int
audit_unstored(const char **p, size_t *len, uint64_t *first,
    uint64_t *last, uint64_t *upto)
{
	*upto = au.syncseq > au.trimmed ? au.syncseq : 0;
	if (au.dboff >= au.len || !au.on || au.fd == -1)
		return (0);
	*p = au.buf + au.dboff;
	*len = au.len - au.dboff;
	*first = au.dbseq + 1 > au.bufseq ? au.dbseq + 1 : au.bufseq;
	*last = au.seq;
	return (1);
}

/* The keystore committed what audit_unstored said. */
void
audit_stored(uint64_t last, uint64_t upto)
{
	if (last > 0) {
		au.dbseq = last;
		au.dboff = au.len;
	}
	if (upto > 0)
		au.trimmed = upto;
}

static void
audit_sync_cb(int fd, short event, void *arg)
{
	au.sync_set = 0;
	audit_sync_start();
}

/* An event callback that may end items writes their records once. */
void
audit_hold(void)
{
	au.hold++;
	log_hold();	/* the records' log lines: one write too */
}

void
audit_release(void)
{
	if (au.hold > 0 && --au.hold == 0)
		audit_write();
	log_release();
}

/* For signerctl audit verify: the head as written. */
void
audit_head(struct ctl_audit *ca)
{
	audit_write();
	memset(ca, 0, sizeof(*ca));
	ca->enabled = au.on && au.fd != -1;
	(void)strlcpy(ca->dir, au.dir, sizeof(ca->dir));
	(void)strlcpy(ca->file, au.file, sizeof(ca->file));
	ca->seq = au.wseq;
	if (au.wseq > 0)
		(void)strlcpy(ca->head, au.whead, sizeof(ca->head));
}

void
audit_close(void)
{
	if (au.fd == -1)
		return;
	audit_sync();
	close(au.fd);
	au.fd = -1;
	if (au.events) {
		if (au.sync_set)
			evtimer_del(&au.sync_ev);
		au.sync_set = 0;
	}
}
