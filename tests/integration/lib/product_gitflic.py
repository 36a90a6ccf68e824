#!/usr/bin/env python3
"""product_gitflic.py — GitFlic's (GitLab-like) LDAP connector replayed
through aldproxy with python3-ldap3, for test_product_gitflic.sh.

Usage: product_gitflic.py PROFILE SERVICE_PASSWORD LOGIN_GROUP

GitFlic settings as profiles/gitflic.yaml recommends: port 389 (plain, as
GitFlic's default; one login also over StartTLS), User DN = the system
account, BaseDn cn=users,cn=accounts, email attribute mail, login attribute
uid (sAMAccountName works too), UID attribute ipaUniqueID; groups under
GroupDN cn=groups,cn=accounts with cn and member.

A login, as GitLab's Net::LDAP bind_as does it on one connection: bind as
the service DN, search (<login attribute>=<escaped login>) under BaseDn for
[dn, uid, mail, ipaUniqueID, givenName, sn], exactly one entry, bind as its
DN with the typed password; in AD mode GitLab-style connectors then check
the account with a base-scope search of the user's DN for
(userAccountControl:1.2.840.113556.1.4.803:=2) asking for [dn]: an entry
back blocks the user.

Checks what GitFlic would conclude: who logs in (alice; sAMAccountName
logins; not user0015 outside the group, not the locked eve, whom the AD-mode
check also reports as disabled), the UID (ipaUniqueID as a string, no
binary objectGUID), userAccountControl 512/514, the group sync (GroupDN's
groups and their direct members, as in the directory) and the paged user
sync against the directory's own list of the group's members.
"""
import sys

from ldap3 import BASE
from ldap3.utils.conv import escape_filter_chars

from product_common import (E, KIND, PW, USERS, GROUPS, check, ok, case, udn, gdn, connect, simple_bind,
                            search, attr, direct_dns, direct_entry, norm, paged_all, group_dn_kind)

PROFILE, SVC_PW, GROUP = sys.argv[1:4]
SVC = "uid=%s,cn=sysaccounts,cn=etc,%s" % (PROFILE, E["BASE_DN"])
URL = E["PROXY_URL"]
ATTRS = ["dn", "uid", "mail", "ipaUniqueID", "givenName", "sn"]
AD_DISABLED = "(userAccountControl:1.2.840.113556.1.4.803:=2)"


def gf_connect(starttls=False):
    c = connect(URL, starttls=starttls)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "GitFlic service bind (%s): %s %s" % (SVC, code, msg))
    return c


def find(c, login, login_attr="uid", attrs=ATTRS):
    filt = "(%s=%s)" % (login_attr, escape_filter_chars(login))
    es, r = search(c, USERS, filt, attrs)
    check(r.get("result") == 0, "login search %s: %r" % (filt, r))
    return es


def ad_disabled(c, dn):
    es, r = search(c, dn, AD_DISABLED, ["dn"], scope=BASE)
    check(r.get("result") == 0, "AD-mode disabled check on %s: %r" % (dn, r))
    return len(es) == 1


def login(login_name, password, login_attr="uid", starttls=False):
    """(outcome, detail) the way a GitLab-style bind_as + AD-mode check ends."""
    c = gf_connect(starttls)
    es = find(c, login_name, login_attr)
    if len(es) != 1:
        c.unbind()
        return "not-found", len(es)
    e = es[0]
    code, msg = simple_bind(c, e["dn"], password)
    if code != 0:
        c.unbind()
        return "bad-credentials", (code, msg)
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "service rebind: %s %s" % (code, msg))
    if ad_disabled(c, e["dn"]):
        c.unbind()
        return "blocked", e["dn"]
    c.unbind()
    return "ok", e


# ---- logins
out, e = login("alice", PW)
check(out == "ok", "alice: %s %r" % (out, e))
check(e["dn"].lower() == udn("alice").lower(), "alice's DN %r" % e["dn"])
d = direct_entry(udn("alice"), ("ipaUniqueID", "mail"))
check(attr(e, "ipaUniqueID") == attr(d, "ipaUniqueID") and len(attr(e, "ipaUniqueID")[0]) == 36,
      "alice's UID %r, directory %r" % (attr(e, "ipaUniqueID"), attr(d, "ipaUniqueID")))
check(attr(e, "mail") == ["alice@ald.test"] and attr(e, "uid") == ["alice"], "alice's attributes %r" % e)
out, e = login("carol", PW, starttls=True)
check(out == "ok", "carol (nested, StartTLS): %s %r" % (out, e))
out, e = login("bob", PW, login_attr="sAMAccountName")
check(out == "ok", "bob by sAMAccountName: %s %r" % (out, e))
ok("GitFlic logins: alice (UID = ipaUniqueID string), carol over StartTLS, bob by sAMAccountName")

