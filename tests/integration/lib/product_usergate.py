#!/usr/bin/env python3
"""product_usergate.py — UserGate NGFW's LDAP connector replayed through
aldproxy with python3-ldap3, for test_product_usergate.sh.

Usage: product_usergate.py PROFILE LOGIN LOGIN_PASSWORD LOGIN_GROUP

The connector as profiles/usergate.yaml recommends: SSL (ldaps), Bind DN
("login") EXAMPLE\\<LOGIN> (an ALD Pro user in the login group; UserGate
accepts only DOMAIN\\user or user@domain), LDAP domains example.com and
EXAMPLE, search roots CN=Users,DC=example,DC=com and
CN=Groups,DC=example,DC=com.

  "check connection": bind as EXAMPLE\\<LOGIN>, read the rootDSE;
  rule editor: substring lookups under the search roots,
    (&(objectCategory=person)(objectClass=user)
      (|(sAMAccountName=*<t>*)(displayName=*<t>*)(cn=*<t>*)(userPrincipalName=*<t>*)))
    (&(objectClass=group)(|(cn=*<t>*)(sAMAccountName=*<t>*)))
  user listing: the user filter, paged;
  captive portal: a new connection, bind as EXAMPLE\\user or user@example.com,
    then the user's groups from memberOf (and the AD in-chain member query).

Checks what UserGate would conclude: the substring lookups find exactly the
visible users and user groups the same search finds in the directory;
alice logs in in both name forms with her real groups (nested included) in
the virtual tree; user0015 (outside the group), the locked eve and wrong
passwords are refused with AD's data codes; objectGUID, userAccountControl,
sAMAccountName and userPrincipalName are right; the paged listing is
complete.
"""
import sys
import uuid

from ldap3 import BASE
from ldap3.utils.conv import escape_filter_chars

from product_common import (E, KIND, PW, USERS, GROUPS, check, ok, case, udn, gdn, connect, simple_bind,
                            search, attr, raw, direct_dns, direct_entry, norm, paged_all, group_dn_kind)

PROFILE, LOGIN, LOGIN_PW, GROUP = sys.argv[1:5]
URL = E["PROXY_LDAPS_URL"]
VSUFFIX = "DC=example,DC=com"
VUSERS, VGROUPS = "CN=Users," + VSUFFIX, "CN=Groups," + VSUFFIX
NETBIOS, DOMAIN = "EXAMPLE", "example.com"
USER_ATTRS = ["sAMAccountName", "displayName", "cn", "userPrincipalName", "objectGUID",
              "distinguishedName", "memberOf", "userAccountControl", "mail"]
AD = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data %s, v4563"


def vdn(real):
    for rb, vb in [(USERS, VUSERS), (GROUPS, VGROUPS), (E["BASE_DN"], VSUFFIX)]:
        if real.lower().endswith("," + rb.lower()):
            return real[:-len(rb)] + vb
    return real


def ug_connect():
    c = connect(URL)
    code, msg = simple_bind(c, "%s\\%s" % (NETBIOS, LOGIN), LOGIN_PW)
    check(code == 0, "UserGate bind as %s\\%s: %s %s" % (NETBIOS, LOGIN, code, msg))
    return c


def user_lookup(c, term):
    t = escape_filter_chars(term)
    f = ("(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=*%s*)(displayName=*%s*)"
         "(cn=*%s*)(userPrincipalName=*%s*)))" % (t, t, t, t))
    es, r = search(c, VUSERS, f, USER_ATTRS)
    check(r.get("result") == 0, "user lookup %r: %r" % (term, r))
    got = norm(e["dn"] for e in es)
    want = norm(vdn(d) for d in direct_dns(
        "(&(objectClass=person)(memberOf=%s)(|(uid=*%s*)(displayName=*%s*)(cn=*%s*)(krbPrincipalName=*%s*)))"
        % (gdn(GROUP), t, t, t, t), USERS))
    check(got == want, "user lookup %r: %r through the proxy, %r in the directory" % (term, got, want))
    return es


