/*
 * The engine's policy (policy.c) on its own: password hashes, the check
 * of what an identity may do to an object through grants of each
 * scope, and the authentication of a request (fingerprint bindings,
 * passwords, their rate limit and cache).  engine.c is stood in for.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "keystore.h"
#include "kmip.h"
#include "policy.h"
#include "pwhash.h"
#include "ttlv.h"

#include "../atfsan.h"
int		 engine_admin(const char *);

struct engine	*engine;

int
engine_admin(const char *identity)
{
	return (strcmp(identity, "root-op") == 0);
}

static void
setup(void)
{
	char	 err[256];

	if ((engine = calloc(1, sizeof(*engine))) == NULL)
		atf_tc_fail("calloc");
	if (ks_open(":memory:", &engine->ks, err, sizeof(err)) == -1)
		atf_tc_fail("ks_open: %s", err);
}

static void
teardown(void)
{
	policy_free();
	ks_close(engine->ks);
	free(engine);
}

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

ATF_TC_WITHOUT_HEAD(pwhash);
ATF_TC_BODY(pwhash, tc)
{
	struct pwhash	 h;
	char		 s[PWHASH_MAX], why[160];
	double		 t;

	ATF_REQUIRE(pwhash_make("s3cret", 6, s, sizeof(s)) == 0);
	ATF_CHECK(strncmp(s, "$scrypt$ln=13,r=8,p=1$", 22) == 0);
	ATF_REQUIRE(pwhash_parse(s, &h, why, sizeof(why)) == 0);
	t = now_ms();
	ATF_CHECK_EQ(pwhash_verify(&h, "s3cret", 6), 1);
	printf("scrypt 2^13 r 8 p 1: %.1f ms\n", now_ms() - t);
	ATF_CHECK_EQ(pwhash_verify(&h, "s3creT", 6), 0);
	/* HMAC pads its key with zeros: policy refuses NULs (below). */
	ATF_CHECK_EQ(pwhash_verify(&h, "", 0), 0);

	/* Keys another implementation (Python's hashlib) derived. */
	ATF_REQUIRE(pwhash_parse("$pbkdf2-sha256$i=10000$c2FsdHNhbHQ$"
	    "X1gny5glAJnEPZRwO3EFZU1ZaJgbKyqpfDgz0/bdzOU", &h, why,
	    sizeof(why)) == 0);
	ATF_CHECK_EQ(pwhash_verify(&h, "passwd", 6), 1);
	ATF_CHECK_EQ(pwhash_verify(&h, "passwe", 6), 0);
	ATF_REQUIRE(pwhash_parse("$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2Fs"
	    "dA$DudPhYUu1iibCTyYvEPNHMftQlCeDPhGS7OT5rCvpzk", &h, why,
	    sizeof(why)) == 0);
	ATF_CHECK_EQ(pwhash_verify(&h, "pw", 2), 1);

	/* Bounds: cost, sizes, form. */
	ATF_CHECK(pwhash_parse("$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA"
	    "$MTIzNDU2Nzg5MDEyMzQ1Ng", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("$scrypt$ln=16,r=16,p=1$c2FsdHNhbHRzYWx0c2Fsd"
	    "A$MTIzNDU2Nzg5MDEyMzQ1Ng", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("$scrypt$ln=13,r=8,p=1$c2FsdA$MTIzNDU2Nzg5MD"
	    "EyMzQ1Ng", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("$scrypt$ln=13,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA"
	    "$MTIz", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("$scrypt$ln=13,r=8$c2FsdHNhbHRzYWx0c2FsdA$MT"
	    "IzNDU2Nzg5MDEyMzQ1Ng", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("$pbkdf2-sha256$i=999$c2FsdHNhbHQ$MTIzNDU2Nz"
	    "g5MDEyMzQ1Ng", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("$pbkdf2-sha256$i=10000$c2FsdHNhbHQ$MTIz!DU2"
	    "Nzg5MDEyMzQ1Ng", &h, why, sizeof(why)) == -1);
	ATF_CHECK(pwhash_parse("hunter2", &h, why, sizeof(why)) == -1);
	ATF_CHECK(strstr(why, "hunter2") == NULL);
}

static void
obj(struct ks_object *o, const char *id, const char *owner,
    const char *signer)
{
	memset(o, 0, sizeof(*o));
	(void)strlcpy(o->id, id, sizeof(o->id));
	(void)strlcpy(o->owner, owner, sizeof(o->owner));
	(void)strlcpy(o->signer, signer, sizeof(o->signer));
}

static void
grant(const char *holder, int scope, const char *target, uint64_t ops,
    int add)
{
	struct ctl_grant	 g;
	char			 msg[256];

	memset(&g, 0, sizeof(g));
	(void)strlcpy(g.holder, holder, sizeof(g.holder));
	g.scope = scope;
	(void)strlcpy(g.target, target, sizeof(g.target));
	g.ops = ops;
	ATF_REQUIRE_MSG(policy_change(&g, add, msg, sizeof(msg)) != -1, "%s",
	    msg);
}

#define OP(x)	(1ULL << KMIP_OP_##x)

ATF_TC_WITHOUT_HEAD(may);
ATF_TC_BODY(may, tc)
{
	struct ks_object	 a1, a2, b1;
	char			 err[256];

	setup();
	obj(&a1, "a-1", "alice", "soft");
	obj(&a2, "a-2", "alice", "hsm");
	obj(&b1, "b-1", "bob", "soft");

	/* Owners and admins; nobody else without a grant. */
	ATF_CHECK_EQ(policy_may("alice", &a1, KMIP_OP_DESTROY),
	    POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("root-op", &a1, KMIP_OP_DESTROY),
	    POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_GET), POLICY_HIDDEN);
	ATF_CHECK_EQ(policy_may("", &a1, KMIP_OP_GET), POLICY_HIDDEN);

	/* One object, one operation. */
	grant("bob", GRANT_OBJECT, "a-1", OP(SIGN), 1);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_SIGN), POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_GET), POLICY_DENIED);
	ATF_CHECK_EQ(policy_may("bob", &a2, KMIP_OP_SIGN), POLICY_HIDDEN);
	ATF_CHECK_EQ(policy_may("carol", &a1, KMIP_OP_SIGN), POLICY_HIDDEN);
	/* Grants add up; revoke takes away only what it names. */
	grant("bob", GRANT_OBJECT, "a-1", OP(GET), 1);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_GET), POLICY_ALLOWED);
	grant("bob", GRANT_OBJECT, "a-1", OP(SIGN), 0);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_SIGN), POLICY_DENIED);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_GET), POLICY_ALLOWED);
	grant("bob", GRANT_OBJECT, "a-1", OP(GET), 0);
	ATF_CHECK_EQ(policy_may("bob", &a1, KMIP_OP_GET), POLICY_HIDDEN);
	ATF_CHECK_EQ(policy_ngrants(), 0);

	/* An owner's objects; a signer's. */
	grant("carol", GRANT_OWNER, "alice", OP(SIGN) | OP(LOCATE), 1);
	ATF_CHECK_EQ(policy_may("carol", &a2, KMIP_OP_SIGN), POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("carol", &b1, KMIP_OP_SIGN), POLICY_HIDDEN);
	grant("dave", GRANT_SIGNER, "soft", OP(GET_ATTRIBUTES), 1);
	ATF_CHECK_EQ(policy_may("dave", &a1, KMIP_OP_GET_ATTRIBUTES),
	    POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("dave", &b1, KMIP_OP_GET_ATTRIBUTES),
	    POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("dave", &a2, KMIP_OP_GET_ATTRIBUTES),
	    POLICY_HIDDEN);
	ATF_CHECK(policy_grants_any("carol"));
	ATF_CHECK(!policy_grants_any("car"));
	ATF_CHECK(!policy_grants_any("bob"));

	/* Kept in the keystore: loaded again, the same answers. */
	ATF_REQUIRE(policy_load(engine->ks, err, sizeof(err)) == 0);
	ATF_CHECK_EQ(policy_ngrants(), 2);
	ATF_CHECK_EQ(policy_may("carol", &a2, KMIP_OP_SIGN), POLICY_ALLOWED);
	ATF_CHECK_EQ(policy_may("dave", &b1, KMIP_OP_DESTROY), POLICY_DENIED);
	teardown();
}

