"""syslogd.py — a minimal syslog receiver for tests: every datagram that
arrives on a Unix socket, one per line, to a file.

usage: syslogd.py SOCKET OUTFILE
Runs until killed.  glibc's syslog(3) sends "<PRI>TIMESTAMP IDENT[PID]: MSG".
"""
import os, socket, sys

path, out = sys.argv[1:3]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    open(out + ".ready", "w").close()
    while True:
        data = s.recv(65536).decode("utf-8", "replace")
        f.write(data.replace("\n", "\\n") + "\n")
