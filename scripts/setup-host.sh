#!/bin/bash
# setup-host.sh - install what building and testing vreqplay needs on a
# Debian 12 host (idempotent; needs root for apt-get):
#   clang + libclang-dev   v4l2r's and vreq-va's bindgen (build)
#   libva-dev              libva's va/va_backend.h for the VA driver (crates/va)
#   libasound2-dev         ALSA, cpal's backend (crates/audio: sound output)
#   libopus-dev, pkg-config   libopus for Opus audio (the opus crate finds it by pkg-config)
#   libxkbcommon-dev       xkbcommon, the window's keymap (smithay-client-toolkit's
#                          `xkbcommon` feature; crates/present: keysyms)
#   xkb-data               the keyboard layouts (crates/present's AZERTY key test)
#   libfontconfig-dev      fontconfig, finding the OSD's font (crates/present)
#   fonts-dejavu-core      the OSD's font (DejaVu Sans; crates/present's OSD tests)
#   python3-numpy          the VM tier's audio checks (cross-correlation, beep onsets)
#   qemu-system-x86        the VM test tier (tests/vm/)
#   ffmpeg                 ffprobe frame counts in the oracle comparison
#   e2fsprogs, xz-utils, wget, perl   the VM image build
#   librsvg2-bin           rsvg-convert: the PNG icons (scripts/make-icons.sh)
#   desktop-file-utils, appstream, shared-mime-info, man-db, groff-base
#                          scripts/check-assets.sh: desktop-file-validate,
#                          appstreamcli, update-mime-database, man --warnings
#                          (also the xtask's man page test)
#   cargo-deny (crates.io, built once into ~/.cargo/bin)
#                          `cargo deny check licenses bans sources`
#   (cargo-fuzz: scripts/fuzz.sh installs it; CI does not fuzz, it replays
#   tests/data/fuzz-regressions in cargo test)
set -euo pipefail
CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
  echo "setup-host: installing cargo-deny $CARGO_DENY_VERSION (a few minutes, once)"
  cargo install -q cargo-deny --version "$CARGO_DENY_VERSION" --locked
fi
pkgs=(clang libclang-dev libva-dev libasound2-dev libopus-dev pkg-config libxkbcommon-dev xkb-data libfontconfig-dev fonts-dejavu-core python3-numpy qemu-system-x86 ffmpeg e2fsprogs xz-utils wget perl python3 ca-certificates librsvg2-bin desktop-file-utils appstream shared-mime-info man-db groff-base)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "setup-host: all present"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "setup-host: missing ${missing[*]}; run as root" >&2; exit 1; }
echo "setup-host: installing ${missing[*]}"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
