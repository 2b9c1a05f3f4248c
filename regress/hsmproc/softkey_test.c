/*
 * The openssl signer: key generation and import, the wrapped-blob format
 * and what it is bound to, every operation checked against OpenSSL used
 * directly, refused parameters, the key cache, the request parser and a
 * round trip through the real imsg channel.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <event.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "log.h"
#include "hsmproc.h"
#include "softkey.h"

struct tkey {
	char		 id[HSM_ID_MAX];
	uint32_t	 kind;
	uint8_t		*blob;
	size_t		 blen;
	uint8_t		*spki;
	size_t		 slen;
};

/* A signer child's side (hsm_request) and an engine's side. */
struct chan {
	int		 sv[2];
	struct imsgbuf	 engine;
	struct hsm	 h;
};

static const uint8_t	 msg[] = "the quick brown fox signs the lazy dog";

#include "../atfsan.h"
static struct softkey *sk_open(int, size_t);
static void	 tkey_gen(struct softkey *, struct tkey *, const char *,
		    uint32_t, uint32_t);
static void	 tkey_free(struct tkey *);
static void	 req_init(struct hsm_req *, const struct tkey *, uint32_t,
		    uint32_t, uint32_t);
static int	 do_op(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static EVP_PKEY	*spki_parse(const uint8_t *, size_t);
static int	 indep_verify(const struct tkey *, uint32_t, uint32_t,
		    const uint8_t *, size_t, const uint8_t *, size_t);
static void	 sign_verify(struct softkey *, const struct tkey *, uint32_t,
		    uint32_t);
static size_t	 op_payload(uint8_t *, size_t, const struct hsm_op *,
		    const uint8_t *, size_t);
static const char *md_name(uint32_t);
static void	 dummy_handler(int, short, void *);
static int	 read_one(struct imsgbuf *, struct imsg *);
static void	 chan_open(struct chan *, const struct hsm_backend *);
static void	 chan_close(struct chan *);
static void	 chan_roundtrip(struct chan *, uint32_t, uint32_t,
		    const struct iovec *, int, struct imsg *);
static void	 result_get(struct imsg *, struct hsm_result *, uint8_t **);

/* hsmproc.c is not linked: its status setter, as the backends see it. */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
	va_list	 ap;

	h->status.state = state;
	va_start(ap, fmt);
	(void)vsnprintf(h->status.detail, sizeof(h->status.detail), fmt, ap);
	va_end(ap);
}

/* ... and its retry timer. */
void
hsm_retry_soon(struct hsm *h)
{
}

static struct softkey *
sk_open(int fill, size_t maxkeys)
{
	struct softkey	*sk;
	uint8_t		 kek[SK_KEK_LEN];

	memset(kek, fill, sizeof(kek));
	ATF_REQUIRE((sk = sw_new(kek, maxkeys)) != NULL);
	return (sk);
}

static void
tkey_gen(struct softkey *sk, struct tkey *k, const char *id, uint32_t kind,
    uint32_t bits)
{
	struct hsm_req	 req;
	struct hsm_res	 res;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.type = IMSG_HSM_GENERATE;
	(void)strlcpy(req.id, id, sizeof(req.id));
	req.kind = kind;
	req.bits = bits;
	ATF_REQUIRE_EQ_MSG(sw_generate(sk, &req, &res), 0, "%s %u: %s",
	    hsm_kind_name(kind), bits, res.msg);
	ATF_REQUIRE(res.len[0] > SK_BLOB_OVERHEAD);
	memset(k, 0, sizeof(*k));
	(void)strlcpy(k->id, id, sizeof(k->id));
	k->kind = kind;
	k->blob = res.out[0];
	k->blen = res.len[0];
	k->spki = res.out[1];
	k->slen = res.len[1];
	/* out3: the SHA-256 of the key in the clear, for its Digest. */
	ATF_REQUIRE(res.out[2] != NULL && res.len[2] == 32);
	free(res.out[2]);
}

static void
tkey_free(struct tkey *k)
{
	free(k->blob);
	free(k->spki);
	memset(k, 0, sizeof(*k));
}

/* An operation on k: the blob, or the SPKI for verify and encrypt. */
static void
req_init(struct hsm_req *r, const struct tkey *k, uint32_t op,
    uint32_t padding, uint32_t hash)
{
	int	 pub;

	memset(r, 0, sizeof(*r));
	r->type = IMSG_HSM_OP;
	(void)strlcpy(r->id, k->id, sizeof(r->id));
	r->op = op;
	r->kind = k->kind;
	r->padding = padding;
	r->hash = hash;
	pub = op == HSM_OP_VERIFY || (op == HSM_OP_ENCRYPT &&
	    k->kind == HSM_KEY_RSA);
	r->key = pub ? k->spki : k->blob;
	r->len_key = pub ? k->slen : k->blen;
	r->data = msg;
	r->len_data = sizeof(msg);
}

static int
do_op(struct softkey *sk, const struct hsm_req *r, struct hsm_res *res)
{
	memset(res, 0, sizeof(*res));
	return (sw_op(sk, r, res));
}

static EVP_PKEY *
spki_parse(const uint8_t *der, size_t len)
{
	const unsigned char	*p = der;
	EVP_PKEY		*pkey;

	pkey = d2i_PUBKEY(NULL, &p, len);
	ATF_REQUIRE(pkey != NULL && p == der + len);
	return (pkey);
}

static const char *
md_name(uint32_t hash)
{
	switch (hash) {
	case HSM_HASH_SHA256:
		return ("SHA256");
	case HSM_HASH_SHA384:
		return ("SHA384");
	case HSM_HASH_SHA512:
		return ("SHA512");
	}
	return (NULL);
}

/* Verify with OpenSSL alone, on the SPKI the signer gave out. */
static int
indep_verify(const struct tkey *k, uint32_t padding, uint32_t hash,
    const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*mctx;
	EVP_PKEY_CTX	*pctx = NULL;
	EVP_PKEY	*pkey = spki_parse(k->spki, k->slen);
	int		 rv;

	ATF_REQUIRE((mctx = EVP_MD_CTX_new()) != NULL);
	ATF_REQUIRE(EVP_DigestVerifyInit_ex(mctx, &pctx, md_name(hash), NULL,
	    NULL, pkey, NULL) == 1);
	if (padding == HSM_PAD_PSS) {
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) > 0);
		/* The salt must be exactly the hash length. */
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) > 0);
	} else if (padding == HSM_PAD_PKCS1V15)
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) > 0);
	rv = EVP_DigestVerify(mctx, sig, siglen, data, len);
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return (rv == 1);
}

/* Sign, verify both ways, and see a changed message fail. */
static void
sign_verify(struct softkey *sk, const struct tkey *k, uint32_t padding,
    uint32_t hash)
{
	struct hsm_req	 r;
	struct hsm_res	 s, v;
	uint8_t		 junk[16];

	req_init(&r, k, HSM_OP_SIGN, padding, hash);
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &s), 0, "%s: %s",
	    hsm_kind_name(k->kind), s.msg);
	ATF_REQUIRE(s.len[0] > 0 && s.out[1] == NULL);
	ATF_REQUIRE_MSG(indep_verify(k, padding, hash, msg, sizeof(msg),
	    s.out[0], s.len[0]), "%s pad %u hash %u: OpenSSL rejects it",
	    hsm_kind_name(k->kind), padding, hash);

	req_init(&r, k, HSM_OP_VERIFY, padding, hash);
	r.sig = s.out[0];
	r.len_sig = s.len[0];
	ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
	ATF_REQUIRE_EQ(v.valid, 1);
	r.len_data--;
	ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
	ATF_REQUIRE_EQ(v.valid, 0);
	ATF_REQUIRE(!indep_verify(k, padding, hash, msg, sizeof(msg) - 1,
	    s.out[0], s.len[0]));
	/* Garbage is an invalid signature, not an error. */
	memset(junk, 0x30, sizeof(junk));
	r.len_data++;
	r.sig = junk;
	r.len_sig = sizeof(junk);
	ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
	ATF_REQUIRE_EQ(v.valid, 0);
	r.sig = NULL;
	r.len_sig = 0;
	ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
	ATF_REQUIRE_EQ(v.valid, 0);
	hsm_res_clear(&s);
}

ATF_TC_WITHOUT_HEAD(generate_kinds);
ATF_TC_BODY(generate_kinds, tc)
{
	static const struct {
		uint32_t	 kind, bits;
		size_t		 rawlen;	/* 0: a key pair */
		const char	*type;
	} t[] = {
		{ HSM_KEY_AES, 128, 16, NULL },
		{ HSM_KEY_AES, 192, 24, NULL },
		{ HSM_KEY_AES, 256, 32, NULL },
		{ HSM_KEY_HMAC_SHA256, 256, 32, NULL },
		{ HSM_KEY_HMAC_SHA384, 128, 16, NULL },
		{ HSM_KEY_HMAC_SHA512, 512, 64, NULL },
		{ HSM_KEY_SECRET, 8, 1, NULL },
		{ HSM_KEY_SECRET, 4096, 512, NULL },
		{ HSM_KEY_RSA, 2048, 0, "RSA" },
		{ HSM_KEY_RSA, 3072, 0, "RSA" },
		{ HSM_KEY_EC_P256, 0, 0, "EC" },
		{ HSM_KEY_EC_P384, 0, 0, "EC" },
		{ HSM_KEY_EC_P521, 0, 0, "EC" },
		{ HSM_KEY_ED25519, 0, 0, "ED25519" },
	};
	struct softkey	*sk = sk_open(1, 0);
	struct tkey	 k;
	EVP_PKEY	*pub;
	uint8_t		*pt;
	size_t		 i, ptlen;
	char		 id[32];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)snprintf(id, sizeof(id), "key-%zu", i);
		tkey_gen(sk, &k, id, t[i].kind, t[i].bits);
		ATF_REQUIRE_EQ(k.blob[0], SK_BLOB_VERSION);
		ATF_REQUIRE(sw_unwrap(sk, id, t[i].kind, k.blob, k.blen, &pt,
		    &ptlen) == 0);
		ATF_REQUIRE_EQ(k.blen, ptlen + SK_BLOB_OVERHEAD);
		if (t[i].rawlen != 0) {
			ATF_REQUIRE_EQ(ptlen, t[i].rawlen);
			ATF_REQUIRE(k.spki == NULL && k.slen == 0);
		} else {
			/* PKCS#8 inside, SPKI outside, of one key. */
			const unsigned char	*p = pt;
			PKCS8_PRIV_KEY_INFO	*p8;
			EVP_PKEY		*priv;

			ATF_REQUIRE((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p,
			    ptlen)) != NULL);
			ATF_REQUIRE((priv = EVP_PKCS82PKEY(p8)) != NULL);
			pub = spki_parse(k.spki, k.slen);
			ATF_REQUIRE(EVP_PKEY_is_a(pub, t[i].type));
			ATF_REQUIRE_EQ(EVP_PKEY_eq(priv, pub), 1);
			if (t[i].kind == HSM_KEY_RSA)
				ATF_REQUIRE_EQ(EVP_PKEY_get_bits(pub),
				    (int)t[i].bits);
			EVP_PKEY_free(pub);
			EVP_PKEY_free(priv);
			PKCS8_PRIV_KEY_INFO_free(p8);
		}
		freezero(pt, ptlen);
		tkey_free(&k);
	}
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(generate_refused);
ATF_TC_BODY(generate_refused, tc)
{
	static const struct {
		uint32_t	 kind, bits;
	} t[] = {
		{ HSM_KEY_AES, 0 }, { HSM_KEY_AES, 64 }, { HSM_KEY_AES, 512 },
		{ HSM_KEY_HMAC_SHA256, 64 }, { HSM_KEY_HMAC_SHA256, 520 },
		{ HSM_KEY_HMAC_SHA512, 130 },
		{ HSM_KEY_RSA, 1024 }, { HSM_KEY_RSA, 2047 },
		{ HSM_KEY_RSA, 2560 }, { HSM_KEY_RSA, 8192 },
		{ HSM_KEY_SECRET, 0 }, { HSM_KEY_SECRET, 12 },
		{ HSM_KEY_SECRET, 8 * HSM_DATA_MAX },
		{ 0, 256 }, { HSM_KEY_SECRET + 1, 256 },
	};
	struct softkey	*sk = sk_open(1, 0);
	struct hsm_req	 req;
	struct hsm_res	 res;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&req, 0, sizeof(req));
		memset(&res, 0, sizeof(res));
		(void)strlcpy(req.id, "x", sizeof(req.id));
		req.kind = t[i].kind;
		req.bits = t[i].bits;
		ATF_REQUIRE_EQ_MSG(sw_generate(sk, &req, &res),
		    KMIP_REASON_INVALID_FIELD, "kind %u bits %u", t[i].kind,
		    t[i].bits);
		ATF_REQUIRE(res.msg[0] != '\0' && res.out[0] == NULL);
	}
	ATF_REQUIRE(strstr(res.msg, "unknown key kind") != NULL);
	/* No id, nothing to bind the blob to. */
	memset(&req, 0, sizeof(req));
	req.kind = HSM_KEY_AES;
	req.bits = 256;
	ATF_REQUIRE_EQ(sw_generate(sk, &req, &res), KMIP_REASON_INVALID_FIELD);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(wrap_roundtrip);
