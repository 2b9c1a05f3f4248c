/*
 * The lifecycle: Activate, Revoke and Destroy.
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

static enum kop_ret	 destroy_done(struct kreq *,
			    const struct hsm_result *, const uint8_t *,
			    const uint8_t *, const uint8_t *);
static void		 destroy_commit(struct kreq *);

enum kop_ret
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

enum kop_ret
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

enum kop_ret
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
