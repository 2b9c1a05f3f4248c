/*
 * The key-encryption key of an openssl signer with `wrap with`, in this
 * pkcs11 signer's token, and the channels (IMSG_SOCKET_KEK) on which
 * such signers ask for it to be used.
 *
 * The KEK is an AES-256 secret key object, CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE and never CKA_EXTRACTABLE, allowed to encrypt and
 * decrypt only, labelled "signerd-kek-<openssl signer>": found again by
 * that label, made on the first check value request.  A software key is
 * wrapped with CKM_AES_GCM C_Encrypt (random 12-byte iv, 16-byte tag),
 * whose additional data this side builds from what the parent said is
 * at the other end of the channel:
 *
 *	2 | key kind (4 bytes, big endian) | signer name | 0 | object id
 *
 * so that a blob moved to another object, kind or signer does not
 * unwrap, even when asked for by a compromised openssl child.  AES key
 * wrap with padding (CKM_AES_KEY_WRAP_PAD) would need the key as a
 * token object first; SoftHSM 2.6.1 encrypts data with GCM, with
 * additional data, which CKM_AES_KEY_WRAP_PAD cannot bind.
 *
 * The check value is the first HSM_KEK_CV_LEN bytes of the GCM tag of
 * 16 zero bytes under an all-zero iv and HSM_KEK_CV_AAD: a random iv is
 * never all zero in practice, and the openssl signer computes the same
 * value for a file KEK.
 *
 * The token work runs as p11_fn functions through p11_run, on one
 * session; the channel, its parsing and its answers stay in the main
 * loop.  What the openssl child sends is checked like a client's input:
 * a malformed message closes its channel, never this process.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"

#define P11_KEK_LABEL		"signerd-kek-"
#define P11_KEK_LABEL_MAX	(sizeof(P11_KEK_LABEL) + SIGNER_NAME_MAX)
#define P11_KEK_ATTRS		14
#define P11_KEK_AAD_MAX		(1 + 4 + SIGNER_NAME_MAX + 1 + HSM_ID_MAX)

/* One openssl signer whose KEK this token holds. */
struct p11_kekchan {
	TAILQ_ENTRY(p11_kekchan) entry;
	struct hsm		*h;
	struct imsgev		 iev;
	char			 signer[SIGNER_NAME_MAX];
};
TAILQ_HEAD(p11_kekchans, p11_kekchan);

static void	 p11_kek_dispatch(int, short, void *);
static void	 p11_kek_close(struct p11_kekchan *);
static void	 p11_kek_request(struct p11_kekchan *, struct imsg *);
static int	 p11_kek_answer(struct p11_kekchan *, uint32_t,
		    struct hsm_res *);
static int	 p11_kek_do(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);
static int	 p11_kek_find(struct p11_sess *, const struct hsm_req *,
		    int, CK_OBJECT_HANDLE *, struct hsm_res *);
static int	 p11_kek_gcm(struct p11_sess *, CK_OBJECT_HANDLE, int,
		    const uint8_t *, const uint8_t *, size_t, const uint8_t *,
		    size_t, uint8_t *, CK_ULONG *, struct hsm_res *);
static int	 p11_kek_fail(struct p11_sess *, struct hsm_res *,
		    const char *, CK_RV);
static void	 p11_kek_attr(CK_ATTRIBUTE *, CK_ULONG *, CK_ATTRIBUTE_TYPE,
		    const void *, CK_ULONG);

static struct p11_kekchans	 p11_kekchans =
    TAILQ_HEAD_INITIALIZER(p11_kekchans);

/*
 * IMSG_SOCKET_KEK from the parent: a channel to the openssl signer named
 * in the payload.  It replaces an older one to the same signer, which
 * was restarted.
 */
