/*
 * profile_load.c — one profile file (YAML) into a struct profile, with every
 * error naming the file, the line and the key.  See docs/profiles.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dn.h"
#include "profile.h"
#include "policy.h"
#include "rewrite.h"
#include "visset.h"
#include "profile_load.h"
#include "yamlcfg.h"

/*
 * Attributes of an ALD Pro / FreeIPA directory (389-ds and FreeIPA schema)
 * that a profile may name as the real side of a map or as a source.  A
 * name outside this list is almost always a typo, so it is a load error;
 * `extra_attributes` in a profile extends the list for local schema.
 */
static const char *const known_attrs[] = {
	"objectclass", "uid", "cn", "sn", "givenname", "displayname", "initials", "gecos", "mail",
	"uidnumber", "gidnumber", "homedirectory", "loginshell", "krbprincipalname", "krbcanonicalname",
	"krbpasswordexpiration", "krblastpwdchange", "krblastsuccessfulauth", "krblastfailedauth",
	"krbloginfailedcount", "nsaccountlock", "ipauniqueid", "memberof", "member", "memberuid",
	"manager", "secretary", "title", "ou", "o", "description", "telephonenumber", "mobile",
	"facsimiletelephonenumber", "pager", "homephone", "street", "l", "st", "postalcode",
	"postaladdress", "employeenumber", "employeetype", "departmentnumber", "preferredlanguage",
	"jpegphoto", "usercertificate", "ipasshpubkey", "ipantsecurityidentifier", "ipantuserattrs",
	"carlicense", "businesscategory", "roomnumber", "labeleduri", "seealso", "owner", "uniquemember",
	"entryuuid", "nsuniqueid", "entrydn", "createtimestamp", "modifytimestamp", "creatorsname",
	"modifiersname", "fqdn", "serverhostname", "ipaexternalmember", "mepmanagedby", "mepmanagedentry",
	"ipauserauthtype", "krbticketflags", "krbprincipalexpiration", "ipatokenradiusconfiglink",
	"userclass", "ipaassignedidview", "name", "dc", "physicaldeliveryofficename", "destinationindicator",
	"registeredaddress", "x121address", "internationalisdnnumber", "teletexterminalidentifier",
	"telexnumber", "preferreddeliverymethod", "postofficebox", "audio", "photo", "homepostaladdress",
	"x500uniqueidentifier", "userpkcs12", "usersmimecertificate", "inetuserstatus", "inetuserhttpurl",
	"ipasudorunas", "ipaenabledflag", "accessruletype", "hostcategory", "usercategory", "memberhost",
	"memberuser", "externalhost", NULL
};

static int
known_attr(const char *name, char *const *extra, size_t nextra)
{
	for (const char *const *k = known_attrs; *k != NULL; k++)
		if (strcasecmp(*k, name) == 0)
			return 1;
	for (size_t i = 0; i < nextra; i++)
		if (strcasecmp(extra[i], name) == 0)
			return 1;
	return 0;
}

static int
valid_attr_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/*
 * A DN of one RDN in a list of bind DNs or bases is almost always a DN that
 * YAML's flow syntax split at its commas ([cn=a,dc=b] is two items).
 */
static int
single_rdn(const char *dn)
{
	for (const char *s = dn; *s; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == ',')
			return 0;
	}
	return 1;
}

static char *
norm_dup(const char *dn, size_t *len)
{
	char buf[DN_MAX];
	int n = dn_normalize(dn, strlen(dn), buf, sizeof(buf));
	if (n < 0)
		return NULL;
	if (len)
		*len = (size_t)n;
	return strdup(buf);
}

/* Iterates the pairs of a mapping node: calls fn(key, value node) for each. */
typedef int (*pair_fn)(struct yamlcfg *yc, struct profile *p, const char *path, const char *key,
    yaml_node_t *knode, yaml_node_t *vnode, void *arg);

static int
each_pair(struct yamlcfg *yc, struct profile *p, yaml_node_t *map, const char *path, pair_fn fn, void *arg)
{
	if (!yc_is_map(map))
		return yc_error(yc, map, path, "must be a mapping");
	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top; q++) {
		yaml_node_t *k = yaml_document_get_node(&yc->doc, q->key);
		yaml_node_t *v = yaml_document_get_node(&yc->doc, q->value);
		if (k->type != YAML_SCALAR_NODE)
			return yc_error(yc, k, path, "keys must be plain strings");
		char full[256];
		int fl = snprintf(full, sizeof(full), "%.120s.%.120s", path, (const char *)k->data.scalar.value);
		(void)fl;
		if (fn(yc, p, full, (const char *)k->data.scalar.value, k, v, arg) < 0)
			return -1;
	}
	return 0;
}

