/*
 * p11fault.so: a PKCS#11 module for the tests only, never installed.  It
 * loads SoftHSM2 (or $P11FAULT_MODULE), forwards every function of
 * CK_FUNCTION_LIST to it and, on demand, misbehaves as real HSMs do:
 * crashes, hangs, fails with a chosen CKR, drops sessions, wedges until
 * C_Finalize (a network HSM after idling), or hides a mechanism.
 *
 * $P11FAULT_CONTROL names a control file, opened at the first
 * C_Initialize (before the signer child's sandbox; its profile allows
 * files anyway) and read again with pread on the kept descriptor at every
 * call, so that a test changes the faults of a running child by
 * rewriting the file in place (not by rename).  One rule a line:
 *
 *	FUNCTION ACTION [ARG] [after N] [once]
 *
 * FUNCTION is a name such as C_Sign, or "*" for every function.  ACTION:
 *	abort		abort(3) inside the call
 *	segv		raise SIGSEGV inside the call
 *	hang [S]	sleep S seconds (default 3600) inside the call
 *	delay MS	sleep MS milliseconds, then make the call: a token
 *			whose every call takes that long (a network HSM)
 *	rv CKR		return CKR (a name below or a number) instead
 *	close		close the call's session in the module and answer
 *			CKR_SESSION_HANDLE_INVALID, as a network HSM does
 *			with a session that idled out
 *	closeall	close every session of the slot (the login goes
 *			with the last one), then as close
 *	wedge [CKR]	from this call on, every call but C_Finalize and
 *			C_Initialize answers CKR (default CKR_DEVICE_ERROR)
 *			until C_Finalize: only a new C_Initialize recovers
 *	hide CKM	C_GetMechanismList leaves CKM out, and
 *			C_GetMechanismInfo and C_*Init with it answer
 *			CKR_MECHANISM_INVALID (FUNCTION is ignored)
 * "after N" lets N matching calls through first (counted per process
 * since the file last changed).  "once" fires the rule one time only,
 * across processes: the module writes '#' over the rule's first byte (the
 * file must then be writable by the signer's user).  Lines starting with
 * '#' are comments.
 *
 * $P11FAULT_LOG names a file that gets "PID FUNCTION\n" appended at each
 * call (O_APPEND), for a test to count calls (grep -c " C_Login$").
 */
#include <sys/types.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define PF_MODULE	"/usr/lib/softhsm/libsofthsm2.so"
#define PF_FILE_MAX	4096
#define PF_RULES	16

enum pf_action {
	PF_ABORT, PF_SEGV, PF_HANG, PF_DELAY, PF_RV, PF_CLOSE, PF_CLOSEALL,
	PF_WEDGE, PF_HIDE
};

struct pf_rule {
	char		 fn[40];
	enum pf_action	 action;
	unsigned long	 arg;
	unsigned long	 after;
	unsigned long	 seen;
	int		 once;
	int		 done;
	off_t		 off;		/* of the line, for "once" */
};

static pthread_mutex_t	 pf_mtx = PTHREAD_MUTEX_INITIALIZER;
static void		*pf_dl;
static CK_FUNCTION_LIST_PTR pf_real;
static CK_FUNCTION_LIST	 pf_list;
static int		 pf_ctl = -1, pf_ctl_rw, pf_log = -1;
static char		 pf_text[PF_FILE_MAX];
static ssize_t		 pf_textlen = -1;
static struct pf_rule	 pf_rules[PF_RULES];
static int		 pf_nrules;
static int		 pf_wedged;
static CK_RV		 pf_wedge_rv;
static CK_SLOT_ID	 pf_slot;
static int		 pf_has_slot;

