"""audio_capture.py - host-side reading of tests/vm/audio-record.py's captures
(numpy), shared by check-audio-xcorr.py and check-lipsync.py.

A capture is OUT.s16 (S16_LE, 2 channels, 48000 Hz), OUT.ts (per read:
"frames avail htstamp_ns mono_ns") and OUT.meta (see audio-record.py).

Timeline: capture frame index i was reached at CLOCK_MONOTONIC time
    T(i) = t0 + i * ns_per_frame
(one line per stretch between overruns: an overrun loses frames, so the
file's index jumps in time there; a check counts the overruns of its part).
fitted by least squares over the points (frames + avail, htstamp_ns) (ALSA's
stamp of its hardware-pointer update), twice: the second fit drops points
whose residual is more than 4 x the first fit's MAD away (the first read's
stamp is often one update ahead of the position it reports). snd-aloop moves
its pointer on the jiffies timer (HZ 250 on Debian: 4 ms = 192 frames at
48 kHz), so single points scatter by about a tick; the fit averages thousands
of them. The residual (rms, max) is reported with every result. A stamp taken
after its position was reached (timer latency) biases the fit late by its
mean lateness; the reader's own monotonic_ns, which can never precede the
frame it reads, bounds that: its lower envelope came out 0.1-0.4 ms after the
fit in the VM runs, so times are good to about half a millisecond.
"""
import os
import subprocess

import numpy as np

RATE = 48000


class Capture:
    def __init__(self, prefix):
        self.prefix = prefix
        self.meta = {}
        with open(prefix + ".meta") as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                self.meta[k] = v
        self.rate = int(self.meta["rate"])
        self.channels = int(self.meta["channels"])
        self.overruns = int(self.meta.get("overruns", "0"))
        raw = np.fromfile(prefix + ".s16", dtype="<i2")
        n = len(raw) // self.channels
        self.samples = raw[: n * self.channels].reshape(n, self.channels).astype(np.float32) / 32768.0
        self.base = 0
        self._fit()
        assert self.overruns == len(self.overrun_at), "%s: .meta and .ts disagree on overruns" % prefix

    def _fit(self):
        segs, rows, self.overrun_at = [], [], []
        with open(self.prefix + ".ts") as f:
            for line in f:
                p = line.split()
                if p[:3] == ["#", "overrun", "after"]:
                    self.overrun_at.append(int(p[3]))
                    segs.append(rows)
                    rows = []
                    continue
                if not p or p[0].startswith("#") or p[1] == "-":
                    continue
                rows.append([float(p[0]) + float(p[1]), float(p[2]), float(p[3]), float(p[0])])
        segs.append(rows)
        # one line per stretch between overruns: frames [start, end) of the file
        self.segs = []
        self.fit_points = self.fit_dropped = 0
        rms, worst, late = [], [], []
        starts = [0] + self.overrun_at
        for i, rows in enumerate(segs):
            if len(rows) < 10:
                continue
            d = np.array(rows)
            idx, t = d[:, 0], d[:, 1]
            a = np.vstack([idx, np.ones_like(idx)]).T
            c = np.linalg.lstsq(a, t, rcond=None)[0]
            r = t - a @ c
            mad = np.median(np.abs(r - np.median(r))) + 1e3
            keep = np.abs(r - np.median(r)) <= 4 * mad
            c = np.linalg.lstsq(a[keep], t[keep], rcond=None)[0]
            r = t[keep] - a[keep] @ c
            self.segs.append((starts[i], c[0], c[1]))
            self.fit_points += int(keep.sum())
            self.fit_dropped += int((~keep).sum())
            rms.append(np.sqrt(np.mean(r ** 2)))
            worst.append(np.max(np.abs(r)))
            # the reader's own clock (time.monotonic_ns after each read, against
            # the frames read so far) as a cross-check of the ALSA stamps: its
            # lower envelope (a read returns after its last frame was captured,
            # never before) minus the fit, in ms; about 0 when both agree
            late.append(np.min(d[:, 2] - (c[1] + d[:, 3] * c[0])))
        if not self.segs:
            raise SystemExit("%s.ts: no stretch of at least 10 timestamped reads" % self.prefix)
        self.seg_start = np.array([x[0] for x in self.segs], dtype=np.float64)
        self.ns_per_frame = float(np.median([x[1] for x in self.segs]))
        self.resid_rms_ms = float(max(rms) / 1e6)
        self.resid_max_ms = float(max(worst) / 1e6)
        self.reader_late_ms = float(min(late) / 1e6)

    def _seg(self, f):
        return np.clip(np.searchsorted(self.seg_start, f, side="right") - 1, 0, len(self.segs) - 1)

    def time_ns(self, index):
        """CLOCK_MONOTONIC ns at which frame `index` (of `samples`; may be
        fractional) was captured (the fit of its stretch between overruns)."""
        f = np.asarray(self.base + index, dtype=np.float64)
        k = self._seg(f)
        slope = np.array([x[1] for x in self.segs])[k]
        t0 = np.array([x[2] for x in self.segs])[k]
        out = t0 + f * slope
        return float(out) if out.ndim == 0 else out

    def index_at(self, t_ns):
        """The frame of `samples` captured at CLOCK_MONOTONIC `t_ns` (fractional)."""
        best = None
        for start, slope, t0 in self.segs:
            f = (t_ns - t0) / slope
            if f >= start or best is None:
                best = f
        return best - self.base

    def crop(self, t_from_ns, t_to_ns):
        """Keep only the frames captured between the two CLOCK_MONOTONIC times
        (one player run out of a capture that spans several); `overruns` then
        counts the overruns inside."""
        i0 = max(0, int(np.floor(self.index_at(t_from_ns))))
        i1 = min(len(self.samples), int(np.ceil(self.index_at(t_to_ns))))
        self.samples = self.samples[i0:max(i0, i1)]
        self.overruns = sum(1 for f in self.overrun_at if self.base + i0 < f < self.base + i1)
        self.base += i0

    def describe(self):
        parts = "" if len(self.segs) == 1 else "%d stretches between overruns, " % len(self.segs)
        return ("capture %.3f s, %d overruns; timeline fit over %d stamps (%s%d dropped): "
                "%.3f Hz on CLOCK_MONOTONIC, residual rms %.3f ms, max %.3f ms; reader's "
                "monotonic_ns lower envelope %+.3f ms from the fit"
                % (len(self.samples) / self.rate, self.overruns, self.fit_points, parts, self.fit_dropped,
                   1e9 / self.ns_per_frame, self.resid_rms_ms, self.resid_max_ms, self.reader_late_ms))


