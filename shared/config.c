/*
 * The configuration once parsed: allocation, comparison for reloads, and
 * printing back in the grammar of signerd.conf(5) for "signerd -nv".
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kmip.h"
#include "log.h"

static char	*xstrdup(const char *);
static int	 streq(const char *, const char *);
static void	 print_string(FILE *, const char *);
static void	 print_address(FILE *, const char *);
static void	 print_secret(FILE *, const char *, enum secret_source,
		    const char *);
static void	 print_listener(FILE *, const struct listen_conf *);
static void	 print_signer(FILE *, const struct signer_conf *);
static void	 print_identity(FILE *, const struct identity_conf *);
static int	 listen_conf_equal(const struct listen_conf *,
		    const struct listen_conf *);

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return (p);
}

/* strcmp() == 0 that also accepts NULL on either side. */
static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

struct signerd_conf *
config_new(void)
{
	struct signerd_conf	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&conf->listeners);
	TAILQ_INIT(&conf->signers);
	TAILQ_INIT(&conf->admins);
	TAILQ_INIT(&conf->identities);
	conf->user = xstrdup(SIGNERD_USER);
	conf->hsm_user = xstrdup(SIGNERD_HSM_USER);
	conf->chroot = xstrdup(SIGNERD_CHROOT);
	conf->control_path = xstrdup(SIGNERD_SOCKET);
	conf->keystore = xstrdup(SIGNERD_KEYSTORE);
	conf->max_connections = DEFAULT_MAX_CONNECTIONS;
	conf->max_message = DEFAULT_MAX_MESSAGE;
	conf->idle_timeout = DEFAULT_IDLE_TIMEOUT;
	conf->read_timeout = DEFAULT_READ_TIMEOUT;
	conf->audit_on = 1;
	conf->audit_file = xstrdup(DEFAULT_AUDIT_FILE);
	conf->audit_rotate = DEFAULT_AUDIT_ROTATE;
	conf->audit_keep = DEFAULT_AUDIT_KEEP;
	conf->audit_syslog = 0;
	return (conf);
}

void
config_free(struct signerd_conf *conf)
{
	struct listen_conf	*l;
	struct signer_conf	*s;
	struct name_entry	*n;
	struct identity_conf	*id;

	if (conf == NULL)
		return;
	while ((l = TAILQ_FIRST(&conf->listeners)) != NULL) {
		TAILQ_REMOVE(&conf->listeners, l, entry);
		free(l->addr);
		free(l->cert);
		free(l->key);
		free(l->ca);
		free(l);
	}
	while ((s = TAILQ_FIRST(&conf->signers)) != NULL) {
		TAILQ_REMOVE(&conf->signers, s, entry);
		free(s->file);
		free(s->module);
		free(s->token);
		free(s->serial);
		free(s->pin_ref);
		free(s->wrap_with);
		free(s->kek_file);
		free(s->host);
		free(s->ca);
		free(s->cert);
		free(s->key);
		free(s->username);
		free(s->password_ref);
		free(s);
	}
	while ((n = TAILQ_FIRST(&conf->admins)) != NULL) {
		TAILQ_REMOVE(&conf->admins, n, entry);
		free(n->name);
		free(n);
	}
	while ((id = TAILQ_FIRST(&conf->identities)) != NULL) {
		TAILQ_REMOVE(&conf->identities, id, entry);
		free(id->name);
		free(id->file);
		free(id->password);
		free(id->default_signer);
		free(id);
	}
	free(conf->user);
	free(conf->hsm_user);
	free(conf->chroot);
	free(conf->control_path);
	free(conf->control_group);
	free(conf->keystore);
	free(conf->audit_file);
	free(conf->default_signer);
	free(conf->oneoff_signer);
	free(conf);
}

/* A quoted string as the lexer reads it back. */
static void
print_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/* Numeric addresses bare, as usually written; names quoted. */
static void
print_address(FILE *fp, const char *addr)
{
	struct in6_addr	 in6;
	struct in_addr	 in4;

	if (inet_pton(AF_INET, addr, &in4) == 1 ||
	    inet_pton(AF_INET6, addr, &in6) == 1)
		fputs(addr, fp);
	else
		print_string(fp, addr);
}

