/*
 * What an operator can do about a PKCS#11 error a signer reports, in
 * words: signerctl show signers prints it after the CKR name.  Every
 * CKR value the pkcs11 signer names (p11_rv in hsmproc/hsm_pkcs11.c) has
 * an entry; regress/hsmproc/identity_test checks that it stays so.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "signerd.h"

#define LIST	"pkcs11-tool --module MODULE -L lists slots and tokens"
#define OBJS	"pkcs11-tool --module MODULE -O --login lists its objects"

static const struct {
	const char	*name;
	const char	*advice;
} p11_advices[] = {
	{ "CKR_OK", "no error: the call succeeded" },
	{ "CKR_ARGUMENTS_BAD", "the module refused the arguments of a call: "
	    "a signerd bug or a module that does not follow PKCS#11 v2.40; "
	    "report it with the log" },
	{ "CKR_ATTRIBUTE_SENSITIVE", "the token will not reveal that "
	    "attribute (a sensitive key): expected for private keys" },
	{ "CKR_ATTRIBUTE_TYPE_INVALID", "the token does not know an attribute "
	    "signerd uses: check the token supports this key type" },
	{ "CKR_ATTRIBUTE_VALUE_INVALID", "the token refused an attribute "
	    "value (key size, curve, label): see the token's limits" },
	{ "CKR_BUFFER_TOO_SMALL", "a result was larger than expected: report "
	    "it with the log" },
	{ "CKR_CURVE_NOT_SUPPORTED", "the token lacks this curve: use a "
	    "curve it lists (" LIST ", -M lists mechanisms)" },
	{ "CKR_DATA_INVALID", "the token refused the data of the request "
	    "(e.g. a digest of the wrong length)" },
	{ "CKR_DATA_LEN_RANGE", "the data is too long or short for the key "
	    "and mechanism (e.g. RSA input larger than the modulus)" },
	{ "CKR_DOMAIN_PARAMS_INVALID", "the token does not accept these key "
	    "parameters (curve or size)" },
	{ "CKR_ENCRYPTED_DATA_INVALID", "the ciphertext is corrupt or was "
	    "made with another key" },
	{ "CKR_ENCRYPTED_DATA_LEN_RANGE", "the ciphertext has the wrong "
	    "length for this key" },
	{ "CKR_KEY_FUNCTION_NOT_PERMITTED", "the key may not be used for "
	    "this (CKA_SIGN, CKA_DECRYPT...): an adopted key made for "
	    "something else; " OBJS },
	{ "CKR_KEY_HANDLE_INVALID", "the key is no longer in the token, or "
	    "the token was swapped: " OBJS },
	{ "CKR_KEY_SIZE_RANGE", "the token does not support this key size" },
	{ "CKR_KEY_TYPE_INCONSISTENT", "the key's type does not fit the "
	    "mechanism: an adopted key of another kind" },
	{ "CKR_MECHANISM_INVALID", "the token lacks the mechanism: "
	    "pkcs11-tool --module MODULE -M lists what it offers; signerctl "
	    "check names what signerd needs" },
	{ "CKR_MECHANISM_PARAM_INVALID", "the token refused the mechanism's "
	    "parameters (PSS salt, OAEP label, GCM tag length)" },
	{ "CKR_OBJECT_HANDLE_INVALID", "an object is no longer in the token "
	    "(deleted, or the token swapped): " OBJS },
	{ "CKR_OPERATION_ACTIVE", "a session was left in an operation: "
	    "signerd reopens it; if it persists, restart the signer" },
	{ "CKR_SESSION_READ_ONLY", "the token opened a read-only session: "
	    "it is write-protected, or the module is configured read-only" },
	{ "CKR_SIGNATURE_INVALID", "the signature does not verify with that "
	    "key" },
	{ "CKR_SIGNATURE_LEN_RANGE", "the signature has the wrong length for "
	    "that key" },
	{ "CKR_TEMPLATE_INCOMPLETE", "the token wants an attribute signerd "
	    "does not give: report it with the token's model" },
	{ "CKR_TEMPLATE_INCONSISTENT", "the token refused signerd's key "
	    "template (e.g. it forbids non-extractable or token keys)" },
	{ "CKR_TOKEN_WRITE_PROTECTED", "the token is write-protected: keys "
	    "cannot be made or destroyed; check its policy" },
	{ "CKR_USER_NOT_LOGGED_IN", "the session is not logged in: the token "
	    "dropped the login (signerd logs in again), or login is off "
	    "(login no) for a token that needs it" },
	{ "CKR_CRYPTOKI_NOT_INITIALIZED", "the module was not initialised: "
	    "signerd starts it over; restart the signer if it persists" },
	{ "CKR_CRYPTOKI_ALREADY_INITIALIZED", "another user of the module in "
	    "this process initialised it: harmless" },
	{ "CKR_DEVICE_ERROR", "the token or its connection failed: check the "
	    "HSM, its network and its logs" },
	{ "CKR_DEVICE_MEMORY", "the token is out of memory: too many objects "
	    "or sessions; delete unused keys" },
	{ "CKR_DEVICE_REMOVED", "the token was removed or its connection "
	    "lost: put it back or fix the network; " LIST },
	{ "CKR_FUNCTION_FAILED", "the token could not do it, without saying "
	    "why: see the HSM's own log" },
	{ "CKR_FUNCTION_NOT_SUPPORTED", "the module lacks a function signerd "
	    "calls: check the module is the vendor's PKCS#11 v2.40 library" },
	{ "CKR_FUNCTION_CANCELED", "the token cancelled the call: retry" },
	{ "CKR_GENERAL_ERROR", "the module failed in a way it cannot "
	    "recover from: restart the signer; check the module's "
	    "configuration (e.g. SOFTHSM2_CONF, vendor config files)" },
	{ "CKR_HOST_MEMORY", "the module ran out of memory in this host" },
	{ "CKR_PIN_EXPIRED", "the PIN has expired: set a new one with the "
	    "token's tools, then signerctl reload" },
	{ "CKR_PIN_INCORRECT", "wrong PIN: fix pin file or pin env and "
	    "signerctl reload; signerd does not retry, as tokens lock after "
	    "a few wrong tries" },
	{ "CKR_PIN_INVALID", "the PIN has characters the token does not "
	    "accept" },
	{ "CKR_PIN_LEN_RANGE", "the PIN is too long or short for the token: "
	    "check pin file has no extra line" },
	{ "CKR_PIN_LOCKED", "the user PIN is locked after too many wrong "
	    "tries: the security officer must unlock it (e.g. softhsm2-util "
	    "or the vendor's tool)" },
	{ "CKR_SESSION_CLOSED", "the token closed the session (idle timeout "
	    "of a network HSM): signerd reopens it" },
	{ "CKR_SESSION_COUNT", "the token allows no more sessions: lower "
	    "sessions in signerd.conf or close other users" },
	{ "CKR_SESSION_HANDLE_INVALID", "the session is gone (token reset or "
	    "idle timeout): signerd reopens it; if it keeps happening, set a "
	    "shorter keepalive" },
	{ "CKR_SESSION_PARALLEL_NOT_SUPPORTED", "the module does not support "
	    "parallel sessions" },
	{ "CKR_SLOT_ID_INVALID", "no such slot: slot numbers can change "
	    "across restarts, prefer token or serial; " LIST },
	{ "CKR_TOKEN_NOT_PRESENT", "token not initialised, or wrong slot: "
	    LIST },
	{ "CKR_TOKEN_NOT_RECOGNIZED", "the module does not recognise the "
	    "token in that slot: check the token and the module version" },
	{ "CKR_USER_ALREADY_LOGGED_IN", "another session of this process "
	    "logged in already: harmless" },
	{ "CKR_USER_PIN_NOT_INITIALIZED", "the token has no user PIN yet: "
	    "initialise it (pkcs11-tool --init-pin, softhsm2-util)" },
	{ "CKR_USER_TYPE_INVALID", "the token refused the user type of "
	    "C_Login: report it with the token's model" },
	{ "CKR_RANDOM_NO_RNG", "the token has no random number generator" },
	{ "CKR_OPERATION_NOT_INITIALIZED", "a call out of order: a signerd "
	    "bug or a module fault; report it with the log" },
};

/* The advice for the CKR named name, or NULL. */
const char *
p11_advice_of(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(p11_advices) / sizeof(p11_advices[0]); i++)
		if (strcmp(p11_advices[i].name, name) == 0)
			return (p11_advices[i].advice);
	return (NULL);
}

/*
 * The first CKR name in text (e.g. "C_Login: CKR_PIN_INCORRECT; ...")
 * into name, and its advice; NULL if there is none, or no advice.
 */
const char *
p11_advice(const char *text, char *name, size_t size)
{
	const char	*p;
	size_t		 n;

	if (size == 0)
		return (NULL);
	name[0] = '\0';
	if ((p = strstr(text, "CKR_")) == NULL)
		return (NULL);
	for (n = 0; p[n] != '\0' && (isupper((unsigned char)p[n]) ||
	    isdigit((unsigned char)p[n]) || p[n] == '_'); n++)
		;
	if (n >= size)
		return (NULL);
	memcpy(name, p, n);
	name[n] = '\0';
	return (p11_advice_of(name));
}
