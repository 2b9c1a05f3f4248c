/*
 * libFuzzer target for the engine's whole KMIP request path: a message
 * goes in as the frontend hands it over (kmip_request()), runs through
 * the real kmip.c, the operations (kmip_ops.c, kop_*.c), attrs.c and
 * keystore.c on an SQLite keystore in memory, and the engine's answer comes out of a real
 * frontend channel (a socketpair whose far end is read here).  The
 * signer children are fakes on socketpairs too: every request the engine
 * sends them is read back, checked, and answered deterministically.
 *
 * Input: records, each one control byte then one KMIP message, whose
 * length is taken from its TTLV header (the last takes what is left, so
 * a single message is one byte then the message).  Control byte:
 *	bits 0-1	identity: "alice", "bob", "" or 256 bytes, no NUL
 *	bits 2-3	the signers answer (what they read at once, last
 *			first): in success, with a failure
 *			status, malformed, or in turn each of these, a
 *			success without any data, and vanishing (the
 *			channel closes, as on a crash)
 *	bit 4		new keys go to the second signer
 *	bit 5		the second signer is not ready
 *	bit 6		sent before the previous answers came (pipelined)
 *	bit 7		no default signer is configured
 * "alice" is an admin; the second signer is a pkcs11 signer in slot 7
 * whose token holds, for any label or CKA_ID asked for, one RSA key pair
 * (hsm:: ids, adoption).
 * Every input starts on an empty keystore with identifiers counted from
 * 1 (arc4random_buf() below), so an input alone reproduces what it found:
 * the first object made is 00000000-0000-4000-8000-000000000001.
 *
 * Checks, each an abort(): the engine never exits (fatal() aborts here);
 * every request gets exactly one answer, on the channel's limit; the
 * answer decodes and re-encodes to the same bytes, is a Response Message
 * whose Batch Count is its number of batch items, no more than the
 * request had, each with a Result Status, in request order (the
 * Operation and Unique Batch Item ID of the request item at the same
 * place), however the signers' answers came; an identifier in a successful
 * answer names no object of another owner; a private key is never
 * returned, nor a key once stored sensitive or not extractable; every
 * Text String is UTF-8; what the engine sends a signer is well formed.
 * Leaks are LeakSanitizer's.
 *
 * The frontend channel reads answers up to FZ_CHANNEL, beyond the
 * engine's limit, so that an oversized answer is reported as such.
 * FUZZ_ENGINE_LOG=1 shows the engine's log.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "attrs.h"
#include "audit.h"
#include "engine.h"
#include "hsmmsg.h"
#include "keystore.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"
#include "ttlv.h"

#define FZ_MAX_RECORDS		32	/* messages per input */
#define FZ_MAX_IDLE		64	/* loop turns without progress */
#define FZ_NSIGNERS		2
#define FZ_CHANNEL		(256 * 1024 * 1024)
#define FZ_CONN_ID		7
#define FZ_MAX_PROTECTED	256	/* objects seen sensitive, per input */
#define FZ_REORDER		16	/* a signer answers these last first */
/* One keystore in memory, the engine's, that the target can empty. */
#define FZ_KEYSTORE		"file:fuzz_engine?mode=memory&cache=shared"

enum fz_mode {
	FZ_OK,
	FZ_ERROR,
	FZ_MALFORMED,
	FZ_ROTATE,
	FZ_EMPTY,		/* only in turn, from FZ_ROTATE */
	FZ_VANISH
};

struct fz_signer {
	struct esigner		 es;
	struct imsgbuf		 far;		/* the fake child's end */
	int			 linked;
};

struct fz_request {
	uint64_t		 req_id;
	int			 answered;
	unsigned int		 nitems;	/* batch items, 0 if bad */
	struct ttlv		*msg;		/* the request, if it decoded */
	int32_t			 max_response;	/* 0: none asked */
	char			 identity[sizeof(((struct fe_hdr *)0)->
				    identity)];
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	arc4random_buf(void *, size_t);

static void	fz_fail(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2), __noreturn__));
static void	fz_frontend_dispatch(int, short, void *);
static void	fz_signer_dispatch(int, short, void *);
static void	fz_link(struct fz_signer *);
static void	fz_unlink(struct fz_signer *);
static void	fz_make_spki(int, const char *, int);
static int	fz_serve_signer(struct fz_signer *);
static void	fz_answer(struct fz_signer *, uint32_t, uint32_t,
		    struct ibuf *);
static int	fz_answer_imsg(struct fz_signer *, struct imsg *);
static void	fz_result(struct fz_signer *, uint32_t, int32_t, int32_t,
		    const void *, size_t, const void *, size_t, const void *,
		    size_t);
static int	fz_read_frontend(void);
static void	fz_check_answer(struct imsg *);
static void	fz_check_item(const struct fz_request *, const struct ttlv *);
static void	fz_check_order(const struct fz_request *, const struct ttlv *);
static void	fz_protect(void);
static int	fz_protected(const char *);
static int	fz_utf8(const uint8_t *, size_t);
static void	fz_check_text(const struct ttlv *);
static void	fz_wait(void);
static void	fz_submit(uint8_t, const uint8_t *, size_t);

static struct engine		 fz_engine;
static struct fz_signer		 signers[FZ_NSIGNERS];
static const char		*signer_names[FZ_NSIGNERS] = {
	"soft", "hsm2"
};
static struct imsgbuf		 fe_far;	/* the frontend's end */
static struct fz_request	 reqs[FZ_MAX_RECORDS];
static size_t			 nreqs;
static uint64_t			 next_req_id;
static uint32_t			 next_random;
static enum fz_mode		 mode;
static unsigned int		 turn;		/* for FZ_ROTATE */
static int			 verbose;
static sqlite3			*fz_db;		/* to empty the keystore */
static char			 protected[FZ_MAX_PROTECTED][KS_ID_MAX];
static size_t			 nprotected;
static uint8_t			*spki[HSM_KEY_SECRET + 1];
static int			 spki_len[HSM_KEY_SECRET + 1];