void
p11_kek_link(struct hsm *h, struct imsg *imsg)
{
	struct p11_kekchan	*kc;
	char			 name[SIGNER_NAME_MAX];
	int			 fd;

	if (imsg_get_data(imsg, name, sizeof(name)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1)
		fatalx("bad IMSG_SOCKET_KEK");
	strterm(name, sizeof(name));
	TAILQ_FOREACH(kc, &p11_kekchans, entry)
		if (strcmp(kc->signer, name) == 0)
			break;
	if (kc != NULL)
		imsgev_clear(&kc->iev);
	else {
		if ((kc = calloc(1, sizeof(*kc))) == NULL)
			fatal(NULL);
		kc->h = h;
		(void)strlcpy(kc->signer, name, sizeof(kc->signer));
		TAILQ_INSERT_TAIL(&p11_kekchans, kc, entry);
	}
	/* No fd from a sibling; its requests fit the engine's cap. */
	if (imsgev_init(&kc->iev, fd, p11_kek_dispatch, kc,
	    IMSG_MAX_INTERNAL, 0) == -1)
		fatal("KEK channel");
	log_debug("KEK channel to signer %s", name);
}

/* At exit: every channel closed. */
void
p11_kek_clear(struct hsm *h)
{
	struct p11_kekchan	*kc;

	while ((kc = TAILQ_FIRST(&p11_kekchans)) != NULL)
		p11_kek_close(kc);
}

static void
p11_kek_close(struct p11_kekchan *kc)
{
	imsgev_clear(&kc->iev);
	TAILQ_REMOVE(&p11_kekchans, kc, entry);
	free(kc);
}

static void
p11_kek_dispatch(int fd, short event, void *arg)
{
	struct p11_kekchan	*kc = arg;
	struct imsg		 imsg;
	ssize_t			 n;

	if (imsgev_io(&kc->iev, event) == -1) {
		/* The openssl signer stopped; the parent relinks it. */
		log_debug("KEK channel to signer %s closed", kc->signer);
		p11_kek_close(kc);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&kc->iev.ibuf, &imsg)) == -1)
			goto bad;
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_KEK_WRAP:
		case IMSG_KEK_UNWRAP:
			p11_kek_request(kc, &imsg);
			break;
		default:
			imsg_free(&imsg);
			goto bad;
		}
		imsg_free(&imsg);
		if (!kc->iev.active) {
			p11_kek_close(kc);
			return;
		}
	}
	imsg_event_add(&kc->iev);
	return;
 bad:
	log_warnx("KEK channel to signer %s: bad message, closing it",
	    kc->signer);
	p11_kek_close(kc);
}

/* One request: parsed, run on a session of the token, answered. */
static void
p11_kek_request(struct p11_kekchan *kc, struct imsg *imsg)
{
	struct hsm		*h = kc->h;
	struct hsm_kek		 k;
	struct hsm_req		 req;
	struct hsm_res		 res;
	struct ibuf		 ib;
	const uint8_t		*data;
	char			 label[P11_KEK_LABEL_MAX];
	uint8_t			 aad[P11_KEK_AAD_MAX], *p;
	size_t			 sl, il;
	uint32_t		 type = imsg_get_type(imsg);

	memset(&res, 0, sizeof(res));
	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    hsm_kek_parse(ibuf_data(&ib), ibuf_size(&ib), &k, &data) == -1 ||
	    (k.flags & ~HSM_KEK_CHECK) != 0 ||
	    ((k.flags & HSM_KEK_CHECK) && (type != IMSG_KEK_WRAP ||
	    k.len_data != 0))) {
		log_warnx("KEK channel to signer %s: malformed request",
		    kc->signer);
		imsgev_clear(&kc->iev);
		return;
	}
	(void)snprintf(label, sizeof(label), "%s%s", P11_KEK_LABEL,
	    kc->signer);
	sl = strlen(kc->signer);
	il = strlen(k.id);
	p = aad;
	*p++ = 2;
	*p++ = k.kind >> 24;
	*p++ = k.kind >> 16;
	*p++ = k.kind >> 8;
	*p++ = k.kind;
	memcpy(p, kc->signer, sl);
	p += sl;
	*p++ = '\0';
	memcpy(p, k.id, il);
	p += il;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.peerid = imsg_get_id(imsg);
	memcpy(req.id, k.id, sizeof(req.id));
	req.kind = k.kind;
	req.op = k.flags;
	req.key = (const uint8_t *)label;
	req.len_key = strlen(label);
	req.aad = aad;
	req.len_aad = p - aad;
	req.data = data;
	req.len_data = k.len_data;

	if ((k.flags & HSM_KEK_CHECK) == 0 && (k.id[0] == '\0' ||
	    k.len_data == 0))
		(void)hsm_res_error(&res, KMIP_REASON_INVALID_FIELD,
		    "no object id or no data");
	else if (h->status.state != SSTATE_READY)
		(void)hsm_res_error(&res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is not ready: %s", h->setup.name,
		    h->status.detail);
	else {
		p11_run(h, &req, &res, p11_kek_do);
		if (res.status != 0)
			hsm_res_clear(&res);
	}
	/* Keys to wrap arrive in the clear. */
	if (k.len_data > 0)
		explicit_bzero(ibuf_data(&ib), ibuf_size(&ib));
	if (res.status != 0)
		log_debug("KEK request %u of signer %s: %s", req.peerid,
		    kc->signer, res.msg);
	if (p11_kek_answer(kc, req.peerid, &res) == -1)
		imsgev_clear(&kc->iev);
	hsm_res_clear(&res);
}

