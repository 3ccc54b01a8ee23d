#!/usr/bin/env python3
"""check-soak.py - the assertions of tests/vm/soak-test.sh (see its header).

Reads OUTDIR/cycles.log, cycles.rc, loop.log, loop.rc, samples.txt; prints
the numbers and one "soak: ... ok|FAILED" line per check; exit 1 if any
failed. The log lines are the `vreq_soak` debug lines:
  engine close DEV: frames output N decoded N bad N; pictures holding CAPTURE
    buffers N (with the consumer N, referenced N); retired buffers held N;
    requests in flight N
  session close DEV: CAPTURE queued N of N, OUTPUT free N of N, retired N,
    in flight N; process fds N, VmRSS N kB
and the player's per-file line "vreqplay: N frames output (...)".
"""
import argparse
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ENGINE = re.compile(
    r"engine close .*: frames output (\d+) decoded (\d+) bad (\d+); pictures holding "
    r"CAPTURE buffers (\d+) \(with the consumer (\d+), referenced (\d+)\); retired "
    r"buffers held (\d+); requests in flight (\d+)")
SESSION = re.compile(
    r"session close .*: CAPTURE queued (\d+) of (\d+), OUTPUT free (\d+) of (\d+), "
    r"retired (\d+), in flight (\d+); process fds (\d+), VmRSS (\d+) kB")
SHOWN = re.compile(r"^vreqplay: (\d+) frames output")

failed = 0


def check(name, ok, detail):
    global failed
    print(f"soak: {name} {'ok' if ok else 'FAILED'}: {detail}")
    if not ok:
        failed += 1


def parse(path):
    engines, sessions, shown, other = [], [], [], []
    with open(path, errors="replace") as f:
        for line in f:
            line = ANSI.sub("", line.rstrip("\n"))
            if m := ENGINE.search(line):
                engines.append(tuple(map(int, m.groups())))
            elif m := SESSION.search(line):
                sessions.append(tuple(map(int, m.groups())))
            elif m := SHOWN.search(line):
                shown.append(int(m.group(1)))
            elif "panicked" in line or "vreqplay:" in line:
                other.append(line)
    return engines, sessions, shown, other


def idle_engine(e):
    return e[3:] == (0, 0, 0, 0, 0)


def idle_session(s):
    queued, total, free, outputs, retired, in_flight = s[:6]
    return queued == total and free == outputs and retired == 0 and in_flight == 0


def rss_bound(base_kb):
    return max(base_kb * 1.10, base_kb + 4096)


