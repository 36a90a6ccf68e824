#!/usr/bin/env python3
"""product_passwork.py — Passwork's LDAP integration replayed through
aldproxy with python3-ldap3, for test_product_passwork.sh.

Usage: product_passwork.py PROFILE SERVICE_PASSWORD LOGIN_GROUP REALM

The server record as profiles/passwork.yaml recommends: ldaps, server code
"ald" (users log in as alice@ald), the system account, login attribute uid
(sAMAccountName also tried), search DN cn=users,cn=accounts with Passwork's
default DN filter
  (|(objectclass=posixAccount)(uid=*)(sAMAccountType=805306368)
    (&(objectCategory=person)(objectClass=user)))
and its default group filter
  (|(objectclass=group)(objectclass=organizationalrole)(objectclass=posixgroup)).

A login: strip "@<code>", bind as the service account, search
(&<DN filter>(<login attribute>=<escaped login>)), exactly one entry, then
the password check: a bind as <login>@<REALM> (the user principal name);
groups from the user's memberOf.  Sync: the DN filter under the search DN,
paged; the group list with the group filter.

Checks what Passwork would conclude: alice (and the nested carol) log in as
alice@ald, with real groups only; bob by sAMAccountName; user0015 outside the
group is not found and its UPN bind fails (49); the locked eve is found and
refused; wrong passwords and foreign realms fail; the AD names Passwork's
filters use resolve; the group list holds every user group, POSIX or not,
and no user private group or role; the paged sync equals the directory's
own list of the group's members.
"""
import sys

from ldap3.utils.conv import escape_filter_chars

from product_common import (E, KIND, PW, USERS, GROUPS, SUFFIX, check, ok, case, real_groups_of, udn, gdn, connect,
                            simple_bind, search, attr, direct_dns, norm, paged_all, group_dn_kind)

PROFILE, SVC_PW, GROUP, REALM = sys.argv[1:5]
SVC = "uid=%s,cn=sysaccounts,cn=etc,%s" % (PROFILE, E["BASE_DN"])
URL = E["PROXY_LDAPS_URL"]
CODE = "ald"
DN_FILTER = ("(|(objectclass=posixAccount)(uid=*)(sAMAccountType=805306368)"
             "(&(objectCategory=person)(objectClass=user)))")
GROUP_FILTER = "(|(objectclass=group)(objectclass=organizationalrole)(objectclass=posixgroup))"
USER_ATTRS = ["uid", "sAMAccountName", "mail", "cn", "displayName", "memberOf", "userPrincipalName",
              "objectCategory", "sAMAccountType"]


def pw_connect():
    c = connect(URL)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "Passwork service bind (%s): %s %s" % (SVC, code, msg))
    return c


def find(c, login, login_attr="uid"):
    filt = "(&%s(%s=%s))" % (DN_FILTER, login_attr, escape_filter_chars(login))
    es, r = search(c, USERS, filt, USER_ATTRS)
    check(r.get("result") == 0, "user search %s: %r" % (filt, r))
    return es


def pw_login(typed, password, login_attr="uid"):
    """(outcome, entry or detail)."""
    check(typed.endswith("@" + CODE), "login %r without the server code" % typed)
    login = typed[:-len(CODE) - 1]
    c = pw_connect()
    es = find(c, login, login_attr)
    if len(es) != 1:
        c.unbind()
        return "not-found", len(es)
    code, msg = simple_bind(c, "%s@%s" % (login, REALM), password)
    c.unbind()
    if code != 0:
        return "refused", (code, msg)
    return "ok", es[0]


# ---- who logs in
for who in ["alice", "carol"]:
    out, e = pw_login(who + "@" + CODE, PW)
    check(out == "ok", "%s@%s: %s %r" % (who, CODE, out, e))
    check(e["dn"].lower() == udn(who).lower(), "%s's DN %r" % (who, e["dn"]))
    check(attr(e, "sAMAccountName") == [who] and attr(e, "userPrincipalName") == ["%s@%s" % (who, REALM)],
          "%s's AD names %r %r" % (who, attr(e, "sAMAccountName"), attr(e, "userPrincipalName")))
    check(attr(e, "sAMAccountType") == ["805306368"] and
          attr(e, "objectCategory") == ["CN=Person,CN=Schema,CN=Configuration," + SUFFIX],
          "%s's sAMAccountType/objectCategory %r %r" % (who, attr(e, "sAMAccountType"), attr(e, "objectCategory")))
    kinds = set(group_dn_kind(g) for g in attr(e, "memberOf"))
    check(kinds == {"group"} and gdn(GROUP).lower() in [g.lower() for g in attr(e, "memberOf")],
          "%s's memberOf %r" % (who, attr(e, "memberOf")))
    got = sorted(g.split(",", 1)[0].split("=", 1)[1].lower() for g in attr(e, "memberOf"))
    check(got == real_groups_of(who), "%s's groups %r, expected her real groups %r" % (who, got, real_groups_of(who)))
