#!/usr/bin/env bash
# test_soak.sh — a short soak: lib/soak.py puts ~90 s (SOAK_DURATION) of
# mixed load on aldproxyd — searches, user binds (some with wrong passwords),
# paged listings (some dropped after one page), connection churn over plain
# LDAP, ldaps and StartTLS, a SIGHUP every 20 s, clients that never read,
# garbage, over-size requests and connections that never bind — and samples
# its RSS, fds, throughput, errors and search latency every 10 s
# (SOAK_SAMPLE).  soak.py fails on an unexpected error, RSS growth after
# warm-up (not in an AddressSanitizer build), fds or client connections not
# back to the baseline once the load stops, or a proxy that no longer
# answers; rig_proxy_stop then fails on a crash, a non-zero exit or a
# sanitizer report (LeakSanitizer runs at exit).
#
# Registered in the sanitizer build only (tests/CMakeLists.txt): there a
# leak or a use-after-free under this load fails the test.  The hour-long
# run is scripts/soak.sh.
#
# The limits are lowered so that the misbehaving clients hit them quickly:
# unbound_timeout 15 s, and max_client_output 256k as in test_slow_reader.sh
# — smaller than one answer the slow client asks for (1.3 MB): with a limit
# above it, reading a client's requests pauses at half the limit and a client
# that stopped reading can stay connected, never crossing it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_MAX_CLIENT_OUTPUT=${RIG_MAX_CLIENT_OUTPUT:-256k}
export RIG_UNBOUND_TIMEOUT=${RIG_UNBOUND_TIMEOUT:-15}
duration=${SOAK_DURATION:-90}
test_begin test_soak
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

timeout $((duration + 150)) bash -c '. "$1/lib/common.sh"; py soak.py --duration "$2" --sample "${SOAK_SAMPLE:-10}" --out "$3"' \
	_ "$here" "$duration" "$RIG_DIR/soak.md" || fail "lib/soak.py failed (table and reasons above)"
ok "soak: $duration s of mixed load, no errors, RSS and fds steady, the proxy answers"

rig_proxy_stop || fail "aldproxyd did not stop cleanly after the soak"
test_pass
