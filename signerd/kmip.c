/*
 * KMIP messages in the engine.
 *
 * The frontend has framed the request and checked its size; here it is
 * decoded again (the engine trusts nothing the frontend says), its batch
 * items are run, and the response is shaped to the protocol version of
 * the request.  A request that changed the keystore is answered only
 * after the transaction holding its change is committed: commits are
 * grouped per event-loop turn.
 *
 * The items of a batch start in request order.  An item that only reads
 * the keystore and names its object (kreq_shareable) starts while the
 * items before it still wait for their signers, up to KMSG_RUNNING_MAX
 * of them: a Krill batch of 16 Sign items reaches its signer at once.
 * Any other item (one that writes, uses the ID Placeholder or may set
 * it) starts only when everything before it is answered, and nothing
 * starts beside it, so no item sees the keystore other than the items
 * before it left it.  Answers go into the response in request order
 * whatever order the signers answer in; the response's budget is taken
 * in that order too.  Under Stop, an item that fails ends the response:
 * items after it that ran beside it are not answered, their results
 * dropped (they only read), and nothing after a known failure starts.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/uio.h>

#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "engine.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"

/* One Request Message, from its decoding to its answer. */
struct kmsg {
	TAILQ_ENTRY(kmsg)	 entry;		/* live, or committing */
	TAILQ_ENTRY(kmsg)	 pentry;	/* to be run again */
	int			 pending;	/* on that list */
	int			 committing;	/* answered after the commit */
	struct fe_hdr		 hdr;
	uint32_t		 id;		/* for the log */
	struct ttlv		*msg;		/* the request */
	int32_t			 major, minor;	/* its protocol version */
	uint32_t		 on_error;	/* Batch Error Continuation */
	struct ttlv		*items;		/* response batch items */
	unsigned int		 nitems;
	struct ttlv		*next;		/* request item to start */
	unsigned int		 nstarted;
	struct kreq_list	 running;	/* started, not in items yet */
	unsigned int		 nrunning;
	char			 placeholder[KS_ID_MAX];
	size_t			 examined;	/* objects Locate looked at */
	int			 failed;	/* an item failed */
	int			 stopped;	/* the response ends here */
	int			 dirty;		/* keystore changed */
	size_t			 len;		/* of the request, bytes */
	size_t			 budget;	/* most the response may take */
	size_t			 used;		/* it takes so far, encoded */
	char			 auth_why[160];	/* not authenticated: why */
	/* From inside the engine (signerctl adopt), not the frontend. */
	struct ctl_adopt	*adopt;
	kreq_done		 done;		/* gets the response */
	uint32_t		 done_arg;
};
TAILQ_HEAD(kmsg_list, kmsg);

static void	 kmsg_run(struct kmsg *);
static int	 kmsg_may_start(const struct kmsg *);
static void	 kmsg_retire(struct kmsg *, struct kreq *);
static void	 kmsg_discard(struct kmsg *);
static void	 kmsg_pend(struct kmsg *);
static void	 kmsg_run_pending(void);
static void	 kmsg_finish(struct kmsg *);
static void	 kmsg_free(struct kmsg *);
static void	 kmsg_answer(struct kmsg *, const struct ttlv *);
static struct kreq *kreq_new(struct kmsg *, struct ttlv *);
static int	 kreq_shareable(const struct ttlv *);
static void	 kreq_item_end(struct kreq *);
static struct ttlv *kreq_too_large(struct kreq *, int, size_t);
static void	 kreq_send(const struct fe_hdr *, int32_t, int32_t,
		    const struct ttlv *);
static void	 kreq_free(struct kreq *);
static void	 kreq_error(const struct fe_hdr *, uint32_t, uint32_t,
		    const char *);
static void	 kreq_invalid(const struct fe_hdr *, uint32_t, const char *);
static void	 kreq_audit(const struct kreq *, int, uint32_t,
		    const char *);
