/*
 * libFuzzer target for the frontend's framing (frontend/frame.c).  The
 * first two bytes choose the max message, the rest is a byte stream as a
 * client sends it.  frame_next sees each remainder in a buffer of exactly
 * its size, so a read past it is caught; every frame must be whole,
 * padded, within the limit and the size its header declares; a prefix of
 * a frame must ask for more; frames and remainder must add up to the
 * input.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static enum frame_result	 frame_copy(const uint8_t *, size_t, size_t,
				    size_t *);

/* frame_next on a copy of exactly avail bytes. */
static enum frame_result
frame_copy(const uint8_t *p, size_t avail, size_t max, size_t *len)
{
	enum frame_result	 r;
	uint8_t			*b;

	if ((b = malloc(avail ? avail : 1)) == NULL)
		abort();
	memcpy(b, p, avail);
	r = frame_next(b, avail, max, len);
	free(b);
	return (r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum frame_result	 r;
	size_t			 max, pos, len, plen, framed = 0;
	uint64_t		 decl;

	if (size < 2)
		return (0);
	max = MIN_MAX_MESSAGE + ((size_t)data[0] << 8 | data[1]) * 16;
	if (max > MAX_MAX_MESSAGE)
		max = MAX_MAX_MESSAGE;
	data += 2;
	size -= 2;
	for (pos = 0; pos < size; pos += len) {
		r = frame_copy(data + pos, size - pos, max, &len);
		if (r != FRAME_OK) {
			if (r == FRAME_MORE && size - pos >= FRAME_HEADER &&
			    len <= size - pos)
				abort();	/* it was all there */
			break;
		}
		decl = (uint64_t)data[pos + 4] << 24 |
		    (uint64_t)data[pos + 5] << 16 |
		    (uint64_t)data[pos + 6] << 8 | data[pos + 7];
		if (len < FRAME_HEADER || len > max || len > size - pos ||
		    len % 8 != 0 || len != FRAME_HEADER + ((decl + 7) & ~7ULL))
			abort();
		if (data[pos + 3] == 0x01 && decl % 8 != 0)
			abort();	/* a structure must be padded itself */
		/* Any prefix, header or not, is not a frame yet. */
		plen = FRAME_HEADER + (len - FRAME_HEADER) / 2;
		if (frame_copy(data + pos, plen < len ? plen : len - 1,
		    max, &plen) != FRAME_MORE)
			abort();
		if (frame_copy(data + pos, FRAME_HEADER - 1, max, &plen) !=
		    FRAME_MORE)
			abort();
		framed += len;
	}
	if (framed + (size - pos) != size || framed != pos)
		abort();
	return (0);
}
