/*
 * Get: public keys in the requested format, certificates, and secret
 * keys the signer unwraps, or wraps under another key of the client's
 * (a Key Wrapping Specification); never a private key.
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

static void		 get_private(struct kreq *, const char *);
static void		 get_certificate(struct kreq *);
static enum kop_ret	 get_secret(struct kreq *, uint32_t);
static enum kop_ret	 get_secret_done(struct kreq *,
			    const struct hsm_result *, const uint8_t *,
			    const uint8_t *, const uint8_t *);
static struct ttlv	*get_key_block(struct kreq *, const uint8_t *, size_t,
			    int);
static int		 get_unfresh(struct kreq *);
static void		 wrap_free(void *);
static int		 wrap_params(struct kreq *, const struct ttlv *,
			    const struct ttlv *, struct hsm_op *,
			    struct iovec *);
static int		 wrap_attrs(struct kreq *, const struct ttlv *,
			    uint8_t **, size_t *);
static int		 wrap_key_load(struct kreq *, const struct ttlv *,
			    const struct ttlv **, struct ttlv **);
static enum kop_ret	 get_wrapped(struct kreq *, uint32_t,
			    const struct ttlv *);
static enum kop_ret	 get_wrapped_done(struct kreq *,
			    const struct hsm_result *, const uint8_t *,
			    const uint8_t *, const uint8_t *);

/* What a Get with a Key Wrapping Specification answers with. */
struct get_wrap {
	char		 wid[KS_ID_MAX];	/* the wrapping key */
	struct ttlv	*params;		/* Cryptographic Parameters */
	uint32_t	 enc;			/* Encoding Option, 0: none */
	uint8_t		*attrs;			/* the TTLV Attributes sent */
	size_t		 attrs_len;
};

#define WRAP_NAMES_MAX	32		/* Attribute Names to wrap */
#define WRAP_ATTRS_MAX	(64 * 1024)	/* their encoding */

/*
 * One DER element of *p (tag, then a length of at most 3 bytes), inside
 * *len bytes; its content in val.  -1 if the tag differs or anything
 * does not fit.  Enough to walk the SubjectPublicKeyInfo the signer made.
 */
static int
der_next(const uint8_t **p, size_t *len, uint8_t tag, const uint8_t **val,
    size_t *vlen)
{
	const uint8_t	*b = *p;
	size_t		 n = *len, l, hl = 2, i;

	if (n < 2 || b[0] != tag)
		return (-1);
	if (b[1] < 0x80)
		l = b[1];
	else {
		if ((b[1] & 0x7f) == 0 || (b[1] & 0x7f) > 3 ||
		    n < 2 + (size_t)(b[1] & 0x7f))
			return (-1);
		hl += b[1] & 0x7f;
		for (l = 0, i = 2; i < hl; i++)
			l = l << 8 | b[i];
	}
	if (l > n - hl)
		return (-1);
	*val = b + hl;
	*vlen = l;
	*p = b + hl + l;
	*len = n - hl - l;
	return (0);
}

/* The RSAPublicKey (PKCS#1) inside an RSA SubjectPublicKeyInfo. */
int
kop_spki_rsa(const uint8_t *spki, size_t len, const uint8_t **pkcs1,
    size_t *plen)
{
	const uint8_t	*seq, *alg, *bits;
	size_t		 seqlen, alglen, bitslen;

	if (der_next(&spki, &len, 0x30, &seq, &seqlen) == -1 || len != 0 ||
	    der_next(&seq, &seqlen, 0x30, &alg, &alglen) == -1 ||
	    der_next(&seq, &seqlen, 0x03, &bits, &bitslen) == -1 ||
	    seqlen != 0 || bitslen < 2 || bits[0] != 0)
		return (-1);
	*pkcs1 = bits + 1;
	*plen = bitslen - 1;
	return (0);
}

/* A DER INTEGER's content as a KMIP Big Integer (padded to 8 bytes). */
static void
add_der_integer(struct ttlv *s, uint32_t tag, const uint8_t *v, size_t n)
{
	uint8_t	*b;
	size_t	 len = (n + 7) / 8 * 8;

	/* DER keeps a positive value's top bit clear: zeros keep it so. */
	if ((b = calloc(1, len)) == NULL)
		fatal(NULL);
	memcpy(b + len - n, v, n);
	ttlv_add_bigint(s, tag, b, len);
	free(b);
}

