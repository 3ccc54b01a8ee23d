//! visl's ftrace text format for the H.264, HEVC and VP9 controls, both
//! directions' shared tables, and [`emulate`]: our own [`DecodeJob`]s
//! rendered as visl would trace them.
//!
//! Source of every format string: kernel 6.12
//! `drivers/media/test-drivers/visl/visl-trace-{h264,hevc,vp9,vp8,mpeg2}.h` (TP_printk
//! of each event class; kernel 7.2 adds `v4l2_ctrl_hevc_ext_sps_{lt,st}_rps`)
//! and the order of the events in one job from `visl-dec.c:
//! visl_trace_ctrls()`:
//! * H.264: sps, pps, scaling_matrix, slice_params, ref_pic_list0[0..32],
//!   ref_pic_list1[0..32], decode_params, dpb_entry[0..16], pred_weights;
//! * HEVC: sps, pps, slice_params (element 0 of the dynamic array),
//!   scaling_matrix, decode_params, dpb_entry ×16 (no index), pred_weight_table;
//!   on 7.2 with the sid lab patch then every EXT_SPS_LT_RPS element and
//!   every EXT_SPS_ST_RPS element;
//! * VP9: frame, compressed_hdr, compressed_coeff, mv_probs.
//!
//! [`selfcheck`] re-prints real GStreamer traces of all three byte for byte.
//! The helpers reproduce the kernel's `trace_print_flags_seq`,
//! `trace_print_symbols_seq`, `trace_print_array_seq` and
//! `trace_print_hex_dump_seq` (kernel/trace/trace_output.c).

use std::fmt::Write as _;

use v4l2r::bindings as b;

use vreq_core::{CodecKind, Control, DecodeJob};

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

// ---------------------------------------------------------------------------
// HEVC: kernel 6.12 `visl-trace-hevc.h` (+ 7.2's EXT_SPS_ST/LT_RPS events)
// ---------------------------------------------------------------------------

/// `flags` of the HEVC SPS event (visl's table; PCM_LOOP_FILTER_DISABLED is
/// spelled with its full uAPI name there).
pub const HEVC_SPS_FLAGS: FlagTable = &[
    (
        b::V4L2_HEVC_SPS_FLAG_SEPARATE_COLOUR_PLANE as u64,
        "SEPARATE_COLOUR_PLANE",
    ),
    (
        b::V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED as u64,
        "SCALING_LIST_ENABLED",
    ),
    (b::V4L2_HEVC_SPS_FLAG_AMP_ENABLED as u64, "AMP_ENABLED"),
    (
        b::V4L2_HEVC_SPS_FLAG_SAMPLE_ADAPTIVE_OFFSET as u64,
        "SAMPLE_ADAPTIVE_OFFSET",
    ),
    (b::V4L2_HEVC_SPS_FLAG_PCM_ENABLED as u64, "PCM_ENABLED"),
    (
        b::V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED as u64,
        "V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED",
    ),
    (
        b::V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT as u64,
        "LONG_TERM_REF_PICS_PRESENT",
    ),
    (
        b::V4L2_HEVC_SPS_FLAG_SPS_TEMPORAL_MVP_ENABLED as u64,
        "TEMPORAL_MVP_ENABLED",
    ),
    (
        b::V4L2_HEVC_SPS_FLAG_STRONG_INTRA_SMOOTHING_ENABLED as u64,
        "STRONG_INTRA_SMOOTHING_ENABLED",
    ),
];

/// `flags` of the HEVC PPS event. visl's table has no entry for
/// `TRANSFORM_SKIP_ENABLED` (0x20): that bit prints in the hex remainder.
pub const HEVC_PPS_FLAGS: FlagTable = &[
    (
        b::V4L2_HEVC_PPS_FLAG_DEPENDENT_SLICE_SEGMENT_ENABLED as u64,
        "DEPENDENT_SLICE_SEGMENT_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_OUTPUT_FLAG_PRESENT as u64,
        "OUTPUT_FLAG_PRESENT",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_SIGN_DATA_HIDING_ENABLED as u64,
        "SIGN_DATA_HIDING_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_CABAC_INIT_PRESENT as u64,
        "CABAC_INIT_PRESENT",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_CONSTRAINED_INTRA_PRED as u64,
        "CONSTRAINED_INTRA_PRED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED as u64,
        "CU_QP_DELTA_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT as u64,
        "PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT",
    ),
    (b::V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED as u64, "WEIGHTED_PRED"),
    (
        b::V4L2_HEVC_PPS_FLAG_WEIGHTED_BIPRED as u64,
        "WEIGHTED_BIPRED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_TRANSQUANT_BYPASS_ENABLED as u64,
        "TRANSQUANT_BYPASS_ENABLED",
    ),
    (b::V4L2_HEVC_PPS_FLAG_TILES_ENABLED as u64, "TILES_ENABLED"),
    (
        b::V4L2_HEVC_PPS_FLAG_ENTROPY_CODING_SYNC_ENABLED as u64,
        "ENTROPY_CODING_SYNC_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED as u64,
        "LOOP_FILTER_ACROSS_TILES_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED as u64,
        "PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_OVERRIDE_ENABLED as u64,
        "DEBLOCKING_FILTER_OVERRIDE_ENABLED",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER as u64,
        "DISABLE_DEBLOCKING_FILTER",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_LISTS_MODIFICATION_PRESENT as u64,
        "LISTS_MODIFICATION_PRESENT",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_SLICE_SEGMENT_HEADER_EXTENSION_PRESENT as u64,
        "SLICE_SEGMENT_HEADER_EXTENSION_PRESENT",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT as u64,
        "DEBLOCKING_FILTER_CONTROL_PRESENT",
    ),
    (
        b::V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING as u64,
        "UNIFORM_SPACING",
    ),
];

/// `flags` of the HEVC slice_params event.
pub const HEVC_SLICE_FLAGS: FlagTable = &[
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA as u64,
        "SLICE_SAO_LUMA",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_CHROMA as u64,
        "SLICE_SAO_CHROMA",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_TEMPORAL_MVP_ENABLED as u64,
        "SLICE_TEMPORAL_MVP_ENABLED",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_MVD_L1_ZERO as u64,
        "MVD_L1_ZERO",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_CABAC_INIT as u64,
        "CABAC_INIT",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_COLLOCATED_FROM_L0 as u64,
        "COLLOCATED_FROM_L0",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_USE_INTEGER_MV as u64,
        "USE_INTEGER_MV",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_DEBLOCKING_FILTER_DISABLED as u64,
        "SLICE_DEBLOCKING_FILTER_DISABLED",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED as u64,
        "SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED",
    ),
    (
        b::V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT as u64,
        "DEPENDENT_SLICE_SEGMENT",
    ),
];

/// `flags` of the HEVC decode_params event.
pub const HEVC_DECODE_FLAGS: FlagTable = &[
    (b::V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC as u64, "IRAP_PIC"),
    (b::V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC as u64, "IDR_PIC"),
    (
        b::V4L2_HEVC_DECODE_PARAM_FLAG_NO_OUTPUT_OF_PRIOR as u64,
        "NO_OUTPUT_OF_PRIOR",
    ),
];

/// `flags` of an HEVC dpb_entry event.
pub const HEVC_DPB_FLAGS: FlagTable = &[(
    b::V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE as u64,
    "LONG_TERM_REFERENCE",
)];

/// `flags` of the (7.2) `v4l2_ctrl_hevc_ext_sps_st_rps` event.
pub const HEVC_EXT_ST_RPS_FLAGS: FlagTable = &[(
    vreq_core::uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED as u64,
    "INTER_REF_PIC_SET_PRED",
)];

/// `flags` of the (7.2) `v4l2_ctrl_hevc_ext_sps_lt_rps` event.
pub const HEVC_EXT_LT_RPS_FLAGS: FlagTable = &[(
    vreq_core::uapi_ext::V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT as u64,
    "USED_LT",
)];

fn s8_bytes<'a>(v: impl IntoIterator<Item = &'a i8>) -> Vec<u8> {
    v.into_iter().map(|&x| x as u8).collect()
}

