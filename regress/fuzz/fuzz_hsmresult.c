/*
 * libFuzzer target for hsm_result_parse(): the input is the payload of
 * an IMSG_HSM_RESULT as a compromised signer child would send it.  The
 * parser must accept exactly the payloads whose three lengths add up to
 * what follows the record, hand out parts that lie inside the input,
 * and leave its outputs alone when it refuses.  What it accepts is
 * re-encoded and must equal the input (but for the message, which is
 * terminated).  out1 and out2 of an accepted payload are also read as
 * the answer to IMSG_HSM_FIND (hsm_found_parse): whole records, each
 * one's lengths inside its arrays and its public key inside out2, the
 * records copied unchanged but for the terminated reason.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_found(const uint8_t *, size_t, const uint8_t *, size_t);

static void
check_found(const uint8_t *o1, size_t l1, const uint8_t *o2, size_t l2)
{
	struct hsm_found	 fd[HSM_FIND_MAX], in;
	size_t			 n = 99, i;
	int			 ok, want;

	want = l1 % sizeof(in) == 0 && l1 / sizeof(in) <= HSM_FIND_MAX;
	for (i = 0; want && i < l1 / sizeof(in); i++) {
		memcpy(&in, o1 + i * sizeof(in), sizeof(in));
		want = (in.class == HSM_CLASS_PRIVATE ||
		    in.class == HSM_CLASS_SECRET) &&
		    in.len_ckid <= sizeof(in.ckid) &&
		    in.len_label <= sizeof(in.label) &&
		    in.len_ref <= sizeof(in.ref) &&
		    (uint64_t)in.spki_off + in.spki_len <= l2;
	}
	ok = hsm_found_parse(o1, l1, o2, l2, fd, HSM_FIND_MAX, &n) == 0;
	if (ok != want)
		abort();
	if (!ok)
		return;
	if (n != l1 / sizeof(in))
		abort();
	for (i = 0; i < n; i++) {
		memcpy(&in, o1 + i * sizeof(in), sizeof(in));
		in.why[sizeof(in.why) - 1] = '\0';
		if (memchr(fd[i].why, '\0', sizeof(fd[i].why)) == NULL ||
		    memcmp(&in, &fd[i], sizeof(in)) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_result	 res, in, sentinel;
	const uint8_t		*o1, *o2, *o3, *mark;
	uint8_t			*copy, *out;
	uint64_t		 sum;
	int			 ok, want;

	/* A private copy: ASan then sees any read beyond the payload. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);

	memset(&sentinel, 0xa5, sizeof(sentinel));
	res = sentinel;
	mark = (const uint8_t *)&sentinel;
	o1 = o2 = o3 = mark;

	want = 0;
	if (size >= sizeof(in)) {
		memcpy(&in, copy, sizeof(in));
		sum = (uint64_t)in.len_out1 + in.len_out2 + in.len_out3;
		want = sum == size - sizeof(in);
	}
	ok = hsm_result_parse(copy, size, &res, &o1, &o2, &o3) == 0;
	if (ok != want)
		abort();
	if (!ok) {
		if (memcmp(&res, &sentinel, sizeof(res)) != 0 ||
		    o1 != mark || o2 != mark || o3 != mark)
			abort();
		free(copy);
		return (0);
	}

	/* The parts, in order, inside the payload, end to end. */
	if (o1 != copy + sizeof(res) || o2 != o1 + res.len_out1 ||
	    o3 != o2 + res.len_out2 || o3 + res.len_out3 != copy + size)
		abort();
	if (memchr(res.msg, '\0', sizeof(res.msg)) == NULL)
		abort();
	if (res.status != in.status || res.valid != in.valid ||
	    res.len_out1 != in.len_out1 || res.len_out2 != in.len_out2 ||
	    res.len_out3 != in.len_out3 ||
	    memcmp(res.msg, in.msg, sizeof(res.msg) - 1) != 0)
		abort();

	check_found(o1, res.len_out1, o2, res.len_out2);

	/* Encode again, as the signer would: the same bytes. */
	if ((out = malloc(size)) == NULL)
		abort();
	in.msg[sizeof(in.msg) - 1] = '\0';
	memcpy(out, &in, sizeof(in));
	memcpy(out + sizeof(in), o1, res.len_out1);
	memcpy(out + sizeof(in) + res.len_out1, o2, res.len_out2);
	memcpy(out + sizeof(in) + res.len_out1 + res.len_out2, o3,
	    res.len_out3);
	copy[offsetof(struct hsm_result, msg) + sizeof(in.msg) - 1] = '\0';
	if (memcmp(out, copy, size) != 0)
		abort();
	free(out);
	free(copy);
	return (0);
}