def read_rc(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def cycles(d, n, expect):
    engines, sessions, shown, other = parse(f"{d}/cycles.log")
    rc = read_rc(f"{d}/cycles.rc")
    check("cycles-exit", rc == 0 and not [o for o in other if "panicked" in o],
          f"exit status {rc}; {len(other)} other player lines {other[:3]}")
    check("cycles-count", len(engines) == n and len(sessions) == n and len(shown) == n,
          f"{len(shown)} files ended, {len(engines)} engine and {len(sessions)} session closes of {n}")
    bad = [i for i, s in enumerate(shown) if s != expect]
    check("cycles-frames", not bad and len(shown) == n,
          f"every cycle showed {expect} frames (ffprobe)" if not bad else
          f"cycles {bad[:10]} showed {[shown[i] for i in bad[:10]]}, not {expect}")
    bad_e = [i for i, e in enumerate(engines) if not idle_engine(e)]
    bad_s = [i for i, s in enumerate(sessions) if not idle_session(s)]
    check("cycles-buffers-idle", not bad_e and not bad_s and sessions,
          f"engine: pictures / retired / in flight 0 at all {len(engines)} closes; session: "
          f"CAPTURE {sessions[0][0]} of {sessions[0][1]} queued, OUTPUT {sessions[0][2]} of "
          f"{sessions[0][3]} free at all {len(sessions)} closes" if sessions and not bad_e and not bad_s
          else f"not idle: engine closes {bad_e[:5]} {[engines[i] for i in bad_e[:3]]}, "
               f"session closes {bad_s[:5]} {[sessions[i] for i in bad_s[:3]]}")
    if not sessions:
        return
    fds = [s[6] for s in sessions]
    check("cycles-fds", all(f == fds[0] for f in fds),
          f"baseline {fds[0]} (cycle 1), end {fds[-1]}, min {min(fds)}, max {max(fds)}")
    rss = [s[7] for s in sessions]
    warm = min(10, len(rss)) - 1
    base = rss[warm]
    after = rss[warm:]
    check("cycles-rss", max(after) <= rss_bound(base),
          f"baseline {base} kB (cycle {warm + 1}), end {rss[-1]} kB "
          f"({(rss[-1] - base) / base * 100:+.1f} %), max {max(after)} kB, bound "
          f"{rss_bound(base):.0f} kB; cycle 1 {rss[0]} kB")
    step = max(1, len(rss) // 10)
    print("soak: cycle fds VmRSS(kB): " + ", ".join(
        f"{i + 1}:{fds[i]}/{rss[i]}" for i in list(range(0, len(rss), step)) + [len(rss) - 1]))


def loop(d, minutes, clips):
    engines, sessions, shown, other = parse(f"{d}/loop.log")
    rc = read_rc(f"{d}/loop.rc")
    # timeout's 124: the loop was still playing when the time was up
    check("loop-exit", rc == 124 and not [o for o in other if "panicked" in o],
          f"timeout status {rc} (124: stopped while playing); {len(shown)} files played; "
          f"other player lines {[o for o in other if 'frames output' not in o][:3]}")
    done = sessions[:-1]  # the last close may be the one SIGTERM interrupted
    bad_e = [i for i, e in enumerate(engines[:len(done)]) if not idle_engine(e)]
    bad_s = [i for i, s in enumerate(done) if not idle_session(s)]
    check("loop-buffers-idle", done and not bad_e and not bad_s,
          f"{len(done)} closes idle" if not bad_e and not bad_s
          else f"not idle: engine {bad_e[:5]} session {bad_s[:5]}")
    loops = len(done) // clips
    check("loop-plays", loops >= 2, f"{len(done)} files closed: {loops} whole loops of {clips}")
    if loops < 2:
        return
    by_clip = [[done[k * clips + c] for k in range(loops)] for c in range(clips)]
    fd_bad = [c for c in range(clips) if any(s[6] != by_clip[c][0][6] for s in by_clip[c])]
    check("loop-fds", not fd_bad,
          "per clip, the fd count at every close equals the first loop's: " +
          ", ".join(f"clip {c + 1}: {by_clip[c][0][6]}" for c in range(clips))
          if not fd_bad else f"clips {fd_bad} changed: " +
          "; ".join(str([s[6] for s in by_clip[c]][:20]) for c in fd_bad))
    base = max(by_clip[c][0][7] for c in range(clips))
    last = max(by_clip[c][-1][7] for c in range(clips))
    check("loop-rss-closes", last <= rss_bound(base),
          f"largest VmRSS at a close, first loop {base} kB, last loop ({loops}) {last} kB, "
          f"bound {rss_bound(base):.0f} kB")
    samples = []
    try:
        for line in open(f"{d}/samples.txt"):
            t, f, r = line.split()
            samples.append((int(t), int(f), int(r)))
    except (OSError, ValueError):
        pass
    check("loop-samples", len(samples) >= 3, f"{len(samples)} samples")
    if len(samples) >= 3:
        # the process's RSS moves with the clip being played: a sample may
        # fall between two files, when no session holds buffers (CI, stop 27:
        # the first of 5 samples read 5856 kB, the others ~22240 kB). So the
        # baseline is the early high-water mark: the highest of the first
        # third of the samples and of the first loop's closes; the highest
        # of the last third must stay within the bound of it (no growth)
        third = max(1, len(samples) // 3)
        first_samples = max(s[2] for s in samples[:third])
        first_loop = max(by_clip[c][0][7] for c in range(clips))
        base = max(first_samples, first_loop)
        end = max(s[2] for s in samples[-third:])
        t0 = samples[0][0]
        check("loop-rss-samples", end <= rss_bound(base),
              f"baseline {base} kB (highest of the first third of the samples {first_samples} kB "
              f"and of the first loop's closes {first_loop} kB), highest of the last third "
              f"{end} kB, bound {rss_bound(base):.0f} kB; fds sampled {min(s[1] for s in samples)}.."
              f"{max(s[1] for s in samples)} (a session may be open or not)")
        print("soak: sample s fds VmRSS(kB): " + ", ".join(
            f"{s[0] - t0}:{s[1]}/{s[2]}" for s in samples))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cycles", type=int, default=0)
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--minutes", type=int, default=0)
    ap.add_argument("--clips", type=int, default=1)
    a = ap.parse_args()
    if a.cycles > 0:
        cycles(a.dir, a.cycles, a.expect)
    if a.minutes > 0:
        loop(a.dir, a.minutes, a.clips)
    print(f"soak: {'all checks passed' if not failed else f'{failed} check(s) FAILED'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
