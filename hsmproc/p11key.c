/*
 * Keys inside a PKCS#11 token: generated there, used there, never out.
 *
 * What the engine keeps as the "material" of a token key, and hands back
 * in every IMSG_HSM_OP, is a reference, not a key:
 *
 *	"p11" | version (1 byte, 1) | CKA_ID (16 bytes)
 *
 * The two halves of a pair share the random CKA_ID; CKA_LABEL is the
 * object id.  Each operation finds the object again by CKA_CLASS,
 * CKA_KEY_TYPE and CKA_ID.  Public-key operations (Signature Verify,
 * RSA encryption) run in software on the SubjectPublicKeyInfo the
 * engine sends, as for the openssl signer (sw_public_op).
 */
#include <sys/types.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "softkey.h"

#define P11_REF_MAGIC		"p11"
#define P11_REF_VERSION		1
#define P11_ID_LEN		16
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
static int	 p11_ref(const struct hsm_req *, const uint8_t **,
		    struct hsm_res *);
static int	 p11_find(struct p11_sess *, const struct hsm_req *,
		    CK_OBJECT_CLASS, CK_OBJECT_HANDLE *, struct hsm_res *);
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
static int	 p11_sign(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
static int	 p11_ecdsa_der(uint8_t **, CK_ULONG *, struct hsm_res *);
static int	 p11_gcm(struct p11_sess *, const struct hsm_req *, int,
		    struct hsm_res *);
static int	 p11_rsa_decrypt(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
static int	 p11_mac(struct p11_sess *, const struct hsm_req *, int,
		    struct hsm_res *);
static int	 p11_sign_with(struct p11_sess *, CK_MECHANISM *,
		    CK_OBJECT_HANDLE, const uint8_t *, size_t, uint8_t **,
		    CK_ULONG *, struct hsm_res *);

/* Never NULL: some modules want a buffer even for empty input. */
static uint8_t		 p11_empty[1];

static const struct {
	CK_MECHANISM_TYPE	 m;
	const char		*name;
} p11_mechs[] = {
	{ CKM_RSA_PKCS_KEY_PAIR_GEN,	"CKM_RSA_PKCS_KEY_PAIR_GEN" },
	{ CKM_RSA_PKCS,			"CKM_RSA_PKCS" },
	{ CKM_RSA_PKCS_OAEP,		"CKM_RSA_PKCS_OAEP" },
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
	static char	 buf[32];
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
 * token is noted: p11_run reopens the session and tries once more.
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
	case CKR_USER_NOT_LOGGED_IN:
		s->lost = 1;
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

/*
 * Run a request; if the token dropped the session, reopen it (and log
 * in again) and run it once more.  The key lookup is repeated too:
 * object handles need not survive a session.
 */
void
p11_run(struct hsm *h, const struct hsm_req *req, struct hsm_res *res,
    p11_fn fn)
{
	struct p11	*p = h->be_state;
	struct p11_sess	*s;
	struct timeval	 tv = { HSM_RETRY_MIN_S, 0 };
	int		 try, rv;

	if (p == NULL) {
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token not started");
		return;
	}
	s = &p->s0;
	for (try = 0; try < 2; try++) {
		s->lost = 0;
		if (!s->open && (rv = p11_session_open(h, s)) != 0) {
			p11_session_close(h, s);
			(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "token \"%s\" not reachable: %s", s->label,
			    h->status.detail);
			/* Not ready: start over later, as hsmproc.c does. */
			if (rv == -1 && !evtimer_pending(&h->retry, NULL)) {
				h->retry_s = HSM_RETRY_MIN_S;
				evtimer_add(&h->retry, &tv);
			}
			return;
		}
		(void)fn(h, s, req, res);
		if (!s->lost)
			return;
		log_warnx("token \"%s\": session lost (%s), reopening",
		    s->label, res->msg);
		p11_session_close(h, s);
	}
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

/* --- Finding keys ---------------------------------------------------- */

/* The CKA_ID in a key reference from the engine, checked strictly. */
static int
p11_ref(const struct hsm_req *req, const uint8_t **ckid, struct hsm_res *res)
{
	if (req->len_key != P11_REF_LEN ||
	    memcmp(req->key, P11_REF_MAGIC, 3) != 0 ||
	    req->key[3] != P11_REF_VERSION)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "key of %s is not a reference to a token object",
		    req->id));
	*ckid = req->key + 4;
	return (0);
}

/*
 * The object of class cls and the request's key kind with the CKA_ID of
 * req->key.  Item Not Found only when the token answered and has none.
 */
static int
p11_find(struct p11_sess *s, const struct hsm_req *req, CK_OBJECT_CLASS cls,
    CK_OBJECT_HANDLE *obj, struct hsm_res *res)
{
	struct p11_tmpl		 t;
	CK_OBJECT_HANDLE	 found[2];
	CK_KEY_TYPE		 kt = p11_key_type(req->kind);
	CK_ULONG		 n = 0;
	const uint8_t		*ckid = NULL;
	CK_RV			 rv;

	if (p11_ref(req, &ckid, res) != 0)
		return (res->status);
	if (kt == (CK_KEY_TYPE)-1)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown key kind %u", req->kind));
	memset(&t, 0, sizeof(t));
	p11_add(&t, CKA_CLASS, &cls, sizeof(cls));
	p11_add(&t, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_add(&t, CKA_ID, (void *)(uintptr_t)ckid, P11_ID_LEN);
	if ((rv = s->f->C_FindObjectsInit(s->session, t.a, t.n)) != CKR_OK)
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

static int
p11_gen(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	uint8_t	 ckid[P11_ID_LEN];

	if (req->id[0] == '\0')
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "no object id"));
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
	    sw_kind_name(req->kind), req->id);
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
	if (p11_need(s, mech.mechanism, res) != 0)
		return (res->status);

	memset(&pt, 0, sizeof(pt));
	p11_add(&pt, CKA_CLASS, &pubc, sizeof(pubc));
	p11_add(&pt, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_add(&pt, CKA_TOKEN, &yes, sizeof(yes));
	p11_add(&pt, CKA_PRIVATE, &no, sizeof(no));
	p11_add(&pt, CKA_ID, (void *)(uintptr_t)ckid, P11_ID_LEN);
	p11_add(&pt, CKA_LABEL, (void *)(uintptr_t)req->id, strlen(req->id));
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
	p11_add(&vt, CKA_LABEL, (void *)(uintptr_t)req->id, strlen(req->id));
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
	if (p11_need(s, mech.mechanism, res) != 0)
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
	p11_add(&t, CKA_LABEL, (void *)(uintptr_t)req->id, strlen(req->id));
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

/* --- Operations ------------------------------------------------------ */

static int
p11_op1(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	switch (req->op) {
	case HSM_OP_SIGN:
		return (p11_sign(s, req, res));
	case HSM_OP_VERIFY:
		return (sw_public_op(s->tok->pub, req, res));
	case HSM_OP_ENCRYPT:
		if (req->kind == HSM_KEY_AES)
			return (p11_gcm(s, req, 1, res));
		if (req->kind == HSM_KEY_RSA)
			return (sw_public_op(s->tok->pub, req, res));
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
	default:
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "unknown operation %u", req->op));
	}
	return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
	    "cannot encrypt or decrypt with an %s key",
	    sw_kind_name(req->kind)));
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

