/*
 * KMIP operations in the engine.
 *
 * Each handler reads its request payload, checks ownership and the
 * lifecycle state, changes the keystore (inside the turn's transaction)
 * and fills the response payload, or hands the cryptography to the
 * signer that holds the key and finishes in a continuation.
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
#include "kreq.h"
#include "log.h"

#define LOCATE_MAX		1024
/* Objects the Locate items of one request may look at, together. */
#define LOCATE_EXAMINE_MAX	(4 * LOCATE_MAX)

static enum kop_ret	 op_discover_versions(struct kreq *,
			    const struct ttlv *);
static enum kop_ret	 op_query(struct kreq *, const struct ttlv *);
static int		 signer_can(int, uint32_t);
static int		 kop_offered(uint32_t);
static int		 kop_keeps(uint32_t);
static enum kop_ret	 op_create(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_create_key_pair(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_get(struct kreq *, const struct ttlv *);
static void		 get_certificate(struct kreq *);
static void		 get_private(struct kreq *, const char *);
static enum kop_ret	 get_secret(struct kreq *, uint32_t);
static enum kop_ret	 get_secret_done(struct kreq *,
			    const struct hsm_result *, const uint8_t *,
			    const uint8_t *, const uint8_t *);
static enum kop_ret	 op_register(struct kreq *, const struct ttlv *);
static int		 kop_key_kind(struct kreq *, const struct ttlv *,
			    uint32_t *);
static enum kop_ret	 op_get_attributes(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_get_attribute_list(struct kreq *,
			    const struct ttlv *);
static enum kop_ret	 op_add_attribute(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_modify_attribute(struct kreq *,
			    const struct ttlv *);
static enum kop_ret	 op_delete_attribute(struct kreq *,
			    const struct ttlv *);
static enum kop_ret	 op_activate(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_revoke(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_destroy(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_locate(struct kreq *, const struct ttlv *);
static enum kop_ret	 op_crypto(struct kreq *, const struct ttlv *);
static enum kop_ret	 adopt_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static enum kop_ret	 adopt_send(struct kreq *, const char *, uint32_t,
			    const uint8_t *, size_t, const char *);
static int		 adopt_object(struct kreq *, struct ks_object *,
			    uint32_t, const struct hsm_found *, const char *,
			    const char *, const uint8_t *, size_t);
static int		 adopt_seen(const struct ks_object *, void *);
static enum kop_ret	 locate_hsm(struct kreq *, const char *);
static const char	*kop_slot_signer(struct kreq *, unsigned long long);
static void		 adopt_label(const struct hsm_found *, char *, size_t);
static int		 kop_hsm_ids(struct kreq *, const struct ttlv *,
			    const struct ttlv *, const struct ttlv *, char *,
			    const char **);
static int		 kop_signer_is_token(const char *);
static int		 kop_on_token(const struct ks_object *,
			    const struct ttlv *);
static int		 kop_token_adopted(const struct ks_object *,
			    const struct ttlv *);
static int		 kop_ref_adopted(const uint8_t *, size_t);
static int		 kop_label(struct kreq *, const struct ttlv *,
			    const char *, char *, size_t);
static int		 kop_name_to_token(struct kreq *, const char *,
			    struct ttlv *);
static enum kop_ret	 label_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static enum kop_ret	 destroy_done(struct kreq *,
			    const struct hsm_result *, const uint8_t *,
			    const uint8_t *, const uint8_t *);
static void		 destroy_commit(struct kreq *);

static const struct {
	uint32_t	 op;
	enum kop_ret	(*fn)(struct kreq *, const struct ttlv *);
} kops[] = {
	{ KMIP_OP_CREATE,		op_create },
	{ KMIP_OP_CREATE_KEY_PAIR,	op_create_key_pair },
	{ KMIP_OP_REGISTER,		op_register },
	{ KMIP_OP_LOCATE,		op_locate },
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
	{ "Name",				1, 1 },
	{ "Object Group",			1, 1 },
	{ "Operation Policy Name",		0, 0 },
	{ "Process Start Date",			0, 1 },
	{ "Protect Stop Date",			0, 1 },
	{ "Sensitive",				0, 1 },
};

const uint32_t kop_operations[] = {
	KMIP_OP_CREATE, KMIP_OP_CREATE_KEY_PAIR, KMIP_OP_REGISTER,
	KMIP_OP_LOCATE, KMIP_OP_GET,
	KMIP_OP_GET_ATTRIBUTES, KMIP_OP_GET_ATTRIBUTE_LIST,
	KMIP_OP_ADD_ATTRIBUTE, KMIP_OP_MODIFY_ATTRIBUTE,
	KMIP_OP_DELETE_ATTRIBUTE, KMIP_OP_ACTIVATE, KMIP_OP_REVOKE,
	KMIP_OP_DESTROY, KMIP_OP_QUERY, KMIP_OP_DISCOVER_VERSIONS,
	KMIP_OP_SIGN, KMIP_OP_SIGNATURE_VERIFY, KMIP_OP_ENCRYPT,
	KMIP_OP_DECRYPT, KMIP_OP_MAC
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
	for (i = 0; i < sizeof(kops) / sizeof(kops[0]); i++)
		if (kops[i].op == op)
			return (kops[i].fn(r, req));
	kreq_fail(r, KMIP_REASON_OPERATION_NOT_SUPPORTED, "operation %s "
	    "is not supported", kmip_op_name(op) != NULL ? kmip_op_name(op) :
	    "(unknown)");
	return (KOP_DONE);
}

/* --- helpers -------------------------------------------------------- */

static int
client_attr(const char *name, int *multi, int *modify)
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
 * Sensitive and Extractable only ever tighten: Sensitive false -> true,
 * Extractable true -> false, whatever the operation (Add, Modify, the
 * templates of Create, Create Key Pair, Register), and neither may be
 * deleted.  v is the new value (NULL to delete), a the attributes the
 * object has (NULL for a new object: the defaults apply, Sensitive
 * false, Extractable true).  0 if allowed, else -1 and the item failed.
 */
static int
kop_protected(struct kreq *r, const struct ttlv *a, const char *name,
    const struct ttlv *v)
{
	int	 old, sens;

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
 * Placeholder left by an earlier item of the batch.  Objects of other
 * owners do not exist for this client.  One whose attributes do not
 * load is damaged: an error for it alone, so that attrs_load of r->obj
 * after this cannot fail.
 */
static int
kop_load(struct kreq *r, const struct ttlv *req, char *id, size_t idlen)
{
	char	 why[128];
	int	 rv;

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
	if (rv == 1 || strcmp(r->obj.owner, r->hdr.identity) != 0) {
		ks_object_clear(&r->obj);
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "no object %s", id);
		return (-1);
	}
	if (attrs_damaged(&r->obj, why, sizeof(why))) {
		log_warnx("keystore object %s is damaged: %s", id, why);
		ks_object_clear(&r->obj);
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s is "
		    "damaged: %s", id, why);
		return (-1);
	}
	return (0);
}

/* Save r->obj with attributes a, in the turn's transaction. */
static int
kop_save(struct kreq *r, struct ks_object *o, struct ttlv *a, int insert)
{
	char	 names[ATTR_NAMES_MAX][KS_NAME_MAX];
	char	*np[ATTR_NAMES_MAX];
	char	 why[128];
	size_t	 n, i;

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
	n = attr_names(a, names, ATTR_NAMES_MAX);
	for (i = 0; i < n; i++)
		np[i] = names[i];
	if (ks_begin(engine->ks) == -1 ||
	    (insert ? ks_insert(engine->ks, o, (const char * const *)np, n) :
	    ks_update(engine->ks, o, (const char * const *)np, n)) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (-1);
	}
	r->dirty = 1;
	return (0);
}

/*
 * Copy the Attribute items of a Template-Attribute into a, refusing
 * those a client may not set.  Template names (KMIP 1.x templates) are
 * not supported.
 */
static int
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
		/* Taken by kop_hsm_ids: hsm::<slot>::<key id> only. */
		if (strcmp(name, "Unique Identifier") == 0 &&
		    (r->op == KMIP_OP_CREATE ||
		    r->op == KMIP_OP_CREATE_KEY_PAIR))
			continue;
		if (!client_attr(name, &multi, &modify)) {
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

static void
kop_payload_id(struct kreq *r, const char *id)
{
	ttlv_add_string(r->payload, KMIP_TAG_UNIQUE_IDENTIFIER, id);
}

/* A signer's failure becomes the item's; 0 if it succeeded. */
static int
kop_signer_failed(struct kreq *r, const struct hsm_result *res)
{
	if (res->status == 0)
		return (0);
	kreq_fail(r, res->status, "%s", res->msg);
	return (-1);
}

/* Keep what the signer returned (wrapped or public) as o's material. */
static void
kop_set_material(struct ks_object *o, const uint8_t *p, size_t len)
{
	freezero(o->material, o->material_len);
	if ((o->material = malloc(len)) == NULL)
		fatal(NULL);
	memcpy(o->material, p, len);
	o->material_len = len;
}

/* A fresh object owned by the client, on the signer given. */
static int
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
	(void)strlcpy(o->owner, r->hdr.identity, sizeof(o->owner));
	(void)strlcpy(o->signer, signer, sizeof(o->signer));
	o->created = time(NULL);
	return (0);
}

/* The signer for new keys. */
static const char *
kop_default_signer(struct kreq *r)
{
	if (engine->conf.default_signer[0] == '\0') {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "no default signer "
		    "is configured");
		return (NULL);
	}
	return (engine->conf.default_signer);
}

/* Server-set attributes every new object gets. */
static void
kop_initial_attrs(struct ttlv *a, struct ks_object *o)
{
	const struct ttlv *v;

	attr_set_datetime(a, "Initial Date", o->created);
	attr_set_datetime(a, "Original Creation Date", o->created);
	/* An Activation Date now or in the past activates at once. */
	if ((v = attr_get(a, "Activation Date", 0)) != NULL &&
	    v->type == TTLV_DATE_TIME && v->v.i64 <= o->created)
		o->state = KMIP_STATE_ACTIVE;
}

/* --- Keys in a token ------------------------------------------------ */

/*
 * Whether o, with attributes a, is a key with objects in a pkcs11
 * signer's token: a private or symmetric key of such a signer that still
 * has its material (the reference to them), or the public half of a pair
 * made there.  A public key is known by its value alone, so one that was
 * registered (no Link to a private key: only the server links) must not
 * reach the token's public object of the same key.
 */
static int
kop_on_token(const struct ks_object *o, const struct ttlv *a)
{
	const struct ttlv	*l;
	uint32_t		 type;
	int32_t			 i;

	if ((o->type != KMIP_OBJ_PRIVATE_KEY &&
	    o->type != KMIP_OBJ_PUBLIC_KEY &&
	    o->type != KMIP_OBJ_SYMMETRIC_KEY) || o->material_len == 0 ||
	    !kop_signer_is_token(o->signer))
		return (0);
	if (o->type != KMIP_OBJ_PUBLIC_KEY)
		return (1);
	for (i = 0; (l = attr_get(a, "Link", i)) != NULL; i++)
		if (ttlv_get_enum(l, KMIP_TAG_LINK_TYPE, &type) == 0 &&
		    type == KMIP_LINK_PRIVATE_KEY)
			return (1);
	return (0);
}

/* Whether the signer of that name is a pkcs11 one. */
static int
kop_signer_is_token(const char *signer)
{
	struct esigner	*es;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, signer) == 0)
			return (es->link.type == SIGNER_PKCS11);
	return (0);
}

/*
 * Whether o was adopted from the token rather than made by signerd: its
 * token objects are then never relabelled or destroyed, only forgotten.
 * A private or secret key says so in its reference (hsmmsg.h); a public
 * key's material is the public key alone, so its private key's is
 * asked.  When that cannot be read, the answer is yes: the token object
 * is left alone rather than risked.
 */
static int
kop_token_adopted(const struct ks_object *o, const struct ttlv *a)
{
	const struct ttlv	*l;
	struct ks_object	 priv;
	char			 id[KS_ID_MAX];
	uint32_t		 type;
	int32_t			 i;
	int			 rv = 1;

	if (o->type != KMIP_OBJ_PUBLIC_KEY)
		return (kop_ref_adopted(o->material, o->material_len));
	for (i = 0; (l = attr_get(a, "Link", i)) != NULL; i++) {
		if (ttlv_get_enum(l, KMIP_TAG_LINK_TYPE, &type) != 0 ||
		    type != KMIP_LINK_PRIVATE_KEY ||
		    ttlv_get_text(l, KMIP_TAG_LINKED_OBJECT_IDENTIFIER, id,
		    sizeof(id)) != 0)
			continue;
		memset(&priv, 0, sizeof(priv));
		if (ks_get(engine->ks, id, &priv) == 0)
			rv = kop_ref_adopted(priv.material, priv.material_len);
		ks_object_clear(&priv);
		return (rv);
	}
	return (rv);
}

/* A token key reference of version 2 with the adopted flag (hsmmsg.h). */
static int
kop_ref_adopted(const uint8_t *ref, size_t len)
{
	return (ref != NULL && len >= 6 && memcmp(ref, "p11", 3) == 0 &&
	    ref[3] == HSM_REF_VERSION2 && (ref[4] & HSM_REF_ADOPTED) != 0);
}

/*
 * The CKA_LABEL of a token key with attributes a: its first Name, else
 * its object id.  A Name longer than a label may be (HSM_LABEL_MAX - 1
 * bytes: tokens keep less than KMIP allows) is refused, never cut (the
 * item fails, unless r is NULL).
 */
static int
kop_label(struct kreq *r, const struct ttlv *a, const char *id, char *label,
    size_t len)
{
	const struct ttlv	*n, *v;

	if ((n = attr_get(a, "Name", 0)) == NULL ||
	    (v = ttlv_find(n, KMIP_TAG_NAME_VALUE)) == NULL ||
	    v->type != TTLV_TEXT_STRING) {
		(void)strlcpy(label, id, len);
		return (0);
	}
	if (ttlv_get_text(n, KMIP_TAG_NAME_VALUE, label, len) == -1 ||
	    label[0] == '\0') {
		if (r != NULL)
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the Name of "
			    "a key in a token becomes its label: 1 to %zu "
			    "bytes, no NUL", len - 1);
		return (-1);
	}
	return (0);
}

/*
 * The Name attribute of a token key changes to what a now says: tell the
 * token first (IMSG_HSM_LABEL), and change the keystore only once it
 * did, in label_done, so that a refusal leaves both as they were.  a is
 * kept meanwhile as r->obj2's attributes.  0: nothing to tell, save now;
 * 1: sent, wait; -1: failed.
 */
static int
kop_name_to_token(struct kreq *r, const char *name, struct ttlv *a)
{
	struct hsm_label	 l;
	struct iovec		 iov[1];
	struct ttlv		*old;
	char			 was[HSM_LABEL_MAX];
	uint32_t		 kind;
	int			 rv;

	if (strcmp(name, "Name") != 0 || !kop_on_token(&r->obj, a) ||
	    kop_token_adopted(&r->obj, a))
		return (0);
	memset(&l, 0, sizeof(l));
	if (kop_label(r, a, r->obj.id, l.label, sizeof(l.label)) == -1)
		return (-1);
	/* The stored attributes load: kop_load checked. */
	old = attrs_load(&r->obj);
	rv = kop_label(NULL, old, r->obj.id, was, sizeof(was));
	ttlv_free(old);
	if (rv == 0 && strcmp(was, l.label) == 0)
		return (0);
	if (kop_key_kind(r, a, &kind) == -1)
		return (-1);
	(void)strlcpy(l.id, r->obj.id, sizeof(l.id));
	l.kind = kind;
	l.key_class = r->obj.type == KMIP_OBJ_PUBLIC_KEY ? HSM_CLASS_PUBLIC :
	    HSM_CLASS_PRIVATE;
	l.len_key = r->obj.material_len;
	iov[0].iov_base = r->obj.material;
	iov[0].iov_len = r->obj.material_len;
	ks_object_clear(&r->obj2);
	attrs_store(&r->obj2, a);
	if (kreq_signer_send(r, r->obj.signer, IMSG_HSM_LABEL, &l, sizeof(l),
	    iov, 1, label_done) == -1)
		return (-1);
	return (1);
}

/* The token took the new label: now the keystore. */
static enum kop_ret
label_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;

	if (res->status != 0) {
		kreq_fail(r, res->status, "the token did not take the new "
		    "label, nothing changed: %s", res->msg);
		return (KOP_DONE);
	}
	if ((a = attrs_load(&r->obj2)) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s: "
		    "attributes lost", r->obj.id);
		return (KOP_DONE);
	}
	if (kop_save(r, &r->obj, a, 0) == -1)
		log_warnx("object %s: the token has the new label, the "
		    "keystore not the new Name", r->obj.id);
	ttlv_free(a);
	return (KOP_DONE);
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
	case KMIP_OP_GET:
	case KMIP_OP_GET_ATTRIBUTES:
	case KMIP_OP_GET_ATTRIBUTE_LIST:
	case KMIP_OP_ADD_ATTRIBUTE:
	case KMIP_OP_MODIFY_ATTRIBUTE:
	case KMIP_OP_DELETE_ATTRIBUTE:
	case KMIP_OP_ACTIVATE:
	case KMIP_OP_REVOKE:
	case KMIP_OP_DESTROY:
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
	/* Certificates and Secret Data only by Register. */
	return (kop_offered(KMIP_OP_REGISTER));
}

