/*
 * New objects: Create, Create Key Pair and Register.
 */
#include <sys/param.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "attrs.h"
#include "engine.h"
#include "kmip.h"
#include "kop.h"
#include "kreq.h"
#include "log.h"

/* --- Create --------------------------------------------------------- */

static void		 kop_attrs_free(void *);
static enum kop_ret	 create_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);

/*
 * A pkcs11 signer makes private and secret keys CKA_SENSITIVE and not
 * CKA_EXTRACTABLE: the attributes say so, whatever the template asked
 * (the token object could not be otherwise).
 */
void
kop_token_attrs(const char *signer, struct ttlv *a)
{
	struct esigner	*es;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, signer) == 0)
			break;
	if (es == NULL || es->link.type != SIGNER_PKCS11)
		return;
	attr_set_bool(a, "Sensitive", 1);
	attr_set_bool(a, "Always Sensitive", 1);
	attr_set_bool(a, "Extractable", 0);
	attr_set_bool(a, "Never Extractable", 1);
}

/*
 * Random Number Generator (KMIP 1.3+) of a key the signer made: the
 * software signer draws from OpenSSL's default DRBG, CTR_DRBG with
 * AES-256; what a token uses, it does not say.
 */
void
kop_rng_attr(const char *signer, struct ttlv *a)
{
	struct ttlv	*t = ttlv_new_structure(0), *v;

	v = ttlv_add_structure(t, KMIP_TAG_ATTRIBUTE_VALUE);
	if (kop_signer_is_token(signer))
		ttlv_add_enum(v, KMIP_TAG_RNG_ALGORITHM, KMIP_RNG_UNSPECIFIED);
	else {
		ttlv_add_enum(v, KMIP_TAG_RNG_ALGORITHM, KMIP_RNG_DRBG);
		ttlv_add_enum(v, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
		    KMIP_ALG_AES);
		ttlv_add_integer(v, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, 256);
		ttlv_add_enum(v, KMIP_TAG_DRBG_ALGORITHM, KMIP_DRBG_CTR);
	}
	attr_set(a, "Random Number Generator", 0, v);
	ttlv_free(t);
}

