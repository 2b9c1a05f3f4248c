/*
 * libFuzzer target for p11_ref() (hsmproc/p11key.c), the pkcs11
 * signer's parser of the key references the engine keeps and sends
 * back: "p11" | 1 | CKA_ID (16 bytes), or "p11" | 2 | flags | n | CKA_ID
 * (n bytes, 1..64).  A compromised engine chooses these bytes.  What the
 * parser accepts must give a CKA_ID inside the input, of a length the
 * version allows, and encode back to exactly the input; everything else
 * is refused.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmproc.h"
#include "p11.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What p11key.c and hsm_pkcs11.c need of hsmproc.c. */
void
hsm_status_set(struct hsm *h, enum signer_state state, const char *fmt, ...)
{
}

void
hsm_retry_soon(struct hsm *h)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*ckid = NULL;
	uint8_t		*copy, *out;
	size_t		 idlen = 0, olen;
	int		 adopted = -1;

	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	if (p11_ref(size > 0 ? copy : NULL, size, &ckid, &idlen,
	    &adopted) != 0) {
		free(copy);
		return (0);
	}
	if (ckid == NULL || ckid < copy || idlen == 0 ||
	    idlen > P11_CKID_MAX || ckid + idlen != copy + size ||
	    (adopted != 0 && adopted != 1))
		abort();
	/* Encode again. */
	if ((out = malloc(6 + idlen)) == NULL)
		abort();
	memcpy(out, "p11", 3);
	if (copy[3] == 1) {
		if (idlen != 16 || adopted)
			abort();
		out[3] = 1;
		memcpy(out + 4, ckid, idlen);
		olen = 4 + idlen;
	} else {
		out[3] = 2;
		out[4] = adopted ? P11_REF_ADOPTED : 0;
		out[5] = idlen;
		memcpy(out + 6, ckid, idlen);
		olen = 6 + idlen;
	}
	if (olen != size || memcmp(out, copy, size) != 0)
		abort();
	free(out);
	free(copy);
	return (0);
}
