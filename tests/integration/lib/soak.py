#!/usr/bin/env python3
"""soak.py — a mixed load against aldproxyd for DURATION seconds, sampled.

Run under the rig (tests/integration/test_soak.sh, scripts/soak.sh); needs
PROXY_URL PROXY_LDAPS_URL CA_FILE PROXY_PID SVC_DN SVC_PW USERS_DN GROUPS_DN
in the environment, reads PROXY_LOG and, when ALDPROXYCTL is set, asks
$RIG_DIR/control.sock for the open client connections.

  soak.py [--duration S] [--sample S] [--out FILE] [--rate FACTOR]

The load (worker processes, so that one client's Python does not stall the
others' clocks; --rate scales every rate; about 280 operations/s at 1.0):
  small     4 connections bound once as the service account, 40 searches/s
            each for one user, (uid=userNNNN): exactly that entry.  Their
            latencies are the p50/p99/max of the table.
  bulk      one connection, service account: all users (uid), the users
            user01* (uid, mail), the groups subtree (cn), in turn, 0.7/s;
            each must return the count it returned before the load.
  paged     two connections (service account, alice) paging all users
            (paged_size 50/100/250): 60 % to the end (count checked),
            25 % dropped after one page keeping the connection (the cookie
            is just forgotten, as products do), 15 % dropped by unbinding.
  binds     2 threads x 10/s: a new connection binds as a random user with
            the right password and searches for itself; one thread, every
            6 s, a wrong password for a random user (49 expected: few, so
            that limits.address_failures_delay, 50 failures decaying with a
            one-minute half-life, is never reached: ~14 at this rate).
  churn     3 threads x 8/s: connect, bind (service account), search,
            unbind on a new connection each time: plain LDAP, ldaps://,
            and StartTLS.
  slow      every 30 s a client (4 KiB receive buffer) sends 10 searches for
            every user with all attributes and never reads: it must be cut
            off (EOF before its full results) within 30 s.
  hostile   every 5 s, in turn: garbage bytes, an absurd BER length, a
            request over max_unbound_pdu_size before a bind, one over
            max_pdu_size after a bind, half a PDU then close, a search
            before a bind (50 expected); each of the first four must be
            disconnected within 10 s.  Every 15 s a connection that sends
            nothing: closed by unbound_timeout (+10 s).
  reload    SIGHUP to PROXY_PID every 20 s; each must log "reload done".

Every SAMPLE seconds one row: elapsed s, VmRSS (KiB), open fds
(/proc/PID/fd), client connections open (aldproxyctl stats), the proxy's CPU
(% of one core), operations completed in the interval (successes and
expected refusals), unexpected errors, and p50/p99/max (ms) of the small
searches in the interval.  The table goes to stdout and FILE (markdown).

At the end (exit 1 and the reasons otherwise):
  - errors <= total operations / 100000 (rounded down: none in a short run,
    10 in a million).  Nothing in this load should fail; the allowance is
    for a lone client-side hiccup in an hour on a shared 2-core machine, and
    every error is listed anyway;
  - VmRSS growth from the sample at 20 % of the run to the last one
    <= max(8 MiB, 20 % of the 20 % sample).  The first 20 % is warm-up
    (malloc arenas, libevent buffers, TLS contexts, paged leases).  After it
    the working set is flat: a leak of 10 bytes per operation is ~8 MiB
    in an hour at this rate.  Not checked in an AddressSanitizer build,
    whose quarantine holds freed memory (LeakSanitizer checks at exit);
  - within 30 s of the load stopping, the fds are back to the baseline
    taken before the load + 2 (the directory pools are fixed in size: the
    margin is one directory connection being replaced meanwhile) and no
    client connection is open;
  - every SIGHUP logged "reload done", no reload failed, no sanitizer
    report in the log;
  - the proxy is alive and answers a new connection's bind and search.
"""
import argparse
import array
import json
import math
import multiprocessing as mp
import os
import queue
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

from ldap3 import Server, Connection, Tls, NONE, SUBTREE  # noqa: E402

E = os.environ
URL = w.env("PROXY_URL")
LDAPS_URL = E.get("PROXY_LDAPS_URL", "")
CA_FILE = E.get("CA_FILE", "")
PID = int(w.env("PROXY_PID"))
SVC, SVCPW = w.env("SVC_DN"), w.env("SVC_PW")
USERS = w.env("USERS_DN")
GROUPS = E.get("GROUPS_DN", "cn=groups,cn=accounts," + E.get("BASE_DN", "dc=ald,dc=test"))
NUSERS = int(E.get("RIG_USERS", "1000"))
LOG = E.get("PROXY_LOG", "")
CTL = E.get("ALDPROXYCTL", "")
CTL_SOCK = os.path.join(E["RIG_DIR"], "control.sock") if E.get("RIG_DIR") else ""
PW = "Secret123"
OP_TIMEOUT = 20          # client side; the rig's operation_timeout is 10 s


def size(v, default):
    v = (v or default).strip().lower()
    mult = {"k": 1024, "m": 1 << 20, "g": 1 << 30}.get(v[-1:], 1)
    return int(v.rstrip("kmg")) * mult


