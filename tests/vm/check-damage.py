#!/usr/bin/env python3
"""check-damage.py - the table and the rules of tests/vm/damage-test.sh.

Usage: check-damage.py LIST.tsv RUNDIR [--min-ratio 0.95] [--slack-ms 2000]

LIST.tsv is make-damaged.py's (name, source, variant, file, size_bytes,
ffprobe_frames, ffprobe_status); RUNDIR holds the guest's runs.tsv (name,
exit status, wall ms) and one NAME.log per run (vreqplay's stdout + stderr).

Per file:
  ours     N of the exit line "vreqplay: N frames output (...)" (0 without it)
  ffmpeg   ffprobe -count_frames of the same file (make-damaged.py)
  outcome  "played all": exit 0 and no warning line; "refused with error": no
           frame shown and a non-zero exit; else "played partly with warnings"
           (warnings: stderr lines other than the exit lines)
  panic    "panicked" in the log, or exit status 101 / 134 (abort)
  hang     killed by the guest's timeout (137), or the exit came more than
           --slack-ms after the input's end or its error. The measure: the
           player logs (RUST_LOG=vreqplay::input_end=debug, a timestamped
           tracing line) the instant its video loop saw the end of the
           input, and the instant of an error that ends the file; the guest
           notes the instant the process exited (date +%s%N after wait, same
           clock); lag = exit - that line. A run without the line (killed,
           crashed) counts its whole wall time.
Rules (exit 1 when one fails): 0 panics, 0 hangs, and the sum of ours over
the damaged files >= --min-ratio x the sum of ffmpeg's. The intact files
(variant orig) are printed but not summed. Also printed: the sum with each
row's count capped at ffmpeg's (a row where visl "decodes" more than ffmpeg
cannot hide a row with fewer), per variant and per container.
"""
import argparse
import collections
import datetime
import os
import re
import sys

EXIT_LINE = re.compile(r"^vreqplay: (\d+) frames output \(")
QUIET = re.compile(r"^(vreqplay: (\d+ frames output|window: |drm: |audio: )|\S+ +DEBUG vreqplay::input_end)")
END_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\d*Z +DEBUG vreqplay::input_end")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("list")
    ap.add_argument("rundir")
    ap.add_argument("--min-ratio", type=float, default=0.95)
    ap.add_argument("--slack-ms", type=int, default=2000)
    a = ap.parse_args()
    rows = []
    with open(a.list) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(head, line.rstrip("\n").split("\t"))))
    runs = {}
    with open(os.path.join(a.rundir, "runs.tsv")) as f:
        for line in f:
            name, rc, ms, end_ns = line.rstrip("\n").split("\t")
            runs[name] = (int(rc), int(ms), int(end_ns))
    out = []
    fails = []
    for r in rows:
        name = r["name"]
        if name not in runs:
            fails.append(f"{name}: not run")
            continue
        rc, ms, end_ns = runs[name]
        log = [ANSI.sub("", x) for x in open(os.path.join(a.rundir, name + ".log"), errors="replace").read().splitlines()]
        ours = 0
        for line in log:
            m = EXIT_LINE.match(line)
            if m:
                ours = int(m.group(1))
        warnings = [line for line in log if line.strip() and not QUIET.match(line)]
        panic = rc in (101, 134) or any("panicked" in line for line in log)
        over = ms
        for line in log:
            m = END_LINE.match(line)
            if m:
                t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
                over = (end_ns - int(t.timestamp()) * 10**9 - t.microsecond * 1000) // 10**6
        hang = rc == 137 or over > a.slack_ms
        if rc == 0 and not warnings:
            outcome = "played all"
        elif ours == 0 and rc != 0:
            outcome = "refused with error"
        else:
            outcome = "played partly with warnings"
        ff = int(r["ffprobe_frames"])
        first = warnings[0][:110] if warnings else ""
        out.append(dict(name=name, source=r["source"], variant=r["variant"], outcome=outcome, ours=ours,
                        ffmpeg=ff, rc=rc, ms=ms, over=over, panic=panic, hang=hang, first=first))
        if panic:
            fails.append(f"{name}: panic (exit {rc}): {next((x for x in log if 'panicked' in x), '')[:160]}")
        if hang:
            fails.append(f"{name}: hang (exit {rc}, {ms} ms, exit {over} ms after the input's end / error)")

    print("file\tvariant\toutcome\tours\tffmpeg\texit\twall_ms\tlag_ms\tfirst warning")
    for o in out:
        mark = " <" if o["variant"] != "orig" and o["ours"] < o["ffmpeg"] else ""
        print(f"{o['source']}\t{o['variant']}\t{o['outcome']}\t{o['ours']}{mark}\t{o['ffmpeg']}\t{o['rc']}\t"
              f"{o['ms']}\t{o['over']}\t{o['first']}")
    dmg = [o for o in out if o["variant"] != "orig"]
    ours = sum(o["ours"] for o in dmg)
    ff = sum(o["ffmpeg"] for o in dmg)
    capped = sum(min(o["ours"], o["ffmpeg"]) for o in dmg)
    ratio = ours / ff if ff else 1.0
    print()
    for key, label in (("variant", "variant"), ("container", "container")):
        agg = collections.defaultdict(lambda: [0, 0, 0, 0])
        for o in dmg:
            k = o["variant"] if key == "variant" else os.path.splitext(o["source"])[1]
            agg[k][0] += o["ours"]
            agg[k][1] += o["ffmpeg"]
            agg[k][2] += min(o["ours"], o["ffmpeg"])
            agg[k][3] += 1
        for k in sorted(agg):
            s = agg[k]
            print(f"by {label} {k}: {s[3]} files, ours {s[0]}, ffmpeg {s[1]}, ratio {s[0] / s[1] if s[1] else 1:.3f}"
                  f" (capped {s[2] / s[1] if s[1] else 1:.3f})")
    outcomes = collections.Counter(o["outcome"] for o in dmg)
    print(f"outcomes over {len(dmg)} damaged files: " + ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items())))
    intact = [o for o in out if o["variant"] == "orig"]
    print(f"intact files: ours {sum(o['ours'] for o in intact)}, ffmpeg {sum(o['ffmpeg'] for o in intact)}")
    print(f"panics {sum(o['panic'] for o in out)}, hangs {sum(o['hang'] for o in out)}; "
          f"frames over the damaged set: ours {ours}, ffmpeg {ff}, ratio {ratio:.3f} (goal >= {a.min_ratio}); "
          f"capped at ffmpeg's per file: {capped / ff if ff else 1:.3f}")
    if ratio < a.min_ratio:
        fails.append(f"ratio {ratio:.3f} < {a.min_ratio}")
    for f in fails:
        print("FAIL " + f)
    print("check-damage: " + ("ok" if not fails else f"FAILED ({len(fails)})"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
