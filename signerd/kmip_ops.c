/*
 * KMIP operations in the engine: the table of operations, the helpers
 * every operation uses, Discover Versions and Query.
 *
 * Each handler reads its request payload, checks ownership and the
 * lifecycle state, changes the keystore (inside the turn's transaction)
 * and fills the response payload, or hands the cryptography to the
 * signer that holds the key and finishes in a continuation.  The
 * handlers live by concern: kop_create.c (Create, Create Key Pair,
 * Register), kop_get.c, kop_attr.c (attributes), kop_life.c (Activate,
 * Revoke, Destroy), kop_check.c, kop_locate.c, kop_crypto.c (Sign,
 * Signature Verify, Encrypt, Decrypt, MAC) and kop_token.c (keys in a
 * token: labels, adoption, hsm:: ids).
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
#include "policy.h"

static enum kop_ret	 op_discover_versions(struct kreq *,
			    const struct ttlv *);
static int		 signer_can(int, uint32_t);
static int		 kop_offered(uint32_t);
static int		 kop_keeps(uint32_t);
static int		 op_since(uint32_t);
static void		 query_rngs(struct kreq *);
static void		 query_capabilities(struct kreq *);
static enum kop_ret	 op_query(struct kreq *, const struct ttlv *);
static int		 kop_owner_as(struct kreq *, const struct ttlv *);

static const struct {
	uint32_t	 op;
	enum kop_ret	(*fn)(struct kreq *, const struct ttlv *);
} kops[] = {
	{ KMIP_OP_CREATE,		op_create },
	{ KMIP_OP_CREATE_KEY_PAIR,	op_create_key_pair },
	{ KMIP_OP_REGISTER,		op_register },
	{ KMIP_OP_LOCATE,		op_locate },
	{ KMIP_OP_CHECK,		op_check },
	{ KMIP_OP_GET,			op_get },
	{ KMIP_OP_GET_ATTRIBUTES,	op_get_attributes },
	{ KMIP_OP_GET_ATTRIBUTE_LIST,	op_get_attribute_list },
	{ KMIP_OP_ADD_ATTRIBUTE,	op_add_attribute },
	{ KMIP_OP_MODIFY_ATTRIBUTE,	op_modify_attribute },
	{ KMIP_OP_DELETE_ATTRIBUTE,	op_delete_attribute },
	{ KMIP_OP_ACTIVATE,		op_activate },
	{ KMIP_OP_REVOKE,		op_revoke },
	{ KMIP_OP_DESTROY,		op_destroy },
	{ KMIP_OP_QUERY,		op_query },
	{ KMIP_OP_DISCOVER_VERSIONS,	op_discover_versions },
	{ KMIP_OP_SIGN,			op_crypto },
	{ KMIP_OP_SIGNATURE_VERIFY,	op_crypto },
	{ KMIP_OP_ENCRYPT,		op_crypto },
	{ KMIP_OP_DECRYPT,		op_crypto },
	{ KMIP_OP_MAC,			op_crypto },
	{ KMIP_OP_MAC_VERIFY,		op_crypto },
	{ KMIP_OP_HASH,			op_hash },
	{ KMIP_OP_RNG_RETRIEVE,		op_rng_retrieve },
	{ KMIP_OP_RNG_SEED,		op_rng_seed },
};

/*
 * Attributes a client may set when it creates an object, and which of
 * them it may change afterwards.  Everything else is the server's.
 */
static const struct {
	const char	*name;
	int		 multi;		/* may have several values */
	int		 modify;	/* a client may change it later */
} client_attrs[] = {
	{ "Activation Date",			0, 1 },
	{ "Alternative Name",			1, 1 },
	{ "Application Specific Information",	1, 1 },
	{ "Comment",				0, 1 },
	{ "Contact Information",		0, 1 },
	{ "Cryptographic Algorithm",		0, 0 },
	{ "Cryptographic Domain Parameters",	0, 0 },
	{ "Cryptographic Length",		0, 0 },
	{ "Cryptographic Parameters",		1, 1 },
	{ "Cryptographic Usage Mask",		0, 0 },
	{ "Deactivation Date",			0, 1 },
	{ "Description",			0, 1 },
	{ "Extractable",			0, 1 },
	{ "Fresh",				0, 0 },
	{ "Lease Time",				0, 1 },
	{ "Link",				1, 1 },
	{ "Name",				1, 1 },
	{ "Object Group",			1, 1 },
	{ "Operation Policy Name",		0, 0 },
	{ "Original Creation Date",		0, 0 },	/* Register */
	{ "Process Start Date",			0, 1 },
	{ "Protect Stop Date",			0, 1 },
	{ "Random Number Generator",		0, 0 },	/* Register */
	{ "Sensitive",				0, 1 },
	{ "Usage Limits",			0, 0 },	/* then ours */
};

