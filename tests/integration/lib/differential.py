#!/usr/bin/env python3
"""differential.py — aldproxy "only narrows" differential test
(tests/integration/test_policy_differential.sh; docs/security.md is the
policy it checks).

  differential.py setup    the ALD Pro side, as Directory Manager (ldap3): for
                           every installed profile its system account and its
                           groups (visible / login: <name>-users = group
                           engineering (nested: developers), dave, eve and one
                           generated user chosen by the profile's name); a
                           compat tree cn=compat,<suffix> as slapi-nis builds
                           it; secrets aldproxy's own identity can read on some
                           users (ipaNTHash, krbExtraData, userPKCS12)
  differential.py run      a seeded random stream of search requests per
                           profile, each sent through aldproxy (raw LDAP,
                           ldapwire.py: any control, any bytes) bound as the
                           profile's service account, and its real form sent
                           straight to the directory as aldproxy's own
                           identity; an oracle written here (not aldproxy's
                           code) applies the profile's rules to the direct
                           answer and the proxy's answer must stay inside it

The oracle (docs/security.md, docs/profiles.md):
  * entries: under search_base; with groups.visible, visible only when under
    a user base and memberOf (nested counts) a visible group, under the groups
    base, or a container above a user base or the groups base; without
    groups.visible everything under search_base.  The compat tree, hosts,
    services, roles, rules and system accounts are invisible with
    groups.visible.
  * a filter testing a secret (by name, alias, OID, sub- or supertype), an
    OID, an attribute the profile does not allow, a type-less extensible
    match or dnAttributes without "*" allows no entries; so does a request
    with a malformed attribute description or a critical control other than
    paged results.
  * filters are translated to the real tree (attribute_map, objectclass_map,
    DN values of a virtual tree, the AD in-chain rule as equality); leaves the
    oracle cannot evaluate (computed attributes, defaults, AD bit rules, DN
    substrings, extensible matches on 389-ds, which evaluates them
    differently by context) become "true" in a superset filter (and "false"
    under a NOT), so the direct answer is a superset of what aldproxy may
    return.  Leaves the profile hides are "false": memberOf = a role or rule
    (memberof.groups_only), DN assertions naming an invisible entry
    (groups.visible).
  * attributes: allowed by name (options stripped, aliases resolved through
    the directory's schema) by the profile's `attributes` ("*": anything but
    a secret); never a secret; only what was asked for (by name, "*" for user
    attributes, "+" for operational ones, or what the same request to the
    directory returns); computed attributes only when asked for; defaults
    only on entries lacking the attribute and equal to the template; values
    a subset of the directory's (DNs compared normalised, mapped back for a
    virtual tree); memberOf only groups with groups_only; no DN value (member,
    memberOf, manager, ..., memberUid) naming an invisible entry.
  * codes: critical control not allowed -> 12; malformed attribute
    description -> 2 (either when both); an existing base the profile cannot
    see answers exactly like a missing sibling (same code, matchedDN,
    presence of a message, no entries); only the paged-results control on
    any response; no references.
  * the connection: every request answered within 10 s; closed only after a
    Notice of Disconnection for malformed BER (which must never be accepted).
  * the directory stays up: a request that kills it (exit status 4) is
    reported, the script restarts the directory and the run resumes
    (DIFF_STATE); on 389-ds ordering matches on OID- and DN-syntax
    attributes are known to do so (crash_sig): sent alone until one has,
    then no more.
Stricter answers than the oracle (fewer entries or attributes, refusals) are
fine: the property is "only narrows".  DIFF_SELFTEST=1 sends the requests
straight to the directory instead of through aldproxy: the oracle must
object (DIFF_SELFTEST_EXPECT names the kinds of violation it must find).

Environment: the rig's (PROXY_URL SLAPD_URL BASE_DN DM_DN DM_PW PROXY_BIND_DN
PROXY_BIND_PW RIG_DIR DIRECTORY_KIND RIG_BACKEND) and
  DIFF_SEED       the seed (required); a profile's stream depends only on it,
                  the profile's name and the directory's tree
  DIFF_REQUESTS   requests in all, spread over the profiles (default 4000)
  DIFF_PROFILES   comma-separated profile names (default: every installed one)
  DIFF_ONLY       PROFILE:INDEX — run that one request and print everything
  DIFF_BATCH      requests pipelined per round trip (default 24)
  DIFF_REPORT     also write every violation as JSON there
  DIFF_STATE      the file a run resumes from after the directory died
  DIFF_USERS      the generated users in the tree (rig_slapd_start --users)
Exit status: 0 no violation, 3 violations (listed), 4 the directory died
(state saved), 1 the test itself failed.
"""

import base64
import functools
import glob
import hashlib
import json
import os
import random
import re
import socket
import sys
import time
import uuid
import zlib

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as W  # noqa: E402

E = os.environ
SUFFIX = E.get("BASE_DN", "dc=ald,dc=test")
TIMEOUT = 10.0
KIND = E.get("DIRECTORY_KIND", "slapd")
NOD = W.OID_NOTICE_OF_DISCONNECTION
SELFTEST = E.get("DIFF_SELFTEST") == "1"
PAGED = W.OID_PAGED
AD_DOMAIN_SCOPE = "1.2.840.113556.1.4.1339"
UUID_NS = uuid.UUID("6f1d2c3a-51c4-4e0c-9a55-ad1d0a1d0002")


def log(msg):
    print(msg, flush=True)


