/*
 * libFuzzer target for the openssl signer's streams (hsmmsg.h): AES
 * Encrypt and Decrypt by parts, cut where the input says.  By parts,
 * the result must be the whole operation's, byte for byte (the GCM tag
 * too), or fail where the whole operation fails; a GCM decryption by
 * parts must give no plaintext before its last part, and none at all
 * with a wrong tag.  A stream ended early, or a part of one that does
 * not exist, changes nothing for the others.  Nothing may crash or leak.
 *
 * Input: flags (1 byte: mode in bits 0-1, GCM ECB CBC CTR; bit 2 PKCS5
 * padding; bit 3 decrypt; bits 4-5 key of 16, 24 or 32 bytes; bit 6 a
 * wrong tag; bit 7 a second stream ended in the middle), tag length
 * (1 byte, 12 + n % 5), number of cuts (1 byte, 1 + n % 8), the cuts
 * (1 byte each: a part's length), then key, iv (12 bytes for GCM, 16
 * for CBC and CTR), additional data (GCM: 1 byte of length, the bytes)
 * and the data, at most 2048 bytes.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmproc.h"
#include "softkey.h"

#define FZ_DATA_MAX	2048
#define FZ_CUTS_MAX	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	hsm_stat_begin(uint32_t);
void	hsm_stat_end(uint32_t, int32_t, const char *);

static struct softkey	*fz_sk(void);
static int		 fz_run(struct hsm_req *, struct hsm_res *);
static int		 fz_part(struct hsm_req *, uint32_t, const uint8_t *,
			    size_t, const uint8_t *, size_t, uint8_t *,
			    size_t *, uint8_t *, size_t *);

/* What hsm_status_set would do in a signer child: nothing here. */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
}

void
hsm_stat_begin(uint32_t peerid)
{
}

void
hsm_stat_end(uint32_t peerid, int32_t status, const char *msg)
{
}

/* One signer for the process, as in fuzz_softkey: a fixed KEK. */
static struct softkey *
fz_sk(void)
{
	static struct softkey	*sk;
	uint8_t			 kek[SK_KEK_LEN];

	if (sk == NULL) {
		memset(kek, 0x42, sizeof(kek));
		if ((sk = sw_new(kek, 4)) == NULL)
			abort();
	}
	return (sk);
}

/* sw_op, checking that a failure leaves no output. */
static int
fz_run(struct hsm_req *r, struct hsm_res *res)
{
	int	 i;

	memset(res, 0, sizeof(*res));
	if (sw_op(fz_sk(), r, res) != 0) {
		if (res->status == 0 || res->msg[0] == '\0')
			abort();
		hsm_res_clear(res);
		for (i = 0; i < HSM_RES_NOUT; i++)
			if (res->out[i] != NULL || res->len[i] != 0)
				abort();
		return (-1);
	}
	return (0);
}

/*
 * One part of stream r->stream_id with flags: its output appended to
 * out at *olen (room for all), the tag of the last into tag, its
 * length into *tlen.
 */
