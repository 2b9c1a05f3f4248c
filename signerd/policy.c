/*
 * The engine's policy: identities, credentials, and the one check of
 * what a client may do to an object (policy_may, from kop_load).
 *
 * Identities come from the configuration (IMSG_CONF_IDENTITY): a
 * certificate's SHA-256 bound to a name wins over its CN; a password,
 * kept as a slow hash, that every request of the identity must carry in
 * a Username and Password Credential.  Deriving the key from a password
 * takes tens of milliseconds in this single-threaded process, so what
 * was verified last on a connection is remembered (an HMAC of the
 * password under a key of this process, never the password) and the
 * next request of that connection with the same password costs a hash.
 * Failed passwords are counted per identity: after POLICY_FAIL_FREE in
 * a row the identity is refused, without a derivation, for
 * POLICY_DELAY_MIN seconds, doubled with each further failure up to
 * POLICY_DELAY_MAX.  Nothing sleeps: a refused request is answered at
 * once.
 *
 * Grants are rows of the keystore's grants table, loaded at start into
 * a tree by (holder, scope, target) and changed in place by signerctl,
 * so that a check is at most three lookups, and none for an owner, an
 * admin, or while no grant exists.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config.h"
#include "engine.h"
#include "keystore.h"
#include "kmip.h"
#include "log.h"
#include "policy.h"
#include "pwhash.h"
#include "ttlv.h"

/* An identity of the configuration, with its failures. */
struct pident {
	struct conf_identity	 c;
	struct pwhash		 h;
	int			 has_password;
	unsigned int		 fails;		/* in a row */
	time_t			 until;		/* refused until (monotonic) */
};

/* The last password verified on a connection (policy_authenticate). */
#define PCACHE_SLOTS	1024
struct pcache {
	uint64_t		 conn_id;
	uint32_t		 gen;		/* of the configuration */
	size_t			 ident;		/* index in idents */
	uint8_t			 mac[32];	/* HMAC of the password */
};

struct grant {
	RB_ENTRY(grant)		 entry;
	char			*holder;
	int			 scope;		/* enum grant_scope */
	char			*target;
	uint64_t		 ops;
};
RB_HEAD(grant_tree, grant);

static int	 grant_cmp(const struct grant *, const struct grant *);
/* libbsd's __unused is off (a Linux header has a member of that name). */
RB_PROTOTYPE_INTERNAL(grant_tree, grant, entry, grant_cmp,
    __attribute__((__unused__)) static)

static struct pident	*ident_find(const char *);
static struct pident	*ident_by_fp(const uint8_t *);
static void		 pw_mac(const char *, const uint8_t *, size_t,
			    uint8_t *);
static int		 pw_check(struct fe_hdr *, struct pident *,
			    struct ttlv *, char *, size_t);
static void		 pw_failed(const struct fe_hdr *, struct pident *,
			    time_t);
static struct grant	*grant_get(const char *, int, const char *);
static int		 grant_load_one(const char *, int, const char *,
			    uint64_t, void *);
static void		 grant_put(const char *, int, const char *, uint64_t);
static int		 grant_matches(const struct grant *, const char *);

static struct pident	*idents, *old_idents;
static size_t		 nidents, nold_idents;
static uint32_t		 conf_gen = 1;
static struct pcache	 pcache[PCACHE_SLOTS];
static uint8_t		 pcache_key[32];
static int		 pcache_keyed;
static struct grant_tree grants = RB_INITIALIZER(&grants);
static size_t		 ngrants;

RB_GENERATE_INTERNAL(grant_tree, grant, entry, grant_cmp,
    __attribute__((__unused__)) static)

static int
grant_cmp(const struct grant *a, const struct grant *b)
{
	int	 rv;

	if ((rv = strcmp(a->holder, b->holder)) != 0)
		return (rv);
	if (a->scope != b->scope)
		return (a->scope < b->scope ? -1 : 1);
	return (strcmp(a->target, b->target));
}

