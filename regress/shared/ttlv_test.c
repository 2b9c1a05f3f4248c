/*
 * Unit tests for shared/ttlv.c and shared/kmip_names.c: the KMIP 1.4
 * specification's own encoding examples in both directions, round trips
 * of the requests real clients send, every refusal of the decoder, the
 * getters, and a cross-check against PyKMIP's independent encoder.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmip.h"
#include "signerd.h"
#include "ttlv.h"

#define T_TAG		0x420020	/* the spec examples' tag */
#define PYTHON		"/usr/bin/python3"

struct spec_example {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

static const struct ttlv_limits deflim = TTLV_DEFAULT_LIMITS;

#include "../atfsan.h"
static int	 tree_equal(const struct ttlv *, const struct ttlv *);
static uint8_t	*encode_alloc(const struct ttlv *, size_t *);
static void	 check_both(const struct ttlv *, const uint8_t *, size_t);
static void	 check_roundtrip(const uint8_t *, size_t);
static void	 check_refused(const uint8_t *, size_t,
		    const struct ttlv_limits *, const char *);
static struct ttlv *request(uint32_t, int, int);
static struct ttlv *krill_create_key_pair(void);
static struct ttlv *krill_sign(void);
static void	 add_attr_enum(struct ttlv *, const char *, uint32_t);
static void	 add_attr_int(struct ttlv *, const char *, int32_t);
static void	 add_attr_name(struct ttlv *, const char *);
static size_t	 item(uint8_t *, uint32_t, uint8_t, uint32_t, const void *,
		    size_t);
static uint8_t	*read_file(const char *, size_t *);
static char	*dump_string(const struct ttlv *);

/* Independent of ttlv.c: same shape, tags, types and values. */
static int
tree_equal(const struct ttlv *a, const struct ttlv *b)
{
	const struct ttlv	*ca, *cb;

	if (a->tag != b->tag || a->type != b->type)
		return (0);
	switch (a->type) {
	case TTLV_STRUCTURE:
		ca = TAILQ_FIRST(&a->children);
		cb = TAILQ_FIRST(&b->children);
		for (; ca != NULL && cb != NULL; ca = TAILQ_NEXT(ca, entry),
		    cb = TAILQ_NEXT(cb, entry)) {
			if (ca->parent != a || cb->parent != b)
				return (0);
			if (!tree_equal(ca, cb))
				return (0);
		}
		return (ca == NULL && cb == NULL);
	case TTLV_INTEGER:
		return (a->v.i32 == b->v.i32);
	case TTLV_ENUMERATION:
	case TTLV_INTERVAL:
		return (a->v.u32 == b->v.u32);
	case TTLV_LONG_INTEGER:
	case TTLV_DATE_TIME:
	case TTLV_DATE_TIME_EXT:
		return (a->v.i64 == b->v.i64);
	case TTLV_BOOLEAN:
		return (a->v.b == b->v.b);
	case TTLV_BIG_INTEGER:
	case TTLV_TEXT_STRING:
	case TTLV_BYTE_STRING:
		return (a->v.s.len == b->v.s.len &&
		    memcmp(a->v.s.data, b->v.s.data, a->v.s.len) == 0);
	}
	return (0);
}

static uint8_t *
encode_alloc(const struct ttlv *t, size_t *lenp)
{
	uint8_t	*buf;
	size_t	 len;

	len = ttlv_encoded_len(t);
	ATF_REQUIRE(len >= TTLV_HEADER_LEN && len % 8 == 0);
	ATF_REQUIRE((buf = malloc(len)) != NULL);
	/* One byte short must be refused, the exact size accepted. */
	ATF_CHECK(ttlv_encode(t, buf, len - 1) == -1);
	ATF_REQUIRE(ttlv_encode(t, buf, len) == 0);
	*lenp = len;
	return (buf);
}

/* t encodes to exactly these bytes, and these bytes decode to t. */
static void
check_both(const struct ttlv *t, const uint8_t *want, size_t wantlen)
{
	struct ttlv	*d;
	const char	*err = NULL;
	uint8_t		*buf;
	size_t		 len;

	buf = encode_alloc(t, &len);
	ATF_CHECK_EQ(len, wantlen);
	ATF_CHECK(len == wantlen && memcmp(buf, want, len) == 0);
	free(buf);

	ATF_REQUIRE_MSG(ttlv_decode(want, wantlen, &deflim, &d, &err) == 0,
	    "decode: %s", err);
	ATF_CHECK(tree_equal(d, t));
	check_roundtrip(want, wantlen);
	ttlv_free(d);
}

/* Decode, re-encode byte for byte, and the same for a deep copy. */
static void
check_roundtrip(const uint8_t *msg, size_t msglen)
{
	struct ttlv	*d, *c;
	const char	*err = NULL;
	uint8_t		*buf;
	size_t		 len;

	ATF_REQUIRE_MSG(ttlv_decode(msg, msglen, &deflim, &d, &err) == 0,
	    "decode: %s", err);
	buf = encode_alloc(d, &len);
	ATF_CHECK_EQ(len, msglen);
	ATF_CHECK(len == msglen && memcmp(buf, msg, len) == 0);
	free(buf);

	c = ttlv_copy(d);
	ATF_CHECK(c != d && tree_equal(c, d));
	buf = encode_alloc(c, &len);
	ATF_CHECK(len == msglen && memcmp(buf, msg, len) == 0);
	free(buf);
	ttlv_free(c);
	ttlv_free(d);
}

static void
check_refused(const uint8_t *msg, size_t len, const struct ttlv_limits *lim,
    const char *want)
{
	struct ttlv	*d = (struct ttlv *)&d;	/* decode resets it */
	const char	*err = NULL;

	ATF_CHECK_EQ(ttlv_decode(msg, len, lim, &d, &err), -1);
	ATF_CHECK(d == NULL);
	ATF_REQUIRE(err != NULL);
	if (want != NULL)
		ATF_CHECK_STREQ(err, want);
}

/* One raw item: header plus value, value padded with zeros to 8. */
static size_t
item(uint8_t *p, uint32_t tag, uint8_t type, uint32_t len, const void *v,
    size_t vlen)
{
	size_t	 plen = (vlen + 7) & ~(size_t)7;

	p[0] = tag >> 16;
	p[1] = tag >> 8;
	p[2] = tag;
	p[3] = type;
	p[4] = len >> 24;
	p[5] = len >> 16;
	p[6] = len >> 8;
	p[7] = len;
	memset(p + 8, 0, plen);
	if (v != NULL)
		memcpy(p + 8, v, vlen);
	return (8 + plen);
}

/* A Request Message with a header as Krill writes it and one item. */
static struct ttlv *
request(uint32_t op, int minor, int auth)
{
	struct ttlv	*msg, *hdr, *pv, *a, *c, *bi;

	msg = ttlv_new_structure(KMIP_TAG_REQUEST_MESSAGE);
	hdr = ttlv_add_structure(msg, KMIP_TAG_REQUEST_HEADER);
	pv = ttlv_add_structure(hdr, KMIP_TAG_PROTOCOL_VERSION);
	ttlv_add_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	ttlv_add_integer(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR, minor);
	if (auth) {
		a = ttlv_add_structure(hdr, KMIP_TAG_AUTHENTICATION);
		a = ttlv_add_structure(a, KMIP_TAG_CREDENTIAL);
		ttlv_add_enum(a, KMIP_TAG_CREDENTIAL_TYPE,
		    KMIP_CRED_USERNAME_AND_PASSWORD);
		c = ttlv_add_structure(a, KMIP_TAG_CREDENTIAL_VALUE);
		ttlv_add_string(c, KMIP_TAG_USERNAME, "slot0");
		ttlv_add_string(c, KMIP_TAG_PASSWORD, "1234");
	}
	ttlv_add_integer(hdr, KMIP_TAG_BATCH_COUNT, 1);
	bi = ttlv_add_structure(msg, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, op);
	ttlv_add_structure(bi, KMIP_TAG_REQUEST_PAYLOAD);
	return (msg);
}

static void
add_attr_enum(struct ttlv *tmpl, const char *name, uint32_t v)
{
	struct ttlv	*a;

	a = ttlv_add_structure(tmpl, KMIP_TAG_ATTRIBUTE);
	ttlv_add_string(a, KMIP_TAG_ATTRIBUTE_NAME, name);
	ttlv_add_enum(a, KMIP_TAG_ATTRIBUTE_VALUE, v);
}

static void
add_attr_int(struct ttlv *tmpl, const char *name, int32_t v)
{
	struct ttlv	*a;

	a = ttlv_add_structure(tmpl, KMIP_TAG_ATTRIBUTE);
	ttlv_add_string(a, KMIP_TAG_ATTRIBUTE_NAME, name);
	ttlv_add_integer(a, KMIP_TAG_ATTRIBUTE_VALUE, v);
}

static void
add_attr_name(struct ttlv *tmpl, const char *name)
{
	struct ttlv	*a, *v;

	a = ttlv_add_structure(tmpl, KMIP_TAG_ATTRIBUTE);
	ttlv_add_string(a, KMIP_TAG_ATTRIBUTE_NAME, "Name");
	v = ttlv_add_structure(a, KMIP_TAG_ATTRIBUTE_VALUE);
	ttlv_add_string(v, KMIP_TAG_NAME_VALUE, name);
	ttlv_add_enum(v, KMIP_TAG_NAME_TYPE,
	    KMIP_NAME_UNINTERPRETED_TEXT_STRING);
}

/* What Krill sends for a new RSA key (see CLIENTS.md). */
static struct ttlv *
krill_create_key_pair(void)
{
	struct ttlv	*msg, *pl, *t;

	msg = request(KMIP_OP_CREATE_KEY_PAIR, 0, 1);
	pl = ttlv_find(ttlv_find(msg, KMIP_TAG_BATCH_ITEM),
	    KMIP_TAG_REQUEST_PAYLOAD);
	t = ttlv_add_structure(pl, KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE);
	add_attr_enum(t, "Cryptographic Algorithm", KMIP_ALG_RSA);
	add_attr_int(t, "Cryptographic Length", 2048);
	t = ttlv_add_structure(pl, KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE);
	add_attr_name(t, "krill_new_key_1700000000_priv");
	add_attr_int(t, "Cryptographic Usage Mask", KMIP_USAGE_SIGN);
	t = ttlv_add_structure(pl, KMIP_TAG_PUBLIC_KEY_TEMPLATE_ATTRIBUTE);
	add_attr_name(t, "krill_new_key_1700000000_pub");
	add_attr_int(t, "Cryptographic Usage Mask", KMIP_USAGE_VERIFY);
	return (msg);
}

static struct ttlv *
krill_sign(void)
{
	struct ttlv	*msg, *pl, *cp;
	uint8_t		 data[77];
	size_t		 i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 1);
	msg = request(KMIP_OP_SIGN, 2, 1);
	pl = ttlv_find(ttlv_find(msg, KMIP_TAG_BATCH_ITEM),
	    KMIP_TAG_REQUEST_PAYLOAD);
	ttlv_add_string(pl, KMIP_TAG_UNIQUE_IDENTIFIER,
	    "krill-private-key-0123456789abcdef");
	cp = ttlv_add_structure(pl, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS);
	ttlv_add_enum(cp, KMIP_TAG_PADDING_METHOD, KMIP_PAD_PKCS1_V15);
	ttlv_add_enum(cp, KMIP_TAG_HASHING_ALGORITHM, KMIP_HASH_SHA256);
	ttlv_add_enum(cp, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, KMIP_ALG_RSA);
	ttlv_add_bytes(pl, KMIP_TAG_DATA, data, sizeof(data));
	return (msg);
}

