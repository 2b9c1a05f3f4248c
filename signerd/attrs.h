/*
 * Attributes of managed objects, as stored in the keystore.
 */
#ifndef ATTRS_H
#define ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "keystore.h"
#include "ttlv.h"

#define ATTR_NAME_MAX		128

/*
 * What a client may give one object: Add Attribute, Modify Attribute
 * and the templates of Create, Create Key Pair and Register are refused
 * beyond these.
 */
#define ATTRS_MAX		256		/* Attribute items */
#define ATTRS_MAX_SIZE		(64 * 1024)	/* their encoding, bytes */
/*
 * What the keystore takes, and what is loaded back with the same limits
 * so that a stored object always loads: the client's share plus room
 * for the server's own (dates, Revocation Reason), so that an object at
 * the client's limit can still be revoked and destroyed.
 */
#define ATTRS_STORED_MAX	(ATTRS_MAX + 64)
#define ATTRS_STORED_SIZE	(ATTRS_MAX_SIZE + 16 * 1024)

struct ttlv		*attrs_load(const struct ks_object *);
const struct ttlv	*attrs_view(struct keystore *,
			    const struct ks_object *, struct ttlv **, char *,
			    size_t);
int			 attrs_damaged(const struct ks_object *, char *,
			    size_t);
int			 attrs_check(const struct ttlv *, int, char *, size_t);
void			 attrs_store(struct ks_object *, const struct ttlv *);
int			 attr_name(const struct ttlv *, char *, size_t);
int32_t			 attr_index(const struct ttlv *);
const struct ttlv	*attr_get(const struct ttlv *, const char *, int32_t);
unsigned int		 attr_count(const struct ttlv *, const char *);
struct ttlv		*attr_add(struct ttlv *, const char *,
			    const struct ttlv *);
void			 attr_set(struct ttlv *, const char *, int32_t,
			    const struct ttlv *);
int			 attr_delete(struct ttlv *, const char *, int32_t);
void			 attr_set_enum(struct ttlv *, const char *, uint32_t);
void			 attr_set_integer(struct ttlv *, const char *, int32_t);
void			 attr_set_datetime(struct ttlv *, const char *,
			    int64_t);
void			 attr_set_bool(struct ttlv *, const char *, int);
void			 attr_set_digest(struct ttlv *, const uint8_t *, size_t,
			    uint32_t);
void			 attr_set_digest_value(struct ttlv *, const uint8_t *,
			    size_t, uint32_t);
void			 attr_add_link(struct ttlv *, uint32_t, const char *);
int			 attr_get_enum(const struct ttlv *, const char *,
			    uint32_t *);
int			 attr_get_integer(const struct ttlv *, const char *,
			    int32_t *);
int			 attr_get_datetime(const struct ttlv *, const char *,
			    int64_t *);
int			 attr_get_bool(const struct ttlv *, const char *, int *);
int			 attrs_date_indexed(int);
int			 attrs_write(struct keystore *,
			    const struct ks_object *, const struct ttlv *,
			    int);
size_t			 attrs_reindex(const struct ks_object *,
			    struct ks_index *, size_t, void **);
void			 attrs_reindex_done(void *);

#endif /* ATTRS_H */
