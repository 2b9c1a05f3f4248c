/*
 * signerd: the parent process.
 *
 * The parent parses the configuration, opens what needs privileges (the
 * listening sockets, the control socket, the TLS files), starts the
 * frontend, the engine and one signer child per configured signer, and
 * supervises them.  It never reads network input and never holds key
 * material of clients.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "tls.h"

static __dead void	 usage(void);
static void		 parent_sig(int, short, void *);
static void		 parent_quit_timeout(int, short, void *);
static void		 parent_shutdown(void);
static int		 control_open(const struct signerd_conf *);
static void		 chroot_check(const char *);
static void		 keystore_dir(const struct signerd_conf *);
static int		 pem_load(const char *, struct pem *);
static void		 paths_init(void);
static void		 signers_sync(struct signerd_conf *);

struct parent	*parent;
extern char	**environ;

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-D macro=value] [-f file]\n",
	    __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct signerd_conf	*conf;
	const char		*conffile = CONF_FILE;
	const char		*role = NULL, *user = NULL, *keystore = NULL;
	int			 ch, debug = 0, noaction = 0, verbose = 0;

	log_init(1, LOG_DAEMON);	/* stderr until we know better */
	setproctitle_init(argc, argv, environ);

	while ((ch = getopt(argc, argv, "dD:f:k:nP:u:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			if (cmdline_symset(optarg) < 0)
				log_warnx("could not parse macro definition %s",
				    optarg);
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'k':
			keystore = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'P':
			role = optarg;
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
	argc -= optind;
	if (argc > 0)
		usage();

	/* Hidden role flag: the parent re-executes itself as the engine. */
	if (role != NULL) {
		if (strcmp(role, "engine") != 0 || user == NULL ||
		    keystore == NULL)
			usage();
		engine_main(user, keystore, debug, verbose);
	}

	if ((conf = parse_config(conffile, 0)) == NULL)
		exit(1);
	if (noaction) {
		if (verbose)
			config_print(stdout, conf);
		else
			fprintf(stderr, "configuration OK\n");
		config_free(conf);
		exit(0);
	}

	if (geteuid() != 0)
		errx(1, "need root privileges");

	if ((parent = calloc(1, sizeof(*parent))) == NULL)
		err(1, NULL);
	parent->conf = conf;
	parent->conffile = conffile;
	parent->debug = debug;
	parent->verbose = verbose;
	parent->control_fd = -1;
	parent->started = time(NULL);
	TAILQ_INIT(&parent->listeners);
	TAILQ_INIT(&parent->children);
	paths_init();
	chroot_check(conf->chroot);
	keystore_dir(conf);

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit("parent");

	/* Fail before daemonizing, where the user still sees the error. */
	if ((parent->control_fd = control_open(conf)) == -1)
		exit(1);
	if (listeners_open(conf, &parent->listeners, 1) == -1) {
		(void)unlink(conf->control_path);
		exit(1);
	}

	if (!debug && daemon(1, 0) == -1)
		fatal("daemon");
	log_info("startup");

	event_init();
	signal_set(&parent->ev_sigterm, SIGTERM, parent_sig, NULL);
	signal_set(&parent->ev_sigint, SIGINT, parent_sig, NULL);
	signal_set(&parent->ev_sighup, SIGHUP, parent_sig, NULL);
	signal_set(&parent->ev_sigchld, SIGCHLD, parent_sig, NULL);
	signal_add(&parent->ev_sigterm, NULL);
	signal_add(&parent->ev_sigint, NULL);
	signal_add(&parent->ev_sighup, NULL);
	signal_add(&parent->ev_sigchld, NULL);
	signal(SIGPIPE, SIG_IGN);

	parent->engine = child_new(PROC_ENGINE, NULL);
	parent->frontend = child_new(PROC_FRONTEND, NULL);
	child_start(parent->engine);
	child_start(parent->frontend);
	signers_sync(conf);

	event_dispatch();

	listeners_close(&parent->listeners);
	if (parent->control_fd != -1)
		close(parent->control_fd);
	(void)unlink(parent->conf->control_path);
	config_free(parent->conf);
	log_info("terminating");
	free(parent);
	return (0);
}

/*
 * Find the helper programs.  SIGNERD_LIBEXEC overrides the compiled-in
 * directory (for running from the build tree); the engine is this very
 * binary, found through /proc so a relative argv[0] does not matter.
 */
static void
paths_init(void)
{
	char		 path[PATH_MAX];
	const char	*dir;
	ssize_t		 n;

	if ((dir = getenv("SIGNERD_LIBEXEC")) == NULL || *dir == '\0')
		dir = LIBEXECDIR;
	if (strlcpy(parent->libexec, dir, sizeof(parent->libexec)) >=
	    sizeof(parent->libexec))
		errx(1, "libexec path too long");
	if ((n = readlink("/proc/self/exe", parent->self,
	    sizeof(parent->self) - 1)) == -1)
		err(1, "readlink /proc/self/exe");
	parent->self[n] = '\0';

	(void)snprintf(path, sizeof(path), "%s/%s", dir, SIGNERD_FRONTEND);
	if (access(path, X_OK) == -1)
		err(1, "%s (set SIGNERD_LIBEXEC?)", path);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, SIGNERD_HSM);
	if (access(path, X_OK) == -1)
		err(1, "%s (set SIGNERD_LIBEXEC?)", path);
}

/*
 * The frontend's chroot must be a directory nobody but root can change.
 * The default /var/empty is made if it does not exist.
 */
static void
chroot_check(const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || strcmp(dir, SIGNERD_CHROOT) != 0)
			err(1, "chroot directory %s", dir);
		if (mkdir(dir, 0755) == -1 || stat(dir, &st) == -1)
			err(1, "mkdir %s", dir);
	}
	if (!S_ISDIR(st.st_mode))
		errx(1, "chroot directory %s: not a directory", dir);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		errx(1, "chroot directory %s: must be owned by root and "
		    "writable only by root", dir);
}

