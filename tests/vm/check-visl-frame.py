#!/usr/bin/env python3
"""check-visl-frame.py IMAGE W H [--fit] - checks that a screenshot shows a visl frame.

IMAGE is a PNG (8-bit RGB/RGBA: weston's screenshots) or a binary PPM (P6,
maxval 255: the kiosk's writeback capture, VREQ_KMS_WRITEBACK, whose borders
are the black of the CRTC around the video plane).

visl (drivers/media/test-drivers/visl) does not decode: every CAPTURE frame is
the v4l2-tpg 75 % colour-bar pattern (visl-video.c: TPG_PAT_75_COLORBAR) with
text stamped from (16, 16) in 16-pixel lines (visl-dec.c visl_tpg_fill:
sequence number, timestamps, DPB, formats); v4l2-tpg draws text glyphs on a
black background. W x H is the clip's *displayed* size: visible (cropped)
size with the pixel aspect applied (1440x1080 at SAR 4:3 -> 1920x1080).

Finding the picture (the "picture rectangle"): everything outside it is
border: the player's black borders (vreqplay scales the video to fit its
window keeping aspect, black around it), or weston's kiosk background
(0x203040, tests/vm/trixie/present/weston.ini) where the window is smaller than
the output. A pixel is "border-like" when it is near black or near that
background. The picture itself has border-like pixels too: the eighth bar is
black, and so are the text cells' backgrounds. So edges are found from the
extremes over all scanlines, which the non-black bars decide:
  * top/bottom: over all columns, the first/last row that is not border-like.
    The seven non-black bars run the full picture height (text starts at row
    16 and leaves the bottom alone), so the extremes are the picture's rows.
  * left: over all rows, the first non-border column: the white bar at the
    picture's left edge (text starts at x = 16, so columns 0-15 are white in
    every row).
  * right: the last bar is black, so the right edge cannot be seen against a
    black border. The picture is centred (the player centres it in its
    window, the kiosk shell centres the window), so right = width - 1 - left;
    as a cross-check the last non-border column must lie between the blue
    bar's right edge (7/8 of the width; black border) and the right edge
    (non-black border; or text glyphs over the black bar in a small picture).
Checks: that rectangle's aspect equals W:H (height within 2 px of width*H/W),
the eight bars white/yellow/cyan/green/magenta/red/blue/black (75 %: 191/0
RGB combinations, tolerance 45 for the compositor's YUV->RGB conversion) at 95 %
of the picture's height (below visl's text), and with --fit the geometry
vreqplay promises: the picture scaled to fit the whole output keeping aspect,
centred, each edge within 2 px and the height within 1 px of round(H * scale)
(so 1088 coded rows shown instead of the 1080 visible ones fail: 580 vs 576
in a 1024x768 output).
Prints the rectangle and one line per check; exit 0 if all pass.
Reuses check-pattern.py's PNG reader (no third-party modules).
"""
import importlib.util
import os
import sys

spec = importlib.util.spec_from_file_location(
    "check_pattern", os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-pattern.py"))
cp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cp)

BARS = [("white", (191, 191, 191)), ("yellow", (191, 191, 0)), ("cyan", (0, 191, 191)),
        ("green", (0, 191, 0)), ("magenta", (191, 0, 191)), ("red", (191, 0, 0)),
        ("blue", (0, 0, 191)), ("black", (0, 0, 0))]
TOL = 45
KIOSK_BG = (0x20, 0x30, 0x40)


