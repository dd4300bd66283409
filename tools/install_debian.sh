#!/usr/bin/env bash
# Install the Debian packages the book's build needs when their commands are missing:
#   graphviz       `dot`, which renders the diagrams in figures/ (sphinx.ext.graphviz)
#   chromium       headless Chromium, which prints each lecture to PDF (tools/pdf.py)
#   poppler-utils  pdfunite, pdfinfo, pdftotext and pdftoppm: joins and checks the PDFs
#   bubblewrap     `bwrap`, the homework grader's sandbox (tools/install_bubblewrap.sh checks it)
# Usage: bash tools/install_debian.sh            (all of them)
#        bash tools/install_debian.sh graphviz   (only the packages named)
set -euo pipefail
declare -A COMMAND=([graphviz]=dot [chromium]=chromium [poppler-utils]=pdfunite [bubblewrap]=bwrap
                    [fonts-dejavu-core]=)
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(graphviz chromium poppler-utils bubblewrap)
missing=()
for pkg in "${packages[@]}"; do
  [ -n "${COMMAND[$pkg]+set}" ] || { echo "error: tools/install_debian.sh does not know '$pkg'" >&2; exit 2; }
  if [ -n "${COMMAND[$pkg]}" ]; then
    command -v "${COMMAND[$pkg]}" >/dev/null || missing+=("$pkg")
  else
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
# Chromium's PDFs need a font with the book's glyphs.
missing+=(fonts-dejavu-core)
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
  command -v sudo >/dev/null || { echo "error: missing ${missing[*]}; install these Debian packages as root" >&2; exit 1; }
else
  SUDO=
fi
echo "Installing Debian's ${missing[*]} for the book's build..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