def group_lookup(c, term):
    t = escape_filter_chars(term)
    es, r = search(c, VGROUPS, "(&(objectClass=group)(|(cn=*%s*)(sAMAccountName=*%s*)))" % (t, t),
                   ["cn", "distinguishedName", "objectGUID", "sAMAccountType"])
    check(r.get("result") == 0, "group lookup %r: %r" % (term, r))
    got = norm(e["dn"] for e in es)
    want = norm(vdn(d) for d in direct_dns("(&(objectClass=ipaUserGroup)(cn=*%s*))" % t, GROUPS))
    check(got == want, "group lookup %r: %r through the proxy, %r in the directory" % (term, got, want))
    return es


def portal_bind(name, pw):
    c = connect(URL)
    code, msg = simple_bind(c, name, pw)
    return c, code, msg


# ---- check connection: both login forms, the rootDSE
c = ug_connect()
es, r = search(c, "", "(objectClass=*)", ["defaultNamingContext", "namingContexts"], scope=BASE)
check(len(es) == 1 and attr(es[0], "defaultNamingContext") == [VSUFFIX], "rootDSE: %r" % es)
c.unbind()
c, code, msg = portal_bind("%s@%s" % (LOGIN, DOMAIN), LOGIN_PW)
check(code == 0, "bind as %s@%s: %s %r" % (LOGIN, DOMAIN, code, msg))
c.unbind()
ok("connector login as %s\\%s and %s@%s; rootDSE defaultNamingContext %s" % (NETBIOS, LOGIN, LOGIN, DOMAIN, VSUFFIX))

# ---- rule editor: substring lookups
c = ug_connect()
for term in ["ali", "user001", "Lister", "al", "e"]:
    user_lookup(c, term)
es = user_lookup(c, "ali")
check([attr(e, "sAMAccountName") for e in es] == [["alice"]], "'ali' finds %r" % [e["dn"] for e in es])
check(user_lookup(c, "user0015") == [] and user_lookup(c, "admin") == [], "invisible users found")
check(user_lookup(c, "nosuchuser") == [], "nosuchuser found")
check(user_lookup(c, "*") == [], "an escaped '*' matched")
for term in ["eng", "zabbix", "grp0", "s"]:
    group_lookup(c, term)
gs = group_lookup(c, "eng")
check([attr(g, "cn") for g in gs] == [["engineering"]], "'eng' groups %r" % [g["dn"] for g in gs])
check(group_lookup(c, "helpdesk") == [] and group_lookup(c, "alice") == [], "a role or a private group found")
c.unbind()
ok("substring lookups (users: ali, user001, Lister, al, e; groups: eng, zabbix, grp0, s) = the directory's; "
   "user0015, admin, roles and private groups not found")

# ---- AD attributes
c = ug_connect()
es = user_lookup(c, "ali")
a = es[0]
real = direct_entry(udn("alice"), ("ipaUniqueID", "krbPrincipalName", "memberOf"))
g = raw(a, "objectGUID")
check(len(g) == 1 and len(g[0]) == 16 and g[0] == uuid.UUID(attr(real, "ipaUniqueID")[0]).bytes_le,
      "alice's objectGUID %r vs ipaUniqueID %r" % (g, attr(real, "ipaUniqueID")))
check(attr(a, "userAccountControl") == ["512"] and attr(a, "sAMAccountName") == ["alice"]
      and attr(a, "userPrincipalName") == attr(real, "krbPrincipalName")
      and attr(a, "distinguishedName") == [vdn(udn("alice"))], "alice's AD attributes %r" % a)
es, r = search(c, VUSERS, "(sAMAccountName=eve)", ["userAccountControl"])
check(len(es) == 1 and attr(es[0], "userAccountControl") == ["514"], "eve's userAccountControl %r" % es)
c.unbind()
ok("alice: objectGUID = ipaUniqueID in AD byte order, userAccountControl 512, sAMAccountName, "
   "userPrincipalName, distinguishedName; locked eve 514")

