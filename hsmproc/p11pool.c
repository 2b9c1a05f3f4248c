/*
 * The pkcs11 signer's sessions, each served by a worker thread.
 *
 * The main thread keeps the event loop and everything that is not the
 * token's: it parses a request, checks it (hsm_pick) and queues a copy
 * (p11_submit).  A free worker takes the oldest, runs the backend's
 * function on its own session, puts the answer on the done list and
 * writes a byte to a pipe.  The main thread, woken by the pipe, sends
 * the answers (in the order they finish: the engine matches them by id)
 * and, if a worker found the token gone, sets the signer's state and
 * starts it over later (hsmproc.c): workers never touch hsm->status,
 * libevent or a channel.
 *
 * Threads here and nowhere else in signerd: a PKCS#11 call blocks for
 * as long as the token works, and a token serves several at once (a
 * network HSM needs tens in flight to reach its speed).  A request
 * waits for a free session in a bounded FIFO; beyond P11_QUEUE_MAX it
 * is answered "busy" at once.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "softkey.h"

/* A request taken by the pool: it owns a copy of the payload. */
struct p11_job {
	TAILQ_ENTRY(p11_job)	 entry;
	struct imsgev		*iev;		/* where the answer goes */
	uint32_t		 gen;		/* hsm->engine_gen then */
	hsm_fn			 fn;
	struct hsm_req		 req;		/* points into buf */
	struct hsm_res		 res;
	uint8_t			*buf;
	size_t			 len;
	int			 down;		/* the token is gone: -1, -2 */
	char			 why[P11_WHY_MAX];
};

static int	 p11_obj_cmp(struct p11_obj *, struct p11_obj *);
static void	*p11_worker(void *);
static void	 p11_wake(int, short, void *);
static void	 p11_finish(struct hsm *, struct p11_jobs *, int);
static void	 p11_job_free(struct p11_job *);
static struct p11_sess *p11_borrow(struct p11 *, int);
static void	 p11_cache_empty(struct p11 *);

/* libbsd's __unused is off (a Linux header has a member of that name). */
RB_PROTOTYPE_INTERNAL(p11_objs, p11_obj, entry, p11_obj_cmp,
    __attribute__((__unused__)) static)
RB_GENERATE_INTERNAL(p11_objs, p11_obj, entry, p11_obj_cmp,
    __attribute__((__unused__)) static)

/* The session of the worker running this thread; NULL elsewhere. */
static _Thread_local struct p11_sess	*p11_self;

/*
 * Start one worker per open session, and the pipe that wakes the main
 * thread.  Called from p11_start, before the sandbox at the first start
 * (it covers the threads: TSYNC); after a restart, clone of a thread and
 * pipe2 are allowed in the hsm profile.
 */
int
p11_pool_start(struct hsm *h, struct p11 *p)
{
	sigset_t	 all, old;
	int		 i, err;

	if (pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		p->wake[0] = p->wake[1] = -1;
		log_warn("pipe2");
		return (-1);
	}
	event_set(&p->wake_ev, p->wake[0], EV_READ | EV_PERSIST, p11_wake, h);
	event_add(&p->wake_ev, NULL);
	p->wake_on = 1;

	/* Signals are the main thread's (libevent's handlers). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < p->nsess; i++) {
		if ((err = pthread_create(&p->sess[i].thread, NULL, p11_worker,
		    &p->sess[i])) != 0) {
			log_warnx("pthread_create: %s", strerror(err));
			break;
		}
		p->sess[i].thread_ok = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return (i == p->nsess ? 0 : -1);
}

/*
 * Stop the workers (each finishes the request it runs), then answer
 * what they finished and fail what they did not take.  Main thread.
 */
void
p11_pool_stop(struct hsm *h, struct p11 *p)
{
	struct p11_jobs	 left;
	struct p11_job	*job;
	int		 i;

	if (p->locks) {
		pthread_mutex_lock(&p->mtx);
		p->stopping = 1;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mtx);
	}
	for (i = 0; i < p->nsess; i++)
		if (p->sess[i].thread_ok) {
			pthread_join(p->sess[i].thread, NULL);
			p->sess[i].thread_ok = 0;
		}
	/* No thread left: no lock needed. */
	TAILQ_INIT(&left);
	TAILQ_CONCAT(&left, &p->done, entry);
	while ((job = TAILQ_FIRST(&p->queue)) != NULL) {
		TAILQ_REMOVE(&p->queue, job, entry);
		(void)hsm_res_error(&job->res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is restarting: request not run",
		    h->setup.name);
		TAILQ_INSERT_TAIL(&left, job, entry);
	}
	p->nqueued = 0;
	p11_finish(h, &left, 0);
	if (p->wake_on) {
		event_del(&p->wake_ev);
		p->wake_on = 0;
	}
	for (i = 0; i < 2; i++)
		if (p->wake[i] != -1) {
			close(p->wake[i]);
			p->wake[i] = -1;
		}
	p->stopping = 0;
}

