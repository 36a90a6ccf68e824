#!/usr/bin/env python3
"""abandon.py — AbandonRequest through aldproxy (raw sockets, lib/ldapwire.py).

1. bind; in ONE write: a search for every user with all attributes
   (msgid 2), an Abandon of it (msgid 3), a search for uid=alice (msgid 4):
   alice's entry and a Done(0) arrive, no Done for the abandoned search.
2. the same, but the Abandon is sent only after the first entries arrived
   (the search is streaming): the connection stays usable, alice is found.
3. abandoning a paged search in flight frees its paged connection: done more
   times than backend.paged_pool_size, then a complete paged search works.
4. abandoning unknown / finished message IDs: no response, nothing breaks.
5. many clients abandoning big searches at once while others search.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

URL = w.env("PROXY_URL")
USERS = w.env("USERS_DN")
SVC, SVCPW = w.env("SVC_DN"), w.env("SVC_PW")
POOL = int(os.environ.get("RIG_PAGED_POOL_SIZE", "4"))
ALICE = ("uid=alice," + USERS).lower()
ALL = w.f_eq("objectClass", "person")


def fail(msg):
    print("FAIL (abandon.py): " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def bound(dn=SVC, pw=SVCPW):
    c = w.Conn(URL, timeout=15)
    m = c.bind(dn, pw)
    check(m.code == 0, "bind as %s: %r" % (dn, m))
    return c


def read_until_alice(c, mid, abandoned):
    """Reads to the Done of mid; returns (alice entries, done, msgs of abandoned)."""
    got, other = [], []
    while True:
        m = c.recv(15)
        if m.msgid == mid:
            if m.tag == w.SEARCH_ENTRY:
                got.append(m)
            elif m.tag == w.SEARCH_DONE:
                return got, m, other
            else:
                fail("unexpected response 0x%02x for msgid %d" % (m.tag, mid))
        elif m.msgid == abandoned:
            other.append(m)
        else:
            fail("response for a messageID never sent: %r" % m)


# ---- 1
c = bound()
c.send(w.search_req(2, USERS, ALL, ["*", "+"]) + w.abandon_req(3, 2) +
       w.search_req(4, USERS, w.f_eq("uid", "alice"), ["uid", "mail"]))
got, done, other = read_until_alice(c, 4, 2)
check(done.code == 0, "search after abandon: %r" % done)
check(len(got) == 1 and got[0].dn.lower() == ALICE, "search after abandon returned %r" % got)
check(not [m for m in other if m.tag == w.SEARCH_DONE], "the abandoned search was answered with a Done")
# the connection is still fine, msgid 2 may be reused now
es, d = c.search(USERS, w.f_eq("uid", "bob"), ["uid"])
check(d.code == 0 and len(es) == 1, "next search: %r %r" % (es, d))
c.close()
print("ok - search + abandon + search in one write: alice found, %d stray messages of the abandoned search"
      % len(other))

# ---- 2
c = bound()
c.send(w.search_req(2, USERS, ALL, ["*", "+"]))
first = c.recv(15)
check(first.msgid == 2 and first.tag == w.SEARCH_ENTRY, "first message of the big search: %r" % first)
c.send(w.abandon_req(3, 2) + w.search_req(4, USERS, w.f_eq("uid", "alice"), ["uid"]))
got, done, other = read_until_alice(c, 4, 2)
check(done.code == 0 and len(got) == 1 and got[0].dn.lower() == ALICE, "alice after a streaming abandon: %r %r"
      % (got, done))
es, d = c.search(USERS, w.f_eq("uid", "carol"), ["uid"])
check(d.code == 0 and len(es) == 1, "search after a streaming abandon: %r" % d)
c.close()
print("ok - abandon of a streaming search: connection usable (%d more messages of it arrived)" % len(other))

# ---- 3
c = bound()
for i in range(POOL * 2 + 1):
    a = c.msgid()
    b = c.msgid()
    c.send(w.search_req(a, USERS, ALL, ["*"], controls=[w.paged_control(500)]) + w.abandon_req(b, a))
    # a probe on the same connection proves the abandon was processed
    es, d = c.search(USERS, w.f_eq("uid", "dave"), ["uid"])
    check(d.code == 0 and len(es) == 1, "probe after paged abandon %d: %r" % (i, d))
# every paged connection is free again: POOL fresh paged searches at once, by
# two other accounts (each may hold half the pool, and neither may take a
# lease the service account still held)
conns = [bound("uid=%s,%s" % ("alice" if k % 2 else "bob", USERS), "Secret123") for k in range(POOL)]
for k, x in enumerate(conns):
    es, d = x.search(USERS, ALL, ["1.1"], controls=[w.paged_control(10)])
    check(d.code == 0 and len(es) == 10 and d.paged_cookie(), "paged search %d after abandons: %r" % (k, d))
for x in conns:
    x.close()
# and a complete paged walk on the abandoning connection
n, cookie = 0, b""
while True:
    es, d = c.search(USERS, ALL, ["1.1"], controls=[w.paged_control(300, cookie)])
    check(d.code == 0, "paged walk after abandons: %r" % d)
    n += len(es)
    cookie = d.paged_cookie()
    if not cookie:
        break
check(n >= 1000, "paged walk after abandons: %d entries" % n)
c.close()
print("ok - %d abandoned paged searches freed their connections; paging works after" % (POOL * 2 + 1))

# ---- 4
c = bound()
c.next_id = 5
c.send(w.abandon_req(2, 12345) + w.abandon_req(3, 1) + w.abandon_req(4, 4))
es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"])
check(d.msgid == 5 and d.code == 0 and len(es) == 1, "search after stray abandons: %r" % d)
c.close()
print("ok - abandons of unknown, finished and own IDs get no response")

# ---- 5
errors = []


def abandoner(n):
    try:
        x = bound()
        for r in range(5):
            a, b, s = x.msgid(), x.msgid(), x.msgid()
            x.send(w.search_req(a, USERS, ALL, ["*", "+"]) + w.abandon_req(b, a) +
                   w.search_req(s, USERS, w.f_eq("uid", "user%04d" % (n * 5 + r + 1)), ["uid"]))
            while True:
                m = x.recv(15)
                if m.msgid == s and m.tag == w.SEARCH_DONE:
                    if m.code != 0:
                        raise AssertionError("search after abandon: %r" % m)
                    break
                if m.msgid not in (a, s):
                    raise AssertionError("stray msgid %r" % m)
        x.close()
    except Exception as e:  # noqa: BLE001
        errors.append("abandoner %d: %s" % (n, e))


ts = [threading.Thread(target=abandoner, args=(n,)) for n in range(30)]
for t in ts:
    t.start()
for t in ts:
    t.join(60)
check(not errors, "; ".join(errors[:5]))
print("ok - 30 clients x 5 search/abandon/search rounds at once")
