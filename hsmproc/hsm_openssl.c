/*
 * The openssl backend (software keys, kept in the keystore wrapped by a
 * key-encryption key) and the kmip backend (an upstream KMIP server).
 *
 * Key operations arrive with the KMIP data path; for now these backends
 * report their state honestly and hold nothing.
 */
#include <sys/types.h>

#include "log.h"
#include "hsmproc.h"

static int	 soft_start(struct hsm *);
static int	 soft_check(struct hsm *);
static void	 soft_stop(struct hsm *);
static int	 kmip_start(struct hsm *);

const struct hsm_backend hsm_openssl = {
	"openssl", soft_start, soft_check, soft_stop
};

const struct hsm_backend hsm_kmip = {
	"kmip", kmip_start, soft_check, soft_stop
};

static int
soft_start(struct hsm *h)
{
	if (h->setup.wrap_with[0] != '\0')
		hsm_status_set(h, SSTATE_READY, "software keys, wrapped by "
		    "signer \"%s\"", h->setup.wrap_with);
	else
		hsm_status_set(h, SSTATE_READY, "software keys, wrapped by "
		    "the key in %s", h->setup.kek_file);
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
}

static int
kmip_start(struct hsm *h)
{
	hsm_status_set(h, SSTATE_UNSUPPORTED, "upstream KMIP server %s port "
	    "%u: the kmip signer type is not implemented yet", h->setup.host,
	    h->setup.port);
	return (-2);
}