/// The HEVC SPS event body.
pub fn fmt_hevc_sps(s: &b::v4l2_ctrl_hevc_sps) -> String {
    format!(
        "\nvideo_parameter_set_id {}\nseq_parameter_set_id {}\npic_width_in_luma_samples {}\n\
         pic_height_in_luma_samples {}\nbit_depth_luma_minus8 {}\nbit_depth_chroma_minus8 {}\n\
         log2_max_pic_order_cnt_lsb_minus4 {}\nsps_max_dec_pic_buffering_minus1 {}\n\
         sps_max_num_reorder_pics {}\nsps_max_latency_increase_plus1 {}\n\
         log2_min_luma_coding_block_size_minus3 {}\nlog2_diff_max_min_luma_coding_block_size {}\n\
         log2_min_luma_transform_block_size_minus2 {}\nlog2_diff_max_min_luma_transform_block_size {}\n\
         max_transform_hierarchy_depth_inter {}\nmax_transform_hierarchy_depth_intra {}\n\
         pcm_sample_bit_depth_luma_minus1 {}\npcm_sample_bit_depth_chroma_minus1 {}\n\
         log2_min_pcm_luma_coding_block_size_minus3 {}\nlog2_diff_max_min_pcm_luma_coding_block_size {}\n\
         num_short_term_ref_pic_sets {}\nnum_long_term_ref_pics_sps {}\nchroma_format_idc {}\n\
         sps_max_sub_layers_minus1 {}\nflags {}",
        s.video_parameter_set_id,
        s.seq_parameter_set_id,
        s.pic_width_in_luma_samples,
        s.pic_height_in_luma_samples,
        s.bit_depth_luma_minus8,
        s.bit_depth_chroma_minus8,
        s.log2_max_pic_order_cnt_lsb_minus4,
        s.sps_max_dec_pic_buffering_minus1,
        s.sps_max_num_reorder_pics,
        s.sps_max_latency_increase_plus1,
        s.log2_min_luma_coding_block_size_minus3,
        s.log2_diff_max_min_luma_coding_block_size,
        s.log2_min_luma_transform_block_size_minus2,
        s.log2_diff_max_min_luma_transform_block_size,
        s.max_transform_hierarchy_depth_inter,
        s.max_transform_hierarchy_depth_intra,
        s.pcm_sample_bit_depth_luma_minus1,
        s.pcm_sample_bit_depth_chroma_minus1,
        s.log2_min_pcm_luma_coding_block_size_minus3,
        s.log2_diff_max_min_pcm_luma_coding_block_size,
        s.num_short_term_ref_pic_sets,
        s.num_long_term_ref_pics_sps,
        s.chroma_format_idc,
        s.sps_max_sub_layers_minus1,
        print_flags(s.flags, HEVC_SPS_FLAGS),
    )
}

/// The HEVC PPS event body.
pub fn fmt_hevc_pps(p: &b::v4l2_ctrl_hevc_pps) -> String {
    format!(
        "\npic_parameter_set_id {}\nnum_extra_slice_header_bits {}\n\
         num_ref_idx_l0_default_active_minus1 {}\nnum_ref_idx_l1_default_active_minus1 {}\n\
         init_qp_minus26 {}\ndiff_cu_qp_delta_depth {}\npps_cb_qp_offset {}\npps_cr_qp_offset {}\n\
         num_tile_columns_minus1 {}\nnum_tile_rows_minus1 {}\ncolumn_width_minus1 {}\n\
         row_height_minus1 {}\npps_beta_offset_div2 {}\npps_tc_offset_div2 {}\n\
         log2_parallel_merge_level_minus2 {}\nflags {}",
        p.pic_parameter_set_id,
        p.num_extra_slice_header_bits,
        p.num_ref_idx_l0_default_active_minus1,
        p.num_ref_idx_l1_default_active_minus1,
        p.init_qp_minus26,
        p.diff_cu_qp_delta_depth,
        p.pps_cb_qp_offset,
        p.pps_cr_qp_offset,
        p.num_tile_columns_minus1,
        p.num_tile_rows_minus1,
        print_array(p.column_width_minus1.iter().map(|&v| v as u64)),
        print_array(p.row_height_minus1.iter().map(|&v| v as u64)),
        p.pps_beta_offset_div2,
        p.pps_tc_offset_div2,
        p.log2_parallel_merge_level_minus2,
        print_flags(p.flags, HEVC_PPS_FLAGS),
    )
}

/// The HEVC slice_params event body (element 0 of the dynamic array: visl
/// 6.12 traces `run->hevc.spram`, the control's first element, only).
pub fn fmt_hevc_slice_params(s: &b::v4l2_ctrl_hevc_slice_params) -> String {
    format!(
        "\nbit_size {}\ndata_byte_offset {}\nnum_entry_point_offsets {}\nnal_unit_type {}\n\
         nuh_temporal_id_plus1 {}\nslice_type {}\ncolour_plane_id {}\nslice_pic_order_cnt {}\n\
         num_ref_idx_l0_active_minus1 {}\nnum_ref_idx_l1_active_minus1 {}\ncollocated_ref_idx {}\n\
         five_minus_max_num_merge_cand {}\nslice_qp_delta {}\nslice_cb_qp_offset {}\n\
         slice_cr_qp_offset {}\nslice_act_y_qp_offset {}\nslice_act_cb_qp_offset {}\n\
         slice_act_cr_qp_offset {}\nslice_beta_offset_div2 {}\nslice_tc_offset_div2 {}\n\
         pic_struct {}\nslice_segment_addr {}\nref_idx_l0 {}\nref_idx_l1 {}\n\
         short_term_ref_pic_set_size {}\nlong_term_ref_pic_set_size {}\nflags {}",
        s.bit_size,
        s.data_byte_offset,
        s.num_entry_point_offsets,
        s.nal_unit_type,
        s.nuh_temporal_id_plus1,
        s.slice_type,
        s.colour_plane_id,
        s.slice_pic_order_cnt,
        s.num_ref_idx_l0_active_minus1,
        s.num_ref_idx_l1_active_minus1,
        s.collocated_ref_idx,
        s.five_minus_max_num_merge_cand,
        s.slice_qp_delta,
        s.slice_cb_qp_offset,
        s.slice_cr_qp_offset,
        s.slice_act_y_qp_offset,
        s.slice_act_cb_qp_offset,
        s.slice_act_cr_qp_offset,
        s.slice_beta_offset_div2,
        s.slice_tc_offset_div2,
        s.pic_struct,
        s.slice_segment_addr,
        print_array(s.ref_idx_l0.iter().map(|&v| v as u64)),
        print_array(s.ref_idx_l1.iter().map(|&v| v as u64)),
        s.short_term_ref_pic_set_size,
        s.long_term_ref_pic_set_size,
        print_flags(s.flags, HEVC_SLICE_FLAGS),
    )
}

/// The HEVC pred_weight_table event body (the table inside slice_params element 0).
pub fn fmt_hevc_pred_weight_table(p: &b::v4l2_hevc_pred_weight_table) -> String {
    let arr = |v: &[i8]| print_array(v.iter().map(|&x| x as u8 as u64));
    format!(
        "\ndelta_luma_weight_l0 {}\nluma_offset_l0 {}\ndelta_chroma_weight_l0 {{{}}}\n\
         chroma_offset_l0 {{{}}}\ndelta_luma_weight_l1 {}\nluma_offset_l1 {}\n\
         delta_chroma_weight_l1 {{{}}}\nchroma_offset_l1 {{{}}}\nluma_log2_weight_denom {}\n\
         delta_chroma_log2_weight_denom {}\n",
        arr(&p.delta_luma_weight_l0),
        arr(&p.luma_offset_l0),
        print_hex_dump(&s8_bytes(p.delta_chroma_weight_l0.iter().flatten())),
        print_hex_dump(&s8_bytes(p.chroma_offset_l0.iter().flatten())),
        arr(&p.delta_luma_weight_l1),
        arr(&p.luma_offset_l1),
        print_hex_dump(&s8_bytes(p.delta_chroma_weight_l1.iter().flatten())),
        print_hex_dump(&s8_bytes(p.chroma_offset_l1.iter().flatten())),
        p.luma_log2_weight_denom,
        p.delta_chroma_log2_weight_denom,
    )
}

