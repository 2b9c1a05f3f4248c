/*
 * The keystore, in SQLite.
 *
 * Writes happen inside an explicit transaction that the engine opens on
 * the first change of an event-loop turn and commits at its end (group
 * commit); replies to the requests of that turn go out only after the
 * commit, which with synchronous=FULL has reached the disk.
 *
 * Objects read are kept in a bounded cache (below), so that a key used
 * again (every Sign) is neither read from SQLite nor decoded again.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "keystore.h"
#include "kmip.h"
#include "ttlv.h"

#define KS_SCHEMA_VERSION	3

enum ks_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_INSERT,
	S_UPDATE,
	S_GET,
	S_INDEX_DEL,
	S_INDEX_ADD,
	S_EXISTS,
	S_SCAN,
	S_GRANT_SET,
	S_GRANT_DEL,
	S_GRANT_SCAN,
	S_AUDIT_PUT,
	S_AUDIT_TRIM,
	S_AUDIT_GET,
	S_COUNT
};

static const char *ks_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_INSERT] = "INSERT INTO objects (id, type, state, algorithm, owner,"
	    " signer, created, attributes, material)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_UPDATE] = "UPDATE objects SET type = ?2, state = ?3,"
	    " algorithm = ?4, owner = ?5, signer = ?6, created = ?7,"
	    " attributes = ?8, material = ?9 WHERE id = ?1 RETURNING rowid",
	[S_GET] = "SELECT id, type, state, algorithm, owner, signer, created,"
	    " attributes, material FROM objects WHERE id = ?1",
	[S_INDEX_DEL] = "DELETE FROM attr_index WHERE oid = ?1",
	[S_INDEX_ADD] = "INSERT OR IGNORE INTO attr_index (owner, attr,"
	    " value, oid) VALUES (?1, ?2, ?3, ?4)",
	[S_EXISTS] = "SELECT 1 FROM objects WHERE id = ?1",
	[S_SCAN] = "SELECT id, type, state, algorithm, owner, signer, created,"
	    " attributes, rowid FROM objects WHERE rowid > ?1 ORDER BY rowid"
	    " LIMIT 1",
	[S_GRANT_SET] = "INSERT INTO grants (holder, scope, target, ops,"
	    " created) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (holder, scope,"
	    " target) DO UPDATE SET ops = ?4",
	[S_GRANT_DEL] = "DELETE FROM grants WHERE holder = ?1 AND scope = ?2"
	    " AND target = ?3",
	[S_GRANT_SCAN] = "SELECT holder, scope, target, ops FROM grants",
	[S_AUDIT_PUT] = "INSERT OR REPLACE INTO audit_pending (first, last,"
	    " lines) VALUES (?1, ?2, ?3)",
	[S_AUDIT_TRIM] = "DELETE FROM audit_pending WHERE last <= ?1",
	[S_AUDIT_GET] = "SELECT lines FROM audit_pending ORDER BY first",
};

static const char ks_schema[] =
	"CREATE TABLE IF NOT EXISTS objects ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  algorithm INTEGER NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  signer TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  attributes BLOB NOT NULL,"
	"  material BLOB"
	");"
	/*
	 * Locate's candidates come from an index in the order they are
	 * answered, so that one step reads a bounded number of rows and the
	 * next goes on where it stopped (ks_locate): by owner and age
	 * (rowid), by owner, type and age, and by attribute value.
	 */
	"CREATE INDEX IF NOT EXISTS objects_owner ON objects (owner, type);"
	"CREATE INDEX IF NOT EXISTS objects_owner_age ON objects (owner);"
	/*
	 * Every Name, Object Group and indexed date of an object (struct
	 * ks_index), by owner, attribute tag and value; oid is the
	 * object's rowid.
	 */
	"CREATE TABLE IF NOT EXISTS attr_index ("
	"  owner TEXT NOT NULL,"
	"  attr INTEGER NOT NULL,"
	"  value NOT NULL,"
	"  oid INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX IF NOT EXISTS attr_index_value ON attr_index"
	"  (owner, attr, value, oid);"
	"CREATE INDEX IF NOT EXISTS attr_index_oid ON attr_index (oid);"
	/* The check value of a signer's key-encryption key (see below). */
	"CREATE TABLE IF NOT EXISTS kek_checks ("
	"  signer TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (signer, source)"
	");"
	/* The identity key of each signer (engine.c, signer identity). */
	"CREATE TABLE IF NOT EXISTS signer_identities ("
	"  signer TEXT PRIMARY KEY NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  blob BLOB NOT NULL,"
	"  spki BLOB NOT NULL,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS objects_signer ON objects (signer);"
	/*
	 * Grants (policy.c): holder may do ops (a bit per KMIP operation)
	 * on the object, all objects of the owner, or of the signer named
	 * by target (scope: enum grant_scope).  Schema 3.
	 */
	"CREATE TABLE IF NOT EXISTS grants ("
	"  holder TEXT NOT NULL,"
	"  scope INTEGER NOT NULL,"
	"  target TEXT NOT NULL,"
	"  ops INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (holder, scope, target)"
	");"
	/*
	 * Audit records (audit.c) of committed turns, lines first to last,
	 * until their file is synced: committed with the turn, one sync.
	 */
	"CREATE TABLE IF NOT EXISTS audit_pending ("
	"  first INTEGER PRIMARY KEY,"
	"  last INTEGER NOT NULL,"
	"  lines BLOB NOT NULL"
	");";

/*
 * The cache: objects by id (a hash of KS_CACHE_BUCKETS chains), the
 * least recently used dropped first beyond KS_CACHE_MAX entries or
 * KS_CACHE_BYTES of their blobs.  An entry is the row as ks_get returns
 * it and what the engine derives from it once (its attributes decoded,
 * ks_cache_attrs).  Every write of an object (ks_insert, ks_update)
 * drops its entry before it writes; a rollback drops them all, since a
 * row read inside the transaction may be one it wrote.  Nothing else
 * writes the objects table: the engine alone opens the keystore.
 */
#define KS_CACHE_MAX		8192
#define KS_CACHE_BYTES		(16 * 1024 * 1024)
#define KS_CACHE_BUCKETS	4096	/* a power of two */

struct ks_cent {
	LIST_ENTRY(ks_cent)	 hash;
	TAILQ_ENTRY(ks_cent)	 lru;		/* most recent first */
	struct ks_object	 o;
	struct ttlv		*attrs;		/* o.attrs decoded, or NULL */
	size_t			 cost;
};
LIST_HEAD(ks_chain, ks_cent);
TAILQ_HEAD(ks_lru, ks_cent);