static const char *
scalar(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

struct extra {
	char **v;
	size_t n;
};

static int
attr_pair_cb(struct yamlcfg *yc, struct profile *p, const char *path, const char *key, yaml_node_t *knode,
    yaml_node_t *vnode, void *arg)
{
	struct extra *ex = arg;
	const char *real = scalar(vnode);
	if (real == NULL)
		return yc_error(yc, vnode, path, "must be the name of a real attribute");
	if (!valid_attr_name(key))
		return yc_error(yc, knode, path, "'%s' is not an attribute name", key);
	if (policy_attr_secret(key, strlen(key)))
		return yc_error(yc, knode, path, "'%s' is the name of a secret and cannot name another attribute", key);
	if (!valid_attr_name(real) || !known_attr(real, ex->v, ex->n))
		return yc_error(yc, vnode, path, "unknown attribute '%s' (not in the ALD Pro schema; "
		    "add it to extra_attributes if your directory has it)", real);
	if (policy_attr_secret(real, strlen(real)))
		return yc_error(yc, vnode, path, "'%s' holds secrets and cannot be mapped", real);
	for (size_t i = 0; i < p->nattr_maps; i++)
		if (strcasecmp(p->attr_maps[i].virt, key) == 0)
			return yc_error(yc, knode, path, "'%s' is mapped twice", key);
	struct attr_map *m = realloc(p->attr_maps, (p->nattr_maps + 1) * sizeof(*m));
	if (m == NULL)
		return -1;
	p->attr_maps = m;
	m[p->nattr_maps].virt = strdup(key);
	m[p->nattr_maps].real = strdup(real);
	p->nattr_maps++;
	return 0;
}

static int
oc_pair_cb(struct yamlcfg *yc, struct profile *p, const char *path, const char *key, yaml_node_t *knode,
    yaml_node_t *vnode, void *arg)
{
	(void)arg;
	(void)knode;
	const char *real = scalar(vnode);
	if (real == NULL || !valid_attr_name(real))
		return yc_error(yc, vnode, path, "must be the name of a real object class");
	struct oc_map *m = realloc(p->oc_maps, (p->noc_maps + 1) * sizeof(*m));
	if (m == NULL)
		return -1;
	p->oc_maps = m;
	m[p->noc_maps].virt = strdup(key);
	m[p->noc_maps].real = strdup(real);
	p->noc_maps++;
	return 0;
}

static int
case_cb(struct yamlcfg *yc, struct profile *p, const char *path, const char *key, yaml_node_t *knode,
    yaml_node_t *vnode, void *arg)
{
	(void)p;
	(void)knode;
	struct vattr *v = arg;
	const char *val = scalar(vnode);
	if (val == NULL)
		return yc_error(yc, vnode, path, "must be a value");
	struct vattr_case *c = realloc(v->cases, (v->ncases + 1) * sizeof(*c));
	if (c == NULL)
		return -1;
	v->cases = c;
	c[v->ncases].real_class = strdup(key);
	c[v->ncases].value = strdup(val);
	v->ncases++;
	return 0;
}

static int
vattr_cb(struct yamlcfg *yc, struct profile *p, const char *path, const char *key, yaml_node_t *knode,
    yaml_node_t *vnode, void *arg)
{
	static const char *const keys[] = { "type", "from", "when", "values", NULL };
	struct extra *ex = arg;
	if (!valid_attr_name(key))
		return yc_error(yc, knode, path, "'%s' is not an attribute name", key);
	if (yc_check_keys(yc, vnode, path, keys) < 0)
		return -1;
	struct vattr *arr = realloc(p->vattrs, (p->nvattrs + 1) * sizeof(*arr));
	if (arr == NULL)
		return -1;
	p->vattrs = arr;
	struct vattr *v = &arr[p->nvattrs++];
	memset(v, 0, sizeof(*v));
	v->name = strdup(key);
	char *type = NULL;
	if (yc_str(yc, vnode, "type", path, &type) < 0 || yc_str(yc, vnode, "from", path, &v->source) < 0 ||
	    yc_str(yc, vnode, "when", path, &v->when_class) < 0) {
		free(type);
		return -1;
	}
	char tpath[300];
	snprintf(tpath, sizeof(tpath), "%s.type", path);
	if (type == NULL)
		return yc_error(yc, vnode, tpath, "required: guid, account_control, sid, member_uid, dn or by_class");
	int bad = 0;
	if (strcmp(type, "guid") == 0)
		v->kind = VA_GUID;
	else if (strcmp(type, "account_control") == 0)
		v->kind = VA_UAC;
	else if (strcmp(type, "sid") == 0)
		v->kind = VA_SID;
	else if (strcmp(type, "member_uid") == 0)
		v->kind = VA_MEMBER_UID;
	else if (strcmp(type, "dn") == 0)
		v->kind = VA_DN;
	else if (strcmp(type, "by_class") == 0)
		v->kind = VA_CATEGORY;
	else
		bad = 1;
	free(type);
	if (bad)
		return yc_error(yc, yc_get(yc, vnode, "type"), tpath, "must be guid, account_control, sid, member_uid, dn or by_class");
	char fpath[300];
	snprintf(fpath, sizeof(fpath), "%s.from", path);
	if (v->kind != VA_DN && v->kind != VA_CATEGORY && v->source == NULL)
		v->source = strdup(v->kind == VA_GUID ? "ipaUniqueID" : v->kind == VA_UAC ? "nsAccountLock" :
		    v->kind == VA_SID ? "ipaNTSecurityIdentifier" : "member");
	if (v->source != NULL && !known_attr(v->source, ex->v, ex->n))
		return yc_error(yc, yc_get(yc, vnode, "from"), fpath, "unknown attribute '%s'", v->source);
	if (v->kind == VA_CATEGORY) {
		yaml_node_t *vals = yc_get(yc, vnode, "values");
		char vpath[300];
		snprintf(vpath, sizeof(vpath), "%s.values", path);
		if (vals == NULL)
			return yc_error(yc, vnode, vpath, "by_class needs values: {real class: value}");
		if (each_pair(yc, p, vals, vpath, case_cb, v) < 0)
			return -1;
	}
	return 0;
}

static int
default_cb(struct yamlcfg *yc, struct profile *p, const char *path, const char *key, yaml_node_t *knode,
    yaml_node_t *vnode, void *arg)
{
	(void)arg;
	static const char *const keys[] = { "value", "when", NULL };
	if (!valid_attr_name(key))
		return yc_error(yc, knode, path, "'%s' is not an attribute name", key);
	struct default_attr *arr = realloc(p->defaults, (p->ndefaults + 1) * sizeof(*arr));
	if (arr == NULL)
		return -1;
	p->defaults = arr;
	struct default_attr *d = &arr[p->ndefaults++];
	memset(d, 0, sizeof(*d));
	d->name = strdup(key);
	if (scalar(vnode) != NULL) {
		d->tmpl = strdup(scalar(vnode));
	} else if (yc_check_keys(yc, vnode, path, keys) < 0 || yc_str(yc, vnode, "value", path, &d->tmpl) < 0 ||
	    yc_str(yc, vnode, "when", path, &d->when_class) < 0) {
		return -1;
	}
	if (d->tmpl == NULL)
		return yc_error(yc, vnode, path, "a value (template such as \"{uid}@example.com\") is required");
	/* {attr} placeholders must be closed and name attributes */
	for (const char *s = d->tmpl; (s = strchr(s, '{')) != NULL; s++) {
		const char *e = strchr(s, '}');
		if (e == NULL || e == s + 1)
			return yc_error(yc, vnode, path, "unclosed or empty {} in '%s'", d->tmpl);
	}
	return 0;
}

/* Groups given as DNs or as bare names (cn under groups_base). */
static int
group_list(struct yamlcfg *yc, struct profile *p, yaml_node_t *m, const char *key, const char *path,
    char ***out, size_t *n)
{
	if (yc_strlist(yc, m, key, path, out, n) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		char buf[DN_MAX * 2];
		if (strchr((*out)[i], '=') == NULL)
			snprintf(buf, sizeof(buf), "cn=%s,%s", (*out)[i], p->groups_base_norm);
		else
			snprintf(buf, sizeof(buf), "%s", (*out)[i]);
		size_t l;
		char *nd = norm_dup(buf, &l);
		if (nd == NULL) {
			char full[256];
			snprintf(full, sizeof(full), "%s.%s", path, key);
			return yc_error(yc, yc_seq_item(yc, m, key, i), full, "'%s' is not a valid DN", (*out)[i]);
		}
		free((*out)[i]);
		(*out)[i] = nd;
	}
	return 0;
}

static int
by_longest_virt(const void *a, const void *b)
{
	const struct dn_map *x = a, *y = b;
	return (int)y->nvlen - (int)x->nvlen;
}

static int
parse_virtual_tree(struct yamlcfg *yc, struct profile *p, yaml_node_t *root)
{
	static const char *const keys[] = { "suffix", "map", NULL };
	yaml_node_t *vt = yc_get(yc, root, "virtual_tree");
	if (vt == NULL)
		return 0;
	if (yc_check_keys(yc, vt, "virtual_tree", keys) < 0 || yc_str(yc, vt, "suffix", "virtual_tree", &p->virtual_suffix) < 0)
		return -1;
	yaml_node_t *seq = yc_get(yc, vt, "map");
	if (seq == NULL || !yc_is_seq(seq))
		return yc_error(yc, seq ? seq : vt, "virtual_tree.map", "a list of {virtual: DN, real: DN} is required");
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	p->dn_maps = calloc(n ? n : 1, sizeof(*p->dn_maps));
	if (p->dn_maps == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		static const char *const mk[] = { "virtual", "real", NULL };
		yaml_node_t *it = yaml_document_get_node(&yc->doc, seq->data.sequence.items.start[i]);
		char path[64];
		snprintf(path, sizeof(path), "virtual_tree.map[%zu]", i);
		struct dn_map *m = &p->dn_maps[p->ndn_maps++];
		if (yc_check_keys(yc, it, path, mk) < 0 || yc_str(yc, it, "virtual", path, &m->virt) < 0 ||
		    yc_str(yc, it, "real", path, &m->real) < 0)
			return -1;
		if (m->virt == NULL || m->real == NULL)
			return yc_error(yc, it, path, "both virtual and real DNs are required");
		if ((m->nvirt = norm_dup(m->virt, &m->nvlen)) == NULL)
			return yc_error(yc, yc_get(yc, it, "virtual"), path, "'%s' is not a valid DN", m->virt);
		if ((m->nreal = norm_dup(m->real, &m->nrlen)) == NULL)
			return yc_error(yc, yc_get(yc, it, "real"), path, "'%s' is not a valid DN", m->real);
		for (size_t j = 0; j + 1 < p->ndn_maps; j++)
			if (strcmp(p->dn_maps[j].nvirt, m->nvirt) == 0)
				return yc_error(yc, it, path, "virtual DN %s is mapped twice", m->virt);
	}
	qsort(p->dn_maps, p->ndn_maps, sizeof(*p->dn_maps), by_longest_virt);
	if (p->virtual_suffix == NULL)
		p->virtual_suffix = strdup(p->dn_maps[p->ndn_maps - 1].virt);
	return 0;
}

static int
parse_service_accounts(struct yamlcfg *yc, struct profile *p, yaml_node_t *root)
{
	static const char *const keys[] = { "dn", "password_hash", "password_file", NULL };
	yaml_node_t *seq = yc_get(yc, root, "service_accounts");
	if (seq == NULL)
		return 0;
	if (seq->type == YAML_SCALAR_NODE) {
		p->service = calloc(1, sizeof(*p->service));
		if (p->service == NULL)
			return -1;
		p->service[0].dn = strdup(scalar(seq));
		p->service[0].line = yc_line(seq);
		p->nservice = 1;
	} else if (yc_is_seq(seq)) {
		size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
		p->service = calloc(n ? n : 1, sizeof(*p->service));
		if (p->service == NULL)
			return -1;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *it = yaml_document_get_node(&yc->doc, seq->data.sequence.items.start[i]);
			struct service_account *sa = &p->service[p->nservice++];
			char path[64], *file = NULL;
			sa->line = yc_line(it);
			snprintf(path, sizeof(path), "service_accounts[%zu]", i);
			if (scalar(it) != NULL) {
				sa->dn = strdup(scalar(it));
			} else {
				if (yc_check_keys(yc, it, path, keys) < 0 || yc_str(yc, it, "dn", path, &sa->dn) < 0 ||
				    yc_str(yc, it, "password_hash", path, &sa->hash) < 0 ||
				    yc_str(yc, it, "password_file", path, &file) < 0)
					return -1;
				if (sa->dn == NULL)
					return yc_error(yc, it, path, "dn is required");
				if (sa->hash != NULL && file != NULL) {
					free(file);
					return yc_error(yc, it, path, "give password_hash or password_file, not both");
				}
				if (file != NULL) {
					FILE *fp = fopen(file, "r");
					char line[512] = "";
					if (fp == NULL) {
						yc_error(yc, yc_get(yc, it, "password_file"), path, "cannot open %s", file);
						free(file);
						return -1;
					}
					if (fgets(line, sizeof(line), fp) == NULL)
						line[0] = '\0';
					fclose(fp);
					line[strcspn(line, "\r\n")] = '\0';
					sa->hash = strdup(line);
					explicit_bzero(line, sizeof(line));
					free(file);
				}
				if (sa->hash != NULL && !password_hash_valid(sa->hash))
					return yc_error(yc, it, path, "not a password hash: use aldproxyctl hash-password "
					    "({PBKDF2-SHA512}, or {SSHA256}/{SSHA512}); clear-text passwords are not accepted");
				if (sa->hash != NULL && (sa->memo = calloc(1, sizeof(*sa->memo))) == NULL)
					return yc_error(yc, it, path, "out of memory");
			}
			if ((sa->ndn = norm_dup(sa->dn, NULL)) == NULL)
				return yc_error(yc, it, path, "'%s' is not a valid DN", sa->dn);
			if (single_rdn(sa->dn))
				return yc_error(yc, it, path, "'%s' is a single RDN: quote DNs inside [...] lists, "
				    "YAML splits them at commas", sa->dn);
		}
	} else {
		return yc_error(yc, seq, "service_accounts", "must be a list");
	}
	if (p->nservice == 1 && p->service[0].ndn == NULL &&
	    (p->service[0].ndn = norm_dup(p->service[0].dn, NULL)) == NULL)
		return yc_error(yc, seq, "service_accounts", "'%s' is not a valid DN", p->service[0].dn);
	return 0;
}

