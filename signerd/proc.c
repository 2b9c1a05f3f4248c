/*
 * The parent's children: start (fork + exec with the channel on fd 3),
 * configure, link to the engine, stop, reap and restart with backoff.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"

static void	 child_dispatch(int, short, void *);
static void	 child_timer(int, short, void *);
static void	 child_ping(int, short, void *);
static void	 child_ping_schedule(struct child *);
static void	 child_kill_hung(struct child *, const char *);
static int	 child_hung(struct child *, struct imsg *);
static int	 child_pong(struct child *, struct imsg *);
static void	 child_link_engine(struct child *);
static void	 child_setup_engine(struct child *);
static void	 child_setup_hsm(struct child *);
static void	 child_link_kek(struct child *);
static void	 kek_link(struct child *, struct child *);
static char	**child_env(void);
static int	 pin_read(const struct signer_conf *, char *, size_t);
static void	 kek_send(struct child *, const struct signer_conf *);
static ssize_t	 secret_file_read(const struct signer_conf *, const char *,
		    const char *, void *, size_t);
static uint8_t	 hexval(uint8_t);
static void	 child_free(struct child *);
static void	 ctl_result(struct child *, uint32_t, enum ctl_code,
		    const char *);

extern char	**environ;

struct child *
child_new(enum proc_kind kind, struct signer_conf *sc)
{
	struct child	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal(NULL);
	c->kind = kind;
	c->state = PSTATE_STOPPED;
	if (sc != NULL) {
		(void)strlcpy(c->name, sc->name, sizeof(c->name));
		c->sc = sc;
		c->signer_id = ++parent->next_signer_id;
		c->signer_type = sc->type;
	}
	evtimer_set(&c->timer, child_timer, c);
	evtimer_set(&c->ping_ev, child_ping, c);
	TAILQ_INSERT_TAIL(&parent->children, c, entry);
	return (c);
}

struct child *
child_find_signer(const char *name)
{
	struct child	*c;

	TAILQ_FOREACH(c, &parent->children, entry)
		if (c->kind == PROC_HSM && !c->remove &&
		    strcmp(c->name, name) == 0)
			return (c);
	return (NULL);
}

int
children_running(void)
{
	struct child	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &parent->children, entry)
		if (c->pid != 0)
			n++;
	return (n);
}

void
children_broadcast(uint32_t type, const void *data, size_t len)
{
	struct child	*c;

	TAILQ_FOREACH(c, &parent->children, entry)
		if (c->iev.active)
			imsg_compose_event(&c->iev, type, 0, 0, -1, data, len);
}

void
child_start(struct child *c)
{
	char		 path[PATH_MAX], *argv[16], **envp, *user;
	pid_t		 pid;
	int		 sp[2], argc = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    PF_UNSPEC, sp) == -1)
		fatal("socketpair");

	user = parent->conf->user;
	switch (c->kind) {
	case PROC_ENGINE:
		(void)strlcpy(path, parent->self, sizeof(path));
		argv[argc++] = "signerd";
		argv[argc++] = "-P";
		argv[argc++] = "engine";
		argv[argc++] = "-k";
		argv[argc++] = parent->conf->keystore;
		break;
	case PROC_FRONTEND:
		(void)snprintf(path, sizeof(path), "%s/%s", parent->libexec,
		    SIGNERD_FRONTEND);
		argv[argc++] = SIGNERD_FRONTEND;
		argv[argc++] = "-r";
		argv[argc++] = parent->conf->chroot;
		break;
	case PROC_HSM:
		(void)snprintf(path, sizeof(path), "%s/%s", parent->libexec,
		    SIGNERD_HSM);
		argv[argc++] = SIGNERD_HSM;
		argv[argc++] = "-n";
		argv[argc++] = c->name;
		/* Not the engine's user: the keystore stays out of reach. */
		user = parent->conf->hsm_user;
		break;
	default:
		fatalx("%s: unexpected kind %d", __func__, c->kind);
	}
	argv[argc++] = "-u";
	argv[argc++] = user;
	if (parent->debug)
		argv[argc++] = "-d";
	if (log_getverbose())
		argv[argc++] = "-v";
	argv[argc] = NULL;
	envp = child_env();

	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		if (sp[1] == PARENT_SOCK_FILENO) {
			if (fcntl(sp[1], F_SETFD, 0) == -1)
				_exit(1);
		} else if (dup2(sp[1], PARENT_SOCK_FILENO) == -1)
			_exit(1);
		closefrom(PARENT_SOCK_FILENO + 1);
		execve(path, argv, envp);
		log_warn("exec %s", path);
		_exit(1);
	}

	free(envp);
	close(sp[1]);
	if (c->started != 0)
		c->restarts++;
	c->pid = pid;
	c->state = PSTATE_RUNNING;
	c->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &c->started_mono);
	c->restart_now = 0;
	if (imsgev_init(&c->iev, sp[0], child_dispatch, c, IMSG_MAX_INTERNAL,
	    1) == -1)
		fatal("imsgev_init");
	log_debug("started %s %s pid %d", proc_kind_name(c->kind), c->name,
	    (int)pid);

	switch (c->kind) {
	case PROC_ENGINE:
		child_setup_engine(c);
		break;
	case PROC_FRONTEND:
		child_send_frontend_conf(c);
		child_link_engine(c);
		break;
	case PROC_HSM:
		child_setup_hsm(c);
		child_link_engine(c);
		/*
		 * The first ping now: it is answered right after the
		 * backend started, so the start grace ends with the start.
		 */
		c->ping_wait = 0;
		c->ping_answered = 0;
		child_ping(-1, 0, c);
		break;
	default:
		break;
	}
	proc_info_notify(c);
}

