/*
 * Small helpers shared by every process.
 */
#include <stddef.h>
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