static int
p11_kek_answer(struct p11_kekchan *kc, uint32_t peerid, struct hsm_res *res)
{
	struct hsm_kek_result	 r;
	struct iovec		 iov[2];

	memset(&r, 0, sizeof(r));
	r.status = res->status;
	(void)strlcpy(r.msg, res->msg, sizeof(r.msg));
	r.len_out = res->len[0];
	iov[0].iov_base = &r;
	iov[0].iov_len = sizeof(r);
	iov[1].iov_base = res->out[0];
	iov[1].iov_len = res->len[0];
	if (imsg_composev(&kc->iev.ibuf, IMSG_KEK_RESULT, peerid, 0, -1, iov,
	    res->len[0] > 0 ? 2 : 1) == -1) {
		log_warn("KEK channel to signer %s", kc->signer);
		return (-1);
	}
	imsg_event_add(&kc->iev);
	return (0);
}

/* A failed call; a lost session is noted for p11_run to reopen. */
static int
p11_kek_fail(struct p11_sess *s, struct hsm_res *res, const char *what,
    CK_RV rv)
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
	}
	return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
	    "token \"%s\": %s: %s", s->label, what, p11_rv(rv)));
}

/* Append an attribute to a template of P11_KEK_ATTRS. */
static void
p11_kek_attr(CK_ATTRIBUTE *t, CK_ULONG *n, CK_ATTRIBUTE_TYPE type,
    const void *v, CK_ULONG len)
{
	if (*n >= P11_KEK_ATTRS)
		fatalx("%s: template too long", __func__);
	t[*n].type = type;
	t[*n].pValue = (void *)(uintptr_t)v;
	t[*n].ulValueLen = len;
	(*n)++;
}

/*
 * The KEK labelled req->key; with make, generated if the token has
 * none.  Two keys with the label are an error: which one wrapped what
 * cannot be told.
 */
