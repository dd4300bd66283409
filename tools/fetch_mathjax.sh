#!/usr/bin/env bash
# Put MathJax 3 into _vendor/mathjax (copied to the site's root) so that the site typesets math without a CDN.
# It comes from the npm registry (one pinned, checksummed tarball); run by `make`.
set -euo pipefail
VERSION=3.2.2
SHA256=1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
DEST=_vendor/mathjax
[ -f "$DEST/tex-svg-full.js" ] && [ "$(cat "$DEST/VERSION" 2>/dev/null)" = "$VERSION" ] && exit 0
command -v npm >/dev/null || { echo "error: npm is needed to fetch MathJax $VERSION (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$VERSION" >/dev/null)
echo "$SHA256  $tmp/mathjax-$VERSION.tgz" | sha256sum -c --quiet - \
  || { echo "error: mathjax-$VERSION.tgz does not match its pinned checksum" >&2; exit 1; }
tar -xzf "$tmp/mathjax-$VERSION.tgz" -C "$tmp"
mkdir -p "$DEST.tmp"
# The -full bundle holds every TeX extension and the SVG output needs no font files,
# so one script typesets every page offline.
cp "$tmp/package/es5/tex-svg-full.js" "$tmp/package/LICENSE" "$DEST.tmp/"
echo "$VERSION" > "$DEST.tmp/VERSION"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
echo "MathJax $VERSION installed in $DEST"
