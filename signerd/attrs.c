/*
 * Managed-object attributes as the keystore keeps them: one TTLV
 * structure of KMIP 1.x Attribute items (Attribute Name, optional
 * Attribute Index, Attribute Value), canonically encoded.  Unique
 * Identifier, Object Type and State live in keystore columns and are
 * added when a client asks.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "attrs.h"
#include "kmip.h"
#include "log.h"

_Static_assert(KS_INDEX_MAX >= ATTRS_STORED_MAX,
    "an object's index entries fit");

static int	 attr_is(const struct ttlv *, const char *, size_t);
static size_t	 attrs_indexed(const struct ttlv *, struct ks_index *, size_t);

static struct ttlv	*attrs_decode(const struct ks_object *, char *,
			    size_t);

/* Items: each Attribute is a few, a structured value a few more. */
static const struct ttlv_limits attrs_limits = {
	ATTRS_STORED_SIZE, 8, 16 * ATTRS_STORED_MAX, ATTRS_STORED_SIZE
};

static struct ttlv *
attrs_decode(const struct ks_object *o, char *why, size_t whylen)
{
	struct ttlv	*a;
	const char	*err;

	if (o->attrs_len == 0)
		return (ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE));
	if (ttlv_decode(o->attrs, o->attrs_len, &attrs_limits, &a,
	    &err) == -1) {
		(void)snprintf(why, whylen, "attributes do not decode: %s",
		    err);
		return (NULL);
	}
	if (a->type != TTLV_STRUCTURE) {
		ttlv_free(a);
		(void)snprintf(why, whylen, "attributes are not a structure");
		return (NULL);
	}
	if (ttlv_count(a, KMIP_TAG_ATTRIBUTE) > ATTRS_STORED_MAX) {
		ttlv_free(a);
		(void)snprintf(why, whylen, "more than %d attributes",
		    ATTRS_STORED_MAX);
		return (NULL);
	}
	return (a);
}

/*
 * The attributes of a stored object, or NULL (logged) if they do not
 * load: a damaged object is an error for that object alone, never for
 * the engine.  Operations on a client's object go through kop_load,
 * which refuses a damaged one before anything else loads it.
 */
struct ttlv *
attrs_load(const struct ks_object *o)
{
	struct ttlv	*a;
	char		 why[128];

	if ((a = attrs_decode(o, why, sizeof(why))) == NULL)
		log_warnx("keystore object %s is damaged: %s", o->id, why);
	return (a);
}

/*
 * o's attributes to read, decoded once for as long as o stays in ks's
 * cache (ks_get put it there): a Sign neither decodes them again nor
 * frees them.  The tree is not to be changed; it is valid until the
 * next keystore call.  If the cache cannot keep it, *own is set to the
 * tree, which the caller frees (ttlv_free); else *own is NULL.  NULL
 * (why) if they do not load.
 */
const struct ttlv *
attrs_view(struct keystore *ks, const struct ks_object *o, struct ttlv **own,
    char *why, size_t whylen)
{
	const struct ttlv	*c;
	struct ttlv		*a;

	*own = NULL;
	if ((c = ks_cached_attrs(ks, o)) != NULL)
		return (c);
	if ((a = attrs_decode(o, why, whylen)) == NULL)
		return (NULL);
	if (ks_cache_attrs(ks, o, a) == -1)
		*own = a;
	return (a);
}

/* 1 (and why) if o's attributes do not load, else 0. */
int
attrs_damaged(const struct ks_object *o, char *why, size_t whylen)
{
	struct ttlv	*a;

	if ((a = attrs_decode(o, why, whylen)) == NULL)
		return (1);
	ttlv_free(a);
	return (0);
}

/*
 * Can a be stored?  client: within what a client may give an object;
 * else within what the keystore takes, the limits attrs_load applies.
 * -1 with the limit named in why.
 */
