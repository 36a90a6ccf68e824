#!/usr/bin/env bash
# test_fuzz.sh — a short fuzzing run: builds the libFuzzer harnesses
# (tests/fuzz/, clang + ASan + UBSan, in build-fuzz) and runs each for 15 s
# (FUZZ_SECONDS) from its seeds and regression inputs; any crash, sanitizer
# report or broken invariant fails.  No directory, no aldproxyd: registered
# only in the build without sanitizers (tests/CMakeLists.txt, label fuzz).
# A long run: bash tests/fuzz/run.sh 3600 (docs/security.md, "Fuzzing").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
test_begin test_fuzz
need clang cmake llvm-symbolizer flock

bash "$REPO/tests/fuzz/run.sh" "${FUZZ_SECONDS:-15}"
ok "every harness ran ${FUZZ_SECONDS:-15} s without a crash"
test_pass
