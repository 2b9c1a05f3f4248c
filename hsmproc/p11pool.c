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
 *
 * Recovery, a step at a time (real tokens drop sessions: a network HSM
 * after idling, a USB token unplugged, a module that needs C_Finalize):
 * 1. a dead session (p11_session_dead) is reopened and logged in again,
 *    and the request that hit it runs once more if it cannot have taken
 *    effect (p11_may_retry), else is answered "may or may not have
 *    happened";
 * 2. if the session cannot be reopened, the main thread quiesces the
 *    workers and finalises and initialises the module again, with all
 *    sessions and the login (p11_reinit); the request waits for it;
 * 3. if that fails too, the child exits and the parent starts a new one
 *    (the engine holds the requests in flight for it).
 * An idle session is checked every `keepalive' seconds, so that a dead
 * one is found before a client needs it.
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
	uint64_t		 group;		/* hsm_results_group then */
	hsm_fn			 fn;
	struct hsm_req		 req;		/* points into buf */
	struct hsm_res		 res;
	uint8_t			*buf;
	size_t			 len;
	struct timespec		 done_at;	/* CLOCK_MONOTONIC */
	int			 down;		/* the token is gone: -1, -2 */
	int			 parked;	/* waited for p11_reinit once */
	char			 why[P11_WHY_MAX];
};

/* More module restarts than this in P11_REINIT_SPAN s: restart the child. */
#define P11_REINIT_MAX		3
#define P11_REINIT_SPAN		60

static int	 p11_obj_cmp(struct p11_obj *, struct p11_obj *);
static void	*p11_worker(void *);
static void	 p11_wake(int, short, void *);
static void	 p11_hold(int, short, void *);
static void	 p11_take(struct hsm *, struct p11 *);
static void	 p11_poke(struct p11 *);
static void	 p11_hold_add(struct p11 *, long);
static void	 p11_finish(struct hsm *, struct p11_jobs *, int);
static void	 p11_job_free(struct p11_job *);
static int	 p11_group_busy(struct p11 *, uint64_t);
static struct p11_sess *p11_borrow(struct p11 *, int);
static void	 p11_cache_empty(struct p11 *);
static time_t	 p11_now(void);
static int	 p11_may_retry(const struct hsm_req *);
static void	 p11_unsure(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
static int	 p11_no_login(struct hsm *, struct p11_sess *,
		    struct hsm_res *);
static void	 p11_reinit_soon(struct hsm *, const char *);
static void	 p11_reinit_ev(int, short, void *);
static int	 p11_reinit(struct hsm *, struct p11 *);
static int	 p11_probe(struct hsm *, struct p11 *, struct p11_sess *,
		    int);
static void	 p11_keepalive(int, short, void *);
static void	 p11_keepalive_add(struct hsm *, struct p11 *);

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
	evtimer_set(&p->reinit_ev, p11_reinit_ev, h);
	evtimer_set(&p->keep_ev, p11_keepalive, h);
	evtimer_set(&p->hold_ev, p11_hold, h);
	p11_keepalive_add(h, p);

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
	TAILQ_CONCAT(&p->parked, &p->queue, entry);
	TAILQ_INIT(&p->queue);
	while ((job = TAILQ_FIRST(&p->parked)) != NULL) {
		TAILQ_REMOVE(&p->parked, job, entry);
		(void)hsm_res_error(&job->res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is restarting: request not run",
		    h->setup.name);
		TAILQ_INSERT_TAIL(&left, job, entry);
	}
	p->nqueued = 0;
	p11_finish(h, &left, 0);
	if (p->wake_on) {
		event_del(&p->wake_ev);
		evtimer_del(&p->reinit_ev);
		evtimer_del(&p->keep_ev);
		evtimer_del(&p->hold_ev);
		p->wake_on = p->reinit_on = p->keep_on = p->hold_on = 0;
	}
	for (i = 0; i < 2; i++)
		if (p->wake[i] != -1) {
			close(p->wake[i]);
			p->wake[i] = -1;
		}
	p->stopping = p->paused = 0;
}

static void *
p11_worker(void *arg)
{
	struct p11_sess	*s = arg;
	struct p11	*p = s->tok;
	struct p11_job	*job;
	int		 wake;

	p11_self = s;
	pthread_mutex_lock(&p->mtx);
	for (;;) {
		while (!p->stopping && (p->paused || TAILQ_EMPTY(&p->queue)))
			pthread_cond_wait(&p->work, &p->mtx);
		if (p->stopping)
			break;
		job = TAILQ_FIRST(&p->queue);
		TAILQ_REMOVE(&p->queue, job, entry);
		p->nqueued--;
		if (++p->running > p->peak)
			p->peak = p->running;
		s->group = job->group;
		pthread_mutex_unlock(&p->mtx);

		pthread_mutex_lock(&s->use);
		s->down = 0;
		job->fn(p->hsm, &job->req, &job->res);
		if (job->res.status != 0)
			hsm_res_clear(&job->res);	/* no partial results */
		if ((job->down = s->down) != 0)
			(void)strlcpy(job->why, s->why, sizeof(job->why));
		s->last = p11_now();
		pthread_mutex_unlock(&s->use);

		pthread_mutex_lock(&p->mtx);
		if (--p->running == 0)
			pthread_cond_broadcast(&p->idle);
		s->ops++;
		p->ops++;
		s->group = 0;
		(void)clock_gettime(CLOCK_MONOTONIC, &job->done_at);
		TAILQ_INSERT_TAIL(&p->done, job, entry);
		/*
		 * The main thread is woken once for the answers of one
		 * engine message, when the last of its requests is done
		 * (the engine answers a batch only when all its items are
		 * in): an answer at a time cost the signer and the engine
		 * a wake-up, a read and a message each.  Not while paused:
		 * what is left of the message waits for p11_reinit.  One
		 * byte until the main thread takes the list, written with
		 * the lock released, so that it does not wake only to wait
		 * for the lock.
		 */
		wake = !p->wake_sent && (p->paused ||
		    !p11_group_busy(p, job->group));
		if (wake) {
			p->wake_sent = 1;
			pthread_mutex_unlock(&p->mtx);
			p11_poke(p);
			pthread_mutex_lock(&p->mtx);
		}
	}
	pthread_mutex_unlock(&p->mtx);
	return (NULL);
}

/* Main thread: the answers the workers finished. */
static void
p11_wake(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	char		 buf[64];

	/*
	 * One read: a worker writes a byte only when none is unread
	 * (wake_sent), so any left over wakes this once more to find the
	 * list empty (a read to EAGAIN was a system call per wake for
	 * nothing).
	 */
	if (read(fd, buf, sizeof(buf)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		log_warn("%s: read", __func__);
	p11_take(h, h->be_state);
}

/*
 * Main thread, while requests of a group are held: an answer waits for
 * its group at most P11_HOLD_MS.  A group's last request may take long
 * (a stalled session, a slow token), and the others' answers do not
 * wait for it longer than this; the done list is in the order answers
 * were made, so its first is the oldest.
 */
static void
p11_hold(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	struct p11	*p = h->be_state;
	struct p11_job	*first;
	struct timespec	 now;
	long		 age = 0;
	int		 busy;

	p->hold_on = 0;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&p->mtx);
	if ((first = TAILQ_FIRST(&p->done)) != NULL)
		age = (now.tv_sec - first->done_at.tv_sec) * 1000000 +
		    (now.tv_nsec - first->done_at.tv_nsec) / 1000;
	busy = p->running > 0 || p->nqueued > 0;
	pthread_mutex_unlock(&p->mtx);
	if (first != NULL && age < P11_HOLD_MS * 1000)
		p11_hold_add(p, P11_HOLD_MS * 1000 - age);
	else {
		if (first != NULL)
			p11_take(h, p);
		if (busy)
			p11_hold_add(p, P11_HOLD_MS * 1000);
	}
}

/* Main thread: p11_hold in usec, unless it is due already. */
static void
p11_hold_add(struct p11 *p, long usec)
{
	struct timeval	 tv = { 0, usec };

	if (p->hold_on || !p->wake_on)
		return;
	p->hold_on = 1;
	evtimer_add(&p->hold_ev, &tv);
}

/* The main thread's wake-up byte; the caller set wake_sent. */
static void
p11_poke(struct p11 *p)
{
	if (write(p->wake[1], "", 1) == -1 && errno != EAGAIN)
		log_warn("%s: write", __func__);
}

/* Main thread: send the answers on the done list. */
static void
p11_take(struct hsm *h, struct p11 *p)
{
	struct p11_jobs	 done;

	TAILQ_INIT(&done);
	pthread_mutex_lock(&p->mtx);
	TAILQ_CONCAT(&done, &p->done, entry);
	p->wake_sent = 0;
	pthread_mutex_unlock(&p->mtx);
	p11_finish(h, &done, 1);
}

/*
 * Under mtx: whether a request of group is still queued or running, or
 * may yet be queued (p11_submitted not called yet).  The queue is a FIFO
 * and a group's requests are queued together, so one still waiting is
 * at its head (unless a key generation came between: then the group's
 * first answers may go early, which costs only a message).  Group 0 (a
 * request alone) never is.
 */
static int
p11_group_busy(struct p11 *p, uint64_t group)
{
	struct p11_job	*first;
	int		 i;

	if (group == 0)
		return (0);
	if (group == p->open_group)
		return (1);	/* the main thread still submits it */
	if ((first = TAILQ_FIRST(&p->queue)) != NULL && first->group == group)
		return (1);
	for (i = 0; i < p->nsess; i++)
		if (p->sess[i].group == group)
			return (1);
	return (0);
}

/*
 * Send the answers of the jobs in list and free them.  With state, a
 * worker's news that a session cannot be reopened starts the module
 * over (p11_reinit), and the request waits for it once if it may run
 * again; a wrong PIN sets the signer's state and is never retried.
 */
static void
p11_finish(struct hsm *h, struct p11_jobs *list, int state)
{
	struct p11	*p = h->be_state;
	struct p11_job	*job;

	/* The answers of jobs done together go in one IMSG_HSM_RESULTS. */
	hsm_results_begin(&h->engine);
	while ((job = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, job, entry);
		/*
		 * A session that cannot be opened: the request did not run
		 * (p11_run answers one that may have run), so it waits for
		 * the module to start over, once.
		 */
		if (state && job->down == -1) {
			p11_reinit_soon(h, job->why);
			if (!job->parked) {
				job->parked = 1;
				TAILQ_INSERT_TAIL(&p->parked, job, entry);
				continue;
			}
		}
		if (state && job->down == -2 &&
		    h->status.state == SSTATE_READY) {
			/* The answers before it go before the news. */
			hsm_results_flush();
			hsm_status_set(h, SSTATE_LOCKED, "%s", job->why);
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
	/*
	 * Only operations (Sign, Decrypt, ...) wait for each other: a key
	 * generation may take a minute on a slow token.
	 */
	job->group = req->type == IMSG_HSM_OP ? hsm_results_group() : 0;
	job->fn = fn;

	pthread_mutex_lock(&p->mtx);
	/* Its group's answers wait for p11_submitted at least. */
	if (job->group != 0)
		p->open_group = job->group;
	if (!(full = p->nqueued >= P11_QUEUE_MAX)) {
		TAILQ_INSERT_TAIL(&p->queue, job, entry);
		p->nqueued++;
	}
	pthread_mutex_unlock(&p->mtx);
	/* After the unlock: the worker woken need not wait for the lock. */
	if (!full)
		pthread_cond_signal(&p->work);
	if (full) {
		p11_job_free(job);
		(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
		    "signer \"%s\" is busy: %d requests wait for a session",
		    h->setup.name, P11_QUEUE_MAX);
		return (-1);
	}
	return (0);
}

/*
 * Main thread: the requests of the message being read are all queued.
 * If the workers finished them already, none of them woke this thread
 * (p11_group_busy): the answers go now.
 */
void
p11_submitted(struct hsm *h)
{
	struct p11	*p = h->be_state;
	uint64_t	 group = hsm_results_group();
	int		 wake, busy;

	if (p == NULL || !p->wake_on)
		return;
	pthread_mutex_lock(&p->mtx);
	if (p->open_group == group)
		p->open_group = 0;
	busy = p11_group_busy(p, group);
	wake = !p->wake_sent && !TAILQ_EMPTY(&p->done) && !busy;
	if (wake)
		p->wake_sent = 1;
	pthread_mutex_unlock(&p->mtx);
	if (wake)
		p11_poke(p);
	if (busy)
		p11_hold_add(p, P11_HOLD_MS * 1000);
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
 * asked, and reopened, or the module started over, if it is dead; if
 * all are busy, they are the answer.  Main thread.
 */
int
p11_pool_check(struct hsm *h, struct p11 *p)
{
	struct p11_sess	*s;

	if (p->nsess == 0)
		return (-1);
	if ((s = p11_borrow(p, 0)) == NULL)
		return (0);
	/* The state of a token that did not come back is set already. */
	if (p11_probe(h, p, s, 0) == -1)
		(void)p11_reinit(h, p);
	return (0);
}

/*
 * Is the PKCS#11 answer rv the sign of a session the token no longer
 * has (or of a token that needs its sessions opened again)?
 */
int
p11_session_dead(CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_ERROR:
	case CKR_USER_NOT_LOGGED_IN:
		return (1);
	}
	return (0);
}

static time_t
p11_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

/*
 * May a request that met a dead session run again on a fresh one?  Not
 * if it may have changed the token (a key made, destroyed or relabelled
 * before the session died, the answer lost): running it again blindly
 * could make a second key or report a destroyed key as missing.
 * Signing, decrypting, MACs, lookups and a KEK's use (which finds its
 * key by label before making it) may.
 */
static int
p11_may_retry(const struct hsm_req *req)
{
	switch (req->type) {
	case IMSG_HSM_GENERATE:
	case IMSG_HSM_IMPORT:
	case IMSG_HSM_LABEL:
		return (0);
	case IMSG_HSM_OP:
		return (req->op != HSM_OP_DESTROY &&
		    req->op != HSM_OP_DESTROY_PUBLIC);
	}
	return (1);
}

/* The answer of a request that may have taken effect, session lost. */
static void
p11_unsure(struct p11_sess *s, const struct hsm_req *req,
    struct hsm_res *res)
{
	const char	*what;
	char		 msg[HSM_MSG_MAX];

	if (req->type == IMSG_HSM_GENERATE)
		what = "key generation";
	else if (req->type == IMSG_HSM_LABEL)
		what = "label change";
	else if (req->type == IMSG_HSM_OP)
		what = "destruction";
	else
		what = "operation";
	(void)strlcpy(msg, res->msg, sizeof(msg));
	(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
	    "token \"%s\": session lost during a %s; it may or may not "
	    "have happened (%s)", s->label, what, msg);
}

/*
 * With `login no' or `auto', CKR_USER_NOT_LOGGED_IN may come from a
 * session that is alive: the key needs the login the configuration does
 * not do.  Reopening would not help, nor is the session dead: 1 with the
 * answer saying so.
 */
