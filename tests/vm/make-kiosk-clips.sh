#!/bin/bash
# make-kiosk-clips.sh OUTDIR - the clips tests/vm/kiosk-test.sh plays on vkms.
#
# One short clip per codec the player decodes on visl, made with the host's
# ffmpeg from testsrc2 (the pictures do not matter: visl draws its colour bars
# whatever the bitstream says; the headers do — size, crop, frame count):
#   h264.mp4     H.264 (libx264)   640x360, coded 640x368 (SPS frame cropping)
#   hevc.mkv     HEVC (libx265)    320x240
#   vp8.webm     VP8 (libvpx)      352x288
#   vp9.webm     VP9 (libvpx-vp9)  384x216
#   mpeg2.mkv    MPEG-2 (mpeg2video) 480x320
# each 2 s at 25 fps (50 frames), square pixels, small enough for TCG; and
#   pace-h264.mp4  H.264 320x240, 10 s at 25 fps (250 frames), for the pacing
#                  and SIGTERM cases.
# Writes OUTDIR/clips.tsv: file, codec, displayed WxH, frames (ffprobe
# -count_frames: the number the checks compare with, never the numbers above).
# Reuses a clip already in OUTDIR.
set -euo pipefail
out=${1:?usage: make-kiosk-clips.sh OUTDIR}
mkdir -p "$out"
mk() { # FILE SIZE SECONDS CODEC-ARGS...
  local f=$1 size=$2 secs=$3; shift 3
  [ -s "$out/$f" ] && return 0
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=$size:rate=25:duration=$secs" \
    -pix_fmt yuv420p "$@" "$out/$f.tmp.${f##*.}"
  mv "$out/$f.tmp.${f##*.}" "$out/$f"
}
mk h264.mp4 640x360 2 -c:v libx264 -preset ultrafast -g 25
mk hevc.mkv 320x240 2 -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=25
mk vp8.webm 352x288 2 -c:v libvpx -b:v 300k -g 25
mk vp9.webm 384x216 2 -c:v libvpx-vp9 -b:v 300k -g 25 -row-mt 0
mk mpeg2.mkv 480x320 2 -c:v mpeg2video -b:v 1M -g 12
mk pace-h264.mp4 320x240 10 -c:v libx264 -preset ultrafast -g 25
{
  for f in h264.mp4 hevc.mkv vp8.webm vp9.webm mpeg2.mkv pace-h264.mp4; do
    IFS=, read -r codec w h sar n < <(ffprobe -v error -count_frames -select_streams v:0 \
      -show_entries stream=codec_name,width,height,sample_aspect_ratio,nb_read_frames -of csv=p=0 "$out/$f")
    case $sar in 1:1|0:1|N/A|'') ;; *) echo "make-kiosk-clips: $f has SAR $sar, want square pixels" >&2; exit 1 ;; esac
    printf '%s\t%s\t%sx%s\t%s\n' "$f" "$codec" "$w" "$h" "$n"
  done
} > "$out/clips.tsv"
cat "$out/clips.tsv"
