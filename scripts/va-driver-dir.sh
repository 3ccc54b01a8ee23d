#!/bin/bash
# va-driver-dir.sh - make a LIBVA_DRIVERS_PATH directory for the built VA driver.
# Cargo names the cdylib target/<profile>/libvreq_drv_video.so; libva loads
# "<LIBVA_DRIVER_NAME>_drv_video.so" (libva va.c va_openDriver), so this links
# target/<profile>/va/vreq_drv_video.so -> ../libvreq_drv_video.so (relative:
# it resolves in the VM's 9p share too) and prints the directory.
# Usage: scripts/va-driver-dir.sh [debug|release]   (default debug; build first:
#   cargo build [--release] -p vreq-va)
#   LIBVA_DRIVERS_PATH=$(scripts/va-driver-dir.sh) LIBVA_DRIVER_NAME=vreq vainfo --display drm
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-debug}
dir=$top/target/$profile
[ -f "$dir/libvreq_drv_video.so" ] || { echo "va-driver-dir: $dir/libvreq_drv_video.so not built (cargo build -p vreq-va)" >&2; exit 1; }
mkdir -p "$dir/va"
ln -sfn ../libvreq_drv_video.so "$dir/va/vreq_drv_video.so"
echo "$dir/va"
