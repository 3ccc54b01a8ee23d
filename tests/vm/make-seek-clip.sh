#!/bin/bash
# make-seek-clip.sh OUT.mkv - the clip tests/vm/session-test.sh seeks in.
#
# 30 s of ffmpeg's testsrc2 at 160x120, 30 fps (900 frames), HEVC (libx265),
# Matroska with Cues, and four chapters (0, 8, 16, 24 s). Chosen so that the
# frame on screen can be read back from visl's stamp and the arithmetic of a
# keyframe seek is exact:
#   * no B-frames (bframes=0): decode order = display order;
#   * a keyframe every 40 frames (keyint=min-keyint=40, scenecut=0): at
#     0, 1.333, 2.667, 4.0 ... s, so a +-5 s seek lands between keyframes and
#     "the keyframe <= target" differs from the target frame and from "the
#     next keyframe";
#   * open GOP (open-gop=1): keyframes after the first are CRA pictures, which do
#     not restart the picture order count, with 16-bit POC LSBs
#     (log2-max-poc-lsb=16): frame k of the clip carries POC k, also when decoding
#     starts at that CRA (H.265 8.3.1: PicOrderCntMsb = 0 there, k < 2^15) —
#     the number visl stamps as "HEVC: k" (tests/vm/check-visl-stamp.py). A CRA
#     has no leading pictures without B-frames, so nothing is skipped after it;
#   * 160x120: shown scaled to fit a 640x480 output, exactly 4x, visl's stamp
#     (picture y 48..63) lands at window y 192..255, below the player's OSD text
#     block in the window's top-left corner ("Paused", the seek time: about 100
#     px at 640x480), which covers it when the picture is shown 1:1;
#   * chapters on keyframes (8 s = frame 240, 16 s = 480, 24 s = 720): a chapter
#     seek shows the chapter's first frame whether the player seeks to it by
#     keyframe or precisely (mpv's default --hr-seek=default is precise there).
# Deterministic enough for the test: the expectations are computed from this
# file's own ffprobe frame list, never from the numbers above.
set -euo pipefail
out=${1:?usage: make-seek-clip.sh OUT.mkv}
meta=$(mktemp); trap 'rm -f "$meta"' EXIT
{
  echo ';FFMETADATA1'
  for c in "0 8000 Start" "8000 16000 A" "16000 24000 B" "24000 30000 C"; do
    read -r s e t <<< "$c"
    printf '[CHAPTER]\nTIMEBASE=1/1000\nSTART=%s\nEND=%s\ntitle=%s\n' "$s" "$e" "$t"
  done
} > "$meta"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x120:rate=30:duration=30 \
  -i "$meta" -map 0:v -map_metadata 1 -map_chapters 1 \
  -c:v libx265 -preset ultrafast -pix_fmt yuv420p \
  -x265-params keyint=40:min-keyint=40:scenecut=0:bframes=0:open-gop=1:log2-max-poc-lsb=16:log-level=error \
  "$out"
