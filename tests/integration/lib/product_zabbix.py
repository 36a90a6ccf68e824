#!/usr/bin/env python3
"""product_zabbix.py — Zabbix's frontend LDAP connector (CLdap.php) replayed
through aldproxy with python3-ldap3, for test_product_zabbix.sh and
test_product_astra-monitoring.sh (Astra Monitoring is Zabbix-based).

Usage: product_zabbix.py PROFILE SERVICE_PASSWORD starttls|ldaps LOGIN_GROUP

Per login, as CLdap::checkCredentials() and getUserAttributes() do it, on ONE
connection: StartTLS (or ldaps), bind as the Bind DN twice, search the Base
DN for (uid=<login escaped>) asking for [dn], require exactly one entry, bind
as that DN with the typed password, bind as the Bind DN again and read the
JIT attributes + memberOf; group names as CLdap::getGroupPatternsFromDns()
makes them: every RDN of each memberOf value (libldap's ldap_explode_dn(dn, 0),
what PHP's ldap_explode_dn() calls) whose attribute is the "Group name
attribute" cn, \XX hex escapes decoded.  Also the DN-template mode (Bind DN
uid=%{user},<Base DN>: the user's own bind, no search).

The profile presents ALD Pro's users and groups as ou=users,<suffix> and
ou=groups,<suffix> (virtual_tree): Zabbix's Base DN is ou=users,<suffix>, the
DNs it finds and binds are uid=<login>,ou=users,<suffix>, and each memberOf
value is cn=<group>,ou=groups,<suffix>, whose only cn= RDN is the group's name
(with ALD Pro's cn=<group>,cn=groups,cn=accounts,<suffix> Zabbix would add
"groups" and "accounts" as group names).

Checks what Zabbix would conclude: who logs in, with which groups (real
groups only: no role, HBAC or sudo names), that a user outside the login
group is not found and cannot bind (49, word for word a wrong password),
the locked eve, filter escaping, and that invisible users stay invisible.
"""
import ctypes
import ctypes.util
import re
import sys

from product_common import (E, KIND, PW, USERS, GROUPS, SUFFIX, check, ok, case, udn, connect, simple_bind,
                            search, escape_filter, real_groups_of, attr, direct_entry, norm,
                            direct_dns, gdn)

PROFILE, SVC_PW, MODE, GROUP = sys.argv[1:5]
SVC = "uid=%s,cn=sysaccounts,cn=etc,%s" % (PROFILE, E["BASE_DN"])
URL = E["PROXY_LDAPS_URL"] if MODE == "ldaps" else E["PROXY_URL"]
PINNED_URL = E["PINNED_URL"]                 # a listener with profile: PROFILE
V_USERS = "ou=users," + SUFFIX                # the profile's virtual_tree
V_GROUPS = "ou=groups," + SUFFIX
BASE_DN = V_USERS                            # Zabbix "Base DN"
JIT_ATTRS = ["givenName", "sn", "mail", "memberOf"]
GROUP_NAME_ATTR = "cn"                       # Zabbix "Group name attribute"


def vudn(login):
    """A user's DN as Zabbix sees it through the profile."""
    return "uid=%s,%s" % (login, V_USERS)


def vgdn(name):
    return "cn=%s,%s" % (name, V_GROUPS)


def to_virtual(dn):
    """A directory DN (lower-cased) as the profile presents it."""
    for real, virt in ((USERS.lower(), V_USERS.lower()), (GROUPS.lower(), V_GROUPS.lower())):
        if dn.endswith("," + real):
            return dn[:-len(real)] + virt
    return dn


# ---- ldap_explode_dn($dn, 0): PHP's function is libldap's; use it when it loads
def _libldap():
    names = [ctypes.util.find_library("ldap"), "libldap.so.2", "libldap-2.5.so.0", "libldap-2.4.so.2",
             "libldap_r-2.4.so.2"]
    for n in names:
        if not n:
            continue
        try:
            lib = ctypes.CDLL(n)
        except OSError:
            continue
        lib.ldap_explode_dn.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.ldap_explode_dn.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.ldap_value_free.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        return lib
    return None


