/*
 * The head of an HTTP/1.1 request carrying a KMIP message (the KMIP
 * HTTPS profile: POST to /kmip, the message as the body, its encoding
 * named by Content-Type).
 *
 * Only what the profile needs is taken: one method, one path, a body
 * whose length is given up front.  Everything is parsed within the first
 * HTTP_HEAD_MAX bytes, at most HTTP_FIELDS_MAX fields, so a client can
 * neither make the frontend buffer more nor scan without end.  Fields
 * that decide how the body is framed (Content-Length, Transfer-Encoding)
 * are refused when repeated or combined: two readings of one request are
 * how requests are smuggled past a proxy.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http.h"

struct span {
	const char	*p;
	size_t		 len;
};

static int	 span_is(struct span, const char *);
static int	 span_has_token(struct span, const char *);
static void	 span_trim(struct span *);
static int	 is_tchar(int);
static int	 field(struct span, struct span, size_t, struct http_req *,
		    unsigned int *);

#define F_LENGTH	0x01
#define F_TRANSFER	0x02
#define F_TYPE		0x04
#define F_HOST		0x08
#define F_KEEPALIVE	0x10

/* Case-insensitive equality with a NUL-terminated string. */
static int
span_is(struct span s, const char *str)
{
	return (s.len == strlen(str) && strncasecmp(s.p, str, s.len) == 0);
}

/* Whether the comma-separated list s names token t. */
static int
span_has_token(struct span s, const char *t)
{
	struct span	 e;
	size_t		 i, start = 0;

	for (i = 0; i <= s.len; i++) {
		if (i < s.len && s.p[i] != ',')
			continue;
		e.p = s.p + start;
		e.len = i - start;
		span_trim(&e);
		if (span_is(e, t))
			return (1);
		start = i + 1;
	}
	return (0);
}

static void
span_trim(struct span *s)
{
	while (s->len > 0 && (s->p[0] == ' ' || s->p[0] == '\t')) {
		s->p++;
		s->len--;
	}
	while (s->len > 0 && (s->p[s->len - 1] == ' ' ||
	    s->p[s->len - 1] == '\t'))
		s->len--;
}

/* A character of a token (RFC 9110 section 5.6.2). */
static int
is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One header field; 0 or the HTTP status of the error. */
static int
field(struct span name, struct span val, size_t maxbody,
    struct http_req *req, unsigned int *seen)
{
	struct span	 mt;
	size_t		 i, n;

	span_trim(&val);
	if (span_is(name, "Content-Length")) {
		if (*seen & F_LENGTH || val.len == 0)
			return (400);
		*seen |= F_LENGTH;
		for (i = 0, n = 0; i < val.len; i++) {
			if (val.p[i] < '0' || val.p[i] > '9')
				return (400);
			/* Stops before it can wrap. */
			if (n > maxbody)
				return (413);
			n = n * 10 + (size_t)(val.p[i] - '0');
		}
		if (n > maxbody)
			return (413);
		req->bodylen = n;
	} else if (span_is(name, "Transfer-Encoding")) {
		if (*seen & F_TRANSFER)
			return (400);
		*seen |= F_TRANSFER;
	} else if (span_is(name, "Content-Type")) {
		if (*seen & F_TYPE)
			return (400);
		*seen |= F_TYPE;
		mt = val;
		for (i = 0; i < mt.len; i++)
			if (mt.p[i] == ';')
				break;
		mt.len = i;
		span_trim(&mt);
		if (span_is(mt, "application/octet-stream"))
			req->enc = ENC_TTLV;
		else if (span_is(mt, "application/json"))
			req->enc = ENC_JSON;
		else if (span_is(mt, "text/xml") ||
		    span_is(mt, "application/xml"))
			req->enc = ENC_XML;
		else
			return (415);
	} else if (span_is(name, "Host")) {
		if (*seen & F_HOST)
			return (400);
		*seen |= F_HOST;
	} else if (span_is(name, "Connection")) {
		if (span_has_token(val, "close"))
			req->close = 1;
		if (span_has_token(val, "keep-alive"))
			*seen |= F_KEEPALIVE;
	} else if (span_is(name, "Expect")) {
		if (!span_is(val, "100-continue"))
			return (417);
		req->expect = 1;
	}
	return (0);
}