def die(msg):
    print("FAIL (differential.py): " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def sa_password(name):
    return "DemoPass1" if name == "demo" else "Diff-%s-Pass1" % name


def extra_user(name, users):
    """The generated user that joins this profile's group besides the nested ones."""
    lo = 11
    return "user%04d" % (lo + zlib.crc32(name.encode()) % max(1, users - lo + 1))


# ------------------------------------------------------------------ policy constants (docs/security.md)

SECRET_NAMES = """userPassword authPassword unicodePwd sambaNTPassword sambaLMPassword
sambaClearTextPassword ntUserNtPassword netscapeReversiblePassword dBCSPwd userPKCS12 passwordHistory
pwdHistory sambaPasswordHistory krbPwdHistory ntPwdHistory lmPwdHistory krbPrincipalKey krbMKey
krbExtraData ipaNTHash ipaNTSecurityIdentifier-secret ipatokenOTPkey ipatokenHOTPcounter
ipatokenRadiusSecret ipaSecretKey ipaPrivateKey ipaNTTrustAuthIncoming ipaNTTrustAuthOutgoing
nsSymmetricKey nsDS5ReplicaCredentials nsDS5ReplicaBootstrapCredentials nsslapd-rootpw
supplementalCredentials""".split()
SECRET_OIDS = """2.5.4.35 1.3.6.1.4.1.4203.1.3.4 1.2.840.113556.1.4.90 1.3.6.1.4.1.7165.2.1.24
1.3.6.1.4.1.7165.2.1.25 1.3.6.1.4.1.7165.2.1.54 1.3.6.1.4.1.7165.2.1.68 2.16.840.1.113730.3.1.96
1.3.6.1.4.1.42.2.27.8.1.20 2.16.840.1.113719.1.301.4.39.1 2.16.840.1.113719.1.301.4.51.1
2.16.840.1.113730.3.8.11.1 2.16.840.1.113730.3.1.216 1.2.840.113556.1.4.55 1.2.840.113556.1.4.125
1.2.840.113556.1.4.94 1.2.840.113556.1.4.160""".split()
VOLATILE = {"createtimestamp", "modifytimestamp", "entryuuid", "nsuniqueid", "entrycsn", "entryid", "parentid",
            "creatorsname", "modifiersname", "aci", "numsubordinates", "hassubordinates", "contextcsn"}
BUILTIN_DN_ATTRS = {"member", "memberof", "manager", "secretary", "uniquemember", "owner", "seealso", "entrydn"}

KEYSTRING = re.compile(r"[A-Za-z][A-Za-z0-9-]*\Z")
NUMERICOID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+\Z")
OPTION = re.compile(r"[A-Za-z0-9-]+\Z")


def attrdesc_valid(name):
    """RFC 4512 2.5 as docs/security.md states it (128 bytes at most)."""
    if isinstance(name, bytes):
        try:
            name = name.decode("ascii")
        except UnicodeDecodeError:
            return False
    if len(name.encode()) > 128 or not name:
        return False
    parts = name.split(";")
    if not (KEYSTRING.match(parts[0]) or NUMERICOID.match(parts[0])):
        return False
    return all(OPTION.match(o) for o in parts[1:])


def is_oid(name):
    return bool(NUMERICOID.match(name.split(";")[0]))


def base_of(name):
    return name.split(";")[0].lower()


def opts_of(name):
    return tuple(sorted(o.lower() for o in name.split(";")[1:]))


# ------------------------------------------------------------------ schema (the directory's, for aliases and OIDs)

class Schema:
    def __init__(self, attribute_types):
        self.canon = {}
        self.syntax = {}
        self.oper = set()
        sups = {}
        for at in attribute_types:
            if isinstance(at, bytes):
                at = at.decode("utf-8", "replace")
            m = re.match(r"\s*\(\s*([0-9.]+)", at)
            if not m:
                continue
            oid = m.group(1)
            nm = re.search(r"NAME\s+(\(\s*(?:'[^']*'\s*)+\)|'[^']*')", at)
            names = re.findall(r"'([^']*)'", nm.group(1)) if nm else []
            c = (names[0] if names else oid).lower()
            for n in names + [oid]:
                self.canon.setdefault(n.lower(), c)
            sx = re.search(r"SYNTAX\s+'?([0-9.]+)", at)
            if sx:
                self.syntax[c] = sx.group(1)
            us = re.search(r"USAGE\s+'?([A-Za-z]+)", at)
            if us and us.group(1).lower() != "userapplications":
                self.oper.add(c)
            sp = re.search(r"SUP\s+'?([A-Za-z0-9.-]+)", at)
            if sp:
                sups[c] = sp.group(1).lower()
        for c, s in sups.items():
            seen = set()
            while c not in self.syntax and s and s not in seen:
                seen.add(s)
                cs = self.canon.get(s, s)
                if cs in self.syntax:
                    self.syntax[c] = self.syntax[cs]
                    break
                s = sups.get(cs)
        self.canon.setdefault("pwdhistory", "passwordhistory" if "passwordhistory" in self.canon else "pwdhistory")
        self.secret = set()
        for n in SECRET_NAMES + SECRET_OIDS:
            self.secret.add(n.lower())
            self.secret.add(self.c(n))
        # a subtype of a secret is a secret, and so is a supertype of one
        sup = {c: self.canon.get(x, x) for c, x in sups.items()}

        def chain(c):
            out, seen = [], set()
            while c in sup and c not in seen:
                seen.add(c)
                c = sup[c]
                out.append(c)
            return out
        for c in set(self.canon.values()):
            ch = chain(c)
            if any(x in self.secret for x in ch):
                self.secret.add(c)
        for c in list(self.secret):
            self.secret.update(chain(c))

    def c(self, name):
        b = base_of(name)
        return self.canon.get(b, b)

    def is_secret(self, name):
        b = base_of(name)
        return b in self.secret or self.c(b) in self.secret

    def is_dn_syntax(self, name):
        return self.syntax.get(self.c(name)) in ("1.3.6.1.4.1.1466.115.121.1.12", "1.3.6.1.4.1.1466.115.121.1.34")


SCHEMA = None
SNAP = {}       # the directory's entries by DN tuple (run)


# ------------------------------------------------------------------ DNs

@functools.lru_cache(maxsize=200000)
def dn_parse(s):
    """A DN (str or bytes) as a tuple of RDNs, leftmost first, each a sorted
    tuple of (canonical type, lower-cased unescaped value); None when it is not
    a DN."""
    if isinstance(s, bytes):
        try:
            s = s.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if s.strip() == "":
        return ()
    rdns, avas, cur, typ = [], [], [], None
    i, n = 0, len(s)

    def finish_ava():
        nonlocal cur, typ
        if typ is None:
            return False
        t = typ.strip()
        if not (KEYSTRING.match(t) or NUMERICOID.match(t)):
            return False
        v = "".join(cur)
        v = v.strip(" ") if not v.endswith("\\ ") else v.lstrip(" ")
        v = v.replace("\x00esc-sp", " ")
        tl = t.lower()
        avas.append((SCHEMA.canon.get(tl, tl) if SCHEMA else tl, v.lower()))
        cur, typ = [], None
        return True

    while i < n:
        ch = s[i]
        if typ is None:
            if ch == "=":
                typ = "".join(cur)
                cur = []
            elif ch in ",+;\\":
                return None
            else:
                cur.append(ch)
            i += 1
            continue
        if ch == "\\":
            if i + 1 >= n:
                return None
            nx = s[i + 1]
            if re.match(r"[0-9A-Fa-f]{2}", s[i + 1:i + 3]):
                # a run of hex pairs is UTF-8
                j, raw = i, bytearray()
                while j + 2 < n + 1 and s[j] == "\\" and re.match(r"[0-9A-Fa-f]{2}", s[j + 1:j + 3]):
                    raw.append(int(s[j + 1:j + 3], 16))
                    j += 3
                try:
                    cur.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    cur.append(raw.decode("latin-1"))
                i = j
                continue
            if nx in ' "#+,;<=>\\':
                cur.append("\x00esc-sp" if nx == " " else nx)
                i += 2
                continue
            return None
        if ch in ",;":
            if not finish_ava():
                return None
            rdns.append(tuple(sorted(avas)))
            avas.clear()
        elif ch == "+":
            if not finish_ava():
                return None
        elif ch == "=":
            return None
        else:
            cur.append(ch)
        i += 1
    if not finish_ava():
        return None
    rdns.append(tuple(sorted(avas)))
    return tuple(rdns)


def dn_esc(v):
    out = []
    for k, ch in enumerate(v):
        if ch in ',+"\\<>;=' or (k == 0 and ch in "# ") or (k == len(v) - 1 and ch == " "):
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def dn_str(t):
    if t is None:
        return "<not a DN>"
    return ",".join("+".join("%s=%s" % (a, dn_esc(v)) for a, v in rdn) for rdn in t)


def under(dn, base):
    """dn is base or below it (tuples)."""
    if dn is None or base is None:
        return False
    lb = len(base)
    return len(dn) >= lb and (lb == 0 or dn[len(dn) - lb:] == base)


S_T = None   # the suffix as a tuple, after the schema is known


# ------------------------------------------------------------------ profiles

class Profile:
    def __init__(self, path):
        y = yaml.safe_load(open(path, encoding="utf-8"))
        self.path = path
        self.name = y["name"]
        sa = (y.get("service_accounts") or [None])[0]
        self.sa_hashed = isinstance(sa, dict)
        self.sa = sa["dn"] if isinstance(sa, dict) else sa
        vt = y.get("virtual_tree") or {}
        self.vmap = []
        for m in vt.get("map") or []:
            self.vmap.append((dn_parse(m["virtual"]), dn_parse(m["real"])))
        self.vmap.sort(key=lambda p: -len(p[0]))
        self.rmap = sorted(self.vmap, key=lambda p: -len(p[1]))
        self.vt = bool(self.vmap)
        self.vsuffix = dn_parse(vt["suffix"]) if vt.get("suffix") else None
        ds = y.get("directory_suffix")
        self.dsuffix = dn_parse(ds) if ds else (self.to_real(self.vsuffix) if self.vsuffix else dn_parse(y["search_base"]))
        self.search_base_v = dn_parse(y["search_base"])
        self.search_base_r = self.to_real(self.search_base_v)
        self.user_bases_r = [self.to_real(dn_parse(u)) for u in y.get("user_bases") or []]
        mo = y.get("memberof") or {}
        self.groups_only = bool(mo.get("groups_only"))
        # aldproxy rewrites the filters of this profile (rewrite_active()): member:1941 is widened
        self.chain = bool(self.vmap or y.get("attribute_map") or y.get("objectclass_map") or
                          y.get("virtual_attributes") or y.get("defaults") or self.groups_only or
                          (y.get("groups") or {}).get("visible") or y.get("dn_attributes"))
        gb = mo.get("groups_base")
        if gb:
            self.groups_base = self.to_real(dn_parse(gb))
        else:
            self.groups_base = ((("cn", "groups"),), (("cn", "accounts"),)) + self.dsuffix
        g = y.get("groups") or {}

        def gdns(lst):
            out = set()
            for x in lst or []:
                d = dn_parse(x) if "=" in x else None
                out.add(self.to_real(d) if d else ((("cn", x.lower()),),) + self.groups_base)
            return out
        self.visible = gdns(g["visible"]) if g.get("visible") else None
        self.login = gdns(g.get("login") or g.get("visible"))
        self.group_names = sorted({d[0][0][1] for d in (self.visible or set()) | self.login})
        attrs = y.get("attributes") or []
        self.all_attrs = "*" in attrs
        self.allow_lower = {a.lower() for a in attrs if a != "*"}
        self.attrs_list = [a for a in attrs if a != "*"]
        self.amap = {k.lower(): v for k, v in (y.get("attribute_map") or {}).items()}
        self.ocmap = {k.lower(): v.lower() for k, v in (y.get("objectclass_map") or {}).items()}
        self.vattrs = {k.lower() for k in (y.get("virtual_attributes") or {})}
        self.defaults = {}
        for k, v in (y.get("defaults") or {}).items():
            if isinstance(v, dict):
                self.defaults[k.lower()] = (v.get("value"), (v.get("when") or "").lower() or None)
            else:
                self.defaults[k.lower()] = (v, None)
        self.user_class = (y.get("user_class") or "person").lower()
        self.dn_attrs = set(BUILTIN_DN_ATTRS) | {a.lower() for a in y.get("dn_attributes") or []}
        # DN values and assertions that must not name invisible entries (groups.visible)
        self.vis_dn_attrs = (self.dn_attrs | {"uniquemember"}) - {"entrydn"}
        self.allow_canon = set()

    def finish(self):
        """After the schema is known: aliases of the allowed (real) names."""
        self.allow_canon = {SCHEMA.c(a) for a in self.allow_lower
                            if a not in self.amap and a not in self.vattrs}

    # -- the virtual tree
    def to_real(self, d):
        if d is None or not self.vmap:
            return d
        for v, r in self.vmap:
            if under(d, v):
                return d[:len(d) - len(v)] + r
        return d

    def to_virtual(self, d):
        if d is None or not self.vmap:
            return d
        for v, r in self.rmap:
            if under(d, r):
                return d[:len(d) - len(r)] + v
        return d

    def view(self, real_dn_str):
        """A real DN string as this profile shows it."""
        return dn_str(self.to_virtual(dn_parse(real_dn_str))) if self.vt else real_dn_str

    # -- visibility of a real entry
    def visible_dn(self, d, snap):
        if not under(d, self.search_base_r):
            return False
        if self.visible is None:
            return True
        for ub in self.user_bases_r:
            if under(d, ub) and d != ub:
                e = snap.get(d)
                return bool(e and (e.memberof & self.visible))
        if under(d, self.groups_base):
            return True
        for c in self.user_bases_r + [self.groups_base]:
            if under(c, d):
                return True
        return False

    # -- attributes
    def attr_allowed(self, name):
        """May a search return / a filter test this name (options stripped)?"""
        b = base_of(name)
        if SCHEMA.is_secret(b):
            return False
        if b == "objectclass" or SCHEMA.c(b) == "objectclass":
            return True
        if self.all_attrs:
            return True
        return b in self.allow_lower or (b not in self.amap and b not in self.vattrs and SCHEMA.c(b) in self.allow_canon)

    def is_dn_attr(self, name):
        b = base_of(name)
        r = self.amap.get(b, b).lower()
        return r in self.dn_attrs or SCHEMA.is_dn_syntax(r)


# ------------------------------------------------------------------ the directory snapshot

class Entry:
    __slots__ = ("dn", "t", "attrs", "memberof", "classes")

    def __init__(self, dn, raw):
        self.dn = dn
        self.t = dn_parse(dn)
        self.attrs = {}
        for k, vs in raw.items():
            self.attrs.setdefault(SCHEMA.c(k) if SCHEMA else base_of(k), []).extend(vs)
        self.memberof = {dn_parse(v) for v in self.attrs.get("memberof", [])}
        self.classes = {v.decode("utf-8", "replace").lower() for v in self.attrs.get("objectclass", [])}


def ldap3_conn(url, dn, pw):
    from ldap3 import Server, Connection, NONE
    c = Connection(Server(url, get_info=NONE, connect_timeout=10), dn, pw, auto_bind=True,
                   receive_timeout=30, raise_exceptions=True)
    return c


def read_schema(c):
    global SCHEMA, S_T
    from ldap3 import BASE
    c.search("", "(objectClass=*)", BASE, attributes=["subschemaSubentry"])
    sub = c.response[0]["raw_attributes"].get("subschemaSubentry", [b"cn=Subschema"])[0].decode()
    c.search(sub, "(objectClass=*)", BASE, attributes=["attributeTypes"])
    ats = c.response[0]["raw_attributes"].get("attributeTypes") or []
    if len(ats) < 50:
        die("cannot read the directory's schema at %s (%d attribute types)" % (sub, len(ats)))
    SCHEMA = Schema(ats)
    dn_parse.cache_clear()      # DN types are resolved through the schema
    S_T = dn_parse(SUFFIX)


def snapshot(c):
    from ldap3 import SUBTREE
    snap = {}
    c.search(SUFFIX, "(objectClass=*)", SUBTREE, attributes=["*", "+"], paged_size=500)
    for r in c.response:
        if r.get("type") == "searchResEntry":
            e = Entry(r["dn"], r["raw_attributes"])
            snap[e.t] = e
    return snap


def load_profiles():
    ps = []
    only = [x for x in E.get("DIFF_PROFILES", "").split(",") if x]
    for f in sorted(glob.glob(os.path.join(E["RIG_DIR"], "profiles", "*.yaml"))):
        p = Profile(f)
        if only and p.name not in only:
            continue
        ps.append(p)
    if only and len(ps) != len(only):
        die("DIFF_PROFILES names a profile that is not installed: %s" % only)
    return ps


# ------------------------------------------------------------------ setup (Directory Manager)

def setup():
    from ldap3 import MODIFY_ADD
    users = int(E.get("DIFF_USERS", "40"))
    c = ldap3_conn(E["SLAPD_URL"], E["DM_DN"], E["DM_PW"])
    read_schema(c)
    profiles = load_profiles()
    for p in profiles:
        p.finish()
    snap = snapshot(c)
    T = dn_parse
    udn = lambda u: "uid=%s,cn=users,cn=accounts,%s" % (u, SUFFIX)  # noqa: E731
    gdn = lambda g: "cn=%s,cn=groups,cn=accounts,%s" % (g, SUFFIX)  # noqa: E731
    added = []

    def add(dn, attrs):
        if T(dn) in snap:
            return
        ok = c.add(dn, attributes=attrs)
        if not ok:
            die("setup: add %s: %s" % (dn, c.result))
        added.append(dn)

    made_groups = set()
    for p in profiles:
        if p.sa and not p.sa_hashed and T(p.sa) not in snap and under(T(p.sa), S_T):
            pw = sa_password(p.name)
            if KIND == "389ds":     # pre-hashed: 389-ds would store PBKDF2 (10000 rounds a bind)
                salt = hashlib.sha1(p.name.encode()).digest()[:8]
                pw = "{SSHA}" + base64.b64encode(hashlib.sha1(pw.encode() + salt).digest() + salt).decode()
            add(p.sa, {"objectClass": ["top", "account", "simpleSecurityObject"], "uid": p.name,
                       "description": "%s service account (test_policy_differential)" % p.name,
                       "userPassword": pw})
        for g in p.group_names:
            if g in made_groups:
                continue        # two profiles of one product (keycloak, keycloak-freeipa) share a group
            made_groups.add(g)
            members = [gdn("engineering"), udn("dave"), udn("eve"), udn(extra_user(p.name, users))]
            add(gdn(g), {"objectClass": ["top", "groupOfNames", "nestedGroup", "ipaUserGroup", "ipaObject"],
                         "cn": g, "description": "%s (test_policy_differential)" % g,
                         "ipaUniqueID": str(uuid.uuid5(UUID_NS, g)), "member": members})
    # the compat tree (slapi-nis), as FreeIPA publishes it: never visible to a profile with groups
    cpt = "cn=compat," + SUFFIX
    add(cpt, {"objectClass": ["top", "nsContainer"], "cn": "compat"})
    add("cn=users," + cpt, {"objectClass": ["top", "nsContainer"], "cn": "users"})
    add("cn=groups," + cpt, {"objectClass": ["top", "nsContainer"], "cn": "groups"})
    for u, num in (("alice", 1668600001), ("bob", 1668600002), ("user0015", 1668601015)):
        add("uid=%s,cn=users,%s" % (u, cpt),
            {"objectClass": ["top", "account", "posixAccount"], "uid": u, "cn": u, "uidNumber": str(num),
             "gidNumber": str(num), "homeDirectory": "/home/" + u, "loginShell": "/bin/bash", "gecos": u})
    gocs = ["top", "posixGroup"] if KIND == "slapd" else ["top", "nsContainer", "posixGroup"]
    add("cn=engineering,cn=groups," + cpt, {"objectClass": gocs, "cn": "engineering",
                                             "gidNumber": "1668600101", "memberUid": ["alice", "bob"]})
    # secrets aldproxy's identity can read: if the proxy ever returns them, it leaks
    secrets = 0
    for k, u in enumerate(("alice", "carol", "dave", "user0001", "user0015", "user0030")):
        d = udn(u)
        e = snap.get(T(d))
        if e is None or "ipanthash" in e.attrs:
            continue
        h = bytes(((k * 37 + i * 11) & 0xFF for i in range(16)))
        mods = [{"objectClass": [(MODIFY_ADD, ["ipaNTUserAttrs"])],
                 "ipaNTSecurityIdentifier": [(MODIFY_ADD, ["S-1-5-21-100-200-300-%d" % (1000 + k)])],
                 "ipaNTHash": [(MODIFY_ADD, [h])]},
                {"krbExtraData": [(MODIFY_ADD, [b"\x00\x02krbextra-" + u.encode()])]},
                {"userPKCS12": [(MODIFY_ADD, [b"0\x82\x00\x04pkcs12-" + u.encode()])]}]
        for m in mods:
            if c.modify(d, m):
                secrets += 1
            else:
                log("# setup: %s: %s not seeded (%s)" % (u, ",".join(m), c.result.get("description")))
    # slapd has no memberOf plugin in the rig: write memberOf of the new groups, nesting included
    if KIND == "slapd":
        snap = snapshot(c)
        for g in {g for p in profiles for g in p.group_names}:
            gt = T(gdn(g))
            if gt not in snap:
                continue
            todo, seen = [gt], set()
            while todo:
                x = todo.pop()
                e = snap.get(x)
                if e is None:
                    continue
                for m in e.attrs.get("member", []):
                    mt = dn_parse(m)
                    if mt in seen or mt is None:
                        continue
                    seen.add(mt)
                    todo.append(mt)
            for mt in seen:
                me = snap.get(mt)
                if me is None or gt in me.memberof:
                    continue
                if not c.modify(me.dn, {"memberOf": [(MODIFY_ADD, [gdn(g)])]}):
                    die("setup: memberOf of %s: %s" % (me.dn, c.result))
    c.unbind()
    log("ok - setup: %d entries added (system accounts, groups, compat tree), %d secret values seeded"
        % (len(added), secrets))


# ------------------------------------------------------------------ filters

# node: ("and"|"or", [kids]) ("not", kid) ("eq"|"ge"|"le"|"approx", attr, val)
# ("sub", attr, initial, [any], final) ("present", attr) ("ext", rule, attr, val, dnattrs)
# ("true",) ("false",) ("raw", bytes, text)
FTAG = {"eq": 0xA3, "ge": 0xA5, "le": 0xA6, "approx": 0xA8}
FOP = {"eq": "=", "ge": ">=", "le": "<=", "approx": "~="}


def b(x):
    return x if isinstance(x, bytes) else x.encode("utf-8")


def fenc(n):
    k = n[0]
    if k in ("and", "or"):
        return W.seq(*[fenc(c) for c in n[1]], tag=0xA0 if k == "and" else 0xA1)
    if k == "not":
        return W.seq(fenc(n[1]), tag=0xA2)
    if k in FTAG:
        return W.seq(W.octets(b(n[1])), W.octets(b(n[2])), tag=FTAG[k])
    if k == "sub":
        parts = []
        if n[2] is not None:
            parts.append(W.octets(b(n[2]), tag=0x80))
        parts += [W.octets(b(a), tag=0x81) for a in n[3]]
        if n[4] is not None:
            parts.append(W.octets(b(n[4]), tag=0x82))
        return W.seq(W.octets(b(n[1])), W.seq(*parts), tag=0xA4)
    if k == "present":
        return W.octets(b(n[1]), tag=0x87)
    if k == "ext":
        body = b""
        if n[1] is not None:
            body += W.octets(b(n[1]), tag=0x81)
        if n[2] is not None:
            body += W.octets(b(n[2]), tag=0x82)
        body += W.octets(b(n[3]), tag=0x83)
        if n[4]:
            body += W.tlv(0x84, b"\xff")
        return W.seq(body, tag=0xA9)
    if k == "true":
        return W.octets(b"objectClass", tag=0x87)
    if k == "false":
        return W.seq(W.octets(b"objectClass", tag=0x87), tag=0xA2)
    if k == "raw":
        return n[1]
    raise ValueError(k)


def vesc(v):
    v = b(v)
    out = []
    for x in v:
        if x in (0x2A, 0x28, 0x29, 0x5C) or x < 0x20 or x >= 0x7F:
            out.append("\\%02x" % x)
        else:
            out.append(chr(x))
    return "".join(out)


def aesc(a):
    a = a if isinstance(a, str) else a.decode("utf-8", "replace")
    return a if re.match(r"^[A-Za-z0-9.;-]*$", a) else repr(a)


def fstr(n):
    k = n[0]
    if k in ("and", "or"):
        return "(%s%s)" % ("&" if k == "and" else "|", "".join(fstr(c) for c in n[1]))
    if k == "not":
        return "(!%s)" % fstr(n[1])
    if k in FTAG:
        return "(%s%s%s)" % (aesc(n[1]), FOP[k], vesc(n[2]))
    if k == "sub":
        mid = "*".join([vesc(n[2]) if n[2] is not None else ""] + [vesc(a) for a in n[3]] +
                       [vesc(n[4]) if n[4] is not None else ""])
        return "(%s=%s)" % (aesc(n[1]), mid)
    if k == "present":
        return "(%s=*)" % aesc(n[1])
    if k == "ext":
        return "(%s%s%s:=%s)" % (aesc(n[2]) if n[2] else ("" if n[2] is None else "''"), ":dn" if n[4] else "",
                                  ":" + aesc(n[1]) if n[1] is not None else "", vesc(n[3]))
    if k == "true":
        return "(objectClass=*)"
    if k == "false":
        return "(!(objectClass=*))"
    if k == "raw":
        return "<raw %s: %s>" % (n[2], n[1].hex())
    return "?"


def f_attrs(n, out):
    """(attr or None, node) of every leaf."""
    k = n[0]
    if k in ("and", "or"):
        for c in n[1]:
            f_attrs(c, out)
    elif k == "not":
        f_attrs(n[1], out)
    elif k in FTAG or k in ("sub", "present"):
        out.append((n[1], n))
    elif k == "ext":
        out.append((n[2], n))
    return out


# ------------------------------------------------------------------ the generator

CONTROL_DEFS = [
    # (oid, name, value maker taking the generator) — docs/security.md: search allows paged only
    (PAGED, "paged results", lambda g: W.seq(W.integer(g.rng.choice([1, 2, 3, 5, 10, 100])), W.octets(b""))),
    ("1.2.840.113556.1.4.473", "server-side sort", lambda g: W.seq(W.seq(W.octets(g.rng.choice(
        ["uid", "userPassword", "cn", "2.5.4.35", "ipaNTHash"])), *([W.tlv(0x81, b"\xff")] if g.rng.random() < .5 else [])))),
    ("2.16.840.1.113730.3.4.9", "VLV", lambda g: W.seq(W.integer(0), W.integer(5), W.seq(W.integer(1), W.integer(0), tag=0xA0))),
    ("1.3.6.1.1.12", "assertion", lambda g: fenc(g.leaf(dirty=True))),
    ("1.3.6.1.4.1.4203.666.5.16", "dereference", lambda g: W.seq(W.seq(W.octets(g.rng.choice(["member", "memberOf", "manager"])),
                                                                        W.seq(W.octets("uid"), W.octets("userPassword"), W.octets("ipaNTHash"))))),
    ("2.16.840.1.113730.3.4.12", "proxied authz v1", lambda g: W.seq(W.octets("uid=admin,cn=users,cn=accounts," + SUFFIX))),
    ("2.16.840.1.113730.3.4.18", "proxied authz v2", lambda g: b"dn:uid=admin,cn=users,cn=accounts," + SUFFIX.encode()),
    ("1.3.6.1.4.1.4203.666.5.12", "relax rules", None),
    ("2.16.840.1.113730.3.4.2", "manageDsaIT", None),
    ("1.2.826.0.1.3344810.2.3", "matched values", lambda g: W.seq(fenc(("eq", "memberOf", "cn=helpdesk,cn=roles,cn=accounts," + SUFFIX)),
                                                                    fenc(("present", "userPassword")))),
    ("1.3.6.1.1.13.1", "pre-read", lambda g: W.seq(W.octets("userPassword"), W.octets("*"))),
    ("1.3.6.1.1.13.2", "post-read", lambda g: W.seq(W.octets("*"), W.octets("+"))),
    ("2.16.840.1.113730.3.4.3", "persistent search", lambda g: W.seq(W.integer(15), W.boolean(True), W.boolean(True))),
    ("1.3.6.1.4.1.4203.1.9.1.1", "sync request", lambda g: W.seq(W.enum(g.rng.choice([1, 3])))),
    ("1.3.6.1.4.1.42.2.27.8.5.1", "password policy", None),
    ("1.3.6.1.4.1.4203.1.10.1", "subentries", lambda g: W.boolean(True)),
    ("1.3.6.1.1.22", "don't use copy", None),
    ("1.3.6.1.4.1.42.2.27.9.5.2", "get effective rights", lambda g: W.seq(W.octets("dn:uid=admin,cn=users,cn=accounts," + SUFFIX),
                                                                          W.seq(W.octets("userPassword"), W.octets("*")))),
    ("1.2.840.113556.1.4.417", "AD show deleted", None),
    ("1.2.840.113556.1.4.801", "AD SD flags", lambda g: W.seq(W.integer(7))),
    ("1.2.840.113556.1.4.1339", "AD domain scope", None),
    ("1.2.840.113556.1.4.528", "AD server notification", None),
    ("1.2.840.113556.1.4.1413", "AD permissive modify", None),
    ("1.2.840.113556.1.4.529", "AD extended DN", lambda g: W.seq(W.integer(1))),
    ("1.2.840.113556.1.4.1504", "AD attribute scoped query", lambda g: W.seq(W.octets("member"))),
    ("1.2.840.113556.1.4.619", "AD lazy commit", None),
    ("1.2.840.113556.1.4.841", "AD dirsync", lambda g: W.seq(W.integer(0), W.integer(1000), W.octets(b""))),
    ("1.2.840.113556.1.4.2064", "AD show recycled", None),
    ("1.2.840.113556.1.4.2065", "AD show deactivated link", None),
    ("1.2.840.113556.1.4.1340", "AD search options", lambda g: W.seq(W.integer(2))),
    ("1.2.840.113556.1.4.1852", "AD quota", lambda g: W.seq(W.octets(b"S-1-5-21-1"))),
    ("1.2.840.113556.1.4.474", "sort response (as a request)", None),
    ("1.3.6.1.4.1.4203.1.10.2", "no-op", None),
    ("2.16.840.1.113730.3.4.16", "authorization identity", None),
    ("2.16.840.1.113730.3.4.17", "389 real attributes only", None),
    ("2.16.840.1.113730.3.4.19", "389 virtual attributes only", None),
    ("2.16.840.1.113730.3.4.14", "389 search on backend", lambda g: b"userRoot"),
    ("1.3.6.1.4.1.4203.666.5.9", "OpenLDAP manageDIT", None),
    ("1.3.6.1.4.1.4203.666.5.2", "OpenLDAP no-op (old)", None),
    ("1.2.3.4", "unknown 1.2.3.4", lambda g: g.rng.choice([b"", b"\x30\x00", b"junk"])),
]
CONTROL_NAMES = {oid: name for oid, name, _ in CONTROL_DEFS}

RULES = ["2.5.13.2", "caseIgnoreMatch", "caseExactMatch", "2.5.13.5", "1.2.840.113556.1.4.1941",
         "1.2.840.113556.1.4.803", "1.2.840.113556.1.4.804", "2.5.13.17", "caseIgnoreIA5Match", "2.5.13.1",
         "octetStringMatch", "9.9.9.9", "distinguishedNameMatch", "integerMatch"]
AD_BIT_RULES = {"1.2.840.113556.1.4.803", "1.2.840.113556.1.4.804"}
IN_CHAIN = "1.2.840.113556.1.4.1941"

REAL_COMMON = """uid cn sn givenName displayName mail memberOf member objectClass uidNumber gidNumber
homeDirectory loginShell gecos krbPrincipalName krbCanonicalName ipaUniqueID nsAccountLock description
initials entryDN modifyTimestamp createTimestamp krbPasswordExpiration ipaSshPubKey mepManagedEntry
telephoneNumber title ou o manager memberUid fqdn managedBy entryUUID nsUniqueId memberUser
ipaNTSecurityIdentifier krbLastPwdChange""".split()
VIRTUAL_NAMES = """sAMAccountName userPrincipalName objectGUID userAccountControl objectCategory
sAMAccountType distinguishedName name whenChanged whenCreated department company thumbnailPhoto
pwdLastSet email firstname lastname""".split()
SECRET_PICKS = ["userPassword", "userPassword;binary", "USERPASSWORD", "ipaNTHash", "krbPrincipalKey",
                "krbExtraData", "pwdHistory", "passwordHistory", "userPKCS12", "userPKCS12;binary", "unicodePwd",
                "sambaNTPassword", "authPassword", "krbPwdHistory", "supplementalCredentials", "ipaNTHash;x-a"]
ALIASES = ["commonName", "surname", "userid", "rfc822Mailbox", "gn", "givenname", "CN", "uID", "MemberOf",
           "domainComponent", "objectclass", "OBJECTCLASS", "Mail"]
OIDS = ["2.5.4.3", "0.9.2342.19200300.100.1.1", "2.5.4.35", "0.9.2342.19200300.100.1.3", "2.5.4.0",
        "1.2.840.113556.1.2.102", "2.16.840.1.113719.1.301.4.39.1", "2.16.840.1.113730.3.1.216", "2.5.4.4",
        "1.3.6.1.1.1.1.0", "2.5.4.3;lang-ru", "2.5.4.35;binary", "1.1"]
WITH_OPTIONS = ["cn;lang-ru", "uid;x-foo", "mail;binary", "sn;lang-en;x-y", "memberOf;binary", "objectClass;x-o"]
MALFORMED = ["cn ", " cn", "c\tn", "", "1cn", "cn;", "c_n", "cn;;x", "a" * 130, "ui d", "cn=x", "2.05.4.3",
             "cn;x_y", "-cn", "cn\x00", "uid\n", "\u0107n", "cn;lang ru", "uid\t", "mail "]


class Req:
    __slots__ = ("idx", "base", "scope", "deref", "size", "typesonly", "filt", "attrs", "controls",
                 "raw", "raw_desc", "mode")

    def human(self):
        if self.raw is not None:
            return "malformed BER (%s): LDAPMessage body after the messageID %s" % (self.raw_desc, self.raw.hex())
        ctl = ", ".join("%s%s%s" % (CONTROL_NAMES.get(o, o), "(critical)" if c else "",
                                    "" if v is None else "=" + v.hex()) for o, c, v in self.controls)
        return "base=%r scope=%s deref=%d size=%d typesOnly=%s filter=%s attrs=%r controls=[%s]" % (
            self.base.decode("utf-8", "replace") if isinstance(self.base, bytes) else self.base,
            {0: "base", 1: "one", 2: "sub", 3: "children"}.get(self.scope, self.scope), self.deref, self.size,
            self.typesonly, fstr(self.filt), self.attrs, ctl)

    def encode(self, msgid, base=None, controls=None):
        if self.raw is not None:
            return self.raw_message(msgid)
        ctls = self.controls if controls is None else controls
        op = W.seq(W.octets(b(self.base if base is None else base)), W.enum(self.scope), W.enum(self.deref),
                   W.integer(self.size), W.integer(0), W.boolean(self.typesonly), fenc(self.filt),
                   W.seq(*[W.octets(b(a)) for a in self.attrs]), tag=W.SEARCH_REQ)
        return W.message(msgid, op, [W.control(o, c, v) for o, c, v in ctls] or None)

    def raw_message(self, msgid):
        return W.seq(W.integer(msgid) + self.raw)


class Gen:
    """The seeded request generator of one profile."""

    def __init__(self, p, seed, snap, users):
        self.p = p
        self.rng = random.Random("%s/%s" % (seed, p.name))
        self.snap = snap
        S = SUFFIX
        ustr = lambda u: "uid=%s,cn=users,cn=accounts,%s" % (u, S)  # noqa: E731
        gstr = lambda g: "cn=%s,cn=groups,cn=accounts,%s" % (g, S)  # noqa: E731
        logins = ["alice", "bob", "carol", "dave", "eve", "admin", "user0001", "user0015", "user0020",
                  "user0033", extra_user(p.name, users)]
        self.vis_users = [u for u in logins if p.visible_dn(dn_parse(ustr(u)), snap)]
        self.invis_users = [u for u in logins if dn_parse(ustr(u)) in snap and u not in self.vis_users]
        groups = ["engineering", "developers", "admins", "ipausers", "alice", "zabbix-users"] + p.group_names
        real_bases = ([S, "cn=accounts," + S, "cn=users,cn=accounts," + S, "cn=groups,cn=accounts," + S,
                       "cn=roles,cn=accounts," + S, "cn=helpdesk,cn=roles,cn=accounts," + S,
                       "cn=computers,cn=accounts," + S, "fqdn=host1.ald.test,cn=computers,cn=accounts," + S,
                       "cn=services,cn=accounts," + S, "cn=etc," + S, "cn=sysaccounts,cn=etc," + S,
                       "uid=aldproxy,cn=sysaccounts,cn=etc," + S, "uid=demo,cn=sysaccounts,cn=etc," + S,
                       "cn=hbac," + S, "cn=sudo," + S, "cn=sudorules,cn=sudo," + S,
                       "cn=compat," + S, "cn=users,cn=compat," + S, "uid=alice,cn=users,cn=compat," + S,
                       "uid=user0015,cn=users,cn=compat," + S, "cn=groups,cn=compat," + S,
                       "cn=engineering,cn=groups,cn=compat," + S]
                      + ([p.sa] if p.sa else []) + [ustr(u) for u in logins] + [gstr(g) for g in groups])
        missing = ["uid=nobody,cn=users,cn=accounts," + S, "cn=nothing," + S, "uid=ghost,cn=users,cn=compat," + S,
                   "cn=zz,cn=etc," + S, "cn=nogroup,cn=groups,cn=accounts," + S, "dc=other,dc=test", "dc=test",
                   "o=elsewhere", "uid=alice,cn=nowhere,cn=accounts," + S]
        self.vis_bases = [p.view(x) for x in real_bases if p.visible_dn(dn_parse(x), snap)]
        self.invis_bases = [p.view(x) for x in real_bases if not p.visible_dn(dn_parse(x), snap)]
        self.missing_bases = [p.view(x) for x in missing]
        if p.vt:   # the real tree's names through a virtual-tree profile: outside its search_base
            self.invis_bases += [S, "cn=users,cn=accounts," + S, "uid=alice,cn=users,cn=accounts," + S, "cn=compat," + S]
        self.bases = self.vis_bases + self.invis_bases + self.missing_bases
        # real values of each attribute, to make filters match
        self.values = {}
        self.focus = None
        self.under_cache = {}
        self.snap_list = sorted(snap.values(), key=lambda e: e.dn.lower())
        for e in self.snap_list:
            for a, vs in e.attrs.items():
                if a in SCHEMA.oper or a in VOLATILE:
                    continue    # differ from one rig to the next: a replay must send the same bytes
                lst = self.values.setdefault(a, [])
                if len(lst) < 60:
                    lst.extend(vs[:3])
        self.user_dns = [p.view(ustr(u)) for u in logins]
        self.group_dns = [p.view(gstr(g)) for g in groups] + [p.view("cn=helpdesk,cn=roles,cn=accounts," + S),
                                                               p.view("cn=engineering,cn=groups,cn=compat," + S)]
        self.other_dns = [p.view(x) for x in ("uid=alice,cn=users,cn=compat," + S, "cn=compat," + S,
                                              "uid=aldproxy,cn=sysaccounts,cn=etc," + S)] + ["not a dn", "uid=alice"]
        self.logins = logins
        alice = snap.get(dn_parse(ustr("alice")))
        self.guid = uuid.UUID(alice.attrs["ipauniqueid"][0].decode()).bytes_le if alice and "ipauniqueid" in alice.attrs else b"\x01" * 16
        self.allowed = p.attrs_list if not p.all_attrs else REAL_COMMON
        self.virtual = [a for a in VIRTUAL_NAMES if a.lower() in p.amap or a.lower() in p.vattrs] or VIRTUAL_NAMES[:4]

    # -- pieces
    def pick(self, weighted):
        r = self.rng.random() * sum(w for w, _ in weighted)
        for w, x in weighted:
            r -= w
            if r <= 0:
                return x
        return weighted[-1][1]

    def focus_attr(self):
        """An attribute the focus entry has, by a name the profile allows."""
        p = self.p
        if self.focus is None:
            return None
        names = []
        for a in self.focus.attrs:
            if p.attr_allowed(a):
                names.append(a)
            names += [v for v, r in p.amap.items() if SCHEMA.c(r) == a and p.attr_allowed(v)]
        return self.rng.choice(names) if names else None

    def attr(self, dirty, in_list=False):
        rng = self.rng
        if not dirty:
            fa = self.focus_attr() if rng.random() < 0.6 else None
            return fa or rng.choice(self.allowed + ["objectClass"] + self.virtual)
        pool = self.pick([(40, self.allowed), (15, REAL_COMMON), (8, self.virtual), (10, SECRET_PICKS),
                          (6, ALIASES), (6, OIDS), (5, WITH_OPTIONS), (4, MALFORMED)])
        return rng.choice(pool)

    def value(self, attr):
        rng = self.rng
        a = base_of(attr) if isinstance(attr, str) else ""
        real = SCHEMA.c(self.p.amap.get(a, a))
        fv = self.focus.attrs.get(real) if self.focus is not None and real not in SCHEMA.oper and real not in VOLATILE else None
        if fv and rng.random() < 0.6:
            v = rng.choice(fv)
        elif rng.random() < 0.45 and self.values.get(real):
            v = rng.choice(self.values[real])
        else:
            v = None
        if v is not None:
            if self.p.vt and self.p.is_dn_attr(real):
                d = dn_parse(v)
                if d is not None:
                    v = b(dn_str(self.p.to_virtual(d)))
            return v
        r = rng.random()
        if r < 0.12:
            return rng.choice([b"", b"*", b"(", b")", b"\\", b"a*b", b"\x00", b"\xff\xfe", b"\xc3\x28", b"x" * 300,
                               "Иван".encode(), b"TRUE", b"Secret123", b"\xed\xa0\x80"])
        if a in ("memberof", "member", "manager", "entrydn", "distinguishedname", "seealso", "uniquemember",
                 "managedby", "memberuser", "1.2.840.113556.1.2.102") or (r < 0.2):
            return b(rng.choice(self.user_dns + self.group_dns + self.other_dns))
        if a in ("objectclass", "2.5.4.0", "objectcategory"):
            return b(rng.choice(["person", "inetOrgPerson", "posixAccount", "groupOfNames", "ipaUserGroup", "nsContainer",
                                 "account", "top", "user", "group", "ipaHBACRule", "krbPrincipalAux", "ipaHost",
                                 "posixGroup", "computer", "organizationalPerson", "Person", "simpleSecurityObject"]))
        if a in ("uidnumber", "gidnumber", "useraccountcontrol", "samaccounttype", "1.3.6.1.1.1.1.0"):
            return b(rng.choice(["1668600001", "1668601015", "512", "514", "2", "0", "-1", "805306368", "99999999999999999999"]))
        if a in ("objectguid",):
            return rng.choice([self.guid, b"\x01" * 16, b"short"])
        if SCHEMA.is_secret(a):
            return b(rng.choice(["Secret123", "ProxyPass1", "DemoPass1", "AdminPass1", "wrong", "{SSHA}xyz"]))
        login = rng.choice(self.logins + ["nobody"])
        return b(rng.choice([login, login.capitalize(), login + "@" + "ald.test", login.upper() + "@ALD.TEST",
                             "Alice Liddell", "Liddell", "Alice", "engineering", "/home/" + login, "/bin/bash",
                             "20240101000000Z", "20380101000000Z", "AL", "Builder"]))

    def leaf(self, dirty):
        rng = self.rng
        if rng.random() < 0.12:
            return self.special()
        t = self.pick([(30, "eq"), (15, "sub"), (6, "ge"), (6, "le"), (5, "approx"), (22, "present"), (12, "ext")])
        a = self.attr(dirty)
        if t == "present":
            return ("present", a)
        v = self.value(a)
        if t == "sub":
            cut = lambda x: x[:max(1, len(x) // 2)] if x else b"a"  # noqa: E731
            ini = cut(v) if rng.random() < 0.6 else None
            anys = [cut(self.value(a))[1:3] or b"e" for _ in range(rng.choice([0, 0, 1, 2]))]
            fin = v[-2:] if (rng.random() < 0.4 or (ini is None and not anys)) and v else None
            if ini is None and not anys and fin is None:
                fin = b"e"
            return ("sub", a, ini, anys, fin)
        if t == "ext":
            rule = rng.choice(RULES) if rng.random() < 0.8 else None
            at = a if rng.random() < 0.8 else None
            if at is None and rule is None:
                rule = "2.5.13.2"
            return ("ext", rule, at, v, rng.random() < 0.2)
        return (t, a, v)

    def special(self):
        rng = self.rng
        p = self.p
        gr = rng.choice([p.view("cn=%s,cn=groups,cn=accounts,%s" % (g, SUFFIX)) for g in p.group_names or ["engineering"]])
        return rng.choice([
            ("eq", "memberOf", b(gr)), ("eq", "memberOf", b(p.view("cn=helpdesk,cn=roles,cn=accounts," + SUFFIX))),
            ("eq", "memberOf", b(p.view("ipaUniqueID=%s,cn=hbac,%s" % (uuid.uuid5(uuid.UUID("6f1d2c3a-51c4-4e0c-9a55-ad1d0a1d0001"), "hbac:allow_engineering"), SUFFIX)))),
            ("eq", "objectClass", b"person"), ("eq", "objectClass", b"user"), ("eq", "objectClass", b"group"),
            ("eq", "objectClass", b"account"), ("eq", "objectClass", b"posixAccount"), ("eq", "uid", b"alice"),
            ("eq", "uid", b(rng.choice(self.logins))), ("eq", "member", b(rng.choice(self.user_dns))),
            ("ext", IN_CHAIN, "memberOf", b(gr), False), ("ext", IN_CHAIN, "member", b(rng.choice(self.user_dns)), False),
            ("ext", "1.2.840.113556.1.4.803", "userAccountControl", b"2", False),
            ("eq", "objectCategory", b"person"), ("eq", "sAMAccountName", b(rng.choice(self.logins))),
            ("eq", "distinguishedName", b(rng.choice(self.user_dns))), ("eq", "entryDN", b(rng.choice(self.user_dns))),
            ("eq", "objectGUID", self.guid), ("present", "userPassword"), ("eq", "userPassword", b"Secret123"),
            ("eq", "2.5.4.35", b"ProxyPass1"), ("sub", "userPassword", b"Sec", [], None), ("present", "ipaNTHash"),
            ("present", "userPKCS12"), ("ext", None, None, b"alice", False), ("ext", "2.5.13.17", None, b"Secret123", False),
            ("ext", None, "cn", b"compat", True), ("ext", "caseIgnoreMatch", "ou", b"accounts", True),
            ("eq", "uid", b"user0015"), ("eq", "cn", b"compat"), ("present", "memberUid"), ("eq", "memberUid", b"alice"),
        ])

    def filt(self, dirty, depth=0):
        rng = self.rng
        if depth < 3 and rng.random() < (0.4 if depth == 0 else 0.22):
            k = rng.choice(["and", "and", "or", "or", "not"])
            if k == "not":
                return ("not", self.filt(dirty, depth + 1))
            n = 0 if rng.random() < 0.02 else rng.choice([1, 2, 2, 3, 4])
            return (k, [self.filt(dirty, depth + 1) for _ in range(n)])
        return self.leaf(dirty and rng.random() < 0.5)

    def base(self):
        rng = self.rng
        r = rng.random()
        if r > 0.11:
            return b(rng.choice(self.pick([(w, x) for w, x in ((55, self.vis_bases), (25, self.invis_bases),
                                                               (10, self.missing_bases)) if x])))
        if r < 0.05:   # odd spellings of real names
            x = rng.choice(self.bases)
            return b(rng.choice([x.upper(), x.replace(",", ", "), x.replace("=", " = "), x + " ",
                                 re.sub(r"^uid=(\w)", lambda m: "uid=\\%02x" % ord(m.group(1)), x),
                                 re.sub(r"^uid=", "0.9.2342.19200300.100.1.1=", x),
                                 re.sub(r"^cn=", "2.5.4.3=", x), re.sub(r"^cn=", "commonName=", x)]))
        if r < 0.08:   # not DNs at all
            return rng.choice([b"uid=alice,,cn=users", b"=alice", b"uid", b"uid=alice,cn=users,cn=accounts," + b(SUFFIX) + b",",
                               b"uid=al\\zzice," + b(SUFFIX), b"uid=\xff\xfe," + b(SUFFIX), b"cn=x\\," + b(self.p.view("cn=accounts," + SUFFIX)),
                               b"cn=" + b"a" * 600 + b"," + b(SUFFIX)])
        return b""

    def attrlist(self, dirty):
        rng = self.rng
        r = rng.random()
        if r < 0.1:
            return []
        if r < 0.17:
            return ["1.1"]
        out = []
        for _ in range(rng.choice([1, 1, 2, 3, 4, 5])):
            s = rng.random()
            if s < 0.12:
                out.append("*")
            elif s < 0.18:
                out.append("+")
            elif s < 0.20:
                out.append("1.1")
            else:
                out.append(self.attr(dirty and rng.random() < 0.6, True))
        return out

    def controls(self):
        rng = self.rng
        if rng.random() > 0.22:
            return []
        out = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            oid, _, mk = rng.choice(CONTROL_DEFS) if rng.random() > 0.25 else CONTROL_DEFS[0]
            crit = rng.random() < 0.4
            v = mk(self) if mk else None
            if rng.random() < 0.06:
                v = rng.choice([b"\x04\x01", b"garbage", b"\x30\x03\x02\x01"])
            if oid in [o for o, _, _ in out] and rng.random() < 0.8:
                continue
            out.append((oid, crit, v))
        return out

    def request(self, idx):
        rng = self.rng
        q = Req()
        q.idx = idx
        q.raw = q.raw_desc = None
        dirty = rng.random() < 0.35
        q.mode = "dirty" if dirty else "clean"
        q.base = self.base()
        # an entry in the base's subtree whose values the filter tends to use, so that it matches
        rb = self.p.to_real(dn_parse(q.base))
        if rb not in self.under_cache:
            self.under_cache[rb] = [e for e in self.snap_list if under(e.t, rb)] if rb is not None else []
        cands = self.under_cache[rb]
        self.focus = rng.choice(cands) if cands else None
        q.scope = self.pick([(30, 0), (25, 1), (42, 2), (3, 3)])
        q.deref = rng.choice([0, 0, 1, 2, 3])
        q.size = 0 if rng.random() < 0.85 else rng.choice([1, 2, 3, 10])
        q.typesonly = rng.random() < 0.05
        q.filt = self.filt(dirty)
        q.attrs = self.attrlist(dirty)
        q.controls = self.controls()
        if rng.random() < 0.03:
            self.malform(q)
        if SELFTEST:
            q.controls = []     # straight to the directory, persistent search & co. would be honoured
        return q

    def malform(self, q):
        """Well-framed messages whose search request does not decode exactly."""
        rng = self.rng
        good = fenc(q.filt)
        attrs = W.seq(*[W.octets(b(a)) for a in q.attrs])

        def sr(filt=good, scope=W.enum(2), al=attrs, tail=b"", size=W.integer(0), tonly=W.boolean(False)):
            return W.seq(W.octets(q.base), scope, W.enum(0), size, W.integer(0), tonly, filt, al, tail, tag=W.SEARCH_REQ)
        deep = fenc(("eq", "uid", b"alice"))
        for _ in range(300):
            deep = W.seq(deep, tag=0xA2)
        cases = [
            ("unknown filter tag", lambda: sr(filt=W.seq(W.octets("uid"), W.octets("x"), tag=0xAA))),
            ("trailing bytes in an equality filter", lambda: sr(filt=W.seq(W.octets("uid"), W.octets("x"), W.octets("y"), tag=0xA3))),
            ("empty substrings", lambda: sr(filt=W.seq(W.octets("uid"), W.seq(), tag=0xA4))),
            ("initial after any", lambda: sr(filt=W.seq(W.octets("uid"), W.seq(W.octets("a", 0x81), W.octets("b", 0x80)), tag=0xA4))),
            ("300 nested nots", lambda: sr(filt=deep)),
            ("extensible match without a value", lambda: sr(filt=W.seq(W.octets("uid", 0x82), tag=0xA9))),
            ("not with two filters", lambda: sr(filt=W.seq(good, good, tag=0xA2))),
            ("attribute list element not a string", lambda: sr(al=W.seq(W.tlv(0x05, b"")))),
            ("scope 9", lambda: sr(scope=W.enum(9))),
            ("negative size limit", lambda: sr(size=W.integer(-5))),
            ("typesOnly of two bytes", lambda: sr(tonly=W.tlv(0x01, b"\xff\xff"))),
            ("trailing element in the request", lambda: sr(tail=W.octets("extra"))),
            ("filter length past its end", lambda: sr(filt=b"\xa3\x7f" + good[2:])),
            ("equality filter, primitive tag", lambda: sr(filt=W.tlv(0x83, b"\x04\x03uid\x04\x01x"))),
        ]
        ctl_cases = [
            ("control criticality of two bytes", W.seq(W.seq(W.octets(PAGED), W.tlv(0x01, b"\xff\xff")), tag=0xA0)),
            ("control OID not a string", W.seq(W.seq(W.integer(5)), tag=0xA0)),
            ("controls not a sequence of sequences", W.seq(W.octets(PAGED), tag=0xA0)),
        ]
        if rng.random() < 0.2:
            desc, ctl = rng.choice(ctl_cases)
            q.raw = sr() + ctl
        else:
            desc, mk = rng.choice(cases)
            q.raw = mk()
        q.raw_desc = desc


# ------------------------------------------------------------------ the oracle

class Verdict:
    """What the profile's rules make of a request before any answer."""

    def __init__(self, p, q, snap):
        self.p, self.q = p, q
        self.reasons = []          # why no entries at all are allowed
        self.codes = set()         # the refusal codes that may answer
        self.must = set()          # codes required (2 / 12) when any applies
        self.base_t = dn_parse(q.base) if q.raw is None else None
        self.direct = True
        if q.raw is not None:
            self.direct = False
            return
        # controls
        seen = set()
        for oid, crit, val in q.controls:
            if oid in seen:
                self.codes.add(2)
            seen.add(oid)
            # docs/security.md: on a search, paged results is aldproxy's own and AD's domain
            # scope is honoured (aldproxy never returns referrals); a value on it is malformed
            if oid == AD_DOMAIN_SCOPE and val is not None:
                self.codes.add(2)
                if crit:
                    self.reasons.append("malformed AD domain scope value")
                    self.must.add(2)
            elif crit and oid != PAGED and oid != AD_DOMAIN_SCOPE:
                self.reasons.append("critical control %s" % CONTROL_NAMES.get(oid, oid))
                self.must.add(12)
            if oid == PAGED and val is not None and not _paged_ok(val):
                self.codes.add(2)
                if crit:
                    self.reasons.append("malformed paged-results value")
        # attribute descriptions
        bad = [a for a in q.attrs if a not in ("*", "+", "1.1", "") and not attrdesc_valid(a)]   # "" is dropped
        leaves = f_attrs(q.filt, [])
        bad += [a for a, _ in leaves if a is not None and not attrdesc_valid(a)]
        if bad:
            self.reasons.append("malformed attribute description %r" % bad[0])
            self.must.add(2)
        # the filter
        for a, n in leaves:
            if a == "" and n[0] == "ext":
                self.codes.add(50)      # an empty type may pass for "no type"
            if n[0] == "ext" and not a and n[1] is None:
                self.codes.add(2)       # neither type nor rule: not a valid MatchingRuleAssertion
            if a is None:
                if n[0] == "ext":
                    self.reasons.append("filter: type-less extensible match")
                    self.codes.add(50)
                continue
            if not attrdesc_valid(a):
                continue
            if SCHEMA.is_secret(a):
                self.reasons.append("filter tests secret %s" % a)
            elif is_oid(a):
                self.reasons.append("filter tests OID %s" % a)
            elif not p.attr_allowed(a):
                self.reasons.append("filter tests hidden attribute %s" % a)
            elif n[0] == "ext" and n[4] and not p.all_attrs:
                self.reasons.append("filter: dnAttributes without \"*\"")
            else:
                continue
            self.codes.add(50)
        # the base
        if self.base_t is None:
            self.codes.update((34, 32, 2))
        elif not under(self.base_t, p.search_base_v) or not p.visible_dn(p.to_real(self.base_t), snap) \
                or p.to_real(self.base_t) not in snap:
            self.codes.add(32)      # aldproxy may answer an invisible base as a missing one
        if self.must:
            self.codes |= self.must
        self.direct = not self.reasons

    def filter_reason(self):
        for r in self.reasons:
            if r.startswith("filter"):
                return r
        return None


def _paged_ok(v):
    try:
        t, s, e = W.dec_tlv(v)
        if t != 0x30 or e != len(v):
            return False
        kids = W.dec_children(v, s, e)
        return len(kids) == 2 and kids[0][0] == 0x02 and kids[1][0] == 0x04
    except W.BerError:
        return False


def translate(p, n, notes=None):
    """(superset, subset) of a filter in real terms; ("true",)/("false",) where the
    oracle cannot or must not evaluate the profile's view (notes says where)."""
    if notes is None:
        notes = []
    k = n[0]
    if k in ("and", "or") and not n[1]:
        x = ("true",) if k == "and" else ("false",)    # RFC 4526; 389-ds refuses (&) and (|)
        return x, x
    if k in ("and", "or"):
        sup = [translate(p, c, notes) for c in n[1]]
        return (k, [s for s, _ in sup]), (k, [t for _, t in sup])
    if k == "not":
        s, t = translate(p, n[1], notes)
        return ("not", t), ("not", s)
    if k in ("true", "false"):
        return n, n
    unknown = (("true",), ("false",))
    a = n[2] if k == "ext" else n[1]
    if a is None:
        return unknown
    ab = base_of(a)
    opts = a[len(a.split(";")[0]):]
    if ab in p.vattrs or ab in p.defaults:
        return unknown
    real = p.amap.get(ab)
    ra = (real + opts) if real else a
    rb = base_of(ra)
    if k == "ext":
        rule, val, dnattrs = n[1], n[3], n[4]
        if rule in AD_BIT_RULES or (dnattrs and p.vt):
            return unknown
        if KIND == "389ds" and rule != IN_CHAIN:
            # 389-ds evaluates an extensible match differently by context:
            # (X) and (|(X)) match where (&(X)) does not — no reference answer
            return unknown
        if rule == IN_CHAIN and rb == "member" and p.chain:
            # the user's nested groups (chain.h): at least the direct ones, no reference for the
            # rest — unless the equality itself matches nothing (a user the profile does not see)
            s, t = translate(p, ("eq", a, val), notes)
            return (s if s == ("false",) else ("true",)), t
        if rule == IN_CHAIN:
            k, n = "eq", ("eq", a, val)
        else:
            if p.is_dn_attr(ra) and p.vt:
                return unknown
            x = ("ext", rule, ra, val, dnattrs)
            return x, x
    if rb == "objectclass" or SCHEMA.c(rb) == "objectclass":
        if p.ocmap and k not in ("eq", "present"):
            return unknown
        if k == "eq":
            v = n[2].decode("utf-8", "replace").lower()
            x = ("eq", ra, b(p.ocmap.get(v, v)) if v in p.ocmap else n[2])
            return x, x
    if k in ("ge", "le") and orderless(ra):
        return unknown      # never to the directory: it kills 389-ds (crash_sig)
    if k == "present":
        x = ("present", ra)
        return x, x
    if p.visible is not None and (SCHEMA.c(rb) in p.vis_dn_attrs or SCHEMA.c(rb) == "memberuid"):
        # DN assertions on invisible entries match nothing (docs/security.md, visibility)
        if k != "eq":
            return unknown
        if SCHEMA.c(rb) == "memberuid":
            d = ((("uid", n[2].decode("utf-8", "replace").lower()),),) + p.user_bases_r[0] if p.user_bases_r else None
        else:
            d = dn_parse(n[2])
            if d is None:
                return unknown      # not a DN: the directory says Undefined, aldproxy may say FALSE
            d = p.to_real(d)
        if d is not None and not p.visible_dn(d, SNAP):
            notes.append("DN assertion %s=<%s>" % (SCHEMA.c(rb), classify(p, d, SNAP)))
            return ("false",), ("false",)
    if p.is_dn_attr(ra):
        if p.vt and base_of(ra) not in p.dn_attrs and SCHEMA.c(rb) not in p.dn_attrs:
            return unknown      # a DN the profile may or may not map (not in dn_attributes)
        if k == "eq":
            d = dn_parse(n[2])
            val = n[2]
            if d is None and p.visible is not None:
                return unknown      # not a DN: the directory says Undefined, aldproxy may say FALSE
            if d is not None and p.vt:
                d = p.to_real(d)
                val = b(dn_str(d))
            if d is not None and p.groups_only and SCHEMA.c(rb) == "memberof" and not under(d, p.groups_base):
                notes.append("memberOf test of %s, which groups_only hides" % classify(p, d, None))
                return ("false",), ("false",)
            x = ("eq", ra, val)
            return x, x
        if p.vt or (p.groups_only and SCHEMA.c(rb) == "memberof"):
            return unknown
    if k == "sub":
        x = ("sub", ra, n[2], n[3], n[4])
        return x, x
    x = (k, ra, n[2])
    return x, x


def direct_attrs(p, attrs):
    out = []
    for a in attrs:
        if a == "":
            continue
        ab = base_of(a)
        if a in ("*", "+", "1.1"):
            out.append(a)
        elif ab in p.amap:
            out.append(p.amap[ab] + a[len(a.split(";")[0]):])
        elif ab in p.vattrs:
            continue
        else:
            out.append(a)
    if attrs and not out:
        out = ["1.1"]
    return out


def expand(template, e):
    def sub(m):
        vs = e.attrs.get(SCHEMA.c(m.group(1)))
        if not vs:
            raise KeyError(m.group(1))
        return vs[0].decode("utf-8", "replace")
    try:
        return re.sub(r"\{([A-Za-z0-9-]+)\}", sub, template).encode()
    except KeyError:
        return None


def classify(p, d, snap):
    """A short name for where a real DN lies (violation grouping)."""
    if d is None:
        return "not-a-dn"
    S = S_T
    for tag, rel in (("compat", "cn=compat"), ("sysaccounts", "cn=sysaccounts,cn=etc"), ("etc", "cn=etc"),
                     ("roles", "cn=roles,cn=accounts"), ("computers", "cn=computers,cn=accounts"),
                     ("services", "cn=services,cn=accounts"), ("hbac", "cn=hbac"), ("sudo", "cn=sudo")):
        if under(d, dn_parse(rel) + S):
            return tag
    if under(d, dn_parse("cn=users,cn=accounts") + S) and d != dn_parse("cn=users,cn=accounts") + S:
        return "user-outside-visible-groups" if snap is not None and not p.visible_dn(d, snap) else "user"
    if under(d, dn_parse("cn=groups,cn=accounts") + S):
        return "group"
    if d == S:
        return "suffix"
    if not under(d, S):
        return "outside-suffix"
    return "container"


class Checker:
    def __init__(self, p, snap, stats):
        self.p, self.snap, self.stats = p, snap, stats

    def check(self, q, v, pr, dr, twin, out):
        """pr / twin: (messages, state); dr: messages or None. Appends violations to out."""
        p, snap = self.p, self.snap
        msgs, state = pr
        if state == "timeout":
            out.append(("hang", "no answer within %ds" % TIMEOUT, ""))
            return
        if state in ("closed", "closed-nod"):
            out.append(("connection closed", "on a well-formed request, %s" % (
                "after a Notice of Disconnection" if state == "closed-nod" else "without a Notice of Disconnection"), ""))
            return
        if state != "ok":
            out.append(("malformed response", state, ""))
            return
        entries = [m for m in msgs if m.tag == W.SEARCH_ENTRY]
        done = msgs[-1]
        code = done.code
        self.stats["code %s" % code] = self.stats.get("code %s" % code, 0) + 1
        for m in msgs:
            if m.tag == W.SEARCH_REF:
                out.append(("search reference forwarded", "", ""))
            elif m.tag not in (W.SEARCH_ENTRY, W.SEARCH_DONE):
                out.append(("unexpected response", "tag 0x%02x" % m.tag, ""))
            for oid, _, _ in m.controls:
                if m.tag != W.SEARCH_DONE or oid != PAGED:
                    out.append(("response control", "%s on %s" % (CONTROL_NAMES.get(oid, oid), "entry" if m.tag == W.SEARCH_ENTRY else "result"), ""))
                elif not any(o == PAGED for o, _, _ in q.controls):
                    out.append(("response control", "paged results unasked", ""))
        # result codes
        code_wrong = bool(v.must and code not in v.codes)
        if code_wrong:
            need = "12" if 12 in v.must else "2"
            why = v.reasons[0] if v.reasons else ""
            root = q.base == b"" and q.scope == 0
            if not root and any(o == "1.2.840.113556.1.4.1339" for o, _, _ in q.controls):
                why = "critical control AD domain scope" if "AD domain scope" in why else \
                    "the AD domain scope control in the request (%s)" % why
            out.append(("result code", "expected %s (%s), got %s" % ("/".join(str(c) for c in sorted(v.must)), why, code),
                        "want %s got %s (rootDSE)" % (need, code) if root else
                        "want %s got %s: %s" % (need, code,
                                                  why if why.startswith("critical") else
                                                  re.sub(r"^(critical control|malformed attribute description|"
                                                         r"the AD domain scope control in the request).*", r"\1", why))))
        # invisible base vs a missing sibling
        if twin is not None:
            tm, ts = twin
            # busy (51: the account's share of paged searches, a full connection) is about load,
            # not about the entry: no comparison when either side got it
            if ts == "ok" and code != 51 and tm[-1].code != 51:
                td = tm[-1]
                a = (code, _norm_matched(done.matched), len(entries), bool(done.diag))
                bb = (td.code, _norm_matched(td.matched), len([m for m in tm if m.tag == W.SEARCH_ENTRY]), bool(td.diag))
                self.stats["missing-sibling comparisons"] = self.stats.get("missing-sibling comparisons", 0) + 1
                if a != bb:
                    rb = p.to_real(v.base_t)
                    where = "outside search_base" if not under(v.base_t, p.search_base_v) else classify(p, rb, snap)
                    out.append(("invisible base answers unlike a missing one",
                                "%s base (%s): code %s matched %r diag %r entries %d vs missing: code %s matched %r diag %r" % (
                                    where, "scope %d" % q.scope, a[0], done.matched, done.diag, a[2], bb[0], td.matched, td.diag),
                                "%s/%s" % (where, "32" if bb[0] == 32 else bb[0])))
        if dr is not None:
            nvis = sum(1 for m in dr if m.tag == W.SEARCH_ENTRY and p.visible_dn(dn_parse(m.dn), snap))
            if nvis:
                self.stats["oracle non-empty"] = self.stats.get("oracle non-empty", 0) + 1
            if os.environ.get("DIFF_DEBUG") and not nvis:
                log("DEBUG empty oracle %s #%d: %s -> directory %s" % (p.name, q.idx, q.human(), _answer(dr)))
        if not entries:
            return
        self.stats["answers with entries"] = self.stats.get("answers with entries", 0) + 1
        self.stats["entries checked"] = self.stats.get("entries checked", 0) + len(entries)
        if q.base == b"" and q.scope == 0:
            # the rootDSE, which aldproxy builds itself: nothing of the directory's to compare
            for m in entries:
                if m.dn != "":
                    out.append(("entry outside the rootDSE", m.dn, "rootDSE"))
                for name in m.attrs:
                    if SCHEMA.is_secret(name):
                        out.append(("secret attribute returned", "%s on the rootDSE" % name, base_of(name)))
            return
        # the entries allowed
        if dr is None:
            allowed = {}
            why = v.reasons[0] if v.reasons else "no oracle"
        else:
            allowed = {}
            for m in dr:
                if m.tag == W.SEARCH_ENTRY:
                    t = dn_parse(m.dn)
                    if t is not None and p.visible_dn(t, snap):
                        allowed[t] = m
            why = None
        requested = {base_of(a) for a in q.attrs}
        all_user = not q.attrs or "*" in q.attrs
        for m in entries:
            pt = dn_parse(m.dn)
            rt = p.to_real(pt) if pt is not None else None
            if rt not in allowed:
                if why is not None:
                    if code_wrong and not any(r.startswith("filter") for r in v.reasons):
                        continue        # the same fault as the wrong result code above
                    grp = why.split(" ")[0:3]
                    out.append(("entry despite a refusal", "%s: %s" % (why, m.dn), " ".join(grp) + (" " + why.split()[-1] if "secret" in why or "OID" in why else "")))
                elif pt is None:
                    out.append(("entry DN not a DN", m.dn, ""))
                elif rt not in snap:
                    out.append(("entry that does not exist", m.dn, ""))
                elif not under(rt, p.search_base_r):
                    out.append(("entry outside search_base", m.dn, classify(p, rt, snap)))
                elif not p.visible_dn(rt, snap):
                    out.append(("invisible entry returned", m.dn, classify(p, rt, snap)))
                else:
                    notes = []
                    translate(p, q.filt, notes)
                    if notes:
                        out.append(("entry selected by a hidden value", "%s: %s" % (notes[0], m.dn), notes[0].split(",")[0]))
                    else:
                        out.append(("entry the request does not select", "%s (the same request to the directory does not return it)" % m.dn, classify(p, rt, snap)))
                continue
            if p.vt and pt != p.to_virtual(rt):
                out.append(("entry DN not mapped to the virtual tree", m.dn, ""))
            d = allowed[rt]
            dmap = {}
            for name, vals in d.attrs.items():
                dmap.setdefault((SCHEMA.c(name), opts_of(name)), []).extend(vals)
            se = snap.get(rt)
            self.check_attrs(q, m, d, dmap, se, requested, all_user, out)

    def check_attrs(self, q, m, d, dmap, se, requested, all_user, out):
        p = self.p
        plus = "+" in q.attrs
        named = {SCHEMA.c(p.amap.get(r, r)) for r in requested}
        for name, vals in m.attrs.items():
            nb = base_of(name)
            if SCHEMA.is_secret(name):
                out.append(("secret attribute returned", "%s on %s" % (name, m.dn), nb))
                continue
            if not p.attr_allowed(name):
                out.append(("attribute the profile does not allow", "%s on %s" % (name, m.dn), nb))
                continue
            real = p.amap.get(nb, nb)
            rc = SCHEMA.c(real)
            oper = rc in SCHEMA.oper and nb not in p.amap   # AD names (whenChanged) are user attributes in AD
            # was it asked for?  by name (any options, alias or OID), "*" / no list for user
            # attributes and computed ones, "+" for operational ones
            if nb in p.vattrs:
                asked = nb in requested or all_user
            else:
                asked = (nb in requested or rc in named or (all_user and not oper) or (plus and oper)
                         or (rc, opts_of(name)) in dmap)
            if not asked:
                if all_user and oper and not plus:
                    out.append(("operational attribute returned for \"*\"", "%s on %s (RFC 4511: \"*\" is the user "
                                "attributes; the same request to the directory does not return it)" % (name, m.dn), nb))
                else:
                    out.append(("attribute not asked for", "%s on %s" % (name, m.dn), nb))
                continue
            if nb in p.vattrs:
                continue       # computed: no directory value to compare with
            # the directory's values: its answer to the same request, else the entry as it is
            dv = dmap.get((rc, opts_of(name))) or (se.attrs.get(rc) if se is not None else None)
            if not dv:
                if nb in p.defaults and se is not None and rc not in se.attrs:
                    tmpl, when = p.defaults[nb]
                    exp = expand(tmpl, se)
                    if exp is None or any(x != exp for x in vals):
                        out.append(("value not in the directory", "default %s=%r on %s (template %r)" % (name, vals[:2], m.dn, tmpl), nb))
                    continue
                if not vals:
                    continue
                out.append(("attribute not in the directory", "%s on %s" % (name, m.dn), nb))
                continue
            if q.typesonly:
                continue
            if p.visible is not None and (rc in p.vis_dn_attrs or rc == "memberuid"):
                for x in vals:
                    if rc == "memberuid":
                        xt = ((("uid", x.decode("utf-8", "replace").lower()),),) + p.user_bases_r[0] if p.user_bases_r else None
                    else:
                        xt = dn_parse(x)
                        xt = p.to_real(xt) if xt is not None else None
                    if xt is not None and not p.visible_dn(xt, SNAP):
                        out.append(("DN value names an invisible entry", "%s: %s on %s" % (name, x.decode("utf-8", "replace"), m.dn),
                                    "%s=<%s>" % (rc, classify(p, xt, SNAP))))
                        break
            if p.is_dn_attr(real):
                # mapped to the virtual tree (dn_attributes) or passed as they are
                have = {dn_parse(x) for x in dv} | {p.to_virtual(dn_parse(x)) for x in dv}
                for x in vals:
                    xt = dn_parse(x)
                    if xt not in have:
                        out.append(("value not in the directory", "%s: %r on %s" % (name, x[:80], m.dn), nb))
                        break
                    if p.groups_only and rc == "memberof" and not under(p.to_real(xt), p.groups_base):
                        out.append(("memberOf not cleaned (groups_only)", "%s on %s" % (x.decode("utf-8", "replace"), m.dn), ""))
                        break
            elif rc == "objectclass":
                have = {x.lower() for x in dv}
                for x in vals:
                    xl = x.lower()
                    if xl in have:
                        continue
                    vc = p.ocmap.get(xl.decode("utf-8", "replace"))
                    if vc and vc.encode() in have:
                        continue
                    out.append(("value not in the directory", "objectClass %r on %s" % (x, m.dn), "objectclass"))
                    break
            else:
                have = set(dv)
                for x in vals:
                    if x not in have:
                        out.append(("value not in the directory", "%s: %r on %s" % (name, x[:80], m.dn), nb))
                        break


def _norm_matched(s):
    t = dn_parse(s or "")
    return dn_str(t) if t is not None else (s or "").lower()


# ------------------------------------------------------------------ connections

class Link:
    """A pipelining LDAP connection (ldapwire) bound as dn."""

    def __init__(self, url, dn, pw):
        self.url, self.dn, self.pw = url, dn, pw
        self.open()

    def open(self):
        self.closed = False
        self.c = W.Conn(self.url, timeout=TIMEOUT)
        m = self.c.bind(self.dn, self.pw)
        if m.code != 0:
            raise RuntimeError("bind as %s on %s: %s" % (self.dn, self.url, m))

    def reopen(self):
        self.c.close()
        self.open()

    def msgid(self):
        return self.c.msgid()

    def send(self, data):
        try:
            self.c.send(data)
        except OSError:
            self.closed = True      # what the peer sent before closing is still read by collect()

    def collect(self, want, timeout=TIMEOUT):
        """{msgid: [Msg...]} until each of want has its result; state ok | closed | timeout | bad-response."""
        got = {i: [] for i in want}
        left = set(want)
        deadline = time.monotonic() + timeout
        nod = None
        while left:
            try:
                m = self.c.recv(max(0.001, deadline - time.monotonic()))
            except socket.timeout:
                return got, "timeout", left, nod
            except (W.Closed, ConnectionResetError, BrokenPipeError, OSError):
                self.closed = True
                return got, "closed", left, nod
            except (W.BerError, UnicodeDecodeError, IndexError, ValueError) as ex:
                return got, "bad-response:%s" % ex, left, nod
            if m.msgid == 0 and m.tag == W.EXT_RES and m.name == NOD:
                nod = m
                continue
            if m.msgid in got:
                got[m.msgid].append(m)
                if m.tag in W.RESULT_TAGS:
                    left.discard(m.msgid)
        return got, "ok", left, nod


# ------------------------------------------------------------------ the run

class Runner:
    def __init__(self, seed, snap, users):
        self.seed, self.snap, self.users = seed, snap, users
        self.viol = []          # dicts
        self.counts = {}
        self.direct = Link(E["SLAPD_URL"], E["PROXY_BIND_DN"], E["PROXY_BIND_PW"])
        self.proxy_ops = self.direct_ops = 0
        self.stats = {}
        self.crashed = []       # crash signatures seen this run: not sent again
        self.mlink = None       # (profile, Link) for malformed requests
        self.last_codes = {}    # request index -> refused by aldproxy itself (last batch)
        self.count = 0          # requests run

    def record(self, p, q, kind, detail, sub, extra=None):
        self.viol.append({"profile": p.name, "index": q.idx if q else -1, "kind": kind, "detail": detail, "group": sub,
                          "request": q.human() if q else "", "extra": extra or ""})

    def run_profile(self, p, n, only=None, start=0, pinpoint=()):
        gen = Gen(p, self.seed, self.snap, self.users)
        chk = Checker(p, self.snap, self.stats)
        if p.sa_hashed or not p.sa:
            log("# %s: no service account the directory verifies; skipped" % p.name)
            return 0
        batch = int(E.get("DIFF_BATCH", "24"))
        reqs = []
        last = n if only is None else only + 1
        if pinpoint:
            self.pinpoint(p, [q for q in (gen.request(i) for i in range(max(pinpoint) + 1)) if q.idx in pinpoint])
            gen = Gen(p, self.seed, self.snap, self.users)
        link = self.front(p)
        done = 0
        self.prev_batch = []
        for i in range(last):
            q = gen.request(i)
            if (only is not None and i != only) or i < start:
                continue
            reqs.append(q)
            if len(reqs) >= batch or i == last - 1:
                link = self.run_batch(p, chk, link, reqs, verbose=only is not None)
                done += len(reqs)
                self.prev_batch = [x.idx for x in reqs]
                reqs = []
        link.c.close()
        return done

    def front(self, p):
        """The connection the requests under test go to: aldproxy bound as the
        profile's service account — or, for the oracle's self-test
        (DIFF_SELFTEST=1), the directory itself as aldproxy's identity, which
        applies no profile at all, so the oracle must object."""
        if SELFTEST:
            return Link(E["SLAPD_URL"], E["PROXY_BIND_DN"], E["PROXY_BIND_PW"])
        return Link(E["PROXY_URL"], p.sa, sa_password(p.name))

    def directory_alive(self):
        """A base search of the rootDSE on the direct connection (reconnecting once)."""
        for _ in range(2):
            try:
                mid = self.direct.msgid()
                self.direct.send(W.search_req(mid, "", W.f_present("objectClass"), ["1.1"], W.SCOPE_BASE))
                g, st, _, _ = self.direct.collect({mid}, timeout=5)
                if st == "ok":
                    return True
            except OSError:
                pass
            try:
                self.direct.reopen()
            except (OSError, W.Closed, W.BerError, RuntimeError):
                return False
        return False

    def pinpoint(self, p, suspects):
        """After a directory crash during a batch: the batch's requests through
        aldproxy one at a time, the directory's life checked after each."""
        for q in suspects:
            if q.raw is not None:
                continue
            one = self.front(p)
            mid = one.msgid()
            one.send(q.encode(mid))
            g, st, _, _ = one.collect({mid})
            one.c.close()
            time.sleep(0.3)
            self.direct.c.close()
            if not self.directory_alive():
                self.record(p, q, "the directory crashed", "after this request through aldproxy (forwarded as it is)",
                            crash_sig(q) or "", _answer(g.get(mid, [])) if st == "ok" else st)
                raise DirectoryDown(p, None, [])
        self.record(p, suspects[0] if suspects else None, "the directory crashed",
                    "during a batch of requests %s; no single one crashes it again" % [q.idx for q in suspects], "", "")

    def run_batch(self, p, chk, link, reqs, verbose=False):
        """Pipelines the well-formed requests of reqs (and their missing-sibling
        twins) on link and their real forms on the direct connection, then checks
        each; malformed ones go one by one on connections of their own."""
        if link.closed:
            link.c.close()
            link.open()
        self.count += sum(1 for q in reqs if q.mode != "isolated")
        plan = []
        isolated = []
        for q in reqs:
            if q.raw is not None:
                continue
            sig = crash_sig(q) if q.mode != "isolated" else None
            if sig is not None and SELFTEST:
                continue
            if sig is not None:
                isolated.append((q, sig))
                continue
            v = Verdict(p, q, self.snap)
            tb = None
            if v.base_t is not None and q.base != b"":
                rb = p.to_real(v.base_t)
                if rb in self.snap and (not under(v.base_t, p.search_base_v) or not p.visible_dn(rb, self.snap)):
                    tb = _sibling(v.base_t)
            dq = self.direct_request(p, q, v) if v.direct else None
            plan.append({"q": q, "v": v, "twin_base": tb, "dq": dq})
        # through aldproxy
        pstate, pgot, pleft = "ok", {}, set()
        if plan:
            for x in plan:
                x["pid"] = link.msgid()
                x["tid"] = link.msgid() if x["twin_base"] is not None else None
            want = {x["pid"] for x in plan} | {x["tid"] for x in plan if x["tid"] is not None}
            self.proxy_ops += len(want)
            try:
                for x in plan:
                    link.send(x["q"].encode(x["pid"]))
                    if x["tid"] is not None:
                        link.send(x["q"].encode(x["tid"], base=b(dn_str(x["twin_base"]))))
            except OSError:
                pstate, pleft = "closed", set(want)
            if pstate == "ok":
                pgot, pstate, pleft, _ = link.collect(want)
        # straight to the directory
        dgot, dleft = {}, set()
        dplan = [x for x in plan if x["dq"] is not None]
        if dplan:
            dstate = "ok"
            for x in dplan:
                x["did"] = self.direct.msgid()
                try:
                    self.direct.send(x["dq"].encode(x["did"], controls=[]))
                except OSError:
                    dstate = "closed"
            self.direct_ops += len(dplan)
            if dstate == "ok":
                dgot, dstate, dleft, _ = self.direct.collect({x["did"] for x in dplan})
            else:
                dleft = {x["did"] for x in dplan}
            if dstate != "ok":
                # the directory dropped the connection: no oracle for what it left unanswered
                self.stats["direct connection lost"] = self.stats.get("direct connection lost", 0) + 1
                first = [x for x in dplan if x["did"] in dleft][:1]
                if first and E.get("DIFF_DEBUG"):
                    log("DEBUG direct %s, first unanswered: %s" % (dstate, first[0]["dq"].human()))
                if not self.directory_alive():
                    raise DirectoryDown(p, max(q.idx for q in reqs) + 1, self.prev_batch + [q.idx for q in reqs])
                self.direct.reopen()
        states = {}
        if pstate != "ok":
            # which request was it? the unanswered ones again, one by one, each on a fresh connection
            link.c.close()
            link.open()
            for x in plan:
                if x["pid"] not in pleft and x["tid"] not in pleft:
                    continue
                one = self.front(p)
                mid = one.msgid()
                try:
                    one.send(x["q"].encode(mid))
                    g, st, _, nod = one.collect({mid})
                except OSError:
                    g, st, nod = {mid: []}, "closed", None
                pgot[x["pid"]] = g[mid]
                states[x["pid"]] = st if st != "closed" else ("closed-nod" if nod is not None else "closed")
                if x["tid"] is not None and st == "ok":
                    tid = one.msgid()
                    one.send(x["q"].encode(tid, base=b(dn_str(x["twin_base"]))))
                    g2, st2, _, _ = one.collect({tid})
                    pgot[x["tid"]] = g2[tid] if st2 == "ok" else []
                one.c.close()
        for x in plan:
            q, v = x["q"], x["v"]
            st = states.get(x["pid"], "ok")
            if st.startswith("bad-response"):
                st = "bad-response"
            pm = pgot.get(x["pid"], [])
            if st == "ok" and (not pm or pm[-1].tag != W.SEARCH_DONE):
                st = "closed"
            if st == "ok":
                pm = self.follow_pages(p, link, q, pm)
            dm = None
            if x["dq"] is not None:
                if x["did"] in dleft:
                    continue   # no oracle for this one
                dm = dgot.get(x["did"], [])
            twin = None
            if x["tid"] is not None:
                tm = pgot.get(x["tid"], [])
                twin = (tm, "ok" if tm and tm[-1].tag == W.SEARCH_DONE else "lost")
            found = []
            # refused by aldproxy itself (its diagnostics start "aldproxy:"), main request and twin
            own = lambda ms: bool(ms) and ms[-1].code not in (0, None) and (ms[-1].diag or "").startswith("aldproxy:")  # noqa: E731
            self.last_codes[q.idx] = own(pm) if st == "ok" else False
            if x["tid"] is not None:
                self.last_codes[q.idx] = self.last_codes[q.idx] and own(pgot.get(x["tid"], []))
            chk.check(q, v, (pm, st), dm, twin, found)
            for kind, detail, sub in found:
                self.record(p, q, kind, detail, sub, _answer(pm) if st == "ok" else st)
            if verbose:
                log("request %s:%d  %s" % (p.name, q.idx, q.human()))
                log("  verdict: reasons=%s codes=%s direct=%s" % (v.reasons, sorted(v.codes), v.direct))
                if x["dq"] is not None:
                    log("  direct:  %s" % x["dq"].human())
                    log("  directory answer: %s" % _answer(dm or []))
                log("  proxy answer (%s): %s" % (st, _answer(pm) if st == "ok" else pm))
                for m in (pm if st == "ok" else []):
                    if m.tag == W.SEARCH_ENTRY:
                        log("    %s %s" % (m.dn, sorted(m.attrs)))
                if x["tid"] is not None:
                    log("  missing sibling %s: %s" % (dn_str(x["twin_base"]), _answer(pgot.get(x["tid"], []))))
                log("  violations: %s" % (found or "none"))
        for q in reqs:
            if q.raw is not None and not SELFTEST:
                self.run_malformed(p, q, verbose)
        for q, sig in isolated:
            link = self.run_isolated(p, chk, link, q, sig, reqs, verbose)
        return link

    def run_isolated(self, p, chk, link, q, sig, reqs, verbose):
        """A request known to crash this directory: sent alone, until one has
        crashed it this run; the directory's life checked after it."""
        if sig in self.crashed:
            self.stats["skipped: known to crash the directory"] = self.stats.get("skipped: known to crash the directory", 0) + 1
            return link
        self.last_codes = {}
        down = False
        try:
            link = self.run_batch(p, chk, link, [_plain(q)], verbose)
        except DirectoryDown:
            down = True
        if not down and self.last_codes.get(q.idx):
            return link         # refused by aldproxy: the directory never saw it
        time.sleep(0.05)     # the heap corruption may abort the server a moment later
        if not self.directory_alive():
            self.crashed.append(sig)
            self.record(p, q, "the directory crashed", "after this request through aldproxy (%s, forwarded as it is)" % sig, sig, "")
            raise DirectoryDown(p, max(x.idx for x in reqs) + 1, [])
        return link

    def follow_pages(self, p, link, q, pm):
        """All pages of a paged search (at most 40), as one message list."""
        pc = [c for c in q.controls if c[0] == PAGED]
        if not pc or pm[-1].code != 0:
            return pm
        out = list(pm)
        size = 10
        try:
            t, s, e = W.dec_tlv(pc[0][2])
            size = W.dec_int(pc[0][2], *W.dec_children(pc[0][2], s, e)[0][1:])
        except Exception:
            pass
        for _ in range(40):
            ck = out[-1].paged_cookie()
            if not ck:
                return out
            ctls = [(o, c, v) if o != PAGED else (o, c, W.seq(W.integer(size), W.octets(ck))) for o, c, v in q.controls]
            mid = link.msgid()
            link.send(q.encode(mid, controls=ctls))
            g, st, _, _ = link.collect({mid})
            if st != "ok" or not g[mid]:
                if st == "timeout":
                    self.record(p, q, "hang", "a later page unanswered within %ds" % TIMEOUT, "paged", "")
                return out
            out = out[:-1] + g[mid]
            self.proxy_ops += 1
        ck = out[-1].paged_cookie()
        if ck:
            mid = link.msgid()
            ctls = [(o, c, v) if o != PAGED else (o, c, W.seq(W.integer(0), W.octets(ck))) for o, c, v in q.controls]
            link.send(q.encode(mid, controls=ctls))
            link.collect({mid})
        return out

    def direct_request(self, p, q, v):
        d = Req()
        d.idx, d.raw, d.raw_desc, d.mode = q.idx, None, None, "direct"
        if p.vt and v.base_t is not None:
            rb = p.to_real(v.base_t)
            d.base = b(dn_str(rb)) if rb != v.base_t else q.base
        else:
            d.base = q.base
        d.scope, d.deref, d.size, d.typesonly = q.scope, 0, 0, q.typesonly
        d.filt = translate(p, q.filt)[0]
        d.attrs = direct_attrs(p, q.attrs)
        d.controls = []
        return d

    def run_malformed(self, p, q, verbose):
        # a connection of its own, kept while aldproxy keeps it open
        if self.mlink is None or self.mlink[0] != p.name:
            if self.mlink is not None:
                self.mlink[1].c.close()
            self.mlink = (p.name, self.front(p))
        one = self.mlink[1]
        mid = one.msgid()
        one.send(q.encode(mid))
        g, st, left, nod = one.collect({mid})
        self.proxy_ops += 1
        msgs = g.get(mid, [])
        found = []
        if st == "timeout":
            found.append(("hang", "malformed request unanswered within %ds" % TIMEOUT, "malformed"))
        elif st == "closed" and nod is None:
            found.append(("connection closed", "malformed BER, without a Notice of Disconnection", "malformed"))
        elif st.startswith("bad-response"):
            found.append(("malformed response", st, ""))
        elif st == "ok":
            ents = [m for m in msgs if m.tag == W.SEARCH_ENTRY]
            if ents or msgs[-1].code == 0:
                found.append(("malformed request accepted", "%s: code %s, %d entries" % (q.raw_desc, msgs[-1].code, len(ents)), q.raw_desc))
        for kind, detail, sub in found:
            self.record(p, q, kind, detail, sub, st)
        if verbose:
            log("request %s:%d  %s" % (p.name, q.idx, q.human()))
            log("  proxy: %s %s nod=%s  violations: %s" % (st, _answer(msgs) if st == "ok" else "", nod is not None, found or "none"))
        if st != "ok" or nod is not None:
            one.c.close()
            self.mlink = None


class DirectoryDown(Exception):
    def __init__(self, p, next_index, suspects):
        super().__init__("the directory is down")
        self.p, self.next_index, self.suspects = p, next_index, suspects


# Requests that crash a directory outright (found by this test): 389-ds 2.3.1
# dies (heap corruption: "free(): invalid next size", "corrupted size vs.
# prev_size") on an ordering match on an attribute of OID or DN syntax, such as
# (objectClass>=x), (member>=DN) or (memberOf<=DN), sent by any bound user.
ORDERLESS_SYNTAXES = {"1.3.6.1.4.1.1466.115.121.1.38": "OID", "1.3.6.1.4.1.1466.115.121.1.12": "DN"}


def orderless(a):
    """The syntax name of an attribute 389-ds cannot order (OID, DN), or None."""
    if a is None or not attrdesc_valid(a):
        return None
    return ORDERLESS_SYNTAXES.get(SCHEMA.syntax.get(SCHEMA.c(a)))


def crash_sig(q):
    if q.raw is not None or KIND != "389ds":
        return None
    for a, n in f_attrs(q.filt, []):
        if n[0] in ("ge", "le") and orderless(a):
            return "ordering match (>=, <=) on a %s-syntax attribute" % orderless(a)
    return None


def _plain(q):
    """q without its crash marker (run by run_isolated through run_batch)."""
    c = Req()
    for k in Req.__slots__:
        setattr(c, k, getattr(q, k))
    c.mode = "isolated"
    return c


def _sibling(t):
    """A missing sibling of DN tuple t: the same type, another value."""
    if not t:
        return None
    rdn = t[0]
    return (((rdn[0][0], "zz-missing-entry"),),) + t[1:]


def _answer(msgs):
    if not msgs:
        return "nothing"
    last = msgs[-1]
    if last == "nod":
        return "Notice of Disconnection"
    ents = [m for m in msgs if not isinstance(m, str) and m.tag == W.SEARCH_ENTRY]
    return "code %s matched %r diag %r, %d entries%s" % (
        getattr(last, "code", None), getattr(last, "matched", None), (getattr(last, "diag", "") or "")[:120],
        len(ents), (": " + "; ".join(m.dn for m in ents[:4]) + (" ..." if len(ents) > 4 else "")) if ents else "")


def main_run():
    seed = E.get("DIFF_SEED")
    if not seed:
        die("DIFF_SEED is not set")
    total = int(E.get("DIFF_REQUESTS", "4000"))
    users = int(E.get("DIFF_USERS", "40"))
    c = ldap3_conn(E["SLAPD_URL"], E["PROXY_BIND_DN"], E["PROXY_BIND_PW"])
    read_schema(c)
    snap = snapshot(c)
    SNAP.update(snap)
    c.unbind()
    profiles = load_profiles()
    for p in profiles:
        p.finish()
    only = None
    if E.get("DIFF_ONLY"):
        name, idx = E["DIFF_ONLY"].rsplit(":", 1)
        profiles = [p for p in profiles if p.name == name]
        if not profiles:
            die("DIFF_ONLY: no installed profile %s" % name)
        only = int(idx)
    per = max(1, total // max(1, len(profiles)))
    extra = total - per * len(profiles) if total > per * len(profiles) else 0
    r = Runner(seed, snap, users)
    # resuming after the directory was restarted (exit status 4, test_policy_differential.sh)
    state_file = E.get("DIFF_STATE")
    st = {"profile": 0, "next": 0, "suspects": [], "n": 0, "elapsed": 0.0}
    if state_file and os.path.exists(state_file):
        st = json.load(open(state_file, encoding="utf-8"))
        r.viol, r.stats, r.crashed = st["viol"], st["stats"], st["crashed"]
        r.proxy_ops, r.direct_ops, r.count = st["proxy_ops"], st["direct_ops"], st["n"]
        log("# resuming at %s request %d after a restart of the directory" % (profiles[st["profile"]].name, st["next"]))
    t0 = time.monotonic()
    n = st["n"]
    for k, p in enumerate(profiles):
        if k < st["profile"]:
            continue
        t1 = time.monotonic()
        count = per + (1 if k < extra else 0)
        try:
            cnt = r.run_profile(p, count, only, start=st["next"] if k == st["profile"] else 0,
                                pinpoint=st["suspects"] if k == st["profile"] else ())
        except DirectoryDown as dd:
            nxt = dd.next_index if dd.next_index is not None else st["next"]
            log("# %s: the directory died (requests up to %d); exit 4 to have it restarted" % (p.name, nxt - 1))
            if not state_file:
                report(r.viol, seed)
                die("the directory died and DIFF_STATE is not set: cannot resume")
            json.dump({"profile": k, "next": nxt, "suspects": dd.suspects, "viol": r.viol, "stats": r.stats,
                       "crashed": r.crashed, "proxy_ops": r.proxy_ops, "direct_ops": r.direct_ops,
                       "n": r.count,
                       "elapsed": st["elapsed"] + time.monotonic() - t0},
                      open(state_file, "w", encoding="utf-8"))
            return 4
        n += cnt
        st["suspects"] = []
        nv = sum(1 for x in r.viol if x["profile"] == p.name)
        log("# %-24s %5d requests %6.2fs  %d violation(s)" % (p.name, cnt, time.monotonic() - t1, nv))
    el = st["elapsed"] + time.monotonic() - t0
    if state_file and os.path.exists(state_file):
        os.unlink(state_file)
    log("differential: seed %s, %s, %d profiles, %d requests (%d through aldproxy incl. pages and "
        "missing-sibling twins, %d to the directory) in %.1fs" % (
            seed, KIND, len(profiles), r.count, r.proxy_ops, r.direct_ops, el))
    log("# answers: " + ", ".join("%s %d" % kv for kv in sorted(r.stats.items())))
    if SELFTEST:
        kinds = sorted({x["kind"] for x in r.viol})
        log("# self-test: the directory's own answers give %d violation(s) of %d kinds: %s" % (len(r.viol), len(kinds), "; ".join(kinds)))
        need = [k for k in E.get("DIFF_SELFTEST_EXPECT", "").split(",") if k]
        missing = [k for k in need if k not in kinds]
        if missing:
            log("not ok - the oracle's self-test: no %s although the directory applies no profile" % missing)
            return 1
        log("ok - the oracle objects to the directory's unfiltered answers (%s)" % ", ".join(need))
        return 0
    report(r.viol, seed)
    return 3 if r.viol else 0


def report(viol, seed):
    if E.get("DIFF_REPORT"):
        with open(E["DIFF_REPORT"], "w", encoding="utf-8") as f:
            json.dump(viol, f, indent=1, ensure_ascii=False)
    if not viol:
        log("ok - no violation: every answer through aldproxy stayed inside the oracle's")
        return
    groups = {}
    for x in viol:
        groups.setdefault((x["kind"], x["group"]), []).append(x)
    log("not ok - %d violation(s) in %d group(s) (seed %s, %s):" % (len(viol), len(groups), seed, KIND))
    back = E.get("RIG_BACKEND", "slapd")
    for (kind, sub), xs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        profs = sorted({x["profile"] for x in xs})
        x = xs[0]
        log("")
        log("[%s]%s — %d time(s), %d profile(s): %s" % (kind, " " + sub if sub else "", len(xs), len(profs),
                                                       ", ".join(profs[:8]) + (" ..." if len(profs) > 8 else "")))
        log("  e.g. %s #%d: %s" % (x["profile"], x["index"], x["detail"]))
        log("  request: %s" % x["request"])
        log("  aldproxy: %s" % x["extra"])
        log("  replay:  DIFF_SEED=%s DIFF_ONLY=%s:%d RIG_BACKEND=%s bash tests/integration/test_policy_differential.sh"
            % (seed, x["profile"], x["index"], back))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("setup", "run"):
        die("usage: differential.py setup|run")
    if sys.argv[1] == "setup":
        setup()
    else:
        sys.exit(main_run())
