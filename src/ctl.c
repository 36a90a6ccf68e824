/*
 * ctl.c — aldproxyctl, the administrator's command-line tool.
 *
 *   check            the same checks as `aldproxyd -t`
 *   profiles         what the profile directory holds
 *   explain          how a profile rewrites a filter, a base, an attribute
 *                    list and a bind name — the first thing to reach for
 *                    when a product does not log in
 *   hash-password    a salted hash for a service account kept in a profile
 *
 *   status, health [--json]  the running daemon's verdict (exit 0 healthy,
 *                    1 degraded, 2 down or unreachable), over the control socket
 *   stats, backends, profiles-live, connections, metrics, reload
 *                    the same socket: JSON (metrics: Prometheus text) from the
 *                    running daemon; reload exits 1 with the error when the new
 *                    configuration is invalid
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <ldap.h>

#include "config.h"
#include "dn.h"
#include "filter.h"
#include "load.h"
#include "policy.h"
#include "profile.h"
#include "request.h"
#include "rewrite.h"
#include "select.h"
#include "version.h"
#include "visset.h"

#define DEFAULT_CONFIG "/etc/aldproxy/aldproxy.yaml"

static void
usage(void)
{
	fprintf(stderr, "usage: aldproxyctl [-c FILE] COMMAND [ARGS]\n"
	    "commands:\n"
	    "  check                          check the configuration and its profiles\n"
	    "  profiles                       list the profiles\n"
	    "  explain PROFILE FILTER [-b BASE] [-a ATTR,ATTR...] [--bind NAME [--from ADDR] [--sni NAME]]\n"
	    "                                 show how PROFILE rewrites a search (and a bind name, and which\n"
	    "                                 profile a listener without one gives it from ADDR with NAME)\n"
	    "  hash-password [pbkdf2|sha512|sha256]  read a password (stdin or prompt), print its hash\n"
	    "  status [--json]                the running daemon: version, uptime, health, profiles, clients\n"
	    "  health [--json]                the running daemon's health: exit 0 healthy, 1 degraded, 2 down\n"
	    "  stats | backends | connections | profiles-live\n"
	    "                                 JSON from the running daemon (control socket; -s PATH to name it)\n"
	    "  metrics                        the same in Prometheus text format\n"
	    "  reload                         re-read configuration and profiles; exit 1 and the error if invalid\n"
	    "  version                        print the version\n");
	exit(2);
}

static int
hash_password(int argc, char **argv)
{
	const char *scheme = argc > 0 ? argv[0] : "pbkdf2";
	const char *tag = strcmp(scheme, "pbkdf2") == 0 ? "PBKDF2-SHA512" : strcmp(scheme, "sha256") == 0 ? "SSHA256" :
	    strcmp(scheme, "sha512") == 0 ? "SSHA512" : NULL;
	if (tag == NULL) {
		fprintf(stderr, "aldproxyctl: hash-password: the scheme is pbkdf2 (the default), sha512 or sha256\n");
		return 2;
	}
	char pw[1024];
	struct termios old, quiet;
	int tty = isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		fprintf(stderr, "Password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	char *got = fgets(pw, sizeof(pw), stdin);
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (got == NULL) {
		fprintf(stderr, "aldproxyctl: hash-password: no password read\n");
		return 1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (pw[0] == '\0') {
		fprintf(stderr, "aldproxyctl: hash-password: empty passwords are not allowed\n");
		return 1;
	}
	char out[256];
	int rc = password_hash_make(tag, pw, strlen(pw), out, sizeof(out));
	explicit_bzero(pw, sizeof(pw));
	if (rc < 0) {
		fprintf(stderr, "aldproxyctl: hash-password: cannot hash\n");
		return 1;
	}
	printf("%s\n", out);
	return 0;
}

/* Sends one command to the control socket; the answer goes to *out (malloc'd). 0 or -1. */
static int
ask(const char *path, const char *cmd, char **out)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "aldproxyctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "aldproxyctl: cannot reach aldproxyd at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dprintf(fd, "%s\n", cmd);
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf != NULL && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (buf == NULL || len == 0) {
		fprintf(stderr, "aldproxyctl: no answer from aldproxyd at %s\n", path);
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* Prints the JSON string starting at v (its opening quote), unescaped; returns the character after it. */
static const char *
put_json_string(const char *v)
{
	const char *p = v + 1;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		putchar(*p == 'n' && p[-1] == '\\' ? ' ' : *p);
	}
	return *p ? p + 1 : p;
}

