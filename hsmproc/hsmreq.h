/*
 * Key requests from the engine (IMSG_HSM_GENERATE, IMSG_HSM_IMPORT,
 * IMSG_HSM_OP, IMSG_HSM_LABEL, see hsmmsg.h) as the backends see them,
 * and their answer.
 */
#ifndef HSMREQ_H
#define HSMREQ_H

#include <stddef.h>
#include <stdint.h>

#include "hsmmsg.h"
#include "kmip.h"		/* KMIP_REASON_* for hsm_res.status */

/*
 * A parsed request.  The pointers point into the received payload and
 * are valid until it is freed; absent parts have length 0.  For
 * IMSG_HSM_IMPORT and IMSG_HSM_LABEL the material is in key/len_key; for
 * IMSG_HSM_FIND the value looked for is, and bits says whether it is a
 * label or a CKA_ID (HSM_FIND_*).
 */
struct hsm_req {
	uint32_t	 type;		/* IMSG_HSM_GENERATE, _IMPORT, _OP,
					   _LABEL */
	uint32_t	 peerid;	/* the engine's request id */
	char		 id[HSM_ID_MAX];
	uint32_t	 op;		/* enum hsm_op_kind (IMSG_HSM_OP) */
	uint32_t	 kind;		/* enum hsm_key_kind */
	uint32_t	 bits;		/* IMSG_HSM_GENERATE */
	uint32_t	 format;	/* IMSG_HSM_IMPORT: HSM_FMT_* */
	uint32_t	 padding;
	uint32_t	 hash;
	uint32_t	 tag_len;
	uint32_t	 flags;		/* HSM_OPF_* */
	uint32_t	 salt_len;	/* PSS, with HSM_OPF_SALT_LEN */
	uint32_t	 mgf_hash;	/* HSM_HASH_*, NONE: hash */
	uint32_t	 mode;		/* HSM_MODE_*: AES */
	uint32_t	 wrap_kind;	/* HSM_OP_WRAP: the wrapping key's */
	char		 wrap_id[HSM_ID_MAX];
	uint32_t	 stream_id;	/* HSM_OPF_STREAM, HSM_OP_STREAM_END */
	uint32_t	 key_class;	/* IMSG_HSM_LABEL: HSM_CLASS_* */
	char		 label[HSM_LABEL_MAX];	  /* _GENERATE, _LABEL */
	char		 pub_label[HSM_LABEL_MAX]; /* _GENERATE */
	const uint8_t	*key;
	const uint8_t	*data;
	const uint8_t	*iv;
	const uint8_t	*aad;
	const uint8_t	*sig;
	const uint8_t	*oaep_label;	/* KMIP P Source */
	size_t		 len_key;
	size_t		 len_data;
	size_t		 len_iv;
	size_t		 len_aad;
	size_t		 len_sig;
	size_t		 len_oaep_label;
};

#define HSM_RES_NOUT	3
#define HSM_GCM_IV_LEN	12	/* the IV a signer makes, and accepts */
#define HSM_GCM_IV_MAX	128	/* the software signer accepts 1 to this */
#define HSM_BLOCK_LEN	16	/* AES; the iv of CBC and CTR */

/*
 * An answer.  status 0 or a KMIP_REASON_* with msg; out[] are malloc'ed by
 * the backend and wiped and freed by hsm_res_clear() (a decrypt result
 * is plaintext).
 */
struct hsm_res {
	int32_t		 status;
	int32_t		 valid;
	char		 msg[HSM_MSG_MAX];
	uint8_t		*out[HSM_RES_NOUT];
	size_t		 len[HSM_RES_NOUT];
};

struct hsm;
struct imsg;
struct imsgev;

/* A backend's entry for one kind of request (struct hsm_backend). */
typedef void	(*hsm_fn)(struct hsm *, const struct hsm_req *,
		    struct hsm_res *);

int	 hsm_req_parse(uint32_t, const void *, size_t, struct hsm_req *,
	    const char **);
int	 hsm_res_error(struct hsm_res *, int, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));
void	 hsm_res_clear(struct hsm_res *);
void	 hsm_res_take(struct hsm_res *, int, uint8_t *, size_t, size_t);
int	 hsm_res_send(struct imsgev *, uint32_t, struct hsm_res *);
void	 hsm_request(struct hsm *, struct imsgev *, struct imsg *);
void	 hsm_request_multi(struct hsm *, struct imsgev *, struct imsg *);
void	 hsm_results_begin(struct imsgev *);
void	 hsm_results_end(void);
uint64_t hsm_results_group(void);
void	 hsm_results_flush(void);
hsm_fn	 hsm_pick(struct hsm *, const struct hsm_req *, struct hsm_res *);
void	 hsm_handle(struct hsm *, const struct hsm_req *, struct hsm_res *);
void	 hsm_answer(struct imsgev *, const struct hsm_req *,
	    struct hsm_res *);
int	 hsm_gcm_check(const struct hsm_req *, int, size_t *,
	    struct hsm_res *);
int	 hsm_gcm_check_iv(const struct hsm_req *, int, size_t *,
	    struct hsm_res *, size_t);
int	 hsm_hash_len(uint32_t);
int	 hsm_digest_check(const struct hsm_req *, struct hsm_res *);

#endif /* HSMREQ_H */
