/*
 * kmipbench: a KMIP load generator for signerd.  N clients, each a
 * thread with one persistent TLS connection (client certificate), send
 * request messages of B batch items (each with its own Unique Batch Item
 * ID), up to P of them in flight per connection, for a time or a count.
 * After a warm-up, R runs are measured; each run and the medians are
 * printed: operations per second and per-request latency (p50, p99).
 * For the sign operations the raw OpenSSL rate of this machine (one
 * thread, EVP_DigestSign, a fresh key of the same kind, the same
 * message) is measured between the runs and the ratio printed (unless
 * -R: the yardstick is another program, e.g. p11bench for a pkcs11
 * signer).  The key pair is made by the default signer in the set-up,
 * or given (-i); -S only makes it and prints its private key's
 * identifier, so that one key serves several runs and other programs
 * (in a PKCS#11 token, the key's label is that identifier).
 *
 * With -N, each request goes on a new connection instead (one client):
 * connect, TLS handshake, one request, its answer, close, in a loop; the
 * handshake time and the time from its end to the first answer are
 * printed (p50, p99), as a client that connects per request sees them.
 *
 * Every batch item of every response must be a Success; a failure is
 * reported and makes the exit status 1.  Not part of the test suite:
 * `make bench` runs it through etc/bench.sh.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kmip.h"
#include "ttlv.h"

#define BENCH_MSGLEN		64	/* bytes signed by each Sign */
#define BENCH_MAXCLIENTS	1024
#define BENCH_MAXBATCH		1000
#define BENCH_MAXDEPTH		256
#define BENCH_MAXRUNS		99
#define BENCH_IOTIMEOUT		30	/* seconds, per read or write */

enum bench_kind {
	BK_SIGN,
	BK_CREATE,
	BK_GET,
	BK_LOCATE
};

struct bench_op {
	const char	*name;
	enum bench_kind	 kind;
	uint32_t	 alg;		/* KMIP Cryptographic Algorithm */
	int32_t		 bits;
	const char	*raw_type;	/* EVP_PKEY_Q_keygen type */
};

static const struct bench_op bench_ops[] = {
	{ "sign-rsa2048",	BK_SIGN,	KMIP_ALG_RSA,	  2048, "RSA" },
	{ "sign-p256",		BK_SIGN,	KMIP_ALG_ECDSA,	  256,	"EC" },
	{ "sign-ed25519",	BK_SIGN,	KMIP_ALG_ED25519, 256,
	    "ED25519" },
	{ "create-aes256",	BK_CREATE,	KMIP_ALG_AES,	  256,	NULL },
	/* Get of the public half of a P-256 pair made in the set-up. */
	{ "get",		BK_GET,		KMIP_ALG_ECDSA,	  256,	NULL },
	/* Locate by the Name given with -L (BENCH_PARTS=scale, ksfill). */
	{ "locate",		BK_LOCATE,	KMIP_ALG_ECDSA,	  256,	NULL }
};

struct client {
	pthread_t		 thread;
	int			 id;
	int			 fd;
	SSL			*ssl;
	uint8_t			*rbuf;		/* one response */
	size_t			 rbufsz;
	struct timespec		*sent;		/* ring, one per in flight */
	double			*lat;		/* ms, this phase */
	size_t			 nlat;
	size_t			 latcap;
	uint64_t		 items;		/* successful items, phase */
	uint64_t		 failed;	/* failed items, phase */
	char			 error[256];	/* the first failure */
};

struct run {
	double		 rate;		/* items per second */
	double		 p50;		/* ms per request */
	double		 p99;
	double		 raw;		/* raw OpenSSL signatures per second */
	double		 cpu;		/* the client's CPU, us per item */
};

/* Options and what the set-up made; read-only once threads run. */
static struct {
	const struct bench_op	*op;
	const char		*addr;
	const char		*port;
	const char		*pki;
	int			 clients;
	int			 batch;
	int			 depth;
	int			 runs;
	long long		 count;		/* requests per client, or 0 */
	double			 seconds;
	double			 warmup;
	const char		*key;		/* -i: the private key */
	const char		*name;		/* -L: what Locate looks for */
	int			 setup_only;	/* -S */
	int			 noraw;		/* -R */
	int			 newconn;	/* -N */
	SSL_CTX			*ctx;
	struct addrinfo		*ai;
	uint8_t			*req;		/* the request, encoded once */
	size_t			 reqlen;
	uint8_t			 msg[BENCH_MSGLEN];
} bench;

/* A phase: its end (by clock or count) and whether to keep latencies. */
struct phase {
	struct timespec		 end;
	long long		 count;
	int			 record;
};

static struct phase	 phase;

static void		 usage(void) __attribute__((__noreturn__));
static void		 ssl_fatalx(const char *, ...)
			    __attribute__((__noreturn__))
			    __attribute__((__format__(printf, 1, 2)));
static double		 ts_ms(const struct timespec *,
			    const struct timespec *);
static void		 ts_add(struct timespec *, double);
static int		 ts_before(const struct timespec *,
			    const struct timespec *);
static SSL_CTX		*tls_setup(void);
static void		 client_connect(struct client *);
static void		 client_write(struct client *, const uint8_t *,
			    size_t);
