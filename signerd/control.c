/*
 * The control socket, served by the engine.  The parent created it (as
 * root, 0600 or 0660 with the control group); the engine accepts, checks
 * the peer's credentials and answers signerctl.  Requests that change the
 * daemon (reload, restart) go on to the parent, which alone may do them.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attrs.h"
#include "audit.h"
#include "engine.h"
#include "keystore.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"

/* Damaged objects listed in one answer, at most. */
#define CTL_DAMAGED_MAX		1000

struct damaged_scan {
	struct ctl_conn	*c;
	unsigned int	 n;
};

/*
 * show grants and show keys answer in chunks of CTL_STREAM_CHUNK, one
 * per turn of the event loop, and wait while more than CTL_STREAM_QUEUE
 * messages are queued for the client: neither a million keys nor a slow
 * reader holds the engine or its memory.
 */
#define CTL_STREAM_CHUNK	256
#define CTL_STREAM_QUEUE	1024

struct ctl_stream {
	uint32_t	 type;		/* IMSG_CTL_SHOW_GRANTS or _KEYS */
	char		 name[256];	/* the filter, or "" */
	struct ctl_grant after;		/* show grants: the last one sent */
	int		 started;
	int64_t		 after_rowid;	/* show keys */
	struct event	 ev;
};

/* Keys moved by one rewrap at most: the rest in a second one. */
#define CTL_REWRAP_MAX		100000
/* The request ids of rewrap, apart from those of KMIP requests. */
#define CTL_REWRAP_ID		0x80000000U

/*
 * A rewrap (signerctl rewrap SIGNER): the ids of the signer's objects
 * that hold a key, sent one at a time to the signer child, each new
 * blob committed before the next is asked for.
 */
struct ctl_rewrap {
	char		 signer[SIGNER_NAME_MAX];
	uint32_t	 signer_id;
	int		 timeout;
	char		(*ids)[KS_ID_MAX];
	size_t		 nids;
	size_t		 next;
	uint32_t	 sent;		/* request id waited for, or 0 */
	char		 cur[KS_ID_MAX];
	unsigned int	 moved;
	unsigned int	 already;
	unsigned int	 failed;
	char		 last_error[160];
	struct event	 deadline;
};

static void		 control_accept(int, short, void *);
static void		 control_resume(int, short, void *);
static void		 control_dispatch(int, short, void *);
static void		 control_close(struct ctl_conn *);
static int		 control_allowed(uid_t, gid_t);
static struct ctl_conn	*control_find(uint32_t);
static void		 control_result(struct ctl_conn *, enum ctl_code,
			    const char *);
static void		 control_show_status(struct ctl_conn *);
static void		 control_show_signers(struct ctl_conn *);
static void		 control_show_damaged(struct ctl_conn *);
static int		 control_damaged_one(const struct ks_object *, void *);
static void		 control_destroy(struct ctl_conn *, const char *);
static void		 control_adopt(struct ctl_conn *, struct ctl_adopt *);
static void		 control_adopt_done(uint32_t, const struct ttlv *);
static void		 control_grant(struct ctl_conn *, const struct ctl_grant *,
			    int);
static void		 control_stream_start(struct ctl_conn *, uint32_t,
			    const char *);
static void		 control_stream_step(int, short, void *);
static void		 control_stream_end(struct ctl_conn *);
static int		 control_text_ok(const char *);
static void		 control_signers_timeout(int, short, void *);
static void		 control_rewrap(struct ctl_conn *, const char *);
static int		 control_rewrap_scan(const struct ks_object *, void *);
static void		 control_rewrap_next(struct ctl_conn *);
static void		 control_rewrap_done(struct ctl_conn *, enum ctl_code,
			    const char *);
static void		 control_rewrap_deadline(int, short, void *);
static int		 control_key_kind(const struct ks_object *,
			    uint32_t *);
static void		 control_cv_hex(const uint8_t *, char *);
static void		 control_check_start(struct ctl_conn *, const char *);
static void		 control_check_send(struct ctl_conn *, struct esigner *,
			    struct ctl_check *);
static void		 control_check_timeout(int, short, void *);
static void		 control_check_fail(struct ctl_conn *, uint32_t,
			    const char *, const char *, ...)
			    __attribute__((__format__ (printf, 4, 5)));
static void		 control_check_done(struct ctl_conn *, size_t);
static int		 eproc_cmp(const void *, const void *);
static const struct proc_info **control_sorted_procs(size_t *);