# ---- who does not
out, why = login("alice", "wrong")
check(out == "bad-credentials" and why[0] == 49, "alice, wrong password: %s %r" % (out, why))
out, why = login("user0015", PW)
check(out == "not-found" and why == 0, "user0015 (outside %s): %s %r" % (GROUP, out, why))
out, why = login("admin", "AdminPass1")
check(out == "not-found", "admin: %s %r" % (out, why))
out, why = login("nosuchuser", PW)
check(out == "not-found" and why == 0, "nosuchuser: %s %r" % (out, why))
out, why = login("eve", PW)
want = 53 if KIND == "389ds" else 49
check(out == "bad-credentials" and why[0] == want, "locked eve: %s %r (expected %d)" % (out, why, want))
ok("no login: wrong password, user0015, admin and the unknown nosuchuser not found, locked eve %d" % want)
case("wrong_password", "bind 49")
case("locked_account", "eve (in the group): bind %d; AD mode: userAccountControl 514" % want)
case("unknown_user", "nosuchuser: not found")

# ---- AD mode: the disabled bit is ALD Pro's lock
c = gf_connect()
check(ad_disabled(c, udn("eve")), "the AD-mode check does not report the locked eve as disabled")
for who in ["alice", "dave", "carol"]:
    check(not ad_disabled(c, udn(who)), "the AD-mode check reports %s as disabled" % who)
es = find(c, "eve", attrs=["userAccountControl", "sAMAccountName", "userPrincipalName", "objectGUID"])
check(len(es) == 1 and attr(es[0], "userAccountControl") == ["514"], "eve's userAccountControl: %r" % es)
es = find(c, "alice", attrs=["userAccountControl", "sAMAccountName", "userPrincipalName", "objectGUID"])
check(len(es) == 1, "alice by uid with AD attributes")
a = es[0]
check(attr(a, "userAccountControl") == ["512"], "alice's userAccountControl %r" % attr(a, "userAccountControl"))
check(attr(a, "sAMAccountName") == ["alice"], "alice's sAMAccountName %r" % attr(a, "sAMAccountName"))
check(attr(a, "userPrincipalName") == ["alice@ALD.TEST"], "alice's userPrincipalName %r"
      % attr(a, "userPrincipalName"))
check(attr(a, "objectGUID") == [], "objectGUID (binary, hex in GitFlic) must not be offered: %r"
      % attr(a, "objectGUID"))
# a locked account is found with the product's AD filter, and only locked ones
es, r = search(c, USERS, "(&(objectClass=user)%s)" % AD_DISABLED, ["uid"])
check(r.get("result") == 0 and [attr(x, "uid")[0] for x in es] == ["eve"],
      "visible disabled users: %r %r" % ([x["dn"] for x in es], r))
c.unbind()
ok("AD mode: eve disabled (userAccountControl 514), alice/dave/carol not (512); no objectGUID")

# ---- group synchronisation: GroupDN's groups, cn and direct members
c = gf_connect()
es, r = search(c, GROUPS, "(objectClass=groupOfNames)", ["cn", "member"])
check(r.get("result") == 0, "group sync search: %r" % r)
got = norm(x["dn"] for x in es)
want = direct_dns("(objectClass=groupOfNames)", GROUPS)
check(got == want, "group sync: %d groups through the proxy, %d in the directory" % (len(got), len(want)))
g = {attr(x, "cn")[0].lower(): norm(attr(x, "member")) for x in es}
check(g[GROUP] == norm([gdn("engineering"), udn("dave"), udn("eve")]), "%s's members %r" % (GROUP, g[GROUP]))
uids = sorted(m.split(",", 1)[0].split("=", 1)[1] for m in g["engineering"] if m.startswith("uid="))
check(uids == ["alice", "bob"], "engineering's user ids %r" % uids)
c.unbind()
ok("group sync: %d groups as in the directory; member values and user ids intact" % len(got))
case("member_login_groups", "alice, carol (nested), bob log in; group sync = the directory's groups")

# memberOf: only real groups
c = gf_connect()
es = find(c, "alice", attrs=["memberOf"])
kinds = set(group_dn_kind(v) for v in attr(es[0], "memberOf"))
check(kinds == {"group"}, "alice's memberOf holds %r" % attr(es[0], "memberOf"))
c.unbind()

# ---- user sync, paged
c = gf_connect()
es, pages = paged_all(c, USERS, "(objectClass=person)", ["uid", "mail", "ipaUniqueID"], 5)
c.unbind()
got = norm(x["dn"] for x in es)
want = direct_dns("(&(objectClass=person)(memberOf=%s))" % gdn(GROUP), USERS)
check(len(want) >= 15 and got == want, "paged user sync: %d through the proxy, %d members in the directory"
      % (len(got), len(want)))
check(all(attr(x, "ipaUniqueID") for x in es), "a synced user without ipaUniqueID")
ok("paged user sync (5 per page, %d pages): %d users = the members of %s" % (pages, len(got), GROUP))

# ---- a user outside the group cannot log in by binding either: bind_as's
# bind on GitFlic's own connection must be refused like a wrong password.
# The rig's demo profile also accepts this DN (no login groups), so this
# holds only if the connection's current profile (the service account's)
# chooses, as docs/profiles.md says.  Last, so that everything above is
# checked first.
c = gf_connect()
code, msg = simple_bind(c, udn("user0015"), PW)
check(code == 49, "user0015's bind on GitFlic's connection: %s %r (expected 49: the profile's login "
      "group, not another profile's, must decide)" % (code, msg))
c.unbind()
ok("user0015's bind on the connector's connection: invalidCredentials (49)")
case("outside_groups", "user0015: not found; her bind 49")
