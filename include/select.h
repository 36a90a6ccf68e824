/*
 * select.h — which profile a bind gets (select.c).  The types (struct
 * bind_origin, enum select_step, struct bind_choice) are profile.h's.
 */
#ifndef ALDPROXY_SELECT_H
#define ALDPROXY_SELECT_H

#include <stddef.h>

#include "profile.h"

const char *select_step_name(enum select_step s);

/*
 * Chooses the profile for a bind name (a DN, or a login form the profiles
 * translate: user@REALM, NETBIOS\user, login) and translates the name into
 * real (the directory's DN).  On a listener with a profile (fixed) that
 * profile; otherwise, in order: (a) the profile naming the DN as a service
 * account, (b) the first profile (by name) whose server_names hold the
 * SNI, (c) the first whose clients hold the source address, (d) the
 * connection's current profile, (e) the first profile without clients,
 * server_names or a listener of its own, (f) the first profile that owns
 * a listener.  At (b)-(f) only profiles that accept the name as a user
 * count, and a profile is never used from an address outside its clients:
 * NULL then, with ch->refused set.  NULL with ch->refused NULL: no profile
 * takes the name.
 */
const struct profile *profile_select(const struct profile_set *set, const struct profile *fixed,
    const struct profile *current, const struct bind_origin *o, const char *name, size_t len, char *real,
    size_t reallen, struct bind_choice *ch);

#endif