/*
 * The Key Block of a public key in the format asked for: Raw / X.509
 * (DER SubjectPublicKeyInfo), PKCS#1 (DER RSAPublicKey) or Transparent
 * RSA Public Key.  Default: PKCS#1 for RSA, Raw for the others, which is
 * what Krill and Cascade read.  No OpenSSL decoding here: the stored
 * SubjectPublicKeyInfo was made by the signer, and a DER walk is all a
 * Get needs (d2i_PUBKEY costs 100 us on OpenSSL 3.0).
 */
static int
get_public(struct kreq *r, uint32_t fmt)
{
	const uint8_t	*pkcs1 = NULL, *seq, *n, *e;
	size_t		 plen = 0, seqlen, nlen, elen;
	const struct ttlv *a;
	struct ttlv	*kb, *kv, *km, *own;
	char		 why[128];
	int32_t		 bits = 0;
	int		 isrsa = r->obj.algorithm == KMIP_ALG_RSA;

	if (fmt == 0)
		fmt = isrsa ? KMIP_FMT_PKCS1 : KMIP_FMT_RAW;
	if ((fmt == KMIP_FMT_PKCS1 ||
	    fmt == KMIP_FMT_TRANSPARENT_RSA_PUBLIC_KEY) && (!isrsa ||
	    kop_spki_rsa(r->obj.material, r->obj.material_len, &pkcs1,
	    &plen) == -1)) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "this "
		    "key cannot be given in that Key Format Type");
		return (-1);
	}
	if (fmt != KMIP_FMT_RAW && fmt != KMIP_FMT_X509 &&
	    fmt != KMIP_FMT_PKCS1 &&
	    fmt != KMIP_FMT_TRANSPARENT_RSA_PUBLIC_KEY) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "public "
		    "keys are given as Raw, X.509, PKCS#1 or Transparent RSA");
		return (-1);
	}
	kb = ttlv_add_structure(ttlv_add_structure(r->payload,
	    KMIP_TAG_PUBLIC_KEY), KMIP_TAG_KEY_BLOCK);
	ttlv_add_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, fmt);
	kv = ttlv_add_structure(kb, KMIP_TAG_KEY_VALUE);
	switch (fmt) {
	case KMIP_FMT_RAW:
	case KMIP_FMT_X509:
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, r->obj.material,
		    r->obj.material_len);
		break;
	case KMIP_FMT_PKCS1:
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, pkcs1, plen);
		break;
	case KMIP_FMT_TRANSPARENT_RSA_PUBLIC_KEY:
		if (der_next(&pkcs1, &plen, 0x30, &seq, &seqlen) == -1 ||
		    der_next(&seq, &seqlen, 0x02, &n, &nlen) == -1 ||
		    der_next(&seq, &seqlen, 0x02, &e, &elen) == -1) {
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "stored "
			    "public key does not parse");
			return (-1);
		}
		km = ttlv_add_structure(kv, KMIP_TAG_KEY_MATERIAL);
		add_der_integer(km, KMIP_TAG_MODULUS, n, nlen);
		add_der_integer(km, KMIP_TAG_PUBLIC_EXPONENT, e, elen);
		break;
	}
	ttlv_add_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, r->obj.algorithm);
	/* Decoded by kop_load already (attrs_view): no second decode. */
	a = attrs_view(engine->ks, &r->obj, &own, why, sizeof(why));
	if (attr_get_integer(a, "Cryptographic Length", &bits) == 0)
		ttlv_add_integer(kb, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, bits);
	ttlv_free(own);
	return (0);
}

