#!/usr/bin/env bash
# Installs the SARIF validator the `sarif` test uses: Microsoft's SARIF multitool from the npm
# registry (@microsoft/sarif-multitool pulls in the self-contained @microsoft/sarif-multitool-linux,
# whose `validate` runs without .NET and carries the official SARIF 2.1.0 JSON schema).  Into
# $FORKSAN_TOOLS_DIR (default ~/.cache/forksan/tools), never into the source tree.  Safe to run
# twice; exits 0 with a message when npm is missing or the registry cannot be reached (the test
# then skips and says why).
set -uo pipefail
dir=${FORKSAN_TOOLS_DIR:-$HOME/.cache/forksan/tools}
tool=$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
if [ -x "$tool" ]; then
    echo "install-sarif-tools: present in $dir"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-sarif-tools: npm not found (apt-get install npm): SARIF validation will be skipped"
    exit 0
fi
mkdir -p "$dir"
if ! npm install --no-audit --no-fund --prefix "$dir" @microsoft/sarif-multitool@5.7.0 >"$dir/npm.log" 2>&1; then
    echo "install-sarif-tools: npm install failed (see $dir/npm.log): SARIF validation will be skipped"
    exit 0
fi
# The package's postinstall only sets the executable bit; npm may not have run it.
chmod u+x "$tool" 2>/dev/null || true
echo "install-sarif-tools: installed in $dir"