int
attrs_check(const struct ttlv *a, int client, char *why, size_t whylen)
{
	const char	*err;
	unsigned int	 max = client ? ATTRS_MAX : ATTRS_STORED_MAX;
	size_t		 size = client ? ATTRS_MAX_SIZE : ATTRS_STORED_SIZE;

	if (ttlv_count(a, KMIP_TAG_ATTRIBUTE) > max) {
		(void)snprintf(why, whylen, "an object carries at most %u "
		    "attributes", max);
		return (-1);
	}
	if (ttlv_encoded_len(a) > size) {
		(void)snprintf(why, whylen, "an object's attributes take at "
		    "most %zu bytes", size);
		return (-1);
	}
	if (ttlv_check_limits(a, &attrs_limits, &err) == -1) {
		(void)snprintf(why, whylen, "attributes over the keystore's "
		    "limits: %s", err);
		return (-1);
	}
	return (0);
}

void
attrs_store(struct ks_object *o, const struct ttlv *a)
{
	free(o->attrs);
	o->attrs_len = ttlv_encoded_len(a);
	if ((o->attrs = malloc(o->attrs_len)) == NULL)
		fatal(NULL);
	if (ttlv_encode(a, o->attrs, o->attrs_len) == -1)
		fatalx("%s: ttlv_encode", __func__);
}

/* The name of an Attribute item into name; -1 if it has none. */
int
attr_name(const struct ttlv *attr, char *name, size_t len)
{
	return (ttlv_get_text(attr, KMIP_TAG_ATTRIBUTE_NAME, name, len));
}

/*
 * Whether an Attribute item is named name, compared where it lies: the
 * lookups below run for every attribute of every object a request
 * builds or reads, and a copy of each name cost more than the rest.
 */
static int
attr_is(const struct ttlv *attr, const char *name, size_t len)
{
	const struct ttlv	*n;

	n = ttlv_find(attr, KMIP_TAG_ATTRIBUTE_NAME);
	return (n != NULL && n->type == TTLV_TEXT_STRING &&
	    n->v.s.len == len && memcmp(n->v.s.data, name, len) == 0);
}

int32_t
attr_index(const struct ttlv *attr)
{
	int32_t	 idx;

	if (ttlv_get_integer(attr, KMIP_TAG_ATTRIBUTE_INDEX, &idx) == -1)
		return (0);
	return (idx);
}

/* The index-th value of attribute name, or NULL. */
const struct ttlv *
attr_get(const struct ttlv *a, const char *name, int32_t index)
{
	const struct ttlv	*t;
	size_t			 len = strlen(name);

	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE))
		if (attr_is(t, name, len) && attr_index(t) == index)
			return (ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE));
	return (NULL);
}

unsigned int
attr_count(const struct ttlv *a, const char *name)
{
	const struct ttlv	*t;
	size_t			 len = strlen(name);
	unsigned int		 count = 0;

	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE))
		if (attr_is(t, name, len))
			count++;
	return (count);
}

/*
 * Append a value: value is copied and retagged Attribute Value.  The
 * index is the next free one for that name.
 */
struct ttlv *
attr_add(struct ttlv *a, const char *name, const struct ttlv *value)
{
	struct ttlv	*t, *v;
	unsigned int	 idx;

	idx = attr_count(a, name);
	t = ttlv_add_structure(a, KMIP_TAG_ATTRIBUTE);
	ttlv_add_string(t, KMIP_TAG_ATTRIBUTE_NAME, name);
	if (idx > 0)
		ttlv_add_integer(t, KMIP_TAG_ATTRIBUTE_INDEX, idx);
	v = ttlv_copy(value);
	v->tag = KMIP_TAG_ATTRIBUTE_VALUE;
	ttlv_append(t, v);
	return (v);
}

/* Replace the index-th value (or add it if there is none). */
void
attr_set(struct ttlv *a, const char *name, int32_t index,
    const struct ttlv *value)
{
	struct ttlv	*t, *v;
	size_t		 len = strlen(name);

	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE))
		if (attr_is(t, name, len) && attr_index(t) == index)
			break;
	if (t == NULL) {
		(void)attr_add(a, name, value);
		return;
	}
	if ((v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) != NULL) {
		ttlv_remove(v);
		ttlv_free(v);
	}
	v = ttlv_copy(value);
	v->tag = KMIP_TAG_ATTRIBUTE_VALUE;
	ttlv_append(t, v);
}

/*
 * Remove the index-th value, renumbering the later ones so indices stay
 * dense.  -1 if there was none.
 */
