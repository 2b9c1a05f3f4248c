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
 * Take apart the answer to IMSG_HSM_IDENTITY from a signer child, less
 * privileged than the engine: struct hsm_identity_result, then blob,
 * spki and sig, each within its bound, filling the payload exactly.
 * n is the number of keys the request offered.  On success (status 0)
 * there is a signature, and which names an offered key or is -1 with
 * a new key's blob, public key and kind.  The message is terminated.
 * 0, or -1 if malformed.
 */
int
hsm_identity_parse(const uint8_t *buf, size_t len, uint32_t n,
    struct hsm_identity_result *res, const uint8_t **blob,
    const uint8_t **spki, const uint8_t **sig)
{
	struct hsm_identity_result	 r;
	size_t				 rest;

	if (buf == NULL || len < sizeof(r) || n > HSM_IDENT_MAX)
		return (-1);
	memcpy(&r, buf, sizeof(r));
	rest = len - sizeof(r);
	if (r.len_blob > HSM_IDENT_BLOB_MAX ||
	    r.len_spki > HSM_IDENT_SPKI_MAX ||
	    r.len_sig > HSM_IDENT_SIG_MAX ||
	    (size_t)r.len_blob + r.len_spki + r.len_sig != rest)
		return (-1);
	strterm(r.msg, sizeof(r.msg));
	if (r.status == 0) {
		if (r.len_sig == 0 || r.which < -1 ||
		    (r.which >= 0 && (uint32_t)r.which >= n))
			return (-1);
		/* The kinds an identity key is made of. */
		if (r.which == -1 && (r.len_blob == 0 || r.len_spki == 0 ||
		    (r.kind != HSM_KEY_EC_P256 && r.kind != HSM_KEY_RSA)))
			return (-1);
		/* An offered key may come back wrapped anew (rewrap). */
		if (r.which >= 0 && r.len_spki != 0)
			return (-1);
	} else if (rest != 0)
		return (-1);
	*res = r;
	*blob = r.len_blob > 0 ? buf + sizeof(r) : NULL;
	*spki = r.len_spki > 0 ? buf + sizeof(r) + r.len_blob : NULL;
	*sig = r.len_sig > 0 ? buf + sizeof(r) + r.len_blob + r.len_spki :
	    NULL;
	return (0);
}

/* Text from a signer that signerctl prints and the log may show. */
static int
hsm_text_ok(const char *s, size_t size)
{
	size_t	 i;

	if (memchr(s, '\0', size) == NULL)
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (0);
	return (1);
}

/*
 * The answer to IMSG_HSM_CHECK: a struct ctl_check, exactly, with no
 * signer name, at most HSM_CHECK_STEPS steps, each named, with a known
 * result and terminated, printable text.  0, or -1 if malformed.
 */
int
hsm_check_parse(const uint8_t *buf, size_t len, struct ctl_check *cc)
{
	struct ctl_check	 r;
	uint32_t		 i;

	if (buf == NULL || len != sizeof(r))
		return (-1);
	memcpy(&r, buf, sizeof(r));
	if (r.signer[0] != '\0' || r.nsteps > HSM_CHECK_STEPS)
		return (-1);
	for (i = 0; i < r.nsteps; i++) {
		if (!hsm_text_ok(r.steps[i].name, sizeof(r.steps[i].name)) ||
		    r.steps[i].name[0] == '\0' ||
		    !hsm_text_ok(r.steps[i].detail,
		    sizeof(r.steps[i].detail)) ||
		    r.steps[i].result < CHECK_PASS ||
		    r.steps[i].result > CHECK_SKIP)
			return (-1);
	}
	/* What follows the steps given is not looked at: make it empty. */
	memset(&r.steps[r.nsteps], 0, (CHECK_STEPS_MAX - r.nsteps) *
	    sizeof(r.steps[0]));
	memset(r.signer, 0, sizeof(r.signer));
	*cc = r;
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

/*
 * Whether the stream fields of an IMSG_HSM_OP agree (hsmmsg.h): a part
 * is of an Encrypt or Decrypt and names its stream; Init and Final go
 * with a part, not both; the end of a stream names it and carries
 * nothing.  len:
 * the bytes of the parts.  1 or 0.
 */
int
hsm_op_stream_ok(uint32_t op, uint32_t flags, uint32_t stream_id,
    size_t len)
{
	if (flags & ~HSM_OPF_FLAGS)
		return (0);
	if (op == HSM_OP_STREAM_END)
		return (stream_id != 0 && flags == 0 && len == 0);
	if (!(flags & HSM_OPF_STREAM))
		return (stream_id == 0 &&
		    !(flags & (HSM_OPF_INIT | HSM_OPF_FINAL)));
	/* A stream of one part is the whole operation. */
	return (stream_id != 0 && (op == HSM_OP_ENCRYPT ||
	    op == HSM_OP_DECRYPT) && !(flags & HSM_OPF_PREHASHED) &&
	    (flags & (HSM_OPF_INIT | HSM_OPF_FINAL)) !=
	    (HSM_OPF_INIT | HSM_OPF_FINAL));
}
