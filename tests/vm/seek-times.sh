#!/bin/bash
# seek-times.sh - time per seek on visl, per container (a measurement for the
# notes, not a tier check: its numbers depend on the host's load under TCG).
#
# Usage: tests/vm/seek-times.sh [-o OUTDIR] [-n TARGETS]
# One VM boot (visl). For one clip per container (corpus and
# tests/data/container clips), TARGETS positions (default 9: 10 %, 20 %, ...
# 90 % of the duration) are played with
#   vreqplay --vo null --no-audio --start=N% --frames 1 --hr-seek=no|yes -v
# and the player's own line "seek to T ns: first frame pts P ns shown after
# X ms" (src/player: from the seek request to the first frame handed to the
# sink, the demuxer's seek and the decode from the keyframe included) is
# collected. A --start seek is a cold one (the device is configured by the
# first picture after it), so these are upper bounds for a seek during
# playback. Prints per container and mode: seeks, median / max ms, and the
# error: keyframe (--hr-seek=no) how far before the target the shown frame is
# (the distance back to the keyframe); precise (yes) how far after it (< one
# frame). Each run must exit 0 and log the line, else the script exits 1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
OUT=/tmp/vreq-seek-times
N=9
while getopts o:n: o; do
  case $o in o) OUT=$OPTARG ;; n) N=$OPTARG ;; *) exit 2 ;; esac
done
MEDIA=${VREQ_MEDIA:-$ROOT/../shared/media}
mkdir -p "$OUT" target/vm-media/seek
clips=(
  "mp4|debian-src-firefox-esr/gizmo.mp4"
  "fragmented mp4|@frag-test-25fps.mp4"
  "mkv (Cues)|debian-src-qt6-multimedia/15s.mkv"
  "mkv (no Cues)|@nocues-h264.mkv"
  "webm vp9|@vp9-kf25.webm"
  "webm vp8|debian-src-firefox-esr/webgl-npot-video.vp8.webm"
  "ivf vp8|crates-cros-codecs/test-25fps.vp8.ivf"
  "ts h264|debian-src-gst-plugins-bad1.0/test.ts"
  "ts h264 (open GOP)|npm-mux.js/sintel-captions.ts"
  "ts mpeg2|remuxed-by-us/movie-hello.mpeg2.ts"
  "ps mpeg2|debian-forensics-samples-files/movie-hello.mpeg"
  "mpeg2 es|remuxed-by-us/movie-hello.m2v"
  "annex-b h264|crates-cros-codecs/test-25fps.h264"
  "annex-b hevc|crates-cros-codecs/test-25fps.h265"
)
: > "$OUT/clips.txt"
i=0
for c in "${clips[@]}"; do
  name=${c%%|*}; src=${c#*|}
  case $src in @*) path=tests/data/container/${src#@} ;; *) path=$MEDIA/$src ;; esac
  [ -f "$path" ] || { echo "seek-times: $path missing"; exit 2; }
  ext=${src##*.}
  cp "$path" "target/vm-media/seek/$i.$ext"
  echo "$i|$name|target/vm-media/seek/$i.$ext" >> "$OUT/clips.txt"
  i=$((i + 1))
done
cargo build --release --bin vreqplay || exit 2
cp "$OUT/clips.txt" target/vm-media/seek/clips.txt

cat > target/vm-media/seek/guest.sh <<EOF
#!/bin/bash
while IFS='|' read -r i name path; do
  for mode in no yes; do
    for k in \$(seq 1 $N); do
      pct=\$(( k * 100 / ($N + 1) ))
      log=\$(RUST_LOG=info ./target/release/vreqplay --vo null --no-audio --frames 1 \
        --hr-seek=\$mode --start=\$pct% "\$path" 2>&1); rc=\$?
      line=\$(printf '%s\n' "\$log" | grep -o 'seek to [0-9]* ns: first frame pts -\?[0-9]* ns shown after [0-9.]* ms' | head -1)
      echo "\$i|\$mode|\$pct|\$rc|\$line"
    done
  done
done < target/vm-media/seek/clips.txt
EOF
flock /tmp/vreq-vm.lock "$HERE/vm.sh" run -- bash target/vm-media/seek/guest.sh > "$OUT/runs.txt" 2> "$OUT/vm.log"
python3 - "$OUT/clips.txt" "$OUT/runs.txt" <<'PY'
import re, statistics, sys
names = {}
for l in open(sys.argv[1]):
    i, name, _ = l.rstrip("\n").split("|", 2)
    names[i] = name
rows, bad = {}, []
for l in open(sys.argv[2]):
    p = l.rstrip("\n").split("|", 4)
    if len(p) != 5 or p[0] not in names:
        continue
    i, mode, pct, rc, line = p
    m = re.search(r"seek to (\d+) ns: first frame pts (-?\d+) ns shown after ([\d.]+) ms", line)
    if rc != "0" or not m:
        bad.append(f"{names[i]} --hr-seek={mode} --start={pct}%: exit {rc}, {line or 'no seek line'}")
        continue
    t, pts, ms = int(m[1]), int(m[2]), float(m[3])
    err = (t - pts) if mode == "no" else (pts - t)
    rows.setdefault((i, mode), []).append((ms, err))
print(f"{'container':22} {'mode':9} {'seeks':>5} {'median ms':>10} {'max ms':>8} {'max error ms':>13}")
for (i, mode), v in sorted(rows.items(), key=lambda kv: (int(kv[0][0]), kv[0][1])):
    ms = [a for a, _ in v]
    err = max(e for _, e in v) / 1e6
    print(f"{names[i]:22} {'keyframe' if mode == 'no' else 'precise':9} {len(v):5} "
          f"{statistics.median(ms):10.1f} {max(ms):8.1f} {err:13.1f}")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad or not rows else 0)
PY
