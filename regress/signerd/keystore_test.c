/*
 * The keystore: round trips, Locate filters, owners kept apart,
 * transactions, that a committed object survives a kill -9, and that the
 * cache of objects read never answers with a row that was written over
 * or rolled back.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "ttlv.h"

const char	*__lsan_default_suppressions(void);
const char	*__lsan_default_options(void);
static int	 scan_count(const struct ks_object *, void *);

/*
 * libatf-c leaks its test case list when asked for it (-l, as kyua does
 * first), which fails the whole program under LeakSanitizer.  Name only
 * the atf functions involved, so that a leak in our code still shows.
 */
const char *
__lsan_default_suppressions(void)
{
	return ("leak:atf_tp_get_tcs\n"
	    "leak:atf_map_init_charpp\n"
	    "leak:atf_list_init\n"
	    "leak:atf_list_append\n"
	    "leak:atf_map_insert\n");
}

/* kyua rejects a test case list with anything on stderr. */
const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}

static struct keystore *
open_ks(const char *path)
{
	struct keystore	*ks;
	char		 err[256];

	if (ks_open(path, &ks, err, sizeof(err)) == -1)
		atf_tc_fail("ks_open: %s", err);
	return (ks);
}

static void
make_obj(struct keystore *ks, struct ks_object *o, const char *owner,
    uint32_t type, uint32_t alg)
{
	static uint8_t	 attrs[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static uint8_t	 mat[] = { 0xde, 0xad, 0xbe, 0xef };

	memset(o, 0, sizeof(*o));
	ATF_REQUIRE(ks_new_id(ks, o->id, sizeof(o->id)) == 0);
	o->type = type;
	o->state = 1;
	o->algorithm = alg;
	strlcpy(o->owner, owner, sizeof(o->owner));
	strlcpy(o->signer, "soft", sizeof(o->signer));
	o->created = 1700000000;
	o->attrs = attrs;
	o->attrs_len = sizeof(attrs);
	o->material = mat;
	o->material_len = sizeof(mat);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o, g;
	const char		*names[] = { "one", "two" };

	make_obj(ks, &o, "alice", 2, 3);
	ATF_REQUIRE(strchr(o.id, ':') == NULL && strlen(o.id) == 36);
	ATF_REQUIRE(ks_insert(ks, &o, names, 2) == -1);	/* no transaction */
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_insert(ks, &o, names, 2) == 0);
	ATF_REQUIRE(ks_insert(ks, &o, names, 2) == -1);	/* same id */
	ATF_REQUIRE(ks_commit(ks) == 0);

	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_STREQ(g.id, o.id);
	ATF_CHECK_EQ(g.type, 2);
	ATF_CHECK_EQ(g.state, 1);
	ATF_CHECK_EQ(g.algorithm, 3);
	ATF_CHECK_STREQ(g.owner, "alice");
	ATF_CHECK_STREQ(g.signer, "soft");
	ATF_CHECK_EQ(g.created, 1700000000);
	ATF_REQUIRE(g.attrs_len == o.attrs_len &&
	    memcmp(g.attrs, o.attrs, o.attrs_len) == 0);
	ATF_REQUIRE(g.material_len == o.material_len &&
	    memcmp(g.material, o.material, o.material_len) == 0);
	ks_object_clear(&g);

	/* Update: new state, no material (as Destroy leaves it). */
	o.state = 6;
	o.material = NULL;
	o.material_len = 0;
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_update(ks, &o, names, 1) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_EQ(g.state, 6);
	ATF_CHECK(g.material == NULL && g.material_len == 0);
	ks_object_clear(&g);

	ATF_CHECK_EQ(ks_get(ks, "no-such-id", &g), 1);
	strlcpy(o.id, "no-such-id", sizeof(o.id));
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_CHECK_EQ(ks_update(ks, &o, NULL, 0), -1);
	ATF_REQUIRE(ks_rollback(ks) == 0);
	ks_close(ks);
}

