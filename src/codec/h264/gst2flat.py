#!/usr/bin/env python3
"""Convert a visl ftrace of GStreamer v4l2slh264dec (visl_h264_controls + v4l2_qbuf
events) into the flat per-request dump of src/codec/h264/tests.rs::dump_jobs:
  python3 gst2flat.py gst.trace [--delta] > clip.gst; VREQ_H264_DUMP=DIR cargo test --lib \
  codec::h264::tests::dump; diff clip.gst DIR/clip.h264.ours
Test-only helper until the oracle comparator (src/oracle/) lands."""
import re, sys

SPS_FLAGS = {"SEPARATE_COLOUR_PLANE":1,"QPPRIME_Y_ZERO_TRANSFORM_BYPASS":2,"DELTA_PIC_ORDER_ALWAYS_ZERO":4,
 "GAPS_IN_FRAME_NUM_VALUE_ALLOWED":8,"FRAME_MBS_ONLY":16,"MB_ADAPTIVE_FRAME_FIELD":32,"DIRECT_8X8_INFERENCE":64}
CS = {"CONSTRAINT_SET%d_FLAG"%i:1<<i for i in range(6)}
PPS_FLAGS = {"ENTROPY_CODING_MODE":1,"BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT":2,"WEIGHTED_PRED":4,
 "DEBLOCKING_FILTER_CONTROL_PRESENT":8,"CONSTRAINED_INTRA_PRED":16,"REDUNDANT_PIC_CNT_PRESENT":32,
 "TRANSFORM_8X8_MODE":64,"SCALING_MATRIX_PRESENT":128}
DEC_FLAGS = {"IDR_PIC":1,"FIELD_PIC":2,"BOTTOM_FIELD":4,"PFRAME":8,"BFRAME":16}
SLICE_FLAGS = {"DIRECT_SPATIAL_MV_PRED":1,"SP_FOR_SWITCH":2}
FIELDS = {"TOP_FIELD_REF":1,"BOTTOM_FIELD_REF":2,"FRAME_REF":3}
DPB_FLAGS = {"VALID":1,"ACTIVE":2,"LONG_TERM":4,"FIELD":8}
STYPE = {"P":0,"B":1,"I":2,"SP":3,"SI":4}

def flags(s, table):
    v = 0
    for t in s.strip().split("|"):
        t = t.strip()
        if not t: continue
        if t.startswith("0x"): v |= int(t, 16)
        else: v |= table[t]
    return v

ev_re = re.compile(r"^\s*\S.*?\s\d+\.\d+: (\w+): ?(.*)$")
lines = open(sys.argv[1]).read().split("\n")
events = []  # (name, firstline, [body lines])
for l in lines:
    if l.startswith("#"): continue
    m = ev_re.match(l)
    if m:
        events.append([m.group(1), m.group(2), []])
    elif events:
        events[-1][2].append(l)

out_ts = []
reqs = []
cur = None
def kv(body):
    d = {}; key=None
    for l in body:
        if not l.strip(): continue
        if key is not None:  # inside {...} multi-line
            if l.strip() == "}":
                d[key] = "".join(acc); key=None
            else:
                acc.append(l.replace(" ", ""))
            continue
        k, _, v = l.partition(" ")
        if v.strip() == "{":
            key = k; acc = []
            continue
        d[k] = v.strip()
    return d

