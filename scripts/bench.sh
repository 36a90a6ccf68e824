#!/usr/bin/env bash
# Benchmark slapd directly and through aldproxyd with bench/ldapbench.
#
# Does NOT start any server: the caller provides them.
#
# Environment:
#   SLAPD_URL       ldap:// URL of slapd (direct runs; skipped if unset)
#   PROXY_URL       ldap:// URL of aldproxyd (proxy runs; skipped if unset)
#   SLAPD_PID       pid(s) of slapd, space separated (CPU accounting; optional)
#   PROXY_PID       pid(s) of aldproxyd, space separated (CPU accounting; optional)
#   BENCH_SECONDS   seconds per run (default 10)
#   BENCH_CONNS     connections (default 16)
#   BENCH_DEPTH     pipeline depth for search mode (default 8)
#   BENCH_BIND_DN   DN for the search/conn-mode bind (optional)
#   BENCH_BIND_PW   its password
#   BENCH_MODES     modes to run (default "search bind conn")
#   BENCH_ARGS      extra ldapbench arguments, e.g. "-u 500 -b ou=people,dc=x"
#   LDAPBENCH       ldapbench binary to use (default: build/bench/ldapbench,
#                   built from bench/ldapbench.c when missing or stale)
#
# Output: a markdown table on stdout; progress and raw JSON on stderr.
# Exit status: 0 if every run succeeded with 0 errors, 1 otherwise.
set -u
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-16}
DEPTH=${BENCH_DEPTH:-8}
MODES=${BENCH_MODES:-search bind conn}
SLAPD_URL=${SLAPD_URL:-}
PROXY_URL=${PROXY_URL:-}
SLAPD_PID=${SLAPD_PID:-}
PROXY_PID=${PROXY_PID:-}

die() { echo "bench.sh: $*" >&2; exit 2; }

if [ -z "$SLAPD_URL" ] && [ -z "$PROXY_URL" ]; then
    die "set SLAPD_URL and/or PROXY_URL (and SLAPD_PID/PROXY_PID for CPU accounting)"
fi

if [ -n "${LDAPBENCH:-}" ]; then
    BIN=$LDAPBENCH
    [ -x "$BIN" ] || die "LDAPBENCH=$BIN is not executable"
else
    BIN=$ROOT/build/bench/ldapbench
    SRC=$ROOT/bench/ldapbench.c
    if [ ! -x "$BIN" ] || [ "$SRC" -nt "$BIN" ]; then
        mkdir -p "$(dirname "$BIN")"
        echo "bench.sh: building $BIN" >&2
        # shellcheck disable=SC2046
        cc -std=c11 -O2 -Wall -Wextra -Werror "$SRC" -o "$BIN" \
            $(pkg-config --cflags --libs libevent) || die "build of ldapbench failed"
    fi
fi

CLK_TCK=$(getconf CLK_TCK)

# Sum utime+stime (clock ticks) over the given pids; empty if none given.
cpu_ticks() {
    local pids=$1 total=0 pid stat rest
    [ -n "$pids" ] || { echo ""; return; }
    for pid in $pids; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || die "cannot read /proc/$pid/stat (process gone?)"
        rest=${stat##*) }              # fields from 3 (state) on; comm may contain spaces
        # shellcheck disable=SC2086
        set -- $rest
        total=$((total + ${12} + ${13})) # field 14 utime, field 15 stime
    done
    echo "$total"
}

json_get() { # json key
    sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1"
}

# µs of CPU per op from tick delta; "-" if not measured
cpu_us_per_op() { # before after ops
    if [ -z "$1" ] || [ -z "$2" ]; then echo "-"; return; fi
    awk -v b="$1" -v a="$2" -v n="$3" -v hz="$CLK_TCK" \
        'BEGIN { if (n > 0) printf "%.1f", (a - b) / hz * 1e6 / n; else print "-" }'
}

bind_args=()
if [ -n "${BENCH_BIND_DN:-}" ]; then
    bind_args=(-D "$BENCH_BIND_DN" -w "${BENCH_BIND_PW:-}")
fi
# shellcheck disable=SC2206
extra_args=(${BENCH_ARGS:-})

rows=()
status=0

run_one() { # mode target url
    local mode=$1 target=$2 url=$3 s0 s1 p0 p1 out rc ops errs
    echo "bench.sh: $mode -> $target ($url), ${SECS}s, c=$CONNS d=$DEPTH" >&2
    s0=$(cpu_ticks "$SLAPD_PID")
    p0=""
    [ "$target" = proxy ] && p0=$(cpu_ticks "$PROXY_PID")
    out=$("$BIN" -H "$url" -m "$mode" -c "$CONNS" -d "$DEPTH" -t "$SECS" -o json \
        "${bind_args[@]}" "${extra_args[@]}")
    rc=$?
    s1=$(cpu_ticks "$SLAPD_PID")
    p1=""
    [ "$target" = proxy ] && p1=$(cpu_ticks "$PROXY_PID")
    echo "$out" >&2
    if [ $rc -ne 0 ] || [ -z "$out" ]; then
        echo "bench.sh: ldapbench exited $rc for $mode -> $target" >&2
        status=1
    fi
    ops=$(json_get "$out" ops)
    errs=$(json_get "$out" errors)
    [ -n "$ops" ] || ops=0
    local note=""
    [ "${errs:-0}" != 0 ] && note=" (${errs} errors)"
    rows+=("| $mode | $target | $CONNS | $(json_get "$out" depth) | $(json_get "$out" ops_per_sec)$note | $(json_get "$out" p50_us) | $(json_get "$out" p99_us) | $(cpu_us_per_op "$s0" "$s1" "$ops") | $(cpu_us_per_op "$p0" "$p1" "$ops") |")
}

for mode in $MODES; do
    [ -n "$SLAPD_URL" ] && run_one "$mode" slapd "$SLAPD_URL"
    [ -n "$PROXY_URL" ] && run_one "$mode" proxy "$PROXY_URL"
done

echo "| mode | target | conns | depth | ops/s | p50 µs | p99 µs | slapd CPU µs/op | aldproxyd CPU µs/op |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do echo "$r"; done
exit $status
