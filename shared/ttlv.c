/*
 * KMIP TTLV codec.  The decoder walks the message once, iteratively, and
 * checks every declared length against both the buffer and the enclosing
 * structure before it reads or allocates anything; the encoder writes the
 * one canonical form, so decode followed by encode gives back the input.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmip.h"
#include "log.h"
#include "signerd.h"
#include "ttlv.h"

/* A declared length at or over this is refused whatever the buffer. */
#define TTLV_MAX_LEN		0x80000000UL
#define TTLV_TAG_MAX		0xffffffU
#define TTLV_PAD(len)		(((len) + 7) & ~(size_t)7)
#define TTLV_DUMP_MAX		64

static struct ttlv	*node_new(uint32_t, enum ttlv_type);
static struct ttlv	*node_add(struct ttlv *, uint32_t, enum ttlv_type);
static void		 node_setdata(struct ttlv *, const void *, size_t);
static int		 is_string(enum ttlv_type);
static size_t		 value_len(const struct ttlv *);
static uint8_t		*encode_item(const struct ttlv *, uint8_t *);
static const struct ttlv *walk_next(const struct ttlv *, const struct ttlv *,
			    int *);
static const char	*type_name(enum ttlv_type);
static void		 dump_value(FILE *, const struct ttlv *);
static void		 dump_bytes(FILE *, const uint8_t *, size_t, int);
static int		 utf8_valid(const uint8_t *, size_t);
static int		 utf8_cut(const uint8_t *, size_t);

static inline uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static inline uint64_t
get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) << 32 | get32(p + 4));
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

static int
is_string(enum ttlv_type type)
{
	return (type == TTLV_TEXT_STRING || type == TTLV_BYTE_STRING ||
	    type == TTLV_BIG_INTEGER);
}

/*
 * The length a fixed-size type must declare, 0 for the variable ones.
 * -1 for a type byte we do not know.
 */
static inline int
fixed_len(unsigned int type)
{
	switch (type) {
	case TTLV_INTEGER:
	case TTLV_ENUMERATION:
	case TTLV_INTERVAL:
		return (4);
	case TTLV_LONG_INTEGER:
	case TTLV_BOOLEAN:
	case TTLV_DATE_TIME:
	case TTLV_DATE_TIME_EXT:
		return (8);
	case TTLV_STRUCTURE:
	case TTLV_BIG_INTEGER:
	case TTLV_TEXT_STRING:
	case TTLV_BYTE_STRING:
		return (0);
	default:
		return (-1);
	}
}

static struct ttlv *
node_new(uint32_t tag, enum ttlv_type type)
{
	struct ttlv	*n;

	if (tag > TTLV_TAG_MAX)
		fatalx("%s: tag 0x%" PRIx32 " wider than 24 bits", __func__,
		    tag);
	if ((n = malloc(sizeof(*n))) == NULL)
		fatal("%s", __func__);
	n->tag = tag;
	n->type = type;
	memset(&n->v, 0, sizeof(n->v));
	n->parent = NULL;
	TAILQ_INIT(&n->children);
	return (n);
}

/* A new node, appended to parent unless parent is NULL. */
static struct ttlv *
node_add(struct ttlv *parent, uint32_t tag, enum ttlv_type type)
{
	struct ttlv	*n;

	if (parent != NULL && parent->type != TTLV_STRUCTURE)
		fatalx("%s: parent 0x%06" PRIx32 " is not a structure",
		    __func__, parent->tag);
	n = node_new(tag, type);
	if (parent != NULL) {
		n->parent = parent;
		TAILQ_INSERT_TAIL(&parent->children, n, entry);
	}
	return (n);
}

/*
 * String values always get a buffer, even when empty, so that callers
 * never see a NULL pointer next to a valid length.
 */
static void
node_setdata(struct ttlv *n, const void *data, size_t len)
{
	if (len >= TTLV_MAX_LEN)
		fatalx("%s: value of %zu bytes too long for TTLV", __func__,
		    len);
	if ((n->v.s.data = malloc(len > 0 ? len : 1)) == NULL)
		fatal("%s", __func__);
	if (len > 0)
		memcpy(n->v.s.data, data, len);
	n->v.s.len = len;
}

