/*
 * test_config.c — unit tests for config_load() and url_parse().
 *
 * Every test runs in its own temporary directory holding the YAML file
 * and a 0600 password file.  Error tests check the whole message prefix
 * "FILE:LINE: key 'a.b': " so a wrong line number or key is caught.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"

struct env {
	char dir[64];
	char cfg[128];
	char pw[128];
	char err[1024];
};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/aldcfg.XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(e->cfg, sizeof(e->cfg), "%s/aldproxy.yaml", e->dir);
	/* the password file comes from mkstemp: 0600 from birth */
	snprintf(e->pw, sizeof(e->pw), "%s/bind.XXXXXX", e->dir);
	int fd = mkstemp(e->pw);
	if (fd < 0)
		return -1;
	if (write(fd, "s3cret\n", 7) != 7)
		return -1;
	close(fd);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	DIR *d = opendir(e->dir);
	if (d != NULL) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char p[512];
			snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(e->dir);
	free(e);
	return 0;
}

/* Writes the config with @PW@ replaced by the password file path. */
static void
write_cfg(struct env *e, const char *yaml)
{
	char buf[8192];
	size_t o = 0;
	for (const char *p = yaml; *p != '\0';) {
		if (strncmp(p, "@PW@", 4) == 0) {
			size_t n = strlen(e->pw);
			assert_true(o + n < sizeof(buf));
			memcpy(buf + o, e->pw, n);
			o += n;
			p += 4;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			size_t n = strlen(e->dir);
			assert_true(o + n < sizeof(buf));
			memcpy(buf + o, e->dir, n);
			o += n;
			p += 5;
		} else {
			assert_true(o + 1 < sizeof(buf));
			buf[o++] = *p++;
		}
	}
	buf[o] = '\0';
	write_file(e->cfg, buf, 0644);
}

static struct config *
load_ok(struct env *e, const char *yaml)
{
	struct config *c = NULL;
	write_cfg(e, yaml);
	e->err[0] = '\0';
	if (config_load(e->cfg, &c, e->err, sizeof(e->err)) != 0)
		fail_msg("config_load failed: %s", e->err);
	assert_non_null(c);
	assert_string_equal(c->path, e->cfg);
	return c;
}

