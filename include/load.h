/*
 * load.h — everything a configuration file brings, loaded and checked in
 * one place, so `aldproxyd -t`, `aldproxyctl check` and a real start apply
 * exactly the same checks: the YAML, the profiles, the listeners' profile
 * names and the TLS material.
 */
#ifndef ALDPROXY_LOAD_H
#define ALDPROXY_LOAD_H

#include <stddef.h>
#include <openssl/ssl.h>

struct config;
struct profile_set;

struct loaded {
	struct config *cfg;
	struct profile_set *profiles;
	SSL_CTX *tls_server;        /* NULL without tls.certificate */
	SSL_CTX *tls_client;
};

/*
 * 0, or -1 with err naming file, line and key.  Frees what it made on failure.
 * Warnings — what loads but deserves the administrator's attention: a
 * shared listener where profiles with different login rules take the same
 * users and nothing selects between them (an error with profiles_strict) —
 * are logged with log_warn().
 */
int  load_all(const char *path, struct loaded *out, char *err, size_t errlen);
/* load_all(), with each warning given to warn (aldproxyctl check prints them) instead of the log. */
typedef void (*load_warn_fn)(const char *msg, void *arg);
int  load_all_warn(const char *path, struct loaded *out, char *err, size_t errlen, load_warn_fn warn, void *arg);
void load_free(struct loaded *l);

#endif
