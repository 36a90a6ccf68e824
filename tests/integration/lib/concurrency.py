#!/usr/bin/env python3
"""concurrency.py — many clients, each pipelining searches through aldproxy.

Usage: concurrency.py [CLIENTS [SEARCHES]]   (defaults 200 and 20)

Every client (a thread with a raw socket, lib/ldapwire.py) connects, binds as
the service account, waits for the others (a barrier), then sends SEARCHES
search requests for distinct users (uid=userNNNN) in one write, with distinct
message IDs (sequential for half the clients, random up to 2^31-1 for the
other half), and only then reads.  Asserted per client: every response
carries a messageID that was sent; each search gets exactly one entry, the
right user (DN and mail), then SearchResultDone with resultCode 0; nothing
arrives after a search's Done; no search is missing or answered twice.
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SEARCHES = int(sys.argv[2]) if len(sys.argv) > 2 else 20
NUSERS = int(os.environ.get("RIG_USERS", "1000"))
URL = w.env("PROXY_URL")
USERS = w.env("USERS_DN")
SVC, SVCPW = w.env("SVC_DN"), w.env("SVC_PW")

barrier = threading.Barrier(CLIENTS, timeout=60)
errors = []
stats = {"searches": 0, "entries": 0}
lock = threading.Lock()


def client(n):
    rnd = random.Random(n)
    c = None
    try:
        c = w.Conn(URL, timeout=30)
        m = c.bind(SVC, SVCPW)
        if m.code != 0:
            raise AssertionError("bind: %r" % m)
        barrier.wait()
        if n % 2:
            ids = rnd.sample(range(3 + SEARCHES, 2 ** 31), SEARCHES)
        else:
            ids = list(range(2, 2 + SEARCHES))
        c.next_id = 2 + SEARCHES        # the trailing search's ID is not among them
        want = {}
        reqs = []
        for k, mid in enumerate(ids):
            u = "user%04d" % ((n * SEARCHES + k) % NUSERS + 1)
            want[mid] = u
            reqs.append(w.search_req(mid, USERS, w.f_eq("uid", u), ["uid", "mail"]))
        c.send(b"".join(reqs))          # pipelined: all requests before any read
        entries = {mid: [] for mid in ids}
        done = {}
        while len(done) < len(ids):
            m = c.recv(30)
            if m.msgid not in want:
                raise AssertionError("response with messageID %d that was never sent: %r" % (m.msgid, m))
            if m.msgid in done:
                raise AssertionError("messageID %d answered after its SearchResultDone: %r" % (m.msgid, m))
            if m.tag == w.SEARCH_ENTRY:
                entries[m.msgid].append(m)
            elif m.tag == w.SEARCH_DONE:
                done[m.msgid] = m
            else:
                raise AssertionError("unexpected response tag 0x%02x for msgid %d" % (m.tag, m.msgid))
        for mid, u in want.items():
            d = done[mid]
            if d.code != 0:
                raise AssertionError("search %s (msgid %d): result %d %s" % (u, mid, d.code, d.diag))
            es = entries[mid]
            if len(es) != 1:
                raise AssertionError("search %s (msgid %d): %d entries" % (u, mid, len(es)))
            dn = es[0].dn.lower()
            if dn != ("uid=%s,%s" % (u, USERS)).lower():
                raise AssertionError("search %s (msgid %d) got entry %s" % (u, mid, es[0].dn))
            if es[0].attrs.get("mail") != [("%s@ald.test" % u).encode()]:
                raise AssertionError("search %s (msgid %d): mail %r" % (u, mid, es[0].attrs.get("mail")))
        # nothing extra queued behind: a final search on the same connection answers cleanly
        es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"])
        if d.code != 0 or len(es) != 1 or not es[0].dn.lower().startswith("uid=alice,"):
            raise AssertionError("trailing search: %r %r" % (es, d))
        c.send(w.unbind_req(c.msgid()))
        with lock:
            stats["searches"] += len(ids) + 1
            stats["entries"] += len(ids) + 1
    except threading.BrokenBarrierError:
        with lock:
            errors.append("client %d: barrier broken (another client failed first?)" % n)
    except Exception as e:  # noqa: BLE001
        with lock:
            errors.append("client %d: %s: %s" % (n, type(e).__name__, e))
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
    finally:
        if c is not None:
            c.close()


t0 = time.monotonic()
threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join(90)
alive = [t for t in threads if t.is_alive()]
dt = time.monotonic() - t0
if alive:
    errors.append("%d client threads still running after 90 s" % len(alive))
if errors:
    print("FAIL (concurrency.py): %d client(s) failed; first ones:" % len(errors), file=sys.stderr)
    for e in sorted(errors)[:15]:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
expected = CLIENTS * (SEARCHES + 1)
if stats["searches"] != expected:
    print("FAIL (concurrency.py): %d searches checked, expected %d" % (stats["searches"], expected), file=sys.stderr)
    sys.exit(1)
print("ok - %d clients x %d pipelined searches: every response matched, none missing or duplicated (%.1f s)"
      % (CLIENTS, SEARCHES, dt))
