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
  window  vreqplay --no-audio CLIP in weston   vs
          gst-launch-1.0 filesrc ! parsebin ! v4l2sl<codec>dec ! waylandsink
          in the same weston: a fresh one per run, started as
          tests/vm/window-test.sh does (trixie/present/lib.sh comp_start:
          headless, GL renderer = llvmpipe with /dev/dri hidden from it, kiosk
          shell, output 1920x1080). Paced at the clip's frame rate: wall is about the
          clip's duration, CPU per frame is the figure that matters.
Each run of a tool (RUNS of each, alternating which tool goes first) starts
with visl reloaded and ftrace recording v4l2_qbuf / v4l2_dqbuf on the
CLOCK_MONOTONIC trace clock, and measures:
  cpu_ms     user + sys CPU of the process and its children (os.wait4's
             rusage), ms; user_ms and sys_ms apart
  cpu_first_ms  the CPU (user + sys, all threads, /proc/PID/stat's utime +
             stime + cutime + cstime in clock ticks, sampled every 20 ms while
             the tool runs) spent until first_ms: start-up (loading, device
             probing, parsing up to the first picture), ms
  cpu_steady_ms  (cpu_ms - cpu_first_ms) / (frames - 1): CPU per frame after
             the first picture, ms (resolution: one clock tick, 10 ms, over
             the run)
  wall_ms    process start -> exit, ms
  rss_kb     max resident set size, KiB: the process's VmHWM (/proc/PID/status),
             the highest of the samples taken every 20 ms. Not ru_maxrss: Linux
             carries the pre-exec image's high-water mark into it (exec_mmap's
             setmax_mm_hiwater_rss), so a child forked from this Python had
             ru_maxrss >= this harness's RSS (~13-15 MB): every vreqplay figure
             of runs 1-3 read 13.4 or 15.3 MB, the harness's, while its VmHWM was
             6.6-7.7 MB. rss_rusage_kb keeps ru_maxrss
  frames     visl's CAPTURE dequeues (pictures decoded)
  first_ms   process start -> the first CAPTURE buffer dequeued, ms
  inflight   the most OUTPUT buffers queued and not yet dequeued at once
             (one media request each: requests in flight)
  shown_ms   (window) process start -> the first wl_surface.commit of the
             video surface after a buffer was attached to it, as weston's
             protocol log (`weston-debug proto`, started before the player)
             timestamps the request on arrival: CLOCK_REALTIME, ms resolution.
             The video surface is the client's wl_surface with the most
             buffers attached. Tool-neutral (the compositor's view of any
             client; nothing in the player is asked) and free for the player
             (WAYLAND_DEBUG=1 would cost it a write per message). It is the
             frame reaching the compositor, not its repaint on the output.
  attached   (window) buffers attached to the video surface; attached_dmabuf
             / attached_shm: of those, wl_buffers from zwp_linux_buffer_params_v1
             / from wl_shm_pool (weston's log: which path each tool took);
             wl_error: the wl_display.error weston sent the client, if any
             (gst-launch exits 0 after one: the table counts the run failed);
             comp_hung: weston did not handle SIGTERM at the end of the run
             (comp_hung(): its main loop had stopped; attached and wall are then
             the compositor's)
  timed_out_s  the run was still going at the mode's time limit (LIMIT_S: 120 s,
             window 30 s) and was stopped (SIGINT, then SIGKILL): a peer's is
             reported as stalled, ours counts as failed
One more run of each tool under `strace -f -o` (all threads; its CPU and wall
are not used: strace slows the process) gives its syscalls, counted by name
and, for ioctl, by request as strace names it (VIDIOC_QBUF,
MEDIA_REQUEST_IOC_QUEUE, ...), with the failed ones and EAGAIN among them.
Results: one JSON line per run in OUTDIR/runs.jsonl (the strace run's counts
in "calls"; the trace itself is deleted, it is large).
The table divides vreqplay's (or ffmpeg's, mode va) median by GStreamer's
for each figure per frame (cpu; syscalls: per frame the strace run itself
decoded, visl's CAPTURE dequeues traced as in the timed runs) or per run
(wall, rss, first, inflight, shown), and prints min / median / max of each
tool beside it; under it, the strace run's calls per frame it decoded (older
results: per median frames of the timed runs): each ioctl request from 0.05
per frame and each other syscall from 0.25, the rest summed (set-up, mostly:
once per run).
"""
import json
import os
import re
import signal
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
        sink = ["waylandsink"] if mode == "window" else ["fakesink", "sync=false"]
        return ["gst-launch-1.0", "-q", "filesrc", f"location={clip}", "!", "parsebin", "!",
                GST_DEC[codec], "!"] + sink
    if mode == "decode":
        return [os.environ.get("VREQPLAY", "./vreqplay"), "--vo", "null", "--no-audio", clip]
    if mode == "window":
        return [os.environ.get("VREQPLAY", "./vreqplay"), "--no-audio", clip]
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


def tool_env(mode, tool, comp=None):
    """The environment of a run: ffmpeg (mode va) loads vreqplay's VA driver by name;
    mode window: the compositor's WAYLAND_DISPLAY and XDG_RUNTIME_DIR."""
    env = dict(os.environ)
    if mode == "va" and tool != "gst":
        env.update(LIBVA_DRIVERS_PATH=os.environ.get("VA_DRIVERS_PATH", os.getcwd() + "/va"),
                   LIBVA_DRIVER_NAME="vreq")
    if comp:
        env.update(WAYLAND_DISPLAY=comp["display"], XDG_RUNTIME_DIR=comp["runtime"])
    return env


