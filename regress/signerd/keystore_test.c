/*
 * The keystore: round trips, Locate's index and its query plans, owners
 * kept apart, transactions, the reindex of a schema 1 keystore, that a
 * committed object survives a kill -9, and that the cache of objects
 * read never answers with a row that was written over or rolled back.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "keystore.h"
#include "kmip.h"
#include "ttlv.h"

#include "../atfsan.h"
static int	 scan_count(const struct ks_object *, void *);
static struct ks_index idx_text(uint32_t, const char *);
static struct ks_index idx_int(uint32_t, int64_t);
static size_t	 locate_all(struct keystore *, struct ks_filter *,
		    struct ks_found *, size_t, size_t);

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

static struct ks_index
idx_text(uint32_t attr, const char *s)
{
	struct ks_index	 x;

	memset(&x, 0, sizeof(x));
	x.attr = attr;
	x.text = 1;
	x.s = s;
	x.len = strlen(s);
	return (x);
}

static struct ks_index
idx_int(uint32_t attr, int64_t i)
{
	struct ks_index	 x;

	memset(&x, 0, sizeof(x));
	x.attr = attr;
	x.i = i;
	return (x);
}

/* Every candidate of f, in steps of step, at most max. */
static size_t
locate_all(struct keystore *ks, struct ks_filter *f, struct ks_found *out,
    size_t max, size_t step)
{
	size_t	 n, total = 0;

	do {
		ATF_REQUIRE(total + step <= max);
		ATF_REQUIRE(ks_locate(ks, f, out + total, step, &n) == 0);
		total += n;
	} while (n == step);
	return (total);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o, g;
	struct ks_index		 names[2];

	names[0] = idx_text(KMIP_TAG_NAME, "one");
	names[1] = idx_text(KMIP_TAG_NAME, "two");
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
	struct ks_object	 o[5];
	struct ks_filter	 f;
	struct ks_found		 c[16];
	struct ks_index		 x0[3], x1[2];
	size_t			 n, i;

	x0[0] = idx_text(KMIP_TAG_NAME, "key-a");
	x0[1] = idx_text(KMIP_TAG_OBJECT_GROUP, "g");
	x0[2] = idx_int(KMIP_TAG_ACTIVATION_DATE, 300);
	x1[0] = idx_text(KMIP_TAG_NAME, "key-b");
	x1[1] = idx_int(KMIP_TAG_ACTIVATION_DATE, 100);
	ATF_REQUIRE(ks_begin(ks) == 0);
	make_obj(ks, &o[0], "alice", 2, 3);
	ATF_REQUIRE(ks_insert(ks, &o[0], x0, 3) == 0);
	make_obj(ks, &o[1], "alice", 3, 4);
	ATF_REQUIRE(ks_insert(ks, &o[1], x1, 2) == 0);
	make_obj(ks, &o[2], "alice", 4, 4);
	o[2].state = 2;
	ATF_REQUIRE(ks_insert(ks, &o[2], x1, 1) == 0);
	make_obj(ks, &o[3], "bob", 2, 3);
	ATF_REQUIRE(ks_insert(ks, &o[3], x0, 3) == 0);
	make_obj(ks, &o[4], "alice", 2, 3);
	ATF_REQUIRE(ks_insert(ks, &o[4], NULL, 0) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);

	/* All of alice's, oldest first, in steps of 2; never bob's. */
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	ATF_REQUIRE_EQ(locate_all(ks, &f, c, 16, 2), 4);
	for (i = 0; i < 4; i++)
		ATF_CHECK_STREQ(c[i].id, o[i < 3 ? i : 4].id);
	ATF_CHECK_EQ(c[2].state, 2);
	ATF_CHECK_EQ(c[1].type, 3);
	ATF_CHECK_EQ(c[1].algorithm, 4);

	/* By a Name: not bob's key-a. */
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_VALUE;
	f.value = idx_text(KMIP_TAG_NAME, "key-a");
	ATF_REQUIRE_EQ(locate_all(ks, &f, c, 16, 8), 1);
	ATF_CHECK_STREQ(c[0].id, o[0].id);
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_VALUE;
	f.value = idx_text(KMIP_TAG_NAME, "key-b");
	ATF_REQUIRE_EQ(locate_all(ks, &f, c, 16, 1), 2);
	ATF_CHECK_STREQ(c[0].id, o[1].id);
	ATF_CHECK_STREQ(c[1].id, o[2].id);
	/* A Name is not an Object Group. */
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_VALUE;
	f.value = idx_text(KMIP_TAG_OBJECT_GROUP, "key-b");
	ATF_CHECK_EQ(locate_all(ks, &f, c, 16, 8), 0);

	/* By type. */
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_TYPE;
	f.type = 2;
	ATF_REQUIRE_EQ(locate_all(ks, &f, c, 16, 1), 2);
	ATF_CHECK_STREQ(c[0].id, o[0].id);
	ATF_CHECK_STREQ(c[1].id, o[4].id);

	/* A date range, in date order: 100 (o[1]) before 300 (o[0]). */
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_RANGE;
	f.value = idx_int(KMIP_TAG_ACTIVATION_DATE, 100);
	f.hi = 300;
	ATF_REQUIRE_EQ(locate_all(ks, &f, c, 16, 1), 2);
	ATF_CHECK_STREQ(c[0].id, o[1].id);
	ATF_CHECK_STREQ(c[1].id, o[0].id);
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_RANGE;
	f.value = idx_int(KMIP_TAG_ACTIVATION_DATE, 101);
	f.hi = 299;
	ATF_CHECK_EQ(locate_all(ks, &f, c, 16, 4), 0);

	/* An update replaces the object's entries. */
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_update(ks, &o[0], x1, 1) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_VALUE;
	f.value = idx_text(KMIP_TAG_NAME, "key-a");
	ATF_CHECK_EQ(locate_all(ks, &f, c, 16, 8), 0);
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_VALUE;
	f.value = idx_text(KMIP_TAG_NAME, "key-b");
	ATF_CHECK_EQ(locate_all(ks, &f, c, 16, 8), 3);

	memset(&f, 0, sizeof(f));
	f.owner = "mallory";
	ATF_REQUIRE(ks_locate(ks, &f, c, 8, &n) == 0);
	ATF_CHECK_EQ(n, 0);
	ks_close(ks);
}

