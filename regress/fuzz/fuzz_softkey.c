/*
 * libFuzzer target for the openssl signer's handling of bytes it did not
 * make: unwrapping a blob (what the keystore hands back through the
 * engine) under a fixed key-encryption key, and importing a private key
 * in DER (Register: PKCS#8, PKCS#1, SEC1) or using a public key in DER
 * (Verify: SubjectPublicKeyInfo).  Nothing may crash or leak, a blob
 * that unwraps must be one this KEK made for that id and kind, and an
 * imported key must come back as a blob that unwraps under the kind the
 * signer found, with a public half that parses.
 *
 * Input: mode (1 byte), kind (1 byte), then by mode
 *   0 unwrap:	id length (1 byte), id, blob
 *   1 wrap:	data; wrapped and unwrapped again, must round trip
 *   2 import:	DER private key (format HSM_FMT_DER, or PKCS#8 if kind is
 *		odd), kind HSM_KEY_PRIVATE
 *   3 verify:	DER public key, then (last 64 bytes) a signature
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "hsmproc.h"
#include "softkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	hsm_stat_begin(uint32_t);
void	hsm_stat_end(uint32_t, int32_t, const char *);

/* What hsm_status_set would do in a signer child: nothing here. */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
}

static struct softkey	*fuzz_sk(void);
static void		 fuzz_unwrap(struct softkey *, uint32_t,
			    const uint8_t *, size_t);
static void		 fuzz_wrap(struct softkey *, uint32_t,
			    const uint8_t *, size_t);
static void		 fuzz_import(struct softkey *, uint32_t,
			    const uint8_t *, size_t);
static void		 fuzz_verify(struct softkey *, uint32_t,
			    const uint8_t *, size_t);

static const uint8_t	 fuzz_msg[] = "fuzzed";

/*
 * One KEK for every run: 32 bytes of 0x42, as the seeds were made.  One
 * softkey for the whole process (making it is most of a run's cost); its
 * cache of at most 4 keys stays reachable, so it is no leak.
 */
static struct softkey *
fuzz_sk(void)
{
	static struct softkey	*sk;
	uint8_t			 kek[SK_KEK_LEN];

	if (sk == NULL) {
		memset(kek, 0x42, sizeof(kek));
		sk = sw_new(kek, 4);
	}
	return (sk);
}

static void
fuzz_unwrap(struct softkey *sk, uint32_t kind, const uint8_t *p,
    size_t len)
{
	char	 id[HSM_ID_MAX];
	uint8_t	*pt;
	size_t	 idlen, ptlen;

	if (len < 1 || (idlen = p[0]) >= sizeof(id) || len - 1 < idlen)
		return;
	memcpy(id, p + 1, idlen);
	id[idlen] = '\0';
	p += 1 + idlen;
	len -= 1 + idlen;
	if (sw_unwrap(sk, id, kind, p, len, &pt, &ptlen) == 0) {
		if (len <= SK_BLOB_OVERHEAD || ptlen != len - SK_BLOB_OVERHEAD)
			abort();
		freezero(pt, ptlen);
	} else if (pt != NULL || ptlen != 0)
		abort();
}

static void
fuzz_wrap(struct softkey *sk, uint32_t kind, const uint8_t *p, size_t len)
{
	uint8_t	*blob, *pt;
	size_t	 blen, ptlen;

	if (sw_wrap(sk, "fuzz", kind, p, len, &blob, &blen) == -1) {
		if (len != 0 && len <= SK_SECRET_MAX)
			abort();
		return;
	}
	if (blen != len + SK_BLOB_OVERHEAD ||
	    sw_unwrap(sk, "fuzz", kind, blob, blen, &pt, &ptlen) == -1 ||
	    ptlen != len || memcmp(pt, p, len) != 0)
		abort();
	freezero(pt, ptlen);
	/* Another id or kind does not unwrap it. */
	if (sw_unwrap(sk, "fuzz2", kind, blob, blen, &pt, &ptlen) == 0 ||
	    sw_unwrap(sk, "fuzz", kind + 1, blob, blen, &pt, &ptlen) == 0)
		abort();
	free(blob);
}

