#!/usr/bin/env python3
"""policy_gate.py — the cases of test_policy_gate.sh: requests a hostile
product could send (malformed attribute descriptions, secrets under other
names, controls that test or return hidden attributes, writes and searches
on entries a profile does not see, a 1 KB bind DN), each checked against the
answer docs/security.md specifies.

    policy_gate.py CASE        CASE is case1 .. case11

Prints "ok - ..." or "not ok - ..." per check and never stops at the first
failure (a timeout or a dropped connection is a failed check, not a crash);
exits 1 when any check failed.  Most requests are built byte by byte with
lib/ldapwire.py (ldap3 refuses malformed names and cannot send arbitrary
controls or show the controls of every message); ldap3 plays the ordinary
"other client" of case 4.

Environment (test_policy_gate.sh): the rig's variables (BASE_DN, USERS_DN,
GROUPS_DN, PROXY_URL, SLAPD_URL, SLAPD_PID, DM_DN, DM_PW, PROXY_BIND_DN,
PROXY_BIND_PW, SVC_DN, SVC_PW, DIRECTORY_KIND) and
  PG_URL_A  listener of profile (a) pg-star: "*", memberof.groups_only (rewriting)
  PG_URL_B  listener of profile (b) pg-allow: uid cn mail memberOf member objectClass
  PG_URL_C  listener of profile (c) pg-vis: groups.visible [engineering], writes
  PG_LONG_DN   a user whose DN is about 1 KB (password Secret123)
  PG_SEEDED    secret attribute names the directory holds a value of on uid=pgsecret
  PG_AD_SVC / PG_AD_PW, PG_BX_SVC / PG_BX_PW   service accounts of the shipped
               active-directory and bitrix24 profiles (virtual tree DC=example,DC=com)
"""
import os
import re
import sys
import time

import ldapwire as W
from ldapwire import octets, seq, integer, tlv, control

E = os.environ
KIND = E.get("DIRECTORY_KIND", "slapd")
BASE = E["BASE_DN"]
USERS = E["USERS_DN"]
GROUPS = E["GROUPS_DN"]
PROXY_DN = E["PROXY_BIND_DN"]
PROXY_PW = E["PROXY_BIND_PW"]
URL_A = E.get("PG_URL_A", "")
URL_B = E.get("PG_URL_B", "")
URL_C = E.get("PG_URL_C", "")
PW = "Secret123"
SYSACC = "cn=sysaccounts,cn=etc," + BASE


def udn(login):
    return "uid=%s,%s" % (login, USERS)


def gdn(name):
    return "cn=%s,%s" % (name, GROUPS)


ALICE = udn("alice")
DAVE = udn("dave")
# members of engineering (profile (c) pg-vis sees only them): alice, bob and,
# through developers, carol and user0001..user0010
VISIBLE = {"alice", "bob", "carol"} | {"user%04d" % i for i in range(1, 11)}

OID_DEREF = "1.3.6.1.4.1.4203.666.5.16"
OID_ASSERT = "1.3.6.1.1.12"
OID_SORT = "1.2.840.113556.1.4.473"
OID_VLV = "2.16.840.1.113730.3.4.9"
OID_POSTREAD = "1.3.6.1.1.13.2"
OID_PASSWD = "1.3.6.1.4.1.4203.1.11.1"

# every secret of docs/security.md (lower case), aliases included: an
# attribute of a returned entry with one of these names is a leak
SECRETS = {n.lower() for n in """userPassword authPassword unicodePwd sambaNTPassword sambaLMPassword
    sambaClearTextPassword ntUserNtPassword netscapeReversiblePassword dBCSPwd userPKCS12
    passwordHistory pwdHistory sambaPasswordHistory krbPwdHistory ntPwdHistory lmPwdHistory
    krbPrincipalKey krbMKey krbExtraData ipaNTHash ipaNTSecurityIdentifier-secret ipatokenOTPkey
    ipatokenHOTPcounter ipatokenRadiusSecret ipaSecretKey ipaPrivateKey ipaNTTrustAuthIncoming
    ipaNTTrustAuthOutgoing nsSymmetricKey nsDS5ReplicaCredentials nsDS5ReplicaBootstrapCredentials
    nsslapd-rootpw supplementalCredentials 2.5.4.35""".split()}

FAILED = 0


def ok(msg):
    print("ok - " + msg, flush=True)


