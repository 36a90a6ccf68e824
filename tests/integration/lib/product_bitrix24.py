#!/usr/bin/env python3
"""product_bitrix24.py — Bitrix24's AD/LDAP module (CLDAP, PHP ext/ldap)
replayed through aldproxy with python3-ldap3, for test_product_bitrix24.sh.

Usage: product_bitrix24.py PROFILE SERVICE_PASSWORD LOGIN_GROUP

The server record as profiles/bitrix24.yaml recommends: port 389,
connection type TLS (StartTLS), admin login = the system account's DN, base
DN DC=example,DC=com, user filter
(&(objectClass=user)(objectCategory=person)(!(userAccountControl:1.2.840.113556.1.4.803:=2))),
user id attribute sAMAccountName, user group attribute memberOf, group
filter (objectCategory=group), group id attribute dn, name cn, MAX_PAGE_SIZE
5 (to page), field map sAMAccountName mail displayName department
telephoneNumber, active = userAccountControl&2.

CLDAP as it is written (modules/ldap/classes/general/ldap.php):
  Connect(): StartTLS, bind ADMIN_LOGIN;  RootDSE(): namingContexts
  FindUser(): bind ADMIN_LOGIN again, QueryArray((&<user filter>
    (sAMAccountName=<specialchars(login)>)), all attributes) — every
    search carries the paged-results control and loops until the cookie is
    empty — then Bind(<the entry's DN>, password) on the same connection;
  GetUserFields(): LOGIN from samaccountname, LDAP_GROUPS from memberof, the
    field map; GetGroupListArray(): bind ADMIN_LOGIN, QueryArray((&<group
    filter>), [name cn gidNumber description memberof primarygrouptoken
    primarygroupid samaccountname distinguishedname dn member]); group ids
    are the entries' DNs, compared as strings with memberof values.

Checks what Bitrix24 would conclude: who logs in (alice, nested carol; not
user0015 outside the group, not the locked eve, not a wrong password, with
AD's data 52e/533), the fields it imports (objectGUID = ipaUniqueID in AD
byte order, sAMAccountName, userPrincipalName, mail, displayName and its
default, department, telephoneNumber, active from userAccountControl), the
portal groups (memberOf values that are exactly the DNs of the group list,
in the virtual tree, real groups only: no roles, HBAC or sudo rules, no user
private groups), and a paged user sync and group list against the
directory's own counts.
"""
import re
import sys
import uuid

from ldap3 import BASE

from product_common import (E, KIND, PW, USERS, GROUPS, check, ok, case, udn, gdn, connect, simple_bind,
                            search, attr, raw, direct_dns, direct_entry, norm, paged_cookie_of,
                            group_dn_kind)

PROFILE, SVC_PW, GROUP = sys.argv[1:4]
ADMIN = "uid=%s,cn=sysaccounts,cn=etc,%s" % (PROFILE, E["BASE_DN"])
VSUFFIX = "DC=example,DC=com"
VUSERS = "CN=Users," + VSUFFIX
VGROUPS = "CN=Groups," + VSUFFIX
USER_FILTER = "(&(objectClass=user)(objectCategory=person)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
GROUP_FILTER = "(objectCategory=group)"
GROUP_ATTRS = ["name", "cn", "gidNumber", "description", "memberof", "primarygrouptoken",
               "primarygroupid", "samaccountname", "distinguishedname", "dn", "member"]
PAGE = 5                                     # MAX_PAGE_SIZE
AD_DIAG = re.compile(r"^80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, "
                     r"data (\w+), v4563$")


def vdn(real):
    """A real rig DN as Bitrix24 sees it."""
    r = real
    for real_base, virt in [(USERS, VUSERS), (GROUPS, VGROUPS), (E["BASE_DN"], VSUFFIX)]:
        if r.lower().endswith("," + real_base.lower()):
            return r[:-len(real_base)] + virt
    return r


def specialchars(s):
    """CLDAP::specialchars()."""
    for a, b in [("\\", "\\5C"), (",", "\\2C"), ("+", "\\2B"), ('"', "\\22"), ("<", "\\3C"),
                 (">", "\\3E"), (";", "\\3B"), ("\n", "\\0A"), ("\r", "\\0D"), ("=", "\\3D"),
                 ("*", "\\2A")]:
        s = s.replace(a, b)
    return s


def bind_admin(c):
    code, msg = simple_bind(c, ADMIN, SVC_PW)
    check(code == 0, "Bitrix24 admin bind (%s): %s %s" % (ADMIN, code, msg))


def bx_connect():
    c = connect(E["PROXY_URL"], starttls=True)
    bind_admin(c)
    return c