/*
 * Liveness of a signer child: a ping every half of its timeout (at least
 * every second), answered by its main loop.  A child that leaves one
 * unanswered for its timeout is hung (a PKCS#11 module stuck in C_Sign
 * looks the same as SIGSTOP) and is killed, then restarted as after a
 * crash.  Its first answer, to the ping sent with its setup, may take
 * HSM_START_GRACE_S: a module may take long to load and log in before
 * the loop runs.
 */
static void
child_ping_schedule(struct child *c)
{
	struct timeval	 tv;
	int		 t;

	t = c->sc != NULL && c->sc->timeout > 0 ? c->sc->timeout :
	    SIGNER_TIMEOUT_DEFAULT;
	tv.tv_sec = t / 2 > 0 ? t / 2 : 1;
	tv.tv_usec = 0;
	evtimer_add(&c->ping_ev, &tv);
}

static void
child_ping(int fd, short event, void *arg)
{
	struct child	*c = arg;
	struct timespec	 now;
	long long	 waited;
	int		 limit;

	if (c->pid == 0 || c->state != PSTATE_RUNNING || !c->iev.active ||
	    parent->quitting)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (c->ping_wait != 0) {
		limit = c->sc != NULL && c->sc->timeout > 0 ?
		    c->sc->timeout : SIGNER_TIMEOUT_DEFAULT;
		if (!c->ping_answered && limit < HSM_START_GRACE_S)
			limit = HSM_START_GRACE_S;
		waited = (now.tv_sec - c->ping_sent.tv_sec) * 1000LL +
		    (now.tv_nsec - c->ping_sent.tv_nsec) / 1000000;
		/* The timer may fire a hair early: 50 ms of slack. */
		if (waited >= limit * 1000LL - 50) {
			child_kill_hung(c, "did not answer its liveness "
			    "check");
			return;
		}
	} else {
		if (++c->ping_seq == 0)
			c->ping_seq = 1;
		c->ping_wait = c->ping_seq;
		c->ping_sent = now;
		imsg_compose_event(&c->iev, IMSG_HSM_PING, c->ping_wait, 0,
		    -1, NULL, 0);
	}
	child_ping_schedule(c);
}

