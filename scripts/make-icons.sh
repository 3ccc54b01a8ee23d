#!/bin/bash
# make-icons.sh - render vreqplay's icon (assets/icons/vreqplay.svg) into the
# freedesktop hicolor theme's layout under OUT:
#   OUT/icons/hicolor/NxN/apps/vreqplay.png   N = 16 24 32 48 64 128 256
#   OUT/icons/hicolor/scalable/apps/vreqplay.svg
# Packages install OUT/icons as /usr/share/icons.
# Usage: scripts/make-icons.sh OUT
# Needs: rsvg-convert (Debian librsvg2-bin; scripts/setup-host.sh installs it).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
top=$(cd "$(dirname "$0")/.." && pwd)
svg=$top/assets/icons/vreqplay.svg
command -v rsvg-convert >/dev/null || { echo "make-icons: rsvg-convert not found (apt install librsvg2-bin)" >&2; exit 1; }
for n in 16 24 32 48 64 128 256; do
  dir=$out/icons/hicolor/${n}x${n}/apps
  mkdir -p "$dir"
  rsvg-convert --width "$n" --height "$n" --format png --output "$dir/vreqplay.png" "$svg"
done
install -D -m 644 "$svg" "$out/icons/hicolor/scalable/apps/vreqplay.svg"