def query_array(c, filt, attrs=None, base=VSUFFIX):
    """QueryArray(): paged with MAX_PAGE_SIZE until the cookie is empty."""
    out, cookie, pages = [], None, 0
    while True:
        es, r = search(c, base, filt, attrs or ["*"], paged_size=PAGE, paged_cookie=cookie)
        check(r.get("result") == 0, "QueryArray %s: %r" % (filt, r))
        out += es
        pages += 1
        cookie = paged_cookie_of(r)
        if not cookie:
            return out, pages
        check(pages < 1000, "paging never ends")


def find_user(c, login, password):
    """FindUser(): (entry or None, bind result or None)."""
    bind_admin(c)
    es, _ = query_array(c, "(&%s(sAMAccountName=%s))" % (USER_FILTER, specialchars(login)))
    if not es:
        return None, None
    return es[0], simple_bind(c, es[0]["dn"], password)


def bx_login(login, password):
    c = bx_connect()
    e, res = find_user(c, login, password)
    if e is None:
        c.unbind()
        return "not-found", None
    if res[0] != 0:
        c.unbind()
        return "bad-password", res
    fields = {"DN": e["dn"], "LOGIN": attr(e, "sAMAccountName"), "LDAP_GROUPS": attr(e, "memberOf")}
    for f in ["mail", "displayName", "department", "telephoneNumber", "objectGUID",
              "userPrincipalName", "userAccountControl", "distinguishedName", "objectCategory",
              "sAMAccountType"]:
        fields[f] = attr(e, f)
    fields["GUID"] = raw(e, "objectGUID")
    uac = int((attr(e, "userAccountControl") or ["0"])[0])
    fields["ACTIVE"] = "N" if uac & 2 else "Y"
    bind_admin(c)                                      # GetGroupListArray()
    groups, _ = query_array(c, "(&%s)" % GROUP_FILTER, GROUP_ATTRS)
    c.unbind()
    fields["GROUP_IDS"] = [g["dn"] for g in groups]
    return "ok", fields


# ---- rootDSE, as the server form reads it
c = bx_connect()
es, r = search(c, "", "(objectClass=*)", ["namingcontexts", "defaultNamingContext"], scope=BASE)
check(len(es) == 1 and attr(es[0], "namingContexts") == [VSUFFIX]
      and attr(es[0], "defaultNamingContext") == [VSUFFIX], "rootDSE: %r" % es)
c.unbind()

# ---- who logs in, with which fields and groups
for who in ["alice", "carol"]:
    out, f = bx_login(who, PW)
    check(out == "ok", "%s: %s %r" % (who, out, f))
    real = direct_entry(udn(who), ("ipaUniqueID", "memberOf", "mail", "displayName", "krbPrincipalName"))
    check(f["DN"] == vdn(udn(who)) and f["distinguishedName"] == [f["DN"]], "%s's DN %r / %r"
          % (who, f["DN"], f["distinguishedName"]))
    check(f["LOGIN"] == [who], "%s's LOGIN %r" % (who, f["LOGIN"]))
    guid = f["GUID"]
    check(len(guid) == 1 and len(guid[0]) == 16
          and guid[0] == uuid.UUID(attr(real, "ipaUniqueID")[0]).bytes_le,
          "%s's objectGUID %r, ipaUniqueID %r" % (who, guid, attr(real, "ipaUniqueID")))
    check(f["userPrincipalName"] == attr(real, "krbPrincipalName"), "%s's UPN %r" % (who, f["userPrincipalName"]))
    check(f["mail"] == attr(real, "mail") and f["displayName"] == attr(real, "displayName"),
          "%s's mail/displayName %r %r" % (who, f["mail"], f["displayName"]))
    check(f["userAccountControl"] == ["512"] and f["ACTIVE"] == "Y", "%s's UAC %r" % (who, f["userAccountControl"]))
    check(f["objectCategory"] == ["CN=Person,CN=Schema,CN=Configuration," + VSUFFIX]
          and f["sAMAccountType"] == ["805306368"], "%s's category/type %r %r"
          % (who, f["objectCategory"], f["sAMAccountType"]))
    # portal groups: memberOf strings that are group ids from the group list
    want = sorted(vdn(g) for g in attr(real, "memberOf") if group_dn_kind(g) == "group")
    check(sorted(f["LDAP_GROUPS"]) == want, "%s's memberOf %r, expected %r" % (who, f["LDAP_GROUPS"], want))
    missing = [g for g in f["LDAP_GROUPS"] if g not in f["GROUP_IDS"]]
    check(not missing, "%s's memberOf values not byte-identical to a group id of the list: %r" % (who, missing))
    check(vdn(gdn(GROUP)) in f["LDAP_GROUPS"], "%s is not in %s by memberOf" % (who, GROUP))
