#!/bin/sh
# The shim must export exactly the functions it interposes: the dynamic symbols it defines
# (nm -D --defined-only) must be the same set as the global: list of its version script.
#
# usage: check_exports.sh SHIM EXPORTS_MAP
set -u
if [ $# -ne 2 ]; then
    echo "usage: check_exports.sh SHIM EXPORTS_MAP" >&2
    exit 2
fi
shim=$1 map=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Symbol names only, without any @VERSION suffix.
nm -D --defined-only "$shim" >"$tmp/nm" || { echo "check_exports: nm failed" >&2; exit 1; }
awk 'NF >= 2 { sub(/@.*/, "", $NF); print $NF }' "$tmp/nm" | sort -u >"$tmp/exported"

# The words between "global:" and "local:", comments dropped.
sed -e 's|/\*.*\*/||g' -e 's|#.*||' "$map" |
    awk '/global:/ { on = 1; sub(/.*global:/, "") }
         /local:/ { sub(/local:.*/, ""); if (on) print; on = 0 }
         on { print }' |
    tr ';' '\n' | tr -d ' \t' | grep -v '^$' | sort -u >"$tmp/listed"

if [ ! -s "$tmp/listed" ]; then
    echo "check_exports: no symbols found in $map" >&2
    exit 1
fi
if ! diff -u "$tmp/listed" "$tmp/exported" >"$tmp/diff"; then
    echo "check_exports: exported symbols differ from $map (-listed +exported):" >&2
    cat "$tmp/diff" >&2
    exit 1
fi
echo "ok - $(wc -l <"$tmp/listed") symbols exported, exactly those in $(basename "$map")"
