#!/usr/bin/env python3
"""A virtual keyboard through /dev/uinput that presses keys (the kiosk's keys
test: vreqplay --vo=drm reads every evdev keyboard).

    uinput-keys.py [--wait SECONDS] [--gap SECONDS] [--linger SECONDS] KEY...

Creates the keyboard at once (every key code 1..255, so it has KEY_Q and
KEY_SPACE: vreqplay's test for a keyboard), prints `uinput: /dev/input/eventN
ready` on stdout, waits --wait seconds (default 3: start the player meanwhile;
it opens keyboards only at start), then presses and releases each KEY
(evdev names without KEY_: q, space, left, right, esc, a; or a number),
--gap seconds apart (default 0.3), keeps the device --linger seconds more
(default 2) and destroys it. Needs root, the uinput module and the evdev
module (`modprobe uinput evdev`: the VM has no udev to load evdev, and without
it no /dev/input/event* node appears — in tests/vm: run.sh -m "visl vkms
uinput evdev"). Measured on sid (kernel 7.2, vkms): with --wait 8, `q` ended
`vreqplay -v --vo=drm --no-audio --loop-file=inf gizmo.mp4` (exit status 0,
`quit (key)`) 8 s after it started. Python's standard library only: the legacy uinput setup
(write a struct uinput_user_dev, then UI_DEV_CREATE; linux/uinput.h) and
struct input_event writes (linux/input.h), packed by hand.
"""

import argparse
import fcntl
import glob
import os
import struct
import sys
import time

# linux/input-event-codes.h
EV_SYN, EV_KEY = 0x00, 0x01
SYN_REPORT = 0
KEYS = {
    "esc": 1, "1": 2, "2": 3, "9": 10, "0": 11, "q": 16, "w": 17, "e": 18,
    "p": 25, "enter": 28, "leftctrl": 29, "a": 30, "f": 33, "semicolon": 39,
    "leftshift": 42, "m": 50, "comma": 51, "dot": 52, "space": 57,
    "up": 103, "pageup": 104, "left": 105, "right": 106, "down": 108,
    "pagedown": 109, "i": 23, "o": 24,
}

# linux/uinput.h: _IOW('U', 100, int), _IOW('U', 101, int), _IO('U', 1), _IO('U', 2)
UI_SET_EVBIT = 0x40045564
UI_SET_KEYBIT = 0x40045565
UI_DEV_CREATE = 0x5501
UI_DEV_DESTROY = 0x5502
UINPUT_MAX_NAME_SIZE = 80
ABS_CNT = 64
BUS_VIRTUAL = 0x06
NAME = b"vreqplay test keyboard"


def code(name):
    if name.isdigit() and len(name) > 1:
        return int(name)
    n = name.lower().removeprefix("key_")
    if n not in KEYS:
        sys.exit(f"uinput-keys: unknown key {name!r}; known: {', '.join(sorted(KEYS))} or a number")
    return KEYS[n]


def event(fd, etype, ecode, value):
    now = time.time()
    sec = int(now)
    usec = int((now - sec) * 1e6)
    # struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; }
    os.write(fd, struct.pack("@llHHi", sec, usec, etype, ecode, value))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wait", type=float, default=3.0)
    ap.add_argument("--gap", type=float, default=0.3)
    ap.add_argument("--linger", type=float, default=2.0)
    ap.add_argument("keys", nargs="+")
    a = ap.parse_args()
    codes = [code(k) for k in a.keys]
    before = set(glob.glob("/dev/input/event*"))
    try:
        fd = os.open("/dev/uinput", os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        sys.exit(f"uinput-keys: /dev/uinput: {e} (root? modprobe uinput?)")
    fcntl.ioctl(fd, UI_SET_EVBIT, EV_KEY)
    fcntl.ioctl(fd, UI_SET_EVBIT, EV_SYN)
    for c in range(1, 256):
        fcntl.ioctl(fd, UI_SET_KEYBIT, c)
    # struct uinput_user_dev { char name[80]; struct input_id id (4 x u16);
    #   __u32 ff_effects_max; __s32 absmax[64], absmin[64], absfuzz[64], absflat[64]; }
    dev = struct.pack(f"{UINPUT_MAX_NAME_SIZE}sHHHHI", NAME, BUS_VIRTUAL, 0x1234, 0x5678, 1, 0)
    dev += b"\0" * (4 * ABS_CNT * 4)
    os.write(fd, dev)
    fcntl.ioctl(fd, UI_DEV_CREATE)
    node = "?"
    for _ in range(50):  # udev makes the node
        new = set(glob.glob("/dev/input/event*")) - before
        if new:
            node = sorted(new)[0]
            break
        time.sleep(0.05)
    print(f"uinput: {node} ready", flush=True)
    try:
        time.sleep(a.wait)
        for c in codes:
            event(fd, EV_KEY, c, 1)
            event(fd, EV_SYN, SYN_REPORT, 0)
            time.sleep(0.05)
            event(fd, EV_KEY, c, 0)
            event(fd, EV_SYN, SYN_REPORT, 0)
            print(f"uinput: pressed {c}", flush=True)
            time.sleep(a.gap)
        time.sleep(a.linger)
    finally:
        fcntl.ioctl(fd, UI_DEV_DESTROY)
        os.close(fd)


if __name__ == "__main__":
    main()
