/*
 * The pkcs11 backend's state, shared by hsm_pkcs11.c (module, token,
 * session, login), p11pool.c (sessions served by worker threads) and
 * p11key.c (keys in the token).
 *
 * Threads: each session has a worker thread (p11pool.c) that runs the
 * requests it takes on that session only.  A worker touches its session,
 * the token's fields that do not change while workers run (f, slot,
 * label, mechs), and what the comments below say is under a lock; never
 * hsm->status, libevent or an imsg channel, which are the main thread's.
 */
#ifndef P11_H
#define P11_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <pthread.h>

#include <p11-kit/pkcs11.h>

#define P11_SESSIONS_MAX	64	/* signerd.conf(5) sessions */
#define P11_QUEUE_MAX		1024	/* requests waiting for a session */
#define P11_HOLD_MS		50	/* an answer waits for its group */
#define P11_CACHE_MAX		4096	/* object handles kept */
#define P11_CKID_MAX		64	/* longest CKA_ID in a reference or cached */
#define P11_WHY_MAX		160	/* signer_status detail */

struct softkey;
struct p11;
struct p11_job;

/* One session on the token; a request uses one at a time. */
struct p11_sess {
	struct p11		*tok;
	CK_FUNCTION_LIST_PTR	 f;		/* tok->f */
	const char		*label;		/* tok->label */
	CK_SESSION_HANDLE	 session;
	int			 open;		/* written under tok->mtx */
	int			 lost;		/* the last call lost it */
	int			 stale;		/* ... or used a stale handle */
	int			 down;		/* cannot reopen: -1, -2 */
	char			 why[P11_WHY_MAX];	/* ... why */
	unsigned int		 idx;
	/* Held while a request runs on the session. */
	pthread_mutex_t		 use;
	pthread_t		 thread;
	int			 thread_ok;
	uint64_t		 ops;		/* under tok->mtx */
	uint64_t		 group;		/* its job's, under tok->mtx */
	time_t			 last;		/* last used, s, under use */
};

/* A cached object handle (p11_find) by class, key type and CKA_ID. */
struct p11_obj {
	RB_ENTRY(p11_obj)	 entry;
	CK_OBJECT_CLASS		 cls;
	CK_KEY_TYPE		 kt;
	CK_OBJECT_HANDLE	 handle;
	size_t			 len;
	uint8_t			 ckid[P11_CKID_MAX];
};
RB_HEAD(p11_objs, p11_obj);
TAILQ_HEAD(p11_jobs, p11_job);

/* The token: module, slot, what it offers, its sessions. */
struct p11 {
	struct hsm		*hsm;
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	int			 initialized;
	CK_SLOT_ID		 slot;
	char			 label[33];
	CK_MECHANISM_TYPE	*mechs;		/* C_GetMechanismList */
	CK_ULONG		 nmechs;
	struct softkey		*pub;		/* under pubmtx */
	pthread_mutex_t		 pubmtx;
	/* C_Login, and the PIN in struct hsm while workers run. */
	pthread_mutex_t		 login;
	int			 pin_refused;	/* under login */

	struct p11_sess		*sess;
	int			 nsess;
	int			 locks;		/* the mutexes exist */

	/* Under mtx: the queue, answers, counters, handle cache. */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 work;		/* a request, or stopping */
	struct p11_jobs		 queue;
	struct p11_jobs		 done;
	int			 nqueued;
	int			 running;
	int			 peak;
	int			 stopping;
	int			 paused;	/* p11_reinit: no new request */
	pthread_cond_t		 idle;		/* running dropped to 0 */
	uint64_t		 ops;
	struct p11_objs		 objs;
	size_t			 nobjs;

	/* Workers -> main thread: an answer is ready (p11pool.c). */
	int			 wake_sent;	/* unread, under mtx */
	uint64_t		 open_group;	/* being submitted, under mtx */
	struct event		 hold_ev;	/* bounds an answer's wait */
	int			 hold_on;
	int			 wake[2];
	struct event		 wake_ev;
	int			 wake_on;

	/* Main thread only: recovery of dead sessions (p11pool.c). */
	struct p11_jobs		 parked;	/* to run after p11_reinit */
	struct event		 reinit_ev;
	int			 reinit_on;
	char			 reinit_why[P11_WHY_MAX];
	struct event		 keep_ev;	/* keepalive */
	int			 keep_on;
};

typedef int	(*p11_fn)(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);

/* hsm_pkcs11.c */
const char	*p11_rv(CK_RV);
int		 p11_session_open(struct hsm *, struct p11_sess *);
void		 p11_session_close(struct p11_sess *);
int		 p11_module_again(struct hsm *, struct p11 *);

/* p11pool.c */
int		 p11_pool_start(struct hsm *, struct p11 *);
void		 p11_pool_stop(struct hsm *, struct p11 *);
int		 p11_submit(struct hsm *, struct imsgev *,
		    const struct hsm_req *, hsm_fn, const void *, size_t,
		    struct hsm_res *);
void		 p11_submitted(struct hsm *);
void		 p11_stats(struct hsm *, struct signer_status *);
int		 p11_pool_check(struct hsm *, struct p11 *);
int		 p11_session_dead(CK_RV);
void		 p11_run(struct hsm *, const struct hsm_req *,
		    struct hsm_res *, p11_fn);
int		 p11_public_op(struct p11_sess *, const struct hsm_req *,
		    struct hsm_res *);
int		 p11_cache_get(struct p11 *, CK_OBJECT_CLASS, CK_KEY_TYPE,
		    const uint8_t *, size_t, CK_OBJECT_HANDLE *);
void		 p11_cache_put(struct p11 *, CK_OBJECT_CLASS, CK_KEY_TYPE,
		    const uint8_t *, size_t, CK_OBJECT_HANDLE);
void		 p11_cache_clear(struct p11 *);

/* A request on one session (p11_run). */
typedef int	(*p11_fn)(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);

/* p11key.c */
#define P11_REF_ADOPTED		HSM_REF_ADOPTED	/* not made by signerd */
int		 p11_ref(const uint8_t *, size_t, const uint8_t **, size_t *,
		    int *);
void		 p11_generate(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
void		 p11_op(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
void		 p11_find_req(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
void		 p11_relabel(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
const char	*p11_mech_name(CK_MECHANISM_TYPE);
int		 p11_offers(const struct p11 *, CK_MECHANISM_TYPE);
int		 p11_key_init(void);
/* An ECDSA signature: r || s of P-521 at most, and as DER. */
#define P11_ECDSA_HALF_MAX	66
#define P11_ECDSA_DER_MAX	(3 + 2 * (2 + 1 + P11_ECDSA_HALF_MAX))
size_t		 p11_ecdsa_der_encode(const uint8_t *, size_t, uint8_t *);

/* p11kek.c */
void		 p11_kek_link(struct hsm *, struct imsg *);
void		 p11_kek_clear(struct hsm *);

#endif /* P11_H */