static const struct {
	const char	*name;
	unsigned long	 v;
} pf_names[] = {
	{ "CKR_OK",			CKR_OK },
	{ "CKR_GENERAL_ERROR",		CKR_GENERAL_ERROR },
	{ "CKR_FUNCTION_FAILED",	CKR_FUNCTION_FAILED },
	{ "CKR_DEVICE_ERROR",		CKR_DEVICE_ERROR },
	{ "CKR_DEVICE_MEMORY",		CKR_DEVICE_MEMORY },
	{ "CKR_DEVICE_REMOVED",		CKR_DEVICE_REMOVED },
	{ "CKR_SESSION_CLOSED",		CKR_SESSION_CLOSED },
	{ "CKR_SESSION_HANDLE_INVALID",	CKR_SESSION_HANDLE_INVALID },
	{ "CKR_TOKEN_NOT_PRESENT",	CKR_TOKEN_NOT_PRESENT },
	{ "CKR_USER_NOT_LOGGED_IN",	CKR_USER_NOT_LOGGED_IN },
	{ "CKR_PIN_INCORRECT",		CKR_PIN_INCORRECT },
	{ "CKR_PIN_LOCKED",		CKR_PIN_LOCKED },
	{ "CKR_MECHANISM_INVALID",	CKR_MECHANISM_INVALID },
	{ "CKR_KEY_HANDLE_INVALID",	CKR_KEY_HANDLE_INVALID },
	{ "CKR_OBJECT_HANDLE_INVALID",	CKR_OBJECT_HANDLE_INVALID },
	{ "CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED },
	{ "CKM_RSA_PKCS",		CKM_RSA_PKCS },
	{ "CKM_RSA_PKCS_PSS",		CKM_RSA_PKCS_PSS },
	{ "CKM_SHA256_RSA_PKCS",	CKM_SHA256_RSA_PKCS },
	{ "CKM_RSA_PKCS_KEY_PAIR_GEN",	CKM_RSA_PKCS_KEY_PAIR_GEN },
	{ "CKM_EC_KEY_PAIR_GEN",	CKM_EC_KEY_PAIR_GEN },
	{ "CKM_ECDSA",			CKM_ECDSA },
	{ "CKM_EDDSA",			CKM_EDDSA },
	{ "CKM_AES_KEY_GEN",		CKM_AES_KEY_GEN },
	{ "CKM_AES_GCM",		CKM_AES_GCM },
	{ "CKM_SHA256_HMAC",		CKM_SHA256_HMAC },
};

static int	 pf_load(void);
static int	 pf_value(const char *, unsigned long *);
static void	 pf_parse(void);
static void	 pf_reread(void);
static void	 pf_logcall(const char *);
static int	 pf_enter(const char *, CK_SESSION_HANDLE, CK_RV *);
static int	 pf_hidden(CK_MECHANISM_TYPE);
static int	 pf_mech(const char *, CK_SESSION_HANDLE, CK_MECHANISM_PTR,
		    CK_RV *);

static int
pf_load(void)
{
	CK_C_GetFunctionList	 getfl;
	const char		*path;

	if (pf_real != NULL)
		return (0);
	if ((path = getenv("P11FAULT_MODULE")) == NULL)
		path = PF_MODULE;
	if ((pf_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "p11fault: %s\n", dlerror());
		return (-1);
	}
	if ((getfl = (CK_C_GetFunctionList)dlsym(pf_dl,
	    "C_GetFunctionList")) == NULL || getfl(&pf_real) != CKR_OK ||
	    pf_real == NULL) {
		fprintf(stderr, "p11fault: %s is not a PKCS#11 module\n", path);
		pf_real = NULL;
		return (-1);
	}
	return (0);
}

/* A name from pf_names, or a number (0x for hex). */
static int
pf_value(const char *s, unsigned long *v)
{
	char	*end;
	size_t	 i;

	for (i = 0; i < sizeof(pf_names) / sizeof(pf_names[0]); i++)
		if (strcmp(s, pf_names[i].name) == 0) {
			*v = pf_names[i].v;
			return (0);
		}
	errno = 0;
	*v = strtoul(s, &end, 0);
	return (errno != 0 || end == s || *end != '\0' ? -1 : 0);
}

/* pf_text into pf_rules; a line that does not parse is skipped. */
static void
pf_parse(void)
{
	struct pf_rule	*r;
	char		 line[256], *w[8], *p, *save;
	size_t		 len;
	off_t		 off = 0;
	int		 n, i, bad;

	pf_nrules = 0;
	while (off < pf_textlen && pf_nrules < PF_RULES) {
		p = memchr(pf_text + off, '\n', pf_textlen - off);
		len = p != NULL ? (size_t)(p - (pf_text + off)) :
		    (size_t)(pf_textlen - off);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, pf_text + off, len);
		line[len] = '\0';
		r = &pf_rules[pf_nrules];
		memset(r, 0, sizeof(*r));
		r->off = off;
		off += len + 1;
		if (line[0] == '#')
			continue;
		n = 0;
		for (p = strtok_r(line, " \t\r", &save); p != NULL && n < 8;
		    p = strtok_r(NULL, " \t\r", &save))
			w[n++] = p;
		if (n < 2)
			continue;
		(void)snprintf(r->fn, sizeof(r->fn), "%s", w[0]);
		bad = 0;
		i = 2;
		if (strcmp(w[1], "abort") == 0)
			r->action = PF_ABORT;
		else if (strcmp(w[1], "segv") == 0)
			r->action = PF_SEGV;
		else if (strcmp(w[1], "close") == 0)
			r->action = PF_CLOSE;
		else if (strcmp(w[1], "closeall") == 0)
			r->action = PF_CLOSEALL;
		else if (strcmp(w[1], "hang") == 0) {
			r->action = PF_HANG;
			r->arg = 3600;
			if (n > 2 && isdigit((unsigned char)w[2][0]))
				bad = pf_value(w[i++], &r->arg);
		} else if (strcmp(w[1], "delay") == 0) {
			r->action = PF_DELAY;
			bad = n < 3 || pf_value(w[i++], &r->arg) ||
			    r->arg > 60000;
		} else if (strcmp(w[1], "wedge") == 0) {
			r->action = PF_WEDGE;
			r->arg = CKR_DEVICE_ERROR;
			if (n > 2 && strcmp(w[2], "after") != 0 &&
			    strcmp(w[2], "once") != 0)
				bad = pf_value(w[i++], &r->arg);
		} else if (strcmp(w[1], "rv") == 0 ||
		    strcmp(w[1], "hide") == 0) {
			r->action = w[1][0] == 'r' ? PF_RV : PF_HIDE;
			bad = n < 3 || pf_value(w[i++], &r->arg);
		} else
			bad = 1;
		for (; i < n && !bad; i++) {
			if (strcmp(w[i], "once") == 0)
				r->once = 1;
			else if (strcmp(w[i], "after") == 0 && i + 1 < n)
				bad = pf_value(w[++i], &r->after);
			else
				bad = 1;
		}
		if (bad)
			fprintf(stderr, "p11fault: bad rule skipped\n");
		else
			pf_nrules++;
	}
}

