#!/usr/bin/env python3
"""audio-record.py OUT [options] - the loopback recorder of the VM's sound checks
(guest side; python3 only, ALSA through ctypes on libasound.so.2).

Opens the capture end of snd-aloop (default hw:Loopback,1,0) at fixed
parameters (48000 Hz, 2 channels, S16_LE, interleaved) *before* the player
opens the playback end: snd-aloop then constrains the playback substream of the
same cable to those parameters (and period size; sound/drivers/aloop.c
rule_format / rule_rate / rule_channels / rule_period_bytes), so the player
has to convert whatever it plays to 48 kHz stereo.

Writes
  OUT.s16   the captured samples, S16_LE, 2 channels interleaved, 48000 Hz;
  OUT.ts    one line per read: "frames avail htstamp_ns mono_ns", where
            frames   = frames read so far (after this read),
            avail    = frames captured but not yet read at htstamp_ns,
            htstamp_ns = ALSA's timestamp of its last hardware-pointer update
                       (snd_pcm_htimestamp; CLOCK_MONOTONIC: alsa-lib's hw plugin
                       asks the kernel for monotonic stamps, SNDRV_PCM_IOCTL_TTSTAMP,
                       and sw_params tstamp_type MONOTONIC says so again),
            mono_ns  = time.monotonic_ns() right after the read returned
                       (CLOCK_MONOTONIC; what a pipe reader would see: a fallback
                       and a cross-check);
            so capture frame index (frames + avail) was reached at htstamp_ns.
            tests/vm/audio_capture.py fits index -> time by regression.
  OUT.meta  rate, channels, format, period and buffer size (frames), overruns.
Prints "audio-record: ready" (stdout, flushed) once the first period is read
(the device runs); stops at SIGTERM / SIGINT or after --seconds. An overrun
(-EPIPE: the reader fell behind) is counted, recovered and logged: frames are
lost there, so the checks refuse a capture with overruns.
Exit 0, or 1 with a one-line error (device missing: is snd-aloop loaded?).
"""
import argparse
import ctypes
import signal
import sys
import time

SND_PCM_STREAM_CAPTURE = 1
SND_PCM_ACCESS_RW_INTERLEAVED = 3
SND_PCM_FORMAT_S16_LE = 2
SND_PCM_TSTAMP_ENABLE = 1
SND_PCM_TSTAMP_TYPE_MONOTONIC = 1
EPIPE = 32


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("-D", "--device", default="hw:Loopback,1,0")
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--channels", type=int, default=2)
    ap.add_argument("--period", type=int, default=480, help="period size, frames (10 ms)")
    ap.add_argument("--buffer", type=int, default=48000, help="buffer size, frames (1 s: room for a reader "
                    "that is late under TCG)")
    ap.add_argument("--seconds", type=float, default=600.0, help="stop after this long")
    a = ap.parse_args()

    try:
        lib = ctypes.CDLL("libasound.so.2")
    except OSError as e:
        sys.exit("audio-record: cannot load libasound.so.2: %s" % e)
    lib.snd_strerror.restype = ctypes.c_char_p
    lib.snd_pcm_readi.restype = ctypes.c_long
    lib.snd_pcm_readi.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong]

    def ok(rc, what):
        if rc < 0:
            sys.exit("audio-record: %s on %s: %s" % (what, a.device, lib.snd_strerror(rc).decode()))
        return rc

    pcm = ctypes.c_void_p()
    ok(lib.snd_pcm_open(ctypes.byref(pcm), a.device.encode(), SND_PCM_STREAM_CAPTURE, 0),
       "snd_pcm_open (is snd-aloop loaded?)")
    hw = ctypes.c_void_p()
    ok(lib.snd_pcm_hw_params_malloc(ctypes.byref(hw)), "hw_params_malloc")
    ok(lib.snd_pcm_hw_params_any(pcm, hw), "hw_params_any")
    ok(lib.snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "set_access")
    ok(lib.snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE), "set_format S16_LE")
    ok(lib.snd_pcm_hw_params_set_channels(pcm, hw, a.channels), "set_channels %d" % a.channels)
    ok(lib.snd_pcm_hw_params_set_rate(pcm, hw, a.rate, 0), "set_rate %d" % a.rate)
    period = ctypes.c_ulong(a.period)
    d = ctypes.c_int(0)
    ok(lib.snd_pcm_hw_params_set_period_size_near(pcm, hw, ctypes.byref(period), ctypes.byref(d)),
       "set_period_size_near")
    buf = ctypes.c_ulong(a.buffer)
    ok(lib.snd_pcm_hw_params_set_buffer_size_near(pcm, hw, ctypes.byref(buf)), "set_buffer_size_near")
    ok(lib.snd_pcm_hw_params(pcm, hw), "snd_pcm_hw_params")
    sw = ctypes.c_void_p()
    ok(lib.snd_pcm_sw_params_malloc(ctypes.byref(sw)), "sw_params_malloc")
    ok(lib.snd_pcm_sw_params_current(pcm, sw), "sw_params_current")
    ok(lib.snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE), "set_tstamp_mode")
    ok(lib.snd_pcm_sw_params_set_tstamp_type(pcm, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC), "set_tstamp_type")
    ok(lib.snd_pcm_sw_params(pcm, sw), "snd_pcm_sw_params")

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    n = period.value
    fbytes = 2 * a.channels
    cbuf = ctypes.create_string_buffer(n * fbytes)
    avail = ctypes.c_ulong()
    ts = Timespec()
    total = overruns = 0
    t_end = time.monotonic() + a.seconds
    with open(a.out + ".s16", "wb") as fs, open(a.out + ".ts", "w") as ft:
        while not stop and time.monotonic() < t_end:
            r = lib.snd_pcm_readi(pcm, cbuf, n)
            mono = time.monotonic_ns()
            if r == -EPIPE:
                overruns += 1
                ft.write("# overrun after %d frames at %d\n" % (total, mono))
                ok(lib.snd_pcm_prepare(pcm), "snd_pcm_prepare after overrun")
                continue
            if r < 0:
                if stop:
                    break
                ok(r, "snd_pcm_readi")
            fs.write(cbuf.raw[:r * fbytes])
            total += r
            if lib.snd_pcm_htimestamp(pcm, ctypes.byref(avail), ctypes.byref(ts)) == 0:
                ft.write("%d %d %d %d\n" % (total, avail.value, ts.tv_sec * 10**9 + ts.tv_nsec, mono))
            else:
                ft.write("%d - - %d\n" % (total, mono))
            if total == r:
                print("audio-record: ready", flush=True)
    lib.snd_pcm_close(pcm)
    with open(a.out + ".meta", "w") as fm:
        fm.write("rate %d\nchannels %d\nformat S16_LE\nperiod %d\nbuffer %d\nframes %d\noverruns %d\n"
                 % (a.rate, a.channels, n, buf.value, total, overruns))
    print("audio-record: %d frames (%.3f s), period %d, buffer %d, %d overruns"
          % (total, total / a.rate, n, buf.value, overruns), flush=True)


if __name__ == "__main__":
    main()
