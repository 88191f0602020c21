#!/usr/bin/env bash
# Installs the Debian 12 packages forksan builds and tests with. Safe to run twice; needs root
# (or sudo) and no standard input.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libunwind-dev libdw-dev libelf-dev libcriterion-dev
      libjansson-dev python3 elfutils
      clang libclang-rt-dev) # clang and its libFuzzer runtime: tests/fuzz
missing=()
for p in "${pkgs[@]}"; do
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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
