#!/usr/bin/env python3
"""check-audio-xcorr.py CAPTURE MEDIA [options] - does what the loopback
captured match ffmpeg's decode of the track? (host side, numpy)

CAPTURE is the prefix of tests/vm/audio-record.py's files (CAPTURE.s16 / .ts /
.meta: 48000 Hz stereo S16_LE from hw:Loopback,1,0 while the player played
MEDIA into hw:Loopback,0,0). The reference is ffmpeg's decode of MEDIA's
audio track --aid (mpv's numbering: 1 = the first audio track; ffmpeg's
-map 0:a:<aid-1>), down-mixed / resampled by ffmpeg to 48 kHz stereo
(-ac 2 -ar 48000: libswresample's default matrix, ITU-R BS.775 style, and its
default resampler), as the player must convert it for the loopback.

Measures
  * where the run's sound starts (its first 10 ms above -60 dBFS) against
    where the track's does; the capture before that is left out;
  * lag: the capture frame where reference sample 0 lies (FFT cross-correlation
    of the channel sums, searched +-200 ms around that start, so start-up
    silence and a periodic track cannot pull it off), printed as ms from the
    player's launch (--launch-uptime: the "lag" column);
  * peak: the normalised cross-correlation coefficient at that lag over the
    overlap, both channels (sum x*y / sqrt(sum x^2 * sum y^2); 1 = identical
    up to gain; the gain is printed in dB). At least 90 % of the track's
    audible part must be compared (--cut: a run the harness stopped, at least
    1 s of it);
  * lag stability: the best lag of every non-silent 1-s window of the
    reference (RMS >= -45 dBFS), searched +-20 ms around the global lag; the
    spread (max - min) in ms; every window's lag is printed when it moved. A
    dropped or repeated period (underrun, xrun, a gap) moves it by a period
    or more. Not checked on a periodic track (autocorrelation >= 0.9 within
    20 ms: a steady tone, a repeated beep), where a window's lag is ambiguous;
  * with --player-log: the player's exit line's underrun count
    ("underruns N" / "N underruns"), and the one-line message
    "audio: <codec> not supported, playing without sound" (vreqplay may add
    the reason in brackets after the codec; then the track is "not
    supported" and the capture must be silent instead); --player-rc: a
    non-zero exit of a run not --cut fails;
  * a track of digital silence: the capture must be silent too.
Pass: peak >= --min-peak (0.95), spread <= --max-spread-ms (1.0), enough
compared, no capture overrun in this run, and with --want-underruns N the exit
line says exactly N underruns.
--row FILE appends "file aid codec peak lag_ms spread_ms played" (tab-separated).
Exit 0 pass, 1 fail.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audio_capture as ac  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# (vreqplay adds what it lacks in brackets: "audio: aac (6 channels) not supported, ...")
UNSUPPORTED = re.compile(r"audio: (\S+(?: \([^)]*\))?) not supported, playing without sound")
UNDERRUNS = re.compile(r"(?:underruns?[ =:]+(\d+)|(\d+) underruns?)", re.I)


def codec_of(media, aid):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:%d" % (aid - 1), "-show_entries",
                        "stream=codec_name,profile", "-of", "csv=p=0", media], capture_output=True, text=True)
    first = (r.stdout.strip().splitlines() or ["?"])[0].split(",")
    return first[0] + ("/" + first[1] if len(first) > 1 and first[1] not in ("", "unknown", "LC") else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("media")
    ap.add_argument("--aid", type=int, default=1)
    ap.add_argument("--ref-dir", default="target/vm-audio/ref")
    ap.add_argument("--min-peak", type=float, default=0.95)
    ap.add_argument("--max-spread-ms", type=float, default=1.0)
    ap.add_argument("--min-overlap", type=float, default=0.0, help="seconds compared at least")
    ap.add_argument("--player-log")
    ap.add_argument("--want-underruns", type=int)
    ap.add_argument("--launch-uptime", type=float, help="guest /proc/uptime at the player's launch (s)")
    ap.add_argument("--end-uptime", type=float,
                    help="guest /proc/uptime when the player had exited (s): with --launch-uptime, compare only the "
                    "capture between the two (one run out of a capture of several; /proc/uptime is CLOCK_BOOTTIME, "
                    "= CLOCK_MONOTONIC in a guest that never suspends; 10 ms resolution)")
    ap.add_argument("--player-rc", type=int, help="the player's exit status (0 expected unless --cut)")
    ap.add_argument("--cut", action="store_true", help="the run was stopped before the track's end: compare "
                    "what it played (at least 1 s of the track's audible part, or all of it when shorter)")
    ap.add_argument("--want-level-db", type=float,
                    help="the capture's level against ffmpeg's decode must be this (dB, +-0.5): "
                         "the player ran with --volume V, gain (V/100)^3 = 60*log10(V/100) dB")
    ap.add_argument("--label")
    ap.add_argument("--row")
    a = ap.parse_args()

    label = a.label or os.path.basename(a.media)
    codec = codec_of(a.media, a.aid)
    state = {"ok": True}

    def check(cond, msg):
        state["ok"] &= bool(cond)
        print("%s %s: %s" % ("ok  " if cond else "FAIL", label, msg))

    log = ""
    if a.player_log:
        log = ANSI.sub("", open(a.player_log, errors="replace").read())
    cap = ac.Capture(a.capture)
    print("     %s" % cap.describe())
    if a.launch_uptime is not None and a.end_uptime is not None:
        cap.crop(a.launch_uptime * 1e9 - 20e6, a.end_uptime * 1e9)
        print("     this run: capture frames %d..%d (%.3f s)" % (cap.base, cap.base + len(cap.samples),
                                                               len(cap.samples) / ac.RATE))
    check(cap.overruns == 0, "no capture overrun (%d)" % cap.overruns)
    if a.player_rc not in (None, 0) and not a.cut:
        last = [x for x in log.splitlines() if x.startswith("vreqplay:")][-1:] or log.splitlines()[-1:] or [""]
        check(False, "player exit status %d: %s" % (a.player_rc, last[0][:200]))
        peak, lag_ms, spread, played = (float("nan"),) * 3 + ("no (exit %d)" % a.player_rc,)
    else:
        peak, lag_ms, spread, played = measure(a, label, codec, cap, log, check)
    if a.want_underruns is not None:
        u = [int(x or y) for x, y in UNDERRUNS.findall(log)]
        check(bool(u) and u[-1] == a.want_underruns,
              "player's exit line: underruns %s (want %d)" % (u[-1] if u else "not found", a.want_underruns))
    if a.row:
        with open(a.row, "a") as f:
            f.write("%s\t%d\t%s\t%.4f\t%.2f\t%.3f\t%s%s\n"
                    % (label, a.aid, codec, peak, lag_ms, spread, played, "" if state["ok"] else " (FAILED)"))
    sys.exit(0 if state["ok"] else 1)


def rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


def measure(a, label, codec, cap, log, check):
    """The comparison; returns (peak, lag ms, spread ms, played)."""
    nan = float("nan")
    m = UNSUPPORTED.search(log)
    if m:
        check(rms(cap.samples) < 1e-3, "player said %r; capture silent (rms %.2e)" % (m.group(0), rms(cap.samples)))
        return nan, nan, nan, "not supported (%s)" % m.group(1)
    os.makedirs(a.ref_dir, exist_ok=True)
    ref = ac.ffmpeg_reference(a.media, a.aid - 1,
                              os.path.join(a.ref_dir, "%s.a%d.f32" % (label.replace("/", "_"), a.aid)))
    if rms(ref) < 1e-5:
        # a track of digital silence (balle-jbart's): nothing to correlate;
        # what the player wrote must be silent too
        check(rms(cap.samples) < 1e-3, "the track is silence (ffmpeg's decode rms %.1e); capture silent too "
              "(rms %.1e)" % (rms(ref), rms(cap.samples)))
        return nan, nan, nan, "silent track"
    # Where this run's sound starts: its first audible 10 ms (-60 dBFS) is the
    # reference's first audible 10 ms. The lag is searched within +-200 ms of
    # that (start-up silence stays out of the comparison, and a periodic track,
    # a steady tone or a repeated beep, cannot match a period away).
    span, rspan = ac.active_span(cap.samples), ac.active_span(ref)
    if span is None:
        check(False, "sound in the capture (all of it below -60 dBFS)")
        return nan, nan, nan, "no (silent)"
    expect = span[0] - rspan[0]
    i0 = max(0, expect - ac.RATE // 5)
    cap.samples, cap.base = cap.samples[i0:], cap.base + i0
    expect -= i0
    print("     sound from %.3f s of this run (the track's from %.3f s)" % ((span[0]) / ac.RATE, rspan[0] / ac.RATE))
    lag = ac.xcorr_lag(cap.samples, ref, expect - ac.RATE // 5, expect + ac.RATE // 5)
    peak, overlap = ac.ncc(cap.samples, ref, lag)
    # compared: the audible part of the track inside the capture at that lag
    overlap = max(0, min(rspan[1], len(cap.samples) - lag) - max(rspan[0], -lag))
    audible = (rspan[1] - rspan[0]) / ac.RATE
    want = 0.9 * audible
    if a.cut:
        # stopped by the harness while still playing: what it played counts
        # (a track may open with silence, sintel-captions.ts for 1.24 s)
        want = min(audible, 1.0)
    want = max(want, a.min_overlap)
    lag_ms = lag * 1000.0 / ac.RATE
    extra = ""
    if a.launch_uptime is not None:
        lag_ms = cap.time_ns(lag) / 1e6 - a.launch_uptime * 1000.0
        extra = "; reference sample 0 heard %.1f ms after the player's launch" % lag_ms
    print("     reference %.3f s (%s; audible %.3f s); lag %d frames%s"
          % (len(ref) / ac.RATE, codec, audible, lag, extra))
    check(overlap / ac.RATE >= want - 1e-9,
          "compared %.3f s of the track's %.3f audible s (want >= %.3f s)" % (overlap / ac.RATE, audible, want))
    check(peak >= a.min_peak, "normalised cross-correlation peak %.4f (want >= %.2f)" % (peak, a.min_peak))
    r0, r1 = max(0, -lag), min(len(ref), len(cap.samples) - lag)
    if peak < a.min_peak and r1 > r0:
        # where it differs: one mark per 100 ms of the track at this lag
        # ('#' coefficient >= 0.95, '+' >= 0.5, '.' below, ' ' silent in both)
        marks = []
        for t in range(r0, r1 - ac.RATE // 10 + 1, ac.RATE // 10):
            x = cap.samples[lag + t: lag + t + ac.RATE // 10].astype(np.float64).ravel()
            y = ref[t: t + ac.RATE // 10].astype(np.float64).ravel()
            den = np.sqrt(np.dot(x, x) * np.dot(y, y))
            c = np.dot(x, y) / den if den > 1e-12 else None
            marks.append(" " if c is None else "#" if c >= 0.95 else "+" if c >= 0.5 else ".")
        print("     match per 100 ms from %.1f s: [%s]" % (r0 / ac.RATE, "".join(marks)))
    if r1 > r0:
        # the gain against ffmpeg's (the coefficient ignores it): e.g. +3 dB when
        # mono goes to both channels at full level where swresample's matrix puts
        # it at -3 dB (M_SQRT1_2) on each
        level = 20 * np.log10((rms(cap.samples[lag + r0:lag + r1]) + 1e-12) / (rms(ref[r0:r1]) + 1e-12))
        print("     level %+.2f dB against ffmpeg's decode" % level)
        if a.want_level_db is not None:
            check(abs(level - a.want_level_db) <= 0.5,
                  "level %+.2f dB (want %+.2f dB +- 0.5: --volume)" % (level, a.want_level_db))
    elif a.want_level_db is not None:
        check(False, "level not measured (want %+.2f dB)" % a.want_level_db)
    w = ac.window_lags(cap.samples, ref, lag)
    spread = nan
    per = ac.periodic(ref)
    if w and per >= 0.9:
        lags = np.array([x[1] for x in w])
        print("     periodic track (autocorrelation %.3f within 20 ms): a window's lag is ambiguous by a period, "
              "lag stability not checked (window lags %+d..%+d frames; window peaks %.3f..%.3f)"
              % (per, lags.min() - lag, lags.max() - lag, min(x[2] for x in w), max(x[2] for x in w)))
        w = []
    elif w:
        lags = np.array([x[1] for x in w])
        spread = float((lags.max() - lags.min()) * 1000.0 / ac.RATE)
        check(spread <= a.max_spread_ms,
              "lag over %d 1-s windows: %+d..%+d frames from the global lag, spread %.3f ms (want <= %.1f ms);"
              " window peaks %.3f..%.3f"
              % (len(w), lags.min() - lag, lags.max() - lag, spread, a.max_spread_ms,
                 min(x[2] for x in w), max(x[2] for x in w)))
        if spread > a.max_spread_ms:
            # where the sound slipped: a step in this list is a gap (underrun)
            # or a drop in what the player wrote, at that second of the track
            print("     lag by window (s: frames from the global lag): " + " ".join(
                "%.0f:%+d" % (x[0], x[1] - lag) for x in w))
    elif per < 0.9:
        print("     (no whole non-silent 1-s window inside the capture: lag stability not measured)")
    return peak, lag_ms, spread, "yes" if peak >= a.min_peak else "no"


if __name__ == "__main__":
    main()
