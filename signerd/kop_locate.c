/*
 * Locate: the keystore's candidates, filtered by every attribute of the
 * request, bounded in what one request may look at and answer.
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

#define LOCATE_MAX		1024	/* Maximum Items, at most */
/* Candidates one step looks at; then other clients' turn. */
#define LOCATE_STEP		256
/* Candidates the Locate items of one request may look at, together. */
#define LOCATE_EXAMINE_MAX	(1 << 16)

/* A date attribute of a Locate request, as locate_range saw it. */
struct locate_date {
	int		 range;
	int64_t		 lo, hi;
};

/*
 * Where a Locate's candidates come from: the client's own objects, then
 * what its Locate grants show it (policy_grants): all of an owner's, all
 * of a signer's, single objects, in that order.  A candidate is answered
 * by the first source that shows it, never twice.
 */
struct locate_src {
	int		 scope;		/* 0: own, else enum grant_scope */
	char		*target;
};

/* A Locate between its steps (r->opstate). */
struct locate {
	const struct ttlv	*req;		/* the payload, in r->m */
	struct ks_filter	 f;
	char			 self[KS_OWNER_MAX];
	struct locate_src	*src;
	size_t			 nsrc, cur;	/* cur: source running */
	size_t			 nowners, nsigners;
	struct locate_date	*lr;		/* one per request attribute */
	int			 live;		/* leave destroyed out */
	int32_t			 max, offset;
	size_t			 found, located, room;
	char			 one[KS_ID_MAX];
};

static void		 locate_free(void *);
static void		 locate_grant(int, const char *, uint64_t, void *);
static int		 locate_src_cmp(const void *, const void *);
static int		 locate_shown(const struct locate *, int, size_t,
			    const struct ks_found *);
static int		 locate_next_src(struct locate *);
static size_t		 locate_objects(struct locate *, struct ks_found *,
			    size_t);
static int		 locate_columns(const char *, const struct ttlv *,
			    const struct ks_found *);
static int		 locate_driver(struct kreq *, struct locate *);
static int		 locate_check(struct locate *, const struct ks_found *);
static enum kop_ret	 locate_step(struct kreq *, const struct hsm_result *,
			    const uint8_t *, const uint8_t *, const uint8_t *);

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

static void
locate_free(void *arg)
{
	struct locate	*l = arg;
	size_t		 i;

	if (l != NULL) {
		free(l->lr);
		for (i = 0; i < l->nsrc; i++)
			free(l->src[i].target);
		free(l->src);
	}
	free(l);
}

/* A Locate grant of the client: one more source (policy_grants). */
static void
locate_grant(int scope, const char *target, uint64_t ops, void *arg)
{
	struct locate		*l = arg;
	struct locate_src	*s;

	(void)ops;
	/* Its own are the first source already. */
	if (scope == GRANT_OWNER && strcmp(target, l->self) == 0)
		return;
	if ((s = reallocarray(l->src, l->nsrc + 1, sizeof(*s))) == NULL)
		fatal(NULL);
	l->src = s;
	s = &l->src[l->nsrc++];
	s->scope = scope;
	if ((s->target = strdup(target)) == NULL)
		fatal(NULL);
	if (scope == GRANT_OWNER)
		l->nowners++;
	else if (scope == GRANT_SIGNER)
		l->nsigners++;
}

/* Own, owners, signers, objects. */
static int
locate_src_cmp(const void *a, const void *b)
{
	static const int	 rank[] = { 0, 3, 1, 2 };
	const struct locate_src	*x = a, *y = b;

	if (rank[x->scope] != rank[y->scope])
		return (rank[x->scope] < rank[y->scope] ? -1 : 1);
	return (strcmp(x->target, y->target));
}

/*
 * Was c, found by a source of scope, shown by one of the sources before
 * it, src[1] to src[upto - 1]?  Owners come before signers, signers
 * before single objects.
 */
static int
locate_shown(const struct locate *l, int scope, size_t upto,
    const struct ks_found *c)
{
	size_t	 i;

	if (scope == 0 || scope == GRANT_OWNER)
		return (0);
	if (strcmp(c->owner, l->self) == 0)
		return (1);
	for (i = 1; i < upto && i < l->nsrc; i++) {
		if (l->src[i].scope == GRANT_OWNER &&
		    strcmp(c->owner, l->src[i].target) == 0)
			return (1);
		if (l->src[i].scope == GRANT_SIGNER &&
		    scope == GRANT_OBJECT &&
		    strcmp(c->signer, l->src[i].target) == 0)
			return (1);
	}
	return (0);
}