struct keystore {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_COUNT];
	int		 in_txn;
	int		 reindex;	/* schema 1: the index is to be made */
	char		 err[256];
	struct ks_chain	 cache[KS_CACHE_BUCKETS];
	struct ks_lru	 lru;
	size_t		 ncached;
	size_t		 cached_bytes;
	struct ks_stats	 stats;
};

static int	 ks_exec(struct keystore *, enum ks_stmt);
static int	 ks_done(struct keystore *, sqlite3_stmt *, int, const char *);
static int	 ks_need_txn(struct keystore *);
static int	 ks_fail(struct keystore *, const char *);
static int	 ks_bind_object(struct keystore *, sqlite3_stmt *,
		    const struct ks_object *);
static int	 ks_set_index(struct keystore *, int64_t, const char *,
		    const struct ks_index *, size_t, int);
static int	 ks_locate_sql(const struct ks_filter *, char *, size_t);
static void	 ks_locate_bind(sqlite3_stmt *, const struct ks_filter *,
		    size_t);
static uint32_t	 ks_hash(const char *);
static struct ks_cent *ks_cache_find(struct keystore *, const char *);
static struct ks_cent *ks_cache_peek(struct keystore *, const char *);
static int	 ks_fetch(struct keystore *, const char *, struct ks_object *,
		    int);
static void	 ks_cache_drop(struct keystore *, struct ks_cent *);
static void	 ks_cache_forget(struct keystore *, const char *);
static void	 ks_cache_put(struct keystore *, const struct ks_object *);
static int	 ks_object_copy(struct ks_object *, const struct ks_object *);

static int
ks_fail(struct keystore *ks, const char *what)
{
	(void)snprintf(ks->err, sizeof(ks->err), "%s: %s", what,
	    sqlite3_errmsg(ks->db));
	return (-1);
}

const char *
ks_error(struct keystore *ks)
{
	return (ks->err);
}

int
ks_open(const char *path, struct keystore **ksp, char *err, size_t errlen)
{
	struct keystore	*ks;
	sqlite3_stmt	*st;
	int		 i, version;

	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < KS_CACHE_BUCKETS; i++)
		LIST_INIT(&ks->cache[i]);
	TAILQ_INIT(&ks->lru);
	if (sqlite3_open_v2(path, &ks->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		(void)snprintf(err, errlen, "%s: %s", path, ks->db == NULL ?
		    "out of memory" : sqlite3_errmsg(ks->db));
		goto fail;
	}
	/* WAL + FULL: a committed transaction survives a crash or power cut. */
	if (sqlite3_exec(ks->db, "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA secure_delete = ON;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(ks->db, ks_schema, NULL, NULL, NULL) != SQLITE_OK) {
		(void)snprintf(err, errlen, "%s: %s", path,
		    sqlite3_errmsg(ks->db));
		goto fail;
	}
	if (sqlite3_prepare_v2(ks->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		(void)snprintf(err, errlen, "%s: %s", path,
		    sqlite3_errmsg(ks->db));
		sqlite3_finalize(st);
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	/*
	 * Schema 2 lacks only the grants table, which ks_schema has just
	 * made: it becomes 3 as it is.
	 */
	if (version == 0 || version == 2)
		(void)sqlite3_exec(ks->db, "PRAGMA user_version = 3", NULL,
		    NULL, NULL);
	else if (version == 1)
		ks->reindex = 1;	/* names only: ks_reindex */
	else if (version != KS_SCHEMA_VERSION) {
		(void)snprintf(err, errlen, "%s: keystore schema %d, this "
		    "signerd knows %d", path, version, KS_SCHEMA_VERSION);
		goto fail;
	}
	for (i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v3(ks->db, ks_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &ks->stmt[i], NULL) !=
		    SQLITE_OK) {
			(void)snprintf(err, errlen, "%s: %s", path,
			    sqlite3_errmsg(ks->db));
			goto fail;
		}
	*ksp = ks;
	return (0);
 fail:
	ks_close(ks);
	return (-1);
}

void
ks_close(struct keystore *ks)
{
	int	 i;

	if (ks == NULL)
		return;
	if (ks->in_txn)
		(void)ks_rollback(ks);
	ks_cache_flush(ks);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(ks->stmt[i]);
	sqlite3_close(ks->db);
	free(ks);
}

/* Run a statement that returns no rows. */
static int
ks_exec(struct keystore *ks, enum ks_stmt s)
{
	return (ks_done(ks, ks->stmt[s], sqlite3_step(ks->stmt[s]),
	    ks_sql[s]));
}

/*
 * A prepared statement after its last step rc, made ready for its next
 * use; unless rc is SQLITE_DONE, -1 and "what: SQLite's reason" in
 * ks_error.
 */
static int
ks_done(struct keystore *ks, sqlite3_stmt *st, int rc, const char *what)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return (ks_fail(ks, what));
	return (0);
}

/* Writes are made inside the caller's transaction only. */
static int
ks_need_txn(struct keystore *ks)
{
	if (!ks->in_txn) {
		(void)snprintf(ks->err, sizeof(ks->err), "no transaction");
		return (-1);
	}
	return (0);
}

int
ks_begin(struct keystore *ks)
{
	if (ks->in_txn)
		return (0);
	if (ks_exec(ks, S_BEGIN) == -1)
		return (-1);
	ks->in_txn = 1;
	return (0);
}

int
ks_commit(struct keystore *ks)
{
	if (!ks->in_txn)
		return (0);
	if (ks_exec(ks, S_COMMIT) == -1) {
		(void)ks_rollback(ks);
		return (-1);
	}
	ks->in_txn = 0;
	return (0);
}

int
ks_rollback(struct keystore *ks)
{
	if (!ks->in_txn)
		return (0);
	ks->in_txn = 0;
	ks_cache_flush(ks);
	return (ks_exec(ks, S_ROLLBACK));
}

int
ks_in_transaction(struct keystore *ks)
{
	return (ks->in_txn);
}

/*
 * A new Unique Identifier: a random UUID.  Only letters, digits and '-',
 * which Krill (splits at ':') and Cascade (puts ids in URLs) both need.
 */
int
ks_new_id(struct keystore *ks, char *id, size_t idlen)
{
	static const char hex[] = "0123456789abcdef";
	sqlite3_stmt	*st = ks->stmt[S_EXISTS];
	uint8_t		 r[16];
	size_t		 i, n;
	int		 rc, tries;

	/* A random (version 4) UUID, 36 characters. */
	if (idlen < 37) {
		(void)snprintf(ks->err, sizeof(ks->err), "id buffer too short");
		return (-1);
	}
	for (tries = 0; tries < 4; tries++) {
		arc4random_buf(r, sizeof(r));
		r[6] = (r[6] & 0x0f) | 0x40;
		r[8] = (r[8] & 0x3f) | 0x80;
		for (i = n = 0; i < sizeof(r); i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				id[n++] = '-';
			id[n++] = hex[r[i] >> 4];
			id[n++] = hex[r[i] & 0x0f];
		}
		id[n] = '\0';
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_DONE)
			return (0);
		if (rc != SQLITE_ROW)
			return (ks_fail(ks, "new id"));
	}
	(void)snprintf(ks->err, sizeof(ks->err), "no unused id found");
	return (-1);
}

/*
 * A Unique Identifier a client may be given: signerd's own (letters,
 * digits and '-', as ks_new_id makes them: Krill splits at ':'), or
 * one of the form hsm::<slot>::<key id> a client chose for a key in a
 * token (ks_hsm_id).  1 if valid.
 */
int
ks_id_valid(const char *id)
{
	size_t	 i;

	if (strncmp(id, KS_HSM_PREFIX, strlen(KS_HSM_PREFIX)) == 0)
		return (ks_hsm_id(id, NULL, NULL) == 0);
	for (i = 0; id[i] != '\0'; i++)
		if (!(id[i] >= 'a' && id[i] <= 'z') &&
		    !(id[i] >= 'A' && id[i] <= 'Z') &&
		    !(id[i] >= '0' && id[i] <= '9') && id[i] != '-')
			return (0);
	return (i > 0 && i < KS_ID_MAX);
}

/*
 * Take apart hsm::<slot>::<key id>: slot decimal, key id 1 or more of
 * letters, digits, '.', '_' and '-' (it becomes a CKA_LABEL), short
 * enough that <id>_pk, its public half, is an id too.  0, or -1 if id
 * is not of that form.
 */
int
ks_hsm_id(const char *id, unsigned long long *slotp, const char **keyidp)
{
	const char		*p, *k;
	unsigned long long	 slot = 0;
	size_t			 i;

	if (strncmp(id, KS_HSM_PREFIX, strlen(KS_HSM_PREFIX)) != 0 ||
	    strnlen(id, KS_ID_MAX) + strlen(KS_PUB_SUFFIX) >= KS_ID_MAX)
		return (-1);
	p = id + strlen(KS_HSM_PREFIX);
	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		if (i >= 19)
			return (-1);	/* more than fits 64 bits */
		slot = slot * 10 + (p[i] - '0');
	}
	if (i == 0 || p[i] != ':' || p[i + 1] != ':')
		return (-1);
	k = p + i + 2;
	for (i = 0; k[i] != '\0'; i++)
		if (!(k[i] >= 'a' && k[i] <= 'z') &&
		    !(k[i] >= 'A' && k[i] <= 'Z') &&
		    !(k[i] >= '0' && k[i] <= '9') && k[i] != '.' &&
		    k[i] != '_' && k[i] != '-')
			return (-1);
	if (i == 0)
		return (-1);
	if (slotp != NULL)
		*slotp = slot;
	if (keyidp != NULL)
		*keyidp = k;
	return (0);
}

