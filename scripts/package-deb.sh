#!/bin/bash
# package-deb.sh - build vreqplay's Debian / Raspberry Pi OS package
# (packaging/debian) with dpkg-buildpackage in the trixie build chroot
# (scripts/trixie-chroot.sh): amd64 natively, arm64 cross
# (dpkg-buildpackage -a arm64 -Pcross), its tests run under qemu-user.
#
# Usage: scripts/package-deb.sh [--arch amd64|arm64] [--nocheck] [--fresh] [OUTDIR]
#   --arch     the package's architecture (default amd64)
#   --nocheck  skip dh_auto_test (cargo test --release of the workspace;
#              for arm64 under qemu-aarch64 through binfmt_misc, registered
#              by scripts/trixie-chroot.sh setup, minus the tests of
#              scripts/qemu-user-skip.txt). With the tests, the media
#              corpus must be there (shared/media or $VREQ_MEDIA).
#   --fresh    drop the cached cargo target directory first
#   OUTDIR     where vreqplay_<version>_<arch>.deb is copied (default target/deb)
# Prints the .deb's path. Needs root (the chroot), git; the network for
# crates.io the first time a Cargo.lock is vendored.
#
# The source package is 3.0 (quilt) with two orig tarballs, in
# target/deb-build/: vreqplay_<upstream>.orig.tar.xz, the repository's
# tracked files (working tree: uncommitted edits included) plus, as a
# release tarball would carry them, the man page and shell completions
# under assets/generated/ (`cargo xtask assets`, run on the host before the
# chroot: its debug build is the host tier's. debian/rules and the PKGBUILD
# take them from there and run the xtask only when a tree lacks them; that
# run is a third build of the whole dependency graph - 3.5 min of an amd64
# package build of ~13, 6 min of makepkg's 16), and the component
# vreqplay_<upstream>.orig-vendor.tar.xz, `cargo vendor-filterer` of
# Cargo.lock for the Linux targets (x86_64-, aarch64-unknown-linux-gnu; other
# platforms' crates are left as empty stubs, the bundled libopus source is
# removed: the system's is linked; so are libloading's test DLLs) - Debian's crate archive lacks v4l2r and
# cros-codecs (carried patched in third_party/, in the upstream tarball), so
# the build uses the lockfile's exact crates, offline.
# The vendor tarball is made again only when Cargo.lock changes. debian/copyright
# is written by scripts/gen-copyright.py from those crates. The cargo target
# directory (target/deb-build/cargo-target) is kept between runs: vendored
# crates are not rebuilt, the workspace's are (the tree's files keep their
# mtimes).
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
die() { echo "package-deb: $*" >&2; exit 1; }

arch=amd64 nocheck=0 fresh=0 out=
while [ $# -gt 0 ]; do
  case $1 in
    --arch) [ $# -ge 2 ] || die "--arch needs amd64 or arm64"; arch=$2; shift 2 ;;
    --arch=*) arch=${1#--arch=}; shift ;;
    --nocheck) nocheck=1; shift ;;
    --fresh) fresh=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$out" ] || die "one OUTDIR only"; out=$1; shift ;;
  esac
done
case $arch in amd64|arm64) ;; *) die "--arch $arch: amd64 or arm64" ;; esac
B=target/deb-build          # relative to the repository (/src in the chroot)
CVF_VERSION=0.5.18          # cargo-vendor-filterer
PLATFORMS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)

if [ "${VREQ_PACKAGE_DEB_INSIDE:-}" != 1 ]; then
  # --- on the host: the chroot, the media corpus for the tests, the result ----
  out=${out:-$top/target/deb}
  "$top/scripts/trixie-chroot.sh" setup
  # the host tier (dh_auto_test) reads shared/media (crates/testkit
  # media_dir, looking upwards from the unpacked source under /src): the
  # chroot mounts it read-only at /shared/media
  if [ "$nocheck" = 0 ] && [ -z "$("$top/scripts/trixie-chroot.sh" media)" ]; then
    die "the tests need the media corpus (shared/media or \$VREQ_MEDIA); or --nocheck"
  fi
  # the generated man page and completions for the upstream tarball (above)
  gen=$top/$B/dist-assets
  rm -rf "$gen"; mkdir -p "$gen"
  ( cd "$top" && cargo run -q --locked -p xtask -- assets "$gen" > /dev/null ) ||
    die "cargo xtask assets failed"
  args=(--arch "$arch")
  [ "$nocheck" = 1 ] && args+=(--nocheck)
  [ "$fresh" = 1 ] && args+=(--fresh)
  VREQ_PACKAGE_DEB_INSIDE=1 "$top/scripts/trixie-chroot.sh" run -- scripts/package-deb.sh "${args[@]}"
  deb=$(cat "$top/$B/$arch/deb-name")
  mkdir -p "$out"
  cp "$top/$B/$arch/$deb" "$out/$deb"
  echo "$out/$deb"
  exit 0
fi

# --- in the chroot (cwd /src = the repository) --------------------------------
cd /src
export CARGO_INCREMENTAL=0
ver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
up=${ver%-*}
cargo_ver=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
[ "$up" = "$cargo_ver" ] || die "packaging/debian/changelog says $ver, Cargo.toml $cargo_ver: add a changelog entry (dch -v $cargo_ver-1)"
mkdir -p "$B/$arch"
t0=$(date +%s)

