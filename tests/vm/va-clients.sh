#!/bin/bash
# va-clients.sh - VA-API clients other than ffmpeg decode through the VA driver
# (crates/va, vreq_drv_video.so) in the VM: visl decodes, vgem gives the DRM
# render node a VA display is opened on (the VM has no GPU).
#
# Usage: tests/vm/va-clients.sh gst [-S] CODEC CLIP
#        tests/vm/va-clients.sh mpv [-H HWDEC] [-O VO] [-w SECONDS] CLIP WxH
#        tests/vm/va-clients.sh firefox [-w SECONDS] CLIP WxH
#   CLIP          a host path
#
# gst CODEC CLIP (CODEC: h264 h265 vp8 vp9 mpeg2): GStreamer's va plugin (the
#   second VA client, independent of ffmpeg). Checks, in one boot:
#   - the plugin, scanned into a fresh registry (GST_REGISTRY: the va plugin
#     registers one element per codec the driver lists at scan time, so a stale
#     registry would hide or invent elements), has va<CODEC>dec "in vreq VA
#     driver"; GST_VA_ALL_DRIVERS=1 is needed because the va plugin accepts only
#     the vendor strings it knows (gstvadisplay.c _gst_va_display_filter_driver);
#   - filesrc ! parsebin ! va<CODEC>dec ! video/x-raw(memory:VAMemory) !
#     fakesink silent=false (-v): the caps filter keeps the frames on the VA
#     surfaces (with fakesink's ANY caps the decoder would negotiate system
#     memory and download every frame); each decoded buffer that reaches
#     fakesink is one "last-message = chain" line: their number must equal
#     ffprobe -count_frames of CLIP (computed here, on the host);
#     With -S the caps filter is video/x-raw,format=NV12 instead: every frame
#     is read back into system memory (vaDeriveImage or vaGetImage, the va
#     plugin's choice) before fakesink;
#   - visl's CAPTURE dequeues (ftrace v4l2_dqbuf) are at least that many: every
#     output frame went through the driver and visl (more when a codec decodes
#     frames it does not show, e.g. VP9 show_frame = 0).
# mpv CLIP WxH: mpv in weston (headless, GL renderer on llvmpipe, /dev/dri hidden
#   from weston: tests/vm/trixie/PRESENT.md) plays CLIP with the VA driver; one
#   of three screenshots (after SECONDS, default 25, then 10 s apart) must show
#   visl's frame at the clip's
#   displayed size WxH (tests/vm/check-visl-frame.py), mpv must say it uses
#   the VA hwdec (its "Using hardware decoding (HWDEC)" line), and visl must have
#   dequeued CAPTURE buffers. HWDEC default vaapi-copy, VO default gpu (see
#   docs/VA-DRIVER.md "Clients" for why, and what --hwdec=vaapi with
#   --vo=dmabuf-wayland needs).
# firefox [-w SECONDS] CLIP WxH: Firefox ESR (--kiosk) in weston opens
#   tests/vm/va-video.html?src=CLIP (muted looping autoplay, scaled to fit) with
#   VA-API decoding; its FFmpeg decoder must log "VA-API FFmpeg init
#   successful" (MOZ_LOG FFmpegVideo:5), visl must dequeue CAPTURE buffers and
#   one of three screenshots (after SECONDS, default 100, then 15 s apart) show
#   visl's frame at WxH's aspect. The VM has no GPU, so by default Firefox is talked into it
#   (docs/VA-DRIVER.md "Clients" has why each is needed): weston sees vgem
#   (VA_CLIENTS_SHOW_DRI=1), the glxtest probe alone runs Mesa's kms_swrast
#   (VA_CLIENTS_GLXTEST_MESA_DRIVER) so it reports vgem's render node, the GL
#   renderer name is spoofed (VA_CLIENTS_SPOOF: GfxInfo calls llvmpipe
#   unaccelerated), hardware WebRender runs on llvmpipe (VA_CLIENTS_PREFS:
#   "name=value;..." user prefs) and the RDD sandbox is off
#   (VA_CLIENTS_RDD_SANDBOX=0: sandboxed, the driver's vaInitialize fails).
#   Set a variable to "" (or SHOW_DRI / RDD_SANDBOX to the other value) to
#   drop that part; VA_CLIENTS_MESA_DRIVER (all of Firefox),
#   VA_CLIENTS_DRM_BIND=1 and VA_CLIENTS_SYSTEM_DRIVER=1 (the driver in
#   /usr/lib/x86_64-linux-gnu/dri, for the sandboxed RDD) are further experiments.
#
# Build the driver first (cargo build -p vreq-va; this script runs
# scripts/va-driver-dir.sh). Environment: VREQ_CACHE (the VM image), VREQ_VM_LOCK
# (a file to flock around each VM boot: one VM at a time on a shared host). Output and logs in OUTDIR
# (default /tmp/vreq-va-clients). Exit status: 0 all checks passed, 1 a check
# failed, 2 usage, else run.sh's status.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
out=${OUTDIR:-/tmp/vreq-va-clients}
lock=${VREQ_VM_LOCK:-}
usage() { sed -n '2,51p' "$0"; exit 2; }
vm() { if [ -n "$lock" ]; then flock "$lock" "$HERE/trixie/run.sh" "$@"; else "$HERE/trixie/run.sh" "$@"; fi; }

