#!/usr/bin/env python3
"""hostile.py PART — hostile clients against aldproxyd (tests/integration/test_hostile_clients.sh).

Each PART runs against a proxy configured for it by the shell script:
  prebind     limits.max_unbound_pdu_size 64k, unbound_timeout 2 s
  peraddress  limits.max_connections_per_address 5
  account     limits.account_failures_delay 2
  address     limits.address_failures_block 8, address_block_time 60
  budget      limits.max_binds_per_second 20
  flood       defaults: 200 searches before a bind on one connection
  output      limits.max_total_output 8m: 10 clients ask 3 times for every user and never read
Prints "ok - ..." lines; exits non-zero with the reason on the first failure.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

URL = w.env("PROXY_URL")
SVC_DN, SVC_PW = w.env("SVC_DN"), w.env("SVC_PW")
USERS = w.env("USERS_DN")
NOTICE = "1.3.6.1.4.1.1466.20036"


def ok(msg):
    print("ok - " + msg, flush=True)


def fail(msg):
    sys.exit("FAIL (hostile.py): " + msg)


def big_search(mid, size):
    # a filter value of `size` bytes: one request of about that size
    return w.search_req(mid, USERS, w.f_eq("description", "x" * size), ["uid"])


def notice_of(msgs):
    for m in msgs:
        if m.msgid == 0 and m.name == NOTICE:
            return m
    return None


def prebind():
    # before a bind, a 100 KiB request is over limits.max_unbound_pdu_size (64k): cut off with a notice
    c = w.Conn(URL)
    c.send(big_search(1, 100 * 1024))
    msgs = c.read_until_eof(10)
    n = notice_of(msgs)
    if n is None or n.code != 2 or "max_unbound_pdu_size" not in n.diag:
        fail("a 100 KiB request before a bind: expected a Notice of Disconnection (2) naming "
             "limits.max_unbound_pdu_size, got %r" % msgs)
    ok("a 100 KiB request before a bind is refused: %s" % n.diag)
    # after a bind the same request is read and answered
    c = w.Conn(URL)
    m = c.bind(SVC_DN, SVC_PW)
    if m.code != 0:
        fail("service bind: %r" % m)
    es, d = c.search(USERS, w.f_eq("description", "x" * (100 * 1024)), ["uid"])
    if d.code != 0:
        fail("a 100 KiB search after a bind: %r" % d)
    ok("after a bind the same 100 KiB request is answered (result %d)" % d.code)
    # trickling a byte at a time does not keep an unbound connection open past unbound_timeout (2 s)
    t = w.Conn(URL)
    req = w.search_req(1, "", w.f_present("objectClass"), ["1.1"], scope=0)
    t0 = time.monotonic()
    closed = None
    for i in range(40):
        try:
            t.send(req[i % len(req):i % len(req) + 1] if i < len(req) - 1 else b"")
        except OSError:
            closed = time.monotonic() - t0
            break
        try:
            msgs = t.read_until_eof(0.5)
            closed = time.monotonic() - t0
            n = notice_of(msgs)
            if n is None or "unbound_timeout" not in n.diag:
                fail("the trickling connection closed without a notice naming limits.unbound_timeout: %r" % msgs)
            break
        except socket.timeout:
            pass
    if closed is None:
        fail("a connection trickling bytes without a bind stayed open 20 s (unbound_timeout is 2 s)")
    ok("a connection trickling one byte every 0.5 s without a bind is closed after %.1f s "
       "(limits.unbound_timeout 2 s), with a Notice of Disconnection" % closed)
    # a bound connection stays
    time.sleep(2.5)
    es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"])
    if d.code != 0 or len(es) != 1:
        fail("the bound connection after 2.5 s: %r" % d)
    ok("a bound connection outlives limits.unbound_timeout")


def peraddress():
    conns = []
    for i in range(5):
        c = w.Conn(URL)
        if c.bind(SVC_DN, SVC_PW).code != 0:
            fail("connection %d could not bind" % i)
        conns.append(c)
    extra = w.Conn(URL)
    try:
        m = extra.bind(SVC_DN, SVC_PW, timeout=5)
        fail("a 6th connection from the address was served: %r" % m)
    except (w.Closed, ConnectionResetError, BrokenPipeError):
        pass
    ok("with limits.max_connections_per_address 5 the 6th connection from 127.0.0.1 is closed at once")
    conns.pop().close()
    time.sleep(0.3)
    again = w.Conn(URL)
    if again.bind(SVC_DN, SVC_PW).code != 0:
        fail("after one closed, a new connection was refused")
    ok("once one closes, a new connection is accepted")


def timed_bind(dn, pw):
    c = w.Conn(URL, timeout=30)
    t0 = time.monotonic()
    m = c.bind(dn, pw)
    c.close()
    return m, time.monotonic() - t0


def account():
    bob = "uid=bob," + USERS
    times = []
    for i in range(6):
        m, t = timed_bind(bob, "wrong-%d" % i)
        if m.code != 49:
            fail("wrong password %d for bob: %r" % (i, m))
        times.append(t)
    # failures 1-2 are free; then 0.1 s, 0.2 s, 0.4 s ... before the next bind of that account
    if times[3] < 0.09 or times[5] < 0.35:
        fail("binds of an account after failures were not slowed: %s" % ["%.2f" % t for t in times])
    ok("wrong passwords for bob slow his next binds: %s s" % " ".join("%.2f" % t for t in times))
    m, t = timed_bind("uid=alice," + USERS, "Secret123")
    if m.code != 0 or t > 0.5:
        fail("alice's bind from the same address was slowed (%.2f s) or failed: %r" % (t, m))
    ok("another account from the same address is not slowed (%.2f s)" % t)
    m, t = timed_bind(bob, "Secret123")
    if m.code != 0:
        fail("bob's own password after the failures: %r (never a lockout)" % m)
    ok("bob's right password still works after %.2f s: slowed, never locked out" % t)


def address():
    for i in range(8):
        m, _ = timed_bind("uid=user%04d,%s" % (i, USERS), "wrong")
        if m.code != 49:
            fail("wrong bind %d: %r" % (i, m))
    m, _ = timed_bind("uid=alice," + USERS, "Secret123")
    if m.code != 53 or "too many failed binds" not in (m.diag or ""):
        fail("after 8 failed binds the address should be refused binds (53): %r" % m)
    ok("after limits.address_failures_block (8) failures, binds from 127.0.0.1 are refused: %s" % m.diag)


def budget():
    n = 60
    t0 = time.monotonic()
    conns = [w.Conn(URL, timeout=30) for _ in range(n)]
    for c in conns:
        c.send(w.bind_req(1, SVC_DN, SVC_PW))
    for c in conns:
        m = c.recv(30)
        if m.code != 0:
            fail("a bind under the budget failed: %r" % m)
    t = time.monotonic() - t0
    # 20 binds a second, a burst of 20: 60 binds need about 2 s
    if t < 1.5:
        fail("60 binds took %.2f s: limits.max_binds_per_second 20 was not applied" % t)
    ok("60 simultaneous binds with limits.max_binds_per_second 20 all succeed, spread over %.1f s" % t)


def flood():
    c = w.Conn(URL)
    data = b"".join(w.search_req(i + 1, USERS, w.f_present("objectClass"), ["1.1"]) for i in range(200))
    c.send(data)
    got = 0
    while got < 200:
        m = c.recv(10)
        if m.tag == 0x65:
            if m.code != 50:
                fail("a search before a bind: %r" % m)
            got += 1
    c.close()
    ok("200 searches before a bind, each refused with 50")


def output():
    slow = []
    for i in range(10):
        c = w.Conn(URL, timeout=10, rcvbuf=4096)
        if c.bind(SVC_DN, SVC_PW).code != 0:
            fail("slow client %d bind" % i)
        # ~6.5 MB each; what the kernel's socket buffers do not take stays in aldproxyd
        c.send(b"".join(w.search_req(2 + k, USERS, w.f_present("objectClass"), ["*", "+"]) for k in range(3)))
        slow.append(c)
    # meanwhile a normal client logs in and searches
    t0 = time.monotonic()
    n = w.Conn(URL, timeout=10)
    if n.bind(SVC_DN, SVC_PW).code != 0:
        fail("normal client bind")
    lat = []
    for i in range(50):
        s = time.monotonic()
        es, d = n.search(USERS, w.f_eq("uid", "alice"), ["uid"], timeout=5)
        if d.code != 0 or len(es) != 1:
            fail("normal search %d: %r" % (i, d))
        lat.append(time.monotonic() - s)
    lat.sort()
    ok("a normal client meanwhile: 50 searches, median %.4f s, max %.3f s" % (lat[len(lat) // 2], lat[-1]))
    # the non-readers are cut off one by one, largest first
    # (a cut-off client's socket is full: the notice may not reach it, the EOF does)
    cut = 0
    for c in slow:
        try:
            msgs = c.read_until_eof(5)      # a cut-off client gets its buffered bytes, then EOF
            if sum(1 for m in msgs if m.tag == 0x65) < 3:
                cut += 1
        except socket.timeout:
            pass
    if cut < 3:
        fail("only %d of 10 non-reading clients were cut off" % cut)
    ok("%d of 10 non-reading clients cut off before their results were complete" % cut)


{"flood": flood, "output": output, "prebind": prebind, "peraddress": peraddress, "account": account, "address": address,
 "budget": budget}[sys.argv[1]]()
