/*
 * TLS server contexts from PEM held in memory (the frontend is chrooted
 * and cannot open files; the parent checks the same files at start).
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

SSL_CTX	*tls_ctx_new(const char *, size_t, const char *, size_t,
	    const char *, size_t, int, int, char *, size_t);
int	 tls_cert_identity(X509 *, char *, size_t, const char **);
int	 tls_peer_identity(SSL *, char *, size_t, uint8_t [32],
	    const char **);

#endif /* TLS_H */
