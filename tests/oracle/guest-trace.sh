#!/bin/bash
# guest-trace.sh [-c CODEC] OUTDIR TOOL CLIP [TOOL CLIP ...]   (runs INSIDE the VM, cwd = share)
# For each (TOOL, CLIP) pair: reload visl (fresh control state, fresh buffer
# timestamps), enable visl's CODEC control events (visl_<codec>_controls) +
# v4l2_qbuf/v4l2_dqbuf, decode CLIP with TOOL and save the ftrace text dump.
# CODEC: h264 (default) | hevc | vp9 | vp8 | mpeg2.
# TOOL: gst  -> gst-launch-1.0 filesrc ! DEMUX ! PARSE ! DEC ! fakesink, with
#               DEMUX by extension: qtdemux (.mp4 .mov .m4v), matroskademux
#               (.mkv .webm), ivfparse (.ivf), tsdemux (.ts .m2ts),
#               mpegpsdemux (.mpg .mpeg .vob; for mpeg2 followed by
#               capssetter caps=video/mpeg,mpegversion=(int)2), none (Annex-B .h264 .h265, ES .m2v ...);
#               PARSE ! DEC: h264parse ! v4l2slh264dec | h265parse ! v4l2slh265dec
#               | vp9parse ! v4l2slvp9dec (vp9parse splits superframes: the
#               decoder's sink caps want alignment=frame) | v4l2slvp8dec (no
#               parser: IVF / WebM frames are whole VP8 frames) |
#               mpegvideoparse ! v4l2slmpeg2dec
#       vreq -> $VREQPLAY (default ./vreqplay) --vo null --no-audio CLIP (unpaced)
#       va   -> ffmpeg through the VA driver (issue 11): LIBVA_DRIVERS_PATH=$VA_DRIVERS_PATH
#               (default ./va, holding vreq_drv_video.so) LIBVA_DRIVER_NAME=vreq
#               ffmpeg -hwaccel vaapi -hwaccel_output_format vaapi -hwaccel_device
#               /dev/dri/renderD128 -reinit_filter 0 -i CLIP -map 0:v:0 -noautoscale -f null -
#               (-v verbose: the log says why a hwaccel was not used; -map 0:v:0:
#               the first video track, as GStreamer's goldens, vreqplay and
#               ffprobe's v:0; -noautoscale: at a resolution change ffmpeg would
#               insert a software scaler that cannot take VA surfaces and stop;
#               -reinit_filter 0: nor rebuild its filter graph when a frame's
#               properties change (test_case_1224361.vp8.ivf: ffmpeg's VP8
#               decoder gives the second, inter frame colour range tv, the
#               rebuilt graph cannot take VA surfaces and ffmpeg stops after 1
#               of 2 frames, visl having decoded both);
#               needs a render node: vgem); frames = ffmpeg's last -progress frame=
#       va-probe -> the same, first 10 frames only (-frames:v 10): enough to see
#               whether the hwaccel takes the clip (run.sh -A: clips of
#               va-out-of-scope.tsv, which ffmpeg would decode in software)
#       gst:NAME / vreq:NAME -> the same, files named <tag>.NAME.* (e.g. a second run)
# Writes OUTDIR/<tag>.<tool>.{trace.gz,log,info}; tag = clip file name.
# .info: rc=, frames=, secs= (decode), tsecs= (trace format + copy), lost= (ring buffer overruns),
# dq= (visl's CAPTURE dequeues in the trace: pictures that went through visl; a
# client that fell back to software decoding, as ffmpeg does when a hwaccel
# fails, has frames but no dequeues).
set -u
codec=h264
if [ "${1:-}" = -c ]; then codec=$2; shift 2; fi
case $codec in
  h264) chain="h264parse ! v4l2slh264dec" ;;
  hevc) chain="h265parse ! v4l2slh265dec" ;;
  vp9) chain="vp9parse ! v4l2slvp9dec" ;;
  vp8) chain="v4l2slvp8dec" ;;
  mpeg2) chain="mpegvideoparse ! v4l2slmpeg2dec" ;;
  *) echo "guest-trace.sh: unknown codec $codec" >&2; exit 2 ;;
