#!/bin/bash
# trixie-chroot.sh - a Debian trixie build chroot (Rust 1.85, the cross
# toolchains, arm64/armhf as foreign architectures) for the arm64 cross build
# and tests (scripts/cross-arm64.sh) and the packages (packaging/).
#
# Usage: scripts/trixie-chroot.sh setup
#          idempotent: debootstraps trixie (first time), adds the foreign
#          architectures, installs scripts/trixie-chroot.packages (again when
#          that list changes), registers qemu-aarch64 / qemu-arm with binfmt_misc
#          (F flag: the interpreter is opened now, so arm binaries run inside
#          chroots and when a test execs another one).
#        scripts/trixie-chroot.sh run [--] CMD...
#          CMD as root in the chroot, cwd /src = this repository (bind-mounted,
#          from a git worktree too), /proc /sys /dev /tmp mounted in a private
#          mount namespace (gone with CMD), the host's network, resolv.conf and
#          CA bundle (/etc/ssl/certs/ca-certificates.crt, read-only),
#          CARGO_HOME=/var/cache/cargo-home (persistent: $cache/cargo-home),
#          CARGO_TARGET_DIR=/src/target/trixie unless set; the test media
#          (shared/media above the repository, or $VREQ_MEDIA) read-only at
#          /shared/media, where the tests find it from /src. Passed through from
#          the caller: CARGO_*, RUST_*, VREQ_*, TERM; others with `run env X=Y CMD`.
#        scripts/trixie-chroot.sh path
#          prints the chroot's root directory.
#        scripts/trixie-chroot.sh media
#          prints the host directory `run` mounts at /shared/media (empty
#          when there is none).
# Environment: VREQ_CHROOT_CACHE (default /var/cache/vreq-trixie-build: root/
#   the chroot, cargo-home/, apt/ + tools/ for debootstrap, stamps/);
#   VREQ_MIRROR (default http://deb.debian.org/debian).
# Needs root, apt-get, dpkg-deb, unshare, flock, perl (debootstrap), git;
# a kernel with binfmt_misc (for `setup`'s registration).
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
CACHE=${VREQ_CHROOT_CACHE:-/var/cache/vreq-trixie-build}
MIRROR=${VREQ_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
R=$CACHE/root
PKGS_FILE=$top/scripts/trixie-chroot.packages
FOREIGN_ARCHES=(arm64 armhf)

die() { echo "trixie-chroot: $*" >&2; exit 1; }
log() { echo "trixie-chroot: $*" >&2; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mounts)"

APT_DIR=$CACHE/apt
A=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache"
   -o APT::Sandbox::User=root -o Debug::NoLocking=1)

# the chroot's mounts live in a private mount namespace: nothing leaks onto the host
media_dir() { # the test media as vreq_testkit::media_dir finds it (empty if none)
  if [ -n "${VREQ_MEDIA:-}" ]; then echo "$VREQ_MEDIA"; return; fi
  local d=$top
  while :; do
    [ -f "$d/shared/media/MANIFEST.tsv" ] && { echo "$d/shared/media"; return; }
    [ "$d" = / ] && return
    d=$(dirname "$d")
  done
}

