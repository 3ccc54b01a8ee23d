#!/usr/bin/env python3
"""bench-guest.py - the measuring half of scripts/bench-vm.sh (issue 17).

  bench-guest.py run OUTDIR RUNS CASE...      (in the VM, as root, cwd /mnt/host)
  bench-guest.py table OUTDIR...              (on the host: the ratio tables)

CASE is MODE:CODEC:CLIP, MODE one of
  decode  vreqplay --vo null --no-audio CLIP   vs
          gst-launch-1.0 filesrc ! parsebin ! v4l2sl<codec>dec ! fakesink sync=false
  va      ffmpeg -hwaccel vaapi -hwaccel_output_format vaapi through the VA
          driver (LIBVA_DRIVERS_PATH=$VA_DRIVERS_PATH, LIBVA_DRIVER_NAME=vreq)
          -f null -   vs the same GStreamer pipeline
Each run of a tool (RUNS of each, alternating which tool goes first) starts
with visl reloaded and ftrace recording v4l2_qbuf / v4l2_dqbuf on the
CLOCK_MONOTONIC trace clock, and measures:
  cpu_ms     user + sys CPU of the process and its children (os.wait4's
             rusage), ms
  wall_ms    process start -> exit, ms
  rss_kb     max resident set size (ru_maxrss), KiB
  frames     visl's CAPTURE dequeues (pictures decoded)
  first_ms   process start -> the first CAPTURE buffer dequeued, ms
  inflight   the most OUTPUT buffers queued and not yet dequeued at once
             (one media request each: requests in flight)
One more run of each tool under `strace -f -c` gives syscalls (all threads;
its CPU and wall are not used: strace slows the process). Results: one JSON
line per run in OUTDIR/runs.jsonl.
The table divides vreqplay's (or ffmpeg's, mode va) median by GStreamer's
for each figure per frame (cpu, syscalls) or per run (wall, rss, first,
inflight), and prints min / median / max of each tool beside it.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

TRACE = "/sys/kernel/tracing"
GST_DEC = {"h264": "v4l2slh264dec", "hevc": "v4l2slh265dec", "vp8": "v4l2slvp8dec",
           "vp9": "v4l2slvp9dec", "mpeg2": "v4l2slmpeg2dec"}
EVENT = re.compile(r"\s(\d+\.\d+): v4l2_(qbuf|dqbuf): minor = \d+, index = \d+, type = (VIDEO_\w+)")


def tw(name, value):
    with open(os.path.join(TRACE, name), "w") as f:
        f.write(value)


def command(mode, codec, clip, tool):
    if tool == "gst":
        return ["gst-launch-1.0", "-q", "filesrc", f"location={clip}", "!", "parsebin", "!",
                GST_DEC[codec], "!", "fakesink", "sync=false"]
    if mode == "decode":
        return [os.environ.get("VREQPLAY", "./vreqplay"), "--vo", "null", "--no-audio", clip]
    return ["ffmpeg", "-nostdin", "-v", "error", "-hwaccel", "vaapi", "-hwaccel_device",
            "/dev/dri/renderD128", "-hwaccel_output_format", "vaapi", "-i", clip,
            "-map", "0:v:0", "-f", "null", "-"]


def reload_visl():
    subprocess.run(["modprobe", "-r", "visl"], check=False)
    subprocess.run(["modprobe", "visl"], check=True)
    for _ in range(50):
        if os.path.exists("/dev/media0"):
            return
        time.sleep(0.1)
    raise SystemExit("bench-guest: visl did not come back")


def trace_start():
    tw("tracing_on", "0")
    tw("events/enable", "0")
    tw("trace_clock", "mono")
    tw("buffer_size_kb", "16384")
    tw("trace", "")
    tw("events/v4l2/v4l2_qbuf/enable", "1")
    tw("events/v4l2/v4l2_dqbuf/enable", "1")
    tw("tracing_on", "1")


def trace_stop(t0_s):
    """Parses the ring: (frames, first CAPTURE dequeue in ms after t0_s, max in flight)."""
    tw("tracing_on", "0")
    frames, first, inflight, most = 0, None, 0, 0
    with open(os.path.join(TRACE, "trace")) as f:
        for line in f:
            m = EVENT.search(line)
            if not m:
                continue
            ts, op, kind = float(m.group(1)), m.group(2), m.group(3)
            if kind.startswith("VIDEO_CAPTURE"):
                if op == "dqbuf":
                    frames += 1
                    if first is None:
                        first = (ts - t0_s) * 1000.0
            elif kind.startswith("VIDEO_OUTPUT"):
                inflight += 1 if op == "qbuf" else -1
                most = max(most, inflight)
    tw("trace", "")
    return frames, first, most


def tool_env(mode, tool):
    """The environment of a run: ffmpeg (mode va) loads vreqplay's VA driver by name."""
    env = dict(os.environ)
    if mode == "va" and tool != "gst":
        env.update(LIBVA_DRIVERS_PATH=os.environ.get("VA_DRIVERS_PATH", os.getcwd() + "/va"),
                   LIBVA_DRIVER_NAME="vreq")
    return env


