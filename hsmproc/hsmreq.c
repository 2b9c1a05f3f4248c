/*
 * Key requests from the engine: parse, hand to the backend, answer.
 *
 * The engine is trusted to frame its messages: a request whose lengths
 * do not add up is a bug or a compromise, and the child exits (fatalx)
 * so that the parent starts a clean one, as OpenSSH does with its
 * PKCS#11 helper.  Anything else that is wrong with a well-framed request
 * (unknown kind, bad length of a key) is answered with a KMIP Result
 * Reason.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "hsmproc.h"

static const char	*hsm_req_name(uint32_t);
static void		 hsm_request_data(struct hsm *, struct imsgev *,
			    uint32_t, uint32_t, void *, size_t);

/*
 * Answers collected while the requests of one IMSG_HSM_OPS run, sent
 * together as IMSG_HSM_RESULTS (hsm_results_begin, hsm_results_end).
 */
static struct {
	struct imsgev	*iev;		/* collecting for it, or NULL */
	struct ibuf	*msg;		/* IMSG_HSM_RESULTS being built */
	size_t		 n;		/* records in msg */
	int		 depth;		/* of hsm_results_begin */
	uint64_t	 group;		/* the outermost bracket's number */
} results;

static const char *
hsm_req_name(uint32_t type)
{
	switch (type) {
	case IMSG_HSM_GENERATE:
		return ("IMSG_HSM_GENERATE");
	case IMSG_HSM_IMPORT:
		return ("IMSG_HSM_IMPORT");
	case IMSG_HSM_OP:
		return ("IMSG_HSM_OP");
	case IMSG_HSM_FIND:
		return ("IMSG_HSM_FIND");
	case IMSG_HSM_LABEL:
		return ("IMSG_HSM_LABEL");
	}
	return ("unknown request");
}

/*
 * Parse the payload buf/len of a request of the given type into r.  The
 * fixed record must be complete, each variable part at most HSM_DATA_MAX
 * and the parts must fill the rest of the payload exactly.  Returns 0,
 * or -1 with *why set.
 */