int
ttlv_frame_len(const uint8_t *buf, size_t avail, uint32_t *tag,
    uint8_t *type, size_t *total)
{
	uint64_t	 t;

	if (avail < TTLV_HEADER_LEN)
		return (-1);
	if (tag != NULL)
		*tag = get32(buf) >> 8;
	if (type != NULL)
		*type = buf[3];
	if (total != NULL) {
		t = TTLV_HEADER_LEN + (((uint64_t)get32(buf + 4) + 7) &
		    ~(uint64_t)7);
		*total = t > SIZE_MAX ? SIZE_MAX : (size_t)t;
	}
	return (0);
}

static int
utf8_valid(const uint8_t *p, size_t len)
{
	size_t	 n;

	while (len > 0) {
		if ((n = utf8_char(p, len)) == 0)
			return (0);
		p += n;
		len -= n;
	}
	return (1);
}

/* Is p the start of a character that len bytes cut short? */
static int
utf8_cut(const uint8_t *p, size_t len)
{
	size_t	 need, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return (0);
	if (len >= need)
		return (0);
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return (0);
	return (1);
}

/*
 * Make the NUL-terminated s safe to send or log: a character cut by a
 * truncating snprintf is dropped, any other invalid byte and every
 * control character (C0, DEL, C1) becomes '?'.  Never longer than s.
 */
void
ttlv_text_clean(char *s)
{
	uint8_t	*p = (uint8_t *)s;
	size_t	 len = strlen(s), n, i;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_char(p + i, len - i)) == 0) {
			/* A lead byte whose sequence the end cut short. */
			if (utf8_cut(p + i, len - i)) {
				p[i] = '\0';
				return;
			}
			p[i] = '?';
			n = 1;
		} else if (utf8_control(p + i, n))
			memset(p + i, '?', n);	/* C0, DEL or C1 */
	}
}

int
ttlv_decode(const uint8_t *buf, size_t len, const struct ttlv_limits *lim,
    struct ttlv **rootp, const char **err)
{
	static const struct ttlv_limits	 deflim = TTLV_DEFAULT_LIMITS;
	struct ttlv			*root = NULL, *parent = NULL, *n;
	const uint8_t			*p, *val;
	const char			*e;
	size_t				 pos = 0, end, vlen, plen, i;
	unsigned int			 depth = 0, items = 0;
	unsigned int			 type;
	uint64_t			 b;

	if (lim == NULL)
		lim = &deflim;
	*rootp = NULL;
	if (len > lim->max_size) {
		e = "message too large";
		goto fail;
	}
	if (len < TTLV_HEADER_LEN) {
		e = "message shorter than an item header";
		goto fail;
	}

