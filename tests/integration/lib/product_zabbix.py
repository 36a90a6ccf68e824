#!/usr/bin/env python3
"""product_zabbix.py — Zabbix's frontend LDAP connector (CLdap.php) replayed
through aldproxy with python3-ldap3, for test_product_zabbix.sh and
test_product_astra-monitoring.sh (Astra Monitoring is Zabbix-based).

Usage: product_zabbix.py PROFILE SERVICE_PASSWORD starttls|ldaps LOGIN_GROUP

Per login, as CLdap::checkCredentials() and getUserAttributes() do it, on ONE
connection: StartTLS (or ldaps), bind as the Bind DN twice, search the Base
DN for (uid=<login escaped>) asking for [dn], require exactly one entry, bind
as that DN with the typed password, bind as the Bind DN again and read the
JIT attributes + memberOf; group names = the first cn=<name> of each memberOf
value (Zabbix's "Group name attribute" regex).  Also the DN-template mode
(Bind DN uid=%{user},...: the user's own bind, no search).

Checks what Zabbix would conclude: who logs in, with which groups (real
groups only: no role, HBAC or sudo names), that a user outside the login
group is not found and cannot bind (49, word for word a wrong password),
the locked eve, filter escaping, and that invisible users stay invisible.
"""
import re
import sys

from product_common import (E, KIND, PW, USERS, check, ok, udn, connect, simple_bind, search,
                            escape_filter, real_groups_of, attr, direct_entry, norm, direct_dns,
                            gdn)

PROFILE, SVC_PW, MODE, GROUP = sys.argv[1:5]
SVC = "uid=%s,cn=sysaccounts,cn=etc,%s" % (PROFILE, E["BASE_DN"])
URL = E["PROXY_LDAPS_URL"] if MODE == "ldaps" else E["PROXY_URL"]
PINNED_URL = E["PINNED_URL"]                 # a listener with profile: PROFILE
BASE_DN = USERS                              # Zabbix "Base DN"
JIT_ATTRS = ["givenName", "sn", "mail", "memberOf"]
GROUP_RE = re.compile(r"cn=(?P<groupname>[^,]+)")   # preg_quote('cn') . '=(?<groupname>[^,]+)'


def zconnect():
    return connect(URL, starttls=(MODE == "starttls"))


def zabbix_login(login, password):
    """(outcome, detail): outcome one of ok / not-found / bad-password / query-failed."""
    c = zconnect()
    for _ in range(2):                       # connect() || bind(); then bind() again
        code, msg = simple_bind(c, SVC, SVC_PW)
        check(code == 0, "Zabbix service bind (%s): %s %s" % (SVC, code, msg))
    es, r = search(c, BASE_DN, "(uid=%s)" % escape_filter(login), ["dn"])
    if r.get("result") != 0:
        c.unbind()
        return "query-failed", r
    if len(es) != 1:
        c.unbind()
        return "not-found", len(es)
    user_dn = es[0]["dn"]
    code, msg = simple_bind(c, user_dn, password)
    if code != 0:
        c.unbind()
        return "bad-password", (code, msg)
    # JIT provisioning: getUserAttributes() binds as the Bind DN again
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "service re-bind for JIT: %s %s" % (code, msg))
    es, r = search(c, BASE_DN, "(uid=%s)" % escape_filter(login), JIT_ATTRS)
    check(r.get("result") == 0 and len(es) == 1, "JIT search for %s: %r, %d entries" % (login, r, len(es)))
    user = {"dn": es[0]["dn"]}
    for a in JIT_ATTRS:
        vals = attr(es[0], a)
        if a == "memberOf":
            user["groups"] = sorted(m.group("groupname").lower()
                                    for m in (GROUP_RE.search(v) for v in vals) if m)
            # (products.md reads it as every cn= RDN of each value: those too)
            user["all_cn"] = sorted({n.lower() for v in vals for n in GROUP_RE.findall(v)})
            user["memberOf"] = vals
        elif vals:
            user[a] = vals[0]
    c.unbind()
    return "ok", user


