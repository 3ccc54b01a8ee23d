#!/bin/sh
# make-big-ts.sh SIZE_GB OUT [CLIP]
# Makes a multi-GB MPEG transport stream OUT by repeating a short clip
# (default: the corpus' debian-src-firefox-esr/bunny_hd_5s.mp4, 720p H.264 +
# AAC, from $VREQ_MEDIA or /work/shared/media) with ffmpeg: -stream_loop -1
# -c copy into the mpegts muxer, stopped at SIZE_GB GiB (-fs). ffmpeg offsets
# each repetition's timestamps by the clip's duration (so PTS / DTS / PCR grow
# monotonically; the 33-bit wrap comes after 26.5 h), and the mpegts muxer
# writes its own PAT / PMT, PCR and continuity counters. The result is
# checked with ffprobe: its duration (last − first timestamp, from the
# tail) ≈ repetitions × clip duration.
# Not for CI (minutes, GBs); the numbers go into the issue's note.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SIZE_GB OUT [CLIP]" >&2; exit 2; }
size=$1 out=$2
clip=${3:-${VREQ_MEDIA:-/work/shared/media}/debian-src-firefox-esr/bunny_hd_5s.mp4}
bytes=$(awk -v g="$size" 'BEGIN{printf "%.0f", g*1024*1024*1024}')
ffmpeg -v error -y -stream_loop -1 -i "$clip" -map 0 -c copy -f mpegts -fs "$bytes" "$out"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
# ffprobe's TS duration: last - first timestamp (it reads the file's tail).
total=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out")
echo "$out: $(stat -c %s "$out") bytes; clip $dur s; TS duration $total s ($(awk -v t="$total" -v d="$dur" 'BEGIN{printf "%.1f", t/d}') repetitions)"
