/*
 * Software keys: generation, wrapping by a key-encryption key, and the
 * operations of the openssl signer, without any imsg (regress tests call
 * these directly).
 *
 * Wrapped blob (everything a software key ever is outside this process):
 *
 *	version (1 byte, 1) | nonce (12) | ciphertext | tag (16)
 *
 * AES-256-GCM under the KEK with a random nonce; the additional data is
 * version (1 byte) | key kind (4 bytes, big endian) | object id (its
 * bytes, no NUL), so a blob moved to another object or kind does not
 * unwrap.  The plaintext is the raw key for AES, HMAC and secret data,
 * a PKCS#8 PrivateKeyInfo (DER) for RSA, EC and Ed25519 private keys.
 *
 * Version 2 has the same layout, made by a KEK in a PKCS#11 token (an
 * openssl signer with `wrap with`): the token chose the iv, and its
 * additional data also names the signer (hsmproc/p11kek.c).  This file
 * does not reach the token itself: the signer gives it a function that
 * does (sw_set_hsm).  Version 1 blobs stay readable while the file KEK
 * is configured, for sw_rewrap.
 */
#ifndef SOFTKEY_H
#define SOFTKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "hsmreq.h"

#define SK_KEK_LEN		32
#define SK_BLOB_VERSION		1	/* under the file KEK */
#define SK_BLOB_HSM		2	/* under a KEK in a token */
#define SK_CV_LEN		8	/* HSM_KEK_CV_LEN */
#define SK_NONCE_LEN		12
#define SK_TAG_LEN		16
#define SK_BLOB_OVERHEAD	(1 + SK_NONCE_LEN + SK_TAG_LEN)
/* A blob must fit the key part of a later IMSG_HSM_OP. */
#define SK_SECRET_MAX		(HSM_DATA_MAX - SK_BLOB_OVERHEAD)
#define SK_HMAC_KEY_MAX		1024
#define SK_CACHE_MAX		1024	/* unwrapped keys kept */

struct softkey;

/*
 * Wrap (unwrap 0) or unwrap key material for object id and kind by the
 * token: in is the key, or iv | ciphertext | tag; *out is malloc'ed.
 * 0, or -1 with why filled in.
 */
typedef int	(*sw_hsm_fn)(void *, int, const char *, uint32_t,
		    const uint8_t *, size_t, uint8_t **, size_t *, char *,
		    size_t);

struct softkey	*sw_new(const uint8_t *, size_t);
void		 sw_set_hsm(struct softkey *, sw_hsm_fn, void *);
int		 sw_check_value(struct softkey *, uint8_t *);
int		 sw_rewrap(struct softkey *, const char *, uint32_t,
		    const uint8_t *, size_t, uint8_t **, size_t *, char *,
		    size_t);
void		 sw_free(struct softkey *);
size_t		 sw_cache_count(const struct softkey *);

int		 sw_generate(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
int		 sw_import(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
int		 sw_op(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
int		 sw_public_op(struct softkey *, const struct hsm_req *,
		    struct hsm_res *);
int		 sw_spki(EVP_PKEY *, struct hsm_res *);

int		 sw_wrap(struct softkey *, const char *, uint32_t,
		    const uint8_t *, size_t, uint8_t **, size_t *);
int		 sw_unwrap(struct softkey *, const char *, uint32_t,
		    const uint8_t *, size_t, uint8_t **, size_t *);

#endif /* SOFTKEY_H */
