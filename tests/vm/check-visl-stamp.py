#!/usr/bin/env python3
"""check-visl-stamp.py --ref REF.y4m [--ref-frames N] [--scale S] SHOT.png[=WANT]... -
which frame of the clip a screenshot of a visl picture shows, read from the text
visl stamps.

What visl stamps (drivers/media/test-drivers/visl/visl-dec.c, visl_tpg_fill): it
does not decode; every CAPTURE picture is v4l2-tpg's colour bars with text lines
drawn from x = 16, one line per 16 pixel rows (line n at y = 16 n), in
v4l2-tpg's 8x16 font, white glyphs on black cells:
  line 1  "sequence:%u timestamp:%lld field:%s" - the CAPTURE buffer's sequence
          number (counts the pictures since STREAMON) and the OUTPUT buffer's
          timestamp copied to it;
  line 3  "HEVC: %d" - the decode parameters' pic_order_cnt_val (H.264: "H264: %u",
          the slice header's pic_order_cnt_lsb).
Neither line-1 number names a frame of the clip: vreqplay's OUTPUT timestamp is
a decode counter, not the pts (crates/codec: picture n in decoding order gets
timestamp_ns = n * 1000, as GStreamer's system_frame_number * 1000), and the
sequence number counts from STREAMON; both depend on what was decoded before
(a seek decodes from a keyframe, the counter does not restart at the clip's
frame). The picture order count does: it comes from the bitstream. So the
session clip (tests/vm/make-seek-clip.sh) is HEVC without B-frames, with CRA
keyframes (open GOP: POC does not restart at them) and 16-bit POC LSBs, where
frame k of the clip in display order has POC k however the decoder got there
(a decode started at a CRA has PicOrderCntMsb 0, H.265 8.3.1, and k < 2^16).
This script reads line 3's number.

Templates are learned, not copied: REF.y4m is the same clip decoded on visl
(`vreqplay -o REF.y4m --frames N clip`, display order from frame 0), whose
frame k stamps "HEVC: k". The label cells "HEVC:" come from frame 0, the ten
digit cells from frames 0..9 (the cell after "HEVC: "); each cell is
binarized at the midpoint between the label's darkest and brightest luma.
Then every reference frame is read back with those templates and must give
its own index (frames 10.. check multi-digit reading): a reference that breaks
the assumption fails here, before any screenshot is judged.

Reading a screenshot (PNG, RGB; the picture anywhere in the output, at an integer
scale S: 1 = 1:1 as with VREQPLAY_NO_VIEWPORTER=1; S > 1 scaled up by the
compositor, e.g. a 160x120 clip fit to a 640x480 output): the image is first
brought back to 1:1, each S x S block replaced by the mean of its centre
pixel(s) (where bilinear scaling leaves the source pixel's own value; at
every one of the S x S block phases, the best label match wins); then
luma (BT.601 weights) binarized at the midpoint of
the screenshot's label match; the label is searched over the whole image
(fewest differing pixels, at most 12 of 640), the digits are the 8x16 cells
after it, each the nearest digit template (at most 5 of 128 pixels off; the
closest two digits of the font, 5 and 6, differ in 12), up to the first cell
that is no digit. Prints one line per shot
"SHOT: HEVC N (label at x,y; ...)"; with =WANT the number must be WANT.
Exit 0 when every shot was read (and matched its WANT), 1 otherwise.
No third-party modules (PNG reader from check-pattern.py).
"""
import importlib.util
import os
import sys

sys.dont_write_bytecode = True  # imported siblings leave no __pycache__ behind

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check_pattern", os.path.join(HERE, "check-pattern.py"))
cp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cp)

CW, CH = 8, 16            # v4l2-tpg font cell (font8x16)
LABEL = "HEVC:"           # visl_tpg_fill_codec_specific for HEVC
LINE_Y = 3 * 16           # line 3 (line 1 sequence, line 2 empty)
TEXT_X = 16               # every line starts at x = 16
DIGIT_OFF = len(LABEL) + 1  # "HEVC: " then the digits
LABEL_MAX = 12            # differing pixels allowed for the label (40x16 = 640)
DIGIT_MAX = 5             # ... for one digit cell (128); any two templates differ in > 2 * 5