static enum kop_ret
op_query(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*q;
	int			 ops = 0, objs = 0, info = 0;
	size_t			 i;
	static const uint32_t	 types[] = {
		KMIP_OBJ_CERTIFICATE, KMIP_OBJ_SYMMETRIC_KEY,
		KMIP_OBJ_PUBLIC_KEY, KMIP_OBJ_PRIVATE_KEY,
		KMIP_OBJ_SECRET_DATA
	};

	for (q = ttlv_find(req, KMIP_TAG_QUERY_FUNCTION); q != NULL;
	    q = ttlv_find_next(req, q, KMIP_TAG_QUERY_FUNCTION)) {
		if (q->type != TTLV_ENUMERATION) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "Query Function is not an enumeration");
			return (KOP_DONE);
		}
		switch (q->v.u32) {
		case KMIP_QUERY_OPERATIONS:
			ops = 1;
			break;
		case KMIP_QUERY_OBJECTS:
			objs = 1;
			break;
		case KMIP_QUERY_SERVER_INFORMATION:
			info = 1;
			break;
		default:
			/* Others have nothing to report here. */
			break;
		}
	}
	if (ops)
		for (i = 0; i < kop_noperations; i++)
			if (kop_offered(kop_operations[i]))
				ttlv_add_enum(r->payload, KMIP_TAG_OPERATION,
				    kop_operations[i]);
	if (objs)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (kop_keeps(types[i]))
				ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE,
				    types[i]);
	if (info)
		ttlv_add_string(r->payload, KMIP_TAG_VENDOR_IDENTIFICATION,
		    "signerd");
	return (KOP_DONE);
}

/* --- Create --------------------------------------------------------- */

static enum kop_ret	 create_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static void		 kop_token_attrs(const char *, struct ttlv *);

/*
 * A pkcs11 signer makes private and secret keys CKA_SENSITIVE and not
 * CKA_EXTRACTABLE: the attributes say so, whatever the template asked
 * (the token object could not be otherwise).
 */
static void
kop_token_attrs(const char *signer, struct ttlv *a)
{
	struct esigner	*es;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, signer) == 0)
			break;
	if (es == NULL || es->link.type != SIGNER_PKCS11)
		return;
	attr_set_bool(a, "Sensitive", 1);
	attr_set_bool(a, "Extractable", 0);
}

static enum kop_ret
op_create(struct kreq *r, const struct ttlv *req)
{
	struct hsm_generate	 g;
	struct ttlv		*a;
	const char		*signer = NULL;
	char			 hsmid[KS_ID_MAX];
	uint32_t		 type, alg;
	int32_t			 len = 0;

	if (ttlv_get_enum(req, KMIP_TAG_OBJECT_TYPE, &type) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Object Type");
		return (KOP_DONE);
	}
	if (type != KMIP_OBJ_SYMMETRIC_KEY) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Create makes "
		    "symmetric keys; use Create Key Pair for key pairs");
		return (KOP_DONE);
	}
	a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	if (kop_template(r, ttlv_find(req, KMIP_TAG_TEMPLATE_ATTRIBUTE),
	    a) == -1)
		goto done;
	memset(&g, 0, sizeof(g));
	if (attr_get_enum(a, "Cryptographic Algorithm", &alg) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD,
		    "no Cryptographic Algorithm");
		goto done;
	}
	(void)attr_get_integer(a, "Cryptographic Length", &len);
	switch (alg) {
	case KMIP_ALG_AES:
		if (len != 128 && len != 192 && len != 256) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "AES keys are "
			    "128, 192 or 256 bits long");
			goto done;
		}
		g.kind = HSM_KEY_AES;
		break;
	case KMIP_ALG_HMAC_SHA256:
	case KMIP_ALG_HMAC_SHA384:
	case KMIP_ALG_HMAC_SHA512:
		g.kind = alg == KMIP_ALG_HMAC_SHA256 ? HSM_KEY_HMAC_SHA256 :
		    alg == KMIP_ALG_HMAC_SHA384 ? HSM_KEY_HMAC_SHA384 :
		    HSM_KEY_HMAC_SHA512;
		if (len == 0)
			len = alg == KMIP_ALG_HMAC_SHA256 ? 256 :
			    alg == KMIP_ALG_HMAC_SHA384 ? 384 : 512;
		if (len < 128 || len > 1024 || len % 8 != 0) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "HMAC keys are "
			    "128 to 1024 bits long, in bytes");
			goto done;
		}
		attr_set_integer(a, "Cryptographic Length", len);
		break;
	default:
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Create supports AES "
		    "and HMAC keys");
		goto done;
	}
	g.bits = len;
	if (kop_hsm_ids(r, ttlv_find(req, KMIP_TAG_TEMPLATE_ATTRIBUTE), NULL,
	    NULL, hsmid, &signer) == -1 ||
	    (hsmid[0] == '\0' && (signer = kop_default_signer(r)) == NULL) ||
	    kop_new_object(r, &r->obj, type, alg, signer) == -1)
		goto done;
	if (hsmid[0] != '\0')
		(void)strlcpy(r->obj.id, hsmid, sizeof(r->obj.id));
	kop_initial_attrs(a, &r->obj);
	kop_token_attrs(signer, a);
	attrs_store(&r->obj, a);
	(void)strlcpy(g.id, r->obj.id, sizeof(g.id));
	if (kop_signer_is_token(signer) &&
	    kop_label(r, a, r->obj.id, g.label, sizeof(g.label)) == -1)
		goto done;
	if (kreq_signer_send(r, signer, IMSG_HSM_GENERATE, &g, sizeof(g),
	    NULL, 0, create_done) == 0) {
		ttlv_free(a);
		return (KOP_WAIT);
	}
 done:
	ttlv_free(a);
	return (KOP_DONE);
}

/* A new secret key came back wrapped from the signer (Create, Register). */
static enum kop_ret
create_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (res->len_out1 == 0) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer "
		    "returned no key");
		return (KOP_DONE);
	}
	kop_set_material(&r->obj, o1, res->len_out1);
	if ((a = attrs_load(&r->obj)) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "new object %s "
		    "is damaged", r->obj.id);
		return (KOP_DONE);
	}
	if (kop_save(r, &r->obj, a, 1) == 0) {
		/* Create answers with the Object Type, Register without. */
		if (r->op == KMIP_OP_CREATE)
			ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE,
			    r->obj.type);
		kop_payload_id(r, r->obj.id);
		(void)strlcpy(r->placeholder, r->obj.id,
		    sizeof(r->placeholder));
	}
	ttlv_free(a);
	return (KOP_DONE);
}

/* --- Create Key Pair ------------------------------------------------ */

static enum kop_ret	 ckp_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);

/*
 * The key kind from algorithm, length and curve.  Krill and Cascade send
 * ECDSA with length 256 and no curve: that is P-256.
 */
static int
kop_pair_kind(struct kreq *r, const struct ttlv *a, uint32_t *kind,
    uint32_t *bits)
{
	const struct ttlv	*dp;
	uint32_t		 alg, curve = 0;
	int32_t			 len = 0;

	if (attr_get_enum(a, "Cryptographic Algorithm", &alg) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD,
		    "no Cryptographic Algorithm");
		return (-1);
	}
	(void)attr_get_integer(a, "Cryptographic Length", &len);
	if ((dp = attr_get(a, "Cryptographic Domain Parameters", 0)) != NULL)
		(void)ttlv_get_enum(dp, KMIP_TAG_RECOMMENDED_CURVE, &curve);
	*bits = len;
	switch (alg) {
	case KMIP_ALG_RSA:
		if (len != 2048 && len != 3072 && len != 4096) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "RSA keys are "
			    "2048, 3072 or 4096 bits long");
			return (-1);
		}
		*kind = HSM_KEY_RSA;
		return (0);
	case KMIP_ALG_ECDSA:
	case KMIP_ALG_EC:
		if (curve == KMIP_CURVE_P_256 || (curve == 0 && len == 256))
			*kind = HSM_KEY_EC_P256, *bits = 256;
		else if (curve == KMIP_CURVE_P_384 ||
		    (curve == 0 && len == 384))
			*kind = HSM_KEY_EC_P384, *bits = 384;
		else if (curve == KMIP_CURVE_P_521 ||
		    (curve == 0 && len == 521))
			*kind = HSM_KEY_EC_P521, *bits = 521;
		else {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "EC keys are "
			    "on P-256, P-384 or P-521");
			return (-1);
		}
		return (0);
	case KMIP_ALG_ED25519:
		*kind = HSM_KEY_ED25519;
		*bits = 256;
		return (0);
	}
	kreq_fail(r, KMIP_REASON_INVALID_FIELD, "key pairs are RSA, ECDSA "
	    "or Ed25519");
	return (-1);
}