enum kop_ret
op_create(struct kreq *r, const struct ttlv *req)
{
	struct hsm_generate	 g;
	struct ttlv		*a;
	const char		*signer = NULL;
	char			 hsmid[KS_ID_MAX];
	uint32_t		 type, alg;
	int32_t			 len = 0;

	if (ttlv_get_enum(req, KMIP_TAG_OBJECT_TYPE, &type) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Object Type");
		return (KOP_DONE);
	}
	if (type != KMIP_OBJ_SYMMETRIC_KEY) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Create makes "
		    "symmetric keys; use Create Key Pair for key pairs");
		return (KOP_DONE);
	}
	a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	if (kop_template(r, ttlv_find(req, KMIP_TAG_TEMPLATE_ATTRIBUTE),
	    a) == -1)
		goto done;
	memset(&g, 0, sizeof(g));
	if (attr_get_enum(a, "Cryptographic Algorithm", &alg) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD,
		    "no Cryptographic Algorithm");
		goto done;
	}
	(void)attr_get_integer(a, "Cryptographic Length", &len);
	switch (alg) {
	case KMIP_ALG_AES:
		if (len != 128 && len != 192 && len != 256) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "AES keys are "
			    "128, 192 or 256 bits long");
			goto done;
		}
		g.kind = HSM_KEY_AES;
		break;
	case KMIP_ALG_HMAC_SHA256:
	case KMIP_ALG_HMAC_SHA384:
	case KMIP_ALG_HMAC_SHA512:
		g.kind = alg == KMIP_ALG_HMAC_SHA256 ? HSM_KEY_HMAC_SHA256 :
		    alg == KMIP_ALG_HMAC_SHA384 ? HSM_KEY_HMAC_SHA384 :
		    HSM_KEY_HMAC_SHA512;
		if (len == 0)
			len = alg == KMIP_ALG_HMAC_SHA256 ? 256 :
			    alg == KMIP_ALG_HMAC_SHA384 ? 384 : 512;
		if (len < 128 || len > 1024 || len % 8 != 0) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "HMAC keys are "
			    "128 to 1024 bits long, in bytes");
			goto done;
		}
		attr_set_integer(a, "Cryptographic Length", len);
		break;
	case KMIP_ALG_3DES:
		/*
		 * Three-key Triple DES (168 bits, 192 with parity), for the
		 * Symmetric Key Foundry profile: made, kept and given, but
		 * no signer encrypts with it.
		 */
		if (len != 168) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Triple DES "
			    "keys are 168 bits long");
			goto done;
		}
		g.kind = HSM_KEY_DES3;
		break;
	default:
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Create supports AES, "
		    "HMAC and Triple DES keys");
		goto done;
	}
	g.bits = g.kind == HSM_KEY_DES3 ? 192 : len;
	if (kop_hsm_ids(r, ttlv_find(req, KMIP_TAG_TEMPLATE_ATTRIBUTE), NULL,
	    NULL, hsmid, &signer) == -1 ||
	    (hsmid[0] == '\0' && (signer = kop_default_signer(r)) == NULL) ||
	    kop_new_object(r, &r->obj, type, alg, signer) == -1)
		goto done;
	if (g.kind == HSM_KEY_DES3 && kop_signer_is_token(signer)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Triple DES keys are "
		    "kept by openssl signers only");
		goto done;
	}
	if (hsmid[0] != '\0')
		(void)strlcpy(r->obj.id, hsmid, sizeof(r->obj.id));
	kop_initial_attrs(a, &r->obj);
	kop_token_attrs(signer, a);
	kop_rng_attr(signer, a);
	(void)strlcpy(g.id, r->obj.id, sizeof(g.id));
	if (kop_signer_is_token(signer) &&
	    kop_label(r, a, r->obj.id, g.label, sizeof(g.label)) == -1)
		goto done;
	if (kreq_signer_send(r, signer, IMSG_HSM_GENERATE, &g, sizeof(g),
	    NULL, 0, create_done) == 0) {
		/* Kept decoded for create_done, freed with the item. */
		r->opstate = a;
		r->opstate_free = kop_attrs_free;
		return (KOP_WAIT);
	}
 done:
	ttlv_free(a);
	return (KOP_DONE);
}

/* The attributes of an object being made, held while a signer works. */
static void
kop_attrs_free(void *a)
{
	ttlv_free(a);
}

/* A new secret key came back wrapped from the signer (Create, Register). */
static enum kop_ret
create_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (res->len_out1 == 0) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer "
		    "returned no key");
		return (KOP_DONE);
	}
	kop_set_material(&r->obj, o1, res->len_out1);
	/* Create's attributes wait in opstate; Register's in the object. */
	if (r->opstate_free == kop_attrs_free) {
		a = r->opstate;
		r->opstate = NULL;
		r->opstate_free = NULL;
	} else if ((a = attrs_load(&r->obj)) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "new object %s "
		    "is damaged", r->obj.id);
		return (KOP_DONE);
	}
	/* Register computed its own from the client's bytes. */
	if (r->op == KMIP_OP_CREATE && res->len_out3 == SHA256_DIGEST_LENGTH)
		attr_set_digest_value(a, o3, res->len_out3, KMIP_FMT_RAW);
	if (kop_save(r, &r->obj, a, 1) == 0) {
		/* Create answers with the Object Type, Register without. */
		if (r->op == KMIP_OP_CREATE)
			ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE,
			    r->obj.type);
		kop_payload_id(r, r->obj.id);
		(void)strlcpy(r->placeholder, r->obj.id,
		    sizeof(r->placeholder));
	}
	ttlv_free(a);
	return (KOP_DONE);
}

/* --- Create Key Pair ------------------------------------------------ */

static enum kop_ret	 ckp_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);

/*
 * The key kind from algorithm, length and curve.  Krill and Cascade send
 * ECDSA with length 256 and no curve: that is P-256.
 */