static int
parse_bind_names(struct yamlcfg *yc, struct profile *p, yaml_node_t *root, const char *suffix)
{
	static const char *const keys[] = { "realm", "netbios", "login_attribute", "users_base", "formats", NULL };
	yaml_node_t *m = yc_get(yc, root, "bind_names");
	char **formats = NULL;
	size_t nformats = 0;
	if (m != NULL && (yc_check_keys(yc, m, "bind_names", keys) < 0 ||
	    yc_strlist(yc, m, "realm", "bind_names", &p->realms, &p->nrealms) < 0 ||
	    yc_str(yc, m, "netbios", "bind_names", &p->netbios) < 0 ||
	    yc_str(yc, m, "login_attribute", "bind_names", &p->login_attr) < 0 ||
	    yc_str(yc, m, "users_base", "bind_names", &p->login_base) < 0 ||
	    yc_strlist(yc, m, "formats", "bind_names", &formats, &nformats) < 0))
		return -1;
	for (size_t i = 0; i < nformats; i++) {
		if (strcmp(formats[i], "upn") == 0)
			p->bind_upn = 1;
		else if (strcmp(formats[i], "netbios") == 0)
			p->bind_netbios = 1;
		else if (strcmp(formats[i], "login") == 0)
			p->bind_login = 1;
		else if (strcmp(formats[i], "dn") != 0) {
			yc_error(yc, yc_seq_item(yc, m, "formats", i), "bind_names.formats",
			    "'%s': use dn, upn, netbios or login", formats[i]);
			yc_strlist_free(formats, nformats);
			return -1;
		}
	}
	yc_strlist_free(formats, nformats);
	if (p->bind_upn && p->nrealms == 0)
		return yc_error(yc, m, "bind_names.realm", "the upn format needs the realm");
	if (p->bind_netbios && p->netbios == NULL)
		return yc_error(yc, m, "bind_names.netbios", "the netbios format needs the NetBIOS domain name");
	if (p->login_attr == NULL)
		p->login_attr = strdup("uid");
	if (p->login_base == NULL) {
		char buf[DN_MAX];
		snprintf(buf, sizeof(buf), "cn=users,cn=accounts,%s", suffix);
		p->login_base = strdup(buf);
	}
	return 0;
}

