//! Normalised text form of a visl trace (H.264, HEVC, VP9, VP8 or MPEG-2): what two
//! decoders must agree on, one `job J key = value` line per field, stable
//! run to run. Each codec has its own first line ([`MAGICS`]).
//!
//! Common rules (uAPI "ext-ctrls-codec-stateless" for what a
//! driver reads):
//! * A picture's identity is its **decode index**: the ordinal of its OUTPUT
//!   buffer timestamp in order of first appearance (all slices of a picture
//!   share one timestamp). `job J picture = P` names the job's own picture;
//!   every reference timestamp becomes `pic P` (`pic ts?` when no traced
//!   OUTPUT buffer carried that timestamp). A timestamp that comes back
//!   after another picture's names a **new** picture, and references resolve
//!   to the latest picture with it: a trace may hold several sessions one
//!   after the other (a VA client re-creates its context at a resolution
//!   change, and a new session may restart its timestamps; each V4L2 file
//!   handle has its own queues, so the kernel resolves `reference_ts` within
//!   one session — vb2 `vb2_find_buffer` on that handle's CAPTURE queue).
//!   The pictures of one session are consecutive (the slices of one picture,
//!   and H.264's two fields of a frame, 7.4.1.2.4, are consecutive jobs).
//! * Carried sections ([`CARRIED`]: per-sequence or per-picture controls) are
//!   printed when they change (a line `job J sps = set` starts the section);
//!   [`super::compare`] carries them forward, so every job is still compared
//!   on every field.
//! * Dropped: ftrace timestamps, pids, CPUs, vb2 buffer indices, raw
//!   timestamps, `reserved` fields.
//! * `strict` ([`normalise_jobs_opts`] and the HEVC/VP9 equivalents) keeps
//!   everything the rules below drop.
//!
//! H.264:
//! * DPB: only entries with `V4L2_H264_DPB_ENTRY_FLAG_VALID` count; they are
//!   compared as a set, keyed and sorted by the picture they name
//!   (`dpb[pic P]`); their array position is dropped.
//! * ref_pic_list0/1: only the active entries (`num_ref_idx_lX_active_minus1`
//!   plus one; list 0 for P/SP/B, list 1 for B); each `index` is resolved to
//!   the identity of the DPB entry it names.
//! * pred_weights: only when explicit weighted prediction applies (P/SP with
//!   PPS `WEIGHTED_PRED`, B with `weighted_bipred_idc == 1`), active entries only.
//! * scaling_matrix: only when PPS `SCALING_MATRIX_PRESENT` is set.
//! * sps.offset_for_ref_frame: the first `num_ref_frames_in_pic_order_cnt_cycle`.
//!
//! HEVC (what visl traces: SLICE_PARAMS element 0 only, which in visl's
//! slice-based mode is the request's only slice; ENTRY_POINT_OFFSETS is not
//! traced at all, so `slice_params.num_entry_point_offsets` is its only trace):
//! * DPB: the first `num_active_dpb_entries` entries, as a set keyed by the
//!   picture their `timestamp` names; their order is dropped.
//! * `poc_st_curr_before/after`, `poc_lt_curr` (first `num_poc_*` entries)
//!   and `ref_idx_l0/l1` (active entries: `num_ref_idx_lX_active_minus1 + 1`,
//!   list 0 for P and B, list 1 for B) are DPB indices: each is resolved to
//!   the picture that DPB entry names (`inactive dpb index N` when it points
//!   past `num_active_dpb_entries`).
//! * slice_params of I slices: no `num_ref_idx_l0/l1_active_minus1`,
//!   `collocated_ref_idx`, `five_minus_max_num_merge_cand` (H.265 7.3.6.1:
//!   not present for I slices); P slices: no `num_ref_idx_l1_active_minus1`;
//!   `collocated_ref_idx` only with `SLICE_TEMPORAL_MVP_ENABLED`.
//! * pred_weight_table: only when 7.3.6.1 reads it (P with PPS
//!   `WEIGHTED_PRED`, B with `WEIGHTED_BIPRED`), active entries only; chroma
//!   parts only when `chroma_format_idc != 0`.
//! * scaling_matrix: only with SPS `SCALING_LIST_ENABLED`.
//! * pps.column_width_minus1 / row_height_minus1: only with `TILES_ENABLED`,
//!   the first `num_tile_columns_minus1 + 1` / `num_tile_rows_minus1 + 1`;
//!   without `TILES_ENABLED` the `LOOP_FILTER_ACROSS_TILES_ENABLED` flag is
//!   cleared (not in the PPS then, 7.3.2.3 infers 1; one tile has no tile
//!   boundary for it to act on).
//! * EXT_SPS_ST_RPS / EXT_SPS_LT_RPS (kernel 7.2 visl with the sid lab patch,
//!   which traces every element; sections `ext_sps_st_rps`, `ext_sps_lt_rps`
//!   only when the trace has them): the elements the SPS uses
//!   (`num_short_term_ref_pic_sets`; `num_long_term_ref_pics_sps` with
//!   `LONG_TERM_REF_PICS_PRESENT`), missing ones as `(not sent)` (a fresh
//!   dynamic array holds one zeroed element; rkvdec reads only the SPS's
//!   count). Per short-term set, what H.265 7.4.8 and its only consumer,
//!   rkvdec (`rkvdec-hevc-common.c`: `st_ref_pic_set_prediction` /
//!   `st_ref_pic_set_calculate`), read: inter-predicted sets
//!   (`INTER_REF_PIC_SET_PRED`) `delta_idx_minus1`, `delta_rps_sign`,
//!   `abs_delta_rps_minus1`, `used_by_curr_pic`, `use_delta_flag` (their
//!   `num_*_pics` and deltas are derived); explicit sets `num_negative_pics`,
//!   `num_positive_pics`, the low `num_negative_pics + num_positive_pics` bits
//!   of `used_by_curr_pic` and that many deltas (`use_delta_flag` and the
//!   prediction fields are not read).
//!
//! VP9 (one job per decoded frame; `show_existing_frame` is no job):
//! * `frame.last/golden/alt_frame` (from `*_frame_ts`), `ref_frame_sign_bias`
//!   and `interpolation_filter`: only for inter frames (not `KEY_FRAME`, not
//!   `INTRA_ONLY`: VP9 spec 6.2 reads them only for inter frames).
//! * `frame.lf.ref_deltas/mode_deltas`: only with `DELTA_ENABLED` (8.8.1).
//! * `frame.seg.*` data: only with segmentation `ENABLED` (`feature_data`,
//!   `feature_enabled`); `tree_probs` also needs `UPDATE_MAP`, `pred_probs`
//!   `UPDATE_MAP` + `TEMPORAL_UPDATE` (6.2.11: read and used only then).
//! * `compressed_hdr` (probability deltas incl. coef and mv): a carried
//!   section, all fields.
//!
//! VP8 (one job per frame, hidden alt-ref frames included; uAPI
//! `v4l2_ctrl_vp8_frame`, RFC 6386 for what a frame header reads):
//! * `frame.last/golden/alt_frame` (from `*_frame_ts`), `prob_intra`,
//!   `prob_last`, `prob_gf`: only for inter frames (not `KEY_FRAME`; RFC 6386
//!   9.7 / 9.10 / 19.2: key frames read no reference and no such
//!   probability).
//! * `frame.segment.quant_update/lf_update`: only with `SEGMENT_ENABLED`;
//!   `segment.segment_probs` only with `SEGMENT_ENABLED` + `SEGMENT_UPDATE_MAP`
//!   (9.3: the tree probabilities are read, and used, only when the map is
//!   updated).
//! * `frame.lf.ref_frm_delta/mb_mode_delta`: only with `LF_ADJ_ENABLED` (9.6).
//! * `frame.prob_skip_false`: only with `MB_NO_SKIP_COEFF` (9.11).
//! * `frame.dct_part_sizes`: the first `num_dct_parts` entries (9.5).
//! * `entropy` (the probabilities in force after this frame's updates:
//!   coefficient, y/uv mode, MV): a carried section, all fields.
//!
//! MPEG-2 (one job per picture; a field picture is its own job and both
//! fields of a frame share one OUTPUT timestamp, hence one `picture`):
//! * `sequence` and `quantisation` are carried sections (all fields of
//!   SEQUENCE; QUANTISATION below).
//! * `picture.forward_ref` (from `forward_ref_ts`): only for P and B
//!   pictures; `picture.backward_ref` (from `backward_ref_ts`): only for B
//!   (ISO/IEC 13818-2 7.6: I pictures predict from nothing, P only forward).
//! * `picture.f_code[0]` (forward): only for P, B, and I with
//!   `CONCEALMENT_MV` (concealment vectors are decoded with the forward
//!   f_code, 7.6.3); `f_code[1]`
//!   (backward): only for B (6.3.10: otherwise "shall be 15", unread).
//! * `quantisation.chroma_*_quantiser_matrix`: only when
//!   `sequence.chroma_format` is not 1 (4:2:0 uses the luma matrices for
//!   chroma, 6.3.11 / 7.4.2.1).

use std::collections::HashMap;
use std::fmt::Write as _;

use v4l2r::bindings as b;

use super::trace::{
    HevcTraceJob, Mpeg2TraceJob, OutputQbuf, Trace, TraceJob, Vp8TraceJob, Vp9TraceJob,
};
use super::visl_fmt::{
    print_flags, print_symbolic, DECODE_FLAGS, DPB_FLAGS, HEVC_DECODE_FLAGS, HEVC_DPB_FLAGS,
    HEVC_EXT_LT_RPS_FLAGS, HEVC_EXT_ST_RPS_FLAGS, HEVC_PPS_FLAGS, HEVC_SLICE_FLAGS, HEVC_SPS_FLAGS,
    PPS_FLAGS, REF_FIELDS, SLICE_FLAGS, SLICE_TYPES, SPS_CONSTRAINT_FLAGS, SPS_FLAGS,
    VP9_FRAME_FLAGS, VP9_INTERP_FILTER, VP9_LF_FLAGS, VP9_REFERENCE_MODE, VP9_RESET_FRAME_CTX,
    VP9_SEG_FLAGS, VP9_SIGN_BIAS, VP9_TX_MODE,
};
use super::visl_fmt::{
    MPEG2_PIC_FLAGS, MPEG2_SEQ_FLAGS, VP8_FRAME_FLAGS, VP8_LF_FLAGS, VP8_SEGMENT_FLAGS,
};
use vreq_core::CodecKind;

/// One job's (or section's) fields: (key, value) in print order.
type Fields = Vec<(String, String)>;

