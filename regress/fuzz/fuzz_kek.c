/*
 * libFuzzer target for what crosses the KEK channel between an openssl
 * signer and the pkcs11 signer of its `wrap with` (hsmmsg.h), and for
 * blobs of version 2 (softkey.h) unwrapped and rewrapped by a token.
 *
 * The token is stood in for by AES-256-GCM in software with the
 * additional data p11kek.c builds, so that what unwraps here is what a
 * token would unwrap.  Nothing may crash or leak; a request or answer
 * that parses must encode back to the same bytes; a version 2 blob that
 * unwraps must wrap and unwrap again to the same key; a version 1 blob
 * that unwraps under the file KEK must rewrap to a version 2 blob of the
 * same key.
 *
 * Input: mode (1 byte), kind (1 byte), then by mode
 *   0 request:	an IMSG_KEK_WRAP/UNWRAP payload (struct hsm_kek, data)
 *   1 answer:	an IMSG_KEK_RESULT payload (struct hsm_kek_result, out)
 *   2 blob v2:	id length (1 byte), id, blob
 *   3 rewrap:	id length (1 byte), id, version 1 blob
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hsmproc.h"
#include "softkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	hsm_stat_begin(uint32_t);
void	hsm_stat_end(uint32_t, int32_t, const char *);

void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
}

static int		 fuzz_token(void *, int, const char *, uint32_t,
			    const uint8_t *, size_t, uint8_t **, size_t *,
			    char *, size_t);
static struct softkey	*fuzz_sk(void);
static void		 fuzz_request(const uint8_t *, size_t);
static void		 fuzz_answer(const uint8_t *, size_t);
static void		 fuzz_blob(struct softkey *, uint32_t,
			    const uint8_t *, size_t, int);

/* The token's KEK: 32 bytes of 0x24; the file KEK: 32 of 0x42. */
static int
fuzz_token(void *arg, int unwrap, const char *id, uint32_t kind,
    const uint8_t *in, size_t inlen, uint8_t **outp, size_t *outlenp,
    char *why, size_t whylen)
{
	static const char	 signer[] = "soft";
	EVP_CIPHER_CTX		*ctx;
	uint8_t			 key[32], aad[1 + 4 + sizeof(signer) +
				    HSM_ID_MAX], *out, *p = aad;
	size_t			 il = strlen(id), size;
	int			 n, ok;

	*outp = NULL;
	*outlenp = 0;
	memset(key, 0x24, sizeof(key));
	*p++ = 2;
	*p++ = kind >> 24;
	*p++ = kind >> 16;
	*p++ = kind >> 8;
	*p++ = kind;
	memcpy(p, signer, sizeof(signer));
	p += sizeof(signer);
	memcpy(p, id, il);
	p += il;
	if (unwrap && inlen <= HSM_KEK_IV_LEN + HSM_KEK_TAG_LEN) {
		(void)snprintf(why, whylen, "too short");
		return (-1);
	}
	size = unwrap ? inlen - HSM_KEK_IV_LEN - HSM_KEK_TAG_LEN :
	    HSM_KEK_IV_LEN + inlen + HSM_KEK_TAG_LEN;
	if ((out = malloc(size)) == NULL || (ctx = EVP_CIPHER_CTX_new()) ==
	    NULL)
		abort();
	if (unwrap)
		ok = EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, in,
		    NULL) == 1 &&
		    EVP_DecryptUpdate(ctx, NULL, &n, aad, p - aad) == 1 &&
		    EVP_DecryptUpdate(ctx, out, &n, in + HSM_KEK_IV_LEN,
		    size) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
		    HSM_KEK_TAG_LEN, (void *)(uintptr_t)(in + inlen -
		    HSM_KEK_TAG_LEN)) == 1 &&
		    EVP_DecryptFinal_ex(ctx, out + n, &n) == 1;
	else
		ok = RAND_bytes(out, HSM_KEK_IV_LEN) == 1 &&
		    EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, out,
		    NULL) == 1 &&
		    EVP_EncryptUpdate(ctx, NULL, &n, aad, p - aad) == 1 &&
		    EVP_EncryptUpdate(ctx, out + HSM_KEK_IV_LEN, &n, in,
		    inlen) == 1 &&
		    EVP_EncryptFinal_ex(ctx, out + HSM_KEK_IV_LEN + n,
		    &n) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
		    HSM_KEK_TAG_LEN, out + HSM_KEK_IV_LEN + inlen) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		freezero(out, size);
		(void)snprintf(why, whylen, "does not unwrap");
		return (-1);
	}
	*outp = out;
	*outlenp = size;
	return (0);
}