/* One profile file being read (profile_parse()). */
struct pctx {
	struct yamlcfg yc;
	yaml_node_t *root;
	struct profile *p;
	char *dsuffix;              /* the directory's suffix (owned) */
	struct extra ex;            /* extra_attributes, for the maps' checks */
};

/* The top-level scalars and lists, read as they are. */
static int
parse_top(struct pctx *x)
{
	static const char *const keys[] = { "name", "description", "listeners", "service_accounts", "user_bases",
		"search_base", "directory_suffix", "virtual_tree", "attribute_map", "objectclass_map",
		"virtual_attributes", "defaults", "dn_attributes", "user_class", "memberof", "groups",
		"bind_names", "ad_diagnostics", "rootdse", "attributes", "extra_attributes", "writes", "clients",
		"server_names", NULL };
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *root = x->root;
	if (yc_check_keys(yc, root, "", keys) < 0 || yc_str(yc, root, "name", "", &p->name) < 0 ||
	    yc_str(yc, root, "description", "", &p->description) < 0 ||
	    yc_strlist(yc, root, "extra_attributes", "", &x->ex.v, &x->ex.n) < 0 ||
	    parse_service_accounts(yc, p, root) < 0 ||
	    yc_strlist(yc, root, "user_bases", "", &p->user_bases, &p->nuser_bases) < 0 ||
	    yc_strlist(yc, root, "listeners", "", &p->listeners, &p->nlisteners) < 0 ||
	    yc_str(yc, root, "search_base", "", &p->search_base) < 0 ||
	    yc_str(yc, root, "directory_suffix", "", &x->dsuffix) < 0 ||
	    yc_strlist(yc, root, "attributes", "", &p->attributes, &p->nattributes) < 0 ||
	    yc_strlist(yc, root, "dn_attributes", "", &p->dn_attributes, &p->ndn_attributes) < 0 ||
	    yc_str(yc, root, "user_class", "", &p->user_class) < 0 ||
	    yc_bool(yc, root, "ad_diagnostics", "", &p->ad_diagnostics) < 0 ||
	    parse_virtual_tree(yc, p, root) < 0)
		return -1;
	p->listeners_line = yc_line(yc_get(yc, root, "listeners"));
	p->name_line = yc_line(yc_get(yc, root, "name"));
	if (p->name == NULL) {
		yc_error(yc, root, "name", "every profile needs a name");
		return -1;
	}
	for (const char *c = p->name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
			yc_error(yc, yc_get(yc, root, "name"), "name", "'%s': use lower-case letters, digits, '-' and '_'",
			    p->name);
			return -1;
		}
	if (p->user_class == NULL && (p->user_class = strdup("person")) == NULL)
		return -1;
	return 0;
}

