/*
 * The KMIP JSON and XML message encodings (KMIP Profiles 1.4, the JSON
 * and XML profiles), converted to TTLV for the engine and back.
 *
 * A request is parsed in two steps: the text into a tree of nodes (a JSON
 * parser after RFC 8259, a minimal XML parser), then the tree into TTLV.
 * Both parsers are of untrusted input and bounded by it: nodes live in
 * one array of at most MSGENC_NODES_MAX (and never more than one per
 * byte of input), decoded strings in one arena no larger than the input,
 * nesting is at most MSGENC_DEPTH_MAX.  The XML parser knows elements,
 * attributes, comments, processing instructions, the five predefined
 * entities and character references; a DTD is refused, so no entity can
 * be declared, let alone expand (billion laughs, external entities).
 *
 * In both encodings an item is a tag (its name or "0x42xxxx"), a type
 * (Structure when absent) and a value: the items of a Structure,
 * otherwise text or, in JSON, a number or a boolean.  Integers and
 * intervals may be decimal or hex ("0x" and up to 8 digits), Long
 * Integers and Date-Times hex up to 16 digits, Enumerations their name
 * or hex, a Cryptographic Usage Mask its bit names separated by '|' or
 * spaces, Big Integers and Byte Strings hex, Date-Times ISO 8601.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ttlv.h"
#include "msgenc.h"

#define MSGENC_NODES_MAX	65536
#define ATTR_NAME_MAX		64	/* the longest Attribute Name kept */

enum node_kind {
	N_OBJECT,
	N_ARRAY,
	N_STRING,
	N_NUMBER,
	N_TRUE,
	N_FALSE,
	N_NULL,
	N_ELEMENT,
	N_ATTRIBUTE
};

/* Links are indices + 1 into doc.nodes; 0 is none. */
struct node {
	enum node_kind	 kind;
	uint32_t	 child;		/* first member, element or attribute */
	uint32_t	 last;
	uint32_t	 next;
	uint32_t	 attr;		/* XML: first attribute */
	const char	*key;		/* member or element or attribute name */
	size_t		 keylen;
	const char	*s;		/* string, number, attribute value */
	size_t		 slen;
};

struct doc {
	struct node	*nodes;
	uint32_t	 n, cap, max;
	char		*arena;
	size_t		 alen, acap;
	const char	*p, *end;
	const char	*err;
};

/* A scalar value as the text gave it. */
struct val {
	enum node_kind	 kind;		/* N_STRING, N_NUMBER, N_TRUE, ... */
	const char	*s;
	size_t		 len;
};

/*
 * An item of the text, as json_fields or xml_fields read it from its
 * node: its tag and type, a scalar's value (has_value: there is one)
 * or the first node of a structure's items.
 */
struct item {
	uint32_t	 tag;
	int		 type;
	int		 has_value;
	struct val	 v;
	uint32_t	 items;
};

typedef int (*item_fields)(struct doc *, uint32_t, struct item *);

struct obuf {
	char		*b;
	size_t		 len, cap;
	int		 failed;
};

static const char *const type_names[] = {
	[TTLV_STRUCTURE] = "Structure",
	[TTLV_INTEGER] = "Integer",
	[TTLV_LONG_INTEGER] = "LongInteger",
	[TTLV_BIG_INTEGER] = "BigInteger",
	[TTLV_ENUMERATION] = "Enumeration",
	[TTLV_BOOLEAN] = "Boolean",
	[TTLV_TEXT_STRING] = "TextString",
	[TTLV_BYTE_STRING] = "ByteString",
	[TTLV_DATE_TIME] = "DateTime",
	[TTLV_INTERVAL] = "Interval"
};

/*
 * How an encoding writes an item (ob_item): JSON {"tag":"Name","type":
 * "Integer","value":1} and {"tag":"Name","value":[items]}; XML <Name
 * type="Integer" value="1"/> and <Name>items</Name>; a tag without a
 * name in hex, and in XML as the tag attribute of a TTLV element.
 */
struct syntax {
	const char	*name_open, *name_close;	/* a tag's name */
	const char	*hex_open, *hex_close;		/* a tag in hex */
	const char	*hex_name;			/* XML: its element */
	const char	*type_open, *value_open, *value_close;
	const char	*items_open, *items_sep;
	const char	*end_open, *end_close;
	int		 end_named;	/* the element's name between */
	int		 xml;		/* ob_scalar's and ob_escaped's */
};

static const struct syntax json_syntax = {
	.name_open = "{\"tag\":\"",
	.name_close = "\"",
	.hex_open = "{\"tag\":\"",
	.hex_close = "\"",
	.hex_name = "",
	.type_open = ",\"type\":\"",
	.value_open = "\",\"value\":",
	.value_close = "}",
	.items_open = ",\"value\":[",
	.items_sep = ",",
	.end_open = "]}",
	.end_close = "",
	.end_named = 0,
	.xml = 0
};

static const struct syntax xml_syntax = {
	.name_open = "<",
	.name_close = "",
	.hex_open = "<TTLV tag=\"",
	.hex_close = "\"",
	.hex_name = "TTLV",
	.type_open = " type=\"",
	.value_open = "\" value=\"",
	.value_close = "\"/>",
	.items_open = ">",
	.items_sep = "",
	.end_open = "</",
	.end_close = ">",
	.end_named = 1,
	.xml = 1
};

static uint32_t	 node_new(struct doc *, enum node_kind);
static void	 node_link(struct doc *, uint32_t, uint32_t);
static int	 doc_init(struct doc *, const char *, size_t);
static void	 doc_free(struct doc *);
static size_t	 utf8_seq(const unsigned char *, size_t);
static int	 utf8_put(struct doc *, uint32_t);
static void	 json_ws(struct doc *);
static uint32_t	 json_value(struct doc *, int);
static int	 json_string(struct doc *, const char **, size_t *);
static uint32_t	 json_number(struct doc *);
static int	 xml_misc(struct doc *);
static uint32_t	 xml_element(struct doc *, int);
static int	 xml_name(struct doc *, const char **, size_t *);
static int	 xml_attvalue(struct doc *, const char **, size_t *);
static int	 xml_skip(struct doc *, const char *);
static int	 span_eq(const char *, size_t, const char *);
static int	 hexval(int);
static int	 parse_hex(const char *, size_t, size_t, uint64_t *);
static int	 parse_dec(const char *, size_t, int64_t, int64_t,
		    int64_t *);