static int
remote(const char *path, const char *cmd, int json)
{
	char *ans;
	if (path == NULL) {
		fprintf(stderr, "aldproxyctl: no control socket: set control.socket in the configuration or use -s PATH\n");
		return 2;
	}
	if (ask(path, strcmp(cmd, "profiles-live") == 0 ? "profiles" : cmd, &ans) < 0)
		return 2;
	int rc = 0;
	if (strncmp(ans, "{\"error\":\"", 10) == 0) {
		/* the daemon's message, unescaped, on stderr */
		fprintf(stderr, "aldproxyctl: %s: ", cmd);
		for (const char *p = ans + 10; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			fputc(*p, stderr);
		}
		fputc('\n', stderr);
		free(ans);
		return 1;
	}
	if (strcmp(cmd, "status") == 0 && !json) {
		const char *k = strstr(ans, "\"code\":");
		rc = k ? atoi(k + 7) : 2;
		static const char *const fields[] = { "version", "pid", "uptime_seconds", "status", "config", "profiles",
			"clients", "operations_in_flight", "last_reload_error", NULL };
		for (const char *const *f = fields; *f; f++) {
			char key[64];
			snprintf(key, sizeof(key), "\"%s\":", *f);
			const char *v = strstr(ans, key);
			if (v == NULL)
				continue;
			v += strlen(key);
			int quoted = *v == '"';
			printf("%-22s %.*s\n", *f, (int)strcspn(v + quoted, quoted ? "\"" : ",}"), v + quoted);
		}
		free(ans);
		return rc;
	}
	if (strcmp(cmd, "health") == 0 || strcmp(cmd, "status") == 0) {
		/* both exit with the health verdict, with or without --json */
		const char *k = strstr(ans, "\"code\":");
		rc = k ? atoi(k + 7) : 2;
	}
	if (strcmp(cmd, "health") == 0) {
		if (!json) {
			const char *st = strstr(ans, "\"status\":\"");
			printf("aldproxyd: %.*s\n", st ? (int)strcspn(st + 10, "\"") : 7, st ? st + 10 : "unknown");
			/* one line per directory server */
			for (const char *u = strstr(ans, "\"url\":\""); u != NULL; u = strstr(u + 1, "\"url\":\"")) {
				const char *r = strstr(u, "\"ready\":"), *t = strstr(u, "\"connections\":");
				const char *e = strstr(u, "\"last_error\":");
				printf("  %.*s: %d of %d connections ready", (int)strcspn(u + 7, "\""), u + 7, r ? atoi(r + 8) : 0,
				    t ? atoi(t + 14) : 0);
				if (e != NULL && e[13] == '"') {
					fputs("; last error: ", stdout);
					put_json_string(e + 13);
				}
				putchar('\n');
			}
			/* what else is wrong, one line each */
			const char *pr = strstr(ans, "\"problems\":[");
			const char *v = pr ? pr + 12 : NULL;
			while (v != NULL && *v == '"') {
				fputs("  problem: ", stdout);
				v = put_json_string(v);
				putchar('\n');
				if (*v == ',')
					v++;
			}
			free(ans);
			return rc;
		}
	}
	fputs(ans, stdout);
	free(ans);
	return rc;
}