static int
p11_no_login(struct hsm *h, struct p11_sess *s, struct hsm_res *res)
{
	CK_SESSION_INFO	 si;
	char		 msg[HSM_MSG_MAX];

	if (h->setup.login == SIGNER_LOGIN_YES ||
	    s->f->C_GetSessionInfo(s->session, &si) != CKR_OK ||
	    si.state == CKS_RO_USER_FUNCTIONS ||
	    si.state == CKS_RW_USER_FUNCTIONS)
		return (0);
	s->lost = 0;
	(void)strlcpy(msg, res->msg, sizeof(msg));
	(void)hsm_res_error(res, KMIP_REASON_GENERAL_FAILURE,
	    "%s: token \"%s\" wants a login for this key (login %s)", msg,
	    s->label, h->setup.login == SIGNER_LOGIN_NO ? "no" : "auto");
	return (1);
}

/* Main thread: start the module over from the event loop, once. */
static void
p11_reinit_soon(struct hsm *h, const char *why)
{
	struct p11	*p = h->be_state;
	struct timeval	 tv = { 0, 0 };

	if (p == NULL || !p->wake_on || p->reinit_on)
		return;
	(void)strlcpy(p->reinit_why, why, sizeof(p->reinit_why));
	p->reinit_on = 1;
	evtimer_add(&p->reinit_ev, &tv);
}