static const struct ttlv_limits fz_limits = {
	MAX_MAX_MESSAGE, 16, 65536, MAX_MAX_MESSAGE
};
/* The answer may be as large as the channel allows. */
static const struct ttlv_limits fz_answer_limits = {
	FZ_CHANNEL, 64, 1U << 30, FZ_CHANNEL
};

struct engine	*engine = &fz_engine;

/* --- what the engine needs from engine.c and log.c -------------------- */

struct esigner *
esigner_find(uint32_t id)
{
	int	 i;

	for (i = 0; i < FZ_NSIGNERS; i++)
		if (signers[i].es.link.signer_id == id)
			return (&signers[i].es);
	return (NULL);
}

void
engine_status_request(uint32_t id)
{
}

int
engine_admin(const char *identity)
{
	return (strcmp(identity, "alice") == 0);
}

/* A missed deadline: the parent would restart the signer. */
void
engine_signer_hung(struct esigner *es, int timeout)
{
}

/*
 * The engine's log, silent unless FUZZ_ENGINE_LOG is set; a fatal is
 * an abort() so that libFuzzer reports it with its stack.
 */
void
log_init(int debug, int facility)
{
}

void
log_procinit(const char *name)
{
}

void
log_setverbose(int v)
{
}

int
log_getverbose(void)
{
	return (verbose);
}

/* Formatted even when silent: what log.c would read, ASan checks. */
void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[1024];

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	if (verbose)
		(void)fprintf(stderr, "%s\n", buf);
}

void
log_hold(void)
{
}

void
log_release(void)
{
}

/* Read as log.c would: every byte of the line the caller says it has. */
void
log_line(int pri, const char *prefix, const char *s, size_t len)
{
	volatile unsigned char	 sum = 0;
	size_t			 i;

	for (i = 0; i < len; i++)
		sum ^= (unsigned char)s[i];
	if (verbose)
		(void)fprintf(stderr, "%s%.*s\n", prefix, (int)len, s);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	(void)fprintf(stderr, "engine fatal: ");
	if (fmt != NULL) {
		va_start(ap, fmt);
		(void)vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	(void)fprintf(stderr, ": %s\n", strerror(saved_errno));
	abort();
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	(void)fprintf(stderr, "engine fatalx: ");
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	abort();
}

/*
 * The keystore's identifiers come from arc4random_buf(): counted here
 * instead, so that a message can name an object an earlier one made.
 * Nothing else in this process needs the randomness.
 */
void
arc4random_buf(void *buf, size_t n)
{
	uint8_t	*p = buf;
	size_t	 i;

	memset(p, 0, n);
	next_random++;
	for (i = 0; i < 4 && i < n; i++)
		p[n - 1 - i] = next_random >> (8 * i);
}

static void
fz_fail(const char *fmt, ...)
{
	va_list	 ap;

	(void)fprintf(stderr, "fuzz_engine: ");
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	abort();
}

/* --- channels -------------------------------------------------------- */

/* The engine's end of the frontend channel: it only writes. */
static void
fz_frontend_dispatch(int fd, short event, void *arg)
{
	if (imsgev_io(&engine->frontend, event) == -1)
		fz_fail("the frontend channel broke");
	imsg_event_add(&engine->frontend);
}

/* The engine's end of a signer channel, as engine_dispatch_signer(). */
static void
fz_signer_dispatch(int fd, short event, void *arg)
{
	struct esigner	*es = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgev_io(&es->iev, event) == -1)
		goto lost;
	for (;;) {
		if ((n = imsg_get(&es->iev.ibuf, &imsg)) == -1)
			fz_fail("signer answer badly framed");
		if (n == 0)
			break;
		if (imsg_get_type(&imsg) != IMSG_HSM_RESULT)
			fz_fail("fake signer sent imsg %u",
			    imsg_get_type(&imsg));
		kmip_signer_result(es, imsg_get_id(&imsg), &imsg);
		imsg_free(&imsg);
	}
	imsg_event_add(&es->iev);
	return;
 lost:
	imsgev_clear(&es->iev);
	es->status.state = SSTATE_UNKNOWN;
	kmip_signer_lost(es, NULL);
}

/* A new channel to a signer, as the parent gives one after a restart. */
static void
fz_link(struct fz_signer *s)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		fz_fail("socketpair: %s", strerror(errno));
	imsgev_clear(&s->es.iev);
	if (imsgev_init(&s->es.iev, sv[0], fz_signer_dispatch, &s->es,
	    IMSG_MAX_INTERNAL, 0) == -1 || imsgbuf_init(&s->far, sv[1]) == -1 ||
	    imsgbuf_set_maxsize(&s->far, IMSG_MAX_INTERNAL) == -1)
		fz_fail("imsgbuf_init");
	s->es.status.state = SSTATE_READY;
	s->linked = 1;
	/* What was held for it goes out now, as after a real restart. */
	kmip_signer_ready(&s->es);
}

/* The fake child dies: the engine sees its channel close. */
static void
fz_unlink(struct fz_signer *s)
{
	if (!s->linked)
		return;
	imsgbuf_clear(&s->far);
	close(s->far.fd);
	s->far.fd = -1;
	s->linked = 0;
}

/* --- the fake signer ------------------------------------------------- */

