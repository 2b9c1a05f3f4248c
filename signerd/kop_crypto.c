/*
 * Cryptographic operations: Sign, Signature Verify, Encrypt, Decrypt and
 * MAC, run by the signer that holds the key.
 */
#include <sys/param.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attrs.h"
#include "config.h"
#include "engine.h"
#include "kmip.h"
#include "kop.h"
#include "kreq.h"
#include "log.h"

/*
 * Sign, Signature Verify, Encrypt, Decrypt and MAC share one path: find
 * the key and check that it may do this, turn the Cryptographic
 * Parameters into the signer's terms, send key + data + iv + aad + sig,
 * and shape the answer.
 */
struct cop {
	uint32_t	 kmip_op;
	uint32_t	 hsm_op;
	uint32_t	 usage;		/* Cryptographic Usage Mask bit */
	int		 after_active;	/* allowed on Deactivated/Compromised */
};

static const struct cop cops[] = {
	{ KMIP_OP_SIGN,		    HSM_OP_SIGN,    KMIP_USAGE_SIGN,	0 },
	{ KMIP_OP_SIGNATURE_VERIFY, HSM_OP_VERIFY,  KMIP_USAGE_VERIFY,	1 },
	{ KMIP_OP_ENCRYPT,	    HSM_OP_ENCRYPT, KMIP_USAGE_ENCRYPT, 0 },
	{ KMIP_OP_DECRYPT,	    HSM_OP_DECRYPT, KMIP_USAGE_DECRYPT, 1 },
	{ KMIP_OP_MAC,		    HSM_OP_MAC,	    KMIP_USAGE_MAC_GENERATE, 0 },
	{ KMIP_OP_MAC_VERIFY,	    HSM_OP_MAC_VERIFY, KMIP_USAGE_MAC_VERIFY, 1 },
};

/*
 * Streams (KMIP 1.3 Init Indicator, Correlation Value, Final Indicator):
 * AES Encrypt and Decrypt by parts, with software keys; the cipher
 * context lives in the signer (hsmmsg.h), which knows a stream by a
 * number of ours.  The Correlation Value is ours to make: 16 random
 * bytes, good only for the identity and the connection that opened the
 * stream (anyone else is told no such stream exists).  At most
 * KSTREAM_PER_ID streams per identity and KSTREAM_MAX in all are open;
 * one is closed by its Final Indicator, by a part that fails, after
 * HSM_STREAM_IDLE seconds without a part, and when its connection
 * closes.  A signer that starts again has lost its streams: their next
 * part fails.
 */
#define KSTREAM_MAX		HSM_STREAM_MAX
#define KSTREAM_PER_ID		4
#define KSTREAM_CV_LEN		16
#define KSTREAM_IDENTITY_MAX	sizeof(((struct fe_hdr *)0)->identity)

struct kstream {
	TAILQ_ENTRY(kstream)	 entry;
	uint8_t			 cv[KSTREAM_CV_LEN];
	uint32_t		 id;		/* the signer's stream_id */
	uint64_t		 conn_id;
	char			 identity[KSTREAM_IDENTITY_MAX];
	char			 obj[KS_ID_MAX];
	char			 signer[SIGNER_NAME_MAX];
	uint32_t		 op;		/* KMIP_OP_ENCRYPT, _DECRYPT */
	int			 busy;		/* a part is at the signer */
	time_t			 last;		/* monotonic s */
};
TAILQ_HEAD(kstream_list, kstream);

/* A stream part's, for crypto_done (r->opstate). */
struct cop_part {
	uint32_t		 stream_id;
	int			 init;
	int			 final;
};

static struct kstream_list	 kstreams = TAILQ_HEAD_INITIALIZER(kstreams);
static size_t			 nkstreams;
static uint32_t			 kstream_last_id;
static struct event		 kstream_ev;
static int			 kstream_ev_on;

static enum kop_ret	 crypto_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static time_t		 kstream_now(void);
static struct kstream	*kstream_by_id(uint32_t);
static void		 kstream_end(struct kstream *, int);
static void		 kstream_signer_end(const char *, uint32_t);
static void		 kstream_timer(int, short, void *);
static void		 kstream_arm(void);
static int		 cop_stream(struct kreq *, const struct ttlv *,
			    struct cop_part *, struct kstream **);
static int		 cop_stream_open(struct kreq *, const struct hsm_op *,
			    const struct ttlv *, struct cop_part *,
			    struct kstream **);
static int		 cop_stream_part(struct kreq *, const struct ttlv *,
			    const struct cop_part *, const struct kstream *,
			    struct hsm_op *, struct iovec *);
static int		 cop_dates(struct kreq *, const struct cop *,
			    const struct ttlv *);
static int		 cop_usage(struct kreq *, const struct cop *,
			    struct ttlv *, size_t);
static int		 cop_params14(struct kreq *, const struct ttlv *, int,
			    struct hsm_op *, struct iovec *);
static int		 cop_hmac(struct kreq *, const struct cop *,
			    const struct ttlv *, const struct ttlv *, uint32_t,
			    struct hsm_op *);

/* The signer's name of a KMIP Hashing Algorithm; KOP_HASH_NONE if none. */
uint32_t
kop_hsm_hash(uint32_t kmip_hash)
{
	switch (kmip_hash) {
	case KMIP_HASH_SHA1:
		return (HSM_HASH_SHA1);
	case KMIP_HASH_SHA256:
		return (HSM_HASH_SHA256);
	case KMIP_HASH_SHA384:
		return (HSM_HASH_SHA384);
	case KMIP_HASH_SHA512:
		return (HSM_HASH_SHA512);
	}
	return (KOP_HASH_NONE);
}