static int
ks_bind_object(struct keystore *ks, sqlite3_stmt *st,
    const struct ks_object *o)
{
	if (sqlite3_bind_text(st, 1, o->id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, o->type) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, o->state) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, o->algorithm) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, o->owner, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 6, o->signer, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, o->created) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 8, o->attrs != NULL ? (void *)o->attrs : "",
	    o->attrs_len, SQLITE_STATIC) != SQLITE_OK ||
	    (o->material != NULL ?
	    sqlite3_bind_blob(st, 9, o->material, o->material_len,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 9)) != SQLITE_OK) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return (ks_fail(ks, "bind"));
	}
	return (0);
}

/*
 * The index entries of the object of rowid oid, owned by owner, are idx,
 * and only they; a new object (fresh) has none to delete first.  The
 * caller knows the rowid: looking it up again for each entry cost a
 * third of an insert.
 */
static int
ks_set_index(struct keystore *ks, int64_t oid, const char *owner,
    const struct ks_index *idx, size_t n, int fresh)
{
	sqlite3_stmt	*st = ks->stmt[S_INDEX_ADD];
	size_t		 i;

	if (!fresh) {
		sqlite3_bind_int64(ks->stmt[S_INDEX_DEL], 1, oid);
		if (ks_exec(ks, S_INDEX_DEL) == -1)
			return (-1);
	}
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, idx[i].attr);
		if (idx[i].text)
			sqlite3_bind_text(st, 3, idx[i].s, (int)idx[i].len,
			    SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, 3, idx[i].i);
		sqlite3_bind_int64(st, 4, oid);
		if (ks_exec(ks, S_INDEX_ADD) == -1)
			return (-1);
	}
	return (0);
}

/* Both need an open transaction: the caller commits. */
int
ks_insert(struct keystore *ks, const struct ks_object *o,
    const struct ks_index *idx, size_t n)
{
	if (ks_need_txn(ks) == -1)
		return (-1);
	if (!ks_id_valid(o->id)) {
		(void)snprintf(ks->err, sizeof(ks->err), "bad id");
		return (-1);
	}
	ks_cache_forget(ks, o->id);
	if (ks_bind_object(ks, ks->stmt[S_INSERT], o) == -1 ||
	    ks_exec(ks, S_INSERT) == -1)
		return (-1);
	return (ks_set_index(ks, sqlite3_last_insert_rowid(ks->db), o->owner,
	    idx, n, 1));
}

int
ks_update(struct keystore *ks, const struct ks_object *o,
    const struct ks_index *idx, size_t n)
{
	sqlite3_stmt	*st = ks->stmt[S_UPDATE];
	int64_t		 oid = 0;
	int		 rc, found = 0;

	if (ks_need_txn(ks) == -1)
		return (-1);
	ks_cache_forget(ks, o->id);
	if (ks_bind_object(ks, st, o) == -1)
		return (-1);
	/* One row, its rowid returned; none if there is no such object. */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		oid = sqlite3_column_int64(st, 0);
		found = 1;
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return (ks_fail(ks, ks_sql[S_UPDATE]));
	if (!found) {
		(void)snprintf(ks->err, sizeof(ks->err), "no object %s",
		    o->id);
		return (-1);
	}
	return (ks_set_index(ks, oid, o->owner, idx, n, 0));
}