def bad(msg):
    global FAILED
    FAILED += 1
    print("not ok - " + msg, flush=True)


def expect(cond, msg, detail=""):
    if cond:
        ok(msg)
    else:
        bad(msg + (": " + detail if detail else ""))
    return cond


def attempt(label, fn, *a):
    """Run one check; a timeout, a closed connection or a bind failure is a failed check."""
    try:
        return fn(*a)
    except (OSError, W.Closed, W.BerError, RuntimeError) as e:
        bad("%s: %s: %s" % (label, type(e).__name__, e))
    return None


# ---------------------------------------------------------------- requests

def f_ext(value, rule=None, attr=None, dnattrs=False):
    """extensibleMatch (RFC 4511 4.5.1.7.7)"""
    b = b""
    if rule:
        b += octets(rule, 0x81)
    if attr:
        b += octets(attr, 0x82)
    b += octets(value, 0x83)
    if dnattrs:
        b += tlv(0x84, b"\xff")
    return seq(b, tag=0xA9)


def present(attr):
    return W.f_present(attr)


def eq(attr, value):
    return W.f_eq(attr, value)


def deref_value(specs):
    """SEQUENCE OF { derefAttr, attributes SEQUENCE OF }"""
    return seq(*[seq(octets(a), seq(*[octets(x) for x in attrs])) for a, attrs in specs])


def sort_value(*keys):
    return seq(*[seq(octets(k)) for k in keys])


def vlv_value(before=0, after=1, offset=1, count=0):
    return seq(integer(before), integer(after), seq(integer(offset), integer(count), tag=0xA0))


class Result:
    def __init__(self, msgs):
        self.msgs = msgs
        self.done = msgs[-1]
        self.code = self.done.code
        self.diag = self.done.diag or ""
        self.matched = self.done.matched or ""
        self.entries = [m for m in msgs if m.tag == W.SEARCH_ENTRY]
        self.with_controls = [m for m in msgs if m.controls]
        # what could carry a secret: the entries and every control value
        # (not the diagnostic, which may name the refused attribute)
        self.payload = b"".join(m.raw for m in self.entries) + b"".join(
            (v or b"") for m in msgs for _, _, v in m.controls)

    def dns(self):
        return [m.dn for m in self.entries]

    def attr_names(self):
        return {n.lower() for m in self.entries for n in m.attrs}

    def leaks(self, *needles):
        low = self.payload.lower()
        found = [n for n in needles if n.lower().encode() in low]
        found += sorted(self.attr_names() & SECRETS)
        return found

    def ctrl_oids(self):
        return sorted({oid for m in self.msgs for oid, _, _ in m.controls})

    def __str__(self):
        s = "result %s (%r), %d entries" % (self.code, self.diag, len(self.entries))
        if self.matched:
            s += ", matchedDN %r" % self.matched
        if self.with_controls:
            s += ", controls %s" % self.ctrl_oids()
        return s


def conn(url, dn=ALICE, pw=PW, timeout=10):
    c = W.Conn(url, timeout=timeout)
    m = c.bind(dn, pw)
    if m.code != 0:
        c.close()
        raise RuntimeError("bind as %s on %s: %s %r" % (dn[:80], url, m.code, m.diag))
    return c


def search(url, base, filt, attrs=(), scope=W.SCOPE_BASE, controls=None, dn=ALICE, pw=PW, timeout=10):
    """One search on a fresh connection (a refusal that closes it cannot spoil the next check)."""
    c = conn(url, dn, pw, timeout)
    try:
        return search_on(c, base, filt, attrs, scope, controls, timeout)
    finally:
        c.close()


def search_on(c, base, filt, attrs=(), scope=W.SCOPE_BASE, controls=None, timeout=10):
    mid = c.msgid()
    c.send(W.search_req(mid, base, filt, attrs, scope, controls=controls))
    return Result(c.until_done(mid, timeout))


def modify_on(c, dn, attr, values, controls=None, operation=2):
    mid = c.msgid()
    change = seq(W.enum(operation), seq(octets(attr), seq(*[octets(v) for v in values], tag=0x31)))
    c.send(W.message(mid, seq(octets(dn), seq(change), tag=W.MODIFY_REQ), controls))
    return Result(c.until_done(mid))


def passwd_on(c, user, new):
    mid = c.msgid()
    val = seq(octets(user, 0x80), octets(new, 0x82))
    c.send(W.message(mid, seq(octets(OID_PASSWD, 0x80) + octets(val, 0x81), tag=W.EXT_REQ)))
    return Result(c.until_done(mid))


