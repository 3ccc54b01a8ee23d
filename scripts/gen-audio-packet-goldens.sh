#!/bin/sh
# Regenerates tests/golden/audio-packets/streams.tsv from ffprobe alone: one
# row per audio stream of every corpus file with audio (MANIFEST.tsv column
# 12 != "-"), what vreq-container's demuxers must agree with
# (crates/container/tests/audio.rs):
#   path, k (k-th audio stream of the file, from 0), id (ffprobe's stream id:
#   MP4 track_ID, TS PID, PS stream_id; "-" if none), codec_name, sample_rate,
#   channels, packets (count), first3_pts_ns (first three packet pts in ns,
#   comma separated, in file order), extradata_sha256 ("-" if ffprobe shows
#   none), start_ns (the stream's start_time in ns), video_start_ns (the first
#   video stream's start_time in ns, "-" if none).
# Usage: scripts/gen-audio-packet-goldens.sh [MEDIA_DIR]  (default ../shared/media)
set -eu
cd "$(dirname "$0")/.."
media="${1:-$(cd .. && pwd)/shared/media}"
out=tests/golden/audio-packets/streams.tsv
ffprobe -version | head -1 >&2
MEDIA="$media" python3 - >"$out.tmp" <<'PY'
import csv, json, os, subprocess
from fractions import Fraction

media = os.environ["MEDIA"]

def probe(path, *args):
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, path],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)

def ns(value, tb):
    return round(Fraction(int(value)) * Fraction(tb) * 1_000_000_000)

print("\t".join(["path", "k", "id", "codec_name", "sample_rate", "channels", "packets",
                 "first3_pts_ns", "extradata_sha256", "start_ns", "video_start_ns"]))
with open(os.path.join(media, "MANIFEST.tsv"), newline="") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))
for row in rows:
    if row["audio"] == "-":
        continue
    path = os.path.join(media, row["path"])
    streams = probe(path, "-show_streams", "-show_data_hash", "sha256")["streams"]
    video = [s for s in streams if s["codec_type"] == "video"]
    vstart = "-"
    if video and "start_pts" in video[0]:
        vstart = str(ns(video[0]["start_pts"], video[0]["time_base"]))
    for k, s in enumerate(s for s in streams if s["codec_type"] == "audio"):
        pk = probe(path, "-show_packets", "-select_streams", str(s["index"]),
                   "-show_entries", "packet=pts")["packets"]
        tb = s["time_base"]
        pts = [str(ns(p["pts"], tb)) if "pts" in p else "-" for p in pk[:3]]
        h = s.get("extradata_hash", "-")
        if h.startswith("SHA256:"):
            h = h[len("SHA256:"):]
        start = str(ns(s["start_pts"], tb)) if "start_pts" in s else "-"
        print("\t".join([row["path"], str(k), s.get("id", "-"), s["codec_name"],
                         s.get("sample_rate", "0"), str(s.get("channels", 0)),
                         str(len(pk)), ",".join(pts), h, start, vstart]))
PY
mv "$out.tmp" "$out"
echo "wrote $out" >&2
