//! Normalised text form of a visl H.264 trace: what two decoders must agree
//! on, one `job J key = value` line per field, stable run to run.
//!
//! Rules (issue 2 item 7; uAPI "ext-ctrls-codec-stateless" for what a driver
//! reads):
//! * A picture's identity is its **decode index**: the ordinal of its OUTPUT
//!   buffer timestamp in order of first appearance (all slices of a picture
//!   share one timestamp). `job J picture = P` names the job's own picture;
//!   DPB `reference_ts` becomes `pic P` (`ts?` when no traced OUTPUT buffer
//!   carried that timestamp).
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
//! * sps, pps, scaling_matrix, decode_params and dpb (per-sequence or
//!   per-picture, not per-slice) are printed when they change (a line
//!   `job J sps = set` starts the section); [`super::compare`] carries them
//!   forward, so every job is still compared on every field.
//! * Dropped: ftrace timestamps, pids, CPUs, vb2 buffer indices, raw
//!   timestamps, `reserved` fields.

use std::collections::HashMap;
use std::fmt::Write as _;

use v4l2r::bindings as b;

use super::trace::{Trace, TraceJob};
use super::visl_fmt::{
    print_flags, print_symbolic, DECODE_FLAGS, DPB_FLAGS, PPS_FLAGS, REF_FIELDS, SLICE_FLAGS,
    SLICE_TYPES, SPS_CONSTRAINT_FLAGS, SPS_FLAGS,
};

/// One job's (or section's) fields: (key, value) in print order.
type Fields = Vec<(String, String)>;

/// First line of every normalised text.
pub const MAGIC: &str = "# vreq-oracle normalised visl H.264 trace v1";

/// Sections printed only when changed (carried forward by the comparator).
pub const CARRIED: [&str; 5] = ["sps", "pps", "scaling_matrix", "decode_params", "dpb"];

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

/// Maps OUTPUT timestamps to decode indices (order of first appearance).
#[derive(Default)]
struct Pictures {
    ids: HashMap<u64, usize>,
}

impl Pictures {
    fn intern(&mut self, ts: u64) -> usize {
        let n = self.ids.len();
        *self.ids.entry(ts).or_insert(n)
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
    let mut out = String::new();
    out.push_str(MAGIC);
    out.push('\n');
    for h in header {
        let _ = writeln!(out, "# {h}");
    }
    let n = cap.map_or(jobs.len(), |c| c.min(jobs.len()));
    if cap.is_some() {
        let _ = writeln!(out, "# cap {n} of {} jobs", jobs.len());
    }
    if strict {
        out.push_str("# strict\n");
    }
    let mut pics = Pictures::default();
    let mut prev: [Vec<(String, String)>; 5] = Default::default();
    for (ji, j) in jobs[..n].iter().enumerate() {
        let mut hold = String::from("?");
        match j.output {
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
        let strip = |v: Vec<(String, String)>, p: &str| -> Vec<(String, String)> {
            v.into_iter()
                .map(|(k, x)| (k.strip_prefix(p).map(str::to_string).unwrap_or(k), x))
                .collect()
        };
        let (dec, dpb) = decode_lines(j, &pics, strict);
        let secs = [
            sps_lines(&j.sps, strict),
            pps_lines(&j.pps),
            scaling_lines(j, strict),
            strip(dec, "decode_params."),
            strip(dpb, "dpb"),
        ];
        for (k, sec) in secs.into_iter().enumerate() {
            if ji == 0 || sec != prev[k] {
                let _ = writeln!(out, "job {ji} {} = set", CARRIED[k]);
                for (key, val) in &sec {
                    let sep = if key.starts_with('[') || key.starts_with('.') {
                        ""
                    } else {
                        "."
                    };
                    let _ = writeln!(out, "job {ji} {}{sep}{key} = {val}", CARRIED[k]);
                }
                prev[k] = sec;
            }
        }
        for (key, val) in job_lines(j, &pics, strict) {
            let _ = writeln!(out, "job {ji} {key} = {val}");
        }
    }
    out
}

/// Normalises a parsed [`Trace`]; its warnings become `# warning:` lines.
pub fn normalise(t: &Trace, header: &[String], cap: Option<usize>) -> String {
    normalise_opts(t, header, cap, false)
}

/// [`normalise`] with the `strict` choice of [`normalise_jobs_opts`].
pub fn normalise_opts(t: &Trace, header: &[String], cap: Option<usize>, strict: bool) -> String {
    let mut h: Vec<String> = header.to_vec();
    h.extend(t.warnings.iter().map(|w| format!("warning: {w}")));
    normalise_jobs_opts(&t.jobs, &h, cap, strict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::trace::OutputQbuf;

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
}
