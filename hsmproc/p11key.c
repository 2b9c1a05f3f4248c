/*
 * Keys inside a PKCS#11 token: generated there, used there, never out.
 *
 * What the engine keeps as the "material" of a token key, and hands back
 * in every IMSG_HSM_OP, is a reference, not a key, in one of two forms:
 *
 *	"p11" | 1 | CKA_ID (16 bytes)
 *	"p11" | 2 | flags (1 byte) | n (1 byte, 1..64) | CKA_ID (n bytes)
 *
 * Version 1 is a key signerd made: the two halves of a pair share a
 * random CKA_ID; CKA_LABEL is each half's KMIP Name (the first), or its
 * object id, and follows changes of the Name (p11_relabel); a key under
 * an id "hsm::<slot>::<key id>" a client chose is labelled <key id>, and
 * keeps it.  Version 2 is a key found in the token (adopted,
 * P11_REF_ADOPTED in flags, no other flag defined): its CKA_ID is
 * whatever the operator's tool gave it.  A key without CKA_ID is not
 * adopted (p11_find_keys says why): its label is neither unique nor
 * stable, so it cannot name the object.  Each operation finds the object
 * by CKA_CLASS, CKA_KEY_TYPE and CKA_ID, or takes its handle from the
 * cache (p11pool.c).  Public-key operations (Signature Verify, RSA
 * encryption) run in software on the SubjectPublicKeyInfo the engine
 * sends, as for the openssl signer (sw_public_op); the public object is
 * found, to relabel or destroy it, by its value (CKA_MODULUS or
 * CKA_EC_POINT) taken from that SubjectPublicKeyInfo.
 *
 * Destroy removes the token objects of keys signerd made; keys adopted
 * from the token (p11_ref says which) are only forgotten, and their
 * objects keep their label: adoption never changes a token object.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "p11token.h"
#include "softkey.h"

#define P11_REF_MAGIC		"p11"
#define P11_REF_VERSION		1
#define P11_REF_VERSION2	HSM_REF_VERSION2
#define P11_ID_LEN		16	/* the CKA_ID of a key signerd makes */
#define P11_REF_LEN		(3 + 1 + P11_ID_LEN)
#define P11_ATTR_MAX		16
#define P11_VALUE_MAX		4096	/* a public attribute we read */

struct p11_tmpl {
	CK_ATTRIBUTE	 a[P11_ATTR_MAX];
	CK_ULONG	 n;
};

static void	 p11_add(struct p11_tmpl *, CK_ATTRIBUTE_TYPE, void *,
		    CK_ULONG);
static int	 p11_fail(struct p11_sess *, struct hsm_res *, const char *,
		    CK_MECHANISM_TYPE, CK_RV);
static int	 p11_need(struct p11_sess *, CK_MECHANISM_TYPE,
		    struct hsm_res *);
static CK_KEY_TYPE p11_key_type(uint32_t);
static int	 p11_req_ref(const struct hsm_req *, const uint8_t **,
		    size_t *, int *, struct hsm_res *);
static int	 p11_key_object(struct p11_sess *, const struct hsm_req *, int,
		    CK_OBJECT_HANDLE *, CK_OBJECT_CLASS *, int *,
		    struct hsm_res *);
static int	 p11_find(struct p11_sess *, const struct hsm_req *,
		    CK_OBJECT_CLASS, CK_OBJECT_HANDLE *, struct hsm_res *);
static int	 p11_find_pub(struct p11_sess *, const struct hsm_req *,
		    CK_OBJECT_HANDLE *, struct hsm_res *);
static int	 p11_find_one(struct p11_sess *, const struct hsm_req *,
		    struct p11_tmpl *, CK_OBJECT_HANDLE *, struct hsm_res *);
static int	 p11_getattr(struct p11_sess *, CK_OBJECT_HANDLE,
		    CK_ATTRIBUTE_TYPE, uint8_t **, CK_ULONG *, CK_RV *);
static const uint8_t *p11_point(const uint8_t *, size_t, size_t);
static int	 p11_spki(struct p11_sess *, CK_OBJECT_HANDLE, uint32_t,
		    struct hsm_res *);
static int	 p11_gen(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);
static int	 p11_gen_pair(struct p11_sess *, const struct hsm_req *,
		    const uint8_t *, struct hsm_res *);
static int	 p11_gen_secret(struct p11_sess *, const struct hsm_req *,
		    const uint8_t *, struct hsm_res *);
static int	 p11_op1(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);
static int	 p11_find_keys(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);
static int	 p11_found(struct p11_sess *, CK_OBJECT_HANDLE,
		    CK_OBJECT_CLASS, struct hsm_found *, uint8_t **, size_t *,
		    struct hsm_res *);
static void	 p11_found_kind(struct p11_sess *, CK_OBJECT_HANDLE,
		    CK_KEY_TYPE, struct hsm_found *);
static int	 p11_found_spki(struct p11_sess *, CK_OBJECT_HANDLE,
		    CK_OBJECT_HANDLE, struct hsm_found *, uint8_t **,
		    size_t *);
static int	 p11_hsm_slot(const char *, const struct p11_sess *,
		    const char **, struct hsm_res *);
static int	 p11_sign(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
static CK_MECHANISM_TYPE p11_hash_mech(uint32_t);
static const char *p11_hash_name(uint32_t);
static CK_RSA_PKCS_MGF_TYPE p11_mgf(uint32_t);
static int	 p11_digest_info(const struct hsm_req *, uint8_t *, size_t *);
static int	 p11_destroy(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
static int	 p11_label_set(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);
static const char *p11_label_of(const struct hsm_req *, int,
		    const char *);
static int	 p11_ecdsa_der(uint8_t **, CK_ULONG *, struct hsm_res *);
static size_t	 p11_der_int(const uint8_t *, size_t, uint8_t *);
static int	 p11_gcm(struct p11_sess *, const struct hsm_req *, int,
		    struct hsm_res *);
static int	 p11_rsa_decrypt(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
static int	 p11_mac(struct p11_sess *, const struct hsm_req *, int,
		    struct hsm_res *);
static int	 p11_sign_with(struct p11_sess *, CK_MECHANISM *,
		    CK_OBJECT_HANDLE, const uint8_t *, size_t, uint8_t **,
		    CK_ULONG *, struct hsm_res *);
static int	 p11_login_state(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);

/* Never NULL: some modules want a buffer even for empty input. */
static uint8_t		 p11_empty[1];
/* SHA-256, SHA-384, SHA-512, fetched once (p11_key_init). */
static EVP_MD		*p11_mds[3];

static const struct {
	CK_MECHANISM_TYPE	 m;
	const char		*name;
} p11_mechs[] = {
	{ CKM_RSA_PKCS_KEY_PAIR_GEN,	"CKM_RSA_PKCS_KEY_PAIR_GEN" },
	{ CKM_RSA_PKCS,			"CKM_RSA_PKCS" },
	{ CKM_RSA_PKCS_OAEP,		"CKM_RSA_PKCS_OAEP" },
	{ CKM_RSA_PKCS_PSS,		"CKM_RSA_PKCS_PSS" },
	{ CKM_SHA256_RSA_PKCS,		"CKM_SHA256_RSA_PKCS" },
	{ CKM_SHA384_RSA_PKCS,		"CKM_SHA384_RSA_PKCS" },
	{ CKM_SHA512_RSA_PKCS,		"CKM_SHA512_RSA_PKCS" },
	{ CKM_SHA256_RSA_PKCS_PSS,	"CKM_SHA256_RSA_PKCS_PSS" },
	{ CKM_SHA384_RSA_PKCS_PSS,	"CKM_SHA384_RSA_PKCS_PSS" },
	{ CKM_SHA512_RSA_PKCS_PSS,	"CKM_SHA512_RSA_PKCS_PSS" },
	{ CKM_EC_KEY_PAIR_GEN,		"CKM_EC_KEY_PAIR_GEN" },
	{ CKM_ECDSA,			"CKM_ECDSA" },
	{ CKM_EC_EDWARDS_KEY_PAIR_GEN,	"CKM_EC_EDWARDS_KEY_PAIR_GEN" },
	{ CKM_EDDSA,			"CKM_EDDSA" },
	{ CKM_AES_KEY_GEN,		"CKM_AES_KEY_GEN" },
	{ CKM_AES_GCM,			"CKM_AES_GCM" },
	{ CKM_GENERIC_SECRET_KEY_GEN,	"CKM_GENERIC_SECRET_KEY_GEN" },
	{ CKM_SHA256_HMAC,		"CKM_SHA256_HMAC" },
	{ CKM_SHA384_HMAC,		"CKM_SHA384_HMAC" },
	{ CKM_SHA512_HMAC,		"CKM_SHA512_HMAC" },
};

/* DER OIDs for CKA_EC_PARAMS. */
static const uint8_t	 p11_oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const uint8_t	 p11_oid_p384[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};
static const uint8_t	 p11_oid_p521[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23
};
static const uint8_t	 p11_oid_ed25519[] = {
	0x06, 0x03, 0x2b, 0x65, 0x70
};

const char *
p11_mech_name(CK_MECHANISM_TYPE m)
{
	static _Thread_local char	 buf[32];
	size_t		 i;

	for (i = 0; i < sizeof(p11_mechs) / sizeof(p11_mechs[0]); i++)
		if (p11_mechs[i].m == m)
			return (p11_mechs[i].name);
	(void)snprintf(buf, sizeof(buf), "CKM 0x%08lx", (unsigned long)m);
	return (buf);
}

int
p11_offers(const struct p11 *p, CK_MECHANISM_TYPE m)
{
	CK_ULONG	 i;

	for (i = 0; i < p->nmechs; i++)
		if (p->mechs[i] == m)
			return (1);
	return (0);
}

/* Refuse, by name, a mechanism the token did not list. */
static int
p11_need(struct p11_sess *s, CK_MECHANISM_TYPE m, struct hsm_res *res)
{
	if (p11_offers(s->tok, m))
		return (0);
	return (hsm_res_error(res, KMIP_REASON_OPERATION_NOT_SUPPORTED,
	    "token \"%s\" does not offer %s", s->label, p11_mech_name(m)));
}

/*
 * A failed call, as a KMIP error naming the CKR.  A lost session or
 * token is noted: p11_run reopens the session and tries once more; so
 * is a stale object handle (from the cache): p11_run looks it up again.
 */
static int
p11_fail(struct p11_sess *s, struct hsm_res *res, const char *what,
    CK_MECHANISM_TYPE m, CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_ERROR:
	case CKR_USER_NOT_LOGGED_IN:
		s->lost = 1;
		break;
	case CKR_OBJECT_HANDLE_INVALID:
	case CKR_KEY_HANDLE_INVALID:
		s->stale = 1;
		break;
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_ARGUMENTS_BAD:
	case CKR_CURVE_NOT_SUPPORTED:
	case CKR_DOMAIN_PARAMS_INVALID:
		/* Listed, but not with these parameters. */
		if (m != 0)
			return (hsm_res_error(res,
			    KMIP_REASON_OPERATION_NOT_SUPPORTED,
			    "token \"%s\" refuses %s with these parameters "
			    "(%s)", s->label, p11_mech_name(m), p11_rv(rv)));
		break;
	}
	return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE, "%s: %s",
	    what, p11_rv(rv)));
}