static int
kop_pair_kind(struct kreq *r, const struct ttlv *a, uint32_t *kind,
    uint32_t *bits)
{
	const struct ttlv	*dp;
	uint32_t		 alg, curve = 0;
	int32_t			 len = 0;

	if (attr_get_enum(a, "Cryptographic Algorithm", &alg) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD,
		    "no Cryptographic Algorithm");
		return (-1);
	}
	(void)attr_get_integer(a, "Cryptographic Length", &len);
	if ((dp = attr_get(a, "Cryptographic Domain Parameters", 0)) != NULL)
		(void)ttlv_get_enum(dp, KMIP_TAG_RECOMMENDED_CURVE, &curve);
	*bits = len;
	switch (alg) {
	case KMIP_ALG_RSA:
		if (len != 2048 && len != 3072 && len != 4096) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "RSA keys are "
			    "2048, 3072 or 4096 bits long");
			return (-1);
		}
		*kind = HSM_KEY_RSA;
		return (0);
	case KMIP_ALG_ECDSA:
	case KMIP_ALG_EC:
		if (curve == KMIP_CURVE_P_256 || (curve == 0 && len == 256))
			*kind = HSM_KEY_EC_P256, *bits = 256;
		else if (curve == KMIP_CURVE_P_384 ||
		    (curve == 0 && len == 384))
			*kind = HSM_KEY_EC_P384, *bits = 384;
		else if (curve == KMIP_CURVE_P_521 ||
		    (curve == 0 && len == 521))
			*kind = HSM_KEY_EC_P521, *bits = 521;
		else {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "EC keys are "
			    "on P-256, P-384 or P-521");
			return (-1);
		}
		return (0);
	case KMIP_ALG_ED25519:
		*kind = HSM_KEY_ED25519;
		*bits = 256;
		return (0);
	}
	kreq_fail(r, KMIP_REASON_INVALID_FIELD, "key pairs are RSA, ECDSA "
	    "or Ed25519");
	return (-1);
}

enum kop_ret
op_create_key_pair(struct kreq *r, const struct ttlv *req)
{
	struct hsm_generate	 g;
	struct ttlv		*priv, *pub;
	const char		*signer = NULL;
	char			 hsmid[KS_ID_MAX];
	uint32_t		 alg = 0;

	priv = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	pub = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	memset(&g, 0, sizeof(g));
	/* Each half gets the common attributes, then its own. */
	if (kop_template(r, ttlv_find(req,
	    KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE), priv) == -1 ||
	    kop_template(r, ttlv_find(req,
	    KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE), priv) == -1 ||
	    kop_template(r, ttlv_find(req,
	    KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE), pub) == -1 ||
	    kop_template(r, ttlv_find(req,
	    KMIP_TAG_PUBLIC_KEY_TEMPLATE_ATTRIBUTE), pub) == -1 ||
	    kop_pair_kind(r, priv, &g.kind, &g.bits) == -1)
		goto done;
	(void)attr_get_enum(priv, "Cryptographic Algorithm", &alg);
	attr_set_integer(priv, "Cryptographic Length", g.bits);
	attr_set_integer(pub, "Cryptographic Length", g.bits);
	if (kop_hsm_ids(r, ttlv_find(req, KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE),
	    ttlv_find(req, KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE),
	    ttlv_find(req, KMIP_TAG_PUBLIC_KEY_TEMPLATE_ATTRIBUTE), hsmid,
	    &signer) == -1 ||
	    (hsmid[0] == '\0' && (signer = kop_default_signer(r)) == NULL) ||
	    kop_new_object(r, &r->obj, KMIP_OBJ_PRIVATE_KEY, alg,
	    signer) == -1 ||
	    kop_new_object(r, &r->obj2, KMIP_OBJ_PUBLIC_KEY, alg,
	    signer) == -1)
		goto done;
	if (hsmid[0] != '\0') {
		(void)strlcpy(r->obj.id, hsmid, sizeof(r->obj.id));
		(void)strlcpy(r->obj2.id, hsmid, sizeof(r->obj2.id));
		(void)strlcat(r->obj2.id, KS_PUB_SUFFIX, sizeof(r->obj2.id));
	}
	kop_initial_attrs(priv, &r->obj);
	kop_initial_attrs(pub, &r->obj2);
	kop_token_attrs(signer, priv);
	kop_rng_attr(signer, priv);
	kop_rng_attr(signer, pub);
	/* Each half links to the other. */
	attr_add_link(priv, KMIP_LINK_PUBLIC_KEY, r->obj2.id);
	attr_add_link(pub, KMIP_LINK_PRIVATE_KEY, r->obj.id);
	attrs_store(&r->obj, priv);
	attrs_store(&r->obj2, pub);
	(void)strlcpy(g.id, r->obj.id, sizeof(g.id));
	/* Each half of a token pair is labelled with its own Name. */
	if (kop_signer_is_token(signer) && (kop_label(r, priv, r->obj.id,
	    g.label, sizeof(g.label)) == -1 || kop_label(r, pub, r->obj2.id,
	    g.pub_label, sizeof(g.pub_label)) == -1))
		goto done;
	if (kreq_signer_send(r, signer, IMSG_HSM_GENERATE, &g, sizeof(g),
	    NULL, 0, ckp_done) == 0) {
		ttlv_free(priv);
		ttlv_free(pub);
		return (KOP_WAIT);
	}
 done:
	ttlv_free(priv);
	ttlv_free(pub);
	return (KOP_DONE);
}

