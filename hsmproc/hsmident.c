/*
 * What a signer child proves and reports of itself, whatever its
 * backend: its identity (IMSG_HSM_IDENTITY), the self-test of signerctl
 * check (IMSG_HSM_CHECK), and the counters and latencies of the
 * requests it answered, for signerctl show signers.
 *
 * Identity and self-test run on the main thread, through the backend's
 * own generate and op functions (a pkcs11 signer borrows a session from
 * its pool): they are rare, short, and must not wait behind a queue of
 * client requests to be answered.  See design.md, "Signer identity".
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "p11token.h"

#define HSM_PENDING_MAX		2048	/* requests timed at once */
#define HSM_PENDING_PROBE	8
#define HSM_LAT_MAX		4096	/* latencies kept */
#define HSM_LAT_WINDOW		60	/* seconds: p50/p99 over these */
#define HSM_CHECK_ID		"signerd-check"
#define HSM_CHECK_DATA		"signerd self-test"

static struct {
	uint32_t		 peerid;
	int			 used;
	struct timespec		 t;
} pending[HSM_PENDING_MAX];

static struct {
	time_t			 when;
	uint32_t		 usec;
} lat[HSM_LAT_MAX];
static size_t			 lat_next;

static struct {
	uint64_t		 answered;
	uint64_t		 errors;
	int64_t			 last_error_at;
	char			 last_error[HSM_LAST_ERROR_MAX];
} hstat;

static uint32_t	 hsm_usec_since(const struct timespec *);
static int	 hsm_u32_cmp(const void *, const void *);
static int	 hsm_ident_sign(struct hsm *, uint32_t, const uint8_t *, size_t,
		    const uint8_t *, struct hsm_res *);
static uint32_t	 hsm_ident_kind(struct hsm *);
static void	 hsm_ident_answer(struct imsgev *, uint32_t,
		    struct hsm_identity_result *, const uint8_t *, size_t,
		    const uint8_t *, size_t, const uint8_t *, size_t);
static struct check_step *hsm_step(struct ctl_check *, const char *);
static void	 hsm_step_end(struct check_step *, const struct timespec *,
		    int, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));
static int	 hsm_verify(const uint8_t *, size_t, const uint8_t *, size_t,
		    const uint8_t *, size_t, char *, size_t);

