/*
 * signerd-frontend: the network frontend.
 *
 * Chrooted, unprivileged and sandboxed before it reads a single byte: the
 * parent sends it the listening sockets and the TLS certificates over fd
 * 3.  It terminates TLS, requires a client certificate (by default), reads
 * the client identity from it, frames KMIP TTLV messages with hard size
 * and time limits and hands each one to the engine.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "imsgev.h"
#include "signerd.h"
#include "tls.h"

#define TTLV_HEADER		8
#define TTLV_STRUCTURE		0x01

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
	size_t			 len;
	uint8_t			 data[];
};
TAILQ_HEAD(fe_resp_list, fe_resp);

struct fe_conn {
	TAILQ_ENTRY(fe_conn)	 entry;
	uint64_t		 id;
	struct fe_listener	*l;
	struct bufferevent	*bev;
	char			 peer[INET6_ADDRSTRLEN + 8];
	char			 identity[256];
	int			 ready;		/* handshake done */
	int			 closing;	/* close once flushed */
	int			 mid_message;	/* read timeout running */
	unsigned int		 inflight;
	uint64_t		 next_req;	/* id of the last request */
	uint64_t		 next_resp;	/* id of the next response due */
	struct fe_resp_list	 held;		/* responses that came early */
};
TAILQ_HEAD(fe_conn_list, fe_conn);

struct frontend {
	struct event_base	*base;
	struct imsgev		 parent;
	struct imsgev		 engine;
	struct frontend_limits	 limits;
	struct fe_listener_list	 listeners;
	struct fe_conn_list	 conns;
	unsigned int		 nconns;
	uint64_t		 next_conn;
	int			 configured;
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
static void		 fe_close(struct fe_conn *, const char *);
static void		 fe_set_timeout(struct fe_conn *, int);
static struct fe_conn	*fe_conn_find(uint64_t);
static void		 fe_respond(struct fe_conn *, uint64_t,
			    const uint8_t *, size_t);
static struct fe_listener *fe_listener_find(uint32_t);
static void		 pembuf_set(struct pembuf *, struct imsg *);
static void		 pembuf_free(struct pembuf *);

static struct frontend	*fe;

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
	if ((fe = calloc(1, sizeof(*fe))) == NULL)
		fatal(NULL);
	TAILQ_INIT(&fe->listeners);
	TAILQ_INIT(&fe->conns);

	priv_drop(user, root);
	fe->base = event_init();
	sandbox_apply(SANDBOX_FRONTEND);

	child_signals();

	if (imsgev_init(&fe->parent, PARENT_SOCK_FILENO, fe_dispatch_parent,
	    NULL, IMSG_MAX_INTERNAL, 1) == -1)
		fatal("parent channel");

	event_dispatch();

	while ((c = TAILQ_FIRST(&fe->conns)) != NULL)
		fe_close(c, NULL);
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
	int			 fd, port = 0;

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
	if (fe->nconns >= (unsigned int)fe->limits.max_connections) {
		log_warnx("%s:%d: refused, %d connections already",
		    host, port, fe->limits.max_connections);
		close(fd);
		return;
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
	fe->nconns++;
	bufferevent_setcb(c->bev, fe_read, fe_written, fe_event, c);
	/* The handshake is reading too: it gets the short timeout. */
	fe_set_timeout(c, 1);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("%s: connection %llu", c->peer, (unsigned long long)c->id);
}

/* Between messages a connection may idle; within one it must hurry. */
static void
fe_set_timeout(struct fe_conn *c, int mid_message)
{
	struct timeval	 tv;

	c->mid_message = mid_message;
	tv.tv_sec = mid_message ? fe->limits.read_timeout :
	    fe->limits.idle_timeout;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
}

static void
fe_event(struct bufferevent *bev, short what, void *arg)
{
	struct fe_conn	*c = arg;
	unsigned long	 e;
	char		 buf[256];

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);

		c->ready = 1;
		if (tls_peer_cn(ssl, c->identity, sizeof(c->identity)) == -1)
			(void)strlcpy(c->identity, "", sizeof(c->identity));
		log_info("%s: client \"%s\", %s", c->peer, c->identity,
		    SSL_get_version(ssl));
		fe_set_timeout(c, 0);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (!c->ready)
			fe_close(c, "handshake timed out");
		else if (c->mid_message)
			fe_close(c, "timed out in the middle of a message");
		else {
			/* Pooled client connections idle out all the time. */
			log_debug("%s: idle for %d s, closing", c->peer,
			    fe->limits.idle_timeout);
			fe_close(c, NULL);
		}
	}
	else if (what & BEV_EVENT_EOF)
		fe_close(c, NULL);
	else {
		e = bufferevent_get_openssl_error(bev);
		if (e == 0 ||
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			/* A client that just went away, without close_notify. */
			fe_close(c, NULL);
		else {
			ERR_error_string_n(e, buf, sizeof(buf));
			fe_close(c, buf);
		}
		ERR_clear_error();
	}
}