ATF_TC_BODY(wrap_roundtrip, tc)
{
	struct softkey	*sk = sk_open(2, 0);
	uint8_t		 key[100], *blob, *pt, *blob2;
	size_t		 blen, ptlen, blen2;

	memset(key, 0xa5, sizeof(key));
	ATF_REQUIRE(sw_wrap(sk, "obj-1", HSM_KEY_SECRET, key, sizeof(key),
	    &blob, &blen) == 0);
	ATF_REQUIRE_EQ(blen, 1 + 12 + sizeof(key) + 16);
	ATF_REQUIRE_EQ(blob[0], 1);
	/* Encrypted: the key does not show. */
	ATF_REQUIRE(memmem(blob, blen, key, 8) == NULL);
	ATF_REQUIRE(sw_unwrap(sk, "obj-1", HSM_KEY_SECRET, blob, blen, &pt,
	    &ptlen) == 0);
	ATF_REQUIRE_EQ(ptlen, sizeof(key));
	ATF_REQUIRE(memcmp(pt, key, ptlen) == 0);
	freezero(pt, ptlen);
	/* A fresh nonce each time. */
	ATF_REQUIRE(sw_wrap(sk, "obj-1", HSM_KEY_SECRET, key, sizeof(key),
	    &blob2, &blen2) == 0);
	ATF_REQUIRE(blen2 == blen && memcmp(blob + 1, blob2 + 1, 12) != 0);
	/* Nothing to wrap is refused. */
	ATF_REQUIRE(sw_wrap(sk, "obj-1", HSM_KEY_SECRET, key, 0, &pt,
	    &ptlen) == -1);
	free(blob);
	free(blob2);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(wrap_bound_to_id);
ATF_TC_BODY(wrap_bound_to_id, tc)
{
	struct softkey	*sk = sk_open(2, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 res;
	uint8_t		*pt;
	size_t		 ptlen;

	tkey_gen(sk, &k, "obj-a", HSM_KEY_HMAC_SHA256, 256);
	ATF_REQUIRE(sw_unwrap(sk, "obj-b", k.kind, k.blob, k.blen, &pt,
	    &ptlen) == -1 && pt == NULL);
	ATF_REQUIRE(sw_unwrap(sk, "obj-a ", k.kind, k.blob, k.blen, &pt,
	    &ptlen) == -1);
	ATF_REQUIRE(sw_unwrap(sk, "obj-", k.kind, k.blob, k.blen, &pt,
	    &ptlen) == -1);
	ATF_REQUIRE(sw_unwrap(sk, "obj-a", HSM_KEY_HMAC_SHA512, k.blob,
	    k.blen, &pt, &ptlen) == -1);
	ATF_REQUIRE(sw_unwrap(sk, "obj-a", k.kind, k.blob, k.blen, &pt,
	    &ptlen) == 0);
	freezero(pt, ptlen);

	/* Through an operation: the blob given for another object. */
	req_init(&r, &k, HSM_OP_MAC, 0, 0);
	(void)strlcpy(r.id, "obj-b", sizeof(r.id));
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
	ATF_REQUIRE(strstr(res.msg, "does not unwrap") != NULL);
	tkey_free(&k);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(wrap_tampered);
ATF_TC_BODY(wrap_tampered, tc)
{
	struct softkey	*sk = sk_open(3, 0);
	uint8_t		 key[32], *blob, *pt;
	size_t		 blen, ptlen, i;

	memset(key, 0x5a, sizeof(key));
	ATF_REQUIRE(sw_wrap(sk, "t", HSM_KEY_AES, key, sizeof(key), &blob,
	    &blen) == 0);
	/* Every byte: version, nonce, ciphertext, tag. */
	for (i = 0; i < blen; i++) {
		blob[i] ^= 0x01;
		ATF_REQUIRE_MSG(sw_unwrap(sk, "t", HSM_KEY_AES, blob, blen, &pt,
		    &ptlen) == -1, "byte %zu flipped still unwraps", i);
		blob[i] ^= 0x01;
	}
	for (i = 0; i < blen; i++)
		ATF_REQUIRE(sw_unwrap(sk, "t", HSM_KEY_AES, blob, i, &pt,
		    &ptlen) == -1);
	ATF_REQUIRE(sw_unwrap(sk, "t", HSM_KEY_AES, blob, blen, &pt,
	    &ptlen) == 0);
	freezero(pt, ptlen);
	free(blob);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(wrap_wrong_kek);
ATF_TC_BODY(wrap_wrong_kek, tc)
{
	struct softkey	*sk = sk_open(4, 0), *other = sk_open(5, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 res;
	uint8_t		*pt;
	size_t		 ptlen;

	tkey_gen(sk, &k, "w", HSM_KEY_EC_P256, 0);
	ATF_REQUIRE(sw_unwrap(other, "w", k.kind, k.blob, k.blen, &pt,
	    &ptlen) == -1);
	req_init(&r, &k, HSM_OP_SIGN, 0, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(other, &r, &res),
	    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), 0);
	hsm_res_clear(&res);
	tkey_free(&k);
	sw_free(sk);
	sw_free(other);
}

ATF_TC_WITHOUT_HEAD(sign_rsa);
ATF_TC_BODY(sign_rsa, tc)
{
	struct softkey	*sk = sk_open(6, 0);
	struct tkey	 k;
	uint32_t	 hash;

	tkey_gen(sk, &k, "rsa", HSM_KEY_RSA, 2048);
	for (hash = HSM_HASH_SHA256; hash <= HSM_HASH_SHA512; hash++) {
		sign_verify(sk, &k, HSM_PAD_PKCS1V15, hash);
		sign_verify(sk, &k, HSM_PAD_PSS, hash);
	}
	tkey_free(&k);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(sign_ecdsa);
ATF_TC_BODY(sign_ecdsa, tc)
{
	struct softkey	*sk = sk_open(7, 0);
	struct tkey	 k;
	uint32_t	 kind, hash;

	for (kind = HSM_KEY_EC_P256; kind <= HSM_KEY_EC_P521; kind++) {
		tkey_gen(sk, &k, "ec", kind, 0);
		for (hash = HSM_HASH_SHA256; hash <= HSM_HASH_SHA512; hash++)
			sign_verify(sk, &k, HSM_PAD_NONE, hash);
		tkey_free(&k);
	}
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(sign_ed25519);
ATF_TC_BODY(sign_ed25519, tc)
{
	struct softkey	*sk = sk_open(8, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 res;

	tkey_gen(sk, &k, "ed", HSM_KEY_ED25519, 0);
	sign_verify(sk, &k, HSM_PAD_NONE, HSM_HASH_NONE);
	req_init(&r, &k, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(res.msg, "Ed25519") != NULL);
	req_init(&r, &k, HSM_OP_VERIFY, HSM_PAD_NONE, HSM_HASH_SHA512);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	tkey_free(&k);
	sw_free(sk);
}

/*
 * A digest the client made (HSM_OPF_PREHASHED) signs as the whole message
 * does: the same PKCS#1 v1.5 signature, PSS and ECDSA signatures that
 * verify as signatures of the message, with the salt asked for.  A
 * digest of the wrong length, SHA-1 and Ed25519 are refused.
 */
ATF_TC_WITHOUT_HEAD(sign_prehashed);
ATF_TC_BODY(sign_prehashed, tc)
{
	struct softkey	*sk = sk_open(12, 0);
	struct tkey	 rsa, ec, ed;
	struct hsm_req	 r;
	struct hsm_res	 s, w, v;
	uint8_t		 d[32];
	unsigned int	 dlen;

	ATF_REQUIRE(EVP_Digest(msg, sizeof(msg), d, &dlen, EVP_sha256(),
	    NULL) == 1 && dlen == sizeof(d));
	tkey_gen(sk, &rsa, "rsa", HSM_KEY_RSA, 2048);
	tkey_gen(sk, &ec, "ec", HSM_KEY_EC_P256, 0);
	tkey_gen(sk, &ed, "ed", HSM_KEY_ED25519, 0);

	req_init(&r, &rsa, HSM_OP_SIGN, HSM_PAD_PKCS1V15, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &w), 0);
	r.flags = HSM_OPF_PREHASHED;
	r.data = d;
	r.len_data = sizeof(d);
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &s), 0, "%s", s.msg);
	ATF_REQUIRE(s.len[0] == w.len[0] &&
	    memcmp(s.out[0], w.out[0], w.len[0]) == 0);
	/* Verify of the digest, and of a digest of something else. */
	req_init(&r, &rsa, HSM_OP_VERIFY, HSM_PAD_PKCS1V15, HSM_HASH_SHA256);
	r.flags = HSM_OPF_PREHASHED;
	r.data = d;
	r.len_data = sizeof(d);
	r.sig = s.out[0];
	r.len_sig = s.len[0];
	ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
	ATF_REQUIRE_EQ(v.valid, 1);
	d[0] ^= 1;
	ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
	ATF_REQUIRE_EQ(v.valid, 0);
	d[0] ^= 1;
	hsm_res_clear(&s);
	hsm_res_clear(&w);

	/* PSS over the digest, default salt: a signature of msg. */
	req_init(&r, &rsa, HSM_OP_SIGN, HSM_PAD_PSS, HSM_HASH_SHA256);
	r.flags = HSM_OPF_PREHASHED;
	r.data = d;
	r.len_data = sizeof(d);
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &s), 0, "%s", s.msg);
	ATF_REQUIRE(indep_verify(&rsa, HSM_PAD_PSS, HSM_HASH_SHA256, msg,
	    sizeof(msg), s.out[0], s.len[0]));
	hsm_res_clear(&s);
	/* Salt of 0 bytes: deterministic, and not the default. */
	r.flags |= HSM_OPF_SALT_LEN;
	r.salt_len = 0;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), 0);
	ATF_REQUIRE_EQ(do_op(sk, &r, &w), 0);
	ATF_REQUIRE(s.len[0] == w.len[0] &&
	    memcmp(s.out[0], w.out[0], w.len[0]) == 0);
	ATF_REQUIRE(!indep_verify(&rsa, HSM_PAD_PSS, HSM_HASH_SHA256, msg,
	    sizeof(msg), s.out[0], s.len[0]));
	hsm_res_clear(&s);
	hsm_res_clear(&w);
	r.salt_len = HSM_SALT_MAX + 1;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);
	r.salt_len = 0;
	r.mgf_hash = 99;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);

	/* ECDSA over the digest. */
	req_init(&r, &ec, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_SHA256);
	r.flags = HSM_OPF_PREHASHED;
	r.data = d;
	r.len_data = sizeof(d);
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &s), 0, "%s", s.msg);
	ATF_REQUIRE(indep_verify(&ec, HSM_PAD_NONE, HSM_HASH_SHA256, msg,
	    sizeof(msg), s.out[0], s.len[0]));
	hsm_res_clear(&s);
	/* A digest one byte short, or as long as another hash's. */
	r.len_data = sizeof(d) - 1;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(s.msg, "SHA-256 digest is 32") != NULL);
	r.len_data = sizeof(d);
	r.hash = HSM_HASH_SHA384;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);
	r.hash = HSM_HASH_SHA1;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);
	/* SHA-1 signatures are not made, pre-hashed or not. */
	r.flags = 0;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);

	req_init(&r, &ed, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_NONE);
	r.flags = HSM_OPF_PREHASHED;
	ATF_REQUIRE_EQ(do_op(sk, &r, &s), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(s.msg, "Ed25519") != NULL);
	tkey_free(&rsa);
	tkey_free(&ec);
	tkey_free(&ed);
	sw_free(sk);
}