static void
p11_add(struct p11_tmpl *t, CK_ATTRIBUTE_TYPE type, void *v, CK_ULONG len)
{
	if (t->n >= P11_ATTR_MAX)
		fatalx("%s: template too long", __func__);
	t->a[t->n].type = type;
	t->a[t->n].pValue = v;
	t->a[t->n].ulValueLen = len;
	t->n++;
}

static CK_KEY_TYPE
p11_key_type(uint32_t kind)
{
	switch (kind) {
	case HSM_KEY_RSA:
		return (CKK_RSA);
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
		return (CKK_EC);
	case HSM_KEY_ED25519:
		return (CKK_EC_EDWARDS);
	case HSM_KEY_AES:
		return (CKK_AES);
	case HSM_KEY_HMAC_SHA256:
	case HSM_KEY_HMAC_SHA384:
	case HSM_KEY_HMAC_SHA512:
		return (CKK_GENERIC_SECRET);
	}
	return ((CK_KEY_TYPE)-1);
}

void
p11_generate(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	p11_run(h, req, res, p11_gen);
}

void
p11_op(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	p11_run(h, req, res, p11_op1);
}

void
p11_find_req(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	p11_run(h, req, res, p11_find_keys);
}

void
p11_relabel(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	p11_run(h, req, res, p11_label_set);
}

/* --- Finding keys ---------------------------------------------------- */

/*
 * A key reference (see the top of this file), checked strictly: its
 * CKA_ID (inside ref) and length, and whether the key was adopted (not
 * made by signerd: its token objects are not signerd's to delete).
 * Returns 0, or -1 if ref is not a reference of either version.
 */
int
p11_ref(const uint8_t *ref, size_t len, const uint8_t **ckid, size_t *idlen,
    int *adopted)
{
	if (ref == NULL || len < 4 || memcmp(ref, P11_REF_MAGIC, 3) != 0)
		return (-1);
	switch (ref[3]) {
	case P11_REF_VERSION:
		if (len != P11_REF_LEN)
			return (-1);
		*ckid = ref + 4;
		*idlen = P11_ID_LEN;
		*adopted = 0;
		return (0);
	case P11_REF_VERSION2:
		if (len < 6 || (ref[4] & ~P11_REF_ADOPTED) != 0 ||
		    ref[5] == 0 || ref[5] > P11_CKID_MAX ||
		    len != 6 + (size_t)ref[5])
			return (-1);
		*ckid = ref + 6;
		*idlen = ref[5];
		*adopted = (ref[4] & P11_REF_ADOPTED) != 0;
		return (0);
	}
	return (-1);
}

/* The CKA_ID of the request's key reference, or an Invalid Field. */
static int
p11_req_ref(const struct hsm_req *req, const uint8_t **ckid, size_t *idlen,
    int *adopted, struct hsm_res *res)
{
	if (p11_ref(req->key, req->len_key, ckid, idlen, adopted) != 0)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "key of %s is not a reference to a token object",
		    req->id));
	return (0);
}

/*
 * The object of class cls and the request's key kind with the CKA_ID of
 * req->key: the handle found before, else a search.  Item Not Found only
 * when the token answered and has none.
 */
static int
p11_find(struct p11_sess *s, const struct hsm_req *req, CK_OBJECT_CLASS cls,
    CK_OBJECT_HANDLE *obj, struct hsm_res *res)
{
	struct p11_tmpl		 t;
	CK_KEY_TYPE		 kt = p11_key_type(req->kind);
	const uint8_t		*ckid = NULL;
	size_t			 idlen = 0;
	int			 adopted;

	if (p11_req_ref(req, &ckid, &idlen, &adopted, res) != 0)
		return (res->status);
	if (kt == (CK_KEY_TYPE)-1)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	if (p11_cache_get(s->tok, cls, kt, ckid, idlen, obj) == 0)
		return (0);
	memset(&t, 0, sizeof(t));
	p11_add(&t, CKA_CLASS, &cls, sizeof(cls));
	p11_add(&t, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_add(&t, CKA_ID, (void *)(uintptr_t)ckid, idlen);
	if (p11_find_one(s, req, &t, obj, res) != 0)
		return (res->status);
	p11_cache_put(s->tok, cls, kt, ckid, idlen, *obj);
	return (0);
}

/*
 * The public object of the pair whose SubjectPublicKeyInfo is req->key:
 * the one with its modulus (RSA) or point (EC, Ed25519; as a DER OCTET
 * STRING, as v2.40 says, or bare, as some modules keep it).
 */
static int
p11_find_pub(struct p11_sess *s, const struct hsm_req *req,
    CK_OBJECT_HANDLE *obj, struct hsm_res *res)
{
	CK_OBJECT_CLASS		 cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE		 kt = p11_key_type(req->kind);
	struct p11_tmpl		 t;
	EVP_PKEY		*pkey = NULL;
	BIGNUM			*n = NULL;
	const unsigned char	*p = req->key;
	uint8_t			 v[3 + 1024], pt[1024];
	size_t			 len = 0, hdr = 0;
	int			 ok = 0;

	if (kt == (CK_KEY_TYPE)-1 || kt == CKK_AES ||
	    kt == CKK_GENERIC_SECRET)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "an %s key has no public object",
		    hsm_kind_name(req->kind)));
	if (req->len_key > 0 && req->len_key <= LONG_MAX)
		pkey = d2i_PUBKEY(NULL, &p, (long)req->len_key);
	if (pkey == NULL || p != req->key + req->len_key)
		goto bad;
	if (kt == CKK_RSA) {
		if (!EVP_PKEY_is_a(pkey, "RSA") ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N,
		    &n) != 1 || BN_num_bytes(n) > (int)sizeof(pt))
			goto bad;
		len = BN_bn2bin(n, pt);
		ok = 1;
	} else if (kt == CKK_EC) {
		ok = EVP_PKEY_is_a(pkey, "EC") &&
		    EVP_PKEY_get_octet_string_param(pkey,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
		    &len) == 1;
	} else {
		len = sizeof(pt);
		ok = EVP_PKEY_is_a(pkey, "ED25519") &&
		    EVP_PKEY_get_raw_public_key(pkey, pt, &len) == 1;
	}
	if (!ok || len == 0 || (kt != CKK_RSA && len > 255))
		goto bad;
	EVP_PKEY_free(pkey);
	BN_free(n);
	memset(&t, 0, sizeof(t));
	p11_add(&t, CKA_CLASS, &cls, sizeof(cls));
	p11_add(&t, CKA_KEY_TYPE, &kt, sizeof(kt));
	if (kt == CKK_RSA) {
		p11_add(&t, CKA_MODULUS, pt, len);
		return (p11_find_one(s, req, &t, obj, res));
	}
	/* DER OCTET STRING first; then the bare point. */
	v[0] = 0x04;
	if (len < 0x80) {
		v[1] = len;
		hdr = 2;
	} else {
		v[1] = 0x81;
		v[2] = len;
		hdr = 3;
	}
	memcpy(v + hdr, pt, len);
	p11_add(&t, CKA_EC_POINT, v, hdr + len);
	if (p11_find_one(s, req, &t, obj, res) == 0 ||
	    res->status != KMIP_REASON_ITEM_NOT_FOUND)
		return (res->status);
	hsm_res_clear(res);
	res->status = 0;
	t.a[t.n - 1].pValue = pt;
	t.a[t.n - 1].ulValueLen = len;
	return (p11_find_one(s, req, &t, obj, res));
 bad:
	EVP_PKEY_free(pkey);
	BN_free(n);
	ERR_clear_error();
	return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
	    "the public key of %s is not an %s SubjectPublicKeyInfo", req->id,
	    hsm_kind_name(req->kind)));
}

/*
 * The one object matching t.  Item Not Found only when the token answered
 * and has none.
 */
static int
p11_find_one(struct p11_sess *s, const struct hsm_req *req,
    struct p11_tmpl *t, CK_OBJECT_HANDLE *obj, struct hsm_res *res)
{
	CK_OBJECT_HANDLE	 found[2];
	CK_ULONG		 n = 0;
	CK_RV			 rv;