/*
 * Frame TTLV Request Messages: an 8-byte header (tag, type, length) then
 * the length in bytes.  The length is checked before anything is kept.
 */
static void
fe_read(struct bufferevent *bev, void *arg)
{
	struct fe_conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct fe_hdr		 hdr;
	struct ibuf		*ib;
	unsigned char		 h[TTLV_HEADER];
	uint32_t		 len;
	size_t			 avail;

	while (!c->closing && (avail = evbuffer_get_length(in)) > 0) {
		if (avail < TTLV_HEADER) {
			fe_set_timeout(c, 1);
			return;
		}
		if (evbuffer_copyout(in, h, sizeof(h)) != sizeof(h))
			fatalx("evbuffer_copyout");
		len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
		    (uint32_t)h[6] << 8 | h[7];
		/*
		 * Anything that can be framed goes to the engine, which
		 * answers what is not a valid request with Invalid Message.
		 * A length that cannot be a KMIP item leaves nothing to frame.
		 */
		if (h[3] == TTLV_STRUCTURE && len % 8 != 0) {
			fe_close(c, "not a KMIP message (bad length)");
			return;
		}
		if (len > (uint32_t)fe->limits.max_message - TTLV_HEADER) {
			log_warnx("%s: message of %u bytes exceeds max "
			    "message %d", c->peer, len + TTLV_HEADER,
			    fe->limits.max_message);
			fe_close(c, NULL);
			return;
		}
		if (avail < TTLV_HEADER + (size_t)len) {
			fe_set_timeout(c, 1);
			return;
		}
		if (!fe->engine.active) {
			fe_close(c, "engine unavailable");
			return;
		}
		memset(&hdr, 0, sizeof(hdr));
		hdr.conn_id = c->id;
		hdr.req_id = ++c->next_req;
		(void)strlcpy(hdr.identity, c->identity, sizeof(hdr.identity));
		if ((ib = imsg_create(&fe->engine.ibuf, IMSG_FE_REQUEST, 0, 0,
		    sizeof(hdr) + TTLV_HEADER + len)) == NULL ||
		    imsg_add(ib, &hdr, sizeof(hdr)) == -1 ||
		    imsg_add(ib, evbuffer_pullup(in, TTLV_HEADER + len),
		    TTLV_HEADER + len) == -1)
			fatal("imsg_create");
		imsg_close(&fe->engine.ibuf, ib);
		imsg_event_add(&fe->engine);
		evbuffer_drain(in, TTLV_HEADER + len);
		c->inflight++;
	}
	fe_set_timeout(c, 0);
}

static void
fe_written(struct bufferevent *bev, void *arg)
{
	struct fe_conn	*c = arg;

	if (c->closing)
		fe_close(c, NULL);
}

static void
fe_close(struct fe_conn *c, const char *why)
{
	struct fe_resp	*rp;

	if (why != NULL)
		log_info("%s: closing: %s", c->peer, why);
	else
		log_debug("%s: closed", c->peer);
	while ((rp = TAILQ_FIRST(&c->held)) != NULL) {
		TAILQ_REMOVE(&c->held, rp, entry);
		free(rp);
	}
	TAILQ_REMOVE(&fe->conns, c, entry);
	fe->nconns--;
	bufferevent_free(c->bev);
	free(c);
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

	if (req_id < c->next_resp || req_id > c->next_req || len == 0) {
		fe_close(c, "the engine answered out of turn");
		return;
	}
	c->inflight--;
	if (req_id != c->next_resp) {
		if ((rp = malloc(sizeof(*rp) + len)) == NULL)
			fatal(NULL);
		rp->req_id = req_id;
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
	bufferevent_write(c->bev, data, len);
	c->next_resp++;
	while ((rp = TAILQ_FIRST(&c->held)) != NULL &&
	    rp->req_id == c->next_resp) {
		TAILQ_REMOVE(&c->held, rp, entry);
		bufferevent_write(c->bev, rp->data, rp->len);
		c->next_resp++;
		free(rp);
	}
}

static struct fe_conn *
fe_conn_find(uint64_t id)
{
	struct fe_conn	*c;

	TAILQ_FOREACH(c, &fe->conns, entry)
		if (c->id == id)
			return (c);
	return (NULL);
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
		TAILQ_FOREACH_SAFE(c, &fe->conns, entry, tc)
			if (c->inflight > 0)
				fe_close(c, "engine restarted");
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
	imsg_event_add(iev);
}