/*
 * What one check costs, with 10000 grants of others in memory: the
 * owner's path and a holder's, per call (printed; the bound is loose,
 * against a machine that stalls).
 */
ATF_TC_WITHOUT_HEAD(cost);
ATF_TC_BODY(cost, tc)
{
	struct ks_object	 a1;
	char			 who[32], id[32];
	double			 t, own, held;
	int			 i, n = 1000000;

	setup();
	obj(&a1, "a-1", "alice", "soft");
	for (i = 0; i < 10000; i++) {
		(void)snprintf(who, sizeof(who), "user%d", i);
		(void)snprintf(id, sizeof(id), "obj-%d", i);
		grant(who, i % 3 == 0 ? GRANT_OBJECT : i % 3 == 1 ?
		    GRANT_OWNER : GRANT_SIGNER, i % 3 == 0 ? id :
		    i % 3 == 1 ? "alice" : "soft", OP(SIGN), 1);
	}
	grant("bob", GRANT_OBJECT, "a-1", OP(SIGN), 1);
	t = now_ms();
	for (i = 0; i < n; i++)
		if (policy_may("alice", &a1, KMIP_OP_SIGN) != POLICY_ALLOWED)
			atf_tc_fail("owner");
	own = (now_ms() - t) * 1e6 / n;
	t = now_ms();
	for (i = 0; i < n; i++)
		if (policy_may("bob", &a1, KMIP_OP_SIGN) != POLICY_ALLOWED)
			atf_tc_fail("holder");
	held = (now_ms() - t) * 1e6 / n;
	printf("policy_may with %zu grants: owner %.0f ns, holder %.0f ns\n",
	    policy_ngrants(), own, held);
	ATF_CHECK(held < 20000);
	teardown();
}