/// The HEVC scaling_matrix event body.
pub fn fmt_hevc_scaling_matrix(m: &b::v4l2_ctrl_hevc_scaling_matrix) -> String {
    let flat = |v: &[u8]| print_hex_dump(v);
    let l4: Vec<u8> = m.scaling_list_4x4.iter().flatten().copied().collect();
    let l8: Vec<u8> = m.scaling_list_8x8.iter().flatten().copied().collect();
    let l16: Vec<u8> = m.scaling_list_16x16.iter().flatten().copied().collect();
    let l32: Vec<u8> = m.scaling_list_32x32.iter().flatten().copied().collect();
    format!(
        "\nscaling_list_4x4 {{{}}}\nscaling_list_8x8 {{{}}}\nscaling_list_16x16 {{{}}}\n\
         scaling_list_32x32 {{{}}}\nscaling_list_dc_coef_16x16 {}\nscaling_list_dc_coef_32x32 {}\n",
        flat(&l4),
        flat(&l8),
        flat(&l16),
        flat(&l32),
        print_array(m.scaling_list_dc_coef_16x16.iter().map(|&v| v as u64)),
        print_array(m.scaling_list_dc_coef_32x32.iter().map(|&v| v as u64)),
    )
}

/// The HEVC decode_params event body (without the DPB, whose entries are
/// separate events).
pub fn fmt_hevc_decode_params(d: &b::v4l2_ctrl_hevc_decode_params) -> String {
    format!(
        "\npic_order_cnt_val {}\nshort_term_ref_pic_set_size {}\nlong_term_ref_pic_set_size {}\n\
         num_active_dpb_entries {}\nnum_poc_st_curr_before {}\nnum_poc_st_curr_after {}\n\
         num_poc_lt_curr {}\npoc_st_curr_before {}\npoc_st_curr_after {}\npoc_lt_curr {}\nflags {}",
        d.pic_order_cnt_val,
        d.short_term_ref_pic_set_size,
        d.long_term_ref_pic_set_size,
        d.num_active_dpb_entries,
        d.num_poc_st_curr_before,
        d.num_poc_st_curr_after,
        d.num_poc_lt_curr,
        print_array(d.poc_st_curr_before.iter().map(|&v| v as u64)),
        print_array(d.poc_st_curr_after.iter().map(|&v| v as u64)),
        print_array(d.poc_lt_curr.iter().map(|&v| v as u64)),
        print_flags(d.flags, HEVC_DECODE_FLAGS),
    )
}

/// One HEVC dpb_entry event body (no index: visl prints the 16 entries in order).
pub fn fmt_hevc_dpb_entry(e: &b::v4l2_hevc_dpb_entry) -> String {
    format!(
        "\ntimestamp {}\nflags {}\nfield_pic {}\npic_order_cnt_val {}\n",
        e.timestamp,
        print_flags(e.flags as u64, HEVC_DPB_FLAGS),
        e.field_pic,
        e.pic_order_cnt_val,
    )
}

/// One `v4l2_ctrl_hevc_ext_sps_lt_rps` event body (kernel 7.2 visl; the sid
/// lab patch traces every element of the dynamic array, in index order).
pub fn fmt_hevc_ext_lt_rps(l: &vreq_core::uapi_ext::V4l2CtrlHevcExtSpsLtRps) -> String {
    format!(
        "\nflags {}\nlt_ref_pic_poc_lsb_sps {:x}\n",
        print_flags(l.flags as u64, HEVC_EXT_LT_RPS_FLAGS),
        l.lt_ref_pic_poc_lsb_sps
    )
}

/// One `v4l2_ctrl_hevc_ext_sps_st_rps` event body (kernel 7.2 visl).
pub fn fmt_hevc_ext_st_rps(s: &vreq_core::uapi_ext::V4l2CtrlHevcExtSpsStRps) -> String {
    format!(
        "\nflags {}\ndelta_idx_minus1: {}\ndelta_rps_sign: {}\nabs_delta_rps_minus1: {}\n\
         num_negative_pics: {}\nnum_positive_pics: {}\nused_by_curr_pic: {:08x}\n\
         use_delta_flag: {:08x}\ndelta_poc_s0_minus1: {}\ndelta_poc_s1_minus1: {}\n",
        print_flags(s.flags as u64, HEVC_EXT_ST_RPS_FLAGS),
        s.delta_idx_minus1,
        s.delta_rps_sign,
        s.abs_delta_rps_minus1,
        s.num_negative_pics,
        s.num_positive_pics,
        s.used_by_curr_pic,
        s.use_delta_flag,
        print_array(s.delta_poc_s0_minus1.iter().map(|&v| v as u64)),
        print_array(s.delta_poc_s1_minus1.iter().map(|&v| v as u64)),
    )
}

// ---------------------------------------------------------------------------
// VP9: kernel 6.12 `visl-trace-vp9.h` (unchanged in 7.2)
// ---------------------------------------------------------------------------

/// `lf.flags` of the VP9 frame event.
pub const VP9_LF_FLAGS: FlagTable = &[
    (
        b::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED as u64,
        "DELTA_ENABLED",
    ),
    (
        b::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_UPDATE as u64,
        "DELTA_UPDATE",
    ),
];

/// `seg.flags` of the VP9 frame event.
pub const VP9_SEG_FLAGS: FlagTable = &[
    (b::V4L2_VP9_SEGMENTATION_FLAG_ENABLED as u64, "ENABLED"),
    (
        b::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP as u64,
        "UPDATE_MAP",
    ),
    (
        b::V4L2_VP9_SEGMENTATION_FLAG_TEMPORAL_UPDATE as u64,
        "TEMPORAL_UPDATE",
    ),
    (
        b::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA as u64,
        "UPDATE_DATA",
    ),
    (
        b::V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE as u64,
        "ABS_OR_DELTA_UPDATE",
    ),
];

/// `flags` of the VP9 frame event.
pub const VP9_FRAME_FLAGS: FlagTable = &[
    (b::V4L2_VP9_FRAME_FLAG_KEY_FRAME as u64, "KEY_FRAME"),
    (b::V4L2_VP9_FRAME_FLAG_SHOW_FRAME as u64, "SHOW_FRAME"),
    (
        b::V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT as u64,
        "ERROR_RESILIENT",
    ),
    (b::V4L2_VP9_FRAME_FLAG_INTRA_ONLY as u64, "INTRA_ONLY"),
    (
        b::V4L2_VP9_FRAME_FLAG_ALLOW_HIGH_PREC_MV as u64,
        "ALLOW_HIGH_PREC_MV",
    ),
    (
        b::V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX as u64,
        "REFRESH_FRAME_CTX",
    ),
    (
        b::V4L2_VP9_FRAME_FLAG_PARALLEL_DEC_MODE as u64,
        "PARALLEL_DEC_MODE",
    ),
    (b::V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING as u64, "X_SUBSAMPLING"),
    (b::V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING as u64, "Y_SUBSAMPLING"),
    (
        b::V4L2_VP9_FRAME_FLAG_COLOR_RANGE_FULL_SWING as u64,
        "COLOR_RANGE_FULL_SWING",
    ),
];

/// `ref_frame_sign_bias` symbols (visl prints the bit mask with
/// `__print_symbolic`, so combinations print as hex).
pub const VP9_SIGN_BIAS: FlagTable = &[
    (b::V4L2_VP9_SIGN_BIAS_LAST as u64, "SIGN_BIAS_LAST"),
    (b::V4L2_VP9_SIGN_BIAS_GOLDEN as u64, "SIGN_BIAS_GOLDEN"),
    (b::V4L2_VP9_SIGN_BIAS_ALT as u64, "SIGN_BIAS_ALT"),
];

