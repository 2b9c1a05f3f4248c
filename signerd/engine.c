/*
 * The engine process: a re-execution of signerd with -P engine.
 *
 * It receives its channels from the parent: the control socket, the
 * frontend, one socket per signer child.  In this skeleton it keeps the
 * process table for signerctl, asks the signers for their status and
 * answers KMIP requests with "not yet".
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "attrs.h"
#include "audit.h"
#include "engine.h"
#include "keystore.h"
#include "kreq.h"
#include "metrics.h"
#include "policy.h"

static void	 engine_dispatch_parent(int, short, void *);
static void	 engine_dispatch_frontend(int, short, void *);
static void	 engine_dispatch_signer(int, short, void *);
static void	 engine_proc_update(const struct proc_info *);
static void	 engine_signer_add(int, const struct signer_link *);
static void	 engine_signer_del(uint32_t);
static void	 engine_audit_configure(void);

struct engine	*engine;

__dead void
engine_main(const char *user, const char *keystore, int debug, int verbose)
{
	char		 dir[PATH_MAX], err[512], *base;
	struct esigner	*es;
	struct eproc	*ep;

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit("engine");
	setproctitle("engine");

	if ((engine = calloc(1, sizeof(*engine))) == NULL)
		fatal(NULL);
	TAILQ_INIT(&engine->signers);
	TAILQ_INIT(&engine->procs);
	TAILQ_INIT(&engine->conns);
	engine->control_fd = -1;
	metrics_init();

	/* The keystore's directory is all the engine sees of the disk. */
	if (strlcpy(dir, keystore, sizeof(dir)) >= sizeof(dir) ||
	    (base = strrchr(dir, '/')) == NULL || base == dir)
		fatalx("bad keystore path %s", keystore);
	*base++ = '\0';
	priv_drop(user, dir);
	(void)umask(077);
	if (ks_open(base, &engine->ks, err, sizeof(err)) == -1)
		fatalx("keystore %s: %s", keystore, err);
	if (ks_needs_reindex(engine->ks)) {
		/* Once, from a keystore of an older signerd. */
		log_info("keystore %s: indexing every object for Locate",
		    keystore);
		if (ks_reindex(engine->ks, attrs_reindex,
		    attrs_reindex_done) == -1)
			fatalx("keystore %s: %s", keystore,
			    ks_error(engine->ks));
	}
	if (policy_load(engine->ks, err, sizeof(err)) == -1)
		fatalx("keystore %s: %s", keystore, err);
	event_init();
	audit_thread_start();	/* the sandbox covers it too (TSYNC) */
	sandbox_apply(SANDBOX_ENGINE);

	child_signals();

	if (imsgev_init(&engine->parent, PARENT_SOCK_FILENO,
	    engine_dispatch_parent, NULL, IMSG_MAX_INTERNAL, 1) == -1)
		fatal("parent channel");

	event_dispatch();

	control_close_all();
	kmip_shutdown();
	policy_free();
	audit_close();
	ks_close(engine->ks);
	imsgev_clear(&engine->frontend);
	while ((es = TAILQ_FIRST(&engine->signers)) != NULL)
		engine_signer_del(es->link.signer_id);
	while ((ep = TAILQ_FIRST(&engine->procs)) != NULL) {
		TAILQ_REMOVE(&engine->procs, ep, entry);
		free(ep);
	}
	imsgev_clear(&engine->parent);
	free(engine);
	log_debug("exiting");
	exit(0);
}

