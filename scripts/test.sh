#!/usr/bin/env bash
# test.sh — the whole test suite, as CI runs it:
#   1. install build and test dependencies (apt-get),
#   2. build aldproxy normally and with AddressSanitizer + UBSan,
#   3. run every unit (cmocka) and integration (real slapd + aldproxyd) test
#      through ctest in both builds.
# Exits non-zero on any failure.  Set TEST_FILTER to a ctest -R regex to run a subset.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh

jobs=$(nproc)
filter=(${TEST_FILTER:+-R "$TEST_FILTER"})
export RIG_SKIP_DEPS=1      # installed above, once

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DALDPROXY_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
# leaks inside MIT Kerberos / Cyrus SASL plugins are not ours (tests/lsan.supp)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "== tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure -j "$jobs" "${filter[@]}"
echo "== tests (ASan + UBSan)"
ctest --test-dir build-asan --output-on-failure -j "$jobs" "${filter[@]}"
echo "== all tests passed"