enum kop_ret
op_get(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv *kws;
	char		 id[KS_ID_MAX];
	uint32_t	 fmt = 0;
	struct ttlv	*a;
	int		 sensitive = 0, extractable = 1;

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	(void)ttlv_get_enum(req, KMIP_TAG_KEY_FORMAT_TYPE, &fmt);
	if (r->obj.state == KMIP_STATE_DESTROYED ||
	    r->obj.state == KMIP_STATE_DESTROYED_COMPROMISED) {
		kreq_fail(r, KMIP_REASON_OBJECT_DESTROYED, "object %s was "
		    "destroyed", id);
		return (KOP_DONE);
	}
	if ((kws = ttlv_find(req, KMIP_TAG_KEY_WRAPPING_SPECIFICATION)) !=
	    NULL)
		return (get_wrapped(r, fmt, kws));
	switch (r->obj.type) {
	case KMIP_OBJ_PUBLIC_KEY:
		ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
		kop_payload_id(r, id);
		(void)get_public(r, fmt);
		break;
	case KMIP_OBJ_PRIVATE_KEY:
		/* Never exported: clients use the public key's own id. */
		get_private(r, id);
		break;
	default:
		a = attrs_load(&r->obj);
		/*
		 * A value that is not a Boolean (stored before templates
		 * were checked) reads as the stricter one.
		 */
		if (attr_get(a, "Sensitive", 0) != NULL &&
		    attr_get_bool(a, "Sensitive", &sensitive) == -1)
			sensitive = 1;
		if (attr_get(a, "Extractable", 0) != NULL &&
		    attr_get_bool(a, "Extractable", &extractable) == -1)
			extractable = 0;
		ttlv_free(a);
		if (sensitive)
			kreq_fail(r, KMIP_REASON_SENSITIVE, "object %s is "
			    "sensitive", id);
		else if (!extractable)
			kreq_fail(r, KMIP_REASON_NOT_EXTRACTABLE, "object %s "
			    "is not extractable", id);
		else if (r->obj.type == KMIP_OBJ_CERTIFICATE)
			get_certificate(r);
		else
			return (get_secret(r, fmt));
		break;
	}
	return (KOP_DONE);
}

/*
 * A private key is never given.  Say where its public key is, or, for a
 * key adopted from a token that kept no public object for it (deleted,
 * or never made) and does not give it from the private one either, why
 * there is none and what to do.
 */
static void
get_private(struct kreq *r, const char *id)
{
	const struct ttlv	*l;
	struct ttlv		*a;
	uint32_t		 type;
	char			 pub[KS_ID_MAX];
	int32_t			 i;

	pub[0] = '\0';
	a = attrs_load(&r->obj);
	for (i = 0; (l = attr_get(a, "Link", i)) != NULL; i++)
		if (ttlv_get_enum(l, KMIP_TAG_LINK_TYPE, &type) == 0 &&
		    type == KMIP_LINK_PUBLIC_KEY &&
		    ttlv_get_text(l, KMIP_TAG_LINKED_OBJECT_IDENTIFIER, pub,
		    sizeof(pub)) == 0)
			break;
	ttlv_free(a);
	if (pub[0] != '\0')
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "private keys "
		    "are not exported; get the public key %s instead", pub);
	else
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "private keys "
		    "are not exported, and %s has no public key: its token "
		    "has no public object for it and does not derive it; "
		    "Register the public key and Link it", id);
}

static void
get_certificate(struct kreq *r)
{
	struct ttlv	*c;

	ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
	kop_payload_id(r, r->obj.id);
	c = ttlv_add_structure(r->payload, KMIP_TAG_CERTIFICATE);
	ttlv_add_enum(c, KMIP_TAG_CERTIFICATE_TYPE, KMIP_CERT_X509);
	ttlv_add_bytes(c, KMIP_TAG_CERTIFICATE_VALUE, r->obj.material,
	    r->obj.material_len);
}

/* A symmetric key or secret data: the signer unwraps it for us. */
static enum kop_ret
get_secret(struct kreq *r, uint32_t fmt)
{
	struct hsm_op	 op;
	struct iovec	 iov[1];
	struct ttlv	*a;
	const struct ttlv *d;
	uint32_t	 dfmt;
	int		 rv;

	/*
	 * Secret data: by default in the format it was registered in,
	 * which its Digest records (a password registered Opaque comes
	 * back Opaque); Raw and Opaque are the same bytes.
	 */
	if (r->obj.type == KMIP_OBJ_OPAQUE_DATA && fmt != 0 &&
	    fmt != KMIP_FMT_OPAQUE) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED,
		    "an Opaque Object is given as it is");
		return (KOP_DONE);
	}
	if (r->obj.type == KMIP_OBJ_SECRET_DATA && fmt == 0) {
		a = attrs_load(&r->obj);
		if ((d = attr_get(a, "Digest", 0)) != NULL &&
		    ttlv_get_enum(d, KMIP_TAG_KEY_FORMAT_TYPE, &dfmt) == 0 &&
		    dfmt == KMIP_FMT_OPAQUE)
			fmt = KMIP_FMT_OPAQUE;
		ttlv_free(a);
	}
	if (r->obj.type != KMIP_OBJ_OPAQUE_DATA && fmt != 0 &&
	    fmt != KMIP_FMT_RAW && (r->obj.type ==
	    KMIP_OBJ_SECRET_DATA ? fmt != KMIP_FMT_OPAQUE :
	    fmt != KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY)) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED,
		    "symmetric keys are given as Raw or Transparent "
		    "Symmetric Key, secret data as Raw or Opaque");
		return (KOP_DONE);
	}
	memset(&op, 0, sizeof(op));
	(void)strlcpy(op.id, r->obj.id, sizeof(op.id));
	op.op = HSM_OP_EXPORT;
	if (r->obj.type == KMIP_OBJ_SECRET_DATA ||
	    r->obj.type == KMIP_OBJ_OPAQUE_DATA)
		op.kind = HSM_KEY_SECRET;
	else {
		a = attrs_load(&r->obj);
		rv = kop_key_kind(r, a, &op.kind);
		ttlv_free(a);
		if (rv == -1)
			return (KOP_DONE);
	}
	iov[0].iov_base = r->obj.material;
	iov[0].iov_len = op.len_key = r->obj.material_len;
	r->get_fmt = fmt != 0 ? fmt : KMIP_FMT_RAW;
	if (kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op, sizeof(op),
	    iov, 1, get_secret_done) == -1)
		return (KOP_DONE);
	return (KOP_WAIT);
}