static void
fuzz_import(struct softkey *sk, uint32_t kind, const uint8_t *p, size_t len)
{
	static const uint32_t	 kinds[] = {
		HSM_KEY_RSA, HSM_KEY_EC_P256, HSM_KEY_EC_P384,
		HSM_KEY_EC_P521, HSM_KEY_ED25519
	};
	struct hsm_req		 r;
	struct hsm_res		 res;
	EVP_PKEY		*pk;
	const uint8_t		*q;
	uint8_t			*pt;
	size_t			 i, ptlen;
	int			 found = 0;

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.type = IMSG_HSM_IMPORT;
	(void)strlcpy(r.id, "fuzz-import", sizeof(r.id));
	r.kind = HSM_KEY_PRIVATE;
	r.format = kind & 1 ? HSM_FMT_PKCS8 : HSM_FMT_DER;
	r.key = p;
	r.len_key = len;
	if (sw_import(sk, &r, &res) != 0) {
		if (res.status == 0 || res.out[0] != NULL || res.msg[0] == '\0')
			abort();
		hsm_res_clear(&res);
		return;
	}
	if (res.len[0] == 0 || res.len[1] == 0)
		abort();
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (sw_unwrap(sk, r.id, kinds[i], res.out[0], res.len[0], &pt,
		    &ptlen) == 0) {
			found++;
			freezero(pt, ptlen);
		}
	q = res.out[1];
	if (found != 1 || (pk = d2i_PUBKEY(NULL, &q, res.len[1])) == NULL ||
	    q != res.out[1] + res.len[1])
		abort();
	EVP_PKEY_free(pk);
	hsm_res_clear(&res);
}

static void
fuzz_verify(struct softkey *sk, uint32_t kind, const uint8_t *p, size_t len)
{
	struct hsm_req	 r;
	struct hsm_res	 res;
	size_t		 siglen = len < 64 ? len : 64;

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.type = IMSG_HSM_OP;
	(void)strlcpy(r.id, "fuzz-pub", sizeof(r.id));
	r.op = HSM_OP_VERIFY;
	r.kind = HSM_KEY_RSA + kind % 5;
	r.padding = kind / 5 % 3;
	r.hash = kind / 15 % 4;
	r.key = len > siglen ? p : NULL;
	r.len_key = len - siglen;
	r.data = fuzz_msg;
	r.len_data = sizeof(fuzz_msg);
	r.sig = siglen > 0 ? p + len - siglen : NULL;
	r.len_sig = siglen;
	/* Random bytes never verify; a refusal says why. */
	if (sw_op(sk, &r, &res) == 0 && res.valid)
		abort();
	if (res.status != 0 && res.msg[0] == '\0')
		abort();
	hsm_res_clear(&res);
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
	struct softkey	*sk;
	uint8_t		*buf;
	uint32_t	 kind;

	if (size < 2)
		return (0);
	/* An exact copy, so that ASan sees any read past the input. */
	if ((buf = malloc(size > 2 ? size - 2 : 1)) == NULL)
		return (0);
	memcpy(buf, data + 2, size - 2);
	kind = data[1];
	if ((sk = fuzz_sk()) == NULL)
		abort();
	switch (data[0] % 4) {
	case 0:
		fuzz_unwrap(sk, kind % 12, buf, size - 2);
		break;
	case 1:
		fuzz_wrap(sk, kind % 12, buf, size - 2);
		break;
	case 2:
		fuzz_import(sk, kind, buf, size - 2);
		break;
	case 3:
		fuzz_verify(sk, kind, buf, size - 2);
		break;
	}
	free(buf);
	return (0);
}
