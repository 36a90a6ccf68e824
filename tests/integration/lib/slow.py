#!/usr/bin/env python3
"""slow.py — clients that never read must not hold up anyone else.

Run by test_slow_reader.sh with limits.max_client_output = 256k.
  1. SLOW (20) clients, small receive buffers, bind and send 5 searches for
     every user with all attributes each, then never read;
  2. meanwhile a normal client runs 200 searches for uid=alice on one
     connection, plus 20 on fresh connections: each must answer in < 2 s,
     all of them in < 30 s;
  3. the proxy cuts the slow clients off: its log shows "cut off" for each
     within 10 s, and reading their sockets afterwards ends in EOF/reset well
     before the full results (which they did not get).
"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

URL = w.env("PROXY_URL")
USERS = w.env("USERS_DN")
SVC, SVCPW = w.env("SVC_DN"), w.env("SVC_PW")
LOG = w.env("PROXY_LOG")
SLOW = int(os.environ.get("SLOW_CLIENTS", "20"))


def fail(msg):
    print("FAIL (slow.py): " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print("ok - " + msg, flush=True)


def cut_off_conns():
    with open(LOG, errors="replace") as f:
        return set(re.findall(r"conn=(\d+) peer=\S+: cut off", f.read()))


before = cut_off_conns()
ALL = w.f_eq("objectClass", "person")

# ---- 1: the slow clients
slow = []
t_slow = time.monotonic()
for i in range(SLOW):
    c = w.Conn(URL, timeout=10, rcvbuf=4096)
    m = c.bind(SVC, SVCPW)
    check(m.code == 0, "slow client %d bind: %r" % (i, m))
    c.send(b"".join(w.search_req(c.msgid(), USERS, ALL, ["*", "+"]) for _ in range(5)))
    slow.append(c)
ok("%d slow clients sent 5 all-users searches each and stopped reading" % SLOW)

# ---- 2: a normal client meanwhile
lat = []
t0 = time.monotonic()
n = w.Conn(URL, timeout=10)
m = n.bind(SVC, SVCPW)
check(m.code == 0, "normal client bind: %r" % m)
for i in range(200):
    s = time.monotonic()
    try:
        es, d = n.search(USERS, w.f_eq("uid", "alice"), ["uid", "mail"], timeout=5)
    except socket.timeout:
        fail("normal search %d: no answer within 5 s while slow clients are stuck" % i)
    dt = time.monotonic() - s
    lat.append(dt)
    check(d.code == 0 and len(es) == 1 and es[0].dn.lower().startswith("uid=alice,"),
          "normal search %d: %r %r" % (i, es, d))
    # the first one may queue behind the slow clients' searches that the directory
    # is still answering when it arrives (more so under the sanitizer build)
    check(dt < (4.0 if i == 0 else 2.0), "normal search %d took %.2f s" % (i, dt))
n.close()
for i in range(20):
    s = time.monotonic()
    f = w.Conn(URL, timeout=5)
    m = f.bind(SVC, SVCPW, timeout=5)
    check(m.code == 0, "fresh client %d bind: %r" % (i, m))
    es, d = f.search(USERS, w.f_eq("uid", "bob"), ["uid"], timeout=5)
    check(d.code == 0 and len(es) == 1, "fresh client %d: %r" % (i, d))
    check(time.monotonic() - s < 2.0, "fresh client %d took %.2f s" % (i, time.monotonic() - s))
    f.close()
total = time.monotonic() - t0
lat.sort()
check(total < 30, "the normal client's 220 searches took %.1f s" % total)
ok("normal client: 200 searches, median %.4f s, p99 %.3f s, max %.3f s; 20 fresh connections; total %.1f s"
   % (lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1], total))

# ---- 3: the slow clients were cut off
deadline = t_slow + 10
while True:
    cut = cut_off_conns() - before
    if len(cut) >= SLOW or time.monotonic() > deadline:
        break
    time.sleep(0.2)
check(len(cut) >= SLOW, "only %d of %d slow clients were cut off within 10 s (log: 'cut off')" % (len(cut), SLOW))
full = None
got = []
for i, c in enumerate(slow):
    c.sock.settimeout(5)
    data = bytearray()
    end = None
    t = time.monotonic()
    try:
        while time.monotonic() - t < 15:
            b = c.sock.recv(1 << 20)
            if not b:
                end = "EOF"
                break
            data += b
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = None
    check(end is not None, "slow client %d: socket still open 15 s after the cut (%d bytes read)" % (i, len(data)))
    got.append((len(data), end, w.OID_NOTICE_OF_DISCONNECTION.encode() in data[-300:]))
    c.close()
# what a full answer would have been
f = w.Conn(URL, timeout=30)
f.bind(SVC, SVCPW)
mid = f.msgid()
f.send(w.search_req(mid, USERS, ALL, ["*", "+"]))
size1 = 0
while True:
    m = f.recv(30)
    size1 += len(m.raw)
    if m.tag == w.SEARCH_DONE:
        break
f.close()
full = 5 * size1
check(all(g[0] < full for g in got), "a slow client read its full results (%d of %d bytes)" % (max(g[0] for g in got), full))
nod = sum(1 for g in got if g[2])
ok("%d slow clients cut off within 10 s; each read at most %d KB of %d KB, then %s; %d saw a Notice of Disconnection"
   % (len(cut), max(g[0] for g in got) // 1024, full // 1024, "/".join(sorted(set(g[1] for g in got))), nod))
