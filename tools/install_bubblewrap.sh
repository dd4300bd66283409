#!/usr/bin/env bash
# `grade` runs each homework submission in a bubblewrap sandbox: install Debian's bubblewrap when
# bwrap is missing (tools/install_debian.sh), then check that it can create a sandbox here (it needs
# user namespaces).
set -euo pipefail
bash "$(dirname "$0")/install_debian.sh" bubblewrap
if ! bwrap --unshare-all --die-with-parent --ro-bind / / /bin/true 2>/tmp/bwrap-check.$$; then
  echo "error: bwrap is installed but cannot create a sandbox here: $(cat /tmp/bwrap-check.$$)" >&2
  echo "  it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1;" >&2
  echo "  on Ubuntu 24.04, AppArmor's profile for bwrap)" >&2
  rm -f /tmp/bwrap-check.$$
  exit 1
fi
rm -f /tmp/bwrap-check.$$
bwrap --version