/* The message must start "FILE:LINE: key 'KEY': " and mention what. */
static void
load_fails(struct env *e, const char *yaml, int line, const char *key, const char *what)
{
	struct config *c = (struct config *)0x1;
	write_cfg(e, yaml);
	e->err[0] = '\0';
	assert_int_equal(config_load(e->cfg, &c, e->err, sizeof(e->err)), -1);
	assert_ptr_equal(c, (struct config *)0x1);     /* *out untouched */
	char prefix[512];
	if (key != NULL)
		snprintf(prefix, sizeof(prefix), "%s:%d: key '%s': ", e->cfg, line, key);
	else
		snprintf(prefix, sizeof(prefix), "%s:%d:", e->cfg, line);
	if (strncmp(e->err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", e->err, prefix);
	if (what != NULL && strstr(e->err, what) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", e->err, what);
}

/* The smallest valid config: lines 1-9. */
#define MIN_LISTENERS "listeners:\n  - ldap://127.0.0.1:3389\n"
#define MIN_BACKEND_HEAD "backend:\n  servers: ldap://dc1.ald.test\n  starttls: false\n"
#define MIN_BACKEND_AUTH "  bind_dn: uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test\n  password_file: @PW@\n"
#define MIN_PROFILES "profiles_dir: /etc/aldproxy/profiles.d\n"
#define MINIMAL MIN_LISTENERS MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES
/* 1 listeners, 2 item, 3 backend, 4 servers, 5 starttls, 6 bind_dn,
 * 7 password_file, 8 profiles_dir; additions start at line 9 */

/* ------------------------------------------------------------------ */
/* valid configurations                                                */

static void
test_full_config(void **state)
{
	struct env *e = *state;
	/* ctest sets TEST_DATA; run by hand, fall back to next to this file */
	const char *data = getenv("TEST_DATA");
	char path[512];
	if (data != NULL) {
		snprintf(path, sizeof(path), "%s/config_full.yaml", data);
	} else {
		const char *slash = strrchr(__FILE__, '/');
		int dl = slash ? (int)(slash - __FILE__) : 1;
		snprintf(path, sizeof(path), "%.*s/data/config_full.yaml", dl, slash ? __FILE__ : ".");
	}
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char tmpl[8192];
	size_t n = fread(tmpl, 1, sizeof(tmpl) - 1, fp);
	fclose(fp);
	tmpl[n] = '\0';
	/* the template names @DIR@/bind.pw */
	char pw[256];
	snprintf(pw, sizeof(pw), "%s/bind.pw", e->dir);
	write_file(pw, "Pa55 word with spaces\nignored second line\n", 0600);

	struct config *c = load_ok(e, tmpl);
	assert_int_equal(c->nlisteners, 3);
	assert_string_equal(c->listeners[0].url, "ldap://127.0.0.1:3389");
	assert_int_equal(c->listeners[0].parsed.tls, 0);
	assert_string_equal(c->listeners[0].parsed.host, "127.0.0.1");
	assert_int_equal(c->listeners[0].parsed.port, 3389);
	assert_null(c->listeners[0].profile);
	assert_int_equal(c->listeners[0].line, 3);
	assert_string_equal(c->listeners[1].parsed.host, "::1");
	assert_int_equal(c->listeners[1].parsed.port, 3636);
	assert_int_equal(c->listeners[1].parsed.tls, 1);
	assert_string_equal(c->listeners[1].profile, "mail");
	assert_int_equal(c->listeners[1].line, 4);
	assert_string_equal(c->listeners[2].url, "ldap://0.0.0.0");
	assert_int_equal(c->listeners[2].parsed.port, 389);
	assert_null(c->listeners[2].profile);

	assert_string_equal(c->tls_cert, "/etc/aldproxy/cert.pem");
	assert_string_equal(c->tls_key, "/etc/aldproxy/key.pem");
	assert_string_equal(c->tls_ciphers, "HIGH:!aNULL");
	assert_int_equal(c->tls_min_version, 13);
	assert_int_equal(c->require_tls, 1);

	assert_int_equal(c->nservers, 2);
	assert_string_equal(c->servers[0], "ldaps://dc1.ald.test");
	assert_int_equal(c->server_urls[0].tls, 1);
	assert_int_equal(c->server_urls[0].port, 636);
	assert_string_equal(c->server_urls[0].host, "dc1.ald.test");
	assert_string_equal(c->servers[1], "ldap://dc2.ald.test:1389");
	assert_int_equal(c->server_urls[1].tls, 0);
	assert_int_equal(c->server_urls[1].port, 1389);
	assert_int_equal(c->starttls, 1);
	assert_string_equal(c->ca_file, "/etc/ipa/ca.crt");
	assert_string_equal(c->ca_dir, "/etc/ssl/certs");
	assert_int_equal(c->tls_verify, 1);
	assert_string_equal(c->bind_dn, "uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test");
	assert_string_equal(c->password_file, pw);
	assert_string_equal(c->bind_password, "Pa55 word with spaces");
	assert_int_equal(c->pool_size, 8);
	assert_int_equal(c->bind_pool_size, 2);
	assert_int_equal(c->paged_pool_size, 0);
	assert_int_equal(c->max_ops_per_connection, 1000);
	assert_true(c->connect_timeout == 2.5);
	assert_true(c->operation_timeout == 30);
	assert_true(c->reconnect_min == 0.25);
	assert_true(c->reconnect_max == 60);

	assert_int_equal(c->max_pdu_size, 2 * 1024 * 1024);
	assert_int_equal(c->max_client_output, 512 * 1024);
	assert_int_equal(c->max_ops_per_client, 100);
	assert_int_equal(c->max_connections, 5000);
	assert_true(c->idle_timeout == 0);
	assert_true(c->bind_timeout == 1.5);
	assert_string_equal(c->profiles_dir, "/etc/aldproxy/profiles.d");
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_string_equal(c->log_target, "syslog");
	config_free(c);
}

static void
test_defaults(void **state)
{
	struct env *e = *state;
	struct config *c = load_ok(e,
	    MIN_LISTENERS
	    "backend:\n"
	    "  servers: ldap://dc1.ald.test\n"
	    "  ca_file: /etc/ipa/ca.crt\n"
	    MIN_BACKEND_AUTH
	    MIN_PROFILES);
	assert_int_equal(c->nlisteners, 1);
	assert_null(c->listeners[0].profile);
	assert_null(c->tls_cert);
	assert_null(c->tls_key);
	assert_null(c->tls_ciphers);
	assert_int_equal(c->tls_min_version, 12);
	assert_int_equal(c->require_tls, 0);
	assert_int_equal(c->nservers, 1);
	assert_int_equal(c->server_urls[0].port, 389);
	assert_int_equal(c->starttls, 1);
	assert_int_equal(c->tls_verify, 1);
	assert_null(c->ca_dir);
	assert_string_equal(c->bind_password, "s3cret");
	assert_int_equal(c->pool_size, 4);
	assert_int_equal(c->bind_pool_size, 4);
	assert_int_equal(c->paged_pool_size, 8);
	assert_int_equal(c->max_ops_per_connection, 256);
	assert_true(c->connect_timeout == 5);
	assert_true(c->operation_timeout == 60);
	assert_true(c->reconnect_min == 0.2);
	assert_true(c->reconnect_max == 30);
	assert_int_equal(c->max_pdu_size, 1024 * 1024);
	assert_int_equal(c->max_client_output, 8 * 1024 * 1024);
	assert_int_equal(c->max_ops_per_client, 256);
	assert_int_equal(c->max_connections, 10000);
	assert_true(c->idle_timeout == 900);
	assert_true(c->bind_timeout == 10);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_null(c->log_target);
	config_free(c);
}

static void
test_minimal_no_tls(void **state)
{
	struct env *e = *state;
	/* plain ldap:// with starttls off needs no CA */
	struct config *c = load_ok(e, MINIMAL);
	assert_int_equal(c->starttls, 0);
	assert_null(c->ca_file);
	config_free(c);
}

static void
test_tls_verify_off_needs_no_ca(void **state)
{
	struct env *e = *state;
	struct config *c = load_ok(e,
	    MIN_LISTENERS
	    "backend:\n"
	    "  servers: ldaps://dc1.ald.test\n"
	    "  tls_verify: false\n"
	    MIN_BACKEND_AUTH
	    MIN_PROFILES);
	assert_int_equal(c->tls_verify, 0);
	assert_int_equal(c->server_urls[0].tls, 1);
	config_free(c);
}

static void
test_password_first_line_crlf(void **state)
{
	struct env *e = *state;
	write_file(e->pw, "line1\r\nline2\n", 0600);
	struct config *c = load_ok(e, MINIMAL);
	assert_string_equal(c->bind_password, "line1");
	config_free(c);
}

static void
test_password_no_newline(void **state)
{
	struct env *e = *state;
	write_file(e->pw, "nonl", 0400);
	struct config *c = load_ok(e, MINIMAL);
	assert_string_equal(c->bind_password, "nonl");
	config_free(c);
}

static void
test_sizes(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *text;
		size_t value;
	} cases[] = {
		{ "1024", 1024 }, { "64k", 64 * 1024 }, { "64K", 64 * 1024 }, { "3m", 3 * 1024 * 1024 },
		{ "3M", 3 * 1024 * 1024 }, { "1g", 1024 * 1024 * 1024 }, { "16kb", 16 * 1024 },
		{ "2MB", 2 * 1024 * 1024 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[1024];
		snprintf(yaml, sizeof(yaml), MINIMAL "limits:\n  max_pdu_size: %s\n", cases[i].text);
		struct config *c = load_ok(e, yaml);
		assert_int_equal(c->max_pdu_size, cases[i].value);
		config_free(c);
	}
}

static void
test_seconds(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *text;
		double value;
	} cases[] = {
		{ "1", 1 }, { "0.5", 0.5 }, { "0.5s", 0.5 }, { "2.25s", 2.25 }, { "600", 600 }, { "0.1", 0.1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[1024];
		snprintf(yaml, sizeof(yaml), MINIMAL "limits:\n  bind_timeout: %s\n", cases[i].text);
		struct config *c = load_ok(e, yaml);
		assert_true(c->bind_timeout == cases[i].value);
		config_free(c);
	}
}

static void
test_bool_spellings(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *text;
		int value;
	} cases[] = {
		{ "true", 1 }, { "True", 1 }, { "yes", 1 }, { "on", 1 }, { "false", 0 }, { "FALSE", 0 },
		{ "no", 0 }, { "off", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[1024];
		snprintf(yaml, sizeof(yaml), MINIMAL "tls:\n  require_tls: %s\n", cases[i].text);
		struct config *c = load_ok(e, yaml);
		assert_int_equal(c->require_tls, cases[i].value);
		config_free(c);
	}
}

static void
test_log_warn_alias(void **state)
{
	struct env *e = *state;
	struct config *c = load_ok(e, MINIMAL "log:\n  level: warn\n  target: stderr\n");
	assert_int_equal(c->log_level, LOG_LVL_WARNING);
	assert_string_equal(c->log_target, "stderr");
	config_free(c);
}

static void
test_servers_single_scalar(void **state)
{
	struct env *e = *state;
	struct config *c = load_ok(e, MINIMAL);
	assert_int_equal(c->nservers, 1);
	assert_string_equal(c->servers[0], "ldap://dc1.ald.test");
	config_free(c);
}

static void
test_same_port_different_hosts(void **state)
{
	struct env *e = *state;
	struct config *c = load_ok(e,
	    "listeners:\n  - ldap://127.0.0.1:3389\n  - ldap://[::1]:3389\n"
	    MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES);
	assert_int_equal(c->nlisteners, 2);
	config_free(c);
}

static void
test_config_free_null(void **state)
{
	(void)state;
	config_free(NULL);
}

/* ------------------------------------------------------------------ */
/* errors: unknown and duplicate keys                                  */

static void
test_err_unknown_top_level_key(void **state)
{
	load_fails(*state, MINIMAL "frontend:\n  x: 1\n", 9, "frontend", "unknown key");
}

static void
test_err_unknown_backend_key(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  colour: red\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    6, "backend.colour", "unknown key");
}

static void
test_err_unknown_limits_key(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_pdu_size: 1m\n  max_pdus: 3\n", 11, "limits.max_pdus",
	    "unknown key");
}

static void
test_err_unknown_listener_key(void **state)
{
	load_fails(*state,
	    "listeners:\n  - url: ldap://127.0.0.1:3389\n    port: 3389\n"
	    MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    3, "listeners[0].port", "unknown key");
}

static void
test_err_duplicate_key(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD MIN_BACKEND_AUTH "  bind_dn: cn=other\n" MIN_PROFILES,
	    8, "backend.bind_dn", "twice");
}