const uint32_t kop_operations[] = {
	KMIP_OP_CREATE, KMIP_OP_CREATE_KEY_PAIR, KMIP_OP_REGISTER,
	KMIP_OP_LOCATE, KMIP_OP_CHECK, KMIP_OP_GET,
	KMIP_OP_GET_ATTRIBUTES, KMIP_OP_GET_ATTRIBUTE_LIST,
	KMIP_OP_ADD_ATTRIBUTE, KMIP_OP_MODIFY_ATTRIBUTE,
	KMIP_OP_DELETE_ATTRIBUTE, KMIP_OP_ACTIVATE, KMIP_OP_REVOKE,
	KMIP_OP_DESTROY, KMIP_OP_QUERY, KMIP_OP_DISCOVER_VERSIONS,
	KMIP_OP_SIGN, KMIP_OP_SIGNATURE_VERIFY, KMIP_OP_ENCRYPT,
	KMIP_OP_DECRYPT, KMIP_OP_MAC, KMIP_OP_MAC_VERIFY, KMIP_OP_HASH,
	KMIP_OP_RNG_RETRIEVE, KMIP_OP_RNG_SEED
};
const size_t kop_noperations = sizeof(kop_operations) /
    sizeof(kop_operations[0]);

enum kop_ret
kop_run(struct kreq *r, uint32_t op, const struct ttlv *req)
{
	size_t	 i;

	/*
	 * No certificate (client certificate optional): the client may
	 * learn what the server speaks, nothing more.  Owners are
	 * identities, and "" would be one shared by every such client.
	 */
	if (r->hdr.identity[0] == '\0' && op != KMIP_OP_DISCOVER_VERSIONS &&
	    op != KMIP_OP_QUERY) {
		kreq_fail(r, KMIP_REASON_AUTHENTICATION_NOT_SUCCESSFUL,
		    "%s needs a client certificate: unauthenticated clients "
		    "may only use Discover Versions and Query",
		    kmip_op_name(op) != NULL ? kmip_op_name(op) :
		    "this operation");
		return (KOP_DONE);
	}
	if (!policy_op_allowed(r->hdr.identity, op)) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "%s may not use "
		    "%s", r->hdr.identity, kmip_op_name(op) != NULL ?
		    kmip_op_name(op) : "this operation");
		return (KOP_DONE);
	}
	for (i = 0; i < sizeof(kops) / sizeof(kops[0]); i++)
		if (kops[i].op == op)
			return (kops[i].fn(r, req));
	kreq_fail(r, KMIP_REASON_OPERATION_NOT_SUPPORTED, "operation %s "
	    "is not supported", kmip_op_name(op) != NULL ? kmip_op_name(op) :
	    "(unknown)");
	return (KOP_DONE);
}

/* --- helpers -------------------------------------------------------- */

int
kop_client_attr(const char *name, int *multi, int *modify)
{
	size_t	 i;

	if (strncmp(name, "x-", 2) == 0) {
		*multi = 1;
		*modify = 1;
		return (1);
	}
	for (i = 0; i < sizeof(client_attrs) / sizeof(client_attrs[0]); i++)
		if (strcmp(client_attrs[i].name, name) == 0) {
			*multi = client_attrs[i].multi;
			*modify = client_attrs[i].modify;
			return (1);
		}
	return (0);
}

/*
 * The shape of a value a client gives an attribute whose value is more
 * than a name; NULL if it will do, else why not.  The Links between
 * the halves of a key pair are the server's: kop_on_token and Get of a
 * private key trust them.
 */
