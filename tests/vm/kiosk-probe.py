#!/usr/bin/env python3
"""kiosk-probe.py - guest-side KMS probe for tests/vm/kiosk-test.sh (root; vkms).

  kiosk-probe.py run [--log LOG] [--term-after S] [--timeout S] [--state PREFIX]
                     [--grab PREFIX] -- CMD...
      Opens the vkms card (dropping the master the first opener gets), dumps its
      KMS state to PREFIX.before.json, runs CMD (stdout+stderr -> LOG), and
      while it runs polls every plane: each framebuffer that was not on a plane
      before CMD started is looked at once (GETFB2, then PRIME export of its
      first handle and the dma-buf's exporter from /proc/self/fdinfo:
      `videobuf2_vmalloc` = a V4L2 (visl CAPTURE) buffer scanned out directly,
      `drm_gem_shmem`/`vkms`/`drm` = a KMS dumb buffer, i.e. a copy) and one
      line per framebuffer goes to PREFIX.grab.txt:
        fb FB plane ID TYPE FOURCC WxH crtc X,Y WxH src X,Y WxH exporter NAME
      the first one of each exporter, format and size also to
      PREFIX.grab-N.png (NV12/XR24).
      With --term-after S: SIGTERM (--signal INT: SIGINT) S seconds after the first new framebuffer
      showed. At most --timeout S (default 120) then SIGKILL. After CMD ends
      (this process still holding its fd, so the kernel's fbdev emulation
      does not restore the console on the last close) the state goes to
      PREFIX.after.json. Prints `rc N elapsed S` and exits 0.
  kiosk-probe.py state OUT.json
      The KMS state: CRTCs (ACTIVE, the MODE_ID blob's mode), planes (FB_ID,
      CRTC_ID, SRC_*/CRTC_* rectangles), connectors (CRTC_ID).
  kiosk-probe.py compare BEFORE.json AFTER.json
      Exit 0 when the CRTC/plane/connector state is the same (mode, ACTIVE,
      each plane's FB_ID/CRTC_ID/rectangles, connectors' CRTC_ID); else the
      differences and exit 1. Pure JSON, runs on the host too.
  kiosk-probe.py wb-peer PNG OUT.ppm [--mode WxH] [--crop WxH]
      The peer the checks are dry-tested on (no vreqplay): become master, fill
      a black XR24 primary plane, put PNG (a grabbed visl frame) unscaled and
      centred on an overlay plane (vkms cannot scale), capture the CRTC with
      the writeback connector into OUT.ppm (P6), as the player's
      VREQ_KMS_WRITEBACK hook does.
  kiosk-probe.py hold-master SECONDS
      Become DRM master (a modeset with a black primary) and keep it SECONDS.
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for d in (HERE, os.path.join(HERE, "present"), os.path.join(HERE, "sid", "present")):
    if os.path.exists(os.path.join(d, "drm.py")):
        sys.path.insert(0, d)
        break

RECT = ("SRC_X", "SRC_Y", "SRC_W", "SRC_H", "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H")


def find_card():
    for n in sorted(os.listdir("/sys/class/drm")):
        if n.startswith("card") and "-" not in n and \
                os.path.basename(os.path.realpath("/sys/class/drm/%s/device" % n)).split(".")[0] == "vkms":
            return "/dev/dri/" + n
    raise SystemExit("kiosk-probe: no vkms card")


def state(card):
    import drm as D
    crtcs, _ = card.resources()
    out = {"crtcs": {}, "planes": {}, "connectors": {}}
    for c in crtcs:
        p = card.props(c, D.OBJ_CRTC)
        mode = None
        if p.get("MODE_ID", (0, 0))[1]:
            data = card.blob(p["MODE_ID"][1])
            if data:
                m = D.ModeInfo.from_buffer_copy(data)
                mode = "%dx%d@%d %s" % (m.hdisplay, m.vdisplay, m.vrefresh, m.name.decode(errors="replace"))
        out["crtcs"][str(c)] = {"ACTIVE": p["ACTIVE"][1] if "ACTIVE" in p else None, "mode": mode}
    for pl in card.planes():
        pr = pl["props"]
        out["planes"][str(pl["id"])] = dict(type=pl["type"], FB_ID=pr["FB_ID"][1], CRTC_ID=pr["CRTC_ID"][1],
                                            **{k: pr[k][1] for k in RECT if k in pr})
    for c in card.connectors():
        p = card.props(c["id"], D.OBJ_CONNECTOR)
        out["connectors"][c["name"]] = {"CRTC_ID": p["CRTC_ID"][1] if "CRTC_ID" in p else None}
    return out


def compare(a, b):
    """-> list of differences (empty: same state)"""
    diffs = []
    for kind in ("crtcs", "planes", "connectors"):
        for key in sorted(set(a[kind]) | set(b[kind])):
            x, y = a[kind].get(key), b[kind].get(key)
            if x is None or y is None:
                diffs.append("%s %s: %s before, %s after" % (kind[:-1], key, x, y))
                continue
            if kind == "planes" and not x["FB_ID"] and not y["FB_ID"]:
                continue  # disabled before and after: its rectangle does not matter
            for f in sorted(set(x) | set(y)):
                if x.get(f) != y.get(f):
                    diffs.append("%s %s %s: %s before, %s after" % (kind[:-1], key, f, x.get(f), y.get(f)))
    return diffs


def describe_fb(card, plane, fb_id, png=None):
    import drm as D
    fb = card.getfb2(fb_id)
    fmt = D.fourcc_str(fb.pixel_format)
    pr = plane["props"]
    r = {k: pr[k][1] for k in RECT if k in pr}
    exp = "?"
    if fb.handles[0]:
        dfd = card.export_handle(fb.handles[0])
        try:
            info = D.dmabuf_info(dfd)
            exp = info.get("exp_name", "?")
            if png:
                import mmap
                size = int(info.get("size", 0)) or fb.pitches[0] * fb.height * 2
                m = mmap.mmap(dfd, size, mmap.MAP_SHARED, mmap.PROT_READ)
                data = m[:size]
                if fb.pixel_format == D.NV12:
                    D.nv12_to_png(data[fb.offsets[0]:], fb.width, fb.height, fb.pitches[0],
                                  fb.offsets[1] - fb.offsets[0], fb.pitches[1], png)
                elif fb.pixel_format in (D.XR24, D.AR24):
                    D.xrgb_to_png(data[fb.offsets[0]:], fb.width, fb.height, fb.pitches[0], png, fb.pixel_format)
                m.close()
        except Exception as e:  # noqa: BLE001 - the picture is for diagnosis only
            exp += " (png: %s)" % e
        finally:
            os.close(dfd)
    else:
        exp = "? (no handle: GETFB2 needs CAP_SYS_ADMIN)"
    return ("fb %d plane %d %s %s %dx%d crtc %d,%d %dx%d src %d,%d %dx%d exporter %s" % (
        fb_id, plane["id"], plane["type"], fmt, fb.width, fb.height,
        r.get("CRTC_X", 0), r.get("CRTC_Y", 0), r.get("CRTC_W", 0), r.get("CRTC_H", 0),
        r.get("SRC_X", 0) >> 16, r.get("SRC_Y", 0) >> 16, r.get("SRC_W", 0) >> 16, r.get("SRC_H", 0) >> 16, exp),
        exp.split()[0])


def cmd_run(a, cmd):
    import drm as D
    card = D.Card(find_card())
    # the first opener of a card without a master becomes its master
    # (drm_auth.c drm_master_open): let CMD have it
    D.drm.drmDropMaster(card.fd)
    before = state(card)
    with open(a.state + ".before.json", "w") as f:
        json.dump(before, f, indent=1)
    old = {int(p["FB_ID"]) for p in before["planes"].values() if p["FB_ID"]}
    log = open(a.log, "wb") if a.log else None
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log or None, stderr=subprocess.STDOUT if log else None)
    seen, exporters, first_new, termed = set(), {}, None, False
    grab = open(a.grab + ".grab.txt", "w") if a.grab else None
    while proc.poll() is None:
        now = time.monotonic()
        if now - t0 > a.timeout:
            proc.kill()
            print("kiosk-probe: killed after %.0f s" % a.timeout)
            break
        if a.term_after is not None and first_new is not None and not termed and now - first_new >= a.term_after:
            proc.send_signal(getattr(signal, "SIG" + a.signal))
            termed = True
            print("kiosk-probe: SIG%s %.2f s after the first new framebuffer (%.2f s after start)"
                  % (a.signal, now - first_new, now - t0))
        if grab:
            try:
                for p in card.planes():
                    fb = p["fb_id"]
                    if fb and fb not in old and fb not in seen:
                        seen.add(fb)
                        if first_new is None:
                            first_new = time.monotonic()
                        line, exp0 = describe_fb(card, p, fb)
                        kind = (exp0, line.split()[5], line.split()[6])  # exporter, fourcc, WxH
                        if kind not in exporters:
                            exporters[kind] = len(exporters)
                            png = "%s.grab-%d.png" % (a.grab, exporters[kind])
                            line, exp0 = describe_fb(card, p, fb, png)
                            line += " -> %s" % os.path.basename(png)
                        grab.write("%.3f %s\n" % (time.monotonic() - t0, line))
                        grab.flush()
            except OSError as e:  # a framebuffer removed between the listing and GETFB2
                grab.write("%.3f (plane poll: %s)\n" % (time.monotonic() - t0, e))
        elif a.term_after is not None and first_new is None:
            first_new = t0
        time.sleep(a.poll)
    rc = proc.wait()
    elapsed = time.monotonic() - t0
    if log:
        log.close()
    time.sleep(0.2)  # a restore commit the process made before exiting has landed
    after = state(card)
    with open(a.state + ".after.json", "w") as f:
        json.dump(after, f, indent=1)
    if grab:
        grab.close()
    print("rc %d elapsed %.2f new-framebuffers %d" % (rc, elapsed, len(seen)))


def black_primary(card, w, h):
    import drm as D
    handle, pitch, m = card.create_dumb(w, h, 32)
    m[:pitch * h] = bytes(pitch * h)
    return card.add_fb(w, h, D.XR24, [handle], [pitch], [0]), m


def modeset_objs(card, w, h):
    import drm as D
    crtc = card.resources()[0][0]
    conns = card.connectors()
    virt = [c for c in conns if c["type"] == "Virtual"][0]
    mode = [m for m in virt["modes"] if (m.hdisplay, m.vdisplay) == (w, h)][0]
    prim = [p for p in card.planes() if p["type"] == "primary"][0]
    pfb, keep = black_primary(card, w, h)
    objs = [(crtc, D.OBJ_CRTC, dict(MODE_ID=card.mode_blob(mode), ACTIVE=1)),
            (virt["id"], D.OBJ_CONNECTOR, dict(CRTC_ID=crtc)),
            (prim["id"], D.OBJ_PLANE, dict(FB_ID=pfb, CRTC_ID=crtc, SRC_X=0, SRC_Y=0, SRC_W=w << 16,
                                           SRC_H=h << 16, CRTC_X=0, CRTC_Y=0, CRTC_W=w, CRTC_H=h))]
    return crtc, virt, conns, objs, keep


def cmd_wb_peer(a):
    import ctypes as C
    import select
    import drm as D
    from PIL import Image
    card = D.Card(find_card())
    w, h = map(int, a.mode.split("x"))
    crtc, virt, conns, objs, keep = modeset_objs(card, w, h)
    img = Image.open(a.png).convert("RGB")
    if a.crop:  # the plane's SRC rectangle (the visible part of the coded frame)
        cw, ch = map(int, a.crop.split("x"))
        img = img.crop((0, 0, cw, ch))
    iw, ih = img.size
    vh, vpitch, vm = card.create_dumb(iw, ih, 32)
    raw = img.tobytes("raw", "BGRX")
    for y in range(ih):
        vm[y * vpitch:y * vpitch + iw * 4] = raw[y * iw * 4:(y + 1) * iw * 4]
    vfb = card.add_fb(iw, ih, D.XR24, [vh], [vpitch], [0])
    ov = [p for p in card.planes() if p["type"] == "overlay"][0]
    x, y = (w - iw) // 2, (h - ih) // 2
    objs.append((ov["id"], D.OBJ_PLANE, dict(FB_ID=vfb, CRTC_ID=crtc, SRC_X=0, SRC_Y=0, SRC_W=iw << 16,
                                             SRC_H=ih << 16, CRTC_X=x, CRTC_Y=y, CRTC_W=iw, CRTC_H=ih)))
    wbc = [c for c in conns if c["type"] == "Writeback"][0]
    wh, wpitch, wmap = card.create_dumb(w, h, 32)
    wfb = card.add_fb(w, h, D.XR24, [wh], [wpitch], [0])
    fence = C.c_int32(-1)
    wbprops = dict(CRTC_ID=crtc, WRITEBACK_FB_ID=wfb, WRITEBACK_OUT_FENCE_PTR=C.addressof(fence))
    try:
        card.commit(objs + [(wbc["id"], D.OBJ_CONNECTOR, wbprops)])
        how = "cloned with %s" % virt["name"]
    except D.DrmError:
        objs[1] = (virt["id"], D.OBJ_CONNECTOR, dict(CRTC_ID=0))
        card.commit(objs + [(wbc["id"], D.OBJ_CONNECTOR, wbprops)])
        how = "%s detached" % virt["name"]
    r, _, _ = select.select([fence.value], [], [], 5)
    if not r:
        raise SystemExit("kiosk-probe: writeback fence did not signal in 5 s")
    Image.frombuffer("RGBX", (w, h), bytes(wmap[:wpitch * h]), "raw", "BGRX", wpitch, 1).convert("RGB").save(a.out)
    print("writeback (%s): %s %dx%d, %dx%d picture at (%d,%d)" % (how, a.out, w, h, iw, ih, x, y))
    del keep


def cmd_hold_master(a):
    import drm as D
    card = D.Card(find_card())
    _, _, _, objs, keep = modeset_objs(card, 1024, 768)
    card.commit(objs)
    print("kiosk-probe: master of %s (is master: %d), holding %g s" % (card.path, D.drm.drmIsMaster(card.fd), a.seconds),
          flush=True)
    time.sleep(a.seconds)
    del keep


def main():
    import argparse
    argv = sys.argv[1:]
    cmd = []
    if "--" in argv:
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("run")
    p.add_argument("--log"); p.add_argument("--term-after", type=float)
    p.add_argument("--timeout", type=float, default=120); p.add_argument("--state", required=True)
    p.add_argument("--grab"); p.add_argument("--poll", type=float, default=0.05)
    p.add_argument("--signal", default="TERM", help="what --term-after sends: TERM or INT")
    p = sp.add_parser("state"); p.add_argument("out")
    p = sp.add_parser("compare"); p.add_argument("before"); p.add_argument("after")
    p = sp.add_parser("wb-peer"); p.add_argument("png"); p.add_argument("out"); p.add_argument("--mode", default="1024x768")
    p.add_argument("--crop", help="WxH: show only this top-left part (the plane's SRC)")
    p = sp.add_parser("hold-master"); p.add_argument("seconds", type=float)
    a = ap.parse_args(argv)
    if a.cmd == "run":
        if not cmd:
            raise SystemExit("kiosk-probe run: no command after --")
        cmd_run(a, cmd)
    elif a.cmd == "state":
        import drm as D
        with open(a.out, "w") as f:
            json.dump(state(D.Card(find_card())), f, indent=1)
    elif a.cmd == "compare":
        d = compare(json.load(open(a.before)), json.load(open(a.after)))
        for line in d:
            print("differs: " + line)
        if not d:
            print("same KMS state (mode, ACTIVE, planes' FB_ID/CRTC_ID/rectangles, connectors' CRTC_ID)")
        sys.exit(1 if d else 0)
    elif a.cmd == "wb-peer":
        cmd_wb_peer(a)
    elif a.cmd == "hold-master":
        cmd_hold_master(a)


if __name__ == "__main__":
    main()
