#!/bin/bash
# Regenerates the golden control dumps in this folder from GStreamer 1.26.2's
# v4l2slh264dec on visl (the oracle), in the project VM. Run from the repo root:
#   src/codec/h264/testdata/regen.sh
# Each <clip>.gst.delta is `gst2flat.py <trace> --delta`: the per-request
# control state visl traced, reference timestamps mapped to picture ordinals,
# only what changed since the previous request.
set -eu
HERE=src/codec/h264/testdata
D=$(mktemp -d)
media=${VREQ_MEDIA:-}
if [ -z "$media" ]; then
  dir=$(pwd)
  while [ "$dir" != / ]; do
    [ -f "$dir/shared/media/MANIFEST.tsv" ] && { media=$dir/shared/media; break; }
    dir=$(dirname "$dir")
  done
fi
for f in crates-cros-codecs/64x64-I-P-B-P-high.h264 debian-libvpl-examples/cars_320x240.h264 \
         generated-by-us/foreman-ltr.openh264.h264 crates-oxideav-h264/mbaff_spatial_direct_320x192.h264 \
         debian-src-firefox-esr/wpt-webcodecs-h264.annexb.h264; do
  cp "$media/$f" "$D/"
done
# the synthetic streams (PAFF fields; long-term/MMCO/gaps/modifications)
VREQ_H264_DUMP=$D cargo test -q --lib codec::h264::tests:: >/dev/null
rm -f "$D"/*.ours
cat > "$D/run.sh" <<'EOS'
T=/sys/kernel/tracing
echo 65536 > $T/buffer_size_kb
echo 1 > $T/events/visl_h264_controls/enable
echo 1 > $T/events/v4l2/v4l2_qbuf/enable
for f in *.h264; do
  echo > $T/trace
  echo 1 > $T/tracing_on
  timeout 300 gst-launch-1.0 -q --gst-disable-segtrap filesrc location=$f ! h264parse ! v4l2slh264dec ! fakesink > $f.log 2>&1
  echo 0 > $T/tracing_on
  cat $T/trace > $f.trace
done
EOS
tests/vm/trixie/run.sh -T -s "$D" -- bash run.sh
for t in "$D"/*.h264.trace; do
  python3 "$HERE/../gst2flat.py" "$t" --delta > "$HERE/$(basename "$t" .trace).gst.delta"
done
ls -l "$HERE"
