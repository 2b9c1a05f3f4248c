/*
 * The parts of the engine-signer protocol (hsmmsg.h) both sides share.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hsmmsg.h"
#include "signerd.h"

/*
 * Take apart the payload of an IMSG_HSM_RESULT: the fixed record, then
 * out1, out2 and out3, whose lengths must add up to the rest exactly.
 * The record is copied into res with its message terminated; the part
 * pointers point into buf.  Returns 0, or -1 if the payload is malformed
 * (then res and the pointers are untouched).
 */
int
hsm_result_parse(const uint8_t *buf, size_t len, struct hsm_result *res,
    const uint8_t **o1, const uint8_t **o2, const uint8_t **o3)
{
	struct hsm_result	 r;
	size_t			 rest;

	if (buf == NULL || len < sizeof(r))
		return (-1);
	memcpy(&r, buf, sizeof(r));
	rest = len - sizeof(r);
	/* Summed in 64 bits: three uint32_t cannot wrap there. */
	if ((uint64_t)r.len_out1 + r.len_out2 + r.len_out3 != rest)
		return (-1);
	strterm(r.msg, sizeof(r.msg));
	*res = r;
	*o1 = buf + sizeof(r);
	*o2 = *o1 + r.len_out1;
	*o3 = *o2 + r.len_out2;
	return (0);
}

/*
 * Take apart the answer to IMSG_HSM_FIND: out1 (o1/l1) holds whole
 * struct hsm_found records, at most max (and HSM_FIND_MAX); each one's
 * lengths within its arrays, its public key inside out2 (o2/l2), its
 * label and reason terminated where the engine reads them.  The records
 * go to found, their count to *n.  Returns 0, or -1 if any of it is
 * malformed (then found is not to be used).
 */
int
hsm_found_parse(const uint8_t *o1, size_t l1, const uint8_t *o2, size_t l2,
    struct hsm_found *found, size_t max, size_t *n)
{
	struct hsm_found	*f;
	size_t			 i, cnt;

	*n = 0;
	if (l1 % sizeof(*f) != 0)
		return (-1);
	cnt = l1 / sizeof(*f);
	if (cnt > max || cnt > HSM_FIND_MAX || (cnt > 0 && o1 == NULL))
		return (-1);
	for (i = 0; i < cnt; i++) {
		f = &found[i];
		memcpy(f, o1 + i * sizeof(*f), sizeof(*f));
		if ((f->class != HSM_CLASS_PRIVATE &&
		    f->class != HSM_CLASS_SECRET) ||
		    f->len_ckid > sizeof(f->ckid) ||
		    f->len_label > sizeof(f->label) ||
		    f->len_ref > sizeof(f->ref) ||
		    (uint64_t)f->spki_off + f->spki_len > l2 ||
		    (f->spki_len > 0 && o2 == NULL))
			return (-1);
		strterm(f->why, sizeof(f->why));
	}
	*n = cnt;
	return (0);
}

/*
 * Take apart an IMSG_KEK_WRAP, IMSG_KEK_UNWRAP or IMSG_HSM_REWRAP
 * payload: struct hsm_kek and exactly len_data bytes, at most
 * HSM_DATA_MAX.  The id is terminated; *data points into buf (NULL if
 * empty).  0, or -1 if malformed.
 */
int
hsm_kek_parse(const uint8_t *buf, size_t len, struct hsm_kek *k,
    const uint8_t **data)
{
	struct hsm_kek	 r;

	if (buf == NULL || len < sizeof(r))
		return (-1);
	memcpy(&r, buf, sizeof(r));
	if (r.len_data > HSM_DATA_MAX || r.len_data != len - sizeof(r))
		return (-1);
	strterm(r.id, sizeof(r.id));
	*k = r;
	*data = r.len_data > 0 ? buf + sizeof(r) : NULL;
	return (0);
}

/* The same for IMSG_KEK_RESULT: struct hsm_kek_result and len_out. */
int
hsm_kek_result_parse(const uint8_t *buf, size_t len,
    struct hsm_kek_result *res, const uint8_t **out)
{
	struct hsm_kek_result	 r;

	if (buf == NULL || len < sizeof(r))
		return (-1);
	memcpy(&r, buf, sizeof(r));
	if (r.len_out > HSM_DATA_MAX || r.len_out != len - sizeof(r))
		return (-1);
	strterm(r.msg, sizeof(r.msg));
	*res = r;
	*out = r.len_out > 0 ? buf + sizeof(r) : NULL;
	return (0);
}

/*
 * The next record of an IMSG_HSM_OPS or IMSG_HSM_RESULTS payload at
 * *buf (*left bytes): its header into rec, its bytes at *data; *buf and
 * *left move past it.  1 for a record, 0 at the end, -1 if what is left
 * is not a whole record (then nothing moved).
 */
int
hsm_multi_next(const uint8_t **buf, size_t *left, struct hsm_rec *rec,
    const uint8_t **data)
{
	struct hsm_rec	 h;

	if (*left == 0)
		return (0);
	if (*buf == NULL || *left < sizeof(h))
		return (-1);
	memcpy(&h, *buf, sizeof(h));
	if (h.len > *left - sizeof(h))
		return (-1);
	*rec = h;
	*data = h.len > 0 ? *buf + sizeof(h) : NULL;
	*buf += sizeof(h) + h.len;
	*left -= sizeof(h) + h.len;
	return (1);
}

/* Whether requests of this type may go in an IMSG_HSM_OPS. */
int
hsm_multi_type_ok(uint32_t type)
{
	switch (type) {
	case IMSG_HSM_GENERATE:
	case IMSG_HSM_IMPORT:
	case IMSG_HSM_OP:
	case IMSG_HSM_FIND:
	case IMSG_HSM_LABEL:
		return (1);
	}
	return (0);
}