cd "$REPO" || exit 2
. "$HERE/profile.sh"
drvdir=$(scripts/va-driver-dir.sh "$VM_VA_PROFILE") || exit 2
# the guest sees the repository at /mnt/host
gdrv=/mnt/host/${drvdir#"$REPO"/}
mkdir -p "$out" target/vm-media

# frames CLIP: ffprobe's count of the first video stream's frames (its csv
# line may end in a comma: "249," for an MKV stream with side data)
frames() { ffprobe -v error -select_streams v:0 -count_frames \
  -show_entries stream=nb_read_frames -of csv=p=0 "$1" | sed -n '1{s/,.*//;p;}'; }

cmd_gst() {
  local caps="video/x-raw(memory:VAMemory)"
  [ "${1:-}" = -S ] && { caps="video/x-raw,format=NV12"; shift; }
  [ $# = 2 ] || usage
  local codec=$1 clip=$2 want el base
  case $codec in h264|h265|vp8|vp9|mpeg2) ;; *) usage ;; esac
  el=va${codec}dec base=$(basename "$clip")
  cp "$clip" target/vm-media/ || return 2
  want=$(frames "$clip") || return 2
  echo "va-clients gst: $el ! $caps on $base, ffprobe -count_frames: $want"
  vm -s "$REPO" -m "visl vgem" -t 600 -- bash -c '
    el=$1 clip=target/vm-media/$2 want=$3 caps=$5
    export LIBVA_DRIVERS_PATH=$4 LIBVA_DRIVER_NAME=vreq GST_VA_ALL_DRIVERS=1
    export GST_REGISTRY=/tmp/va-clients-registry.bin
    rm -f "$GST_REGISTRY"
    ln=$(gst-inspect-1.0 "$el" 2>&1 | grep "Long-name")
    echo "gst-inspect-1.0 $el: ${ln:-not registered}"
    case $ln in *"in vreq VA driver"*) ;; *) gst-inspect-1.0 va 2>&1 | tail -15; exit 1 ;; esac
    T=/sys/kernel/tracing
    echo 0 > $T/tracing_on; echo 0 > $T/events/enable; echo > $T/trace
    echo 1 > $T/events/v4l2/v4l2_dqbuf/enable; echo 1 > $T/tracing_on
    timeout 300 gst-launch-1.0 -v filesrc location="$clip" ! parsebin ! "$el" ! \
      "$caps" ! fakesink silent=false sync=false > /tmp/gst.log 2>&1
    rc=$?
    echo 0 > $T/tracing_on
    n=$(grep -c "fakesink0: last-message = chain" /tmp/gst.log)
    dq=$(grep -c "v4l2_dqbuf:.*type = VIDEO_CAPTURE" $T/trace)
    grep -E "ERROR|WARN|^Execution ended" /tmp/gst.log | head -12
    grep -m1 "fakesink0: last-message = chain" /tmp/gst.log | cut -c1-200
    echo "gst-launch rc $rc; buffers at fakesink $n (ffprobe $want); visl CAPTURE dequeues $dq"
    [ $rc = 0 ] && [ "$n" = "$want" ] && [ "$dq" -ge "$n" ]' \
    va-gst "$el" "$base" "$want" "$gdrv" "$caps"
}