	if ((rv = s->f->C_FindObjectsInit(s->session, t->a, t->n)) != CKR_OK)
		return (p11_fail(s, res, "C_FindObjectsInit", 0, rv));
	rv = s->f->C_FindObjects(s->session, found, 2, &n);
	(void)s->f->C_FindObjectsFinal(s->session);
	if (rv != CKR_OK)
		return (p11_fail(s, res, "C_FindObjects", 0, rv));
	if (n == 0)
		return (hsm_res_error(res, KMIP_REASON_ITEM_NOT_FOUND,
		    "key of %s is not in token \"%s\"", req->id, s->label));
	if (n > 1)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token \"%s\" has several objects for the key of %s",
		    s->label, req->id));
	*obj = found[0];
	return (0);
}

/* A public attribute's value, malloc'ed; 0, or -1 with *rvp. */
static int
p11_getattr(struct p11_sess *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    uint8_t **v, CK_ULONG *len, CK_RV *rvp)
{
	CK_ATTRIBUTE	 a;

	*v = NULL;
	a.type = type;
	a.pValue = NULL;
	a.ulValueLen = 0;
	if ((*rvp = s->f->C_GetAttributeValue(s->session, obj, &a,
	    1)) != CKR_OK)
		return (-1);
	if (a.ulValueLen == 0 || a.ulValueLen > P11_VALUE_MAX) {
		*rvp = CKR_ATTRIBUTE_VALUE_INVALID;
		return (-1);
	}
	if ((a.pValue = malloc(a.ulValueLen)) == NULL) {
		*rvp = CKR_HOST_MEMORY;
		return (-1);
	}
	if ((*rvp = s->f->C_GetAttributeValue(s->session, obj, &a,
	    1)) != CKR_OK) {
		free(a.pValue);
		return (-1);
	}
	*v = a.pValue;
	*len = a.ulValueLen;
	return (0);
}

/*
 * The point in CKA_EC_POINT: v2.40 says a DER OCTET STRING around it,
 * some modules give it bare.  want: the bare point's length.
 */
static const uint8_t *
p11_point(const uint8_t *v, size_t len, size_t want)
{
	if (len == want)
		return (v);
	if (want < 0x80 && len == want + 2 && v[0] == 0x04 && v[1] == want)
		return (v + 2);
	if (want >= 0x80 && want < 0x100 && len == want + 3 &&
	    v[0] == 0x04 && v[1] == 0x81 && v[2] == want)
		return (v + 3);
	return (NULL);
}

/* The public half of a new pair as DER SubjectPublicKeyInfo in out[1]. */
static int
p11_spki(struct p11_sess *s, CK_OBJECT_HANDLE pub, uint32_t kind,
    struct hsm_res *res)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	EVP_PKEY	*pkey = NULL;
	BIGNUM		*n = NULL, *e = NULL;
	uint8_t		*v1 = NULL, *v2 = NULL;
	const uint8_t	*pt;
	const char	*group = NULL;
	CK_ULONG	 l1 = 0, l2 = 0;
	size_t		 want = 0;
	CK_RV		 rv;
	int		 ok = 0;

	if (kind == HSM_KEY_RSA) {
		if (p11_getattr(s, pub, CKA_MODULUS, &v1, &l1, &rv) == -1 ||
		    p11_getattr(s, pub, CKA_PUBLIC_EXPONENT, &v2, &l2,
		    &rv) == -1) {
			free(v1);
			return (p11_fail(s, res, "reading the public key", 0,
			    rv));
		}
	} else if (p11_getattr(s, pub, CKA_EC_POINT, &v1, &l1, &rv) == -1)
		return (p11_fail(s, res, "reading the public key", 0, rv));

	switch (kind) {
	case HSM_KEY_RSA:
		ok = (n = BN_bin2bn(v1, l1, NULL)) != NULL &&
		    (e = BN_bin2bn(v2, l2, NULL)) != NULL &&
		    (bld = OSSL_PARAM_BLD_new()) != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
		    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
		    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA",
		    NULL)) != NULL &&
		    EVP_PKEY_fromdata_init(pctx) == 1 &&
		    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY,
		    params) == 1;
		break;
	case HSM_KEY_EC_P256:
		group = "P-256";
		want = 1 + 2 * 32;
		break;
	case HSM_KEY_EC_P384:
		group = "P-384";
		want = 1 + 2 * 48;
		break;
	case HSM_KEY_EC_P521:
		group = "P-521";
		want = 1 + 2 * 66;
		break;
	case HSM_KEY_ED25519:
		if ((pt = p11_point(v1, l1, 32)) != NULL)
			ok = (pkey = EVP_PKEY_new_raw_public_key(
			    EVP_PKEY_ED25519, NULL, pt, 32)) != NULL;
		break;
	}
	if (group != NULL && (pt = p11_point(v1, l1, want)) != NULL)
		ok = (bld = OSSL_PARAM_BLD_new()) != NULL &&
		    OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
		    OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, want) &&
		    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
		    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
		    NULL)) != NULL &&
		    EVP_PKEY_fromdata_init(pctx) == 1 &&
		    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY,
		    params) == 1;
	ok = ok && sw_spki(pkey, res) == 0;
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(v1);
	free(v2);
	if (!ok) {
		ERR_clear_error();
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token \"%s\" gave a public key that does not parse",
		    s->label));
	}
	return (0);
}

/* --- Generate -------------------------------------------------------- */

/*
 * The CKA_LABEL of a new key's private or secret object, or (pub) of its
 * public one: what the engine sent (the KMIP Name), else the object id.
 */
static const char *
p11_label_of(const struct hsm_req *req, int pub, const char *hsm)
{
	const char	*l = pub ? req->pub_label : req->label;

	/* The <key id> of an hsm:: id is its label, for both halves. */
	if (hsm != req->id)
		return (hsm);
	return (l[0] != '\0' ? l : req->id);
}

static int
p11_gen(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	struct p11_tmpl		 t;
	CK_OBJECT_HANDLE	 found;
	CK_ULONG		 n = 0;
	CK_RV			 rv;
	const char		*label;
	uint8_t			 ckid[P11_ID_LEN];

	if (req->id[0] == '\0')
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "no object id"));
	if (p11_hsm_slot(req->id, s, &label, res) != 0)
		return (res->status);
	if (label != req->id) {
		/* A client's key id names one key: not one already there. */
		memset(&t, 0, sizeof(t));
		p11_add(&t, CKA_LABEL, (void *)(uintptr_t)label,
		    strlen(label));
		if ((rv = s->f->C_FindObjectsInit(s->session, t.a,
		    t.n)) != CKR_OK)
			return (p11_fail(s, res, "C_FindObjectsInit", 0, rv));
		rv = s->f->C_FindObjects(s->session, &found, 1, &n);
		(void)s->f->C_FindObjectsFinal(s->session);
		if (rv != CKR_OK)
			return (p11_fail(s, res, "C_FindObjects", 0, rv));
		if (n > 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "token \"%s\" has a key labelled \"%s\" already",
			    s->label, label));
	}
	if (RAND_bytes(ckid, sizeof(ckid)) != 1) {
		ERR_clear_error();
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "no random bytes for CKA_ID"));
	}
	switch (req->kind) {
	case HSM_KEY_RSA:
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
	case HSM_KEY_ED25519:
		if (p11_gen_pair(s, req, ckid, res) != 0)
			return (res->status);
		break;
	case HSM_KEY_AES:
	case HSM_KEY_HMAC_SHA256:
	case HSM_KEY_HMAC_SHA384:
	case HSM_KEY_HMAC_SHA512:
		if (p11_gen_secret(s, req, ckid, res) != 0)
			return (res->status);
		break;
	case HSM_KEY_SECRET:
		return (hsm_res_error(res, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "a pkcs11 signer holds keys, not secret data"));
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	}
	if ((res->out[0] = malloc(P11_REF_LEN)) == NULL)
		fatal(NULL);
	memcpy(res->out[0], P11_REF_MAGIC, 3);
	res->out[0][3] = P11_REF_VERSION;
	memcpy(res->out[0] + 4, ckid, P11_ID_LEN);
	res->len[0] = P11_REF_LEN;
	log_debug("token \"%s\": %s key %s made", s->label,
	    hsm_kind_name(req->kind), req->id);
	return (0);
}

static int
p11_gen_pair(struct p11_sess *s, const struct hsm_req *req, const uint8_t *ckid,
    struct hsm_res *res)
{
	static CK_BBOOL		 yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE		 e65537[] = { 0x01, 0x00, 0x01 };
	CK_OBJECT_CLASS		 pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_MECHANISM		 mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE	 pub, priv;
	CK_KEY_TYPE		 kt = p11_key_type(req->kind);
	CK_ULONG		 bits = req->bits;
	struct p11_tmpl		 pt, vt;
	const uint8_t		*oid = NULL;
	size_t			 oidlen = 0;
	int			 isrsa = req->kind == HSM_KEY_RSA;
	const char		*label;
	CK_RV			 rv;