/* ------------------------------------------------------------------ */
/* errors: bad values                                                  */

static void
test_err_bad_integer(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  pool_size: four\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    6, "backend.pool_size", "'four'");
}

static void
test_err_integer_trailing_text(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  pool_size: 4x\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    6, "backend.pool_size", "integer");
}

static void
test_err_integer_too_large(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  pool_size: 257\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    6, "backend.pool_size", "from 1 to 256");
}

static void
test_err_integer_too_small(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_ops_per_client: 0\n", 10, "limits.max_ops_per_client",
	    "from 1 to 65536");
}

static void
test_err_integer_overflow(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_connections: 99999999999999999999999\n", 10,
	    "limits.max_connections", "integer");
}

static void
test_err_bad_bool(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS "backend:\n  servers: ldap://dc1.ald.test\n  starttls: maybe\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    5, "backend.starttls", "true or false");
}

static void
test_err_bad_size(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_pdu_size: 12q\n", 10, "limits.max_pdu_size", "'12q'");
}

static void
test_err_size_negative(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_pdu_size: -1m\n", 10, "limits.max_pdu_size", "size");
}

static void
test_err_size_too_small(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_pdu_size: 1000\n", 10, "limits.max_pdu_size", "size");
}

static void
test_err_size_too_large(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  max_pdu_size: 2g\n", 10, "limits.max_pdu_size", "size");
}

