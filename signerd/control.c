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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attrs.h"
#include "engine.h"
#include "keystore.h"
#include "kmip.h"
#include "kreq.h"
#include "log.h"

/* Damaged objects listed in one answer, at most. */
#define CTL_DAMAGED_MAX		1000

struct damaged_scan {
	struct ctl_conn	*c;
	unsigned int	 n;
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
static int		 control_text_ok(const char *);
static void		 control_signers_timeout(int, short, void *);
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
	evtimer_del(&c->timer);
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
	case IMSG_CTL_RELOAD:
		return (len == 0 ? CTL_MSG_OK : CTL_MSG_BAD);
	case IMSG_CTL_RESTART:
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
	char			 names[ATTR_NAMES_MAX][KS_NAME_MAX];
	char			*np[ATTR_NAMES_MAX];
	char			 msg[256], why[128];
	size_t			 n, i;
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
		n = attr_names(a, names, ATTR_NAMES_MAX);
		for (i = 0; i < n; i++)
			np[i] = names[i];
		if ((rv = ks_begin(engine->ks)) == 0 &&
		    (rv = ks_update(engine->ks, &o, (const char * const *)np,
		    n)) == 0)
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
		imsg_compose_event(&c->iev, IMSG_CTL_SIGNER, 0, 0, -1, &cs,
		    sizeof(cs));
	}
	free(v);
	imsg_compose_event(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}
