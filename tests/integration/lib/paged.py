#!/usr/bin/env python3
"""paged.py — RFC 2696 paged results through aldproxy with python3-ldap3.

Run by test_paged.sh under the rig (environment: PROXY_URL, SLAPD_URL, ...).
Checks:
  1. a paged search (size 100) of every user returns the same DNs as slapd,
     in several pages;
  2. two clients paging at once, page requests interleaved, both complete;
     and two paged searches interleaved on ONE connection;
  3. as many concurrent paged searches as backend.paged_pool_size, at most
     half of them by one account (one more takes back its own oldest idle
     lease); with the pool full an idle lease of another account is not
     taken back, and a new search is busy (51) until one of them finishes;
  4. abandoning a paged search (size 0 + cookie) ends it and frees its
     connection: repeated more times than the pool is large, and a new
     paged search afterwards works.
Exits non-zero with a message on the first failure.
"""
import os
import sys
import time

from ldap3 import Server, Connection, SUBTREE, NONE

E = os.environ
USERS = E["USERS_DN"]
POOL = int(E.get("RIG_PAGED_POOL_SIZE", "4"))
FILTER = "(objectClass=person)"


def fail(msg):
    print("FAIL (paged.py): " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print("ok - " + msg, flush=True)


def proxy_conn():
    s = Server(E["PROXY_URL"], get_info=NONE, connect_timeout=5)
    c = Connection(s, user=E["SVC_DN"], password=E["SVC_PW"], receive_timeout=20)
    check(c.bind(), "service account bind through the proxy: %r" % c.result)
    return c


def user_conn(uid):
    s = Server(E["PROXY_URL"], get_info=NONE, connect_timeout=5)
    c = Connection(s, user="uid=%s,%s" % (uid, USERS), password="Secret123", receive_timeout=20)
    check(c.bind(), "%s's bind through the proxy: %r" % (uid, c.result))
    return c


def direct_conn():
    s = Server(E["SLAPD_URL"], get_info=NONE, connect_timeout=5)
    c = Connection(s, user=E["PROXY_BIND_DN"], password=E["PROXY_BIND_PW"], receive_timeout=20)
    check(c.bind(), "bind to slapd: %r" % c.result)
    return c


def page(c, size, cookie, filt=FILTER, base=USERS):
    """One page: (dns, next cookie, result code)."""
    c.search(base, filt, SUBTREE, attributes=["1.1"], paged_size=size, paged_cookie=cookie)
    dns = [r["dn"] for r in c.response or [] if r["type"] == "searchResEntry"]
    ctl = (c.result.get("controls") or {}).get("1.2.840.113556.1.4.319")
    nxt = ctl["value"]["cookie"] if ctl else None
    return dns, nxt, c.result["result"]


def paged_all(c, size=100, filt=FILTER):
    dns, pages, cookie = [], 0, None
    while True:
        d, cookie, code = page(c, size, cookie, filt)
        check(code == 0, "paged search page %d: result %r" % (pages + 1, c.result))
        check(cookie is not None, "page %d: no paged results control in the response" % (pages + 1))
        check(len(d) <= size, "page %d has %d entries, more than the page size %d" % (pages + 1, len(d), size))
        dns += d
        pages += 1
        if not cookie:
            return dns, pages
        check(pages < 10000, "paging never ends")


def norm(dns):
    return sorted(d.lower() for d in dns)


# ---------------------------------------------------------------- 1
d = direct_conn()
d.search(USERS, FILTER, SUBTREE, attributes=["1.1"])
check(d.result["result"] == 0, "direct search: %r" % d.result)
want = norm(r["dn"] for r in d.response if r["type"] == "searchResEntry")
check(len(want) >= 1000, "slapd has only %d users" % len(want))
want_uid = norm(r["dn"] for r in (d.search(USERS, "(uid=user*)", SUBTREE, attributes=["1.1"]) and d.response)
                if r["type"] == "searchResEntry")
d.unbind()

c = proxy_conn()
got, pages = paged_all(c, 100)
check(len(got) == len(set(x.lower() for x in got)), "duplicate DNs in the paged result")
check(norm(got) == want, "paged DNs differ from slapd's: %d vs %d" % (len(got), len(want)))
check(pages >= 10, "only %d pages for %d entries of page size 100" % (pages, len(got)))
# ldap3's own paged generator agrees
gen = list(c.extend.standard.paged_search(USERS, FILTER, SUBTREE, attributes=["1.1"], paged_size=250,
                                          generator=True))
check(norm(r["dn"] for r in gen if r["type"] == "searchResEntry") == want, "paged_search generator differs")
c.unbind()
ok("paged search: %d users in %d pages of 100, identical to slapd" % (len(got), pages))

# ---------------------------------------------------------------- 2
a, b = proxy_conn(), proxy_conn()
state = {"a": [a, None, [], 0, False, FILTER, 100], "b": [b, None, [], 0, False, "(uid=user*)", 70]}
while not (state["a"][4] and state["b"][4]):
    for k in ("a", "b"):
        st = state[k]
        if st[4]:
            continue
        dns, cookie, code = page(st[0], st[6], st[1], st[5])
        check(code == 0, "interleaved client %s page %d: %r" % (k, st[3] + 1, st[0].result))
        st[2] += dns
        st[3] += 1
        st[1] = cookie
        st[4] = not cookie
check(norm(state["a"][2]) == want, "interleaved client a: %d DNs, expected %d" % (len(state["a"][2]), len(want)))
check(norm(state["b"][2]) == want_uid, "interleaved client b: %d DNs, expected %d" % (len(state["b"][2]), len(want_uid)))
check(state["a"][3] >= 10 and state["b"][3] >= 10, "interleaving too short")
a.unbind()
b.unbind()
ok("two clients paging interleaved: %d and %d DNs, both complete" % (len(state["a"][2]), len(state["b"][2])))

# two paged searches interleaved on one connection
c = proxy_conn()
ca = cb = None
ga, gb = [], []
done_a = done_b = False
while not (done_a and done_b):
    if not done_a:
        dns, ca, code = page(c, 100, ca)
        check(code == 0, "same-connection search A: %r" % c.result)
        ga += dns
        done_a = not ca
    if not done_b:
        dns, cb, code = page(c, 90, cb, "(uid=user*)")
        check(code == 0, "same-connection search B: %r" % c.result)
        gb += dns
        done_b = not cb
check(norm(ga) == want and norm(gb) == want_uid, "two paged searches on one connection: %d/%d, %d/%d" %
      (len(ga), len(want), len(gb), len(want_uid)))
c.unbind()
ok("two paged searches interleaved on one connection")

# ---------------------------------------------------------------- 3
# The pool is shared by identity: one account holds at most half of it (its
# next search takes back its own oldest idle lease: the same product dropped
# that cookie), and another account's idle lease is not taken before minutes.
HALF = max(1, POOL // 2)
svc = [proxy_conn() for _ in range(HALF + 1)]
cookies = []
for i in range(HALF):
    dns, cookie, code = page(svc[i], 10, None)
    check(code == 0 and cookie, "concurrent paged search %d: %r" % (i, svc[i].result))
    cookies.append(cookie)
dns, cookie, code = page(svc[HALF], 10, None)
check(code == 0 and cookie, "paged search %d of one account (its share is %d): expected its oldest lease "
      "taken back, got %r" % (HALF + 1, HALF, svc[HALF].result))
dns, c0, code = page(svc[0], 10, cookies[0])
check(code == 53 and "unknown or expired paged results cookie" in (svc[0].result.get("message") or ""),
      "the next page of the account's oldest search: expected unwillingToPerform (53), got %r" % svc[0].result)
cookies[0] = cookie
svc[0], svc[HALF] = svc[HALF], svc[0]
users = [user_conn("alice") for _ in range(POOL - HALF)]
for i in range(POOL - HALF):
    dns, cookie, code = page(users[i], 10, None)
    check(code == 0 and cookie, "alice's concurrent paged search %d: %r" % (i, users[i].result))
# the pool is full, every lease idle for over a second; bob is a third account
time.sleep(1.5)
bob = user_conn("bob")
dns, cookie, code = page(bob, 10, None)
check(code == 51, "bob's paged search with the pool full: expected busy (51), got %r" % bob.result)
# the others still continue: no lease was taken from another account
for i in range(HALF):
    dns, cookies[i], code = page(svc[i], 10, cookies[i])
    check(code == 0 and cookies[i], "page 2 of the service account's search %d: %r" % (i, svc[i].result))
# one finishes by closing its connection: its lease is freed
svc[0].unbind()
deadline = time.monotonic() + 5
while True:
    dns, cookie, code = page(bob, 10, None)
    if code == 0:
        break
    check(time.monotonic() < deadline, "lease not freed after a client closed: %r" % bob.result)
    time.sleep(0.1)
for x in svc[1:] + users + [bob]:
    x.unbind()
ok("%d concurrent paged searches, at most %d per account (its own oldest idle lease taken back); "
   "no idle lease taken by another account; busy (51) until a lease frees" % (POOL, HALF))

# ---------------------------------------------------------------- 4
c = proxy_conn()
for i in range(POOL * 2 + 1):
    dns, cookie, code = page(c, 100, None)
    check(code == 0 and cookie and len(dns) == 100, "abandon round %d, page 1: %r" % (i, c.result))
    dns, cookie, code = page(c, 100, cookie)
    check(code == 0 and cookie and len(dns) == 100, "abandon round %d, page 2: %r" % (i, c.result))
    # RFC 2696: size 0 with the cookie abandons the paged search
    dns, cookie2, code = page(c, 0, cookie)
    check(code == 0, "abandon round %d, size 0: %r" % (i, c.result))
    check(not dns, "abandon round %d: size 0 returned %d entries" % (i, len(dns)))
    check(not cookie2, "abandon round %d: size 0 left a cookie" % i)
    # the old cookie is dead now
    dns, cookie3, code = page(c, 100, cookie)
    check(code != 0, "abandon round %d: the abandoned cookie still works" % i)
# after all that, a complete paged search works on the same connection
got, pages = paged_all(c, 100)
check(norm(got) == want, "paged search after abandons: %d DNs" % len(got))
c.unbind()
# and clients can still take every paged connection (half each for two accounts)
conns = [proxy_conn() for _ in range(HALF)] + [user_conn("alice") for _ in range(POOL - HALF)]
for i, x in enumerate(conns):
    dns, cookie, code = page(x, 10, None)
    check(code == 0 and cookie, "after abandons, concurrent paged search %d: %r" % (i, x.result))
for x in conns:
    x.unbind()
ok("%d paged searches abandoned with size 0; no lease leaked; paging works afterwards" % (POOL * 2 + 1))