static void *
p11_worker(void *arg)
{
	struct p11_sess	*s = arg;
	struct p11	*p = s->tok;
	struct p11_job	*job;
	ssize_t		 n;
	int		 wake;

	p11_self = s;
	pthread_mutex_lock(&p->mtx);
	for (;;) {
		while (!p->stopping && TAILQ_EMPTY(&p->queue))
			pthread_cond_wait(&p->work, &p->mtx);
		if (p->stopping)
			break;
		job = TAILQ_FIRST(&p->queue);
		TAILQ_REMOVE(&p->queue, job, entry);
		p->nqueued--;
		if (++p->running > p->peak)
			p->peak = p->running;
		pthread_mutex_unlock(&p->mtx);

		pthread_mutex_lock(&s->use);
		s->down = 0;
		job->fn(p->hsm, &job->req, &job->res);
		if (job->res.status != 0)
			hsm_res_clear(&job->res);	/* no partial results */
		if ((job->down = s->down) != 0)
			(void)strlcpy(job->why, s->why, sizeof(job->why));
		pthread_mutex_unlock(&s->use);

		pthread_mutex_lock(&p->mtx);
		p->running--;
		s->ops++;
		p->ops++;
		/* One byte per batch: the main thread takes them all. */
		wake = TAILQ_EMPTY(&p->done);
		TAILQ_INSERT_TAIL(&p->done, job, entry);
		if (wake && (n = write(p->wake[1], "", 1)) == -1 &&
		    errno != EAGAIN)
			log_warn("%s: write", __func__);
	}
	pthread_mutex_unlock(&p->mtx);
	return (NULL);
}

/* Main thread: the answers the workers finished. */
static void
p11_wake(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	struct p11	*p = h->be_state;
	struct p11_jobs	 done;
	char		 buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&p->mtx);
	TAILQ_CONCAT(&done, &p->done, entry);
	pthread_mutex_unlock(&p->mtx);
	p11_finish(h, &done, 1);
}

/*
 * Send the answers of the jobs in list and free them.  With state, a
 * worker's news that the token is gone sets the signer's state (once)
 * and starts it over later; a wrong PIN is never retried.
 */
static void
p11_finish(struct hsm *h, struct p11_jobs *list, int state)
{
	struct p11_job	*job;

	/* The answers of jobs done together go in one IMSG_HSM_RESULTS. */
	hsm_results_begin(&h->engine);
	while ((job = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, job, entry);
		if (state && job->down != 0 &&
		    h->status.state == SSTATE_READY) {
			/* The answers before it go before the news. */
			hsm_results_flush();
			hsm_status_set(h, job->down == -2 ? SSTATE_LOCKED :
			    SSTATE_ERROR, "%s", job->why);
			if (job->down == -1)
				hsm_retry_soon(h);
		}
		/* An engine that restarted has other request ids. */
		if (job->iev != &h->engine || job->gen == h->engine_gen)
			hsm_answer(job->iev, &job->req, &job->res);
		else
			log_debug("request %u: the engine changed, answer "
			    "dropped", job->req.peerid);
		p11_job_free(job);
	}
	hsm_results_end();
}

static void
p11_job_free(struct p11_job *job)
{
	hsm_res_clear(&job->res);
	freezero(job->buf, job->len);
	freezero(job, sizeof(*job));
}

/*
 * Queue a request (the payload buf of len bytes, parsed as req) for a
 * worker; fn runs there.  0, or -1 with res saying why not.
 */
