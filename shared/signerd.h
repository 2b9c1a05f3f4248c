/*
 * Definitions every signerd process shares: process kinds, the imsg
 * message types and the fixed-size records they carry.
 */
#ifndef SIGNERD_H
#define SIGNERD_H

#include <sys/types.h>

#include <stdint.h>

#include "config.h"

#define SIGNERD_FRONTEND	"signerd-frontend"
#define SIGNERD_HSM		"signerd-hsm"
#define PARENT_SOCK_FILENO	3	/* a child's channel to the parent */

/* Payload caps per channel (imsgbuf_set_maxsize). */
#define IMSG_MAX_CONTROL	16384		/* the imsg default */
#define IMSG_MAX_INTERNAL	(2 * 1024 * 1024) /* KMIP requests */

/*
 * Backpressure on requests.  The frontend frames no more than
 * CONN_INFLIGHT_MAX requests of one connection whose answers have not
 * been written back yet, and no more than INFLIGHT_MAX_BYTES of requests
 * over all connections that the engine has not answered yet; the engine
 * refuses beyond twice these.  See signerd.conf(5) for the memory bound.
 */
#define CONN_INFLIGHT_MAX	32
#define INFLIGHT_MAX_BYTES	(16 * 1024 * 1024)

/* Bumped with every change to the enum or to a record below. */
#define IMSG_VERSION		8

enum proc_kind {
	PROC_PARENT,
	PROC_FRONTEND,
	PROC_ENGINE,
	PROC_HSM
};

enum imsg_type {
	IMSG_NONE,

	/* parent -> children: channels and configuration */
	IMSG_SOCKET_ENGINE,	/* fd: channel to the engine */
	IMSG_SOCKET_FRONTEND,	/* fd: channel to the frontend (to engine) */
	IMSG_SOCKET_SIGNER,	/* fd + struct signer_link (to engine) */
	IMSG_SOCKET_CONTROL,	/* fd: listening control socket (to engine) */
	IMSG_LISTENER,		/* fd + struct listener_info (to frontend) */
	IMSG_TLS_CERT,		/* PEM, for the listener sent before */
	IMSG_TLS_KEY,		/* PEM */
	IMSG_TLS_CA,		/* PEM */
	IMSG_CONF_FRONTEND,	/* struct frontend_limits */
	IMSG_CONF_ENGINE,	/* struct engine_conf */
	IMSG_CONF_ADMIN,	/* string (to engine) */
	IMSG_CONF_SIGNER,	/* struct signer_setup (to hsm) */
	IMSG_CONF_PIN,		/* the PIN, to its own hsm only */
	IMSG_CONF_KEK,		/* key-encryption key, to its openssl hsm */
	IMSG_CONF_DONE,		/* configuration complete: start serving */
	IMSG_SIGNER_DEL,	/* struct signer_link: signer removed */
	IMSG_PROC_INFO,		/* struct proc_info (to engine) */
	IMSG_CTL_VERBOSE,	/* int: new verbosity (to everyone) */

	/* engine -> parent */
	IMSG_CTL_RELOAD,	/* no payload; answered with IMSG_CTL_RESULT */
	IMSG_CTL_RESTART,	/* signer name */
	IMSG_CTL_LOG,		/* int: verbosity, parent broadcasts */
	IMSG_SIGNER_HUNG,	/* struct signer_hung: restart that signer */

	/* parent <-> hsm: liveness, no payload */
	IMSG_HSM_PING,		/* parent -> hsm, peerid: a sequence number */
	IMSG_HSM_PONG,		/* hsm -> parent, same peerid */

	/* engine <-> hsm */
	IMSG_HSM_STATUS_REQ,	/* no payload */
	IMSG_HSM_STATUS,	/* struct signer_status */
	IMSG_HSM_GENERATE,	/* struct hsm_generate (hsmmsg.h) */
	IMSG_HSM_IMPORT,	/* struct hsm_import + key */
	IMSG_HSM_OP,		/* struct hsm_op + parts */
	IMSG_HSM_RESULT,	/* struct hsm_result + parts */

	/* frontend <-> engine */
	IMSG_FE_REQUEST,	/* struct fe_hdr + TTLV */
	IMSG_FE_RESPONSE,	/* struct fe_hdr + TTLV; empty: close */

