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

#define LOCATE_MAX		1024
/* Objects the Locate items of one request may look at, together. */
#define LOCATE_EXAMINE_MAX	(4 * LOCATE_MAX)

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

enum kop_ret
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
		return (kop_locate_hsm(r, one));
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
