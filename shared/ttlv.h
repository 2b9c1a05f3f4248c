/*
 * KMIP TTLV: tag (3 bytes), type (1), length (4), value padded to a
 * multiple of 8, all big-endian.  Decoding builds a tree under hard
 * limits; encoding is canonical (the same tree always gives the same
 * bytes), so the engine can re-encode what the frontend decoded.
 */
#ifndef TTLV_H
#define TTLV_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ttlv_type {
	TTLV_STRUCTURE		= 0x01,
	TTLV_INTEGER		= 0x02,	/* int32 */
	TTLV_LONG_INTEGER	= 0x03,	/* int64 */
	TTLV_BIG_INTEGER	= 0x04,	/* two's complement, bytes */
	TTLV_ENUMERATION	= 0x05,	/* uint32 */
	TTLV_BOOLEAN		= 0x06,	/* 8 bytes, 0 or 1 */
	TTLV_TEXT_STRING	= 0x07,	/* UTF-8, bytes */
	TTLV_BYTE_STRING	= 0x08,	/* bytes */
	TTLV_DATE_TIME		= 0x09,	/* int64, seconds since the epoch */
	TTLV_INTERVAL		= 0x0a,	/* uint32, seconds */
	TTLV_DATE_TIME_EXT	= 0x0b	/* int64, microseconds (KMIP 2.0) */
};

#define TTLV_HEADER_LEN		8

/* Decoding limits; a message over any of them is refused. */
struct ttlv_limits {
	size_t		 max_size;	/* whole message, bytes */
	unsigned int	 max_depth;	/* structure nesting, root is 1 */
	unsigned int	 max_items;	/* items in the whole message */
	size_t		 max_string;	/* one text/byte/big integer value */
};
#define TTLV_DEFAULT_LIMITS	{ 1024 * 1024, 16, 10000, 1024 * 1024 }

struct ttlv {
	uint32_t		 tag;		/* 24 bits */
	enum ttlv_type		 type;
	union {
		int32_t		 i32;		/* INTEGER */
		uint32_t	 u32;		/* ENUMERATION, INTERVAL */
		int64_t		 i64;		/* LONG_INTEGER, DATE_TIME[_EXT] */
		int		 b;		/* BOOLEAN */
		struct {
			uint8_t	*data;		/* malloc'd; text not NUL-ended */
			size_t	 len;
		} s;				/* TEXT, BYTE_STRING, BIG_INTEGER */
	} v;
	struct ttlv		*parent;
	TAILQ_HEAD(, ttlv)	 children;	/* STRUCTURE */
	TAILQ_ENTRY(ttlv)	 entry;
};

/*
 * ttlv_decode: parse exactly len bytes holding one item.  Returns 0 and
 * the tree in *root, or -1 with a static description of the problem in
 * *err (for a KMIP Result Message).  Refuses: a length that does not
 * match the type (INTEGER 4, LONG 8, ...), a structure whose children do
 * not fill it exactly, non-zero padding, a boolean other than 0/1, an
 * unknown type, trailing bytes, and anything over the limits.
 */
int		 ttlv_decode(const uint8_t *, size_t, const struct ttlv_limits *,
		    struct ttlv **, const char **);
/* ttlv_frame_len: from the first 8 bytes, the total length of the item. */
int		 ttlv_frame_len(const uint8_t *, size_t, uint32_t *, uint8_t *,
		    size_t *);
void		 ttlv_free(struct ttlv *);

/* Building.  Every ttlv_add_* appends a new child to a structure. */
struct ttlv	*ttlv_new_structure(uint32_t);
struct ttlv	*ttlv_add_structure(struct ttlv *, uint32_t);
struct ttlv	*ttlv_add_integer(struct ttlv *, uint32_t, int32_t);
struct ttlv	*ttlv_add_long(struct ttlv *, uint32_t, int64_t);
struct ttlv	*ttlv_add_enum(struct ttlv *, uint32_t, uint32_t);
struct ttlv	*ttlv_add_bool(struct ttlv *, uint32_t, int);
struct ttlv	*ttlv_add_text(struct ttlv *, uint32_t, const char *, size_t);
struct ttlv	*ttlv_add_string(struct ttlv *, uint32_t, const char *);
struct ttlv	*ttlv_add_bytes(struct ttlv *, uint32_t, const void *,
		    size_t);
struct ttlv	*ttlv_add_bigint(struct ttlv *, uint32_t, const void *,
		    size_t);
struct ttlv	*ttlv_add_datetime(struct ttlv *, uint32_t, int64_t);
struct ttlv	*ttlv_add_interval(struct ttlv *, uint32_t, uint32_t);
struct ttlv	*ttlv_copy(const struct ttlv *);
void		 ttlv_append(struct ttlv *, struct ttlv *);
void		 ttlv_remove(struct ttlv *);

/* Encoding: the exact length, and the bytes into a buffer that long. */
size_t		 ttlv_encoded_len(const struct ttlv *);
int		 ttlv_encode(const struct ttlv *, uint8_t *, size_t);
/* 0 if ttlv_decode under these limits would take the tree's encoding. */
int		 ttlv_check_limits(const struct ttlv *,
		    const struct ttlv_limits *, const char **);

/* Looking things up in a structure. */
struct ttlv	*ttlv_find(const struct ttlv *, uint32_t);
struct ttlv	*ttlv_find_next(const struct ttlv *, const struct ttlv *,
		    uint32_t);
unsigned int	 ttlv_count(const struct ttlv *, uint32_t);
/* Typed getters: -1 if absent or of another type. */
int		 ttlv_get_enum(const struct ttlv *, uint32_t, uint32_t *);
int		 ttlv_get_integer(const struct ttlv *, uint32_t, int32_t *);
int		 ttlv_get_long(const struct ttlv *, uint32_t, int64_t *);
int		 ttlv_get_bool(const struct ttlv *, uint32_t, int *);
int		 ttlv_get_bytes(const struct ttlv *, uint32_t,
		    const uint8_t **, size_t *);
/* Text as a NUL-terminated copy into buf; -1 if absent, too long or
 * containing a NUL. */
int		 ttlv_get_text(const struct ttlv *, uint32_t, char *, size_t);

/*
 * UTF-8: the length of the valid character at p (0 if none), and the
 * cleaning of a message made from client text before it is sent back
 * (cut characters dropped, invalid bytes and controls made '?').
 */
void		 ttlv_text_clean(char *);

/* Debugging: the tree with tag names, one item per line. */
void		 ttlv_dump(FILE *, const struct ttlv *);

#endif /* TTLV_H */
