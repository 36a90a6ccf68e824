/*
 * srv.c — DNS SRV discovery of controllers.  See srv.h.
 */
#include "srv.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
by_priority(const void *a, const void *b)
{
	const struct srv_target *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority - y->priority;
	return y->weight - x->weight;
}

int
srv_parse(const unsigned char *answer, int len, struct srv_target *out, int max, char *err, size_t errlen)
{
	ns_msg msg;
	ns_rr rr;
	int n = 0;
	if (ns_initparse(answer, len, &msg) < 0) {
		snprintf(err, errlen, "malformed DNS answer");
		return -1;
	}
	int count = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < count && n < max; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			snprintf(err, errlen, "malformed DNS record");
			return -1;
		}
		if (ns_rr_type(rr) != ns_t_srv)
			continue;
		const unsigned char *rd = ns_rr_rdata(rr);
		if (ns_rr_rdlen(rr) < 7) {
			snprintf(err, errlen, "short SRV record");
			return -1;
		}
		struct srv_target *t = &out[n];
		t->priority = (rd[0] << 8) | rd[1];
		t->weight = (rd[2] << 8) | rd[3];
		t->port = (rd[4] << 8) | rd[5];
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, t->host, sizeof(t->host)) < 0) {
			snprintf(err, errlen, "malformed SRV target");
			return -1;
		}
		if (strcmp(t->host, ".") == 0 || t->host[0] == '\0')
			continue;       /* "service not available" record */
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "no SRV records");
		return -1;
	}
	qsort(out, (size_t)n, sizeof(*out), by_priority);
	return n;
}

int
srv_lookup(const char *domain, struct srv_target *out, int max, char *err, size_t errlen)
{
	unsigned char answer[8192];
	char name[300];
	snprintf(name, sizeof(name), "_ldap._tcp.%s", domain);
	int len = res_query(name, ns_c_in, ns_t_srv, answer, sizeof(answer));
	if (len < 0) {
		snprintf(err, errlen, "no SRV records for %s (%s)", name, hstrerror(h_errno));
		return -1;
	}
	char perr[200];
	int n = srv_parse(answer, len, out, max, perr, sizeof(perr));
	if (n < 0)
		snprintf(err, errlen, "%s: %s", name, perr);
	return n;
}
