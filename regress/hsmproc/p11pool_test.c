/*
 * The pkcs11 signer's session pool (hsmproc/p11pool.c) on a SoftHSM
 * token of its own, driven through a real imsg channel and libevent as
 * the engine drives it: requests run on several sessions at once and
 * every answer comes back once; sessions the token dropped (and the
 * login with them) are reopened; the FIFO is bounded; a stop answers
 * what was queued.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <atf-c.h>
#include <event.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"

/* SoftHSM keeps a little after C_Finalize. */
#define ATFSAN_MORE	"leak:libsofthsm2.so\n"
#include "../atfsan.h"

#define MODULE		"/usr/lib/softhsm/libsofthsm2.so"
#define NREQ_MAX	1200

/* The engine's side of the channel, and what came back. */
struct eng {
	struct imsgev	 iev;
	struct hsm	 h;
	int		 sv[2];
	uint32_t	 want;		/* answers awaited */
	uint32_t	 got;
	uint32_t	 received;	/* requests the signer took in */
	uint32_t	 stop_at;	/* stop the loop at so many taken */
	int32_t		 status[NREQ_MAX + 1];
	char		 msg[NREQ_MAX + 1][HSM_MSG_MAX];
	uint8_t		*out1[NREQ_MAX + 1];
	size_t		 len1[NREQ_MAX + 1];
	uint8_t		*out2[NREQ_MAX + 1];
	size_t		 len2[NREQ_MAX + 1];
	struct event	 deadline;
	int		 retries;	/* hsm_retry_soon calls */
	int		 nmsgs;		/* answer messages received */
	int		 maxper;	/* most answers in one */
	struct timespec	 t[NREQ_MAX + 1];	/* when each came */
};

static struct eng	*cur;

static void	 token_init(void);
static void	 eng_open(struct eng *, int, const char *);
static struct eng *pool_new(int, const char *);
static void	 eng_close(struct eng *);
static void	 eng_dispatch(int, short, void *);
static void	 eng_answer(struct eng *, uint32_t, const uint8_t *, size_t);
static void	 hsm_side(int, short, void *);
static void	 too_late(int, short, void *);
static void	 run_until(struct eng *, uint32_t, uint32_t);
static void	 run_more(struct eng *, uint32_t);
static void	 send_generate(struct eng *, uint32_t, uint32_t, uint32_t);
static void	 send_sign(struct eng *, uint32_t, uint32_t);
static void	 send_signs(struct eng *, uint32_t, uint32_t, uint32_t);
static void	 sign_op(struct eng *, uint32_t, uint32_t, struct hsm_op *,
		    char *, size_t);
static double	 since(const struct timespec *, const struct timespec *);
static int	 verifies(const struct eng *, uint32_t, uint32_t);

/* hsmproc.c is not linked: its status setter and retry timer. */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
	va_list	 ap;

	h->status.state = state;
	va_start(ap, fmt);
	(void)vsnprintf(h->status.detail, sizeof(h->status.detail), fmt, ap);
	va_end(ap);
}

void
hsm_retry_soon(struct hsm *h)
{
	if (cur != NULL)
		cur->retries++;
}

/* A SoftHSM token "pool" (PIN 1234) in a directory of the test's own. */
static void
token_init(void)
{
	char	 cwd[1024], path[1100];
	FILE	*fp;

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	(void)snprintf(path, sizeof(path), "%s/tokens", cwd);
	ATF_REQUIRE(mkdir(path, 0700) == 0);
	(void)snprintf(path, sizeof(path), "%s/softhsm2.conf", cwd);
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	fprintf(fp, "directories.tokendir = %s/tokens\n"
	    "objectstore.backend = file\nlog.level = ERROR\n", cwd);
	ATF_REQUIRE(fclose(fp) == 0);
	ATF_REQUIRE(setenv("SOFTHSM2_CONF", path, 1) == 0);
	ATF_REQUIRE(system("softhsm2-util --init-token --free --label pool "
	    "--so-pin 12345678 --pin 1234 >/dev/null") == 0);
}