/* OAEP with SHA-1, and a label that must match. */
ATF_TC_WITHOUT_HEAD(oaep_params);
ATF_TC_BODY(oaep_params, tc)
{
	static const uint8_t	 label[] = "context";
	struct softkey		*sk = sk_open(13, 0);
	struct tkey		 rsa;
	struct hsm_req		 r;
	struct hsm_res		 e, d;
	uint32_t		 hash;

	tkey_gen(sk, &rsa, "rsa", HSM_KEY_RSA, 2048);
	for (hash = HSM_HASH_SHA256; hash <= HSM_HASH_SHA1; hash++) {
		req_init(&r, &rsa, HSM_OP_ENCRYPT, HSM_PAD_OAEP, hash);
		r.oaep_label = label;
		r.len_oaep_label = sizeof(label);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &e), 0, "%s", e.msg);
		req_init(&r, &rsa, HSM_OP_DECRYPT, HSM_PAD_OAEP, hash);
		r.data = e.out[0];
		r.len_data = e.len[0];
		r.oaep_label = label;
		r.len_oaep_label = sizeof(label);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &d), 0, "%s", d.msg);
		ATF_REQUIRE(d.len[0] == sizeof(msg) &&
		    memcmp(d.out[0], msg, sizeof(msg)) == 0);
		hsm_res_clear(&d);
		/* Another label, or none: no plaintext. */
		r.len_oaep_label--;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		r.len_oaep_label = 0;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		/* MGF1 with another hash than the encryption's. */
		r.mgf_hash = hash == HSM_HASH_SHA1 ? HSM_HASH_SHA256 :
		    HSM_HASH_SHA1;
		r.len_oaep_label = sizeof(label);
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		hsm_res_clear(&e);
	}
	tkey_free(&rsa);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(sign_refused);
ATF_TC_BODY(sign_refused, tc)
{
	struct softkey	*sk = sk_open(9, 0);
	struct tkey	 rsa, ec, aes;
	struct hsm_req	 r;
	struct hsm_res	 res;

	tkey_gen(sk, &rsa, "rsa", HSM_KEY_RSA, 2048);
	tkey_gen(sk, &ec, "ec", HSM_KEY_EC_P256, 0);
	tkey_gen(sk, &aes, "aes", HSM_KEY_AES, 256);
	req_init(&r, &rsa, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &rsa, HSM_OP_SIGN, HSM_PAD_OAEP, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &rsa, HSM_OP_SIGN, HSM_PAD_PSS, HSM_HASH_NONE);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &rsa, HSM_OP_SIGN, HSM_PAD_PSS, 17);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &ec, HSM_OP_SIGN, HSM_PAD_PSS, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &aes, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &ec, HSM_OP_ENCRYPT, HSM_PAD_NONE, HSM_HASH_NONE);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &ec, 99, HSM_PAD_NONE, HSM_HASH_NONE);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(res.msg, "unknown operation") != NULL);
	/* The blob of an EC key presented as an RSA key. */
	req_init(&r, &ec, HSM_OP_SIGN, HSM_PAD_PKCS1V15, HSM_HASH_SHA256);
	r.kind = HSM_KEY_RSA;
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
	/* An EC public key to verify an RSA signature. */
	req_init(&r, &ec, HSM_OP_VERIFY, HSM_PAD_PKCS1V15, HSM_HASH_SHA256);
	r.kind = HSM_KEY_RSA;
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &ec, HSM_OP_VERIFY, HSM_PAD_NONE, HSM_HASH_SHA256);
	r.len_key--;
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.len_key = 0;
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_MISSING_DATA);
	tkey_free(&rsa);
	tkey_free(&ec);
	tkey_free(&aes);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(aes_gcm);
ATF_TC_BODY(aes_gcm, tc)
{
	static const uint8_t aad[] = "header";
	struct softkey	*sk = sk_open(10, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 e, d;
	uint8_t		 iv[12];
	uint32_t	 bits;

	for (bits = 128; bits <= 256; bits += 64) {
		tkey_gen(sk, &k, "aes", HSM_KEY_AES, bits);
		req_init(&r, &k, HSM_OP_ENCRYPT, 0, 0);
		r.tag_len = 16;
		r.aad = aad;
		r.len_aad = sizeof(aad);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &e), 0, "%s", e.msg);
		ATF_REQUIRE_EQ(e.len[0], sizeof(msg));
		ATF_REQUIRE(memcmp(e.out[0], msg, sizeof(msg)) != 0);
		ATF_REQUIRE_EQ(e.len[1], 12);
		ATF_REQUIRE_EQ(e.len[2], 16);

		req_init(&r, &k, HSM_OP_DECRYPT, 0, 0);
		r.data = e.out[0];
		r.len_data = e.len[0];
		r.iv = e.out[1];
		r.len_iv = e.len[1];
		r.sig = e.out[2];
		r.len_sig = e.len[2];
		r.aad = aad;
		r.len_aad = sizeof(aad);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &d), 0, "%s", d.msg);
		ATF_REQUIRE_EQ(d.len[0], sizeof(msg));
		ATF_REQUIRE(memcmp(d.out[0], msg, sizeof(msg)) == 0);
		ATF_REQUIRE(d.out[1] == NULL && d.out[2] == NULL);
		hsm_res_clear(&d);

		/* One bit of the tag, the aad, the ciphertext. */
		e.out[2][5] ^= 0x10;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		ATF_REQUIRE_STREQ(d.msg, "authentication tag mismatch");
		ATF_REQUIRE(d.out[0] == NULL);
		e.out[2][5] ^= 0x10;
		r.len_aad--;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		r.len_aad++;
		e.out[0][0] ^= 1;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		e.out[0][0] ^= 1;
		/* The tag length given must be the one of the tag. */
		r.tag_len = 12;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d), KMIP_REASON_INVALID_FIELD);
		hsm_res_clear(&e);
		tkey_free(&k);
	}

	/* Our iv, a 12-byte tag, no aad, an empty message. */
	tkey_gen(sk, &k, "aes", HSM_KEY_AES, 256);
	memset(iv, 7, sizeof(iv));
	req_init(&r, &k, HSM_OP_ENCRYPT, 0, 0);
	r.iv = iv;
	r.len_iv = sizeof(iv);
	r.tag_len = 12;
	r.data = NULL;
	r.len_data = 0;
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &e), 0, "%s", e.msg);
	ATF_REQUIRE(e.len[0] == 0 && e.len[1] == 12 && e.len[2] == 12);
	ATF_REQUIRE(memcmp(e.out[1], iv, sizeof(iv)) == 0);
	req_init(&r, &k, HSM_OP_DECRYPT, 0, 0);
	r.data = NULL;
	r.len_data = 0;
	r.iv = iv;
	r.len_iv = sizeof(iv);
	r.sig = e.out[2];
	r.len_sig = e.len[2];
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &d), 0, "%s", d.msg);
	ATF_REQUIRE(d.len[0] == 0);
	hsm_res_clear(&e);

	/* Refused: tags of 8 and 17 bytes, an iv of 129, padding. */
	req_init(&r, &k, HSM_OP_ENCRYPT, 0, 0);
	r.tag_len = 8;
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(e.msg, "12 to 16") != NULL);
	r.tag_len = 17;
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	r.tag_len = 0;
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	r.tag_len = 16;
	r.iv = msg;
	r.len_iv = HSM_GCM_IV_MAX + 1;
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	r.len_iv = 0;
	r.padding = HSM_PAD_PKCS1V15;
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &k, HSM_OP_DECRYPT, 0, 0);
	r.iv = iv;
	r.len_iv = sizeof(iv);
	r.sig = msg;
	r.len_sig = 8;
	ATF_REQUIRE_EQ(do_op(sk, &r, &d), KMIP_REASON_INVALID_FIELD);
	tkey_free(&k);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(rsa_encrypt);
