#!/usr/bin/env python3
"""product_astra-disk.py — a Nextcloud-style LDAP backend (Astra Disk;
Nextcloud's apps/user_ldap) replayed through aldproxy with python3-ldap3,
for test_product_astra-disk.sh.

Usage: product_astra-disk.py SERVICE_PASSWORD LOGIN_GROUP OUT_DIR

All traffic goes to PINNED_URL (plain ldap + StartTLS, a listener given to
the astra-disk profile: the password check is a fresh connection).
  * login: the wizard's login filter with the login escaped, paged (500),
    then the password checked by a bind on a new connection;
  * UUID: base reads of entryuuid, nsuniqueid, objectguid, guid, ipauniqueid
    in that order, the first value wins; lookups by (<attr>=<value>); and the
    recommended Expert setting ipaUniqueID;
  * "still matches?" base reads filtered by the user / group filter, also
    with an empty attribute list entry (ldap_read(..., [''])), sent raw;
  * groups from memberOf checked against the group filter, and members by
    (memberof:1.2.840.113556.1.4.1941:=<group>) with nested groups on;
  * the user listing (background sync): the user filter paged by 500.
Writes OUT_DIR/users.dns (lower-cased DNs of the listing) for the shell test.
"""
import os
import sys

import ldapwire as W
from product_common import (E, KIND, PW, USERS, SUFFIX, check, ok, case, udn, gdn, connect,
                            simple_bind, search, paged_all, attr, direct_entry, direct_dns, norm,
                            real_groups_of, escape_filter, group_dn_kind)

SVC_PW, GROUP, OUT = sys.argv[1:4]
SVC = "uid=astra-disk,cn=sysaccounts,cn=etc,%s" % SUFFIX
URL = E["PINNED_URL"]
UUID_ATTRIBUTES = ["entryuuid", "nsuniqueid", "objectguid", "guid", "ipauniqueid"]
USER_FILTER = "(&(|(objectclass=inetOrgPerson))(|(memberof=%s)))" % gdn(GROUP)
LOGIN_FILTER = "(&%s(uid=%%s))" % USER_FILTER
GROUP_FILTER = "(&(|(objectclass=groupOfNames)))"
USER_ATTRS = ["dn", "uid", "samaccountname", "memberof", "displayname", "mail", "jpegphoto",
              "thumbnailphoto"]
PAGE = 500


def agent():
    c = connect(URL, starttls=True)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "agent bind: %s %s" % (code, msg))
    return c


def read_attribute(c, dn, name, filt="(objectClass=*)"):
    es, r = search(c, dn, filt, [name], scope="BASE")
    if r.get("result") != 0 or not es:
        return None
    return attr(es[0], name) or None


def detect_uuid(c, dn):
    for a in UUID_ATTRIBUTES:
        v = read_attribute(c, dn, a)
        if v and v[0]:
            return a, v[0]
    return None, None


def credentials_valid(dn, password):
    t = connect(URL, starttls=True)          # clone of the connection, agent = the user
    code, msg = simple_bind(t, dn, password)
    t.unbind()
    return code, msg


c = agent()

# ---- logins
for login in ("alice", "carol", "dave", "user0021"):
    es, pages = paged_all(c, USERS, LOGIN_FILTER % escape_filter(login), USER_ATTRS, PAGE)
    check(len(es) == 1 and es[0]["dn"].lower() == udn(login).lower(), "login filter for %s: %r"
          % (login, [e["dn"] for e in es]))
    code, msg = credentials_valid(es[0]["dn"], PW)
    check(code == 0, "%s's password check: %s %s" % (login, code, msg))
    for v in attr(es[0], "memberof"):
        check(group_dn_kind(v) == "group", "%s: memberOf %s" % (login, v))
es, _ = paged_all(c, USERS, LOGIN_FILTER % escape_filter("user0015"), USER_ATTRS, PAGE)
check(not es, "user0015 (outside %s) found by the login filter" % GROUP)
# the proxy hides her even from a filter without Nextcloud's own memberof clause
es, _ = paged_all(c, USERS, "(uid=user0015)", USER_ATTRS, PAGE)
check(not es, "user0015 found by (uid=user0015)")
code, wrong = credentials_valid(udn("alice"), "wrong-password")
check(code == 49, "alice wrong password: %s %s" % (code, wrong))
code, msg = credentials_valid(udn("user0015"), PW)
check((code, msg) == (49, wrong), "user0015's bind: %s %r, expected 49 %r" % (code, msg, wrong))
code, msg = credentials_valid(udn("eve"), PW)
want = 53 if KIND == "389ds" else 49
check(code == want, "locked eve (%s): %s %s, expected %d" % (KIND, code, msg, want))
# an unknown login: the login filter finds nobody, a bind as his would-be DN is refused
es, _ = paged_all(c, USERS, LOGIN_FILTER % escape_filter("nosuchuser"), USER_ATTRS, PAGE)
check(not es, "nosuchuser found by the login filter: %r" % [e["dn"] for e in es])
code, msg = credentials_valid(udn("nosuchuser"), PW)
check((code, msg) == (49, wrong), "nosuchuser's bind: %s %r, expected 49 %r" % (code, msg, wrong))
for login in ("*", "ali*", "alice)(uid=*"):
    es, _ = paged_all(c, USERS, LOGIN_FILTER % escape_filter(login), USER_ATTRS, PAGE)
    check(not es, "login %r matched %d entries" % (login, len(es)))
ok("logins: alice, carol (nested), dave, user0021 found and their passwords accepted; user0015 hidden "
   "and refused (49, like a wrong password); locked eve %d; nosuchuser not found, his bind 49; escaped wildcards match nothing" % want)
