#!/usr/bin/env bash
# test_concurrency.sh — 200 concurrent clients, each binding as the service
# account and pipelining 20 searches (distinct messageIDs, all sent before
# any read) through aldproxy's shared directory connections; every answer
# must reach the right client under the right messageID (lib/concurrency.py).
# A second round runs while plain ldapsearch clients keep working.
#
# pool_size is 8 here, not the rig's 2: with 2 connections the 4000
# searches put ~2000 outstanding requests on each, over slapd's
# conn_max_pending_auth (1000), and slapd drops the connection — a proxy
# bug exercised on its own by test_backend_pending.sh.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_POOL_SIZE=${RIG_POOL_SIZE:-8}
test_begin test_concurrency
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start
start_line=$(log_lines)

timeout 120 env RIG_USERS="${RIG_USERS:-1000}" bash -c '. "$1/lib/common.sh"; py concurrency.py 200 20' _ "$here" ||
	fail "lib/concurrency.py (200 clients x 20 pipelined searches) failed"

# round two, with ordinary clients in between
(
	for i in $(seq 1 20); do
		proxy_search -b "$USERS_DN" "(uid=user$(printf %04d "$i"))" uid >/dev/null || exit 1
	done
) &
bg=$!
rig_track_pid "$bg"
timeout 120 bash -c '. "$1/lib/common.sh"; py concurrency.py 100 40' _ "$here" ||
	fail "lib/concurrency.py (100 clients x 40 pipelined searches) failed"
wait "$bg" || fail "ldapsearch clients failed during the concurrent round"

no_log_problems "$start_line"
n=$(tail -n +"$start_line" "$PROXY_LOG" | grep -c ' BIND profile=[^ ]* dn=.*result=0 ' || true)
[ "$n" -ge 300 ] || fail "proxy logged $n successful binds, expected >= 300"
ok "proxy log: $n binds, no errors or warnings"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