/* On to the next source, its cursor at the start; 0 if none is left. */
static int
locate_next_src(struct locate *l)
{
	const struct locate_src	*s;

	/* Single objects are the last sources; locate_objects moved on. */
	if (l->cur >= l->nsrc || l->src[l->cur].scope == GRANT_OBJECT ||
	    ++l->cur >= l->nsrc)
		return (l->cur < l->nsrc);
	s = &l->src[l->cur];
	l->f.after_oid = 0;
	l->f.after_value = 0;
	l->f.started = 0;
	/* An owner's objects by the plan chosen for the client's own. */
	l->f.owner = s->target;
	if (s->scope == GRANT_SIGNER)
		l->f.by = KS_BY_SIGNER;
	return (1);
}

/*
 * Objects granted one by one, as candidates: at most max of them from
 * the current source on, read by id (the keystore's cache).
 */
static size_t
locate_objects(struct locate *l, struct ks_found *out, size_t max)
{
	struct ks_object	 o;
	size_t			 n = 0;

	for (; n < max && l->cur < l->nsrc; l->cur++) {
		memset(&o, 0, sizeof(o));
		if (ks_get(engine->ks, l->src[l->cur].target, &o) != 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		(void)strlcpy(out[n].id, o.id, sizeof(out[n].id));
		out[n].type = o.type;
		out[n].state = o.state;
		out[n].algorithm = o.algorithm;
		(void)strlcpy(out[n].owner, o.owner, sizeof(out[n].owner));
		(void)strlcpy(out[n].signer, o.signer,
		    sizeof(out[n].signer));
		ks_object_clear(&o);
		n++;
	}
	return (n);
}

/*
 * For the attributes the keystore keeps as columns (their value v in
 * the request is an enumeration): 1 if candidate c has that value, -1
 * if not.  0 for the other attributes.
 */
static int
locate_columns(const char *name, const struct ttlv *v,
    const struct ks_found *c)
{
	if (strcmp(name, "Object Type") == 0)
		return (v->v.u32 == c->type ? 1 : -1);
	if (strcmp(name, "State") == 0)
		return (v->v.u32 == c->state ? 1 : -1);
	if (strcmp(name, "Cryptographic Algorithm") == 0)
		return (v->v.u32 == c->algorithm ? 1 : -1);
	return (0);
}

/*
 * Choose the index the candidates come from: the most selective one
 * the request allows.  A Name or an Object Group, then a single date,
 * then the Object Type, then a date range, else all of the owner's.
 * -1 (and r failed) on a malformed attribute.
 */
static int
locate_driver(struct kreq *r, struct locate *l)
{
	const struct ttlv	*t, *v, *nv;
	char			 name[ATTR_NAME_MAX];
	int			 rank = 0, best = 0, tag;
	size_t			 j;

	l->f.owner = r->hdr.identity;
	l->f.by = KS_BY_OWNER;
	l->live = 1;
	for (t = ttlv_find(l->req, KMIP_TAG_ATTRIBUTE), j = 0; t != NULL;
	    t = ttlv_find_next(l->req, t, KMIP_TAG_ATTRIBUTE), j++) {
		(void)attr_name(t, name, sizeof(name));
		v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
		tag = kmip_attr_tag(name);
		if (strcmp(name, "Object Type") == 0 ||
		    strcmp(name, "State") == 0 ||
		    strcmp(name, "Cryptographic Algorithm") == 0) {
			if (v->type != TTLV_ENUMERATION) {
				kreq_fail(r, KMIP_REASON_INVALID_FIELD,
				    "\"%s\" is an Enumeration", name);
				return (-1);
			}
			/*
			 * Destroyed objects are found only when asked for
			 * by State: a client that Locates by Name and takes
			 * the first hit must not get a dead key (KMIP 2.0
			 * says so outright; 1.x clients expect it).
			 */
			if (strcmp(name, "State") == 0)
				l->live = 0;
			if (strcmp(name, "Object Type") == 0)
				rank = 4;
			else
				rank = 0;
		} else {
			if (tag == KMIP_TAG_NAME && v->type == TTLV_STRUCTURE &&
			    (nv = ttlv_find(v, KMIP_TAG_NAME_VALUE)) != NULL &&
			    nv->type == TTLV_TEXT_STRING)
				rank = 7;
			else if (tag == KMIP_TAG_OBJECT_GROUP &&
			    v->type == TTLV_TEXT_STRING)
				rank = 6;
			else if (v->type == TTLV_DATE_TIME &&
			    attrs_date_indexed(tag) && l->lr[j].range == 0)
				rank = 5;
			else if (v->type == TTLV_DATE_TIME &&
			    attrs_date_indexed(tag) && l->lr[j].range == 2)
				rank = 3;
			else
				rank = 0;
		}
		if (rank <= best)
			continue;
		best = rank;
		memset(&l->f.value, 0, sizeof(l->f.value));
		l->f.value.attr = tag;
		switch (rank) {
		case 7:
			nv = ttlv_find(v, KMIP_TAG_NAME_VALUE);
			l->f.by = KS_BY_VALUE;
			l->f.value.text = 1;
			l->f.value.s = (const char *)nv->v.s.data;
			l->f.value.len = nv->v.s.len;
			break;
		case 6:
			l->f.by = KS_BY_VALUE;
			l->f.value.text = 1;
			l->f.value.s = (const char *)v->v.s.data;
			l->f.value.len = v->v.s.len;
			break;
		case 5:
			l->f.by = KS_BY_VALUE;
			l->f.value.i = v->v.i64;
			break;
		case 4:
			l->f.by = KS_BY_TYPE;
			l->f.type = v->v.u32;
			break;
		case 3:
			l->f.by = KS_BY_RANGE;
			l->f.value.i = l->lr[j].lo;
			l->f.hi = l->lr[j].hi;
			break;
		}
	}
	return (0);
}

/*
 * 1 if candidate c matches every attribute of the request, 0 if not.
 * The columns are checked first, without a load; an object whose
 * attributes do not load is left out (it is logged: signerctl show
 * damaged), as the operations that name it refuse it.
 */
static int
locate_check(struct locate *l, const struct ks_found *c)
{
	const struct ttlv	*t, *v, *a;
	struct ks_object	 o;
	struct ttlv		*own;
	char			 name[ATTR_NAME_MAX], why[128];
	size_t			 j;
	int			 ok = 1;

	if (l->live && (c->state == KMIP_STATE_DESTROYED ||
	    c->state == KMIP_STATE_DESTROYED_COMPROMISED))
		return (0);
	for (t = ttlv_find(l->req, KMIP_TAG_ATTRIBUTE); t != NULL;
	    t = ttlv_find_next(l->req, t, KMIP_TAG_ATTRIBUTE)) {
		(void)attr_name(t, name, sizeof(name));
		v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
		if (locate_columns(name, v, c) == -1)
			return (0);
	}
	/*
	 * Decoded by the cache if the object is there; else decoded here
	 * and let go, so that a Locate over many objects leaves the cache
	 * to the keys in use.  A damaged object is no match (signerctl
	 * show damaged names it).
	 */
	if (ks_peek(engine->ks, c->id, &o) != 0)
		return (0);
	a = attrs_view(engine->ks, &o, &own, why, sizeof(why));
	ks_object_clear(&o);
	if (a == NULL)
		return (0);
	for (t = ttlv_find(l->req, KMIP_TAG_ATTRIBUTE), j = 0;
	    ok && t != NULL;
	    t = ttlv_find_next(l->req, t, KMIP_TAG_ATTRIBUTE), j++) {
		(void)attr_name(t, name, sizeof(name));
		v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE);
		if (locate_columns(name, v, c) != 0)
			continue;
		if (l->lr[j].range == 2)
			ok = locate_match_range(a, name, l->lr[j].lo,
			    l->lr[j].hi);
		else if (l->lr[j].range == 0)
			ok = locate_match(a, name, v);
	}
	ttlv_free(own);
	return (ok);
}