void
control_listen(int fd)
{
	if (engine->control_fd != -1) {
		event_del(&engine->control_ev);
		close(engine->control_fd);
	}
	engine->control_fd = fd;
	event_set(&engine->control_ev, fd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	event_add(&engine->control_ev, NULL);
	evtimer_set(&engine->control_pause, control_resume, NULL);
}

void
control_close_all(void)
{
	struct ctl_conn	*c;

	while ((c = TAILQ_FIRST(&engine->conns)) != NULL)
		control_close(c);
	if (engine->control_fd != -1) {
		event_del(&engine->control_ev);
		evtimer_del(&engine->control_pause);
		close(engine->control_fd);
		engine->control_fd = -1;
	}
}

static void
control_resume(int fd, short event, void *arg)
{
	event_add(&engine->control_ev, NULL);
}

/* Root may always connect; else the control group, if one is set. */
static int
control_allowed(uid_t uid, gid_t gid)
{
	int	 i;

	if (uid == 0)
		return (1);
	if (engine->conf.control_gid == -1)
		return (0);
	if ((int64_t)gid == engine->conf.control_gid)
		return (1);
	for (i = 0; i < engine->conf.nmembers; i++)
		if (engine->conf.members[i] == (int64_t)uid)
			return (1);
	return (0);
}

static void
control_accept(int lfd, short event, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Out of fds: pause rather than spin. */
			event_del(&engine->control_ev);
			evtimer_add(&engine->control_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (!control_allowed(cred.uid, cred.gid)) {
		log_warnx("control: refused uid %u (pid %d): not root nor in "
		    "the control group", (unsigned int)cred.uid,
		    (int)cred.pid);
		close(fd);
		return;
	}
	if (engine->nconns >= CTL_MAX_CONNS) {
		log_warnx("control: too many connections, refused pid %d",
		    (int)cred.pid);
		close(fd);
		return;
	}
	(void)control_add(fd, cred.uid, cred.pid);
}

/* A connection of a peer allowed in (also the fuzz target's way in). */
struct ctl_conn *
control_add(int fd, uid_t uid, pid_t pid)
{
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal(NULL);
	c->id = ++engine->next_id;
	c->uid = uid;
	c->pid = pid;
	evtimer_set(&c->timer, control_signers_timeout, c);
	evtimer_set(&c->check_timer, control_check_timeout, c);
	/* The default size cap; never an fd from a client. */
	if (imsgev_init(&c->iev, fd, control_dispatch, c,
	    IMSG_MAX_CONTROL - IMSG_HEADER_SIZE, 0) == -1)
		fatal("control imsgev_init");
	TAILQ_INSERT_TAIL(&engine->conns, c, entry);
	engine->nconns++;
	return (c);
}

static void
control_close(struct ctl_conn *c)
{
	if (c->rewrap != NULL) {
		evtimer_del(&c->rewrap->deadline);
		free(c->rewrap->ids);
		free(c->rewrap);
	}
	evtimer_del(&c->timer);
	evtimer_del(&c->check_timer);
	control_stream_end(c);
	free(c->check_ids);
	imsgev_clear(&c->iev);
	TAILQ_REMOVE(&engine->conns, c, entry);
	engine->nconns--;
	free(c);
}

static struct ctl_conn *
control_find(uint32_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &engine->conns, entry)
		if (c->id == id)
			return (c);
	return (NULL);
}

static void
control_result(struct ctl_conn *c, enum ctl_code code, const char *msg)
{
	struct ctl_result	 res;

	ctl_result_set(&res, code, msg);
	imsg_compose_event(&c->iev, IMSG_CTL_RESULT, 0, 0, -1, &res,
	    sizeof(res));
}

/* The parent's answer to a reload or restart, relayed to its client. */
void
control_parent_result(uint32_t id, struct imsg *imsg)
{
	struct ctl_result	 res;
	struct ctl_conn		*c;

	if (imsg_get_data(imsg, &res, sizeof(res)) == -1)
		fatalx("bad IMSG_CTL_RESULT from the parent");
	strterm(res.msg, sizeof(res.msg));
	if ((c = control_find(id)) == NULL)
		return;		/* the client left */
	imsg_compose_event(&c->iev, IMSG_CTL_RESULT, 0, 0, -1, &res,
	    sizeof(res));
}

/* A terminated string of UTF-8 without control characters. */
static int
control_text_ok(const char *s)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 len = strlen(s), n;

	for (; len > 0; p += n, len -= n)
		if ((n = utf8_char(p, len)) == 0 || utf8_control(p, n))
			return (0);
	return (1);
}

/*
 * Check one message from signerctl: its version, type and exact payload.
 * CTL_MSG_OK fills m; CTL_MSG_VERSION is answered; CTL_MSG_BAD closes
 * the connection.  Nothing else looks at a client's bytes.
 */
int
control_check(uint32_t type, uint32_t peerid, const void *data, size_t len,
    struct ctl_msg *m)
{
	struct ctl_adopt	*ca;

	memset(m, 0, sizeof(*m));
	if (peerid != IMSG_VERSION)
		return (CTL_MSG_VERSION);
	m->type = type;
	switch (type) {
	case IMSG_CTL_SHOW_STATUS:
	case IMSG_CTL_SHOW_SIGNERS:
	case IMSG_CTL_SHOW_DAMAGED:
	case IMSG_CTL_SHOW_METRICS:
	case IMSG_CTL_RELOAD:
	case IMSG_CTL_AUDIT:
		return (len == 0 ? CTL_MSG_OK : CTL_MSG_BAD);
	case IMSG_CTL_RESTART:
	case IMSG_CTL_REWRAP:
	case IMSG_CTL_CHECK:
		if (len != sizeof(m->name))
			return (CTL_MSG_BAD);
		memcpy(m->name, data, len);
		strterm(m->name, sizeof(m->name));
		return (CTL_MSG_OK);
	case IMSG_CTL_LOG:
		if (len != sizeof(m->verbose))
			return (CTL_MSG_BAD);
		memcpy(&m->verbose, data, len);
		m->verbose = m->verbose != 0;
		return (CTL_MSG_OK);
	case IMSG_CTL_DESTROY:
		if (len != sizeof(m->id))
			return (CTL_MSG_BAD);
		memcpy(m->id, data, len);
		/* A Unique Identifier as signerd makes or takes them. */
		if (memchr(m->id, '\0', sizeof(m->id)) == NULL ||
		    !ks_id_valid(m->id))
			return (CTL_MSG_BAD);
		return (CTL_MSG_OK);
	case IMSG_CTL_ADOPT:
		if (len != sizeof(m->adopt))
			return (CTL_MSG_BAD);
		memcpy(&m->adopt, data, len);
		ca = &m->adopt;
		if (memchr(ca->signer, '\0', sizeof(ca->signer)) == NULL ||
		    memchr(ca->owner, '\0', sizeof(ca->owner)) == NULL ||
		    memchr(ca->name, '\0', sizeof(ca->name)) == NULL ||
		    ca->signer[0] == '\0' || ca->owner[0] == '\0' ||
		    (ca->by != 1 && ca->by != 2) || ca->len == 0 ||
		    ca->len > sizeof(ca->value))
			return (CTL_MSG_BAD);
		/* Text that ends up in the keystore and in logs. */
		if (!control_text_ok(ca->signer) ||
		    !control_text_ok(ca->owner) || !control_text_ok(ca->name))
			return (CTL_MSG_BAD);
		return (CTL_MSG_OK);
	case IMSG_CTL_GRANT:
	case IMSG_CTL_REVOKE:
		if (len != sizeof(m->grant))
			return (CTL_MSG_BAD);
		memcpy(&m->grant, data, len);
		if (memchr(m->grant.holder, '\0',
		    sizeof(m->grant.holder)) == NULL ||
		    memchr(m->grant.target, '\0',
		    sizeof(m->grant.target)) == NULL ||
		    m->grant.holder[0] == '\0' ||
		    m->grant.target[0] == '\0' || m->grant.ops == 0 ||
		    m->grant.scope < GRANT_OBJECT ||
		    m->grant.scope > GRANT_SIGNER ||
		    !control_text_ok(m->grant.holder) ||
		    !control_text_ok(m->grant.target))
			return (CTL_MSG_BAD);
		if (m->grant.scope == GRANT_OBJECT &&
		    (strlen(m->grant.target) >= KS_ID_MAX ||
		    !ks_id_valid(m->grant.target)))
			return (CTL_MSG_BAD);
		if (m->grant.scope == GRANT_SIGNER &&
		    strlen(m->grant.target) >= SIGNER_NAME_MAX)
			return (CTL_MSG_BAD);
		return (CTL_MSG_OK);
	case IMSG_CTL_SHOW_GRANTS:
	case IMSG_CTL_SHOW_KEYS:
		if (len != sizeof(m->show))
			return (CTL_MSG_BAD);
		memcpy(&m->show, data, len);
		if (memchr(m->show.name, '\0', sizeof(m->show.name)) ==
		    NULL || !control_text_ok(m->show.name))
			return (CTL_MSG_BAD);
		return (CTL_MSG_OK);
	}
	return (CTL_MSG_BAD);
}