/*
 * The engine is chrooted into the keystore's directory and keeps the
 * database there as the unprivileged user: the directory must be theirs
 * and nobody else's.  Its last component is made if missing.
 */
static void
keystore_dir(const struct signerd_conf *conf)
{
	struct passwd	*pw;
	struct stat	 st;
	char		 dir[PATH_MAX], *slash;

	if (strlcpy(dir, conf->keystore, sizeof(dir)) >= sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL || slash[1] == '\0')
		errx(1, "keystore %s: not an absolute file name",
		    conf->keystore);
	if (slash == dir)
		errx(1, "keystore %s: must be in a directory of its own, "
		    "not in /", conf->keystore);
	*slash = '\0';
	if ((pw = getpwnam(conf->user)) == NULL)
		errx(1, "user %s does not exist", conf->user);
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0700) == -1 ||
		    chown(dir, pw->pw_uid, pw->pw_gid) == -1)
			err(1, "keystore directory %s", dir);
		return;
	}
	if (!S_ISDIR(st.st_mode))
		errx(1, "keystore directory %s: not a directory", dir);
	if (st.st_uid != pw->pw_uid || (st.st_mode & (S_IWGRP | S_IWOTH)))
		errx(1, "keystore directory %s must belong to %s and be "
		    "writable only by it", dir, conf->user);
}

static void
parent_sig(int sig, short event, void *arg)
{
	char		 msg[512];
	pid_t		 pid;
	int		 status;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		parent_shutdown();
		break;
	case SIGHUP:
		log_info("reload requested with SIGHUP");
		if (parent_reload(msg, sizeof(msg)) == -1)
			log_warnx("%s", msg);
		else
			log_info("%s", msg);
		break;
	case SIGCHLD:
		while ((pid = waitpid(WAIT_ANY, &status, WNOHANG)) > 0)
			child_reaped(pid, status);
		if (parent->quitting && !children_running())
			event_loopexit(NULL);
		break;
	default:
		fatalx("unexpected signal %d", sig);
	}
}

static void
parent_shutdown(void)
{
	struct child	*c;
	struct timeval	 tv = { STOP_GRACE_S, 0 };

	if (parent->quitting)
		return;
	parent->quitting = 1;
	log_info("shutting down");
	TAILQ_FOREACH(c, &parent->children, entry)
		child_stop(c, 0);
	if (!children_running()) {
		event_loopexit(NULL);
		return;
	}
	evtimer_set(&parent->ev_quit, parent_quit_timeout, NULL);
	evtimer_add(&parent->ev_quit, &tv);
}

static void
parent_quit_timeout(int fd, short event, void *arg)
{
	struct child	*c;

	TAILQ_FOREACH(c, &parent->children, entry)
		if (c->pid != 0) {
			log_warnx("%s %s (pid %d) did not stop, killing it",
			    proc_kind_name(c->kind), c->name, (int)c->pid);
			kill(c->pid, SIGKILL);
		}
}

/*
 * Reload: parse into a new configuration and keep the old one if it has
 * errors.  Signers that are gone are stopped, new ones started, changed
 * ones replaced; unchanged ones keep running untouched.
 */
