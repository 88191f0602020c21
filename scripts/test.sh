#!/usr/bin/env bash
# Quick start, step 2: the whole test suite (Criterion unit tests, golden analyzer tests, CLI
# transcripts, and the reproduction suite), through CTest.  Installs and builds first if needed.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   analyzer and tests with ASan+UBSan, in build-asan/
# The sanitize pass leaves out the CPython test suites (label cpython, ~3 minutes): they test
# the shim with CPython's own tests, which ASan in the analyzer does not change.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
args=()
ctest_args=()
if [ "${1:-}" = "--sanitize" ]; then
    dir=build-asan
    args=(-DFORKSAN_SANITIZE=ON)
    ctest_args=(-LE cpython)
fi
scripts/install-deps.sh
scripts/install-sarif-tools.sh # from npm, for the sarif test (skipped without it)
scripts/install-browser.sh     # chromium, for the html test (skipped without it)
scripts/build.sh "$dir" "${args[@]}"
ctest --test-dir "$dir" --output-on-failure "${ctest_args[@]}"