static enum kop_ret
op_create_key_pair(struct kreq *r, const struct ttlv *req)
{
	struct hsm_generate	 g;
	struct ttlv		*priv, *pub;
	const char		*signer = NULL;
	char			 hsmid[KS_ID_MAX];
	uint32_t		 alg = 0;

	priv = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	pub = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	memset(&g, 0, sizeof(g));
	/* Each half gets the common attributes, then its own. */
	if (kop_template(r, ttlv_find(req,
	    KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE), priv) == -1 ||
	    kop_template(r, ttlv_find(req,
	    KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE), priv) == -1 ||
	    kop_template(r, ttlv_find(req,
	    KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE), pub) == -1 ||
	    kop_template(r, ttlv_find(req,
	    KMIP_TAG_PUBLIC_KEY_TEMPLATE_ATTRIBUTE), pub) == -1 ||
	    kop_pair_kind(r, priv, &g.kind, &g.bits) == -1)
		goto done;
	(void)attr_get_enum(priv, "Cryptographic Algorithm", &alg);
	attr_set_integer(priv, "Cryptographic Length", g.bits);
	attr_set_integer(pub, "Cryptographic Length", g.bits);
	if (kop_hsm_ids(r, ttlv_find(req, KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE),
	    ttlv_find(req, KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE),
	    ttlv_find(req, KMIP_TAG_PUBLIC_KEY_TEMPLATE_ATTRIBUTE), hsmid,
	    &signer) == -1 ||
	    (hsmid[0] == '\0' && (signer = kop_default_signer(r)) == NULL) ||
	    kop_new_object(r, &r->obj, KMIP_OBJ_PRIVATE_KEY, alg,
	    signer) == -1 ||
	    kop_new_object(r, &r->obj2, KMIP_OBJ_PUBLIC_KEY, alg,
	    signer) == -1)
		goto done;
	if (hsmid[0] != '\0') {
		(void)strlcpy(r->obj.id, hsmid, sizeof(r->obj.id));
		(void)strlcpy(r->obj2.id, hsmid, sizeof(r->obj2.id));
		(void)strlcat(r->obj2.id, KS_PUB_SUFFIX, sizeof(r->obj2.id));
	}
	kop_initial_attrs(priv, &r->obj);
	kop_initial_attrs(pub, &r->obj2);
	kop_token_attrs(signer, priv);
	/* Each half links to the other. */
	attr_add_link(priv, KMIP_LINK_PUBLIC_KEY, r->obj2.id);
	attr_add_link(pub, KMIP_LINK_PRIVATE_KEY, r->obj.id);
	attrs_store(&r->obj, priv);
	attrs_store(&r->obj2, pub);
	(void)strlcpy(g.id, r->obj.id, sizeof(g.id));
	/* Each half of a token pair is labelled with its own Name. */
	if (kop_signer_is_token(signer) && (kop_label(r, priv, r->obj.id,
	    g.label, sizeof(g.label)) == -1 || kop_label(r, pub, r->obj2.id,
	    g.pub_label, sizeof(g.pub_label)) == -1))
		goto done;
	if (kreq_signer_send(r, signer, IMSG_HSM_GENERATE, &g, sizeof(g),
	    NULL, 0, ckp_done) == 0) {
		ttlv_free(priv);
		ttlv_free(pub);
		return (KOP_WAIT);
	}
 done:
	ttlv_free(priv);
	ttlv_free(pub);
	return (KOP_DONE);
}

static enum kop_ret
ckp_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (res->len_out1 == 0 || res->len_out2 == 0) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer "
		    "returned no key pair");
		return (KOP_DONE);
	}
	kop_set_material(&r->obj, o1, res->len_out1);
	kop_set_material(&r->obj2, o2, res->len_out2);

	if ((a = attrs_load(&r->obj)) == NULL ||
	    kop_save(r, &r->obj, a, 1) == -1) {
		if (a == NULL)
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "new object "
			    "%s is damaged", r->obj.id);
		ttlv_free(a);
		return (KOP_DONE);
	}
	ttlv_free(a);
	if ((a = attrs_load(&r->obj2)) == NULL)
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "new object %s "
		    "is damaged", r->obj2.id);
	else if (kop_save(r, &r->obj2, a, 1) == 0) {
		ttlv_add_string(r->payload,
		    KMIP_TAG_PRIVATE_KEY_UNIQUE_IDENTIFIER, r->obj.id);
		ttlv_add_string(r->payload,
		    KMIP_TAG_PUBLIC_KEY_UNIQUE_IDENTIFIER, r->obj2.id);
		(void)strlcpy(r->placeholder, r->obj.id,
		    sizeof(r->placeholder));
	}
	ttlv_free(a);
	return (KOP_DONE);
}

/* --- Keys already in a token: adoption, hsm:: ids -------------------- */

/* What adopt_seen looks for: a token key in the keystore already. */
struct adopt_scan {
	const char	*signer;
	const uint8_t	*ref;
	size_t		 len;
	char		 id[KS_ID_MAX];
};

/*
 * A token key's label as text for a Name or a message: the token's bytes
 * need not be UTF-8, and a control or invalid byte becomes '?'.
 */
static void
adopt_label(const struct hsm_found *f, char *buf, size_t size)
{
	const uint8_t	*p = (const uint8_t *)f->label;
	size_t		 len = f->len_label, n, o = 0;

	for (; len > 0 && o + 4 < size; p += n, len -= n) {
		if ((n = utf8_char(p, len)) == 0 || utf8_control(p, n)) {
			buf[o++] = '?';
			n = n == 0 ? 1 : n;
			continue;
		}
		memcpy(buf + o, p, n);
		o += n;
	}
	buf[o] = '\0';
}

/*
 * The pkcs11 signer whose token is in slot: what its last status said
 * ("token "..." in slot N", hsm_pkcs11.c).  The signer checks again:
 * an id for another slot is refused there.
 */
static const char *
kop_slot_signer(struct kreq *r, unsigned long long slot)
{
	struct esigner	*es;

	TAILQ_FOREACH(es, &engine->signers, entry)
		if (es->link.type == SIGNER_PKCS11 && es->status.has_slot &&
		    es->status.slot == slot)
			return (es->link.name);
	kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "no pkcs11 signer has its "
	    "token in slot %llu", slot);
	return (NULL);
}

/*
 * The Unique Identifier a client asks for in a template of Create or
 * Create Key Pair (ta: Template-Attribute, or the Common and Private
 * templates; pt: the Public one, where only "<id>_pk" may be).  Only
 * hsm::<slot>::<key id>, only for an admin, only if not taken.  id ""
 * if none was asked for; the signer in *signer.  -1: the item failed.
 */
static int
kop_hsm_ids(struct kreq *r, const struct ttlv *ta, const struct ttlv *ta2,
    const struct ttlv *pt, char *id, const char **signer)
{
	const struct ttlv	*tl[3] = { ta, ta2, pt }, *t, *v;
	char			 name[ATTR_NAME_MAX], want[KS_ID_MAX];
	char			 pk[KS_ID_MAX];
	unsigned long long	 slot;
	struct ks_object	 o;
	size_t			 i;

	id[0] = '\0';
	pk[0] = '\0';
	for (i = 0; i < 3; i++) {
		if (tl[i] == NULL || tl[i]->type != TTLV_STRUCTURE)
			continue;
		for (t = ttlv_find(tl[i], KMIP_TAG_ATTRIBUTE); t != NULL;
		    t = ttlv_find_next(tl[i], t, KMIP_TAG_ATTRIBUTE)) {
			if (t->type != TTLV_STRUCTURE ||
			    attr_name(t, name, sizeof(name)) == -1 ||
			    strcmp(name, "Unique Identifier") != 0)
				continue;
			if ((v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) ==
			    NULL || v->type != TTLV_TEXT_STRING ||
			    v->v.s.len >= KS_ID_MAX) {
				kreq_fail(r, KMIP_REASON_INVALID_FIELD, "bad "
				    "Unique Identifier in the template");
				return (-1);
			}
			memcpy(want, v->v.s.data, v->v.s.len);
			want[v->v.s.len] = '\0';
			if ((i < 2 && id[0] != '\0' && strcmp(id, want) != 0) ||
			    (i == 2 && pk[0] != '\0')) {
				kreq_fail(r, KMIP_REASON_INVALID_FIELD, "two "
				    "Unique Identifiers in the templates");
				return (-1);
			}
			(void)strlcpy(i < 2 ? id : pk, want, KS_ID_MAX);
		}
	}
	if (id[0] == '\0' && pk[0] == '\0')
		return (0);
	if (ks_hsm_id(id, &slot, NULL) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "a client may choose "
		    "only a Unique Identifier hsm::<slot>::<key id> (key id: "
		    "letters, digits, '.', '_', '-'), for the private or "
		    "secret key");
		return (-1);
	}
	(void)strlcpy(want, id, sizeof(want));
	(void)strlcat(want, KS_PUB_SUFFIX, sizeof(want));
	if (pk[0] != '\0' && strcmp(pk, want) != 0) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the public key of "
		    "%s is %s", id, want);
		return (-1);
	}
	if (!engine_admin(r->hdr.identity)) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "only an admin "
		    "makes keys with hsm:: ids");
		return (-1);
	}
	for (i = 0; i < 2; i++) {
		memset(&o, 0, sizeof(o));
		switch (ks_get(engine->ks, i == 0 ? id : want, &o)) {
		case -1:
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: "
			    "%s", ks_error(engine->ks));
			return (-1);
		case 0:
			ks_object_clear(&o);
			kreq_fail(r, KMIP_REASON_OBJECT_ALREADY_EXISTS, "%s "
			    "exists already", i == 0 ? id : want);
			return (-1);
		}
	}
	if ((*signer = kop_slot_signer(r, slot)) == NULL)
		return (-1);
	return (0);
}

/*
 * signerctl adopt (kmip_adopt): the key with the label or CKA_ID asked
 * for in the named pkcs11 signer, for the owner, under new ids.
 */
enum kop_ret
kop_adopt(struct kreq *r)
{
	struct ctl_adopt	*ca = r->adopt;
	struct esigner		*es;

	strterm(ca->signer, sizeof(ca->signer));
	TAILQ_FOREACH(es, &engine->signers, entry)
		if (strcmp(es->link.name, ca->signer) == 0)
			break;
	if (es == NULL || es->link.type != SIGNER_PKCS11) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "no pkcs11 signer "
		    "\"%s\"", ca->signer);
		return (KOP_DONE);
	}
	return (adopt_send(r, ca->signer, ca->by, ca->value, ca->len, NULL));
}

/*
 * Locate with the one attribute Unique Identifier = hsm::<slot>::<label>
 * (Cosmian's form): the client's objects of that id if it has them;
 * else, for an admin, the token key labelled <label> in that slot is
 * adopted under that id (and <id>_pk for its public key) and located.
 */
static enum kop_ret
locate_hsm(struct kreq *r, const char *id)
{
	struct ks_object	 o;
	unsigned long long	 slot;
	const char		*label, *signer;
	char			 pk[KS_ID_MAX];
	int			 rv;

	if (ks_hsm_id(id, &slot, &label) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "%s is not "
		    "hsm::<slot>::<key id>", id);
		return (KOP_DONE);
	}
	memset(&o, 0, sizeof(o));
	if ((rv = ks_get(engine->ks, id, &o)) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (KOP_DONE);
	}
	if (rv == 0) {
		rv = strcmp(o.owner, r->hdr.identity);
		ks_object_clear(&o);
		if (rv != 0) {
			if (engine_admin(r->hdr.identity))
				kreq_fail(r, KMIP_REASON_OBJECT_ALREADY_EXISTS,
				    "%s belongs to another owner", id);
			else
				kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND,
				    "no object %s", id);
			return (KOP_DONE);
		}
		kop_payload_id(r, id);
		(void)strlcpy(pk, id, sizeof(pk));
		(void)strlcat(pk, KS_PUB_SUFFIX, sizeof(pk));
		if (ks_get(engine->ks, pk, &o) == 0) {
			if (strcmp(o.owner, r->hdr.identity) == 0)
				kop_payload_id(r, pk);
			ks_object_clear(&o);
		}
		return (KOP_DONE);
	}
	if (!engine_admin(r->hdr.identity)) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "only an admin "
		    "adopts keys of a token");
		return (KOP_DONE);
	}
	if ((signer = kop_slot_signer(r, slot)) == NULL)
		return (KOP_DONE);
	return (adopt_send(r, signer, HSM_FIND_LABEL, (const uint8_t *)label,
	    strlen(label), id));
}

/* Ask signer for its keys by label or CKA_ID; adopt_done goes on. */
static enum kop_ret
adopt_send(struct kreq *r, const char *signer, uint32_t by,
    const uint8_t *value, size_t len, const char *hsmid)
{
	struct hsm_find	 f;

	if ((by != HSM_FIND_LABEL && by != HSM_FIND_ID) || len == 0 ||
	    len > sizeof(f.value)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "a label or CKA_ID "
		    "of 1 to %zu bytes", sizeof(f.value));
		return (KOP_DONE);
	}
	if (r->hdr.identity[0] == '\0') {
		kreq_fail(r, KMIP_REASON_AUTHENTICATION_NOT_SUCCESSFUL,
		    "no owner");
		return (KOP_DONE);
	}
	memset(&f, 0, sizeof(f));
	f.by = by;
	f.len = len;
	memcpy(f.value, value, len);
	ks_object_clear(&r->obj);
	memset(&r->obj, 0, sizeof(r->obj));
	if (hsmid != NULL) {
		(void)strlcpy(f.id, hsmid, sizeof(f.id));
		(void)strlcpy(r->obj.id, hsmid, sizeof(r->obj.id));
	}
	(void)strlcpy(r->obj.signer, signer, sizeof(r->obj.signer));
	if (kreq_signer_send(r, signer, IMSG_HSM_FIND, &f, sizeof(f), NULL, 0,
	    adopt_done) == -1)
		return (KOP_DONE);
	return (KOP_WAIT);
}

static int
adopt_seen(const struct ks_object *o, void *arg)
{
	struct adopt_scan	*as = arg;
	struct ks_object	 full;
	int			 same = 0;

	if (strcmp(o->signer, as->signer) != 0 ||
	    (o->type != KMIP_OBJ_PRIVATE_KEY &&
	    o->type != KMIP_OBJ_SYMMETRIC_KEY) ||
	    o->state == KMIP_STATE_DESTROYED ||
	    o->state == KMIP_STATE_DESTROYED_COMPROMISED)
		return (0);
	memset(&full, 0, sizeof(full));
	if (ks_get(engine->ks, o->id, &full) != 0)
		return (0);
	same = full.material_len == as->len &&
	    memcmp(full.material, as->ref, as->len) == 0;
	if (same)
		(void)strlcpy(as->id, o->id, sizeof(as->id));
	ks_object_clear(&full);
	return (same);
}

/*
 * The signer's list of matching keys: exactly one, usable, not adopted
 * before, becomes a private (or secret) key object, and a public key
 * object when the token gave its public key.  Several are an error that
 * lists them: never a guess.
 */