static void
test_err_size_overflow(void **state)
{
	/* multiplying by the suffix must not wrap around */
	load_fails(*state, MINIMAL "limits:\n  max_client_output: 18014398509481985k\n", 10,
	    "limits.max_client_output", "size");
}

static void
test_err_bad_seconds(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  idle_timeout: 5 minutes\n", 10, "limits.idle_timeout", "seconds");
}

static void
test_err_seconds_out_of_range(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  bind_timeout: 0.05\n", 10, "limits.bind_timeout", "seconds");
}

static void
test_err_seconds_nan(void **state)
{
	load_fails(*state, MINIMAL "limits:\n  bind_timeout: nan\n", 10, "limits.bind_timeout", "seconds");
}

static void
test_err_value_is_mapping(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD MIN_BACKEND_AUTH "  pool_size:\n    min: 1\n" MIN_PROFILES,
	    9, "backend.pool_size", "single value");
}

static void
test_err_section_not_mapping(void **state)
{
	load_fails(*state, MINIMAL "limits: 5\n", 9, "limits", "mapping");
}

/* ------------------------------------------------------------------ */
/* errors: listeners                                                   */

static void
test_err_listeners_not_list(void **state)
{
	load_fails(*state, "listeners: ldap://127.0.0.1:3389\n" MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    1, "listeners", "list");
}

