/*
 * Password hashes: parse, verify and make the strings of pwhash.h.
 * The parser bounds every parameter, so that a configuration cannot
 * make the engine spend more than PWHASH_SCRYPT_* / PWHASH_PBKDF2_MAX
 * on one client's password.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pwhash.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int	 b64_encode(const uint8_t *, size_t, char *, size_t);
static int	 b64_decode(const char *, size_t, uint8_t *, size_t, size_t *);
static int	 param(const char **, const char *, uint32_t *, uint32_t,
		    uint32_t);
static int	 derive(const struct pwhash *, const void *, size_t,
		    uint8_t *);

/* Unpadded base64 of p into out; -1 if it does not fit. */
static int
b64_encode(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t		 i, o = 0;
	uint32_t	 v;
	int		 n, k;

	for (i = 0; i < len; i += 3) {
		n = len - i >= 3 ? 3 : (int)(len - i);
		v = (uint32_t)p[i] << 16;
		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		for (k = 0; k <= n; k++) {
			if (o + 1 >= outlen)
				return (-1);
			out[o++] = b64[(v >> (18 - 6 * k)) & 0x3f];
		}
	}
	if (o >= outlen)
		return (-1);
	out[o] = '\0';
	return (0);
}

/* Unpadded base64 s (len chars) into out, at most max bytes. */
static int
b64_decode(const char *s, size_t len, uint8_t *out, size_t max, size_t *n)
{
	const char	*c;
	uint32_t	 v = 0;
	size_t		 i, o = 0;
	int		 bits = 0;

	if (len % 4 == 1)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || (c = strchr(b64, s[i])) == NULL)
			return (-1);
		v = (v << 6) | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= max)
				return (-1);
			out[o++] = (v >> bits) & 0xff;
		}
	}
	*n = o;
	return (0);
}

/* "name=<decimal>" at *p, in [lo, hi]; *p moves past it. */
static int
param(const char **p, const char *name, uint32_t *v, uint32_t lo,
    uint32_t hi)
{
	unsigned long	 n;
	size_t		 len = strlen(name);
	char		*end;

	if (strncmp(*p, name, len) != 0 || (*p)[len] != '=' ||
	    (*p)[len + 1] < '0' || (*p)[len + 1] > '9')
		return (-1);
	errno = 0;
	n = strtoul(*p + len + 1, &end, 10);
	if (errno != 0 || n < lo || n > hi)
		return (-1);
	*v = n;
	*p = end;
	return (0);
}

/*
 * Take a hash string apart into h, checking every bound.  0, or -1 with
 * why in err.
 */
int
pwhash_parse(const char *s, struct pwhash *h, char *err, size_t errlen)
{
	const char	*p, *salt, *key;

	memset(h, 0, sizeof(*h));
	if (strlen(s) >= PWHASH_MAX) {
		(void)snprintf(err, errlen, "password hash too long");
		return (-1);
	}
	if (strncmp(s, "$scrypt$", 8) == 0) {
		h->kind = PWHASH_SCRYPT;
		p = s + 8;
		if (param(&p, "ln", &h->ln, PWHASH_SCRYPT_LN_MIN,
		    PWHASH_SCRYPT_LN_MAX) == -1 || *p++ != ',' ||
		    param(&p, "r", &h->r, 1, PWHASH_SCRYPT_R_MAX) == -1 ||
		    *p++ != ',' ||
		    param(&p, "p", &h->p, 1, PWHASH_SCRYPT_P_MAX) == -1) {
			(void)snprintf(err, errlen, "scrypt parameters are "
			    "ln=%d..%d,r=1..%d,p=1..%d", PWHASH_SCRYPT_LN_MIN,
			    PWHASH_SCRYPT_LN_MAX, PWHASH_SCRYPT_R_MAX,
			    PWHASH_SCRYPT_P_MAX);
			return (-1);
		}
		if (128ULL * h->r * h->p * (1ULL << h->ln) >
		    PWHASH_SCRYPT_MEM_MAX) {
			(void)snprintf(err, errlen, "scrypt would take more "
			    "than %llu MiB", PWHASH_SCRYPT_MEM_MAX >> 20);
			return (-1);
		}
	} else if (strncmp(s, "$pbkdf2-sha256$", 15) == 0) {
		h->kind = PWHASH_PBKDF2_SHA256;
		p = s + 15;
		if (param(&p, "i", &h->iter, PWHASH_PBKDF2_MIN,
		    PWHASH_PBKDF2_MAX) == -1) {
			(void)snprintf(err, errlen, "PBKDF2 takes i=%d..%d "
			    "iterations", PWHASH_PBKDF2_MIN,
			    PWHASH_PBKDF2_MAX);
			return (-1);
		}
	} else {
		(void)snprintf(err, errlen, "a password hash is $scrypt$... "
		    "or $pbkdf2-sha256$... (signerctl hash-password)");
		return (-1);
	}
	if (*p++ != '$' || (key = strchr(p, '$')) == NULL) {
		(void)snprintf(err, errlen, "a password hash ends in "
		    "$salt$hash");
		return (-1);
	}
	salt = p;
	key++;
	if (b64_decode(salt, key - 1 - salt, h->salt, sizeof(h->salt),
	    &h->saltlen) == -1 || h->saltlen < PWHASH_SALT_MIN ||
	    b64_decode(key, strlen(key), h->key, sizeof(h->key),
	    &h->keylen) == -1 || h->keylen < PWHASH_KEY_MIN) {
		(void)snprintf(err, errlen, "salt of %d to %d bytes and hash "
		    "of %d to %d bytes, in base64 without padding",
		    PWHASH_SALT_MIN, PWHASH_SALT_MAX, PWHASH_KEY_MIN,
		    PWHASH_KEY_MAX);
		return (-1);
	}
	return (0);
}