out, f = bx_login("alice", PW)
check(f["department"] == ["Engineering"] and f["telephoneNumber"] == ["+7 495 000-00-01"],
      "alice's department/phone %r %r" % (f["department"], f["telephoneNumber"]))
out, f = bx_login("user0008", PW)
check(out == "ok" and f["displayName"] and f["displayName"] == attr(direct_entry(udn("user0008"), ("cn",)), "cn"),
      "user0008 (no displayName) gets cn by default: %r" % f.get("displayName"))
ok("Bitrix24 logins: alice, carol; objectGUID = ipaUniqueID (AD byte order), sAMAccountName, UPN, "
   "UAC 512, category, department, phone, displayName default; memberOf = group ids of the list")
case("member_login_groups", "alice, carol (nested): memberOf = real groups, ids of the group list")

# ---- who does not
out, res = bx_login("alice", "wrong")
check(out == "bad-password" and res[0] == 49 and AD_DIAG.match(res[1]).group(1) == "52e",
      "alice, wrong password: %s %r" % (out, res))
for who in ["user0015", "eve", "admin", "nosuchuser"]:
    out, res = bx_login(who, PW)
    check(out == "not-found", "%s was found by the user filter: %s %r" % (who, out, res))
c = bx_connect()
for who, data in [("user0015", "52e"), ("eve", "533" if KIND == "389ds" else "52e"), ("nosuchuser", "52e")]:
    code, msg = simple_bind(c, vdn(udn(who)), PW)
    m = AD_DIAG.match(msg or "")
    check(code == 49 and m and m.group(1) == data, "%s's bind: %s %r (expected 49, data %s)" % (who, code, msg, data))
    bind_admin(c)
c.unbind()
ok("refused: wrong password (data 52e); user0015, locked eve, admin, unknown nosuchuser not found by the "
   "user filter; their binds 49 (user0015, nosuchuser data 52e, eve data %s)" % ("533" if KIND == "389ds" else "52e"))
case("wrong_password", "49 data 52e")
case("locked_account", "eve (in the group): dropped by the disabled-bit filter; bind 49 data %s"
     % ("533" if KIND == "389ds" else "52e"))
case("unknown_user", "nosuchuser: not found; bind 49 data 52e")
case("outside_groups", "user0015: not found; bind 49 data 52e")

# ---- sync: every active member, paged; the group list
c = bx_connect()
users, pages = query_array(c, "(&%s)" % USER_FILTER)
got = norm(x["dn"] for x in users)
want = norm(vdn(d) for d in direct_dns("(&(objectClass=person)(memberOf=%s)(!(nsAccountLock=TRUE)))"
                                       % gdn(GROUP), USERS))
check(len(want) >= 14 and got == want, "user sync: %d through the proxy, %d active members in the directory"
      % (len(got), len(want)))
check(pages >= 3, "user sync in %d pages of %d" % (pages, PAGE))
check(all(attr(u, "sAMAccountName") and len(raw(u, "objectGUID")[0]) == 16 for u in users),
      "a synced user without sAMAccountName or objectGUID")
groups, gpages = query_array(c, "(&%s)" % GROUP_FILTER, GROUP_ATTRS)
c.unbind()
got = norm(g["dn"] for g in groups)
want = norm(vdn(d) for d in direct_dns("(objectClass=ipaUserGroup)", GROUPS))
check(got == want, "group list: %d through the proxy, %d user groups in the directory" % (len(got), len(want)))
# an attribute comes back with values or not at all (typesOnly is FALSE):
# admins' memberOf holds only a sudo rule, which memberOf cleaning drops
# (ldap3 gives None for an attribute sent with no values, [] for one asked for and absent)
empty = [(g["dn"], k) for g in groups for k, v in g["raw_attributes"].items() if v is None]
check(not empty, "attributes returned with an empty value set (RFC 4511 4.5.2: only with typesOnly): %r"
      % empty)
names = set(attr(g, "cn")[0] for g in groups)
check(GROUP in names and "engineering" in names and "sales" in names, "group list lacks groups: %r" % names)
check(not names & {"alice", "bob", "helpdesk", "admins_all"}, "group list holds private groups or roles: %r" % names)
for g in groups:
    for m in [v.decode() for k, vs in g["raw_attributes"].items() if k.lower() == "memberof" for v in vs or []]:
        check(m.endswith("," + VGROUPS), "group %s's memberOf %r is not a virtual group DN" % (g["dn"], m))
ok("sync: %d active users in %d pages = the directory's; group list %d groups (no private groups or "
   "roles), memberOf of groups in the virtual tree" % (len(users), pages, len(groups)))
