/*
 * The engine: policy, keystore, routing to signers, the control socket.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event.h>

#include "imsgev.h"
#include "signerd.h"

#define CTL_MAX_CONNS		32
#define CTL_STATUS_WAIT_MS	1000	/* for the signers' answers */

/* A signer child, as the engine sees it. */
struct esigner {
	TAILQ_ENTRY(esigner)	 entry;
	struct signer_link	 link;
	struct imsgev		 iev;
	struct signer_status	 status;	/* the last answer */
	uint32_t		 answered;	/* request it answered last */
	int			 hung;		/* missed a deadline on iev */
	int			 hung_timeout;	/* that deadline, s */
	/* Its identity (identity.c); status shows it until proven. */
	struct signer_status	 reported;	/* as the child said */
	int			 ident;		/* enum ident_state */
	uint32_t		 ident_req;	/* the challenge's peerid */
	uint8_t			 challenge[32];
	uint32_t		 noffered;
	char			 offered[4][SIGNER_NAME_MAX];
	int			 own;		/* offered[0] is its own */
	char			 ident_why[SIGNER_DETAIL_MAX];
	int			 ident_logged;	/* the state last logged */
	struct event		 ident_timer;
};
TAILQ_HEAD(esigner_list, esigner);

/* A process, as the parent reported it. */
struct eproc {
	TAILQ_ENTRY(eproc)	 entry;
	struct proc_info	 pi;
};
TAILQ_HEAD(eproc_list, eproc);

struct ctl_rewrap;
struct ctl_stream;

/* Where a signer's proof of identity stands (identity.c). */
enum ident_state {
	IDENT_NONE,		/* to be asked when it is ready */
	IDENT_PENDING,		/* challenge sent */
	IDENT_OK,
	IDENT_WRONG,		/* another token: refused until reload */
	IDENT_FAILED		/* could not tell: asked again later */
};

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	uint32_t		 id;
	uid_t			 uid;
	pid_t			 pid;
	struct imsgev		 iev;
	uint32_t		 status_req;	/* show signers in progress */
	int			 waiting;	/* answers outstanding */
	struct event		 timer;
	struct ctl_rewrap	*rewrap;	/* signerctl rewrap running */
	uint32_t		 check_req;	/* signerctl check running */
	uint32_t		*check_ids;	/* signers not answered yet */
	size_t			 ncheck;
	struct event		 check_timer;
	struct ctl_stream	*stream;	/* show grants, show keys */
};
TAILQ_HEAD(ctl_conn_list, ctl_conn);

struct keystore;

struct engine {
	struct keystore		*ks;
	struct imsgev		 parent;
	struct imsgev		 frontend;
	struct esigner_list	 signers;
	struct eproc_list	 procs;
	struct engine_conf	 conf;
	int			 configured;
	int			 control_fd;
	struct event		 control_ev;
	struct event		 control_pause;
	struct ctl_conn_list	 conns;
	int			 nconns;
	uint32_t		 next_id;
	char			(*admins)[256];	/* admin identities */
	size_t			 nadmins;
};

extern struct engine	*engine;

/* engine.c */
void		 engine_status_request(uint32_t);
struct esigner	*esigner_find(uint32_t);
int		 esigner_ready(const struct esigner *);
void		 esigner_view(const struct esigner *, const struct proc_info *,
		    uint32_t, struct signer_status *);
void		 engine_signer_hung(struct esigner *, int);
int		 engine_admin(const char *);

/* A message from signerctl, as control_check found it. */
enum ctl_msg_check {
	CTL_MSG_OK,
	CTL_MSG_VERSION,	/* answered: versions differ */
	CTL_MSG_BAD		/* the connection is closed */
};
struct ctl_msg {
	uint32_t	 type;
	char		 name[SIGNER_NAME_MAX];	/* IMSG_CTL_RESTART, _REWRAP */
	int		 verbose;		/* IMSG_CTL_LOG */
	char		 id[CTL_ID_MAX];	/* IMSG_CTL_DESTROY */
	struct ctl_adopt adopt;			/* IMSG_CTL_ADOPT */
	struct ctl_grant grant;			/* IMSG_CTL_GRANT, _REVOKE */
	struct ctl_show	 show;			/* IMSG_CTL_SHOW_GRANTS, _KEYS */
};

/* identity.c */
struct imsg;
void		 ident_init(struct esigner *);
void		 ident_reset(struct esigner *);
int		 ident_status(struct esigner *, struct imsg *);
int		 ident_answer(struct esigner *, struct imsg *);
void		 ident_check_step(const struct esigner *, struct ctl_check *);

/* control.c */
int		 control_check(uint32_t, uint32_t, const void *, size_t,
		    struct ctl_msg *);
struct ctl_conn	*control_add(int, uid_t, pid_t);
void		 control_listen(int);
void		 control_close_all(void);
void		 control_parent_result(uint32_t, struct imsg *);
void		 control_status_answer(uint32_t);
struct imsg;
int		 control_kek_check(struct esigner *, struct imsg *);
int		 control_rewrap_result(struct esigner *, uint32_t,
		    struct imsg *);
int		 control_check_answer(struct esigner *, struct imsg *);
void		 control_check_lost(struct esigner *);

#endif /* ENGINE_H */