/// First line of every normalised H.264 text.
pub const MAGIC: &str = "# vreq-oracle normalised visl H.264 trace v1";
/// First line of every normalised HEVC text.
pub const MAGIC_HEVC: &str = "# vreq-oracle normalised visl HEVC trace v1";
/// First line of every normalised VP9 text.
pub const MAGIC_VP9: &str = "# vreq-oracle normalised visl VP9 trace v1";
/// First line of every normalised VP8 text.
pub const MAGIC_VP8: &str = "# vreq-oracle normalised visl VP8 trace v1";
/// First line of every normalised MPEG-2 text.
pub const MAGIC_MPEG2: &str = "# vreq-oracle normalised visl MPEG-2 trace v1";
/// All first lines, one per codec.
pub const MAGICS: [&str; 5] = [MAGIC, MAGIC_HEVC, MAGIC_VP9, MAGIC_VP8, MAGIC_MPEG2];

/// Whether `text` is a normalised trace (starts with one of [`MAGICS`]).
pub fn is_normalised(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    MAGICS.contains(&first)
}

/// Sections printed only when changed (carried forward by the comparator):
/// H.264 uses the first five, HEVC the first five plus the two EXT_SPS
/// arrays (sid only), VP9 `compressed_hdr`, VP8 `entropy`, MPEG-2
/// `sequence` and `quantisation`.
pub const CARRIED: [&str; 11] = [
    "sps",
    "pps",
    "scaling_matrix",
    "decode_params",
    "dpb",
    "ext_sps_st_rps",
    "ext_sps_lt_rps",
    "compressed_hdr",
    "entropy",
    "sequence",
    "quantisation",
];

/// Whether `key` belongs to carried section `sec` (`sec.x` or `sec[x]`).
pub fn in_section(key: &str, sec: &str) -> bool {
    key.strip_prefix(sec)
        .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
}

fn sps_lines(s: &b::v4l2_ctrl_h264_sps, strict: bool) -> Vec<(String, String)> {
    let n = if strict {
        255
    } else {
        (s.num_ref_frames_in_pic_order_cnt_cycle as usize).min(255)
    };
    let offs: Vec<String> = s.offset_for_ref_frame[..n]
        .iter()
        .map(|v| v.to_string())
        .collect();
    vec![
        ("profile_idc".into(), s.profile_idc.to_string()),
        (
            "constraint_set_flags".into(),
            print_flags(s.constraint_set_flags as u64, SPS_CONSTRAINT_FLAGS),
        ),
        ("level_idc".into(), s.level_idc.to_string()),
        (
            "seq_parameter_set_id".into(),
            s.seq_parameter_set_id.to_string(),
        ),
        ("chroma_format_idc".into(), s.chroma_format_idc.to_string()),
        (
            "bit_depth_luma_minus8".into(),
            s.bit_depth_luma_minus8.to_string(),
        ),
        (
            "bit_depth_chroma_minus8".into(),
            s.bit_depth_chroma_minus8.to_string(),
        ),
        (
            "log2_max_frame_num_minus4".into(),
            s.log2_max_frame_num_minus4.to_string(),
        ),
        (
            "pic_order_cnt_type".into(),
            s.pic_order_cnt_type.to_string(),
        ),
        (
            "log2_max_pic_order_cnt_lsb_minus4".into(),
            s.log2_max_pic_order_cnt_lsb_minus4.to_string(),
        ),
        (
            "max_num_ref_frames".into(),
            s.max_num_ref_frames.to_string(),
        ),
        (
            "num_ref_frames_in_pic_order_cnt_cycle".into(),
            s.num_ref_frames_in_pic_order_cnt_cycle.to_string(),
        ),
        (
            "offset_for_ref_frame".into(),
            format!("[{}]", offs.join(" ")),
        ),
        (
            "offset_for_non_ref_pic".into(),
            s.offset_for_non_ref_pic.to_string(),
        ),
        (
            "offset_for_top_to_bottom_field".into(),
            s.offset_for_top_to_bottom_field.to_string(),
        ),
        (
            "pic_width_in_mbs_minus1".into(),
            s.pic_width_in_mbs_minus1.to_string(),
        ),
        (
            "pic_height_in_map_units_minus1".into(),
            s.pic_height_in_map_units_minus1.to_string(),
        ),
        ("flags".into(), print_flags(s.flags as u64, SPS_FLAGS)),
    ]
}

fn pps_lines(p: &b::v4l2_ctrl_h264_pps) -> Vec<(String, String)> {
    vec![
        (
            "pic_parameter_set_id".into(),
            p.pic_parameter_set_id.to_string(),
        ),
        (
            "seq_parameter_set_id".into(),
            p.seq_parameter_set_id.to_string(),
        ),
        (
            "num_slice_groups_minus1".into(),
            p.num_slice_groups_minus1.to_string(),
        ),
        (
            "num_ref_idx_l0_default_active_minus1".into(),
            p.num_ref_idx_l0_default_active_minus1.to_string(),
        ),
        (
            "num_ref_idx_l1_default_active_minus1".into(),
            p.num_ref_idx_l1_default_active_minus1.to_string(),
        ),
        (
            "weighted_bipred_idc".into(),
            p.weighted_bipred_idc.to_string(),
        ),
        (
            "pic_init_qp_minus26".into(),
            p.pic_init_qp_minus26.to_string(),
        ),
        (
            "pic_init_qs_minus26".into(),
            p.pic_init_qs_minus26.to_string(),
        ),
        (
            "chroma_qp_index_offset".into(),
            p.chroma_qp_index_offset.to_string(),
        ),
        (
            "second_chroma_qp_index_offset".into(),
            p.second_chroma_qp_index_offset.to_string(),
        ),
        ("flags".into(), print_flags(p.flags as u64, PPS_FLAGS)),
    ]
}

fn join<T: ToString>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn scaling_lines(j: &TraceJob, strict: bool) -> Vec<(String, String)> {
    if !strict && j.pps.flags as u32 & b::V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT == 0 {
        return vec![("unused".into(), "PPS without SCALING_MATRIX_PRESENT".into())];
    }
    let m = &j.scaling_matrix;
    let mut v = Vec::new();
    for (i, l) in m.scaling_list_4x4.iter().enumerate() {
        v.push((format!("scaling_list_4x4[{i}]"), join(l.iter())));
    }
    for (i, l) in m.scaling_list_8x8.iter().enumerate() {
        v.push((format!("scaling_list_8x8[{i}]"), join(l.iter())));
    }
    v
}

/// Maps OUTPUT timestamps to decode indices (order of appearance; a
/// timestamp that comes back after another one names a new picture of a
/// later session, see the module docs).
#[derive(Default)]
struct Pictures {
    ids: HashMap<u64, usize>,
    next: usize,
    last: Option<u64>,
}

impl Pictures {
    fn intern(&mut self, ts: u64) -> usize {
        let again = self.last == Some(ts);
        self.last = Some(ts);
        match self.ids.get(&ts) {
            Some(p) if again => *p,
            _ => {
                let n = self.next;
                self.next += 1;
                self.ids.insert(ts, n);
                n
            }
        }
    }
    fn name(&self, ts: u64) -> String {
        match self.ids.get(&ts) {
            Some(p) => format!("pic {p}"),
            None => "pic ts?".to_string(),
        }
    }
}

fn slice_is(s: &b::v4l2_ctrl_h264_slice_params, types: &[u32]) -> bool {
    types.contains(&(s.slice_type as u32))
}

/// (active list 0 length, active list 1 length) per slice type.
fn active_refs(s: &b::v4l2_ctrl_h264_slice_params) -> (usize, usize) {
    let l0 = s.num_ref_idx_l0_active_minus1 as usize + 1;
    let l1 = s.num_ref_idx_l1_active_minus1 as usize + 1;
    if slice_is(s, &[b::V4L2_H264_SLICE_TYPE_B]) {
        (l0.min(32), l1.min(32))
    } else if slice_is(s, &[b::V4L2_H264_SLICE_TYPE_P, b::V4L2_H264_SLICE_TYPE_SP]) {
        (l0.min(32), 0)
    } else {
        (0, 0)
    }
}

fn decode_lines(j: &TraceJob, pics: &Pictures, strict: bool) -> (Fields, Fields) {
    let d = &j.decode_params;
    let v: Fields = vec![
        (
            "decode_params.nal_ref_idc".into(),
            d.nal_ref_idc.to_string(),
        ),
        ("decode_params.frame_num".into(), d.frame_num.to_string()),
        (
            "decode_params.top_field_order_cnt".into(),
            d.top_field_order_cnt.to_string(),
        ),
        (
            "decode_params.bottom_field_order_cnt".into(),
            d.bottom_field_order_cnt.to_string(),
        ),
        ("decode_params.idr_pic_id".into(), d.idr_pic_id.to_string()),
        (
            "decode_params.pic_order_cnt_lsb".into(),
            d.pic_order_cnt_lsb.to_string(),
        ),
        (
            "decode_params.delta_pic_order_cnt_bottom".into(),
            d.delta_pic_order_cnt_bottom.to_string(),
        ),
        (
            "decode_params.delta_pic_order_cnt0".into(),
            d.delta_pic_order_cnt0.to_string(),
        ),
        (
            "decode_params.delta_pic_order_cnt1".into(),
            d.delta_pic_order_cnt1.to_string(),
        ),
        (
            "decode_params.dec_ref_pic_marking_bit_size".into(),
            d.dec_ref_pic_marking_bit_size.to_string(),
        ),
        (
            "decode_params.pic_order_cnt_bit_size".into(),
            d.pic_order_cnt_bit_size.to_string(),
        ),
        (
            "decode_params.slice_group_change_cycle".into(),
            d.slice_group_change_cycle.to_string(),
        ),
        (
            "decode_params.flags".into(),
            print_flags(d.flags as u64, DECODE_FLAGS),
        ),
    ];
    // DPB as a set keyed by the picture each entry names
    let mut dpb: Vec<(String, String)> = d
        .dpb
        .iter()
        .filter(|e| strict || e.flags & b::V4L2_H264_DPB_ENTRY_FLAG_VALID != 0)
        .map(|e| {
            (
                pics.name(e.reference_ts),
                format!(
                    "pic_num {} frame_num {} fields {} top_field_order_cnt {} bottom_field_order_cnt {} flags {}",
                    e.pic_num,
                    e.frame_num,
                    print_flags(e.fields as u64, REF_FIELDS),
                    e.top_field_order_cnt,
                    e.bottom_field_order_cnt,
                    print_flags(e.flags as u64, DPB_FLAGS)
                ),
            )
        })
        .collect();
    dpb.sort_by(|a, b| {
        let num = |s: &str| {
            s.strip_prefix("pic ")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(u64::MAX)
        };
        (num(&a.0), &a.0, &a.1).cmp(&(num(&b.0), &b.0, &b.1))
    });
    let mut w: Vec<(String, String)> = Vec::new();
    w.push(("dpb.count".into(), dpb.len().to_string()));
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, val) in dpb {
        let n = seen.entry(k.clone()).or_insert(0);
        let key = if *n == 0 {
            format!("dpb[{k}]")
        } else {
            format!("dpb[{k}]#{n}")
        };
        *n += 1;
        w.push((key, val));
    }
    (v, w)
}

