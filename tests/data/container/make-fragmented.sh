#!/bin/sh
# Regenerates the fragmented-MP4 test inputs of tests/container.rs (the media
# corpus has no fragmented MP4). Peer tool: ffmpeg 5.1, stream copy (no re-encode).
#   frag-test-25fps.mp4   from crates-cros-codecs/test-25fps.h264 (Chromium test
#                         clip, BSD-3-Clause): 250 frames, moov+mvex, one moof per
#                         keyframe (4), tfhd default-base-is-moof, raw input so pts = dts.
#   frag-foreman-2s.mp4   first 2 s (60 frames) of debian-src-firefox-esr/foreman.mp4
#                         (libwebrtc, BSD-3-Clause): B-frames (trun composition
#                         offsets), a moof every 0.5 s, tfhd with explicit base_data_offset.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
media=${VREQ_MEDIA:-$here/../../../../shared/media}
ffmpeg -v error -y -r 25 -i "$media/crates-cros-codecs/test-25fps.h264" -c copy \
  -movflags frag_keyframe+empty_moov+default_base_moof "$here/frag-test-25fps.mp4"
ffmpeg -v error -y -i "$media/debian-src-firefox-esr/foreman.mp4" -t 2 -c copy \
  -frag_duration 500000 -movflags empty_moov "$here/frag-foreman-2s.mp4"
