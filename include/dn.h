/*
 * dn.h — distinguished-name normalization for comparisons.
 *
 * Normal form: attribute types and values lower-cased (ASCII), spaces
 * around ',', '+' and '=' removed, escapes kept.  Good for the
 * case-insensitive naming attributes of a FreeIPA tree (dc, cn, uid, ou).
 */
#ifndef ALDPROXY_DN_H
#define ALDPROXY_DN_H

#include <stddef.h>

#define DN_MAX 1024

/* Writes the normal form of in[0..len) to out; returns its length or -1. */
int dn_normalize(const char *in, size_t len, char *out, size_t outlen);
/* True if ndn equals nbase or lies under it (both normalized). */
int dn_is_under(const char *ndn, size_t len, const char *nbase, size_t blen);

#endif
