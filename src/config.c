/*
 * config.c — aldproxy.yaml: defaults, parsing, validation.
 *
 * Every key is read here and only here; the rest of the daemon sees a
 * struct config that is known to be complete and consistent.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <string.h>
#include <syslog.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "srv.h"
#include "yamlcfg.h"

int
url_parse(const char *url, struct url *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *p;
	if (strncasecmp(url, "ldap://", 7) == 0) {
		p = url + 7;
		out->port = 389;
	} else if (strncasecmp(url, "ldaps://", 8) == 0) {
		p = url + 8;
		out->tls = 1;
		out->port = 636;
	} else {
		snprintf(err, errlen, "'%s' is not an ldap:// or ldaps:// URL", url);
		return -1;
	}
	const char *hend;
	const char *rest;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (hend == NULL) {
			snprintf(err, errlen, "'%s': unterminated IPv6 address", url);
			return -1;
		}
		p++;
		rest = hend + 1;
	} else {
		hend = p + strcspn(p, ":/");
		rest = hend;
	}
	size_t hlen = (size_t)(hend - p);
	if (hlen == 0 || hlen >= sizeof(out->host)) {
		snprintf(err, errlen, "'%s': missing or too long host", url);
		return -1;
	}
	memcpy(out->host, p, hlen);
	out->host[hlen] = '\0';
	if (*rest == ':') {
		char *end;
		long port = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || port < 1 || port > 65535 || (*end != '\0' && strcmp(end, "/") != 0)) {
			snprintf(err, errlen, "'%s': bad port", url);
			return -1;
		}
		out->port = (int)port;
	} else if (*rest != '\0' && strcmp(rest, "/") != 0) {
		snprintf(err, errlen, "'%s': unexpected text after the host", url);
		return -1;
	}
	return 0;
}

int
url_host_is_ip(const struct url *u)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, u->host, buf) == 1 || inet_pton(AF_INET6, u->host, buf) == 1;
}

static void
config_defaults(struct config *c)
{
	c->tls_min_version = 12;
	c->starttls = 1;
	c->tls_verify = 1;
	c->pool_size = 4;
	c->bind_pool_size = 4;
	c->paged_pool_size = 8;
	c->max_ops_per_connection = 256;
	c->connect_timeout = 5;
	c->operation_timeout = 60;
	c->reconnect_min = 0.2;
	c->reconnect_max = 30;
	c->max_pdu_size = 1024 * 1024;
	c->max_client_output = 8 * 1024 * 1024;
	c->max_total_output = 64 * 1024 * 1024;
	c->max_ops_per_client = 256;
	c->max_ops_per_identity = 512;
	c->max_ops_per_address = 1024;
	c->max_connections = 10000;
	c->idle_timeout = 900;
	c->bind_timeout = 10;
	c->max_unbound_pdu_size = 256 * 1024;
	c->unbound_timeout = 60;
	c->max_connections_per_address = 1000;
	c->account_failures_delay = 5;
	c->address_failures_delay = 50;
	c->address_failures_block = 500;
	c->address_block_time = 300;
	c->max_binds_per_second = 300;
	c->max_bulk_searches = 0;
	c->max_bulk_searches_per_client = 1;
	c->log_level = LOG_LVL_INFO;
	c->log_facility = LOG_DAEMON;
	c->control_mode = 0600;
	c->control_ro_mode = 0666;
	c->audit_target = AUDIT_TO_SYSLOG;
	c->audit_facility = LOG_AUTHPRIV;
}

/* Reads the first line of a secret file; refuses files others can read. */
static int
read_password_file(struct yamlcfg *yc, yaml_node_t *node, const char *file, char **out)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return yc_error(yc, node, "backend.password_file", "cannot open %s: %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return yc_error(yc, node, "backend.password_file", "%s is not a regular file", file);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return yc_error(yc, node, "backend.password_file",
		    "%s is readable by group or others (mode %03o); chmod 600 it", file, st.st_mode & 0777);
	}
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return yc_error(yc, node, "backend.password_file", "cannot read %s", file);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		explicit_bzero(buf, sizeof(buf));
		return yc_error(yc, node, "backend.password_file", "%s holds no password on its first line", file);
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *out ? 0 : -1;
}