def refused(r, code):
    """answered by aldproxy itself (docs/security.md: diagnostic 'aldproxy: ...') with code"""
    return r.code == code and r.diag.startswith("aldproxy:") and not r.entries


# ---------------------------------------------------------------- the directory

def direct_value(dn, attr):
    """values of attr on dn, read straight from the directory as the directory manager"""
    c = conn(E["SLAPD_URL"], E["DM_DN"], E["DM_PW"])
    try:
        r = search_on(c, dn, present("objectClass"), [attr])
    finally:
        c.close()
    if r.code != 0 or not r.entries:
        raise RuntimeError("direct read of %s: %s" % (dn, r))
    for n, v in r.entries[0].attrs.items():
        if n.lower() == attr.lower():
            return [x.decode("utf-8", "replace") for x in v]
    return []


def direct_bind(dn, pw):
    c = W.Conn(E["SLAPD_URL"], timeout=10)
    try:
        return c.bind(dn, pw).code
    finally:
        c.close()


def directory_alive():
    """(alive, detail): the directory's pid runs and a direct search answers"""
    pid = int(E.get("SLAPD_PID") or 0)
    st = ""
    try:
        with open("/proc/%d/status" % pid) as f:
            st = [l.split()[1] for l in f if l.startswith("State:")][0]
    except (OSError, IndexError):
        return False, "%s pid %d is gone" % (KIND, pid)
    if st in ("Z", "X"):
        return False, "%s pid %d is a zombie" % (KIND, pid)
    try:
        r = search(E["SLAPD_URL"], BASE, present("objectClass"), ["1.1"], dn=PROXY_DN, pw=PROXY_PW, timeout=5)
    except (OSError, W.Closed, W.BerError, RuntimeError) as e:
        return False, "a direct search fails: %s" % e
    if r.code != 0 or len(r.entries) != 1:
        return False, "a direct search answers %s" % r
    return True, ""


# ---------------------------------------------------------------- case 1

MALFORMED_1 = ["userPassword ", "userPassword x", " userPassword", "userPassword\t"]


# alice's entry (not her compat twin) and the group pg-leak
ALICE_OR_LEAK = W.f_or(W.f_and(eq("uid", "alice"), eq("objectClass", "inetOrgPerson")), eq("cn", "pg-leak"))


def deref_star_check(label):
    """profile (a): deref of seeAlso/manager/member asking for userPassword (alice's
    seeAlso and pg-leak's member name uid=aldproxy, whose password the directory
    shows to aldproxy): the control is dropped."""
    ctl = control(OID_DEREF, False, deref_value([(a, ["userPassword", "uid"]) for a in ("manager", "seeAlso", "member")]))
    r = search(URL_A, BASE, ALICE_OR_LEAK, ["uid", "manager", "seeAlso", "member"],
               W.SCOPE_SUB, [ctl])
    expect(r.code == 0 and len(r.entries) == 2, "%s: non-critical dereference control on the '*' profile: the search "
           "still succeeds" % label, str(r))
    expect(not r.with_controls, "%s: no dereference (or any) control in the response messages" % label, str(r))
    lk = r.leaks("userPassword", PROXY_PW)
    expect(not lk, "%s: no userPassword through dereferenced seeAlso/manager/member" % label, "found %s" % lk)


def case1():
    for name in MALFORMED_1:
        def one(name=name):
            r = search(URL_A, PROXY_DN, present("objectClass"), [name])
            lk = r.leaks("userPassword", PROXY_PW)
            expect(refused(r, 2) and not lk, "case 1: attribute list [%r] -> protocolError (2) from aldproxy" % name,
                   "%s%s" % (r, "; LEAKED %s" % lk if lk else ""))
            r = search(URL_A, PROXY_DN, eq(name, PROXY_PW), ["uid"])
            expect(refused(r, 2), "case 1: filter (%s=<the right password>) -> protocolError (2) from aldproxy" % repr(name)[1:-1],
                   str(r))
        attempt("case 1: %r" % name, one)
    attempt("case 1: dereference", deref_star_check, "case 1")
    time.sleep(0.5)
    alive, why = directory_alive()
    expect(alive, "case 1: afterwards the directory (%s) still runs and answers a direct search" % KIND, why)


