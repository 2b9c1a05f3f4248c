/*
 * KMIP messages in the engine.
 *
 * The frontend has framed the request and checked its size; here it is
 * decoded again (the engine trusts nothing the frontend says), its batch
 * items are run in order, and the response is shaped to the protocol
 * version of the request.  A request that changed the keystore is
 * answered only after the transaction holding its change is committed:
 * commits are grouped per event-loop turn.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"

static void	 kreq_run(struct kreq *);
static void	 kreq_item_begin(struct kreq *);
static void	 kreq_item_end(struct kreq *);
static void	 kreq_finish(struct kreq *);
static struct ttlv *kreq_too_large(struct kreq *, int, size_t);
static void	 kreq_send(struct kreq *, const struct ttlv *);
static void	 kreq_free(struct kreq *);
static void	 kreq_error(const struct fe_hdr *, uint32_t, const char *);
static void	 kreq_invalid(const struct fe_hdr *, const char *);
static void	 kmip_commit(int, short, void *);
static struct ttlv *kmip_response(int32_t, int32_t, unsigned int);
static struct ttlv *kmip_error(int32_t, int32_t, uint32_t, const char *);
static size_t	 kmip_max_response(void);
static const char *kreq_who(const char *);
static int	 kreq_signer_transmit(struct kreq *, struct esigner *);
static void	 kreq_signer_fail(struct kreq *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 kreq_deadline(int, short, void *);

static struct kreq_list	 waiting = TAILQ_HEAD_INITIALIZER(waiting);
static struct kreq_list	 committing = TAILQ_HEAD_INITIALIZER(committing);
static uint32_t		 kreq_next_id;
static uint32_t		 kreq_next_sent;	/* signer request ids */
static int		 commit_scheduled;

#ifndef INFLIGHT_MAX_BYTES
/* The frontend's bound on request bytes in flight, all connections. */
#define INFLIGHT_MAX_BYTES	(16 * 1024 * 1024)
#endif
#ifndef CONN_INFLIGHT_MAX
/* The frontend's bound on requests in flight on one connection. */
#define CONN_INFLIGHT_MAX	32
#endif
/*
 * The engine's own bound, behind the frontend's: what is alive here
 * (decoded, running or waiting for a signer) is at most twice what the
 * frontend lets through; beyond, a request is answered "busy" at once.
 */
#define KREQ_LIVE_BYTES		(2 * INFLIGHT_MAX_BYTES)
#define KREQ_LIVE_MAX		(2 * 64 * CONN_INFLIGHT_MAX)
static size_t		 kreq_live;
static size_t		 kreq_live_bytes;

static const struct ttlv_limits kmip_limits = {
	MAX_MAX_MESSAGE, 16, 65536, MAX_MAX_MESSAGE
};