static enum kop_ret
ckp_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;
	const uint8_t	*pkcs1;
	size_t		 plen;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (res->len_out1 == 0 || res->len_out2 == 0) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer "
		    "returned no key pair");
		return (KOP_DONE);
	}
	kop_set_material(&r->obj, o1, res->len_out1);
	kop_set_material(&r->obj2, o2, res->len_out2);

	if ((a = attrs_load(&r->obj)) != NULL &&
	    res->len_out3 == SHA256_DIGEST_LENGTH)
		attr_set_digest_value(a, o3, res->len_out3,
		    r->obj.algorithm == KMIP_ALG_RSA ? KMIP_FMT_PKCS1 :
		    r->obj.algorithm == KMIP_ALG_ED25519 ? KMIP_FMT_PKCS8 :
		    KMIP_FMT_EC_PRIVATE_KEY);
	if (a == NULL || kop_save(r, &r->obj, a, 1) == -1) {
		if (a == NULL)
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "new object "
			    "%s is damaged", r->obj.id);
		ttlv_free(a);
		return (KOP_DONE);
	}
	ttlv_free(a);
	if ((a = attrs_load(&r->obj2)) == NULL)
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "new object %s "
		    "is damaged", r->obj2.id);
	else {
		/* RSA: of PKCS#1, what Get gives by default. */
		if (r->obj2.algorithm == KMIP_ALG_RSA &&
		    kop_spki_rsa(o2, res->len_out2, &pkcs1, &plen) == 0)
			attr_set_digest(a, pkcs1, plen, KMIP_FMT_PKCS1);
		else
			attr_set_digest(a, o2, res->len_out2, KMIP_FMT_X509);
		if (kop_save(r, &r->obj2, a, 1) == -1) {
			ttlv_free(a);
			return (KOP_DONE);
		}
		ttlv_add_string(r->payload,
		    KMIP_TAG_PRIVATE_KEY_UNIQUE_IDENTIFIER, r->obj.id);
		ttlv_add_string(r->payload,
		    KMIP_TAG_PUBLIC_KEY_UNIQUE_IDENTIFIER, r->obj2.id);
		(void)strlcpy(r->placeholder, r->obj.id,
		    sizeof(r->placeholder));
	}
	ttlv_free(a);
	return (KOP_DONE);
}

/* --- Register ------------------------------------------------------ */

/*
 * The key material of a Key Block: bytes (Raw, Opaque, PKCS#1, PKCS#8,
 * X.509) or, for Transparent Symmetric Key, the Key inside a structure.
 */