static void
engine_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = &engine->parent;
	struct imsg		 imsg;
	struct proc_info	 pi;
	struct signer_link	 sl;
	struct conf_identity	 ci;
	char			 admin[256];
	ssize_t			 n;
	int			 rfd;

	if (imsgev_io(iev, event) == -1) {
		log_debug("parent gone");
		event_loopexit(NULL);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("imsg_get");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_SOCKET_CONTROL:
			if ((rfd = imsg_get_fd(&imsg)) == -1)
				fatalx("control socket without fd");
			control_listen(rfd);
			break;
		case IMSG_SOCKET_FRONTEND:
			child_link(&engine->frontend, &imsg,
			    engine_dispatch_frontend, NULL);
			log_debug("linked to the frontend");
			break;
		case IMSG_SOCKET_SIGNER:
			if (imsg_get_data(&imsg, &sl, sizeof(sl)) == -1)
				fatalx("bad IMSG_SOCKET_SIGNER");
			strterm(sl.name, sizeof(sl.name));
			if ((rfd = imsg_get_fd(&imsg)) == -1)
				fatalx("signer socket without fd");
			engine_signer_add(rfd, &sl);
			break;
		case IMSG_SIGNER_DEL:
			if (imsg_get_data(&imsg, &sl, sizeof(sl)) == -1)
				fatalx("bad IMSG_SIGNER_DEL");
			engine_signer_del(sl.signer_id);
			break;
		case IMSG_CONF_ENGINE:
			if (imsg_get_data(&imsg, &engine->conf,
			    sizeof(engine->conf)) == -1)
				fatalx("bad IMSG_CONF_ENGINE");
			strterm(engine->conf.keystore,
			    sizeof(engine->conf.keystore));
			strterm(engine->conf.default_signer,
			    sizeof(engine->conf.default_signer));
			strterm(engine->conf.oneoff_signer,
			    sizeof(engine->conf.oneoff_signer));
			strterm(engine->conf.audit_file,
			    sizeof(engine->conf.audit_file));
			if (engine->conf.nmembers < 0 ||
			    engine->conf.nmembers > (int)(sizeof(
			    engine->conf.members) /
			    sizeof(engine->conf.members[0])))
				fatalx("bad control group member count");
			engine->configured = 0;
			/* The admins of this configuration follow. */
			free(engine->admins);
			engine->admins = NULL;
			engine->nadmins = 0;
			policy_conf_start();
			break;
		case IMSG_CONF_IDENTITY:
			if (imsg_get_data(&imsg, &ci, sizeof(ci)) == -1)
				fatalx("bad IMSG_CONF_IDENTITY");
			policy_conf_identity(&ci);
			explicit_bzero(&ci, sizeof(ci));
			break;
		case IMSG_CONF_ADMIN:
			if (imsg_get_len(&imsg) == 0 ||
			    imsg_get_len(&imsg) > sizeof(admin) ||
			    imsg_get_data(&imsg, admin,
			    imsg_get_len(&imsg)) == -1)
				fatalx("bad IMSG_CONF_ADMIN");
			strterm(admin, imsg_get_len(&imsg));
			if ((engine->admins = reallocarray(engine->admins,
			    engine->nadmins + 1, sizeof(*engine->admins))) ==
			    NULL)
				fatal(NULL);
			(void)strlcpy(engine->admins[engine->nadmins++], admin,
			    sizeof(*engine->admins));
			log_debug("admin %s", admin);
			break;
		case IMSG_CONF_DONE:
			policy_conf_done();
			engine->configured = 1;
			engine_audit_configure();
			log_debug("configured");
			break;
		case IMSG_PROC_INFO:
			if (imsg_get_data(&imsg, &pi, sizeof(pi)) == -1)
				fatalx("bad IMSG_PROC_INFO");
			strterm(pi.name, sizeof(pi.name));
			engine_proc_update(&pi);
			break;
		case IMSG_CTL_VERBOSE:
			child_verbose(&imsg);
			break;
		case IMSG_CTL_RESULT:
			control_parent_result(imsg_get_id(&imsg), &imsg);
			break;
		default:
			fatalx("unexpected imsg %u from the parent",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	imsg_event_add(iev);
}

/* KMIP requests, each answered by kmip.c. */
static void
engine_dispatch_frontend(int fd, short event, void *arg)
{
	struct imsgev	*iev = &engine->frontend;
	struct imsg	 imsg;
	struct fe_hdr	 hdr;
	struct ibuf	 ib;
	ssize_t		 n;

	if (imsgev_io(iev, event) == -1) {
		log_debug("frontend gone");
		imsgev_clear(iev);
		return;
	}
	/* The records of the items this ends: one write, at the end. */
	audit_hold();
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1) {
			log_warn("frontend: bad imsg, dropping the channel");
			imsgev_clear(iev);
			audit_release();
			return;
		}
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_FE_REQUEST:
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    ibuf_get(&ib, &hdr, sizeof(hdr)) == -1) {
				log_warnx("frontend: short request");
				break;
			}
			kmip_request(&hdr, ibuf_data(&ib), ibuf_size(&ib));
			break;
		case IMSG_FE_STATS:
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    metrics_frontend(ibuf_data(&ib), ibuf_size(&ib)) ==
			    -1)
				log_warnx("frontend: bad IMSG_FE_STATS");
			break;
		case IMSG_FE_CLOSED:
			if (imsg_get_data(&imsg, &hdr, sizeof(hdr)) == -1) {
				log_warnx("frontend: bad IMSG_FE_CLOSED");
				break;
			}
			kop_stream_conn_closed(hdr.conn_id);
			break;
		case IMSG_FE_REFUSED:
			/* A client refused before the engine knew of it. */
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    audit_refused(ibuf_data(&ib), ibuf_size(&ib)) ==
			    -1)
				log_warnx("frontend: bad IMSG_FE_REFUSED");
			break;
		default:
			log_warnx("frontend: unexpected imsg %u",
			    imsg_get_type(&imsg));
			break;
		}
		imsg_free(&imsg);
	}
	audit_release();
	imsg_event_add(iev);
}