void
kmip_request(const struct fe_hdr *fh, const uint8_t *buf, size_t len)
{
	struct fe_hdr	 th;
	const struct fe_hdr *hdr = &th;
	struct kreq	*r;
	struct ttlv	*h, *pv, *m;
	const char	*err;
	int32_t		 count, mrs;
	uint32_t	 eco;

	/*
	 * The frontend's identity is not trusted to be terminated: it is,
	 * once, here, for everything that logs or answers this request.
	 */
	th = *fh;
	strterm(th.identity, sizeof(th.identity));
	if (kreq_live >= KREQ_LIVE_MAX ||
	    kreq_live_bytes + len > KREQ_LIVE_BYTES) {
		log_warnx("%s: server busy: %zu requests, %zu bytes in the "
		    "engine", kreq_who(hdr->identity), kreq_live,
		    kreq_live_bytes);
		kreq_error(hdr, KMIP_REASON_GENERAL_FAILURE, "server busy");
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal(NULL);
	r->hdr = *hdr;
	r->id = ++kreq_next_id;
	r->major = 1;
	r->minor = 0;
	r->on_error = KMIP_BATCH_ERR_STOP;
	r->len = len;
	kreq_live++;
	kreq_live_bytes += len;
	/* The header's size does not depend on the version or count. */
	r->budget = kmip_max_response();
	m = kmip_response(1, 0, 1);
	r->used = ttlv_encoded_len(m);
	ttlv_free(m);

	if (ttlv_decode(buf, len, &kmip_limits, &r->msg, &err) == -1) {
		kreq_invalid(hdr, err);
		goto drop;
	}
	if (r->msg->tag != KMIP_TAG_REQUEST_MESSAGE ||
	    r->msg->type != TTLV_STRUCTURE ||
	    (h = ttlv_find(r->msg, KMIP_TAG_REQUEST_HEADER)) == NULL ||
	    h->type != TTLV_STRUCTURE ||
	    (pv = ttlv_find(h, KMIP_TAG_PROTOCOL_VERSION)) == NULL ||
	    ttlv_get_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR,
	    &r->major) == -1 ||
	    ttlv_get_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR,
	    &r->minor) == -1) {
		kreq_invalid(hdr, "no Request Header with a Protocol Version");
		goto drop;
	}
	if (r->major != 1 || r->minor < 0 || r->minor > 4) {
		/* Answer in the newest version we speak. */
		r->major = 1;
		r->minor = 4;
		r->items = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
		r->cur = NULL;
		kreq_item_begin(r);
		kreq_fail(r, KMIP_REASON_INVALID_MESSAGE, "protocol version "
		    "not supported: signerd speaks KMIP 1.0 to 1.4");
		kreq_item_end(r);
		kreq_finish(r);
		return;
	}
	if (ttlv_get_integer(h, KMIP_TAG_BATCH_COUNT, &count) == -1 ||
	    count < 1 || (unsigned int)count != ttlv_count(r->msg,
	    KMIP_TAG_BATCH_ITEM)) {
		kreq_invalid(hdr, "Batch Count does not match the batch items");
		goto drop;
	}
	if (ttlv_get_enum(h, KMIP_TAG_BATCH_ERROR_CONTINUATION_OPTION,
	    &eco) == 0)
		r->on_error = eco;
	/* A client may ask for less than the server's maximum, not more. */
	if (ttlv_get_integer(h, KMIP_TAG_MAXIMUM_RESPONSE_SIZE, &mrs) == 0 &&
	    mrs > 0 && (size_t)mrs < r->budget)
		r->budget = mrs;
	/* Asynchronous Indicator: not needed. */

	r->items = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
	r->cur = ttlv_find(r->msg, KMIP_TAG_BATCH_ITEM);
	if (r->cur == NULL || r->cur->type != TTLV_STRUCTURE) {
		kreq_invalid(hdr, "Batch Item is not a structure");
		goto drop;
	}
	kreq_run(r);
	return;
 drop:
	kreq_free(r);
}

/* Run the batch items from r->cur on, until one waits or all are done. */
static void
kreq_run(struct kreq *r)
{
	const struct ttlv	*payload;
	enum kop_ret		 ret;

	while (r->cur != NULL) {
		kreq_item_begin(r);
		if (r->failed && r->on_error == KMIP_BATCH_ERR_STOP) {
			/* Stop: the rest is not run, nor answered. */
			ttlv_free(r->payload);
			r->payload = NULL;
			break;
		}
		if (r->cur->type != TTLV_STRUCTURE ||
		    ttlv_get_enum(r->cur, KMIP_TAG_OPERATION, &r->op) == -1)
			kreq_fail(r, KMIP_REASON_INVALID_MESSAGE,
			    "batch item without an Operation");
		else if ((payload = ttlv_find(r->cur,
		    KMIP_TAG_REQUEST_PAYLOAD)) == NULL ||
		    payload->type != TTLV_STRUCTURE)
			kreq_fail(r, KMIP_REASON_INVALID_MESSAGE,
			    "batch item without a Request Payload");
		else {
			ret = kop_run(r, r->op, payload);
			if (ret == KOP_WAIT) {
				TAILQ_INSERT_TAIL(&waiting, r, entry);
				return;
			}
		}
		kreq_item_end(r);
	}
	kreq_finish(r);
}

/* State of the batch item about to run. */
static void
kreq_item_begin(struct kreq *r)
{
	r->op = 0;
	r->cont = NULL;
	ttlv_free(r->payload);
	r->payload = ttlv_new_structure(KMIP_TAG_RESPONSE_PAYLOAD);
	r->item_failed = 0;
	ks_object_clear(&r->obj);
	ks_object_clear(&r->obj2);
}

/*
 * Append the response of the current item: Operation, Unique Batch Item
 * ID, Result Status, then Reason and Message if it failed, else the
 * payload.  An item that would take the response over its budget is
 * replaced by a Response Too Large failure; if even that does not fit,
 * the whole response becomes one, and the rest of the batch is not run.
 */
