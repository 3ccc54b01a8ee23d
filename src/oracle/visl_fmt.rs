//! visl's ftrace text format for the H.264 controls, both directions' shared
//! tables, and [`emulate`]: our own [`DecodeJob`]s rendered as visl would
//! trace them.
//!
//! Source of every format string: kernel 6.12
//! `drivers/media/test-drivers/visl/visl-trace-h264.h` (TP_printk of each
//! event class) and the order of the events in one job from
//! `visl-dec.c: visl_trace_ctrls()`: sps, pps, scaling_matrix, slice_params,
//! ref_pic_list0[0..32], ref_pic_list1[0..32], decode_params, dpb_entry[0..16],
//! pred_weights. The helpers reproduce the kernel's `trace_print_flags_seq`,
//! `trace_print_symbols_seq`, `trace_print_array_seq` and
//! `trace_print_hex_dump_seq` (kernel/trace/trace_output.c).

use std::fmt::Write as _;

use v4l2r::bindings as b;

use crate::codec::{Control, DecodeJob};

/// One `__print_flags` / `__print_symbolic` table entry: (mask or value, name).
pub type FlagTable = &'static [(u64, &'static str)];

/// `constraint_set_flags` of the SPS event.
pub const SPS_CONSTRAINT_FLAGS: FlagTable = &[
    (
        b::V4L2_H264_SPS_CONSTRAINT_SET0_FLAG as u64,
        "CONSTRAINT_SET0_FLAG",
    ),
    (
        b::V4L2_H264_SPS_CONSTRAINT_SET1_FLAG as u64,
        "CONSTRAINT_SET1_FLAG",
    ),
    (
        b::V4L2_H264_SPS_CONSTRAINT_SET2_FLAG as u64,
        "CONSTRAINT_SET2_FLAG",
    ),
    (
        b::V4L2_H264_SPS_CONSTRAINT_SET3_FLAG as u64,
        "CONSTRAINT_SET3_FLAG",
    ),
    (
        b::V4L2_H264_SPS_CONSTRAINT_SET4_FLAG as u64,
        "CONSTRAINT_SET4_FLAG",
    ),
    (
        b::V4L2_H264_SPS_CONSTRAINT_SET5_FLAG as u64,
        "CONSTRAINT_SET5_FLAG",
    ),
];

/// `flags` of the SPS event.
pub const SPS_FLAGS: FlagTable = &[
    (
        b::V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE as u64,
        "SEPARATE_COLOUR_PLANE",
    ),
    (
        b::V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS as u64,
        "QPPRIME_Y_ZERO_TRANSFORM_BYPASS",
    ),
    (
        b::V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO as u64,
        "DELTA_PIC_ORDER_ALWAYS_ZERO",
    ),
    (
        b::V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED as u64,
        "GAPS_IN_FRAME_NUM_VALUE_ALLOWED",
    ),
    (
        b::V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY as u64,
        "FRAME_MBS_ONLY",
    ),
    (
        b::V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD as u64,
        "MB_ADAPTIVE_FRAME_FIELD",
    ),
    (
        b::V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE as u64,
        "DIRECT_8X8_INFERENCE",
    ),
];

/// `flags` of the PPS event.
pub const PPS_FLAGS: FlagTable = &[
    (
        b::V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE as u64,
        "ENTROPY_CODING_MODE",
    ),
    (
        b::V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT as u64,
        "BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT",
    ),
    (b::V4L2_H264_PPS_FLAG_WEIGHTED_PRED as u64, "WEIGHTED_PRED"),
    (
        b::V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT as u64,
        "DEBLOCKING_FILTER_CONTROL_PRESENT",
    ),
    (
        b::V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED as u64,
        "CONSTRAINED_INTRA_PRED",
    ),
    (
        b::V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT as u64,
        "REDUNDANT_PIC_CNT_PRESENT",
    ),
    (
        b::V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE as u64,
        "TRANSFORM_8X8_MODE",
    ),
    (
        b::V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT as u64,
        "SCALING_MATRIX_PRESENT",
    ),
];

