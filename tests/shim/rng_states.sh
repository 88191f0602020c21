#!/bin/sh
# shim_rng_states under the shim, then: `lost what=rng` counts at most one per state (200).
# usage: rng_states.sh SHIM FORKSAN TRACE_DIR PROGRAM
set -u
sh "$(dirname "$0")/run_shim.sh" "$1" "$3" 1 "$2" "$4" || exit 1
lost=$(cat "$3"/*.trace | sed -n 's/^lost what=rng count=\([0-9]*\)$/\1/p' | awk '{s += $1} END {print s + 0}')
if [ "$lost" -le 200 ]; then
    echo "ok - $lost rng records counted lost for 200 states"
else
    echo "not ok - $lost rng records counted lost for 200 states (once per draw?)"
    exit 1
fi