# ---------------------------------------------------------------- case 2

MALFORMED_2 = ["userPassword x", "userPassword ", " userPassword", "userPassword\t", "userPassword;",
               "userPassword;;binary", "user Password", "userPassword;binary x", "userPassword=", "2.5.4.035"]
HIDDEN_2 = ["userPassword;binary", "USERPASSWORD", "2.5.4.35", "ipaNTHash"]


def case2():
    for name in MALFORMED_2:
        def one(name=name):
            rs = [search(URL_A, PROXY_DN, eq(name, g), ["uid"]) for g in (PROXY_PW, "guess")]
            rs.append(search(URL_A, PROXY_DN, present(name), ["uid"]))
            expect(all(refused(r, 2) for r in rs),
                   "case 2: filter (%s=...) -> protocolError (2) from aldproxy" % repr(name)[1:-1],
                   "; ".join(map(str, rs)))
        attempt("case 2: %r" % name, one)
    for name in HIDDEN_2:
        def one(name=name):
            right = search(URL_A, PROXY_DN, eq(name, PROXY_PW), ["uid"])
            wrong = search(URL_A, PROXY_DN, eq(name, "guess"), ["uid"])
            pres = search(URL_A, PROXY_DN, present(name), ["uid"])
            same = (right.code, len(right.entries)) == (wrong.code, len(wrong.entries))
            expect(refused(right, 50) and refused(wrong, 50) and refused(pres, 50),
                   "case 2: filter (%s=...) -> insufficientAccessRights (50) from aldproxy" % name,
                   "right guess: %s; wrong guess: %s; presence: %s" % (right, wrong, pres))
            expect(same, "case 2: (%s=guess) is no oracle (same answer for the right and a wrong password)" % name,
                   "right guess: %s; wrong guess: %s" % (right, wrong))
        attempt("case 2: %s" % name, one)


# ---------------------------------------------------------------- case 3

def case3():
    def allow():
        ctl = control(OID_DEREF, False, deref_value([(a, ["homeDirectory", "uidNumber"]) for a in ("manager", "member")]))
        r = search(URL_B, BASE, ALICE_OR_LEAK, ["uid", "cn", "member"],
                   W.SCOPE_SUB, [ctl])
        expect(r.code == 0 and len(r.entries) == 2, "case 3: non-critical dereference control on the allowlist "
               "profile: the search still succeeds", str(r))
        expect(not r.with_controls, "case 3: allowlist profile: no control in any response message", str(r))
        lk = r.leaks("homeDirectory", "uidNumber", "/home/")
        expect(not lk, "case 3: allowlist profile: no homeDirectory/uidNumber through dereferenced manager/member",
               "found %s" % lk)
    attempt("case 3: allowlist deref", allow)
    attempt("case 3: '*' deref", deref_star_check, "case 3")

    def crit():
        ctl = control(OID_DEREF, True, deref_value([("manager", ["uid"])]))
        r = search(URL_A, USERS, eq("uid", "alice"), ["uid"], W.SCOPE_SUB, [ctl])
        expect(refused(r, 12), "case 3: critical dereference control -> unavailableCriticalExtension (12) from aldproxy",
               str(r))
    attempt("case 3: critical deref", crit)


# ---------------------------------------------------------------- case 4