/// `reset_frame_context` symbols.
pub const VP9_RESET_FRAME_CTX: FlagTable = &[
    (
        b::V4L2_VP9_RESET_FRAME_CTX_NONE as u64,
        "RESET_FRAME_CTX_NONE",
    ),
    (
        b::V4L2_VP9_RESET_FRAME_CTX_SPEC as u64,
        "RESET_FRAME_CTX_SPEC",
    ),
    (
        b::V4L2_VP9_RESET_FRAME_CTX_ALL as u64,
        "RESET_FRAME_CTX_ALL",
    ),
];

/// `interpolation_filter` symbols.
pub const VP9_INTERP_FILTER: FlagTable = &[
    (
        b::V4L2_VP9_INTERP_FILTER_EIGHTTAP as u64,
        "INTERP_FILTER_EIGHTTAP",
    ),
    (
        b::V4L2_VP9_INTERP_FILTER_EIGHTTAP_SMOOTH as u64,
        "INTERP_FILTER_EIGHTTAP_SMOOTH",
    ),
    (
        b::V4L2_VP9_INTERP_FILTER_EIGHTTAP_SHARP as u64,
        "INTERP_FILTER_EIGHTTAP_SHARP",
    ),
    (
        b::V4L2_VP9_INTERP_FILTER_BILINEAR as u64,
        "INTERP_FILTER_BILINEAR",
    ),
    (
        b::V4L2_VP9_INTERP_FILTER_SWITCHABLE as u64,
        "INTERP_FILTER_SWITCHABLE",
    ),
];

/// `reference_mode` symbols.
pub const VP9_REFERENCE_MODE: FlagTable = &[
    (
        b::V4L2_VP9_REFERENCE_MODE_SINGLE_REFERENCE as u64,
        "REFERENCE_MODE_SINGLE_REFERENCE",
    ),
    (
        b::V4L2_VP9_REFERENCE_MODE_COMPOUND_REFERENCE as u64,
        "REFERENCE_MODE_COMPOUND_REFERENCE",
    ),
    (
        b::V4L2_VP9_REFERENCE_MODE_SELECT as u64,
        "REFERENCE_MODE_SELECT",
    ),
];

/// `tx_mode` symbols of the compressed-header event.
pub const VP9_TX_MODE: FlagTable = &[
    (b::V4L2_VP9_TX_MODE_ONLY_4X4 as u64, "TX_MODE_ONLY_4X4"),
    (b::V4L2_VP9_TX_MODE_ALLOW_8X8 as u64, "TX_MODE_ALLOW_8X8"),
    (
        b::V4L2_VP9_TX_MODE_ALLOW_16X16 as u64,
        "TX_MODE_ALLOW_16X16",
    ),
    (
        b::V4L2_VP9_TX_MODE_ALLOW_32X32 as u64,
        "TX_MODE_ALLOW_32X32",
    ),
    (b::V4L2_VP9_TX_MODE_SELECT as u64, "TX_MODE_SELECT"),
];

/// The VP9 frame event body.
pub fn fmt_vp9_frame(f: &b::v4l2_ctrl_vp9_frame) -> String {
    let s8 = |v: &[i8]| print_array(v.iter().map(|&x| x as u8 as u64));
    let u8a = |v: &[u8]| print_array(v.iter().map(|&x| x as u64));
    format!(
        "\nlf.ref_deltas {}\nlf.mode_deltas {}\nlf.level {}\nlf.sharpness {}\nlf.flags {}\n\
         quant.base_q_idx {}\nquant.delta_q_y_dc {}\nquant.delta_q_uv_dc {}\nquant.delta_q_uv_ac {}\n\
         seg.feature_data {{{}}}\nseg.feature_enabled {}\nseg.tree_probs {}\nseg.pred_probs {}\n\
         seg.flags {}\nflags {}\ncompressed_header_size {}\nuncompressed_header_size {}\n\
         frame_width_minus_1 {}\nframe_height_minus_1 {}\nrender_width_minus_1 {}\n\
         render_height_minus_1 {}\nlast_frame_ts {}\ngolden_frame_ts {}\nalt_frame_ts {}\n\
         ref_frame_sign_bias {}\nreset_frame_context {}\nframe_context_idx {}\nprofile {}\n\
         bit_depth {}\ninterpolation_filter {}\ntile_cols_log2 {}\ntile_rows_log_2 {}\n\
         reference_mode {}\n",
        s8(&f.lf.ref_deltas),
        s8(&f.lf.mode_deltas),
        f.lf.level,
        f.lf.sharpness,
        print_flags(f.lf.flags as u64, VP9_LF_FLAGS),
        f.quant.base_q_idx,
        f.quant.delta_q_y_dc,
        f.quant.delta_q_uv_dc,
        f.quant.delta_q_uv_ac,
        print_hex_dump(&i16s_le(f.seg.feature_data.iter().flatten().copied())),
        u8a(&f.seg.feature_enabled),
        u8a(&f.seg.tree_probs),
        u8a(&f.seg.pred_probs),
        print_flags(f.seg.flags as u64, VP9_SEG_FLAGS),
        print_flags(f.flags as u64, VP9_FRAME_FLAGS),
        f.compressed_header_size,
        f.uncompressed_header_size,
        f.frame_width_minus_1,
        f.frame_height_minus_1,
        f.render_width_minus_1,
        f.render_height_minus_1,
        f.last_frame_ts,
        f.golden_frame_ts,
        f.alt_frame_ts,
        print_symbolic(f.ref_frame_sign_bias as u64, VP9_SIGN_BIAS),
        print_symbolic(f.reset_frame_context as u64, VP9_RESET_FRAME_CTX),
        f.frame_context_idx,
        f.profile,
        f.bit_depth,
        print_symbolic(f.interpolation_filter as u64, VP9_INTERP_FILTER),
        f.tile_cols_log2,
        f.tile_rows_log2,
        print_symbolic(f.reference_mode as u64, VP9_REFERENCE_MODE),
    )
}

/// The VP9 compressed_hdr event body (everything but `coef` and `mv`).
pub fn fmt_vp9_compressed_hdr(h: &b::v4l2_ctrl_vp9_compressed_hdr) -> String {
    let u8a = |v: &[u8]| print_array(v.iter().map(|&x| x as u64));
    let flat = |v: Vec<u8>| print_hex_dump(&v);
    format!(
        "\ntx_mode {}\ntx8 {{{}}}\ntx16 {{{}}}\ntx32 {{{}}}\nskip {}\ninter_mode {{{}}}\n\
         interp_filter {{{}}}\nis_inter {}\ncomp_mode {}\nsingle_ref {{{}}}\ncomp_ref {}\n\
         y_mode {{{}}}\nuv_mode {{{}}}\npartition {{{}}}\n",
        print_symbolic(h.tx_mode as u64, VP9_TX_MODE),
        flat(h.tx8.iter().flatten().copied().collect()),
        flat(h.tx16.iter().flatten().copied().collect()),
        flat(h.tx32.iter().flatten().copied().collect()),
        u8a(&h.skip),
        flat(h.inter_mode.iter().flatten().copied().collect()),
        flat(h.interp_filter.iter().flatten().copied().collect()),
        u8a(&h.is_inter),
        u8a(&h.comp_mode),
        flat(h.single_ref.iter().flatten().copied().collect()),
        u8a(&h.comp_ref),
        flat(h.y_mode.iter().flatten().copied().collect()),
        flat(h.uv_mode.iter().flatten().copied().collect()),
        flat(h.partition.iter().flatten().copied().collect()),
    )
}

/// The VP9 `coef` of the compressed header, flattened in C order
/// (`coef[tx_size][plane][ref][band][ctx][node]`).
pub fn vp9_coef_bytes(h: &b::v4l2_ctrl_vp9_compressed_hdr) -> Vec<u8> {
    h.coef
        .iter()
        .flatten()
        .flatten()
        .flatten()
        .flatten()
        .flatten()
        .copied()
        .collect()
}

/// The `v4l2_ctrl_vp9_compressed_coeff` event body (note visl's leading space).
pub fn fmt_vp9_compressed_coef(h: &b::v4l2_ctrl_vp9_compressed_hdr) -> String {
    format!("\n coef {{{}}}", print_hex_dump(&vp9_coef_bytes(h)))
}