int
parent_reload(char *msg, size_t msglen)
{
	struct signerd_conf	*conf, *old = parent->conf;
	struct listener_list	 nl;
	struct listener		*l, *ol;
	int			 fe_changed;

	if ((conf = parse_config(parent->conffile, 0)) == NULL) {
		(void)snprintf(msg, msglen, "reload of %s failed: "
		    "configuration has errors, keeping the running one",
		    parent->conffile);
		return (-1);
	}
	if (strcmp(conf->control_path, old->control_path) != 0 ||
	    (conf->control_group == NULL) != (old->control_group == NULL) ||
	    (conf->control_group != NULL &&
	    strcmp(conf->control_group, old->control_group) != 0) ||
	    strcmp(conf->user, old->user) != 0 ||
	    strcmp(conf->hsm_user, old->hsm_user) != 0 ||
	    strcmp(conf->chroot, old->chroot) != 0) {
		config_free(conf);
		(void)snprintf(msg, msglen, "reload failed: changing the users, "
		    "chroot or control socket needs a restart of signerd");
		return (-1);
	}

	/* The listeners: reopen only if their part changed. */
	fe_changed = !frontend_conf_equal(old, conf);
	TAILQ_INIT(&nl);
	if (fe_changed) {
		listeners_close(&parent->listeners);
		if (listeners_open(conf, &nl, 1) == -1) {
			/* Keep serving on the old sockets if we can. */
			if (listeners_open(old, &parent->listeners, 1) == -1)
				log_warnx("cannot reopen the old listeners");
			config_free(conf);
			(void)snprintf(msg, msglen, "reload failed: cannot "
			    "open the new listeners, see the log");
			return (-1);
		}
	} else {
		/* Same files: pick up renewed certificates all the same. */
		if (listeners_open(conf, &nl, 0) == -1) {
			config_free(conf);
			(void)snprintf(msg, msglen, "reload failed: cannot "
			    "read the TLS files, see the log");
			return (-1);
		}
		ol = TAILQ_FIRST(&parent->listeners);
		TAILQ_FOREACH(l, &nl, entry) {
			if (ol == NULL || ol->cert.len != l->cert.len ||
			    ol->key.len != l->key.len ||
			    ol->ca.len != l->ca.len ||
			    memcmp(ol->cert.data, l->cert.data,
			    l->cert.len) != 0 ||
			    memcmp(ol->key.data, l->key.data, l->key.len) != 0 ||
			    memcmp(ol->ca.data, l->ca.data, l->ca.len) != 0)
				fe_changed = 1;
			if (ol != NULL)
				ol = TAILQ_NEXT(ol, entry);
		}
		/* Keep the bound sockets, take the new files. */
		ol = TAILQ_FIRST(&parent->listeners);
		TAILQ_FOREACH(l, &nl, entry) {
			close(l->fd);
			l->fd = ol->fd;
			ol->fd = -1;
			ol = TAILQ_NEXT(ol, entry);
		}
		listeners_close(&parent->listeners);
	}
	TAILQ_CONCAT(&parent->listeners, &nl, entry);

	parent->conf = conf;
	signers_sync(conf);
	if (fe_changed)
		child_stop(parent->frontend, 1);
	child_send_engine_conf(parent->engine);
	config_free(old);

	(void)snprintf(msg, msglen, "reloaded %s", parent->conffile);
	return (0);
}

/*
 * Make the signer children match the configuration: stop the removed and
 * changed ones, start the new and changed ones.
 */
static void
signers_sync(struct signerd_conf *conf)
{
	struct child		*c, *tc;
	struct signer_conf	*sc;

	TAILQ_FOREACH_SAFE(c, &parent->children, entry, tc) {
		if (c->kind != PROC_HSM || c->remove)
			continue;
		sc = signer_find(conf, c->name);
		if (sc != NULL && signer_conf_equal(sc, c->sc)) {
			c->sc = sc;
			continue;
		}
		c->sc = NULL;
		log_info("signer %s %s", c->name, sc == NULL ? "removed" :
		    "changed, replacing it");
		c->remove = 1;
		child_stop(c, 0);
	}
	TAILQ_FOREACH(sc, &conf->signers, entry) {
		if ((c = child_find_signer(sc->name)) != NULL)
			continue;
		c = child_new(PROC_HSM, sc);
		child_start(c);
	}
}

/*
 * The control socket: refuse to start if another signerd answers on it,
 * else replace a stale one.  Mode 0600, or 0660 with the control group.
 * Its directory is made if missing (the default, /var/run/signerd, is
 * systemd's RuntimeDirectory: /run itself stays read-only to signerd).
 */