static int	 parse_date(const char *, size_t, int64_t *);
static int	 parse_tag(const char *, size_t, uint32_t *);
static int	 parse_type(const char *, size_t);
static struct ttlv *scalar(struct doc *, struct ttlv *, uint32_t, int,
		    const struct val *, const char *);
static void	 item_keys(struct doc *, uint32_t, struct node **,
		    struct node **, struct node **);
static int	 json_fields(struct doc *, uint32_t, struct item *);
static int	 xml_fields(struct doc *, uint32_t, struct item *);
static struct ttlv *text_item(struct doc *, item_fields, uint32_t,
		    struct ttlv *, const char *);
static void	 attr_note(const struct ttlv *, char *, size_t);
static void	 ob_add(struct obuf *, const char *, size_t);
static void	 ob_str(struct obuf *, const char *);
static void	 ob_fmt(struct obuf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static void	 ob_hex(struct obuf *, const uint8_t *, size_t);
static void	 ob_escaped(struct obuf *, const uint8_t *, size_t, int);
static void	 ob_scalar(struct obuf *, const struct ttlv *, const char *,
		    int);
static void	 ob_item(struct obuf *, const struct syntax *,
		    const struct ttlv *, const char *);

/* -- the tree of a text message ------------------------------------- */

static int
doc_init(struct doc *d, const char *text, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->p = text;
	d->end = text + len;
	d->max = len < MSGENC_NODES_MAX ? (uint32_t)len + 1 :
	    MSGENC_NODES_MAX;
	/* A decoded string and its NUL are never longer than its source. */
	d->acap = len + 1;
	if ((d->arena = malloc(d->acap)) == NULL) {
		d->err = "out of memory";
		return (-1);
	}
	return (0);
}

static void
doc_free(struct doc *d)
{
	/* Strings may be key material. */
	freezero(d->arena, d->acap);
	free(d->nodes);
	d->arena = NULL;
	d->nodes = NULL;
}

static uint32_t
node_new(struct doc *d, enum node_kind kind)
{
	struct node	*nn;
	uint32_t	 ncap;

	if (d->n >= d->max) {
		d->err = "too many items";
		return (0);
	}
	if (d->n == d->cap) {
		ncap = d->cap == 0 ? 64 : d->cap * 2;
		if (ncap > d->max)
			ncap = d->max;
		if ((nn = reallocarray(d->nodes, ncap, sizeof(*nn))) ==
		    NULL) {
			d->err = "out of memory";
			return (0);
		}
		d->nodes = nn;
		d->cap = ncap;
	}
	memset(&d->nodes[d->n], 0, sizeof(d->nodes[0]));
	d->nodes[d->n].kind = kind;
	return (++d->n);
}

/* Append node c to the children of node p. */
static void
node_link(struct doc *d, uint32_t p, uint32_t c)
{
	struct node	*pn = &d->nodes[p - 1];

	if (pn->last != 0)
		d->nodes[pn->last - 1].next = c;
	else
		pn->child = c;
	pn->last = c;
}

/* The length of the valid UTF-8 sequence at p, 0 if there is none. */
static size_t
utf8_seq(const unsigned char *p, size_t avail)
{
	size_t		 n, i;
	unsigned char	 lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (avail < n || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return (n);
}

/* Append code point cp, UTF-8 encoded, to the arena. */
static int
utf8_put(struct doc *d, uint32_t cp)
{
	unsigned char	 b[4];
	size_t		 n;

	if (cp < 0x80) {
		b[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6;
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12;
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | cp >> 18;
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	/* Never: an escape is longer than what it stands for. */
	if (d->acap - d->alen < n + 1) {
		d->err = "string too long";
		return (-1);
	}
	memcpy(d->arena + d->alen, b, n);
	d->alen += n;
	return (0);
}

/* -- JSON (RFC 8259) ------------------------------------------------- */

static void
json_ws(struct doc *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' ||
	    *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

/* A string at d->p (its opening quote), decoded into the arena. */
static int
json_string(struct doc *d, const char **s, size_t *len)
{
	size_t		 start = d->alen, n;
	uint32_t	 cp, lo;
	int		 i, h;

	d->p++;
	for (;;) {
		if (d->p >= d->end) {
			d->err = "unterminated string";
			return (-1);
		}
		if (*d->p == '"') {
			d->p++;
			break;
		}
		if ((unsigned char)*d->p < 0x20) {
			d->err = "control character in a string";
			return (-1);
		}
		if (*d->p != '\\') {
			if ((n = utf8_seq((const unsigned char *)d->p,
			    d->end - d->p)) == 0) {
				d->err = "not UTF-8";
				return (-1);
			}
			memcpy(d->arena + d->alen, d->p, n);
			d->alen += n;
			d->p += n;
			continue;
		}
		if (++d->p >= d->end) {
			d->err = "unterminated string";
			return (-1);
		}
		switch (*d->p++) {
		case '"':
			cp = '"';
			break;
		case '\\':
			cp = '\\';
			break;
		case '/':
			cp = '/';
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			for (cp = 0, i = 0; i < 4; i++) {
				if (d->p >= d->end ||
				    (h = hexval(*d->p)) == -1) {
					d->err = "bad \\u escape";
					return (-1);
				}
				cp = cp << 4 | h;
				d->p++;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				d->err = "lone surrogate";
				return (-1);
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (d->end - d->p < 6 || d->p[0] != '\\' ||
				    d->p[1] != 'u') {
					d->err = "lone surrogate";
					return (-1);
				}
				for (lo = 0, i = 2; i < 6; i++) {
					if ((h = hexval(d->p[i])) == -1) {
						d->err = "bad \\u escape";
						return (-1);
					}
					lo = lo << 4 | h;
				}
				if (lo < 0xdc00 || lo > 0xdfff) {
					d->err = "lone surrogate";
					return (-1);
				}
				d->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default:
			d->err = "bad escape";
			return (-1);
		}
		if (utf8_put(d, cp) == -1)
			return (-1);
	}
	d->arena[d->alen++] = '\0';
	*s = d->arena + start;
	*len = d->alen - start - 1;
	return (0);
}

/* A number, kept as its text: the item's type says what it must be. */
static uint32_t
json_number(struct doc *d)
{
	const char	*start = d->p;
	uint32_t	 ni;

	if (d->p < d->end && *d->p == '-')
		d->p++;
	if (d->p >= d->end || *d->p < '0' || *d->p > '9')
		goto bad;
	if (*d->p == '0')
		d->p++;
	else
		while (d->p < d->end && *d->p >= '0' && *d->p <= '9')
			d->p++;
	if (d->p < d->end && *d->p == '.') {
		if (++d->p >= d->end || *d->p < '0' || *d->p > '9')
			goto bad;
		while (d->p < d->end && *d->p >= '0' && *d->p <= '9')
			d->p++;
	}
	if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
		d->p++;
		if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
			d->p++;
		if (d->p >= d->end || *d->p < '0' || *d->p > '9')
			goto bad;
		while (d->p < d->end && *d->p >= '0' && *d->p <= '9')
			d->p++;
	}
	if ((ni = node_new(d, N_NUMBER)) == 0)
		return (0);
	d->nodes[ni - 1].s = start;
	d->nodes[ni - 1].slen = d->p - start;
	return (ni);
 bad:
	d->err = "bad number";
	return (0);
}

static uint32_t
json_value(struct doc *d, int depth)
{
	const char	*s;
	size_t		 len;
	uint32_t	 ni, ci;
	enum node_kind	 kind;

	json_ws(d);
	if (d->p >= d->end) {
		d->err = "value expected";
		return (0);
	}
	switch (*d->p) {
	case '{':
	case '[':
		if (depth >= MSGENC_DEPTH_MAX) {
			d->err = "nested too deep";
			return (0);
		}
		kind = *d->p == '{' ? N_OBJECT : N_ARRAY;
		if ((ni = node_new(d, kind)) == 0)
			return (0);
		d->p++;
		json_ws(d);
		if (d->p < d->end && *d->p == (kind == N_OBJECT ? '}' : ']')) {
			d->p++;
			return (ni);
		}
		for (;;) {
			s = NULL;
			len = 0;
			if (kind == N_OBJECT) {
				json_ws(d);
				if (d->p >= d->end || *d->p != '"') {
					d->err = "member name expected";
					return (0);
				}
				if (json_string(d, &s, &len) == -1)
					return (0);
				json_ws(d);
				if (d->p >= d->end || *d->p != ':') {
					d->err = "':' expected";
					return (0);
				}
				d->p++;
			}
			if ((ci = json_value(d, depth + 1)) == 0)
				return (0);
			d->nodes[ci - 1].key = s;
			d->nodes[ci - 1].keylen = len;
			node_link(d, ni, ci);
			json_ws(d);
			if (d->p < d->end && *d->p == ',') {
				d->p++;
				continue;
			}
			if (d->p < d->end &&
			    *d->p == (kind == N_OBJECT ? '}' : ']')) {
				d->p++;
				return (ni);
			}
			d->err = "',' or end expected";
			return (0);
		}
	case '"':
		if (json_string(d, &s, &len) == -1 ||
		    (ni = node_new(d, N_STRING)) == 0)
			return (0);
		d->nodes[ni - 1].s = s;
		d->nodes[ni - 1].slen = len;
		return (ni);
	case 't':
	case 'f':
	case 'n':
		if (d->end - d->p >= 4 && memcmp(d->p, "true", 4) == 0) {
			d->p += 4;
			return (node_new(d, N_TRUE));
		}
		if (d->end - d->p >= 5 && memcmp(d->p, "false", 5) == 0) {
			d->p += 5;
			return (node_new(d, N_FALSE));
		}
		if (d->end - d->p >= 4 && memcmp(d->p, "null", 4) == 0) {
			d->p += 4;
			return (node_new(d, N_NULL));
		}
		d->err = "bad literal";
		return (0);
	default:
		return (json_number(d));
	}
}

/* -- XML ------------------------------------------------------------- */

/* Skip past the next occurrence of end; -1 if there is none. */
static int
xml_skip(struct doc *d, const char *end)
{
	size_t	 n = strlen(end);

	while ((size_t)(d->end - d->p) >= n) {
		if (memcmp(d->p, end, n) == 0) {
			d->p += n;
			return (0);
		}
		d->p++;
	}
	d->err = "unterminated markup";
	return (-1);
}

/* Whitespace, comments and processing instructions; no DTD. */
static int
xml_misc(struct doc *d)
{
	for (;;) {
		json_ws(d);
		if (d->end - d->p >= 4 && memcmp(d->p, "<!--", 4) == 0) {
			d->p += 4;
			if (xml_skip(d, "-->") == -1)
				return (-1);
		} else if (d->end - d->p >= 2 && memcmp(d->p, "<?", 2) == 0) {
			d->p += 2;
			if (xml_skip(d, "?>") == -1)
				return (-1);
		} else if (d->end - d->p >= 2 && memcmp(d->p, "<!", 2) == 0) {
			d->err = "DTD, CDATA or declaration refused";
			return (-1);
		} else
			return (0);
	}
}

/* An ASCII name: what KMIP tag and attribute names are. */
static int
xml_name(struct doc *d, const char **s, size_t *len)
{
	const char	*start = d->p;
	char		 c;

	while (d->p < d->end) {
		c = *d->p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || c == ':' || (d->p > start && ((c >= '0' &&
		    c <= '9') || c == '-' || c == '.')))
			d->p++;
		else
			break;
	}
	if (d->p == start) {
		d->err = "name expected";
		return (-1);
	}
	*s = start;
	*len = d->p - start;
	return (0);
}

/* A quoted attribute value, references resolved, into the arena. */
static int
xml_attvalue(struct doc *d, const char **s, size_t *len)
{
	size_t		 start = d->alen, n;
	uint32_t	 cp;
	char		 q;
	int		 h, digits;

	if (d->p >= d->end || (*d->p != '"' && *d->p != '\'')) {
		d->err = "quoted value expected";
		return (-1);
	}
	q = *d->p++;
	for (;;) {
		if (d->p >= d->end) {
			d->err = "unterminated value";
			return (-1);
		}
		if (*d->p == q) {
			d->p++;
			break;
		}
		if (*d->p == '<') {
			d->err = "'<' in a value";
			return (-1);
		}
		if (*d->p != '&') {
			if ((unsigned char)*d->p < 0x20 && *d->p != '\t' &&
			    *d->p != '\n' && *d->p != '\r') {
				d->err = "control character";
				return (-1);
			}
			if ((n = utf8_seq((const unsigned char *)d->p,
			    d->end - d->p)) == 0) {
				d->err = "not UTF-8";
				return (-1);
			}
			memcpy(d->arena + d->alen, d->p, n);
			d->alen += n;
			d->p += n;
			continue;
		}
		d->p++;
		if (d->end - d->p >= 3 && memcmp(d->p, "lt;", 3) == 0) {
			cp = '<';
			d->p += 3;
		} else if (d->end - d->p >= 3 && memcmp(d->p, "gt;", 3) == 0) {
			cp = '>';
			d->p += 3;
		} else if (d->end - d->p >= 4 &&
		    memcmp(d->p, "amp;", 4) == 0) {
			cp = '&';
			d->p += 4;
		} else if (d->end - d->p >= 5 &&
		    memcmp(d->p, "quot;", 5) == 0) {
			cp = '"';
			d->p += 5;
		} else if (d->end - d->p >= 5 &&
		    memcmp(d->p, "apos;", 5) == 0) {
			cp = '\'';
			d->p += 5;
		} else if (d->p < d->end && *d->p == '#') {
			/* &#NNN; or &#xHHH;, at most 7 digits either way */
			d->p++;
			h = d->p < d->end && *d->p == 'x';
			if (h)
				d->p++;
			for (cp = 0, digits = 0; d->p < d->end &&
			    *d->p != ';' && digits < 7; digits++, d->p++) {
				if (h && hexval(*d->p) != -1)
					cp = cp * 16 + hexval(*d->p);
				else if (!h && *d->p >= '0' && *d->p <= '9')
					cp = cp * 10 + (*d->p - '0');
				else
					break;
			}
			if (digits == 0 || d->p >= d->end || *d->p != ';') {
				d->err = "bad character reference";
				return (-1);
			}
			d->p++;
			/*
			 * The characters XML 1.1 allows as references:
			 * what a TTLV Text String holds, NUL aside.
			 */
			if (!((cp >= 0x1 && cp <= 0xd7ff) ||
			    (cp >= 0xe000 && cp <= 0xfffd) ||
			    (cp >= 0x10000 && cp <= 0x10ffff))) {
				d->err = "bad character reference";
				return (-1);
			}
		} else {
			/* Nothing declares an entity: there is no DTD. */
			d->err = "unknown entity";
			return (-1);
		}
		if (utf8_put(d, cp) == -1)
			return (-1);
	}
	d->arena[d->alen++] = '\0';
	*s = d->arena + start;
	*len = d->alen - start - 1;
	return (0);
}

/* An element at d->p ('<'), its attributes and its child elements. */
static uint32_t
xml_element(struct doc *d, int depth)
{
	struct node	*e;
	const char	*name, *s;
	size_t		 nlen, len;
	uint32_t	 ni, ai, ci, last = 0, x;

	if (depth >= MSGENC_DEPTH_MAX) {
		d->err = "nested too deep";
		return (0);
	}
	d->p++;
	if (xml_name(d, &name, &nlen) == -1 ||
	    (ni = node_new(d, N_ELEMENT)) == 0)
		return (0);
	d->nodes[ni - 1].key = name;
	d->nodes[ni - 1].keylen = nlen;
	for (;;) {
		json_ws(d);
		if (d->p >= d->end) {
			d->err = "unterminated tag";
			return (0);
		}
		if (*d->p == '/') {
			if (d->end - d->p < 2 || d->p[1] != '>') {
				d->err = "'>' expected";
				return (0);
			}
			d->p += 2;
			return (ni);
		}
		if (*d->p == '>') {
			d->p++;
			break;
		}
		if (last != 0 && d->p[-1] != ' ' && d->p[-1] != '\t' &&
		    d->p[-1] != '\n' && d->p[-1] != '\r') {
			d->err = "space expected between attributes";
			return (0);
		}
		if (xml_name(d, &s, &len) == -1)
			return (0);
		e = &d->nodes[ni - 1];
		for (x = e->attr; x != 0; x = d->nodes[x - 1].next)
			if (d->nodes[x - 1].keylen == len &&
			    memcmp(d->nodes[x - 1].key, s, len) == 0) {
				d->err = "repeated attribute";
				return (0);
			}
		if ((ai = node_new(d, N_ATTRIBUTE)) == 0)
			return (0);
		d->nodes[ai - 1].key = s;
		d->nodes[ai - 1].keylen = len;
		json_ws(d);
		if (d->p >= d->end || *d->p != '=') {
			d->err = "'=' expected";
			return (0);
		}
		d->p++;
		json_ws(d);
		if (xml_attvalue(d, &d->nodes[ai - 1].s,
		    &d->nodes[ai - 1].slen) == -1)
			return (0);
		if (last != 0)
			d->nodes[last - 1].next = ai;
		else
			d->nodes[ni - 1].attr = ai;
		last = ai;
	}
	/* Content: elements only, with whitespace and comments between. */
	for (;;) {
		if (xml_misc(d) == -1)
			return (0);
		if (d->p >= d->end) {
			d->err = "unterminated element";
			return (0);
		}
		if (*d->p != '<') {
			d->err = "text content";
			return (0);
		}
		if (d->end - d->p >= 2 && d->p[1] == '/') {
			d->p += 2;
			if (xml_name(d, &s, &len) == -1)
				return (0);
			if (len != nlen || memcmp(s, name, len) != 0) {
				d->err = "end tag does not match";
				return (0);
			}
			json_ws(d);
			if (d->p >= d->end || *d->p != '>') {
				d->err = "'>' expected";
				return (0);
			}
			d->p++;
			return (ni);
		}
		if ((ci = xml_element(d, depth + 1)) == 0)
			return (0);
		node_link(d, ni, ci);
	}
}

/* -- values ---------------------------------------------------------- */

static int
span_eq(const char *s, size_t len, const char *str)
{
	return (len == strlen(str) && memcmp(s, str, len) == 0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* "0x" and 1 to maxdigits hex digits. */
static int
parse_hex(const char *s, size_t len, size_t maxdigits, uint64_t *v)
{
	size_t	 i;
	int	 h;

	if (len < 3 || len - 2 > maxdigits || s[0] != '0' ||
	    (s[1] != 'x' && s[1] != 'X'))
		return (-1);
	for (*v = 0, i = 2; i < len; i++) {
		if ((h = hexval(s[i])) == -1)
			return (-1);
		*v = *v << 4 | (uint64_t)h;
	}
	return (0);
}

/* A decimal integer in [min, max]. */
static int
parse_dec(const char *s, size_t len, int64_t min, int64_t max, int64_t *v)
{
	uint64_t	 u = 0;
	size_t		 i = 0;
	int		 neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i >= len || len - i > 19)
		return (-1);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		u = u * 10 + (uint64_t)(s[i] - '0');
	}
	/* 19 digits fit in 64 bits unsigned. */
	if (neg) {
		if (u > (uint64_t)INT64_MAX + 1)
			return (-1);
		*v = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > (uint64_t)INT64_MAX)
			return (-1);
		*v = (int64_t)u;
	}
	return (*v < min || *v > max ? -1 : 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* ISO 8601: YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM] */
static int
parse_date(const char *s, size_t len, int64_t *t)
{
	int		 f[6], i, j, off = 0;
	static const int at[6] = { 0, 5, 8, 11, 14, 17 };
	static const int w[6] = { 4, 2, 2, 2, 2, 2 };
	size_t		 p;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' &&
	    s[10] != 't') || s[13] != ':' || s[16] != ':')
		return (-1);
	for (i = 0; i < 6; i++)
		for (f[i] = 0, j = 0; j < w[i]; j++) {
			if (s[at[i] + j] < '0' || s[at[i] + j] > '9')
				return (-1);
			f[i] = f[i] * 10 + s[at[i] + j] - '0';
		}
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 60)
		return (-1);
	p = 19;
	if (p < len && s[p] == '.') {
		for (p++; p < len && s[p] >= '0' && s[p] <= '9'; p++)
			;
		if (p == 20)
			return (-1);
	}
	if (p < len && (s[p] == 'Z' || s[p] == 'z'))
		p++;
	else if (p < len && (s[p] == '+' || s[p] == '-')) {
		if (len - p != 6 || s[p + 3] != ':')
			return (-1);
		for (i = 1; i < 6; i++)
			if (i != 3 && (s[p + i] < '0' || s[p + i] > '9'))
				return (-1);
		off = ((s[p + 1] - '0') * 10 + s[p + 2] - '0') * 3600 +
		    ((s[p + 4] - '0') * 10 + s[p + 5] - '0') * 60;
		if (s[p] == '-')
			off = -off;
		p += 6;
	}
	if (p != len)
		return (-1);
	*t = days_from_civil(f[0], f[1], f[2]) * 86400 + f[3] * 3600 +
	    f[4] * 60 + f[5] - off;
	return (0);
}

/* A tag: its name, or "0x" and six hex digits. */
static int
parse_tag(const char *s, size_t len, uint32_t *tag)
{
	uint64_t	 v;

	if (len == 8 && parse_hex(s, len, 6, &v) == 0) {
		*tag = (uint32_t)v;
		return (0);
	}
	return ((*tag = kmipname_tag(s, len)) == 0 ? -1 : 0);
}

static int
parse_type(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i] != NULL && span_eq(s, len, type_names[i]))
			return ((int)i);
	return (-1);
}