static enum kop_ret
get_secret_done(struct kreq *r, const struct hsm_result *res,
    const uint8_t *o1, const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*obj;

	if (kop_signer_failed(r, res) == -1 || get_unfresh(r) == -1)
		return (KOP_DONE);
	/* Opaque: type and value as reg_opaque() stored them. */
	if (r->obj.type == KMIP_OBJ_OPAQUE_DATA) {
		if (res->len_out1 < 5) {
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "stored "
			    "opaque object %s is damaged", r->obj.id);
			return (KOP_DONE);
		}
		ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
		kop_payload_id(r, r->obj.id);
		obj = ttlv_add_structure(r->payload, KMIP_TAG_OPAQUE_OBJECT);
		ttlv_add_enum(obj, KMIP_TAG_OPAQUE_DATA_TYPE,
		    (uint32_t)o1[0] << 24 | (uint32_t)o1[1] << 16 |
		    (uint32_t)o1[2] << 8 | o1[3]);
		ttlv_add_bytes(obj, KMIP_TAG_OPAQUE_DATA_VALUE, o1 + 4,
		    res->len_out1 - 4);
		return (KOP_DONE);
	}
	(void)get_key_block(r, o1, res->len_out1, 0);
	return (KOP_DONE);
}

/*
 * The symmetric key or secret data r->obj in the answer, its Key Value
 * the len bytes at v: Key Material in r->get_fmt, or, wrapped, the bytes
 * the wrapping made.  Its Key Block, for the Key Wrapping Data to follow.
 */
static struct ttlv *
get_key_block(struct kreq *r, const uint8_t *v, size_t len, int wrapped)
{
	struct ttlv	*obj, *kb, *kv, *km, *a;
	int32_t		 bits = 0;

	ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
	kop_payload_id(r, r->obj.id);
	if (r->obj.type == KMIP_OBJ_SECRET_DATA) {
		obj = ttlv_add_structure(r->payload, KMIP_TAG_SECRET_DATA);
		ttlv_add_enum(obj, KMIP_TAG_SECRET_DATA_TYPE,
		    KMIP_SECRET_PASSWORD);
	} else
		obj = ttlv_add_structure(r->payload, KMIP_TAG_SYMMETRIC_KEY);
	kb = ttlv_add_structure(obj, KMIP_TAG_KEY_BLOCK);
	ttlv_add_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, r->get_fmt);
	if (wrapped)
		ttlv_add_bytes(kb, KMIP_TAG_KEY_VALUE, v, len);
	else if (r->get_fmt == KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY) {
		kv = ttlv_add_structure(kb, KMIP_TAG_KEY_VALUE);
		km = ttlv_add_structure(kv, KMIP_TAG_KEY_MATERIAL);
		ttlv_add_bytes(km, KMIP_TAG_KEY, v, len);
	} else {
		kv = ttlv_add_structure(kb, KMIP_TAG_KEY_VALUE);
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, v, len);
	}
	if (r->obj.type == KMIP_OBJ_SYMMETRIC_KEY) {
		a = attrs_load(&r->obj);
		(void)attr_get_integer(a, "Cryptographic Length", &bits);
		ttlv_free(a);
		ttlv_add_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
		    r->obj.algorithm);
		ttlv_add_integer(kb, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, bits);
	}
	return (kb);
}

/*
 * The value leaves the server, in the clear or wrapped: the object is
 * no longer Fresh (KMIP 1.1 3.34), and says so before it is given.
 */