MAX_PDU = size(E.get("RIG_MAX_PDU"), "1m")
MAX_UNBOUND_PDU = size(E.get("RIG_MAX_UNBOUND_PDU"), "256k")
UNBOUND_TIMEOUT = float(E.get("RIG_UNBOUND_TIMEOUT", "60"))


def user_dn(n):
    return "uid=user%04d,%s" % (n, USERS)


# ------------------------------------------------------------------ records

class Rec:
    """One worker process's counters, flushed to the main process twice a second."""

    def __init__(self, q):
        self.q = q
        self.lock = threading.Lock()
        self._new()

    def _new(self):
        self.ops = {}
        self.errs = []
        self.lat = []

    def op(self, kind, n=1):
        with self.lock:
            self.ops[kind] = self.ops.get(kind, 0) + n

    def latency(self, ms):
        with self.lock:
            self.lat.append(ms)

    def err(self, kind, msg):
        with self.lock:
            self.errs.append((time.time(), kind, str(msg)[:400]))

    def flush(self):
        with self.lock:
            ops, errs, lat = self.ops, self.errs, self.lat
            self._new()
        if ops or errs or lat:
            self.q.put((ops, errs, lat))


class Pace:
    """rate per second, no bursts to catch up after a stall."""

    def __init__(self, rate, rnd):
        self.dt = 1.0 / rate
        self.next = time.monotonic() + rnd.random() * self.dt

    def wait(self, stop):
        now = time.monotonic()
        if self.next < now - 1.0:
            self.next = now
        d = self.next - now
        self.next += self.dt
        if d > 0:
            return not stop.wait(d)
        return not stop.is_set()


def desc(c):
    r = c.result or {}
    return "result %s %s: %s" % (r.get("result"), r.get("description"), r.get("message"))


def exc(e):
    return "%s: %s" % (type(e).__name__, e)


def server(kind="plain"):
    if kind == "ldaps":
        return Server(LDAPS_URL, use_ssl=True, get_info=NONE, connect_timeout=5,
                      tls=Tls(ca_certs_file=CA_FILE, validate=ssl.CERT_REQUIRED))
    if kind == "starttls":
        return Server(URL, get_info=NONE, connect_timeout=5,
                      tls=Tls(ca_certs_file=CA_FILE, validate=ssl.CERT_REQUIRED))
    return Server(URL, get_info=NONE, connect_timeout=5)


def connection(srv, dn, pw):
    return Connection(srv, user=dn, password=pw, receive_timeout=OP_TIMEOUT, auto_bind=False,
                      raise_exceptions=False, return_empty_attributes=False)


def entries(c):
    return [r for r in (c.response or []) if r.get("type") == "searchResEntry"]


def close(c):
    if c is None:
        return
    try:
        c.unbind()
    except Exception:  # noqa: BLE001
        pass


# ------------------------------------------------------------------ workers

def w_small(ctx, idx, rate):
    rec, stop, rnd = ctx["rec"], ctx["stop"], random.Random(1000 + idx)
    pace = Pace(rate, rnd)
    c = None
    while pace.wait(stop):
        n = rnd.randint(1, NUSERS)
        try:
            if c is None:
                c = connection(server(), SVC, SVCPW)
                if not c.bind():
                    rec.err("small-bind", desc(c))
                    close(c)
                    c = None
                    continue
                rec.op("bind")
            t0 = time.monotonic()
            c.search(USERS, "(uid=user%04d)" % n, SUBTREE, attributes=["uid", "mail"])
            dt = (time.monotonic() - t0) * 1000
            es = entries(c)
            if c.result.get("result") != 0 or len(es) != 1 or es[0]["dn"].lower() != user_dn(n).lower():
                rec.err("small-search", "uid=user%04d: %s, %d entries" % (n, desc(c), len(es)))
                if c.closed:
                    c = None
                continue
            rec.op("small-search")
            rec.latency(dt)
        except Exception as e:  # noqa: BLE001
            rec.err("small-search", exc(e))
            close(c)
            c = None
    close(c)


def w_bulk(ctx, rate):
    rec, stop, base = ctx["rec"], ctx["stop"], ctx["baseline"]
    pace = Pace(rate, random.Random(7))
    searches = [("bulk-users", USERS, "(objectClass=person)", ["uid"], "people"),
                ("bulk-user01", USERS, "(uid=user01*)", ["uid", "mail"], "user01"),
                ("bulk-groups", GROUPS, "(objectClass=*)", ["cn"], "groups")]
    c = None
    i = 0
    while pace.wait(stop):
        kind, b, f, attrs, key = searches[i % len(searches)]
        i += 1
        try:
            if c is None:
                c = connection(server(), SVC, SVCPW)
                if not c.bind():
                    rec.err("bulk-bind", desc(c))
                    close(c)
                    c = None
                    continue
                rec.op("bind")
            c.search(b, f, SUBTREE, attributes=attrs)
            n = len(entries(c))
            if c.result.get("result") != 0 or n != base[key]:
                rec.err(kind, "%s: %s, %d entries (expected %d)" % (f, desc(c), n, base[key]))
                if c.closed:
                    c = None
                continue
            rec.op(kind)
        except Exception as e:  # noqa: BLE001
            rec.err(kind, exc(e))
            close(c)
            c = None
    close(c)


PAGED_OID = "1.2.840.113556.1.4.319"


