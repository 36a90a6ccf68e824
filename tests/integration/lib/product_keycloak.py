#!/usr/bin/env python3
"""product_keycloak.py — Keycloak's LDAP federation (Active Directory vendor
preset) replayed through aldproxy with python3-ldap3, for
test_product_keycloak.sh.

Usage: product_keycloak.py SERVICE_PASSWORD LOGIN_GROUP OUT_DIR

Everything goes to PINNED_URL, an ldaps listener given to the keycloak
profile alone (Keycloak's password checks are fresh connections).
  * service connection: bind as the Bind DN; user lookup
    (&(userPrincipalName=<login>)(objectclass=person)(objectclass=organizationalPerson)(objectclass=user))
    with Keycloak's attribute list, objectGUID read as 16 bytes and decoded
    the AD way (first three fields little-endian);
  * password check: simple bind of the user's DN on a new connection, with
    the password policy request control (non-critical), AD diagnostics parsed
    for "data 52e / 533 / 775";
  * re-validation by UUID: (&(objectClass=*)(objectGUID=\\xx...)) with the
    16 bytes, and older releases' "<GUID=...>" read + string fallback;
  * groups: memberOf strategy ((|(cn=..)..) under Groups DN), group members by
    (memberOf:1.2.840.113556.1.4.1941:=<group>), and the recursive
    (member:1.2.840.113556.1.4.1941:=<user>) strategy: nested groups included;
  * sync: paged results marked CRITICAL, batch size 100, with and without the
    usual (!(userAccountControl:1.2.840.113556.1.4.803:=2)) custom filter.
Writes OUT_DIR/sync.dns and OUT_DIR/sync_enabled.dns (lower-cased DNs) for
the shell test to compare with ldapsearch straight against the directory.
"""
import os
import sys
import uuid

from ldap3 import MODIFY_REPLACE

from product_common import (E, KIND, PW, USERS, GROUPS, SUFFIX, check, ok, case, udn, gdn, connect,
                            simple_bind, search, paged_all, attr, raw, direct_entry, direct_dns,
                            norm, real_groups_of, group_dn_kind)

SVC_PW, GROUP, OUT = sys.argv[1:4]
SVC = "uid=keycloak,cn=sysaccounts,cn=etc,%s" % SUFFIX
URL = E["PINNED_URL"]
CLASSES = "(objectclass=person)(objectclass=organizationalPerson)(objectclass=user)"
RETURN = ["userPrincipalName", "cn", "objectGUID", "givenName", "sn", "mail", "whenCreated",
          "whenChanged", "userAccountControl", "pwdLastSet", "memberOf", "objectclass"]
PPOLICY = ("1.3.6.1.4.1.42.2.27.8.5.1", False, None)
REALM = "ALD.TEST"


def service():
    c = connect(URL)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "Keycloak's service bind: %s %s" % (code, msg))
    return c


def by_username(c, attr_name, login):
    es, r = search(c, USERS, "(&(%s=%s)%s)" % (attr_name, login, CLASSES), RETURN)
    check(r.get("result") == 0, "user lookup %s=%s: %r" % (attr_name, login, r))
    return es


def guid_bytes(e):
    v = raw(e, "objectGUID")
    check(len(v) == 1 and len(v[0]) == 16, "%s: objectGUID %r is not one 16-byte value" % (e["dn"], v))
    return v[0]


def decode_guid(b):
    """Keycloak's LDAPUtil.decodeObjectGUID: AD byte order."""
    return str(uuid.UUID(bytes_le=bytes(b)))


def guid_filter(uuid_str):
    b = uuid.UUID(uuid_str).bytes_le
    return "(&(objectClass=*)(objectGUID=%s))" % "".join("\\%02x" % x for x in b)


def authenticate(dn, password):
    """LDAPOperationManager.authenticate: a new connection, a simple bind."""
    c = connect(URL)
    code, msg = simple_bind(c, dn, password, controls=[PPOLICY])
    c.unbind()
    return code, msg


def ad_data(msg):
    for code in ("52e", "533", "775", "701", "773", "532"):
        if "data %s," % code in msg:
            return code
    return None


c = service()

