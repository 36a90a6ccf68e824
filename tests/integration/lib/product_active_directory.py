#!/usr/bin/env python3
"""product_active_directory.py — a generic Active Directory connector
(Keycloak's AD preset and the AD-only products profiles/active-directory.yaml
is meant for) replayed through aldproxy with python3-ldap3, for
test_product_active-directory.sh.

Usage: product_active_directory.py PROFILE_YAML SERVICE_PASSWORD LOGIN_GROUP

The names the test needs (service account, realm, NetBIOS name, bind
formats, virtual suffix) are read from the installed profile, so the test
follows the shipped file.

The connector, as the profile's header describes it: ldaps, a service bind;
the rootDSE (defaultNamingContext); the user search
(&(objectCategory=person)(objectClass=user)(sAMAccountName=<login>)) with the
disabled filter (!(userAccountControl:1.2.840.113556.1.4.803:=2)); objectGUID,
userPrincipalName, mail, displayName, memberOf; a lookup by objectGUID (binary
value in the filter, as Keycloak does); nested members of the login group
with 1.2.840.113556.1.4.1941; paged results marked critical (Keycloak);
groups under the domain with (objectClass=group); user binds by DN,
user@REALM, NETBIOS\\user or a bare login, with AD's bind diagnostics.

Checks what such a product would conclude: who logs in (alice in every name
form, nested carol; not user0015 outside the group: data 52e; not the locked
eve: data 52e on slapd, 533 on 389-ds; not a wrong password), the AD
attributes (objectGUID = ipaUniqueID in AD byte order, userAccountControl
512/514, sAMAccountName, userPrincipalName, distinguishedName, memberOf =
real groups in the virtual tree), that invisible users are not found, that
the in-chain query and paged listings are complete against the directory's
own lists, and that the groups offered are ALD Pro's user groups only.
"""
import sys
import uuid

import yaml
from ldap3 import BASE
from ldap3.utils.conv import escape_filter_chars, escape_bytes

from product_common import (E, KIND, PW, USERS, GROUPS, check, ok, case, udn, gdn, connect, simple_bind,
                            search, attr, raw, direct_dns, direct_entry, norm, paged_all, group_dn_kind)

PROFILE_YAML, SVC_PW, GROUP = sys.argv[1:4]
prof = yaml.safe_load(open(PROFILE_YAML))
SVC = [s for s in prof["service_accounts"] if isinstance(s, str)][0]
VSUFFIX = prof["virtual_tree"]["suffix"]
VUSERS = [m["virtual"] for m in prof["virtual_tree"]["map"] if m["real"].lower() == USERS.lower()][0]
VGROUPS = [m["virtual"] for m in prof["virtual_tree"]["map"] if m["real"].lower() == GROUPS.lower()][0]
BN = prof["bind_names"]
REALM, NETBIOS, FORMATS = BN["realm"], BN["netbios"], BN["formats"]
URL = E["PROXY_LDAPS_URL"]
USER_ATTRS = ["objectGUID", "userPrincipalName", "mail", "displayName", "memberOf", "sAMAccountName",
              "userAccountControl", "distinguishedName", "objectCategory", "sAMAccountType", "cn", "objectSid",
              "primaryGroupID"]
USER_FILTER = "(&(objectCategory=person)(objectClass=user)%s)"
ENABLED = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
AD = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data %s, v4563"


def vdn(real):
    for rb, vb in [(USERS, VUSERS), (GROUPS, VGROUPS), (E["BASE_DN"], VSUFFIX)]:
        if real.lower().endswith("," + rb.lower()):
            return real[:-len(rb)] + vb
    return real


def ad_connect():
    c = connect(URL)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "service bind (%s): %s %s" % (SVC, code, msg))
    return c


def find(c, login, extra=""):
    f = USER_FILTER % ("(sAMAccountName=%s)%s" % (escape_filter_chars(login), extra))
    es, r = search(c, VSUFFIX, f, USER_ATTRS)
    check(r.get("result") == 0, "user search %s: %r" % (f, r))
    return es


def names(login):
    """Every bind name form the profile accepts for login."""
    out = [vdn(udn(login))]
    if "upn" in FORMATS:
        out.append("%s@%s" % (login, REALM))
    if "netbios" in FORMATS:
        out.append("%s\\%s" % (NETBIOS, login))
    if "login" in FORMATS:
        out.append(login)
    return out