int
p11_submit(struct hsm *h, struct imsgev *iev, const struct hsm_req *req,
    hsm_fn fn, const void *buf, size_t len, struct hsm_res *res)
{
	struct p11	*p = h->be_state;
	struct p11_job	*job;
	const char	*why = NULL;
	int		 full;

	if (p == NULL || !p->wake_on) {
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is not started", h->setup.name);
		return (-1);
	}
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (len > 0 && (job->buf = malloc(len)) == NULL))
		fatal(NULL);
	if (len > 0)
		memcpy(job->buf, buf, len);
	job->len = len;
	/* Parsed once already: the same bytes parse the same way. */
	if (hsm_req_parse(req->type, job->buf, len, &job->req, &why) == -1)
		fatalx("%s: %s", __func__, why);
	job->req.peerid = req->peerid;
	job->iev = iev;
	job->gen = h->engine_gen;
	job->fn = fn;

	pthread_mutex_lock(&p->mtx);
	if (!(full = p->nqueued >= P11_QUEUE_MAX)) {
		TAILQ_INSERT_TAIL(&p->queue, job, entry);
		p->nqueued++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mtx);
	if (full) {
		p11_job_free(job);
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is busy: %d requests wait for a session",
		    h->setup.name, P11_QUEUE_MAX);
		return (-1);
	}
	return (0);
}

/* The pool's counters for a status answer.  Main thread. */
void
p11_stats(struct hsm *h, struct signer_status *st)
{
	struct p11	*p = h->be_state;
	int		 i;

	st->sessions = h->setup.sessions;
	st->open = st->running = st->queued = st->peak = 0;
	st->ops = 0;
	memset(st->sess_ops, 0, sizeof(st->sess_ops));
	if (p == NULL || !p->locks)
		return;
	pthread_mutex_lock(&p->mtx);
	for (i = 0; i < p->nsess; i++) {
		st->open += p->sess[i].open;
		if (i < SIGNER_STAT_SESSIONS)
			st->sess_ops[i] = p->sess[i].ops;
	}
	st->running = p->running;
	st->peak = p->peak;
	st->queued = p->nqueued;
	st->ops = p->ops;
	pthread_mutex_unlock(&p->mtx);
}

/*
 * A session to run on from the main thread, locked: an idle one, else
 * (with wait) the first, once its worker is done.  NULL if none idle and
 * not wait.
 */
static struct p11_sess *
p11_borrow(struct p11 *p, int wait)
{
	int	 i;

	for (i = 0; i < p->nsess; i++)
		if (pthread_mutex_trylock(&p->sess[i].use) == 0)
			return (&p->sess[i]);
	if (!wait)
		return (NULL);
	pthread_mutex_lock(&p->sess[0].use);
	return (&p->sess[0]);
}

/*
 * Is the token still there (a status request)?  An idle session is
 * asked; if all are busy, they are the answer.  Main thread.
 */
int
p11_pool_check(struct hsm *h, struct p11 *p)
{
	struct p11_sess	*s;
	CK_SESSION_INFO	 si;
	CK_RV		 rv = CKR_OK;

	if (p->nsess == 0)
		return (-1);
	if ((s = p11_borrow(p, 0)) == NULL)
		return (0);
	if (!s->open)
		rv = CKR_SESSION_CLOSED;
	else
		rv = p->f->C_GetSessionInfo(s->session, &si);
	pthread_mutex_unlock(&s->use);
	if (rv != CKR_OK) {
		hsm_status_set(h, SSTATE_ERROR, "session lost: %s",
		    p11_rv(rv));
		return (-1);
	}
	return (0);
}

/*
 * Run fn for a request on a session: a worker's own, or, on the main
 * thread, one borrowed from the pool.  If the token dropped the session,
 * reopen it (and log in again if the login went with it) and run once
 * more; if a cached object handle was stale, forget the cache and run
 * once more (the key is looked up again).  A token that cannot be
 * reached is noted in s->down for the main thread.
 */
