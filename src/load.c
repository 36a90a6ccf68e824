/*
 * load.c — config + profiles + TLS contexts, checked together.  See load.h.
 */
#include "load.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "profile.h"
#include "tls.h"

int
load_all(const char *path, struct loaded *out, char *err, size_t errlen)
{
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