static int
p11_kek_find(struct p11_sess *s, const struct hsm_req *req, int make,
    CK_OBJECT_HANDLE *key, struct hsm_res *res)
{
	static CK_BBOOL		 yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS		 cls = CKO_SECRET_KEY;
	CK_KEY_TYPE		 kt = CKK_AES;
	CK_ULONG		 len = 32, n = 0;
	CK_MECHANISM		 mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_HANDLE	 found[2];
	CK_ATTRIBUTE		 t[P11_KEK_ATTRS];
	CK_ULONG		 nt = 0;
	CK_RV			 rv;

	p11_kek_attr(t, &nt, CKA_CLASS, &cls, sizeof(cls));
	p11_kek_attr(t, &nt, CKA_KEY_TYPE, &kt, sizeof(kt));
	p11_kek_attr(t, &nt, CKA_LABEL, req->key, req->len_key);
	if ((rv = s->f->C_FindObjectsInit(s->session, t, nt)) != CKR_OK)
		return (p11_kek_fail(s, res, "C_FindObjectsInit", rv));
	rv = s->f->C_FindObjects(s->session, found, 2, &n);
	(void)s->f->C_FindObjectsFinal(s->session);
	if (rv != CKR_OK)
		return (p11_kek_fail(s, res, "C_FindObjects", rv));
	if (n > 1)
		return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token \"%s\" has several keys labelled %.*s: delete "
		    "the one that was not used", s->label, (int)req->len_key,
		    (const char *)req->key));
	if (n == 1) {
		*key = found[0];
		return (0);
	}
	if (!make)
		return (hsm_res_error(res, KMIP_REASON_ITEM_NOT_FOUND,
		    "token \"%s\" has no key labelled %.*s (another or a "
		    "re-initialised token?)", s->label, (int)req->len_key,
		    (const char *)req->key));
	if (!p11_offers(s->tok, CKM_AES_KEY_GEN))
		return (hsm_res_error(res, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "token \"%s\" does not offer CKM_AES_KEY_GEN", s->label));
	p11_kek_attr(t, &nt, CKA_VALUE_LEN, &len, sizeof(len));
	p11_kek_attr(t, &nt, CKA_TOKEN, &yes, sizeof(yes));
	p11_kek_attr(t, &nt, CKA_PRIVATE, &yes, sizeof(yes));
	p11_kek_attr(t, &nt, CKA_SENSITIVE, &yes, sizeof(yes));
	p11_kek_attr(t, &nt, CKA_EXTRACTABLE, &no, sizeof(no));
	p11_kek_attr(t, &nt, CKA_ENCRYPT, &yes, sizeof(yes));
	p11_kek_attr(t, &nt, CKA_DECRYPT, &yes, sizeof(yes));
	p11_kek_attr(t, &nt, CKA_WRAP, &no, sizeof(no));
	p11_kek_attr(t, &nt, CKA_UNWRAP, &no, sizeof(no));
	p11_kek_attr(t, &nt, CKA_SIGN, &no, sizeof(no));
	p11_kek_attr(t, &nt, CKA_VERIFY, &no, sizeof(no));
	if ((rv = s->f->C_GenerateKey(s->session, &mech, t, nt,
	    key)) != CKR_OK)
		return (p11_kek_fail(s, res, "C_GenerateKey", rv));
	log_info("token \"%s\": made key-encryption key %.*s", s->label,
	    (int)req->len_key, (const char *)req->key);
	return (0);
}

/*
 * AES-GCM with the KEK: in (inlen bytes, with the tag at its end when
 * decrypting) into out (*outlen, at most inlen + the tag).
 */
static int
p11_kek_gcm(struct p11_sess *s, CK_OBJECT_HANDLE key, int enc,
    const uint8_t *iv, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t inlen, uint8_t *out, CK_ULONG *outlen, struct hsm_res *res)
{
	CK_GCM_PARAMS	 gp;
	CK_MECHANISM	 mech = { CKM_AES_GCM, NULL, 0 };
	CK_RV		 rv;

	memset(&gp, 0, sizeof(gp));
	gp.pIv = (CK_BYTE_PTR)(uintptr_t)iv;
	gp.ulIvLen = HSM_KEK_IV_LEN;
	gp.ulIvBits = HSM_KEK_IV_LEN * 8;
	gp.pAAD = (CK_BYTE_PTR)(uintptr_t)aad;
	gp.ulAADLen = aadlen;
	gp.ulTagBits = HSM_KEK_TAG_LEN * 8;
	mech.pParameter = &gp;
	mech.ulParameterLen = sizeof(gp);
	if (enc) {
		if ((rv = s->f->C_EncryptInit(s->session, &mech,
		    key)) == CKR_OK)
			rv = s->f->C_Encrypt(s->session,
			    (CK_BYTE_PTR)(uintptr_t)in, inlen, out, outlen);
	} else if ((rv = s->f->C_DecryptInit(s->session, &mech,
	    key)) == CKR_OK)
		rv = s->f->C_Decrypt(s->session, (CK_BYTE_PTR)(uintptr_t)in,
		    inlen, out, outlen);
	if (rv == CKR_OK && *outlen != (enc ? inlen + HSM_KEK_TAG_LEN :
	    inlen - HSM_KEK_TAG_LEN))
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK)
		return (0);
	if (!enc && (rv == CKR_ENCRYPTED_DATA_INVALID ||
	    rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED))
		return (hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "does not unwrap with the key-encryption key in token "
		    "\"%s\" (another key, or a blob of another object or "
		    "damaged)", s->label));
	return (p11_kek_fail(s, res, enc ? "AES-GCM wrapping" :
	    "AES-GCM unwrapping", rv));
}

