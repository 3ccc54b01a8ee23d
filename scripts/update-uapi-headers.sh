#!/bin/bash
# update-uapi-headers.sh - refresh third_party/linux-uapi/ (the V4L2 / media
# controller uAPI headers v4l2r's bindgen reads) from Debian trixie's
# linux-libc-dev, using a private apt configuration (host apt untouched).
# Debian 12's own linux-libc-dev (6.1) lacks parts of the stateless uAPI we use.
# third_party/linux-uapi/Linux-syscall-note (the licence exception's text,
# quoted in debian/copyright by scripts/gen-copyright.py) is left as it is.
# Usage: scripts/update-uapi-headers.sh   (needs apt-get, dpkg-deb; not root)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mirror=${VREQ_MIRROR:-http://deb.debian.org/debian}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
echo "deb $mirror trixie main" > "$tmp/sources.list"
A=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o Debug::NoLocking=1)
apt-get "${A[@]}" -q update >/dev/null
(cd "$tmp" && apt-get "${A[@]}" -q download linux-libc-dev >/dev/null)
dpkg-deb -x "$tmp"/linux-libc-dev_*.deb "$tmp/x"
dst=$top/third_party/linux-uapi/include/linux
mkdir -p "$dst"
for h in videodev2.h v4l2-controls.h v4l2-common.h media.h; do
  cp "$tmp/x/usr/include/linux/$h" "$dst/$h"
done
ver=$(dpkg-deb -f "$tmp"/linux-libc-dev_*.deb Version)
printf 'linux-libc-dev %s (Debian trixie)\nLicence: GPL-2.0 WITH Linux-syscall-note\n' "$ver" > "$top/third_party/linux-uapi/SOURCE"
echo "updated $dst from linux-libc-dev $ver"
