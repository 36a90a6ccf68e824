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
#include "yamlcfg.h"

/*
 * Attributes aldproxy never returns and never lets a filter test,
 * whatever a profile says: password hashes, Kerberos keys, OTP and
 * other secrets of a FreeIPA / ALD Pro directory.
 */
static const char *const secret_attrs[] = {
	"userpassword", "authpassword", "krbprincipalkey", "krbmkey", "krbextradata",
	"sambantpassword", "sambalmpassword", "ipantsecurityidentifier-secret", "ipanthash",
	"ipatokenotpkey", "ipatokenhotpcounter", "ipasecretkey", "ipaprivatekey", "krbpwdhistory",
	"passwordhistory", "unicodepwd", "supplementalcredentials", "dbcspwd", "ntpwdhistory",
	"lmpwdhistory", "userpkcs12", "nsslapd-rootpw",
	/* the same by OID: userPassword, authPassword, unicodePwd, sambaLM/NTPassword */
	"2.5.4.35", "1.3.6.1.4.1.4203.1.3.4", "1.2.840.113556.1.4.90", "1.3.6.1.4.1.7165.2.1.24",
	"1.3.6.1.4.1.7165.2.1.25", NULL
};

/* An attribute description given as a numeric OID ("2.5.4.35"). */
static int
attr_is_oid(const char *name, size_t len)
{
	return len > 0 && name[0] >= '0' && name[0] <= '9';
}

int
attr_is_secret(const char *name, size_t len)
{
	size_t base = len;
	for (size_t i = 0; i < len; i++)
		if (name[i] == ';') {
			base = i;
			break;
		}
	for (const char *const *s = secret_attrs; *s != NULL; s++)
		if (strlen(*s) == base && strncasecmp(*s, name, base) == 0)
			return 1;
	return 0;
}

int
profile_attr_allowed(const struct profile *p, const char *name, size_t len)
{
	/* numeric OIDs cannot be checked against names: only names are accepted */
	if (attr_is_secret(name, len) || attr_is_oid(name, len))
		return 0;
	if (p->all_attributes)
		return 1;
	size_t base = len;
	for (size_t i = 0; i < len; i++)
		if (name[i] == ';') {
			base = i;
			break;
		}
	if (base == 11 && strncasecmp(name, "objectclass", 11) == 0)
		return 1;
	for (size_t i = 0; i < p->nattributes; i++)
		if (strlen(p->attributes[i]) == base && strncasecmp(p->attributes[i], name, base) == 0)
			return 1;
	return 0;
}

static void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->description);
	free(p->file);
	yc_strlist_free(p->service_accounts, p->nservice);
	yc_strlist_free(p->user_bases, p->nuser_bases);
	free(p->search_base);
	free(p->search_base_norm);
	yc_strlist_free(p->attributes, p->nattributes);
	free(p);
}

/* Replaces each DN of the list with its normal form. */
static int
normalize_list(struct yamlcfg *yc, yaml_node_t *map, const char *key, char **list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[DN_MAX];
		if (dn_normalize(list[i], strlen(list[i]), buf, sizeof(buf)) < 0)
			return yc_error(yc, yc_seq_item(yc, map, key, i), key, "'%s' is not a valid DN", list[i]);
		free(list[i]);
		list[i] = strdup(buf);
		if (list[i] == NULL)
			return -1;
	}
	return 0;
}

