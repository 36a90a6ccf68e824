#!/usr/bin/env bash
# test_faults.sh — a faulty controller (lib/faultrelay.py between aldproxy
# and slapd) and a full audit disk.  aldproxy must answer every client —
# with the data, or with a result code and a message — within seconds, say
# what is wrong in `aldproxyctl health`, and recover by itself:
#   1. the controller resets the connection in the middle of a result;
#   2. it answers bytes that are no LDAP message;
#   3. it accepts connections and never answers (not even aldproxy's bind);
#   4. the audit file's disk is full (/dev/full): requests are still served,
#      health is degraded and names the lost records, a reload to a good
#      file clears it.
# (The KDC going down is in test_gssapi_backend.sh, a hung controller that
# keeps its connections open in test_controllers.sh.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_faults
rig_init
rig_certs
rig_slapd_start
RELAY_PORT=$PROXY_PORT2
MODE="$RIG_DIR/relay.mode"
echo pass >"$MODE"
"$RIG_PYTHON" "$here/lib/faultrelay.py" "$RELAY_PORT" 127.0.0.1 "$SLAPD_PORT" "$MODE" >"$RIG_DIR/relay.log" 2>&1 &
rig_track_pid $!
for ((i = 0; i < 50; i++)); do
	grep -q listening "$RIG_DIR/relay.log" && break
	sleep 0.1
done
export RIG_BACKEND_SERVERS="ldap://127.0.0.1:$RELAY_PORT" RIG_BACKEND_STARTTLS=false
export RIG_CONNECT_TIMEOUT=2 RIG_OP_TIMEOUT=5 RIG_RECONNECT_MIN=0.1 RIG_RECONNECT_MAX=0.5
rig_proxy_config
sed -i "s|^backend:$|backend:\n  probe_interval: 1|" "$PROXY_CONFIG"
rig_proxy_start
CTL=${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}
health() { "$CTL" -s "$RIG_DIR/control.sock" health; }

set_mode() {    # MODE...
	echo "$*" >"$MODE.new"
	mv "$MODE.new" "$MODE"
	sleep 0.2   # the relay polls every 50 ms
}

# timed CMD...: runs CMD, sets RC, OUT and SECS (wall time)
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	RC=0
	OUT=$("$@" 2>&1) || RC=$?
	t1=$(date +%s.%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
within() {      # SECONDS WHAT
	awk -v s="$SECS" -v m="$1" 'BEGIN { exit !(s < m) }' || fail "$2 took $SECS s (limit $1 s)"
}
small() { ldapsearch -x -LLL -o nettimeout=20 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=alice)" uid; }
big() { ldapsearch -x -LLL -o nettimeout=20 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(objectClass=person)" '*'; }
recovered() {   # WHAT: a search answers and health is healthy again within 10 s
	local i
	for ((i = 0; i < 100; i++)); do
		if small >/dev/null 2>&1 && health >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	fail "$1: aldproxy did not recover within 10 s: $(health 2>&1)"
}

timed small
[ "$RC" = 0 ] && grep -q "uid: alice" <<<"$OUT" || fail "search through the relay: $OUT"
ok "searches through the relay"

# 1. reset in the middle of a result
set_mode reset 30000
timed big
set_mode pass
[ "$RC" = 52 ] || fail "a result cut by a reset: expected unavailable (52), got $RC: $(tail -3 <<<"$OUT")"
within 5 "the answer to a search whose controller reset mid-result"
assert_contains "$OUT" "directory server connection lost"
grep -q "reset mid-stream" "$RIG_DIR/relay.log" || fail "the relay did not reset anything"
recovered "after a reset mid-result"
ok "controller reset mid-result: the client got unavailable (52) in $SECS s with the reason; aldproxy reconnected"

# 2. garbage instead of a result
set_mode garbage
timed small
set_mode pass
[ "$RC" = 52 ] || fail "garbage from the controller: expected unavailable (52), got $RC: $OUT"
within 5 "the answer to a search answered with garbage"
assert_contains "$PROXY_LOG" "malformed LDAP message from the directory"
recovered "after garbage"
ok "controller answered garbage: unavailable (52) in $SECS s, 'malformed LDAP message' logged; aldproxy reconnected"

# 3. accepts and never answers
set_mode silent
timed small
[ "$RC" = 52 ] || fail "a controller that never answers: expected unavailable (52), got $RC: $OUT"
within 8 "the answer to a search while the controller never answers"
t_search=$SECS
timed ldapwhoami -x -o nettimeout=20 -H "$PROXY_URL" -D "uid=alice,$USERS_DN" -w Secret123
[ "$RC" = 52 ] || fail "a user bind while the controller never answers: expected unavailable (52), got $RC: $OUT"
within 12 "a user bind while the controller never answers"
for ((i = 0; i < 50; i++)); do
	rc=0; h=$(health) || rc=$?
	[ "$rc" = 2 ] && break
	sleep 0.1
done
assert_eq 2 "$rc" "health exit code while the controller never answers: $h"
assert_contains "$h" "last error:"
ok "controller accepts and never answers: search 52 in $t_search s, bind 52 in $SECS s; health down: $(grep -o 'last error:.*' <<<"$h")"
set_mode pass
recovered "after the silent controller answered again"
ok "the controller answers again: served and healthy"

# 4. the audit file's disk is full
sed -i "s|^  file: .*|  file: /dev/full|" "$PROXY_CONFIG"
"$CTL" -s "$RIG_DIR/control.sock" reload >/dev/null || fail "reload to audit.file /dev/full"
rc=0; ldapwhoami -x -H "$PROXY_URL" -D "uid=alice,$USERS_DN" -w wrong >/dev/null 2>&1 || rc=$?
assert_eq 49 "$rc" "a wrong password with the audit disk full"
timed small
[ "$RC" = 0 ] || fail "a search with the audit disk full: $OUT"
rc=0; h=$(health) || rc=$?
assert_eq 1 "$rc" "health exit code with the audit disk full: $h"
assert_contains "$h" "audit: cannot write to /dev/full: No space left on device"
assert_contains "$PROXY_LOG" "records are lost until it can"
ok "audit disk full: requests served; health degraded: $(grep problem <<<"$h")"
sed -i "s|^  file: /dev/full|  file: $AUDIT_LOG|" "$PROXY_CONFIG"
"$CTL" -s "$RIG_DIR/control.sock" reload >/dev/null || fail "reload back to the audit file"
ldapwhoami -x -H "$PROXY_URL" -D "uid=alice,$USERS_DN" -w wrong >/dev/null 2>&1 || true
h=$(health) || fail "health after the audit file is writable again: $h"
tail -1 "$AUDIT_LOG" | grep -q '"bind_failure"' || fail "no audit record after the reload: $(tail -1 "$AUDIT_LOG")"
ok "audit file writable again (reload): records written, health healthy"

kill -0 "$PROXY_PID" 2>/dev/null || fail "aldproxyd died"
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
