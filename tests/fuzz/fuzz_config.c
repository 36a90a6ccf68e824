/*
 * fuzz_config.c — the configuration loader: the input is aldproxy.yaml,
 * loaded with config_load() as `aldproxyd -t`, start and reload do.
 *
 * backend.srv_domain would ask DNS: res_query() is replaced here by one
 * that answers every name with two SRV records (and nothing for names
 * starting with "none"), so runs are fast, offline and repeatable.
 *
 * Invariants: a failure says where ("FILE:..."); a configuration that
 * loads has a listener, a profile directory, a server, and values inside
 * the documented ranges.
 */
#include <stdint.h>
#include <string.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include "config.h"
#include "fuzz_common.h"

static char dir[256], path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_tmpdir(dir, sizeof(dir), "config");
	snprintf(path, sizeof(path), "%s/aldproxy.yaml", dir);
	return 0;
}

static unsigned char *
put16(unsigned char *p, unsigned v)
{
	*p++ = (unsigned char)(v >> 8);
	*p++ = (unsigned char)v;
	return p;
}

static unsigned char *
put_name(unsigned char *p, const unsigned char *end, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		if (l == 0 || l > 63 || p + 1 + l + 1 > end)
			return NULL;
		*p++ = (unsigned char)l;
		memcpy(p, name, l);
		p += l;
		name += l + (dot != NULL);
	}
	if (p >= end)
		return NULL;
	*p++ = 0;
	return p;
}

/* The resolver srv.c calls: a canned answer (two controllers), no network. */
int
res_query(const char *dname, int class, int type, unsigned char *answer, int anslen)
{
	(void)class;
	const char *d = strncmp(dname, "_ldap._tcp.", 11) == 0 ? dname + 11 : dname;
	if (type != ns_t_srv || anslen < 512 || strncmp(d, "none", 4) == 0) {
		h_errno = HOST_NOT_FOUND;
		return -1;
	}
	unsigned char *p = answer, *end = answer + anslen;
	p = put16(p, 0x1234);           /* id */
	p = put16(p, 0x8180);           /* response, recursion available, no error */
	p = put16(p, 1);                /* questions */
	p = put16(p, 2);                /* answers */
	p = put16(p, 0);
	p = put16(p, 0);
	if ((p = put_name(p, end, dname)) == NULL || p + 4 > end) {
		h_errno = NO_RECOVERY;
		return -1;
	}
	p = put16(p, ns_t_srv);
	p = put16(p, ns_c_in);
	static const struct { unsigned prio, weight, port; const char *target; } rr[] = {
		{ 10, 50, 389, "dc2.ald.test" },
		{ 0, 100, 389, "dc1.ald.test" },
	};
	for (size_t i = 0; i < 2; i++) {
		if (p + 12 + 6 + 64 > end) {
			h_errno = NO_RECOVERY;
			return -1;
		}
		p = put16(p, 0xc00c);       /* the question's name */
		p = put16(p, ns_t_srv);
		p = put16(p, ns_c_in);
		p = put16(p, 0);
		p = put16(p, 300);          /* TTL */
		unsigned char *rdlen = p;
		p += 2;
		unsigned char *rd = p;
		p = put16(p, rr[i].prio);
		p = put16(p, rr[i].weight);
		p = put16(p, rr[i].port);
		p = put_name(p, end, rr[i].target);
		put16(rdlen, (unsigned)(p - rd));
	}
	return (int)(p - answer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FZ_CHECK(fz_write(dir, "aldproxy.yaml", data, size) == 0);
	struct config *cfg = NULL;
	char err[1024] = "";
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		FZ_CHECK(strncmp(err, path, strlen(path)) == 0);
		return 0;
	}
	FZ_CHECK(cfg != NULL);
	FZ_CHECK(cfg->nlisteners >= 1 && cfg->profiles_dir != NULL);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		FZ_CHECK(cfg->listeners[i].parsed.port > 0 && cfg->listeners[i].parsed.port <= 65535);
	for (size_t i = 0; i < cfg->nservers; i++)
		FZ_CHECK(cfg->servers[i] != NULL && cfg->server_urls[i].port > 0 && cfg->server_urls[i].port <= 65535);
	FZ_CHECK(cfg->max_pdu_size > 0 && cfg->max_unbound_pdu_size > 0);
	FZ_CHECK((cfg->tls_cert == NULL) == (cfg->tls_key == NULL));
	config_free(cfg);
	return 0;
}