	switch (req->kind) {
	case HSM_KEY_RSA:
		if (bits != 2048 && bits != 3072 && bits != 4096)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "RSA key of %u bits: 2048, 3072 or 4096",
			    req->bits));
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		break;
	case HSM_KEY_EC_P256:
		oid = p11_oid_p256;
		oidlen = sizeof(p11_oid_p256);
		break;
	case HSM_KEY_EC_P384:
		oid = p11_oid_p384;
		oidlen = sizeof(p11_oid_p384);
		break;
	case HSM_KEY_EC_P521:
		oid = p11_oid_p521;
		oidlen = sizeof(p11_oid_p521);
		break;
	case HSM_KEY_ED25519:
		oid = p11_oid_ed25519;
		oidlen = sizeof(p11_oid_ed25519);
		mech.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
		break;
	}
	if (p11_need(s, mech.mechanism, res) != 0 ||
	    p11_hsm_slot(req->id, s, &label, res) != 0)
		return (res->status);

	memset(&pt, 0, sizeof(pt));
	p11_add(&pt, CKA_CLASS, &pubc, sizeof(pubc));
	p11_add(&pt, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_add(&pt, CKA_TOKEN, &yes, sizeof(yes));
	p11_add(&pt, CKA_PRIVATE, &no, sizeof(no));
	p11_add(&pt, CKA_ID, (void *)(uintptr_t)ckid, P11_ID_LEN);
	p11_add(&pt, CKA_LABEL, (void *)(uintptr_t)p11_label_of(req, 1, label),
	    strlen(p11_label_of(req, 1, label)));
	p11_add(&pt, CKA_VERIFY, &yes, sizeof(yes));
	if (isrsa) {
		p11_add(&pt, CKA_ENCRYPT, &yes, sizeof(yes));
		p11_add(&pt, CKA_MODULUS_BITS, &bits, sizeof(bits));
		p11_add(&pt, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	} else
		p11_add(&pt, CKA_EC_PARAMS, (void *)(uintptr_t)oid, oidlen);

	memset(&vt, 0, sizeof(vt));
	p11_add(&vt, CKA_CLASS, &privc, sizeof(privc));
	p11_add(&vt, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_add(&vt, CKA_TOKEN, &yes, sizeof(yes));
	p11_add(&vt, CKA_PRIVATE, &yes, sizeof(yes));
	p11_add(&vt, CKA_SENSITIVE, &yes, sizeof(yes));
	p11_add(&vt, CKA_EXTRACTABLE, &no, sizeof(no));
	p11_add(&vt, CKA_ID, (void *)(uintptr_t)ckid, P11_ID_LEN);
	p11_add(&vt, CKA_LABEL, (void *)(uintptr_t)p11_label_of(req, 0, label),
	    strlen(p11_label_of(req, 0, label)));
	p11_add(&vt, CKA_SIGN, &yes, sizeof(yes));
	if (isrsa)
		p11_add(&vt, CKA_DECRYPT, &yes, sizeof(yes));

	if ((rv = s->f->C_GenerateKeyPair(s->session, &mech, pt.a, pt.n,
	    vt.a, vt.n, &pub, &priv)) != CKR_OK)
		return (p11_fail(s, res, "C_GenerateKeyPair", mech.mechanism,
		    rv));
	if (p11_spki(s, pub, req->kind, res) != 0) {
		/* No key the keystore does not know of is left behind. */
		(void)s->f->C_DestroyObject(s->session, priv);
		(void)s->f->C_DestroyObject(s->session, pub);
		return (res->status);
	}
	return (0);
}

static int
p11_gen_secret(struct p11_sess *s, const struct hsm_req *req,
    const uint8_t *ckid, struct hsm_res *res)
{
	static CK_BBOOL		 yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS		 cls = CKO_SECRET_KEY;
	CK_MECHANISM		 mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_HANDLE	 key;
	CK_KEY_TYPE		 kt = p11_key_type(req->kind);
	CK_ULONG		 len = req->bits / 8;
	struct p11_tmpl		 t;
	const char		*label;
	CK_RV			 rv;

	if (req->kind == HSM_KEY_AES) {
		if (req->bits != 128 && req->bits != 192 && req->bits != 256)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES key of %u bits: 128, 192 or 256",
			    req->bits));
	} else {
		if (req->bits < 128 || req->bits > 1024 || req->bits % 8 != 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "HMAC key of %u bits: 128 to 1024, in bytes",
			    req->bits));
		mech.mechanism = CKM_GENERIC_SECRET_KEY_GEN;
	}
	if (p11_need(s, mech.mechanism, res) != 0 ||
	    p11_hsm_slot(req->id, s, &label, res) != 0)
		return (res->status);
	memset(&t, 0, sizeof(t));
	p11_add(&t, CKA_CLASS, &cls, sizeof(cls));
	p11_add(&t, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_add(&t, CKA_VALUE_LEN, &len, sizeof(len));
	p11_add(&t, CKA_TOKEN, &yes, sizeof(yes));
	p11_add(&t, CKA_PRIVATE, &yes, sizeof(yes));
	p11_add(&t, CKA_SENSITIVE, &yes, sizeof(yes));
	p11_add(&t, CKA_EXTRACTABLE, &no, sizeof(no));
	p11_add(&t, CKA_ID, (void *)(uintptr_t)ckid, P11_ID_LEN);
	p11_add(&t, CKA_LABEL, (void *)(uintptr_t)p11_label_of(req, 0, label),
	    strlen(p11_label_of(req, 0, label)));
	if (req->kind == HSM_KEY_AES) {
		p11_add(&t, CKA_ENCRYPT, &yes, sizeof(yes));
		p11_add(&t, CKA_DECRYPT, &yes, sizeof(yes));
	} else {
		p11_add(&t, CKA_SIGN, &yes, sizeof(yes));
		p11_add(&t, CKA_VERIFY, &yes, sizeof(yes));
	}
	if ((rv = s->f->C_GenerateKey(s->session, &mech, t.a, t.n,
	    &key)) != CKR_OK)
		return (p11_fail(s, res, "C_GenerateKey", mech.mechanism, rv));
	return (0);
}

/* --- Keys already in the token (adoption) ---------------------------- */

/*
 * An object id "hsm::<slot>::<key id>" (a client's choice, Cosmian's
 * form) names a key in this token only if <slot> is its slot; *label is
 * then the key id, the CKA_LABEL.  Any other id is its own label.
 */
static int
p11_hsm_slot(const char *id, const struct p11_sess *s, const char **label,
    struct hsm_res *res)
{
	const char	*p;
	char		*end;
	unsigned long long slot;

	*label = id;
	if (strncmp(id, "hsm::", 5) != 0)
		return (0);
	p = id + 5;
	slot = strtoull(p, &end, 10);
	if (end == p || *p < '0' || *p > '9' || strncmp(end, "::", 2) != 0 ||
	    end[2] == '\0')
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "id %s is not hsm::<slot>::<key id>", id));
	if (slot != (unsigned long long)s->tok->slot)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "token \"%s\" is in slot %lu, not in slot %llu", s->label,
		    (unsigned long)s->tok->slot, slot));
	*label = end + 2;
	return (0);
}

/*
 * IMSG_HSM_FIND: the private and secret keys with the CKA_LABEL or
 * CKA_ID asked for, each with its kind, its public key and a reference
 * to adopt it by (hsmmsg.h).  Only C_FindObjects and
 * C_GetAttributeValue: the token is not changed.  A public key object
 * that matched is looked at with its private key (same CKA_ID).
 */
static int
p11_find_keys(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	struct p11_tmpl		 t;
	struct hsm_found	*fd = NULL;
	CK_OBJECT_HANDLE	 objs[4 * HSM_FIND_MAX];
	CK_OBJECT_CLASS		 cls;
	CK_ATTRIBUTE		 a;
	CK_ULONG		 n = 0, i, nf = 0;
	uint8_t			*spki = NULL;
	size_t			 spkilen = 0;
	const char		*label;
	uint32_t		 more = 0;
	CK_RV			 rv;

	if (req->id[0] != '\0' && p11_hsm_slot(req->id, s, &label, res) != 0)
		return (res->status);
	if (req->len_key == 0 || req->len_key > HSM_FIND_VALUE_MAX ||
	    (req->bits != HSM_FIND_LABEL && req->bits != HSM_FIND_ID))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "a search by label or CKA_ID of 1 to %d bytes",
		    HSM_FIND_VALUE_MAX));
	memset(&t, 0, sizeof(t));
	p11_add(&t, req->bits == HSM_FIND_LABEL ? CKA_LABEL : CKA_ID,
	    (void *)(uintptr_t)req->key, req->len_key);
	if ((rv = s->f->C_FindObjectsInit(s->session, t.a, t.n)) != CKR_OK)
		return (p11_fail(s, res, "C_FindObjectsInit", 0, rv));
	rv = s->f->C_FindObjects(s->session, objs, sizeof(objs) /
	    sizeof(objs[0]), &n);
	(void)s->f->C_FindObjectsFinal(s->session);
	if (rv != CKR_OK)
		return (p11_fail(s, res, "C_FindObjects", 0, rv));
	if (n == sizeof(objs) / sizeof(objs[0]))
		more = HSM_FOUND_MORE;
	if ((fd = calloc(HSM_FIND_MAX, sizeof(*fd))) == NULL)
		fatal(NULL);
	for (i = 0; i < n; i++) {
		a.type = CKA_CLASS;
		a.pValue = &cls;
		a.ulValueLen = sizeof(cls);
		if ((rv = s->f->C_GetAttributeValue(s->session, objs[i], &a,
		    1)) != CKR_OK) {
			if (rv == CKR_OBJECT_HANDLE_INVALID)
				continue;	/* deleted meanwhile */
			free(fd);
			free(spki);
			return (p11_fail(s, res, "C_GetAttributeValue", 0, rv));
		}
		if (cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY)
			continue;
		if (nf == HSM_FIND_MAX) {
			more = HSM_FOUND_MORE;
			break;
		}
		if (p11_found(s, objs[i], cls, &fd[nf], &spki, &spkilen,
		    res) != 0) {
			free(fd);
			free(spki);
			return (res->status);
		}
		nf++;
	}
	for (i = 0; i < nf; i++)
		fd[i].flags |= more;
	if (nf > 0) {
		res->out[0] = (uint8_t *)fd;
		res->len[0] = nf * sizeof(*fd);
	} else
		free(fd);
	res->out[1] = spki;
	res->len[1] = spkilen;
	log_debug("token \"%s\": %lu keys found for adoption", s->label,
	    (unsigned long)nf);
	return (0);
}

/*
 * What the engine needs to know of key object obj: kind, CKA_ID, label,
 * usage, public key (appended to *spki) and the reference to keep.
 * Only a token failure is an error; a key that cannot be adopted says
 * why in f->why.
 */
