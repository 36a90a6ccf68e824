#!/usr/bin/env bash
# soak.sh — the long soak of aldproxyd: an hour (by default) of mixed load,
# sampled every minute, to find leaks, fd growth, errors and latency drift
# that a short test does not show.
#
#   scripts/soak.sh [DURATION_SECONDS=3600] [OUTPUT_FILE=soak-YYYYmmdd-HHMMSS.md]
#
# It builds nothing: it runs $ALDPROXYD and $ALDPROXYCTL (default
# ./build/src/aldproxyd and ./build/src/aldproxyctl; build first, e.g.
# RelWithDebInfo — an AddressSanitizer build works too, but its RSS is not
# checked).  Like the integration tests it starts, through tests/rig/rig.sh,
# a private slapd (RIG_BACKEND=389ds: 389 Directory Server) with 1000 users
# and aldproxyd in front of it on free loopback ports, runs
# tests/integration/lib/soak.py (the load and the checks are described
# there) with a sample every 60 s (SOAK_SAMPLE), writes the table and the
# summary to OUTPUT_FILE, the proxy's log next to it (OUTPUT_FILE.proxy.log.gz),
# and stops everything.  Exit status: 0 when soak.py's checks pass and
# aldproxyd stops cleanly (no crash, exit 0, no sanitizer report).
#
# Knobs (environment): SOAK_SAMPLE (60), SOAK_RATE (load factor, 1.0 is about
# 280 operations/s), SOAK_COMMIT (the commit the binaries were built from,
# printed in the table's header; default: this checkout's HEAD, which may
# differ), RIG_SKIP_DEPS=1 (do not install the rig's packages),
# RIG_KEEP=1 (keep the rig's directory), RIG_SLAPD_DEBUG (slapd's log level:
# 0 here, its per-operation log would grow by gigabytes), RIG_LOG_LEVEL
# (aldproxyd's, info), and the rig's other RIG_* limits.
#
# Example, with a RelWithDebInfo build:
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2
#   RIG_SKIP_DEPS=1 nohup scripts/soak.sh 3600 /tmp/soak-1h.md &
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

duration=${1:-3600}
out=${2:-soak-$(date +%Y%m%d-%H%M%S).md}
case "$duration" in '' | *[!0-9]*) echo "usage: $0 [DURATION_SECONDS] [OUTPUT_FILE]" >&2; exit 2 ;; esac
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

export ALDPROXYD=${ALDPROXYD:-$REPO/build/src/aldproxyd}
export ALDPROXYCTL=${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}
for b in "$ALDPROXYD" "$ALDPROXYCTL"; do
	[ -x "$b" ] || { echo "soak.sh: $b not found: build first, or set ALDPROXYD/ALDPROXYCTL" >&2; exit 2; }
done
# the limits the misbehaving clients are meant to hit (see test_soak.sh)
export RIG_MAX_CLIENT_OUTPUT=${RIG_MAX_CLIENT_OUTPUT:-256k}
export RIG_UNBOUND_TIMEOUT=${RIG_UNBOUND_TIMEOUT:-15}
export RIG_SLAPD_DEBUG=${RIG_SLAPD_DEBUG:-0}
export SOAK_COMMIT=${SOAK_COMMIT:-$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)}

# shellcheck source-path=SCRIPTDIR source=../tests/rig/rig.sh
. "$REPO/tests/rig/rig.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib/common.sh
. "$REPO/tests/integration/lib/common.sh"

echo "soak.sh: $duration s, aldproxyd $ALDPROXYD, table to $out"
rig_init
rig_certs
# shellcheck disable=SC2119  # no arguments: the rig's default of 1000 users
rig_slapd_start
rig_proxy_config
rig_proxy_start

rc=0
py soak.py --duration "$duration" --sample "${SOAK_SAMPLE:-60}" --out "$out" \
	--title "$(basename "$ALDPROXYD") at $SOAK_COMMIT, $duration s" || rc=$?
if rig_proxy_stop 2>"$RIG_DIR/stop.err"; then
	echo "- aldproxyd stopped cleanly (exit 0, no sanitizer report)" >>"$out"
else
	rc=1
	{
		echo "- FAIL: aldproxyd did not stop cleanly:"
		echo '```'
		grep -v '^---' "$RIG_DIR/stop.err" | tail -n 60
		echo '```'
	} >>"$out"
	cat "$RIG_DIR/stop.err" >&2
fi
gzip -c "$PROXY_LOG" >"$out.proxy.log.gz" || true
echo "soak.sh: exit $rc; table: $out; proxy log: $out.proxy.log.gz"
exit $rc