def ffmpeg_reference(media, audio_index, out, rate=RATE, channels=2, ffmpeg="ffmpeg"):
    """ffmpeg's decode of audio track `audio_index` (0-based among the file's
    audio tracks: -map 0:a:N) of `media`, down-mixed / resampled by ffmpeg
    (-ac, -ar: libswresample's default matrix and resampler) to `rate` Hz,
    `channels` channels, f32le; cached at `out`. Returns float32 (n, channels)."""
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(media):
        subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", media, "-map", "0:a:%d" % audio_index,
                        "-ac", str(channels), "-ar", str(rate), "-f", "f32le", out + ".tmp"], check=True)
        os.replace(out + ".tmp", out)
    x = np.fromfile(out, dtype="<f4")
    return x[: len(x) // channels * channels].reshape(-1, channels)


def xcorr_lag(cap, ref, lo=None, hi=None):
    """Lag (capture index of reference sample 0) maximising the cross-correlation
    of the channel sums, by FFT; any lag with the reference starting inside the
    capture or up to len(ref) before it, or only lags in [lo, hi]."""
    c = cap.sum(axis=1).astype(np.float64)
    r = ref.sum(axis=1).astype(np.float64)
    n = 1
    while n < len(c) + len(r):
        n *= 2
    cc = np.fft.irfft(np.fft.rfft(c, n) * np.conj(np.fft.rfft(r, n)), n)
    # cc[k] = sum c[i + k] r[i]; negative lags wrap to the end
    lags = np.concatenate([np.arange(0, len(c)), np.arange(-len(r) + 1, 0)])
    vals = np.concatenate([cc[: len(c)], cc[n - len(r) + 1:]])
    if lo is not None:
        ok = (lags >= lo) & (lags <= hi)
        if ok.any():
            lags, vals = lags[ok], vals[ok]
    return int(lags[np.argmax(vals)])


def ncc(cap, ref, lag):
    """Normalised cross-correlation (sum x y / sqrt(sum x^2 sum y^2), both
    channels) of the reference at `lag` against the capture, over their overlap.
    Returns (coefficient, overlap frames)."""
    r0 = max(0, -lag)
    r1 = min(len(ref), len(cap) - lag)
    if r1 - r0 <= 0:
        return 0.0, 0
    x = cap[lag + r0: lag + r1].astype(np.float64).ravel()
    y = ref[r0:r1].astype(np.float64).ravel()
    den = np.sqrt(np.dot(x, x) * np.dot(y, y))
    return (float(np.dot(x, y) / den) if den > 0 else 0.0), r1 - r0


def active_span(x, block=RATE // 100, floor_db=-60.0):
    """(first, last) frame of the 10-ms blocks of `x` louder than `floor_db`
    dBFS (RMS), or None when all is quieter: where a run's sound is."""
    n = len(x) // block
    if n == 0:
        return None
    e = np.sqrt(np.mean(x[: n * block].astype(np.float64).reshape(n, -1) ** 2, axis=1))
    on = np.flatnonzero(e > 10 ** (floor_db / 20))
    if len(on) == 0:
        return None
    return int(on[0] * block), int((on[-1] + 1) * block)


def periodic(ref, max_lag=RATE // 50, min_lag=RATE // 2000, min_rms_db=-45.0):
    """Is the reference periodic within +-`max_lag` frames (a steady tone, a
    repeated beep)? Then the best lag of a window is ambiguous by a period:
    the normalised autocorrelation of its loudest 1-s window at any lag in
    [min_lag, max_lag] reaches 0.9. Returns that peak value, or 0."""
    best = 0.0
    n = len(ref) // RATE
    if n == 0:
        return 0.0
    w = max(range(n), key=lambda i: float(np.mean(ref[i * RATE:(i + 1) * RATE] ** 2)))
    x = ref[w * RATE:(w + 1) * RATE].sum(axis=1).astype(np.float64)
    if 20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12) < min_rms_db:
        return 0.0
    m = len(x) - max_lag
    a = x[:m]
    for k in range(min_lag, max_lag + 1):
        b = x[k:k + m]
        den = np.sqrt(np.dot(a, a) * np.dot(b, b))
        if den > 0:
            best = max(best, float(np.dot(a, b) / den))
    return best


def window_lags(cap, ref, lag, win=RATE, search=RATE // 50, min_rms_db=-45.0):
    """For each whole 1-s window of the reference (silent ones, RMS below
    `min_rms_db` dBFS, skipped), the lag within `search` frames of `lag` that
    maximises the window's normalised correlation with the capture.
    Returns a list of (window start s, lag, coefficient)."""
    out = []
    for s in range(0, len(ref) - win + 1, win):
        w = ref[s: s + win].astype(np.float64)
        if 20 * np.log10(np.sqrt(np.mean(w ** 2)) + 1e-12) < min_rms_db:
            continue
        lo, hi = lag + s - search, lag + s + win + search
        if lo < 0 or hi > len(cap):
            continue
        seg = cap[lo:hi].astype(np.float64)
        # correlation of w against seg at every offset 0..2*search (both channels)
        n = 1
        while n < len(seg) + win:
            n *= 2
        cc = sum(np.fft.irfft(np.fft.rfft(seg[:, ch], n) * np.conj(np.fft.rfft(w[:, ch], n)), n)
                 for ch in range(w.shape[1]))[: 2 * search + 1]
        k = int(np.argmax(cc))
        x = seg[k: k + win].ravel()
        y = w.ravel()
        den = np.sqrt(np.dot(x, x) * np.dot(y, y))
        out.append((s / RATE, lag - search + k, float(np.dot(x, y) / den) if den > 0 else 0.0))
    return out
