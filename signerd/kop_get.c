/*
 * Get: public keys in the requested format, certificates, and secret
 * keys the signer unwraps; never a private key.
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
	char		 id[KS_ID_MAX];
	uint32_t	 fmt = 0;
	struct ttlv	*a;
	int		 sensitive = 0, extractable = 1;

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	(void)ttlv_get_enum(req, KMIP_TAG_KEY_FORMAT_TYPE, &fmt);
	if (ttlv_find(req, KMIP_TAG_KEY_WRAPPING_SPECIFICATION) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "key wrapping on Get is not supported");
		return (KOP_DONE);
	}
	if (r->obj.state == KMIP_STATE_DESTROYED ||
	    r->obj.state == KMIP_STATE_DESTROYED_COMPROMISED) {
		kreq_fail(r, KMIP_REASON_OBJECT_DESTROYED, "object %s was "
		    "destroyed", id);
		return (KOP_DONE);
	}
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
	struct ttlv	*obj, *kb, *kv, *km, *a;
	int32_t		 len = 0;
	int		 fresh;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	/*
	 * The value leaves the server: the object is no longer Fresh
	 * (KMIP 1.1 3.34), and says so before it is given.
	 */
	a = attrs_load(&r->obj);
	if (attr_get_bool(a, "Fresh", &fresh) == 0 && fresh) {
		attr_set_bool(a, "Fresh", 0);
		if (kop_save(r, &r->obj, a, 0) == -1) {
			ttlv_free(a);
			return (KOP_DONE);
		}
	}
	ttlv_free(a);
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
	kv = ttlv_add_structure(kb, KMIP_TAG_KEY_VALUE);
	if (r->get_fmt == KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY) {
		km = ttlv_add_structure(kv, KMIP_TAG_KEY_MATERIAL);
		ttlv_add_bytes(km, KMIP_TAG_KEY, o1, res->len_out1);
	} else
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, o1, res->len_out1);
	if (r->obj.type == KMIP_OBJ_SYMMETRIC_KEY) {
		a = attrs_load(&r->obj);
		(void)attr_get_integer(a, "Cryptographic Length", &len);
		ttlv_free(a);
		ttlv_add_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
		    r->obj.algorithm);
		ttlv_add_integer(kb, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, len);
	}
	return (KOP_DONE);
}
