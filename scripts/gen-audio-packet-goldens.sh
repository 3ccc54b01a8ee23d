#!/bin/sh
# Regenerates tests/golden/audio-packets/streams.tsv from ffprobe alone: one
# row per audio stream of every corpus file with audio (MANIFEST.tsv column
# 12 != "-") and of the synthetic clips in tests/data/container/audio/ (made by
# tests/data/container/make-audio.sh; their path starts with "tests/"), what
# vreq-container's demuxers must agree with (crates/container/tests/audio.rs):
#   path, k (k-th audio stream of the file, from 0), id (ffprobe's stream id:
#   MP4 track_ID, TS PID, PS stream_id; "-" if none), codec_name, sample_rate,
#   channels, packets (count), first3_pts_ns (first three packet pts in ns,
#   comma separated, in file order), extradata_sha256 ("-" if ffprobe shows
#   none; AAC in ADTS, which has none in the file, gets the hash of the
#   AudioSpecificConfig FFmpeg's aac_adtstoasc bitstream filter makes of it,
#   read back from an MP4 remux with -c copy; ALAC and FLAC in our form,
#   see TrackInfo::audio: FFmpeg's 36-byte ALAC extradata is a whole 'alac'
#   atom, of which the last 24 bytes are the ALACSpecificConfig; its FLAC
#   extradata from MP4 is the bare 34-byte STREAMINFO, which becomes "fLaC" +
#   a last-block STREAMINFO header + it), start_ns (the stream's start_time in ns), video_start_ns (the first
#   video stream's start_time in ns, "-" if none).
# Usage: scripts/gen-audio-packet-goldens.sh [MEDIA_DIR]  (default ../shared/media)
set -eu
cd "$(dirname "$0")/.."
media="${1:-$(cd .. && pwd)/shared/media}"
out=tests/golden/audio-packets/streams.tsv
ffprobe -version | head -1 >&2
MEDIA="$media" python3 - >"$out.tmp" <<'PY'
import csv, hashlib, json, os, subprocess, tempfile
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
def extradata(hexdump):
    # ffprobe -show_data: "\n00000000: 0000 0024 616c ...  ascii" per 16 bytes.
    out = b""
    for line in hexdump.strip().splitlines():
        out += bytes.fromhex(line[10:50].replace(" ", ""))
    return out

with open(os.path.join(media, "MANIFEST.tsv"), newline="") as f:
    rows = [(os.path.join(media, r["path"]), r["path"])
            for r in csv.DictReader(f, delimiter="\t") if r["audio"] != "-"]
synthetic = "tests/data/container/audio"
rows += [(os.path.join(synthetic, n), f"{synthetic}/{n}") for n in sorted(os.listdir(synthetic))]
for path, name in rows:
    streams = probe(path, "-show_streams", "-show_data", "-show_data_hash", "sha256")["streams"]
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
        if h == "-" and s["codec_name"] == "aac":
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "asc.mp4")
                subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", f"0:{s['index']}",
                                "-c", "copy", "-bsf:a", "aac_adtstoasc", out], check=True)
                h = probe(out, "-show_streams", "-show_data_hash", "sha256")["streams"][0] \
                    .get("extradata_hash", "-")
        x = extradata(s.get("extradata", ""))
        if s["codec_name"] == "alac" and len(x) == 36 and x[4:8] == b"alac":
            h = hashlib.sha256(x[12:]).hexdigest()
        if s["codec_name"] == "flac" and len(x) == 34:
            h = hashlib.sha256(b"fLaC\x80\x00\x00\x22" + x).hexdigest()
        if h.startswith("SHA256:"):
            h = h[len("SHA256:"):]
        start = str(ns(s["start_pts"], tb)) if "start_pts" in s else "-"
        print("\t".join([name, str(k), s.get("id", "-"), s["codec_name"],
                         s.get("sample_rate", "0"), str(s.get("channels", 0)),
                         str(len(pk)), ",".join(pts), h, start, vstart]))
PY
mv "$out.tmp" "$out"
echo "wrote $out" >&2