# mode window: weston as tests/vm/window-test.sh starts it (tests/vm/trixie/present/lib.sh:
# headless, GL renderer = llvmpipe with /dev/dri hidden from it, kiosk shell; 1920x1080)
LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trixie", "present", "lib.sh")


def comp_start(log):
    """A fresh weston for one run (llvmpipe weston crashes now and then when dmabuf
    clients follow one another in one weston, tests/vm/window-test.sh)."""
    # output 1920x1080, the clips' size: waylandsink sets its xdg_surface geometry to the
    # video's size, and more than kiosk's fullscreen state is a protocol error
    out = subprocess.run(["bash", "-c", 'export VREQ_OUT_W=1920 VREQ_OUT_H=1080; source "$0"; mkdir -p /dev/dri; HIDE_DRI=1 comp_start weston headless gl "$1" >&2'
                          ' && echo "$CPID $WAYLAND_DISPLAY $XDG_RUNTIME_DIR"', LIB, log],
                         stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench-guest: weston did not start (log {log})")
    cpid, display, runtime = out.stdout.split()
    return {"cpid": cpid, "display": display, "runtime": runtime}


def comp_hung(log):
    """True when weston did not handle comp_stop's SIGTERM (no "caught signal 15" in its
    log: lib.sh's comp_stop then SIGKILLs it): its main loop had stopped. Under TCG with
    llvmpipe this happens in most window runs, for both tools (weston's main thread found
    in futex_wait for 10 s and more; proto logs ending seconds into playback); such a run's
    attached count and wall are the compositor's, not the player's."""
    try:
        with open(log, errors="replace") as f:
            return "caught signal 15" not in f.read()
    except OSError:
        return None


def comp_stop(comp):
    subprocess.run(["bash", "-c", 'source "$0"; CPID=$1; comp_stop', LIB, comp["cpid"]], check=False)


PROTO = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]\[proto\] client \S+ \(PID (\d+)\) (rq|ev) (\S+?)@(\d+)\.(\w+)\((.*)\)$")