/* A Request Header with a Username and Password Credential, or none. */
static struct ttlv *
header(const char *user, const char *pw)
{
	struct ttlv	*h, *c, *v;

	h = ttlv_new_structure(KMIP_TAG_REQUEST_HEADER);
	if (user != NULL) {
		c = ttlv_add_structure(ttlv_add_structure(h,
		    KMIP_TAG_AUTHENTICATION), KMIP_TAG_CREDENTIAL);
		ttlv_add_enum(c, KMIP_TAG_CREDENTIAL_TYPE,
		    KMIP_CRED_USERNAME_AND_PASSWORD);
		v = ttlv_add_structure(c, KMIP_TAG_CREDENTIAL_VALUE);
		ttlv_add_string(v, KMIP_TAG_USERNAME, user);
		if (pw != NULL)
			ttlv_add_string(v, KMIP_TAG_PASSWORD, pw);
	}
	return (h);
}

/* policy_authenticate of one request: 0 or -1; identity in *hdr. */
static int
auth(struct fe_hdr *hdr, uint64_t conn, const char *cn, uint8_t fp,
    const char *user, const char *pw, char *why, size_t len)
{
	struct ttlv	*h, *t;
	int		 rv;

	memset(hdr, 0, sizeof(*hdr));
	hdr->conn_id = conn;
	(void)strlcpy(hdr->identity, cn, sizeof(hdr->identity));
	memset(hdr->cert_sha256, fp, sizeof(hdr->cert_sha256));
	why[0] = '\0';
	h = header(user, pw);
	rv = policy_authenticate(hdr, h, why, len);
	/* The password is wiped from the request. */
	if (pw != NULL && (t = ttlv_find(h, KMIP_TAG_AUTHENTICATION)) !=
	    NULL && (t = ttlv_find(t, KMIP_TAG_CREDENTIAL)) != NULL &&
	    (t = ttlv_find(t, KMIP_TAG_CREDENTIAL_VALUE)) != NULL &&
	    (t = ttlv_find(t, KMIP_TAG_PASSWORD)) != NULL)
		ATF_CHECK(t->v.s.len == 0 || (t->v.s.data[0] == 0 &&
		    memcmp(t->v.s.data, t->v.s.data + 1,
		    t->v.s.len - 1) == 0));
	ttlv_free(h);
	return (rv);
}

/* bob's password with a NUL after it, on a new connection. */
static int
auth_nul(struct fe_hdr *hdr)
{
	struct ttlv	*h, *c, *v;
	char		 why[160];
	int		 rv;

	memset(hdr, 0, sizeof(*hdr));
	hdr->conn_id = 99;
	(void)strlcpy(hdr->identity, "bob", sizeof(hdr->identity));
	memset(hdr->cert_sha256, 0xcc, sizeof(hdr->cert_sha256));
	h = ttlv_new_structure(KMIP_TAG_REQUEST_HEADER);
	c = ttlv_add_structure(ttlv_add_structure(h,
	    KMIP_TAG_AUTHENTICATION), KMIP_TAG_CREDENTIAL);
	ttlv_add_enum(c, KMIP_TAG_CREDENTIAL_TYPE,
	    KMIP_CRED_USERNAME_AND_PASSWORD);
	v = ttlv_add_structure(c, KMIP_TAG_CREDENTIAL_VALUE);
	ttlv_add_string(v, KMIP_TAG_USERNAME, "bob");
	ttlv_add_text(v, KMIP_TAG_PASSWORD, "pw\0", 3);
	rv = policy_authenticate(hdr, h, why, sizeof(why));
	ttlv_free(h);
	return (rv);
}