static void
p11_reinit_ev(int fd, short event, void *arg)
{
	struct hsm	*h = arg;

	(void)p11_reinit(h, h->be_state);
}

/*
 * The second step of recovery: no session can be opened, so C_Finalize
 * and C_Initialize, as a network HSM whose sessions expired needs, with
 * the workers quiesced; then the
 * sessions and the login again, and the requests that waited run.  If
 * the module does not come back, the child exits: the parent starts a
 * new one, and the engine holds the requests in flight for it.  A wrong
 * PIN locks the signer instead.  Main thread; 0 or -1 (locked).
 */
static int
p11_reinit(struct hsm *h, struct p11 *p)
{
	static time_t	 times[P11_REINIT_MAX];
	static int	 ntimes;
	struct p11_job	*job;
	struct p11_jobs	 fail;
	struct p11_sess	*s;
	time_t		 now = p11_now();
	char		 why[P11_WHY_MAX];
	int		 i, n, rv = 0;

	p->reinit_on = 0;
	evtimer_del(&p->reinit_ev);
	if (p->reinit_why[0] == '\0')
		(void)strlcpy(p->reinit_why, "a session cannot be reopened",
		    sizeof(p->reinit_why));
	/* A module that keeps failing is not helped by more of this. */
	if (ntimes == P11_REINIT_MAX &&
	    now - times[0] < P11_REINIT_SPAN) {
		log_warnx("token \"%s\": %s, after %d module restarts within "
		    "%d s; restarting the signer", p->label, p->reinit_why,
		    P11_REINIT_MAX, P11_REINIT_SPAN);
		exit(1);
	}
	log_warnx("token \"%s\": %s; finalising and initialising the "
	    "module again", p->label, p->reinit_why);
	p->reinit_why[0] = '\0';
	if (ntimes == P11_REINIT_MAX) {
		memmove(times, times + 1, sizeof(times[0]) * (ntimes - 1));
		ntimes--;
	}
	times[ntimes++] = now;

	pthread_mutex_lock(&p->mtx);
	p->paused = 1;
	while (p->running > 0)
		pthread_cond_wait(&p->idle, &p->mtx);
	pthread_mutex_unlock(&p->mtx);

	/* No worker runs: the sessions are the main thread's. */
	for (i = 0; i < p->nsess; i++)
		p11_session_close(&p->sess[i]);
	p11_cache_clear(p);
	why[0] = '\0';
	if (p11_module_again(h, p) == -1) {
		rv = -1;
		(void)strlcpy(why, h->status.detail, sizeof(why));
	}
	for (i = 0, n = 0; rv == 0 && i < p->nsess; i++) {
		s = &p->sess[i];
		s->down = 0;
		if (p11_session_open(h, s) == 0) {
			n++;
			s->last = now;
			continue;
		}
		p11_session_close(s);
		/* Later sessions are opened when a worker needs them. */
		if (i == 0 || p->pin_refused) {
			rv = p->pin_refused ? -2 : -1;
			(void)strlcpy(why, s->why, sizeof(why));
		}
	}
	if (rv == -1) {
		log_warnx("token \"%s\": the module did not recover (%s); "
		    "restarting the signer", p->label, why);
		exit(1);
	}

	TAILQ_INIT(&fail);
	pthread_mutex_lock(&p->mtx);
	if (rv == 0) {
		/* The requests that waited go first, in their order. */
		while ((job = TAILQ_LAST(&p->parked, p11_jobs)) != NULL) {
			TAILQ_REMOVE(&p->parked, job, entry);
			TAILQ_INSERT_HEAD(&p->queue, job, entry);
			p->nqueued++;
		}
	} else
		TAILQ_CONCAT(&fail, &p->parked, entry);
	p->paused = 0;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mtx);

	if (rv == 0) {
		log_info("token \"%s\": module initialised again, %d of %d "
		    "sessions open", p->label, n, p->nsess);
		if (h->status.state != SSTATE_READY)
			hsm_status_set(h, SSTATE_READY, "token \"%s\" in slot "
			    "%lu", p->label, (unsigned long)p->slot);
		return (0);
	}
	hsm_status_set(h, SSTATE_LOCKED, "%s", why);
	TAILQ_FOREACH(job, &fail, entry)
		(void)hsm_res_error(&job->res, KMIP_REASON_GENERAL_FAILURE,
		    "%s", why);
	p11_finish(h, &fail, 0);
	return (-1);
}