def dn_template_bind(login, password):
    """Zabbix's DN-string mode (Bind DN uid=%{user},..., no service account):
    the user's own bind on a fresh connection.  A fresh connection carries no
    profile, so this runs on the listener pinned to the profile (PINNED_URL)."""
    c = connect(PINNED_URL, starttls=(MODE == "starttls"))
    code, msg = simple_bind(c, udn(login), password)
    c.unbind()
    return code, msg


def bind_after_service(login, password):
    """The user's bind on the connection Zabbix's service account is bound on."""
    c = zconnect()
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "service bind: %s %s" % (code, msg))
    code, msg = simple_bind(c, udn(login), password)
    c.unbind()
    return code, msg


# ---- who logs in, with which groups (ivanov: Cyrillic names, see the test)
for login in ("alice", "bob", "carol", "dave", "user0003", "ivanov"):
    out, user = zabbix_login(login, PW)
    check(out == "ok", "%s should log in to Zabbix: %s %r" % (login, out, user))
    check(user["dn"].lower() == udn(login).lower(), "%s: DN %s" % (login, user["dn"]))
    want = real_groups_of(login)
    check(GROUP in want, "test set-up: %s is not in %s (%r)" % (login, GROUP, want))
    check(user["groups"] == want,
          "%s's Zabbix groups %r, expected the real groups %r" % (login, user["groups"], want))
    for bad in ("helpdesk", "hbac", "sudorules", "sudo", "roles"):
        check(bad not in user["groups"] and bad not in user["all_cn"],
              "%s got non-group %r as a Zabbix group: %r" % (login, bad, user["memberOf"]))
    for v in user["memberOf"]:
        check(v.lower().endswith("," + E["GROUPS_DN"].lower()), "memberOf value outside the groups: %s" % v)
    d = direct_entry(udn(login), ("givenName", "sn", "mail"))
    for a in ("givenName", "sn", "mail"):
        check(user.get(a) == attr(d, a)[0], "%s's JIT %s: %r vs %r" % (login, a, user.get(a), attr(d, a)))
ok("alice, bob, carol (nested via developers), dave, user0003, ivanov log in; JIT groups are "
   "exactly their real groups (no helpdesk role, no hbac/sudo rule names); JIT names (Cyrillic too) "
   "as in ALD Pro")
out, ivanov = zabbix_login("ivanov", PW)
check(ivanov.get("givenName") == "\u0418\u0432\u0430\u043d" and ivanov.get("sn") == "\u0418\u0432\u0430\u043d\u043e\u0432",
      "ivanov's JIT names: %r %r" % (ivanov.get("givenName"), ivanov.get("sn")))

# the role and the rules really are in alice's memberOf in the directory
raw_mo = [v.lower() for v in attr(direct_entry(udn("alice"), ("memberOf",)), "memberOf")]
check(any(",cn=roles," in v for v in raw_mo) and any(",cn=hbac," in v for v in raw_mo),
      "test premise: alice's memberOf in the directory should list the helpdesk role and an HBAC rule")

# carol is a member through two levels of nesting only
out, carol = zabbix_login("carol", PW)
check(GROUP in carol["groups"] and "engineering" in carol["groups"] and "developers" in carol["groups"],
      "carol's nested groups: %r" % carol["groups"])
ok("nested membership: carol has %s" % ", ".join(carol["groups"]))

# ---- who does not
out, wrong = zabbix_login("alice", "wrong-password")
check(out == "bad-password" and wrong[0] == 49, "alice with a wrong password: %s %r" % (out, wrong))
out, n = zabbix_login("user0015", PW)
check(out == "not-found" and n == 0, "user0015 (not in %s) must not be found: %s %r" % (GROUP, out, n))
# Zabbix binds only DNs its search found, on the service account's connection:
# were user0015 found (a login group narrower than the visible one), her bind
# there must fail word for word like a wrong password
code, msg = bind_after_service("user0015", PW)
check(code == 49, "user0015's bind on Zabbix's service connection: %s %s, expected 49 "
      "(not in %s; see the proxy log for the profile that took the bind)" % (code, msg, GROUP))