def w_paged(ctx, who):
    rec, stop, base = ctx["rec"], ctx["stop"], ctx["baseline"]
    rnd = random.Random(sum(map(ord, who)))
    if who == "svc":
        dn, pw, want = SVC, SVCPW, base["people"]
    else:
        dn, pw, want = "uid=%s,%s" % (who, USERS), PW, base["people_" + who]
    c = None
    while not stop.is_set():
        mode = rnd.choices(["full", "drop", "close"], [60, 25, 15])[0]
        psize = rnd.choice([50, 100, 250])
        pause = 0.3
        try:
            if c is None:
                c = connection(server(), dn, pw)
                if not c.bind():
                    rec.err("paged-bind", "%s: %s" % (who, desc(c)))
                    close(c)
                    c = None
                    stop.wait(1)
                    continue
                rec.op("bind")
            cookie, got, pages = None, 0, 0
            while True:
                c.search(USERS, "(objectClass=person)", SUBTREE, attributes=["1.1"], paged_size=psize,
                         paged_cookie=cookie)
                if c.result.get("result") != 0:
                    rec.err("paged", "%s page %d (size %d, %s): %s" % (who, pages + 1, psize, mode, desc(c)))
                    if c.closed:
                        c = None
                    break
                n = len(entries(c))
                ctl = (c.result.get("controls") or {}).get(PAGED_OID)
                cookie = ctl["value"]["cookie"] if ctl else None
                got += n
                pages += 1
                rec.op("paged-page")
                if ctl is None or n > psize:
                    rec.err("paged", "%s page %d: %d entries for size %d, control %r" % (who, pages, n, psize, ctl))
                    break
                if mode != "full":
                    if not cookie:
                        rec.err("paged", "%s: one page of %d held everything" % (who, psize))
                    elif mode == "close":
                        close(c)        # the lease goes with the connection
                        c = None
                    rec.op("paged-dropped")
                    # let the dropped lease idle over a second: the account's next
                    # search may take it back (docs: leases shared by identity)
                    pause = 1.2
                    break
                if not cookie:
                    if got != want:
                        rec.err("paged", "%s: %d entries in %d pages of %d, expected %d" % (who, got, pages, psize, want))
                    else:
                        rec.op("paged-complete")
                    break
                if stop.is_set():       # mid-search at the end: the connection's close frees it
                    break
        except Exception as e:  # noqa: BLE001
            rec.err("paged", "%s: %s" % (who, exc(e)))
            close(c)
            c = None
        stop.wait(pause)
    close(c)


def w_binds(ctx, idx, rate):
    rec, stop, rnd = ctx["rec"], ctx["stop"], random.Random(2000 + idx)
    pace = Pace(rate, rnd)
    while pace.wait(stop):
        n = rnd.randint(1, NUSERS)
        c = None
        try:
            c = connection(server(), user_dn(n), PW)
            if not c.bind():
                rec.err("user-bind", "user%04d: %s" % (n, desc(c)))
                continue
            rec.op("bind")
            c.search(USERS, "(uid=user%04d)" % n, SUBTREE, attributes=["uid"])
            if c.result.get("result") != 0 or len(entries(c)) != 1:
                rec.err("user-search", "user%04d: %s, %d entries" % (n, desc(c), len(entries(c))))
                continue
            rec.op("user-search")
        except Exception as e:  # noqa: BLE001
            rec.err("user-bind", exc(e))
        finally:
            close(c)


def w_badbinds(ctx, rate):
    rec, stop, rnd = ctx["rec"], ctx["stop"], random.Random(3000)
    pace = Pace(rate, rnd)
    while pace.wait(stop):
        n = rnd.randint(1, NUSERS)
        c = None
        try:
            c = connection(server(), user_dn(n), "Wrong-%d" % rnd.randint(0, 1 << 30))
            ok = c.bind()
            if ok or c.result.get("result") != 49:
                rec.err("bad-bind", "user%04d with a wrong password: %s" % (n, desc(c)))
            else:
                rec.op("bad-bind-49")
        except Exception as e:  # noqa: BLE001
            rec.err("bad-bind", exc(e))
        finally:
            close(c)


def w_churn(ctx, idx, kind, rate):
    rec, stop, rnd = ctx["rec"], ctx["stop"], random.Random(4000 + idx)
    pace = Pace(rate, rnd)
    srv = server(kind)
    while pace.wait(stop):
        n = rnd.randint(1, NUSERS)
        c = None
        try:
            c = connection(srv, SVC, SVCPW)
            if not c.open() and c.closed:
                rec.err("churn-" + kind, "open: %s" % desc(c))
                continue
            if kind == "starttls":
                if not c.start_tls():
                    rec.err("churn-starttls", "StartTLS: %s" % desc(c))
                    continue
                rec.op("starttls")
            if not c.bind():
                rec.err("churn-" + kind, "bind: %s" % desc(c))
                continue
            rec.op("bind")
            c.search(USERS, "(uid=user%04d)" % n, SUBTREE, attributes=["uid", "mail"])
            es = entries(c)
            if c.result.get("result") != 0 or len(es) != 1:
                rec.err("churn-" + kind, "search: %s, %d entries" % (desc(c), len(es)))
                continue
            rec.op("churn-search")
        except Exception as e:  # noqa: BLE001
            rec.err("churn-" + kind, exc(e))
        finally:
            close(c)