static void
test_err_listeners_mapping(void **state)
{
	load_fails(*state, "listeners:\n  url: ldap://127.0.0.1:3389\n" MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    2, "listeners", "list");
}

static void
test_err_listeners_missing(void **state)
{
	load_fails(*state, MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES, 1, "listeners", "required");
}

static void
test_err_bad_listener_url(void **state)
{
	load_fails(*state,
	    "listeners:\n  - ldap://127.0.0.1:3389\n  - url: http://127.0.0.1:8080\n"
	    MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    3, "listeners[1]", "http://127.0.0.1:8080");
}

static void
test_err_bad_listener_port(void **state)
{
	load_fails(*state, "listeners:\n  - ldap://127.0.0.1:99999\n" MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    2, "listeners[0]", "bad port");
}

static void
test_err_listener_without_url(void **state)
{
	load_fails(*state, "listeners:\n  - profile: mail\n" MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    2, "listeners[0]", "url is required");
}

static void
test_err_duplicate_listener(void **state)
{
	load_fails(*state,
	    "listeners:\n  - ldap://127.0.0.1:3389\n  - ldap://192.0.2.1:3389\n  - url: ldaps://127.0.0.1:3389\n"
	    MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    4, "listeners[2]", "listeners[0]");
}

static void
test_err_duplicate_listener_default_port(void **state)
{
	/* ldap://h and ldap://h:389 are the same address */
	load_fails(*state,
	    "listeners:\n  - ldap://127.0.0.1\n  - ldap://127.0.0.1:389\n"
	    MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    3, "listeners[1]", "also listened on");
}

static void
test_err_ldaps_without_cert(void **state)
{
	load_fails(*state,
	    "listeners:\n  - ldaps://127.0.0.1:3636\n" MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES,
	    1, "tls.certificate", "ldaps://");
}

static void
test_err_ldaps_without_cert_tls_section(void **state)
{
	load_fails(*state,
	    "listeners:\n  - ldaps://127.0.0.1:3636\n" MIN_BACKEND_HEAD MIN_BACKEND_AUTH MIN_PROFILES
	    "tls:\n  min_version: \"1.2\"\n",
	    10, "tls.certificate", "tls.key");
}

static void
test_err_cert_without_key(void **state)
{
	load_fails(*state, MINIMAL "tls:\n  certificate: /etc/cert.pem\n", 10, "tls.key", "go together");
}

static void
test_err_bad_tls_min_version(void **state)
{
	load_fails(*state, MINIMAL "tls:\n  min_version: \"1.1\"\n", 10, "tls.min_version", "1.2");
}

/* ------------------------------------------------------------------ */
/* errors: backend                                                     */

static void
test_err_backend_missing(void **state)
{
	load_fails(*state, MIN_LISTENERS MIN_PROFILES, 1, "backend", "required");
}

static void
test_err_missing_servers(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS "backend:\n  starttls: false\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    4, "backend.servers", "at least one");
}

static void
test_err_empty_servers(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS "backend:\n  starttls: false\n  servers: []\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    5, "backend.servers", "at least one");
}