check(msg == wrong[1], "user0015's refusal differs from a wrong password: %r vs %r" % (msg, wrong[1]))
code, msg = bind_after_service("alice", PW)
check(code == 0, "alice's bind on the service connection: %s %s" % (code, msg))
# DN-template mode, on the listener pinned to the profile
code, msg = dn_template_bind("alice", PW)
check(code == 0, "alice (DN-template mode): %s %s" % (code, msg))
code, msg = dn_template_bind("user0015", PW)
check((code, msg) == (49, wrong[1]), "user0015 (DN-template mode): %s %r, expected 49 %r" % (code, msg, wrong[1]))
code, msg = dn_template_bind("alice", "wrong-password")
check((code, msg) == (49, wrong[1]), "alice wrong password (DN template): %r" % ((code, msg),))
out, eve = zabbix_login("eve", PW)
want_eve = 53 if KIND == "389ds" else 49
check(out == "bad-password" and eve[0] == want_eve,
      "locked eve (%s): %s %r, expected bind result %d" % (KIND, out, eve, want_eve))
for login in ("nobody", "admin"):
    out, n = zabbix_login(login, PW if login != "admin" else "AdminPass1")
    check(out == "not-found", "%s must not be found: %s %r" % (login, out, n))
ok("refused: wrong password (49), user0015 outside %s (not found; her bind 49 with the same "
   "message, on the service connection and in DN-template mode), "
   "locked eve (%d), admin and unknown users not found" % (GROUP, want_eve))

# ---- the login is escaped as ldap_escape(LDAP_ESCAPE_FILTER) does
for login in ("*", "al*", "alice)(uid=*", "*)(|(uid=*", "\\"):
    out, n = zabbix_login(login, PW)
    check(out == "not-found" and n == 0, "login %r matched entries: %s %r" % (login, out, n))
out, user = zabbix_login("ALICE", PW)
check(out == "ok" and user["dn"].lower() == udn("alice").lower(), "ALICE (case-insensitive uid): %s" % out)
ok("escaped logins (*, al*, injections, backslash) match nothing; ALICE finds alice")

# ---- invisible users, seen as Zabbix's service account sees the tree
c = zconnect()
simple_bind(c, SVC, SVC_PW)
for login in ("user0015", "user0500", "admin", "nobody"):
    es, r = search(c, BASE_DN, "(uid=%s)" % login, ["uid"])
    check(r.get("result") == 0 and not es, "(uid=%s) through the proxy: %r %d" % (login, r, len(es)))
es, r = search(c, BASE_DN, "(objectClass=person)", ["uid", "memberOf"])
check(r.get("result") == 0, "listing the users: %r" % r)
want = direct_dns("(&(objectClass=person)(memberOf=%s))" % gdn(GROUP), USERS)
check(norm(e["dn"] for e in es) == want,
      "visible users through the proxy (%d) differ from the members of %s (%d)" % (len(es), GROUP, len(want)))
for e in es:
    for v in attr(e, "memberOf"):
        check(v.lower().endswith("," + E["GROUPS_DN"].lower()), "%s: memberOf %s" % (e["dn"], v))
es, r = search(c, E["BASE_DN"], "(uid=alice)", ["uid"])
check(r.get("result") == 32, "a search above the profile's search_base: %r, expected noSuchObject" % r)
# nor can the service account probe them with Compare (an oracle for who
# exists and what their attributes hold): only visible entries may answer
c.compare(udn("alice"), "uid", "alice")
check((c.result or {}).get("result") == 6, "compare on alice's uid: %r" % c.result)
for target, a, v in ((udn("user0015"), "uid", "user0015"), (udn("user0015"), "memberOf", gdn("grp15")),
                     (udn("admin"), "uid", "admin")):
    c.compare(target, a, v)
    got = (c.result or {}).get("result")
    check(got not in (5, 6), "Compare on %s (outside %s) answered %s (%s): invisible users must not "
          "answer compareTrue/compareFalse" % (target.split(",")[0], GROUP, got, (c.result or {}).get("description")))
c.unbind()
ok("users outside %s are invisible: (objectClass=person) returns exactly its %d members; "
   "memberOf clean on every entry; Compare does not answer for them" % (GROUP, len(want)))