/* A SubjectPublicKeyInfo of each key-pair kind, made once. */
static void
fz_make_spki(int kind, const char *alg, int param)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;
	uint8_t		*p = NULL;
	int		 len;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) <= 0)
		fz_fail("keygen %s", alg);
	if (kind == HSM_KEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, param) <= 0)
		fz_fail("keygen %s", alg);
	if (param != 0 && kind != HSM_KEY_RSA &&
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, param) <= 0)
		fz_fail("keygen %s", alg);
	if (EVP_PKEY_keygen(ctx, &pk) <= 0 ||
	    (len = i2d_PUBKEY(pk, &p)) <= 0)
		fz_fail("keygen %s", alg);
	spki[kind] = p;
	spki_len[kind] = len;
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
}

/*
 * Read what the engine sent this signer and answer it.  Returns the
 * number of messages handled, or -1 if the signer vanished.
 */
static int
fz_serve_signer(struct fz_signer *s)
{
	struct imsg	 imsg[FZ_REORDER];
	size_t		 nim = 0;
	ssize_t		 n;
	int		 done = 0;

	if (!s->linked)
		return (0);
	switch (imsgbuf_read(&s->far)) {
	case -1:
		fz_fail("signer channel: %s", strerror(errno));
	case 0:
		fz_fail("the engine closed a signer channel");
	}
	for (;;) {
		if ((n = imsg_get(&s->far, &imsg[nim])) == -1)
			fz_fail("the engine framed a signer request badly");
		if (n > 0)
			nim++;
		if (n > 0 && nim < FZ_REORDER)
			continue;
		/*
		 * What came together is answered last first, as a pool of
		 * sessions may: the engine must put it back in order.
		 */
		while (nim > 0) {
			nim--;
			if (s->linked)
				done += fz_answer_imsg(s, &imsg[nim]);
			imsg_free(&imsg[nim]);
		}
		if (!s->linked)
			return (-1);
		if (n == 0)
			break;
	}
	if (imsgbuf_write(&s->far) == -1)
		fz_fail("signer channel write: %s", strerror(errno));
	return (done);
}

/*
 * One message from the engine: a request, or several in IMSG_HSM_OPS
 * (framed exactly, of the types it may hold, at most HSM_MULTI_MAX),
 * answered last first as a pool of sessions may.  The number answered.
 */
static int
fz_answer_imsg(struct fz_signer *s, struct imsg *imsg)
{
	struct hsm_rec	 rec[HSM_MULTI_MAX], r;
	const uint8_t	*p, *data[HSM_MULTI_MAX], *d;
	struct ibuf	 ib;
	size_t		 left, n = 0;
	int		 rv, done = 0;

	if (imsg_get_ibuf(imsg, &ib) == -1)
		fz_fail("imsg_get_ibuf");
	if (imsg_get_type(imsg) != IMSG_HSM_OPS) {
		fz_answer(s, imsg_get_type(imsg), imsg_get_id(imsg), &ib);
		return (1);
	}
	p = ibuf_data(&ib);
	left = ibuf_size(&ib);
	while ((rv = hsm_multi_next(&p, &left, &r, &d)) == 1) {
		if (n == HSM_MULTI_MAX || !hsm_multi_type_ok(r.type))
			fz_fail("bad IMSG_HSM_OPS record %zu", n);
		rec[n] = r;
		data[n++] = d;
	}
	if (rv == -1 || n < 2)
		fz_fail("IMSG_HSM_OPS framed badly (%zu records)", n);
	while (n > 0 && s->linked) {
		n--;
		ibuf_from_buffer(&ib, (void *)(uintptr_t)data[n], rec[n].len);
		fz_answer(s, rec[n].type, rec[n].id, &ib);
		done++;
	}
	return (done);
}

/*
 * One request: its fixed part and variable parts must match exactly (the
 * real child refuses otherwise, and the engine built it).
 */
