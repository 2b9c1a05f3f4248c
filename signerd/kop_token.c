/*
 * Keys in a token: which objects are, CKA_LABEL following the KMIP Name,
 * adoption of keys already in a token and the hsm::<slot>:: ids.
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

static int		 kop_ref_adopted(const uint8_t *, size_t);
static enum kop_ret	 label_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static void		 adopt_label(const struct hsm_found *, char *, size_t);
static const char	*kop_slot_signer(struct kreq *, unsigned long long);
static enum kop_ret	 adopt_send(struct kreq *, const char *, uint32_t,
			    const uint8_t *, size_t, const char *);
static int		 adopt_seen(const struct ks_object *, void *);
static enum kop_ret	 adopt_done(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);
static int		 adopt_object(struct kreq *, struct ks_object *,
			    uint32_t, const struct hsm_found *, const char *,
			    const char *, const uint8_t *, size_t);

/* --- Keys in a token ------------------------------------------------ */

/*
 * Whether o, with attributes a, is a key with objects in a pkcs11
 * signer's token: a private or symmetric key of such a signer that still
 * has its material (the reference to them), or the public half of a pair
 * made there.  A public key is known by its value alone, so one that was
 * registered (no Link to a private key: only the server links) must not
 * reach the token's public object of the same key.
 */
int
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
int
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
int
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
int
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
int
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
int
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
enum kop_ret
kop_locate_hsm(struct kreq *r, const char *id)
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
