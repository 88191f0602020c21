#!/usr/bin/env bash
# Quick start, step 2: the whole test suite (Criterion unit tests, golden analyzer tests, CLI
# transcripts, and the reproduction suite), through CTest.  Installs and builds first if needed.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   analyzer and tests with ASan+UBSan, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
args=()
if [ "${1:-}" = "--sanitize" ]; then
    dir=build-asan
    args=(-DFORKSAN_SANITIZE=ON)
fi
scripts/install-deps.sh
scripts/build.sh "$dir" "${args[@]}"
ctest --test-dir "$dir" --output-on-failure
