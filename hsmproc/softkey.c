/*
 * Software keys with OpenSSL 3 (see softkey.h for the blob format).
 *
 * Unwrapped keys are cached by object id in a red-black tree with an LRU
 * list, so that a key is unwrapped and parsed once: an entry remembers
 * the SHA-256 of the blob (or public key) it came from, and a different
 * blob for the same id is unwrapped again.  Raw secrets are wiped when
 * evicted; OpenSSL wipes the private keys it frees.
 *
 * Messages in a result say what was wrong with a request, never anything
 * about a secret.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "softkey.h"

#define SK_DIGEST_LEN		32
#define SK_AAD_MAX		(1 + 4 + HSM_ID_MAX)

struct sw_key {
	RB_ENTRY(sw_key)	 tree;
	TAILQ_ENTRY(sw_key)	 lru;
	char			 id[HSM_ID_MAX];
	int			 pub;	/* from an SPKI, not a blob */
	uint32_t		 kind;
	uint8_t			 digest[SK_DIGEST_LEN];
	EVP_PKEY		*pkey;	/* RSA, EC, Ed25519 */
	uint8_t			*raw;	/* AES, HMAC */
	size_t			 rawlen;
};

RB_HEAD(sw_tree, sw_key);
TAILQ_HEAD(sw_lru, sw_key);

/*
 * An open stream (hsmmsg.h): its cipher context, keyed and set up by the
 * first part, and what a GCM decryption holds back until its tag is
 * verified.  Bounded: HSM_STREAM_MAX of them, HSM_STREAM_HOLD bytes held
 * each.
 */
struct sw_stream {
	TAILQ_ENTRY(sw_stream)	 entry;
	uint32_t		 id;
	int			 enc;
	uint32_t		 mode;
	size_t			 taglen;	/* GCM */
	EVP_CIPHER_CTX		*ctx;
	uint8_t			*held;		/* GCM decryption */
	size_t			 nheld;
	time_t			 last;		/* part, monotonic s */
};
TAILQ_HEAD(sw_streams, sw_stream);

struct softkey {
	uint8_t			 kek[SK_KEK_LEN];
	int			 has_kek;	/* a file KEK: version 1 */
	sw_hsm_fn		 hsm;		/* a token's: version 2 */
	void			*hsm_arg;
	char			 why[HSM_MSG_MAX];	/* of an unwrap */
	EVP_CIPHER		*kek_gcm;	/* aes-256-gcm */
	EVP_CIPHER		*gcm[3];	/* aes-128/192/256-gcm */
	EVP_CIPHER_CTX		*wctx;		/* wrapping */
	EVP_CIPHER_CTX		*dctx;		/* AES-GCM on data */
	EVP_MD			*sha256;	/* blob digests */
	EVP_MAC			*hmac;
	struct sw_tree		 keys;
	struct sw_lru		 lru;
	size_t			 nkeys;
	size_t			 maxkeys;
	struct sw_streams	 streams;
	size_t			 nstreams;
};

static int	 sw_key_cmp(struct sw_key *, struct sw_key *);
static int	 sw_wrap_hsm(struct softkey *, const char *, uint32_t,
		    const uint8_t *, size_t, uint8_t **, size_t *);
static void	 sw_key_free(struct sw_key *);
static int	 sw_key_digest(struct softkey *, const uint8_t *, size_t,
		    struct hsm_res *);
static int	 sw_pair_digest(struct softkey *, EVP_PKEY *,
		    struct hsm_res *);
static void	 sw_cache_del(struct softkey *, struct sw_key *);
static struct sw_key *sw_cache_add(struct softkey *, const char *, int,
		    uint32_t, const uint8_t *, EVP_PKEY *, uint8_t *, size_t);
static int	 sw_digest(struct softkey *, const uint8_t *, size_t,
		    uint8_t *);
static int	 sw_key_get(struct softkey *, const struct hsm_req *, int,
		    struct sw_key **, struct hsm_res *);