/*
 * Is session s alive?  With idle, only if no request used it in the
 * last keepalive interval (a request is proof enough).  A dead session
 * is reopened (logged in again); -1 if that failed too (the module must
 * start over), else 0.  Main thread, with s->use, which it releases.
 */
static int
p11_probe(struct hsm *h, struct p11 *p, struct p11_sess *s, int idle)
{
	CK_SESSION_INFO	 si;
	CK_RV		 rv = CKR_OK;
	int		 ret = 0;

	if (idle && s->open && p11_now() - s->last < h->setup.keepalive) {
		pthread_mutex_unlock(&s->use);
		return (0);
	}
	if (s->open) {
		rv = p->f->C_GetSessionInfo(s->session, &si);
		if (rv == CKR_OK) {
			s->last = p11_now();
			pthread_mutex_unlock(&s->use);
			return (0);
		}
		log_warnx("token \"%s\": session %u found dead (%s), "
		    "reopening", s->label, s->idx, p11_rv(rv));
		p11_session_close(s);
		p11_cache_clear(p);
	}
	if ((ret = p11_session_open(h, s)) != 0) {
		p11_session_close(s);
		if (ret == -2 && h->status.state == SSTATE_READY)
			hsm_status_set(h, SSTATE_LOCKED, "%s", s->why);
		else if (ret == -1)
			(void)strlcpy(p->reinit_why, s->why,
			    sizeof(p->reinit_why));
	} else
		s->last = p11_now();
	pthread_mutex_unlock(&s->use);
	return (ret == -1 ? -1 : 0);
}

