#!/usr/bin/env bash
# test_controllers.sh — two controllers as in production: an MIT KDC, both
# slapds taking SASL/GSSAPI over StartTLS, aldproxy binding with its keytab.
# Priorities (the preferred one takes the load while it is healthy), the
# active health probe (a controller that hangs without closing its
# connections is found by the probe and taken out), and its return when it
# answers again.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
rig_kdc_start
export RIG_GSSAPI=1
rig_slapd_start
B_PORT=$PROXY_PORT2
env KRB5_KTNAME="FILE:$LDAP_KEYTAB" KRB5_CONFIG="$KRB5_CONFIG" KRB5RCACHEDIR="$KRB5RCACHEDIR" \
	slapd -h "ldap://127.0.0.1:$B_PORT/" -F "$RIG_DIR/slapd/slapd.d" -d stats </dev/null >>"$RIG_DIR/slapd-b.log" 2>&1 &
B_PID=$!
rig_track_pid "$B_PID"
for ((i = 0; i < 100; i++)); do
	ldapsearch -x -H "ldap://127.0.0.1:$B_PORT" -D "$SVC_DN" -w "$SVC_PW" -b '' -s base >/dev/null 2>&1 && break
	sleep 0.1
done
export RIG_CONNECT_TIMEOUT=2 RIG_RECONNECT_MAX=0.5
rig_proxy_config
# A (the rig's slapd) preferred, B a backup; probe idle connections every second
sed -i -e "s|^    - ldap://localhost:$SLAPD_PORT$|    - { url: \"ldap://localhost:$SLAPD_PORT\", priority: 0 }\n    - { url: \"ldap://localhost:$B_PORT\", priority: 10 }|" \
	-e "s|^backend:$|backend:\n  probe_interval: 1\n  auth: gssapi\n  principal: $ALDPROXY_PRINCIPAL\n  keytab: $ALDPROXY_KEYTAB|" "$PROXY_CONFIG"
rig_proxy_start
for log in "$RIG_DIR/slapd.log" "$RIG_DIR/slapd-b.log"; do
	grep -q 'BIND dn="uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test" mech=GSSAPI' "$log" ||
		fail "aldproxy did not bind to $(basename "$log" .log) with GSSAPI"
done
echo "ok - both controllers see aldproxy's GSSAPI binds as uid=aldproxy" 

searches_on() { grep -c "SRCH base=\"$USERS_DN\"" "$1" || true; }
run_searches() {
	for ((i = 0; i < 20; i++)); do
		ldapsearch -x -LLL -o nettimeout=5 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=alice)" uid \
			>/dev/null || return 1
	done
}

# 1. priority: everything goes to A while it is healthy
a0=$(searches_on "$RIG_DIR/slapd.log"); b0=$(searches_on "$RIG_DIR/slapd-b.log")
run_searches || fail "searches with both controllers up"
a1=$(searches_on "$RIG_DIR/slapd.log"); b1=$(searches_on "$RIG_DIR/slapd-b.log")
[ $((a1 - a0)) -ge 20 ] && [ "$b1" = "$b0" ] || fail "priority: A got $((a1 - a0)), B got $((b1 - b0)) of 20 searches"
echo "ok - the preferred controller (priority 0) takes every search"

# 2. A hangs (SIGSTOP: connections stay open, nothing answers): the probe takes it out
kill -STOP "$SLAPD_PID"      # (not the pid file: B, on the same configuration, wrote its own there)
for ((i = 0; i < 60; i++)); do
	grep -q "localhost:$SLAPD_PORT shared#.*health probe: no answer" "$PROXY_LOG" && break
	sleep 0.1
done
assert_contains "$PROXY_LOG" "health probe: no answer within 2.0 s"
b2=$(searches_on "$RIG_DIR/slapd-b.log")
run_searches || fail "searches while A hangs"
b3=$(searches_on "$RIG_DIR/slapd-b.log")
[ $((b3 - b2)) -ge 20 ] || fail "with A hung, B got only $((b3 - b2)) of 20 searches"
echo "ok - a hung controller is found by the health probe; the backup takes the load"

# 3. A answers again: it rejoins and, preferred, takes the load back
kill -CONT "$SLAPD_PID"
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c "localhost:$SLAPD_PORT shared#.*connection ready" "$PROXY_LOG")" -ge 4 ] && break
	sleep 0.1
done
a4=$(searches_on "$RIG_DIR/slapd.log")
run_searches || fail "searches after A came back"
a5=$(searches_on "$RIG_DIR/slapd.log")
[ $((a5 - a4)) -ge 20 ] || fail "A came back but got only $((a5 - a4)) of 20 searches"
out=$("${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}" -s "$RIG_DIR/control.sock" health) || fail "health: $out"
echo "ok - the controller rejoins when it answers and is preferred again"
rig_proxy_stop
echo "PASS test_controllers"