static int	 sw_kind_valid(uint32_t);
static int	 sw_kind_pair(uint32_t);
static const char *sw_hash_name(uint32_t);
static const char *sw_hmac_hash(uint32_t);
static int	 sw_pkey_is(EVP_PKEY *, uint32_t);
static EVP_PKEY	*sw_p8_decode(const uint8_t *, size_t);
static EVP_PKEY	*sw_priv_decode(const struct hsm_req *);
static uint32_t	 sw_pkey_kind(EVP_PKEY *);
static int	 sw_import_pair(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static int	 sw_p8_encode(EVP_PKEY *, uint8_t **, size_t *);
static int	 sw_keep_pair(struct softkey *, const struct hsm_req *,
		    EVP_PKEY *, struct hsm_res *);
static int	 sw_keep_raw(struct softkey *, const struct hsm_req *,
		    uint8_t *, size_t, struct hsm_res *);
static int	 sw_crypto_error(struct hsm_res *, const char *);
static int	 sw_wrap_error(struct softkey *, struct hsm_res *);
static int	 sw_sign(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static int	 sw_verify(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static int	 sw_sig_params(const struct hsm_req *, const char **,
		    struct hsm_res *);
static int	 sw_mgf_hash(const struct hsm_req *, const char *,
		    const char **, struct hsm_res *);
static int	 sw_sig_setup(EVP_PKEY_CTX *, const struct hsm_req *,
		    const char *, int);
static int	 sw_gcm(struct softkey *, const struct hsm_req *, int,
		    struct hsm_res *);
static int	 sw_block(struct softkey *, const struct hsm_req *, int,
		    struct hsm_res *);
static int	 sw_rsa_crypt(struct softkey *, const struct hsm_req *, int,
		    struct hsm_res *);
static void	 sw_ttlv_hdr(uint8_t *, uint32_t, uint8_t, size_t);
static int	 sw_aes_wrap(struct softkey *, const struct hsm_req *,
		    const uint8_t *, size_t, struct hsm_res *);
static int	 sw_wrap_key(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static int	 sw_mac(struct softkey *, const struct hsm_req *, int,
		    struct hsm_res *);
static time_t	 sw_now(void);
static struct sw_stream *sw_stream_find(struct softkey *, uint32_t);
static void	 sw_stream_free(struct softkey *, struct sw_stream *);
static int	 sw_stream(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static int	 sw_stream_open(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
static int	 sw_stream_part(struct softkey *, struct sw_stream *,
		    const struct hsm_req *, struct hsm_res *);

/* libbsd's __unused is off (a Linux header has a member of that name). */
RB_PROTOTYPE_INTERNAL(sw_tree, sw_key, tree, sw_key_cmp,
    __attribute__((__unused__)) static)
RB_GENERATE_INTERNAL(sw_tree, sw_key, tree, sw_key_cmp,
    __attribute__((__unused__)) static)

/* Never NULL: OpenSSL wants a buffer even for empty input. */
static const uint8_t	 sw_empty[1];

static int
sw_key_cmp(struct sw_key *a, struct sw_key *b)
{
	int	 r;

	if ((r = strcmp(a->id, b->id)) != 0)
		return (r);
	return (a->pub - b->pub);
}

/*
 * A key-encryption key of SK_KEK_LEN bytes (NULL: none, keys are wrapped
 * by a token, see sw_set_hsm); at most maxkeys cached.
 */
struct softkey *
sw_new(const uint8_t *kek, size_t maxkeys)
{
	static const char	*gcm[3] = {
		"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"
	};
	struct softkey		*sk;
	size_t			 i;

	if ((sk = calloc(1, sizeof(*sk))) == NULL)
		return (NULL);
	if (kek != NULL) {
		memcpy(sk->kek, kek, SK_KEK_LEN);
		sk->has_kek = 1;
	}
	RB_INIT(&sk->keys);
	TAILQ_INIT(&sk->lru);
	TAILQ_INIT(&sk->streams);
	sk->maxkeys = maxkeys > 0 ? maxkeys : SK_CACHE_MAX;
	/* Fetch once: an implicit fetch per operation costs. */
	for (i = 0; i < 3; i++)
		if ((sk->gcm[i] = EVP_CIPHER_fetch(NULL, gcm[i],
		    NULL)) == NULL)
			goto fail;
	if ((sk->kek_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM",
	    NULL)) == NULL ||
	    (sk->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (sk->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (sk->wctx = EVP_CIPHER_CTX_new()) == NULL ||
	    (sk->dctx = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	return (sk);
 fail:
	sw_free(sk);
	return (NULL);
}

/* New keys are wrapped by fn (version 2), which also unwraps them. */
void
sw_set_hsm(struct softkey *sk, sw_hsm_fn fn, void *arg)
{
	sk->hsm = fn;
	sk->hsm_arg = arg;
}

/*
 * The check value of the file KEK, as a token computes it for its own
 * (hsmproc/p11kek.c): the first SK_CV_LEN bytes of the AES-256-GCM tag
 * of 16 zero bytes, all-zero iv, additional data HSM_KEK_CV_AAD.
 */
int
sw_check_value(struct softkey *sk, uint8_t *cv)
{
	static const uint8_t	 zero[16];
	uint8_t			 ct[sizeof(zero)], tag[SK_TAG_LEN];
	int			 n;

	if (!sk->has_kek)
		return (-1);
	if (EVP_EncryptInit_ex2(sk->wctx, sk->kek_gcm, sk->kek, zero,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(sk->wctx, NULL, &n, (const uint8_t *)
	    HSM_KEK_CV_AAD, strlen(HSM_KEK_CV_AAD)) != 1 ||
	    EVP_EncryptUpdate(sk->wctx, ct, &n, zero, sizeof(zero)) != 1 ||
	    EVP_EncryptFinal_ex(sk->wctx, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(sk->wctx, EVP_CTRL_AEAD_GET_TAG, SK_TAG_LEN,
	    tag) != 1) {
		ERR_clear_error();
		return (-1);
	}
	memcpy(cv, tag, SK_CV_LEN);
	return (0);
}

void
sw_free(struct softkey *sk)
{
	size_t	 i;

	if (sk == NULL)
		return;
	while (!TAILQ_EMPTY(&sk->lru))
		sw_cache_del(sk, TAILQ_FIRST(&sk->lru));
	while (!TAILQ_EMPTY(&sk->streams))
		sw_stream_free(sk, TAILQ_FIRST(&sk->streams));
	EVP_CIPHER_CTX_free(sk->wctx);
	EVP_CIPHER_CTX_free(sk->dctx);
	for (i = 0; i < 3; i++)
		EVP_CIPHER_free(sk->gcm[i]);
	EVP_CIPHER_free(sk->kek_gcm);
	EVP_MD_free(sk->sha256);
	EVP_MAC_free(sk->hmac);
	freezero(sk, sizeof(*sk));
}

size_t
sw_cache_count(const struct softkey *sk)
{
	return (sk->nkeys);
}

/* Kinds. */

static int
sw_kind_valid(uint32_t kind)
{
	return ((kind >= HSM_KEY_AES && kind <= HSM_KEY_SECRET) ||
	    kind == HSM_KEY_DES3);
}

static int
sw_kind_pair(uint32_t kind)
{
	return (kind >= HSM_KEY_RSA && kind <= HSM_KEY_ED25519);
}

static const char *
sw_hash_name(uint32_t hash)
{
	switch (hash) {
	case HSM_HASH_SHA256:
		return ("SHA256");
	case HSM_HASH_SHA384:
		return ("SHA384");
	case HSM_HASH_SHA512:
		return ("SHA512");
	case HSM_HASH_SHA1:
		return ("SHA1");
	}
	return (NULL);
}

static const char *
sw_hmac_hash(uint32_t kind)
{
	switch (kind) {
	case HSM_KEY_HMAC_SHA256:
		return ("SHA256");
	case HSM_KEY_HMAC_SHA384:
		return ("SHA384");
	case HSM_KEY_HMAC_SHA512:
		return ("SHA512");
	}
	return (NULL);
}

/* Whether pkey is a key of the given kind (named curves only). */
static int
sw_pkey_is(EVP_PKEY *pkey, uint32_t kind)
{
	const char	*want;
	char		 group[32];
	size_t		 len;

	switch (kind) {
	case HSM_KEY_RSA:
		return (EVP_PKEY_is_a(pkey, "RSA"));
	case HSM_KEY_ED25519:
		return (EVP_PKEY_is_a(pkey, "ED25519"));
	case HSM_KEY_EC_P256:
		want = "prime256v1";
		break;
	case HSM_KEY_EC_P384:
		want = "secp384r1";
		break;
	case HSM_KEY_EC_P521:
		want = "secp521r1";
		break;
	default:
		return (0);
	}
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1)
		return (0);
	return (strcmp(group, want) == 0);
}

/* Wrapping. */

static size_t
sw_aad(uint8_t *aad, const char *id, uint32_t kind)
{
	size_t	 len = strnlen(id, HSM_ID_MAX - 1);

	aad[0] = SK_BLOB_VERSION;
	aad[1] = kind >> 24;
	aad[2] = kind >> 16;
	aad[3] = kind >> 8;
	aad[4] = kind;
	memcpy(aad + 5, id, len);
	return (5 + len);
}

/* Wrap pt for object id; *blob is malloc'ed.  0 or -1. */
int
sw_wrap(struct softkey *sk, const char *id, uint32_t kind, const uint8_t *pt,
    size_t ptlen, uint8_t **blobp, size_t *blenp)
{
	uint8_t	 aad[SK_AAD_MAX], *blob;
	size_t	 aadlen, blen;
	int	 n;

	*blobp = NULL;
	*blenp = 0;
	if (ptlen == 0 || ptlen > SK_SECRET_MAX)
		return (-1);
	if (sk->hsm != NULL)
		return (sw_wrap_hsm(sk, id, kind, pt, ptlen, blobp, blenp));
	if (!sk->has_kek)
		return (-1);
	blen = SK_BLOB_OVERHEAD + ptlen;
	if ((blob = malloc(blen)) == NULL)
		return (-1);
	blob[0] = SK_BLOB_VERSION;
	aadlen = sw_aad(aad, id, kind);
	if (RAND_bytes(blob + 1, SK_NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex2(sk->wctx, sk->kek_gcm, sk->kek, blob + 1,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(sk->wctx, NULL, &n, aad, aadlen) != 1 ||
	    EVP_EncryptUpdate(sk->wctx, blob + 1 + SK_NONCE_LEN, &n, pt,
	    ptlen) != 1 || (size_t)n != ptlen ||
	    EVP_EncryptFinal_ex(sk->wctx, blob + 1 + SK_NONCE_LEN + n,
	    &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(sk->wctx, EVP_CTRL_AEAD_GET_TAG, SK_TAG_LEN,
	    blob + 1 + SK_NONCE_LEN + ptlen) != 1) {
		ERR_clear_error();
		free(blob);
		return (-1);
	}
	*blobp = blob;
	*blenp = blen;
	return (0);
}

/*
 * Version 2: the token wraps, the blob is 2 | what it answered (iv |
 * ciphertext | tag).
 */
static int
sw_wrap_hsm(struct softkey *sk, const char *id, uint32_t kind,
    const uint8_t *pt, size_t ptlen, uint8_t **blobp, size_t *blenp)
{
	uint8_t	*w, *blob;
	size_t	 wlen;

	if (sk->hsm(sk->hsm_arg, 0, id, kind, pt, ptlen, &w, &wlen, sk->why,
	    sizeof(sk->why)) == -1)
		return (-1);
	if (wlen != SK_BLOB_OVERHEAD - 1 + ptlen ||
	    (blob = malloc(1 + wlen)) == NULL) {
		(void)strlcpy(sk->why, "the token's answer has a wrong "
		    "length", sizeof(sk->why));
		free(w);
		return (-1);
	}
	blob[0] = SK_BLOB_HSM;
	memcpy(blob + 1, w, wlen);
	free(w);
	*blobp = blob;
	*blenp = 1 + wlen;
	return (0);
}

/*
 * A version 1 blob (file KEK) of id and kind, wrapped again by the
 * token: *blob is malloc'ed.  0, or -1 with why.
 */
int
sw_rewrap(struct softkey *sk, const char *id, uint32_t kind,
    const uint8_t *blob, size_t blen, uint8_t **outp, size_t *outlenp,
    char *why, size_t whylen)
{
	uint8_t	*pt;
	size_t	 ptlen;
	int	 rv;

	*outp = NULL;
	*outlenp = 0;
	if (sk->hsm == NULL || !sk->has_kek) {
		(void)strlcpy(why, "rewrap needs both kek file and wrap "
		    "with", whylen);
		return (-1);
	}
	if (blen < 1 || blob[0] != SK_BLOB_VERSION) {
		(void)strlcpy(why, "not a blob of version 1", whylen);
		return (-1);
	}
	if (sw_unwrap(sk, id, kind, blob, blen, &pt, &ptlen) == -1) {
		(void)snprintf(why, whylen, "does not unwrap with the kek "
		    "file: %s", sk->why);
		return (-1);
	}
	rv = sw_wrap_hsm(sk, id, kind, pt, ptlen, outp, outlenp);
	freezero(pt, ptlen);
	if (rv == -1)
		(void)strlcpy(why, sk->why, whylen);
	return (rv);
}

/* Unwrap a blob made for object id and kind; *pt is malloc'ed.  0/-1. */
int
sw_unwrap(struct softkey *sk, const char *id, uint32_t kind,
    const uint8_t *blob, size_t blen, uint8_t **ptp, size_t *ptlenp)
{
	uint8_t	 aad[SK_AAD_MAX], *pt;
	size_t	 aadlen, ptlen;
	int	 n;

	*ptp = NULL;
	*ptlenp = 0;
	(void)strlcpy(sk->why, "other key-encryption key, blob of another "
	    "object or damaged", sizeof(sk->why));
	if (blob == NULL || blen <= SK_BLOB_OVERHEAD)
		return (-1);
	if (blob[0] == SK_BLOB_HSM) {
		if (sk->hsm == NULL) {
			(void)strlcpy(sk->why, "wrapped by a key in a token, "
			    "and this signer has no `wrap with'",
			    sizeof(sk->why));
			return (-1);
		}
		return (sk->hsm(sk->hsm_arg, 1, id, kind, blob + 1, blen - 1,
		    ptp, ptlenp, sk->why, sizeof(sk->why)));
	}
	if (blob[0] != SK_BLOB_VERSION)
		return (-1);
	if (!sk->has_kek) {
		(void)strlcpy(sk->why, "wrapped by a kek file, and this "
		    "signer has none", sizeof(sk->why));
		return (-1);
	}
	ptlen = blen - SK_BLOB_OVERHEAD;
	if ((pt = malloc(ptlen)) == NULL)
		return (-1);
	aadlen = sw_aad(aad, id, kind);
	if (EVP_DecryptInit_ex2(sk->wctx, sk->kek_gcm, sk->kek, blob + 1,
	    NULL) != 1 ||
	    EVP_DecryptUpdate(sk->wctx, NULL, &n, aad, aadlen) != 1 ||
	    EVP_DecryptUpdate(sk->wctx, pt, &n, blob + 1 + SK_NONCE_LEN,
	    ptlen) != 1 || (size_t)n != ptlen ||
	    EVP_CIPHER_CTX_ctrl(sk->wctx, EVP_CTRL_AEAD_SET_TAG, SK_TAG_LEN,
	    (void *)(uintptr_t)(blob + 1 + SK_NONCE_LEN + ptlen)) != 1 ||
	    EVP_DecryptFinal_ex(sk->wctx, pt + n, &n) != 1) {
		ERR_clear_error();
		freezero(pt, ptlen);
		return (-1);
	}
	*ptp = pt;
	*ptlenp = ptlen;
	return (0);
}

/* DER PKCS#8 PrivateKeyInfo, exactly len bytes, to a key. */
static EVP_PKEY *
sw_p8_decode(const uint8_t *der, size_t len)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*pkey = NULL;
	const unsigned char	*p = der;

	if (len > LONG_MAX)
		return (NULL);
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len)) != NULL &&
	    p == der + len)
		pkey = EVP_PKCS82PKEY_ex(p8, NULL, NULL);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return (pkey);
}

/*
 * A private key as Register brought it: DER PKCS#8, or (HSM_FMT_DER) any
 * of PKCS#8, PKCS#1 RSAPrivateKey and SEC1 ECPrivateKey, exactly
 * len_key bytes.
 */
static EVP_PKEY *
sw_priv_decode(const struct hsm_req *req)
{
	EVP_PKEY		*pkey;
	const unsigned char	*p = req->key;

	if (req->len_key > LONG_MAX)
		return (NULL);
	switch (req->format) {
	case HSM_FMT_PKCS8:
		return (sw_p8_decode(req->key, req->len_key));
	case HSM_FMT_DER:
		pkey = d2i_AutoPrivateKey(NULL, &p, (long)req->len_key);
		if (pkey != NULL && p != req->key + req->len_key) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		return (pkey);
	}
	return (NULL);
}

/* The kind of a private key, or 0 if it is none we support. */
static uint32_t
sw_pkey_kind(EVP_PKEY *pkey)
{
	static const uint32_t	 kinds[] = {
		HSM_KEY_RSA, HSM_KEY_EC_P256, HSM_KEY_EC_P384,
		HSM_KEY_EC_P521, HSM_KEY_ED25519
	};
	size_t			 i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (sw_pkey_is(pkey, kinds[i]))
			return (kinds[i]);
	return (0);
}

/* A private key to DER PKCS#8; *der is malloc'ed (wipe it). */
static int
sw_p8_encode(EVP_PKEY *pkey, uint8_t **derp, size_t *lenp)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	unsigned char		*der = NULL;
	int			 len = -1;

	*derp = NULL;
	*lenp = 0;
	if ((p8 = EVP_PKEY2PKCS8(pkey)) != NULL)
		len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (len <= 0)
		return (-1);
	if ((*derp = malloc(len)) == NULL) {
		OPENSSL_clear_free(der, len);
		return (-1);
	}
	memcpy(*derp, der, len);
	OPENSSL_clear_free(der, len);
	*lenp = len;
	return (0);
}

/* The public half as DER SubjectPublicKeyInfo in out[1]. */
int
sw_spki(EVP_PKEY *pkey, struct hsm_res *res)
{
	unsigned char	*der = NULL;
	int		 len;

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return (-1);
	if ((res->out[1] = malloc(len)) == NULL) {
		OPENSSL_free(der);
		return (-1);
	}
	memcpy(res->out[1], der, len);
	res->len[1] = len;
	OPENSSL_free(der);
	return (0);
}

/* The cache. */

static int
sw_digest(struct softkey *sk, const uint8_t *buf, size_t len, uint8_t *md)
{
	unsigned int	 mdlen;

	if (EVP_Digest(buf, len, md, &mdlen, sk->sha256, NULL) != 1 ||
	    mdlen != SK_DIGEST_LEN) {
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

/*
 * out3 of generate and import: the SHA-256 of the key in the clear (raw
 * bytes here, a private key by sw_pair_digest), the KMIP Digest
 * attribute the engine cannot compute on what it never sees.  Best effort: no out3 on
 * failure, and the key is made all the same.
 */
static int
sw_key_digest(struct softkey *sk, const uint8_t *key, size_t len,
    struct hsm_res *res)
{
	if ((res->out[2] = malloc(SK_DIGEST_LEN)) == NULL)
		return (-1);
	if (sw_digest(sk, key, len, res->out[2]) == -1) {
		free(res->out[2]);
		res->out[2] = NULL;
		return (-1);
	}
	res->len[2] = SK_DIGEST_LEN;
	return (0);
}

/*
 * The same for a private key, in its type's own DER (what KMIP's default
 * formats are: PKCS#1 for RSA, SEC1 for EC, PKCS#8 for Ed25519).
 */
static int
sw_pair_digest(struct softkey *sk, EVP_PKEY *pkey, struct hsm_res *res)
{
	uint8_t	*der = NULL;
	int	 len, rv;

	if ((len = i2d_PrivateKey(pkey, &der)) <= 0) {
		ERR_clear_error();
		return (-1);
	}
	rv = sw_key_digest(sk, der, len, res);
	freezero(der, len);
	return (rv);
}

static void
sw_key_free(struct sw_key *k)
{
	EVP_PKEY_free(k->pkey);
	freezero(k->raw, k->rawlen);
	freezero(k, sizeof(*k));
}

static void
sw_cache_del(struct softkey *sk, struct sw_key *k)
{
	RB_REMOVE(sw_tree, &sk->keys, k);
	TAILQ_REMOVE(&sk->lru, k, lru);
	sk->nkeys--;
	sw_key_free(k);
}

/*
 * Keep a key (pkey or raw, taken over in any case) under id; evicts the
 * least recently used when full.  NULL if out of memory.
 */
static struct sw_key *
sw_cache_add(struct softkey *sk, const char *id, int pub, uint32_t kind,
    const uint8_t *digest, EVP_PKEY *pkey, uint8_t *raw, size_t rawlen)
{
	struct sw_key	*k, *old;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		freezero(raw, rawlen);
		return (NULL);
	}
	(void)strlcpy(k->id, id, sizeof(k->id));
	k->pub = pub;
	k->kind = kind;
	memcpy(k->digest, digest, SK_DIGEST_LEN);
	k->pkey = pkey;
	k->raw = raw;
	k->rawlen = rawlen;
	if ((old = RB_FIND(sw_tree, &sk->keys, k)) != NULL)
		sw_cache_del(sk, old);
	while (sk->nkeys >= sk->maxkeys)
		sw_cache_del(sk, TAILQ_FIRST(&sk->lru));
	RB_INSERT(sw_tree, &sk->keys, k);
	TAILQ_INSERT_TAIL(&sk->lru, k, lru);
	sk->nkeys++;
	return (k);
}

/*
 * The key of an operation: the private or secret key unwrapped from the
 * blob in req->key, or (pub) the public key from the SPKI in req->key,
 * from the cache when it holds the same one.
 */
static int
sw_key_get(struct softkey *sk, const struct hsm_req *req, int pub,
    struct sw_key **kp, struct hsm_res *res)
{
	struct sw_key		 find, *k;
	EVP_PKEY		*pkey = NULL;
	const unsigned char	*p;
	uint8_t			 digest[SK_DIGEST_LEN], *pt = NULL;
	size_t			 ptlen = 0;

	*kp = NULL;
	if (req->len_key == 0)
		return (hsm_res_error(res, KMIP_REASON_MISSING_DATA,
		    "no key given"));
	if (sw_digest(sk, req->key, req->len_key, digest) == -1)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "cannot hash the key"));
	memcpy(find.id, req->id, sizeof(find.id));
	find.pub = pub;
	if ((k = RB_FIND(sw_tree, &sk->keys, &find)) != NULL &&
	    k->kind == req->kind &&
	    CRYPTO_memcmp(k->digest, digest, SK_DIGEST_LEN) == 0) {
		TAILQ_REMOVE(&sk->lru, k, lru);
		TAILQ_INSERT_TAIL(&sk->lru, k, lru);
		*kp = k;
		return (0);
	}

	if (pub) {
		p = req->key;
		if (req->len_key > LONG_MAX ||
		    (pkey = d2i_PUBKEY(NULL, &p, req->len_key)) == NULL ||
		    p != req->key + req->len_key) {
			ERR_clear_error();
			EVP_PKEY_free(pkey);
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "public key is not a DER SubjectPublicKeyInfo"));
		}
		if (!sw_pkey_is(pkey, req->kind)) {
			EVP_PKEY_free(pkey);
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "public key is not an %s key",
			    hsm_kind_name(req->kind)));
		}
	} else {
		if (sw_unwrap(sk, req->id, req->kind, req->key, req->len_key,
		    &pt, &ptlen) == -1)
			return (hsm_res_error(res,
			    KMIP_REASON_CRYPTOGRAPHIC_FAILURE, "key of %s does "
			    "not unwrap (%s)", req->id, sk->why));
		if (sw_kind_pair(req->kind)) {
			pkey = sw_p8_decode(pt, ptlen);
			freezero(pt, ptlen);
			pt = NULL;
			ptlen = 0;
			if (pkey == NULL || !sw_pkey_is(pkey, req->kind)) {
				ERR_clear_error();
				EVP_PKEY_free(pkey);
				return (hsm_res_error(res,
				    KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
				    "unwrapped key of %s is not an %s key",
				    req->id, hsm_kind_name(req->kind)));
			}
		}
	}
	if ((*kp = sw_cache_add(sk, req->id, pub, req->kind, digest, pkey,
	    pt, ptlen)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	return (0);
}

/* Generate and import. */

/* Wrap a new key pair into out[0], its SPKI into out[1]; cache it. */
static int
sw_keep_pair(struct softkey *sk, const struct hsm_req *req, EVP_PKEY *pkey,
    struct hsm_res *res)
{
	uint8_t	 digest[SK_DIGEST_LEN], *der;
	size_t	 len;
	int	 rv;

	if (sw_p8_encode(pkey, &der, &len) == -1) {
		EVP_PKEY_free(pkey);
		return (sw_crypto_error(res, "cannot encode the private key"));
	}
	(void)sw_pair_digest(sk, pkey, res);
	rv = sw_wrap(sk, req->id, req->kind, der, len, &res->out[0],
	    &res->len[0]);
	freezero(der, len);
	if (rv == -1 || sw_spki(pkey, res) == -1) {
		EVP_PKEY_free(pkey);
		return (sw_wrap_error(sk, res));
	}
	if (sw_digest(sk, res->out[0], res->len[0], digest) == -1 ||
	    sw_cache_add(sk, req->id, 0, req->kind, digest, pkey, NULL,
	    0) == NULL)
		EVP_PKEY_free(pkey);	/* only not cached */
	return (0);
}

/* Wrap raw key material into out[0]; cache it unless secret data. */
static int
sw_keep_raw(struct softkey *sk, const struct hsm_req *req, uint8_t *raw,
    size_t len, struct hsm_res *res)
{
	uint8_t	 digest[SK_DIGEST_LEN];

	(void)sw_key_digest(sk, raw, len, res);
	if (sw_wrap(sk, req->id, req->kind, raw, len, &res->out[0],
	    &res->len[0]) == -1) {
		freezero(raw, len);
		return (sw_wrap_error(sk, res));
	}
	if (req->kind == HSM_KEY_SECRET ||
	    sw_digest(sk, res->out[0], res->len[0], digest) == -1)
		freezero(raw, len);
	else
		(void)sw_cache_add(sk, req->id, 0, req->kind, digest, NULL,
		    raw, len);
	return (0);
}

int
sw_generate(struct softkey *sk, const struct hsm_req *req,
    struct hsm_res *res)
{
	EVP_PKEY	*pkey = NULL;
	uint8_t		*raw;
	size_t		 len, i;
	uint32_t	 bits = req->bits;

	if (req->id[0] == '\0')
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "no object id"));
	switch (req->kind) {
	case HSM_KEY_AES:
		if (bits != 128 && bits != 192 && bits != 256)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES key of %u bits: 128, 192 or 256", bits));
		break;
	case HSM_KEY_HMAC_SHA256:
	case HSM_KEY_HMAC_SHA384:
	case HSM_KEY_HMAC_SHA512:
		if (bits < 128 || bits > 512 || bits % 8 != 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "HMAC key of %u bits: 128 to 512, in bytes",
			    bits));
		break;
	case HSM_KEY_DES3:
		if (bits != 192)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "Triple DES key of %u bits: 192", bits));
		break;
	case HSM_KEY_SECRET:
		if (bits == 0 || bits % 8 != 0 || bits / 8 > SK_SECRET_MAX)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "secret data of %u bits: whole bytes, 1 to %d",
			    bits, SK_SECRET_MAX));
		break;
	case HSM_KEY_RSA:
		if (bits < 2048 || bits > 4096 || bits % 1024 != 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "RSA key of %u bits: 2048, 3072 or 4096", bits));
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	case HSM_KEY_EC_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case HSM_KEY_EC_P384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case HSM_KEY_EC_P521:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		break;
	case HSM_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	}
	if (sw_kind_pair(req->kind)) {
		if (pkey == NULL)
			return (sw_crypto_error(res, "key generation failed"));
		return (sw_keep_pair(sk, req, pkey, res));
	}
	len = bits / 8;
	if ((raw = malloc(len)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	if (RAND_priv_bytes(raw, len) != 1) {
		freezero(raw, len);
		return (sw_crypto_error(res, "no random bytes"));
	}
	/* DES keys have odd parity in each byte's low bit. */
	if (req->kind == HSM_KEY_DES3)
		for (i = 0; i < len; i++)
			raw[i] = (raw[i] & 0xfe) |
			    !(__builtin_popcount(raw[i] & 0xfe) & 1);
	return (sw_keep_raw(sk, req, raw, len, res));
}

/*
 * A private key from Register: parsed here and nowhere else, checked
 * (a kind we support, RSA of sane size, halves that match), wrapped
 * under its kind.  HSM_KEY_PRIVATE means "find out which kind".
 */
static int
sw_import_pair(struct softkey *sk, const struct hsm_req *req,
    struct hsm_res *res)
{
	struct hsm_req	 found;
	EVP_PKEY	*pkey;
	EVP_PKEY_CTX	*pctx;
	uint32_t	 kind;
	int		 bits, rv;

	if ((pkey = sw_priv_decode(req)) == NULL) {
		ERR_clear_error();
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "the private key does not parse (%s DER)",
		    req->format == HSM_FMT_PKCS8 ? "PKCS#8" :
		    "PKCS#8, PKCS#1 or SEC1"));
	}
	kind = sw_pkey_kind(pkey);
	if (kind == 0 || (req->kind != HSM_KEY_PRIVATE && kind != req->kind)) {
		EVP_PKEY_free(pkey);
		if (req->kind != HSM_KEY_PRIVATE)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "the private key is not an %s key",
			    hsm_kind_name(req->kind)));
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "private keys are RSA, EC P-256/384/521 or Ed25519"));
	}
	bits = EVP_PKEY_get_bits(pkey);
	if (kind == HSM_KEY_RSA && (bits < 2048 || bits > 16384)) {
		EVP_PKEY_free(pkey);
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "RSA key of %d bits: 2048 to 16384", bits));
	}
	/* A key whose halves do not match signs garbage. */
	rv = -1;
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) != NULL)
		rv = EVP_PKEY_pairwise_check(pctx);
	EVP_PKEY_CTX_free(pctx);
	if (rv == 0 || rv == -1) {
		ERR_clear_error();
		EVP_PKEY_free(pkey);
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "%s private key is inconsistent", hsm_kind_name(kind)));
	}
	ERR_clear_error();
	/* The blob's additional data names the kind it really is. */
	found = *req;
	found.kind = kind;
	return (sw_keep_pair(sk, &found, pkey, res));
}

