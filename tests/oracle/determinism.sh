#!/bin/bash
# determinism.sh [-c CODEC] [CLIP...] - decode each CLIP (of CODEC: h264 default | hevc | vp9 | vp8 | mpeg2) twice with GStreamer in one VM boot
# (visl reloaded between runs) and check the two normalised traces are
# identical (the raw traces differ: ftrace timestamps, pids, vb2 indices).
# Default clips: a B-pyramid MP4 and the long-term-reference Annex-B clip.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/clips.sh"
ORACLE=${VREQ_ORACLE:-$ROOT/target/debug/vreq-oracle}
codec=h264
if [ "${1:-}" = -c ]; then codec=$2; shift 2; fi
clips=("$@")
if [ ${#clips[@]} -eq 0 ]; then
  case $codec in
    h264) clips=(debian-src-firefox-esr/bunny_hd_5s.mp4 generated-by-us/foreman-ltr.openh264.h264) ;;
    hevc) clips=(crates-cros-codecs/bbb.h265) ;;
    vp9) clips=(debian-src-firefox-esr/vp9-superframes.webm) ;;
    vp8) clips=(debian-src-firefox-esr/bunny.webm) ;;
    mpeg2) clips=(remuxed-by-us/movie-hello.mpeg2.ts) ;;
  esac
fi
share=$(mktemp -d /tmp/vreq-det.XXXXXX); trap 'rm -rf "$share"' EXIT
mkdir -p "$share/media"; cp "$HERE/guest-trace.sh" "$share/"
args=()
for c in "${clips[@]}"; do cp "$MEDIA/$c" "$share/media/"; n=$(basename "$c"); args+=(gst "media/$n" gst:gst2 "media/$n"); done
"$ROOT/tests/vm/trixie/run.sh" -T -s "$share" -- bash guest-trace.sh -c "$codec" out "${args[@]}" || exit 2
rc=0
for c in "${clips[@]}"; do
  n=$(basename "$c"); gunzip -f "$share/out/$n".*.trace.gz
  "$ORACLE" normalise "$share/out/$n.gst.trace" -o "$share/a.norm" && "$ORACLE" normalise "$share/out/$n.gst2.trace" -o "$share/b.norm" || { rc=2; continue; }
  if cmp -s "$share/a.norm" "$share/b.norm"; then
    echo "$c: deterministic ($(grep -c ' picture = ' "$share/a.norm") jobs, normalised traces identical; raw traces $(cmp -s "$share/out/$n.gst.trace" "$share/out/$n.gst2.trace" && echo identical || echo differ))"
  else
    echo "$c: NOT deterministic: $("$ORACLE" compare "$share/a.norm" "$share/b.norm")"; rc=1
  fi
done
exit $rc
