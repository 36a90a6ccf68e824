/*
 * config.h — aldproxy.yaml, parsed and checked.
 *
 * config_load() returns a complete, validated config or fails with
 * "FILE:LINE: key 'a.b': what is wrong" in err.  The config owns every
 * string in it; config_free() releases all of it and wipes the backend
 * password.  A running daemon holds exactly one config at a time.
 */
#ifndef ALDPROXY_CONFIG_H
#define ALDPROXY_CONFIG_H

#include <stddef.h>

/* An LDAP URL split into its parts: ldap://host:port or ldaps://[v6]:port. */
struct url {
	int tls;            /* 1 for ldaps:// */
	char host[256];     /* without brackets */
	int port;
};
int url_parse(const char *url, struct url *out, char *err, size_t errlen);
/* Listeners bind addresses, not names: 1 if the host is an IPv4 or IPv6 literal. */
int url_host_is_ip(const struct url *u);

struct listener_conf {
	char *url;
	struct url parsed;
	char *profile;      /* NULL: any profile, chosen by bind DN */
	int line;           /* for messages */
};

struct config {
	char *path;

	struct listener_conf *listeners;
	size_t nlisteners;

	/* front-end TLS */
	char *tls_cert, *tls_key, *tls_ciphers;
	int tls_min_version;    /* 12 or 13 */
	int tls_cert_line, tls_key_line, tls_ciphers_line, ca_line;   /* for messages */
	int require_tls;

	/* backend */
	char **servers;
	struct url *server_urls;
	int *server_priority;   /* lower is preferred (as in DNS SRV); default 0 */
	size_t nservers;
	char *client_cert, *client_key;     /* optional TLS client certificate to the directory */
	double probe_interval;  /* active health probe of idle connections; 0: off */
	int starttls;
	char *ca_file, *ca_dir;
	int tls_verify;
	int auth_gssapi;        /* backend.auth: gssapi (keytab) instead of simple */
	char *principal, *keytab, *ccache;
	char *bind_dn;
	char *password_file;
	char *bind_password;    /* read from password_file; wiped by config_free */
	long pool_size, bind_pool_size, paged_pool_size, max_ops_per_connection;
	double connect_timeout, operation_timeout, reconnect_min, reconnect_max;

	/* limits */
	size_t max_pdu_size, max_client_output;
	size_t max_total_output;            /* all clients' unread results together */
	long max_ops_per_client, max_connections;
	long max_ops_per_identity, max_ops_per_address;  /* in flight per bound identity / source address (share.c) */
	double idle_timeout, bind_timeout;
	/* before a successful bind (docs/security.md, "Hostile clients") */
	size_t max_unbound_pdu_size;        /* largest request before a bind */
	double unbound_timeout;             /* a connection must bind within this, from accept; 0: never */
	long max_connections_per_address;
	/* failed binds */
	long account_failures_delay;        /* failed binds of one account before its binds slow down */
	long address_failures_delay;        /* failed binds from one address before its binds slow down */
	long address_failures_block;        /* ... before it is refused binds */
	double address_block_time;          /* for how long */
	long max_binds_per_second;          /* binds sent to the directory; 0: no limit */
	/* fairness: searches that may return much (search.c, search_is_bulk()) */
	long max_bulk_searches;             /* in flight on the shared connections; 0: 2 x backend.pool_size */
	long max_bulk_searches_per_client;

	char *profiles_dir;
	int profiles_strict;        /* an ambiguous shared listener is an error, not a warning (load.c) */
	int profiles_strict_line;

	char *control_socket;       /* Unix socket for aldproxyctl; NULL: none */
	int control_mode;           /* its permission bits */

	char *control_group;        /* the admin socket's group (chgrp); NULL: the daemon's */
	int control_line, control_ro_line, control_group_line, control_ro_group_line, metrics_line, audit_file_line;
	char *control_ro_socket;    /* read-only twin: status, health, stats, metrics; NULL: none */
	int control_ro_mode;
	char *control_ro_group;

	char *metrics_listen;       /* "127.0.0.1:9489": Prometheus /metrics over HTTP; NULL: off */
	char metrics_host[64];
	int metrics_port;

	int audit_target;           /* AUDIT_TO_* */
	int audit_cef;              /* CEF instead of JSON */
	int audit_facility;         /* syslog facility (LOG_AUTHPRIV …) */
	char *audit_file;

	char *log_target;
	int log_level;
	int log_facility;
};

enum { AUDIT_TO_OFF, AUDIT_TO_SYSLOG, AUDIT_TO_FILE };

int  config_load(const char *path, struct config **out, char *err, size_t errlen);
void config_free(struct config *cfg);

#endif