static int
p11_found(struct p11_sess *s, CK_OBJECT_HANDLE obj, CK_OBJECT_CLASS cls,
    struct hsm_found *f, uint8_t **spki, size_t *spkilen,
    struct hsm_res *res)
{
	struct p11_tmpl		 t;
	CK_ATTRIBUTE		 a[7];
	CK_OBJECT_CLASS		 pubc = CKO_PUBLIC_KEY;
	CK_OBJECT_HANDLE	 pub = CK_INVALID_HANDLE, found[2];
	CK_KEY_TYPE		 kt = (CK_KEY_TYPE)-1;
	CK_BBOOL		 sign = 0, decrypt = 0, encrypt = 0, verify = 0;
	CK_ULONG		 i, nfound = 0;
	CK_RV			 rv;

	memset(f, 0, sizeof(*f));
	f->class = cls == CKO_PRIVATE_KEY ? HSM_CLASS_PRIVATE :
	    HSM_CLASS_SECRET;
	a[0].type = CKA_KEY_TYPE;
	a[0].pValue = &kt;
	a[0].ulValueLen = sizeof(kt);
	a[1].type = CKA_ID;
	a[1].pValue = f->ckid;
	a[1].ulValueLen = sizeof(f->ckid);
	a[2].type = CKA_LABEL;
	a[2].pValue = f->label;
	a[2].ulValueLen = sizeof(f->label);
	a[3].type = CKA_SIGN;
	a[3].pValue = &sign;
	a[3].ulValueLen = sizeof(sign);
	a[4].type = CKA_DECRYPT;
	a[4].pValue = &decrypt;
	a[4].ulValueLen = sizeof(decrypt);
	a[5].type = CKA_ENCRYPT;
	a[5].pValue = &encrypt;
	a[5].ulValueLen = sizeof(encrypt);
	a[6].type = CKA_VERIFY;
	a[6].pValue = &verify;
	a[6].ulValueLen = sizeof(verify);
	/*
	 * An attribute the object lacks, or one too long for our buffer,
	 * comes back as CK_UNAVAILABLE_INFORMATION with the others filled
	 * in (v2.40 5.2): each is looked at alone.
	 */
	rv = s->f->C_GetAttributeValue(s->session, obj, a, 7);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
	    rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_BUFFER_TOO_SMALL)
		return (p11_fail(s, res, "C_GetAttributeValue", 0, rv));
	for (i = 0; i < 7; i++)
		if (a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			a[i].ulValueLen = 0;
	f->key_type = a[0].ulValueLen == sizeof(kt) ? (uint32_t)kt :
	    UINT32_MAX;
	f->len_label = a[2].ulValueLen;
	if (a[3].ulValueLen > 0 && sign)
		f->flags |= HSM_FOUND_SIGN;
	if (a[4].ulValueLen > 0 && decrypt)
		f->flags |= HSM_FOUND_DECRYPT;
	if (a[5].ulValueLen > 0 && encrypt)
		f->flags |= HSM_FOUND_ENCRYPT;
	if (a[6].ulValueLen > 0 && verify)
		f->flags |= HSM_FOUND_VERIFY;
	if (a[1].ulValueLen == 0) {
		/*
		 * CKA_ID missing, empty or longer than we keep: there is
		 * no stable, unique name to find the object by again.
		 */
		(void)snprintf(f->why, sizeof(f->why), "it has no CKA_ID "
		    "of 1 to %d bytes; give it one (pkcs11-tool --set-id)",
		    HSM_CKID_MAX);
		return (0);
	}
	f->len_ckid = a[1].ulValueLen;
	p11_found_kind(s, obj, kt, f);
	if (f->kind == 0)
		return (0);

	if (cls == CKO_PRIVATE_KEY) {
		memset(&t, 0, sizeof(t));
		p11_add(&t, CKA_CLASS, &pubc, sizeof(pubc));
		p11_add(&t, CKA_ID, f->ckid, f->len_ckid);
		if ((rv = s->f->C_FindObjectsInit(s->session, t.a,
		    t.n)) != CKR_OK)
			return (p11_fail(s, res, "C_FindObjectsInit", 0, rv));
		rv = s->f->C_FindObjects(s->session, found, 2, &nfound);
		(void)s->f->C_FindObjectsFinal(s->session);
		if (rv != CKR_OK)
			return (p11_fail(s, res, "C_FindObjects", 0, rv));
		if (nfound > 0) {
			f->flags |= HSM_FOUND_PUBOBJ;
			pub = found[0];
		}
		if (p11_found_spki(s, obj, pub, f, spki, spkilen) != 0)
			return (p11_fail(s, res, "reading the public key", 0,
			    CKR_DEVICE_REMOVED));
	}
	f->ref[0] = 'p';
	f->ref[1] = '1';
	f->ref[2] = '1';
	f->ref[3] = P11_REF_VERSION2;
	f->ref[4] = P11_REF_ADOPTED;
	f->ref[5] = f->len_ckid;
	memcpy(f->ref + 6, f->ckid, f->len_ckid);
	f->len_ref = 6 + f->len_ckid;
	return (0);
}

/* The key kind and size of obj, or f->kind 0 and f->why. */
static void
p11_found_kind(struct p11_sess *s, CK_OBJECT_HANDLE obj, CK_KEY_TYPE kt,
    struct hsm_found *f)
{
	static const uint8_t	 ed25519_name[] = {
		0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5',
		'1', '9'
	};
	uint8_t			*v = NULL;
	CK_ULONG		 len = 0, vlen;
	CK_ATTRIBUTE		 a;
	CK_RV			 rv;

	switch (kt) {
	case CKK_RSA:
		if (f->class != HSM_CLASS_PRIVATE)
			break;
		if (p11_getattr(s, obj, CKA_MODULUS, &v, &len, &rv) == 0) {
			while (len > 0 && v[0] == 0) {
				memmove(v, v + 1, len - 1);
				len--;
			}
			f->bits = len * 8;
			free(v);
		}
		if (f->bits == 2048 || f->bits == 3072 || f->bits == 4096) {
			f->kind = HSM_KEY_RSA;
			return;
		}
		(void)snprintf(f->why, sizeof(f->why), "an RSA key of %u "
		    "bits: signerd uses 2048, 3072 or 4096", f->bits);
		return;
	case CKK_EC:
	case CKK_EC_EDWARDS:
		if (f->class != HSM_CLASS_PRIVATE ||
		    p11_getattr(s, obj, CKA_EC_PARAMS, &v, &len, &rv) != 0)
			break;
		if (kt == CKK_EC && len == sizeof(p11_oid_p256) &&
		    memcmp(v, p11_oid_p256, len) == 0)
			f->kind = HSM_KEY_EC_P256, f->bits = 256;
		else if (kt == CKK_EC && len == sizeof(p11_oid_p384) &&
		    memcmp(v, p11_oid_p384, len) == 0)
			f->kind = HSM_KEY_EC_P384, f->bits = 384;
		else if (kt == CKK_EC && len == sizeof(p11_oid_p521) &&
		    memcmp(v, p11_oid_p521, len) == 0)
			f->kind = HSM_KEY_EC_P521, f->bits = 521;
		else if (kt == CKK_EC_EDWARDS &&
		    ((len == sizeof(p11_oid_ed25519) &&
		    memcmp(v, p11_oid_ed25519, len) == 0) ||
		    (len == sizeof(ed25519_name) &&
		    memcmp(v, ed25519_name, len) == 0)))
			f->kind = HSM_KEY_ED25519, f->bits = 256;
		free(v);
		if (f->kind != 0)
			return;
		(void)snprintf(f->why, sizeof(f->why), "an EC key on a curve "
		    "signerd does not use (P-256, P-384, P-521, Ed25519)");
		return;
	case CKK_AES:
		if (f->class != HSM_CLASS_SECRET)
			break;
		a.type = CKA_VALUE_LEN;
		a.pValue = &vlen;
		a.ulValueLen = sizeof(vlen);
		if (s->f->C_GetAttributeValue(s->session, obj, &a, 1) ==
		    CKR_OK && (vlen == 16 || vlen == 24 || vlen == 32)) {
			f->kind = HSM_KEY_AES;
			f->bits = vlen * 8;
			return;
		}
		break;
	}
	(void)snprintf(f->why, sizeof(f->why), "a key of type CKK 0x%lx: "
	    "signerd adopts RSA, EC and Ed25519 private keys and AES keys",
	    (unsigned long)kt);
}

/*
 * The public key of private key priv as DER SubjectPublicKeyInfo,
 * appended to *spki: from its public object pub, else from what the
 * private object tells (CKA_PUBLIC_KEY_INFO, CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT, CKA_EC_POINT on some tokens).  None: f->why.
 * -1 only if the session was lost.
 */
