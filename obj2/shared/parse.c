/* original parser id follows */
/* yysccsid[] = "@(#)yaccpar	1.9 (Berkeley) 02/21/93" */
/* (use YYMAJOR/YYMINOR for ifdefs dependent on parser version) */

#define YYBYACC 1
#define YYMAJOR 2
#define YYMINOR 0
#define YYPATCH 20221106

#define YYEMPTY        (-1)
#define yyclearin      (yychar = YYEMPTY)
#define yyerrok        (yyerrflag = 0)
#define YYRECOVERING() (yyerrflag != 0)
#define YYENOMEM       (-2)
#define YYEOF          0
#undef YYBTYACC
#define YYBTYACC 0
#define YYDEBUGSTR YYPREFIX "debug"
#define YYPREFIX "yy"

#define YYPURE 0

#line 16 "shared/parse.y"
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
	SEEN_KEEPALIVE	= 0x0400
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
static int	 signer_is(enum signer_type, const char *);
static void	 set_string(char **, const char *, const char *);
static void	 set_file(char **, const char *, const char *);
static void	 conf_check(void);
#line 182 "obj2/shared/parse.c"

/* compatibility with bison */
#ifdef YYPARSE_PARAM
/* compatibility with FreeBSD */
# ifdef YYPARSE_PARAM_TYPE
#  define YYPARSE_DECL() yyparse(YYPARSE_PARAM_TYPE YYPARSE_PARAM)
# else
#  define YYPARSE_DECL() yyparse(void *YYPARSE_PARAM)
# endif
#else
# define YYPARSE_DECL() yyparse(void)
#endif

/* Parameters sent to lex. */
#ifdef YYLEX_PARAM
# define YYLEX_DECL() yylex(void *YYLEX_PARAM)
# define YYLEX yylex(YYLEX_PARAM)
#else
# define YYLEX_DECL() yylex(void)
# define YYLEX yylex()
#endif

#if !(defined(yylex) || defined(YYSTATE))
int YYLEX_DECL();
#endif

/* Parameters sent to yyerror. */
#ifndef YYERROR_DECL
#define YYERROR_DECL() yyerror(const char *s)
#endif
#ifndef YYERROR_CALL
#define YYERROR_CALL(msg) yyerror(msg)
#endif

extern int YYPARSE_DECL();