# ---- login lookup by userPrincipalName, objectGUID, account control
for login in ("alice", "carol", "dave"):
    es = by_username(c, "userPrincipalName", "%s@%s" % (login, REALM))
    check(len(es) == 1 and es[0]["dn"].lower() == udn(login).lower(),
          "userPrincipalName=%s@%s: %r" % (login, REALM, [e["dn"] for e in es]))
    e = es[0]
    d = direct_entry(udn(login), ("ipaUniqueID", "createTimestamp", "modifyTimestamp", "krbPrincipalName", "mail"))
    check(decode_guid(guid_bytes(e)) == attr(d, "ipaUniqueID")[0].lower(),
          "%s: objectGUID decodes to %s, ipaUniqueID is %s" % (login, decode_guid(guid_bytes(e)),
                                                               attr(d, "ipaUniqueID")))
    check(attr(e, "userPrincipalName") == attr(d, "krbPrincipalName"), "%s: userPrincipalName %r"
          % (login, attr(e, "userPrincipalName")))
    check(attr(e, "userAccountControl") == ["512"], "%s: userAccountControl %r" % (login, attr(e, "userAccountControl")))
    check(attr(e, "whenCreated") == attr(d, "createTimestamp") and attr(e, "whenChanged") == attr(d, "modifyTimestamp"),
          "%s: whenCreated/whenChanged %r %r" % (login, attr(e, "whenCreated"), attr(e, "whenChanged")))
    check(attr(e, "mail") == attr(d, "mail"), "%s: mail %r" % (login, attr(e, "mail")))
    check("user" in [x.lower() for x in attr(e, "objectClass")], "%s: objectClass lacks user: %r"
          % (login, attr(e, "objectClass")))
    for v in attr(e, "memberOf"):
        check(group_dn_kind(v) == "group", "%s: memberOf %s is not a group" % (login, v))
es = by_username(c, "sAMAccountName", "ALICE")
check(len(es) == 1 and es[0]["dn"].lower() == udn("alice").lower(), "sAMAccountName=ALICE: %r" % es)
es = by_username(c, "userPrincipalName", "alice@" + REALM.lower())
if not es:
    print("note - userPrincipalName=alice@%s (realm in lower case) finds nobody: ALD Pro's "
          "krbPrincipalName matches case-exactly" % REALM.lower(), flush=True)
ok("lookup by userPrincipalName (and sAMAccountName=ALICE): objectGUID = ipaUniqueID in AD byte "
   "order, userAccountControl 512, whenCreated/whenChanged, objectClass user, memberOf clean")

# ---- invisible users
for login in ("user0015", "admin"):
    check(not by_username(c, "userPrincipalName", "%s@%s" % (login, REALM)), "%s must not be found" % login)
    check(not by_username(c, "sAMAccountName", login), "%s must not be found by sAMAccountName" % login)
    hidden = attr(direct_entry(udn(login), ("ipaUniqueID",)), "ipaUniqueID")[0]
    es, r = search(c, USERS, guid_filter(hidden), RETURN)
    check(r.get("result") == 0 and not es, "%s found by objectGUID: %r" % (login, r))
ok("user0015 and admin (outside %s) are found neither by name nor by objectGUID" % GROUP)
# an unknown user: found by neither name
check(not by_username(c, "userPrincipalName", "nosuchuser@%s" % REALM), "nosuchuser found by userPrincipalName")
check(not by_username(c, "sAMAccountName", "nosuchuser"), "nosuchuser found by sAMAccountName")

# ---- re-validation by UUID (LDAPOperationManager.lookupById)
alice = by_username(c, "userPrincipalName", "alice@" + REALM)[0]
kc_id = decode_guid(guid_bytes(alice))
es, r = search(c, USERS, guid_filter(kc_id), RETURN)
check(len(es) == 1 and es[0]["dn"].lower() == udn("alice").lower(), "lookup by objectGUID bytes: %r %r" % (r, es))
# older releases: read "<GUID=...>" (AD's extended DN form) first, then the UUID as a string
es, r = search(c, "<GUID=%s>" % kc_id, "(objectClass=*)", ["objectGUID"], scope="BASE")
check(r.get("result") not in (0, None) and not es, "<GUID=...> read should fail cleanly: %r" % r)
es, r = search(c, USERS, "(&(objectClass=*)(objectGUID=%s))" % kc_id, RETURN)
check(len(es) == 1 and es[0]["dn"].lower() == udn("alice").lower(), "lookup by the UUID string: %r %r" % (r, es))
ok("re-validation: objectGUID as 16 escaped bytes and as the UUID string find alice; "
   "<GUID=...> fails with %d and the connection goes on" % search(c, "<GUID=%s>" % kc_id, "(objectClass=*)",
                                                                   ["1.1"], scope="BASE")[1]["result"])

