/*
 * profile.c — the profile type: references, lookup by name, the choice of
 * a profile for a bind, its destructor.  Loading is profile_load.c's.
 */
#include "profile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
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
	free(p->clients);
	yc_strlist_free(p->server_names, p->nserver_names);
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
	write_scope_free(&p->write_add);
	write_scope_free(&p->write_delete);
	write_scope_free(&p->write_moddn);
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

const struct service_account *
profile_service_account(const struct profile *p, const char *ndn)
{
	for (size_t i = 0; i < p->nservice; i++)
		if (strcmp(p->service[i].ndn, ndn) == 0)
			return &p->service[i];
	return NULL;
}

int
profile_takes_dn(const struct profile *p, const char *ndn, size_t len)
{
	for (size_t i = 0; i < p->nuser_bases; i++)
		if (dn_is_under(ndn, len, p->user_bases[i], strlen(p->user_bases[i])) &&
		    strlen(p->user_bases[i]) != len)
			return 1;
	return 0;
}

/* ---- the choice of a profile by where a bind comes from ------------------ */

int
net_parse(const char *s, struct net *out, char *why, size_t wlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	memset(out, 0, sizeof(*out));
	size_t l = strlen(s);
	if (l == 0 || l >= sizeof(buf)) {
		snprintf(why, wlen, "'%s' is not a network: use ADDRESS or ADDRESS/PREFIX (10.1.2.0/24, 2001:db8::/32)", s);
		return -1;
	}
	memcpy(buf, s, l + 1);
	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		out->bits = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		out->bits = 128;
	} else {
		snprintf(why, wlen, "'%s' is not a network: use ADDRESS or ADDRESS/PREFIX (10.1.2.0/24, 2001:db8::/32)", s);
		return -1;
	}
	unsigned max = out->bits;
	if (slash != NULL) {
		const char *d = slash + 1;
		unsigned v = 0;
		size_t nd = strlen(d);
		if (nd == 0 || nd > 3 || strspn(d, "0123456789") != nd || (v = (unsigned)atoi(d)) > max) {
			snprintf(why, wlen, "'%s': the prefix length must be 0 to %u", s, max);
			return -1;
		}
		out->bits = v;
	}
	/* host bits set: almost always a typo for another network */
	size_t nbytes = out->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < nbytes; i++) {
		unsigned keep = out->bits >= (i + 1) * 8 ? 8 : out->bits > i * 8 ? out->bits - (unsigned)i * 8 : 0;
		unsigned char mask = (unsigned char)(keep == 8 ? 0xff : (0xff << (8 - keep)) & 0xff);
		if ((out->addr[i] & ~mask) != 0) {
			struct net fixed = *out;
			for (size_t k = 0; k < nbytes; k++) {
				unsigned kk = fixed.bits >= (k + 1) * 8 ? 8 : fixed.bits > k * 8 ? fixed.bits - (unsigned)k * 8 : 0;
				fixed.addr[k] &= (unsigned char)(kk == 8 ? 0xff : (0xff << (8 - kk)) & 0xff);
			}
			char net[INET6_ADDRSTRLEN + 8];
			net_format(&fixed, net, sizeof(net));
			snprintf(why, wlen, "'%s' has bits set past its prefix: the network is %s (or give the address alone)", s,
			    net);
			return -1;
		}
	}
	return 0;
}

void
net_format(const struct net *n, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(n->family, n->addr, a, sizeof(a));
	snprintf(out, outlen, "%s/%u", a, n->bits);
}

/* The first bits of a and b agree. */
static int
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t full = bits / 8;
	if (memcmp(a, b, full) != 0)
		return 0;
	unsigned rest = bits % 8;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)((0xff << (8 - rest)) & 0xff);
	return (a[full] & mask) == (b[full] & mask);
}

int
net_contains(const struct net *nets, size_t n, const char *addr)
{
	unsigned char a[16];
	int family;
	if (addr == NULL)
		return 0;
	if (inet_pton(AF_INET, addr, a) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		family = AF_INET6;
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			/* an IPv4 client of a dual-stack [::] listener */
			memmove(a, a + 12, 4);
			family = AF_INET;
		}
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == family && prefix_eq(nets[i].addr, a, nets[i].bits))
			return 1;
	return 0;
}

int
net_overlap(const struct net *a, const struct net *b)
{
	return a->family == b->family && prefix_eq(a->addr, b->addr, a->bits < b->bits ? a->bits : b->bits);
}

int
server_name_valid(const char *s, const char **why)
{
	const char *n = s;
	unsigned char ip[16];
	if (s[0] == '*') {
		if (s[1] != '.') {
			*why = "a wildcard is '*.' before a name (*.example.com), for one label";
			return -1;
		}
		n = s + 2;
	}
	if (inet_pton(AF_INET, n, ip) == 1 || inet_pton(AF_INET6, n, ip) == 1) {
		*why = "an IP address: clients send no server name when they connect to an address (select by clients:)";
		return -1;
	}
	size_t total = strlen(n), labels = 0;
	if (total == 0 || total > 253) {
		*why = "not a DNS name (1 to 253 characters)";
		return -1;
	}
	for (const char *l = n; *l;) {
		size_t ll = strcspn(l, ".");
		if (ll == 0 || ll > 63) {
			*why = "not a DNS name: empty label, label over 63 characters, or a dot at the end";
			return -1;
		}
		for (size_t i = 0; i < ll; i++) {
			char c = l[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
				*why = "not a DNS name: use letters, digits, '-' and dots (and '*.' only at the start)";
				return -1;
			}
		}
		labels++;
		l += ll;
		if (*l == '.') {
			l++;
			if (*l == '\0') {
				*why = "not a DNS name: empty label, label over 63 characters, or a dot at the end";
				return -1;
			}
		}
	}
	if (n != s && labels < 2) {
		*why = "a wildcard needs a name of two labels or more after '*.' (*.example.com)";
		return -1;
	}
	return 0;
}