/*
 * The p11_fn of a KEK request (see p11_kek_request for the fields):
 * out[0] = iv | ciphertext | tag, the key in the clear, or the check
 * value.
 */
static int
p11_kek_do(struct hsm *h, struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	static const uint8_t	 zero[16];
	CK_OBJECT_HANDLE	 key;
	CK_ULONG		 outlen;
	uint8_t			 cv[sizeof(zero) + HSM_KEK_TAG_LEN], *out;
	size_t			 size;
	int			 check = req->op & HSM_KEK_CHECK;

	if (!p11_offers(s->tok, CKM_AES_GCM))
		return (hsm_res_error(res, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "token \"%s\" does not offer CKM_AES_GCM", s->label));
	if (p11_kek_find(s, req, check, &key, res) != 0)
		return (res->status);
	if (check) {
		outlen = sizeof(cv);
		if (p11_kek_gcm(s, key, 1, zero, (const uint8_t *)
		    HSM_KEK_CV_AAD, strlen(HSM_KEK_CV_AAD), zero,
		    sizeof(zero), cv, &outlen, res) != 0)
			return (res->status);
		if ((out = malloc(HSM_KEK_CV_LEN)) == NULL)
			fatal(NULL);
		memcpy(out, cv + sizeof(zero), HSM_KEK_CV_LEN);
		res->out[0] = out;
		res->len[0] = HSM_KEK_CV_LEN;
		return (0);
	}
	if (req->type == IMSG_KEK_WRAP) {
		if (req->len_data > HSM_DATA_MAX - HSM_KEK_IV_LEN -
		    HSM_KEK_TAG_LEN)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "key of %zu bytes too long to wrap",
			    req->len_data));
		size = HSM_KEK_IV_LEN + req->len_data + HSM_KEK_TAG_LEN;
		if ((out = malloc(size)) == NULL)
			fatal(NULL);
		if (RAND_bytes(out, HSM_KEK_IV_LEN) != 1) {
			ERR_clear_error();
			free(out);
			return (hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "no random iv"));
		}
		outlen = size - HSM_KEK_IV_LEN;
		if (p11_kek_gcm(s, key, 1, out, req->aad, req->len_aad,
		    req->data, req->len_data, out + HSM_KEK_IV_LEN, &outlen,
		    res) != 0) {
			free(out);
			return (res->status);
		}
		res->out[0] = out;
		res->len[0] = size;
		return (0);
	}
	if (req->len_data <= HSM_KEK_IV_LEN + HSM_KEK_TAG_LEN)
		return (hsm_res_error(res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "wrapped key of %s too short", req->id));
	size = req->len_data - HSM_KEK_IV_LEN;
	if ((out = malloc(size)) == NULL)
		fatal(NULL);
	outlen = size;
	if (p11_kek_gcm(s, key, 0, req->data, req->aad, req->len_aad,
	    req->data + HSM_KEK_IV_LEN, size, out, &outlen, res) != 0) {
		freezero(out, size);
		return (res->status);
	}
	hsm_res_take(res, 0, out, size, outlen);
	return (0);
}