out, e = pw_login("bob@" + CODE, PW, login_attr="sAMAccountName")
check(out == "ok" and attr(e, "uid") == ["bob"], "bob by sAMAccountName: %s %r" % (out, e))
c = pw_connect()
for name in ["Alice@" + REALM.lower(), "alice@" + REALM]:
    code, msg = simple_bind(c, name, PW)
    check(code == 0, "UPN bind %s: %s %r" % (name, code, msg))
code, msg = simple_bind(c, udn("alice"), PW)
check(code == 0, "alice's DN bind: %s %r" % (code, msg))
c.unbind()
ok("Passwork logins: alice@%s, carol@%s (UPN binds), bob by sAMAccountName; memberOf real groups only"
   % (CODE, CODE))
case("member_login_groups", "alice, carol (nested): UPN binds; memberOf = real groups")

# ---- who does not
out, why = pw_login("alice@" + CODE, "wrong")
check(out == "refused" and why[0] == 49, "alice, wrong password: %s %r" % (out, why))
out, why = pw_login("user0015@" + CODE, PW)
check(out == "not-found" and why == 0, "user0015: %s %r" % (out, why))
out, why = pw_login("admin@" + CODE, "AdminPass1")
check(out == "not-found", "admin: %s %r" % (out, why))
out, why = pw_login("nosuchuser@" + CODE, PW)
check(out == "not-found" and why == 0, "nosuchuser: %s %r" % (out, why))
want = 53 if KIND == "389ds" else 49
out, why = pw_login("eve@" + CODE, PW)
check(out == "refused" and why[0] == want, "locked eve: %s %r (expected %d)" % (out, why, want))
c = connect(URL)
for name in ["user0015@" + REALM, "alice@OTHER.REALM", "alice@" + CODE, "ALD\\alice", "nosuchuser@" + REALM]:
    code, msg = simple_bind(c, name, PW)
    check(code == 49, "bind as %s: %s %r (expected 49)" % (name, code, msg))
c.unbind()
c = pw_connect()
code, msg = simple_bind(c, udn("user0015"), PW)
check(code == 49, "user0015's DN bind on Passwork's connection: %s %r" % (code, msg))
c.unbind()
ok("refused: wrong password 49, user0015/admin/nosuchuser not found, user0015@%s and nosuchuser@%s 49, "
   "locked eve %d, foreign realms and forms 49" % (REALM, REALM, want))
case("wrong_password", "UPN bind 49")
case("locked_account", "eve (in the group): UPN bind %d" % want)
case("unknown_user", "nosuchuser: not found; UPN bind 49")
case("outside_groups", "user0015: not found; UPN and DN binds 49")

# ---- the group list: every user group, POSIX or not; no private groups, no roles
c = pw_connect()
for base in [GROUPS, SUFFIX]:
    es, r = search(c, base, GROUP_FILTER, ["cn", "member", "gidNumber"])
    check(r.get("result") == 0, "group list under %s: %r" % (base, r))
    got = norm(x["dn"] for x in es)
    want_g = direct_dns("(objectClass=ipaUserGroup)", GROUPS)
    check(got == want_g, "group list under %s: %d groups, the directory has %d user groups"
          % (base, len(got), len(want_g)))
names = set(attr(x, "cn")[0] for x in es)
check({"sales", GROUP, "ipausers", "engineering", "admins"} <= names, "groups missing: %r" % names)
check(not names & {"alice", "bob", "eve", "helpdesk"}, "private groups or roles listed: %r" % names)
c.unbind()
ok("group list: %d user groups (non-POSIX sales, %s, ipausers included; private groups and roles not)"
   % (len(got), GROUP))

# ---- sync: the DN filter, paged
c = pw_connect()
es, pages = paged_all(c, USERS, DN_FILTER, ["uid", "mail", "memberOf"], 5)
c.unbind()
got = norm(x["dn"] for x in es)
want_u = direct_dns("(&(objectClass=person)(memberOf=%s))" % gdn(GROUP), USERS)
check(len(want_u) >= 15 and got == want_u, "paged sync: %d through the proxy, %d members in the directory"
      % (len(got), len(want_u)))
ok("paged sync with the DN filter (5 per page, %d pages): %d users = the members of %s"
   % (pages, len(got), GROUP))