def one_run(mode, codec, clip, tool, log):
    env = tool_env(mode, tool)
    reload_visl()
    trace_start()
    with open(log, "wb") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(command(mode, codec, clip, tool), stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = (time.monotonic() - t0) * 1000.0
    frames, first, inflight = trace_stop(t0)
    return {"rc": os.waitstatus_to_exitcode(status), "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1000.0,
            "wall_ms": wall, "rss_kb": ru.ru_maxrss, "frames": frames, "first_ms": first,
            "inflight": inflight}


def strace_run(mode, codec, clip, tool, log):
    env = tool_env(mode, tool)
    reload_visl()
    summary = log + ".strace"
    with open(log, "wb") as out:
        rc = subprocess.run(["strace", "-f", "-c", "-o", summary] + command(mode, codec, clip, tool),
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env).returncode
    total = None
    with open(summary) as f:
        for line in f:
            fields = line.split()
            if fields and fields[-1] == "total":
                total = int(fields[3])  # % time, seconds, usecs/call, calls, [errors,] total
    return rc, total


def run(outdir, runs, cases):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "runs.jsonl"), "a") as res:
        for case in cases:
            mode, codec, clip = case.split(":", 2)
            name = f"{mode}-{codec}-{os.path.basename(clip)}"
            ours = "vreq" if mode == "decode" else "ffmpeg-va"
            for i in range(runs):
                order = [ours, "gst"] if i % 2 == 0 else ["gst", ours]
                for tool in order:
                    r = one_run(mode, codec, clip, tool, os.path.join(outdir, f"{name}.{tool}.{i}.log"))
                    r.update(case=name, mode=mode, codec=codec, clip=clip, tool=tool, run=i)
                    print(json.dumps(r), flush=True)
                    res.write(json.dumps(r) + "\n")
                    res.flush()
            for tool in (ours, "gst"):
                rc, calls = strace_run(mode, codec, clip, tool, os.path.join(outdir, f"{name}.{tool}.strace.log"))
                r = {"case": name, "mode": mode, "codec": codec, "clip": clip, "tool": tool,
                     "run": "strace", "rc": rc, "syscalls": calls}
                print(json.dumps(r), flush=True)
                res.write(json.dumps(r) + "\n")
                res.flush()


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "MB":
        return f"{v / 1024:.1f}"
    if unit == "ms":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    return f"{v:.1f}"


def table(dirs):
    rows = []
    for d in dirs:
        with open(os.path.join(d, "runs.jsonl")) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    cases = []
    for r in rows:
        if r["case"] not in cases:
            cases.append(r["case"])
    figures = [  # key, label, unit, per frame
        ("cpu_ms", "CPU user+sys per frame, ms", "ms", True),
        ("wall_ms", "wall, ms", "ms", False),
        ("rss_kb", "max RSS, MB", "MB", False),
        ("first_ms", "start -> first CAPTURE dequeued, ms", "ms", False),
        ("inflight", "max requests in flight", "", False),
    ]
    bad = 0
    for case in cases:
        timed = [r for r in rows if r["case"] == case and r["run"] != "strace"]
        tools = sorted({r["tool"] for r in timed}, key=lambda t: t == "gst")
        if len(tools) != 2:
            continue
        ours, peer = tools
        frames = {t: [r["frames"] for r in timed if r["tool"] == t] for t in tools}
        failed = [r for r in timed if r["rc"] != 0 or r["frames"] == 0]
        bad += len(failed)
        print(f"\n## {case}: {len(frames[ours])} runs each; frames {ours} {sorted(set(frames[ours]))}, "
              f"{peer} {sorted(set(frames[peer]))}" + (f"; {len(failed)} FAILED runs" if failed else ""))
        print(f"| figure | {ours} / {peer} (medians) | {ours} min / median / max | {peer} min / median / max |")
        print("|---|---|---|---|")
        for key, label, unit, per_frame in figures:
            vals = {}
            for t in tools:
                v = []
                for r in timed:
                    if r["tool"] != t or r.get(key) is None:
                        continue
                    x = r[key] / r["frames"] if per_frame and r["frames"] else r[key]
                    v.append(x)
                vals[t] = v
            if not vals[ours] or not vals[peer]:
                print(f"| {label} | - | - | - |")
                continue
            mo, mp = statistics.median(vals[ours]), statistics.median(vals[peer])
            ratio = f"{mo / mp:.2f}" if mp else "-"
            print(f"| {label} | {ratio} | " + " / ".join(fmt(x, unit) for x in (min(vals[ours]), mo, max(vals[ours])))
                  + " | " + " / ".join(fmt(x, unit) for x in (min(vals[peer]), mp, max(vals[peer]))) + " |")
        sc = {}
        for t in tools:
            s = [r for r in rows if r["case"] == case and r["run"] == "strace" and r["tool"] == t]
            if s and s[0].get("syscalls") and frames[t] and statistics.median(frames[t]) > 0:
                sc[t] = s[0]["syscalls"] / statistics.median(frames[t])
        if len(sc) == 2:
            print(f"| syscalls per frame (strace -f -c, one run) | {sc[ours] / sc[peer]:.2f} | {sc[ours]:.1f} | {sc[peer]:.1f} |")
    return 1 if bad else 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "table":
        return table(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
