/*
 * signerctl: control a running signerd over its UNIX control socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "imsg.h"
#include "json.h"
#include "log.h"
#include "signerd.h"
#include "signerctl.h"

enum action {
	SHOW_STATUS,
	SHOW_SIGNERS,
	SHOW_SIGNERS_DETAIL,
	CHECK,
	SHOW_DAMAGED,
	DESTROY,
	ADOPT,
	RELOAD,
	RESTART_SIGNER,
	REWRAP,
	LOG_VERBOSE,
	LOG_BRIEF,
	SHOW_METRICS
};

/* The commands, as words; arg names the argument of those taking one. */
static const struct command {
	const char	*words[3];
	enum action	 action;
	const char	*arg;
} commands[] = {
	{ { "show", "status" },		SHOW_STATUS,	NULL },
	{ { "show", "signers" },	SHOW_SIGNERS,	NULL },
	{ { "show", "signers", "detail" }, SHOW_SIGNERS_DETAIL, NULL },
	{ { "check" },			CHECK,		NULL },
	{ { "check" },			CHECK,		"SIGNER" },
	{ { "show", "damaged" },	SHOW_DAMAGED,	NULL },
	{ { "show", "metrics" },	SHOW_METRICS,	NULL },
	{ { "destroy" },		DESTROY,	"ID" },
	{ { "reload" },			RELOAD,		NULL },
	{ { "restart", "signer" },	RESTART_SIGNER,	"NAME" },
	{ { "rewrap" },			REWRAP,		"SIGNER" },
	{ { "log", "verbose" },		LOG_VERBOSE,	NULL },
	{ { "log", "brief" },		LOG_BRIEF,	NULL },
};

/*
 * With -j, the answer as one JSON document (docs/signerctl.8), built in
 * memory and printed whole once the answer is complete: an error from
 * the daemon leaves nothing half-written on stdout.
 */
static struct json	 json, *jout;
static FILE		*jfp;
static char		*jbuf;
static size_t		 jlen;
static int		 jopen;		/* 1: opened, 2: finished */
static int		 check_passed = 1;

static __dead void	 usage(void);
static void		 jout_print(int);
static const struct command *parse(int, char *[], const char **);
static int		 parse_adopt(int, char *[], struct ctl_adopt *);
static void		 safe_print(FILE *, const char *, int);
static void		 print_uptime(int64_t);
static const char	*object_type_name(uint32_t);
static const char	*object_state_name(uint32_t);
static void		 print_sessions(const struct signer_status *);
static void		 print_wrapped(const char *, const char *, int);
static void		 print_detail(const struct ctl_signer *);
static void		 print_check(const struct ctl_check *, int *);
static int		 show_reply(enum action, struct imsg *, int *);
static void		 json_begin(enum action);
static void		 json_end(enum action, int);
static void		 json_process(const struct proc_info *, int);
static void		 json_signer(const struct ctl_signer *, int);
static void		 json_object(const struct ctl_object *);
static void		 json_check(const struct ctl_check *, int *);
static const char	*check_result(int, const char *, int *);
static void		 json_nstring(struct json *, const char *,
			    const char *);
static int		 json_action(enum action);
static void		 print_metrics(struct imsg *);

static __dead void
usage(void)
{
	extern char	*__progname;
	size_t		 i, j;

	fprintf(stderr, "usage: %s [-j] [-s socket] command [argument]\n"
	    "commands:\n", __progname);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(stderr, "\t");
		for (j = 0; j < 3 && commands[i].words[j] != NULL; j++)
			fprintf(stderr, "%s%s", j ? " " : "",
			    commands[i].words[j]);
		if (commands[i].arg != NULL)
			fprintf(stderr, " %s", commands[i].arg);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "\tadopt SIGNER label LABEL | id HEX owner NAME "
	    "[name KMIP-NAME]\n");
	grants_usage(stderr);
	fprintf(stderr, "\taudit verify [FILE ...]\n");
	exit(1);
}

/*
 * adopt SIGNER (label LABEL | id HEX) owner NAME [name KMIP-NAME]:
 * 0 and ca filled in, or -1 (usage).  Errors in a value exit here.
 */