fn job_lines(j: &TraceJob, pics: &Pictures, strict: bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    let s = &j.slice_params;
    let d = &j.decode_params;
    v.push((
        "slice_params.header_bit_size".into(),
        s.header_bit_size.to_string(),
    ));
    v.push((
        "slice_params.first_mb_in_slice".into(),
        s.first_mb_in_slice.to_string(),
    ));
    v.push((
        "slice_params.slice_type".into(),
        print_symbolic(s.slice_type as u64, SLICE_TYPES),
    ));
    v.push((
        "slice_params.colour_plane_id".into(),
        s.colour_plane_id.to_string(),
    ));
    v.push((
        "slice_params.redundant_pic_cnt".into(),
        s.redundant_pic_cnt.to_string(),
    ));
    v.push((
        "slice_params.cabac_init_idc".into(),
        s.cabac_init_idc.to_string(),
    ));
    v.push((
        "slice_params.slice_qp_delta".into(),
        s.slice_qp_delta.to_string(),
    ));
    v.push((
        "slice_params.slice_qs_delta".into(),
        s.slice_qs_delta.to_string(),
    ));
    v.push((
        "slice_params.disable_deblocking_filter_idc".into(),
        s.disable_deblocking_filter_idc.to_string(),
    ));
    v.push((
        "slice_params.slice_alpha_c0_offset_div2".into(),
        s.slice_alpha_c0_offset_div2.to_string(),
    ));
    v.push((
        "slice_params.slice_beta_offset_div2".into(),
        s.slice_beta_offset_div2.to_string(),
    ));
    v.push((
        "slice_params.num_ref_idx_l0_active_minus1".into(),
        s.num_ref_idx_l0_active_minus1.to_string(),
    ));
    v.push((
        "slice_params.num_ref_idx_l1_active_minus1".into(),
        s.num_ref_idx_l1_active_minus1.to_string(),
    ));
    v.push((
        "slice_params.flags".into(),
        print_flags(s.flags as u64, SLICE_FLAGS),
    ));
    let (n0, n1) = if strict { (32, 32) } else { active_refs(s) };
    let resolve = |r: &b::v4l2_h264_reference| -> String {
        let target = match d.dpb.get(r.index as usize) {
            Some(e) if e.flags & b::V4L2_H264_DPB_ENTRY_FLAG_VALID != 0 => {
                pics.name(e.reference_ts)
            }
            Some(_) => format!("invalid dpb entry {}", r.index),
            None => format!("index {}", r.index),
        };
        format!(
            "{target} fields {}",
            print_flags(r.fields as u64, REF_FIELDS)
        )
    };
    for (i, r) in s.ref_pic_list0[..n0].iter().enumerate() {
        v.push((format!("ref_pic_list0[{i}]"), resolve(r)));
    }
    for (i, r) in s.ref_pic_list1[..n1].iter().enumerate() {
        v.push((format!("ref_pic_list1[{i}]"), resolve(r)));
    }
    // explicit weighted prediction only
    let p = &j.pps;
    let explicit = strict
        || (slice_is(s, &[b::V4L2_H264_SLICE_TYPE_P, b::V4L2_H264_SLICE_TYPE_SP])
            && p.flags as u32 & b::V4L2_H264_PPS_FLAG_WEIGHTED_PRED != 0)
        || (slice_is(s, &[b::V4L2_H264_SLICE_TYPE_B]) && p.weighted_bipred_idc == 1);
    if explicit {
        let w = &j.pred_weights;
        v.push((
            "pred_weights.luma_log2_weight_denom".into(),
            w.luma_log2_weight_denom.to_string(),
        ));
        v.push((
            "pred_weights.chroma_log2_weight_denom".into(),
            w.chroma_log2_weight_denom.to_string(),
        ));
        for (l, n) in [(0usize, n0), (1, n1)] {
            let f = &w.weight_factors[l];
            for i in 0..n {
                v.push((
                    format!("pred_weights.l{l}[{i}]"),
                    format!(
                        "luma_weight {} luma_offset {} chroma_weight {} {} chroma_offset {} {}",
                        f.luma_weight[i],
                        f.luma_offset[i],
                        f.chroma_weight[i][0],
                        f.chroma_weight[i][1],
                        f.chroma_offset[i][0],
                        f.chroma_offset[i][1]
                    ),
                ));
            }
        }
    }
    v
}

