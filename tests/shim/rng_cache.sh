#!/bin/sh
# shim_rng_cache under the shim, then in the traces: each drand48_r state's segment in the child
# starts at exactly the draws its program counted before the fork, and each erand48 state has
# exactly one segment in the parent (see rng_cache.c).
# usage: rng_cache.sh SHIM FORKSAN TRACE_DIR PROGRAM
set -u
out=$(sh "$(dirname "$0")/run_shim.sh" "$1" "$3" 2 "$2" "$4") || exit 1
echo "$out"
fail=0
states=$(echo "$out" | sed -n 's/^state \([0-9]*\) erand48=\([0-9a-f]*\) drand48_r=\([0-9a-f]*\) nd=\([0-9]*\) nx=.*/\1 \2 \3 \4/p')
[ -n "$states" ] || { echo "not ok - the program printed no states"; exit 1; }
echo "$states" | {
    while read -r i x d nd; do
        pos=$(cat "$3"/*.trace | grep "^draw gen=drand48_r id=$d " | grep " inherited=1 " |
              sed -n 's/.* pos=\([0-9]*\) .*/\1/p')
        if [ "$pos" = "$nd" ]; then
            echo "ok - state $i: drand48_r's segment in the child starts at $nd"
        else
            echo "not ok - state $i: drand48_r's segment in the child starts at '$pos', not $nd"
            fail=1
        fi
        segs=$(cat "$3"/*.trace | grep "^draw gen=erand48 id=$x " | grep -c " inherited=0 ")
        if [ "$segs" -eq 1 ]; then
            echo "ok - state $i: one erand48 segment in the parent"
        else
            echo "not ok - state $i: $segs erand48 segments in the parent, expected 1"
            fail=1
        fi
    done
    exit $fail
}