case("wrong_password", "bind 49")
case("locked_account", "eve (in the group): bind %d" % want)
case("unknown_user", "nosuchuser: not found; bind 49 like a wrong password")
case("outside_groups", "user0015: not found; bind 49 like a wrong password")

# ---- UUID detection and lookups
seen = {}
for login in ("alice", "bob", "carol", "user0021"):
    a, v = detect_uuid(c, udn(login))
    check(a is not None, "no UUID attribute for %s" % login)
    a2, v2 = detect_uuid(c, udn(login))
    check((a2, v2) == (a, v), "UUID of %s not stable: %r then %r" % (login, (a, v), (a2, v2)))
    check(v not in seen, "UUID %s of %s is also %s's" % (v, login, seen.get(v)))
    seen[v] = login
    es, r = search(c, USERS, "(%s=%s)" % (a, v), ["dn"])
    check(len(es) == 1 and es[0]["dn"].lower() == udn(login).lower(), "lookup (%s=%s): %r" % (a, v, r))
    ipa = read_attribute(c, udn(login), "ipauniqueid")
    d = attr(direct_entry(udn(login), ("ipaUniqueID",)), "ipaUniqueID")
    check(ipa == d, "%s: ipaUniqueID %r through the proxy, %r in the directory" % (login, ipa, d))
    es, r = search(c, USERS, "(ipauniqueid=%s)" % ipa[0], ["dn"])
    check(len(es) == 1 and es[0]["dn"].lower() == udn(login).lower(), "lookup by ipaUniqueID: %r" % r)
    auto = a
ga, gv = detect_uuid(c, gdn(GROUP))
check(ga is not None, "no UUID attribute for the group %s" % GROUP)
hidden = attr(direct_entry(udn("user0015"), ("ipaUniqueID",)), "ipaUniqueID")[0]
es, _ = search(c, USERS, "(ipauniqueid=%s)" % hidden, ["dn"])
check(not es, "user0015 found by her ipaUniqueID")
ok("UUID: auto-detection settles on %s (stable, unique, lookups find the same user); groups too (%s); "
   "ipaUniqueID (Expert setting) matches the directory; user0015's ID finds nobody" % (auto, ga))

# ---- "still matches?" reads: base search with the user filter, no attribute wanted
for login, want_found in (("alice", True), ("user0015", False), ("admin", False)):
    es, r = search(c, udn(login), USER_FILTER, ["1.1"], scope="BASE")
    check(bool(es) == want_found, "base read of %s with the user filter: %r %d" % (login, r, len(es)))
raw_c = W.Conn(E["PROXY_URL"], timeout=10)
m = raw_c.bind(SVC, SVC_PW)
check(m.code == 0, "raw service bind: %r" % m)
filt = W.f_and(W.f_eq("objectClass", "inetOrgPerson"), W.f_eq("memberOf", gdn(GROUP)))
entries, done = raw_c.search(udn("alice"), filt, [""], scope=W.SCOPE_BASE)
check(done.code == 0 and len(entries) == 1, "ldap_read(alice, user filter, ['']): %r %d" % (done, len(entries)))
entries, done = raw_c.search(udn("user0015"), filt, [""], scope=W.SCOPE_BASE)
check(done.code in (0, 32) and not entries, "ldap_read(user0015, ...): %r %d" % (done, len(entries)))
raw_c.close()
ok("existence checks: base reads with the user filter (also with an empty attribute name) find alice, "
   "not user0015 or admin")

# ---- groups of a user (memberOf, each group checked against the group filter)
for login in ("alice", "carol"):
    mo = read_attribute(c, udn(login), "memberof") or []
    names = []
    for g in mo:
        es, r = search(c, g, GROUP_FILTER, ["cn"], scope="BASE")
        if es:
            names.append(attr(es[0], "cn")[0].lower())
    check(sorted(names) == real_groups_of(login), "%s's groups %r, expected %r" % (login, sorted(names),
                                                                                   real_groups_of(login)))
ok("groups from memberOf: alice's and carol's (nested) are their real groups")
case("member_login_groups", "alice, carol (nested): groups from memberOf = real groups")

# ---- group members, nested (memberof:1.2.840.113556.1.4.1941:=), paged 500
for g in ("engineering", GROUP):
    es, pages = paged_all(c, USERS, "(&%s(displayname=*)(memberof:1.2.840.113556.1.4.1941:=%s))"
                          % (USER_FILTER, gdn(g)), USER_ATTRS, PAGE)
    want = direct_dns("(&(objectClass=inetOrgPerson)(memberOf=%s)(memberOf=%s))" % (gdn(g), gdn(GROUP)), USERS)
    check(norm(e["dn"] for e in es) == want, "members of %s: %d, expected %d" % (g, len(es), len(want)))
check(udn("carol").lower() in norm(e["dn"] for e in paged_all(
    c, USERS, "(&%s(memberof:1.2.840.113556.1.4.1941:=%s))" % (USER_FILTER, gdn("engineering")), ["uid"], PAGE)[0]),
      "carol is not a nested member of engineering")
ok("group members by memberof:1.2.840.113556.1.4.1941: nested members (carol in engineering), visible only")

# ---- the user listing (background job), paged 500
es, pages = paged_all(c, USERS, USER_FILTER, USER_ATTRS, PAGE)
check(pages >= 2, "the listing of %d users took %d page(s) of 500" % (len(es), pages))
with open(os.path.join(OUT, "users.dns"), "w") as f:
    f.write("".join(d + "\n" for d in norm(e["dn"] for e in es)))
ok("user listing: %d users in %d pages of 500" % (len(es), pages))
c.unbind()