static void	 kmip_commit(int, short, void *);
static struct ttlv *kmip_response(int32_t, int32_t, unsigned int);
static struct ttlv *kmip_error(int32_t, int32_t, uint32_t, const char *);
static size_t	 kmip_max_response(void);
static const char *kreq_who(const char *);
static int	 kreq_signer_transmit(struct kreq *, struct esigner *);
static void	 kreq_signer_fail(struct kreq *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 kreq_deadline(int, short, void *);
static void	 kreq_resume(int, short, void *);
static void	 kreq_unsend(struct kreq *);
static void	 kmip_signer_flush(int, short, void *);
static void	 kmip_signer_answer(struct esigner *, uint32_t,
		    const uint8_t *, size_t);
static int	 kreq_sent_cmp(const struct kreq *, const struct kreq *);

static struct kreq_list	 waiting = TAILQ_HEAD_INITIALIZER(waiting);
/*
 * Signer requests made ready in this turn, sent at its end (one
 * IMSG_HSM_OPS per signer, kmip_signer_flush); those sent, by the id
 * their answer carries.
 */
TAILQ_HEAD(kreq_olist, kreq);
static struct kreq_olist outbox = TAILQ_HEAD_INITIALIZER(outbox);
static struct event	 outbox_ev;
static int		 outbox_scheduled;
RB_HEAD(kreq_sent, kreq);
static struct kreq_sent	 sent = RB_INITIALIZER(&sent);
/* libbsd's __unused is off (a Linux header has a member of that name). */
RB_PROTOTYPE_INTERNAL(kreq_sent, kreq, sentry, kreq_sent_cmp,
    __attribute__((__unused__)) static)
RB_GENERATE_INTERNAL(kreq_sent, kreq, sentry, kreq_sent_cmp,
    __attribute__((__unused__)) static)
static struct kmsg_list	 live = TAILQ_HEAD_INITIALIZER(live);
static struct kmsg_list	 committing = TAILQ_HEAD_INITIALIZER(committing);
static struct kmsg_list	 pending = TAILQ_HEAD_INITIALIZER(pending);
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
/*
 * Items of one message running together: enough for a signer's sessions
 * (a network HSM wants about 30 operations in flight), few enough that
 * one message does not fill a signer's queue ahead of other clients.
 * A message always has its next item running; more than one only while
 * the engine holds fewer than KREQ_ITEMS_MAX items: the memory of items
 * stays bounded, and a message over the bound goes on one item at a time
 * rather than waiting for others, or being refused.
 */
#define KMSG_RUNNING_MAX	64
#define KREQ_ITEMS_MAX		(2 * KREQ_LIVE_MAX)
static size_t		 kreq_live;
static size_t		 kreq_live_bytes;
static size_t		 kreq_items;

static const struct ttlv_limits kmip_limits = {
	MAX_MAX_MESSAGE, 16, 65536, MAX_MAX_MESSAGE
};

void
kmip_request(const struct fe_hdr *fh, const uint8_t *buf, size_t len)
{
	struct fe_hdr	 th;
	const struct fe_hdr *hdr = &th;
	struct kmsg	*m;
	struct kreq	*r;
	struct ttlv	*h, *pv, *rm;
	const char	*err;
	int32_t		 count, mrs;
	uint32_t	 eco;

	/*
	 * The frontend's identity is not trusted to be terminated: it is,
	 * once, here, for everything that logs or answers this request.
	 */
	th = *fh;
	strterm(th.identity, sizeof(th.identity));
	strterm(th.peer, sizeof(th.peer));
	if (kreq_live >= KREQ_LIVE_MAX ||
	    kreq_live_bytes + len > KREQ_LIVE_BYTES) {
		log_warnx("%s: server busy: %zu requests, %zu bytes in the "
		    "engine", kreq_who(hdr->identity), kreq_live,
		    kreq_live_bytes);
		kreq_error(hdr, 0, KMIP_REASON_GENERAL_FAILURE,
		    "server busy");
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal(NULL);
	m->hdr = *hdr;
	m->id = ++kreq_next_id;
	m->major = 1;
	m->minor = 0;
	m->on_error = KMIP_BATCH_ERR_STOP;
	m->len = len;
	TAILQ_INIT(&m->running);
	TAILQ_INSERT_TAIL(&live, m, entry);
	kreq_live++;
	kreq_live_bytes += len;
	/* The header's size does not depend on the version or count. */
	m->budget = kmip_max_response();
	rm = kmip_response(1, 0, 1);
	m->used = ttlv_encoded_len(rm);
	ttlv_free(rm);

	if (ttlv_decode(buf, len, &kmip_limits, &m->msg, &err) == -1) {
		kreq_invalid(hdr, m->id, err);
		goto drop;
	}
	if (m->msg->tag != KMIP_TAG_REQUEST_MESSAGE ||
	    m->msg->type != TTLV_STRUCTURE ||
	    (h = ttlv_find(m->msg, KMIP_TAG_REQUEST_HEADER)) == NULL ||
	    h->type != TTLV_STRUCTURE ||
	    (pv = ttlv_find(h, KMIP_TAG_PROTOCOL_VERSION)) == NULL ||
	    ttlv_get_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR,
	    &m->major) == -1 ||
	    ttlv_get_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR,
	    &m->minor) == -1) {
		kreq_invalid(hdr, m->id, "no Request Header with a Protocol "
		    "Version");
		goto drop;
	}
	/*
	 * Who the client is (policy.c): every item of a request that is
	 * not authenticated fails.  The request bytes held a password if
	 * they hold an Authentication: the decoded copy is wiped there,
	 * these here.
	 */
	if (policy_authenticate(&m->hdr, h, m->auth_why,
	    sizeof(m->auth_why)) == -1 && m->auth_why[0] == '\0')
		(void)strlcpy(m->auth_why, "not authenticated",
		    sizeof(m->auth_why));
	if (ttlv_find(h, KMIP_TAG_AUTHENTICATION) != NULL)
		explicit_bzero((void *)(uintptr_t)buf, len);
	if (m->major != 1 || m->minor < 0 || m->minor > 4) {
		/* Answer in the newest version we speak. */
		m->major = 1;
		m->minor = 4;
		m->items = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
		r = kreq_new(m, NULL);
		kreq_fail(r, KMIP_REASON_INVALID_MESSAGE, "protocol version "
		    "not supported: signerd speaks KMIP 1.0 to 1.4");
		kreq_item_end(r);
		kmsg_run(m);
		return;
	}
	if (ttlv_get_integer(h, KMIP_TAG_BATCH_COUNT, &count) == -1 ||
	    count < 1 || (unsigned int)count != ttlv_count(m->msg,
	    KMIP_TAG_BATCH_ITEM)) {
		kreq_invalid(hdr, m->id, "Batch Count does not match the "
		    "batch items");
		goto drop;
	}
	if (ttlv_get_enum(h, KMIP_TAG_BATCH_ERROR_CONTINUATION_OPTION,
	    &eco) == 0)
		m->on_error = eco;
	/* A client may ask for less than the server's maximum, not more. */
	if (ttlv_get_integer(h, KMIP_TAG_MAXIMUM_RESPONSE_SIZE, &mrs) == 0 &&
	    mrs > 0 && (size_t)mrs < m->budget)
		m->budget = mrs;
	/* Asynchronous Indicator: not needed. */

	m->items = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
	m->next = ttlv_find(m->msg, KMIP_TAG_BATCH_ITEM);
	if (m->next == NULL || m->next->type != TTLV_STRUCTURE) {
		kreq_invalid(hdr, m->id, "Batch Item is not a structure");
		goto drop;
	}
	kmsg_run(m);
	return;
 drop:
	kmsg_free(m);
}