ATF_TC_WITHOUT_HEAD(locate);
ATF_TC_BODY(locate, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o[4];
	struct ks_filter	 f;
	char			 ids[8][KS_ID_MAX];
	const char		*n0[] = { "key-a" }, *n1[] = { "key-b" };
	size_t			 n;

	ATF_REQUIRE(ks_begin(ks) == 0);
	make_obj(ks, &o[0], "alice", 2, 3);
	ATF_REQUIRE(ks_insert(ks, &o[0], n0, 1) == 0);
	make_obj(ks, &o[1], "alice", 3, 4);
	ATF_REQUIRE(ks_insert(ks, &o[1], n1, 1) == 0);
	make_obj(ks, &o[2], "alice", 4, 4);
	o[2].state = 2;
	ATF_REQUIRE(ks_insert(ks, &o[2], n1, 1) == 0);
	make_obj(ks, &o[3], "bob", 2, 3);
	ATF_REQUIRE(ks_insert(ks, &o[3], n0, 1) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);

	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_CHECK_EQ(n, 3);
	f.name = "key-a";
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_REQUIRE_EQ(n, 1);
	ATF_CHECK_STREQ(ids[0], o[0].id);	/* not bob's key-a */
	f.name = "key-b";
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_CHECK_EQ(n, 2);
	f.state = 2;
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_REQUIRE_EQ(n, 1);
	ATF_CHECK_STREQ(ids[0], o[2].id);
	f.state = 0;
	f.name = NULL;
	f.algorithm = 4;
	f.type = 3;
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_REQUIRE_EQ(n, 1);
	ATF_CHECK_STREQ(ids[0], o[1].id);
	/* Maximum Items and Offset Items. */
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	ATF_REQUIRE(ks_locate(ks, &f, ids, 2, &n) == 0);
	ATF_CHECK_EQ(n, 2);
	f.offset = 2;
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_CHECK_EQ(n, 1);
	f.owner = "mallory";
	f.offset = 0;
	ATF_REQUIRE(ks_locate(ks, &f, ids, 8, &n) == 0);
	ATF_CHECK_EQ(n, 0);
	ks_close(ks);
}

ATF_TC_WITHOUT_HEAD(rollback);
ATF_TC_BODY(rollback, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o, g;

	make_obj(ks, &o, "alice", 2, 3);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	ATF_REQUIRE(ks_rollback(ks) == 0);
	ATF_CHECK_EQ(ks_get(ks, o.id, &g), 1);
	/* Closing with an open transaction loses it. */
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	ks_close(ks);
	ks = open_ks("ks.db");
	ATF_CHECK_EQ(ks_get(ks, o.id, &g), 1);
	ks_close(ks);
}

/*
 * The cache: a second ks_get is a hit; an update (committed or not) is
 * seen by the next ks_get; a rolled-back update is not, even when the
 * row was read inside the transaction; decoded attributes kept with an
 * entry go with it.
 */