static int
p11_found_spki(struct p11_sess *s, CK_OBJECT_HANDLE priv,
    CK_OBJECT_HANDLE pub, struct hsm_found *f, uint8_t **spki,
    size_t *spkilen)
{
	struct hsm_res	 r;
	EVP_PKEY	*pk;
	const uint8_t	*q;
	uint8_t		*v = NULL, *nb;
	CK_ULONG	 len = 0;
	CK_RV		 rv;

	memset(&r, 0, sizeof(r));
	if (pub != CK_INVALID_HANDLE)
		(void)p11_spki(s, pub, f->kind, &r);
	else if (p11_getattr(s, priv, CKA_PUBLIC_KEY_INFO, &v, &len,
	    &rv) == 0) {
		/* The token's own SPKI: checked to be one of this kind. */
		q = v;
		if ((pk = d2i_PUBKEY(NULL, &q, len)) != NULL &&
		    q == v + len && (f->kind == HSM_KEY_ED25519 ?
		    EVP_PKEY_is_a(pk, "ED25519") :
		    EVP_PKEY_is_a(pk, f->kind == HSM_KEY_RSA ? "RSA" : "EC") &&
		    EVP_PKEY_get_bits(pk) == (int)f->bits))
			(void)sw_spki(pk, &r);
		EVP_PKEY_free(pk);
		ERR_clear_error();
		free(v);
	}
	if (r.len[1] == 0 && pub == CK_INVALID_HANDLE && !s->lost) {
		hsm_res_clear(&r);
		(void)p11_spki(s, priv, f->kind, &r);
	}
	if (s->lost) {
		hsm_res_clear(&r);
		return (-1);
	}
	if (r.status != 0 || r.len[1] == 0) {
		(void)snprintf(f->why, sizeof(f->why), "%s", pub !=
		    CK_INVALID_HANDLE ? "its public key object does not "
		    "parse" : "no public key object, and the token does not "
		    "give the public key of the private one");
		hsm_res_clear(&r);
		return (0);
	}
	if ((nb = realloc(*spki, *spkilen + r.len[1])) == NULL)
		fatal(NULL);
	memcpy(nb + *spkilen, r.out[1], r.len[1]);
	f->spki_off = *spkilen;
	f->spki_len = r.len[1];
	*spki = nb;
	*spkilen += r.len[1];
	hsm_res_clear(&r);
	return (0);
}

/* --- Operations ------------------------------------------------------ */

static int
p11_op1(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	/* The engine streams with software keys alone (hsmmsg.h). */
	if (req->op == HSM_OP_STREAM_END)
		return (0);
	if (req->flags & HSM_OPF_STREAM)
		return (hsm_res_error(res, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "keys in a token are not streamed"));
	switch (req->op) {
	case HSM_OP_SIGN:
		return (p11_sign(s, req, res));
	case HSM_OP_VERIFY:
		return (p11_public_op(s, req, res));
	case HSM_OP_ENCRYPT:
		if (req->kind == HSM_KEY_AES)
			return (p11_gcm(s, req, 1, res));
		if (req->kind == HSM_KEY_RSA)
			return (p11_public_op(s, req, res));
		break;
	case HSM_OP_DECRYPT:
		if (req->kind == HSM_KEY_AES)
			return (p11_gcm(s, req, 0, res));
		if (req->kind == HSM_KEY_RSA)
			return (p11_rsa_decrypt(s, req, res));
		break;
	case HSM_OP_MAC:
	case HSM_OP_MAC_VERIFY:
		return (p11_mac(s, req, req->op == HSM_OP_MAC_VERIFY, res));
	case HSM_OP_EXPORT:
		return (hsm_res_error(res, KMIP_REASON_SENSITIVE,
		    "the key of %s is in token \"%s\", sensitive and not "
		    "extractable", req->id, s->label));
	case HSM_OP_WRAP:
		/*
		 * Made CKA_EXTRACTABLE false, so C_WrapKey would refuse
		 * it: a token key never leaves, not even wrapped.
		 */
		return (hsm_res_error(res, KMIP_REASON_NOT_EXTRACTABLE,
		    "the key of %s is in token \"%s\" and not extractable, "
		    "not even wrapped", req->id, s->label));
	case HSM_OP_DESTROY:
	case HSM_OP_DESTROY_PUBLIC:
		return (p11_destroy(s, req, res));
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown operation %u", req->op));
	}
	return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
	    "cannot encrypt or decrypt with an %s key",
	    hsm_kind_name(req->kind)));
}

/*
 * C_SignInit and C_Sign into a malloc'ed buffer.  One C_Sign, into a
 * buffer larger than any signature or MAC of ours (RSA-4096: 512 bytes):
 * no length query, and no operation left active by a short buffer.
 */
static int
p11_sign_with(struct p11_sess *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
    const uint8_t *in, size_t inlen, uint8_t **out, CK_ULONG *outlen,
    struct hsm_res *res)
{
	CK_RV	 rv;

	*out = NULL;
	if (in == NULL)
		in = p11_empty;
	if ((rv = s->f->C_SignInit(s->session, mech, key)) != CKR_OK)
		return (p11_fail(s, res, "C_SignInit", mech->mechanism, rv));
	if ((*out = malloc(P11_VALUE_MAX)) == NULL)
		fatal(NULL);
	*outlen = P11_VALUE_MAX;
	if ((rv = s->f->C_Sign(s->session, (CK_BYTE_PTR)(uintptr_t)in, inlen,
	    *out, outlen)) != CKR_OK || *outlen == 0 ||
	    *outlen > P11_VALUE_MAX) {
		free(*out);
		*out = NULL;
		if (rv == CKR_OK)
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "C_Sign: a result of %lu bytes",
			    (unsigned long)*outlen));
		return (p11_fail(s, res, "C_Sign", mech->mechanism, rv));
	}
	return (0);
}

/* The CKM_ of a hash, or 0. */
static CK_MECHANISM_TYPE
p11_hash_mech(uint32_t hash)
{
	switch (hash) {
	case HSM_HASH_SHA1:
		return (CKM_SHA_1);
	case HSM_HASH_SHA256:
		return (CKM_SHA256);
	case HSM_HASH_SHA384:
		return (CKM_SHA384);
	case HSM_HASH_SHA512:
		return (CKM_SHA512);
	}
	return (0);
}

static const char *
p11_hash_name(uint32_t hash)
{
	switch (hash) {
	case HSM_HASH_SHA1:
		return ("SHA-1");
	case HSM_HASH_SHA256:
		return ("SHA-256");
	case HSM_HASH_SHA384:
		return ("SHA-384");
	case HSM_HASH_SHA512:
		return ("SHA-512");
	}
	return ("no hash");
}

/* The CKG_MGF1_ of a hash, or 0. */
static CK_RSA_PKCS_MGF_TYPE
p11_mgf(uint32_t hash)
{
	switch (hash) {
	case HSM_HASH_SHA1:
		return (CKG_MGF1_SHA1);
	case HSM_HASH_SHA256:
		return (CKG_MGF1_SHA256);
	case HSM_HASH_SHA384:
		return (CKG_MGF1_SHA384);
	case HSM_HASH_SHA512:
		return (CKG_MGF1_SHA512);
	}
	return (0);
}

/*
 * The DER DigestInfo of a PKCS#1 v1.5 signature (RFC 8017 9.2) around
 * the client's digest, into buf: what CKM_RSA_PKCS pads and signs.
 */
static int
p11_digest_info(const struct hsm_req *req, uint8_t *buf, size_t *len)
{
	static const uint8_t	 pre[] = {
		0x30, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x00, 0x05, 0x00, 0x04, 0x00
	};

	if (req->len_data > 64)
		return (-1);
	memcpy(buf, pre, sizeof(pre));
	buf[1] = sizeof(pre) - 2 + req->len_data;
	buf[14] = req->hash == HSM_HASH_SHA256 ? 1 :
	    req->hash == HSM_HASH_SHA384 ? 2 : 3;
	buf[18] = req->len_data;
	memcpy(buf + sizeof(pre), req->data, req->len_data);
	*len = sizeof(pre) + req->len_data;
	return (0);
}

/*
 * Sign in the token.  The whole message with the hash-and-sign
 * mechanisms; the client's digest (HSM_OPF_PREHASHED) with the raw ones:
 * CKM_RSA_PKCS over a DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA.  ECDSA of
 * a whole message hashes here (CKM_ECDSA signs a digest; it is public).
 */
static int
p11_sign(struct p11_sess *s, const struct hsm_req *req, struct hsm_res *res)
{
	CK_RSA_PKCS_PSS_PARAMS	 pss;
	CK_MECHANISM		 mech = { CKM_EDDSA, NULL, 0 };
	CK_OBJECT_HANDLE	 key;
	const EVP_MD		*md = NULL;
	const uint8_t		*in = req->data;
	uint8_t			 digest[EVP_MAX_MD_SIZE], *sig;
	uint8_t			 info[19 + EVP_MAX_MD_SIZE];
	unsigned int		 dlen;
	size_t			 inlen = req->len_data, ilen;
	CK_ULONG		 siglen;
	int			 h = req->hash;
	int			 pre = (req->flags & HSM_OPF_PREHASHED) != 0;

	if (h == HSM_HASH_SHA256)
		md = p11_mds[0];
	else if (h == HSM_HASH_SHA384)
		md = p11_mds[1];
	else if (h == HSM_HASH_SHA512)
		md = p11_mds[2];
	if (hsm_digest_check(req, res) != 0)
		return (res->status);
	switch (req->kind) {
	case HSM_KEY_RSA:
		if (md == NULL)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "RSA signatures: hash SHA-256, SHA-384 or "
			    "SHA-512"));
		if (req->padding == HSM_PAD_PKCS1V15 && pre) {
			mech.mechanism = CKM_RSA_PKCS;
			if (p11_digest_info(req, info, &ilen) == -1)
				return (hsm_res_error(res,
				    KMIP_REASON_INVALID_FIELD, "digest too "
				    "long"));
			in = info;
			inlen = ilen;
		} else if (req->padding == HSM_PAD_PKCS1V15)
			mech.mechanism = h == HSM_HASH_SHA256 ?
			    CKM_SHA256_RSA_PKCS : h == HSM_HASH_SHA384 ?
			    CKM_SHA384_RSA_PKCS : CKM_SHA512_RSA_PKCS;
		else if (req->padding == HSM_PAD_PSS) {
			/* Salt as asked or as long as the hash. */
			mech.mechanism = pre ? CKM_RSA_PKCS_PSS :
			    h == HSM_HASH_SHA256 ? CKM_SHA256_RSA_PKCS_PSS :
			    h == HSM_HASH_SHA384 ? CKM_SHA384_RSA_PKCS_PSS :
			    CKM_SHA512_RSA_PKCS_PSS;
			pss.hashAlg = p11_hash_mech(h);
			pss.mgf = p11_mgf(req->mgf_hash != HSM_HASH_NONE ?
			    req->mgf_hash : (uint32_t)h);
			if (pss.mgf == 0)
				return (hsm_res_error(res,
				    KMIP_REASON_INVALID_FIELD, "MGF1 hash: "
				    "SHA-1, SHA-256, SHA-384 or SHA-512"));
			pss.sLen = EVP_MD_get_size(md);
			if (req->flags & HSM_OPF_SALT_LEN) {
				if (req->salt_len > HSM_SALT_MAX)
					return (hsm_res_error(res,
					    KMIP_REASON_INVALID_FIELD,
					    "PSS salt of %u bytes: at most %d",
					    req->salt_len, HSM_SALT_MAX));
				pss.sLen = req->salt_len;
			}
			mech.pParameter = &pss;
			mech.ulParameterLen = sizeof(pss);
		} else
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "RSA signatures: padding PKCS#1 v1.5 or PSS"));
		break;
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
		if (md == NULL || req->padding != HSM_PAD_NONE)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "ECDSA signatures: hash SHA-256, SHA-384 or "
			    "SHA-512, no padding"));
		mech.mechanism = CKM_ECDSA;
		if (pre)
			break;
		if (EVP_Digest(in != NULL ? in : p11_empty, inlen, digest,
		    &dlen, md, NULL) != 1) {
			ERR_clear_error();
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "cannot hash the message"));
		}
		in = digest;
		inlen = dlen;
		break;
	case HSM_KEY_ED25519:
		if (req->hash != HSM_HASH_NONE || req->padding != HSM_PAD_NONE)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "Ed25519 signs the message itself: no hash, no "
			    "padding"));
		break;
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "cannot sign with an %s key", hsm_kind_name(req->kind)));
	}
	if (p11_need(s, mech.mechanism, res) != 0 ||
	    p11_find(s, req, CKO_PRIVATE_KEY, &key, res) != 0 ||
	    p11_sign_with(s, &mech, key, in, inlen, &sig, &siglen, res) != 0)
		return (res->status);
	if (mech.mechanism == CKM_ECDSA &&
	    p11_ecdsa_der(&sig, &siglen, res) != 0)
		return (res->status);
	res->out[0] = sig;
	res->len[0] = siglen;
	return (0);
}

