#!/usr/bin/env python3
"""check-visl-raw.py FILE W H N - checks that raw NV12 video holds N of visl's frames.

FILE is what `ffmpeg ... -f rawvideo` wrote for a W x H clip decoded on visl:
N frames of NV12 (W*H luma bytes, then W*H/2 interleaved CbCr bytes).
visl (drivers/media/test-drivers/visl) does not decode: every CAPTURE frame is
the v4l2-tpg 75 % colour-bar pattern (visl-video.c: TPG_PAT_75_COLORBAR: white,
yellow, cyan, green, magenta, red, blue, black, left to right) with text
stamped from (16, 16) in 16-pixel lines (visl-dec.c visl_tpg_fill: the
sequence number, timestamps, DPB...), so pixels read back through the VA
driver (vaGetImage / vaDeriveImage) must show those bars, not zeros or
garbage. Checks, on the first, middle and last frame:
  * the file is exactly N frames long;
  * in the row at 95 % of the height (below the text), the middle half of each
    of the eight bars has one luma value (spread <= 2), the eight values fall
    strictly from white (>= 150) to black (<= 40), whatever the matrix
    (BT.601: 180 162 131 112 84 65 35 16; BT.709: 180 168 145 133 63 51 28 16);
  * chroma: yellow has little blue (Cb < 100), blue much (Cb > 160), the
    white and black bars are neutral (Cb, Cr within 128 +- 8);
  * the text region (rows 16..63, columns 16..W/2) of the first and the last
    frame differ: visl stamped another sequence number, so these are two
    pictures, not one repeated.
Prints one line per check; exit 0 if all pass. No third-party modules.
"""
import sys


def main():
    path, w, h, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    frame = w * h * 3 // 2
    with open(path, "rb") as f:
        data = f.read()
    ok = True

    def check(cond, msg):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + msg)
        ok = ok and cond

    check(len(data) == n * frame, f"{len(data)} bytes = {n} frames of {w}x{h} NV12 ({n * frame})")
    if len(data) < frame:
        return 1
    count = len(data) // frame
    for i in sorted({0, count // 2, count - 1}):
        f = data[i * frame:(i + 1) * frame]
        y = int(h * 0.95)
        lumas, spreads, chroma = [], [], []
        for b in range(8):
            x0, x1 = (4 * b + 1) * w // 32, (4 * b + 3) * w // 32
            row = f[y * w + x0:y * w + x1]
            lumas.append(sorted(row)[len(row) // 2])
            spreads.append(max(row) - min(row))
            c = (h + y // 2) * w + ((x0 + x1) // 4) * 2
            chroma.append((f[c], f[c + 1]))
        falling = all(a > b for a, b in zip(lumas, lumas[1:]))
        check(falling and lumas[0] >= 150 and lumas[7] <= 40 and max(spreads) <= 2,
              f"frame {i}: bar lumas {lumas} (spreads {spreads}) fall from white to black")
        neutral = all(abs(v - 128) <= 8 for v in chroma[0] + chroma[7])
        check(chroma[1][0] < 100 and chroma[6][0] > 160 and neutral,
              f"frame {i}: bar CbCr {chroma}: yellow Cb < 100, blue Cb > 160, white/black neutral")
    text = lambda i: b"".join(
        data[i * frame + r * w + 16:i * frame + r * w + w // 2] for r in range(16, 64))
    check(text(0) != text(count - 1), "the text of the first and the last frame differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
