/*
 * policy.h — what a profile lets through, decided by allowlists.
 *
 * Pure functions of the profile, the directory's schema and the request:
 * no I/O, no state but the schema set by policy_schema_set().  Every
 * handler (search, compare, bind, writes, extended operations) and
 * `aldproxyctl explain` ask the same questions here, so explain shows what
 * the daemon does.  What is not known to be safe is refused (critical, or
 * cannot be ignored) or dropped (a non-critical control); see
 * docs/security.md for the rules in prose.
 */
#ifndef ALDPROXY_POLICY_H
#define ALDPROXY_POLICY_H

#include <stddef.h>
#include <lber.h>

#include "filter.h"
#include "profile.h"
#include "request.h"

#define POLICY_ATTR_MAX 128         /* longest attribute description accepted */

#define OID_PPOLICY "1.3.6.1.4.1.42.2.27.8.5.1"
#define OID_AD_DOMAIN_SCOPE "1.2.840.113556.1.4.1339"
#define OID_NS_PW_EXPIRED "2.16.840.1.113730.3.4.4"
#define OID_NS_PW_EXPIRING "2.16.840.1.113730.3.4.5"

/*
 * RFC 4512 2.5 attribute description: (keystring / numericoid) *(";" option).
 * Returns 1 when valid, with *typelen the length of the type (before the
 * first ';'), else 0.
 */
int policy_attrdesc_valid(const char *s, size_t n, size_t *typelen);

/* A numeric OID as the type ("2.5.4.35", "2.5.4.35;binary"). */
int policy_attr_is_oid(const char *s, size_t n);

/*
 * Secrets: never returned, tested, compared, sorted or modified, whatever
 * the profile says.  The type is resolved first (options dropped, aliases
 * and subtypes through the schema), so every name of a secret is one.
 * Malformed descriptions count as secrets (nothing may use them).
 */
int policy_attr_secret(const char *s, size_t n);

/*
 * What Add (writes.add) may never set, whatever the profile lists:
 * secrets, objectClass (writes.add.object_classes decides it), and what
 * decides access or identity — memberOf, nsAccountLock, aci, ipaUniqueID,
 * ipaNTSecurityIdentifier, ipaSshPubKey, userCertificate, the HBAC/sudo
 * membership attributes (memberUser, memberHost,
 * memberService, memberAllowCmd, memberDenyCmd, ipaSudoRunAs,
 * ipaSudoRunAsGroup) and every krb*, pwd*, password*, nsRole* and ipaNT*
 * attribute.  Options are dropped and aliases resolved first; numeric OIDs
 * and malformed descriptions count as unwritable.
 */
int policy_attr_unwritable(const char *s, size_t n);

/* The profile's attribute allowlist (client's names); secrets, OIDs and malformed names never. */
int policy_attr_allowed(const struct profile *p, const char *s, size_t n);

/*
 * The filter a client sent, before any rewrite: every attribute
 * description valid (else protocolError), allowed by the profile, no
 * type-less extensible match, no dnAttributes unless the profile allows
 * every attribute.  LDAP_SUCCESS, or a result code with diag filled.
 */
int policy_filter_check(const struct profile *p, const struct fnode *f, char *diag, size_t dlen);

/* Every attribute description in the filter valid (else protocolError); for the rootDSE, before a profile. */
int policy_filter_wellformed(const struct fnode *f, char *diag, size_t dlen);

/*
 * The filter as the directory will get it (after any rewrite): no >= or <=
 * on DN- or OID-valued types without an ordering rule (the schema's syntax,
 * or a built-in list without the schema) — 389-ds 2.3 crashes on them.
 * LDAP_SUCCESS or inappropriateMatching with diag.
 */
int policy_filter_matchable(const struct fnode *f, char *diag, size_t dlen);
int policy_attr_orderable(const char *s, size_t n);
/* Operational types (schema USAGE, or a built-in list): returned only when named or with "+". */
int policy_attr_operational(const char *s, size_t n);

/*
 * The attribute list of a search: each entry a valid description or one
 * of "*", "+", "1.1" (else protocolError).  LDAP_SUCCESS or a code.
 */
int policy_attrlist_check(const struct berval *attrs, size_t n, char *diag, size_t dlen);

/* What becomes of one request control. */
enum policy_ctl {
	PCTL_DROP = 0,              /* not forwarded */
	PCTL_FORWARD,               /* forwarded as received (value checked) */
	PCTL_PAGED,                 /* paged results: aldproxy runs it (search.c) */
};

/*
 * Decides every control of a request with protocolOp tag op_tag (the
 * request's own tag; Password Modify is PDU_EXT_REQ).  verdict[i] is set
 * for each control.  Returns LDAP_SUCCESS, unavailableCriticalExtension
 * for a critical control not allowed here, or protocolError for a
 * malformed value or a repeated control; *diag then says which.
 */
int policy_controls(unsigned op_tag, const struct req_controls *cs, unsigned char *verdict, char *diag, size_t dlen);

/* Whether a control the directory put on a response of type resp_tag to request req_tag reaches the client. */
int policy_response_control(unsigned req_tag, unsigned resp_tag, const char *oid, size_t len);

/* ---- visibility (groups.visible) --------------------------------------------------- */

enum policy_vis {
	VIS_NONE,           /* invisible: outside every base the profile shows (compat tree, hosts ...) */
	VIS_CONTAINER,      /* a user base, the groups' container, or a container above them */
	VIS_GROUP,          /* under the groups' container */
	VIS_USER,           /* under a user base: visible only as a member of a visible group */
};

/*
 * Where a (real, normalized) DN stands for a profile with visible groups.
 * Profiles without visible groups see everything under their search base:
 * VIS_CONTAINER for every DN.
 */
enum policy_vis policy_visibility(const struct profile *p, const char *ndn, size_t len);

/*
 * Whether a DN value (member, manager ... as the directory has it) names an
 * entry the profile sees: users through the profile's visible-users set
 * (visset.h); a uid (memberUid) likewise.
 */
int policy_dn_value_visible(const struct profile *p, const char *dn, size_t len);
int policy_uid_visible(const struct profile *p, const char *uid, size_t len);

/* Whether memberOf values (as the directory returned them) name a visible group. */
int policy_member_visible(const struct profile *p, const struct berval *memberof, size_t n);

/* ---- the directory's schema ------------------------------------------------------- */

struct policy_schema;

/*
 * Parses attributeTypes values (RFC 4512 4.1.2) into a schema: names,
 * aliases, OIDs, SUP chains; a type is secret when any of its names or
 * its OID is a known secret, when it is a subtype of a secret, or a
 * supertype of one (a filter on it would test the secret).  Values that do
 * not parse are skipped and counted in *skipped.  NULL when out of memory.
 */
struct policy_schema *policy_schema_parse(const struct berval *values, size_t n, size_t *skipped);
void policy_schema_free(struct policy_schema *s);
size_t policy_schema_types(const struct policy_schema *s);
/* Makes s the schema policy decisions use (NULL: the built-in aliases only); returns the old one. */
struct policy_schema *policy_schema_set(struct policy_schema *s);

/* Canonical (first) name of a type, lower case, for names or OIDs; NULL when unknown. */
const char *policy_attr_canonical(const char *s, size_t n);

#endif