static int
parse_listeners(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "url", "profile", NULL };
	yaml_node_t *seq = yc_get(yc, root, "listeners");
	if (seq == NULL)
		return yc_error(yc, root, "listeners", "at least one listener is required");
	if (!yc_is_seq(seq))
		return yc_error(yc, seq, "listeners", "must be a list of {url: ...} entries");
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0)
		return yc_error(yc, seq, "listeners", "at least one listener is required");
	c->listeners = calloc(n ? n : 1, sizeof(*c->listeners));
	if (c->listeners == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = yaml_document_get_node(&yc->doc, seq->data.sequence.items.start[i]);
		char path[64];
		snprintf(path, sizeof(path), "listeners[%zu]", i);
		struct listener_conf *l = &c->listeners[c->nlisteners++];
		l->line = yc_line(it);
		if (it->type == YAML_SCALAR_NODE) {
			l->url = strdup((const char *)it->data.scalar.value);
		} else {
			if (yc_check_keys(yc, it, path, keys) < 0 ||
			    yc_str(yc, it, "url", path, &l->url) < 0 ||
			    yc_str(yc, it, "profile", path, &l->profile) < 0)
				return -1;
		}
		if (l->url == NULL)
			return yc_error(yc, it, path, "url is required");
		char uerr[256];
		if (url_parse(l->url, &l->parsed, uerr, sizeof(uerr)) < 0)
			return yc_error(yc, it, path, "%s", uerr);
		if (!url_host_is_ip(&l->parsed))
			return yc_error(yc, it, path, "'%s': listen on an IPv4 or [IPv6] address, not a host name", l->url);
		for (size_t j = 0; j < i; j++)
			if (c->listeners[j].parsed.port == l->parsed.port &&
			    strcmp(c->listeners[j].parsed.host, l->parsed.host) == 0)
				return yc_error(yc, it, path, "%s is also listened on by listeners[%zu]", l->url, j);
	}
	return 0;
}

static int
parse_tls(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "certificate", "key", "min_version", "ciphers", "require_tls", NULL };
	yaml_node_t *m = yc_get(yc, root, "tls");
	if (m == NULL)
		return 0;
	char *minv = NULL;
	if (yc_check_keys(yc, m, "tls", keys) < 0 ||
	    yc_str(yc, m, "certificate", "tls", &c->tls_cert) < 0 ||
	    yc_str(yc, m, "key", "tls", &c->tls_key) < 0 ||
	    yc_str(yc, m, "ciphers", "tls", &c->tls_ciphers) < 0 ||
	    yc_bool(yc, m, "require_tls", "tls", &c->require_tls) < 0 ||
	    yc_str(yc, m, "min_version", "tls", &minv) < 0)
		return -1;
	c->tls_cert_line = yc_line(yc_get(yc, m, "certificate"));
	c->tls_key_line = yc_line(yc_get(yc, m, "key"));
	c->tls_ciphers_line = yc_line(yc_get(yc, m, "ciphers"));
	if (minv != NULL) {
		int bad = 0;
		if (strcmp(minv, "1.2") == 0)
			c->tls_min_version = 12;
		else if (strcmp(minv, "1.3") == 0)
			c->tls_min_version = 13;
		else
			bad = 1;
		free(minv);
		if (bad)
			return yc_error(yc, yc_get(yc, m, "min_version"), "tls.min_version", "must be \"1.2\" or \"1.3\"");
	}
	return 0;
}

/* backend.servers: URLs, or {url, priority} mappings (lower priority preferred). */
static int
parse_servers(struct yamlcfg *yc, struct config *c, yaml_node_t *m)
{
	static const char *const keys[] = { "url", "priority", NULL };
	yaml_node_t *seq = yc_get(yc, m, "servers");
	if (seq == NULL)
		return 0;
	if (seq->type == YAML_SCALAR_NODE)
		return yc_strlist(yc, m, "servers", "backend", &c->servers, &c->nservers);
	if (!yc_is_seq(seq))
		return yc_error(yc, seq, "backend.servers", "must be a list of URLs or {url, priority}");
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	c->servers = calloc(n + 1, sizeof(*c->servers));
	c->server_priority = calloc(n + 1, sizeof(*c->server_priority));
	if (c->servers == NULL || c->server_priority == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = yaml_document_get_node(&yc->doc, seq->data.sequence.items.start[i]);
		char path[64];
		snprintf(path, sizeof(path), "backend.servers[%zu]", i);
		if (it->type == YAML_SCALAR_NODE) {
			c->servers[c->nservers++] = strdup((const char *)it->data.scalar.value);
			continue;
		}
		long prio = 0;
		char *url = NULL;
		if (yc_check_keys(yc, it, path, keys) < 0 || yc_str(yc, it, "url", path, &url) < 0 ||
		    yc_int(yc, it, "priority", path, 0, 65535, &prio) < 0) {
			free(url);
			return -1;
		}
		if (url == NULL)
			return yc_error(yc, it, path, "url is required");
		c->server_priority[c->nservers] = (int)prio;
		c->servers[c->nservers++] = url;
	}
	return 0;
}

