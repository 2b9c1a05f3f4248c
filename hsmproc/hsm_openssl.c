/*
 * The openssl backend (software keys, kept in the keystore wrapped by a
 * key-encryption key: softkey.c) and the kmip backend (an upstream KMIP
 * server, not implemented yet).
 *
 * The KEK is in a file (`kek file`: the parent sends it, IMSG_CONF_KEK,
 * and it lives in this process only, in the softkey state) or in the
 * token of a pkcs11 signer (`wrap with`), reached over the KEK channel
 * the parent links between the two children (IMSG_SOCKET_KEK); with
 * both, blobs of the file KEK stay readable and are moved under the
 * token's by rewrap (IMSG_HSM_REWRAP), new ones are made by the token.
 *
 * A request to the token is a blocking round trip on that channel,
 * bounded by half the signer's timeout: this child is single-threaded,
 * each blob is unwrapped once and then cached, and the parent's liveness
 * check (timeout) must still see an answer.
 *
 * At start the check values of the KEKs (never the keys) go to the
 * engine (IMSG_KEK_CHECK), which compares them with those the keystore
 * recorded when the signer first started: the signer is ready only once
 * the engine agreed, so a wrong kek file or another token is an error
 * at start, not garbage later.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "hsmproc.h"
#include "softkey.h"

#define SOFT_KEK_RETRY_S	2	/* token not ready: ask again */

struct soft {
	struct softkey	*sk;
	uint32_t	 flags;			/* KEK_CHECK_* known */
	uint8_t		 file_cv[SK_CV_LEN];
	uint8_t		 hsm_cv[SK_CV_LEN];
	int		 verified;		/* the engine agreed to these */
	uint8_t		 ok_hsm_cv[SK_CV_LEN];	/* the token's it agreed to */
};