def proto_first_frame(path, pid, t0_real):
    """Parses weston's protocol log (weston-debug proto, CLOCK_REALTIME local time, ms) for
    the client PID: the video surface is the wl_surface with the most wl_surface.attach of a
    buffer; returns (ms from t0_real to the first wl_surface.commit of that surface after a
    buffer was attached to it, buffers attached to it, of those how many from
    zwp_linux_buffer_params_v1 (dmabuf) / wl_shm_pool, the wl_display.error sent it if any)."""
    kind, attaches = {}, {}
    first_attach, first_commit, error = {}, {}, None
    with open(path, errors="replace") as f:
        for line in f:
            m = PROTO.match(line.rstrip("\n"))
            if not m or int(m.group(2)) != pid:
                continue
            ts, d, iface, oid, msg, args = m.group(1), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
            nid = re.search(r"new id wl_buffer@(\d+)", args)
            if nid and iface == "zwp_linux_buffer_params_v1":
                kind[nid.group(1)] = "dmabuf"
            elif nid and iface == "wl_shm_pool":
                kind[nid.group(1)] = "shm"
            if d == "ev" and iface == "wl_display" and msg == "error":
                error = args  # a protocol error: the client is disconnected
            if d != "rq" or iface != "wl_surface":
                continue
            if msg == "attach":
                buf = re.match(r"wl_buffer@(\d+)", args)
                if buf:
                    attaches.setdefault(oid, []).append(kind.get(buf.group(1), "other"))
                    first_attach.setdefault(oid, ts)
            elif msg == "commit" and oid in first_attach:
                first_commit.setdefault(oid, ts)
    if not attaches:
        return None, 0, 0, 0, error
    video = max(attaches, key=lambda o: len(attaches[o]))
    t = time.mktime(time.strptime(first_commit[video][:19], "%Y-%m-%d %H:%M:%S")) + float("0" + first_commit[video][19:])
    a = attaches[video]
    return (t - t0_real) * 1000.0, len(a), a.count("dmabuf"), a.count("shm"), error


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_ms(pid):
    """utime + stime + cutime + cstime of PID (all its threads, its waited-for
    children) from /proc/PID/stat, ms; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is stat's field 3 (state): utime..cstime are fields 14-17
    return sum(int(x) for x in fields[11:15]) * 1000.0 / CLK_TCK


def proc_hwm_kb(pid):
    """VmHWM of PID (its peak resident set since its exec), KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


# A run still going after this long (s) is stopped (stop()) and marked "timed_out_s": the
# 240-frame clips take ~1-3 s to decode and 8 s to play in the window (paced at 30 fps).
# GStreamer's waylandsink pipeline stalls when this weston hangs (comp_hung): on the HEVC and
# MPEG-2 clips after 82-151 frames and ends ~100 s later (bench run 3, rc 0); its CPU per frame is
# still per frame it decoded, its wall and frame count are those of a stalled run.
LIMIT_S = {"decode": 120, "va": 120, "window": 30}


def stop(p):
    """SIGINT (gst-launch-1.0 and vreqplay stop on it and exit), SIGKILL 5 s later; for a
    Popen waited on by Popen.wait (one_run reaps its child itself with os.wait4 and does
    the same in its loop)."""
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()


def one_run(mode, codec, clip, tool, log):
    comp = comp_start(log + ".weston") if mode == "window" else None
    env = tool_env(mode, tool, comp)
    reload_visl()
    proto = None
    if comp:
        # weston's server-side protocol log: timestamps the player's requests without
        # costing the player anything (WAYLAND_DEBUG=1 would: a write per message)
        proto = subprocess.Popen(["weston-debug", "proto"], stdout=open(log + ".proto", "wb"),
                                 stderr=subprocess.DEVNULL, env=env)
        time.sleep(1)
    trace_start()
    with open(log, "wb") as out:
        t0, t0_real = time.monotonic(), time.time()
        p = subprocess.Popen(command(mode, codec, clip, tool), stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env)
        samples = []  # (ms since t0, CPU ms so far)
        hwm = 0  # the highest VmHWM sampled, KiB
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - t0
            if not timed_out and elapsed > LIMIT_S[mode]:
                timed_out = True
                p.send_signal(signal.SIGINT)  # as stop(), reaped by the wait4 above
            elif timed_out and elapsed > LIMIT_S[mode] + 5:
                p.kill()
            cpu = proc_cpu_ms(p.pid)
            if cpu is not None:
                samples.append(((time.monotonic() - t0) * 1000.0, cpu))
            hwm = max(hwm, proc_hwm_kb(p.pid))
            time.sleep(0.02)
        wall = (time.monotonic() - t0) * 1000.0
    frames, first, inflight = trace_stop(t0)
    cpu_ms = (ru.ru_utime + ru.ru_stime) * 1000.0
    r = {"rc": os.waitstatus_to_exitcode(status), "cpu_ms": cpu_ms,
         "user_ms": ru.ru_utime * 1000.0, "sys_ms": ru.ru_stime * 1000.0,
         "wall_ms": wall, "rss_kb": hwm or None, "rss_rusage_kb": ru.ru_maxrss,
         "frames": frames, "first_ms": first,
         "inflight": inflight}
    if timed_out:
        r["timed_out_s"] = LIMIT_S[mode]
    if first is not None and frames > 1:
        # the first sample taken at or after the first dequeue (else the total)
        at = next((c for t, c in samples if t >= first), cpu_ms)
        r.update(cpu_first_ms=at, cpu_steady_ms=max(cpu_ms - at, 0.0) / (frames - 1))
    if comp:
        time.sleep(1)  # weston-debug writes the last requests
        proto.terminate()
        proto.wait()
        comp_stop(comp)
        shown, attached, dmabuf, shm, error = proto_first_frame(log + ".proto", p.pid, t0_real)
        r.update(shown_ms=shown, attached=attached, attached_dmabuf=dmabuf, attached_shm=shm,
                 comp_hung=comp_hung(log + ".weston"))
        if error:
            r["wl_error"] = error
    return r


