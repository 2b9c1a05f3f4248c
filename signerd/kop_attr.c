/*
 * Attributes: Get Attributes, Get Attribute List, Add, Modify and
 * Delete Attribute.
 */
#include <sys/param.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attrs.h"
#include "engine.h"
#include "kmip.h"
#include "kop.h"
#include "kreq.h"
#include "log.h"

static int	kop_server_link(struct kreq *, const char *,
		    const struct ttlv *);

/*
 * Add the server-kept attributes to a copy, for clients to read.  Its
 * readers leave out what the request's version does not define (a 1.0
 * client has no Original Creation Date and may fail to decode one).
 */
static struct ttlv *
attrs_full(struct kreq *r)
{
	struct ttlv	*a = attrs_load(&r->obj), *tmp = ttlv_new_structure(0);

	attr_set(a, "Unique Identifier", 0, ttlv_add_string(tmp,
	    KMIP_TAG_ATTRIBUTE_VALUE, r->obj.id));
	attr_set_enum(a, "Object Type", r->obj.type);
	attr_set_enum(a, "State", r->obj.state);
	ttlv_free(tmp);
	return (a);
}

enum kop_ret
op_get_attributes(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*n, *t;
	struct ttlv		*a;
	char			 id[KS_ID_MAX], have[ATTR_NAME_MAX];

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	a = attrs_full(r);
	kop_payload_id(r, id);
	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE)) {
		if (attr_name(t, have, sizeof(have)) == -1 ||
		    !kmip_attr_in_version(have, r->major, r->minor))
			continue;
		if (ttlv_find(req, KMIP_TAG_ATTRIBUTE_NAME) != NULL) {
			for (n = ttlv_find(req, KMIP_TAG_ATTRIBUTE_NAME);
			    n != NULL; n = ttlv_find_next(req, n,
			    KMIP_TAG_ATTRIBUTE_NAME))
				if (n->type == TTLV_TEXT_STRING &&
				    n->v.s.len == strlen(have) &&
				    memcmp(n->v.s.data, have, n->v.s.len) == 0)
					break;
			if (n == NULL)
				continue;
		}
		ttlv_append(r->payload, ttlv_copy(t));
	}
	ttlv_free(a);
	return (KOP_DONE);
}

enum kop_ret
op_get_attribute_list(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*t;
	struct ttlv		*a;
	char			 id[KS_ID_MAX], name[ATTR_NAME_MAX];

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	a = attrs_full(r);
	kop_payload_id(r, id);
	for (t = ttlv_find(a, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(a, t, KMIP_TAG_ATTRIBUTE))
		if (attr_name(t, name, sizeof(name)) == 0 &&
		    attr_index(t) == 0 &&
		    kmip_attr_in_version(name, r->major, r->minor))
			ttlv_add_string(r->payload, KMIP_TAG_ATTRIBUTE_NAME,
			    name);
	ttlv_free(a);
	return (KOP_DONE);
}

/* The Attribute of an Add/Modify/Delete request, checked. */
static const struct ttlv *
kop_req_attr(struct kreq *r, const struct ttlv *req, char *name,
    size_t namelen, int need_value)
{
	const struct ttlv	*t;

	if ((t = ttlv_find(req, KMIP_TAG_ATTRIBUTE)) == NULL ||
	    t->type != TTLV_STRUCTURE ||
	    attr_name(t, name, namelen) == -1 ||
	    (need_value && ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE) == NULL)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no valid Attribute");
		return (NULL);
	}
	return (t);
}

/*
 * May a client add, change or delete the attribute name now?  An
 * attribute of a newer KMIP is no attribute at all in the request's
 * version (a 1.0 client cannot add Sensitive, 1.4).  Activation Date
 * says when the object became usable: once it is Active (or later) that
 * is history and no client may rewrite it (KMIP 1.x 3.24: it may change
 * only while the object is Pre-Active).
 */
static int
kop_attr_changeable(struct kreq *r, const char *name)
{
	if (!kmip_attr_in_version(name, r->major, r->minor)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "attribute \"%s\" is "
		    "not defined in KMIP %d.%d", name, (int)r->major,
		    (int)r->minor);
		return (-1);
	}
	if (strcmp(name, "Activation Date") != 0 ||
	    r->obj.state == KMIP_STATE_PRE_ACTIVE)
		return (0);
	kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "object %s is no longer "
	    "Pre-Active: its Activation Date cannot change", r->obj.id);
	return (-1);
}

/*
 * A Link the server made between the halves of a key pair stays (the
 * engine trusts it: kop_on_token, Get of a private key); a client's own
 * Links it may change.  0 if old may change.
 */
static int
kop_server_link(struct kreq *r, const char *name, const struct ttlv *old)
{
	if (old == NULL || strcmp(name, "Link") != 0 ||
	    kop_value_bad(name, old) == NULL)
		return (0);
	kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "the links of a key "
	    "pair are the server's");
	return (-1);
}

/* The attribute as it now stands, for the response. */
static void
kop_payload_attr(struct kreq *r, const char *name, int32_t idx,
    const struct ttlv *v)
{
	struct ttlv	*t, *c;

	t = ttlv_add_structure(r->payload, KMIP_TAG_ATTRIBUTE);
	ttlv_add_string(t, KMIP_TAG_ATTRIBUTE_NAME, name);
	if (idx > 0)
		ttlv_add_integer(t, KMIP_TAG_ATTRIBUTE_INDEX, idx);
	if (v != NULL) {
		c = ttlv_copy(v);
		c->tag = KMIP_TAG_ATTRIBUTE_VALUE;
		ttlv_append(t, c);
	}
}