/// `slice_type` symbols of the slice_params event.
pub const SLICE_TYPES: FlagTable = &[
    (b::V4L2_H264_SLICE_TYPE_P as u64, "P"),
    (b::V4L2_H264_SLICE_TYPE_B as u64, "B"),
    (b::V4L2_H264_SLICE_TYPE_I as u64, "I"),
    (b::V4L2_H264_SLICE_TYPE_SP as u64, "SP"),
    (b::V4L2_H264_SLICE_TYPE_SI as u64, "SI"),
];

/// `flags` of the slice_params event.
pub const SLICE_FLAGS: FlagTable = &[
    (
        b::V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED as u64,
        "DIRECT_SPATIAL_MV_PRED",
    ),
    (
        b::V4L2_H264_SLICE_FLAG_SP_FOR_SWITCH as u64,
        "SP_FOR_SWITCH",
    ),
];

/// `fields` of reference and DPB entries. FRAME_REF (= TOP|BOTTOM) never
/// prints: the two field names consume its bits first.
pub const REF_FIELDS: FlagTable = &[
    (b::V4L2_H264_TOP_FIELD_REF as u64, "TOP_FIELD_REF"),
    (b::V4L2_H264_BOTTOM_FIELD_REF as u64, "BOTTOM_FIELD_REF"),
    (b::V4L2_H264_FRAME_REF as u64, "FRAME_REF"),
];

/// `flags` of the decode_params event.
pub const DECODE_FLAGS: FlagTable = &[
    (b::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC as u64, "IDR_PIC"),
    (b::V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC as u64, "FIELD_PIC"),
    (
        b::V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD as u64,
        "BOTTOM_FIELD",
    ),
    (b::V4L2_H264_DECODE_PARAM_FLAG_PFRAME as u64, "PFRAME"),
    (b::V4L2_H264_DECODE_PARAM_FLAG_BFRAME as u64, "BFRAME"),
];

/// `flags` of a dpb_entry event.
pub const DPB_FLAGS: FlagTable = &[
    (b::V4L2_H264_DPB_ENTRY_FLAG_VALID as u64, "VALID"),
    (b::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE as u64, "ACTIVE"),
    (b::V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM as u64, "LONG_TERM"),
    (b::V4L2_H264_DPB_ENTRY_FLAG_FIELD as u64, "FIELD"),
];

/// `v4l2_buffer.flags` bits the oracle cares about in `v4l2_qbuf` events
/// (`include/trace/events/v4l2.h` `show_flags`); bits the kernel's table has
/// no name for (REQUEST_FD, IN_REQUEST, M2M_HOLD_CAPTURE_BUF in 6.12) print
/// as a hex remainder.
pub const BUF_FLAGS: FlagTable = &[
    (0x0000_0001, "MAPPED"),
    (0x0000_0002, "QUEUED"),
    (0x0000_0004, "DONE"),
    (0x0000_0008, "KEYFRAME"),
    (0x0000_0010, "PFRAME"),
    (0x0000_0020, "BFRAME"),
    (0x0000_0040, "ERROR"),
    (0x0000_0400, "PREPARED"),
    (0x0000_0800, "NO_CACHE_INVALIDATE"),
    (0x0000_1000, "NO_CACHE_CLEAN"),
    (0x0000_e000, "TIMESTAMP_MASK"),
    (0x0000_0000, "TIMESTAMP_UNKNOWN"),
    (0x0000_2000, "TIMESTAMP_MONOTONIC"),
    (0x0000_4000, "TIMESTAMP_COPY"),
    (0x0010_0000, "LAST"),
];

/// `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF` (uAPI videodev2.h).
pub const BUF_FLAG_M2M_HOLD_CAPTURE_BUF: u64 = 0x0000_0200;