static int
p11_sign(struct p11_sess *s, const struct hsm_req *req, struct hsm_res *res)
{
	CK_RSA_PKCS_PSS_PARAMS	 pss;
	CK_MECHANISM		 mech = { CKM_EDDSA, NULL, 0 };
	CK_OBJECT_HANDLE	 key;
	const EVP_MD		*md = NULL;
	const uint8_t		*in = req->data;
	uint8_t			 digest[EVP_MAX_MD_SIZE], *sig;
	unsigned int		 dlen;
	size_t			 inlen = req->len_data;
	CK_ULONG		 siglen;
	int			 h = req->hash;

	if (h == HSM_HASH_SHA256)
		md = EVP_sha256();
	else if (h == HSM_HASH_SHA384)
		md = EVP_sha384();
	else if (h == HSM_HASH_SHA512)
		md = EVP_sha512();
	switch (req->kind) {
	case HSM_KEY_RSA:
		if (md == NULL)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "RSA signatures: hash SHA-256, SHA-384 or "
			    "SHA-512"));
		if (req->padding == HSM_PAD_PKCS1V15)
			mech.mechanism = h == HSM_HASH_SHA256 ?
			    CKM_SHA256_RSA_PKCS : h == HSM_HASH_SHA384 ?
			    CKM_SHA384_RSA_PKCS : CKM_SHA512_RSA_PKCS;
		else if (req->padding == HSM_PAD_PSS) {
			/* Salt as long as the hash, MGF1 with the hash. */
			mech.mechanism = h == HSM_HASH_SHA256 ?
			    CKM_SHA256_RSA_PKCS_PSS : h == HSM_HASH_SHA384 ?
			    CKM_SHA384_RSA_PKCS_PSS : CKM_SHA512_RSA_PKCS_PSS;
			pss.hashAlg = h == HSM_HASH_SHA256 ? CKM_SHA256 :
			    h == HSM_HASH_SHA384 ? CKM_SHA384 : CKM_SHA512;
			pss.mgf = h == HSM_HASH_SHA256 ? CKG_MGF1_SHA256 :
			    h == HSM_HASH_SHA384 ? CKG_MGF1_SHA384 :
			    CKG_MGF1_SHA512;
			pss.sLen = EVP_MD_get_size(md);
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
		/* CKM_ECDSA signs a digest: made here, it is public. */
		mech.mechanism = CKM_ECDSA;
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
		    "cannot sign with an %s key", sw_kind_name(req->kind)));
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

