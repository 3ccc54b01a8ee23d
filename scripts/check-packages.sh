#!/bin/bash
# check-packages.sh - build and check vreqplay's packages (issue 16):
#   deb-amd64   scripts/package-deb.sh --arch amd64 --nocheck (the host tier
#               runs the same tests already)
#   deb-arm64   scripts/package-deb.sh --arch arm64 (cross), with its
#               dh_auto_test: the workspace's tests (cargo test --release)
#               under qemu-aarch64 - the arm64 host tier, printed as
#               `arm64 host-tier: N passed, F failed, I ignored`; the tests
#               qemu-user cannot run are listed with the reason
#               (scripts/qemu-user-skip.txt). VREQ_ARM64=0: nocheck
#   lintian     trixie's lintian on each .changes (the source package and the
#               .deb); fails on any E: tag; output in target/deb/lintian-<arch>.txt
#   contents    `dpkg -c` of each .deb in target/deb/vreqplay_<ver>_<arch>.contents,
#               and every file the package must ship is in it
#   validate    desktop-file-validate and appstreamcli validate-tree --no-net
#               on the amd64 package's files (dpkg -x; the metainfo, its
#               desktop entry and icon; url-homepage-missing lowered to info
#               as scripts/check-assets.sh does: the project has none yet)
#   arm64-run   the arm64 .deb unpacked (dpkg -x), its usr/bin/vreqplay run
#               under qemu-aarch64 (binfmt, scripts/trixie-chroot.sh): --help
#               exits 0 with the usage, --list-devices (no decoder on this
#               machine) exits non-zero with the one-line error, no panic
#   makepkg     packaging/arch/PKGBUILD built by Debian's makepkg as the
#               unprivileged user `builder` (makepkg refuses root), with
#               --nodeps (pacman's database knows no Arch packages: the
#               dependencies are Debian's, installed in the chroot) and
#               --nocheck (check() is the host tier again); the source is a
#               tarball of the tree (no release tag yet); its file list in
#               target/arch/vreqplay-<ver>-<rel>-x86_64.contents, checked as
#               the .deb's
# Each step prints "packages: STEP ok|FAILED (N s)"; the last line is
# "packages: N passed, N failed".
# Usage: scripts/check-packages.sh [STEP...]   (default: all, in this order)
# Needs root (the chroot: scripts/trixie-chroot.sh setup runs first), git.
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$top"
chroot_run() { scripts/trixie-chroot.sh run -- "$@"; }
all=(deb-amd64 deb-arm64 lintian contents validate arm64-run makepkg)
steps=("$@"); [ ${#steps[@]} -gt 0 ] || steps=("${all[@]}")
D=target/deb
ver=$(sed -n '1s/^vreqplay (\(.*\)).*/\1/p' packaging/debian/changelog)
up=${ver%-*}
pkgrel=$(sed -n 's/^pkgrel=//p' packaging/arch/PKGBUILD)
mkdir -p "$D"
scripts/trixie-chroot.sh setup

# what both packages must ship (paths relative to /; * = the multiarch
# triplet or any icon size)
must_ship_deb=(usr/bin/vreqplay 'usr/lib/*-linux-gnu/dri/vreq_drv_video.so'
  usr/share/man/man1/vreqplay.1.gz usr/share/bash-completion/completions/vreqplay
  usr/share/zsh/vendor-completions/_vreqplay usr/share/fish/vendor_completions.d/vreqplay.fish
  usr/share/applications/vreqplay.desktop usr/share/metainfo/io.github.vreqplay.vreqplay.metainfo.xml
  usr/share/mime/packages/vreqplay.xml
  usr/share/icons/hicolor/scalable/apps/vreqplay.svg 'usr/share/icons/hicolor/*x*/apps/vreqplay.png'
  'usr/lib/systemd/system/vreqplay-kiosk@.service' usr/lib/sysusers.d/vreqplay.conf
  usr/share/doc/vreqplay/copyright usr/share/doc/vreqplay/README.md.gz usr/share/doc/vreqplay/kiosk.md)
must_ship_arch=(usr/bin/vreqplay usr/lib/dri/vreq_drv_video.so usr/share/man/man1/vreqplay.1.gz
  usr/share/bash-completion/completions/vreqplay usr/share/zsh/site-functions/_vreqplay
  usr/share/fish/vendor_completions.d/vreqplay.fish usr/share/applications/vreqplay.desktop
  usr/share/metainfo/io.github.vreqplay.vreqplay.metainfo.xml usr/share/mime/packages/vreqplay.xml
  usr/share/icons/hicolor/scalable/apps/vreqplay.svg 'usr/share/icons/hicolor/*x*/apps/vreqplay.png'
  'usr/lib/systemd/system/vreqplay-kiosk@.service' usr/lib/sysusers.d/vreqplay.conf
  usr/share/licenses/vreqplay/LICENSE-MIT usr/share/licenses/vreqplay/LICENSE-APACHE)
check_list() { # check_list LISTING PATTERN... : every pattern names a file of LISTING
  local list=$1 p miss=0; shift
  for p in "$@"; do
    # shellcheck disable=SC2053
    awk -v p="$p" 'BEGIN{gsub(/[.]/,"[.]",p); gsub(/[*]/,"[^/]*",p); p="^" p "$"} {sub(/^[.]?\//,"",$0)} $0 ~ p {f=1} END{exit !f}' \
      < <(awk '{print $NF}' "$list") || { echo "not shipped: /$p"; miss=1; }
  done
  return $miss
}

step_deb-amd64() { scripts/package-deb.sh --arch amd64 --nocheck "$D"; }
step_deb-arm64() {
  local log=target/deb-build/arm64/build.log rc=0
  if [ "${VREQ_ARM64:-1}" = 0 ]; then
    echo "arm64 host-tier SKIPPED (VREQ_ARM64=0): the arm64 .deb built with nocheck"
    scripts/package-deb.sh --arch arm64 --nocheck "$D"; return
  fi
  scripts/package-deb.sh --arch arm64 "$D" || rc=$?
  [ -f "$log" ] || return 1
  grep '^SKIPPED under qemu-user' "$log" || true
  if grep -q '^test result:' "$log"; then
    awk '/^test result:/{p+=$4; f+=$6; i+=$8} END{printf "arm64 host-tier: %d passed, %d failed, %d ignored\n", p, f, i}' "$log"
  else
    echo "arm64 host-tier: cargo test did not run (log: $log)"; rc=1
  fi
  grep -q 'test result: FAILED' "$log" && grep -E '^    [a-z_:]+$|panicked' "$log" | head -20
  return $rc
}
step_lintian() {
  # amd64: its .changes (the source package too: ~4 min of the step, most of
  # it unpacking vendor/); arm64: the .deb (its source package is the same)
  local a rc=0 f
  for a in amd64 arm64; do
    f=target/deb-build/$a/vreqplay_${ver}_$a.changes
    [ "$a" = arm64 ] && f=$D/vreqplay_${ver}_$a.deb
    [ -f "$f" ] || { echo "$f missing (run the deb-$a step)"; return 1; }
    chroot_run lintian --no-cfg --display-info --tag-display-limit 0 "$f" 2>&1 |
      grep -v '^running with root privileges' > "$D/lintian-$a.txt" || true
    echo "lintian $a: $(grep -c '^E:' "$D/lintian-$a.txt" || true) errors, $(grep -c '^W:' "$D/lintian-$a.txt" || true) warnings ($D/lintian-$a.txt)"
    sed 's/^/  /' "$D/lintian-$a.txt"
    if grep -q '^E:' "$D/lintian-$a.txt"; then rc=1; fi
  done
  return $rc
}
step_contents() {
  local a rc=0 deb
  for a in amd64 arm64; do
    deb=$D/vreqplay_${ver}_$a.deb
    [ -f "$deb" ] || { echo "$deb missing"; return 1; }
    dpkg -c "$deb" > "$D/vreqplay_${ver}_$a.contents"
    echo "$a: $(grep -c '^-' "$D/vreqplay_${ver}_$a.contents") files ($D/vreqplay_${ver}_$a.contents)"
    check_list "$D/vreqplay_${ver}_$a.contents" "${must_ship_deb[@]}" || rc=1
  done
  return $rc
}
step_validate() {
  local x=target/deb-build/x-amd64
  rm -rf "$x"; dpkg -x "$D/vreqplay_${ver}_amd64.deb" "$x"
  chroot_run sh -c "desktop-file-validate $x/usr/share/applications/vreqplay.desktop &&
    appstreamcli validate-tree --no-net --explain --override=url-homepage-missing=info $x"
}
step_arm64-run() {
  local x=target/deb-build/x-arm64
  rm -rf "$x"; dpkg -x "$D/vreqplay_${ver}_arm64.deb" "$x"
  file -b "$x/usr/bin/vreqplay" | grep -q 'ARM aarch64' || { echo "not an aarch64 binary: $(file -b "$x/usr/bin/vreqplay")"; return 1; }
  chroot_run sh -c "
    set -u
    out=\$($x/usr/bin/vreqplay --help 2>&1); rc=\$?
    echo \"--help: exit \$rc, \$(echo \"\$out\" | wc -l) lines: \$(echo \"\$out\" | head -1)\"
    [ \$rc = 0 ] && echo \"\$out\" | grep -q '^Usage: vreqplay' || exit 1
    err=\$($x/usr/bin/vreqplay --list-devices 2>&1 >/dev/null); rc=\$?
    echo \"--list-devices: exit \$rc, stderr: \$err\"
    [ \$rc != 0 ] && [ \$(echo \"\$err\" | wc -l) = 1 ] && echo \"\$err\" | grep -q '^vreqplay: no V4L2 stateless decoder found' &&
      ! echo \"\$err\" | grep -q panicked"
}
step_makepkg() {
  local B=target/arch-build
  mkdir -p "$B" target/arch
  # the source makepkg would download: a tarball of the tree (package-deb.sh's upstream tarball)
  xz -dc "target/deb-build/vreqplay_$up.orig.tar.xz" | gzip -1 > "$B/vreqplay-$up.tar.gz"
  cp packaging/arch/PKGBUILD "$B/PKGBUILD"
  chroot_run sh -euc "
    id builder > /dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/builder builder
    chown -R builder: /src/$B
    cd /src/$B
    rm -f ./*.pkg.tar.*
    runuser -u builder -- env CARGO_HOME=/src/$B/cargo-home CARGO_INCREMENTAL=0 \
      BUILDDIR=/src/$B/build SRCDEST=/src/$B PKGDEST=/src/$B \
      makepkg --nodeps --nocheck --noconfirm --nosign > /src/$B/makepkg.log 2>&1 ||
      { tail -30 /src/$B/makepkg.log; exit 1; }"
  local pkg
  pkg=$(ls "$B"/vreqplay-"$up"-"$pkgrel"-*.pkg.tar.* | head -1)
  [ -n "$pkg" ] || { echo "no package in $B (log $B/makepkg.log)"; return 1; }
  cp "$pkg" target/arch/
  tar -tzvf "$pkg" | grep -v ' \.[A-Z]' > "target/arch/$(basename "${pkg%%.pkg.tar.*}").contents"
  echo "$(basename "$pkg"): $(grep -c '^-' "target/arch/$(basename "${pkg%%.pkg.tar.*}").contents") files"
  check_list "target/arch/$(basename "${pkg%%.pkg.tar.*}").contents" "${must_ship_arch[@]}"
}

pass=0 fail=0 T0=$(date +%s)
for s in "${steps[@]}"; do
  declare -F "step_$s" > /dev/null || { echo "check-packages: unknown step $s (${all[*]})" >&2; exit 2; }
  t=$(date +%s)
  echo "=== packages: $s"
  if "step_$s"; then pass=$((pass + 1)); r=ok; else fail=$((fail + 1)); r=FAILED; fi
  echo "packages: $s $r ($(( $(date +%s) - t )) s)"
done
echo "check-packages: $(( $(date +%s) - T0 )) s in all"
echo "packages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