/*
 * Every Locate step reads its candidates from an index in the order it
 * answers them: no scan of a table, no sort of what it found, whatever
 * the store holds.  A store of millions of objects is not needed to see
 * a plan that would read them all.
 */
ATF_TC_WITHOUT_HEAD(plans);
ATF_TC_BODY(plans, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_filter	 f;
	char			 plan[1024];
	enum ks_by		 by;

	for (by = KS_BY_OWNER; by <= KS_BY_RANGE; by++) {
		memset(&f, 0, sizeof(f));
		f.owner = "alice";
		f.by = by;
		f.type = 2;
		f.value = by == KS_BY_VALUE ? idx_text(KMIP_TAG_NAME, "n") :
		    idx_int(KMIP_TAG_ACTIVATION_DATE, 1);
		f.hi = 2;
		ATF_REQUIRE(ks_locate_plan(ks, &f, plan, sizeof(plan)) == 0);
		printf("by %d:\n%s", by, plan);
		ATF_CHECK_MSG(strstr(plan, "SEARCH") != NULL,
		    "by %d: no index search:\n%s", by, plan);
		ATF_CHECK_MSG(strstr(plan, "SCAN") == NULL,
		    "by %d: a scan:\n%s", by, plan);
		ATF_CHECK_MSG(strstr(plan, "TEMP B-TREE") == NULL,
		    "by %d: a sort:\n%s", by, plan);
	}
	ks_close(ks);
}

/*
 * A keystore of schema 1 (Names in a table of their own) is indexed
 * again from its objects' attributes, once, and then is schema 2.
 */
static size_t
reindex_fn(const struct ks_object *o, struct ks_index *idx, size_t max,
    void **keep)
{
	char	*s;

	ATF_REQUIRE(max >= 1);
	/* The test's "attributes": the name to index, as text. */
	if ((s = strndup((const char *)o->attrs, o->attrs_len)) == NULL)
		atf_tc_fail("strndup");
	*keep = s;
	idx[0] = idx_text(KMIP_TAG_OBJECT_GROUP, s);
	return (1);
}

