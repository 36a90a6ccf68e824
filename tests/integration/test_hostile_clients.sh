#!/usr/bin/env bash
# test_hostile_clients.sh — the limits that stand up to hostile clients
# (docs/security.md, "Hostile clients"), each against a proxy configured
# for it (lib/hostile.py):
#   - before a bind: a small request-size limit and a deadline from accept
#     that trickling bytes does not extend; a bound connection is not affected;
#   - connections per source address;
#   - failed binds slow the next binds of that account (never a lockout),
#     not other accounts';
#   - failed binds from one address get it refused binds for a while
#     (audited once);
#   - the budget of binds sent to the directory per second;
#   - a flood of refused requests writes a few audit records and one summary;
#   - all clients' unread results together stay under limits.max_total_output:
#     the largest holder is cut off; aldproxyd's peak RSS is reported and bounded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_hostile_clients
rig_init
rig_certs
rig_slapd_start

part_keep() {   # NAME, with RIG_* limits in the environment; the proxy stays up
	rig_proxy_config
	rig_proxy_start
	timeout 240 bash -c '. "$1/lib/common.sh"; py hostile.py "$2"' _ "$here" "$1" || fail "lib/hostile.py $1 failed"
}
part() {
	part_keep "$1"
	rig_proxy_stop || fail "aldproxyd did not stop cleanly after $1"
}

RIG_MAX_UNBOUND_PDU=64k RIG_UNBOUND_TIMEOUT=2 part prebind
RIG_MAX_CONNECTIONS_PER_ADDRESS=5 part peraddress
RIG_ACCOUNT_FAILURES_DELAY=2 part account
RIG_ADDRESS_FAILURES_BLOCK=8 RIG_ADDRESS_BLOCK_TIME=60 part address
assert_contains "$RIG_DIR/audit.log" '"event":"address_blocked"' "no address_blocked audit record"
n=$(grep -c '"event":"address_blocked"' "$RIG_DIR/audit.log" || true)
assert_eq 1 "$n" "address_blocked audited once"
ok "the block is audited once"
RIG_MAX_BINDS_PER_SECOND=20 part budget

: >"$RIG_DIR/audit.log"
part flood
n=$(grep -c '"event":"access_denied"' "$RIG_DIR/audit.log" || true)
[ "$n" -eq 6 ] || fail "200 refused searches before a bind wrote $n access_denied records (expected 5 and one summary)"
assert_contains "$RIG_DIR/audit.log" '"reason":"repeated"' "no summary record"
assert_contains "$RIG_DIR/audit.log" '195 more requests' "the summary does not count the rest"
ok "200 refused searches before a bind: 5 audit records and one summary of the other 195"

# 10 clients that never read, each owed ~20 MB; 64 MiB each allowed, 8 MiB in all
RIG_MAX_TOTAL_OUTPUT=8m RIG_MAX_CLIENT_OUTPUT=64m RIG_MAX_BULK=10 part_keep output
n=$(grep -c 'exceed limits.max_total_output' "$PROXY_LOG" || true)
[ "$n" -ge 3 ] || fail "proxy log: $n cuts for limits.max_total_output, expected >= 3"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$PROXY_PID/status")
rig_proxy_stop || fail "aldproxyd did not stop cleanly after output"
# the bound: 100 MiB (the sanitizer build's shadow memory and quarantine: 600 MiB)
bound=102400
case "${ALDPROXYD:-}" in *asan*) bound=614400 ;; esac
[ "$hwm" -lt "$bound" ] || fail "aldproxyd's peak RSS was $hwm KiB (bound: $((bound / 1024)) MiB)"
ok "limits.max_total_output 8m: $n non-readers cut off, largest first; aldproxyd's peak RSS $((hwm / 1024)) MiB"
test_pass
