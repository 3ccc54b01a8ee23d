#!/bin/bash
# gen-golden.sh [-c CODEC] [-S|-s] [-d TRACEDIR] [-m MAXBYTES] [-D GOLDENDIR] [-V VARIANT] [-O MODOPTS]... [CLIP...]
# (Re)generate the golden normalised traces tests/golden/CODEC/<dir>--<clip>.norm
# from GStreamer ONLY. CODEC: h264 (default) | hevc | vp9 | vp8 | mpeg2 (GStreamer's
# v4l2slh264dec / v4l2slh265dec / v4l2slvp9dec / v4l2slvp8dec / v4l2slmpeg2dec). -D: write the goldens (and
# REFUSED.txt) to GOLDENDIR instead; -V/-O: VM variant and module options as
# for run.sh (e.g. -c hevc -V sid -O 'visl hevc_ext_sps_rps=0' -D tests/golden/hevc-sid/noext).
# -S: the synthetic streams instead (CLIP default: tests/data/h264-synthetic/*.h264,
# paths relative to the repo root, written by make-synthetic.sh) → goldens
# tests/golden/h264/synthetic/<clip file name>.norm (+ its own REFUSED.txt).
# -s: segment goldens for clips that change resolution mid-stream (CLIP
# required): tests/oracle/segment.py cuts each CLIP at every sequence start
# with a new size into self-contained files (IVF / Annex-B, coded bytes
# unchanged), GStreamer decodes each from a fresh start, and each golden is
# GOLDENDIR/segments/<dir>--<clip>--segNN.norm (header: the clip and its
# sha256, `segment NN of K: frames A..B WxH file F sha256 S`, GStreamer vs
# ffprobe frames of the segment file; `PARTIAL` when GStreamer stopped).
# -d with -s: TRACEDIR must hold the segment traces and the cut files'
# list `<clip file name>.segments` (kept by an earlier -s run in its TRACEDIR).
# Without -d, decodes every CLIP (default: all CODEC clips of MANIFEST.tsv, MPEG-TS
# too) in the VM with GStreamer's v4l2slh264dec on visl (run.sh -g); with
# -d, reuses the GStreamer traces of an earlier `run.sh -g -o TRACEDIR`.
# A golden is written only when gst-launch exited 0 and output frames; each
# starts with header lines naming GStreamer version, kernel, clip path, sha256
# and frame count; goldens larger than MAXBYTES (default 2000000) keep only the
# first N jobs (`# cap N of M jobs`). Clips GStreamer refused or stopped on
# are listed in tests/golden/CODEC/REFUSED.txt with what gst-launch printed;
# a stopped decode that output frames still gets a golden of the jobs it ran
# (header `PARTIAL`, capped at that job count).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/clips.sh"
tdir= max=2000000 synth=0 segs=0 codec=h264 gdir= variant=trixie vmopts=()
while getopts ":c:Ssd:m:D:V:O:h" opt; do
  case $opt in
    c) codec=$OPTARG ;; S) synth=1 ;; s) segs=1 ;; d) tdir=$OPTARG ;; m) max=$OPTARG ;;
    D) gdir=$OPTARG ;; V) variant=$OPTARG ;; O) vmopts+=(-O "$OPTARG") ;;
    h) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "gen-golden.sh: bad option -$OPTARG" >&2; exit 2 ;;
  esac
