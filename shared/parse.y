/*
 * signerd.conf(5) parser.
 *
 * The usual OpenBSD shape: a newline-terminated grammar with one error
 * production per level so that every mistake in a file is reported, a
 * hand-written lexer with macros and includes, and semantic checks run
 * once the whole file has been read.  Errors are printed as
 * "file:line: message"; parse_config() returns NULL if there was any.
 *
 * Every string the lexer returns lives in a pool that is emptied when
 * parsing ends, so tokens dropped by error recovery cannot leak: actions
 * copy what they keep.
 */

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pwhash.h"

#define MAXTOKEN	8192	/* longest word or quoted string */
#define MAXINCLUDE	16	/* include nesting */
#define MAXUNGET	8	/* lexer pushback, per file */
#define DONE_EXPAND	256	/* end of a macro expansion, not a char */

struct file {
	TAILQ_ENTRY(file)	 entry;
	FILE			*stream;
	char			*name;
	int			 ungetbuf[MAXUNGET];
	int			 ungetpos;
	int			 eof_reached;
	int			 lineno;
};
TAILQ_HEAD(files, file);

struct sym {
	TAILQ_ENTRY(sym)	 entry;
	int			 used;
	int			 persist;	/* -D, kept on reload */
	char			*name;
	char			*val;
};
TAILQ_HEAD(symhead, sym);

