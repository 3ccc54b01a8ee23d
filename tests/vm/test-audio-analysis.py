#!/usr/bin/env python3
"""test-audio-analysis.py CLIP LIPSYNC_CLIP WORKDIR - checks the host-side
analysis of the VM's sound checks against captures made up here with known
answers (no VM): tests/vm/audio-test.sh runs it before booting.

From ffmpeg's decode of CLIP (tests/audio/make-loop-clip.sh's) and
LIPSYNC_CLIP (make-lipsync-clip.sh's) it writes fake audio-record.py captures
(.s16 / .ts / .meta: 1.5 s of silence first, gain -3 dB, ALSA-like stamps with
+-0.2 ms of jitter and 4 ms position steps) and asserts that
  1. check-audio-xcorr.py passes the exact copy (peak 1.0000, spread 0) and
     fails it once 10 ms of silence are inserted at 12 s (an underrun): the
     lag moves by 480 frames from there;
  2. the capture's timeline fit puts frame i at its made-up time within 0.1 ms;
  3. check-lipsync.py, given a pacing log whose frames are due when their
     second is heard and presented 30 ms later (CLOCK_MONOTONIC_RAW 200 ms
     behind CLOCK_MONOTONIC, as weston headless announces it), measures
     A-due 0 and A-V -30 ms on every flash within 0.5 ms.
Exit 0 if all hold.
"""
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import audio_capture as ac  # noqa: E402

RATE = ac.RATE
NPF = 1e9 / RATE
T0 = 7_000_000_000


def fake_capture(prefix, audio, lead=int(1.5 * RATE)):
    x = np.concatenate([np.zeros((lead, 2), np.float32), audio * 10 ** (-3 / 20), np.zeros((RATE // 2, 2), np.float32)])
    np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tofile(prefix + ".s16")
    rng = np.random.default_rng(1)
    with open(prefix + ".ts", "w") as f:
        for frames in range(480, len(x) + 1, 480):
            avail = int(rng.integers(0, 4)) * 192
            pos = frames + avail
            t = T0 + pos * NPF + rng.uniform(-0.2e6, 0.2e6)
            f.write("%d %d %d %d\n" % (frames, avail, t, t + 3e5))
    with open(prefix + ".meta", "w") as f:
        f.write("rate 48000\nchannels 2\nformat S16_LE\nperiod 480\nbuffer 48000\nframes %d\noverruns 0\n" % len(x))
    return lead


def run(args):
    r = subprocess.run([sys.executable] + args, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    clip, lips, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    ok = True

    def check(cond, msg, out=""):
        nonlocal ok
        ok &= bool(cond)
        print("%s %s" % ("ok  " if cond else "FAIL", msg))
        if not cond and out:
            print("\n".join("     " + s for s in out.splitlines()[-12:]))

    ref = ac.ffmpeg_reference(clip, 0, os.path.join(work, "loop.f32"))
    cap = os.path.join(work, "exact")
    lead = fake_capture(cap, ref)
    rc, out = run([os.path.join(HERE, "check-audio-xcorr.py"), cap, clip, "--ref-dir", work])
    check(rc == 0 and "peak 1.0000" in out and "spread 0.000 ms" in out,
          "check-audio-xcorr passes an exact copy (peak 1.0000, spread 0)", out)
    c = ac.Capture(cap)
    err = max(abs(c.time_ns(i) - (T0 + i * NPF)) for i in (0, len(c.samples) // 2, len(c.samples) - 1)) / 1e6
    check(err < 0.1, "timeline fit within 0.1 ms of the made-up stamps (%.3f ms; %s)" % (err, c.describe()))
    gap = np.concatenate([ref[:12 * RATE], np.zeros((RATE // 100, 2), np.float32), ref[12 * RATE:]])
    cap = os.path.join(work, "gap")
    fake_capture(cap, gap)
    rc, out = run([os.path.join(HERE, "check-audio-xcorr.py"), cap, clip, "--ref-dir", work])
    check(rc == 1 and re.search(r"FAIL .*spread 10\.000 ms", out) is not None,
          "check-audio-xcorr fails a copy with a 10 ms gap at 12 s (spread 10.000 ms)", out)

    lref = ac.ffmpeg_reference(lips, 0, os.path.join(work, "lips.f32"))
    cap = os.path.join(work, "lips")
    lead = fake_capture(cap, lref)
    raw_minus_mono = -200_000_000
    with open(os.path.join(work, "lips.log"), "w") as f:
        f.write("DEBUG vreq_present::wayland::pacing: wayland: wp_presentation clock_id 4\n")
        for n in range(int(len(lref) / RATE * 25)):
            pts = n * 40_000_000
            due = T0 + (lead + pts * RATE / 1e9) * NPF + raw_minus_mono
            f.write("DEBUG vreq_present::wayland::pacing: frame pts_ns=%d due_ns=%d result=presented "
                    "presented_ns=%d refresh_ns=16666666\n" % (pts, due, due + 30_000_000))
    with open(os.path.join(work, "lips.clocks"), "w") as f:
        f.write("%d %d\n%d %d\n" % (1e9, 1e9 + raw_minus_mono, 60e9, 60e9 + raw_minus_mono))
    rc, out = run([os.path.join(HERE, "check-lipsync.py"), cap, os.path.join(work, "lips.log"), lips,
                   "--ref-dir", work, "--clock-offsets", os.path.join(work, "lips.clocks"), "--goal-informational"])
    av = [float(m) for m in re.findall(r"^\s+\d+\s+\d+\s+\d+\s+([-+]\d+\.\d+)\s+\(", out, re.M)]
    ad = [float(m) for m in re.findall(r"\(\s*([-+]\d+\.\d+)\s+[-+]\d+\.\d+\)", out)]
    check(rc == 0 and len(av) == 12 and all(abs(v + 30) < 0.5 for v in av) and all(abs(v) < 0.5 for v in ad),
          "check-lipsync measures A-V -30 ms and A-due 0 on all 12 flashes (A-V %s)"
          % (" ".join("%+.2f" % v for v in av) or "-"), out)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