	/* signerctl <-> engine */
	IMSG_CTL_SHOW_STATUS,
	IMSG_CTL_SHOW_SIGNERS,
	IMSG_CTL_PROC,		/* struct proc_info, one per process */
	IMSG_CTL_SIGNER,	/* struct ctl_signer, one per signer */
	IMSG_CTL_END,
	IMSG_CTL_RESULT,	/* struct ctl_result */
	IMSG_CTL_SHOW_DAMAGED,	/* objects whose stored form cannot load */
	IMSG_CTL_OBJECT,	/* one object in an answer */
	IMSG_CTL_DESTROY,	/* an admin destroys an object by id */

	/*
	 * Reserved for the PKCS#11 keys work (issue 8); each is defined
	 * where it is built: CKA_LABEL follows the KMIP Name, adoption of
	 * keys already in a token, the openssl signer's KEK in a pkcs11
	 * signer (a channel between the two children), rewrap.
	 */
	IMSG_HSM_LABEL,		/* engine -> hsm */
	IMSG_HSM_FIND,		/* engine -> hsm */
	IMSG_CTL_ADOPT,		/* signerctl -> engine */
	IMSG_SOCKET_KEK,	/* parent -> hsm: fd of the KEK channel */
	IMSG_KEK_WRAP,		/* openssl hsm -> pkcs11 hsm */
	IMSG_KEK_UNWRAP,	/* openssl hsm -> pkcs11 hsm */
	IMSG_KEK_RESULT,	/* pkcs11 hsm -> openssl hsm */
	IMSG_HSM_REWRAP,	/* engine -> openssl hsm */
	IMSG_CTL_REWRAP,	/* signerctl -> engine */
	IMSG_KEK_CHECK,		/* openssl hsm <-> engine: struct kek_check */

	/*
	 * Signer identity and self-test, signerctl metrics, several
	 * operations per message; reserved for grants, the key list and
	 * the audit trail (issue 11).  Each is defined where it is built.
	 */
	IMSG_HSM_IDENTITY,	/* engine <-> hsm: identity key, challenge */
	IMSG_HSM_CHECK,		/* engine <-> hsm: self-test steps */
	IMSG_CTL_CHECK,		/* signerctl -> engine: self-test */
	IMSG_CTL_SHOW_METRICS,	/* signerctl -> engine */
	IMSG_CTL_METRICS,	/* engine -> signerctl: one chunk of text */
	IMSG_HSM_OPS,		/* engine -> hsm: several operations */
	IMSG_HSM_RESULTS,	/* hsm -> engine: several results */
	IMSG_CTL_GRANT,		/* signerctl -> engine: add a grant */
	IMSG_CTL_REVOKE,	/* signerctl -> engine: remove grants */
	IMSG_CTL_SHOW_GRANTS,	/* signerctl -> engine */
	IMSG_CTL_GRANT_ENTRY,	/* engine -> signerctl: one grant */
	IMSG_CTL_SHOW_KEYS,	/* signerctl -> engine */
	IMSG_CTL_KEY_ENTRY,	/* engine -> signerctl: one object */
	IMSG_CTL_AUDIT,		/* signerctl <-> engine: the audit chain */
	IMSG_FE_STATS,		/* frontend -> engine: struct fe_stats */
	IMSG_FE_CLOSED,		/* frontend -> engine: struct fe_hdr, a
				   connection is gone (its streams too) */
	IMSG_CONF_IDENTITY,	/* parent -> engine: struct conf_identity */
	IMSG_FE_REFUSED		/* frontend -> engine: struct fe_refused */
};

enum proc_state {
	PSTATE_STOPPED,		/* not running and not to be restarted */
	PSTATE_RUNNING,
	PSTATE_BACKOFF,		/* died; waiting to be restarted */
	PSTATE_STOPPING
};

enum signer_state {
	SSTATE_UNKNOWN,		/* no answer from the child */
	SSTATE_STARTING,
	SSTATE_READY,
	SSTATE_ERROR,		/* see detail; retried with backoff */
	SSTATE_LOCKED,		/* wrong PIN: not retried until reload */
	SSTATE_UNSUPPORTED,	/* type not implemented in this build */
	SSTATE_HUNG,		/* missed a deadline, about to be killed */
	SSTATE_RESTARTING,	/* the parent is restarting its child */
	SSTATE_WRONG_TOKEN	/* the engine: not the signer's identity */
};