static void
kreq_item_end(struct kreq *r)
{
	struct ttlv		*it;
	const struct ttlv	*ubi;
	size_t			 len;

	it = ttlv_new_structure(KMIP_TAG_BATCH_ITEM);
	if (r->op != 0)
		ttlv_add_enum(it, KMIP_TAG_OPERATION, r->op);
	if (r->cur != NULL && r->cur->type == TTLV_STRUCTURE &&
	    (ubi = ttlv_find(r->cur, KMIP_TAG_UNIQUE_BATCH_ITEM_ID)) !=
	    NULL && ubi->type == TTLV_BYTE_STRING)
		ttlv_add_bytes(it, KMIP_TAG_UNIQUE_BATCH_ITEM_ID,
		    ubi->v.s.data, ubi->v.s.len);
	if (r->item_failed) {
		ttlv_add_enum(it, KMIP_TAG_RESULT_STATUS,
		    KMIP_STATUS_OPERATION_FAILED);
		ttlv_add_enum(it, KMIP_TAG_RESULT_REASON,
		    kmip_reason_for_version(r->item_reason, r->major,
		    r->minor));
		ttlv_add_string(it, KMIP_TAG_RESULT_MESSAGE, r->item_msg);
		r->failed = 1;
	} else {
		ttlv_add_enum(it, KMIP_TAG_RESULT_STATUS,
		    KMIP_STATUS_SUCCESS);
		ttlv_append(it, r->payload);
		r->payload = NULL;
	}
	ttlv_free(r->payload);
	r->payload = NULL;
	len = ttlv_encoded_len(it);
	if (r->used + len > r->budget) {
		ttlv_free(it);
		it = kreq_too_large(r, 1, len);
		len = ttlv_encoded_len(it);
		r->failed = 1;
	}
	if (r->used + len > r->budget) {
		/* Nothing fits any more: one item says so, and we stop. */
		ttlv_free(it);
		while ((it = TAILQ_FIRST(&r->items->children)) != NULL) {
			r->used -= ttlv_encoded_len(it);
			ttlv_remove(it);
			ttlv_free(it);
		}
		r->nitems = 0;
		it = kreq_too_large(r, 0, 0);
		len = ttlv_encoded_len(it);
		r->cur = NULL;
	}
	ttlv_append(r->items, it);
	r->used += len;
	r->nitems++;
	if (r->cur != NULL)
		r->cur = ttlv_find_next(r->msg, r->cur, KMIP_TAG_BATCH_ITEM);
}

/*
 * A Response Too Large failure for the current item (with its Operation
 * and Unique Batch Item ID if full), or for the whole response.
 */
static struct ttlv *
kreq_too_large(struct kreq *r, int full, size_t len)
{
	struct ttlv		*it;
	const struct ttlv	*ubi;
	char			 msg[128];

	it = ttlv_new_structure(KMIP_TAG_BATCH_ITEM);
	if (full && r->op != 0)
		ttlv_add_enum(it, KMIP_TAG_OPERATION, r->op);
	if (full && r->cur != NULL && r->cur->type == TTLV_STRUCTURE &&
	    (ubi = ttlv_find(r->cur, KMIP_TAG_UNIQUE_BATCH_ITEM_ID)) !=
	    NULL && ubi->type == TTLV_BYTE_STRING)
		ttlv_add_bytes(it, KMIP_TAG_UNIQUE_BATCH_ITEM_ID,
		    ubi->v.s.data, ubi->v.s.len);
	ttlv_add_enum(it, KMIP_TAG_RESULT_STATUS,
	    KMIP_STATUS_OPERATION_FAILED);
	ttlv_add_enum(it, KMIP_TAG_RESULT_REASON,
	    KMIP_REASON_RESPONSE_TOO_LARGE);
	if (full) {
		(void)snprintf(msg, sizeof(msg), "the answer to this item "
		    "(%zu bytes) does not fit in the response's %zu", len,
		    r->budget);
		log_debug("%s: %s", r->hdr.identity, msg);
	} else {
		(void)snprintf(msg, sizeof(msg), "the response does not fit "
		    "in %zu bytes", r->budget);
		log_info("%s: %s", r->hdr.identity, msg);
	}
	ttlv_add_string(it, KMIP_TAG_RESULT_MESSAGE, msg);
	return (it);
}

/*
 * Room left in the response for the payload of the item running, with
 * the item's own fields and a failure in its place counted: operations
 * that can answer a lot (Locate) stop when it is used up.
 */