done
shift $((OPTIND-1))
clips=("$@")
chain=$(codec_gst_chain "$codec") || { echo "gen-golden.sh: unknown codec $codec" >&2; exit 2; }
if [ $synth = 1 ]; then
  [ "$codec" = h264 ] || { echo "gen-golden.sh: -S is H.264 only" >&2; exit 2; }
  # clip paths relative to the repo root; golden name = clip file name
  base=$ROOT gold=$ROOT/tests/golden/h264/synthetic
  [ ${#clips[@]} -eq 0 ] && mapfile -t clips < <(cd "$ROOT" && ls tests/data/h264-synthetic/*.h264)
  golden_name() { basename "$1"; }
else
  base=$MEDIA gold=${gdir:-$ROOT/tests/golden/$codec}
  [ ${#clips[@]} -eq 0 ] && mapfile -t clips < <(codec_clips "$codec")
  golden_name() { echo "$1" | sed 's#/#--#g'; }
fi
ORACLE=${VREQ_ORACLE:-$ROOT/target/debug/vreq-oracle}
[ -x "$ORACLE" ] || (cd "$ROOT" && cargo build -q -p vreq-oracle --bin vreq-oracle) || exit 2
if [ $segs = 1 ]; then
  [ ${#clips[@]} -gt 0 ] || { echo "gen-golden.sh: -s needs CLIPs" >&2; exit 2; }
  [ $synth = 0 ] || { echo "gen-golden.sh: -s and -S exclude each other" >&2; exit 2; }
  gold=${gdir:-$ROOT/tests/golden/$codec}/segments
  if [ -z "$tdir" ]; then
    tdir=$(mktemp -d /tmp/vreq-golden-seg.XXXXXX)
    runfiles=()
    for c in "${clips[@]}"; do
      n=$(basename "$c")
      python3 "$HERE/segment.py" "$MEDIA/$c" "$tdir/cut" > "$tdir/$n.segments" || exit 1
      while IFS=$'\t' read -r f a b wh; do runfiles+=("$tdir/cut/$f"); done < "$tdir/$n.segments"
    done
    "$HERE/run.sh" -c "$codec" -V "$variant" "${vmopts[@]+"${vmopts[@]}"}" -b 8 -g -o "$tdir" "${runfiles[@]}" >/dev/null || true
  fi
  mkdir -p "$gold"
  env=$(cat "$tdir/env.txt" 2>/dev/null)
  rc=0
  for c in "${clips[@]}"; do
    n=$(basename "$c")
    list=$tdir/$n.segments
    [ -f "$list" ] || { echo "gen-golden: no segment list $list" >&2; rc=1; continue; }
    sha=$(sha256sum "$MEDIA/$c" | cut -d' ' -f1)
    k=$(wc -l < "$list")
    rm -f "$gold/$(golden_name "$c")"--seg*.norm
    i=0
    while IFS=$'\t' read -r f a b wh; do
      seg=${f##*--seg}; seg=${seg%%.*}
      out=$gold/$(golden_name "$c")--seg$seg.norm
      info=$tdir/$f.gst.info
      [ -f "$info" ] || { echo "gen-golden: no GStreamer run for $f in $tdir" >&2; rc=1; continue; }
      grc=$(tr ' ' '\n' < "$info" | sed -n 's/^rc=//p')
      frames=$(tr ' ' '\n' < "$info" | sed -n 's/^frames=//p')
      file=$tdir/cut/$f
      ff=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$file" 2>/dev/null | sed -n '1{s/,.*//;p;}')
      fsha=$(sha256sum "$file" | cut -d' ' -f1)
      hdr=(--header "generated by tests/oracle/gen-golden.sh -s from GStreamer only: gst-launch-1.0 ... $chain ! fakesink on visl; $env"
           --header "clip $c sha256 $sha"
           --header "segment $seg of $k: frames $a..$b $wh file $f sha256 $fsha (cut by tests/oracle/segment.py)"
           --header "gst frames $frames ffprobe frames $ff")
      partial=()
      if [ "$grc" != 0 ] || [ "${frames:-0}" = 0 ]; then
        msg=$(grep -E '^ERROR|failed' "$tdir/$f.gst.log" | head -3 | tr '\n' ' ')
        echo "gen-golden: $f: gst-launch exited $grc after ${frames:-0} frames: $msg" >&2
        rc=1
        if [ "${frames:-0}" = 0 ]; then rm -f "$out"; continue; fi
        hdr+=(--header "PARTIAL: gst-launch exited $grc after $frames frames: $msg")
        partial=(--cap 1000000000)
      fi
      "$ORACLE" normalise "$tdir/$f.gst.trace" "${hdr[@]}" "${partial[@]}" -o "$out" || { rc=1; continue; }
      echo "$c segment $seg ($a..$b $wh): gst frames $frames ffprobe $ff, $(grep -c ' picture = ' "$out") jobs, $(stat -c %s "$out") bytes"
      i=$((i+1))
    done < "$list"
  done
  exit $rc
fi
if [ -z "$tdir" ]; then
  tdir=$(mktemp -d /tmp/vreq-golden.XXXXXX)
  runclips=("${clips[@]}")   # run.sh: relative to the media dir, or absolute
  [ $synth = 1 ] && runclips=("${clips[@]/#/$ROOT/}")
  "$HERE/run.sh" -c "$codec" -V "$variant" "${vmopts[@]+"${vmopts[@]}"}" -g -o "$tdir" "${runclips[@]}" >/dev/null || true
fi
mkdir -p "$gold"
env=$(cat "$tdir/env.txt" 2>/dev/null)
refused=$gold/REFUSED.txt
{ echo "# $codec clips GStreamer (${chain##* } on visl) did not decode completely; $env"
  echo "# clip | gst-launch exit | frames output | ffprobe frames | last lines gst-launch printed"; } > "$refused.new"
rc=0
for c in "${clips[@]}"; do
  n=$(basename "$c")
  out=$gold/$(golden_name "$c").norm
  info=$tdir/$n.gst.info
  [ -f "$info" ] || { echo "gen-golden: no GStreamer run for $c in $tdir" >&2; rc=1; continue; }
  grc=$(tr ' ' '\n' < "$info" | sed -n 's/^rc=//p')
  frames=$(tr ' ' '\n' < "$info" | sed -n 's/^frames=//p')
  ff=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$base/$c" 2>/dev/null | sed -n '1{s/,.*//;p;}')
  sha=$(sha256sum "$base/$c" | cut -d' ' -f1)
  hdr=(--header "generated by tests/oracle/gen-golden.sh from GStreamer only: gst-launch-1.0 ... $chain ! fakesink on visl; $env"
       --header "clip $c sha256 $sha"
       --header "gst frames $frames ffprobe frames $ff")
  partial=()
  if [ "$grc" != 0 ] || [ "${frames:-0}" = 0 ]; then
    msg=$(grep -E '^ERROR|failed' "$tdir/$n.gst.log" | head -3 | tr '\n' ' ')
    echo "$c | $grc | ${frames:-0} | $ff | $msg" >> "$refused.new"
    if [ "${frames:-0}" = 0 ]; then rm -f "$out"; continue; fi
    # partial decode: the golden covers exactly the jobs GStreamer ran
    hdr+=(--header "PARTIAL: gst-launch exited $grc after $frames frames: $msg")
    partial=(--cap 1000000000)
  fi
  "$ORACLE" normalise "$tdir/$n.gst.trace" "${hdr[@]}" "${partial[@]}" -o "$out" || { rc=1; continue; }
  size=$(stat -c %s "$out")
  if [ "$size" -gt "$max" ]; then
    jobs=$(grep -c ' picture = ' "$out")
    cap=$(awk -v s="$size" -v m="$max" -v j="$jobs" 'BEGIN{printf "%d", j*m/s*0.98}')
    "$ORACLE" normalise "$tdir/$n.gst.trace" "${hdr[@]}" --cap "$cap" -o "$out" || { rc=1; continue; }
  fi
  echo "$c: $(grep -c ' picture = ' "$out") jobs, $(stat -c %s "$out") bytes$(grep -m1 '^# cap' "$out" | sed 's/^#/,/')"
done
mv "$refused.new" "$refused"
exit $rc