static int
parse_backend(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "servers", "starttls", "ca_file", "ca_dir", "tls_verify",
		"bind_dn", "password_file", "pool_size", "bind_pool_size", "paged_pool_size",
		"max_ops_per_connection", "connect_timeout", "operation_timeout", "reconnect_min",
		"reconnect_max", "auth", "principal", "keytab", "ccache", "client_certificate", "client_key",
		"probe_interval", "srv_domain", NULL };
	const char *P = "backend";
	yaml_node_t *m = yc_get(yc, root, P);
	if (m == NULL)
		return yc_error(yc, root, P, "the backend section is required");
	if (yc_check_keys(yc, m, P, keys) < 0 ||
	    parse_servers(yc, c, m) < 0 ||
	    yc_str(yc, m, "client_certificate", P, &c->client_cert) < 0 ||
	    yc_str(yc, m, "client_key", P, &c->client_key) < 0 ||
	    yc_seconds(yc, m, "probe_interval", P, 0, 3600, &c->probe_interval) < 0 ||
	    yc_bool(yc, m, "starttls", P, &c->starttls) < 0 ||
	    yc_str(yc, m, "ca_file", P, &c->ca_file) < 0 ||
	    yc_str(yc, m, "ca_dir", P, &c->ca_dir) < 0 ||
	    yc_bool(yc, m, "tls_verify", P, &c->tls_verify) < 0 ||
	    yc_str(yc, m, "bind_dn", P, &c->bind_dn) < 0 ||
	    yc_str(yc, m, "password_file", P, &c->password_file) < 0 ||
	    yc_int(yc, m, "pool_size", P, 1, 256, &c->pool_size) < 0 ||
	    yc_int(yc, m, "bind_pool_size", P, 1, 256, &c->bind_pool_size) < 0 ||
	    yc_int(yc, m, "paged_pool_size", P, 0, 1024, &c->paged_pool_size) < 0 ||
	    yc_int(yc, m, "max_ops_per_connection", P, 1, 65536, &c->max_ops_per_connection) < 0 ||
	    yc_seconds(yc, m, "connect_timeout", P, 0.1, 600, &c->connect_timeout) < 0 ||
	    yc_seconds(yc, m, "operation_timeout", P, 0.1, 86400, &c->operation_timeout) < 0 ||
	    yc_seconds(yc, m, "reconnect_min", P, 0.01, 600, &c->reconnect_min) < 0 ||
	    yc_seconds(yc, m, "reconnect_max", P, 0.01, 3600, &c->reconnect_max) < 0)
		return -1;
	yaml_node_t *sn = yc_get(yc, m, "servers");
	c->ca_line = yc_line(yc_get(yc, m, c->ca_file ? "ca_file" : "ca_dir"));
	char *srv_domain = NULL;
	if (yc_str(yc, m, "srv_domain", P, &srv_domain) < 0)
		return -1;
	if (srv_domain != NULL) {
		/* controllers published in DNS: ldap://target:port with StartTLS, SRV priorities kept */
		struct srv_target t[32];
		char serr[400];
		int n = srv_lookup(srv_domain, t, 32, serr, sizeof(serr));
		if (n < 0) {
			yc_error(yc, yc_get(yc, m, "srv_domain"), "backend.srv_domain", "%s", serr);
			free(srv_domain);
			return -1;
		}
		free(srv_domain);
		char **sv = realloc(c->servers, (c->nservers + (size_t)n + 1) * sizeof(*sv));
		int *pr = c->server_priority ? realloc(c->server_priority, (c->nservers + (size_t)n + 1) * sizeof(*pr)) :
		    calloc(c->nservers + (size_t)n + 1, sizeof(*pr));
		if (sv == NULL || pr == NULL)
			return -1;
		c->servers = sv;
		c->server_priority = pr;
		for (int i = 0; i < n; i++) {
			char url[300];
			snprintf(url, sizeof(url), "ldap://%.255s:%d", t[i].host, t[i].port);
			c->servers[c->nservers] = strdup(url);
			c->server_priority[c->nservers++] = t[i].priority;
		}
	}
	if (c->nservers == 0)
		return yc_error(yc, sn ? sn : m, "backend.servers", "at least one directory server is required");
	c->server_urls = calloc(c->nservers, sizeof(*c->server_urls));
	if (c->server_priority == NULL)
		c->server_priority = calloc(c->nservers, sizeof(*c->server_priority));
	if ((c->client_cert == NULL) != (c->client_key == NULL))
		return yc_error(yc, m, "backend.client_key", "client_certificate and client_key go together");
	if (c->server_urls == NULL || c->server_priority == NULL)
		return -1;
	for (size_t i = 0; i < c->nservers; i++) {
		char uerr[256];
		if (url_parse(c->servers[i], &c->server_urls[i], uerr, sizeof(uerr)) < 0)
			return yc_error(yc, yc_seq_item(yc, m, "servers", i), "backend.servers", "%s", uerr);
	}
	if (c->reconnect_max < c->reconnect_min)
		return yc_error(yc, yc_get(yc, m, "reconnect_max"), "backend.reconnect_max",
		    "must not be less than reconnect_min");
	char *auth = NULL;
	if (yc_str(yc, m, "auth", P, &auth) < 0 || yc_str(yc, m, "principal", P, &c->principal) < 0 ||
	    yc_str(yc, m, "keytab", P, &c->keytab) < 0 || yc_str(yc, m, "ccache", P, &c->ccache) < 0) {
		free(auth);
		return -1;
	}
	if (auth != NULL && strcmp(auth, "gssapi") == 0)
		c->auth_gssapi = 1;
	else if (auth != NULL && strcmp(auth, "simple") != 0) {
		free(auth);
		return yc_error(yc, yc_get(yc, m, "auth"), "backend.auth", "must be simple or gssapi");
	}
	free(auth);
	if (c->auth_gssapi) {
		if (c->keytab == NULL || c->principal == NULL)
			return yc_error(yc, m, c->keytab ? "backend.principal" : "backend.keytab",
			    "auth: gssapi needs aldproxy's principal and the keytab holding its key");
		if (access(c->keytab, R_OK) != 0)
			return yc_error(yc, yc_get(yc, m, "keytab"), "backend.keytab", "cannot read %s: %s", c->keytab,
			    strerror(errno));
		for (size_t i = 0; i < c->nservers; i++)
			if (!c->server_urls[i].tls && !c->starttls)
				return yc_error(yc, yc_get(yc, m, "starttls"), "backend.starttls",
				    "auth: gssapi runs under TLS (StartTLS or ldaps://); no SASL security layer is negotiated");
		if (c->ccache == NULL)
			c->ccache = strdup("MEMORY:aldproxy");
		return 0;
	}
	if (c->bind_dn == NULL)
		return yc_error(yc, m, "backend.bind_dn", "aldproxy's own bind DN on the directory is required");
	if (c->password_file == NULL)
		return yc_error(yc, m, "backend.password_file", "a password file for backend.bind_dn is required");
	int any_tls = 0;
	for (size_t i = 0; i < c->nservers; i++)
		any_tls |= c->server_urls[i].tls || c->starttls;
	if (any_tls && c->tls_verify && c->ca_file == NULL && c->ca_dir == NULL)
		return yc_error(yc, m, "backend.ca_file", "a CA file or ca_dir is required to verify the directory's certificate");
	return read_password_file(yc, yc_get(yc, m, "password_file"), c->password_file, &c->bind_password);
}