/* A signer child is hung: SIGKILL, and the reaper restarts it. */
static void
child_kill_hung(struct child *c, const char *why)
{
	int	 t;

	t = c->sc != NULL && c->sc->timeout > 0 ? c->sc->timeout :
	    SIGNER_TIMEOUT_DEFAULT;
	log_warnx("signer %s (pid %d) %s within %d s: killing it", c->name,
	    (int)c->pid, why, t);
	evtimer_del(&c->ping_ev);
	if (kill(c->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill %d", (int)c->pid);
}

/* IMSG_HSM_PONG from c itself: exactly empty, for the last ping. */
static int
child_pong(struct child *c, struct imsg *imsg)
{
	if (imsg_get_len(imsg) != 0)
		return (-1);
	if (c->ping_wait != 0 && imsg_get_id(imsg) == c->ping_wait) {
		c->ping_wait = 0;
		c->ping_answered = 1;
	}
	return (0);
}

/*
 * IMSG_SIGNER_HUNG from the engine: it gave up on a request.  Only the
 * child the engine waited on is killed, never its successor.
 */
static int
child_hung(struct child *c, struct imsg *imsg)
{
	struct signer_hung	 sh;
	struct child		*t;

	if (imsg_get_data(imsg, &sh, sizeof(sh)) == -1)
		return (-1);
	TAILQ_FOREACH(t, &parent->children, entry)
		if (t->kind == PROC_HSM && t->signer_id == sh.signer_id)
			break;
	if (t == NULL || t->pid == 0 || t->pid != sh.pid ||
	    t->state != PSTATE_RUNNING) {
		log_debug("engine: hung signer %u pid %lld is gone already",
		    sh.signer_id, (long long)sh.pid);
		return (0);
	}
	child_kill_hung(t, "missed the engine's deadline");
	return (0);
}

/*
 * Children get the parent's environment (a PKCS#11 module may need its
 * own variables, SOFTHSM2_CONF say) without the variables that hold PINs
 * or passwords: those reach only their own signer child, over imsg.
 */
static char **
child_env(void)
{
	struct signer_conf	*sc;
	char			**envp;
	size_t			 n, i, j = 0, len;
	int			 secret;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((envp = calloc(n + 1, sizeof(*envp))) == NULL)
		fatal(NULL);
	for (i = 0; i < n; i++) {
		secret = 0;
		TAILQ_FOREACH(sc, &parent->conf->signers, entry) {
			const char *refs[2] = { NULL, NULL };
			int k;

			if (sc->pin_src == SECRET_ENV)
				refs[0] = sc->pin_ref;
			if (sc->password_src == SECRET_ENV)
				refs[1] = sc->password_ref;
			for (k = 0; k < 2; k++) {
				if (refs[k] == NULL)
					continue;
				len = strlen(refs[k]);
				if (strncmp(environ[i], refs[k], len) == 0 &&
				    environ[i][len] == '=')
					secret = 1;
			}
		}
		if (!secret)
			envp[j++] = environ[i];
	}
	envp[j] = NULL;
	return (envp);
}

static void
child_setup_engine(struct child *c)
{
	struct child		*p;
	struct proc_info	 pi;
	int			 fd;

	if ((fd = dup(parent->control_fd)) == -1)
		fatal("dup");
	imsg_compose_event(&c->iev, IMSG_SOCKET_CONTROL, 0, 0, fd, NULL, 0);

	/* The parent itself, then everyone else. */
	memset(&pi, 0, sizeof(pi));
	pi.kind = PROC_PARENT;
	pi.state = PSTATE_RUNNING;
	pi.pid = getpid();
	pi.started = parent->started;
	imsg_compose_event(&c->iev, IMSG_PROC_INFO, 0, 0, -1, &pi, sizeof(pi));
	TAILQ_FOREACH(p, &parent->children, entry) {
		proc_info_fill(p, &pi);
		imsg_compose_event(&c->iev, IMSG_PROC_INFO, 0, 0, -1, &pi,
		    sizeof(pi));
		if (p != c && !p->remove)
			child_link_engine(p);
	}
	child_send_engine_conf(c);
}

void
child_send_engine_conf(struct child *c)
{
	struct engine_conf	 ec;
	struct conf_identity	 ci;
	struct listen_conf	*lc;
	struct name_entry	*ne;
	struct identity_conf	*id;
	struct group		*gr;
	struct passwd		*pw;
	char			**mem;

	if (c == NULL || !c->iev.active)
		return;
	memset(&ec, 0, sizeof(ec));
	ec.control_gid = -1;
	if (parent->conf->control_group != NULL &&
	    (gr = getgrnam(parent->conf->control_group)) != NULL) {
		ec.control_gid = gr->gr_gid;
		for (mem = gr->gr_mem; *mem != NULL; mem++) {
			if (ec.nmembers == (int)(sizeof(ec.members) /
			    sizeof(ec.members[0]))) {
				log_warnx("control group %s: only the first "
				    "%d members are honoured",
				    gr->gr_name, ec.nmembers);
				break;
			}
			if ((pw = getpwnam(*mem)) != NULL)
				ec.members[ec.nmembers++] = pw->pw_uid;
		}
	}
	(void)strlcpy(ec.keystore, parent->conf->keystore,
	    sizeof(ec.keystore));
	ec.max_message = parent->conf->max_message;
	TAILQ_FOREACH(lc, &parent->conf->listeners, entry)
		if (!lc->no_http)
			ec.http = 1;
	ec.audit_on = parent->conf->audit_on;
	ec.audit_syslog = parent->conf->audit_syslog;
	ec.audit_keep = parent->conf->audit_keep;
	ec.audit_rotate = parent->conf->audit_rotate;
	(void)strlcpy(ec.audit_file, parent->conf->audit_file,
	    sizeof(ec.audit_file));
	if (parent->conf->default_signer != NULL)
		(void)strlcpy(ec.default_signer, parent->conf->default_signer,
		    sizeof(ec.default_signer));
	if (parent->conf->oneoff_signer != NULL)
		(void)strlcpy(ec.oneoff_signer, parent->conf->oneoff_signer,
		    sizeof(ec.oneoff_signer));
	imsg_compose_event(&c->iev, IMSG_CONF_ENGINE, 0, 0, -1, &ec,
	    sizeof(ec));
	TAILQ_FOREACH(ne, &parent->conf->admins, entry)
		imsg_compose_event(&c->iev, IMSG_CONF_ADMIN, 0, 0, -1,
		    ne->name, strlen(ne->name) + 1);
	TAILQ_FOREACH(id, &parent->conf->identities, entry) {
		memset(&ci, 0, sizeof(ci));
		(void)strlcpy(ci.name, id->name, sizeof(ci.name));
		if (id->password != NULL)
			(void)strlcpy(ci.password, id->password,
			    sizeof(ci.password));
		if (id->default_signer != NULL)
			(void)strlcpy(ci.default_signer, id->default_signer,
			    sizeof(ci.default_signer));
		ci.ops = id->ops;
		ci.nfp = id->nfp;
		memcpy(ci.fp, id->fp, sizeof(ci.fp));
		imsg_compose_event(&c->iev, IMSG_CONF_IDENTITY, 0, 0, -1, &ci,
		    sizeof(ci));
	}
	imsg_compose_event(&c->iev, IMSG_CONF_DONE, 0, 0, -1, NULL, 0);
}

void
child_send_frontend_conf(struct child *c)
{
	struct frontend_limits	 fl;
	struct listener		*l;
	int			 fd;

	memset(&fl, 0, sizeof(fl));
	fl.max_connections = parent->conf->max_connections;
	fl.max_message = parent->conf->max_message;
	fl.idle_timeout = parent->conf->idle_timeout;
	fl.read_timeout = parent->conf->read_timeout;
	imsg_compose_event(&c->iev, IMSG_CONF_FRONTEND, 0, 0, -1, &fl,
	    sizeof(fl));
	TAILQ_FOREACH(l, &parent->listeners, entry) {
		if ((fd = dup(l->fd)) == -1)
			fatal("dup");
		imsg_compose_event(&c->iev, IMSG_LISTENER, l->id, 0, fd,
		    &l->info, sizeof(l->info));
		imsg_compose_event(&c->iev, IMSG_TLS_CERT, l->id, 0, -1,
		    l->cert.data, l->cert.len);
		imsg_compose_event(&c->iev, IMSG_TLS_KEY, l->id, 0, -1,
		    l->key.data, l->key.len);
		imsg_compose_event(&c->iev, IMSG_TLS_CA, l->id, 0, -1,
		    l->ca.data, l->ca.len);
	}
	imsg_compose_event(&c->iev, IMSG_CONF_DONE, 0, 0, -1, NULL, 0);
}

static void
child_setup_hsm(struct child *c)
{
	struct signer_setup	 ss;
	struct signer_conf	*sc = c->sc;
	char			 pin[256];
	int			 pinlen;

	memset(&ss, 0, sizeof(ss));
	ss.signer_id = c->signer_id;
	ss.type = sc->type;
	(void)strlcpy(ss.name, sc->name, sizeof(ss.name));
	if (sc->module != NULL)
		(void)strlcpy(ss.module, sc->module, sizeof(ss.module));
	if (sc->token != NULL)
		(void)strlcpy(ss.token, sc->token, sizeof(ss.token));
	if (sc->serial != NULL)
		(void)strlcpy(ss.serial, sc->serial, sizeof(ss.serial));
	ss.slot = sc->slot;
	ss.login = sc->login;
	ss.sessions = sc->sessions;
	ss.timeout = sc->timeout;
	ss.keepalive = sc->keepalive;
	if (sc->wrap_with != NULL)
		(void)strlcpy(ss.wrap_with, sc->wrap_with,
		    sizeof(ss.wrap_with));
	if (sc->kek_file != NULL)
		(void)strlcpy(ss.kek_file, sc->kek_file, sizeof(ss.kek_file));
	if (sc->host != NULL)
		(void)strlcpy(ss.host, sc->host, sizeof(ss.host));
	ss.port = sc->port;

	if (sc->type == SIGNER_OPENSSL && sc->kek_file != NULL)
		kek_send(c, sc);
	pinlen = pin_read(sc, pin, sizeof(pin));
	ss.has_pin = pinlen >= 0;
	imsg_compose_event(&c->iev, IMSG_CONF_SIGNER, 0, 0, -1, &ss,
	    sizeof(ss));
	if (pinlen >= 0)
		imsg_compose_event(&c->iev, IMSG_CONF_PIN, 0, 0, -1, pin,
		    pinlen);
	explicit_bzero(pin, sizeof(pin));
	child_link_kek(c);
	imsg_compose_event(&c->iev, IMSG_CONF_DONE, 0, 0, -1, NULL, 0);
}

/*
 * The KEK channels of a signer child that starts: to the pkcs11 signer
 * its `wrap with' names, or (a pkcs11 signer) to each openssl signer
 * that names it.  Made whenever either child starts, so that one that
 * was restarted reaches the other again; a child that is not running
 * gets its channel when it starts.
 */
static void
child_link_kek(struct child *c)
{
	struct child	*t;

	if (c->sc == NULL)
		return;
	if (c->sc->type == SIGNER_OPENSSL && c->sc->wrap_with != NULL) {
		if ((t = child_find_signer(c->sc->wrap_with)) != NULL &&
		    t->sc != NULL && t->sc->type == SIGNER_PKCS11)
			kek_link(c, t);
	} else if (c->sc->type == SIGNER_PKCS11) {
		TAILQ_FOREACH(t, &parent->children, entry)
			if (t->kind == PROC_HSM && !t->remove &&
			    t->sc != NULL && t->sc->type == SIGNER_OPENSSL &&
			    t->sc->wrap_with != NULL &&
			    strcmp(t->sc->wrap_with, c->name) == 0)
				kek_link(t, c);
	}
}

/* One socketpair; each end is told the name of the signer at the other. */
static void
kek_link(struct child *soft, struct child *p11)
{
	char	 name[SIGNER_NAME_MAX];
	int	 sp[2];

	if (!soft->iev.active || !p11->iev.active)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    PF_UNSPEC, sp) == -1)
		fatal("socketpair");
	memset(name, 0, sizeof(name));
	(void)strlcpy(name, soft->name, sizeof(name));
	imsg_compose_event(&p11->iev, IMSG_SOCKET_KEK, 0, 0, sp[0], name,
	    sizeof(name));
	memset(name, 0, sizeof(name));
	(void)strlcpy(name, p11->name, sizeof(name));
	imsg_compose_event(&soft->iev, IMSG_SOCKET_KEK, 0, 0, sp[1], name,
	    sizeof(name));
	log_debug("KEK channel between signers %s and %s", soft->name,
	    p11->name);
}

