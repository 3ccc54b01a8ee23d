#!/bin/bash
# vm.sh - the project's VM test tier: build (cached, idempotent) and run the
# QEMU + visl machine, with this repository shared into the guest.
#
# Usage: tests/vm/vm.sh [-V trixie|sid] build
#        tests/vm/vm.sh [-V trixie|sid] run [run.sh options] [--] CMD [ARGS...]
#        tests/vm/vm.sh [-V trixie|sid] shell
#   -V VARIANT  trixie (default; kernel 6.12, GStreamer 1.26, weston 14) or
#               sid (kernel 7.2, GStreamer 1.28, weston 16, NV12 vkms planes).
#               Also $VREQ_VM_VARIANT.
# `run` shares the repository root at /mnt/host (the command's cwd), so
# `tests/vm/vm.sh run -- ./target/debug/vreqplay --list-devices` works. Files
# from outside the repository (the shared media) must be copied in first, e.g.
# to target/vm-media/ (symlinks to host paths do not resolve in the guest).
# Caches: /var/cache/vreq-vm (trixie), /var/cache/vreq-vm-sid (sid); override
# with VREQ_CACHE. build needs root; run does not. Exit status: the command's
# (124 timeout, 125 the VM never reported). run.sh boots again when the guest
# panics before the command starts (about one boot in 16 under TCG).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
variant=${VREQ_VM_VARIANT:-trixie}
if [ "${1:-}" = -V ]; then variant=$2; shift 2; fi
case $variant in trixie|sid) ;; *) echo "vm.sh: unknown variant $variant" >&2; exit 2 ;; esac
vdir=$here/$variant
cmd=${1:-}; shift || true
case $cmd in
  build) exec "$vdir/build.sh" "$@" ;;
  run)
    case $top in *,*) echo "vm.sh: repo path $top contains a comma (9p can't share it)" >&2; exit 2 ;; esac
    # run.sh options up to "--" (or the first non-option) stay run.sh's
    opts=()
    while [ $# -gt 0 ]; do
      case $1 in
        --) shift; break ;;
        -[smoMptl]) opts+=("$1" "$2"); shift 2 ;;
        -[vTI]) opts+=("$1"); shift ;;
        *) break ;;
      esac
    done
    exec "$vdir/run.sh" -s "$top" "${opts[@]+"${opts[@]}"}" -- "$@" ;;
  shell) exec "$vdir/run.sh" -s "$top" -I "$@" ;;
  *) sed -n '2,17p' "$0"; exit 2 ;;
esac