/*
 * A scalar item of this tag and type from its textual value, appended to
 * parent.  attr: the Attribute Name before it, for an Attribute Value.
 */
static struct ttlv *
scalar(struct doc *d, struct ttlv *parent, uint32_t tag, int type,
    const struct val *v, const char *attr)
{
	struct ttlv	*n;
	uint8_t		*b;
	const char	*s = v->s, *w;
	size_t		 len = v->len, i, blen, wl;
	uint64_t	 u;
	int64_t		 x;
	uint32_t	 bit, mask;
	int		 str = v->kind == N_STRING, num = v->kind == N_NUMBER;

	switch (type) {
	case TTLV_INTEGER:
		if ((num || str) && parse_dec(s, len, INT32_MIN, UINT32_MAX,
		    &x) == 0)
			return (ttlv_add_integer(parent, tag, (int32_t)x));
		if (str && parse_hex(s, len, 8, &u) == 0)
			return (ttlv_add_integer(parent, tag, (int32_t)u));
		if (!str || len == 0 || (tag != KMIPNAME_USAGE_MASK &&
		    (tag != KMIPNAME_ATTRIBUTE_VALUE || attr == NULL ||
		    strcmp(attr, "Cryptographic Usage Mask") != 0)))
			break;
		/* Bit names, or hex, separated by '|' or spaces. */
		for (mask = 0, i = 0; i < len; ) {
			while (i < len && (s[i] == '|' || s[i] == ' '))
				i++;
			for (w = s + i; i < len && s[i] != '|' &&
			    s[i] != ' '; i++)
				;
			if ((wl = s + i - w) == 0)
				continue;
			if (parse_hex(w, wl, 8, &u) == 0)
				bit = (uint32_t)u;
			else if (kmipname_usage(w, wl, &bit) == -1)
				goto bad;
			mask |= bit;
		}
		return (ttlv_add_integer(parent, tag, (int32_t)mask));
	case TTLV_LONG_INTEGER:
		if ((num || str) && parse_dec(s, len, INT64_MIN, INT64_MAX,
		    &x) == 0)
			return (ttlv_add_long(parent, tag, x));
		if (str && parse_hex(s, len, 16, &u) == 0)
			return (ttlv_add_long(parent, tag, (int64_t)u));
		break;
	case TTLV_INTERVAL:
		if ((num || str) && parse_dec(s, len, 0, UINT32_MAX, &x) == 0)
			return (ttlv_add_interval(parent, tag, (uint32_t)x));
		if (str && parse_hex(s, len, 8, &u) == 0)
			return (ttlv_add_interval(parent, tag, (uint32_t)u));
		break;
	case TTLV_ENUMERATION:
		if ((num || str) && parse_dec(s, len, 0, UINT32_MAX, &x) == 0)
			return (ttlv_add_enum(parent, tag, (uint32_t)x));
		if (str && parse_hex(s, len, 8, &u) == 0)
			return (ttlv_add_enum(parent, tag, (uint32_t)u));
		if (str && kmipname_enum(tag, attr, s, len, &bit) == 0)
			return (ttlv_add_enum(parent, tag, bit));
		break;
	case TTLV_BOOLEAN:
		if (v->kind == N_TRUE || (str && span_eq(s, len, "true")))
			return (ttlv_add_bool(parent, tag, 1));
		if (v->kind == N_FALSE || (str && span_eq(s, len, "false")))
			return (ttlv_add_bool(parent, tag, 0));
		if (str && parse_hex(s, len, 16, &u) == 0 && u <= 1)
			return (ttlv_add_bool(parent, tag, (int)u));
		break;
	case TTLV_TEXT_STRING:
		if (str)
			return (ttlv_add_text(parent, tag, s, len));
		break;
	case TTLV_BYTE_STRING:
	case TTLV_BIG_INTEGER:
		if (!str)
			break;
		/* A Big Integer is "0x" and hex; a Byte String hex alone. */
		if (type == TTLV_BIG_INTEGER) {
			if (len < 3 || s[0] != '0' || (s[1] != 'x' &&
			    s[1] != 'X'))
				break;
			s += 2;
			len -= 2;
		}
		if (len % 2 != 0)
			break;
		blen = len / 2;
		if ((b = malloc(blen > 0 ? blen : 1)) == NULL) {
			d->err = "out of memory";
			return (NULL);
		}
		for (i = 0; i < blen; i++) {
			if (hexval(s[2 * i]) == -1 ||
			    hexval(s[2 * i + 1]) == -1) {
				freezero(b, blen > 0 ? blen : 1);
				goto bad;
			}
			b[i] = hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]);
		}
		if (type == TTLV_BIG_INTEGER)
			n = ttlv_add_bigint(parent, tag, b, blen);
		else
			n = ttlv_add_bytes(parent, tag, b, blen);
		freezero(b, blen > 0 ? blen : 1);
		return (n);
	case TTLV_DATE_TIME:
		if (str && parse_hex(s, len, 16, &u) == 0)
			return (ttlv_add_datetime(parent, tag, (int64_t)u));
		if (str && parse_date(s, len, &x) == 0)
			return (ttlv_add_datetime(parent, tag, x));
		break;
	default:
		d->err = "unknown type";
		return (NULL);
	}
 bad:
	d->err = "value does not fit its type";
	return (NULL);
}

