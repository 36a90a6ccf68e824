#!/usr/bin/env python3
"""faultrelay.py — a TCP relay between aldproxy and the directory that
misbehaves on command, to play a faulty controller (test_faults.sh).

    faultrelay.py LISTEN_PORT TARGET_HOST TARGET_PORT MODE_FILE

The mode is the first line of MODE_FILE, read again whenever the file
changes (write a new file and rename it over MODE_FILE):

    pass        forward both ways
    silent      every connection is cut (RST), and new ones are accepted and
                read but never answered: a controller that hangs
    garbage     the next chunk the directory sends on each connection is
                replaced by bytes that are no LDAPMessage; then pass
    reset N     after N more bytes from the directory on each connection,
                both sides are reset (RST) — a controller dying mid-result
    hold        the answers on connections that carried a subtree or
                one-level search are held back (requests still go through)
                until the mode changes: a directory busy with long searches,
                while bind connections and base lookups' own connections
                (if any) answer

Each line of the relay's stdout says what it did (for the test's log).
"""
import os
import selectors
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

LISTEN_PORT, HOST, PORT, MODE_FILE = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
GARBAGE = b"\x30\x84\x7f\xff\xff\xff" + b"\xa5" * 64   # a 2 GiB envelope, then noise

sel = selectors.DefaultSelector()
mode, mode_arg, mode_stamp = "pass", 0, None


def say(msg):
    print("faultrelay: " + msg, flush=True)


def rst(s):
    """Close with a reset, not a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sel.unregister(s)
    except (KeyError, ValueError):
        pass
    s.close()


class Pair:
    def __init__(self, client):
        self.client, self.server = client, None
        self.garbled = False
        self.reset_left = None
        self.up = bytearray()       # aldproxy's requests, parsed for `hold`
        self.searching = False      # it carried a subtree or one-level search
        self.held = []
        if mode != "silent":
            self.server = socket.create_connection((HOST, PORT))
            self.server.setblocking(False)
            sel.register(self.server, selectors.EVENT_READ, (self, "server"))
        self.apply_mode()
        self.client.setblocking(False)
        sel.register(self.client, selectors.EVENT_READ, (self, "client"))
        pairs.add(self)

    def apply_mode(self):
        self.garbled = False
        self.reset_left = mode_arg if mode == "reset" else None

    def close(self, how):
        for s in (self.client, self.server):
            if s is not None:
                if how == "rst":
                    rst(s)
                else:
                    try:
                        sel.unregister(s)
                    except (KeyError, ValueError):
                        pass
                    s.close()
        pairs.discard(self)

    def from_client(self):
        data = self.client.recv(65536)
        if not data:
            return self.close("fin")
        if self.server is not None:
            self.server.sendall(data)
            self.up += data
            while True:
                e = w.frame_len(self.up)
                if e is None or len(self.up) < e:
                    break
                msg, self.up = bytes(self.up[:e]), self.up[e:]
                try:
                    _, s, e2 = w.dec_tlv(msg)
                    kids = w.dec_children(msg, s, e2)
                    if kids[1][0] == 0x63:
                        req = w.dec_children(msg, kids[1][1], kids[1][2])
                        if w.dec_int(msg, req[1][1], req[1][2]) != 0:
                            self.searching = True
                except (w.BerError, IndexError):
                    pass
        # silent: read and dropped

    def from_server(self):
        data = self.server.recv(65536)
        if not data:
            return self.close("fin")
        if mode == "hold" and self.searching:
            self.held.append(data)
            return
        if mode == "garbage" and not self.garbled:
            self.garbled = True
            say("garbage instead of %d bytes" % len(data))
            data = GARBAGE
        if self.reset_left is not None:
            if len(data) >= self.reset_left:
                self.client.sendall(data[:self.reset_left])
                say("reset mid-stream")
                return self.close("rst")
            self.reset_left -= len(data)
        self.send_client(data)

    def send_client(self, data):
        self.client.setblocking(True)
        try:
            self.client.sendall(data)
        finally:
            self.client.setblocking(False)

    def flush_held(self):
        held, self.held = self.held, []
        if held:
            say("releasing %d held chunks" % len(held))
        for d in held:
            self.send_client(d)


def read_mode():
    global mode, mode_arg, mode_stamp
    try:
        st = os.stat(MODE_FILE)
    except FileNotFoundError:
        return
    stamp = (st.st_mtime_ns, st.st_ino)
    if stamp == mode_stamp:
        return
    mode_stamp = stamp
    words = (open(MODE_FILE).readline().split() or ["pass"])
    mode, mode_arg = words[0], int(words[1]) if len(words) > 1 else 0
    say("mode %s %s" % (mode, mode_arg or ""))
    if mode == "silent":
        for p in list(pairs):
            p.close("rst")
    for p in list(pairs):
        p.apply_mode()
        if mode != "hold":
            try:
                p.flush_held()
            except OSError:
                p.close("rst")


pairs = set()
lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", LISTEN_PORT))
lsock.listen(128)
lsock.setblocking(False)
sel.register(lsock, selectors.EVENT_READ, None)
say("listening on %d for %s:%d" % (LISTEN_PORT, HOST, PORT))
while True:
    read_mode()
    for key, _ in sel.select(timeout=0.05):
        if key.data is None:
            c, _ = lsock.accept()
            try:
                Pair(c)
            except OSError as e:
                say("cannot reach the directory: %s" % e)
                rst(c)
            continue
        pair, side = key.data
        if pair not in pairs:
            continue
        try:
            pair.from_client() if side == "client" else pair.from_server()
        except OSError:
            pair.close("rst")
