/*
 * The keystore: managed objects, their attributes, lifecycle state,
 * owner, the signer that holds their key material, and that material as
 * the signer handed it over (wrapped, or public).  SQLite in WAL mode
 * with synchronous=FULL: a commit returns once it is on disk.
 */
#ifndef KEYSTORE_H
#define KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "signerd.h"

#define KS_ID_MAX	64		/* Unique Identifier, with the NUL */
#define KS_OWNER_MAX	256
#define KS_NAME_MAX	1024
#define KS_INDEX_MAX	512		/* index entries of one object */
#define KS_HSM_PREFIX	"hsm::"		/* hsm::<slot>::<key id> */
#define KS_PUB_SUFFIX	"_pk"		/* the public half of one */

struct keystore;
struct ttlv;

struct ks_object {
	char		 id[KS_ID_MAX];
	uint32_t	 type;		/* KMIP Object Type */
	uint32_t	 state;		/* KMIP State */
	uint32_t	 algorithm;	/* KMIP Cryptographic Algorithm, or 0 */
	char		 owner[KS_OWNER_MAX];
	char		 signer[SIGNER_NAME_MAX];	/* "" if none */
	int64_t		 created;
	uint8_t		*attrs;		/* TTLV: the attributes, encoded */
	size_t		 attrs_len;
	uint8_t		*material;	/* wrapped secret or public data */
	size_t		 material_len;
};

/*
 * One value of an attribute, for the keystore's index, which Locate
 * uses to find candidates: every Name (its Name Value), every Object
 * Group and every date.  The text points into the caller's attributes.
 */
struct ks_index {
	uint32_t	 attr;		/* KMIP tag of the attribute */
	int		 text;		/* s and len, else i */
	const char	*s;
	size_t		 len;
	int64_t		 i;
};

/*
 * What drives a Locate: the index that yields its candidates, in an
 * order that lets it stop and go on where it stopped (the cursor).  The
 * caller checks every candidate: the index only narrows.
 */
enum ks_by {
	KS_BY_OWNER,		/* all of the owner's, by age */
	KS_BY_TYPE,		/* of one Object Type, by age */
	KS_BY_SIGNER,		/* all of a signer's (owner: the signer) */
	KS_BY_VALUE,		/* with that attribute value, by age */
	KS_BY_RANGE		/* with a date in [value.i, hi], by date */
};

struct ks_filter {
	const char	*owner;		/* required */
	enum ks_by	 by;
	uint32_t	 type;		/* KS_BY_TYPE */
	struct ks_index	 value;		/* KS_BY_VALUE, KS_BY_RANGE */
	int64_t		 hi;		/* KS_BY_RANGE */
	/* The cursor: where the last step stopped; zero to start. */
	int64_t		 after_value;	/* KS_BY_RANGE */
	int64_t		 after_oid;
	int		 started;
};

/* A candidate of a Locate step, with the columns that need no load. */
struct ks_found {
	char		 id[KS_ID_MAX];
	uint32_t	 type;
	uint32_t	 state;
	uint32_t	 algorithm;
	char		 owner[KS_OWNER_MAX];
	char		 signer[SIGNER_NAME_MAX];
};

/* An object as signerctl show keys lists it (ks_list). */
struct ks_listed {
	char		 id[KS_ID_MAX];
	char		 name[256];	/* its first Name, or "" */
	char		 owner[KS_OWNER_MAX];
	char		 signer[SIGNER_NAME_MAX];
	uint32_t	 type;
	uint32_t	 state;
	uint32_t	 algorithm;
};

/* The cache of objects read (keystore.c), for tests and logs. */
struct ks_stats {
	uint64_t	 hits;		/* ks_get answered from it */
	uint64_t	 misses;	/* ks_get read the table */
	uint64_t	 dropped;	/* entries dropped: writes, rollbacks */
};

int	 ks_open(const char *, struct keystore **, char *, size_t);
void	 ks_close(struct keystore *);
int	 ks_begin(struct keystore *);
int	 ks_commit(struct keystore *);
int	 ks_rollback(struct keystore *);
int	 ks_in_transaction(struct keystore *);
int	 ks_new_id(struct keystore *, char *, size_t);
int	 ks_id_valid(const char *);
int	 ks_hsm_id(const char *, unsigned long long *, const char **);
int	 ks_insert(struct keystore *, const struct ks_object *,
	    const struct ks_index *, size_t);
int	 ks_update(struct keystore *, const struct ks_object *,
	    const struct ks_index *, size_t);
int	 ks_get(struct keystore *, const char *, struct ks_object *);
int	 ks_peek(struct keystore *, const char *, struct ks_object *);
int	 ks_locate(struct keystore *, struct ks_filter *, struct ks_found *,
	    size_t, size_t *);
int	 ks_locate_plan(struct keystore *, const struct ks_filter *, char *,
	    size_t);
int	 ks_needs_reindex(struct keystore *);
int	 ks_reindex(struct keystore *, size_t (*)(const struct ks_object *,
	    struct ks_index *, size_t, void **), void (*)(void *));
int	 ks_scan(struct keystore *, int (*)(const struct ks_object *, void *),
	    void *);
void	 ks_object_clear(struct ks_object *);
int	 ks_kek_check_get(struct keystore *, const char *, const char *,
	    char *, size_t);
int	 ks_kek_check_put(struct keystore *, const char *, const char *,
	    const char *, int64_t);
const char *ks_error(struct keystore *);
const struct ttlv *ks_cached_attrs(struct keystore *,
	    const struct ks_object *);
int	 ks_cache_attrs(struct keystore *, const struct ks_object *,
	    struct ttlv *);
void	 ks_cache_flush(struct keystore *);
const struct ks_stats *ks_stats(struct keystore *);

/* A signer's identity key, as the engine recorded it (engine.c). */
struct ks_ident {
	char		 signer[SIGNER_NAME_MAX];
	int32_t		 type;		/* enum signer_type */
	uint32_t	 kind;		/* enum hsm_key_kind */
	uint8_t		*blob;		/* wrapped, or a token reference */
	size_t		 blob_len;
	uint8_t		*spki;		/* SubjectPublicKeyInfo, DER */
	size_t		 spki_len;
	int64_t		 created;
};

int	 ks_ident_list(struct keystore *, struct ks_ident **, size_t *);
void	 ks_ident_free(struct ks_ident *, size_t);
int	 ks_ident_put(struct keystore *, const struct ks_ident *);
int	 ks_ident_rename(struct keystore *, const char *, const char *,
	    int64_t *);
int	 ks_ident_set_blob(struct keystore *, const char *, const uint8_t *,
	    size_t);
int64_t	 ks_count_signer(struct keystore *, const char *);
int	 ks_size(struct keystore *, int64_t *, int64_t *);

/* Grants (policy.c) and the list of signerctl show keys. */
int	 ks_grant_set(struct keystore *, const char *, int, const char *,
	    uint64_t);
int	 ks_grant_scan(struct keystore *, int (*)(const char *, int,
	    const char *, uint64_t, void *), void *);
int	 ks_list(struct keystore *, const char *, int64_t *,
	    struct ks_listed *, size_t, size_t *);

/* Audit records of committed turns, until their file is synced. */
int	 ks_audit_put(struct keystore *, uint64_t, uint64_t, const char *,
	    size_t);
int	 ks_audit_trim(struct keystore *, uint64_t);
int	 ks_audit_get(struct keystore *, char **, size_t *, size_t);

#endif /* KEYSTORE_H */
