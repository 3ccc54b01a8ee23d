#!/usr/bin/env python3
"""Writes tests/data/aspect.tsv: for every clip of shared/media/MANIFEST.tsv,
what ffprobe (the peer: FFmpeg 5.1 on the host) says of its first video
stream's shown size and sample aspect ratio.

    python3 tests/aspect_golden.py [MEDIA_DIR]   # default: ../../shared/media

Columns: path, width, height, sample_aspect_ratio (ffprobe's string, verbatim:
"N/A" and "0:1" mean unknown; FFmpeg reduces it with av_reduce(..., 32767)
for MP4 `pasp` and (..., 255) for Matroska display sizes, so odd ratios come
out approximated), display_aspect_ratio, ffprobe_version.
The command per clip:
    ffprobe -v quiet -select_streams v:0 \
        -show_entries stream=width,height,sample_aspect_ratio,display_aspect_ratio \
        -of json FILE
tests/aspect.rs compares our codec + container rules against this table.
"""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
media = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(
    os.path.join(here, "..", "..", "..", "shared", "media"))
if not os.path.isfile(os.path.join(media, "MANIFEST.tsv")):
    media = os.environ.get("VREQ_MEDIA", "/work/shared/media")
version = subprocess.run(["ffprobe", "-version"], capture_output=True,
                         text=True, check=True).stdout.split()[2]
rows = []
seen = set()
with open(os.path.join(media, "MANIFEST.tsv")) as f:
    next(f)
    for line in f:
        path = line.rstrip("\n").split("\t")[0]
        if not path or path in seen:
            continue
        seen.add(path)
        out = subprocess.run(
            ["ffprobe", "-v", "quiet", "-select_streams", "v:0", "-show_entries",
             "stream=width,height,sample_aspect_ratio,display_aspect_ratio",
             "-of", "json", os.path.join(media, path)],
            capture_output=True, text=True)
        streams = json.loads(out.stdout or "{}").get("streams", [])
        if not streams:
            print(f"{path}: ffprobe found no video stream", file=sys.stderr)
            continue
        s = streams[0]
        rows.append((path, s.get("width", 0), s.get("height", 0),
                     s.get("sample_aspect_ratio", "N/A"),
                     s.get("display_aspect_ratio", "N/A"), version))
dst = os.path.join(here, "data", "aspect.tsv")
with open(dst, "w") as f:
    f.write("path\twidth\theight\tsample_aspect_ratio\tdisplay_aspect_ratio\tffprobe\n")
    for r in rows:
        f.write("\t".join(str(x) for x in r) + "\n")
print(f"{dst}: {len(rows)} clips")