size_t
kreq_room(const struct kreq *r)
{
	const struct ttlv	*ubi;
	size_t			 need;

	/* A failure item with its message, and the client's batch id. */
	need = r->used + 256 + (r->payload != NULL ?
	    ttlv_encoded_len(r->payload) : 0);
	if (r->cur != NULL && (ubi = ttlv_find(r->cur,
	    KMIP_TAG_UNIQUE_BATCH_ITEM_ID)) != NULL)
		need += ttlv_encoded_len(ubi);
	return (need < r->budget ? r->budget - need : 0);
}

/* Fail the current item; its response gets no payload. */
void
kreq_fail(struct kreq *r, uint32_t reason, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(r->item_msg, sizeof(r->item_msg), fmt, ap);
	va_end(ap);
	/*
	 * The message may carry client text (names, ids) and the signer's
	 * words, and vsnprintf may have cut a character in two: what goes
	 * back and into the log is valid UTF-8 without control characters.
	 */
	ttlv_text_clean(r->item_msg);
	r->item_failed = 1;
	r->item_reason = reason;
	log_debug("%s: %s failed: %s", kreq_who(r->hdr.identity),
	    kmip_op_name(r->op) != NULL ? kmip_op_name(r->op) : "request",
	    r->item_msg);
}

/*
 * A client identity as a log line may carry it: it comes from a
 * certificate, and a CN may hold any bytes.  Valid until the next call.
 */
static const char *
kreq_who(const char *identity)
{
	static char	 buf[sizeof(((struct fe_hdr *)0)->identity)];

	if (identity[0] == '\0')
		return ("(unauthenticated)");
	(void)strlcpy(buf, identity, sizeof(buf));
	ttlv_text_clean(buf);
	return (buf);
}

int
kreq_version_at_least(const struct kreq *r, int major, int minor)
{
	return (r->major > major || (r->major == major && r->minor >= minor));
}

static struct ttlv *
kmip_response(int32_t major, int32_t minor, unsigned int count)
{
	struct ttlv	*m, *h, *pv;

	m = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
	h = ttlv_add_structure(m, KMIP_TAG_RESPONSE_HEADER);
	pv = ttlv_add_structure(h, KMIP_TAG_PROTOCOL_VERSION);
	ttlv_add_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR, major);
	ttlv_add_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR, minor);
	ttlv_add_datetime(h, KMIP_TAG_TIME_STAMP, time(NULL));
	ttlv_add_integer(h, KMIP_TAG_BATCH_COUNT, count);
	return (m);
}

static void
kreq_finish(struct kreq *r)
{
	struct ttlv	*m, *it;

	m = kmip_response(r->major, r->minor, r->nitems);
	while ((it = TAILQ_FIRST(&r->items->children)) != NULL) {
		ttlv_remove(it);
		ttlv_append(m, it);
	}
	ttlv_free(r->items);
	r->items = m;
	if (r->dirty) {
		TAILQ_INSERT_TAIL(&committing, r, entry);
		if (!commit_scheduled) {
			struct timeval tv = { 0, 0 };

			commit_scheduled = 1;
			event_once(-1, EV_TIMEOUT, kmip_commit, NULL, &tv);
		}
		return;
	}
	kreq_send(r, m);
	kreq_free(r);
}

/*
 * The end of an event-loop turn: commit every change made in it, then
 * answer the requests that made them.  If the commit fails, none of them
 * happened, and each is told so.
 */
static void
kmip_commit(int fd, short event, void *arg)
{
	struct kreq	*r;
	struct ttlv	*m;
	int		 ok;

	commit_scheduled = 0;
	ok = ks_commit(engine->ks) == 0;
	if (!ok)
		log_warnx("keystore commit failed: %s", ks_error(engine->ks));
	while ((r = TAILQ_FIRST(&committing)) != NULL) {
		TAILQ_REMOVE(&committing, r, entry);
		if (!ok) {
			m = kmip_error(r->major, r->minor,
			    KMIP_REASON_GENERAL_FAILURE,
			    "the keystore could not save the change");
			kreq_send(r, m);
			ttlv_free(m);
		} else
			kreq_send(r, r->items);
		kreq_free(r);
	}
}

/*
 * Answer the frontend.  A request from the network never ends the
 * engine: if the answer cannot be queued, a minimal error is tried, and
 * failing that the connection is left to the frontend's timeouts.
 */
