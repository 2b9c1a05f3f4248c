/*
 * signerd-frontend: the network frontend.
 *
 * Chrooted, unprivileged and sandboxed before it reads a single byte: the
 * parent sends it the listening sockets and the TLS certificates over fd
 * 3.  It terminates TLS, requires a client certificate (by default), reads
 * the client identity from it, frames KMIP TTLV messages with hard size
 * and time limits and hands each one to the engine.
 *
 * No client can make it grow without bound: a connection buffers at most
 * one message of input, has at most CONN_INFLIGHT_MAX requests waiting
 * for their answers and is not read while its answers are not being
 * read; all connections together have at most INFLIGHT_MAX_BYTES of
 * requests at the engine.  Its time limits are deadlines, not idle
 * timers: a byte a second does not keep a handshake or a message alive.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "imsgev.h"
#include "signerd.h"
#include "tls.h"
#include "frame.h"
#include "http.h"
#include "msgenc.h"
#include "ttlv.h"

/*
 * Connections still in the TLS handshake have a pool of their own, apart
 * from max connections: a quarter of it, but at least this many.  When
 * the pool is full the oldest handshake is closed for the new one, so a
 * client that never finishes its handshake holds nothing for long while
 * a real one, done in milliseconds, gets through.
 */
#define HANDSHAKES_MIN		8

/*
 * Connections refused before they were admitted go to the engine's
 * audit trail, at most REFUSED_RATE a second after a burst of
 * REFUSED_BURST: anyone can open handshakes faster than that.  Those
 * beyond are counted, and the count goes with the next one sent, or
 * on its own a second after the first of them.
 */
#define REFUSED_RATE		20
#define REFUSED_BURST		100

/* Why a connection is not being read. */
#define PAUSE_INFLIGHT		0x01	/* CONN_INFLIGHT_MAX answers due */
#define PAUSE_BYTES		0x02	/* INFLIGHT_MAX_BYTES at the engine */
#define PAUSE_OUTPUT		0x04	/* its answers are not being read */
#define PAUSE_CLOSING		0x08	/* HTTP: no more requests, then close */

/* How a connection carries its messages, from its first byte. */
#define MODE_UNKNOWN		0
#define MODE_TTLV		1	/* TTLV on the stream */
#define MODE_HTTP		2	/* HTTP/1.1 requests (KMIP over HTTPS) */

/* The one deadline a connection has at a time. */
enum fe_tmo {
	TMO_NONE,
	TMO_HANDSHAKE,		/* read timeout from accept */
	TMO_MESSAGE,		/* read timeout from a message's first byte */
	TMO_DRAIN,		/* read timeout to read the answers */
	TMO_IDLE		/* idle timeout: nothing partial, nothing due */
};

struct pembuf {
	char		*data;
	size_t		 len;
};

struct fe_listener {
	TAILQ_ENTRY(fe_listener) entry;
	struct listener_info	 info;
	int			 fd;
	struct pembuf		 cert, key, ca;
	SSL_CTX			*ctx;
	struct event		 ev;
	struct event		 pause;
};
TAILQ_HEAD(fe_listener_list, fe_listener);

/* A response that overtook an earlier request of its connection. */
struct fe_resp {
	TAILQ_ENTRY(fe_resp)	 entry;
	uint64_t		 req_id;
	enum msg_enc		 enc;
	size_t			 len;
	uint8_t			 data[];
};
TAILQ_HEAD(fe_resp_list, fe_resp);

struct fe_conn {
	TAILQ_ENTRY(fe_conn)	 entry;
	RB_ENTRY(fe_conn)	 byid;		/* in fe->ids */
	TAILQ_ENTRY(fe_conn)	 wait;		/* in fe->waitq */
	uint64_t		 id;
	struct fe_listener	*l;
	struct bufferevent	*bev;		/* NULL once closed */
	struct event		 tmo;
	enum fe_tmo		 tmo_kind;
	char			 peer[INET6_ADDRSTRLEN + 8];
	char			 identity[256];
	uint8_t			 cert_sha256[32];
	/* The certificate the client showed, before it is judged. */
	int			 shown;
	int			 verify_error;	/* the first, X509_V_ERR_* */
	char			 claimed[256];	/* its CN, not verified */
	uint8_t			 shown_sha256[32];
	int			 ready;		/* handshake done, admitted */
	int			 refused;	/* counted as such */
	int			 waiting;	/* in fe->waitq */
	int			 paused;	/* PAUSE_* */
	int			 mode;		/* MODE_* */
	int			 http_status;	/* an error to answer last */
	int			 continued;	/* 100 Continue sent */
	int			 closing;	/* close once written */
	int			 have_req;	/* req: a head, its body due */
	struct http_req		 req;
	unsigned int		 pending;	/* requests at the engine */
	uint64_t		 next_req;	/* id of the last request */
	uint64_t		 next_resp;	/* id of the next response due */
	/* Size of each request the engine has not answered, by id. */
	uint32_t		 reqlen[CONN_INFLIGHT_MAX];
	/* The encoding each request came in, for its answer. */
	uint8_t			 reqenc[CONN_INFLIGHT_MAX];
	struct fe_resp_list	 held;		/* responses that came early */
};
TAILQ_HEAD(fe_conn_list, fe_conn);
RB_HEAD(fe_conn_ids, fe_conn);

struct frontend {
	struct event_base	*base;
	struct imsgev		 parent;
	struct imsgev		 engine;
	struct frontend_limits	 limits;
	struct fe_listener_list	 listeners;
	/*
	 * Open connections, oldest first, and closed ones whose requests
	 * the engine has not answered yet: their bytes still count.
	 */
	struct fe_conn_list	 conns;
	struct fe_conn_ids	 ids;		/* the same, by id */
	struct fe_conn_list	 waitq;		/* paused for PAUSE_BYTES */
	unsigned int		 nready;
	unsigned int		 nhandshakes;
	size_t			 inflight_bytes;
	uint64_t		 next_conn;
	int			 configured;
	/* Connection counters, for the engine's show metrics. */
	struct fe_stats		 stats;
	struct event		 stats_ev;
	int			 stats_due;
	/* Refusals for the audit trail: a token bucket (fe_refused). */
	int64_t			 refused_tokens;	/* thousandths */
	int64_t			 refused_ms;		/* its last refill */
	uint64_t		 refused_suppressed;	/* not sent */
	struct event		 refused_ev;
};

extern char		**environ;

static __dead void	 usage(void);
static void		 fe_dispatch_parent(int, short, void *);
static void		 fe_dispatch_engine(int, short, void *);
static void		 fe_configure(void);
static void		 fe_accept(int, short, void *);
static void		 fe_resume(int, short, void *);
static void		 fe_read(struct bufferevent *, void *);
static void		 fe_written(struct bufferevent *, void *);
static void		 fe_event(struct bufferevent *, short, void *);
static void		 fe_timeout(int, short, void *);
static void		 fe_admit(struct fe_conn *);
static int		 fe_process(struct fe_conn *, int);
static int		 fe_forward(struct fe_conn *, struct evbuffer *,
			    size_t);