/// One job's normalised content: carried sections (printed when changed)
/// and the job's own fields. Section keys are relative to the section name
/// (`level_idc`, `.count`, `[pic 3]`).
struct JobText {
    sections: Vec<(&'static str, Fields)>,
    own: Fields,
}

/// The writer shared by all codecs: magic line, header comments, cap and
/// strict marks, then per job `picture`, `hold_capture_buf`, the carried
/// sections that changed and the job's own fields. The job's own picture is
/// interned before `job` runs, so references name earlier pictures (and the
/// job's own) by decode index.
fn write_normalised(
    magic: &str,
    header: &[String],
    cap: Option<usize>,
    strict: bool,
    outputs: &[Option<OutputQbuf>],
    mut job: impl FnMut(usize, &Pictures) -> JobText,
) -> String {
    let mut out = String::new();
    out.push_str(magic);
    out.push('\n');
    for h in header {
        let _ = writeln!(out, "# {h}");
    }
    let n = cap.map_or(outputs.len(), |c| c.min(outputs.len()));
    if cap.is_some() {
        let _ = writeln!(out, "# cap {n} of {} jobs", outputs.len());
    }
    if strict {
        out.push_str("# strict\n");
    }
    let mut pics = Pictures::default();
    let mut prev: HashMap<&'static str, Fields> = HashMap::new();
    for (ji, output) in outputs[..n].iter().enumerate() {
        let mut hold = String::from("?");
        match output {
            Some(q) => {
                let p = pics.intern(q.timestamp_ns);
                let _ = writeln!(out, "job {ji} picture = {p}");
                hold = (q.hold_capture as u8).to_string();
            }
            None => {
                let _ = writeln!(out, "job {ji} picture = ?");
            }
        }
        let _ = writeln!(out, "job {ji} hold_capture_buf = {hold}");
        let text = job(ji, &pics);
        for (name, sec) in text.sections {
            if ji == 0 || prev.get(name) != Some(&sec) {
                let _ = writeln!(out, "job {ji} {name} = set");
                for (key, val) in &sec {
                    let sep = if key.starts_with('[') || key.starts_with('.') {
                        ""
                    } else {
                        "."
                    };
                    let _ = writeln!(out, "job {ji} {name}{sep}{key} = {val}");
                }
                prev.insert(name, sec);
            }
        }
        for (key, val) in text.own {
            let _ = writeln!(out, "job {ji} {key} = {val}");
        }
    }
    out
}

/// Normalises parsed trace jobs into the text form (see module docs), at
/// most `cap` jobs when given (recorded as `# cap N of M jobs`, which limits
/// any comparison with this text to its first N jobs). The text starts with [`MAGIC`]; `header`
/// lines are added as `# ` comments (provenance).
pub fn normalise_jobs(jobs: &[TraceJob], header: &[String], cap: Option<usize>) -> String {
    normalise_jobs_opts(jobs, header, cap, false)
}

/// [`normalise_jobs`], optionally **strict**: nothing the uAPI lets a driver
/// ignore is dropped (all 32+32 list entries, all 16 DPB entries still as a
/// set, pred_weights for every slice, the scaling matrix always, all 255
/// `offset_for_ref_frame`): shows where two decoders differ in bytes a
/// driver does not read. Marked by a `# strict` header line.
pub fn normalise_jobs_opts(
    jobs: &[TraceJob],
    header: &[String],
    cap: Option<usize>,
    strict: bool,
) -> String {
    let outputs: Vec<Option<OutputQbuf>> = jobs.iter().map(|j| j.output).collect();
    let strip = |v: Vec<(String, String)>, p: &str| -> Vec<(String, String)> {
        v.into_iter()
            .map(|(k, x)| (k.strip_prefix(p).map(str::to_string).unwrap_or(k), x))
            .collect()
    };
    write_normalised(MAGIC, header, cap, strict, &outputs, |ji, pics| {
        let j = &jobs[ji];
        let (dec, dpb) = decode_lines(j, pics, strict);
        JobText {
            sections: vec![
                ("sps", sps_lines(&j.sps, strict)),
                ("pps", pps_lines(&j.pps)),
                ("scaling_matrix", scaling_lines(j, strict)),
                ("decode_params", strip(dec, "decode_params.")),
                ("dpb", strip(dpb, "dpb")),
            ],
            own: job_lines(j, pics, strict),
        }
    })
}

/// Normalises a parsed [`Trace`] of any codec (the trace's
/// [`Trace::codec`]); its warnings become `# warning:` lines.
pub fn normalise(t: &Trace, header: &[String], cap: Option<usize>) -> String {
    normalise_opts(t, header, cap, false)
}

/// [`normalise`] with the `strict` choice of [`normalise_jobs_opts`] /
/// [`normalise_hevc_jobs`] / [`normalise_vp9_jobs`].
pub fn normalise_opts(t: &Trace, header: &[String], cap: Option<usize>, strict: bool) -> String {
    let mut h: Vec<String> = header.to_vec();
    h.extend(t.warnings.iter().map(|w| format!("warning: {w}")));
    match t.codec() {
        Some(CodecKind::Hevc) => normalise_hevc_jobs(&t.hevc_jobs, &h, cap, strict),
        Some(CodecKind::Vp9) => normalise_vp9_jobs(&t.vp9_jobs, &h, cap, strict),
        Some(CodecKind::Vp8) => normalise_vp8_jobs(&t.vp8_jobs, &h, cap, strict),
        Some(CodecKind::Mpeg2) => normalise_mpeg2_jobs(&t.mpeg2_jobs, &h, cap, strict),
        _ => normalise_jobs_opts(&t.jobs, &h, cap, strict),
    }
}

// ---------------------------------------------------------------------------
// HEVC
// ---------------------------------------------------------------------------

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn hevc_sps_lines(s: &b::v4l2_ctrl_hevc_sps) -> Fields {
    vec![
        kv("video_parameter_set_id", s.video_parameter_set_id),
        kv("seq_parameter_set_id", s.seq_parameter_set_id),
        kv("pic_width_in_luma_samples", s.pic_width_in_luma_samples),
        kv("pic_height_in_luma_samples", s.pic_height_in_luma_samples),
        kv("bit_depth_luma_minus8", s.bit_depth_luma_minus8),
        kv("bit_depth_chroma_minus8", s.bit_depth_chroma_minus8),
        kv(
            "log2_max_pic_order_cnt_lsb_minus4",
            s.log2_max_pic_order_cnt_lsb_minus4,
        ),
        kv(
            "sps_max_dec_pic_buffering_minus1",
            s.sps_max_dec_pic_buffering_minus1,
        ),
        kv("sps_max_num_reorder_pics", s.sps_max_num_reorder_pics),
        kv(
            "sps_max_latency_increase_plus1",
            s.sps_max_latency_increase_plus1,
        ),
        kv(
            "log2_min_luma_coding_block_size_minus3",
            s.log2_min_luma_coding_block_size_minus3,
        ),
        kv(
            "log2_diff_max_min_luma_coding_block_size",
            s.log2_diff_max_min_luma_coding_block_size,
        ),
        kv(
            "log2_min_luma_transform_block_size_minus2",
            s.log2_min_luma_transform_block_size_minus2,
        ),
        kv(
            "log2_diff_max_min_luma_transform_block_size",
            s.log2_diff_max_min_luma_transform_block_size,
        ),
        kv(
            "max_transform_hierarchy_depth_inter",
            s.max_transform_hierarchy_depth_inter,
        ),
        kv(
            "max_transform_hierarchy_depth_intra",
            s.max_transform_hierarchy_depth_intra,
        ),
        kv(
            "pcm_sample_bit_depth_luma_minus1",
            s.pcm_sample_bit_depth_luma_minus1,
        ),
        kv(
            "pcm_sample_bit_depth_chroma_minus1",
            s.pcm_sample_bit_depth_chroma_minus1,
        ),
        kv(
            "log2_min_pcm_luma_coding_block_size_minus3",
            s.log2_min_pcm_luma_coding_block_size_minus3,
        ),
        kv(
            "log2_diff_max_min_pcm_luma_coding_block_size",
            s.log2_diff_max_min_pcm_luma_coding_block_size,
        ),
        kv("num_short_term_ref_pic_sets", s.num_short_term_ref_pic_sets),
        kv("num_long_term_ref_pics_sps", s.num_long_term_ref_pics_sps),
        kv("chroma_format_idc", s.chroma_format_idc),
        kv("sps_max_sub_layers_minus1", s.sps_max_sub_layers_minus1),
        kv("flags", print_flags(s.flags, HEVC_SPS_FLAGS)),
    ]
}

fn hevc_pps_lines(p: &b::v4l2_ctrl_hevc_pps, strict: bool) -> Fields {
    let mut v = vec![
        kv("pic_parameter_set_id", p.pic_parameter_set_id),
        kv("num_extra_slice_header_bits", p.num_extra_slice_header_bits),
        kv(
            "num_ref_idx_l0_default_active_minus1",
            p.num_ref_idx_l0_default_active_minus1,
        ),
        kv(
            "num_ref_idx_l1_default_active_minus1",
            p.num_ref_idx_l1_default_active_minus1,
        ),
        kv("init_qp_minus26", p.init_qp_minus26),
        kv("diff_cu_qp_delta_depth", p.diff_cu_qp_delta_depth),
        kv("pps_cb_qp_offset", p.pps_cb_qp_offset),
        kv("pps_cr_qp_offset", p.pps_cr_qp_offset),
        kv("num_tile_columns_minus1", p.num_tile_columns_minus1),
        kv("num_tile_rows_minus1", p.num_tile_rows_minus1),
    ];
    let tiles = p.flags & b::V4L2_HEVC_PPS_FLAG_TILES_ENABLED as u64 != 0;
    if strict || tiles {
        let (nc, nr) = if strict {
            (20, 22)
        } else {
            (
                (p.num_tile_columns_minus1 as usize + 1).min(20),
                (p.num_tile_rows_minus1 as usize + 1).min(22),
            )
        };
        v.push(kv(
            "column_width_minus1",
            format!("[{}]", join(p.column_width_minus1[..nc].iter())),
        ));
        v.push(kv(
            "row_height_minus1",
            format!("[{}]", join(p.row_height_minus1[..nr].iter())),
        ));
    }
    v.push(kv("pps_beta_offset_div2", p.pps_beta_offset_div2));
    v.push(kv("pps_tc_offset_div2", p.pps_tc_offset_div2));
    v.push(kv(
        "log2_parallel_merge_level_minus2",
        p.log2_parallel_merge_level_minus2,
    ));
    // without tiles there is no tile boundary: LOOP_FILTER_ACROSS_TILES is
    // absent from the PPS (7.3.2.3, inferred 1) and has nothing to act on
    let mut flags = p.flags;
    if !strict && !tiles {
        flags &= !(b::V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED as u64);
    }
    v.push(kv("flags", print_flags(flags, HEVC_PPS_FLAGS)));
    v
}

fn hevc_scaling_lines(j: &HevcTraceJob, strict: bool) -> Fields {
    if !strict && j.sps.flags & b::V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED as u64 == 0 {
        return vec![kv("unused", "SPS without SCALING_LIST_ENABLED")];
    }
    let m = &j.scaling_matrix;
    let mut v = Vec::new();
    for (i, l) in m.scaling_list_4x4.iter().enumerate() {
        v.push((format!("scaling_list_4x4[{i}]"), join(l.iter())));
    }
    for (i, l) in m.scaling_list_8x8.iter().enumerate() {
        v.push((format!("scaling_list_8x8[{i}]"), join(l.iter())));
    }
    for (i, l) in m.scaling_list_16x16.iter().enumerate() {
        v.push((format!("scaling_list_16x16[{i}]"), join(l.iter())));
    }
    for (i, l) in m.scaling_list_32x32.iter().enumerate() {
        v.push((format!("scaling_list_32x32[{i}]"), join(l.iter())));
    }
    v.push(kv(
        "scaling_list_dc_coef_16x16",
        join(m.scaling_list_dc_coef_16x16.iter()),
    ));
    v.push(kv(
        "scaling_list_dc_coef_32x32",
        join(m.scaling_list_dc_coef_32x32.iter()),
    ));
    v
}

/// The picture an HEVC DPB index names (`dpb[i].timestamp`), or why not.
fn hevc_dpb_target(d: &b::v4l2_ctrl_hevc_decode_params, i: u8, pics: &Pictures) -> String {
    if i < d.num_active_dpb_entries && (i as usize) < d.dpb.len() {
        pics.name(d.dpb[i as usize].timestamp)
    } else {
        format!("inactive dpb index {i}")
    }
}

fn hevc_decode_lines(j: &HevcTraceJob, pics: &Pictures, strict: bool) -> (Fields, Fields) {
    let d = &j.decode_params;
    let mut v = vec![
        kv("pic_order_cnt_val", d.pic_order_cnt_val),
        kv("short_term_ref_pic_set_size", d.short_term_ref_pic_set_size),
        kv("long_term_ref_pic_set_size", d.long_term_ref_pic_set_size),
        kv("num_active_dpb_entries", d.num_active_dpb_entries),
        kv("num_poc_st_curr_before", d.num_poc_st_curr_before),
        kv("num_poc_st_curr_after", d.num_poc_st_curr_after),
        kv("num_poc_lt_curr", d.num_poc_lt_curr),
    ];
    for (name, arr, n) in [
        (
            "poc_st_curr_before",
            &d.poc_st_curr_before,
            d.num_poc_st_curr_before,
        ),
        (
            "poc_st_curr_after",
            &d.poc_st_curr_after,
            d.num_poc_st_curr_after,
        ),
        ("poc_lt_curr", &d.poc_lt_curr, d.num_poc_lt_curr),
    ] {
        let n = if strict { 16 } else { (n as usize).min(16) };
        for (i, &idx) in arr[..n].iter().enumerate() {
            v.push((format!("{name}[{i}]"), hevc_dpb_target(d, idx, pics)));
        }
    }
    v.push(kv("flags", print_flags(d.flags, HEVC_DECODE_FLAGS)));
    // DPB: the active entries as a set keyed by the picture each names
    let n = if strict {
        16
    } else {
        (d.num_active_dpb_entries as usize).min(16)
    };
    let entries: Vec<(String, String)> = d.dpb[..n]
        .iter()
        .map(|e| {
            (
                pics.name(e.timestamp),
                format!(
                    "flags {} field_pic {} pic_order_cnt_val {}",
                    print_flags(e.flags as u64, HEVC_DPB_FLAGS),
                    e.field_pic,
                    e.pic_order_cnt_val
                ),
            )
        })
        .collect();
    (v, dpb_set(entries))
}

/// DPB entries (picture name, description) → `.count` + `[pic P]` keys,
/// sorted by decode index; duplicates numbered `#1`, `#2`.
fn dpb_set(mut dpb: Vec<(String, String)>) -> Fields {
    dpb.sort_by(|a, b| {
        let num = |s: &str| {
            s.strip_prefix("pic ")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(u64::MAX)
        };
        (num(&a.0), &a.0, &a.1).cmp(&(num(&b.0), &b.0, &b.1))
    });
    let mut w: Fields = vec![(".count".into(), dpb.len().to_string())];
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, val) in dpb {
        let n = seen.entry(k.clone()).or_insert(0);
        let key = if *n == 0 {
            format!("[{k}]")
        } else {
            format!("[{k}]#{n}")
        };
        *n += 1;
        w.push((key, val));
    }
    w
}