static int
fz_part(struct hsm_req *r, uint32_t flags, const uint8_t *d, size_t dlen,
    const uint8_t *sig, size_t siglen, uint8_t *out, size_t *olen,
    uint8_t *tag, size_t *tlen)
{
	struct hsm_req	 q = *r;
	struct hsm_res	 res;

	q.flags = HSM_OPF_STREAM | flags;
	q.data = dlen > 0 ? d : NULL;
	q.len_data = dlen;
	if (!(flags & HSM_OPF_INIT)) {
		q.key = q.iv = q.aad = NULL;
		q.len_key = q.len_iv = q.len_aad = 0;
	}
	q.sig = siglen > 0 ? sig : NULL;
	q.len_sig = siglen;
	if (fz_run(&q, &res) == -1)
		return (-1);
	if (res.len[0] > FZ_DATA_MAX + 32 - *olen)
		abort();
	if (res.len[0] > 0)
		memcpy(out + *olen, res.out[0], res.len[0]);
	*olen += res.len[0];
	if (res.len[2] > 0) {
		if (res.len[2] > 16 || !(flags & HSM_OPF_FINAL))
			abort();
		memcpy(tag, res.out[2], res.len[2]);
		*tlen = res.len[2];
	}
	hsm_res_clear(&res);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t	 next_id;
	struct hsm_req	 r, w;
	struct hsm_res	 res, whole;
	const uint8_t	*key, *iv = NULL, *aad = NULL, *in;
	uint8_t		 ct[FZ_DATA_MAX + 32], out[FZ_DATA_MAX + 32];
	uint8_t		 out2[FZ_DATA_MAX + 32], tag[16], stag[16], *blob;
	size_t		 klen, ivlen, aadlen = 0, cuts[FZ_CUTS_MAX], ncuts;
	size_t		 i, n, inlen, ctlen, olen = 0, off, blen, taglen;
	size_t		 stlen = 0, olen2 = 0;
	uint32_t	 mode, fl, flags, other = 0;
	int		 dec, gcm, wrongtag, failed = 0, wfailed;

	if (size < 3)
		return (0);
	fl = data[0];
	mode = fl & 3;
	gcm = mode == HSM_MODE_GCM;
	dec = (fl & 0x08) != 0;
	wrongtag = gcm && dec && (fl & 0x40);
	klen = 16 + 8 * (((fl >> 4) & 3) % 3);
	taglen = 12 + data[1] % 5;
	/* Two parts at least: the engine sends no first part as last. */
	ncuts = 1 + data[2] % FZ_CUTS_MAX;
	data += 3;
	size -= 3;
	if (size < ncuts)
		return (0);
	for (i = 0; i < ncuts; i++)
		cuts[i] = data[i];
	data += ncuts;
	size -= ncuts;
	ivlen = gcm ? 12 : mode == HSM_MODE_ECB ? 0 : 16;
	if (size < klen + ivlen)
		return (0);
	key = data;
	if (ivlen > 0)
		iv = data + klen;
	data += klen + ivlen;
	size -= klen + ivlen;
	if (gcm && size > 0) {
		aadlen = data[0];
		if (size - 1 < aadlen)
			return (0);
		aad = aadlen > 0 ? data + 1 : NULL;
		data += 1 + aadlen;
		size -= 1 + aadlen;
	}
	if (size > FZ_DATA_MAX)
		return (0);
	in = data;
	inlen = size;

	/* The key, wrapped as Register would. */
	memset(&r, 0, sizeof(r));
	r.type = IMSG_HSM_OP;
	(void)strlcpy(r.id, "fuzz-stream", sizeof(r.id));
	r.kind = HSM_KEY_AES;
	if (sw_wrap(fz_sk(), r.id, HSM_KEY_AES, key, klen, &blob,
	    &blen) == -1)
		abort();
	r.key = blob;
	r.len_key = blen;
	r.mode = mode;
	r.padding = (fl & 0x04) && !gcm && mode != HSM_MODE_CTR ?
	    HSM_PAD_PKCS5 : HSM_PAD_NONE;
	r.tag_len = gcm ? taglen : 0;
	r.iv = iv;
	r.len_iv = ivlen;
	r.aad = aad;
	r.len_aad = aadlen;

	/* The whole encryption: what decryption starts from, or is. */
	w = r;
	w.op = HSM_OP_ENCRYPT;
	w.data = inlen > 0 ? in : NULL;
	w.len_data = inlen;
	wfailed = fz_run(&w, &whole) == -1;
	ctlen = 0;
	if (!wfailed) {
		if (whole.len[0] > sizeof(ct) ||
		    (gcm && whole.len[2] != taglen))
			abort();
		ctlen = whole.len[0];
		if (ctlen > 0)
			memcpy(ct, whole.out[0], ctlen);
		if (gcm)
			memcpy(tag, whole.out[2], taglen);
		hsm_res_clear(&whole);
	} else if (dec) {
		free(blob);
		return (0);		/* nothing to decrypt */
	}
	if (dec) {
		in = ct;
		inlen = ctlen;
		if (wrongtag)
			tag[0] ^= 1;
	}

	/* By parts. */
	r.op = dec ? HSM_OP_DECRYPT : HSM_OP_ENCRYPT;
	r.stream_id = ++next_id;
	if (r.stream_id == 0)
		r.stream_id = ++next_id;
	for (i = 0, off = 0; i <= ncuts && !failed; i++) {
		n = i < ncuts ? cuts[i] : inlen - off;
		if (n > inlen - off)
			n = inlen - off;
		flags = (i == 0 ? HSM_OPF_INIT : 0) |
		    (i == ncuts ? HSM_OPF_FINAL : 0);
		failed = fz_part(&r, flags, in + off, n, i == ncuts && dec &&
		    gcm ? tag : NULL, i == ncuts && dec && gcm ? taglen : 0,
		    out, &olen, stag, &stlen) == -1;
		off += n;
		/* Nothing of a GCM decryption before its end. */
		if (!failed && dec && gcm && i < ncuts && olen != 0)
			abort();
		if (i == 0 && (fl & 0x80) && !failed) {
			/* Another stream, ended early: ours goes on. */
			w = r;
			w.stream_id = other = ++next_id;
			if (fz_part(&w, HSM_OPF_INIT, in, 0, NULL, 0, out2,
			    &olen2, stag, &stlen) == -1)
				abort();
			memset(&w, 0, sizeof(w));
			w.type = IMSG_HSM_OP;
			w.op = HSM_OP_STREAM_END;
			w.stream_id = other;
			if (fz_run(&w, &res) == -1)
				abort();
			stlen = 0;
		}
	}
	if (dec && wrongtag) {
		if (!failed || olen != 0)
			abort();
	} else if (dec) {
		/* The plaintext is what was encrypted. */
		if (failed || olen != size || (olen > 0 &&
		    memcmp(out, data, olen) != 0))
			abort();
	} else if (wfailed) {
		if (!failed)
			abort();
	} else if (failed || olen != ctlen || (olen > 0 &&
	    memcmp(out, ct, olen) != 0) || (gcm && (stlen != taglen ||
	    memcmp(stag, tag, taglen) != 0)))
		abort();
	/* Closed either way: a part more finds no stream. */
	if (fz_part(&r, 0, in, 0, NULL, 0, out, &olen, stag, &stlen) != -1)
		abort();
	if (other != 0) {
		r.stream_id = other;
		if (fz_part(&r, 0, in, 0, NULL, 0, out, &olen, stag,
		    &stlen) != -1)
			abort();
	}
	explicit_bzero(out, sizeof(out));
	free(blob);
	return (0);
}