# raw forms of the media request ioctls, should this strace not name them
MEDIA_IOC = {"_IOC(_IOC_NONE, 0x7c, 0x80, 0)": "MEDIA_REQUEST_IOC_QUEUE",
             "_IOC(_IOC_NONE, 0x7c, 0x81, 0)": "MEDIA_REQUEST_IOC_REINIT",
             "_IOC(_IOC_READ, 0x7c, 0x5, 0x4)": "MEDIA_IOC_REQUEST_ALLOC"}
CALL = re.compile(r"^(\d+) +(\w+)\((.*)")
RESUMED = re.compile(r"^(\d+) +<\.\.\. (\w+) resumed>(.*)")
RESULT = re.compile(r"\) += (-?\w+)(?: (E[A-Z0-9]+))?")


def strace_count(path):
    """Counts an `strace -f -o` trace: {name: [calls, failed, EAGAIN]}, name the syscall or,
    for ioctl, "ioctl REQUEST" (strace's name of the request)."""
    calls, pending = {}, {}

    def done(key, rest):
        m = RESULT.search(rest)
        c = calls.setdefault(key, [0, 0, 0])
        c[0] += 1
        if m and m.group(1) == "-1":
            c[1] += 1
            c[2] += m.group(2) == "EAGAIN"

    with open(path, errors="replace") as f:
        for line in f:
            m = RESUMED.match(line)
            if m:
                done(pending.pop(m.group(1), m.group(2)), m.group(3))
                continue
            m = CALL.match(line)
            if not m:
                continue  # +++ exited, --- SIGCHLD, ...
            key = m.group(2)
            if key == "ioctl":
                req = m.group(3).split(", ", 2)[1] if ", " in m.group(3) else "?"
                req = req.split(" ", 1)[0].rstrip(",)")
                if req.startswith("_IOC("):
                    raw = re.match(r"_IOC\([^)]*\)", m.group(3).split(", ", 1)[1])
                    req = MEDIA_IOC.get(raw.group(0), raw.group(0)) if raw else req
                key = f"ioctl {req}"
            if line.rstrip().endswith("<unfinished ...>"):
                pending[m.group(1)] = key
            else:
                done(key, m.group(3))
    return calls