static int
parse_adopt(int argc, char *argv[], struct ctl_adopt *ca)
{
	const char	*v;
	size_t		 len, i;
	int		 a, hi, lo;

	memset(ca, 0, sizeof(*ca));
	if ((argc != 6 && argc != 8) || strcmp(argv[0], "adopt") != 0 ||
	    strcmp(argv[4], "owner") != 0 ||
	    (argc == 8 && strcmp(argv[6], "name") != 0))
		return (-1);
	if (strlcpy(ca->signer, argv[1], sizeof(ca->signer)) >=
	    sizeof(ca->signer) || argv[1][0] == '\0')
		errx(1, "bad signer name: %s", argv[1]);
	v = argv[3];
	len = strlen(v);
	if (strcmp(argv[2], "label") == 0) {
		if (len == 0 || len > sizeof(ca->value))
			errx(1, "a label is 1 to %zu bytes", sizeof(ca->value));
		ca->by = 1;	/* HSM_FIND_LABEL */
		memcpy(ca->value, v, len);
		ca->len = len;
	} else if (strcmp(argv[2], "id") == 0) {
		/* CKA_ID in hex, as pkcs11-tool --list-objects shows it. */
		if (len == 0 || len % 2 != 0 || len / 2 > 64)
			errx(1, "an id is 1 to 64 bytes in hex: %s", v);
		for (i = 0; i < len / 2; i++) {
			a = tolower((unsigned char)v[2 * i]);
			hi = isdigit(a) ? a - '0' : a >= 'a' && a <= 'f' ?
			    a - 'a' + 10 : -1;
			a = tolower((unsigned char)v[2 * i + 1]);
			lo = isdigit(a) ? a - '0' : a >= 'a' && a <= 'f' ?
			    a - 'a' + 10 : -1;
			if (hi == -1 || lo == -1)
				errx(1, "an id is in hex: %s", v);
			ca->value[i] = hi << 4 | lo;
		}
		ca->by = 2;	/* HSM_FIND_ID */
		ca->len = len / 2;
	} else
		return (-1);
	if (argv[5][0] == '\0' || strlcpy(ca->owner, argv[5],
	    sizeof(ca->owner)) >= sizeof(ca->owner))
		errx(1, "bad owner: %s", argv[5]);
	if (argc == 8 && (argv[7][0] == '\0' || strlcpy(ca->name, argv[7],
	    sizeof(ca->name)) >= sizeof(ca->name)))
		errx(1, "bad name: %s", argv[7]);
	return (0);
}

static const struct command *
parse(int argc, char *argv[], const char **arg)
{
	const struct command	*c;
	size_t			 i;
	int			 j, n;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		c = &commands[i];
		for (n = 0; n < 3 && c->words[n] != NULL; n++)
			;
		if (argc != n + (c->arg != NULL))
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(argv[j], c->words[j]) != 0)
				break;
		if (j < n)
			continue;
		*arg = c->arg != NULL ? argv[n] : NULL;
		return (c);
	}
	return (NULL);
}

