#!/usr/bin/env python3
"""segment.py [--annexb] CLIP OUTDIR -- cut a clip that changes resolution mid-stream
into self-contained segment files GStreamer can decode from a fresh start.

One segment per coded sequence with a new size: a segment starts at the
first frame, and at every key frame (VP9) / IDR (H.264) / IRAP (HEVC) whose
sequence size differs from the size in force before it. The coded bytes of
every frame are copied unchanged; only the container is rewritten:

* VP9 in IVF: IVF file header (32 bytes, width/height of the segment's first
  key frame, frame count of the segment, the clip's fourcc/rate/scale) +
  the clip's IVF frames (12-byte frame header with the original size and
  pts, then the frame bytes). A size change must sit on a key frame that is
  the first frame of its IVF frame (superframe) -- else error (reference
  scaling on inter frames cannot be cut).
* VP8 in WebM/Matroska: an IVF per segment (fourcc VP80, the segment's
  size, timebase 1/1000 = Matroska's default 1 ms TimecodeScale, frame
  count) with one IVF frame per block (12-byte header: size, pts = the
  block's timecode), bytes unchanged. A segment starts at each key frame
  (RFC 6386 9.1) whose size differs. Laced blocks and Clusters of unknown
  size are refused.
* H.264 / HEVC in MP4 (avc1/avc3, hvc1/hev1): an MP4 of the segment's
  samples (copied unchanged, in-band parameter sets included): the clip's
  ftyp, mvhd, tkhd, hdlr, vmhd, dinf and sample entry, mdhd with the
  segment's duration, the avcC/hvcC parameter set arrays replaced by the
  sets in force at the segment's first sample (profile/level bytes from its
  SPS), the segment's stts/ctts/stss/stsz, one chunk. MP4 and not Annex-B:
  Annex-B cannot carry a NAL unit ending in zero bytes (cabac_zero_words
  without the 0x03 H.265 7.4.2 asks for in a byte stream: h265parse drops
  them, bit_size shrinks) and MP4 keeps the clip's timing for qtdemux.
  A size change must come with an SPS in a sync sample (IDR / IRAP) -- else
  error.
* --annexb (diagnosis): H.264 / HEVC as an Annex-B elementary stream instead:
  every NAL unit of every sample, length prefix (avcC / hvcC
  lengthSizeMinusOne + 1 bytes) replaced by a 4-byte start code
  00 00 00 01; the segment's first sample is preceded by the parameter sets
  that apply at that point (the avcC/hvcC ones, replaced by in-band ones of
  the same type and id seen in earlier samples) except those the sample
  itself carries (same type and id).

Sizes: VP9 frame_size() of the key frame's uncompressed header (VP9 spec
6.2); VP8 the key frame's 14-bit width/height (RFC 6386 9.1); H.264 SPS (7.3.2.1.1) (pic_width_in_mbs_minus1 + 1) * 16 x
(2 - frame_mbs_only_flag) * (pic_height_in_map_units_minus1 + 1) * 16;
HEVC SPS (7.3.2.2) pic_width/height_in_luma_samples (no cropping: a crop
change alone does not reallocate buffers and is no new sequence here).

Writes OUTDIR/<clip file name>--segNN.<ivf|mp4> (--annexb: .h264/.h265) and prints one line
per segment (tab-separated): file, first frame, end frame (exclusive; IVF
frames / MP4 samples), WxH. Exit 1 with a message naming the clip and
frame/byte offset on bad input; exit 2 on bad usage. Python 3 standard
library only.
"""
import os
import struct
import sys


class Bad(Exception):
    pass


# ---------------------------------------------------------------- bit reader
class Bits:
    """MSB-first bit reader over RBSP bytes (emulation prevention removed)."""

    def __init__(self, data):
        self.d = data
        self.p = 0

    def u(self, n):
        v = 0
        for _ in range(n):
            i = self.p >> 3
            if i >= len(self.d):
                raise Bad("bitstream ends early")
            v = (v << 1) | ((self.d[i] >> (7 - (self.p & 7))) & 1)
            self.p += 1
        return v

    def ue(self):
        z = 0
        while self.u(1) == 0:
            z += 1
            if z > 31:
                raise Bad("bad exp-Golomb code")
        return (1 << z) - 1 + self.u(z)

    def se(self):
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def rbsp(nal):
    """Removes emulation_prevention_three_byte (00 00 03 -> 00 00)."""
    out = bytearray()
    z = 0
    for b in nal:
        if z >= 2 and b == 3:
            z = 0
            continue
        out.append(b)
        z = z + 1 if b == 0 else 0
    return bytes(out)


