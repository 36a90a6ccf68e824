/*
 * tls.c — OpenSSL context set-up.  See tls.h.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config.h"

static void
ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "unknown error");
	ERR_clear_error();
}

/* Where a handshake writes the client's server name: a struct sni_buf (tls_capture_sni()). */
struct sni_buf {
	char *buf;
	size_t len;
};

static int sni_index = -1;

static void
sni_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

int
tls_capture_sni(SSL *ssl, char *buf, size_t len)
{
	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (sni_index < 0 && (sni_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, sni_free)) < 0)
		return -1;
	struct sni_buf *b = malloc(sizeof(*b));
	if (b == NULL)
		return -1;
	b->buf = buf;
	b->len = len;
	if (SSL_set_ex_data(ssl, sni_index, b) != 1) {
		free(b);
		return -1;
	}
	return 0;
}

/* The ClientHello's server name: recorded, never refused (the profiles decide what it means). */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	(void)alert;
	(void)arg;
	struct sni_buf *b = sni_index >= 0 ? SSL_get_ex_data(ssl, sni_index) : NULL;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (b == NULL)
		return SSL_TLSEXT_ERR_OK;
	size_t n = name ? strlen(name) : 0;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n >= b->len)
		n = 0;          /* longer than any DNS name: as if none */
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		b->buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	b->buf[n] = '\0';
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
tls_server_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		char what[512];
		snprintf(what, sizeof(what), "%s:%d: key 'tls.certificate': cannot load %s", cfg->path,
		    cfg->tls_cert_line, cfg->tls_cert);
		ssl_err(err, errlen, what);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
		char what[512];
		snprintf(what, sizeof(what), "%s:%d: key 'tls.key': cannot load %s", cfg->path, cfg->tls_key_line,
		    cfg->tls_key);
		ssl_err(err, errlen, what);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s:%d: key 'tls.key': %s does not match tls.certificate %s", cfg->path,
		    cfg->tls_key_line, cfg->tls_key, cfg->tls_cert);
		goto fail;
	}
	if (cfg->tls_ciphers != NULL && SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1) {
		snprintf(err, errlen, "%s:%d: key 'tls.ciphers': no usable cipher in '%s'", cfg->path,
		    cfg->tls_ciphers_line, cfg->tls_ciphers);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (cfg->ca_file != NULL || cfg->ca_dir != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, cfg->ca_dir) != 1) {
			char what[512];
			snprintf(what, sizeof(what), "%s:%d: key 'backend.%s': cannot load %s", cfg->path, cfg->ca_line,
			    cfg->ca_file ? "ca_file" : "ca_dir", cfg->ca_file ? cfg->ca_file : cfg->ca_dir);
			ssl_err(err, errlen, what);
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	SSL_CTX_set_verify(ctx, cfg->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (cfg->client_cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, cfg->client_cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, cfg->client_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)) {
		char what[600];
		snprintf(what, sizeof(what), "%s: key 'backend.client_certificate': cannot use %s with %s", cfg->path,
		    cfg->client_cert, cfg->client_key);
		ssl_err(err, errlen, what);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *
tls_client_new(SSL_CTX *ctx, const char *host, int verify)
{
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL)
		return NULL;
	unsigned char addr[16];
	int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(ssl, host);
	if (verify) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : X509_VERIFY_PARAM_set1_host(param, host, 0);
		if (ok != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

const char *
tls_failure(SSL *ssl, char *buf, size_t len)
{
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();
	if (vr != X509_V_OK)
		snprintf(buf, len, "certificate verification failed: %s", X509_verify_cert_error_string(vr));
	else if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "TLS handshake failed");
	ERR_clear_error();
	return buf;
}
