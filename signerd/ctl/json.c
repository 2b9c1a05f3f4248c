/*
 * signerctl's JSON writer (RFC 8259).  Strings from the daemon are
 * written as they are when they are UTF-8; a byte that is not part of
 * a valid UTF-8 sequence becomes U+FFFD, so that the document always
 * parses, whatever a damaged keystore or a client-chosen name holds.
 */
#include <sys/types.h>

#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static void	 json_key(struct json *, const char *);
static void	 json_open(struct json *, const char *, int);
static void	 json_close(struct json *, int);
static void	 json_text(FILE *, const char *);
static size_t	 utf8_len(const unsigned char *);

void
json_init(struct json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
}

/* The separator before a member, and its key inside an object. */
static void
json_key(struct json *j, const char *key)
{
	if (j->count[j->depth]++ > 0)
		putc(',', j->fp);
	if (key != NULL) {
		json_text(j->fp, key);
		putc(':', j->fp);
	}
}

static void
json_open(struct json *j, const char *key, int c)
{
	if (j->depth + 1 >= JSON_DEPTH)
		errx(1, "json: nested too deep");
	json_key(j, key);
	putc(c, j->fp);
	j->count[++j->depth] = 0;
}

static void
json_close(struct json *j, int c)
{
	if (j->depth == 0)
		errx(1, "json: nothing to close");
	j->depth--;
	putc(c, j->fp);
}

void
json_object_open(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void
json_object_close(struct json *j)
{
	json_close(j, '}');
}

void
json_array_open(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void
json_array_close(struct json *j)
{
	json_close(j, ']');
}

void
json_string(struct json *j, const char *key, const char *val)
{
	json_key(j, key);
	json_text(j->fp, val);
}

void
json_int(struct json *j, const char *key, int64_t val)
{
	json_key(j, key);
	fprintf(j->fp, "%" PRId64, val);
}

void
json_uint(struct json *j, const char *key, uint64_t val)
{
	json_key(j, key);
	fprintf(j->fp, "%" PRIu64, val);
}

void
json_bool(struct json *j, const char *key, int val)
{
	json_key(j, key);
	fputs(val ? "true" : "false", j->fp);
}

void
json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->fp);
}

/* The end of the document: everything opened is closed. */
void
json_finish(struct json *j)
{
	if (j->depth != 0)
		errx(1, "json: document left open");
	putc('\n', j->fp);
	if (fflush(j->fp) == EOF)
		err(1, "stdout");
}

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t		 n, i;
	uint32_t	 cp;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (n);
}

static void
json_text(FILE *fp, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	putc('"', fp);
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			putc('\\', fp);
			putc(*s++, fp);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(fp, "\\u%04x", *s++);
		} else if ((n = utf8_len(s)) == 0) {
			fputs("\\ufffd", fp);
			s++;
		} else {
			fwrite(s, 1, n, fp);
			s += n;
		}
	}
	putc('"', fp);
}