/* With pf_mtx: the control file again; new text, new rules. */
static void
pf_reread(void)
{
	char	 buf[PF_FILE_MAX];
	ssize_t	 n;

	if (pf_ctl == -1)
		return;
	if ((n = pread(pf_ctl, buf, sizeof(buf), 0)) < 0)
		return;
	if (n == pf_textlen && memcmp(buf, pf_text, n) == 0)
		return;
	memcpy(pf_text, buf, n);
	pf_textlen = n;
	pf_parse();
}

static void
pf_logcall(const char *fn)
{
	char	 buf[64];
	int	 len;
	ssize_t	 w = 0;

	if (pf_log == -1)
		return;
	len = snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), fn);
	if (len > 0 && (size_t)len < sizeof(buf))
		w = write(pf_log, buf, len);
	(void)w;
}

/*
 * Before a call of fn on session sh: 0 to forward it, or 1 with *rv the
 * answer.  May not return at all (abort, segv) or only much later.
 */
static int
pf_enter(const char *fn, CK_SESSION_HANDLE sh, CK_RV *rv)
{
	struct pf_rule	*r;
	struct timespec	 ts;
	enum pf_action	 act = PF_RV;
	unsigned long	 arg = 0;
	int		 i, fire = 0;
	ssize_t		 w = 0;

	pf_logcall(fn);
	pthread_mutex_lock(&pf_mtx);
	if (pf_wedged && strcmp(fn, "C_Finalize") != 0 &&
	    strcmp(fn, "C_Initialize") != 0) {
		*rv = pf_wedge_rv;
		pthread_mutex_unlock(&pf_mtx);
		return (1);
	}
	pf_reread();
	for (i = 0; i < pf_nrules; i++) {
		r = &pf_rules[i];
		if (r->done || r->action == PF_HIDE ||
		    (strcmp(r->fn, "*") != 0 && strcmp(r->fn, fn) != 0))
			continue;
		if (++r->seen <= r->after)
			continue;
		if (r->once) {
			r->done = 1;
			if (pf_ctl_rw)
				w = pwrite(pf_ctl, "#", 1, r->off);
			(void)w;
			pf_text[r->off] = '#';
		}
		fire = 1;
		act = r->action;
		arg = r->arg;
		break;
	}
	if (fire && act == PF_WEDGE) {
		pf_wedged = 1;
		pf_wedge_rv = arg;
	}
	pthread_mutex_unlock(&pf_mtx);
	if (!fire)
		return (0);
	switch (act) {
	case PF_ABORT:
		abort();
	case PF_SEGV:
		raise(SIGSEGV);
		abort();
	case PF_HANG:
		ts.tv_sec = arg;
		ts.tv_nsec = 0;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		return (0);
	case PF_DELAY:
		ts.tv_sec = arg / 1000;
		ts.tv_nsec = (arg % 1000) * 1000000;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		return (0);
	case PF_RV:
		*rv = arg;
		return (1);
	case PF_CLOSEALL:
		if (pf_has_slot)
			(void)pf_real->C_CloseAllSessions(pf_slot);
		*rv = CKR_SESSION_HANDLE_INVALID;
		return (1);
	case PF_CLOSE:
		if (sh != CK_INVALID_HANDLE)
			(void)pf_real->C_CloseSession(sh);
		*rv = CKR_SESSION_HANDLE_INVALID;
		return (1);
	case PF_WEDGE:
		*rv = arg;
		return (1);
	case PF_HIDE:
		break;
	}
	return (0);
}