int
main(int argc, char *argv[])
{
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct ctl_destroy	 cd;
	struct ctl_adopt	 ca;
	static const struct command adopt = { { "adopt" }, ADOPT, NULL };
	const struct command	*cmd;
	const char		*sock = SIGNERD_SOCKET, *arg = NULL;
	char			 name[SIGNER_NAME_MAX];
	int			 ch, fd, done = 0, rv = 0, verbose;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j':
			if (jout == NULL) {
				if ((jfp = open_memstream(&jbuf, &jlen)) ==
				    NULL)
					err(1, "open_memstream");
				json_init(&json, jfp);
				jout = &json;
			}
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 2 && strcmp(argv[0], "audit") == 0 &&
	    strcmp(argv[1], "verify") == 0) {
		if (jout != NULL)
			errx(1, "-j: no JSON form of this command");
		return (audit_verify_main(sock, argc - 2, argv + 2));
	}
	if ((rv = grants_command(argc, argv, sock, jout)) != -1) {
		/* Its JSON document is whole if the command succeeded. */
		jout_print(rv == 0);
		return (rv);
	}
	rv = 0;
	if (argc > 0 && strcmp(argv[0], "adopt") == 0) {
		if (parse_adopt(argc, argv, &ca) == -1)
			usage();
		cmd = &adopt;
	} else if ((cmd = parse(argc, argv, &arg)) == NULL)
		usage();
	if ((cmd->action == RESTART_SIGNER || cmd->action == REWRAP ||
	    (cmd->action == CHECK && arg != NULL)) &&
	    strlen(arg) >= SIGNER_NAME_MAX)
		errx(1, "signer name too long: %s", arg);
	if (jout != NULL && !json_action(cmd->action))
		errx(1, "-j: no JSON form of this command");
	if (cmd->action == DESTROY && (arg[0] == '\0' ||
	    strlen(arg) >= CTL_ID_MAX))
		errx(1, "not an object id: %s", arg);

	fd = ctl_connect(sock, &ibuf, NULL);

	switch (cmd->action) {
	case SHOW_STATUS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_STATUS, IMSG_VERSION, 0, -1,
		    NULL, 0);
		if (jout == NULL)
			printf("%-9s %-16s %-8s %-9s %-8s %s\n", "KIND",
			    "NAME", "PID", "STATE", "RESTARTS", "UPTIME");
		break;
	case SHOW_SIGNERS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_SIGNERS, IMSG_VERSION, 0, -1,
		    NULL, 0);
		if (jout == NULL)
			printf("%-16s %-8s %-8s %-9s %-12s %-8s %s\n",
			    "NAME", "TYPE", "PID", "PROCESS", "STATE",
			    "RESTARTS", "DETAIL");
		break;
	case SHOW_SIGNERS_DETAIL:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_SIGNERS, IMSG_VERSION, 0, -1,
		    NULL, 0);
		break;
	case CHECK:
		memset(name, 0, sizeof(name));
		if (arg != NULL)
			(void)strlcpy(name, arg, sizeof(name));
		imsg_compose(&ibuf, IMSG_CTL_CHECK, IMSG_VERSION, 0, -1,
		    name, sizeof(name));
		break;
	case SHOW_DAMAGED:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_DAMAGED, IMSG_VERSION, 0, -1,
		    NULL, 0);
		if (jout == NULL)
			printf("%-36s %-16s %-13s %-12s %s\n", "ID", "OWNER",
			    "TYPE", "STATE", "WHY");
		break;
	case SHOW_METRICS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_METRICS, IMSG_VERSION, 0, -1,
		    NULL, 0);
		break;
	case DESTROY:
		memset(&cd, 0, sizeof(cd));
		(void)strlcpy(cd.id, arg, sizeof(cd.id));
		imsg_compose(&ibuf, IMSG_CTL_DESTROY, IMSG_VERSION, 0, -1,
		    &cd, sizeof(cd));
		break;
	case ADOPT:
		imsg_compose(&ibuf, IMSG_CTL_ADOPT, IMSG_VERSION, 0, -1,
		    &ca, sizeof(ca));
		break;
	case RELOAD:
		imsg_compose(&ibuf, IMSG_CTL_RELOAD, IMSG_VERSION, 0, -1,
		    NULL, 0);
		break;
	case RESTART_SIGNER:
		memset(name, 0, sizeof(name));
		(void)strlcpy(name, arg, sizeof(name));
		imsg_compose(&ibuf, IMSG_CTL_RESTART, IMSG_VERSION, 0, -1,
		    name, sizeof(name));
		break;
	case REWRAP:
		memset(name, 0, sizeof(name));
		(void)strlcpy(name, arg, sizeof(name));
		imsg_compose(&ibuf, IMSG_CTL_REWRAP, IMSG_VERSION, 0, -1,
		    name, sizeof(name));
		break;
	case LOG_VERBOSE:
	case LOG_BRIEF:
		verbose = cmd->action == LOG_VERBOSE;
		imsg_compose(&ibuf, IMSG_CTL_LOG, IMSG_VERSION, 0, -1,
		    &verbose, sizeof(verbose));
		break;
	}
	if (imsgbuf_flush(&ibuf) == -1)
		err(1, "write to %s", sock);

	while (!done) {
		ctl_read(&ibuf, &imsg, sock);
		done = show_reply(cmd->action, &imsg, &rv);
		imsg_free(&imsg);
	}
	imsgbuf_clear(&ibuf);
	close(fd);
	jout_print(jopen == 2);
	return (rv);
}

/* With -j, the document built in memory to stdout, if it is whole. */
static void
jout_print(int whole)
{
	if (jout == NULL)
		return;
	if (fclose(jfp) == EOF)
		err(1, "json");
	if (whole && (fwrite(jbuf, 1, jlen, stdout) != jlen ||
	    fflush(stdout) == EOF))
		err(1, "stdout");
	free(jbuf);
	jout = NULL;
}

/* The commands that have a JSON form. */
static int
json_action(enum action action)
{
	switch (action) {
	case SHOW_STATUS:
	case SHOW_SIGNERS:
	case SHOW_SIGNERS_DETAIL:
	case SHOW_DAMAGED:
	case CHECK:
		return (1);
	default:
		return (0);
	}
}