/* A pkcs11 signer with n sessions on module, started, and its channel. */
static void
eng_open(struct eng *e, int n, const char *module)
{
	memset(e, 0, sizeof(*e));
	cur = e;
	(void)event_init();
	/*
	 * Non-blocking, as the daemon's (proc.c): both ends are served by
	 * this one thread, and a blocking write of more requests than the
	 * socket holds would wait for a read that never comes.
	 */
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    e->sv) == 0);
	ATF_REQUIRE(imsgev_init(&e->iev, e->sv[0], eng_dispatch, e,
	    IMSG_MAX_INTERNAL, 0) == 0);
	ATF_REQUIRE(imsgev_init(&e->h.engine, e->sv[1], hsm_side, e,
	    IMSG_MAX_INTERNAL, 0) == 0);
	(void)strlcpy(e->h.setup.name, "pool", sizeof(e->h.setup.name));
	(void)strlcpy(e->h.setup.module, module, sizeof(e->h.setup.module));
	(void)strlcpy(e->h.setup.token, "pool", sizeof(e->h.setup.token));
	e->h.setup.type = SIGNER_PKCS11;
	e->h.setup.slot = -1;
	e->h.setup.login = 1;
	e->h.setup.sessions = n;
	(void)strlcpy(e->h.pin, "1234", sizeof(e->h.pin));
	e->h.pinlen = 4;
	e->h.has_pin = 1;
	e->h.be = &hsm_pkcs11;
	ATF_REQUIRE_EQ_MSG(e->h.be->start(&e->h), 0, "%s",
	    e->h.status.detail);
	ATF_REQUIRE_EQ(e->h.status.state, SSTATE_READY);
	evtimer_set(&e->deadline, too_late, e);
}

/*
 * What every case starts with: a new token, a signer with n sessions on
 * module, and an RSA-2048 key made as request 1.
 */
static struct eng *
pool_new(int n, const char *module)
{
	struct eng	*e;

	ATF_REQUIRE((e = calloc(1, sizeof(*e))) != NULL);
	token_init();
	eng_open(e, n, module);
	send_generate(e, 1, HSM_KEY_RSA, 2048);
	run_until(e, 1, 0);
	ATF_REQUIRE_EQ_MSG(e->status[1], 0, "%s", e->msg[1]);
	return (e);
}

static void
eng_close(struct eng *e)
{
	uint32_t	 i;

	if (e->h.be_state != NULL)
		e->h.be->stop(&e->h);
	imsgev_clear(&e->h.engine);
	imsgev_clear(&e->iev);
	for (i = 0; i <= NREQ_MAX; i++) {
		free(e->out1[i]);
		free(e->out2[i]);
	}
	cur = NULL;
}

/* One answer, once, by its id. */
static void
eng_answer(struct eng *e, uint32_t id, const uint8_t *data, size_t len)
{
	struct hsm_result	 hr;
	const uint8_t		*o1, *o2, *o3;

	ATF_REQUIRE_MSG(id >= 1 && id <= NREQ_MAX, "id %u", id);
	ATF_REQUIRE_MSG(e->status[id] == -1, "answer %u twice", id);
	ATF_REQUIRE(hsm_result_parse(data, len, &hr, &o1, &o2, &o3) == 0);
	e->status[id] = hr.status;
	(void)strlcpy(e->msg[id], hr.msg, sizeof(e->msg[id]));
	if (hr.len_out1 > 0) {
		ATF_REQUIRE((e->out1[id] = malloc(hr.len_out1)) != NULL);
		memcpy(e->out1[id], o1, hr.len_out1);
		e->len1[id] = hr.len_out1;
	}
	if (hr.len_out2 > 0) {
		ATF_REQUIRE((e->out2[id] = malloc(hr.len_out2)) != NULL);
		memcpy(e->out2[id], o2, hr.len_out2);
		e->len2[id] = hr.len_out2;
	}
	ATF_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &e->t[id]) == 0);
	if (++e->got == e->want)
		event_loopexit(NULL);
}

/*
 * The engine: each answer, alone (IMSG_HSM_RESULT) or with others done
 * together (IMSG_HSM_RESULTS).
 */
