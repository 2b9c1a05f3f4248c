/*
 * The pkcs11 backend: any PKCS#11 v2.40 module, loaded with dlopen in
 * this child only.  Its requests run on a pool of sessions, each with a
 * worker thread (p11pool.c).
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "hsmproc.h"
#include "p11.h"
#include "p11token.h"
#include "softkey.h"

static int	 p11_start(struct hsm *);
static int	 p11_check(struct hsm *);
static void	 p11_stop(struct hsm *);
static int	 p11_mechanisms(struct hsm *, struct p11 *);
static int	 p11_login_wanted(struct hsm *, struct p11_sess *);

/* Register into a token is not supported yet: import stays NULL. */
const struct hsm_backend hsm_pkcs11 = {
	"pkcs11", p11_start, p11_check, p11_stop, p11_generate, NULL, p11_op,
	p11_find_req, p11_submit, p11_stats, p11_relabel, p11_submitted
};

static const struct {
	CK_RV		 rv;
	const char	*name;
} p11_rvs[] = {
	{ CKR_OK,			"CKR_OK" },
	{ CKR_ARGUMENTS_BAD,		"CKR_ARGUMENTS_BAD" },
	{ CKR_ATTRIBUTE_SENSITIVE,	"CKR_ATTRIBUTE_SENSITIVE" },
	{ CKR_ATTRIBUTE_TYPE_INVALID,	"CKR_ATTRIBUTE_TYPE_INVALID" },
	{ CKR_ATTRIBUTE_VALUE_INVALID,	"CKR_ATTRIBUTE_VALUE_INVALID" },
	{ CKR_BUFFER_TOO_SMALL,		"CKR_BUFFER_TOO_SMALL" },
	{ CKR_CURVE_NOT_SUPPORTED,	"CKR_CURVE_NOT_SUPPORTED" },
	{ CKR_DATA_INVALID,		"CKR_DATA_INVALID" },
	{ CKR_DATA_LEN_RANGE,		"CKR_DATA_LEN_RANGE" },
	{ CKR_DOMAIN_PARAMS_INVALID,	"CKR_DOMAIN_PARAMS_INVALID" },
	{ CKR_ENCRYPTED_DATA_INVALID,	"CKR_ENCRYPTED_DATA_INVALID" },
	{ CKR_ENCRYPTED_DATA_LEN_RANGE,	"CKR_ENCRYPTED_DATA_LEN_RANGE" },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
	{ CKR_KEY_HANDLE_INVALID,	"CKR_KEY_HANDLE_INVALID" },
	{ CKR_KEY_SIZE_RANGE,		"CKR_KEY_SIZE_RANGE" },
	{ CKR_KEY_TYPE_INCONSISTENT,	"CKR_KEY_TYPE_INCONSISTENT" },
	{ CKR_MECHANISM_INVALID,	"CKR_MECHANISM_INVALID" },
	{ CKR_MECHANISM_PARAM_INVALID,	"CKR_MECHANISM_PARAM_INVALID" },
	{ CKR_OBJECT_HANDLE_INVALID,	"CKR_OBJECT_HANDLE_INVALID" },
	{ CKR_OPERATION_ACTIVE,		"CKR_OPERATION_ACTIVE" },
	{ CKR_SESSION_READ_ONLY,	"CKR_SESSION_READ_ONLY" },
	{ CKR_SIGNATURE_INVALID,	"CKR_SIGNATURE_INVALID" },
	{ CKR_SIGNATURE_LEN_RANGE,	"CKR_SIGNATURE_LEN_RANGE" },
	{ CKR_TEMPLATE_INCOMPLETE,	"CKR_TEMPLATE_INCOMPLETE" },
	{ CKR_TEMPLATE_INCONSISTENT,	"CKR_TEMPLATE_INCONSISTENT" },
	{ CKR_TOKEN_WRITE_PROTECTED,	"CKR_TOKEN_WRITE_PROTECTED" },
	{ CKR_USER_NOT_LOGGED_IN,	"CKR_USER_NOT_LOGGED_IN" },
	{ CKR_CRYPTOKI_NOT_INITIALIZED,	"CKR_CRYPTOKI_NOT_INITIALIZED" },
	{ CKR_DEVICE_ERROR,		"CKR_DEVICE_ERROR" },
	{ CKR_DEVICE_REMOVED,		"CKR_DEVICE_REMOVED" },
	{ CKR_FUNCTION_FAILED,		"CKR_FUNCTION_FAILED" },
	{ CKR_GENERAL_ERROR,		"CKR_GENERAL_ERROR" },
	{ CKR_HOST_MEMORY,		"CKR_HOST_MEMORY" },
	{ CKR_PIN_EXPIRED,		"CKR_PIN_EXPIRED" },
	{ CKR_PIN_INCORRECT,		"CKR_PIN_INCORRECT" },
	{ CKR_PIN_LEN_RANGE,		"CKR_PIN_LEN_RANGE" },
	{ CKR_PIN_LOCKED,		"CKR_PIN_LOCKED" },
	{ CKR_SESSION_HANDLE_INVALID,	"CKR_SESSION_HANDLE_INVALID" },
	{ CKR_SESSION_CLOSED,		"CKR_SESSION_CLOSED" },
	{ CKR_SLOT_ID_INVALID,		"CKR_SLOT_ID_INVALID" },
	{ CKR_TOKEN_NOT_PRESENT,	"CKR_TOKEN_NOT_PRESENT" },
	{ CKR_TOKEN_NOT_RECOGNIZED,	"CKR_TOKEN_NOT_RECOGNIZED" },
	{ CKR_USER_ALREADY_LOGGED_IN,	"CKR_USER_ALREADY_LOGGED_IN" },
	{ CKR_USER_PIN_NOT_INITIALIZED,	"CKR_USER_PIN_NOT_INITIALIZED" },
};

