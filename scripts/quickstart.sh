#!/usr/bin/env bash
# Quick start, step 1: install the Debian packages, build forksan, and run the bundled
# reproduction suite (`forksan cases`), which shows every hazard and control with its verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
build/bin/forksan cases