static void
control_dispatch(int fd, short event, void *arg)
{
	struct ctl_conn	*c = arg;
	struct imsg	 imsg;
	struct ibuf	 ib;
	struct ctl_msg	 m;
	struct ctl_audit ca;
	size_t		 len;
	ssize_t		 n;

	if (imsgev_io(&c->iev, event) == -1) {
		control_close(c);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&c->iev.ibuf, &imsg)) == -1) {
			log_warnx("control: bad message from pid %d",
			    (int)c->pid);
			control_close(c);
			return;
		}
		if (n == 0)
			break;
		len = imsg_get_len(&imsg);
		if (len > 0 && imsg_get_ibuf(&imsg, &ib) == -1)
			goto bad;
		switch (control_check(imsg_get_type(&imsg),
		    imsg_get_id(&imsg), len > 0 ? ibuf_data(&ib) : NULL, len,
		    &m)) {
		case CTL_MSG_VERSION:
			control_result(c, CTL_BADVERSION, "signerctl and "
			    "signerd versions differ");
			imsg_free(&imsg);
			continue;
		case CTL_MSG_BAD:
			goto bad;
		}
		switch (m.type) {
		case IMSG_CTL_SHOW_STATUS:
			control_show_status(c);
			break;
		case IMSG_CTL_SHOW_SIGNERS:
			if (c->waiting)
				goto bad;
			control_show_signers(c);
			break;
		case IMSG_CTL_SHOW_DAMAGED:
			control_show_damaged(c);
			break;
		case IMSG_CTL_SHOW_METRICS:
			metrics_show(c);
			break;
		case IMSG_CTL_AUDIT:
			/* The trail's head, for signerctl audit verify. */
			audit_head(&ca);
			imsg_compose_event(&c->iev, IMSG_CTL_AUDIT, 0, 0, -1,
			    &ca, sizeof(ca));
			break;
		case IMSG_CTL_RELOAD:
			imsg_compose_event(&engine->parent, IMSG_CTL_RELOAD,
			    c->id, 0, -1, NULL, 0);
			break;
		case IMSG_CTL_RESTART:
			imsg_compose_event(&engine->parent, IMSG_CTL_RESTART,
			    c->id, 0, -1, m.name, sizeof(m.name));
			break;
		case IMSG_CTL_LOG:
			log_info("signerctl (uid %u) set logging to %s",
			    (unsigned int)c->uid, m.verbose ? "verbose" :
			    "brief");
			imsg_compose_event(&engine->parent, IMSG_CTL_LOG, 0, 0,
			    -1, &m.verbose, sizeof(m.verbose));
			control_result(c, CTL_OK, m.verbose ?
			    "logging verbose" : "logging brief");
			break;
		case IMSG_CTL_DESTROY:
			control_destroy(c, m.id);
			break;
		case IMSG_CTL_ADOPT:
			control_adopt(c, &m.adopt);
			break;
		case IMSG_CTL_REWRAP:
			if (c->rewrap != NULL)
				goto bad;
			control_rewrap(c, m.name);
			break;
		case IMSG_CTL_CHECK:
			if (c->check_req != 0)
				goto bad;
			control_check_start(c, m.name);
			break;
		case IMSG_CTL_GRANT:
		case IMSG_CTL_REVOKE:
			control_grant(c, &m.grant, m.type == IMSG_CTL_GRANT);
			break;
		case IMSG_CTL_SHOW_GRANTS:
		case IMSG_CTL_SHOW_KEYS:
			if (c->stream != NULL)
				goto bad;
			control_stream_start(c, m.type, m.show.name);
			break;
		}
		imsg_free(&imsg);
	}
	imsg_event_add(&c->iev);
	return;
 bad:
	log_warnx("control: malformed request %u from pid %d, closing",
	    imsg_get_type(&imsg), (int)c->pid);
	imsg_free(&imsg);
	control_close(c);
}

/*
 * Objects whose stored attributes do not load: the keystore is read
 * through, each one sent as IMSG_CTL_OBJECT, then IMSG_CTL_END.
 */
static void
control_show_damaged(struct ctl_conn *c)
{
	struct damaged_scan	 ds;

	if (engine->ks == NULL) {
		control_result(c, CTL_FAILED, "no keystore open");
		return;
	}
	ds.c = c;
	ds.n = 0;
	if (ks_scan(engine->ks, control_damaged_one, &ds) == -1) {
		control_result(c, CTL_FAILED, ks_error(engine->ks));
		return;
	}
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}

static int
control_damaged_one(const struct ks_object *o, void *arg)
{
	struct damaged_scan	*ds = arg;
	struct ctl_object	 co;

	memset(&co, 0, sizeof(co));
	if (!attrs_damaged(o, co.why, sizeof(co.why)))
		return (0);
	(void)strlcpy(co.id, o->id, sizeof(co.id));
	(void)strlcpy(co.owner, o->owner, sizeof(co.owner));
	co.type = o->type;
	co.state = o->state;
	imsg_compose_event(&ds->c->iev, IMSG_CTL_OBJECT, 0, 0, -1, &co,
	    sizeof(co));
	return (++ds->n >= CTL_DAMAGED_MAX);
}

/*
 * An administrator destroys any object, damaged or not: state Destroyed,
 * material wiped, attributes kept if they load, else replaced by a
 * minimal valid set.  Its own transaction, after the turn's KMIP changes
 * are committed and answered.
 */
