#!/usr/bin/env bash
# Builds the libFuzzer target (tests/fuzz/fuzz_analyze.c) with clang, ASan and UBSan, then runs it
# from the seed corpus (tests/fuzz/corpus/) for a bounded time.
#   tests/fuzz/run.sh OUTDIR SECONDS [libFuzzer options...]
# Exits 77 (CTest's "skipped") with a message when clang or its libFuzzer runtime is missing
# (Debian: clang and libclang-rt-<version>-dev; scripts/install-deps.sh installs them).
# New inputs found go to OUTDIR/corpus (never into the repository's seeds); crashes, leaks and
# timeouts to OUTDIR/crash-*, leak-*, timeout-*: each becomes a regression test.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: run.sh OUTDIR SECONDS [options]}"
secs="${2:?usage: run.sh OUTDIR SECONDS [options]}"
shift 2
mkdir -p "$out/corpus"

cc=""
for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
    if command -v "$c" >/dev/null 2>&1; then cc="$c"; break; fi
done
if [ -z "$cc" ]; then
    echo "fuzz: SKIPPED: clang is not installed (scripts/install-deps.sh installs it)"
    exit 77
fi
probe="$out/probe"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! "$cc" -fsanitize=fuzzer "$probe.c" -o "$probe" 2>/dev/null; then
    echo "fuzz: SKIPPED: $cc has no libFuzzer runtime (Debian: libclang-rt-*-dev)"
    exit 77
fi

bin="$out/fuzz_analyze"
sources=("$src"/analyzer/*/*.c "$src"/common/trace_read.c
         "$src"/common/trace_names.c "$src"/common/linebuf.c "$src"/tests/fuzz/fuzz_analyze.c)
newest=$(ls -t "${sources[@]}" "$src"/analyzer/*/*.h "$src"/common/*.h "$0" | head -1)
if [ ! -x "$bin" ] || [ "$newest" -nt "$bin" ]; then
    files=()
    for f in "${sources[@]}"; do
        [ "$(basename "$f")" = main.c ] || files+=("$f")
    done
    # shellcheck disable=SC2046
    "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Wall -Wextra -D_GNU_SOURCE \
        -DFORKSAN_VERSION='"fuzz"' -DFORKSAN_BUILD_LIB='"/nonexistent"' \
        -DFORKSAN_BUILD_CASES_BIN='"/nonexistent"' -DFORKSAN_BUILD_CASES_SRC='"/nonexistent"' \
        -DFORKSAN_REL_LIB='"/nonexistent"' -DFORKSAN_REL_CASES_BIN='"/nonexistent"' \
        -DFORKSAN_REL_CASES_SRC='"/nonexistent"' \
        $(for d in "$src"/analyzer/*/; do printf -- '-I%s ' "$d"; done) -I"$src/common" \
        "${files[@]}" $(pkg-config --cflags --libs libdw jansson) -o "$bin.tmp"
    mv "$bin.tmp" "$bin"
fi

cd "$out"
# -timeout: one input taking 10 s is a hang; -rss_limit_mb: the analyzer must stay linear.
# libFuzzer's own error status is 77, which CTest would take for "skipped": failures exit 1.
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -error_exitcode=1 -timeout_exitcode=1 \
    "$@" "$out/corpus" "$src/tests/fuzz/corpus"