const char *
kop_value_bad(const char *name, const struct ttlv *v)
{
	const struct ttlv	*t;
	int64_t			 l;
	uint32_t		 type;

	if (strcmp(name, "Link") == 0) {
		if (v->type != TTLV_STRUCTURE ||
		    ttlv_get_enum(v, KMIP_TAG_LINK_TYPE, &type) == -1 ||
		    (t = ttlv_find(v, KMIP_TAG_LINKED_OBJECT_IDENTIFIER)) ==
		    NULL || t->type != TTLV_TEXT_STRING)
			return ("a Link Type and a Linked Object Identifier");
		if (type == KMIP_LINK_PUBLIC_KEY ||
		    type == KMIP_LINK_PRIVATE_KEY)
			return ("the links of a key pair are the server's");
	} else if (strcmp(name, "Alternative Name") == 0) {
		if (v->type != TTLV_STRUCTURE ||
		    ttlv_get_enum(v, KMIP_TAG_ALTERNATIVE_NAME_TYPE,
		    &type) == -1 ||
		    (t = ttlv_find(v, KMIP_TAG_ALTERNATIVE_NAME_VALUE)) ==
		    NULL || t->type != TTLV_TEXT_STRING)
			return ("an Alternative Name Value and Type");
	} else if (strcmp(name, "Random Number Generator") == 0) {
		if (v->type != TTLV_STRUCTURE ||
		    ttlv_get_enum(v, KMIP_TAG_RNG_ALGORITHM, &type) == -1)
			return ("RNG Parameters with an RNG Algorithm");
	} else if (strcmp(name, "Usage Limits") == 0) {
		if (v->type != TTLV_STRUCTURE ||
		    ttlv_get_long(v, KMIP_TAG_USAGE_LIMITS_TOTAL, &l) == -1 ||
		    l < 0 ||
		    ttlv_get_enum(v, KMIP_TAG_USAGE_LIMITS_UNIT, &type) == -1 ||
		    (type != KMIP_USAGE_LIMITS_BYTE &&
		    type != KMIP_USAGE_LIMITS_OBJECT) ||
		    ttlv_find(v, KMIP_TAG_USAGE_LIMITS_COUNT) != NULL)
			return ("a Usage Limits Total of Bytes or Objects; the "
			    "Count is the server's");
	} else if (strcmp(name, "Original Creation Date") == 0) {
		if (v->type != TTLV_DATE_TIME)
			return ("a Date-Time");
	} else if (strcmp(name, "Fresh") == 0) {
		if (v->type != TTLV_BOOLEAN)
			return ("a Boolean");
	} else if (strcmp(name, "Lease Time") == 0) {
		if (v->type != TTLV_INTERVAL)
			return ("an Interval");
	}
	return (NULL);
}

/*
 * Sensitive and Extractable only ever tighten: Sensitive false -> true,
 * Extractable true -> false, whatever the operation (Add, Modify, the
 * templates of Create, Create Key Pair, Register), and neither may be
 * deleted.  v is the new value (NULL to delete), a the attributes the
 * object has (NULL for a new object: the defaults apply, Sensitive
 * false, Extractable true).  0 if allowed, else -1 and the item failed.
 */
int
kop_protected(struct kreq *r, const struct ttlv *a, const char *name,
    const struct ttlv *v)
{
	const char	*why;
	int		 old, sens;

	if (v != NULL && (why = kop_value_bad(name, v)) != NULL) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "\"%s\": %s", name,
		    why);
		return (-1);
	}
	if (strcmp(name, "Sensitive") == 0) {
		sens = 1;
		old = 0;
	} else if (strcmp(name, "Extractable") == 0) {
		sens = 0;
		old = 1;
	} else
		return (0);
	if (v == NULL) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "\"%s\" cannot "
		    "be deleted", name);
		return (-1);
	}
	if (v->type != TTLV_BOOLEAN) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "\"%s\" is a "
		    "Boolean", name);
		return (-1);
	}
	/* A stored value of another type reads as the stricter one. */
	if (a != NULL && attr_get(a, name, 0) != NULL &&
	    attr_get_bool(a, name, &old) == -1)
		old = sens ? 1 : 0;
	if ((sens && old && !v->v.b) || (!sens && !old && v->v.b)) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "\"%s\" cannot "
		    "be relaxed", name);
		return (-1);
	}
	return (0);
}

/*
 * The object a request names: its Unique Identifier, or the ID
 * Placeholder left by an earlier item of the batch.  What the client
 * may do to it is decided here, for every operation, by policy_may:
 * objects it neither owns nor holds a grant on do not exist for it; a
 * grant for other operations than this one is Permission Denied.  One
 * whose attributes do not load is damaged: an error for it alone, so
 * that attrs_load of r->obj after this cannot fail.
 */
int
kop_load(struct kreq *r, const struct ttlv *req, char *id, size_t idlen)
{
	struct ttlv	*a;
	char		 why[128];
	int		 rv;

	if (ttlv_find(req, KMIP_TAG_UNIQUE_IDENTIFIER) != NULL) {
		if (ttlv_get_text(req, KMIP_TAG_UNIQUE_IDENTIFIER, id,
		    idlen) == -1) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "bad Unique Identifier");
			return (-1);
		}
	} else if (r->placeholder[0] != '\0')
		(void)strlcpy(id, r->placeholder, idlen);
	else {
		kreq_fail(r, KMIP_REASON_MISSING_DATA,
		    "no Unique Identifier and no ID Placeholder");
		return (-1);
	}
	ks_object_clear(&r->obj);
	if ((rv = ks_get(engine->ks, id, &r->obj)) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (-1);
	}
	switch (rv == 1 ? POLICY_HIDDEN : policy_may(r->hdr.identity,
	    &r->obj, r->op)) {
	case POLICY_ALLOWED:
		break;
	case POLICY_DENIED:
		ks_object_clear(&r->obj);
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "no grant of %s "
		    "on %s", kmip_op_name(r->op) != NULL ?
		    kmip_op_name(r->op) : "this operation", id);
		return (-1);
	case POLICY_HIDDEN:
		ks_object_clear(&r->obj);
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "no object %s", id);
		return (-1);
	}
	/*
	 * Decoded once while the object stays in the keystore's cache:
	 * the check costs nothing on the next request, and an operation
	 * that only reads (attrs_view) finds them decoded.
	 */
	if (attrs_view(engine->ks, &r->obj, &a, why, sizeof(why)) == NULL) {
		log_warnx("keystore object %s is damaged: %s", id, why);
		ks_object_clear(&r->obj);
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s is "
		    "damaged: %s", id, why);
		return (-1);
	}
	ttlv_free(a);
	return (0);
}