static void
control_destroy(struct ctl_conn *c, const char *id)
{
	struct ks_object	 o;
	struct ttlv		*a;
	char			 msg[256], why[128];
	int64_t			 now = time(NULL);
	int			 rv, damaged;

	if (engine->ks == NULL) {
		control_result(c, CTL_FAILED, "no keystore open");
		return;
	}
	kmip_flush();
	if ((rv = ks_get(engine->ks, id, &o)) != 0) {
		(void)snprintf(msg, sizeof(msg), "%s%s", rv == 1 ?
		    "no object " : "keystore: ", rv == 1 ? id :
		    ks_error(engine->ks));
		control_result(c, rv == 1 ? CTL_NOTFOUND : CTL_FAILED, msg);
		return;
	}
	damaged = attrs_damaged(&o, why, sizeof(why));
	if (!damaged && (o.state == KMIP_STATE_DESTROYED ||
	    o.state == KMIP_STATE_DESTROYED_COMPROMISED)) {
		ks_object_clear(&o);
		(void)snprintf(msg, sizeof(msg), "object %s was destroyed "
		    "already", id);
		control_result(c, CTL_OK, msg);
		return;
	}
	if (damaged) {
		a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
		attr_set_datetime(a, "Initial Date", o.created);
	} else
		a = attrs_load(&o);
	o.state = o.state == KMIP_STATE_COMPROMISED ||
	    o.state == KMIP_STATE_DESTROYED_COMPROMISED ?
	    KMIP_STATE_DESTROYED_COMPROMISED : KMIP_STATE_DESTROYED;
	attr_set_datetime(a, "Destroy Date", now);
	attr_set_datetime(a, "Last Change Date", now);
	freezero(o.material, o.material_len);
	o.material = NULL;
	o.material_len = 0;
	rv = attrs_check(a, 0, msg, sizeof(msg));
	if (rv == 0) {
		attrs_store(&o, a);
		if ((rv = ks_begin(engine->ks)) == 0 &&
		    (rv = attrs_write(engine->ks, &o, a, 0)) == 0)
			rv = ks_commit(engine->ks);
		if (rv == -1) {
			(void)snprintf(msg, sizeof(msg), "keystore: %s",
			    ks_error(engine->ks));
			(void)ks_rollback(engine->ks);
		}
	}
	ttlv_free(a);
	if (rv == -1) {
		control_result(c, CTL_FAILED, msg);
		ks_object_clear(&o);
		return;
	}
	log_info("signerctl (uid %u) destroyed object %s of %s%s",
	    (unsigned int)c->uid, id, o.owner, damaged ? " (damaged)" : "");
	(void)snprintf(msg, sizeof(msg), "object %s destroyed", id);
	control_result(c, CTL_OK, msg);
	ks_object_clear(&o);
}

/*
 * signerctl adopt: the engine's KMIP layer finds the key in the token
 * and makes its objects, as for a client (kmip_adopt); the answer comes
 * back to control_adopt_done once the objects are committed.
 */
static void
control_adopt(struct ctl_conn *c, struct ctl_adopt *ca)
{
	if (engine->ks == NULL) {
		control_result(c, CTL_FAILED, "no keystore open");
		return;
	}
	log_info("signerctl (uid %u) adopts a key of signer %s for %s",
	    (unsigned int)c->uid, ca->signer, ca->owner);
	kmip_adopt(ca, control_adopt_done, c->id);
}

/* The response of an adoption, as a result for signerctl. */
static void
control_adopt_done(uint32_t id, const struct ttlv *m)
{
	const struct ttlv	*it, *pl, *t;
	struct ctl_conn		*c;
	char			 msg[512], text[256];
	uint32_t		 status = 1, reason = 0;
	size_t			 n = 0;

	if ((c = control_find(id)) == NULL)
		return;		/* the client left */
	if ((it = ttlv_find(m, KMIP_TAG_BATCH_ITEM)) == NULL ||
	    ttlv_get_enum(it, KMIP_TAG_RESULT_STATUS, &status) == -1 ||
	    status != KMIP_STATUS_SUCCESS) {
		if (it == NULL || ttlv_get_text(it, KMIP_TAG_RESULT_MESSAGE,
		    text, sizeof(text)) == -1)
			(void)strlcpy(text, "adoption failed", sizeof(text));
		if (it != NULL)
			(void)ttlv_get_enum(it, KMIP_TAG_RESULT_REASON,
			    &reason);
		control_result(c, reason == KMIP_REASON_ITEM_NOT_FOUND ?
		    CTL_NOTFOUND : CTL_FAILED, text);
		return;
	}
	msg[0] = '\0';
	pl = ttlv_find(it, KMIP_TAG_RESPONSE_PAYLOAD);
	for (t = pl != NULL ? ttlv_find(pl, KMIP_TAG_UNIQUE_IDENTIFIER) :
	    NULL; t != NULL; t = ttlv_find_next(pl, t,
	    KMIP_TAG_UNIQUE_IDENTIFIER), n++) {
		if (t->type != TTLV_TEXT_STRING || t->v.s.len >= sizeof(text))
			continue;
		memcpy(text, t->v.s.data, t->v.s.len);
		text[t->v.s.len] = '\0';
		(void)strlcat(msg, n == 0 ? "private key " :
		    ", public key ", sizeof(msg));
		(void)strlcat(msg, text, sizeof(msg));
	}
	control_result(c, CTL_OK, msg);
}

/*
 * signerctl grant and revoke.  A grant on one object needs the object;
 * owners and signers are names, whose objects may come later.
 */
static void
control_grant(struct ctl_conn *c, const struct ctl_grant *cg, int add)
{
	struct ks_object	 o;
	char			 msg[512], ops[200], w[48];
	int			 op, rv;

	if (engine->ks == NULL) {
		control_result(c, CTL_FAILED, "no keystore open");
		return;
	}
	/* The turn's KMIP changes first: the grant has its own commit. */
	kmip_flush();
	if (add && cg->scope == GRANT_OBJECT) {
		memset(&o, 0, sizeof(o));
		if ((rv = ks_get(engine->ks, cg->target, &o)) != 0) {
			(void)snprintf(msg, sizeof(msg), "%s%s", rv == 1 ?
			    "no object " : "keystore: ", rv == 1 ?
			    cg->target : ks_error(engine->ks));
			control_result(c, rv == 1 ? CTL_NOTFOUND : CTL_FAILED,
			    msg);
			return;
		}
		ks_object_clear(&o);
	}
	switch (policy_change(cg, add, msg, sizeof(msg))) {
	case -1:
		control_result(c, CTL_FAILED, msg);
		return;
	case 1:
		control_result(c, CTL_NOTFOUND, msg);
		return;
	}
	ops[0] = '\0';
	for (op = 1; op < 64; op++)
		if (cg->ops & (1ULL << op)) {
			if (ops[0] != '\0')
				(void)strlcat(ops, " ", sizeof(ops));
			(void)strlcat(ops, policy_op_word(op, w, sizeof(w)),
			    sizeof(ops));
		}
	log_info("signerctl (uid %u) %s %s: %s on %s %s",
	    (unsigned int)c->uid, add ? "grants" : "revokes", cg->holder, ops,
	    cg->scope == GRANT_OBJECT ? "object" : cg->scope == GRANT_OWNER ?
	    "owner" : "signer", cg->target);
	control_result(c, CTL_OK, msg);
}

