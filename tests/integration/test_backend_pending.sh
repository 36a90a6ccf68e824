#!/usr/bin/env bash
# test_backend_pending.sh — a burst of pipelined searches must not make the
# directory drop aldproxy's shared connections.
#
# aldproxy multiplexes up to backend.max_ops_per_connection (default 4096)
# outstanding requests on one pooled connection and writes them all at once.
# OpenLDAP closes a connection with more than conn_max_pending_auth (default
# 1000) pending requests, so 200 clients x 20 pipelined searches over the
# rig's 2 shared connections (~2000 each) make slapd close both, and every
# in-flight search of every client fails with unavailable (52) "directory
# server connection lost (the directory closed the connection)".  The proxy
# should bound what it has outstanding on one connection (queue, or spread
# over more connections) so that a burst is slower, not failed.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_backend_pending
rig_init
rig_certs
rig_slapd_start
rig_proxy_config            # rig defaults: pool_size 2, max_ops_per_connection 4096
rig_proxy_start
start_line=$(log_lines)

rc=0
timeout 120 bash -c '. "$1/lib/common.sh"; py concurrency.py 200 20' _ "$here" || rc=$?
lost=$(tail -n +"$start_line" "$PROXY_LOG" | grep -E 'connection lost' || true)
if [ -n "$lost" ]; then
	sed -n 1,5p <<<"$lost" >&2
	grep -c 'deferring operation: pending operations' "$RIG_DIR/slapd.log" 2>/dev/null |
		sed 's/^/slapd "deferring operation: pending operations" lines: /' >&2 || true
	fail "a burst of 4000 pipelined searches made slapd drop aldproxy's shared connections (see above)"
fi
[ "$rc" = 0 ] || fail "lib/concurrency.py (200 clients x 20 pipelined searches, pool_size 2) failed"
ok "4000 pipelined searches over 2 shared connections, none failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