int
sw_import(struct softkey *sk, const struct hsm_req *req, struct hsm_res *res)
{
	uint8_t		*raw;
	size_t		 len = req->len_key;

	if (req->id[0] == '\0')
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "no object id"));
	if (!sw_kind_valid(req->kind) && req->kind != HSM_KEY_PRIVATE)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	if (len == 0)
		return (hsm_res_error(res, KMIP_REASON_MISSING_DATA,
		    "no key material"));
	if (sw_kind_pair(req->kind) || req->kind == HSM_KEY_PRIVATE)
		return (sw_import_pair(sk, req, res));
	switch (req->kind) {
	case HSM_KEY_AES:
		if (len != 16 && len != 24 && len != 32)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES key of %zu bytes: 16, 24 or 32", len));
		break;
	case HSM_KEY_HMAC_SHA256:
	case HSM_KEY_HMAC_SHA384:
	case HSM_KEY_HMAC_SHA512:
		if (len < 16 || len > SK_HMAC_KEY_MAX)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "HMAC key of %zu bytes: 16 to %d", len,
			    SK_HMAC_KEY_MAX));
		break;
	case HSM_KEY_SECRET:
		if (len > SK_SECRET_MAX)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "secret data of %zu bytes: at most %d", len,
			    SK_SECRET_MAX));
		break;
	}
	if ((raw = malloc(len)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	memcpy(raw, req->key, len);
	return (sw_keep_raw(sk, req, raw, len, res));
}

/* Operations. */

/* A cryptographic failure, with OpenSSL's reason (never secret). */
static int
sw_crypto_error(struct hsm_res *res, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (reason != NULL)
		(void)hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "%s: %s", what, reason);
	else
		(void)hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "%s", what);
	ERR_clear_error();
	return (res->status);
}