static int
reg_key_block(struct kreq *r, const struct ttlv *obj, uint32_t *fmt,
    const uint8_t **p, size_t *len, uint32_t *alg)
{
	const struct ttlv	*kb, *kv, *km;

	if (obj == NULL || obj->type != TTLV_STRUCTURE ||
	    (kb = ttlv_find(obj, KMIP_TAG_KEY_BLOCK)) == NULL ||
	    ttlv_get_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, fmt) == -1 ||
	    (kv = ttlv_find(kb, KMIP_TAG_KEY_VALUE)) == NULL ||
	    (km = ttlv_find(kv, KMIP_TAG_KEY_MATERIAL)) == NULL) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Key Block with a "
		    "Key Format Type and Key Material");
		return (-1);
	}
	if (ttlv_find(kb, KMIP_TAG_KEY_WRAPPING_DATA) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "wrapped "
		    "keys cannot be registered");
		return (-1);
	}
	(void)ttlv_get_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, alg);
	if (km->type == TTLV_BYTE_STRING) {
		*p = km->v.s.data;
		*len = km->v.s.len;
		return (0);
	}
	if (*fmt == KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY &&
	    ttlv_get_bytes(km, KMIP_TAG_KEY, p, len) == 0)
		return (0);
	kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "Key "
	    "Format Type not supported for Register");
	return (-1);
}

/*
 * An Opaque Object, kept like secret data (wrapped by the signer), as
 * its Opaque Data Type (4 bytes, big-endian) then its value: the type
 * is no algorithm, and the blob is where nothing else reads it.  *buf
 * is the caller's to wipe and free.
 */
static int
reg_opaque(struct kreq *r, const struct ttlv *req, uint8_t **buf,
    size_t *len)
{
	const struct ttlv	*obj;
	const uint8_t		*v;
	size_t			 n;
	uint32_t		 otype;

	if ((obj = ttlv_find(req, KMIP_TAG_OPAQUE_OBJECT)) == NULL ||
	    obj->type != TTLV_STRUCTURE ||
	    ttlv_get_enum(obj, KMIP_TAG_OPAQUE_DATA_TYPE, &otype) == -1 ||
	    ttlv_get_bytes(obj, KMIP_TAG_OPAQUE_DATA_VALUE, &v, &n) == -1 ||
	    n == 0 || n > KOP_OPAQUE_MAX) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "an Opaque Object "
		    "has an Opaque Data Type and a value of 1 to %d bytes",
		    KOP_OPAQUE_MAX);
		return (-1);
	}
	if ((*buf = malloc(n + 4)) == NULL)
		fatal(NULL);
	(*buf)[0] = otype >> 24;
	(*buf)[1] = otype >> 16;
	(*buf)[2] = otype >> 8;
	(*buf)[3] = otype;
	memcpy(*buf + 4, v, n);
	*len = n + 4;
	return (0);
}

/*
 * What the signer found a Register'ed private key to be, from the public
 * half it answered (DER SubjectPublicKeyInfo): public data, so the
 * engine may parse it.  -1 if it does not parse or is of no kind the
 * signer makes.
 */
static int
reg_private_kind(const uint8_t *spki, size_t len, uint32_t *alg,
    int32_t *bits)
{
	EVP_PKEY	*pk;
	const uint8_t	*q = spki;
	int		 rv = -1;

	if ((pk = d2i_PUBKEY(NULL, &q, len)) == NULL || q != spki + len)
		goto done;
	*bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_is_a(pk, "RSA"))
		*alg = KMIP_ALG_RSA;
	else if (EVP_PKEY_is_a(pk, "ED25519"))
		*alg = KMIP_ALG_ED25519;
	else if (EVP_PKEY_is_a(pk, "EC") && (*bits == 256 || *bits == 384 ||
	    *bits == 521))
		*alg = KMIP_ALG_ECDSA;
	else
		goto done;
	rv = 0;
 done:
	EVP_PKEY_free(pk);
	return (rv);
}

/*
 * A Register'ed private key came back wrapped, with its public half:
 * algorithm and length come from the public half, then as Create.
 */
static enum kop_ret
reg_private_done(struct kreq *r, const struct hsm_result *res,
    const uint8_t *o1, const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;
	uint32_t	 alg;
	int32_t		 bits;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (res->len_out1 == 0 || reg_private_kind(o2, res->len_out2, &alg,
	    &bits) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer "
		    "returned no usable key");
		return (KOP_DONE);
	}
	r->obj.algorithm = alg;
	a = attrs_load(&r->obj);
	attr_set_enum(a, "Cryptographic Algorithm", alg);
	attr_set_integer(a, "Cryptographic Length", bits);
	attrs_store(&r->obj, a);
	ttlv_free(a);
	return (create_done(r, res, o1, o2, o3));
}