static struct softkey *
fuzz_sk(void)
{
	static struct softkey	*sk;
	uint8_t			 kek[SK_KEK_LEN];

	if (sk == NULL) {
		memset(kek, 0x42, sizeof(kek));
		if ((sk = sw_new(kek, 4)) == NULL)
			abort();
		sw_set_hsm(sk, fuzz_token, NULL);
	}
	return (sk);
}

/* A request parses only if its lengths add up, and encodes back. */
static void
fuzz_request(const uint8_t *p, size_t len)
{
	struct hsm_kek	 k;
	const uint8_t	*data;

	if (hsm_kek_parse(p, len, &k, &data) == -1)
		return;
	if (len != sizeof(k) + k.len_data || k.len_data > HSM_DATA_MAX ||
	    memchr(k.id, '\0', sizeof(k.id)) == NULL ||
	    (k.len_data > 0 && data != p + sizeof(k)) ||
	    (k.len_data == 0 && data != NULL))
		abort();
	/* Only the id's last byte may differ: it is made a NUL. */
	if (memcmp(k.id, p + offsetof(struct hsm_kek, id),
	    sizeof(k.id) - 1) != 0 || k.id[sizeof(k.id) - 1] != '\0' ||
	    memcmp((const uint8_t *)&k + offsetof(struct hsm_kek, kind),
	    p + offsetof(struct hsm_kek, kind), sizeof(k) -
	    offsetof(struct hsm_kek, kind)) != 0)
		abort();
}

static void
fuzz_answer(const uint8_t *p, size_t len)
{
	struct hsm_kek_result	 r;
	const uint8_t		*out;

	if (hsm_kek_result_parse(p, len, &r, &out) == -1)
		return;
	if (len != sizeof(r) + r.len_out || r.len_out > HSM_DATA_MAX ||
	    memchr(r.msg, '\0', sizeof(r.msg)) == NULL ||
	    (r.len_out > 0 && out != p + sizeof(r)) ||
	    memcmp(&r.len_out, p + offsetof(struct hsm_kek_result, len_out),
	    sizeof(r.len_out)) != 0 ||
	    memcmp(&r.status, p, sizeof(r.status)) != 0)
		abort();
}

/* Unwrap a version 2 blob (rewrap 0) or rewrap a version 1 blob. */
static void
fuzz_blob(struct softkey *sk, uint32_t kind, const uint8_t *p, size_t len,
    int rewrap)
{
	char	 id[HSM_ID_MAX], why[HSM_MSG_MAX];
	uint8_t	*pt, *pt2, *blob;
	size_t	 idlen, ptlen, ptlen2, blen;

	if (len < 1 || (idlen = p[0]) >= sizeof(id) || len - 1 < idlen)
		return;
	memcpy(id, p + 1, idlen);
	id[idlen] = '\0';
	p += 1 + idlen;
	len -= 1 + idlen;
	if (rewrap) {
		if (sw_rewrap(sk, id, kind, p, len, &blob, &blen, why,
		    sizeof(why)) == -1) {
			if (blob != NULL || why[0] == '\0')
				abort();
			return;
		}
		if (blen != len || blob[0] != SK_BLOB_HSM ||
		    sw_unwrap(sk, id, kind, p, len, &pt, &ptlen) == -1 ||
		    sw_unwrap(sk, id, kind, blob, blen, &pt2, &ptlen2) == -1 ||
		    ptlen != ptlen2 || memcmp(pt, pt2, ptlen) != 0)
			abort();
		freezero(pt, ptlen);
		freezero(pt2, ptlen2);
		free(blob);
		return;
	}
	if (len > 0 && p[0] != SK_BLOB_HSM)
		return;
	if (sw_unwrap(sk, id, kind, p, len, &pt, &ptlen) == -1) {
		if (pt != NULL)
			abort();
		return;
	}
	if (ptlen != len - SK_BLOB_OVERHEAD ||
	    sw_wrap(sk, id, kind, pt, ptlen, &blob, &blen) == -1 ||
	    blob[0] != SK_BLOB_HSM || blen != len ||
	    sw_unwrap(sk, id, kind, blob, blen, &pt2, &ptlen2) == -1 ||
	    ptlen2 != ptlen || memcmp(pt, pt2, ptlen) != 0)
		abort();
	freezero(pt, ptlen);
	freezero(pt2, ptlen2);
	free(blob);
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
	if (size < 2)
		return (0);
	switch (data[0] % 4) {
	case 0:
		fuzz_request(data + 2, size - 2);
		break;
	case 1:
		fuzz_answer(data + 2, size - 2);
		break;
	case 2:
		fuzz_blob(fuzz_sk(), data[1], data + 2, size - 2, 0);
		break;
	case 3:
		fuzz_blob(fuzz_sk(), data[1], data + 2, size - 2, 1);
		break;
	}
	return (0);
}