ATF_TC_WITHOUT_HEAD(cache);
ATF_TC_BODY(cache, tc)
{
	static uint8_t		 attrs2[] = { 9, 9, 9 };
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o, g;
	const struct ks_stats	*st = ks_stats(ks);
	struct ttlv		*t;
	uint64_t		 misses;

	make_obj(ks, &o, "alice", 2, 3);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ks_object_clear(&g);
	misses = st->misses;
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_EQ(st->misses, misses);
	ATF_CHECK(st->hits >= 1);
	ATF_CHECK_EQ(g.state, 1);
	ATF_CHECK_EQ(g.material_len, 4);
	ATF_CHECK(memcmp(g.material, o.material, 4) == 0);

	/* Decoded attributes ride with the entry, for that content only. */
	ATF_CHECK(ks_cached_attrs(ks, &g) == NULL);
	t = ttlv_new_structure(0x420091);
	ATF_REQUIRE(ks_cache_attrs(ks, &g, t) == 0);
	ATF_CHECK(ks_cached_attrs(ks, &g) == t);
	g.attrs[0] ^= 1;
	ATF_CHECK(ks_cached_attrs(ks, &g) == NULL);
	g.attrs[0] ^= 1;
	ks_object_clear(&g);

	/* A committed update: seen, and the decoded attributes dropped. */
	o.state = 2;
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_update(ks, &o, NULL, 0) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_EQ(g.state, 2);
	ATF_CHECK(ks_cached_attrs(ks, &g) == NULL);
	ks_object_clear(&g);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_EQ(g.state, 2);
	ks_object_clear(&g);

	/*
	 * An update read back inside its transaction, then rolled back:
	 * the next ks_get has the committed row again.
	 */
	o.state = 3;
	o.attrs = attrs2;
	o.attrs_len = sizeof(attrs2);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_update(ks, &o, NULL, 0) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_EQ(g.state, 3);
	ATF_CHECK_EQ(g.attrs_len, sizeof(attrs2));
	ks_object_clear(&g);
	ATF_REQUIRE(ks_rollback(ks) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ATF_CHECK_EQ(g.state, 2);
	ATF_CHECK_EQ(g.attrs_len, 8);
	ks_object_clear(&g);

	/* A rolled-back insert is not found from the cache either. */
	make_obj(ks, &o, "alice", 2, 3);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	ATF_REQUIRE(ks_get(ks, o.id, &g) == 0);
	ks_object_clear(&g);
	ATF_REQUIRE(ks_rollback(ks) == 0);
	ATF_CHECK_EQ(ks_get(ks, o.id, &g), 1);
	ks_close(ks);
}

/*
 * More objects than the cache keeps: each still reads back as written
 * (the least recently used are dropped, never confused).
 */
ATF_TC_WITHOUT_HEAD(cache_bound);
ATF_TC_BODY(cache_bound, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o, g;
	static char		 ids[9000][KS_ID_MAX];
	size_t			 i, n = sizeof(ids) / sizeof(ids[0]);

	ATF_REQUIRE(ks_begin(ks) == 0);
	for (i = 0; i < n; i++) {
		make_obj(ks, &o, "alice", 2, 3);
		o.created = i;
		strlcpy(ids[i], o.id, KS_ID_MAX);
		ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	}
	ATF_REQUIRE(ks_commit(ks) == 0);
	for (i = 0; i < 2 * n; i++) {
		ATF_REQUIRE(ks_get(ks, ids[i % n], &g) == 0);
		ATF_CHECK_EQ(g.created, (int64_t)(i % n));
		ATF_CHECK_STREQ(g.id, ids[i % n]);
		ks_object_clear(&g);
	}
	ks_close(ks);
}

/*
 * A child commits objects and reports each id on a pipe once committed,
 * then is killed with SIGKILL in the middle of a transaction: every
 * reported object is there after reopening, the open transaction is not.
 */
ATF_TC_WITHOUT_HEAD(kill9);
ATF_TC_BODY(kill9, tc)
{
	struct keystore		*ks;
	struct ks_object	 o, g;
	char			 ids[64][KS_ID_MAX], pending[KS_ID_MAX];
	int			 p[2], status, i, n = 0;
	pid_t			 pid;

	ATF_REQUIRE(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		ks = open_ks("ks.db");
		for (i = 0; i < 32; i++) {
			make_obj(ks, &o, "alice", 2, 3);
			if (ks_begin(ks) == -1 ||
			    ks_insert(ks, &o, NULL, 0) == -1 ||
			    ks_commit(ks) == -1)
				_exit(1);
			if (write(p[1], o.id, KS_ID_MAX) != KS_ID_MAX)
				_exit(1);
		}
		/* One more, never committed. */
		make_obj(ks, &o, "alice", 2, 3);
		if (ks_begin(ks) == -1 || ks_insert(ks, &o, NULL, 0) == -1)
			_exit(1);
		if (write(p[1], o.id, KS_ID_MAX) != KS_ID_MAX)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	for (i = 0; i < 32; i++) {
		ATF_REQUIRE(read(p[0], ids[n], KS_ID_MAX) == KS_ID_MAX);
		n++;
	}
	ATF_REQUIRE(read(p[0], pending, KS_ID_MAX) == KS_ID_MAX);
	kill(pid, SIGKILL);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFSIGNALED(status));
	close(p[0]);

	ks = open_ks("ks.db");
	for (i = 0; i < n; i++) {
		ATF_CHECK_EQ_MSG(ks_get(ks, ids[i], &g), 0, "lost %s", ids[i]);
		ks_object_clear(&g);
	}
	ATF_CHECK_EQ(ks_get(ks, pending, &g), 1);
	ks_close(ks);
}

ATF_TC_WITHOUT_HEAD(bad_file);
ATF_TC_BODY(bad_file, tc)
{
	struct keystore	*ks;
	char		 err[256];
	FILE		*f;

	ATF_REQUIRE((f = fopen("junk.db", "w")) != NULL);
	fprintf(f, "this is not an SQLite database, not at all\n");
	fclose(f);
	ATF_CHECK_EQ(ks_open("junk.db", &ks, err, sizeof(err)), -1);
	ATF_CHECK(strstr(err, "junk.db") != NULL);
	ATF_CHECK_EQ(ks_open("/nonexistent/dir/ks.db", &ks, err,
	    sizeof(err)), -1);
}

/* Counts the objects seen, checks each, stops after *(int *)arg. */
static int
scan_count(const struct ks_object *o, void *arg)
{
	int	*n = arg;

	ATF_CHECK(o->material == NULL && o->attrs_len == 8);
	ATF_CHECK_STREQ(o->owner, n[0] % 2 ? "bob" : "alice");
	return (++n[0] == n[1]);
}

/* ks_scan sees every owner's objects, oldest first, and can stop. */
ATF_TC_WITHOUT_HEAD(scan);
ATF_TC_BODY(scan, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o;
	int			 i, n[2];

	ATF_REQUIRE(ks_begin(ks) == 0);
	for (i = 0; i < 5; i++) {
		make_obj(ks, &o, i % 2 ? "bob" : "alice", 2, 3);
		ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	}
	ATF_REQUIRE(ks_commit(ks) == 0);
	n[0] = 0;
	n[1] = -1;
	ATF_REQUIRE(ks_scan(ks, scan_count, n) == 0);
	ATF_CHECK_EQ(n[0], 5);
	n[0] = 0;
	n[1] = 2;
	ATF_REQUIRE(ks_scan(ks, scan_count, n) == 0);
	ATF_CHECK_EQ(n[0], 2);
	ks_close(ks);
}

/* Ids a client may be given: signerd's own, or hsm::<slot>::<key id>. */
ATF_TC_WITHOUT_HEAD(ids);
ATF_TC_BODY(ids, tc)
{
	static const char	*good[] = {
		"00000000-0000-4000-8000-000000000001", "abc-DEF-9",
		"hsm::0::k", "hsm::1234567890::my.key_1-x",
		"hsm::1::aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};
	static const char	*bad[] = {
		"", "a:b", "a b", "hsm::", "hsm::1", "hsm::1::", "hsm::x::k",
		"hsm:1::k", "hsm::1:k", "hsm::1::a:b", "hsm::1::a b",
		"hsm::-1::k", "hsm::12345678901234567890::k",
		"hsm::1::aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"HSM::1::k"
	};
	struct keystore		*ks;
	struct ks_object	 o;
	unsigned long long	 slot = 0;
	const char		*k = NULL;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_MSG(ks_id_valid(good[i]), "%s refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_MSG(!ks_id_valid(bad[i]), "%s taken", bad[i]);
	ATF_REQUIRE(ks_hsm_id("hsm::42::key.1", &slot, &k) == 0);
	ATF_CHECK_EQ(slot, 42);
	ATF_CHECK_STREQ(k, "key.1");

	/* The keystore takes no other id. */
	ks = open_ks(":memory:");
	ATF_REQUIRE(ks_begin(ks) == 0);
	make_obj(ks, &o, "alice", 2, 3);
	strlcpy(o.id, "a:b", sizeof(o.id));
	ATF_CHECK(ks_insert(ks, &o, NULL, 0) == -1);
	strlcpy(o.id, "hsm::7::k", sizeof(o.id));
	ATF_CHECK(ks_insert(ks, &o, NULL, 0) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ks_close(ks);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, locate);
	ATF_TP_ADD_TC(tp, rollback);
	ATF_TP_ADD_TC(tp, cache);
	ATF_TP_ADD_TC(tp, cache_bound);
	ATF_TP_ADD_TC(tp, kill9);
	ATF_TP_ADD_TC(tp, bad_file);
	ATF_TP_ADD_TC(tp, scan);
	ATF_TP_ADD_TC(tp, ids);
	return (atf_no_error());
}