/// The `v4l2_vp9_mv_probs` event body (note visl's leading space).
pub fn fmt_vp9_mv_probs(p: &b::v4l2_vp9_mv_probs) -> String {
    let u8a = |v: &[u8]| print_array(v.iter().map(|&x| x as u64));
    let flat = |v: Vec<u8>| print_hex_dump(&v);
    format!(
        "\n joint {}\nsign {}\nclasses {{{}}}\nclass0_bit {}\nbits {{{}}}\nclass0_fr {{{}}}\n\
         fr {{{}}}\nclass0_hp {}\nhp {}\n",
        u8a(&p.joint),
        u8a(&p.sign),
        flat(p.classes.iter().flatten().copied().collect()),
        u8a(&p.class0_bit),
        flat(p.bits.iter().flatten().copied().collect()),
        flat(p.class0_fr.iter().flatten().flatten().copied().collect()),
        flat(p.fr.iter().flatten().copied().collect()),
        u8a(&p.class0_hp),
        u8a(&p.hp),
    )
}

// ---------------------------------------------------------------------------
// VP8: kernel 6.12 `visl-trace-vp8.h`
// ---------------------------------------------------------------------------

/// `segment.flags` of the VP8 frame event.
pub const VP8_SEGMENT_FLAGS: FlagTable = &[
    (b::V4L2_VP8_SEGMENT_FLAG_ENABLED as u64, "SEGMENT_ENABLED"),
    (
        b::V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP as u64,
        "SEGMENT_UPDATE_MAP",
    ),
    (
        b::V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA as u64,
        "SEGMENT_UPDATE_FEATURE_DATA",
    ),
    (
        b::V4L2_VP8_SEGMENT_FLAG_DELTA_VALUE_MODE as u64,
        "SEGMENT_DELTA_VALUE_MODE",
    ),
];

/// `lf.flags` of the VP8 frame event.
pub const VP8_LF_FLAGS: FlagTable = &[
    (b::V4L2_VP8_LF_ADJ_ENABLE as u64, "LF_ADJ_ENABLED"),
    (b::V4L2_VP8_LF_DELTA_UPDATE as u64, "LF_DELTA_UPDATE"),
    (
        b::V4L2_VP8_LF_FILTER_TYPE_SIMPLE as u64,
        "LF_FILTER_TYPE_SIMPLE",
    ),
];

/// `flags` of the VP8 frame event.
pub const VP8_FRAME_FLAGS: FlagTable = &[
    (b::V4L2_VP8_FRAME_FLAG_KEY_FRAME as u64, "KEY_FRAME"),
    (b::V4L2_VP8_FRAME_FLAG_EXPERIMENTAL as u64, "EXPERIMENTAL"),
    (b::V4L2_VP8_FRAME_FLAG_SHOW_FRAME as u64, "SHOW_FRAME"),
    (
        b::V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF as u64,
        "MB_NO_SKIP_COEFF",
    ),
    (
        b::V4L2_VP8_FRAME_FLAG_SIGN_BIAS_GOLDEN as u64,
        "SIGN_BIAS_GOLDEN",
    ),
    (b::V4L2_VP8_FRAME_FLAG_SIGN_BIAS_ALT as u64, "SIGN_BIAS_ALT"),
];

/// The `v4l2_ctrl_vp8_frame` event body (visl-trace-vp8.h
/// `v4l2_ctrl_vp8_frame_tmpl`; no trailing newline).
pub fn fmt_vp8_frame(f: &b::v4l2_ctrl_vp8_frame) -> String {
    let s8 = |v: &[i8]| print_array(v.iter().map(|&x| x as u8 as u64));
    format!(
        "\nsegment.quant_update {}\nsegment.lf_update {}\nsegment.segment_probs {}\n\
         segment.flags {}\nlf.ref_frm_delta {}\nlf.mb_mode_delta {}\nlf.sharpness_level {}\n\
         lf.level {}\nlf.flags {}\nquant.y_ac_qi {}\nquant.y_dc_delta {}\nquant.y2_dc_delta {}\n\
         quant.y2_ac_delta {}\nquant.uv_dc_delta {}\nquant.uv_ac_delta {}\n\
         coder_state.range {}\ncoder_state.value {}\ncoder_state.bit_count {}\nwidth {}\n\
         height {}\nhorizontal_scale {}\nvertical_scale {}\nversion {}\nprob_skip_false {}\n\
         prob_intra {}\nprob_last {}\nprob_gf {}\nnum_dct_parts {}\nfirst_part_size {}\n\
         first_part_header_bits {}\ndct_part_sizes {}\nlast_frame_ts {}\ngolden_frame_ts {}\n\
         alt_frame_ts {}\nflags {}",
        s8(&f.segment.quant_update),
        s8(&f.segment.lf_update),
        print_array(f.segment.segment_probs.iter().map(|&x| x as u64)),
        print_flags(f.segment.flags as u64, VP8_SEGMENT_FLAGS),
        s8(&f.lf.ref_frm_delta),
        s8(&f.lf.mb_mode_delta),
        f.lf.sharpness_level,
        f.lf.level,
        print_flags(f.lf.flags as u64, VP8_LF_FLAGS),
        f.quant.y_ac_qi,
        f.quant.y_dc_delta,
        f.quant.y2_dc_delta,
        f.quant.y2_ac_delta,
        f.quant.uv_dc_delta,
        f.quant.uv_ac_delta,
        f.coder_state.range,
        f.coder_state.value,
        f.coder_state.bit_count,
        f.width,
        f.height,
        f.horizontal_scale,
        f.vertical_scale,
        f.version,
        f.prob_skip_false,
        f.prob_intra,
        f.prob_last,
        f.prob_gf,
        f.num_dct_parts,
        f.first_part_size,
        f.first_part_header_bits,
        print_array(f.dct_part_sizes.iter().map(|&x| x as u64)),
        f.last_frame_ts,
        f.golden_frame_ts,
        f.alt_frame_ts,
        print_flags(f.flags, VP8_FRAME_FLAGS),
    )
}

/// The `v4l2_ctrl_vp8_entropy` event body (visl-trace-vp8.h
/// `v4l2_ctrl_vp8_entropy_tmpl`: the frame's `entropy`).
pub fn fmt_vp8_entropy(f: &b::v4l2_ctrl_vp8_frame) -> String {
    let e = &f.entropy;
    format!(
        "\nentropy.coeff_probs {{{}}}\nentropy.y_mode_probs {}\nentropy.uv_mode_probs {}\n\
         entropy.mv_probs {{{}}}",
        print_hex_dump(e.coeff_probs.as_flattened().as_flattened().as_flattened()),
        print_array(e.y_mode_probs.iter().map(|&x| x as u64)),
        print_array(e.uv_mode_probs.iter().map(|&x| x as u64)),
        print_hex_dump(e.mv_probs.as_flattened()),
    )
}

// ---------------------------------------------------------------------------
// MPEG-2: kernel 6.12 `visl-trace-mpeg2.h`
// ---------------------------------------------------------------------------

/// `flags` of the MPEG-2 sequence event.
pub const MPEG2_SEQ_FLAGS: FlagTable =
    &[(b::V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE as u64, "PROGRESSIVE")];

/// `flags` of the MPEG-2 picture event (visl spells INTRA_VLC `INTA_VLC`).
pub const MPEG2_PIC_FLAGS: FlagTable = &[
    (
        b::V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST as u64,
        "TOP_FIELD_FIRST",
    ),
    (
        b::V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT as u64,
        "FRAME_PRED_DCT",
    ),
    (
        b::V4L2_MPEG2_PIC_FLAG_CONCEALMENT_MV as u64,
        "CONCEALMENT_MV",
    ),
    (b::V4L2_MPEG2_PIC_FLAG_Q_SCALE_TYPE as u64, "Q_SCALE_TYPE"),
    (b::V4L2_MPEG2_PIC_FLAG_INTRA_VLC as u64, "INTA_VLC"),
    (b::V4L2_MPEG2_PIC_FLAG_ALT_SCAN as u64, "ALT_SCAN"),
    (b::V4L2_MPEG2_PIC_FLAG_REPEAT_FIRST as u64, "REPEAT_FIRST"),
    (b::V4L2_MPEG2_PIC_FLAG_PROGRESSIVE as u64, "PROGRESSIVE"),
];

