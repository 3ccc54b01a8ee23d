#!/bin/bash
# run.sh [-c CODEC] [-g|-G|-A] [-D GOLDENDIR] [-V VARIANT] [-O MODOPTS]... [-o OUTDIR] [-b BATCH] [CLIP...]
# The oracle comparison (host side). For each CLIP (path relative to the media
# dir, or absolute; default: every CODEC clip in MANIFEST.tsv, MPEG-TS rows
# too) boot the VM, decode the clip with GStreamer (v4l2slh264dec /
# v4l2slh265dec / v4l2slvp9dec) and with vreqplay (--vo null) against visl
# with ftrace on (tests/oracle/guest-trace.sh), then compare the two
# normalised traces with vreq-oracle and print a table:
#   clip | gst frames | vreq frames | ffprobe frames | jobs equal | first difference
#   -c CODEC    h264 | hevc | vp9 | vp8 | mpeg2. Default: the MANIFEST codec of the first
#               CLIP, else h264. Every clip of one run must be of this codec.
#   -g          GStreamer only (no vreqplay run, no comparison)
#   -G          vreqplay only, compared with the committed goldens
#               (tests/golden/CODEC/, made by gen-golden.sh; for the synthetic
#               H.264 streams tests/data/h264-synthetic/*.h264 given by
#               absolute path, tests/golden/h264/synthetic/): half the VM time.
#               A clip with segment goldens (GOLDENDIR/segments/<name>--segNN.norm,
#               gen-golden.sh -s: clips that change resolution mid-stream) is
#               compared segment by segment with them instead: our whole-clip
#               trace split at its sequence starts (vreq-oracle report:
#               `equal N/M jobs (K segments)`)
#   -A          through the VA driver (issue 11): ffmpeg -hwaccel vaapi
#               -hwaccel_output_format vaapi with LIBVA_DRIVER_NAME=vreq
#               ($VA_DRIVER, default target/debug/libvreq_drv_video.so; the VM
#               loads vgem for a render node) instead of vreqplay, compared
#               with the committed goldens as -G does, with the field-level
#               known differences of tests/oracle/va-known-differences.tsv
#               (vreq-oracle report --va-known): files <clip>.va.*; frames =
#               ffmpeg's, and visl's CAPTURE dequeues must equal them. Clips of
#               tests/oracle/va-out-of-scope.tsv (no VA profile for them) pass
#               only when ffmpeg's hwaccel refused them and nothing reached visl;
#               tests/oracle/va-clip-differences.tsv replaces known-differences.tsv
#   -D DIR      golden directory for -G / -A instead of tests/golden/CODEC (e.g.
#               tests/golden/hevc-sid/ext); goldens are named after the clip
#               path with / -> --
#   -V VARIANT  VM: trixie (default; kernel 6.12, GStreamer 1.26.2) or sid
#               (kernel 7.2, GStreamer 1.28.8, visl with EXT_SPS_ST/LT_RPS)
#   -O OPTS     module options for the VM, repeatable, e.g.
#               -O 'visl hevc_ext_sps_rps=0' (sid: hide the EXT_SPS controls)
#   -o OUTDIR   keep traces/logs there (default /tmp/vreq-oracle)
#   -b N        clips per VM boot (default 4)
# Clips listed in tests/oracle/known-differences.tsv (segment comparisons)
# pass only with exactly the listed result, marked KNOWN DIFFERENCE.
# Clips listed in tests/oracle/out-of-scope.tsv pass only when vreqplay
# refuses them with an "unsupported stream" error.
# Exit status: vreq-oracle report's (0 only when every clip passes).
# Env: VREQPLAY (vreqplay binary, default target/debug/vreqplay, or
#      target/release/ with VREQ_VM_PROFILE=release: tests/vm/profile.sh),
#      VA_DRIVER (-A: the driver, default target/debug/libvreq_drv_video.so,
#      target/release/ with VREQ_VM_PROFILE=release),
#      VREQ_ORACLE (vreq-oracle binary, default target/debug/vreq-oracle),
#      VREQ_MEDIA (media dir), TRACE_KB (ftrace buffer per CPU, KiB).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/clips.sh"
gstonly=0 golden=0 va=0 out=/tmp/vreq-oracle batch=4 codec= gdir= variant=trixie modopts=()
while getopts ":c:gGAD:V:O:o:b:h" opt; do
  case $opt in
    c) codec=$OPTARG ;; g) gstonly=1 ;; G) golden=1 ;; A) golden=1 va=1 ;; D) gdir=$OPTARG ;;
    V) variant=$OPTARG ;; O) modopts+=(-o "$OPTARG") ;;
    o) out=$OPTARG ;; b) batch=$OPTARG ;;
    h) sed -n '2,50p' "$0"; exit 0 ;;
    *) echo "run.sh: bad option -$OPTARG" >&2; exit 2 ;;
  esac
