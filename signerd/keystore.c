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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "keystore.h"
#include "kmip.h"
#include "ttlv.h"

#define KS_SCHEMA_VERSION	1

enum ks_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_INSERT,
	S_UPDATE,
	S_GET,
	S_NAMES_DEL,
	S_NAMES_ADD,
	S_EXISTS,
	S_SCAN,
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
	    " attributes = ?8, material = ?9 WHERE id = ?1",
	[S_GET] = "SELECT id, type, state, algorithm, owner, signer, created,"
	    " attributes, material FROM objects WHERE id = ?1",
	[S_NAMES_DEL] = "DELETE FROM names WHERE id = ?1",
	[S_NAMES_ADD] = "INSERT INTO names (id, name) VALUES (?1, ?2)",
	[S_EXISTS] = "SELECT 1 FROM objects WHERE id = ?1",
	[S_SCAN] = "SELECT id, type, state, algorithm, owner, signer, created,"
	    " attributes, rowid FROM objects WHERE rowid > ?1 ORDER BY rowid"
	    " LIMIT 1",
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
	"CREATE INDEX IF NOT EXISTS objects_owner ON objects (owner, type);"
	"CREATE TABLE IF NOT EXISTS names ("
	"  id TEXT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS names_name ON names (name);"
	"CREATE INDEX IF NOT EXISTS names_id ON names (id);"
	/* The check value of a signer's key-encryption key (see below). */
	"CREATE TABLE IF NOT EXISTS kek_checks ("
	"  signer TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (signer, source)"
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
	char		 err[256];
	struct ks_chain	 cache[KS_CACHE_BUCKETS];
	struct ks_lru	 lru;
	size_t		 ncached;
	size_t		 cached_bytes;
	struct ks_stats	 stats;
};

static int	 ks_exec(struct keystore *, enum ks_stmt);
static int	 ks_fail(struct keystore *, const char *);
static int	 ks_bind_object(struct keystore *, sqlite3_stmt *,
		    const struct ks_object *);
static int	 ks_set_names(struct keystore *, const char *,
		    const char * const *, size_t);
static uint32_t	 ks_hash(const char *);
static struct ks_cent *ks_cache_find(struct keystore *, const char *);
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
	if (version == 0)
		(void)sqlite3_exec(ks->db, "PRAGMA user_version = 1", NULL,
		    NULL, NULL);
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
	sqlite3_stmt	*st = ks->stmt[s];
	int		 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return (ks_fail(ks, ks_sql[s]));
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
	sqlite3_stmt	*st = ks->stmt[S_EXISTS];
	uint8_t		 r[16];
	int		 rc, tries;

	for (tries = 0; tries < 4; tries++) {
		arc4random_buf(r, sizeof(r));
		r[6] = (r[6] & 0x0f) | 0x40;
		r[8] = (r[8] & 0x3f) | 0x80;
		(void)snprintf(id, idlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		    r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
		    r[12], r[13], r[14], r[15]);
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

static int
ks_set_names(struct keystore *ks, const char *id, const char * const *names,
    size_t nnames)
{
	sqlite3_stmt	*st = ks->stmt[S_NAMES_ADD];
	size_t		 i;

	sqlite3_bind_text(ks->stmt[S_NAMES_DEL], 1, id, -1, SQLITE_STATIC);
	if (ks_exec(ks, S_NAMES_DEL) == -1)
		return (-1);
	for (i = 0; i < nnames; i++) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, names[i], -1, SQLITE_STATIC);
		if (ks_exec(ks, S_NAMES_ADD) == -1)
			return (-1);
	}
	return (0);
}