def strace_run(mode, codec, clip, tool, log):
    comp = comp_start(log + ".weston") if mode == "window" else None
    env = tool_env(mode, tool, comp)
    reload_visl()
    trace = log + ".strace"
    trace_start()
    with open(log, "wb") as out:
        p = subprocess.Popen(["strace", "-f", "-o", trace] + command(mode, codec, clip, tool),
                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            rc = p.wait(timeout=LIMIT_S[mode] * 2)  # strace slows the process
        except subprocess.TimeoutExpired:
            stop(p)  # strace passes the SIGINT on to the traced process
            rc = p.wait()
    # this run's own frames: slowed by strace, a paced sink drops late frames (GStreamer's
    # QoS even before decoding them)
    frames = trace_stop(time.monotonic())[0]
    if comp:
        comp_stop(comp)
    calls = strace_count(trace)
    os.remove(trace)  # large; the counts are kept in runs.jsonl
    return rc, sum(c[0] for c in calls.values()), calls, frames


def run(outdir, runs, cases):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "runs.jsonl"), "a") as res:
        for case in cases:
            mode, codec, clip = case.split(":", 2)
            name = f"{mode}-{codec}-{os.path.basename(clip)}"
            ours = "ffmpeg-va" if mode == "va" else "vreq"
            for i in range(runs):
                order = [ours, "gst"] if i % 2 == 0 else ["gst", ours]
                for tool in order:
                    r = one_run(mode, codec, clip, tool, os.path.join(outdir, f"{name}.{tool}.{i}.log"))
                    r.update(case=name, mode=mode, codec=codec, clip=clip, tool=tool, run=i)
                    print(json.dumps(r), flush=True)
                    res.write(json.dumps(r) + "\n")
                    res.flush()
            for tool in (ours, "gst"):
                rc, total, calls, frames = strace_run(mode, codec, clip, tool,
                                                      os.path.join(outdir, f"{name}.{tool}.strace.log"))
                r = {"case": name, "mode": mode, "codec": codec, "clip": clip, "tool": tool,
                     "run": "strace", "rc": rc, "syscalls": total, "frames": frames, "calls": calls}
                print(json.dumps({k: v for k, v in r.items() if k != "calls"}), flush=True)
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
        ("user_ms", "CPU user per frame, ms", "ms", True),
        ("sys_ms", "CPU sys per frame, ms", "ms", True),
        ("cpu_first_ms", "CPU until the first CAPTURE dequeue (start-up), ms", "ms", False),
        ("cpu_steady_ms", "CPU per frame after the first CAPTURE dequeue, ms", "ms", False),
        ("wall_ms", "wall, ms", "ms", False),
        ("rss_kb", "max RSS (VmHWM), MB", "MB", False),
        ("first_ms", "start -> first CAPTURE dequeued, ms", "ms", False),
        ("inflight", "max requests in flight", "", False),
        ("shown_ms", "start -> first frame committed to the window, ms", "ms", False),
    ]
    bad = 0
    for case in cases:
        timed = [r for r in rows if r["case"] == case and r["run"] != "strace"]
        tools = sorted({r["tool"] for r in timed}, key=lambda t: t == "gst")
        if len(tools) != 2:
            continue
        ours, peer = tools
        frames = {t: [r["frames"] for r in timed if r["tool"] == t] for t in tools}
        # a peer's run stopped at the time limit is a stalled peer, reported, not our failure
        failed = [r for r in timed if r["frames"] == 0 or r.get("wl_error")
                  or (r["rc"] != 0 and not (r["tool"] == peer and r.get("timed_out_s")))
                  or (r["tool"] == ours and r.get("timed_out_s"))]
        bad += len(failed)
        stalled = [r for r in timed if r["tool"] == peer and r.get("timed_out_s")]
        print(f"\n## {case}: {len(frames[ours])} runs each; frames {ours} {sorted(set(frames[ours]))}, "
              f"{peer} {sorted(set(frames[peer]))}" + (f"; {len(failed)} FAILED runs" if failed else ""))
        if stalled:
            print(f"{peer}: {len(stalled)} runs stalled and were stopped at {stalled[0]['timed_out_s']} s "
                  f"(frames decoded then: {', '.join(str(r['frames']) for r in stalled)}); their wall is the "
                  "limit's, their CPU per frame is per frame they decoded")
        if any("attached" in r for r in timed):
            # mode window: the video surface's buffers, as weston's protocol log has them
            print("window: buffers attached to the video surface (dmabuf / wl_shm) per run: " + "; ".join(
                f"{t} " + ", ".join(f"{r.get('attached')} ({r.get('attached_dmabuf')}/{r.get('attached_shm')})"
                                    + (" hung" if r.get("comp_hung") else "")
                                    for r in timed if r["tool"] == t) for t in tools))
        if any("comp_hung" in r for r in timed):
            print("window: weston hung (did not handle SIGTERM at the end; its protocol log stops) in "
                  + ", ".join(f"{sum(1 for r in timed if r['tool'] == t and r.get('comp_hung'))} of "
                              f"{sum(1 for r in timed if r['tool'] == t)} {t} runs" for t in tools)
                  + ": those runs' attached counts and wall are bounded by the compositor")
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
            if key == "shown_ms" and not vals[ours] and not vals[peer]:
                continue  # not a window case
            if not vals[ours] or not vals[peer]:
                print(f"| {label} | - | - | - |")
                continue
            mo, mp = statistics.median(vals[ours]), statistics.median(vals[peer])
            ratio = f"{mo / mp:.2f}" if mp else "-"
            print(f"| {label} | {ratio} | " + " / ".join(fmt(x, unit) for x in (min(vals[ours]), mo, max(vals[ours])))
                  + " | " + " / ".join(fmt(x, unit) for x in (min(vals[peer]), mp, max(vals[peer]))) + " |")
        sc, frames_s = {}, {}
        for t in tools:
            s = [r for r in rows if r["case"] == case and r["run"] == "strace" and r["tool"] == t]
            n = strace_frames(s, frames[t])
            frames_s[t] = s[0].get("frames", "-") if s else "-"
            if s and s[0].get("syscalls") and n:
                sc[t] = s[0]["syscalls"] / n
        if len(sc) == 2:
            print(f"| syscalls per frame (strace -f, one run) | {sc[ours] / sc[peer]:.2f} | {sc[ours]:.1f} | {sc[peer]:.1f} |")
            print(f"| frames decoded in the strace run | - | {frames_s[ours]} | {frames_s[peer]} |")
        breakdown(rows, case, tools, frames)
    return 1 if bad else 0


