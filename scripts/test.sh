#!/bin/bash
# test.sh - the project's test command (README "Test"; .ci/run calls it).
#   0. rules:      the crate graph is the architecture
#                  (scripts/check-crate-graph.py), cargo deny check licenses
#                  bans sources (deny.toml)
#   1. host tier:  cargo test --workspace (parsers, demuxers, DPB, controls vs
#                  GStreamer goldens, device profiles through fakes, bad input)
#   1a. assets:    the man page and completions generated from the clap
#                  definition (xtask), the desktop entry, AppStream metainfo,
#                  MIME definitions, icons: validated (scripts/check-assets.sh)
#   1b. packages:  the .deb (amd64, arm64 cross) and the Arch package built
#                  by Debian trixie's rustc 1.85 (the workspace's
#                  rust-version) in a chroot (scripts/trixie-chroot.sh, root
#                  the first time, cached in /var/cache/vreq-trixie-build) and
#                  checked (scripts/check-packages.sh: lintian, dpkg -c,
#                  desktop-file-validate, appstreamcli, the arm64 binary under
#                  qemu, makepkg); the VM tier installs the amd64 .deb
#                  (tests/vm/deb-test.sh)
#   1c. arm64:     the host tier's tests cross-built for aarch64 and run under
#                  qemu-aarch64: the arm64 .deb's dh_auto_test (cargo test
#                  --release, sharing the package's build); with the packages
#                  off, scripts/cross-arm64.sh test (a debug build of its own)
#   2. VM tier:    the real kernel (visl in QEMU): discovery, oracle comparison
#                  against GStreamer, window screenshot. Needs root the first
#                  time (image build, cached in /var/cache/vreq-vm).
# Usage: scripts/test.sh [--host-only]
# The VM tier is skipped only with --host-only or VREQ_SKIP_VM=1, and says so.
# The packages and the arm64 tier run by default; VREQ_PACKAGES=0 and
# VREQ_ARM64=0 skip them, and it says so. Both, and the VM image build, start
# right after the host setup and run beside the host and VM tiers (below);
# the VM tier runs the release build (tests/vm/tier.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
t0=$(date +%s)
stamp() { echo "== [$(( $(date +%s) - t0 ))s] $*"; }

stamp "host setup"
scripts/setup-host.sh
mkdir -p target
: "${VREQ_ARM64:=1}" "${VREQ_PACKAGES:=1}"
export VREQ_ARM64 VREQ_PACKAGES   # check-packages.sh and tests/vm/tier.sh read them
# 1b and 1c run beside the host and VM tiers, in the background at the lowest
# CPU and I/O priority: they take what the host tier leaves, and the VM (QEMU
# TCG) keeps about one of the two cores busy (the H.264 oracle: 128 s of CPU
# in 124 s), so the builds get the other one. Their output goes to
# target/test-side.log, summed up when they end; the VM tier's deb-install
# check waits for their .deb (target/test-side.rc). Job control (set -m)
# gives the background jobs their own process groups, killed if this script
# exits early.
side() {
  local rc=0
  stamp "side: trixie chroot (cached)"
  scripts/trixie-chroot.sh setup || return 1
  if [ "$VREQ_PACKAGES" = 1 ]; then
    stamp "side: packages: .deb amd64 + arm64 (its tests: the arm64 tier), lintian, contents, validate, arm64 binary, makepkg"
    scripts/check-packages.sh || rc=1
  elif [ "$VREQ_ARM64" = 1 ]; then
    stamp "side: arm64 tier: cross build + host tier under qemu-aarch64"
    scripts/cross-arm64.sh test || rc=1
  fi
  stamp "side: done, status $rc"
  return $rc
}
side_pid=
rm -f target/test-side.rc target/test-side.log
[ "$VREQ_ARM64" = 1 ] || stamp "arm64 tier SKIPPED (VREQ_ARM64=$VREQ_ARM64)"
[ "$VREQ_PACKAGES" = 1 ] || stamp "packages SKIPPED (VREQ_PACKAGES=$VREQ_PACKAGES)"
if [ "$VREQ_ARM64" = 1 ] || [ "$VREQ_PACKAGES" = 1 ]; then
  stamp "arm64 tier / packages: started beside the host and VM tiers (nice 19, idle I/O; log target/test-side.log)"
  set -m
  ( renice -n 19 -p "$BASHPID" > /dev/null; ionice -c 3 -p "$BASHPID"
    rc=0; side > target/test-side.log 2>&1 || rc=$?; echo "$rc" > target/test-side.rc ) &
  side_pid=$!
  set +m
  export VREQ_SIDE_RC=$top/target/test-side.rc