typedef struct {
	union {
		long long	 number;
		char		*string;
	} v;
	int lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1

/* Statements that may appear only once. */
enum {
	SEEN_USER	= 0x0001,
	SEEN_CHROOT	= 0x0002,
	SEEN_CONTROL	= 0x0004,
	SEEN_KEYSTORE	= 0x0008,
	SEEN_MAXCONN	= 0x0010,
	SEEN_MAXMSG	= 0x0020,
	SEEN_IDLE	= 0x0040,
	SEEN_READ	= 0x0080,
	SEEN_DEFAULT	= 0x0100,
	SEEN_ONEOFF	= 0x0200,
	SEEN_HSMUSER	= 0x0400,
	SEEN_AUDIT	= 0x0800,
	/* inside blocks */
	SEEN_SLOT	= 0x0001,
	SEEN_LOGIN	= 0x0002,
	SEEN_SESSIONS	= 0x0004,
	SEEN_TIMEOUT	= 0x0008,
	SEEN_PORT	= 0x0010,
	SEEN_PIN	= 0x0020,
	SEEN_PASSWORD	= 0x0040,
	SEEN_TLS12	= 0x0080,
	SEEN_VERIFY	= 0x0100,
	SEEN_KEEPALIVE	= 0x0400,
	SEEN_HTTP	= 0x0800
};

/* Where a statement checked after parsing was written. */
struct where {
	const char		*file;		/* in the string pool */
	int			 line;
};

static struct files	 files = TAILQ_HEAD_INITIALIZER(files);
static struct symhead	 symhead = TAILQ_HEAD_INITIALIZER(symhead);
static struct file	*file, *topfile;
static struct signerd_conf *conf;
static struct signer_conf *cursigner;
static struct listen_conf *curlisten;
static struct identity_conf *curident;
static int		 conf_flags;
static int		 errors;
static int		 lexerror;	/* the lexer reported this token */
static int		 depth;		/* open braces */
static int		 depth_line;	/* where the outermost opened */
static int		 last_line;	/* of the last real token */
static int		 seen, blockseen;
static int		 block_errors;	/* errors as the block began */
static int		 block_line;	/* where it began */
static struct where	 user_at, hsm_user_at, default_at, oneoff_at;
static char		*parsebuf;	/* macro being expanded */
static size_t		 parseindex;
static char		 lasttok[48];
static char		**pool;
static size_t		 npool, poolsize;

int		 yyparse(void);
static int	 yylex(void);
static int	 yyerror(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 lerror(int, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 cerror(const struct where *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static int	 kw_cmp(const void *, const void *);
static int	 lookup(const char *);
static int	 igetc(void);
static int	 lgetc(int);
static void	 lungetc(int);
static int	 findeol(void);
static void	 skipblock(void);
static int	 allowed_in_string(int);
static int	 is_number(const char *);
static void	 set_lasttok(const char *);
static struct file *pushfile(const char *, const char **);
static int	 popfile(void);
static char	*include_path(const char *);
static int	 symset(const char *, const char *, int);
static const char *symget(const char *);
static int	 valid_macro_name(const char *);
static char	*pool_strdup(const char *);
static void	 pool_free(void);
static char	*xstrdup(const char *);
static void	 where_set(struct where *);
static int	 once(int *, int, const char *);
static int	 check_range(long long, long long, long long, const char *);
static int	 check_absolute(const char *, const char *);
static int	 check_readable(const char *, const char *);
static int	 check_secret(const char *, const char *);
static int	 check_envname(const char *);
static int	 check_signer_name(const char *);
static int	 host_resolve(struct listen_conf *);
static int	 same_address(const struct listen_conf *,
		    const struct listen_conf *);
static void	 listen_start(const char *, long long, int);
static void	 listen_end(void);
static void	 signer_start(const char *, enum signer_type, int);
static void	 signer_end(void);
static void	 identity_start(const char *, int);
static void	 identity_fingerprint(const char *);
static void	 identity_password(const char *);
static void	 identity_op(const char *);
static int	 signer_is(enum signer_type, const char *);
static void	 set_string(char **, const char *, const char *);
static void	 set_file(char **, const char *, const char *);
static void	 conf_check(void);
%}

%token	ADMIN ALLOW CA CERTIFICATE CHROOT CLIENT CONNECTIONS CONTROL
%token	DEFAULT ENV FILE_ GROUP HOST HTTP IDLE INCLUDE KEK KEY KEYSTORE KMIP
%token	LISTEN LOGIN MAX MESSAGE MODULE NO ON ONEOFF OPENSSL OPTIONAL
%token	PASSWORD PIN PKCS11 PORT READ SERIAL SESSIONS SIGNER SLOT SOCKET
%token	TIMEOUT
%token	TLS TOKEN USER USERNAME
%token	WITH WRAP YES
%token	AUTO KEEPALIVE
%token	FINGERPRINT IDENTITY OPERATIONS
%token	AUDIT KEEP ROTATE SYSLOG
%token	ERROR
%token	<v.string>	STRING
%token	<v.number>	NUMBER
%type	<v.number>	yesno port signertype loginmode
%type	<v.string>	optgroup include value
%type	<v.number>	size
%expect 0

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'		{
			struct file	*nfile;
			const char	*err;
			char		*path;

			path = include_path($2);
			if ((nfile = pushfile(path, &err)) == NULL)
				yyerror("cannot include \"%s\": %s", path, err);
			else
				file = nfile;
			free(path);
		}
		| grammar varset '\n'
		| grammar main '\n'
		| grammar listen '\n'
		| grammar signer '\n'
		| grammar identity '\n'
		| grammar audit '\n'
		| grammar error '\n'		{
			/* A broken statement that opened a block: skip it. */
			if (depth > 0)
				skipblock();
			cursigner = NULL;
			curlisten = NULL;
			curident = NULL;
			yyerrok;
		}
		;

include		: INCLUDE STRING		{ $$ = $2; }
		;

varset		: STRING '=' value		{
			if (!valid_macro_name($1))
				yyerror("invalid macro name \"%s\"", $1);
			else if (symset($1, $3, 0) == -1)
				fatal("%s", __func__);
		}
		;

value		: STRING			{ $$ = $1; }
		| NUMBER			{
			char	 num[32];

			(void)snprintf(num, sizeof(num), "%lld", $1);
			$$ = pool_strdup(num);
		}
		;

yesno		: YES				{ $$ = 1; }
		| NO				{ $$ = 0; }
		;

loginmode	: YES				{ $$ = SIGNER_LOGIN_YES; }
		| NO				{ $$ = SIGNER_LOGIN_NO; }
		| AUTO				{ $$ = SIGNER_LOGIN_AUTO; }
		;

main		: USER STRING			{
			if (once(&seen, SEEN_USER, "user") == 0) {
				where_set(&user_at);
				set_string(&conf->user, $2, NULL);
				if (!(conf_flags & CONF_NOCHECK_FILES) &&
				    getpwnam($2) == NULL)
					yyerror("user \"%s\" does not exist",
					    $2);
			}
		}
		| SIGNER USER STRING		{
			if (once(&seen, SEEN_HSMUSER, "signer user") == 0) {
				where_set(&hsm_user_at);
				set_string(&conf->hsm_user, $3, NULL);
				if (!(conf_flags & CONF_NOCHECK_FILES) &&
				    getpwnam($3) == NULL)
					yyerror("user \"%s\" does not exist",
					    $3);
			}
		}
		| CHROOT STRING			{
			if (once(&seen, SEEN_CHROOT, "chroot") == 0 &&
			    check_absolute("chroot", $2) == 0)
				set_string(&conf->chroot, $2, NULL);
		}
		| CONTROL SOCKET STRING optgroup {
			if (once(&seen, SEEN_CONTROL, "control socket") == 0 &&
			    check_absolute("control socket", $3) == 0) {
				set_string(&conf->control_path, $3, NULL);
				if ($4 != NULL)
					set_string(&conf->control_group, $4,
					    NULL);
				if ($4 != NULL &&
				    !(conf_flags & CONF_NOCHECK_FILES) &&
				    getgrnam($4) == NULL)
					yyerror("group \"%s\" does not exist",
					    $4);
			}
		}
		| KEYSTORE STRING		{
			if (once(&seen, SEEN_KEYSTORE, "keystore") == 0 &&
			    check_absolute("keystore", $2) == 0)
				set_string(&conf->keystore, $2, NULL);
		}
		| ADMIN STRING			{
			struct name_entry	*n;

			if (*$2 == '\0' || strlen($2) > 255) {
				yyerror("admin name must be 1 to 255 "
				    "characters");
				break;
			}
			TAILQ_FOREACH(n, &conf->admins, entry)
				if (strcmp(n->name, $2) == 0)
					break;
			if (n != NULL) {
				yyerror("duplicate admin \"%s\"", $2);
				break;
			}
			if ((n = calloc(1, sizeof(*n))) == NULL)
				fatal("%s", __func__);
			n->name = xstrdup($2);
			TAILQ_INSERT_TAIL(&conf->admins, n, entry);
		}
		| MAX CONNECTIONS NUMBER	{
			if (once(&seen, SEEN_MAXCONN, "max connections") == 0 &&
			    check_range($3, 1, 65535, "max connections") == 0)
				conf->max_connections = $3;
		}
		| MAX MESSAGE NUMBER		{
			if (once(&seen, SEEN_MAXMSG, "max message") == 0 &&
			    check_range($3, MIN_MAX_MESSAGE, MAX_MAX_MESSAGE,
			    "max message") == 0)
				conf->max_message = $3;
		}
		| IDLE TIMEOUT NUMBER		{
			if (once(&seen, SEEN_IDLE, "idle timeout") == 0 &&
			    check_range($3, 1, 86400, "idle timeout") == 0)
				conf->idle_timeout = $3;
		}
		| READ TIMEOUT NUMBER		{
			if (once(&seen, SEEN_READ, "read timeout") == 0 &&
			    check_range($3, 1, 86400, "read timeout") == 0)
				conf->read_timeout = $3;
		}
		| DEFAULT SIGNER STRING		{
			if (once(&seen, SEEN_DEFAULT, "default signer") == 0) {
				where_set(&default_at);
				set_string(&conf->default_signer, $3, NULL);
			}
		}
		| ONEOFF SIGNER STRING		{
			if (once(&seen, SEEN_ONEOFF, "one-off signer") == 0) {
				where_set(&oneoff_at);
				set_string(&conf->oneoff_signer, $3, NULL);
			}
		}
		;

audit		: AUDIT yesno			{
			if (once(&seen, SEEN_AUDIT, "audit") == 0)
				conf->audit_on = $2;
		}
		| AUDIT				{
			if (once(&seen, SEEN_AUDIT, "audit") == 0)
				conf->audit_on = 1;
		} '{' aopts '}'
		;

/* Options on one line or several. */
aopts		: /* empty */
		| aopts '\n'
		| aopts aopt
		;

aopt		: FILE_ STRING			{
			/* In the keystore's directory, where the engine is. */
			if (*$2 == '\0' || strchr($2, '/') != NULL ||
			    strcmp($2, ".") == 0 || strcmp($2, "..") == 0 ||
			    strlen($2) > 100)
				yyerror("audit file must be a file name of 1 "
				    "to 100 characters, without '/'");
			else
				set_string(&conf->audit_file, $2, NULL);
		}
		| ROTATE size			{
			if ($2 != 0 && $2 < 4096)
				yyerror("audit rotate must be 0 (never) or "
				    "at least 4096 bytes");
			else
				conf->audit_rotate = $2;
		}
		| KEEP NUMBER			{
			if (check_range($2, 0, 100000, "audit keep") == 0)
				conf->audit_keep = $2;
		}
		| SYSLOG yesno			{
			conf->audit_syslog = $2;
		}
		;

/* A byte count, with an optional K, M or G (powers of 1024). */
size		: NUMBER			{
			if ($1 < 0)
				yyerror("negative size");
			$$ = $1 < 0 ? 0 : $1;
		}
		| STRING			{
			char		*end;
			long long	 n;
			int		 shift = 0;

			errno = 0;
			n = strtoll($1, &end, 10);
			if (end != $1 && end[0] != '\0' && end[1] == '\0')
				switch (end[0]) {
				case 'k': case 'K':
					shift = 10;
					end++;
					break;
				case 'm': case 'M':
					shift = 20;
					end++;
					break;
				case 'g': case 'G':
					shift = 30;
					end++;
					break;
				}
			if (end == $1 || *end != '\0' || errno != 0 ||
			    n < 0 || n > (LLONG_MAX >> 30)) {
				yyerror("bad size \"%s\"", $1);
				$$ = 0;
			} else
				$$ = n << shift;
		}
		;

optgroup	: /* empty */			{ $$ = NULL; }
		| GROUP STRING			{ $$ = $2; }
		;

port		: /* empty */			{ $$ = KMIP_PORT; }
		| PORT NUMBER			{
			if (check_range($2, 1, 65535, "port") == -1)
				$$ = KMIP_PORT;
			else
				$$ = $2;
		}
		;

listen		: LISTEN ON STRING port TLS	{
			listen_start($3, $4, $<lineno>1);
		} tlsblock			{
			listen_end();
		}
		;

tlsblock	: '{' tlsopts_nl '}'
		| '{' tlsopts '}'
		;

/* Options one per line; blank lines anywhere. */
tlsopts_nl	: /* empty */
		| tlsopts_nl '\n'
		| tlsopts '\n'
		| tlsopts_nl error '\n'		{ yyerrok; }
		;

tlsopts		: tlsopts_nl tlsopt
		;

tlsopt		: CERTIFICATE STRING		{
			set_file(&curlisten->cert, $2, "certificate");
		}
		| KEY STRING			{
			set_file(&curlisten->key, $2, "key");
		}
		| CLIENT CA STRING		{
			set_file(&curlisten->ca, $3, "client ca");
		}
		| TLS STRING ALLOW		{
			if (strcmp($2, "1.2") != 0)
				yyerror("only \"tls 1.2 allow\" is supported; "
				    "TLS 1.3 is always allowed");
			else if (once(&blockseen, SEEN_TLS12, "tls") == 0)
				curlisten->tls12 = 1;
		}
		| CLIENT CERTIFICATE OPTIONAL	{
			if (once(&blockseen, SEEN_VERIFY,
			    "client certificate") == 0)
				curlisten->verify_client = 0;
		}
		| NO HTTP			{
			if (once(&blockseen, SEEN_HTTP, "no http") == 0)
				curlisten->no_http = 1;
		}
		;

signertype	: PKCS11			{ $$ = SIGNER_PKCS11; }
		| OPENSSL			{ $$ = SIGNER_OPENSSL; }
		| KMIP				{ $$ = SIGNER_KMIP; }
		;

signer		: SIGNER STRING signertype	{
			signer_start($2, $3, $<lineno>1);
		} signerblock			{
			signer_end();
		}
		;

signerblock	: '{' sopts_nl '}'
		| '{' sopts '}'
		;

sopts_nl	: /* empty */
		| sopts_nl '\n'
		| sopts '\n'
		| sopts_nl error '\n'		{ yyerrok; }
		;

sopts		: sopts_nl sopt
		;

sopt		: MODULE STRING			{
			if (signer_is(SIGNER_PKCS11, "module") == -1 ||
			    check_absolute("module", $2) == -1)
				break;
			set_string(&cursigner->module, $2, "module");
			if (!(conf_flags & CONF_NOCHECK_FILES)) {
				struct stat	 st;
				char		 path[PATH_MAX];

				if (stat($2, &st) == -1 ||
				    realpath($2, path) == NULL) {
					yyerror("pkcs11 module \"%s\": %s",
					    $2, strerror(errno));
					break;
				}
				if (!S_ISREG(st.st_mode)) {
					yyerror("pkcs11 module \"%s\" is not "
					    "a regular file", $2);
					break;
				}
				free(cursigner->module);
				cursigner->module = xstrdup(path);
			}
		}
		| TOKEN STRING			{
			if (signer_is(SIGNER_PKCS11, "token") == -1)
				break;
			if (*$2 == '\0' || strlen($2) > 32) {
				yyerror("token label must be 1 to 32 "
				    "characters");
				break;
			}
			set_string(&cursigner->token, $2, "token");
		}
		| SERIAL STRING			{
			if (signer_is(SIGNER_PKCS11, "serial") == -1)
				break;
			if (*$2 == '\0' || strlen($2) > 16) {
				yyerror("token serial number must be 1 to 16 "
				    "characters");
				break;
			}
			set_string(&cursigner->serial, $2, "serial");
		}
		| SLOT NUMBER			{
			if (signer_is(SIGNER_PKCS11, "slot") == 0 &&
			    once(&blockseen, SEEN_SLOT, "slot") == 0 &&
			    check_range($2, 0, LLONG_MAX, "slot") == 0)
				cursigner->slot = $2;
		}
		| PIN ENV STRING		{
			if (signer_is(SIGNER_PKCS11, "pin") == -1 ||
			    once(&blockseen, SEEN_PIN, "pin") == -1 ||
			    check_envname($3) == -1)
				break;
			cursigner->pin_src = SECRET_ENV;
			cursigner->pin_ref = xstrdup($3);
		}
		| PIN FILE_ STRING		{
			if (signer_is(SIGNER_PKCS11, "pin") == -1 ||
			    once(&blockseen, SEEN_PIN, "pin") == -1 ||
			    check_secret("pin file", $3) == -1)
				break;
			cursigner->pin_src = SECRET_FILE;
			cursigner->pin_ref = xstrdup($3);
		}
		| PIN STRING			{
			yyerror("a PIN cannot be written in the configuration; "
			    "use pin env \"VARIABLE\" or pin file \"path\"");
		}
		| PIN NUMBER			{
			yyerror("a PIN cannot be written in the configuration; "
			    "use pin env \"VARIABLE\" or pin file \"path\"");
		}
		| LOGIN loginmode		{
			if (signer_is(SIGNER_PKCS11, "login") == 0 &&
			    once(&blockseen, SEEN_LOGIN, "login") == 0)
				cursigner->login = $2;
		}
		| KEEPALIVE NUMBER		{
			if (signer_is(SIGNER_PKCS11, "keepalive") == 0 &&
			    once(&blockseen, SEEN_KEEPALIVE, "keepalive") == 0 &&
			    check_range($2, 0, 86400, "keepalive") == 0)
				cursigner->keepalive = $2;
		}
		| SESSIONS NUMBER		{
			if (signer_is(SIGNER_PKCS11, "sessions") == 0 &&
			    once(&blockseen, SEEN_SESSIONS, "sessions") == 0 &&
			    check_range($2, 1, SIGNER_SESSIONS_MAX,
			    "sessions") == 0)
				cursigner->sessions = $2;
		}
		| TIMEOUT NUMBER		{
			if (once(&blockseen, SEEN_TIMEOUT, "timeout") == 0 &&
			    check_range($2, 1, SIGNER_TIMEOUT_MAX, "timeout") == 0)
				cursigner->timeout = $2;
		}
		| WRAP WITH STRING		{
			if (signer_is(SIGNER_OPENSSL, "wrap with") == 0)
				set_string(&cursigner->wrap_with, $3,
				    "wrap with");
		}
		| KEK FILE_ STRING		{
			if (signer_is(SIGNER_OPENSSL, "kek file") == -1)
				break;
			if (cursigner->kek_file != NULL)
				yyerror("duplicate kek file");
			else if (check_secret("kek file", $3) == 0)
				cursigner->kek_file = xstrdup($3);
		}
		| HOST STRING			{
			if (signer_is(SIGNER_KMIP, "host") == -1)
				break;
			if (*$2 == '\0')
				yyerror("empty host");
			else
				set_string(&cursigner->host, $2, "host");
		}
		| PORT NUMBER			{
			if (signer_is(SIGNER_KMIP, "port") == 0 &&
			    once(&blockseen, SEEN_PORT, "port") == 0 &&
			    check_range($2, 1, 65535, "port") == 0)
				cursigner->port = $2;
		}
		| CA STRING			{
			if (signer_is(SIGNER_KMIP, "ca") == 0)
				set_file(&cursigner->ca, $2, "ca");
		}
		| CERTIFICATE STRING		{
			if (signer_is(SIGNER_KMIP, "certificate") == 0)
				set_file(&cursigner->cert, $2, "certificate");
		}
		| KEY STRING			{
			if (signer_is(SIGNER_KMIP, "key") == 0)
				set_file(&cursigner->key, $2, "key");
		}
		| USERNAME STRING		{
			if (signer_is(SIGNER_KMIP, "username") == -1)
				break;
			if (*$2 == '\0')
				yyerror("empty username");
			else
				set_string(&cursigner->username, $2,
				    "username");
		}
		| PASSWORD ENV STRING		{
			if (signer_is(SIGNER_KMIP, "password") == -1 ||
			    once(&blockseen, SEEN_PASSWORD, "password") == -1 ||
			    check_envname($3) == -1)
				break;
			cursigner->password_src = SECRET_ENV;
			cursigner->password_ref = xstrdup($3);
		}
		| PASSWORD FILE_ STRING		{
			if (signer_is(SIGNER_KMIP, "password") == -1 ||
			    once(&blockseen, SEEN_PASSWORD, "password") == -1 ||
			    check_secret("password file", $3) == -1)
				break;
			cursigner->password_src = SECRET_FILE;
			cursigner->password_ref = xstrdup($3);
		}
		| PASSWORD STRING		{
			yyerror("a password cannot be written in the "
			    "configuration; use password env \"VARIABLE\" or "
			    "password file \"path\"");
		}
		| PASSWORD NUMBER		{
			yyerror("a password cannot be written in the "
			    "configuration; use password env \"VARIABLE\" or "
			    "password file \"path\"");
		}
		;

identity	: IDENTITY STRING		{
			identity_start($2, $<lineno>1);
		} identblock			{
			curident = NULL;
		}
		;

identblock	: '{' iopts_nl '}'
		| '{' iopts '}'
		;

iopts_nl	: /* empty */
		| iopts_nl '\n'
		| iopts '\n'
		| iopts_nl error '\n'		{ yyerrok; }
		;

iopts		: iopts_nl iopt
		;

iopt		: FINGERPRINT STRING		{
			identity_fingerprint($2);
		}
		| PASSWORD STRING		{
			if (once(&blockseen, SEEN_PASSWORD, "password") == 0)
				identity_password($2);
		}
		| DEFAULT SIGNER STRING		{
			if (once(&blockseen, SEEN_DEFAULT, "default signer") ==
			    0)
				set_string(&curident->default_signer, $3,
				    "default signer");
		}
		| OPERATIONS '{' oplist '}'
		;

oplist		: /* empty */
		| oplist '\n'
		| oplist STRING			{ identity_op($2); }
		;

%%

struct keywords {
	const char	*k_name;
	int		 k_val;
};

/* Must stay sorted (strcmp order): looked up with bsearch. */
static const struct keywords keywords[] = {
	{ "admin",		ADMIN },
	{ "allow",		ALLOW },
	{ "audit",		AUDIT },
	{ "auto",		AUTO },
	{ "ca",			CA },
	{ "certificate",	CERTIFICATE },
	{ "chroot",		CHROOT },
	{ "client",		CLIENT },
	{ "connections",	CONNECTIONS },
	{ "control",		CONTROL },
	{ "default",		DEFAULT },
	{ "env",		ENV },
	{ "file",		FILE_ },
	{ "fingerprint",	FINGERPRINT },
	{ "group",		GROUP },
	{ "host",		HOST },
	{ "http",		HTTP },
	{ "identity",		IDENTITY },
	{ "idle",		IDLE },
	{ "include",		INCLUDE },
	{ "keep",		KEEP },
	{ "keepalive",		KEEPALIVE },
	{ "kek",		KEK },
	{ "key",		KEY },
	{ "keystore",		KEYSTORE },
	{ "kmip",		KMIP },
	{ "listen",		LISTEN },
	{ "login",		LOGIN },
	{ "max",		MAX },
	{ "message",		MESSAGE },
	{ "module",		MODULE },
	{ "no",			NO },
	{ "on",			ON },
	{ "one-off",		ONEOFF },
	{ "openssl",		OPENSSL },
	{ "operations",		OPERATIONS },
	{ "optional",		OPTIONAL },
	{ "password",		PASSWORD },
	{ "pin",		PIN },
	{ "pkcs11",		PKCS11 },
	{ "port",		PORT },
	{ "read",		READ },
	{ "rotate",		ROTATE },
	{ "serial",		SERIAL },
	{ "sessions",		SESSIONS },
	{ "signer",		SIGNER },
	{ "slot",		SLOT },
	{ "socket",		SOCKET },
	{ "syslog",		SYSLOG },
	{ "timeout",		TIMEOUT },
	{ "tls",		TLS },
	{ "token",		TOKEN },
	{ "user",		USER },
	{ "username",		USERNAME },
	{ "with",		WITH },
	{ "wrap",		WRAP },
	{ "yes",		YES }
};

static int
yyerror(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	errors++;
	if (strcmp(fmt, "syntax error") == 0) {
		/* The lexer has already said what is wrong with ERROR. */
		if (lexerror)
			return (0);
		if (yychar == 0 && depth > 0)
			log_warnx("%s:%d: unexpected end of file: '{' on line "
			    "%d is not closed", file->name, last_line,
			    depth_line);
		else if (yychar == 0)
			log_warnx("%s:%d: unexpected end of file", file->name,
			    last_line);
		else
			log_warnx("%s:%d: syntax error near %s", file->name,
			    yylval.lineno, lasttok);
		return (0);
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	log_warnx("%s:%d: %s", file->name, yylval.lineno, msg);
	free(msg);
	return (0);
}

/* An error on a given line of the current file. */
static void
lerror(int lineno, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	errors++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	log_warnx("%s:%d: %s", file->name, lineno, msg);
	free(msg);
}

/* An error found after parsing, at a recorded place. */
static void
cerror(const struct where *w, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	errors++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	log_warnx("%s:%d: %s", w->file, w->line, msg);
	free(msg);
}

static int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keywords *)e)->k_name));
}