/*
 * The control socket, connected, in ibuf; its descriptor.  hint follows
 * the error if the daemon is not there.
 */
int
ctl_connect(const char *sock, struct imsgbuf *ibuf, const char *hint)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sock, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "socket path too long: %s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s%s", sock, hint != NULL ? hint : "");
	if (imsgbuf_init(ibuf, fd) == -1)
		err(1, "imsgbuf_init");
	return (fd);
}

/* The next message from the daemon, waiting for it. */
void
ctl_read(struct imsgbuf *ibuf, struct imsg *imsg, const char *sock)
{
	ssize_t	 n;

	while ((n = imsg_get(ibuf, imsg)) == 0) {
		switch (imsgbuf_read(ibuf)) {
		case -1:
			err(1, "read from %s", sock);
		case 0:
			errx(1, "signerd closed the connection");
		}
	}
	if (n == -1)
		errx(1, "bad reply from signerd");
}

/* Print what the daemon sent, escaping anything that is not printable. */
static void
safe_print(FILE *f, const char *s, int width)
{
	int	 n = 0;

	for (; *s != '\0'; s++, n++)
		putc(isprint((unsigned char)*s) ? *s : '?', f);
	for (; n < width; n++)
		putc(' ', f);
}

static void
print_uptime(int64_t started)
{
	int64_t	 t = time(NULL) - started;

	if (started <= 0)
		printf("-");
	else if (t < 60)
		printf("%llds", (long long)t);
	else if (t < 3600)
		printf("%lldm%02llds", (long long)t / 60, (long long)t % 60);
	else if (t < 86400)
		printf("%lldh%02lldm", (long long)t / 3600,
		    (long long)(t % 3600) / 60);
	else
		printf("%lldd%02lldh", (long long)t / 86400,
		    (long long)(t % 86400) / 3600);
}

/* KMIP Object Type and State, as the specification names them. */
static const char *
object_type_name(uint32_t type)
{
	static const char *names[] = { "-", "Certificate", "SymmetricKey",
	    "PublicKey", "PrivateKey", "SplitKey", "Template", "SecretData",
	    "OpaqueObject" };

	return (type < sizeof(names) / sizeof(names[0]) ? names[type] : "?");
}

static const char *
object_state_name(uint32_t state)
{
	static const char *names[] = { "-", "Pre-Active", "Active",
	    "Deactivated", "Compromised", "Destroyed",
	    "Destroyed-Comp" };

	return (state < sizeof(names) / sizeof(names[0]) ? names[state] :
	    "?");
}

/*
 * A pkcs11 signer's pool, at the end of its line (scripts read the
 * columns before): "; sessions 4/4, 1 running (at most 4), 0 queued,
 * 42 ops: 11 10 11 10", the operations of each session last.
 */
static void
print_sessions(const struct signer_status *st)
{
	int	 i, n;

	printf("; sessions %d/%d, %d running (at most %d), %d queued, "
	    "%llu ops", st->open, st->sessions, st->running, st->peak,
	    st->queued, (unsigned long long)st->ops);
	n = st->sessions < SIGNER_STAT_SESSIONS ? st->sessions :
	    SIGNER_STAT_SESSIONS;
	printf(":");
	for (i = 0; i < n; i++)
		printf(" %llu", (unsigned long long)st->sess_ops[i]);
	if (st->sessions > n)
		printf(" ...");
}

