/*
 * tls.h — OpenSSL contexts for the front end and for the directory.
 *
 * The daemon owns one server context (ldaps:// and StartTLS) and one
 * client context (connections to the directory, always verified unless
 * backend.tls_verify is off).  Both are TLS 1.2 or newer.
 */
#ifndef ALDPROXY_TLS_H
#define ALDPROXY_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

struct config;

/* The server context; its handshakes record the client's server name (SNI), see tls_capture_sni(). */
SSL_CTX *tls_server_ctx_new(const struct config *cfg, char *err, size_t errlen);
/*
 * The server name the client sends in this handshake is written, lower
 * case and without a final dot, to buf (len bytes, "" when none is sent),
 * which must outlive ssl.  For ldaps:// and StartTLS alike.  0, or -1.
 */
int tls_capture_sni(SSL *ssl, char *buf, size_t len);
SSL_CTX *tls_client_ctx_new(const struct config *cfg, char *err, size_t errlen);
/* An SSL for a connection to host, with SNI and host-name verification. */
SSL *tls_client_new(SSL_CTX *ctx, const char *host, int verify);
/* The reason of the last TLS failure on ssl (verification result or queue). */
const char *tls_failure(SSL *ssl, char *buf, size_t len);

#endif