static uint32_t
hsm_usec_since(const struct timespec *t0)
{
	struct timespec	 t;
	int64_t		 us;

	clock_gettime(CLOCK_MONOTONIC, &t);
	us = (int64_t)(t.tv_sec - t0->tv_sec) * 1000000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000;
	if (us < 0)
		us = 0;
	return (us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
}

/* A request from the engine came in: its latency starts now. */
void
hsm_stat_begin(uint32_t peerid)
{
	size_t	 i, k;

	for (i = 0; i < HSM_PENDING_PROBE; i++) {
		k = (peerid + i) % HSM_PENDING_MAX;
		if (!pending[k].used) {
			pending[k].used = 1;
			pending[k].peerid = peerid;
			clock_gettime(CLOCK_MONOTONIC, &pending[k].t);
			return;
		}
	}
	/* Too many at once: this one is counted but not timed. */
}

/* Its answer goes out (hsm_answer): count it, and time it. */
void
hsm_stat_end(uint32_t peerid, int32_t status, const char *msg)
{
	size_t	 i, k;

	hstat.answered++;
	if (status != 0) {
		hstat.errors++;
		hstat.last_error_at = time(NULL);
		(void)strlcpy(hstat.last_error, msg, sizeof(hstat.last_error));
	}
	for (i = 0; i < HSM_PENDING_PROBE; i++) {
		k = (peerid + i) % HSM_PENDING_MAX;
		if (pending[k].used && pending[k].peerid == peerid) {
			pending[k].used = 0;
			lat[lat_next].when = time(NULL);
			lat[lat_next].usec = hsm_usec_since(&pending[k].t);
			lat_next = (lat_next + 1) % HSM_LAT_MAX;
			return;
		}
	}
}

/* Drop the timings of requests whose answers will never be sent. */
void
hsm_stat_forget(void)
{
	memset(pending, 0, sizeof(pending));
}

static int
hsm_u32_cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* The counters into a status answer; p50 and p99 of the last minute. */
void
hsm_stat_fill(struct signer_status *st)
{
	uint32_t	*v;
	time_t		 now = time(NULL);
	size_t		 i, n = 0;

	st->answered = hstat.answered;
	st->errors = hstat.errors;
	st->last_error_at = hstat.last_error_at;
	(void)strlcpy(st->last_error, hstat.last_error,
	    sizeof(st->last_error));
	st->lat_n = st->lat_p50_us = st->lat_p99_us = 0;
	if ((v = calloc(HSM_LAT_MAX, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < HSM_LAT_MAX; i++)
		if (lat[i].when != 0 && now - lat[i].when < HSM_LAT_WINDOW)
			v[n++] = lat[i].usec;
	if (n > 0) {
		qsort(v, n, sizeof(*v), hsm_u32_cmp);
		st->lat_n = n;
		st->lat_p50_us = v[(n - 1) * 50 / 100];
		st->lat_p99_us = v[(n - 1) * 99 / 100];
	}
	free(v);
}

/* --- Identity -------------------------------------------------------- */

/* An identity key's kind: EC P-256, or RSA if a token has no EC. */
static uint32_t
hsm_ident_kind(struct hsm *h)
{
	struct p11	*p;

	if (h->be == &hsm_pkcs11 && (p = h->be_state) != NULL &&
	    (!p11_offers(p, CKM_EC_KEY_PAIR_GEN) ||
	    !p11_offers(p, CKM_ECDSA)))
		return (HSM_KEY_RSA);
	return (HSM_KEY_EC_P256);
}

/* Sign the domain and challenge with the identity key in blob. */
static int
hsm_ident_sign(struct hsm *h, uint32_t kind, const uint8_t *blob, size_t len,
    const uint8_t *challenge, struct hsm_res *res)
{
	struct hsm_req	 r;
	uint8_t		 data[sizeof(HSM_IDENT_DOMAIN) - 1 +
			    HSM_IDENT_CHALLENGE];

	memcpy(data, HSM_IDENT_DOMAIN, sizeof(HSM_IDENT_DOMAIN) - 1);
	memcpy(data + sizeof(HSM_IDENT_DOMAIN) - 1, challenge,
	    HSM_IDENT_CHALLENGE);
	memset(&r, 0, sizeof(r));
	r.type = IMSG_HSM_OP;
	(void)strlcpy(r.id, HSM_IDENT_ID, sizeof(r.id));
	r.op = HSM_OP_SIGN;
	r.kind = kind;
	r.hash = HSM_HASH_SHA256;
	r.padding = kind == HSM_KEY_RSA ? HSM_PAD_PKCS1V15 : HSM_PAD_NONE;
	r.key = blob;
	r.len_key = len;
	r.data = data;
	r.len_data = sizeof(data);
	memset(res, 0, sizeof(*res));
	h->be->op(h, &r, res);
	if (res->status == 0 && res->len[0] == 0)
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "empty signature");
	return (res->status);
}

static void
hsm_ident_answer(struct imsgev *iev, uint32_t peerid,
    struct hsm_identity_result *ir, const uint8_t *blob, size_t lblob,
    const uint8_t *spki, size_t lspki, const uint8_t *sig, size_t lsig)
{
	struct iovec	 iov[4];
	int		 n = 1;

	ir->len_blob = lblob;
	ir->len_spki = lspki;
	ir->len_sig = lsig;
	iov[0].iov_base = ir;
	iov[0].iov_len = sizeof(*ir);
	if (lblob > 0) {
		iov[n].iov_base = (void *)(uintptr_t)blob;
		iov[n++].iov_len = lblob;
	}
	if (lspki > 0) {
		iov[n].iov_base = (void *)(uintptr_t)spki;
		iov[n++].iov_len = lspki;
	}
	if (lsig > 0) {
		iov[n].iov_base = (void *)(uintptr_t)sig;
		iov[n++].iov_len = lsig;
	}
	if (!iev->active)
		return;
	if (imsg_composev(&iev->ibuf, IMSG_HSM_IDENTITY, peerid, 0, -1, iov,
	    n) == -1)
		log_warn("imsg_composev IMSG_HSM_IDENTITY");
	imsg_event_add(iev);
}

/*
 * IMSG_HSM_IDENTITY: sign the challenge with the first offered key
 * that works, else (if asked to) with a new one.  The engine frames its
 * requests: a malformed one is fatal, as in hsmreq.c.  An answer that
 * no offered key is here says so by KMIP_REASON_ITEM_NOT_FOUND: the
 * engine tells that (another token) from a failure of the token.
 */
void
hsm_identity(struct hsm *h, struct imsgev *iev, struct imsg *imsg)
{
	struct hsm_identity		 q;
	struct hsm_identity_result	 ir;
	struct hsm_req			 g;
	struct hsm_res			 res, gen;
	struct ibuf			 ib;
	const uint8_t			*p, *blob[HSM_IDENT_MAX];
	uint8_t				*nblob;
	size_t				 len, rest, sum, nlen;
	uint32_t			 i, kind;
	int32_t				 status = KMIP_REASON_ITEM_NOT_FOUND;
	char				 why[HSM_MSG_MAX];

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    (len = ibuf_size(&ib)) < sizeof(q))
		fatalx("bad IMSG_HSM_IDENTITY from the engine");
	p = ibuf_data(&ib);
	memcpy(&q, p, sizeof(q));
	rest = len - sizeof(q);
	if (q.n > HSM_IDENT_MAX || (q.flags & ~HSM_IDENT_CREATE) != 0)
		fatalx("bad IMSG_HSM_IDENTITY from the engine");
	for (i = 0, sum = 0; i < q.n; i++) {
		if (q.len[i] == 0 || q.len[i] > HSM_IDENT_BLOB_MAX)
			fatalx("bad IMSG_HSM_IDENTITY from the engine");
		blob[i] = p + sizeof(q) + sum;
		sum += q.len[i];
	}
	if (sum != rest)
		fatalx("bad IMSG_HSM_IDENTITY from the engine");

	memset(&ir, 0, sizeof(ir));
	(void)strlcpy(why, "no identity key in the signer", sizeof(why));
	if (h->status.state != SSTATE_READY || h->be->op == NULL ||
	    h->be->generate == NULL) {
		ir.status = KMIP_REASON_GENERAL_FAILURE;
		(void)snprintf(ir.msg, sizeof(ir.msg), "signer not ready: %.100s",
		    h->status.detail);
		hsm_ident_answer(iev, imsg_get_id(imsg), &ir, NULL, 0, NULL,
		    0, NULL, 0);
		return;
	}
	for (i = 0; i < q.n; i++) {
		if (hsm_ident_sign(h, q.kind[i], blob[i], q.len[i],
		    q.challenge, &res) == 0) {
			ir.which = i;
			/* Under a kek file still, with the token's KEK too. */
			nblob = NULL;
			nlen = 0;
			if (h->be == &hsm_openssl &&
			    soft_ident_rewrap(h, q.kind[i], blob[i], q.len[i],
			    &nblob, &nlen) == 0 && nlen > HSM_IDENT_BLOB_MAX) {
				free(nblob);
				nblob = NULL;
				nlen = 0;
			}
			hsm_ident_answer(iev, imsg_get_id(imsg), &ir, nblob,
			    nlen, NULL, 0, res.out[0], res.len[0]);
			free(nblob);
			hsm_res_clear(&res);
			return;
		}
		/* Only "not here" means another token; the rest, a fault. */
		if (res.status != KMIP_REASON_ITEM_NOT_FOUND) {
			status = res.status;
			(void)strlcpy(why, res.msg, sizeof(why));
		} else if (status == KMIP_REASON_ITEM_NOT_FOUND)
			(void)strlcpy(why, res.msg, sizeof(why));
		hsm_res_clear(&res);
	}
	if (!(q.flags & HSM_IDENT_CREATE) ||
	    status != KMIP_REASON_ITEM_NOT_FOUND) {
		ir.status = status;
		(void)strlcpy(ir.msg, why, sizeof(ir.msg));
		hsm_ident_answer(iev, imsg_get_id(imsg), &ir, NULL, 0, NULL,
		    0, NULL, 0);
		return;
	}

	/* The first connection: a key for the purpose, kept by the signer. */
	kind = hsm_ident_kind(h);
	memset(&g, 0, sizeof(g));
	g.type = IMSG_HSM_GENERATE;
	(void)strlcpy(g.id, HSM_IDENT_ID, sizeof(g.id));
	(void)strlcpy(g.label, HSM_IDENT_ID, sizeof(g.label));
	(void)strlcpy(g.pub_label, HSM_IDENT_ID, sizeof(g.pub_label));
	g.kind = kind;
	g.bits = kind == HSM_KEY_RSA ? 2048 : 256;
	memset(&gen, 0, sizeof(gen));
	h->be->generate(h, &g, &gen);
	if (gen.status == 0 && (gen.len[0] == 0 || gen.len[1] == 0 ||
	    gen.len[0] > HSM_IDENT_BLOB_MAX ||
	    gen.len[1] > HSM_IDENT_SPKI_MAX))
		(void)hsm_res_error(&gen, KMIP_REASON_GENERAL_FAILURE,
		    "identity key of an unexpected form");
	if (gen.status != 0) {
		ir.status = gen.status;
		(void)snprintf(ir.msg, sizeof(ir.msg), "making the identity "
		    "key: %.90s", gen.msg);
		hsm_res_clear(&gen);
		hsm_ident_answer(iev, imsg_get_id(imsg), &ir, NULL, 0, NULL,
		    0, NULL, 0);
		return;
	}
	if (hsm_ident_sign(h, kind, gen.out[0], gen.len[0], q.challenge,
	    &res) != 0 || res.len[0] > HSM_IDENT_SIG_MAX) {
		ir.status = res.status != 0 ? res.status :
		    KMIP_REASON_GENERAL_FAILURE;
		(void)snprintf(ir.msg, sizeof(ir.msg), "signing with the new "
		    "identity key: %.80s", res.msg);
		hsm_res_clear(&res);
		hsm_res_clear(&gen);
		hsm_ident_answer(iev, imsg_get_id(imsg), &ir, NULL, 0, NULL,
		    0, NULL, 0);
		return;
	}
	log_info("made a signer identity key (%s)", hsm_kind_name(kind));
	ir.which = -1;
	ir.kind = kind;
	hsm_ident_answer(iev, imsg_get_id(imsg), &ir, gen.out[0], gen.len[0],
	    gen.out[1], gen.len[1], res.out[0], res.len[0]);
	hsm_res_clear(&res);
	hsm_res_clear(&gen);
}

/* --- Self-test ------------------------------------------------------- */

static struct check_step *
hsm_step(struct ctl_check *cc, const char *name)
{
	struct check_step	*s;

	if (cc->nsteps >= HSM_CHECK_STEPS)
		fatalx("%s: too many steps", __func__);
	s = &cc->steps[cc->nsteps++];
	memset(s, 0, sizeof(*s));
	(void)strlcpy(s->name, name, sizeof(s->name));
	s->result = CHECK_SKIP;
	(void)strlcpy(s->detail, "not run", sizeof(s->detail));
	return (s);
}

static void
hsm_step_end(struct check_step *s, const struct timespec *t0, int ok,
    const char *fmt, ...)
{
	va_list	 ap;
	size_t	 i;

	s->result = ok ? CHECK_PASS : CHECK_FAIL;
	s->usec = t0 != NULL ? hsm_usec_since(t0) : 0;
	va_start(ap, fmt);
	(void)vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	/* The engine refuses control characters (hsm_check_parse). */
	for (i = 0; s->detail[i] != '\0'; i++)
		if ((unsigned char)s->detail[i] < 0x20 ||
		    s->detail[i] == 0x7f)
			s->detail[i] = '?';
}

/* Verify sig over data with a SubjectPublicKeyInfo, in software. */
static int
hsm_verify(const uint8_t *spki, size_t lspki, const uint8_t *data,
    size_t ldata, const uint8_t *sig, size_t lsig, char *why, size_t size)
{
	EVP_PKEY	*pk;
	EVP_MD_CTX	*ctx;
	const uint8_t	*q = spki;
	int		 rv = -1;

	if ((pk = d2i_PUBKEY(NULL, &q, lspki)) == NULL ||
	    q != spki + lspki) {
		(void)strlcpy(why, "the public key does not parse", size);
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return (-1);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatal(NULL);
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, lsig, data, ldata) == 1)
		rv = 0;
	else
		(void)strlcpy(why, "the signature does not verify", size);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return (rv);
}