struct proc_info {
	int32_t		 kind;		/* enum proc_kind */
	int32_t		 state;		/* enum proc_state */
	char		 name[SIGNER_NAME_MAX];	/* signer name or "" */
	int64_t		 pid;		/* 0 when not running */
	int64_t		 started;	/* time(3) of the last start */
	uint32_t	 restarts;	/* starts after the first */
	uint32_t	 signer_id;	/* parent's id of a signer, else 0 */
	int32_t		 type;		/* enum signer_type, else 0 */
};

struct signer_link {
	uint32_t	 signer_id;
	int32_t		 type;		/* enum signer_type */
	char		 name[SIGNER_NAME_MAX];
	int32_t		 timeout;	/* per operation, seconds */
};

/* IMSG_SIGNER_HUNG: the engine gave up waiting on this signer child. */
struct signer_hung {
	uint32_t	 signer_id;
	int32_t		 timeout;	/* the deadline it missed, seconds */
	int64_t		 pid;		/* the child the engine waited on */
};

struct signer_setup {
	uint32_t	 signer_id;
	int32_t		 type;
	char		 name[SIGNER_NAME_MAX];
	char		 module[1024];
	char		 token[64];
	char		 serial[64];	/* "": any */
	int64_t		 slot;		/* -1: by token label */
	int32_t		 login;		/* SIGNER_LOGIN_* */
	int32_t		 sessions;
	int32_t		 timeout;
	int32_t		 keepalive;	/* seconds, 0 off */
	int32_t		 has_pin;	/* IMSG_CONF_PIN follows */
	char		 wrap_with[SIGNER_NAME_MAX];	/* openssl */
	char		 kek_file[1024];		/* openssl */
	char		 host[256];			/* kmip */
	uint16_t	 port;
};

#define SIGNER_STAT_SESSIONS	16	/* per-session counters shown */
#define HSM_LAST_ERROR_MAX	160

#define SIGNER_DETAIL_MAX	480

struct signer_status {
	int32_t		 state;		/* enum signer_state */
	char		 detail[SIGNER_DETAIL_MAX];
	/* A pkcs11 signer's pool of sessions; 0 for the other kinds. */
	int32_t		 sessions;	/* configured */
	int32_t		 open;		/* open, each with its thread */
	int32_t		 running;	/* requests on a session now */
	int32_t		 queued;	/* requests waiting for one */
	int32_t		 peak;		/* most running at once */
	uint64_t	 ops;		/* requests done */
	uint64_t	 sess_ops[SIGNER_STAT_SESSIONS];	/* the first */
	/* A pkcs11 signer's token, once found: hsm::<slot>:: ids. */
	int32_t		 has_slot;
	uint64_t	 slot;
	/* C_GetTokenInfo, blanks trimmed; "" if none. */
	char		 tok_label[33];
	char		 tok_serial[17];
	char		 tok_model[17];
	char		 tok_manuf[33];
	char		 tok_firmware[8];	/* "major.minor" */
	/* Every signer: requests answered since the child started. */
	uint64_t	 answered;
	uint64_t	 errors;		/* ... with an error */
	int64_t		 last_error_at;		/* time(3), 0: none */
	char		 last_error[HSM_LAST_ERROR_MAX];
	uint32_t	 lat_n;			/* answers in the last minute */
	uint32_t	 lat_p50_us;		/* their latency, microseconds */
	uint32_t	 lat_p99_us;
	/* Filled in by the engine. */
	uint64_t	 keys;			/* keystore objects it holds */
};

struct ctl_signer {
	struct proc_info	 proc;
	struct signer_status	 status;
};

struct listener_info {
	uint32_t	 id;
	int32_t		 tls12;
	int32_t		 verify_client;
	int32_t		 no_http;	/* TTLV only, no KMIP over HTTPS */
	char		 addr[64];
	uint16_t	 port;
};

struct frontend_limits {
	int32_t		 max_connections;
	int32_t		 max_message;
	int32_t		 idle_timeout;
	int32_t		 read_timeout;
};