#define ADMIN 257
#define ALLOW 258
#define CA 259
#define CERTIFICATE 260
#define CHROOT 261
#define CLIENT 262
#define CONNECTIONS 263
#define CONTROL 264
#define DEFAULT 265
#define ENV 266
#define FILE_ 267
#define GROUP 268
#define HOST 269
#define IDLE 270
#define INCLUDE 271
#define KEK 272
#define KEY 273
#define KEYSTORE 274
#define KMIP 275
#define LISTEN 276
#define LOGIN 277
#define MAX 278
#define MESSAGE 279
#define MODULE 280
#define NO 281
#define ON 282
#define ONEOFF 283
#define OPENSSL 284
#define OPTIONAL 285
#define PASSWORD 286
#define PIN 287
#define PKCS11 288
#define PORT 289
#define READ 290
#define SERIAL 291
#define SESSIONS 292
#define SIGNER 293
#define SLOT 294
#define SOCKET 295
#define TIMEOUT 296
#define TLS 297
#define TOKEN 298
#define USER 299
#define USERNAME 300
#define WITH 301
#define WRAP 302
#define YES 303
#define AUTO 304
#define KEEPALIVE 305
#define ERROR 306
#define STRING 307
#define NUMBER 308
#define YYERRCODE 256
typedef int YYINT;
static const YYINT yylhs[] = {                           -1,
    0,    0,    0,    0,    0,    0,    0,    0,    6,    8,
    7,    7,    1,    1,    4,    4,    4,    9,    9,    9,
    9,    9,    9,    9,    9,    9,    9,    9,    9,    5,
    5,    2,    2,   13,   10,   12,   12,   14,   14,   14,
   14,   15,   16,   16,   16,   16,   16,    3,    3,    3,
   18,   11,   17,   17,   19,   19,   19,   19,   20,   21,
   21,   21,   21,   21,   21,   21,   21,   21,   21,   21,
   21,   21,   21,   21,   21,   21,   21,   21,   21,   21,
   21,   21,   21,
};
static const YYINT yylen[] = {                            2,
    0,    2,    3,    3,    3,    3,    3,    3,    2,    3,
    1,    1,    1,    1,    1,    1,    1,    2,    3,    2,
    4,    2,    2,    3,    3,    3,    3,    3,    3,    0,
    2,    0,    2,    0,    7,    3,    3,    0,    2,    2,
    3,    2,    2,    2,    3,    3,    3,    1,    1,    1,
    0,    5,    3,    3,    0,    2,    2,    3,    2,    2,
    2,    2,    2,    3,    3,    2,    2,    2,    2,    2,
    2,    3,    3,    2,    2,    2,    2,    2,    2,    3,
    3,    2,    2,
};
static const YYINT yydefred[] = {                         1,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    2,    0,    0,    0,
    0,    0,    8,   23,   20,    0,    0,    0,    9,   22,
    0,    0,    0,    0,    0,    0,    0,   18,    0,    3,
    4,    5,    6,    7,    0,   28,   26,    0,   24,   25,
   29,   27,   19,   50,   49,   48,   51,   11,   12,   10,
    0,   21,    0,    0,    0,   31,   33,   34,   55,   52,
    0,    0,    0,   38,   35,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,   56,   53,   59,   57,   54,    0,
    0,   58,   76,   77,   74,    0,   78,   16,   15,   17,
   68,   60,    0,    0,   82,   83,    0,    0,   66,   67,
   75,   62,   70,   63,   71,   61,   79,    0,   69,    0,
    0,    0,    0,    0,   39,   36,   42,   40,   37,   73,
   80,   81,   64,   65,   72,   41,   43,    0,    0,   44,
    0,   45,   47,   46,
};
#if defined(YYDESTRUCT_CALL) || defined(YYSTYPE_TOSTRING)
static const YYINT yystos[] = {                           0,
  310,  256,  257,  261,  264,  265,  270,  271,  274,  276,
  278,  283,  290,  293,  299,  307,   10,  316,  318,  319,
  320,  321,   10,  307,  307,  295,  293,  296,  307,  307,
  282,  263,  279,  293,  296,  299,  307,  307,   61,   10,
   10,   10,   10,   10,  307,  307,  308,  307,  308,  308,
  307,  308,  307,  275,  284,  288,  313,  307,  308,  317,
  268,  315,  289,  312,  328,  307,  308,  297,  123,  327,
  323,  329,  330,  123,  322,  256,  259,  260,  269,  272,
  273,  277,  280,  286,  287,  289,  291,  292,  294,  296,
  298,  300,  302,  305,   10,  125,  331,   10,  125,  324,
  325,   10,  307,  307,  307,  267,  307,  281,  303,  304,
  314,  307,  266,  267,  307,  308,  266,  267,  307,  308,
  308,  307,  308,  308,  308,  307,  307,  301,  308,  256,
  260,  262,  273,  297,   10,  125,  326,   10,  125,  307,
  307,  307,  307,  307,  307,   10,  307,  259,  260,  307,
  307,  307,  285,  258,
};
#endif /* YYDESTRUCT_CALL || YYSTYPE_TOSTRING */
static const YYINT yydgoto[] = {                          1,
    0,   64,   57,  111,   62,   18,   60,   19,   20,   21,
   22,   75,   71,  100,  101,  137,   70,   65,   72,   73,
   97,
};
static const YYINT yysindex[] = {                         0,
  -10,    6, -290, -287, -274, -270, -272, -278, -277, -251,
 -253, -261, -262, -288, -271,  -28,    0,   25,   27,   28,
   29,   30,    0,    0,    0, -265, -264, -267,    0,    0,
 -260, -258, -257, -255, -254, -252, -266,    0, -295,    0,
    0,    0,    0,    0, -222,    0,    0, -236,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
 -250,    0, -249, -241,  -65,    0,    0,    0,    0,    0,
  -63,   15,   -9,    0,    0,   51, -244, -243, -242, -205,
 -240, -276, -239, -263, -259, -238, -235, -237, -234, -233,
 -231, -230, -232, -229,    0,    0,    0,    0,    0,   -4,
   -8,    0,    0,    0,    0, -227,    0,    0,    0,    0,
    0,    0, -226, -225,    0,    0, -224, -223,    0,    0,
    0,    0,    0,    0,    0,    0,    0, -221,    0,   56,
 -220, -245, -219, -218,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0, -217, -212,    0,
 -180,    0,    0,    0,
};
static const YYINT yyrindex[] = {                         0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,   75,    0,    0, -206,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,
};
#if YYBTYACC
static const YYINT yycindex[] = {                         0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,
};
#endif
static const YYINT yygindex[] = {                         0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,
};
#define YYTABLESIZE 320
static const YYINT yytable[] = {                         17,
   98,  138,  113,  114,  108,  135,  117,  118,   54,   32,
   36,   58,   59,  148,  149,   23,   24,   55,   37,   25,
   26,   56,   27,   28,   95,   33,  109,  110,   29,   30,
   31,   34,   39,   35,   40,   38,   41,   42,   43,   44,
   47,   45,   46,  115,  116,   61,   48,  119,  120,   49,
   50,   51,   63,   52,   53,   68,   66,   69,   67,   74,
  102,  106,  103,  104,  105,  146,  107,  112,  128,  121,
  123,  122,  153,  124,  125,  126,  127,  154,  129,  140,
  141,  142,  143,  144,   30,  145,  147,  150,  151,  152,
   32,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,   99,  139,    0,    0,    0,
  136,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,   96,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    2,    3,    0,    0,    0,
    4,  130,    0,    5,    6,  131,    0,  132,    0,    7,
    8,    0,    0,    9,    0,   10,    0,   11,  133,    0,
   76,    0,   12,   77,   78,    0,    0,    0,    0,   13,
    0,    0,   14,   79,    0,    0,   80,   81,   15,    0,
    0,   82,  134,    0,   83,    0,   16,    0,    0,    0,
   84,   85,    0,   86,    0,   87,   88,    0,   89,    0,
   90,    0,   91,    0,   92,    0,   93,    0,    0,   94,
};
static const YYINT yycheck[] = {                         10,
   10,   10,  266,  267,  281,   10,  266,  267,  275,  263,
  299,  307,  308,  259,  260,   10,  307,  284,  307,  307,
  295,  288,  293,  296,   10,  279,  303,  304,  307,  307,
  282,  293,   61,  296,   10,  307,   10,   10,   10,   10,
  308,  307,  307,  307,  308,  268,  307,  307,  308,  308,
  308,  307,  289,  308,  307,  297,  307,  123,  308,  123,
   10,  267,  307,  307,  307,   10,  307,  307,  301,  308,
  308,  307,  285,  308,  308,  307,  307,  258,  308,  307,
  307,  307,  307,  307,   10,  307,  307,  307,  307,  307,
  297,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,  125,  125,   -1,   -1,   -1,
  125,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,  125,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,  256,  257,   -1,   -1,   -1,
  261,  256,   -1,  264,  265,  260,   -1,  262,   -1,  270,
  271,   -1,   -1,  274,   -1,  276,   -1,  278,  273,   -1,
  256,   -1,  283,  259,  260,   -1,   -1,   -1,   -1,  290,
   -1,   -1,  293,  269,   -1,   -1,  272,  273,  299,   -1,
   -1,  277,  297,   -1,  280,   -1,  307,   -1,   -1,   -1,
  286,  287,   -1,  289,   -1,  291,  292,   -1,  294,   -1,
  296,   -1,  298,   -1,  300,   -1,  302,   -1,   -1,  305,
};
#if YYBTYACC
static const YYINT yyctable[] = {                        -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
};
#endif
#define YYFINAL 1
#ifndef YYDEBUG
#define YYDEBUG 0
#endif
#define YYMAXTOKEN 308
#define YYUNDFTOKEN 332
#define YYTRANSLATE(a) ((a) > YYMAXTOKEN ? YYUNDFTOKEN : (a))
#if YYDEBUG
static const char *const yyname[] = {

"$end",0,0,0,0,0,0,0,0,0,"'\\n'",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"'='",0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,"'{'",0,"'}'",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"error","ADMIN","ALLOW",
"CA","CERTIFICATE","CHROOT","CLIENT","CONNECTIONS","CONTROL","DEFAULT","ENV",
"FILE_","GROUP","HOST","IDLE","INCLUDE","KEK","KEY","KEYSTORE","KMIP","LISTEN",
"LOGIN","MAX","MESSAGE","MODULE","NO","ON","ONEOFF","OPENSSL","OPTIONAL",
"PASSWORD","PIN","PKCS11","PORT","READ","SERIAL","SESSIONS","SIGNER","SLOT",
"SOCKET","TIMEOUT","TLS","TOKEN","USER","USERNAME","WITH","WRAP","YES","AUTO",
"KEEPALIVE","ERROR","STRING","NUMBER","$accept","grammar","yesno","port",
"signertype","loginmode","optgroup","include","value","varset","main","listen",
"signer","tlsblock","$$1","tlsopts_nl","tlsopts","tlsopt","signerblock","$$2",
"sopts_nl","sopts","sopt","illegal-symbol",
};
static const char *const yyrule[] = {
"$accept : grammar",
"grammar :",
"grammar : grammar '\\n'",
"grammar : grammar include '\\n'",
"grammar : grammar varset '\\n'",
"grammar : grammar main '\\n'",
"grammar : grammar listen '\\n'",
"grammar : grammar signer '\\n'",
"grammar : grammar error '\\n'",
"include : INCLUDE STRING",
"varset : STRING '=' value",
"value : STRING",
"value : NUMBER",
"yesno : YES",
"yesno : NO",
"loginmode : YES",
"loginmode : NO",
"loginmode : AUTO",
"main : USER STRING",
"main : SIGNER USER STRING",
"main : CHROOT STRING",
"main : CONTROL SOCKET STRING optgroup",
"main : KEYSTORE STRING",
"main : ADMIN STRING",
"main : MAX CONNECTIONS NUMBER",
"main : MAX MESSAGE NUMBER",
"main : IDLE TIMEOUT NUMBER",
"main : READ TIMEOUT NUMBER",
"main : DEFAULT SIGNER STRING",
"main : ONEOFF SIGNER STRING",
"optgroup :",
"optgroup : GROUP STRING",
"port :",
"port : PORT NUMBER",
"$$1 :",
"listen : LISTEN ON STRING port TLS $$1 tlsblock",
"tlsblock : '{' tlsopts_nl '}'",
"tlsblock : '{' tlsopts '}'",
"tlsopts_nl :",
"tlsopts_nl : tlsopts_nl '\\n'",
"tlsopts_nl : tlsopts '\\n'",
"tlsopts_nl : tlsopts_nl error '\\n'",
"tlsopts : tlsopts_nl tlsopt",
"tlsopt : CERTIFICATE STRING",
"tlsopt : KEY STRING",
"tlsopt : CLIENT CA STRING",
"tlsopt : TLS STRING ALLOW",
"tlsopt : CLIENT CERTIFICATE OPTIONAL",
"signertype : PKCS11",
"signertype : OPENSSL",
"signertype : KMIP",
"$$2 :",
"signer : SIGNER STRING signertype $$2 signerblock",
"signerblock : '{' sopts_nl '}'",
"signerblock : '{' sopts '}'",
"sopts_nl :",
"sopts_nl : sopts_nl '\\n'",
"sopts_nl : sopts '\\n'",
"sopts_nl : sopts_nl error '\\n'",
"sopts : sopts_nl sopt",
"sopt : MODULE STRING",
"sopt : TOKEN STRING",
"sopt : SERIAL STRING",
"sopt : SLOT NUMBER",
"sopt : PIN ENV STRING",
"sopt : PIN FILE_ STRING",
"sopt : PIN STRING",
"sopt : PIN NUMBER",
"sopt : LOGIN loginmode",
"sopt : KEEPALIVE NUMBER",
"sopt : SESSIONS NUMBER",
"sopt : TIMEOUT NUMBER",
"sopt : WRAP WITH STRING",
"sopt : KEK FILE_ STRING",
"sopt : HOST STRING",
"sopt : PORT NUMBER",
"sopt : CA STRING",
"sopt : CERTIFICATE STRING",
"sopt : KEY STRING",
"sopt : USERNAME STRING",
"sopt : PASSWORD ENV STRING",
"sopt : PASSWORD FILE_ STRING",
"sopt : PASSWORD STRING",
"sopt : PASSWORD NUMBER",

};
#endif

#if YYDEBUG
int      yydebug;
#endif

int      yyerrflag;
int      yychar;
YYSTYPE  yyval;
YYSTYPE  yylval;
int      yynerrs;

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
YYLTYPE  yyloc; /* position returned by actions */
YYLTYPE  yylloc; /* position from the lexer */
#endif

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
#ifndef YYLLOC_DEFAULT
#define YYLLOC_DEFAULT(loc, rhs, n) \
do \
{ \
    if (n == 0) \
    { \
        (loc).first_line   = YYRHSLOC(rhs, 0).last_line; \
        (loc).first_column = YYRHSLOC(rhs, 0).last_column; \
        (loc).last_line    = YYRHSLOC(rhs, 0).last_line; \
        (loc).last_column  = YYRHSLOC(rhs, 0).last_column; \
    } \
    else \
    { \
        (loc).first_line   = YYRHSLOC(rhs, 1).first_line; \
        (loc).first_column = YYRHSLOC(rhs, 1).first_column; \
        (loc).last_line    = YYRHSLOC(rhs, n).last_line; \
        (loc).last_column  = YYRHSLOC(rhs, n).last_column; \
    } \
} while (0)
#endif /* YYLLOC_DEFAULT */
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
#if YYBTYACC

