#!/usr/bin/env bash
# The browser tests drive Debian's headless Chromium; install it when it is missing.
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo; command -v sudo >/dev/null || { echo "error: chromium is missing; install Debian's 'chromium' package as root" >&2; exit 1; }
else
  SUDO=
fi
echo "Installing Debian's chromium for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
