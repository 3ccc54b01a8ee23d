#!/usr/bin/env python3
"""check-pattern.py PNG SQUARE_X [W H] - checks a screenshot of examples/wl_pattern.

The pattern (W x H, default 320 x 180) is centred on the output (weston's kiosk
shell centres a smaller buffer on a fullscreen toplevel). Checks, with a
tolerance for the compositor's own YUV->RGB conversion:
  * the eight 75 % colour bars (BT.601: white/yellow/cyan/green/magenta/red/blue/black
    -> RGB 191/0 combinations) in the middle of each bar's top two thirds,
  * the grey ramp (dark on the left, light on the right, R = G = B),
  * the white 16x16 square at x = SQUARE_X (the frame the log says was committed last)
    and ramp (not white) beside it.
Prints one line per check; exit 0 if all pass. No third-party modules (zlib PNG decode).
"""
import struct
import sys
import zlib


def read_png(path):
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("%s: not a PNG" % path)
    pos, idat = 8, b""
    while pos < len(d):
        n, t = struct.unpack(">I4s", d[pos:pos + 8])
        c = d[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", c[:10])
        elif t == b"IDAT":
            idat += c
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6):
        raise SystemExit("%s: unsupported PNG (depth %d, colour type %d)" % (path, depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    path, sq_x = sys.argv[1], int(sys.argv[2])
    pw, ph = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (320, 180)
    W, H, px = read_png(path)
    ox, oy = (W - pw) // 2, (H - ph) // 2
    ok = True

    def check(name, cond, got):
        nonlocal ok
        ok &= cond
        print("%s %s: %s" % ("ok  " if cond else "FAIL", name, got))

    names = ["white", "yellow", "cyan", "green", "magenta", "red", "blue", "black"]
    want = [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1), (0, 0, 0)]
    for i, (n, wv) in enumerate(zip(names, want)):
        x, y = ox + (2 * i + 1) * pw // 16, oy + ph // 3
        got = px(x, y)
        exp = [191 * v for v in wv]
        check("bar %d %s at (%d,%d)" % (i, n, x, y), all(abs(g - e) <= 24 for g, e in zip(got, exp)), got)
    ry = oy + ph * 5 // 6 - 10
    left, right = px(ox + 4, ry), px(ox + pw - 5, ry)
    grey = lambda p: max(p) - min(p) <= 6
    check("ramp dark->light at y=%d" % ry, grey(left) and grey(right) and left[0] < 40 and right[0] > 215,
          "%s .. %s" % (left, right))
    sy = oy + ph - 8
    inside = px(ox + sq_x + 8, sy)
    check("square at x=%d" % sq_x, all(v >= 245 for v in inside), inside)
    bx = ox + sq_x + 8 + (24 if sq_x + 40 < pw else -24)
    beside = px(bx, sy)
    check("no square at x=%d" % (bx - ox), grey(beside) and beside[0] < 240, beside)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