ATF_TC_WITHOUT_HEAD(authenticate);
ATF_TC_BODY(authenticate, tc)
{
	struct conf_identity	 ci;
	struct fe_hdr		 hdr;
	char			 why[160];
	double			 t, cold, warm;
	int			 i;

	setup();
	policy_conf_start();
	memset(&ci, 0, sizeof(ci));
	(void)strlcpy(ci.name, "app", sizeof(ci.name));
	ci.nfp = 1;
	memset(ci.fp[0], 0xaa, sizeof(ci.fp[0]));
	policy_conf_identity(&ci);
	memset(&ci, 0, sizeof(ci));
	(void)strlcpy(ci.name, "bob", sizeof(ci.name));
	ATF_REQUIRE(pwhash_make("pw", 2, ci.password,
	    sizeof(ci.password)) == 0);
	(void)strlcpy(ci.default_signer, "s1", sizeof(ci.default_signer));
	ci.ops = OP(SIGN);
	policy_conf_identity(&ci);
	policy_conf_done();

	/* A binding wins over the CN; the CN alone is not the binding. */
	ATF_CHECK(auth(&hdr, 1, "whoever", 0xaa, NULL, NULL, why,
	    sizeof(why)) == 0);
	ATF_CHECK_STREQ(hdr.identity, "app");
	ATF_CHECK(auth(&hdr, 1, "app", 0xbb, NULL, NULL, why,
	    sizeof(why)) == -1);
	/* No password: any Credential is ignored. */
	ATF_CHECK(auth(&hdr, 1, "alice", 0xcc, "token", "1234", why,
	    sizeof(why)) == 0);
	ATF_CHECK_STREQ(hdr.identity, "alice");

	/* bob: his password, on every request. */
	ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, NULL, NULL, why,
	    sizeof(why)) == -1);
	ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, "bob", NULL, why,
	    sizeof(why)) == -1);
	ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, "alice", "pw", why,
	    sizeof(why)) == -1);
	t = now_ms();
	ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, "bob", "pw", why,
	    sizeof(why)) == 0);
	cold = now_ms() - t;
	/* The same connection and password again: the cache, no scrypt. */
	t = now_ms();
	for (i = 0; i < 10; i++)
		ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, "bob", "pw", why,
		    sizeof(why)) == 0);
	warm = (now_ms() - t) / 10;
	printf("first request %.2f ms, next ones %.3f ms\n", cold, warm);
	ATF_CHECK_MSG(warm * 4 < cold, "cached %.3f ms, not %.3f ms", warm,
	    cold);
	/* Not another password on that connection. */
	ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, "bob", "pW", why,
	    sizeof(why)) == -1);
	ATF_CHECK(auth_nul(&hdr) == -1);

	/* Per identity: operations and the default signer. */
	ATF_CHECK(policy_op_allowed("bob", KMIP_OP_SIGN));
	ATF_CHECK(!policy_op_allowed("bob", KMIP_OP_GET));
	ATF_CHECK(policy_op_allowed("bob", KMIP_OP_QUERY));
	ATF_CHECK(policy_op_allowed("alice", KMIP_OP_GET));
	ATF_CHECK_STREQ(policy_default_signer("bob"), "s1");
	ATF_CHECK(policy_default_signer("alice") == NULL);

	/* Three more wrong ones: five in a row, refused even when right. */
	for (i = 0; i < 3; i++)
		ATF_CHECK(auth(&hdr, 3, "bob", 0xcc, "bob", "x", why,
		    sizeof(why)) == -1);
	ATF_CHECK(auth(&hdr, 3, "bob", 0xcc, "bob", "pw", why,
	    sizeof(why)) == -1);
	ATF_CHECK_MSG(strstr(why, "too many") != NULL, "%s", why);
	/* A reload keeps the count; a new configuration trusts no cache. */
	policy_conf_start();
	policy_conf_identity(&ci);
	policy_conf_done();
	ATF_CHECK(auth(&hdr, 2, "bob", 0xcc, "bob", "pw", why,
	    sizeof(why)) == -1);
	ATF_CHECK_MSG(strstr(why, "too many") != NULL, "%s", why);
	policy_conf_start();
	policy_conf_done();
	teardown();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, pwhash);
	ATF_TP_ADD_TC(tp, may);
	ATF_TP_ADD_TC(tp, authenticate);
	ATF_TP_ADD_TC(tp, cost);
	return (atf_no_error());
}
