/*
 * ksfill: fill a keystore with objects for `make bench` (BENCH_PARTS=
 * scale), the daemon stopped.  Adds Active Secret Data objects owned by
 * OWNER until the keystore holds COUNT objects, each with a Name
 * "fill-<n>", an Object Group "fill-<n mod 100>" and the dates a new
 * object gets, written as the engine writes them (attrs_write: the same
 * attributes encoding and index entries), in transactions of 10,000.
 * Stops after SECONDS if not done, and prints how many it holds then
 * and the n of its first new object (the count it began with), so that
 * a name between the two is one it made.
 * Not part of the test suite, never installed.
 *
 *	ksfill KEYSTORE OWNER COUNT SECONDS
 */
#include <sys/types.h>

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrs.h"
#include "keystore.h"
#include "kmip.h"
#include "ttlv.h"

#define FILL_TXN	10000

static int	 fill_count(const struct ks_object *, void *);

/* ks_scan: count the objects. */
static int
fill_count(const struct ks_object *o, void *arg)
{
	long long	*n = arg;

	(*n)++;
	return (0);
}

int
main(int argc, char *argv[])
{
	struct keystore		*ks;
	struct ks_object	 o;
	struct ttlv		*a, *name;
	const char		*errstr;
	char			 err[256], text[64];
	long long		 count, have = 0, added = 0, secs, first;
	time_t			 start, now;
	uint8_t			 secret[32];

	if (argc != 5)
		errx(2, "usage: ksfill keystore owner count seconds");
	count = strtonum(argv[3], 1, LLONG_MAX, &errstr);
	if (errstr != NULL)
		errx(2, "count %s: %s", argv[3], errstr);
	secs = strtonum(argv[4], 1, INT_MAX, &errstr);
	if (errstr != NULL)
		errx(2, "seconds %s: %s", argv[4], errstr);
	if (ks_open(argv[1], &ks, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	if (ks_scan(ks, fill_count, &have) == -1)
		errx(1, "scan: %s", ks_error(ks));
	first = have;
	start = time(NULL);
	memset(secret, 0x5a, sizeof(secret));
	while (have < count) {
		now = time(NULL);
		if (now - start >= secs)
			break;
		if (!ks_in_transaction(ks) && ks_begin(ks) == -1)
			errx(1, "begin: %s", ks_error(ks));
		memset(&o, 0, sizeof(o));
		if (ks_new_id(ks, o.id, sizeof(o.id)) == -1)
			errx(1, "id: %s", ks_error(ks));
		o.type = KMIP_OBJ_SECRET_DATA;
		o.state = KMIP_STATE_ACTIVE;
		(void)strlcpy(o.owner, argv[2], sizeof(o.owner));
		o.created = now;
		/* Not a real secret: nobody uses these objects' material. */
		o.material = secret;
		o.material_len = sizeof(secret);
		a = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
		attr_set_enum(a, "Object Type", o.type);
		attr_set_enum(a, "State", o.state);
		attr_set_datetime(a, "Initial Date", now);
		attr_set_datetime(a, "Activation Date", now);
		attr_set_datetime(a, "Last Change Date", now);
		attr_set_integer(a, "Cryptographic Usage Mask", 0);
		(void)snprintf(text, sizeof(text), "fill-%lld", have);
		name = ttlv_new_structure(KMIP_TAG_ATTRIBUTE_VALUE);
		ttlv_add_string(name, KMIP_TAG_NAME_VALUE, text);
		ttlv_add_enum(name, KMIP_TAG_NAME_TYPE, 1);
		(void)attr_add(a, "Name", name);
		ttlv_free(name);
		(void)snprintf(text, sizeof(text), "fill-%lld", have % 100);
		name = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
		(void)attr_add(a, "Object Group", ttlv_add_string(name,
		    KMIP_TAG_ATTRIBUTE_VALUE, text));
		ttlv_free(name);
		attrs_store(&o, a);
		if (attrs_write(ks, &o, a, 1) == -1)
			errx(1, "insert: %s", ks_error(ks));
		ttlv_free(a);
		free(o.attrs);
		have++;
		if (++added % FILL_TXN == 0 && ks_commit(ks) == -1)
			errx(1, "commit: %s", ks_error(ks));
	}
	if (ks_commit(ks) == -1)
		errx(1, "commit: %s", ks_error(ks));
	ks_close(ks);
	printf("%lld %lld\n", have, first);
	return (0);
}
