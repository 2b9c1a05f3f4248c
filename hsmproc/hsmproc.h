/*
 * A signer child: one per configured signer, the only kind of process
 * that loads a PKCS#11 module or holds a PIN.
 */
#ifndef HSMPROC_H
#define HSMPROC_H

#include <event.h>

#include "hsmreq.h"
#include "imsgev.h"
#include "signerd.h"

#define HSM_PIN_MAX		256
#define HSM_KEK_LEN		32	/* IMSG_CONF_KEK: an AES-256 key */
#define HSM_RETRY_MIN_S		1
#define HSM_RETRY_MAX_S		60

struct hsm;

struct hsm_backend {
	const char	*name;
	/* Connect; sets hsm->status.  0 ready, -1 retry later, -2 never. */
	int		(*start)(struct hsm *);
	/* Cheap liveness check for a status request; -1: reconnect. */
	int		(*check)(struct hsm *);
	void		(*stop)(struct hsm *);
	/*
	 * Key requests, called only when the signer is ready; each fills
	 * in the answer (status 0 or a KMIP_REASON_* with a message).  NULL:
	 * the engine is told "Operation Not Supported".
	 */
	void		(*generate)(struct hsm *, const struct hsm_req *,
			    struct hsm_res *);
	void		(*import)(struct hsm *, const struct hsm_req *,
			    struct hsm_res *);
	void		(*op)(struct hsm *, const struct hsm_req *,
			    struct hsm_res *);
	/* IMSG_HSM_FIND: keys already in a token (pkcs11 only). */
	void		(*find)(struct hsm *, const struct hsm_req *,
			    struct hsm_res *);
	/*
	 * Optional, for a backend with worker threads: take fn and a copy
	 * of the request (payload buf, len) and answer it later on iev
	 * from the main thread: 0.  -1: not taken, res says why (busy).
	 */
	int		(*submit)(struct hsm *, struct imsgev *,
			    const struct hsm_req *, hsm_fn, const void *,
			    size_t, struct hsm_res *);
	/* Optional: current counters into a status answer. */
	void		(*stats)(struct hsm *, struct signer_status *);
	/* IMSG_HSM_LABEL: a token key's label (pkcs11 only). */
	void		(*label)(struct hsm *, const struct hsm_req *,
			    struct hsm_res *);
	/*
	 * Optional, with submit: the requests of one IMSG_HSM_OPS are all
	 * submitted (their answers may go back together now).
	 */
	void		(*submitted)(struct hsm *);
};

struct hsm {
	struct signer_setup	 setup;
	char			 pin[HSM_PIN_MAX];
	size_t			 pinlen;
	int			 has_pin;
	uint8_t			 kek[HSM_KEK_LEN];	/* until start */
	int			 has_kek;
	struct signer_status	 status;
	const struct hsm_backend *be;
	void			*be_state;
	struct imsgev		 parent;
	struct imsgev		 engine;
	struct event		 retry;
	int			 retry_s;
	int			 sandboxed;
	uint32_t		 engine_gen;	/* a new engine channel */
};

void	hsm_status_set(struct hsm *, enum signer_state, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));
void	hsm_retry_soon(struct hsm *);

/* hsmident.c */
struct imsg;
void	hsm_identity(struct hsm *, struct imsgev *, struct imsg *);
void	hsm_check(struct hsm *, struct imsgev *, struct imsg *);
void	hsm_stat_begin(uint32_t);
void	hsm_stat_end(uint32_t, int32_t, const char *);
void	hsm_stat_forget(void);
void	hsm_stat_fill(struct signer_status *);

/* hsm_pkcs11.c */
extern const struct hsm_backend	hsm_pkcs11;

/* hsm_openssl.c */
extern const struct hsm_backend	hsm_openssl;
extern const struct hsm_backend	hsm_kmip;
struct imsg;
void	soft_kek_link(struct hsm *, struct imsg *);
void	soft_engine_linked(struct hsm *);
void	soft_check_answer(struct hsm *, struct imsg *);
void	soft_rewrap(struct hsm *, struct imsgev *, struct imsg *);
int	soft_ident_rewrap(struct hsm *, uint32_t, const uint8_t *, size_t,
	    uint8_t **, size_t *);

#endif /* HSMPROC_H */
