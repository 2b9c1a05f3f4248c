/*
 * The audit trail: one JSON line per request item, each carrying the
 * SHA-256 of the line before it (docs/design.md, "Audit trail").  The
 * engine writes it (audit.c); signerctl audit verify reads it with the
 * same parser and chaining code.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "signerd.h"

#define AUDIT_LINE_MAX		8192	/* a record, without its newline */
#define AUDIT_HASH_HEX		65	/* SHA-256 in hex, with the NUL */
#define AUDIT_FILE_MAX		128	/* a file name, with the NUL */
#define AUDIT_ROTATE_DEFAULT	(64LL * 1024 * 1024)
#define AUDIT_KEEP_DEFAULT	8

/* What a record says that the chain needs (audit_parse). */
struct audit_rec {
	uint64_t	 seq;
	char		 prev[AUDIT_HASH_HEX];
	char		 event[16];
	char		 prev_file[AUDIT_FILE_MAX];	/* event "rotate" */
	char		 torn[AUDIT_HASH_HEX];		/* event "torn" */
};

/* The verifier's state along a series of files. */
struct audit_chain {
	int		 started;	/* a record was seen */
	uint64_t	 seq;		/* of the last record */
	char		 hash[AUDIT_HASH_HEX];	/* of its line */
	/* A line that is not a record, waiting for its "torn" record. */
	int		 torn_pending;
	char		 torn_hash[AUDIT_HASH_HEX];
	uint64_t	 records;	/* records checked */
};

/* IMSG_CTL_AUDIT, engine -> signerctl: where the trail is, its head. */
struct ctl_audit {
	int32_t		 enabled;
	char		 dir[1024];	/* the keystore's directory */
	char		 file[AUDIT_FILE_MAX];
	uint64_t	 seq;		/* the last record written */
	char		 head[AUDIT_HASH_HEX];	/* its hash; "" if none */
};

/* Chain and parse: the engine's and signerctl's. */
void	 audit_hash(const char *, size_t, char *);
int	 audit_parse(const char *, size_t, struct audit_rec *,
	    const char **);
int	 audit_chain_line(struct audit_chain *, const char *, size_t, int,
	    char *, size_t);
int	 audit_chain_end(struct audit_chain *, char *, size_t);

/* The engine's trail. */
struct audit_req {
	const struct fe_hdr	*hdr;
	uint32_t		 msgid;		/* the engine's number */
	int			 item;		/* in the batch; -1: message */
	uint32_t		 op;		/* KMIP Operation, 0: none */
	const char		*ids[2];	/* objects, or NULL */
	const char		*signer;	/* or NULL */
	int			 failed;
	uint32_t		 reason;
	const char		*msg;		/* Result Message, or NULL */
	int64_t			 us;		/* duration */
};

struct engine_conf;
int	 audit_configure(const struct engine_conf *, const char *,
	    const char *, size_t);
void	 audit_request(const struct audit_req *);
int	 audit_refused(const void *, size_t);
void	 audit_write(void);
int	 audit_unstored(const char **, size_t *, uint64_t *, uint64_t *,
	    uint64_t *);
void	 audit_stored(uint64_t, uint64_t);
void	 audit_sync(void);
void	 audit_thread_start(void);
void	 audit_hold(void);
void	 audit_release(void);
void	 audit_head(struct ctl_audit *);
void	 audit_close(void);

/* signerctl audit verify (ctl/audit.c) */
int	 audit_verify_main(const char *, int, char *[]);

#endif /* AUDIT_H */