ATF_TC_BODY(rsa_encrypt, tc)
{
	static const struct {
		uint32_t	 pad, hash;
	} t[] = {
		{ HSM_PAD_OAEP, HSM_HASH_NONE },
		{ HSM_PAD_OAEP, HSM_HASH_SHA256 },
		{ HSM_PAD_OAEP, HSM_HASH_SHA512 },
		{ HSM_PAD_PKCS1V15, HSM_HASH_NONE },
	};
	struct softkey	*sk = sk_open(11, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 e, d;
	EVP_PKEY	*pub;
	EVP_PKEY_CTX	*pctx;
	uint8_t		 ct[256];
	size_t		 i, ctlen;

	tkey_gen(sk, &k, "rsa", HSM_KEY_RSA, 2048);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		req_init(&r, &k, HSM_OP_ENCRYPT, t[i].pad, t[i].hash);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &e), 0, "%s", e.msg);
		ATF_REQUIRE_EQ(e.len[0], 256);
		req_init(&r, &k, HSM_OP_DECRYPT, t[i].pad, t[i].hash);
		r.data = e.out[0];
		r.len_data = e.len[0];
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &d), 0, "%s", d.msg);
		ATF_REQUIRE(d.len[0] == sizeof(msg) &&
		    memcmp(d.out[0], msg, sizeof(msg)) == 0);
		hsm_res_clear(&d);
		/* Damaged: a failure that says nothing more. */
		e.out[0][100] ^= 1;
		ATF_REQUIRE_EQ(do_op(sk, &r, &d),
		    KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
		ATF_REQUIRE_STREQ(d.msg, "RSA decryption failed");
		hsm_res_clear(&e);
	}

	/* OpenSSL encrypts (OAEP, SHA-256 and MGF1 SHA-256), we decrypt. */
	pub = spki_parse(k.spki, k.slen);
	ATF_REQUIRE((pctx = EVP_PKEY_CTX_new(pub, NULL)) != NULL);
	ATF_REQUIRE(EVP_PKEY_encrypt_init(pctx) == 1);
	ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_OAEP_PADDING) > 0);
	ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, "SHA256",
	    NULL) > 0);
	ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256",
	    NULL) > 0);
	ctlen = sizeof(ct);
	ATF_REQUIRE(EVP_PKEY_encrypt(pctx, ct, &ctlen, msg,
	    sizeof(msg)) == 1);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pub);
	req_init(&r, &k, HSM_OP_DECRYPT, HSM_PAD_OAEP, HSM_HASH_NONE);
	r.data = ct;
	r.len_data = ctlen;
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &d), 0, "%s", d.msg);
	ATF_REQUIRE(d.len[0] == sizeof(msg) &&
	    memcmp(d.out[0], msg, sizeof(msg)) == 0);
	hsm_res_clear(&d);

	/* No padding, PSS: refused; too long for the key: failure. */
	req_init(&r, &k, HSM_OP_ENCRYPT, HSM_PAD_NONE, HSM_HASH_NONE);
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &k, HSM_OP_ENCRYPT, HSM_PAD_PSS, HSM_HASH_NONE);
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_INVALID_FIELD);
	req_init(&r, &k, HSM_OP_ENCRYPT, HSM_PAD_OAEP, HSM_HASH_NONE);
	r.data = ct;
	r.len_data = 250;
	ATF_REQUIRE_EQ(do_op(sk, &r, &e), KMIP_REASON_CRYPTOGRAPHIC_FAILURE);
	tkey_free(&k);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(hmac);
ATF_TC_BODY(hmac, tc)
{
	static const char *md[] = { "SHA256", "SHA384", "SHA512" };
	struct softkey	*sk = sk_open(12, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 m, v;
	uint8_t		*key, want[64];
	size_t		 keylen, wantlen, i;

	for (i = 0; i < 3; i++) {
		tkey_gen(sk, &k, "mac", HSM_KEY_HMAC_SHA256 + i, 256);
		req_init(&r, &k, HSM_OP_MAC, 0, 0);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &m), 0, "%s", m.msg);
		ATF_REQUIRE(sw_unwrap(sk, "mac", k.kind, k.blob, k.blen, &key,
		    &keylen) == 0);
		ATF_REQUIRE(EVP_Q_mac(NULL, "HMAC", NULL, md[i], NULL, key,
		    keylen, msg, sizeof(msg), want, sizeof(want),
		    &wantlen) != NULL);
		freezero(key, keylen);
		ATF_REQUIRE(m.len[0] == wantlen &&
		    memcmp(m.out[0], want, wantlen) == 0);

		req_init(&r, &k, HSM_OP_MAC_VERIFY, 0, 0);
		r.sig = m.out[0];
		r.len_sig = m.len[0];
		ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
		ATF_REQUIRE_EQ(v.valid, 1);
		m.out[0][3] ^= 0x80;
		ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
		ATF_REQUIRE_EQ(v.valid, 0);
		m.out[0][3] ^= 0x80;
		r.len_sig--;
		ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
		ATF_REQUIRE_EQ(v.valid, 0);
		/* The kind gives the hash; another one is refused. */
		r.hash = HSM_HASH_SHA256 + (i + 1) % 3;
		ATF_REQUIRE_EQ(do_op(sk, &r, &v), KMIP_REASON_INVALID_FIELD);
		r.hash = HSM_HASH_SHA256 + i;
		r.len_sig++;
		ATF_REQUIRE_EQ(do_op(sk, &r, &v), 0);
		ATF_REQUIRE_EQ(v.valid, 1);
		hsm_res_clear(&m);
		tkey_free(&k);
	}
	sw_free(sk);
}

/*
 * Export gives the raw bytes of symmetric keys and secret data, and
 * refuses every private key kind whatever the engine asks.
 */
ATF_TC_WITHOUT_HEAD(export);
ATF_TC_BODY(export, tc)
{
	static const uint32_t kinds[] = { HSM_KEY_AES, HSM_KEY_HMAC_SHA384,
	    HSM_KEY_SECRET };
	static const uint32_t privs[] = { HSM_KEY_RSA, HSM_KEY_EC_P256,
	    HSM_KEY_ED25519 };
	struct softkey	*sk = sk_open(21, 0);
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 res;
	uint8_t		*key;
	size_t		 keylen, i;

	for (i = 0; i < 3; i++) {
		tkey_gen(sk, &k, "exp", kinds[i], 256);
		req_init(&r, &k, HSM_OP_EXPORT, 0, 0);
		ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &res), 0, "%s", res.msg);
		ATF_REQUIRE(sw_unwrap(sk, "exp", k.kind, k.blob, k.blen, &key,
		    &keylen) == 0);
		ATF_REQUIRE(res.len[0] == keylen &&
		    memcmp(res.out[0], key, keylen) == 0);
		freezero(key, keylen);
		hsm_res_clear(&res);
		tkey_free(&k);
	}
	for (i = 0; i < 3; i++) {
		tkey_gen(sk, &k, "priv", privs[i], 2048);
		req_init(&r, &k, HSM_OP_EXPORT, 0, 0);
		ATF_REQUIRE_EQ(do_op(sk, &r, &res),
		    KMIP_REASON_PERMISSION_DENIED);
		ATF_REQUIRE(res.out[0] == NULL);
		hsm_res_clear(&res);
		tkey_free(&k);
	}
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(import_aes);
ATF_TC_BODY(import_aes, tc)
{
	struct softkey	*sk = sk_open(13, 0);
	struct hsm_req	 r;
	struct hsm_res	 res, e;
	struct tkey	 k;
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 key[33], pt[sizeof(msg)];
	int		 n;

	memset(key, 0x42, sizeof(key));
	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.type = IMSG_HSM_IMPORT;
	(void)strlcpy(r.id, "imp", sizeof(r.id));
	r.kind = HSM_KEY_AES;
	r.key = key;
	r.len_key = 32;
	ATF_REQUIRE_EQ_MSG(sw_import(sk, &r, &res), 0, "%s", res.msg);
	ATF_REQUIRE(res.len[0] == 32 + SK_BLOB_OVERHEAD && res.out[1] == NULL);
	memset(&k, 0, sizeof(k));
	(void)strlcpy(k.id, "imp", sizeof(k.id));
	k.kind = HSM_KEY_AES;
	k.blob = res.out[0];
	k.blen = res.len[0];

	/* What we encrypt, OpenSSL decrypts with the key imported. */
	req_init(&r, &k, HSM_OP_ENCRYPT, 0, 0);
	r.tag_len = 16;
	ATF_REQUIRE_EQ_MSG(do_op(sk, &r, &e), 0, "%s", e.msg);
	ATF_REQUIRE((ctx = EVP_CIPHER_CTX_new()) != NULL);
	ATF_REQUIRE(EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key,
	    e.out[1], NULL) == 1);
	ATF_REQUIRE(EVP_DecryptUpdate(ctx, pt, &n, e.out[0], e.len[0]) == 1);
	ATF_REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
	    e.out[2]) == 1);
	ATF_REQUIRE(EVP_DecryptFinal_ex(ctx, pt + n, &n) == 1);
	EVP_CIPHER_CTX_free(ctx);
	ATF_REQUIRE(memcmp(pt, msg, sizeof(msg)) == 0);
	hsm_res_clear(&e);
	hsm_res_clear(&res);

	/* Lengths: AES 16/24/32 only, HMAC at least 16, none empty. */
	r.type = IMSG_HSM_IMPORT;
	r.op = 0;
	r.key = key;
	r.len_key = 33;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.len_key = 15;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.kind = HSM_KEY_HMAC_SHA256;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.len_key = 16;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), 0);
	hsm_res_clear(&res);
	r.kind = HSM_KEY_SECRET;
	r.len_key = 0;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_MISSING_DATA);
	r.len_key = 1;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), 0);
	hsm_res_clear(&res);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(import_pkcs8);