/*
 * The MGF1 hash of PSS or OAEP into *mgf: the request's, or md.  0, or the
 * status of res filled in.
 */
static int
sw_mgf_hash(const struct hsm_req *req, const char *md, const char **mgf,
    struct hsm_res *res)
{
	*mgf = md;
	if (req->mgf_hash == HSM_HASH_NONE)
		return (0);
	if ((*mgf = sw_hash_name(req->mgf_hash)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "MGF1 hash: SHA-1, SHA-256, SHA-384 or SHA-512"));
	return (0);
}

/* A key that could not be wrapped: the token says why, or OpenSSL. */
static int
sw_wrap_error(struct softkey *sk, struct hsm_res *res)
{
	if (sk->hsm == NULL)
		return (sw_crypto_error(res, "cannot wrap the key"));
	ERR_clear_error();
	return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE, "cannot wrap "
	    "the key: %s", sk->why));
}

/*
 * Check padding, hash, digest length and MGF1 hash for a signature; *md:
 * digest name or NULL.  SHA-1 makes no new signature, but an old one
 * still verifies (the Profiles verify RSA-PSS with SHA-1, CS-AC-M-3).
 */
static int
sw_sig_params(const struct hsm_req *req, const char **md,
    struct hsm_res *res)
{
	const char	*mgf;