/// EXT_SPS_ST_RPS / LT_RPS (kernel 7.2): the elements the SPS uses
/// (`num_short_term_ref_pic_sets`, `num_long_term_ref_pics_sps` with
/// LONG_TERM_REF_PICS_PRESENT), each with the fields its kind of set is
/// read by (see the module docs); strict: every traced element, every field.
fn hevc_ext_lines(j: &HevcTraceJob, strict: bool) -> (Fields, Fields) {
    let nst = if strict {
        j.ext_st_rps.len()
    } else {
        j.sps.num_short_term_ref_pic_sets as usize
    };
    let mut st = vec![kv(".elements", j.ext_st_rps.len().min(nst))];
    if strict {
        st[0].1 = j.ext_st_rps.len().to_string();
    }
    for i in 0..nst {
        let val = match j.ext_st_rps.get(i) {
            None => "(not sent)".to_string(),
            Some(e) if strict => format!(
                "flags {} delta_idx_minus1 {} delta_rps_sign {} abs_delta_rps_minus1 {} \
                 num_negative_pics {} num_positive_pics {} used_by_curr_pic {:08x} \
                 use_delta_flag {:08x} delta_poc_s0_minus1 [{}] delta_poc_s1_minus1 [{}]",
                print_flags(e.flags as u64, HEVC_EXT_ST_RPS_FLAGS),
                e.delta_idx_minus1,
                e.delta_rps_sign,
                e.abs_delta_rps_minus1,
                e.num_negative_pics,
                e.num_positive_pics,
                e.used_by_curr_pic,
                e.use_delta_flag,
                join(e.delta_poc_s0_minus1.iter()),
                join(e.delta_poc_s1_minus1.iter()),
            ),
            // inter-predicted (7.4.8: the set is derived from the reference
            // set): what the prediction reads; rkvdec derives num_*_pics and
            // the deltas itself
            Some(e)
                if e.flags
                    & vreq_core::uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED
                    != 0 =>
            {
                format!(
                    "flags {} delta_idx_minus1 {} delta_rps_sign {} abs_delta_rps_minus1 {} \
                     used_by_curr_pic {:08x} use_delta_flag {:08x}",
                    print_flags(e.flags as u64, HEVC_EXT_ST_RPS_FLAGS),
                    e.delta_idx_minus1,
                    e.delta_rps_sign,
                    e.abs_delta_rps_minus1,
                    e.used_by_curr_pic,
                    e.use_delta_flag,
                )
            }
            // explicit: the counts, their used_by_curr_pic bits and deltas
            Some(e) => {
                let n0 = (e.num_negative_pics as usize).min(16);
                let n1 = (e.num_positive_pics as usize).min(16);
                let bits = (n0 + n1).min(32);
                let mask = if bits == 32 {
                    u32::MAX
                } else {
                    (1u32 << bits) - 1
                };
                format!(
                    "flags {} num_negative_pics {} num_positive_pics {} used_by_curr_pic {:08x} \
                     delta_poc_s0_minus1 [{}] delta_poc_s1_minus1 [{}]",
                    print_flags(e.flags as u64, HEVC_EXT_ST_RPS_FLAGS),
                    e.num_negative_pics,
                    e.num_positive_pics,
                    e.used_by_curr_pic & mask,
                    join(e.delta_poc_s0_minus1[..n0].iter()),
                    join(e.delta_poc_s1_minus1[..n1].iter()),
                )
            }
        };
        st.push((format!("[{i}]"), val));
    }
    let lt_present = j.sps.flags & b::V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT as u64 != 0;
    let nlt = if strict {
        j.ext_lt_rps.len()
    } else if lt_present {
        j.sps.num_long_term_ref_pics_sps as usize
    } else {
        0
    };
    let mut lt = vec![kv(".elements", j.ext_lt_rps.len().min(nlt))];
    if strict {
        lt[0].1 = j.ext_lt_rps.len().to_string();
    }
    for i in 0..nlt {
        let val = match j.ext_lt_rps.get(i) {
            None => "(not sent)".to_string(),
            Some(e) => format!(
                "flags {} lt_ref_pic_poc_lsb_sps {}",
                print_flags(e.flags as u64, HEVC_EXT_LT_RPS_FLAGS),
                e.lt_ref_pic_poc_lsb_sps
            ),
        };
        lt.push((format!("[{i}]"), val));
    }
    (st, lt)
}

fn hevc_slice_is(s: &b::v4l2_ctrl_hevc_slice_params, t: u32) -> bool {
    s.slice_type as u32 == t
}

fn hevc_job_lines(j: &HevcTraceJob, pics: &Pictures, strict: bool) -> Fields {
    let s = &j.slice_params;
    let d = &j.decode_params;
    let is_b = hevc_slice_is(s, b::V4L2_HEVC_SLICE_TYPE_B);
    let is_p = hevc_slice_is(s, b::V4L2_HEVC_SLICE_TYPE_P);
    let inter = is_b || is_p;
    let tmvp = s.flags & b::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_TEMPORAL_MVP_ENABLED as u64 != 0;
    let sp = |k: &str, v: String| (format!("slice_params.{k}"), v);
    let mut v: Fields = vec![
        sp("bit_size", s.bit_size.to_string()),
        sp("data_byte_offset", s.data_byte_offset.to_string()),
        sp(
            "num_entry_point_offsets",
            s.num_entry_point_offsets.to_string(),
        ),
        sp("nal_unit_type", s.nal_unit_type.to_string()),
        sp("nuh_temporal_id_plus1", s.nuh_temporal_id_plus1.to_string()),
        sp(
            "slice_type",
            print_symbolic(s.slice_type as u64, HEVC_SLICE_TYPES),
        ),
        sp("colour_plane_id", s.colour_plane_id.to_string()),
        sp("slice_pic_order_cnt", s.slice_pic_order_cnt.to_string()),
    ];
    if strict || inter {
        v.push(sp(
            "num_ref_idx_l0_active_minus1",
            s.num_ref_idx_l0_active_minus1.to_string(),
        ));
    }
    if strict || is_b {
        v.push(sp(
            "num_ref_idx_l1_active_minus1",
            s.num_ref_idx_l1_active_minus1.to_string(),
        ));
    }
    if strict || (inter && tmvp) {
        v.push(sp("collocated_ref_idx", s.collocated_ref_idx.to_string()));
    }
    if strict || inter {
        v.push(sp(
            "five_minus_max_num_merge_cand",
            s.five_minus_max_num_merge_cand.to_string(),
        ));
    }
    for (k, x) in [
        ("slice_qp_delta", s.slice_qp_delta),
        ("slice_cb_qp_offset", s.slice_cb_qp_offset),
        ("slice_cr_qp_offset", s.slice_cr_qp_offset),
        ("slice_act_y_qp_offset", s.slice_act_y_qp_offset),
        ("slice_act_cb_qp_offset", s.slice_act_cb_qp_offset),
        ("slice_act_cr_qp_offset", s.slice_act_cr_qp_offset),
        ("slice_beta_offset_div2", s.slice_beta_offset_div2),
        ("slice_tc_offset_div2", s.slice_tc_offset_div2),
    ] {
        v.push(sp(k, x.to_string()));
    }
    v.push(sp("pic_struct", s.pic_struct.to_string()));
    v.push(sp("slice_segment_addr", s.slice_segment_addr.to_string()));
    v.push(sp(
        "short_term_ref_pic_set_size",
        s.short_term_ref_pic_set_size.to_string(),
    ));
    v.push(sp(
        "long_term_ref_pic_set_size",
        s.long_term_ref_pic_set_size.to_string(),
    ));
    v.push(sp("flags", print_flags(s.flags, HEVC_SLICE_FLAGS)));
    let (n0, n1) = if strict {
        (16, 16)
    } else {
        let l0 = (s.num_ref_idx_l0_active_minus1 as usize + 1).min(16);
        let l1 = (s.num_ref_idx_l1_active_minus1 as usize + 1).min(16);
        match (is_b, is_p) {
            (true, _) => (l0, l1),
            (_, true) => (l0, 0),
            _ => (0, 0),
        }
    };
    for (i, &idx) in s.ref_idx_l0[..n0].iter().enumerate() {
        v.push((format!("ref_idx_l0[{i}]"), hevc_dpb_target(d, idx, pics)));
    }
    for (i, &idx) in s.ref_idx_l1[..n1].iter().enumerate() {
        v.push((format!("ref_idx_l1[{i}]"), hevc_dpb_target(d, idx, pics)));
    }
    // explicit weighted prediction only (7.3.6.1: pred_weight_table() is
    // present for P with weighted_pred_flag, B with weighted_bipred_flag)
    let pf = j.pps.flags;
    let explicit = strict
        || (is_p && pf & b::V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED as u64 != 0)
        || (is_b && pf & b::V4L2_HEVC_PPS_FLAG_WEIGHTED_BIPRED as u64 != 0);
    if explicit {
        let w = &s.pred_weight_table;
        let chroma = strict || j.sps.chroma_format_idc != 0;
        v.push(kv(
            "pred_weights.luma_log2_weight_denom",
            w.luma_log2_weight_denom,
        ));
        if chroma {
            v.push(kv(
                "pred_weights.delta_chroma_log2_weight_denom",
                w.delta_chroma_log2_weight_denom,
            ));
        }
        let lists = [
            (
                0,
                n0,
                &w.delta_luma_weight_l0,
                &w.luma_offset_l0,
                &w.delta_chroma_weight_l0,
                &w.chroma_offset_l0,
            ),
            (
                1,
                n1,
                &w.delta_luma_weight_l1,
                &w.luma_offset_l1,
                &w.delta_chroma_weight_l1,
                &w.chroma_offset_l1,
            ),
        ];
        for (l, n, dlw, lo, dcw, co) in lists {
            for i in 0..n {
                let mut e = format!("delta_luma_weight {} luma_offset {}", dlw[i], lo[i]);
                if chroma {
                    let _ = write!(
                        e,
                        " delta_chroma_weight {} {} chroma_offset {} {}",
                        dcw[i][0], dcw[i][1], co[i][0], co[i][1]
                    );
                }
                v.push((format!("pred_weights.l{l}[{i}]"), e));
            }
        }
    }
    v
}

/// HEVC `slice_type` names (uAPI `V4L2_HEVC_SLICE_TYPE_*`; visl prints the number).
pub const HEVC_SLICE_TYPES: super::visl_fmt::FlagTable = &[
    (b::V4L2_HEVC_SLICE_TYPE_B as u64, "B"),
    (b::V4L2_HEVC_SLICE_TYPE_P as u64, "P"),
    (b::V4L2_HEVC_SLICE_TYPE_I as u64, "I"),
];