def bind(name, pw):
    c = connect(URL)
    code, msg = simple_bind(c, name, pw)
    w = None
    if code == 0:
        w = c.extend.standard.who_am_i()
        w = w.decode() if isinstance(w, bytes) else w
    c.unbind()
    return code, msg, w


# ---- rootDSE
c = ad_connect()
es, r = search(c, "", "(objectClass=*)", ["defaultNamingContext", "namingContexts", "supportedCapabilities",
                                          "configurationNamingContext"], scope=BASE)
check(len(es) == 1 and attr(es[0], "defaultNamingContext") == [VSUFFIX] and attr(es[0], "supportedCapabilities")
      and attr(es[0], "configurationNamingContext") == ["CN=Configuration," + VSUFFIX], "rootDSE %r" % es)
ok("rootDSE: defaultNamingContext %s, configurationNamingContext, supportedCapabilities" % VSUFFIX)

# ---- users and their AD attributes
for who in ["alice", "carol", "dave"]:
    es = find(c, who, ENABLED)
    check(len(es) == 1, "%s: %d entries" % (who, len(es)))
    e = es[0]
    real = direct_entry(udn(who), ("ipaUniqueID", "krbPrincipalName", "memberOf", "mail"))
    check(e["dn"] == vdn(udn(who)) and attr(e, "distinguishedName") == [e["dn"]], "%s's DN %r" % (who, e["dn"]))
    g = raw(e, "objectGUID")
    check(len(g) == 1 and len(g[0]) == 16 and g[0] == uuid.UUID(attr(real, "ipaUniqueID")[0]).bytes_le,
          "%s's objectGUID %r vs %r" % (who, g, attr(real, "ipaUniqueID")))
    check(attr(e, "userAccountControl") == ["512"] and attr(e, "sAMAccountName") == [who]
          and attr(e, "userPrincipalName") == attr(real, "krbPrincipalName")
          and attr(e, "mail") == attr(real, "mail") and attr(e, "sAMAccountType") == ["805306368"],
          "%s's AD attributes %r" % (who, e["raw_attributes"]))
    mo = sorted(attr(e, "memberOf"))
    want = sorted(vdn(x) for x in attr(real, "memberOf") if group_dn_kind(x) == "group")
    check(mo == want and vdn(gdn(GROUP)) in mo, "%s's memberOf %r, expected %r" % (who, mo, want))
    # Keycloak's lookup by objectGUID: the binary value escaped in the filter
    es2, r = search(c, VSUFFIX, "(objectGUID=%s)" % escape_bytes(g[0]), ["sAMAccountName"])
    check(r.get("result") == 0 and [x["dn"] for x in es2] == [e["dn"]], "lookup by %s's objectGUID: %r %r"
          % (who, [x["dn"] for x in es2], r))
    # objectSid in AD's binary layout from ipaNTSecurityIdentifier (alice, carol); primaryGroupID 513
    check(attr(e, "primaryGroupID") == ["513"], "%s's primaryGroupID %r" % (who, attr(e, "primaryGroupID")))
    sid = attr(direct_entry(udn(who), ("ipaNTSecurityIdentifier",)), "ipaNTSecurityIdentifier")
    if who == "dave":
        check(sid == [] and raw(e, "objectSid") == [], "dave has no SID: %r" % raw(e, "objectSid"))
        continue
    parts = [int(x) for x in sid[0].split("-")[1:]]
    want_sid = (bytes([parts[0], len(parts) - 2]) + parts[1].to_bytes(6, "big") +
                b"".join(x.to_bytes(4, "little") for x in parts[2:]))
    check(raw(e, "objectSid") == [want_sid], "%s's objectSid %r, expected %r (%s)" % (who, raw(e, "objectSid"),
                                                                                   want_sid, sid[0]))
    for f in ("(objectSid=%s)" % escape_bytes(want_sid), "(objectSid=%s)" % sid[0],
              "(&(objectCategory=person)(primaryGroupID=513)(objectSid=%s))" % escape_bytes(want_sid)):
        es2, r = search(c, VSUFFIX, f, ["sAMAccountName"])
        check(r.get("result") == 0 and [x["dn"] for x in es2] == [e["dn"]], "lookup %s: %r %r"
              % (f, [x["dn"] for x in es2], r))
es = find(c, "eve")
check(len(es) == 1 and attr(es[0], "userAccountControl") == ["514"], "eve: %r" % es)
check(find(c, "eve", ENABLED) == [], "the disabled filter does not drop the locked eve")
for who in ["user0015", "admin", "*", "nosuchuser"]:
    check(find(c, who) == [], "%s found" % who)
