/*
 * signerctl's policy commands: grant, revoke, show grants, show keys,
 * and hash-password (no daemon needed: it prints the hash string an
 * identity block of signerd.conf(5) takes).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <err.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "imsg.h"
#include "json.h"
#include "kmip.h"
#include "pwhash.h"
#include "signerd.h"
#include "signerctl.h"

enum gaction {
	G_GRANT,
	G_REVOKE,
	G_SHOW_GRANTS,
	G_SHOW_KEYS
};

static int		 hash_password(void);
static void		 parse_grant(int, char *[], struct ctl_grant *);
static int		 reply(enum gaction, struct imsg *, struct json *,
			    int *);
static void		 print_text(FILE *, const char *, int);
static const char	*scope_name(int);
static const char	*alg_name(uint32_t);
static const char	*type_name(uint32_t);
static const char	*state_name(uint32_t);

void
grants_usage(FILE *fp)
{
	fprintf(fp, "\tgrant IDENTITY OPERATION... "
	    "(ID | owner NAME | signer NAME)\n"
	    "\trevoke IDENTITY OPERATION... "
	    "(ID | owner NAME | signer NAME)\n"
	    "\tshow grants [IDENTITY | ID]\n"
	    "\tshow keys [OWNER]\n"
	    "\thash-password\n");
}

/*
 * A policy command: its exit status, or -1 if argv is none of them.
 */
int
grants_command(int argc, char *argv[], const char *sock, struct json *jout)
{
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct ctl_grant	 cg;
	struct ctl_show		 cs;
	enum gaction		 action;
	int			 fd, done = 0, rv = 0;

	if (argc < 1)
		return (-1);
	memset(&cs, 0, sizeof(cs));
	if (strcmp(argv[0], "hash-password") == 0) {
		if (argc != 1 || jout != NULL)
			errx(1, "usage: hash-password (the password on stdin "
			    "or the terminal)");
		return (hash_password());
	} else if (strcmp(argv[0], "grant") == 0 ||
	    strcmp(argv[0], "revoke") == 0) {
		action = strcmp(argv[0], "grant") == 0 ? G_GRANT : G_REVOKE;
		parse_grant(argc, argv, &cg);
	} else if (argc >= 2 && argc <= 3 && strcmp(argv[0], "show") == 0 &&
	    (strcmp(argv[1], "grants") == 0 || strcmp(argv[1], "keys") == 0)) {
		action = strcmp(argv[1], "grants") == 0 ? G_SHOW_GRANTS :
		    G_SHOW_KEYS;
		if (argc == 3 && (argv[2][0] == '\0' || strlcpy(cs.name,
		    argv[2], sizeof(cs.name)) >= sizeof(cs.name)))
			errx(1, "bad name: %s", argv[2]);
	} else
		return (-1);

	fd = ctl_connect(sock, &ibuf, NULL);
	switch (action) {
	case G_GRANT:
	case G_REVOKE:
		imsg_compose(&ibuf, action == G_GRANT ? IMSG_CTL_GRANT :
		    IMSG_CTL_REVOKE, IMSG_VERSION, 0, -1, &cg, sizeof(cg));
		break;
	case G_SHOW_GRANTS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_GRANTS, IMSG_VERSION, 0, -1,
		    &cs, sizeof(cs));
		if (jout != NULL) {
			json_object_open(jout, NULL);
			json_array_open(jout, "grants");
		} else
			printf("%-16s %-6s %-36s %s\n", "IDENTITY", "SCOPE",
			    "TARGET", "OPERATIONS");
		break;
	case G_SHOW_KEYS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_KEYS, IMSG_VERSION, 0, -1,
		    &cs, sizeof(cs));
		if (jout != NULL) {
			json_object_open(jout, NULL);
			json_array_open(jout, "keys");
		} else
			printf("%-36s %-12s %-11s %-12s %-16s %-11s %s\n",
			    "ID", "TYPE", "ALGORITHM", "SIGNER", "OWNER",
			    "STATE", "NAME");
		break;
	}
	if (imsgbuf_flush(&ibuf) == -1)
		err(1, "write to %s", sock);
	while (!done) {
		ctl_read(&ibuf, &imsg, sock);
		done = reply(action, &imsg, jout, &rv);
		imsg_free(&imsg);
	}
	imsgbuf_clear(&ibuf);
	close(fd);
	return (rv);
}

/*
 * The password from the terminal (asked twice) or one line of stdin;
 * never from argv, where ps(1) shows it.
 */
