#!/usr/bin/env python3
"""check-visl-frame.py PNG W H - checks that a screenshot shows a visl frame.

visl (drivers/media/test-drivers/visl) does not decode: every CAPTURE frame is
the v4l2-tpg 75 % colour-bar pattern with text (sequence number, timestamps,
DPB) stamped in its top-left. vreqplay's window (W x H, the clip's visible
size) is centred on the output by weston's kiosk shell. Checks, below the text,
the eight bars white/yellow/cyan/green/magenta/red/blue/black (75 %: 191/0
RGB combinations) with a tolerance for the compositor's YUV->RGB conversion.
Prints one line per bar; exit 0 if all match. Reuses check-pattern.py's PNG reader.
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


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    png, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ow, oh, px = cp.read_png(png)
    x0, y0 = (ow - w) // 2, (oh - h) // 2
    y = y0 + h * 95 // 100   # below visl's text block
    ok = True
    for i, (name, want) in enumerate(BARS):
        x = x0 + (2 * i + 1) * w // 16
        got = px(x, y)[:3]
        good = all(abs(g - e) <= TOL for g, e in zip(got, want))
        ok &= good
        print("%s bar %d %-7s at (%d,%d): %s, want %s" % ("ok  " if good else "FAIL", i, name, x, y, got, want))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