struct engine_conf {
	int64_t		 control_gid;	/* -1: root only */
	int32_t		 nmembers;	/* valid entries in members */
	int64_t		 members[64];	/* uids of the control group */
	char		 keystore[1024];
	char		 default_signer[SIGNER_NAME_MAX];
	char		 oneoff_signer[SIGNER_NAME_MAX];
	int32_t		 max_message;	/* also the largest response */
	int32_t		 http;		/* a listener serves KMIP over HTTPS */
	/* The audit trail (signerd.conf(5) audit). */
	int32_t		 audit_on;
	int32_t		 audit_syslog;
	int32_t		 audit_keep;	/* rotated files kept; 0: all */
	int64_t		 audit_rotate;	/* bytes; 0: never */
	char		 audit_file[128];	/* in the keystore's directory */
};

struct fe_hdr {
	uint64_t	 conn_id;
	uint64_t	 req_id;
	char		 identity[256];	/* client certificate CN */
	char		 peer[64];	/* source address and port */
	uint8_t		 cert_sha256[32]; /* all zero: no certificate */
};

/*
 * IMSG_FE_REFUSED: a connection the frontend closed before admitting it,
 * for the audit trail; a reset or an EOF before any TLS record is not
 * one.  claimed is the subject CN of the certificate the client showed,
 * not verified ("" without one), cert_sha256 that certificate's (all
 * zero: none).  No more than a rate of these are sent: suppressed counts
 * the refusals not sent since the last one.  With peer "", it is only
 * that count.  Every string is NUL-terminated.
 */
#define FE_REASON_MAX	160
struct fe_refused {
	char		 peer[64];	/* source address and port */
	char		 claimed[256];	/* certificate CN, unverified */
	uint8_t		 cert_sha256[32];
	char		 reason[FE_REASON_MAX];
	uint64_t	 suppressed;
};

/*
 * IMSG_FE_STATS: the frontend's connection counters, since it started,
 * sent to the engine (for signerctl show metrics) a moment after they
 * change.
 */
struct fe_stats {
	uint64_t	 accepted;	/* TCP connections accepted */
	uint64_t	 admitted;	/* TLS handshake done, let in */
	uint64_t	 refused_limit;	/* over max connections */
	uint64_t	 refused_cert;	/* certificate refused or missing */
	uint64_t	 failed;	/* closed during the handshake */
	uint32_t	 open;		/* admitted, open now */
	uint32_t	 handshakes;	/* in the handshake now */
};

enum ctl_code {
	CTL_OK,
	CTL_DENIED,
	CTL_NOTFOUND,
	CTL_FAILED,
	CTL_BADVERSION
};

struct ctl_result {
	int32_t		 code;		/* enum ctl_code */
	char		 msg[512];
};

#define CTL_ID_MAX	64	/* a Unique Identifier, with the NUL */

/* IMSG_CTL_DESTROY: the object, by id. */
struct ctl_destroy {
	char		 id[CTL_ID_MAX];
};

/* IMSG_CTL_OBJECT: a damaged object, in the answer to show damaged. */
struct ctl_object {
	char		 id[CTL_ID_MAX];
	char		 owner[256];
	uint32_t	 type;		/* KMIP Object Type */
	uint32_t	 state;		/* KMIP State */
	char		 why[160];
};

/*
 * IMSG_CTL_ADOPT: make keystore objects, owned by owner, of a key that
 * is in a pkcs11 signer's token already, found by CKA_LABEL or CKA_ID
 * (by: HSM_FIND_LABEL 1, HSM_FIND_ID 2 of hsmmsg.h).  name: its KMIP
 * Name, "" for the token's label.  Answered with IMSG_CTL_RESULT.
 */
#define CTL_ADOPT_VALUE_MAX	128	/* HSM_FIND_VALUE_MAX */
struct ctl_adopt {
	char		 signer[SIGNER_NAME_MAX];
	uint32_t	 by;
	uint32_t	 len;		/* of value */
	uint8_t		 value[CTL_ADOPT_VALUE_MAX];
	char		 owner[256];
	char		 name[256];
};

