/*
 * sasl.h — aldproxy's own SASL/GSSAPI bind to the directory (backend.auth:
 * gssapi), with Cyrus SASL and MIT Kerberos.
 *
 * Credentials come from the keytab: at start and then before they expire
 * aldproxy gets a TGT for its principal into its own ccache (MEMORY: by
 * default), so new directory connections always find valid tickets and
 * established ones are untouched.  The bind runs under TLS with no SASL
 * security layer (maxssf 0).  The keytab is the only secret; it is read by
 * libkrb5, never by aldproxy's code.
 */
#ifndef ALDPROXY_SASL_H
#define ALDPROXY_SASL_H

#include <stddef.h>
#include <lber.h>

struct config;
struct evbuffer;
struct event_base;

/* Process-wide set-up; 0, or -1 with err. */
int  sasl_backend_init(const struct config *cfg, char *err, size_t errlen);
/* Gets fresh credentials from the keytab; returns seconds until they expire, or -1 with err. */
long sasl_backend_kinit(const struct config *cfg, char *err, size_t errlen);
void sasl_backend_done(void);

struct sasl_bind;   /* one bind exchange on one connection */

/* Starts a GSSAPI bind to host, writing the first BindRequest (msgid) to out. */
struct sasl_bind *sasl_bind_start(const char *host, int msgid, struct evbuffer *out, char *err, size_t errlen);
/*
 * The directory answered with code and serverSaslCreds (creds may be NULL):
 * returns 1 when bound, 0 when another BindRequest was written to out,
 * -1 with err on failure.
 */
int  sasl_bind_step(struct sasl_bind *sb, int code, const struct berval *creds, int msgid, struct evbuffer *out,
    char *err, size_t errlen);
void sasl_bind_free(struct sasl_bind *sb);

#endif
