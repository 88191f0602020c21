#!/usr/bin/env bash
# Installs the Debian 12 packages forksan builds and tests with. Safe to run twice; needs root
# (or sudo) and no standard input.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libunwind-dev libdw-dev libelf-dev libcriterion-dev
      libjansson-dev python3 elfutils libpython3.11-testsuite
      clang libclang-rt-dev) # clang and its libFuzzer runtime: tests/fuzz
# Test-only: the real prefork servers of tests/servers (CTest label `servers`).  Their packages
# would start system services; a policy-rc.d that refuses every start is in place while they
# install, and the test runs them with its own configuration on 127.0.0.1 only.
test_pkgs=(nginx-light apache2 gunicorn)
missing=()
for p in "${pkgs[@]}" "${test_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# installed by forksan scripts/install-deps.sh: start no service\nexit 101\n' |
        $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
