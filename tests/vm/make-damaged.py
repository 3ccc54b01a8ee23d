#!/usr/bin/env python3
"""make-damaged.py - the damaged set of issue 15 (resilience vs ffmpeg).

Usage: make-damaged.py [--media DIR] [--out DIR] [--subset] [--jobs N]

Every video clip of the shared corpus (MANIFEST.tsv rows whose codec is one of
the five vreqplay decodes: h264, hevc, vp8, vp9, mpeg2video; EXCLUDED below
lists the ones left out and why) x 7 variants, all deterministic (fixed seeds,
the seed mixed with the clip's path so two clips do not share a pattern):

  flip1 flip2 flip3  bit flips at seeds 1, 2, 3: max(8, size / 64 KiB) flips,
                     half of them in the first 4 KiB (headers: moov/EBML/PAT,
                     sequence headers), half anywhere in the file
  cut33 cut77        the file cut at 33 % / 77 % of its size (bytes)
  zero4k             one 4 KiB block zeroed at 50 % of the size, 4 KiB aligned
  splice64k          64 KiB of random bytes (seed "splice") inserted at 50 %

plus `orig`, the file as it is (the reference the timing rule compares with,
not counted in the sums). Each file keeps its extension. For each file,
ffmpeg's count: `ffprobe -v error -count_frames -select_streams v:0
-show_entries stream=nb_read_frames` (the frames its decoder returned; a file
ffprobe refuses counts 0), with a 120 s timeout.

Writes OUT/list.tsv: name, source (path in the corpus), variant, file (under
OUT), size_bytes, ffprobe_frames, ffprobe_status. --subset keeps the tier's
fixed subset (one clip per container, SUBSET below).
"""
import argparse
import concurrent.futures
import os
import random
import subprocess
import sys

CODECS = {"h264", "hevc", "vp8", "vp9", "mpeg2video"}
# clips with a video track of those codecs that are left out, and why
EXCLUDED = {
    # VP9 profile 3 (4:4:4 10-bit): vreqplay decodes VP9 profiles 0 and 2
    # only (README), so the intact file is refused as well
    "crates-matroska-demuxer/simple.mkv": "VP9 profile 3 (4:4:4): not a profile vreqplay decodes",
}
# the tier's subset: one clip per container (all 7 variants each)
SUBSET = [
    "debian-src-firefox-esr/gizmo.mp4",  # MP4
    "debian-src-firefox-esr/bipbop_short_vp8.webm",  # WebM
    "remuxed-by-us/gizmo_hevc_8bit_420.mkv",  # Matroska
    "crates-cros-codecs/test-25fps.vp8.ivf",  # IVF
    "debian-libvpl-examples/cars_320x240.h264",  # H.264 Annex B
    "crates-cros-codecs/bbb.h265",  # HEVC Annex B
    "remuxed-by-us/movie-hello.m2v",  # MPEG-2 ES
    "debian-k3b-data/k3bphotosvcd.mpg",  # MPEG-PS
    "npm-mux.js/sintel-captions.ts",  # MPEG-TS
]
VARIANTS = ["orig", "flip1", "flip2", "flip3", "cut33", "cut77", "zero4k", "splice64k"]
KIB = 1024


def damage(data: bytes, variant: str, path: str) -> bytes:
    size = len(data)
    if variant == "orig":
        return data
    if variant.startswith("flip"):
        rng = random.Random(f"{variant}:{path}")
        n = max(8, size // (64 * KIB))
        out = bytearray(data)
        head = min(4 * KIB, size)
        for i in range(n):
            pos = rng.randrange(head) if i < n // 2 else rng.randrange(size)
            out[pos] ^= 1 << rng.randrange(8)
        return bytes(out)
    if variant in ("cut33", "cut77"):
        return data[: size * int(variant[3:]) // 100]
    if variant == "zero4k":
        at = (size // 2) & ~(4 * KIB - 1)
        end = min(at + 4 * KIB, size)
        return data[:at] + bytes(end - at) + data[end:]
    if variant == "splice64k":
        rng = random.Random(f"splice:{path}")
        junk = bytes(rng.getrandbits(8) for _ in range(64 * KIB))
        return data[: size // 2] + junk + data[size // 2 :]
    raise ValueError(variant)


def ffprobe_frames(path: str) -> tuple[int, str]:
    cmd = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
           "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return 0, "timeout"
    vals = [v.strip().rstrip(",") for v in r.stdout.split("\n") if v.strip()]
    n = int(vals[0]) if vals and vals[0].isdigit() else 0
    return n, f"rc{r.returncode}"


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", default=os.path.join(os.path.dirname(repo), "shared", "media"))
    ap.add_argument("--out", default=os.path.join(repo, "target", "vm-media", "damage-all"))
    ap.add_argument("--subset", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    rows = []
    with open(os.path.join(a.media, "MANIFEST.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            if r["codec"] in CODECS:
                rows.append(r["path"])
    if a.subset:
        missing = [p for p in SUBSET if p not in rows]
        if missing:
            print(f"make-damaged: subset clips not in MANIFEST.tsv: {missing}", file=sys.stderr)
            return 2
        rows = SUBSET
    for p in sorted(EXCLUDED):
        if p in rows:
            print(f"make-damaged: excluded {p}: {EXCLUDED[p]}", file=sys.stderr)
    rows = [p for p in rows if p not in EXCLUDED]
    os.makedirs(a.out, exist_ok=True)
    jobs = []
    for p in rows:
        data = open(os.path.join(a.media, p), "rb").read()
        stem, ext = os.path.splitext(p.replace("/", "_"))
        for v in VARIANTS:
            name = f"{stem}.{v}{ext}"
            dst = os.path.join(a.out, name)
            d = damage(data, v, p)
            if not (os.path.exists(dst) and open(dst, "rb").read() == d):
                with open(dst + ".tmp", "wb") as o:
                    o.write(d)
                os.replace(dst + ".tmp", dst)
            jobs.append((name, p, v, dst, len(d)))
    # ffprobe results are cached next to the file (name.ffprobe: "size frames status")
    def probe(j):
        name, p, v, dst, size = j
        cache = dst + ".ffprobe"
        st = os.stat(dst)
        if os.path.exists(cache) and os.stat(cache).st_mtime >= st.st_mtime:
            parts = open(cache).read().split()
            if len(parts) == 3 and int(parts[0]) == size:
                return int(parts[1]), parts[2]
        n, status = ffprobe_frames(dst)
        with open(cache, "w") as o:
            o.write(f"{size} {n} {status}\n")
        return n, status

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        counts = list(ex.map(probe, jobs))
    with open(os.path.join(a.out, "list.tsv"), "w") as o:
        o.write("name\tsource\tvariant\tfile\tsize_bytes\tffprobe_frames\tffprobe_status\n")
        for (name, p, v, dst, size), (n, status) in zip(jobs, counts):
            o.write(f"{name}\t{p}\t{v}\t{os.path.relpath(dst, repo)}\t{size}\t{n}\t{status}\n")
    print(f"make-damaged: {len(rows)} clips x {len(VARIANTS)} files in {os.path.relpath(a.out, repo)}/list.tsv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