esac
out=$1; shift
mkdir -p "$out"
T=/sys/kernel/tracing
: "${TRACE_KB:=65536}"
gstver=$(gst-launch-1.0 --version | sed -n 's/.*GStreamer \([0-9.]*\).*/\1/p' | head -1)
visl_opts=$(for p in /sys/module/visl/parameters/hevc_ext_sps_rps; do [ -r "$p" ] && echo " visl.hevc_ext_sps_rps=$(cat "$p")"; done)
echo "gstreamer=$gstver kernel=$(uname -r)$visl_opts" > "$out/env.txt"
while [ $# -ge 2 ]; do
  tool=$1 clip=$2; shift 2
  tag=$(basename "$clip")
  name=${tool#*:}; tool=${tool%%:*}
  modprobe -r visl 2>/dev/null; modprobe visl || { echo "modprobe visl failed" >&2; exit 3; }
  for i in $(seq 50); do [ -e /dev/media0 ] && break; sleep 0.1; done
  echo 0 > $T/tracing_on; echo 0 > $T/events/enable
  echo "$TRACE_KB" > $T/buffer_size_kb
  echo > $T/trace
  echo 1 > $T/events/visl_${codec}_controls/enable
  echo 1 > $T/events/v4l2/v4l2_qbuf/enable; echo 1 > $T/events/v4l2/v4l2_dqbuf/enable
  echo 1 > $T/tracing_on
  t0=$(date +%s.%N)
  case $tool in
    gst)
      case $clip in
        *.mp4|*.mov|*.m4v) demux="qtdemux ! " ;;
        *.mkv|*.webm) demux="matroskademux ! " ;;
        *.ivf) demux="ivfparse ! " ;;
        *.ts|*.m2ts) demux="tsdemux ! " ;;
        # mpegpsdemux announces MPEG-2 video in an MPEG-1-style pack stream
        # (movie-hello.mpeg) as mpegversion=1; with v4l2slmpeg2dec
        # downstream (mpegversion=2 only) mpegvideoparse then refuses the
        # link (caps query) and nothing decodes. capssetter only restates
        # the caps (mpegvideoparse re-derives them from the sequence
        # extension anyway); the coded bytes are untouched.
        *.mpg|*.mpeg|*.vob)
          demux="mpegpsdemux ! "
          [ "$codec" = mpeg2 ] && demux="mpegpsdemux ! capssetter caps=video/mpeg,mpegversion=(int)2 ! " ;;
        *) demux="" ;;
      esac
      gst-launch-1.0 -v filesrc location="$clip" ! $demux $chain ! \
        fakesink name=sink silent=false sync=false > "$out/$tag.$name.log" 2>&1
      rc=$?
      frames=$(grep -c 'sink: last-message = chain' "$out/$tag.$name.log") ;;
    vreq)
      "${VREQPLAY:-./vreqplay}" --vo null --no-audio "$clip" > "$out/$tag.$name.log" 2>&1
      rc=$?
      frames=$(sed -n 's/.*\b\([0-9][0-9]*\) frames output.*/\1/p' "$out/$tag.$name.log" | tail -1) ;;
    va|va-probe)
      limit=(); [ "$tool" = va-probe ] && limit=(-frames:v 10)
      LIBVA_DRIVERS_PATH=${VA_DRIVERS_PATH:-$PWD/va} LIBVA_DRIVER_NAME=vreq \
        ffmpeg -nostdin -hide_banner -v verbose -hwaccel vaapi -hwaccel_output_format vaapi \
        -hwaccel_device /dev/dri/renderD128 -reinit_filter 0 -i "$clip" -map 0:v:0 -noautoscale "${limit[@]}" -f null - \
        -progress /tmp/progress.txt > "$out/$tag.$name.log" 2>&1
      rc=$?
      frames=$(sed -n 's/^frame=//p' /tmp/progress.txt 2>/dev/null | tail -1); rm -f /tmp/progress.txt ;;
    *) echo "bad tool $tool" >&2; exit 2 ;;
  esac
  t1=$(date +%s.%N)
  echo 0 > $T/tracing_on
  # format into tmpfs, then write compressed to the 9p share: measured on
  # foreman.mp4 (5.7 MB of text) cp to 9p 11.3 s vs tmpfs 4.8 s + gzip -1 0.4 s
  cat $T/trace > /tmp/trace.txt
  dq=$(grep -c 'v4l2_dqbuf:.*type = VIDEO_CAPTURE' /tmp/trace.txt)
  gzip -1 -c /tmp/trace.txt > "$out/$tag.$name.trace.gz"; rm -f /tmp/trace.txt
  t2=$(date +%s.%N)
  lost=$(cat $T/per_cpu/cpu*/stats 2>/dev/null | awk '/^overrun:/{s+=$2} END{print s+0}')
  printf 'rc=%s frames=%s secs=%.2f tsecs=%.2f lost=%s dq=%s\n' "$rc" "${frames:-0}" \
    "$(awk "BEGIN{print $t1-$t0}")" "$(awk "BEGIN{print $t2-$t1}")" "$lost" "$dq" > "$out/$tag.$name.info"
  echo "$tag $name: $(cat "$out/$tag.$name.info")"
  echo 0 > $T/events/enable
done
exit 0