/* Keep the text of an Attribute Name, for the Attribute Value after it. */
static void
attr_note(const struct ttlv *n, char *buf, size_t size)
{
	buf[0] = '\0';
	if (n->tag != KMIPNAME_ATTRIBUTE_NAME ||
	    n->type != TTLV_TEXT_STRING || n->v.s.len >= size ||
	    memchr(n->v.s.data, '\0', n->v.s.len) != NULL)
		return;
	memcpy(buf, n->v.s.data, n->v.s.len);
	buf[n->v.s.len] = '\0';
}

/*
 * The tag, type and value among the JSON members or XML attributes
 * chained from x.  A key given twice counts as its last.
 */
static void
item_keys(struct doc *d, uint32_t x, struct node **tagn, struct node **typen,
    struct node **valn)
{
	struct node	*m;

	*tagn = *typen = *valn = NULL;
	for (; x != 0; x = m->next) {
		m = &d->nodes[x - 1];
		if (span_eq(m->key, m->keylen, "tag"))
			*tagn = m;
		else if (span_eq(m->key, m->keylen, "type"))
			*typen = m;
		else if (span_eq(m->key, m->keylen, "value"))
			*valn = m;
	}
}

/*
 * The JSON object ni as an item: {"tag": name or hex, "type": name
 * (none: Structure), "value": a scalar, or a structure's array}.
 */
