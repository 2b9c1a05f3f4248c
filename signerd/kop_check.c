/*
 * Check (KMIP 1.x 4.9): may the client use an object as it says it
 * will?  Usage Limits Count, Cryptographic Usage Mask and Lease Time
 * are held against the object's own.  Nothing changes: a Check grants
 * no allocation and no lease.
 */
#include <sys/param.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "engine.h"
#include "kmip.h"
#include "kop.h"
#include "kreq.h"
#include "log.h"

/* What the request asks; a field it does not give is not checked. */
struct check_req {
	const struct ttlv	*count;		/* Usage Limits Count */
	const struct ttlv	*mask;		/* Cryptographic Usage Mask */
	const struct ttlv	*lease;		/* Lease Time */
};

static int	check_parse(struct kreq *, const struct ttlv *,
		    struct check_req *);
static int	check_count(const struct ttlv *, int64_t);

/*
 * The request's fields, each at most once and of its type; a count
 * below zero asks for nothing a server could check.
 */
static int
check_parse(struct kreq *r, const struct ttlv *req, struct check_req *c)
{
	c->count = ttlv_find(req, KMIP_TAG_USAGE_LIMITS_COUNT);
	c->mask = ttlv_find(req, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK);
	c->lease = ttlv_find(req, KMIP_TAG_LEASE_TIME);
	if (ttlv_count(req, KMIP_TAG_USAGE_LIMITS_COUNT) > 1 ||
	    ttlv_count(req, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK) > 1 ||
	    ttlv_count(req, KMIP_TAG_LEASE_TIME) > 1) {
		kreq_fail(r, KMIP_REASON_INVALID_MESSAGE, "a Check field is "
		    "given more than once");
		return (-1);
	}
	if (c->count != NULL && (c->count->type != TTLV_LONG_INTEGER ||
	    c->count->v.i64 < 0)) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Usage Limits Count "
		    "is a Long Integer of at least 0");
		return (-1);
	}
	if (c->mask != NULL && c->mask->type != TTLV_INTEGER) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Cryptographic Usage "
		    "Mask is an Integer");
		return (-1);
	}
	if (c->lease != NULL && c->lease->type != TTLV_INTERVAL) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Lease Time is an "
		    "Interval");
		return (-1);
	}
	return (0);
}

/*
 * Is there room for want more uses under the Usage Limits ul (NULL: the
 * object has none)?  The Count left is the Total until the first use
 * (kop_crypto.c's cop_usage); one that does not read allows nothing.
 */
static int
check_count(const struct ttlv *ul, int64_t want)
{
	int64_t	 total, count;

	if (ul == NULL)
		return (1);
	if (ttlv_get_long(ul, KMIP_TAG_USAGE_LIMITS_TOTAL, &total) == -1)
		return (0);
	if (ttlv_get_long(ul, KMIP_TAG_USAGE_LIMITS_COUNT, &count) == -1)
		count = total;
	return (want <= count);
}

/*
 * The answer names the object; if a check fails, it fails Permission
 * Denied (the 1.x error table of Check) and its payload carries, beside
 * the Unique Identifier, the fields that failed (and only those), so
 * that the client knows how to go on; the ID Placeholder is emptied,
 * so that a Get batched after it does not take the object.
 */
enum kop_ret
op_check(struct kreq *r, const struct ttlv *req)
{
	struct check_req	 c;
	const struct ttlv	*l;
	struct ttlv		*a;
	char			 id[KS_ID_MAX];
	int32_t			 mask = 0;
	int			 bad_count = 0, bad_mask = 0, bad_lease = 0;

	if (check_parse(r, req, &c) == -1 ||
	    kop_load(r, req, id, sizeof(id)) == -1)
		return (KOP_DONE);
	if (r->obj.state == KMIP_STATE_DESTROYED ||
	    r->obj.state == KMIP_STATE_DESTROYED_COMPROMISED) {
		kreq_fail(r, KMIP_REASON_OBJECT_DESTROYED, "object %s was "
		    "destroyed", id);
		return (KOP_DONE);
	}
	a = attrs_load(&r->obj);
	if (c.count != NULL)
		bad_count = !check_count(attr_get(a, "Usage Limits", 0),
		    c.count->v.i64);
	/* An object without a mask may be used for nothing. */
	if (c.mask != NULL) {
		(void)attr_get_integer(a, "Cryptographic Usage Mask", &mask);
		bad_mask = (c.mask->v.i32 & ~mask) != 0;
	}
	/* Without a Lease Time, any lease is granted. */
	if (c.lease != NULL && (l = attr_get(a, "Lease Time", 0)) != NULL)
		bad_lease = l->type != TTLV_INTERVAL ||
		    c.lease->v.u32 > l->v.u32;
	ttlv_free(a);

	kop_payload_id(r, id);
	if (!bad_count && !bad_mask && !bad_lease)
		return (KOP_DONE);
	if (bad_count)
		ttlv_add_long(r->payload, KMIP_TAG_USAGE_LIMITS_COUNT,
		    c.count->v.i64);
	if (bad_mask)
		ttlv_add_integer(r->payload, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK,
		    c.mask->v.i32);
	if (bad_lease)
		ttlv_add_interval(r->payload, KMIP_TAG_LEASE_TIME,
		    c.lease->v.u32);
	r->placeholder[0] = '\0';
	kreq_fail(r, KMIP_REASON_PERMISSION_DENIED, "object %s may not be "
	    "used so:%s%s%s", id, bad_count ? " Usage Limits Count" : "",
	    bad_mask ? " Cryptographic Usage Mask" : "",
	    bad_lease ? " Lease Time" : "");
	return (KOP_DONE);
}
