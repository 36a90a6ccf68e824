/*
 * load.c — config + profiles + TLS contexts, checked together.  See load.h.
 */
#include "load.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dn.h"
#include "log.h"
#include "profile.h"
#include "tls.h"

#define AMBIGUITY_WARNINGS_MAX 10     /* pairs named one by one; the rest are counted */

/* Where the warnings go: the log, or the caller's function. */
struct warn_to {
	load_warn_fn fn;
	void *arg;
};

static void
warn(const struct warn_to *w, const char *msg)
{
	if (w->fn != NULL)
		w->fn(msg, w->arg);
	else
		log_warn("%s", msg);
}

/*
 * The listeners without a profile of their own, where an end user's bind is
 * judged by the profile profile_select() chooses: two profiles that take the
 * same names with different login rules and nothing to choose between them
 * (clients:, server_names:) make that choice the order of their names.  A
 * warning for each such pair, an error with profiles_strict.
 */
static int
check_shared_listeners(struct loaded *out, const struct warn_to *w, char *err, size_t errlen)
{
	const struct config *cfg = out->cfg;
	const struct profile_set *set = out->profiles;
	char where[1024] = "";
	size_t nshared = 0, off = 0;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].profile == NULL) {
			int n = snprintf(where + off, sizeof(where) - off, "%s%s", nshared ? ", " : "", cfg->listeners[i].url);
			if (n > 0 && (size_t)n < sizeof(where) - off)
				off += (size_t)n;
			nshared++;
		}
	if (nshared == 0)
		return 0;
	size_t npairs = 0;
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = i + 1; j < set->n; j++) {
			const struct profile *a = set->v[i], *b = set->v[j];
			char what[DN_MAX + 64];
			if (!profile_pair_ambiguous(a, b, what, sizeof(what)))
				continue;
			if (++npairs > AMBIGUITY_WARNINGS_MAX && !cfg->profiles_strict)
				continue;
			const char *kind = a->nserver_names ? "their server_names overlap" :
			    a->nclients ? "their clients networks overlap" : "neither has clients or server_names";
			char msg[4096];
			snprintf(msg, sizeof(msg), "listener%s %s: profiles '%s' (%s) and '%s' (%s) both take %s but admit "
			    "different login groups, and %s: a user's first bind on a connection gets '%s', the first by name, "
			    "whichever product connects. Give one of them "
			    "clients: or server_names:, or a listener of its own (docs/configuration.md, \"Which profile a bind "
			    "gets\")", nshared > 1 ? "s" : "", where, a->name, a->file, b->name, b->file, what, kind, a->name);
			if (cfg->profiles_strict) {
				snprintf(err, errlen, "%s:%d: key 'profiles_strict': %s", cfg->path, cfg->profiles_strict_line, msg);
				return -1;
			}
			warn(w, msg);
		}
	if (npairs > AMBIGUITY_WARNINGS_MAX) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "listener%s %s: %zu more pairs of profiles like these (%zu in all)",
		    nshared > 1 ? "s" : "", where, npairs - AMBIGUITY_WARNINGS_MAX, npairs);
		warn(w, msg);
	}
	return 0;
}

int
load_all(const char *path, struct loaded *out, char *err, size_t errlen)
{
	return load_all_warn(path, out, err, errlen, NULL, NULL);
}

int
load_all_warn(const char *path, struct loaded *out, char *err, size_t errlen, load_warn_fn warn_fn, void *arg)
{
	struct warn_to w = { warn_fn, arg };
	memset(out, 0, sizeof(*out));
	if (config_load(path, &out->cfg, err, errlen) < 0)
		return -1;
	struct config *cfg = out->cfg;
	if (profile_set_load(cfg->profiles_dir, cfg, &out->profiles, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct listener_conf *lc = &cfg->listeners[i];
		if (lc->profile != NULL && profile_find(out->profiles, lc->profile) == NULL) {
			snprintf(err, errlen, "%s:%d: key 'listeners[%zu].profile': no profile named '%s' in %s", path,
			    lc->line, i, lc->profile, cfg->profiles_dir);
			goto fail;
		}
	}
	if (check_shared_listeners(out, &w, err, errlen) < 0)
		goto fail;
	if (cfg->tls_cert != NULL && (out->tls_server = tls_server_ctx_new(cfg, err, errlen)) == NULL)
		goto fail;
	if ((out->tls_client = tls_client_ctx_new(cfg, err, errlen)) == NULL)
		goto fail;
	return 0;
fail:
	load_free(out);
	return -1;
}

void
load_free(struct loaded *l)
{
	if (l->tls_server != NULL)
		SSL_CTX_free(l->tls_server);
	if (l->tls_client != NULL)
		SSL_CTX_free(l->tls_client);
	profile_set_free(l->profiles);
	config_free(l->cfg);
	memset(l, 0, sizeof(*l));
}
