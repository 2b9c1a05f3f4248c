/*
 * The engine's KMIP layer: one struct kmsg per Request Message (kmip.c
 * alone sees it), one struct kreq per batch item started.  Items run in
 * request order; consecutive read-only items that name their object run
 * together, each either answered at once or waiting for a signer.  The
 * operations (kmip_ops.c, kop_*.c) see the item they run as a struct kreq.
 */
#ifndef KREQ_H
#define KREQ_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <event.h>
#include <stdint.h>
#include <time.h>

#include "hsmmsg.h"
#include "keystore.h"
#include "signerd.h"
#include "ttlv.h"

struct kreq;

/* What an operation handler returns. */
enum kop_ret {
	KOP_DONE,		/* the response item is complete */
	KOP_WAIT		/* waiting for a signer: kreq->cont is called */
};

struct kerr {
	uint32_t	 reason;	/* KMIP Result Reason */
	char		 msg[256];
};

typedef enum kop_ret (*kop_cont)(struct kreq *, const struct hsm_result *,
    const uint8_t *, const uint8_t *, const uint8_t *);
/* Where the response of a request from inside the engine goes. */
typedef void (*kreq_done)(uint32_t, const struct ttlv *);

struct kmsg;

struct kreq {
	TAILQ_ENTRY(kreq)	 entry;		/* waiting for a signer */
	TAILQ_ENTRY(kreq)	 mentry;	/* in its message's running */
	struct kmsg		*m;		/* the message of the item */
	unsigned int		 index;		/* in the batch, from 0 */
	int			 shared;	/* runs beside others */
	int			 done;		/* resp is its answer */
	struct ttlv		*resp;		/* response batch item */
	/*
	 * The message's, copied for the operations.  Those that change
	 * placeholder or examined run alone, and give them back when they
	 * end; dirty is added to the message's.
	 */
	struct fe_hdr		 hdr;
	uint32_t		 id;		/* for the log */
	int32_t			 major, minor;	/* its protocol version */
	size_t			 budget;	/* most the response may take */
	char			 placeholder[KS_ID_MAX];
	size_t			 examined;	/* objects Locate looked at */
	int			 dirty;		/* keystore changed */
	/* The item's own. */
	struct ttlv		*cur;		/* request batch item running */
	uint32_t		 op;
	struct ttlv		*payload;	/* response payload being built */
	int			 item_failed;	/* this item */
	uint32_t		 item_reason;
	char			 item_msg[256];
	char			 waiting_on[SIGNER_NAME_MAX];
	uint32_t		 signer_id;	/* of waiting_on */
	uint32_t		 sent_id;	/* peerid of the signer request */
	uint32_t		 sreq_type;	/* that request, kept until */
	uint8_t			*sreq;		/* answered: it may be held */
	size_t			 sreq_len;	/* or sent again */
	int			 held;		/* signer not ready: not sent */
	TAILQ_ENTRY(kreq)	 oentry;	/* in the outbox: to be sent */
	RB_ENTRY(kreq)		 sentry;	/* sent: by sent_id */
	int			 in_outbox;
	int			 in_sent;
	int			 timeout;	/* the signer's deadline, s */
	struct event		 deadline;
	int			 deadline_set;
	uint32_t		 get_fmt;	/* Key Format Type of a Get */
	kop_cont		 cont;		/* after a signer's answer */
	/*
	 * A long operation (Locate) does a bounded step per turn of the
	 * event loop and yields between steps (kreq_yield); what it keeps
	 * between steps is freed with the item.
	 */
	struct event		 resume;
	int			 resume_set;
	void			*opstate;
	void			(*opstate_free)(void *);
	struct ks_object	 obj;		/* object of the operation */
	struct ks_object	 obj2;		/* the other half of a pair */
	struct ctl_adopt	*adopt;		/* signerctl adopt: its */
	struct timespec		 started;	/* for its latency, audit */
	char			 owner_as[KS_OWNER_MAX]; /* x-signerd-owner */
	/* For its audit record: kept past kreq_item_end. */
	int64_t			 us;		/* start to answer */
	char			 audit_ids[2][KS_ID_MAX];
	char			 audit_signer[SIGNER_NAME_MAX];
};
TAILQ_HEAD(kreq_list, kreq);

/* kmip.c */
void		 kmip_request(const struct fe_hdr *, const uint8_t *, size_t);
struct esigner;
void		 kmip_signer_result(struct esigner *, uint32_t, struct imsg *);
void		 kmip_signer_results(struct esigner *, struct imsg *);
void		 kmip_signer_lost(struct esigner *, const char *);
void		 kmip_signer_ready(struct esigner *);
void		 kmip_shutdown(void);
void		 kreq_fail(struct kreq *, uint32_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
int		 kreq_signer_send(struct kreq *, const char *, uint32_t,
		    const void *, size_t, const struct iovec *, int, kop_cont);
void		 kreq_signer_clear(struct kreq *);
enum kop_ret	 kreq_yield(struct kreq *, kop_cont);
int		 kreq_version_at_least(const struct kreq *, int, int);
size_t		 kreq_room(const struct kreq *);
void		 kmip_flush(void);
void		 kmip_adopt(const struct ctl_adopt *, kreq_done, uint32_t);

/* kop_crypto.c */
void		 kop_stream_conn_closed(uint64_t);

/* kmip_ops.c */
enum kop_ret	 kop_run(struct kreq *, uint32_t, const struct ttlv *);
enum kop_ret	 kop_adopt(struct kreq *);
extern const uint32_t	 kop_operations[];
extern const size_t	 kop_noperations;

#endif /* KREQ_H */