static int
pf_hidden(CK_MECHANISM_TYPE m)
{
	int	 i, hide = 0;

	pthread_mutex_lock(&pf_mtx);
	pf_reread();
	for (i = 0; i < pf_nrules; i++)
		if (pf_rules[i].action == PF_HIDE && pf_rules[i].arg == m)
			hide = 1;
	pthread_mutex_unlock(&pf_mtx);
	return (hide);
}

/* pf_enter for a C_*Init that takes a mechanism. */
static int
pf_mech(const char *fn, CK_SESSION_HANDLE sh, CK_MECHANISM_PTR m, CK_RV *rv)
{
	if (pf_enter(fn, sh, rv))
		return (1);
	if (m != NULL && pf_hidden(m->mechanism)) {
		*rv = CKR_MECHANISM_INVALID;
		return (1);
	}
	return (0);
}

/* --- The functions ---------------------------------------------------- */

static CK_RV
pf_Initialize(void *args)
{
	const char	*path;
	CK_RV		 rv;

	if (pf_load() == -1)
		return (CKR_GENERAL_ERROR);
	pthread_mutex_lock(&pf_mtx);
	if (pf_ctl == -1 && (path = getenv("P11FAULT_CONTROL")) != NULL) {
		if ((pf_ctl = open(path, O_RDWR | O_CLOEXEC)) != -1)
			pf_ctl_rw = 1;
		else
			pf_ctl = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (pf_log == -1 && (path = getenv("P11FAULT_LOG")) != NULL)
		pf_log = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0666);
	pthread_mutex_unlock(&pf_mtx);
	if (pf_enter("C_Initialize", CK_INVALID_HANDLE, &rv))
		return (rv);
	return (pf_real->C_Initialize(args));
}

static CK_RV
pf_Finalize(void *reserved)
{
	CK_RV	 rv;

	if (pf_enter("C_Finalize", CK_INVALID_HANDLE, &rv))
		return (rv);
	pthread_mutex_lock(&pf_mtx);
	pf_wedged = 0;
	pthread_mutex_unlock(&pf_mtx);
	return (pf_real->C_Finalize(reserved));
}

