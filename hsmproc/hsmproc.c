/*
 * signerd-hsm: the signer child.
 *
 * Started by the parent with its channel on fd 3.  It drops privileges at
 * once (it needs none: the parent sends its configuration and PIN), waits
 * for its signer's setup, connects the backend (for PKCS#11: load the
 * module, find the token, log in), and only then enters its sandbox,
 * since a vendor module needs files and memory mappings to start.
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"

extern char		**environ;

static __dead void	 usage(void);
static void		 hsm_dispatch_parent(int, short, void *);
static void		 hsm_dispatch_engine(int, short, void *);
static void		 hsm_start(struct hsm *);
static void		 hsm_retry(int, short, void *);
static void		 hsm_status_send(struct hsm *, uint32_t);

static struct hsm	*hsm;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: %s [-dv] -n signer -u user\n", SIGNERD_HSM);
	fprintf(stderr, "(started by signerd, not by hand)\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char	*name = NULL, *user = NULL;
	char		 title[128];
	int		 ch, debug = 0, verbose = 0;

	/* Before getopt: it moves argv, where optarg points. */
	setproctitle_init(argc, argv, environ);
	while ((ch = getopt(argc, argv, "dn:u:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'n':
			name = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (name == NULL || user == NULL || optind != argc)
		usage();

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	(void)snprintf(title, sizeof(title), "signer/%s", name);
	log_procinit(title);
	setproctitle("signer %s", name);

	if ((hsm = calloc(1, sizeof(*hsm))) == NULL)
		fatal(NULL);
	hsm->status.state = SSTATE_STARTING;

	priv_drop(user, NULL);
	event_init();

	child_signals();
	evtimer_set(&hsm->retry, hsm_retry, hsm);

	if (imsgev_init(&hsm->parent, PARENT_SOCK_FILENO, hsm_dispatch_parent,
	    hsm, IMSG_MAX_INTERNAL, 1) == -1)
		fatal("parent channel");

	event_dispatch();

	if (hsm->be != NULL)
		hsm->be->stop(hsm);
	p11_kek_clear(hsm);
	imsgev_clear(&hsm->engine);
	imsgev_clear(&hsm->parent);
	freezero(hsm, sizeof(*hsm));
	exit(0);
}

/*
 * Set the signer's state and its reason.  A change of either is logged
 * once and sent to the engine; the same state for the same reason again
 * (a retry that fails the same way) is not.
 */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
	va_list	 ap;
	char	 old[sizeof(h->status.detail)];
	int	 changed;

	(void)strlcpy(old, h->status.detail, sizeof(old));
	changed = h->status.state != (int32_t)state;
	h->status.state = state;
	va_start(ap, fmt);
	(void)vsnprintf(h->status.detail, sizeof(h->status.detail), fmt, ap);
	va_end(ap);
	if (changed || strcmp(old, h->status.detail) != 0) {
		if (state == SSTATE_READY)
			log_info("%s", h->status.detail);
		else if (state != SSTATE_STARTING)
			log_warnx("%s: %s", signer_state_name(state),
			    h->status.detail);
		hsm_status_send(h, 0);
	}
}

static void
hsm_status_send(struct hsm *h, uint32_t id)
{
	if (!h->engine.active)
		return;
	if (h->be != NULL && h->be->stats != NULL)
		h->be->stats(h, &h->status);
	hsm_stat_fill(&h->status);
	imsg_compose_event(&h->engine, IMSG_HSM_STATUS, id, 0, -1,
	    &h->status, sizeof(h->status));
}

/* The backend found the signer gone: start it over soon. */
void
hsm_retry_soon(struct hsm *h)
{
	struct timeval	 tv = { HSM_RETRY_MIN_S, 0 };

	if (evtimer_pending(&h->retry, NULL))
		return;
	h->retry_s = HSM_RETRY_MIN_S;
	evtimer_add(&h->retry, &tv);
}

static void
hsm_start(struct hsm *h)
{
	struct timeval	 tv;
	int		 rv;

	rv = h->be->start(h);
	if (!h->sandboxed) {
		/* Module loaded and logged in: from now on, steady state. */
		sandbox_apply(SANDBOX_HSM);
		h->sandboxed = 1;
	}
	if (rv == 0) {
		h->retry_s = 0;
		return;
	}
	if (rv == -2)
		return;		/* locked or unsupported: wait for a reload */
	if (h->retry_s == 0)
		h->retry_s = HSM_RETRY_MIN_S;
	else if ((h->retry_s *= 2) > HSM_RETRY_MAX_S)
		h->retry_s = HSM_RETRY_MAX_S;
	tv.tv_sec = h->retry_s;
	tv.tv_usec = 0;
	evtimer_add(&h->retry, &tv);
	log_debug("retrying in %d s", h->retry_s);
}

static void
hsm_retry(int fd, short event, void *arg)
{
	struct hsm	*h = arg;

	h->be->stop(h);
	hsm_start(h);
}

static void
hsm_dispatch_parent(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	struct imsgev	*iev = &h->parent;
	struct imsg	 imsg;
	struct ibuf	 ib;
	ssize_t		 n;

	if (imsgev_io(iev, event) == -1) {
		/* Without a parent there is nobody to restart us. */
		event_loopexit(NULL);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("imsg_get");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_CONF_SIGNER:
			if (h->be != NULL)
				fatalx("second IMSG_CONF_SIGNER");
			if (imsg_get_data(&imsg, &h->setup,
			    sizeof(h->setup)) == -1)
				fatalx("bad IMSG_CONF_SIGNER");
			strterm(h->setup.name, sizeof(h->setup.name));
			strterm(h->setup.module, sizeof(h->setup.module));
			strterm(h->setup.token, sizeof(h->setup.token));
			strterm(h->setup.serial, sizeof(h->setup.serial));
			strterm(h->setup.wrap_with, sizeof(h->setup.wrap_with));
			strterm(h->setup.kek_file, sizeof(h->setup.kek_file));
			strterm(h->setup.host, sizeof(h->setup.host));
			switch (h->setup.type) {
			case SIGNER_PKCS11:
				h->be = &hsm_pkcs11;
				break;
			case SIGNER_OPENSSL:
				h->be = &hsm_openssl;
				break;
			case SIGNER_KMIP:
				h->be = &hsm_kmip;
				break;
			default:
				fatalx("unknown signer type %d",
				    h->setup.type);
			}
			break;
		case IMSG_CONF_PIN:
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    ibuf_size(&ib) >= sizeof(h->pin))
				fatalx("bad IMSG_CONF_PIN");
			h->pinlen = ibuf_size(&ib);
			memcpy(h->pin, ibuf_data(&ib), h->pinlen);
			/* Wipe the received copy before imsg_free. */
			explicit_bzero(ibuf_data(&ib), h->pinlen);
			h->has_pin = 1;
			break;
		case IMSG_CONF_KEK:
			/* Sent before the setup; taken over by the backend. */
			if (h->has_kek || h->sandboxed ||
			    imsg_get_ibuf(&imsg, &ib) == -1 ||
			    ibuf_size(&ib) != sizeof(h->kek))
				fatalx("bad IMSG_CONF_KEK");
			memcpy(h->kek, ibuf_data(&ib), sizeof(h->kek));
			explicit_bzero(ibuf_data(&ib), sizeof(h->kek));
			h->has_kek = 1;
			break;
		case IMSG_CONF_DONE:
			if (h->be == NULL)
				fatalx("IMSG_CONF_DONE before the setup");
			hsm_start(h);
			/* The backend copied what it needs. */
			explicit_bzero(h->kek, sizeof(h->kek));
			h->has_kek = 0;
			break;
		case IMSG_SOCKET_ENGINE:
			/* Answers still owed to the last engine are dropped. */
			h->engine_gen++;
			hsm_stat_forget();
			child_link(&h->engine, &imsg, hsm_dispatch_engine, h);
			if (h->setup.type == SIGNER_OPENSSL)
				soft_engine_linked(h);
			hsm_status_send(h, 0);
			break;
		case IMSG_SOCKET_KEK:
			/* Between an openssl signer and its `wrap with'. */
			if (h->be == &hsm_pkcs11)
				p11_kek_link(h, &imsg);
			else if (h->be == &hsm_openssl &&
			    h->setup.wrap_with[0] != '\0')
				soft_kek_link(h, &imsg);
			else
				fatalx("unexpected IMSG_SOCKET_KEK");
			break;
		case IMSG_HSM_PING:
			/* Answered from the main loop: a hang shows. */
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_HSM_PING");
			imsg_compose_event(iev, IMSG_HSM_PONG,
			    imsg_get_id(&imsg), 0, -1, NULL, 0);
			break;
		case IMSG_CTL_VERBOSE:
			child_verbose(&imsg);
			break;
		default:
			fatalx("unexpected imsg %u from the parent",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	imsg_event_add(iev);
}

/*
 * Requests from the engine.  A malformed one is fatal: the parent starts
 * a clean child, as OpenSSH does with its PKCS#11 helper.
 */
static void
hsm_dispatch_engine(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	struct imsgev	*iev = &h->engine;
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgev_io(iev, event) == -1) {
		/* The engine restarts; the parent sends a new channel. */
		imsgev_clear(iev);
		h->engine_gen++;
		return;
	}
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("engine imsg_get");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_HSM_STATUS_REQ:
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_HSM_STATUS_REQ");
			if (h->status.state == SSTATE_READY &&
			    h->be->check(h) == -1)
				hsm_retry_soon(h);
			hsm_status_send(h, imsg_get_id(&imsg));
			break;
		case IMSG_HSM_GENERATE:
		case IMSG_HSM_IMPORT:
		case IMSG_HSM_OP:
		case IMSG_HSM_FIND:
		case IMSG_HSM_LABEL:
			hsm_stat_begin(imsg_get_id(&imsg));
			hsm_request(h, iev, &imsg);
			break;
		case IMSG_HSM_IDENTITY:
			hsm_identity(h, iev, &imsg);
			break;
		case IMSG_HSM_CHECK:
			hsm_check(h, iev, &imsg);
			break;
		case IMSG_HSM_OPS:
			hsm_request_multi(h, iev, &imsg);
			break;
		case IMSG_KEK_CHECK:
			if (h->be != &hsm_openssl)
				fatalx("IMSG_KEK_CHECK to a %s signer",
				    h->be != NULL ? h->be->name : "new");
			soft_check_answer(h, &imsg);
			break;
		case IMSG_HSM_REWRAP:
			if (h->be != &hsm_openssl)
				fatalx("IMSG_HSM_REWRAP to a %s signer",
				    h->be != NULL ? h->be->name : "new");
			soft_rewrap(h, iev, &imsg);
			break;
		default:
			fatalx("unexpected imsg %u from the engine",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	imsg_event_add(iev);
}