static void
fz_answer(struct fz_signer *s, uint32_t type, uint32_t id, struct ibuf *ibp)
{
	static const uint8_t	 wrapped[48] = "fuzz_engine: a wrapped key";
	static const uint8_t	 sig[256] = "fuzz_engine: a signature";
	static const uint8_t	 iv[16] = "fuzz_engine: iv";
	static uint8_t		 out[1024];
	struct hsm_generate	 g;
	struct hsm_import	 im;
	struct hsm_op		 op;
	struct hsm_find		 fd;
	struct hsm_found	 found;
	struct ibuf		 ib = *ibp;
	uint32_t		 kind;
	size_t			 left, n;
	enum fz_mode		 m = mode;
	unsigned int		 t;

	memset(&op, 0, sizeof(op));
	if (m == FZ_ROTATE) {
		t = turn++ % 5;
		m = t == 3 ? FZ_EMPTY : t == 4 ? FZ_VANISH : (enum fz_mode)t;
	}
	switch (type) {
	case IMSG_HSM_GENERATE:
		if (ibuf_get(&ib, &g, sizeof(g)) == -1 ||
		    ibuf_size(&ib) != 0 ||
		    memchr(g.id, '\0', sizeof(g.id)) == NULL ||
		    g.kind < HSM_KEY_AES || g.kind > HSM_KEY_SECRET)
			fz_fail("bad IMSG_HSM_GENERATE");
		kind = g.kind;
		break;
	case IMSG_HSM_IMPORT:
		if (ibuf_get(&ib, &im, sizeof(im)) == -1 ||
		    memchr(im.id, '\0', sizeof(im.id)) == NULL ||
		    im.kind < HSM_KEY_AES || im.kind > HSM_KEY_PRIVATE ||
		    im.format > HSM_FMT_DER ||
		    (im.kind == HSM_KEY_PRIVATE) != (im.format != HSM_FMT_RAW) ||
		    im.len_key != ibuf_size(&ib))
			fz_fail("bad IMSG_HSM_IMPORT");
		/* A private key of whatever kind: the fake finds P-256. */
		kind = im.kind == HSM_KEY_PRIVATE ? HSM_KEY_EC_P256 : im.kind;
		break;
	case IMSG_HSM_OP:
		if (ibuf_get(&ib, &op, sizeof(op)) == -1 ||
		    memchr(op.id, '\0', sizeof(op.id)) == NULL)
			fz_fail("bad IMSG_HSM_OP");
		/* The end of a stream: no answer is waited for. */
		if (op.op == HSM_OP_STREAM_END) {
			if (id != 0 || op.stream_id == 0 ||
			    ibuf_size(&ib) != 0 ||
			    s->es.link.type != SIGNER_OPENSSL)
				fz_fail("bad stream end");
			return;
		}
		/* Streams: software AES keys only, the first part whole. */
		if ((op.flags & ~HSM_OPF_FLAGS) || ((op.flags &
		    HSM_OPF_STREAM) && (op.stream_id == 0 ||
		    s->es.link.type != SIGNER_OPENSSL ||
		    op.kind != HSM_KEY_AES || (op.op != HSM_OP_ENCRYPT &&
		    op.op != HSM_OP_DECRYPT) || (!(op.flags & HSM_OPF_INIT) &&
		    (op.len_key != 0 || op.len_iv != 0 || op.len_aad != 0)))))
			fz_fail("bad stream part");
		if (op.op < HSM_OP_SIGN || op.op > HSM_OP_WRAP ||
		    op.op == HSM_OP_DESTROY || op.op == HSM_OP_DESTROY_PUBLIC ||
		    op.kind < HSM_KEY_AES || op.kind > HSM_KEY_SECRET ||
		    (uint64_t)op.len_key + op.len_data + op.len_iv +
		    op.len_aad + op.len_sig + op.len_label != ibuf_size(&ib))
			fz_fail("bad IMSG_HSM_OP");
		/* Wrapped out: never a private key, under AES or RSA. */
		if (op.op == HSM_OP_WRAP && ((op.kind >= HSM_KEY_RSA &&
		    op.kind <= HSM_KEY_ED25519) ||
		    (op.wrap_kind != HSM_KEY_AES &&
		    op.wrap_kind != HSM_KEY_RSA) ||
		    memchr(op.wrap_id, '\0', sizeof(op.wrap_id)) == NULL ||
		    op.len_aad % 8 != 0 ||
		    (op.len_aad > 0 && !(op.flags & HSM_OPF_TTLV))))
			fz_fail("bad HSM_OP_WRAP");
		kind = op.kind;
		break;
	case IMSG_HSM_FIND:
		if (ibuf_get(&ib, &fd, sizeof(fd)) == -1 ||
		    ibuf_size(&ib) != 0 ||
		    memchr(fd.id, '\0', sizeof(fd.id)) == NULL ||
		    (fd.by != HSM_FIND_LABEL && fd.by != HSM_FIND_ID) ||
		    fd.len == 0 || fd.len > sizeof(fd.value) ||
		    s->es.link.type != SIGNER_PKCS11)
			fz_fail("bad IMSG_HSM_FIND");
		kind = HSM_KEY_RSA;
		break;
	default:
		fz_fail("the engine sent a signer imsg %u", type);
	}

	switch (m) {
	case FZ_ERROR:
		/* Its message has no NUL: the engine must terminate it. */
		fz_result(s, id, KMIP_REASON_CRYPTOGRAPHIC_FAILURE, 0, NULL, 0,
		    NULL, 0, NULL, 0);
		return;
	case FZ_MALFORMED:
		/* Lengths that do not add up: one byte short. */
		fz_result(s, id, 0, 0, wrapped, sizeof(wrapped), NULL,
		    (size_t)-1, NULL, 0);
		return;
	case FZ_EMPTY:
		fz_result(s, id, 0, 0, NULL, 0, NULL, 0, NULL, 0);
		return;
	case FZ_VANISH:
		fz_unlink(s);
		return;
	default:
		break;
	}

	switch (type) {
	case IMSG_HSM_FIND:
		memset(&found, 0, sizeof(found));
		found.class = HSM_CLASS_PRIVATE;
		found.kind = HSM_KEY_RSA;
		found.bits = 2048;
		found.flags = HSM_FOUND_PUBOBJ | HSM_FOUND_SIGN;
		found.len_ckid = 2;
		found.ckid[0] = 1;
		found.ckid[1] = fd.len;
		found.len_label = fd.by == HSM_FIND_LABEL ? fd.len : 0;
		memcpy(found.label, fd.value, found.len_label);
		found.len_ref = 8;
		memcpy(found.ref, "p11\x02\x01\x02\x01", 7);
		found.ref[7] = fd.len;
		found.spki_len = spki_len[HSM_KEY_RSA];
		fz_result(s, id, 0, 0, &found, sizeof(found),
		    spki[HSM_KEY_RSA], spki_len[HSM_KEY_RSA], NULL, 0);
		return;
	case IMSG_HSM_GENERATE:
	case IMSG_HSM_IMPORT:
		if (kind >= HSM_KEY_RSA && kind <= HSM_KEY_ED25519)
			fz_result(s, id, 0, 0, wrapped, sizeof(wrapped),
			    spki[kind], spki_len[kind], NULL, 0);
		else
			fz_result(s, id, 0, 0, wrapped, sizeof(wrapped), NULL,
			    0, NULL, 0);
		return;
	}
	switch (op.op) {
	case HSM_OP_SIGN:
		n = kind == HSM_KEY_RSA ? 256 : 64;
		fz_result(s, id, 0, 0, sig, n, NULL, 0, NULL, 0);
		break;
	case HSM_OP_VERIFY:
	case HSM_OP_MAC_VERIFY:
		fz_result(s, id, 0, turn++ & 1, NULL, 0, NULL, 0, NULL, 0);
		break;
	case HSM_OP_ENCRYPT:
	case HSM_OP_DECRYPT:
		left = op.len_data < sizeof(out) ? op.len_data : sizeof(out);
		memset(out, 0xc1, left);
		if (op.op == HSM_OP_ENCRYPT && kind == HSM_KEY_AES)
			fz_result(s, id, 0, 0, out, left, iv, 12, sig,
			    op.tag_len >= 12 && op.tag_len <= 16 ?
			    op.tag_len : 16);
		else
			fz_result(s, id, 0, 0, out, left, NULL, 0, NULL, 0);
		break;
	case HSM_OP_MAC:
		fz_result(s, id, 0, 0, sig, 32, NULL, 0, NULL, 0);
		break;
	case HSM_OP_EXPORT:
		fz_result(s, id, 0, 0, wrapped, kind == HSM_KEY_SECRET ? 16 :
		    32, NULL, 0, NULL, 0);
		break;
	case HSM_OP_WRAP:
		fz_result(s, id, 0, 0, wrapped, 40, NULL, 0, NULL, 0);
		break;
	}
}