static CK_RV
pf_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR fl)
{
	if (fl == NULL)
		return (CKR_ARGUMENTS_BAD);
	*fl = &pf_list;
	return (CKR_OK);
}

static CK_RV
pf_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
    CK_ULONG_PTR count)
{
	CK_MECHANISM_TYPE	*all;
	CK_ULONG		 n = 0, i, j;
	CK_RV			 rv;

	if (pf_enter("C_GetMechanismList", CK_INVALID_HANDLE, &rv))
		return (rv);
	if (count == NULL)
		return (CKR_ARGUMENTS_BAD);
	if ((rv = pf_real->C_GetMechanismList(slot, NULL, &n)) != CKR_OK)
		return (rv);
	if ((all = calloc(n + 1, sizeof(*all))) == NULL)
		return (CKR_HOST_MEMORY);
	if ((rv = pf_real->C_GetMechanismList(slot, all, &n)) != CKR_OK) {
		free(all);
		return (rv);
	}
	for (i = j = 0; i < n; i++)
		if (!pf_hidden(all[i]))
			all[j++] = all[i];
	if (list != NULL && *count < j)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (list != NULL)
		memcpy(list, all, j * sizeof(*all));
	*count = j;
	free(all);
	return (rv);
}

static CK_RV
pf_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE m,
    CK_MECHANISM_INFO_PTR info)
{
	CK_RV	 rv;

	if (pf_enter("C_GetMechanismInfo", CK_INVALID_HANDLE, &rv))
		return (rv);
	if (pf_hidden(m))
		return (CKR_MECHANISM_INVALID);
	return (pf_real->C_GetMechanismInfo(slot, m, info));
}

static CK_RV
pf_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app, CK_NOTIFY notify,
    CK_SESSION_HANDLE_PTR sh)
{
	CK_RV	 rv;

	if (pf_enter("C_OpenSession", CK_INVALID_HANDLE, &rv))
		return (rv);
	pthread_mutex_lock(&pf_mtx);
	pf_slot = slot;
	pf_has_slot = 1;
	pthread_mutex_unlock(&pf_mtx);
	return (pf_real->C_OpenSession(slot, flags, app, notify, sh));
}

/*
 * The others: each forwards after pf_enter (with the session handle if
 * the function takes one); those with a mechanism go through pf_mech.
 */