static int
parse_limits(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "max_pdu_size", "max_client_output", "max_total_output", "max_ops_per_client",
		"max_ops_per_identity", "max_ops_per_address", "max_connections", "idle_timeout", "bind_timeout", "max_unbound_pdu_size", "unbound_timeout",
		"max_connections_per_address", "account_failures_delay", "address_failures_delay", "address_failures_block",
		"address_block_time",
		"max_binds_per_second", "max_bulk_searches", "max_bulk_searches_per_client", NULL };
	const char *P = "limits";
	yaml_node_t *m = yc_get(yc, root, P);
	if (m == NULL)
		return 0;
	return (yc_check_keys(yc, m, P, keys) < 0 ||
	    yc_size(yc, m, "max_pdu_size", P, 1024, (size_t)1 << 30, &c->max_pdu_size) < 0 ||
	    yc_size(yc, m, "max_client_output", P, 4096, (size_t)1 << 34, &c->max_client_output) < 0 ||
	    yc_size(yc, m, "max_total_output", P, 65536, (size_t)1 << 40, &c->max_total_output) < 0 ||
	    yc_int(yc, m, "max_ops_per_client", P, 1, 65536, &c->max_ops_per_client) < 0 ||
	    yc_int(yc, m, "max_ops_per_identity", P, 1, 1000000, &c->max_ops_per_identity) < 0 ||
	    yc_int(yc, m, "max_ops_per_address", P, 1, 1000000, &c->max_ops_per_address) < 0 ||
	    yc_int(yc, m, "max_connections", P, 1, 1000000, &c->max_connections) < 0 ||
	    yc_seconds(yc, m, "idle_timeout", P, 0, 86400 * 7, &c->idle_timeout) < 0 ||
	    yc_seconds(yc, m, "bind_timeout", P, 0.1, 600, &c->bind_timeout) < 0 ||
	    yc_size(yc, m, "max_unbound_pdu_size", P, 1024, (size_t)1 << 30, &c->max_unbound_pdu_size) < 0 ||
	    yc_seconds(yc, m, "unbound_timeout", P, 0, 86400, &c->unbound_timeout) < 0 ||
	    yc_int(yc, m, "max_connections_per_address", P, 1, 1000000, &c->max_connections_per_address) < 0 ||
	    yc_int(yc, m, "account_failures_delay", P, 1, 1000000, &c->account_failures_delay) < 0 ||
	    yc_int(yc, m, "address_failures_delay", P, 1, 1000000, &c->address_failures_delay) < 0 ||
	    yc_int(yc, m, "address_failures_block", P, 1, 1000000, &c->address_failures_block) < 0 ||
	    yc_seconds(yc, m, "address_block_time", P, 0, 86400, &c->address_block_time) < 0 ||
	    yc_int(yc, m, "max_binds_per_second", P, 0, 1000000, &c->max_binds_per_second) < 0 ||
	    yc_int(yc, m, "max_bulk_searches", P, 0, 100000, &c->max_bulk_searches) < 0 ||
	    yc_int(yc, m, "max_bulk_searches_per_client", P, 1, 100000, &c->max_bulk_searches_per_client) < 0) ? -1 : 0;
}