/* IMSG_HSM_RESULT; a part length of (size_t)-1 claims one byte not sent. */
static void
fz_result(struct fz_signer *s, uint32_t id, int32_t status, int32_t valid,
    const void *o1, size_t l1, const void *o2, size_t l2, const void *o3,
    size_t l3)
{
	struct hsm_result	 res;
	struct iovec		 iov[4];

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.valid = valid;
	if (status != 0)
		memset(res.msg, 'E', sizeof(res.msg));
	res.len_out1 = l1;
	res.len_out2 = l2 == (size_t)-1 ? 1 : l2;
	res.len_out3 = l3;
	if (l2 == (size_t)-1)
		l2 = 0;
	iov[0].iov_base = &res;
	iov[0].iov_len = sizeof(res);
	iov[1].iov_base = (void *)(uintptr_t)o1;
	iov[1].iov_len = l1;
	iov[2].iov_base = (void *)(uintptr_t)o2;
	iov[2].iov_len = l2;
	iov[3].iov_base = (void *)(uintptr_t)o3;
	iov[3].iov_len = l3;
	if (imsg_composev(&s->far, IMSG_HSM_RESULT, id, 0, -1, iov, 4) == -1)
		fz_fail("imsg_composev");
}

/* --- the answers ----------------------------------------------------- */

/* Read the frontend's end; returns the number of answers read. */
static int
fz_read_frontend(void)
{
	struct imsg	 imsg;
	ssize_t		 n;
	int		 done = 0;

	switch (imsgbuf_read(&fe_far)) {
	case -1:
		fz_fail("frontend channel: %s", strerror(errno));
	case 0:
		fz_fail("the engine closed the frontend channel");
	}
	for (;;) {
		if ((n = imsg_get(&fe_far, &imsg)) == -1)
			fz_fail("the engine framed an answer badly");
		if (n == 0)
			break;
		fz_check_answer(&imsg);
		imsg_free(&imsg);
		done++;
	}
	return (done);
}

static void
fz_check_answer(struct imsg *imsg)
{
	struct fe_hdr		 hdr;
	struct fz_request	*q = NULL;
	struct ibuf		 ib;
	char			 identity[sizeof(hdr.identity)];
	struct ttlv		*m, *h, *pv, *it;
	const char		*err;
	uint8_t			*re;
	size_t			 len, i;
	int32_t			 count, v;
	uint32_t		 reason;
	int			 too_large = 0;

	if (imsg_get_type(imsg) != IMSG_FE_RESPONSE ||
	    imsg_get_ibuf(imsg, &ib) == -1 ||
	    ibuf_get(&ib, &hdr, sizeof(hdr)) == -1)
		fz_fail("not an IMSG_FE_RESPONSE");
	for (i = 0; i < nreqs; i++)
		if (reqs[i].req_id == hdr.req_id)
			q = &reqs[i];
	if (hdr.conn_id != FZ_CONN_ID || q == NULL)
		fz_fail("answer to a request never made");
	if (q->answered++)
		fz_fail("second answer to request %llu",
		    (unsigned long long)hdr.req_id);
	memcpy(identity, hdr.identity, sizeof(identity));
	strterm(identity, sizeof(identity));
	if (strcmp(identity, q->identity) != 0)
		fz_fail("answer under another identity");
	len = ibuf_size(&ib);
	if (len == 0)
		return;		/* "close the connection" */
	if (len > IMSG_MAX_INTERNAL - sizeof(hdr))
		fz_fail("answer of %zu bytes over the channel", len);

	if (ttlv_decode(ibuf_data(&ib), len, &fz_answer_limits, &m,
	    &err) == -1)
		fz_fail("answer does not decode: %s", err);
	if ((re = malloc(len)) == NULL)
		fz_fail("malloc");
	if (ttlv_encoded_len(m) != len || ttlv_encode(m, re, len) == -1 ||
	    memcmp(re, ibuf_data(&ib), len) != 0)
		fz_fail("answer does not re-encode to itself");
	free(re);

	if (m->tag != KMIP_TAG_RESPONSE_MESSAGE || m->type != TTLV_STRUCTURE ||
	    (h = ttlv_find(m, KMIP_TAG_RESPONSE_HEADER)) == NULL ||
	    h->type != TTLV_STRUCTURE ||
	    (pv = ttlv_find(h, KMIP_TAG_PROTOCOL_VERSION)) == NULL ||
	    ttlv_get_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR, &v) == -1 ||
	    v != 1 ||
	    ttlv_get_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR, &v) == -1 ||
	    v < 0 || v > 4 ||
	    ttlv_get_integer(h, KMIP_TAG_BATCH_COUNT, &count) == -1)
		fz_fail("answer without a Response Header");
	if (count < 1 || (unsigned int)count != ttlv_count(m,
	    KMIP_TAG_BATCH_ITEM))
		fz_fail("Batch Count %d, %u batch items", count,
		    ttlv_count(m, KMIP_TAG_BATCH_ITEM));
	if ((unsigned int)count > (q->nitems > 0 ? q->nitems : 1))
		fz_fail("%d answers to %u batch items", count, q->nitems);
	fz_check_order(q, m);
	for (it = ttlv_find(m, KMIP_TAG_BATCH_ITEM); it != NULL;
	    it = ttlv_find_next(m, it, KMIP_TAG_BATCH_ITEM)) {
		fz_check_item(q, it);
		if (ttlv_get_enum(it, KMIP_TAG_RESULT_REASON, &reason) == 0 &&
		    reason == KMIP_REASON_RESPONSE_TOO_LARGE)
			too_large = 1;
	}
	fz_check_text(m);
	if (q->max_response > 0 &&
	    len > (size_t)q->max_response && !too_large)
		fz_fail("answer of %zu bytes, Maximum Response Size %d", len,
		    q->max_response);
	ttlv_free(m);
}