	*md = sw_hash_name(req->hash);
	if (req->hash == HSM_HASH_SHA1 && req->op != HSM_OP_VERIFY)
		*md = NULL;
	if (hsm_digest_check(req, res) != 0)
		return (res->status);
	switch (req->kind) {
	case HSM_KEY_RSA:
		if (req->padding != HSM_PAD_PKCS1V15 &&
		    req->padding != HSM_PAD_PSS)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "RSA signatures: padding PKCS#1 v1.5 or PSS"));
		/* FALLTHROUGH */
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
		if (*md == NULL)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "%s signatures: hash SHA-256, SHA-384 or SHA-512 "
			    "(SHA-1 to verify only)",
			    hsm_kind_name(req->kind)));
		if (req->kind != HSM_KEY_RSA && req->padding != HSM_PAD_NONE)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "ECDSA signatures take no padding"));
		if (req->padding != HSM_PAD_PSS)
			return (0);
		if ((req->flags & HSM_OPF_SALT_LEN) &&
		    req->salt_len > HSM_SALT_MAX)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "PSS salt of %u bytes: at most %d", req->salt_len,
			    HSM_SALT_MAX));
		return (sw_mgf_hash(req, *md, &mgf, res));
	case HSM_KEY_ED25519:
		if (req->hash != HSM_HASH_NONE ||
		    req->padding != HSM_PAD_NONE)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "Ed25519 signs the message itself: no hash, no "
			    "padding"));
		return (0);
	}
	return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
	    "cannot sign with an %s key", hsm_kind_name(req->kind)));
}

/*
 * The digest and RSA padding on a signing or verifying context.  PSS:
 * the salt asked for, else as long as the hash; a verifier told no
 * length takes any.  The digest is set only on a context for a digest
 * the client made (EVP_PKEY_sign): EVP_DigestSign set its own.
 */
static int
sw_sig_setup(EVP_PKEY_CTX *pctx, const struct hsm_req *req, const char *md,
    int verify)
{
	const char	*mgf = md;
	int		 salt;

	if ((req->flags & HSM_OPF_PREHASHED) &&
	    EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(md)) <= 0)
		return (0);
	if (req->kind != HSM_KEY_RSA)
		return (1);
	if (req->padding == HSM_PAD_PKCS1V15)
		return (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING));
	if (req->mgf_hash != HSM_HASH_NONE)
		mgf = sw_hash_name(req->mgf_hash);
	/* sw_sig_params kept the salt length to a modulus. */
	if (req->flags & HSM_OPF_SALT_LEN)
		salt = req->salt_len;
	else
		salt = verify ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST;
	return (mgf != NULL &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf, NULL) > 0);
}

static int
sw_sign(struct softkey *sk, const struct hsm_req *req, struct hsm_res *res)
{
	EVP_MD_CTX	*mctx;
	EVP_PKEY_CTX	*pctx = NULL;
	struct sw_key	*k;
	const char	*md;
	uint8_t		*sig;
	size_t		 siglen;
	int		 ok;

	if (sw_sig_params(req, &md, res) != 0 ||
	    sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	if (EVP_PKEY_get_size(k->pkey) <= 0)
		return (sw_crypto_error(res, "key without a size"));
	siglen = EVP_PKEY_get_size(k->pkey);
	if ((sig = malloc(siglen)) == NULL ||
	    (mctx = EVP_MD_CTX_new()) == NULL) {
		free(sig);
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	}
	if (req->flags & HSM_OPF_PREHASHED) {
		/* The client's digest: no hashing here. */
		ok = (pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey,
		    NULL)) != NULL && EVP_PKEY_sign_init(pctx) == 1 &&
		    sw_sig_setup(pctx, req, md, 0) > 0 &&
		    EVP_PKEY_sign(pctx, sig, &siglen, req->data,
		    req->len_data) == 1;
		EVP_PKEY_CTX_free(pctx);
	} else
		ok = EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL,
		    k->pkey, NULL) == 1 && sw_sig_setup(pctx, req, md, 0) > 0 &&
		    EVP_DigestSign(mctx, sig, &siglen, req->data != NULL ?
		    req->data : sw_empty, req->len_data) == 1;
	EVP_MD_CTX_free(mctx);
	if (!ok) {
		free(sig);
		return (sw_crypto_error(res, "signing failed"));
	}
	res->out[0] = sig;
	res->len[0] = siglen;
	return (0);
}

static int
sw_verify(struct softkey *sk, const struct hsm_req *req, struct hsm_res *res)
{
	EVP_MD_CTX	*mctx;
	EVP_PKEY_CTX	*pctx = NULL;
	struct sw_key	*k;
	const char	*md;
	int		 rv;

	if (sw_sig_params(req, &md, res) != 0 ||
	    sw_key_get(sk, req, 1, &k, res) != 0)
		return (res->status);
	if (req->flags & HSM_OPF_PREHASHED) {
		if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey,
		    NULL)) == NULL || EVP_PKEY_verify_init(pctx) != 1 ||
		    sw_sig_setup(pctx, req, md, 1) <= 0) {
			EVP_PKEY_CTX_free(pctx);
			return (sw_crypto_error(res, "cannot verify"));
		}
		rv = EVP_PKEY_verify(pctx, req->sig != NULL ? req->sig :
		    sw_empty, req->len_sig, req->data, req->len_data);
		EVP_PKEY_CTX_free(pctx);
		ERR_clear_error();
		res->valid = rv == 1;
		return (0);
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	if (EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, k->pkey,
	    NULL) != 1 || sw_sig_setup(pctx, req, md, 1) <= 0) {
		EVP_MD_CTX_free(mctx);
		return (sw_crypto_error(res, "cannot verify"));
	}
	/* A malformed signature is just not a valid one. */
	rv = EVP_DigestVerify(mctx, req->sig != NULL ? req->sig : sw_empty,
	    req->len_sig, req->data != NULL ? req->data : sw_empty,
	    req->len_data);
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	res->valid = rv == 1;
	return (0);
}

/* AES-GCM: out[0] = result; on encryption out[1] = iv, out[2] = tag. */
static int
sw_gcm(struct softkey *sk, const struct hsm_req *req, int enc,
    struct hsm_res *res)
{
	EVP_CIPHER_CTX	*ctx = sk->dctx;
	EVP_CIPHER	*cipher;
	struct sw_key	*k;
	const uint8_t	*iv = req->iv;
	uint8_t		*out, *ivbuf = NULL, *tag = NULL;
	size_t		 taglen, ivlen;
	int		 n, ok;

	if (hsm_gcm_check_iv(req, enc, &taglen, res, HSM_GCM_IV_MAX) != 0)
		return (res->status);
	if (req->len_data > INT_MAX || req->len_aad > INT_MAX)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "data too long"));
	if (sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	switch (k->rawlen) {
	case 16:
		cipher = sk->gcm[0];
		break;
	case 24:
		cipher = sk->gcm[1];
		break;
	case 32:
		cipher = sk->gcm[2];
		break;
	default:
		return (hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "AES key of %zu bytes", k->rawlen));
	}
	/* The iv used goes back to the engine, made here or given. */
	if (enc) {
		ivlen = req->len_iv != 0 ? req->len_iv : HSM_GCM_IV_LEN;
		if ((ivbuf = malloc(ivlen)) == NULL)
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "out of memory"));
		if (req->len_iv != 0)
			memcpy(ivbuf, req->iv, ivlen);
		else if (RAND_bytes(ivbuf, ivlen) != 1) {
			free(ivbuf);
			return (sw_crypto_error(res, "no random iv"));
		}
		iv = ivbuf;
	} else
		ivlen = req->len_iv;
	/* One more byte: malloc(0) may be NULL. */
	if ((out = malloc(req->len_data + 1)) == NULL ||
	    (enc && (tag = malloc(taglen)) == NULL)) {
		free(out);
		free(ivbuf);
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	}
	/* The iv length is set between choosing the cipher and the key. */
	if (enc)
		ok = EVP_EncryptInit_ex2(ctx, cipher, NULL, NULL, NULL) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, ivlen,
		    NULL) == 1 &&
		    EVP_EncryptInit_ex2(ctx, NULL, k->raw, iv, NULL) == 1 &&
		    (req->len_aad == 0 || EVP_EncryptUpdate(ctx, NULL, &n,
		    req->aad, req->len_aad) == 1) &&
		    (req->len_data == 0 || EVP_EncryptUpdate(ctx, out, &n,
		    req->data, req->len_data) == 1) &&
		    EVP_EncryptFinal_ex(ctx, out + req->len_data, &n) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, taglen,
		    tag) == 1;
	else
		ok = EVP_DecryptInit_ex2(ctx, cipher, NULL, NULL, NULL) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, ivlen,
		    NULL) == 1 &&
		    EVP_DecryptInit_ex2(ctx, NULL, k->raw, iv, NULL) == 1 &&
		    (req->len_aad == 0 || EVP_DecryptUpdate(ctx, NULL, &n,
		    req->aad, req->len_aad) == 1) &&
		    (req->len_data == 0 || EVP_DecryptUpdate(ctx, out, &n,
		    req->data, req->len_data) == 1) &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, taglen,
		    (void *)(uintptr_t)req->sig) == 1 &&
		    EVP_DecryptFinal_ex(ctx, out + req->len_data, &n) == 1;
	if (!ok) {
		freezero(out, req->len_data + 1);
		free(ivbuf);
		free(tag);
		if (!enc) {
			ERR_clear_error();
			return (hsm_res_error(res,
			    KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
			    "authentication tag mismatch"));
		}
		return (sw_crypto_error(res, "AES-GCM encryption failed"));
	}
	hsm_res_take(res, 0, out, req->len_data + 1, req->len_data);
	if (enc) {
		res->out[1] = ivbuf;
		res->len[1] = ivlen;
		res->out[2] = tag;
		res->len[2] = taglen;
	}
	return (0);
}