/// Normalises HEVC trace jobs (rules in the module docs, "HEVC"); `strict`
/// keeps everything visl traced. Starts with [`MAGIC_HEVC`].
pub fn normalise_hevc_jobs(
    jobs: &[HevcTraceJob],
    header: &[String],
    cap: Option<usize>,
    strict: bool,
) -> String {
    let outputs: Vec<Option<OutputQbuf>> = jobs.iter().map(|j| j.output).collect();
    let ext = jobs
        .iter()
        .any(|j| !j.ext_st_rps.is_empty() || !j.ext_lt_rps.is_empty());
    write_normalised(MAGIC_HEVC, header, cap, strict, &outputs, |ji, pics| {
        let j = &jobs[ji];
        let (dec, dpb) = hevc_decode_lines(j, pics, strict);
        let mut sections = vec![
            ("sps", hevc_sps_lines(&j.sps)),
            ("pps", hevc_pps_lines(&j.pps, strict)),
            ("scaling_matrix", hevc_scaling_lines(j, strict)),
            ("decode_params", dec),
            ("dpb", dpb),
        ];
        if ext {
            let (st, lt) = hevc_ext_lines(j, strict);
            sections.push(("ext_sps_st_rps", st));
            sections.push(("ext_sps_lt_rps", lt));
        }
        JobText {
            sections,
            own: hevc_job_lines(j, pics, strict),
        }
    })
}

// ---------------------------------------------------------------------------
// VP9
// ---------------------------------------------------------------------------

fn vp9_frame_lines(f: &b::v4l2_ctrl_vp9_frame, pics: &Pictures, strict: bool) -> Fields {
    let fr = |k: &str, v: String| (format!("frame.{k}"), v);
    let intra =
        f.flags & (b::V4L2_VP9_FRAME_FLAG_KEY_FRAME | b::V4L2_VP9_FRAME_FLAG_INTRA_ONLY) != 0;
    let lf_delta = f.lf.flags as u32 & b::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED != 0;
    let seg = f.seg.flags as u32;
    let seg_on = seg & b::V4L2_VP9_SEGMENTATION_FLAG_ENABLED != 0;
    let mut v: Fields = Vec::new();
    if strict || lf_delta {
        v.push(fr("lf.ref_deltas", join(f.lf.ref_deltas.iter())));
        v.push(fr("lf.mode_deltas", join(f.lf.mode_deltas.iter())));
    }
    v.push(fr("lf.level", f.lf.level.to_string()));
    v.push(fr("lf.sharpness", f.lf.sharpness.to_string()));
    v.push(fr("lf.flags", print_flags(f.lf.flags as u64, VP9_LF_FLAGS)));
    v.push(fr("quant.base_q_idx", f.quant.base_q_idx.to_string()));
    v.push(fr("quant.delta_q_y_dc", f.quant.delta_q_y_dc.to_string()));
    v.push(fr("quant.delta_q_uv_dc", f.quant.delta_q_uv_dc.to_string()));
    v.push(fr("quant.delta_q_uv_ac", f.quant.delta_q_uv_ac.to_string()));
    v.push(fr("seg.flags", print_flags(seg as u64, VP9_SEG_FLAGS)));
    if strict || seg_on {
        for (i, d) in f.seg.feature_data.iter().enumerate() {
            v.push(fr(&format!("seg.feature_data[{i}]"), join(d.iter())));
        }
        v.push(fr(
            "seg.feature_enabled",
            join(f.seg.feature_enabled.iter()),
        ));
    }
    if strict || (seg_on && seg & b::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP != 0) {
        v.push(fr("seg.tree_probs", join(f.seg.tree_probs.iter())));
    }
    if strict
        || (seg_on
            && seg & b::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP != 0
            && seg & b::V4L2_VP9_SEGMENTATION_FLAG_TEMPORAL_UPDATE != 0)
    {
        v.push(fr("seg.pred_probs", join(f.seg.pred_probs.iter())));
    }
    v.push(fr("flags", print_flags(f.flags as u64, VP9_FRAME_FLAGS)));
    v.push(fr(
        "compressed_header_size",
        f.compressed_header_size.to_string(),
    ));
    v.push(fr(
        "uncompressed_header_size",
        f.uncompressed_header_size.to_string(),
    ));
    v.push(fr("frame_width_minus_1", f.frame_width_minus_1.to_string()));
    v.push(fr(
        "frame_height_minus_1",
        f.frame_height_minus_1.to_string(),
    ));
    v.push(fr(
        "render_width_minus_1",
        f.render_width_minus_1.to_string(),
    ));
    v.push(fr(
        "render_height_minus_1",
        f.render_height_minus_1.to_string(),
    ));
    if strict || !intra {
        v.push(fr("last_frame", pics.name(f.last_frame_ts)));
        v.push(fr("golden_frame", pics.name(f.golden_frame_ts)));
        v.push(fr("alt_frame", pics.name(f.alt_frame_ts)));
        v.push(fr(
            "ref_frame_sign_bias",
            print_symbolic(f.ref_frame_sign_bias as u64, VP9_SIGN_BIAS),
        ));
    }
    v.push(fr(
        "reset_frame_context",
        print_symbolic(f.reset_frame_context as u64, VP9_RESET_FRAME_CTX),
    ));
    v.push(fr("frame_context_idx", f.frame_context_idx.to_string()));
    v.push(fr("profile", f.profile.to_string()));
    v.push(fr("bit_depth", f.bit_depth.to_string()));
    if strict || !intra {
        v.push(fr(
            "interpolation_filter",
            print_symbolic(f.interpolation_filter as u64, VP9_INTERP_FILTER),
        ));
    }
    v.push(fr("tile_cols_log2", f.tile_cols_log2.to_string()));
    v.push(fr("tile_rows_log2", f.tile_rows_log2.to_string()));
    v.push(fr(
        "reference_mode",
        print_symbolic(f.reference_mode as u64, VP9_REFERENCE_MODE),
    ));
    v
}

fn vp9_compressed_lines(h: &b::v4l2_ctrl_vp9_compressed_hdr) -> Fields {
    let flat2 = |v: &[u8]| join(v.iter());
    let mut v: Fields = vec![
        kv("tx_mode", print_symbolic(h.tx_mode as u64, VP9_TX_MODE)),
        kv("tx8", flat2(h.tx8.as_flattened())),
        kv("tx16", flat2(h.tx16.as_flattened())),
        kv("tx32", flat2(h.tx32.as_flattened())),
    ];
    for (t, a) in h.coef.iter().enumerate() {
        for (p, bb) in a.iter().enumerate() {
            for (r, c) in bb.iter().enumerate() {
                v.push((
                    format!("coef[{t}][{p}][{r}]"),
                    join(c.as_flattened().as_flattened().iter()),
                ));
            }
        }
    }
    v.push(kv("skip", flat2(&h.skip)));
    v.push(kv("inter_mode", flat2(h.inter_mode.as_flattened())));
    v.push(kv("interp_filter", flat2(h.interp_filter.as_flattened())));
    v.push(kv("is_inter", flat2(&h.is_inter)));
    v.push(kv("comp_mode", flat2(&h.comp_mode)));
    v.push(kv("single_ref", flat2(h.single_ref.as_flattened())));
    v.push(kv("comp_ref", flat2(&h.comp_ref)));
    v.push(kv("y_mode", flat2(h.y_mode.as_flattened())));
    v.push(kv("uv_mode", flat2(h.uv_mode.as_flattened())));
    v.push(kv("partition", flat2(h.partition.as_flattened())));
    let m = &h.mv;
    v.push(kv("mv.joint", flat2(&m.joint)));
    v.push(kv("mv.sign", flat2(&m.sign)));
    v.push(kv("mv.classes", flat2(m.classes.as_flattened())));
    v.push(kv("mv.class0_bit", flat2(&m.class0_bit)));
    v.push(kv("mv.bits", flat2(m.bits.as_flattened())));
    v.push(kv(
        "mv.class0_fr",
        flat2(m.class0_fr.as_flattened().as_flattened()),
    ));
    v.push(kv("mv.fr", flat2(m.fr.as_flattened())));
    v.push(kv("mv.class0_hp", flat2(&m.class0_hp)));
    v.push(kv("mv.hp", flat2(&m.hp)));
    v
}

/// Normalises VP9 trace jobs (rules in the module docs, "VP9"); `strict`
/// keeps everything visl traced. Starts with [`MAGIC_VP9`].
pub fn normalise_vp9_jobs(
    jobs: &[Vp9TraceJob],
    header: &[String],
    cap: Option<usize>,
    strict: bool,
) -> String {
    let outputs: Vec<Option<OutputQbuf>> = jobs.iter().map(|j| j.output).collect();
    write_normalised(MAGIC_VP9, header, cap, strict, &outputs, |ji, pics| {
        let j = &jobs[ji];
        JobText {
            sections: vec![("compressed_hdr", vp9_compressed_lines(&j.compressed_hdr))],
            own: vp9_frame_lines(&j.frame, pics, strict),
        }
    })
}

// ---------------------------------------------------------------------------
// VP8
// ---------------------------------------------------------------------------

