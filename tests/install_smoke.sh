#!/usr/bin/env bash
# Installs the build into a temporary prefix and checks that the installed forksan finds the
# installed shim and case suite (not the build tree's): the traces must name the installed shim.
set -u
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null || { echo "not ok - install"; exit 1; }
fails=0
check() { if "$@"; then echo "ok - $desc"; else echo "not ok - $desc"; fails=$((fails + 1)); fi; }
desc="installed shim present"; check test -f "$prefix/lib/forksan/libforksan.so"
out=$(cd / && env -u FORKSAN_LIB "$prefix/bin/forksan" run --fail-on never \
      --trace-dir "$prefix/traces" -- "$prefix/libexec/forksan/cases/forker_holds" 2>&1)
desc="installed forksan reports"
check grep -q "lock-held-by-forker" <<<"$out"
desc="the traced program loaded the installed shim"
check grep -q "path=$prefix/lib/forksan/libforksan.so" "$prefix"/traces/*.trace
desc="forksan(1) installed"; check test -f "$prefix/share/man/man1/forksan.1"
desc="the formats' docs installed"; check test -f "$prefix/share/doc/forksan/report-json.md"
out=$("$prefix/bin/forksan" --version)
desc="installed forksan --version"; check grep -q "^forksan " <<<"$out"
out=$(cd / && "$prefix/bin/forksan" cases forker_holds ctl_single_thread 2>&1)
desc="installed forksan cases finds the installed suite"; check grep -q "^2 passed, 0 failed" <<<"$out"
echo "$((5 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
