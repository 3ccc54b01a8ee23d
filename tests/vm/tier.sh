#!/bin/bash
# tier.sh - the VM test tier (run by scripts/test.sh after the image is built).
# Each check prints one line, "vm: NAME ok (N s)" or "vm: NAME FAILED after
# N s ..." (wall time, VM boot included), and the tier ends with
# "vm-tier: N passed, N failed".
# The window checks (3.) run tests/vm/window-test.sh: weston 14 headless in a
# 1024x768 output, vreqplay's window, a screenshot checked by
# tests/vm/check-visl-frame.py (the picture found between the borders: visl's
# colour bars at the clip's displayed aspect; -F: scaled to fit, centred),
# weston's dma-buf fds (zero-copy: it holds visl's videobuf2 buffers), and with
# -E the exit line of a run to the end ("window: ... (zero-copy N, copied N)"):
#   window-mp4/-mkv/-hevc-mkv/-vp9-webm  H.264 (MP4, MKV), HEVC, VP9 zero-copy
#   window-vp8-webm, window-mpeg2        VP8, MPEG-2 zero-copy + exit line
#   window-pixman       weston pixman (no linux-dmabuf): wl_shm copies, no visl
#                       dmabufs in weston, exit line zero-copy 0, copied > 0
#   window-aspect-hevc  1440x1080 SAR 4:3 -> 1024x576 centred, zero-copy
#   window-crop-1088    H.264 coded 1920x1088 -> 1024x576 (the crop), zero-copy
#   pacing-hevc         250 frames at 25 fps: presented + dropped = 250 = frame
#                       lines, none presented before due (tests/vm/check-pacing.py)
#   session-seek        tests/vm/session-test.sh: keys through the window's test
#                       hook (VREQ_TEST_KEYS FIFO) into vreqplay --pause on a 30 s
#                       HEVC clip with a CRA every 40 frames and chapters
#                       (tests/vm/make-seek-clip.sh): frame step and back-step
#                       (precise: onto a non-keyframe), Left/Right/Up/Down
#                       keyframe seeks (Up past the end: the last keyframe),
#                       Page_Up/Page_Down chapters (mpv's 5 s threshold), o; each settled
#                       screenshot's frame read from visl's stamp (the POC, digit
#                       templates learned from a visl Y4M of the clip:
#                       tests/vm/check-visl-stamp.py) equals the one mpv's rules give
#                       from the clip's ffprobe keyframes (tests/vm/check-seek-session.py);
#                       the o shot shows the OSD over the same frame (>= 200
#                       pixels differ); q exits 0. One boot, about 100 s under TCG.
#   va-vainfo           the VA driver: vainfo (libva 2.22, vgem render node)
#                       lists visl's profiles with VAEntrypointVLD
#   va-oracle-h264/-hevc/-vp9/-vp8/-mpeg2  the oracle through VA: ffmpeg's visl
#                       traces vs the goldens (known differences: field level)
#                       (tests/oracle/run.sh -A), every clip the oracle compares
#   va-ffmpeg-download  ffmpeg reads the pictures back through it (vaCreateImage +
#                       vaGetImage, and vaExportSurfaceHandle's dmabufs): 166 raw
#                       NV12 frames showing visl's colour bars, each way
#   va-dma-heap         its placeholder export of an undecoded surface allocates
#   va-ffmpeg-h264      ffmpeg -hwaccel vaapi decodes gizmo.mp4's 166 frames through it
#   va-gst-h264(-sysmem), -h265, -vp9, -vp8, -mpeg2  GStreamer's va<codec>dec
#                       decode a clip each too (tests/vm/va-clients.sh),
#                       into VA surfaces / read back into system memory
#   va-mpv-h264(-vaapi) mpv --hwdec=vaapi-copy / --hwdec=vaapi (zero-copy) in weston:
#                       screenshot shows visl's frame
#   va-firefox-h264/-vp9  Firefox ESR plays an MP4 and a WebM page through it
# Each takes one VM boot (~12 s) plus weston (~5 s) plus the clip (5-10 s, twice
# with -E) and the screenshot: about 40-60 s on an idle 2-core host.
# The sound checks (5., tests/vm/audio-test.sh; snd-aloop loaded for their boots
# only, every other check runs with no sound card): the player plays into
# hw:Loopback,0,0 while tests/vm/audio-record.py captures hw:Loopback,1,0 (opened
# first at 48000 Hz stereo S16_LE, with ALSA's CLOCK_MONOTONIC htstamps); the
# host compares the capture with ffmpeg's decode (-ac 2 -ar 48000) of the track:
#   audio-loop-30s  a 30 s H.264 + AAC clip (tests/audio/make-loop-clip.sh) with
#                   --vo=null: cross-correlation peak >= 0.95, lag spread over
#                   1-s windows <= 1 ms, exit line "underruns 0"
#                   (tests/vm/check-audio-xcorr.py). ~45 s.
#   audio-corpus    every audio track of the corpus (--aid N), at most 3 s of
#                   sound each: peak >= 0.95 (0.90 under 2 s), or the one-line
#                   "audio: <codec> not supported" and silence; table
#                   file/aid/codec/peak/lag/spread/played; and --volume=50
#                   on a stereo MP2 track captures at -18.06 dB (+-0.5)
#                   against ffmpeg's decode. ~2 min (26 tracks + 1).
#   lipsync         a white frame + 1 kHz beep every second
#                   (tests/audio/make-lipsync-clip.sh) in weston (pixman): beep
#                   onsets (capture) vs presented_ns of the frames at whole
#                   seconds (pacing log), A-V per flash; asserts the player's
#                   audio clock (A-due), the goal only off TCG
#                   (tests/vm/check-lipsync.py). ~35 s.
#   All three use the release build (tests/vm/audio-test.sh builds it: the
#   debug build's decode cannot keep up in real time under TCG).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd); cd "$top"
pass=0 fail=0
# Guest kernel crashes: tests/vm/<variant>/run.sh appends the crash lines of
# every VM run's console to VREQ_VM_CRASH_LOG. Under QEMU's multi-threaded
# TCG the guest kernel now and then executes an int3 that its own text
# patching (static keys: tracepoints switched on and off, as the oracle does
# per clip) has already taken out again: "Oops: int3", often followed by
# "Kernel panic ... Fatal exception". Seen with the host loaded in a
# benchmark boot (in ttwu_do_activate); suspected in CI's va-oracle-h264 of
# stop 27 (the guest shell died, one clip had no result; no console was
# kept, hence the log below). That is the emulator's fault,
# not the code's under test: a check that failed with such a crash in its VM
# runs is run once more, and the line says so. Any other guest crash is
# printed with the failure and not retried.
export VREQ_VM_CRASH_LOG=$top/target/vm-guest-crashes.log
mkdir -p target; : > "$VREQ_VM_CRASH_LOG"
check() { # check NAME CMD... : runs CMD, counts the result
  local name=$1; shift
  local log=/tmp/vreq-vm-$name.log t0=$SECONDS try rc crash0 crashes= again=
  for try in 1 2; do
    crash0=$(wc -c < "$VREQ_VM_CRASH_LOG")
    "$@" > "$log" 2>&1; rc=$?
    [ $rc = 0 ] && break
    crashes=$(tail -c +"$((crash0 + 1))" "$VREQ_VM_CRASH_LOG")
    { [ $try = 1 ] && grep -q 'Oops: int3' <<< "$crashes"; } || break
    echo "vm: $name failed after $((SECONDS - t0)) s with the guest kernel's stale int3 (QEMU MTTCG: see check() in tests/vm/tier.sh); running it once more (first log: $log.try1)"
    mv "$log" "$log.try1"; again=", second try"
  done
  if [ $rc = 0 ]; then pass=$((pass+1)); echo "vm: $name ok ($((SECONDS - t0)) s$again)"
  else
    fail=$((fail+1)); echo "vm: $name FAILED after $((SECONDS - t0)) s$again (log $log):"
    [ -n "$crashes" ] && { echo "    the guest kernel crashed ($VREQ_VM_CRASH_LOG):"; head -8 <<< "$crashes" | sed 's/^/      /'; }
    tail -20 "$log" | sed 's/^/    /'
  fi
}