int
hsm_req_parse(uint32_t type, const void *buf, size_t len, struct hsm_req *r,
    const char **why)
{
	struct hsm_generate	 g;
	struct hsm_import	 im;
	struct hsm_op		 o;
	struct hsm_find		 f;
	struct hsm_label	 l;
	const uint8_t		*p = buf, *part[6];
	uint32_t		 plen[6];
	size_t			 i, rest, sum;

	memset(r, 0, sizeof(*r));
	r->type = type;
	if (len > 0 && buf == NULL) {
		*why = "no payload";
		return (-1);
	}
	switch (type) {
	case IMSG_HSM_GENERATE:
		if (len != sizeof(g)) {
			*why = "wrong size";
			return (-1);
		}
		memcpy(&g, p, sizeof(g));
		if (memchr(g.label, '\0', sizeof(g.label)) == NULL ||
		    memchr(g.pub_label, '\0', sizeof(g.pub_label)) == NULL) {
			*why = "label not terminated";
			return (-1);
		}
		memcpy(r->id, g.id, sizeof(r->id));
		r->kind = g.kind;
		r->bits = g.bits;
		memcpy(r->label, g.label, sizeof(r->label));
		memcpy(r->pub_label, g.pub_label, sizeof(r->pub_label));
		break;
	case IMSG_HSM_IMPORT:
		if (len < sizeof(im)) {
			*why = "short record";
			return (-1);
		}
		memcpy(&im, p, sizeof(im));
		rest = len - sizeof(im);
		if (im.len_key > HSM_DATA_MAX) {
			*why = "key too long";
			return (-1);
		}
		if (im.len_key != rest) {
			*why = "key length does not match the payload";
			return (-1);
		}
		memcpy(r->id, im.id, sizeof(r->id));
		r->kind = im.kind;
		r->format = im.format;
		r->key = rest > 0 ? p + sizeof(im) : NULL;
		r->len_key = rest;
		break;
	case IMSG_HSM_OP:
		if (len < sizeof(o)) {
			*why = "short record";
			return (-1);
		}
		memcpy(&o, p, sizeof(o));
		rest = len - sizeof(o);
		plen[0] = o.len_key;
		plen[1] = o.len_data;
		plen[2] = o.len_iv;
		plen[3] = o.len_aad;
		plen[4] = o.len_sig;
		plen[5] = o.len_label;
		/* Each part is capped, so the sum cannot overflow. */
		for (i = 0, sum = 0; i < 6; i++) {
			if (plen[i] > HSM_DATA_MAX) {
				*why = "part too long";
				return (-1);
			}
			part[i] = plen[i] > 0 ? p + sizeof(o) + sum : NULL;
			sum += plen[i];
		}
		if (sum != rest) {
			*why = "part lengths do not match the payload";
			return (-1);
		}
		memcpy(r->id, o.id, sizeof(r->id));
		r->op = o.op;
		r->kind = o.kind;
		r->padding = o.padding;
		r->hash = o.hash;
		r->tag_len = o.tag_len;
		r->flags = o.flags;
		r->salt_len = o.salt_len;
		r->mgf_hash = o.mgf_hash;
		r->mode = o.mode;
		r->wrap_kind = o.wrap_kind;
		memcpy(r->wrap_id, o.wrap_id, sizeof(r->wrap_id));
		strterm(r->wrap_id, sizeof(r->wrap_id));
		r->stream_id = o.stream_id;
		r->key = part[0];
		r->len_key = plen[0];
		r->data = part[1];
		r->len_data = plen[1];
		r->iv = part[2];
		r->len_iv = plen[2];
		r->aad = part[3];
		r->len_aad = plen[3];
		r->sig = part[4];
		r->len_sig = plen[4];
		r->oaep_label = part[5];
		r->len_oaep_label = plen[5];
		break;
	case IMSG_HSM_LABEL:
		if (len < sizeof(l)) {
			*why = "short record";
			return (-1);
		}
		memcpy(&l, p, sizeof(l));
		rest = len - sizeof(l);
		if (l.len_key > HSM_DATA_MAX) {
			*why = "key too long";
			return (-1);
		}
		if (l.len_key != rest) {
			*why = "key length does not match the payload";
			return (-1);
		}
		if (memchr(l.label, '\0', sizeof(l.label)) == NULL) {
			*why = "label not terminated";
			return (-1);
		}
		memcpy(r->id, l.id, sizeof(r->id));
		r->kind = l.kind;
		r->key_class = l.key_class;
		memcpy(r->label, l.label, sizeof(r->label));
		r->key = rest > 0 ? p + sizeof(l) : NULL;
		r->len_key = rest;
		break;
	case IMSG_HSM_FIND:
		/* The value is in the record; bits says what it is. */
		if (len != sizeof(f)) {
			*why = "wrong size";
			return (-1);
		}
		memcpy(&f, p, sizeof(f));
		if (f.len == 0 || f.len > sizeof(f.value)) {
			*why = "bad value length";
			return (-1);
		}
		memcpy(r->id, f.id, sizeof(r->id));
		r->bits = f.by;
		r->key = p + offsetof(struct hsm_find, value);
		r->len_key = f.len;
		break;
	default:
		*why = "not a key request";
		return (-1);
	}
	strterm(r->id, sizeof(r->id));
	return (0);
}

/* Fail res with a KMIP Result Reason; returns the reason. */
int
hsm_res_error(struct hsm_res *res, int status, const char *fmt, ...)
{
	va_list	 ap;

	hsm_res_clear(res);
	res->status = status;
	va_start(ap, fmt);
	(void)vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	return (status);
}

/* Wipe and free the outputs; status and message stay. */
void
hsm_res_clear(struct hsm_res *res)
{
	size_t	 i;

	for (i = 0; i < HSM_RES_NOUT; i++) {
		freezero(res->out[i], res->len[i]);
		res->out[i] = NULL;
		res->len[i] = 0;
	}
	res->valid = 0;
}

/*
 * Give buf, size bytes of which the first len are the result, to res as
 * output i.  Only len bytes are wiped when res is cleared: the rest is
 * wiped now, and an empty result is freed at once.
 */
void
hsm_res_take(struct hsm_res *res, int i, uint8_t *buf, size_t size,
    size_t len)
{
	explicit_bzero(buf + len, size - len);
	if (len == 0) {
		free(buf);
		buf = NULL;
	}
	res->out[i] = buf;
	res->len[i] = len;
}

/*
 * Queue IMSG_HSM_RESULT for request peerid, or, while the requests of an
 * IMSG_HSM_OPS run, add it to the IMSG_HSM_RESULTS that answers them.
 */
