#!/bin/bash
# make-loop-clip.sh OUT.mp4 [SECONDS] [RATE] - the clip of the VM's loopback
# check (tests/vm/audio-test.sh loop): H.264 (libx264, 320x240, 25 fps,
# ffmpeg's testsrc2) + AAC-LC (ffmpeg's native encoder, 160 kb/s, stereo, RATE
# Hz, default 48000) in MP4, SECONDS long (default 30), all from ffmpeg's lavfi
# sources, so the clip is made here and not stored.
# The sound must not repeat itself (the check finds the capture's lag by
# cross-correlation, and a periodic signal would match at many lags): each
# channel is a rising chirp of its own plus pink noise (fixed seeds), under a
# slow 0.5 Hz swell; left and right differ, so a swapped or merged pair shows.
# Deterministic for one ffmpeg build (-bitexact, fixed seeds, one thread).
set -euo pipefail
out=${1:?usage: make-loop-clip.sh OUT.mp4 [SECONDS] [RATE]}
secs=${2:-30} rate=${3:-48000}
a="aevalsrc=exprs='(0.25*sin(2*PI*(220+12*t)*t)+0.15*sin(2*PI*(1500-20*t)*t))*(0.6+0.4*sin(PI*t))|"
a+="(0.25*sin(2*PI*(330+9*t)*t)+0.15*sin(2*PI*(900+25*t)*t))*(0.6+0.4*cos(PI*t))':s=$rate:d=$secs[tone];"
a+="anoisesrc=c=pink:a=0.12:r=$rate:d=$secs:seed=7,aformat=channel_layouts=mono[n1];"
a+="anoisesrc=c=pink:a=0.12:r=$rate:d=$secs:seed=11,aformat=channel_layouts=mono[n2];"
a+="[n1][n2]join=inputs=2:channel_layout=stereo[noise];"
a+="[tone][noise]amix=inputs=2:normalize=0,aformat=sample_fmts=fltp:channel_layouts=stereo[a]"
ffmpeg -nostdin -v error -y -threads 1 \
  -f lavfi -i "testsrc2=s=320x240:r=25:d=$secs" \
  -filter_complex "$a" -map 0:v -map '[a]' \
  -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p \
  -c:a aac -b:a 160k -ar "$rate" -fflags +bitexact -flags:a +bitexact -movflags +faststart "$out"