/* One of names (NULL-terminated) at map.key: its index in *out, left alone when the key is absent. */
static int
yc_choice(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *parent, const char *const *names,
    const char *hint, int *out)
{
	char *v = NULL, path[128];
	snprintf(path, sizeof(path), "%s.%s", parent, key);
	if (yc_str(yc, map, key, parent, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			free(v);
			return 0;
		}
	free(v);
	return yc_error(yc, yc_get(yc, map, key), path, "must be %s", hint);
}

static int
parse_facility(struct yamlcfg *yc, yaml_node_t *map, const char *parent, int *out)
{
	static const char *const names[] = { "auth", "authpriv", "daemon", "user", "local0", "local1", "local2",
		"local3", "local4", "local5", "local6", "local7", NULL };
	static const int values[] = { LOG_AUTH, LOG_AUTHPRIV, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
		LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7 };
	int i = -1;
	if (yc_choice(yc, map, "facility", parent, names, "one of auth, authpriv, daemon, user, local0 … local7", &i) < 0)
		return -1;
	if (i >= 0)
		*out = values[i];
	return 0;
}

static int
parse_mode(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *parent, int *out)
{
	char *mode = NULL, path[128];
	snprintf(path, sizeof(path), "%s.%s", parent, key);
	if (yc_str(yc, map, key, parent, &mode) < 0)
		return -1;
	if (mode == NULL)
		return 0;
	char *end;
	long m = strtol(mode, &end, 8);
	int bad = *end != '\0' || m < 0 || m > 0777;
	free(mode);
	if (bad)
		return yc_error(yc, yc_get(yc, map, key), path, "must be an octal mode such as \"0660\"");
	*out = (int)m;
	return 0;
}

static int
parse_control(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "socket", "mode", "group", "readonly_socket", "readonly_mode",
		"readonly_group", NULL };
	yaml_node_t *m = yc_get(yc, root, "control");
	if (m == NULL)
		return 0;
	if (yc_check_keys(yc, m, "control", keys) < 0 || yc_str(yc, m, "socket", "control", &c->control_socket) < 0 ||
	    parse_mode(yc, m, "mode", "control", &c->control_mode) < 0 ||
	    yc_str(yc, m, "group", "control", &c->control_group) < 0 ||
	    yc_str(yc, m, "readonly_group", "control", &c->control_ro_group) < 0 ||
	    yc_str(yc, m, "readonly_socket", "control", &c->control_ro_socket) < 0 ||
	    parse_mode(yc, m, "readonly_mode", "control", &c->control_ro_mode) < 0)
		return -1;
	c->control_line = yc_line(yc_get(yc, m, "socket"));
	c->control_ro_line = yc_line(yc_get(yc, m, "readonly_socket"));
	c->control_group_line = yc_line(yc_get(yc, m, "group"));
	c->control_ro_group_line = yc_line(yc_get(yc, m, "readonly_group"));
	const char *gk[] = { "group", "readonly_group" }, *gv[] = { c->control_group, c->control_ro_group };
	for (int i = 0; i < 2; i++)
		if (gv[i] != NULL && getgrnam(gv[i]) == NULL)
			return yc_error(yc, yc_get(yc, m, gk[i]), i ? "control.readonly_group" : "control.group",
			    "no group named '%s' on this system", gv[i]);
	if (c->control_socket != NULL && c->control_ro_socket != NULL &&
	    strcmp(c->control_socket, c->control_ro_socket) == 0)
		return yc_error(yc, yc_get(yc, m, "readonly_socket"), "control.readonly_socket",
		    "must differ from control.socket");
	return 0;
}