static int
ks_column_blob(sqlite3_stmt *st, int col, uint8_t **p, size_t *len)
{
	const void	*b;
	int		 n;

	*p = NULL;
	*len = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (0);
	b = sqlite3_column_blob(st, col);
	n = sqlite3_column_bytes(st, col);
	if ((*p = malloc(n > 0 ? n : 1)) == NULL)
		return (-1);
	if (n > 0)
		memcpy(*p, b, n);
	*len = n;
	return (0);
}

/*
 * 0 found, 1 not found, -1 error.  o is the caller's copy (to clear with
 * ks_object_clear), from the cache if the object is there.
 */
int
ks_get(struct keystore *ks, const char *id, struct ks_object *o)
{
	return (ks_fetch(ks, id, o, 1));
}

/*
 * ks_get for a look at many objects (Locate's candidates): the cache is
 * used but neither filled nor reordered, so that a scan does not push
 * out the keys clients use.
 */
int
ks_peek(struct keystore *ks, const char *id, struct ks_object *o)
{
	return (ks_fetch(ks, id, o, 0));
}

static int
ks_fetch(struct keystore *ks, const char *id, struct ks_object *o, int keep)
{
	sqlite3_stmt	*st = ks->stmt[S_GET];
	struct ks_cent	*e;
	const char	*s;
	int		 rc, ret = -1;

	memset(o, 0, sizeof(*o));
	if ((e = keep ? ks_cache_find(ks, id) : ks_cache_peek(ks, id)) !=
	    NULL) {
		if (ks_object_copy(o, &e->o) == -1) {
			(void)snprintf(ks->err, sizeof(ks->err),
			    "out of memory");
			return (-1);
		}
		ks->stats.hits++;
		return (0);
	}
	ks->stats.misses++;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	switch (rc = sqlite3_step(st)) {
	case SQLITE_DONE:
		ret = 1;
		break;
	case SQLITE_ROW:
		(void)strlcpy(o->id, (const char *)sqlite3_column_text(st, 0),
		    sizeof(o->id));
		o->type = sqlite3_column_int64(st, 1);
		o->state = sqlite3_column_int64(st, 2);
		o->algorithm = sqlite3_column_int64(st, 3);
		if ((s = (const char *)sqlite3_column_text(st, 4)) != NULL)
			(void)strlcpy(o->owner, s, sizeof(o->owner));
		if ((s = (const char *)sqlite3_column_text(st, 5)) != NULL)
			(void)strlcpy(o->signer, s, sizeof(o->signer));
		o->created = sqlite3_column_int64(st, 6);
		if (ks_column_blob(st, 7, &o->attrs, &o->attrs_len) == -1 ||
		    ks_column_blob(st, 8, &o->material,
		    &o->material_len) == -1) {
			ks_object_clear(o);
			(void)snprintf(ks->err, sizeof(ks->err),
			    "out of memory");
			break;
		}
		ret = 0;
		break;
	default:
		(void)ks_fail(ks, "get");
		break;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (ret == 0 && keep)
		ks_cache_put(ks, o);
	return (ret);
}

/* FNV-1a of an id. */
static uint32_t
ks_hash(const char *id)
{
	uint32_t	 h = 2166136261U;

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 16777619U;
	return (h);
}

/* The cached entry of id, now the most recently used; or NULL. */
static struct ks_cent *
ks_cache_find(struct keystore *ks, const char *id)
{
	struct ks_cent	*e;

	if ((e = ks_cache_peek(ks, id)) != NULL &&
	    e != TAILQ_FIRST(&ks->lru)) {
		TAILQ_REMOVE(&ks->lru, e, lru);
		TAILQ_INSERT_HEAD(&ks->lru, e, lru);
	}
	return (e);
}

/* The cached entry of id, its place in the order unchanged; or NULL. */
static struct ks_cent *
ks_cache_peek(struct keystore *ks, const char *id)
{
	struct ks_cent	*e;

	LIST_FOREACH(e, &ks->cache[ks_hash(id) & (KS_CACHE_BUCKETS - 1)],
	    hash)
		if (strcmp(e->o.id, id) == 0)
			return (e);
	return (NULL);
}

static void
ks_cache_drop(struct keystore *ks, struct ks_cent *e)
{
	LIST_REMOVE(e, hash);
	TAILQ_REMOVE(&ks->lru, e, lru);
	ks->ncached--;
	ks->cached_bytes -= e->cost;
	ttlv_free(e->attrs);
	ks_object_clear(&e->o);
	free(e);
}

static void
ks_cache_forget(struct keystore *ks, const char *id)
{
	struct ks_cent	*e;

	if ((e = ks_cache_find(ks, id)) != NULL) {
		ks->stats.dropped++;
		ks_cache_drop(ks, e);
	}
}

/* Drop every entry. */
void
ks_cache_flush(struct keystore *ks)
{
	struct ks_cent	*e;

	while ((e = TAILQ_FIRST(&ks->lru)) != NULL) {
		ks->stats.dropped++;
		ks_cache_drop(ks, e);
	}
}

/*
 * Keep a copy of o, read from the table, dropping the least recently
 * used beyond the bounds.  Without memory, or too large (a decoded
 * structure takes a few times its encoding), o is simply not kept.
 */
static void
ks_cache_put(struct keystore *ks, const struct ks_object *o)
{
	struct ks_cent	*e;
	size_t		 cost;

	cost = sizeof(*e) + 4 * o->attrs_len + o->material_len;
	if (cost > KS_CACHE_BYTES / 16)
		return;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	if (ks_object_copy(&e->o, o) == -1) {
		free(e);
		return;
	}
	e->cost = cost;
	while (ks->ncached > 0 && (ks->ncached >= KS_CACHE_MAX ||
	    ks->cached_bytes + cost > KS_CACHE_BYTES))
		ks_cache_drop(ks, TAILQ_LAST(&ks->lru, ks_lru));
	LIST_INSERT_HEAD(&ks->cache[ks_hash(o->id) & (KS_CACHE_BUCKETS - 1)],
	    e, hash);
	TAILQ_INSERT_HEAD(&ks->lru, e, lru);
	ks->ncached++;
	ks->cached_bytes += cost;
}

/* A deep copy of o into d (cleared first); -1 without memory. */
static int
ks_object_copy(struct ks_object *d, const struct ks_object *o)
{
	*d = *o;
	d->attrs = d->material = NULL;
	if ((o->attrs != NULL && (d->attrs = malloc(o->attrs_len > 0 ?
	    o->attrs_len : 1)) == NULL) ||
	    (o->material != NULL && (d->material = malloc(o->material_len >
	    0 ? o->material_len : 1)) == NULL)) {
		free(d->attrs);
		memset(d, 0, sizeof(*d));
		return (-1);
	}
	if (o->attrs_len > 0)
		memcpy(d->attrs, o->attrs, o->attrs_len);
	if (o->material_len > 0)
		memcpy(d->material, o->material, o->material_len);
	return (0);
}

/*
 * The decoded attributes kept with o's cache entry, if that entry holds
 * the very attributes of o; NULL if none.  The tree stays the cache's:
 * valid until the next write, rollback or ks_get, not to be changed.
 */
const struct ttlv *
ks_cached_attrs(struct keystore *ks, const struct ks_object *o)
{
	struct ks_cent	*e;

	if ((e = ks_cache_find(ks, o->id)) == NULL || e->attrs == NULL ||
	    e->o.attrs_len != o->attrs_len || (o->attrs_len > 0 &&
	    memcmp(e->o.attrs, o->attrs, o->attrs_len) != 0))
		return (NULL);
	return (e->attrs);
}

/*
 * Keep a, o's attributes decoded, with o's cache entry; 0 if kept (the
 * cache owns a now), -1 if o is not in the cache as it is (a stays the
 * caller's).
 */
int
ks_cache_attrs(struct keystore *ks, const struct ks_object *o,
    struct ttlv *a)
{
	struct ks_cent	*e;

	if ((e = ks_cache_find(ks, o->id)) == NULL ||
	    e->o.attrs_len != o->attrs_len || (o->attrs_len > 0 &&
	    memcmp(e->o.attrs, o->attrs, o->attrs_len) != 0))
		return (-1);
	ttlv_free(e->attrs);
	e->attrs = a;
	return (0);
}

const struct ks_stats *
ks_stats(struct keystore *ks)
{
	return (&ks->stats);
}

/*
 * The statement of one Locate step.  Each reads its candidates from one
 * index, in the index's order, after the cursor, and at most a given
 * number: a step costs the same whatever the store holds, and whatever
 * else the request filters on (the caller checks that, candidate by
 * candidate).  keystore_test:plans checks the plans with EXPLAIN QUERY
 * PLAN.
 */
static int
ks_locate_sql(const struct ks_filter *f, char *sql, size_t len)
{
	const char	*q;
	int		 n;

	switch (f->by) {
	case KS_BY_OWNER:
		q = "SELECT o.id, o.rowid, 0, o.type, o.state, o.algorithm,"
		    " o.owner, o.signer"
		    " FROM objects o INDEXED BY objects_owner_age"
		    " WHERE o.owner = ?1 AND o.rowid > ?2"
		    " ORDER BY o.rowid LIMIT ?3";
		break;
	case KS_BY_TYPE:
		q = "SELECT o.id, o.rowid, 0, o.type, o.state, o.algorithm,"
		    " o.owner, o.signer"
		    " FROM objects o INDEXED BY objects_owner"
		    " WHERE o.owner = ?1 AND o.type = ?4 AND o.rowid > ?2"
		    " ORDER BY o.rowid LIMIT ?3";
		break;
	case KS_BY_SIGNER:
		/* A signer's objects (a grant), by age; ?1 is the signer. */
		q = "SELECT o.id, o.rowid, 0, o.type, o.state, o.algorithm,"
		    " o.owner, o.signer"
		    " FROM objects o INDEXED BY objects_signer"
		    " WHERE o.signer = ?1 AND o.rowid > ?2"
		    " ORDER BY o.rowid LIMIT ?3";
		break;
	case KS_BY_VALUE:
		q = "SELECT o.id, x.oid, 0, o.type, o.state, o.algorithm,"
		    " o.owner, o.signer"
		    " FROM attr_index x INDEXED BY attr_index_value"
		    " JOIN objects o ON o.rowid = x.oid"
		    " WHERE x.owner = ?1 AND x.attr = ?4 AND x.value = ?5"
		    " AND x.oid > ?2 ORDER BY x.oid LIMIT ?3";
		break;
	case KS_BY_RANGE:
		q = "SELECT o.id, x.oid, x.value, o.type, o.state,"
		    " o.algorithm, o.owner, o.signer"
		    " FROM attr_index x INDEXED BY attr_index_value"
		    " JOIN objects o ON o.rowid = x.oid"
		    " WHERE x.owner = ?1 AND x.attr = ?4"
		    " AND (x.value, x.oid) > (?6, ?2) AND x.value <= ?5"
		    " ORDER BY x.value, x.oid LIMIT ?3";
		break;
	default:
		return (-1);
	}
	n = snprintf(sql, len, "%s", q);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

static void
ks_locate_bind(sqlite3_stmt *st, const struct ks_filter *f, size_t max)
{
	sqlite3_bind_text(st, 1, f->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, f->after_oid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	switch (f->by) {
	case KS_BY_TYPE:
		sqlite3_bind_int64(st, 4, f->type);
		break;
	case KS_BY_VALUE:
		sqlite3_bind_int64(st, 4, f->value.attr);
		if (f->value.text)
			sqlite3_bind_text(st, 5, f->value.s, (int)f->value.len,
			    SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, 5, f->value.i);
		break;
	case KS_BY_RANGE:
		sqlite3_bind_int64(st, 4, f->value.attr);
		sqlite3_bind_int64(st, 5, f->hi);
		sqlite3_bind_int64(st, 6, f->started ? f->after_value :
		    f->value.i);
		break;
	default:
		break;
	}
}

/*
 * One step of a Locate: at most max candidates after f's cursor, which
 * moves past them.  *n < max: the index has no more.
 */
int
ks_locate(struct keystore *ks, struct ks_filter *f, struct ks_found *out,
    size_t max, size_t *n)
{
	sqlite3_stmt	*st;
	const char	*id;
	char		 sql[512];
	int		 rc;

	*n = 0;
	if (f->value.text && f->value.len > INT_MAX) {
		(void)snprintf(ks->err, sizeof(ks->err), "value too long");
		return (-1);
	}
	if (ks_locate_sql(f, sql, sizeof(sql)) == -1) {
		(void)snprintf(ks->err, sizeof(ks->err), "bad filter");
		return (-1);
	}
	if (sqlite3_prepare_v2(ks->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "locate"));
	ks_locate_bind(st, f, max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((id = (const char *)sqlite3_column_text(st, 0)) == NULL)
			id = "";
		(void)strlcpy(out[*n].id, id, sizeof(out[*n].id));
		f->after_oid = sqlite3_column_int64(st, 1);
		f->after_value = sqlite3_column_int64(st, 2);
		out[*n].type = sqlite3_column_int64(st, 3);
		out[*n].state = sqlite3_column_int64(st, 4);
		out[*n].algorithm = sqlite3_column_int64(st, 5);
		if ((id = (const char *)sqlite3_column_text(st, 6)) == NULL)
			id = "";
		(void)strlcpy(out[*n].owner, id, sizeof(out[*n].owner));
		if ((id = (const char *)sqlite3_column_text(st, 7)) == NULL)
			id = "";
		(void)strlcpy(out[*n].signer, id, sizeof(out[*n].signer));
		(*n)++;
	}
	f->started = 1;
	if (*n < max && rc != SQLITE_DONE) {
		(void)ks_fail(ks, "locate");
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
	return (0);
}

/*
 * The query plan of f's step, as EXPLAIN QUERY PLAN says it, one line
 * per step of the plan, for keystore_test.
 */
int
ks_locate_plan(struct keystore *ks, const struct ks_filter *f, char *buf,
    size_t len)
{
	sqlite3_stmt	*st;
	const char	*d;
	char		 sql[600];

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	(void)strlcpy(sql, "EXPLAIN QUERY PLAN ", sizeof(sql));
	if (ks_locate_sql(f, sql + strlen(sql), sizeof(sql) - strlen(sql)) ==
	    -1)
		return (-1);
	if (sqlite3_prepare_v2(ks->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "plan"));
	ks_locate_bind(st, f, 1);
	while (sqlite3_step(st) == SQLITE_ROW)
		if ((d = (const char *)sqlite3_column_text(st, 3)) != NULL) {
			(void)strlcat(buf, d, len);
			(void)strlcat(buf, "\n", len);
		}
	sqlite3_finalize(st);
	return (0);
}

/*
 * A keystore of schema 1 indexed Names only, in a table of its own: its
 * index is made again from every object's attributes (fn), in one
 * transaction, and the schema becomes 3 (the grants table is made at
 * open).  An interrupted reindex leaves
 * schema 1, and is done again at the next start.
 */
int
ks_needs_reindex(struct keystore *ks)
{
	return (ks->reindex);
}

int
ks_reindex(struct keystore *ks, size_t (*fn)(const struct ks_object *,
    struct ks_index *, size_t, void **), void (*release)(void *))
{
	sqlite3_stmt		*st;
	struct ks_object	 o;
	struct ks_index		*idx;
	void			*keep;
	const char		*s;
	size_t			 n;
	int			 rc, failed = 0;

	if (!ks->reindex)
		return (0);
	if ((idx = calloc(KS_INDEX_MAX, sizeof(*idx))) == NULL) {
		(void)snprintf(ks->err, sizeof(ks->err), "out of memory");
		return (-1);
	}
	if (ks_begin(ks) == -1 || sqlite3_prepare_v2(ks->db, "SELECT id,"
	    " owner, attributes, rowid FROM objects", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(idx);
		(void)ks_rollback(ks);
		return (ks_fail(ks, "reindex"));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&o, 0, sizeof(o));
		if ((s = (const char *)sqlite3_column_text(st, 0)) != NULL)
			(void)strlcpy(o.id, s, sizeof(o.id));
		if ((s = (const char *)sqlite3_column_text(st, 1)) != NULL)
			(void)strlcpy(o.owner, s, sizeof(o.owner));
		if (ks_column_blob(st, 2, &o.attrs, &o.attrs_len) == -1) {
			(void)snprintf(ks->err, sizeof(ks->err),
			    "out of memory");
			failed = 1;
			break;
		}
		keep = NULL;
		n = fn(&o, idx, KS_INDEX_MAX, &keep);
		failed = ks_set_index(ks, sqlite3_column_int64(st, 3),
		    o.owner, idx, n, 0) == -1;
		release(keep);
		ks_object_clear(&o);
		if (failed)
			break;
	}
	if (!failed && rc != SQLITE_DONE)
		failed = ks_fail(ks, "reindex") == -1;
	sqlite3_finalize(st);
	if (!failed && sqlite3_exec(ks->db, "DROP TABLE IF EXISTS names;"
	    "PRAGMA user_version = 3", NULL, NULL, NULL) != SQLITE_OK)
		failed = ks_fail(ks, "reindex") == -1;
	if (failed) {
		free(idx);
		(void)ks_rollback(ks);
		return (-1);
	}
	free(idx);
	if (ks_commit(ks) == -1)
		return (-1);
	ks->reindex = 0;
	return (0);
}

/*
 * Every object, oldest first, without its material, to fn until it
 * returns non-zero.  One row per step: fn may change the keystore.
 */
int
ks_scan(struct keystore *ks, int (*fn)(const struct ks_object *, void *),
    void *arg)
{
	sqlite3_stmt		*st = ks->stmt[S_SCAN];
	struct ks_object	 o;
	sqlite3_int64		 rowid = 0;
	const char		*s;
	int			 rc, stop = 0;

	while (!stop) {
		memset(&o, 0, sizeof(o));
		sqlite3_bind_int64(st, 1, rowid);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			if (rc == SQLITE_DONE)
				return (0);
			return (ks_fail(ks, "scan"));
		}
		rowid = sqlite3_column_int64(st, 8);
		if ((s = (const char *)sqlite3_column_text(st, 0)) != NULL)
			(void)strlcpy(o.id, s, sizeof(o.id));
		o.type = sqlite3_column_int64(st, 1);
		o.state = sqlite3_column_int64(st, 2);
		o.algorithm = sqlite3_column_int64(st, 3);
		if ((s = (const char *)sqlite3_column_text(st, 4)) != NULL)
			(void)strlcpy(o.owner, s, sizeof(o.owner));
		if ((s = (const char *)sqlite3_column_text(st, 5)) != NULL)
			(void)strlcpy(o.signer, s, sizeof(o.signer));
		o.created = sqlite3_column_int64(st, 6);
		rc = ks_column_blob(st, 7, &o.attrs, &o.attrs_len);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == -1) {
			(void)snprintf(ks->err, sizeof(ks->err),
			    "out of memory");
			return (-1);
		}
		stop = fn(&o, arg);
		ks_object_clear(&o);
	}
	return (0);
}

void
ks_object_clear(struct ks_object *o)
{
	free(o->attrs);
	freezero(o->material, o->material_len);
	memset(o, 0, sizeof(*o));
}

/*
 * The check value (hex) recorded for a signer's key-encryption key from
 * source ("file" or "hsm"), the first time the signer started with it.
 * 0 found, 1 none recorded, -1 error.  Prepared per call: it runs at a
 * signer's start only.
 */
int
ks_kek_check_get(struct keystore *ks, const char *signer, const char *source,
    char *value, size_t len)
{
	sqlite3_stmt	*st;
	const char	*v;
	int		 rc, ret = -1;

	if (sqlite3_prepare_v2(ks->db, "SELECT value FROM kek_checks WHERE"
	    " signer = ?1 AND source = ?2", -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "kek check"));
	sqlite3_bind_text(st, 1, signer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	switch (rc = sqlite3_step(st)) {
	case SQLITE_DONE:
		ret = 1;
		break;
	case SQLITE_ROW:
		if ((v = (const char *)sqlite3_column_text(st, 0)) == NULL)
			v = "";
		(void)strlcpy(value, v, len);
		ret = 0;
		break;
	default:
		(void)ks_fail(ks, "kek check");
		break;
	}
	sqlite3_finalize(st);
	return (ret);
}

/* Record one; inside a transaction, the caller commits. */
int
ks_kek_check_put(struct keystore *ks, const char *signer, const char *source,
    const char *value, int64_t created)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (ks_need_txn(ks) == -1)
		return (-1);
	if (sqlite3_prepare_v2(ks->db, "INSERT INTO kek_checks (signer,"
	    " source, value, created) VALUES (?1, ?2, ?3, ?4)", -1, &st,
	    NULL) != SQLITE_OK)
		return (ks_fail(ks, "kek check"));
	sqlite3_bind_text(st, 1, signer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, created);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (ks_fail(ks, "kek check"));
	return (0);
}

/*
 * Every signer identity recorded, into *list (malloc'ed, *n of them;
 * ks_ident_free).  0, or -1.  Prepared per call: it runs when a signer
 * connects.
 */
int
ks_ident_list(struct keystore *ks, struct ks_ident **list, size_t *n)
{
	sqlite3_stmt	*st;
	struct ks_ident	*v = NULL, *nv, *e;
	const char	*name;
	size_t		 cnt = 0;
	int		 rc;

	*list = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(ks->db, "SELECT signer, type, kind, blob,"
	    " spki, created FROM signer_identities ORDER BY created", -1, &st,
	    NULL) != SQLITE_OK)
		return (ks_fail(ks, "signer identities"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(v, cnt + 1, sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		e = &v[cnt++];
		memset(e, 0, sizeof(*e));
		if ((name = (const char *)sqlite3_column_text(st, 0)) == NULL)
			name = "";
		(void)strlcpy(e->signer, name, sizeof(e->signer));
		e->type = sqlite3_column_int(st, 1);
		e->kind = sqlite3_column_int(st, 2);
		e->created = sqlite3_column_int64(st, 5);
		if (ks_column_blob(st, 3, &e->blob, &e->blob_len) == -1 ||
		    ks_column_blob(st, 4, &e->spki, &e->spki_len) == -1)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		(void)ks_fail(ks, "signer identities");
		sqlite3_finalize(st);
		ks_ident_free(v, cnt);
		return (-1);
	}
	sqlite3_finalize(st);
	*list = v;
	*n = cnt;
	return (0);
 fail:
	(void)snprintf(ks->err, sizeof(ks->err), "out of memory");
	sqlite3_finalize(st);
	ks_ident_free(v, cnt);
	return (-1);
}

void
ks_ident_free(struct ks_ident *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].blob);
		free(v[i].spki);
	}
	free(v);
}