in_chroot() { # in_chroot CMD... (env already prepared by the caller)
  local gitdir
  gitdir=$(git -C "$top" rev-parse --path-format=absolute --git-common-dir)
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  unshare -m --propagation private bash -euc '
    R=$1 top=$2 gitdir=$3 cargo=$4 media=$5; shift 5
    mount -t proc proc "$R/proc"
    mount -t sysfs sysfs "$R/sys"
    mount --rbind /dev "$R/dev"
    mount --bind /tmp "$R/tmp"
    mkdir -p "$R/src" "$R/var/cache/cargo-home"
    mount --bind "$top" "$R/src"
    mount --bind "$cargo" "$R/var/cache/cargo-home"
    # a git worktree names its repository by absolute path: the same path inside
    case $gitdir in "$top"/*) ;; *) mkdir -p "$R$gitdir"; mount --bind "$gitdir" "$R$gitdir" ;; esac
    # the test media (read-only) where vreq_testkit::media_dir looks from /src
    if [ -n "$media" ]; then mkdir -p "$R/shared/media"; mount --bind -o ro "$media" "$R/shared/media"; fi
    cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
    # https trusts what the host trusts (e.g. a proxy CA added to the host bundle)
    c=/etc/ssl/certs/ca-certificates.crt
    if [ -f "$c" ] && [ -f "$R$c" ]; then mount --bind -o ro "$c" "$R$c"; fi
    exec chroot "$R" "$@"' bash "$R" "$top" "$gitdir" "$CACHE/cargo-home" "$(media_dir)" "$@"
}

pkgs_list() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^[[:space:]]*$/d' "$PKGS_FILE"; }

bootstrap() { # debootstrap (unpacked from trixie's .deb, not installed on the host)
  [ -f "$CACHE/stamps/bootstrap" ] && return 0
  log "debootstrap $SUITE into $R (once)"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$CACHE/tools" "$CACHE/dbcache"
  echo "deb $MIRROR $SUITE main" > "$APT_DIR/sources.list"
  apt-get "${A[@]}" -q update >/dev/null
  rm -rf "$CACHE/tools/debootstrap" "$CACHE"/tools/debootstrap_*.deb
  (cd "$CACHE/tools" && apt-get "${A[@]}" -q download debootstrap >/dev/null)
  dpkg-deb -x "$CACHE"/tools/debootstrap_*.deb "$CACHE/tools/debootstrap"
  if [ -e "$R" ]; then
    awk -v d="$R" '$2 ~ "^"d"(/|$)" {f=1} END{exit !f}' /proc/self/mounts &&
      die "something is still mounted below $R; unmount it first"
    rm -rf "$R"
  fi
  DEBOOTSTRAP_DIR=$CACHE/tools/debootstrap/usr/share/debootstrap \
    unshare -m --propagation private "$CACHE/tools/debootstrap/usr/sbin/debootstrap" \
      --variant=minbase --cache-dir="$CACHE/dbcache" "$SUITE" "$R" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  # no daemons start in the chroot; no docs (smaller, faster installs)
  printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
  mkdir -p "$R/etc/dpkg/dpkg.cfg.d"
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
    'path-exclude=/usr/share/info/*' > "$R/etc/dpkg/dpkg.cfg.d/vreq-nodoc"
  mkdir -p "$CACHE/stamps"; date -u +%FT%TZ > "$CACHE/stamps/bootstrap"
  rm -f "$CACHE/stamps/packages"
}

packages() { # foreign architectures + the list; apt runs only when either changed
  local key a
  key=$( { printf '%s\n' "${FOREIGN_ARCHES[@]}"; pkgs_list; } | sha256sum | cut -c1-16)
  [ "$(cat "$CACHE/stamps/packages" 2>/dev/null)" = "$key" ] && return 0
  log "installing scripts/trixie-chroot.packages (list changed or first time)"
  for a in "${FOREIGN_ARCHES[@]}"; do in_chroot dpkg --add-architecture "$a"; done
  mapfile -t want < <(pkgs_list)
  in_chroot env DEBIAN_FRONTEND=noninteractive apt-get -q update >/dev/null
  in_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" \
    >"$CACHE/apt-install.log" 2>&1 ||
    { tail -30 "$CACHE/apt-install.log" >&2; die "apt-get install failed (log: $CACHE/apt-install.log)"; }
  in_chroot apt-get clean
  echo "$key" > "$CACHE/stamps/packages"
}

binfmt_register() { # binfmt_register NAME INTERPRETER MAGIC MASK
  local name=$1 interp=$2 magic=$3 mask=$4 B=/proc/sys/fs/binfmt_misc id
  [ -x "$interp" ] || die "$interp missing (qemu-user in scripts/trixie-chroot.packages)"
  [ -w "$B/register" ] || mount -t binfmt_misc binfmt_misc "$B" ||
    die "cannot mount binfmt_misc on $B"
  id=$(stat -L -c %d:%i:%Y "$interp")
  if [ -e "$B/$name" ]; then
    grep -qx "interpreter $interp" "$B/$name" && grep -q '^flags:.*F' "$B/$name" &&
      [ "$(cat "$CACHE/stamps/binfmt-$name" 2>/dev/null)" = "$id" ] && return 0
    echo -1 > "$B/$name"   # ours, stale (qemu reinstalled): register it again
  fi
  printf ':%s:M::%s:%s:%s:F' "$name" "$magic" "$mask" "$interp" > "$B/register"
  echo "$id" > "$CACHE/stamps/binfmt-$name"
  log "binfmt_misc: $name -> $interp (F)"
}

binfmt() { # magic/mask: qemu's scripts/qemu-binfmt-conf.sh (ELF e_machine 0xb7 / 0x28)
  binfmt_register vreq-qemu-aarch64 "$R/usr/bin/qemu-aarch64" \
    '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00' \
    '\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
  binfmt_register vreq-qemu-arm "$R/usr/bin/qemu-arm" \
    '\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00' \
    '\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
}

run() {
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "run: no command"
  [ -f "$CACHE/stamps/packages" ] || die "no chroot at $R: run scripts/trixie-chroot.sh setup first"
  mkdir -p "$CACHE/cargo-home"
  local e=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
           LANG=C.UTF-8 CARGO_HOME=/var/cache/cargo-home CARGO_TARGET_DIR=/src/target/trixie)
  local v
  while IFS= read -r v; do
    case $v in VREQ_CHROOT_CACHE|VREQ_MEDIA|CARGO_HOME) continue ;; esac
    e+=("$v=${!v}")
  done < <(compgen -e | grep -E '^(CARGO_|RUST_|RUSTFLAGS$|VREQ_|TERM$)' || true)
  in_chroot "${e[@]}" sh -c 'cd /src && exec "$@"' sh "$@"
}

case "${1:-}" in
  setup)
    mkdir -p "$CACHE/stamps" "$CACHE/cargo-home"
    exec 9>"$CACHE/.setup.lock"; flock 9
    bootstrap; packages; binfmt
    log "ready: $R ($(in_chroot rustc --version))" ;;
  run) shift; run "$@" ;;
  path) echo "$R" ;;
  media) media_dir ;;
  *) die "usage: $0 setup | run [--] CMD... | path | media" ;;
esac