done
shift $((OPTIND-1))
clips=("$@")
[ -z "$codec" ] && [ ${#clips[@]} -gt 0 ] && codec=$(clip_codec "${clips[0]#$MEDIA/}")
codec=${codec:-h264}
codec_gst_chain "$codec" >/dev/null || { echo "run.sh: unknown codec $codec (h264 | hevc | vp9 | vp8 | mpeg2)" >&2; exit 2; }
case $variant in trixie|sid) ;; *) echo "run.sh: unknown VM variant $variant" >&2; exit 2 ;; esac
[ ${#clips[@]} -eq 0 ] && mapfile -t clips < <(codec_clips "$codec")
for c in "${clips[@]}"; do
  cc=$(clip_codec "${c#$MEDIA/}")
  if [ -n "$cc" ] && [ "$cc" != "$codec" ]; then
    echo "run.sh: $c is $cc in MANIFEST.tsv, not $codec (one codec per run: -c)" >&2; exit 2
  fi
done
[ -z "$gdir" ] && gdir=$ROOT/tests/golden/$codec
. "$ROOT/tests/vm/profile.sh"
VREQPLAY=${VREQPLAY:-$ROOT/$VM_PLAYER}
ORACLE=${VREQ_ORACLE:-$ROOT/target/debug/vreq-oracle}
mkdir -p "$out"
share=$(mktemp -d /tmp/vreq-oracle-share.XXXXXX)
trap 'rm -rf "$share"' EXIT
mkdir -p "$share/media"
cp "$HERE/guest-trace.sh" "$share/"
havevreq=0 tool=vreq vmmods=()
if [ $va = 1 ]; then
  # the VA driver under the name libva loads (<LIBVA_DRIVER_NAME>_drv_video.so)
  VA_DRIVER=${VA_DRIVER:-$ROOT/target/$VM_VA_PROFILE/libvreq_drv_video.so}
  [ -f "$VA_DRIVER" ] || { echo "run.sh: no VA driver at $VA_DRIVER (cargo build -p vreq-va)" >&2; exit 2; }
  mkdir -p "$share/va" && cp "$VA_DRIVER" "$share/va/vreq_drv_video.so"
  havevreq=1 tool=va vmmods=(-m "visl vgem")
elif [ $gstonly = 0 ]; then
  if [ -x "$VREQPLAY" ]; then cp "$VREQPLAY" "$share/vreqplay"; havevreq=1
  else echo "run.sh: no vreqplay binary at $VREQPLAY (cargo build?)" >&2; fi
fi
# one VM boot per batch of clips
i=0
while [ $i -lt ${#clips[@]} ]; do
  args=() names=()
  for c in "${clips[@]:$i:$batch}"; do
    src=$c; [ "${c#/}" = "$c" ] && src=$MEDIA/$c
    [ -f "$src" ] || { echo "run.sh: no clip $src" >&2; continue; }
    cp "$src" "$share/media/"
    n=$(basename "$src"); names+=("$n")
    rm -f "$out/$n".*   # no stale results from an earlier run in the report
    # out of scope (tests/oracle/out-of-scope.tsv): vreqplay must refuse it
    why=$(out_of_scope "${src#$MEDIA/}")
    # -A: also what cannot reach visl through VA (tests/oracle/va-out-of-scope.tsv)
    [ -z "$why" ] && [ $va = 1 ] && why=$(va_out_of_scope "${src#$MEDIA/}")
    [ -n "$why" ] && echo "$why" > "$out/$n.out-of-scope"
    # known difference (tests/oracle/known-differences.tsv): passes only with exactly that result
    # (-A: tests/oracle/va-clip-differences.tsv: ffmpeg's, not vreqplay's)
    if [ $va = 1 ]; then kd=$(va_clip_difference "${src#$MEDIA/}"); else kd=$(known_difference "${src#$MEDIA/}"); fi
    [ -n "$kd" ] && echo "$kd" > "$out/$n.known-difference"
    if [ $golden = 1 ]; then
      g=$gdir/$(echo "${src#$MEDIA/}" | sed 's#/#--#g').norm
      case $src in "$ROOT"/tests/data/h264-synthetic/*) g=$ROOT/tests/golden/h264/synthetic/$n.norm ;; esac
      if [ -f "$g" ]; then cp "$g" "$out/$n.golden.norm"; else echo "run.sh: no golden $g" >&2; fi
      # segment goldens (gen-golden.sh -s: the clip cut at its sequence
      # starts with a new size): the report compares per segment with them
      for sg in "$(dirname "$g")/segments/$(basename "$g" .norm)"--seg*.norm; do
        [ -f "$sg" ] && cp "$sg" "$out/$n.golden-seg${sg##*--seg}"
      done
    else
      args+=(gst "media/$n")
    fi
    # -A: an out-of-scope clip only needs to show that the hwaccel refuses
    # it: its first 10 frames (ffmpeg would decode the rest in software)
    t=$tool; [ $va = 1 ] && [ -n "$why" ] && t=va-probe:va
    [ $havevreq = 1 ] && args+=("$t" "media/$n")
  done
  i=$((i+batch))
  [ ${#args[@]} -eq 0 ] && continue
  t0=$(date +%s.%N)
  for try in 1 2; do   # exit 125: the VM never reported (rare early panic under TCG): retry once
    VREQPLAY=./vreqplay "$ROOT/tests/vm/$variant/run.sh" -T -t 1800 "${vmmods[@]+"${vmmods[@]}"}" "${modopts[@]+"${modopts[@]}"}" -s "$share" -- \
      bash guest-trace.sh -c "$codec" out "${args[@]}" 2> "$share/vm.err"
    rc=$?
    [ $rc -eq 125 ] || break
    echo "run.sh: VM did not report; retrying once" >&2
  done
  t1=$(date +%s.%N)
  grep 'vreq timing' "$share/vm.err" >&2
  [ $rc -ne 0 ] && { echo "run.sh: VM run failed rc=$rc:" >&2; tail -5 "$share/vm.err" >&2; }
  printf 'batch %s: wall %.1fs\n' "${names[*]}" "$(awk "BEGIN{print $t1-$t0}")" >> "$out/timings.txt"
  cp -r "$share/out/." "$out/" 2>/dev/null
  for z in "$out"/*.trace.gz; do [ -f "$z" ] && gunzip -f "$z"; done
  rm -rf "$share/out" "$share"/media/*
done
# frame counts from the host's ffprobe, then the comparison table
for c in "${clips[@]}"; do
  src=$c; [ "${c#/}" = "$c" ] && src=$MEDIA/$c
  n=$(basename "$src")
  # first line, first field: side data (e.g. stereo3d) adds empty columns
  [ -f "$out/$n.ffprobe" ] || ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=nb_read_frames -of csv=p=0 "$src" 2>/dev/null | sed -n '1{s/,.*//;p;}' > "$out/$n.ffprobe"
done
if [ -x "$ORACLE" ]; then
  if [ $va = 1 ]; then "$ORACLE" report --va-known "$HERE/va-known-differences.tsv" "$out"
  else "$ORACLE" report "$out"; fi
else
  echo "run.sh: no vreq-oracle binary at $ORACLE (cargo build -p vreq-oracle)" >&2
  cat "$out"/*.info 2>/dev/null
  exit 2
fi