static void
print_secret(FILE *fp, const char *what, enum secret_source src,
    const char *ref)
{
	switch (src) {
	case SECRET_NONE:
		return;
	case SECRET_ENV:
		fprintf(fp, "\t%s env ", what);
		break;
	case SECRET_FILE:
		fprintf(fp, "\t%s file ", what);
		break;
	}
	print_string(fp, ref);
	fputc('\n', fp);
}

static void
print_listener(FILE *fp, const struct listen_conf *l)
{
	fputs("listen on ", fp);
	print_address(fp, l->addr);
	fprintf(fp, " port %u tls {\n", (unsigned int)l->port);
	fputs("\tcertificate ", fp);
	print_string(fp, l->cert);
	fputs("\n\tkey ", fp);
	print_string(fp, l->key);
	fputs("\n\tclient ca ", fp);
	print_string(fp, l->ca);
	fputc('\n', fp);
	if (l->tls12)
		fputs("\ttls 1.2 allow\n", fp);
	if (!l->verify_client)
		fputs("\tclient certificate optional\n", fp);
	if (l->no_http)
		fputs("\tno http\n", fp);
	fputs("}\n", fp);
}

static void
print_signer(FILE *fp, const struct signer_conf *s)
{
	fputs("signer ", fp);
	print_string(fp, s->name);
	fprintf(fp, " %s {\n", signer_type_name(s->type));
	switch (s->type) {
	case SIGNER_PKCS11:
		fputs("\tmodule ", fp);
		print_string(fp, s->module);
		fputc('\n', fp);
		if (s->token != NULL) {
			fputs("\ttoken ", fp);
			print_string(fp, s->token);
			fputc('\n', fp);
		}
		if (s->serial != NULL) {
			fputs("\tserial ", fp);
			print_string(fp, s->serial);
			fputc('\n', fp);
		}
		if (s->slot != -1)
			fprintf(fp, "\tslot %lld\n", s->slot);
		print_secret(fp, "pin", s->pin_src, s->pin_ref);
		fprintf(fp, "\tlogin %s\n", s->login == SIGNER_LOGIN_AUTO ?
		    "auto" : s->login ? "yes" : "no");
		fprintf(fp, "\tsessions %d\n", s->sessions);
		fprintf(fp, "\tkeepalive %d\n", s->keepalive);
		break;
	case SIGNER_OPENSSL:
		if (s->wrap_with != NULL) {
			fputs("\twrap with ", fp);
			print_string(fp, s->wrap_with);
		} else {
			fputs("\tkek file ", fp);
			print_string(fp, s->kek_file);
		}
		fputc('\n', fp);
		break;
	case SIGNER_KMIP:
		fputs("\thost ", fp);
		print_string(fp, s->host);
		fprintf(fp, "\n\tport %u\n", (unsigned int)s->port);
		fputs("\tca ", fp);
		print_string(fp, s->ca);
		fputs("\n\tcertificate ", fp);
		print_string(fp, s->cert);
		fputs("\n\tkey ", fp);
		print_string(fp, s->key);
		fputc('\n', fp);
		if (s->username != NULL) {
			fputs("\tusername ", fp);
			print_string(fp, s->username);
			fputc('\n', fp);
		}
		print_secret(fp, "password", s->password_src,
		    s->password_ref);
		break;
	}
	fprintf(fp, "\ttimeout %d\n", s->timeout);
	fputs("}\n", fp);
}

static void
print_identity(FILE *fp, const struct identity_conf *id)
{
	char	 w[64];
	int	 i, op;

	fputs("identity ", fp);
	print_string(fp, id->name);
	fputs(" {\n", fp);
	for (i = 0; i < id->nfp; i++) {
		fputs("\tfingerprint \"sha256:", fp);
		for (op = 0; op < IDENTITY_FP_LEN; op++)
			fprintf(fp, "%02x", id->fp[i][op]);
		fputs("\"\n", fp);
	}
	if (id->password != NULL) {
		fputs("\tpassword ", fp);
		print_string(fp, id->password);
		fputc('\n', fp);
	}
	if (id->default_signer != NULL) {
		fputs("\tdefault signer ", fp);
		print_string(fp, id->default_signer);
		fputc('\n', fp);
	}
	if (id->ops != 0) {
		fputs("\toperations {", fp);
		for (op = 1; op < 64; op++)
			if (id->ops & (1ULL << op))
				fprintf(fp, " %s", policy_op_word(op, w,
				    sizeof(w)));
		fputs(" }\n", fp);
	}
	fputs("}\n", fp);
}