static uint8_t *
read_file(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	FILE		*fp;

	ATF_REQUIRE_MSG((fp = fopen(path, "rb")) != NULL, "%s", path);
	ATF_REQUIRE(fstat(fileno(fp), &st) == 0 && st.st_size > 0);
	ATF_REQUIRE((buf = malloc(st.st_size)) != NULL);
	ATF_REQUIRE(fread(buf, 1, st.st_size, fp) == (size_t)st.st_size);
	fclose(fp);
	*lenp = st.st_size;
	return (buf);
}

static char *
dump_string(const struct ttlv *t)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ATF_REQUIRE((fp = open_memstream(&s, &len)) != NULL);
	ttlv_dump(fp, t);
	ATF_REQUIRE(fclose(fp) == 0);
	return (s);
}

/* KMIP 1.4 section 9.1.2, every example, built and decoded. */
ATF_TC_WITHOUT_HEAD(spec_examples);
ATF_TC_BODY(spec_examples, tc)
{
	static const uint8_t x_int[] = {
	    0x42, 0x00, 0x20, 0x02, 0x00, 0x00, 0x00, 0x04,
	    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_long[] = {
	    0x42, 0x00, 0x20, 0x03, 0x00, 0x00, 0x00, 0x08,
	    0x01, 0xb6, 0x9b, 0x4b, 0xa5, 0x74, 0x92, 0x00 };
	static const uint8_t x_big[] = {
	    0x42, 0x00, 0x20, 0x04, 0x00, 0x00, 0x00, 0x10,
	    0x00, 0x00, 0x00, 0x00, 0x03, 0xfd, 0x35, 0xeb,
	    0x6b, 0xc2, 0xdf, 0x46, 0x18, 0x08, 0x00, 0x00 };
	static const uint8_t x_enum[] = {
	    0x42, 0x00, 0x20, 0x05, 0x00, 0x00, 0x00, 0x04,
	    0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_bool[] = {
	    0x42, 0x00, 0x20, 0x06, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t x_text[] = {
	    0x42, 0x00, 0x20, 0x07, 0x00, 0x00, 0x00, 0x0b,
	    0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x57, 0x6f,
	    0x72, 0x6c, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_bytes[] = {
	    0x42, 0x00, 0x20, 0x08, 0x00, 0x00, 0x00, 0x03,
	    0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_date[] = {
	    0x42, 0x00, 0x20, 0x09, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x00, 0x00, 0x00, 0x47, 0xda, 0x67, 0xf8 };
	static const uint8_t x_ival[] = {
	    0x42, 0x00, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x04,
	    0x00, 0x0d, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_struct[] = {
	    0x42, 0x00, 0x20, 0x01, 0x00, 0x00, 0x00, 0x20,
	    0x42, 0x00, 0x04, 0x05, 0x00, 0x00, 0x00, 0x04,
	    0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00,
	    0x42, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x04,
	    0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00 };
	/* 1234567890000000000000000000 as the shortest two's complement. */
	static const uint8_t bigval[] = {
	    0x03, 0xfd, 0x35, 0xeb, 0x6b, 0xc2, 0xdf, 0x46,
	    0x18, 0x08, 0x00, 0x00 };
	static const uint8_t three[] = { 1, 2, 3 };
	struct ttlv	*t, *s;

	t = ttlv_add_integer(NULL, T_TAG, 8);
	check_both(t, x_int, sizeof(x_int));
	ttlv_free(t);

	t = ttlv_add_long(NULL, T_TAG, 123456789000000000LL);
	check_both(t, x_long, sizeof(x_long));
	ttlv_free(t);

	t = ttlv_add_bigint(NULL, T_TAG, bigval, sizeof(bigval));
	ATF_CHECK_EQ(t->v.s.len, 16);
	check_both(t, x_big, sizeof(x_big));
	ttlv_free(t);

	t = ttlv_add_enum(NULL, T_TAG, 255);
	check_both(t, x_enum, sizeof(x_enum));
	ttlv_free(t);

	t = ttlv_add_bool(NULL, T_TAG, 1);
	check_both(t, x_bool, sizeof(x_bool));
	ttlv_free(t);

	t = ttlv_add_string(NULL, T_TAG, "Hello World");
	check_both(t, x_text, sizeof(x_text));
	ttlv_free(t);

	t = ttlv_add_bytes(NULL, T_TAG, three, sizeof(three));
	check_both(t, x_bytes, sizeof(x_bytes));
	ttlv_free(t);

	/* Friday, March 14, 2008, 11:56:40 GMT */
	t = ttlv_add_datetime(NULL, T_TAG, 1205495800);
	ATF_CHECK_EQ(t->v.i64, 0x47da67f8);
	check_both(t, x_date, sizeof(x_date));
	ttlv_free(t);

	t = ttlv_add_interval(NULL, T_TAG, 10 * 24 * 3600);
	check_both(t, x_ival, sizeof(x_ival));
	ttlv_free(t);

	t = ttlv_new_structure(T_TAG);
	ttlv_add_enum(t, 0x420004, 254);
	ttlv_add_integer(t, 0x420005, 255);
	check_both(t, x_struct, sizeof(x_struct));
	/* The same structure assembled from detached items. */
	s = ttlv_new_structure(T_TAG);
	ttlv_append(s, ttlv_add_enum(NULL, 0x420004, 254));
	ttlv_append(s, ttlv_add_integer(NULL, 0x420005, 255));
	ATF_CHECK(tree_equal(s, t));
	ttlv_free(s);
	ttlv_free(t);
}

/* Values at the edges of each type survive a round trip. */
ATF_TC_WITHOUT_HEAD(edge_values);
ATF_TC_BODY(edge_values, tc)
{
	static const uint8_t neg[] = { 0x80, 0x01 };
	static const uint8_t x_neg[] = {
	    0x42, 0x00, 0x20, 0x04, 0x00, 0x00, 0x00, 0x08,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x01 };
	static const uint8_t x_empty[] = {
	    0x42, 0x00, 0x20, 0x07, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_minint[] = {
	    0x42, 0x00, 0x20, 0x02, 0x00, 0x00, 0x00, 0x04,
	    0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_dte[] = {
	    0x54, 0x00, 0x01, 0x0b, 0x00, 0x00, 0x00, 0x08,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t x_false[] = {
	    0x42, 0x00, 0x20, 0x06, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t x_estruct[] = {
	    0x42, 0x00, 0x78, 0x01, 0x00, 0x00, 0x00, 0x00 };
	struct ttlv	*t;

	/* A negative big integer is sign-extended with 0xff. */
	t = ttlv_add_bigint(NULL, T_TAG, neg, sizeof(neg));
	check_both(t, x_neg, sizeof(x_neg));
	ttlv_free(t);

	t = ttlv_add_text(NULL, T_TAG, "", 0);
	ATF_CHECK(t->v.s.data != NULL);
	check_both(t, x_empty, sizeof(x_empty));
	ttlv_free(t);

	t = ttlv_add_integer(NULL, T_TAG, INT32_MIN);
	check_both(t, x_minint, sizeof(x_minint));
	ttlv_free(t);

	t = ttlv_add_bool(NULL, T_TAG, 0);
	check_both(t, x_false, sizeof(x_false));
	ttlv_free(t);
	/* Any non-zero is true, and true encodes as 1. */
	t = ttlv_add_bool(NULL, T_TAG, 42);
	ATF_CHECK_EQ(t->v.b, 1);
	ttlv_free(t);

	t = ttlv_new_structure(KMIP_TAG_REQUEST_MESSAGE);
	check_both(t, x_estruct, sizeof(x_estruct));
	ttlv_free(t);

	/* Date-Time Extended has no builder; decode it and compare. */
	check_roundtrip(x_dte, sizeof(x_dte));
	ATF_REQUIRE(ttlv_decode(x_dte, sizeof(x_dte), NULL, &t, NULL) == 0);
	ATF_CHECK_EQ(t->type, TTLV_DATE_TIME_EXT);
	ATF_CHECK_EQ(t->tag, 0x540001);
	ATF_CHECK_EQ(t->v.i64, -1);
	ttlv_free(t);
}

/* Krill's Create Key Pair and Sign: build, encode, decode, compare. */
ATF_TC_WITHOUT_HEAD(krill_requests);
ATF_TC_BODY(krill_requests, tc)
{
	struct ttlv	*msgs[2], *d, *bi, *pl, *cp, *a;
	const uint8_t	*data;
	const char	*err = NULL;
	uint8_t		*buf, *buf2;
	char		 uid[64], name[64];
	size_t		 len, len2, dlen, i;
	uint32_t	 v;
	int32_t		 i32;

	msgs[0] = krill_create_key_pair();
	msgs[1] = krill_sign();
	for (i = 0; i < 2; i++) {
		buf = encode_alloc(msgs[i], &len);
		ATF_REQUIRE_MSG(ttlv_decode(buf, len, &deflim, &d, &err) == 0,
		    "decode: %s", err);
		ATF_CHECK(tree_equal(d, msgs[i]));
		buf2 = encode_alloc(d, &len2);
		ATF_CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
		check_roundtrip(buf, len);
		free(buf2);
		free(buf);
		ttlv_free(d);
	}

	/* The lookups the engine will make on them. */
	bi = ttlv_find(msgs[0], KMIP_TAG_BATCH_ITEM);
	ATF_CHECK(ttlv_get_enum(bi, KMIP_TAG_OPERATION, &v) == 0 &&
	    v == KMIP_OP_CREATE_KEY_PAIR);
	pl = ttlv_find(bi, KMIP_TAG_REQUEST_PAYLOAD);
	a = ttlv_find(ttlv_find(pl, KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE),
	    KMIP_TAG_ATTRIBUTE);
	ATF_REQUIRE(a != NULL);
	ATF_CHECK(ttlv_get_text(a, KMIP_TAG_ATTRIBUTE_NAME, name,
	    sizeof(name)) == 0 && strcmp(name, "Name") == 0);
	ATF_CHECK(ttlv_get_text(ttlv_find(a, KMIP_TAG_ATTRIBUTE_VALUE),
	    KMIP_TAG_NAME_VALUE, name, sizeof(name)) == 0 &&
	    strcmp(name, "krill_new_key_1700000000_priv") == 0);
	a = ttlv_find_next(ttlv_find(pl,
	    KMIP_TAG_PRIVATE_KEY_TEMPLATE_ATTRIBUTE), a, KMIP_TAG_ATTRIBUTE);
	ATF_REQUIRE(a != NULL);
	ATF_CHECK(ttlv_get_integer(a, KMIP_TAG_ATTRIBUTE_VALUE, &i32) == 0 &&
	    i32 == KMIP_USAGE_SIGN);
	ATF_CHECK_EQ(ttlv_count(ttlv_find(pl,
	    KMIP_TAG_COMMON_TEMPLATE_ATTRIBUTE), KMIP_TAG_ATTRIBUTE), 2);

	bi = ttlv_find(msgs[1], KMIP_TAG_BATCH_ITEM);
	pl = ttlv_find(bi, KMIP_TAG_REQUEST_PAYLOAD);
	ATF_CHECK(ttlv_get_text(pl, KMIP_TAG_UNIQUE_IDENTIFIER, uid,
	    sizeof(uid)) == 0 &&
	    strcmp(uid, "krill-private-key-0123456789abcdef") == 0);
	cp = ttlv_find(pl, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS);
	ATF_CHECK(ttlv_get_enum(cp, KMIP_TAG_HASHING_ALGORITHM, &v) == 0 &&
	    v == KMIP_HASH_SHA256);
	ATF_CHECK(ttlv_get_enum(cp, KMIP_TAG_PADDING_METHOD, &v) == 0 &&
	    v == KMIP_PAD_PKCS1_V15);
	ATF_CHECK(ttlv_get_bytes(pl, KMIP_TAG_DATA, &data, &dlen) == 0 &&
	    dlen == 77 && data[0] == 1 && data[1] == 38);

	/* Detach the parameters, the rest still encodes consistently. */
	ttlv_remove(cp);
	ATF_CHECK(cp->parent == NULL);
	ATF_CHECK(ttlv_find(pl, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS) == NULL);
	buf = encode_alloc(msgs[1], &len);
	check_roundtrip(buf, len);
	free(buf);
	ttlv_append(pl, cp);
	ATF_CHECK(cp->parent == pl && TAILQ_NEXT(cp, entry) == NULL);
	/* Freeing an attached node detaches it first. */
	ttlv_free(cp);
	ATF_CHECK(ttlv_find(pl, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS) == NULL);

	ttlv_free(msgs[0]);
	ttlv_free(msgs[1]);
}

/* Every proper prefix of a valid message is refused. */
ATF_TC_WITHOUT_HEAD(truncated);
ATF_TC_BODY(truncated, tc)
{
	struct ttlv	*msg;
	uint8_t		*buf;
	size_t		 len, i;

	msg = krill_sign();
	buf = encode_alloc(msg, &len);
	for (i = 0; i < len; i++)
		check_refused(buf, i, &deflim, i < 8 ?
		    "message shorter than an item header" :
		    "item length exceeds the message");
	check_roundtrip(buf, len);
	free(buf);
	ttlv_free(msg);
}

ATF_TC_WITHOUT_HEAD(huge_length);
ATF_TC_BODY(huge_length, tc)
{
	static const uint32_t lens[] = { 0x80000000U, 0x80000001U,
	    0xfffffff8U, 0xffffffffU };
	uint8_t		 buf[64];
	size_t		 i, n;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		/* At the top, and as a child inside a valid structure. */
		n = item(buf, T_TAG, TTLV_BYTE_STRING, lens[i], NULL, 8);
		check_refused(buf, n, &deflim, "item length too large");
		n = item(buf, KMIP_TAG_REQUEST_MESSAGE, TTLV_STRUCTURE, 16,
		    NULL, 0);
		n += item(buf + n, T_TAG, TTLV_TEXT_STRING, lens[i], NULL, 8);
		check_refused(buf, n, &deflim, "item length too large");
		n = item(buf, T_TAG, TTLV_STRUCTURE, lens[i], NULL, 8);
		check_refused(buf, n, &deflim, "item length too large");
	}
	/* Just under 2^31 is a length we cannot have: beyond the buffer. */
	n = item(buf, T_TAG, TTLV_BYTE_STRING, 0x7fffffffU, NULL, 8);
	check_refused(buf, n, &deflim, "item length exceeds the message");
}

ATF_TC_WITHOUT_HEAD(wrong_fixed_lengths);
ATF_TC_BODY(wrong_fixed_lengths, tc)
{
	static const struct {
		uint8_t		 type;
		uint32_t	 good;
	} fixed[] = {
		{ TTLV_INTEGER, 4 }, { TTLV_LONG_INTEGER, 8 },
		{ TTLV_ENUMERATION, 4 }, { TTLV_BOOLEAN, 8 },
		{ TTLV_DATE_TIME, 8 }, { TTLV_INTERVAL, 4 },
		{ TTLV_DATE_TIME_EXT, 8 }
	};
	static const uint32_t bad[] = { 0, 1, 3, 4, 5, 7, 8, 12, 16 };
	uint8_t		 buf[64];
	size_t		 i, j, n;
	struct ttlv	*t;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		n = item(buf, T_TAG, fixed[i].type, fixed[i].good, NULL,
		    fixed[i].good);
		ATF_CHECK_MSG(ttlv_decode(buf, n, &deflim, &t, NULL) == 0,
		    "type %u length %u", fixed[i].type, fixed[i].good);
		ttlv_free(t);
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			if (bad[j] == fixed[i].good)
				continue;
			n = item(buf, T_TAG, fixed[i].type, bad[j], NULL,
			    bad[j]);
			check_refused(buf, n, &deflim,
			    "wrong length for the item type");
		}
	}
	/* Big Integer: any multiple of 8, nothing else. */
	for (j = 1; j < 24; j++) {
		n = item(buf, T_TAG, TTLV_BIG_INTEGER, j, NULL, j);
		if (j % 8 == 0) {
			ATF_CHECK(ttlv_decode(buf, n, &deflim, &t, NULL) == 0);
			ttlv_free(t);
		} else
			check_refused(buf, n, &deflim,
			    "big integer length not a multiple of 8");
	}
}

ATF_TC_WITHOUT_HEAD(bad_padding);
ATF_TC_BODY(bad_padding, tc)
{
	static const uint8_t hello[] = "Hello World";
	static const uint8_t v[4] = { 0, 0, 0, 8 };
	uint8_t		 buf[64];
	size_t		 n, i;

	for (i = 12; i < 16; i++) {
		n = item(buf, T_TAG, TTLV_INTEGER, 4, v, 4);
		check_roundtrip(buf, n);
		buf[i] = 0x01;
		check_refused(buf, n, &deflim, "non-zero padding");
	}
	for (i = 8 + 11; i < 24; i++) {
		n = item(buf, T_TAG, TTLV_TEXT_STRING, 11, hello, 11);
		check_roundtrip(buf, n);
		buf[i] = 0x80;
		check_refused(buf, n, &deflim, "non-zero padding");
	}
	/* Padding of a child, deep inside a structure. */
	n = item(buf, KMIP_TAG_REQUEST_MESSAGE, TTLV_STRUCTURE, 16, NULL, 0);
	n += item(buf + n, T_TAG, TTLV_BYTE_STRING, 1, hello, 1);
	check_roundtrip(buf, n);
	buf[n - 1] = 0xff;
	check_refused(buf, n, &deflim, "non-zero padding");
}

ATF_TC_WITHOUT_HEAD(bad_boolean);
ATF_TC_BODY(bad_boolean, tc)
{
	uint8_t		 buf[64], v[8];
	size_t		 n, i;

	for (i = 0; i < 8; i++) {
		memset(v, 0, sizeof(v));
		v[i] = i == 7 ? 2 : 1;
		n = item(buf, T_TAG, TTLV_BOOLEAN, 8, v, 8);
		check_refused(buf, n, &deflim, "boolean neither 0 nor 1");
	}
	memset(v, 0xff, sizeof(v));
	n = item(buf, T_TAG, TTLV_BOOLEAN, 8, v, 8);
	check_refused(buf, n, &deflim, "boolean neither 0 nor 1");
}

ATF_TC_WITHOUT_HEAD(unknown_type);
ATF_TC_BODY(unknown_type, tc)
{
	static const uint8_t types[] = { 0x00, 0x0c, 0x0d, 0x10, 0x80, 0xff };
	uint8_t		 buf[64];
	size_t		 n, i;

	for (i = 0; i < sizeof(types); i++) {
		n = item(buf, T_TAG, types[i], 4, NULL, 4);
		check_refused(buf, n, &deflim, "unknown item type");
		n = item(buf, T_TAG, types[i], 0, NULL, 0);
		check_refused(buf, n, &deflim, "unknown item type");
	}
}

ATF_TC_WITHOUT_HEAD(structure_fill);
ATF_TC_BODY(structure_fill, tc)
{
	static const uint8_t v[8];
	uint8_t		 buf[128];
	size_t		 n;

	/* A child longer than its structure (message long enough). */
	n = item(buf, T_TAG, TTLV_STRUCTURE, 8, NULL, 0);
	n += item(buf + n, 0x420004, TTLV_INTEGER, 4, v, 4);
	check_refused(buf, n, &deflim, "item overruns its structure");

	/* Second child crosses the end of the inner structure. */
	n = item(buf, T_TAG, TTLV_STRUCTURE, 48, NULL, 0);
	n += item(buf + n, 0x420005, TTLV_STRUCTURE, 24, NULL, 0);
	n += item(buf + n, 0x420004, TTLV_INTEGER, 4, v, 4);
	n += item(buf + n, 0x420004, TTLV_LONG_INTEGER, 8, v, 8);
	n += item(buf + n, 0x420004, TTLV_INTEGER, 4, v, 4);
	check_refused(buf, n, &deflim, "item overruns its structure");

	/* Children that fall short of the declared length. */
	n = item(buf, T_TAG, TTLV_STRUCTURE, 24, NULL, 0);
	n += item(buf + n, 0x420004, TTLV_INTEGER, 4, v, 4);
	check_refused(buf, n, &deflim, "item length exceeds the message");

	/* A length that no sequence of items can fill. */
	n = item(buf, T_TAG, TTLV_STRUCTURE, 20, NULL, 0);
	n += item(buf + n, 0x420004, TTLV_INTEGER, 4, v, 4);
	n += 8;
	memset(buf + n - 8, 0, 8);
	check_refused(buf, n, &deflim, "structure length not a multiple of 8");

	/* The same bytes with the right length are fine. */
	n = item(buf, T_TAG, TTLV_STRUCTURE, 16, NULL, 0);
	n += item(buf + n, 0x420004, TTLV_INTEGER, 4, v, 4);
	check_roundtrip(buf, n);
}

ATF_TC_WITHOUT_HEAD(trailing_bytes);
ATF_TC_BODY(trailing_bytes, tc)
{
	struct ttlv	*msg;
	uint8_t		*buf, *big;
	size_t		 len, i;

	msg = krill_create_key_pair();
	buf = encode_alloc(msg, &len);
	ATF_REQUIRE((big = calloc(1, len + 16)) != NULL);
	memcpy(big, buf, len);
	for (i = 1; i <= 16; i++)
		check_refused(big, len + i, &deflim,
		    "trailing bytes after the item");
	/* Two complete messages back to back are one too many. */
	ATF_REQUIRE((big = realloc(big, 2 * len)) != NULL);
	memcpy(big + len, buf, len);
	check_refused(big, 2 * len, &deflim, "trailing bytes after the item");
	free(big);
	free(buf);
	ttlv_free(msg);
}

ATF_TC_WITHOUT_HEAD(limits);
ATF_TC_BODY(limits, tc)
{
	struct ttlv_limits	 lim;
	struct ttlv		*t, *s;
	uint8_t			*buf, text[100];
	const char		*err;
	size_t			 len;
	unsigned int		 i, items;

	/* Depth: 5 nested structures, root counting as 1. */
	t = s = ttlv_new_structure(T_TAG);
	for (i = 1; i < 5; i++)
		s = ttlv_add_structure(s, T_TAG);
	ttlv_add_integer(s, 0x420004, 1);
	buf = encode_alloc(t, &len);
	lim = deflim;
	lim.max_depth = 5;
	ATF_CHECK(ttlv_decode(buf, len, &lim, &s, &err) == 0);
	ttlv_free(s);
	lim.max_depth = 4;
	check_refused(buf, len, &lim, "structure nesting too deep");
	lim.max_depth = 0;
	check_refused(buf, len, &lim, "structure nesting too deep");
	free(buf);
	ttlv_free(t);

	/* Items: every item counts, the root too. */
	t = krill_create_key_pair();
	buf = encode_alloc(t, &len);
	items = 0;
	for (s = t; s != NULL; ) {
		items++;
		if (!TAILQ_EMPTY(&s->children)) {
			s = TAILQ_FIRST(&s->children);
			continue;
		}
		while (s != t && TAILQ_NEXT(s, entry) == NULL)
			s = s->parent;
		s = s == t ? NULL : TAILQ_NEXT(s, entry);
	}
	lim = deflim;
	lim.max_items = items;
	ATF_CHECK(ttlv_decode(buf, len, &lim, &s, &err) == 0);
	ttlv_free(s);
	lim.max_items = items - 1;
	check_refused(buf, len, &lim, "too many items");
	lim.max_items = 1;
	check_refused(buf, len, &lim, "too many items");

	/* Whole message size. */
	lim = deflim;
	lim.max_size = len;
	ATF_CHECK(ttlv_decode(buf, len, &lim, &s, &err) == 0);
	ttlv_free(s);
	lim.max_size = len - 1;
	check_refused(buf, len, &lim, "message too large");
	free(buf);
	ttlv_free(t);

	/* One string value, for each of the three string types. */
	memset(text, 'a', sizeof(text));
	for (i = 0; i < 3; i++) {
		if (i == 0)
			t = ttlv_add_text(NULL, T_TAG, (char *)text, 100);
		else if (i == 1)
			t = ttlv_add_bytes(NULL, T_TAG, text, 100);
		else
			t = ttlv_add_bigint(NULL, T_TAG, text, 100);
		buf = encode_alloc(t, &len);
		lim = deflim;
		lim.max_string = t->v.s.len;
		ATF_CHECK(ttlv_decode(buf, len, &lim, &s, &err) == 0);
		ttlv_free(s);
		lim.max_string = t->v.s.len - 1;
		check_refused(buf, len, &lim, "string too long");
		free(buf);
		ttlv_free(t);
	}
}

ATF_TC_WITHOUT_HEAD(getters);
ATF_TC_BODY(getters, tc)
{
	struct ttlv	*s, *leaf;
	const uint8_t	*data;
	char		 buf[16];
	size_t		 len;
	int64_t		 i64;
	uint32_t	 u32;
	int32_t		 i32;
	int		 b;

	s = ttlv_new_structure(T_TAG);
	ttlv_add_integer(s, 0x420001, -5);
	ttlv_add_enum(s, 0x420002, 7);
	ttlv_add_long(s, 0x420003, -1);
	ttlv_add_bool(s, 0x420004, 1);
	ttlv_add_bytes(s, 0x420005, "xyz", 3);
	ttlv_add_string(s, 0x420006, "text");
	ttlv_add_datetime(s, 0x420007, 99);
	ttlv_add_interval(s, 0x420008, 60);
	ttlv_add_enum(s, 0x420002, 8);

	ATF_CHECK(ttlv_get_integer(s, 0x420001, &i32) == 0 && i32 == -5);
	ATF_CHECK(ttlv_get_enum(s, 0x420002, &u32) == 0 && u32 == 7);
	ATF_CHECK(ttlv_get_long(s, 0x420003, &i64) == 0 && i64 == -1);
	ATF_CHECK(ttlv_get_bool(s, 0x420004, &b) == 0 && b == 1);
	ATF_CHECK(ttlv_get_bytes(s, 0x420005, &data, &len) == 0 && len == 3 &&
	    memcmp(data, "xyz", 3) == 0);
	ATF_CHECK(ttlv_get_text(s, 0x420006, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "text") == 0);

	/* Each getter on every other type, and on an absent tag. */
	ATF_CHECK(ttlv_get_integer(s, 0x420002, &i32) == -1);
	ATF_CHECK(ttlv_get_integer(s, 0x420003, &i32) == -1);
	ATF_CHECK(ttlv_get_enum(s, 0x420001, &u32) == -1);
	ATF_CHECK(ttlv_get_enum(s, 0x420008, &u32) == -1);
	ATF_CHECK(ttlv_get_long(s, 0x420007, &i64) == -1);
	ATF_CHECK(ttlv_get_long(s, 0x420001, &i64) == -1);
	ATF_CHECK(ttlv_get_bool(s, 0x420001, &b) == -1);
	ATF_CHECK(ttlv_get_bytes(s, 0x420006, &data, &len) == -1);
	ATF_CHECK(ttlv_get_text(s, 0x420005, buf, sizeof(buf)) == -1);
	ATF_CHECK(ttlv_get_integer(s, 0x420099, &i32) == -1);
	ATF_CHECK(ttlv_get_text(s, 0x420099, buf, sizeof(buf)) == -1);
	/* On a leaf and on NULL there is nothing to find. */
	leaf = ttlv_find(s, 0x420001);
	ATF_CHECK(ttlv_get_integer(leaf, 0x420001, &i32) == -1);
	ATF_CHECK(ttlv_find(NULL, 0x420001) == NULL);
	ATF_CHECK(ttlv_get_enum(NULL, 0x420002, &u32) == -1);
	ATF_CHECK_EQ(ttlv_count(leaf, 0x420001), 0);

	/* Repeated tags: first, next, count. */
	ATF_CHECK_EQ(ttlv_count(s, 0x420002), 2);
	leaf = ttlv_find(s, 0x420002);
	ATF_CHECK(leaf != NULL && leaf->v.u32 == 7);
	leaf = ttlv_find_next(s, leaf, 0x420002);
	ATF_CHECK(leaf != NULL && leaf->v.u32 == 8);
	ATF_CHECK(ttlv_find_next(s, leaf, 0x420002) == NULL);
	ATF_CHECK(ttlv_find_next(s, NULL, 0x420002) == ttlv_find(s, 0x420002));
	ttlv_free(s);
}

ATF_TC_WITHOUT_HEAD(get_text);
ATF_TC_BODY(get_text, tc)
{
	struct ttlv	*s;
	char		 buf[8];

	s = ttlv_new_structure(T_TAG);
	ttlv_add_text(s, 0x420001, "ab\0cd", 5);
	ttlv_add_string(s, 0x420002, "1234567");
	ttlv_add_string(s, 0x420003, "12345678");
	ttlv_add_text(s, 0x420004, "", 0);
	ttlv_add_text(s, 0x420005, "abc\0", 4);

	memset(buf, 'X', sizeof(buf));
	ATF_CHECK(ttlv_get_text(s, 0x420001, buf, sizeof(buf)) == -1);
	ATF_CHECK(ttlv_get_text(s, 0x420005, buf, sizeof(buf)) == -1);
	ATF_CHECK(ttlv_get_text(s, 0x420002, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "1234567") == 0);
	/* Exactly the buffer size leaves no room for the NUL. */
	ATF_CHECK(ttlv_get_text(s, 0x420003, buf, sizeof(buf)) == -1);
	ATF_CHECK(ttlv_get_text(s, 0x420002, buf, 7) == -1);
	ATF_CHECK(ttlv_get_text(s, 0x420004, buf, sizeof(buf)) == 0 &&
	    buf[0] == '\0');
	ATF_CHECK(ttlv_get_text(s, 0x420004, buf, 0) == -1);
	ttlv_free(s);
}

ATF_TC_WITHOUT_HEAD(frame_len);
ATF_TC_BODY(frame_len, tc)
{
	uint8_t		 buf[16];
	uint32_t	 tag;
	uint8_t		 type;
	size_t		 total;
	size_t		 i;

	item(buf, KMIP_TAG_REQUEST_MESSAGE, TTLV_STRUCTURE, 0x1234, NULL, 0);
	for (i = 0; i < 8; i++)
		ATF_CHECK(ttlv_frame_len(buf, i, &tag, &type, &total) == -1);
	ATF_REQUIRE(ttlv_frame_len(buf, 8, &tag, &type, &total) == 0);
	ATF_CHECK_EQ(tag, KMIP_TAG_REQUEST_MESSAGE);
	ATF_CHECK_EQ(type, TTLV_STRUCTURE);
	ATF_CHECK_EQ(total, 8 + 0x1238);
	item(buf, T_TAG, TTLV_TEXT_STRING, 0, NULL, 0);
	ATF_REQUIRE(ttlv_frame_len(buf, 16, &tag, &type, &total) == 0);
	ATF_CHECK_EQ(total, 8);
	/* A hostile 4 GiB header: the caller sees the size and refuses. */
	item(buf, T_TAG, TTLV_BYTE_STRING, 0xffffffffU, NULL, 0);
	ATF_REQUIRE(ttlv_frame_len(buf, 8, &tag, &type, &total) == 0);
	ATF_CHECK(total > 0xffffffffU || total == SIZE_MAX);
}

ATF_TC_WITHOUT_HEAD(copy_independent);
ATF_TC_BODY(copy_independent, tc)
{
	struct ttlv	*msg, *c, *pl;
	uint8_t		*a, *b;
	size_t		 alen, blen;

	msg = krill_sign();
	c = ttlv_copy(msg);
	ATF_CHECK(c->parent == NULL && tree_equal(c, msg));
	/* Changing the copy leaves the original alone. */
	pl = ttlv_find(ttlv_find(c, KMIP_TAG_BATCH_ITEM),
	    KMIP_TAG_REQUEST_PAYLOAD);
	ttlv_find(pl, KMIP_TAG_UNIQUE_IDENTIFIER)->v.s.data[0] = 'X';
	ATF_CHECK(!tree_equal(c, msg));
	a = encode_alloc(msg, &alen);
	b = encode_alloc(c, &blen);
	ATF_CHECK(alen == blen && memcmp(a, b, alen) != 0);
	free(a);
	free(b);
	/* A copy of a subtree is detached. */
	ttlv_free(c);
	c = ttlv_copy(ttlv_find(msg, KMIP_TAG_BATCH_ITEM));
	ATF_CHECK(c->parent == NULL && c->tag == KMIP_TAG_BATCH_ITEM);
	ATF_CHECK(tree_equal(c, ttlv_find(msg, KMIP_TAG_BATCH_ITEM)));
	ATF_CHECK_EQ(ttlv_encoded_len(c),
	    ttlv_encoded_len(ttlv_find(msg, KMIP_TAG_BATCH_ITEM)));
	ttlv_free(c);
	ttlv_free(msg);
}

/* PyKMIP's encoder writes; we decode and re-encode identically. */
ATF_TC_WITHOUT_HEAD(pykmip_cross);
ATF_TC_BODY(pykmip_cross, tc)
{
	static const char *script =
	    "import sys\n"
	    "from kmip.core import enums, utils, attributes, objects\n"
	    "from kmip.core.messages import contents, messages, payloads\n"
	    "from kmip.core.factories import attributes as af\n"
	    "f = af.AttributeFactory()\n"
	    "A = enums.AttributeType\n"
	    "def out(name, op, pl, minor):\n"
	    "    hdr = messages.RequestHeader(\n"
	    "        protocol_version=contents.ProtocolVersion(1, minor),\n"
	    "        batch_count=contents.BatchCount(1))\n"
	    "    item = messages.RequestBatchItem(\n"
	    "        operation=contents.Operation(op), request_payload=pl)\n"
	    "    s = utils.BytearrayStream()\n"
	    "    messages.RequestMessage(request_header=hdr,\n"
	    "        batch_items=[item]).write(s)\n"
	    "    open(name, 'wb').write(s.buffer)\n"
	    "Q = enums.QueryFunction\n"
	    "out('query.bin', enums.Operation.QUERY,\n"
	    "    payloads.QueryRequestPayload(query_functions=[\n"
	    "    Q.QUERY_OPERATIONS, Q.QUERY_OBJECTS,\n"
	    "    Q.QUERY_SERVER_INFORMATION]), 2)\n"
	    "M = enums.CryptographicUsageMask\n"
	    "common = objects.CommonTemplateAttribute(attributes=[\n"
	    "    f.create_attribute(A.CRYPTOGRAPHIC_ALGORITHM,\n"
	    "        enums.CryptographicAlgorithm.RSA),\n"
	    "    f.create_attribute(A.CRYPTOGRAPHIC_LENGTH, 2048)])\n"
	    "priv = objects.PrivateKeyTemplateAttribute(attributes=[\n"
	    "    f.create_attribute(A.NAME, 'k_priv'),\n"
	    "    f.create_attribute(A.CRYPTOGRAPHIC_USAGE_MASK, [M.SIGN])])\n"
	    "pub = objects.PublicKeyTemplateAttribute(attributes=[\n"
	    "    f.create_attribute(A.NAME, 'k_pub'),\n"
	    "    f.create_attribute(A.CRYPTOGRAPHIC_USAGE_MASK, [M.VERIFY])])\n"
	    "out('ckp.bin', enums.Operation.CREATE_KEY_PAIR,\n"
	    "    payloads.CreateKeyPairRequestPayload(\n"
	    "    common_template_attribute=common,\n"
	    "    private_key_template_attribute=priv,\n"
	    "    public_key_template_attribute=pub), 0)\n"
	    "cp = attributes.CryptographicParameters(\n"
	    "    padding_method=enums.PaddingMethod.PKCS1v15,\n"
	    "    hashing_algorithm=enums.HashingAlgorithm.SHA_256,\n"
	    "    cryptographic_algorithm=enums.CryptographicAlgorithm.RSA)\n"
	    "out('sign.bin', enums.Operation.SIGN,\n"
	    "    payloads.SignRequestPayload(\n"
	    "    unique_identifier='priv-1', cryptographic_parameters=cp,\n"
	    "    data=b'\\x00\\x01 the message to sign'), 2)\n";
	static const struct {
		const char	*file;
		uint32_t	 op;
		int		 minor;
	} want[] = {
		{ "query.bin", KMIP_OP_QUERY, 2 },
		{ "ckp.bin", KMIP_OP_CREATE_KEY_PAIR, 0 },
		{ "sign.bin", KMIP_OP_SIGN, 2 },
	};
	struct ttlv	*d, *hdr, *pl, *cp;
	const uint8_t	*data;
	const char	*err = NULL;
	uint8_t		*buf;
	char		 path[256], cmd[512], uid[16];
	size_t		 len, dlen, i;
	uint32_t	 op;
	int32_t		 minor;
	FILE		*fp;
	int		 st;

	st = system(PYTHON " -c 'import kmip.core.messages' 2>/dev/null");
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		atf_tc_skip(PYTHON " cannot import kmip (python3-pykmip)");

	ATF_REQUIRE(getcwd(path, sizeof(path) - 16) != NULL);
	strlcat(path, "/gen.py", sizeof(path));
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	ATF_REQUIRE(fputs(script, fp) >= 0);
	ATF_REQUIRE(fclose(fp) == 0);
	snprintf(cmd, sizeof(cmd), PYTHON " %s", path);
	st = system(cmd);
	ATF_REQUIRE_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s failed", cmd);

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		buf = read_file(want[i].file, &len);
		check_roundtrip(buf, len);
		ATF_REQUIRE_MSG(ttlv_decode(buf, len, &deflim, &d, &err) == 0,
		    "%s: %s", want[i].file, err);
		ATF_CHECK_EQ(d->tag, KMIP_TAG_REQUEST_MESSAGE);
		hdr = ttlv_find(d, KMIP_TAG_REQUEST_HEADER);
		ATF_CHECK(ttlv_get_integer(ttlv_find(hdr,
		    KMIP_TAG_PROTOCOL_VERSION), KMIP_TAG_PROTOCOL_VERSION_MINOR,
		    &minor) == 0 && minor == want[i].minor);
		ATF_CHECK(ttlv_get_enum(ttlv_find(d, KMIP_TAG_BATCH_ITEM),
		    KMIP_TAG_OPERATION, &op) == 0 && op == want[i].op);
		pl = ttlv_find(ttlv_find(d, KMIP_TAG_BATCH_ITEM),
		    KMIP_TAG_REQUEST_PAYLOAD);
		if (want[i].op == KMIP_OP_QUERY)
			ATF_CHECK_EQ(ttlv_count(pl,
			    KMIP_TAG_QUERY_FUNCTION), 3);
		if (want[i].op == KMIP_OP_SIGN) {
			ATF_CHECK(ttlv_get_text(pl, KMIP_TAG_UNIQUE_IDENTIFIER,
			    uid, sizeof(uid)) == 0 &&
			    strcmp(uid, "priv-1") == 0);
			cp = ttlv_find(pl, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS);
			ATF_CHECK(ttlv_get_enum(cp, KMIP_TAG_PADDING_METHOD,
			    &op) == 0 && op == KMIP_PAD_PKCS1_V15);
			ATF_CHECK(ttlv_get_bytes(pl, KMIP_TAG_DATA, &data,
			    &dlen) == 0 && dlen == 22 && data[1] == 1);
		}
		ttlv_free(d);
		free(buf);
		unlink(want[i].file);
	}
	unlink(path);
}

ATF_TC_WITHOUT_HEAD(dump);
ATF_TC_BODY(dump, tc)
{
	struct ttlv	*msg, *pl;
	uint8_t		 big[100];
	char		*s, line[256];
	size_t		 i;

	msg = krill_sign();
	pl = ttlv_find(ttlv_find(msg, KMIP_TAG_BATCH_ITEM),
	    KMIP_TAG_REQUEST_PAYLOAD);
	memset(big, 0xab, sizeof(big));
	ttlv_add_bytes(pl, 0x540001, big, sizeof(big));
	ttlv_add_string(pl, KMIP_TAG_DESCRIPTION, "a\nb\"c");
	ttlv_add_datetime(pl, KMIP_TAG_ACTIVATION_DATE, 1205495800);
	ttlv_add_bool(pl, KMIP_TAG_SENSITIVE, 1);
	s = dump_string(msg);
	ATF_CHECK(strncmp(s, "Request Message (Structure)\n", 28) == 0);
	ATF_CHECK(strstr(s, "\n  Request Header (Structure)\n") != NULL);
	ATF_CHECK(strstr(s, "\n      Protocol Version Minor (Integer) 2\n") !=
	    NULL);
	ATF_CHECK(strstr(s, "Operation (Enumeration) 0x00000021 (Sign)\n") !=
	    NULL);
	ATF_CHECK(strstr(s, "      Hashing Algorithm (Enumeration) "
	    "0x00000006\n") != NULL);
	ATF_CHECK(strstr(s, "Unique Identifier (Text String) "
	    "\"krill-private-key-0123456789abcdef\"\n") != NULL);
	ATF_CHECK(strstr(s, "Data (Byte String) 0126") != NULL);
	/* Unknown tag as hex; long values cut at 64 bytes. */
	strlcpy(line, "\n      0x540001 (Byte String) ", sizeof(line));
	for (i = 0; i < 64; i++)
		strlcat(line, "ab", sizeof(line));
	strlcat(line, "... (100 bytes)\n", sizeof(line));
	ATF_CHECK_MSG(strstr(s, line) != NULL, "%s", s);
	ATF_CHECK(strstr(s, "\"a\\x0ab\\x22c\"\n") != NULL);
	ATF_CHECK(strstr(s, "1205495800 (2008-03-14T11:56:40Z)\n") != NULL);
	ATF_CHECK(strstr(s, "Sensitive (Boolean) true\n") != NULL);
	free(s);
	ttlv_free(msg);
}

ATF_TC_WITHOUT_HEAD(names);
ATF_TC_BODY(names, tc)
{
	static const char *attrs[] = {
		"Unique Identifier", "Name", "Object Type",
		"Cryptographic Algorithm", "Cryptographic Length",
		"Cryptographic Parameters", "Cryptographic Domain Parameters",
		"Certificate Type", "Digest", "Operation Policy Name",
		"Cryptographic Usage Mask", "Lease Time", "Usage Limits",
		"State", "Initial Date", "Activation Date",
		"Process Start Date", "Protect Stop Date", "Deactivation Date",
		"Destroy Date", "Compromise Occurrence Date", "Compromise Date",
		"Revocation Reason", "Archive Date", "Object Group", "Link",
		"Application Specific Information", "Contact Information",
		"Last Change Date", "Fresh", "Sensitive", "Extractable",
		"Alternative Name", "Key Value Present",
		"Original Creation Date", "Random Number Generator",
		"Description", "Comment", "Always Sensitive",
		"Never Extractable"
	};
	size_t		 i;
	int		 tag;

	ATF_CHECK_STREQ(kmip_tag_name(KMIP_TAG_REQUEST_MESSAGE),
	    "Request Message");
	ATF_CHECK_STREQ(kmip_tag_name(0x420094), "Unique Identifier");
	ATF_CHECK_STREQ(kmip_tag_name(KMIP_TAG_BATCH_ITEM), "Batch Item");
	ATF_CHECK_STREQ(kmip_tag_name(KMIP_TAG_IV_COUNTER_NONCE),
	    "IV/Counter/Nonce");
	ATF_CHECK_STREQ(kmip_tag_name(KMIP_TAG_ACTIVATION_DATE),
	    "Activation Date");
	ATF_CHECK_STREQ(kmip_tag_name(KMIP_TAG_LAST), "Public Protection "
	    "Storage Masks");
	ATF_CHECK(kmip_tag_name(0x420000) == NULL);
	ATF_CHECK(kmip_tag_name(KMIP_TAG_LAST + 1) == NULL);
	ATF_CHECK(kmip_tag_name(0x540001) == NULL);
	ATF_CHECK(kmip_tag_name(0) == NULL);
	ATF_CHECK(kmip_tag_name(0xffffffffU) == NULL);
	ATF_CHECK_EQ(KMIP_TAG_ATTRIBUTE, 0x420008);
	ATF_CHECK_EQ(KMIP_TAG_UNIQUE_IDENTIFIER, 0x420094);

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		tag = kmip_attr_tag(attrs[i]);
		ATF_CHECK_MSG(tag > 0, "%s", attrs[i]);
		if (tag > 0)
			ATF_CHECK_STREQ(kmip_attr_name(tag), attrs[i]);
		/* The attribute's tag has the same name as the attribute. */
		if (tag > 0)
			ATF_CHECK_STREQ(kmip_tag_name(tag), attrs[i]);
	}
	ATF_CHECK_EQ(kmip_attr_tag("Cryptographic Usage Mask"),
	    KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK);
	ATF_CHECK_EQ(kmip_attr_tag("x-signerd-slot"),
	    KMIP_TAG_CUSTOM_ATTRIBUTE);
	ATF_CHECK_EQ(kmip_attr_tag("y-"), KMIP_TAG_CUSTOM_ATTRIBUTE);
	ATF_CHECK_EQ(kmip_attr_tag("z-nope"), -1);
	ATF_CHECK_EQ(kmip_attr_tag("name"), -1);
	ATF_CHECK_EQ(kmip_attr_tag("Custom Attribute"), -1);
	ATF_CHECK_EQ(kmip_attr_tag(""), -1);
	ATF_CHECK_EQ(kmip_attr_tag("Request Message"), -1);
	ATF_CHECK(kmip_attr_name(KMIP_TAG_CUSTOM_ATTRIBUTE) == NULL);
	ATF_CHECK(kmip_attr_name(KMIP_TAG_REQUEST_MESSAGE) == NULL);

	ATF_CHECK_STREQ(kmip_op_name(KMIP_OP_CREATE_KEY_PAIR),
	    "Create Key Pair");
	ATF_CHECK_STREQ(kmip_op_name(KMIP_OP_SIGN), "Sign");
	ATF_CHECK_STREQ(kmip_op_name(KMIP_OP_DISCOVER_VERSIONS),
	    "Discover Versions");
	ATF_CHECK(kmip_op_name(0) == NULL);
	ATF_CHECK(kmip_op_name(0x1000) == NULL);
	ATF_CHECK(kmip_op_name(0xffffffffU) == NULL);
}

/*
 * ttlv_check_limits accepts a tree exactly when ttlv_decode under the
 * same limits accepts its encoding: each limit at, and one under, what
 * the tree needs.
 */
ATF_TC_WITHOUT_HEAD(check_limits);
ATF_TC_BODY(check_limits, tc)
{
	struct ttlv		*root, *s, *got;
	struct ttlv_limits	 exact, lim;
	const char		*err;
	uint8_t			*buf;
	size_t			 len;
	int			 i, field, under, chk, dec;

	root = ttlv_new_structure(KMIP_TAG_TEMPLATE_ATTRIBUTE);
	s = ttlv_add_structure(ttlv_add_structure(root, KMIP_TAG_ATTRIBUTE),
	    KMIP_TAG_ATTRIBUTE_VALUE);
	ttlv_add_string(s, KMIP_TAG_NAME_VALUE, "twenty bytes of text");
	for (i = 0; i < 5; i++)
		ttlv_add_integer(root, KMIP_TAG_ATTRIBUTE_INDEX, i);
	ttlv_add_bytes(root, KMIP_TAG_KEY_MATERIAL, "0123456789", 10);
	len = ttlv_encoded_len(root);
	ATF_REQUIRE((buf = malloc(len)) != NULL);
	ATF_REQUIRE(ttlv_encode(root, buf, len) == 0);
	/* 3 structures deep, 10 items, longest string 20 bytes. */
	exact.max_size = len;
	exact.max_depth = 3;
	exact.max_items = 10;
	exact.max_string = 20;
	for (field = 0; field < 4; field++)
		for (under = 0; under < 2; under++) {
			lim = exact;
			switch (field) {
			case 0:
				lim.max_size -= under;
				break;
			case 1:
				lim.max_depth -= under;
				break;
			case 2:
				lim.max_items -= under;
				break;
			case 3:
				lim.max_string -= under;
				break;
			}
			err = NULL;
			chk = ttlv_check_limits(root, &lim, &err);
			dec = ttlv_decode(buf, len, &lim, &got, &err);
			ATF_CHECK_MSG(chk == dec, "limit %d%s: check %d, decode "
			    "%d", field, under ? " - 1" : "", chk, dec);
			ATF_CHECK_EQ(chk, under ? -1 : 0);
			if (chk == -1)
				ATF_CHECK(err != NULL);
			if (dec == 0)
				ttlv_free(got);
		}
	/* A leaf on its own: depth 0 structures, one item. */
	lim = exact;
	lim.max_items = 1;
	ATF_CHECK_EQ(ttlv_check_limits(ttlv_find(root, KMIP_TAG_KEY_MATERIAL),
	    &lim, &err), 0);
	free(buf);
	ttlv_free(root);
}

/*
 * Text Strings must be UTF-8: every malformed form is refused inside a
 * message too, and valid characters of each length pass.
 */
ATF_TC_WITHOUT_HEAD(utf8_decode);
ATF_TC_BODY(utf8_decode, tc)
{
	static const struct {
		const char	*s;
		int		 ok;
	} t[] = {
		{ "", 1 },
		{ "plain ASCII", 1 },
		{ "caf\xc3\xa9", 1 },			/* U+00E9 */
		{ "\xe2\x82\xac", 1 },			/* U+20AC */
		{ "\xf0\x9f\x94\x91", 1 },		/* U+1F511 */
		{ "\xef\xbf\xbf", 1 },			/* U+FFFF */
		{ "\xf4\x8f\xbf\xbf", 1 },		/* U+10FFFF */
		{ "\xed\x9f\xbf", 1 },			/* U+D7FF */
		{ "\xee\x80\x80", 1 },			/* U+E000 */
		{ "\x01\x7f", 1 },	/* controls: UTF-8, cleaned later */
		{ "\xff\xfe", 0 },
		{ "\x80", 0 },			/* stray continuation */
		{ "a\xbf", 0 },
		{ "\xc0\xaf", 0 },			/* overlong '/' */
		{ "\xc1\xbf", 0 },
		{ "\xe0\x80\xaf", 0 },		/* overlong, 3 bytes */
		{ "\xe0\x9f\xbf", 0 },
		{ "\xf0\x80\x80\xaf", 0 },	/* overlong, 4 bytes */
		{ "\xf0\x8f\xbf\xbf", 0 },
		{ "\xed\xa0\x80", 0 },			/* U+D800 */
		{ "\xed\xbf\xbf", 0 },			/* U+DFFF */
		{ "\xf4\x90\x80\x80", 0 },		/* U+110000 */
		{ "\xf5\x80\x80\x80", 0 },
		{ "\xf8\x88\x80\x80\x80", 0 },		/* 5 bytes */
		{ "\xc3", 0 },				/* truncated */
		{ "ab\xe2\x82", 0 },
		{ "\xf0\x9f\x94", 0 },
		{ "\xe2\x28\xa1", 0 },		/* bad continuation */
	};
	uint8_t		 msg[64], in[48];
	struct ttlv	*d;
	const char	*err;
	size_t		 i, n, m;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].s);
		/* Alone, and as the second item of a structure. */
		m = item(msg, T_TAG, TTLV_TEXT_STRING, n, t[i].s, n);
		err = NULL;
		d = NULL;
		ATF_CHECK_EQ_MSG(ttlv_decode(msg, m, &deflim, &d, &err) == 0,
		    t[i].ok, "case %zu: %s", i, err != NULL ? err : "");
		if (d != NULL) {
			ATF_CHECK_EQ(d->v.s.len, n);
			ATF_CHECK(memcmp(d->v.s.data, t[i].s, n) == 0);
		}
		ttlv_free(d);
		if (!t[i].ok)
			check_refused(msg, m, &deflim,
			    "Text String is not valid UTF-8");
		m = item(in, 0x420094, TTLV_INTEGER, 4, "\0\0\0\1", 4);
		m += item(in + m, 0x420094, TTLV_TEXT_STRING, n, t[i].s, n);
		m = item(msg, T_TAG, TTLV_STRUCTURE, m, in, m);
		d = NULL;
		ATF_CHECK_EQ_MSG(ttlv_decode(msg, m, &deflim, &d, NULL) == 0,
		    t[i].ok, "case %zu in a structure", i);
		ttlv_free(d);
	}
	/* The same bytes as a Byte String are fine. */
	m = item(msg, T_TAG, TTLV_BYTE_STRING, 2, "\xff\xfe", 2);
	ATF_CHECK_EQ(ttlv_decode(msg, m, &deflim, &d, NULL), 0);
	ttlv_free(d);

	ATF_CHECK_EQ(utf8_char((const uint8_t *)"\xe2\x82\xac", 3), 3);
	ATF_CHECK_EQ(utf8_char((const uint8_t *)"\xe2\x82\xac", 2), 0);
	ATF_CHECK_EQ(utf8_char((const uint8_t *)"a", 0), 0);
}

/* What goes back in a Result Message: valid UTF-8, no controls. */
ATF_TC_WITHOUT_HEAD(utf8_clean);
ATF_TC_BODY(utf8_clean, tc)
{
	static const struct {
		const char	*in;
		const char	*out;
	} t[] = {
		{ "no object abc", "no object abc" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
		{ "a\nb\tc\x1b[31m\x7f", "a?b?c?[31m?" },
		{ "C1 \xc2\x85 \xc2\x9f end \xc2\xa0",
		    "C1 ?? ?? end \xc2\xa0" },
		{ "bad \xff\xfe x", "bad ?? x" },
		{ "\xed\xa0\x80", "???" },
		/* A character cut by the end is dropped, not replaced. */
		{ "cut \xe2\x82", "cut " },
		{ "cut \xf0\x9f\x94", "cut " },
		{ "cut \xc3", "cut " },
		{ "not cut \xe2\x41", "not cut ?A" },
	};
	char	 buf[256], big[300];
	size_t	 i, n;
	int	 len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)strlcpy(buf, t[i].in, sizeof(buf));
		ttlv_text_clean(buf);
		ATF_CHECK_STREQ_MSG(buf, t[i].out, "case %zu", i);
	}
	/* snprintf into a Result Message buffer cuts a euro in two. */
	memset(big, 0, sizeof(big));
	for (n = 0; n + 3 < sizeof(big) - 1; n += 3)
		memcpy(big + n, "\xe2\x82\xac", 3);
	len = snprintf(buf, 256, "no object %s", big);
	ATF_REQUIRE(len >= 256);
	ttlv_text_clean(buf);
	n = strlen(buf);
	ATF_CHECK(n <= 255 && n >= 253);
	for (i = 0; i < n; i += utf8_char((uint8_t *)buf + i, n - i))
		ATF_REQUIRE(utf8_char((uint8_t *)buf + i, n - i) != 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, spec_examples);
	ATF_TP_ADD_TC(tp, edge_values);
	ATF_TP_ADD_TC(tp, krill_requests);
	ATF_TP_ADD_TC(tp, truncated);
	ATF_TP_ADD_TC(tp, huge_length);
	ATF_TP_ADD_TC(tp, wrong_fixed_lengths);
	ATF_TP_ADD_TC(tp, bad_padding);
	ATF_TP_ADD_TC(tp, bad_boolean);
	ATF_TP_ADD_TC(tp, unknown_type);
	ATF_TP_ADD_TC(tp, structure_fill);
	ATF_TP_ADD_TC(tp, trailing_bytes);
	ATF_TP_ADD_TC(tp, limits);
	ATF_TP_ADD_TC(tp, getters);
	ATF_TP_ADD_TC(tp, get_text);
	ATF_TP_ADD_TC(tp, frame_len);
	ATF_TP_ADD_TC(tp, copy_independent);
	ATF_TP_ADD_TC(tp, pykmip_cross);
	ATF_TP_ADD_TC(tp, dump);
	ATF_TP_ADD_TC(tp, names);
	ATF_TP_ADD_TC(tp, check_limits);
	ATF_TP_ADD_TC(tp, utf8_decode);
	ATF_TP_ADD_TC(tp, utf8_clean);
	return (atf_no_error());
}