/* One reply; returns 1 when the answer is complete. */
static int
show_reply(enum action action, struct imsg *imsg, int *rv)
{
	struct proc_info	 pi;
	struct ctl_signer	 cs;
	struct ctl_object	 co;
	struct ctl_result	 res;
	struct ctl_check	 cc;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_PROC:
		if (action != SHOW_STATUS ||
		    imsg_get_data(imsg, &pi, sizeof(pi)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(pi.name, sizeof(pi.name));
		if (jout != NULL) {
			json_begin(action);
			json_process(&pi, 1);
			return (0);
		}
		printf("%-9s ", proc_kind_name(pi.kind));
		safe_print(stdout, pi.name[0] != '\0' ? pi.name : "-", 16);
		printf(" %-8lld %-9s %-8u ", (long long)pi.pid,
		    proc_state_name(pi.state), pi.restarts);
		if (pi.state == PSTATE_RUNNING)
			print_uptime(pi.started);
		else
			printf("-");
		printf("\n");
		return (0);
	case IMSG_CTL_SIGNER:
		if ((action != SHOW_SIGNERS && action != SHOW_SIGNERS_DETAIL) ||
		    imsg_get_data(imsg, &cs, sizeof(cs)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(cs.proc.name, sizeof(cs.proc.name));
		strterm(cs.status.detail, sizeof(cs.status.detail));
		if (jout != NULL) {
			json_begin(action);
			json_signer(&cs, action == SHOW_SIGNERS_DETAIL);
			return (0);
		}
		if (action == SHOW_SIGNERS_DETAIL) {
			print_detail(&cs);
			return (0);
		}
		safe_print(stdout, cs.proc.name, 16);
		printf(" %-8s %-8lld %-9s %-12s %-8u ",
		    cs.proc.type ? signer_type_name(cs.proc.type) : "-", (long long)cs.proc.pid,
		    proc_state_name(cs.proc.state),
		    signer_state_name(cs.status.state), cs.proc.restarts);
		safe_print(stdout, cs.status.detail, 0);
		if (cs.status.sessions > 0)
			print_sessions(&cs.status);
		printf("\n");
		return (0);
	case IMSG_CTL_OBJECT:
		if (action != SHOW_DAMAGED ||
		    imsg_get_data(imsg, &co, sizeof(co)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(co.id, sizeof(co.id));
		strterm(co.owner, sizeof(co.owner));
		strterm(co.why, sizeof(co.why));
		if (jout != NULL) {
			json_begin(action);
			json_object(&co);
			return (0);
		}
		safe_print(stdout, co.id, 36);
		printf(" ");
		safe_print(stdout, co.owner[0] != '\0' ? co.owner : "-", 16);
		printf(" %-13s %-12s ", object_type_name(co.type),
		    object_state_name(co.state));
		safe_print(stdout, co.why, 0);
		printf("\n");
		return (0);
	case IMSG_CTL_CHECK:
		if (action != CHECK ||
		    imsg_get_data(imsg, &cc, sizeof(cc)) == -1)
			errx(1, "unexpected reply from signerd");
		if (jout != NULL) {
			json_begin(action);
			json_check(&cc, rv);
			return (0);
		}
		print_check(&cc, rv);
		return (0);
	case IMSG_CTL_METRICS:
		if (action != SHOW_METRICS)
			errx(1, "unexpected reply from signerd");
		print_metrics(imsg);
		return (0);
	case IMSG_CTL_END:
		if (jout != NULL) {
			json_end(action, *rv == 0);
			return (1);
		}
		if (action == CHECK && *rv == 0)
			printf("all checks passed\n");
		if (action == SHOW_METRICS && fflush(stdout) == EOF)
			err(1, "stdout");
		return (1);
	case IMSG_CTL_RESULT:
		if (imsg_get_data(imsg, &res, sizeof(res)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(res.msg, sizeof(res.msg));
		if (res.code != CTL_OK) {
			fprintf(stderr, "signerctl: ");
			safe_print(stderr, res.msg, 0);
			fprintf(stderr, "\n");
			*rv = 1;
		} else {
			safe_print(stdout, res.msg, 0);
			printf("\n");
		}
		return (1);
	default:
		errx(1, "unexpected reply %u from signerd",
		    imsg_get_type(imsg));
	}
}

/*
 * show metrics: OpenMetrics text, in chunks, copied as it comes.  The
 * engine made it; anything but printable ASCII and newlines is not
 * passed to the terminal.
 */
static void
print_metrics(struct imsg *imsg)
{
	struct ibuf	 ib;
	const char	*p;
	size_t		 len, i;

	if ((len = imsg_get_len(imsg)) == 0)
		return;
	if (imsg_get_ibuf(imsg, &ib) == -1)
		errx(1, "unexpected reply from signerd");
	p = ibuf_data(&ib);
	for (i = 0; i < len; i++)
		putchar(p[i] == '\n' || isprint((unsigned char)p[i]) ?
		    p[i] : '?');
}

/*
 * -j: the document's object and the array that names what is listed,
 * opened with the first entry (or at the end, for an empty list).
 */
static void
json_begin(enum action action)
{
	const char	*what;

	if (jopen)
		return;
	switch (action) {
	case SHOW_STATUS:
		what = "processes";
		break;
	case SHOW_SIGNERS:
	case SHOW_SIGNERS_DETAIL:
		what = "signers";
		break;
	case SHOW_DAMAGED:
		what = "damaged";
		break;
	case CHECK:
		what = "checks";
		break;
	default:
		errx(1, "-j: no JSON form of this command");
	}
	json_object_open(jout, NULL);
	json_array_open(jout, what);
	jopen = 1;
}

/* The end of the answer: the document is complete (check: passed). */
static void
json_end(enum action action, int ok)
{
	json_begin(action);
	json_array_close(jout);
	if (action == CHECK)
		json_bool(jout, "passed", ok && check_passed);
	json_object_close(jout);
	json_finish(jout);
	jopen = 2;
}

/* A string, or null when it is empty. */
static void
json_nstring(struct json *j, const char *key, const char *val)
{
	if (val == NULL || val[0] == '\0')
		json_null(j, key);
	else
		json_string(j, key, val);
}

/*
 * A process: in show status with its kind and name, inside a signer
 * without them.  pid and started are null when it is not running.
 */
static void
json_process(const struct proc_info *pi, int named)
{
	int	 running = pi->state == PSTATE_RUNNING;

	json_object_open(jout, named ? NULL : "process");
	if (named) {
		json_string(jout, "kind", proc_kind_name(pi->kind));
		json_nstring(jout, "name", pi->name);
	}
	if (pi->pid > 0)
		json_int(jout, "pid", pi->pid);
	else
		json_null(jout, "pid");
	json_string(jout, "state", proc_state_name(pi->state));
	json_uint(jout, "restarts", pi->restarts);
	if (running && pi->started > 0)
		json_int(jout, "started", pi->started);
	else
		json_null(jout, "started");
	json_object_close(jout);
}

/* A signer; with detail, what show signers detail shows too. */
static void
json_signer(const struct ctl_signer *cs, int detail)
{
	struct signer_status	 st = cs->status;
	const char		*advice, *src;
	char			 name[64];
	int			 i, n;

	strterm(st.tok_label, sizeof(st.tok_label));
	strterm(st.tok_serial, sizeof(st.tok_serial));
	strterm(st.tok_model, sizeof(st.tok_model));
	strterm(st.tok_manuf, sizeof(st.tok_manuf));
	strterm(st.tok_firmware, sizeof(st.tok_firmware));
	strterm(st.last_error, sizeof(st.last_error));
	json_object_open(jout, NULL);
	json_string(jout, "name", cs->proc.name);
	if (cs->proc.type != 0)
		json_string(jout, "type", signer_type_name(cs->proc.type));
	else
		json_null(jout, "type");
	json_string(jout, "state", signer_state_name(st.state));
	json_nstring(jout, "detail", st.detail);
	json_process(&cs->proc, 0);
	if (st.sessions > 0) {
		json_object_open(jout, "sessions");
		json_int(jout, "configured", st.sessions);
		json_int(jout, "open", st.open);
		json_int(jout, "running", st.running);
		json_int(jout, "peak", st.peak);
		json_int(jout, "queued", st.queued);
		json_uint(jout, "ops", st.ops);
		json_array_open(jout, "session_ops");
		n = st.sessions < SIGNER_STAT_SESSIONS ? st.sessions :
		    SIGNER_STAT_SESSIONS;
		for (i = 0; i < n; i++)
			json_uint(jout, NULL, st.sess_ops[i]);
		json_array_close(jout);
		json_object_close(jout);
	} else
		json_null(jout, "sessions");
	if (!detail) {
		json_object_close(jout);
		return;
	}
	if (st.tok_label[0] != '\0') {
		json_object_open(jout, "token");
		json_string(jout, "label", st.tok_label);
		json_nstring(jout, "serial", st.tok_serial);
		json_nstring(jout, "manufacturer", st.tok_manuf);
		json_nstring(jout, "model", st.tok_model);
		json_nstring(jout, "firmware", st.tok_firmware);
		if (st.has_slot)
			json_uint(jout, "slot", st.slot);
		else
			json_null(jout, "slot");
		json_object_close(jout);
	} else
		json_null(jout, "token");
	json_uint(jout, "keys", st.keys);
	json_uint(jout, "requests", st.answered);
	json_uint(jout, "errors", st.errors);
	if (st.lat_n > 0) {
		json_object_open(jout, "latency");
		json_uint(jout, "count", st.lat_n);
		json_uint(jout, "p50_usec", st.lat_p50_us);
		json_uint(jout, "p99_usec", st.lat_p99_us);
		json_object_close(jout);
	} else
		json_null(jout, "latency");
	if (st.last_error_at > 0) {
		json_object_open(jout, "last_error");
		json_int(jout, "at", st.last_error_at);
		json_string(jout, "message", st.last_error);
		json_object_close(jout);
	} else
		json_null(jout, "last_error");
	/* As print_detail: the CKR of the state, else of the last error. */
	src = st.state != SSTATE_READY ? st.detail : st.last_error;
	if ((advice = p11_advice(src, name, sizeof(name))) == NULL &&
	    st.state != SSTATE_READY)
		advice = p11_advice(st.last_error, name, sizeof(name));
	if (advice != NULL) {
		json_object_open(jout, "advice");
		json_string(jout, "code", name);
		json_string(jout, "text", advice);
		json_object_close(jout);
	} else
		json_null(jout, "advice");
	json_object_close(jout);
}

/* A damaged object of show damaged. */
static void
json_object(const struct ctl_object *co)
{
	json_object_open(jout, NULL);
	json_string(jout, "id", co->id);
	json_nstring(jout, "owner", co->owner);
	json_string(jout, "type", object_type_name(co->type));
	json_string(jout, "state", object_state_name(co->state));
	json_string(jout, "why", co->why);
	json_object_close(jout);
}

/* A self-test step's result as printed; a step not passed fails. */
static const char *
check_result(int result, const char *fail, int *failed)
{
	if (result == CHECK_PASS)
		return ("pass");
	*failed = 1;
	return (result == CHECK_FAIL ? fail : "skip");
}

/* One signer's self-test, as print_check tells it. */
static void
json_check(const struct ctl_check *cc0, int *rv)
{
	struct ctl_check	 cc = *cc0;
	const char		*res;
	uint32_t		 i;
	int			 failed = 0;

	strterm(cc.signer, sizeof(cc.signer));
	if (cc.nsteps > CHECK_STEPS_MAX)
		errx(1, "unexpected reply from signerd");
	json_object_open(jout, NULL);
	json_string(jout, "signer", cc.signer);
	json_array_open(jout, "steps");
	for (i = 0; i < cc.nsteps; i++) {
		strterm(cc.steps[i].name, sizeof(cc.steps[i].name));
		strterm(cc.steps[i].detail, sizeof(cc.steps[i].detail));
		res = check_result(cc.steps[i].result, "fail", &failed);
		json_object_open(jout, NULL);
		json_string(jout, "name", cc.steps[i].name);
		json_string(jout, "result", res);
		if (cc.steps[i].usec > 0 || cc.steps[i].result != CHECK_SKIP)
			json_uint(jout, "usec", cc.steps[i].usec);
		else
			json_null(jout, "usec");
		json_nstring(jout, "detail", cc.steps[i].detail);
		json_object_close(jout);
	}
	json_array_close(jout);
	if (cc.nsteps == 0)
		failed = 1;
	json_bool(jout, "passed", !failed);
	json_object_close(jout);
	if (failed) {
		check_passed = 0;
		*rv = 1;
	}
}

/*
 * label, then text folded at 80 columns, continued under the text:
 * "  latency    p50 0.4 ms, ..." (indent: where the text starts).
 */
static void
print_wrapped(const char *label, const char *text, int indent)
{
	const char	*p = text, *sp;
	int		 col, w, room;
	char		 fill[64];

	(void)snprintf(fill, sizeof(fill), "%*s", indent - 2, "");
	printf("  %-*s", indent - 2, label);
	col = indent;
	while (*p != '\0') {
		room = 79 - col;
		w = strlen(p);
		if (w > room && room > 0) {
			/* The last blank that fits, else cut the word. */
			for (sp = p + room; sp > p && *sp != ' '; sp--)
				;
			w = sp > p ? sp - p : room;
		}
		for (; w > 0; w--, p++)
			putchar(isprint((unsigned char)*p) ? *p : '?');
		while (*p == ' ')
			p++;
		if (*p != '\0') {
			printf("\n  %s", fill);
			col = indent;
		}
	}
	printf("\n");
}

/* show signers detail: a block per signer, readable at 80 columns. */
static void
print_detail(const struct ctl_signer *cs)
{
	const struct signer_status	*st = &cs->status;
	const char			*advice, *src;
	char				 buf[SIGNER_DETAIL_MAX + 64], name[64];
	char				 when[32];
	struct tm			*tm;
	time_t				 t;

	printf("signer ");
	safe_print(stdout, cs->proc.name, 0);
	printf(" (%s): %s\n", cs->proc.type ?
	    signer_type_name(cs->proc.type) : "-",
	    signer_state_name(st->state));
	print_wrapped("state", st->detail, 14);
	if (st->tok_label[0] != '\0') {
		(void)snprintf(buf, sizeof(buf), "\"%.32s\", serial %.16s, "
		    "%.32s %.16s, firmware %.7s", st->tok_label,
		    st->tok_serial[0] ? st->tok_serial : "-", st->tok_manuf,
		    st->tok_model, st->tok_firmware);
		print_wrapped("token", buf, 14);
		if (st->has_slot) {
			(void)snprintf(buf, sizeof(buf), "%llu",
			    (unsigned long long)st->slot);
			print_wrapped("slot", buf, 14);
		}
	}
	if (st->sessions > 0) {
		(void)snprintf(buf, sizeof(buf), "%d in use of %d configured "
		    "(%d open), at most %d at once", st->running,
		    st->sessions, st->open, st->peak);
		print_wrapped("sessions", buf, 14);
	}
	(void)snprintf(buf, sizeof(buf), "%d", st->running + st->queued);
	if (st->sessions > 0)
		print_wrapped("in flight", buf, 14);
	(void)snprintf(buf, sizeof(buf), "%llu in the keystore",
	    (unsigned long long)st->keys);
	print_wrapped("keys", buf, 14);
	(void)snprintf(buf, sizeof(buf), "%llu, %llu of them errors, since "
	    "the signer started", (unsigned long long)st->answered,
	    (unsigned long long)st->errors);
	print_wrapped("requests", buf, 14);
	if (st->lat_n > 0)
		(void)snprintf(buf, sizeof(buf), "p50 %.2f ms, p99 %.2f ms "
		    "(%u requests in the last minute)",
		    st->lat_p50_us / 1000.0, st->lat_p99_us / 1000.0,
		    st->lat_n);
	else
		(void)strlcpy(buf, "no requests in the last minute",
		    sizeof(buf));
	print_wrapped("latency", buf, 14);
	if (st->last_error_at > 0) {
		t = st->last_error_at;
		when[0] = '\0';
		if ((tm = localtime(&t)) != NULL)
			(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
			    tm);
		(void)snprintf(buf, sizeof(buf), "%s: %.160s", when,
		    st->last_error);
		print_wrapped("last error", buf, 14);
	}
	/* The CKR of the state, else of the last error, in words. */
	src = st->state != SSTATE_READY ? st->detail : st->last_error;
	if ((advice = p11_advice(src, name, sizeof(name))) == NULL &&
	    st->state != SSTATE_READY)
		advice = p11_advice(st->last_error, name, sizeof(name));
	if (advice != NULL) {
		(void)snprintf(buf, sizeof(buf), "%s: %s", name, advice);
		print_wrapped("advice", buf, 14);
	}
	printf("\n");
}

/* signerctl check: one signer's steps; *rv 1 unless all passed. */
static void
print_check(const struct ctl_check *cc0, int *rv)
{
	struct ctl_check	 cc = *cc0;
	const char		*res;
	char			 lbl[64];
	uint32_t		 i;
	int			 failed = 0;

	strterm(cc.signer, sizeof(cc.signer));
	if (cc.nsteps > CHECK_STEPS_MAX)
		errx(1, "unexpected reply from signerd");
	printf("signer ");
	safe_print(stdout, cc.signer, 0);
	printf("\n");
	for (i = 0; i < cc.nsteps; i++) {
		strterm(cc.steps[i].name, sizeof(cc.steps[i].name));
		strterm(cc.steps[i].detail, sizeof(cc.steps[i].detail));
		res = check_result(cc.steps[i].result, "FAIL", &failed);
		if (cc.steps[i].usec > 0 || cc.steps[i].result != CHECK_SKIP)
			(void)snprintf(lbl, sizeof(lbl), "%-10.15s %s %8.2f ms",
			    cc.steps[i].name, res, cc.steps[i].usec / 1000.0);
		else
			(void)snprintf(lbl, sizeof(lbl), "%-10.15s %s",
			    cc.steps[i].name, res);
		print_wrapped(lbl, cc.steps[i].detail, 32);
	}
	if (cc.nsteps == 0)
		failed = 1;
	printf("  => %s\n", failed ? "FAILED" : "passed");
	if (failed)
		*rv = 1;
}