static void
kreq_send(struct kreq *r, const struct ttlv *m)
{
	struct ttlv	*e = NULL;
	struct ibuf	*ib;
	uint8_t		*p;
	size_t		 len;

	if (!engine->frontend.active)
		return;		/* its connection is gone with it */
	for (;;) {
		len = ttlv_encoded_len(m);
		if ((ib = imsg_create(&engine->frontend.ibuf,
		    IMSG_FE_RESPONSE, 0, 0, sizeof(r->hdr) + len)) != NULL) {
			if (imsg_add(ib, &r->hdr, sizeof(r->hdr)) != -1 &&
			    (p = ibuf_reserve(ib, len)) != NULL &&
			    ttlv_encode(m, p, len) == 0) {
				imsg_close(&engine->frontend.ibuf, ib);
				imsg_event_add(&engine->frontend);
				break;
			}
			ibuf_free(ib);
		}
		log_warn("%s: answer of %zu bytes not sent",
		    r->hdr.identity, len);
		if (e != NULL)
			break;
		m = e = kmip_error(r->major, r->minor,
		    KMIP_REASON_RESPONSE_TOO_LARGE,
		    "the response could not be sent");
	}
	ttlv_free(e);
}

/* A response with one failed item and no operation. */
static struct ttlv *
kmip_error(int32_t major, int32_t minor, uint32_t reason, const char *why)
{
	struct ttlv	*m, *it;

	m = kmip_response(major, minor, 1);
	it = ttlv_add_structure(m, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(it, KMIP_TAG_RESULT_STATUS,
	    KMIP_STATUS_OPERATION_FAILED);
	ttlv_add_enum(it, KMIP_TAG_RESULT_REASON, reason);
	ttlv_add_string(it, KMIP_TAG_RESULT_MESSAGE, why);
	return (m);
}

/*
 * A message we cannot even read the header of still gets a KMIP answer:
 * version 1.0, one batch item, Invalid Message.
 */
static void
kreq_invalid(const struct fe_hdr *hdr, const char *why)
{
	log_info("%s: invalid message: %s", kreq_who(hdr->identity), why);
	kreq_error(hdr, KMIP_REASON_INVALID_MESSAGE, why);
}

static void
kreq_error(const struct fe_hdr *hdr, uint32_t reason, const char *why)
{
	struct kreq	 r;
	struct ttlv	*m;

	memset(&r, 0, sizeof(r));
	r.hdr = *hdr;
	m = kmip_error(1, 0, reason, why);
	kreq_send(&r, m);
	ttlv_free(m);
}

/*
 * The largest response: the configured max message (what the frontend
 * reads from clients, so what clients are assumed to read too), never
 * more than one imsg to the frontend carries.
 */
static size_t
kmip_max_response(void)
{
	size_t	 max = IMSG_MAX_INTERNAL - IMSG_HEADER_SIZE -
	    sizeof(struct fe_hdr);

	if (engine->conf.max_message >= MIN_MAX_MESSAGE &&
	    (size_t)engine->conf.max_message < max)
		max = engine->conf.max_message;
	return (max);
}

static void
kreq_free(struct kreq *r)
{
	kreq_live--;
	kreq_live_bytes -= r->len;
	kreq_signer_clear(r);
	ttlv_free(r->msg);
	ttlv_free(r->items);
	ttlv_free(r->payload);
	ks_object_clear(&r->obj);
	ks_object_clear(&r->obj2);
	free(r);
}

/* Whether requests may go to the signer now rather than be held. */
int
esigner_ready(const struct esigner *es)
{
	return (es->iev.active && !es->hung &&
	    es->status.state == SSTATE_READY);
}

/*
 * Send a request to a signer child; its answer continues the operation
 * in cont.  -1 (and the item failed) if the signer cannot take it.
 *
 * Every signer request has a deadline, the signer's timeout: if the
 * answer is not there by then the item fails (never with Item Not Found:
 * Krill would take that for a new signer) and the parent is asked to
 * restart the signer.  A signer that is down, restarting or not ready
 * yet does not fail the request: it is held until the signer is ready or
 * the deadline passes.  The request is kept until it is answered, to be
 * held and sent again if the signer dies under it (operations only: a
 * key may have been made already).
 */
int
kreq_signer_send(struct kreq *r, const char *signer, uint32_t type,
    const void *fixed, size_t fixedlen, const struct iovec *parts, int nparts,
    kop_cont cont)
{
	struct esigner	*es;
	struct timeval	 tv;
	size_t		 len, off;
	int		 i;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, signer) == 0)
			break;
	if (es == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "signer \"%s\" is "
		    "not available", signer);
		return (-1);
	}
	if (es->status.state == SSTATE_LOCKED ||
	    es->status.state == SSTATE_UNSUPPORTED) {
		/* Only a reload changes that: waiting would not help. */
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "signer \"%s\" is "
		    "%s: %s", signer, signer_state_name(es->status.state),
		    es->status.detail);
		return (-1);
	}
	len = fixedlen;
	for (i = 0; i < nparts; i++) {
		if (parts[i].iov_len > IMSG_MAX_INTERNAL)
			break;
		len += parts[i].iov_len;
	}
	if (i < nparts || len > IMSG_MAX_INTERNAL - IMSG_HEADER_SIZE) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "request too large "
		    "for signer \"%s\"", signer);
		return (-1);
	}
	kreq_signer_clear(r);
	if ((r->sreq = malloc(len)) == NULL)
		fatal(NULL);
	memcpy(r->sreq, fixed, fixedlen);
	off = fixedlen;
	for (i = 0; i < nparts; i++) {
		if (parts[i].iov_len > 0)
			memcpy(r->sreq + off, parts[i].iov_base,
			    parts[i].iov_len);
		off += parts[i].iov_len;
	}
	r->sreq_len = len;
	r->sreq_type = type;
	(void)strlcpy(r->waiting_on, signer, sizeof(r->waiting_on));
	r->signer_id = es->link.signer_id;
	r->timeout = es->link.timeout > 0 ? es->link.timeout :
	    SIGNER_TIMEOUT_DEFAULT;
	r->cont = cont;

	evtimer_set(&r->deadline, kreq_deadline, r);
	tv.tv_sec = r->timeout;
	tv.tv_usec = 0;
	evtimer_add(&r->deadline, &tv);
	r->deadline_set = 1;

	r->held = 1;
	if (esigner_ready(es) && kreq_signer_transmit(r, es) == -1) {
		kreq_signer_clear(r);
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "cannot queue the "
		    "request for signer \"%s\"", signer);
		return (-1);
	}
	if (r->held)
		log_debug("request %u held: signer %s is not ready", r->id,
		    signer);
	return (0);
}

