/*
 * The pkcs11 backend's state, shared by hsm_pkcs11.c (module, token,
 * session, login) and p11key.c (keys in the token).
 */
#ifndef P11_H
#define P11_H

#include <p11-kit/pkcs11.h>

struct softkey;

struct p11 {
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	int			 initialized;
	CK_SLOT_ID		 slot;
	CK_SESSION_HANDLE	 session;
	int			 has_session;
	int			 lost;		/* the last call lost it */
	char			 label[33];
	CK_MECHANISM_TYPE	*mechs;		/* C_GetMechanismList */
	CK_ULONG		 nmechs;
	struct softkey		*pub;		/* verify, RSA encrypt */
};

/* hsm_pkcs11.c */
const char	*p11_rv(CK_RV);
int		 p11_session_open(struct hsm *, struct p11 *);
void		 p11_session_close(struct hsm *, struct p11 *);

/* p11key.c */
void		 p11_generate(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
void		 p11_op(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
const char	*p11_mech_name(CK_MECHANISM_TYPE);
int		 p11_offers(const struct p11 *, CK_MECHANISM_TYPE);

#endif /* P11_H */