/* The signer's key kind of a stored key, a its attributes. */
int
kop_key_kind(struct kreq *r, const struct ttlv *a, uint32_t *kind)
{
	int32_t		 len = 0;

	(void)attr_get_integer(a, "Cryptographic Length", &len);
	if (hsm_kind_of(r->obj.algorithm, len, kind) == 0)
		return (0);
	kreq_fail(r, KMIP_REASON_INVALID_FIELD, "unknown key algorithm");
	return (-1);
}

/* Which object types may do an operation, by key kind. */
static int
cop_type_ok(const struct cop *c, uint32_t type, uint32_t kind)
{
	int	 sym = kind == HSM_KEY_AES || kind == HSM_KEY_DES3 ||
		    kind == HSM_KEY_HMAC_SHA256 ||
		    kind == HSM_KEY_HMAC_SHA384 || kind == HSM_KEY_HMAC_SHA512;

	switch (c->hsm_op) {
	case HSM_OP_SIGN:
		return (type == KMIP_OBJ_PRIVATE_KEY);
	case HSM_OP_VERIFY:
		return (type == KMIP_OBJ_PUBLIC_KEY);
	case HSM_OP_ENCRYPT:
		return ((type == KMIP_OBJ_SYMMETRIC_KEY &&
		    kind == HSM_KEY_AES) || (type == KMIP_OBJ_PUBLIC_KEY &&
		    kind == HSM_KEY_RSA));
	case HSM_OP_DECRYPT:
		return ((type == KMIP_OBJ_SYMMETRIC_KEY &&
		    kind == HSM_KEY_AES) || (type == KMIP_OBJ_PRIVATE_KEY &&
		    kind == HSM_KEY_RSA));
	case HSM_OP_MAC:
	case HSM_OP_MAC_VERIFY:
		/* An AES or Triple DES key as cop_hmac allows. */
		return (type == KMIP_OBJ_SYMMETRIC_KEY && sym);
	}
	return (0);
}

/*
 * The HMAC of MAC and MAC Verify.  An HMAC key MACs with its own hash
 * alone.  Another symmetric key (AES, Triple DES: its bytes are the HMAC
 * key) MACs only if its Cryptographic Usage Mask names this operation,
 * MAC Generate or MAC Verify, and the HMAC algorithm is the Cryptographic
 * Algorithm of the request's Cryptographic Parameters or, if they name
 * none, of the key's (the Profiles register an AES key whose parameters
 * say HMAC-SHA256 for MAC, CS-AC-M-4 to 6).  Its hash goes to op->hash.
 */
static int
cop_hmac(struct kreq *r, const struct cop *c, const struct ttlv *req,
    const struct ttlv *a, uint32_t mask, struct hsm_op *op)
{
	const struct ttlv	*cp;
	uint32_t		 alg = 0, hash, own;

	if (c->hsm_op != HSM_OP_MAC && c->hsm_op != HSM_OP_MAC_VERIFY)
		return (0);
	if ((cp = ttlv_find(req, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS)) == NULL ||
	    ttlv_get_enum(cp, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, &alg) == -1) {
		alg = 0;
		if ((cp = attr_get(a, "Cryptographic Parameters", 0)) != NULL &&
		    ttlv_get_enum(cp, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
		    &alg) == -1)
			alg = 0;
	}
	switch (alg) {
	case 0:
		hash = HSM_HASH_NONE;
		break;
	case KMIP_ALG_HMAC_SHA256:
		hash = HSM_HASH_SHA256;
		break;
	case KMIP_ALG_HMAC_SHA384:
		hash = HSM_HASH_SHA384;
		break;
	case KMIP_ALG_HMAC_SHA512:
		hash = HSM_HASH_SHA512;
		break;
	default:
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "%s: the HMAC is "
		    "HMAC-SHA256, HMAC-SHA384 or HMAC-SHA512",
		    kmip_op_name(r->op));
		return (-1);
	}
	switch (op->kind) {
	case HSM_KEY_HMAC_SHA256:
		own = HSM_HASH_SHA256;
		break;
	case HSM_KEY_HMAC_SHA384:
		own = HSM_HASH_SHA384;
		break;
	case HSM_KEY_HMAC_SHA512:
		own = HSM_HASH_SHA512;
		break;
	default:
		own = HSM_HASH_NONE;
		break;
	}
	if (own != HSM_HASH_NONE) {
		if (hash != HSM_HASH_NONE && hash != own) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "key %s (%s) "
			    "MACs with its own HMAC alone", r->obj.id,
			    hsm_kind_name(op->kind));
			return (-1);
		}
		return (0);
	}
	if (!(mask & c->usage)) {
		kreq_fail(r, KMIP_REASON_INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK,
		    "key %s (%s) does %s only with %s in its "
		    "Cryptographic Usage Mask", r->obj.id,
		    hsm_kind_name(op->kind), kmip_op_name(r->op),
		    c->hsm_op == HSM_OP_MAC ? "MAC Generate" : "MAC Verify");
		return (-1);
	}
	if (hash == HSM_HASH_NONE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "%s with key %s "
		    "(%s) needs an HMAC Cryptographic Algorithm in the "
		    "request's or the key's Cryptographic Parameters",
		    kmip_op_name(r->op), r->obj.id, hsm_kind_name(op->kind));
		return (-1);
	}
	op->hash = hash;
	return (0);
}

/*
 * The Cryptographic Parameters of KMIP 1.4 into op: Salt Length, Mask
 * Generator (MGF1 only) and its hash, P Source (the OAEP label, into
 * label).  In a request of an older version they do not exist: refused,
 * rather than ignored, so that nothing is signed otherwise than asked.
 * A key's own parameters (fromkey) were stored by a client that could
 * send them, and apply whatever the version of this request.
 */
