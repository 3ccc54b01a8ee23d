#!/bin/bash
# make-bench-clips.sh - the benchmark's clips (scripts/bench-vm.sh, issue 17):
# per codec, 240 frames of 1920x1080 at 30 fps, 4:2:0 8-bit, from ffmpeg's
# testsrc2 (moving pattern and counter: real inter prediction), encoded by the
# host's ffmpeg with its usual encoder per codec:
#   bench-h264.mkv   libx264 -preset veryfast, GOP 60, 2 B-frames
#   bench-hevc.mkv   libx265 -preset veryfast, GOP 60 (the "x265")
#   bench-mpeg2.mkv  mpeg2video 8 Mb/s, GOP 15, 2 B-frames
#   bench-vp8.webm   libvpx 4 Mb/s, GOP 60, realtime cpu-used 8
#   bench-vp9.webm   libvpx-vp9 profile 0, 4 Mb/s, GOP 60, realtime cpu-used 8
# Usage: tests/vm/make-bench-clips.sh OUTDIR   (made again only when this
# script is newer than a clip)
set -euo pipefail
out=${1:?usage: make-bench-clips.sh OUTDIR}
mkdir -p "$out"
src=(-f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=8" -pix_fmt yuv420p)
make() { # make NAME ENCODER-ARGS...
  local f=$out/$1; shift
  [ -s "$f" ] && [ "$f" -nt "$0" ] && return 0
  ffmpeg -nostdin -hide_banner -loglevel error -y "${src[@]}" "$@" "$f.tmp.${f##*.}"
  mv "$f.tmp.${f##*.}" "$f"
}
make bench-h264.mkv -c:v libx264 -preset veryfast -g 60 -bf 2
make bench-hevc.mkv -c:v libx265 -preset veryfast -x265-params keyint=60:log-level=error
make bench-mpeg2.mkv -c:v mpeg2video -b:v 8M -g 15 -bf 2
make bench-vp8.webm -c:v libvpx -b:v 4M -g 60 -deadline realtime -cpu-used 8
make bench-vp9.webm -c:v libvpx-vp9 -profile:v 0 -b:v 4M -g 60 -deadline realtime -cpu-used 8 -row-mt 1
ls "$out"