ATF_TC_BODY(import_pkcs8, tc)
{
	struct softkey		*sk = sk_open(14, 0);
	struct hsm_req		 r;
	struct hsm_res		 res;
	struct tkey		 k;
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*rsa, *small, *ec;
	unsigned char		*der = NULL, *spki = NULL;
	int			 len, slen;

	ATF_REQUIRE((rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048)) != NULL);
	ATF_REQUIRE((p8 = EVP_PKEY2PKCS8(rsa)) != NULL);
	ATF_REQUIRE((len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) > 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ATF_REQUIRE((slen = i2d_PUBKEY(rsa, &spki)) > 0);

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.type = IMSG_HSM_IMPORT;
	(void)strlcpy(r.id, "imported-rsa", sizeof(r.id));
	r.kind = HSM_KEY_RSA;
	r.format = HSM_FMT_PKCS8;
	r.key = der;
	r.len_key = len;
	ATF_REQUIRE_EQ_MSG(sw_import(sk, &r, &res), 0, "%s", res.msg);
	/* The public half comes back. */
	ATF_REQUIRE(res.len[1] == (size_t)slen &&
	    memcmp(res.out[1], spki, slen) == 0);
	memset(&k, 0, sizeof(k));
	(void)strlcpy(k.id, r.id, sizeof(k.id));
	k.kind = HSM_KEY_RSA;
	k.blob = res.out[0];
	k.blen = res.len[0];
	k.spki = res.out[1];
	k.slen = res.len[1];
	sign_verify(sk, &k, HSM_PAD_PSS, HSM_HASH_SHA256);
	hsm_res_clear(&res);

	/* Not the kind said, not PKCS#8, trailing bytes, too small. */
	r.kind = HSM_KEY_EC_P256;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.kind = HSM_KEY_RSA;
	r.len_key = len - 1;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.key = msg;
	r.len_key = sizeof(msg);
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(res.msg, "PKCS#8") != NULL);
	OPENSSL_clear_free(der, len);
	der = NULL;

	ATF_REQUIRE((small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024)) != NULL);
	ATF_REQUIRE((p8 = EVP_PKEY2PKCS8(small)) != NULL);
	ATF_REQUIRE((len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) > 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	r.key = der;
	r.len_key = len;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(strstr(res.msg, "1024") != NULL);
	OPENSSL_clear_free(der, len);
	der = NULL;

	/* An EC key imported as P-256 signs as P-256. */
	ATF_REQUIRE((ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256")) != NULL);
	ATF_REQUIRE((p8 = EVP_PKEY2PKCS8(ec)) != NULL);
	ATF_REQUIRE((len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) > 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	r.key = der;
	r.len_key = len;
	r.kind = HSM_KEY_EC_P384;
	ATF_REQUIRE_EQ(sw_import(sk, &r, &res), KMIP_REASON_INVALID_FIELD);
	r.kind = HSM_KEY_EC_P256;
	(void)strlcpy(r.id, "imported-ec", sizeof(r.id));
	ATF_REQUIRE_EQ_MSG(sw_import(sk, &r, &res), 0, "%s", res.msg);
	(void)strlcpy(k.id, r.id, sizeof(k.id));
	k.kind = HSM_KEY_EC_P256;
	k.blob = res.out[0];
	k.blen = res.len[0];
	k.spki = res.out[1];
	k.slen = res.len[1];
	sign_verify(sk, &k, HSM_PAD_NONE, HSM_HASH_SHA384);
	hsm_res_clear(&res);
	OPENSSL_clear_free(der, len);
	der = NULL;
	EVP_PKEY_free(ec);

	/* Ed25519 likewise. */
	ATF_REQUIRE((ec = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	ATF_REQUIRE((p8 = EVP_PKEY2PKCS8(ec)) != NULL);
	ATF_REQUIRE((len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) > 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	r.key = der;
	r.len_key = len;
	r.kind = HSM_KEY_ED25519;
	(void)strlcpy(r.id, "imported-ed", sizeof(r.id));
	ATF_REQUIRE_EQ_MSG(sw_import(sk, &r, &res), 0, "%s", res.msg);
	(void)strlcpy(k.id, r.id, sizeof(k.id));
	k.kind = HSM_KEY_ED25519;
	k.blob = res.out[0];
	k.blen = res.len[0];
	k.spki = res.out[1];
	k.slen = res.len[1];
	sign_verify(sk, &k, HSM_PAD_NONE, HSM_HASH_NONE);
	hsm_res_clear(&res);
	OPENSSL_clear_free(der, len);

	OPENSSL_free(spki);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
	sw_free(sk);
}

ATF_TC_WITHOUT_HEAD(cache);
ATF_TC_BODY(cache, tc)
{
	struct softkey	*sk = sk_open(15, 4);
	struct tkey	 k[8], k2;
	struct hsm_req	 r;
	struct hsm_res	 res;
	char		 id[16];
	size_t		 i;

	for (i = 0; i < 8; i++) {
		(void)snprintf(id, sizeof(id), "c%zu", i);
		tkey_gen(sk, &k[i], id, HSM_KEY_EC_P256, 0);
		ATF_REQUIRE(sw_cache_count(sk) <= 4);
	}
	ATF_REQUIRE_EQ(sw_cache_count(sk), 4);
	/* Evicted ones unwrap again; cached ones serve. */
	for (i = 0; i < 8; i++)
		sign_verify(sk, &k[i], HSM_PAD_NONE, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(sw_cache_count(sk), 4);

	/* A new blob for id c7: the new key signs, not the cached one. */
	tkey_gen(sk, &k2, "c7", HSM_KEY_EC_P256, 0);
	sign_verify(sk, &k2, HSM_PAD_NONE, HSM_HASH_SHA256);
	sign_verify(sk, &k[7], HSM_PAD_NONE, HSM_HASH_SHA256);
	req_init(&r, &k2, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_SHA256);
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), 0);
	ATF_REQUIRE(!indep_verify(&k[7], 0, HSM_HASH_SHA256, msg, sizeof(msg),
	    res.out[0], res.len[0]));
	hsm_res_clear(&res);
	/* The same blob under another kind does not unwrap from cache. */
	req_init(&r, &k2, HSM_OP_SIGN, HSM_PAD_NONE, HSM_HASH_SHA256);
	r.kind = HSM_KEY_EC_P384;
	ATF_REQUIRE_EQ(do_op(sk, &r, &res), KMIP_REASON_CRYPTOGRAPHIC_FAILURE);

	for (i = 0; i < 8; i++)
		tkey_free(&k[i]);
	tkey_free(&k2);
	sw_free(sk);
}

/* hsm_op + key, data, iv, aad, sig (key only, here) into buf. */
static size_t
op_payload(uint8_t *buf, size_t bufsz, const struct hsm_op *o,
    const uint8_t *parts, size_t plen)
{
	ATF_REQUIRE(sizeof(*o) + plen <= bufsz);
	memcpy(buf, o, sizeof(*o));
	if (plen > 0)
		memcpy(buf + sizeof(*o), parts, plen);
	return (sizeof(*o) + plen);
}

ATF_TC_WITHOUT_HEAD(parse_generate_import);
ATF_TC_BODY(parse_generate_import, tc)
{
	struct hsm_generate	 g;
	struct hsm_import	 im;
	struct hsm_req		 r;
	uint8_t			 buf[1024];
	const char		*why;

	memset(&g, 0, sizeof(g));
	memset(g.id, 'x', sizeof(g.id));	/* not terminated */
	g.kind = HSM_KEY_AES;
	g.bits = 256;
	memcpy(buf, &g, sizeof(g));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_GENERATE, buf, sizeof(g), &r,
	    &why) == 0);
	ATF_REQUIRE_EQ(strlen(r.id), HSM_ID_MAX - 1);
	ATF_REQUIRE(r.kind == HSM_KEY_AES && r.bits == 256);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_GENERATE, buf, sizeof(g) - 1, &r,
	    &why) == -1);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_GENERATE, buf, sizeof(g) + 1, &r,
	    &why) == -1);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_GENERATE, NULL, 0, &r,
	    &why) == -1);

	memset(&im, 0, sizeof(im));
	(void)strlcpy(im.id, "imp", sizeof(im.id));
	im.kind = HSM_KEY_AES;
	im.len_key = 32;
	memcpy(buf, &im, sizeof(im));
	memset(buf + sizeof(im), 0x11, 33);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_IMPORT, buf, sizeof(im) + 32, &r,
	    &why) == 0);
	ATF_REQUIRE(r.key == buf + sizeof(im) && r.len_key == 32);
	ATF_REQUIRE_STREQ(r.id, "imp");
	/* Short and long by one, a truncated record, a huge length. */
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_IMPORT, buf, sizeof(im) + 31, &r,
	    &why) == -1);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_IMPORT, buf, sizeof(im) + 33, &r,
	    &why) == -1);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_IMPORT, buf, sizeof(im) - 1, &r,
	    &why) == -1);
	im.len_key = UINT32_MAX;
	memcpy(buf, &im, sizeof(im));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_IMPORT, buf, sizeof(im) + 32, &r,
	    &why) == -1);
	/* An empty key frames fine (and is refused later). */
	im.len_key = 0;
	memcpy(buf, &im, sizeof(im));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_IMPORT, buf, sizeof(im), &r,
	    &why) == 0);
	ATF_REQUIRE(r.key == NULL && r.len_key == 0);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_STATUS_REQ, buf, 0, &r,
	    &why) == -1);
}

ATF_TC_WITHOUT_HEAD(parse_op);
ATF_TC_BODY(parse_op, tc)
{
	struct hsm_op	 o;
	struct hsm_req	 r;
	uint8_t		 parts[15], *buf;
	const char	*why;
	size_t		 len, i;

	ATF_REQUIRE((buf = malloc(sizeof(o) + HSM_DATA_MAX + 16)) != NULL);
	for (i = 0; i < sizeof(parts); i++)
		parts[i] = i;
	memset(&o, 0, sizeof(o));
	(void)strlcpy(o.id, "op", sizeof(o.id));
	o.op = HSM_OP_DECRYPT;
	o.kind = HSM_KEY_AES;
	o.tag_len = 16;
	o.len_key = 1;
	o.len_data = 2;
	o.len_iv = 3;
	o.len_aad = 4;
	o.len_sig = 5;
	len = op_payload(buf, sizeof(o) + 16, &o, parts, sizeof(parts));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len, &r, &why) == 0);
	ATF_REQUIRE(r.op == HSM_OP_DECRYPT && r.tag_len == 16);
	ATF_REQUIRE(r.len_key == 1 && r.key[0] == 0);
	ATF_REQUIRE(r.len_data == 2 && r.data[0] == 1);
	ATF_REQUIRE(r.len_iv == 3 && r.iv[0] == 3);
	ATF_REQUIRE(r.len_aad == 4 && r.aad[0] == 6);
	ATF_REQUIRE(r.len_sig == 5 && r.sig[0] == 10 && r.sig[4] == 14);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len - 1, &r, &why) == -1);
	ATF_REQUIRE(strstr(why, "do not match") != NULL);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len + 1, &r, &why) == -1);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, sizeof(o) - 1, &r,
	    &why) == -1);

	/* Lengths that wrap a 32-bit sum. */
	o.len_key = 0x80000000;
	o.len_data = 0x80000000;
	o.len_iv = 0;
	o.len_aad = 0;
	o.len_sig = 15;
	len = op_payload(buf, sizeof(o) + 16, &o, parts, sizeof(parts));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len, &r, &why) == -1);
	/* One part over HSM_DATA_MAX, though the payload has it all. */
	memset(buf + sizeof(o), 0, HSM_DATA_MAX + 1);
	o.len_key = 0;
	o.len_data = HSM_DATA_MAX + 1;
	o.len_sig = 0;
	memcpy(buf, &o, sizeof(o));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, sizeof(o) + HSM_DATA_MAX +
	    1, &r, &why) == -1);
	ATF_REQUIRE(strstr(why, "too long") != NULL);
	/* Exactly HSM_DATA_MAX is fine. */
	o.len_data = HSM_DATA_MAX;
	memcpy(buf, &o, sizeof(o));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, sizeof(o) + HSM_DATA_MAX,
	    &r, &why) == 0);
	ATF_REQUIRE(r.key == NULL && r.len_data == HSM_DATA_MAX);
	free(buf);
}