static int		 fe_http_next(struct fe_conn *, struct evbuffer *,
			    size_t, struct http_req *);
static int		 fe_http_forward(struct fe_conn *, struct evbuffer *,
			    const struct http_req *);
static void		 fe_http_fail(struct fe_conn *, int, const char *);
static int		 fe_http_finish(struct fe_conn *);
static int		 fe_send(struct fe_conn *, const uint8_t *, size_t,
			    enum msg_enc);
static void		 fe_emit(struct fe_conn *, enum msg_enc,
			    const uint8_t *, size_t);
static int		 looks_http(const unsigned char *);
static void		 fe_update(struct fe_conn *);
static void		 fe_close(struct fe_conn *, const char *);
static void		 fe_free(struct fe_conn *);
static void		 fe_waitq_run(void);
static unsigned int	 fe_handshakes_max(void);
static struct fe_conn	*fe_conn_find(uint64_t);
static int		 fe_conn_cmp(const struct fe_conn *,
			    const struct fe_conn *);
static void		 fe_respond(struct fe_conn *, uint64_t,
			    const uint8_t *, size_t);
static struct fe_listener *fe_listener_find(uint32_t);
static void		 pembuf_set(struct pembuf *, struct imsg *);
static void		 pembuf_free(struct pembuf *);
static void		 fe_stats_changed(void);
static void		 fe_stats_send(int, short, void *);
static int		 fe_verify(int, X509_STORE_CTX *);
static void		 fe_claimed(X509 *, char *, size_t);
static void		 fe_refused(struct fe_conn *, const char *);
static int		 fe_refused_take(void);
static int		 fe_refused_send(struct fe_refused *);
static void		 fe_refused_count(int, short, void *);
static int64_t		 fe_msec(void);

/* libbsd's __unused is off (a Linux header has a member of that name). */
RB_PROTOTYPE_INTERNAL(fe_conn_ids, fe_conn, byid, fe_conn_cmp,
    __attribute__((__unused__)) static)
RB_GENERATE_INTERNAL(fe_conn_ids, fe_conn, byid, fe_conn_cmp,
    __attribute__((__unused__)) static)

static struct frontend	*fe;
static int		 fe_ssl_idx = -1;	/* SSL ex_data: its fe_conn */

