#!/usr/bin/env python3
"""robust.py — malformed and unusual input to aldproxy (raw sockets).

Run by test_robustness.sh with limits.max_pdu_size = RIG_MAX_PDU (64k).
  0. requests split across TCP writes (a slow writer) and one larger than a
     single socket read are answered, and other clients are served meanwhile
  a. garbage bytes: Notice of Disconnection (msgid 0, OID 1.3.6.1.4.1.1466.20036,
     protocolError) and close
  b. a length over max_pdu_size: NoD at once, close, without reading the body;
     a PDU just under the limit is served, one just over is refused
  c. truncated / malformed BER inside a valid envelope, messageID 0, unknown
     protocolOp: NoD and close
  d. controls: unknown critical -> unavailableCriticalExtension (12), unknown
     non-critical passes, proxied authorization critical -> 12 (non-critical is
     dropped, the search runs as the bound identity)
  e. Modify: unwillingToPerform (53); Add / Delete / ModifyDN: insufficientAccessRights (50),
     both with a diagnostic
  f. unknown extended operation: protocolError (2), connection stays; Password
     Modify 53; WhoAmI before and after a bind
  g. the proxy still serves a normal search
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

URL = w.env("PROXY_URL")
USERS = w.env("USERS_DN")
BASE = w.env("BASE_DN")
SVC, SVCPW = w.env("SVC_DN"), w.env("SVC_PW")


def size(s):
    s = s.strip().lower()
    mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}.get(s[-1:], 1)
    return int(s[:-1] if s[-1:] in "kmg" else s) * mult


MAX_PDU = size(os.environ.get("RIG_MAX_PDU", "1m"))


def fail(msg):
    print("FAIL (robust.py): " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print("ok - " + msg, flush=True)


def expect_nod(c, what, code=2, timeout=5):
    """The next message is a Notice of Disconnection, then EOF."""
    try:
        m = c.recv(timeout)
    except w.Closed:
        fail("%s: connection closed without a Notice of Disconnection" % what)
    except socket.timeout:
        fail("%s: no answer within %d s (expected a Notice of Disconnection)" % (what, timeout))
    check(m.msgid == 0, "%s: first answer has msgid %d, not 0: %r" % (what, m.msgid, m))
    check(m.tag == w.EXT_RES, "%s: first answer is not an ExtendedResponse: %r" % (what, m))
    check(m.name == w.OID_NOTICE_OF_DISCONNECTION, "%s: responseName %r" % (what, m.name))
    check(m.code == code, "%s: NoD resultCode %s, expected %d" % (what, m.code, code))
    try:
        rest = c.read_until_eof(timeout)
    except socket.timeout:
        fail("%s: the connection stayed open after the Notice of Disconnection" % what)
    check(not rest, "%s: messages after the Notice of Disconnection: %r" % (what, rest))
    return m


def fresh(bind=True):
    c = w.Conn(URL, timeout=10)
    if bind:
        m = c.bind(SVC, SVCPW)
        check(m.code == 0, "bind: %r" % m)
    return c


def alice_ok(c, controls=None, what="search"):
    es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"], controls=controls)
    check(d.code == 0, "%s: %r" % (what, d))
    check(len(es) == 1 and es[0].dn.lower().startswith("uid=alice,"), "%s: entries %r" % (what, es))


# ---------------------------------------------------------------- 0
# A bind request in two writes 0.5 s apart: the proxy must wait for the rest
# without spinning, and serve other clients in the meantime.
c = w.Conn(URL, timeout=10)
pdu = w.bind_req(1, SVC, SVCPW)
c.send(pdu[:10])
time.sleep(0.3)
other = w.Conn(URL, timeout=5)
try:
    m = other.bind(SVC, SVCPW, timeout=5)
except socket.timeout:
    fail("while one client had sent half a request, another client's bind got no answer in 5 s "
         "(event loop stuck on the incomplete request?)")
check(m.code == 0, "other client's bind: %r" % m)
other.close()
c.send(pdu[10:])
try:
    m = c.recv(5)
except socket.timeout:
    fail("a bind request sent in two writes got no answer in 5 s")
check(m.msgid == 1 and m.tag == w.BIND_RES and m.code == 0, "split bind: %r" % m)
# a search sent one byte at a time
pdu = w.search_req(2, USERS, w.f_eq("uid", "alice"), ["uid"])
for i in range(len(pdu)):
    c.send(pdu[i:i + 1])
    time.sleep(0.002)
msgs = c.until_done(2, 5)
check(msgs[-1].code == 0 and len(msgs) == 2, "search sent byte by byte: %r" % msgs)
# a 40 KB search arrives in several socket reads
pdu = w.search_req(3, USERS, w.f_or(w.f_eq("uid", "alice"), w.f_eq("description", "y" * 40000)), ["uid"])
c.send(pdu)
msgs = c.until_done(3, 5)
check(msgs[-1].code == 0 and len(msgs) == 2, "40 KB search: %r" % msgs)
c.close()
ok("requests split across writes, byte by byte and over 40 KB are answered; others served meanwhile")

# ---------------------------------------------------------------- a
for bound in (False, True):
    c = fresh(bound)
    c.send(b"\x01\x02\x03")
    m = expect_nod(c, "garbage bytes (%s)" % ("bound" if bound else "unbound"))
    c.close()
ok("garbage bytes: Notice of Disconnection (protocolError) and close: %r" % m.diag)

# ---------------------------------------------------------------- b
c = fresh()
hdr = b"\x30\x84" + (10 * 1024 * 1024).to_bytes(4, "big")
t0 = time.monotonic()
c.send(hdr + b"\x02\x01\x05\x63\x84\x00\x9f\xff\xf0")
m = expect_nod(c, "10 MB length header")
check(time.monotonic() - t0 < 3, "10 MB length header: answered only after %.1f s" % (time.monotonic() - t0))
check("max_pdu_size" in m.diag, "10 MB length header: diagnostic %r" % m.diag)
c.close()
# the proxy must not swallow the announced 10 MB: pushing them fails early
c = fresh()
c.send(hdr + b"\x02\x01\x05")
sent, chunk, err = 0, b"\x00" * 65536, None
deadline = time.monotonic() + 20
try:
    while sent < 10 * 1024 * 1024 and time.monotonic() < deadline:
        c.sock.settimeout(5)
        c.sock.sendall(chunk)
        sent += len(chunk)
except OSError as e:   # EPIPE, ECONNRESET, or a timeout: nobody reads
    err = e
check(err is not None, "the proxy accepted all 10 MB of an over-limit PDU (%d bytes sent)" % sent)
check(sent < 10 * 1024 * 1024, "the proxy read %d bytes of an over-limit PDU" % sent)
c.close()
ok("length over max_pdu_size (%d): NoD at once; pushing the body stopped after %d KB (%s)"
   % (MAX_PDU, sent // 1024, type(err).__name__))

# just under and just over the limit, with a real search
c = fresh()
big = MAX_PDU - 400
pdu = w.search_req(2, USERS, w.f_or(w.f_eq("uid", "alice"), w.f_eq("description", "x" * big)), ["uid"])
check(len(pdu) <= MAX_PDU, "test bug: PDU of %d bytes is not under %d" % (len(pdu), MAX_PDU))
c.send(pdu)
msgs = c.until_done(2, 10)
check(msgs[-1].code == 0 and len(msgs) == 2, "a %d-byte search (under the limit): %r" % (len(pdu), msgs[-1]))
pdu = w.search_req(3, USERS, w.f_eq("description", "x" * (MAX_PDU + 10)), ["uid"])
c.send(pdu)
expect_nod(c, "a %d-byte search (over the limit)" % len(pdu))
c.close()
ok("a %d-byte search is served, a %d-byte one refused" % (MAX_PDU - 400, MAX_PDU + 10))

# ---------------------------------------------------------------- c
bad = {
    # envelope fine, the SearchRequest inside claims more bytes than it has
    "truncated search": w.seq(w.integer(2) + b"\x63\x20\x04\x04dc=x"),
    # BindRequest with the DN's length running past the end
    "truncated bind": w.seq(w.integer(2) + b"\x60\x08\x02\x01\x03\x04\x10ab"),
    # scope 7
    "scope out of range": w.message(2, w.seq(w.octets(BASE), w.enum(7), w.enum(0), w.integer(0), w.integer(0),
                                             w.boolean(False), w.f_present("uid"), w.seq(), tag=w.SEARCH_REQ)),
    # controls: [0] holding a control SEQUENCE that claims 16 bytes but has 5
    "truncated control": w.seq(w.integer(2) + w.seq(w.octets(BASE), w.enum(0), w.enum(0), w.integer(0),
                                                     w.integer(0), w.boolean(False), w.f_present("uid"), w.seq(),
                                                     tag=w.SEARCH_REQ) + w.tlv(0xA0, b"\x30\x10\x04\x031.2")),
    "trailing bytes": w.seq(w.integer(2) + w.tlv(w.UNBIND_REQ, b"") + b"\x04\x00"),
    "messageID 0": w.search_req(0, USERS, w.f_eq("uid", "alice"), ["uid"]),
    "negative messageID": w.seq(b"\x02\x01\xff" + w.tlv(w.UNBIND_REQ, b"")),
    "unknown protocolOp": w.message(2, w.tlv(0x7F, b"")),
    "indefinite length": b"\x30\x80\x02\x01\x02\x42\x00\x00\x00",
    "not a SEQUENCE": b"\x31\x05\x02\x01\x02\x42\x00",
    "length of length 5": b"\x30\x85\x00\x00\x00\x00\x07\x02\x01\x02\x42\x00",
}
for name, pdu in bad.items():
    c = fresh()
    c.send(pdu)
    expect_nod(c, name)
    c.close()
# a filter choice that does not exist, well framed: a protocolError result for
# that search (the connection may stay) or a Notice of Disconnection
c = fresh()
c.send(w.message(2, w.seq(w.octets(BASE), w.enum(2), w.enum(0), w.integer(0), w.integer(0),
                          w.boolean(False), b"\x8f\x01x", w.seq(), tag=w.SEARCH_REQ)))
m = c.recv(5)
if m.msgid == 0:
    c.buf[:0] = m.raw
    expect_nod(c, "bad filter tag")
else:
    check(m.msgid == 2 and m.tag == w.SEARCH_DONE and m.code == 2, "bad filter tag: %r" % m)
    alice_ok(c, what="search after a bad filter")
c.close()
# an envelope that says more than is sent, then the peer half-closes: no hang, no crash
c = fresh()
c.send(b"\x30\x10\x02\x01\x02")
c.sock.shutdown(socket.SHUT_WR)
try:
    c.read_until_eof(5)
except socket.timeout:
    fail("half-closed incomplete PDU: the connection stayed open")
c.close()
ok("%d malformed PDUs: Notice of Disconnection each; an incomplete one closes on EOF" % len(bad))

# ---------------------------------------------------------------- d
c = fresh()
es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"], controls=[w.control("1.2.3.4", True)])
check(d.code == 12, "unknown critical control: %r" % d)
check(not es, "unknown critical control: entries returned")
alice_ok(c, [w.control("1.2.3.4", False)], "unknown non-critical control")
alice_ok(c, [w.control("1.2.3.4", False, b"\x30\x00")], "unknown non-critical control with a value")
es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"],
                 controls=[w.control(w.OID_PROXY_AUTHZ, True, b"dn:uid=admin," + USERS.encode())])
check(d.code == 12, "critical proxied authorization: %r" % d)
check(not es, "critical proxied authorization: entries returned")
# non-critical proxied authz is dropped: the search still runs (as aldproxy's view)
alice_ok(c, [w.control(w.OID_PROXY_AUTHZ, False, b"dn:uid=nobody," + USERS.encode())],
         "non-critical proxied authorization")
alice_ok(c, [w.control("1.2.3.4", False), w.control(w.OID_PROXY_AUTHZ, False, b"dn:x"),
             w.control("1.2.3.5", False)], "mixed non-critical controls")
es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"],
                 controls=[w.control("1.2.3.4", False), w.control("1.3.6.1.4.1.4203.1.9.1.1", True)])
check(d.code == 12, "critical syncrepl control: %r" % d)
# critical controls the directory implements pass (paged results, server-side sort)
es, d = c.search(USERS, w.f_eq("uid", "alice"), ["uid"], controls=[w.paged_control(10, critical=True)])
check(d.code == 0 and len(es) == 1, "critical paged results: %r" % d)
# compare with an unknown critical control
mid = c.msgid()
c.send(w.message(mid, w.seq(w.octets("uid=alice," + USERS), w.seq(w.octets("uid"), w.octets("alice")),
                            tag=w.COMPARE_REQ), [w.control("1.2.3.4", True)]))
m = c.until_done(mid)[-1]
check(m.tag == w.COMPARE_RES and m.code == 12, "compare with an unknown critical control: %r" % m)
alice_ok(c, what="search after the control checks")
c.close()
ok("controls: unknown critical 12, non-critical ignored, proxied authz critical 12 / non-critical dropped")

# ---------------------------------------------------------------- e
c = fresh()
bob = "uid=bob," + USERS
writes = [
    ("Add", w.ADD_RES, lambda i: w.add_req(i, "uid=mallory," + USERS,
                                           [("objectClass", ["account"]), ("uid", ["mallory"])])),
    ("Modify", w.MODIFY_RES, lambda i: w.modify_req(i, bob, "mail", ["evil@x"])),
    ("Delete", w.DEL_RES, lambda i: w.del_req(i, bob)),
    ("ModifyDN", w.MODDN_RES, lambda i: w.moddn_req(i, bob, "uid=bobby")),
    ("Modify userPassword", w.MODIFY_RES, lambda i: w.modify_req(i, bob, "userPassword", ["x"])),
]
for name, rtag, mk in writes:
    mid = c.msgid()
    c.send(mk(mid))
    m = c.until_done(mid)[-1]
    check(m.tag == rtag, "%s: response tag 0x%02x, expected 0x%02x" % (name, m.tag, rtag))
    if rtag in (w.ADD_RES, w.DEL_RES, w.MODDN_RES):
        # the provisioning writes a profile does not grant (writes.add/delete/modrdn): 50 with the key
        check(m.code == 50 and "may not" in m.diag and "is not set" in m.diag,
              "%s: %r, expected insufficientAccessRights (50) naming the unset writes key" % (name, m))
    else:
        check(m.code == 53, "%s: %r, expected unwillingToPerform (53)" % (name, m))
        check("not allowed" in m.diag, "%s: diagnostic %r" % (name, m.diag))
# and nothing changed on the directory
es, d = c.search(USERS, w.f_eq("uid", "bob"), ["mail"])
check(d.code == 0 and len(es) == 1 and es[0].attrs.get("mail") == [b"bob@ald.test"], "bob changed: %r" % es)
es, d = c.search(USERS, w.f_eq("uid", "mallory"), ["uid"])
check(d.code == 0 and not es, "mallory was added")
c.close()
# unbound writes too
c = fresh(False)
c.send(w.del_req(1, bob))
m = c.until_done(1)[-1]
check(m.tag == w.DEL_RES and m.code in (50, 53), "unbound Delete: %r" % m)
c.close()
ok("Modify: unwillingToPerform (53); Add/Delete/ModifyDN: insufficientAccessRights (50) '%s'" % m.diag)

# ---------------------------------------------------------------- f
c = fresh(False)
mid = c.msgid()
c.send(w.ext_req(mid, w.OID_WHOAMI))
m = c.until_done(mid)[-1]
check(m.code == 0 and not m.value, "WhoAmI before a bind: %r value %r" % (m, m.value))
m = c.bind(SVC, SVCPW)
check(m.code == 0, "bind: %r" % m)
mid = c.msgid()
c.send(w.ext_req(mid, w.OID_WHOAMI))
m = c.until_done(mid)[-1]
check(m.code == 0 and m.value == ("dn:" + SVC).encode(), "WhoAmI after a bind: %r value %r" % (m, m.value))
for oid, val in [("1.2.3.4.5", None), ("1.3.6.1.4.1.4203.1.11.99", b"\x30\x00"), ("1.3.6.1.1.8", None)]:
    mid = c.msgid()
    c.send(w.ext_req(mid, oid, val))
    m = c.until_done(mid)[-1]
    check(m.tag == w.EXT_RES and m.code == 2, "unknown extended operation %s: %r" % (oid, m))
    check(m.msgid == mid, "unknown extended operation answered with msgid %d" % m.msgid)
mid = c.msgid()
c.send(w.ext_req(mid, "1.3.6.1.4.1.4203.1.11.1", w.seq(w.octets("uid=bob," + USERS, 0x80), w.octets("x", 0x82))))
m = c.until_done(mid)[-1]
check(m.code == 53, "Password Modify: %r" % m)
# StartTLS twice-in-a-row is not tested here; an extended op with the connection still fine:
alice_ok(c, what="search after the extended operations")
c.close()
ok("WhoAmI before/after bind; unknown extended ops: protocolError (2), connection kept; Password Modify 53")

# ---------------------------------------------------------------- g
c = fresh()
alice_ok(c, what="final search")
es, d = c.search(USERS, w.f_present("uid"), ["uid"])
check(d.code == 0 and len(es) >= 1000, "final big search: %d entries, %r" % (len(es), d))
c.send(w.unbind_req(c.msgid()))
try:
    rest = c.read_until_eof(5)
except socket.timeout:
    fail("unbind: connection not closed")
check(not rest, "unbind: answered %r" % rest)
c.close()
ok("the proxy still serves searches after all that")