/*
 * One step of a Locate: at most LOCATE_STEP candidates from the chosen
 * index, each checked against every attribute of the request.  Then it
 * is done, or it yields and goes on at a later turn of the event loop.
 */
static enum kop_ret
locate_step(struct kreq *r, const struct hsm_result *res, const uint8_t *o1,
    const uint8_t *o2, const uint8_t *o3)
{
	static struct ks_found	 cand[LOCATE_STEP];
	struct locate		*l = r->opstate;
	size_t			 n, i, want, need, upto;
	int			 more, scope;

	(void)res;
	(void)o1;
	(void)o2;
	(void)o3;
	if (r->examined >= LOCATE_EXAMINE_MAX) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "one request may "
		    "look at %d objects; Locate by Name, Object Group or "
		    "Object Type, or send fewer Locate items",
		    LOCATE_EXAMINE_MAX);
		return (KOP_DONE);
	}
	want = MIN(LOCATE_STEP, LOCATE_EXAMINE_MAX - r->examined);
	/* locate_objects moves l->cur on, past the objects it read. */
	scope = l->src[l->cur].scope;
	upto = l->cur;
	if (scope == GRANT_OBJECT) {
		n = locate_objects(l, cand, want);
		more = l->cur < l->nsrc;
	} else if (ks_locate(engine->ks, &l->f, cand, want, &n) == -1) {
		kreq_fail(r, KMIP_REASON_GENERAL_FAILURE, "keystore: %s",
		    ks_error(engine->ks));
		return (KOP_DONE);
	} else
		more = n == want;
	r->examined += n;
	for (i = 0; i < n; i++) {
		if (locate_shown(l, scope, upto, &cand[i]) ||
		    !locate_check(l, &cand[i]) ||
		    l->found++ < (size_t)l->offset)
			continue;
		need = TTLV_HEADER_LEN +
		    ((strlen(cand[i].id) + 7) & ~(size_t)7);
		if (need > l->room) {
			kreq_fail(r, KMIP_REASON_RESPONSE_TOO_LARGE, "the "
			    "objects found do not fit in a response of %zu "
			    "bytes; ask for fewer with Maximum Items",
			    r->budget);
			return (KOP_DONE);
		}
		l->room -= need;
		kop_payload_id(r, cand[i].id);
		if (++l->located == 1)
			(void)strlcpy(l->one, cand[i].id, sizeof(l->one));
		if (l->located >= (size_t)l->max)
			break;
	}
	if (i == n && (more || locate_next_src(l)))
		return (kreq_yield(r, locate_step));
	/* KMIP 1.x: exactly one found becomes the ID Placeholder. */
	if (l->located == 1)
		(void)strlcpy(r->placeholder, l->one, sizeof(r->placeholder));
	return (KOP_DONE);
}

