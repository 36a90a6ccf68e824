/*
 * profile.h — per-product profiles (one YAML file each in profiles_dir).
 *
 * A profile_set owns every profile in it and is immutable once loaded, so
 * clients may hold plain pointers to profiles for as long as the set lives.
 * This profile is minimal: who selects it (service accounts, a
 * dedicated listener), which end users may bind, the subtree searches are
 * confined to and the attributes a search may return.
 */
#ifndef ALDPROXY_PROFILE_H
#define ALDPROXY_PROFILE_H

#include <lber.h>
#include <stddef.h>

enum bind_role { ROLE_NONE = 0, ROLE_SERVICE, ROLE_USER };

struct profile {
	char *name;
	char *description;
	char *file;
	char **service_accounts;    /* normalized DNs */
	size_t nservice;
	char **user_bases;          /* normalized DNs */
	size_t nuser_bases;
	char *search_base;          /* as written */
	char *search_base_norm;
	size_t search_base_len;
	char **attributes;          /* allowlist, lower-cased */
	size_t nattributes;
	int all_attributes;         /* "*" */
};

struct profile_set {
	struct profile **v;         /* sorted by name */
	size_t n;
};

int  profile_set_load(const char *dir, struct profile_set **out, char *err, size_t errlen);
void profile_set_free(struct profile_set *set);
const struct profile *profile_find(const struct profile_set *set, const char *name);

/*
 * Chooses the profile for a bind by the normalized DN ndn: the fixed
 * profile if the listener has one, else the profile naming ndn as a
 * service account, else the first whose user_bases hold ndn.  current is
 * the connection's profile so far and wins among user-base matches.
 * Returns NULL when no profile accepts the DN.
 */
const struct profile *profile_for_bind(const struct profile_set *set, const struct profile *fixed,
    const struct profile *current, const char *ndn, size_t len, enum bind_role *role);

/* Attribute policy: secrets never; otherwise the allowlist. */
int attr_is_secret(const char *name, size_t len);
int profile_attr_allowed(const struct profile *p, const char *name, size_t len);

#endif
