#!/usr/bin/env bash
# `grade` runs each homework submission in a bubblewrap sandbox; install Debian's bubblewrap when
# bwrap is missing, then check that it can create a sandbox here (it needs user namespaces).
set -euo pipefail
if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo; command -v sudo >/dev/null || { echo "error: bwrap is missing; install Debian's 'bubblewrap' package as root" >&2; exit 1; }
  else
    SUDO=
  fi
  echo "Installing Debian's bubblewrap for the homework grader's sandbox..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
fi
if ! bwrap --unshare-all --die-with-parent --ro-bind / / /bin/true 2>/tmp/bwrap-check.$$; then
  echo "error: bwrap is installed but cannot create a sandbox here: $(cat /tmp/bwrap-check.$$)" >&2
  echo "  it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1;" >&2
  echo "  on Ubuntu 24.04, AppArmor's profile for bwrap)" >&2
  rm -f /tmp/bwrap-check.$$
  exit 1
fi
rm -f /tmp/bwrap-check.$$
bwrap --version