static int
get_unfresh(struct kreq *r)
{
	struct ttlv	*a;
	int		 fresh, rv = 0;

	a = attrs_load(&r->obj);
	if (attr_get_bool(a, "Fresh", &fresh) == 0 && fresh) {
		attr_set_bool(a, "Fresh", 0);
		rv = kop_save(r, &r->obj, a, 0);
	}
	ttlv_free(a);
	return (rv);
}

/* --- Get with a Key Wrapping Specification -------------------------- */

static void
wrap_free(void *p)
{
	struct get_wrap	*w = p;

	ttlv_free(w->params);
	freezero(w->attrs, w->attrs_len);
	free(w);
}

/*
 * How to wrap under the key wa (its attributes): the request's
 * Cryptographic Parameters cp or, without them, the wrapping key's own
 * (KMIP: those of the key SHALL be used), else NIST Key Wrap for AES and
 * OAEP with SHA-256 for RSA.  What cannot be done is refused, never
 * done otherwise.  An OAEP label goes into label.
 */
static int
wrap_params(struct kreq *r, const struct ttlv *cp, const struct ttlv *wa,
    struct hsm_op *op, struct iovec *label)
{
	const struct ttlv	*t;
	const uint8_t		*p;
	size_t			 n;
	uint32_t		 v;
	int			 fromkey = 0;

	label->iov_base = NULL;
	label->iov_len = 0;
	op->mode = HSM_MODE_KW;
	op->padding = op->wrap_kind == HSM_KEY_RSA ? HSM_PAD_OAEP :
	    HSM_PAD_NONE;
	op->hash = HSM_HASH_SHA256;
	if (cp == NULL) {
		if ((cp = attr_get(wa, "Cryptographic Parameters", 0)) == NULL)
			return (0);
		fromkey = 1;
	}
	if (cp->type != TTLV_STRUCTURE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Cryptographic "
		    "Parameters is not a structure");
		return (-1);
	}
	if (!fromkey && !kreq_version_at_least(r, 1, 4) &&
	    (ttlv_find(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM) !=
	    NULL || ttlv_find(cp, KMIP_TAG_P_SOURCE) != NULL)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Mask Generator "
		    "Hashing Algorithm and P Source are KMIP 1.4");
		return (-1);
	}
	if (op->wrap_kind == HSM_KEY_AES) {
		if (ttlv_get_enum(cp, KMIP_TAG_BLOCK_CIPHER_MODE, &v) == 0 &&
		    v != KMIP_MODE_NIST_KEY_WRAP &&
		    v != KMIP_MODE_AES_KEY_WRAP_PADDING) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "an AES key "
			    "wraps with NIST Key Wrap or AES Key Wrap Padding");
			return (-1);
		}
		if (ttlv_find(cp, KMIP_TAG_BLOCK_CIPHER_MODE) != NULL &&
		    v == KMIP_MODE_AES_KEY_WRAP_PADDING)
			op->mode = HSM_MODE_KWP;
		return (0);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_PADDING_METHOD, &v) == 0 &&
	    v != KMIP_PAD_OAEP) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "an RSA public key "
		    "wraps with OAEP");
		return (-1);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_HASHING_ALGORITHM, &v) == 0 &&
	    (op->hash = kop_hsm_hash(v)) == KOP_HASH_NONE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "OAEP hash: SHA-1, "
		    "SHA-256, SHA-384 or SHA-512");
		return (-1);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM,
	    &v) == 0 &&
	    (op->mgf_hash = kop_hsm_hash(v)) == KOP_HASH_NONE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "MGF1 hash: SHA-1, "
		    "SHA-256, SHA-384 or SHA-512");
		return (-1);
	}
	if ((t = ttlv_find(cp, KMIP_TAG_P_SOURCE)) != NULL) {
		if (ttlv_get_bytes(cp, KMIP_TAG_P_SOURCE, &p, &n) == -1) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "P Source is "
			    "a Byte String");
			return (-1);
		}
		label->iov_base = (void *)(uintptr_t)p;
		label->iov_len = op->len_label = n;
	}
	return (0);
}

/*
 * The attributes the Key Wrapping Specification names, as TTLV
 * Attribute items to go into the wrapped Key Value: every instance the
 * object has of each (those it has not are left out), only those of the
 * request's version.  Bounded in number and size.
 */
