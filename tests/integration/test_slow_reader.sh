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
test_pass
