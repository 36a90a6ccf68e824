/*
 * fuzz_common.h — shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * Profiles are written as YAML to a temporary directory and loaded once
 * with profile_set_load(), as the unit tests do (tests/unit/test_rewrite.c):
 *   ad     AD emulation: virtual tree DC=example,DC=com over dc=ald,dc=test,
 *          attribute and class maps, computed attributes, defaults, "*"
 *   vis    visible groups (portal-users; alice is its only member), "*"
 *   crm    an attribute allowlist, one name map, a GUID
 * Temporary files go under $TMPDIR (tests/fuzz/run.sh gives each run its own).
 *
 * FZ_CHECK() is an invariant: when it fails the harness aborts, which
 * libFuzzer reports as a crash with the input that caused it.
 */
#ifndef ALDPROXY_FUZZ_COMMON_H
#define ALDPROXY_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile.h"

#define FZ_CHECK(cond)                                                                                    \
	do {                                                                                                  \
		if (!(cond)) {                                                                                    \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);           \
			abort();                                                                                      \
		}                                                                                                 \
	} while (0)

struct fz_profiles {
	struct profile_set *set;
	const struct profile *ad, *vis, *crm;
};

/* The profiles above, loaded on the first call (aborts if they do not load). */
const struct fz_profiles *fz_profiles(void);

/* A new private directory under $TMPDIR (or /tmp) into out; removed at exit.  Aborts on failure. */
void fz_tmpdir(char *out, size_t len, const char *tag);
/* Writes len bytes to dir/name; 0 or -1. */
int fz_write(const char *dir, const char *name, const void *data, size_t len);
/* Removes a file or a directory tree. */
void fz_rm_rf(const char *path);

/*
 * A copy of len bytes in a buffer of its own, so that ASan sees aldproxy's
 * reads past the end; free it with fz_free().  liblber (not instrumented)
 * reads the octet after the last element it scans (ber_skip_element saves
 * it in ber_tag), so the copy has one spare byte after it, as the daemon's
 * evbuffer chains practically do.  With ALDPROXY_FUZZ_GUARD=1 in the
 * environment the copy ends right before an inaccessible page instead:
 * every read past the end, liblber's included, is a SEGV (see
 * docs/security.md, "Fuzzing").
 */
unsigned char *fz_dup(const uint8_t *data, size_t len);
void fz_free(unsigned char *p);

/* Whether [p, p+n) lies inside [base, base+len). */
int fz_inside(const void *p, size_t n, const void *base, size_t len);

#endif