static int
json_fields(struct doc *d, uint32_t ni, struct item *it)
{
	struct node	*o = &d->nodes[ni - 1], *tagn, *typen, *valn;

	if (o->kind != N_OBJECT) {
		d->err = "an item is not an object";
		return (-1);
	}
	item_keys(d, o->child, &tagn, &typen, &valn);
	if (tagn == NULL || tagn->kind != N_STRING ||
	    parse_tag(tagn->s, tagn->slen, &it->tag) == -1) {
		d->err = "missing or unknown tag";
		return (-1);
	}
	it->type = TTLV_STRUCTURE;
	if (typen != NULL && (typen->kind != N_STRING ||
	    (it->type = parse_type(typen->s, typen->slen)) == -1)) {
		d->err = "unknown type";
		return (-1);
	}
	memset(&it->v, 0, sizeof(it->v));
	it->items = 0;
	it->has_value = valn != NULL;
	if (valn != NULL) {
		it->v.kind = valn->kind;
		it->v.s = valn->s;
		it->v.len = valn->slen;
	}
	if (it->type == TTLV_STRUCTURE && valn != NULL) {
		if (valn->kind != N_ARRAY) {
			d->err = "a structure's value is not an array";
			return (-1);
		}
		it->items = valn->child;
	}
	return (0);
}