/* By HSM_MODE_ECB, _CBC, _CTR and key length 128, 192, 256. */
static const EVP_CIPHER *(*const sw_block_ciphers[3][3])(void) = {
	{ EVP_aes_128_ecb, EVP_aes_192_ecb, EVP_aes_256_ecb },
	{ EVP_aes_128_cbc, EVP_aes_192_cbc, EVP_aes_256_cbc },
	{ EVP_aes_128_ctr, EVP_aes_192_ctr, EVP_aes_256_ctr },
};

/*
 * AES in ECB, CBC (padding none or PKCS5) or CTR mode: out[0] = result,
 * and on encryption out[1] = the iv, when the mode has one.  Without
 * authentication: the client asked for exactly this mode (the OASIS
 * Cryptographic Services profile's block cipher tests), and gets it or
 * an error, never another.
 */
static int
sw_block(struct softkey *sk, const struct hsm_req *req, int enc,
    struct hsm_res *res)
{
	EVP_CIPHER_CTX	*ctx = sk->dctx;
	const EVP_CIPHER *cipher;
	struct sw_key	*k;
	const uint8_t	*iv = NULL;
	uint8_t		*out, *ivbuf = NULL;
	size_t		 outlen;
	int		 n, m, ok, hasiv, pad;

	if (req->mode < HSM_MODE_ECB || req->mode > HSM_MODE_CTR)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown AES mode %u", req->mode));
	hasiv = req->mode != HSM_MODE_ECB;
	pad = req->padding == HSM_PAD_PKCS5;
	if (req->padding != HSM_PAD_NONE && (!pad ||
	    req->mode == HSM_MODE_CTR))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES padding: none, or PKCS5 with ECB and CBC"));
	if (!hasiv && req->len_iv != 0)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES-ECB takes no iv"));
	if (hasiv && (req->len_iv != 0 || !enc) &&
	    req->len_iv != HSM_BLOCK_LEN)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "the iv of AES-CBC and AES-CTR is %d bytes%s",
		    HSM_BLOCK_LEN, enc ? ", or none to make one" : ""));
	if (!pad && req->mode != HSM_MODE_CTR &&
	    req->len_data % HSM_BLOCK_LEN != 0)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "without padding, the data is whole %d-byte blocks",
		    HSM_BLOCK_LEN));
	if (req->len_aad != 0 || req->len_sig != 0)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES-ECB, CBC and CTR take no additional data or tag"));
	if (req->len_data > INT_MAX - 2 * HSM_BLOCK_LEN)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "data too long"));
	if (sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	if (k->rawlen != 16 && k->rawlen != 24 && k->rawlen != 32)
		return (hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "AES key of %zu bytes", k->rawlen));
	cipher = sw_block_ciphers[req->mode - 1][(k->rawlen - 16) / 8]();
	if (hasiv) {
		if ((ivbuf = malloc(HSM_BLOCK_LEN)) == NULL)
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "out of memory"));
		if (req->len_iv != 0)
			memcpy(ivbuf, req->iv, HSM_BLOCK_LEN);
		else if (RAND_bytes(ivbuf, HSM_BLOCK_LEN) != 1) {
			free(ivbuf);
			return (sw_crypto_error(res, "no random iv"));
		}
		iv = ivbuf;
	}
	/* A padded encryption grows by up to a block. */
	outlen = req->len_data + HSM_BLOCK_LEN;
	if ((out = malloc(outlen)) == NULL) {
		free(ivbuf);
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	}
	n = m = 0;
	ok = EVP_CipherInit_ex2(ctx, cipher, k->raw, iv, enc, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, pad) == 1 &&
	    (req->len_data == 0 || EVP_CipherUpdate(ctx, out, &n, req->data,
	    req->len_data) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + n, &m) == 1;
	if (!ok) {
		freezero(out, outlen);
		free(ivbuf);
		if (!enc) {
			ERR_clear_error();
			return (hsm_res_error(res,
			    KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
			    "bad padding"));
		}
		return (sw_crypto_error(res, "AES encryption failed"));
	}
	hsm_res_take(res, 0, out, outlen, (size_t)n + m);
	if (enc && hasiv) {
		res->out[1] = ivbuf;
		res->len[1] = HSM_BLOCK_LEN;
	} else
		free(ivbuf);
	return (0);
}

/* RSA OAEP or PKCS#1 v1.5: encrypt with the SPKI, decrypt unwrapped. */
static int
sw_rsa_crypt(struct softkey *sk, const struct hsm_req *req, int enc,
    struct hsm_res *res)
{
	EVP_PKEY_CTX	*pctx;
	struct sw_key	*k;
	const char	*md = NULL, *mgf = NULL;
	uint8_t		*out, *label = NULL;
	size_t		 outlen;
	int		 ok, size;

	switch (req->padding) {
	case HSM_PAD_OAEP:
		if (req->hash == HSM_HASH_NONE)
			md = "SHA256";
		else if ((md = sw_hash_name(req->hash)) == NULL)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "OAEP hash: SHA-1, SHA-256, SHA-384 or SHA-512"));
		if (sw_mgf_hash(req, md, &mgf, res) != 0)
			return (res->status);
		break;
	case HSM_PAD_PKCS1V15:
		break;
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "RSA encryption: padding OAEP or PKCS#1 v1.5"));
	}
	if (sw_key_get(sk, req, enc, &k, res) != 0)
		return (res->status);
	if ((size = EVP_PKEY_get_size(k->pkey)) <= 0)
		return (sw_crypto_error(res, "key without a size"));
	outlen = size;
	if ((out = malloc(outlen)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL) {
		free(out);
		return (sw_crypto_error(res, "cannot use the key"));
	}
	/* The context takes the label and frees it. */
	if (md != NULL && req->len_oaep_label > 0) {
		if ((label = malloc(req->len_oaep_label)) == NULL) {
			EVP_PKEY_CTX_free(pctx);
			free(out);
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "out of memory"));
		}
		memcpy(label, req->oaep_label, req->len_oaep_label);
	}
	ok = (enc ? EVP_PKEY_encrypt_init(pctx) :
	    EVP_PKEY_decrypt_init(pctx)) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, md != NULL ?
	    RSA_PKCS1_OAEP_PADDING : RSA_PKCS1_PADDING) > 0 &&
	    (md == NULL || (EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, md,
	    NULL) > 0 && EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf,
	    NULL) > 0));
	if (ok && label != NULL) {
		if (EVP_PKEY_CTX_set0_rsa_oaep_label(pctx, label,
		    req->len_oaep_label) > 0)
			label = NULL;
		else
			ok = 0;
	}
	free(label);
	if (ok && enc)
		ok = EVP_PKEY_encrypt(pctx, out, &outlen, req->data != NULL ?
		    req->data : sw_empty, req->len_data) == 1;
	else if (ok)
		ok = EVP_PKEY_decrypt(pctx, out, &outlen, req->data != NULL ?
		    req->data : sw_empty, req->len_data) == 1;
	EVP_PKEY_CTX_free(pctx);
	if (!ok) {
		freezero(out, size);
		if (!enc) {
			/* No detail: no padding oracle. */
			ERR_clear_error();
			return (hsm_res_error(res,
			    KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
			    "RSA decryption failed"));
		}
		return (sw_crypto_error(res, "RSA encryption failed"));
	}
	hsm_res_take(res, 0, out, size, outlen);
	return (0);
}

/*
 * HMAC with the hash of the key's kind or, for an AES or Triple DES key
 * the engine let MAC (its usage mask), the hash it names; verify in
 * constant time.
 */
static int
sw_mac(struct softkey *sk, const struct hsm_req *req, int verify,
    struct hsm_res *res)
{
	OSSL_PARAM	 params[2];
	EVP_MAC_CTX	*mctx;
	struct sw_key	*k;
	const char	*md = sw_hmac_hash(req->kind), *want;
	uint8_t		 mac[EVP_MAX_MD_SIZE], *out;
	size_t		 maclen;
	int		 ok;

