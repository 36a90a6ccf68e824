#!/usr/bin/env python3
"""product_foreman.py — Foreman's LDAP authentication source (server type
FreeIPA: ldap_fluff over Ruby net-ldap) replayed through aldproxy with
python3-ldap3, for test_product_foreman.sh.

Usage: product_foreman.py SERVICE_PASSWORD LOGIN_GROUP OUT_DIR

net-ldap opens a connection per operation (ldaps here, PINNED_URL: a
listener given to the foreman profile), binds with the credentials set last
(service account, or the user for the password check), reads the rootDSE
once and pages every search with size 126 when supportedControl lists paged
results.  Replayed: AuthSourceLdap#authenticate — valid_user? ((uid=x),
all attributes), bind? (search, then the user's bind on a new connection),
the user's attributes, groups_for_uid (memberOf names by the first cn=), and
the external user group checks (cn=g) under the groups base with nested
member expansion.  Writes OUT_DIR/list.dns (a paged listing of every
visible user) for the shell test to compare with the directory.
"""
import os
import re
import sys

from product_common import (E, KIND, PW, USERS, GROUPS, SUFFIX, check, ok, case, udn, gdn, connect,
                            simple_bind, search, attr, real_groups_of, direct_entry, norm,
                            paged_cookie_of, escape_filter, direct_dns)

SVC_PW, GROUP, OUT = sys.argv[1:4]
SVC = "uid=foreman,cn=sysaccounts,cn=etc,%s" % SUFFIX
URL = E["PINNED_URL"]
PAGED = "1.2.840.113556.1.4.319"
CN_RE = re.compile(r".*?\bcn=([^,]*).*", re.I)       # GenericMemberService#get_groups
caps = {}


class NetLdap:
    """Ruby Net::LDAP without #open: each call is connect, bind (auth), op, close."""

    def __init__(self):
        self.auth = (SVC, SVC_PW)

    def _conn(self):
        c = connect(URL)
        code, msg = simple_bind(c, *self.auth)
        return c, code, msg

    def bind(self):
        c, code, msg = self._conn()
        c.unbind()
        return code, msg

    def paged_supported(self):
        if "paged" not in caps:         # search_root_dse, once
            c, code, msg = self._conn()
            check(code == 0, "rootDSE read: bind %s %s" % (code, msg))
            es, r = search(c, "", "(objectClass=*)", ["namingContexts", "supportedLdapVersion", "altServer",
                                                      "supportedControl", "supportedExtension",
                                                      "supportedFeatures", "supportedSASLMechanisms"],
                           scope="BASE")
            c.unbind()
            check(r.get("result") == 0 and len(es) == 1, "rootDSE: %r" % r)
            caps["paged"] = PAGED in attr(es[0], "supportedControl")
            caps["pages"] = 0
        return caps["paged"]

    def search(self, base, filt, attrs=None):
        paged = self.paged_supported()
        c, code, msg = self._conn()
        check(code == 0, "net-ldap bind before a search: %s %s" % (code, msg))
        out, cookie = [], None
        while True:
            es, r = search(c, base, filt, attrs or ["*"], paged_size=126 if paged else None,
                           paged_cookie=cookie)
            if r.get("result") != 0:
                c.unbind()
                return None, r
            out += es
            caps["pages"] += 1
            cookie = paged_cookie_of(r) if paged else None
            if not cookie:
                break
        c.unbind()
        return out, r


ldap = NetLdap()


def service_bind():
    ldap.auth = (SVC, SVC_PW)
    code, msg = ldap.bind()
    check(code == 0, "Foreman service bind: %s %s" % (code, msg))


def find_user(login):
    es, r = ldap.search(USERS, "(uid=%s)" % escape_filter(login))
    check(es is not None, "find_user(%s): %r" % (login, r))
    return es


def valid_user(login):
    service_bind()
    return bool(find_user(login))


def authenticate(login, password):
    """Generic#bind?: search for the DN as the service, then bind as the user
    (new connection).  Not found: current ldap_fluff stops; older releases
    (FreeIPA#bind?) bound uid=<login>,cn=users,cn=accounts,<base> without a
    search, which is what is sent then."""
    service_bind()
    es = find_user(login)
    dn = es[0]["dn"] if es else "uid=%s,cn=users,cn=accounts,%s" % (login, SUFFIX)
    ldap.auth = (dn, password)
    return ldap.bind()


def groups_for_uid(login):
    service_bind()
    es = [e for e in find_user(login) if attr(e, "memberOf")]
    check(es, "find_user_groups(%s): no entry with memberOf (insufficient privileges?)" % login)
    return sorted(CN_RE.sub(r"\1", g).lower() for g in attr(es[0], "memberOf"))


def group_exists(name):
    service_bind()
    es, r = ldap.search(GROUPS, "(cn=%s)" % escape_filter(name))
    check(es is not None, "find_group(%s): %r" % (name, r))
    return es