# weston_guest: the guest script's start: weston headless GL on llvmpipe in a
# 1024x768 output, /dev/dri hidden from weston (HIDE_DRI=1; VA_CLIENTS_SHOW_DRI=1
# leaves it visible: Mesa then uses kms_swrast on vgem), the VA driver's
# environment, visl's CAPTURE dequeues traced (function dequeues)
weston_guest() {
  echo '#!/bin/bash'
  printf 'SHOW_DRI=%q\n' "${VA_CLIENTS_SHOW_DRI:-0}"
  cat <<'EOF'
set -u; cd /mnt/host; OUT=/mnt/host; source present/lib.sh
export VREQ_OUT_W=1024 VREQ_OUT_H=768
mkdir -p /tmp/va && cp va/vreq_drv_video.so /tmp/va/
export LIBVA_DRIVERS_PATH=/tmp/va LIBVA_DRIVER_NAME=vreq
if [ "$SHOW_DRI" = 1 ]; then comp_start weston headless gl /mnt/host/weston.log || exit 3
else HIDE_DRI=1 comp_start weston headless gl /mnt/host/weston.log || exit 3; fi
T=/sys/kernel/tracing
echo 0 > $T/tracing_on; echo 0 > $T/events/enable; echo > $T/trace
echo 1 > $T/events/v4l2/v4l2_dqbuf/enable; echo 1 > $T/tracing_on
dequeues() { grep -c "v4l2_dqbuf:.*type = VIDEO_CAPTURE" $T/trace; }
EOF
}

# prepare_out FILE...: OUTDIR (shared as /mnt/host) with the driver, lib.sh, weston.ini, FILEs
prepare_out() {
  rm -rf "$out"; mkdir -p "$out/va" "$out/present"
  # a copy (the symlink would not resolve in the guest) without debug info: the
  # guest loads it from tmpfs, fast enough for Firefox's vaapitest (2 s timeout)
  strip --strip-debug -o "$out/va/vreq_drv_video.so" "$drvdir/vreq_drv_video.so" || return 2
  cp "$HERE/trixie/present/lib.sh" "$HERE/trixie/present/weston.ini" "$out/present/"
  local f; for f in "$@"; do cp "$f" "$out/" || return 2; done
}

ck() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# visl_checks NAME OUT WxH: visl dequeued CAPTURE buffers (OUT/NAME.dequeues)
# and one of the screenshots OUT/NAME-{1,2,3}.png shows visl's frame at WxH
visl_checks() {
  local name=$1 out=$2 size=$3 i shots=0
  ck "visl dequeued CAPTURE buffers" "[ \"\$(sed -n 's/.*dequeues: //p' '$out/$name.dequeues')\" -gt 0 ]"
  for i in 1 2 3; do
    python3 "$HERE/check-visl-frame.py" "$out/$name-$i.png" "${size%x*}" "${size#*x}" > "$out/$name-$i.check.txt"
    [ $? = 0 ] && shots=$((shots+1))
    echo "     $name-$i.png: $(grep -hE '^ *(output|FAIL)' "$out/$name-$i.check.txt" | head -1)"
  done
  ck "a screenshot shows visl's frame at ${size} ($shots of 3)" '[ $shots -gt 0 ]'
}

cmd_mpv() {
  local hwdec=vaapi-copy vo=gpu wait_s=25 opt OPTIND=1
  while getopts ":H:O:w:" opt; do
    case $opt in H) hwdec=$OPTARG ;; O) vo=$OPTARG ;; w) wait_s=$OPTARG ;; *) usage ;; esac
  done
  shift $((OPTIND-1)); [ $# = 2 ] || usage
  local clip=$1 size=$2 base; fail=0
  base=$(basename "$clip")
  prepare_out "$clip" || return 2
  { weston_guest
    printf 'WAIT=%q HWDEC=%q VO=%q CLIP=%q\n' "$wait_s" "$hwdec" "$vo" "$base"
    cat <<'EOF'
echo "== mpv --hwdec=$HWDEC --vo=$VO $CLIP"
# --vo=gpu: llvmpipe only with --gpu-sw (mpv's auto probe refuses a software renderer)
gpu=(); [ "$VO" = gpu ] && gpu=(--gpu-context=wayland --gpu-sw=yes)
mpv --no-config -v --hwdec="$HWDEC" --vo="$VO" "${gpu[@]}" --vaapi-device=/dev/dri/renderD128 \
  --profile=fast --no-audio --no-osc --osd-level=0 --keep-open=yes --loop-file=inf "$CLIP" > mpv.log 2>&1 &
pid=$!
sleep "$WAIT"
if kill -0 $pid 2>/dev/null; then
  echo "  running after ${WAIT}s; weston holds dmabufs: [$(comp_dmabufs)]" | tee mpv.dmabufs
  # up to three shots 10 s apart: under TCG, llvmpipe renders mpv's frames slowly
  # and a shot now and then comes back black (also seen with vreqplay's window)
  for i in 1 2 3; do shot mpv-$i; sleep 10; done
  kill -TERM $pid; wait $pid; echo "  mpv stopped with SIGTERM: rc $?"
else
  wait $pid; echo "  mpv exited before the screenshot: rc $?"; shot mpv-after-exit
fi
echo 0 > $T/tracing_on
echo "visl CAPTURE dequeues: $(dequeues)" | tee mpv.dequeues
comp_stop
EOF
  } > "$out/guest.sh"
  vm -T -M 3072 -t 600 -s "$out" -m "visl vgem" -- bash guest.sh || return $?
  echo "-- mpv said (VA / hwdec / errors):"
  grep -aiE 'vaapi|hwdec|hardware|libva|\[vo|error|fail' "$out/mpv.log" | grep -av 'Setting option' |
    head -40 | sed 's/^/   | /'
  ck "mpv uses the VA hwdec ($hwdec)" "grep -aq 'Using hardware decoding ($hwdec)' '$out/mpv.log'"
  visl_checks mpv "$out" "$size"
  echo "va-clients mpv: results in $out"
  return $fail
}