/* Record a signer's identity; inside a transaction, the caller commits. */
int
ks_ident_put(struct keystore *ks, const struct ks_ident *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (ks_need_txn(ks) == -1)
		return (-1);
	if (sqlite3_prepare_v2(ks->db, "INSERT INTO signer_identities (signer,"
	    " type, kind, blob, spki, created) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6)", -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "signer identity"));
	sqlite3_bind_text(st, 1, e->signer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, e->type);
	sqlite3_bind_int(st, 3, e->kind);
	sqlite3_bind_blob(st, 4, e->blob, e->blob_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, e->spki, e->spki_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, e->created);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (ks_fail(ks, "signer identity"));
	return (0);
}

/*
 * A signer renamed: what the keystore holds under the old name (its
 * objects, the check values of its KEKs, its identity) moves to the new
 * one; *moved is the number of objects.  Inside a transaction, the
 * caller commits.  0, or -1.
 */
int
ks_ident_rename(struct keystore *ks, const char *from, const char *to,
    int64_t *moved)
{
	static const char *sql[] = {
		"UPDATE objects SET signer = ?2 WHERE signer = ?1",
		"UPDATE kek_checks SET signer = ?2 WHERE signer = ?1",
		"UPDATE signer_identities SET signer = ?2 WHERE signer = ?1",
	};
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	*moved = 0;
	if (ks_need_txn(ks) == -1)
		return (-1);
	/* The objects' signer changes behind the cache's back. */
	ks_cache_flush(ks);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(ks->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK)
			return (ks_fail(ks, "rename signer"));
		sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (i == 0)
			*moved = sqlite3_changes(ks->db);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return (ks_fail(ks, "rename signer"));
	}
	return (0);
}

