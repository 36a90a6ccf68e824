#!/usr/bin/env python3
"""product_freeipa-native.py — a generic connector configured as for a
FreeIPA server (GitLab/GitFlic/Dex-like: service bind, (uid=x) search, the
user's bind) through aldproxy with python3-ldap3 over StartTLS, for
test_product_freeipa-native.sh.

Usage: product_freeipa-native.py SERVICE_PASSWORD OUT_DIR

The profile has no group rule: every user logs in (user0015 too), the
locked eve does not; memberOf is clean (no role, HBAC, sudo DNs), also in
searches made after the user's bind on the product's connection; groups by
(&(objectClass=groupOfNames)(member=<DN>)); secrets are never returned;
writes are refused; a paged listing (100) of every user is written to
OUT_DIR/users.dns for the shell test to compare with the directory.
"""
import os
import sys

from ldap3 import MODIFY_REPLACE

from product_common import (E, KIND, PW, USERS, GROUPS, SUFFIX, check, ok, case, udn, connect,
                            simple_bind, search, paged_all, attr, direct_entry, norm,
                            real_groups_of, escape_filter, group_dn_kind)

SVC_PW, OUT = sys.argv[1:3]
SVC = "uid=freeipa-native,cn=sysaccounts,cn=etc,%s" % SUFFIX
URL = E["PROXY_URL"]
USER_FILTER = "(&(objectClass=inetOrgPerson)(uid=%s))"


def service():
    c = connect(URL, starttls=True)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "service bind: %s %s" % (code, msg))
    return c


def login(name, password):
    """Search as the service, bind as the user on the same connection; then the
    user reads her own entry (as connectors that search as the user do)."""
    c = service()
    es, r = search(c, USERS, USER_FILTER % escape_filter(name), ["uid", "cn", "mail", "memberOf"])
    check(r.get("result") == 0, "user search %s: %r" % (name, r))
    if len(es) != 1:
        c.unbind()
        return "not-found", len(es)
    code, msg = simple_bind(c, es[0]["dn"], password)
    if code != 0:
        c.unbind()
        return "bad-password", (code, msg)
    own, r = search(c, es[0]["dn"], "(objectClass=*)", ["memberOf"], scope="BASE")
    c.unbind()
    check(r.get("result") == 0 and len(own) == 1, "%s reading her own entry: %r" % (name, r))
    return "ok", (es[0], own[0])


for name in ("alice", "carol", "user0015", "user0999"):
    out, (e, own) = login(name, PW)
    check(out == "ok", "%s should log in (no group rule): %s" % (name, out))
    want = real_groups_of(name)
    for which, entry in (("as the service", e), ("as herself after the bind", own)):
        mo = attr(entry, "memberOf")
        bad = [v for v in mo if group_dn_kind(v) != "group"]
        check(not bad, "%s's memberOf read %s lists non-groups %r (see the proxy log for the profile)"
              % (name, which, bad))
        got = sorted(v.split(",", 1)[0].split("=", 1)[1].lower() for v in mo)
        check(got == want, "%s's groups read %s: %r, expected %r" % (name, which, got, want))
    d = direct_entry(udn(name), ("mail", "cn"))
    check(attr(e, "mail") == attr(d, "mail") and attr(e, "cn") == attr(d, "cn"), "%s: mail/cn differ" % name)
raw = [v.lower() for v in attr(direct_entry(udn("alice"), ("memberOf",)), "memberOf")]
check(any(",cn=roles," in v for v in raw), "premise: alice's memberOf in the directory lists a role")
ok("alice, carol, user0015, user0999 log in (no group rule); memberOf = real groups only, read as the "
   "service and as the user after her bind on the same connection")
case("member_login_groups", "alice, carol (nested), user0015, user0999: memberOf = real groups")
case("outside_groups", "no group rule in the profile: every user logs in (user0015 too)", result="na")

out, wrong = login("alice", "wrong-password")
check(out == "bad-password" and wrong[0] == 49, "wrong password: %s %r" % (out, wrong))
out, eve = login("eve", PW)
want = 53 if KIND == "389ds" else 49
check(out == "bad-password" and eve[0] == want, "locked eve (%s): %s %r, expected %d" % (KIND, out, eve, want))
out, n = login("admin", "AdminPass1")
check(out == "not-found", "admin (no inetOrgPerson, as in FreeIPA) found by the inetOrgPerson filter")
for name in ("*", "alice)(uid=*"):
    out, n = login(name, PW)
    check(out == "not-found" and n == 0, "login %r matched %r" % (name, n))
# an unknown login: not found, and a bind as his would-be DN refused like a wrong password
out, n = login("nosuchuser", PW)
check(out == "not-found" and n == 0, "nosuchuser: %s %r" % (out, n))
c = connect(URL, starttls=True)
code, msg = simple_bind(c, udn("nosuchuser"), PW)
c.unbind()
check((code, msg) == wrong, "nosuchuser's bind: %s %r, expected %r" % (code, msg, wrong))
ok("refused: wrong password 49, locked eve %d; admin not an inetOrgPerson; escaped wildcards match nothing; "
   "nosuchuser not found, his bind 49 like a wrong password" % want)
case("wrong_password", "bind 49")
case("locked_account", "eve: bind %d" % want)
case("unknown_user", "nosuchuser: not found; bind 49 like a wrong password")

c = service()
# groups by member (Dex / GitLab style): direct groups under the groups base only
es, r = search(c, GROUPS, "(&(objectClass=groupOfNames)(member=%s))" % udn("carol"), ["cn"])
check(sorted(attr(x, "cn")[0].lower() for x in es) == ["developers", "ipausers"],
      "carol's direct groups by member: %r" % [attr(x, "cn") for x in es])
# secrets never come back, even for "*" and "+"
es, r = search(c, USERS, "(uid=alice)", ["*", "+", "userPassword", "krbPrincipalKey"])
check(len(es) == 1, "alice with * +: %r" % r)
names = [k.lower() for k, v in es[0]["raw_attributes"].items() if v]     # ldap3 lists asked-for names empty
check("userpassword" not in names and "krbprincipalkey" not in names, "secrets returned: %r" % names)
check("ipauniqueid" in names and "memberof" in names, "ordinary attributes missing: %r" % names)
es, r = search(c, USERS, "(userPassword=Secret123)", ["uid"])
check(r.get("result") == 50 and not es, "a filter on userPassword: %r" % r)
# the rootDSE names the profile's tree
es, r = search(c, "", "(objectClass=*)", ["namingContexts", "supportedControl"], scope="BASE")
check(attr(es[0], "namingContexts") == [SUFFIX], "rootDSE namingContexts: %r" % attr(es[0], "namingContexts"))
check("1.2.840.113556.1.4.319" in attr(es[0], "supportedControl"), "rootDSE lacks paged results")
# writes refused
c.modify(udn("alice"), {"mail": [(MODIFY_REPLACE, ["x@example.com"])]})
check((c.result or {}).get("result") == 53, "modify through the proxy: %r" % c.result)
ok("groups by member (carol: developers, ipausers); secrets withheld and not filterable; rootDSE "
   "namingContexts %s; writes refused (53)" % SUFFIX)

# listing, paged 100
es, pages = paged_all(c, USERS, "(objectClass=inetOrgPerson)", ["uid"], 100)
check(pages >= 10, "the listing of %d users took %d pages of 100" % (len(es), pages))
with open(os.path.join(OUT, "users.dns"), "w") as f:
    f.write("".join(d + "\n" for d in norm(x["dn"] for x in es)))
c.unbind()
ok("listing: %d users in %d pages of 100" % (len(es), pages))