def case4():
    def assertion():
        for crit in (True, False):
            rs = {}
            for g in (PROXY_PW, "guess"):
                ctl = control(OID_ASSERT, crit, eq("userPassword", g))
                rs[g] = search(URL_A, PROXY_DN, present("objectClass"), ["uid"], W.SCOPE_BASE, [ctl])
            right, wrong = rs[PROXY_PW], rs["guess"]
            if crit:
                expect(refused(right, 12) and refused(wrong, 12),
                       "case 4: critical assertion control (userPassword=guess) -> 12 from aldproxy",
                       "right guess: %s; wrong guess: %s" % (right, wrong))
            else:
                expect(all(r.code == 0 and len(r.entries) == 1 and not r.with_controls for r in (right, wrong)),
                       "case 4: non-critical assertion control (userPassword=guess) is dropped (the search runs "
                       "without it, same answer for the right and a wrong password)",
                       "right guess: %s; wrong guess: %s" % (right, wrong))
    attempt("case 4: assertion", assertion)

    def sort_vlv():
        base = SYSACC
        filt = present("objectClass")
        r = search(URL_A, base, filt, ["uid"], W.SCOPE_ONE, [control(OID_SORT, True, sort_value("userPassword"))])
        expect(refused(r, 12), "case 4: critical server-side sort on userPassword -> 12 from aldproxy", str(r))
        r = search(URL_A, base, filt, ["uid"], W.SCOPE_ONE, [control(OID_SORT, False, sort_value("userPassword"))])
        expect(r.code == 0 and r.entries and not r.with_controls,
               "case 4: non-critical server-side sort on userPassword is dropped (no sort response control)", str(r))
        r = search(URL_A, base, filt, ["uid"], W.SCOPE_ONE,
                   [control(OID_SORT, False, sort_value("userPassword")), control(OID_VLV, True, vlv_value())])
        expect(refused(r, 12), "case 4: critical VLV -> 12 from aldproxy", str(r))
        r = search(URL_A, base, filt, ["uid"], W.SCOPE_ONE,
                   [control(OID_SORT, False, sort_value("userPassword")), control(OID_VLV, False, vlv_value())])
        expect(r.code == 0 and r.entries and not r.with_controls,
               "case 4: non-critical VLV + sort are dropped (no VLV/sort response control)", str(r))
    attempt("case 4: sort/VLV", sort_vlv)

    if KIND == "slapd":
        attempt("case 4: VLV state on shared connections", vlv_exhaust)


def vlv_exhaust():
    """slapd's sssvlv overlay keeps sort/VLV contexts per connection (sssvlv-max 8
    and sssvlv-maxperconn 8 in this test's slapd; it also serves paged results): contexts left on aldproxy's shared connections must not make
    another client's paged or plain search fail with busy (51)."""
    c = conn(URL_A)
    codes = []
    try:
        for i in range(8):
            r = search_on(c, USERS, eq("objectClass", "person"), ["uid"], W.SCOPE_ONE,
                          [control(OID_SORT, False, sort_value("uidNumber")),
                           control(OID_VLV, False, vlv_value(0, 2, 1 + i, 0))])
            codes.append(r.code)
    finally:
        c.close()
    from ldap3 import Server, Connection, SUBTREE, NONE
    other = Connection(Server(E["PROXY_URL"], get_info=NONE, connect_timeout=5), user=E["SVC_DN"],
                       password=E["SVC_PW"], receive_timeout=10, raise_exceptions=False)
    if not other.bind():
        raise RuntimeError("the other client cannot bind: %r" % other.result)
    pages, got, cookie, results = 0, 0, None, []
    while pages < 20:
        other.search(USERS, "(uid=user00*)", SUBTREE, attributes=["uid"], paged_size=10, paged_cookie=cookie)
        results.append(other.result.get("result"))
        got += len([e for e in other.response or [] if e.get("type") == "searchResEntry"])
        pages += 1
        cookie = (other.result.get("controls") or {}).get("1.2.840.113556.1.4.319", {}).get("value", {}).get("cookie")
        if other.result.get("result") != 0 or not cookie:
            break
    expect(all(x == 0 for x in results) and got >= 99,
           "case 4: after 8 VLV+sort requests through aldproxy (their codes %s), another client's paged search "
           "still works" % codes, "page results %s, %d entries" % (results, got))
    other.search(USERS, "(uid=alice)", SUBTREE, attributes=["uid"])
    expect(other.result.get("result") == 0 and len(other.response or []) >= 1,
           "case 4: ... and its plain search too", "%r" % other.result)
    other.unbind()
    # sssvlv counts contexts across all connections: ones left on aldproxy's
    # connections refuse every other application's sort with busy
    r = search(E["SLAPD_URL"], USERS, eq("objectClass", "person"), ["uid"], W.SCOPE_ONE,
               [control(OID_SORT, False, sort_value("uidNumber"))], dn=PROXY_DN, pw=PROXY_PW)
    expect(r.code == 0, "case 4: ... and a sorted search sent straight to slapd is not refused busy (51): "
           "aldproxy left no sort/VLV context on its directory connections", str(r))


# ---------------------------------------------------------------- case 5