static int
wrap_attrs(struct kreq *r, const struct ttlv *kws, uint8_t **out,
    size_t *outlen)
{
	const struct ttlv	*n, *v;
	struct ttlv		*a, *all, *t, *c;
	char			 name[ATTR_NAME_MAX];
	uint8_t			*b;
	size_t			 len;
	int32_t			 i;

	*out = NULL;
	*outlen = 0;
	if (ttlv_find(kws, KMIP_TAG_ATTRIBUTE_NAME) == NULL)
		return (0);
	if (ttlv_count(kws, KMIP_TAG_ATTRIBUTE_NAME) > WRAP_NAMES_MAX) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "at most %d Attribute "
		    "Names are wrapped with a key", WRAP_NAMES_MAX);
		return (-1);
	}
	if ((a = attrs_load(&r->obj)) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s is "
		    "damaged", r->obj.id);
		return (-1);
	}
	all = ttlv_new_structure(KMIP_TAG_KEY_VALUE);
	for (n = ttlv_find(kws, KMIP_TAG_ATTRIBUTE_NAME); n != NULL;
	    n = ttlv_find_next(kws, n, KMIP_TAG_ATTRIBUTE_NAME)) {
		if (n->type != TTLV_TEXT_STRING || n->v.s.len == 0 ||
		    n->v.s.len >= sizeof(name) ||
		    memchr(n->v.s.data, '\0', n->v.s.len) != NULL) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "bad "
			    "Attribute Name");
			goto fail;
		}
		memcpy(name, n->v.s.data, n->v.s.len);
		name[n->v.s.len] = '\0';
		if (!kmip_attr_in_version(name, r->major, r->minor))
			continue;
		for (i = 0; (v = attr_get(a, name, i)) != NULL; i++) {
			t = ttlv_add_structure(all, KMIP_TAG_ATTRIBUTE);
			ttlv_add_string(t, KMIP_TAG_ATTRIBUTE_NAME, name);
			if (i > 0)
				ttlv_add_integer(t, KMIP_TAG_ATTRIBUTE_INDEX,
				    i);
			c = ttlv_copy(v);
			c->tag = KMIP_TAG_ATTRIBUTE_VALUE;
			ttlv_append(t, c);
		}
	}
	ttlv_free(a);
	a = NULL;
	if ((len = ttlv_encoded_len(all)) > WRAP_ATTRS_MAX + 8) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the attributes to "
		    "wrap take more than %d bytes", WRAP_ATTRS_MAX);
		goto fail;
	}
	if (len > 8) {
		/* The items, without the structure that held them. */
		if ((b = malloc(len)) == NULL)
			fatal(NULL);
		if (ttlv_encode(all, b, len) == -1)
			fatalx("%s: encoding", __func__);
		memmove(b, b + 8, len - 8);
		*out = b;
		*outlen = len - 8;
	}
	ttlv_free(all);
	return (0);
 fail:
	ttlv_free(a);
	ttlv_free(all);
	return (-1);
}

/*
 * The wrapping key of the Encryption Key Information eki into r->obj2,
 * with its attributes in *wa (freed by the caller, *own the tree to
 * free): the client's own, Active, with Wrap Key in its usage mask.
 */
static int
wrap_key_load(struct kreq *r, const struct ttlv *eki,
    const struct ttlv **wa, struct ttlv **own)
{
	char	 wid[KS_ID_MAX], why[128];
	int32_t	 mask = 0;
	int	 rv;

	*wa = NULL;
	*own = NULL;
	if (eki->type != TTLV_STRUCTURE ||
	    ttlv_get_text(eki, KMIP_TAG_UNIQUE_IDENTIFIER, wid,
	    sizeof(wid)) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Encryption Key "
		    "Information without a Unique Identifier");
		return (-1);
	}
	ks_object_clear(&r->obj2);
	if ((rv = ks_get(engine->ks, wid, &r->obj2)) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (-1);
	}
	if (rv == 1 || strcmp(r->obj2.owner, r->hdr.identity) != 0 ||
	    r->obj2.state == KMIP_STATE_DESTROYED ||
	    r->obj2.state == KMIP_STATE_DESTROYED_COMPROMISED) {
		ks_object_clear(&r->obj2);
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "no wrapping key %s",
		    wid);
		return (-1);
	}
	if ((*wa = attrs_view(engine->ks, &r->obj2, own, why,
	    sizeof(why))) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "wrapping key %s is "
		    "damaged: %s", wid, why);
		return (-1);
	}
	if (r->obj2.state != KMIP_STATE_ACTIVE) {
		kreq_fail(r, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "wrapping "
		    "key %s is not Active", wid);
		return (-1);
	}
	(void)attr_get_integer(*wa, "Cryptographic Usage Mask", &mask);
	if (!(mask & KMIP_USAGE_WRAP_KEY)) {
		kreq_fail(r, KMIP_REASON_INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK,
		    "wrapping key %s may not Wrap Key (its usage mask)", wid);
		return (-1);
	}
	return (0);
}

