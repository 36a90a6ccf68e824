/*
 * profile_load.h — parsing one profile file into a struct profile (profile.h).
 */
#ifndef ALDPROXY_PROFILE_LOAD_H
#define ALDPROXY_PROFILE_LOAD_H

#include <stddef.h>

struct profile;

int  profile_parse(const char *file, struct profile **out, char *err, size_t errlen);

#endif
