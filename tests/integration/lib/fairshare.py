#!/usr/bin/env python3
"""fairshare.py — operations in flight per identity and per source address,
and the slots reserved for aldproxy's own lookups (test_fair_share.sh).

The directory sits behind lib/faultrelay.py; in mode `hold` it takes the
searches and answers none, so what aldproxy has in flight stays put and
`aldproxyctl stats` (operations_in_flight) shows it.

    fairshare.py caps      limits.max_ops_per_identity 8, max_ops_per_address 12:
        the service account pipelines 10 searches on each of two connections
        (127.0.0.1): 8 in flight; alice (127.0.0.1) 10: 4 (her address has
        12); bob from 127.0.0.2: 8.  Released, every client gets every answer.
    fairshare.py reserve   one shared connection, max_ops_per_connection 32
        (2 reserved): 100 pipelined searches fill the rest; alice's bind on a
        profile with a login group needs a group check: it waits in a reserved
        slot instead of failing, and succeeds when the directory answers.
"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

URL = w.env("PROXY_URL")
USERS = w.env("USERS_DN")
SVC, SVCPW = w.env("SVC_DN"), w.env("SVC_PW")
MODE = w.env("RELAY_MODE")
CTL = [w.env("ALDPROXYCTL"), "-s", w.env("RIG_DIR") + "/control.sock"]


def fail(msg):
    print("FAIL (fairshare.py): " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print("ok - " + msg, flush=True)


def set_mode(m):
    with open(MODE + ".new", "w") as f:
        f.write(m + "\n")
    os.rename(MODE + ".new", MODE)
    time.sleep(0.2)


def in_flight():
    return json.loads(subprocess.check_output(CTL + ["stats"]))["operations_in_flight"]


def settle(want, what):
    """operations_in_flight reaches want and stays there."""
    deadline, last = time.monotonic() + 5, None
    while time.monotonic() < deadline:
        last = in_flight()
        if last == want:
            time.sleep(0.5)
            last = in_flight()
            if last == want:
                return
        time.sleep(0.1)
    fail("%s: %s operations in flight, expected %d" % (what, last, want))


def conn(dn, pw, source=None):
    c = w.Conn(URL, timeout=15, source=source)
    m = c.bind(dn, pw)
    check(m.code == 0, "bind as %s from %s: %r" % (dn, source or "127.0.0.1", m))
    return c


def pipeline(c, n):
    ids = []
    for _ in range(n):
        mid = c.msgid()
        c.send(w.search_req(mid, USERS, w.f_eq("uid", "user%04d" % (mid % 50 + 1)), ["uid"]))
        ids.append(mid)
    return ids


def answers(c, ids):
    """Every search's result: code 0 and its one entry."""
    left, entries = set(ids), 0
    while left:
        m = c.recv(15)
        if m.tag == w.SEARCH_ENTRY:
            entries += 1
        elif m.msgid in left:
            check(m.code == 0, "search %d: %r" % (m.msgid, m))
            left.discard(m.msgid)
    check(entries == len(ids), "%d entries for %d searches" % (entries, len(ids)))


def caps():
    s1, s2 = conn(SVC, SVCPW), conn(SVC, SVCPW)
    alice = conn("uid=alice," + USERS, "Secret123")
    bob = conn("uid=bob," + USERS, "Secret123", source="127.0.0.2")
    set_mode("hold")
    work = [(s1, pipeline(s1, 10)), (s2, pipeline(s2, 10))]
    settle(8, "the service account, 20 searches on two connections")
    ok("one identity, 20 pipelined searches on two connections: 8 in flight (max_ops_per_identity)")
    work.append((alice, pipeline(alice, 10)))
    settle(12, "alice on the service account's address")
    ok("another identity from the same address: 4 more, 12 in flight (max_ops_per_address)")
    work.append((bob, pipeline(bob, 10)))
    settle(20, "bob from 127.0.0.2")
    ok("another identity from another address: 8 more (its own identity cap), 20 in flight")
    t0 = time.monotonic()
    set_mode("pass")
    for c, ids in work:
        answers(c, ids)
    ok("released: all 40 searches answered, each with its entry, in %.2f s" % (time.monotonic() - t0))
    for c, _ in work:
        c.close()


def reserve():
    svc = conn(SVC, SVCPW)
    set_mode("hold")
    ids = pipeline(svc, 100)
    settle(30, "100 pipelined searches on one shared connection of 32 slots")
    ok("100 pipelined searches: 30 in flight, 2 slots of 32 reserved")
    a = w.Conn(URL, timeout=15)
    mid = a.msgid()
    a.send(w.bind_req(mid, "uid=alice," + USERS, "Secret123"))
    try:
        m = a.recv(2)
        fail("alice's bind answered while the directory holds the group check: %r" % m)
    except socket.timeout:
        pass
    ok("alice's bind (login group check) waits in a reserved slot instead of failing")
    set_mode("pass")
    m = a.recv(15)
    check(m.msgid == mid and m.code == 0, "alice's bind after the directory answered: %r" % m)
    answers(svc, ids)
    ok("released: alice's bind succeeded; all 100 searches answered")
    a.close()
    svc.close()


{"caps": caps, "reserve": reserve}[sys.argv[1]]()