/* Put a held request on the signer's channel; -1 if that fails. */
static int
kreq_signer_transmit(struct kreq *r, struct esigner *es)
{
	r->sent_id = ++kreq_next_sent;
	if (imsg_compose(&es->iev.ibuf, r->sreq_type, r->sent_id, 0, -1,
	    r->sreq, r->sreq_len) == -1)
		return (-1);
	imsg_event_add(&es->iev);
	r->held = 0;
	return (0);
}

/* Forget the signer request of r: answered, failed or given up. */
void
kreq_signer_clear(struct kreq *r)
{
	if (r->deadline_set) {
		evtimer_del(&r->deadline);
		r->deadline_set = 0;
	}
	/* An import holds a key in the clear. */
	freezero(r->sreq, r->sreq_len);
	r->sreq = NULL;
	r->sreq_len = 0;
	r->held = 0;
}

/* Fail the item r waits for and go on with its batch. */
static void
kreq_signer_fail(struct kreq *r, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[sizeof(r->item_msg)];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	TAILQ_REMOVE(&waiting, r, entry);
	kreq_signer_clear(r);
	kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "%s", msg);
	kreq_item_end(r);
	kreq_run(r);
}

/* The deadline of a signer request passed. */
static void
kreq_deadline(int fd, short event, void *arg)
{
	struct kreq	*r = arg;
	struct esigner	*es;

	r->deadline_set = 0;
	if (r->held) {
		log_warnx("signer %s: not ready within %d s, request %u "
		    "fails", r->waiting_on, r->timeout, r->id);
		/* Why not, if it said (a wrong key-encryption key, say). */
		es = esigner_find(r->signer_id);
		kreq_signer_fail(r, "signer \"%s\" is not available: not "
		    "ready within %d s%s%s", r->waiting_on, r->timeout,
		    es != NULL && es->status.detail[0] != '\0' ? ": " : "",
		    es != NULL ? es->status.detail : "");
		return;
	}
	log_warnx("signer %s: no answer within %d s", r->waiting_on,
	    r->timeout);
	if ((es = esigner_find(r->signer_id)) != NULL)
		engine_signer_hung(es, r->timeout);
	kreq_signer_fail(r, "signer \"%s\" did not answer within %d s",
	    r->waiting_on, r->timeout);
}