static int
lookup(const char *s)
{
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	if (p != NULL)
		return (p->k_val);
	return (STRING);
}

static int
igetc(void)
{
	if (file->ungetpos > 0)
		return (file->ungetbuf[--file->ungetpos]);
	return (getc(file->stream));
}

/*
 * The next character.  Outside quotes a backslash-newline is skipped
 * (line continuation), the end of a file first reads as a newline so that
 * an unterminated last line still ends its statement, and the end of an
 * included file continues with the file that included it.
 */
static int
lgetc(int quotec)
{
	int	 c, next;

	if (parsebuf != NULL) {
		if (parsebuf[parseindex] != '\0')
			return ((unsigned char)parsebuf[parseindex++]);
		free(parsebuf);
		parsebuf = NULL;
		return (DONE_EXPAND);
	}

	if (quotec)
		return (igetc());

	while ((c = igetc()) == '\\') {
		next = igetc();
		if (next != '\n') {
			lungetc(next);
			break;
		}
		file->lineno++;
	}

	if (c == EOF) {
		if (!file->eof_reached) {
			file->eof_reached = 1;
			return ('\n');
		}
		if (file == topfile || popfile() == EOF)
			return (EOF);
		return (lgetc(0));
	}
	return (c);
}

static void
lungetc(int c)
{
	if (c == EOF)
		return;
	if (parsebuf != NULL && parseindex > 0) {
		/* Still inside the expansion: step back. */
		parseindex--;
		return;
	}
	if (file->ungetpos >= MAXUNGET)
		fatalx("%s: pushback overflow", __func__);
	file->ungetbuf[file->ungetpos++] = c;
}