cmd_firefox() {
  local wait_s=100 opt OPTIND=1
  while getopts ":w:" opt; do
    case $opt in w) wait_s=$OPTARG ;; *) usage ;; esac
  done
  shift $((OPTIND-1)); [ $# = 2 ] || usage
  local clip=$1 size=$2; fail=0
  # the defaults that make Firefox use VA-API in this VM (see the header)
  : "${VA_CLIENTS_SHOW_DRI=1}" "${VA_CLIENTS_GLXTEST_MESA_DRIVER=kms_swrast}"
  : "${VA_CLIENTS_SPOOF=vreq-spoofed}" "${VA_CLIENTS_RDD_SANDBOX=0}"
  : "${VA_CLIENTS_PREFS=gfx.webrender.all=true;gfx.webrender.software=false;gfx.webrender.reject-software-driver=false}"
  prepare_out "$HERE/va-video.html" "$clip" || return 2
  { weston_guest
    printf 'WAIT=%q PAGE=%q\n' "$wait_s" "va-video.html?src=$(basename "$clip")"
    printf 'SPOOF=%q RDD_SANDBOX=%q MESA_DRIVER=%q EXTRA_PREFS=%q\n' "${VA_CLIENTS_SPOOF:-}" \
      "${VA_CLIENTS_RDD_SANDBOX:-1}" "${VA_CLIENTS_MESA_DRIVER:-}" "${VA_CLIENTS_PREFS:-}"
    printf 'DRM_BIND=%q GLXTEST_MESA_DRIVER=%q\n' "${VA_CLIENTS_DRM_BIND:-0}" "${VA_CLIENTS_GLXTEST_MESA_DRIVER:-}"
    printf 'SYSTEM_DRIVER=%q\n' "${VA_CLIENTS_SYSTEM_DRIVER:-0}"
    cat <<'EOF'
P=/tmp/ffprofile; rm -rf $P; mkdir -p $P
cat > $P/user.js <<'PREFS'
user_pref("media.ffmpeg.vaapi.enabled", true);
user_pref("media.hardware-video-decoding.enabled", true);
user_pref("media.hardware-video-decoding.force-enabled", true);
user_pref("widget.dmabuf.force-enabled", true);
user_pref("media.autoplay.default", 0);
user_pref("media.autoplay.blocking_policy", 0);
user_pref("devtools.console.stdout.content", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("app.normandy.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("gfx.logging.level", 5);
user_pref("media.suspend-background-video.enabled", false);
PREFS
# EXTRA_PREFS: more user_pref lines (VA_CLIENTS_PREFS, ";"-separated name=value)
IFS=';' read -ra extra <<< "$EXTRA_PREFS"
for kv in "${extra[@]}"; do [ -n "$kv" ] && echo "user_pref(\"${kv%%=*}\", ${kv#*=});" >> $P/user.js; done
# MOZ_DRM_DEVICE: the render node of Firefox's DMABufDevice, on which its RDD process
# opens the VA display (widget/gtk/DMABufDevice.cpp, VALibWrapper.cpp); without it,
# the node glxtest found (none on llvmpipe)
env=(MOZ_LOG="PlatformDecoderModule:5,FFmpegVideo:5,Dmabuf:4" MOZ_GFX_DEBUG=1 MOZ_ENABLE_WAYLAND=1
     MOZ_DRM_DEVICE=/dev/dri/renderD128)
# SYSTEM_DRIVER=1: the driver in Debian's libva directory (the sandboxed RDD process
# may load libraries from there, not from /tmp), LIBVA_DRIVERS_PATH unset
if [ "$SYSTEM_DRIVER" = 1 ]; then
  cp /tmp/va/vreq_drv_video.so /usr/lib/x86_64-linux-gnu/dri/ && unset LIBVA_DRIVERS_PATH
fi
# with the RDD sandbox on, MOZ_SANDBOX_LOGGING=1 logs what it denies
if [ "$RDD_SANDBOX" = 0 ]; then env+=(MOZ_DISABLE_RDD_SANDBOX=1); else env+=(MOZ_SANDBOX_LOGGING=1); fi
# SPOOF: a GL renderer string for gfxInfo (MOZ_GFX_SPOOF_GL_RENDERER): Firefox calls
# llvmpipe "not accelerated" and then never probes VA-API (widget/gtk/GfxInfo.cpp)
[ -n "$SPOOF" ] && env+=(MOZ_GFX_SPOOF_GL_RENDERER="$SPOOF")
# MESA_DRIVER: Mesa's driver for Firefox's EGL (MESA_LOADER_DRIVER_OVERRIDE, e.g. kms_swrast
# on vgem: an EGL device with a DRM node, which glxtest reports as DRM_RENDERDEVICE)
[ -n "$MESA_DRIVER" ] && env+=(MESA_LOADER_DRIVER_OVERRIDE="$MESA_DRIVER")
echo "== $(firefox-esr --version 2>/dev/null) ${env[*]} file:///mnt/host/$PAGE"
# GLXTEST_MESA_DRIVER: Mesa's driver for Firefox's glxtest probe only (the probe
# binary replaced by a wrapper that sets MESA_LOADER_DRIVER_OVERRIDE; the guest's
# root file system is a throw-away snapshot): glxtest then reports the DRM device
# while Firefox itself renders with whatever Mesa picks (llvmpipe)
if [ -n "$GLXTEST_MESA_DRIVER" ]; then
  g=/usr/lib/firefox-esr/glxtest
  mv $g $g.real && printf '#!/bin/sh\nMESA_LOADER_DRIVER_OVERRIDE=%s exec %s.real "$@"\n' \
    "$GLXTEST_MESA_DRIVER" $g > $g && chmod 755 $g
fi
# DRM_BIND=1: Firefox in a mount namespace where /dev/dri/renderD128 is vgem's primary
# node (card0): kms_swrast can make dumb buffers there (a render node refuses
# DRM_IOCTL_MODE_CREATE_DUMB), the VA driver does not mind which node it gets
wrap=(); [ "$DRM_BIND" = 1 ] && wrap=(unshare -m --propagation private sh -c \
  'mount --bind /dev/dri/card0 /dev/dri/renderD128 && exec "$@"' sh)
"${wrap[@]}" env "${env[@]}" firefox-esr --kiosk --no-remote --new-instance --profile $P "file:///mnt/host/$PAGE" > firefox.log 2>&1 &
pid=$!
sleep "$WAIT"
if kill -0 $pid 2>/dev/null; then
  echo "  running after ${WAIT}s; weston holds dmabufs: [$(comp_dmabufs)]"
  for i in 1 2 3; do shot firefox-$i; sleep 15; done   # TCG: the page presents late
  kill_tree $pid; wait $pid 2>/dev/null
else
  wait $pid; echo "  firefox exited before the screenshot: rc $?"
fi
echo 0 > $T/tracing_on
echo "visl CAPTURE dequeues: $(dequeues)" | tee firefox.dequeues
comp_stop
EOF
  } > "$out/guest.sh"
  vm -T -M 3072 -t 900 -s "$out" -m "visl vgem" -- bash guest.sh || return $?
  echo "-- Firefox said (gfx probes, PDM, FFmpeg, VA-API):"
  grep -aE 'vaapi|VA-API|VAAPI|glxtest|GLX_TEST|DRM|FFMPEG|FFmpeg|PlatformDecoderModule|hardware|vreq|libva|console' \
    "$out/firefox.log" | cut -c1-300 | awk '!seen[$0]++' | head -80 | sed 's/^/   | /'
  cat "$out/firefox.dequeues"
  ck "Firefox initialised its VA-API decoder" "grep -aq 'VA-API FFmpeg init successful' '$out/firefox.log'"
  visl_checks firefox "$out" "$size"
  echo "va-clients firefox: results in $out"
  return $fail
}

cmd=${1:-}; shift || true
case $cmd in
  gst) cmd_gst "$@" ;;
  mpv) cmd_mpv "$@" ;;
  firefox) cmd_firefox "$@" ;;
  *) usage ;;
esac