/* The parameters of struct hsm_op and its sixth part, the OAEP label. */
ATF_TC_WITHOUT_HEAD(parse_op_params);
ATF_TC_BODY(parse_op_params, tc)
{
	struct hsm_op	 o;
	struct hsm_req	 r;
	uint8_t		 parts[9], buf[sizeof(o) + 16];
	const char	*why;
	size_t		 len, i;

	for (i = 0; i < sizeof(parts); i++)
		parts[i] = i;
	memset(&o, 0, sizeof(o));
	(void)strlcpy(o.id, "p", sizeof(o.id));
	o.op = HSM_OP_DECRYPT;
	o.kind = HSM_KEY_RSA;
	o.flags = HSM_OPF_PREHASHED | HSM_OPF_SALT_LEN;
	o.salt_len = 20;
	o.mgf_hash = HSM_HASH_SHA1;
	o.len_key = 2;
	o.len_data = 3;
	o.len_label = 4;
	len = op_payload(buf, sizeof(buf), &o, parts, sizeof(parts));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len, &r, &why) == 0);
	ATF_REQUIRE(r.flags == (HSM_OPF_PREHASHED | HSM_OPF_SALT_LEN) &&
	    r.salt_len == 20 && r.mgf_hash == HSM_HASH_SHA1);
	ATF_REQUIRE(r.len_data == 3 && r.data[0] == 2);
	ATF_REQUIRE(r.len_oaep_label == 4 && r.oaep_label == buf + len - 4 &&
	    r.oaep_label[0] == 5);
	ATF_REQUIRE(r.iv == NULL && r.aad == NULL && r.sig == NULL);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len - 1, &r, &why) == -1);
	o.len_label = HSM_DATA_MAX + 1;
	len = op_payload(buf, sizeof(buf), &o, parts, sizeof(parts));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len, &r, &why) == -1);
	ATF_REQUIRE(strstr(why, "too long") != NULL);
	o.len_label = 0;
	len = op_payload(buf, sizeof(buf), &o, parts, 5);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, len, &r, &why) == 0);
	ATF_REQUIRE(r.oaep_label == NULL && r.len_oaep_label == 0);
}

/* IMSG_HSM_LABEL, and the labels of IMSG_HSM_GENERATE. */
ATF_TC_WITHOUT_HEAD(parse_label);
ATF_TC_BODY(parse_label, tc)
{
	struct hsm_label	 l;
	struct hsm_generate	 g;
	struct hsm_req		 r;
	uint8_t			 buf[sizeof(l) + sizeof(g) + 32];
	const char		*why;

	memset(&l, 0, sizeof(l));
	(void)strlcpy(l.id, "k", sizeof(l.id));
	(void)strlcpy(l.label, "a new label", sizeof(l.label));
	l.kind = HSM_KEY_RSA;
	l.key_class = HSM_CLASS_PRIVATE;
	l.len_key = 20;
	memcpy(buf, &l, sizeof(l));
	memset(buf + sizeof(l), 0x55, 21);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_LABEL, buf, sizeof(l) + 20, &r,
	    &why) == 0);
	ATF_REQUIRE_STREQ(r.label, "a new label");
	ATF_REQUIRE(r.key == buf + sizeof(l) && r.len_key == 20 &&
	    r.key_class == HSM_CLASS_PRIVATE && r.kind == HSM_KEY_RSA);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_LABEL, buf, sizeof(l) + 21, &r,
	    &why) == -1);
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_LABEL, buf, sizeof(l) - 1, &r,
	    &why) == -1);
	/* A label that fills its field without a NUL. */
	memset(l.label, 'x', sizeof(l.label));
	memcpy(buf, &l, sizeof(l));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_LABEL, buf, sizeof(l) + 20, &r,
	    &why) == -1);
	ATF_REQUIRE(strstr(why, "label") != NULL);

	memset(&g, 0, sizeof(g));
	(void)strlcpy(g.id, "g", sizeof(g.id));
	(void)strlcpy(g.label, "private", sizeof(g.label));
	(void)strlcpy(g.pub_label, "public", sizeof(g.pub_label));
	memcpy(buf, &g, sizeof(g));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_GENERATE, buf, sizeof(g), &r,
	    &why) == 0);
	ATF_REQUIRE_STREQ(r.label, "private");
	ATF_REQUIRE_STREQ(r.pub_label, "public");
	memset(g.pub_label, 'y', sizeof(g.pub_label));
	memcpy(buf, &g, sizeof(g));
	ATF_REQUIRE(hsm_req_parse(IMSG_HSM_GENERATE, buf, sizeof(g), &r,
	    &why) == -1);
}

static void
dummy_handler(int fd, short event, void *arg)
{
}

/* Read until one message is complete. */
static int
read_one(struct imsgbuf *ib, struct imsg *imsg)
{
	int	 n, r;

	for (;;) {
		if ((n = imsgbuf_get(ib, imsg)) != 0)
			return (n);
		if ((r = imsgbuf_read(ib)) != 1)
			return (r == 0 ? -2 : -1);
	}
}

/*
 * The engine's answer to the check value of the signer's file KEK
 * (IMSG_KEK_CHECK): agreed, or (differ) another value was recorded.
 */
static void
kek_answer(struct hsm *h, const uint8_t *kek, int differ)
{
	struct kek_check	 kc;
	struct softkey		*sk;
	struct imsgbuf		 w, r;
	struct imsg		 imsg;
	int			 sv[2];

	memset(&kc, 0, sizeof(kc));
	kc.flags = KEK_CHECK_FILE;
	ATF_REQUIRE((sk = sw_new(kek, 0)) != NULL);
	ATF_REQUIRE(sw_check_value(sk, kc.file_cv) == 0);
	sw_free(sk);
	if (differ) {
		kc.status = -1;
		(void)strlcpy(kc.msg, "kek file: check value differs",
		    sizeof(kc.msg));
	}
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_KEK_CHECK, 0, 0, -1, &kc,
	    sizeof(kc)) == 1);
	ATF_REQUIRE(imsgbuf_flush(&w) == 0);
	ATF_REQUIRE(read_one(&r, &imsg) == 1);
	soft_check_answer(h, &imsg);
	imsg_free(&imsg);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static void
chan_open(struct chan *c, const struct hsm_backend *be)
{
	struct imsg	 imsg;
	uint8_t		 kek[SK_KEK_LEN];

	memset(c, 0, sizeof(*c));
	(void)event_init();
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, c->sv) == 0);
	ATF_REQUIRE(imsgbuf_init(&c->engine, c->sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_set_maxsize(&c->engine, IMSG_MAX_INTERNAL) == 0);
	ATF_REQUIRE(imsgev_init(&c->h.engine, c->sv[1], dummy_handler, &c->h,
	    IMSG_MAX_INTERNAL, 1) == 0);
	(void)strlcpy(c->h.setup.name, "soft", sizeof(c->h.setup.name));
	(void)strlcpy(c->h.setup.kek_file, "/kek", sizeof(c->h.setup.kek_file));
	c->h.be = be;
	memset(kek, 0x77, sizeof(kek));
	memcpy(c->h.kek, kek, sizeof(kek));
	c->h.has_kek = 1;
	ATF_REQUIRE(be->start(&c->h) == 0 || be != &hsm_openssl);
	if (be == &hsm_openssl) {
		/* Not ready before the engine agreed to the check value. */
		ATF_REQUIRE_EQ(c->h.status.state, SSTATE_STARTING);
		ATF_REQUIRE(imsgbuf_flush(&c->h.engine.ibuf) == 0);
		ATF_REQUIRE(read_one(&c->engine, &imsg) == 1);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_KEK_CHECK);
		imsg_free(&imsg);
		kek_answer(&c->h, kek, 0);
		ATF_REQUIRE_EQ(c->h.status.state, SSTATE_READY);
	}
}

static void
chan_close(struct chan *c)
{
	c->h.be->stop(&c->h);
	imsgev_clear(&c->h.engine);
	imsgbuf_clear(&c->engine);
	close(c->sv[0]);
	close(c->sv[1]);
}

/* The engine sends, the child handles one request, the engine reads. */
static void
chan_roundtrip(struct chan *c, uint32_t type, uint32_t id,
    const struct iovec *iov, int iovcnt, struct imsg *answer)
{
	struct imsg	 imsg;

	ATF_REQUIRE(imsg_composev(&c->engine, type, id, 0, -1, iov,
	    iovcnt) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c->engine) == 0);
	ATF_REQUIRE(read_one(&c->h.engine.ibuf, &imsg) == 1);
	hsm_request(&c->h, &c->h.engine, &imsg);
	imsg_free(&imsg);
	ATF_REQUIRE(imsgbuf_flush(&c->h.engine.ibuf) == 0);
	ATF_REQUIRE(read_one(&c->engine, answer) == 1);
	ATF_REQUIRE_EQ(imsg_get_type(answer), IMSG_HSM_RESULT);
	ATF_REQUIRE_EQ(imsg_get_id(answer), id);
}

/* The fixed record of an answer, and its parts adding up. */
static void
result_get(struct imsg *imsg, struct hsm_result *hr, uint8_t **out)
{
	struct ibuf	 ib;
	uint8_t		*p;

	ATF_REQUIRE(imsg_get_ibuf(imsg, &ib) == 0);
	ATF_REQUIRE(ibuf_size(&ib) >= sizeof(*hr));
	p = ibuf_data(&ib);
	memcpy(hr, p, sizeof(*hr));
	ATF_REQUIRE_EQ(ibuf_size(&ib), sizeof(*hr) + hr->len_out1 +
	    hr->len_out2 + hr->len_out3);
	ATF_REQUIRE(memchr(hr->msg, '\0', sizeof(hr->msg)) != NULL);
	out[0] = p + sizeof(*hr);
	out[1] = out[0] + hr->len_out1;
	out[2] = out[1] + hr->len_out2;
}