/* --- identities ----------------------------------------------------- */

/* A new configuration: its identities follow, then policy_conf_done. */
void
policy_conf_start(void)
{
	size_t	 i;

	for (i = 0; i < nold_idents; i++)
		explicit_bzero(&old_idents[i], sizeof(old_idents[i]));
	free(old_idents);
	old_idents = idents;
	nold_idents = nidents;
	idents = NULL;
	nidents = 0;
}

/* One identity from the parent, which checked it (fatal if not). */
void
policy_conf_identity(const struct conf_identity *ci)
{
	struct pident	*p;
	char		 why[160];
	size_t		 i;

	if ((p = reallocarray(idents, nidents + 1, sizeof(*idents))) == NULL)
		fatal(NULL);
	idents = p;
	p = &idents[nidents];
	memset(p, 0, sizeof(*p));
	p->c = *ci;
	strterm(p->c.name, sizeof(p->c.name));
	strterm(p->c.password, sizeof(p->c.password));
	strterm(p->c.default_signer, sizeof(p->c.default_signer));
	if (p->c.name[0] == '\0' || p->c.nfp < 0 ||
	    p->c.nfp > CONF_IDENTITY_FP_MAX)
		fatalx("bad IMSG_CONF_IDENTITY");
	if (p->c.password[0] != '\0') {
		if (pwhash_parse(p->c.password, &p->h, why, sizeof(why)) == -1)
			fatalx("identity %s: password: %s", p->c.name, why);
		p->has_password = 1;
	}
	/* A reload keeps what the identity failed so far. */
	for (i = 0; i < nold_idents; i++)
		if (strcmp(old_idents[i].c.name, p->c.name) == 0) {
			p->fails = old_idents[i].fails;
			p->until = old_idents[i].until;
		}
	nidents++;
	log_debug("identity %s: %d fingerprints%s", p->c.name, p->c.nfp,
	    p->has_password ? ", password" : "");
}

void
policy_conf_done(void)
{
	size_t	 i;

	for (i = 0; i < nold_idents; i++)
		explicit_bzero(&old_idents[i], sizeof(old_idents[i]));
	free(old_idents);
	old_idents = NULL;
	nold_idents = 0;
	/* What was verified under the old configuration is not trusted. */
	conf_gen++;
}

static struct pident *
ident_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nidents; i++)
		if (strcmp(idents[i].c.name, name) == 0)
			return (&idents[i]);
	return (NULL);
}

static struct pident *
ident_by_fp(const uint8_t *fp)
{
	size_t	 i;
	int	 j;

	for (i = 0; i < nidents; i++)
		for (j = 0; j < idents[i].c.nfp; j++)
			if (memcmp(idents[i].c.fp[j], fp, 32) == 0)
				return (&idents[i]);
	return (NULL);
}

static void
pw_mac(const char *name, const uint8_t *pw, size_t len, uint8_t *mac)
{
	uint8_t	 buf[IDENTITY_NAME_MAX + PWHASH_PASSWORD_MAX];
	size_t	 n = strlen(name) + 1, outlen;

	if (!pcache_keyed) {
		arc4random_buf(pcache_key, sizeof(pcache_key));
		pcache_keyed = 1;
	}
	/* name, its NUL, then the password: no two pairs give one input. */
	if (n > IDENTITY_NAME_MAX || len > PWHASH_PASSWORD_MAX)
		fatalx("%s: too long", __func__);
	memcpy(buf, name, n);
	memcpy(buf + n, pw, len);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pcache_key,
	    sizeof(pcache_key), buf, n + len, mac, 32, &outlen) == NULL ||
	    outlen != 32)
		fatalx("HMAC failed");
	explicit_bzero(buf, n + len);
}

/*
 * The identity of a request, in hdr: the name a fingerprint binding
 * gives its certificate, else its CN.  Where that identity has a
 * password, the request must carry it in a Username and Password
 * Credential (Authentication of the Request Header h); elsewhere any
 * Credential is ignored (Cascade's bridge sends a token label and PIN
 * there).  0, or -1 and why: the request is refused with Authentication
 * Not Successful.  The password in h is wiped either way.
 */