/*
 * Move the message on: put the items that are answered into the
 * response, in order, start what may start, and answer when all is
 * done.  m may be freed.
 */
static void
kmsg_run(struct kmsg *m)
{
	struct kreq		*r;
	const struct ttlv	*payload;
	unsigned int		 started = 0;

	for (;;) {
		while (!m->stopped && (r = TAILQ_FIRST(&m->running)) != NULL &&
		    r->done)
			kmsg_retire(m, r);
		if (m->stopped) {
			/* Items run beside the one that stopped it go. */
			m->next = NULL;
			kmsg_discard(m);
		} else if (m->failed && m->on_error == KMIP_BATCH_ERR_STOP)
			/* Stop: the rest is not run, nor answered. */
			m->next = NULL;
		if (m->next == NULL) {
			if (TAILQ_EMPTY(&m->running)) {
				kmsg_finish(m);
				return;
			}
			break;
		}
		if (!kmsg_may_start(m))
			break;
		r = kreq_new(m, m->next);
		m->next = ttlv_find_next(m->msg, m->next, KMIP_TAG_BATCH_ITEM);
		if (r->cur->type != TTLV_STRUCTURE ||
		    ttlv_get_enum(r->cur, KMIP_TAG_OPERATION, &r->op) == -1)
			kreq_fail(r, KMIP_REASON_INVALID_MESSAGE,
			    "batch item without an Operation");
		else if ((payload = ttlv_find(r->cur,
		    KMIP_TAG_REQUEST_PAYLOAD)) == NULL ||
		    payload->type != TTLV_STRUCTURE)
			kreq_fail(r, KMIP_REASON_INVALID_MESSAGE,
			    "batch item without a Request Payload");
		else if (m->auth_why[0] != '\0')
			kreq_fail(r, KMIP_REASON_AUTHENTICATION_NOT_SUCCESSFUL,
			    "%s", m->auth_why);
		else if ((m->adopt != NULL ? kop_adopt(r) :
		    kop_run(r, r->op, payload)) == KOP_WAIT) {
			TAILQ_INSERT_TAIL(&waiting, r, entry);
			started++;
			continue;
		}
		kreq_item_end(r);
	}
	/* For the log, and for tests: items that went out together. */
	if (started > 0 && m->nrunning > 1)
		log_debug("request %u: %u items in flight", m->id,
		    m->nrunning);
}

/*
 * Whether m's next item may start now.  Alone, it always may.  Beside
 * running items, only a shareable one, and not after a failure under
 * Undo (which wants everything before it settled), within the bounds.
 */
static int
kmsg_may_start(const struct kmsg *m)
{
	const struct kreq	*r;

	if (m->nrunning == 0)
		return (1);
	if (m->nrunning >= KMSG_RUNNING_MAX || kreq_items >= KREQ_ITEMS_MAX)
		return (0);
	if (m->failed && m->on_error != KMIP_BATCH_ERR_CONTINUE)
		return (0);
	/* Nothing runs beside an item that is not shared. */
	r = TAILQ_FIRST(&m->running);
	if (!r->shared)
		return (0);
	return (kreq_shareable(m->next));
}

/*
 * Whether a request batch item only reads the keystore, names the
 * object it reads (the ID Placeholder may not be set yet), and sets no
 * ID Placeholder: such items may run beside each other.
 */
static int
kreq_shareable(const struct ttlv *it)
{
	const struct ttlv	*payload;
	uint32_t		 op;

	if (it->type != TTLV_STRUCTURE ||
	    ttlv_get_enum(it, KMIP_TAG_OPERATION, &op) == -1 ||
	    (payload = ttlv_find(it, KMIP_TAG_REQUEST_PAYLOAD)) == NULL ||
	    payload->type != TTLV_STRUCTURE ||
	    ttlv_find(payload, KMIP_TAG_UNIQUE_IDENTIFIER) == NULL)
		return (0);
	switch (op) {
	case KMIP_OP_GET:
	case KMIP_OP_GET_ATTRIBUTES:
	case KMIP_OP_GET_ATTRIBUTE_LIST:
	case KMIP_OP_SIGN:
	case KMIP_OP_SIGNATURE_VERIFY:
	case KMIP_OP_ENCRYPT:
	case KMIP_OP_DECRYPT:
	case KMIP_OP_MAC:
	case KMIP_OP_MAC_VERIFY:
		return (1);
	}
	return (0);
}

/* A new item of m, running, for the request batch item cur. */
static struct kreq *
kreq_new(struct kmsg *m, struct ttlv *cur)
{
	struct kreq	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal(NULL);
	r->m = m;
	r->adopt = m->adopt;
	r->index = m->nstarted++;
	r->shared = cur != NULL && kreq_shareable(cur);
	r->hdr = m->hdr;
	r->id = m->id;
	r->major = m->major;
	r->minor = m->minor;
	r->budget = m->budget;
	memcpy(r->placeholder, m->placeholder, sizeof(r->placeholder));
	r->examined = m->examined;
	r->cur = cur;
	r->payload = ttlv_new_structure(KMIP_TAG_RESPONSE_PAYLOAD);
	(void)clock_gettime(CLOCK_MONOTONIC, &r->started);
	TAILQ_INSERT_TAIL(&m->running, r, mentry);
	m->nrunning++;
	kreq_items++;
	return (r);
}

/*
 * The answer of an item: Operation, Unique Batch Item ID, Result
 * Status, then Reason and Message if it failed, else the payload.  It
 * waits in r->resp for the items before it.
 */