#ifndef YYLVQUEUEGROWTH
#define YYLVQUEUEGROWTH 32
#endif
#endif /* YYBTYACC */

/* define the initial stack-sizes */
#ifdef YYSTACKSIZE
#undef YYMAXDEPTH
#define YYMAXDEPTH  YYSTACKSIZE
#else
#ifdef YYMAXDEPTH
#define YYSTACKSIZE YYMAXDEPTH
#else
#define YYSTACKSIZE 10000
#define YYMAXDEPTH  10000
#endif
#endif

#ifndef YYINITSTACKSIZE
#define YYINITSTACKSIZE 200
#endif

typedef struct {
    unsigned stacksize;
    YYINT    *s_base;
    YYINT    *s_mark;
    YYINT    *s_last;
    YYSTYPE  *l_base;
    YYSTYPE  *l_mark;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    YYLTYPE  *p_base;
    YYLTYPE  *p_mark;
#endif
} YYSTACKDATA;
#if YYBTYACC

struct YYParseState_s
{
    struct YYParseState_s *save;    /* Previously saved parser state */
    YYSTACKDATA            yystack; /* saved parser stack */
    int                    state;   /* saved parser state */
    int                    errflag; /* saved error recovery status */
    int                    lexeme;  /* saved index of the conflict lexeme in the lexical queue */
    YYINT                  ctry;    /* saved index in yyctable[] for this conflict */
};
typedef struct YYParseState_s YYParseState;
#endif /* YYBTYACC */
/* variables for the parser stack */
static YYSTACKDATA yystack;
#if YYBTYACC

/* Current parser state */
static YYParseState *yyps = 0;

/* yypath != NULL: do the full parse, starting at *yypath parser state. */
static YYParseState *yypath = 0;

/* Base of the lexical value queue */
static YYSTYPE *yylvals = 0;

/* Current position at lexical value queue */
static YYSTYPE *yylvp = 0;

/* End position of lexical value queue */
static YYSTYPE *yylve = 0;

/* The last allocated position at the lexical value queue */
static YYSTYPE *yylvlim = 0;

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
/* Base of the lexical position queue */
static YYLTYPE *yylpsns = 0;

/* Current position at lexical position queue */
static YYLTYPE *yylpp = 0;

/* End position of lexical position queue */
static YYLTYPE *yylpe = 0;

/* The last allocated position at the lexical position queue */
static YYLTYPE *yylplim = 0;
#endif

/* Current position at lexical token queue */
static YYINT  *yylexp = 0;

static YYINT  *yylexemes = 0;
#endif /* YYBTYACC */
#line 604 "shared/parse.y"

struct keywords {
	const char	*k_name;
	int		 k_val;
};

/* Must stay sorted (strcmp order): looked up with bsearch. */
static const struct keywords keywords[] = {
	{ "admin",		ADMIN },
	{ "allow",		ALLOW },
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
	{ "group",		GROUP },
	{ "host",		HOST },
	{ "idle",		IDLE },
	{ "include",		INCLUDE },
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
	{ "optional",		OPTIONAL },
	{ "password",		PASSWORD },
	{ "pin",		PIN },
	{ "pkcs11",		PKCS11 },
	{ "port",		PORT },
	{ "read",		READ },
	{ "serial",		SERIAL },
	{ "sessions",		SESSIONS },
	{ "signer",		SIGNER },
	{ "slot",		SLOT },
	{ "socket",		SOCKET },
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
	struct where		 w;

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
#line 1800 "obj2/shared/parse.c"

/* For use in generated program */
#define yydepth (int)(yystack.s_mark - yystack.s_base)
#if YYBTYACC
#define yytrial (yyps->save)
#endif /* YYBTYACC */

#if YYDEBUG
#include <stdio.h>	/* needed for printf */
#endif

#include <stdlib.h>	/* needed for malloc, etc */
#include <string.h>	/* needed for memset */

/* allocate initial stack or double stack size, up to YYMAXDEPTH */
static int yygrowstack(YYSTACKDATA *data)
{
    int i;
    unsigned newsize;
    YYINT *newss;
    YYSTYPE *newvs;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    YYLTYPE *newps;
#endif

    if ((newsize = data->stacksize) == 0)
        newsize = YYINITSTACKSIZE;
    else if (newsize >= YYMAXDEPTH)
        return YYENOMEM;
    else if ((newsize *= 2) > YYMAXDEPTH)
        newsize = YYMAXDEPTH;

    i = (int) (data->s_mark - data->s_base);
    newss = (YYINT *)realloc(data->s_base, newsize * sizeof(*newss));
    if (newss == 0)
        return YYENOMEM;

    data->s_base = newss;
    data->s_mark = newss + i;

    newvs = (YYSTYPE *)realloc(data->l_base, newsize * sizeof(*newvs));
    if (newvs == 0)
        return YYENOMEM;

    data->l_base = newvs;
    data->l_mark = newvs + i;

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    newps = (YYLTYPE *)realloc(data->p_base, newsize * sizeof(*newps));
    if (newps == 0)
        return YYENOMEM;

    data->p_base = newps;
    data->p_mark = newps + i;
#endif

    data->stacksize = newsize;
    data->s_last = data->s_base + newsize - 1;

#if YYDEBUG
    if (yydebug)
        fprintf(stderr, "%sdebug: stack size increased to %d\n", YYPREFIX, newsize);
#endif
    return 0;
}

#if YYPURE || defined(YY_NO_LEAKS)
static void yyfreestack(YYSTACKDATA *data)
{
    free(data->s_base);
    free(data->l_base);
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    free(data->p_base);
#endif
    memset(data, 0, sizeof(*data));
}
#else
#define yyfreestack(data) /* nothing */
#endif /* YYPURE || defined(YY_NO_LEAKS) */
#if YYBTYACC

static YYParseState *
yyNewState(unsigned size)
{
    YYParseState *p = (YYParseState *) malloc(sizeof(YYParseState));
    if (p == NULL) return NULL;

    p->yystack.stacksize = size;
    if (size == 0)
    {
        p->yystack.s_base = NULL;
        p->yystack.l_base = NULL;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        p->yystack.p_base = NULL;
#endif
        return p;
    }
    p->yystack.s_base    = (YYINT *) malloc(size * sizeof(YYINT));
    if (p->yystack.s_base == NULL) return NULL;
    p->yystack.l_base    = (YYSTYPE *) malloc(size * sizeof(YYSTYPE));
    if (p->yystack.l_base == NULL) return NULL;
    memset(p->yystack.l_base, 0, size * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    p->yystack.p_base    = (YYLTYPE *) malloc(size * sizeof(YYLTYPE));
    if (p->yystack.p_base == NULL) return NULL;
    memset(p->yystack.p_base, 0, size * sizeof(YYLTYPE));
#endif

    return p;
}

static void
yyFreeState(YYParseState *p)
{
    yyfreestack(&p->yystack);
    free(p);
}
#endif /* YYBTYACC */

#define YYABORT  goto yyabort
#define YYREJECT goto yyabort
#define YYACCEPT goto yyaccept
#define YYERROR  goto yyerrlab
#if YYBTYACC
#define YYVALID        do { if (yyps->save)            goto yyvalid; } while(0)
#define YYVALID_NESTED do { if (yyps->save && \
                                yyps->save->save == 0) goto yyvalid; } while(0)
#endif /* YYBTYACC */

