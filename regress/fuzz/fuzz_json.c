/*
 * libFuzzer target for the frontend's JSON parser and its conversion to
 * TTLV (frontend/msgenc.c): whatever converts must come back, through
 * JSON and through XML, to the same TTLV (fuzz_msgenc.h); what does not
 * must say why.  Leaks are LeakSanitizer's to find.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgenc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#include "fuzz_msgenc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_text(data, size, ENC_JSON);
	return (0);
}
