/*
 * The pkcs11 backend's state, shared by hsm_pkcs11.c (module, token,
 * session, login) and p11key.c (keys in the token).
 */
#ifndef P11_H
#define P11_H

#include <p11-kit/pkcs11.h>

struct softkey;
struct p11;

/* One session on the token; a request uses one at a time. */
struct p11_sess {
	struct p11		*tok;
	CK_FUNCTION_LIST_PTR	 f;		/* tok->f */
	const char		*label;		/* tok->label */
	CK_SESSION_HANDLE	 session;
	int			 open;
	int			 lost;		/* the last call lost it */
};

/* The token: module, slot, what it offers. */
struct p11 {
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	int			 initialized;
	CK_SLOT_ID		 slot;
	char			 label[33];
	CK_MECHANISM_TYPE	*mechs;		/* C_GetMechanismList */
	CK_ULONG		 nmechs;
	struct softkey		*pub;		/* verify, RSA encrypt */
	struct p11_sess		 s0;
};

/* hsm_pkcs11.c */
const char	*p11_rv(CK_RV);
int		 p11_session_open(struct hsm *, struct p11_sess *);
void		 p11_session_close(struct hsm *, struct p11_sess *);

/* A request on one session (p11_run). */
typedef int	(*p11_fn)(struct hsm *, struct p11_sess *,
		    const struct hsm_req *, struct hsm_res *);

/* p11key.c */
void		 p11_run(struct hsm *, const struct hsm_req *,
		    struct hsm_res *, p11_fn);
void		 p11_generate(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
void		 p11_op(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);
const char	*p11_mech_name(CK_MECHANISM_TYPE);
int		 p11_offers(const struct p11 *, CK_MECHANISM_TYPE);

/* p11kek.c */
void		 p11_kek_link(struct hsm *, struct imsg *);
void		 p11_kek_clear(struct hsm *);

#endif /* P11_H */