static enum kop_ret
adopt_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	struct hsm_found	 fd[HSM_FIND_MAX], *f = &fd[0];
	struct adopt_scan	 as;
	char			 list[sizeof(r->item_msg)], label[KS_NAME_MAX];
	char			 hex[2 * HSM_CKID_MAX + 1], pkid[KS_ID_MAX];
	struct ks_object	 o;
	const char		*name;
	size_t			 n, i, j, off;
	uint32_t		 alg;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (hsm_found_parse(o1, res->len_out1, o2, res->len_out2, fd,
	    HSM_FIND_MAX, &n) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer sent a "
		    "malformed list of keys");
		return (KOP_DONE);
	}
	if (n == 0) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "token of signer "
		    "\"%s\" has no private or secret key with that %s",
		    r->obj.signer, r->obj.id[0] != '\0' ||
		    r->adopt->by == HSM_FIND_LABEL ? "label" : "CKA_ID");
		return (KOP_DONE);
	}
	if (n > 1) {
		off = snprintf(list, sizeof(list), "%zu%s keys match, adopt "
		    "one by its CKA_ID:", n, (f->flags & HSM_FOUND_MORE) ?
		    " or more" : "");
		for (i = 0; i < n && off < sizeof(list); i++) {
			for (j = 0; j < fd[i].len_ckid; j++)
				(void)snprintf(hex + 2 * j, 3, "%02x",
				    fd[i].ckid[j]);
			hex[2 * fd[i].len_ckid] = '\0';
			adopt_label(&fd[i], label, 36);
			off += snprintf(list + off, sizeof(list) - off,
			    " label \"%s\" CKA_ID %s (%s, %s);", label,
			    fd[i].len_ckid > 0 ? hex : "none",
			    fd[i].class == HSM_CLASS_PRIVATE ? "private" :
			    "secret", fd[i].kind != 0 ?
			    hsm_kind_name(fd[i].kind) : "unusable");
		}
		if (off > 0 && off < sizeof(list) && list[off - 1] == ';')
			list[off - 1] = '\0';
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "%s", list);
		return (KOP_DONE);
	}
	adopt_label(f, label, sizeof(label));
	if (f->len_ref == 0 || f->kind == 0) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the token key "
		    "labelled \"%.64s\" cannot be adopted: %s", label,
		    f->why);
		return (KOP_DONE);
	}
	memset(&as, 0, sizeof(as));
	as.signer = r->obj.signer;
	as.ref = f->ref;
	as.len = f->len_ref;
	if (ks_scan(engine->ks, adopt_seen, &as) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (KOP_DONE);
	}
	if (as.id[0] != '\0') {
		kreq_fail(r, KMIP_REASON_OBJECT_ALREADY_EXISTS, "this token "
		    "key was adopted already, as %s", as.id);
		return (KOP_DONE);
	}

	/* The KMIP Name: the one asked for, else the token's label. */
	if (r->adopt != NULL && r->adopt->name[0] != '\0') {
		strterm(r->adopt->name, sizeof(r->adopt->name));
		name = r->adopt->name;
	} else
		name = label;
	switch (f->kind) {
	case HSM_KEY_RSA:
		alg = KMIP_ALG_RSA;
		break;
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
		alg = KMIP_ALG_ECDSA;
		break;
	case HSM_KEY_ED25519:
		alg = KMIP_ALG_ED25519;
		break;
	case HSM_KEY_AES:
		alg = KMIP_ALG_AES;
		break;
	default:
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer found "
		    "a key of unknown kind %u", f->kind);
		return (KOP_DONE);
	}
	pkid[0] = '\0';
	if (f->class == HSM_CLASS_PRIVATE && f->spki_len > 0) {
		if (r->obj.id[0] != '\0') {
			(void)strlcpy(pkid, r->obj.id, sizeof(pkid));
			(void)strlcat(pkid, KS_PUB_SUFFIX, sizeof(pkid));
			/* Checked before anything is saved. */
			memset(&o, 0, sizeof(o));
			if (ks_get(engine->ks, pkid, &o) != 1) {
				ks_object_clear(&o);
				kreq_fail(r, KMIP_REASON_OBJECT_ALREADY_EXISTS,
				    "%s exists already", pkid);
				return (KOP_DONE);
			}
		} else if (ks_new_id(engine->ks, pkid, sizeof(pkid)) == -1) {
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: "
			    "%s", ks_error(engine->ks));
			return (KOP_DONE);
		}
	}
	if (r->obj.id[0] == '\0' &&
	    ks_new_id(engine->ks, r->obj.id, sizeof(r->obj.id)) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (KOP_DONE);
	}
	r->obj.algorithm = alg;
	if (adopt_object(r, &r->obj, f->class == HSM_CLASS_PRIVATE ?
	    KMIP_OBJ_PRIVATE_KEY : KMIP_OBJ_SYMMETRIC_KEY, f, name, pkid,
	    f->ref, f->len_ref) == -1)
		return (KOP_DONE);
	if (pkid[0] != '\0') {
		memset(&r->obj2, 0, sizeof(r->obj2));
		(void)strlcpy(r->obj2.id, pkid, sizeof(r->obj2.id));
		(void)strlcpy(r->obj2.signer, r->obj.signer,
		    sizeof(r->obj2.signer));
		r->obj2.algorithm = alg;
		if (adopt_object(r, &r->obj2, KMIP_OBJ_PUBLIC_KEY, f, name,
		    r->obj.id, o2 + f->spki_off, f->spki_len) == -1)
			return (KOP_DONE);
	}
	kop_payload_id(r, r->obj.id);
	if (pkid[0] != '\0')
		kop_payload_id(r, pkid);
	(void)strlcpy(r->placeholder, r->obj.id, sizeof(r->placeholder));
	log_info("%s adopted token key \"%s\" of signer %s as %s%s%s",
	    r->hdr.identity, name, r->obj.signer, r->obj.id,
	    pkid[0] != '\0' ? " and " : "", pkid);
	return (KOP_DONE);
}

/*
 * One object of an adopted key, o->id, signer and algorithm set: the
 * attributes the token tells, Active from now on (the key may well be in
 * use already, as OpenDNSSEC's are), linked to its other half.
 */
static int
adopt_object(struct kreq *r, struct ks_object *o, uint32_t type,
    const struct hsm_found *f, const char *name, const char *other,
    const uint8_t *material, size_t len)
{
	struct ttlv	*a, *tmp, *nv;
	uint32_t	 mask = 0;
	int		 rv;

	o->type = type;
	o->state = KMIP_STATE_ACTIVE;
	(void)strlcpy(o->owner, r->hdr.identity, sizeof(o->owner));
	o->created = time(NULL);
	kop_set_material(o, material, len);
	a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	attr_set_enum(a, "Cryptographic Algorithm", o->algorithm);
	attr_set_integer(a, "Cryptographic Length", f->bits);
	if (type == KMIP_OBJ_PUBLIC_KEY) {
		mask = KMIP_USAGE_VERIFY;
		if (f->kind == HSM_KEY_RSA && (f->flags & HSM_FOUND_DECRYPT))
			mask |= KMIP_USAGE_ENCRYPT;
	} else {
		if (f->flags & HSM_FOUND_SIGN)
			mask |= KMIP_USAGE_SIGN;
		/* pkcs11-tool sets CKA_DECRYPT on EC keys too. */
		if ((f->flags & HSM_FOUND_DECRYPT) &&
		    (f->kind == HSM_KEY_RSA || f->kind == HSM_KEY_AES))
			mask |= KMIP_USAGE_DECRYPT;
		if (f->flags & HSM_FOUND_ENCRYPT)
			mask |= KMIP_USAGE_ENCRYPT;
		if (f->flags & HSM_FOUND_VERIFY)
			mask |= KMIP_USAGE_VERIFY;
	}
	attr_set_integer(a, "Cryptographic Usage Mask", mask);
	if (name[0] != '\0') {
		tmp = ttlv_new_structure(0);
		nv = ttlv_add_structure(tmp, KMIP_TAG_ATTRIBUTE_VALUE);
		ttlv_add_string(nv, KMIP_TAG_NAME_VALUE, name);
		ttlv_add_enum(nv, KMIP_TAG_NAME_TYPE,
		    KMIP_NAME_UNINTERPRETED_TEXT_STRING);
		(void)attr_add(a, "Name", nv);
		ttlv_free(tmp);
	}
	attr_set_datetime(a, "Activation Date", o->created);
	kop_initial_attrs(a, o);
	if (type != KMIP_OBJ_PUBLIC_KEY)
		kop_token_attrs(o->signer, a);
	if (other[0] != '\0')
		attr_add_link(a, type == KMIP_OBJ_PUBLIC_KEY ?
		    KMIP_LINK_PRIVATE_KEY : KMIP_LINK_PUBLIC_KEY, other);
	rv = kop_save(r, o, a, 1);
	ttlv_free(a);
	return (rv);
}

/* --- Get ------------------------------------------------------------ */

/*
 * One DER element of *p (tag, then a length of at most 3 bytes), inside
 * *len bytes; its content in val.  -1 if the tag differs or anything
 * does not fit.  Enough to walk the SubjectPublicKeyInfo the signer made.
 */
static int
der_next(const uint8_t **p, size_t *len, uint8_t tag, const uint8_t **val,
    size_t *vlen)
{
	const uint8_t	*b = *p;
	size_t		 n = *len, l, hl = 2, i;

	if (n < 2 || b[0] != tag)
		return (-1);
	if (b[1] < 0x80)
		l = b[1];
	else {
		if ((b[1] & 0x7f) == 0 || (b[1] & 0x7f) > 3 ||
		    n < 2 + (size_t)(b[1] & 0x7f))
			return (-1);
		hl += b[1] & 0x7f;
		for (l = 0, i = 2; i < hl; i++)
			l = l << 8 | b[i];
	}
	if (l > n - hl)
		return (-1);
	*val = b + hl;
	*vlen = l;
	*p = b + hl + l;
	*len = n - hl - l;
	return (0);
}

/* The RSAPublicKey (PKCS#1) inside an RSA SubjectPublicKeyInfo. */
static int
spki_rsa(const uint8_t *spki, size_t len, const uint8_t **pkcs1,
    size_t *plen)
{
	const uint8_t	*seq, *alg, *bits;
	size_t		 seqlen, alglen, bitslen;

	if (der_next(&spki, &len, 0x30, &seq, &seqlen) == -1 || len != 0 ||
	    der_next(&seq, &seqlen, 0x30, &alg, &alglen) == -1 ||
	    der_next(&seq, &seqlen, 0x03, &bits, &bitslen) == -1 ||
	    seqlen != 0 || bitslen < 2 || bits[0] != 0)
		return (-1);
	*pkcs1 = bits + 1;
	*plen = bitslen - 1;
	return (0);
}

/* A DER INTEGER's content as a KMIP Big Integer (padded to 8 bytes). */
static void
add_der_integer(struct ttlv *s, uint32_t tag, const uint8_t *v, size_t n)
{
	uint8_t	*b;
	size_t	 len = (n + 7) / 8 * 8;

	/* DER keeps a positive value's top bit clear: zeros keep it so. */
	if ((b = calloc(1, len)) == NULL)
		fatal(NULL);
	memcpy(b + len - n, v, n);
	ttlv_add_bigint(s, tag, b, len);
	free(b);
}

/*
 * The Key Block of a public key in the format asked for: Raw / X.509
 * (DER SubjectPublicKeyInfo), PKCS#1 (DER RSAPublicKey) or Transparent
 * RSA Public Key.  Default: PKCS#1 for RSA, Raw for the others, which is
 * what Krill and Cascade read.  No OpenSSL decoding here: the stored
 * SubjectPublicKeyInfo was made by the signer, and a DER walk is all a
 * Get needs (d2i_PUBKEY costs 100 us on OpenSSL 3.0).
 */
static int
get_public(struct kreq *r, uint32_t fmt)
{
	const uint8_t	*pkcs1 = NULL, *seq, *n, *e;
	size_t		 plen = 0, seqlen, nlen, elen;
	struct ttlv	*kb, *kv, *km, *a;
	int32_t		 bits = 0;
	int		 isrsa = r->obj.algorithm == KMIP_ALG_RSA;

	if (fmt == 0)
		fmt = isrsa ? KMIP_FMT_PKCS1 : KMIP_FMT_RAW;
	if ((fmt == KMIP_FMT_PKCS1 ||
	    fmt == KMIP_FMT_TRANSPARENT_RSA_PUBLIC_KEY) && (!isrsa ||
	    spki_rsa(r->obj.material, r->obj.material_len, &pkcs1,
	    &plen) == -1)) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "this "
		    "key cannot be given in that Key Format Type");
		return (-1);
	}
	if (fmt != KMIP_FMT_RAW && fmt != KMIP_FMT_X509 &&
	    fmt != KMIP_FMT_PKCS1 &&
	    fmt != KMIP_FMT_TRANSPARENT_RSA_PUBLIC_KEY) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "public "
		    "keys are given as Raw, X.509, PKCS#1 or Transparent RSA");
		return (-1);
	}
	kb = ttlv_add_structure(ttlv_add_structure(r->payload,
	    KMIP_TAG_PUBLIC_KEY), KMIP_TAG_KEY_BLOCK);
	ttlv_add_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, fmt);
	kv = ttlv_add_structure(kb, KMIP_TAG_KEY_VALUE);
	switch (fmt) {
	case KMIP_FMT_RAW:
	case KMIP_FMT_X509:
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, r->obj.material,
		    r->obj.material_len);
		break;
	case KMIP_FMT_PKCS1:
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, pkcs1, plen);
		break;
	case KMIP_FMT_TRANSPARENT_RSA_PUBLIC_KEY:
		if (der_next(&pkcs1, &plen, 0x30, &seq, &seqlen) == -1 ||
		    der_next(&seq, &seqlen, 0x02, &n, &nlen) == -1 ||
		    der_next(&seq, &seqlen, 0x02, &e, &elen) == -1) {
			kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "stored "
			    "public key does not parse");
			return (-1);
		}
		km = ttlv_add_structure(kv, KMIP_TAG_KEY_MATERIAL);
		add_der_integer(km, KMIP_TAG_MODULUS, n, nlen);
		add_der_integer(km, KMIP_TAG_PUBLIC_EXPONENT, e, elen);
		break;
	}
	ttlv_add_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, r->obj.algorithm);
	a = attrs_load(&r->obj);
	if (attr_get_integer(a, "Cryptographic Length", &bits) == 0)
		ttlv_add_integer(kb, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, bits);
	ttlv_free(a);
	return (0);
}