/*
 * Main thread, before the sessions' threads start: the hashes a signature
 * may need, fetched once (EVP_sha256() and its like fetch at every use).
 */
int
p11_key_init(void)
{
	static const char	*names[] = { "SHA256", "SHA384", "SHA512" };
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (p11_mds[i] == NULL &&
		    (p11_mds[i] = EVP_MD_fetch(NULL, names[i], NULL)) == NULL) {
			ERR_clear_error();
			return (-1);
		}
	return (0);
}

/*
 * The token's r || s (PKCS#11: two halves as long as the curve's order)
 * as the DER SEQUENCE { INTEGER r, INTEGER s } that X.509 and KMIP use,
 * in place: sig is P11_VALUE_MAX bytes.  By hand, as OpenSSL's
 * ECDSA_SIG and i2d cost the signer 17,000 instructions a signature.
 */
static int
p11_ecdsa_der(uint8_t **sig, CK_ULONG *len, struct hsm_res *res)
{
	uint8_t	 der[P11_ECDSA_DER_MAX];
	size_t	 n;

	if ((n = p11_ecdsa_der_encode(*sig, *len, der)) == 0) {
		free(*sig);
		*sig = NULL;
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token gave an ECDSA signature of %lu bytes",
		    (unsigned long)*len));
	}
	memcpy(*sig, der, n);
	*len = n;
	return (0);
}

/*
 * r || s, each half at most P11_ECDSA_HALF_MAX bytes (P-521), into der
 * (P11_ECDSA_DER_MAX bytes): its length, or 0 for an odd, empty or too
 * long rs.
 */
size_t
p11_ecdsa_der_encode(const uint8_t *rs, size_t len, uint8_t *der)
{
	size_t	 half = len / 2, n, body;
	uint8_t	 ints[2 * (2 + 1 + P11_ECDSA_HALF_MAX)];

	if (len == 0 || len % 2 != 0 || half > P11_ECDSA_HALF_MAX)
		return (0);
	n = p11_der_int(rs, half, ints);
	body = n + p11_der_int(rs + half, half, ints + n);
	/* At most 2 * 69 = 138: a long form of one byte past 127. */
	der[0] = 0x30;
	if (body < 0x80) {
		der[1] = body;
		memcpy(der + 2, ints, body);
		return (2 + body);
	}
	der[1] = 0x81;
	der[2] = body;
	memcpy(der + 3, ints, body);
	return (3 + body);
}

/*
 * The unsigned big-endian number v (len > 0, at most P11_ECDSA_HALF_MAX
 * bytes) as a DER INTEGER into out: its shortest form, with a 0 byte
 * before a first byte of 0x80 or more; 0 is the one byte 0.
 */
static size_t
p11_der_int(const uint8_t *v, size_t len, uint8_t *out)
{
	size_t	 pad;

	while (len > 1 && v[0] == 0) {
		v++;
		len--;
	}
	pad = (v[0] & 0x80) != 0;
	out[0] = 0x02;
	out[1] = len + pad;
	out[2] = 0;
	memcpy(out + 2 + pad, v, len);
	return (2 + pad + len);
}

/* AES-GCM: out[0] = result; on encryption out[1] = iv, out[2] = tag. */
static int
p11_gcm(struct p11_sess *s, const struct hsm_req *req, int enc,
    struct hsm_res *res)
{
	CK_GCM_PARAMS		 gp;
	CK_MECHANISM		 mech = { CKM_AES_GCM, NULL, 0 };
	CK_OBJECT_HANDLE	 key;
	uint8_t			 iv[HSM_GCM_IV_LEN], *in = NULL, *out, *tag;
	size_t			 taglen, inlen;
	CK_ULONG		 outlen;
	CK_RV			 rv;

	if (hsm_gcm_check(req, enc, &taglen, res) != 0)
		return (res->status);
	if (p11_need(s, CKM_AES_GCM, res) != 0 ||
	    p11_find(s, req, CKO_SECRET_KEY, &key, res) != 0)
		return (res->status);
	if (enc && req->len_iv == 0) {
		if (RAND_bytes(iv, sizeof(iv)) != 1) {
			ERR_clear_error();
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "no random iv"));
		}
	} else
		memcpy(iv, req->iv, sizeof(iv));
	memset(&gp, 0, sizeof(gp));
	gp.pIv = iv;
	gp.ulIvLen = sizeof(iv);
	gp.ulIvBits = sizeof(iv) * 8;
	gp.pAAD = req->len_aad > 0 ? (CK_BYTE_PTR)(uintptr_t)req->aad : NULL;
	gp.ulAADLen = req->len_aad;
	gp.ulTagBits = taglen * 8;
	mech.pParameter = &gp;
	mech.ulParameterLen = sizeof(gp);

	/* The token's GCM output is ciphertext || tag; its input too. */
	inlen = req->len_data + (enc ? 0 : taglen);
	if ((out = malloc(req->len_data + taglen + 1)) == NULL ||
	    (in = malloc(inlen + 1)) == NULL)
		fatal(NULL);
	if (req->len_data > 0)
		memcpy(in, req->data, req->len_data);
	if (!enc)
		memcpy(in + req->len_data, req->sig, taglen);
	outlen = req->len_data + taglen + 1;
	if (enc) {
		if ((rv = s->f->C_EncryptInit(s->session, &mech,
		    key)) == CKR_OK)
			rv = s->f->C_Encrypt(s->session, in, inlen, out,
			    &outlen);
	} else if ((rv = s->f->C_DecryptInit(s->session, &mech,
	    key)) == CKR_OK)
		rv = s->f->C_Decrypt(s->session, in, inlen, out, &outlen);
	freezero(in, inlen + 1);
	if (rv == CKR_OK && outlen != req->len_data + (enc ? taglen : 0))
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		freezero(out, req->len_data + taglen + 1);
		if (!enc && (rv == CKR_ENCRYPTED_DATA_INVALID ||
		    rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED))
			return (hsm_res_error(res,
			    KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
			    "authentication tag mismatch"));
		return (p11_fail(s, res, enc ? "AES-GCM encryption" :
		    "AES-GCM decryption", CKM_AES_GCM, rv));
	}
	if (enc) {
		if ((tag = malloc(taglen)) == NULL ||
		    (res->out[1] = malloc(sizeof(iv))) == NULL)
			fatal(NULL);
		memcpy(tag, out + req->len_data, taglen);
		memcpy(res->out[1], iv, sizeof(iv));
		res->len[1] = sizeof(iv);
		res->out[2] = tag;
		res->len[2] = taglen;
	}
	hsm_res_take(res, 0, out, req->len_data + taglen + 1, req->len_data);
	return (0);
}

