/*
 * KMIP over HTTPS (the KMIP HTTPS, JSON and XML profiles): the head of
 * an HTTP/1.1 request, parsed apart from the frontend's event code so
 * that a fuzz target can drive it.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "msgenc.h"

#define HTTP_HEAD_MAX		8192	/* request line and header fields */
#define HTTP_FIELDS_MAX		32	/* header fields */
#define HTTP_PATH		"/kmip"

struct http_req {
	size_t		 headlen;	/* bytes up to the empty line, with it */
	size_t		 bodylen;	/* Content-Length */
	enum msg_enc	 enc;
	int		 close;		/* no request after this one */
	int		 expect;	/* Expect: 100-continue */
};

/*
 * http_head: look at the first len bytes of a request.  0: the head is
 * not complete yet; 200: *req describes a valid head; otherwise the HTTP
 * status of the error to answer before closing.  maxbody bounds
 * Content-Length.
 */
int		 http_head(const char *, size_t, size_t, struct http_req *);
const char	*http_reason(int);
const char	*http_ctype(enum msg_enc);

#endif /* HTTP_H */