/* Skip the rest of a bad line; the newline is left for the grammar. */
static int
findeol(void)
{
	int	 c;

	while ((c = lgetc(0)) != '\n' && c != EOF)
		;
	lungetc(c);
	lexerror = 1;
	return (ERROR);
}

/* After a broken block header: read on to the closing brace. */
static void
skipblock(void)
{
	int	 t;

	while (depth > 0 && (t = yylex()) != 0)
		;
	depth = 0;
}

static int
allowed_in_string(int c)
{
	if (c <= 0 || c > 127)
		return (0);
	if (isalnum(c))
		return (1);
	return (strchr("_-./:%@+~", c) != NULL);
}

static int
is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return (0);
	return (1);
}

static void
set_lasttok(const char *s)
{
	(void)snprintf(lasttok, sizeof(lasttok), "\"%.40s%s\"", s,
	    strlen(s) > 40 ? "..." : "");
}

static int
yylex(void)
{
	char		 buf[MAXTOKEN];
	const char	*errstr, *val;
	char		*p;
	int		 quotec, next, c, token;

	lexerror = 0;
top:
	p = buf;
	while ((c = lgetc(0)) == ' ' || c == '\t' || c == DONE_EXPAND)
		;

	yylval.lineno = file->lineno;
	if (c == '#')
		while ((c = lgetc(0)) != '\n' && c != EOF)
			;
	if (c == '$' && parsebuf == NULL) {
		while ((c = lgetc(0)) != EOF && c < 128 &&
		    (isalnum(c) || c == '_')) {
			if (p - buf >= 64) {
				yyerror("macro name too long");
				return (findeol());
			}
			*p++ = c;
		}
		*p = '\0';
		lungetc(c);
		if (p == buf) {
			yyerror("missing macro name after '$'");
			return (findeol());
		}
		if ((val = symget(buf)) == NULL) {
			yyerror("macro \"%s\" is not defined", buf);
			return (findeol());
		}
		parsebuf = xstrdup(val);
		parseindex = 0;
		goto top;
	}

	switch (c) {
	case '\'':
	case '"':
		quotec = c;
		for (;;) {
			if ((c = lgetc(quotec)) == DONE_EXPAND)
				continue;
			if (c == EOF || c == '\n') {
				lungetc(c);
				yyerror("unterminated quoted string");
				return (findeol());
			}
			if (c == '\\') {
				next = lgetc(quotec);
				if (next == quotec || next == '\\')
					c = next;
				else if (next == '\n') {
					file->lineno++;
					continue;
				} else
					lungetc(next);
			} else if (c == quotec)
				break;
			else if ((c < ' ' && c != '\t') || c == 0x7f) {
				yyerror("invalid character 0x%02x in quoted "
				    "string", c);
				return (findeol());
			}
			if (p - buf >= MAXTOKEN - 1) {
				yyerror("string too long");
				return (findeol());
			}
			*p++ = c;
		}
		*p = '\0';
		set_lasttok(buf);
		last_line = yylval.lineno;
		yylval.v.string = pool_strdup(buf);
		return (STRING);
	}

	if (allowed_in_string(c)) {
		do {
			if (c == DONE_EXPAND)
				continue;
			if (p - buf >= MAXTOKEN - 1) {
				yyerror("string too long");
				return (findeol());
			}
			*p++ = c;
		} while ((c = lgetc(0)) == DONE_EXPAND ||
		    allowed_in_string(c));
		lungetc(c);
		*p = '\0';
		set_lasttok(buf);
		last_line = yylval.lineno;
		if ((token = lookup(buf)) != STRING)
			return (token);
		if (is_number(buf)) {
			yylval.v.number = strtonum(buf, LLONG_MIN, LLONG_MAX,
			    &errstr);
			if (errstr != NULL) {
				yyerror("number \"%s\" is %s", buf, errstr);
				return (findeol());
			}
			return (NUMBER);
		}
		yylval.v.string = pool_strdup(buf);
		return (STRING);
	}

	if (c == '\n') {
		yylval.lineno = file->lineno;
		file->lineno++;
		(void)strlcpy(lasttok, "end of line", sizeof(lasttok));
		return (c);
	}
	if (c == EOF) {
		(void)strlcpy(lasttok, "end of file", sizeof(lasttok));
		return (0);
	}
	last_line = yylval.lineno;
	if (c == '{' && depth++ == 0)
		depth_line = yylval.lineno;
	else if (c == '}' && depth > 0)
		depth--;
	if (c > ' ' && c < 0x7f) {
		(void)snprintf(lasttok, sizeof(lasttok), "'%c'", c);
		return (c);
	}
	yyerror("invalid character 0x%02x", c);
	return (findeol());
}