ATF_TC_WITHOUT_HEAD(reindex);
ATF_TC_BODY(reindex, tc)
{
	struct keystore		*ks;
	struct ks_filter	 f;
	struct ks_found		 c[4];
	sqlite3			*db;

	ATF_REQUIRE(sqlite3_open("old.db", &db) == SQLITE_OK);
	ATF_REQUIRE(sqlite3_exec(db,
	    "CREATE TABLE objects (id TEXT PRIMARY KEY NOT NULL,"
	    " type INTEGER NOT NULL, state INTEGER NOT NULL,"
	    " algorithm INTEGER NOT NULL, owner TEXT NOT NULL,"
	    " signer TEXT NOT NULL, created INTEGER NOT NULL,"
	    " attributes BLOB NOT NULL, material BLOB);"
	    "CREATE TABLE names (id TEXT NOT NULL, name TEXT NOT NULL);"
	    "INSERT INTO objects VALUES ('a-1', 2, 2, 3, 'alice', 'soft', 1,"
	    " CAST('grp' AS BLOB), NULL);"
	    "INSERT INTO names VALUES ('a-1', 'n');"
	    "PRAGMA user_version = 1;", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	ks = open_ks("old.db");
	ATF_REQUIRE(ks_needs_reindex(ks));
	ATF_REQUIRE(ks_reindex(ks, reindex_fn, free) == 0);
	ATF_CHECK(!ks_needs_reindex(ks));
	memset(&f, 0, sizeof(f));
	f.owner = "alice";
	f.by = KS_BY_VALUE;
	f.value = idx_text(KMIP_TAG_OBJECT_GROUP, "grp");
	ATF_REQUIRE_EQ(locate_all(ks, &f, c, 4, 2), 1);
	ATF_CHECK_STREQ(c[0].id, "a-1");
	ks_close(ks);
	/* Schema 2 now: nothing to do at the next start. */
	ks = open_ks("old.db");
	ATF_CHECK(!ks_needs_reindex(ks));
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
 * ks_peek, Locate's look at its candidates, neither fills the cache nor
 * reorders it: after a look at more objects than the cache holds, the
 * key a client uses is still a hit, and a peeked object is not cached.
 */
ATF_TC_WITHOUT_HEAD(cache_peek);
ATF_TC_BODY(cache_peek, tc)
{
	struct keystore		*ks = open_ks("ks.db");
	struct ks_object	 o, g;
	const struct ks_stats	*st = ks_stats(ks);
	static char		 ids[9000][KS_ID_MAX];
	size_t			 i, n = sizeof(ids) / sizeof(ids[0]);
	uint64_t		 misses;

	ATF_REQUIRE(ks_begin(ks) == 0);
	for (i = 0; i < n; i++) {
		make_obj(ks, &o, "alice", 2, 3);
		o.created = i;
		strlcpy(ids[i], o.id, KS_ID_MAX);
		ATF_REQUIRE(ks_insert(ks, &o, NULL, 0) == 0);
	}
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_get(ks, ids[0], &g) == 0);	/* the hot key */
	ks_object_clear(&g);
	for (i = 1; i < n; i++) {
		ATF_REQUIRE(ks_peek(ks, ids[i], &g) == 0);
		ATF_CHECK_EQ(g.created, (int64_t)i);
		ks_object_clear(&g);
	}
	/* The hot key is peeked from the cache too, and stays. */
	ATF_REQUIRE(ks_peek(ks, ids[0], &g) == 0);
	ks_object_clear(&g);
	misses = st->misses;
	ATF_REQUIRE(ks_get(ks, ids[0], &g) == 0);
	ATF_CHECK_EQ(st->misses, misses);
	ks_object_clear(&g);
	ATF_REQUIRE(ks_get(ks, ids[1], &g) == 0);
	ATF_CHECK_EQ(st->misses, misses + 1);
	ks_object_clear(&g);
	ATF_CHECK_EQ(ks_peek(ks, "no-such-id", &g), 1);
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

/* Grants: set, change, drop, and each read back by ks_grant_scan. */
struct grant_seen {
	int	 n;
	char	 last[256];
	uint64_t ops;
	int	 stop;		/* what grant_seen returns */
};

static int
grant_seen(const char *holder, int scope, const char *target, uint64_t ops,
    void *arg)
{
	struct grant_seen	*g = arg;

	g->n++;
	(void)snprintf(g->last, sizeof(g->last), "%s/%d/%s", holder, scope,
	    target);
	g->ops = ops;
	return (g->stop);
}

ATF_TC_WITHOUT_HEAD(grants);
ATF_TC_BODY(grants, tc)
{
	struct keystore		*ks = open_ks("g.db");
	struct grant_seen	 g;

	/* Only inside a transaction. */
	ATF_CHECK(ks_grant_set(ks, "bob", 1, "x-1", 1) == -1);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_grant_set(ks, "bob", 2, "alice", 1ULL << 33) == 0);
	ATF_REQUIRE(ks_grant_set(ks, "bob", 2, "alice",
	    1ULL << 33 | 1ULL << 63) == 0);
	ATF_REQUIRE(ks_grant_set(ks, "bob", 1, "x-1", 1ULL << 10) == 0);
	ATF_REQUIRE(ks_grant_set(ks, "bob", 1, "x-1", 0) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ks_close(ks);

	/* Kept across a close; one row per holder, scope and target. */
	ks = open_ks("g.db");
	memset(&g, 0, sizeof(g));
	ATF_REQUIRE(ks_grant_scan(ks, grant_seen, &g) == 0);
	ATF_CHECK_EQ(g.n, 1);
	ATF_CHECK_STREQ(g.last, "bob/2/alice");
	ATF_CHECK(g.ops == (1ULL << 33 | 1ULL << 63));

	/*
	 * A failed write says what failed and leaves the transaction and
	 * the next write as they were; a scan stops when fn says so.
	 */
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_CHECK(ks_grant_set(ks, "bob", 1, NULL, 1) == -1);
	ATF_CHECK(strstr(ks_error(ks), "NOT NULL constraint failed: "
	    "grants.target") != NULL);
	ATF_REQUIRE(ks_grant_set(ks, "carol", 1, "x-2", 1) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	memset(&g, 0, sizeof(g));
	g.stop = 1;
	ATF_REQUIRE(ks_grant_scan(ks, grant_seen, &g) == 0);
	ATF_CHECK_EQ(g.n, 1);
	memset(&g, 0, sizeof(g));
	ATF_REQUIRE(ks_grant_scan(ks, grant_seen, &g) == 0);
	ATF_CHECK_EQ(g.n, 2);
	ks_close(ks);
}

/*
 * A keystore of schema 2 (no grants table) becomes schema 3 as it is,
 * at its first open, its objects untouched.
 */
ATF_TC_WITHOUT_HEAD(schema2);
ATF_TC_BODY(schema2, tc)
{
	struct keystore		*ks;
	struct ks_object	 o;
	struct grant_seen	 g;
	sqlite3			*db;
	sqlite3_stmt		*st;

	ATF_REQUIRE(sqlite3_open("v2.db", &db) == SQLITE_OK);
	ATF_REQUIRE(sqlite3_exec(db,
	    "CREATE TABLE objects (id TEXT PRIMARY KEY NOT NULL,"
	    " type INTEGER NOT NULL, state INTEGER NOT NULL,"
	    " algorithm INTEGER NOT NULL, owner TEXT NOT NULL,"
	    " signer TEXT NOT NULL, created INTEGER NOT NULL,"
	    " attributes BLOB NOT NULL, material BLOB);"
	    "INSERT INTO objects VALUES ('a-1', 2, 2, 3, 'alice', 'soft', 1,"
	    " CAST('grp' AS BLOB), NULL);"
	    "PRAGMA user_version = 2;", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	ks = open_ks("v2.db");
	ATF_CHECK(!ks_needs_reindex(ks));
	ATF_REQUIRE(ks_get(ks, "a-1", &o) == 0);
	ATF_CHECK_STREQ(o.owner, "alice");
	ks_object_clear(&o);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_grant_set(ks, "bob", 1, "a-1", 1ULL << 33) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ks_close(ks);

	ATF_REQUIRE(sqlite3_open("v2.db", &db) == SQLITE_OK);
	ATF_REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
	ATF_CHECK_EQ(sqlite3_column_int(st, 0), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
	ks = open_ks("v2.db");
	memset(&g, 0, sizeof(g));
	ATF_REQUIRE(ks_grant_scan(ks, grant_seen, &g) == 0);
	ATF_CHECK_EQ(g.n, 1);
	ks_close(ks);
}

/*
 * The audit records kept of committed turns: only in a transaction, one
 * row per first record (put again, replaced), read back in order within
 * the bound given, and trimmed up to a record.
 */
ATF_TC_WITHOUT_HEAD(audit_pending);
ATF_TC_BODY(audit_pending, tc)
{
	struct keystore	*ks = open_ks("a.db");
	char		*buf;
	size_t		 len;

	ATF_CHECK(ks_audit_put(ks, 1, 2, "a\nb\n", 4) == -1);
	ATF_CHECK_STREQ(ks_error(ks), "no transaction");
	ATF_CHECK(ks_audit_trim(ks, 2) == -1);
	ATF_CHECK_STREQ(ks_error(ks), "no transaction");
	ATF_REQUIRE(ks_audit_get(ks, &buf, &len, 1024) == 0);
	ATF_CHECK(buf == NULL && len == 0);

	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_CHECK(ks_audit_put(ks, 5, 5, NULL, 0) == -1);
	ATF_CHECK(strstr(ks_error(ks), "NOT NULL constraint failed: "
	    "audit_pending.lines") != NULL);
	ATF_REQUIRE(ks_audit_put(ks, 5, 5, "e\n", 2) == 0);
	ATF_REQUIRE(ks_audit_put(ks, 1, 2, "x\n", 2) == 0);
	ATF_REQUIRE(ks_audit_put(ks, 1, 2, "a\nb\n", 4) == 0);
	ATF_REQUIRE(ks_audit_put(ks, 3, 4, "c\nd\n", 4) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ks_close(ks);

	/* Kept across a close, in the order of their first record. */
	ks = open_ks("a.db");
	ATF_REQUIRE(ks_audit_get(ks, &buf, &len, 1024) == 0);
	ATF_REQUIRE(buf != NULL);
	ATF_CHECK(len == 10 && memcmp(buf, "a\nb\nc\nd\ne\n", 10) == 0);
	free(buf);
	/* A row that would pass the bound is left out, not cut. */
	ATF_REQUIRE(ks_audit_get(ks, &buf, &len, 9) == 0);
	ATF_REQUIRE(buf != NULL);
	ATF_CHECK(len == 8 && memcmp(buf, "a\nb\nc\nd\n", 8) == 0);
	free(buf);

	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_audit_trim(ks, 4) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_audit_get(ks, &buf, &len, 1024) == 0);
	ATF_REQUIRE(buf != NULL);
	ATF_CHECK(len == 2 && memcmp(buf, "e\n", 2) == 0);
	free(buf);
	ATF_REQUIRE(ks_begin(ks) == 0);
	ATF_REQUIRE(ks_audit_trim(ks, INT64_MAX) == 0);
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_audit_get(ks, &buf, &len, 1024) == 0);
	ATF_CHECK(buf == NULL && len == 0);
	ks_close(ks);
}

/* show keys: by owner or all, oldest first, with the first Name. */
ATF_TC_WITHOUT_HEAD(list);
ATF_TC_BODY(list, tc)
{
	struct keystore		*ks = open_ks(":memory:");
	struct ks_object	 o;
	struct ks_listed	 l[4];
	struct ks_index		 x[2];
	int64_t			 after = 0;
	size_t			 n;
	int			 i;

	ATF_REQUIRE(ks_begin(ks) == 0);
	for (i = 0; i < 5; i++) {
		make_obj(ks, &o, i % 2 ? "bob" : "alice", 2, 3);
		x[0] = idx_text(KMIP_TAG_NAME, i == 2 ? "second" : "k");
		x[1] = idx_text(KMIP_TAG_OBJECT_GROUP, "g");
		ATF_REQUIRE(ks_insert(ks, &o, x, 2) == 0);
	}
	ATF_REQUIRE(ks_commit(ks) == 0);
	ATF_REQUIRE(ks_list(ks, NULL, &after, l, 4, &n) == 0);
	ATF_CHECK_EQ(n, 4);
	ATF_REQUIRE(ks_list(ks, NULL, &after, l, 4, &n) == 0);
	ATF_CHECK_EQ(n, 1);
	after = 0;
	ATF_REQUIRE(ks_list(ks, "alice", &after, l, 4, &n) == 0);
	ATF_REQUIRE_EQ(n, 3);
	ATF_CHECK_STREQ(l[0].owner, "alice");
	ATF_CHECK_STREQ(l[1].name, "second");
	ATF_CHECK_STREQ(l[1].signer, "soft");
	ATF_CHECK_EQ(l[1].algorithm, 3);
	ks_close(ks);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, locate);
	ATF_TP_ADD_TC(tp, plans);
	ATF_TP_ADD_TC(tp, reindex);
	ATF_TP_ADD_TC(tp, rollback);
	ATF_TP_ADD_TC(tp, cache);
	ATF_TP_ADD_TC(tp, cache_bound);
	ATF_TP_ADD_TC(tp, cache_peek);
	ATF_TP_ADD_TC(tp, kill9);
	ATF_TP_ADD_TC(tp, bad_file);
	ATF_TP_ADD_TC(tp, scan);
	ATF_TP_ADD_TC(tp, ids);
	ATF_TP_ADD_TC(tp, grants);
	ATF_TP_ADD_TC(tp, schema2);
	ATF_TP_ADD_TC(tp, list);
	ATF_TP_ADD_TC(tp, audit_pending);
	return (atf_no_error());
}