def users_for_gid(name, seen=None):
    """FreeIPA#users_from_search_results: uid= members, nested groups followed."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    es = group_exists(name)
    if not es:
        return set()
    users = set()
    for m in attr(es[0], "member"):
        rdn = m.split(",", 1)[0]
        k, v = rdn.split("=", 1)
        if k.lower() == "uid":
            users.add(v.lower())
        elif k.lower() == "cn" and m.lower().endswith("," + GROUPS.lower()):
            users |= users_for_gid(v, seen)
    return users


# ---- logins (AuthSourceLdap#authenticate)
for login in ("alice", "bob", "carol", "dave"):
    check(valid_user(login), "valid_user?(%s) is false" % login)
    code, msg = authenticate(login, PW)
    check(code == 0, "%s's password bind: %s %s" % (login, code, msg))
    service_bind()
    u = find_user(login)[0]
    d = direct_entry(udn(login), ("givenName", "sn", "mail"))
    for a in ("givenName", "sn", "mail"):
        check(attr(u, a) == attr(d, a), "%s's %s: %r vs %r" % (login, a, attr(u, a), attr(d, a)))
    for a in u.get("raw_attributes", {}):
        check(a.lower() in ("uid", "cn", "givenname", "sn", "displayname", "mail", "jpegphoto", "memberof",
                            "member", "description", "objectclass"),
              "%s: attribute %s returned beyond the profile's list" % (login, a))
    g = groups_for_uid(login)
    check(g == real_groups_of(login), "%s's Foreman groups %r, expected %r" % (login, g, real_groups_of(login)))
    for bad in ("helpdesk", "hbac", "sudorules"):
        check(bad not in g, "%s got %r as a group" % (login, bad))
ok("alice, bob, carol (nested), dave: valid, authenticated, attributes as in ALD Pro, groups = real "
   "groups (no helpdesk / hbac / sudorules)")
case("member_login_groups", "alice, bob, carol (nested), dave: groups = real groups")

code, wrong = authenticate("alice", "wrong-password")
check(code == 49, "alice with a wrong password: %s %s" % (code, wrong))
check(not valid_user("user0015"), "user0015 (outside %s) is a valid user for Foreman" % GROUP)
code, msg = authenticate("user0015", PW)     # not found: the old direct-DN bind
check((code, msg) == (49, wrong), "user0015's bind: %s %r, expected 49 %r" % (code, msg, wrong))
check(valid_user("eve"), "eve is a member of %s: she should be found" % GROUP)
code, msg = authenticate("eve", PW)
want = 53 if KIND == "389ds" else 49
check(code == want, "locked eve (%s): %s %s, expected %d" % (KIND, code, msg, want))
check(not valid_user("admin"), "admin (outside %s) is a valid user" % GROUP)
for login in ("*", "al*", "alice)(uid=*"):
    check(not valid_user(login), "login %r matched someone" % login)
# an unknown login: not a valid user, and the old direct-DN bind refused like a wrong password
check(not valid_user("nosuchuser"), "nosuchuser is a valid user for Foreman")
code, msg = authenticate("nosuchuser", PW)
check((code, msg) == (49, wrong), "nosuchuser's bind: %s %r, expected 49 %r" % (code, msg, wrong))
ok("refused: wrong password (49), user0015 not found and her bind 49 like a wrong password, "
   "locked eve (%d), admin and nosuchuser not found (his bind 49 too), escaped wildcards match nothing" % want)
case("wrong_password", "bind 49")
case("locked_account", "eve (in the group): bind %d" % want)
case("unknown_user", "nosuchuser: not found; bind 49 like a wrong password")
case("outside_groups", "user0015: not found; bind 49 like a wrong password")

# ---- external user groups
check(group_exists("engineering") and group_exists(GROUP), "engineering / %s not found by (cn=...)" % GROUP)
check(not group_exists("helpdesk"), "the helpdesk role is found under the groups base")
eng = users_for_gid("engineering")
want_eng = {"alice", "bob", "carol"} | {"user%04d" % i for i in range(1, 11)}
check(eng == want_eng, "engineering's users (nested): %r" % sorted(eng))
everyone = users_for_gid("ipausers")
visible = set(direct_dns("(memberOf=%s)" % gdn(GROUP), USERS))
hidden = sorted(u for u in everyone if udn(u).lower() not in visible)
print("note - group member values are passed as the directory has them: ipausers names %d users "
      "invisible to this profile (e.g. %s)" % (len(hidden), ", ".join(hidden[:3])), flush=True)
ok("user groups: (cn=engineering) found, its users nested through developers; the helpdesk role is not a group")

# ---- every search paged by net-ldap (126): a listing of all visible users
service_bind()
caps["pages"] = 0
es, r = ldap.search(USERS, "(objectClass=person)", ["uid"])
check(es is not None, "listing: %r" % r)
check(caps["pages"] >= 2, "the listing took %d page(s) of 126" % caps["pages"])
with open(os.path.join(OUT, "list.dns"), "w") as f:
    f.write("".join(d + "\n" for d in norm(e["dn"] for e in es)))
ok("net-ldap paging (126, after the rootDSE check): %d visible users in %d pages" % (len(es), caps["pages"]))