void
p11_run(struct hsm *h, const struct hsm_req *req, struct hsm_res *res,
    p11_fn fn)
{
	struct p11	*p = h->be_state;
	struct p11_sess	*s = p11_self;
	char		 why[P11_WHY_MAX];
	int		 try, rv, down, borrowed = 0;

	if (p == NULL || p->nsess == 0) {
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "token not started");
		return;
	}
	if (s == NULL || s->tok != p) {
		s = p11_borrow(p, 1);
		borrowed = 1;
		s->down = 0;
	}
	for (try = 0; try < 2; try++) {
		/* A retry starts from a clean answer. */
		hsm_res_clear(res);
		memset(res, 0, sizeof(*res));
		s->lost = s->stale = 0;
		if (!s->open && (rv = p11_session_open(h, s)) != 0) {
			p11_session_close(s);
			s->down = rv;
			(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
			    "token \"%s\" not reachable: %s", s->label,
			    s->why);
			break;
		}
		(void)fn(h, s, req, res);
		if (s->lost) {
			log_warnx("token \"%s\": session %u lost (%s), "
			    "reopening", s->label, s->idx, res->msg);
			p11_session_close(s);
			/* The token may have been replaced. */
			p11_cache_clear(p);
		} else if (s->stale) {
			log_warnx("token \"%s\": %s; looking the key up again",
			    s->label, res->msg);
			p11_cache_clear(p);
		} else
			break;
	}
	if (!borrowed)
		return;
	/* The main thread: as p11_finish does for a worker. */
	down = s->down;
	(void)strlcpy(why, s->why, sizeof(why));
	pthread_mutex_lock(&p->mtx);
	s->ops++;
	p->ops++;
	pthread_mutex_unlock(&p->mtx);
	pthread_mutex_unlock(&s->use);
	if (down != 0 && h->status.state == SSTATE_READY) {
		hsm_status_set(h, down == -2 ? SSTATE_LOCKED : SSTATE_ERROR,
		    "%s", why);
		if (down == -1)
			hsm_retry_soon(h);
	}
}

/*
 * Public-key operations run in software (softkey.c), whose contexts and
 * cache are not made for threads: one at a time.  They are quick.
 */
int
p11_public_op(struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	int	 rv;

	pthread_mutex_lock(&s->tok->pubmtx);
	rv = sw_public_op(s->tok->pub, req, res);
	pthread_mutex_unlock(&s->tok->pubmtx);
	return (rv);
}

/* --- Object handles -------------------------------------------------- */

static int
p11_obj_cmp(struct p11_obj *a, struct p11_obj *b)
{
	if (a->cls != b->cls)
		return (a->cls < b->cls ? -1 : 1);
	if (a->kt != b->kt)
		return (a->kt < b->kt ? -1 : 1);
	if (a->len != b->len)
		return (a->len < b->len ? -1 : 1);
	return (memcmp(a->ckid, b->ckid, a->len));
}

/*
 * The handle of the object of class cls, key type kt and CKA_ID ckid
 * (len bytes) if a lookup found it before: 0, else -1.  A handle stays
 * until the token calls it invalid (p11_run), signerd destroys an
 * object, or the sessions start over.
 */
int
p11_cache_get(struct p11 *p, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
    const uint8_t *ckid, size_t len, CK_OBJECT_HANDLE *obj)
{
	struct p11_obj	 key, *o;

	if (len > P11_CKID_MAX)
		return (-1);
	key.cls = cls;
	key.kt = kt;
	key.len = len;
	memcpy(key.ckid, ckid, len);
	pthread_mutex_lock(&p->mtx);
	if ((o = RB_FIND(p11_objs, &p->objs, &key)) != NULL)
		*obj = o->handle;
	pthread_mutex_unlock(&p->mtx);
	return (o != NULL ? 0 : -1);
}

/* Remember a handle; a full cache is emptied first (rare: 4096 keys). */
void
p11_cache_put(struct p11 *p, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
    const uint8_t *ckid, size_t len, CK_OBJECT_HANDLE handle)
{
	struct p11_obj	*o, *old;

	if (len > P11_CKID_MAX)
		return;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		fatal(NULL);
	o->cls = cls;
	o->kt = kt;
	o->len = len;
	memcpy(o->ckid, ckid, len);
	o->handle = handle;
	pthread_mutex_lock(&p->mtx);
	if (p->nobjs >= P11_CACHE_MAX)
		p11_cache_empty(p);
	if ((old = RB_INSERT(p11_objs, &p->objs, o)) != NULL) {
		/* Another worker found it meanwhile. */
		old->handle = handle;
		free(o);
	} else
		p->nobjs++;
	pthread_mutex_unlock(&p->mtx);
}

void
p11_cache_clear(struct p11 *p)
{
	pthread_mutex_lock(&p->mtx);
	p11_cache_empty(p);
	pthread_mutex_unlock(&p->mtx);
}

/* With p->mtx held. */
static void
p11_cache_empty(struct p11 *p)
{
	struct p11_obj	*o, *next;

	RB_FOREACH_SAFE(o, p11_objs, &p->objs, next) {
		RB_REMOVE(p11_objs, &p->objs, o);
		free(o);
	}
	p->nobjs = 0;
}