/* Save r->obj with attributes a, in the turn's transaction. */
int
kop_save(struct kreq *r, struct ks_object *o, struct ttlv *a, int insert)
{
	char	 why[128];

	attr_set_datetime(a, "Last Change Date", time(NULL));
	/*
	 * What a client adds is held to its share (a Modify that does not
	 * grow the object adds nothing); nothing is stored that attrs_load
	 * would refuse.
	 */
	if (attrs_check(a, r->op == KMIP_OP_ADD_ATTRIBUTE ||
	    (r->op == KMIP_OP_MODIFY_ATTRIBUTE &&
	    ttlv_encoded_len(a) > o->attrs_len), why, sizeof(why)) == -1) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "%s", why);
		return (-1);
	}
	attrs_store(o, a);
	if (ks_begin(engine->ks) == -1 ||
	    attrs_write(engine->ks, o, a, insert) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (-1);
	}
	r->dirty = 1;
	return (0);
}

/*
 * x-signerd-owner in a template: only an admin makes an object for
 * another owner; the value is the same in every template of a request.
 */
static int
kop_owner_as(struct kreq *r, const struct ttlv *v)
{
	char	 owner[KS_OWNER_MAX];

	if (!engine_admin(r->hdr.identity)) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "only an admin "
		    "makes objects for another owner (%s)", KOP_OWNER_ATTR);
		return (-1);
	}
	if (r->op != KMIP_OP_CREATE && r->op != KMIP_OP_CREATE_KEY_PAIR &&
	    r->op != KMIP_OP_REGISTER) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "%s is given when an "
		    "object is made", KOP_OWNER_ATTR);
		return (-1);
	}
	if (v->type != TTLV_TEXT_STRING || v->v.s.len == 0 ||
	    v->v.s.len >= sizeof(owner) ||
	    memchr(v->v.s.data, '\0', v->v.s.len) != NULL) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "%s is the owner's "
		    "name, a Text String of 1 to %zu bytes", KOP_OWNER_ATTR,
		    sizeof(owner) - 1);
		return (-1);
	}
	memcpy(owner, v->v.s.data, v->v.s.len);
	owner[v->v.s.len] = '\0';
	if (r->owner_as[0] != '\0' && strcmp(r->owner_as, owner) != 0) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "two owners in %s",
		    KOP_OWNER_ATTR);
		return (-1);
	}
	(void)strlcpy(r->owner_as, owner, sizeof(r->owner_as));
	return (0);
}

/*
 * Copy the Attribute items of a Template-Attribute into a, refusing
 * those a client may not set.  Template names (KMIP 1.x templates) are
 * not supported.
 */
int
kop_template(struct kreq *r, const struct ttlv *ta, struct ttlv *a)
{
	const struct ttlv	*t, *v;
	char			 name[ATTR_NAME_MAX], why[128];
	int			 multi, modify;

	if (ta == NULL)
		return (0);
	if (ta->type != TTLV_STRUCTURE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD,
		    "Template-Attribute is not a structure");
		return (-1);
	}
	if (ttlv_find(ta, KMIP_TAG_NAME) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "templates are not supported");
		return (-1);
	}
	for (t = ttlv_find(ta, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(ta, t, KMIP_TAG_ATTRIBUTE)) {
		if (t->type != TTLV_STRUCTURE ||
		    attr_name(t, name, sizeof(name)) == -1 ||
		    (v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "malformed Attribute");
			return (-1);
		}
		/*
		 * The owner of what an admin makes (x-signerd-owner, a
		 * Text String): a property of the object, not an attribute.
		 */
		if (strcmp(name, KOP_OWNER_ATTR) == 0) {
			if (kop_owner_as(r, v) == -1)
				return (-1);
			continue;
		}
		/* Taken by kop_hsm_ids: hsm::<slot>::<key id> only. */
		if (strcmp(name, "Unique Identifier") == 0 &&
		    (r->op == KMIP_OP_CREATE ||
		    r->op == KMIP_OP_CREATE_KEY_PAIR))
			continue;
		/* What the server made, the server knows. */
		if (r->op != KMIP_OP_REGISTER &&
		    (strcmp(name, "Original Creation Date") == 0 ||
		    strcmp(name, "Random Number Generator") == 0)) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "attribute "
			    "\"%s\" is set by the server for what it makes",
			    name);
			return (-1);
		}
		if (!kop_client_attr(name, &multi, &modify)) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "attribute \"%s\" cannot be set by a client", name);
			return (-1);
		}
		/* Checked as they come: each add walks the list. */
		if (ttlv_count(a, KMIP_TAG_ATTRIBUTE) >= ATTRS_MAX) {
			kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "an object "
			    "carries at most %d attributes", ATTRS_MAX);
			return (-1);
		}
		/* A new object: only the type is checked here. */
		if (kop_protected(r, NULL, name, v) == -1)
			return (-1);
		if (!multi && attr_get(a, name, 0) != NULL)
			attr_set(a, name, 0, v);
		else
			(void)attr_add(a, name, v);
	}
	if (attrs_check(a, 1, why, sizeof(why)) == -1) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "%s", why);
		return (-1);
	}
	return (0);
}