int
YYPARSE_DECL()
{
    int yym, yyn, yystate, yyresult;
#if YYBTYACC
    int yynewerrflag;
    YYParseState *yyerrctx = NULL;
#endif /* YYBTYACC */
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    YYLTYPE  yyerror_loc_range[3]; /* position of error start/end (0 unused) */
#endif
#if YYDEBUG
    const char *yys;

    if ((yys = getenv("YYDEBUG")) != 0)
    {
        yyn = *yys;
        if (yyn >= '0' && yyn <= '9')
            yydebug = yyn - '0';
    }
    if (yydebug)
        fprintf(stderr, "%sdebug[<# of symbols on state stack>]\n", YYPREFIX);
#endif
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    memset(yyerror_loc_range, 0, sizeof(yyerror_loc_range));
#endif

#if YYBTYACC
    yyps = yyNewState(0); if (yyps == 0) goto yyenomem;
    yyps->save = 0;
#endif /* YYBTYACC */
    yym = 0;
    /* yyn is set below */
    yynerrs = 0;
    yyerrflag = 0;
    yychar = YYEMPTY;
    yystate = 0;

#if YYPURE
    memset(&yystack, 0, sizeof(yystack));
#endif

    if (yystack.s_base == NULL && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
    yystack.s_mark = yystack.s_base;
    yystack.l_mark = yystack.l_base;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark = yystack.p_base;
#endif
    yystate = 0;
    *yystack.s_mark = 0;

yyloop:
    if ((yyn = yydefred[yystate]) != 0) goto yyreduce;
    if (yychar < 0)
    {
#if YYBTYACC
        do {
        if (yylvp < yylve)
        {
            /* we're currently re-reading tokens */
            yylval = *yylvp++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yylloc = *yylpp++;
#endif
            yychar = *yylexp++;
            break;
        }
        if (yyps->save)
        {
            /* in trial mode; save scanner results for future parse attempts */
            if (yylvp == yylvlim)
            {   /* Enlarge lexical value queue */
                size_t p = (size_t) (yylvp - yylvals);
                size_t s = (size_t) (yylvlim - yylvals);

                s += YYLVQUEUEGROWTH;
                if ((yylexemes = (YYINT *)realloc(yylexemes, s * sizeof(YYINT))) == NULL) goto yyenomem;
                if ((yylvals   = (YYSTYPE *)realloc(yylvals, s * sizeof(YYSTYPE))) == NULL) goto yyenomem;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                if ((yylpsns   = (YYLTYPE *)realloc(yylpsns, s * sizeof(YYLTYPE))) == NULL) goto yyenomem;
#endif
                yylvp   = yylve = yylvals + p;
                yylvlim = yylvals + s;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylpp   = yylpe = yylpsns + p;
                yylplim = yylpsns + s;
#endif
                yylexp  = yylexemes + p;
            }
            *yylexp = (YYINT) YYLEX;
            *yylvp++ = yylval;
            yylve++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            *yylpp++ = yylloc;
            yylpe++;
#endif
            yychar = *yylexp++;
            break;
        }
        /* normal operation, no conflict encountered */
#endif /* YYBTYACC */
        yychar = YYLEX;
#if YYBTYACC
        } while (0);
#endif /* YYBTYACC */
        if (yychar < 0) yychar = YYEOF;
#if YYDEBUG
        if (yydebug)
        {
            if ((yys = yyname[YYTRANSLATE(yychar)]) == NULL) yys = yyname[YYUNDFTOKEN];
            fprintf(stderr, "%s[%d]: state %d, reading token %d (%s)",
                            YYDEBUGSTR, yydepth, yystate, yychar, yys);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
            if (!yytrial)
#endif /* YYBTYACC */
                fprintf(stderr, " <%s>", YYSTYPE_TOSTRING(yychar, yylval));
#endif
            fputc('\n', stderr);
        }
#endif
    }
#if YYBTYACC

    /* Do we have a conflict? */
    if (((yyn = yycindex[yystate]) != 0) && (yyn += yychar) >= 0 &&
        yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yychar)
    {
        YYINT ctry;

        if (yypath)
        {
            YYParseState *save;
#if YYDEBUG
            if (yydebug)
                fprintf(stderr, "%s[%d]: CONFLICT in state %d: following successful trial parse\n",
                                YYDEBUGSTR, yydepth, yystate);
#endif
            /* Switch to the next conflict context */
            save = yypath;
            yypath = save->save;
            save->save = NULL;
            ctry = save->ctry;
            if (save->state != yystate) YYABORT;
            yyFreeState(save);

        }
        else
        {

            /* Unresolved conflict - start/continue trial parse */
            YYParseState *save;
#if YYDEBUG
            if (yydebug)
            {
                fprintf(stderr, "%s[%d]: CONFLICT in state %d. ", YYDEBUGSTR, yydepth, yystate);
                if (yyps->save)
                    fputs("ALREADY in conflict, continuing trial parse.\n", stderr);
                else
                    fputs("Starting trial parse.\n", stderr);
            }
#endif
            save                  = yyNewState((unsigned)(yystack.s_mark - yystack.s_base + 1));
            if (save == NULL) goto yyenomem;
            save->save            = yyps->save;
            save->state           = yystate;
            save->errflag         = yyerrflag;
            save->yystack.s_mark  = save->yystack.s_base + (yystack.s_mark - yystack.s_base);
            memcpy (save->yystack.s_base, yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
            save->yystack.l_mark  = save->yystack.l_base + (yystack.l_mark - yystack.l_base);
            memcpy (save->yystack.l_base, yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            save->yystack.p_mark  = save->yystack.p_base + (yystack.p_mark - yystack.p_base);
            memcpy (save->yystack.p_base, yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
            ctry                  = yytable[yyn];
            if (yyctable[ctry] == -1)
            {
#if YYDEBUG
                if (yydebug && yychar >= YYEOF)
                    fprintf(stderr, "%s[%d]: backtracking 1 token\n", YYDEBUGSTR, yydepth);
#endif
                ctry++;
            }
            save->ctry = ctry;
            if (yyps->save == NULL)
            {
                /* If this is a first conflict in the stack, start saving lexemes */
                if (!yylexemes)
                {
                    yylexemes = (YYINT *) malloc((YYLVQUEUEGROWTH) * sizeof(YYINT));
                    if (yylexemes == NULL) goto yyenomem;
                    yylvals   = (YYSTYPE *) malloc((YYLVQUEUEGROWTH) * sizeof(YYSTYPE));
                    if (yylvals == NULL) goto yyenomem;
                    yylvlim   = yylvals + YYLVQUEUEGROWTH;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    yylpsns   = (YYLTYPE *) malloc((YYLVQUEUEGROWTH) * sizeof(YYLTYPE));
                    if (yylpsns == NULL) goto yyenomem;
                    yylplim   = yylpsns + YYLVQUEUEGROWTH;
#endif
                }
                if (yylvp == yylve)
                {
                    yylvp  = yylve = yylvals;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    yylpp  = yylpe = yylpsns;
#endif
                    yylexp = yylexemes;
                    if (yychar >= YYEOF)
                    {
                        *yylve++ = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                        *yylpe++ = yylloc;
#endif
                        *yylexp  = (YYINT) yychar;
                        yychar   = YYEMPTY;
                    }
                }
            }
            if (yychar >= YYEOF)
            {
                yylvp--;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylpp--;
#endif
                yylexp--;
                yychar = YYEMPTY;
            }
            save->lexeme = (int) (yylvp - yylvals);
            yyps->save   = save;
        }
        if (yytable[yyn] == ctry)
        {
#if YYDEBUG
            if (yydebug)
                fprintf(stderr, "%s[%d]: state %d, shifting to state %d\n",
                                YYDEBUGSTR, yydepth, yystate, yyctable[ctry]);
#endif
            if (yychar < 0)
            {
                yylvp++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylpp++;
#endif
                yylexp++;
            }
            if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM)
                goto yyoverflow;
            yystate = yyctable[ctry];
            *++yystack.s_mark = (YYINT) yystate;
            *++yystack.l_mark = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            *++yystack.p_mark = yylloc;
#endif
            yychar  = YYEMPTY;
            if (yyerrflag > 0) --yyerrflag;
            goto yyloop;
        }
        else
        {
            yyn = yyctable[ctry];
            goto yyreduce;
        }
    } /* End of code dealing with conflicts */
#endif /* YYBTYACC */
    if (((yyn = yysindex[yystate]) != 0) && (yyn += yychar) >= 0 &&
            yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yychar)
    {
#if YYDEBUG
        if (yydebug)
            fprintf(stderr, "%s[%d]: state %d, shifting to state %d\n",
                            YYDEBUGSTR, yydepth, yystate, yytable[yyn]);
#endif
        if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
        yystate = yytable[yyn];
        *++yystack.s_mark = yytable[yyn];
        *++yystack.l_mark = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        *++yystack.p_mark = yylloc;
#endif
        yychar = YYEMPTY;
        if (yyerrflag > 0)  --yyerrflag;
        goto yyloop;
    }
    if (((yyn = yyrindex[yystate]) != 0) && (yyn += yychar) >= 0 &&
            yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yychar)
    {
        yyn = yytable[yyn];
        goto yyreduce;
    }
    if (yyerrflag != 0) goto yyinrecovery;
#if YYBTYACC

    yynewerrflag = 1;
    goto yyerrhandler;
    goto yyerrlab; /* redundant goto avoids 'unused label' warning */

yyerrlab:
    /* explicit YYERROR from an action -- pop the rhs of the rule reduced
     * before looking for error recovery */
    yystack.s_mark -= yym;
    yystate = *yystack.s_mark;
    yystack.l_mark -= yym;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark -= yym;
#endif

    yynewerrflag = 0;
yyerrhandler:
    while (yyps->save)
    {
        int ctry;
        YYParseState *save = yyps->save;
#if YYDEBUG
        if (yydebug)
            fprintf(stderr, "%s[%d]: ERROR in state %d, CONFLICT BACKTRACKING to state %d, %d tokens\n",
                            YYDEBUGSTR, yydepth, yystate, yyps->save->state,
                    (int)(yylvp - yylvals - yyps->save->lexeme));
#endif
        /* Memorize most forward-looking error state in case it's really an error. */
        if (yyerrctx == NULL || yyerrctx->lexeme < yylvp - yylvals)
        {
            /* Free old saved error context state */
            if (yyerrctx) yyFreeState(yyerrctx);
            /* Create and fill out new saved error context state */
            yyerrctx                 = yyNewState((unsigned)(yystack.s_mark - yystack.s_base + 1));
            if (yyerrctx == NULL) goto yyenomem;
            yyerrctx->save           = yyps->save;
            yyerrctx->state          = yystate;
            yyerrctx->errflag        = yyerrflag;
            yyerrctx->yystack.s_mark = yyerrctx->yystack.s_base + (yystack.s_mark - yystack.s_base);
            memcpy (yyerrctx->yystack.s_base, yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
            yyerrctx->yystack.l_mark = yyerrctx->yystack.l_base + (yystack.l_mark - yystack.l_base);
            memcpy (yyerrctx->yystack.l_base, yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yyerrctx->yystack.p_mark = yyerrctx->yystack.p_base + (yystack.p_mark - yystack.p_base);
            memcpy (yyerrctx->yystack.p_base, yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
            yyerrctx->lexeme         = (int) (yylvp - yylvals);
        }
        yylvp          = yylvals   + save->lexeme;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        yylpp          = yylpsns   + save->lexeme;
#endif
        yylexp         = yylexemes + save->lexeme;
        yychar         = YYEMPTY;
        yystack.s_mark = yystack.s_base + (save->yystack.s_mark - save->yystack.s_base);
        memcpy (yystack.s_base, save->yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
        yystack.l_mark = yystack.l_base + (save->yystack.l_mark - save->yystack.l_base);
        memcpy (yystack.l_base, save->yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        yystack.p_mark = yystack.p_base + (save->yystack.p_mark - save->yystack.p_base);
        memcpy (yystack.p_base, save->yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
        ctry           = ++save->ctry;
        yystate        = save->state;
        /* We tried shift, try reduce now */
        if ((yyn = yyctable[ctry]) >= 0) goto yyreduce;
        yyps->save     = save->save;
        save->save     = NULL;
        yyFreeState(save);

        /* Nothing left on the stack -- error */
        if (!yyps->save)
        {
#if YYDEBUG
            if (yydebug)
                fprintf(stderr, "%sdebug[%d,trial]: trial parse FAILED, entering ERROR mode\n",
                                YYPREFIX, yydepth);
#endif
            /* Restore state as it was in the most forward-advanced error */
            yylvp          = yylvals   + yyerrctx->lexeme;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yylpp          = yylpsns   + yyerrctx->lexeme;
#endif
            yylexp         = yylexemes + yyerrctx->lexeme;
            yychar         = yylexp[-1];
            yylval         = yylvp[-1];
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yylloc         = yylpp[-1];
#endif
            yystack.s_mark = yystack.s_base + (yyerrctx->yystack.s_mark - yyerrctx->yystack.s_base);
            memcpy (yystack.s_base, yyerrctx->yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
            yystack.l_mark = yystack.l_base + (yyerrctx->yystack.l_mark - yyerrctx->yystack.l_base);
            memcpy (yystack.l_base, yyerrctx->yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yystack.p_mark = yystack.p_base + (yyerrctx->yystack.p_mark - yyerrctx->yystack.p_base);
            memcpy (yystack.p_base, yyerrctx->yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
            yystate        = yyerrctx->state;
            yyFreeState(yyerrctx);
            yyerrctx       = NULL;
        }
        yynewerrflag = 1;
    }
    if (yynewerrflag == 0) goto yyinrecovery;
#endif /* YYBTYACC */

    YYERROR_CALL("syntax error");
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yyerror_loc_range[1] = yylloc; /* lookahead position is error start position */
#endif

#if !YYBTYACC
    goto yyerrlab; /* redundant goto avoids 'unused label' warning */
yyerrlab:
#endif
    ++yynerrs;

yyinrecovery:
    if (yyerrflag < 3)
    {
        yyerrflag = 3;
        for (;;)
        {
            if (((yyn = yysindex[*yystack.s_mark]) != 0) && (yyn += YYERRCODE) >= 0 &&
                    yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) YYERRCODE)
            {
#if YYDEBUG
                if (yydebug)
                    fprintf(stderr, "%s[%d]: state %d, error recovery shifting to state %d\n",
                                    YYDEBUGSTR, yydepth, *yystack.s_mark, yytable[yyn]);
#endif
                if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
                yystate = yytable[yyn];
                *++yystack.s_mark = yytable[yyn];
                *++yystack.l_mark = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                /* lookahead position is error end position */
                yyerror_loc_range[2] = yylloc;
                YYLLOC_DEFAULT(yyloc, yyerror_loc_range, 2); /* position of error span */
                *++yystack.p_mark = yyloc;
#endif
                goto yyloop;
            }
            else
            {
#if YYDEBUG
                if (yydebug)
                    fprintf(stderr, "%s[%d]: error recovery discarding state %d\n",
                                    YYDEBUGSTR, yydepth, *yystack.s_mark);
#endif
                if (yystack.s_mark <= yystack.s_base) goto yyabort;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                /* the current TOS position is the error start position */
                yyerror_loc_range[1] = *yystack.p_mark;
#endif
#if defined(YYDESTRUCT_CALL)
#if YYBTYACC
                if (!yytrial)
#endif /* YYBTYACC */
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    YYDESTRUCT_CALL("error: discarding state",
                                    yystos[*yystack.s_mark], yystack.l_mark, yystack.p_mark);
#else
                    YYDESTRUCT_CALL("error: discarding state",
                                    yystos[*yystack.s_mark], yystack.l_mark);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
#endif /* defined(YYDESTRUCT_CALL) */
                --yystack.s_mark;
                --yystack.l_mark;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                --yystack.p_mark;
#endif
            }
        }
    }
    else
    {
        if (yychar == YYEOF) goto yyabort;
#if YYDEBUG
        if (yydebug)
        {
            if ((yys = yyname[YYTRANSLATE(yychar)]) == NULL) yys = yyname[YYUNDFTOKEN];
            fprintf(stderr, "%s[%d]: state %d, error recovery discarding token %d (%s)\n",
                            YYDEBUGSTR, yydepth, yystate, yychar, yys);
        }
#endif
#if defined(YYDESTRUCT_CALL)
#if YYBTYACC
        if (!yytrial)
#endif /* YYBTYACC */
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            YYDESTRUCT_CALL("error: discarding token", yychar, &yylval, &yylloc);
#else
            YYDESTRUCT_CALL("error: discarding token", yychar, &yylval);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
#endif /* defined(YYDESTRUCT_CALL) */
        yychar = YYEMPTY;
        goto yyloop;
    }

yyreduce:
    yym = yylen[yyn];
#if YYDEBUG
    if (yydebug)
    {
        fprintf(stderr, "%s[%d]: state %d, reducing by rule %d (%s)",
                        YYDEBUGSTR, yydepth, yystate, yyn, yyrule[yyn]);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
        if (!yytrial)
#endif /* YYBTYACC */
            if (yym > 0)
            {
                int i;
                fputc('<', stderr);
                for (i = yym; i > 0; i--)
                {
                    if (i != yym) fputs(", ", stderr);
                    fputs(YYSTYPE_TOSTRING(yystos[yystack.s_mark[1-i]],
                                           yystack.l_mark[1-i]), stderr);
                }
                fputc('>', stderr);
            }
#endif
        fputc('\n', stderr);
    }
#endif
    if (yym > 0)
        yyval = yystack.l_mark[1-yym];
    else
        memset(&yyval, 0, sizeof yyval);
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)

    /* Perform position reduction */
    memset(&yyloc, 0, sizeof(yyloc));
#if YYBTYACC
    if (!yytrial)
#endif /* YYBTYACC */
    {
        YYLLOC_DEFAULT(yyloc, &yystack.p_mark[-yym], yym);
        /* just in case YYERROR is invoked within the action, save
           the start of the rhs as the error start position */
        yyerror_loc_range[1] = yystack.p_mark[1-yym];
    }
#endif

    switch (yyn)
    {
case 3:
#line 194 "shared/parse.y"
	{
			struct file	*nfile;
			const char	*err;
			char		*path;

			path = include_path(yystack.l_mark[-1].v.string);
			if ((nfile = pushfile(path, &err)) == NULL)
				yyerror("cannot include \"%s\": %s", path, err);
			else
				file = nfile;
			free(path);
		}
#line 2484 "obj2/shared/parse.c"
break;
case 8:
#line 210 "shared/parse.y"
	{
			/* A broken statement that opened a block: skip it. */
			if (depth > 0)
				skipblock();
			cursigner = NULL;
			curlisten = NULL;
			yyerrok;
		}
#line 2496 "obj2/shared/parse.c"
break;
case 9:
#line 220 "shared/parse.y"
	{ yyval.v.string = yystack.l_mark[0].v.string; }
#line 2501 "obj2/shared/parse.c"
break;
case 10:
#line 223 "shared/parse.y"
	{
			if (!valid_macro_name(yystack.l_mark[-2].v.string))
				yyerror("invalid macro name \"%s\"", yystack.l_mark[-2].v.string);
			else if (symset(yystack.l_mark[-2].v.string, yystack.l_mark[0].v.string, 0) == -1)
				fatal("%s", __func__);
		}
#line 2511 "obj2/shared/parse.c"
break;
case 11:
#line 231 "shared/parse.y"
	{ yyval.v.string = yystack.l_mark[0].v.string; }
#line 2516 "obj2/shared/parse.c"
break;
case 12:
#line 232 "shared/parse.y"
	{
			char	 num[32];

			(void)snprintf(num, sizeof(num), "%lld", yystack.l_mark[0].v.number);
			yyval.v.string = pool_strdup(num);
		}
#line 2526 "obj2/shared/parse.c"
break;
case 13:
#line 240 "shared/parse.y"
	{ yyval.v.number = 1; }
#line 2531 "obj2/shared/parse.c"
break;
case 14:
#line 241 "shared/parse.y"
	{ yyval.v.number = 0; }
#line 2536 "obj2/shared/parse.c"
break;
case 15:
#line 244 "shared/parse.y"
	{ yyval.v.number = SIGNER_LOGIN_YES; }
#line 2541 "obj2/shared/parse.c"
break;
case 16:
#line 245 "shared/parse.y"
	{ yyval.v.number = SIGNER_LOGIN_NO; }
#line 2546 "obj2/shared/parse.c"
break;
case 17:
#line 246 "shared/parse.y"
	{ yyval.v.number = SIGNER_LOGIN_AUTO; }
#line 2551 "obj2/shared/parse.c"
break;
case 18:
#line 249 "shared/parse.y"
	{
			if (once(&seen, SEEN_USER, "user") == 0) {
				where_set(&user_at);
				set_string(&conf->user, yystack.l_mark[0].v.string, NULL);
				if (!(conf_flags & CONF_NOCHECK_FILES) &&
				    getpwnam(yystack.l_mark[0].v.string) == NULL)
					yyerror("user \"%s\" does not exist",
					    yystack.l_mark[0].v.string);
			}
		}
#line 2565 "obj2/shared/parse.c"
break;
case 19:
#line 259 "shared/parse.y"
	{
			if (once(&seen, SEEN_HSMUSER, "signer user") == 0) {
				where_set(&hsm_user_at);
				set_string(&conf->hsm_user, yystack.l_mark[0].v.string, NULL);
				if (!(conf_flags & CONF_NOCHECK_FILES) &&
				    getpwnam(yystack.l_mark[0].v.string) == NULL)
					yyerror("user \"%s\" does not exist",
					    yystack.l_mark[0].v.string);
			}
		}
#line 2579 "obj2/shared/parse.c"
break;
case 20:
#line 269 "shared/parse.y"
	{
			if (once(&seen, SEEN_CHROOT, "chroot") == 0 &&
			    check_absolute("chroot", yystack.l_mark[0].v.string) == 0)
				set_string(&conf->chroot, yystack.l_mark[0].v.string, NULL);
		}
#line 2588 "obj2/shared/parse.c"
break;
case 21:
#line 274 "shared/parse.y"
	{
			if (once(&seen, SEEN_CONTROL, "control socket") == 0 &&
			    check_absolute("control socket", yystack.l_mark[-1].v.string) == 0) {
				set_string(&conf->control_path, yystack.l_mark[-1].v.string, NULL);
				if (yystack.l_mark[0].v.string != NULL)
					set_string(&conf->control_group, yystack.l_mark[0].v.string,
					    NULL);
				if (yystack.l_mark[0].v.string != NULL &&
				    !(conf_flags & CONF_NOCHECK_FILES) &&
				    getgrnam(yystack.l_mark[0].v.string) == NULL)
					yyerror("group \"%s\" does not exist",
					    yystack.l_mark[0].v.string);
			}
		}
#line 2606 "obj2/shared/parse.c"
break;
case 22:
#line 288 "shared/parse.y"
	{
			if (once(&seen, SEEN_KEYSTORE, "keystore") == 0 &&
			    check_absolute("keystore", yystack.l_mark[0].v.string) == 0)
				set_string(&conf->keystore, yystack.l_mark[0].v.string, NULL);
		}
#line 2615 "obj2/shared/parse.c"
break;
case 23:
#line 293 "shared/parse.y"
	{
			struct name_entry	*n;

			if (*yystack.l_mark[0].v.string == '\0' || strlen(yystack.l_mark[0].v.string) > 255) {
				yyerror("admin name must be 1 to 255 "
				    "characters");
				break;
			}
			TAILQ_FOREACH(n, &conf->admins, entry)
				if (strcmp(n->name, yystack.l_mark[0].v.string) == 0)
					break;
			if (n != NULL) {
				yyerror("duplicate admin \"%s\"", yystack.l_mark[0].v.string);
				break;
			}
			if ((n = calloc(1, sizeof(*n))) == NULL)
				fatal("%s", __func__);
			n->name = xstrdup(yystack.l_mark[0].v.string);
			TAILQ_INSERT_TAIL(&conf->admins, n, entry);
		}
#line 2639 "obj2/shared/parse.c"
break;
case 24:
#line 313 "shared/parse.y"
	{
			if (once(&seen, SEEN_MAXCONN, "max connections") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 1, 65535, "max connections") == 0)
				conf->max_connections = yystack.l_mark[0].v.number;
		}
#line 2648 "obj2/shared/parse.c"
break;
case 25:
#line 318 "shared/parse.y"
	{
			if (once(&seen, SEEN_MAXMSG, "max message") == 0 &&
			    check_range(yystack.l_mark[0].v.number, MIN_MAX_MESSAGE, MAX_MAX_MESSAGE,
			    "max message") == 0)
				conf->max_message = yystack.l_mark[0].v.number;
		}
#line 2658 "obj2/shared/parse.c"
break;
case 26:
#line 324 "shared/parse.y"
	{
			if (once(&seen, SEEN_IDLE, "idle timeout") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 1, 86400, "idle timeout") == 0)
				conf->idle_timeout = yystack.l_mark[0].v.number;
		}
#line 2667 "obj2/shared/parse.c"
break;
case 27:
#line 329 "shared/parse.y"
	{
			if (once(&seen, SEEN_READ, "read timeout") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 1, 86400, "read timeout") == 0)
				conf->read_timeout = yystack.l_mark[0].v.number;
		}
#line 2676 "obj2/shared/parse.c"
break;
case 28:
#line 334 "shared/parse.y"
	{
			if (once(&seen, SEEN_DEFAULT, "default signer") == 0) {
				where_set(&default_at);
				set_string(&conf->default_signer, yystack.l_mark[0].v.string, NULL);
			}
		}
#line 2686 "obj2/shared/parse.c"
break;
case 29:
#line 340 "shared/parse.y"
	{
			if (once(&seen, SEEN_ONEOFF, "one-off signer") == 0) {
				where_set(&oneoff_at);
				set_string(&conf->oneoff_signer, yystack.l_mark[0].v.string, NULL);
			}
		}
#line 2696 "obj2/shared/parse.c"
break;
case 30:
#line 348 "shared/parse.y"
	{ yyval.v.string = NULL; }
#line 2701 "obj2/shared/parse.c"
break;
case 31:
#line 349 "shared/parse.y"
	{ yyval.v.string = yystack.l_mark[0].v.string; }
#line 2706 "obj2/shared/parse.c"
break;
case 32:
#line 352 "shared/parse.y"
	{ yyval.v.number = KMIP_PORT; }
#line 2711 "obj2/shared/parse.c"
break;
case 33:
#line 353 "shared/parse.y"
	{
			if (check_range(yystack.l_mark[0].v.number, 1, 65535, "port") == -1)
				yyval.v.number = KMIP_PORT;
			else
				yyval.v.number = yystack.l_mark[0].v.number;
		}
#line 2721 "obj2/shared/parse.c"
break;
case 34:
#line 361 "shared/parse.y"
	{
			listen_start(yystack.l_mark[-2].v.string, yystack.l_mark[-1].v.number, yystack.l_mark[-4].lineno);
		}
#line 2728 "obj2/shared/parse.c"
break;
case 35:
#line 363 "shared/parse.y"
	{
			listen_end();
		}
#line 2735 "obj2/shared/parse.c"
break;
case 41:
#line 376 "shared/parse.y"
	{ yyerrok; }
#line 2740 "obj2/shared/parse.c"
break;
case 43:
#line 382 "shared/parse.y"
	{
			set_file(&curlisten->cert, yystack.l_mark[0].v.string, "certificate");
		}
#line 2747 "obj2/shared/parse.c"
break;
case 44:
#line 385 "shared/parse.y"
	{
			set_file(&curlisten->key, yystack.l_mark[0].v.string, "key");
		}
#line 2754 "obj2/shared/parse.c"
break;
case 45:
#line 388 "shared/parse.y"
	{
			set_file(&curlisten->ca, yystack.l_mark[0].v.string, "client ca");
		}
#line 2761 "obj2/shared/parse.c"
break;
case 46:
#line 391 "shared/parse.y"
	{
			if (strcmp(yystack.l_mark[-1].v.string, "1.2") != 0)
				yyerror("only \"tls 1.2 allow\" is supported; "
				    "TLS 1.3 is always allowed");
			else if (once(&blockseen, SEEN_TLS12, "tls") == 0)
				curlisten->tls12 = 1;
		}
#line 2772 "obj2/shared/parse.c"
break;
case 47:
#line 398 "shared/parse.y"
	{
			if (once(&blockseen, SEEN_VERIFY,
			    "client certificate") == 0)
				curlisten->verify_client = 0;
		}
#line 2781 "obj2/shared/parse.c"
break;
case 48:
#line 405 "shared/parse.y"
	{ yyval.v.number = SIGNER_PKCS11; }
#line 2786 "obj2/shared/parse.c"
break;
case 49:
#line 406 "shared/parse.y"
	{ yyval.v.number = SIGNER_OPENSSL; }
#line 2791 "obj2/shared/parse.c"
break;
case 50:
#line 407 "shared/parse.y"
	{ yyval.v.number = SIGNER_KMIP; }
#line 2796 "obj2/shared/parse.c"
break;
case 51:
#line 410 "shared/parse.y"
	{
			signer_start(yystack.l_mark[-1].v.string, yystack.l_mark[0].v.number, yystack.l_mark[-2].lineno);
		}
#line 2803 "obj2/shared/parse.c"
break;
case 52:
#line 412 "shared/parse.y"
	{
			signer_end();
		}
#line 2810 "obj2/shared/parse.c"
break;
case 58:
#line 424 "shared/parse.y"
	{ yyerrok; }
#line 2815 "obj2/shared/parse.c"
break;
case 60:
#line 430 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "module") == -1 ||
			    check_absolute("module", yystack.l_mark[0].v.string) == -1)
				break;
			set_string(&cursigner->module, yystack.l_mark[0].v.string, "module");
			if (!(conf_flags & CONF_NOCHECK_FILES)) {
				struct stat	 st;
				char		 path[PATH_MAX];

				if (stat(yystack.l_mark[0].v.string, &st) == -1 ||
				    realpath(yystack.l_mark[0].v.string, path) == NULL) {
					yyerror("pkcs11 module \"%s\": %s",
					    yystack.l_mark[0].v.string, strerror(errno));
					break;
				}
				if (!S_ISREG(st.st_mode)) {
					yyerror("pkcs11 module \"%s\" is not "
					    "a regular file", yystack.l_mark[0].v.string);
					break;
				}
				free(cursigner->module);
				cursigner->module = xstrdup(path);
			}
		}
#line 2843 "obj2/shared/parse.c"
break;
case 61:
#line 454 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "token") == -1)
				break;
			if (*yystack.l_mark[0].v.string == '\0' || strlen(yystack.l_mark[0].v.string) > 32) {
				yyerror("token label must be 1 to 32 "
				    "characters");
				break;
			}
			set_string(&cursigner->token, yystack.l_mark[0].v.string, "token");
		}
#line 2857 "obj2/shared/parse.c"
break;
case 62:
#line 464 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "serial") == -1)
				break;
			if (*yystack.l_mark[0].v.string == '\0' || strlen(yystack.l_mark[0].v.string) > 16) {
				yyerror("token serial number must be 1 to 16 "
				    "characters");
				break;
			}
			set_string(&cursigner->serial, yystack.l_mark[0].v.string, "serial");
		}
#line 2871 "obj2/shared/parse.c"
break;
case 63:
#line 474 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "slot") == 0 &&
			    once(&blockseen, SEEN_SLOT, "slot") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 0, LLONG_MAX, "slot") == 0)
				cursigner->slot = yystack.l_mark[0].v.number;
		}
#line 2881 "obj2/shared/parse.c"
break;
case 64:
#line 480 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "pin") == -1 ||
			    once(&blockseen, SEEN_PIN, "pin") == -1 ||
			    check_envname(yystack.l_mark[0].v.string) == -1)
				break;
			cursigner->pin_src = SECRET_ENV;
			cursigner->pin_ref = xstrdup(yystack.l_mark[0].v.string);
		}