/* A public key as DER SubjectPublicKeyInfo, from PKCS#1 or SPKI DER. */
static int
reg_spki(struct kreq *r, uint32_t fmt, const uint8_t *p, size_t len,
    uint8_t **der, int *derlen, uint32_t *alg, int32_t *bits)
{
	EVP_PKEY	*pk = NULL;
	const uint8_t	*q = p;

	if (fmt == KMIP_FMT_PKCS1)
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, len);
	else if (fmt == KMIP_FMT_X509 || fmt == KMIP_FMT_RAW)
		pk = d2i_PUBKEY(NULL, &q, len);
	if (pk == NULL || q != p + len) {
		EVP_PKEY_free(pk);
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the public key does "
		    "not parse (SubjectPublicKeyInfo or PKCS#1 DER)");
		return (-1);
	}
	*bits = EVP_PKEY_get_bits(pk);
	*alg = EVP_PKEY_is_a(pk, "RSA") ? KMIP_ALG_RSA :
	    EVP_PKEY_is_a(pk, "ED25519") ? KMIP_ALG_ED25519 : KMIP_ALG_ECDSA;
	*der = NULL;
	*derlen = i2d_PUBKEY(pk, der);
	EVP_PKEY_free(pk);
	if (*derlen <= 0) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "cannot encode the "
		    "public key");
		return (-1);
	}
	return (0);
}

static int
reg_certificate(struct kreq *r, const struct ttlv *req, uint8_t **der,
    int *derlen)
{
	const struct ttlv	*obj;
	const uint8_t		*p, *q;
	size_t			 len;
	X509			*x;

	if ((obj = ttlv_find(req, KMIP_TAG_CERTIFICATE)) == NULL ||
	    ttlv_get_bytes(obj, KMIP_TAG_CERTIFICATE_VALUE, &p, &len) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Certificate "
		    "Value");
		return (-1);
	}
	q = p;
	if ((x = d2i_X509(NULL, &q, len)) == NULL || q != p + len) {
		X509_free(x);
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the certificate does "
		    "not parse");
		return (-1);
	}
	X509_free(x);
	if ((*der = malloc(len)) == NULL)
		fatal(NULL);
	memcpy(*der, p, len);
	*derlen = len;
	return (0);
}

static uint32_t
reg_symmetric_kind(uint32_t alg)
{
	switch (alg) {
	case KMIP_ALG_AES:
		return (HSM_KEY_AES);
	case KMIP_ALG_HMAC_SHA256:
		return (HSM_KEY_HMAC_SHA256);
	case KMIP_ALG_HMAC_SHA384:
		return (HSM_KEY_HMAC_SHA384);
	case KMIP_ALG_HMAC_SHA512:
		return (HSM_KEY_HMAC_SHA512);
	}
	return (0);
}

/*
 * Register: secrets (symmetric keys, private keys, secret data) go to the
 * default signer to be wrapped; public keys and certificates are public
 * and stored as they are.
 */