def case5():
    typeless = [(f_ext("guess", rule="2.5.13.17"), "(:2.5.13.17:=guess)"),
                (f_ext("/home/bob", rule="caseExactIA5Match"), "(:caseExactIA5Match:=/home/bob)")]
    for url, prof in ((URL_A, "(a) '*'"), (URL_B, "(b) allowlist"), (URL_C, "(c) visible groups")):
        for filt, text in typeless:
            def one(url=url, prof=prof, filt=filt, text=text):
                r = search(url, BASE, filt, ["uid"], W.SCOPE_SUB)
                expect(refused(r, 50), "case 5: %s on profile %s -> 50 from aldproxy" % (text, prof), str(r))
            attempt("case 5: %s %s" % (prof, text), one)

    def dn_attrs():
        r = search(URL_B, BASE, f_ext("x", attr="cn", dnattrs=True), ["uid"], W.SCOPE_SUB)
        expect(refused(r, 50), "case 5: (cn:dn:=x) on the allowlist profile -> 50 from aldproxy", str(r))
        r = search(URL_A, BASE, f_ext("accounts", attr="cn", dnattrs=True), ["uid"], W.SCOPE_SUB)
        expect(r.code == 0, "case 5: (cn:dn:=accounts) on the '*' profile is allowed (0)", str(r))
    attempt("case 5: dnAttributes", dn_attrs)


# ---------------------------------------------------------------- case 6

SECRETS_6 = ["pwdHistory", "sambaPasswordHistory", "sambaClearTextPassword", "ntUserNtPassword",
             "netscapeReversiblePassword", "nsSymmetricKey", "nsDS5ReplicaCredentials",
             "nsDS5ReplicaBootstrapCredentials", "ipatokenRadiusSecret", "ipaNTTrustAuthIncoming",
             "ipaNTTrustAuthOutgoing"]


def case6():
    target = udn("pgsecret")
    seeded = {n.lower() for n in E.get("PG_SEEDED", "").split()}
    for name in SECRETS_6:
        held = " (the directory holds a value)" if name.lower() in seeded else " (no value in the directory)"

        def one(name=name, held=held):
            r = search(URL_A, target, present(name), ["uid"])
            r2 = search(URL_A, target, eq(name, "PGSECRETVALUE-" + name), ["uid"])
            expect(r.code in (2, 50) and r.diag.startswith("aldproxy:") and not r.entries and
                   r2.code in (2, 50) and r2.diag.startswith("aldproxy:") and not r2.entries,
                   "case 6: filter (%s=*) / (%s=<value>) -> 50 (or 2) from aldproxy" % (name, name),
                   "presence: %s; equality: %s" % (r, r2))
            r = search(URL_A, target, present("objectClass"), [name, "uid"])
            lk = r.leaks("PGSECRETVALUE")
            expect(r.code == 0 and not lk, "case 6: attribute list [%s uid] never returns it%s" % (name, held),
                   "%s; found %s" % (r, lk))
        attempt("case 6: %s" % name, one)

    def all_at_once():
        r = search(URL_A, target, present("objectClass"), ["*", "+"] + SECRETS_6)
        lk = r.leaks("PGSECRETVALUE")
        expect(r.code == 0 and r.entries and not lk, "case 6: attribute list '* +' and every name at once: no secret "
               "returned (seeded in the directory: %s)" % (" ".join(sorted(seeded)) or "none"), "%s; found %s" % (r, lk))
    attempt("case 6: all", all_at_once)


# ---------------------------------------------------------------- case 7

def case7():
    inv, vis = udn("user0012"), udn("user0003")
    mark_inv, mark_vis = "+7 000 PG-INVISIBLE", "+7 000 PG-VISIBLE"

    def modify_invisible():
        c = conn(URL_C)
        try:
            r = modify_on(c, inv, "telephoneNumber", [mark_inv])
        finally:
            c.close()
        now = direct_value(inv, "telephoneNumber")
        expect(r.code == 32, "case 7: alice modifies telephoneNumber of user0012 (not in the visible group) -> 32 "
               "noSuchObject", str(r))
        expect(mark_inv not in now, "case 7: user0012's telephoneNumber is unchanged in the directory",
               "the directory now has %s" % now)
    attempt("case 7: modify invisible", modify_invisible)

    def passwd_invisible():
        new = "PgInvisible-New1"
        c = conn(URL_C)
        try:
            r = passwd_on(c, inv, new)
        finally:
            c.close()
        expect(r.code in (32, 50), "case 7: Password Modify for user0012 (invisible) -> refused (32 or 50)", str(r))
        rc = direct_bind(inv, new)
        expect(rc == 49, "case 7: user0012 cannot bind with the password aldproxy was asked to set",
               "direct bind with it: %s" % rc)
    attempt("case 7: passwd invisible", passwd_invisible)

    def visible():
        new = "PgVisible-New1"
        c = conn(URL_C)
        try:
            r = modify_on(c, vis, "telephoneNumber", [mark_vis])
            r2 = passwd_on(c, vis, new)
        finally:
            c.close()
        expect(r.code == 0 and mark_vis in direct_value(vis, "telephoneNumber"),
               "case 7: positive control: alice (helpdesk rights in the directory) modifies telephoneNumber of "
               "user0003 (visible)", str(r))
        expect(r2.code == 0 and direct_bind(vis, new) == 0,
               "case 7: positive control: Password Modify for user0003 (visible) succeeds and the new password binds",
               str(r2))
    attempt("case 7: visible", visible)