static size_t		 client_read(struct client *);
static struct ttlv	*msg_new(int);
static struct ttlv	*msg_item(struct ttlv *, uint32_t, uint32_t);
static struct ttlv	*attr_add(struct ttlv *, const char *);
static uint8_t		*msg_encode(struct ttlv *, size_t *);
static struct ttlv	*kmip_call(struct client *, struct ttlv *,
			    const struct ttlv **);
static void		 setup_pair(struct client *, char *, size_t,
			    char *, size_t);
static void		 setup_request(struct client *);
static int		 check_response(struct client *, size_t);
static void		 client_fail(struct client *, const char *, ...)
			    __attribute__((__format__(printf, 2, 3)));
static void		*client_main(void *);
static void		 run_phase(struct client *, double, int,
			    struct run *);
static double		 tv_us(const struct timeval *);
static int		 dbl_cmp(const void *, const void *);
static double		 percentile(double *, size_t, double);
static double		 median(double *, int);
static void		 lat_add(double **, size_t *, size_t *, double);
static void		 newconn_run(struct client *, double, int,
			    struct run *, double *);
static void		 newconn_bench(struct client *);
static EVP_PKEY		*raw_key(void);
static double		 raw_rate(EVP_PKEY *, double);

static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: kmipbench [-NRS] [-b batch] [-c clients] "
	    "[-i id] [-k pkidir] [-L name] [-n count]\n"
	    "\t[-p depth] [-r runs] [-s address] [-t seconds] [-w warmup] "
	    "-o operation port\n");
	fprintf(stderr, "operations:");
	for (i = 0; i < sizeof(bench_ops) / sizeof(bench_ops[0]); i++)
		fprintf(stderr, " %s", bench_ops[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

static void
ssl_fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "kmipbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static double
ts_ms(const struct timespec *a, const struct timespec *b)
{
	return ((b->tv_sec - a->tv_sec) * 1e3 +
	    (b->tv_nsec - a->tv_nsec) / 1e6);
}

static void
ts_add(struct timespec *t, double secs)
{
	long long	 ns;

	ns = t->tv_nsec + (long long)(secs * 1e9);
	t->tv_sec += ns / 1000000000;
	t->tv_nsec = ns % 1000000000;
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec));
}

/* TLS client context: the test PKI's CA, alice's certificate. */
static SSL_CTX *
tls_setup(void)
{
	SSL_CTX		*ctx;
	char		 ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];

	if ((size_t)snprintf(ca, sizeof(ca), "%s/ca.crt", bench.pki) >=
	    sizeof(ca) ||
	    (size_t)snprintf(crt, sizeof(crt), "%s/client.crt", bench.pki) >=
	    sizeof(crt) ||
	    (size_t)snprintf(key, sizeof(key), "%s/client.key", bench.pki) >=
	    sizeof(key))
		errx(1, "pki directory name too long");
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		ssl_fatalx("SSL_CTX_new");
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		ssl_fatalx("SSL_CTX_set_min_proto_version");
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		ssl_fatalx("%s", ca);
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1)
		ssl_fatalx("%s", crt);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		ssl_fatalx("%s", key);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return (ctx);
}

static void
client_connect(struct client *c)
{
	struct timeval	 tv;
	unsigned char	 ip[sizeof(struct in6_addr)];
	int		 on = 1;

	c->fd = socket(bench.ai->ai_family, bench.ai->ai_socktype,
	    bench.ai->ai_protocol);
	if (c->fd == -1)
		err(1, "socket");
	/* A stuck server ends the bench instead of hanging it. */
	tv.tv_sec = BENCH_IOTIMEOUT;
	tv.tv_usec = 0;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
	    -1 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ==
	    -1 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ==
	    -1)
		err(1, "setsockopt");
	if (connect(c->fd, bench.ai->ai_addr, bench.ai->ai_addrlen) == -1)
		err(1, "connect %s port %s", bench.addr, bench.port);
	if ((c->ssl = SSL_new(bench.ctx)) == NULL)
		ssl_fatalx("SSL_new");
	if (inet_pton(AF_INET, bench.addr, ip) == 1 ||
	    inet_pton(AF_INET6, bench.addr, ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
		    bench.addr) != 1)
			ssl_fatalx("X509_VERIFY_PARAM_set1_ip_asc");
	} else if (SSL_set1_host(c->ssl, bench.addr) != 1)
		ssl_fatalx("SSL_set1_host");
	if (SSL_set_fd(c->ssl, c->fd) != 1)
		ssl_fatalx("SSL_set_fd");
	if (SSL_connect(c->ssl) != 1)
		ssl_fatalx("client %d: TLS handshake with %s port %s", c->id,
		    bench.addr, bench.port);
}

static void
client_write(struct client *c, const uint8_t *buf, size_t len)
{
	size_t	 w;

	if (SSL_write_ex(c->ssl, buf, len, &w) != 1 || w != len)
		ssl_fatalx("client %d: write failed (server gone or %d s "
		    "timeout)", c->id, BENCH_IOTIMEOUT);
}

