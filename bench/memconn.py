#!/usr/bin/env python3
"""memconn.py — aldproxyd's memory per client connection.

Opens N connections to the proxy, binds each one (simple bind) and runs one
search on each, then reads the proxy's resident memory (VmRSS) and reports
(RSS after - RSS before) / N.  Then closes them all and reads it again:
memory given back after the spike (rss_closed, and its ratio to the start).

    memconn.py URL PID BIND_DN PASSWORD BASE [N]
"""
import socket
import sys
import time


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + ber_len(len(body)) + body


def integer(v, tag=0x02):
    return tlv(tag, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big"))


def message(msgid, op):
    return tlv(0x30, integer(msgid) + op)


def bind_req(msgid, dn, pw):
    return message(msgid, tlv(0x60, integer(3) + tlv(0x04, dn.encode()) + tlv(0x80, pw.encode())))


def search_req(msgid, base, uid):
    flt = tlv(0xa3, tlv(0x04, b"uid") + tlv(0x04, uid.encode()))
    body = (tlv(0x04, base.encode()) + integer(2, 0x0a) + integer(0, 0x0a) + integer(0) + integer(0)
            + tlv(0x01, b"\x00") + flt + tlv(0x30, tlv(0x04, b"cn")))
    return message(msgid, tlv(0x63, body))


def read_until(sock, tag):
    """Reads messages until one whose protocolOp tag is `tag`."""
    buf = b""
    while True:
        while len(buf) < 2 or len(buf) < total_len(buf):
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            buf += chunk
        n = total_len(buf)
        msg, buf = buf[:n], buf[n:]
        i = 2 if msg[1] < 0x80 else 2 + (msg[1] & 0x7f)
        i += 2 + msg[i + 1]
        if msg[i] == tag:
            return msg


def total_len(buf):
    if len(buf) < 2:
        return 1 << 30
    if buf[1] < 0x80:
        return 2 + buf[1]
    n = buf[1] & 0x7f
    if len(buf) < 2 + n:
        return 1 << 30
    return 2 + n + int.from_bytes(buf[2:2 + n], "big")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def main():
    url, pid, dn, pw, base = sys.argv[1:6]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    before = rss(pid)
    socks = []
    for i in range(n):
        s = socket.create_connection((host, int(port)))
        s.sendall(bind_req(1, dn, pw))
        read_until(s, 0x61)
        s.sendall(search_req(2, base, "user%04d" % (i % 1000 + 1)))
        read_until(s, 0x65)
        socks.append(s)
    time.sleep(0.5)
    after = rss(pid)
    for s in socks:
        s.close()
    time.sleep(2.0)     # the proxy notices the closes, frees the clients and returns memory
    closed = rss(pid)
    print(f"connections={n} rss_before={before} rss_after={after} bytes_per_connection={(after - before) / n:.0f} "
          f"rss_closed={closed} closed_vs_before={closed / before:.2f}")


if __name__ == "__main__":
    main()