/*
 * Print the configuration in the grammar it was read from, with every
 * default spelled out; the output parses again to the same output.
 */
void
config_print(FILE *fp, const struct signerd_conf *conf)
{
	const struct listen_conf	*l;
	const struct signer_conf	*s;
	const struct name_entry		*n;
	const struct identity_conf	*id;

	fputs("user ", fp);
	print_string(fp, conf->user);
	fputs("\nsigner user ", fp);
	print_string(fp, conf->hsm_user);
	fputs("\nchroot ", fp);
	print_string(fp, conf->chroot);
	fputs("\ncontrol socket ", fp);
	print_string(fp, conf->control_path);
	if (conf->control_group != NULL) {
		fputs(" group ", fp);
		print_string(fp, conf->control_group);
	}
	fputs("\nkeystore ", fp);
	print_string(fp, conf->keystore);
	fputc('\n', fp);
	fprintf(fp, "max connections %d\n", conf->max_connections);
	fprintf(fp, "max message %d\n", conf->max_message);
	fprintf(fp, "idle timeout %d\n", conf->idle_timeout);
	fprintf(fp, "read timeout %d\n", conf->read_timeout);
	/* The audit trail's block only where it is not the default. */
	if (!conf->audit_on)
		fputs("audit no\n", fp);
	else if (strcmp(conf->audit_file, DEFAULT_AUDIT_FILE) != 0 ||
	    conf->audit_rotate != DEFAULT_AUDIT_ROTATE ||
	    conf->audit_keep != DEFAULT_AUDIT_KEEP || conf->audit_syslog) {
		fputs("audit { file ", fp);
		print_string(fp, conf->audit_file);
		fprintf(fp, " rotate %lld keep %d syslog %s }\n",
		    conf->audit_rotate, conf->audit_keep,
		    conf->audit_syslog ? "yes" : "no");
	}
	TAILQ_FOREACH(n, &conf->admins, entry) {
		fputs("admin ", fp);
		print_string(fp, n->name);
		fputc('\n', fp);
	}

	TAILQ_FOREACH(l, &conf->listeners, entry) {
		fputc('\n', fp);
		print_listener(fp, l);
	}
	TAILQ_FOREACH(s, &conf->signers, entry) {
		fputc('\n', fp);
		print_signer(fp, s);
	}
	TAILQ_FOREACH(id, &conf->identities, entry) {
		fputc('\n', fp);
		print_identity(fp, id);
	}

	if (conf->default_signer != NULL || conf->oneoff_signer != NULL)
		fputc('\n', fp);
	if (conf->default_signer != NULL) {
		fputs("default signer ", fp);
		print_string(fp, conf->default_signer);
		fputc('\n', fp);
	}
	if (conf->oneoff_signer != NULL) {
		fputs("one-off signer ", fp);
		print_string(fp, conf->oneoff_signer);
		fputc('\n', fp);
	}
}

/*
 * Whether a signer's child can keep running across a reload.  Where the
 * signer was defined (file, line) does not count.
 */
int
signer_conf_equal(const struct signer_conf *a, const struct signer_conf *b)
{
	return (strcmp(a->name, b->name) == 0 &&
	    a->type == b->type &&
	    streq(a->module, b->module) &&
	    streq(a->token, b->token) &&
	    streq(a->serial, b->serial) &&
	    a->slot == b->slot &&
	    a->pin_src == b->pin_src &&
	    streq(a->pin_ref, b->pin_ref) &&
	    a->login == b->login &&
	    a->keepalive == b->keepalive &&
	    a->sessions == b->sessions &&
	    a->timeout == b->timeout &&
	    streq(a->wrap_with, b->wrap_with) &&
	    streq(a->kek_file, b->kek_file) &&
	    streq(a->host, b->host) &&
	    a->port == b->port &&
	    streq(a->ca, b->ca) &&
	    streq(a->cert, b->cert) &&
	    streq(a->key, b->key) &&
	    streq(a->username, b->username) &&
	    a->password_src == b->password_src &&
	    streq(a->password_ref, b->password_ref));
}