/* metrics.listen: HOST:PORT on a loopback address, [::1]:PORT for IPv6 */
static int
parse_metrics(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "listen", NULL };
	yaml_node_t *m = yc_get(yc, root, "metrics");
	if (m == NULL)
		return 0;
	if (yc_check_keys(yc, m, "metrics", keys) < 0 || yc_str(yc, m, "listen", "metrics", &c->metrics_listen) < 0)
		return -1;
	if (c->metrics_listen == NULL)
		return 0;
	c->metrics_line = yc_line(yc_get(yc, m, "listen"));
	const char *s = c->metrics_listen, *colon = strrchr(s, ':');
	char host[64];
	size_t hl = colon ? (size_t)(colon - s) : 0;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || hl == 0 || hl >= sizeof(host) || *end != '\0' || port < 1 || port > 65535)
		return yc_error(yc, yc_get(yc, m, "listen"), "metrics.listen", "must be HOST:PORT, such as 127.0.0.1:9489");
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (strncmp(host, "127.", 4) != 0 && strcmp(host, "::1") != 0)
		return yc_error(yc, yc_get(yc, m, "listen"), "metrics.listen",
		    "'%s' is not a loopback address: the metrics have no authentication, so they stay on 127.0.0.0/8 or ::1",
		    host);
	snprintf(c->metrics_host, sizeof(c->metrics_host), "%s", host);
	c->metrics_port = (int)port;
	return 0;
}

static int
parse_audit(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "target", "format", "facility", "file", NULL };
	static const char *const targets[] = { "off", "syslog", "file", NULL };
	static const char *const formats[] = { "json", "cef", NULL };
	yaml_node_t *m = yc_get(yc, root, "audit");
	if (m == NULL)
		return 0;
	if (yc_check_keys(yc, m, "audit", keys) < 0 ||
	    yc_choice(yc, m, "target", "audit", targets, "syslog, file or off", &c->audit_target) < 0 ||
	    yc_choice(yc, m, "format", "audit", formats, "json or cef", &c->audit_cef) < 0 ||
	    parse_facility(yc, m, "audit", &c->audit_facility) < 0 ||
	    yc_str(yc, m, "file", "audit", &c->audit_file) < 0)
		return -1;
	if (c->audit_target == AUDIT_TO_FILE && c->audit_file == NULL)
		return yc_error(yc, yc_get(yc, m, "target"), "audit.file", "audit.target: file needs the path of the audit file");
	c->audit_file_line = yc_line(yc_get(yc, m, "file"));
	if (c->audit_file != NULL && c->audit_file[0] != '/')
		return yc_error(yc, yc_get(yc, m, "file"), "audit.file", "must be an absolute path");
	return 0;
}