static void
kreq_item_end(struct kreq *r)
{
	struct ttlv		*it;
	const struct ttlv	*ubi, *pl, *uid;
	struct timespec		 now;
	size_t			 len;

	/* What its audit record names, before the objects go. */
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	r->us = (int64_t)(now.tv_sec - r->started.tv_sec) * 1000000 +
	    (now.tv_nsec - r->started.tv_nsec) / 1000;
	if (r->obj.id[0] != '\0') {
		memcpy(r->audit_ids[0], r->obj.id, sizeof(r->audit_ids[0]));
		memcpy(r->audit_ids[1], r->obj2.id, sizeof(r->audit_ids[1]));
	} else if (r->cur != NULL && r->cur->type == TTLV_STRUCTURE &&
	    (pl = ttlv_find(r->cur, KMIP_TAG_REQUEST_PAYLOAD)) != NULL &&
	    pl->type == TTLV_STRUCTURE &&
	    (uid = ttlv_find(pl, KMIP_TAG_UNIQUE_IDENTIFIER)) != NULL &&
	    uid->type == TTLV_TEXT_STRING) {
		/* As the client named it: cut, and cleaned in audit.c. */
		len = uid->v.s.len < sizeof(r->audit_ids[0]) ?
		    uid->v.s.len : sizeof(r->audit_ids[0]) - 1;
		memcpy(r->audit_ids[0], uid->v.s.data, len);
		r->audit_ids[0][len] = '\0';
	}
	(void)strlcpy(r->audit_signer, r->obj.signer[0] != '\0' ?
	    r->obj.signer : r->waiting_on, sizeof(r->audit_signer));

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
		/* A failed Check says which of its fields failed. */
		if (r->op == KMIP_OP_CHECK &&
		    ttlv_find(r->payload, KMIP_TAG_UNIQUE_IDENTIFIER) != NULL) {
			ttlv_append(it, r->payload);
			r->payload = NULL;
		}
		/* Nothing more starts beside it under Stop or Undo. */
		r->m->failed = 1;
	} else {
		ttlv_add_enum(it, KMIP_TAG_RESULT_STATUS,
		    KMIP_STATUS_SUCCESS);
		ttlv_append(it, r->payload);
		r->payload = NULL;
	}
	ttlv_free(r->payload);
	r->payload = NULL;
	metrics_item(r);
	ks_object_clear(&r->obj);
	ks_object_clear(&r->obj2);
	r->resp = it;
	r->done = 1;
}

/*
 * Append the answer of r, the first item of m still running, to the
 * response.  An item that would take the response over its budget is
 * replaced by a Response Too Large failure; if even that does not fit,
 * the whole response becomes one, and the rest of the batch is not run.
 */
static void
kmsg_retire(struct kmsg *m, struct kreq *r)
{
	struct ttlv	*it;
	size_t		 len;
	int		 failed, toolarge = 0;

	TAILQ_REMOVE(&m->running, r, mentry);
	m->nrunning--;
	m->dirty |= r->dirty;
	if (!r->shared) {
		memcpy(m->placeholder, r->placeholder,
		    sizeof(m->placeholder));
		m->examined = r->examined;
	}
	failed = r->item_failed;
	it = r->resp;
	r->resp = NULL;
	len = ttlv_encoded_len(it);
	if (m->used + len > m->budget) {
		ttlv_free(it);
		it = kreq_too_large(r, 1, len);
		len = ttlv_encoded_len(it);
		failed = toolarge = 1;
	}
	if (m->used + len > m->budget) {
		/* Nothing fits any more: one item says so, and we stop. */
		ttlv_free(it);
		while ((it = TAILQ_FIRST(&m->items->children)) != NULL) {
			m->used -= ttlv_encoded_len(it);
			ttlv_remove(it);
			ttlv_free(it);
		}
		m->nitems = 0;
		it = kreq_too_large(r, 0, 0);
		len = ttlv_encoded_len(it);
		m->stopped = 1;
	}
	ttlv_append(m->items, it);
	m->used += len;
	m->nitems++;
	if (toolarge)
		kreq_audit(r, 1, KMIP_REASON_RESPONSE_TOO_LARGE,
		    "the answer does not fit in the response");
	else
		kreq_audit(r, r->item_failed, r->item_reason, r->item_msg);
	if (failed) {
		m->failed = 1;
		if (m->on_error == KMIP_BATCH_ERR_STOP)
			m->stopped = 1;
	}
	kreq_free(r);
}

/*
 * Drop every item of m still running: its answer is not wanted.  What
 * its signer sends back later finds nobody waiting, and is dropped.
 */
static void
kmsg_discard(struct kmsg *m)
{
	struct kreq	*r;

	while ((r = TAILQ_FIRST(&m->running)) != NULL) {
		TAILQ_REMOVE(&m->running, r, mentry);
		m->nrunning--;
		if (!r->done)
			TAILQ_REMOVE(&waiting, r, entry);
		m->dirty |= r->dirty;
		kreq_audit(r, 2, 0, "not answered: the batch stopped before "
		    "it, or the engine ends");
		kreq_free(r);
	}
}

/*
 * Run m again once the caller is through with its list: used where
 * several items end at once, since running a message may drop items.
 */
static void
kmsg_pend(struct kmsg *m)
{
	if (!m->pending) {
		m->pending = 1;
		TAILQ_INSERT_TAIL(&pending, m, pentry);
	}
}

static void
kmsg_run_pending(void)
{
	struct kmsg	*m;

	while ((m = TAILQ_FIRST(&pending)) != NULL) {
		TAILQ_REMOVE(&pending, m, pentry);
		m->pending = 0;
		kmsg_run(m);
	}
}