/*
 * Read a file holding a secret of fewer than bufsz bytes: it must be
 * private to root (check_file_secrecy).  Returns its length, or -1 with
 * the reason logged and buf wiped.
 */
static ssize_t
secret_file_read(const struct signer_conf *sc, const char *what,
    const char *path, void *buf, size_t bufsz)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("signer %s: %s file %s", sc->name, what, path);
		return (-1);
	}
	if (check_file_secrecy(fd, path) == -1) {
		close(fd);
		return (-1);
	}
	n = read(fd, buf, bufsz);
	close(fd);
	if (n < 0 || (size_t)n == bufsz) {
		log_warnx("signer %s: cannot read a %s of less than %zu bytes "
		    "from %s", sc->name, what, bufsz, path);
		explicit_bzero(buf, bufsz);
		return (-1);
	}
	return (n);
}

/*
 * Fetch a signer's PIN from the environment of signerd or from a file.
 * Returns its length, or -1 if there is none (the reason is logged).
 */
static int
pin_read(const struct signer_conf *sc, char *pin, size_t pinsz)
{
	const char	*v;
	ssize_t		 n;
	size_t		 len;

	switch (sc->pin_src) {
	case SECRET_NONE:
		return (-1);
	case SECRET_ENV:
		if ((v = getenv(sc->pin_ref)) == NULL) {
			log_warnx("signer %s: environment variable %s with "
			    "its PIN is not set", sc->name, sc->pin_ref);
			return (-1);
		}
		if ((len = strlen(v)) >= pinsz) {
			log_warnx("signer %s: PIN in %s too long", sc->name,
			    sc->pin_ref);
			return (-1);
		}
		memcpy(pin, v, len);
		return (len);
	case SECRET_FILE:
		if ((n = secret_file_read(sc, "PIN", sc->pin_ref, pin,
		    pinsz)) == -1)
			return (-1);
		while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
			n--;
		return (n);
	}
	return (-1);
}

