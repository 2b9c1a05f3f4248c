/*
 * libFuzzer target for the signer's request parser, hsm_req_parse(): the
 * input is an imsg type and payload as a compromised engine could send
 * them.  A request is either refused with a reason or parsed so that
 * every part it points to lies inside the payload, the parts fill the
 * payload exactly after the fixed record, none is over HSM_DATA_MAX and
 * the object ids (HSM_OP_WRAP's wrapping key too) and the labels are
 * NUL-terminated; an operation's stream fields that hsm_op_stream_ok()
 * takes agree.  IMSG_HSM_FIND carries its value in the fixed record:
 * the key part must lie there, 1 to HSM_FIND_VALUE_MAX bytes.
 *
 * Input: the first byte picks the type (0-3 the four key requests, else
 * any other value from the next four bytes); the rest is the payload,
 * copied into a buffer of exactly its size so that ASan sees any read
 * past it.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmproc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	hsm_stat_begin(uint32_t);
void	hsm_stat_end(uint32_t, int32_t, const char *);

static void	check_part(const uint8_t *, size_t, const uint8_t *, size_t);

/* Abort unless part p/len lies inside buf/blen; absent means len 0. */
static void
check_part(const uint8_t *buf, size_t blen, const uint8_t *p, size_t len)
{
	if (p == NULL) {
		if (len != 0)
			abort();
		return;
	}
	if (len == 0 || len > HSM_DATA_MAX || p < buf || p >= buf + blen ||
	    len > (size_t)(buf + blen - p))
		abort();
}

/* The signer's request counters (hsmident.c) are not fuzzed here. */
void
hsm_stat_begin(uint32_t peerid)
{
}

void
hsm_stat_end(uint32_t peerid, int32_t status, const char *msg)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t	 types[] = {
		IMSG_HSM_GENERATE, IMSG_HSM_IMPORT, IMSG_HSM_OP, IMSG_HSM_FIND,
		IMSG_HSM_LABEL
	};
	struct hsm_req		 r;
	const char		*why = NULL;
	uint8_t			*buf = NULL;
	size_t			 len, fixed = 0, sum;
	uint32_t		 type;

	if (size < 1)
		return (0);
	if (data[0] < sizeof(types) / sizeof(types[0])) {
		type = types[data[0]];
		data++;
		size--;
	} else {
		if (size < 5)
			return (0);
		type = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
		    (uint32_t)data[3] << 8 | data[4];
		data += 5;
		size -= 5;
	}
	len = size;
	if (len > 0) {
		if ((buf = malloc(len)) == NULL)
			return (0);
		memcpy(buf, data, len);
	}
	if (hsm_req_parse(type, buf, len, &r, &why) == -1) {
		if (why == NULL)
			abort();
		free(buf);
		return (0);
	}
	if (r.type != type || strnlen(r.id, sizeof(r.id)) >= sizeof(r.id) ||
	    strnlen(r.label, sizeof(r.label)) >= sizeof(r.label) ||
	    strnlen(r.pub_label, sizeof(r.pub_label)) >= sizeof(r.pub_label) ||
	    strnlen(r.wrap_id, sizeof(r.wrap_id)) >= sizeof(r.wrap_id))
		abort();
	switch (type) {
	case IMSG_HSM_FIND:
		if (len != sizeof(struct hsm_find) || r.data != NULL ||
		    r.iv != NULL || r.aad != NULL || r.sig != NULL ||
		    r.key != buf + offsetof(struct hsm_find, value) ||
		    r.len_key == 0 || r.len_key > HSM_FIND_VALUE_MAX)
			abort();
		free(buf);
		return (0);
	case IMSG_HSM_GENERATE:
		fixed = sizeof(struct hsm_generate);
		break;
	case IMSG_HSM_IMPORT:
		fixed = sizeof(struct hsm_import);
		break;
	case IMSG_HSM_OP:
		fixed = sizeof(struct hsm_op);
		break;
	case IMSG_HSM_LABEL:
		fixed = sizeof(struct hsm_label);
		break;
	default:
		abort();	/* no other type may parse */
	}
	if (len < fixed)
		abort();
	check_part(buf, len, r.key, r.len_key);
	check_part(buf, len, r.data, r.len_data);
	check_part(buf, len, r.iv, r.len_iv);
	check_part(buf, len, r.aad, r.len_aad);
	check_part(buf, len, r.sig, r.len_sig);
	check_part(buf, len, r.oaep_label, r.len_oaep_label);
	sum = r.len_key + r.len_data + r.len_iv + r.len_aad + r.len_sig +
	    r.len_oaep_label;
	if (sum != len - fixed)
		abort();
	/* In order, back to back, right after the fixed record. */
	if ((r.key != NULL && r.key != buf + fixed) ||
	    (r.data != NULL && r.data != buf + fixed + r.len_key) ||
	    (r.iv != NULL && r.iv != buf + fixed + r.len_key + r.len_data) ||
	    (r.aad != NULL && r.aad != buf + fixed + r.len_key + r.len_data +
	    r.len_iv) ||
	    (r.sig != NULL && r.sig != buf + len - r.len_sig -
	    r.len_oaep_label) || (r.oaep_label != NULL &&
	    r.oaep_label != buf + len - r.len_oaep_label))
		abort();
	/*
	 * The stream fields (hsm_pick's check): a part that passes names
	 * its stream and is an Encrypt or Decrypt; an end carries nothing.
	 */
	if (type == IMSG_HSM_OP && hsm_op_stream_ok(r.op, r.flags,
	    r.stream_id, sum) && (((r.flags & HSM_OPF_STREAM) &&
	    (r.stream_id == 0 || (r.op != HSM_OP_ENCRYPT &&
	    r.op != HSM_OP_DECRYPT))) || (r.op == HSM_OP_STREAM_END &&
	    (sum != 0 || r.stream_id == 0)) || (r.flags & ~HSM_OPF_FLAGS)))
		abort();
	free(buf);
	return (0);
}