static int
cop_params14(struct kreq *r, const struct ttlv *cp, int fromkey,
    struct hsm_op *op, struct iovec *label)
{
	const struct ttlv	*t;
	const uint8_t		*p;
	size_t			 n;
	uint32_t		 v;
	int32_t			 sl;

	if (!fromkey && !kreq_version_at_least(r, 1, 4) &&
	    (ttlv_find(cp, KMIP_TAG_SALT_LENGTH) != NULL ||
	    ttlv_find(cp, KMIP_TAG_MASK_GENERATOR) != NULL ||
	    ttlv_find(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM) != NULL ||
	    ttlv_find(cp, KMIP_TAG_P_SOURCE) != NULL ||
	    ttlv_find(cp, KMIP_TAG_TRAILER_FIELD) != NULL)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Salt Length, Mask "
		    "Generator, P Source and Trailer Field are KMIP 1.4; "
		    "this request is %d.%d", (int)r->major, (int)r->minor);
		return (-1);
	}
	if ((t = ttlv_find(cp, KMIP_TAG_SALT_LENGTH)) != NULL) {
		if (ttlv_get_integer(cp, KMIP_TAG_SALT_LENGTH, &sl) == -1 ||
		    sl < 0 || sl > HSM_SALT_MAX) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Salt Length: "
			    "0 to %d bytes", HSM_SALT_MAX);
			return (-1);
		}
		op->flags |= HSM_OPF_SALT_LEN;
		op->salt_len = sl;
	}
	if (ttlv_find(cp, KMIP_TAG_MASK_GENERATOR) != NULL &&
	    (ttlv_get_enum(cp, KMIP_TAG_MASK_GENERATOR, &v) == -1 ||
	    v != KMIP_MASK_GEN_MGF1)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Mask Generator: "
		    "MGF1 only");
		return (-1);
	}
	if (ttlv_find(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM) != NULL &&
	    (ttlv_get_enum(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM,
	    &v) == -1 ||
	    (op->mgf_hash = kop_hsm_hash(v)) == KOP_HASH_NONE)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Mask Generator "
		    "Hashing Algorithm: SHA-1, SHA-256, SHA-384 or SHA-512");
		return (-1);
	}
	if (ttlv_find(cp, KMIP_TAG_TRAILER_FIELD) != NULL &&
	    (ttlv_get_integer(cp, KMIP_TAG_TRAILER_FIELD, &sl) == -1 ||
	    sl != 1)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Trailer Field: 1 "
		    "(0xbc) only");
		return (-1);
	}
	if (ttlv_find(cp, KMIP_TAG_P_SOURCE) != NULL) {
		if (ttlv_get_bytes(cp, KMIP_TAG_P_SOURCE, &p, &n) == -1 ||
		    op->padding != HSM_PAD_OAEP) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "P Source "
			    "is a Byte String, for OAEP");
			return (-1);
		}
		label->iov_base = (void *)(uintptr_t)p;
		label->iov_len = n;
		op->len_label = n;
	}
	return (0);
}

/*
 * Cryptographic Parameters into op: those of the request or, when it
 * gives none, the key's own (KMIP: the key's SHALL be used then), and our
 * defaults where both are silent.  A mode or padding we cannot do is
 * refused, never replaced by another.  label: the OAEP label, if any.
 */
static int
cop_params(struct kreq *r, const struct ttlv *req, const struct ttlv *a,
    struct hsm_op *op, struct iovec *label)
{
	const struct ttlv	*cp;
	uint32_t		 v;
	int32_t			 tl;
	int			 fromkey = 0;