static uint8_t
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	return ((c | 0x20) - 'a' + 10);
}

/*
 * The key-encryption key of an openssl signer: 32 bytes, in a file of
 * exactly 32 raw bytes or 64 hex digits (and a newline).  Sent to its own
 * signer only; a signer without one reports that it cannot work.
 */
static void
kek_send(struct child *c, const struct signer_conf *sc)
{
	uint8_t		 buf[80], kek[32];
	ssize_t		 n;
	size_t		 i;
	int		 ok = 0;

	if ((n = secret_file_read(sc, "kek", sc->kek_file, buf,
	    sizeof(buf))) == -1)
		return;
	/* Exactly 32 bytes is a raw key, whatever its last byte is. */
	if (n != sizeof(kek))
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
	if (n == sizeof(kek)) {
		memcpy(kek, buf, sizeof(kek));
		ok = 1;
	} else if (n == 2 * sizeof(kek)) {
		ok = 1;
		for (i = 0; i < sizeof(kek) && ok; i++) {
			if (!isxdigit(buf[2 * i]) || !isxdigit(buf[2 * i + 1]))
				ok = 0;
			else
				kek[i] = hexval(buf[2 * i]) << 4 |
				    hexval(buf[2 * i + 1]);
		}
	}
	if (ok)
		imsg_compose_event(&c->iev, IMSG_CONF_KEK, 0, 0, -1, kek,
		    sizeof(kek));
	else
		log_warnx("signer %s: kek file %s must hold 32 bytes, raw or "
		    "as 64 hex digits", sc->name, sc->kek_file);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(kek, sizeof(kek));
}