static int
parse_log(struct yamlcfg *yc, struct config *c, yaml_node_t *root)
{
	static const char *const keys[] = { "level", "target", "facility", NULL };
	yaml_node_t *m = yc_get(yc, root, "log");
	if (m == NULL)
		return 0;
	if (parse_facility(yc, m, "log", &c->log_facility) < 0)
		return -1;
	char *level = NULL;
	if (yc_check_keys(yc, m, "log", keys) < 0 || yc_str(yc, m, "target", "log", &c->log_target) < 0 ||
	    yc_str(yc, m, "level", "log", &level) < 0) {
		free(level);
		return -1;
	}
	if (level != NULL) {
		c->log_level = log_level_parse(level);
		free(level);
		if (c->log_level < 0)
			return yc_error(yc, yc_get(yc, m, "level"), "log.level",
			    "must be one of error, warning, notice, info, debug");
	}
	if (c->log_target != NULL && strcmp(c->log_target, "stderr") != 0 && strcmp(c->log_target, "syslog") != 0)
		return yc_error(yc, yc_get(yc, m, "target"), "log.target", "must be stderr or syslog");
	return 0;
}

int
config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	static const char *const keys[] = { "listeners", "tls", "backend", "limits", "profiles_dir", "profiles_strict",
		"log", "control", "metrics", "audit", NULL };
	struct yamlcfg yc;
	struct config *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	config_defaults(c);
	c->path = strdup(path);
	int rc = -1;
	if (yc_load(&yc, path, err, errlen) < 0)
		goto out;
	yaml_node_t *root = yc_root(&yc);
	if (yc_check_keys(&yc, root, "", keys) < 0 || parse_listeners(&yc, c, root) < 0 ||
	    parse_tls(&yc, c, root) < 0 || parse_backend(&yc, c, root) < 0 ||
	    parse_limits(&yc, c, root) < 0 || parse_log(&yc, c, root) < 0 ||
	    yc_str(&yc, root, "profiles_dir", "", &c->profiles_dir) < 0 ||
	    yc_bool(&yc, root, "profiles_strict", "", &c->profiles_strict) < 0)
		goto out;
	c->profiles_strict_line = yc_line(yc_get(&yc, root, "profiles_strict"));
	int need_tls = 0;
	for (size_t i = 0; i < c->nlisteners; i++)
		need_tls |= c->listeners[i].parsed.tls;
	if (need_tls && (c->tls_cert == NULL || c->tls_key == NULL)) {
		yc_error(&yc, yc_get(&yc, root, "tls") ? yc_get(&yc, root, "tls") : root, "tls.certificate",
		    "an ldaps:// listener needs tls.certificate and tls.key");
		goto out;
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		yc_error(&yc, yc_get(&yc, root, "tls"), "tls.key", "certificate and key go together");
		goto out;
	}
	if (c->profiles_dir == NULL) {
		yc_error(&yc, root, "profiles_dir", "a profile directory is required");
		goto out;
	}
	if (parse_control(&yc, c, root) < 0 || parse_metrics(&yc, c, root) < 0 || parse_audit(&yc, c, root) < 0)
		goto out;
	rc = 0;
out:
	yc_free(&yc);
	if (rc < 0)
		config_free(c);
	else
		*out = c;
	return rc;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlisteners; i++) {
		free(c->listeners[i].url);
		free(c->listeners[i].profile);
	}
	free(c->listeners);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ciphers);
	yc_strlist_free(c->servers, c->nservers);
	free(c->server_urls);
	free(c->server_priority);
	free(c->client_cert);
	free(c->client_key);
	free(c->ca_file);
	free(c->ca_dir);
	free(c->bind_dn);
	free(c->principal);
	free(c->keytab);
	free(c->ccache);
	free(c->password_file);
	if (c->bind_password != NULL) {
		explicit_bzero(c->bind_password, strlen(c->bind_password));
		free(c->bind_password);
	}
	free(c->profiles_dir);
	free(c->control_socket);
	free(c->control_ro_socket);
	free(c->control_group);
	free(c->control_ro_group);
	free(c->metrics_listen);
	free(c->audit_file);
	free(c->log_target);
	free(c->path);
	free(c);
}