fi
# the VM image (cached; built the first time: debootstrap, visl's modules) is
# made beside the host tier too; the VM tier waits for it
vm_build_pid=
rm -f target/vm-build.rc
if ! { [ "${1:-}" = --host-only ] || [ "${VREQ_SKIP_VM:-0}" = 1 ]; }; then
  stamp "VM tier: image build (cached) started beside the host tier (log target/vm-build.log)"
  set -m
  ( rc=0; tests/vm/vm.sh build > target/vm-build.log 2>&1 || rc=$?; echo "$rc" > target/vm-build.rc ) &
  vm_build_pid=$!
  set +m
fi
cleanup() { # an early exit leaves no build running
  local p
  for p in $side_pid $vm_build_pid; do kill -0 "$p" 2> /dev/null && kill -- "-$p" 2> /dev/null; done
  return 0
}
trap cleanup EXIT

stamp "rules: crate graph, cargo deny"
scripts/check-crate-graph.py
cargo deny --log-level error check licenses bans sources
stamp "cargo build"
cargo build --workspace --all-targets --locked
stamp "host tier: cargo test"
cargo test --workspace --locked 2>&1 | tee target/cargo-test.log | grep -E '^(test result|running|error|failures:|    [a-z_:]+$)|FAILED|panicked' || true
# the summary line CI reads
grep -q 'test result: FAILED' target/cargo-test.log && { stamp "cargo test FAILED"; exit 1; }
grep -q 'test result:' target/cargo-test.log || { stamp "cargo test did not run"; exit 1; }
awk '/^test result:/{p+=$4; f+=$6; i+=$8} END{printf "host-tier: %d passed, %d failed, %d ignored\n", p, f, i}' target/cargo-test.log

stamp "assets: man page, completions, desktop entry, AppStream, MIME, icons"
scripts/check-assets.sh

side_end() { # waits for the side job, prints its log's summary lines, fails with it
  [ -n "$side_pid" ] || return 0
  wait "$side_pid" || true
  stamp "arm64 tier / packages ended (target/test-side.log):"
  grep -E '^(== |arm64 host-tier|.*SKIPPED under qemu-user|packages: |lintian |check-packages:|amd64: |arm64: |vreqplay-.* files|--help|--list-devices)' \
    target/test-side.log | sed 's/^/  /'
  [ "$(cat target/test-side.rc 2> /dev/null)" = 0 ] ||
    { tail -40 target/test-side.log; stamp "arm64 tier / packages FAILED"; return 1; }
}

if [ "${1:-}" = --host-only ] || [ "${VREQ_SKIP_VM:-0}" = 1 ]; then
  stamp "VM tier SKIPPED (--host-only / VREQ_SKIP_VM=1)"
  side_end; exit
fi
stamp "VM tier: waiting for the image build"
wait "$vm_build_pid" || true
[ "$(cat target/vm-build.rc 2> /dev/null)" = 0 ] || { tail -30 target/vm-build.log; side_end; exit 1; }
stamp "VM tier: tests"
vm_rc=0; tests/vm/tier.sh || vm_rc=$?
side_rc=0; side_end || side_rc=1
[ "$vm_rc" = 0 ] && [ "$side_rc" = 0 ] ||
  { stamp "FAILED (VM tier status $vm_rc, arm64 tier / packages status $side_rc)"; exit 1; }
stamp "all passed"