static int
explain(const struct profile_set *set, int argc, char **argv)
{
	if (argc < 2)
		usage();
	const struct profile *p = profile_find(set, argv[0]);
	if (p == NULL) {
		fprintf(stderr, "aldproxyctl: explain: no profile named '%s'\n", argv[0]);
		return 1;
	}
	const char *fstr = argv[1], *base = p->search_base, *attrs = NULL, *bind = NULL, *from = NULL, *sni = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--sni") == 0 && i + 1 < argc)
			sni = argv[++i];
		else if (strcmp(argv[i], "-a") == 0 && i + 1 < argc)
			attrs = argv[++i];
		else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
			bind = argv[++i];
		else
			usage();
	}
	struct arena a;
	if (arena_init(&a, 1 << 20) < 0)
		return 1;
	struct fnode *f;
	const char *perr;
	char buf[65536];
	printf("profile     %s (%s)\n", p->name, p->file);
	if (filter_parse(&a, fstr, &f, &perr) < 0) {
		fprintf(stderr, "aldproxyctl: explain: bad filter: %s\n", perr);
		arena_free(&a);
		return 1;
	}
	char nbase[DN_MAX];
	int nl = dn_normalize(base, strlen(base), nbase, sizeof(nbase));
	if (nl < 0 || !dn_is_under(nbase, (size_t)nl, p->search_base_norm, p->search_base_len))
		printf("base        %s\n            -> refused: outside search_base %s (noSuchObject)\n", base, p->search_base);
	else {
		char real[DN_MAX];
		rewrite_dn_in(p, base, strlen(base), real, sizeof(real));
		printf("base        %s\n            -> %s\n", base, real);
	}
	filter_print(f, buf, sizeof(buf));
	printf("filter      %s\n", buf);
	/* the daemon's own policy (policy.c); the visible users it reads from the directory are unknown here */
	if (p->vis != NULL)
		visset_assume_all(p->vis);
	char why[400];
	int code = policy_filter_check(p, f, why, sizeof(why));
	if (code != LDAP_SUCCESS)
		printf("            -> refused: %s (%s, %d)\n", why, ldap_err2string(code), code);
	else {
		struct fnode *g = rewrite_filter(p, &a, f, 1, NULL);
		if (g == NULL || filter_print(g, buf, sizeof(buf)) < 0)
			printf("            -> too large\n");
		else
			printf("            -> %s\n", buf);
	}
	if (attrs != NULL) {
		struct berval list[REQ_MAX_ATTRS];
		size_t n = 0;
		char *copy = strdup(attrs), *save, *tok;
		for (tok = strtok_r(copy, ",", &save); tok && n < REQ_MAX_ATTRS; tok = strtok_r(NULL, ",", &save)) {
			list[n].bv_val = tok;
			list[n++].bv_len = strlen(tok);
		}
		unsigned char enc[16384];
		struct want *w = NULL;
		printf("attributes  %s\n            ->", attrs);
		if ((code = policy_attrlist_check(list, n, why, sizeof(why))) != LDAP_SUCCESS) {
			printf(" refused: %s (%s, %d)\n", why, ldap_err2string(code), code);
			free(copy);
			n = 0;
			copy = NULL;
		}
		size_t el = copy ? rewrite_attrs(p, list, n, 0, enc, sizeof(enc), &w) : 0;
		/* the encoded SEQUENCE OF: print each OCTET STRING */
		for (size_t i = 2 + (enc[1] & 0x80 ? (enc[1] & 0x7f) : 0); el > 0 && i < el;) {
			size_t l = enc[i + 1];
			printf(" %.*s", (int)l, enc + i + 2);
			i += 2 + l;
		}
		if (copy != NULL)
			printf("\n");
		free(w);
		free(copy);
	}
	if (bind != NULL) {
		/* as on a listener of this profile: the daemon's own selection rules */
		char real[DN_MAX], lsni[SERVER_NAME_MAX] = "";
		for (size_t k = 0; sni != NULL && sni[k] && k + 1 < sizeof(lsni); k++)
			lsni[k] = (char)(sni[k] >= 'A' && sni[k] <= 'Z' ? sni[k] - 'A' + 'a' : sni[k]);
		struct bind_origin origin = { from, lsni[0] ? lsni : NULL };
		struct bind_choice ch;
		const struct profile *q = profile_select(set, p, NULL, &origin, bind, strlen(bind), real, sizeof(real), &ch);
		enum bind_role role = ch.role;
		const struct service_account *sa = ch.sa;
		if (q == NULL && ch.refused != NULL)
			printf("bind        %s\n            -> refused: clients does not hold %s (invalidCredentials, audit "
			    "reason client_address_not_allowed)\n", bind, from ? from : "an unknown address (--from ADDR)");
		else if (q == NULL)
			printf("bind        %s\n            -> refused: not a name this profile accepts (invalidCredentials)\n", bind);
		else if (sa != NULL && sa->hash != NULL)
			printf("bind        %s\n            -> service account checked against the profile's hash\n", bind);
		else {
			printf("bind        %s\n            -> %s (%s, password checked by the directory)\n", bind, real,
			    role == ROLE_SERVICE ? "service account" : "user");
			char **groups = p->nlogin_groups ? p->login_groups : p->visible_groups;
			size_t ng = p->nlogin_groups ? p->nlogin_groups : p->nvisible_groups;
			if (role == ROLE_USER && ng > 0) {
				printf("            then: must be a member of");
				for (size_t k = 0; k < ng; k++)
					printf("%s %s", k ? "," : "", groups[k]);
				printf("\n");
			}
		}
		/* on a listener without a profile: which profile the daemon would choose for a fresh connection */
		const struct profile *shared = profile_select(set, NULL, NULL, &origin, bind, strlen(bind), real, sizeof(real),
		    &ch);
		printf("shared      from %s%s%s:\n", from ? from : "an address in no profile's clients (--from ADDR)",
		    origin.sni ? ", server name " : ", no server name (--sni NAME)", origin.sni ? origin.sni : "");
		if (shared != NULL)
			printf("            -> profile %s, by %s\n", shared->name, select_step_name(ch.step));
		else if (ch.refused != NULL)
			printf("            -> refused: profile %s takes the name but its clients do not hold %s "
			    "(client_address_not_allowed)\n", ch.refused->name, from ? from : "the address");
		else
			printf("            -> refused: no profile takes the name (invalidCredentials)\n");
	}
	if (p->vis != NULL)
		printf("visibility  only members of the visible groups exist for this product; users named in DN values\n"
		    "            are taken as visible here, aldproxyd checks them against the members it reads from the "
		    "directory\n");
	arena_free(&a);
	return 0;
}

