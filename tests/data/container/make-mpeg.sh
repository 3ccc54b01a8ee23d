#!/bin/sh
# Makes the synthetic MPEG clips crates/container/tests/seek_mpeg.rs reads
# (into OUT: the test passes its CARGO_TARGET_TMPDIR/seek-mpeg; default .): 10 s of lavfi testsrc
# (160x120, 25 fps, a keyframe every 25 frames, B-frames) + a sine, with
# ffmpeg (5.1 on the host):
#   h264-aac.ts      H.264 (stream_type 0x1B) + AAC ADTS (0x0F)
#   h264-aac.m2ts    the same streams (-c copy) as 192-byte BDAV / M2TS
#   h264-opengop.ts  H.264 with open GOPs: one IDR, then I pictures marked by
#                    recovery point SEI messages (x264 open-gop=1)
#   hevc-mp2.ts      HEVC (0x24) + MP2 (0x03)
#   h264-ac3dvb.ts   H.264 + AC-3 as DVB does it (system_b: stream_type 0x06
#                    with the AC-3 descriptor 0x6A)
#   mpeg2-mp2.ts     MPEG-2 video + MP2
#   mpeg2-mp2.mpg    the same as an MPEG-2 program stream
#   wrap.ts          H.264 + AAC whose PTS pass 2^33 (the 33-bit wrap) ~2 s in
#                    (-output_ts_offset 95440 s; 2^33 / 90 kHz = 95443.7 s)
#   discont.ts       two 5 s TS files back to back, the second 1000 s later
#                    (a time base jump without discontinuity_indicator)
#   mpeg2.m2v        MPEG-2 video elementary stream
#   h264.h264        H.264 Annex-B elementary stream
set -eu
out=${1:-.}
mkdir -p "$out"
v="-f lavfi -i testsrc=size=160x120:rate=25:duration=10"
a="-f lavfi -i sine=frequency=440:duration=10:sample_rate=48000"
x264="-c:v libx264 -preset veryfast -g 25 -keyint_min 25 -sc_threshold 0 -bf 2 -pix_fmt yuv420p"
ff() { ffmpeg -v error -y "$@"; }
# shellcheck disable=SC2086
{
ff $v $a $x264 -c:a aac -b:a 64k -f mpegts "$out/h264-aac.ts"
ff -i "$out/h264-aac.ts" -c copy -f mpegts -mpegts_m2ts_mode 1 "$out/h264-aac.m2ts"
ff $v $x264 -x264-params open-gop=1 -f mpegts "$out/h264-opengop.ts"
ff $v $a -c:v libx265 -preset veryfast -x265-params keyint=25:min-keyint=25:scenecut=0:bframes=2:log-level=error \
    -pix_fmt yuv420p -c:a mp2 -b:a 128k -f mpegts "$out/hevc-mp2.ts"
ff $v $a $x264 -c:a ac3 -b:a 96k -f mpegts -mpegts_flags system_b "$out/h264-ac3dvb.ts"
ff $v $a -c:v mpeg2video -g 12 -bf 2 -b:v 300k -c:a mp2 -b:a 128k -f mpegts "$out/mpeg2-mp2.ts"
ff $v $a -c:v mpeg2video -g 12 -bf 2 -b:v 300k -c:a mp2 -b:a 128k -f vob "$out/mpeg2-mp2.mpg"
ff $v $a $x264 -c:a aac -b:a 64k -f mpegts -output_ts_offset 95440 "$out/wrap.ts"
ff $v $a $x264 -c:a aac -b:a 64k -t 5 -f mpegts "$out/d1.ts"
ff $v $a $x264 -c:a aac -b:a 64k -t 5 -f mpegts -output_ts_offset 1000 "$out/d2.ts"
cat "$out/d1.ts" "$out/d2.ts" > "$out/discont.ts"
rm -f "$out/d1.ts" "$out/d2.ts"
ff $v -c:v mpeg2video -g 12 -bf 2 -b:v 300k -f mpeg2video "$out/mpeg2.m2v"
ff $v $x264 -f h264 "$out/h264.h264"
}
