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

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attrs.h"
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

static enum kop_ret	 crypto_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static int		 cop_dates(struct kreq *, const struct cop *,
			    const struct ttlv *);
static int		 cop_usage(struct kreq *, const struct cop *,
			    struct ttlv *, size_t);
static int		 cop_params14(struct kreq *, const struct ttlv *, int,
			    struct hsm_op *, struct iovec *);
static int		 cop_hmac(struct kreq *, const struct cop *,
			    const struct ttlv *, const struct ttlv *, uint32_t,
			    struct hsm_op *);

static uint32_t
hsm_hash(uint32_t kmip_hash)
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
	return (0xffffffff);
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
	    &v) == -1 || (op->mgf_hash = hsm_hash(v)) == 0xffffffff)) {
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
	    (op->hash = hsm_hash(v)) == 0xffffffff) {
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

enum kop_ret
op_crypto(struct kreq *r, const struct ttlv *req)
{
	const struct cop	*c = NULL;
	const struct ttlv	*d, *dd;
	struct hsm_op		 op;
	struct iovec		 iov[6];
	const struct ttlv	*a;
	struct ttlv		*own = NULL;
	char			 id[KS_ID_MAX], why[128];
	size_t			 i;
	uint32_t		 mask = 0;
	int32_t			 m;
	int			 ok_state;
	enum kop_ret		 ret = KOP_DONE;

	for (i = 0; i < sizeof(cops) / sizeof(cops[0]); i++)
		if (cops[i].kmip_op == r->op)
			c = &cops[i];
	if (c == NULL)
		fatalx("%s: operation %u", __func__, r->op);
	if (kop_no_stream(r, req) == -1 ||
	    kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	memset(&op, 0, sizeof(op));
	(void)strlcpy(op.id, id, sizeof(op.id));
	op.op = c->hsm_op;
	/* kop_load checked them: decoded then, and kept (attrs_view). */
	if ((a = attrs_view(engine->ks, &r->obj, &own, why,
	    sizeof(why))) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s is "
		    "damaged: %s", id, why);
		return (KOP_DONE);
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
	if (op.op == HSM_OP_DECRYPT && op.kind == HSM_KEY_AES &&
	    op.mode == HSM_MODE_GCM && (op.len_iv == 0 || op.len_sig == 0)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "AES-GCM decryption "
		    "needs the IV/Counter/Nonce and the Authenticated "
		    "Encryption Tag");
		goto done;
	}
	/* What there is to decrypt cannot be known without it. */
	if (op.op == HSM_OP_DECRYPT && op.kind == HSM_KEY_AES &&
	    (op.mode == HSM_MODE_CBC || op.mode == HSM_MODE_CTR) &&
	    op.len_iv == 0) {
		kreq_fail(r, KMIP_REASON_INVALID_MESSAGE, "AES-CBC and CTR "
		    "decryption needs the IV/Counter/Nonce");
		goto done;
	}
	if (own != NULL && cop_usage(r, c, own, op.len_data) == -1)
		goto done;
	if (kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op, sizeof(op),
	    iov, 6, crypto_done) == 0)
		ret = KOP_WAIT;
 done:
	ttlv_free(own);
	return (ret);
}

static enum kop_ret
crypto_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
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
		if (res->len_out3 > 0)
			ttlv_add_bytes(r->payload,
			    KMIP_TAG_AUTHENTICATED_ENCRYPTION_TAG, o3,
			    res->len_out3);
		break;
	case KMIP_OP_DECRYPT:
		ttlv_add_bytes(r->payload, KMIP_TAG_DATA, o1, res->len_out1);
		break;
	case KMIP_OP_MAC:
		ttlv_add_bytes(r->payload, KMIP_TAG_MAC_DATA, o1,
		    res->len_out1);
		break;
	}
	return (KOP_DONE);
}