static enum kop_ret
op_get(struct kreq *r, const struct ttlv *req)
{
	char		 id[KS_ID_MAX];
	uint32_t	 fmt = 0;
	struct ttlv	*a;
	int		 sensitive = 0, extractable = 1;

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	(void)ttlv_get_enum(req, KMIP_TAG_KEY_FORMAT_TYPE, &fmt);
	if (ttlv_find(req, KMIP_TAG_KEY_WRAPPING_SPECIFICATION) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "key wrapping on Get is not supported");
		return (KOP_DONE);
	}
	if (r->obj.state == KMIP_STATE_DESTROYED ||
	    r->obj.state == KMIP_STATE_DESTROYED_COMPROMISED) {
		kreq_fail(r, KMIP_REASON_OBJECT_DESTROYED, "object %s was "
		    "destroyed", id);
		return (KOP_DONE);
	}
	switch (r->obj.type) {
	case KMIP_OBJ_PUBLIC_KEY:
		ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
		kop_payload_id(r, id);
		(void)get_public(r, fmt);
		break;
	case KMIP_OBJ_PRIVATE_KEY:
		/* Never exported: clients use the public key's own id. */
		get_private(r, id);
		break;
	default:
		a = attrs_load(&r->obj);
		/*
		 * A value that is not a Boolean (stored before templates
		 * were checked) reads as the stricter one.
		 */
		if (attr_get(a, "Sensitive", 0) != NULL &&
		    attr_get_bool(a, "Sensitive", &sensitive) == -1)
			sensitive = 1;
		if (attr_get(a, "Extractable", 0) != NULL &&
		    attr_get_bool(a, "Extractable", &extractable) == -1)
			extractable = 0;
		ttlv_free(a);
		if (sensitive)
			kreq_fail(r, KMIP_REASON_SENSITIVE, "object %s is "
			    "sensitive", id);
		else if (!extractable)
			kreq_fail(r, KMIP_REASON_NOT_EXTRACTABLE, "object %s "
			    "is not extractable", id);
		else if (r->obj.type == KMIP_OBJ_CERTIFICATE)
			get_certificate(r);
		else
			return (get_secret(r, fmt));
		break;
	}
	return (KOP_DONE);
}

/*
 * A private key is never given.  Say where its public key is, or, for a
 * key adopted from a token that kept no public object for it (deleted,
 * or never made) and does not give it from the private one either, why
 * there is none and what to do.
 */
static void
get_private(struct kreq *r, const char *id)
{
	const struct ttlv	*l;
	struct ttlv		*a;
	uint32_t		 type;
	char			 pub[KS_ID_MAX];
	int32_t			 i;

	pub[0] = '\0';
	a = attrs_load(&r->obj);
	for (i = 0; (l = attr_get(a, "Link", i)) != NULL; i++)
		if (ttlv_get_enum(l, KMIP_TAG_LINK_TYPE, &type) == 0 &&
		    type == KMIP_LINK_PUBLIC_KEY &&
		    ttlv_get_text(l, KMIP_TAG_LINKED_OBJECT_IDENTIFIER, pub,
		    sizeof(pub)) == 0)
			break;
	ttlv_free(a);
	if (pub[0] != '\0')
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "private keys "
		    "are not exported; get the public key %s instead", pub);
	else
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "private keys "
		    "are not exported, and %s has no public key: its token "
		    "has no public object for it and does not derive it; "
		    "Register the public key and Link it", id);
}

static void
get_certificate(struct kreq *r)
{
	struct ttlv	*c;

	ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
	kop_payload_id(r, r->obj.id);
	c = ttlv_add_structure(r->payload, KMIP_TAG_CERTIFICATE);
	ttlv_add_enum(c, KMIP_TAG_CERTIFICATE_TYPE, KMIP_CERT_X509);
	ttlv_add_bytes(c, KMIP_TAG_CERTIFICATE_VALUE, r->obj.material,
	    r->obj.material_len);
}

/* A symmetric key or secret data: the signer unwraps it for us. */
static enum kop_ret
get_secret(struct kreq *r, uint32_t fmt)
{
	struct hsm_op	 op;
	struct iovec	 iov[1];
	struct ttlv	*a;
	int		 rv;

	if (fmt != 0 && fmt != KMIP_FMT_RAW && (r->obj.type ==
	    KMIP_OBJ_SECRET_DATA || fmt != KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY)) {
		kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED,
		    "symmetric keys are given as Raw or Transparent "
		    "Symmetric Key, secret data as Raw");
		return (KOP_DONE);
	}
	memset(&op, 0, sizeof(op));
	(void)strlcpy(op.id, r->obj.id, sizeof(op.id));
	op.op = HSM_OP_EXPORT;
	if (r->obj.type == KMIP_OBJ_SECRET_DATA)
		op.kind = HSM_KEY_SECRET;
	else {
		a = attrs_load(&r->obj);
		rv = kop_key_kind(r, a, &op.kind);
		ttlv_free(a);
		if (rv == -1)
			return (KOP_DONE);
	}
	iov[0].iov_base = r->obj.material;
	iov[0].iov_len = op.len_key = r->obj.material_len;
	r->get_fmt = fmt != 0 ? fmt : KMIP_FMT_RAW;
	if (kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op, sizeof(op),
	    iov, 1, get_secret_done) == -1)
		return (KOP_DONE);
	return (KOP_WAIT);
}

static enum kop_ret
get_secret_done(struct kreq *r, const struct hsm_result *res,
    const uint8_t *o1, const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*obj, *kb, *kv, *km, *a;
	int32_t		 len = 0;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	ttlv_add_enum(r->payload, KMIP_TAG_OBJECT_TYPE, r->obj.type);
	kop_payload_id(r, r->obj.id);
	if (r->obj.type == KMIP_OBJ_SECRET_DATA) {
		obj = ttlv_add_structure(r->payload, KMIP_TAG_SECRET_DATA);
		ttlv_add_enum(obj, KMIP_TAG_SECRET_DATA_TYPE,
		    KMIP_SECRET_PASSWORD);
	} else
		obj = ttlv_add_structure(r->payload, KMIP_TAG_SYMMETRIC_KEY);
	kb = ttlv_add_structure(obj, KMIP_TAG_KEY_BLOCK);
	ttlv_add_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, r->get_fmt);
	kv = ttlv_add_structure(kb, KMIP_TAG_KEY_VALUE);
	if (r->get_fmt == KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY) {
		km = ttlv_add_structure(kv, KMIP_TAG_KEY_MATERIAL);
		ttlv_add_bytes(km, KMIP_TAG_KEY, o1, res->len_out1);
	} else
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, o1, res->len_out1);
	if (r->obj.type == KMIP_OBJ_SYMMETRIC_KEY) {
		a = attrs_load(&r->obj);
		(void)attr_get_integer(a, "Cryptographic Length", &len);
		ttlv_free(a);
		ttlv_add_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
		    r->obj.algorithm);
		ttlv_add_integer(kb, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, len);
	}
	return (KOP_DONE);
}

/* --- Register ------------------------------------------------------ */

/*
 * The key material of a Key Block: bytes (Raw, Opaque, PKCS#1, PKCS#8,
 * X.509) or, for Transparent Symmetric Key, the Key inside a structure.
 */
static int
reg_key_block(struct kreq *r, const struct ttlv *obj, uint32_t *fmt,
    const uint8_t **p, size_t *len, uint32_t *alg)
{
	const struct ttlv	*kb, *kv, *km;

	if (obj == NULL || obj->type != TTLV_STRUCTURE ||
	    (kb = ttlv_find(obj, KMIP_TAG_KEY_BLOCK)) == NULL ||
	    ttlv_get_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, fmt) == -1 ||
	    (kv = ttlv_find(kb, KMIP_TAG_KEY_VALUE)) == NULL ||
	    (km = ttlv_find(kv, KMIP_TAG_KEY_MATERIAL)) == NULL) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Key Block with a "
		    "Key Format Type and Key Material");
		return (-1);
	}
	if (ttlv_find(kb, KMIP_TAG_KEY_WRAPPING_DATA) != NULL) {
		kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "wrapped "
		    "keys cannot be registered");
		return (-1);
	}
	(void)ttlv_get_enum(kb, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, alg);
	if (km->type == TTLV_BYTE_STRING) {
		*p = km->v.s.data;
		*len = km->v.s.len;
		return (0);
	}
	if (*fmt == KMIP_FMT_TRANSPARENT_SYMMETRIC_KEY &&
	    ttlv_get_bytes(km, KMIP_TAG_KEY, p, len) == 0)
		return (0);
	kreq_fail(r, KMIP_REASON_KEY_FORMAT_TYPE_NOT_SUPPORTED, "Key "
	    "Format Type not supported for Register");
	return (-1);
}

/*
 * What the signer found a Register'ed private key to be, from the public
 * half it answered (DER SubjectPublicKeyInfo): public data, so the
 * engine may parse it.  -1 if it does not parse or is of no kind the
 * signer makes.
 */
static int
reg_private_kind(const uint8_t *spki, size_t len, uint32_t *alg,
    int32_t *bits)
{
	EVP_PKEY	*pk;
	const uint8_t	*q = spki;
	int		 rv = -1;

	if ((pk = d2i_PUBKEY(NULL, &q, len)) == NULL || q != spki + len)
		goto done;
	*bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_is_a(pk, "RSA"))
		*alg = KMIP_ALG_RSA;
	else if (EVP_PKEY_is_a(pk, "ED25519"))
		*alg = KMIP_ALG_ED25519;
	else if (EVP_PKEY_is_a(pk, "EC") && (*bits == 256 || *bits == 384 ||
	    *bits == 521))
		*alg = KMIP_ALG_ECDSA;
	else
		goto done;
	rv = 0;
 done:
	EVP_PKEY_free(pk);
	return (rv);
}

/*
 * A Register'ed private key came back wrapped, with its public half:
 * algorithm and length come from the public half, then as Create.
 */
static enum kop_ret
reg_private_done(struct kreq *r, const struct hsm_result *res,
    const uint8_t *o1, const uint8_t *o2, const uint8_t *o3)
{
	struct ttlv	*a;
	uint32_t	 alg;
	int32_t		 bits;

	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	if (res->len_out1 == 0 || reg_private_kind(o2, res->len_out2, &alg,
	    &bits) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "the signer "
		    "returned no usable key");
		return (KOP_DONE);
	}
	r->obj.algorithm = alg;
	a = attrs_load(&r->obj);
	attr_set_enum(a, "Cryptographic Algorithm", alg);
	attr_set_integer(a, "Cryptographic Length", bits);
	attrs_store(&r->obj, a);
	ttlv_free(a);
	return (create_done(r, res, o1, o2, o3));
}

/* A public key as DER SubjectPublicKeyInfo, from PKCS#1 or SPKI DER. */
static int
reg_spki(struct kreq *r, uint32_t fmt, const uint8_t *p, size_t len,
    uint8_t **der, int *derlen, uint32_t *alg, int32_t *bits)
{
	EVP_PKEY	*pk = NULL;
	const uint8_t	*q = p;

	if (fmt == KMIP_FMT_PKCS1)
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, len);
	else if (fmt == KMIP_FMT_X509 || fmt == KMIP_FMT_RAW)
		pk = d2i_PUBKEY(NULL, &q, len);
	if (pk == NULL || q != p + len) {
		EVP_PKEY_free(pk);
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the public key does "
		    "not parse (SubjectPublicKeyInfo or PKCS#1 DER)");
		return (-1);
	}
	*bits = EVP_PKEY_get_bits(pk);
	*alg = EVP_PKEY_is_a(pk, "RSA") ? KMIP_ALG_RSA :
	    EVP_PKEY_is_a(pk, "ED25519") ? KMIP_ALG_ED25519 : KMIP_ALG_ECDSA;
	*der = NULL;
	*derlen = i2d_PUBKEY(pk, der);
	EVP_PKEY_free(pk);
	if (*derlen <= 0) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "cannot encode the "
		    "public key");
		return (-1);
	}
	return (0);
}

static int
reg_certificate(struct kreq *r, const struct ttlv *req, uint8_t **der,
    int *derlen)
{
	const struct ttlv	*obj;
	const uint8_t		*p, *q;
	size_t			 len;
	X509			*x;

	if ((obj = ttlv_find(req, KMIP_TAG_CERTIFICATE)) == NULL ||
	    ttlv_get_bytes(obj, KMIP_TAG_CERTIFICATE_VALUE, &p, &len) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Certificate "
		    "Value");
		return (-1);
	}
	q = p;
	if ((x = d2i_X509(NULL, &q, len)) == NULL || q != p + len) {
		X509_free(x);
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "the certificate does "
		    "not parse");
		return (-1);
	}
	X509_free(x);
	if ((*der = malloc(len)) == NULL)
		fatal(NULL);
	memcpy(*der, p, len);
	*derlen = len;
	return (0);
}

static uint32_t
reg_symmetric_kind(uint32_t alg)
{
	switch (alg) {
	case KMIP_ALG_AES:
		return (HSM_KEY_AES);
	case KMIP_ALG_HMAC_SHA256:
		return (HSM_KEY_HMAC_SHA256);
	case KMIP_ALG_HMAC_SHA384:
		return (HSM_KEY_HMAC_SHA384);
	case KMIP_ALG_HMAC_SHA512:
		return (HSM_KEY_HMAC_SHA512);
	}
	return (0);
}