# ---------------------------------------------------------------- case 8

def case8():
    def crit_unknown():
        mark = "+7 000 PG-CRITICAL"
        c = conn(URL_C)
        try:
            r = modify_on(c, ALICE, "telephoneNumber", [mark], [control("1.2.3.4.5", True)])
        finally:
            c.close()
        expect(refused(r, 12), "case 8: Modify with an unknown critical control -> 12 from aldproxy", str(r))
        expect(mark not in direct_value(ALICE, "telephoneNumber"), "case 8: ... and the entry is unchanged")
    attempt("case 8: unknown critical", crit_unknown)

    def postread():
        sel = seq(octets("userPassword"), octets("*"))
        mark = "+7 000 PG-POSTREAD"
        c = conn(URL_C)
        try:
            r = modify_on(c, ALICE, "telephoneNumber", [mark], [control(OID_POSTREAD, False, sel)])
        finally:
            c.close()
        lk = [n for n in ("userpassword", PW.lower()) if n.encode() in r.done.raw.lower()]
        expect(r.code == 0 and mark in direct_value(ALICE, "telephoneNumber"),
               "case 8: Modify with a non-critical post-read control (userPassword, *) succeeds", str(r))
        expect(not r.with_controls and not lk, "case 8: ... and the ModifyResponse carries no control and no userPassword",
               "%s; found %s" % (r, lk))
        mark2 = "+7 000 PG-POSTREAD-CRIT"
        c = conn(URL_C)
        try:
            r = modify_on(c, ALICE, "telephoneNumber", [mark2], [control(OID_POSTREAD, True, sel)])
        finally:
            c.close()
        lk = [n for n in ("userpassword", PW.lower()) if n.encode() in r.done.raw.lower()]
        expect(refused(r, 12) and not lk, "case 8: critical post-read control -> 12 from aldproxy", "%s; found %s" % (r, lk))
        expect(mark2 not in direct_value(ALICE, "telephoneNumber"), "case 8: ... and the entry is unchanged")
    attempt("case 8: post-read", postread)


# ---------------------------------------------------------------- case 9

def case9():
    missing = udn("pg-no-such-user")

    def base_like_missing():
        for scope, sname in ((W.SCOPE_BASE, "base"), (W.SCOPE_SUB, "subtree")):
            inv = search(URL_C, DAVE, present("objectClass"), ["uid"], scope)
            mis = search(URL_C, missing, present("objectClass"), ["uid"], scope)
            expect(inv.code == 32 and not inv.entries and mis.code == 32 and not mis.entries and
                   inv.matched.lower() == mis.matched.lower(),
                   "case 9: %s search on dave (exists, invisible) answers 32 exactly like a DN that does not exist"
                   % sname, "dave: %s; missing: %s" % (inv, mis))
    attempt("case 9: invisible base", base_like_missing)

    def member_values():
        r = search(URL_C, gdn("zabbix-users"), present("objectClass"), ["member"])
        members = [v.decode("utf-8", "replace").lower() for m in r.entries for n, vs in m.attrs.items()
                   if n.lower() == "member" for v in vs]
        expect(r.code == 0 and len(r.entries) == 1 and DAVE.lower() not in members,
               "case 9: the visible group zabbix-users shows no invisible member (dave)", "%s; member %s" % (r, members))
        r = search(URL_C, BASE, eq("member", DAVE), ["cn"], W.SCOPE_SUB)
        expect(not r.entries, "case 9: (member=<dave, invisible>) finds no group", "%s: %s" % (r, r.dns()))
    attempt("case 9: member", member_values)