for name, first, body in events:
    if name == "v4l2_qbuf":
        if "VIDEO_OUTPUT" in first:
            fl = re.search(r"flags = ([^,]*)", first).group(1)
            hx = [int(t, 16) for t in fl.split("|") if t.startswith("0x")]
            out_ts.append((int(re.search(r"timestamp = (\d+)", first).group(1)), 1 if any(h & 0x200 for h in hx) else 0))
        continue
    if name == "v4l2_ctrl_h264_sps":
        cur = {"sps": kv(body), "l0": {}, "l1": {}, "dpb": {}}
        reqs.append(cur)
    elif cur is None:
        continue
    elif name == "v4l2_ctrl_h264_pps": cur["pps"] = kv(body)
    elif name == "v4l2_ctrl_h264_scaling_matrix":
        # multi-line hex blocks
        txt = "\n".join(body)
        m = re.findall(r"\{([^}]*)\}", txt)
        cur["sm"] = ["".join(x.split()) for x in m]
    elif name == "v4l2_ctrl_h264_slice_params": cur["slice"] = kv(body)
    elif name == "v4l2_ctrl_h264_decode_params": cur["decode"] = kv(body)
    elif name == "v4l2_ctrl_h264_pred_weights":
        txt = "\n".join(body)
        d = {}
        for m in re.finditer(r"(\S+) \{([^}]*)\}", txt):
            d[m.group(1)] = m.group(2)
        for m in re.finditer(r"^(luma_log2_weight_denom|chroma_log2_weight_denom) (\d+)", txt, re.M):
            d[m.group(1)] = m.group(2)
        cur["pw"] = d
    elif name in ("v4l2_h264_ref_pic_list0", "v4l2_h264_ref_pic_list1"):
        m = re.match(r"\[(\d+)\]: fields (.*) index (\d+)", first)
        cur["l0" if name.endswith("0") else "l1"][int(m.group(1))] = (flags(m.group(2), FIELDS), int(m.group(3)))
    elif name == "v4l2_h264_dpb_entry":
        m = re.match(r"\[(\d+)\]: reference_ts (\d+), pic_num (\d+) frame_num (\d+) fields (.*) top_field_order_cnt (-?\d+) bottom_field_order_cnt (-?\d+) flags(.*)$", first)
        cur["dpb"][int(m.group(1))] = dict(ts=int(m.group(2)), pic_num=int(m.group(3)), frame_num=int(m.group(4)),
            fields=flags(m.group(5), FIELDS), top=int(m.group(6)), bottom=int(m.group(7)), flags=flags(m.group(8), DPB_FLAGS))