#define PF_FWD(name, params, sh, args)					\
static CK_RV								\
pf_##name params							\
{									\
	CK_RV	 rv;							\
									\
	if (pf_enter("C_" #name, sh, &rv))				\
		return (rv);						\
	return (pf_real->C_##name args);				\
}
#define PF_MECH(name, params, args)					\
static CK_RV								\
pf_##name params							\
{									\
	CK_RV	 rv;							\
									\
	if (pf_mech("C_" #name, s, m, &rv))				\
		return (rv);						\
	return (pf_real->C_##name args);				\
}

PF_FWD(GetInfo, (CK_INFO_PTR i), CK_INVALID_HANDLE, (i))
PF_FWD(GetSlotList, (CK_BBOOL t, CK_SLOT_ID_PTR l, CK_ULONG_PTR c),
    CK_INVALID_HANDLE, (t, l, c))
PF_FWD(GetSlotInfo, (CK_SLOT_ID s, CK_SLOT_INFO_PTR i), CK_INVALID_HANDLE,
    (s, i))
PF_FWD(GetTokenInfo, (CK_SLOT_ID s, CK_TOKEN_INFO_PTR i), CK_INVALID_HANDLE,
    (s, i))
PF_FWD(WaitForSlotEvent, (CK_FLAGS f, CK_SLOT_ID_PTR s, void *r),
    CK_INVALID_HANDLE, (f, s, r))
PF_FWD(InitToken, (CK_SLOT_ID s, CK_UTF8CHAR_PTR p, CK_ULONG n,
    CK_UTF8CHAR_PTR l), CK_INVALID_HANDLE, (s, p, n, l))
PF_FWD(InitPIN, (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR p, CK_ULONG n), s,
    (s, p, n))
PF_FWD(SetPIN, (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR o, CK_ULONG on,
    CK_UTF8CHAR_PTR p, CK_ULONG n), s, (s, o, on, p, n))
PF_FWD(CloseSession, (CK_SESSION_HANDLE s), s, (s))
PF_FWD(CloseAllSessions, (CK_SLOT_ID s), CK_INVALID_HANDLE, (s))
PF_FWD(GetSessionInfo, (CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR i), s,
    (s, i))
PF_FWD(GetOperationState, (CK_SESSION_HANDLE s, CK_BYTE_PTR p,
    CK_ULONG_PTR n), s, (s, p, n))
PF_FWD(SetOperationState, (CK_SESSION_HANDLE s, CK_BYTE_PTR p, CK_ULONG n,
    CK_OBJECT_HANDLE e, CK_OBJECT_HANDLE a), s, (s, p, n, e, a))
PF_FWD(Login, (CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR p,
    CK_ULONG n), s, (s, u, p, n))
PF_FWD(Logout, (CK_SESSION_HANDLE s), s, (s))
PF_FWD(CreateObject, (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n,
    CK_OBJECT_HANDLE_PTR o), s, (s, t, n, o))
PF_FWD(CopyObject, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR no), s,
    (s, o, t, n, no))
PF_FWD(DestroyObject, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o), s, (s, o))
PF_FWD(GetObjectSize, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ULONG_PTR n), s, (s, o, n))
PF_FWD(GetAttributeValue, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_PTR t, CK_ULONG n), s, (s, o, t, n))
PF_FWD(SetAttributeValue, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_PTR t, CK_ULONG n), s, (s, o, t, n))
PF_FWD(FindObjectsInit, (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t,
    CK_ULONG n), s, (s, t, n))
PF_FWD(FindObjects, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o,
    CK_ULONG m, CK_ULONG_PTR n), s, (s, o, m, n))
PF_FWD(FindObjectsFinal, (CK_SESSION_HANDLE s), s, (s))
PF_MECH(EncryptInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (s, m, k))
PF_FWD(Encrypt, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(EncryptUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(EncryptFinal, (CK_SESSION_HANDLE s, CK_BYTE_PTR o, CK_ULONG_PTR on),
    s, (s, o, on))
PF_MECH(DecryptInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (s, m, k))
PF_FWD(Decrypt, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(DecryptUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(DecryptFinal, (CK_SESSION_HANDLE s, CK_BYTE_PTR o, CK_ULONG_PTR on),
    s, (s, o, on))
PF_MECH(DigestInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m), (s, m))
PF_FWD(Digest, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(DigestUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn), s,
    (s, d, dn))
PF_FWD(DigestKey, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k), s, (s, k))
PF_FWD(DigestFinal, (CK_SESSION_HANDLE s, CK_BYTE_PTR o, CK_ULONG_PTR on),
    s, (s, o, on))
PF_MECH(SignInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (s, m, k))
PF_FWD(Sign, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(SignUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn), s,
    (s, d, dn))
PF_FWD(SignFinal, (CK_SESSION_HANDLE s, CK_BYTE_PTR o, CK_ULONG_PTR on), s,
    (s, o, on))
PF_MECH(SignRecoverInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (s, m, k))
PF_FWD(SignRecover, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_MECH(VerifyInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (s, m, k))
PF_FWD(Verify, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR g, CK_ULONG gn), s, (s, d, dn, g, gn))
PF_FWD(VerifyUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn), s,
    (s, d, dn))
PF_FWD(VerifyFinal, (CK_SESSION_HANDLE s, CK_BYTE_PTR g, CK_ULONG gn), s,
    (s, g, gn))
PF_MECH(VerifyRecoverInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (s, m, k))
PF_FWD(VerifyRecover, (CK_SESSION_HANDLE s, CK_BYTE_PTR g, CK_ULONG gn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, g, gn, o, on))
PF_FWD(DigestEncryptUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d,
    CK_ULONG dn, CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(DecryptDigestUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d,
    CK_ULONG dn, CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(SignEncryptUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dn,
    CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_FWD(DecryptVerifyUpdate, (CK_SESSION_HANDLE s, CK_BYTE_PTR d,
    CK_ULONG dn, CK_BYTE_PTR o, CK_ULONG_PTR on), s, (s, d, dn, o, on))
PF_MECH(GenerateKey, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k), (s, m, t, n, k))
PF_MECH(GenerateKeyPair, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_ATTRIBUTE_PTR pt, CK_ULONG pn, CK_ATTRIBUTE_PTR vt, CK_ULONG vn,
    CK_OBJECT_HANDLE_PTR pk, CK_OBJECT_HANDLE_PTR vk),
    (s, m, pt, pn, vt, vn, pk, vk))
PF_MECH(WrapKey, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE w, CK_OBJECT_HANDLE k, CK_BYTE_PTR o, CK_ULONG_PTR on),
    (s, m, w, k, o, on))
PF_MECH(UnwrapKey, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE u, CK_BYTE_PTR w, CK_ULONG wn, CK_ATTRIBUTE_PTR t,
    CK_ULONG n, CK_OBJECT_HANDLE_PTR k), (s, m, u, w, wn, t, n, k))
