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

struct ks_filter {
	const char	*owner;		/* required */
	uint32_t	 type;		/* 0: any */
	uint32_t	 state;		/* 0: any */
	uint32_t	 algorithm;	/* 0: any */
	const char	*name;		/* NULL: any */
	int		 live;		/* leave out destroyed objects */
	size_t		 offset;
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
	    const char * const *, size_t);
int	 ks_update(struct keystore *, const struct ks_object *,
	    const char * const *, size_t);
int	 ks_get(struct keystore *, const char *, struct ks_object *);
int	 ks_locate(struct keystore *, const struct ks_filter *,
	    char (*)[KS_ID_MAX], size_t, size_t *);
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

#endif /* KEYSTORE_H */