const char *
p11_rv(CK_RV rv)
{
	static _Thread_local char	 buf[32];
	size_t		 i;

	for (i = 0; i < sizeof(p11_rvs) / sizeof(p11_rvs[0]); i++)
		if (p11_rvs[i].rv == rv)
			return (p11_rvs[i].name);
	(void)snprintf(buf, sizeof(buf), "CKR 0x%08lx", (unsigned long)rv);
	return (buf);
}

static int
p11_start(struct hsm *h)
{
	CK_C_GetFunctionList	 getfl;
	CK_C_INITIALIZE_ARGS	 args;
	struct p11		*p;
	struct p11_sess		*s;
	uint8_t			 kek[SK_KEK_LEN];
	CK_RV			 rv;
	int			 i, n, ret;

	if ((p = h->be_state) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatal(NULL);
		p->hsm = h;
		p->wake[0] = p->wake[1] = -1;
		TAILQ_INIT(&p->queue);
		TAILQ_INIT(&p->done);
		TAILQ_INIT(&p->parked);
		RB_INIT(&p->objs);
		if (pthread_mutex_init(&p->mtx, NULL) != 0 ||
		    pthread_mutex_init(&p->login, NULL) != 0 ||
		    pthread_mutex_init(&p->pubmtx, NULL) != 0 ||
		    pthread_cond_init(&p->work, NULL) != 0 ||
		    pthread_cond_init(&p->idle, NULL) != 0)
			fatalx("%s: pthread_mutex_init", __func__);
		p->locks = 1;
		h->be_state = p;
	}
	if ((p->dl = dlopen(h->setup.module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		hsm_status_set(h, SSTATE_ERROR, "cannot load %s: %s",
		    h->setup.module, dlerror());
		return (-1);
	}
	if ((getfl = (CK_C_GetFunctionList)dlsym(p->dl,
	    "C_GetFunctionList")) == NULL) {
		hsm_status_set(h, SSTATE_ERROR, "%s is not a PKCS#11 module "
		    "(no C_GetFunctionList)", h->setup.module);
		return (-2);
	}
	if ((rv = getfl(&p->f)) != CKR_OK || p->f == NULL) {
		hsm_status_set(h, SSTATE_ERROR, "C_GetFunctionList: %s",
		    p11_rv(rv));
		return (-1);
	}
	/* The module may be called from several threads at once. */
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		hsm_status_set(h, SSTATE_ERROR, "C_Initialize: %s",
		    p11_rv(rv));
		return (-1);
	}
	p->initialized = 1;
	if (p11_token_find(h, p) == -1 || p11_mechanisms(h, p) == -1)
		return (-1);
	if (p11_key_init() == -1) {
		hsm_status_set(h, SSTATE_ERROR, "OpenSSL lacks SHA-256, "
		    "SHA-384 or SHA-512");
		return (-2);
	}
	if (p->pub == NULL) {
		/* Public-key operations only: the KEK is never used. */
		if (RAND_bytes(kek, sizeof(kek)) != 1 ||
		    (p->pub = sw_new(kek, 0)) == NULL) {
			explicit_bzero(kek, sizeof(kek));
			hsm_status_set(h, SSTATE_ERROR, "OpenSSL lacks "
			    "AES-GCM, SHA-256 or HMAC");
			return (-2);
		}
		explicit_bzero(kek, sizeof(kek));
	}

	n = h->setup.sessions;
	if (n < 1)
		n = 1;
	else if (n > P11_SESSIONS_MAX)
		n = P11_SESSIONS_MAX;
	if ((p->sess = calloc(n, sizeof(*p->sess))) == NULL)
		fatal(NULL);
	/* The first session logs in; the others find the login done. */
	for (i = 0; i < n; i++) {
		s = &p->sess[i];
		s->tok = p;
		s->f = p->f;
		s->label = p->label;
		s->idx = i;
		if (pthread_mutex_init(&s->use, NULL) != 0)
			fatalx("%s: pthread_mutex_init", __func__);
		p->nsess = i + 1;
		if ((ret = p11_session_open(h, s)) == 0)
			continue;
		p11_session_close(s);
		if (i == 0 || ret == -2) {
			hsm_status_set(h, ret == -2 ? SSTATE_LOCKED :
			    SSTATE_ERROR, "%s", s->why);
			return (ret);
		}
		/* A token may allow fewer sessions: serve with those. */
		log_warnx("token \"%s\": %d sessions of %d: %s", p->label,
		    i, n, s->why);
		pthread_mutex_destroy(&s->use);
		p->nsess = i;
		break;
	}
	if (p11_pool_start(h, p) == -1) {
		hsm_status_set(h, SSTATE_ERROR, "cannot start the threads "
		    "of the sessions");
		return (-1);
	}
	h->status.has_slot = 1;
	h->status.slot = p->slot;
	hsm_status_set(h, SSTATE_READY, "token \"%s\" in slot %lu%s",
	    p->label, (unsigned long)p->slot, h->setup.login !=
	    SIGNER_LOGIN_NO ? ", logged in" : "");
	return (0);
}

/*
 * The mechanisms the token offers, asked once: a request for another
 * is refused by name before the token sees it.
 */
static int
p11_mechanisms(struct hsm *h, struct p11 *p)
{
	CK_ULONG	 n = 0;
	CK_RV		 rv;

	free(p->mechs);
	p->mechs = NULL;
	p->nmechs = 0;
	if ((rv = p->f->C_GetMechanismList(p->slot, NULL, &n)) != CKR_OK) {
		hsm_status_set(h, SSTATE_ERROR, "C_GetMechanismList: %s",
		    p11_rv(rv));
		return (-1);
	}
	if (n == 0)
		return (0);
	if ((p->mechs = calloc(n, sizeof(*p->mechs))) == NULL)
		fatal(NULL);
	if ((rv = p->f->C_GetMechanismList(p->slot, p->mechs, &n)) !=
	    CKR_OK) {
		free(p->mechs);
		p->mechs = NULL;
		hsm_status_set(h, SSTATE_ERROR, "C_GetMechanismList: %s",
		    p11_rv(rv));
		return (-1);
	}
	p->nmechs = n;
	return (0);
}

/*
 * Open a session and, unless the token says it is logged in already,
 * log in: at start, and after the token dropped the session.  Login is
 * per application in PKCS#11: one C_Login serves every session, and a
 * C_Logout on one would log them all out, so there is none.  0, -1
 * (retry later) or -2 (PIN refused: never retried, a token locks after
 * a few wrong PINs), with s->why.  Any thread, with the session's use.
 */
int
p11_session_open(struct hsm *h, struct p11_sess *s)
{
	struct p11		*p = s->tok;
	CK_SESSION_INFO		 si;
	CK_SESSION_HANDLE	 sh;
	CK_RV			 rv;
	int			 ret = 0;

	s->why[0] = '\0';
	if ((rv = s->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &sh)) != CKR_OK) {
		(void)snprintf(s->why, sizeof(s->why), "C_OpenSession: %s",
		    p11_rv(rv));
		return (-1);
	}
	pthread_mutex_lock(&p->mtx);
	s->session = sh;
	s->open = 1;
	pthread_mutex_unlock(&p->mtx);
	if (!p11_login_wanted(h, s))
		return (0);
	if (s->f->C_GetSessionInfo(sh, &si) == CKR_OK &&
	    (si.state == CKS_RW_USER_FUNCTIONS ||
	    si.state == CKS_RO_USER_FUNCTIONS))
		return (0);

	/* The PIN is read, and wiped, under the lock. */
	pthread_mutex_lock(&p->login);
	if (p->pin_refused) {
		(void)snprintf(s->why, sizeof(s->why), "token \"%s\" refused "
		    "the PIN; not retrying until it is fixed and signerd "
		    "reloaded", s->label);
		ret = -2;
	} else if (!h->has_pin) {
		(void)strlcpy(s->why, "login needs a PIN and none was given "
		    "(see the log of signerd)", sizeof(s->why));
		ret = -1;
	} else {
		rv = s->f->C_Login(sh, CKU_USER, (CK_UTF8CHAR_PTR)h->pin,
		    h->pinlen);
		if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED ||
		    rv == CKR_PIN_EXPIRED || rv == CKR_PIN_LEN_RANGE) {
			explicit_bzero(h->pin, sizeof(h->pin));
			h->has_pin = 0;
			p->pin_refused = 1;
			(void)snprintf(s->why, sizeof(s->why), "C_Login on "
			    "token \"%s\": %s; not retrying until the PIN is "
			    "fixed and signerd reloaded", s->label,
			    p11_rv(rv));
			ret = -2;
		} else if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
			(void)snprintf(s->why, sizeof(s->why), "C_Login: %s",
			    p11_rv(rv));
			ret = -1;
		}
	}
	pthread_mutex_unlock(&p->login);
	return (ret);
}