/// `__print_flags(v, "|", table)`: names of the table entries whose mask is
/// fully set (in table order, each consuming its bits), then any remainder
/// as `0x%lx`; empty for 0 (kernel `trace_print_flags_seq`).
pub fn print_flags(mut v: u64, table: FlagTable) -> String {
    let mut s = String::new();
    for &(mask, name) in table {
        if v == 0 {
            break;
        }
        if v & mask != mask {
            continue;
        }
        v &= !mask;
        if !s.is_empty() {
            s.push('|');
        }
        s.push_str(name);
    }
    if v != 0 {
        if !s.is_empty() {
            s.push('|');
        }
        let _ = write!(s, "0x{v:x}");
    }
    s
}

/// `__print_symbolic(v, table)`: the name, or `0x%lx` when unknown
/// (kernel `trace_print_symbols_seq`).
pub fn print_symbolic(v: u64, table: FlagTable) -> String {
    table
        .iter()
        .find(|(val, _)| *val == v)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("0x{v:x}"))
}

/// `__print_array(a, n, el_size)`: `{0x..,0x..}`, each element as the
/// *unsigned* value of its size (kernel `trace_print_array_seq`).
pub fn print_array(values: impl IntoIterator<Item = u64>) -> String {
    let mut s = String::from("{");
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "0x{v:x}");
    }
    s.push('}');
    s
}

/// `__print_hex_dump("", DUMP_PREFIX_NONE, 32, 1, buf, len, false)`: a
/// newline, then rows of up to 32 bytes as lower-case `%02x` separated by
/// single spaces, each row ending in a newline (kernel
/// `trace_print_hex_dump_seq` + `hex_dump_to_buffer`).
pub fn print_hex_dump(bytes: &[u8]) -> String {
    let mut s = String::from("\n");
    for row in bytes.chunks(32) {
        for (i, b) in row.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let _ = write!(s, "{b:02x}");
        }
        s.push('\n');
    }
    s
}

/// C's `%u` of a signed value promoted to `int` (what visl prints for the
/// `__s8` fields it formats with `%u`, e.g. `slice_alpha_c0_offset_div2`).
pub fn c_u(v: i64) -> u32 {
    v as i32 as u32
}