int
hsm_res_send(struct imsgev *iev, uint32_t peerid, struct hsm_res *res)
{
	struct hsm_result	 hr;
	struct hsm_rec		 rec;
	struct iovec		 iov[1 + HSM_RES_NOUT];
	size_t			 i, total;
	int			 n;

	if (!iev->active)
		return (-1);
	for (i = 0, total = sizeof(hr); i < HSM_RES_NOUT; i++)
		total += res->len[i];
	if (total > IMSG_MAX_INTERNAL - IMSG_HEADER_SIZE - sizeof(rec))
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "result of %zu bytes too large for the engine channel",
		    total);
	if (res->status != 0)
		total = sizeof(hr);

	memset(&hr, 0, sizeof(hr));
	hr.status = res->status;
	hr.valid = res->valid;
	(void)strlcpy(hr.msg, res->msg, sizeof(hr.msg));
	hr.len_out1 = res->len[0];
	hr.len_out2 = res->len[1];
	hr.len_out3 = res->len[2];
	iov[0].iov_base = &hr;
	iov[0].iov_len = sizeof(hr);
	for (i = 0, n = 1; i < HSM_RES_NOUT; i++) {
		if (res->len[i] == 0)
			continue;
		iov[n].iov_base = res->out[i];
		iov[n].iov_len = res->len[i];
		n++;
	}
	if (results.iev != iev) {
		if (imsg_composev(&iev->ibuf, IMSG_HSM_RESULT, peerid, 0, -1,
		    iov, n) == -1) {
			log_warn("imsg_composev IMSG_HSM_RESULT");
			return (-1);
		}
		imsg_event_add(iev);
		return (0);
	}
	/*
	 * One more record; a full message goes first: full in bytes, or in
	 * records (the engine takes at most HSM_MULTI_MAX in one, and a
	 * pool may hand back several messages' answers at once).
	 */
	if (results.msg != NULL && (results.n >= HSM_MULTI_MAX ||
	    ibuf_size(results.msg) + sizeof(rec) + total > IMSG_MAX_INTERNAL))
		hsm_results_flush();
	if (results.msg == NULL && (results.msg = imsg_create(&iev->ibuf,
	    IMSG_HSM_RESULTS, 0, 0, sizeof(rec) + total)) == NULL) {
		log_warn("imsg_create IMSG_HSM_RESULTS");
		return (-1);
	}
	rec.type = IMSG_HSM_RESULT;
	rec.id = peerid;
	rec.len = total;
	if (imsg_add(results.msg, &rec, sizeof(rec)) == -1)
		goto fail;
	for (i = 0; i < (size_t)n; i++)
		if (imsg_add(results.msg, iov[i].iov_base,
		    iov[i].iov_len) == -1)
			goto fail;
	results.n++;
	return (0);
 fail:
	/* imsg_add freed it, with the answers before this one. */
	log_warn("imsg_add IMSG_HSM_RESULTS");
	results.msg = NULL;
	results.n = 0;
	return (-1);
}

/*
 * Collect the answers made from now on for iev into IMSG_HSM_RESULTS
 * (those a worker thread makes later go one by one), until
 * hsm_results_end sends them.  Calls nest: the outermost end sends.
 */
void
hsm_results_begin(struct imsgev *iev)
{
	if (results.depth++ > 0)
		return;
	if (++results.group == 0)
		results.group = 1;
	results.iev = iev;
	results.msg = NULL;
	results.n = 0;
}

void
hsm_results_end(void)
{
	if (results.depth == 0 || --results.depth > 0)
		return;
	hsm_results_flush();
	results.iev = NULL;
}

/*
 * The requests queued in one bracket (one IMSG_HSM_OPS) share a number
 * (never 0): a pool hands their answers back together.  0 outside one.
 */
uint64_t
hsm_results_group(void)
{
	return (results.depth > 0 ? results.group : 0);
}

/* Send what is collected so far, and go on collecting. */
void
hsm_results_flush(void)
{
	if (results.msg == NULL)
		return;
	/* For the log, and for tests. */
	log_debug("%zu answers in one message", results.n);
	imsg_close(&results.iev->ibuf, results.msg);
	imsg_event_add(results.iev);
	results.msg = NULL;
	results.n = 0;
}

/*
 * The backend's function for a parsed request, or NULL with res saying
 * why it cannot be served.  Main thread only: it reads the state.
 */
