/*
 * profile.c — the profile type: references, lookup by name, the choice of
 * a profile for a bind, its destructor.  Loading is profile_load.c's.
 */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dn.h"
#include "visset.h"
#include "yamlcfg.h"

void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->description);
	free(p->file);
	for (size_t i = 0; i < p->nservice; i++) {
		free(p->service[i].dn);
		free(p->service[i].ndn);
		if (p->service[i].hash)
			explicit_bzero(p->service[i].hash, strlen(p->service[i].hash));
		free(p->service[i].hash);
		free(p->service[i].memo);
	}
	free(p->service);
	yc_strlist_free(p->user_bases, p->nuser_bases);
	yc_strlist_free(p->listeners, p->nlisteners);
	free(p->listener_urls);
	free(p->search_base);
	free(p->search_base_norm);
	for (size_t i = 0; i < p->ndn_maps; i++) {
		free(p->dn_maps[i].virt);
		free(p->dn_maps[i].real);
		free(p->dn_maps[i].nvirt);
		free(p->dn_maps[i].nreal);
	}
	free(p->dn_maps);
	free(p->virtual_suffix);
	for (size_t i = 0; i < p->nattr_maps; i++) {
		free(p->attr_maps[i].virt);
		free(p->attr_maps[i].real);
	}
	free(p->attr_maps);
	for (size_t i = 0; i < p->noc_maps; i++) {
		free(p->oc_maps[i].virt);
		free(p->oc_maps[i].real);
	}
	free(p->oc_maps);
	for (size_t i = 0; i < p->nvattrs; i++) {
		struct vattr *v = &p->vattrs[i];
		free(v->name);
		free(v->source);
		free(v->when_class);
		for (size_t k = 0; k < v->ncases; k++) {
			free(v->cases[k].real_class);
			free(v->cases[k].value);
		}
		free(v->cases);
	}
	free(p->vattrs);
	for (size_t i = 0; i < p->ndefaults; i++) {
		free(p->defaults[i].name);
		free(p->defaults[i].tmpl);
		free(p->defaults[i].when_class);
	}
	free(p->defaults);
	yc_strlist_free(p->dn_attributes, p->ndn_attributes);
	free(p->user_class);
	free(p->groups_base_norm);
	yc_strlist_free(p->visible_groups, p->nvisible_groups);
	yc_strlist_free(p->real_user_bases, p->nreal_user_bases);
	visset_free(p->vis);
	yc_strlist_free(p->login_groups, p->nlogin_groups);
	yc_strlist_free(p->realms, p->nrealms);
	free(p->netbios);
	free(p->login_attr);
	free(p->login_base);
	yc_strlist_free(p->attributes, p->nattributes);
	yc_strlist_free(p->write_attrs, p->nwrite_attrs);
	free(p->ref);
	free(p);
}

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