def y4m_frames(path, count):
    """The first `count` frames' luma planes of a 4:2:0 Y4M: (w, h, [bytes])."""
    with open(path, "rb") as f:
        hdr = f.readline().split()
        if not hdr or hdr[0] != b"YUV4MPEG2":
            raise SystemExit("%s: not a Y4M file" % path)
        w = int(next(t[1:] for t in hdr if t.startswith(b"W")))
        h = int(next(t[1:] for t in hdr if t.startswith(b"H")))
        cs = next((t[1:] for t in hdr if t.startswith(b"C")), b"420")
        if not cs.startswith(b"420"):
            raise SystemExit("%s: colour space %s, want 4:2:0" % (path, cs.decode()))
        frames = []
        while len(frames) < count:
            line = f.readline()
            if not line:
                break
            if not line.startswith(b"FRAME"):
                raise SystemExit("%s: frame %d: no FRAME header" % (path, len(frames)))
            y = f.read(w * h)
            f.seek(w * h // 2, 1)
            if len(y) != w * h:
                raise SystemExit("%s: frame %d truncated" % (path, len(frames)))
            frames.append(y)
    return w, h, frames


def cell_bits(lum, x0, y0, ncells, thr):
    """Rows (ints, bit j = pixel x0 + j) of ncells 8x16 cells at (x0, y0), 1 = brighter than thr."""
    rows = []
    for y in range(y0, y0 + CH):
        v = 0
        for j in range(ncells * CW):
            if lum(x0 + j, y) > thr:
                v |= 1 << j
        rows.append(v)
    return rows


def split_cells(rows, ncells):
    m = (1 << CW) - 1
    return [tuple((r >> (CW * i)) & m for r in rows) for i in range(ncells)]


def dist(a, b):
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b))


def png_luma(path):
    """(w, h, rows of luma bytes) of a PNG screenshot (BT.601 weights)."""
    w, h, px = cp.read_png(path)
    rows = []
    for y in range(h):
        rows.append(bytes((299 * r + 587 * g + 114 * b) // 1000
                          for r, g, b in (px(x, y) for x in range(w))))
    return w, h, rows