/* Both need an open transaction: the caller commits. */
int
ks_insert(struct keystore *ks, const struct ks_object *o,
    const char * const *names, size_t nnames)
{
	if (!ks->in_txn) {
		(void)snprintf(ks->err, sizeof(ks->err), "no transaction");
		return (-1);
	}
	if (!ks_id_valid(o->id)) {
		(void)snprintf(ks->err, sizeof(ks->err), "bad id");
		return (-1);
	}
	ks_cache_forget(ks, o->id);
	if (ks_bind_object(ks, ks->stmt[S_INSERT], o) == -1 ||
	    ks_exec(ks, S_INSERT) == -1)
		return (-1);
	return (ks_set_names(ks, o->id, names, nnames));
}

int
ks_update(struct keystore *ks, const struct ks_object *o,
    const char * const *names, size_t nnames)
{
	if (!ks->in_txn) {
		(void)snprintf(ks->err, sizeof(ks->err), "no transaction");
		return (-1);
	}
	ks_cache_forget(ks, o->id);
	if (ks_bind_object(ks, ks->stmt[S_UPDATE], o) == -1 ||
	    ks_exec(ks, S_UPDATE) == -1)
		return (-1);
	if (sqlite3_changes(ks->db) != 1) {
		(void)snprintf(ks->err, sizeof(ks->err), "no object %s",
		    o->id);
		return (-1);
	}
	return (ks_set_names(ks, o->id, names, nnames));
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
	sqlite3_stmt	*st = ks->stmt[S_GET];
	struct ks_cent	*e;
	const char	*s;
	int		 rc, ret = -1;

	memset(o, 0, sizeof(*o));
	if ((e = ks_cache_find(ks, id)) != NULL) {
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
	if (ret == 0)
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

	LIST_FOREACH(e, &ks->cache[ks_hash(id) & (KS_CACHE_BUCKETS - 1)],
	    hash)
		if (strcmp(e->o.id, id) == 0) {
			if (e != TAILQ_FIRST(&ks->lru)) {
				TAILQ_REMOVE(&ks->lru, e, lru);
				TAILQ_INSERT_HEAD(&ks->lru, e, lru);
			}
			return (e);
		}
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
 * Ids of the objects matching f, at most max of them, oldest first.  The
 * statement is built per call: the filter decides which terms it has.
 */
int
ks_locate(struct keystore *ks, const struct ks_filter *f,
    char (*ids)[KS_ID_MAX], size_t max, size_t *n)
{
	sqlite3_stmt	*st;
	char		 sql[512];
	int		 rc, i = 1;

	*n = 0;
	(void)snprintf(sql, sizeof(sql), "SELECT o.id FROM objects o WHERE"
	    " o.owner = ?%s%s%s%s%s ORDER BY o.created, o.rowid"
	    " LIMIT ? OFFSET ?",
	    f->type ? " AND o.type = ?" : "",
	    f->state ? " AND o.state = ?" : "",
	    f->live ? " AND o.state NOT IN (?, ?)" : "",
	    f->algorithm ? " AND o.algorithm = ?" : "",
	    f->name ? " AND o.id IN (SELECT id FROM names WHERE name = ?)" :
	    "");
	if (sqlite3_prepare_v2(ks->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (ks_fail(ks, "locate"));
	sqlite3_bind_text(st, i++, f->owner, -1, SQLITE_STATIC);
	if (f->type)
		sqlite3_bind_int64(st, i++, f->type);
	if (f->state)
		sqlite3_bind_int64(st, i++, f->state);
	if (f->live) {
		sqlite3_bind_int64(st, i++, KMIP_STATE_DESTROYED);
		sqlite3_bind_int64(st, i++, KMIP_STATE_DESTROYED_COMPROMISED);
	}
	if (f->algorithm)
		sqlite3_bind_int64(st, i++, f->algorithm);
	if (f->name)
		sqlite3_bind_text(st, i++, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)max);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		(void)strlcpy(ids[*n], (const char *)sqlite3_column_text(st,
		    0), KS_ID_MAX);
		(*n)++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		(void)ks_fail(ks, "locate");
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
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

	if (!ks->in_txn) {
		(void)snprintf(ks->err, sizeof(ks->err), "no transaction");
		return (-1);
	}
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
