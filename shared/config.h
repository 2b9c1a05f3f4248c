/*
 * The parsed configuration (signerd.conf(5)).  Only the parent parses the
 * file; children receive what they need of it over imsg.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_FILE		SYSCONFDIR "/signerd/signerd.conf"
#define SIGNERD_USER		"_signerd"
#define SIGNERD_HSM_USER	"_signerd_hsm"
#define SIGNERD_CHROOT		"/var/empty"
#define SIGNERD_SOCKET		"/var/run/signerd/signerd.sock"
#define SIGNERD_KEYSTORE	"/var/lib/signerd/keystore.db"
#define KMIP_PORT		5696

#define SIGNER_NAME_MAX		64	/* including the NUL */
#define SIGNER_SESSIONS_MAX	64
#define SIGNER_TIMEOUT_DEFAULT	10	/* seconds per operation */
#define SIGNER_TIMEOUT_MAX	3600
#define KEYGEN_TIMEOUT_FACTOR	6	/* a key generation's deadline */
#define SIGNER_KEEPALIVE_DEFAULT 30	/* seconds between session checks */
/* login: a pkcs11 signer's C_Login */
#define SIGNER_LOGIN_NO		0
#define SIGNER_LOGIN_YES	1
#define SIGNER_LOGIN_AUTO	2	/* as CKF_LOGIN_REQUIRED says */

/* Defaults and bounds of the frontend's limits. */
#define DEFAULT_MAX_CONNECTIONS	1024
#define DEFAULT_MAX_MESSAGE	(64 * 1024)
#define MIN_MAX_MESSAGE		1024
#define MAX_MAX_MESSAGE		(1024 * 1024)
#define DEFAULT_IDLE_TIMEOUT	600	/* seconds */
#define DEFAULT_READ_TIMEOUT	30	/* seconds */
#define DEFAULT_AUDIT_FILE	"audit.log"
#define DEFAULT_AUDIT_ROTATE	(64LL * 1024 * 1024)
#define DEFAULT_AUDIT_KEEP	8

/* parse_config() flags */
#define CONF_NOCHECK_FILES	0x01	/* don't stat modules, certs, users */

struct listen_conf {
	TAILQ_ENTRY(listen_conf)  entry;
	struct sockaddr_storage	  ss;
	socklen_t		  sslen;
	char			 *addr;		/* as written */
	in_port_t		  port;		/* host order */
	char			 *cert;		/* paths */
	char			 *key;
	char			 *ca;
	int			  tls12;	/* also accept TLS 1.2 */
	int			  verify_client; /* default 0 */
	int			  no_http;	/* no KMIP over HTTPS */
};
TAILQ_HEAD(listen_list, listen_conf);

enum signer_type {
	SIGNER_PKCS11 = 1,
	SIGNER_OPENSSL,
	SIGNER_KMIP
};

enum secret_source {
	SECRET_NONE = 0,
	SECRET_ENV,		/* name of an environment variable */
	SECRET_FILE		/* path of a file (check_file_secrecy) */
};

struct signer_conf {
	TAILQ_ENTRY(signer_conf)  entry;
	char			  name[SIGNER_NAME_MAX];
	enum signer_type	  type;
	char			 *file;		/* where it was defined */
	int			  line;

	/* pkcs11 */
	char			 *module;	/* realpath'd when checked */
	char			 *token;	/* token label, and/or */
	char			 *serial;	/* token serial number, or */
	long long		  slot;		/* slot id, -1 if unset */
	enum secret_source	  pin_src;
	char			 *pin_ref;	/* variable name or path */
	int			  login;	/* SIGNER_LOGIN_*; yes */
	int			  keepalive;	/* s, 0 off; default 30 */
	int			  sessions;	/* default 4 */
	int			  timeout;	/* per operation, s; default 10 */

	/* openssl */
	char			 *wrap_with;	/* name of a pkcs11 signer, or */
	char			 *kek_file;	/* a local key-encryption key */

	/* kmip */
	char			 *host;
	in_port_t		  port;		/* default KMIP_PORT */
	char			 *ca;
	char			 *cert;
	char			 *key;
	char			 *username;
	enum secret_source	  password_src;
	char			 *password_ref;
};
TAILQ_HEAD(signer_list, signer_conf);

/*
 * An identity (signerd.conf(5) identity NAME { ... }): certificates
 * bound to the name by their SHA-256, a password hash (pwhash.h), the
 * signer of its new keys and the operations it may use.
 */
#define IDENTITY_NAME_MAX	256	/* with the NUL */
#define IDENTITY_FP_MAX		16	/* fingerprints of one identity */
#define IDENTITY_FP_LEN		32	/* SHA-256 */

struct identity_conf {
	TAILQ_ENTRY(identity_conf) entry;
	char			 *name;
	char			 *file;		/* where it was defined */
	int			  line;
	uint8_t			  fp[IDENTITY_FP_MAX][IDENTITY_FP_LEN];
	int			  nfp;
	char			 *password;	/* hash string, or NULL */
	char			 *default_signer;
	uint64_t		  ops;		/* bit per KMIP op; 0: all */
};
TAILQ_HEAD(identity_list, identity_conf);

struct name_entry {
	TAILQ_ENTRY(name_entry)	  entry;
	char			 *name;
};
TAILQ_HEAD(name_list, name_entry);

struct signerd_conf {
	struct listen_list	  listeners;
	struct signer_list	  signers;
	struct name_list	  admins;
	struct identity_list	  identities;
	char			 *user;		/* default SIGNERD_USER */
	char			 *hsm_user;	/* default SIGNERD_HSM_USER */
	char			 *chroot;	/* default SIGNERD_CHROOT */
	char			 *control_path;	/* default SIGNERD_SOCKET */
	char			 *control_group; /* NULL: root only */
	char			 *keystore;	/* default SIGNERD_KEYSTORE */
	char			 *default_signer;
	char			 *oneoff_signer;
	int			  max_connections;
	int			  max_message;
	int			  idle_timeout;
	int			  read_timeout;
	/* audit { ... } */
	int			  audit_on;	/* default 1 */
	char			 *audit_file;	/* default "audit.log" */
	long long		  audit_rotate;	/* bytes, 0: never; 64M */
	int			  audit_keep;	/* default 8, 0: all */
	int			  audit_syslog;	/* default 1 */
};

/* parse.y */
struct signerd_conf	*parse_config(const char *, int);
int			 cmdline_symset(const char *);

/* config.c */
struct signerd_conf	*config_new(void);
void			 config_free(struct signerd_conf *);
void			 config_print(FILE *, const struct signerd_conf *);
int			 signer_conf_equal(const struct signer_conf *,
			    const struct signer_conf *);
int			 frontend_conf_equal(const struct signerd_conf *,
			    const struct signerd_conf *);
struct signer_conf	*signer_find(const struct signerd_conf *,
			    const char *);
const char		*signer_type_name(enum signer_type);
int			 check_file_secrecy(int, const char *);
int			 policy_op_parse(const char *);
const char		*policy_op_word(int, char *, size_t);

#endif /* CONFIG_H */