	switch (op->kind) {
	case HSM_KEY_RSA:
		op->padding = op->op == HSM_OP_ENCRYPT ||
		    op->op == HSM_OP_DECRYPT ? HSM_PAD_OAEP : HSM_PAD_PKCS1V15;
		op->hash = HSM_HASH_SHA256;
		break;
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
		op->hash = HSM_HASH_SHA256;
		break;
	case HSM_KEY_AES:
		op->tag_len = 16;
		break;
	default:
		break;
	}
	label->iov_base = NULL;
	label->iov_len = 0;
	if ((cp = ttlv_find(req, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS)) == NULL) {
		if ((cp = attr_get(a, "Cryptographic Parameters", 0)) == NULL)
			return (0);
		fromkey = 1;
	}
	if (cp->type != TTLV_STRUCTURE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Cryptographic "
		    "Parameters is not a structure");
		return (-1);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_HASHING_ALGORITHM, &v) == 0 &&
	    (op->hash = kop_hsm_hash(v)) == KOP_HASH_NONE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "hashing algorithm not "
		    "supported: SHA-256, SHA-384, SHA-512 (SHA-1 for OAEP "
		    "and to verify)");
		return (-1);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_PADDING_METHOD, &v) == 0) {
		if (op->kind == HSM_KEY_RSA && v == KMIP_PAD_PSS)
			op->padding = HSM_PAD_PSS;
		else if (op->kind == HSM_KEY_RSA && v == KMIP_PAD_PKCS1_V15)
			op->padding = HSM_PAD_PKCS1V15;
		else if (op->kind == HSM_KEY_RSA && v == KMIP_PAD_OAEP)
			op->padding = HSM_PAD_OAEP;
		else if (op->kind == HSM_KEY_AES && v == KMIP_PAD_PKCS5)
			op->padding = HSM_PAD_PKCS5;
		else if (op->kind == HSM_KEY_RSA || v != KMIP_PAD_NONE) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "padding method not supported with this key");
			return (-1);
		}
	}
	if (ttlv_get_enum(cp, KMIP_TAG_BLOCK_CIPHER_MODE, &v) == 0) {
		if (op->kind == HSM_KEY_AES && v == KMIP_MODE_GCM)
			op->mode = HSM_MODE_GCM;
		else if (op->kind == HSM_KEY_AES && v == KMIP_MODE_ECB)
			op->mode = HSM_MODE_ECB;
		else if (op->kind == HSM_KEY_AES && v == KMIP_MODE_CBC)
			op->mode = HSM_MODE_CBC;
		else if (op->kind == HSM_KEY_AES && v == KMIP_MODE_CTR)
			op->mode = HSM_MODE_CTR;
		else {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "block cipher "
			    "mode not supported: AES keys use GCM, ECB, CBC "
			    "or CTR");
			return (-1);
		}
		/* Tokens: GCM only (hsm_gcm_check says so too). */
		if (op->mode != HSM_MODE_GCM &&
		    kop_signer_is_token(r->obj.signer)) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "block cipher "
			    "mode not supported: keys in a token use GCM");
			return (-1);
		}
	}
	if (op->padding == HSM_PAD_PKCS5 && op->mode != HSM_MODE_ECB &&
	    op->mode != HSM_MODE_CBC) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "PKCS5 padding is for "
		    "ECB and CBC");
		return (-1);
	}
	/*
	 * A tag length GCM cannot make fails the operation with General
	 * Failure, defined in every 1.x version: what the Profiles' vector
	 * CS-BC-M-GCM-1 asks for an Encrypt with Tag Length 1 or 32.
	 */
	if (ttlv_get_integer(cp, KMIP_TAG_TAG_LENGTH, &tl) == 0) {
		if (tl < 12 || tl > 16) {
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "GCM tag "
			    "length %d: 12 to 16 bytes", (int)tl);
			return (-1);
		}
		op->tag_len = tl;
	}
	if (ttlv_get_enum(cp, KMIP_TAG_DIGITAL_SIGNATURE_ALGORITHM, &v) == 0) {
		if (v == KMIP_DSA_RSASSA_PSS)
			op->padding = HSM_PAD_PSS;
		else if (v == KMIP_DSA_SHA256_WITH_RSA_ENCRYPTION ||
		    v == KMIP_DSA_ECDSA_WITH_SHA256)
			op->hash = HSM_HASH_SHA256;
		else if (v == KMIP_DSA_SHA384_WITH_RSA_ENCRYPTION ||
		    v == KMIP_DSA_ECDSA_WITH_SHA384)
			op->hash = HSM_HASH_SHA384;
		else if (v == KMIP_DSA_SHA512_WITH_RSA_ENCRYPTION ||
		    v == KMIP_DSA_ECDSA_WITH_SHA512)
			op->hash = HSM_HASH_SHA512;
	}
	if (op->kind == HSM_KEY_ED25519)
		op->hash = HSM_HASH_NONE;
	return (cop_params14(r, cp, fromkey, op, label));
}

/* An optional byte string of the request, as one iovec. */
static void
cop_part(const struct ttlv *req, uint32_t tag, struct iovec *iov,
    uint32_t *len)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;

	(void)ttlv_get_bytes(req, tag, &p, &n);
	iov->iov_base = (void *)(uintptr_t)p;
	iov->iov_len = n;
	*len = n;
}

/*
 * The key's usage period (KMIP 1.x 3.25, 3.26): it protects (signs,
 * encrypts, MACs) until its Protect Stop Date and processes (verifies,
 * decrypts) from its Process Start Date on.  Both are the client's to
 * set; without them the lifecycle state alone decides.
 */
static int
cop_dates(struct kreq *r, const struct cop *c, const struct ttlv *a)
{
	int64_t	 now = time(NULL), when;
	int	 process;

	process = c->hsm_op == HSM_OP_VERIFY || c->hsm_op == HSM_OP_DECRYPT;
	if (!process && attr_get_datetime(a, "Protect Stop Date",
	    &when) == 0 && now > when) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "key %s is past "
		    "its Protect Stop Date: it may no longer do %s",
		    r->obj.id, kmip_op_name(r->op));
		return (-1);
	}
	if (process && attr_get_datetime(a, "Process Start Date",
	    &when) == 0 && now < when) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "key %s is before "
		    "its Process Start Date: it may not do %s yet",
		    r->obj.id, kmip_op_name(r->op));
		return (-1);
	}
	return (0);
}

/*
 * Usage Limits (KMIP 1.x 3.21): a key that protects (signs, encrypts,
 * MACs) at most Total bytes or times.  What this operation takes is
 * counted off before it runs, and kept even if the signer then fails:
 * a limit is never exceeded, at worst under-used.  a is saved with the
 * new Usage Limits Count.
 */
static int
cop_usage(struct kreq *r, const struct cop *c, struct ttlv *a, size_t len)
{
	const struct ttlv	*ul;
	struct ttlv		*t, *v;
	int64_t			 total, count, need;
	uint32_t		 unit;

	if ((c->hsm_op != HSM_OP_SIGN && c->hsm_op != HSM_OP_ENCRYPT &&
	    c->hsm_op != HSM_OP_MAC) ||
	    (ul = attr_get(a, "Usage Limits", 0)) == NULL)
		return (0);
	/* Checked when set (kop_value_bad); a bad one allows nothing. */
	if (ttlv_get_long(ul, KMIP_TAG_USAGE_LIMITS_TOTAL, &total) == -1 ||
	    ttlv_get_enum(ul, KMIP_TAG_USAGE_LIMITS_UNIT, &unit) == -1) {
		total = 0;
		unit = KMIP_USAGE_LIMITS_OBJECT;
	}
	if (ttlv_get_long(ul, KMIP_TAG_USAGE_LIMITS_COUNT, &count) == -1)
		count = total;
	need = unit == KMIP_USAGE_LIMITS_BYTE ? (int64_t)len : 1;
	if (count < need) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "key %s has "
		    "reached its Usage Limits", r->obj.id);
		return (-1);
	}
	t = ttlv_new_structure(0);
	v = ttlv_add_structure(t, KMIP_TAG_ATTRIBUTE_VALUE);
	ttlv_add_long(v, KMIP_TAG_USAGE_LIMITS_TOTAL, total);
	ttlv_add_long(v, KMIP_TAG_USAGE_LIMITS_COUNT, count - need);
	ttlv_add_enum(v, KMIP_TAG_USAGE_LIMITS_UNIT, unit);
	attr_set(a, "Usage Limits", 0, v);
	ttlv_free(t);
	return (kop_save(r, &r->obj, a, 0));
}