/* RSA decryption in the token: OAEP or PKCS#1 v1.5. */
static int
p11_rsa_decrypt(struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	CK_RSA_PKCS_OAEP_PARAMS	 oaep;
	CK_MECHANISM		 mech = { CKM_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE	 key;
	uint8_t			*out;
	CK_ULONG		 outlen;
	int			 h = req->hash;
	CK_RV			 rv;

	if (req->padding == HSM_PAD_OAEP) {
		if (h == HSM_HASH_NONE)
			h = HSM_HASH_SHA256;
		memset(&oaep, 0, sizeof(oaep));
		if ((oaep.hashAlg = p11_hash_mech(h)) == 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "OAEP hash: SHA-1, SHA-256, SHA-384 or SHA-512"));
		if ((oaep.mgf = p11_mgf(req->mgf_hash != HSM_HASH_NONE ?
		    req->mgf_hash : (uint32_t)h)) == 0)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "MGF1 hash: SHA-1, SHA-256, SHA-384 or SHA-512"));
		/*
		 * No label (P Source): a module may ignore one without a
		 * word (SoftHSM 2.6 does), and decrypt what was bound to
		 * another context.  Refused rather than trusted.
		 */
		oaep.source = CKZ_DATA_SPECIFIED;
		if (req->len_oaep_label > 0)
			return (hsm_res_error(res,
			    KMIP_REASON_OPERATION_NOT_SUPPORTED, "token \"%s\" "
			    "does not offer CKM_RSA_PKCS_OAEP with a label (P "
			    "Source): modules may ignore it", s->label));
		mech.mechanism = CKM_RSA_PKCS_OAEP;
		mech.pParameter = &oaep;
		mech.ulParameterLen = sizeof(oaep);
	} else if (req->padding != HSM_PAD_PKCS1V15)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "RSA encryption: padding OAEP or PKCS#1 v1.5"));
	if (req->len_data == 0 || req->len_data > P11_VALUE_MAX)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "RSA ciphertext of %zu bytes", req->len_data));
	if (p11_need(s, mech.mechanism, res) != 0 ||
	    p11_find(s, req, CKO_PRIVATE_KEY, &key, res) != 0)
		return (res->status);
	rv = s->f->C_DecryptInit(s->session, &mech, key);
	if (mech.mechanism == CKM_RSA_PKCS_OAEP && (rv == CKR_ARGUMENTS_BAD ||
	    rv == CKR_MECHANISM_PARAM_INVALID))
		/* SoftHSM 2.6 has OAEP with SHA-1 only, for one. */
		return (hsm_res_error(res, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "token \"%s\" does not offer CKM_RSA_PKCS_OAEP with %s, "
		    "MGF1 %s (%s)", s->label, p11_hash_name(h),
		    p11_hash_name(req->mgf_hash != HSM_HASH_NONE ?
		    req->mgf_hash : (uint32_t)h), p11_rv(rv)));
	if (rv != CKR_OK)
		return (p11_fail(s, res, "C_DecryptInit", mech.mechanism, rv));
	/* The plaintext is shorter than the ciphertext, the modulus. */
	outlen = req->len_data;
	if ((out = malloc(outlen)) == NULL)
		fatal(NULL);
	rv = s->f->C_Decrypt(s->session, (CK_BYTE_PTR)(uintptr_t)req->data,
	    req->len_data, out, &outlen);
	if (rv != CKR_OK) {
		freezero(out, req->len_data);
		if (rv == CKR_ENCRYPTED_DATA_INVALID ||
		    rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
		    rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED)
			/* No detail: no padding oracle. */
			return (hsm_res_error(res,
			    KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
			    "RSA decryption failed"));
		return (p11_fail(s, res, "C_Decrypt", mech.mechanism, rv));
	}
	hsm_res_take(res, 0, out, req->len_data, outlen);
	return (0);
}

/* HMAC in the token with the hash of the key's kind. */
static int
p11_mac(struct p11_sess *s, const struct hsm_req *req, int verify,
    struct hsm_res *res)
{
	CK_MECHANISM		 mech = { CKM_SHA256_HMAC, NULL, 0 };
	CK_OBJECT_HANDLE	 key;
	uint8_t			*mac;
	CK_ULONG		 maclen;
	uint32_t		 want;

	switch (req->kind) {
	case HSM_KEY_HMAC_SHA256:
		want = HSM_HASH_SHA256;
		break;
	case HSM_KEY_HMAC_SHA384:
		want = HSM_HASH_SHA384;
		mech.mechanism = CKM_SHA384_HMAC;
		break;
	case HSM_KEY_HMAC_SHA512:
		want = HSM_HASH_SHA512;
		mech.mechanism = CKM_SHA512_HMAC;
		break;
	default:
		/* CKM_SHA*_HMAC take generic secret or HMAC keys. */
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "cannot MAC with an %s key in a token: HMAC keys only",
		    hsm_kind_name(req->kind)));
	}
	if (req->hash != HSM_HASH_NONE && req->hash != want)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "an %s key takes no other hash", hsm_kind_name(req->kind)));
	if (p11_need(s, mech.mechanism, res) != 0 ||
	    p11_find(s, req, CKO_SECRET_KEY, &key, res) != 0 ||
	    p11_sign_with(s, &mech, key, req->data, req->len_data, &mac,
	    &maclen, res) != 0)
		return (res->status);
	if (verify) {
		res->valid = req->len_sig == maclen &&
		    CRYPTO_memcmp(req->sig, mac, maclen) == 0;
		freezero(mac, maclen);
		return (0);
	}
	res->out[0] = mac;
	res->len[0] = maclen;
	return (0);
}

/* --- Destroy, label -------------------------------------------------- */

/*
 * The object of a request's key: a pair's public one, found by its value
 * in the SubjectPublicKeyInfo (pub), else the private or secret one by
 * its reference.  *adopted says the key was found in the token, not made
 * by signerd: then *obj is not looked up, its objects are not ours to
 * change.
 */
static int
p11_key_object(struct p11_sess *s, const struct hsm_req *req, int pub,
    CK_OBJECT_HANDLE *obj, CK_OBJECT_CLASS *cls, int *adopted,
    struct hsm_res *res)
{
	const uint8_t	*ckid;
	size_t		 idlen;

	*adopted = 0;
	*cls = CKO_PUBLIC_KEY;
	if (pub)
		return (p11_find_pub(s, req, obj, res));
	if (p11_req_ref(req, &ckid, &idlen, adopted, res) != 0 || *adopted)
		return (res->status);
	*cls = p11_key_type(req->kind) == CKK_AES ||
	    p11_key_type(req->kind) == CKK_GENERIC_SECRET ?
	    CKO_SECRET_KEY : CKO_PRIVATE_KEY;
	return (p11_find(s, req, *cls, obj, res));
}

/*
 * Take a key's object out of the token: the private or secret one
 * (HSM_OP_DESTROY, key = reference), or a pair's public one
 * (HSM_OP_DESTROY_PUBLIC, key = SubjectPublicKeyInfo).  An adopted key's
 * objects stay: the keystore only forgets it.  Item Not Found if the
 * token has no such object (any more).
 */
static int
p11_destroy(struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	CK_OBJECT_HANDLE	 obj;
	CK_OBJECT_CLASS		 cls;
	int			 adopted;
	CK_RV			 rv;

	if (p11_key_object(s, req, req->op == HSM_OP_DESTROY_PUBLIC, &obj,
	    &cls, &adopted, res) != 0)
		return (res->status);
	if (adopted) {
		log_info("token \"%s\": adopted key %s forgotten, its "
		    "objects stay", s->label, req->id);
		return (0);
	}
	if ((rv = s->f->C_DestroyObject(s->session, obj)) != CKR_OK)
		return (p11_fail(s, res, "C_DestroyObject", 0, rv));
	/* Its handle may be given to the next object made. */
	p11_cache_clear(s->tok);
	log_info("token \"%s\": %s %s key %s destroyed", s->label,
	    req->op == HSM_OP_DESTROY_PUBLIC ? "public" : cls ==
	    CKO_SECRET_KEY ? "secret" : "private", hsm_kind_name(req->kind),
	    req->id);
	return (0);
}

/*
 * CKA_LABEL of a key's object becomes req->label (IMSG_HSM_LABEL): a
 * change of metadata, which PKCS#11 allows on sensitive, non-extractable
 * keys (CKA_LABEL is modifiable unless the token says otherwise).  An
 * adopted key keeps the label its operator gave it.
 */
static int
p11_label_set(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	CK_ATTRIBUTE		 a;
	CK_OBJECT_HANDLE	 obj;
	CK_OBJECT_CLASS		 cls;
	int			 adopted;
	CK_RV			 rv;

	if (req->label[0] == '\0')
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "an empty label"));
	/* The label of a key under an hsm:: id is its <key id>: it stays. */
	if (strncmp(req->id, "hsm::", 5) == 0)
		return (0);
	if (req->key_class != HSM_CLASS_PUBLIC &&
	    req->key_class != HSM_CLASS_PRIVATE)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key class %u", req->key_class));
	if (p11_key_object(s, req, req->key_class == HSM_CLASS_PUBLIC, &obj,
	    &cls, &adopted, res) != 0)
		return (res->status);
	if (adopted)
		return (0);
	a.type = CKA_LABEL;
	a.pValue = (void *)(uintptr_t)req->label;
	a.ulValueLen = strlen(req->label);
	if ((rv = s->f->C_SetAttributeValue(s->session, obj, &a,
	    1)) != CKR_OK)
		return (p11_fail(s, res, "C_SetAttributeValue(CKA_LABEL)", 0,
		    rv));
	return (0);
}

/*
 * The self-test's login step, on a session of the pool: the session is
 * there and, unless the signer is configured not to log in, its state
 * is that of a logged-in user.
 */
static int
p11_login_state(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	CK_SESSION_INFO	 si;
	CK_RV		 rv;

	if ((rv = s->f->C_GetSessionInfo(s->session, &si)) != CKR_OK)
		return (p11_fail(s, res, "C_GetSessionInfo", 0, rv));
	if (si.state == CKS_RW_USER_FUNCTIONS ||
	    si.state == CKS_RO_USER_FUNCTIONS) {
		(void)snprintf(res->msg, sizeof(res->msg), "logged in on "
		    "session %u of %d", s->idx + 1, s->tok->nsess);
		return (0);
	}
	if (!h->setup.login) {
		(void)snprintf(res->msg, sizeof(res->msg), "not logged in "
		    "(login no), session %u of %d", s->idx + 1,
		    s->tok->nsess);
		return (0);
	}
	return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE, "session %u "
	    "is not logged in (state %lu)", s->idx + 1,
	    (unsigned long)si.state));
}

void
p11_login_check(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	p11_run(h, req, res, p11_login_state);
}
