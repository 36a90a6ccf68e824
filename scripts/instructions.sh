#!/usr/bin/env bash
# instructions.sh — CPU cost of aldproxyd in instructions per operation: a
# deterministic guard, immune to machine noise (docs/performance.md,
# "Instructions per operation (deterministic)").
#
# Starts the test directory (slapd, 1000 users) and aldproxyd through
# tests/rig/rig.sh on free loopback ports, with the pass-through demo
# profile and the shipped AD-emulation profile installed, and for each case
# runs bench/ldapbench for a FIXED number of operations (fixed seed, fixed
# connections and pipeline depth) while counting the user-space
# instructions that aldproxyd and slapd execute.  Every case is run
# INSTR_REPEATS times after a warm-up; the table gives the median and the
# spread ((max - min) / median) of the repeats.  Everything started here is
# stopped on exit.  Builds nothing: point it at the binaries to measure, so
# two builds can be compared.
#
# Cases (ldapbench modes; conns x depth, default 8 x 8):
#   search      (uid=userNNNN), attrs uid cn mail, bound as the demo service
#               account, through the pass-through demo profile — and the
#               same search sent to slapd directly (the baseline)
#   bind        simple binds of random users uid=userNNNN (8 x 1: a bind is
#               not pipelined) — proxy and direct
#   search-ad   (&(objectCategory=person)(objectClass=user)(sAMAccountName=userNNNN))
#               under DC=example,DC=com through profiles/active-directory.yaml,
#               as an AD connector sends it (users user0001..user0010)
#   conn        connect + bind + one search + unbind per operation (8 x 1) —
#               proxy and direct
#
# Counter (INSTR_TOOL):
#   perf        `perf stat -e instructions:u -x, -p PID -- ldapbench ...`,
#               nested once per server, so each counts exactly while
#               ldapbench runs; needs a hardware PMU (not exercised on the
#               2-core CI VM, which has none)
#   callgrind   both servers run under `valgrind --tool=callgrind` (slower,
#               but exact and available in VMs without a PMU); counters are
#               zeroed before a run and dumped after it with callgrind_control
#               (Ir = user-space instructions, all threads summed; a
#               `rep stosb`/`rep movsb` counts once per byte, so big
#               memset/memcpy weigh more than under perf)
#   auto        (default) perf when `perf stat -e instructions:u` counts on
#               this machine, callgrind otherwise
# Figures from the two counters are comparable in kind (user-space
# instructions) but compare a build only with figures from the same counter.
#
# Usage:
#   ALDPROXYD=/tmp/b/src/aldproxyd ./scripts/instructions.sh > table.md
#
# Environment:
#   ALDPROXYD        aldproxyd to measure (default build/src/aldproxyd)
#   ALDPROXYCTL      its aldproxyctl: `check` of the rig's configuration
#                    before the start (default: beside ALDPROXYD; skipped
#                    when missing)
#   LDAPBENCH        load generator (default build/bench/ldapbench; its own
#                    cost is not counted, any build will do)
#   INSTR_TOOL       auto | perf | callgrind (see above)
#   INSTR_CASES      cases to run (default "search bind search-ad conn")
#   INSTR_CONNS      connections (default 8)
#   INSTR_DEPTH      searches in flight per connection, search cases (default 8)
#   INSTR_REPEATS    measured runs per case and target (default 3)
#   INSTR_OPS_SEARCH | INSTR_OPS_BIND | INSTR_OPS_AD | INSTR_OPS_CONN
#                    operations per measured run (defaults 2000, 1000, 1000,
#                    300 under callgrind; ten times that under perf)
#   INSTR_WARMUP     warm-up operations per case and target, not counted
#                    (default: a quarter of the measured count)
#   INSTR_SEED       ldapbench seed (default 1: every run asks for the same users)
#   INSTR_MAX_SEARCH | INSTR_MAX_BIND | INSTR_MAX_AD | INSTR_MAX_CONN
#                    regression guard: fail (exit 3) when aldproxyd's median
#                    instructions per operation of that case exceed the value
#   rig knobs        as in scripts/benchmark.sh: RIG_LOG_LEVEL (warning),
#                    RIG_POOL_SIZE (4), RIG_BIND_POOL_SIZE (8), RIG_SLAPD_DEBUG
#                    (0), RIG_BACKEND_STARTTLS (true: the production path),
#                    RIG_KEEP=1 to keep logs and, under callgrind, each run's
#                    profile ($RIG_DIR/callgrind/run-CASE-TARGET-N.PROCESS.out)
#
# Output: the markdown table on stdout; progress and ldapbench JSON on stderr.
# Exit status: 0 ok; 1 an ldapbench run failed or reported errors, or
# aldproxyd did not stop cleanly; 2 setup error; 3 a threshold exceeded.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