/* An include path is relative to the directory of the including file. */
static char *
include_path(const char *name)
{
	const char	*slash;
	char		*path;

	if (name[0] == '/' || (slash = strrchr(file->name, '/')) == NULL)
		return (xstrdup(name));
	if (asprintf(&path, "%.*s/%s", (int)(slash - file->name), file->name,
	    name) == -1)
		fatal("%s", __func__);
	return (path);
}

static struct file *
pushfile(const char *name, const char **err)
{
	struct file	*nfile;
	struct stat	 st;
	int		 n = 0;

	TAILQ_FOREACH(nfile, &files, entry)
		n++;
	if (n >= MAXINCLUDE) {
		*err = "includes nested too deeply";
		return (NULL);
	}
	if ((nfile = calloc(1, sizeof(*nfile))) == NULL)
		fatal("%s", __func__);
	if ((nfile->stream = fopen(name, "re")) == NULL) {
		*err = strerror(errno);
		free(nfile);
		return (NULL);
	}
	if (fstat(fileno(nfile->stream), &st) == -1 || !S_ISREG(st.st_mode)) {
		*err = "not a regular file";
		fclose(nfile->stream);
		free(nfile);
		return (NULL);
	}
	nfile->name = xstrdup(name);
	nfile->lineno = 1;
	TAILQ_INSERT_TAIL(&files, nfile, entry);
	return (nfile);
}