static int	 soft_start(struct hsm *);
static int	 soft_check(struct hsm *);
static void	 soft_stop(struct hsm *);
static void	 soft_generate(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
static void	 soft_import(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
static void	 soft_op(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
static void	 soft_verify(struct hsm *);
static void	 soft_verify_retry(int, short, void *);
static void	 soft_check_send(struct hsm *);
static void	 soft_ready(struct hsm *);
static void	 soft_kek_dispatch(int, short, void *);
static void	 soft_kek_down(struct hsm *, const char *);
static int	 soft_kek_call(struct hsm *, uint32_t, const char *, uint32_t,
		    uint32_t, const uint8_t *, size_t, uint8_t **, size_t *,
		    char *, size_t);
static int	 soft_kek_fn(void *, int, const char *, uint32_t,
		    const uint8_t *, size_t, uint8_t **, size_t *, char *,
		    size_t);
static void	 soft_cv_hex(const uint8_t *, char *);
static int	 kmip_start(struct hsm *);
static void	 kmip_stop(struct hsm *);

const struct hsm_backend hsm_openssl = {
	"openssl", soft_start, soft_check, soft_stop, soft_generate,
	soft_import, soft_op, NULL, NULL, NULL, NULL, NULL
};

const struct hsm_backend hsm_kmip = {
	"kmip", kmip_start, soft_check, kmip_stop, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL
};

/* The KEK channel: one per process, it outlives a restart of the backend. */
static struct imsgev	 soft_kek;
static uint32_t		 soft_kek_seq;
static struct event	 soft_retry;
static int		 soft_retry_set;

static void
soft_cv_hex(const uint8_t *cv, char *hex)
{
	size_t	 i;

	for (i = 0; i < SK_CV_LEN; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", cv[i]);
}

static int
soft_start(struct hsm *h)
{
	struct soft	*ss;

	if (h->be_state != NULL)
		return (0);
	/* The parent sends none if the file is missing or malformed. */
	if (!h->has_kek && (h->setup.kek_file[0] != '\0' ||
	    h->setup.wrap_with[0] == '\0')) {
		hsm_status_set(h, SSTATE_ERROR, "no key-encryption key (kek "
		    "file missing or unreadable, see the log of signerd)");
		return (-2);
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL ||
	    (ss->sk = sw_new(h->has_kek ? h->kek : NULL, 0)) == NULL) {
		free(ss);
		hsm_status_set(h, SSTATE_ERROR, "OpenSSL lacks AES-GCM, "
		    "SHA-256 or HMAC");
		return (-2);
	}
	if (h->has_kek) {
		if (sw_check_value(ss->sk, ss->file_cv) == -1) {
			sw_free(ss->sk);
			free(ss);
			hsm_status_set(h, SSTATE_ERROR, "OpenSSL cannot "
			    "compute the check value of the kek file");
			return (-2);
		}
		ss->flags |= KEK_CHECK_FILE;
	}
	if (h->setup.wrap_with[0] != '\0')
		sw_set_hsm(ss->sk, soft_kek_fn, h);
	h->be_state = ss;
	soft_verify(h);
	return (0);
}

/*
 * Find the check values and have the engine compare them: at start,
 * when the KEK channel comes back, and (token not ready) every
 * SOFT_KEK_RETRY_S.
 */
static void
soft_verify(struct hsm *h)
{
	struct soft	*ss = h->be_state;
	struct timeval	 tv = { SOFT_KEK_RETRY_S, 0 };
	uint8_t		*cv;
	size_t		 cvlen;
	char		 why[HSM_MSG_MAX];

	if (ss == NULL)
		return;
	if (h->setup.wrap_with[0] != '\0') {
		if (!soft_kek.active) {
			hsm_status_set(h, SSTATE_ERROR, "waiting for pkcs11 "
			    "signer \"%s\", which holds the key-encryption "
			    "key (no channel to it)", h->setup.wrap_with);
			return;
		}
		if (soft_kek_call(h, IMSG_KEK_WRAP, "", 0, HSM_KEK_CHECK, NULL,
		    0, &cv, &cvlen, why, sizeof(why)) == 0 &&
		    cvlen != SK_CV_LEN) {
			free(cv);
			cv = NULL;
			(void)strlcpy(why, "a check value of a wrong length",
			    sizeof(why));
		}
		if (cv == NULL) {
			hsm_status_set(h, SSTATE_ERROR, "key-encryption key "
			    "in signer \"%s\": %s", h->setup.wrap_with, why);
			if (soft_kek.active) {
				if (!soft_retry_set) {
					evtimer_set(&soft_retry,
					    soft_verify_retry, h);
					soft_retry_set = 1;
				}
				evtimer_add(&soft_retry, &tv);
			}
			return;
		}
		memcpy(ss->hsm_cv, cv, SK_CV_LEN);
		free(cv);
		ss->flags |= KEK_CHECK_HSM;
		/* The same token as the engine agreed to: go on. */
		if (ss->verified && memcmp(ss->ok_hsm_cv, ss->hsm_cv,
		    SK_CV_LEN) == 0) {
			soft_ready(h);
			return;
		}
	}
	ss->verified = 0;
	hsm_status_set(h, SSTATE_STARTING, "comparing the check value of "
	    "the key-encryption key with the keystore's");
	soft_check_send(h);
}

static void
soft_verify_retry(int fd, short event, void *arg)
{
	struct hsm	*h = arg;

	if (h->status.state != SSTATE_READY)
		soft_verify(h);
}

/* IMSG_KEK_CHECK to the engine, if it is there and the values known. */
static void
soft_check_send(struct hsm *h)
{
	struct soft		*ss = h->be_state;
	struct kek_check	 kc;

	if (ss == NULL || ss->verified || !h->engine.active ||
	    h->status.state != SSTATE_STARTING)
		return;
	memset(&kc, 0, sizeof(kc));
	kc.flags = ss->flags;
	memcpy(kc.file_cv, ss->file_cv, SK_CV_LEN);
	memcpy(kc.hsm_cv, ss->hsm_cv, SK_CV_LEN);
	imsg_compose_event(&h->engine, IMSG_KEK_CHECK, 0, 0, -1, &kc,
	    sizeof(kc));
}

/* A new engine channel: it learns the check values, if still due. */
void
soft_engine_linked(struct hsm *h)
{
	soft_check_send(h);
}

/*
 * The engine's answer to IMSG_KEK_CHECK: ready, or an error that says
 * which values differ (not retried: a reload with the right kek file or
 * token fixes it).  An answer for other values than ours is stale.
 */
void
soft_check_answer(struct hsm *h, struct imsg *imsg)
{
	struct soft		*ss = h->be_state;
	struct kek_check	 kc;

	if (imsg_get_data(imsg, &kc, sizeof(kc)) == -1)
		fatalx("bad IMSG_KEK_CHECK from the engine");
	strterm(kc.msg, sizeof(kc.msg));
	if (ss == NULL || ss->verified || kc.flags != ss->flags ||
	    memcmp(kc.file_cv, ss->file_cv, SK_CV_LEN) != 0 ||
	    memcmp(kc.hsm_cv, ss->hsm_cv, SK_CV_LEN) != 0 ||
	    h->status.state != SSTATE_STARTING)
		return;
	if (kc.status != 0) {
		hsm_status_set(h, SSTATE_ERROR, "%s", kc.msg);
		return;
	}
	ss->verified = 1;
	memcpy(ss->ok_hsm_cv, ss->hsm_cv, SK_CV_LEN);
	soft_ready(h);
}

static void
soft_ready(struct hsm *h)
{
	struct soft	*ss = h->be_state;
	char		 hex[2 * SK_CV_LEN + 1];

	if (ss->flags & KEK_CHECK_HSM) {
		soft_cv_hex(ss->hsm_cv, hex);
		hsm_status_set(h, SSTATE_READY, "software keys, wrapped by "
		    "the key in signer %s (check value %s)%s",
		    h->setup.wrap_with, hex, (ss->flags & KEK_CHECK_FILE) ?
		    "; kek file kept for rewrap" : "");
	} else {
		soft_cv_hex(ss->file_cv, hex);
		hsm_status_set(h, SSTATE_READY, "software keys, wrapped by "
		    "the key in %s (check value %s)", h->setup.kek_file, hex);
	}
}

static int
soft_check(struct hsm *h)
{
	return (0);
}

static void
soft_stop(struct hsm *h)
{
	struct soft	*ss = h->be_state;

	if (soft_retry_set)
		evtimer_del(&soft_retry);
	if (ss == NULL)
		return;
	sw_free(ss->sk);
	freezero(ss, sizeof(*ss));
	h->be_state = NULL;
}

static void
soft_generate(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	struct soft	*ss = h->be_state;

	(void)sw_generate(ss->sk, req, res);
}

static void
soft_import(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	struct soft	*ss = h->be_state;

	(void)sw_import(ss->sk, req, res);
}

static void
soft_op(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	struct soft	*ss = h->be_state;

	(void)sw_op(ss->sk, req, res);
}

/*
 * IMSG_HSM_REWRAP from the engine: a version 1 blob, answered with the
 * same key wrapped by the token (out1).  Framed by the engine, which is
 * trusted to: a malformed one is fatal, as for the other requests.
 */
void
soft_rewrap(struct hsm *h, struct imsgev *iev, struct imsg *imsg)
{
	struct soft	*ss = h->be_state;
	struct hsm_kek	 k;
	struct hsm_res	 res;
	struct ibuf	 ib;
	const uint8_t	*blob;
	char		 why[HSM_MSG_MAX];

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    hsm_kek_parse(ibuf_data(&ib), ibuf_size(&ib), &k, &blob) == -1)
		fatalx("bad IMSG_HSM_REWRAP from the engine");
	memset(&res, 0, sizeof(res));
	why[0] = '\0';
	if (h->status.state != SSTATE_READY || ss == NULL)
		(void)hsm_res_error(&res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is not ready: %s", h->setup.name,
		    h->status.detail);
	else if (sw_rewrap(ss->sk, k.id, k.kind, blob, k.len_data,
	    &res.out[0], &res.len[0], why, sizeof(why)) == -1)
		(void)hsm_res_error(&res, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "key of %s: %s", k.id, why);
	(void)hsm_res_send(iev, imsg_get_id(imsg), &res);
	hsm_res_clear(&res);
}

/*
 * The identity key (hsmident.c), still wrapped by the kek file while
 * the signer has the token's KEK too: wrapped by the token, as
 * signerctl rewrap does for the keystore's keys, so that the kek file
 * can go.  0 and *out (malloc'ed), or -1: nothing to do.  A blob is not
 * secret: only wrapped keys cross.
 */
int
soft_ident_rewrap(struct hsm *h, uint32_t kind, const uint8_t *blob,
    size_t len, uint8_t **out, size_t *outlen)
{
	struct soft	*ss = h->be_state;
	char		 why[HSM_MSG_MAX];

	*out = NULL;
	*outlen = 0;
	if (ss == NULL || h->setup.wrap_with[0] == '\0' || len < 1 ||
	    blob[0] != SK_BLOB_VERSION)
		return (-1);
	if (sw_rewrap(ss->sk, HSM_IDENT_ID, kind, blob, len, out, outlen,
	    why, sizeof(why)) == -1) {
		log_warnx("identity key not rewrapped: %s", why);
		return (-1);
	}
	log_info("identity key rewrapped by the token of signer \"%s\"",
	    h->setup.wrap_with);
	return (0);
}

/*
 * IMSG_SOCKET_KEK from the parent: the channel to the pkcs11 signer of
 * `wrap with` (started, or restarted).
 */
void
soft_kek_link(struct hsm *h, struct imsg *imsg)
{
	char	 name[SIGNER_NAME_MAX];
	int	 fd;

	if (imsg_get_data(imsg, name, sizeof(name)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1)
		fatalx("bad IMSG_SOCKET_KEK");
	strterm(name, sizeof(name));
	if (strcmp(name, h->setup.wrap_with) != 0)
		fatalx("KEK channel to %s, not to %s", name,
		    h->setup.wrap_with);
	imsgev_clear(&soft_kek);
	if (imsgev_init(&soft_kek, fd, soft_kek_dispatch, h,
	    IMSG_MAX_INTERNAL, 0) == -1)
		fatal("KEK channel");
	log_debug("KEK channel to signer %s", name);
	if (h->status.state != SSTATE_READY)
		soft_verify(h);
}

/* Between round trips only a late answer can come: dropped. */
static void
soft_kek_dispatch(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgev_io(&soft_kek, event) == -1) {
		soft_kek_down(h, "stopped");
		return;
	}
	for (;;) {
		if ((n = imsg_get(&soft_kek.ibuf, &imsg)) == -1) {
			soft_kek_down(h, "sent a malformed message");
			return;
		}
		if (n == 0)
			break;
		log_debug("KEK channel: late answer %u dropped",
		    imsg_get_id(&imsg));
		imsg_free(&imsg);
	}
	imsg_event_add(&soft_kek);
}

/* The pkcs11 signer is gone: not ready until the parent relinks it. */
static void
soft_kek_down(struct hsm *h, const char *why)
{
	imsgev_clear(&soft_kek);
	if (h->setup.wrap_with[0] == '\0')
		return;
	hsm_status_set(h, SSTATE_ERROR, "pkcs11 signer \"%s\", which holds "
	    "the key-encryption key, %s; waiting for it", h->setup.wrap_with,
	    why);
}

/* The softkey's way to the token (sw_hsm_fn). */
static int
soft_kek_fn(void *arg, int unwrap, const char *id, uint32_t kind,
    const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
    char *why, size_t whylen)
{
	return (soft_kek_call(arg, unwrap ? IMSG_KEK_UNWRAP : IMSG_KEK_WRAP,
	    id, kind, 0, in, inlen, out, outlen, why, whylen));
}

/*
 * One request on the KEK channel and its answer, waited for in poll(2)
 * at most half the signer's timeout.  *out is malloc'ed (wipe it: it
 * may be a key).  0, or -1 with why.
 */
static int
soft_kek_call(struct hsm *h, uint32_t type, const char *id, uint32_t kind,
    uint32_t flags, const uint8_t *in, size_t inlen, uint8_t **out,
    size_t *outlen, char *why, size_t whylen)
{
	struct hsm_kek		 k;
	struct hsm_kek_result	 r;
	struct iovec		 iov[2];
	struct imsg		 imsg;
	struct ibuf		 ib;
	struct pollfd		 pfd;
	struct timespec		 t0, now;
	const uint8_t		*o;
	long long		 left, limit;
	ssize_t			 n;
	int			 rv;

	*out = NULL;
	*outlen = 0;
	why[0] = '\0';
	if (!soft_kek.active) {
		(void)snprintf(why, whylen, "pkcs11 signer \"%s\" is not "
		    "reachable", h->setup.wrap_with);
		return (-1);
	}
	memset(&k, 0, sizeof(k));
	(void)strlcpy(k.id, id, sizeof(k.id));
	k.kind = kind;
	k.flags = flags;
	k.len_data = inlen;
	iov[0].iov_base = &k;
	iov[0].iov_len = sizeof(k);
	iov[1].iov_base = (void *)(uintptr_t)in;
	iov[1].iov_len = inlen;
	if (++soft_kek_seq == 0)
		soft_kek_seq = 1;
	if (imsg_composev(&soft_kek.ibuf, type, soft_kek_seq, 0, -1, iov,
	    inlen > 0 ? 2 : 1) == -1) {
		(void)snprintf(why, whylen, "cannot queue: %s",
		    strerror(errno));
		return (-1);
	}
	limit = (h->setup.timeout > 0 ? h->setup.timeout :
	    SIGNER_TIMEOUT_DEFAULT) * 500LL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while ((n = imsg_get(&soft_kek.ibuf, &imsg)) > 0) {
			if (imsg_get_type(&imsg) != IMSG_KEK_RESULT ||
			    imsg_get_id(&imsg) != soft_kek_seq) {
				imsg_free(&imsg);
				continue;
			}
			rv = -1;
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    hsm_kek_result_parse(ibuf_data(&ib),
			    ibuf_size(&ib), &r, &o) == -1) {
				imsg_free(&imsg);
				soft_kek_down(h, "sent a malformed answer");
				(void)strlcpy(why, "malformed answer", whylen);
				return (-1);
			}
			if (r.status != 0)
				(void)strlcpy(why, r.msg, whylen);
			else if ((*out = malloc(r.len_out > 0 ? r.len_out :
			    1)) == NULL)
				(void)strlcpy(why, "out of memory", whylen);
			else {
				if (r.len_out > 0)
					memcpy(*out, o, r.len_out);
				*outlen = r.len_out;
				rv = 0;
			}
			/* An unwrapped key. */
			explicit_bzero(ibuf_data(&ib), ibuf_size(&ib));
			imsg_free(&imsg);
			imsg_event_add(&soft_kek);
			return (rv);
		}
		if (n == -1 || (imsgbuf_queuelen(&soft_kek.ibuf) > 0 &&
		    imsgbuf_write(&soft_kek.ibuf) == -1))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = limit - ((now.tv_sec - t0.tv_sec) * 1000LL +
		    (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			/* Its answer, if it comes, is dropped. */
			(void)snprintf(why, whylen, "no answer from pkcs11 "
			    "signer \"%s\" within %lld ms",
			    h->setup.wrap_with, limit);
			imsg_event_add(&soft_kek);
			return (-1);
		}
		pfd.fd = soft_kek.ibuf.fd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(&soft_kek.ibuf) > 0)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    imsgbuf_read(&soft_kek.ibuf) != 1)
			break;
	}
	soft_kek_down(h, "closed the channel");
	(void)snprintf(why, whylen, "pkcs11 signer \"%s\" closed the "
	    "channel", h->setup.wrap_with);
	return (-1);
}

static int
kmip_start(struct hsm *h)
{
	hsm_status_set(h, SSTATE_UNSUPPORTED, "upstream KMIP server %s port "
	    "%u: the kmip signer type is not implemented yet", h->setup.host,
	    h->setup.port);
	return (-2);
}

static void
kmip_stop(struct hsm *h)
{
}