# ---------------------------------------------------------------- case 10

def visible_only(r, user_re, label):
    bad_dns = []
    for dn in r.dns():
        m = re.match(user_re, dn.lower())
        if not m or m.group(1) not in VISIBLE or "cn=compat" in dn.lower():
            bad_dns.append(dn)
    compat = [d for d in r.dns() if "cn=compat" in d.lower()]
    expect(r.code == 0 and r.entries and not bad_dns,
           "%s: (uid=*) returns only visible users (%d entries), never cn=compat" % (label, len(r.entries)),
           "%s; not visible users: %s%s" % (r, bad_dns[:8], " (compat: %s)" % compat if compat else ""))


def case10():
    us_c = r"^uid=([^,]+)," + re.escape(USERS.lower()) + "$"
    us_v = r"^uid=([^,]+),cn=users,dc=example,dc=com$"

    def prof_c():
        r = search(URL_C, BASE, present("uid"), ["uid"], W.SCOPE_SUB)
        visible_only(r, us_c, "case 10: profile (c) from %s" % BASE)
        for b in ("cn=users,cn=compat," + BASE, "uid=alice,cn=users,cn=compat," + BASE):
            r = search(URL_C, b, present("objectClass"), ["uid"], W.SCOPE_SUB)
            expect(r.code == 32 or (r.code == 0 and not r.entries),
                   "case 10: profile (c): search based at %s answers 32 or no entries" % b.split("," + BASE)[0], str(r))
    attempt("case 10: profile (c)", prof_c)

    for prof, svc, pw in (("active-directory", "PG_AD_SVC", "PG_AD_PW"), ("bitrix24", "PG_BX_SVC", "PG_BX_PW")):
        def one(prof=prof, svc=svc, pw=pw):
            r = search(E["PROXY_URL"], "DC=example,DC=com", present("uid"), ["uid"], W.SCOPE_SUB, dn=E[svc], pw=E[pw])
            visible_only(r, us_v, "case 10: shipped profile %s from DC=example,DC=com" % prof)
            b = "cn=users,cn=compat,DC=example,DC=com"
            r = search(E["PROXY_URL"], b, present("objectClass"), ["uid"], W.SCOPE_SUB, dn=E[svc], pw=E[pw])
            expect(r.code == 32 or (r.code == 0 and not r.entries),
                   "case 10: shipped profile %s: search based at %s answers 32 or no entries" % (prof, b), str(r))
        attempt("case 10: %s" % prof, one)


# ---------------------------------------------------------------- case 11

def case11():
    dn = E["PG_LONG_DN"]
    rc = direct_bind(dn, PW)
    if rc != 0:
        bad("case 11: precondition: the %d-byte DN does not bind on the directory itself (%s)" % (len(dn), rc))
        return

    def one():
        c = W.Conn(URL_A, timeout=10)
        try:
            t0 = time.monotonic()
            try:
                m = c.bind(dn, PW, timeout=5)
            except OSError as e:
                bad("case 11: bind as the %d-byte DN through profile (a): no answer within 5 s (%s)" % (len(dn), e))
                return
            bound = expect(m.code == 0, "case 11: bind as the %d-byte DN through profile (a)" % len(dn),
                           "%s %r" % (m.code, m.diag))
            mid = c.msgid()
            c.send(W.ext_req(mid, W.OID_WHOAMI))
            try:
                r = c.until_done(mid, timeout=5)[-1]
            except (OSError, W.Closed) as e:
                bad("case 11: WhoAmI after the %d-byte bind DN: no answer within 5 s (%s: %s)"
                    % (len(dn), type(e).__name__, e or "silence"))
                return
            dt = time.monotonic() - t0
            if r.code == 0 and bound:
                val = (r.value or b"").decode("utf-8", "replace")
                expect(val.lower() == ("dn:" + dn).lower(),
                       "case 11: WhoAmI answers success with the whole DN (%.1f s)" % dt,
                       "value %r (%d bytes)" % (val[:60] + "...", len(val)))
            else:
                ok("case 11: WhoAmI answers (%s %r) in %.1f s" % (r.code, r.diag, dt))
        finally:
            c.close()
    attempt("case 11", one)


def main():
    if len(sys.argv) != 2 or not re.match(r"^case([1-9]|1[01])$", sys.argv[1]):
        sys.exit("usage: policy_gate.py case1..case11")
    globals()[sys.argv[1]]()
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
