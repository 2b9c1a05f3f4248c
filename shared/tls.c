/*
 * TLS server contexts.  TLS 1.3 only by default; with tls12 also TLS 1.2,
 * restricted to ECDHE key exchange with AEAD ciphers.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "signerd.h"
#include "tls.h"

#define TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"

static void
tls_err(char *err, size_t errlen, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		(void)snprintf(err, errlen, "%s: %s", what, buf);
	} else
		(void)snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

SSL_CTX *
tls_ctx_new(const char *cert, size_t certlen, const char *key, size_t keylen,
    const char *ca, size_t calen, int tls12, int verify_client, char *err,
    size_t errlen)
{
	SSL_CTX		*ctx;
	BIO		*bio = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pkey = NULL;
	X509_STORE	*store;
	int		 n = 0;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "SSL_CTX_new");
		return (NULL);
	}
	if (!SSL_CTX_set_min_proto_version(ctx, tls12 ? TLS1_2_VERSION :
	    TLS1_3_VERSION) ||
	    (tls12 && !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS))) {
		tls_err(err, errlen, "TLS protocol settings");
		goto fail;
	}
	/* Plaintext records are wiped once the application has read them. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CLEANSE_PLAINTEXT | SSL_OP_NO_TICKET);
	/*
	 * No session resumption: every connection shows its certificate
	 * again, and no TLS 1.3 NewSessionTicket records follow the
	 * handshake, only to delay the first answer.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (!SSL_CTX_set_num_tickets(ctx, 0)) {
		tls_err(err, errlen, "TLS session tickets");
		goto fail;
	}

	/* The certificate, then its chain. */
	if ((bio = BIO_new_mem_buf(cert, certlen)) == NULL ||
	    (x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL ||
	    !SSL_CTX_use_certificate(ctx, x)) {
		tls_err(err, errlen, "server certificate");
		goto fail;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!SSL_CTX_add0_chain_cert(ctx, x)) {
			X509_free(x);
			tls_err(err, errlen, "certificate chain");
			goto fail;
		}
	x = NULL;
	ERR_clear_error();	/* the end of the PEM stream */
	BIO_free(bio);

	if ((bio = BIO_new_mem_buf(key, keylen)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
	    !SSL_CTX_use_PrivateKey(ctx, pkey)) {
		tls_err(err, errlen, "server key");
		goto fail;
	}
	EVP_PKEY_free(pkey);
	pkey = NULL;
	BIO_free(bio);
	bio = NULL;
	if (!SSL_CTX_check_private_key(ctx)) {
		tls_err(err, errlen, "server key does not match certificate");
		goto fail;
	}

	/* Client certificates are checked against these CAs. */
	store = SSL_CTX_get_cert_store(ctx);
	if ((bio = BIO_new_mem_buf(ca, calen)) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!X509_STORE_add_cert(store, x) ||
		    !SSL_CTX_add_client_CA(ctx, x)) {
			tls_err(err, errlen, "client CA");
			goto fail;
		}
		X509_free(x);
		n++;
	}
	x = NULL;
	ERR_clear_error();
	BIO_free(bio);
	bio = NULL;
	if (n == 0) {
		(void)snprintf(err, errlen, "client ca: no certificate found");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (verify_client ?
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	SSL_CTX_set_verify_depth(ctx, 8);
	return (ctx);
 fail:
	X509_free(x);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * The client identity in a certificate: its one subject CN, as UTF-8.
 * Anything else is refused, with the reason in *why: no CN, more than one
 * (which would the owner be?), an empty one, one that does not convert to
 * valid UTF-8, holds a NUL or a control character, or does not fit in
 * idlen with its NUL.  Pure: it looks at x only, for the fuzzer too.
 */
int
tls_cert_identity(X509 *x, char *id, size_t idlen, const char **why)
{
	X509_NAME	*name;
	X509_NAME_ENTRY	*ne;
	ASN1_STRING	*as;
	unsigned char	*u = NULL;
	size_t		 i, n;
	int		 pos, len;

	if (idlen > 0)
		id[0] = '\0';
	if (x == NULL || (name = X509_get_subject_name(x)) == NULL) {
		*why = "no subject";
		return (-1);
	}
	if ((pos = X509_NAME_get_index_by_NID(name, NID_commonName,
	    -1)) < 0) {
		*why = "no subject CN";
		return (-1);
	}
	if (X509_NAME_get_index_by_NID(name, NID_commonName, pos) >= 0) {
		*why = "more than one subject CN";
		return (-1);
	}
	if ((ne = X509_NAME_get_entry(name, pos)) == NULL ||
	    (as = X509_NAME_ENTRY_get_data(ne)) == NULL ||
	    (len = ASN1_STRING_to_UTF8(&u, as)) < 0) {
		ERR_clear_error();
		*why = "subject CN not convertible to UTF-8";
		return (-1);
	}
	n = (size_t)len;
	if (n == 0)
		*why = "empty subject CN";
	else if (n >= idlen)
		*why = "subject CN too long";
	else {
		*why = NULL;
		for (i = 0; i < n; i += len) {
			if ((len = utf8_char(u + i, n - i)) == 0 ||
			    utf8_control(u + i, len)) {
				*why = "subject CN not printable UTF-8";
				break;
			}
		}
	}
	if (*why == NULL) {
		memcpy(id, u, n);
		id[n] = '\0';
	}
	OPENSSL_free(u);
	return (*why == NULL ? 0 : -1);
}

/*
 * The identity of the peer: 0 and its CN from a verified certificate, 1
 * if it sent no certificate (allowed only with client certificate
 * optional), -1 if its certificate does not name exactly one usable
 * identity (*why says why).  fp gets the SHA-256 of the certificate's
 * DER, or zeros without one: a configured binding of a fingerprint to
 * a name takes precedence over the CN.
 */
int
tls_peer_identity(SSL *ssl, char *id, size_t idlen, uint8_t fp[32],
    const char **why)
{
	X509		*x;
	unsigned int	 n = 32;
	int		 rv;

	if (idlen > 0)
		id[0] = '\0';
	memset(fp, 0, 32);
	*why = NULL;
	if ((x = SSL_get1_peer_certificate(ssl)) == NULL)
		return (1);
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		*why = "certificate not verified";
		rv = -1;
	} else if (X509_digest(x, EVP_sha256(), fp, &n) != 1 || n != 32) {
		memset(fp, 0, 32);
		*why = "cannot compute the certificate's fingerprint";
		rv = -1;
	} else
		rv = tls_cert_identity(x, id, idlen, why);
	X509_free(x);
	return (rv);
}