# ---- password checks on separate connections
code, msg = authenticate(udn("alice"), PW)
check(code == 0, "alice's password check: %s %s" % (code, msg))
code, wrong = authenticate(udn("alice"), "wrong-password")
check(code == 49 and ad_data(wrong) == "52e", "alice wrong password: %s %r, expected 49 data 52e" % (code, wrong))
code, msg = authenticate(udn("user0015"), PW)
check(code == 49 and msg == wrong, "user0015 (outside %s): %s %r, expected 49 %r" % (GROUP, code, msg, wrong))
code, msg = authenticate(udn("nosuchuser"), PW)
check(code == 49 and msg == wrong, "nosuchuser: %s %r, expected 49 %r" % (code, msg, wrong))
code, msg = authenticate(udn("carol"), PW)
check(code == 0, "carol (nested member): %s %s" % (code, msg))
code, msg = authenticate(udn("eve"), PW)
want = "533" if KIND == "389ds" else "52e"
check(code == 49 and ad_data(msg) == want, "locked eve (%s): %s %r, expected 49 data %s" % (KIND, code, msg, want))
eve = by_username(c, "sAMAccountName", "eve")
check(len(eve) == 1 and attr(eve[0], "userAccountControl") == ["514"],
      "eve's userAccountControl (Keycloak disables her before any bind): %r" % [attr(x, "userAccountControl") for x in eve])
ok("password checks (separate connections, ppolicy control): alice/carol 0; wrong password 49 "
   "data 52e; user0015 and the unknown nosuchuser the same word for word; eve 514 and bind 49 data %s" % want)
case("wrong_password", "49 data 52e")
case("locked_account", "eve (in the group): userAccountControl 514; bind 49 data %s" % want)
case("unknown_user", "nosuchuser: not found; bind 49 data 52e")
case("outside_groups", "user0015, admin: not found; bind 49 data 52e")

# ---- groups: memberOf strategy
for login in ("alice", "carol"):
    u = by_username(c, "sAMAccountName", login)[0]
    mo = [v for v in attr(u, "memberOf") if v.lower().endswith("," + GROUPS.lower())]
    names = [v.split(",", 1)[0].split("=", 1)[1] for v in mo]
    es, r = search(c, GROUPS, "(&(|%s)(objectclass=group))" % "".join("(cn=%s)" % n for n in names),
                   ["cn", "member"])
    check(r.get("result") == 0, "group query: %r" % r)
    got = sorted(attr(e, "cn")[0].lower() for e in es if e["dn"].lower() in [m.lower() for m in mo])
    check(got == real_groups_of(login), "%s's Keycloak groups %r, expected %r" % (login, got, real_groups_of(login)))
ok("memberOf strategy: alice's and carol's groups (nested included) are their real groups")

# group members, nested, with Keycloak's in-chain filter and critical paging
for g in (GROUP, "engineering"):
    es, pages = paged_all(c, USERS, "(&(memberOf:1.2.840.113556.1.4.1941:=%s)%s)" % (gdn(g), CLASSES),
                          ["userPrincipalName"], 100, critical=True)
    want = direct_dns("(&(memberOf=%s)(memberOf=%s)(objectClass=organizationalPerson))" % (gdn(g), gdn(GROUP)), USERS)
    check(norm(e["dn"] for e in es) == want, "members of %s via 1941: %d, expected %d" % (g, len(es), len(want)))
    if g == "engineering":
        check(udn("carol").lower() in want and len(want) >= 13, "engineering's nested members: %r" % want)
ok("group members by (memberOf:1.2.840.113556.1.4.1941:=G), paged critical: nested members, visible only")

# LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY: every group of the user, nested ones included
for login in ("carol", "alice"):
    es, r = search(c, GROUPS, "(&(member:1.2.840.113556.1.4.1941:=%s)(objectclass=group))" % udn(login), ["cn"])
    rec = sorted(attr(e, "cn")[0].lower() for e in es)
    check(r.get("result") == 0 and rec == real_groups_of(login),
          "recursive strategy for %s: %r %r, expected %r" % (login, r, rec, real_groups_of(login)))