assert len(out_ts) == len(reqs), (len(out_ts), len(reqs))
ords = {}
o = []
sm_last = None
for i, r in enumerate(reqs):
    ts, hold = out_ts[i]
    if ts not in ords: ords[ts] = len(ords)
    o.append("--- request ts=%d hold=%s" % (ords[ts], hold))
    s = r["sps"]
    for k in ["profile_idc","constraint_set_flags","level_idc","seq_parameter_set_id","chroma_format_idc","bit_depth_luma_minus8","bit_depth_chroma_minus8","log2_max_frame_num_minus4","pic_order_cnt_type","log2_max_pic_order_cnt_lsb_minus4","max_num_ref_frames","num_ref_frames_in_pic_order_cnt_cycle","offset_for_non_ref_pic","offset_for_top_to_bottom_field","pic_width_in_mbs_minus1","pic_height_in_map_units_minus1","flags"]:
        v = s.get(k, "")
        if k == "flags": v = flags(v, SPS_FLAGS)
        if k == "constraint_set_flags": v = flags(v, CS)
        o.append("sps.%s %s" % (k, v))
    o.append("sps.offset_for_ref_frame %s" % s["offset_for_ref_frame"])
    p = r["pps"]
    for k in ["pic_parameter_set_id","seq_parameter_set_id","num_slice_groups_minus1","num_ref_idx_l0_default_active_minus1","num_ref_idx_l1_default_active_minus1","weighted_bipred_idc","pic_init_qp_minus26","pic_init_qs_minus26","chroma_qp_index_offset","second_chroma_qp_index_offset","flags"]:
        v = p.get(k, "")
        if k == "flags": v = flags(v, PPS_FLAGS)
        o.append("pps.%s %s" % (k, v))
    if p.get("flags") and "SCALING_MATRIX_PRESENT" in p["flags"]:
        sm = r.get("sm")
        if sm and sm[0]: sm_last = sm
        if sm_last:
            o.append("scaling.scaling_list_4x4 %s" % sm_last[0].lower())
            o.append("scaling.scaling_list_8x8 %s" % sm_last[1].lower())
    sl = r["slice"]
    for k in ["header_bit_size","first_mb_in_slice","slice_type","colour_plane_id","redundant_pic_cnt","cabac_init_idc","slice_qp_delta","slice_qs_delta","disable_deblocking_filter_idc","slice_alpha_c0_offset_div2","slice_beta_offset_div2","num_ref_idx_l0_active_minus1","num_ref_idx_l1_active_minus1","flags"]:
        v = sl.get(k, "")
        if k == "flags": v = flags(v, SLICE_FLAGS)
        if k == "slice_type": v = STYPE[v]
        o.append("slice.%s %s" % (k, v))
    dpb = r["dpb"]
    tsmap = lambda t: ords.get(t, -1)
    for li in ("l0", "l1"):
        for i in range(32):
            f, idx = r[li].get(i, (255, 255))
            e = dpb.get(idx)
            if idx != 255 and e is not None:
                o.append("ref_pic_list%s[%d] fields=%d ref=%d" % (li[1], i, f, tsmap(e["ts"])))
            else:
                o.append("ref_pic_list%s[%d] fields=%d index=%d" % (li[1], i, f, idx))
    d = r["decode"]
    for k in ["nal_ref_idc","frame_num","top_field_order_cnt","bottom_field_order_cnt","idr_pic_id","pic_order_cnt_lsb","delta_pic_order_cnt_bottom","delta_pic_order_cnt0","delta_pic_order_cnt1","dec_ref_pic_marking_bit_size","pic_order_cnt_bit_size","slice_group_change_cycle","flags"]:
        v = d.get(k, "")
        if k == "flags": v = flags(v, DEC_FLAGS)
        o.append("decode.%s %s" % (k, v))
    ents = []
    for i, e in dpb.items():
        if e["flags"] & 1:
            ents.append("ref=%d pic_num=%d frame_num=%d fields=%d top=%d bottom=%d flags=%d" % (tsmap(e["ts"]), e["pic_num"], e["frame_num"], e["fields"], e["top"], e["bottom"], e["flags"]))
    for e in sorted(ents): o.append("dpb " + e)
    w = r["pw"]
    o.append("pw.luma_log2_weight_denom %s" % w["luma_log2_weight_denom"])
    o.append("pw.chroma_log2_weight_denom %s" % w["chroma_log2_weight_denom"])
    for i in (0, 1):
        for k in ("luma_weight", "luma_offset"):
            o.append("pw[%d].%s {%s}" % (i, k, w["weight_factor[%d].%s" % (i, k)]))
        for k in ("chroma_weight", "chroma_offset"):
            o.append("pw[%d].%s %s" % (i, k, "".join(w["weight_factor[%d].%s" % (i, k)].split()).lower()))

def delta(lines):
    """Keep only what changed since the previous request (dpb lines merged)."""
    out, prev, cur, order = [], {}, None, []
    def flush():
        if cur is None:
            return
        for k in order:
            if prev.get(k) != cur[k]:
                out.append("%s %s" % (k, cur[k]))
        for k in prev:
            if k not in cur:
                out.append("%s <unset>" % k)
    for l in lines:
        if l.startswith("--- "):
            flush()
            if cur is not None:
                prev = cur
            cur, order = {}, []
            out.append(l)
            continue
        k, _, v = l.partition(" ")
        if k == "dpb":
            if "dpb" not in cur:
                cur["dpb"] = v
                order.append("dpb")
            else:
                cur["dpb"] += " ; " + v
            continue
        cur[k] = v
        order.append(k)
    flush()
    return out

if len(sys.argv) > 2 and sys.argv[2] == "--delta":
    o = delta(o)
print("\n".join(o))