/*
 * Log in?  `login yes' always, `login no' never, `login auto' as the
 * token's CKF_LOGIN_REQUIRED says (asked each time: a token may change
 * it when re-initialised).
 */
static int
p11_login_wanted(struct hsm *h, struct p11_sess *s)
{
	CK_TOKEN_INFO	 ti;

	switch (h->setup.login) {
	case SIGNER_LOGIN_NO:
		return (0);
	case SIGNER_LOGIN_AUTO:
		if (s->f->C_GetTokenInfo(s->tok->slot, &ti) != CKR_OK)
			return (1);	/* the login will tell */
		return ((ti.flags & CKF_LOGIN_REQUIRED) != 0);
	}
	return (1);
}

/*
 * The module from C_Initialize again, after C_Finalize: the second step
 * of recovery (p11pool.c), for a module whose sessions died for good (a
 * YubiHSM's after idling).  The token is looked for again: a module may
 * number its slots anew.  Main thread, workers quiesced, sessions closed.
 */
int
p11_module_again(struct hsm *h, struct p11 *p)
{
	CK_C_INITIALIZE_ARGS	 args;
	CK_RV			 rv;

	if (p->initialized)
		(void)p->f->C_Finalize(NULL);
	p->initialized = 0;
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		hsm_status_set(h, SSTATE_ERROR, "C_Initialize: %s",
		    p11_rv(rv));
		return (-1);
	}
	p->initialized = 1;
	if (p11_token_find(h, p) == -1 || p11_mechanisms(h, p) == -1)
		return (-1);
	return (0);
}

/* Close a session the token may already have dropped; no error. */
void
p11_session_close(struct p11_sess *s)
{
	struct p11	*p = s->tok;

	if (!s->open)
		return;
	(void)s->f->C_CloseSession(s->session);
	pthread_mutex_lock(&p->mtx);
	s->open = 0;
	pthread_mutex_unlock(&p->mtx);
}

static int
p11_check(struct hsm *h)
{
	struct p11	*p = h->be_state;

	if (p == NULL)
		return (-1);
	return (p11_pool_check(h, p));
}

static void
p11_stop(struct hsm *h)
{
	struct p11	*p = h->be_state;
	int		 i;

	if (p == NULL)
		return;
	p11_pool_stop(h, p);
	/* The last session closed logs the application out. */
	for (i = 0; i < p->nsess; i++) {
		p11_session_close(&p->sess[i]);
		pthread_mutex_destroy(&p->sess[i].use);
	}
	free(p->sess);
	p11_cache_clear(p);
	if (p->initialized)
		(void)p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p->mechs);
	sw_free(p->pub);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->pubmtx);
	pthread_mutex_destroy(&p->login);
	pthread_mutex_destroy(&p->mtx);
	free(p);
	h->be_state = NULL;
}