/*
 * Get with a Key Wrapping Specification (KMIP 1.x 2.1.5, 2.1.6): the
 * key wrapped by the signer that holds it under another of the
 * client's keys in the same signer (AES key wrap, RFC 3394 or 5649) or
 * a public RSA key (OAEP), as its bare bytes (No Encoding) or, by
 * default, its TTLV Key Value with the attributes named.  Sensitive
 * keys may leave so, keys not Extractable never (KMIP 1.4 3.47, 3.48):
 * a key in a token is neither.  Only Encrypt is a Wrapping Method here.
 */
static enum kop_ret
get_wrapped(struct kreq *r, uint32_t fmt, const struct ttlv *kws)
{
	const struct ttlv	*eki, *cp, *wa;
	struct ttlv		*a, *own = NULL;
	struct get_wrap		*w;
	struct hsm_op		 op;
	struct iovec		 iov[6];
	uint32_t		 method, enc = 0;
	int			 extractable = 1, rv;

	switch (r->obj.type) {
	case KMIP_OBJ_SYMMETRIC_KEY:
	case KMIP_OBJ_SECRET_DATA:
		break;
	case KMIP_OBJ_PRIVATE_KEY:
		get_private(r, r->obj.id);
		return (KOP_DONE);
	default:
		kreq_fail(r, KMIP_REASON_ILLEGAL_OPERATION, "only symmetric "
		    "keys and secret data are given wrapped");
		return (KOP_DONE);
	}
	if (kws->type != TTLV_STRUCTURE ||
	    ttlv_get_enum(kws, KMIP_TAG_WRAPPING_METHOD, &method) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Key Wrapping "
		    "Specification without a Wrapping Method");
		return (KOP_DONE);
	}
	if (method != KMIP_WRAP_ENCRYPT ||
	    ttlv_find(kws, KMIP_TAG_MAC_SIGNATURE_KEY_INFORMATION) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "keys are "
		    "wrapped by encryption only, without MAC or signature");
		return (KOP_DONE);
	}
	if ((eki = ttlv_find(kws, KMIP_TAG_ENCRYPTION_KEY_INFORMATION)) ==
	    NULL) {
		kreq_fail(r, KMIP_REASON_MISSING_DATA, "no Encryption Key "
		    "Information");
		return (KOP_DONE);
	}
	if (ttlv_find(kws, KMIP_TAG_ENCODING_OPTION) != NULL &&
	    (!kreq_version_at_least(r, 1, 1) ||
	    ttlv_get_enum(kws, KMIP_TAG_ENCODING_OPTION, &enc) == -1 ||
	    (enc != KMIP_ENC_NO_ENCODING && enc != KMIP_ENC_TTLV_ENCODING))) {
		kreq_fail(r, KMIP_REASON_ENCODING_OPTION_ERROR, "Encoding "
		    "Option: No Encoding or TTLV Encoding, KMIP 1.1 and later");
		return (KOP_DONE);
	}
	if (enc == KMIP_ENC_NO_ENCODING &&
	    ttlv_find(kws, KMIP_TAG_ATTRIBUTE_NAME) != NULL) {
		kreq_fail(r, KMIP_REASON_ENCODING_OPTION_ERROR, "attributes "
		    "are wrapped only with TTLV Encoding");
		return (KOP_DONE);
	}
	if (fmt != 0 && fmt != KMIP_FMT_RAW &&
	    (r->obj.type != KMIP_OBJ_SECRET_DATA || fmt != KMIP_FMT_OPAQUE)) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "a "
		    "wrapped key is given Raw");
		return (KOP_DONE);
	}
	/* A value that is not a Boolean reads as the stricter one. */
	a = attrs_load(&r->obj);
	if (attr_get(a, "Extractable", 0) != NULL &&
	    attr_get_bool(a, "Extractable", &extractable) == -1)
		extractable = 0;
	memset(&op, 0, sizeof(op));
	if (r->obj.type == KMIP_OBJ_SECRET_DATA)
		op.kind = HSM_KEY_SECRET;
	else if (kop_key_kind(r, a, &op.kind) == -1) {
		ttlv_free(a);
		return (KOP_DONE);
	}
	ttlv_free(a);
	if (!extractable) {
		kreq_fail(r, KMIP_REASON_NOT_EXTRACTABLE, "object %s is not "
		    "extractable, not even wrapped", r->obj.id);
		return (KOP_DONE);
	}

	if (wrap_key_load(r, eki, &wa, &own) == -1)
		goto fail;
	if (r->obj2.type == KMIP_OBJ_SYMMETRIC_KEY &&
	    r->obj2.algorithm == KMIP_ALG_AES) {
		op.wrap_kind = HSM_KEY_AES;
		/* Its blob opens only in the signer that made it. */
		if (strcmp(r->obj2.signer, r->obj.signer) != 0) {
			kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "the "
			    "wrapping key %s is in signer \"%s\", the key in "
			    "\"%s\": a key is wrapped under a key of its own "
			    "signer", r->obj2.id, r->obj2.signer,
			    r->obj.signer);
			goto fail;
		}
	} else if (r->obj2.type == KMIP_OBJ_PUBLIC_KEY &&
	    r->obj2.algorithm == KMIP_ALG_RSA)
		op.wrap_kind = HSM_KEY_RSA;
	else {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "keys are wrapped "
		    "under an AES key or an RSA public key");
		goto fail;
	}
	cp = ttlv_find(eki, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS);
	if (wrap_params(r, cp, wa, &op, &iov[5]) == -1)
		goto fail;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal(NULL);
	r->opstate = w;
	r->opstate_free = wrap_free;
	(void)strlcpy(w->wid, r->obj2.id, sizeof(w->wid));
	w->enc = enc;
	if (cp != NULL)
		w->params = ttlv_copy(cp);
	else if ((cp = attr_get(wa, "Cryptographic Parameters", 0)) != NULL) {
		w->params = ttlv_copy(cp);
		w->params->tag = KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS;
	}
	if (enc != KMIP_ENC_NO_ENCODING) {
		op.flags |= HSM_OPF_TTLV;
		if (wrap_attrs(r, kws, &w->attrs, &w->attrs_len) == -1)
			goto fail;
	}

	(void)strlcpy(op.id, r->obj.id, sizeof(op.id));
	(void)strlcpy(op.wrap_id, r->obj2.id, sizeof(op.wrap_id));
	op.op = HSM_OP_WRAP;
	iov[0].iov_base = r->obj.material;
	iov[0].iov_len = op.len_key = r->obj.material_len;
	iov[1].iov_base = r->obj2.material;
	iov[1].iov_len = op.len_data = r->obj2.material_len;
	iov[2].iov_base = NULL;
	iov[2].iov_len = 0;
	iov[3].iov_base = w->attrs;
	iov[3].iov_len = op.len_aad = w->attrs_len;
	iov[4].iov_base = NULL;
	iov[4].iov_len = 0;
	r->get_fmt = fmt != 0 ? fmt : KMIP_FMT_RAW;
	rv = kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op, sizeof(op),
	    iov, 6, get_wrapped_done);
	ttlv_free(own);
	return (rv == -1 ? KOP_DONE : KOP_WAIT);
 fail:
	ttlv_free(own);
	return (KOP_DONE);
}

static enum kop_ret
get_wrapped_done(struct kreq *r, const struct hsm_result *res,
    const uint8_t *o1, const uint8_t *o2, const uint8_t *o3)
{
	const struct get_wrap	*w = r->opstate;
	struct ttlv		*kb, *wd, *eki;

	if (kop_signer_failed(r, res) == -1 || get_unfresh(r) == -1)
		return (KOP_DONE);
	kb = get_key_block(r, o1, res->len_out1, 1);
	wd = ttlv_add_structure(kb, KMIP_TAG_KEY_WRAPPING_DATA);
	ttlv_add_enum(wd, KMIP_TAG_WRAPPING_METHOD, KMIP_WRAP_ENCRYPT);
	eki = ttlv_add_structure(wd, KMIP_TAG_ENCRYPTION_KEY_INFORMATION);
	ttlv_add_string(eki, KMIP_TAG_UNIQUE_IDENTIFIER, w->wid);
	if (w->params != NULL)
		ttlv_append(eki, ttlv_copy(w->params));
	if (w->enc != 0)
		ttlv_add_enum(wd, KMIP_TAG_ENCODING_OPTION, w->enc);
	return (KOP_DONE);
}