int
server_name_match(const char *pattern, const char *name)
{
	if (name == NULL || *name == '\0')
		return 0;
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(name, '.');
		return dot != NULL && dot != name && strcasecmp(dot + 1, pattern + 2) == 0;
	}
	return strcasecmp(pattern, name) == 0;
}

int
profile_allows_address(const struct profile *p, const char *addr)
{
	return p->nclients == 0 || net_contains(p->clients, p->nclients, addr);
}

int
profile_allows_name(const struct profile *p, const struct bind_origin *o)
{
	if (p->nserver_names == 0)
		return 1;
	for (size_t i = 0; o != NULL && i < p->nserver_names; i++)
		if (server_name_match(p->server_names[i], o->sni))
			return 1;
	return 0;
}


/* ---- ambiguity on a shared listener -------------------------------------- */

char *const *
profile_login_rule(const struct profile *p, size_t *n)
{
	*n = p->nlogin_groups ? p->nlogin_groups : p->nvisible_groups;
	return p->nlogin_groups ? p->login_groups : p->visible_groups;
}

int
profile_shared(const struct profile *p)
{
	return !p->pinned || p->nclients > 0 || p->nserver_names > 0;
}

static int
same_login_rule(const struct profile *a, const struct profile *b)
{
	size_t na, nb;
	char *const *ga = profile_login_rule(a, &na), *const *gb = profile_login_rule(b, &nb);
	for (size_t i = 0; i < na; i++) {
		size_t j = 0;
		while (j < nb && strcmp(ga[i], gb[j]) != 0)
			j++;
		if (j == nb)
			return 0;
	}
	for (size_t j = 0; j < nb; j++) {
		size_t i = 0;
		while (i < na && strcmp(ga[i], gb[j]) != 0)
			i++;
		if (i == na)
			return 0;
	}
	return 1;
}

/* Some bind name both take: what, for the message. */
static int
names_overlap(const struct profile *a, const struct profile *b, char *what, size_t wlen)
{
	for (size_t i = 0; i < a->nuser_bases; i++)
		for (size_t j = 0; j < b->nuser_bases; j++) {
			const char *x = a->user_bases[i], *y = b->user_bases[j];
			size_t xl = strlen(x), yl = strlen(y);
			if (dn_is_under(x, xl, y, yl) || dn_is_under(y, yl, x, xl)) {
				snprintf(what, wlen, "users under %s", xl >= yl ? x : y);
				return 1;
			}
		}
	if (a->bind_login && b->bind_login) {
		snprintf(what, wlen, "bare logins (bind_names.formats: login)");
		return 1;
	}
	for (size_t i = 0; a->bind_upn && b->bind_upn && i < a->nrealms; i++)
		for (size_t j = 0; j < b->nrealms; j++)
			if (strcasecmp(a->realms[i], b->realms[j]) == 0) {
				snprintf(what, wlen, "user@%s", a->realms[i]);
				return 1;
			}
	if (a->bind_netbios && b->bind_netbios && a->netbios && b->netbios && strcasecmp(a->netbios, b->netbios) == 0) {
		snprintf(what, wlen, "%s\\user", a->netbios);
		return 1;
	}
	return 0;
}

/* Some address both allow. */
static int
clients_overlap(const struct profile *a, const struct profile *b)
{
	if (a->nclients == 0 || b->nclients == 0)
		return 1;
	for (size_t i = 0; i < a->nclients; i++)
		for (size_t j = 0; j < b->nclients; j++)
			if (net_overlap(&a->clients[i], &b->clients[j]))
				return 1;
	return 0;
}

/* Some server name both match. */
static int
server_names_overlap(const struct profile *a, const struct profile *b)
{
	for (size_t i = 0; i < a->nserver_names; i++)
		for (size_t j = 0; j < b->nserver_names; j++) {
			const char *x = a->server_names[i], *y = b->server_names[j];
			int xw = x[0] == '*', yw = y[0] == '*';
			if ((xw == yw && strcasecmp(x, y) == 0) || (xw && !yw && server_name_match(x, y)) ||
			    (yw && !xw && server_name_match(y, x)))
				return 1;
		}
	return 0;
}

int
profile_pair_ambiguous(const struct profile *a, const struct profile *b, char *what, size_t wlen)
{
	if (!profile_shared(a) || !profile_shared(b) || same_login_rule(a, b) || !names_overlap(a, b, what, wlen))
		return 0;
	/* the same step of profile_select() for some client */
	if (a->nserver_names > 0 || b->nserver_names > 0)
		return a->nserver_names > 0 && b->nserver_names > 0 && server_names_overlap(a, b) && clients_overlap(a, b);
	if (a->nclients > 0 || b->nclients > 0)
		return a->nclients > 0 && b->nclients > 0 && clients_overlap(a, b);
	return 1;
}