die() { echo "instructions.sh: $*" >&2; exit 2; }
say() { echo "instructions.sh: $*" >&2; }

ALDPROXYD=${ALDPROXYD:-$top/build/src/aldproxyd}
ALDPROXYCTL=${ALDPROXYCTL:-$(dirname "$ALDPROXYD")/aldproxyctl}
LDAPBENCH=${LDAPBENCH:-$top/build/bench/ldapbench}
[ -x "$ALDPROXYD" ] || die "ALDPROXYD=$ALDPROXYD is not executable (build first)"
[ -x "$LDAPBENCH" ] || die "LDAPBENCH=$LDAPBENCH is not executable (build first)"
ALDPROXYD=$(cd "$(dirname "$ALDPROXYD")" && pwd)/$(basename "$ALDPROXYD")
REAL_ALDPROXYD=$ALDPROXYD

CASES=${INSTR_CASES:-search bind search-ad conn}
CONNS=${INSTR_CONNS:-8}
DEPTH=${INSTR_DEPTH:-8}
REPEATS=${INSTR_REPEATS:-3}
SEED=${INSTR_SEED:-1}
TOOL=${INSTR_TOOL:-auto}

# --------------------------------------------------------------- the counter

perf_works() {
	command -v perf >/dev/null || return 1
	local out
	out=$(perf stat -e instructions:u -x, -- true 2>&1 >/dev/null) || return 1
	# "<not supported>,,instructions:u,..." without a PMU (most VMs)
	[[ $out =~ (^|$'\n')[0-9]+,[^,]*,instructions:u ]]
}
case "$TOOL" in
auto) if perf_works; then TOOL=perf; else TOOL=callgrind; fi ;;
perf) perf_works || die "perf stat -e instructions:u does not count here (no PMU?): use INSTR_TOOL=callgrind" ;;
callgrind) ;;
*) die "INSTR_TOOL must be auto, perf or callgrind" ;;
esac
if [ "$TOOL" = callgrind ]; then
	if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
		die "callgrind needs valgrind and callgrind_control"
	fi
	scale=1
else
	scale=10
fi
OPS_SEARCH=${INSTR_OPS_SEARCH:-$((2000 * scale))}
OPS_BIND=${INSTR_OPS_BIND:-$((1000 * scale))}
OPS_AD=${INSTR_OPS_AD:-$((1000 * scale))}
OPS_CONN=${INSTR_OPS_CONN:-$((300 * scale))}

# ------------------------------------------------------------------ the rig

export RIG_SKIP_DEPS=${RIG_SKIP_DEPS:-1} RIG_LOG_LEVEL=${RIG_LOG_LEVEL:-warning}
export RIG_POOL_SIZE=${RIG_POOL_SIZE:-4} RIG_BIND_POOL_SIZE=${RIG_BIND_POOL_SIZE:-8}
export RIG_SLAPD_DEBUG=${RIG_SLAPD_DEBUG:-0}
# under callgrind everything is ~50x slower: give requests room
export RIG_OP_TIMEOUT=${RIG_OP_TIMEOUT:-60} RIG_BIND_TIMEOUT=${RIG_BIND_TIMEOUT:-60}
# shellcheck source=../tests/rig/rig.sh
. "$top/tests/rig/rig.sh"
rig_init

CG=$RIG_DIR/callgrind
if [ "$TOOL" = callgrind ]; then
	# slapd and aldproxyd started by the rig run under callgrind: wrappers
	# that exec valgrind keep the PIDs the rig records.
	real_slapd=$(command -v slapd) || die "slapd not found"
	mkdir -p "$CG/bin"
	vg=(valgrind --tool=callgrind --dump-instr=no --compress-strings=no)
	printf '#!/bin/sh\nexec %s --log-file=%s/slapd.vg.%%p --callgrind-out-file=%s/slapd.%%p %s "$@"\n' \
		"${vg[*]}" "$CG" "$CG" "$real_slapd" >"$CG/bin/slapd"
	printf '#!/bin/sh\nexec %s --log-file=%s/aldproxyd.vg.%%p --callgrind-out-file=%s/aldproxyd.%%p %s "$@"\n' \
		"${vg[*]}" "$CG" "$CG" "$ALDPROXYD" >"$CG/bin/aldproxyd"
	chmod +x "$CG/bin/slapd" "$CG/bin/aldproxyd"
	PATH=$CG/bin:$PATH
	export ALDPROXYD=$CG/bin/aldproxyd
fi

rig_certs
rig_slapd_start
rig_proxy_config
AD_DN="uid=active-directory,cn=sysaccounts,cn=etc,$BASE_DN"
AD_PW=BenchPass1
# the shipped AD profile on the rig's suffix; its group is the rig's zabbix-users
# (user0001..user0010 are members, nested)
sed -e 's/dc=ald,dc=example/dc=ald,dc=test/g' -e 's/active-directory-users/zabbix-users/g' \
	profiles/active-directory.yaml >"$RIG_DIR/profiles/active-directory.yaml"