static int
hash_password(void)
{
	char	 pw[PWHASH_PASSWORD_MAX + 2], again[sizeof(pw)];
	char	 out[PWHASH_MAX];
	int	 tty = isatty(STDIN_FILENO);

	if (readpassphrase("Password: ", pw, sizeof(pw),
	    tty ? RPP_REQUIRE_TTY : RPP_STDIN) == NULL)
		errx(1, "no password read");
	if (tty && (readpassphrase("Again: ", again, sizeof(again),
	    RPP_REQUIRE_TTY) == NULL || strcmp(pw, again) != 0)) {
		explicit_bzero(pw, sizeof(pw));
		explicit_bzero(again, sizeof(again));
		errx(1, "the passwords differ");
	}
	explicit_bzero(again, sizeof(again));
	if (pw[0] == '\0' || strlen(pw) > PWHASH_PASSWORD_MAX) {
		explicit_bzero(pw, sizeof(pw));
		errx(1, "a password is 1 to %d bytes", PWHASH_PASSWORD_MAX);
	}
	if (pwhash_make(pw, strlen(pw), out, sizeof(out)) == -1) {
		explicit_bzero(pw, sizeof(pw));
		errx(1, "the password could not be hashed");
	}
	explicit_bzero(pw, sizeof(pw));
	printf("%s\n", out);
	return (0);
}

/*
 * grant|revoke IDENTITY OPERATION... (ID | owner NAME | signer NAME).
 * Errors exit.
 */
static void
parse_grant(int argc, char *argv[], struct ctl_grant *cg)
{
	int	 last, i, op;

	memset(cg, 0, sizeof(*cg));
	if (argc < 4)
		errx(1, "usage: %s IDENTITY OPERATION... (ID | owner NAME | "
		    "signer NAME)", argv[0]);
	if (argv[1][0] == '\0' || strlcpy(cg->holder, argv[1],
	    sizeof(cg->holder)) >= sizeof(cg->holder))
		errx(1, "bad identity: %s", argv[1]);
	if (argc >= 5 && (strcmp(argv[argc - 2], "owner") == 0 ||
	    strcmp(argv[argc - 2], "signer") == 0)) {
		cg->scope = strcmp(argv[argc - 2], "owner") == 0 ?
		    GRANT_OWNER : GRANT_SIGNER;
		last = argc - 2;
	} else {
		cg->scope = GRANT_OBJECT;
		last = argc - 1;
	}
	if (argv[argc - 1][0] == '\0' || strlcpy(cg->target,
	    argv[argc - 1], sizeof(cg->target)) >= sizeof(cg->target) ||
	    (cg->scope == GRANT_OBJECT &&
	    strlen(cg->target) >= CTL_ID_MAX) ||
	    (cg->scope == GRANT_SIGNER &&
	    strlen(cg->target) >= SIGNER_NAME_MAX))
		errx(1, "bad %s: %s", cg->scope == GRANT_OBJECT ? "object id" :
		    scope_name(cg->scope), argv[argc - 1]);
	if (last <= 2)
		errx(1, "no operation");
	for (i = 2; i < last; i++) {
		if ((op = policy_op_parse(argv[i])) == -1)
			errx(1, "unknown operation: %s", argv[i]);
		cg->ops |= 1ULL << op;
	}
}

/* Text from the daemon, anything not printable as '?'. */
static void
print_text(FILE *fp, const char *s, int width)
{
	int	 n = 0;

	for (; *s != '\0'; s++, n++)
		putc(isprint((unsigned char)*s) ? *s : '?', fp);
	for (; n < width; n++)
		putc(' ', fp);
}

static const char *
scope_name(int scope)
{
	switch (scope) {
	case GRANT_OBJECT:
		return ("object");
	case GRANT_OWNER:
		return ("owner");
	case GRANT_SIGNER:
		return ("signer");
	}
	return ("?");
}

static const char *
alg_name(uint32_t alg)
{
	switch (alg) {
	case 0:
		return ("-");
	case KMIP_ALG_3DES:
		return ("3DES");
	case KMIP_ALG_AES:
		return ("AES");
	case KMIP_ALG_RSA:
		return ("RSA");
	case KMIP_ALG_ECDSA:
		return ("ECDSA");
	case KMIP_ALG_EC:
		return ("EC");
	case KMIP_ALG_HMAC_SHA1:
		return ("HMAC-SHA1");
	case KMIP_ALG_HMAC_SHA256:
		return ("HMAC-SHA256");
	case KMIP_ALG_HMAC_SHA384:
		return ("HMAC-SHA384");
	case KMIP_ALG_HMAC_SHA512:
		return ("HMAC-SHA512");
	case KMIP_ALG_ED25519:
		return ("Ed25519");
	case KMIP_ALG_ED448:
		return ("Ed448");
	}
	return ("?");
}

