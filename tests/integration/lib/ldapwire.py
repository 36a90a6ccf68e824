"""ldapwire.py — a tiny LDAPv3 BER encoder/decoder and raw-socket client for
the integration tests.

It lets a test put exact bytes on the wire (pipelining, abandon, malformed
PDUs, clients that never read), which ldap3 and libldap do not allow.

Only what the tests need: definite lengths, single-byte tags.
"""

import os
import socket
import time

# ---------------------------------------------------------------- constants

BIND_REQ, BIND_RES = 0x60, 0x61
UNBIND_REQ = 0x42
SEARCH_REQ, SEARCH_ENTRY, SEARCH_DONE, SEARCH_REF = 0x63, 0x64, 0x65, 0x73
MODIFY_REQ, MODIFY_RES = 0x66, 0x67
ADD_REQ, ADD_RES = 0x68, 0x69
DEL_REQ, DEL_RES = 0x4A, 0x6B
MODDN_REQ, MODDN_RES = 0x6C, 0x6D
COMPARE_REQ, COMPARE_RES = 0x6E, 0x6F
ABANDON_REQ = 0x50
EXT_REQ, EXT_RES = 0x77, 0x78
CONTROLS = 0xA0

SCOPE_BASE, SCOPE_ONE, SCOPE_SUB = 0, 1, 2

OID_NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"
OID_WHOAMI = "1.3.6.1.4.1.4203.1.11.3"
OID_STARTTLS = "1.3.6.1.4.1.1466.20037"
OID_PAGED = "1.2.840.113556.1.4.319"
OID_PROXY_AUTHZ = "2.16.840.1.113730.3.4.18"

RESULT_TAGS = {BIND_RES, SEARCH_DONE, MODIFY_RES, ADD_RES, DEL_RES, MODDN_RES,
               COMPARE_RES, EXT_RES}


# ---------------------------------------------------------------- encoding

def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, value):
    return bytes([tag]) + enc_len(len(value)) + value


def _int_bytes(v):
    n = 1
    while not (-(1 << (8 * n - 1)) <= v < (1 << (8 * n - 1))):
        n += 1
    return v.to_bytes(n, "big", signed=True)


def integer(v, tag=0x02):
    return tlv(tag, _int_bytes(v))


def enum(v):
    return integer(v, 0x0A)


def boolean(v):
    return tlv(0x01, b"\xff" if v else b"\x00")


def octets(v, tag=0x04):
    if isinstance(v, str):
        v = v.encode()
    return tlv(tag, v)


def seq(*items, tag=0x30):
    return tlv(tag, b"".join(items))


def control(oid, critical=False, value=None):
    body = octets(oid)
    if critical:
        body += boolean(True)
    if value is not None:
        body += octets(value)
    return seq(body)


def message(msgid, op, controls=None):
    body = integer(msgid) + op
    if controls:
        body += seq(*controls, tag=CONTROLS)
    return seq(body)


# filters (RFC 4511 4.5.1.7)
def f_eq(attr, val):
    return seq(octets(attr), octets(val), tag=0xA3)


def f_present(attr):
    return octets(attr, tag=0x87)


def f_and(*fs):
    return seq(*fs, tag=0xA0)


def f_or(*fs):
    return seq(*fs, tag=0xA1)


def f_not(f):
    return seq(f, tag=0xA2)


# requests
def bind_req(msgid, dn, password, version=3, controls=None):
    op = seq(integer(version), octets(dn), octets(password, tag=0x80), tag=BIND_REQ)
    return message(msgid, op, controls)


def sasl_bind_req(msgid, dn, mech, creds=None):
    sasl = octets(mech) + (octets(creds) if creds is not None else b"")
    op = seq(integer(3), octets(dn), seq(sasl, tag=0xA3), tag=BIND_REQ)
    return message(msgid, op)


def search_req(msgid, base, filt, attrs=(), scope=SCOPE_SUB, sizelimit=0, timelimit=0,
               typesonly=False, controls=None):
    op = seq(octets(base), enum(scope), enum(0), integer(sizelimit), integer(timelimit),
             boolean(typesonly), filt, seq(*[octets(a) for a in attrs]), tag=SEARCH_REQ)
    return message(msgid, op, controls)


def paged_control(size, cookie=b"", critical=False):
    return control(OID_PAGED, critical, seq(integer(size), octets(cookie)))