/*
 * The XML element ni as an item: <Name type="..." value="..."/> or
 * <Name>items</Name>, <TTLV tag="0x42xxxx"> for a tag without a name.
 */
static int
xml_fields(struct doc *d, uint32_t ni, struct item *it)
{
	struct node	*e = &d->nodes[ni - 1], *tagn, *typen, *valn;

	item_keys(d, e->attr, &tagn, &typen, &valn);
	if (span_eq(e->key, e->keylen, "TTLV")) {
		if (tagn == NULL || parse_tag(tagn->s, tagn->slen,
		    &it->tag) == -1) {
			d->err = "missing or unknown tag";
			return (-1);
		}
	} else if (parse_tag(e->key, e->keylen, &it->tag) == -1) {
		d->err = "unknown tag";
		return (-1);
	}
	it->type = TTLV_STRUCTURE;
	if (typen != NULL &&
	    (it->type = parse_type(typen->s, typen->slen)) == -1) {
		d->err = "unknown type";
		return (-1);
	}
	memset(&it->v, 0, sizeof(it->v));
	/* A scalar's element is empty. */
	it->has_value = valn != NULL && e->child == 0;
	if (it->has_value) {
		it->v.kind = N_STRING;
		it->v.s = valn->s;
		it->v.len = valn->slen;
	}
	it->items = e->child;
	return (0);
}