ok("users alice, carol, dave: objectGUID = ipaUniqueID (AD byte order) and found by it; objectSid (binary, found by binary and string) and primaryGroupID 513; UAC 512, "
   "sAMAccountName, UPN, distinguishedName, memberOf real groups; eve 514 and dropped by the disabled "
   "filter; user0015, admin, nosuchuser not found")

# ---- nested members of the login group (in-chain), and the paged listing (critical, as Keycloak)
f = USER_FILTER % "(memberOf:1.2.840.113556.1.4.1941:=%s)" % escape_filter_chars(vdn(gdn(GROUP)))
es, pages = paged_all(c, VUSERS, f, ["sAMAccountName"], 4, critical=True)
got = norm(x["dn"] for x in es)
want = norm(vdn(d) for d in direct_dns("(&(objectClass=person)(memberOf=%s))" % gdn(GROUP), USERS))
check(len(want) >= 15 and got == want, "in-chain members of %s: %d through the proxy, %d in the directory"
      % (GROUP, len(got), len(want)))
check(vdn(udn("carol")).lower() in got, "carol (nested) missing from the in-chain members")
nchain = len(got)
es, pages2 = paged_all(c, VSUFFIX, USER_FILTER % ENABLED, ["objectGUID", "sAMAccountName"], 5, critical=True)
got = norm(x["dn"] for x in es)
want = norm(vdn(d) for d in direct_dns("(&(objectClass=person)(memberOf=%s)(!(nsAccountLock=TRUE)))"
                                       % gdn(GROUP), USERS))
check(got == want, "enabled users: %d through the proxy, %d in the directory" % (len(got), len(want)))
ok("in-chain members of %s (paged, critical, %d pages): %d = the directory's; enabled users %d (%d pages)"
   % (GROUP, pages, nchain, len(got), pages2))

c.unbind()

# ---- binds in every accepted name form, with AD diagnostics
for who in ["alice", "carol"]:
    for name in names(who):
        code, msg, w = bind(name, PW)
        check(code == 0, "%s's bind as %r: %s %r" % (who, name, code, msg))
        check((w or "").lower() == ("dn:" + vdn(udn(who))).lower(), "whoami after %r: %r" % (name, w))
eve_data = "533" if KIND == "389ds" else "52e"
for who, pw, data in [("alice", "wrong", "52e"), ("user0015", PW, "52e"), ("eve", PW, eve_data),
                      ("nosuchuser", PW, "52e")]:
    for name in names(who):
        code, msg, _ = bind(name, pw)
        check(code == 49 and msg == AD % data, "%r: %s %r (expected 49, data %s)" % (name, code, msg, data))
ok("binds as DN/%s: alice and carol yes; wrong password, user0015 (data 52e), locked eve (data %s), "
   "unknown nosuchuser (data 52e) no"
   % ("/".join(f for f in FORMATS if f != "dn"), eve_data))
case("wrong_password", "49 data 52e in every name form")
case("locked_account", "eve (in the group): 514, dropped by the disabled filter; bind 49 data %s" % eve_data)
case("outside_groups", "user0015: not found; bind 49 data 52e")
case("unknown_user", "nosuchuser: not found; bind 49 data 52e in every name form")
case("member_login_groups", "alice, carol (nested): binds in every name form; memberOf = real groups")

# ---- groups offered: ALD Pro's user groups only (not roles, whose members
# memberOf cleaning hides, nor user private groups)
c = ad_connect()
for base in [VGROUPS, VSUFFIX]:
    es, r = search(c, base, "(objectClass=group)", ["cn", "member", "objectGUID", "sAMAccountType"])
    check(r.get("result") == 0, "groups under %s: %r" % (base, r))
    got = norm(x["dn"] for x in es)
    want = norm(vdn(d) for d in direct_dns("(objectClass=ipaUserGroup)", GROUPS))
    extra = sorted(set(got) - set(want))
    check(got == want, "(objectClass=group) under %s: %d entries, the directory has %d user groups; not user "
          "groups: %r; missing: %r" % (base, len(got), len(want), extra, sorted(set(want) - set(got))))
    check(all(attr(x, "sAMAccountType") == ["268435456"] for x in es), "a group without sAMAccountType 268435456")
c.unbind()
ok("(objectClass=group) under %s and %s: exactly the %d user groups" % (VGROUPS, VSUFFIX, len(got)))
