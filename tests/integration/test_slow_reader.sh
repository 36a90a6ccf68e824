#!/usr/bin/env bash
# test_slow_reader.sh — clients that never read their results
# (limits.max_client_output 256k) do not slow anyone else down: 20 of them
# each ask for every user (5 times, all attributes) and stop reading, while a
# normal client's 200 searches all answer in < 2 s; the proxy cuts the slow
# ones off ("cut off" in the log) and closes their sockets (lib/slow.py).
# (OpenLDAP itself stalls with 20 such clients; that is not tested here.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_MAX_CLIENT_OUTPUT=256k
test_begin test_slow_reader
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

timeout 90 bash -c '. "$1/lib/common.sh"; py slow.py' _ "$here" || fail "lib/slow.py failed"

n=$(grep -c 'cut off: .* unread result bytes exceed limits.max_client_output' "$PROXY_LOG" || true)
[ "$n" -ge 20 ] || fail "proxy log: $n 'cut off' lines, expected >= 20"
# the shared directory connections survived the slow clients
assert_not_contains "$PROXY_LOG" "connection lost" "a directory connection was lost during the slow-reader test"
out=$(proxy_search -b "$USERS_DN" '(uid=alice)' uid) || fail "ldapsearch after the slow clients: $out"
assert_contains "$out" "dn: uid=alice,$USERS_DN"
ok "proxy log: $n slow clients cut off; directory connections intact"
rig_proxy_stop || fail "aldproxyd did not stop cleanly"

# A client that stops reading below limits.max_client_output: its reading
# pauses with results unread, so it sends nothing more — the write side sees
# it stall, and limits.idle_timeout (3 s here) closes it.
export RIG_MAX_CLIENT_OUTPUT=8m RIG_IDLE_TIMEOUT=3
rig_proxy_config
rig_proxy_start
timeout 60 bash -c '. "$1/lib/common.sh"; py - ' _ "$here" <<'PY' || fail "a stalled reader was not closed"
import os, sys, time
sys.path.insert(0, os.environ["INTEG_LIB"])
import ldapwire as w
c = w.Conn(os.environ["PROXY_URL"], timeout=30, rcvbuf=4096)
m = c.bind(os.environ["SVC_DN"], os.environ["SVC_PW"])
assert m.code == 0, m
for i in range(10):
    c.send(w.search_req(c.msgid(), os.environ["USERS_DN"], w.f_present("objectClass"), ["*"]))
time.sleep(0.5)
t0 = time.monotonic()
# never read until the proxy gives up, then the socket ends well before the 13 MB asked for
while time.monotonic() - t0 < 20:
    log = open(os.environ["PROXY_LOG"]).read()
    if "its unread results made no progress within limits.idle_timeout" in log:
        print("ok - a stalled reader below max_client_output closed after %.1f s" % (time.monotonic() - t0))
        sys.exit(0)
    time.sleep(0.2)
print("FAIL: still connected after 20 s", file=sys.stderr)
sys.exit(1)
PY
kill -0 "$PROXY_PID" 2>/dev/null || fail "aldproxyd died"
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