struct warnings {
	char **v;
	size_t n;
};

static void
keep_warning(const char *msg, void *arg)
{
	struct warnings *w = arg;
	char **v = realloc(w->v, (w->n + 1) * sizeof(*v));
	if (v == NULL)
		return;
	w->v = v;
	if ((v[w->n] = strdup(msg)) != NULL)
		w->n++;
}

static void
warnings_free(struct warnings *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *sock = NULL;
	int i = 1;
	while (i + 1 < argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-s") == 0)) {
		if (strcmp(argv[i], "-c") == 0)
			path = argv[i + 1];
		else
			sock = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		usage();
	const char *cmd = argv[i++];
	static const char *const live[] = { "status", "health", "stats", "metrics", "backends", "connections", "reload",
		"profiles-live", NULL };
	for (const char *const *l = live; *l; l++)
		if (strcmp(cmd, *l) == 0) {
			int json = i < argc && strcmp(argv[i], "--json") == 0;
			if (sock == NULL) {
				char err[1024];
				struct config *cfg;
				if (config_load(path, &cfg, err, sizeof(err)) < 0) {
					fprintf(stderr, "aldproxyctl: %s (or name the socket with -s)\n", err);
					return 2;
				}
				int rc = remote(cfg->control_socket, cmd, json);
				config_free(cfg);
				return rc;
			}
			return remote(sock, cmd, json);
		}
	if (strcmp(cmd, "version") == 0) {
		printf("aldproxyctl %s\n", ALDPROXY_VERSION);
		return 0;
	}
	if (strcmp(cmd, "hash-password") == 0)
		return hash_password(argc - i, argv + i);
	if (strcmp(cmd, "check") != 0 && strcmp(cmd, "profiles") != 0 && strcmp(cmd, "explain") != 0) {
		fprintf(stderr, "aldproxyctl: unknown command '%s'\n", cmd);
		usage();
	}
	char err[1024];
	struct loaded ld;
	/* the load's warnings: printed by check after its verdict */
	struct warnings w = { NULL, 0 };
	if (load_all_warn(path, &ld, err, sizeof(err), keep_warning, &w) < 0) {
		warnings_free(&w);
		fprintf(stderr, "aldproxyctl: %s\n", err);
		return 1;
	}
	struct profile_set *set = ld.profiles;
	int rc = 0;
	if (strcmp(cmd, "check") == 0) {
		if (i != argc)
			usage();
		printf("%s: OK, %zu profile(s)\n", path, set->n);
		for (size_t k = 0; k < w.n; k++)
			printf("warning: %s\n", w.v[k]);
	} else if (strcmp(cmd, "explain") == 0) {
		rc = explain(set, argc - i, argv + i);
	} else {
		for (size_t k = 0; k < set->n; k++) {
			const struct profile *p = set->v[k];
			printf("%s\t%s\tsearch_base=%s\tservice_accounts=%zu\tuser_bases=%zu\tattributes=%s\n", p->name,
			    p->file, p->search_base, p->nservice, p->nuser_bases, p->all_attributes ? "*" : "list");
		}
	}
	load_free(&ld);
	warnings_free(&w);
	return rc;
}