enum kop_ret
op_add_attribute(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*t, *v;
	struct ttlv		*a;
	char			 id[KS_ID_MAX], name[ATTR_NAME_MAX];
	int			 multi, modify, rv;

	if (kop_load(r, req, id, sizeof(id)) == -1 ||
	    (t = kop_req_attr(r, req, name, sizeof(name), 1)) == NULL)
		return (KOP_DONE);
	v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
	if (!kop_client_attr(name, &multi, &modify) || !modify) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "attribute \"%s\" "
		    "cannot be set by a client", name);
		return (KOP_DONE);
	}
	if (kop_attr_changeable(r, name) == -1)
		return (KOP_DONE);
	a = attrs_load(&r->obj);
	if (!multi && attr_get(a, name, 0) != NULL) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "attribute \"%s\" "
		    "already has a value; use Modify Attribute", name);
		ttlv_free(a);
		return (KOP_DONE);
	}
	if (kop_protected(r, a, name, v) == -1) {
		ttlv_free(a);
		return (KOP_DONE);
	}
	(void)attr_add(a, name, v);
	/* A failed item's payload is dropped: it can be made now. */
	kop_payload_id(r, id);
	kop_payload_attr(r, name, attr_count(a, name) - 1, v);
	if ((rv = kop_name_to_token(r, name, a)) == 0)
		(void)kop_save(r, &r->obj, a, 0);
	ttlv_free(a);
	return (rv == 1 ? KOP_WAIT : KOP_DONE);
}

enum kop_ret
op_modify_attribute(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*t, *v;
	struct ttlv		*a;
	char			 id[KS_ID_MAX], name[ATTR_NAME_MAX];
	int			 multi, modify, rv;
	int32_t			 idx;

	if (kop_load(r, req, id, sizeof(id)) == -1 ||
	    (t = kop_req_attr(r, req, name, sizeof(name), 1)) == NULL)
		return (KOP_DONE);
	v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
	idx = attr_index(t);
	if (!kop_client_attr(name, &multi, &modify) || !modify) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "attribute \"%s\" "
		    "cannot be changed by a client", name);
		return (KOP_DONE);
	}
	if (kop_attr_changeable(r, name) == -1)
		return (KOP_DONE);
	a = attrs_load(&r->obj);
	if (attr_get(a, name, idx) == NULL) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "object %s has no "
		    "attribute \"%s\" with index %d", id, name, (int)idx);
		ttlv_free(a);
		return (KOP_DONE);
	}
	if (kop_server_link(r, name, attr_get(a, name, idx)) == -1 ||
	    kop_protected(r, a, name, v) == -1) {
		ttlv_free(a);
		return (KOP_DONE);
	}
	attr_set(a, name, idx, v);
	kop_payload_id(r, id);
	kop_payload_attr(r, name, idx, v);
	if ((rv = kop_name_to_token(r, name, a)) == 0)
		(void)kop_save(r, &r->obj, a, 0);
	ttlv_free(a);
	return (rv == 1 ? KOP_WAIT : KOP_DONE);
}

enum kop_ret
op_delete_attribute(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*t;
	struct ttlv		*a, *v;
	char			 id[KS_ID_MAX], name[ATTR_NAME_MAX];
	int			 multi, modify, rv;
	int32_t			 idx = 0;

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	/* KMIP 1.x: Attribute Name and Attribute Index in the payload. */
	if (ttlv_get_text(req, KMIP_TAG_ATTRIBUTE_NAME, name,
	    sizeof(name)) == -1) {
		if ((t = kop_req_attr(r, req, name, sizeof(name), 0)) == NULL)
			return (KOP_DONE);
		idx = attr_index(t);
	} else
		(void)ttlv_get_integer(req, KMIP_TAG_ATTRIBUTE_INDEX, &idx);
	if (!kop_client_attr(name, &multi, &modify) || !modify) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "attribute \"%s\" "
		    "cannot be deleted by a client", name);
		return (KOP_DONE);
	}
	/* Deleting would bring back the lax default, at any version. */
	if (kop_protected(r, NULL, name, NULL) == -1 ||
	    kop_attr_changeable(r, name) == -1)
		return (KOP_DONE);
	a = attrs_load(&r->obj);
	if (attr_get(a, name, idx) == NULL) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "object %s has no "
		    "attribute \"%s\" with index %d", id, name, (int)idx);
		ttlv_free(a);
		return (KOP_DONE);
	}
	if (kop_server_link(r, name, attr_get(a, name, idx)) == -1) {
		ttlv_free(a);
		return (KOP_DONE);
	}
	v = ttlv_copy(attr_get(a, name, idx));
	(void)attr_delete(a, name, idx);
	kop_payload_id(r, id);
	kop_payload_attr(r, name, idx, v);
	if ((rv = kop_name_to_token(r, name, a)) == 0)
		(void)kop_save(r, &r->obj, a, 0);
	ttlv_free(v);
	ttlv_free(a);
	return (rv == 1 ? KOP_WAIT : KOP_DONE);
}
