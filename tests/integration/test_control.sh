#!/usr/bin/env bash
# test_control.sh — the control socket and aldproxyctl: health with its exit
# codes (0 healthy, 2 down), stats, backends, connections, reload, and
# clear errors for a bad command or an unreachable daemon.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start
CTL="${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}"
SOCK="$RIG_DIR/control.sock"

[ "$(stat -c %a "$SOCK")" = 600 ] || fail "control socket mode $(stat -c %a "$SOCK"), expected 600"
out=$("$CTL" -c "$PROXY_CONFIG" health) || fail "health exit $?: $out"
assert_contains "$out" "aldproxyd: healthy"
json=$("$CTL" -s "$SOCK" health --json)
"$RIG_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["status"]=="healthy" and d["code"]==0 and d["servers"][0]["ready"]>0, d' "$json"
echo "ok - health: healthy, exit 0, JSON"

ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=alice)" uid >/dev/null
stats=$("$CTL" -s "$SOCK" stats)
"$RIG_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["binds_ok"]>=1 and d["searches"]>=1 and d["entries"]>=1, d' "$stats"
backends=$("$CTL" -s "$SOCK" backends)
"$RIG_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); assert any(u["state"]=="ready" for u in d) and len(d)>=3, d' "$backends"
conns=$("$CTL" -s "$SOCK" connections)
"$RIG_PYTHON" -c 'import json,sys; json.loads(sys.argv[1])' "$conns"
echo "ok - stats, backends and connections answer JSON with the counts"

rc=0; out=$(printf 'bogus\n' | "$RIG_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"bogus\n"); print(s.recv(4096).decode())' "$SOCK") || rc=$?
assert_contains "$out" "unknown command 'bogus'"
out=$("$CTL" -s "$SOCK" reload) || fail "reload via aldproxyctl: $out"
assert_contains "$out" '"reload":"done"'
assert_contains "$PROXY_LOG" "reload done"
echo "ok - unknown commands get a clear error; reload works over the socket"

rig_slapd_stop
sleep 1
rc=0; out=$("$CTL" -s "$SOCK" health) || rc=$?
assert_eq 2 "$rc" "health with the directory stopped: $out"
assert_contains "$out" "aldproxyd: down"
echo "ok - health reports down (exit 2) when no directory connection is ready"

rig_proxy_stop
rc=0; out=$("$CTL" -s "$SOCK" health 2>&1) || rc=$?
assert_eq 2 "$rc" "health with no daemon"
assert_contains "$out" "cannot reach aldproxyd"
echo "ok - an unreachable daemon: exit 2 with a clear message"
echo "PASS test_control"