/*
 * The answers are in request order, whatever order the signers answered
 * in: the answer at each place that names an Operation names the one of
 * the request item at that place, with its Unique Batch Item ID.
 */
static void
fz_check_order(const struct fz_request *q, const struct ttlv *m)
{
	const struct ttlv	*it, *rit, *ubi, *rubi;
	uint32_t		 op, rop;
	unsigned int		 n = 0;

	if (q->msg == NULL)
		return;
	rit = ttlv_find(q->msg, KMIP_TAG_BATCH_ITEM);
	for (it = ttlv_find(m, KMIP_TAG_BATCH_ITEM); it != NULL && rit != NULL;
	    it = ttlv_find_next(m, it, KMIP_TAG_BATCH_ITEM),
	    rit = ttlv_find_next(q->msg, rit, KMIP_TAG_BATCH_ITEM), n++) {
		if (ttlv_get_enum(it, KMIP_TAG_OPERATION, &op) == -1)
			continue;
		if (rit->type != TTLV_STRUCTURE ||
		    ttlv_get_enum(rit, KMIP_TAG_OPERATION, &rop) == -1 ||
		    op != rop)
			fz_fail("answer %u is not to request item %u", n, n);
		ubi = ttlv_find(it, KMIP_TAG_UNIQUE_BATCH_ITEM_ID);
		rubi = ttlv_find(rit, KMIP_TAG_UNIQUE_BATCH_ITEM_ID);
		if (rubi != NULL && rubi->type != TTLV_BYTE_STRING)
			rubi = NULL;
		if ((ubi == NULL) != (rubi == NULL) || (ubi != NULL &&
		    (ubi->v.s.len != rubi->v.s.len ||
		    memcmp(ubi->v.s.data, rubi->v.s.data, ubi->v.s.len) != 0)))
			fz_fail("answer %u has another Unique Batch Item ID",
			    n);
	}
}

/*
 * One batch item: a Result Status; a reason exactly when it failed; in a
 * success, identifiers of the requester's objects only and no private
 * key.
 */
static void
fz_check_item(const struct fz_request *q, const struct ttlv *it)
{
	static const uint32_t	 idtags[] = {
		KMIP_TAG_UNIQUE_IDENTIFIER,
		KMIP_TAG_PRIVATE_KEY_UNIQUE_IDENTIFIER,
		KMIP_TAG_PUBLIC_KEY_UNIQUE_IDENTIFIER
	};
	const struct ttlv	*p, *c;
	struct ks_object	 o;
	char			 id[KS_ID_MAX], owner[KS_OWNER_MAX];
	uint32_t		 status, reason;
	size_t			 i;

	if (it->type != TTLV_STRUCTURE ||
	    ttlv_get_enum(it, KMIP_TAG_RESULT_STATUS, &status) == -1)
		fz_fail("batch item without a Result Status");
	if ((status == KMIP_STATUS_SUCCESS) != (ttlv_get_enum(it,
	    KMIP_TAG_RESULT_REASON, &reason) == -1))
		fz_fail("Result Status %u with%s a Result Reason", status,
		    status == KMIP_STATUS_SUCCESS ? "" : "out");
	if (status != KMIP_STATUS_SUCCESS ||
	    (p = ttlv_find(it, KMIP_TAG_RESPONSE_PAYLOAD)) == NULL)
		return;
	if (p->type != TTLV_STRUCTURE)
		fz_fail("Response Payload is not a structure");
	if (ttlv_find(p, KMIP_TAG_PRIVATE_KEY) != NULL)
		fz_fail("a private key was returned");
	if ((ttlv_find(p, KMIP_TAG_SYMMETRIC_KEY) != NULL ||
	    ttlv_find(p, KMIP_TAG_SECRET_DATA) != NULL) &&
	    ttlv_get_text(p, KMIP_TAG_UNIQUE_IDENTIFIER, id, sizeof(id)) == 0 &&
	    fz_protected(id))
		fz_fail("%s was returned, after it was sensitive or not "
		    "extractable", id);
	(void)strlcpy(owner, q->identity, sizeof(owner));
	TAILQ_FOREACH(c, &p->children, entry) {
		for (i = 0; i < sizeof(idtags) / sizeof(idtags[0]); i++)
			if (c->tag == idtags[i])
				break;
		if (i == sizeof(idtags) / sizeof(idtags[0]))
			continue;
		if (c->type != TTLV_TEXT_STRING || c->v.s.len >= sizeof(id))
			fz_fail("a bad identifier in an answer");
		memcpy(id, c->v.s.data, c->v.s.len);
		id[c->v.s.len] = '\0';
		if (ks_get(engine->ks, id, &o) != 0)
			continue;	/* not stored: nothing to leak */
		/*
		 * Only an admin acts on others' objects, or makes one for
		 * another owner (x-signerd-owner); the harness grants
		 * nothing, so anyone else sees only their own.
		 */
		if (strcmp(o.owner, owner) != 0 && !engine_admin(owner))
			fz_fail("\"%s\" was answered with %s of \"%s\"",
			    owner, id, o.owner);
		ks_object_clear(&o);
	}
}