/* Streams. */

static time_t
kstream_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (ts.tv_sec);
}

static struct kstream *
kstream_by_id(uint32_t id)
{
	struct kstream	*ks;

	TAILQ_FOREACH(ks, &kstreams, entry)
		if (ks->id == id)
			return (ks);
	return (NULL);
}

/* The signer drops stream id; its answer is not waited for. */
static void
kstream_signer_end(const char *signer, uint32_t id)
{
	struct esigner	*es;
	struct hsm_op	 op;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, signer) == 0)
			break;
	/* One that is not up has lost its streams, or will. */
	if (es == NULL || !esigner_ready(es))
		return;
	memset(&op, 0, sizeof(op));
	op.op = HSM_OP_STREAM_END;
	op.stream_id = id;
	/* Peer id 0 is never a request's: the answer is dropped. */
	if (imsg_compose_event(&es->iev, IMSG_HSM_OP, 0, 0, -1, &op,
	    sizeof(op)) == -1)
		log_warn("signer %s: cannot end stream %u", signer, id);
}

/*
 * Forget a stream; tell_signer: the signer may still hold it.  With a
 * part on its way the end would overtake it (it goes now, the part at
 * the end of the turn) and leave the signer a stream nobody ends: then
 * crypto_done, finding the stream gone, ends it after the answer.
 */
static void
kstream_end(struct kstream *ks, int tell_signer)
{
	if (tell_signer && !ks->busy)
		kstream_signer_end(ks->signer, ks->id);
	TAILQ_REMOVE(&kstreams, ks, entry);
	nkstreams--;
	freezero(ks, sizeof(*ks));
	if (nkstreams == 0 && kstream_ev_on) {
		evtimer_del(&kstream_ev);
		kstream_ev_on = 0;
	}
}

static void
kstream_arm(void)
{
	struct timeval	 tv = { HSM_STREAM_IDLE / 4, 0 };

	if (kstream_ev_on || nkstreams == 0)
		return;
	evtimer_set(&kstream_ev, kstream_timer, NULL);
	evtimer_add(&kstream_ev, &tv);
	kstream_ev_on = 1;
}

/* Close the streams idle for HSM_STREAM_IDLE s, a part running or not. */
static void
kstream_timer(int fd, short event, void *arg)
{
	struct kstream	*ks, *next;
	time_t		 now = kstream_now();

	kstream_ev_on = 0;
	for (ks = TAILQ_FIRST(&kstreams); ks != NULL; ks = next) {
		next = TAILQ_NEXT(ks, entry);
		if (now - ks->last > HSM_STREAM_IDLE) {
			log_debug("stream %u of %s on %s: idle, closed",
			    ks->id, ks->obj, ks->signer);
			kstream_end(ks, 1);
		}
	}
	kstream_arm();
}

/* A client connection closed: its streams go. */
void
kop_stream_conn_closed(uint64_t conn_id)
{
	struct kstream	*ks, *next;

	for (ks = TAILQ_FIRST(&kstreams); ks != NULL; ks = next) {
		next = TAILQ_NEXT(ks, entry);
		if (ks->conn_id == conn_id)
			kstream_end(ks, 1);
	}
}

/*
 * The stream fields of an Encrypt or Decrypt: part->init for a first
 * part (Init Indicator), *ksp for a later one (the open stream its
 * Correlation Value names, part->final from its Final Indicator),
 * neither for a whole operation.  A Correlation Value that is not one
 * of this identity on this connection names nothing.  0, or -1 with
 * the item failed.
 */
static int
cop_stream(struct kreq *r, const struct ttlv *req, struct cop_part *part,
    struct kstream **ksp)
{
	struct kstream	*ks;
	const uint8_t	*cv = NULL;
	char		 id[KS_ID_MAX];
	size_t		 cvlen = 0;
	int		 init = 0, final = 0, hascv;