struct esigner *
esigner_find(uint32_t id)
{
	struct esigner	*es;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (es->link.signer_id == id)
			return (es);
	return (NULL);
}

static void
engine_signer_add(int fd, const struct signer_link *sl)
{
	struct esigner	*es;

	if ((es = esigner_find(sl->signer_id)) != NULL) {
		/*
		 * A new channel: we or the signer restarted.  What was
		 * sent on the old one will not be answered on this one.
		 */
		if (es->iev.active) {
			imsgev_clear(&es->iev);
			kmip_signer_lost(es, NULL);
			control_check_lost(es);
		}
	} else {
		if ((es = calloc(1, sizeof(*es))) == NULL)
			fatal(NULL);
		ident_init(es);
		TAILQ_INSERT_TAIL(&engine->signers, es, entry);
	}
	ident_reset(es);
	es->link = *sl;
	if (es->link.timeout <= 0)
		es->link.timeout = SIGNER_TIMEOUT_DEFAULT;
	es->status.state = SSTATE_UNKNOWN;
	es->hung = 0;
	if (imsgev_init(&es->iev, fd, engine_dispatch_signer, es,
	    IMSG_MAX_INTERNAL, 0) == -1)
		fatal("signer channel");
	log_debug("linked to signer %s (id %u)", sl->name, sl->signer_id);
}

static void
engine_signer_del(uint32_t id)
{
	struct esigner	*es;
	struct eproc	*ep;

	if ((es = esigner_find(id)) != NULL) {
		imsgev_clear(&es->iev);
		kmip_signer_lost(es, "was removed from the configuration");
		control_check_lost(es);
		ident_reset(es);
		TAILQ_REMOVE(&engine->signers, es, entry);
		free(es);
	}
	TAILQ_FOREACH(ep, &engine->procs, entry)
		if (ep->pi.kind == PROC_HSM && ep->pi.signer_id == id) {
			TAILQ_REMOVE(&engine->procs, ep, entry);
			free(ep);
			break;
		}
}