static void
control_stream_start(struct ctl_conn *c, uint32_t type, const char *name)
{
	struct ctl_stream	*st;

	if (engine->ks == NULL) {
		control_result(c, CTL_FAILED, "no keystore open");
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal(NULL);
	st->type = type;
	(void)strlcpy(st->name, name, sizeof(st->name));
	evtimer_set(&st->ev, control_stream_step, c);
	c->stream = st;
	control_stream_step(-1, 0, c);
}

/* One chunk of the answer, then the next at a later turn. */
static void
control_stream_step(int fd, short event, void *arg)
{
	static struct ks_listed	 keys[CTL_STREAM_CHUNK];
	static struct ctl_grant	 grants[CTL_STREAM_CHUNK];
	struct ctl_conn		*c = arg;
	struct ctl_stream	*st = c->stream;
	struct ctl_key		 k;
	struct timeval		 tv = { 0, 0 };
	size_t			 i, n;
	int			 more;

	if (imsgbuf_queuelen(&c->iev.ibuf) > CTL_STREAM_QUEUE) {
		/* The client reads slowly: wait for it. */
		tv.tv_usec = 10000;
		evtimer_add(&st->ev, &tv);
		return;
	}
	if (st->type == IMSG_CTL_SHOW_GRANTS) {
		more = policy_grant_list(st->name, st->started ? &st->after :
		    NULL, grants, CTL_STREAM_CHUNK, &n);
		for (i = 0; i < n; i++)
			imsg_compose_event(&c->iev, IMSG_CTL_GRANT_ENTRY, 0, 0,
			    -1, &grants[i], sizeof(grants[i]));
		if (n > 0)
			st->after = grants[n - 1];
		st->started = 1;
	} else {
		if (ks_list(engine->ks, st->name[0] != '\0' ? st->name :
		    NULL, &st->after_rowid, keys, CTL_STREAM_CHUNK,
		    &n) == -1) {
			control_result(c, CTL_FAILED, ks_error(engine->ks));
			control_stream_end(c);
			return;
		}
		for (i = 0; i < n; i++) {
			memset(&k, 0, sizeof(k));
			(void)strlcpy(k.id, keys[i].id, sizeof(k.id));
			(void)strlcpy(k.name, keys[i].name, sizeof(k.name));
			(void)strlcpy(k.owner, keys[i].owner, sizeof(k.owner));
			(void)strlcpy(k.signer, keys[i].signer,
			    sizeof(k.signer));
			k.type = keys[i].type;
			k.state = keys[i].state;
			k.algorithm = keys[i].algorithm;
			imsg_compose_event(&c->iev, IMSG_CTL_KEY_ENTRY, 0, 0,
			    -1, &k, sizeof(k));
		}
		more = n == CTL_STREAM_CHUNK;
	}
	if (more) {
		evtimer_add(&st->ev, &tv);
		return;
	}
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
	control_stream_end(c);
}

static void
control_stream_end(struct ctl_conn *c)
{
	if (c->stream == NULL)
		return;
	evtimer_del(&c->stream->ev);
	free(c->stream);
	c->stream = NULL;
}

static int
eproc_cmp(const void *a, const void *b)
{
	const struct proc_info	*pa = *(const struct proc_info * const *)a;
	const struct proc_info	*pb = *(const struct proc_info * const *)b;

	if (pa->kind != pb->kind)
		return (pa->kind < pb->kind ? -1 : 1);
	return (strcmp(pa->name, pb->name));
}

/* The process table in a stable order: kind, then name. */
static const struct proc_info **
control_sorted_procs(size_t *np)
{
	const struct proc_info	**v;
	struct eproc		 *ep;
	size_t			  n = 0;

	TAILQ_FOREACH(ep, &engine->procs, entry)
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		fatal(NULL);
	n = 0;
	TAILQ_FOREACH(ep, &engine->procs, entry)
		v[n++] = &ep->pi;
	qsort(v, n, sizeof(*v), eproc_cmp);
	*np = n;
	return (v);
}

static void
control_show_status(struct ctl_conn *c)
{
	const struct proc_info	**v;
	size_t			  i, n;

	v = control_sorted_procs(&n);
	for (i = 0; i < n; i++)
		imsg_compose_event(&c->iev, IMSG_CTL_PROC, 0, 0, -1, v[i],
		    sizeof(*v[i]));
	free(v);
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}

/* Ask the signers, answer when all did or CTL_STATUS_WAIT_MS passed. */
static void
control_show_signers(struct ctl_conn *c)
{
	struct timeval	 tv = { 0, CTL_STATUS_WAIT_MS * 1000 };
	struct esigner	*es;

	c->status_req = ++engine->next_id;
	c->waiting = 0;
	TAILQ_FOREACH(es, &engine->signers, entry)
		if (es->iev.active)
			c->waiting++;
	if (c->waiting == 0) {
		control_signers_timeout(-1, 0, c);
		return;
	}
	engine_status_request(c->status_req);
	evtimer_add(&c->timer, &tv);
}

void
control_status_answer(uint32_t req)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &engine->conns, entry)
		if (c->waiting && c->status_req == req) {
			if (--c->waiting == 0)
				control_signers_timeout(-1, 0, c);
			return;
		}
}

static void
control_signers_timeout(int fd, short event, void *arg)
{
	struct ctl_conn		 *c = arg;
	const struct proc_info	**v;
	struct ctl_signer	  cs;
	struct esigner		 *es;
	size_t			  i, n;
	int64_t			  nkeys;

	evtimer_del(&c->timer);
	c->waiting = 0;
	v = control_sorted_procs(&n);
	for (i = 0; i < n; i++) {
		if (v[i]->kind != PROC_HSM)
			continue;
		memset(&cs, 0, sizeof(cs));
		cs.proc = *v[i];
		es = esigner_find(v[i]->signer_id);
		esigner_view(es, v[i], c->status_req, &cs.status);
		/* What it holds, whatever its state: by name. */
		if (engine->ks != NULL && (nkeys = ks_count_signer(engine->ks,
		    v[i]->name)) > 0)
			cs.status.keys = nkeys;
		imsg_compose_event(&c->iev, IMSG_CTL_SIGNER, 0, 0, -1, &cs,
		    sizeof(cs));
	}
	free(v);
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}

/* --- Key-encryption keys --------------------------------------------- */

