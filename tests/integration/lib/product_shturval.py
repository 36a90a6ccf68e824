#!/usr/bin/env python3
"""product_shturval.py — Dex's LDAP connector (Shturval's Kubernetes login)
replayed through aldproxy with python3-ldap3, for test_product_shturval.sh.

Usage: product_shturval.py PROFILE SERVICE_PASSWORD LOGIN_GROUP

Dex (connector/ldap/ldap.go), host on 636 (ldaps, rootCA = the rig CA):
  Login(): one connection: bind bindDN/bindPW; search userSearch.baseDN for
    (&(objectClass=person)(uid=<ldap.EscapeFilter(login)>)) asking for
    [idAttr, emailAttr, "DN" (the userMatcher's userAttr), nameAttr,
    preferredUsernameAttr]; more than one entry is an error, none is "invalid
    credentials"; a missing id or email attribute refuses the login; then a
    bind as the entry's DN on the same connection (49 = wrong password,
    anything else = an error: no login either).
  groups(): a new connection, bind bindDN; search groupSearch.baseDN for
    (&(objectClass=groupOfNames)(member=<escaped user DN>)) asking for [cn].

Checks what Dex would conclude: who logs in (alice, nested carol; not
user0015 outside the login group, not the locked eve, not a wrong password),
the claims (email from mail, or the profile's default for a user without
mail), the groups (exactly the directory's direct groups of the user),
escaping, and that every visible user has the required attributes in a
paged listing as long as the directory's own list of the group's members.
"""
import sys

from ldap3.utils.conv import escape_filter_chars

from product_common import (E, KIND, PW, USERS, GROUPS, check, ok, case, udn, connect, simple_bind,
                            search, attr, direct_dns, norm, paged_all)

PROFILE, SVC_PW, GROUP = sys.argv[1:4]
SVC = "uid=%s,cn=sysaccounts,cn=etc,%s" % (PROFILE, E["BASE_DN"])
URL = E["PROXY_LDAPS_URL"]                          # host: <proxy>:636
USER_FILTER = "(objectClass=person)"               # userSearch.filter
USER_ATTRS = ["uid", "mail", "DN", "displayName", "uid"]   # id, email, userMatcher, name, preferred
GROUP_FILTER = "(objectClass=groupOfNames)"        # groupSearch.filter


def dex_connect():
    c = connect(URL)
    check(c.tls_started or URL.startswith("ldaps://"), "not TLS")
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "Dex bindDN bind (%s): %s %s" % (SVC, code, msg))
    return c


def user_entry(c, login):
    filt = "(&%s(uid=%s))" % (USER_FILTER, escape_filter_chars(login))
    es, r = search(c, USERS, filt, USER_ATTRS)
    check(r.get("result") == 0, "user search %s: %r" % (filt, r))
    return es


def login(username, password):
    """(outcome, identity or detail) the way Dex's Login() ends."""
    c = dex_connect()
    es = user_entry(c, username)
    if len(es) == 0:
        c.unbind()
        return "invalid-credentials", "no such user"
    check(len(es) == 1, "Dex: filter returned multiple (%d) results" % len(es))
    e = es[0]
    ident = {"dn": e["dn"], "id": attr(e, "uid"), "email": attr(e, "mail"),
             "name": attr(e, "displayName"), "preferred": attr(e, "uid")}
    missing = [k for k in ("id", "email") if not ident[k]]
    if missing:
        c.unbind()
        return "missing-attributes", missing
    code, msg = simple_bind(c, e["dn"], password)
    c.unbind()
    if code == 49:
        return "invalid-credentials", (code, msg)
    if code != 0:
        return "bind-error", (code, msg)
    ident = {k: (v[0] if isinstance(v, list) else v) for k, v in ident.items()}
    return "ok", ident


def groups(user_dn):
    c = dex_connect()
    filt = "(&%s(member=%s))" % (GROUP_FILTER, escape_filter_chars(user_dn))
    es, r = search(c, GROUPS, filt, ["cn"])
    check(r.get("result") == 0, "group search %s: %r" % (filt, r))
    c.unbind()
    return sorted(attr(e, "cn")[0].lower() for e in es)


def direct_groups(user_dn):
    """The same group search straight against the directory: cn of each DN."""
    return sorted(d.split(",", 1)[0].split("=", 1)[1]
                  for d in direct_dns("(&%s(member=%s))" % (GROUP_FILTER, escape_filter_chars(user_dn)),
                                      GROUPS))


