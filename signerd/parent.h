/*
 * The parent process and the engine, both built into the signerd binary.
 */
#ifndef PARENT_H
#define PARENT_H

#include <sys/queue.h>

#include <event.h>
#include <time.h>

#include "imsgev.h"
#include "signerd.h"

#define BACKOFF_MIN_MS		200
#define BACKOFF_MAX_MS		60000
#define BACKOFF_RESET_S		30	/* up this long: next crash is a first */
#define STOP_GRACE_S		5	/* SIGTERM, then SIGKILL */
#define HSM_START_GRACE_S	60	/* for a signer's first liveness answer */

/* One PEM file held for the frontend. */
struct pem {
	char		*data;
	size_t		 len;
};

/* A listening socket, opened by the parent. */
struct listener {
	TAILQ_ENTRY(listener)	 entry;
	uint32_t		 id;
	int			 fd;
	struct listener_info	 info;
	struct pem		 cert;
	struct pem		 key;
	struct pem		 ca;
};
TAILQ_HEAD(listener_list, listener);

/* A child process the parent supervises. */
struct child {
	TAILQ_ENTRY(child)	 entry;
	enum proc_kind		 kind;
	char			 name[SIGNER_NAME_MAX];
	uint32_t		 signer_id;
	enum signer_type	 signer_type;
	struct signer_conf	*sc;		/* hsm: in parent->conf */
	pid_t			 pid;
	enum proc_state		 state;
	unsigned int		 restarts;
	time_t			 started;
	struct timespec		 started_mono;
	int			 backoff_ms;
	int			 remove;	/* free once it has exited */
	int			 restart_now;	/* start again without backoff */
	struct imsgev		 iev;
	struct event		 timer;		/* restart or SIGKILL */
	struct event		 ping_ev;	/* hsm: liveness check */
	uint32_t		 ping_seq;
	uint32_t		 ping_wait;	/* unanswered ping, or 0 */
	struct timespec		 ping_sent;
	int			 ping_answered;	/* since it started */
};
TAILQ_HEAD(child_list, child);

struct parent {
	struct signerd_conf	*conf;
	const char		*conffile;
	char			 self[1024];	/* this binary, for the engine */
	char			 libexec[1024];
	struct listener_list	 listeners;
	int			 control_fd;
	struct child_list	 children;
	struct child		*engine;
	struct child		*frontend;
	uint32_t		 next_signer_id;
	time_t			 started;
	int			 debug;
	int			 verbose;
	int			 quitting;
	struct event		 ev_sigterm;
	struct event		 ev_sigint;
	struct event		 ev_sighup;
	struct event		 ev_sigchld;
	struct event		 ev_quit;
};

extern struct parent	*parent;

/* signerd.c */
int	 parent_reload(char *, size_t);
int	 listeners_open(struct signerd_conf *, struct listener_list *, int);
void	 listeners_close(struct listener_list *);
void	 pem_free(struct pem *);

/* proc.c */
struct child	*child_new(enum proc_kind, struct signer_conf *);
void	 child_start(struct child *);
void	 child_stop(struct child *, int);
void	 child_reaped(pid_t, int);
struct child	*child_find_signer(const char *);
void	 child_send_frontend_conf(struct child *);
void	 child_send_engine_conf(struct child *);
void	 children_broadcast(uint32_t, const void *, size_t);
int	 children_running(void);
void	 proc_info_fill(const struct child *, struct proc_info *);
void	 proc_info_notify(const struct child *);

/* engine.c */
__dead void	 engine_main(const char *, const char *, int, int);

#endif /* PARENT_H */