int
http_head(const char *buf, size_t len, size_t maxbody, struct http_req *req)
{
	struct span	 line, name, val, method, target, version;
	size_t		 pos, start, nfields = 0, i;
	unsigned int	 seen = 0;
	int		 first = 1, rv, http10 = 0;

	memset(req, 0, sizeof(*req));
	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	/* The head ends with an empty line; bare CR and NUL are refused. */
	for (pos = 0; ; pos++) {
		if (pos >= len)
			return (len >= HTTP_HEAD_MAX ? 431 : 0);
		if (buf[pos] == '\0' || (buf[pos] == '\r' &&
		    (pos + 1 < len && buf[pos + 1] != '\n')))
			return (400);
		if (buf[pos] != '\n')
			continue;
		if (pos == 0 || (pos == 1 && buf[0] == '\r'))
			return (400);	/* no request line */
		if ((buf[pos - 1] == '\n') ||
		    (buf[pos - 1] == '\r' && pos >= 2 && buf[pos - 2] == '\n'))
			break;
	}
	req->headlen = pos + 1;

	for (start = 0; start < req->headlen; start = pos + 1) {
		for (pos = start; buf[pos] != '\n'; pos++)
			;
		line.p = buf + start;
		line.len = pos - start;
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			break;
		for (i = 0; i < line.len; i++)
			if ((unsigned char)line.p[i] < 0x20 &&
			    line.p[i] != '\t')
				return (400);
		if (first) {
			/* method SP request-target SP HTTP-version */
			first = 0;
			method.p = line.p;
			for (i = 0; i < line.len && line.p[i] != ' '; i++)
				;
			method.len = i;
			if (i >= line.len)
				return (400);
			target.p = line.p + i + 1;
			for (i++; i < line.len && line.p[i] != ' '; i++)
				;
			target.len = line.p + i - target.p;
			if (i >= line.len)
				return (400);
			version.p = line.p + i + 1;
			version.len = line.len - i - 1;
			if (method.len == 0 || target.len == 0)
				return (400);
			if (version.len == 8 &&
			    strncmp(version.p, "HTTP/1.1", 8) == 0)
				http10 = 0;
			else if (version.len == 8 &&
			    strncmp(version.p, "HTTP/1.0", 8) == 0)
				http10 = 1;
			else
				return (505);
			/* Methods are case-sensitive. */
			if (method.len != 4 || strncmp(method.p, "POST", 4))
				return (405);
			if (target.len != strlen(HTTP_PATH) ||
			    strncmp(target.p, HTTP_PATH, target.len) != 0)
				return (404);
			continue;
		}
		if (++nfields > HTTP_FIELDS_MAX)
			return (431);
		/* field-name ":" OWS field-value OWS; no obsolete folding */
		name.p = line.p;
		for (i = 0; i < line.len && is_tchar(line.p[i]); i++)
			;
		if (i == 0 || i >= line.len || line.p[i] != ':')
			return (400);
		name.len = i;
		val.p = line.p + i + 1;
		val.len = line.len - i - 1;
		if ((rv = field(name, val, maxbody, req, &seen)) != 0)
			return (rv);
	}
	if (!http10 && !(seen & F_HOST))
		return (400);
	if (seen & F_TRANSFER)
		return (seen & F_LENGTH ? 400 : 411);
	if (!(seen & F_LENGTH))
		return (411);
	if (!(seen & F_TYPE))
		return (415);
	if (http10 && !(seen & F_KEEPALIVE))
		req->close = 1;
	return (200);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100:
		return ("Continue");
	case 200:
		return ("OK");
	case 400:
		return ("Bad Request");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 408:
		return ("Request Timeout");
	case 411:
		return ("Length Required");
	case 413:
		return ("Content Too Large");
	case 415:
		return ("Unsupported Media Type");
	case 417:
		return ("Expectation Failed");
	case 431:
		return ("Request Header Fields Too Large");
	case 500:
		return ("Internal Server Error");
	case 503:
		return ("Service Unavailable");
	case 505:
		return ("HTTP Version Not Supported");
	default:
		return ("Error");
	}
}

/* The Content-Type of an answer, the one its request named. */
const char *
http_ctype(enum msg_enc enc)
{
	switch (enc) {
	case ENC_JSON:
		return ("application/json");
	case ENC_XML:
		return ("text/xml");
	default:
		return ("application/octet-stream");
	}
}