/* search_base, the directory's suffix, user_bases: normalized; someone must be able to bind. */
static int
parse_bases(struct pctx *x)
{
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *root = x->root;
	if (p->search_base == NULL) {
		yc_error(yc, root, "search_base", "the subtree this product may search is required");
		return -1;
	}
	if ((p->search_base_norm = norm_dup(p->search_base, &p->search_base_len)) == NULL) {
		yc_error(yc, yc_get(yc, root, "search_base"), "search_base", "not a valid DN");
		return -1;
	}
	/* the directory's own suffix: explicit, else the real side of the virtual suffix, else the search base */
	if (x->dsuffix == NULL &&
	    (x->dsuffix = strdup(p->ndn_maps > 0 ? p->dn_maps[p->ndn_maps - 1].real : p->search_base)) == NULL)
		return -1;
	for (size_t i = 0; i < p->nuser_bases; i++) {
		char *nd = norm_dup(p->user_bases[i], NULL);
		if (nd == NULL) {
			yc_error(yc, yc_seq_item(yc, root, "user_bases", i), "user_bases", "'%s' is not a valid DN",
			    p->user_bases[i]);
			return -1;
		}
		if (single_rdn(p->user_bases[i])) {
			free(nd);
			yc_error(yc, yc_seq_item(yc, root, "user_bases", i), "user_bases",
			    "'%s' is a single RDN: quote DNs inside [...] lists, YAML splits them at commas", p->user_bases[i]);
			return -1;
		}
		free(p->user_bases[i]);
		p->user_bases[i] = nd;
	}
	if (p->nservice == 0 && p->nuser_bases == 0) {
		yc_error(yc, root, "service_accounts", "name at least one service account or user base, "
		    "or nobody can bind with this profile");
		return -1;
	}
	return 0;
}