# The build under test: release (tests/vm/profile.sh: what users run and the
# packages ship, and a debug vreqplay spends ~2 s of every VM run relocating
# itself under TCG); the host tier ran the same code with debug assertions.
# Built once here: vreqplay and the VA driver (one release build). The lib tests of
# 1a and 4d stay debug test binaries. VREQ_VM_PROFILE=debug: the debug build.
# Guest commands get the paths as arguments (env P=... VADIR=...): the guest
# does not inherit this shell's environment.
export VREQ_VM_PROFILE=${VREQ_VM_PROFILE:-release}
. tests/vm/profile.sh
t0=$SECONDS
cargo build --locked --profile "$VM_CARGO_PROFILE" -p vreqplay -p vreq-va --bin vreqplay --example wl_pattern --lib &&
  vadir=$(scripts/va-driver-dir.sh "$VM_VA_PROFILE") ||
  { echo "vm-tier: building the $VREQ_VM_PROFILE binaries failed"; exit 1; }
echo "vm: $VREQ_VM_PROFILE build: $VM_PLAYER, ${vadir#"$top"/}/vreq_drv_video.so ($((SECONDS - t0)) s)"
export P=./$VM_PLAYER VADIR=/mnt/host/${vadir#"$top"/}

# 1. discovery: vreqplay finds visl through the media topology
check list-devices tests/vm/vm.sh run -- env P="$P" bash -c \
  '$P --list-devices | tee /dev/stderr | grep -E "/dev/media0 +/dev/video0 +visl +h264"'

# 1a. the Session against the real visl: optional controls probed with
#     VIDIOC_QUERY_EXT_CTRL, a reconfiguration keeps a held CAPTURE buffer,
#     empty dynamic arrays refused; OUTPUT buffers mapped on first use, grown
#     by VIDIOC_CREATE_BUFS while streaming, an access unit above the cap
#     refused (the two lib tests ignored on the host; both must have run)
libtest=$(cargo test -p vreq-v4l2 --lib --no-run --locked 2>&1 | grep -o 'target/debug/deps/vreq_v4l2-[0-9a-f]*' | head -1)
check session-visl tests/vm/vm.sh run -- bash -c 'out=$("$0" --ignored --exact session::tests::visl_probe_and_retire \
  session::tests::visl_output_buffers_mapped_when_used_and_grown 2>&1); echo "$out"; grep -q "test result: ok. 2 passed" <<< "$out"' "$libtest"

media=${VREQ_MEDIA:-$(cd "$top/.." && pwd)/shared/media}
mkdir -p target/vm-media && cp "$media/debian-src-firefox-esr/gizmo.mp4" target/vm-media/

# 1b. -o out.y4m on visl: exactly ffprobe's 166 frames of 560x320 4:2:0, in one
#     file of header + 166 x ("FRAME\n" + 560*320*3/2 bytes)
check y4m tests/vm/vm.sh run -- env P="$P" bash -c \
  '$P -o /tmp/o.y4m target/vm-media/gizmo.mp4 &&
   hdr=$(head -1 /tmp/o.y4m | wc -c) && size=$(stat -c %s /tmp/o.y4m) &&
   echo "header $hdr bytes, file $size bytes" && head -1 /tmp/o.y4m &&
   [ "$size" -eq $((hdr + 166 * (6 + 560 * 320 * 3 / 2))) ] &&
   { $P -o /tmp/o.y4m target/vm-media/gizmo.mp4 2>&1;
     test $? -ne 0; } | grep "use --force"'

# 2. the oracle: vreqplay's visl trace for every H.264 clip (MPEG-TS excluded)
#    equals GStreamer's, field by field (committed goldens, made from
#    GStreamer by tests/oracle/gen-golden.sh), and its frame count equals
#    ffprobe's. (Live GStreamer side by side: tests/oracle/run.sh without -G.)
check oracle-h264 tests/oracle/run.sh -G -b 25 -o /tmp/vreq-oracle
#    ... and every HEVC and VP9 clip (tests/golden/hevc, tests/golden/vp9)
check oracle-hevc tests/oracle/run.sh -c hevc -G -b 20 -o /tmp/vreq-oracle-hevc
check oracle-vp9 tests/oracle/run.sh -c vp9 -G -b 20 -o /tmp/vreq-oracle-vp9
#    ... and every VP8 and MPEG-2 clip (tests/golden/vp8, tests/golden/mpeg2)
check oracle-vp8 tests/oracle/run.sh -c vp8 -G -b 8 -o /tmp/vreq-oracle-vp8
check oracle-mpeg2 tests/oracle/run.sh -c mpeg2 -G -b 8 -o /tmp/vreq-oracle-mpeg2
#    ... and, on the sid VM (kernel 7.2, visl with the RK3588 HEVC
#    EXT_SPS_ST/LT_RPS controls; GStreamer 1.28.8 goldens), the three
#    generated HEVC clips with those controls present and hidden. Opt-in
#    (VREQ_VM_SID=1): the sid image follows Debian sid, whose kernel packages
#    move daily, so a fresh machine cannot always rebuild it; the same goldens
#    are compared offline by `cargo test -p vreq-oracle --test oracle_golden`.
if [ "${VREQ_VM_SID:-0}" = 1 ]; then
  sidclips=(generated-by-us/hevc-x265.h265 generated-by-us/hevc-sps-rps.h265
            generated-by-us/hevc-sps-rps-inter-lt.h265)
  check sid-build tests/vm/vm.sh -V sid build
  check oracle-hevc-sid-ext tests/oracle/run.sh -c hevc -V sid -G -b 3 \
    -D tests/golden/hevc-sid/ext -o /tmp/vreq-oracle-sid-ext "${sidclips[@]}"
  check oracle-hevc-sid-noext tests/oracle/run.sh -c hevc -V sid -O 'visl hevc_ext_sps_rps=0' \
    -G -b 3 -D tests/golden/hevc-sid/noext -o /tmp/vreq-oracle-sid-noext "${sidclips[@]}"
fi

# 3. the README's run command in the VM's compositor (weston headless GL,
#    /dev/dri hidden): an MP4 and an MKV, zero-copy, screenshot shows visl's frame
check window-mp4 tests/vm/window-test.sh -o /tmp/vreq-window-mp4 -w 25 -V 560x320 \
  -f "$media/debian-src-firefox-esr/gizmo.mp4" -- ./vreqplay --keep-open gizmo.mp4
#    (balle-jbart is 720x576 with pixel aspect 16:15: displayed 768x576)
check window-mkv tests/vm/window-test.sh -o /tmp/vreq-window-mkv -w 30 -V 768x576 \
  -f "$media/remuxed-by-us/balle-jbart.h264.mkv" -- ./vreqplay --keep-open balle-jbart.h264.mkv
check window-hevc-mkv tests/vm/window-test.sh -o /tmp/vreq-window-hevc -w 25 -V 560x320 \
  -f "$media/remuxed-by-us/gizmo_hevc_8bit_420.mkv" -- ./vreqplay --keep-open gizmo_hevc_8bit_420.mkv
check window-vp9-webm tests/vm/window-test.sh -o /tmp/vreq-window-vp9 -w 25 -V 560x320 \
  -f "$media/debian-src-firefox-esr/gizmo.webm" -- ./vreqplay --keep-open gizmo.webm
#    ... and VP8 and MPEG-2 (all five codecs); -E plays each again without
#    --keep-open, whose exit line "vreqplay: window: presented N, dropped N, late N
#    (zero-copy N, copied N)" must say zero-copy > 0, copied 0 (150 frames: 5 s)
check window-vp8-webm tests/vm/window-test.sh -o /tmp/vreq-window-vp8 -E -w 20 -V 304x176 \
  -f "$media/debian-src-firefox-esr/webgl-npot-video.vp8.webm" -- ./vreqplay --keep-open --frames 150 webgl-npot-video.vp8.webm
check window-mpeg2 tests/vm/window-test.sh -o /tmp/vreq-window-mpeg2 -E -w 20 -V 640x480 \
  -f "$media/remuxed-by-us/movie-hello.mpeg2.mkv" -- ./vreqplay --keep-open --frames 150 movie-hello.mpeg2.mkv
# 3a. the fallback: weston with the pixman renderer offers no zwp_linux_dmabuf_v1,
#     so vreqplay copies into wl_shm: the shot shows visl's frame scaled to fit
#     (1024x576 in the 4:3 output, black borders: -F), weston holds no visl
#     dmabufs, the exit line says zero-copy 0, copied > 0
check window-pixman tests/vm/window-test.sh -o /tmp/vreq-window-pixman -R pixman -E -w 20 -V 256x144 -F \
  -f "$media/debian-librust-vid-dup-finder-lib-dev/cat.1.mp4" -- ./vreqplay --keep-open --frames 125 cat.1.mp4
# 3b. aspect and crop, zero-copy (weston holds visl's dmabufs), in the 1024x768
#     output the picture is scaled to fit keeping aspect: 1024x576 centred with
#     black rows above and below (96 each, +-2 px; height 576 +-1):
#     HEVC 1440x1080 with SAR 4:3 (VUI) displays as 1920x1080 (without the pixel
#     aspect it would fill 1024x768) ...
check window-aspect-hevc tests/vm/window-test.sh -o /tmp/vreq-window-aspect -w 20 -V 1920x1080 -F \
  -f "$media/debian-src-firefox-esr/aspect_ratio_4_3_hevc.mp4" -- ./vreqplay --keep-open aspect_ratio_4_3_hevc.mp4
#    ... and H.264 1080p coded as 1920x1088 (SPS frame cropping): the 8 rows
#    below the visible 1080 must not show (they would make the picture 580 high)
check window-crop-1088 tests/vm/window-test.sh -o /tmp/vreq-window-crop -w 20 -V 1920x1080 -F \
  -f "$media/pypi-pymediainfo/sample.mp4" -- ./vreqplay --keep-open sample.mp4
# 3c. pacing over a 10 s clip at its rate (HEVC, 250 frames at 25 fps), with the
#     per-frame debug lines (tests/vm/check-pacing.py): presented + dropped = 250 =
#     frame lines, none presented before its due time (drops are allowed: TCG)
check pacing-hevc tests/vm/window-test.sh -o /tmp/vreq-pacing -P 250:25 \
  -f "$media/crates-cros-codecs/test-25fps.h265" -- ./vreqplay test-25fps.h265
# 3d. a scripted session (issue 13): keys through the window's test hook, keyframe
#     seeks, chapters, frame step and the OSD, each screenshot's frame read from
#     the number visl stamps on it (header above; tests/vm/session-test.sh -h)
check session-seek tests/vm/session-test.sh -o /tmp/vreq-session
# 3e. the kiosk (issue 14): vreqplay --vo=drm on vkms, no compositor
#     (tests/vm/kiosk-test.sh; one boot, every case's PASS/FAIL line in the log).
#     trixie (kernel 6.12: RGB-only planes -> the CPU fallback): H.264, HEVC
#     clips and MPEG-2 (tests/vm/make-kiosk-clips.sh) play to their end, exit line zero-copy 0,
#     copied > 0, presented + dropped = ffprobe's frames; the writeback capture
#     (VREQ_KMS_WRITEBACK) shows visl's frame at the clip's aspect, black around
#     it; the planes show KMS dumb buffers only; pacing over 250 frames at 25 fps
#     on the 60 Hz mode (check-pacing.py: none presented before due); SIGTERM
#     mid-play exits 4 within 5 s; a uinput keyboard's space / space / q pause,
#     resume and quit (evdev, xkbcommon); after every run the CRTC / plane / connector
#     state equals the console's before it; --drm-connector=HDMI-A-9,
#     --drm-mode=1000x1000 and a busy master each give one "drm:" line naming
#     what exists, non-zero exit, no panic. About 75 s under TCG.
check kiosk-trixie tests/vm/kiosk-test.sh -V trixie -o /tmp/vreq-kiosk-trixie
#     ... and on sid (kernel 7.2: NV12 on every plane), opt-in as the other sid
#     checks: all five codecs zero-copy (an NV12 framebuffer exported by
#     videobuf2_vmalloc, visl's CAPTURE buffer, on a plane while it plays;
#     zero-copy > 0, copied 0), the same capture, pacing, signal and error
#     checks. About 95 s under TCG.
[ "${VREQ_VM_SID:-0}" = 1 ] && check kiosk-sid tests/vm/kiosk-test.sh -V sid -o /tmp/vreq-kiosk-sid
# (tests/vm/window-test.sh without a command runs the presenter's synthetic
#  pattern through both paths; not in the tier: its zero-copy screenshot came
#  back empty in about one run in four, cause not found yet — see its header.)

# 4. the VA driver (crates/va): trixie's libva 2.22 loads vreq_drv_video.so
#    (scripts/va-driver-dir.sh links cargo's libvreq_drv_video.so under that
#    name) through its __vaDriverInit_1_<minor> symbol, and vainfo on a DRM
#    render node (vgem: the VM has no GPU) lists visl's five codecs with VLD
check va-vainfo bash -c '
  out=$(tests/vm/vm.sh run -m "visl vgem" -- bash -c "LIBVA_DRIVERS_PATH=$VADIR \
        LIBVA_DRIVER_NAME=vreq vainfo --display drm --device /dev/dri/renderD128") &&
  echo "$out" && echo "$out" | grep -q "Driver version: vreq VA driver .*(V4L2 stateless: visl)" &&
  for p in H264Main H264High H264ConstrainedBaseline HEVCMain VP8Version0_3 VP9Profile0 MPEG2Simple MPEG2Main; do
    echo "$out" | grep -Eq "VAProfile$p[[:space:]]*:[[:space:]]*VAEntrypointVLD" || { echo "no VAProfile$p/VLD"; exit 1; }
  done'

# 4a. H.264 decoding through the VA driver: ffmpeg (trixie's 7.1) with
#     -hwaccel vaapi on visl. ffmpeg falls back to software decoding when a
#     hwaccel fails, so the check counts visl's CAPTURE dequeues (ftrace
#     v4l2_dqbuf): every one of gizmo.mp4's 166 frames (ffprobe) must have
#     gone through the driver, and ffmpeg must output 166 frames. (The
#     controls it sends: va-oracle-h264 below.)
check va-ffmpeg-h264 tests/vm/vm.sh run -m "visl vgem" -- env VADIR="$VADIR" bash -c '
  T=/sys/kernel/tracing
  echo 0 > $T/tracing_on; echo 0 > $T/events/enable; echo > $T/trace
  echo 1 > $T/events/v4l2/v4l2_dqbuf/enable; echo 1 > $T/tracing_on
  LIBVA_DRIVERS_PATH=$VADIR LIBVA_DRIVER_NAME=vreq \
    ffmpeg -nostdin -v error -hwaccel vaapi -hwaccel_device /dev/dri/renderD128 \
      -hwaccel_output_format vaapi -i target/vm-media/gizmo.mp4 -f null - -progress /tmp/p || exit 1
  echo 0 > $T/tracing_on
  out=$(sed -n "s/^frame=//p" /tmp/p | tail -1)
  dq=$(grep -c "v4l2_dqbuf:.*type = VIDEO_CAPTURE" $T/trace)
  echo "ffmpeg frames $out, visl CAPTURE dequeues $dq (ffprobe: 166)"
  [ "$out" = 166 ] && [ "$dq" = 166 ]'

# 4b. the oracle through VA (issue 11): for every clip of the codec that the
#     oracle compares (MANIFEST rows, MPEG-TS excluded), ffmpeg -hwaccel vaapi
#     -hwaccel_output_format vaapi through the driver on visl must produce
#     GStreamer's golden jobs field for field, except the fields
#     tests/oracle/va-known-differences.tsv lists with their VA reason (each
#     tolerated only as its rule says: ignored / offset / subset / when), with
#     ffmpeg's frames = ffprobe's = visl's CAPTURE dequeues; clips of
#     tests/oracle/va-out-of-scope.tsv (no VA profile) pass only when ffmpeg's
#     hwaccel refused them. Table: tests/oracle/va-table.sh /tmp/vreq-va-oracle-*
check va-oracle-h264 tests/oracle/run.sh -A -b 13 -o /tmp/vreq-va-oracle-h264
#     ... and HEVC, VP9, VP8, MPEG-2
check va-oracle-hevc tests/oracle/run.sh -c hevc -A -b 15 -o /tmp/vreq-va-oracle-hevc
check va-oracle-vp8 tests/oracle/run.sh -c vp8 -A -b 8 -o /tmp/vreq-va-oracle-vp8
check va-oracle-mpeg2 tests/oracle/run.sh -c mpeg2 -A -b 8 -o /tmp/vreq-va-oracle-mpeg2
check va-oracle-vp9 tests/oracle/run.sh -c vp9 -A -b 20 -o /tmp/vreq-va-oracle-vp9

# 4c. the VA driver's images: ffmpeg downloads each decoded picture with
#    vaCreateImage + vaGetImage + vaMapBuffer (libavutil/hwcontext_vaapi.c
#    vaapi_map_frame), once by itself (no -hwaccel_output_format) and once
#    through -vf hwdownload. Both must write gizmo.mp4's 166 frames of 560x320
#    NV12, and the pixels must be visl's (tests/vm/check-visl-raw.py: the 75 %
#    colour bars below the text, the text changing from frame to frame) — a
#    software fallback would write the clip's real pictures and fail. A third
#    pass reads them through the export path: hwmap to DRM PRIME calls
#    vaExportSurfaceHandle (SEPARATE_LAYERS | READ_ONLY: R8 + GR88 over
#    visl's EXPBUF dmabuf) and hwdownload mmap()s the exported fds
#    (libavutil/hwcontext_drm.c); the same 166 frames must come out.
check va-ffmpeg-download tests/vm/vm.sh run -m "visl vgem" -- env VADIR="$VADIR" bash -c '
  export LIBVA_DRIVERS_PATH=$VADIR LIBVA_DRIVER_NAME=vreq
  ff="ffmpeg -nostdin -v error -hwaccel vaapi -hwaccel_device /dev/dri/renderD128"
  $ff -i target/vm-media/gizmo.mp4 -f rawvideo /tmp/get.nv12 || exit 1
  python3 tests/vm/check-visl-raw.py /tmp/get.nv12 560 320 166 || exit 1
  rm -f /tmp/get.nv12
  $ff -hwaccel_output_format vaapi -i target/vm-media/gizmo.mp4 \
    -vf hwdownload,format=nv12 -f rawvideo /tmp/down.nv12 || exit 1
  python3 tests/vm/check-visl-raw.py /tmp/down.nv12 560 320 166 || exit 1
  rm -f /tmp/down.nv12
  ffmpeg -nostdin -v error -init_hw_device drm=dr:/dev/dri/renderD128 \
    -init_hw_device vaapi=va@dr -hwaccel vaapi -hwaccel_device va \
    -hwaccel_output_format vaapi -filter_hw_device dr -i target/vm-media/gizmo.mp4 \
    -vf hwmap=mode=read,format=drm_prime,hwdownload,format=nv12 \
    -f rawvideo /tmp/export.nv12 || exit 1
  python3 tests/vm/check-visl-raw.py /tmp/export.nv12 560 320 166'

# 4d. the placeholder dmabuf the VA driver exports for a surface without a
#     decoded picture (mpv probes export on fresh surfaces): a real
#     /dev/dma_heap/system allocation (the lib test ignored on the host)
vatest=$(cargo test -p vreq-va --lib --no-run --locked 2>&1 | grep -o 'target/debug/deps/vreq_drv_video-[0-9a-f]*' | head -1)
check va-dma-heap tests/vm/vm.sh run -- "$vatest" --ignored --exact ffi::tests::system_heap_gives_a_dmabuf
# 4b. GStreamer's va plugin, the second VA client, independent of ffmpeg
#     (tests/vm/va-clients.sh gst): va<codec>dec registered from the driver's
#     profiles (fresh registry, GST_VA_ALL_DRIVERS=1), decodes the clip into VA
#     surfaces (caps video/x-raw(memory:VAMemory)): buffers at fakesink =
#     ffprobe -count_frames, and at least as many visl CAPTURE dequeues
check va-gst-h264 tests/vm/va-clients.sh gst h264 "$media/debian-src-firefox-esr/gizmo.mp4"
#     ... and read back into system memory (-S: caps video/x-raw,format=NV12, the
#     va plugin downloads each frame with vaDeriveImage / vaGetImage)
check va-gst-h264-sysmem tests/vm/va-clients.sh gst -S h264 "$media/debian-src-firefox-esr/gizmo.mp4"
#     ... and HEVC, VP9, VP8, MPEG-2 (one clip each)
check va-gst-h265 tests/vm/va-clients.sh gst h265 "$media/remuxed-by-us/gizmo_hevc_8bit_420.mkv"
check va-gst-vp9 tests/vm/va-clients.sh gst vp9 "$media/debian-src-firefox-esr/gizmo.webm"
check va-gst-vp8 tests/vm/va-clients.sh gst vp8 "$media/debian-src-firefox-esr/webgl-npot-video.vp8.webm"
check va-gst-mpeg2 tests/vm/va-clients.sh gst mpeg2 "$media/remuxed-by-us/movie-hello.mpeg2.mkv"

# 4c. mpv in weston (headless GL on llvmpipe) plays gizmo.mp4 with
#     --hwdec=vaapi-copy (frames read back with vaDeriveImage / vaGetImage) and
#     --vo=gpu: mpv says "Using hardware decoding (vaapi-copy)" (a software
#     fallback would not), visl dequeued CAPTURE buffers, one of three
#     screenshots shows visl's frame at 560x320's aspect.
check va-mpv-h264 tests/vm/va-clients.sh mpv "$media/debian-src-firefox-esr/gizmo.mp4" 560x320
#     ... and zero-copy: --hwdec=vaapi --vo=gpu with weston and mpv seeing vgem's
#     render node (VA_CLIENTS_SHOW_DRI=1): mpv imports the dmabufs
#     vaExportSurfaceHandle gives ("Using EGL dmabuf interop via
#     GL_EXT_EGL_image_storage", "Using hardware decoding (vaapi)"); its format
#     probe exports a fresh surface (the driver's placeholder dmabuf)
check va-mpv-h264-vaapi env VA_CLIENTS_SHOW_DRI=1 tests/vm/va-clients.sh mpv -H vaapi -O gpu \
  "$media/debian-src-firefox-esr/gizmo.mp4" 560x320
# 4e. Firefox ESR (153) in weston plays a local MP4 (H.264) and WebM (VP9) page
#     (tests/vm/va-video.html) through the driver: its FFmpeg decoder logs
#     "VA-API FFmpeg init successful", visl dequeues CAPTURE buffers, one of
#     three screenshots shows visl's frame at the clip's aspect. The VM has no
#     GPU, so Firefox is talked into it (glxtest on kms_swrast over vgem, the
#     llvmpipe renderer name spoofed, hardware WebRender on llvmpipe, the RDD
#     sandbox off: tests/vm/va-clients.sh's header, docs/VA-DRIVER.md
#     "Clients in the VM"). About 3.5 min each under TCG.
check va-firefox-h264 tests/vm/va-clients.sh firefox "$media/debian-src-firefox-esr/gizmo.mp4" 560x320
check va-firefox-vp9 tests/vm/va-clients.sh firefox "$media/debian-src-firefox-esr/gizmo.webm" 560x320

# 5. sound (issue 12): the player's sound through snd-aloop, captured at the
#    other end of the loopback with CLOCK_MONOTONIC stamps, against ffmpeg's
#    decode of the same track (tests/vm/audio-test.sh; header above)
check audio-loop-30s tests/vm/audio-test.sh loop
check audio-corpus tests/vm/audio-test.sh corpus
check lipsync tests/vm/audio-test.sh lipsync

# 6. faults and soak (issue 15): visl unbound mid-stream (one-line error
#    naming device and frame, non-zero exit within 2 s, no panic:
#    tests/vm/fault-test.sh, which also says what visl cannot provoke); a short soak, 50
#    open/seek/close cycles and a 1-minute playlist loop: fds, VmRSS and the
#    engine's / session's buffer states back at their baseline
#    (tests/vm/soak-test.sh; about 2-3 min under TCG). The full runs, reported
#    in issue 15: tests/vm/soak-test.sh --cycles 1000 --minutes 0 and
#    tests/vm/soak-test.sh --cycles 0 --minutes 30 --interval 60.
check faults-visl tests/vm/fault-test.sh
check soak-short tests/vm/soak-test.sh --cycles 50 --minutes 1 --interval 10 -o target/vm-soak-short

# 7. damaged input (issue 15): one clip per container x 7 kinds of damage
#    (tests/vm/make-damaged.py --subset) with --vo=null, against ffprobe
#    -count_frames of the same files: 0 panics, 0 hangs (exit within 2 s of
#    the input's end / error), frames >= 0.95 x ffmpeg's (tests/vm/damage-test.sh,
#    tests/vm/check-damage.py; the whole corpus: damage-test.sh --all). ~3.5 min.
check damage-subset tests/vm/damage-test.sh

# 8. the package (issue 16): the amd64 .deb (scripts/package-deb.sh) installed
#    with dpkg -i in the guest: --list-devices finds visl, the man page,
#    vainfo loads the installed driver by name, desktop entry / metainfo /
#    icons / kiosk unit in place, purge (tests/vm/deb-test.sh; one boot).
#    Skipped with VREQ_PACKAGES=0 (scripts/test.sh's default is 1). Run by
#    scripts/test.sh, the packages are built beside this tier: the check
#    waits for them ($VREQ_SIDE_RC appears when they are done).
if [ "${VREQ_PACKAGES:-1}" = 1 ]; then
  if [ -n "${VREQ_SIDE_RC:-}" ]; then
    t0=$SECONDS; while [ ! -e "$VREQ_SIDE_RC" ]; do sleep 5; done
    echo "vm: waited $((SECONDS - t0)) s for the packages (status $(cat "$VREQ_SIDE_RC"))"
  fi
  check deb-install tests/vm/deb-test.sh
else
  echo "vm: deb-install SKIPPED (VREQ_PACKAGES=$VREQ_PACKAGES)"
fi

echo "vm-tier: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
