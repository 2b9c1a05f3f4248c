/*
 * libFuzzer target for the head of a KMIP over HTTPS request
 * (frontend/http.c).  The first two bytes choose the largest body, the
 * rest is what a client sends.  An accepted head lies within the input
 * and HTTP_HEAD_MAX, its body within the limit, and the answer depends
 * on the head alone: the head by itself gives the same, any shorter
 * prefix asks for more.  A refusal is an HTTP error status.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 head_copy(const uint8_t *, size_t, size_t, struct http_req *);

/* http_head on a copy of exactly len bytes. */
static int
head_copy(const uint8_t *p, size_t len, size_t max, struct http_req *req)
{
	char	*b;
	int	 rv;

	if ((b = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(b, p, len);
	rv = http_head(b, len, max, req);
	free(b);
	return (rv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req	 req, again;
	size_t		 max;
	int		 rv;

	if (size < 2)
		return (0);
	max = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	rv = head_copy(data, size, max, &req);
	if (rv == 0) {
		if (size >= HTTP_HEAD_MAX)
			abort();
		return (0);
	}
	if (rv != 200) {
		if (rv < 400 || rv > 599 || http_reason(rv) == NULL)
			abort();
		return (0);
	}
	if (req.headlen == 0 || req.headlen > size ||
	    req.headlen > HTTP_HEAD_MAX || req.bodylen > max ||
	    (req.enc != ENC_TTLV && req.enc != ENC_JSON &&
	    req.enc != ENC_XML))
		abort();
	if (head_copy(data, req.headlen, max, &again) != 200 ||
	    memcmp(&again, &req, sizeof(req)) != 0)
		abort();
	if (head_copy(data, req.headlen - 1, max, &again) != 0)
		abort();
	return (0);
}