	want = sw_hash_name(req->hash);
	if (md == NULL && (req->kind == HSM_KEY_AES ||
	    req->kind == HSM_KEY_DES3) && req->hash != HSM_HASH_SHA1)
		md = want;
	if (md == NULL)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "cannot MAC with an %s key%s", hsm_kind_name(req->kind),
		    sw_hmac_hash(req->kind) == NULL ? " without an HMAC "
		    "hash: SHA-256, SHA-384 or SHA-512" : ""));
	if (req->hash != HSM_HASH_NONE && (want == NULL ||
	    strcmp(want, md) != 0))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "an %s key takes no other hash", hsm_kind_name(req->kind)));
	if (sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	if ((mctx = EVP_MAC_CTX_new(sk->hmac)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(mctx, k->raw, k->rawlen, params) == 1 &&
	    EVP_MAC_update(mctx, req->data != NULL ? req->data : sw_empty,
	    req->len_data) == 1 &&
	    EVP_MAC_final(mctx, mac, &maclen, sizeof(mac)) == 1;
	EVP_MAC_CTX_free(mctx);
	if (!ok)
		return (sw_crypto_error(res, "HMAC failed"));
	if (verify) {
		res->valid = req->len_sig == maclen &&
		    CRYPTO_memcmp(req->sig, mac, maclen) == 0;
		explicit_bzero(mac, sizeof(mac));
		return (0);
	}
	if ((out = malloc(maclen)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	memcpy(out, mac, maclen);
	res->out[0] = out;
	res->len[0] = maclen;
	return (0);
}

/*
 * The raw bytes of a symmetric key or secret data, for a Get the engine
 * allowed.  Private keys never leave: that is checked here too, so a
 * confused or compromised engine cannot get one.
 */
static int
sw_export(struct softkey *sk, const struct hsm_req *req, struct hsm_res *res)
{
	struct sw_key	*k;
	uint8_t		*out;

	if (req->kind != HSM_KEY_AES && req->kind != HSM_KEY_SECRET &&
	    req->kind != HSM_KEY_DES3 && sw_hmac_hash(req->kind) == NULL)
		return (hsm_res_error(res, KMIP_REASON_PERMISSION_DENIED,
		    "an %s key is never exported", hsm_kind_name(req->kind)));
	if (sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	if ((out = malloc(k->rawlen > 0 ? k->rawlen : 1)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	memcpy(out, k->raw, k->rawlen);
	res->out[0] = out;
	res->len[0] = k->rawlen;
	return (0);
}

/* A TTLV item header: tag, type, length of the value. */
static void
sw_ttlv_hdr(uint8_t *p, uint32_t tag, uint8_t type, size_t len)
{
	p[0] = tag >> 16;
	p[1] = tag >> 8;
	p[2] = tag;
	p[3] = type;
	p[4] = len >> 24;
	p[5] = len >> 16;
	p[6] = len >> 8;
	p[7] = len;
}

/*
 * AES key wrap of pt under the AES key w names: RFC 3394 (NIST Key
 * Wrap, a multiple of 8 bytes, at least 16) or RFC 5649 (with padding,
 * any length).
 */
static int
sw_aes_wrap(struct softkey *sk, const struct hsm_req *w, const uint8_t *pt,
    size_t ptlen, struct hsm_res *res)
{
	const EVP_CIPHER	*c;
	EVP_CIPHER_CTX		*ctx;
	struct sw_key		*wk;
	uint8_t			*out;
	int			 kwp, n = 0, m = 0, ok;

	if (w->mode != HSM_MODE_KW && w->mode != HSM_MODE_KWP)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES wraps with NIST Key Wrap or AES Key Wrap Padding"));
	kwp = w->mode == HSM_MODE_KWP;
	if (!kwp && (ptlen % 8 != 0 || ptlen < 16))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "NIST Key Wrap takes 16 bytes or more, a multiple of 8: "
		    "use AES Key Wrap Padding"));
	if (ptlen > INT_MAX - 16)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "too long to wrap"));
	if (sw_key_get(sk, w, 0, &wk, res) != 0)
		return (res->status);
	switch (wk->rawlen) {
	case 16:
		c = kwp ? EVP_aes_128_wrap_pad() : EVP_aes_128_wrap();
		break;
	case 24:
		c = kwp ? EVP_aes_192_wrap_pad() : EVP_aes_192_wrap();
		break;
	case 32:
		c = kwp ? EVP_aes_256_wrap_pad() : EVP_aes_256_wrap();
		break;
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "wrapping key of %zu bytes", wk->rawlen));
	}
	/* KW adds 8 bytes, KWP pads to 8 and adds 8. */
	if ((out = malloc(ptlen + 16)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		free(out);
		return (sw_crypto_error(res, "no cipher context"));
	}
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ok = EVP_EncryptInit_ex(ctx, c, NULL, wk->raw, NULL) == 1 &&
	    EVP_EncryptUpdate(ctx, out, &n, pt, (int)ptlen) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + n, &m) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		free(out);
		return (sw_crypto_error(res, "AES key wrap failed"));
	}
	res->out[0] = out;
	res->len[0] = (size_t)n + m;
	return (0);
}

/*
 * Get with a Key Wrapping Specification: a symmetric key or secret data
 * wrapped under another key of this signer, AES key wrap or RSA OAEP
 * under a public key.  The engine decided that the client may (the
 * key's Extractable, the wrapping key's Wrap Key usage and state); a
 * private key is refused here too, so that a confused or compromised
 * engine cannot have one wrapped under a key it knows.
 */
static int
sw_wrap_key(struct softkey *sk, const struct hsm_req *req,
    struct hsm_res *res)
{
	struct hsm_req	 w;
	struct sw_key	*k;
	uint8_t		*pt;
	size_t		 ptlen, padded = 0;
	int		 rv;

	if (req->kind != HSM_KEY_AES && req->kind != HSM_KEY_SECRET &&
	    req->kind != HSM_KEY_DES3 && sw_hmac_hash(req->kind) == NULL)
		return (hsm_res_error(res, KMIP_REASON_PERMISSION_DENIED,
		    "an %s key is never wrapped out",
		    hsm_kind_name(req->kind)));
	if (req->wrap_kind == HSM_KEY_RSA ? req->padding != HSM_PAD_OAEP :
	    req->wrap_kind != HSM_KEY_AES)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "keys are wrapped under an AES key or with RSA OAEP"));
	if (req->len_aad % 8 != 0 ||
	    (req->len_aad > 0 && !(req->flags & HSM_OPF_TTLV)))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "attributes are wrapped as TTLV items in a Key Value"));
	if (sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	/* Copied now: getting the wrapping key may evict k. */
	if (req->flags & HSM_OPF_TTLV) {
		padded = (k->rawlen + 7) / 8 * 8;
		ptlen = 16 + padded + req->len_aad;
	} else
		ptlen = k->rawlen;
	if ((pt = calloc(1, ptlen > 0 ? ptlen : 1)) == NULL)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	if (req->flags & HSM_OPF_TTLV) {
		sw_ttlv_hdr(pt, KMIP_TAG_KEY_VALUE, 0x01, ptlen - 8);
		sw_ttlv_hdr(pt + 8, KMIP_TAG_KEY_MATERIAL, 0x08, k->rawlen);
		memcpy(pt + 16, k->raw, k->rawlen);
		if (req->len_aad > 0)
			memcpy(pt + 16 + padded, req->aad, req->len_aad);
	} else if (k->rawlen > 0)
		memcpy(pt, k->raw, k->rawlen);

	w = *req;
	memcpy(w.id, req->wrap_id, sizeof(w.id));
	w.kind = req->wrap_kind;
	w.key = req->data;
	w.len_key = req->len_data;
	if (req->wrap_kind == HSM_KEY_RSA) {
		w.data = pt;
		w.len_data = ptlen;
		rv = sw_rsa_crypt(sk, &w, 1, res);
	} else
		rv = sw_aes_wrap(sk, &w, pt, ptlen, res);
	freezero(pt, ptlen);
	return (rv);
}

/* Streams: AES Encrypt and Decrypt by parts (hsmmsg.h). */

static time_t
sw_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return (0);
	return (ts.tv_sec);
}

static struct sw_stream *
sw_stream_find(struct softkey *sk, uint32_t id)
{
	struct sw_stream	*st;

	TAILQ_FOREACH(st, &sk->streams, entry)
		if (st->id == id)
			return (st);
	return (NULL);
}

/* Drop a stream: its key schedule and what it held are wiped. */
static void
sw_stream_free(struct softkey *sk, struct sw_stream *st)
{
	TAILQ_REMOVE(&sk->streams, st, entry);
	sk->nstreams--;
	EVP_CIPHER_CTX_free(st->ctx);
	freezero(st->held, st->nheld);
	freezero(st, sizeof(*st));
}

/*
 * A part of a stream, or its end.  The engine holds the streams to their
 * limits; the signer does too, on its own count, and forgets those the
 * engine did not end for twice the time it keeps them.
 */
static int
sw_stream(struct softkey *sk, const struct hsm_req *req, struct hsm_res *res)
{
	struct sw_stream	*st, *next;
	time_t			 now = sw_now();

	for (st = TAILQ_FIRST(&sk->streams); st != NULL; st = next) {
		next = TAILQ_NEXT(st, entry);
		if (now - st->last > 2 * HSM_STREAM_IDLE)
			sw_stream_free(sk, st);
	}
	st = sw_stream_find(sk, req->stream_id);
	if (req->op == HSM_OP_STREAM_END) {
		if (st != NULL)
			sw_stream_free(sk, st);
		return (0);
	}
	if (req->stream_id == 0 || (req->op != HSM_OP_ENCRYPT &&
	    req->op != HSM_OP_DECRYPT) || req->kind != HSM_KEY_AES ||
	    (req->flags & HSM_OPF_PREHASHED))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "streams are AES Encrypt and Decrypt"));
	if (req->flags & HSM_OPF_INIT) {
		/* Left by an engine before this one: never to be used. */
		if (st != NULL)
			sw_stream_free(sk, st);
		return (sw_stream_open(sk, req, res));
	}
	if (st == NULL)
		return (hsm_res_error(res, KMIP_REASON_ITEM_NOT_FOUND,
		    "the stream is not open in this signer: it ended, timed "
		    "out or the signer started again"));
	if (st->enc != (req->op == HSM_OP_ENCRYPT) || req->len_key != 0 ||
	    req->len_iv != 0 || req->len_aad != 0 || req->len_oaep_label != 0 ||
	    (req->len_sig != 0 && (st->enc || st->mode != HSM_MODE_GCM ||
	    !(req->flags & HSM_OPF_FINAL)))) {
		sw_stream_free(sk, st);
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "a later part of a stream carries data (and the tag of a "
		    "GCM decryption at its end) only"));
	}
	return (sw_stream_part(sk, st, req, res));
}

/*
 * The first part: the checks of sw_gcm and sw_block, a context of its
 * own keyed and given the iv (and the additional data of GCM, which
 * comes before any data), then the part's data.
 */