#line 2893 "obj2/shared/parse.c"
break;
case 65:
#line 488 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "pin") == -1 ||
			    once(&blockseen, SEEN_PIN, "pin") == -1 ||
			    check_secret("pin file", yystack.l_mark[0].v.string) == -1)
				break;
			cursigner->pin_src = SECRET_FILE;
			cursigner->pin_ref = xstrdup(yystack.l_mark[0].v.string);
		}
#line 2905 "obj2/shared/parse.c"
break;
case 66:
#line 496 "shared/parse.y"
	{
			yyerror("a PIN cannot be written in the configuration; "
			    "use pin env \"VARIABLE\" or pin file \"path\"");
		}
#line 2913 "obj2/shared/parse.c"
break;
case 67:
#line 500 "shared/parse.y"
	{
			yyerror("a PIN cannot be written in the configuration; "
			    "use pin env \"VARIABLE\" or pin file \"path\"");
		}
#line 2921 "obj2/shared/parse.c"
break;
case 68:
#line 504 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "login") == 0 &&
			    once(&blockseen, SEEN_LOGIN, "login") == 0)
				cursigner->login = yystack.l_mark[0].v.number;
		}
#line 2930 "obj2/shared/parse.c"
break;
case 69:
#line 509 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "keepalive") == 0 &&
			    once(&blockseen, SEEN_KEEPALIVE, "keepalive") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 0, 86400, "keepalive") == 0)
				cursigner->keepalive = yystack.l_mark[0].v.number;
		}