	*ksp = NULL;
	memset(part, 0, sizeof(*part));
	if (ttlv_find(req, KMIP_TAG_INIT_INDICATOR) == NULL &&
	    ttlv_find(req, KMIP_TAG_FINAL_INDICATOR) == NULL &&
	    ttlv_find(req, KMIP_TAG_CORRELATION_VALUE) == NULL)
		return (0);
	if (!kreq_version_at_least(r, 1, 3)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Init Indicator, "
		    "Final Indicator and Correlation Value are KMIP 1.3; this "
		    "request is %d.%d", (int)r->major, (int)r->minor);
		return (-1);
	}
	if ((ttlv_find(req, KMIP_TAG_INIT_INDICATOR) != NULL &&
	    ttlv_get_bool(req, KMIP_TAG_INIT_INDICATOR, &init) == -1) ||
	    (ttlv_find(req, KMIP_TAG_FINAL_INDICATOR) != NULL &&
	    ttlv_get_bool(req, KMIP_TAG_FINAL_INDICATOR, &final) == -1) ||
	    (ttlv_find(req, KMIP_TAG_CORRELATION_VALUE) != NULL &&
	    ttlv_get_bytes(req, KMIP_TAG_CORRELATION_VALUE, &cv,
	    &cvlen) == -1)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Init and Final "
		    "Indicator are Booleans, Correlation Value a Byte String");
		return (-1);
	}
	/* An empty Byte String may have no data: found is what counts. */
	hascv = ttlv_find(req, KMIP_TAG_CORRELATION_VALUE) != NULL;
	if (init && hascv) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "a first part (Init "
		    "Indicator) has no Correlation Value: the server makes it");
		return (-1);
	}
	if (init) {
		/* Init and Final: the whole operation in one part. */
		part->init = !final;
		return (0);
	}
	if (!hascv) {
		if (!final)
			return (0);
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "a Final Indicator "
		    "needs the stream's Correlation Value");
		return (-1);
	}
	TAILQ_FOREACH(ks, &kstreams, entry)
		if (cvlen == sizeof(ks->cv) &&
		    CRYPTO_memcmp(ks->cv, cv, cvlen) == 0)
			break;
	if (ks == NULL || ks->conn_id != r->hdr.conn_id ||
	    strcmp(ks->identity, r->hdr.identity) != 0) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "no open stream has "
		    "this Correlation Value (a stream lives on the connection "
		    "that opened it, %d s without a part)", HSM_STREAM_IDLE);
		return (-1);
	}
	/*
	 * The owner's part that cannot go on ends the stream, as one that
	 * fails later does: no part is skipped in what the stream gives.
	 */
	if (ks->busy) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "a part came while "
		    "the one before it ran: parts go one after the other; "
		    "the stream is ended");
		kstream_end(ks, 1);
		return (-1);
	}
	if (ks->op != r->op) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "this Correlation "
		    "Value is of an %s stream; the stream is ended",
		    kmip_op_name(ks->op));
		kstream_end(ks, 1);
		return (-1);
	}
	if (ttlv_find(req, KMIP_TAG_UNIQUE_IDENTIFIER) != NULL &&
	    (ttlv_get_text(req, KMIP_TAG_UNIQUE_IDENTIFIER, id,
	    sizeof(id)) == -1 || strcmp(id, ks->obj) != 0)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "this Correlation "
		    "Value is of a stream with another key; the stream is "
		    "ended");
		kstream_end(ks, 1);
		return (-1);
	}
	part->stream_id = ks->id;
	part->final = final;
	*ksp = ks;
	return (0);
}

/*
 * A first part: with a software AES key without Usage Limits (what
 * a part takes would be counted in a key the stream may outlive),
 * within the limits; the stream is made, busy until the signer answers.
 */
static int
cop_stream_open(struct kreq *r, const struct hsm_op *op, const struct ttlv *a,
    struct cop_part *part, struct kstream **ksp)
{
	struct kstream	*ks;
	struct esigner	*es;
	size_t		 mine = 0;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, r->obj.signer) == 0)
			break;
	if (es == NULL || es->link.type != SIGNER_OPENSSL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "streams are "
		    "for software keys: key %s is in signer \"%s\"",
		    r->obj.id, r->obj.signer);
		return (-1);
	}
	if (op->kind != HSM_KEY_AES) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "streams are AES "
		    "Encrypt and Decrypt");
		return (-1);
	}
	if (attr_get(a, "Usage Limits", 0) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "key %s has "
		    "Usage Limits: it is not streamed", r->obj.id);
		return (-1);
	}
	TAILQ_FOREACH(ks, &kstreams, entry)
		if (strcmp(ks->identity, r->hdr.identity) == 0)
			mine++;
	if (mine >= KSTREAM_PER_ID || nkstreams >= KSTREAM_MAX) {
		kreq_fail(r, KMIP_REASON_SERVER_LIMIT_EXCEEDED, "%s streams "
		    "open (at most %d per client, %d in all): end one with "
		    "its Final Indicator, or it closes after %d s without a "
		    "part", mine >= KSTREAM_PER_ID ? "this client has" :
		    "the server has", KSTREAM_PER_ID, KSTREAM_MAX,
		    HSM_STREAM_IDLE);
		return (-1);
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		fatal(NULL);
	arc4random_buf(ks->cv, sizeof(ks->cv));
	/*
	 * Never 0, and never one still open after the counter wrapped; from
	 * a random start, so that a new engine does not name the streams a
	 * signer may still hold of the one before.
	 */
	if (kstream_last_id == 0)
		kstream_last_id = arc4random();
	do {
		ks->id = ++kstream_last_id;
	} while (ks->id == 0 || kstream_by_id(ks->id) != NULL);
	ks->conn_id = r->hdr.conn_id;
	(void)strlcpy(ks->identity, r->hdr.identity, sizeof(ks->identity));
	(void)strlcpy(ks->obj, r->obj.id, sizeof(ks->obj));
	(void)strlcpy(ks->signer, r->obj.signer, sizeof(ks->signer));
	ks->op = r->op;
	ks->busy = 1;
	ks->last = kstream_now();
	TAILQ_INSERT_TAIL(&kstreams, ks, entry);
	nkstreams++;
	kstream_arm();
	part->stream_id = ks->id;
	*ksp = ks;
	return (0);
}

