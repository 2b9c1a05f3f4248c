/*
 * Password hashes of identities (signerd.conf(5) identity password):
 * only the salted slow hash is in the configuration, its parameters in
 * the string.  Two forms:
 *
 *	$scrypt$ln=13,r=8,p=1$<salt>$<hash>
 *	$pbkdf2-sha256$i=100000$<salt>$<hash>
 *
 * salt and hash in unpadded base64.  The engine derives a key from what
 * a client sends and compares it with the hash in constant time.
 */
#ifndef PWHASH_H
#define PWHASH_H

#include <stddef.h>
#include <stdint.h>

#define PWHASH_MAX		256	/* the string, with its NUL */
#define PWHASH_SALT_MIN		8
#define PWHASH_SALT_MAX		64
#define PWHASH_KEY_MIN		16
#define PWHASH_KEY_MAX		64
#define PWHASH_PASSWORD_MAX	1024	/* what a client may send */

/*
 * What the engine may spend on one derivation: it runs in the single-
 * threaded engine, so every other client waits meanwhile.  scrypt up to
 * 2^16 (64 MiB with r 8), PBKDF2 up to 1,000,000 iterations: about
 * half a second at most.  The default (signerctl hash-password) is
 * scrypt 2^13, r 8, p 1: 8 MiB, some 50 ms.
 */
#define PWHASH_SCRYPT_LN_MIN	10
#define PWHASH_SCRYPT_LN_MAX	16
#define PWHASH_SCRYPT_R_MAX	16
#define PWHASH_SCRYPT_P_MAX	4
#define PWHASH_SCRYPT_MEM_MAX	(64ULL * 1024 * 1024)
#define PWHASH_PBKDF2_MIN	10000
#define PWHASH_PBKDF2_MAX	1000000
#define PWHASH_DEFAULT_LN	13
#define PWHASH_DEFAULT_R	8
#define PWHASH_DEFAULT_P	1

enum pwhash_kind {
	PWHASH_SCRYPT = 1,
	PWHASH_PBKDF2_SHA256
};

struct pwhash {
	enum pwhash_kind kind;
	uint32_t	 ln, r, p;	/* scrypt: N = 2^ln */
	uint32_t	 iter;		/* PBKDF2 */
	uint8_t		 salt[PWHASH_SALT_MAX];
	size_t		 saltlen;
	uint8_t		 key[PWHASH_KEY_MAX];
	size_t		 keylen;
};

int	 pwhash_parse(const char *, struct pwhash *, char *, size_t);
int	 pwhash_verify(const struct pwhash *, const void *, size_t);
int	 pwhash_make(const void *, size_t, char *, size_t);

#endif /* PWHASH_H */