static const char *
type_name(uint32_t type)
{
	static const char *names[] = { "-", "Certificate", "SymmetricKey",
	    "PublicKey", "PrivateKey", "SplitKey", "Template", "SecretData",
	    "OpaqueObject" };

	return (type < sizeof(names) / sizeof(names[0]) ? names[type] : "?");
}

static const char *
state_name(uint32_t state)
{
	static const char *names[] = { "-", "Pre-Active", "Active",
	    "Deactivated", "Compromised", "Destroyed", "Destroyed-Comp" };

	return (state < sizeof(names) / sizeof(names[0]) ? names[state] :
	    "?");
}

/* One reply; 1 when the answer is complete. */
static int
reply(enum gaction action, struct imsg *imsg, struct json *jout, int *rv)
{
	struct ctl_result	 res;
	struct ctl_grant	 g;
	struct ctl_key		 k;
	char			 w[48];
	int			 op, first;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_GRANT_ENTRY:
		if (action != G_SHOW_GRANTS ||
		    imsg_get_data(imsg, &g, sizeof(g)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(g.holder, sizeof(g.holder));
		strterm(g.target, sizeof(g.target));
		if (jout != NULL) {
			json_object_open(jout, NULL);
			json_string(jout, "identity", g.holder);
			json_string(jout, "scope", scope_name(g.scope));
			json_string(jout, "target", g.target);
			json_array_open(jout, "operations");
			for (op = 1; op < 64; op++)
				if (g.ops & (1ULL << op))
					json_string(jout, NULL,
					    policy_op_word(op, w, sizeof(w)));
			json_array_close(jout);
			json_object_close(jout);
			return (0);
		}
		print_text(stdout, g.holder, 16);
		printf(" %-6s ", scope_name(g.scope));
		print_text(stdout, g.target, 36);
		for (op = 1, first = 1; op < 64; op++)
			if (g.ops & (1ULL << op)) {
				printf("%s%s", first ? " " : ",",
				    policy_op_word(op, w, sizeof(w)));
				first = 0;
			}
		printf("\n");
		return (0);
	case IMSG_CTL_KEY_ENTRY:
		if (action != G_SHOW_KEYS ||
		    imsg_get_data(imsg, &k, sizeof(k)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(k.id, sizeof(k.id));
		strterm(k.name, sizeof(k.name));
		strterm(k.owner, sizeof(k.owner));
		strterm(k.signer, sizeof(k.signer));
		if (jout != NULL) {
			json_object_open(jout, NULL);
			json_string(jout, "id", k.id);
			json_string(jout, "name", k.name);
			json_string(jout, "type", type_name(k.type));
			json_string(jout, "algorithm", alg_name(k.algorithm));
			json_string(jout, "signer", k.signer);
			json_string(jout, "owner", k.owner);
			json_string(jout, "state", state_name(k.state));
			json_object_close(jout);
			return (0);
		}
		/* The name last: it may hold spaces. */
		print_text(stdout, k.id, 36);
		printf(" %-12s %-11s ", type_name(k.type),
		    alg_name(k.algorithm));
		print_text(stdout, k.signer[0] != '\0' ? k.signer : "-", 12);
		printf(" ");
		print_text(stdout, k.owner, 16);
		printf(" %-11s ", state_name(k.state));
		print_text(stdout, k.name[0] != '\0' ? k.name : "-", 0);
		printf("\n");
		return (0);
	case IMSG_CTL_END:
		if (action != G_SHOW_GRANTS && action != G_SHOW_KEYS)
			errx(1, "unexpected reply from signerd");
		if (jout != NULL) {
			json_array_close(jout);
			json_object_close(jout);
			json_finish(jout);
		}
		return (1);
	case IMSG_CTL_RESULT:
		if (imsg_get_data(imsg, &res, sizeof(res)) == -1)
			errx(1, "unexpected reply from signerd");
		strterm(res.msg, sizeof(res.msg));
		if (res.code != CTL_OK)
			*rv = 1;
		/* A failed show: the document so far is not finished. */
		if (jout != NULL && (action == G_GRANT ||
		    action == G_REVOKE)) {
			json_object_open(jout, NULL);
			json_bool(jout, "ok", res.code == CTL_OK);
			json_string(jout, "message", res.msg);
			json_object_close(jout);
			json_finish(jout);
			return (1);
		}
		if (res.code != CTL_OK) {
			fprintf(stderr, "signerctl: ");
			print_text(stderr, res.msg, 0);
			fprintf(stderr, "\n");
		} else {
			print_text(stdout, res.msg, 0);
			printf("\n");
		}
		return (1);
	}
	errx(1, "unexpected reply from signerd");
}