static void
test_err_bad_server_url(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS "backend:\n  starttls: false\n  servers:\n    - ldap://dc1\n    - dc2.ald.test\n"
	    MIN_BACKEND_AUTH MIN_PROFILES,
	    7, "backend.servers", "dc2.ald.test");  /* the line of the bad item */
}

static void
test_err_missing_bind_dn(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  password_file: @PW@\n" MIN_PROFILES,
	    4, "backend.bind_dn", "required");
}

static void
test_err_missing_password_file(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  bind_dn: cn=aldproxy\n" MIN_PROFILES,
	    4, "backend.password_file", "required");
}

static void
test_err_password_file_not_found(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  bind_dn: cn=aldproxy\n  password_file: @DIR@/nonexistent\n" MIN_PROFILES,
	    7, "backend.password_file", "cannot open");
}

static void
test_err_password_file_world_readable(void **state)
{
	struct env *e = *state;
	assert_int_equal(chmod(e->pw, 0644), 0);
	load_fails(e, MINIMAL, 7, "backend.password_file", "chmod 600");
	/* the file name is in the message too */
	assert_non_null(strstr(e->err, e->pw));
}

static void
test_err_password_file_group_readable(void **state)
{
	struct env *e = *state;
	assert_int_equal(chmod(e->pw, 0640), 0);
	load_fails(e, MINIMAL, 7, "backend.password_file", "group or others");
}

static void
test_err_password_file_world_writable_only(void **state)
{
	struct env *e = *state;
	assert_int_equal(chmod(e->pw, 0602), 0);
	load_fails(e, MINIMAL, 7, "backend.password_file", "group or others");
}

