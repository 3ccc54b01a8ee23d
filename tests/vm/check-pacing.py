#!/usr/bin/env python3
"""check-pacing.py LOG FRAMES FPS - checks vreqplay's frame pacing from its log.

LOG is vreqplay's stderr, run with
RUST_LOG='info,vreq_present::wayland::pacing=debug' (the window) or
RUST_LOG='info,vreq_present::kms::pacing=debug' (the kiosk, --vo=drm) on a
clip of FRAMES frames at FPS frames per second. It holds
  * one line per frame (tracing prefixes timestamp, level and target; ANSI
    colour codes are stripped first):
      frame pts_ns=<i64> due_ns=<i64> result=<presented|discarded|dropped>
            presented_ns=<i64 or -> refresh_ns=<u64 or ->
    due_ns / presented_ns in CLOCK_MONOTONIC ns (presented_ns from
    wp_presentation.presented, or for the kiosk the page-flip event's
    timestamp; result discarded = wp_presentation.discarded, dropped = never
    committed because it was late);
  * the exit line (window: or, for --vo=drm, drm:)
      vreqplay: window: presented N, dropped N, late N (zero-copy N, copied N)
Asserts the issue's invariants (they hold however slow the machine; under
QEMU TCG with weston on llvmpipe many frames are dropped, which is allowed):
  1. presented + dropped (exit line) == FRAMES == the number of frame lines;
  2. the frame lines with result=presented number exactly `presented`;
  3. no frame is presented before its time: presented_ns >= due_ns on every
     presented line (the minimum presented - due margin is printed). A stamp
     the pacing module logs as preceding the frame's own commit ("the
     compositor's presentation time X ns is Y ms before the commit (C ns)":
     weston headless after an idle repaint loop reports previous stamp +
     refresh) is an estimate, not a measurement: listed, not counted;
  4. the stream's rate is used: the pts span is (FRAMES - 1) / FPS seconds
     within one frame interval.
Note: weston 14 headless announces its presentation clock as
CLOCK_MONOTONIC_RAW (wp_presentation.clock_id 4, see weston.log), so the
player has to put presented_ns on CLOCK_MONOTONIC (or compare on one clock)
for check 3 to mean anything.
Prints presented / dropped / late, the result counts, the margin
distribution and the spread of due - pts (informational: a constant means the
schedule followed the stream clock without drifting). Exit 0 if all hold.
"""
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXIT = re.compile(r"vreqplay: (?:window|drm): presented (\d+), dropped (\d+), late (\d+) "
                  r"\(zero-copy (\d+), copied (\d+)\)")
FRAME = re.compile(r"\bframe (pts_ns=\S+ .*)$")
KV = re.compile(r"(\w+)=(\S+)")
# the pacing module's note on a stamp that precedes the commit (weston headless,
# after an idle repaint loop, reports the previous stamp + refresh)
ESTIMATE = re.compile(r"pts (-?\d+) ns: the compositor's presentation time (-?\d+) ns is "
                      r"\S+ ms before the commit \((-?\d+) ns\)")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    log, frames, fps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    ok = True

    def check(cond, msg):
        nonlocal ok
        ok &= bool(cond)
        print("%s %s" % ("ok  " if cond else "FAIL", msg))

    exit_line, lines, estimated = None, [], {}
    for raw in open(log, errors="replace"):
        s = ANSI.sub("", raw.rstrip("\n"))
        m = ESTIMATE.search(s)
        if m:
            pts, pres, commit = (int(v) for v in m.groups())
            if pres < commit:
                estimated[(pts, pres)] = commit
            continue
        m = EXIT.search(s)
        if m:
            exit_line = tuple(int(v) for v in m.groups())
            continue
        m = FRAME.search(s)
        if m:
            kv = dict(KV.findall(m.group(1)))
            try:
                lines.append({
                    "pts": int(kv["pts_ns"]), "due": int(kv["due_ns"]), "result": kv["result"],
                    "presented": None if kv.get("presented_ns", "-") == "-" else int(kv["presented_ns"]),
                    "refresh": None if kv.get("refresh_ns", "-") == "-" else int(kv["refresh_ns"]),
                })
            except (KeyError, ValueError) as e:
                check(False, "frame line parses (%s): %s" % (e, s))
    check(exit_line is not None, "exit line 'vreqplay: window|drm: presented N, dropped N, late N (...)'")
    if exit_line is None:
        sys.exit(1)
    presented, dropped, late, zc, copied = exit_line
    print("presented %d, dropped %d, late %d (zero-copy %d, copied %d); %d frame lines"
          % (presented, dropped, late, zc, copied, len(lines)))
    counts = {}
    for f in lines:
        counts[f["result"]] = counts.get(f["result"], 0) + 1
    print("frame lines by result: %s" % ", ".join("%s %d" % kv for kv in sorted(counts.items())))
    check(presented + dropped == frames, "presented + dropped = %d + %d = %d, want %d"
          % (presented, dropped, presented + dropped, frames))
    check(len(lines) == frames, "%d frame lines, want %d" % (len(lines), frames))
    check(counts.get("presented", 0) == presented,
          "%d lines result=presented = exit line's presented %d" % (counts.get("presented", 0), presented))
    check(set(counts) <= {"presented", "discarded", "dropped"},
          "results are presented/discarded/dropped: %s" % sorted(counts))
    pres = [f for f in lines if f["result"] == "presented"]
    check(all(f["presented"] is not None for f in pres), "every presented line has presented_ns")
    # a stamp before the frame's own commit is the compositor's estimate, not a
    # measurement (nothing shows before it is committed): reported, not counted
    est = [f for f in pres if f["presented"] is not None and f["presented"] < f["due"]
           and (f["pts"], f["presented"]) in estimated]
    if est:
        print("%d early stamps precede their commit (compositor estimates, not counted): %s"
              % (len(est), ", ".join("pts %.3f s %.3f ms early" % (f["pts"] / 1e9, (f["due"] - f["presented"]) / 1e6)
                                     for f in est[:5])))
    counted = [f for f in pres if f["presented"] is not None and f not in est]
    margins = sorted(f["presented"] - f["due"] for f in counted)
    early = [f for f in counted if f["presented"] < f["due"]]
    if margins:
        pick = lambda q: margins[min(len(margins) - 1, int(q * len(margins)))] / 1e6
        print("presented - due (ms): min %.3f, median %.3f, p90 %.3f, max %.3f"
              % (margins[0] / 1e6, pick(0.5), pick(0.9), margins[-1] / 1e6))
    check(not early, "no frame presented before its due time (%d early; min margin %s ms%s)"
          % (len(early), "%.3f" % (margins[0] / 1e6) if margins else "-",
             "; earliest: pts %.3f s, %.3f ms early" % (early[0]["pts"] / 1e9, (early[0]["due"] - early[0]["presented"]) / 1e6)
             if early else ""))
    if lines:
        pts = sorted(f["pts"] for f in lines)
        span, want = (pts[-1] - pts[0]) / 1e9, (frames - 1) / fps
        check(abs(span - want) <= 1 / fps, "pts span %.3f s, want %.3f s +- one frame (%g fps)"
              % (span, want, fps))
        d = [f["due"] - f["pts"] for f in lines]
        print("due - pts spread: %.3f ms (0 = one clock for the whole clip)" % ((max(d) - min(d)) / 1e6))
        refresh = sorted({f["refresh"] for f in lines if f["refresh"]})
        print("refresh_ns seen: %s" % (refresh[:5] or "-"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