static int
popfile(void)
{
	struct file	*prev;

	prev = TAILQ_PREV(file, files, entry);
	TAILQ_REMOVE(&files, file, entry);
	fclose(file->stream);
	free(file->name);
	free(file);
	file = prev;
	return (file != NULL ? 0 : EOF);
}

static int
symset(const char *name, const char *val, int persist)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry)
		if (strcmp(name, sym->name) == 0)
			break;
	if (sym != NULL) {
		if (sym->persist)	/* -D wins over the file */
			return (0);
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym->name);
		free(sym->val);
		free(sym);
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return (-1);
	if ((sym->name = strdup(name)) == NULL ||
	    (sym->val = strdup(val)) == NULL) {
		free(sym->name);
		free(sym);
		return (-1);
	}
	sym->persist = persist;
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
	return (0);
}

static const char *
symget(const char *name)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry)
		if (strcmp(name, sym->name) == 0) {
			sym->used = 1;
			return (sym->val);
		}
	return (NULL);
}

static int
valid_macro_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return (0);
	return (1);
}

int
cmdline_symset(const char *s)
{
	const char	*eq, *v;
	char		*name;
	int		 ret;

	if ((eq = strchr(s, '=')) == NULL)
		return (-1);
	if ((name = strndup(s, eq - s)) == NULL)
		return (-1);
	if (!valid_macro_name(name) || is_number(name)) {
		free(name);
		return (-1);
	}
	for (v = eq + 1; *v != '\0'; v++)
		if ((unsigned char)*v < ' ' || *v == 0x7f) {
			free(name);
			return (-1);
		}
	ret = symset(name, eq + 1, 1);
	free(name);
	return (ret);
}

static char *
pool_strdup(const char *s)
{
	char	**np;
	size_t	  nsize;

	if (npool == poolsize) {
		nsize = poolsize == 0 ? 64 : poolsize * 2;
		if ((np = reallocarray(pool, nsize, sizeof(*pool))) == NULL)
			fatal("%s", __func__);
		pool = np;
		poolsize = nsize;
	}
	return (pool[npool++] = xstrdup(s));
}

static void
pool_free(void)
{
	size_t	 i;

	for (i = 0; i < npool; i++)
		free(pool[i]);
	free(pool);
	pool = NULL;
	npool = poolsize = 0;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return (p);
}

static void
where_set(struct where *w)
{
	w->file = pool_strdup(file->name);
	w->line = yylval.lineno;
}

static int
once(int *mask, int bit, const char *what)
{
	if (*mask & bit) {
		yyerror("duplicate %s", what);
		return (-1);
	}
	*mask |= bit;
	return (0);
}

static int
check_range(long long n, long long min, long long max, const char *what)
{
	if (n < min || n > max) {
		yyerror("%s %lld out of range (%lld to %lld)", what, n, min,
		    max);
		return (-1);
	}
	return (0);
}

static int
check_absolute(const char *what, const char *path)
{
	if (path[0] != '/') {
		yyerror("%s \"%s\" is not an absolute path", what, path);
		return (-1);
	}
	return (0);
}