/* Give peer (frontend or signer) and the engine a channel to each other. */
static void
child_link_engine(struct child *peer)
{
	struct child		*e = parent->engine;
	struct signer_link	 sl;
	int			 sp[2];

	if (e == NULL || !e->iev.active || !peer->iev.active)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    PF_UNSPEC, sp) == -1)
		fatal("socketpair");
	if (peer->kind == PROC_FRONTEND)
		imsg_compose_event(&e->iev, IMSG_SOCKET_FRONTEND, 0, 0, sp[0],
		    NULL, 0);
	else {
		memset(&sl, 0, sizeof(sl));
		sl.signer_id = peer->signer_id;
		sl.type = peer->signer_type;
		(void)strlcpy(sl.name, peer->name, sizeof(sl.name));
		sl.timeout = peer->sc != NULL ? peer->sc->timeout :
		    SIGNER_TIMEOUT_DEFAULT;
		imsg_compose_event(&e->iev, IMSG_SOCKET_SIGNER, 0, 0, sp[0],
		    &sl, sizeof(sl));
	}
	imsg_compose_event(&peer->iev, IMSG_SOCKET_ENGINE, 0, 0, sp[1],
	    NULL, 0);
}

void
proc_info_fill(const struct child *c, struct proc_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->kind = c->kind;
	pi->state = c->state;
	(void)strlcpy(pi->name, c->name, sizeof(pi->name));
	pi->pid = c->pid;
	pi->started = c->started;
	pi->restarts = c->restarts;
	pi->signer_id = c->signer_id;
	pi->type = c->signer_type;
}

