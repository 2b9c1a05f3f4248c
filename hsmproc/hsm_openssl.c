/*
 * The openssl backend (software keys, kept in the keystore wrapped by a
 * key-encryption key: softkey.c) and the kmip backend (an upstream KMIP
 * server, not implemented yet).
 *
 * The KEK comes from the parent (IMSG_CONF_KEK, read from the kek file);
 * it lives in this process only, in the softkey state.
 */
#include <sys/types.h>

#include "log.h"
#include "hsmproc.h"
#include "softkey.h"

static int	 soft_start(struct hsm *);
static int	 soft_check(struct hsm *);
static void	 soft_stop(struct hsm *);
static void	 soft_generate(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
static void	 soft_import(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
static void	 soft_op(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
static int	 kmip_start(struct hsm *);
static void	 kmip_stop(struct hsm *);

const struct hsm_backend hsm_openssl = {
	"openssl", soft_start, soft_check, soft_stop, soft_generate,
	soft_import, soft_op, NULL, NULL, NULL, NULL
};

const struct hsm_backend hsm_kmip = {
	"kmip", kmip_start, soft_check, kmip_stop, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL
};

static int
soft_start(struct hsm *h)
{
	struct softkey	*sk;

	if (h->be_state != NULL)
		return (0);
	if (h->setup.wrap_with[0] != '\0') {
		hsm_status_set(h, SSTATE_UNSUPPORTED, "wrapping by an HSM "
		    "signer comes with PKCS#11 key support; use kek file");
		return (-2);
	}
	/* The parent sends none if the file is missing or malformed. */
	if (!h->has_kek) {
		hsm_status_set(h, SSTATE_ERROR, "no key-encryption key (kek "
		    "file missing or unreadable, see the log of signerd)");
		return (-2);
	}
	if ((sk = sw_new(h->kek, 0)) == NULL) {
		hsm_status_set(h, SSTATE_ERROR, "OpenSSL lacks AES-GCM, "
		    "SHA-256 or HMAC");
		return (-2);
	}
	h->be_state = sk;
	hsm_status_set(h, SSTATE_READY, "software keys, wrapped by the key "
	    "in %s", h->setup.kek_file);
	return (0);
}

static int
soft_check(struct hsm *h)
{
	return (0);
}

static void
soft_stop(struct hsm *h)
{
	sw_free(h->be_state);
	h->be_state = NULL;
}

static void
soft_generate(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	(void)sw_generate(h->be_state, req, res);
}

static void
soft_import(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	(void)sw_import(h->be_state, req, res);
}

static void
soft_op(struct hsm *h, const struct hsm_req *req, struct hsm_res *res)
{
	(void)sw_op(h->be_state, req, res);
}

static int
kmip_start(struct hsm *h)
{
	hsm_status_set(h, SSTATE_UNSUPPORTED, "upstream KMIP server %s port "
	    "%u: the kmip signer type is not implemented yet", h->setup.host,
	    h->setup.port);
	return (-2);
}

static void
kmip_stop(struct hsm *h)
{
}
