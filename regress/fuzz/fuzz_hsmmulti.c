/*
 * libFuzzer target for hsm_multi_next(): the input is the payload of an
 * IMSG_HSM_RESULTS as a compromised signer child would send it (or of an
 * IMSG_HSM_OPS).  The walk must hand out records that lie inside the
 * input, end to end from its start, each exactly its header's length;
 * stop with 0 only where the input ends and with -1 only where what is
 * left is not a whole record, moving nothing then.  The records it hands
 * out, encoded again, are the input up to where it stopped.  Each record
 * is also read as an IMSG_HSM_RESULT (hsm_result_parse), whose parts
 * must lie inside the record.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_rec		 rec, in;
	struct hsm_result	 res;
	const uint8_t		*p, *d, *o1, *o2, *o3, *before;
	uint8_t			*copy, *out;
	size_t			 left, leftbefore, off = 0;
	int			 rv;

	/* A private copy: ASan then sees any read beyond the payload. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL ||
	    (out = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	p = copy;
	left = size;
	for (;;) {
		before = p;
		leftbefore = left;
		d = (const uint8_t *)&rec;
		rv = hsm_multi_next(&p, &left, &rec, &d);
		if (rv == 0) {
			if (leftbefore != 0 || p != before)
				abort();
			break;
		}
		if (rv == -1) {
			if (p != before || left != leftbefore)
				abort();
			/* Truly not a whole record. */
			if (left >= sizeof(in)) {
				memcpy(&in, p, sizeof(in));
				if (in.len <= left - sizeof(in))
					abort();
			}
			break;
		}
		if (rv != 1 || before != copy + off)
			abort();
		memcpy(&in, before, sizeof(in));
		if (memcmp(&in, &rec, sizeof(in)) != 0 ||
		    sizeof(in) + (size_t)rec.len > leftbefore ||
		    p != before + sizeof(in) + rec.len ||
		    left != leftbefore - sizeof(in) - rec.len ||
		    (rec.len > 0 && d != before + sizeof(in)) ||
		    (rec.len == 0 && d != NULL))
			abort();
		/* Encode again, as the sender would. */
		memcpy(out + off, &rec, sizeof(rec));
		if (rec.len > 0)
			memcpy(out + off + sizeof(rec), d, rec.len);
		off += sizeof(rec) + rec.len;
		if (hsm_result_parse(d, rec.len, &res, &o1, &o2, &o3) == 0 &&
		    (o1 < d || o3 + res.len_out3 != d + rec.len))
			abort();
	}
	if (memcmp(out, copy, off) != 0)
		abort();
	free(out);
	free(copy);
	return (0);
}