ldapadd -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" >/dev/null <<LDIF
dn: $AD_DN
objectClass: account
objectClass: simpleSecurityObject
uid: active-directory
userPassword: $AD_PW
LDIF
if [ -x "$ALDPROXYCTL" ]; then
	"$ALDPROXYCTL" -c "$PROXY_CONFIG" check >/dev/null 2>&1 ||
		{ "$ALDPROXYCTL" -c "$PROXY_CONFIG" check >&2 || true; die "configuration check failed"; }
fi
rig_proxy_start
say "slapd pid $SLAPD_PID, aldproxyd pid $PROXY_PID, counter $TOOL"

# ------------------------------------------------------------ counting runs

# cg_file NAME PID — the newest callgrind dump of that process
cg_file() { find "$CG" -maxdepth 1 -name "$1.$2.*" ! -name '*.vg.*' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-; }
cg_ctl() { # OPTION PID — quiet unless it fails
	local out
	out=$(callgrind_control "$1" "$2" 2>&1) || { echo "$out" >&2; die "callgrind_control $1 $2 failed"; }
}
cg_dump() { # NAME PID LABEL -> instructions since the last zero
	cg_ctl -d "$2"
	local f
	f=$(cg_file "$1" "$2")
	[ -n "$f" ] || die "no callgrind dump for $1 ($2)"
	# "summary:" is the cost of this part; "totals:" (the sum of the cost
	# lines) can carry a little of what ran before the zero in the first
	# dump after new code ran, so summary it is.
	awk '/^summary:/ { print $2; exit }' "$f"
	# RIG_KEEP=1: keep each run's profile for callgrind_annotate
	if [ "${RIG_KEEP:-0}" = 1 ]; then mv "$f" "$CG/run-$3.$1.out"; else rm -f "$f"; fi
}

# counters_start PID... / counters_stop LABEL: COUNTS=(count...) in PID order.
# perf: bench runs under nested `perf stat -p PID -- ...` (PREFIX), which
# count the PIDs for exactly as long as ldapbench runs; callgrind: counters
# zeroed here, dumped in counters_stop.
COUNT_PIDS=()
PREFIX=()
counters_start() {
	COUNT_PIDS=("$@")
	PREFIX=()
	local p
	for p in "$@"; do
		if [ "$TOOL" = perf ]; then
			rm -f "$RIG_DIR/perf.$p"
			PREFIX+=(perf stat -e instructions:u "-x," -o "$RIG_DIR/perf.$p" -p "$p" --)
		else
			cg_ctl -z "$p"
		fi
	done
}
COUNTS=()
counters_stop() { # LABEL
	local i p n
	COUNTS=()
	for i in "${!COUNT_PIDS[@]}"; do
		p=${COUNT_PIDS[$i]}
		if [ "$TOOL" = perf ]; then
			n=$(awk -F, '$3 ~ /^instructions/ { print $1; exit }' "$RIG_DIR/perf.$p")
		else
			if [ "$p" = "$SLAPD_PID" ]; then n=$(cg_dump slapd "$p" "$1"); else n=$(cg_dump aldproxyd "$p" "$1"); fi
		fi
		[[ $n =~ ^[0-9]+$ ]] || die "no instruction count for pid $p ('$n')"
		COUNTS+=("$n")
	done
}

status=0
# bench URL NOPS ARGS... -> prints ldapbench JSON; ops in BENCH_OPS
bench() {
	local url=$1 n=$2 out rc=0 errs
	shift 2
	out=$("${PREFIX[@]}" "$LDAPBENCH" -H "$url" -c "$CONNS" -d "$DEPTH" -n "$n" -t 300 -s "$SEED" -o json "$@") || rc=$?
	echo "$out" >&2
	BENCH_OPS=$(sed -n 's/.*"ops":\([0-9]*\).*/\1/p' <<<"$out")
	errs=$(sed -n 's/.*"errors":\([0-9]*\).*/\1/p' <<<"$out")
	if [ "$rc" != 0 ] || [ -z "$BENCH_OPS" ] || [ "${errs:-1}" != 0 ] || [ "$BENCH_OPS" != "$n" ]; then
		say "ldapbench failed (exit $rc, ops ${BENCH_OPS:-?} of $n, errors ${errs:-?}): $url $*"
		status=1
		return 1
	fi
}

# median and spread of numbers: "MEDIAN SPREAD%"
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
	END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	      printf "%.0f %.1f\n", m, (m > 0 ? (v[NR] - v[1]) / m * 100 : 0) }'; }