static void
engine_dispatch_signer(int fd, short event, void *arg)
{
	struct esigner	*es = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgev_io(&es->iev, event) == -1) {
		log_debug("signer %s: channel closed", es->link.name);
		imsgev_clear(&es->iev);
		ident_reset(es);
		es->status.state = SSTATE_UNKNOWN;
		es->hung = 0;
		kmip_signer_lost(es, NULL);
		control_check_lost(es);
		return;
	}
	/* The records of the items this ends: one write, at the end. */
	audit_hold();
	for (;;) {
		if ((n = imsg_get(&es->iev.ibuf, &imsg)) == -1)
			goto bad;
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_HSM_RESULT:
			if (control_rewrap_result(es, imsg_get_id(&imsg),
			    &imsg) == 0)
				kmip_signer_result(es, imsg_get_id(&imsg),
				    &imsg);
			break;
		case IMSG_HSM_RESULTS:
			kmip_signer_results(es, &imsg);
			break;
		case IMSG_KEK_CHECK:
			if (control_kek_check(es, &imsg) == -1) {
				imsg_free(&imsg);
				goto bad;
			}
			break;
		case IMSG_HSM_STATUS:
			/* Shown as the child says once it proved itself. */
			if (ident_status(es, &imsg) == -1) {
				imsg_free(&imsg);
				goto bad;
			}
			if (imsg_get_id(&imsg) != 0) {
				es->answered = imsg_get_id(&imsg);
				control_status_answer(es->answered);
			}
			if (esigner_ready(es))
				kmip_signer_ready(es);
			else if (es->status.state == SSTATE_LOCKED ||
			    es->status.state == SSTATE_UNSUPPORTED)
				kmip_signer_lost(es, es->status.state ==
				    SSTATE_LOCKED ? "is locked (wrong PIN): "
				    "fix it and reload" : "is not supported "
				    "by this build");
			else if (es->status.state == SSTATE_WRONG_TOKEN)
				kmip_signer_lost(es, es->status.detail);
			break;
		case IMSG_HSM_IDENTITY:
			if (ident_answer(es, &imsg) == -1) {
				imsg_free(&imsg);
				goto bad;
			}
			break;
		case IMSG_HSM_CHECK:
			if (control_check_answer(es, &imsg) == -1) {
				imsg_free(&imsg);
				goto bad;
			}
			break;
		default:
			log_warnx("signer %s: unexpected imsg %u",
			    es->link.name, imsg_get_type(&imsg));
			imsg_free(&imsg);
			goto bad;
		}
		imsg_free(&imsg);
	}
	audit_release();
	imsg_event_add(&es->iev);
	return;
 bad:
	audit_release();
	/* A signer that talks nonsense is cut off; it shows as unknown. */
	log_warnx("signer %s: bad message, closing its channel",
	    es->link.name);
	imsgev_clear(&es->iev);
	ident_reset(es);
	es->status.state = SSTATE_UNKNOWN;
	kmip_signer_lost(es, NULL);
	control_check_lost(es);
}

/*
 * A signer missed the deadline of a request: stop sending it anything
 * and ask the parent to kill and restart it.  Asked once per channel;
 * the pid says which child, so that a late word cannot hit its
 * successor.
 */
void
engine_signer_hung(struct esigner *es, int timeout)
{
	struct signer_hung	 sh;
	struct eproc		*ep;

	if (es->hung || !es->iev.active)
		return;
	es->hung = 1;
	es->hung_timeout = timeout;
	memset(&sh, 0, sizeof(sh));
	sh.signer_id = es->link.signer_id;
	sh.timeout = timeout;
	TAILQ_FOREACH(ep, &engine->procs, entry)
		if (ep->pi.kind == PROC_HSM &&
		    ep->pi.signer_id == es->link.signer_id)
			sh.pid = ep->pi.pid;
	log_warnx("signer %s (pid %lld) missed its %d s deadline: asking "
	    "for a restart", es->link.name, (long long)sh.pid, timeout);
	if (engine->parent.active)
		imsg_compose_event(&engine->parent, IMSG_SIGNER_HUNG, 0, 0, -1,
		    &sh, sizeof(sh));
}