# 1. the upstream tarball: tracked files as they are in the working tree,
#    and the generated man page and completions (assets/generated/)
orig=$B/vreqplay_$up.orig.tar.xz
[ -f "$B/dist-assets/man/vreqplay.1" ] || die "no $B/dist-assets (made on the host: cargo xtask assets)"
# (never Python bytecode, should a __pycache__ be tracked by mistake again)
git ls-files -z | grep -zv '/__pycache__/' |
  xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
  tar --create --null --files-from=- --transform="s,^,vreqplay-$up/," \
      --owner=0 --group=0 --numeric-owner --sort=name -f "$orig.tar"
tar --append -C "$B/dist-assets" --transform="s,^[.]/,vreqplay-$up/assets/generated/," \
    --owner=0 --group=0 --numeric-owner --sort=name -f "$orig.tar" ./man ./completions
xz -T2 -1 < "$orig.tar" > "$orig.tmp"; rm -f "$orig.tar"
mv "$orig.tmp" "$orig"

# 2. the vendored crates (component "vendor"), remade when Cargo.lock changes
cvf=$CARGO_HOME/bin/cargo-vendor-filterer
if ! "$cvf" --version 2>/dev/null | grep -q " $CVF_VERSION$"; then
  echo "package-deb: installing cargo-vendor-filterer $CVF_VERSION into $CARGO_HOME (once)" >&2
  cargo install -q --locked cargo-vendor-filterer --version "$CVF_VERSION"
fi
vkey=$( { cat Cargo.lock; echo "$CVF_VERSION ${PLATFORMS[*]} opus libloading-tests"; } | sha256sum | cut -c1-16)
vtar=$B/vreqplay_$up.orig-vendor.tar.xz
if [ "$(cat "$vtar.key" 2>/dev/null)" != "$vkey" ] || [ ! -f "$vtar" ]; then
  echo "package-deb: vendoring Cargo.lock's crates for ${PLATFORMS[*]}" >&2
  v=$B/vendor-work; rm -rf "$v"; mkdir -p "$v"
  tar -xJf "$orig" -C "$v"
  ( cd "$v/vreqplay-$up" &&
    PATH=$CARGO_HOME/bin:$PATH cargo vendor-filterer \
      "${PLATFORMS[@]/#/--platform=}" --exclude-crate-path='audiopus_sys#opus' \
      --exclude-crate-path='libloading#tests' vendor ) \
    > "$B/vendor.log" 2>&1 || { tail -20 "$B/vendor.log" >&2; die "cargo vendor-filterer failed (log: $B/vendor.log)"; }
  cmp -s Cargo.lock "$v/vreqplay-$up/Cargo.lock" || die "vendoring changed Cargo.lock (is it up to date? cargo metadata --locked)"
  tar --create --owner=0 --group=0 --numeric-owner --sort=name -C "$v/vreqplay-$up" -f - vendor |
    xz -T2 -1 > "$vtar.tmp"
  mv "$vtar.tmp" "$vtar"; echo "$vkey" > "$vtar.key"; rm -rf "$v"
  echo "package-deb: $vtar ($(du -h "$vtar" | cut -f1); $(($(date +%s) - t0)) s so far)" >&2
fi
t1=$(date +%s)

# 3. the unpacked source: upstream + vendor/ + debian/ (packaging/debian with
#    its links resolved) + the generated debian/copyright
W=$B/$arch
rm -rf "$W/vreqplay-$up" "$W"/vreqplay_"$up".orig*.tar.*
cp -l "$orig" "$vtar" "$W/" 2>/dev/null || cp "$orig" "$vtar" "$W/"
tar -xJf "$orig" -C "$W"
tar -xJf "$vtar" -C "$W/vreqplay-$up"
cp -rL packaging/debian "$W/vreqplay-$up/debian"
python3 scripts/gen-copyright.py "$W/vreqplay-$up" "${PLATFORMS[@]/#/--platform=}" \
  -o "$W/vreqplay-$up/debian/copyright"

# 4. dpkg-buildpackage
export CARGO_TARGET_DIR=/src/$B/cargo-target
[ "${fresh:-0}" = 1 ] && rm -rf "$CARGO_TARGET_DIR"
opts="parallel=$(nproc)"
bp=(-us -uc)
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
  bp+=(--build=source,binary)
  [ "$nocheck" = 1 ] && opts="$opts nocheck"
else
  bp+=(--build=any -a "$arch" -Pcross)
  [ "$nocheck" = 1 ] && opts="$opts nocheck"
fi
echo "package-deb: dpkg-buildpackage ${bp[*]} (DEB_BUILD_OPTIONS=$opts)" >&2
( cd "$W/vreqplay-$up" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage "${bp[@]}" ) > "$W/build.log" 2>&1 ||
  { tail -40 "$W/build.log" >&2; die "dpkg-buildpackage failed (log: $W/build.log)"; }
t2=$(date +%s)
deb=vreqplay_${ver}_$arch.deb
[ -f "$W/$deb" ] || die "$W/$deb not built (log: $W/build.log)"
echo "$deb" > "$W/deb-name"
echo "package-deb: $W/$deb (sources $((t1 - t0)) s, build $((t2 - t1)) s)" >&2