def drain_to_eof(conn, secs):
    """(bytes read, 'EOF'|'reset'|None if still open after secs, messages parsed)."""
    conn.sock.settimeout(1.0)
    n, end, msgs = 0, None, []
    t = time.monotonic()
    while time.monotonic() - t < secs:
        try:
            b = conn.sock.recv(1 << 20)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            end = "reset"
            break
        if not b:
            end = "EOF"
            break
        n += len(b)
        conn.buf += b
        try:
            while True:
                e = w.frame_len(conn.buf)
                if e is None or len(conn.buf) < e:
                    break
                msgs.append(w.Msg(bytes(conn.buf[:e])))
                del conn.buf[:e]
        except w.BerError:
            pass
    return n, end, msgs


def w_slow(ctx, every):
    rec, stop = ctx["rec"], ctx["stop"]
    full = ctx["baseline"]["slow_full_bytes"] * 10
    nxt = time.monotonic() + every / 3
    while not stop.wait(max(0.0, nxt - time.monotonic())):
        nxt += every
        c = None
        try:
            c = w.Conn(URL, timeout=10, rcvbuf=4096)
            m = c.bind(SVC, SVCPW)
            if m.code != 0:
                rec.err("slow", "bind: %r" % m)
                continue
            mid = c.msgid()
            c.send(b"".join(w.search_req(mid + k, USERS, w.f_present("objectClass"), ["*", "+"])
                            for k in range(10)))
            c.next_id = mid + 10
            if stop.wait(5):
                break
            n, end, msgs = drain_to_eof(c, 25)
            dones = sum(1 for x in msgs if x.tag == w.SEARCH_DONE)
            if end is None:
                rec.err("slow", "a client that did not read was still connected 30 s later (%d bytes read)" % n)
            elif dones >= 10 or n >= full:
                rec.err("slow", "a client that did not read got all its results (%d bytes): never cut off" % n)
            else:
                rec.op("slow-cut")
        except Exception as e:  # noqa: BLE001
            rec.err("slow", exc(e))
        finally:
            if c is not None:
                c.close()


def expect_disconnect(c, secs=10):
    n, end, msgs = drain_to_eof(c, secs)
    notice = [m for m in msgs if m.msgid == 0 and m.name == w.OID_NOTICE_OF_DISCONNECTION]
    return end, notice


def h_garbage(rec):
    c = w.Conn(URL, timeout=10)
    c.send(b"\x05" + os.urandom(63))
    end, _ = expect_disconnect(c)
    c.close()
    return end is not None, "garbage bytes: still connected 10 s later"