def abandon_req(msgid, target):
    return message(msgid, integer(target, tag=ABANDON_REQ))


def unbind_req(msgid):
    return message(msgid, tlv(UNBIND_REQ, b""))


def ext_req(msgid, oid, value=None):
    body = octets(oid, tag=0x80)
    if value is not None:
        body += octets(value, tag=0x81)
    return message(msgid, seq(body, tag=EXT_REQ))


def compare_req(msgid, dn, attr, value):
    return message(msgid, seq(octets(dn), seq(octets(attr), octets(value)), tag=COMPARE_REQ))


def add_req(msgid, dn, attrs):
    al = [seq(octets(a), seq(*[octets(v) for v in vs], tag=0x31)) for a, vs in attrs]
    return message(msgid, seq(octets(dn), seq(*al), tag=ADD_REQ))


def del_req(msgid, dn):
    return message(msgid, octets(dn, tag=DEL_REQ))


def modify_req(msgid, dn, attr, values, operation=2):
    change = seq(enum(operation), seq(octets(attr), seq(*[octets(v) for v in values], tag=0x31)))
    return message(msgid, seq(octets(dn), seq(change), tag=MODIFY_REQ))


def moddn_req(msgid, dn, newrdn):
    return message(msgid, seq(octets(dn), octets(newrdn), boolean(True), tag=MODDN_REQ))


# ---------------------------------------------------------------- decoding

class BerError(Exception):
    pass


def dec_tlv(buf, off=0, end=None):
    """(tag, value_start, value_end) of the TLV at off."""
    if end is None:
        end = len(buf)
    if off + 2 > end:
        raise BerError("truncated TLV at %d" % off)
    tag = buf[off]
    l = buf[off + 1]
    p = off + 2
    if l & 0x80:
        n = l & 0x7F
        if n == 0 or n > 4 or p + n > end:
            raise BerError("bad length at %d" % off)
        l = int.from_bytes(buf[p:p + n], "big")
        p += n
    if p + l > end:
        raise BerError("value overruns at %d" % off)
    return tag, p, p + l


def dec_children(buf, start, end):
    out = []
    p = start
    while p < end:
        t, s, e = dec_tlv(buf, p, end)
        out.append((t, s, e))
        p = e
    return out


def frame_len(buf):
    """Total length of the TLV at the start of buf, or None if its header is incomplete."""
    if len(buf) < 2:
        return None
    l = buf[1]
    if not l & 0x80:
        return 2 + l
    n = l & 0x7F
    if n == 0 or n > 4:
        raise BerError("bad length octet 0x%02x" % l)
    if len(buf) < 2 + n:
        return None
    return 2 + n + int.from_bytes(bytes(buf[2:2 + n]), "big")


def dec_int(buf, s, e):
    return int.from_bytes(buf[s:e], "big", signed=True)


class Msg:
    """One decoded LDAPMessage."""

    def __init__(self, raw):
        self.raw = raw
        t, s, e = dec_tlv(raw)
        if t != 0x30 or e != len(raw):
            raise BerError("not an LDAPMessage")
        kids = dec_children(raw, s, e)
        if len(kids) < 2 or kids[0][0] != 0x02:
            raise BerError("no messageID/protocolOp")
        self.msgid = dec_int(raw, kids[0][1], kids[0][2])
        self.tag, self._s, self._e = kids[1]
        self.controls = []
        if len(kids) > 2 and kids[2][0] == CONTROLS:
            for _, cs, ce in dec_children(raw, kids[2][1], kids[2][2]):
                parts = dec_children(raw, cs, ce)
                oid = raw[parts[0][1]:parts[0][2]].decode()
                crit, val = False, None
                for pt, ps, pe in parts[1:]:
                    if pt == 0x01:
                        crit = raw[ps:pe] != b"\x00"
                    elif pt == 0x04:
                        val = raw[ps:pe]
                self.controls.append((oid, crit, val))
        self.code = self.matched = self.diag = None
        self.name = self.value = None
        self.dn = None
        self.attrs = {}
        if self.tag in RESULT_TAGS:
            parts = dec_children(raw, self._s, self._e)
            self.code = dec_int(raw, parts[0][1], parts[0][2])
            self.matched = raw[parts[1][1]:parts[1][2]].decode("utf-8", "replace")
            self.diag = raw[parts[2][1]:parts[2][2]].decode("utf-8", "replace")
            for pt, ps, pe in parts[3:]:
                if pt == 0x8A:
                    self.name = raw[ps:pe].decode()
                elif pt == 0x8B:
                    self.value = raw[ps:pe]
        elif self.tag == SEARCH_ENTRY:
            parts = dec_children(raw, self._s, self._e)
            self.dn = raw[parts[0][1]:parts[0][2]].decode("utf-8", "replace")
            for _, as_, ae in dec_children(raw, parts[1][1], parts[1][2]):
                a = dec_children(raw, as_, ae)
                name = raw[a[0][1]:a[0][2]].decode()
                vals = [raw[vs:ve] for _, vs, ve in dec_children(raw, a[1][1], a[1][2])]
                self.attrs[name] = vals

    def paged_cookie(self):
        for oid, _, val in self.controls:
            if oid == OID_PAGED and val is not None:
                _, s, e = dec_tlv(val)
                kids = dec_children(val, s, e)
                return val[kids[1][1]:kids[1][2]]
        return None

    def __repr__(self):
        return "<Msg id=%d tag=0x%02x code=%s diag=%r dn=%r name=%r>" % (
            self.msgid, self.tag, self.code, self.diag, self.dn, self.name)