# ---- captive portal logins and the user's groups
for name in ["%s\\alice" % NETBIOS, "alice@%s" % DOMAIN, "example\\Alice", "ALICE@EXAMPLE.COM"]:
    c, code, msg = portal_bind(name, PW)
    check(code == 0, "portal login %s: %s %r" % (name, code, msg))
    w = c.extend.standard.who_am_i()
    w = w.decode() if isinstance(w, bytes) else (w or "")
    check(w.lower() == ("dn:" + vdn(udn("alice"))).lower(), "whoami after %s: %r" % (name, w))
    c.unbind()
c = ug_connect()
es, r = search(c, VUSERS, "(sAMAccountName=alice)", ["memberOf"])
mo = sorted(attr(es[0], "memberOf"))
want = sorted(vdn(g) for g in attr(real, "memberOf") if group_dn_kind(g) == "group")
check(mo == want and vdn(gdn(GROUP)) in mo, "alice's memberOf %r, expected %r" % (mo, want))
es, r = search(c, VGROUPS, "(member:1.2.840.113556.1.4.1941:=%s)" % escape_filter_chars(vdn(udn("alice"))), ["cn"])
got = norm(e["dn"] for e in es)
direct_member = norm(vdn(d) for d in direct_dns("(member=%s)" % udn("alice"), GROUPS))
check(r.get("result") == 0 and got == norm(want) and set(direct_member) < set(got),
      "in-chain member query: %r, expected alice's groups (nested included) %r; direct ones %r"
      % (got, want, direct_member))
c.unbind()
ok("portal logins EXAMPLE\\alice, alice@example.com (any case): whoami in the virtual tree; memberOf "
   "= real groups incl. nested %s; in-chain member query = the same groups" % GROUP)
case("member_login_groups", "alice: portal login; memberOf = real groups incl. nested; in-chain query the same")

# ---- refused
data_eve = "533" if KIND == "389ds" else "52e"
for name, pw, data in [("%s\\alice" % NETBIOS, "wrong", "52e"), ("%s\\user0015" % NETBIOS, PW, "52e"),
                       ("user0015@%s" % DOMAIN, PW, "52e"), ("%s\\eve" % NETBIOS, PW, data_eve),
                       (vdn(udn("user0015")), PW, "52e"), ("%s\\nosuchuser" % NETBIOS, PW, "52e"),
                       ("nosuchuser@%s" % DOMAIN, PW, "52e")]:
    c, code, msg = portal_bind(name, pw)
    c.unbind()
    check(code == 49 and msg == AD % data, "%s: %s %r (expected 49, data %s)" % (name, code, msg, data))
for name in ["OTHER\\alice", "alice@other.example"]:
    c, code, msg = portal_bind(name, PW)
    c.unbind()
    check(code == 49, "%s: %s %r (expected 49)" % (name, code, msg))
ok("refused with AD diagnostics: wrong password, user0015 (netbios, upn, DN) data 52e, locked eve data %s, "
   "unknown nosuchuser (netbios, upn) data 52e; foreign domains 49" % data_eve)
case("wrong_password", "49 data 52e")
case("locked_account", "eve (in the group): 514; bind 49 data %s" % data_eve)
case("unknown_user", "nosuchuser: not found; bind 49 data 52e")
case("outside_groups", "user0015: not found; bind 49 data 52e (netbios, upn, DN)")

# ---- the user listing, paged
c = ug_connect()
es, pages = paged_all(c, VUSERS, "(&(objectCategory=person)(objectClass=user))", USER_ATTRS, 5)
c.unbind()
got = norm(e["dn"] for e in es)
want = norm(vdn(d) for d in direct_dns("(&(objectClass=person)(memberOf=%s))" % gdn(GROUP), USERS))
check(len(want) >= 16 and got == want, "paged listing: %d through the proxy, %d members in the directory"
      % (len(got), len(want)))
ok("paged user listing (5 per page, %d pages): %d users = the members of %s" % (pages, len(got), GROUP))