static int
derive(const struct pwhash *h, const void *pw, size_t len, uint8_t *out)
{
	uint64_t	 mem;

	if (len > PWHASH_PASSWORD_MAX)
		return (-1);
	switch (h->kind) {
	case PWHASH_SCRYPT:
		mem = 128ULL * h->r * h->p * (1ULL << h->ln) + 1024 * 1024;
		if (EVP_PBE_scrypt(len > 0 ? pw : "", len, h->salt,
		    h->saltlen, 1ULL << h->ln, h->r, h->p, mem, out,
		    h->keylen) != 1)
			return (-1);
		return (0);
	case PWHASH_PBKDF2_SHA256:
		if (PKCS5_PBKDF2_HMAC(len > 0 ? pw : "", len, h->salt,
		    h->saltlen, h->iter, EVP_sha256(), h->keylen, out) != 1)
			return (-1);
		return (0);
	}
	return (-1);
}

/* 1 if pw is the password of h, 0 if not, -1 if it cannot tell. */
int
pwhash_verify(const struct pwhash *h, const void *pw, size_t len)
{
	uint8_t	 k[PWHASH_KEY_MAX];
	int	 rv;

	if (derive(h, pw, len, k) == -1) {
		explicit_bzero(k, sizeof(k));
		return (-1);
	}
	rv = CRYPTO_memcmp(k, h->key, h->keylen) == 0;
	explicit_bzero(k, sizeof(k));
	return (rv);
}

/* The hash string of a new password, with a fresh salt and defaults. */
int
pwhash_make(const void *pw, size_t len, char *out, size_t outlen)
{
	struct pwhash	 h;
	char		 salt[128], key[128];
	int		 n, rv = -1;

	memset(&h, 0, sizeof(h));
	h.kind = PWHASH_SCRYPT;
	h.ln = PWHASH_DEFAULT_LN;
	h.r = PWHASH_DEFAULT_R;
	h.p = PWHASH_DEFAULT_P;
	h.saltlen = 16;
	h.keylen = 32;
	arc4random_buf(h.salt, h.saltlen);
	if (derive(&h, pw, len, h.key) == 0 &&
	    b64_encode(h.salt, h.saltlen, salt, sizeof(salt)) == 0 &&
	    b64_encode(h.key, h.keylen, key, sizeof(key)) == 0) {
		n = snprintf(out, outlen, "$scrypt$ln=%u,r=%u,p=%u$%s$%s",
		    h.ln, h.r, h.p, salt, key);
		rv = n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	explicit_bzero(&h, sizeof(h));
	explicit_bzero(key, sizeof(key));
	return (rv);
}