enum kop_ret
op_locate(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*t, *v;
	struct locate		*l;
	char			 name[ATTR_NAME_MAX];
	char			 one[KS_ID_MAX];
	size_t			 j, nattrs = 0;
	int32_t			 max = LOCATE_MAX, offset = 0;

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
		return (kop_locate_hsm(r, one));
	}
	if (ttlv_get_integer(req, KMIP_TAG_MAXIMUM_ITEMS, &max) == 0 &&
	    (max < 1 || max > LOCATE_MAX))
		max = LOCATE_MAX;
	if (ttlv_get_integer(req, KMIP_TAG_OFFSET_ITEMS, &offset) == 0 &&
	    offset < 0)
		offset = 0;
	/*
	 * The date ranges are worked out once here, not again per object,
	 * and pairing their instances takes time square in the number of
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
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->lr = calloc(MAX(nattrs, 1), sizeof(*l->lr))) == NULL)
		fatal(NULL);
	r->opstate = l;
	r->opstate_free = locate_free;
	l->req = req;
	l->max = max;
	l->offset = offset;
	l->room = kreq_room(r);
	for (t = ttlv_find(req, KMIP_TAG_ATTRIBUTE), j = 0; t != NULL;
	    t = ttlv_find_next(req, t, KMIP_TAG_ATTRIBUTE), j++) {
		if (attr_name(t, name, sizeof(name)) == -1 ||
		    (v = ttlv_find(t, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD,
			    "malformed Attribute");
			return (KOP_DONE);
		}
		if (v->type == TTLV_DATE_TIME && (l->lr[j].range =
		    locate_range(req, t, name, &l->lr[j].lo,
		    &l->lr[j].hi)) == -1) {
			kreq_fail(r, KMIP_REASON_INVALID_FIELD, "\"%s\" "
			    "given more than twice or not twice as a date: "
			    "two values select a range", name);
			return (KOP_DONE);
		}
	}
	if (locate_driver(r, l) == -1)
		return (KOP_DONE);
	/*
	 * The client's own objects, then its Locate grants.  Without one
	 * (policy_grants_any) nothing more is looked for.
	 */
	(void)strlcpy(l->self, r->hdr.identity, sizeof(l->self));
	if ((l->src = calloc(1, sizeof(*l->src))) == NULL)
		fatal(NULL);
	l->nsrc = 1;
	if (policy_grants_any(l->self)) {
		(void)policy_grants(l->self, KMIP_OP_LOCATE, locate_grant, l);
		qsort(l->src + 1, l->nsrc - 1, sizeof(*l->src),
		    locate_src_cmp);
	}
	return (locate_step(r, NULL, NULL, NULL, NULL));
}
