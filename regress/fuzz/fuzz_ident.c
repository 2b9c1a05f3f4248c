/*
 * libFuzzer target for the engine's parsers of what a signer child
 * answers to signer identity and self-test (shared/hsmmsg.c), as a
 * compromised child would send them.  The first byte picks the parser
 * (and, for the identity answer, how many keys were offered); the rest
 * is the payload.
 *
 * hsm_identity_parse must accept exactly the payloads whose parts are
 * within their bounds and fill the rest, with a signature and a valid
 * index on success and no parts on an error; the parts it hands out
 * lie inside the input, in order, and re-encoding what it accepted
 * gives the input back (but for the terminated message).
 * hsm_check_parse must accept only a record of the exact size with
 * bounded steps of known result and clean, terminated text, and clear
 * what follows the steps.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmmsg.h"
#include "signerd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_identity(const uint8_t *, size_t, uint32_t);
static void	fuzz_check(const uint8_t *, size_t);
static int	text_ok(const char *, size_t);

static void
fuzz_identity(const uint8_t *buf, size_t len, uint32_t n)
{
	struct hsm_identity_result	 in, r;
	const uint8_t			*b = NULL, *s = NULL, *g = NULL;
	uint8_t				*re;
	size_t				 rest;
	int				 ok, want;

	memset(&r, 0xa5, sizeof(r));
	ok = hsm_identity_parse(buf, len, n, &r, &b, &s, &g) == 0;
	want = len >= sizeof(in) && n <= HSM_IDENT_MAX;
	if (want) {
		memcpy(&in, buf, sizeof(in));
		rest = len - sizeof(in);
		want = in.len_blob <= HSM_IDENT_BLOB_MAX &&
		    in.len_spki <= HSM_IDENT_SPKI_MAX &&
		    in.len_sig <= HSM_IDENT_SIG_MAX &&
		    (size_t)in.len_blob + in.len_spki + in.len_sig == rest;
		if (want && in.status == 0)
			want = in.len_sig > 0 && in.which >= -1 &&
			    (in.which == -1 || (uint32_t)in.which < n) &&
			    (in.which != -1 || (in.len_blob > 0 &&
			    in.len_spki > 0 && (in.kind == HSM_KEY_EC_P256 ||
			    in.kind == HSM_KEY_RSA))) &&
			    (in.which == -1 || in.len_spki == 0);
		else if (want)
			want = rest == 0;
	}
	if (ok != want)
		abort();
	if (!ok) {
		/* Refused: the outputs are left alone. */
		if (b != NULL || s != NULL || g != NULL)
			abort();
		return;
	}
	if (memchr(r.msg, '\0', sizeof(r.msg)) == NULL)
		abort();
	if ((b != NULL) != (r.len_blob > 0) || (s != NULL) !=
	    (r.len_spki > 0) || (g != NULL) != (r.len_sig > 0))
		abort();
	if ((b != NULL && b != buf + sizeof(r)) ||
	    (s != NULL && s != buf + sizeof(r) + r.len_blob) ||
	    (g != NULL && g + r.len_sig != buf + len))
		abort();
	/* Re-encoded, it is the input, but for the terminated message. */
	if ((re = malloc(len)) == NULL)
		abort();
	memcpy(re, &r, sizeof(r));
	if (b != NULL)
		memcpy(re + sizeof(r), b, r.len_blob);
	if (s != NULL)
		memcpy(re + sizeof(r) + r.len_blob, s, r.len_spki);
	if (g != NULL)
		memcpy(re + len - r.len_sig, g, r.len_sig);
	memcpy(&in, buf, sizeof(in));
	in.msg[sizeof(in.msg) - 1] = '\0';
	if (memcmp(re, &in, sizeof(in)) != 0 ||
	    memcmp(re + sizeof(in), buf + sizeof(in), len - sizeof(in)) != 0)
		abort();
	free(re);
}

static int
text_ok(const char *t, size_t size)
{
	size_t	 i;

	for (i = 0; i < size && t[i] != '\0'; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			return (0);
	return (i < size);
}

static void
fuzz_check(const uint8_t *buf, size_t len)
{
	struct ctl_check	 in, out;
	uint32_t		 i;
	int			 ok, want;

	ok = hsm_check_parse(buf, len, &out) == 0;
	want = len == sizeof(in);
	if (want) {
		memcpy(&in, buf, sizeof(in));
		want = in.signer[0] == '\0' && in.nsteps <= HSM_CHECK_STEPS;
		for (i = 0; want && i < in.nsteps; i++)
			want = in.steps[i].name[0] != '\0' &&
			    text_ok(in.steps[i].name,
			    sizeof(in.steps[i].name)) &&
			    text_ok(in.steps[i].detail,
			    sizeof(in.steps[i].detail)) &&
			    in.steps[i].result >= CHECK_PASS &&
			    in.steps[i].result <= CHECK_SKIP;
	}
	if (ok != want)
		abort();
	if (!ok)
		return;
	/* The steps as sent, nothing after them, no signer name. */
	if (out.nsteps != in.nsteps || memcmp(out.steps, in.steps,
	    in.nsteps * sizeof(in.steps[0])) != 0)
		abort();
	for (i = out.nsteps; i < CHECK_STEPS_MAX; i++)
		if (out.steps[i].name[0] != '\0' ||
		    out.steps[i].detail[0] != '\0' || out.steps[i].result != 0)
			abort();
	if (memchr(out.signer, 0, sizeof(out.signer)) == NULL ||
	    out.signer[0] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*buf;

	if (size < 1)
		return (0);
	/* A copy of its own size: reads past it are caught. */
	if ((buf = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL)
		abort();
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 0x80)
		fuzz_check(buf, size - 1);
	else
		fuzz_identity(size > 1 ? buf : NULL, size - 1,
		    data[0] % (HSM_IDENT_MAX + 2));
	free(buf);
	return (0);
}
