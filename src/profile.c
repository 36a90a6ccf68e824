/*
 * profile.c — the profile type: references, lookup by name, the choice of
 * a profile for a bind.  Loading is profile_load.c's.
 */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dn.h"
#include "profile_load.h"
#include "yamlcfg.h"


const struct profile *
profile_hold(const struct profile *p)
{
	if (p != NULL)
		p->ref->n++;
	return p;
}

void
profile_drop(const struct profile *p)
{
	if (p != NULL && --p->ref->n == 0)
		profile_free(p->ref->self);
}

void
profile_set_free(struct profile_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		profile_drop(set->v[i]);
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
