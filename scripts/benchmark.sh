#!/usr/bin/env bash
# benchmark.sh — the numbers in docs/performance.md, in one command.
#
# Starts the test directory (slapd, 1000 users) and aldproxyd (release
# build, log level warning) on loopback, then runs scripts/bench.sh: each
# mode direct to slapd and through aldproxyd in the same run, with the CPU
# time each server spent per operation.  Stops everything afterwards.
#
#   BENCH_SECONDS=10 BENCH_CONNS=16 BENCH_DEPTH=8 ./scripts/benchmark.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh --run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

export RIG_SKIP_DEPS=1 RIG_LOG_LEVEL=${RIG_LOG_LEVEL:-warning} RIG_POOL_SIZE=${RIG_POOL_SIZE:-4}
export RIG_BIND_POOL_SIZE=${RIG_BIND_POOL_SIZE:-8} RIG_SLAPD_DEBUG=${RIG_SLAPD_DEBUG:-0}
# shellcheck source=../tests/rig/rig.sh
. "$top/tests/rig/rig.sh"
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
BENCH_BIND_DN=$SVC_DN BENCH_BIND_PW=$SVC_PW LDAPBENCH=$top/build/bench/ldapbench \
	bash scripts/bench.sh
# memory per client connection: 2000 bound connections, one search each
ulimit -n 8192
"$RIG_PYTHON" bench/memconn.py "$PROXY_URL" "$PROXY_PID" "$SVC_DN" "$SVC_PW" "$USERS_DN" "${BENCH_MEMCONNS:-2000}"
rig_proxy_stop