/*
 * The item of node ni, read by fields (the encoding's), appended to
 * parent, or the root when parent is NULL.  attr: the Attribute Name
 * before it.
 */
static struct ttlv *
text_item(struct doc *d, item_fields fields, uint32_t ni,
    struct ttlv *parent, const char *attr)
{
	struct ttlv	*n, *c;
	struct item	 it;
	char		 an[ATTR_NAME_MAX];
	uint32_t	 x;

	if (fields(d, ni, &it) == -1)
		return (NULL);
	if (it.type != TTLV_STRUCTURE) {
		if (parent == NULL || !it.has_value) {
			d->err = parent == NULL ? "not a KMIP message" :
			    "missing value";
			return (NULL);
		}
		return (scalar(d, parent, it.tag, it.type, &it.v, attr));
	}
	n = parent == NULL ? ttlv_new_structure(it.tag) :
	    ttlv_add_structure(parent, it.tag);
	an[0] = '\0';
	for (x = it.items; x != 0; x = d->nodes[x - 1].next) {
		if ((c = text_item(d, fields, x, n, an[0] ? an : NULL)) ==
		    NULL) {
			if (parent == NULL)
				ttlv_free(n);
			return (NULL);
		}
		attr_note(c, an, sizeof(an));
	}
	return (n);
}

int
msgenc_to_ttlv(enum msg_enc enc, const char *text, size_t len, size_t max,
    uint8_t **out, size_t *outlen, const char **err)
{
	struct ttlv_limits	 lim = { max, 16, 10000, max };
	struct doc		 d;
	struct ttlv		*root = NULL;
	uint32_t		 ri = 0;
	size_t			 n;

	*out = NULL;
	*outlen = 0;
	if (doc_init(&d, text, len) == -1) {
		*err = d.err;
		return (-1);
	}
	if (enc == ENC_JSON) {
		if ((ri = json_value(&d, 0)) != 0) {
			json_ws(&d);
			if (d.p != d.end) {
				d.err = "trailing bytes";
				ri = 0;
			}
		}
		if (ri != 0)
			root = text_item(&d, json_fields, ri, NULL, NULL);
	} else if (enc == ENC_XML) {
		if (xml_misc(&d) == 0) {
			if (d.p >= d.end || *d.p != '<')
				d.err = "element expected";
			else if ((ri = xml_element(&d, 0)) != 0 &&
			    (xml_misc(&d) == -1 || d.p != d.end)) {
				if (d.err == NULL)
					d.err = "trailing bytes";
				ri = 0;
			}
		}
		if (ri != 0)
			root = text_item(&d, xml_fields, ri, NULL, NULL);
	} else
		d.err = "not a text encoding";
	if (root == NULL) {
		*err = d.err != NULL ? d.err : "bad message";
		doc_free(&d);
		return (-1);
	}
	doc_free(&d);
	if (ttlv_check_limits(root, &lim, err) == -1) {
		ttlv_free(root);
		return (-1);
	}
	n = ttlv_encoded_len(root);
	if ((*out = malloc(n)) == NULL) {
		ttlv_free(root);
		*err = "out of memory";
		return (-1);
	}
	(void)ttlv_encode(root, *out, n);
	ttlv_free(root);
	*outlen = n;
	return (0);
}

/* -- TTLV to text ---------------------------------------------------- */

static void
ob_add(struct obuf *o, const char *s, size_t len)
{
	size_t	 ncap;
	char	*nb;

	if (o->failed)
		return;
	if (o->cap - o->len <= len) {
		ncap = o->cap == 0 ? 1024 : o->cap;
		while (ncap - o->len <= len) {
			if (ncap > SIZE_MAX / 2) {
				o->failed = 1;
				return;
			}
			ncap *= 2;
		}
		/* recallocarray wipes what it leaves: answers carry keys. */
		if ((nb = recallocarray(o->b, o->cap, ncap, 1)) == NULL) {
			o->failed = 1;
			return;
		}
		o->b = nb;
		o->cap = ncap;
	}
	memcpy(o->b + o->len, s, len);
	o->len += len;
	o->b[o->len] = '\0';
}

static void
ob_str(struct obuf *o, const char *s)
{
	ob_add(o, s, strlen(s));
}

static void
ob_fmt(struct obuf *o, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[128];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		o->failed = 1;
		return;
	}
	ob_add(o, buf, n);
}

static void
ob_hex(struct obuf *o, const uint8_t *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 b[2];
	size_t			 i;

	for (i = 0; i < len; i++) {
		b[0] = hex[p[i] >> 4];
		b[1] = hex[p[i] & 0xf];
		ob_add(o, b, 2);
	}
}

/*
 * Text, escaped for a JSON string or an XML attribute value.  A byte
 * that is not UTF-8 becomes U+FFFD: the answer must stay well-formed.
 */