enum kop_ret
op_register(struct kreq *r, const struct ttlv *req)
{
	struct hsm_import	 im;
	struct iovec		 iov[1];
	struct ttlv		*a;
	const char		*signer;
	const uint8_t		*p = NULL;
	uint8_t			*der = NULL, *opaque = NULL;
	size_t			 len = 0;
	uint32_t		 type, fmt = 0, alg = 0, kind = 0;
	int32_t			 bits = 0;
	int			 derlen = 0;
	enum kop_ret		 ret = KOP_DONE;

	if (ttlv_get_enum(req, KMIP_TAG_OBJECT_TYPE, &type) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Object Type");
		return (KOP_DONE);
	}
	a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	if (kop_template(r, ttlv_find(req, KMIP_TAG_TEMPLATE_ATTRIBUTE),
	    a) == -1 || (signer = kop_default_signer(r)) == NULL)
		goto done;
	switch (type) {
	case KMIP_OBJ_SYMMETRIC_KEY:
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_SYMMETRIC_KEY),
		    &fmt, &p, &len, &alg) == -1)
			goto done;
		(void)attr_get_enum(a, "Cryptographic Algorithm", &alg);
		if ((kind = reg_symmetric_kind(alg)) == 0) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "symmetric "
			    "keys are AES or HMAC");
			goto done;
		}
		bits = len * 8;
		break;
	case KMIP_OBJ_SECRET_DATA:
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_SECRET_DATA),
		    &fmt, &p, &len, &alg) == -1)
			goto done;
		kind = HSM_KEY_SECRET;
		alg = 0;
		break;
	case KMIP_OBJ_PRIVATE_KEY:
		/*
		 * Only the signer parses a private key: the engine keeps no
		 * copy, and OpenSSL here would leave some in freed memory.
		 */
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_PRIVATE_KEY),
		    &fmt, &p, &len, &alg) == -1)
			goto done;
		kind = HSM_KEY_PRIVATE;
		alg = 0;
		break;
	case KMIP_OBJ_PUBLIC_KEY:
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_PUBLIC_KEY),
		    &fmt, &p, &len, &alg) == -1 ||
		    reg_spki(r, fmt, p, len, &der, &derlen, &alg,
		    &bits) == -1)
			goto done;
		break;
	case KMIP_OBJ_CERTIFICATE:
		if (reg_certificate(r, req, &der, &derlen) == -1)
			goto done;
		break;
	case KMIP_OBJ_OPAQUE_DATA:
		if (reg_opaque(r, req, &opaque, &len) == -1)
			goto done;
		p = opaque;
		kind = HSM_KEY_SECRET;
		alg = 0;
		break;
	default:
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Register takes "
		    "symmetric keys, private and public keys, secret data, "
		    "opaque objects and certificates");
		goto done;
	}
	/* A public key still needs a signer for Verify and Encrypt. */
	if (kop_new_object(r, &r->obj, type, alg,
	    type == KMIP_OBJ_CERTIFICATE ? "" : signer) == -1)
		goto done;
	if (alg != 0)
		attr_set_enum(a, "Cryptographic Algorithm", alg);
	if (bits != 0)
		attr_set_integer(a, "Cryptographic Length", bits);
	kop_initial_attrs(a, &r->obj);
	/* Over the value as the client gave it, in its format. */
	if (type == KMIP_OBJ_CERTIFICATE)
		attr_set_digest(a, der, derlen, 0);
	else if (type == KMIP_OBJ_OPAQUE_DATA)
		attr_set_digest(a, p + 4, len - 4, 0);
	else
		attr_set_digest(a, p, len, fmt);
	if (type == KMIP_OBJ_PUBLIC_KEY || type == KMIP_OBJ_CERTIFICATE) {
		r->obj.material = der;
		r->obj.material_len = derlen;
		der = NULL;
		if (kop_save(r, &r->obj, a, 1) == 0) {
			kop_payload_id(r, r->obj.id);
			(void)strlcpy(r->placeholder, r->obj.id,
			    sizeof(r->placeholder));
		}
		goto done;
	}
	attrs_store(&r->obj, a);
	memset(&im, 0, sizeof(im));
	(void)strlcpy(im.id, r->obj.id, sizeof(im.id));
	im.kind = kind;
	im.format = kind != HSM_KEY_PRIVATE ? HSM_FMT_RAW :
	    fmt == KMIP_FMT_PKCS8 ? HSM_FMT_PKCS8 : HSM_FMT_DER;
	im.len_key = len;
	iov[0].iov_base = (void *)(uintptr_t)p;
	iov[0].iov_len = len;
	if (kreq_signer_send(r, signer, IMSG_HSM_IMPORT, &im, sizeof(im),
	    iov, 1, kind == HSM_KEY_PRIVATE ? reg_private_done :
	    create_done) == 0)
		ret = KOP_WAIT;
 done:
	if (der != NULL)
		freezero(der, derlen);
	if (opaque != NULL)
		freezero(opaque, len);
	ttlv_free(a);
	return (ret);
}