void
kop_payload_id(struct kreq *r, const char *id)
{
	ttlv_add_string(r->payload, KMIP_TAG_UNIQUE_IDENTIFIER, id);
}

/* A signer's failure becomes the item's; 0 if it succeeded. */
int
kop_signer_failed(struct kreq *r, const struct hsm_result *res)
{
	if (res->status == 0)
		return (0);
	kreq_fail(r, res->status, "%s", res->msg);
	return (-1);
}

/* Keep what the signer returned (wrapped or public) as o's material. */
void
kop_set_material(struct ks_object *o, const uint8_t *p, size_t len)
{
	freezero(o->material, o->material_len);
	if ((o->material = malloc(len)) == NULL)
		fatal(NULL);
	memcpy(o->material, p, len);
	o->material_len = len;
}

/* A fresh object owned by the client, on the signer given. */
int
kop_new_object(struct kreq *r, struct ks_object *o, uint32_t type,
    uint32_t alg, const char *signer)
{
	memset(o, 0, sizeof(*o));
	/* kop_run keeps them out; an object owned by "" is everybody's. */
	if (r->hdr.identity[0] == '\0') {
		kreq_fail(r, KMIP_REASON_AUTHENTICATION_NOT_SUCCESSFUL,
		    "no client identity");
		return (-1);
	}
	if (ks_new_id(engine->ks, o->id, sizeof(o->id)) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (-1);
	}
	o->type = type;
	o->state = KMIP_STATE_PRE_ACTIVE;
	o->algorithm = alg;
	/* An admin may make it for another owner (kop_template). */
	(void)strlcpy(o->owner, r->owner_as[0] != '\0' ? r->owner_as :
	    r->hdr.identity, sizeof(o->owner));
	(void)strlcpy(o->signer, signer, sizeof(o->signer));
	o->created = time(NULL);
	return (0);
}

/* The signer for new keys: the client's own (policy), else the server's. */
const char *
kop_default_signer(struct kreq *r)
{
	const char	*s;

	if ((s = policy_default_signer(r->hdr.identity)) != NULL)
		return (s);
	if (engine->conf.default_signer[0] == '\0') {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "no default signer "
		    "is configured");
		return (NULL);
	}
	return (engine->conf.default_signer);
}

/* Server-set attributes every new object gets. */
void
kop_initial_attrs(struct ttlv *a, struct ks_object *o)
{
	const struct ttlv	*v;
	int			 b;

	attr_set_datetime(a, "Initial Date", o->created);
	/* A registered object may say when it was made. */
	if (attr_get(a, "Original Creation Date", 0) == NULL)
		attr_set_datetime(a, "Original Creation Date", o->created);
	if (attr_get(a, "Fresh", 0) == NULL)
		attr_set_bool(a, "Fresh", 1);
	/*
	 * KMIP 1.4 3.46-49: these always have a value.  The templates
	 * were checked (kop_protected): a value here is a Boolean.
	 */
	if (attr_get_bool(a, "Sensitive", &b) == -1)
		attr_set_bool(a, "Sensitive", b = 0);
	attr_set_bool(a, "Always Sensitive", b);
	if (attr_get_bool(a, "Extractable", &b) == -1)
		attr_set_bool(a, "Extractable", b = 1);
	attr_set_bool(a, "Never Extractable", !b);
	/* An Activation Date now or in the past activates at once. */
	if ((v = attr_get(a, "Activation Date", 0)) != NULL &&
	    v->type == TTLV_DATE_TIME && v->v.i64 <= o->created)
		o->state = KMIP_STATE_ACTIVE;
}

/* --- Discover Versions, Query --------------------------------------- */