/*
 * IMSG_CTL_CHECK, signerctl -> engine: the self-test of one signer by
 * name, or of all ("").  The engine answers one IMSG_CTL_CHECK with
 * struct ctl_check per signer, then IMSG_CTL_END.
 */
#define CHECK_STEPS_MAX		10
#define CHECK_NAME_MAX		16
#define CHECK_DETAIL_MAX	200

enum check_result {
	CHECK_PASS = 1,
	CHECK_FAIL,
	CHECK_SKIP		/* not run: an earlier step failed */
};

struct check_step {
	char		 name[CHECK_NAME_MAX];	/* "login", "sign", ... */
	int32_t		 result;		/* enum check_result */
	uint32_t	 usec;			/* how long it took */
	char		 detail[CHECK_DETAIL_MAX];
};

struct ctl_check {
	char		 signer[SIGNER_NAME_MAX];
	uint32_t	 nsteps;
	struct check_step steps[CHECK_STEPS_MAX];
};

/*
 * IMSG_CONF_IDENTITY, parent -> engine: an identity of signerd.conf(5),
 * after IMSG_CONF_ENGINE and before IMSG_CONF_DONE.  password is the
 * hash string (pwhash.h), "" if none; ops a bit per KMIP operation, 0
 * for all.
 */
#define CONF_IDENTITY_FP_MAX	16
struct conf_identity {
	char		 name[256];
	char		 password[256];
	char		 default_signer[SIGNER_NAME_MAX];
	uint64_t	 ops;
	int32_t		 nfp;
	uint8_t		 fp[CONF_IDENTITY_FP_MAX][32];
};

/*
 * Grants (signerctl grant, revoke, show grants): holder may do ops (a
 * bit per KMIP operation) on the object target, on every object of the
 * owner target, or of the signer target.  IMSG_CTL_GRANT and
 * IMSG_CTL_REVOKE carry one, answered with IMSG_CTL_RESULT; the answer
 * to IMSG_CTL_SHOW_GRANTS (struct ctl_show: an identity or an object
 * id, or "" for all) is one IMSG_CTL_GRANT_ENTRY per holder and target,
 * then IMSG_CTL_END.
 */
enum grant_scope {
	GRANT_OBJECT = 1,
	GRANT_OWNER,
	GRANT_SIGNER
};

struct ctl_grant {
	char		 holder[256];
	int32_t		 scope;		/* enum grant_scope */
	char		 target[256];
	uint64_t	 ops;
};

struct ctl_show {
	char		 name[256];
};

/*
 * IMSG_CTL_SHOW_KEYS (struct ctl_show: an owner, or "" for all): one
 * IMSG_CTL_KEY_ENTRY per object, oldest first, sent in bounded chunks,
 * then IMSG_CTL_END.
 */
struct ctl_key {
	char		 id[CTL_ID_MAX];
	char		 name[256];	/* its first Name, or "" */
	char		 owner[256];
	char		 signer[SIGNER_NAME_MAX];
	uint32_t	 type;		/* KMIP Object Type */
	uint32_t	 state;		/* KMIP State */
	uint32_t	 algorithm;	/* KMIP Cryptographic Algorithm, or 0 */
};

/* p11advice.c */
const char	*p11_advice_of(const char *);
const char	*p11_advice(const char *, char *, size_t);

/* privsep.c */
void		 priv_drop(const char *, const char *);
int		 priv_check_dropped(void);

/* sandbox_linux.c */
enum sandbox_profile {
	SANDBOX_FRONTEND,
	SANDBOX_ENGINE,
	SANDBOX_HSM
};
void		 sandbox_apply(enum sandbox_profile);

/* child.c */
struct imsg;
struct imsgev;
void		 child_signals(void);
void		 child_link(struct imsgev *, struct imsg *,
		    void (*)(int, short, void *), void *);
void		 child_verbose(struct imsg *);

/* util.c */
const char	*proc_kind_name(enum proc_kind);
const char	*proc_state_name(enum proc_state);
const char	*signer_state_name(enum signer_state);
void		 strterm(char *, size_t);
void		 ctl_result_set(struct ctl_result *, enum ctl_code,
		    const char *);
size_t		 utf8_char(const uint8_t *, size_t);
int		 utf8_control(const uint8_t *, size_t);

#endif /* SIGNERD_H */