static int
profile_load(const char *file, struct profile **out, char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "description", "service_accounts", "user_bases",
		"search_base", "attributes", NULL };
	struct yamlcfg yc;
	struct profile *p = calloc(1, sizeof(*p));
	int rc = -1;
	if (p == NULL)
		return -1;
	p->file = strdup(file);
	if (yc_load(&yc, file, err, errlen) < 0)
		goto out;
	yaml_node_t *root = yc_root(&yc);
	if (yc_check_keys(&yc, root, "", keys) < 0 || yc_str(&yc, root, "name", "", &p->name) < 0 ||
	    yc_str(&yc, root, "description", "", &p->description) < 0 ||
	    yc_strlist(&yc, root, "service_accounts", "", &p->service_accounts, &p->nservice) < 0 ||
	    yc_strlist(&yc, root, "user_bases", "", &p->user_bases, &p->nuser_bases) < 0 ||
	    yc_str(&yc, root, "search_base", "", &p->search_base) < 0 ||
	    yc_strlist(&yc, root, "attributes", "", &p->attributes, &p->nattributes) < 0)
		goto out;
	if (p->name == NULL || p->name[0] == '\0') {
		yc_error(&yc, root, "name", "every profile needs a name");
		goto out;
	}
	for (const char *c = p->name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
			yc_error(&yc, yc_get(&yc, root, "name"), "name",
			    "'%s': use lower-case letters, digits, '-' and '_'", p->name);
			goto out;
		}
	if (p->search_base == NULL) {
		yc_error(&yc, root, "search_base", "the subtree this product may search is required");
		goto out;
	}
	char nb[DN_MAX];
	int nl = dn_normalize(p->search_base, strlen(p->search_base), nb, sizeof(nb));
	if (nl < 0) {
		yc_error(&yc, yc_get(&yc, root, "search_base"), "search_base", "not a valid DN");
		goto out;
	}
	p->search_base_norm = strdup(nb);
	p->search_base_len = (size_t)nl;
	if (normalize_list(&yc, root, "service_accounts", p->service_accounts, p->nservice) < 0 ||
	    normalize_list(&yc, root, "user_bases", p->user_bases, p->nuser_bases) < 0)
		goto out;
	if (p->nservice == 0 && p->nuser_bases == 0) {
		yc_error(&yc, root, "service_accounts", "name at least one service account or user base, "
		    "or nobody can bind with this profile");
		goto out;
	}
	if (p->nattributes == 0) {
		yaml_node_t *an = yc_get(&yc, root, "attributes");
		yc_error(&yc, an ? an : root, "attributes", "list the attributes searches may return (\"*\" for all)");
		goto out;
	}
	for (size_t i = 0; i < p->nattributes; i++) {
		if (strcmp(p->attributes[i], "*") == 0) {
			p->all_attributes = 1;
			continue;
		}
		for (char *c = p->attributes[i]; *c; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			    *c == '-' || *c == '.')) {
				yc_error(&yc, yc_get(&yc, root, "attributes"), "attributes",
				    "'%s' is not an attribute name", p->attributes[i]);
				goto out;
			}
		}
		if (attr_is_secret(p->attributes[i], strlen(p->attributes[i]))) {
			yc_error(&yc, yc_get(&yc, root, "attributes"), "attributes",
			    "'%s' holds secrets and is never returned", p->attributes[i]);
			goto out;
		}
	}
	rc = 0;
out:
	yc_free(&yc);
	if (rc < 0)
		profile_free(p);
	else
		*out = p;
	return rc;
}

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

int
profile_set_load(const char *dir, struct profile_set **out, char *err, size_t errlen)
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
		if (profile_load(path, &p, err, errlen) < 0)
			goto out;
		set->v[set->n++] = p;
	}
	if (set->n == 0) {
		snprintf(err, errlen, "%s: no profiles (*.yaml) found; nobody could bind", dir);
		goto out;
	}
	qsort(set->v, set->n, sizeof(*set->v), by_name);
	for (size_t i = 0; i < set->n; i++) {
		if (i > 0 && strcmp(set->v[i]->name, set->v[i - 1]->name) == 0) {
			snprintf(err, errlen, "%s: profile name '%s' is also used by %s", set->v[i]->file,
			    set->v[i]->name, set->v[i - 1]->file);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			for (size_t a = 0; a < set->v[i]->nservice; a++)
				for (size_t b = 0; b < set->v[j]->nservice; b++)
					if (strcmp(set->v[i]->service_accounts[a], set->v[j]->service_accounts[b]) == 0) {
						snprintf(err, errlen, "%s: key 'service_accounts': %s is also the service "
						    "account of profile '%s' (%s)", set->v[i]->file,
						    set->v[i]->service_accounts[a], set->v[j]->name, set->v[j]->file);
						goto out;
					}
	}
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

void
profile_set_free(struct profile_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		profile_free(set->v[i]);
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

static int
is_service(const struct profile *p, const char *ndn)
{
	for (size_t i = 0; i < p->nservice; i++)
		if (strcmp(p->service_accounts[i], ndn) == 0)
			return 1;
	return 0;
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
    const char *ndn, size_t len, enum bind_role *role)
{
	*role = ROLE_NONE;
	if (fixed != NULL) {
		if (is_service(fixed, ndn))
			*role = ROLE_SERVICE;
		else if (is_user(fixed, ndn, len))
			*role = ROLE_USER;
		return *role ? fixed : NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		if (is_service(set->v[i], ndn)) {
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