def h_badlen(rec):
    c = w.Conn(URL, timeout=10)
    c.send(b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01")
    end, _ = expect_disconnect(c)
    c.close()
    return end is not None, "a 2 GB BER length: still connected 10 s later"


def h_big_unbound(rec):
    c = w.Conn(URL, timeout=10)
    try:
        c.send(w.search_req(1, USERS, w.f_eq("description", "x" * (MAX_UNBOUND_PDU + 32 * 1024)), ["uid"]))
    except (BrokenPipeError, ConnectionResetError):
        c.close()
        return True, ""
    end, notice = expect_disconnect(c)
    c.close()
    if end is None:
        return False, "a request over max_unbound_pdu_size before a bind: still connected 10 s later"
    if notice and notice[0].code != 2:
        return False, "a request over max_unbound_pdu_size: notice %r" % notice[0]
    return True, ""


def h_big_bound(rec):
    c = w.Conn(URL, timeout=10)
    m = c.bind(SVC, SVCPW)
    if m.code != 0:
        c.close()
        return False, "hostile oversize: bind %r" % m
    rec.op("bind")
    try:
        c.send(w.search_req(2, USERS, w.f_eq("description", "x" * (MAX_PDU + 64 * 1024)), ["uid"]))
    except (BrokenPipeError, ConnectionResetError):
        c.close()
        return True, ""
    end, notice = expect_disconnect(c)
    c.close()
    if end is None:
        return False, "a request over max_pdu_size after a bind: still connected 10 s later"
    if notice and notice[0].code != 2:
        return False, "a request over max_pdu_size: notice %r" % notice[0]
    return True, ""


def h_half(rec):
    c = w.Conn(URL, timeout=10)
    req = w.bind_req(1, SVC, SVCPW)
    c.send(req[:len(req) // 2])
    time.sleep(0.2)
    c.close()
    return True, ""


def h_prebind_search(rec):
    c = w.Conn(URL, timeout=10)
    es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"], timeout=10)
    c.close()
    if d.code != 50 or es:
        return False, "a search before a bind: %r, %d entries (expected 50, none)" % (d, len(es))
    return True, ""


HOSTILE = [("garbage", h_garbage), ("badlen", h_badlen), ("big-unbound", h_big_unbound),
           ("big-bound", h_big_bound), ("half-pdu", h_half), ("prebind-search", h_prebind_search)]


def w_hostile(ctx, every):
    rec, stop = ctx["rec"], ctx["stop"]
    i = 0
    while not stop.wait(every):
        name, fn = HOSTILE[i % len(HOSTILE)]
        i += 1
        try:
            good, why = fn(rec)
            if good:
                rec.op("hostile-" + name)
            else:
                rec.err("hostile-" + name, why)
        except Exception as e:  # noqa: BLE001
            rec.err("hostile-" + name, exc(e))


def w_nobind(ctx, every):
    """Connections that never send anything: unbound_timeout must close them."""
    rec, stop = ctx["rec"], ctx["stop"]
    held = []          # (opened, socket)
    last = 0.0
    while not stop.wait(1.0):
        now = time.monotonic()
        if now - last >= every:
            last = now
            try:
                s = socket.create_connection(_hostport(URL), timeout=5)
                s.setblocking(False)
                held.append((now, s))
            except OSError as e:
                rec.err("nobind", "connect: %s" % exc(e))
        for item in list(held):
            t, s = item
            closed = False
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        closed = True
                        break
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            if closed:
                held.remove(item)
                s.close()
                if now - t < UNBOUND_TIMEOUT - 1:
                    rec.err("nobind", "a connection that never bound was closed after %.1f s, before "
                            "unbound_timeout (%g s)" % (now - t, UNBOUND_TIMEOUT))
                else:
                    rec.op("nobind-closed")
            elif now - t > UNBOUND_TIMEOUT + 10:
                held.remove(item)
                s.close()
                rec.err("nobind", "a connection that never bound was still open %.0f s later "
                        "(unbound_timeout %g s)" % (now - t, UNBOUND_TIMEOUT))
    for _, s in held:
        s.close()


def _hostport(url):
    hp = url.split("://", 1)[1].rstrip("/")
    h, p = hp.rsplit(":", 1)
    return h.strip("[]"), int(p)


# ------------------------------------------------------------------ processes

def proc_main(name, jobs, q, stop, baseline):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rec = Rec(q)
    ctx = {"rec": rec, "stop": stop, "baseline": baseline}

    def run(fn, args):
        try:
            fn(ctx, *args)
        except Exception:  # noqa: BLE001
            rec.err("worker", "%s died: %s" % (fn.__name__, traceback.format_exc()[-300:]))

    ts = [threading.Thread(target=run, args=(fn, args), daemon=True) for fn, args in jobs]
    for t in ts:
        t.start()
    while any(t.is_alive() for t in ts):
        stop.wait(0.5)
        rec.flush()
        if stop.is_set():
            for t in ts:
                t.join(OP_TIMEOUT + 15)
            break
    rec.flush()
    alive = [t for t in ts if t.is_alive()]
    if alive:
        q.put(({}, [(time.time(), "worker", "%s: %d thread(s) still running %d s after the stop"
                     % (name, len(alive), OP_TIMEOUT + 15))], []))
    q.put(("done", name))
    q.close()
    q.join_thread()
    os._exit(0)


def plan(rate):
    r = rate
    return [
        ("small-a", [(w_small, (0, 40 * r)), (w_small, (1, 40 * r))]),
        ("small-b", [(w_small, (2, 40 * r)), (w_small, (3, 40 * r))]),
        ("binds", [(w_binds, (0, 10 * r)), (w_binds, (1, 10 * r)), (w_badbinds, (r / 6,))]),
        ("churn", [(w_churn, (0, "plain", 8 * r)), (w_churn, (1, "ldaps", 8 * r)),
                   (w_churn, (2, "starttls", 8 * r))]),
        ("bulk-paged", [(w_bulk, (0.7 * r,)), (w_paged, ("svc",)), (w_paged, ("alice",))]),
        ("misbehaving", [(w_slow, (30.0,)), (w_hostile, (5.0,)), (w_nobind, (15.0,))]),
    ]


# ------------------------------------------------------------------ the proxy, seen from outside

def proc_status(key):
    try:
        with open("/proc/%d/status" % PID) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split()[1]
    except OSError:
        return None
    return None


def rss_kib():
    v = proc_status("VmRSS")
    return int(v) if v else -1


def fd_count():
    try:
        return len(os.listdir("/proc/%d/fd" % PID))
    except OSError:
        return -1


def cpu_ticks():
    try:
        with open("/proc/%d/stat" % PID) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])
    except (OSError, IndexError, ValueError):
        return None


def alive():
    st = proc_status("State")
    return st is not None and st not in ("Z", "X")


def is_asan():
    try:
        with open("/proc/%d/maps" % PID) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def ctl_stats():
    if not CTL or not CTL_SOCK or not os.path.exists(CTL_SOCK):
        return None
    try:
        out = subprocess.run([CTL, "-s", CTL_SOCK, "stats"], capture_output=True, timeout=10, text=True)
        if out.returncode != 0:
            return None
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


class LogWatch:
    """Reads PROXY_LOG incrementally: counts what matters."""
    PATTERNS = {
        "reload done": re.compile(r" notice: reload done"),
        "reload failed": re.compile(r"reload failed"),
        "cut off": re.compile(r": cut off: "),
        "protocol error": re.compile(r": protocol error: "),
        "unbound timeout": re.compile(r"unbound_timeout"),
        "connection lost": re.compile(r"connection lost"),
        "error lines": re.compile(r"^\S+Z error: "),
        "warning lines": re.compile(r"^\S+Z warning: "),
        "sanitizer": re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:"),
    }
    KEEP = ("reload failed", "connection lost", "error lines", "warning lines", "sanitizer")

    def __init__(self, path):
        self.path = path
        self.pos = os.path.getsize(path) if path and os.path.exists(path) else 0
        self.counts = {k: 0 for k in self.PATTERNS}
        self.examples = []
        self.rest = b""

    def poll(self):
        if not self.path:
            return
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return
        self.pos += len(data)
        data = self.rest + data
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            for k, p in self.PATTERNS.items():
                if p.search(line):
                    self.counts[k] += 1
                    if k in self.KEEP and len(self.examples) < 40:
                        self.examples.append(line)


# ------------------------------------------------------------------ main

def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, int(math.ceil(p / 100.0 * len(sorted_vals))) - 1)
    return sorted_vals[k]