void
proc_info_notify(const struct child *c)
{
	struct proc_info	 pi;

	if (parent->engine == NULL || c == parent->engine)
		return;
	proc_info_fill(c, &pi);
	imsg_compose_event(&parent->engine->iev, IMSG_PROC_INFO, 0, 0, -1,
	    &pi, sizeof(pi));
}

/*
 * Stop a child with SIGTERM, SIGKILL after STOP_GRACE_S.  With restart
 * set it is started again as soon as it has exited.
 */
void
child_stop(struct child *c, int restart)
{
	struct timeval	 tv = { STOP_GRACE_S, 0 };

	evtimer_del(&c->timer);
	if (c->pid == 0) {
		if (c->remove) {
			child_free(c);
			return;
		}
		if (restart && !parent->quitting)
			child_start(c);
		else {
			c->state = PSTATE_STOPPED;
			proc_info_notify(c);
		}
		return;
	}
	c->restart_now = restart;
	c->state = PSTATE_STOPPING;
	if (kill(c->pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("kill %d", (int)c->pid);
	evtimer_add(&c->timer, &tv);
	proc_info_notify(c);
}

static void
child_free(struct child *c)
{
	struct signer_link	 sl;

	if (c->kind == PROC_HSM && parent->engine != NULL &&
	    c != parent->engine) {
		memset(&sl, 0, sizeof(sl));
		sl.signer_id = c->signer_id;
		(void)strlcpy(sl.name, c->name, sizeof(sl.name));
		imsg_compose_event(&parent->engine->iev, IMSG_SIGNER_DEL, 0, 0,
		    -1, &sl, sizeof(sl));
	}
	evtimer_del(&c->timer);
	evtimer_del(&c->ping_ev);
	imsgev_clear(&c->iev);
	TAILQ_REMOVE(&parent->children, c, entry);
	free(c);
}

/* A stopping child that outstays its grace, or a backoff that ran out. */
static void
child_timer(int fd, short event, void *arg)
{
	struct child	*c = arg;

	if (c->pid != 0) {
		log_warnx("%s %s (pid %d) ignored SIGTERM, killing it",
		    proc_kind_name(c->kind), c->name, (int)c->pid);
		kill(c->pid, SIGKILL);
		return;
	}
	if (c->state == PSTATE_BACKOFF && !parent->quitting)
		child_start(c);
}

void
child_reaped(pid_t pid, int status)
{
	struct child	*c;
	struct timespec	 now;
	struct timeval	 tv;
	const char	*what, *sep;

	TAILQ_FOREACH(c, &parent->children, entry)
		if (c->pid == pid)
			break;
	if (c == NULL)
		return;
	what = proc_kind_name(c->kind);

	sep = c->name[0] != '\0' ? " " : "";
	if (c->state == PSTATE_STOPPING || parent->quitting)
		log_debug("%s%s%s (pid %d) stopped", what, sep, c->name,
		    (int)pid);
	else if (WIFSIGNALED(status))
		log_warnx("%s%s%s (pid %d) terminated by signal %d", what,
		    sep, c->name, (int)pid, WTERMSIG(status));
	else
		log_warnx("%s%s%s (pid %d) exited with status %d", what,
		    sep, c->name, (int)pid, WEXITSTATUS(status));

	evtimer_del(&c->timer);
	evtimer_del(&c->ping_ev);
	imsgev_clear(&c->iev);
	c->pid = 0;

	if (parent->quitting) {
		c->state = PSTATE_STOPPED;
		return;
	}
	if (c->remove) {
		child_free(c);
		return;
	}
	if (c->restart_now) {
		child_start(c);
		return;
	}

	/* A crash: back off, longer each time it dies young. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (c->backoff_ms == 0 ||
	    now.tv_sec - c->started_mono.tv_sec >= BACKOFF_RESET_S)
		c->backoff_ms = BACKOFF_MIN_MS;
	else if ((c->backoff_ms *= 2) > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->state = PSTATE_BACKOFF;
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	evtimer_add(&c->timer, &tv);
	log_info("restarting %s%s%s in %d ms", what, sep, c->name,
	    c->backoff_ms);
	proc_info_notify(c);
}

static void
ctl_result(struct child *c, uint32_t peerid, enum ctl_code code,
    const char *msg)
{
	struct ctl_result	 res;

	ctl_result_set(&res, code, msg);
	imsg_compose_event(&c->iev, IMSG_CTL_RESULT, peerid, 0, -1, &res,
	    sizeof(res));
}

/*
 * Messages from a child.  Only the engine may ask for anything; requests
 * are identified by the channel they arrive on, never by their content.
 */
static void
child_dispatch(int fd, short event, void *arg)
{
	struct child	*c = arg;
	struct child	*t;
	struct imsg	 imsg;
	char		 name[SIGNER_NAME_MAX], msg[512];
	ssize_t		 n;
	uint32_t	 peerid;
	int		 verbose;

	if (imsgev_io(&c->iev, event) == -1) {
		/* Dead or dying; SIGCHLD does the rest. */
		imsgev_clear(&c->iev);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&c->iev.ibuf, &imsg)) == -1) {
			log_warn("%s %s: bad imsg", proc_kind_name(c->kind),
			    c->name);
			goto kill;
		}
		if (n == 0)
			break;
		peerid = imsg_get_id(&imsg);
		if (c->kind == PROC_HSM &&
		    imsg_get_type(&imsg) == IMSG_HSM_PONG &&
		    child_pong(c, &imsg) == 0) {
			imsg_free(&imsg);
			continue;
		}
		if (c->kind != PROC_ENGINE) {
			log_warnx("%s %s sent unexpected imsg %u",
			    proc_kind_name(c->kind), c->name,
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			goto kill;
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_CTL_RELOAD:
			log_info("reload requested by signerctl");
			if (parent_reload(msg, sizeof(msg)) == -1) {
				log_warnx("%s", msg);
				ctl_result(c, peerid, CTL_FAILED, msg);
			} else {
				log_info("%s", msg);
				ctl_result(c, peerid, CTL_OK, msg);
			}
			break;
		case IMSG_CTL_RESTART:
			if (imsg_get_data(&imsg, name, sizeof(name)) == -1)
				goto bad;
			strterm(name, sizeof(name));
			if ((t = child_find_signer(name)) == NULL) {
				(void)snprintf(msg, sizeof(msg),
				    "no signer named \"%s\"", name);
				ctl_result(c, peerid, CTL_NOTFOUND, msg);
				break;
			}
			log_info("restart of signer %s requested", name);
			child_stop(t, 1);
			(void)snprintf(msg, sizeof(msg),
			    "restarting signer \"%s\"", name);
			ctl_result(c, peerid, CTL_OK, msg);
			break;
		case IMSG_SIGNER_HUNG:
			if (child_hung(c, &imsg) == -1)
				goto bad;
			break;
		case IMSG_CTL_LOG:
			if (imsg_get_data(&imsg, &verbose,
			    sizeof(verbose)) == -1)
				goto bad;
			verbose = verbose != 0;
			log_setverbose(verbose);
			children_broadcast(IMSG_CTL_VERBOSE, &verbose,
			    sizeof(verbose));
			break;
		default:
			goto bad;
		}
		imsg_free(&imsg);
	}
	imsg_event_add(&c->iev);
	return;
 bad:
	log_warnx("engine sent a bad imsg %u", imsg_get_type(&imsg));
	imsg_free(&imsg);
 kill:
	/* A sibling gone wrong dies; the parent restarts a clean one. */
	imsgev_clear(&c->iev);
	if (c->pid != 0)
		kill(c->pid, SIGKILL);
}