/// The `v4l2_ctrl_mpeg2_sequence` event body.
pub fn fmt_mpeg2_sequence(s: &b::v4l2_ctrl_mpeg2_sequence) -> String {
    format!(
        "\nhorizontal_size {}\nvertical_size {}\nvbv_buffer_size {}\n\
         profile_and_level_indication {}\nchroma_format {}\nflags {}\n",
        s.horizontal_size,
        s.vertical_size,
        s.vbv_buffer_size,
        s.profile_and_level_indication,
        s.chroma_format,
        print_flags(s.flags as u64, MPEG2_SEQ_FLAGS),
    )
}

/// The `v4l2_ctrl_mpeg2_picture` event body.
pub fn fmt_mpeg2_picture(p: &b::v4l2_ctrl_mpeg2_picture) -> String {
    format!(
        "\nbackward_ref_ts {}\nforward_ref_ts {}\nflags {}\nf_code {{{}}}\n\
         picture_coding_type: {}\npicture_structure {}\nintra_dc_precision {}\n",
        p.backward_ref_ts,
        p.forward_ref_ts,
        print_flags(p.flags as u64, MPEG2_PIC_FLAGS),
        print_hex_dump(p.f_code.as_flattened()),
        p.picture_coding_type,
        p.picture_structure,
        p.intra_dc_precision,
    )
}

/// The `v4l2_ctrl_mpeg2_quantisation` event body.
pub fn fmt_mpeg2_quantisation(q: &b::v4l2_ctrl_mpeg2_quantisation) -> String {
    let a = |v: &[u8]| print_array(v.iter().map(|&x| x as u64));
    format!(
        "\nintra_quantiser_matrix {}\nnon_intra_quantiser_matrix {}\n\
         chroma_intra_quantiser_matrix {}\nchroma_non_intra_quantiser_matrix {}\n",
        a(&q.intra_quantiser_matrix),
        a(&q.non_intra_quantiser_matrix),
        a(&q.chroma_intra_quantiser_matrix),
        a(&q.chroma_non_intra_quantiser_matrix),
    )
}

/// The kernel's default MPEG-2 intra quantiser matrix (v4l2-ctrls-core.c
/// `mpeg2_intra_quant_matrix`, ISO/IEC 13818-2 6.3.11 default, in the
/// zigzag scan order the uAPI uses).
pub const MPEG2_DEFAULT_INTRA_QUANT: [u8; 64] = [
    8, 16, 16, 19, 16, 19, 22, 22, 22, 22, 22, 22, 26, 24, 26, 27, 27, 27, 26, 26, 26, 26, 27, 27,
    27, 29, 29, 29, 34, 34, 34, 29, 29, 29, 27, 27, 29, 29, 32, 32, 34, 34, 37, 38, 37, 35, 35, 34,
    35, 38, 38, 40, 40, 40, 48, 48, 46, 46, 56, 56, 58, 69, 69, 83,
];

/// The current value of every control of one visl context: what a fresh
/// context holds (v4l2-ctrls-core.c `std_init_compound`: every compound
/// control zeroed, except H.264 SCALING_MATRIX, which is flat 16, VP8_FRAME
/// `num_dct_parts` 1, MPEG-2 SEQUENCE `chroma_format` 1, PICTURE top field /
/// I, QUANTISATION default intra + flat 16 non-intra; the HEVC
/// EXT_SPS_ST/LT_RPS dynamic arrays start with one zeroed element) updated
/// by each request's controls (controls persist across requests). The
/// H.264 fields keep their historical names; HEVC and VP9 live in
/// [`ControlState::hevc`] and [`ControlState::vp9`].
#[derive(Clone)]
pub struct ControlState {
    pub sps: b::v4l2_ctrl_h264_sps,
    pub pps: b::v4l2_ctrl_h264_pps,
    pub scaling_matrix: b::v4l2_ctrl_h264_scaling_matrix,
    pub slice_params: b::v4l2_ctrl_h264_slice_params,
    pub decode_params: b::v4l2_ctrl_h264_decode_params,
    pub pred_weights: b::v4l2_ctrl_h264_pred_weights,
    pub hevc: HevcControlState,
    pub vp9: Vp9ControlState,
    pub vp8: Vp8ControlState,
    pub mpeg2: Mpeg2ControlState,
}

/// The VP8 control of a visl context (see [`ControlState`]).
#[derive(Clone)]
pub struct Vp8ControlState {
    pub frame: b::v4l2_ctrl_vp8_frame,
}

impl Default for Vp8ControlState {
    fn default() -> Self {
        let frame = b::v4l2_ctrl_vp8_frame {
            num_dct_parts: 1,
            ..Default::default()
        };
        Self { frame }
    }
}

/// The MPEG-2 controls of a visl context (see [`ControlState`]).
#[derive(Clone)]
pub struct Mpeg2ControlState {
    pub sequence: b::v4l2_ctrl_mpeg2_sequence,
    pub picture: b::v4l2_ctrl_mpeg2_picture,
    pub quantisation: b::v4l2_ctrl_mpeg2_quantisation,
}

impl Default for Mpeg2ControlState {
    fn default() -> Self {
        let sequence = b::v4l2_ctrl_mpeg2_sequence {
            chroma_format: 1,
            ..Default::default()
        };
        let picture = b::v4l2_ctrl_mpeg2_picture {
            picture_structure: b::V4L2_MPEG2_PIC_TOP_FIELD as u8,
            picture_coding_type: b::V4L2_MPEG2_PIC_CODING_TYPE_I as u8,
            ..Default::default()
        };
        let quantisation = b::v4l2_ctrl_mpeg2_quantisation {
            intra_quantiser_matrix: MPEG2_DEFAULT_INTRA_QUANT,
            non_intra_quantiser_matrix: [16; 64],
            ..Default::default()
        };
        Self {
            sequence,
            picture,
            quantisation,
        }
    }
}

/// The HEVC controls of a visl context (see [`ControlState`]).
#[derive(Clone)]
pub struct HevcControlState {
    pub sps: b::v4l2_ctrl_hevc_sps,
    pub pps: b::v4l2_ctrl_hevc_pps,
    /// Element 0 of the SLICE_PARAMS dynamic array (what visl traces).
    pub slice_params: b::v4l2_ctrl_hevc_slice_params,
    pub scaling_matrix: b::v4l2_ctrl_hevc_scaling_matrix,
    pub decode_params: b::v4l2_ctrl_hevc_decode_params,
    pub ext_st_rps: Vec<vreq_core::uapi_ext::V4l2CtrlHevcExtSpsStRps>,
    pub ext_lt_rps: Vec<vreq_core::uapi_ext::V4l2CtrlHevcExtSpsLtRps>,
}

impl Default for HevcControlState {
    fn default() -> Self {
        Self {
            sps: Default::default(),
            pps: Default::default(),
            slice_params: Default::default(),
            scaling_matrix: Default::default(),
            decode_params: Default::default(),
            ext_st_rps: vec![Default::default()],
            ext_lt_rps: vec![Default::default()],
        }
    }
}

/// The VP9 controls of a visl context (see [`ControlState`]).
#[derive(Clone, Default)]
pub struct Vp9ControlState {
    pub frame: b::v4l2_ctrl_vp9_frame,
    pub compressed_hdr: b::v4l2_ctrl_vp9_compressed_hdr,
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
            hevc: Default::default(),
            vp9: Default::default(),
            vp8: Default::default(),
            mpeg2: Default::default(),
        }
    }
}

