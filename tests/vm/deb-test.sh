#!/bin/bash
# deb-test.sh - the amd64 .deb installed in the trixie VM (issue 16), one boot:
#   install       dpkg -i succeeds: every Depends (shlibs: libc6, libgcc-s1,
#                 libasound2t64, libopus0, libxkbcommon0, libfontconfig1; misc:
#                 systemd for the sysusers file) is in the image already, the
#                 guest has no network. The image's dpkg excludes
#                 /usr/share/{doc,man} (and removed their directories); the
#                 install passes --path-include for the man page (its
#                 directory made first) so it can be checked.
#   list-devices  the installed /usr/bin/vreqplay --list-devices finds visl
#   man           the man page is installed (man -w vreqplay when man-db is
#                 in the image; it is not in trixie's: then the file
#                 /usr/share/man/man1/vreqplay.1.gz and its .TH line)
#   vainfo        LIBVA_DRIVER_NAME=vreq vainfo on vgem's render node loads
#                 the installed /usr/lib/x86_64-linux-gnu/dri/vreq_drv_video.so
#                 by name (no LIBVA_DRIVERS_PATH) and lists visl's H.264 VLD
#   desktop       the desktop entry, AppStream metainfo and icons where they
#                 belong (/usr/share/applications, /usr/share/metainfo,
#                 /usr/share/icons/hicolor/{scalable,NxN}/apps); their
#                 validators run in scripts/check-packages.sh (not in the image)
#   kiosk         the unit in /usr/lib/systemd/system, not enabled (no
#                 .wants link), the sysusers file in /usr/lib/sysusers.d and
#                 its user vreqplay created by the postinst (systemd-sysusers)
#   remove        dpkg --purge removes the binary, the driver and the unit
# Each check prints "deb: NAME PASS|FAIL ...".
# Usage: tests/vm/deb-test.sh [DEB]   (default target/deb/vreqplay_*_amd64.deb,
#   built by scripts/package-deb.sh --nocheck when there is none; a DEB outside
#   the repository is copied to target/vm-deb/). Not locked here: wrap the call
#   in `flock /tmp/vreq-vm.lock`. Exit status 0 when every check passes.
# Needs the VM image (tests/vm/vm.sh build) and, to build the .deb, root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
deb=${1:-}
if [ -z "$deb" ]; then
  deb=$(ls -t target/deb/vreqplay_*_amd64.deb 2>/dev/null | head -1 || true)
  [ -n "$deb" ] || deb=$(scripts/package-deb.sh --nocheck --arch amd64 | tail -1)
fi
[ -f "$deb" ] || { echo "deb-test: $deb: no such file" >&2; exit 2; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
case $deb in
  "$top"/*) rel=${deb#"$top"/} ;;
  *) mkdir -p target/vm-deb; cp "$deb" target/vm-deb/; rel=target/vm-deb/$(basename "$deb") ;;
esac
echo "deb-test: $rel"
tests/vm/vm.sh run -t 600 -m "visl vgem" -- bash -c '
  deb=$1 fail=0
  ok() { echo "deb: $1 PASS${2:+ ($2)}"; }
  ko() { echo "deb: $1 FAIL: $2"; fail=1; }
  M=x86_64-linux-gnu
  mkdir -p /usr/share/man/man1   # the image removed the man directories
  if out=$(dpkg -i --path-include="/usr/share/man/man1/vreqplay.1.gz" "$deb" 2>&1); then
    ok install "$(dpkg-query -W -f="\${Package} \${Version} \${Architecture}" vreqplay)"
  else
    echo "$out" | tail -5; ko install "dpkg -i failed"; exit 1
  fi
  if out=$(/usr/bin/vreqplay --list-devices 2>&1) && echo "$out" | grep -q visl; then
    ok list-devices "$(echo "$out" | grep -m1 visl)"
  else
    echo "$out" | tail -5; ko list-devices "no visl in /usr/bin/vreqplay --list-devices"
  fi
  if command -v man > /dev/null; then
    p=$(man -w vreqplay 2>&1) && ok man "man -w: $p" || ko man "man -w vreqplay: $p"
  else
    f=/usr/share/man/man1/vreqplay.1.gz
    if [ -f $f ] && zgrep -q "^\.TH [\"]*vreqplay" $f; then ok man "$f, .TH vreqplay (man-db not in the image)"
    else ko man "$f missing or without .TH vreqplay"; fi
  fi
  out=$(env -u LIBVA_DRIVERS_PATH LIBVA_DRIVER_NAME=vreq vainfo --display drm --device /dev/dri/renderD128 2>&1) || true
  if echo "$out" | grep -q "Trying to open /usr/lib/$M/dri/vreq_drv_video.so" &&
     echo "$out" | grep -q "Driver version: vreq VA driver" &&
     echo "$out" | grep -Eq "VAProfileH264Main[[:space:]]*:[[:space:]]*VAEntrypointVLD"; then
    ok vainfo "$(echo "$out" | grep -m1 "Driver version")"
  else
    echo "$out" | tail -8; ko vainfo "the installed driver was not loaded by name"
  fi
  miss=
  for f in /usr/share/applications/vreqplay.desktop \
           /usr/share/metainfo/io.github.vreqplay.vreqplay.metainfo.xml \
           /usr/share/mime/packages/vreqplay.xml \
           /usr/share/icons/hicolor/scalable/apps/vreqplay.svg; do
    [ -s $f ] || miss="$miss $f"
  done
  pngs=$(ls /usr/share/icons/hicolor/*x*/apps/vreqplay.png 2>/dev/null | wc -l)
  [ "$pngs" -gt 0 ] || miss="$miss /usr/share/icons/hicolor/NxN/apps/vreqplay.png"
  grep -q "^Exec=vreqplay" /usr/share/applications/vreqplay.desktop 2>/dev/null || miss="$miss Exec=vreqplay"
  [ -z "$miss" ] && ok desktop "desktop entry, metainfo, SVG + $pngs PNG sizes" || ko desktop "missing:$miss"
  u=/usr/lib/systemd/system/vreqplay-kiosk@.service
  wants=$(find /etc/systemd/system -name "vreqplay-kiosk*" 2>/dev/null | head -1)
  if [ -s $u ] && [ -z "$wants" ] && [ -s /usr/lib/sysusers.d/vreqplay.conf ] && getent passwd vreqplay > /dev/null; then
    ok kiosk "unit installed, not enabled; user $(id vreqplay)"
  else
    ko kiosk "unit ${u} $( [ -s $u ] && echo present || echo missing ), enabled: ${wants:-no}, sysusers $( [ -s /usr/lib/sysusers.d/vreqplay.conf ] && echo present || echo missing ), user: $(getent passwd vreqplay || echo none)"
  fi
  if dpkg --purge vreqplay > /dev/null 2>&1 && [ ! -e /usr/bin/vreqplay ] && [ ! -e /usr/lib/$M/dri/vreq_drv_video.so ] && [ ! -e $u ]; then
    ok remove
  else
    ko remove "dpkg --purge left files behind or failed"
  fi
  exit $fail' bash "$rel"