static void
eng_dispatch(int fd, short event, void *arg)
{
	struct eng		*e = arg;
	struct imsg		 imsg;
	struct ibuf		 ib;
	struct hsm_rec		 rec;
	const uint8_t		*p, *data;
	size_t			 left;
	ssize_t			 n;
	int			 rv, k;

	ATF_REQUIRE(imsgev_io(&e->iev, event) == 0);
	while ((n = imsg_get(&e->iev.ibuf, &imsg)) > 0) {
		ATF_REQUIRE(imsg_get_ibuf(&imsg, &ib) == 0);
		e->nmsgs++;
		if (imsg_get_type(&imsg) == IMSG_HSM_RESULTS) {
			p = ibuf_data(&ib);
			left = ibuf_size(&ib);
			k = 0;
			while ((rv = hsm_multi_next(&p, &left, &rec,
			    &data)) == 1) {
				ATF_REQUIRE_EQ(rec.type, IMSG_HSM_RESULT);
				eng_answer(e, rec.id, data, rec.len);
				k++;
			}
			ATF_REQUIRE_EQ(rv, 0);
			/* The engine takes no more (kmip_signer_results). */
			ATF_REQUIRE_MSG(k <= HSM_MULTI_MAX, "%d answers in one "
			    "IMSG_HSM_RESULTS", k);
			if (k > e->maxper)
				e->maxper = k;
		} else {
			ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_HSM_RESULT);
			eng_answer(e, imsg_get_id(&imsg), ibuf_data(&ib),
			    ibuf_size(&ib));
		}
		imsg_free(&imsg);
	}
	ATF_REQUIRE(n == 0);
	imsg_event_add(&e->iev);
}

/* The signer's side, as hsm_dispatch_engine does. */
static void
hsm_side(int fd, short event, void *arg)
{
	struct eng	*e = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	ATF_REQUIRE(imsgev_io(&e->h.engine, event) == 0);
	while ((n = imsg_get(&e->h.engine.ibuf, &imsg)) > 0) {
		if (imsg_get_type(&imsg) == IMSG_HSM_OPS)
			hsm_request_multi(&e->h, &e->h.engine, &imsg);
		else
			hsm_request(&e->h, &e->h.engine, &imsg);
		imsg_free(&imsg);
		if (++e->received == e->stop_at)
			event_loopexit(NULL);
	}
	ATF_REQUIRE(n == 0);
	imsg_event_add(&e->h.engine);
}

static void
too_late(int fd, short event, void *arg)
{
	struct eng	*e = arg;

	atf_tc_fail("%u answers of %u within the deadline", e->got, e->want);
}

/* Run the loop until want answers are in (or stop_at requests taken). */
static void
run_until(struct eng *e, uint32_t want, uint32_t stop_at)
{
	uint32_t	 i;

	/* Request 1 made the key: its answer stays. */
	for (i = 2; i <= NREQ_MAX; i++) {
		free(e->out1[i]);
		free(e->out2[i]);
		e->out1[i] = e->out2[i] = NULL;
		e->len1[i] = e->len2[i] = 0;
		e->status[i] = -1;
	}
	if (e->out1[1] == NULL)
		e->status[1] = -1;
	e->got = e->received = 0;
	e->nmsgs = e->maxper = 0;
	e->stop_at = stop_at;
	run_more(e, want);
}

/* Run the loop on until want answers are in, counting from where it is. */
static void
run_more(struct eng *e, uint32_t want)
{
	struct timeval	 tv = { 120, 0 };

	e->want = want;
	evtimer_add(&e->deadline, &tv);
	event_dispatch();
	evtimer_del(&e->deadline);
}

static void
send_generate(struct eng *e, uint32_t id, uint32_t kind, uint32_t bits)
{
	struct hsm_generate	 g;

	memset(&g, 0, sizeof(g));
	(void)snprintf(g.id, sizeof(g.id), "key-%u", id);
	g.kind = kind;
	g.bits = bits;
	ATF_REQUIRE(imsg_compose_event(&e->iev, IMSG_HSM_GENERATE, id, 0, -1,
	    &g, sizeof(g)) == 1);
}