static enum kop_ret
op_discover_versions(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*pv;
	struct ttlv		*out;
	int32_t			 major, minor;
	int			 m;

	/* Ours, newest first, filtered by the client's list if it sent one. */
	for (m = 4; m >= 0; m--) {
		if (ttlv_find(req, KMIP_TAG_PROTOCOL_VERSION) != NULL) {
			for (pv = ttlv_find(req, KMIP_TAG_PROTOCOL_VERSION);
			    pv != NULL; pv = ttlv_find_next(req, pv,
			    KMIP_TAG_PROTOCOL_VERSION))
				if (ttlv_get_integer(pv,
				    KMIP_TAG_PROTOCOL_VERSION_MAJOR,
				    &major) == 0 && ttlv_get_integer(pv,
				    KMIP_TAG_PROTOCOL_VERSION_MINOR,
				    &minor) == 0 && major == 1 && minor == m)
					break;
			if (pv == NULL)
				continue;
		}
		out = ttlv_add_structure(r->payload,
		    KMIP_TAG_PROTOCOL_VERSION);
		ttlv_add_integer(out, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
		ttlv_add_integer(out, KMIP_TAG_PROTOCOL_VERSION_MINOR, m);
	}
	return (KOP_DONE);
}

/*
 * What a signer of each type can do for the engine.  A kmip signer
 * forwards nothing yet; a pkcs11 token makes and uses keys but imports
 * none.
 */
static int
signer_can(int type, uint32_t op)
{
	switch (op) {
	case KMIP_OP_CREATE:
	case KMIP_OP_CREATE_KEY_PAIR:
	case KMIP_OP_SIGN:
	case KMIP_OP_SIGNATURE_VERIFY:
	case KMIP_OP_ENCRYPT:
	case KMIP_OP_DECRYPT:
	case KMIP_OP_MAC:
	case KMIP_OP_MAC_VERIFY:
		return (type == SIGNER_OPENSSL || type == SIGNER_PKCS11);
	case KMIP_OP_REGISTER:
		return (type == SIGNER_OPENSSL);
	}
	return (0);
}

/*
 * Does this server, as configured, perform op?  The engine answers the
 * managing operations itself; Register stores into the default signer;
 * the others need one signer able to do them.  Query says no more than
 * this: a client that relies on a listed operation must not meet
 * Operation Not Supported or a signer error later.
 */
static int
kop_offered(uint32_t op)
{
	struct esigner	*es;

	switch (op) {
	case KMIP_OP_DISCOVER_VERSIONS:
	case KMIP_OP_QUERY:
	case KMIP_OP_LOCATE:
	case KMIP_OP_CHECK:
	case KMIP_OP_GET:
	case KMIP_OP_GET_ATTRIBUTES:
	case KMIP_OP_GET_ATTRIBUTE_LIST:
	case KMIP_OP_ADD_ATTRIBUTE:
	case KMIP_OP_MODIFY_ATTRIBUTE:
	case KMIP_OP_DELETE_ATTRIBUTE:
	case KMIP_OP_ACTIVATE:
	case KMIP_OP_REVOKE:
	case KMIP_OP_DESTROY:
	case KMIP_OP_HASH:
	case KMIP_OP_RNG_RETRIEVE:
	case KMIP_OP_RNG_SEED:
		return (1);
	}
	TAILQ_FOREACH(es, &engine->signers, entry) {
		if (op == KMIP_OP_REGISTER &&
		    strcmp(es->link.name, engine->conf.default_signer) != 0)
			continue;
		if (signer_can(es->link.type, op))
			return (1);
	}
	return (0);
}

/*
 * Can a client get an object of this type into the server?  Public keys
 * come with every pair; the rest are made or imported by a signer.
 */
static int
kop_keeps(uint32_t type)
{
	switch (type) {
	case KMIP_OBJ_PUBLIC_KEY:
	case KMIP_OBJ_PRIVATE_KEY:
		return (kop_offered(KMIP_OP_CREATE_KEY_PAIR) ||
		    kop_offered(KMIP_OP_REGISTER));
	case KMIP_OBJ_SYMMETRIC_KEY:
		return (kop_offered(KMIP_OP_CREATE) ||
		    kop_offered(KMIP_OP_REGISTER));
	}
	/* Certificates, Secret Data and Opaque Objects by Register. */
	return (kop_offered(KMIP_OP_REGISTER));
}

/*
 * The Query Functions, with the KMIP 1.x minor version that defined
 * each: a request of an older version that names one has named a value
 * its version does not have (KMIP 1.x 11.1: Invalid Field).
 */
static const struct {
	uint32_t	 fn;
	int		 since;
} query_fns[] = {
	{ KMIP_QUERY_OPERATIONS,			0 },
	{ KMIP_QUERY_OBJECTS,				0 },
	{ KMIP_QUERY_SERVER_INFORMATION,		0 },
	{ KMIP_QUERY_APPLICATION_NAMESPACES,		0 },
	{ KMIP_QUERY_EXTENSION_LIST,			1 },
	{ KMIP_QUERY_EXTENSION_MAP,			1 },
	{ KMIP_QUERY_ATTESTATION_TYPES,			2 },
	{ KMIP_QUERY_RNGS,				3 },
	{ KMIP_QUERY_VALIDATIONS,			3 },
	{ KMIP_QUERY_PROFILES,				3 },
	{ KMIP_QUERY_CAPABILITIES,			3 },
	{ KMIP_QUERY_CLIENT_REGISTRATION_METHODS,	3 },
};

/*
 * The server profiles of KMIP Profiles 1.4 signerd claims, by their 1.3
 * and 1.4 names: each one whose every test vector (regress/kmip-
 * testcases, replayed in CI by oasis_test.sh) passes, and only those;
 * kmip13.py's "profiles" checks this table against oasis.expected.
 * docs/design.md ("Query, Check and Get of a wrapped key") says which
 * vectors stand behind each, and why the others are not claimed.
 */
static const struct {
	uint32_t	 v13, v14;
	int		 http;		/* only if a listener serves HTTP */
} profiles[] = {
	{ KMIP_PROFILE_TL_SERVER_13,	KMIP_PROFILE_TL_SERVER_14, 0 },
	{ KMIP_PROFILE_SKLC_SERVER_13,	KMIP_PROFILE_SKLC_SERVER_14, 0 },
	{ KMIP_PROFILE_AKLC_SERVER_13,	KMIP_PROFILE_AKLC_SERVER_14, 0 },
	{ KMIP_PROFILE_BC_SERVER_13,	KMIP_PROFILE_BC_SERVER_14, 0 },
	{ KMIP_PROFILE_AC_SERVER_13,	KMIP_PROFILE_AC_SERVER_14, 0 },
	{ KMIP_PROFILE_RNG_SERVER_13,	KMIP_PROFILE_RNG_SERVER_14, 0 },
	{ KMIP_PROFILE_SKF_SERVER_13,	KMIP_PROFILE_SKF_SERVER_14, 0 },
	{ KMIP_PROFILE_OMOS_SERVER_13,	KMIP_PROFILE_OMOS_SERVER_14, 0 },
	{ KMIP_PROFILE_SASED_SERVER_13,	KMIP_PROFILE_SASED_SERVER_14, 0 },
	{ KMIP_PROFILE_HTTPS_SERVER_13,	KMIP_PROFILE_HTTPS_SERVER_14, 1 },
	{ KMIP_PROFILE_JSON_SERVER_13,	KMIP_PROFILE_JSON_SERVER_14, 1 },
	{ KMIP_PROFILE_XML_SERVER_13,	KMIP_PROFILE_XML_SERVER_14, 1 },
};

#define NQUERY_FNS	(sizeof(query_fns) / sizeof(query_fns[0]))
#define NPROFILES	(sizeof(profiles) / sizeof(profiles[0]))

/* The KMIP 1.x minor version that defined an operation. */
static int
op_since(uint32_t op)
{
	if (op <= KMIP_OP_PUT)
		return (0);
	if (op <= KMIP_OP_DISCOVER_VERSIONS)
		return (1);
	if (op <= KMIP_OP_JOIN_SPLIT_KEY)
		return (2);
	return (4);
}

/*
 * Where random numbers come from: the engine's DRBG (OpenSSL's, CTR
 * with AES-256) answers RNG Retrieve and makes the keys of software
 * signers; a token makes its own, of a kind it does not tell.  The
 * same as the Random Number Generator attribute of a key says.
 */
static void
query_rngs(struct kreq *r)
{
	struct esigner	*es;
	struct ttlv	*p;

	p = ttlv_add_structure(r->payload, KMIP_TAG_RNG_PARAMETERS);
	ttlv_add_enum(p, KMIP_TAG_RNG_ALGORITHM, KMIP_RNG_DRBG);
	ttlv_add_enum(p, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, KMIP_ALG_AES);
	ttlv_add_integer(p, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, 256);
	ttlv_add_enum(p, KMIP_TAG_DRBG_ALGORITHM, KMIP_DRBG_CTR);
	TAILQ_FOREACH(es, &engine->signers, entry)
		if (es->link.type == SIGNER_PKCS11) {
			p = ttlv_add_structure(r->payload,
			    KMIP_TAG_RNG_PARAMETERS);
			ttlv_add_enum(p, KMIP_TAG_RNG_ALGORITHM,
			    KMIP_RNG_UNSPECIFIED);
			break;
		}
}

/*
 * What the server can do beyond operations: streamed Encrypt and
 * Decrypt (with the keys of openssl signers; kop_crypto.c), no
 * asynchronous or attested requests; Batch Error Continuation Option Continue, not
 * Undo: what earlier items of the batch changed is not rolled back
 * (fields of 1.4); Destroy removes the key material and keeps the
 * metadata; one DRBG serves every client.
 */
static void
query_capabilities(struct kreq *r)
{
	struct ttlv	*c;

	c = ttlv_add_structure(r->payload, KMIP_TAG_CAPABILITY_INFORMATION);
	ttlv_add_bool(c, KMIP_TAG_STREAMING_CAPABILITY, 1);
	ttlv_add_bool(c, KMIP_TAG_ASYNCHRONOUS_CAPABILITY, 0);
	ttlv_add_bool(c, KMIP_TAG_ATTESTATION_CAPABILITY, 0);
	if (kreq_version_at_least(r, 1, 4)) {
		ttlv_add_bool(c, KMIP_TAG_BATCH_UNDO_CAPABILITY, 0);
		ttlv_add_bool(c, KMIP_TAG_BATCH_CONTINUE_CAPABILITY, 1);
	}
	ttlv_add_enum(c, KMIP_TAG_DESTROY_ACTION,
	    KMIP_DESTROY_KEY_MATERIAL_DELETED);
	ttlv_add_enum(c, KMIP_TAG_RNG_MODE, KMIP_RNG_MODE_SHARED);
}

static enum kop_ret
op_query(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*q;
	uint32_t		 want = 0;
	struct ttlv		*p;
	size_t			 i;
	static const uint32_t	 types[] = {
		KMIP_OBJ_CERTIFICATE, KMIP_OBJ_SYMMETRIC_KEY,
		KMIP_OBJ_PUBLIC_KEY, KMIP_OBJ_PRIVATE_KEY,
		KMIP_OBJ_SECRET_DATA, KMIP_OBJ_OPAQUE_DATA
	};

	for (q = ttlv_find(req, KMIP_TAG_QUERY_FUNCTION); q != NULL;
	    q = ttlv_find_next(req, q, KMIP_TAG_QUERY_FUNCTION)) {
		if (q->type != TTLV_ENUMERATION) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "Query Function is not an enumeration");
			return (KOP_DONE);
		}
		for (i = 0; i < NQUERY_FNS; i++)
			if (query_fns[i].fn == q->v.u32)
				break;
		if (i == NQUERY_FNS ||
		    !kreq_version_at_least(r, 1, query_fns[i].since)) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Query "
			    "Function %u is not one of KMIP %d.%d", q->v.u32,
			    r->major, r->minor);
			return (KOP_DONE);
		}
		want |= 1U << q->v.u32;
	}
	/* In the order of the response payload (KMIP 1.4 4.25). */
	if (want & 1U << KMIP_QUERY_OPERATIONS)
		for (i = 0; i < kop_noperations; i++)
			if (kreq_version_at_least(r, 1,
			    op_since(kop_operations[i])) &&
			    kop_offered(kop_operations[i]))
				ttlv_add_enum(r->payload, KMIP_TAG_OPERATION,
				    kop_operations[i]);
	if (want & 1U << KMIP_QUERY_OBJECTS)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (kop_keeps(types[i]))
				ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE,
				    types[i]);
	if (want & 1U << KMIP_QUERY_SERVER_INFORMATION)
		ttlv_add_string(r->payload, KMIP_TAG_VENDOR_IDENTIFICATION,
		    "signerd");
	/*
	 * No Application Namespaces, Extensions or Attestation Types to
	 * report; no Validation Information either: signerd has been
	 * through no validation (FIPS 140, Common Criteria).
	 */
	if (want & 1U << KMIP_QUERY_RNGS)
		query_rngs(r);
	if (want & 1U << KMIP_QUERY_PROFILES)
		for (i = 0; i < NPROFILES; i++) {
			if (profiles[i].http && !engine->conf.http)
				continue;
			p = ttlv_add_structure(r->payload,
			    KMIP_TAG_PROFILE_INFORMATION);
			ttlv_add_enum(p, KMIP_TAG_PROFILE_NAME,
			    kreq_version_at_least(r, 1, 4) ? profiles[i].v14 :
			    profiles[i].v13);
		}
	if (want & 1U << KMIP_QUERY_CAPABILITIES)
		query_capabilities(r);
	/*
	 * Clients are registered outside KMIP: a certificate from the
	 * configured client CA, its CN the identity.  None of the
	 * methods KMIP names is that one.
	 */
	if (want & 1U << KMIP_QUERY_CLIENT_REGISTRATION_METHODS)
		ttlv_add_enum(r->payload, KMIP_TAG_CLIENT_REGISTRATION_METHOD,
		    KMIP_CRM_UNSPECIFIED);
	return (KOP_DONE);
}
