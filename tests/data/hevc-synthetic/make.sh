#!/bin/bash
# make.sh - the synthetic HEVC streams the corpus lacks (run from this folder;
# needs ffmpeg with libx265; Debian ffmpeg 7:5.1 / x265 3.5 made the committed ones):
#   slices-scaling.h265  4 slices per picture, default scaling lists (SPS flag,
#                        no list data), open GOP, B-frames
#   weighted.h265        fades: explicit weighted prediction (P and B)
#   cra-start.h265       starts at a mid-stream CRA whose leading pictures are
#                        RASL (NoRaslOutputFlag: they must not be decoded)
# and frames.txt: `ffprobe -count_frames` of each (the peer's count).
set -eu
x() { ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$1" -frames:v "$2" -c:v libx265 \
      -x265-params "$3:log-level=error" -f hevc "$4"; }
x testsrc2=size=320x240:rate=25 24 \
  "slices=4:scaling-list=default:keyint=12:min-keyint=12:open-gop=1:bframes=3" slices-scaling.h265
x "testsrc2=size=320x240:rate=25,fade=in:0:12,fade=out:12:12" 24 \
  "weightp=1:weightb=1:bframes=3:keyint=24" weighted.h265
x testsrc2=size=320x240:rate=25 40 \
  "keyint=16:min-keyint=16:open-gop=1:bframes=4:b-pyramid=1" opengop.tmp.h265
python3 - <<'P'
import re
d = open('opengop.tmp.h265', 'rb').read()
starts = [m.start() for m in re.finditer(b'\x00\x00\x01', d)]
nals = []
for s in starts:
    nals.append((s - 1 if s > 0 and d[s - 1] == 0 else s, (d[s + 3] >> 1) & 0x3f))
first_non_ps = next(s for s, t in nals if t not in (32, 33, 34))
cra = [i for i, (s, t) in enumerate(nals) if t == 21][1]
while nals[cra - 1][1] in (32, 33, 34, 35, 39):  # its parameter sets / AUD / SEI
    cra -= 1
open('cra-start.h265', 'wb').write(d[:first_non_ps] + d[nals[cra][0]:])
P
rm opengop.tmp.h265
for f in slices-scaling.h265 weighted.h265 cra-start.h265; do
  echo "$f $(ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=nb_read_frames -of csv=p=0 "$f")"
done > frames.txt
cat frames.txt