/* The request to sign "message <id>" with the RSA key made as key. */
static void
sign_op(struct eng *e, uint32_t id, uint32_t key, struct hsm_op *o, char *m,
    size_t mlen)
{
	(void)snprintf(m, mlen, "message %u", id);
	memset(o, 0, sizeof(*o));
	(void)snprintf(o->id, sizeof(o->id), "key-%u", key);
	o->op = HSM_OP_SIGN;
	o->kind = HSM_KEY_RSA;
	o->padding = HSM_PAD_PKCS1V15;
	o->hash = HSM_HASH_SHA256;
	o->len_key = e->len1[key];
	o->len_data = strlen(m);
}

/* Sign "message <id>" with the RSA key generated as request key. */
static void
send_sign(struct eng *e, uint32_t id, uint32_t key)
{
	struct hsm_op	 o;
	struct iovec	 iov[3];
	char		 m[32];

	sign_op(e, id, key, &o, m, sizeof(m));
	iov[0].iov_base = &o;
	iov[0].iov_len = sizeof(o);
	iov[1].iov_base = e->out1[key];
	iov[1].iov_len = e->len1[key];
	iov[2].iov_base = m;
	iov[2].iov_len = strlen(m);
	ATF_REQUIRE(imsg_composev(&e->iev.ibuf, IMSG_HSM_OP, id, 0, -1, iov,
	    3) == 1);
	imsg_event_add(&e->iev);
}

/* Requests first .. first + n - 1 in one IMSG_HSM_OPS, as the engine. */
static void
send_signs(struct eng *e, uint32_t first, uint32_t n, uint32_t key)
{
	struct hsm_rec	 rec;
	struct hsm_op	 o;
	struct ibuf	*wbuf;
	char		 m[32];
	uint32_t	 i;

	ATF_REQUIRE((wbuf = imsg_create(&e->iev.ibuf, IMSG_HSM_OPS, 0, 0,
	    n * (sizeof(rec) + sizeof(o) + e->len1[key] + sizeof(m)))) !=
	    NULL);
	for (i = first; i < first + n; i++) {
		sign_op(e, i, key, &o, m, sizeof(m));
		rec.type = IMSG_HSM_OP;
		rec.id = i;
		rec.len = sizeof(o) + e->len1[key] + strlen(m);
		ATF_REQUIRE(imsg_add(wbuf, &rec, sizeof(rec)) != -1 &&
		    imsg_add(wbuf, &o, sizeof(o)) != -1 &&
		    imsg_add(wbuf, e->out1[key], e->len1[key]) != -1 &&
		    imsg_add(wbuf, m, strlen(m)) != -1);
	}
	imsg_close(&e->iev.ibuf, wbuf);
	imsg_event_add(&e->iev);
}