static void
control_cv_hex(const uint8_t *cv, char *hex)
{
	size_t	 i;

	for (i = 0; i < HSM_KEK_CV_LEN; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", cv[i]);
}

/*
 * IMSG_KEK_CHECK from an openssl signer: the check values of its
 * key-encryption keys, compared with those the keystore recorded the
 * first time (and recorded, committed, if there are none yet).  The
 * answer says whether they agree; what differs is an error at start,
 * with both values and what to do.  -1: a malformed message.
 */
int
control_kek_check(struct esigner *es, struct imsg *imsg)
{
	static const struct {
		uint32_t	 flag;
		const char	*source;
		const char	*what;
		const char	*fix;
	} src[2] = {
		{ KEK_CHECK_FILE, "file", "kek file", "wrong kek file? put "
		    "the right one back and reload" },
		{ KEK_CHECK_HSM, "hsm", "KEK in the token", "another or a "
		    "re-initialised token? point wrap with at the right one "
		    "and reload" },
	};
	struct kek_check	 kc;
	char			 hex[2 * HSM_KEK_CV_LEN + 1], rec[64];
	const uint8_t		*cv;
	size_t			 i;
	int			 rv;

	if (es->link.type != SIGNER_OPENSSL ||
	    imsg_get_data(imsg, &kc, sizeof(kc)) == -1 ||
	    (kc.flags & ~(KEK_CHECK_FILE | KEK_CHECK_HSM)) != 0)
		return (-1);
	kc.status = 0;
	memset(kc.msg, 0, sizeof(kc.msg));
	if (engine->ks == NULL) {
		kc.status = -1;
		(void)strlcpy(kc.msg, "no keystore open", sizeof(kc.msg));
	}
	kmip_flush();
	for (i = 0; i < 2 && kc.status == 0; i++) {
		if ((kc.flags & src[i].flag) == 0)
			continue;
		cv = src[i].flag == KEK_CHECK_FILE ? kc.file_cv : kc.hsm_cv;
		control_cv_hex(cv, hex);
		rv = ks_kek_check_get(engine->ks, es->link.name,
		    src[i].source, rec, sizeof(rec));
		if (rv == 1) {
			(void)strlcpy(rec, hex, sizeof(rec));
			if ((rv = ks_begin(engine->ks)) == 0 &&
			    (rv = ks_kek_check_put(engine->ks, es->link.name,
			    src[i].source, hex, time(NULL))) == 0)
				rv = ks_commit(engine->ks);
			else
				(void)ks_rollback(engine->ks);
			if (rv == 0)
				log_info("signer %s: recorded check value %s "
				    "of its %s", es->link.name, hex,
				    src[i].what);
		}
		if (rv == -1) {
			kc.status = -1;
			(void)snprintf(kc.msg, sizeof(kc.msg), "keystore: %s",
			    ks_error(engine->ks));
		} else if (strcmp(rec, hex) != 0) {
			kc.status = -1;
			(void)snprintf(kc.msg, sizeof(kc.msg), "%s: check "
			    "value %s, keystore has %s: %s", src[i].what, hex,
			    rec, src[i].fix);
			log_warnx("signer %s: %s", es->link.name, kc.msg);
		}
	}
	if (es->iev.active)
		imsg_compose_event(&es->iev, IMSG_KEK_CHECK, 0, 0, -1, &kc,
		    sizeof(kc));
	return (0);
}

/* The signer's key kind of a stored key (see kop_key_kind). */
static int
control_key_kind(const struct ks_object *o, uint32_t *kind)
{
	struct ttlv	*a;
	int32_t		 len = 0;

	if (o->type == KMIP_OBJ_SECRET_DATA) {
		*kind = HSM_KEY_SECRET;
		return (0);
	}
	if ((a = attrs_load(o)) != NULL) {
		(void)attr_get_integer(a, "Cryptographic Length", &len);
		ttlv_free(a);
	}
	return (hsm_kind_of(o->algorithm, len, kind));
}

/*
 * signerctl rewrap SIGNER: every key of an openssl signer still wrapped
 * by its kek file (blob version 1) is wrapped again by the token of its
 * `wrap with' signer, inside the signer child; each new blob is
 * committed (synchronous, on disk) before the next key is asked for.
 * Idempotent: keys already moved are counted, not touched.  Authorised
 * as every control command (root or the control group).
 */
static void
control_rewrap(struct ctl_conn *c, const char *name)
{
	struct ctl_rewrap	*rw;
	struct esigner		*es;
	char			 msg[256];

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, name) == 0)
			break;
	if (es == NULL) {
		(void)snprintf(msg, sizeof(msg), "no signer named \"%s\"",
		    name);
		control_result(c, CTL_NOTFOUND, msg);
		return;
	}
	if (es->link.type != SIGNER_OPENSSL) {
		(void)snprintf(msg, sizeof(msg), "signer \"%s\" is not an "
		    "openssl signer: its keys are not wrapped", name);
		control_result(c, CTL_FAILED, msg);
		return;
	}
	if (!esigner_ready(es)) {
		(void)snprintf(msg, sizeof(msg), "signer \"%s\" is not ready: "
		    "%.150s", name, es->status.detail);
		control_result(c, CTL_FAILED, msg);
		return;
	}
	if (engine->ks == NULL) {
		control_result(c, CTL_FAILED, "no keystore open");
		return;
	}
	if ((rw = calloc(1, sizeof(*rw))) == NULL)
		fatal(NULL);
	(void)strlcpy(rw->signer, name, sizeof(rw->signer));
	rw->signer_id = es->link.signer_id;
	rw->timeout = es->link.timeout > 0 ? es->link.timeout :
	    SIGNER_TIMEOUT_DEFAULT;
	evtimer_set(&rw->deadline, control_rewrap_deadline, c);
	c->rewrap = rw;
	kmip_flush();
	if (ks_scan(engine->ks, control_rewrap_scan, rw) == -1) {
		control_rewrap_done(c, CTL_FAILED, ks_error(engine->ks));
		return;
	}
	log_info("signerctl (uid %u) rewraps the keys of signer %s (%zu "
	    "objects)", (unsigned int)c->uid, name, rw->nids);
	control_rewrap_next(c);
}