#line 2940 "obj2/shared/parse.c"
break;
case 70:
#line 515 "shared/parse.y"
	{
			if (signer_is(SIGNER_PKCS11, "sessions") == 0 &&
			    once(&blockseen, SEEN_SESSIONS, "sessions") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 1, SIGNER_SESSIONS_MAX,
			    "sessions") == 0)
				cursigner->sessions = yystack.l_mark[0].v.number;
		}
#line 2951 "obj2/shared/parse.c"
break;
case 71:
#line 522 "shared/parse.y"
	{
			if (once(&blockseen, SEEN_TIMEOUT, "timeout") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 1, 3600, "timeout") == 0)
				cursigner->timeout = yystack.l_mark[0].v.number;
		}
#line 2960 "obj2/shared/parse.c"
break;
case 72:
#line 527 "shared/parse.y"
	{
			if (signer_is(SIGNER_OPENSSL, "wrap with") == 0)
				set_string(&cursigner->wrap_with, yystack.l_mark[0].v.string,
				    "wrap with");
		}
#line 2969 "obj2/shared/parse.c"
break;
case 73:
#line 532 "shared/parse.y"
	{
			if (signer_is(SIGNER_OPENSSL, "kek file") == -1)
				break;
			if (cursigner->kek_file != NULL)
				yyerror("duplicate kek file");
			else if (check_secret("kek file", yystack.l_mark[0].v.string) == 0)
				cursigner->kek_file = xstrdup(yystack.l_mark[0].v.string);
		}
