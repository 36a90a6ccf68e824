/*
 * srv.h — controllers from DNS SRV records (_ldap._tcp.<domain>), as ALD
 * Pro / FreeIPA domains publish them.  Looked up when the configuration is
 * loaded (start, `-t`, reload), never on the event loop.
 */
#ifndef ALDPROXY_SRV_H
#define ALDPROXY_SRV_H

#include <stddef.h>

struct srv_target {
	char host[256];
	int port;
	int priority;
	int weight;
};

/*
 * Parses a DNS answer for SRV records into out (at most max, sorted by
 * priority then weight descending).  Returns the count, or -1 with err.
 */
int srv_parse(const unsigned char *answer, int len, struct srv_target *out, int max, char *err, size_t errlen);
/* res_query for _ldap._tcp.<domain>, then srv_parse.  Count or -1 with err. */
int srv_lookup(const char *domain, struct srv_target *out, int max, char *err, size_t errlen);

#endif