# ---- who logs in, with which claims and groups
for who, mail in [("alice", "alice@ald.test"), ("carol", "carol@ald.test"),
                  ("user0007", "user0007@ald.example")]:
    out, ident = login(who, PW)
    check(out == "ok", "Dex login of %s: %s %r" % (who, out, ident))
    check(ident["dn"].lower() == udn(who).lower(), "%s's DN: %r" % (who, ident["dn"]))
    check(ident["id"] == who and ident["preferred"] == who, "%s's id claims: %r" % (who, ident))
    check(ident["email"] == mail, "%s's email claim %r, expected %r" % (who, ident["email"], mail))
    check(ident["name"], "%s has no name claim" % who)
    gs = groups(ident["dn"])
    want = direct_groups(ident["dn"])
    check(gs == want, "%s's Dex groups %r, the directory's %r" % (who, gs, want))
    check(gs, "%s has no groups at all" % who)
ok("Dex logins: alice, nested carol, user0007 (no mail: default user0007@ald.example); "
   "groups = the directory's direct groups")
case("member_login_groups", "alice, carol (nested) log in; groups = the directory's direct groups (Dex does not nest)")

# the groups Kubernetes RBAC sees for alice: direct ones (Dex's member search has no nesting)
gs = groups(udn("alice"))
check("engineering" in gs and GROUP not in gs, "alice's Dex groups: %r" % gs)

# ---- who does not
out, why = login("alice", "wrong-password")
check(out == "invalid-credentials" and why[0] == 49, "alice with a wrong password: %s %r" % (out, why))
out, why = login("user0015", PW)
check(out == "invalid-credentials" and why == "no such user",
      "user0015 (outside %s) must not be found: %s %r" % (GROUP, out, why))
out, why = login("admin", "AdminPass1")
check(out == "invalid-credentials" and why == "no such user", "admin must not be found: %s %r" % (out, why))
out, why = login("nosuchuser", PW)
check(out == "invalid-credentials" and why == "no such user", "nosuchuser must not be found: %s %r" % (out, why))
out, why = login("eve", PW)
want = 53 if KIND == "389ds" else 49
check(out in ("invalid-credentials", "bind-error") and why[0] == want,
      "locked eve: %s %r (expected result %d from %s)" % (out, why, want, KIND))
ok("no login: wrong password (49), user0015, admin and the unknown nosuchuser not found, locked eve (%d)" % want)
case("wrong_password", "bind 49")
case("locked_account", "eve (in the group): bind %d" % want)
case("unknown_user", "nosuchuser: not found")

# ---- escaping: a login is a value, never filter syntax
c = dex_connect()
for bad in ["*", "al*", "alice)(uid=*", "*)(objectClass=*", "alice\\", "(uid=alice)"]:
    es = user_entry(c, bad)
    check(len(es) == 0, "login %r matched %d entries" % (bad, len(es)))
check(len(user_entry(c, "ALICE")) == 1, "login ALICE (case) not found")
c.unbind()
ok("escaped logins (*, al*, injections) match nothing; ALICE matches alice")

# ---- every visible user carries Dex's required attributes (paged listing)
c = dex_connect()
es, pages = paged_all(c, USERS, USER_FILTER, ["uid", "mail"], 4)
c.unbind()
got = norm(e["dn"] for e in es)
want = direct_dns("(&(objectClass=person)(memberOf=cn=%s,%s))" % (GROUP, GROUPS), USERS)
check(len(want) >= 15, "the directory lists only %d members of %s" % (len(want), GROUP))
check(got == want, "paged listing: %d users through the proxy, %d members in the directory"
      % (len(got), len(want)))
check(pages >= 4, "only %d pages of 4" % pages)
nomail = [e["dn"] for e in es if not attr(e, "mail") or not attr(e, "uid")]
check(not nomail, "users without Dex's required uid/mail: %r" % nomail)
ok("paged listing (4 per page, %d pages): %d users = the members of %s, each with uid and mail"
   % (pages, len(got), GROUP))

# ---- a user outside the group cannot log in by binding either: Dex's bind
# step on Dex's own connection must be refused like a wrong password.  The
# rig's demo profile also accepts this DN (no login groups), so this holds
# only if the connection's current profile (the service account's) chooses,
# as docs/profiles.md says.  Last, so that everything above is checked first.
c = dex_connect()
code, msg = simple_bind(c, udn("user0015"), PW)
check(code == 49, "user0015's bind on the Dex connection: %s %r (expected 49: the profile's login "
      "group, not another profile's, must decide)" % (code, msg))
c.unbind()
ok("user0015's bind on the connector's connection: invalidCredentials (49)")
case("outside_groups", "user0015: not found; her bind 49")