fn i16s_le(v: impl IntoIterator<Item = i16>) -> Vec<u8> {
    v.into_iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The SPS event body (everything after `v4l2_ctrl_h264_sps: `).
pub fn fmt_sps(s: &b::v4l2_ctrl_h264_sps) -> String {
    format!(
        "\nprofile_idc {}\nconstraint_set_flags {}\nlevel_idc {}\nseq_parameter_set_id {}\n\
         chroma_format_idc {}\nbit_depth_luma_minus8 {}\nbit_depth_chroma_minus8 {}\n\
         log2_max_frame_num_minus4 {}\npic_order_cnt_type {}\nlog2_max_pic_order_cnt_lsb_minus4 {}\n\
         max_num_ref_frames {}\nnum_ref_frames_in_pic_order_cnt_cycle {}\noffset_for_ref_frame {}\n\
         offset_for_non_ref_pic {}\noffset_for_top_to_bottom_field {}\npic_width_in_mbs_minus1 {}\n\
         pic_height_in_map_units_minus1 {}\nflags {}",
        s.profile_idc,
        print_flags(s.constraint_set_flags as u64, SPS_CONSTRAINT_FLAGS),
        s.level_idc,
        s.seq_parameter_set_id,
        s.chroma_format_idc,
        s.bit_depth_luma_minus8,
        s.bit_depth_chroma_minus8,
        s.log2_max_frame_num_minus4,
        s.pic_order_cnt_type,
        s.log2_max_pic_order_cnt_lsb_minus4,
        s.max_num_ref_frames,
        s.num_ref_frames_in_pic_order_cnt_cycle,
        print_array(s.offset_for_ref_frame.iter().map(|&v| v as u32 as u64)),
        s.offset_for_non_ref_pic,
        s.offset_for_top_to_bottom_field,
        s.pic_width_in_mbs_minus1,
        s.pic_height_in_map_units_minus1,
        print_flags(s.flags as u64, SPS_FLAGS),
    )
}

/// The PPS event body.
pub fn fmt_pps(p: &b::v4l2_ctrl_h264_pps) -> String {
    format!(
        "\npic_parameter_set_id {}\nseq_parameter_set_id {}\nnum_slice_groups_minus1 {}\n\
         num_ref_idx_l0_default_active_minus1 {}\nnum_ref_idx_l1_default_active_minus1 {}\n\
         weighted_bipred_idc {}\npic_init_qp_minus26 {}\npic_init_qs_minus26 {}\n\
         chroma_qp_index_offset {}\nsecond_chroma_qp_index_offset {}\nflags {}",
        p.pic_parameter_set_id,
        p.seq_parameter_set_id,
        p.num_slice_groups_minus1,
        p.num_ref_idx_l0_default_active_minus1,
        p.num_ref_idx_l1_default_active_minus1,
        p.weighted_bipred_idc,
        p.pic_init_qp_minus26,
        p.pic_init_qs_minus26,
        p.chroma_qp_index_offset,
        p.second_chroma_qp_index_offset,
        print_flags(p.flags as u64, PPS_FLAGS),
    )
}

/// The scaling_matrix event body.
pub fn fmt_scaling_matrix(m: &b::v4l2_ctrl_h264_scaling_matrix) -> String {
    let l4: Vec<u8> = m.scaling_list_4x4.iter().flatten().copied().collect();
    let l8: Vec<u8> = m.scaling_list_8x8.iter().flatten().copied().collect();
    format!(
        "\nscaling_list_4x4 {{{}}}\nscaling_list_8x8 {{{}}}",
        print_hex_dump(&l4),
        print_hex_dump(&l8)
    )
}

/// The pred_weights event body.
pub fn fmt_pred_weights(p: &b::v4l2_ctrl_h264_pred_weights) -> String {
    let mut s = format!(
        "\nluma_log2_weight_denom {}\nchroma_log2_weight_denom {}\n",
        p.luma_log2_weight_denom, p.chroma_log2_weight_denom
    );
    for (i, w) in p.weight_factors.iter().enumerate() {
        let _ = write!(
            s,
            "weight_factor[{i}].luma_weight {}\nweight_factor[{i}].luma_offset {}\n\
             weight_factor[{i}].chroma_weight {{{}}}\nweight_factor[{i}].chroma_offset {{{}}}\n",
            print_array(w.luma_weight.iter().map(|&v| v as u16 as u64)),
            print_array(w.luma_offset.iter().map(|&v| v as u16 as u64)),
            print_hex_dump(&i16s_le(w.chroma_weight.iter().flatten().copied())),
            print_hex_dump(&i16s_le(w.chroma_offset.iter().flatten().copied())),
        );
    }
    s
}

/// The slice_params event body (without the reference lists, which are
/// separate events).
pub fn fmt_slice_params(s: &b::v4l2_ctrl_h264_slice_params) -> String {
    format!(
        "\nheader_bit_size {}\nfirst_mb_in_slice {}\nslice_type {}\ncolour_plane_id {}\n\
         redundant_pic_cnt {}\ncabac_init_idc {}\nslice_qp_delta {}\nslice_qs_delta {}\n\
         disable_deblocking_filter_idc {}\nslice_alpha_c0_offset_div2 {}\nslice_beta_offset_div2 {}\n\
         num_ref_idx_l0_active_minus1 {}\nnum_ref_idx_l1_active_minus1 {}\nflags {}",
        s.header_bit_size,
        s.first_mb_in_slice,
        print_symbolic(s.slice_type as u64, SLICE_TYPES),
        s.colour_plane_id,
        s.redundant_pic_cnt,
        s.cabac_init_idc,
        s.slice_qp_delta,
        s.slice_qs_delta,
        s.disable_deblocking_filter_idc,
        c_u(s.slice_alpha_c0_offset_div2 as i64),
        c_u(s.slice_beta_offset_div2 as i64),
        s.num_ref_idx_l0_active_minus1,
        s.num_ref_idx_l1_active_minus1,
        print_flags(s.flags as u64, SLICE_FLAGS),
    )
}

/// One ref_pic_list0/1 event body.
pub fn fmt_reference(r: &b::v4l2_h264_reference, i: usize) -> String {
    format!(
        "[{i}]: fields {} index {}",
        print_flags(r.fields as u64, REF_FIELDS),
        r.index
    )
}

/// The decode_params event body (without the DPB, whose entries are
/// separate events).
pub fn fmt_decode_params(d: &b::v4l2_ctrl_h264_decode_params) -> String {
    format!(
        "\nnal_ref_idc {}\nframe_num {}\ntop_field_order_cnt {}\nbottom_field_order_cnt {}\n\
         idr_pic_id {}\npic_order_cnt_lsb {}\ndelta_pic_order_cnt_bottom {}\ndelta_pic_order_cnt0 {}\n\
         delta_pic_order_cnt1 {}\ndec_ref_pic_marking_bit_size {}\npic_order_cnt_bit_size {}\n\
         slice_group_change_cycle {}\nflags {}\n",
        d.nal_ref_idc,
        d.frame_num,
        d.top_field_order_cnt,
        d.bottom_field_order_cnt,
        d.idr_pic_id,
        d.pic_order_cnt_lsb,
        d.delta_pic_order_cnt_bottom,
        d.delta_pic_order_cnt0,
        d.delta_pic_order_cnt1,
        d.dec_ref_pic_marking_bit_size,
        d.pic_order_cnt_bit_size,
        d.slice_group_change_cycle,
        print_flags(d.flags as u64, DECODE_FLAGS),
    )
}

/// One dpb_entry event body.
pub fn fmt_dpb_entry(e: &b::v4l2_h264_dpb_entry, i: usize) -> String {
    format!(
        "[{i}]: reference_ts {}, pic_num {} frame_num {} fields {} top_field_order_cnt {} \
         bottom_field_order_cnt {} flags {}",
        e.reference_ts,
        e.pic_num,
        e.frame_num,
        print_flags(e.fields as u64, REF_FIELDS),
        e.top_field_order_cnt,
        e.bottom_field_order_cnt,
        print_flags(e.flags as u64, DPB_FLAGS),
    )
}

/// The current value of every H.264 control of one visl context: what a
/// fresh context holds (v4l2-ctrls-core.c `std_init_compound`: every compound
/// control zeroed, except SCALING_MATRIX, which is flat 16) updated by each
/// request's controls (controls persist across requests).
#[derive(Clone)]
pub struct ControlState {
    pub sps: b::v4l2_ctrl_h264_sps,
    pub pps: b::v4l2_ctrl_h264_pps,
    pub scaling_matrix: b::v4l2_ctrl_h264_scaling_matrix,
    pub slice_params: b::v4l2_ctrl_h264_slice_params,
    pub decode_params: b::v4l2_ctrl_h264_decode_params,
    pub pred_weights: b::v4l2_ctrl_h264_pred_weights,
}

impl Default for ControlState {
    fn default() -> Self {
        let scaling_matrix = b::v4l2_ctrl_h264_scaling_matrix {
            scaling_list_4x4: [[16; 16]; 6],
            scaling_list_8x8: [[16; 64]; 6],
        };
        Self {
            sps: Default::default(),
            pps: Default::default(),
            scaling_matrix,
            slice_params: Default::default(),
            decode_params: Default::default(),
            pred_weights: Default::default(),
        }
    }
}

impl ControlState {
    /// Applies one request's control (non-H.264 controls are ignored).
    pub fn apply(&mut self, c: &Control) {
        match c {
            Control::H264Sps(v) => self.sps = **v,
            Control::H264Pps(v) => self.pps = **v,
            Control::H264ScalingMatrix(v) => self.scaling_matrix = **v,
            Control::H264DecodeParams(v) => self.decode_params = **v,
            Control::H264SliceParams(v) => self.slice_params = **v,
            Control::H264PredWeights(v) => self.pred_weights = **v,
            _ => {}
        }
    }
}

const PREFIX: &str = "      vreq-emulate-1     [000] .....     0.000000: ";

/// One `v4l2_qbuf` line for an OUTPUT buffer, shaped like the kernel's
/// (only `type`, `flags` and `timestamp` matter to the parser).
pub fn fmt_output_qbuf(index: usize, timestamp_ns: u64, hold_capture: bool) -> String {
    let mut flags = 0x1 | 0x4000 | 0x80_0080;
    if hold_capture {
        flags |= BUF_FLAG_M2M_HOLD_CAPTURE_BUF;
    }
    format!(
        "minor = 0, index = {index}, type = VIDEO_OUTPUT_MPLANE, bytesused = 0, flags = {}, \
         field = NONE, timestamp = {timestamp_ns}, timecode = {{ type = 0x0, flags = , frames = 0, \
         seconds = 0, minutes = 0, hours = 0, userbits = {{ 0 0 0 0 }} }}, sequence = 0",
        print_flags(flags, BUF_FLAGS)
    )
}

/// The events visl emits for one job with control state `st`
/// (`visl_trace_ctrls`), each as a full ftrace text line with `prefix`.
pub fn fmt_job_events(st: &ControlState, out: &mut String) {
    let mut ev = |name: &str, body: String| {
        out.push_str(PREFIX);
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&body);
        out.push('\n');
    };
    ev("v4l2_ctrl_h264_sps", fmt_sps(&st.sps));
    ev("v4l2_ctrl_h264_pps", fmt_pps(&st.pps));
    ev(
        "v4l2_ctrl_h264_scaling_matrix",
        fmt_scaling_matrix(&st.scaling_matrix),
    );
    ev(
        "v4l2_ctrl_h264_slice_params",
        fmt_slice_params(&st.slice_params),
    );
    for (i, r) in st.slice_params.ref_pic_list0.iter().enumerate() {
        ev("v4l2_h264_ref_pic_list0", fmt_reference(r, i));
    }
    // visl iterates ARRAY_SIZE(ref_pic_list0) for list 1 too: same length.
    for (i, r) in st.slice_params.ref_pic_list1.iter().enumerate() {
        ev("v4l2_h264_ref_pic_list1", fmt_reference(r, i));
    }
    ev(
        "v4l2_ctrl_h264_decode_params",
        fmt_decode_params(&st.decode_params),
    );
    for (i, e) in st.decode_params.dpb.iter().enumerate() {
        ev("v4l2_h264_dpb_entry", fmt_dpb_entry(e, i));
    }
    ev(
        "v4l2_ctrl_h264_pred_weights",
        fmt_pred_weights(&st.pred_weights),
    );
}