int
policy_authenticate(struct fe_hdr *hdr, struct ttlv *h, char *why,
    size_t len)
{
	static const uint8_t	 zero[32];
	struct pident		*p = NULL;
	struct ttlv		*a, *c, *v, *pw;
	int			 rv;

	if (nidents > 0 && memcmp(hdr->cert_sha256, zero, 32) != 0 &&
	    (p = ident_by_fp(hdr->cert_sha256)) != NULL)
		(void)strlcpy(hdr->identity, p->c.name,
		    sizeof(hdr->identity));
	else if (nidents > 0 && hdr->identity[0] != '\0')
		p = ident_find(hdr->identity);
	if (p != NULL && p->c.nfp > 0 &&
	    (memcmp(hdr->cert_sha256, zero, 32) == 0 ||
	    ident_by_fp(hdr->cert_sha256) != p)) {
		/*
		 * An identity bound to certificates is theirs alone: another
		 * certificate whose CN merely names it is not it.
		 */
		(void)snprintf(why, len, "this certificate is not one bound "
		    "to identity %s", p->c.name);
		rv = -1;
	} else if (p == NULL || !p->has_password)
		rv = 0;
	else
		rv = pw_check(hdr, p, h, why, len);
	/* No copy of a password outlives the check. */
	if ((a = ttlv_find(h, KMIP_TAG_AUTHENTICATION)) == NULL ||
	    a->type != TTLV_STRUCTURE)
		return (rv);
	for (c = ttlv_find(a, KMIP_TAG_CREDENTIAL); c != NULL;
	    c = ttlv_find_next(a, c, KMIP_TAG_CREDENTIAL)) {
		if (c->type != TTLV_STRUCTURE ||
		    (v = ttlv_find(c, KMIP_TAG_CREDENTIAL_VALUE)) == NULL ||
		    v->type != TTLV_STRUCTURE)
			continue;
		for (pw = ttlv_find(v, KMIP_TAG_PASSWORD); pw != NULL;
		    pw = ttlv_find_next(v, pw, KMIP_TAG_PASSWORD))
			if (pw->type == TTLV_TEXT_STRING ||
			    pw->type == TTLV_BYTE_STRING)
				explicit_bzero(pw->v.s.data, pw->v.s.len);
	}
	return (rv);
}

