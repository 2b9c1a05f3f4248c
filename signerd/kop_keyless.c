/*
 * The cryptographic services that use no managed object: Hash, RNG
 * Retrieve and RNG Seed (KMIP 1.2).  The engine does them itself with
 * OpenSSL; no signer is involved, so Query lists them whatever signers
 * are configured.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "engine.h"
#include "kmip.h"
#include "kop.h"
#include "kreq.h"
#include "log.h"

/* What RNG Retrieve gives and RNG Seed takes at once, in bytes. */
#define KOP_RNG_MAX	4096

/*
 * Streamed operations (Correlation Value, Init and Final Indicator,
 * KMIP 1.3) keep state between requests: not supported, and said so
 * rather than answering for the one part seen.
 */
int
kop_no_stream(struct kreq *r, const struct ttlv *req)
{
	if (ttlv_find(req, KMIP_TAG_CORRELATION_VALUE) == NULL &&
	    ttlv_find(req, KMIP_TAG_INIT_INDICATOR) == NULL &&
	    ttlv_find(req, KMIP_TAG_FINAL_INDICATOR) == NULL)
		return (0);
	kreq_fail(r, KMIP_REASON_FEATURE_NOT_SUPPORTED, "streamed "
	    "operations (Correlation Value, Init and Final Indicator) are "
	    "not supported");
	return (-1);
}

enum kop_ret
op_hash(struct kreq *r, const struct ttlv *req)
{
	const struct ttlv	*cp;
	const EVP_MD		*md;
	const uint8_t		*p;
	size_t			 n;
	uint8_t			 out[EVP_MAX_MD_SIZE];
	unsigned int		 outlen;
	uint32_t		 h;

	if (kop_no_stream(r, req) == -1)
		return (KOP_DONE);
	if ((cp = ttlv_find(req, KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS)) == NULL ||
	    cp->type != TTLV_STRUCTURE ||
	    ttlv_get_enum(cp, KMIP_TAG_HASHING_ALGORITHM, &h) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Hash needs "
		    "Cryptographic Parameters with a Hashing Algorithm");
		return (KOP_DONE);
	}
	switch (h) {
	case KMIP_HASH_SHA1:
		md = EVP_sha1();
		break;
	case KMIP_HASH_SHA224:
		md = EVP_sha224();
		break;
	case KMIP_HASH_SHA256:
		md = EVP_sha256();
		break;
	case KMIP_HASH_SHA384:
		md = EVP_sha384();
		break;
	case KMIP_HASH_SHA512:
		md = EVP_sha512();
		break;
	default:
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "hashing algorithm "
		    "not supported: SHA-1, SHA-224, SHA-256, SHA-384, "
		    "SHA-512");
		return (KOP_DONE);
	}
	if (ttlv_get_bytes(req, KMIP_TAG_DATA, &p, &n) == -1) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "no Data");
		return (KOP_DONE);
	}
	if (EVP_Digest(p, n, out, &outlen, md, NULL) != 1) {
		kreq_fail(r, KMIP_REASON_CRYPTOGRAPHIC_FAILURE, "hash failed");
		return (KOP_DONE);
	}
	ttlv_add_bytes(r->payload, KMIP_TAG_DATA, out, outlen);
	return (KOP_DONE);
}

enum kop_ret
op_rng_retrieve(struct kreq *r, const struct ttlv *req)
{
	uint8_t		*b;
	int32_t		 len;

	if (ttlv_get_integer(req, KMIP_TAG_DATA_LENGTH, &len) == -1 ||
	    len < 1 || len > KOP_RNG_MAX) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Data Length: 1 to "
		    "%d bytes", KOP_RNG_MAX);
		return (KOP_DONE);
	}
	if ((b = malloc(len)) == NULL)
		fatal(NULL);
	if (RAND_bytes(b, len) != 1)
		kreq_fail(r, KMIP_REASON_CRYPTOGRAPHIC_FAILURE, "no random "
		    "bytes");
	else
		ttlv_add_bytes(r->payload, KMIP_TAG_DATA, b, len);
	freezero(b, len);
	return (KOP_DONE);
}

/*
 * The client's bytes are mixed into the DRBG that serves RNG Retrieve,
 * credited with no entropy: they cannot make it weaker, and keys are
 * made by the signers from their own.
 */
enum kop_ret
op_rng_seed(struct kreq *r, const struct ttlv *req)
{
	const uint8_t	*p;
	size_t		 n;

	if (ttlv_get_bytes(req, KMIP_TAG_DATA, &p, &n) == -1 || n == 0 ||
	    n > KOP_RNG_MAX) {
		kreq_fail(r, KMIP_REASON_INVALID_FIELD, "Data: 1 to %d bytes",
		    KOP_RNG_MAX);
		return (KOP_DONE);
	}
	RAND_add(p, (int)n, 0.0);
	ttlv_add_integer(r->payload, KMIP_TAG_DATA_LENGTH, (int32_t)n);
	return (KOP_DONE);
}