check("developers" in real_groups_of("carol") and "engineering" in real_groups_of("carol"),
      "carol's groups %r: developers and, through it, engineering" % real_groups_of("carol"))
ok("recursive strategy (member:1.2.840.113556.1.4.1941:=USER): carol's and alice's groups, nested included")
case("member_login_groups", "alice, carol (nested): memberOf and recursive strategies = real groups")

# ---- sync: paged, critical, batch 100
es, pages = paged_all(c, USERS, "(&%s)" % CLASSES, RETURN, 100, critical=True)
check(pages >= 2, "sync of %d users took %d page(s) of 100" % (len(es), pages))
with open(os.path.join(OUT, "sync.dns"), "w") as f:
    f.write("".join(d + "\n" for d in norm(e["dn"] for e in es)))
# Keycloak re-validates each imported user by its objectGUID: every one of
# them (any byte value, \00 \2a \28 \5c included) must find its own entry
for e in es:
    found, r = search(c, USERS, guid_filter(decode_guid(guid_bytes(e))), ["1.1"])
    check([x["dn"].lower() for x in found] == [e["dn"].lower()],
          "lookup of %s by its objectGUID: %r %r" % (e["dn"], r, [x["dn"] for x in found]))
es2, pages2 = paged_all(c, USERS, "(&%s(!(userAccountControl:1.2.840.113556.1.4.803:=2)))" % CLASSES,
                        ["userPrincipalName"], 100, critical=True)
with open(os.path.join(OUT, "sync_enabled.dns"), "w") as f:
    f.write("".join(d + "\n" for d in norm(e["dn"] for e in es2)))
check(udn("eve").lower() not in norm(e["dn"] for e in es2), "eve (locked) is in the sync with the UAC filter")
ok("sync (paged 100, critical): %d users in %d pages, each found again by its objectGUID; with the "
   "disabled-bit filter %d" % (len(es), pages, len(es2)))

# console search ("Search..." box): substring on username/email/names, paged critical
es, pages = paged_all(c, USERS, "(&(|(userPrincipalName=*user00*)(mail=*user00*)(givenName=*user00*)(sn=*user00*))%s)"
                      % CLASSES, ["userPrincipalName"], 10, critical=True)
want = direct_dns("(&(|(krbPrincipalName=*user00*)(mail=*user00*))(memberOf=%s)(objectClass=organizationalPerson))"
                  % gdn(GROUP), USERS)
check(norm(e["dn"] for e in es) == want, "console search user00: %d, expected %d" % (len(es), len(want)))
check(udn("user0015").lower() not in want, "premise: user0015 hidden")
ok("console search *user00*: %d visible users in %d pages of 10" % (len(es), pages))

# ---- the admin console's user list: searchPaginated() fetches ONE page of
# `max` entries and keeps the cookie in the query, never to use it again;
# JNDI keeps the pooled connection open.  A few more such searches than the
# proxy has paged connections, then the sync (another pooled connection):
# neither may be refused busy (51) because earlier console pages were not
# followed to the end.
pool = int(E.get("RIG_PAGED_POOL_SIZE", "4"))
console = "(&(|(userPrincipalName=*)(mail=*)(givenName=*)(sn=*))%s)" % CLASSES
for i in range(pool + 2):
    es, r = search(c, USERS, console, ["userPrincipalName"], paged_size=10, paged_criticality=True)
    check(r.get("result") == 0 and len(es) == 10,
          "admin console search %d (first page of 10 only, same pooled connection): %s %s — "
          "unfollowed paged searches hold the proxy's paged connections (paged_pool_size %d)"
          % (i + 1, r.get("result"), r.get("message"), pool))
c2 = service()
es, pages = paged_all(c2, USERS, "(&%s)" % CLASSES, ["userPrincipalName"], 100, critical=True)
check(len(es) > 200, "sync after the console searches: %d users" % len(es))
c2.unbind()
ok("%d admin console searches (one page each, cookie dropped) and then a full sync: no busy (51)" % (pool + 2))

# ---- WRITABLE mode would write: refused
try:
    c.modify(udn("alice"), {"unicodePwd": [(MODIFY_REPLACE, ['"New-Pass1"'.encode("utf-16-le")])]})
except Exception:
    pass
check((c.result or {}).get("result") == 53, "a password write through the proxy: %r" % c.result)
ok("writes (unicodePwd, as Keycloak's WRITABLE mode sends) are refused with 53")
c.unbind()