static int
pw_check(struct fe_hdr *hdr, struct pident *p, struct ttlv *h, char *why,
    size_t len)
{
	struct ttlv		*a, *c, *v, *user = NULL, *pw = NULL;
	struct pcache		*pc;
	struct timespec		 now;
	uint8_t			 mac[32];
	uint32_t		 type;
	int			 rv;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->until > now.tv_sec) {
		(void)snprintf(why, len, "too many wrong passwords for %s: "
		    "refused for %lld more seconds", p->c.name,
		    (long long)(p->until - now.tv_sec));
		return (-1);
	}
	if ((a = ttlv_find(h, KMIP_TAG_AUTHENTICATION)) != NULL &&
	    a->type == TTLV_STRUCTURE)
		for (c = ttlv_find(a, KMIP_TAG_CREDENTIAL); c != NULL;
		    c = ttlv_find_next(a, c, KMIP_TAG_CREDENTIAL)) {
			if (c->type != TTLV_STRUCTURE ||
			    ttlv_get_enum(c, KMIP_TAG_CREDENTIAL_TYPE,
			    &type) == -1 ||
			    type != KMIP_CRED_USERNAME_AND_PASSWORD ||
			    (v = ttlv_find(c, KMIP_TAG_CREDENTIAL_VALUE)) ==
			    NULL || v->type != TTLV_STRUCTURE)
				continue;
			user = ttlv_find(v, KMIP_TAG_USERNAME);
			pw = ttlv_find(v, KMIP_TAG_PASSWORD);
			break;
		}
	if (user == NULL || pw == NULL || user->type != TTLV_TEXT_STRING ||
	    pw->type != TTLV_TEXT_STRING) {
		(void)snprintf(why, len, "%s needs a Username and Password "
		    "Credential", p->c.name);
		return (-1);
	}
	if (user->v.s.len != strlen(p->c.name) ||
	    memcmp(user->v.s.data, p->c.name, user->v.s.len) != 0) {
		(void)snprintf(why, len, "the Username of the Credential is "
		    "not %s", p->c.name);
		return (-1);
	}
	/*
	 * HMAC, under scrypt and PBKDF2, pads its key with zeros: "pw" and
	 * "pw\0" would be one password.  A Text String holds no NUL.
	 */
	if (pw->v.s.len > PWHASH_PASSWORD_MAX ||
	    memchr(pw->v.s.data, '\0', pw->v.s.len) != NULL) {
		pw_failed(hdr, p, now.tv_sec);
		(void)snprintf(why, len, "wrong password for %s", p->c.name);
		return (-1);
	}
	pw_mac(p->c.name, pw->v.s.data, pw->v.s.len, mac);
	pc = &pcache[hdr->conn_id % PCACHE_SLOTS];
	if (pc->conn_id == hdr->conn_id && pc->gen == conf_gen &&
	    pc->ident == (size_t)(p - idents) &&
	    CRYPTO_memcmp(pc->mac, mac, sizeof(mac)) == 0) {
		explicit_bzero(mac, sizeof(mac));
		return (0);
	}
	rv = pwhash_verify(&p->h, pw->v.s.data, pw->v.s.len);
	if (rv == 1) {
		p->fails = 0;
		p->until = 0;
		pc->conn_id = hdr->conn_id;
		pc->gen = conf_gen;
		pc->ident = p - idents;
		memcpy(pc->mac, mac, sizeof(mac));
		explicit_bzero(mac, sizeof(mac));
		return (0);
	}
	explicit_bzero(mac, sizeof(mac));
	if (rv == -1) {
		log_warnx("identity %s: the password hash could not be "
		    "computed", p->c.name);
		(void)snprintf(why, len, "the password of %s could not be "
		    "checked", p->c.name);
		return (-1);
	}
	pw_failed(hdr, p, now.tv_sec);
	(void)snprintf(why, len, "wrong password for %s", p->c.name);
	return (-1);
}

/* One more wrong password for p: refused for a while after a few. */
static void
pw_failed(const struct fe_hdr *hdr, struct pident *p, time_t now)
{
	time_t	 delay;

	if (++p->fails < POLICY_FAIL_FREE) {
		log_info("identity %s: wrong password from %s", p->c.name,
		    hdr->peer);
		return;
	}
	delay = p->fails - POLICY_FAIL_FREE >= 7 ? POLICY_DELAY_MAX :
	    POLICY_DELAY_MIN << (p->fails - POLICY_FAIL_FREE);
	if (delay > POLICY_DELAY_MAX)
		delay = POLICY_DELAY_MAX;
	p->until = now + delay;
	log_warnx("identity %s: %u wrong passwords in a row (last from %s); "
	    "refused for %lld s", p->c.name, p->fails, hdr->peer,
	    (long long)delay);
}

/*
 * May identity use op at all?  Discover Versions and Query tell what
 * the server is, and are always allowed.
 */
int
policy_op_allowed(const char *identity, uint32_t op)
{
	struct pident	*p;

	if (nidents == 0 || op == KMIP_OP_DISCOVER_VERSIONS ||
	    op == KMIP_OP_QUERY || (p = ident_find(identity)) == NULL ||
	    p->c.ops == 0)
		return (1);
	return (op < 64 && (p->c.ops & (1ULL << op)) != 0);
}