static int
listen_conf_equal(const struct listen_conf *a, const struct listen_conf *b)
{
	return (streq(a->addr, b->addr) &&
	    a->port == b->port &&
	    a->sslen == b->sslen &&
	    memcmp(&a->ss, &b->ss, a->sslen) == 0 &&
	    streq(a->cert, b->cert) &&
	    streq(a->key, b->key) &&
	    streq(a->ca, b->ca) &&
	    a->tls12 == b->tls12 &&
	    a->verify_client == b->verify_client &&
	    a->no_http == b->no_http);
}

/*
 * Whether the frontend can keep running across a reload: same listeners
 * in the same order, chroot, user and limits.  Certificate files are
 * compared by name only.
 */
int
frontend_conf_equal(const struct signerd_conf *a, const struct signerd_conf *b)
{
	const struct listen_conf	*la, *lb;

	if (!streq(a->chroot, b->chroot) || !streq(a->user, b->user) ||
	    a->max_connections != b->max_connections ||
	    a->max_message != b->max_message ||
	    a->idle_timeout != b->idle_timeout ||
	    a->read_timeout != b->read_timeout)
		return (0);
	la = TAILQ_FIRST(&a->listeners);
	lb = TAILQ_FIRST(&b->listeners);
	while (la != NULL && lb != NULL) {
		if (!listen_conf_equal(la, lb))
			return (0);
		la = TAILQ_NEXT(la, entry);
		lb = TAILQ_NEXT(lb, entry);
	}
	return (la == NULL && lb == NULL);
}

struct signer_conf *
signer_find(const struct signerd_conf *conf, const char *name)
{
	struct signer_conf	*s;

	TAILQ_FOREACH(s, &conf->signers, entry)
		if (strcmp(s->name, name) == 0)
			return (s);
	return (NULL);
}

const char *
signer_type_name(enum signer_type type)
{
	switch (type) {
	case SIGNER_PKCS11:
		return ("pkcs11");
	case SIGNER_OPENSSL:
		return ("openssl");
	case SIGNER_KMIP:
		return ("kmip");
	}
	return ("unknown");
}

/*
 * A file that holds a secret (a PIN, a password, a key-encryption key)
 * must belong to root or to us and be neither readable nor writable by
 * group or others.
 */
int
check_file_secrecy(int fd, const char *fname)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1) {
		log_warn("cannot stat %s", fname);
		return (-1);
	}
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		log_warnx("%s: owner is neither root nor uid %u", fname,
		    (unsigned int)getuid());
		return (-1);
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		log_warnx("%s: group or others can read or write it", fname);
		return (-1);
	}
	return (0);
}

/*
 * A KMIP operation as signerd.conf(5) and signerctl grant write it: its
 * name in lower case, words joined by '-' ("get-attributes").  Any case
 * and ' ' or '_' for '-' are accepted.  The operation, or -1.
 */
int
policy_op_parse(const char *word)
{
	const char	*name;
	size_t		 i;
	int		 op, a, b;

	for (op = 1; op < 64; op++) {
		if ((name = kmip_op_name(op)) == NULL)
			continue;
		for (i = 0; name[i] != '\0' && word[i] != '\0'; i++) {
			a = tolower((unsigned char)name[i]);
			b = tolower((unsigned char)word[i]);
			if (a == ' ')
				a = '-';
			if (b == ' ' || b == '_')
				b = '-';
			if (a != b)
				break;
		}
		if (name[i] == '\0' && word[i] == '\0')
			return (op);
	}
	return (-1);
}

/* The word of op for policy_op_parse, in buf. */
const char *
policy_op_word(int op, char *buf, size_t len)
{
	const char	*name;
	size_t		 i;

	if ((name = kmip_op_name(op)) == NULL || len == 0) {
		(void)snprintf(buf, len, "%d", op);
		return (buf);
	}
	for (i = 0; name[i] != '\0' && i + 1 < len; i++)
		buf[i] = name[i] == ' ' ? '-' :
		    tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return (buf);
}