impl ControlState {
    /// Applies one request's control. A dynamic array replaces the whole
    /// array; an empty one leaves the value alone (the kernel refuses a
    /// zero-element array in 6.12). HEVC ENTRY_POINT_OFFSETS is not traced
    /// by visl and not kept.
    pub fn apply(&mut self, c: &Control) {
        match c {
            Control::H264Sps(v) => self.sps = **v,
            Control::H264Pps(v) => self.pps = **v,
            Control::H264ScalingMatrix(v) => self.scaling_matrix = **v,
            Control::H264DecodeParams(v) => self.decode_params = **v,
            Control::H264SliceParams(v) => self.slice_params = **v,
            Control::H264PredWeights(v) => self.pred_weights = **v,
            Control::HevcSps(v) => self.hevc.sps = **v,
            Control::HevcPps(v) => self.hevc.pps = **v,
            Control::HevcSliceParams(v) => {
                if let Some(first) = v.first() {
                    self.hevc.slice_params = *first;
                }
            }
            Control::HevcScalingMatrix(v) => self.hevc.scaling_matrix = **v,
            Control::HevcDecodeParams(v) => self.hevc.decode_params = **v,
            Control::HevcEntryPointOffsets(_) => {}
            Control::HevcExtSpsStRps(v) => {
                if !v.is_empty() {
                    self.hevc.ext_st_rps = v.clone();
                }
            }
            Control::HevcExtSpsLtRps(v) => {
                if !v.is_empty() {
                    self.hevc.ext_lt_rps = v.clone();
                }
            }
            Control::Vp9Frame(v) => self.vp9.frame = **v,
            Control::Vp9CompressedHdr(v) => self.vp9.compressed_hdr = **v,
            Control::Vp8Frame(v) => self.vp8.frame = **v,
            Control::Mpeg2Sequence(v) => self.mpeg2.sequence = **v,
            Control::Mpeg2Picture(v) => self.mpeg2.picture = **v,
            Control::Mpeg2Quantisation(v) => self.mpeg2.quantisation = **v,
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

fn push_event(out: &mut String, name: &str, body: &str) {
    out.push_str(PREFIX);
    out.push_str(name);
    out.push_str(": ");
    out.push_str(body);
    out.push('\n');
}

/// The events visl emits for one H.264 job with control state `st`
/// (`visl_trace_ctrls`), each as a full ftrace text line with `prefix`.
pub fn fmt_job_events(st: &ControlState, out: &mut String) {
    let mut ev = |name: &str, body: String| push_event(out, name, &body);
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

/// The events visl emits for one HEVC job (kernel 6.12 `visl_trace_ctrls`:
/// sps, pps, slice_params, scaling_matrix, decode_params, 16 dpb entries,
/// pred_weight_table; with `ext_sps_rps` (kernel 7.2 + the sid lab patch
/// tests/vm/sid/patches/visl-hevc-ext-sps-rps.patch) then every element of
/// EXT_SPS_LT_RPS and of EXT_SPS_ST_RPS).
pub fn fmt_hevc_job_events(st: &HevcControlState, ext_sps_rps: bool, out: &mut String) {
    let mut ev = |name: &str, body: String| push_event(out, name, &body);
    ev("v4l2_ctrl_hevc_sps", fmt_hevc_sps(&st.sps));
    ev("v4l2_ctrl_hevc_pps", fmt_hevc_pps(&st.pps));
    ev(
        "v4l2_ctrl_hevc_slice_params",
        fmt_hevc_slice_params(&st.slice_params),
    );
    ev(
        "v4l2_ctrl_hevc_scaling_matrix",
        fmt_hevc_scaling_matrix(&st.scaling_matrix),
    );
    ev(
        "v4l2_ctrl_hevc_decode_params",
        fmt_hevc_decode_params(&st.decode_params),
    );
    for e in &st.decode_params.dpb {
        ev("v4l2_hevc_dpb_entry", fmt_hevc_dpb_entry(e));
    }
    ev(
        "v4l2_hevc_pred_weight_table",
        fmt_hevc_pred_weight_table(&st.slice_params.pred_weight_table),
    );
    if ext_sps_rps {
        for l in &st.ext_lt_rps {
            ev("v4l2_ctrl_hevc_ext_sps_lt_rps", fmt_hevc_ext_lt_rps(l));
        }
        for s in &st.ext_st_rps {
            ev("v4l2_ctrl_hevc_ext_sps_st_rps", fmt_hevc_ext_st_rps(s));
        }
    }
}

/// The events visl emits for one VP9 job: frame, compressed_hdr,
/// compressed_coeff, mv_probs (kernel 6.12 `visl_trace_ctrls`).
pub fn fmt_vp9_job_events(st: &Vp9ControlState, out: &mut String) {
    let mut ev = |name: &str, body: String| push_event(out, name, &body);
    ev("v4l2_ctrl_vp9_frame", fmt_vp9_frame(&st.frame));
    ev(
        "v4l2_ctrl_vp9_compressed_hdr",
        fmt_vp9_compressed_hdr(&st.compressed_hdr),
    );
    ev(
        "v4l2_ctrl_vp9_compressed_coeff",
        fmt_vp9_compressed_coef(&st.compressed_hdr),
    );
    ev("v4l2_vp9_mv_probs", fmt_vp9_mv_probs(&st.compressed_hdr.mv));
}

/// The events visl emits for one VP8 job: frame, then entropy (kernel 6.12
/// `visl_trace_ctrls`).
pub fn fmt_vp8_job_events(st: &Vp8ControlState, out: &mut String) {
    push_event(out, "v4l2_ctrl_vp8_frame", &fmt_vp8_frame(&st.frame));
    push_event(out, "v4l2_ctrl_vp8_entropy", &fmt_vp8_entropy(&st.frame));
}

/// The events visl emits for one MPEG-2 job: sequence, picture,
/// quantisation (kernel 6.12 `visl_trace_ctrls`).
pub fn fmt_mpeg2_job_events(st: &Mpeg2ControlState, out: &mut String) {
    push_event(
        out,
        "v4l2_ctrl_mpeg2_sequence",
        &fmt_mpeg2_sequence(&st.sequence),
    );
    push_event(
        out,
        "v4l2_ctrl_mpeg2_picture",
        &fmt_mpeg2_picture(&st.picture),
    );
    push_event(
        out,
        "v4l2_ctrl_mpeg2_quantisation",
        &fmt_mpeg2_quantisation(&st.quantisation),
    );
}

/// How [`emulate_opts`] renders jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmulateOptions {
    /// Codec of the visl context; `None`: from the first control of the jobs
    /// (H.264 when there is none).
    pub codec: Option<CodecKind>,
    /// The device has HEVC EXT_SPS_ST/LT_RPS (sid VM, visl `hevc_ext_sps_rps=1`):
    /// their elements are traced after each HEVC job.
    pub hevc_ext_sps_rps: bool,
}

/// The codec a control belongs to.
pub fn control_codec(c: &Control) -> CodecKind {
    match c {
        Control::H264Sps(_)
        | Control::H264Pps(_)
        | Control::H264ScalingMatrix(_)
        | Control::H264DecodeParams(_)
        | Control::H264SliceParams(_)
        | Control::H264PredWeights(_) => CodecKind::H264,
        Control::HevcSps(_)
        | Control::HevcPps(_)
        | Control::HevcSliceParams(_)
        | Control::HevcScalingMatrix(_)
        | Control::HevcDecodeParams(_)
        | Control::HevcEntryPointOffsets(_)
        | Control::HevcExtSpsStRps(_)
        | Control::HevcExtSpsLtRps(_) => CodecKind::Hevc,
        Control::Vp9Frame(_) | Control::Vp9CompressedHdr(_) => CodecKind::Vp9,
        Control::Vp8Frame(_) => CodecKind::Vp8,
        Control::Mpeg2Sequence(_) | Control::Mpeg2Picture(_) | Control::Mpeg2Quantisation(_) => {
            CodecKind::Mpeg2
        }
    }
}

/// visl-format ftrace text for `jobs` submitted in order to a fresh visl
/// context: per job one OUTPUT `v4l2_qbuf` line (timestamp, HOLD_CAPTURE_BUF)
/// then the controls' *current* values as visl prints them. The result is
/// what [`super::trace::parse`] reads, so our codec's output can be
/// normalised and compared with a GStreamer trace without the VM. The codec
/// is taken from the jobs' first control (see [`emulate_opts`]).
pub fn emulate(jobs: &[DecodeJob]) -> String {
    emulate_opts(jobs, &EmulateOptions::default())
}

/// [`emulate`] with explicit [`EmulateOptions`].
pub fn emulate_opts(jobs: &[DecodeJob], opts: &EmulateOptions) -> String {
    let codec = opts
        .codec
        .or_else(|| {
            jobs.iter()
                .flat_map(|j| j.controls.first())
                .next()
                .map(control_codec)
        })
        .unwrap_or(CodecKind::H264);
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
        match codec {
            CodecKind::Hevc => fmt_hevc_job_events(&st.hevc, opts.hevc_ext_sps_rps, &mut out),
            CodecKind::Vp9 => fmt_vp9_job_events(&st.vp9, &mut out),
            CodecKind::Vp8 => fmt_vp8_job_events(&st.vp8, &mut out),
            CodecKind::Mpeg2 => fmt_mpeg2_job_events(&st.mpeg2, &mut out),
            CodecKind::H264 => fmt_job_events(&st, &mut out),
        }
    }
    out
}

/// Requests that set every control to the values a parsed trace shows for
/// each job (for checking [`emulate`] against real visl text: emulating
/// these must reproduce the trace's visl events byte for byte). The codec
/// is the trace's ([`super::trace::Trace::codec`]).
pub fn jobs_setting_all(t: &super::trace::Trace) -> Vec<DecodeJob> {
    let job = |out: Option<super::trace::OutputQbuf>, controls: Vec<Control>| {
        let q = out.unwrap_or(super::trace::OutputQbuf {
            timestamp_ns: 0,
            hold_capture: false,
        });
        DecodeJob {
            timestamp_ns: q.timestamp_ns,
            controls,
            bitstream: vec![],
            hold_capture: q.hold_capture,
            starts_picture: true,
        }
    };
    match t.codec() {
        Some(CodecKind::Hevc) => t
            .hevc_jobs
            .iter()
            .map(|j| {
                let mut c = vec![
                    Control::HevcSps(Box::new(j.sps)),
                    Control::HevcPps(Box::new(j.pps)),
                    Control::HevcSliceParams(vec![j.slice_params]),
                    Control::HevcScalingMatrix(Box::new(j.scaling_matrix)),
                    Control::HevcDecodeParams(Box::new(j.decode_params)),
                ];
                if !j.ext_st_rps.is_empty() {
                    c.push(Control::HevcExtSpsStRps(j.ext_st_rps.clone()));
                }
                if !j.ext_lt_rps.is_empty() {
                    c.push(Control::HevcExtSpsLtRps(j.ext_lt_rps.clone()));
                }
                job(j.output, c)
            })
            .collect(),
        Some(CodecKind::Vp9) => t
            .vp9_jobs
            .iter()
            .map(|j| {
                job(
                    j.output,
                    vec![
                        Control::Vp9Frame(Box::new(j.frame)),
                        Control::Vp9CompressedHdr(Box::new(j.compressed_hdr)),
                    ],
                )
            })
            .collect(),
        Some(CodecKind::Vp8) => t
            .vp8_jobs
            .iter()
            .map(|j| job(j.output, vec![Control::Vp8Frame(Box::new(j.frame))]))
            .collect(),
        Some(CodecKind::Mpeg2) => t
            .mpeg2_jobs
            .iter()
            .map(|j| {
                job(
                    j.output,
                    vec![
                        Control::Mpeg2Sequence(Box::new(j.sequence)),
                        Control::Mpeg2Picture(Box::new(j.picture)),
                        Control::Mpeg2Quantisation(Box::new(j.quantisation)),
                    ],
                )
            })
            .collect(),
        _ => t
            .jobs
            .iter()
            .map(|j| {
                job(
                    j.output,
                    vec![
                        Control::H264Sps(Box::new(j.sps)),
                        Control::H264Pps(Box::new(j.pps)),
                        Control::H264ScalingMatrix(Box::new(j.scaling_matrix)),
                        Control::H264DecodeParams(Box::new(j.decode_params)),
                        Control::H264SliceParams(Box::new(j.slice_params)),
                        Control::H264PredWeights(Box::new(j.pred_weights)),
                    ],
                )
            })
            .collect(),
    }
}

/// Checks [`emulate`] against a real visl trace (H.264, HEVC, VP9, VP8 or MPEG-2): parses
/// it, re-emits every job from the parsed values and compares each visl
/// control event's text. Returns the number of identical events, or the
/// first difference (event index, trace line, real text, emulated text);
/// a trace without visl control events is an error.
pub fn selfcheck(real: &str) -> Result<usize, String> {
    let t = super::trace::parse(real).map_err(|e| e.to_string())?;
    let opts = EmulateOptions {
        codec: t.codec(),
        hevc_ext_sps_rps: t.hevc_ext_sps_rps,
    };
    let emu = emulate_opts(&jobs_setting_all(&t), &opts);
    let visl = |text: &str| -> Vec<super::trace::RawEvent> {
        super::trace::split_events(text)
            .0
            .into_iter()
            .filter(|e| super::trace::is_visl_control_event(&e.name))
            .collect()
    };
    let (a, b) = (visl(real), visl(&emu));
    if a.is_empty() {
        // e.g. GStreamer decoded nothing: "0 events identical" would pass
        return Err("no visl control events in the trace".to_string());
    }
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

    /// EXT_SPS_ST/LT_RPS (kernel 7.2 format): every element is emitted and
    /// parsed back; a fresh context traces one zeroed element of each.
    #[test]
    fn hevc_ext_sps_rps_round_trip() {
        use vreq_core::uapi_ext::{V4l2CtrlHevcExtSpsLtRps, V4l2CtrlHevcExtSpsStRps};
        let st = vec![
            V4l2CtrlHevcExtSpsStRps {
                num_negative_pics: 2,
                used_by_curr_pic: 3,
                use_delta_flag: 0xffff,
                delta_poc_s0_minus1: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                ..Default::default()
            },
            V4l2CtrlHevcExtSpsStRps {
                flags: 1,
                delta_rps_sign: 1,
                abs_delta_rps_minus1: 3,
                used_by_curr_pic: 0x1b,
                use_delta_flag: 0xfffb,
                ..Default::default()
            },
        ];
        let lt = vec![V4l2CtrlHevcExtSpsLtRps {
            lt_ref_pic_poc_lsb_sps: 0x1c,
            flags: 1,
        }];
        assert!(fmt_hevc_ext_lt_rps(&lt[0]).contains("lt_ref_pic_poc_lsb_sps 1c"));
        assert!(fmt_hevc_ext_st_rps(&st[1]).contains("used_by_curr_pic: 0000001b"));
        let job = |controls: Vec<Control>| DecodeJob {
            timestamp_ns: 0,
            controls,
            bitstream: vec![],
            hold_capture: false,
            starts_picture: true,
        };
        let jobs = vec![
            job(vec![Control::HevcSps(Box::default())]),
            job(vec![
                Control::HevcExtSpsStRps(st.clone()),
                Control::HevcExtSpsLtRps(lt.clone()),
            ]),
        ];
        let opts = EmulateOptions {
            codec: None,
            hevc_ext_sps_rps: true,
        };
        let t = super::super::trace::parse(&emulate_opts(&jobs, &opts)).unwrap();
        assert!(t.hevc_ext_sps_rps);
        assert_eq!(t.hevc_jobs[0].ext_st_rps, vec![Default::default()]);
        assert_eq!(t.hevc_jobs[0].ext_lt_rps, vec![Default::default()]);
        assert_eq!(t.hevc_jobs[1].ext_st_rps, st);
        assert_eq!(t.hevc_jobs[1].ext_lt_rps, lt);
        // without the controls nothing is traced
        let t = super::super::trace::parse(&emulate(&jobs)).unwrap();
        assert!(!t.hevc_ext_sps_rps && t.hevc_jobs[1].ext_st_rps.is_empty());
    }
}
