#!/usr/bin/env python3
"""check-seek-session.py --ref REF.y4m --clip CLIP [--scale S] [--known SHOT.png=N]
                         [--plan PLAN --shots DIR [--rc FILE]]
checks the screenshots of tests/vm/session-test.sh.

Each shot's frame is read from visl's stamp (tests/vm/check-visl-stamp.py,
templates learned from REF.y4m; the picture at integer scale S in the shot,
default 1). --known: a shot that must show frame N
(vreqplay --frames N+1 --keep-open). --plan: the session's steps, one
"name:key key ..." per line, each shot DIR/name.png after its keys; the frame
each must show is derived here from CLIP's own ffprobe frame list (pts,
key_frame, display order) and chapters, following mpv (player/command.c,
player/playloop.c) as the player's keys promise (crates/present key map):
  * the position is the shown frame's pts (paused: mpv's time-pos after a
    keyframe seek is the keyframe's pts); the session starts paused on frame 0;
  * period (frame-step): the next frame; comma (frame-back-step): the
    previous one (mpv decodes from the keyframe before it and shows it);
  * Right/Left/Up/Down: a relative keyframe seek of +5/-5/+60/-60 s: target =
    position + step, clamped at 0; shown: the last keyframe with pts <= target
    (the first keyframe when none, the last keyframe past the end) - the
    default keyframe seek of the issue and Demuxer::seek's contract;
  * Page_Up: the next chapter's start; Page_Down: the previous chapter's start,
    or the current chapter's when more than 5 s into it (mpv's
    --chapter-seek-threshold=5). The clip's chapters start on keyframes, so a
    keyframe and a precise chapter seek show the same frame (checked here);
  * o: no move; the shot DIR/osd.png, taken as soon as the picture changed,
    must show the same frame as the previous step's shot and differ from it in
    at least 200 pixels (max channel difference > 48): the OSD drawn over it.
--rc: the player's exit status after q, must be 0.
Prints one line per check; exit 0 if all pass.
"""
import importlib.util
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # imported siblings leave no __pycache__ behind

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


stamp = load("check_visl_stamp", "check-visl-stamp.py")
cp = stamp.cp

SEEK_S = {"Right": 5, "Left": -5, "Up": 60, "Down": -60}
CHAPTER_SEEK_THRESHOLD_S = 5.0
EPS = 1e-4


def probe(clip):
    """(pts list in display order, keyframe indices, chapter starts) from ffprobe."""
    j = json.loads(subprocess.check_output(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_frames", "-show_chapters",
         "-show_entries", "frame=pts_time,key_frame:chapter=start_time", "-of", "json", clip]))
    fr = sorted((float(f["pts_time"]), int(f["key_frame"])) for f in j["frames"])
    pts = [p for p, _ in fr]
    keys = [i for i, (_, k) in enumerate(fr) if k]
    chapters = sorted(float(c["start_time"]) for c in j.get("chapters", []))
    if not keys:
        raise SystemExit("%s: no keyframes" % clip)
    return pts, keys, chapters


class Model:
    def __init__(self, pts, keys, chapters):
        self.pts, self.keys, self.chapters = pts, keys, chapters
        self.f = 0

    def keyframe_le(self, t):
        le = [k for k in self.keys if self.pts[k] <= t + EPS]
        return le[-1] if le else self.keys[0]

    def chapter_frame(self, i):
        t = self.chapters[i]
        at = [k for k, p in enumerate(self.pts) if p >= t - EPS]
        if not at or at[0] not in self.keys:
            raise SystemExit("chapter %d (%.3f s) does not start on a keyframe: a keyframe and a "
                             "precise chapter seek would differ" % (i + 1, t))
        return at[0]

    def press(self, key):
        now = self.pts[self.f]
        if key == "period":
            self.f = min(self.f + 1, len(self.pts) - 1)
        elif key == "comma":
            self.f = max(self.f - 1, 0)
        elif key in SEEK_S:
            self.f = self.keyframe_le(max(now + SEEK_S[key], 0.0))
        elif key in ("Page_Up", "Page_Down"):
            cur = max([i for i, s in enumerate(self.chapters) if s <= now + EPS], default=-1)
            if key == "Page_Up":
                if cur + 1 >= len(self.chapters):
                    raise SystemExit("Page_Up after the last chapter is not modelled")
                self.f = self.chapter_frame(cur + 1)
            else:
                if cur >= 0 and now - self.chapters[cur] > CHAPTER_SEEK_THRESHOLD_S:
                    self.f = self.chapter_frame(cur)
                elif cur >= 1:
                    self.f = self.chapter_frame(cur - 1)
                else:
                    self.f = 0
        elif key == "o":
            pass
        else:
            raise SystemExit("key %s is not modelled" % key)


