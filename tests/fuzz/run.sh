#!/usr/bin/env bash
# run.sh — build the libFuzzer harnesses (tests/fuzz/fuzz_*.c) in build-fuzz
# with clang, ASan and UBSan, and run each for SECONDS (default 20).
#
#   bash tests/fuzz/run.sh              # 20 s per harness
#   bash tests/fuzz/run.sh 3600         # a long run: an hour per harness
#   FUZZ_ONLY="filter dn" bash tests/fuzz/run.sh 60     # some harnesses only
#   FUZZ_JOBS=2 bash tests/fuzz/run.sh 3600             # two harnesses at a time
#
# Each harness starts from its seeds and regression inputs
# (tests/fuzz/corpus/<name>/, plus profiles/ for the profile loader) and
# from what earlier runs found (build-fuzz/corpus/<name>/, where new inputs
# go).  A crash, a sanitizer report, a failed invariant, a leak, a timeout
# (10 s for one input) or running out of memory fails the run: the input is
# kept in build-fuzz/artifacts/<name>/ and the command that replays it is
# printed.  The end is one line per harness: executions, executions per
# second, coverage (libFuzzer's final cov: and ft:) and the corpus size.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${1:-20}
case $secs in '' | *[!0-9]*) echo "usage: run.sh [SECONDS]" >&2; exit 2 ;; esac
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
jobs=${FUZZ_JOBS:-1}
all=(request filter policy entry profile config dn srv)
names=(${FUZZ_ONLY:-${all[@]}})

command -v clang >/dev/null || { echo "run.sh: clang is missing (package clang; tests/rig/packages.sh)" >&2; exit 1; }
command -v flock >/dev/null || { echo "run.sh: flock is missing (package util-linux)" >&2; exit 1; }

# one run at a time per build directory (the suite's test_fuzz and a run by hand)
mkdir -p "$build"
exec 9>"$build/.run.lock"
flock 9

t0=$(date +%s)
echo "== build ($build, clang, libFuzzer + ASan + UBSan)"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALDPROXY_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzzers >"$build/build.log" 2>&1 || { cat "$build/build.log" >&2; exit 1; }
echo "== built in $(( $(date +%s) - t0 )) s"

# Each run gets its own temporary directory (the harnesses write profiles and configurations there).
tmp=$(mktemp -d "$build/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for s in llvm-symbolizer /usr/lib/llvm-*/bin/llvm-symbolizer; do
	if command -v "$s" >/dev/null; then
		export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v "$s")}
		break
	fi
done

run_one() {   # NAME
	local n=$1 bin=$build/fuzz/fuzz_$1
	local work=$build/corpus/$n art=$build/artifacts/$n/ log=$build/logs/$n.log
	local seeds=("$top/tests/fuzz/corpus/$n")
	[ "$n" != profile ] || seeds+=("$top/profiles")
	mkdir -p "$work" "$art" "$(dirname "$log")"
	touch "$log.start"
	local rc=0
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art" "$work" "${seeds[@]}" </dev/null >"$log" 2>&1 || rc=$?
	echo "$rc" >"$log.rc"
}

running=0
for n in "${names[@]}"; do
	[ -x "$build/fuzz/fuzz_$n" ] || { echo "run.sh: no harness $n (have: ${all[*]})" >&2; exit 2; }
	echo "== fuzz_$n: ${secs} s"
	run_one "$n" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait || true

failed=()
printf '%-8s %12s %9s %6s %7s %14s  %s\n' harness execs exec/s cov ft corpus result
for n in "${names[@]}"; do
	log=$build/logs/$n.log
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	# the last status line: "#N DONE cov: C ft: F corp: U/SIZE ..." (or the last before a crash)
	last=$(grep -E '^#[0-9]+' "$log" | grep -E ' cov: ' | tail -1 || true)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
	result=ok
	if [ "$rc" != 0 ]; then
		result="FAILED (exit $rc)"
		failed+=("$n")
	fi
	printf '%-8s %12s %9s %6s %7s %14s  %s\n' "$n" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
echo "== total $(( $(date +%s) - t0 )) s"

if [ ${#failed[@]} -gt 0 ]; then
	for n in "${failed[@]}"; do
		log=$build/logs/$n.log
		echo
		echo "== fuzz_$n failed; the end of $log:"
		grep -vE '^(#[0-9]+|INFO:|stat::)' "$log" | tail -60
		find "$build/artifacts/$n" -type f -newer "$log.start" | while read -r a; do
			echo "   input: $a"
			echo "   replay:   $build/fuzz/fuzz_$n $a"
			echo "   minimize: $build/fuzz/fuzz_$n -minimize_crash=1 -runs=100000 -exact_artifact_path=$a.min $a"
		done
	done
	exit 1
fi
