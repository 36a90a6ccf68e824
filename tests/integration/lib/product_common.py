"""product_common.py — shared by the lib/product_*.py helpers of the
test_product_*.sh tests: environment, checks, connections that behave like
a product's connector (ldap / StartTLS / ldaps with the rig CA), and direct
reads of the directory for the numbers a test compares with.

Run under the rig (rig.sh exports PROXY_URL, SLAPD_URL, CA_FILE, ...).
"""
import os
import re
import ssl
import sys

from ldap3 import Server, Connection, Tls, SUBTREE, BASE, NONE, SIMPLE
from ldap3.core.exceptions import LDAPException

E = os.environ
USERS = E["USERS_DN"]
GROUPS = E["GROUPS_DN"]
SUFFIX = E["BASE_DN"]
KIND = E.get("DIRECTORY_KIND", "slapd")
PW = "Secret123"
NAME = os.path.basename(sys.argv[0]).replace(".py", "")


def fail(msg):
    print("FAIL (%s): %s" % (NAME, msg), file=sys.stderr, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print("ok - " + msg, flush=True)


def udn(login):
    return "uid=%s,%s" % (login, USERS)


def gdn(name):
    return "cn=%s,%s" % (name, GROUPS)


def norm(dns):
    return sorted(d.lower() for d in dns)


def server(url):
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=E["CA_FILE"])
    return Server(url, get_info=NONE, tls=tls, connect_timeout=5,
                  use_ssl=url.startswith("ldaps://"))


def connect(url, starttls=False):
    """An open, unbound connection; StartTLS first when asked (certificate checked)."""
    c = Connection(server(url), receive_timeout=20, raise_exceptions=False)
    check(c.open() is None or not c.closed, "cannot connect to %s" % url)
    if starttls:
        check(c.start_tls(), "StartTLS on %s: %r" % (url, c.result))
        check(c.tls_started, "StartTLS did not start TLS on %s" % url)
    return c


def simple_bind(c, dn, pw, controls=None):
    """A simple bind of dn/pw on the open connection c (first bind or a
    rebind): (result code, diagnostic message)."""
    try:
        c.rebind(user=dn, password=pw, authentication=SIMPLE, controls=controls)
    except LDAPException:
        pass
    r = c.result or {}
    return r.get("result"), r.get("message", "")


def entries(c):
    return [r for r in (c.response or []) if r.get("type") == "searchResEntry"]


def search(c, base, filt, attrs=("1.1",), scope=SUBTREE, controls=None, paged_size=None,
           paged_cookie=None, paged_criticality=False):
    """One search: (entries, result dict)."""
    try:
        c.search(base, filt, scope, attributes=list(attrs), controls=controls,
                 paged_size=paged_size, paged_cookie=paged_cookie,
                 paged_criticality=paged_criticality)
    except LDAPException as e:
        fail("search %s under %s raised %r" % (filt, base, e))
    return entries(c), (c.result or {})


def paged_cookie_of(result):
    ctl = (result.get("controls") or {}).get("1.2.840.113556.1.4.319")
    return None if ctl is None else ctl["value"]["cookie"]


def paged_all(c, base, filt, attrs, size, critical=False, max_pages=10000):
    """Every page of a paged search: (entries, pages)."""
    got, cookie, pages = [], None, 0
    while True:
        es, r = search(c, base, filt, attrs, paged_size=size, paged_cookie=cookie,
                       paged_criticality=critical)
        check(r.get("result") == 0, "paged search %s page %d: %r" % (filt, pages + 1, r))
        check(len(es) <= size, "page %d has %d entries, page size %d" % (pages + 1, len(es), size))
        got += es
        pages += 1
        cookie = paged_cookie_of(r)
        check(cookie is not None, "page %d of %s came back without the paged results control"
              % (pages, filt))
        if not cookie:
            return got, pages
        check(pages < max_pages, "paging never ends")


def direct():
    """A connection straight to the directory as aldproxy's own identity."""
    c = Connection(Server(E["SLAPD_URL"], get_info=NONE, connect_timeout=5),
                   user=E["PROXY_BIND_DN"], password=E["PROXY_BIND_PW"], receive_timeout=20)
    check(c.bind(), "bind to the directory: %r" % c.result)
    return c


def direct_dns(filt, base=SUFFIX):
    d = direct()
    es, r = search(d, base, filt)
    check(r.get("result") == 0, "direct search %s: %r" % (filt, r))
    d.unbind()
    return norm(e["dn"] for e in es)


def direct_entry(dn, attrs=("*", "+")):
    d = direct()
    es, r = search(d, dn, "(objectClass=*)", attrs, scope=BASE)
    d.unbind()
    check(len(es) == 1, "direct read of %s: %r" % (dn, r))
    return es[0]


def attr(entry, name):
    """Values of an attribute in an ldap3 response entry, case-insensitively (raw bytes decoded)."""
    for k, v in (entry.get("raw_attributes") or {}).items():
        if k.lower() == name.lower():
            return [x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in v]
    return []


def raw(entry, name):
    for k, v in (entry.get("raw_attributes") or {}).items():
        if k.lower() == name.lower():
            return list(v)
    return []


def group_dn_kind(dn):
    """'group' for cn=...,cn=groups,cn=accounts,SUFFIX; else what it is."""
    d = dn.lower()
    if d.endswith("," + GROUPS.lower()):
        return "group"
    if ",cn=roles,cn=accounts," in d:
        return "role"
    if ",cn=hbac," in d:
        return "hbac"
    if ",cn=sudo," in d:
        return "sudo"
    return "other"


def real_groups_of(login):
    """The user's real groups (memberOf under the groups container) straight from the directory."""
    e = direct_entry(udn(login), ("memberOf",))
    return sorted(re.match(r"(?i)cn=([^,]+),", v).group(1).lower()
                  for v in attr(e, "memberOf") if group_dn_kind(v) == "group")


def escape_filter(value):
    """RFC 4515 escaping, as PHP ldap_escape(LDAP_ESCAPE_FILTER) and most connectors do."""
    out = []
    for ch in value:
        if ch in "\\*()\x00":
            out.append("\\%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


# ---- the product matrix (scripts/product-matrix.sh): the five standard cases
CASES = ("member_login_groups", "wrong_password", "locked_account", "unknown_user", "outside_groups")
LIBRARY = "python3-ldap3"


def case(name, detail="", result="ok", library=LIBRARY):
    """Record one of CASES for the product matrix, where its check has passed
    (a failed check exits first): a line in $PRODUCT_CASES_FILE, as
    tests/integration/lib/product.sh's prod_case writes it."""
    check(name in CASES, "case(): unknown case %r" % name)
    check(result in ("ok", "fail", "na"), "case(): result %r" % result)
    path = E.get("PRODUCT_CASES_FILE")
    if not path:
        return
    fields = [E.get("PRODUCT_NAME", "?"), library, KIND, name, result, detail]
    with open(path, "a", encoding="utf-8") as f:
        f.write("case\t" + "\t".join(str(x).replace("\t", " ").replace("\n", " ") for x in fields) + "\n")
