/*
 * Token selection and the self-test's view of a token (p11token.c).
 */
#ifndef P11TOKEN_H
#define P11TOKEN_H

#include <stddef.h>

#include <p11-kit/pkcs11.h>

struct hsm;
struct p11;

/* A token as C_GetTokenInfo describes it, padding removed. */
struct p11_tokinfo {
	CK_SLOT_ID	 slot;
	char		 label[33];
	char		 serial[17];
	char		 model[17];
	char		 manuf[33];
	char		 firmware[8];
};

extern const CK_MECHANISM_TYPE	 p11_mechs_needed[];
extern const size_t		 p11_nmechs_needed;
extern const CK_MECHANISM_TYPE	 p11_mechs_optional[];
extern const size_t		 p11_nmechs_optional;

void	 p11_text(char *, size_t, const void *, size_t);
int	 p11_token_match(const struct p11_tokinfo *, const char *,
	    const char *, long long);
int	 p11_token_find(struct hsm *, struct p11 *);
size_t	 p11_mechs_missing(const CK_MECHANISM_TYPE *, size_t,
	    const CK_MECHANISM_TYPE *, size_t, CK_MECHANISM_TYPE *);
int	 p11_mechs_report(const CK_MECHANISM_TYPE *, size_t, char *, size_t);

/* p11key.c */
struct hsm_req;
struct hsm_res;
void	 p11_login_check(struct hsm *, const struct hsm_req *,
	    struct hsm_res *);

#endif /* P11TOKEN_H */