/*
 * Register: secrets (symmetric keys, private keys, secret data) go to the
 * default signer to be wrapped; public keys and certificates are public
 * and stored as they are.
 */
static enum kop_ret
op_register(struct kreq *r, const struct ttlv *req)
{
	struct hsm_import	 im;
	struct iovec		 iov[1];
	struct ttlv		*a;
	const char		*signer;
	const uint8_t		*p = NULL;
	uint8_t			*der = NULL;
	size_t			 len = 0;
	uint32_t		 type, fmt = 0, alg = 0, kind = 0;
	int32_t			 bits = 0;
	int			 derlen = 0;
	enum kop_ret		 ret = KOP_DONE;

	if (ttlv_get_enum(req, KMIP_TAG_OBJECT_TYPE, &type) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Object Type");
		return (KOP_DONE);
	}
	a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	if (kop_template(r, ttlv_find(req, KMIP_TAG_TEMPLATE_ATTRIBUTE),
	    a) == -1 || (signer = kop_default_signer(r)) == NULL)
		goto done;
	switch (type) {
	case KMIP_OBJ_SYMMETRIC_KEY:
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_SYMMETRIC_KEY),
		    &fmt, &p, &len, &alg) == -1)
			goto done;
		(void)attr_get_enum(a, "Cryptographic Algorithm", &alg);
		if ((kind = reg_symmetric_kind(alg)) == 0) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "symmetric "
			    "keys are AES or HMAC");
			goto done;
		}
		bits = len * 8;
		break;
	case KMIP_OBJ_SECRET_DATA:
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_SECRET_DATA),
		    &fmt, &p, &len, &alg) == -1)
			goto done;
		kind = HSM_KEY_SECRET;
		alg = 0;
		break;
	case KMIP_OBJ_PRIVATE_KEY:
		/*
		 * Only the signer parses a private key: the engine keeps no
		 * copy, and OpenSSL here would leave some in freed memory.
		 */
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_PRIVATE_KEY),
		    &fmt, &p, &len, &alg) == -1)
			goto done;
		kind = HSM_KEY_PRIVATE;
		alg = 0;
		break;
	case KMIP_OBJ_PUBLIC_KEY:
		if (reg_key_block(r, ttlv_find(req, KMIP_TAG_PUBLIC_KEY),
		    &fmt, &p, &len, &alg) == -1 ||
		    reg_spki(r, fmt, p, len, &der, &derlen, &alg,
		    &bits) == -1)
			goto done;
		break;
	case KMIP_OBJ_CERTIFICATE:
		if (reg_certificate(r, req, &der, &derlen) == -1)
			goto done;
		break;
	default:
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Register takes "
		    "symmetric keys, private and public keys, secret data and "
		    "certificates");
		goto done;
	}
	/* A public key still needs a signer for Verify and Encrypt. */
	if (kop_new_object(r, &r->obj, type, alg,
	    type == KMIP_OBJ_CERTIFICATE ? "" : signer) == -1)
		goto done;
	if (alg != 0)
		attr_set_enum(a, "Cryptographic Algorithm", alg);
	if (bits != 0)
		attr_set_integer(a, "Cryptographic Length", bits);
	kop_initial_attrs(a, &r->obj);
	if (type == KMIP_OBJ_PUBLIC_KEY || type == KMIP_OBJ_CERTIFICATE) {
		r->obj.material = der;
		r->obj.material_len = derlen;
		der = NULL;
		if (kop_save(r, &r->obj, a, 1) == 0) {
			kop_payload_id(r, r->obj.id);
			(void)strlcpy(r->placeholder, r->obj.id,
			    sizeof(r->placeholder));
		}
		goto done;
	}
	attrs_store(&r->obj, a);
	memset(&im, 0, sizeof(im));
	(void)strlcpy(im.id, r->obj.id, sizeof(im.id));
	im.kind = kind;
	im.format = kind != HSM_KEY_PRIVATE ? HSM_FMT_RAW :
	    fmt == KMIP_FMT_PKCS8 ? HSM_FMT_PKCS8 : HSM_FMT_DER;
	im.len_key = len;
	iov[0].iov_base = (void *)(uintptr_t)p;
	iov[0].iov_len = len;
	if (kreq_signer_send(r, signer, IMSG_HSM_IMPORT, &im, sizeof(im),
	    iov, 1, kind == HSM_KEY_PRIVATE ? reg_private_done :
	    create_done) == 0)
		ret = KOP_WAIT;
 done:
	if (der != NULL)
		freezero(der, derlen);
	ttlv_free(a);
	return (ret);
}

/* --- Attributes ----------------------------------------------------- */

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

static enum kop_ret
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

static enum kop_ret
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
 * Activation Date says when the object became usable: once it is Active
 * (or later) that is history and no client may rewrite it (KMIP 1.x
 * 3.24: it may change only while the object is Pre-Active).
 */
static int
kop_activation_fixed(struct kreq *r, const char *name)
{
	if (strcmp(name, "Activation Date") != 0 ||
	    r->obj.state == KMIP_STATE_PRE_ACTIVE)
		return (0);
	kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "object %s is no longer "
	    "Pre-Active: its Activation Date cannot change", r->obj.id);
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

static enum kop_ret
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
	if (!client_attr(name, &multi, &modify) || !modify) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "attribute \"%s\" "
		    "cannot be set by a client", name);
		return (KOP_DONE);
	}
	if (kop_activation_fixed(r, name) == -1)
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

static enum kop_ret
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
	if (!client_attr(name, &multi, &modify) || !modify) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "attribute \"%s\" "
		    "cannot be changed by a client", name);
		return (KOP_DONE);
	}
	if (kop_activation_fixed(r, name) == -1)
		return (KOP_DONE);
	a = attrs_load(&r->obj);
	if (attr_get(a, name, idx) == NULL) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "object %s has no "
		    "attribute \"%s\" with index %d", id, name, (int)idx);
		ttlv_free(a);
		return (KOP_DONE);
	}
	if (kop_protected(r, a, name, v) == -1) {
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

static enum kop_ret
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
	if (!client_attr(name, &multi, &modify) || !modify) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "attribute \"%s\" "
		    "cannot be deleted by a client", name);
		return (KOP_DONE);
	}
	if (kop_activation_fixed(r, name) == -1)
		return (KOP_DONE);
	/* Deleting would bring back the lax default. */
	if (kop_protected(r, NULL, name, NULL) == -1)
		return (KOP_DONE);
	a = attrs_load(&r->obj);
	if (attr_get(a, name, idx) == NULL) {
		kreq_fail(r, KMIP_REASON_ITEM_NOT_FOUND, "object %s has no "
		    "attribute \"%s\" with index %d", id, name, (int)idx);
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

/* --- Lifecycle ------------------------------------------------------ */

static enum kop_ret
op_activate(struct kreq *r, const struct ttlv *req)
{
	struct ttlv	*a;
	char		 id[KS_ID_MAX];

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	if (r->obj.state != KMIP_STATE_PRE_ACTIVE) {
		kreq_fail(r, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "object "
		    "%s is not Pre-Active", id);
		return (KOP_DONE);
	}
	a = attrs_load(&r->obj);
	r->obj.state = KMIP_STATE_ACTIVE;
	attr_set_datetime(a, "Activation Date", time(NULL));
	if (kop_save(r, &r->obj, a, 0) == 0)
		kop_payload_id(r, id);
	ttlv_free(a);
	return (KOP_DONE);
}

static enum kop_ret
op_revoke(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*rr, *cd;
	struct ttlv		*a;
	char			 id[KS_ID_MAX];
	uint32_t		 code;
	int64_t			 now = time(NULL);

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	if ((rr = ttlv_find(req, KMIP_TAG_REVOCATION_REASON)) == NULL ||
	    ttlv_get_enum(rr, KMIP_TAG_REVOCATION_REASON_CODE, &code) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD,
		    "no Revocation Reason Code");
		return (KOP_DONE);
	}
	a = attrs_load(&r->obj);
	if (code == KMIP_REVOKE_KEY_COMPROMISE ||
	    code == KMIP_REVOKE_CA_COMPROMISE) {
		if (r->obj.state == KMIP_STATE_DESTROYED ||
		    r->obj.state == KMIP_STATE_DESTROYED_COMPROMISED ||
		    r->obj.state == KMIP_STATE_COMPROMISED)
			goto wrong;
		r->obj.state = KMIP_STATE_COMPROMISED;
		attr_set_datetime(a, "Compromise Date", now);
		if ((cd = ttlv_find(req,
		    KMIP_TAG_COMPROMISE_OCCURRENCE_DATE)) != NULL &&
		    cd->type == TTLV_DATE_TIME)
			attr_set_datetime(a, "Compromise Occurrence Date",
			    cd->v.i64);
	} else {
		if (r->obj.state != KMIP_STATE_ACTIVE &&
		    r->obj.state != KMIP_STATE_PRE_ACTIVE)
			goto wrong;
		r->obj.state = KMIP_STATE_DEACTIVATED;
		attr_set_datetime(a, "Deactivation Date", now);
	}
	attr_set(a, "Revocation Reason", 0, rr);
	if (kop_save(r, &r->obj, a, 0) == 0)
		kop_payload_id(r, id);
	ttlv_free(a);
	return (KOP_DONE);
 wrong:
	kreq_fail(r, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "object %s "
	    "cannot be revoked in its state", id);
	ttlv_free(a);
	return (KOP_DONE);
}

static enum kop_ret
op_destroy(struct kreq *r, const struct ttlv *req)
{
	struct hsm_op	 op;
	struct iovec	 iov[1];
	struct ttlv	*a;
	char		 id[KS_ID_MAX];
	int		 rv;

	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	switch (r->obj.state) {
	case KMIP_STATE_ACTIVE:
		kreq_fail(r, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "object "
		    "%s is active: revoke it first", id);
		return (KOP_DONE);
	case KMIP_STATE_DESTROYED:
	case KMIP_STATE_DESTROYED_COMPROMISED:
		kreq_fail(r, KMIP_REASON_OBJECT_DESTROYED, "object %s was "
		    "destroyed already", id);
		return (KOP_DONE);
	}
	/*
	 * A key signerd made in a token leaves the token first: if the
	 * token refuses, the keystore is unchanged (destroy_done).
	 */
	a = attrs_load(&r->obj);
	if (kop_on_token(&r->obj, a) && !kop_token_adopted(&r->obj, a)) {
		memset(&op, 0, sizeof(op));
		(void)strlcpy(op.id, id, sizeof(op.id));
		op.op = r->obj.type == KMIP_OBJ_PUBLIC_KEY ?
		    HSM_OP_DESTROY_PUBLIC : HSM_OP_DESTROY;
		iov[0].iov_base = r->obj.material;
		iov[0].iov_len = op.len_key = r->obj.material_len;
		rv = kop_key_kind(r, a, &op.kind) == 0 &&
		    kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op,
		    sizeof(op), iov, 1, destroy_done) == 0;
		ttlv_free(a);
		return (rv ? KOP_WAIT : KOP_DONE);
	}
	ttlv_free(a);
	destroy_commit(r);
	return (KOP_DONE);
}

/*
 * The token removed the key's object, or has none (any more: removed by
 * an operator, or a public key registered, never in the token).
 */
static enum kop_ret
destroy_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	if (res->status == KMIP_REASON_ITEM_NOT_FOUND)
		log_warnx("object %s: destroyed, its token object was gone "
		    "already: %s", r->obj.id, res->msg);
	else if (res->status != 0) {
		kreq_fail(r, res->status, "the token did not destroy the "
		    "key, it stays: %s", res->msg);
		return (KOP_DONE);
	}
	destroy_commit(r);
	return (KOP_DONE);
}

/* Destroyed in the keystore: the material goes, the metadata stays. */
static void
destroy_commit(struct kreq *r)
{
	struct ttlv	*a;

	if ((a = attrs_load(&r->obj)) == NULL) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "object %s is "
		    "damaged", r->obj.id);
		return;
	}
	r->obj.state = r->obj.state == KMIP_STATE_COMPROMISED ?
	    KMIP_STATE_DESTROYED_COMPROMISED : KMIP_STATE_DESTROYED;
	attr_set_datetime(a, "Destroy Date", time(NULL));
	freezero(r->obj.material, r->obj.material_len);
	r->obj.material = NULL;
	r->obj.material_len = 0;
	if (kop_save(r, &r->obj, a, 0) == 0)
		kop_payload_id(r, r->obj.id);
	ttlv_free(a);
}

/* --- Locate --------------------------------------------------------- */

/* Does stored attribute list a hold value v for name? */
static int
locate_match(const struct ttlv *a, const char *name, const struct ttlv *v)
{
	const struct ttlv	*have;
	uint8_t			*x, *y;
	size_t			 lx, ly;
	int32_t			 i;
	int			 eq = 0;

	for (i = 0; !eq && (have = attr_get(a, name, i)) != NULL; i++) {
		lx = ttlv_encoded_len(have);
		ly = ttlv_encoded_len(v);
		if (lx != ly)
			continue;
		if ((x = malloc(lx)) == NULL || (y = malloc(ly)) == NULL)
			fatal(NULL);
		/* Compare values regardless of their tag. */
		(void)ttlv_encode(have, x, lx);
		(void)ttlv_encode(v, y, ly);
		eq = memcmp(x + 3, y + 3, lx - 3) == 0;
		free(x);
		free(y);
	}
	return (eq);
}

/* A date attribute of a Locate request, as locate_range saw it. */
struct locate_date {
	int		 range;
	int64_t		 lo, hi;
};

/*
 * KMIP 1.x: a date attribute given twice selects the range between the
 * two values, both included.  For t, an instance of a date attribute in
 * the request: 2 and the bounds if it is the first of two, 1 if it is
 * the second (the first does the work), 0 if it is alone, -1 if the
 * request gives that attribute more than twice or not twice as a date.
 */