int
attr_delete(struct ttlv *a, const char *name, int32_t index)
{
	struct ttlv	*t, *next, *it;
	size_t		 len = strlen(name);
	int32_t		 i;
	int		 found = 0;

	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL; t = next) {
		next = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE);
		if (!attr_is(t, name, len))
			continue;
		i = attr_index(t);
		if (i == index) {
			ttlv_remove(t);
			ttlv_free(t);
			found = 1;
		} else if (found && i > index) {
			/* Renumber: drop the old index, add the new one. */
			if ((it = ttlv_find(t, KMIP_TAG_ATTRIBUTE_INDEX)) !=
			    NULL) {
				if (i - 1 == 0) {
					ttlv_remove(it);
					ttlv_free(it);
				} else
					it->v.i32 = i - 1;
			}
		}
	}
	return (found ? 0 : -1);
}

/* Add a Link attribute {Link Type, Linked Object Identifier}. */
void
attr_add_link(struct ttlv *a, uint32_t type, const char *id)
{
	struct ttlv	*tmp = ttlv_new_structure(0), *l;

	l = ttlv_add_structure(tmp, KMIP_TAG_ATTRIBUTE_VALUE);
	ttlv_add_enum(l, KMIP_TAG_LINK_TYPE, type);
	ttlv_add_string(l, KMIP_TAG_LINKED_OBJECT_IDENTIFIER, id);
	(void)attr_add(a, "Link", l);
	ttlv_free(tmp);
}

/*
 * The Digest of an object: SHA-256 of its value in the Key Format Type
 * fmt (0 for a certificate, whose Digest has none), as KMIP 1.x asks
 * ("SHALL always have a value" for keys, certificates, secret data).
 */
void
attr_set_digest(struct ttlv *a, const uint8_t *data, size_t len,
    uint32_t fmt)
{
	uint8_t	 md[SHA256_DIGEST_LENGTH];

	if (EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) != 1)
		fatalx("%s: EVP_Digest", __func__);
	attr_set_digest_value(a, md, sizeof(md), fmt);
	explicit_bzero(md, sizeof(md));
}

/* The same with a SHA-256 a signer computed. */
void
attr_set_digest_value(struct ttlv *a, const uint8_t *md, size_t len,
    uint32_t fmt)
{
	struct ttlv	*t = ttlv_new_structure(0), *d;

	d = ttlv_add_structure(t, KMIP_TAG_ATTRIBUTE_VALUE);
	ttlv_add_enum(d, KMIP_TAG_HASHING_ALGORITHM, KMIP_HASH_SHA256);
	ttlv_add_bytes(d, KMIP_TAG_DIGEST_VALUE, md, len);
	if (fmt != 0)
		ttlv_add_enum(d, KMIP_TAG_KEY_FORMAT_TYPE, fmt);
	attr_set(a, "Digest", 0, d);
	ttlv_free(t);
}

/* Convenience setters for server-managed values. */
void
attr_set_enum(struct ttlv *a, const char *name, uint32_t v)
{
	struct ttlv	*t = ttlv_new_structure(0);

	attr_set(a, name, 0, ttlv_add_enum(t, KMIP_TAG_ATTRIBUTE_VALUE, v));
	ttlv_free(t);
}

void
attr_set_integer(struct ttlv *a, const char *name, int32_t v)
{
	struct ttlv	*t = ttlv_new_structure(0);

	attr_set(a, name, 0, ttlv_add_integer(t, KMIP_TAG_ATTRIBUTE_VALUE,
	    v));
	ttlv_free(t);
}

void
attr_set_datetime(struct ttlv *a, const char *name, int64_t v)
{
	struct ttlv	*t = ttlv_new_structure(0);

	attr_set(a, name, 0, ttlv_add_datetime(t, KMIP_TAG_ATTRIBUTE_VALUE,
	    v));
	ttlv_free(t);
}

void
attr_set_bool(struct ttlv *a, const char *name, int v)
{
	struct ttlv	*t = ttlv_new_structure(0);

	attr_set(a, name, 0, ttlv_add_bool(t, KMIP_TAG_ATTRIBUTE_VALUE, v));
	ttlv_free(t);
}