	for (;;) {
		/*
		 * While decoding, a structure's v.i64 holds the offset where
		 * it ends; close every structure that ends here.
		 */
		while (parent != NULL && pos == (size_t)parent->v.i64) {
			n = parent;
			parent = parent->parent;
			n->v.i64 = 0;
			depth--;
		}
		if (root != NULL && parent == NULL)
			break;
		/*
		 * Structure lengths are multiples of 8 and so is every item,
		 * so a header always fits inside the current structure.
		 */
		end = parent != NULL ? (size_t)parent->v.i64 : len;
		if (end - pos < TTLV_HEADER_LEN) {
			e = "item header truncated";
			goto fail;
		}
		p = buf + pos;
		type = p[3];
		vlen = get32(p + 4);
		if (vlen >= TTLV_MAX_LEN) {
			e = "item length too large";
			goto fail;
		}
		plen = TTLV_PAD(vlen);
		if (plen > len - pos - TTLV_HEADER_LEN) {
			e = "item length exceeds the message";
			goto fail;
		}
		if (plen > end - pos - TTLV_HEADER_LEN) {
			e = "item overruns its structure";
			goto fail;
		}
		if (++items > lim->max_items) {
			e = "too many items";
			goto fail;
		}
		switch (fixed_len(type)) {
		case -1:
			e = "unknown item type";
			goto fail;
		case 0:
			break;
		default:
			if (vlen != (size_t)fixed_len(type)) {
				e = "wrong length for the item type";
				goto fail;
			}
			break;
		}
		val = p + TTLV_HEADER_LEN;
		for (i = vlen; i < plen; i++)
			if (val[i] != 0) {
				e = "non-zero padding";
				goto fail;
			}

		n = node_new(get32(p) >> 8, type);
		if (root == NULL)
			root = n;
		else {
			n->parent = parent;
			TAILQ_INSERT_TAIL(&parent->children, n, entry);
		}
		pos += TTLV_HEADER_LEN + plen;

		switch (type) {
		case TTLV_STRUCTURE:
			if (vlen % 8 != 0) {
				e = "structure length not a multiple of 8";
				goto fail;
			}
			if (++depth > lim->max_depth) {
				e = "structure nesting too deep";
				goto fail;
			}
			/* Children start right after the header. */
			n->v.i64 = (int64_t)pos;
			parent = n;
			pos = (size_t)(val - buf);
			break;
		case TTLV_INTEGER:
			n->v.i32 = (int32_t)get32(val);
			break;
		case TTLV_ENUMERATION:
		case TTLV_INTERVAL:
			n->v.u32 = get32(val);
			break;
		case TTLV_LONG_INTEGER:
		case TTLV_DATE_TIME:
		case TTLV_DATE_TIME_EXT:
			n->v.i64 = (int64_t)get64(val);
			break;
		case TTLV_BOOLEAN:
			b = get64(val);
			if (b > 1) {
				e = "boolean neither 0 nor 1";
				goto fail;
			}
			n->v.b = (int)b;
			break;
		case TTLV_BIG_INTEGER:
			if (vlen % 8 != 0) {
				e = "big integer length not a multiple of 8";
				goto fail;
			}
			/* FALLTHROUGH */
		case TTLV_TEXT_STRING:
		case TTLV_BYTE_STRING:
			if (vlen > lim->max_string) {
				e = "string too long";
				goto fail;
			}
			/* Text is echoed and logged: only valid UTF-8. */
			if (type == TTLV_TEXT_STRING &&
			    !utf8_valid(val, vlen)) {
				e = "Text String is not valid UTF-8";
				goto fail;
			}
			node_setdata(n, val, vlen);
			break;
		default:
			fatalx("%s: type 0x%02x", __func__, type);
		}
	}
	if (pos != len) {
		e = "trailing bytes after the item";
		goto fail;
	}
	*rootp = root;
	return (0);
 fail:
	ttlv_free(root);
	if (err != NULL)
		*err = e;
	return (-1);
}

/*
 * Iterative, so that freeing never recurses however deep the tree; a
 * node still attached to a structure is detached first.
 */
void
ttlv_free(struct ttlv *n)
{
	struct ttlv	*c, *p;

	if (n == NULL)
		return;
	ttlv_remove(n);
	while (n != NULL) {
		if ((c = TAILQ_FIRST(&n->children)) != NULL) {
			TAILQ_REMOVE(&n->children, c, entry);
			n = c;
			continue;
		}
		p = n->parent;
		/* Strings may be key material (Register, Get): wipe them. */
		if (is_string(n->type))
			freezero(n->v.s.data, n->v.s.len);
		free(n);
		n = p;
	}
}

struct ttlv *
ttlv_new_structure(uint32_t tag)
{
	return (node_new(tag, TTLV_STRUCTURE));
}

struct ttlv *
ttlv_add_structure(struct ttlv *parent, uint32_t tag)
{
	return (node_add(parent, tag, TTLV_STRUCTURE));
}

struct ttlv *
ttlv_add_integer(struct ttlv *parent, uint32_t tag, int32_t v)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_INTEGER);
	n->v.i32 = v;
	return (n);
}

struct ttlv *
ttlv_add_long(struct ttlv *parent, uint32_t tag, int64_t v)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_LONG_INTEGER);
	n->v.i64 = v;
	return (n);
}

struct ttlv *
ttlv_add_enum(struct ttlv *parent, uint32_t tag, uint32_t v)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_ENUMERATION);
	n->v.u32 = v;
	return (n);
}

struct ttlv *
ttlv_add_bool(struct ttlv *parent, uint32_t tag, int v)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_BOOLEAN);
	n->v.b = v != 0;
	return (n);
}