static int
locate_range(const struct ttlv *req, const struct ttlv *t, const char *name,
    int64_t *lo, int64_t *hi)
{
	const struct ttlv	*u, *v, *other = NULL;
	char			 n[ATTR_NAME_MAX];
	int			 count = 0, first = 0;

	for (u = ttlv_find(req, KMIP_TAG_ATTRIBUTE); u != NULL;
	    u = ttlv_find_next(req, u, KMIP_TAG_ATTRIBUTE)) {
		if (attr_name(u, n, sizeof(n)) == -1 || strcmp(n, name) != 0)
			continue;
		if (++count > 2)
			return (-1);
		if (u == t)
			first = count == 1;
		else
			other = u;
	}
	if (other == NULL)
		return (0);
	if ((v = ttlv_find(other, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL ||
	    v->type != TTLV_DATE_TIME)
		return (-1);
	if (!first)
		return (1);
	*lo = *hi = v->v.i64;
	v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
	if (v->v.i64 < *lo)
		*lo = v->v.i64;
	else
		*hi = v->v.i64;
	return (2);
}

/* Does stored attribute list a hold a date for name in [lo, hi]? */
static int
locate_match_range(const struct ttlv *a, const char *name, int64_t lo,
    int64_t hi)
{
	const struct ttlv	*have;
	int32_t			 i;

	for (i = 0; (have = attr_get(a, name, i)) != NULL; i++)
		if (have->type == TTLV_DATE_TIME && have->v.i64 >= lo &&
		    have->v.i64 <= hi)
			return (1);
	return (0);
}

static enum kop_ret
op_locate(struct kreq *r, const struct ttlv *req)
{
	static char		 ids[LOCATE_MAX][KS_ID_MAX];
	const struct ttlv	*t, *v, *nv;
	struct ks_filter	 f;
	struct ks_object	 o;
	struct ttlv		*a;
	char			 name[ATTR_NAME_MAX], text[KS_NAME_MAX];
	char			 one[KS_ID_MAX];
	size_t			 n, i, j, nattrs = 0, found = 0, located = 0;
	size_t			 room, need;
	struct locate_date	*lr;
	int32_t			 max = LOCATE_MAX, offset = 0;
	int			 ok;

	memset(&f, 0, sizeof(f));
	f.owner = r->hdr.identity;
	/* Unique Identifier hsm::<slot>::<label> alone: locate_hsm. */
	if ((t = ttlv_find(req, KMIP_TAG_ATTRIBUTE)) != NULL &&
	    attr_name(t, name, sizeof(name)) == 0 &&
	    strcmp(name, "Unique Identifier") == 0 &&
	    (v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) != NULL &&
	    v->type == TTLV_TEXT_STRING && v->v.s.len < sizeof(one) &&
	    v->v.s.len > strlen(KS_HSM_PREFIX) &&
	    memcmp(v->v.s.data, KS_HSM_PREFIX, strlen(KS_HSM_PREFIX)) == 0) {
		if (ttlv_find_next(req, t, KMIP_TAG_ATTRIBUTE) != NULL) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Locate of an "
			    "hsm:: id takes no other attribute");
			return (KOP_DONE);
		}
		memcpy(one, v->v.s.data, v->v.s.len);
		one[v->v.s.len] = '\0';
		return (locate_hsm(r, one));
	}
	if (ttlv_get_integer(req, KMIP_TAG_MAXIMUM_ITEMS, &max) == 0 &&
	    (max < 1 || max > LOCATE_MAX))
		max = LOCATE_MAX;
	if (ttlv_get_integer(req, KMIP_TAG_OFFSET_ITEMS, &offset) == 0 &&
	    offset < 0)
		offset = 0;
	/*
	 * Narrow with the keystore's columns, then check everything.  The
	 * date ranges are worked out once here, not again per object, and
	 * pairing their instances takes time square in the number of
	 * attributes: no more than an object can hold.
	 */
	for (t = ttlv_find(req, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(req, t, KMIP_TAG_ATTRIBUTE))
		nattrs++;
	if (nattrs > ATTRS_STORED_MAX) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Locate takes at most "
		    "%d attributes", ATTRS_STORED_MAX);
		return (KOP_DONE);
	}
	if ((lr = calloc(MAX(nattrs, 1), sizeof(*lr))) == NULL)
		fatal(NULL);
	for (t = ttlv_find(req, KMIP_TAG_ATTRIBUTE), j = 0; t != NULL;
	    t = ttlv_find_next(req, t, KMIP_TAG_ATTRIBUTE), j++) {
		if (attr_name(t, name, sizeof(name)) == -1 ||
		    (v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "malformed Attribute");
			goto done;
		}
		if (v->type == TTLV_DATE_TIME && (lr[j].range =
		    locate_range(req, t, name, &lr[j].lo, &lr[j].hi)) == -1) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "\"%s\" "
			    "given more than twice or not twice as a date: "
			    "two values select a range", name);
			goto done;
		}
		if (strcmp(name, "Object Type") == 0 &&
		    v->type == TTLV_ENUMERATION)
			f.type = v->v.u32;
		else if (strcmp(name, "State") == 0 &&
		    v->type == TTLV_ENUMERATION)
			f.state = v->v.u32;
		else if (strcmp(name, "Cryptographic Algorithm") == 0 &&
		    v->type == TTLV_ENUMERATION)
			f.algorithm = v->v.u32;
		else if (strcmp(name, "Name") == 0 && f.name == NULL &&
		    (nv = ttlv_find(v, KMIP_TAG_NAME_VALUE)) != NULL &&
		    ttlv_get_text(v, KMIP_TAG_NAME_VALUE, text,
		    sizeof(text)) == 0)
			f.name = text;
	}
	/* The work of one request is bounded, whatever its items. */
	if (r->examined >= LOCATE_EXAMINE_MAX) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "one request may "
		    "look at %d objects; send fewer Locate items",
		    LOCATE_EXAMINE_MAX);
		goto done;
	}
	/*
	 * Destroyed objects are found only when asked for by State: a
	 * client that Locates by Name and takes the first hit must not get
	 * a dead key (KMIP 2.0 says so outright; 1.x clients expect it).
	 */
	f.live = f.state == 0;
	if (ks_locate(engine->ks, &f, ids, MIN(LOCATE_MAX,
	    LOCATE_EXAMINE_MAX - r->examined), &n) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		goto done;
	}
	r->examined += n;
	room = kreq_room(r);
	for (i = 0; i < n && found < (size_t)(offset + max); i++) {
		if (ks_get(engine->ks, ids[i], &o) != 0)
			continue;
		if ((a = attrs_load(&o)) == NULL) {
			/* Damaged (logged): signerctl show damaged. */
			ks_object_clear(&o);
			continue;
		}
		ok = 1;
		for (t = ttlv_find(req, KMIP_TAG_ATTRIBUTE), j = 0;
		    ok && t != NULL;
		    t = ttlv_find_next(req, t, KMIP_TAG_ATTRIBUTE), j++) {
			(void)attr_name(t, name, sizeof(name));
			v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
			if (strcmp(name, "Object Type") == 0 ||
			    strcmp(name, "State") == 0 ||
			    strcmp(name, "Cryptographic Algorithm") == 0)
				continue;	/* the columns did it */
			if (lr[j].range == 2)
				ok = locate_match_range(a, name, lr[j].lo,
				    lr[j].hi);
			else if (lr[j].range == 0)
				ok = locate_match(a, name, v);
		}
		ttlv_free(a);
		ks_object_clear(&o);
		if (!ok || found++ < (size_t)offset)
			continue;
		need = TTLV_HEADER_LEN + ((strlen(ids[i]) + 7) & ~(size_t)7);
		if (need > room) {
			kreq_fail(r, KMIP_REASON_RESPONSE_TOO_LARGE, "the "
			    "objects found do not fit in a response of %zu "
			    "bytes; ask for fewer with Maximum Items",
			    r->budget);
			goto done;
		}
		room -= need;
		kop_payload_id(r, ids[i]);
		if (++located == 1)
			(void)strlcpy(one, ids[i], sizeof(one));
	}
	/* KMIP 1.x: exactly one found becomes the ID Placeholder. */
	if (located == 1)
		(void)strlcpy(r->placeholder, one, sizeof(r->placeholder));
 done:
	free(lr);
	return (KOP_DONE);
}

/* --- Cryptographic operations ---------------------------------------- */

/*
 * Sign, Signature Verify, Encrypt, Decrypt and MAC share one path: find
 * the key and check that it may do this, turn the Cryptographic
 * Parameters into the signer's terms, send key + data + iv + aad + sig,
 * and shape the answer.
 */
struct cop {
	uint32_t	 kmip_op;
	uint32_t	 hsm_op;
	uint32_t	 usage;		/* Cryptographic Usage Mask bit */
	int		 after_active;	/* allowed on Deactivated/Compromised */
};

static const struct cop cops[] = {
	{ KMIP_OP_SIGN,		    HSM_OP_SIGN,    KMIP_USAGE_SIGN,	0 },
	{ KMIP_OP_SIGNATURE_VERIFY, HSM_OP_VERIFY,  KMIP_USAGE_VERIFY,	1 },
	{ KMIP_OP_ENCRYPT,	    HSM_OP_ENCRYPT, KMIP_USAGE_ENCRYPT, 0 },
	{ KMIP_OP_DECRYPT,	    HSM_OP_DECRYPT, KMIP_USAGE_DECRYPT, 1 },
	{ KMIP_OP_MAC,		    HSM_OP_MAC,	    KMIP_USAGE_MAC_GENERATE, 0 },
};

static enum kop_ret	 crypto_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static int		 cop_dates(struct kreq *, const struct cop *,
			    const struct ttlv *);
static int		 cop_params14(struct kreq *, const struct ttlv *, int,
			    struct hsm_op *, struct iovec *);

static uint32_t
hsm_hash(uint32_t kmip_hash)
{
	switch (kmip_hash) {
	case KMIP_HASH_SHA1:
		return (HSM_HASH_SHA1);
	case KMIP_HASH_SHA256:
		return (HSM_HASH_SHA256);
	case KMIP_HASH_SHA384:
		return (HSM_HASH_SHA384);
	case KMIP_HASH_SHA512:
		return (HSM_HASH_SHA512);
	}
	return (0xffffffff);
}

/* The signer's key kind of a stored key, a its attributes. */
static int
kop_key_kind(struct kreq *r, const struct ttlv *a, uint32_t *kind)
{
	int32_t		 len = 0;

	(void)attr_get_integer(a, "Cryptographic Length", &len);
	if (hsm_kind_of(r->obj.algorithm, len, kind) == 0)
		return (0);
	kreq_fail(r, KMIP_REASON_INVALID_FIELD, "unknown key algorithm");
	return (-1);
}

/* Which object types may do an operation, by key kind. */
static int
cop_type_ok(const struct cop *c, uint32_t type, uint32_t kind)
{
	int	 sym = kind == HSM_KEY_AES || kind == HSM_KEY_HMAC_SHA256 ||
		    kind == HSM_KEY_HMAC_SHA384 || kind == HSM_KEY_HMAC_SHA512;

	switch (c->hsm_op) {
	case HSM_OP_SIGN:
		return (type == KMIP_OBJ_PRIVATE_KEY);
	case HSM_OP_VERIFY:
		return (type == KMIP_OBJ_PUBLIC_KEY);
	case HSM_OP_ENCRYPT:
		return ((type == KMIP_OBJ_SYMMETRIC_KEY &&
		    kind == HSM_KEY_AES) || (type == KMIP_OBJ_PUBLIC_KEY &&
		    kind == HSM_KEY_RSA));
	case HSM_OP_DECRYPT:
		return ((type == KMIP_OBJ_SYMMETRIC_KEY &&
		    kind == HSM_KEY_AES) || (type == KMIP_OBJ_PRIVATE_KEY &&
		    kind == HSM_KEY_RSA));
	case HSM_OP_MAC:
		return (type == KMIP_OBJ_SYMMETRIC_KEY && sym &&
		    kind != HSM_KEY_AES);
	}
	return (0);
}

/*
 * The Cryptographic Parameters of KMIP 1.4 into op: Salt Length, Mask
 * Generator (MGF1 only) and its hash, P Source (the OAEP label, into
 * label).  In a request of an older version they do not exist: refused,
 * rather than ignored, so that nothing is signed otherwise than asked.
 * A key's own parameters (fromkey) were stored by a client that could
 * send them, and apply whatever the version of this request.
 */
static int
cop_params14(struct kreq *r, const struct ttlv *cp, int fromkey,
    struct hsm_op *op, struct iovec *label)
{
	const struct ttlv	*t;
	const uint8_t		*p;
	size_t			 n;
	uint32_t		 v;
	int32_t			 sl;

