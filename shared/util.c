/*
 * Small helpers shared by every process.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "signerd.h"

const char *
proc_kind_name(enum proc_kind k)
{
	switch (k) {
	case PROC_PARENT:
		return ("parent");
	case PROC_FRONTEND:
		return ("frontend");
	case PROC_ENGINE:
		return ("engine");
	case PROC_HSM:
		return ("signer");
	}
	return ("unknown");
}

const char *
proc_state_name(enum proc_state s)
{
	switch (s) {
	case PSTATE_STOPPED:
		return ("stopped");
	case PSTATE_RUNNING:
		return ("running");
	case PSTATE_BACKOFF:
		return ("backoff");
	case PSTATE_STOPPING:
		return ("stopping");
	}
	return ("unknown");
}

const char *
signer_state_name(enum signer_state s)
{
	switch (s) {
	case SSTATE_UNKNOWN:
		return ("unknown");
	case SSTATE_STARTING:
		return ("starting");
	case SSTATE_READY:
		return ("ready");
	case SSTATE_ERROR:
		return ("error");
	case SSTATE_LOCKED:
		return ("locked");
	case SSTATE_UNSUPPORTED:
		return ("unsupported");
	case SSTATE_HUNG:
		return ("hung");
	case SSTATE_RESTARTING:
		return ("restarting");
	case SSTATE_WRONG_TOKEN:
		return ("wrong-token");
	}
	return ("unknown");
}

/* The answer to a signerctl request. */
void
ctl_result_set(struct ctl_result *res, enum ctl_code code, const char *msg)
{
	memset(res, 0, sizeof(*res));
	res->code = code;
	(void)strlcpy(res->msg, msg, sizeof(res->msg));
}

/* Re-terminate a fixed char array received from another process. */
void
strterm(char *s, size_t len)
{
	if (len > 0)
		s[len - 1] = '\0';
}

/*
 * The length of the UTF-8 character at p (at most len bytes), or 0 if
 * it is not one: an overlong form, a surrogate, a code point over
 * U+10FFFF, a stray continuation byte or a truncated sequence.
 */
size_t
utf8_char(const uint8_t *p, size_t len)
{
	uint32_t	 cp;
	size_t		 n, i;

	if (len == 0)
		return (0);
	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (0);	/* continuation, 0xc0/0xc1 or 0xf5.. */
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

/* Is the character of n bytes at p a control: C0, DEL or C1? */
int
utf8_control(const uint8_t *p, size_t n)
{
	return ((n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
	    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0));
}