/*
 * Keep-alive: every `keepalive' seconds, each session no request used
 * meanwhile is asked for its state (C_GetSessionInfo), so that a session
 * the token dropped (a network HSM's, after idling) is reopened before
 * a client needs it.  Busy sessions are skipped.  Main thread.
 */
static void
p11_keepalive(int fd, short event, void *arg)
{
	struct hsm	*h = arg;
	struct p11	*p = h->be_state;
	int		 i, dead = 0;

	p->keep_on = 0;
	if (h->status.state != SSTATE_READY || p->pin_refused) {
		p11_keepalive_add(h, p);
		return;
	}
	for (i = 0; i < p->nsess && !dead; i++)
		if (pthread_mutex_trylock(&p->sess[i].use) == 0)
			dead = p11_probe(h, p, &p->sess[i], 1) == -1;
	if (dead)
		(void)p11_reinit(h, p);
	p11_keepalive_add(h, p);
}

static void
p11_keepalive_add(struct hsm *h, struct p11 *p)
{
	struct timeval	 tv;

	if (h->setup.keepalive <= 0 || p->keep_on || !p->wake_on)
		return;
	tv.tv_sec = h->setup.keepalive;
	tv.tv_usec = 0;
	evtimer_add(&p->keep_ev, &tv);
	p->keep_on = 1;
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
		if (s->lost && p11_no_login(h, s, res))
			break;
		if (s->lost) {
			log_warnx("token \"%s\": session %u lost (%s), "
			    "reopening", s->label, s->idx, res->msg);
			p11_session_close(s);
			/* The token may have been replaced. */
			p11_cache_clear(p);
			if (!p11_may_retry(req)) {
				p11_unsure(s, req, res);
				break;
			}
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
	s->last = p11_now();
	pthread_mutex_lock(&p->mtx);
	s->ops++;
	p->ops++;
	pthread_mutex_unlock(&p->mtx);
	pthread_mutex_unlock(&s->use);
	if (down == -2 && h->status.state == SSTATE_READY)
		hsm_status_set(h, SSTATE_LOCKED, "%s", why);
	else if (down == -1)
		p11_reinit_soon(h, why);
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