/* The ids of the signer's live objects that may hold a wrapped key. */
static int
control_rewrap_scan(const struct ks_object *o, void *arg)
{
	struct ctl_rewrap	*rw = arg;
	void			*p;

	if (strcmp(o->signer, rw->signer) != 0 ||
	    o->state == KMIP_STATE_DESTROYED ||
	    o->state == KMIP_STATE_DESTROYED_COMPROMISED ||
	    (o->type != KMIP_OBJ_PRIVATE_KEY &&
	    o->type != KMIP_OBJ_SYMMETRIC_KEY &&
	    o->type != KMIP_OBJ_SECRET_DATA))
		return (0);
	if (rw->nids >= CTL_REWRAP_MAX)
		return (1);
	if ((rw->nids & (rw->nids - 1)) == 0 || rw->nids == 0) {
		if ((p = reallocarray(rw->ids, rw->nids ? rw->nids * 2 : 16,
		    sizeof(*rw->ids))) == NULL)
			fatal(NULL);
		rw->ids = p;
	}
	(void)strlcpy(rw->ids[rw->nids++], o->id, KS_ID_MAX);
	return (0);
}

/* Ask for the next key still under the file KEK, or answer. */
static void
control_rewrap_next(struct ctl_conn *c)
{
	static uint32_t		 seq;
	struct ctl_rewrap	*rw = c->rewrap;
	struct ks_object	 o;
	struct esigner		*es;
	struct hsm_kek		 k;
	struct iovec		 iov[2];
	struct timeval		 tv;
	char			 msg[512];
	uint32_t		 kind;
	int			 rv;

	while (rw->next < rw->nids) {
		(void)strlcpy(rw->cur, rw->ids[rw->next++], sizeof(rw->cur));
		if ((rv = ks_get(engine->ks, rw->cur, &o)) != 0)
			continue;	/* destroyed meanwhile */
		if (o.material_len == 0 || o.material[0] != 1) {
			if (o.material_len > 0 && o.material[0] == 2)
				rw->already++;
			ks_object_clear(&o);
			continue;
		}
		if (control_key_kind(&o, &kind) == -1 ||
		    o.material_len > HSM_DATA_MAX) {
			rw->failed++;
			(void)snprintf(rw->last_error,
			    sizeof(rw->last_error), "%s: unknown key kind",
			    rw->cur);
			ks_object_clear(&o);
			continue;
		}
		if ((es = esigner_find(rw->signer_id)) == NULL ||
		    !esigner_ready(es)) {
			ks_object_clear(&o);
			control_rewrap_done(c, CTL_FAILED, "the signer went "
			    "away during the rewrap");
			return;
		}
		memset(&k, 0, sizeof(k));
		(void)strlcpy(k.id, o.id, sizeof(k.id));
		k.kind = kind;
		k.len_data = o.material_len;
		iov[0].iov_base = &k;
		iov[0].iov_len = sizeof(k);
		iov[1].iov_base = o.material;
		iov[1].iov_len = o.material_len;
		if (++seq >= CTL_REWRAP_ID)
			seq = 1;
		rw->sent = CTL_REWRAP_ID | seq;
		rv = imsg_composev(&es->iev.ibuf, IMSG_HSM_REWRAP, rw->sent,
		    0, -1, iov, 2);
		ks_object_clear(&o);
		if (rv == -1) {
			control_rewrap_done(c, CTL_FAILED, "cannot queue the "
			    "request for the signer");
			return;
		}
		imsg_event_add(&es->iev);
		tv.tv_sec = rw->timeout;
		tv.tv_usec = 0;
		evtimer_add(&rw->deadline, &tv);
		return;
	}
	(void)snprintf(msg, sizeof(msg), "signer %s: %u keys rewrapped by "
	    "the token, %u were already, %u failed%s%s", rw->signer,
	    rw->moved, rw->already, rw->failed, rw->failed ? "; last: " : "",
	    rw->failed ? rw->last_error : "");
	control_rewrap_done(c, rw->failed ? CTL_FAILED : CTL_OK, msg);
}

static void
control_rewrap_done(struct ctl_conn *c, enum ctl_code code, const char *msg)
{
	struct ctl_rewrap	*rw = c->rewrap;

	log_info("rewrap of signer %s: %s", rw->signer, msg);
	evtimer_del(&rw->deadline);
	free(rw->ids);
	free(rw);
	c->rewrap = NULL;
	control_result(c, code, msg);
}

static void
control_rewrap_deadline(int fd, short event, void *arg)
{
	struct ctl_conn		*c = arg;
	char			 msg[256];

	(void)snprintf(msg, sizeof(msg), "signer %s did not answer within "
	    "%d s for %s; %u keys were rewrapped, run rewrap again",
	    c->rewrap->signer, c->rewrap->timeout, c->rewrap->cur,
	    c->rewrap->moved);
	c->rewrap->sent = 0;
	control_rewrap_done(c, CTL_FAILED, msg);
}

/*
 * An IMSG_HSM_RESULT that answers a rewrap: the new blob replaces the
 * old one, committed at once.  1 if it was one (taken), 0 if not.
 */
int
control_rewrap_result(struct esigner *es, uint32_t id, struct imsg *imsg)
{
	struct ctl_conn		*c;
	struct ctl_rewrap	*rw = NULL;
	struct hsm_result	 res;
	struct ks_object	 o;
	struct ibuf		 ib;
	struct ttlv		*a;
	const uint8_t		*o1, *o2, *o3;
	int			 rv;

	if ((id & CTL_REWRAP_ID) == 0)
		return (0);
	TAILQ_FOREACH(c, &engine->conns, entry)
		if ((rw = c->rewrap) != NULL && rw->sent == id &&
		    rw->signer_id == es->link.signer_id)
			break;
	if (c == NULL) {
		log_debug("signer %s: late rewrap answer %u dropped",
		    es->link.name, id);
		return (1);
	}
	evtimer_del(&rw->deadline);
	rw->sent = 0;
	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    hsm_result_parse(ibuf_data(&ib), ibuf_size(&ib), &res, &o1, &o2,
	    &o3) == -1 || (res.status == 0 && (res.len_out1 < 2 ||
	    o1[0] != 2))) {
		log_warnx("signer %s: malformed rewrap answer",
		    es->link.name);
		control_rewrap_done(c, CTL_FAILED, "the signer sent a "
		    "malformed answer");
		return (1);
	}
	if (res.status != 0) {
		rw->failed++;
		(void)strlcpy(rw->last_error, res.msg, sizeof(rw->last_error));
		control_rewrap_next(c);
		return (1);
	}
	rv = ks_get(engine->ks, rw->cur, &o);
	if (rv == 0 && (o.material_len == 0 || o.material[0] != 1))
		rv = 1;		/* changed meanwhile: leave it */
	if (rv == 0) {
		freezero(o.material, o.material_len);
		if ((o.material = malloc(res.len_out1)) == NULL)
			fatal(NULL);
		memcpy(o.material, o1, res.len_out1);
		o.material_len = res.len_out1;
		/* Its index is written again: the attributes must load. */
		if ((a = attrs_load(&o)) == NULL) {
			ks_object_clear(&o);
			rw->failed++;
			(void)snprintf(rw->last_error, sizeof(rw->last_error),
			    "%s: damaged attributes", rw->cur);
			control_rewrap_next(c);
			return (1);
		}
		kmip_flush();
		if ((rv = ks_begin(engine->ks)) == 0 &&
		    (rv = attrs_write(engine->ks, &o, a, 0)) == 0)
			rv = ks_commit(engine->ks);
		ttlv_free(a);
		if (rv == -1) {
			(void)ks_rollback(engine->ks);
			rw->failed++;
			(void)snprintf(rw->last_error, sizeof(rw->last_error),
			    "%s: keystore: %s", rw->cur, ks_error(engine->ks));
		} else
			rw->moved++;
	}
	ks_object_clear(&o);
	control_rewrap_next(c);
	return (1);
}

