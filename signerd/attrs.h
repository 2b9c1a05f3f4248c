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
#define ATTR_NAMES_MAX		32	/* Name attributes indexed */

struct ttlv		*attrs_load(const struct ks_object *);
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
void			 attr_add_link(struct ttlv *, uint32_t, const char *);
int			 attr_get_enum(const struct ttlv *, const char *,
			    uint32_t *);
int			 attr_get_integer(const struct ttlv *, const char *,
			    int32_t *);
int			 attr_get_bool(const struct ttlv *, const char *, int *);
size_t			 attr_names(const struct ttlv *,
			    char (*)[KS_NAME_MAX], size_t);

#endif /* ATTRS_H */