/*
 * A signer's answer: check its shape exactly, then continue the request.
 * An answer nobody waits for any more (its deadline passed) is dropped.
 */
void
kmip_signer_result(struct esigner *es, uint32_t id, struct imsg *imsg)
{
	struct hsm_result	 res;
	struct ibuf		 ib;
	struct kreq		*r;
	const uint8_t		*o1, *o2, *o3;
	int			 bad;

	TAILQ_FOREACH(r, &waiting, entry)
		if (!r->held && r->sent_id == id &&
		    r->signer_id == es->link.signer_id)
			break;
	if (r == NULL) {
		log_debug("signer %s: late answer %u dropped", es->link.name,
		    id);
		return;
	}
	TAILQ_REMOVE(&waiting, r, entry);
	kreq_signer_clear(r);
	bad = imsg_get_ibuf(imsg, &ib) == -1 ||
	    hsm_result_parse(ibuf_data(&ib), ibuf_size(&ib), &res,
	    &o1, &o2, &o3) == -1;
	if (bad) {
		log_warnx("signer %s: malformed result", es->link.name);
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer sent a "
		    "malformed answer");
	} else if (r->cont(r, &res, o1, o2, o3) == KOP_WAIT) {
		TAILQ_INSERT_TAIL(&waiting, r, entry);
		return;
	}
	kreq_item_end(r);
	kreq_run(r);
}

/*
 * A signer's channel is gone (why NULL: the parent restarts it) or it
 * cannot serve until a reload (why says so).  Operations it had not
 * answered are held for its return; a key generation or import fails,
 * since the key may exist already.  Without a return, all fail now.
 */
void
kmip_signer_lost(struct esigner *es, const char *why)
{
	struct kreq_list	 lost = TAILQ_HEAD_INITIALIZER(lost);
	struct kreq		*r, *tr;

	TAILQ_FOREACH_SAFE(r, &waiting, entry, tr) {
		if (r->signer_id != es->link.signer_id)
			continue;
		if (why == NULL && (r->held || r->sreq_type == IMSG_HSM_OP)) {
			r->held = 1;
			continue;
		}
		TAILQ_REMOVE(&waiting, r, entry);
		TAILQ_INSERT_TAIL(&lost, r, entry);
	}
	while ((r = TAILQ_FIRST(&lost)) != NULL) {
		TAILQ_REMOVE(&lost, r, entry);
		/* kreq_signer_fail takes it off the waiting list. */
		TAILQ_INSERT_HEAD(&waiting, r, entry);
		if (why == NULL)
			kreq_signer_fail(r, "signer \"%s\" stopped during the "
			    "operation", es->link.name);
		else
			kreq_signer_fail(r, "signer \"%s\" %s", es->link.name,
			    why);
	}
}

/* A signer is ready (again): send what was held for it. */
void
kmip_signer_ready(struct esigner *es)
{
	struct kreq_list	 ready = TAILQ_HEAD_INITIALIZER(ready);
	struct kreq		*r, *tr;

	TAILQ_FOREACH_SAFE(r, &waiting, entry, tr)
		if (r->held && r->signer_id == es->link.signer_id) {
			TAILQ_REMOVE(&waiting, r, entry);
			TAILQ_INSERT_TAIL(&ready, r, entry);
		}
	while ((r = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, r, entry);
		TAILQ_INSERT_TAIL(&waiting, r, entry);
		if (kreq_signer_transmit(r, es) == -1)
			kreq_signer_fail(r, "cannot queue the request for "
			    "signer \"%s\"", es->link.name);
		else
			log_debug("request %u sent to signer %s after holding",
			    r->id, es->link.name);
	}
}

void
kmip_shutdown(void)
{
	struct kreq	*r;

	while ((r = TAILQ_FIRST(&waiting)) != NULL) {
		TAILQ_REMOVE(&waiting, r, entry);
		kreq_free(r);
	}
	if (commit_scheduled)
		kmip_commit(-1, 0, NULL);
}

/*
 * Commit now what this turn changed, and answer its requests: for a
 * change made outside KMIP (signerctl) that needs its own transaction.
 */
void
kmip_flush(void)
{
	if (commit_scheduled)
		kmip_commit(-1, 0, NULL);
}
