#!/bin/sh
# Regenerates the seek-test inputs of crates/container/tests/seek_index.rs,
# crates/container/src/mkv.rs's tests and tests/seek.rs (the corpus has no
# Matroska file without Cues, none with chapters, no MP4 with chapters and no
# WebM VP9 with more than one keyframe). Peer tool: ffmpeg 5.1.
#   h264 source: 12 s of lavfi testsrc (128x96, 25 fps) + a 440 Hz sine,
#   libx264 (a keyframe every 10 frames, 2 B-frames) + AAC, encoded once:
#   nocues-h264.mkv     stream copy written to a pipe: ffmpeg's matroska muxer
#                       writes Cues only when the output is seekable, so this
#                       file has none (and an unknown-size Segment).
#   chapters-h264.mkv   with Cues and three chapters from an FFMETADATA file
#                       (ChapterTimeStart 0, 4.5 s, 10 s; titles "Opening",
#                       "Middle", "End").
#   chapters-h264.mp4   the same as MP4 (Nero `chpl` in `udta`, and a
#                       QuickTime chapter text track).
#   vp9-kf25.webm       crates-cros-codecs/test-25fps.vp9.ivf (Chromium test
#                       clip, BSD-3-Clause) re-encoded with libvpx-vp9, a
#                       keyframe every 25 frames (10 in 250), with Cues.
#   nocues-vp9-kf25.webm  the same, stream copy through a pipe (no Cues).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
media=${VREQ_MEDIA:-$here/../../../../shared/media}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -v error -y -f lavfi -i testsrc=size=128x96:rate=25:duration=12 \
  -f lavfi -i sine=frequency=440:duration=12:sample_rate=48000 \
  -c:v libx264 -g 10 -keyint_min 10 -sc_threshold 0 -bf 2 -crf 32 -pix_fmt yuv420p \
  -c:a aac -b:a 32k -ac 1 "$tmp/src.mkv"
ffmpeg -v error -y -i "$tmp/src.mkv" -map 0 -c copy -f matroska pipe: >"$here/nocues-h264.mkv"
cat >"$tmp/chapters.txt" <<'META'
;FFMETADATA1
[CHAPTER]
TIMEBASE=1/1000
START=0
END=4500
title=Opening
[CHAPTER]
TIMEBASE=1/1000
START=4500
END=10000
title=Middle
[CHAPTER]
TIMEBASE=1/1000
START=10000
END=12000
title=End
META
for ext in mkv mp4; do
  ffmpeg -v error -y -i "$tmp/src.mkv" -i "$tmp/chapters.txt" \
    -map 0 -map_metadata 1 -map_chapters 1 -c copy "$here/chapters-h264.$ext"
done
ffmpeg -v error -y -i "$media/crates-cros-codecs/test-25fps.vp9.ivf" -c:v libvpx-vp9 \
  -g 25 -keyint_min 25 -deadline realtime -cpu-used 8 -b:v 80k "$here/vp9-kf25.webm"
ffmpeg -v error -y -i "$here/vp9-kf25.webm" -c copy -f webm pipe: >"$here/nocues-vp9-kf25.webm"