/*
 * What `show signers` says of a signer: its answer to status request
 * req, else what the engine and the parent know of it.
 */
void
esigner_view(const struct esigner *es, const struct proc_info *pi,
    uint32_t req, struct signer_status *st)
{
	memset(st, 0, sizeof(*st));
	if (es != NULL && es->hung) {
		st->state = SSTATE_HUNG;
		(void)snprintf(st->detail, sizeof(st->detail), "no answer "
		    "within %d s; being restarted", es->hung_timeout);
	} else if (es != NULL && es->answered == req)
		*st = es->status;
	else if (es != NULL && es->iev.active &&
	    pi->state == PSTATE_RUNNING) {
		/* Its event loop did not run for a second. */
		st->state = SSTATE_HUNG;
		(void)strlcpy(st->detail, "not answering",
		    sizeof(st->detail));
	} else if (pi->state == PSTATE_BACKOFF ||
	    pi->state == PSTATE_STOPPING ||
	    (pi->state == PSTATE_RUNNING && es != NULL && !es->iev.active)) {
		st->state = SSTATE_RESTARTING;
		(void)strlcpy(st->detail, "requests for its keys are held",
		    sizeof(st->detail));
	} else {
		st->state = SSTATE_UNKNOWN;
		(void)strlcpy(st->detail, pi->state == PSTATE_RUNNING ?
		    "no answer" : "not running", sizeof(st->detail));
	}
}

/* Ask every linked signer for its status; answers carry id. */
void
engine_status_request(uint32_t id)
{
	struct esigner	*es;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (es->iev.active)
			imsg_compose_event(&es->iev, IMSG_HSM_STATUS_REQ, id,
			    0, -1, NULL, 0);
}

static void
engine_proc_update(const struct proc_info *pi)
{
	struct eproc	*ep;

	TAILQ_FOREACH(ep, &engine->procs, entry)
		if (ep->pi.kind == pi->kind &&
		    ep->pi.signer_id == pi->signer_id)
			break;
	if (ep == NULL) {
		if ((ep = calloc(1, sizeof(*ep))) == NULL)
			fatal(NULL);
		TAILQ_INSERT_TAIL(&engine->procs, ep, entry);
	}
	ep->pi = *pi;
}

/* The audit trail, in the keystore's directory: opened, or changed. */
static void
engine_audit_configure(void)
{
	static int	 restored;
	char		 dir[PATH_MAX], *p, *lines = NULL;
	size_t		 len = 0;

	(void)strlcpy(dir, engine->conf.keystore, sizeof(dir));
	if ((p = strrchr(dir, '/')) != NULL && p != dir)
		*p = '\0';
	/*
	 * Once: the records the keystore kept of committed turns go back to
	 * the file if it lost them (power loss), then are forgotten.
	 */
	if (!restored && ks_audit_get(engine->ks, &lines, &len,
	    64 * 1024 * 1024) == -1)
		log_warnx("audit: %s", ks_error(engine->ks));
	if (audit_configure(&engine->conf, dir, lines, len) == 0 &&
	    !restored) {
		restored = 1;
		if (ks_begin(engine->ks) == -1 ||
		    ks_audit_trim(engine->ks, INT64_MAX) == -1 ||
		    ks_commit(engine->ks) == -1)
			log_warnx("audit: %s", ks_error(engine->ks));
	}
	free(lines);
}

/* Whether a client identity is an admin of the configuration. */
int
engine_admin(const char *identity)
{
	size_t	 i;

	if (identity[0] == '\0')
		return (0);
	for (i = 0; i < engine->nadmins; i++)
		if (strcmp(engine->admins[i], identity) == 0)
			return (1);
	return (0);
}
