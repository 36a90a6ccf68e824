/*
 * profile.c — loading profiles from YAML and answering policy questions.
 */
#include "profile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dn.h"
#include "profile_load.h"
#include "yamlcfg.h"


static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct profile *const *)a)->name, (*(struct profile *const *)b)->name);
}

static int
yaml_file(const struct dirent *d)
{
	size_t l = strlen(d->d_name);
	return d->d_name[0] != '.' && ((l > 5 && strcmp(d->d_name + l - 5, ".yaml") == 0) ||
	    (l > 4 && strcmp(d->d_name + l - 4, ".yml") == 0));
}

/* Two listener addresses that cannot both be bound: same port, same address or a wildcard of its family. */
static int
same_socket(const struct url *a, const struct url *b)
{
	if (a->port != b->port)
		return 0;
	int a6 = strchr(a->host, ':') != NULL, b6 = strchr(b->host, ':') != NULL;
	if (a6 != b6)
		return 0;
	const char *any = a6 ? "::" : "0.0.0.0";
	return strcmp(a->host, b->host) == 0 || strcmp(a->host, any) == 0 || strcmp(b->host, any) == 0;
}

/* A listener address claimed twice: by the configuration or two profiles. */
static int
listener_clash(const struct profile_set *set, const struct config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct profile *p = set->v[i];
		for (size_t a = 0; a < p->nlisteners; a++) {
			const struct url *u = &p->listener_urls[a];
			for (size_t c = 0; cfg != NULL && c < cfg->nlisteners; c++)
				if (same_socket(&cfg->listeners[c].parsed, u)) {
					snprintf(err, errlen, "%s:%d: key 'listeners': %s is also listeners[%zu] of %s", p->file,
					    p->listeners_line, p->listeners[a], c, cfg->path);
					return -1;
				}
			for (size_t j = 0; j <= i; j++)
				for (size_t b = 0; b < set->v[j]->nlisteners; b++) {
					if (j == i && b >= a)
						break;
					const struct url *v = &set->v[j]->listener_urls[b];
					if (same_socket(v, u)) {
						snprintf(err, errlen, "%s:%d: key 'listeners': %s is also a listener of profile '%s' (%s)",
						    p->file, p->listeners_line, p->listeners[a], set->v[j]->name, set->v[j]->file);
						return -1;
					}
				}
		}
	}
	return 0;
}

int
profile_set_load(const char *dir, const struct config *cfg, struct profile_set **out, char *err, size_t errlen)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, yaml_file, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read profile directory: %s", dir, strerror(errno));
		return -1;
	}
	struct profile_set *set = calloc(1, sizeof(*set));
	int rc = -1;
	if (set == NULL || (set->v = calloc((size_t)n + 1, sizeof(*set->v))) == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		struct profile *p;
		if (profile_parse(path, &p, err, errlen) < 0)
			goto out;
		p->refs = 1;    /* the set's */
		set->v[set->n++] = p;
	}
	if (set->n == 0) {
		snprintf(err, errlen, "%s: no profiles (*.yaml) found; nobody could bind", dir);
		goto out;
	}
	qsort(set->v, set->n, sizeof(*set->v), by_name);
	for (size_t i = 0; i < set->n; i++) {
		if (i > 0 && strcmp(set->v[i]->name, set->v[i - 1]->name) == 0) {
			snprintf(err, errlen, "%s:%d: key 'name': profile name '%s' is also used by %s", set->v[i]->file,
			    set->v[i]->name_line, set->v[i]->name, set->v[i - 1]->file);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			for (size_t a = 0; a < set->v[i]->nservice; a++)
				for (size_t b = 0; b < set->v[j]->nservice; b++)
					if (strcmp(set->v[i]->service[a].ndn, set->v[j]->service[b].ndn) == 0) {
						snprintf(err, errlen, "%s:%d: key 'service_accounts': %s is also the service "
						    "account of profile '%s' (%s)", set->v[i]->file, set->v[i]->service[a].line,
						    set->v[i]->service[a].dn, set->v[j]->name, set->v[j]->file);
						goto out;
					}
	}
	if (listener_clash(set, cfg, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc < 0)
		profile_set_free(set);
	else
		*out = set;
	return rc;
}

const struct profile *
profile_hold(const struct profile *p)
{
	if (p != NULL)
		((struct profile *)p)->refs++;
	return p;
}

void
profile_release(const struct profile *p)
{
	if (p != NULL && --((struct profile *)p)->refs == 0)
		profile_free((struct profile *)p);
}

void
profile_set_free(struct profile_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		profile_release(set->v[i]);
	free(set->v);
	free(set);
}

const struct profile *
profile_find(const struct profile_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}

static const struct service_account *
is_service(const struct profile *p, const char *ndn)
{
	for (size_t i = 0; i < p->nservice; i++)
		if (strcmp(p->service[i].ndn, ndn) == 0)
			return &p->service[i];
	return NULL;
}

static int
is_user(const struct profile *p, const char *ndn, size_t len)
{
	for (size_t i = 0; i < p->nuser_bases; i++)
		if (dn_is_under(ndn, len, p->user_bases[i], strlen(p->user_bases[i])) &&
		    strlen(p->user_bases[i]) != len)
			return 1;
	return 0;
}

const struct profile *
profile_for_bind(const struct profile_set *set, const struct profile *fixed, const struct profile *current,
    const char *ndn, size_t len, enum bind_role *role, const struct service_account **sa)
{
	*role = ROLE_NONE;
	*sa = NULL;
	if (fixed != NULL) {
		if ((*sa = is_service(fixed, ndn)) != NULL)
			*role = ROLE_SERVICE;
		else if (is_user(fixed, ndn, len))
			*role = ROLE_USER;
		return *role ? fixed : NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		if ((*sa = is_service(set->v[i], ndn)) != NULL) {
			*role = ROLE_SERVICE;
			return set->v[i];
		}
	if (current != NULL && is_user(current, ndn, len)) {
		*role = ROLE_USER;
		return current;
	}
	for (size_t i = 0; i < set->n; i++)
		if (is_user(set->v[i], ndn, len)) {
			*role = ROLE_USER;
			return set->v[i];
		}
	return NULL;
}