ATF_TC_WITHOUT_HEAD(imsg_roundtrip);
ATF_TC_BODY(imsg_roundtrip, tc)
{
	struct chan		 c;
	struct hsm_generate	 g;
	struct hsm_op		 o;
	struct hsm_result	 hr;
	struct imsg		 a, b;
	struct iovec		 iov[4];
	struct tkey		 k;
	uint8_t			*out[3], *sig;
	size_t			 siglen;

	chan_open(&c, &hsm_openssl);
	ATF_REQUIRE_EQ(c.h.status.state, SSTATE_READY);
	ATF_REQUIRE(c.h.be_state != NULL);

	/* Generate an Ed25519 key through the channel. */
	memset(&g, 0, sizeof(g));
	(void)strlcpy(g.id, "via-imsg", sizeof(g.id));
	g.kind = HSM_KEY_ED25519;
	iov[0].iov_base = &g;
	iov[0].iov_len = sizeof(g);
	chan_roundtrip(&c, IMSG_HSM_GENERATE, 4711, iov, 1, &a);
	result_get(&a, &hr, out);
	ATF_REQUIRE_EQ_MSG(hr.status, 0, "%s", hr.msg);
	ATF_REQUIRE(hr.len_out1 > SK_BLOB_OVERHEAD && hr.len_out2 > 0 &&
	    hr.len_out3 == 32);
	memset(&k, 0, sizeof(k));
	(void)strlcpy(k.id, "via-imsg", sizeof(k.id));
	k.kind = HSM_KEY_ED25519;
	k.blob = out[0];
	k.blen = hr.len_out1;
	k.spki = out[1];
	k.slen = hr.len_out2;

	/* Sign with the blob: hsm_op + key + data. */
	memset(&o, 0, sizeof(o));
	(void)strlcpy(o.id, "via-imsg", sizeof(o.id));
	o.op = HSM_OP_SIGN;
	o.kind = HSM_KEY_ED25519;
	o.len_key = k.blen;
	o.len_data = sizeof(msg);
	iov[0].iov_base = &o;
	iov[0].iov_len = sizeof(o);
	iov[1].iov_base = k.blob;
	iov[1].iov_len = k.blen;
	iov[2].iov_base = (void *)(uintptr_t)msg;
	iov[2].iov_len = sizeof(msg);
	chan_roundtrip(&c, IMSG_HSM_OP, 4712, iov, 3, &b);
	result_get(&b, &hr, out);
	ATF_REQUIRE_EQ_MSG(hr.status, 0, "%s", hr.msg);
	sig = out[0];
	siglen = hr.len_out1;
	ATF_REQUIRE_EQ(siglen, 64);
	ATF_REQUIRE(indep_verify(&k, 0, 0, msg, sizeof(msg), sig, siglen));
	imsg_free(&b);

	/* A refused one: a reason and a message, no parts. */
	o.hash = HSM_HASH_SHA256;
	chan_roundtrip(&c, IMSG_HSM_OP, 4713, iov, 3, &b);
	result_get(&b, &hr, out);
	ATF_REQUIRE_EQ(hr.status, KMIP_REASON_INVALID_FIELD);
	ATF_REQUIRE(hr.len_out1 == 0 && hr.len_out2 == 0);
	ATF_REQUIRE(strstr(hr.msg, "Ed25519") != NULL);
	imsg_free(&b);
	imsg_free(&a);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(imsg_malformed_fatal);
ATF_TC_BODY(imsg_malformed_fatal, tc)
{
	struct chan	 c;
	struct hsm_op	 o;
	struct imsg	 imsg;
	struct iovec	 iov[2];
	uint8_t		 extra[3] = { 1, 2, 3 };
	pid_t		 pid;
	int		 status;

	chan_open(&c, &hsm_openssl);
	memset(&o, 0, sizeof(o));
	(void)strlcpy(o.id, "bad", sizeof(o.id));
	o.op = HSM_OP_SIGN;
	o.kind = HSM_KEY_ED25519;
	o.len_key = 2;		/* but three bytes follow */
	iov[0].iov_base = &o;
	iov[0].iov_len = sizeof(o);
	iov[1].iov_base = extra;
	iov[1].iov_len = sizeof(extra);
	ATF_REQUIRE(imsg_composev(&c.engine, IMSG_HSM_OP, 1, 0, -1, iov,
	    2) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.engine) == 0);
	ATF_REQUIRE(read_one(&c.h.engine.ibuf, &imsg) == 1);
	if ((pid = fork()) == 0) {
		log_init(1, LOG_DAEMON);
		hsm_request(&c.h, &c.h.engine, &imsg);
		_exit(0);	/* not reached: fatalx */
	}
	ATF_REQUIRE(pid != -1);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	imsg_free(&imsg);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(backend_states);
ATF_TC_BODY(backend_states, tc)
{
	struct hsm		 h;
	struct hsm_req		 r;
	struct hsm_res		 res;
	uint8_t			 kek[SK_KEK_LEN];

	/* No KEK: an error that says where to look. */
	memset(&h, 0, sizeof(h));
	(void)strlcpy(h.setup.name, "soft", sizeof(h.setup.name));
	(void)strlcpy(h.setup.kek_file, "/nonexistent",
	    sizeof(h.setup.kek_file));
	h.be = &hsm_openssl;
	ATF_REQUIRE_EQ(h.be->start(&h), -2);
	ATF_REQUIRE_EQ(h.status.state, SSTATE_ERROR);
	ATF_REQUIRE_STREQ(h.status.detail, "no key-encryption key (kek file "
	    "missing or unreadable, see the log of signerd)");
	/* Requests to a signer that is not ready. */
	memset(&r, 0, sizeof(r));
	r.type = IMSG_HSM_GENERATE;
	(void)strlcpy(r.id, "x", sizeof(r.id));
	r.kind = HSM_KEY_AES;
	r.bits = 256;
	hsm_handle(&h, &r, &res);
	ATF_REQUIRE_EQ(res.status, KMIP_REASON_GENERAL_FAILURE);
	ATF_REQUIRE(strstr(res.msg, "not ready") != NULL);
	h.be->stop(&h);

	/* Wrapping by an HSM signer: waits for its channel. */
	memset(&h, 0, sizeof(h));
	(void)strlcpy(h.setup.wrap_with, "softhsm", sizeof(h.setup.wrap_with));
	h.be = &hsm_openssl;
	ATF_REQUIRE_EQ(h.be->start(&h), 0);
	ATF_REQUIRE_EQ(h.status.state, SSTATE_ERROR);
	ATF_REQUIRE(strstr(h.status.detail, "waiting for pkcs11 signer "
	    "\"softhsm\"") != NULL);
	h.be->stop(&h);

	/* A kek file whose check value differs from the recorded one. */
	memset(&h, 0, sizeof(h));
	h.be = &hsm_openssl;
	h.has_kek = 1;
	memset(h.kek, 9, sizeof(h.kek));
	memcpy(kek, h.kek, sizeof(kek));
	ATF_REQUIRE_EQ(h.be->start(&h), 0);
	ATF_REQUIRE_EQ(h.status.state, SSTATE_STARTING);
	kek_answer(&h, kek, 1);
	ATF_REQUIRE_EQ(h.status.state, SSTATE_ERROR);
	ATF_REQUIRE(strstr(h.status.detail, "check value") != NULL);
	hsm_handle(&h, &r, &res);
	ATF_REQUIRE_EQ(res.status, KMIP_REASON_GENERAL_FAILURE);
	h.be->stop(&h);

	/* With a KEK: ready once agreed; generate through hsm_handle. */
	memset(&h, 0, sizeof(h));
	h.be = &hsm_openssl;
	h.has_kek = 1;
	memset(h.kek, 9, sizeof(h.kek));
	ATF_REQUIRE_EQ(h.be->start(&h), 0);
	kek_answer(&h, kek, 0);
	ATF_REQUIRE_EQ(h.status.state, SSTATE_READY);
	hsm_handle(&h, &r, &res);
	ATF_REQUIRE_EQ_MSG(res.status, 0, "%s", res.msg);
	ATF_REQUIRE(res.len[0] == 32 + SK_BLOB_OVERHEAD);
	hsm_res_clear(&res);
	h.be->stop(&h);

	/* A backend without key operations (kmip), without import (pkcs11). */
	memset(&h, 0, sizeof(h));
	(void)strlcpy(h.setup.name, "tok", sizeof(h.setup.name));
	h.be = &hsm_kmip;
	h.status.state = SSTATE_READY;
	r.type = IMSG_HSM_OP;
	hsm_handle(&h, &r, &res);
	ATF_REQUIRE_EQ(res.status, KMIP_REASON_OPERATION_NOT_SUPPORTED);
	ATF_REQUIRE_EQ(res.status, 0x05);
	ATF_REQUIRE(strstr(res.msg, "not supported") != NULL);
	h.be = &hsm_pkcs11;
	r.type = IMSG_HSM_IMPORT;
	hsm_handle(&h, &r, &res);
	ATF_REQUIRE_EQ(res.status, KMIP_REASON_OPERATION_NOT_SUPPORTED);
}

/* The child's seccomp profile lets every operation through. */
ATF_TC_WITHOUT_HEAD(sandboxed);
ATF_TC_BODY(sandboxed, tc)
{
	static const uint32_t kinds[] = {
		HSM_KEY_RSA, HSM_KEY_EC_P521, HSM_KEY_ED25519, HSM_KEY_AES,
		HSM_KEY_HMAC_SHA512
	};
	struct softkey	*sk;
	struct tkey	 k;
	struct hsm_req	 r;
	struct hsm_res	 res;
	size_t		 i;
	pid_t		 pid;
	int		 status;

	if ((pid = fork()) == 0) {
		log_init(1, LOG_DAEMON);
		sandbox_apply(SANDBOX_HSM);
		/* KEK and fetches after the sandbox: the harder case. */
		sk = sk_open(16, 0);
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			tkey_gen(sk, &k, "sb", kinds[i], kinds[i] ==
			    HSM_KEY_RSA ? 2048 : 256);
			if (kinds[i] == HSM_KEY_AES) {
				req_init(&r, &k, HSM_OP_ENCRYPT, 0, 0);
				r.tag_len = 16;
			} else if (kinds[i] == HSM_KEY_HMAC_SHA512)
				req_init(&r, &k, HSM_OP_MAC, 0, 0);
			else
				req_init(&r, &k, HSM_OP_SIGN, kinds[i] ==
				    HSM_KEY_RSA ? HSM_PAD_PSS : 0, kinds[i] ==
				    HSM_KEY_ED25519 ? 0 : HSM_HASH_SHA512);
			if (do_op(sk, &r, &res) != 0)
				_exit(2);
			hsm_res_clear(&res);
			tkey_free(&k);
		}
		sw_free(sk);
		_exit(0);
	}
	ATF_REQUIRE(pid != -1);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status 0x%x", status);
}

/*
 * Register's path: the engine sends a private key it did not parse
 * (HSM_KEY_PRIVATE), in any DER form; the signer finds the kind, wraps
 * under it and answers the public half.
 */