/*
 * The keystore's size for signerctl show metrics: its objects (every
 * row, Destroyed ones too) and the bytes of its database file, from
 * SQLite's pages (the engine may not stat(2) in its chroot).  0, or -1.
 */
int
ks_size(struct keystore *ks, int64_t *objects, int64_t *bytes)
{
	static const char *const q[3] = { "SELECT count(*) FROM objects",
	    "PRAGMA page_count", "PRAGMA page_size" };
	sqlite3_stmt	*st;
	int64_t		 v[3];
	int		 i;

	for (i = 0; i < 3; i++) {
		if (sqlite3_prepare_v2(ks->db, q[i], -1, &st, NULL) !=
		    SQLITE_OK)
			return (ks_fail(ks, "size"));
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return (ks_fail(ks, "size"));
		}
		v[i] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	*objects = v[0];
	*bytes = v[1] * v[2];
	return (0);
}

/* How many live objects a signer holds the keys of; -1: error. */
int64_t
ks_count_signer(struct keystore *ks, const char *signer)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	/* Destroyed objects keep their row, not their key. */
	if (sqlite3_prepare_v2(ks->db, "SELECT count(*) FROM objects WHERE"
	    " signer = ?1 AND state NOT IN (?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK)
		return (ks_fail(ks, "count"));
	sqlite3_bind_text(st, 1, signer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, KMIP_STATE_DESTROYED);
	sqlite3_bind_int(st, 3, KMIP_STATE_DESTROYED_COMPROMISED);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		(void)ks_fail(ks, "count");
	sqlite3_finalize(st);
	return (n);
}

/* A signer's identity key wrapped anew; in a transaction. 0, or -1. */
int
ks_ident_set_blob(struct keystore *ks, const char *signer, const uint8_t *blob,
    size_t len)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (ks_need_txn(ks) == -1)
		return (-1);
	if (sqlite3_prepare_v2(ks->db, "UPDATE signer_identities SET blob = ?2"
	    " WHERE signer = ?1", -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "signer identity"));
	sqlite3_bind_text(st, 1, signer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, blob, len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (ks_fail(ks, "signer identity"));
	return (0);
}

/*
 * The grants of holder on (scope, target) become ops; none if ops is 0.
 * Inside a transaction, the caller commits.
 */
int
ks_grant_set(struct keystore *ks, const char *holder, int scope,
    const char *target, uint64_t ops)
{
	sqlite3_stmt	*st = ks->stmt[ops == 0 ? S_GRANT_DEL : S_GRANT_SET];

	if (ks_need_txn(ks) == -1)
		return (-1);
	sqlite3_bind_text(st, 1, holder, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, scope);
	sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
	if (ops != 0) {
		sqlite3_bind_int64(st, 4, (sqlite3_int64)ops);
		sqlite3_bind_int64(st, 5, time(NULL));
	}
	return (ks_done(ks, st, sqlite3_step(st), "grant"));
}

/* Every grant, to fn until it returns non-zero. */
int
ks_grant_scan(struct keystore *ks, int (*fn)(const char *, int,
    const char *, uint64_t, void *), void *arg)
{
	sqlite3_stmt	*st = ks->stmt[S_GRANT_SCAN];
	const char	*h, *t;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((h = (const char *)sqlite3_column_text(st, 0)) == NULL)
			h = "";
		if ((t = (const char *)sqlite3_column_text(st, 2)) == NULL)
			t = "";
		if (fn(h, sqlite3_column_int(st, 1), t,
		    (uint64_t)sqlite3_column_int64(st, 3), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return (ks_done(ks, st, rc, "grants"));
}

/*
 * signerctl show keys: at most max objects after rowid *after (0 to
 * start), of owner (NULL: all), oldest first, each with its first
 * Name; *after moves past them.  *n < max: there are no more.
 */
int
ks_list(struct keystore *ks, const char *owner, int64_t *after,
    struct ks_listed *out, size_t max, size_t *n)
{
	sqlite3_stmt	*st;
	const char	*s;
	int		 rc = SQLITE_DONE;

	*n = 0;
	if (sqlite3_prepare_v2(ks->db, owner != NULL ?
	    "SELECT o.rowid, o.id, o.type, o.state, o.algorithm, o.owner,"
	    " o.signer, (SELECT x.value FROM attr_index x INDEXED BY"
	    " attr_index_oid WHERE x.oid = o.rowid AND x.attr = ?4 LIMIT 1)"
	    " FROM objects o INDEXED BY objects_owner_age WHERE"
	    " o.owner = ?1 AND o.rowid > ?2 ORDER BY o.rowid LIMIT ?3" :
	    "SELECT o.rowid, o.id, o.type, o.state, o.algorithm, o.owner,"
	    " o.signer, (SELECT x.value FROM attr_index x INDEXED BY"
	    " attr_index_oid WHERE x.oid = o.rowid AND x.attr = ?4 LIMIT 1)"
	    " FROM objects o WHERE o.rowid > ?2 ORDER BY o.rowid LIMIT ?3",
	    -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "list"));
	if (owner != NULL)
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, *after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	sqlite3_bind_int64(st, 4, KMIP_TAG_NAME);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&out[*n], 0, sizeof(out[*n]));
		*after = sqlite3_column_int64(st, 0);
		if ((s = (const char *)sqlite3_column_text(st, 1)) != NULL)
			(void)strlcpy(out[*n].id, s, sizeof(out[*n].id));
		out[*n].type = sqlite3_column_int64(st, 2);
		out[*n].state = sqlite3_column_int64(st, 3);
		out[*n].algorithm = sqlite3_column_int64(st, 4);
		if ((s = (const char *)sqlite3_column_text(st, 5)) != NULL)
			(void)strlcpy(out[*n].owner, s, sizeof(out[*n].owner));
		if ((s = (const char *)sqlite3_column_text(st, 6)) != NULL)
			(void)strlcpy(out[*n].signer, s,
			    sizeof(out[*n].signer));
		if (sqlite3_column_type(st, 7) == SQLITE_TEXT &&
		    (s = (const char *)sqlite3_column_text(st, 7)) != NULL)
			(void)strlcpy(out[*n].name, s, sizeof(out[*n].name));
		(*n)++;
	}
	sqlite3_finalize(st);
	if (*n < max && rc != SQLITE_DONE)
		return (ks_fail(ks, "list"));
	return (0);
}

/*
 * The audit trail's records first to last (lines), committed with the
 * turn that made them; in a transaction.  0, or -1.
 */
int
ks_audit_put(struct keystore *ks, uint64_t first, uint64_t last,
    const char *lines, size_t len)
{
	sqlite3_stmt	*st = ks->stmt[S_AUDIT_PUT];

	if (ks_need_txn(ks) == -1)
		return (-1);
	sqlite3_bind_int64(st, 1, (int64_t)first);
	sqlite3_bind_int64(st, 2, (int64_t)last);
	sqlite3_bind_blob(st, 3, lines, len, SQLITE_STATIC);
	return (ks_done(ks, st, sqlite3_step(st), "audit"));
}

/* Forget the records up to seq upto: their file has them on disk. */
int
ks_audit_trim(struct keystore *ks, uint64_t upto)
{
	sqlite3_stmt	*st = ks->stmt[S_AUDIT_TRIM];

	if (ks_need_txn(ks) == -1)
		return (-1);
	sqlite3_bind_int64(st, 1, (int64_t)upto);
	return (ks_done(ks, st, sqlite3_step(st), "audit"));
}

/*
 * Every record kept, in order, as lines into *buf (malloc'ed, *len
 * bytes; NULL if none), at most max bytes.  0, or -1.
 */
int
ks_audit_get(struct keystore *ks, char **buf, size_t *len, size_t max)
{
	sqlite3_stmt	*st = ks->stmt[S_AUDIT_GET];
	const void	*b;
	char		*nb;
	size_t		 n;
	int		 rc;

	*buf = NULL;
	*len = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		b = sqlite3_column_blob(st, 0);
		n = sqlite3_column_bytes(st, 0);
		if (b == NULL || n == 0 || *len + n > max)
			continue;
		if ((nb = realloc(*buf, *len + n)) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		memcpy(nb + *len, b, n);
		*buf = nb;
		*len += n;
	}
	if (ks_done(ks, st, rc, "audit") == -1) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		return (-1);
	}
	return (0);
}
