#!/bin/sh
# Regenerates the seek-test inputs of crates/container/tests/seek_index.rs and
# tests/seek.rs (the corpus has no Matroska file without Cues, none with
# chapters, and no WebM VP9 with more than one keyframe). Peer tool: ffmpeg 5.1.
#   nocues-15s.mkv      debian-src-qt6-multimedia/15s.mkv (H.264 + AAC, 30
#                       keyframes in 11 clusters), stream copy written to a
#                       pipe: ffmpeg's matroska muxer writes Cues only when the
#                       output is seekable, so this file has none (and an
#                       unknown-size Segment).
#   chapters-15s.mkv    the same with Cues and three chapters from an
#                       FFMETADATA file (ChapterTimeStart 0, 4.5 s, 10 s; titles
#                       "Opening", "Middle", "End").
#   vp9-kf25.webm       crates-cros-codecs/test-25fps.vp9.ivf (Chromium test
#                       clip, BSD-3-Clause) re-encoded with libvpx-vp9, a
#                       keyframe every 25 frames (10 in 250), with Cues.
#   nocues-vp9-kf25.webm  the same, stream copy through a pipe (no Cues).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
media=${VREQ_MEDIA:-$here/../../../../shared/media}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -v error -y -i "$media/debian-src-qt6-multimedia/15s.mkv" -map 0 -c copy \
  -f matroska pipe: >"$here/nocues-15s.mkv"
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
END=15000
title=End
META
ffmpeg -v error -y -i "$media/debian-src-qt6-multimedia/15s.mkv" -i "$tmp/chapters.txt" \
  -map 0 -map_metadata 1 -map_chapters 1 -c copy "$here/chapters-15s.mkv"
ffmpeg -v error -y -i "$media/crates-cros-codecs/test-25fps.vp9.ivf" -c:v libvpx-vp9 \
  -g 25 -keyint_min 25 -deadline realtime -cpu-used 8 -b:v 80k "$here/vp9-kf25.webm"
ffmpeg -v error -y -i "$here/vp9-kf25.webm" -c copy -f webm pipe: >"$here/nocues-vp9-kf25.webm"