/* --- signerctl check ------------------------------------------------- */

/*
 * The self-test of one signer (name) or all (""): each signer child
 * runs its steps (hsmproc/hsmident.c) and the engine adds the identity
 * proof; one IMSG_CTL_CHECK per signer goes to signerctl, then
 * IMSG_CTL_END.  A signer whose child is not running, or does not
 * answer within twice its timeout, fails.
 */
static void
control_check_start(struct ctl_conn *c, const char *name)
{
	struct esigner	*es;
	struct timeval	 tv = { 0, 0 };
	char		 msg[128];
	size_t		 n = 0;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (name[0] == '\0' || strcmp(es->link.name, name) == 0)
			n++;
	if (n == 0) {
		(void)snprintf(msg, sizeof(msg), name[0] != '\0' ?
		    "no signer named \"%s\"" : "no signers%s", name);
		control_result(c, CTL_NOTFOUND, msg);
		return;
	}
	if ((c->check_ids = calloc(n, sizeof(*c->check_ids))) == NULL)
		fatal(NULL);
	c->check_req = ++engine->next_id;
	c->ncheck = 0;
	TAILQ_FOREACH(es, &engine->signers, entry) {
		if (name[0] != '\0' && strcmp(es->link.name, name) != 0)
			continue;
		c->check_ids[c->ncheck++] = es->link.signer_id;
		if (!es->iev.active || es->hung)
			continue;
		imsg_compose_event(&es->iev, IMSG_HSM_CHECK, c->check_req, 0,
		    -1, NULL, 0);
		if (es->link.timeout * 2 > tv.tv_sec)
			tv.tv_sec = es->link.timeout * 2;
	}
	evtimer_add(&c->check_timer, &tv);
	/* Those that cannot answer, last: the last one ends the answer. */
	TAILQ_FOREACH(es, &engine->signers, entry) {
		if (c->check_req == 0)
			break;
		if ((name[0] != '\0' && strcmp(es->link.name, name) != 0) ||
		    (es->iev.active && !es->hung))
			continue;
		control_check_fail(c, es->link.signer_id, "running", "its "
		    "child is not running (%s)",
		    signer_state_name(es->status.state));
	}
}

/* Send one signer's result, and count it answered. */
static void
control_check_send(struct ctl_conn *c, struct esigner *es,
    struct ctl_check *cc)
{
	size_t	 i;

	(void)strlcpy(cc->signer, es->link.name, sizeof(cc->signer));
	imsg_compose_event(&c->iev, IMSG_CTL_CHECK, 0, 0, -1, cc,
	    sizeof(*cc));
	for (i = 0; i < c->ncheck; i++)
		if (c->check_ids[i] == es->link.signer_id) {
			control_check_done(c, i);
			return;
		}
}

/* A signer's check that could not run: one failed step. */
static void
control_check_fail(struct ctl_conn *c, uint32_t id, const char *step,
    const char *fmt, ...)
{
	struct ctl_check	 cc;
	struct esigner		*es;
	va_list			 ap;
	size_t			 i;

	for (i = 0; i < c->ncheck; i++)
		if (c->check_ids[i] == id)
			break;
	if (i == c->ncheck)
		return;
	if ((es = esigner_find(id)) == NULL) {
		control_check_done(c, i);
		return;
	}
	memset(&cc, 0, sizeof(cc));
	cc.nsteps = 1;
	(void)strlcpy(cc.steps[0].name, step, sizeof(cc.steps[0].name));
	cc.steps[0].result = CHECK_FAIL;
	va_start(ap, fmt);
	(void)vsnprintf(cc.steps[0].detail, sizeof(cc.steps[0].detail), fmt,
	    ap);
	va_end(ap);
	control_check_send(c, es, &cc);
}

/* Signer i answered: drop it; when none is left, the end. */
static void
control_check_done(struct ctl_conn *c, size_t i)
{
	if (c->ncheck > 0) {
		c->check_ids[i] = c->check_ids[c->ncheck - 1];
		c->ncheck--;
	}
	if (c->ncheck > 0)
		return;
	evtimer_del(&c->check_timer);
	free(c->check_ids);
	c->check_ids = NULL;
	c->check_req = 0;
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}

static void
control_check_timeout(int fd, short event, void *arg)
{
	struct ctl_conn	*c = arg;

	while (c->check_req != 0 && c->ncheck > 0)
		control_check_fail(c, c->check_ids[0], "answer", "no answer "
		    "from the signer in time");
}

/*
 * IMSG_HSM_CHECK from a signer, for the connection that asked.  -1: a
 * malformed message (the signer's channel is closed).
 */
int
control_check_answer(struct esigner *es, struct imsg *imsg)
{
	struct ctl_conn		*c;
	struct ctl_check	 cc;
	struct ibuf		 ib;
	size_t			 i;

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    hsm_check_parse(ibuf_data(&ib), ibuf_size(&ib), &cc) == -1)
		return (-1);
	TAILQ_FOREACH(c, &engine->conns, entry) {
		if (c->check_req == 0 || c->check_req != imsg_get_id(imsg))
			continue;
		for (i = 0; i < c->ncheck; i++)
			if (c->check_ids[i] == es->link.signer_id)
				break;
		if (i == c->ncheck)
			return (0);	/* answered already */
		ident_check_step(es, &cc);
		control_check_send(c, es, &cc);
		return (0);
	}
	return (0);
}

/* A signer's channel is gone: the checks it owed fail. */
void
control_check_lost(struct esigner *es)
{
	struct ctl_conn	*c, *tc;

	TAILQ_FOREACH_SAFE(c, &engine->conns, entry, tc)
		if (c->check_req != 0)
			control_check_fail(c, es->link.signer_id, "answer",
			    "the signer stopped during the check");
}
