/*
 * The engine's policy (policy.c): who a client is (certificate CN or a
 * fingerprint binding, and a password where one is configured), what
 * it may use at all, and what it may do to an object: its own, anything
 * for an admin, else what a grant gives.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "signerd.h"

struct fe_hdr;
struct keystore;
struct ks_object;
struct ttlv;

/* What policy_may says of an object for a client. */
enum policy_answer {
	POLICY_HIDDEN,		/* it does not exist for the client */
	POLICY_DENIED,		/* it does, but not for this operation */
	POLICY_ALLOWED
};

/* Consecutive failed passwords before an identity is refused a while. */
#define POLICY_FAIL_FREE	5
#define POLICY_DELAY_MIN	4	/* s: the first refusal */
#define POLICY_DELAY_MAX	300	/* s: it doubles up to this */

void		 policy_conf_start(void);
void		 policy_conf_identity(const struct conf_identity *);
void		 policy_conf_done(void);
int		 policy_authenticate(struct fe_hdr *, struct ttlv *, char *,
		    size_t);
int		 policy_op_allowed(const char *, uint32_t);
const char	*policy_default_signer(const char *);
int		 policy_load(struct keystore *, char *, size_t);
void		 policy_free(void);
enum policy_answer policy_may(const char *, const struct ks_object *,
		    uint32_t);
int		 policy_grants_any(const char *);
int		 policy_change(const struct ctl_grant *, int, char *, size_t);
size_t		 policy_grants(const char *, uint32_t,
		    void (*)(int, const char *, uint64_t, void *), void *);
int		 policy_grant_list(const char *, const struct ctl_grant *,
		    struct ctl_grant *, size_t, size_t *);
size_t		 policy_ngrants(void);

#endif /* POLICY_H */