hsm_fn
hsm_pick(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	hsm_fn		 fn = NULL;
	const char	*what = "this request";

	memset(res, 0, sizeof(*res));
	if (h->be == NULL) {
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "signer not configured yet");
		return (NULL);
	}
	switch (req->type) {
	case IMSG_HSM_GENERATE:
		fn = h->be->generate;
		what = "key generation";
		break;
	case IMSG_HSM_IMPORT:
		fn = h->be->import;
		what = "key import";
		break;
	case IMSG_HSM_OP:
		fn = h->be->op;
		what = "cryptographic operations";
		if (req->op == HSM_OP_DESTROY ||
		    req->op == HSM_OP_DESTROY_PUBLIC)
			what = "destroying keys";
		if (req->flags & ~HSM_OPF_FLAGS) {
			(void)hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "unknown flags 0x%x", req->flags);
			return (NULL);
		}
		if (!hsm_op_stream_ok(req->op, req->flags, req->stream_id,
		    req->len_key + req->len_data + req->len_iv +
		    req->len_aad + req->len_sig + req->len_oaep_label)) {
			(void)hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "stream fields that do not agree");
			return (NULL);
		}
		break;
	case IMSG_HSM_LABEL:
		fn = h->be->label;
		what = "labels";
		break;
	case IMSG_HSM_FIND:
		fn = h->be->find;
		what = "finding keys in a token";
		break;
	}
	if (fn == NULL) {
		(void)hsm_res_error(res, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "signer \"%s\" (%s): %s not supported yet", h->setup.name,
		    h->be->name, what);
		return (NULL);
	}
	if (h->status.state != SSTATE_READY) {
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is not ready: %s", h->setup.name,
		    h->status.detail);
		return (NULL);
	}
	return (fn);
}

/* Answer one parsed request: the backend's work or why it cannot. */
void
hsm_handle(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	hsm_fn	 fn;

	if ((fn = hsm_pick(h, req, res)) == NULL)
		return;
	fn(h, req, res);
	if (res->status != 0)
		hsm_res_clear(res);	/* no partial results */
}

/* Send the answer to req and wipe it. */
void
hsm_answer(struct imsgev *iev, const struct hsm_req *req,
    struct hsm_res *res)
{
	if (res->status != 0)
		log_debug("request %u: %s: reason 0x%x: %s", req->peerid,
		    hsm_req_name(req->type), res->status, res->msg);
	hsm_stat_end(req->peerid, res->status, res->msg);
	(void)hsm_res_send(iev, req->peerid, res);
	hsm_res_clear(res);
}

/*
 * One request from the engine; a malformed one is fatal.  A backend
 * with worker threads (submit) takes a copy and answers later, from
 * the main thread; the others answer now.
 */
void
hsm_request(struct hsm *h, struct imsgev *iev, struct imsg *imsg)
{
	struct ibuf	 ib;
	void		*data = NULL;
	size_t		 len = 0;
	uint32_t	 type = imsg_get_type(imsg);

	if (imsg_get_len(imsg) > 0) {
		if (imsg_get_ibuf(imsg, &ib) == -1)
			fatal("%s", hsm_req_name(type));
		data = ibuf_data(&ib);
		len = ibuf_size(&ib);
	}
	hsm_request_data(h, iev, type, imsg_get_id(imsg), data, len);
}

/*
 * IMSG_HSM_OPS: the requests one after the other, as if each had come
 * alone; the answers made now go back together in IMSG_HSM_RESULTS.
 * Framed by the engine: a record that does not fit is fatal, as a
 * malformed request is.
 */
void
hsm_request_multi(struct hsm *h, struct imsgev *iev, struct imsg *imsg)
{
	struct hsm_rec	 rec;
	struct ibuf	 ib;
	const uint8_t	*p, *data;
	size_t		 left, n = 0;
	int		 rv;

	if (imsg_get_ibuf(imsg, &ib) == -1)
		fatalx("empty IMSG_HSM_OPS");
	p = ibuf_data(&ib);
	left = ibuf_size(&ib);
	hsm_results_begin(iev);
	while ((rv = hsm_multi_next(&p, &left, &rec, &data)) == 1) {
		if (++n > HSM_MULTI_MAX)
			fatalx("IMSG_HSM_OPS of more than %d requests",
			    HSM_MULTI_MAX);
		if (!hsm_multi_type_ok(rec.type))
			fatalx("imsg %u in IMSG_HSM_OPS", rec.type);
		hsm_stat_begin(rec.id);
		/* Ours to wipe: the message's buffer. */
		hsm_request_data(h, iev, rec.type, rec.id,
		    (void *)(uintptr_t)data, rec.len);
	}
	if (rv == -1 || n == 0)
		fatalx("malformed IMSG_HSM_OPS");
	if (h->be != NULL && h->be->submitted != NULL)
		h->be->submitted(h);
	hsm_results_end();
}