/*
 * A Response Too Large failure for the item r (with its Operation and
 * Unique Batch Item ID if full), or for the whole response.
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
 * that can answer a lot (Locate) stop when it is used up.  Such an item
 * runs alone, so what the message used is what comes before it.
 */
size_t
kreq_room(const struct kreq *r)
{
	const struct ttlv	*ubi;
	size_t			 need;

	/* A failure item with its message, and the client's batch id. */
	need = r->m->used + 256 + (r->payload != NULL ?
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

/*
 * The audit record of an item as its answer goes into the response
 * (failed 2: dropped unanswered).
 */
static void
kreq_audit(const struct kreq *r, int failed, uint32_t reason,
    const char *msg)
{
	struct audit_req	 ar;

	memset(&ar, 0, sizeof(ar));
	ar.hdr = &r->hdr;
	ar.msgid = r->id;
	ar.item = r->index;
	ar.op = r->op;
	ar.ids[0] = r->audit_ids[0];
	ar.ids[1] = r->audit_ids[1];
	ar.signer = r->audit_signer;
	ar.failed = failed;
	/* As the client was told. */
	ar.reason = kmip_reason_for_version(reason, r->major, r->minor);
	ar.msg = failed ? msg : NULL;
	ar.us = r->us;
	audit_request(&ar);
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
kmsg_finish(struct kmsg *m)
{
	struct ttlv	*rm, *it;

	rm = kmip_response(m->major, m->minor, m->nitems);
	while ((it = TAILQ_FIRST(&m->items->children)) != NULL) {
		ttlv_remove(it);
		ttlv_append(rm, it);
	}
	ttlv_free(m->items);
	m->items = rm;
	if (m->dirty) {
		TAILQ_REMOVE(&live, m, entry);
		TAILQ_INSERT_TAIL(&committing, m, entry);
		m->committing = 1;
		if (!commit_scheduled) {
			struct timeval tv = { 0, 0 };

			commit_scheduled = 1;
			event_once(-1, EV_TIMEOUT, kmip_commit, NULL, &tv);
		}
		return;
	}
	kmsg_answer(m, rm);
	kmsg_free(m);
}

/* The response goes to the frontend, or to whom inside asked. */
static void
kmsg_answer(struct kmsg *m, const struct ttlv *rm)
{
	if (m->done != NULL)
		m->done(m->done_arg, rm);
	else
		kreq_send(&m->hdr, m->major, m->minor, rm);
}

/*
 * The end of an event-loop turn: commit every change made in it, then
 * answer the requests that made them.  If the commit fails, none of them
 * happened, and each is told so.
 */
static void
kmip_commit(int fd, short event, void *arg)
{
	struct kmsg	*m;
	struct ttlv	*rm;
	struct audit_req ar;
	const char	*lines;
	size_t		 len;
	uint64_t	 first, last, stored, upto;
	int		 ok;

	commit_scheduled = 0;
	/*
	 * The turn's audit records are committed with its change: one
	 * sync for both; the file has them (write(2)) before the answers
	 * leave, on disk within a second.
	 */
	stored = upto = 0;
	if (ks_in_transaction(engine->ks) &&
	    audit_unstored(&lines, &len, &first, &last, &upto) == 1) {
		if (ks_audit_put(engine->ks, first, last, lines, len) == 0)
			stored = last;
		else
			log_warnx("audit: %s", ks_error(engine->ks));
	}
	if (upto > 0 && ks_in_transaction(engine->ks) &&
	    ks_audit_trim(engine->ks, upto) == -1) {
		log_warnx("audit: %s", ks_error(engine->ks));
		upto = 0;
	}
	ok = ks_commit(engine->ks) == 0;
	if (ok)
		audit_stored(stored, upto);
	if (!ok)
		log_warnx("keystore commit failed: %s", ks_error(engine->ks));
	TAILQ_FOREACH(m, &committing, entry) {
		/* Its items' records said what they did: it is undone. */
		if (ok)
			break;
		memset(&ar, 0, sizeof(ar));
		ar.hdr = &m->hdr;
		ar.msgid = m->id;
		ar.item = -1;
		ar.failed = 1;
		ar.reason = KMIP_REASON_GENERAL_FAILURE;
		ar.msg = "the keystore could not save the change";
		audit_request(&ar);
	}
	/* Without the keystore's help, the file is synced itself. */
	if (ok && stored > 0)
		audit_write();
	else
		audit_sync();
	while ((m = TAILQ_FIRST(&committing)) != NULL) {
		if (!ok) {
			rm = kmip_error(m->major, m->minor,
			    KMIP_REASON_GENERAL_FAILURE,
			    "the keystore could not save the change");
			kmsg_answer(m, rm);
			ttlv_free(rm);
		} else
			kmsg_answer(m, m->items);
		kmsg_free(m);
	}
}

/*
 * Answer the frontend.  A request from the network never ends the
 * engine: if the answer cannot be queued, a minimal error is tried, and
 * failing that the connection is left to the frontend's timeouts.
 */
static void
kreq_send(const struct fe_hdr *hdr, int32_t major, int32_t minor,
    const struct ttlv *m)
{
	struct ttlv	*e = NULL;
	struct ibuf	*ib;
	uint8_t		*p;
	size_t		 len;

	/* Its records leave before it can (unless a callback holds them). */
	audit_write();
	if (!engine->frontend.active)
		return;		/* its connection is gone with it */
	for (;;) {
		len = ttlv_encoded_len(m);
		if ((ib = imsg_create(&engine->frontend.ibuf,
		    IMSG_FE_RESPONSE, 0, 0, sizeof(*hdr) + len)) != NULL) {
			if (imsg_add(ib, hdr, sizeof(*hdr)) != -1 &&
			    (p = ibuf_reserve(ib, len)) != NULL &&
			    ttlv_encode(m, p, len) == 0) {
				imsg_close(&engine->frontend.ibuf, ib);
				imsg_event_add(&engine->frontend);
				break;
			}
			ibuf_free(ib);
		}
		log_warn("%s: answer of %zu bytes not sent",
		    hdr->identity, len);
		if (e != NULL)
			break;
		m = e = kmip_error(major, minor,
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
kreq_invalid(const struct fe_hdr *hdr, uint32_t id, const char *why)
{
	log_info("%s: invalid message: %s", kreq_who(hdr->identity), why);
	kreq_error(hdr, id, KMIP_REASON_INVALID_MESSAGE, why);
}

/* A message refused as a whole: one record, one failed item. */
static void
kreq_error(const struct fe_hdr *hdr, uint32_t id, uint32_t reason,
    const char *why)
{
	struct ttlv	*m;
	struct audit_req ar;

	memset(&ar, 0, sizeof(ar));
	ar.hdr = hdr;
	ar.msgid = id;
	ar.item = -1;
	ar.failed = 1;
	ar.reason = reason;
	ar.msg = why;
	audit_request(&ar);
	m = kmip_error(1, 0, reason, why);
	kreq_send(hdr, 1, 0, m);
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

/* Free m, with the items it still runs. */
static void
kmsg_free(struct kmsg *m)
{
	kmsg_discard(m);
	if (m->pending)
		TAILQ_REMOVE(&pending, m, pentry);
	if (m->committing)
		TAILQ_REMOVE(&committing, m, entry);
	else
		TAILQ_REMOVE(&live, m, entry);
	kreq_live--;
	kreq_live_bytes -= m->len;
	ttlv_free(m->msg);
	ttlv_free(m->items);
	free(m->adopt);
	free(m);
}

/* Free an item that is on no list any more. */
static void
kreq_free(struct kreq *r)
{
	kreq_items--;
	kreq_signer_clear(r);
	if (r->resume_set)
		evtimer_del(&r->resume);
	if (r->opstate_free != NULL)
		r->opstate_free(r->opstate);
	ttlv_free(r->payload);
	ttlv_free(r->resp);
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
	    es->status.state == SSTATE_UNSUPPORTED ||
	    es->status.state == SSTATE_WRONG_TOKEN) {
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
	/*
	 * Making a key takes as long as finding primes does: seconds for
	 * RSA-4096 on a busy host, a minute on a YubiHSM 2.  A signer is
	 * not killed for it: its deadline is KEYGEN_TIMEOUT_FACTOR times
	 * the operations' (the pool's other sessions go on meanwhile).
	 */
	if (type == IMSG_HSM_GENERATE)
		r->timeout = r->timeout > SIGNER_TIMEOUT_MAX /
		    KEYGEN_TIMEOUT_FACTOR ? SIGNER_TIMEOUT_MAX :
		    r->timeout * KEYGEN_TIMEOUT_FACTOR;
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
		log_debug("request %u item %u held: signer %s is not ready",
		    r->id, r->index, signer);
	return (0);
}

/*
 * The operation of r has done a step of its work and goes on in cont
 * at a later turn of the event loop, after what else is ready: one
 * client's long Locate does not stop the others.  cont gets no signer
 * result (NULL).  The item waits as one waiting for a signer does, but
 * for none (signer_id 0, no request sent), so signer events pass it by
 * and a message dropped meanwhile frees it (kreq_free stops the timer).
 */
enum kop_ret
kreq_yield(struct kreq *r, kop_cont cont)
{
	struct timeval	 tv = { 0, 0 };

	kreq_signer_clear(r);
	r->signer_id = 0;
	r->sent_id = 0;
	r->waiting_on[0] = '\0';
	r->cont = cont;
	evtimer_set(&r->resume, kreq_resume, r);
	evtimer_add(&r->resume, &tv);
	r->resume_set = 1;
	return (KOP_WAIT);
}

static void
kreq_resume(int fd, short event, void *arg)
{
	struct kreq	*r = arg;

	r->resume_set = 0;
	TAILQ_REMOVE(&waiting, r, entry);
	if (r->cont(r, NULL, NULL, NULL, NULL) == KOP_WAIT) {
		TAILQ_INSERT_TAIL(&waiting, r, entry);
		return;
	}
	kreq_item_end(r);
	kmsg_run(r->m);
}

static int
kreq_sent_cmp(const struct kreq *a, const struct kreq *b)
{
	return (a->sent_id < b->sent_id ? -1 : a->sent_id > b->sent_id);
}

/*
 * A held request is sent: into the outbox, which goes out at the end of
 * this turn with whatever else this turn makes ready for the signer.
 */
static int
kreq_signer_transmit(struct kreq *r, struct esigner *es)
{
	r->sent_id = ++kreq_next_sent;
	if (RB_INSERT(kreq_sent, &sent, r) != NULL)
		fatalx("%s: signer request id %u in use", __func__,
		    r->sent_id);
	r->in_sent = 1;
	TAILQ_INSERT_TAIL(&outbox, r, oentry);
	r->in_outbox = 1;
	r->held = 0;
	/*
	 * Made active rather than put on a timer: it runs once the
	 * callbacks of this turn are done, without another poll.
	 */
	if (!outbox_scheduled) {
		if (!event_initialized(&outbox_ev))
			evtimer_set(&outbox_ev, kmip_signer_flush, NULL);
		outbox_scheduled = 1;
		event_active(&outbox_ev, EV_TIMEOUT, 1);
	}
	return (0);
}

/* r is no longer sent, nor about to be. */
static void
kreq_unsend(struct kreq *r)
{
	if (r->in_outbox) {
		TAILQ_REMOVE(&outbox, r, oentry);
		r->in_outbox = 0;
	}
	if (r->in_sent) {
		RB_REMOVE(kreq_sent, &sent, r);
		r->in_sent = 0;
	}
}

/*
 * The end of a turn: what it made ready goes to the signers, for each
 * signer in one IMSG_HSM_OPS of up to HSM_MULTI_MAX requests (one
 * request alone goes as itself): one write and one wakeup of the signer
 * for all of them.  A signer that is gone meanwhile has them held.
 */
static void
kmip_signer_flush(int fd, short event, void *arg)
{
	struct kreq	*r, *q, *batch[HSM_MULTI_MAX];
	struct esigner	*es;
	struct ibuf	*wbuf;
	struct hsm_rec	 rec;
	size_t		 n, i, size;
	int		 failed = 0, ok;

	outbox_scheduled = 0;
	while ((r = TAILQ_FIRST(&outbox)) != NULL) {
		if ((es = esigner_find(r->signer_id)) == NULL ||
		    !esigner_ready(es)) {
			kreq_unsend(r);
			r->held = 1;
			continue;
		}
		n = 0;
		size = 0;
		TAILQ_FOREACH(q, &outbox, oentry) {
			if (q->signer_id != r->signer_id ||
			    (n > 0 && !hsm_multi_type_ok(q->sreq_type)))
				continue;
			if (!hsm_multi_type_ok(q->sreq_type)) {
				/* Alone: r itself. */
				batch[n++] = q;
				break;
			}
			if (n > 0 && size + sizeof(rec) + q->sreq_len >
			    IMSG_MAX_INTERNAL - IMSG_HEADER_SIZE)
				break;
			batch[n++] = q;
			size += sizeof(rec) + q->sreq_len;
			if (n == HSM_MULTI_MAX)
				break;
		}
		for (i = 0; i < n; i++) {
			TAILQ_REMOVE(&outbox, batch[i], oentry);
			batch[i]->in_outbox = 0;
		}
		if (n == 1)
			ok = imsg_compose(&es->iev.ibuf, r->sreq_type,
			    r->sent_id, 0, -1, r->sreq, r->sreq_len) != -1;
		else if ((wbuf = imsg_create(&es->iev.ibuf, IMSG_HSM_OPS, 0,
		    0, size)) == NULL)
			ok = 0;
		else {
			for (i = 0, ok = 1; ok && i < n; i++) {
				rec.type = batch[i]->sreq_type;
				rec.id = batch[i]->sent_id;
				rec.len = batch[i]->sreq_len;
				/* imsg_add frees wbuf on failure. */
				ok = imsg_add(wbuf, &rec, sizeof(rec)) != -1 &&
				    imsg_add(wbuf, batch[i]->sreq,
				    batch[i]->sreq_len) != -1;
			}
			if (ok)
				imsg_close(&es->iev.ibuf, wbuf);
		}
		if (ok) {
			/* For the log, and for tests. */
			if (n > 1)
				log_debug("signer %s: %zu requests in one "
				    "message", es->link.name, n);
			imsg_event_add(&es->iev);
			continue;
		}
		log_warn("signer %s: %zu requests not queued", es->link.name,
		    n);
		for (i = 0; i < n; i++)
			kreq_signer_fail(batch[i], "cannot queue the request "
			    "for signer \"%s\"", es->link.name);
		failed = 1;
	}
	if (failed)
		kmsg_run_pending();
}

/* Forget the signer request of r: answered, failed or given up. */
void
kreq_signer_clear(struct kreq *r)
{
	kreq_unsend(r);
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

/*
 * Fail the item r waits for; its message goes on when the caller runs
 * it (kmsg_run, or kmsg_run_pending for several items at once).
 */
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
	kmsg_pend(r->m);
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
		    "item %u fails", r->waiting_on, r->timeout, r->id,
		    r->index);
		/* Why not, if it said (a wrong key-encryption key, say). */
		es = esigner_find(r->signer_id);
		kreq_signer_fail(r, "signer \"%s\" is not available: not "
		    "ready within %d s%s%s", r->waiting_on, r->timeout,
		    es != NULL && es->status.detail[0] != '\0' ? ": " : "",
		    es != NULL ? es->status.detail : "");
	} else {
		log_warnx("signer %s: no answer within %d s", r->waiting_on,
		    r->timeout);
		if ((es = esigner_find(r->signer_id)) != NULL)
			engine_signer_hung(es, r->timeout);
		kreq_signer_fail(r, "signer \"%s\" did not answer within "
		    "%d s", r->waiting_on, r->timeout);
	}
	kmsg_run_pending();
}

/*
 * A signer's answer: check its shape exactly, then continue the item.
 * An answer nobody waits for any more (its deadline passed, or its
 * message was answered without it) is dropped.
 */
void
kmip_signer_result(struct esigner *es, uint32_t id, struct imsg *imsg)
{
	struct ibuf	 ib;

	if (imsg_get_ibuf(imsg, &ib) == -1)
		kmip_signer_answer(es, id, NULL, 0);
	else
		kmip_signer_answer(es, id, ibuf_data(&ib), ibuf_size(&ib));
}

/*
 * IMSG_HSM_RESULTS: several answers, each as kmip_signer_result.  The
 * signer is less trusted than the engine: a record that does not fit
 * ends the reading (logged); the items it would have answered reach
 * their deadline, which restarts the signer.
 */
void
kmip_signer_results(struct esigner *es, struct imsg *imsg)
{
	struct hsm_rec	 rec;
	struct ibuf	 ib;
	const uint8_t	*p, *data;
	size_t		 left, n = 0;
	int		 rv;

	if (imsg_get_ibuf(imsg, &ib) == -1) {
		log_warnx("signer %s: empty IMSG_HSM_RESULTS", es->link.name);
		return;
	}
	p = ibuf_data(&ib);
	left = ibuf_size(&ib);
	while ((rv = hsm_multi_next(&p, &left, &rec, &data)) == 1) {
		if (++n > HSM_MULTI_MAX || rec.type != IMSG_HSM_RESULT) {
			rv = -1;
			break;
		}
		kmip_signer_answer(es, rec.id, data, rec.len);
	}
	if (rv == -1)
		log_warnx("signer %s: malformed IMSG_HSM_RESULTS, record %zu",
		    es->link.name, n);
}

static void
kmip_signer_answer(struct esigner *es, uint32_t id, const uint8_t *data,
    size_t len)
{
	struct hsm_result	 res;
	struct kreq		*r, find;
	const uint8_t		*o1, *o2, *o3;
	int			 bad;

	find.sent_id = id;
	r = RB_FIND(kreq_sent, &sent, &find);
	if (r == NULL || r->in_outbox || r->signer_id != es->link.signer_id) {
		log_debug("signer %s: late answer %u dropped", es->link.name,
		    id);
		return;
	}
	TAILQ_REMOVE(&waiting, r, entry);
	kreq_signer_clear(r);
	bad = hsm_result_parse(data, len, &res, &o1, &o2, &o3) == -1;
	if (bad) {
		log_warnx("signer %s: malformed result", es->link.name);
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer sent a "
		    "malformed answer");
	} else if (r->cont(r, &res, o1, o2, o3) == KOP_WAIT) {
		TAILQ_INSERT_TAIL(&waiting, r, entry);
		return;
	}
	kreq_item_end(r);
	kmsg_run(r->m);
}

/*
 * A signer's channel is gone (why NULL: the parent restarts it) or it
 * cannot serve until a reload (why says so).  Operations it had not
 * answered are held for its return; a key generation or import fails,
 * since the key may exist already.  Without a return, all fail now.
 * Every item of the signer is settled before any message goes on: a
 * message that goes on may drop items of its own.
 */
void
kmip_signer_lost(struct esigner *es, const char *why)
{
	struct kreq	*r, *tr;

	TAILQ_FOREACH_SAFE(r, &waiting, entry, tr) {
		if (r->signer_id != es->link.signer_id)
			continue;
		if (why == NULL && (r->held || r->sreq_type == IMSG_HSM_OP ||
		    r->sreq_type == IMSG_HSM_FIND)) {
			kreq_unsend(r);
			r->held = 1;
			continue;
		}
		if (why == NULL)
			kreq_signer_fail(r, "signer \"%s\" stopped during the "
			    "operation", es->link.name);
		else
			kreq_signer_fail(r, "signer \"%s\" %s", es->link.name,
			    why);
	}
	kmsg_run_pending();
}

/* A signer is ready (again): send what was held for it, in order. */
void
kmip_signer_ready(struct esigner *es)
{
	struct kreq	*r, *tr;

	TAILQ_FOREACH_SAFE(r, &waiting, entry, tr) {
		if (!r->held || r->signer_id != es->link.signer_id)
			continue;
		if (kreq_signer_transmit(r, es) == -1)
			kreq_signer_fail(r, "cannot queue the request for "
			    "signer \"%s\"", es->link.name);
		else
			log_debug("request %u item %u sent to signer %s after "
			    "holding", r->id, r->index, es->link.name);
	}
	kmsg_run_pending();
}

/*
 * The engine ends: what waits for a signer is dropped unanswered, what
 * waits for the commit is committed and answered.
 */
void
kmip_shutdown(void)
{
	struct kmsg	*m;

	while ((m = TAILQ_FIRST(&live)) != NULL)
		kmsg_free(m);
	if (commit_scheduled)
		kmip_commit(-1, 0, NULL);
}

/*
 * signerctl adopt: a request from inside the engine, run as the key's
 * owner through the same steps as a client's (the signer's deadline,
 * the turn's commit); one batch item, kop_adopt.  Its response goes to
 * done(arg, response), not to the frontend.
 */
void
kmip_adopt(const struct ctl_adopt *ca, kreq_done done, uint32_t arg)
{
	struct kmsg	*m;
	struct ttlv	*it, *rm;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->adopt = malloc(sizeof(*m->adopt))) == NULL)
		fatal(NULL);
	*m->adopt = *ca;
	m->done = done;
	m->done_arg = arg;
	m->id = ++kreq_next_id;
	m->major = 1;
	m->minor = 4;
	m->on_error = KMIP_BATCH_ERR_STOP;
	(void)strlcpy(m->hdr.identity, ca->owner, sizeof(m->hdr.identity));
	(void)strlcpy(m->hdr.peer, "signerctl", sizeof(m->hdr.peer));
	TAILQ_INIT(&m->running);
	TAILQ_INSERT_TAIL(&live, m, entry);
	kreq_live++;
	m->budget = kmip_max_response();
	rm = kmip_response(1, 4, 1);
	m->used = ttlv_encoded_len(rm);
	ttlv_free(rm);
	m->msg = ttlv_new_structure(KMIP_TAG_REQUEST_MESSAGE);
	it = ttlv_add_structure(m->msg, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(it, KMIP_TAG_OPERATION, KMIP_OP_LOCATE);
	(void)ttlv_add_structure(it, KMIP_TAG_REQUEST_PAYLOAD);
	m->items = ttlv_new_structure(KMIP_TAG_RESPONSE_MESSAGE);
	m->next = it;
	kmsg_run(m);
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
