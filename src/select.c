/*
 * select.c — which profile a bind gets: the listener's, a service account's,
 * or among the profiles that take the name, by the TLS server name, the
 * source address, the connection's current profile, then name order.  See
 * select.h; the selectors themselves (clients, server_names) are profile.c's.
 */
#include "select.h"

#include <string.h>

#include "dn.h"
#include "profile.h"
#include "rewrite.h"

/* Whether p may be used from o's address (p's clients, if any). */
static int
allows(const struct profile *p, const struct bind_origin *o)
{
	return profile_allows_address(p, o ? o->addr : NULL);
}

const char *
select_step_name(enum select_step s)
{
	switch (s) {
	case SEL_FIXED: return "the listener's profile";
	case SEL_SERVICE: return "(a) service account";
	case SEL_SERVER_NAME: return "(b) server_names holds the TLS server name";
	case SEL_CLIENTS: return "(c) clients holds the source address";
	case SEL_CURRENT: return "(d) the connection's current profile";
	case SEL_FIRST: return "(e) first by name among profiles without clients, server_names or a listener";
	case SEL_PINNED: return "(f) first by name among profiles with a listener of their own";
	default: return "none";
	}
}

/* Whether p takes the name as one of its users: a DN under its user bases, or a login form it translates. */
static int
takes_user(const struct profile *p, const char *name, size_t len, const char *ndn, size_t nl)
{
	if (ndn != NULL)
		return profile_takes_dn(p, ndn, nl);
	char tmp[DN_MAX];
	return rewrite_bind_is_login(p, name, len) && rewrite_bind_name(p, name, len, tmp, sizeof(tmp)) >= 0;
}

/* Whether p is a candidate at step s for an origin (its selector matches); the address is checked apart. */
static int
step_matches(const struct profile *p, enum select_step s, const struct bind_origin *o)
{
	switch (s) {
	case SEL_SERVER_NAME:
		return p->nserver_names > 0 && profile_allows_name(p, o);
	case SEL_CLIENTS:
		return p->nserver_names == 0 && p->nclients > 0;
	case SEL_FIRST:
		return p->nserver_names == 0 && p->nclients == 0 && !p->pinned;
	case SEL_PINNED:
		return p->nserver_names == 0 && p->nclients == 0 && p->pinned;
	default:
		return 0;
	}
}

const struct profile *
profile_select(const struct profile_set *set, const struct profile *fixed, const struct profile *current,
    const struct bind_origin *o, const char *name, size_t len, char *real, size_t reallen, struct bind_choice *ch)
{
	memset(ch, 0, sizeof(*ch));
	char ndn[DN_MAX];
	const char *nd = NULL;
	size_t nl = 0;
	if (memchr(name, '=', len) != NULL) {
		int n = dn_normalize(name, len, ndn, sizeof(ndn));
		if (n < 0)
			return NULL;
		nd = ndn;
		nl = (size_t)n;
	}
	const struct profile *p = NULL;
	if (fixed != NULL) {
		if (nd != NULL && (ch->sa = profile_service_account(fixed, nd)) != NULL)
			ch->role = ROLE_SERVICE;
		else if (takes_user(fixed, name, len, nd, nl))
			ch->role = ROLE_USER;
		else
			return NULL;
		p = fixed;
		ch->step = SEL_FIXED;
	}
	/* (a) a service account's DN names its profile on any listener */
	for (size_t i = 0; p == NULL && nd != NULL && i < set->n; i++)
		if ((ch->sa = profile_service_account(set->v[i], nd)) != NULL) {
			p = set->v[i];
			ch->role = ROLE_SERVICE;
			ch->step = SEL_SERVICE;
		}
	if (p != NULL) {
		if (!allows(p, o)) {
			ch->refused = p;
			ch->sa = NULL;
			ch->role = ROLE_NONE;
			return NULL;
		}
	} else {
		/* (b)-(f): the profiles that take the name as a user's, each step in name order */
		static const enum select_step steps[] = { SEL_SERVER_NAME, SEL_CLIENTS, SEL_CURRENT, SEL_FIRST, SEL_PINNED };
		for (size_t k = 0; p == NULL && k < sizeof(steps) / sizeof(steps[0]); k++) {
			if (steps[k] == SEL_CURRENT) {
				if (current != NULL && profile_allows_name(current, o) && allows(current, o) &&
				    takes_user(current, name, len, nd, nl))
					p = current;
			} else {
				for (size_t i = 0; p == NULL && i < set->n; i++)
					if (step_matches(set->v[i], steps[k], o) && allows(set->v[i], o) &&
					    takes_user(set->v[i], name, len, nd, nl))
						p = set->v[i];
			}
			if (p != NULL) {
				ch->step = steps[k];
				ch->role = ROLE_USER;
			}
		}
		if (p == NULL) {
			/* a profile would take it but not from this address: say so (audit) */
			for (size_t i = 0; i < set->n && ch->refused == NULL; i++)
				if (profile_allows_name(set->v[i], o) && !allows(set->v[i], o) && takes_user(set->v[i], name, len, nd, nl))
					ch->refused = set->v[i];
			return NULL;
		}
	}
	if (rewrite_bind_name(p, name, len, real, reallen) < 0) {
		ch->role = ROLE_NONE;
		ch->sa = NULL;
		ch->step = SEL_NONE;
		return NULL;
	}
	return p;
}