struct ttlv *
ttlv_add_text(struct ttlv *parent, uint32_t tag, const char *s, size_t len)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_TEXT_STRING);
	node_setdata(n, s, len);
	return (n);
}

struct ttlv *
ttlv_add_string(struct ttlv *parent, uint32_t tag, const char *s)
{
	return (ttlv_add_text(parent, tag, s, strlen(s)));
}

struct ttlv *
ttlv_add_bytes(struct ttlv *parent, uint32_t tag, const void *data,
    size_t len)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_BYTE_STRING);
	node_setdata(n, data, len);
	return (n);
}

/*
 * data is a big-endian two's complement number; it is sign-extended on
 * the left to a multiple of 8 bytes as TTLV requires.  An unsigned
 * magnitude with its top bit set (an RSA modulus from BN_bn2bin) needs a
 * leading zero byte from the caller.
 */
struct ttlv *
ttlv_add_bigint(struct ttlv *parent, uint32_t tag, const void *data,
    size_t len)
{
	struct ttlv	*n;
	const uint8_t	*d = data;
	size_t		 plen, ext;

	if (len >= TTLV_MAX_LEN)
		fatalx("%s: value of %zu bytes too long for TTLV", __func__,
		    len);
	plen = TTLV_PAD(len);
	ext = plen - len;
	n = node_add(parent, tag, TTLV_BIG_INTEGER);
	if ((n->v.s.data = malloc(plen > 0 ? plen : 1)) == NULL)
		fatal("%s", __func__);
	memset(n->v.s.data, len > 0 && (d[0] & 0x80) ? 0xff : 0, ext);
	if (len > 0)
		memcpy(n->v.s.data + ext, d, len);
	n->v.s.len = plen;
	return (n);
}

struct ttlv *
ttlv_add_datetime(struct ttlv *parent, uint32_t tag, int64_t v)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_DATE_TIME);
	n->v.i64 = v;
	return (n);
}

struct ttlv *
ttlv_add_interval(struct ttlv *parent, uint32_t tag, uint32_t v)
{
	struct ttlv	*n;

	n = node_add(parent, tag, TTLV_INTERVAL);
	n->v.u32 = v;
	return (n);
}

/*
 * Deep copy, detached.  Walks the source in pre-order keeping dst as the
 * copy of the current source node's parent, so depth costs no stack.
 */
struct ttlv *
ttlv_copy(const struct ttlv *src)
{
	const struct ttlv	*s;
	struct ttlv		*copy = NULL, *dst = NULL, *d;

	if (src == NULL)
		return (NULL);
	s = src;
	for (;;) {
		d = node_add(dst, s->tag, s->type);
		if (is_string(s->type))
			node_setdata(d, s->v.s.data, s->v.s.len);
		else if (s->type != TTLV_STRUCTURE)
			d->v = s->v;
		if (copy == NULL)
			copy = d;
		if (s->type == TTLV_STRUCTURE &&
		    !TAILQ_EMPTY(&s->children)) {
			dst = d;
			s = TAILQ_FIRST(&s->children);
			continue;
		}
		while (s != src && TAILQ_NEXT(s, entry) == NULL) {
			s = s->parent;
			dst = dst->parent;
		}
		if (s == src)
			break;
		s = TAILQ_NEXT(s, entry);
	}
	return (copy);
}

/* Move a detached node (and its subtree) to the end of a structure. */
void
ttlv_append(struct ttlv *parent, struct ttlv *n)
{
	struct ttlv	*a;

	if (parent == NULL || parent->type != TTLV_STRUCTURE)
		fatalx("%s: parent is not a structure", __func__);
	if (n->parent != NULL)
		fatalx("%s: node 0x%06" PRIx32 " is still attached", __func__,
		    n->tag);
	for (a = parent; a != NULL; a = a->parent)
		if (a == n)
			fatalx("%s: node would contain itself", __func__);
	n->parent = parent;
	TAILQ_INSERT_TAIL(&parent->children, n, entry);
}

/* Detach a node from its structure; the caller owns it afterwards. */
void
ttlv_remove(struct ttlv *n)
{
	if (n == NULL || n->parent == NULL)
		return;
	TAILQ_REMOVE(&n->parent->children, n, entry);
	n->parent = NULL;
}