/* The signer of identity's new keys, or NULL for the server's. */
const char *
policy_default_signer(const char *identity)
{
	struct pident	*p;

	if (nidents == 0 || (p = ident_find(identity)) == NULL ||
	    p->c.default_signer[0] == '\0')
		return (NULL);
	return (p->c.default_signer);
}

/* --- grants --------------------------------------------------------- */

/*
 * What identity may do to o with op.  The one check of every operation
 * on an object (kop_load): its owner and the admins may do everything;
 * others what a grant on the object, its owner or its signer gives
 * them.  An object of which a client holds no grant at all does not
 * exist for it.
 */
enum policy_answer
policy_may(const char *identity, const struct ks_object *o, uint32_t op)
{
	struct grant	*g;
	uint64_t	 ops = 0;

	if (identity[0] == '\0')
		return (POLICY_HIDDEN);
	if (strcmp(o->owner, identity) == 0 || engine_admin(identity))
		return (POLICY_ALLOWED);
	if (ngrants == 0)
		return (POLICY_HIDDEN);
	if ((g = grant_get(identity, GRANT_OBJECT, o->id)) != NULL)
		ops |= g->ops;
	if ((g = grant_get(identity, GRANT_OWNER, o->owner)) != NULL)
		ops |= g->ops;
	if (o->signer[0] != '\0' &&
	    (g = grant_get(identity, GRANT_SIGNER, o->signer)) != NULL)
		ops |= g->ops;
	if (ops == 0)
		return (POLICY_HIDDEN);
	if (op < 64 && (ops & (1ULL << op)) != 0)
		return (POLICY_ALLOWED);
	return (POLICY_DENIED);
}

static struct grant *
grant_get(const char *holder, int scope, const char *target)
{
	struct grant	 key;

	/* The tree only reads them. */
	key.holder = (char *)(uintptr_t)holder;
	key.scope = scope;
	key.target = (char *)(uintptr_t)target;
	return (RB_FIND(grant_tree, &grants, &key));
}

/* Does holder hold any grant?  (Locate looks further only then.) */
int
policy_grants_any(const char *holder)
{
	struct grant	 key, *g;

	if (ngrants == 0)
		return (0);
	key.holder = (char *)(uintptr_t)holder;
	key.scope = 0;
	key.target = (char *)(uintptr_t)"";
	g = RB_NFIND(grant_tree, &grants, &key);
	return (g != NULL && strcmp(g->holder, holder) == 0);
}

/*
 * Each grant of holder that gives op, to fn, in the tree's order
 * (objects, owners, signers); the number of them.
 */
size_t
policy_grants(const char *holder, uint32_t op,
    void (*fn)(int, const char *, uint64_t, void *), void *arg)
{
	struct grant	 key, *g;
	size_t		 n = 0;

	if (ngrants == 0 || op >= 64)
		return (0);
	key.holder = (char *)(uintptr_t)holder;
	key.scope = 0;
	key.target = (char *)(uintptr_t)"";
	for (g = RB_NFIND(grant_tree, &grants, &key);
	    g != NULL && strcmp(g->holder, holder) == 0;
	    g = RB_NEXT(grant_tree, &grants, g))
		if (g->ops & (1ULL << op)) {
			fn(g->scope, g->target, g->ops, arg);
			n++;
		}
	return (n);
}

size_t
policy_ngrants(void)
{
	return (ngrants);
}

static void
grant_put(const char *holder, int scope, const char *target, uint64_t ops)
{
	struct grant	*g;

	if ((g = grant_get(holder, scope, target)) != NULL) {
		if (ops != 0) {
			g->ops = ops;
			return;
		}
		RB_REMOVE(grant_tree, &grants, g);
		free(g->holder);
		free(g->target);
		free(g);
		ngrants--;
		return;
	}
	if (ops == 0)
		return;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->holder = strdup(holder)) == NULL ||
	    (g->target = strdup(target)) == NULL)
		fatal(NULL);
	g->scope = scope;
	g->ops = ops;
	RB_INSERT(grant_tree, &grants, g);
	ngrants++;
}