/*
 * Issue 7 item 4: Sensitive only goes from false to true, Extractable
 * only from true to false.  Remember the objects stored with Sensitive
 * true or Extractable false; none of them may be returned afterwards.
 */
static void
fz_protect(void)
{
	sqlite3_stmt	*st;
	struct ttlv	*a;
	const char	*id, *err;
	const uint8_t	*blob;
	size_t		 len;
	int		 v;

	if (sqlite3_prepare_v2(fz_db, "SELECT id, attributes FROM objects",
	    -1, &st, NULL) != SQLITE_OK)
		fz_fail("keystore: %s", sqlite3_errmsg(fz_db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		blob = sqlite3_column_blob(st, 1);
		len = sqlite3_column_bytes(st, 1);
		if (id == NULL || fz_protected(id) || len == 0 ||
		    ttlv_decode(blob, len, &fz_answer_limits, &a, &err) == -1)
			continue;
		if ((attr_get_bool(a, "Sensitive", &v) == 0 && v) ||
		    (attr_get_bool(a, "Extractable", &v) == 0 && !v)) {
			if (nprotected == FZ_MAX_PROTECTED)
				fz_fail("too many protected objects");
			(void)strlcpy(protected[nprotected++], id, KS_ID_MAX);
		}
		ttlv_free(a);
	}
	sqlite3_finalize(st);
}

static int
fz_protected(const char *id)
{
	size_t	 i;

	for (i = 0; i < nprotected; i++)
		if (strcmp(protected[i], id) == 0)
			return (1);
	return (0);
}

/* 1 if s is well-formed UTF-8: shortest forms, no surrogates. */
static int
fz_utf8(const uint8_t *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 c;

	while (i < len) {
		c = s[i];
		if (c < 0x80)
			n = 0;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07;
		else
			return (0);
		if (n > len - i - 1)
			return (0);
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return (0);
		i += n + 1;
	}
	return (1);
}

/* Issue 7 item 9: no Text String of an answer is anything but UTF-8. */
static void
fz_check_text(const struct ttlv *t)
{
	const struct ttlv	*c;

	if (t->type == TTLV_TEXT_STRING && !fz_utf8(t->v.s.data, t->v.s.len))
		fz_fail("a Text String (tag %06x) that is not UTF-8", t->tag);
	if (t->type == TTLV_STRUCTURE)
		TAILQ_FOREACH(c, &t->children, entry)
			fz_check_text(c);
}

/* --- the loop -------------------------------------------------------- */

/* Run the engine and the fakes until every request is answered. */
static void
fz_wait(void)
{
	size_t	 i, open;
	int	 idle = 0, n, recovered = 0;

	for (;;) {
		for (i = 0, open = 0; i < nreqs; i++)
			if (!reqs[i].answered)
				open++;
		if (open == 0)
			return;
		/*
		 * Requests for a signer that is not ready are held until it
		 * is or their deadline passes: rather than wait seconds for
		 * the deadline, let such a signer recover, once.
		 */
		if (idle > FZ_MAX_IDLE / 2 && !recovered) {
			recovered = 1;
			for (i = 0; i < FZ_NSIGNERS; i++)
				if (signers[i].es.iev.active &&
				    signers[i].es.status.state !=
				    SSTATE_READY) {
					signers[i].es.status.state =
					    SSTATE_READY;
					kmip_signer_ready(&signers[i].es);
				}
		}
		if (idle++ > FZ_MAX_IDLE)
			fz_fail("%zu request(s) never answered", open);
		(void)event_loop(EVLOOP_NONBLOCK);
		for (i = 0; i < FZ_NSIGNERS; i++) {
			if ((n = fz_serve_signer(&signers[i])) != 0)
				idle = 0;
			/* Gone: the parent restarts it once the engine saw. */
			if (!signers[i].linked &&
			    !signers[i].es.iev.active)
				fz_link(&signers[i]);
		}
		if (fz_read_frontend() > 0)
			idle = 0;
		/* A large answer takes many turns to cross the socket. */
		if (engine->frontend.active &&
		    imsgbuf_queuelen(&engine->frontend.ibuf) > 0)
			idle = 0;
	}
}

static void
fz_submit(uint8_t ctl, const uint8_t *msg, size_t len)
{
	static const char	*names[] = { "alice", "bob", "" };
	struct fz_request	*q = &reqs[nreqs];
	struct fe_hdr		 hdr;
	struct ttlv		*t, *h;
	const char		*err;
	uint8_t			*copy;

	memset(q, 0, sizeof(*q));
	if ((ctl & 3) == 3)
		memset(q->identity, 'k', sizeof(q->identity));
	else
		(void)strlcpy(q->identity, names[ctl & 3],
		    sizeof(q->identity));

	/* What the answer may hold: one item per batch item at most. */
	if (ttlv_decode(msg, len, &fz_limits, &t, &err) == 0) {
		if (t->tag == KMIP_TAG_REQUEST_MESSAGE &&
		    t->type == TTLV_STRUCTURE)
			q->nitems = ttlv_count(t, KMIP_TAG_BATCH_ITEM);
		if ((h = ttlv_find(t, KMIP_TAG_REQUEST_HEADER)) != NULL &&
		    h->type == TTLV_STRUCTURE)
			(void)ttlv_get_integer(h,
			    KMIP_TAG_MAXIMUM_RESPONSE_SIZE, &q->max_response);
		if (q->nitems > 0)
			q->msg = t;
		else
			ttlv_free(t);
	}
	if (!(ctl & 0x40))
		fz_wait();
	fz_protect();
	mode = (ctl >> 2) & 3;
	(void)strlcpy(engine->conf.default_signer, ctl & 0x80 ? "" :
	    signer_names[(ctl >> 4) & 1],
	    sizeof(engine->conf.default_signer));
	if (signers[1].es.iev.active)
		signers[1].es.status.state = ctl & 0x20 ? SSTATE_ERROR :
		    SSTATE_READY;

	memset(&hdr, 0, sizeof(hdr));
	hdr.conn_id = FZ_CONN_ID;
	hdr.req_id = q->req_id = ++next_req_id;
	memcpy(hdr.identity, q->identity, sizeof(hdr.identity));
	/* The identity as the engine reads it, for the checks. */
	strterm(q->identity, sizeof(q->identity));
	nreqs++;
	/* Its own allocation, so that ASan sees a read past its end. */
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		fz_fail("malloc");
	memcpy(copy, msg, len);
	kmip_request(&hdr, copy, len);
	free(copy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256] = "sqlite";
	int	 sv[2], i;

	verbose = getenv("FUZZ_ENGINE_LOG") != NULL;
	signal(SIGPIPE, SIG_IGN);
	event_init();

	TAILQ_INIT(&engine->signers);
	TAILQ_INIT(&engine->procs);
	TAILQ_INIT(&engine->conns);
	engine->control_fd = -1;
	engine->conf.control_gid = -1;
	/* Every item makes its audit record, written to nowhere. */
	engine->conf.audit_on = 1;
	(void)strlcpy(engine->conf.audit_file, "/dev/null",
	    sizeof(engine->conf.audit_file));
	audit_configure(&engine->conf, "/", NULL, 0);
	/*
	 * Opening a keystore costs more than most inputs: it is opened once,
	 * as a shared in-memory database, and emptied before every input
	 * through a second connection.
	 */
	if (sqlite3_config(SQLITE_CONFIG_URI, 1) != SQLITE_OK ||
	    ks_open(FZ_KEYSTORE, &engine->ks, err, sizeof(err)) == -1 ||
	    sqlite3_open_v2(FZ_KEYSTORE, &fz_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_URI, NULL) != SQLITE_OK)
		fz_fail("keystore: %s", err);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		fz_fail("socketpair: %s", strerror(errno));
	if (imsgev_init(&engine->frontend, sv[0], fz_frontend_dispatch, NULL,
	    IMSG_MAX_INTERNAL, 1) == -1 ||
	    imsgbuf_init(&fe_far, sv[1]) == -1 ||
	    imsgbuf_set_maxsize(&fe_far, FZ_CHANNEL) == -1)
		fz_fail("imsgbuf_init");

	for (i = 0; i < FZ_NSIGNERS; i++) {
		signers[i].es.link.signer_id = i + 1;
		signers[i].es.link.type = i == 1 ? SIGNER_PKCS11 :
		    SIGNER_OPENSSL;
		if (i == 1)
			(void)strlcpy(signers[i].es.status.detail, "token "
			    "\"hsm2\" in slot 7, logged in",
			    sizeof(signers[i].es.status.detail));
		(void)strlcpy(signers[i].es.link.name, signer_names[i],
		    sizeof(signers[i].es.link.name));
		TAILQ_INSERT_TAIL(&engine->signers, &signers[i].es, entry);
		fz_link(&signers[i]);
	}
	fz_make_spki(HSM_KEY_RSA, "RSA", 2048);
	fz_make_spki(HSM_KEY_EC_P256, "EC", NID_X9_62_prime256v1);
	fz_make_spki(HSM_KEY_EC_P384, "EC", NID_secp384r1);
	fz_make_spki(HSM_KEY_EC_P521, "EC", NID_secp521r1);
	fz_make_spki(HSM_KEY_ED25519, "ED25519", 0);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		 len;
	uint32_t	 declared;
	uint8_t		 ctl;

	/* The last input's connection is gone, with its streams. */
	kop_stream_conn_closed(FZ_CONN_ID);
	/* An empty keystore, identifiers from 1. */
	if (ks_rollback(engine->ks) == -1 || sqlite3_exec(fz_db,
	    "DELETE FROM attr_index; DELETE FROM objects;", NULL, NULL,
	    NULL) != SQLITE_OK)
		fz_fail("emptying the keystore: %s", sqlite3_errmsg(fz_db));
	next_random = 0;
	nreqs = 0;
	nprotected = 0;
	turn = 0;

	while (size > 0 && nreqs < FZ_MAX_RECORDS) {
		ctl = *data++;
		size--;
		len = size;
		if (size >= 8) {
			declared = (uint32_t)data[4] << 24 |
			    (uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 |
			    data[7];
			if (declared <= size - 8)
				len = 8 + declared;
		}
		fz_submit(ctl, data, len);
		data += len;
		size -= len;
	}
	fz_wait();
	for (len = 0; len < nreqs; len++) {
		ttlv_free(reqs[len].msg);
		reqs[len].msg = NULL;
	}
	return (0);
}