ATF_TC_WITHOUT_HEAD(import_private_any);
ATF_TC_BODY(import_private_any, tc)
{
	static const struct {
		const char	*alg;
		const char	*param;
		size_t		 bits;
		int		 p8;
		uint32_t	 kind;
	} t[] = {
		{ "RSA", NULL, 2048, 0, HSM_KEY_RSA },	/* PKCS#1 */
		{ "RSA", NULL, 2048, 1, HSM_KEY_RSA },
		{ "EC", "P-256", 0, 0, HSM_KEY_EC_P256 },	/* SEC1 */
		{ "EC", "P-384", 0, 1, HSM_KEY_EC_P384 },
		{ "EC", "P-521", 0, 0, HSM_KEY_EC_P521 },
		{ "ED25519", NULL, 0, 1, HSM_KEY_ED25519 },
		{ "EC", "P-224", 0, 1, 0 },			/* refused */
		{ "RSA", NULL, 1024, 0, 0 },		/* refused */
	};
	struct softkey		*sk = sk_open(15, 0);
	struct hsm_req		 r;
	struct hsm_res		 res;
	struct tkey		 k;
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*pk;
	unsigned char		*der, *spki;
	uint8_t			*pt;
	size_t			 i, ptlen;
	int			 len, slen;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].bits != 0)
			pk = EVP_PKEY_Q_keygen(NULL, NULL, t[i].alg,
			    t[i].bits);
		else if (t[i].param != NULL)
			pk = EVP_PKEY_Q_keygen(NULL, NULL, t[i].alg,
			    t[i].param);
		else
			pk = EVP_PKEY_Q_keygen(NULL, NULL, t[i].alg);
		ATF_REQUIRE(pk != NULL);
		der = spki = NULL;
		if (t[i].p8) {
			ATF_REQUIRE((p8 = EVP_PKEY2PKCS8(pk)) != NULL);
			len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
			PKCS8_PRIV_KEY_INFO_free(p8);
		} else
			len = i2d_PrivateKey(pk, &der);
		ATF_REQUIRE(len > 0);
		ATF_REQUIRE((slen = i2d_PUBKEY(pk, &spki)) > 0);

		memset(&r, 0, sizeof(r));
		memset(&res, 0, sizeof(res));
		r.type = IMSG_HSM_IMPORT;
		(void)snprintf(r.id, sizeof(r.id), "priv-%zu", i);
		r.kind = HSM_KEY_PRIVATE;
		r.format = HSM_FMT_DER;
		r.key = der;
		r.len_key = len;
		if (t[i].kind == 0) {
			ATF_CHECK_EQ_MSG(sw_import(sk, &r, &res),
			    KMIP_REASON_INVALID_FIELD, "case %zu", i);
			goto next;
		}
		ATF_REQUIRE_EQ_MSG(sw_import(sk, &r, &res), 0, "case %zu: %s",
		    i, res.msg);
		ATF_CHECK(res.len[1] == (size_t)slen &&
		    memcmp(res.out[1], spki, slen) == 0);
		/* Wrapped under the kind found, and only under it. */
		ATF_CHECK_EQ(sw_unwrap(sk, r.id, t[i].kind, res.out[0],
		    res.len[0], &pt, &ptlen), 0);
		freezero(pt, ptlen);
		ATF_CHECK_EQ(sw_unwrap(sk, r.id, HSM_KEY_PRIVATE, res.out[0],
		    res.len[0], &pt, &ptlen), -1);
		memset(&k, 0, sizeof(k));
		(void)strlcpy(k.id, r.id, sizeof(k.id));
		k.kind = t[i].kind;
		k.blob = res.out[0];
		k.blen = res.len[0];
		k.spki = res.out[1];
		k.slen = res.len[1];
		sign_verify(sk, &k, t[i].kind == HSM_KEY_RSA ?
		    HSM_PAD_PKCS1V15 : HSM_PAD_NONE, t[i].kind ==
		    HSM_KEY_ED25519 ? HSM_HASH_NONE : HSM_HASH_SHA256);

		/* Strict PKCS#8: a PKCS#1 or SEC1 key is refused. */
		r.format = HSM_FMT_PKCS8;
		hsm_res_clear(&res);
		ATF_CHECK_EQ(sw_import(sk, &r, &res) == 0, t[i].p8);
		/* Neither raw bytes nor a truncated key. */
		r.format = HSM_FMT_RAW;
		hsm_res_clear(&res);
		ATF_CHECK_EQ(sw_import(sk, &r, &res),
		    KMIP_REASON_INVALID_FIELD);
		r.format = HSM_FMT_DER;
		r.len_key = len - 1;
		ATF_CHECK_EQ(sw_import(sk, &r, &res),
		    KMIP_REASON_INVALID_FIELD);
 next:
		hsm_res_clear(&res);
		OPENSSL_clear_free(der, len);
		OPENSSL_free(spki);
		EVP_PKEY_free(pk);
	}
	sw_free(sk);
}

/*
 * A token for sw_set_hsm: another softkey, whose version 1 blob without
 * its version byte is what a token answers (iv | ciphertext | tag).
 * Counts its calls; fails when token_down is set.
 */
static int	 token_calls, token_down;

static int
token_fn(void *arg, int unwrap, const char *id, uint32_t kind,
    const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
    char *why, size_t whylen)
{
	struct softkey	*tok = arg;
	uint8_t		*b;
	size_t		 blen;
	int		 rv;

	token_calls++;
	*out = NULL;
	*outlen = 0;
	if (token_down) {
		(void)strlcpy(why, "token gone", whylen);
		return (-1);
	}
	if (!unwrap) {
		if (sw_wrap(tok, id, kind, in, inlen, &b, &blen) == -1)
			return (-1);
		ATF_REQUIRE((*out = malloc(blen - 1)) != NULL);
		memcpy(*out, b + 1, blen - 1);
		*outlen = blen - 1;
		free(b);
		return (0);
	}
	ATF_REQUIRE((b = malloc(inlen + 1)) != NULL);
	b[0] = SK_BLOB_VERSION;
	memcpy(b + 1, in, inlen);
	rv = sw_unwrap(tok, id, kind, b, inlen + 1, out, outlen);
	free(b);
	if (rv == -1)
		(void)strlcpy(why, "does not unwrap in the token", whylen);
	return (rv);
}

ATF_TC_WITHOUT_HEAD(hsm_wrapped);
ATF_TC_BODY(hsm_wrapped, tc)
{
	struct softkey	*tok, *filesk, *sk, *sk2, *nohsm;
	struct tkey	 k, old;
	struct hsm_req	 r;
	struct hsm_res	 res;
	uint8_t		 cv1[SK_CV_LEN], cv2[SK_CV_LEN];
	uint8_t		*nb, *pt;
	size_t		 nblen, ptlen;
	char		 why[HSM_MSG_MAX];

	tok = sk_open(0x24, 0);
	filesk = sk_open(0x11, 0);
	sk = sk_open(0x11, 0);
	sw_set_hsm(sk, token_fn, tok);
	ATF_REQUIRE((nohsm = sw_new(NULL, 0)) != NULL);

	/* The check value: the same KEK, the same value; another, not. */
	ATF_REQUIRE(sw_check_value(filesk, cv1) == 0);
	ATF_REQUIRE(sw_check_value(sk, cv2) == 0);
	ATF_REQUIRE(memcmp(cv1, cv2, SK_CV_LEN) == 0);
	ATF_REQUIRE(sw_check_value(tok, cv2) == 0);
	ATF_REQUIRE(memcmp(cv1, cv2, SK_CV_LEN) != 0);
	ATF_REQUIRE(sw_check_value(nohsm, cv2) == -1);

	/* New keys: version 2, made by the token. */
	token_calls = 0;
	tkey_gen(sk, &k, "hsm-key", HSM_KEY_ED25519, 0);
	ATF_REQUIRE_EQ(k.blob[0], SK_BLOB_HSM);
	ATF_REQUIRE_EQ(token_calls, 1);

	/* Another process: unwrapped by the token once, then cached. */
	sk2 = sk_open(0x11, 0);
	sw_set_hsm(sk2, token_fn, tok);
	req_init(&r, &k, HSM_OP_SIGN, 0, 0);
	token_calls = 0;
	ATF_REQUIRE_EQ_MSG(do_op(sk2, &r, &res), 0, "%s", res.msg);
	ATF_REQUIRE(indep_verify(&k, 0, 0, msg, sizeof(msg), res.out[0],
	    res.len[0]));
	hsm_res_clear(&res);
	ATF_REQUIRE_EQ(do_op(sk2, &r, &res), 0);
	hsm_res_clear(&res);
	ATF_REQUIRE_EQ(token_calls, 1);

	/* Token gone: says so; another id: does not unwrap. */
	sw_free(sk2);
	sk2 = sk_open(0x11, 0);
	sw_set_hsm(sk2, token_fn, tok);
	token_down = 1;
	ATF_REQUIRE(do_op(sk2, &r, &res) != 0);
	ATF_REQUIRE(strstr(res.msg, "token gone") != NULL);
	token_down = 0;
	(void)strlcpy(r.id, "other", sizeof(r.id));
	ATF_REQUIRE(do_op(sk2, &r, &res) != 0);
	ATF_REQUIRE(strstr(res.msg, "does not unwrap") != NULL);
	/* Without wrap with, version 2 cannot be read. */
	req_init(&r, &k, HSM_OP_SIGN, 0, 0);
	ATF_REQUIRE(do_op(nohsm, &r, &res) != 0);
	ATF_REQUIRE(strstr(res.msg, "wrap with") != NULL);

	/* A kek file's key: readable, rewrapped to version 2. */
	tkey_gen(filesk, &old, "file-key", HSM_KEY_AES, 256);
	ATF_REQUIRE_EQ(old.blob[0], SK_BLOB_VERSION);
	ATF_REQUIRE(sw_rewrap(sk, old.id, old.kind, old.blob, old.blen, &nb,
	    &nblen, why, sizeof(why)) == 0);
	ATF_REQUIRE(nb[0] == SK_BLOB_HSM && nblen == old.blen);
	ATF_REQUIRE(sw_unwrap(sk2, old.id, old.kind, nb, nblen, &pt,
	    &ptlen) == 0 && ptlen == 32);
	freezero(pt, ptlen);
	/* Not twice, not another object's, not without the kek file. */
	ATF_REQUIRE(sw_rewrap(sk, old.id, old.kind, nb, nblen, &pt, &ptlen,
	    why, sizeof(why)) == -1);
	ATF_REQUIRE(strstr(why, "version 1") != NULL);
	ATF_REQUIRE(sw_rewrap(sk, "other", old.kind, old.blob, old.blen,
	    &pt, &ptlen, why, sizeof(why)) == -1);
	ATF_REQUIRE(sw_rewrap(sk2, old.id, old.kind, old.blob, old.blen,
	    &pt, &ptlen, why, sizeof(why)) == 0);
	free(pt);
	sw_set_hsm(nohsm, token_fn, tok);
	ATF_REQUIRE(sw_rewrap(nohsm, old.id, old.kind, old.blob, old.blen,
	    &pt, &ptlen, why, sizeof(why)) == -1);
	ATF_REQUIRE(strstr(why, "kek file") != NULL);
	free(nb);
	tkey_free(&old);
	tkey_free(&k);
	sw_free(nohsm);
	sw_free(sk2);
	sw_free(sk);
	sw_free(filesk);
	sw_free(tok);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, generate_kinds);
	ATF_TP_ADD_TC(tp, generate_refused);
	ATF_TP_ADD_TC(tp, wrap_roundtrip);
	ATF_TP_ADD_TC(tp, wrap_bound_to_id);
	ATF_TP_ADD_TC(tp, wrap_tampered);
	ATF_TP_ADD_TC(tp, wrap_wrong_kek);
	ATF_TP_ADD_TC(tp, sign_rsa);
	ATF_TP_ADD_TC(tp, sign_ecdsa);
	ATF_TP_ADD_TC(tp, sign_ed25519);
	ATF_TP_ADD_TC(tp, sign_prehashed);
	ATF_TP_ADD_TC(tp, oaep_params);
	ATF_TP_ADD_TC(tp, sign_refused);
	ATF_TP_ADD_TC(tp, aes_gcm);
	ATF_TP_ADD_TC(tp, rsa_encrypt);
	ATF_TP_ADD_TC(tp, hmac);
	ATF_TP_ADD_TC(tp, export);
	ATF_TP_ADD_TC(tp, import_aes);
	ATF_TP_ADD_TC(tp, import_pkcs8);
	ATF_TP_ADD_TC(tp, cache);
	ATF_TP_ADD_TC(tp, parse_generate_import);
	ATF_TP_ADD_TC(tp, parse_op);
	ATF_TP_ADD_TC(tp, parse_op_params);
	ATF_TP_ADD_TC(tp, parse_label);
	ATF_TP_ADD_TC(tp, imsg_roundtrip);
	ATF_TP_ADD_TC(tp, imsg_malformed_fatal);
	ATF_TP_ADD_TC(tp, backend_states);
	ATF_TP_ADD_TC(tp, sandboxed);
	ATF_TP_ADD_TC(tp, import_private_any);
	ATF_TP_ADD_TC(tp, hsm_wrapped);
	return (atf_no_error());
}