/* The unpadded value length a node encodes to (structures excluded). */
static size_t
value_len(const struct ttlv *n)
{
	switch (n->type) {
	case TTLV_INTEGER:
	case TTLV_ENUMERATION:
	case TTLV_INTERVAL:
		return (4);
	case TTLV_LONG_INTEGER:
	case TTLV_BOOLEAN:
	case TTLV_DATE_TIME:
	case TTLV_DATE_TIME_EXT:
		return (8);
	case TTLV_BIG_INTEGER:
	case TTLV_TEXT_STRING:
	case TTLV_BYTE_STRING:
		return (n->v.s.len);
	case TTLV_STRUCTURE:
		return (0);
	default:
		fatalx("%s: bad type 0x%02x", __func__, n->type);
	}
}

/*
 * Pre-order successor of n within the subtree of top; *depth follows the
 * nesting (+1 into a structure, -1 per level climbed).
 */
static const struct ttlv *
walk_next(const struct ttlv *n, const struct ttlv *top, int *depth)
{
	const struct ttlv	*next;

	if (n->type == TTLV_STRUCTURE && !TAILQ_EMPTY(&n->children)) {
		(*depth)++;
		return (TAILQ_FIRST(&n->children));
	}
	while (n != top) {
		if ((next = TAILQ_NEXT(n, entry)) != NULL)
			return (next);
		n = n->parent;
		(*depth)--;
	}
	return (NULL);
}

size_t
ttlv_encoded_len(const struct ttlv *top)
{
	const struct ttlv	*n;
	size_t			 total = 0;
	int			 depth = 0;

	for (n = top; n != NULL; n = walk_next(n, top, &depth))
		total += TTLV_HEADER_LEN + TTLV_PAD(value_len(n));
	return (total);
}

/*
 * Would ttlv_decode with these limits accept the encoding of this tree?
 * Lets a writer refuse what its reader would refuse, before it is kept.
 */
int
ttlv_check_limits(const struct ttlv *top, const struct ttlv_limits *lim,
    const char **err)
{
	const struct ttlv	*n;
	size_t			 total = 0;
	unsigned int		 items = 0;
	int			 depth = 0;

	for (n = top; n != NULL; n = walk_next(n, top, &depth)) {
		if (++items > lim->max_items) {
			*err = "too many items";
			return (-1);
		}
		if (n->type == TTLV_STRUCTURE &&
		    (unsigned int)depth + 1 > lim->max_depth) {
			*err = "structure nesting too deep";
			return (-1);
		}
		if (is_string(n->type) && n->v.s.len > lim->max_string) {
			*err = "string too long";
			return (-1);
		}
		total += TTLV_HEADER_LEN + TTLV_PAD(value_len(n));
		if (total > lim->max_size) {
			*err = "message too large";
			return (-1);
		}
	}
	return (0);
}

/*
 * Writes one item and returns the end of it.  Recursion depth is the
 * nesting depth: max_depth for decoded trees, whatever the daemon's own
 * code builds otherwise.  The caller has checked the buffer size.
 */
static uint8_t *
encode_item(const struct ttlv *n, uint8_t *p)
{
	const struct ttlv	*c;
	uint8_t			*v = p + TTLV_HEADER_LEN, *end;
	size_t			 len;

	put32(p, n->tag << 8 | (uint8_t)n->type);
	switch (n->type) {
	case TTLV_STRUCTURE:
		end = v;
		TAILQ_FOREACH(c, &n->children, entry)
			end = encode_item(c, end);
		put32(p + 4, (uint32_t)(end - v));
		return (end);
	case TTLV_INTEGER:
		put32(v, (uint32_t)n->v.i32);
		put32(v + 4, 0);
		len = 4;
		break;
	case TTLV_ENUMERATION:
	case TTLV_INTERVAL:
		put32(v, n->v.u32);
		put32(v + 4, 0);
		len = 4;
		break;
	case TTLV_LONG_INTEGER:
	case TTLV_DATE_TIME:
	case TTLV_DATE_TIME_EXT:
		put64(v, (uint64_t)n->v.i64);
		len = 8;
		break;
	case TTLV_BOOLEAN:
		put64(v, n->v.b != 0);
		len = 8;
		break;
	case TTLV_BIG_INTEGER:
	case TTLV_TEXT_STRING:
	case TTLV_BYTE_STRING:
		len = n->v.s.len;
		if (len > 0)
			memcpy(v, n->v.s.data, len);
		memset(v + len, 0, TTLV_PAD(len) - len);
		break;
	default:
		fatalx("%s: bad type 0x%02x", __func__, n->type);
	}
	put32(p + 4, (uint32_t)len);
	return (v + TTLV_PAD(len));
}