enum kop_ret
op_crypto(struct kreq *r, const struct ttlv *req)
{
	const struct cop	*c = NULL;
	const struct ttlv	*d, *dd;
	struct hsm_op		 op;
	struct iovec		 iov[6];
	const struct ttlv	*a;
	struct ttlv		*own = NULL, *byid;
	struct kstream		*ks = NULL;
	struct cop_part		 part, *pp;
	char			 id[KS_ID_MAX], why[128];
	size_t			 i;
	uint32_t		 mask = 0;
	int32_t			 m;
	int			 ok_state, stream, rv;
	enum kop_ret		 ret = KOP_DONE;

	for (i = 0; i < sizeof(cops) / sizeof(cops[0]); i++)
		if (cops[i].kmip_op == r->op)
			c = &cops[i];
	if (c == NULL)
		fatalx("%s: operation %u", __func__, r->op);
	memset(&part, 0, sizeof(part));
	if (c->hsm_op == HSM_OP_ENCRYPT || c->hsm_op == HSM_OP_DECRYPT) {
		if (cop_stream(r, req, &part, &ks) == -1)
			return (KOP_DONE);
	} else if (kop_no_stream(r, req) == -1)
		return (KOP_DONE);
	stream = part.init || ks != NULL;
	if (ks != NULL) {
		/* A later part: the stream's key, as it is now. */
		byid = ttlv_new_structure(0);
		ttlv_add_text(byid, KMIP_TAG_UNIQUE_IDENTIFIER, ks->obj,
		    strlen(ks->obj));
		rv = kop_load(r, byid, id, sizeof(id));
		ttlv_free(byid);
		if (rv == -1) {
			kstream_end(ks, 1);
			return (KOP_DONE);
		}
	} else if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	memset(&op, 0, sizeof(op));
	(void)strlcpy(op.id, id, sizeof(op.id));
	op.op = c->hsm_op;
	/* kop_load checked them: decoded then, and kept (attrs_view). */
	if ((a = attrs_view(engine->ks, &r->obj, &own, why,
	    sizeof(why))) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s is "
		    "damaged: %s", id, why);
		goto done;
	}
	/*
	 * Usage Limits count down in the keystore (cop_usage), and writing
	 * the object drops the cache's tree: a key that has them is worked
	 * on in a copy of its own.
	 */
	if (own == NULL && attr_get(a, "Usage Limits", 0) != NULL)
		a = own = ttlv_copy(a);
	if (attr_get_integer(a, "Cryptographic Usage Mask", &m) == 0)
		mask = m;
	if (kop_key_kind(r, a, &op.kind) == -1)
		goto done;
	if (!cop_type_ok(c, r->obj.type, op.kind)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "object %s cannot "
		    "do %s", id, kmip_op_name(r->op));
		goto done;
	}
	/*
	 * Only Active keys sign, encrypt or MAC.  Verify may also use a
	 * public key that was never activated (Krill and Cascade activate
	 * only the private half), Verify and Decrypt a retired key.
	 */
	ok_state = r->obj.state == KMIP_STATE_ACTIVE ||
	    (c->hsm_op == HSM_OP_VERIFY &&
	    r->obj.state == KMIP_STATE_PRE_ACTIVE) ||
	    (c->after_active && (r->obj.state == KMIP_STATE_DEACTIVATED ||
	    r->obj.state == KMIP_STATE_COMPROMISED));
	if (!ok_state) {
		kreq_fail(r, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "key %s "
		    "is not active", id);
		goto done;
	}
	if (cop_dates(r, c, a) == -1)
		goto done;
	if (mask != 0 && !(mask & c->usage)) {
		kreq_fail(r, KMIP_REASON_INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK,
		    "key %s may not do %s (Cryptographic Usage Mask)", id,
		    kmip_op_name(r->op));
		goto done;
	}
	/*
	 * Data, or for Sign and Signature Verify from KMIP 1.4 on the
	 * Digested Data the client made (the hash of the parameters), as a
	 * CA's Sign(digest) hands over: the signer signs it as it is.
	 */
	d = ttlv_find(req, KMIP_TAG_DATA);
	dd = ttlv_find(req, KMIP_TAG_DIGESTED_DATA);
	if (dd != NULL && (!kreq_version_at_least(r, 1, 4) ||
	    (op.op != HSM_OP_SIGN && op.op != HSM_OP_VERIFY) || d != NULL ||
	    dd->type != TTLV_BYTE_STRING)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Digested Data: a "
		    "Byte String instead of Data, in Sign and Signature "
		    "Verify of KMIP 1.4 and later");
		goto done;
	}
	if (dd != NULL)
		op.flags |= HSM_OPF_PREHASHED;
	else if (d == NULL || d->type != TTLV_BYTE_STRING) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Data");
		goto done;
	}
	if (cop_params(r, req, a, &op, &iov[5]) == -1 ||
	    cop_hmac(r, c, req, a, mask, &op) == -1)
		goto done;
	iov[0].iov_base = r->obj.material;
	iov[0].iov_len = op.len_key = r->obj.material_len;
	cop_part(req, dd != NULL ? KMIP_TAG_DIGESTED_DATA : KMIP_TAG_DATA,
	    &iov[1], &op.len_data);
	cop_part(req, KMIP_TAG_IV_COUNTER_NONCE, &iov[2], &op.len_iv);
	cop_part(req, KMIP_TAG_AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
	    &iov[3], &op.len_aad);
	cop_part(req, op.op == HSM_OP_VERIFY ? KMIP_TAG_SIGNATURE_DATA :
	    op.op == HSM_OP_MAC_VERIFY ? KMIP_TAG_MAC_DATA :
	    KMIP_TAG_AUTHENTICATED_ENCRYPTION_TAG, &iov[4], &op.len_sig);
	if (op.op == HSM_OP_VERIFY && op.len_sig == 0) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Signature Data");
		goto done;
	}
	if (op.op == HSM_OP_MAC_VERIFY && op.len_sig == 0) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no MAC Data");
		goto done;
	}
	if (stream && cop_stream_part(r, req, &part, ks, &op, iov) == -1)
		goto done;
	if (!stream && op.op == HSM_OP_DECRYPT && op.kind == HSM_KEY_AES &&
	    op.mode == HSM_MODE_GCM && (op.len_iv == 0 || op.len_sig == 0)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "AES-GCM decryption "
		    "needs the IV/Counter/Nonce and the Authenticated "
		    "Encryption Tag");
		goto done;
	}
	/* What there is to decrypt cannot be known without it. */
	if (!stream && op.op == HSM_OP_DECRYPT && op.kind == HSM_KEY_AES &&
	    (op.mode == HSM_MODE_CBC || op.mode == HSM_MODE_CTR) &&
	    op.len_iv == 0) {
		kreq_fail(r, KMIP_REASON_INVALID_MESSAGE, "AES-CBC and CTR "
		    "decryption needs the IV/Counter/Nonce");
		goto done;
	}
	if (part.init && cop_stream_open(r, &op, a, &part, &ks) == -1)
		goto done;
	if (own != NULL && cop_usage(r, c, own, op.len_data) == -1)
		goto done;
	if (stream) {
		op.flags |= HSM_OPF_STREAM | (part.init ? HSM_OPF_INIT : 0) |
		    (part.final ? HSM_OPF_FINAL : 0);
		op.stream_id = part.stream_id;
		ks->busy = 1;
		ks->last = kstream_now();
		if ((pp = malloc(sizeof(*pp))) == NULL)
			fatal(NULL);
		*pp = part;
		r->opstate = pp;
		r->opstate_free = free;
	}
	/* What the signer checks too (hsm_pick). */
	if (!hsm_op_stream_ok(op.op, op.flags, op.stream_id, op.len_key +
	    op.len_data + op.len_iv + op.len_aad + op.len_sig +
	    op.len_label)) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "stream fields "
		    "that do not agree");
		goto done;
	}
	if (kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op, sizeof(op),
	    iov, 6, crypto_done) == 0)
		ret = KOP_WAIT;
 done:
	/* A part that fails ends its stream; a first part was not sent. */
	if (ret == KOP_DONE && ks != NULL) {
		ks->busy = 0;
		kstream_end(ks, !part.init);
	}
	ttlv_free(own);
	return (ret);
}