def downscaled(w, h, rows, s, ox, oy):
    """The image brought back from scale s at block phase (ox, oy): (w, h, lum)."""
    if s == 1:
        return w, h, (lambda x, y: rows[y][x])
    c = [(s - 1) // 2, s // 2]          # the centre pixel(s) of a block: 1 or 2 per axis
    c = sorted(set(c))
    nw, nh = (w - ox) // s, (h - oy) // s
    out = []
    for by in range(nh):
        line = bytearray(nw)
        ys = [rows[oy + by * s + i] for i in c]
        for bx in range(nw):
            x0 = ox + bx * s
            v = [r[x0 + i] for r in ys for i in c]
            line[bx] = sum(v) // len(v)
        out.append(line)
    return nw, nh, (lambda x, y: out[y][x])


class Templates:
    def __init__(self, ref, nframes):
        w, h, frames = y4m_frames(ref, nframes)
        if len(frames) < 10:
            raise SystemExit("%s: %d frames, need at least 10 (one per digit)" % (ref, len(frames)))
        self.ref, self.w, self.h, self.frames = ref, w, h, frames
        lum0 = self.lum(0)
        lab = [lum0(x, y) for y in range(LINE_Y, LINE_Y + CH)
               for x in range(TEXT_X, TEXT_X + len(LABEL) * CW)]
        self.thr = (min(lab) + max(lab)) / 2
        if max(lab) - min(lab) < 100:
            raise SystemExit("%s: frame 0 has no text at (%d,%d) (luma %d..%d)"
                             % (ref, TEXT_X, LINE_Y, min(lab), max(lab)))
        self.label = cell_bits(lum0, TEXT_X, LINE_Y, len(LABEL), self.thr)
        self.digits = []
        for d in range(10):
            bits = cell_bits(self.lum(d), TEXT_X + DIGIT_OFF * CW, LINE_Y, 1, self.thr)
            self.digits.append(tuple(bits))
        for d in range(10):
            for e in range(d):
                if dist(self.digits[d], self.digits[e]) <= 2 * DIGIT_MAX:
                    raise SystemExit("%s: digit templates %d and %d differ in only %d pixels: "
                                     "frames 0..9 do not stamp HEVC: 0..9?"
                                     % (ref, e, d, dist(self.digits[d], self.digits[e])))

    def lum(self, k):
        y, w = self.frames[k], self.w
        return lambda x, yy: y[yy * w + x]

    def read_at(self, lum, x0, y0, w, thr):
        """Digits after the label at (x0, y0): (number or None, [distances])."""
        s, ds = "", []
        x = x0 + DIGIT_OFF * CW
        while x + CW <= w:
            cell = tuple(cell_bits(lum, x, y0, 1, thr))
            best = min(range(10), key=lambda d: dist(cell, self.digits[d]))
            bd = dist(cell, self.digits[best])
            if bd > DIGIT_MAX:
                break
            s += str(best)
            ds.append(bd)
            x += CW
        return (int(s) if s else None), ds

    def find_label(self, w, h, lum):
        """(distance, x, y, threshold) of the best label match in the image, or None."""
        # one pass for the threshold: the label's glyphs are the brightest, its cells the
        # darkest; binarize at 128 to find it, then re-read at its own midpoint
        thr = 128 if self.thr > 60 else self.thr
        rows = []
        for y in range(h):
            v = 0
            for x in range(w):
                if lum(x, y) > thr:
                    v |= 1 << x
            rows.append(v)
        lw = len(LABEL) * CW
        mask = (1 << lw) - 1
        # prefilter on the template row with the most glyph pixels
        key = max(range(CH), key=lambda t: bin(self.label[t]).count("1"))
        best = None
        for y in range(h - CH + 1):
            r = rows[y + key]
            kt = self.label[key]
            for x in range(w - lw + 1):
                if bin(((r >> x) & mask) ^ kt).count("1") > 3:
                    continue
                d = sum(bin(((rows[y + t] >> x) & mask) ^ self.label[t]).count("1") for t in range(CH))
                if best is None or d < best[0]:
                    best = (d, x, y)
        if best is None or best[0] > LABEL_MAX:
            return None
        d, x, y = best
        vals = [lum(x + i, y + t) for t in range(CH) for i in range(lw)]
        return d, x, y, (min(vals) + max(vals)) / 2

    def read_png(self, path, scale=1):
        """(number or None, how) for a screenshot at the given integer scale."""
        w, h, rows = png_luma(path)
        best = None
        for oy in range(scale):
            for ox in range(scale):
                dw, dh, lum = downscaled(w, h, rows, scale, ox, oy)
                found = self.find_label(dw, dh, lum)
                if found is not None and (best is None or found[0] < best[0][0]):
                    best = (found, dw, lum, ox, oy)
        if best is None:
            return None, "no \"%s\" label in the picture (scale %d)" % (LABEL, scale)
        (d, x, y, thr), dw, lum, ox, oy = best
        n, ds = self.read_at(lum, x, y, dw, thr)
        return n, "label at %d,%d (%d px off), scale %d, digit distances %s" % (
            ox + x * scale, oy + y * scale, d, scale, ds)


def main():
    args = sys.argv[1:]
    ref, nref, scale = None, 45, 1
    shots = []
    while args:
        a = args.pop(0)
        if a == "--ref":
            ref = args.pop(0)
        elif a == "--ref-frames":
            nref = int(args.pop(0))
        elif a == "--scale":
            scale = int(args.pop(0))
        elif a.startswith("-"):
            raise SystemExit(__doc__)
        else:
            shots.append(a)
    if ref is None:
        raise SystemExit(__doc__)
    tp = Templates(ref, nref)
    ok = True
    # the reference read back with its own templates: frame k must say k
    bad = []
    for k in range(len(tp.frames)):
        n, _ = tp.read_at(tp.lum(k), TEXT_X, LINE_Y, tp.w, tp.thr)
        if n != k:
            bad.append((k, n))
    print("%s reference: %d frames %dx%d, threshold %.0f, each read back as its index: %s"
          % ("ok  " if not bad else "FAIL", len(tp.frames), tp.w, tp.h, tp.thr,
             "yes" if not bad else "no, %s" % bad[:5]))
    ok &= not bad
    for s in shots:
        path, _, want = s.partition("=")
        n, how = tp.read_png(path, scale)
        good = n is not None and (not want or n == int(want))
        ok &= good
        print("%s %s: HEVC %s%s (%s)" % ("ok  " if good else "FAIL", os.path.basename(path),
                                         n, "" if not want else ", want %s" % want, how))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