/// visl-format ftrace text for `jobs` submitted in order to a fresh visl
/// context: per job one OUTPUT `v4l2_qbuf` line (timestamp, HOLD_CAPTURE_BUF)
/// then the controls' *current* values as visl prints them. The result is
/// what [`super::trace::parse`] reads, so our codec's output can be
/// normalised and compared with a GStreamer trace without the VM.
pub fn emulate(jobs: &[DecodeJob]) -> String {
    let mut out =
        String::from("# tracer: nop\n# emulated by vreq-oracle from vreqplay DecodeJobs\n");
    let mut st = ControlState::default();
    for (i, job) in jobs.iter().enumerate() {
        for c in &job.controls {
            st.apply(c);
        }
        out.push_str(PREFIX);
        out.push_str("v4l2_qbuf: ");
        out.push_str(&fmt_output_qbuf(i % 32, job.timestamp_ns, job.hold_capture));
        out.push('\n');
        fmt_job_events(&st, &mut out);
    }
    out
}

/// Requests that set every control to the values a parsed trace shows for
/// each job (for checking [`emulate`] against real visl text: emulating
/// these must reproduce the trace's visl events byte for byte).
pub fn jobs_setting_all(t: &super::trace::Trace) -> Vec<DecodeJob> {
    t.jobs
        .iter()
        .map(|j| {
            let q = j.output.unwrap_or(super::trace::OutputQbuf {
                timestamp_ns: 0,
                hold_capture: false,
            });
            DecodeJob {
                timestamp_ns: q.timestamp_ns,
                controls: vec![
                    Control::H264Sps(Box::new(j.sps)),
                    Control::H264Pps(Box::new(j.pps)),
                    Control::H264ScalingMatrix(Box::new(j.scaling_matrix)),
                    Control::H264DecodeParams(Box::new(j.decode_params)),
                    Control::H264SliceParams(Box::new(j.slice_params)),
                    Control::H264PredWeights(Box::new(j.pred_weights)),
                ],
                bitstream: vec![],
                hold_capture: q.hold_capture,
                starts_picture: true,
            }
        })
        .collect()
}

