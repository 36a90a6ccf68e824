#!/usr/bin/env bash
# test.sh — the whole test suite, as CI runs it:
#   1. install build and test dependencies (apt-get; the list is
#      tests/rig/packages.sh),
#   2. build aldproxy normally and with AddressSanitizer + UBSan,
#   3. run every unit (cmocka) and integration (real slapd / 389-ds /
#      MIT KDC + aldproxyd) test through ctest in both builds.
# Both builds' tests run even when the first has failures; the end is one
# summary of everything that failed, and the exit status is non-zero then.
# Set TEST_FILTER to a ctest -R regex to run a subset.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
t0=$(date +%s)
bash scripts/deps.sh

jobs=$(nproc)
filter=(${TEST_FILTER:+-R "$TEST_FILTER"})
export RIG_SKIP_DEPS=1      # installed above, once

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALDPROXY_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DALDPROXY_SANITIZE=ON -DALDPROXY_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
# leaks inside MIT Kerberos / Cyrus SASL plugins are not ours (tests/lsan.supp)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
round() {   # LABEL BUILD_DIR
	local label=$1 dir=$2 t=$(date +%s) rc=0 name
	echo "== tests ($label)"
	ctest --test-dir "$dir" --output-on-failure -j "$jobs" "${filter[@]}" || rc=$?
	echo "== tests ($label): $(( $(date +%s) - t )) s, ctest exit $rc"
	if [ "$rc" -ne 0 ]; then
		local log=$dir/Testing/Temporary/LastTestsFailed.log
		if [ -s "$log" ]; then
			while IFS=: read -r _ name; do failed+=("$label: $name"); done <"$log"
		else
			failed+=("$label: ctest exited $rc")
		fi
	fi
}
round "RelWithDebInfo" build
round "ASan + UBSan" build-asan

# the product matrix (docs/profiles.md): what the product tests of the first
# round recorded (tests/integration/lib/product.sh, prod_case) as a table; it
# never changes this script's exit status (the tests themselves do)
echo "== product matrix"
if python3 scripts/product-matrix.py --dir build/product-matrix --out build/product-matrix.md --check; then
	echo "   written to build/product-matrix.md (from build/product-matrix/)"
else
	echo "   build/product-matrix.md: see above (gaps in the product matrix, or no records)"
fi
echo "== suite time: $(( $(date +%s) - t0 )) s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "== FAILED (${#failed[@]}):"
	printf '   %s\n' "${failed[@]}"
	exit 1
fi
echo "== all tests passed"