#line 2981 "obj2/shared/parse.c"
break;
case 74:
#line 540 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "host") == -1)
				break;
			if (*yystack.l_mark[0].v.string == '\0')
				yyerror("empty host");
			else
				set_string(&cursigner->host, yystack.l_mark[0].v.string, "host");
		}
#line 2993 "obj2/shared/parse.c"
break;
case 75:
#line 548 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "port") == 0 &&
			    once(&blockseen, SEEN_PORT, "port") == 0 &&
			    check_range(yystack.l_mark[0].v.number, 1, 65535, "port") == 0)
				cursigner->port = yystack.l_mark[0].v.number;
		}
#line 3003 "obj2/shared/parse.c"
break;
case 76:
#line 554 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "ca") == 0)
				set_file(&cursigner->ca, yystack.l_mark[0].v.string, "ca");
		}
#line 3011 "obj2/shared/parse.c"
break;
case 77:
#line 558 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "certificate") == 0)
				set_file(&cursigner->cert, yystack.l_mark[0].v.string, "certificate");
		}
#line 3019 "obj2/shared/parse.c"
break;
case 78:
#line 562 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "key") == 0)
				set_file(&cursigner->key, yystack.l_mark[0].v.string, "key");
		}
#line 3027 "obj2/shared/parse.c"
break;
case 79:
#line 566 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "username") == -1)
				break;
			if (*yystack.l_mark[0].v.string == '\0')
				yyerror("empty username");
			else
				set_string(&cursigner->username, yystack.l_mark[0].v.string,
				    "username");
		}
