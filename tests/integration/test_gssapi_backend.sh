#!/usr/bin/env bash
# test_gssapi_backend.sh — aldproxy authenticates its pooled directory
# connections with SASL/GSSAPI from a keytab (a real MIT KDC, slapd with
# GSSAPI over StartTLS): the directory sees aldproxy's mapped DN; tickets
# that expire during the run are renewed and new connections keep working;
# the KDC down (tickets valid, then expired) is served, then reported and
# answered with 'unavailable', and recovered from; a wrong keytab gives a
# clear error at start and 'unavailable' to clients.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
export RIG_KDC_TICKET_LIFETIME=20
rig_kdc_start
export RIG_GSSAPI=1 RIG_SLAPD_DEBUG=stats
rig_slapd_start

gssapi_config() {   # KEYTAB
	rig_proxy_config
	sed -i "s|^backend:$|backend:\n  auth: gssapi\n  principal: $ALDPROXY_PRINCIPAL\n  keytab: $1|" "$PROXY_CONFIG"
}

search() {
	ldapsearch -x -LLL -o nettimeout=5 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "$@"
}

# 1. the right keytab: the directory binds aldproxy's connections as its mapped entry
gssapi_config "$ALDPROXY_KEYTAB"
rig_proxy_start
out=$(search "(uid=alice)" uid memberOf) || fail "search through a GSSAPI-bound pool: $out"
assert_contains "$out" "uid: alice"
assert_contains "$RIG_DIR/slapd.log" 'BIND dn="uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test" mech=GSSAPI'
assert_contains "$PROXY_LOG" "Kerberos: credentials for $ALDPROXY_PRINCIPAL"
assert_not_contains "$RIG_DIR/slapd.log" 'dn="uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test" method=128' \
	"aldproxy must not fall back to a simple bind"
echo "ok - pooled connections bind with GSSAPI as uid=aldproxy (the controller's mapping)"

# 2. the tickets (20 s) expire during the run: renewed before expiry, and
#    connections made after the first ticket expired still bind
sleep 24
assert_contains "$PROXY_LOG" "renewing in"
n=$(grep -c "Kerberos: credentials for" "$PROXY_LOG")
[ "$n" -ge 2 ] || fail "the credentials were not renewed ($n acquisitions)"
rig_slapd_restart      # every pooled connection must be made again, with new tickets
ok=0
for ((i = 0; i < 50; i++)); do
	if out=$(search "(uid=bob)" uid 2>&1) && grep -q "uid: bob" <<<"$out"; then ok=1; break; fi
	sleep 0.2
done
[ "$ok" = 1 ] || fail "no search succeeded after the directory restart with renewed tickets: $out"
echo "ok - credentials renewed ($n acquisitions); connections made after expiry bind again"

# 3. the KDC goes down: the connections in hand keep serving; health says the
#    credentials cannot be renewed, then that they expired; clients get
#    'unavailable' at once (never a hang) once no connection can bind; when the
#    KDC is back the next retry (10 s) renews and everything binds again
CTL=${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}
health() { "$CTL" -s "$RIG_DIR/control.sock" health; }
rig_kdc_stop
for ((i = 0; i < 250; i++)); do
	grep -q "Kerberos: cannot get a ticket" "$PROXY_LOG" && break
	sleep 0.1
done
assert_contains "$PROXY_LOG" "Kerberos: cannot get a ticket"
out=$(search "(uid=alice)" uid) || fail "search with the KDC down and valid tickets: $out"
assert_contains "$out" "uid: alice"
rc=0; h=$(health) || rc=$?
if [ "$rc" = 1 ] && grep -q "the credentials in hand expire in" <<<"$h"; then
	echo "ok - KDC down, tickets valid: searches served; health degraded: $(grep problem <<<"$h")"
else
	# the renewal window is short (20 s tickets): they may have run out already
	grep -q "the credentials have expired" <<<"$h" || fail "health with the KDC down (exit $rc): $h"
	echo "ok - KDC down: searches served while the tickets lasted; health: $(grep problem <<<"$h")"
fi
for ((i = 0; i < 250; i++)); do
	health | grep -q "the credentials have expired" && break
	sleep 0.1
done
rig_slapd_restart      # every pooled connection must be made again: no ticket can be had
t0=$(date +%s.%N)
rc=0; out=$(search "(uid=alice)" uid 2>&1) || rc=$?
t1=$(date +%s.%N)
assert_eq 52 "$rc" "a search with the KDC down and the tickets expired: $out"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 8) }' || fail "the search took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s to fail"
rc=0; h=$(health) || rc=$?
assert_eq 2 "$rc" "health exit code with no connection able to bind: $h"
assert_contains "$h" "the credentials have expired"
assert_contains "$h" "last error:"
echo "ok - KDC down, tickets expired: clients get unavailable (52) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; health down, naming why"
rig_kdc_start
ok=0
for ((i = 0; i < 200; i++)); do
	if out=$(search "(uid=bob)" uid 2>&1) && grep -q "uid: bob" <<<"$out"; then ok=1; break; fi
	sleep 0.1
done
[ "$ok" = 1 ] || fail "no search succeeded within 20 s of the KDC coming back: $out"
for ((i = 0; i < 50; i++)); do health >/dev/null && break; sleep 0.1; done
h=$(health) || fail "health after the KDC came back: $h"
assert_contains "$PROXY_LOG" "Kerberos: credentials renewed after"
echo "ok - the KDC back: credentials renewed, connections bind, health healthy"
rig_proxy_stop

# 4. a wrong (stale) keytab: a clear error at start, and clients get 'unavailable'
: >"$PROXY_LOG"
gssapi_config "$WRONG_KEYTAB"
"${ALDPROXYD:-$REPO/build/src/aldproxyd}" -f -c "$PROXY_CONFIG" >>"$PROXY_LOG" 2>&1 &
PROXY_PID=$!
export PROXY_PID
for ((i = 0; i < 50; i++)); do
	grep -q "GSSAPI bind as" "$PROXY_LOG" 2>/dev/null && break
	sleep 0.1
done
assert_contains "$PROXY_LOG" "Kerberos: cannot get a ticket with the keytab for $ALDPROXY_PRINCIPAL"
assert_contains "$PROXY_LOG" "GSSAPI bind as $ALDPROXY_PRINCIPAL failed"
rc=0
out=$(search "(uid=alice)" uid 2>&1) || rc=$?
assert_eq 52 "$rc" "a search while no pooled connection can bind: $out"
echo "ok - a wrong keytab: clear errors at start, clients get unavailable (52)"
rig_proxy_stop
echo "PASS test_gssapi_backend"
