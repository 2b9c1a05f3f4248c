/*
 * libFuzzer target for the TTLV decoder: the input is a message as a
 * hostile client sends it.  Whatever decodes must re-encode to exactly
 * the input (the encoding is canonical), survive a deep copy, every
 * getter and ttlv_dump(), and be freed without a leak.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip.h"
#include "ttlv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_getters(const struct ttlv *);

static FILE	*devnull;

/* Every getter on every structure, with the tags of its children. */
static void
fuzz_getters(const struct ttlv *top)
{
	const struct ttlv	*s, *c, *f;
	const uint8_t		*data;
	char			 text[64];
	size_t			 len;
	int64_t			 i64;
	uint32_t		 u32;
	int32_t			 i32;
	int			 b;

	/* Structures only, so the walk is over s's own children. */
	for (s = top; s != NULL; ) {
		TAILQ_FOREACH(c, &s->children, entry) {
			(void)ttlv_get_enum(s, c->tag, &u32);
			(void)ttlv_get_integer(s, c->tag, &i32);
			(void)ttlv_get_long(s, c->tag, &i64);
			(void)ttlv_get_bool(s, c->tag, &b);
			if (ttlv_get_bytes(s, c->tag, &data, &len) == 0 &&
			    len > 0 && data[len - 1] == 0xff)
				(void)kmip_tag_name(c->tag);
			if (ttlv_get_text(s, c->tag, text, sizeof(text)) == 0) {
				f = ttlv_find(s, c->tag);
				if (strlen(text) != f->v.s.len)
					abort();
				(void)kmip_attr_tag(text);
			}
			for (f = ttlv_find(s, c->tag); f != NULL;
			    f = ttlv_find_next(s, f, c->tag))
				if (f->tag != c->tag)
					abort();
			if (ttlv_count(s, c->tag) == 0)
				abort();
			(void)kmip_attr_name(c->tag);
			if (c->type == TTLV_ENUMERATION)
				(void)kmip_op_name(c->v.u32);
		}
		/* Next structure in pre-order. */
		if ((c = TAILQ_FIRST(&s->children)) != NULL) {
			while (c != NULL && c->type != TTLV_STRUCTURE)
				c = TAILQ_NEXT(c, entry);
			if (c != NULL) {
				s = c;
				continue;
			}
		}
		for (;;) {
			if (s == top) {
				s = NULL;
				break;
			}
			c = TAILQ_NEXT(s, entry);
			while (c != NULL && c->type != TTLV_STRUCTURE)
				c = TAILQ_NEXT(c, entry);
			if (c != NULL) {
				s = c;
				break;
			}
			s = s->parent;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Tight, so that the fuzzer reaches every limit quickly. */
	static const struct ttlv_limits	 lim = { 4096, 8, 256, 512 };
	struct ttlv			*t, *c;
	const char			*err = NULL;
	uint8_t				*buf;
	size_t				 len, total;
	uint32_t			 tag;
	uint8_t				 type;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();

	if (ttlv_frame_len(data, size, &tag, &type, &total) == 0 &&
	    (tag != (uint32_t)(data[0] << 16 | data[1] << 8 | data[2]) ||
	    total < TTLV_HEADER_LEN || total % 8 != 0))
		abort();

	if (ttlv_decode(data, size, &lim, &t, &err) == -1) {
		if (t != NULL || err == NULL || *err == '\0')
			abort();
		return (0);
	}
	/* A decoded message is one whole frame. */
	if (total != size)
		abort();

	len = ttlv_encoded_len(t);
	if (len != size)
		abort();
	if ((buf = malloc(len)) == NULL)
		abort();
	if (ttlv_encode(t, buf, len - 1) != -1 ||
	    ttlv_encode(t, buf, len) != 0 || memcmp(buf, data, len) != 0)
		abort();

	c = ttlv_copy(t);
	memset(buf, 0, len);
	if (ttlv_encode(c, buf, len) != 0 || memcmp(buf, data, len) != 0)
		abort();
	ttlv_free(c);
	free(buf);

	fuzz_getters(t);
	ttlv_dump(devnull, t);
	ttlv_free(t);
	return (0);
}