static double
since(const struct timespec *a, const struct timespec *b)
{
	return ((b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9);
}

/* Answer id is a good signature of "message <id>" by the key's SPKI. */
static int
verifies(const struct eng *e, uint32_t id, uint32_t key)
{
	const unsigned char	*p = e->out2[key];
	EVP_PKEY		*pk;
	EVP_MD_CTX		*ctx;
	char			 m[32];
	int			 ok;

	(void)snprintf(m, sizeof(m), "message %u", id);
	if (e->status[id] != 0 ||
	    (pk = d2i_PUBKEY(NULL, &p, e->len2[key])) == NULL)
		return (0);
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, e->out1[id], e->len1[id],
	    (const unsigned char *)m, strlen(m)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return (ok);
}

ATF_TC(concurrent);
ATF_TC_HEAD(concurrent, tc)
{
	atf_tc_set_md_var(tc, "descr", "64 signatures queued at once run on "
	    "4 sessions, several at a time; each answered once, each good");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(concurrent, tc)
{
	struct eng		*e;
	struct signer_status	 st;
	uint32_t		 i;
	int			 used;

	e = pool_new(4, MODULE);
	for (i = 2; i < 66; i++)
		send_sign(e, i, 1);
	run_until(e, 64, 0);
	for (i = 2; i < 66; i++)
		ATF_REQUIRE_MSG(verifies(e, i, 1), "answer %u: %d %s", i,
		    e->status[i], e->msg[i]);
	memset(&st, 0, sizeof(st));
	p11_stats(&e->h, &st);
	ATF_REQUIRE_EQ(st.sessions, 4);
	ATF_REQUIRE_EQ(st.open, 4);
	ATF_REQUIRE_EQ(st.ops, 65);
	ATF_REQUIRE_EQ(st.running, 0);
	ATF_REQUIRE_EQ(st.queued, 0);
	ATF_REQUIRE_MSG(st.peak >= 2 && st.peak <= 4, "peak %d", st.peak);
	for (i = 0, used = 0; i < 4; i++)
		used += st.sess_ops[i] > 0;
	ATF_REQUIRE_MSG(used >= 2, "%d sessions used", used);
	ATF_REQUIRE_EQ(st.sess_ops[0] + st.sess_ops[1] + st.sess_ops[2] +
	    st.sess_ops[3], 65);
	eng_close(e);
	free(e);
}

ATF_TC(borrowed);
ATF_TC_HEAD(borrowed, tc)
{
	atf_tc_set_md_var(tc, "descr", "a request run on the main thread "
	    "(hsm_handle, as a synchronous caller does) borrows a session "
	    "of the pool, also after the token dropped them all");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(borrowed, tc)
{
	struct eng		*e;
	struct p11		*p;
	struct hsm_op		 o;
	struct hsm_req		 req;
	struct hsm_res		 res;
	struct signer_status	 st;
	const char		*why = NULL;
	uint8_t			 buf[512];
	char			 m[32];
	int			 round;

	e = pool_new(2, MODULE);
	p = e->h.be_state;
	for (round = 0; round < 2; round++) {
		if (round == 1)
			ATF_REQUIRE_EQ(p->f->C_CloseAllSessions(p->slot),
			    CKR_OK);
		(void)snprintf(m, sizeof(m), "message %u", 2);
		memset(&o, 0, sizeof(o));
		(void)strlcpy(o.id, "key-1", sizeof(o.id));
		o.op = HSM_OP_SIGN;
		o.kind = HSM_KEY_RSA;
		o.padding = HSM_PAD_PKCS1V15;
		o.hash = HSM_HASH_SHA256;
		o.len_key = e->len1[1];
		o.len_data = strlen(m);
		ATF_REQUIRE(sizeof(o) + o.len_key + o.len_data <= sizeof(buf));
		memcpy(buf, &o, sizeof(o));
		memcpy(buf + sizeof(o), e->out1[1], o.len_key);
		memcpy(buf + sizeof(o) + o.len_key, m, o.len_data);
		ATF_REQUIRE(hsm_req_parse(IMSG_HSM_OP, buf, sizeof(o) +
		    o.len_key + o.len_data, &req, &why) == 0);
		hsm_handle(&e->h, &req, &res);
		ATF_REQUIRE_EQ_MSG(res.status, 0, "%s", res.msg);
		/* As an answer to request 2, for verifies(). */
		free(e->out1[2]);
		ATF_REQUIRE((e->out1[2] = malloc(res.len[0])) != NULL);
		memcpy(e->out1[2], res.out[0], res.len[0]);
		e->len1[2] = res.len[0];
		e->status[2] = 0;
		ATF_REQUIRE(verifies(e, 2, 1));
		hsm_res_clear(&res);
	}
	memset(&st, 0, sizeof(st));
	p11_stats(&e->h, &st);
	ATF_REQUIRE_EQ(st.ops, 3);
	ATF_REQUIRE_EQ(e->h.status.state, SSTATE_READY);
	eng_close(e);
	free(e);
}

ATF_TC(lost);
ATF_TC_HEAD(lost, tc)
{
	atf_tc_set_md_var(tc, "descr", "the token drops every session (and "
	    "the login): each worker reopens its own, logs in again, and "
	    "the requests succeed; the signer stays ready");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(lost, tc)
{
	struct eng	*e;
	struct p11	*p;
	CK_SESSION_INFO	 si;
	uint32_t	 i, round;

	e = pool_new(3, MODULE);
	p = e->h.be_state;
	for (round = 0; round < 2; round++) {
		/* Every session closed; the last one logs the user out. */
		ATF_REQUIRE_EQ(p->f->C_CloseAllSessions(p->slot), CKR_OK);
		for (i = 2; i < 14; i++)
			send_sign(e, i, 1);
		run_until(e, 12, 0);
		for (i = 2; i < 14; i++)
			ATF_REQUIRE_MSG(verifies(e, i, 1), "round %u answer "
			    "%u: %d %s", round, i, e->status[i], e->msg[i]);
		ATF_REQUIRE_EQ(e->h.status.state, SSTATE_READY);
		ATF_REQUIRE_EQ(e->retries, 0);
	}
	/* Logged in again, on a session opened after the loss. */
	for (i = 0; i < (uint32_t)p->nsess; i++)
		if (p->sess[i].open &&
		    p->f->C_GetSessionInfo(p->sess[i].session, &si) == CKR_OK)
			break;
	ATF_REQUIRE(i < (uint32_t)p->nsess);
	ATF_REQUIRE(si.state == CKS_RW_USER_FUNCTIONS);
	eng_close(e);
	free(e);
}

ATF_TC(bounded);
ATF_TC_HEAD(bounded, tc)
{
	atf_tc_set_md_var(tc, "descr", "more requests than the FIFO holds: "
	    "the excess is answered busy at once, the rest signed; every "
	    "request answered once");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(bounded, tc)
{
	struct eng	*e;
	uint32_t	 i, n = NREQ_MAX - 1, busy = 0, good = 0;

	e = pool_new(1, MODULE);
	for (i = 2; i < n + 2; i++)
		send_sign(e, i, 1);
	run_until(e, n, 0);
	for (i = 2; i < n + 2; i++) {
		if (verifies(e, i, 1))
			good++;
		else {
			ATF_REQUIRE_EQ_MSG(e->status[i],
			    KMIP_REASON_GENERAL_FAILURE, "%u: %s", i,
			    e->msg[i]);
			ATF_REQUIRE_MSG(strstr(e->msg[i], "is busy") != NULL,
			    "%u: %s", i, e->msg[i]);
			busy++;
		}
	}
	ATF_REQUIRE_EQ(good + busy, n);
	ATF_REQUIRE_MSG(busy > 0 && good >= P11_QUEUE_MAX, "%u busy, %u good",
	    busy, good);
	eng_close(e);
	free(e);
}

ATF_TC(stop);
ATF_TC_HEAD(stop, tc)
{
	atf_tc_set_md_var(tc, "descr", "a stop with requests queued: each "
	    "answered, signed or 'restarting'; nothing left behind");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(stop, tc)
{
	struct eng	*e;
	uint32_t	 i, n = 200, good = 0, cut = 0;

	e = pool_new(2, MODULE);
	for (i = 2; i < n + 2; i++)
		send_sign(e, i, 1);
	/* Until the signer took them all in; then stop it. */
	run_until(e, n + 1, n);
	ATF_REQUIRE_EQ(e->received, n);
	e->h.be->stop(&e->h);
	ATF_REQUIRE(e->h.be_state == NULL);
	/* The answers were queued by the stop: deliver them. */
	run_more(e, n);
	ATF_REQUIRE_EQ(e->got, n);
	for (i = 2; i < n + 2; i++) {
		if (verifies(e, i, 1))
			good++;
		else {
			ATF_REQUIRE_MSG(strstr(e->msg[i], "restarting") !=
			    NULL, "%u: %d %s", i, e->status[i], e->msg[i]);
			cut++;
		}
	}
	ATF_REQUIRE_MSG(cut > 0, "%u signed before the stop", good);
	eng_close(e);
	free(e);
}

ATF_TC(grouped);
ATF_TC_HEAD(grouped, tc)
{
	atf_tc_set_md_var(tc, "descr", "the 8 requests of one IMSG_HSM_OPS "
	    "run on 4 sessions and are answered in one IMSG_HSM_RESULTS");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(grouped, tc)
{
	struct eng	*e;
	uint32_t	 i;
	int		 round;

	e = pool_new(4, MODULE);
	for (round = 0; round < 5; round++) {
		send_signs(e, 2, 8, 1);
		run_until(e, 8, 0);
		for (i = 2; i < 10; i++)
			ATF_REQUIRE_MSG(verifies(e, i, 1), "answer %u: %d %s",
			    i, e->status[i], e->msg[i]);
		ATF_REQUIRE_EQ_MSG(e->nmsgs, 1, "round %d: 8 answers in %d "
		    "messages (at most %d in one)", round, e->nmsgs,
		    e->maxper);
	}
	eng_close(e);
	free(e);
}

ATF_TC(held);
ATF_TC_HEAD(held, tc)
{
	atf_tc_set_md_var(tc, "descr", "one of the 4 requests of one "
	    "IMSG_HSM_OPS hangs in the token for 3 s: the others' answers "
	    "do not wait for it (P11_HOLD_MS)");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(held, tc)
{
	struct eng	*e;
	struct timespec	 t0;
	char		 path[1100];
	const char	*dir;
	FILE		*fp;
	uint32_t	 i, early = 0, late = 0;

	/* The fault module, beside this program, in front of SoftHSM. */
	dir = atf_tc_get_config_var(tc, "srcdir");
	(void)snprintf(path, sizeof(path), "%s/../p11fault/p11fault.so", dir);
	if (access(path, R_OK) == -1)
		atf_tc_skip("no %s", path);
	ATF_REQUIRE((fp = fopen("faults", "w")) != NULL);
	fprintf(fp, "C_Sign hang 3 after 3 once\n");
	ATF_REQUIRE(fclose(fp) == 0);
	ATF_REQUIRE(setenv("P11FAULT_CONTROL", "faults", 1) == 0);
	e = pool_new(4, path);
	ATF_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &t0) == 0);
	send_signs(e, 2, 4, 1);
	run_until(e, 4, 0);
	for (i = 2; i < 6; i++) {
		ATF_REQUIRE_MSG(verifies(e, i, 1), "answer %u: %d %s", i,
		    e->status[i], e->msg[i]);
		if (since(&t0, &e->t[i]) < 1.5)
			early++;
		else if (since(&t0, &e->t[i]) >= 2.5)
			late++;
	}
	ATF_REQUIRE_MSG(early == 3 && late == 1, "%u answers within 1.5 s, "
	    "%u after 2.5 s", early, late);
	eng_close(e);
	free(e);
}

ATF_TC(many);
ATF_TC_HEAD(many, tc)
{
	atf_tc_set_md_var(tc, "descr", "120 answers of 3 IMSG_HSM_OPS done "
	    "before the main thread takes them: sent in messages of at most "
	    "HSM_MULTI_MAX, every one answered");
	atf_tc_set_md_var(tc, "require.progs", "softhsm2-util");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(many, tc)
{
	struct eng	*e;
	uint32_t	 i;

	e = pool_new(4, MODULE);
	send_signs(e, 2, 40, 1);
	send_signs(e, 42, 40, 1);
	send_signs(e, 82, 40, 1);
	/* Until the signer took the 3 in; their answers pile up. */
	run_until(e, 121, 3);
	ATF_REQUIRE_EQ(e->received, 3);
	ATF_REQUIRE_EQ(e->got, 0);
	sleep(3);
	run_more(e, 120);
	ATF_REQUIRE_EQ(e->got, 120);
	for (i = 2; i < 122; i++)
		ATF_REQUIRE_MSG(verifies(e, i, 1), "answer %u: %d %s", i,
		    e->status[i], e->msg[i]);
	ATF_REQUIRE_MSG(e->maxper > 40, "at most %d answers in a message: "
	    "they did not pile up", e->maxper);
	eng_close(e);
	free(e);
}

ATF_TP_ADD_TCS(tp)
{
	log_init(1, 0);
	ATF_TP_ADD_TC(tp, concurrent);
	ATF_TP_ADD_TC(tp, borrowed);
	ATF_TP_ADD_TC(tp, lost);
	ATF_TP_ADD_TC(tp, bounded);
	ATF_TP_ADD_TC(tp, many);
	ATF_TP_ADD_TC(tp, stop);
	ATF_TP_ADD_TC(tp, grouped);
	ATF_TP_ADD_TC(tp, held);
	return (atf_no_error());
}