fn vp8_frame_lines(f: &b::v4l2_ctrl_vp8_frame, pics: &Pictures, strict: bool) -> Fields {
    let fr = |k: &str, v: String| (format!("frame.{k}"), v);
    let key = f.flags & b::V4L2_VP8_FRAME_FLAG_KEY_FRAME as u64 != 0;
    let seg = f.segment.flags as u64;
    let seg_on = seg & b::V4L2_VP8_SEGMENT_FLAG_ENABLED as u64 != 0;
    let mut v: Fields = vec![fr("segment.flags", print_flags(seg, VP8_SEGMENT_FLAGS))];
    if strict || seg_on {
        v.push(fr(
            "segment.quant_update",
            join(f.segment.quant_update.iter()),
        ));
        v.push(fr("segment.lf_update", join(f.segment.lf_update.iter())));
    }
    if strict || (seg_on && seg & b::V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP as u64 != 0) {
        v.push(fr(
            "segment.segment_probs",
            join(f.segment.segment_probs.iter()),
        ));
    }
    let lf_adj = f.lf.flags as u64 & b::V4L2_VP8_LF_ADJ_ENABLE as u64 != 0;
    if strict || lf_adj {
        v.push(fr("lf.ref_frm_delta", join(f.lf.ref_frm_delta.iter())));
        v.push(fr("lf.mb_mode_delta", join(f.lf.mb_mode_delta.iter())));
    }
    v.push(fr("lf.sharpness_level", f.lf.sharpness_level.to_string()));
    v.push(fr("lf.level", f.lf.level.to_string()));
    v.push(fr("lf.flags", print_flags(f.lf.flags as u64, VP8_LF_FLAGS)));
    let q = &f.quant;
    v.push(fr("quant.y_ac_qi", q.y_ac_qi.to_string()));
    v.push(fr("quant.y_dc_delta", q.y_dc_delta.to_string()));
    v.push(fr("quant.y2_dc_delta", q.y2_dc_delta.to_string()));
    v.push(fr("quant.y2_ac_delta", q.y2_ac_delta.to_string()));
    v.push(fr("quant.uv_dc_delta", q.uv_dc_delta.to_string()));
    v.push(fr("quant.uv_ac_delta", q.uv_ac_delta.to_string()));
    v.push(fr("coder_state.range", f.coder_state.range.to_string()));
    v.push(fr("coder_state.value", f.coder_state.value.to_string()));
    v.push(fr(
        "coder_state.bit_count",
        f.coder_state.bit_count.to_string(),
    ));
    v.push(fr("width", f.width.to_string()));
    v.push(fr("height", f.height.to_string()));
    v.push(fr("horizontal_scale", f.horizontal_scale.to_string()));
    v.push(fr("vertical_scale", f.vertical_scale.to_string()));
    v.push(fr("version", f.version.to_string()));
    if strict || f.flags & b::V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF as u64 != 0 {
        v.push(fr("prob_skip_false", f.prob_skip_false.to_string()));
    }
    if strict || !key {
        v.push(fr("prob_intra", f.prob_intra.to_string()));
        v.push(fr("prob_last", f.prob_last.to_string()));
        v.push(fr("prob_gf", f.prob_gf.to_string()));
    }
    v.push(fr("num_dct_parts", f.num_dct_parts.to_string()));
    v.push(fr("first_part_size", f.first_part_size.to_string()));
    v.push(fr(
        "first_part_header_bits",
        f.first_part_header_bits.to_string(),
    ));
    let n = if strict {
        f.dct_part_sizes.len()
    } else {
        (f.num_dct_parts as usize).min(f.dct_part_sizes.len())
    };
    v.push(fr("dct_part_sizes", join(f.dct_part_sizes[..n].iter())));
    if strict || !key {
        v.push(fr("last_frame", pics.name(f.last_frame_ts)));
        v.push(fr("golden_frame", pics.name(f.golden_frame_ts)));
        v.push(fr("alt_frame", pics.name(f.alt_frame_ts)));
    }
    v.push(fr("flags", print_flags(f.flags, VP8_FRAME_FLAGS)));
    v
}

fn vp8_entropy_lines(e: &b::v4l2_vp8_entropy) -> Fields {
    let mut v: Fields = Vec::new();
    for (i, a) in e.coeff_probs.iter().enumerate() {
        for (j, bb) in a.iter().enumerate() {
            v.push((
                format!("coeff_probs[{i}][{j}]"),
                join(bb.as_flattened().iter()),
            ));
        }
    }
    v.push(kv("y_mode_probs", join(e.y_mode_probs.iter())));
    v.push(kv("uv_mode_probs", join(e.uv_mode_probs.iter())));
    for (i, m) in e.mv_probs.iter().enumerate() {
        v.push((format!("mv_probs[{i}]"), join(m.iter())));
    }
    v
}

/// Normalises VP8 trace jobs (rules in the module docs, "VP8"); `strict`
/// keeps everything visl traced. Starts with [`MAGIC_VP8`].
pub fn normalise_vp8_jobs(
    jobs: &[Vp8TraceJob],
    header: &[String],
    cap: Option<usize>,
    strict: bool,
) -> String {
    let outputs: Vec<Option<OutputQbuf>> = jobs.iter().map(|j| j.output).collect();
    write_normalised(MAGIC_VP8, header, cap, strict, &outputs, |ji, pics| {
        let j = &jobs[ji];
        JobText {
            sections: vec![("entropy", vp8_entropy_lines(&j.frame.entropy))],
            own: vp8_frame_lines(&j.frame, pics, strict),
        }
    })
}

// ---------------------------------------------------------------------------
// MPEG-2
// ---------------------------------------------------------------------------

fn mpeg2_sequence_lines(s: &b::v4l2_ctrl_mpeg2_sequence) -> Fields {
    vec![
        kv("horizontal_size", s.horizontal_size),
        kv("vertical_size", s.vertical_size),
        kv("vbv_buffer_size", s.vbv_buffer_size),
        kv(
            "profile_and_level_indication",
            s.profile_and_level_indication,
        ),
        kv("chroma_format", s.chroma_format),
        kv("flags", print_flags(s.flags as u64, MPEG2_SEQ_FLAGS)),
    ]
}

fn mpeg2_quant_lines(
    q: &b::v4l2_ctrl_mpeg2_quantisation,
    s: &b::v4l2_ctrl_mpeg2_sequence,
    strict: bool,
) -> Fields {
    let mut v = vec![
        kv(
            "intra_quantiser_matrix",
            join(q.intra_quantiser_matrix.iter()),
        ),
        kv(
            "non_intra_quantiser_matrix",
            join(q.non_intra_quantiser_matrix.iter()),
        ),
    ];
    if strict || s.chroma_format != 1 {
        v.push(kv(
            "chroma_intra_quantiser_matrix",
            join(q.chroma_intra_quantiser_matrix.iter()),
        ));
        v.push(kv(
            "chroma_non_intra_quantiser_matrix",
            join(q.chroma_non_intra_quantiser_matrix.iter()),
        ));
    }
    v
}

fn mpeg2_picture_lines(p: &b::v4l2_ctrl_mpeg2_picture, pics: &Pictures, strict: bool) -> Fields {
    let pc = |k: &str, v: String| (format!("picture.{k}"), v);
    let t = p.picture_coding_type as u32;
    let is_p = t == b::V4L2_MPEG2_PIC_CODING_TYPE_P;
    let is_b = t == b::V4L2_MPEG2_PIC_CODING_TYPE_B;
    let conceal = p.flags & b::V4L2_MPEG2_PIC_FLAG_CONCEALMENT_MV != 0;
    let mut v: Fields = Vec::new();
    if strict || is_b {
        v.push(pc("backward_ref", pics.name(p.backward_ref_ts)));
    }
    if strict || is_p || is_b {
        v.push(pc("forward_ref", pics.name(p.forward_ref_ts)));
    }
    v.push(pc("flags", print_flags(p.flags as u64, MPEG2_PIC_FLAGS)));
    if strict || is_p || is_b || conceal {
        v.push(pc("f_code[0]", join(p.f_code[0].iter())));
    }
    if strict || is_b {
        v.push(pc("f_code[1]", join(p.f_code[1].iter())));
    }
    v.push(pc("picture_coding_type", p.picture_coding_type.to_string()));
    v.push(pc("picture_structure", p.picture_structure.to_string()));
    v.push(pc("intra_dc_precision", p.intra_dc_precision.to_string()));
    v
}