int
ttlv_encode(const struct ttlv *n, uint8_t *buf, size_t size)
{
	if (n == NULL || ttlv_encoded_len(n) > size)
		return (-1);
	(void)encode_item(n, buf);
	return (0);
}

struct ttlv *
ttlv_find(const struct ttlv *s, uint32_t tag)
{
	struct ttlv	*c;

	if (s == NULL || s->type != TTLV_STRUCTURE)
		return (NULL);
	TAILQ_FOREACH(c, &s->children, entry)
		if (c->tag == tag)
			return (c);
	return (NULL);
}

/* The next child of s with this tag after prev (a child of s). */
struct ttlv *
ttlv_find_next(const struct ttlv *s, const struct ttlv *prev, uint32_t tag)
{
	struct ttlv	*c;

	if (prev == NULL)
		return (ttlv_find(s, tag));
	if (s == NULL || prev->parent != s)
		return (NULL);
	for (c = TAILQ_NEXT(prev, entry); c != NULL; c = TAILQ_NEXT(c, entry))
		if (c->tag == tag)
			return (c);
	return (NULL);
}

unsigned int
ttlv_count(const struct ttlv *s, uint32_t tag)
{
	struct ttlv	*c;
	unsigned int	 count = 0;

	if (s == NULL || s->type != TTLV_STRUCTURE)
		return (0);
	TAILQ_FOREACH(c, &s->children, entry)
		if (c->tag == tag)
			count++;
	return (count);
}

int
ttlv_get_enum(const struct ttlv *s, uint32_t tag, uint32_t *v)
{
	struct ttlv	*n;

	if ((n = ttlv_find(s, tag)) == NULL || n->type != TTLV_ENUMERATION)
		return (-1);
	*v = n->v.u32;
	return (0);
}

int
ttlv_get_integer(const struct ttlv *s, uint32_t tag, int32_t *v)
{
	struct ttlv	*n;

	if ((n = ttlv_find(s, tag)) == NULL || n->type != TTLV_INTEGER)
		return (-1);
	*v = n->v.i32;
	return (0);
}

int
ttlv_get_long(const struct ttlv *s, uint32_t tag, int64_t *v)
{
	struct ttlv	*n;

	if ((n = ttlv_find(s, tag)) == NULL || n->type != TTLV_LONG_INTEGER)
		return (-1);
	*v = n->v.i64;
	return (0);
}

int
ttlv_get_bool(const struct ttlv *s, uint32_t tag, int *v)
{
	struct ttlv	*n;

	if ((n = ttlv_find(s, tag)) == NULL || n->type != TTLV_BOOLEAN)
		return (-1);
	*v = n->v.b;
	return (0);
}

/* Byte Strings only; the pointer stays valid while the tree lives. */
int
ttlv_get_bytes(const struct ttlv *s, uint32_t tag, const uint8_t **data,
    size_t *len)
{
	struct ttlv	*n;

	if ((n = ttlv_find(s, tag)) == NULL || n->type != TTLV_BYTE_STRING)
		return (-1);
	*data = n->v.s.data;
	*len = n->v.s.len;
	return (0);
}

/*
 * A NUL inside a Text String would let "a\0b" pass for "a" in every C
 * comparison afterwards, so it is refused rather than cut.
 */
int
ttlv_get_text(const struct ttlv *s, uint32_t tag, char *buf, size_t size)
{
	struct ttlv	*n;

	if ((n = ttlv_find(s, tag)) == NULL || n->type != TTLV_TEXT_STRING)
		return (-1);
	if (n->v.s.len >= size ||
	    memchr(n->v.s.data, '\0', n->v.s.len) != NULL)
		return (-1);
	memcpy(buf, n->v.s.data, n->v.s.len);
	buf[n->v.s.len] = '\0';
	return (0);
}