static void
hsm_request_data(struct hsm *h, struct imsgev *iev, uint32_t type,
    uint32_t peerid, void *data, size_t len)
{
	struct hsm_req	 req;
	struct hsm_res	 res;
	hsm_fn		 fn;
	const char	*why = NULL;
	int		 queued = 0;

	if (hsm_req_parse(type, data, len, &req, &why) == -1)
		fatalx("bad %s from the engine: %s", hsm_req_name(type), why);
	req.peerid = peerid;

	if ((fn = hsm_pick(h, &req, &res)) != NULL) {
		if (h->be->submit != NULL)
			queued = h->be->submit(h, iev, &req, fn, data, len,
			    &res) == 0;
		else {
			fn(h, &req, &res);
			if (res.status != 0)
				hsm_res_clear(&res);
		}
	}
	/* Imported keys and data to encrypt arrive in the clear. */
	if (len > 0)
		explicit_bzero(data, len);
	if (!queued)
		hsm_answer(iev, &req, &res);
}

/*
 * The checks every backend makes of an AES-GCM request: a 12-byte IV (on
 * encryption it may be absent: the signer makes one), a tag of 12 to 16
 * bytes and no padding.  The tag length in *taglen; 0, or the status of
 * res filled in.
 */
int
hsm_gcm_check(const struct hsm_req *req, int enc, size_t *taglen,
    struct hsm_res *res)
{
	return (hsm_gcm_check_iv(req, enc, taglen, res, HSM_GCM_IV_LEN));
}

/*
 * The same, with an iv of 12 bytes or, if ivmax is more, of 1 to ivmax
 * bytes (NIST SP 800-38D allows any; the software signer does).
 */
int
hsm_gcm_check_iv(const struct hsm_req *req, int enc, size_t *taglen,
    struct hsm_res *res, size_t ivmax)
{
	size_t	 ivmin = ivmax > HSM_GCM_IV_LEN ? 1 : HSM_GCM_IV_LEN;

	if (req->mode != HSM_MODE_GCM)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "this signer does AES in GCM mode only"));
	if (enc) {
		*taglen = req->tag_len;
		if (req->len_iv != 0 && (req->len_iv < ivmin ||
		    req->len_iv > ivmax))
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES-GCM iv of %zu bytes: %zu to %zu, or none to "
			    "make one", req->len_iv, ivmin, ivmax));
	} else {
		*taglen = req->len_sig;
		if (req->len_iv < ivmin || req->len_iv > ivmax)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES-GCM iv of %zu bytes: %zu to %zu",
			    req->len_iv, ivmin, ivmax));
		if (req->tag_len != 0 && req->tag_len != req->len_sig)
			return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
			    "AES-GCM tag of %zu bytes, tag length %u",
			    req->len_sig, req->tag_len));
	}
	if (*taglen < 12 || *taglen > 16)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES-GCM tag of %zu bytes: 12 to 16", *taglen));
	if (req->padding != HSM_PAD_NONE)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "AES-GCM takes no padding"));
	return (0);
}

/* The length of a digest of hash, or -1. */
int
hsm_hash_len(uint32_t hash)
{
	switch (hash) {
	case HSM_HASH_SHA1:
		return (20);
	case HSM_HASH_SHA256:
		return (32);
	case HSM_HASH_SHA384:
		return (48);
	case HSM_HASH_SHA512:
		return (64);
	}
	return (-1);
}

/*
 * The checks every backend makes of a signature over a digest the client
 * made (HSM_OPF_PREHASHED): a hash, and a digest exactly as long as it.
 * Ed25519 (RFC 8032 without "ph") signs the message itself.  0, or the
 * status of res filled in.
 */
int
hsm_digest_check(const struct hsm_req *req, struct hsm_res *res)
{
	int	 want;

	if (!(req->flags & HSM_OPF_PREHASHED))
		return (0);
	if (req->kind == HSM_KEY_ED25519)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "Ed25519 signs the message itself: no Digested Data "
		    "(no pre-hashed Ed25519, Ed25519ph, is offered)"));
	if ((want = hsm_hash_len(req->hash)) == -1 ||
	    (req->hash == HSM_HASH_SHA1 && req->op != HSM_OP_VERIFY))
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "Digested Data needs the hash it was made with: "
		    "SHA-256, SHA-384 or SHA-512 (SHA-1 to verify only)"));
	if (req->len_data != (size_t)want)
		return (hsm_res_error(res, KMIP_REASON_INVALID_FIELD,
		    "Digested Data of %zu bytes: a %s digest is %d",
		    req->len_data, req->hash == HSM_HASH_SHA256 ? "SHA-256" :
		    req->hash == HSM_HASH_SHA384 ? "SHA-384" :
		    req->hash == HSM_HASH_SHA1 ? "SHA-1" : "SHA-512", want));
	return (0);
}