static void
ob_escaped(struct obuf *o, const uint8_t *p, size_t len, int xml)
{
	size_t	 i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] == '"')
			ob_str(o, xml ? "&quot;" : "\\\"");
		else if (p[i] == '\\' && !xml)
			ob_str(o, "\\\\");
		else if (p[i] == '&' && xml)
			ob_str(o, "&amp;");
		else if (p[i] == '<' && xml)
			ob_str(o, "&lt;");
		else if (p[i] == '>' && xml)
			ob_str(o, "&gt;");
		else if (p[i] < 0x20 || p[i] == 0x7f)
			ob_fmt(o, xml ? "&#x%x;" : "\\u%04x", p[i]);
		else if (p[i] < 0x80)
			ob_add(o, (const char *)p + i, 1);
		else if ((n = utf8_seq(p + i, len - i)) != 0)
			ob_add(o, (const char *)p + i, n);
		else {
			ob_str(o, "\xef\xbf\xbd");
			n = 1;
		}
	}
}

/* The value of a scalar item, as text (xml) or a JSON value. */
static void
ob_scalar(struct obuf *o, const struct ttlv *n, const char *attr, int xml)
{
	const char	*name;
	struct tm	 tm;
	time_t		 t;
	const char	*q = xml ? "" : "\"";

	switch (n->type) {
	case TTLV_INTEGER:
		ob_fmt(o, "%d", n->v.i32);
		break;
	case TTLV_LONG_INTEGER:
		/* A JSON number is exact to 2^53 only. */
		if (!xml && (n->v.i64 > (1LL << 53) ||
		    n->v.i64 < -(1LL << 53)))
			ob_fmt(o, "\"0x%016llx\"",
			    (unsigned long long)n->v.i64);
		else
			ob_fmt(o, "%lld", (long long)n->v.i64);
		break;
	case TTLV_INTERVAL:
		ob_fmt(o, "%u", n->v.u32);
		break;
	case TTLV_ENUMERATION:
		if ((name = kmipname_enumname(n->tag, attr, n->v.u32)) != NULL)
			ob_fmt(o, "%s%s%s", q, name, q);
		else
			ob_fmt(o, "%s0x%08x%s", q, n->v.u32, q);
		break;
	case TTLV_BOOLEAN:
		ob_str(o, n->v.b ? "true" : "false");
		break;
	case TTLV_TEXT_STRING:
		ob_str(o, q);
		ob_escaped(o, n->v.s.data, n->v.s.len, xml);
		ob_str(o, q);
		break;
	case TTLV_BIG_INTEGER:
		ob_fmt(o, "%s0x", q);
		ob_hex(o, n->v.s.data, n->v.s.len);
		ob_str(o, q);
		break;
	case TTLV_BYTE_STRING:
		ob_str(o, q);
		ob_hex(o, n->v.s.data, n->v.s.len);
		ob_str(o, q);
		break;
	case TTLV_DATE_TIME:
		t = (time_t)n->v.i64;
		if (gmtime_r(&t, &tm) != NULL && tm.tm_year >= -1900 &&
		    tm.tm_year <= 9999 - 1900)
			ob_fmt(o, "%s%04d-%02d-%02dT%02d:%02d:%02d+00:00%s",
			    q, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec, q);
		else
			ob_fmt(o, "%s0x%016llx%s", q,
			    (unsigned long long)n->v.i64, q);
		break;
	default:
		/* Date-Time Extended: KMIP 2.0, not in these encodings. */
		ob_fmt(o, "%s0x%016llx%s", q, (unsigned long long)n->v.i64, q);
		break;
	}
}

static const char *
type_name(int type)
{
	if (type < 0 || (size_t)type >= sizeof(type_names) /
	    sizeof(type_names[0]) || type_names[type] == NULL)
		return ("DateTimeExtended");
	return (type_names[type]);
}

/*
 * An item in text: its tag (name, or hex under a generic name), then a
 * scalar's type and value, or a structure's items and its end.  The
 * walk is one, the syntax of each encoding the strings between.
 */
static void
ob_item(struct obuf *o, const struct syntax *sx, const struct ttlv *n,
    const char *attr)
{
	const struct ttlv	*c;
	const char		*name;
	char			 an[ATTR_NAME_MAX];

	if ((name = kmipname_tagname(n->tag)) != NULL) {
		ob_str(o, sx->name_open);
		ob_str(o, name);
		ob_str(o, sx->name_close);
	} else {
		ob_str(o, sx->hex_open);
		ob_fmt(o, "0x%06x", n->tag);
		ob_str(o, sx->hex_close);
	}
	if (n->type != TTLV_STRUCTURE) {
		ob_str(o, sx->type_open);
		ob_str(o, type_name(n->type));
		ob_str(o, sx->value_open);
		ob_scalar(o, n, attr, sx->xml);
		ob_str(o, sx->value_close);
		return;
	}
	ob_str(o, sx->items_open);
	an[0] = '\0';
	TAILQ_FOREACH(c, &n->children, entry) {
		if (c != TAILQ_FIRST(&n->children))
			ob_str(o, sx->items_sep);
		ob_item(o, sx, c, an[0] ? an : NULL);
		attr_note(c, an, sizeof(an));
	}
	ob_str(o, sx->end_open);
	if (sx->end_named)
		ob_str(o, name != NULL ? name : sx->hex_name);
	ob_str(o, sx->end_close);
}

int
msgenc_from_ttlv(enum msg_enc enc, const uint8_t *buf, size_t len,
    char **out, size_t *outlen)
{
	struct ttlv_limits	 lim = { len, 64, 1000000, len };
	struct ttlv		*root;
	struct obuf		 o;
	const char		*err;

	*out = NULL;
	*outlen = 0;
	if ((enc != ENC_JSON && enc != ENC_XML) ||
	    ttlv_decode(buf, len, &lim, &root, &err) == -1)
		return (-1);
	memset(&o, 0, sizeof(o));
	ob_item(&o, enc == ENC_JSON ? &json_syntax : &xml_syntax, root, NULL);
	ttlv_free(root);
	if (o.failed) {
		freezero(o.b, o.cap);
		return (-1);
	}
	*out = o.b;
	*outlen = o.len;
	return (0);
}