/* The token's r || s as the DER SEQUENCE { r, s } X.509 and KMIP use. */
static int
p11_ecdsa_der(uint8_t **sig, CK_ULONG *len, struct hsm_res *res)
{
	ECDSA_SIG	*es;
	BIGNUM		*r = NULL, *s = NULL;
	unsigned char	*der = NULL, *q;
	size_t		 half = *len / 2;
	int		 dlen = 0;

	if (*len == 0 || *len % 2 != 0 || (es = ECDSA_SIG_new()) == NULL) {
		free(*sig);
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token gave an ECDSA signature of %lu bytes",
		    (unsigned long)*len));
	}
	if ((r = BN_bin2bn(*sig, half, NULL)) != NULL &&
	    (s = BN_bin2bn(*sig + half, half, NULL)) != NULL &&
	    ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;
		if ((dlen = i2d_ECDSA_SIG(es, NULL)) > 0 &&
		    (der = malloc(dlen)) != NULL) {
			q = der;
			dlen = i2d_ECDSA_SIG(es, &q);
		}
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	free(*sig);
	*sig = NULL;
	if (der == NULL || dlen <= 0) {
		free(der);
		ERR_clear_error();
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "cannot encode the ECDSA signature"));
	}
	*sig = der;
	*len = dlen;
	return (0);
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
		if (h != HSM_HASH_SHA256 && h != HSM_HASH_SHA384 &&
		    h != HSM_HASH_SHA512)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "OAEP hash: SHA-256, SHA-384 or SHA-512"));
		memset(&oaep, 0, sizeof(oaep));
		oaep.hashAlg = h == HSM_HASH_SHA256 ? CKM_SHA256 :
		    h == HSM_HASH_SHA384 ? CKM_SHA384 : CKM_SHA512;
		oaep.mgf = h == HSM_HASH_SHA256 ? CKG_MGF1_SHA256 :
		    h == HSM_HASH_SHA384 ? CKG_MGF1_SHA384 : CKG_MGF1_SHA512;
		oaep.source = CKZ_DATA_SPECIFIED;
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
		    "token \"%s\" does not offer CKM_RSA_PKCS_OAEP with %s "
		    "(%s)", s->label, h == HSM_HASH_SHA256 ? "SHA-256" :
		    h == HSM_HASH_SHA384 ? "SHA-384" : "SHA-512", p11_rv(rv)));
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
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "cannot MAC with an %s key", sw_kind_name(req->kind)));
	}
	if (req->hash != HSM_HASH_NONE && req->hash != want)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "an %s key takes no other hash", sw_kind_name(req->kind)));
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