def fmt(v, nd=1):
    return "-" if v is None else ("%.*f" % (nd, v))


def baseline_counts():
    """What the load's listings must return, asked before the load."""
    b = {}
    c = connection(server(), SVC, SVCPW)
    if not c.bind():
        raise SystemExit("FAIL (soak.py): service account bind before the load: %s" % desc(c))
    for key, base, f, attrs in (("people", USERS, "(objectClass=person)", ["uid"]),
                                ("user01", USERS, "(uid=user01*)", ["uid", "mail"]),
                                ("groups", GROUPS, "(objectClass=*)", ["cn"])):
        c.search(base, f, SUBTREE, attributes=attrs)
        if c.result.get("result") != 0:
            raise SystemExit("FAIL (soak.py): %s before the load: %s" % (f, desc(c)))
        b[key] = len(entries(c))
    close(c)
    a = connection(server(), "uid=alice," + USERS, PW)
    if not a.bind():
        raise SystemExit("FAIL (soak.py): alice's bind before the load: %s" % desc(a))
    a.search(USERS, "(objectClass=person)", SUBTREE, attributes=["1.1"])
    b["people_alice"] = len(entries(a))
    close(a)
    # one full answer of what a slow client asks for (it asks 10 times)
    r = w.Conn(URL, timeout=30)
    if r.bind(SVC, SVCPW).code != 0:
        raise SystemExit("FAIL (soak.py): raw bind before the load")
    mid = r.msgid()
    r.send(w.search_req(mid, USERS, w.f_present("objectClass"), ["*", "+"]))
    total = 0
    while True:
        m = r.recv(30)
        total += len(m.raw)
        if m.msgid == mid and m.tag == w.SEARCH_DONE:
            break
    r.close()
    b["slow_full_bytes"] = total
    if b["people"] < NUSERS or b["user01"] < 100:
        raise SystemExit("FAIL (soak.py): the directory looks wrong: %r" % b)
    return b