# ---------------------------------------------------------------- H.264
def h264_type(nal):
    return nal[0] & 0x1F


def h264_sps(nal):
    """(seq_parameter_set_id, (width, height)) of an SPS NAL (7.3.2.1.1)."""
    r = Bits(rbsp(nal[1:]))
    profile_idc = r.u(8)
    r.u(8)
    r.u(8)
    sps_id = r.ue()
    if profile_idc in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma_format_idc = r.ue()
        if chroma_format_idc == 3:
            r.u(1)
        r.ue()
        r.ue()
        r.u(1)
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if r.u(1):
                    size = 16 if i < 6 else 64
                    last = nxt = 8
                    for _ in range(size):
                        if nxt != 0:
                            nxt = (last + r.se() + 256) % 256
                        last = nxt if nxt != 0 else last
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(min(r.ue(), 255)):
            r.se()
    r.ue()  # max_num_ref_frames
    r.u(1)
    w = r.ue() + 1
    h = r.ue() + 1
    frame_mbs_only = r.u(1)
    return sps_id, (w * 16, h * 16 * (2 - frame_mbs_only))


def h264_ps_key(nal):
    """(nal type, id) of an SPS / PPS, else None."""
    t = h264_type(nal)
    if t == 7:
        return (7, h264_sps(nal)[0])
    if t == 8:
        return (8, Bits(rbsp(nal[1:])).ue())
    return None


# ---------------------------------------------------------------- HEVC
def hevc_type(nal):
    return (nal[0] >> 1) & 0x3F