/*
 * IMSG_HSM_CHECK: the self-test, answered with struct ctl_check.  Each
 * step says what it found and how long it took; after a failure the
 * steps that depend on it are skipped.  A key pair is made for the
 * test and destroyed after it: a token that cannot destroy it is named.
 */
void
hsm_check(struct hsm *h, struct imsgev *iev, struct imsg *imsg)
{
	struct ctl_check	 cc;
	struct check_step	*s;
	struct timespec		 t0;
	struct hsm_req		 r;
	struct hsm_res		 gen, res;
	struct p11		*p = h->be_state;
	char			 buf[CHECK_DETAIL_MAX];
	uint32_t		 kind;
	int			 pkcs11 = h->be == &hsm_pkcs11, ok;

	if (imsg_get_len(imsg) != 0)
		fatalx("bad IMSG_HSM_CHECK from the engine");
	memset(&cc, 0, sizeof(cc));
	memset(&gen, 0, sizeof(gen));
	memset(&res, 0, sizeof(res));

	/* The token found and logged in to: hsm_pkcs11.c did that. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pkcs11) {
		s = hsm_step(&cc, "token");
		if (h->status.tok_label[0] != '\0')
			hsm_step_end(s, NULL, 1, "\"%s\" serial %s in slot "
			    "%llu, %s %s", h->status.tok_label,
			    h->status.tok_serial, (unsigned long long)
			    h->status.slot, h->status.tok_manuf,
			    h->status.tok_model);
		else
			hsm_step_end(s, NULL, 0, "%s", h->status.detail);
	}
	s = hsm_step(&cc, "login");
	if (h->status.state != SSTATE_READY) {
		if (!pkcs11 || h->status.tok_label[0] != '\0')
			hsm_step_end(s, &t0, 0, "%s: %s",
			    signer_state_name(h->status.state),
			    h->status.detail);
		goto done;
	}
	if (pkcs11) {
		memset(&r, 0, sizeof(r));
		r.type = IMSG_HSM_OP;
		p11_login_check(h, &r, &res);
		hsm_step_end(s, &t0, res.status == 0, "%s", res.msg);
		if (res.status != 0)
			goto done;
		hsm_res_clear(&res);

		s = hsm_step(&cc, "mechanisms");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = p11_mechs_report(p->mechs, p->nmechs, buf,
		    sizeof(buf)) == 0;
		hsm_step_end(s, &t0, ok, "%s", buf);
		if (!ok)
			goto done;
	} else
		hsm_step_end(s, &t0, 1, "%s", h->status.detail);

	/* A throwaway key pair, made, used and destroyed. */
	kind = hsm_ident_kind(h);
	s = hsm_step(&cc, "generate");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.type = IMSG_HSM_GENERATE;
	(void)strlcpy(r.id, HSM_CHECK_ID, sizeof(r.id));
	(void)strlcpy(r.label, HSM_CHECK_ID, sizeof(r.label));
	(void)strlcpy(r.pub_label, HSM_CHECK_ID, sizeof(r.pub_label));
	r.kind = kind;
	r.bits = kind == HSM_KEY_RSA ? 2048 : 256;
	h->be->generate(h, &r, &gen);
	if (gen.status == 0 && (gen.len[0] == 0 || gen.len[1] == 0))
		(void)hsm_res_error(&gen, KMIP_REASON_GENERAL_FAILURE,
		    "no key or no public key");
	hsm_step_end(s, &t0, gen.status == 0, "%s%s",
	    gen.status == 0 ? hsm_kind_name(kind) : "", gen.status == 0 ?
	    " key pair" : gen.msg);
	if (gen.status != 0)
		goto done;

	s = hsm_step(&cc, "sign");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.type = IMSG_HSM_OP;
	(void)strlcpy(r.id, HSM_CHECK_ID, sizeof(r.id));
	r.op = HSM_OP_SIGN;
	r.kind = kind;
	r.hash = HSM_HASH_SHA256;
	r.padding = kind == HSM_KEY_RSA ? HSM_PAD_PKCS1V15 : HSM_PAD_NONE;
	r.key = gen.out[0];
	r.len_key = gen.len[0];
	r.data = (const uint8_t *)HSM_CHECK_DATA;
	r.len_data = sizeof(HSM_CHECK_DATA) - 1;
	h->be->op(h, &r, &res);
	if (res.status == 0 && res.len[0] == 0)
		(void)hsm_res_error(&res, KMIP_REASON_GENERAL_FAILURE,
		    "empty signature");
	hsm_step_end(s, &t0, res.status == 0, "%s", res.status == 0 ?
	    "SHA-256" : res.msg);

	if (res.status == 0) {
		s = hsm_step(&cc, "verify");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = hsm_verify(gen.out[1], gen.len[1], r.data, r.len_data,
		    res.out[0], res.len[0], buf, sizeof(buf)) == 0;
		hsm_step_end(s, &t0, ok, "%s", ok ? "with the public key, "
		    "in software" : buf);
	}
	hsm_res_clear(&res);

	/* Whatever happened above, nothing the test made stays. */
	s = hsm_step(&cc, "destroy");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!pkcs11) {
		hsm_step_end(s, &t0, 1, "the wrapped key is dropped: nothing "
		    "is kept");
		goto done;
	}
	memset(&r, 0, sizeof(r));
	r.type = IMSG_HSM_OP;
	(void)strlcpy(r.id, HSM_CHECK_ID, sizeof(r.id));
	r.op = HSM_OP_DESTROY;
	r.kind = kind;
	r.key = gen.out[0];
	r.len_key = gen.len[0];
	h->be->op(h, &r, &res);
	ok = res.status == 0;
	(void)strlcpy(buf, res.msg, sizeof(buf));
	hsm_res_clear(&res);
	memset(&res, 0, sizeof(res));
	r.op = HSM_OP_DESTROY_PUBLIC;
	r.key = gen.out[1];
	r.len_key = gen.len[1];
	h->be->op(h, &r, &res);
	if (ok && res.status != 0)
		(void)strlcpy(buf, res.msg, sizeof(buf));
	ok = ok && res.status == 0;
	hsm_step_end(s, &t0, ok, "%s", ok ? "both halves" : buf);
	hsm_res_clear(&res);
 done:
	hsm_res_clear(&res);
	hsm_res_clear(&gen);
	if (iev->active)
		imsg_compose_event(iev, IMSG_HSM_CHECK, imsg_get_id(imsg), 0,
		    -1, &cc, sizeof(cc));
}
