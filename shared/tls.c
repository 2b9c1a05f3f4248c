/*
 * TLS server contexts.  TLS 1.3 only by default; with tls12 also TLS 1.2,
 * restricted to ECDHE key exchange with AEAD ciphers.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);

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

/* The subject CN of the verified peer certificate, the client identity. */
int
tls_peer_cn(SSL *ssl, char *cn, size_t cnlen)
{
	X509		*x;
	X509_NAME	*name;
	int		 len;

	cn[0] = '\0';
	if (SSL_get_verify_result(ssl) != X509_V_OK ||
	    (x = SSL_get1_peer_certificate(ssl)) == NULL)
		return (-1);
	name = X509_get_subject_name(x);
	len = X509_NAME_get_text_by_NID(name, NID_commonName, cn, cnlen);
	X509_free(x);
	if (len <= 0 || (size_t)len >= cnlen || strlen(cn) != (size_t)len) {
		/* No CN, too long, or one with an embedded NUL. */
		cn[0] = '\0';
		return (-1);
	}
	return (0);
}
