#!/bin/bash
# make-lipsync-clip.sh OUT.mp4 [SECONDS] - the lip-sync clip (issue 12, "Lip
# sync, measured outside the player"; tests/vm/audio-test.sh lipsync): at every
# whole second k = 0 .. SECONDS-1 one white video frame (pts k s) and a 1 kHz
# beep of 50 ms starting at k s; black frames and silence between. H.264
# (libx264, 320x240, 25 fps) + AAC-LC (ffmpeg's native encoder, 48000 Hz
# stereo, 128 kb/s) in MP4; SECONDS defaults to 12. Made from ffmpeg's lavfi
# sources, deterministic for one ffmpeg build (-bitexact, one thread).
# The beep starts at sine phase 0 (sin(2 pi 1000 t) is 0 at whole seconds), so
# its onset is sharp; tests/vm/check-lipsync.py finds it in ffmpeg's own decode
# of this file too and subtracts that detector bias.
set -euo pipefail
out=${1:?usage: make-lipsync-clip.sh OUT.mp4 [SECONDS]}
secs=${2:-12}
ffmpeg -nostdin -v error -y -threads 1 \
  -f lavfi -i "color=c=black:s=320x240:r=25:d=$secs,format=yuv420p,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(mod(n\,25)\,0)'" \
  -f lavfi -i "aevalsrc=exprs='0.5*sin(2*PI*1000*t)*lt(mod(t\,1)\,0.05)':s=48000:d=$secs,aformat=channel_layouts=stereo" \
  -map 0:v -map 1:a -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p \
  -c:a aac -b:a 128k -fflags +bitexact -flags:a +bitexact -movflags +faststart "$out"