static void
test_err_password_file_directory(void **state)
{
	struct env *e = *state;
	char sub[256];
	snprintf(sub, sizeof(sub), "%s/pwdir", e->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	load_fails(e,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  bind_dn: cn=aldproxy\n  password_file: @DIR@/pwdir\n" MIN_PROFILES,
	    7, "backend.password_file", "regular file");
}

static void
test_err_password_file_empty(void **state)
{
	struct env *e = *state;
	write_file(e->pw, "", 0600);
	load_fails(e, MINIMAL, 7, "backend.password_file", "no password");
}

static void
test_err_password_file_blank_first_line(void **state)
{
	struct env *e = *state;
	write_file(e->pw, "\nsecret-on-line-2\n", 0600);
	load_fails(e, MINIMAL, 7, "backend.password_file", "no password");
}

static void
test_err_ca_required(void **state)
{
	/* starttls is on by default and certificates are verified */
	load_fails(*state,
	    MIN_LISTENERS "backend:\n  servers: ldap://dc1.ald.test\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    4, "backend.ca_file", "CA");
}

static void
test_err_reconnect_max_below_min(void **state)
{
	load_fails(*state,
	    MIN_LISTENERS MIN_BACKEND_HEAD "  reconnect_min: 5\n  reconnect_max: 2\n" MIN_BACKEND_AUTH MIN_PROFILES,
	    7, "backend.reconnect_max", "reconnect_min");
}

/* ------------------------------------------------------------------ */
/* errors: log, profiles_dir, file level                               */

static void
test_err_bad_log_level(void **state)
{
	load_fails(*state, MINIMAL "log:\n  target: stderr\n  level: verbose\n", 11, "log.level", "debug");
}

static void
test_err_bad_log_target(void **state)
{
	load_fails(*state, MINIMAL "log:\n  target: /var/log/aldproxy.log\n", 10, "log.target", "syslog");
}

static void
test_err_missing_profiles_dir(void **state)
{
	load_fails(*state, MIN_LISTENERS MIN_BACKEND_HEAD MIN_BACKEND_AUTH, 1, "profiles_dir", "required");
}

static void
test_err_yaml_syntax(void **state)
{
	struct env *e = *state;
	load_fails(e,
	    MIN_LISTENERS
	    "backend:\n"
	    "  servers: ldap://dc1.ald.test\n"
	    "  bind_dn: cn=a: b\n"
	    MIN_PROFILES,
	    5, NULL, "YAML syntax error");
}

static void
test_err_yaml_unclosed_flow(void **state)
{
	struct env *e = *state;
	load_fails(e,
	    MIN_LISTENERS
	    "backend:\n"
	    "  servers: [ldap://dc1.ald.test\n"
	    "  bind_dn: cn=x\n",
	    5, NULL, "YAML syntax error");
}

static void
test_err_top_level_not_mapping(void **state)
{
	load_fails(*state, "- listeners\n- backend\n", 1, NULL, "mapping");
}

static void
test_err_empty_document(void **state)
{
	struct env *e = *state;
	struct config *c = NULL;
	write_cfg(e, "");
	assert_int_equal(config_load(e->cfg, &c, e->err, sizeof(e->err)), -1);
	assert_null(c);
	assert_non_null(strstr(e->err, e->cfg));
	assert_non_null(strstr(e->err, "empty"));
}

static void
test_err_missing_file(void **state)
{
	struct env *e = *state;
	struct config *c = NULL;
	char path[256];
	snprintf(path, sizeof(path), "%s/nope.yaml", e->dir);
	assert_int_equal(config_load(path, &c, e->err, sizeof(e->err)), -1);
	assert_null(c);
	assert_non_null(strstr(e->err, path));
	assert_non_null(strstr(e->err, "cannot open"));
}

static void
test_err_small_buffer(void **state)
{
	/* a short error buffer is truncated, never overrun */
	struct env *e = *state;
	write_cfg(e, MINIMAL "frontend: 1\n");
	char small[16];
	memset(small, 'Z', sizeof(small));
	struct config *c = NULL;
	assert_int_equal(config_load(e->cfg, &c, small, 8), -1);
	assert_int_equal(strlen(small), 7);
	for (size_t i = 8; i < sizeof(small); i++)
		assert_int_equal(small[i], 'Z');
}

/* ------------------------------------------------------------------ */
/* url_parse                                                           */

static void
url_ok(const char *s, int tls, const char *host, int port)
{
	struct url u;
	char err[256];
	memset(&u, 0x5a, sizeof(u));
	if (url_parse(s, &u, err, sizeof(err)) != 0)
		fail_msg("url_parse(\"%s\"): %s", s, err);
	assert_int_equal(u.tls, tls);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
}

static void
url_bad(const char *s, const char *what)
{
	struct url u;
	char err[1024] = "";
	assert_int_equal(url_parse(s, &u, err, sizeof(err)), -1);
	if (strstr(err, what) == NULL)
		fail_msg("url_parse(\"%s\") error \"%s\" does not mention \"%s\"", s, err, what);
}

static void
test_url_default_ports(void **state)
{
	(void)state;
	url_ok("ldap://dc1.ald.test", 0, "dc1.ald.test", 389);
	url_ok("ldaps://dc1.ald.test", 1, "dc1.ald.test", 636);
	url_ok("ldap://dc1.ald.test/", 0, "dc1.ald.test", 389);
}

static void
test_url_scheme_case(void **state)
{
	(void)state;
	url_ok("LDAPS://DC1", 1, "DC1", 636);
	url_ok("Ldap://h", 0, "h", 389);
}

static void
test_url_explicit_port(void **state)
{
	(void)state;
	url_ok("ldap://127.0.0.1:3389", 0, "127.0.0.1", 3389);
	url_ok("ldaps://h:1", 1, "h", 1);
	url_ok("ldaps://h:65535/", 1, "h", 65535);
}

static void
test_url_ipv6(void **state)
{
	(void)state;
	url_ok("ldap://[::1]:3389", 0, "::1", 3389);
	url_ok("ldaps://[fe80::1%eth0]", 1, "fe80::1%eth0", 636);
	url_ok("ldap://[2001:db8::2]/", 0, "2001:db8::2", 389);
}

static void
test_url_bad_scheme(void **state)
{
	(void)state;
	url_bad("http://h", "ldap://");
	url_bad("ldapi://%2Frun%2Fslapd.sock", "ldap://");
	url_bad("ldap:/h", "ldap://");
	url_bad("h:389", "ldap://");
	url_bad("", "ldap://");
}

static void
test_url_bad_port(void **state)
{
	(void)state;
	url_bad("ldap://h:0", "bad port");
	url_bad("ldap://h:65536", "bad port");
	url_bad("ldap://h:-1", "bad port");
	url_bad("ldap://h:", "bad port");
	url_bad("ldap://h:38x", "bad port");
	url_bad("ldap://h:389/dc=x", "bad port");
	url_bad("ldap://[::1]:abc", "bad port");
}

static void
test_url_missing_host(void **state)
{
	(void)state;
	url_bad("ldap://", "host");
	url_bad("ldaps://:636", "host");
	url_bad("ldap:///", "host");
	url_bad("ldap://[]:389", "host");
}

static void
test_url_host_too_long(void **state)
{
	(void)state;
	char s[400];
	strcpy(s, "ldap://");
	memset(s + 7, 'h', 255);
	s[7 + 255] = '\0';
	struct url u;
	char err[512];
	assert_int_equal(url_parse(s, &u, err, sizeof(err)), 0);
	assert_int_equal(strlen(u.host), 255);
	memset(s + 7, 'h', 256);
	s[7 + 256] = '\0';
	url_bad(s, "too long");
}

static void
test_url_unterminated_ipv6(void **state)
{
	(void)state;
	url_bad("ldap://[::1:389", "unterminated");
}

static void
test_url_trailing_text(void **state)
{
	(void)state;
	url_bad("ldap://h/dc=ald,dc=test", "after the host");
	url_bad("ldap://[::1]x", "after the host");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_full_config),
		T(test_defaults),
		T(test_minimal_no_tls),
		T(test_tls_verify_off_needs_no_ca),
		T(test_password_first_line_crlf),
		T(test_password_no_newline),
		T(test_sizes),
		T(test_seconds),
		T(test_bool_spellings),
		T(test_log_warn_alias),
		T(test_servers_single_scalar),
		T(test_same_port_different_hosts),
		T(test_config_free_null),
		T(test_err_unknown_top_level_key),
		T(test_err_unknown_backend_key),
		T(test_err_unknown_limits_key),
		T(test_err_unknown_listener_key),
		T(test_err_duplicate_key),
		T(test_err_bad_integer),
		T(test_err_integer_trailing_text),
		T(test_err_integer_too_large),
		T(test_err_integer_too_small),
		T(test_err_integer_overflow),
		T(test_err_bad_bool),
		T(test_err_bad_size),
		T(test_err_size_negative),
		T(test_err_size_too_small),
		T(test_err_size_too_large),
		T(test_err_size_overflow),
		T(test_err_bad_seconds),
		T(test_err_seconds_out_of_range),
		T(test_err_seconds_nan),
		T(test_err_value_is_mapping),
		T(test_err_section_not_mapping),
		T(test_err_listeners_not_list),
		T(test_err_listeners_mapping),
		T(test_err_listeners_missing),
		T(test_err_bad_listener_url),
		T(test_err_bad_listener_port),
		T(test_err_listener_without_url),
		T(test_err_duplicate_listener),
		T(test_err_duplicate_listener_default_port),
		T(test_err_ldaps_without_cert),
		T(test_err_ldaps_without_cert_tls_section),
		T(test_err_cert_without_key),
		T(test_err_bad_tls_min_version),
		T(test_err_backend_missing),
		T(test_err_missing_servers),
		T(test_err_empty_servers),
		T(test_err_bad_server_url),
		T(test_err_missing_bind_dn),
		T(test_err_missing_password_file),
		T(test_err_password_file_not_found),
		T(test_err_password_file_world_readable),
		T(test_err_password_file_group_readable),
		T(test_err_password_file_world_writable_only),
		T(test_err_password_file_directory),
		T(test_err_password_file_empty),
		T(test_err_password_file_blank_first_line),
		T(test_err_ca_required),
		T(test_err_reconnect_max_below_min),
		T(test_err_bad_log_level),
		T(test_err_bad_log_target),
		T(test_err_missing_profiles_dir),
		T(test_err_yaml_syntax),
		T(test_err_yaml_unclosed_flow),
		T(test_err_top_level_not_mapping),
		T(test_err_empty_document),
		T(test_err_missing_file),
		T(test_err_small_buffer),
		T(test_url_default_ports),
		T(test_url_scheme_case),
		T(test_url_explicit_port),
		T(test_url_ipv6),
		T(test_url_bad_scheme),
		T(test_url_bad_port),
		T(test_url_missing_host),
		T(test_url_host_too_long),
		T(test_url_unterminated_ipv6),
		T(test_url_trailing_text),
	};
#undef T
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