/* listeners: IP addresses only. */
static int
parse_listeners(struct pctx *x)
{
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	if ((p->listener_urls = calloc(p->nlisteners ? p->nlisteners : 1, sizeof(*p->listener_urls))) == NULL)
		return -1;
	for (size_t i = 0; i < p->nlisteners; i++) {
		char uerr[256];
		if (url_parse(p->listeners[i], &p->listener_urls[i], uerr, sizeof(uerr)) < 0) {
			yc_error(yc, yc_seq_item(yc, x->root, "listeners", i), "listeners", "%s", uerr);
			return -1;
		}
		if (!url_host_is_ip(&p->listener_urls[i])) {
			yc_error(yc, yc_seq_item(yc, x->root, "listeners", i), "listeners",
			    "'%s': listen on an IPv4 or [IPv6] address, not a host name", p->listeners[i]);
			return -1;
		}
	}
	return 0;
}

/* clients: networks; server_names: DNS names (lower-cased), "*." for one label.  Present means non-empty. */
static int
parse_selectors(struct pctx *x)
{
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *root = x->root;
	char **nets = NULL;
	size_t n = 0;
	if (yc_strlist(yc, root, "clients", "", &nets, &n) < 0)
		return -1;
	if (yc_get(yc, root, "clients") != NULL && n == 0) {
		yc_strlist_free(nets, n);
		yc_error(yc, yc_get(yc, root, "clients"), "clients",
		    "an empty list would let nobody use this profile: list networks (10.1.2.0/24, 2001:db8::/32), or "
		    "remove the key to allow every address");
		return -1;
	}
	if (n > 0 && (p->clients = calloc(n, sizeof(*p->clients))) == NULL) {
		yc_strlist_free(nets, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char why[300];
		if (net_parse(nets[i], &p->clients[i], why, sizeof(why)) < 0) {
			yc_error(yc, yc_seq_item(yc, root, "clients", i), "clients", "%s", why);
			yc_strlist_free(nets, n);
			return -1;
		}
		p->nclients++;
	}
	yc_strlist_free(nets, n);
	if (yc_strlist(yc, root, "server_names", "", &p->server_names, &p->nserver_names) < 0)
		return -1;
	if (yc_get(yc, root, "server_names") != NULL && p->nserver_names == 0) {
		yc_error(yc, yc_get(yc, root, "server_names"), "server_names",
		    "an empty list: name the DNS names products connect to (ldap.example.com, *.example.com), or remove the key");
		return -1;
	}
	for (size_t i = 0; i < p->nserver_names; i++) {
		const char *why;
		if (server_name_valid(p->server_names[i], &why) < 0) {
			yc_error(yc, yc_seq_item(yc, root, "server_names", i), "server_names", "'%s': %s", p->server_names[i],
			    why);
			return -1;
		}
		for (char *c = p->server_names[i]; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	return 0;
}

/* attribute_map, objectclass_map, virtual_attributes, defaults, dn_attributes. */
static int
parse_maps(struct pctx *x)
{
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *n;
	if (((n = yc_get(yc, x->root, "attribute_map")) != NULL &&
	    each_pair(yc, p, n, "attribute_map", attr_pair_cb, &x->ex) < 0) ||
	    ((n = yc_get(yc, x->root, "objectclass_map")) != NULL &&
	    each_pair(yc, p, n, "objectclass_map", oc_pair_cb, NULL) < 0) ||
	    ((n = yc_get(yc, x->root, "virtual_attributes")) != NULL &&
	    each_pair(yc, p, n, "virtual_attributes", vattr_cb, &x->ex) < 0) ||
	    ((n = yc_get(yc, x->root, "defaults")) != NULL && each_pair(yc, p, n, "defaults", default_cb, NULL) < 0))
		return -1;
	for (size_t i = 0; i < p->ndn_attributes; i++)
		if (!valid_attr_name(p->dn_attributes[i])) {
			yc_error(yc, yc_seq_item(yc, x->root, "dn_attributes", i), "dn_attributes",
			    "'%s' is not an attribute name", p->dn_attributes[i]);
			return -1;
		}
	return 0;
}

/* memberof: cleaning and the groups' container; groups: visible and login. */
static int
parse_groups(struct pctx *x)
{
	static const char *const mk[] = { "groups_only", "groups_base", NULL };
	static const char *const gk[] = { "visible", "login", NULL };
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *m = yc_get(yc, x->root, "memberof"), *g = yc_get(yc, x->root, "groups");
	char *gb = NULL, buf[DN_MAX];
	if (m != NULL && (yc_check_keys(yc, m, "memberof", mk) < 0 ||
	    yc_bool(yc, m, "groups_only", "memberof", &p->memberof_groups_only) < 0 ||
	    yc_str(yc, m, "groups_base", "memberof", &gb) < 0))
		return -1;
	if (gb == NULL) {
		snprintf(buf, sizeof(buf), "cn=groups,cn=accounts,%s", x->dsuffix);
		gb = strdup(buf);
	}
	p->groups_base_norm = gb ? norm_dup(gb, &p->groups_base_len) : NULL;
	free(gb);
	if (p->groups_base_norm == NULL) {
		yc_error(yc, m, "memberof.groups_base", "not a valid DN");
		return -1;
	}
	if (g != NULL && (yc_check_keys(yc, g, "groups", gk) < 0 ||
	    group_list(yc, p, g, "visible", "groups", &p->visible_groups, &p->nvisible_groups) < 0 ||
	    group_list(yc, p, g, "login", "groups", &p->login_groups, &p->nlogin_groups) < 0))
		return -1;
	return 0;
}

void
write_scope_free(struct write_scope *w)
{
	yc_strlist_free(w->subtrees, w->nsubtrees);
	yc_strlist_free(w->real_subtrees, w->nsubtrees);
	yc_strlist_free(w->classes, w->nclasses);
	yc_strlist_free(w->attrs, w->nattrs);
	memset(w, 0, sizeof(*w));
}

/*
 * writes.add / writes.delete / writes.modrdn (key): subtrees under
 * search_base (the product's terms, mapped to the directory's tree here);
 * for add, the object classes and the attributes a new entry may have,
 * never one policy_attr_unwritable() refuses.
 */
static int
parse_write_scope(struct pctx *x, yaml_node_t *wn, const char *key, struct write_scope *w)
{
	static const char *const addk[] = { "subtrees", "object_classes", "attributes", NULL };
	static const char *const otherk[] = { "subtrees", NULL };
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	int add = strcmp(key, "add") == 0;
	char path[32];
	snprintf(path, sizeof(path), "writes.%s", key);
	yaml_node_t *n = yc_get(yc, wn, key);
	if (n == NULL)
		return 0;
	w->line = yc_line(n);
	if (!yc_is_map(n)) {
		yc_error(yc, n, path, "a mapping is expected (subtrees:%s)", add ? ", object_classes:, attributes:" : "");
		return -1;
	}
	if (yc_check_keys(yc, n, path, add ? addk : otherk) < 0 ||
	    yc_strlist(yc, n, "subtrees", path, &w->subtrees, &w->nsubtrees) < 0 ||
	    (add && (yc_strlist(yc, n, "object_classes", path, &w->classes, &w->nclasses) < 0 ||
	    yc_strlist(yc, n, "attributes", path, &w->attrs, &w->nattrs) < 0)))
		return -1;
	if (w->nsubtrees == 0) {
		yc_error(yc, n, path, "list the subtrees (the product's DNs, under search_base) where it may %s entries",
		    add ? "add" : strcmp(key, "delete") == 0 ? "delete" : "rename");
		return -1;
	}
	if ((w->real_subtrees = calloc(w->nsubtrees, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < w->nsubtrees; i++) {
		char nd[DN_MAX], real[DN_MAX];
		const char *dn = w->subtrees[i];
		int nl = dn_normalize(dn, strlen(dn), nd, sizeof(nd));
		yaml_node_t *item = yc_seq_item(yc, n, "subtrees", i);
		if (nl <= 0 || single_rdn(dn)) {
			yc_error(yc, item, path, "'%s' is not a DN (quote DNs in a flow list: [\"cn=a,dc=b\"])", dn);
			return -1;
		}
		if (!dn_is_under(nd, (size_t)nl, p->search_base_norm, p->search_base_len)) {
			yc_error(yc, item, path, "'%s' is outside search_base %s", dn, p->search_base);
			return -1;
		}
		int rl = rewrite_dn_in(p, dn, strlen(dn), real, sizeof(real));
		nl = rl < 0 ? -1 : dn_normalize(real, (size_t)rl, nd, sizeof(nd));
		if (nl <= 0 || (w->real_subtrees[i] = strdup(nd)) == NULL) {
			yc_error(yc, item, path, "'%s' does not map to the directory's tree", dn);
			return -1;
		}
	}
	if (!add) {
		w->allowed = 1;
		return 0;
	}
	if (w->nclasses == 0) {
		yc_error(yc, n, path, "list the object_classes new entries may have (every value of their objectClass)");
		return -1;
	}
	for (size_t i = 0; i < w->nclasses; i++)
		if (!valid_attr_name(w->classes[i])) {
			yc_error(yc, yc_seq_item(yc, n, "object_classes", i), path, "'%s' is not an object class name",
			    w->classes[i]);
			return -1;
		}
	if (w->nattrs == 0) {
		yc_error(yc, n, path, "list the attributes new entries may carry besides objectClass");
		return -1;
	}
	for (size_t i = 0; i < w->nattrs; i++) {
		const char *a = w->attrs[i], *real = a;
		for (size_t k = 0; k < p->nattr_maps; k++)
			if (strcasecmp(p->attr_maps[k].virt, a) == 0)
				real = p->attr_maps[k].real;       /* a product's name for a forbidden attribute is forbidden too */
		if (!valid_attr_name(a) || policy_attr_unwritable(a, strlen(a)) || policy_attr_unwritable(real, strlen(real))) {
			yc_error(yc, yc_seq_item(yc, n, "attributes", i), path,
			    "'%s' may not be set through aldproxy (secrets, objectClass, memberOf, nsAccountLock, aci, "
			    "ipaUniqueID, ipaSshPubKey, userCertificate, HBAC/sudo membership and "
			    "krb*, pwd*, password*, nsRole*, ipaNT* never are; docs/profiles.md)", a);
			return -1;
		}
	}
	w->allowed = 1;
	return 0;
}

/*
 * writes: Password Modify, the attributes Modify may change (never secrets
 * or what decides access), and where Add, Delete and ModifyDN may act.
 */
static int
parse_writes(struct pctx *x)
{
	static const char *const wk[] = { "password_modify", "modify", "add", "delete", "modrdn", NULL };
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *wn = yc_get(yc, x->root, "writes");
	if (wn != NULL && (yc_check_keys(yc, wn, "writes", wk) < 0 ||
	    yc_bool(yc, wn, "password_modify", "writes", &p->write_password) < 0 ||
	    yc_strlist(yc, wn, "modify", "writes", &p->write_attrs, &p->nwrite_attrs) < 0 ||
	    parse_write_scope(x, wn, "add", &p->write_add) < 0 ||
	    parse_write_scope(x, wn, "delete", &p->write_delete) < 0 ||
	    parse_write_scope(x, wn, "modrdn", &p->write_moddn) < 0))
		return -1;
	for (size_t i = 0; i < p->nwrite_attrs; i++) {
		const char *a = p->write_attrs[i];
		if (!valid_attr_name(a) || policy_attr_secret(a, strlen(a)) || strcasecmp(a, "objectClass") == 0 ||
		    strcasecmp(a, "memberOf") == 0 || strcasecmp(a, "nsAccountLock") == 0) {
			yc_error(yc, yc_seq_item(yc, wn, "modify", i), "writes.modify",
			    "'%s' may not be written through aldproxy (secrets, objectClass, memberOf and the account "
			    "lock never are; passwords change with password_modify)", a);
			return -1;
		}
	}
	return 0;
}

/* rootdse, and the attributes searches may return (never a secret). */
static int
parse_attributes(struct pctx *x)
{
	static const char *const rk[] = { "active_directory", NULL };
	struct yamlcfg *yc = &x->yc;
	struct profile *p = x->p;
	yaml_node_t *r = yc_get(yc, x->root, "rootdse");
	if (r != NULL && (yc_check_keys(yc, r, "rootdse", rk) < 0 ||
	    yc_bool(yc, r, "active_directory", "rootdse", &p->rootdse_ad) < 0))
		return -1;
	if (p->nattributes == 0) {
		yaml_node_t *an = yc_get(yc, x->root, "attributes");
		yc_error(yc, an ? an : x->root, "attributes", "list the attributes searches may return (\"*\" for all)");
		return -1;
	}
	for (size_t i = 0; i < p->nattributes; i++) {
		if (strcmp(p->attributes[i], "*") == 0) {
			p->all_attributes = 1;
			continue;
		}
		if (!valid_attr_name(p->attributes[i])) {
			yc_error(yc, yc_seq_item(yc, x->root, "attributes", i), "attributes", "'%s' is not an attribute name",
			    p->attributes[i]);
			return -1;
		}
		if (policy_attr_secret(p->attributes[i], strlen(p->attributes[i]))) {
			yc_error(yc, yc_seq_item(yc, x->root, "attributes", i), "attributes",
			    "'%s' holds secrets and is never returned", p->attributes[i]);
			return -1;
		}
	}
	return 0;
}

/* What the engine derives once: the visible users' set, the user bases in the directory's terms. */
static int
derive(struct pctx *x)
{
	struct profile *p = x->p;
	if (p->nvisible_groups > 0 && (p->vis = visset_new()) == NULL)
		return -1;
	/* the user bases in the directory's terms, for the visibility rule (policy_visibility()) */
	if (p->nuser_bases > 0 && (p->real_user_bases = calloc(p->nuser_bases, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < p->nuser_bases; i++) {
		char real[DN_MAX];
		if (rewrite_dn_in(p, p->user_bases[i], strlen(p->user_bases[i]), real, sizeof(real)) < 0 ||
		    (p->real_user_bases[p->nreal_user_bases] = strdup(real)) == NULL)
			return -1;
		p->nreal_user_bases++;
	}
	return 0;
}

int
profile_parse(const char *file, struct profile **out, char *err, size_t errlen)
{
	struct pctx x = { .dsuffix = NULL, .ex = { NULL, 0 } };
	struct profile *p = calloc(1, sizeof(*p));
	int rc = -1;
	if (p == NULL || (p->ref = calloc(1, sizeof(*p->ref))) == NULL) {
		free(p);
		return -1;
	}
	p->ref->self = p;
	p->file = strdup(file);
	x.p = p;
	if (yc_load(&x.yc, file, err, errlen) == 0) {
		x.root = yc_root(&x.yc);
		if (parse_top(&x) == 0 && parse_bases(&x) == 0 && parse_listeners(&x) == 0 &&
		    parse_selectors(&x) == 0 && parse_maps(&x) == 0 &&
		    parse_groups(&x) == 0 && parse_bind_names(&x.yc, p, x.root, x.dsuffix) == 0 &&
		    parse_writes(&x) == 0 && parse_attributes(&x) == 0 && derive(&x) == 0)
			rc = 0;
	}
	free(x.dsuffix);
	yc_strlist_free(x.ex.v, x.ex.n);
	yc_free(&x.yc);
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
		p->ref->n = 1;  /* the set's */
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
	/* a profile with a listener of its own is an end user's last resort on the others (profile_select()) */
	for (size_t i = 0; i < set->n; i++) {
		struct profile *p = set->v[i];
		p->pinned = p->nlisteners > 0;
		for (size_t c = 0; cfg != NULL && c < cfg->nlisteners; c++)
			if (cfg->listeners[c].profile != NULL && strcmp(cfg->listeners[c].profile, p->name) == 0)
				p->pinned = 1;
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
