#!/usr/bin/env bash
# Installs Debian's chromium for the `html` test, which opens HTML reports in a real headless
# browser.  Separate from install-deps.sh because it is large and only that test needs it; safe
# to run twice; exits 0 with a message when it cannot install (the test then skips and says why).
set -uo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-headless-shell >/dev/null 2>&1; then
    echo "install-browser: chromium present"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium; then
    echo "install-browser: chromium installed"
else
    echo "install-browser: could not install chromium: the html test will be skipped"
fi
exit 0