static int
check_readable(const char *what, const char *path)
{
	struct stat	 st;
	int		 fd;

	if (check_absolute(what, path) == -1)
		return (-1);
	if (conf_flags & CONF_NOCHECK_FILES)
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		yyerror("%s \"%s\": %s", what, path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		yyerror("%s \"%s\" is not a regular file", what, path);
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* A file holding a secret: readable and private. */
static int
check_secret(const char *what, const char *path)
{
	struct stat	 st;
	int		 fd;

	if (check_absolute(what, path) == -1)
		return (-1);
	if (conf_flags & CONF_NOCHECK_FILES)
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		yyerror("%s \"%s\": %s", what, path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		yyerror("%s \"%s\" is not a regular file", what, path);
		close(fd);
		return (-1);
	}
	if (check_file_secrecy(fd, path) == -1) {
		yyerror("%s \"%s\" is not private (chmod 600, owner root)",
		    what, path);
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

static int
check_envname(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (!(isalpha((unsigned char)*p) || *p == '_' ||
		    (p != s && isdigit((unsigned char)*p))))
			break;
	if (p == s || *p != '\0' || p - s > 255) {
		yyerror("invalid environment variable name \"%s\"", s);
		return (-1);
	}
	return (0);
}

static int
check_signer_name(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' &&
		    *p != '-')
			break;
	if (p == s || *p != '\0' || p - s >= SIGNER_NAME_MAX)
		return (-1);
	return (0);
}

static int
host_resolve(struct listen_conf *l)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	error = getaddrinfo(l->addr, NULL, &hints, &res);
#ifndef FUZZING
	if (error == EAI_NONAME) {
		hints.ai_flags = 0;
		error = getaddrinfo(l->addr, NULL, &hints, &res);
	}
#endif
	if (error != 0) {
		yyerror("cannot resolve \"%s\": %s", l->addr,
		    gai_strerror(error));
		return (-1);
	}
	if (res->ai_addrlen > sizeof(l->ss)) {
		freeaddrinfo(res);
		yyerror("cannot resolve \"%s\"", l->addr);
		return (-1);
	}
	memcpy(&l->ss, res->ai_addr, res->ai_addrlen);
	l->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	if (l->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&l->ss)->sin_port = htons(l->port);
	else if (l->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&l->ss)->sin6_port = htons(l->port);
	else {
		yyerror("\"%s\": unsupported address family", l->addr);
		return (-1);
	}
	return (0);
}

static int
same_address(const struct listen_conf *a, const struct listen_conf *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->port != b->port || a->ss.ss_family != b->ss.ss_family)
		return (0);
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return (a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	if (a->ss.ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return (memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id);
	}
	return (0);
}

static void
listen_start(const char *addr, long long port, int lineno)
{
	struct listen_conf	*l, *o;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("%s", __func__);
	l->addr = xstrdup(addr);
	l->port = port;
	l->verify_client = 1;
	if (host_resolve(l) == 0) {
		TAILQ_FOREACH(o, &conf->listeners, entry)
			if (same_address(o, l)) {
				lerror(lineno, "duplicate listen on %s port %u",
				    addr, (unsigned int)l->port);
				break;
			}
	}
	TAILQ_INSERT_TAIL(&conf->listeners, l, entry);
	curlisten = l;
	blockseen = 0;
	block_errors = errors;
	block_line = lineno;
}

static void
listen_end(void)
{
	/* Missing options only matter if the block itself was clean. */
	if (errors == block_errors) {
		if (curlisten->cert == NULL)
			lerror(block_line, "listen on %s: certificate missing",
			    curlisten->addr);
		if (curlisten->key == NULL)
			lerror(block_line, "listen on %s: key missing",
			    curlisten->addr);
		if (curlisten->ca == NULL)
			lerror(block_line, "listen on %s: client ca missing",
			    curlisten->addr);
	}
	curlisten = NULL;
}

static void
signer_start(const char *name, enum signer_type type, int lineno)
{
	struct signer_conf	*s;

	if (check_signer_name(name) == -1)
		lerror(lineno, "invalid signer name \"%.*s%s\": 1 to %d of "
		    "A-Z a-z 0-9 _ . -", 64, name, strlen(name) > 64 ?
		    "..." : "", SIGNER_NAME_MAX - 1);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("%s", __func__);
	(void)strlcpy(s->name, name, sizeof(s->name));
	s->type = type;
	s->file = xstrdup(file->name);
	s->line = lineno;
	s->slot = -1;
	s->login = SIGNER_LOGIN_YES;
	s->keepalive = SIGNER_KEEPALIVE_DEFAULT;
	s->sessions = 4;
	s->timeout = SIGNER_TIMEOUT_DEFAULT;
	s->port = KMIP_PORT;
	TAILQ_INSERT_TAIL(&conf->signers, s, entry);
	cursigner = s;
	blockseen = 0;
	block_errors = errors;
}

/* identity NAME { ... }: names are unique, as admins' are. */
static void
identity_start(const char *name, int lineno)
{
	struct identity_conf	*id;

	if (*name == '\0' || strlen(name) >= IDENTITY_NAME_MAX)
		lerror(lineno, "identity name must be 1 to %d characters",
		    IDENTITY_NAME_MAX - 1);
	TAILQ_FOREACH(id, &conf->identities, entry)
		if (strcmp(id->name, name) == 0) {
			lerror(lineno, "duplicate identity \"%s\" (first "
			    "defined at %s:%d)", name, id->file, id->line);
			break;
		}
	if ((id = calloc(1, sizeof(*id))) == NULL)
		fatal("%s", __func__);
	id->name = xstrdup(name);
	id->file = xstrdup(file->name);
	id->line = lineno;
	TAILQ_INSERT_TAIL(&conf->identities, id, entry);
	curident = id;
	blockseen = 0;
}

/* "sha256:" and 64 hex digits, in pairs that ':' may separate. */
static void
identity_fingerprint(const char *s)
{
	uint8_t		 fp[IDENTITY_FP_LEN];
	const char	*p;
	size_t		 n = 0;
	int		 i, hi, lo;

	if (strncasecmp(s, "sha256:", 7) != 0)
		goto bad;
	for (p = s + 7; *p != '\0'; ) {
		if (*p == ':' && n > 0 && p[1] != '\0') {
			p++;
			continue;
		}
		if (n == sizeof(fp) || !isxdigit((unsigned char)p[0]) ||
		    !isxdigit((unsigned char)p[1]))
			goto bad;
		hi = isdigit((unsigned char)p[0]) ? p[0] - '0' :
		    tolower((unsigned char)p[0]) - 'a' + 10;
		lo = isdigit((unsigned char)p[1]) ? p[1] - '0' :
		    tolower((unsigned char)p[1]) - 'a' + 10;
		fp[n++] = hi << 4 | lo;
		p += 2;
	}
	if (n != sizeof(fp))
		goto bad;
	for (i = 0; i < curident->nfp; i++)
		if (memcmp(curident->fp[i], fp, sizeof(fp)) == 0) {
			yyerror("fingerprint given twice");
			return;
		}
	if (curident->nfp == IDENTITY_FP_MAX) {
		yyerror("an identity has at most %d fingerprints",
		    IDENTITY_FP_MAX);
		return;
	}
	memcpy(curident->fp[curident->nfp++], fp, sizeof(fp));
	return;
 bad:
	yyerror("a fingerprint is \"sha256:\" and the 64 hex digits of the "
	    "certificate's SHA-256");
}

/* Only a hash, never a password: pwhash_parse checks its bounds. */
static void
identity_password(const char *s)
{
	struct pwhash	 h;
	char		 why[160];

	if (pwhash_parse(s, &h, why, sizeof(why)) == -1) {
		explicit_bzero(&h, sizeof(h));
		yyerror("password: %s", why);
		return;
	}
	explicit_bzero(&h, sizeof(h));
	set_string(&curident->password, s, "password");
}

static void
identity_op(const char *word)
{
	int	 op;

	if ((op = policy_op_parse(word)) == -1) {
		yyerror("unknown operation \"%s\"", word);
		return;
	}
	curident->ops |= 1ULL << op;
}

static void
signer_end(void)
{
	struct signer_conf	*s = cursigner;

	cursigner = NULL;
	if (errors != block_errors)
		return;
	switch (s->type) {
	case SIGNER_PKCS11:
		if (s->module == NULL)
			lerror(s->line, "pkcs11 signer \"%s\" has no module",
			    s->name);
		if (s->token == NULL && s->serial == NULL && s->slot == -1)
			lerror(s->line, "pkcs11 signer \"%s\" needs a token, "
			    "a serial or a slot", s->name);
		if (s->token != NULL && s->slot != -1)
			lerror(s->line, "pkcs11 signer \"%s\" has both token "
			    "and slot; use one", s->name);
		/* `login auto' may find that the token needs none. */
		if (s->login == SIGNER_LOGIN_YES &&
		    s->pin_src == SECRET_NONE)
			lerror(s->line, "pkcs11 signer \"%s\" logs in but has "
			    "no pin; use pin env, pin file or login no",
			    s->name);
		break;
	case SIGNER_OPENSSL:
		/* Both: the kek file's keys are moved by rewrap. */
		if (s->wrap_with == NULL && s->kek_file == NULL)
			lerror(s->line, "openssl signer \"%s\" needs wrap "
			    "with or kek file", s->name);
		break;
	case SIGNER_KMIP:
		if (s->host == NULL)
			lerror(s->line, "kmip signer \"%s\" has no host",
			    s->name);
		if (s->ca == NULL)
			lerror(s->line, "kmip signer \"%s\" has no ca",
			    s->name);
		if (s->cert == NULL)
			lerror(s->line, "kmip signer \"%s\" has no "
			    "certificate", s->name);
		if (s->key == NULL)
			lerror(s->line, "kmip signer \"%s\" has no key",
			    s->name);
		if (s->password_src != SECRET_NONE && s->username == NULL)
			lerror(s->line, "kmip signer \"%s\" has a password "
			    "but no username", s->name);
		/* Accepted, so that configurations outlive the wait. */
		if (errors == block_errors)
			log_warnx("%s:%d: warning: kmip signer \"%s\": this "
			    "type is not built yet; it will report "
			    "\"unsupported\" and serve no key", file->name,
			    s->line, s->name);
		break;
	}
}

/* Options belong to one kind of signer. */
static int
signer_is(enum signer_type type, const char *what)
{
	if (cursigner->type != type) {
		yyerror("%s is not an option of %s signers", what,
		    signer_type_name(cursigner->type));
		return (-1);
	}
	return (0);
}

/* Set a string option; with a name, only once. */
static void
set_string(char **dst, const char *val, const char *what)
{
	if (*dst != NULL && what != NULL) {
		yyerror("duplicate %s", what);
		return;
	}
	free(*dst);
	*dst = xstrdup(val);
}

static void
set_file(char **dst, const char *path, const char *what)
{
	if (*dst != NULL) {
		yyerror("duplicate %s", what);
		return;
	}
	if (check_readable(what, path) == 0)
		*dst = xstrdup(path);
}

/* Checks that need the whole file. */
static void
conf_check(void)
{
	struct signer_conf	*s, *t;
	struct identity_conf	*id, *jd;
	struct where		 w;
	int			 i, j;

	TAILQ_FOREACH(s, &conf->signers, entry) {
		w.file = s->file;
		w.line = s->line;
		TAILQ_FOREACH(t, &conf->signers, entry) {
			if (t == s)
				break;
			if (strcmp(t->name, s->name) == 0) {
				cerror(&w, "duplicate signer \"%s\" (first "
				    "defined at %s:%d)", s->name, t->file,
				    t->line);
				break;
			}
		}
		if (s->type == SIGNER_OPENSSL && s->wrap_with != NULL) {
			if ((t = signer_find(conf, s->wrap_with)) == NULL)
				cerror(&w, "signer \"%s\": wrap with \"%s\": "
				    "no such signer", s->name, s->wrap_with);
			else if (t == s)
				cerror(&w, "signer \"%s\": wrap with itself: "
				    "name the pkcs11 signer whose token holds "
				    "the key-encryption key", s->name);
			else if (t->type != SIGNER_PKCS11)
				cerror(&w, "signer \"%s\": wrap with \"%s\": "
				    "not a pkcs11 signer", s->name,
				    s->wrap_with);
		}
	}

	TAILQ_FOREACH(id, &conf->identities, entry) {
		w.file = id->file;
		w.line = id->line;
		if (id->default_signer != NULL &&
		    signer_find(conf, id->default_signer) == NULL)
			cerror(&w, "identity \"%s\": default signer \"%s\" "
			    "is not defined", id->name, id->default_signer);
		/* A certificate is one identity, or none. */
		TAILQ_FOREACH(jd, &conf->identities, entry) {
			if (jd == id)
				break;
			for (i = 0; i < id->nfp; i++)
				for (j = 0; j < jd->nfp; j++)
					if (memcmp(id->fp[i], jd->fp[j],
					    IDENTITY_FP_LEN) == 0)
						cerror(&w, "identity \"%s\": "
						    "a fingerprint bound to "
						    "\"%s\" already",
						    id->name, jd->name);
		}
	}

	if (conf->default_signer != NULL &&
	    signer_find(conf, conf->default_signer) == NULL)
		cerror(&default_at, "default signer \"%s\" is not defined",
		    conf->default_signer);
	if (conf->oneoff_signer != NULL &&
	    signer_find(conf, conf->oneoff_signer) == NULL)
		cerror(&oneoff_at, "one-off signer \"%s\" is not defined",
		    conf->oneoff_signer);
	if (conf->default_signer == NULL &&
	    (s = TAILQ_FIRST(&conf->signers)) != NULL &&
	    TAILQ_NEXT(s, entry) == NULL)
		conf->default_signer = xstrdup(s->name);

	if (!(conf_flags & CONF_NOCHECK_FILES) && user_at.file == NULL &&
	    getpwnam(conf->user) == NULL) {
		errors++;
		log_warnx("%s: no such user %s (the default); create it or "
		    "set user", topfile->name, conf->user);
	}
	if (!(conf_flags & CONF_NOCHECK_FILES) && hsm_user_at.file == NULL &&
	    getpwnam(conf->hsm_user) == NULL) {
		errors++;
		log_warnx("%s: no such user %s (the default); create it or "
		    "set signer user", topfile->name, conf->hsm_user);
	}
	/* A signer must not be able to read the keystore. */
	if (strcmp(conf->hsm_user, conf->user) == 0) {
		if (hsm_user_at.file != NULL)
			cerror(&hsm_user_at, "signer user must differ from "
			    "user");
		else
			cerror(&user_at, "user must differ from signer user");
	}
}

struct signerd_conf *
parse_config(const char *filename, int flags)
{
	struct signerd_conf	*c;
	struct sym		*sym, *next;
	const char		*err;

	conf = config_new();
	conf_flags = flags;
	errors = 0;
	depth = depth_line = last_line = 0;
	seen = blockseen = 0;
	cursigner = NULL;
	curident = NULL;
	curlisten = NULL;
	memset(&user_at, 0, sizeof(user_at));
	memset(&hsm_user_at, 0, sizeof(hsm_user_at));
	memset(&default_at, 0, sizeof(default_at));
	memset(&oneoff_at, 0, sizeof(oneoff_at));

	if ((file = pushfile(filename, &err)) == NULL) {
		log_warnx("%s: %s", filename, err);
		config_free(conf);
		conf = NULL;
		return (NULL);
	}
	topfile = file;

	if (yyparse() != 0 && errors == 0)
		errors++;
	conf_check();

	while (file != NULL)
		popfile();
	topfile = NULL;
	free(parsebuf);
	parsebuf = NULL;

	for (sym = TAILQ_FIRST(&symhead); sym != NULL; sym = next) {
		next = TAILQ_NEXT(sym, entry);
		if (!sym->used && log_getverbose() > 1)
			log_warnx("warning: macro \"%s\" not used", sym->name);
		sym->used = 0;
		if (!sym->persist) {
			TAILQ_REMOVE(&symhead, sym, entry);
			free(sym->name);
			free(sym->val);
			free(sym);
		}
	}
	pool_free();

	c = conf;
	conf = NULL;
	if (errors != 0) {
		config_free(c);
		return (NULL);
	}
	return (c);
}