#line 3040 "obj2/shared/parse.c"
break;
case 80:
#line 575 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "password") == -1 ||
			    once(&blockseen, SEEN_PASSWORD, "password") == -1 ||
			    check_envname(yystack.l_mark[0].v.string) == -1)
				break;
			cursigner->password_src = SECRET_ENV;
			cursigner->password_ref = xstrdup(yystack.l_mark[0].v.string);
		}
#line 3052 "obj2/shared/parse.c"
break;
case 81:
#line 583 "shared/parse.y"
	{
			if (signer_is(SIGNER_KMIP, "password") == -1 ||
			    once(&blockseen, SEEN_PASSWORD, "password") == -1 ||
			    check_secret("password file", yystack.l_mark[0].v.string) == -1)
				break;
			cursigner->password_src = SECRET_FILE;
			cursigner->password_ref = xstrdup(yystack.l_mark[0].v.string);
		}
#line 3064 "obj2/shared/parse.c"
break;
case 82:
#line 591 "shared/parse.y"
	{
			yyerror("a password cannot be written in the "
			    "configuration; use password env \"VARIABLE\" or "
			    "password file \"path\"");
		}
#line 3073 "obj2/shared/parse.c"
break;
case 83:
#line 596 "shared/parse.y"
	{
			yyerror("a password cannot be written in the "
			    "configuration; use password env \"VARIABLE\" or "
			    "password file \"path\"");
		}
#line 3082 "obj2/shared/parse.c"
break;
#line 3084 "obj2/shared/parse.c"
    default:
        break;
    }
    yystack.s_mark -= yym;
    yystate = *yystack.s_mark;
    yystack.l_mark -= yym;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark -= yym;
#endif
    yym = yylhs[yyn];
    if (yystate == 0 && yym == 0)
    {
#if YYDEBUG
        if (yydebug)
        {
            fprintf(stderr, "%s[%d]: after reduction, ", YYDEBUGSTR, yydepth);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
            if (!yytrial)
#endif /* YYBTYACC */
                fprintf(stderr, "result is <%s>, ", YYSTYPE_TOSTRING(yystos[YYFINAL], yyval));
#endif
            fprintf(stderr, "shifting from state 0 to final state %d\n", YYFINAL);
        }
#endif
        yystate = YYFINAL;
        *++yystack.s_mark = YYFINAL;
        *++yystack.l_mark = yyval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        *++yystack.p_mark = yyloc;
#endif
        if (yychar < 0)
        {
#if YYBTYACC
            do {
            if (yylvp < yylve)
            {
                /* we're currently re-reading tokens */
                yylval = *yylvp++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylloc = *yylpp++;
#endif
                yychar = *yylexp++;
                break;
            }
            if (yyps->save)
            {
                /* in trial mode; save scanner results for future parse attempts */
                if (yylvp == yylvlim)
                {   /* Enlarge lexical value queue */
                    size_t p = (size_t) (yylvp - yylvals);
                    size_t s = (size_t) (yylvlim - yylvals);

                    s += YYLVQUEUEGROWTH;
                    if ((yylexemes = (YYINT *)realloc(yylexemes, s * sizeof(YYINT))) == NULL)
                        goto yyenomem;
                    if ((yylvals   = (YYSTYPE *)realloc(yylvals, s * sizeof(YYSTYPE))) == NULL)
                        goto yyenomem;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    if ((yylpsns   = (YYLTYPE *)realloc(yylpsns, s * sizeof(YYLTYPE))) == NULL)
                        goto yyenomem;
#endif
                    yylvp   = yylve = yylvals + p;
                    yylvlim = yylvals + s;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    yylpp   = yylpe = yylpsns + p;
                    yylplim = yylpsns + s;
#endif
                    yylexp  = yylexemes + p;
                }
                *yylexp = (YYINT) YYLEX;
                *yylvp++ = yylval;
                yylve++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                *yylpp++ = yylloc;
                yylpe++;
#endif
                yychar = *yylexp++;
                break;
            }
            /* normal operation, no conflict encountered */
#endif /* YYBTYACC */
            yychar = YYLEX;
#if YYBTYACC
            } while (0);
#endif /* YYBTYACC */
            if (yychar < 0) yychar = YYEOF;
#if YYDEBUG
            if (yydebug)
            {
                if ((yys = yyname[YYTRANSLATE(yychar)]) == NULL) yys = yyname[YYUNDFTOKEN];
                fprintf(stderr, "%s[%d]: state %d, reading token %d (%s)\n",
                                YYDEBUGSTR, yydepth, YYFINAL, yychar, yys);
            }
#endif
        }
        if (yychar == YYEOF) goto yyaccept;
        goto yyloop;
    }
    if (((yyn = yygindex[yym]) != 0) && (yyn += yystate) >= 0 &&
            yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yystate)
        yystate = yytable[yyn];
    else
        yystate = yydgoto[yym];
#if YYDEBUG
    if (yydebug)
    {
        fprintf(stderr, "%s[%d]: after reduction, ", YYDEBUGSTR, yydepth);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
        if (!yytrial)
#endif /* YYBTYACC */
            fprintf(stderr, "result is <%s>, ", YYSTYPE_TOSTRING(yystos[yystate], yyval));
#endif
        fprintf(stderr, "shifting from state %d to state %d\n", *yystack.s_mark, yystate);
    }
#endif
    if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
    *++yystack.s_mark = (YYINT) yystate;
    *++yystack.l_mark = yyval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    *++yystack.p_mark = yyloc;
#endif
    goto yyloop;
#if YYBTYACC

    /* Reduction declares that this path is valid. Set yypath and do a full parse */
yyvalid:
    if (yypath) YYABORT;
    while (yyps->save)
    {
        YYParseState *save = yyps->save;
        yyps->save = save->save;
        save->save = yypath;
        yypath = save;
    }
#if YYDEBUG
    if (yydebug)
        fprintf(stderr, "%s[%d]: state %d, CONFLICT trial successful, backtracking to state %d, %d tokens\n",
                        YYDEBUGSTR, yydepth, yystate, yypath->state, (int)(yylvp - yylvals - yypath->lexeme));
#endif
    if (yyerrctx)
    {
        yyFreeState(yyerrctx);
        yyerrctx = NULL;
    }
    yylvp          = yylvals + yypath->lexeme;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yylpp          = yylpsns + yypath->lexeme;
#endif
    yylexp         = yylexemes + yypath->lexeme;
    yychar         = YYEMPTY;
    yystack.s_mark = yystack.s_base + (yypath->yystack.s_mark - yypath->yystack.s_base);
    memcpy (yystack.s_base, yypath->yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
    yystack.l_mark = yystack.l_base + (yypath->yystack.l_mark - yypath->yystack.l_base);
    memcpy (yystack.l_base, yypath->yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark = yystack.p_base + (yypath->yystack.p_mark - yypath->yystack.p_base);
    memcpy (yystack.p_base, yypath->yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
    yystate        = yypath->state;
    goto yyloop;
#endif /* YYBTYACC */

yyoverflow:
    YYERROR_CALL("yacc stack overflow");
#if YYBTYACC
    goto yyabort_nomem;
yyenomem:
    YYERROR_CALL("memory exhausted");
yyabort_nomem:
#endif /* YYBTYACC */
    yyresult = 2;
    goto yyreturn;

yyabort:
    yyresult = 1;
    goto yyreturn;

yyaccept:
#if YYBTYACC
    if (yyps->save) goto yyvalid;
#endif /* YYBTYACC */
    yyresult = 0;

yyreturn:
#if defined(YYDESTRUCT_CALL)
    if (yychar != YYEOF && yychar != YYEMPTY)
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        YYDESTRUCT_CALL("cleanup: discarding token", yychar, &yylval, &yylloc);
#else
        YYDESTRUCT_CALL("cleanup: discarding token", yychar, &yylval);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */

    {
        YYSTYPE *pv;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        YYLTYPE *pp;

        for (pv = yystack.l_base, pp = yystack.p_base; pv <= yystack.l_mark; ++pv, ++pp)
             YYDESTRUCT_CALL("cleanup: discarding state",
                             yystos[*(yystack.s_base + (pv - yystack.l_base))], pv, pp);
#else
        for (pv = yystack.l_base; pv <= yystack.l_mark; ++pv)
             YYDESTRUCT_CALL("cleanup: discarding state",
                             yystos[*(yystack.s_base + (pv - yystack.l_base))], pv);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
    }
#endif /* defined(YYDESTRUCT_CALL) */

#if YYBTYACC
    if (yyerrctx)
    {
        yyFreeState(yyerrctx);
        yyerrctx = NULL;
    }
    while (yyps)
    {
        YYParseState *save = yyps;
        yyps = save->save;
        save->save = NULL;
        yyFreeState(save);
    }
    while (yypath)
    {
        YYParseState *save = yypath;
        yypath = save->save;
        save->save = NULL;
        yyFreeState(save);
    }
#endif /* YYBTYACC */
    yyfreestack(&yystack);
    return (yyresult);
}