int
attr_get_enum(const struct ttlv *a, const char *name, uint32_t *v)
{
	const struct ttlv	*t;

	if ((t = attr_get(a, name, 0)) == NULL || t->type != TTLV_ENUMERATION)
		return (-1);
	*v = t->v.u32;
	return (0);
}

int
attr_get_integer(const struct ttlv *a, const char *name, int32_t *v)
{
	const struct ttlv	*t;

	if ((t = attr_get(a, name, 0)) == NULL || t->type != TTLV_INTEGER)
		return (-1);
	*v = t->v.i32;
	return (0);
}

int
attr_get_datetime(const struct ttlv *a, const char *name, int64_t *v)
{
	const struct ttlv	*t;

	if ((t = attr_get(a, name, 0)) == NULL || t->type != TTLV_DATE_TIME)
		return (-1);
	*v = t->v.i64;
	return (0);
}

int
attr_get_bool(const struct ttlv *a, const char *name, int *v)
{
	const struct ttlv	*t;

	if ((t = attr_get(a, name, 0)) == NULL || t->type != TTLV_BOOLEAN)
		return (-1);
	*v = t->v.b;
	return (0);
}

/*
 * Whether the keystore indexes the dates of attribute tag: all of ours
 * but Last Change Date, which every change of an object rewrites (its
 * index entry with it) and which Locate finds object by object.
 */
int
attrs_date_indexed(int tag)
{
	return (tag != -1 && tag != KMIP_TAG_CUSTOM_ATTRIBUTE &&
	    tag != KMIP_TAG_LAST_CHANGE_DATE);
}

/*
 * The values of a that the keystore indexes for Locate (struct
 * ks_index): the Name Value of every Name, every Object Group, the
 * dates attrs_date_indexed names.  The text points into a.  Returns how
 * many (at most max, which holds every attribute an object may store).
 */
static size_t
attrs_indexed(const struct ttlv *a, struct ks_index *idx, size_t max)
{
	const struct ttlv	*t, *v, *nv;
	char			 name[ATTR_NAME_MAX];
	size_t			 n = 0;
	int			 tag;

	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL && n < max;
	    t = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE)) {
		if (attr_name(t, name, sizeof(name)) == -1 ||
		    (v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL ||
		    (tag = kmip_attr_tag(name)) == -1 ||
		    tag == KMIP_TAG_CUSTOM_ATTRIBUTE)
			continue;
		memset(&idx[n], 0, sizeof(idx[n]));
		idx[n].attr = tag;
		if (tag == KMIP_TAG_NAME && v->type == TTLV_STRUCTURE &&
		    (nv = ttlv_find(v, KMIP_TAG_NAME_VALUE)) != NULL &&
		    nv->type == TTLV_TEXT_STRING) {
			idx[n].text = 1;
			idx[n].s = (const char *)nv->v.s.data;
			idx[n++].len = nv->v.s.len;
		} else if (tag == KMIP_TAG_OBJECT_GROUP &&
		    v->type == TTLV_TEXT_STRING) {
			idx[n].text = 1;
			idx[n].s = (const char *)v->v.s.data;
			idx[n++].len = v->v.s.len;
		} else if (v->type == TTLV_DATE_TIME &&
		    attrs_date_indexed(tag))
			idx[n++].i = v->v.i64;
	}
	return (n);
}

/*
 * Write o, whose attributes are a, to the keystore with its index
 * entries: a new object if insert, else over the one of its id.
 */
int
attrs_write(struct keystore *ks, const struct ks_object *o,
    const struct ttlv *a, int insert)
{
	static struct ks_index	 idx[KS_INDEX_MAX];
	size_t			 n;

	n = attrs_indexed(a, idx, KS_INDEX_MAX);
	return (insert ? ks_insert(ks, o, idx, n) : ks_update(ks, o, idx, n));
}

/* ks_reindex's view of an object: its attributes, loaded. */
size_t
attrs_reindex(const struct ks_object *o, struct ks_index *idx, size_t max,
    void **keep)
{
	struct ttlv	*a;

	if ((a = attrs_load(o)) == NULL)
		return (0);	/* damaged: signerctl show damaged */
	*keep = a;
	return (attrs_indexed(a, idx, max));
}

void
attrs_reindex_done(void *keep)
{
	ttlv_free(keep);
}