	if (!fromkey && !kreq_version_at_least(r, 1, 4) &&
	    (ttlv_find(cp, KMIP_TAG_SALT_LENGTH) != NULL ||
	    ttlv_find(cp, KMIP_TAG_MASK_GENERATOR) != NULL ||
	    ttlv_find(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM) != NULL ||
	    ttlv_find(cp, KMIP_TAG_P_SOURCE) != NULL ||
	    ttlv_find(cp, KMIP_TAG_TRAILER_FIELD) != NULL)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Salt Length, Mask "
		    "Generator, P Source and Trailer Field are KMIP 1.4; "
		    "this request is %d.%d", (int)r->major, (int)r->minor);
		return (-1);
	}
	if ((t = ttlv_find(cp, KMIP_TAG_SALT_LENGTH)) != NULL) {
		if (ttlv_get_integer(cp, KMIP_TAG_SALT_LENGTH, &sl) == -1 ||
		    sl < 0 || sl > HSM_SALT_MAX) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Salt Length: "
			    "0 to %d bytes", HSM_SALT_MAX);
			return (-1);
		}
		op->flags |= HSM_OPF_SALT_LEN;
		op->salt_len = sl;
	}
	if (ttlv_find(cp, KMIP_TAG_MASK_GENERATOR) != NULL &&
	    (ttlv_get_enum(cp, KMIP_TAG_MASK_GENERATOR, &v) == -1 ||
	    v != KMIP_MASK_GEN_MGF1)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Mask Generator: "
		    "MGF1 only");
		return (-1);
	}
	if (ttlv_find(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM) != NULL &&
	    (ttlv_get_enum(cp, KMIP_TAG_MASK_GENERATOR_HASHING_ALGORITHM,
	    &v) == -1 || (op->mgf_hash = hsm_hash(v)) == 0xffffffff)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Mask Generator "
		    "Hashing Algorithm: SHA-1, SHA-256, SHA-384 or SHA-512");
		return (-1);
	}
	if (ttlv_find(cp, KMIP_TAG_TRAILER_FIELD) != NULL &&
	    (ttlv_get_integer(cp, KMIP_TAG_TRAILER_FIELD, &sl) == -1 ||
	    sl != 1)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Trailer Field: 1 "
		    "(0xbc) only");
		return (-1);
	}
	if (ttlv_find(cp, KMIP_TAG_P_SOURCE) != NULL) {
		if (ttlv_get_bytes(cp, KMIP_TAG_P_SOURCE, &p, &n) == -1 ||
		    op->padding != HSM_PAD_OAEP) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "P Source "
			    "is a Byte String, for OAEP");
			return (-1);
		}
		label->iov_base = (void *)(uintptr_t)p;
		label->iov_len = n;
		op->len_label = n;
	}
	return (0);
}

/*
 * Cryptographic Parameters into op: those of the request or, when it
 * gives none, the key's own (KMIP: the key's SHALL be used then), and our
 * defaults where both are silent.  A mode or padding we cannot do is
 * refused, never replaced by another.  label: the OAEP label, if any.
 */
static int
cop_params(struct kreq *r, const struct ttlv *req, const struct ttlv *a,
    struct hsm_op *op, struct iovec *label)
{
	const struct ttlv	*cp;
	uint32_t		 v;
	int32_t			 tl;
	int			 fromkey = 0;

	switch (op->kind) {
	case HSM_KEY_RSA:
		op->padding = op->op == HSM_OP_ENCRYPT ||
		    op->op == HSM_OP_DECRYPT ? HSM_PAD_OAEP : HSM_PAD_PKCS1V15;
		op->hash = HSM_HASH_SHA256;
		break;
	case HSM_KEY_EC_P256:
	case HSM_KEY_EC_P384:
	case HSM_KEY_EC_P521:
		op->hash = HSM_HASH_SHA256;
		break;
	case HSM_KEY_AES:
		op->tag_len = 16;
		break;
	default:
		break;
	}
	label->iov_base = NULL;
	label->iov_len = 0;
	if ((cp = ttlv_find(req, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS)) == NULL) {
		if ((cp = attr_get(a, "Cryptographic Parameters", 0)) == NULL)
			return (0);
		fromkey = 1;
	}
	if (cp->type != TTLV_STRUCTURE) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Cryptographic "
		    "Parameters is not a structure");
		return (-1);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_HASHING_ALGORITHM, &v) == 0 &&
	    (op->hash = hsm_hash(v)) == 0xffffffff) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "hashing algorithm not "
		    "supported: SHA-256, SHA-384, SHA-512 (SHA-1 for OAEP)");
		return (-1);
	}
	if (ttlv_get_enum(cp, KMIP_TAG_PADDING_METHOD, &v) == 0) {
		if (op->kind == HSM_KEY_RSA && v == KMIP_PAD_PSS)
			op->padding = HSM_PAD_PSS;
		else if (op->kind == HSM_KEY_RSA && v == KMIP_PAD_PKCS1_V15)
			op->padding = HSM_PAD_PKCS1V15;
		else if (op->kind == HSM_KEY_RSA && v == KMIP_PAD_OAEP)
			op->padding = HSM_PAD_OAEP;
		else if (op->kind == HSM_KEY_RSA || v != KMIP_PAD_NONE) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "padding method not supported with this key");
			return (-1);
		}
	}
	if (ttlv_get_enum(cp, KMIP_TAG_BLOCK_CIPHER_MODE, &v) == 0 &&
	    (op->kind != HSM_KEY_AES || v != KMIP_MODE_GCM)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "block cipher mode "
		    "not supported: AES keys use GCM");
		return (-1);
	}
	if (ttlv_get_integer(cp, KMIP_TAG_TAG_LENGTH, &tl) == 0) {
		if (tl < 12 || tl > 16) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "GCM tag "
			    "length is 12 to 16 bytes");
			return (-1);
		}
		op->tag_len = tl;
	}
	if (ttlv_get_enum(cp, KMIP_TAG_DIGITAL_SIGNATURE_ALGORITHM, &v) == 0) {
		if (v == KMIP_DSA_RSASSA_PSS)
			op->padding = HSM_PAD_PSS;
		else if (v == KMIP_DSA_SHA256_WITH_RSA_ENCRYPTION ||
		    v == KMIP_DSA_ECDSA_WITH_SHA256)
			op->hash = HSM_HASH_SHA256;
		else if (v == KMIP_DSA_SHA384_WITH_RSA_ENCRYPTION ||
		    v == KMIP_DSA_ECDSA_WITH_SHA384)
			op->hash = HSM_HASH_SHA384;
		else if (v == KMIP_DSA_SHA512_WITH_RSA_ENCRYPTION ||
		    v == KMIP_DSA_ECDSA_WITH_SHA512)
			op->hash = HSM_HASH_SHA512;
	}
	if (op->kind == HSM_KEY_ED25519)
		op->hash = HSM_HASH_NONE;
	return (cop_params14(r, cp, fromkey, op, label));
}

/* An optional byte string of the request, as one iovec. */
static void
cop_part(const struct ttlv *req, uint32_t tag, struct iovec *iov,
    uint32_t *len)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;

	(void)ttlv_get_bytes(req, tag, &p, &n);
	iov->iov_base = (void *)(uintptr_t)p;
	iov->iov_len = n;
	*len = n;
}

/*
 * The key's usage period (KMIP 1.x 3.25, 3.26): it protects (signs,
 * encrypts, MACs) until its Protect Stop Date and processes (verifies,
 * decrypts) from its Process Start Date on.  Both are the client's to
 * set; without them the lifecycle state alone decides.
 */
static int
cop_dates(struct kreq *r, const struct cop *c, const struct ttlv *a)
{
	int64_t	 now = time(NULL), when;
	int	 process;

	process = c->hsm_op == HSM_OP_VERIFY || c->hsm_op == HSM_OP_DECRYPT;
	if (!process && attr_get_datetime(a, "Protect Stop Date",
	    &when) == 0 && now > when) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "key %s is past "
		    "its Protect Stop Date: it may no longer do %s",
		    r->obj.id, kmip_op_name(r->op));
		return (-1);
	}
	if (process && attr_get_datetime(a, "Process Start Date",
	    &when) == 0 && now < when) {
		kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "key %s is before "
		    "its Process Start Date: it may not do %s yet",
		    r->obj.id, kmip_op_name(r->op));
		return (-1);
	}
	return (0);
}

static enum kop_ret
op_crypto(struct kreq *r, const struct ttlv *req)
{
	const struct cop	*c = NULL;
	const struct ttlv	*d, *dd;
	struct hsm_op		 op;
	struct iovec		 iov[6];
	struct ttlv		*a;
	char			 id[KS_ID_MAX];
	size_t			 i;
	uint32_t		 mask = 0;
	int32_t			 m;
	int			 ok_state;
	enum kop_ret		 ret = KOP_DONE;

	for (i = 0; i < sizeof(cops) / sizeof(cops[0]); i++)
		if (cops[i].kmip_op == r->op)
			c = &cops[i];
	if (c == NULL)
		fatalx("%s: operation %u", __func__, r->op);
	if (kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	memset(&op, 0, sizeof(op));
	(void)strlcpy(op.id, id, sizeof(op.id));
	op.op = c->hsm_op;
	a = attrs_load(&r->obj);
	if (attr_get_integer(a, "Cryptographic Usage Mask", &m) == 0)
		mask = m;
	if (kop_key_kind(r, a, &op.kind) == -1)
		goto done;
	if (!cop_type_ok(c, r->obj.type, op.kind)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "object %s cannot "
		    "do %s", id, kmip_op_name(r->op));
		goto done;
	}
	/*
	 * Only Active keys sign, encrypt or MAC.  Verify may also use a
	 * public key that was never activated (Krill and Cascade activate
	 * only the private half), Verify and Decrypt a retired key.
	 */
	ok_state = r->obj.state == KMIP_STATE_ACTIVE ||
	    (c->hsm_op == HSM_OP_VERIFY &&
	    r->obj.state == KMIP_STATE_PRE_ACTIVE) ||
	    (c->after_active && (r->obj.state == KMIP_STATE_DEACTIVATED ||
	    r->obj.state == KMIP_STATE_COMPROMISED));
	if (!ok_state) {
		kreq_fail(r, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "key %s "
		    "is not active", id);
		goto done;
	}
	if (cop_dates(r, c, a) == -1)
		goto done;
	if (mask != 0 && !(mask & c->usage)) {
		kreq_fail(r, KMIP_REASON_INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK,
		    "key %s may not do %s (Cryptographic Usage Mask)", id,
		    kmip_op_name(r->op));
		goto done;
	}
	/*
	 * Data, or for Sign and Signature Verify from KMIP 1.4 on the
	 * Digested Data the client made (the hash of the parameters), as a
	 * CA's Sign(digest) hands over: the signer signs it as it is.
	 */
	d = ttlv_find(req, KMIP_TAG_DATA);
	dd = ttlv_find(req, KMIP_TAG_DIGESTED_DATA);
	if (dd != NULL && (!kreq_version_at_least(r, 1, 4) ||
	    (op.op != HSM_OP_SIGN && op.op != HSM_OP_VERIFY) || d != NULL ||
	    dd->type != TTLV_BYTE_STRING)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Digested Data: a "
		    "Byte String instead of Data, in Sign and Signature "
		    "Verify of KMIP 1.4 and later");
		goto done;
	}
	if (dd != NULL)
		op.flags |= HSM_OPF_PREHASHED;
	else if (d == NULL || d->type != TTLV_BYTE_STRING) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Data");
		goto done;
	}
	if (cop_params(r, req, a, &op, &iov[5]) == -1)
		goto done;
	iov[0].iov_base = r->obj.material;
	iov[0].iov_len = op.len_key = r->obj.material_len;
	cop_part(req, dd != NULL ? KMIP_TAG_DIGESTED_DATA : KMIP_TAG_DATA,
	    &iov[1], &op.len_data);
	cop_part(req, KMIP_TAG_IV_COUNTER_NONCE, &iov[2], &op.len_iv);
	cop_part(req, KMIP_TAG_AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
	    &iov[3], &op.len_aad);
	cop_part(req, op.op == HSM_OP_VERIFY ? KMIP_TAG_SIGNATURE_DATA :
	    KMIP_TAG_AUTHENTICATED_ENCRYPTION_TAG, &iov[4], &op.len_sig);
	if (op.op == HSM_OP_VERIFY && op.len_sig == 0) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Signature Data");
		goto done;
	}
	if (op.op == HSM_OP_DECRYPT && op.kind == HSM_KEY_AES &&
	    (op.len_iv == 0 || op.len_sig == 0)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "AES-GCM decryption "
		    "needs the IV/Counter/Nonce and the Authenticated "
		    "Encryption Tag");
		goto done;
	}
	if (kreq_signer_send(r, r->obj.signer, IMSG_HSM_OP, &op, sizeof(op),
	    iov, 6, crypto_done) == 0)
		ret = KOP_WAIT;
 done:
	ttlv_free(a);
	return (ret);
}

static enum kop_ret
crypto_done(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	if (kop_signer_failed(r, res) == -1)
		return (KOP_DONE);
	kop_payload_id(r, r->obj.id);
	switch (r->op) {
	case KMIP_OP_SIGN:
		ttlv_add_bytes(r->payload, KMIP_TAG_SIGNATURE_DATA, o1,
		    res->len_out1);
		break;
	case KMIP_OP_SIGNATURE_VERIFY:
		ttlv_add_enum(r->payload, KMIP_TAG_VALIDITY_INDICATOR,
		    res->valid ? KMIP_VALIDITY_VALID : KMIP_VALIDITY_INVALID);
		break;
	case KMIP_OP_ENCRYPT:
		ttlv_add_bytes(r->payload, KMIP_TAG_DATA, o1, res->len_out1);
		/* An IV goes back only if we made it, not the client. */
		if (res->len_out2 > 0 && ttlv_find(ttlv_find(r->cur,
		    KMIP_TAG_REQUEST_PAYLOAD), KMIP_TAG_IV_COUNTER_NONCE) ==
		    NULL)
			ttlv_add_bytes(r->payload, KMIP_TAG_IV_COUNTER_NONCE,
			    o2, res->len_out2);
		if (res->len_out3 > 0)
			ttlv_add_bytes(r->payload,
			    KMIP_TAG_AUTHENTICATED_ENCRYPTION_TAG, o3,
			    res->len_out3);
		break;
	case KMIP_OP_DECRYPT:
		ttlv_add_bytes(r->payload, KMIP_TAG_DATA, o1, res->len_out1);
		break;
	case KMIP_OP_MAC:
		ttlv_add_bytes(r->payload, KMIP_TAG_MAC_DATA, o1,
		    res->len_out1);
		break;
	}
	return (KOP_DONE);
}
