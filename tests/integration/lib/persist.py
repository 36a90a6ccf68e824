#!/usr/bin/env python3
"""persist.py OUT STOPFILE — one client connection kept across a directory
outage: bind once, then search uid=alice every 0.1 s on the SAME connection
until STOPFILE exists; append "EPOCH_START EPOCH_END CODE" per search to OUT
(CODE 0 = alice found, an LDAP result code, or -1 = no answer within 15 s /
connection lost, after which it stops)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapwire as w  # noqa: E402

out, stop = sys.argv[1], sys.argv[2]
c = w.Conn(w.env("PROXY_URL"), timeout=15)
m = c.bind(w.env("SVC_DN"), w.env("SVC_PW"))
if m.code != 0:
    sys.exit("persist.py: bind failed: %r" % m)
users = w.env("USERS_DN")
with open(out, "a", buffering=1) as f:
    while not os.path.exists(stop):
        t0 = time.time()
        try:
            es, d = c.search(users, w.f_eq("uid", "alice"), ["uid"], timeout=15)
            code = d.code
            if code == 0 and (len(es) != 1 or not es[0].dn.lower().startswith("uid=alice,")):
                code = 1000           # wrong answer
        except Exception as e:  # noqa: BLE001
            f.write("%.3f %.3f -1 %s\n" % (t0, time.time(), type(e).__name__))
            sys.exit(1)
        f.write("%.3f %.3f %d\n" % (t0, time.time(), code))
        time.sleep(0.1)
c.close()