static int
grant_load_one(const char *holder, int scope, const char *target,
    uint64_t ops, void *arg)
{
	(void)arg;
	if (scope < GRANT_OBJECT || scope > GRANT_SIGNER)
		log_warnx("keystore: grant of %s with scope %d ignored",
		    holder, scope);
	else
		grant_put(holder, scope, target, ops);
	return (0);
}

/* The grants of the keystore, into memory (once, at start). */
int
policy_load(struct keystore *ks, char *err, size_t len)
{
	policy_free();
	if (ks_grant_scan(ks, grant_load_one, NULL) == -1) {
		(void)snprintf(err, len, "grants: %s", ks_error(ks));
		return (-1);
	}
	if (ngrants > 0)
		log_info("%zu grants", ngrants);
	return (0);
}

void
policy_free(void)
{
	struct grant	*g;

	while ((g = RB_MIN(grant_tree, &grants)) != NULL) {
		RB_REMOVE(grant_tree, &grants, g);
		free(g->holder);
		free(g->target);
		free(g);
	}
	ngrants = 0;
}

/*
 * signerctl grant (add 1) or revoke (add 0): the keystore first, in its
 * own transaction, then the tree, so that the next check sees it.
 */
int
policy_change(const struct ctl_grant *cg, int add, char *msg, size_t len)
{
	struct grant	*g;
	uint64_t	 was, ops;

	g = grant_get(cg->holder, cg->scope, cg->target);
	was = g != NULL ? g->ops : 0;
	ops = add ? was | cg->ops : was & ~cg->ops;
	if (ops == was) {
		(void)snprintf(msg, len, "%s", add ? "granted already" :
		    "no such grant");
		return (add ? 0 : 1);
	}
	if (ks_begin(engine->ks) == -1 ||
	    ks_grant_set(engine->ks, cg->holder, cg->scope, cg->target,
	    ops) == -1 || ks_commit(engine->ks) == -1) {
		(void)snprintf(msg, len, "keystore: %s", ks_error(engine->ks));
		(void)ks_rollback(engine->ks);
		return (-1);
	}
	grant_put(cg->holder, cg->scope, cg->target, ops);
	(void)snprintf(msg, len, "%s", add ? "granted" : "revoked");
	return (0);
}

/*
 * Does g match show grants NAME: held by NAME, or on NAME (an object,
 * owner or signer)?  "" matches every grant.
 */
static int
grant_matches(const struct grant *g, const char *name)
{
	return (name[0] == '\0' || strcmp(g->holder, name) == 0 ||
	    strcmp(g->target, name) == 0);
}

/*
 * At most max grants matching name after the one named by after (NULL
 * to start), into out; *n of them.  1 if there may be more, else 0.
 */
int
policy_grant_list(const char *name, const struct ctl_grant *after,
    struct ctl_grant *out, size_t max, size_t *n)
{
	struct grant	 key, *g;

	*n = 0;
	if (after != NULL) {
		key.holder = (char *)(uintptr_t)after->holder;
		key.scope = after->scope;
		key.target = (char *)(uintptr_t)after->target;
		g = RB_NFIND(grant_tree, &grants, &key);
		if (g != NULL && grant_cmp(g, &key) == 0)
			g = RB_NEXT(grant_tree, &grants, g);
	} else
		g = RB_MIN(grant_tree, &grants);
	for (; g != NULL; g = RB_NEXT(grant_tree, &grants, g)) {
		if (!grant_matches(g, name))
			continue;
		if (*n == max)
			return (1);
		memset(&out[*n], 0, sizeof(out[*n]));
		(void)strlcpy(out[*n].holder, g->holder,
		    sizeof(out[*n].holder));
		out[*n].scope = g->scope;
		(void)strlcpy(out[*n].target, g->target,
		    sizeof(out[*n].target));
		out[*n].ops = g->ops;
		(*n)++;
	}
	return (0);
}