static const char *
type_name(enum ttlv_type type)
{
	switch (type) {
	case TTLV_STRUCTURE:
		return ("Structure");
	case TTLV_INTEGER:
		return ("Integer");
	case TTLV_LONG_INTEGER:
		return ("Long Integer");
	case TTLV_BIG_INTEGER:
		return ("Big Integer");
	case TTLV_ENUMERATION:
		return ("Enumeration");
	case TTLV_BOOLEAN:
		return ("Boolean");
	case TTLV_TEXT_STRING:
		return ("Text String");
	case TTLV_BYTE_STRING:
		return ("Byte String");
	case TTLV_DATE_TIME:
		return ("Date-Time");
	case TTLV_INTERVAL:
		return ("Interval");
	case TTLV_DATE_TIME_EXT:
		return ("Date-Time Extended");
	}
	return ("?");
}

/*
 * At most TTLV_DUMP_MAX bytes, as hex or as escaped text: the dump goes
 * to logs, so nothing from the wire reaches them unescaped or unbounded.
 */
static void
dump_bytes(FILE *fp, const uint8_t *d, size_t len, int text)
{
	size_t	 i, shown = len > TTLV_DUMP_MAX ? TTLV_DUMP_MAX : len;

	if (text)
		fputc('"', fp);
	for (i = 0; i < shown; i++) {
		if (!text)
			fprintf(fp, "%02x", d[i]);
		else if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '"' &&
		    d[i] != '\\')
			fputc(d[i], fp);
		else
			fprintf(fp, "\\x%02x", d[i]);
	}
	if (text)
		fputc('"', fp);
	if (shown < len)
		fprintf(fp, "... (%zu bytes)", len);
}

static void
dump_value(FILE *fp, const struct ttlv *n)
{
	struct tm	 tm;
	time_t		 t;
	const char	*name;
	char		 tbuf[32];

	switch (n->type) {
	case TTLV_STRUCTURE:
		break;
	case TTLV_INTEGER:
		fprintf(fp, " %" PRId32, n->v.i32);
		break;
	case TTLV_ENUMERATION:
		fprintf(fp, " 0x%08" PRIx32, n->v.u32);
		if (n->tag == KMIP_TAG_OPERATION &&
		    (name = kmip_op_name(n->v.u32)) != NULL)
			fprintf(fp, " (%s)", name);
		break;
	case TTLV_INTERVAL:
		fprintf(fp, " %" PRIu32 "s", n->v.u32);
		break;
	case TTLV_LONG_INTEGER:
		fprintf(fp, " %" PRId64, n->v.i64);
		break;
	case TTLV_BOOLEAN:
		fprintf(fp, " %s", n->v.b ? "true" : "false");
		break;
	case TTLV_DATE_TIME:
	case TTLV_DATE_TIME_EXT:
		fprintf(fp, " %" PRId64, n->v.i64);
		t = n->type == TTLV_DATE_TIME ? n->v.i64 : n->v.i64 / 1000000;
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
			fprintf(fp, " (%s)", tbuf);
		break;
	case TTLV_TEXT_STRING:
		fputc(' ', fp);
		dump_bytes(fp, n->v.s.data, n->v.s.len, 1);
		break;
	case TTLV_BIG_INTEGER:
	case TTLV_BYTE_STRING:
		fputc(' ', fp);
		dump_bytes(fp, n->v.s.data, n->v.s.len, 0);
		break;
	}
}

void
ttlv_dump(FILE *fp, const struct ttlv *top)
{
	const struct ttlv	*n;
	const char		*name;
	int			 depth = 0;

	for (n = top; n != NULL; n = walk_next(n, top, &depth)) {
		fprintf(fp, "%*s", depth * 2, "");
		if ((name = kmip_tag_name(n->tag)) != NULL)
			fprintf(fp, "%s", name);
		else
			fprintf(fp, "0x%06" PRIx32, n->tag);
		fprintf(fp, " (%s)", type_name(n->type));
		dump_value(fp, n);
		fputc('\n', fp);
	}
}
