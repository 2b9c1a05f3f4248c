/*
 * libFuzzer target for the client identity (tls_cert_identity in
 * shared/tls.c): the input is a certificate in DER as a client presents
 * it.  An identity given must be non-empty, fit its buffer, and be valid
 * UTF-8 without NUL or control characters (checked here independently);
 * a refusal must say why and leave the buffer empty.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "tls.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(X509 *, size_t);
static void	check_utf8(const unsigned char *, size_t);

/* Abort unless s is printable UTF-8: decoded to code points and back. */
static void
check_utf8(const unsigned char *s, size_t n)
{
	size_t		 i = 0, k, need;
	unsigned long	 cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				abort();
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			abort();
		if (i + need >= n)
			abort();
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				abort();
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
			abort();
		i += need + 1;
	}
}

static void
check(X509 *x, size_t idlen)
{
	char		 id[256];
	const char	*why = NULL;
	size_t		 n;

	memset(id, 'x', sizeof(id));
	if (tls_cert_identity(x, id, idlen, &why) == 0) {
		n = strlen(id);
		if (why != NULL || n == 0 || n >= idlen)
			abort();
		check_utf8((unsigned char *)id, n);
	} else if (why == NULL || id[0] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*p = data;
	X509			*x;

	if ((x = d2i_X509(NULL, &p, size)) == NULL)
		return (0);
	check(x, 256);
	check(x, 8);		/* "too long" */
	X509_free(x);
	return (0);
}