# ---------------------------------------------------------------- client

class Closed(Exception):
    pass


class Conn:
    """A blocking raw LDAP connection with a receive buffer."""

    def __init__(self, url=None, host=None, port=None, timeout=10.0, rcvbuf=None, source=None):
        if url is not None:
            hp = url.split("://", 1)[1].rstrip("/")
            host, port = hp.rsplit(":", 1)
            host = host.strip("[]")
            port = int(port)
        if rcvbuf is None:
            # source: the local address to connect from (127.0.0.2 ... play other hosts)
            self.sock = socket.create_connection((host, port), timeout=timeout,
                                                 source_address=(source, 0) if source else None)
        else:
            # a small receive buffer, set before connect so the window stays small
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.timeout = timeout
        self.next_id = 1

    def msgid(self):
        m = self.next_id
        self.next_id += 1
        return m

    def starttls(self, cafile, hostname="localhost"):
        """StartTLS (RFC 4511 4.14): the extended operation, then TLS over the same socket."""
        import ssl
        mid = self.msgid()
        self.send(ext_req(mid, "1.3.6.1.4.1.1466.20037"))
        m = self.recv()
        if m.code != 0:
            raise BerError("StartTLS refused: %r" % m)
        ctx = ssl.create_default_context(cafile=cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)
        return m

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no complete message within the timeout")
        self.sock.settimeout(left)
        d = self.sock.recv(65536)
        if not d:
            raise Closed("connection closed by the peer")
        self.buf += d

    def recv(self, timeout=None):
        """The next LDAPMessage; Closed on EOF, socket.timeout on timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            e = frame_len(self.buf)
            if e is not None and len(self.buf) >= e:
                    raw = bytes(self.buf[:e])
                    del self.buf[:e]
                    return Msg(raw)
            self._fill(deadline)

    def until_done(self, msgid, timeout=None):
        """Messages up to and including the final response for msgid (others kept aside)."""
        out = []
        while True:
            m = self.recv(timeout)
            out.append(m)
            if m.msgid == msgid and m.tag in RESULT_TAGS:
                return out

    def bind(self, dn, password, timeout=None):
        mid = self.msgid()
        self.send(bind_req(mid, dn, password))
        m = self.until_done(mid, timeout)[-1]
        return m

    def search(self, base, filt, attrs=(), scope=SCOPE_SUB, controls=None, timeout=None, **kw):
        mid = self.msgid()
        self.send(search_req(mid, base, filt, attrs, scope, controls=controls, **kw))
        msgs = self.until_done(mid, timeout)
        return [m for m in msgs if m.tag == SEARCH_ENTRY and m.msgid == mid], msgs[-1]

    def read_until_eof(self, timeout):
        """Reads everything until EOF; returns the messages seen. socket.timeout if no EOF."""
        deadline = time.monotonic() + timeout
        msgs = []
        while True:
            try:
                while True:
                    e = frame_len(self.buf)
                    if e is None or len(self.buf) < e:
                        break
                    raw = bytes(self.buf[:e])
                    del self.buf[:e]
                    msgs.append(Msg(raw))
                self._fill(deadline)
            except (Closed, ConnectionResetError):
                return msgs

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def env(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit("environment variable %s is not set (run under the rig)" % name)
    return v


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