static int
sw_stream_open(struct softkey *sk, const struct hsm_req *req,
    struct hsm_res *res)
{
	struct sw_stream	*st;
	const EVP_CIPHER	*cipher;
	struct sw_key		*k;
	uint8_t			 iv[HSM_GCM_IV_MAX];
	size_t			 ivlen;
	int			 n, enc = req->op == HSM_OP_ENCRYPT, ok;
	int			 gcm = req->mode == HSM_MODE_GCM, pad;

	if (sk->nstreams >= HSM_STREAM_MAX)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "this signer has %d streams open already",
		    HSM_STREAM_MAX));
	if (req->mode > HSM_MODE_CTR)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown AES mode %u", req->mode));
	pad = req->padding == HSM_PAD_PKCS5;
	if (req->padding != HSM_PAD_NONE && (!pad || gcm ||
	    req->mode == HSM_MODE_CTR))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES padding: none, or PKCS5 with ECB and CBC"));
	if (req->len_sig != 0 || (!gcm && req->len_aad != 0))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "the first part of a stream takes no tag; additional "
		    "data is GCM's"));
	if (gcm) {
		ivlen = req->len_iv != 0 ? req->len_iv : HSM_GCM_IV_LEN;
		if ((!enc && req->len_iv == 0) || ivlen > HSM_GCM_IV_MAX)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES-GCM iv: 1 to %d bytes%s", HSM_GCM_IV_MAX,
			    enc ? ", or none to make one" : ""));
		if (req->tag_len < 12 || req->tag_len > 16)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES-GCM tag length %u: 12 to 16", req->tag_len));
	} else {
		ivlen = req->mode == HSM_MODE_ECB ? 0 : HSM_BLOCK_LEN;
		if (req->len_iv != 0 ? req->len_iv != ivlen :
		    !enc && ivlen != 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "the iv of AES-CBC and AES-CTR is %d bytes, none "
			    "for ECB", HSM_BLOCK_LEN));
	}
	if (sw_key_get(sk, req, 0, &k, res) != 0)
		return (res->status);
	if (k->rawlen != 16 && k->rawlen != 24 && k->rawlen != 32)
		return (hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "AES key of %zu bytes", k->rawlen));
	cipher = gcm ? sk->gcm[(k->rawlen - 16) / 8] :
	    sw_block_ciphers[req->mode - 1][(k->rawlen - 16) / 8]();
	if (req->len_iv != 0)
		memcpy(iv, req->iv, ivlen);
	else if (ivlen != 0 && RAND_bytes(iv, ivlen) != 1)
		return (sw_crypto_error(res, "no random iv"));
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		free(st);
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	}
	st->id = req->stream_id;
	st->enc = enc;
	st->mode = req->mode;
	st->taglen = req->tag_len;
	st->last = sw_now();
	TAILQ_INSERT_TAIL(&sk->streams, st, entry);
	sk->nstreams++;
	/* The iv length is set between choosing the cipher and the key. */
	ok = EVP_CipherInit_ex2(st->ctx, cipher, NULL, NULL, enc, NULL) ==
	    1 && (!gcm || EVP_CIPHER_CTX_ctrl(st->ctx,
	    EVP_CTRL_AEAD_SET_IVLEN, ivlen, NULL) == 1) &&
	    EVP_CipherInit_ex2(st->ctx, NULL, k->raw, ivlen != 0 ? iv : NULL,
	    enc, NULL) == 1 && EVP_CIPHER_CTX_set_padding(st->ctx, pad) ==
	    1 && (req->len_aad == 0 || (req->len_aad <= INT_MAX &&
	    EVP_CipherUpdate(st->ctx, NULL, &n, req->aad,
	    req->len_aad) == 1));
	if (!ok) {
		sw_stream_free(sk, st);
		explicit_bzero(iv, sizeof(iv));
		return (sw_crypto_error(res, "cannot start the stream"));
	}
	if (enc && req->len_iv == 0 && ivlen != 0) {
		if ((res->out[1] = malloc(ivlen)) == NULL) {
			sw_stream_free(sk, st);
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "out of memory"));
		}
		memcpy(res->out[1], iv, ivlen);
		res->len[1] = ivlen;
	}
	explicit_bzero(iv, sizeof(iv));
	return (sw_stream_part(sk, st, req, res));
}

/*
 * The data of a part through the stream's context into out[0]; at the
 * last part the end of it, the tag of a GCM encryption into out[2], and
 * the plaintext a GCM decryption held once its tag verified.  A failed
 * part ends the stream.
 */
static int
sw_stream_part(struct softkey *sk, struct sw_stream *st,
    const struct hsm_req *req, struct hsm_res *res)
{
	uint8_t		*out, *tag = NULL, *p;
	size_t		 size, len;
	int		 n = 0, m = 0;
	int		 final = (req->flags & HSM_OPF_FINAL) != 0;
	int		 hold = !st->enc && st->mode == HSM_MODE_GCM;

	st->last = sw_now();
	if (req->len_data > INT_MAX - 2 * HSM_BLOCK_LEN ||
	    (hold && req->len_data > HSM_STREAM_HOLD - st->nheld)) {
		sw_stream_free(sk, st);
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD, "%s",
		    hold ? "a GCM decryption stream holds its plaintext "
		    "until the tag: at most 64 KiB in all" : "part too long"));
	}
	if (hold && final && (req->len_sig < 12 || req->len_sig > 16 ||
	    (st->taglen != 0 && st->taglen != req->len_sig))) {
		sw_stream_free(sk, st);
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES-GCM tag of %zu bytes: 12 to 16, as the stream's tag "
		    "length", req->len_sig));
	}
	/*
	 * What was held, the part with what the context kept of the last
	 * one (less than a block) and at the end a padded block.
	 */
	size = st->nheld + req->len_data + 2 * HSM_BLOCK_LEN;
	if ((out = malloc(size)) == NULL ||
	    (final && st->enc && st->mode == HSM_MODE_GCM &&
	    (tag = malloc(st->taglen)) == NULL)) {
		free(out);
		sw_stream_free(sk, st);
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory"));
	}
	if (hold && st->nheld > 0)
		memcpy(out, st->held, st->nheld);
	p = out + (hold ? st->nheld : 0);
	if ((req->len_data > 0 && EVP_CipherUpdate(st->ctx, p, &n, req->data,
	    req->len_data) != 1) || (final && ((hold &&
	    EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_SET_TAG, req->len_sig,
	    (void *)(uintptr_t)req->sig) != 1) ||
	    EVP_CipherFinal_ex(st->ctx, p + n, &m) != 1 || (tag != NULL &&
	    EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_GET_TAG, st->taglen,
	    tag) != 1)))) {
		freezero(out, size);
		free(tag);
		(void)hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "%s", hold ? "authentication tag mismatch" : st->enc ?
		    "AES encryption failed (without padding, the data is "
		    "whole blocks)" : "bad padding, or not whole blocks");
		sw_stream_free(sk, st);
		ERR_clear_error();
		return (res->status);
	}
	len = (p - out) + n + m;
	if (hold && !final) {
		/* Kept, not given: the part answers no plaintext yet. */
		freezero(st->held, st->nheld);
		st->held = out;
		st->nheld = len;
		return (0);
	}
	hsm_res_take(res, 0, out, size, len);
	if (tag != NULL) {
		res->out[2] = tag;
		res->len[2] = st->taglen;
	}
	if (final)
		sw_stream_free(sk, st);
	return (0);
}

int
sw_op(struct softkey *sk, const struct hsm_req *req, struct hsm_res *res)
{
	if (req->op == HSM_OP_STREAM_END || (req->flags & HSM_OPF_STREAM))
		return (sw_stream(sk, req, res));
	if (!sw_kind_valid(req->kind))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	switch (req->op) {
	case HSM_OP_SIGN:
		return (sw_sign(sk, req, res));
	case HSM_OP_VERIFY:
		return (sw_verify(sk, req, res));
	case HSM_OP_ENCRYPT:
	case HSM_OP_DECRYPT:
		if (req->kind == HSM_KEY_AES && req->mode != HSM_MODE_GCM)
			return (sw_block(sk, req, req->op == HSM_OP_ENCRYPT,
			    res));
		if (req->kind == HSM_KEY_AES)
			return (sw_gcm(sk, req, req->op == HSM_OP_ENCRYPT,
			    res));
		if (req->kind == HSM_KEY_RSA)
			return (sw_rsa_crypt(sk, req,
			    req->op == HSM_OP_ENCRYPT, res));
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "cannot encrypt or decrypt with an %s key",
		    hsm_kind_name(req->kind)));
	case HSM_OP_MAC:
	case HSM_OP_MAC_VERIFY:
		return (sw_mac(sk, req, req->op == HSM_OP_MAC_VERIFY, res));
	case HSM_OP_EXPORT:
		return (sw_export(sk, req, res));
	case HSM_OP_WRAP:
		return (sw_wrap_key(sk, req, res));
	}
	return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
	    "unknown operation %u", req->op));
}

/*
 * The operations that need only the public key (the SPKI in req->key):
 * Signature Verify and RSA encryption, for a signer whose private and
 * secret keys are elsewhere (a PKCS#11 token).  No key-encryption key is
 * used: sk may have been made with any.
 */
int
sw_public_op(struct softkey *sk, const struct hsm_req *req,
    struct hsm_res *res)
{
	if (!sw_kind_valid(req->kind))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	if (req->op == HSM_OP_VERIFY)
		return (sw_verify(sk, req, res));
	if (req->op == HSM_OP_ENCRYPT && req->kind == HSM_KEY_RSA)
		return (sw_rsa_crypt(sk, req, 1, res));
	return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
	    "operation %u needs the private or secret key", req->op));
}