PF_MECH(DeriveKey, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR t, CK_ULONG n,
    CK_OBJECT_HANDLE_PTR k), (s, m, b, t, n, k))
PF_FWD(SeedRandom, (CK_SESSION_HANDLE s, CK_BYTE_PTR p, CK_ULONG n), s,
    (s, p, n))
PF_FWD(GenerateRandom, (CK_SESSION_HANDLE s, CK_BYTE_PTR p, CK_ULONG n), s,
    (s, p, n))
PF_FWD(GetFunctionStatus, (CK_SESSION_HANDLE s), s, (s))
PF_FWD(CancelFunction, (CK_SESSION_HANDLE s), s, (s))

static CK_FUNCTION_LIST	 pf_list = {
	{ 2, 40 },
	pf_Initialize, pf_Finalize, pf_GetInfo, pf_GetFunctionList,
	pf_GetSlotList, pf_GetSlotInfo, pf_GetTokenInfo, pf_GetMechanismList,
	pf_GetMechanismInfo, pf_InitToken, pf_InitPIN, pf_SetPIN,
	pf_OpenSession, pf_CloseSession, pf_CloseAllSessions,
	pf_GetSessionInfo, pf_GetOperationState, pf_SetOperationState,
	pf_Login, pf_Logout, pf_CreateObject, pf_CopyObject, pf_DestroyObject,
	pf_GetObjectSize, pf_GetAttributeValue, pf_SetAttributeValue,
	pf_FindObjectsInit, pf_FindObjects, pf_FindObjectsFinal,
	pf_EncryptInit, pf_Encrypt, pf_EncryptUpdate, pf_EncryptFinal,
	pf_DecryptInit, pf_Decrypt, pf_DecryptUpdate, pf_DecryptFinal,
	pf_DigestInit, pf_Digest, pf_DigestUpdate, pf_DigestKey,
	pf_DigestFinal, pf_SignInit, pf_Sign, pf_SignUpdate, pf_SignFinal,
	pf_SignRecoverInit, pf_SignRecover, pf_VerifyInit, pf_Verify,
	pf_VerifyUpdate, pf_VerifyFinal, pf_VerifyRecoverInit,
	pf_VerifyRecover, pf_DigestEncryptUpdate, pf_DecryptDigestUpdate,
	pf_SignEncryptUpdate, pf_DecryptVerifyUpdate, pf_GenerateKey,
	pf_GenerateKeyPair, pf_WrapKey, pf_UnwrapKey, pf_DeriveKey,
	pf_SeedRandom, pf_GenerateRandom, pf_GetFunctionStatus,
	pf_CancelFunction, pf_WaitForSlotEvent
};

/* The only symbol exported: the module is loaded once per process. */
CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR fl)
{
	if (pf_load() == -1)
		return (CKR_GENERAL_ERROR);
	return (pf_GetFunctionList(fl));
}