def final_probe():
    """A new connection binds and searches, within 10 s."""
    try:
        c = connection(server(), SVC, SVCPW)
        t0 = time.monotonic()
        if not c.bind():
            return "bind: %s" % desc(c)
        c.search(USERS, "(uid=alice)", SUBTREE, attributes=["uid"])
        es = entries(c)
        close(c)
        if c.result.get("result") != 0 or len(es) != 1:
            return "search: %s, %d entries" % (desc(c), len(es))
        if time.monotonic() - t0 > 10:
            return "took %.1f s" % (time.monotonic() - t0)
        return None
    except Exception as e:  # noqa: BLE001
        return exc(e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=float(E.get("SOAK_DURATION", "90")))
    ap.add_argument("--sample", type=float, default=float(E.get("SOAK_SAMPLE", "10")))
    ap.add_argument("--out", default=E.get("SOAK_OUT", ""))
    ap.add_argument("--rate", type=float, default=float(E.get("SOAK_RATE", "1")))
    ap.add_argument("--title", default=E.get("SOAK_TITLE", ""))
    args = ap.parse_args()

    out = open(args.out, "w") if args.out else None

    def emit(line=""):
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()

    if not alive():
        raise SystemExit("FAIL (soak.py): aldproxyd (pid %d) is not running" % PID)
    asan = is_asan()
    exe = os.path.realpath("/proc/%d/exe" % PID)
    baseline = baseline_counts()
    hz = os.sysconf("SC_CLK_TCK")

    emit("# aldproxy soak%s" % (" — " + args.title if args.title else ""))
    emit()
    emit("- started %s, %d s of load, a sample every %g s, rate factor %g"
         % (time.strftime("%Y-%m-%d %H:%M:%S %Z"), args.duration, args.sample, args.rate))
    emit("- aldproxyd pid %d: %s%s" % (PID, exe, " (AddressSanitizer build)" if asan else ""))
    if E.get("SOAK_COMMIT"):
        emit("- commit: %s" % E["SOAK_COMMIT"])
    emit("- directory: %s users; listings before the load: %r" % (NUSERS, {k: v for k, v in baseline.items()}))
    emit("- limits: max_pdu_size %d, max_unbound_pdu_size %d, unbound_timeout %g s, max_client_output %s"
         % (MAX_PDU, MAX_UNBOUND_PDU, UNBOUND_TIMEOUT, E.get("RIG_MAX_CLIENT_OUTPUT", "8m (default)")))
    emit("- load: %s" % "; ".join("%s: %s" % (n, ", ".join("%s%r" % (fn.__name__[2:], a) for fn, a in jobs))
                                  for n, jobs in plan(args.rate)))
    emit()

    # settle, then the baseline sample
    time.sleep(1)
    logw = LogWatch(LOG)
    fd0, rss0 = fd_count(), rss_kib()
    st = ctl_stats()
    conns0 = st["connections"]["open"] if st else None

    ctxm = mp.get_context("fork")
    q = ctxm.Queue()
    stop = ctxm.Event()
    procs = []
    for name, jobs in plan(args.rate):
        p = ctxm.Process(target=proc_main, args=(name, jobs, q, stop, baseline), name=name, daemon=True)
        p.start()
        procs.append(p)

    lock = threading.Lock()
    cur = {"ops": 0, "errs": 0, "lat": []}
    tot = {"ops": {}, "errs": {}, "examples": [], "lat": array.array("d"), "done": set()}

    def drain():
        while len(tot["done"]) < len(procs):
            try:
                item = q.get(timeout=0.5)
            except queue.Empty:
                if stop.is_set() and not any(p.is_alive() for p in procs):
                    return
                continue
            if item[0] == "done":
                tot["done"].add(item[1])
                continue
            ops, errs, lat = item
            with lock:
                for k, v in ops.items():
                    tot["ops"][k] = tot["ops"].get(k, 0) + v
                    cur["ops"] += v
                for t, k, msg in errs:
                    tot["errs"][k] = tot["errs"].get(k, 0) + 1
                    cur["errs"] += 1
                    if len(tot["examples"]) < 60:
                        tot["examples"].append((t, k, msg))
                cur["lat"] += lat
                tot["lat"].extend(lat)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()

    reloads = {"sent": 0}

    def reloader():
        while not stop.wait(20):
            try:
                os.kill(PID, signal.SIGHUP)
                reloads["sent"] += 1
            except OSError:
                return

    rl = threading.Thread(target=reloader, daemon=True)
    rl.start()

    hdr = "| elapsed_s | rss_kib | fds | conns | cpu_% | ops | errors | p50_ms | p99_ms | max_ms |"
    emit(hdr)
    emit("|" + "---:|" * 10)
    rows = []

    def row(elapsed, ops, errs, lat, cpu_pct, rss=None, fds=None, conns=None):
        lat = sorted(lat)
        r = {"t": elapsed, "rss": rss if rss is not None else rss_kib(), "fds": fds if fds is not None else fd_count(),
             "conns": conns, "cpu": cpu_pct, "ops": ops, "errs": errs,
             "p50": pct(lat, 50), "p99": pct(lat, 99), "max": lat[-1] if lat else None}
        rows.append(r)
        emit("| %d | %d | %d | %s | %s | %d | %d | %s | %s | %s |" % (
            r["t"], r["rss"], r["fds"], "-" if conns is None else conns, fmt(cpu_pct, 0), ops, errs,
            fmt(r["p50"], 2), fmt(r["p99"], 2), fmt(r["max"], 1)))
        return r

    row(0, 0, 0, [], None, rss0, fd0, conns0)
    t0 = time.monotonic()
    cpu_prev, t_prev = cpu_ticks(), t0
    k = 0
    died = False
    while True:
        k += 1
        target = min(t0 + k * args.sample, t0 + args.duration)
        while time.monotonic() < target:
            time.sleep(min(1.0, max(0.01, target - time.monotonic())))
            if not alive():
                died = True
                break
        if died:
            break
        now = time.monotonic()
        rss, fds = rss_kib(), fd_count()
        cpu = cpu_ticks()
        cpu_pct = (100.0 * (cpu - cpu_prev) / hz / (now - t_prev)) if cpu is not None and cpu_prev is not None else None
        cpu_prev, t_prev = cpu, now
        st = ctl_stats()
        logw.poll()
        with lock:
            ops, errs, lat = cur["ops"], cur["errs"], cur["lat"]
            cur.update(ops=0, errs=0, lat=[])
        row(now - t0, ops, errs, lat, cpu_pct, rss, fds, st["connections"]["open"] if st else None)
        if now - t0 >= args.duration - 0.5:
            break

    # ---- stop the load
    t_stop = time.monotonic()
    stop.set()
    for p in procs:
        p.join(OP_TIMEOUT + 30)
    hung = [p.name for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.terminate()
    drainer.join(10)
    with lock:
        late_ops, late_errs = cur["ops"], cur["errs"]

    # ---- quiescence: fds and connections back to the baseline
    fd_margin = 2
    fd_end = conns_end = None
    deadline = time.monotonic() + 30
    while not died:
        if not alive():
            died = True
            break
        fd_end = fd_count()
        st = ctl_stats()
        conns_end = st["connections"]["open"] if st else None
        if fd_end <= fd0 + fd_margin and conns_end in (None, 0):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    rss_end = rss_kib()
    t_quiet = time.monotonic() - t_stop
    time.sleep(1)
    logw.poll()
    probe = None if died else final_probe()
    died = died or not alive()

    # ---- summary
    total_ops = sum(tot["ops"].values())
    total_errs = sum(tot["errs"].values())
    lat = sorted(tot["lat"])
    load_rows = rows[1:]
    i20 = next((i for i, r in enumerate(load_rows) if r["t"] >= 0.2 * args.duration - 0.5), None)
    r20 = load_rows[i20] if i20 is not None else None
    rlast = load_rows[-1] if load_rows else None
    slope = None
    if i20 is not None and len(load_rows) - i20 >= 3:
        xs = [r["t"] for r in load_rows[i20:]]
        ys = [r["rss"] for r in load_rows[i20:]]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx > 0:
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 3600   # KiB per hour

    emit()
    emit("after the load (%.0f s later): rss_kib %s, fds %s (baseline %d), client connections %s"
         % (t_quiet, rss_end, fd_end, fd0, "-" if conns_end is None else conns_end))
    emit()
    emit("## Summary")
    emit()
    dur = rlast["t"] if rlast else 0
    emit("- operations: %d in %.0f s (%.0f/s), errors: %d%s" % (
        total_ops, dur, total_ops / dur if dur else 0, total_errs,
        (" (after the last sample: %d ops, %d errors)" % (late_ops, late_errs)) if late_ops or late_errs else ""))
    emit("- by kind: " + ", ".join("%s %d" % kv for kv in sorted(tot["ops"].items())))
    if tot["errs"]:
        emit("- errors by kind: " + ", ".join("%s %d" % kv for kv in sorted(tot["errs"].items())))
    emit("- small searches: %d; latency ms p50 %s, p90 %s, p99 %s, p99.9 %s, max %s" % (
        len(lat), fmt(pct(lat, 50), 2), fmt(pct(lat, 90), 2), fmt(pct(lat, 99), 2), fmt(pct(lat, 99.9), 2),
        fmt(lat[-1] if lat else None, 1)))
    emit("- RSS KiB: start %d, at 20%% (%s s) %s, end %s, after the load %s; trend after 20%%: %s KiB/h" % (
        rss0, fmt(r20["t"], 0) if r20 else "-", r20["rss"] if r20 else "-", rlast["rss"] if rlast else "-",
        rss_end, fmt(slope, 0)))
    emit("- fds: start %d, at 20%% %s, end %s, after the load %s; max during the load %s" % (
        fd0, r20["fds"] if r20 else "-", rlast["fds"] if rlast else "-", fd_end,
        max((r["fds"] for r in load_rows), default="-")))
    emit("- reloads: %d SIGHUP sent; log: %s" % (reloads["sent"], ", ".join("%s %d" % kv for kv in logw.counts.items())))
    for t, kd, msg in tot["examples"][:25]:
        emit("  - error %s [%s] %s" % (time.strftime("%H:%M:%S", time.localtime(t)), kd, msg.replace("\n", " ")))
    for line in logw.examples[:20]:
        emit("  - log: %s" % line)

    # ---- checks
    fails = []
    tol = total_ops // 100000
    if total_errs > tol:
        fails.append("%d unexpected errors in %d operations (tolerance %d)" % (total_errs, total_ops, tol))
    if died:
        fails.append("aldproxyd (pid %d) died during the soak" % PID)
    if hung:
        fails.append("load processes did not stop: %s" % ", ".join(hung))
    if not asan and r20 and rlast:
        bound = max(8192, 0.2 * r20["rss"])
        if rlast["rss"] - r20["rss"] > bound:
            fails.append("VmRSS grew from %d KiB (at %.0f s) to %d KiB (at %.0f s): more than %d KiB" % (
                r20["rss"], r20["t"], rlast["rss"], rlast["t"], bound))
    if not died:
        if fd_end is None or fd_end > fd0 + fd_margin:
            fails.append("fds %s, 30 s after the load stopped, baseline %d (+%d allowed)" % (fd_end, fd0, fd_margin))
        if conns_end not in (None, 0):
            fails.append("%s client connections still open 30 s after the load stopped" % conns_end)
        if probe:
            fails.append("the proxy does not answer after the soak: %s" % probe)
    if logw.counts["reload failed"]:
        fails.append("%d reloads failed" % logw.counts["reload failed"])
    if LOG and logw.counts["reload done"] < reloads["sent"]:
        fails.append("%d SIGHUP sent, %d 'reload done' logged" % (reloads["sent"], logw.counts["reload done"]))
    if logw.counts["sanitizer"]:
        fails.append("sanitizer report in the proxy log")
    if total_ops < 20 * args.duration * args.rate:
        fails.append("only %d operations in %.0f s: the load did not run" % (total_ops, args.duration))
    emit()
    emit("## Checks")
    emit()
    emit("- errors <= ops/100000: %d <= %d" % (total_errs, tol))
    emit("- RSS growth 20%% -> end: %s" % (
        "not checked (AddressSanitizer build)" if asan else
        ("%d KiB (bound max(8192, 20%% of %d) = %d KiB)" % (rlast["rss"] - r20["rss"], r20["rss"],
                                                             max(8192, 0.2 * r20["rss"])) if r20 and rlast else "-")))
    emit("- fds after the load: %s (baseline %d + %d); client connections: %s" % (fd_end, fd0, fd_margin, conns_end))
    emit("- alive and answering: %s" % ("no" if died or probe else "yes"))
    if fails:
        for f in fails:
            emit("- FAIL: " + f)
        if out:
            out.close()
        print("FAIL (soak.py): " + "; ".join(fails), file=sys.stderr)
        sys.exit(1)
    emit("- PASS")
    if out:
        out.close()


if __name__ == "__main__":
    main()