/// Normalises MPEG-2 trace jobs (rules in the module docs, "MPEG-2");
/// `strict` keeps everything visl traced. Starts with [`MAGIC_MPEG2`].
pub fn normalise_mpeg2_jobs(
    jobs: &[Mpeg2TraceJob],
    header: &[String],
    cap: Option<usize>,
    strict: bool,
) -> String {
    let outputs: Vec<Option<OutputQbuf>> = jobs.iter().map(|j| j.output).collect();
    write_normalised(MAGIC_MPEG2, header, cap, strict, &outputs, |ji, pics| {
        let j = &jobs[ji];
        JobText {
            sections: vec![
                ("sequence", mpeg2_sequence_lines(&j.sequence)),
                (
                    "quantisation",
                    mpeg2_quant_lines(&j.quantisation, &j.sequence, strict),
                ),
            ],
            own: mpeg2_picture_lines(&j.picture, pics, strict),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::OutputQbuf;

    fn job(ts: u64) -> TraceJob {
        let mut j = TraceJob::new(1);
        j.output = Some(OutputQbuf {
            timestamp_ns: ts,
            hold_capture: false,
        });
        j
    }

    #[test]
    fn dpb_is_a_set_and_lists_resolve() {
        let mut a = job(0);
        let mut bj = job(1000);
        let mut c = job(2000);
        a.slice_params.slice_type = b::V4L2_H264_SLICE_TYPE_I as u8;
        for j in [&mut bj, &mut c] {
            j.slice_params.slice_type = b::V4L2_H264_SLICE_TYPE_P as u8;
            j.slice_params.num_ref_idx_l0_active_minus1 = 0;
        }
        let e = b::v4l2_h264_dpb_entry {
            reference_ts: 0,
            flags: 3,
            fields: 3,
            ..Default::default()
        };
        bj.decode_params.dpb[0] = e;
        bj.slice_params.ref_pic_list0[0] = b::v4l2_h264_reference {
            fields: 3,
            index: 0,
        };
        // same content, other DPB slot, garbage in unused slots
        c.decode_params.dpb[5] = e;
        c.decode_params.dpb[1].reference_ts = 777;
        c.slice_params.ref_pic_list0[0] = b::v4l2_h264_reference {
            fields: 3,
            index: 5,
        };
        c.slice_params.ref_pic_list0[1] = b::v4l2_h264_reference {
            fields: 1,
            index: 9,
        };
        let t1 = normalise_jobs(&[a.clone(), bj.clone()], &[], None);
        let mut c2 = c.clone();
        c2.output = bj.output;
        let t2 = normalise_jobs(&[a.clone(), c2], &[], None);
        assert_eq!(t1, t2);
        assert!(t1.contains("job 1 ref_pic_list0[0] = pic 0 fields TOP_FIELD_REF|BOTTOM_FIELD_REF"));
        assert!(t1.contains("job 1 dpb[pic 0] = pic_num 0"));
        // a changed field is visible
        let mut c3 = c.clone();
        c3.output = bj.output;
        c3.decode_params.dpb[5].top_field_order_cnt = 2;
        assert_ne!(t1, normalise_jobs(&[a.clone(), c3], &[], None));
        // strict mode shows the garbage the default hides
        let mut c4 = c.clone();
        c4.output = bj.output;
        c4.decode_params.dpb[5] = b::v4l2_h264_dpb_entry::default();
        c4.decode_params.dpb[0] = e;
        c4.slice_params.ref_pic_list0[0].index = 0;
        c4.slice_params.ref_pic_list0[1] = b::v4l2_h264_reference::default();
        c4.decode_params.dpb[1] = b::v4l2_h264_dpb_entry::default();
        assert_eq!(t1, normalise_jobs(&[a.clone(), c4.clone()], &[], None));
        let s1 = normalise_jobs_opts(&[a.clone(), bj.clone()], &[], None, true);
        assert_eq!(
            s1,
            normalise_jobs_opts(&[a.clone(), c4.clone()], &[], None, true)
        );
        c4.slice_params.ref_pic_list0[7].index = 255;
        assert_eq!(t1, normalise_jobs(&[a.clone(), c4.clone()], &[], None));
        assert_ne!(s1, normalise_jobs_opts(&[a, c4], &[], None, true));
    }

    /// A second session restarting its timestamps (a VA context re-created
    /// at a resolution change): its pictures are new pictures and its
    /// references name them, not the first session's; slices of one picture
    /// (consecutive jobs with one timestamp) stay one picture.
    #[test]
    fn a_timestamp_that_comes_back_is_a_new_picture() {
        let p = |j: TraceJob, slice_type: u32, refs: Option<u64>| {
            let mut j = j;
            j.slice_params.slice_type = slice_type as u8;
            if let Some(r) = refs {
                j.decode_params.dpb[0] = b::v4l2_h264_dpb_entry {
                    reference_ts: r,
                    flags: 3,
                    fields: 3,
                    ..Default::default()
                };
                j.slice_params.ref_pic_list0[0] = b::v4l2_h264_reference {
                    fields: 3,
                    index: 0,
                };
            }
            j
        };
        let (i, pt) = (b::V4L2_H264_SLICE_TYPE_I, b::V4L2_H264_SLICE_TYPE_P);
        let t = normalise_jobs(
            &[
                p(job(1000), i, None),
                p(job(2000), pt, Some(1000)),
                p(job(2000), pt, Some(1000)), // second slice of the same picture
                p(job(1000), i, None),        // session 2 starts again at 1000
                p(job(2000), pt, Some(1000)),
            ],
            &[],
            None,
        );
        let pics: Vec<&str> = t.lines().filter(|l| l.contains(" picture = ")).collect();
        assert_eq!(
            pics,
            [
                "job 0 picture = 0",
                "job 1 picture = 1",
                "job 2 picture = 1",
                "job 3 picture = 2",
                "job 4 picture = 3"
            ]
        );
        assert!(t.contains("job 1 dpb[pic 0] = "), "{t}");
        assert!(t.contains("job 4 dpb[pic 2] = "), "{t}");
        assert!(t.contains("job 4 ref_pic_list0[0] = pic 2 "), "{t}");
    }

    /// EXT_SPS_ST_RPS: only the SPS's sets count, each with the fields its
    /// kind is read by; a set the SPS needs but nobody sent shows.
    #[test]
    fn hevc_ext_sps_rps_rules() {
        use vreq_core::uapi_ext::V4l2CtrlHevcExtSpsStRps as St;
        let mut j = HevcTraceJob::new(1);
        j.output = Some(OutputQbuf {
            timestamp_ns: 0,
            hold_capture: false,
        });
        j.sps.num_short_term_ref_pic_sets = 2;
        let explicit = St {
            num_negative_pics: 1,
            used_by_curr_pic: 1,
            use_delta_flag: 0xffff,
            delta_poc_s0_minus1: [4, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9],
            ..Default::default()
        };
        let inter = St {
            flags: vreq_core::uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED,
            abs_delta_rps_minus1: 1,
            used_by_curr_pic: 3,
            use_delta_flag: 0xffff,
            num_negative_pics: 1,
            ..Default::default()
        };
        j.ext_st_rps = vec![explicit, inter, St::default()];
        let a = normalise_hevc_jobs(&[j.clone()], &[], None, false);
        assert!(a.contains("ext_sps_st_rps[0] = flags  num_negative_pics 1 num_positive_pics 0 used_by_curr_pic 00000001 delta_poc_s0_minus1 [4] delta_poc_s1_minus1 []"), "{a}");
        assert!(a.contains("ext_sps_st_rps[1] = flags INTER_REF_PIC_SET_PRED delta_idx_minus1 0 delta_rps_sign 0 abs_delta_rps_minus1 1 used_by_curr_pic 00000003 use_delta_flag 0000ffff\n"), "{a}");
        assert!(!a.contains("ext_sps_st_rps[2]"));
        // what a driver does not read may differ: derived counts of an
        // inter set, use_delta_flag and unused deltas of an explicit one,
        // elements past the SPS's count
        let mut k = j.clone();
        k.ext_st_rps[0].use_delta_flag = 0;
        k.ext_st_rps[0].delta_poc_s0_minus1[1] = 0;
        k.ext_st_rps[1].num_negative_pics = 0;
        k.ext_st_rps.truncate(2);
        assert_eq!(a, normalise_hevc_jobs(&[k.clone()], &[], None, false));
        assert_ne!(
            normalise_hevc_jobs(&[j.clone()], &[], None, true),
            normalise_hevc_jobs(&[k.clone()], &[], None, true)
        );
        // what it reads may not
        k.ext_st_rps[1].use_delta_flag = 0xfffe;
        assert_ne!(a, normalise_hevc_jobs(&[k.clone()], &[], None, false));
        k.ext_st_rps.truncate(1);
        assert!(
            normalise_hevc_jobs(&[k], &[], None, false).contains("ext_sps_st_rps[1] = (not sent)")
        );
    }
}

#[cfg(test)]
mod vp8_mpeg2_tests {
    use super::*;

    fn out(ts: u64) -> Option<OutputQbuf> {
        Some(OutputQbuf {
            timestamp_ns: ts,
            hold_capture: false,
        })
    }

    /// VP8: a key frame's references and inter probabilities are dropped,
    /// an inter frame's resolve to pictures; `dct_part_sizes` is cut at
    /// `num_dct_parts`; segment/lf data only when enabled.
    #[test]
    fn vp8_rules() {
        let mut key = b::v4l2_ctrl_vp8_frame {
            flags: b::V4L2_VP8_FRAME_FLAG_KEY_FRAME as u64,
            num_dct_parts: 2,
            dct_part_sizes: [5, 6, 7, 0, 0, 0, 0, 0],
            last_frame_ts: 99,
            prob_intra: 9,
            ..Default::default()
        };
        key.segment.quant_update = [1, 2, 3, 4];
        let mut inter = key;
        inter.flags = 0;
        inter.last_frame_ts = 10;
        inter.golden_frame_ts = 10;
        inter.alt_frame_ts = 77;
        inter.lf.flags = b::V4L2_VP8_LF_ADJ_ENABLE;
        inter.lf.ref_frm_delta = [1, 0, -1, -2];
        let jobs = vec![
            Vp8TraceJob {
                line: 1,
                output: out(10),
                frame: key,
            },
            Vp8TraceJob {
                line: 2,
                output: out(20),
                frame: inter,
            },
        ];
        let t = normalise_vp8_jobs(&jobs, &[], None, false);
        assert!(t.starts_with(MAGIC_VP8));
        assert!(!t.contains("job 0 frame.last_frame"), "{t}");
        assert!(!t.contains("job 0 frame.prob_intra"));
        assert!(t.contains("job 0 frame.dct_part_sizes = 5 6\n"));
        assert!(!t.contains("segment.quant_update"));
        assert!(t.contains("job 1 frame.last_frame = pic 0\n"));
        assert!(t.contains("job 1 frame.golden_frame = pic 0\n"));
        assert!(t.contains("job 1 frame.alt_frame = pic ts?\n"));
        assert!(t.contains("job 1 frame.prob_intra = 9\n"));
        assert!(t.contains("job 1 frame.lf.ref_frm_delta = 1 0 -1 -2\n"));
        let s = normalise_vp8_jobs(&jobs, &[], None, true);
        assert!(s.contains("job 0 frame.last_frame = pic ts?"));
        assert!(s.contains("job 0 frame.segment.quant_update = 1 2 3 4"));
    }

    /// MPEG-2: references and f_codes by picture type, concealment vectors
    /// keep the forward f_code of an I picture, chroma matrices only for
    /// non-4:2:0 streams.
    #[test]
    fn mpeg2_rules() {
        let seq = b::v4l2_ctrl_mpeg2_sequence {
            chroma_format: 1,
            ..Default::default()
        };
        let pic = |ty: u32, fwd: u64, bwd: u64, flags: u32| b::v4l2_ctrl_mpeg2_picture {
            picture_coding_type: ty as u8,
            forward_ref_ts: fwd,
            backward_ref_ts: bwd,
            flags,
            f_code: [[1, 2], [3, 4]],
            ..Default::default()
        };
        let job = |ts: u64, picture, sequence| Mpeg2TraceJob {
            line: 1,
            output: out(ts),
            sequence,
            picture,
            quantisation: Default::default(),
        };
        let conceal = b::V4L2_MPEG2_PIC_FLAG_CONCEALMENT_MV;
        let seq422 = b::v4l2_ctrl_mpeg2_sequence {
            chroma_format: 2,
            ..seq
        };
        let jobs = vec![
            job(100, pic(b::V4L2_MPEG2_PIC_CODING_TYPE_I, 5, 6, 0), seq),
            job(200, pic(b::V4L2_MPEG2_PIC_CODING_TYPE_P, 100, 6, 0), seq),
            job(300, pic(b::V4L2_MPEG2_PIC_CODING_TYPE_B, 100, 200, 0), seq),
            job(
                400,
                pic(b::V4L2_MPEG2_PIC_CODING_TYPE_I, 0, 0, conceal),
                seq422,
            ),
        ];
        let t = normalise_mpeg2_jobs(&jobs, &[], None, false);
        assert!(t.starts_with(MAGIC_MPEG2));
        assert!(!t.contains("job 0 picture.forward_ref"), "{t}");
        assert!(!t.contains("job 0 picture.f_code"));
        assert!(t.contains("job 1 picture.forward_ref = pic 0\n"));
        assert!(!t.contains("job 1 picture.backward_ref"));
        assert!(t.contains("job 1 picture.f_code[0] = 1 2\n"));
        assert!(!t.contains("job 1 picture.f_code[1]"));
        assert!(t.contains("job 2 picture.backward_ref = pic 1\n"));
        assert!(t.contains("job 2 picture.f_code[1] = 3 4\n"));
        assert!(t.contains("job 3 picture.f_code[0] = 1 2\n"));
        assert!(!t.contains("job 3 picture.forward_ref"));
        assert!(!t.contains("job 0 quantisation.chroma_intra"));
        // 4:2:2: the sequence and the quantisation sections are re-printed
        assert!(t.contains("job 3 sequence.chroma_format = 2\n"));
        assert!(t.contains("job 3 quantisation.chroma_intra_quantiser_matrix = "));
    }
}
