/*
 * Framing of KMIP TTLV messages on a byte stream.
 *
 * An item is an 8-byte header (tag, type, length) and its value padded to
 * a multiple of 8 bytes.  A Structure's length is already a multiple of 8;
 * any other item is followed by its padding, which belongs to the frame
 * so that the next message on the stream starts where the client put it.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define TTLV_STRUCTURE		0x01

/*
 * Look at the first avail bytes of buf.  On FRAME_OK, FRAME_MORE (once the
 * header is there) and FRAME_TOOBIG, *framelen is the size of the whole
 * item with its header and padding, computed in 64 bits: a declared length
 * near 2^32 must neither wrap nor look small.  max is the largest frame
 * accepted.
 */
enum frame_result
frame_next(const uint8_t *buf, size_t avail, size_t max, size_t *framelen)
{
	uint64_t	 len, total;

	*framelen = 0;
	if (avail < FRAME_HEADER)
		return (FRAME_MORE);
	len = (uint64_t)buf[4] << 24 | (uint64_t)buf[5] << 16 |
	    (uint64_t)buf[6] << 8 | buf[7];
	total = FRAME_HEADER + ((len + 7) & ~(uint64_t)7);
	*framelen = total > SIZE_MAX ? SIZE_MAX : (size_t)total;
	if (buf[3] == TTLV_STRUCTURE && len % 8 != 0)
		return (FRAME_BAD);
	if (total > max)
		return (FRAME_TOOBIG);
	if (avail < total)
		return (FRAME_MORE);
	return (FRAME_OK);
}
