/*
 * Framing of KMIP TTLV messages on a byte stream, kept apart from the
 * frontend's event code so that a fuzz target can drive it.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER		8	/* tag (3), type (1), length (4) */

enum frame_result {
	FRAME_OK,		/* *framelen bytes are one whole item */
	FRAME_MORE,		/* not enough bytes yet */
	FRAME_BAD,		/* cannot be a KMIP item: close */
	FRAME_TOOBIG		/* longer than the limit: close */
};

enum frame_result	 frame_next(const uint8_t *, size_t, size_t,
			    size_t *);

#endif /* FRAME_H */