def read_ppm(path):
    """binary PPM (P6, maxval 255) -> (width, height, px(x, y) -> (r, g, b))"""
    d = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' comments between
        while pos < len(d) and d[pos:pos + 1].isspace():
            pos += 1
        if d[pos:pos + 1] == b"#":
            while pos < len(d) and d[pos:pos + 1] != b"\n":
                pos += 1
            continue
        start = pos
        while pos < len(d) and not d[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise SystemExit("%s: truncated PPM header" % path)
        fields.append(d[start:pos])
    pos += 1  # the single whitespace after maxval
    if fields[0] != b"P6" or fields[3] != b"255":
        raise SystemExit("%s: not a binary 8-bit PPM (magic %r, maxval %r)" % (path, fields[0], fields[3]))
    w, h = int(fields[1]), int(fields[2])
    pix = d[pos:]
    if len(pix) < w * h * 3:
        raise SystemExit("%s: %d bytes of pixels, want %dx%dx3 = %d" % (path, len(pix), w, h, w * h * 3))
    return w, h, lambda x, y: tuple(pix[(y * w + x) * 3:(y * w + x) * 3 + 3])


def read_image(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return read_ppm(path) if magic == b"P6" else cp.read_png(path)


def border_like(p):
    return max(p) <= 28 or all(abs(a - b) <= 12 for a, b in zip(p, KIOSK_BG))


def picture_rect(ow, oh, px):
    """(left, top, right, bottom, last_non_border_col), inclusive, or None if no picture."""
    top, bottom = oh, -1
    for x in range(ow):
        for y in range(0, min(top, oh)):
            if not border_like(px(x, y)):
                top = y
                break
        for y in range(oh - 1, bottom, -1):
            if not border_like(px(x, y)):
                bottom = y
                break
    if bottom < 0:
        return None
    left, last = ow, -1
    for y in range(top, bottom + 1):
        for x in range(0, min(left, ow)):
            if not border_like(px(x, y)):
                left = x
                break
        for x in range(ow - 1, last, -1):
            if not border_like(px(x, y)):
                last = x
                break
    return left, top, ow - 1 - left, bottom, last


def main():
    args = [a for a in sys.argv[1:] if a != "--fit"]
    fit = "--fit" in sys.argv[1:]
    if len(args) != 3:
        raise SystemExit(__doc__)
    png, W, H = args[0], int(args[1]), int(args[2])
    if not os.path.isfile(png):
        print("FAIL no screenshot %s" % png)
        sys.exit(1)
    ow, oh, px = read_image(png)
    ok = True

    def check(cond, msg):
        nonlocal ok
        ok &= cond
        print("%s %s" % ("ok  " if cond else "FAIL", msg))

    r = picture_rect(ow, oh, px)
    if r is None:
        check(False, "a picture in the %dx%d shot (everything is border-like)" % (ow, oh))
        sys.exit(1)
    left, top, right, bottom, last = r
    w, h = right - left + 1, bottom - top + 1
    print("output %dx%d; picture %dx%d at (%d,%d) (rows %d..%d, cols %d..%d; last non-border col %d)"
          % (ow, oh, w, h, left, top, top, bottom, left, right, last))
    blue_end = left + w * 7 // 8 - 1
    check(w > 0 and blue_end - 3 <= last <= right + 2,
          "right edge: last non-border column %d within the blue bar's end %d .. the right edge %d"
          % (last, blue_end, right))
    check(w > 0 and abs(h - w * H / W) <= 2,
          "aspect %d:%d: height %d for width %d, want %.1f +-2" % (W, H, h, w, w * H / W))
    if fit:
        s = min(ow / W, oh / H)
        ew, eh = round(W * s), round(H * s)
        ex, ey = (ow - ew) // 2, (oh - eh) // 2
        check(abs(left - ex) <= 2 and abs(right - (ex + ew - 1)) <= 2
              and abs(top - ey) <= 2 and abs(bottom - (ey + eh - 1)) <= 2,
              "fits the output: %dx%d at (%d,%d) +-2 px per edge (got %dx%d at (%d,%d))"
              % (ew, eh, ex, ey, w, h, left, top))
        check(abs(h - eh) <= 1, "picture height %d = %d scaled rows +-1" % (h, eh))
    y = top + h * 98 // 100   # below visl's text block (scaled with the picture)
    for i, (name, want) in enumerate(BARS):
        # bar centres, except bar 0 sampled at source column 8: visl's text
        # starts at column 16 and may reach the bottom rows in short pictures
        x = left + (2 * i + 1) * w // 16 if i else left + round(8 * w / W)
        got = px(x, y)[:3] if 0 <= x < ow else None
        good = got is not None and all(abs(g - e) <= TOL for g, e in zip(got, want))
        check(good, "bar %d %-7s at (%d,%d): %s, want %s" % (i, name, x, y, got, want))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