ROWS=()
declare -A MEDIAN
# measure CASE TARGET NOPS ARGS... — TARGET proxy (count aldproxyd and slapd)
# or direct (count slapd)
measure() {
	local case=$1 target=$2 n=$3 url pids counts i p_per=() s_per=() c d
	shift 3
	if [ "$target" = proxy ]; then url=$PROXY_URL; pids=("$PROXY_PID" "$SLAPD_PID")
	else url=$SLAPD_URL; pids=("$SLAPD_PID"); fi
	d=$DEPTH
	[ "$case" = search ] || [ "$case" = search-ad ] || d=1
	local warm=${INSTR_WARMUP:-$((n / 4))}
	say "$case -> $target: warm-up $warm ops, then $REPEATS x $n ops, $CONNS conns x depth $d"
	PREFIX=()
	bench "$url" "$warm" "$@" || { ROWS+=("| $case | $target | $CONNS × $d | $n | ldapbench failed | | | |"); return 0; }
	for ((i = 0; i < REPEATS; i++)); do
		counters_start "${pids[@]}"
		if ! bench "$url" "$n" "$@"; then
			counters_stop "$case-$target-$((i + 1))"
			ROWS+=("| $case | $target | $CONNS × $d | $n | ldapbench failed | | | |")
			return 0
		fi
		counters_stop "$case-$target-$((i + 1))"
		counts=("${COUNTS[@]}")
		if [ "$target" = proxy ]; then
			p_per+=("$(awk -v a="${counts[0]}" -v n="$n" 'BEGIN { printf "%.0f", a / n }')")
			s_per+=("$(awk -v a="${counts[1]}" -v n="$n" 'BEGIN { printf "%.0f", a / n }')")
		else
			s_per+=("$(awk -v a="${counts[0]}" -v n="$n" 'BEGIN { printf "%.0f", a / n }')")
		fi
		say "  run $((i + 1)): aldproxyd ${p_per[*]:+${p_per[-1]}} slapd ${s_per[-1]} instructions/op"
	done
	local pm=— ps=— sm sp
	if [ "$target" = proxy ]; then
		read -r pm ps <<<"$(stats "${p_per[@]}")"
		MEDIAN[$case]=$pm
		ps="$ps %"
	fi
	read -r sm sp <<<"$(stats "${s_per[@]}")"
	ROWS+=("| $case | $target | $CONNS × $d | $n | $pm | $ps | $sm | $sp % |")
}

for c in $CASES; do
	case "$c" in
	search)
		measure search direct "$OPS_SEARCH" -m search -D "$SVC_DN" -w "$SVC_PW"
		measure search proxy "$OPS_SEARCH" -m search -D "$SVC_DN" -w "$SVC_PW" ;;
	bind)
		measure bind direct "$OPS_BIND" -m bind
		measure bind proxy "$OPS_BIND" -m bind ;;
	search-ad)
		measure search-ad proxy "$OPS_AD" -m search -D "$AD_DN" -w "$AD_PW" -u 10 -b "DC=example,DC=com" \
			-f "(&(objectCategory=person)(objectClass=user)(sAMAccountName=user%04d))" \
			-a "sAMAccountName,userPrincipalName,mail,memberOf,objectGUID,userAccountControl" ;;
	conn)
		measure conn direct "$OPS_CONN" -m conn -D "$SVC_DN" -w "$SVC_PW"
		measure conn proxy "$OPS_CONN" -m conn -D "$SVC_DN" -w "$SVC_PW" ;;
	*) die "unknown case '$c' (search bind search-ad conn)" ;;
	esac
done

rig_proxy_stop || { say "aldproxyd did not stop cleanly"; status=1; }

version=$("$REAL_ALDPROXYD" -V 2>/dev/null | head -n 1 || true)
echo "aldproxyd: \`$REAL_ALDPROXYD\` (${version:-version unknown}); counter: $TOOL; $REPEATS runs per row, seed $SEED"
echo
echo "| case | target | conns × depth | ops/run | aldproxyd instr/op (median) | spread | slapd instr/op (median) | spread |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for r in "${ROWS[@]}"; do echo "$r"; done

over=0
check_max() { # CASE LIMIT
	[ -n "$2" ] && [ -n "${MEDIAN[$1]:-}" ] || return 0
	if [ "${MEDIAN[$1]}" -gt "$2" ]; then
		say "REGRESSION: $1 costs aldproxyd ${MEDIAN[$1]} instructions/op, limit $2"
		over=1
	fi
}
check_max search "${INSTR_MAX_SEARCH:-}"
check_max bind "${INSTR_MAX_BIND:-}"
check_max search-ad "${INSTR_MAX_AD:-}"
check_max conn "${INSTR_MAX_CONN:-}"
[ "$status" = 0 ] || exit 1
[ "$over" = 0 ] || exit 3
exit 0