def differing(a, b, thr=48):
    """(count, bounding box) of pixels whose max channel difference exceeds thr."""
    (wa, ha, pa), (wb, hb, pb) = a, b
    if (wa, ha) != (wb, hb):
        return wa * ha, None
    n, box = 0, None
    for y in range(ha):
        for x in range(wa):
            if max(abs(u - v) for u, v in zip(pa(x, y), pb(x, y))) > thr:
                n += 1
                box = (x, y, x, y) if box is None else (min(box[0], x), min(box[1], y),
                                                        max(box[2], x), max(box[3], y))
    return n, box


def main():
    args = sys.argv[1:]
    opt = {}
    while args:
        a = args.pop(0)
        if a in ("--ref", "--clip", "--scale", "--known", "--plan", "--shots", "--rc") and args:
            opt[a[2:]] = args.pop(0)
        else:
            raise SystemExit(__doc__)
    if "ref" not in opt or "clip" not in opt:
        raise SystemExit(__doc__)
    ok = True

    def check(cond, text):
        nonlocal ok
        ok &= bool(cond)
        print("%s %s" % ("ok  " if cond else "FAIL", text))

    if not os.path.exists(opt["ref"]):
        check(False, "reference %s missing (vreqplay -o failed in the VM?)" % opt["ref"])
        sys.exit(1)
    tp = stamp.Templates(opt["ref"], 45)
    bad = [k for k in range(len(tp.frames))
           if tp.read_at(tp.lum(k), stamp.TEXT_X, stamp.LINE_Y, tp.w, tp.thr)[0] != k]
    check(not bad, "reference %s: %d frames, each reads back as its index%s"
          % (os.path.basename(opt["ref"]), len(tp.frames), "" if not bad else " (not: %s)" % bad[:5]))

    def read(path):
        if not os.path.exists(path):
            return None, "no screenshot", None
        n, how = tp.read_png(path, int(opt.get("scale", 1)))
        return n, how, path

    if "known" in opt:
        path, _, want = opt["known"].rpartition("=")
        n, how, _ = read(path)
        check(n == int(want), "%s shows frame %s, want %s (%s)" % (os.path.basename(path), n, want, how))

    if "plan" in opt:
        pts, keys, chapters = probe(opt["clip"])
        print("     clip: %d frames, keyframes %s, chapters %s s"
              % (len(pts), [k for k in keys][:8] + ["..."], chapters))
        m = Model(pts, keys, chapters)
        prev = None
        for line in open(opt["plan"]):
            line = line.strip()
            if not line:
                continue
            name, _, ks = line.partition(":")
            before = m.f
            try:
                for k in ks.split():
                    m.press(k)
            except SystemExit as e:
                check(False, "%s [%s]: from frame %d: %s" % (name, ks, before, e))
                break
            if name == "osd":
                n, how, img = read(os.path.join(opt["shots"], "osd.png"))
                if prev is None or img is None:
                    check(False, "osd: no shot before it, or no osd.png")
                    continue
                check(n == m.f, "osd [o]: frame %s, want %d (%s)" % (n, m.f, how))
                d, box = differing(cp.read_png(prev[1]), cp.read_png(img))
                check(d >= 200, "osd.png differs from %s.png in %d pixels (>= 200: the OSD), in %s"
                      % (prev[0], d, box))
                continue
            if prev is not None and m.f == before:
                check(False, "%s [%s]: the plan's step stays on frame %d: session-test.sh's "
                      "settling needs every step to move" % (name, ks, before))
            n, how, img = read(os.path.join(opt["shots"], name + ".png"))
            check(n == m.f, "%s [%s]: frame %s, want %d (%.3f s; from %d) (%s)"
                  % (name, ks, n, m.f, pts[m.f], before, how))
            prev = (name, img) if img else prev
            if n is not None and n != m.f:
                print("     (continuing from the frame shown, %d)" % n)
                m.f = n
    if "rc" in opt:
        rc = open(opt["rc"]).read().strip() if os.path.exists(opt["rc"]) else "missing"
        check(rc == "0", "player exit status after q: %s" % rc)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