/*
 * What a stream's part sends: the first part is a whole request (its
 * tag, of a GCM decryption, comes with the last part); a later part its
 * data alone, and the tag at the end of a GCM decryption.
 */
static int
cop_stream_part(struct kreq *r, const struct ttlv *req,
    const struct cop_part *part, const struct kstream *ks,
    struct hsm_op *op, struct iovec *iov)
{
	if (part->init) {
		if (op->len_sig != 0) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the "
			    "Authenticated Encryption Tag of a stream comes "
			    "with its last part");
			return (-1);
		}
		return (0);
	}
	if (op->len_iv != 0 || op->len_aad != 0 || op->len_label != 0 ||
	    ttlv_find(req, KMIP_TAG_DIGESTED_DATA) != NULL ||
	    (op->len_sig != 0 && (!part->final ||
	    ks->op != KMIP_OP_DECRYPT))) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "a later part of a "
		    "stream has Data (and at the end of a decryption the "
		    "Authenticated Encryption Tag): the rest came with its "
		    "first part");
		return (-1);
	}
	/* The signer has the key in the stream's context. */
	iov[0].iov_len = op->len_key = 0;
	return (0);
}

static enum kop_ret
crypto_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	const struct cop_part	*part = r->opstate;
	struct kstream		*ks = NULL;

	if (part != NULL && (ks = kstream_by_id(part->stream_id)) == NULL) {
		/* Closed while the part ran: idle, or its connection. */
		if (res->status == 0 && !part->final)
			kstream_signer_end(r->obj.signer, part->stream_id);
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the stream was "
		    "closed while this part ran");
		return (KOP_DONE);
	}
	if (kop_signer_failed(r, res) == -1) {
		/* The signer ended it (hsmmsg.h), or never had it. */
		if (ks != NULL)
			kstream_end(ks, 0);
		return (KOP_DONE);
	}
	kop_payload_id(r, r->obj.id);
	switch (r->op) {
	case KMIP_OP_SIGN:
		ttlv_add_bytes(r->payload, KMIP_TAG_SIGNATURE_DATA, o1,
		    res->len_out1);
		break;
	case KMIP_OP_SIGNATURE_VERIFY:
	case KMIP_OP_MAC_VERIFY:
		ttlv_add_enum(r->payload, KMIP_TAG_VALIDITY_INDICATOR,
		    res->valid ? KMIP_VALIDITY_VALID : KMIP_VALIDITY_INVALID);
		break;
	case KMIP_OP_ENCRYPT:
		ttlv_add_bytes(r->payload, KMIP_TAG_DATA, o1, res->len_out1);
		/* An IV goes back only if we made it, not the client. */
		if (res->len_out2 > 0 && ttlv_find(ttlv_find(r->cur,
		    KMIP_TAG_REQUEST_PAYLOAD), KMIP_TAG_IV_COUNTER_NONCE) ==
		    NULL)
			ttlv_add_bytes(r->payload, KMIP_TAG_IV_COUNTER_NONCE,
			    o2, res->len_out2);
		if (ks != NULL && !part->final)
			ttlv_add_bytes(r->payload, KMIP_TAG_CORRELATION_VALUE,
			    ks->cv, sizeof(ks->cv));
		if (res->len_out3 > 0)
			ttlv_add_bytes(r->payload,
			    KMIP_TAG_AUTHENTICATED_ENCRYPTION_TAG, o3,
			    res->len_out3);
		break;
	case KMIP_OP_DECRYPT:
		ttlv_add_bytes(r->payload, KMIP_TAG_DATA, o1, res->len_out1);
		if (ks != NULL && !part->final)
			ttlv_add_bytes(r->payload, KMIP_TAG_CORRELATION_VALUE,
			    ks->cv, sizeof(ks->cv));
		break;
	case KMIP_OP_MAC:
		ttlv_add_bytes(r->payload, KMIP_TAG_MAC_DATA, o1,
		    res->len_out1);
		break;
	}
	if (ks != NULL) {
		ks->busy = 0;
		ks->last = kstream_now();
		/* The signer closed it with the last part. */
		if (part->final)
			kstream_end(ks, 0);
	}
	return (KOP_DONE);
}