static __dead void
usage(void)
{
	fprintf(stderr, "usage: %s [-dv] -r chroot -u user\n",
	    SIGNERD_FRONTEND);
	fprintf(stderr, "(started by signerd, not by hand)\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct fe_listener	*l;
	struct fe_conn		*c;
	const char		*root = NULL, *user = NULL;
	int			 ch, debug = 0, verbose = 0;

	/* Before getopt: it moves argv, where optarg points. */
	setproctitle_init(argc, argv, environ);
	while ((ch = getopt(argc, argv, "dr:u:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'r':
			root = optarg;
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
	if (root == NULL || user == NULL || optind != argc)
		usage();

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit("frontend");
	setproctitle("frontend");

	/* Everything that reads files happens before the chroot. */
	if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL))
		fatalx("OPENSSL_init_ssl");
	if ((fe_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL)) == -1)
		fatalx("SSL_get_ex_new_index");
	if ((fe = calloc(1, sizeof(*fe))) == NULL)
		fatal(NULL);
	TAILQ_INIT(&fe->listeners);
	TAILQ_INIT(&fe->conns);
	RB_INIT(&fe->ids);
	TAILQ_INIT(&fe->waitq);

	priv_drop(user, root);
	fe->base = event_init();
	sandbox_apply(SANDBOX_FRONTEND);
	evtimer_set(&fe->stats_ev, fe_stats_send, NULL);
	evtimer_set(&fe->refused_ev, fe_refused_count, NULL);
	fe->refused_tokens = REFUSED_BURST * 1000;
	fe->refused_ms = fe_msec();

	child_signals();

	if (imsgev_init(&fe->parent, PARENT_SOCK_FILENO, fe_dispatch_parent,
	    NULL, IMSG_MAX_INTERNAL, 1) == -1)
		fatal("parent channel");

	event_dispatch();

	evtimer_del(&fe->stats_ev);
	evtimer_del(&fe->refused_ev);
	while ((c = TAILQ_FIRST(&fe->conns)) != NULL) {
		c->pending = 0;		/* no answer is coming now */
		if (c->bev != NULL)
			fe_close(c, NULL);
		else
			fe_free(c);
	}
	while ((l = TAILQ_FIRST(&fe->listeners)) != NULL) {
		TAILQ_REMOVE(&fe->listeners, l, entry);
		event_del(&l->ev);
		evtimer_del(&l->pause);
		close(l->fd);
		SSL_CTX_free(l->ctx);
		pembuf_free(&l->cert);
		pembuf_free(&l->key);
		pembuf_free(&l->ca);
		free(l);
	}
	imsgev_clear(&fe->engine);
	imsgev_clear(&fe->parent);
	free(fe);
	exit(0);
}

static void
pembuf_set(struct pembuf *p, struct imsg *imsg)
{
	size_t	 len = imsg_get_len(imsg);

	pembuf_free(p);
	if (len == 0)
		fatalx("empty PEM from the parent");
	if ((p->data = malloc(len)) == NULL)
		fatal(NULL);
	if (imsg_get_data(imsg, p->data, len) == -1)
		fatal("imsg_get_data");
	p->len = len;
}

static void
pembuf_free(struct pembuf *p)
{
	freezero(p->data, p->len);
	p->data = NULL;
	p->len = 0;
}

static struct fe_listener *
fe_listener_find(uint32_t id)
{
	struct fe_listener	*l;

	TAILQ_FOREACH(l, &fe->listeners, entry)
		if (l->info.id == id)
			return (l);
	fatalx("no listener %u", id);
}

static void
fe_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = &fe->parent;
	struct imsg		 imsg;
	struct fe_listener	*l;
	struct ibuf		 kb;
	ssize_t			 n;

	if (imsgev_io(iev, event) == -1) {
		event_loopexit(NULL);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("imsg_get");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_CONF_FRONTEND:
			if (imsg_get_data(&imsg, &fe->limits,
			    sizeof(fe->limits)) == -1)
				fatalx("bad IMSG_CONF_FRONTEND");
			if (fe->limits.max_message < MIN_MAX_MESSAGE ||
			    fe->limits.max_message > MAX_MAX_MESSAGE ||
			    fe->limits.max_connections < 1 ||
			    fe->limits.idle_timeout < 1 ||
			    fe->limits.read_timeout < 1)
				fatalx("bad limits from the parent");
			break;
		case IMSG_LISTENER:
			if (fe->configured)
				fatalx("listener after IMSG_CONF_DONE");
			if ((l = calloc(1, sizeof(*l))) == NULL)
				fatal(NULL);
			if (imsg_get_data(&imsg, &l->info,
			    sizeof(l->info)) == -1)
				fatalx("bad IMSG_LISTENER");
			strterm(l->info.addr, sizeof(l->info.addr));
			if ((l->fd = imsg_get_fd(&imsg)) == -1)
				fatalx("listener without fd");
			TAILQ_INSERT_TAIL(&fe->listeners, l, entry);
			break;
		case IMSG_TLS_CERT:
			l = fe_listener_find(imsg_get_id(&imsg));
			pembuf_set(&l->cert, &imsg);
			break;
		case IMSG_TLS_KEY:
			l = fe_listener_find(imsg_get_id(&imsg));
			pembuf_set(&l->key, &imsg);
			/* Wipe the received copy before imsg_free. */
			if (imsg_get_ibuf(&imsg, &kb) == 0)
				explicit_bzero(ibuf_data(&kb), ibuf_size(&kb));
			break;
		case IMSG_TLS_CA:
			l = fe_listener_find(imsg_get_id(&imsg));
			pembuf_set(&l->ca, &imsg);
			break;
		case IMSG_CONF_DONE:
			fe_configure();
			break;
		case IMSG_SOCKET_ENGINE:
			child_link(&fe->engine, &imsg, fe_dispatch_engine,
			    NULL);
			/* A new engine: it has none of the counters yet. */
			fe_stats_changed();
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

/* Build each listener's TLS context and start accepting. */
static void
fe_configure(void)
{
	struct fe_listener	*l;
	char			 err[512];

	if (fe->configured)
		fatalx("second IMSG_CONF_DONE");
	TAILQ_FOREACH(l, &fe->listeners, entry) {
		if (l->cert.data == NULL || l->key.data == NULL ||
		    l->ca.data == NULL)
			fatalx("listener %s: TLS files missing",
			    l->info.addr);
		if ((l->ctx = tls_ctx_new(l->cert.data, l->cert.len,
		    l->key.data, l->key.len, l->ca.data, l->ca.len,
		    l->info.tls12, l->info.verify_client, err,
		    sizeof(err))) == NULL)
			fatalx("listener %s port %u: %s", l->info.addr,
			    l->info.port, err);
		pembuf_free(&l->key);	/* the context has it now */
		SSL_CTX_set_verify(l->ctx, SSL_CTX_get_verify_mode(l->ctx),
		    fe_verify);
		event_set(&l->ev, l->fd, EV_READ | EV_PERSIST, fe_accept, l);
		event_add(&l->ev, NULL);
		evtimer_set(&l->pause, fe_resume, l);
		log_debug("serving %s port %u", l->info.addr, l->info.port);
	}
	fe->configured = 1;
}

static void
fe_resume(int fd, short event, void *arg)
{
	struct fe_listener	*l = arg;

	event_add(&l->ev, NULL);
}

static unsigned int
fe_handshakes_max(void)
{
	unsigned int	 n = fe->limits.max_connections / 4;

	return (n < HANDSHAKES_MIN ? HANDSHAKES_MIN : n);
}

static void
fe_accept(int lfd, short event, void *arg)
{
	struct fe_listener	*l = arg;
	struct sockaddr_storage	 ss;
	struct timeval		 tv = { 1, 0 };
	socklen_t		 sslen = sizeof(ss);
	struct fe_conn		*c;
	SSL			*ssl;
	char			 host[INET6_ADDRSTRLEN];
	int			 fd, port = 0, one = 1;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			event_del(&l->ev);
			evtimer_add(&l->pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	/*
	 * Answers go out as soon as they are written; libevent already
	 * writes once per loop turn.  With Nagle, an answer sent while an
	 * earlier small segment is unacknowledged waits for the client's
	 * delayed ACK (40 ms on Linux).
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("setsockopt TCP_NODELAY");
	host[0] = '\0';
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	}
	/* The oldest handshake makes room: it has had the longest. */
	if (fe->nhandshakes >= fe_handshakes_max()) {
		TAILQ_FOREACH(c, &fe->conns, entry)
			if (c->bev != NULL && !c->ready)
				break;
		if (c != NULL)
			fe_close(c, "handshake pool full, oldest closed");
	}
	if ((ssl = SSL_new(l->ctx)) == NULL) {
		log_warnx("SSL_new failed");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal(NULL);
	c->id = ++fe->next_conn;
	c->l = l;
	c->next_resp = 1;
	TAILQ_INIT(&c->held);
	(void)snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
	/* For fe_verify; the SSL goes before c does (fe_close). */
	(void)SSL_set_ex_data(ssl, fe_ssl_idx, c);
	if ((c->bev = bufferevent_openssl_socket_new(fe->base,
	    fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL) {
		log_warnx("%s: bufferevent_openssl_socket_new", c->peer);
		SSL_free(ssl);
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&fe->conns, c, entry);
	RB_INSERT(fe_conn_ids, &fe->ids, c);
	fe->nhandshakes++;
	fe->stats.accepted++;
	fe_stats_changed();
	bufferevent_setcb(c->bev, fe_read, fe_written, fe_event, c);
	/* Never more than one message of input buffered. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, fe->limits.max_message);
	/* fe_written runs once the answers are down to half of that. */
	bufferevent_setwatermark(c->bev, EV_WRITE,
	    fe->limits.max_message / 2, 0);
	evtimer_set(&c->tmo, fe_timeout, c);
	fe_update(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("%s: connection %llu", c->peer, (unsigned long long)c->id);
}

/*
 * Reading on or off and the deadline, from the state of the connection.
 * A deadline runs from the moment its state is entered: more bytes of
 * the same state do not move it.
 */
static void
fe_update(struct fe_conn *c)
{
	struct timeval	 tv;
	enum fe_tmo	 kind;

	if (!c->ready)
		kind = TMO_HANDSHAKE;
	else if (c->paused & PAUSE_OUTPUT)
		kind = TMO_DRAIN;
	else if (c->paused & PAUSE_CLOSING)
		/* Its last answers, then the error or the close. */
		kind = c->next_req + 1 == c->next_resp ? TMO_DRAIN : TMO_NONE;
	else if (c->paused)
		kind = TMO_NONE;	/* the engine keeps it waiting */
	else if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		kind = TMO_MESSAGE;
	else if (c->next_req + 1 == c->next_resp)
		kind = TMO_IDLE;
	else
		kind = TMO_NONE;
	if (c->ready) {
		if (c->paused)
			bufferevent_disable(c->bev, EV_READ);
		else
			bufferevent_enable(c->bev, EV_READ);
	}
	if (kind == c->tmo_kind)
		return;
	evtimer_del(&c->tmo);
	c->tmo_kind = kind;
	if (kind == TMO_NONE)
		return;
	tv.tv_sec = kind == TMO_IDLE ? fe->limits.idle_timeout :
	    fe->limits.read_timeout;
	tv.tv_usec = 0;
	evtimer_add(&c->tmo, &tv);
}

static void
fe_timeout(int fd, short event, void *arg)
{
	struct fe_conn	*c = arg;
	char		 why[128];
	const char	*what;

	switch (c->tmo_kind) {
	case TMO_HANDSHAKE:
		what = "no TLS handshake";
		break;
	case TMO_MESSAGE:
		what = "message not complete";
		break;
	case TMO_DRAIN:
		what = "answers not read";
		break;
	case TMO_IDLE:
		/* Pooled client connections idle out all the time. */
		log_debug("%s: idle for %d s, closing", c->peer,
		    fe->limits.idle_timeout);
		fe_close(c, NULL);
		return;
	default:
		return;
	}
	(void)snprintf(why, sizeof(why), "timed out: %s within %d s", what,
	    fe->limits.read_timeout);
	fe_close(c, why);
}

/*
 * The handshake is done: admit the connection if its certificate names
 * one usable identity and a slot for it is free.
 */
static void
fe_admit(struct fe_conn *c)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(c->bev);
	const char	*why;
	char		 buf[160];
	int		 rv;

	rv = tls_peer_identity(ssl, c->identity, sizeof(c->identity),
	    c->cert_sha256, &why);
	if (rv == -1) {
		(void)snprintf(buf, sizeof(buf), "client certificate "
		    "refused: %s", why);
		fe->stats.refused_cert++;
		c->refused = 1;
		fe_close(c, buf);
		return;
	}
	if (rv == 1 && c->l->info.verify_client) {
		fe->stats.refused_cert++;
		c->refused = 1;
		fe_close(c, "no client certificate");
		return;
	}
	if (fe->nready >= (unsigned int)fe->limits.max_connections) {
		(void)snprintf(buf, sizeof(buf), "refused, %d connections "
		    "already", fe->limits.max_connections);
		fe->stats.refused_limit++;
		c->refused = 1;
		fe_close(c, buf);
		return;
	}
	fe->nhandshakes--;
	fe->nready++;
	c->ready = 1;
	fe->stats.admitted++;
	fe_stats_changed();
	if (rv == 1)
		log_info("%s: client without certificate, unauthenticated, "
		    "%s", c->peer, SSL_get_version(ssl));
	else
		log_info("%s: client \"%s\", %s", c->peer, c->identity,
		    SSL_get_version(ssl));
	(void)fe_process(c, 0);
}

static void
fe_event(struct bufferevent *bev, short what, void *arg)
{
	struct fe_conn	*c = arg;
	unsigned long	 e;
	char		 buf[256];

	if (what & BEV_EVENT_CONNECTED) {
		fe_admit(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		fe_close(c, NULL);
		return;
	}
	/*
	 * libevent queues the SSL_get_error() code (SSL_ERROR_SYSCALL,
	 * SSL_ERROR_SSL: library 0) ahead of OpenSSL's own errors; only
	 * the latter say anything.  A syscall error is the peer gone (a
	 * reset): nothing to warn about.
	 */
	while ((e = bufferevent_get_openssl_error(bev)) != 0 &&
	    ERR_GET_LIB(e) == 0)
		;
	if (e == 0 || ERR_GET_LIB(e) == ERR_LIB_SYS ||
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		/* A client that went away, without close_notify. */
		fe_close(c, NULL);
	} else {
		ERR_error_string_n(e, buf, sizeof(buf));
		fe_close(c, buf);
	}
	ERR_clear_error();
}

static void
fe_read(struct bufferevent *bev, void *arg)
{
	(void)fe_process(arg, 0);
}

/* Whether the first bytes of a connection are an HTTP method and a space. */
static int
looks_http(const unsigned char *h)
{
	int	 i;

	if (h[0] == 0x42)
		return (0);
	for (i = 0; i < FRAME_HEADER && h[i] >= 'A' && h[i] <= 'Z'; i++)
		;
	return (i > 0 && i < FRAME_HEADER && h[i] == ' ');
}

/*
 * Frame TTLV Request Messages from the input and hand them to the
 * engine, as long as the connection may have more in flight.  from_queue:
 * c was just taken from the head of fe->waitq and may go before the
 * others waiting.  -1 if c was closed.
 */
static int
fe_process(struct fe_conn *c, int from_queue)
{
	struct evbuffer		*in;
	struct http_req		 req;
	unsigned char		 h[FRAME_HEADER];
	size_t			 avail, len;

	if (c->bev == NULL || !c->ready)
		return (0);
	/* In the queue, it waits for its turn (fe_waitq_run). */
	if (c->waiting && !from_queue) {
		fe_update(c);
		return (0);
	}
	in = bufferevent_get_input(c->bev);
	c->paused &= ~(PAUSE_INFLIGHT | PAUSE_BYTES);
	while (!(c->paused & (PAUSE_OUTPUT | PAUSE_CLOSING)) &&
	    (avail = evbuffer_get_length(in)) > 0) {
		/* Answers not written yet, held ones included. */
		if (c->next_req - c->next_resp + 1 >= CONN_INFLIGHT_MAX) {
			c->paused |= PAUSE_INFLIGHT;
			break;
		}
		/*
		 * A TTLV message starts with a tag, 0x42 and two bytes; an
		 * HTTP request with its method, capitals and a space.  Either
		 * is at least FRAME_HEADER bytes long.
		 */
		if (c->mode == MODE_UNKNOWN) {
			if (avail < FRAME_HEADER)
				break;
			if (evbuffer_copyout(in, h, sizeof(h)) != sizeof(h)) {
				fe_close(c, "evbuffer_copyout failed");
				return (-1);
			}
			c->mode = looks_http(h) ? MODE_HTTP : MODE_TTLV;
			if (c->mode == MODE_HTTP && c->l->info.no_http) {
				fe_close(c, "KMIP over HTTPS is off here "
				    "(no http)");
				return (-1);
			}
			/* Room for one request: its head and its body. */
			if (c->mode == MODE_HTTP)
				bufferevent_setwatermark(c->bev, EV_READ, 0,
				    fe->limits.max_message + HTTP_HEAD_MAX);
		}
		if (c->mode == MODE_HTTP) {
			switch (fe_http_next(c, in, avail, &req)) {
			case -1:
				return (-1);
			case 0:
				goto out;
			case 1:
				break;
			default:
				continue;	/* an error: closing */
			}
			len = req.bodylen;
			goto ready;
		}
		if (avail < FRAME_HEADER)
			break;
		if (evbuffer_copyout(in, h, sizeof(h)) != sizeof(h)) {
			fe_close(c, "evbuffer_copyout failed");
			return (-1);
		}
		/*
		 * Anything that can be framed goes to the engine, which
		 * answers what is not a valid request with Invalid Message.
		 */
		switch (frame_next(h, avail, fe->limits.max_message, &len)) {
		case FRAME_MORE:
			goto out;
		case FRAME_BAD:
			fe_close(c, "not a KMIP message (bad length)");
			return (-1);
		case FRAME_TOOBIG:
			log_warnx("%s: message of %zu bytes exceeds max "
			    "message %d", c->peer, len,
			    fe->limits.max_message);
			fe_close(c, NULL);
			return (-1);
		case FRAME_OK:
			break;
		}
 ready:
		if (!fe->engine.active) {
			fe_close(c, "engine unavailable");
			return (-1);
		}
		/* First come, first served once the engine has room. */
		if ((!from_queue && !TAILQ_EMPTY(&fe->waitq)) ||
		    (fe->inflight_bytes > 0 &&
		    fe->inflight_bytes + len > INFLIGHT_MAX_BYTES)) {
			c->paused |= PAUSE_BYTES;
			c->waiting = 1;
			if (from_queue)
				TAILQ_INSERT_HEAD(&fe->waitq, c, wait);
			else
				TAILQ_INSERT_TAIL(&fe->waitq, c, wait);
			break;
		}
		from_queue = 0;
		if (c->mode == MODE_HTTP) {
			if (fe_http_forward(c, in, &req) == -1)
				return (-1);
		} else if (fe_forward(c, in, len) == -1)
			return (-1);
		/* The next message has a deadline of its own. */
		if (c->tmo_kind == TMO_MESSAGE)
			c->tmo_kind = TMO_NONE;
	}
 out:
	fe_update(c);
	return (0);
}

/*
 * One framed message of len bytes to the engine.  It is copied out of
 * the input buffer's own memory and that memory is wiped in place before
 * it is drained: a message may carry key material, which must not stay
 * behind in freed buffers (evbuffer_pullup would copy it to a new chain
 * and free the old ones as they are).
 */
static int
fe_forward(struct fe_conn *c, struct evbuffer *in, size_t len)
{
	struct evbuffer_iovec	 v[16], *vec = v;
	struct fe_hdr		 hdr;
	struct ibuf		*ib;
	size_t			 left, n;
	int			 i, nvec;

	nvec = evbuffer_peek(in, len, NULL, NULL, 0);
	if (nvec > (int)(sizeof(v) / sizeof(v[0])) &&
	    (vec = reallocarray(NULL, nvec, sizeof(*vec))) == NULL) {
		fe_close(c, "out of memory");
		return (-1);
	}
	if (nvec < 1 || evbuffer_peek(in, len, NULL, vec, nvec) != nvec) {
		if (vec != v)
			free(vec);
		fe_close(c, "evbuffer_peek failed");
		return (-1);
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.conn_id = c->id;
	hdr.req_id = ++c->next_req;
	(void)strlcpy(hdr.identity, c->identity, sizeof(hdr.identity));
	(void)strlcpy(hdr.peer, c->peer, sizeof(hdr.peer));
	memcpy(hdr.cert_sha256, c->cert_sha256, sizeof(hdr.cert_sha256));
	/* Sized exactly: only a failed allocation makes these fail. */
	if ((ib = imsg_create(&fe->engine.ibuf, IMSG_FE_REQUEST, 0, 0,
	    sizeof(hdr) + len)) == NULL || imsg_add(ib, &hdr,
	    sizeof(hdr)) == -1) {
		if (vec != v)
			free(vec);
		fe_close(c, "cannot queue the request for the engine");
		return (-1);
	}
	for (i = 0, left = len; i < nvec && left > 0; i++) {
		n = vec[i].iov_len < left ? vec[i].iov_len : left;
		if (imsg_add(ib, vec[i].iov_base, n) == -1)
			break;		/* ib is freed */
		explicit_bzero(vec[i].iov_base, n);
		left -= n;
	}
	if (vec != v)
		free(vec);
	if (left > 0) {
		fe_close(c, "cannot queue the request for the engine");
		return (-1);
	}
	imsg_close(&fe->engine.ibuf, ib);
	imsg_event_add(&fe->engine);
	evbuffer_drain(in, len);
	c->reqlen[hdr.req_id % CONN_INFLIGHT_MAX] = len;
	c->reqenc[hdr.req_id % CONN_INFLIGHT_MAX] = ENC_TTLV;
	c->pending++;
	fe->inflight_bytes += len;
	return (0);
}

/*
 * The next HTTP request of c: 1 when its head is valid and its body has
 * come (*req says what it is), 0 when more is needed, 2 when it was
 * refused (c answers the error after the answers it owes, and closes),
 * -1 when c was closed.  The head is looked at in a copy: the input is
 * left as it is until the request is taken whole.
 */
static int
fe_http_next(struct fe_conn *c, struct evbuffer *in, size_t avail,
    struct http_req *req)
{
	static char	 head[HTTP_HEAD_MAX];
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	size_t		 n = avail < sizeof(head) ? avail : sizeof(head);
	int		 st;

	/* A head is parsed once, not again for each byte of its body. */
	if (c->have_req) {
		*req = c->req;
		goto body;
	}
	if (evbuffer_copyout(in, head, n) != (ev_ssize_t)n) {
		fe_close(c, "evbuffer_copyout failed");
		return (-1);
	}
	st = http_head(head, n, fe->limits.max_message, req);
	/* It may hold the start of the body. */
	explicit_bzero(head, n);
	if (st == 0)
		return (0);
	if (st != 200) {
		fe_http_fail(c, st, "request head refused");
		return (c->bev == NULL ? -1 : 2);
	}
	c->req = *req;
	c->have_req = 1;
 body:
	if (avail - req->headlen < req->bodylen) {
		/*
		 * A client that waits for 100 Continue gets it once its
		 * earlier answers are out; before, it would land among them.
		 */
		if (req->expect && !c->continued &&
		    c->next_req + 1 == c->next_resp) {
			bufferevent_write(c->bev, cont, sizeof(cont) - 1);
			c->continued = 1;
		}
		return (0);
	}
	return (1);
}

/*
 * Take the request described by req off the input, convert its body to
 * TTLV and send that to the engine.  A body that is not one message in
 * its encoding is answered with 400.  -1 if c was closed.
 */
static int
fe_http_forward(struct fe_conn *c, struct evbuffer *in,
    const struct http_req *req)
{
	struct evbuffer_iovec	 v[16], *vec = v;
	uint8_t			*body, *msg = NULL;
	const char		*err = NULL;
	size_t			 flen, msglen = 0, off, n, blen = req->bodylen;
	int			 i, nvec, rv;

	if (evbuffer_drain(in, req->headlen) == -1) {
		fe_close(c, "evbuffer_drain failed");
		return (-1);
	}
	c->continued = 0;
	c->have_req = 0;
	if (req->close)
		c->paused |= PAUSE_CLOSING;
	/* Copied out and wiped in place, as fe_forward does. */
	if ((body = malloc(blen > 0 ? blen : 1)) == NULL) {
		fe_close(c, "out of memory");
		return (-1);
	}
	nvec = blen > 0 ? evbuffer_peek(in, blen, NULL, NULL, 0) : 0;
	if (nvec > (int)(sizeof(v) / sizeof(v[0])) &&
	    (vec = reallocarray(NULL, nvec, sizeof(*vec))) == NULL) {
		free(body);
		fe_close(c, "out of memory");
		return (-1);
	}
	if (nvec > 0 && evbuffer_peek(in, blen, NULL, vec, nvec) != nvec)
		nvec = -1;
	for (i = 0, off = 0; i < nvec && off < blen; i++) {
		n = vec[i].iov_len < blen - off ? vec[i].iov_len : blen - off;
		memcpy(body + off, vec[i].iov_base, n);
		explicit_bzero(vec[i].iov_base, n);
		off += n;
	}
	if (vec != v)
		free(vec);
	if (off != blen) {
		freezero(body, blen > 0 ? blen : 1);
		fe_close(c, "evbuffer_peek failed");
		return (-1);
	}
	(void)evbuffer_drain(in, blen);

	if (req->enc == ENC_TTLV) {
		/* Exactly one TTLV message, as on a plain connection. */
		if (frame_next(body, blen, fe->limits.max_message, &flen) ==
		    FRAME_OK && flen == blen) {
			msg = body;
			msglen = blen;
			body = NULL;
		} else
			err = "the body is not one TTLV message";
	} else if (msgenc_to_ttlv(req->enc, (const char *)body, blen,
	    fe->limits.max_message, &msg, &msglen, &err) == -1)
		msg = NULL;
	if (body != NULL)
		freezero(body, blen > 0 ? blen : 1);
	if (msg == NULL) {
		fe_http_fail(c, 400, err);
		return (c->bev == NULL ? -1 : 0);
	}
	rv = fe_send(c, msg, msglen, req->enc);
	freezero(msg, msglen);
	return (rv);
}

/*
 * Refuse the request being read: no more is read, the error is answered
 * after the answers c owes, then c is closed.  The client learns what
 * was wrong with it; the log says so too.
 */
static void
fe_http_fail(struct fe_conn *c, int status, const char *why)
{
	log_info("%s: HTTP %d %s: %s", c->peer, status, http_reason(status),
	    why);
	c->http_status = status;
	c->paused |= PAUSE_CLOSING;
	(void)fe_http_finish(c);
}

/*
 * A connection closing (an error, or Connection: close) whose answers
 * are all written: write the error, if any, and close once it is out.
 * -1 if c was closed.
 */
static int
fe_http_finish(struct fe_conn *c)
{
	char	 buf[256];
	int	 n;

	if (c->bev == NULL || c->closing || c->next_req + 1 != c->next_resp)
		return (0);
	if (c->http_status != 0) {
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
		    "Content-Length: 0\r\n%sConnection: close\r\n\r\n",
		    c->http_status, http_reason(c->http_status),
		    c->http_status == 405 ? "Allow: POST\r\n" : "");
		if (n > 0 && (size_t)n < sizeof(buf))
			bufferevent_write(c->bev, buf, n);
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		fe_close(c, NULL);
		return (-1);
	}
	/* fe_written closes it once everything is written. */
	c->closing = 1;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_disable(c->bev, EV_READ);
	return (0);
}

/* A converted request, len bytes of TTLV, to the engine. */
static int
fe_send(struct fe_conn *c, const uint8_t *msg, size_t len, enum msg_enc enc)
{
	struct fe_hdr	 hdr;
	struct ibuf	*ib;

	memset(&hdr, 0, sizeof(hdr));
	hdr.conn_id = c->id;
	hdr.req_id = ++c->next_req;
	(void)strlcpy(hdr.identity, c->identity, sizeof(hdr.identity));
	(void)strlcpy(hdr.peer, c->peer, sizeof(hdr.peer));
	memcpy(hdr.cert_sha256, c->cert_sha256, sizeof(hdr.cert_sha256));
	if ((ib = imsg_create(&fe->engine.ibuf, IMSG_FE_REQUEST, 0, 0,
	    sizeof(hdr) + len)) == NULL || imsg_add(ib, &hdr,
	    sizeof(hdr)) == -1 || imsg_add(ib, msg, len) == -1) {
		fe_close(c, "cannot queue the request for the engine");
		return (-1);
	}
	imsg_close(&fe->engine.ibuf, ib);
	imsg_event_add(&fe->engine);
	c->reqlen[hdr.req_id % CONN_INFLIGHT_MAX] = len;
	c->reqenc[hdr.req_id % CONN_INFLIGHT_MAX] = enc;
	c->pending++;
	fe->inflight_bytes += len;
	return (0);
}

/*
 * Write one answer of the engine to c: as it is on a TTLV connection, as
 * the body of an HTTP response in the encoding of its request otherwise.
 */
static void
fe_emit(struct fe_conn *c, enum msg_enc enc, const uint8_t *data,
    size_t len)
{
	char		 hdr[256], *text = NULL;
	size_t		 tlen = 0;
	int		 n, last;

	if (c->mode != MODE_HTTP) {
		bufferevent_write(c->bev, data, len);
		return;
	}
	/* The last answer before a close the client asked for says so. */
	last = c->paused & PAUSE_CLOSING && c->http_status == 0 &&
	    c->next_resp == c->next_req;
	if (enc != ENC_TTLV &&
	    msgenc_from_ttlv(enc, data, len, &text, &tlen) == -1) {
		log_warnx("%s: an answer of the engine cannot be converted",
		    c->peer);
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 500 %s\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n",
		    http_reason(500));
		bufferevent_write(c->bev, hdr, n);
		/* Nothing after it: the client cannot know what it was. */
		c->paused |= PAUSE_CLOSING;
		return;
	}
	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-cache\r\n%s\r\n", http_ctype(enc),
	    enc == ENC_TTLV ? len : tlen, last ? "Connection: close\r\n" : "");
	bufferevent_write(c->bev, hdr, n);
	if (enc == ENC_TTLV)
		bufferevent_write(c->bev, data, len);
	else {
		bufferevent_write(c->bev, text, tlen);
		freezero(text, tlen);
	}
}

/* The answers are down to the low-water mark: read again. */
static void
fe_written(struct bufferevent *bev, void *arg)
{
	struct fe_conn	*c = arg;

	if (c->closing) {
		/* The low-water mark is 0 now: all of it is written. */
		fe_close(c, NULL);
		return;
	}
	if (c->paused & PAUSE_OUTPUT) {
		c->paused &= ~PAUSE_OUTPUT;
		(void)fe_process(c, 0);
	}
}

/*
 * Close the connection.  While the engine still has requests of it, it
 * stays on fe->conns, closed, so that their bytes are counted until the
 * answers come.
 */
static void
fe_close(struct fe_conn *c, const char *why)
{
	struct fe_resp	*rp;
	struct fe_hdr	 hdr;

	if (c->bev == NULL)
		return;
	/*
	 * One never admitted is logged as the engine records it, at the
	 * refusals' rate (fe_refused): anyone may open handshakes.
	 */
	if (why == NULL)
		log_debug("%s: closed", c->peer);
	else if (c->ready)
		log_info("%s: closing: %s", c->peer, why);
	/* What the engine keeps for the connection (streams) goes. */
	if (c->next_req > 0 && fe->engine.active) {
		memset(&hdr, 0, sizeof(hdr));
		hdr.conn_id = c->id;
		(void)imsg_compose_event(&fe->engine, IMSG_FE_CLOSED, 0, 0, -1,
		    &hdr, sizeof(hdr));
	}
	while ((rp = TAILQ_FIRST(&c->held)) != NULL) {
		TAILQ_REMOVE(&c->held, rp, entry);
		freezero(rp, sizeof(*rp) + rp->len);
	}
	if (c->waiting) {
		TAILQ_REMOVE(&fe->waitq, c, wait);
		c->waiting = 0;
	}
	evtimer_del(&c->tmo);
	(void)SSL_set_ex_data(bufferevent_openssl_get_ssl(c->bev),
	    fe_ssl_idx, NULL);
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->ready)
		fe->nready--;
	else {
		fe->nhandshakes--;
		if (!c->refused)
			fe->stats.failed++;
		/*
		 * No reason: the client went before its first TLS record
		 * (a port scan, a health check), or signerd is stopping.
		 */
		if (why != NULL)
			fe_refused(c, why);
	}
	fe_stats_changed();
	if (c->pending == 0)
		fe_free(c);
}

/*
 * The counters changed: the engine hears of it within 100 ms, in one
 * message however many connections came and went meanwhile.
 */
static void
fe_stats_changed(void)
{
	struct timeval	 tv = { 0, 100000 };

	if (fe->stats_due)
		return;
	fe->stats_due = 1;
	evtimer_add(&fe->stats_ev, &tv);
}

static void
fe_stats_send(int fd, short event, void *arg)
{
	fe->stats_due = 0;
	if (!fe->engine.active)
		return;
	fe->stats.open = fe->nready;
	fe->stats.handshakes = fe->nhandshakes;
	imsg_compose_event(&fe->engine, IMSG_FE_STATS, 0, 0, -1, &fe->stats,
	    sizeof(fe->stats));
}

/*
 * Every certificate a client shows passes here before it is judged: the
 * fingerprint and CN of the client's own are kept, so that a refusal
 * can say what it showed (OpenSSL 3.0 keeps no peer certificate once
 * the verification failed).  The verdict is OpenSSL's.
 */
static int
fe_verify(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	struct fe_conn	*c;
	X509		*x;
	unsigned int	 n = sizeof(c->shown_sha256);

	if ((ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx())) == NULL ||
	    (c = SSL_get_ex_data(ssl, fe_ssl_idx)) == NULL)
		return (ok);
	/* "certificate verify failed" says less than this. */
	if (!ok && c->verify_error == 0)
		c->verify_error = X509_STORE_CTX_get_error(xs);
	if (c->shown || (x = X509_STORE_CTX_get0_cert(xs)) == NULL)
		return (ok);
	c->shown = 1;
	if (X509_digest(x, EVP_sha256(), c->shown_sha256, &n) != 1 ||
	    n != sizeof(c->shown_sha256)) {
		memset(c->shown_sha256, 0, sizeof(c->shown_sha256));
		ERR_clear_error();
	}
	fe_claimed(x, c->claimed, sizeof(c->claimed));
	return (ok);
}

/*
 * The CN a certificate claims, whatever it is, for the record: its first
 * subject CN as UTF-8, cut to fit, anything not printable made a '?'.
 * "" if it has none.
 */
static void
fe_claimed(X509 *x, char *buf, size_t len)
{
	X509_NAME	*name;
	X509_NAME_ENTRY	*ne;
	ASN1_STRING	*as;
	unsigned char	*u = NULL;
	int		 pos, n;

	buf[0] = '\0';
	if ((name = X509_get_subject_name(x)) == NULL ||
	    (pos = X509_NAME_get_index_by_NID(name, NID_commonName,
	    -1)) < 0 || (ne = X509_NAME_get_entry(name, pos)) == NULL ||
	    (as = X509_NAME_ENTRY_get_data(ne)) == NULL ||
	    (n = ASN1_STRING_to_UTF8(&u, as)) < 0) {
		ERR_clear_error();
		return;
	}
	if ((size_t)n >= len)
		n = len - 1;
	memcpy(buf, u, n);
	buf[n] = '\0';		/* a NUL inside ends it earlier */
	OPENSSL_free(u);
	ttlv_text_clean(buf);
}

/*
 * c was closed before it was admitted, for why: the engine records it,
 * unless the bucket is empty, then it is counted.
 */
static void
fe_refused(struct fe_conn *c, const char *why)
{
	struct fe_refused	 r;
	struct timeval		 tv = { 1, 0 };

	if (!fe_refused_take()) {
		fe->refused_suppressed++;
		/* The count goes on its own if no report takes it. */
		if (!evtimer_pending(&fe->refused_ev, NULL))
			evtimer_add(&fe->refused_ev, &tv);
		return;
	}
	memset(&r, 0, sizeof(r));
	(void)strlcpy(r.peer, c->peer, sizeof(r.peer));
	if (c->shown) {
		(void)strlcpy(r.claimed, c->claimed, sizeof(r.claimed));
		memcpy(r.cert_sha256, c->shown_sha256,
		    sizeof(r.cert_sha256));
	}
	if (c->verify_error != 0)
		(void)snprintf(r.reason, sizeof(r.reason), "%s: %s", why,
		    X509_verify_cert_error_string(c->verify_error));
	else
		(void)strlcpy(r.reason, why, sizeof(r.reason));
	ttlv_text_clean(r.reason);
	if (fe_refused_send(&r) == -1)
		fe->refused_suppressed++;
}

/* A token of the bucket, if there is one: 1, else 0. */
static int
fe_refused_take(void)
{
	int64_t	 now = fe_msec(), ms = now - fe->refused_ms;

	if (ms > 0) {
		fe->refused_ms = now;
		fe->refused_tokens += ms * REFUSED_RATE;
		if (fe->refused_tokens > REFUSED_BURST * 1000)
			fe->refused_tokens = REFUSED_BURST * 1000;
	}
	if (fe->refused_tokens < 1000)
		return (0);
	fe->refused_tokens -= 1000;
	return (1);
}

/*
 * r to the engine, with the count of those not sent before it; to the
 * log as well, at the same rate.
 */
static int
fe_refused_send(struct fe_refused *r)
{
	if (r->peer[0] != '\0')
		log_info("%s: closing: %s", r->peer, r->reason);
	r->suppressed = fe->refused_suppressed;
	if (!fe->engine.active || imsg_compose_event(&fe->engine,
	    IMSG_FE_REFUSED, 0, 0, -1, r, sizeof(*r)) == -1)
		return (-1);
	if (r->suppressed > 0)
		log_info("%llu refused connections beyond %d a second not "
		    "logged one by one", (unsigned long long)r->suppressed,
		    REFUSED_RATE);
	fe->refused_suppressed = 0;
	return (0);
}

/* Refusals counted and not sent for a second: their count alone. */
static void
fe_refused_count(int fd, short event, void *arg)
{
	struct fe_refused	 r;
	struct timeval		 tv = { 1, 0 };

	if (fe->refused_suppressed == 0)
		return;
	memset(&r, 0, sizeof(r));
	(void)snprintf(r.reason, sizeof(r.reason), "refusals beyond %d a "
	    "second, not recorded one by one", REFUSED_RATE);
	if (fe_refused_send(&r) == -1)
		evtimer_add(&fe->refused_ev, &tv);	/* no engine now */
}

/*
 * A monotonic clock, in milliseconds.  It cannot fail with this clock;
 * were it to, the refusals' rate would be off, and nothing would end.
 */
static int64_t
fe_msec(void)
{
	struct timespec	 ts = { 0, 0 };

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
fe_free(struct fe_conn *c)
{
	TAILQ_REMOVE(&fe->conns, c, entry);
	RB_REMOVE(fe_conn_ids, &fe->ids, c);
	free(c);
}

/* Connections waiting for room at the engine, in order, while it lasts. */
static void
fe_waitq_run(void)
{
	struct fe_conn	*c;

	while ((c = TAILQ_FIRST(&fe->waitq)) != NULL) {
		TAILQ_REMOVE(&fe->waitq, c, wait);
		c->waiting = 0;
		if (fe_process(c, 1) == 0 && c->waiting)
			break;		/* still no room: back at the head */
	}
}

/*
 * Responses go out in the order of their requests: one that is early
 * waits until those before it have gone.
 */
static void
fe_respond(struct fe_conn *c, uint64_t req_id, const uint8_t *data,
    size_t len)
{
	struct fe_resp	*rp, *t;
	size_t		 i = req_id % CONN_INFLIGHT_MAX;
	enum msg_enc	 enc = c->reqenc[i];

	if (req_id < c->next_resp || req_id > c->next_req ||
	    c->reqlen[i] == 0) {
		/* Not a request of this connection at the engine. */
		if (c->bev != NULL)
			fe_close(c, "the engine answered out of turn");
		return;
	}
	fe->inflight_bytes -= c->reqlen[i];
	c->reqlen[i] = 0;
	c->pending--;
	if (c->bev == NULL) {
		if (c->pending == 0)
			fe_free(c);
		return;
	}
	if (len == 0) {
		fe_close(c, "the engine answered out of turn");
		return;
	}
	if (req_id != c->next_resp) {
		if ((rp = malloc(sizeof(*rp) + len)) == NULL) {
			fe_close(c, "out of memory for an early answer");
			return;
		}
		rp->req_id = req_id;
		rp->enc = enc;
		rp->len = len;
		memcpy(rp->data, data, len);
		TAILQ_FOREACH(t, &c->held, entry)
			if (t->req_id > req_id)
				break;
		if (t != NULL)
			TAILQ_INSERT_BEFORE(t, rp, entry);
		else
			TAILQ_INSERT_TAIL(&c->held, rp, entry);
		return;
	}
	fe_emit(c, enc, data, len);
	c->next_resp++;
	while ((rp = TAILQ_FIRST(&c->held)) != NULL &&
	    rp->req_id == c->next_resp) {
		TAILQ_REMOVE(&c->held, rp, entry);
		fe_emit(c, rp->enc, rp->data, rp->len);
		c->next_resp++;
		freezero(rp, sizeof(*rp) + rp->len);
	}
	if (c->paused & PAUSE_CLOSING && fe_http_finish(c) == -1)
		return;
	/* A client that does not read its answers is not read either. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    (size_t)fe->limits.max_message)
		c->paused |= PAUSE_OUTPUT;
	(void)fe_process(c, 0);
}

static int
fe_conn_cmp(const struct fe_conn *a, const struct fe_conn *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

/* The connection an answer is for: a tree, not a scan of them all. */
static struct fe_conn *
fe_conn_find(uint64_t id)
{
	struct fe_conn	 find;

	find.id = id;
	return (RB_FIND(fe_conn_ids, &fe->ids, &find));
}

static void
fe_dispatch_engine(int fd, short event, void *arg)
{
	struct imsgev	*iev = &fe->engine;
	struct imsg	 imsg;
	struct ibuf	 ib;
	struct fe_hdr	 hdr;
	struct fe_conn	*c, *tc;
	ssize_t		 n;

	if (imsgev_io(iev, event) == -1) {
		/*
		 * The engine died: requests in flight have no answer coming.
		 * Their connections are closed; the client retries on a new
		 * one once the parent has linked the restarted engine.
		 */
		imsgev_clear(iev);
		TAILQ_FOREACH_SAFE(c, &fe->conns, entry, tc) {
			if (c->bev != NULL && c->next_req >= c->next_resp)
				fe_close(c, "engine restarted");
			if (c->bev == NULL)
				fe_free(c);
		}
		fe->inflight_bytes = 0;
		fe_waitq_run();
		return;
	}
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("engine imsg_get");
		if (n == 0)
			break;
		if (imsg_get_type(&imsg) != IMSG_FE_RESPONSE ||
		    imsg_get_ibuf(&imsg, &ib) == -1 ||
		    ibuf_get(&ib, &hdr, sizeof(hdr)) == -1)
			fatalx("bad imsg %u from the engine",
			    imsg_get_type(&imsg));
		if ((c = fe_conn_find(hdr.conn_id)) != NULL)
			fe_respond(c, hdr.req_id, ibuf_data(&ib),
			    ibuf_size(&ib));
		imsg_free(&imsg);
	}
	fe_waitq_run();
	imsg_event_add(iev);
}