static int
control_open(const struct signerd_conf *conf)
{
	struct sockaddr_un	 sun;
	struct group		*gr = NULL;
	mode_t			 old_umask;
	char			 dir[sizeof(sun.sun_path)], *slash;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, conf->control_path,
	    sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path %s too long",
		    conf->control_path);
		return (-1);
	}
	(void)strlcpy(dir, conf->control_path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			log_warn("control socket directory %s", dir);
			return (-1);
		}
	}
	if (conf->control_group != NULL &&
	    (gr = getgrnam(conf->control_group)) == NULL) {
		log_warnx("control group %s does not exist",
		    conf->control_group);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("control socket %s is in use: is signerd already "
		    "running?", conf->control_path);
		close(fd);
		return (-1);
	}
	close(fd);
	if (unlink(conf->control_path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", conf->control_path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	old_umask = umask(S_IXUSR | S_IRWXG | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", conf->control_path);
		(void)umask(old_umask);
		close(fd);
		return (-1);
	}
	(void)umask(old_umask);
	if (gr != NULL && (chown(conf->control_path, 0, gr->gr_gid) == -1 ||
	    chmod(conf->control_path, 0660) == -1)) {
		log_warn("control socket %s", conf->control_path);
		close(fd);
		return (-1);
	}
	if (listen(fd, 16) == -1) {
		log_warn("listen %s", conf->control_path);
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Read a PEM file for the frontend, which cannot open files in its
 * chroot.  Capped at 1 MiB: certificate chains are far smaller.
 */
static int
pem_load(const char *path, struct pem *p)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	memset(p, 0, sizeof(*p));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || st.st_size > 1024 * 1024) {
		log_warnx("%s: not a regular file of 1 byte to 1 MiB", path);
		close(fd);
		return (-1);
	}
	p->len = st.st_size;
	if ((p->data = malloc(p->len)) == NULL)
		fatal(NULL);
	while (off < p->len) {
		if ((n = read(fd, p->data + off, p->len - off)) <= 0) {
			log_warnx("%s: short read", path);
			close(fd);
			pem_free(p);
			return (-1);
		}
		off += n;
	}
	close(fd);
	return (0);
}

void
pem_free(struct pem *p)
{
	freezero(p->data, p->len);
	p->data = NULL;
	p->len = 0;
}

/*
 * Read the TLS files of every listener of conf and, with bind set, open
 * its listening socket.
 */
int
listeners_open(struct signerd_conf *conf, struct listener_list *ll,
    int bind_them)
{
	struct listen_conf	*lc;
	struct listener		*l;
	SSL_CTX			*ctx;
	char			 err[512];
	uint32_t		 id = 0;
	int			 on = 1;

	TAILQ_FOREACH(lc, &conf->listeners, entry) {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			fatal(NULL);
		l->id = ++id;
		l->fd = -1;
		TAILQ_INSERT_TAIL(ll, l, entry);
		l->info.id = l->id;
		l->info.tls12 = lc->tls12;
		l->info.verify_client = lc->verify_client;
		l->info.no_http = lc->no_http;
		l->info.port = lc->port;
		(void)strlcpy(l->info.addr, lc->addr, sizeof(l->info.addr));
		if (pem_load(lc->cert, &l->cert) == -1 ||
		    pem_load(lc->key, &l->key) == -1 ||
		    pem_load(lc->ca, &l->ca) == -1)
			goto fail;
		/* The frontend builds the same context; fail here, clearly. */
		if ((ctx = tls_ctx_new(l->cert.data, l->cert.len, l->key.data,
		    l->key.len, l->ca.data, l->ca.len, lc->tls12,
		    lc->verify_client, err, sizeof(err))) == NULL) {
			log_warnx("listen on %s port %u: %s (certificate %s, "
			    "key %s, client ca %s)", lc->addr, lc->port, err,
			    lc->cert, lc->key, lc->ca);
			goto fail;
		}
		SSL_CTX_free(ctx);
		if (!bind_them)
			continue;
		if ((l->fd = socket(lc->ss.ss_family, SOCK_STREAM |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1) {
			log_warn("socket");
			goto fail;
		}
		if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1)
			log_warn("setsockopt SO_REUSEADDR");
		if (bind(l->fd, (struct sockaddr *)&lc->ss, lc->sslen) == -1) {
			log_warn("cannot listen on %s port %u", lc->addr,
			    lc->port);
			goto fail;
		}
		if (listen(l->fd, 128) == -1) {
			log_warn("listen on %s port %u", lc->addr, lc->port);
			goto fail;
		}
		log_debug("listening on %s port %u", lc->addr, lc->port);
	}
	return (0);
 fail:
	listeners_close(ll);
	return (-1);
}

void
listeners_close(struct listener_list *ll)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(ll)) != NULL) {
		TAILQ_REMOVE(ll, l, entry);
		if (l->fd != -1)
			close(l->fd);
		pem_free(&l->cert);
		pem_free(&l->key);
		pem_free(&l->ca);
		free(l);
	}
}