/* One whole TTLV item into c->rbuf; its length. */
static size_t
client_read(struct client *c)
{
	size_t	 have = 0, need = TTLV_HEADER_LEN, r;
	uint8_t	*p;

	while (have < need) {
		if (need > c->rbufsz) {
			if ((p = realloc(c->rbuf, need)) == NULL)
				err(1, NULL);
			c->rbuf = p;
			c->rbufsz = need;
		}
		if (SSL_read_ex(c->ssl, c->rbuf + have, need - have, &r) != 1)
			ssl_fatalx("client %d: read failed (server closed or "
			    "%d s timeout)", c->id, BENCH_IOTIMEOUT);
		have += r;
		if (have == TTLV_HEADER_LEN && need == TTLV_HEADER_LEN) {
			if (ttlv_frame_len(c->rbuf, have, NULL, NULL,
			    &need) == -1 || need > 16 * 1024 * 1024)
				errx(1, "client %d: bad response length",
				    c->id);
		}
	}
	return (have);
}

/* A Request Message, protocol 1.2, with a header for n batch items. */
static struct ttlv *
msg_new(int n)
{
	struct ttlv	*m, *h, *v;

	m = ttlv_new_structure(KMIP_TAG_REQUEST_MESSAGE);
	h = ttlv_add_structure(m, KMIP_TAG_REQUEST_HEADER);
	v = ttlv_add_structure(h, KMIP_TAG_PROTOCOL_VERSION);
	ttlv_add_integer(v, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	ttlv_add_integer(v, KMIP_TAG_PROTOCOL_VERSION_MINOR, 2);
	ttlv_add_integer(h, KMIP_TAG_BATCH_COUNT, n);
	return (m);
}

/* A batch item (ubi 0: without a Unique Batch Item ID); its payload. */
static struct ttlv *
msg_item(struct ttlv *m, uint32_t op, uint32_t ubi)
{
	struct ttlv	*it;
	uint8_t		 id[4];

	it = ttlv_add_structure(m, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(it, KMIP_TAG_OPERATION, op);
	if (ubi != 0) {
		id[0] = ubi >> 24;
		id[1] = ubi >> 16;
		id[2] = ubi >> 8;
		id[3] = ubi;
		ttlv_add_bytes(it, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, id,
		    sizeof(id));
	}
	return (ttlv_add_structure(it, KMIP_TAG_REQUEST_PAYLOAD));
}

/* An Attribute with its name; the caller adds the Attribute Value. */
static struct ttlv *
attr_add(struct ttlv *ta, const char *name)
{
	struct ttlv	*a;

	a = ttlv_add_structure(ta, KMIP_TAG_ATTRIBUTE);
	ttlv_add_string(a, KMIP_TAG_ATTRIBUTE_NAME, name);
	return (a);
}

static uint8_t *
msg_encode(struct ttlv *m, size_t *lenp)
{
	uint8_t		*buf;
	size_t		 len;

	len = ttlv_encoded_len(m);
	if ((buf = malloc(len)) == NULL)
		err(1, NULL);
	if (ttlv_encode(m, buf, len) == -1)
		errx(1, "ttlv_encode");
	*lenp = len;
	return (buf);
}

/*
 * One request of one batch item, synchronously (set-up only).  Fatal
 * unless it succeeds; the decoded response, its payload in *payload.
 */
static struct ttlv *
kmip_call(struct client *c, struct ttlv *m, const struct ttlv **payload)
{
	struct ttlv	*resp, *it;
	uint8_t		*buf;
	const char	*e;
	char		 why[128];
	size_t		 len;
	uint32_t	 st, op, reason = 0;

	buf = msg_encode(m, &len);
	client_write(c, buf, len);
	free(buf);
	len = client_read(c);
	if (ttlv_decode(c->rbuf, len, NULL, &resp, &e) == -1)
		errx(1, "set-up: bad response: %s", e);
	if ((it = ttlv_find(resp, KMIP_TAG_BATCH_ITEM)) == NULL ||
	    ttlv_get_enum(it, KMIP_TAG_RESULT_STATUS, &st) == -1)
		errx(1, "set-up: response without a batch item or status");
	if (st != KMIP_STATUS_SUCCESS) {
		(void)ttlv_get_enum(it, KMIP_TAG_RESULT_REASON, &reason);
		if (ttlv_get_text(it, KMIP_TAG_RESULT_MESSAGE, why,
		    sizeof(why)) == -1)
			why[0] = '\0';
		if ((it = ttlv_find(m, KMIP_TAG_BATCH_ITEM)) == NULL ||
		    ttlv_get_enum(it, KMIP_TAG_OPERATION, &op) == -1)
			op = 0;
		errx(1, "set-up: %s failed: status %u reason 0x%x: %s",
		    kmip_op_name(op), st, reason, why);
	}
	if ((*payload = ttlv_find(it, KMIP_TAG_RESPONSE_PAYLOAD)) == NULL)
		errx(1, "set-up: response without a payload");
	return (resp);
}

/* Create Key Pair of the operation's kind, then Activate the private. */
static void
setup_pair(struct client *c, char *pub, size_t publen, char *priv,
    size_t privlen)
{
	struct ttlv		*m, *p, *ta, *a, *resp;
	const struct ttlv	*rp;

	m = msg_new(1);
	p = msg_item(m, KMIP_OP_CREATE_KEY_PAIR, 0);
	ta = ttlv_add_structure(p, KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE);
	a = attr_add(ta, "Cryptographic Algorithm");
	ttlv_add_enum(a, KMIP_TAG_ATTRIBUTE_VALUE, bench.op->alg);
	a = attr_add(ta, "Cryptographic Length");
	ttlv_add_integer(a, KMIP_TAG_ATTRIBUTE_VALUE, bench.op->bits);
	ta = ttlv_add_structure(p, KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE);
	a = attr_add(ta, "Cryptographic Usage Mask");
	ttlv_add_integer(a, KMIP_TAG_ATTRIBUTE_VALUE, KMIP_USAGE_SIGN);
	ta = ttlv_add_structure(p, KMIP_TAG_PUBLIC_KEY_TEMPLATE_ATTRIBUTE);
	a = attr_add(ta, "Cryptographic Usage Mask");
	ttlv_add_integer(a, KMIP_TAG_ATTRIBUTE_VALUE, KMIP_USAGE_VERIFY);
	resp = kmip_call(c, m, &rp);
	if (ttlv_get_text(rp, KMIP_TAG_PUBLIC_KEY_UNIQUE_IDENTIFIER, pub,
	    publen) == -1 ||
	    ttlv_get_text(rp, KMIP_TAG_PRIVATE_KEY_UNIQUE_IDENTIFIER, priv,
	    privlen) == -1)
		errx(1, "set-up: Create Key Pair without identifiers");
	ttlv_free(resp);
	ttlv_free(m);

	m = msg_new(1);
	p = msg_item(m, KMIP_OP_ACTIVATE, 0);
	ttlv_add_string(p, KMIP_TAG_UNIQUE_IDENTIFIER, priv);
	resp = kmip_call(c, m, &rp);
	ttlv_free(resp);
	ttlv_free(m);
}

/* The set-up, then the request every client sends, encoded once. */
static void
setup_request(struct client *c)
{
	struct ttlv	*m, *p, *cp, *ta, *a;
	char		 pub[128], priv[128];
	int		 i;

	if (bench.op->kind == BK_SIGN && bench.key != NULL) {
		if (strlcpy(priv, bench.key, sizeof(priv)) >= sizeof(priv))
			errx(2, "key identifier too long");
	} else if (bench.op->kind != BK_CREATE)
		setup_pair(c, pub, sizeof(pub), priv, sizeof(priv));
	if (bench.setup_only) {
		printf("%s\n", priv);
		fflush(stdout);
		return;
	}
	m = msg_new(bench.batch);
	for (i = 0; i < bench.batch; i++) {
		switch (bench.op->kind) {
		case BK_SIGN:
			p = msg_item(m, KMIP_OP_SIGN, i + 1);
			ttlv_add_string(p, KMIP_TAG_UNIQUE_IDENTIFIER, priv);
			cp = ttlv_add_structure(p,
			    KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS);
			if (bench.op->alg == KMIP_ALG_RSA)
				ttlv_add_enum(cp, KMIP_TAG_PADDING_METHOD,
				    KMIP_PAD_PKCS1_V15);
			if (bench.op->alg != KMIP_ALG_ED25519)
				ttlv_add_enum(cp, KMIP_TAG_HASHING_ALGORITHM,
				    KMIP_HASH_SHA256);
			ttlv_add_enum(cp, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
			    bench.op->alg);
			ttlv_add_bytes(p, KMIP_TAG_DATA, bench.msg,
			    sizeof(bench.msg));
			break;
		case BK_CREATE:
			p = msg_item(m, KMIP_OP_CREATE, i + 1);
			ttlv_add_enum(p, KMIP_TAG_OBJECT_TYPE,
			    KMIP_OBJ_SYMMETRIC_KEY);
			ta = ttlv_add_structure(p, KMIP_TAG_TEMPLATE_ATTRIBUTE);
			a = attr_add(ta, "Cryptographic Algorithm");
			ttlv_add_enum(a, KMIP_TAG_ATTRIBUTE_VALUE,
			    bench.op->alg);
			a = attr_add(ta, "Cryptographic Length");
			ttlv_add_integer(a, KMIP_TAG_ATTRIBUTE_VALUE,
			    bench.op->bits);
			a = attr_add(ta, "Cryptographic Usage Mask");
			ttlv_add_integer(a, KMIP_TAG_ATTRIBUTE_VALUE,
			    KMIP_USAGE_ENCRYPT | KMIP_USAGE_DECRYPT);
			break;
		case BK_GET:
			p = msg_item(m, KMIP_OP_GET, i + 1);
			ttlv_add_string(p, KMIP_TAG_UNIQUE_IDENTIFIER, pub);
			break;
		case BK_LOCATE:
			p = msg_item(m, KMIP_OP_LOCATE, i + 1);
			a = attr_add(p, "Name");
			a = ttlv_add_structure(a, KMIP_TAG_ATTRIBUTE_VALUE);
			ttlv_add_string(a, KMIP_TAG_NAME_VALUE, bench.name);
			ttlv_add_enum(a, KMIP_TAG_NAME_TYPE, 1);
			break;
		}
	}
	bench.req = msg_encode(m, &bench.reqlen);
	ttlv_free(m);
}

static void
client_fail(struct client *c, const char *fmt, ...)
{
	va_list	 ap;

	if (c->error[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

/*
 * Check every batch item of the response in c->rbuf: in order, its
 * Unique Batch Item ID, the operation echoed, Success, a payload (with a
 * signature for Sign).  Counts into c->items and c->failed; -1 if the
 * response as a whole is unusable.
 */
static int
check_response(struct client *c, size_t len)
{
	struct ttlv		*resp;
	const struct ttlv	*it, *p;
	const uint8_t		*ubi;
	const char		*e;
	char			 why[128];
	size_t			 ubilen;
	uint32_t		 st, op, reason, want;
	int			 n = 0;

	if (ttlv_decode(c->rbuf, len, NULL, &resp, &e) == -1) {
		client_fail(c, "undecodable response: %s", e);
		return (-1);
	}
	if (resp->tag != KMIP_TAG_RESPONSE_MESSAGE) {
		client_fail(c, "not a Response Message");
		ttlv_free(resp);
		return (-1);
	}
	switch (bench.op->kind) {
	case BK_SIGN:
		want = KMIP_OP_SIGN;
		break;
	case BK_CREATE:
		want = KMIP_OP_CREATE;
		break;
	case BK_LOCATE:
		want = KMIP_OP_LOCATE;
		break;
	default:
		want = KMIP_OP_GET;
		break;
	}
	for (it = ttlv_find(resp, KMIP_TAG_BATCH_ITEM); it != NULL;
	    it = ttlv_find_next(resp, it, KMIP_TAG_BATCH_ITEM)) {
		n++;
		if (ttlv_get_enum(it, KMIP_TAG_RESULT_STATUS, &st) == -1) {
			client_fail(c, "item %d: no Result Status", n);
			c->failed++;
			continue;
		}
		if (st != KMIP_STATUS_SUCCESS) {
			reason = 0;
			(void)ttlv_get_enum(it, KMIP_TAG_RESULT_REASON,
			    &reason);
			if (ttlv_get_text(it, KMIP_TAG_RESULT_MESSAGE, why,
			    sizeof(why)) == -1)
				why[0] = '\0';
			client_fail(c, "item %d: status %u reason 0x%x: %s",
			    n, st, reason, why);
			c->failed++;
			continue;
		}
		if (ttlv_get_bytes(it, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, &ubi,
		    &ubilen) == -1 || ubilen != 4 ||
		    (uint32_t)(ubi[0] << 24 | ubi[1] << 16 | ubi[2] << 8 |
		    ubi[3]) != (uint32_t)n) {
			client_fail(c, "item %d: Unique Batch Item ID missing "
			    "or out of order", n);
			c->failed++;
			continue;
		}
		if (ttlv_get_enum(it, KMIP_TAG_OPERATION, &op) == -1 ||
		    op != want ||
		    (p = ttlv_find(it, KMIP_TAG_RESPONSE_PAYLOAD)) == NULL ||
		    (bench.op->kind == BK_SIGN &&
		    ttlv_find(p, KMIP_TAG_SIGNATURE_DATA) == NULL) ||
		    (bench.op->kind == BK_LOCATE &&
		    ttlv_find(p, KMIP_TAG_UNIQUE_IDENTIFIER) == NULL)) {
			client_fail(c, "item %d: success without the expected "
			    "operation or payload", n);
			c->failed++;
			continue;
		}
		c->items++;
	}
	if (n != bench.batch) {
		client_fail(c, "%d batch items answered, %d sent", n,
		    bench.batch);
		c->failed += n < bench.batch ? bench.batch - n :
		    n - bench.batch;
	}
	ttlv_free(resp);
	return (0);
}

/* Keep up to depth requests in flight until the phase ends; drain. */
static void *
client_main(void *arg)
{
	struct client	*c = arg;
	struct timespec	 now;
	size_t		 len;
	long long	 sent = 0;
	double		 ms, *p;
	int		 head = 0, inflight = 0;

	c->nlat = 0;
	c->items = c->failed = 0;
	for (;;) {
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			err(1, "clock_gettime");
		while (inflight < bench.depth &&
		    (phase.count > 0 ? sent < phase.count :
		    ts_before(&now, &phase.end))) {
			c->sent[(head + inflight) % bench.depth] = now;
			client_write(c, bench.req, bench.reqlen);
			inflight++;
			sent++;
		}
		if (inflight == 0)
			break;
		len = client_read(c);
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			err(1, "clock_gettime");
		ms = ts_ms(&c->sent[head], &now);
		head = (head + 1) % bench.depth;
		inflight--;
		if (check_response(c, len) == -1)
			c->failed += bench.batch;
		if (!phase.record)
			continue;
		if (c->nlat == c->latcap) {
			c->latcap = c->latcap == 0 ? 4096 : c->latcap * 2;
			if ((p = reallocarray(c->lat, c->latcap,
			    sizeof(*p))) == NULL)
				err(1, NULL);
			c->lat = p;
		}
		c->lat[c->nlat++] = ms;
	}
	return (NULL);
}

/*
 * One phase on every client; with record, the rate and latencies in *r.
 * The rate counts what was answered over the time until the last
 * client's last answer.
 */
static void
run_phase(struct client *cl, double secs, int record, struct run *r)
{
	struct timespec	 start, end;
	struct rusage	 ru0, ru1;
	uint64_t	 items = 0, failed = 0;
	double		*all;
	size_t		 n = 0, k;
	int		 i, e;

	if (getrusage(RUSAGE_SELF, &ru0) == -1 ||
	    clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		err(1, "getrusage");
	phase.end = start;
	ts_add(&phase.end, secs);
	phase.count = record ? bench.count : 0;
	phase.record = record;
	for (i = 0; i < bench.clients; i++)
		if ((e = pthread_create(&cl[i].thread, NULL, client_main,
		    &cl[i])) != 0)
			errc(1, e, "pthread_create");
	for (i = 0; i < bench.clients; i++)
		if ((e = pthread_join(cl[i].thread, NULL)) != 0)
			errc(1, e, "pthread_join");
	if (clock_gettime(CLOCK_MONOTONIC, &end) == -1 ||
	    getrusage(RUSAGE_SELF, &ru1) == -1)
		err(1, "getrusage");
	for (i = 0; i < bench.clients; i++) {
		items += cl[i].items;
		failed += cl[i].failed;
		n += cl[i].nlat;
		if (cl[i].error[0] != '\0') {
			fprintf(stderr, "kmipbench: %s client %d: %s\n",
			    bench.op->name, i, cl[i].error);
			cl[i].error[0] = '\0';
		}
	}
	if (failed > 0) {
		printf("%s ERROR: %llu of %llu batch items failed%s\n",
		    bench.op->name, (unsigned long long)failed,
		    (unsigned long long)(failed + items),
		    record ? "" : " (warm-up)");
		fflush(stdout);
		exit(1);
	}
	if (!record)
		return;
	if ((all = calloc(n > 0 ? n : 1, sizeof(*all))) == NULL)
		err(1, NULL);
	for (i = 0, k = 0; i < bench.clients; i++) {
		memcpy(all + k, cl[i].lat, cl[i].nlat * sizeof(*all));
		k += cl[i].nlat;
	}
	qsort(all, n, sizeof(*all), dbl_cmp);
	r->rate = items / (ts_ms(&start, &end) / 1e3);
	/* The client's own CPU per item: what it takes from the cores. */
	r->cpu = items == 0 ? 0 : (tv_us(&ru1.ru_utime) -
	    tv_us(&ru0.ru_utime) + tv_us(&ru1.ru_stime) -
	    tv_us(&ru0.ru_stime)) / items;
	r->p50 = percentile(all, n, 0.50);
	r->p99 = percentile(all, n, 0.99);
	free(all);
}

static double
tv_us(const struct timeval *tv)
{
	return (tv->tv_sec * 1e6 + tv->tv_usec);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* The nearest-rank percentile of n sorted values. */
static double
percentile(double *v, size_t n, double q)
{
	size_t	 k;

	if (n == 0)
		return (0);
	k = (size_t)(q * n + 0.999999);
	if (k < 1)
		k = 1;
	return (v[(k > n ? n : k) - 1]);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dbl_cmp);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

static void
lat_add(double **v, size_t *n, size_t *cap, double ms)
{
	double	*p;

	if (*n == *cap) {
		*cap = *cap == 0 ? 4096 : *cap * 2;
		if ((p = reallocarray(*v, *cap, sizeof(*p))) == NULL)
			err(1, NULL);
		*v = p;
	}
	(*v)[(*n)++] = ms;
}

/*
 * -N: for secs, a new connection per request.  r gets the connections
 * per second and the first-answer times (from the end of the handshake
 * to the whole answer); hs[0], hs[1] the handshake's p50 and p99.
 */
static void
newconn_run(struct client *c, double secs, int record, struct run *r,
    double *hs)
{
	struct timespec	 start, end, t0, t1, t2;
	double		*hv = NULL, *fv = NULL;
	size_t		 hn = 0, hcap = 0, fn = 0, fcap = 0, len;
	uint64_t	 n = 0;

	if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		err(1, "clock_gettime");
	end = start;
	ts_add(&end, secs);
	do {
		if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
			err(1, "clock_gettime");
		client_connect(c);
		if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1)
			err(1, "clock_gettime");
		client_write(c, bench.req, bench.reqlen);
		len = client_read(c);
		if (clock_gettime(CLOCK_MONOTONIC, &t2) == -1)
			err(1, "clock_gettime");
		if (check_response(c, len) == -1) {
			fprintf(stderr, "kmipbench: %s: %s\n", bench.op->name,
			    c->error);
			exit(1);
		}
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(c->fd);
		c->fd = -1;
		lat_add(&hv, &hn, &hcap, ts_ms(&t0, &t1));
		lat_add(&fv, &fn, &fcap, ts_ms(&t1, &t2));
		n++;
	} while (ts_before(&t2, &end));
	if (record) {
		qsort(hv, hn, sizeof(*hv), dbl_cmp);
		qsort(fv, fn, sizeof(*fv), dbl_cmp);
		r->rate = n / (ts_ms(&start, &t2) / 1e3);
		r->p50 = percentile(fv, fn, 0.50);
		r->p99 = percentile(fv, fn, 0.99);
		hs[0] = percentile(hv, hn, 0.50);
		hs[1] = percentile(hv, hn, 0.99);
	}
	free(hv);
	free(fv);
}

/* -N: the runs of newconn_run() and their medians. */
static void
newconn_bench(struct client *c)
{
	struct run	 runs[BENCH_MAXRUNS];
	double		 hs[BENCH_MAXRUNS][2], v[4][BENCH_MAXRUNS];
	int		 i;

	/* The set-up's connection goes; each request makes its own. */
	(void)SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	if (bench.warmup > 0)
		newconn_run(c, bench.warmup, 0, NULL, NULL);
	for (i = 0; i < bench.runs; i++) {
		newconn_run(c, bench.seconds, 1, &runs[i], hs[i]);
		printf("  %s new connection run %d/%d: %.0f conn/s handshake "
		    "p50 %.2f ms p99 %.2f ms, first answer p50 %.2f ms "
		    "p99 %.2f ms\n", bench.op->name, i + 1, bench.runs,
		    runs[i].rate, hs[i][0], hs[i][1], runs[i].p50,
		    runs[i].p99);
		fflush(stdout);
		v[0][i] = runs[i].rate;
		v[1][i] = hs[i][0];
		v[2][i] = hs[i][1];
		v[3][i] = runs[i].p50;
	}
	printf("%s new connection c=1: %.0f conn/s (median of %d) handshake "
	    "p50 %.2f ms p99 %.2f ms, first answer p50 %.2f ms",
	    bench.op->name, median(v[0], bench.runs), bench.runs,
	    median(v[1], bench.runs), median(v[2], bench.runs),
	    median(v[3], bench.runs));
	for (i = 0; i < bench.runs; i++)
		v[3][i] = runs[i].p99;
	printf(" p99 %.2f ms\n", median(v[3], bench.runs));
}

/* A fresh key of the operation's kind, for the raw OpenSSL rate. */
static EVP_PKEY *
raw_key(void)
{
	EVP_PKEY	*pk;

	if (bench.op->alg == KMIP_ALG_RSA)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)bench.op->bits);
	else if (bench.op->alg == KMIP_ALG_ECDSA)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, bench.op->raw_type);
	if (pk == NULL)
		ssl_fatalx("EVP_PKEY_Q_keygen %s", bench.op->raw_type);
	return (pk);
}

/*
 * Signatures per second in this thread: EVP_DigestSign (RSA PKCS#1 v1.5
 * SHA-256, ECDSA SHA-256, Ed25519 without a hash) of the bench message,
 * each from a fresh EVP_DigestSignInit, as a server would do it.
 */
static double
raw_rate(EVP_PKEY *pk, double secs)
{
	EVP_MD_CTX	*md;
	struct timespec	 start, end, now;
	uint8_t		 sig[1024];
	size_t		 siglen;
	long long	 n = 0;

	if ((md = EVP_MD_CTX_new()) == NULL)
		ssl_fatalx("EVP_MD_CTX_new");
	if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		err(1, "clock_gettime");
	end = start;
	ts_add(&end, secs);
	do {
		if (EVP_MD_CTX_reset(md) != 1 ||
		    EVP_DigestSignInit(md, NULL, bench.op->alg ==
		    KMIP_ALG_ED25519 ? NULL : EVP_sha256(), NULL, pk) != 1)
			ssl_fatalx("EVP_DigestSignInit");
		siglen = sizeof(sig);
		if (EVP_DigestSign(md, sig, &siglen, bench.msg,
		    sizeof(bench.msg)) != 1)
			ssl_fatalx("EVP_DigestSign");
		n++;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			err(1, "clock_gettime");
	} while (ts_before(&now, &end));
	EVP_MD_CTX_free(md);
	return (n / (ts_ms(&start, &now) / 1e3));
}

int
main(int argc, char *argv[])
{
	struct addrinfo	 hints;
	struct client	*cl;
	struct run	 runs[BENCH_MAXRUNS];
	EVP_PKEY	*pk = NULL;
	double		 v[BENCH_MAXRUNS], rate, p50, p99, raw = 0;
	const char	*errstr;
	char		 depth[32];
	size_t		 i;
	int		 ch, e;

	bench.addr = "127.0.0.1";
	bench.pki = "pki";
	bench.clients = 1;
	bench.batch = 1;
	bench.depth = 1;
	bench.runs = 3;
	bench.seconds = 3;
	bench.warmup = 1;
	bench.name = "fill-0";
	while ((ch = getopt(argc, argv, "b:c:i:k:L:Nn:o:p:Rr:Ss:t:w:")) != -1) {
		switch (ch) {
		case 'L':
			bench.name = optarg;
			break;
		case 'i':
			bench.key = optarg;
			break;
		case 'N':
			bench.newconn = 1;
			break;
		case 'R':
			bench.noraw = 1;
			break;
		case 'S':
			bench.setup_only = 1;
			break;
		case 'b':
			bench.batch = strtonum(optarg, 1, BENCH_MAXBATCH,
			    &errstr);
			if (errstr != NULL)
				errx(2, "batch size %s: %s", optarg, errstr);
			break;
		case 'c':
			bench.clients = strtonum(optarg, 1, BENCH_MAXCLIENTS,
			    &errstr);
			if (errstr != NULL)
				errx(2, "clients %s: %s", optarg, errstr);
			break;
		case 'k':
			bench.pki = optarg;
			break;
		case 'n':
			bench.count = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "count %s: %s", optarg, errstr);
			break;
		case 'o':
			for (i = 0; i < sizeof(bench_ops) /
			    sizeof(bench_ops[0]); i++)
				if (strcmp(optarg, bench_ops[i].name) == 0)
					bench.op = &bench_ops[i];
			if (bench.op == NULL)
				usage();
			break;
		case 'p':
			bench.depth = strtonum(optarg, 1, BENCH_MAXDEPTH,
			    &errstr);
			if (errstr != NULL)
				errx(2, "depth %s: %s", optarg, errstr);
			break;
		case 'r':
			bench.runs = strtonum(optarg, 1, BENCH_MAXRUNS,
			    &errstr);
			if (errstr != NULL)
				errx(2, "runs %s: %s", optarg, errstr);
			break;
		case 's':
			bench.addr = optarg;
			break;
		case 't':
			bench.seconds = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "seconds %s: %s", optarg, errstr);
			break;
		case 'w':
			bench.warmup = strtonum(optarg, 0, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "warm-up %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || bench.op == NULL ||
	    ((bench.setup_only || bench.key != NULL) &&
	    bench.op->kind != BK_SIGN) || (bench.setup_only &&
	    bench.key != NULL) || (bench.newconn && (bench.clients != 1 ||
	    bench.depth != 1 || bench.setup_only)))
		usage();
	bench.port = argv[0];

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(bench.addr, bench.port, &hints, &bench.ai)) != 0)
		errx(1, "%s port %s: %s", bench.addr, bench.port,
		    gai_strerror(e));
	/* The same 64 bytes for every Sign and for the raw rate. */
	for (i = 0; i < sizeof(bench.msg); i++)
		bench.msg[i] = (uint8_t)(i * 7 + 1);
	bench.ctx = tls_setup();
	if ((cl = calloc(bench.clients, sizeof(*cl))) == NULL)
		err(1, NULL);
	for (ch = 0; ch < bench.clients; ch++) {
		cl[ch].id = ch;
		if ((cl[ch].sent = calloc(bench.depth,
		    sizeof(*cl[ch].sent))) == NULL)
			err(1, NULL);
		client_connect(&cl[ch]);
	}
	setup_request(&cl[0]);
	if (bench.setup_only)
		goto done;
	if (bench.newconn) {
		newconn_bench(&cl[0]);
		goto done;
	}
	if (bench.op->kind == BK_SIGN && !bench.noraw)
		pk = raw_key();

	if (bench.depth > 1)
		(void)snprintf(depth, sizeof(depth), " p=%d", bench.depth);
	else
		depth[0] = '\0';
	if (bench.warmup > 0)
		run_phase(cl, bench.warmup, 0, NULL);
	for (ch = 0; ch < bench.runs; ch++) {
		run_phase(cl, bench.seconds, 1, &runs[ch]);
		printf("  %s c=%d b=%d%s run %d/%d: %.0f ops/s p50 %.2f ms "
		    "p99 %.2f ms", bench.op->name, bench.clients, bench.batch,
		    depth, ch + 1, bench.runs, runs[ch].rate, runs[ch].p50,
		    runs[ch].p99);
		/* Between the runs, so both see the same machine state. */
		if (pk != NULL) {
			runs[ch].raw = raw_rate(pk, bench.seconds > 2 ? 2 :
			    bench.seconds);
			printf("; raw %.0f/s", runs[ch].raw);
		}
		printf("\n");
		fflush(stdout);
	}

	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].rate;
	rate = median(v, bench.runs);
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].p50;
	p50 = median(v, bench.runs);
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].p99;
	p99 = median(v, bench.runs);
	for (ch = 0; ch < bench.runs; ch++)
		v[ch] = runs[ch].cpu;
	printf("%s c=%d b=%d%s: %.0f ops/s (median of %d) p50 %.2f ms "
	    "p99 %.2f ms client CPU %.1f us/op", bench.op->name,
	    bench.clients, bench.batch, depth, rate, bench.runs, p50, p99,
	    median(v, bench.runs));
	if (pk != NULL) {
		for (ch = 0; ch < bench.runs; ch++)
			v[ch] = runs[ch].raw;
		raw = median(v, bench.runs);
		printf("; raw openssl 1 thread %.0f/s; ratio %.2f", raw,
		    raw > 0 ? rate / raw : 0);
	}
	printf("\n");

done:
	for (ch = 0; ch < bench.clients; ch++) {
		if (cl[ch].ssl != NULL) {
			(void)SSL_shutdown(cl[ch].ssl);
			SSL_free(cl[ch].ssl);
			close(cl[ch].fd);
		}
		free(cl[ch].rbuf);
		free(cl[ch].lat);
		free(cl[ch].sent);
	}
	free(cl);
	free(bench.req);
	EVP_PKEY_free(pk);
	SSL_CTX_free(bench.ctx);
	freeaddrinfo(bench.ai);
	return (0);
}