/// Checks [`emulate`] against a real visl trace: parses it, re-emits every
/// job from the parsed values and compares each visl H.264 event's text.
/// Returns the number of identical events, or the first difference
/// (event index, trace line, real text, emulated text).
pub fn selfcheck(real: &str) -> Result<usize, String> {
    let t = super::trace::parse(real).map_err(|e| e.to_string())?;
    let emu = emulate(&jobs_setting_all(&t));
    let visl = |text: &str| -> Vec<super::trace::RawEvent> {
        super::trace::split_events(text)
            .0
            .into_iter()
            .filter(|e| e.name.starts_with("v4l2_ctrl_h264_") || e.name.starts_with("v4l2_h264_"))
            .collect()
    };
    let (a, b) = (visl(real), visl(&emu));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if x.name != y.name || x.body != y.body {
            return Err(format!(
                "event {i} (trace line {}): real {} {:?} vs emulated {} {:?}",
                x.line, x.name, x.body, y.name, y.body
            ));
        }
    }
    if a.len() != b.len() {
        return Err(format!("{} real events vs {} emulated", a.len(), b.len()));
    }
    Ok(a.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_like_the_kernel() {
        assert_eq!(print_flags(0, REF_FIELDS), "");
        assert_eq!(print_flags(3, REF_FIELDS), "TOP_FIELD_REF|BOTTOM_FIELD_REF");
        assert_eq!(
            print_flags(0xff, REF_FIELDS),
            "TOP_FIELD_REF|BOTTOM_FIELD_REF|0xfc"
        );
        assert_eq!(print_flags(0x40, SPS_FLAGS), "DIRECT_8X8_INFERENCE");
        assert_eq!(
            print_flags(0x4001 | 0x80_0280, BUF_FLAGS),
            "MAPPED|TIMESTAMP_UNKNOWN|TIMESTAMP_COPY|0x800280"
        );
        assert_eq!(print_symbolic(2, SLICE_TYPES), "I");
        assert_eq!(print_symbolic(9, SLICE_TYPES), "0x9");
    }

    #[test]
    fn arrays_and_hex_dumps() {
        assert_eq!(print_array([0, 1, 0xffff]), "{0x0,0x1,0xffff}");
        let d = print_hex_dump(&[0x10; 40]);
        assert!(d.starts_with("\n10 10"));
        assert_eq!(d.lines().count(), 3);
        assert!(d.ends_with("10 10\n"));
        assert_eq!(c_u(-2), 4294967294);
    }
}
