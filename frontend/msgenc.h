/*
 * The KMIP JSON and XML message encodings, converted to and from TTLV in
 * the frontend: the engine sees TTLV only.
 */
#ifndef MSGENC_H
#define MSGENC_H

#include <stddef.h>
#include <stdint.h>

/* The encoding of a message, from its Content-Type. */
enum msg_enc {
	ENC_TTLV,
	ENC_JSON,
	ENC_XML
};

/*
 * Nesting of a text message.  A TTLV structure is two JSON levels (its
 * object and the array of its items) and one XML level; the engine takes
 * 16 levels of TTLV.
 */
#define MSGENC_DEPTH_MAX	40

#define KMIPNAME_ATTRIBUTE_NAME		0x42000a
#define KMIPNAME_ATTRIBUTE_VALUE	0x42000b
#define KMIPNAME_USAGE_MASK		0x42002c

/*
 * msgenc_to_ttlv: one message of len bytes in the JSON or XML encoding
 * to TTLV of at most max bytes.  0 and a malloc'd *out, or -1 and a
 * static reason in *err.
 */
int		 msgenc_to_ttlv(enum msg_enc, const char *, size_t, size_t,
		    uint8_t **, size_t *, const char **);
/* msgenc_from_ttlv: a TTLV message to the encoding; 0 and malloc'd. */
int		 msgenc_from_ttlv(enum msg_enc, const uint8_t *, size_t,
		    char **, size_t *);

/* textnames.c */
uint32_t	 kmipname_tag(const char *, size_t);
const char	*kmipname_tagname(uint32_t);
int		 kmipname_enum(uint32_t, const char *, const char *, size_t,
		    uint32_t *);
const char	*kmipname_enumname(uint32_t, const char *, uint32_t);
int		 kmipname_usage(const char *, size_t, uint32_t *);

#endif /* MSGENC_H */