def strace_frames(s, timed_frames):
    """The frames the strace run decoded (visl's CAPTURE dequeues), or for results
    without them, the median of the timed runs'."""
    if s and s[0].get("frames"):
        return s[0]["frames"]
    return statistics.median(timed_frames) if timed_frames and statistics.median(timed_frames) > 0 else None


def breakdown(rows, case, tools, frames):
    """Under a case's table: its strace run's syscalls per frame by ioctl request and by
    syscall, with how many failed and how many of those with EAGAIN."""
    per = {}
    for t in tools:
        s = [r for r in rows if r["case"] == case and r["run"] == "strace" and r["tool"] == t]
        n = strace_frames(s, frames[t])
        if not s or not s[0].get("calls") or not n:
            return
        per[t] = {k: [x / n for x in v] for k, v in s[0]["calls"].items()}
    keys = set(per[tools[0]]) | set(per[tools[1]])
    z = [0.0, 0.0, 0.0]
    # ioctl requests from 0.05 per frame, other syscalls from 0.25 per frame, each; the
    # rest summed (mostly set-up: once per run, not per frame)
    def big(k):
        return max(per[t].get(k, z)[0] for t in tools) >= (0.05 if k.startswith("ioctl ") else 0.25)
    shown = sorted((k for k in keys if big(k)),
                   key=lambda k: (not k.startswith("ioctl "), -sum(per[t].get(k, z)[0] for t in tools), k))
    rest_i = {t: [sum(v[i] for k, v in per[t].items() if k.startswith("ioctl ") and not big(k)) for i in range(3)]
              for t in tools}
    rest = {t: [sum(v[i] for k, v in per[t].items() if not k.startswith("ioctl ") and not big(k)) for i in range(3)]
            for t in tools}

    def cell(v):
        if not v[0]:
            return "-"
        return f"{v[0]:.2f}" + ("" if v[1] < 0.005 else f" ({v[1]:.2f} failed" + (
            f", {v[2]:.2f} EAGAIN)" if v[2] >= 0.005 else ")"))
    print(f"\n| per frame decoded (strace -f, one run) | {tools[0]} | {tools[1]} |")
    print("|---|---|---|")
    for k in shown:
        print(f"| {k} | {cell(per[tools[0]].get(k, z))} | {cell(per[tools[1]].get(k, z))} |")
    print(f"| ioctl, other requests | {cell(rest_i[tools[0]])} | {cell(rest_i[tools[1]])} |")
    print(f"| other syscalls | {cell(rest[tools[0]])} | {cell(rest[tools[1]])} |")
    print(f"| all | {cell([sum(v[i] for v in per[tools[0]].values()) for i in range(3)])} | "
          f"{cell([sum(v[i] for v in per[tools[1]].values()) for i in range(3)])} |")


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