LIBLDAP = _libldap()
_NEEDESC = b',;+"\\<>='


def _explode_dn_py(dn):
    """libldap's ldap_explode_dn(dn, 0) for the DNs a directory returns (single-valued
    RDNs, no quoted values): the RDNs, values re-escaped as its LDAPv3 form does (special
    characters, a leading space or #, a trailing space and bytes >= 0x80 as \\XX)."""
    b, rdns, cur, i = dn.encode("utf-8"), [], [], 0
    while i < len(b):
        c = b[i:i + 1]
        if c == b"\\":
            cur.append(b[i:i + 2] if not re.match(rb"[0-9A-Fa-f]{2}", b[i + 1:i + 3]) else b[i:i + 3])
            i += len(cur[-1])
            continue
        if c in (b",", b";"):
            rdns.append(b"".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    rdns.append(b"".join(cur))
    out = []
    for r in rdns:
        k, _, v = r.partition(b"=")
        v = v.lstrip(b" ")
        while v.endswith(b" ") and (len(v) - 1 - len(v[:-1].rstrip(b"\\"))) % 2 == 0:
            v = v[:-1]                   # a trailing space, not an escaped one
        raw = re.sub(rb"\\([0-9A-Fa-f]{2}|.)",
                     lambda m: bytes([int(m.group(1), 16)]) if len(m.group(1)) == 2 else m.group(1), v)
        esc = b""
        for j, ch in enumerate(raw):
            cb = bytes([ch])
            if ch >= 0x80 or cb in _NEEDESC or (j == 0 and cb in b" #") or (j == len(raw) - 1 and cb == b" "):
                esc += b"\\%02X" % ch
            else:
                esc += cb
        out.append(k.strip() + b"=" + esc)
    return out


def explode_dn(dn):
    """ldap_explode_dn($dn, 0) as PHP gives it: a list of RDN strings (bytes), None on error."""
    if LIBLDAP is None:
        return _explode_dn_py(dn)
    arr = LIBLDAP.ldap_explode_dn(dn.encode("utf-8"), 0)
    if not arr:
        return None
    out, i = [], 0
    while arr[i] is not None:
        out.append(arr[i])
        i += 1
    LIBLDAP.ldap_value_free(arr)
    return out


def group_patterns_from_dns(group_name_key, group_dns):
    """CLdap::getGroupPatternsFromDns(): for each DN, every RDN whose attribute name is
    group_name_key (case-insensitively) gives its value, hex escapes (\\C4\\81) decoded."""
    groups = []
    for dn in group_dns:
        rdns = explode_dn(dn)
        if rdns is None:
            continue
        for rdn in rdns:
            if b"=" not in rdn:
                continue
            key, value = rdn.split(b"=", 1)
            if key.decode("utf-8", "replace").lower() != group_name_key:
                continue
            groups.append(re.sub(rb"\\([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                                 value).decode("utf-8", "replace"))
    return groups


# the algorithm on ALD Pro's own DNs (why the profile has a virtual tree) and on the profile's
for dn, want in (("cn=zabbix-users,cn=groups,cn=accounts,dc=ald,dc=example",
                  ["zabbix-users", "groups", "accounts"]),
                 ("cn=zabbix-users,ou=groups,dc=ald,dc=example", ["zabbix-users"]),
                 ("CN=Universit\\C4\\81te,OU=Groups,DC=example,DC=org", ["Universit\u0101te"]),
                 ("cn=\u0410\u0434\u043c\u0438\u043d\u044b,ou=groups,dc=x", ["\u0410\u0434\u043c\u0438\u043d\u044b"]),
                 ("cn=a\\,b,ou=groups,dc=x", ["a,b"]),
                 ("cn=\\ a\\=b\\ ,ou=groups,dc=x", [" a=b "]),
                 ("ou=groups,dc=x", [])):
    got = group_patterns_from_dns(GROUP_NAME_ATTR, [dn])
    check(got == want, "getGroupPatternsFromDns(%r) = %r, expected %r (libldap %s)"
          % (dn, got, want, "loaded" if LIBLDAP else "not found: Python re-implementation"))
    if LIBLDAP is not None:
        check(_explode_dn_py(dn) == explode_dn(dn), "ldap_explode_dn(%r): libldap %r, Python %r"
              % (dn, explode_dn(dn), _explode_dn_py(dn)))


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
            # getUserAttributes(): the group membership attribute -> getGroupPatternsFromDns()
            user["groups"] = sorted(n.lower() for n in group_patterns_from_dns(GROUP_NAME_ATTR, vals))
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
    code, msg = simple_bind(c, vudn(login), password)
    c.unbind()
    return code, msg


def bind_after_service(login, password):
    """The user's bind on the connection Zabbix's service account is bound on."""
    c = zconnect()
    code, msg = simple_bind(c, SVC, SVC_PW)
    check(code == 0, "service bind: %s %s" % (code, msg))
    code, msg = simple_bind(c, vudn(login), password)
    c.unbind()
    return code, msg


# ---- who logs in, with which groups (ivanov: Cyrillic names, see the test)
for login in ("alice", "bob", "carol", "dave", "user0003", "ivanov"):
    out, user = zabbix_login(login, PW)
    check(out == "ok", "%s should log in to Zabbix: %s %r" % (login, out, user))
    check(user["dn"].lower() == vudn(login).lower(), "%s: DN %s, expected %s" % (login, user["dn"], vudn(login)))
    want = real_groups_of(login)
    check(GROUP in want, "test set-up: %s is not in %s (%r)" % (login, GROUP, want))
    check(user["groups"] == want,
          "%s's Zabbix groups %r, expected exactly the real groups %r (memberOf %r)"
          % (login, user["groups"], want, user["memberOf"]))
    # what the profile's virtual tree is for: with ALD Pro's DNs these would be there
    for bad in ("groups", "accounts", "helpdesk", "hbac", "sudorules", "sudo", "roles"):
        check(bad not in user["groups"],
              "%s got non-group %r as a Zabbix group: %r" % (login, bad, user["memberOf"]))
    for v in user["memberOf"]:
        check(v.lower().endswith("," + V_GROUPS.lower()), "memberOf value outside %s: %s" % (V_GROUPS, v))
        check(len(group_patterns_from_dns(GROUP_NAME_ATTR, [v])) == 1, "memberOf value with more than one "
              "cn= RDN: %s" % v)
    d = direct_entry(udn(login), ("givenName", "sn", "mail"))
    for a in ("givenName", "sn", "mail"):
        check(user.get(a) == attr(d, a)[0], "%s's JIT %s: %r vs %r" % (login, a, user.get(a), attr(d, a)))
ok("alice, bob, carol (nested via developers), dave, user0003, ivanov log in as uid=<login>,%s; "
   "JIT groups (every cn= RDN of each memberOf value, as getGroupPatternsFromDns()) are exactly their "
   "real groups (no groups/accounts containers, no helpdesk role, no hbac/sudo rule names); JIT names "
   "(Cyrillic too) as in ALD Pro" % V_USERS)
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
case("member_login_groups", "alice, bob, carol (nested), dave log in; JIT groups = real groups")

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
# ALD Pro's own DN still names alice (the directory's DN, outside the virtual names)
c = zconnect()
code, msg = simple_bind(c, udn("alice"), PW)
c.unbind()
check(code == 0, "alice's bind with ALD Pro's DN %s: %s %s" % (udn("alice"), code, msg))
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
case("wrong_password", "bind 49")
case("locked_account", "eve (in the group): bind %d" % want_eve)
case("unknown_user", "nobody: not found")
case("outside_groups", "user0015: not found; her bind 49 like a wrong password")

# ---- the login is escaped as ldap_escape(LDAP_ESCAPE_FILTER) does
for login in ("*", "al*", "alice)(uid=*", "*)(|(uid=*", "\\"):
    out, n = zabbix_login(login, PW)
    check(out == "not-found" and n == 0, "login %r matched entries: %s %r" % (login, out, n))
out, user = zabbix_login("ALICE", PW)
check(out == "ok" and user["dn"].lower() == vudn("alice").lower(), "ALICE (case-insensitive uid): %s" % out)
ok("escaped logins (*, al*, injections, backslash) match nothing; ALICE finds alice")

# ---- invisible users, seen as Zabbix's service account sees the tree
c = zconnect()
simple_bind(c, SVC, SVC_PW)
for login in ("user0015", "user0500", "admin", "nobody"):
    es, r = search(c, BASE_DN, "(uid=%s)" % login, ["uid"])
    check(r.get("result") == 0 and not es, "(uid=%s) through the proxy: %r %d" % (login, r, len(es)))
es, r = search(c, BASE_DN, "(objectClass=person)", ["uid", "memberOf"])
check(r.get("result") == 0, "listing the users: %r" % r)
want = sorted(to_virtual(d) for d in direct_dns("(&(objectClass=person)(memberOf=%s))" % gdn(GROUP), USERS))
check(norm(e["dn"] for e in es) == want,
      "visible users through the proxy (%d) differ from the members of %s (%d)" % (len(es), GROUP, len(want)))
for e in es:
    for v in attr(e, "memberOf"):
        check(v.lower().endswith("," + V_GROUPS.lower()), "%s: memberOf %s" % (e["dn"], v))
# groupOfNames JIT mode: Group base DN ou=groups, filter (member=uid=%{ref},<Base DN>)
es, r = search(c, V_GROUPS, "(member=%s)" % vudn("carol"), ["cn"])
check(r.get("result") == 0, "groupOfNames search for carol's groups: %r" % r)
want_g = sorted(to_virtual(d) for d in direct_dns("(member=%s)" % udn("carol"), GROUPS))
check(want_g and norm(e["dn"] for e in es) == want_g and
      sorted(attr(e, "cn")[0].lower() for e in es) == sorted(d[3:].split(",")[0] for d in want_g),
      "carol's groups in groupOfNames mode: %r, expected her direct groups %r" % ([e["dn"] for e in es], want_g))
# an installation still set to ALD Pro's Base DN (the earlier profile): passed through, and
# what it finds is presented in the virtual tree all the same
es, r = search(c, USERS, "(uid=alice)", ["memberOf"])
check(r.get("result") == 0 and len(es) == 1 and es[0]["dn"].lower() == vudn("alice").lower() and
      sorted(n.lower() for n in group_patterns_from_dns(GROUP_NAME_ATTR, attr(es[0], "memberOf")))
      == real_groups_of("alice"), "alice under the old Base DN %s: %r %r" % (USERS, r, es))
outside = SUFFIX.split(",", 1)[1]
es, r = search(c, outside, "(uid=alice)", ["uid"])
check(r.get("result") == 32, "a search above the profile's search_base (%s): %r, expected noSuchObject"
      % (outside, r))
# nor can the service account probe them with Compare (an oracle for who
# exists and what their attributes hold): only visible entries may answer
c.compare(vudn("alice"), "uid", "alice")
check((c.result or {}).get("result") == 6, "compare on alice's uid: %r" % c.result)
for target, a, v in ((vudn("user0015"), "uid", "user0015"), (vudn("user0015"), "memberOf", vgdn("grp15")),
                     (vudn("admin"), "uid", "admin")):
    c.compare(target, a, v)
    got = (c.result or {}).get("result")
    check(got not in (5, 6), "Compare on %s (outside %s) answered %s (%s): invisible users must not "
          "answer compareTrue/compareFalse" % (target.split(",")[0], GROUP, got, (c.result or {}).get("description")))
c.unbind()
ok("users outside %s are invisible: (objectClass=person) returns exactly its %d members; "
   "memberOf clean on every entry; groupOfNames mode (ou=groups, member=<virtual DN>) finds carol's "
   "direct groups; the old Base DN %s finds alice as %s; Compare does not answer for them"
   % (GROUP, len(want), USERS, vudn("alice")))
