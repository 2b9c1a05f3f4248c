/*
 * Sign rates of the openssl signer (sw_op: cache lookup by id and blob
 * digest, then EVP) against OpenSSL's EVP alone on the same key, one
 * core.  Not part of the suite:
 *
 *	make O=obj obj/regress/hsmproc/softkey_bench
 *	obj/regress/hsmproc/softkey_bench [seconds]
 */
#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "signerd.h"
#include "softkey.h"

static double	 now(void);
static double	 bench_sw(struct softkey *, const struct hsm_req *, double);
static double	 bench_evp(EVP_PKEY *, const char *, double);

static const uint8_t	 msg[64] = "a message of sixty-four bytes to be signed";

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static double
bench_sw(struct softkey *sk, const struct hsm_req *req, double secs)
{
	struct hsm_res	 res;
	double		 start = now(), t;
	unsigned long	 n = 0;

	do {
		memset(&res, 0, sizeof(res));
		if (sw_op(sk, req, &res) != 0)
			errx(1, "sw_op: %s", res.msg);
		hsm_res_clear(&res);
		n++;
	} while ((t = now() - start) < secs);
	return (n / t);
}

/* What a caller of OpenSSL would do per signature on a loaded key. */
static double
bench_evp(EVP_PKEY *pkey, const char *md, double secs)
{
	EVP_MD_CTX	*mctx;
	uint8_t		 sig[1024];
	size_t		 siglen;
	double		 start = now(), t;
	unsigned long	 n = 0;

	do {
		if ((mctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit_ex(mctx, NULL, md, NULL, NULL, pkey,
		    NULL) != 1)
			errx(1, "EVP_DigestSignInit_ex");
		siglen = sizeof(sig);
		if (EVP_DigestSign(mctx, sig, &siglen, msg,
		    sizeof(msg)) != 1)
			errx(1, "EVP_DigestSign");
		EVP_MD_CTX_free(mctx);
		n++;
	} while ((t = now() - start) < secs);
	return (n / t);
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		uint32_t	 kind, bits, padding, hash;
		const char	*md;
	} t[] = {
		{ "RSA-2048 PKCS#1 v1.5 SHA-256", HSM_KEY_RSA, 2048,
		    HSM_PAD_PKCS1V15, HSM_HASH_SHA256, "SHA256" },
		{ "ECDSA P-256 SHA-256", HSM_KEY_EC_P256, 0, HSM_PAD_NONE,
		    HSM_HASH_SHA256, "SHA256" },
		{ "Ed25519", HSM_KEY_ED25519, 0, HSM_PAD_NONE, HSM_HASH_NONE,
		    NULL },
	};
	struct softkey		*sk;
	struct hsm_req		 req;
	struct hsm_res		 gen;
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*pkey;
	const unsigned char	*p;
	uint8_t			 kek[SK_KEK_LEN], *pt;
	size_t			 i, ptlen;
	double			 secs = 2, a, b;

	if (argc > 1 && (secs = atof(argv[1])) <= 0)
		errx(1, "usage: softkey_bench [seconds]");
	memset(kek, 0x33, sizeof(kek));
	if ((sk = sw_new(kek, 0)) == NULL)
		errx(1, "sw_new");
	printf("%-30s %12s %12s %7s\n", "", "sw_op/s", "EVP/s", "ratio");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&req, 0, sizeof(req));
		memset(&gen, 0, sizeof(gen));
		(void)strlcpy(req.id, "bench-key", sizeof(req.id));
		req.kind = t[i].kind;
		req.bits = t[i].bits;
		if (sw_generate(sk, &req, &gen) != 0)
			errx(1, "generate: %s", gen.msg);
		/* The same key, for EVP alone. */
		if (sw_unwrap(sk, req.id, req.kind, gen.out[0], gen.len[0],
		    &pt, &ptlen) == -1)
			errx(1, "unwrap");
		p = pt;
		if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, ptlen)) == NULL ||
		    (pkey = EVP_PKCS82PKEY(p8)) == NULL)
			errx(1, "PKCS#8");
		PKCS8_PRIV_KEY_INFO_free(p8);
		freezero(pt, ptlen);

		req.type = IMSG_HSM_OP;
		req.op = HSM_OP_SIGN;
		req.padding = t[i].padding;
		req.hash = t[i].hash;
		req.key = gen.out[0];
		req.len_key = gen.len[0];
		req.data = msg;
		req.len_data = sizeof(msg);
		/* Alternate, so that both see the same machine. */
		a = bench_sw(sk, &req, secs / 2);
		b = bench_evp(pkey, t[i].md, secs / 2);
		a = (a + bench_sw(sk, &req, secs / 2)) / 2;
		b = (b + bench_evp(pkey, t[i].md, secs / 2)) / 2;
		printf("%-30s %12.0f %12.0f %6.1f%%\n", t[i].name, a, b,
		    100 * a / b);
		EVP_PKEY_free(pkey);
		hsm_res_clear(&gen);
	}
	sw_free(sk);
	return (0);
}