def hevc_sps(nal):
    """(sps_seq_parameter_set_id, (width, height)) of an SPS NAL (7.3.2.2)."""
    r = Bits(rbsp(nal[2:]))
    r.u(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = r.u(3)
    r.u(1)
    # profile_tier_level(1, sps_max_sub_layers_minus1) (7.3.3)
    r.u(8 + 32 + 48 + 8)  # general profile (2+1+5), compat flags, 48 flag bits, level
    sub_prof = []
    sub_lvl = []
    for _ in range(max_sub_layers_minus1):
        sub_prof.append(r.u(1))
        sub_lvl.append(r.u(1))
    if max_sub_layers_minus1 > 0:
        for _ in range(max_sub_layers_minus1, 8):
            r.u(2)
    for i in range(max_sub_layers_minus1):
        if sub_prof[i]:
            r.u(88)
        if sub_lvl[i]:
            r.u(8)
    sps_id = r.ue()
    chroma_format_idc = r.ue()
    if chroma_format_idc == 3:
        r.u(1)
    w = r.ue()
    h = r.ue()
    return sps_id, (w, h)


def hevc_ps_key(nal):
    t = hevc_type(nal)
    if t == 32:
        return (32, (nal[2] >> 4) & 0xF)
    if t == 33:
        return (33, hevc_sps(nal)[0])
    if t == 34:
        return (34, Bits(rbsp(nal[2:])).ue())
    return None


# ---------------------------------------------------------------- MP4
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def boxes(d, off, end, where):
    """Yields (type, payload start, box end) for the boxes in d[off:end]."""
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", d[off:off + 8])
        h = 8
        if size == 1:
            if off + 16 > end:
                raise Bad(f"{where}: truncated box at byte {off}")
            size = struct.unpack(">Q", d[off + 8:off + 16])[0]
            h = 16
        elif size == 0:
            size = end - off
        if size < h or off + size > end:
            raise Bad(f"{where}: bad box size {size} at byte {off}")
        yield typ, off + h, off + size
        off += size


def find(d, off, end, path, where):
    """Payload ranges of the boxes at `path` (list of types) under d[off:end]."""
    out = []
    for typ, s, e in boxes(d, off, end, where):
        if typ == path[0]:
            if len(path) == 1:
                out.append((s, e))
            else:
                out.extend(find(d, s, e, path[1:], where))
    return out


class Track:
    """The first video track of an MP4 (see mp4_video)."""


def mp4_video(path):
    """The first video track of an MP4: a Track with codec ('h264'|'hevc'),
    nls (NAL length size), params ([parameter set NALs of avcC/hvcC]),
    samples ([sample bytes]), sync (set of sync sample indices, 0-based, or
    None: every sample is one), durations / cts_offsets (per sample, from
    stts / ctts; ctts None if absent) and the byte ranges the MP4 writer
    copies (file bytes d, tab: stbl child -> payload range, trak, entry)."""
    d = open(path, "rb").read()
    for ts, te in find(d, 0, len(d), [b"moov", b"trak"], path):
        hd = find(d, ts, te, [b"mdia", b"hdlr"], path)
        if not hd or d[hd[0][0] + 8:hd[0][0] + 12] != b"vide":
            continue
        (ss, se), = find(d, ts, te, [b"mdia", b"minf", b"stbl"], path)
        tab = {t: (s, e) for t, s, e in boxes(d, ss, se, path)}
        s, e = tab[b"stsd"]
        n = struct.unpack(">I", d[s + 4:s + 8])[0]
        if n != 1:
            raise Bad(f"{path}: {n} sample descriptions (only 1 handled)")
        (typ, es, ee), = list(boxes(d, s + 8, e, path))
        params = []
        if typ in (b"avc1", b"avc3"):
            codec = "h264"
            (cs, ce), = [(a, b) for t, a, b in boxes(d, es + 78, ee, path) if t == b"avcC"]
            c = d[cs:ce]
            nls = (c[4] & 3) + 1
            p = 6
            for k in range(2):
                cnt = c[p - 1] & 0x1F if k == 0 else c[p - 1]
                for _ in range(cnt):
                    ln = struct.unpack(">H", c[p:p + 2])[0]
                    params.append(c[p + 2:p + 2 + ln])
                    p += 2 + ln
                p += 1
        elif typ in (b"hvc1", b"hev1"):
            codec = "hevc"
            (cs, ce), = [(a, b) for t, a, b in boxes(d, es + 78, ee, path) if t == b"hvcC"]
            c = d[cs:ce]
            nls = (c[21] & 3) + 1
            p = 23
            for _ in range(c[22]):
                t = c[p] & 0x3F
                cnt = struct.unpack(">H", c[p + 1:p + 3])[0]
                p += 3
                for _ in range(cnt):
                    ln = struct.unpack(">H", c[p:p + 2])[0]
                    if t in (32, 33, 34):
                        params.append(c[p + 2:p + 2 + ln])
                    p += 2 + ln
        else:
            raise Bad(f"{path}: sample entry {typ!r} is not H.264/HEVC")
        s, e = tab[b"stsz"]
        fixed, count = struct.unpack(">II", d[s + 4:s + 12])
        sizes = [fixed] * count if fixed else list(struct.unpack(f">{count}I", d[s + 12:s + 12 + 4 * count]))
        if b"stco" in tab:
            s, e = tab[b"stco"]
            n = struct.unpack(">I", d[s + 4:s + 8])[0]
            chunks = list(struct.unpack(f">{n}I", d[s + 8:s + 8 + 4 * n]))
        else:
            s, e = tab[b"co64"]
            n = struct.unpack(">I", d[s + 4:s + 8])[0]
            chunks = list(struct.unpack(f">{n}Q", d[s + 8:s + 8 + 8 * n]))
        s, e = tab[b"stsc"]
        n = struct.unpack(">I", d[s + 4:s + 8])[0]
        stsc = [struct.unpack(">III", d[s + 8 + 12 * i:s + 20 + 12 * i]) for i in range(n)]
        samples = []
        k = 0
        for ci, off in enumerate(chunks):
            per = None
            for first, spc, _ in stsc:
                if first - 1 <= ci:
                    per = spc
            for _ in range(per or 0):
                if k >= count:
                    break
                if off + sizes[k] > len(d):
                    raise Bad(f"{path}: sample {k} at byte {off} past the end")
                samples.append(d[off:off + sizes[k]])
                off += sizes[k]
                k += 1
        if k != count:
            raise Bad(f"{path}: chunk tables give {k} of {count} samples")
        sync = None
        if b"stss" in tab:
            s, e = tab[b"stss"]
            n = struct.unpack(">I", d[s + 4:s + 8])[0]
            sync = {x - 1 for x in struct.unpack(f">{n}I", d[s + 8:s + 8 + 4 * n])}
        t = Track()
        t.codec, t.nls, t.params, t.samples, t.sync = codec, nls, params, samples, sync
        t.durations = runs(d, tab[b"stts"], count, "stts", path)
        t.ctts_version = None
        t.cts_offsets = None
        if b"ctts" in tab:
            t.ctts_version = d[tab[b"ctts"][0]]
            t.cts_offsets = runs(d, tab[b"ctts"], count, "ctts", path)
        t.d, t.tab, t.trak, t.entry = d, tab, (ts, te), (typ, es, ee)
        return t
    raise Bad(f"{path}: no video track")


def runs(d, rng, count, name, where):
    """Per-sample values of an stts/ctts table ((count, value) runs)."""
    s, e = rng
    n = struct.unpack(">I", d[s + 4:s + 8])[0]
    out = []
    for i in range(n):
        c, v = struct.unpack(">II", d[s + 8 + 8 * i:s + 16 + 8 * i])
        out.extend([v] * min(c, count - len(out)))
    if len(out) != count:
        raise Bad(f"{where}: {name} covers {len(out)} of {count} samples")
    return out


def box(typ, payload):
    return struct.pack(">I4s", 8 + len(payload), typ) + payload


def full(typ, vf, payload):
    return box(typ, struct.pack(">I", vf) + payload)


def run_table(typ, vf, values):
    """stts / ctts from per-sample values (runs of equal values)."""
    r = []
    for v in values:
        if r and r[-1][1] == v:
            r[-1][0] += 1
        else:
            r.append([1, v])
    return full(typ, vf, struct.pack(">I", len(r)) + b"".join(struct.pack(">II", c, v) for c, v in r))


def raw_box(d, typ, rng):
    """A box copied verbatim from its payload range."""
    return box(typ, d[rng[0]:rng[1]])


def config_record(t, ps, where):
    """avcC / hvcC for the parameter sets `ps` (in force at the segment's
    first sample): the original record's fixed fields, with the profile /
    level bytes taken from the segment's SPS (H.264 7.3.2.1.1 first three
    bytes; HEVC general profile_tier_level, the 12 bytes after the SPS's
    first byte) and its parameter set arrays replaced."""
    d = t.d
    typ, es, ee = t.entry
    (cs, ce), = [(a, b) for ty, a, b in boxes(d, es + 78, ee, where) if ty in (b"avcC", b"hvcC")]
    c = bytearray(d[cs:ce])
    if t.codec == "h264":
        sps = [n for n in ps if h264_type(n) == 7]
        pps = [n for n in ps if h264_type(n) == 8]
        if not sps or len(sps) > 31 or len(pps) > 255:
            raise Bad(f"{where}: {len(sps)} SPS / {len(pps)} PPS for avcC")
        # skip the original arrays to find the profile extension (if any)
        p = 6
        for k in range(2):
            cnt = c[p - 1] & 0x1F if k == 0 else c[p - 1]
            for _ in range(cnt):
                p += 2 + struct.unpack(">H", c[p:p + 2])[0]
            p += 1
        tail = bytes(c[p - 1:]) if p - 1 < len(c) else b""
        out = bytes([1]) + bytes(sps[-1][1:4]) + bytes([c[4], 0xE0 | len(sps)])
        out += b"".join(struct.pack(">H", len(n)) + n for n in sps)
        out += bytes([len(pps)]) + b"".join(struct.pack(">H", len(n)) + n for n in pps)
        return box(b"avcC", out + tail)
    sps = [n for n in ps if hevc_type(n) == 33]
    if not sps:
        raise Bad(f"{where}: no SPS for hvcC")
    head = bytearray(c[:22])
    head[1:13] = rbsp(sps[-1][2:])[1:13]
    arrays = []
    for ty in (32, 33, 34):
        group = [n for n in ps if hevc_type(n) == ty]
        if group:
            arrays.append(bytes([0x80 | ty]) + struct.pack(">H", len(group))
                          + b"".join(struct.pack(">H", len(n)) + n for n in group))
    return box(b"hvcC", bytes(head) + bytes([len(arrays)]) + b"".join(arrays))


def mp4_segment(t, a, b, ps, where):
    """A self-contained MP4 of samples [a, b) of track t: ftyp (copied),
    moov with mvhd, the track's tkhd / mdhd (duration = the segment's) /
    hdlr / vmhd / dinf copied, stsd = the original sample entry with the
    config record of `ps`, stts / ctts / stss for the segment's samples,
    one chunk (stsc, stco) holding them all in the mdat that follows."""
    d = t.d
    where = f"{where}: samples {a}..{b}"
    top = {ty: (s, e) for ty, s, e in boxes(d, 0, len(d), where)}
    ts, te = t.trak
    trak = {ty: (s, e) for ty, s, e in boxes(d, ts, te, where)}
    (ms, me), = find(d, ts, te, [b"mdia"], where)
    mdia = {ty: (s, e) for ty, s, e in boxes(d, ms, me, where)}
    (ns, ne), = find(d, ts, te, [b"mdia", b"minf"], where)
    minf = {ty: (s, e) for ty, s, e in boxes(d, ns, ne, where)}
    typ, es, ee = t.entry
    children = b"".join(raw_box(d, ty, (s, e)) if ty not in (b"avcC", b"hvcC")
                        else config_record(t, ps, where)
                        for ty, s, e in boxes(d, es + 78, ee, where))
    entry = box(typ, d[es:es + 78] + children)
    stsd = full(b"stsd", 0, struct.pack(">I", 1) + entry)
    n = b - a
    tables = [stsd, run_table(b"stts", 0, t.durations[a:b])]
    if t.cts_offsets is not None:
        tables.append(run_table(b"ctts", t.ctts_version << 24, t.cts_offsets[a:b]))
    if t.sync is not None:
        idx = [i - a + 1 for i in range(a, b) if i in t.sync]
        tables.append(full(b"stss", 0, struct.pack(">I", len(idx)) + b"".join(struct.pack(">I", i) for i in idx)))
    tables.append(full(b"stsc", 0, struct.pack(">IIII", 1, 1, n, 1)))
    tables.append(full(b"stsz", 0, struct.pack(">II", 0, n) + b"".join(struct.pack(">I", len(x)) for x in t.samples[a:b])))
    mdhd = bytearray(d[mdia[b"mdhd"][0]:mdia[b"mdhd"][1]])
    dur = sum(t.durations[a:b])
    if mdhd[0] == 1:
        mdhd[24:32] = struct.pack(">Q", dur)
    else:
        mdhd[16:20] = struct.pack(">I", dur)
    ftyp = raw_box(d, b"ftyp", top[b"ftyp"])

    def moov(chunk_offset):
        stbl = box(b"stbl", b"".join(tables) + full(b"stco", 0, struct.pack(">II", 1, chunk_offset)))
        minf_b = box(b"minf", b"".join(raw_box(d, ty, minf[ty]) for ty in (b"vmhd", b"dinf") if ty in minf) + stbl)
        mdia_b = box(b"mdia", box(b"mdhd", bytes(mdhd)) + raw_box(d, b"hdlr", mdia[b"hdlr"]) + minf_b)
        trak_b = box(b"trak", raw_box(d, b"tkhd", trak[b"tkhd"]) + mdia_b)
        mv = find(d, 0, len(d), [b"moov", b"mvhd"], where)[0]
        return box(b"moov", raw_box(d, b"mvhd", mv) + trak_b)

    off = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(off) + box(b"mdat", b"".join(t.samples[a:b]))


def nals(sample, nls, where):
    out = []
    p = 0
    while p < len(sample):
        if p + nls > len(sample):
            raise Bad(f"{where}: truncated NAL length at byte {p}")
        ln = int.from_bytes(sample[p:p + nls], "big")
        p += nls
        if ln == 0 or p + ln > len(sample):
            raise Bad(f"{where}: bad NAL length {ln} at byte {p - nls}")
        out.append(sample[p:p + ln])
        p += ln
    return out


def cut_mp4(path, outdir, stem, annexb):
    t = mp4_video(path)
    codec, nls, params, samples, sync = t.codec, t.nls, t.params, t.samples, t.sync
    key = h264_ps_key if codec == "h264" else hevc_ps_key
    sps_type = 7 if codec == "h264" else 33
    parse_sps = h264_sps if codec == "h264" else hevc_sps
    is_sync_nal = (lambda n: h264_type(n) == 5) if codec == "h264" else (lambda n: 16 <= hevc_type(n) <= 23)
    ext = "h264" if codec == "h264" else "h265"
    state = {}  # (type, id) -> NAL, in first-seen order
    for p in params:
        state[key(p)] = p
    size = None
    for p in params:
        if key(p)[0] == sps_type:
            size = parse_sps(p)[1]
    segs = []  # [first sample, prefix NALs, size]
    units = []
    for i, s in enumerate(samples):
        where = f"{path}: sample {i}"
        ns = nals(s, nls, where)
        units.append(ns)
        own = {}
        for n in ns:
            k = key(n)
            if k is not None:
                own[k] = n
        new_size = size
        for k, n in own.items():
            if k[0] == sps_type:
                new_size = parse_sps(n)[1]
        if i == 0 or new_size != size:
            if i > 0 and not ((sync is None or i in sync) and any(is_sync_nal(n) for n in ns)):
                raise Bad(f"{where}: size {size} -> {new_size} outside an IDR/IRAP sample")
            prefix = [n for k, n in state.items() if k not in own]
            in_force = list({**state, **own}.values())
            segs.append([i, prefix, new_size, in_force])
        size = new_size
        state.update(own)
    if annexb:
        return write_segments(path, outdir, stem, ext, segs, len(samples),
                              lambda seg, a, b: b"".join(
                                  b"\0\0\0\1" + n for n in seg[1] + [n for u in units[a:b] for n in u]))
    return write_segments(path, outdir, stem, "mp4", segs, len(samples),
                          lambda seg, a, b: mp4_segment(t, a, b, seg[3], path))


# ---------------------------------------------------------------- VP9 / IVF
def vp9_key_size(frame):
    """(width, height) if the frame is a key frame (VP9 spec 6.2), else None."""
    r = Bits(frame)
    if r.u(2) != 2:
        raise Bad("frame_marker is not 2")
    profile = r.u(1) | (r.u(1) << 1)
    if profile == 3:
        r.u(1)
    if r.u(1):  # show_existing_frame
        return None
    if r.u(1) != 0:  # frame_type: 0 = KEY_FRAME
        return None
    r.u(2)  # show_frame, error_resilient_mode
    if r.u(24) != 0x498342:
        raise Bad("bad frame_sync_code")
    if profile >= 2:
        r.u(1)  # ten_or_twelve_bit
    cs = r.u(3)
    if cs != 7:  # CS_RGB
        r.u(1)
        if profile in (1, 3):
            r.u(3)
    elif profile in (1, 3):
        r.u(1)
    return (r.u(16) + 1, r.u(16) + 1)


def superframe_first(data):
    """The first frame of an IVF frame (superframe index, VP9 Annex B)."""
    if data:
        m = data[-1]
        if m & 0xE0 == 0xC0:
            n = (m & 7) + 1
            sz = ((m >> 3) & 3) + 1
            ix = 2 + sz * n
            if len(data) >= ix and data[-ix] == m:
                first = int.from_bytes(data[-ix + 1:-ix + 1 + sz], "little")
                return data[:first]
    return data


def cut_ivf(path, outdir, stem):
    d = open(path, "rb").read()
    if d[:4] != b"DKIF":
        raise Bad(f"{path}: not an IVF file")
    hl = struct.unpack("<H", d[6:8])[0]
    hdr = d[:32]
    frames = []
    p = hl
    while p + 12 <= len(d):
        ln = struct.unpack("<I", d[p:p + 4])[0]
        if p + 12 + ln > len(d):
            raise Bad(f"{path}: frame {len(frames)} at byte {p} past the end")
        frames.append(d[p:p + 12 + ln])
        p += 12 + ln
    size = None
    segs = []
    for i, f in enumerate(frames):
        where = f"{path}: IVF frame {i} (byte offset of its data unknown here)"
        try:
            ks = vp9_key_size(superframe_first(f[12:]))
        except Bad as e:
            raise Bad(f"{where}: {e}")
        if i == 0 and ks is None:
            raise Bad(f"{where}: first frame is no key frame")
        if ks is not None and ks != size:
            segs.append([i, [], ks])
            size = ks
    def body(seg, a, b):
        w, h = seg[2]
        head = hdr[:12] + struct.pack("<HH", w, h) + hdr[16:24] + struct.pack("<I", b - a) + hdr[28:32]
        return head + b"".join(frames[a:b])
    return write_segments(path, outdir, stem, "ivf", segs, len(frames), body)



# ---------------------------------------------------------------- VP8 / WebM
def vp8_key_size(frame):
    """(width, height) if the frame is a key frame (RFC 6386 9.1: frame tag
    bit 0 clear, start code 9d 01 2a, 14-bit width and height), else None."""
    if len(frame) < 3:
        raise Bad("VP8 frame shorter than its 3-byte frame tag")
    if frame[0] & 1:
        return None
    if len(frame) < 10 or frame[3:6] != b"\x9d\x01\x2a":
        raise Bad("VP8 key frame without start code 9d 01 2a")
    w, h = struct.unpack("<HH", frame[6:10])
    return (w & 0x3FFF, h & 0x3FFF)


def ebml_vint(d, p, where, mask=True):
    """(value, length) of the EBML variable-size integer at d[p] (RFC 8794
    4); value None for an all-ones size (unknown)."""
    if p >= len(d):
        raise Bad(f"{where}: EBML number past the end at byte {p}")
    b0 = d[p]
    n = 1
    while n <= 8 and not b0 & (0x80 >> (n - 1)):
        n += 1
    if n > 8 or p + n > len(d):
        raise Bad(f"{where}: bad EBML number at byte {p}")
    v = (b0 & (0xFF >> n)) if mask else b0
    for x in d[p + 1:p + n]:
        v = (v << 8) | x
    if mask and v == (1 << (7 * n)) - 1:
        return None, n
    return v, n


def ebml_children(d, off, end, where):
    """(id, data start, data end) of the elements in d[off:end]; an element
    of unknown size runs to `end`."""
    p = off
    while p < end:
        eid, n = ebml_vint(d, p, where, mask=False)
        size, m = ebml_vint(d, p + n, where)
        start = p + n + m
        stop = end if size is None else start + size
        if stop > end:
            raise Bad(f"{where}: element 0x{eid:x} at byte {p} runs past its parent")
        yield eid, start, stop
        p = stop


def webm_vp8_frames(path):
    """The VP8 track's frames of a WebM/Matroska file, in file order:
    (timecode in TimecodeScale units, bytes). SimpleBlock and BlockGroup
    Block; laced blocks are refused."""
    d = open(path, "rb").read()
    segs = [(s, e) for i, s, e in ebml_children(d, 0, len(d), path) if i == 0x18538067]
    if not segs:
        raise Bad(f"{path}: no Matroska Segment")
    s0, s1 = segs[0]
    track = None
    frames = []
    # Segment children read by hand: a Cluster of unknown size (live WebM
    # writers) ends where the next top-level element (Cluster, Cues, ...)
    # starts (RFC 8794 6.2: an unknown-sized element ends at an element
    # that is not a valid child)
    top = {0x1F43B675, 0x1C53BB6B, 0x1654AE6B, 0x1549A966, 0x114D9B74, 0x1941A469, 0x1043A770, 0x1254C367}
    p = s0
    while p < s1:
        eid, n = ebml_vint(d, p, path, mask=False)
        size, m = ebml_vint(d, p + n, path)
        a = p + n + m
        if size is not None:
            b = a + size
            if b > s1:
                raise Bad(f"{path}: element 0x{eid:x} at byte {p} runs past the Segment")
        elif eid != 0x1F43B675:
            raise Bad(f"{path}: element 0x{eid:x} of unknown size at byte {p}")
        if eid == 0x1654AE6B:  # Tracks
            for tid, ta, tb in ebml_children(d, a, b, path):
                if tid != 0xAE:
                    continue
                kv = {i: d[x:y] for i, x, y in ebml_children(d, ta, tb, path)}
                if kv.get(0x86) == b"V_VP8" and track is None:
                    track = int.from_bytes(kv[0xD7], "big")
        elif eid == 0x1F43B675:  # Cluster
            if track is None:
                raise Bad(f"{path}: Cluster before Tracks, or no V_VP8 track")
            ctc = 0
            q = a
            end = s1 if size is None else b
            while q < end:
                cid, n2 = ebml_vint(d, q, path, mask=False)
                if size is None and cid in top:
                    break
                csz, m2 = ebml_vint(d, q + n2, path)
                if csz is None:
                    raise Bad(f"{path}: element 0x{cid:x} of unknown size at byte {q}")
                bs, be = q + n2 + m2, q + n2 + m2 + csz
                if be > end:
                    raise Bad(f"{path}: element 0x{cid:x} at byte {q} runs past its Cluster")
                q = be
                if cid == 0xE7:
                    ctc = int.from_bytes(d[bs:be], "big")
                elif cid in (0xA3, 0xA0):
                    if cid == 0xA0:
                        inner = [(x, y) for i2, x, y in ebml_children(d, bs, be, path) if i2 == 0xA1]
                        if not inner:
                            continue
                        bs, be = inner[0]
                    tn, n3 = ebml_vint(d, bs, path)
                    if tn != track:
                        continue
                    tc = struct.unpack(">h", d[bs + n3:bs + n3 + 2])[0]
                    if d[bs + n3 + 2] & 0x06:
                        raise Bad(f"{path}: laced block at byte {bs} (not supported)")
                    frames.append((ctc + tc, bytes(d[bs + n3 + 3:be])))
            b = q
        p = b
    if track is None or not frames:
        raise Bad(f"{path}: no V_VP8 frames")
    return frames


def cut_webm_vp8(path, outdir, stem):
    """VP8 in WebM/Matroska -> one IVF per sequence (key frame with a new
    size): IVF header (fourcc VP80, the segment's size, timebase 1/1000 --
    Matroska's default TimecodeScale of 1 ms), then each frame's 12-byte
    IVF frame header (size, pts = block timecode) and its bytes unchanged."""
    frames = webm_vp8_frames(path)
    size = None
    segs = []
    for i, (tc, f) in enumerate(frames):
        try:
            ks = vp8_key_size(f)
        except Bad as e:
            raise Bad(f"{path}: VP8 frame {i}: {e}")
        if i == 0 and ks is None:
            raise Bad(f"{path}: VP8 frame 0 is no key frame")
        if ks is not None and ks != size:
            segs.append([i, [], ks])
            size = ks
    def body(seg, a, b):
        w, h = seg[2]
        head = b"DKIF" + struct.pack("<HH4sHHIIII", 0, 32, b"VP80", w, h, 1000, 1, b - a, 0)
        return head + b"".join(struct.pack("<IQ", len(f), tc) + f for tc, f in frames[a:b])
    return write_segments(path, outdir, stem, "ivf", segs, len(frames), body)


def write_segments(path, outdir, stem, ext, segs, total, body):
    for k, seg in enumerate(segs):
        a = seg[0]
        b = segs[k + 1][0] if k + 1 < len(segs) else total
        name = f"{stem}--seg{k:02d}.{ext}"
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(body(seg, a, b))
        w, h = seg[2]
        print(f"{name}\t{a}\t{b}\t{w}x{h}")
    return 0


def main(argv):
    annexb = len(argv) > 1 and argv[1] == "--annexb"
    if annexb:
        argv = argv[:1] + argv[2:]
    if len(argv) != 3:
        sys.stderr.write("usage: segment.py [--annexb] CLIP OUTDIR\n")
        return 2
    path, outdir = argv[1], argv[2]
    os.makedirs(outdir, exist_ok=True)
    stem = os.path.basename(path)
    try:
        if path.endswith(".ivf"):
            return cut_ivf(path, outdir, stem)
        if path.endswith((".mp4", ".mov", ".m4v")):
            return cut_mp4(path, outdir, stem, annexb)
        if path.endswith((".webm", ".mkv")):
            return cut_webm_vp8(path, outdir, stem)
        raise Bad(f"{path}: only IVF (VP9), MP4 (H.264/HEVC) and WebM/MKV (VP8) clips are cut")
    except (Bad, OSError, struct.error, ValueError, KeyError, IndexError) as e:
        sys.stderr.write(f"segment.py: {e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
