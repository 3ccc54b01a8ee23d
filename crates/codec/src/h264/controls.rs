//! H.264 uAPI control structs for one picture / slice
//! (`V4L2_CID_STATELESS_H264_*`, uAPI "ext-ctrls-codec-stateless.rst").
//!
//! Which field comes from which syntax element mirrors GStreamer 1.26.2's
//! `sys/v4l2codecs/gstv4l2codech264dec.c` (the oracle on visl).

use cros_codecs::codec::h264::parser::{Pps, SliceHeader, Sps};
use v4l2r::bindings;

use super::dpb::{Dpb, Field, PicId, Picture};

/// 4x4 zig-zag scan (Table 8-12, frame scan): scan index → raster index.
const ZIGZAG_4X4: [usize; 16] = [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15];
/// 8x8 zig-zag scan (Table 8-13, frame scan): scan index → raster index.
const ZIGZAG_8X8: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// `V4L2_CID_STATELESS_H264_SPS` from an SPS (all fields are the syntax
/// elements of 7.3.2.1.1; flags per `V4L2_H264_SPS_FLAG_*`).
pub fn sps_ctrl(sps: &Sps) -> bindings::v4l2_ctrl_h264_sps {
    let mut c = bindings::v4l2_ctrl_h264_sps {
        profile_idc: sps.profile_idc,
        constraint_set_flags: (sps.constraint_set0_flag as u8)
            | (sps.constraint_set1_flag as u8) << 1
            | (sps.constraint_set2_flag as u8) << 2
            | (sps.constraint_set3_flag as u8) << 3
            | (sps.constraint_set4_flag as u8) << 4
            | (sps.constraint_set5_flag as u8) << 5,
        level_idc: sps.level_idc as u8,
        seq_parameter_set_id: sps.seq_parameter_set_id,
        chroma_format_idc: sps.chroma_format_idc,
        bit_depth_luma_minus8: sps.bit_depth_luma_minus8,
        bit_depth_chroma_minus8: sps.bit_depth_chroma_minus8,
        log2_max_frame_num_minus4: sps.log2_max_frame_num_minus4,
        pic_order_cnt_type: sps.pic_order_cnt_type,
        log2_max_pic_order_cnt_lsb_minus4: sps.log2_max_pic_order_cnt_lsb_minus4,
        max_num_ref_frames: sps.max_num_ref_frames,
        num_ref_frames_in_pic_order_cnt_cycle: sps.num_ref_frames_in_pic_order_cnt_cycle,
        offset_for_non_ref_pic: sps.offset_for_non_ref_pic,
        offset_for_top_to_bottom_field: sps.offset_for_top_to_bottom_field,
        pic_width_in_mbs_minus1: sps.pic_width_in_mbs_minus1,
        pic_height_in_map_units_minus1: sps.pic_height_in_map_units_minus1,
        ..Default::default()
    };
    let n = (sps.num_ref_frames_in_pic_order_cnt_cycle as usize).min(255);
    c.offset_for_ref_frame[..n].copy_from_slice(&sps.offset_for_ref_frame[..n]);
    let f = |b: bool, v: u32| if b { v } else { 0 };
    c.flags = f(
        sps.separate_colour_plane_flag,
        bindings::V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE,
    ) | f(
        sps.qpprime_y_zero_transform_bypass_flag,
        bindings::V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS,
    ) | f(
        sps.delta_pic_order_always_zero_flag,
        bindings::V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO,
    ) | f(
        sps.gaps_in_frame_num_value_allowed_flag,
        bindings::V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED,
    ) | f(
        sps.frame_mbs_only_flag,
        bindings::V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY,
    ) | f(
        sps.mb_adaptive_frame_field_flag,
        bindings::V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD,
    ) | f(
        sps.direct_8x8_inference_flag,
        bindings::V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE,
    );
    c
}

/// Whether a scaling matrix is signalled (SPS or PPS), which decides
/// `V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT` and whether the
/// SCALING_MATRIX control is sent at all (as GStreamer).
pub fn scaling_matrix_present(pps: &Pps) -> bool {
    pps.sps.seq_scaling_matrix_present_flag || pps.pic_scaling_matrix_present_flag
}

/// `V4L2_CID_STATELESS_H264_PPS` (7.3.2.2).
pub fn pps_ctrl(pps: &Pps) -> bindings::v4l2_ctrl_h264_pps {
    let f = |b: bool, v: u32| if b { v as u16 } else { 0 };
    bindings::v4l2_ctrl_h264_pps {
        pic_parameter_set_id: pps.pic_parameter_set_id,
        seq_parameter_set_id: pps.seq_parameter_set_id,
        num_slice_groups_minus1: pps.num_slice_groups_minus1 as u8,
        num_ref_idx_l0_default_active_minus1: pps.num_ref_idx_l0_default_active_minus1,
        num_ref_idx_l1_default_active_minus1: pps.num_ref_idx_l1_default_active_minus1,
        weighted_bipred_idc: pps.weighted_bipred_idc,
        pic_init_qp_minus26: pps.pic_init_qp_minus26,
        pic_init_qs_minus26: pps.pic_init_qs_minus26,
        chroma_qp_index_offset: pps.chroma_qp_index_offset,
        second_chroma_qp_index_offset: pps.second_chroma_qp_index_offset,
        flags: f(
            pps.entropy_coding_mode_flag,
            bindings::V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE,
        ) | f(
            pps.bottom_field_pic_order_in_frame_present_flag,
            bindings::V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT,
        ) | f(
            pps.weighted_pred_flag,
            bindings::V4L2_H264_PPS_FLAG_WEIGHTED_PRED,
        ) | f(
            pps.deblocking_filter_control_present_flag,
            bindings::V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT,
        ) | f(
            pps.constrained_intra_pred_flag,
            bindings::V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED,
        ) | f(
            pps.redundant_pic_cnt_present_flag,
            bindings::V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT,
        ) | f(
            pps.transform_8x8_mode_flag,
            bindings::V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE,
        ) | f(
            scaling_matrix_present(pps),
            bindings::V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT,
        ),
    }
}

/// `V4L2_CID_STATELESS_H264_SCALING_MATRIX`: the PPS's effective lists
/// (7.4.2.2 fall-back rules applied by the parser) in raster order; 8x8 lists
/// beyond the first two only for 4:4:4 (Table 7-2), else zero.
pub fn scaling_matrix_ctrl(pps: &Pps) -> bindings::v4l2_ctrl_h264_scaling_matrix {
    let mut c = bindings::v4l2_ctrl_h264_scaling_matrix::default();
    for (i, list) in pps.scaling_lists_4x4.iter().enumerate() {
        for (k, v) in list.iter().enumerate() {
            c.scaling_list_4x4[i][ZIGZAG_4X4[k]] = *v;
        }
    }
    c.scaling_list_8x8 = [[0; 64]; 6];
    let n = if pps.sps.chroma_format_idc == 3 { 6 } else { 2 };
    for i in 0..n {
        for (k, v) in pps.scaling_lists_8x8[i].iter().enumerate() {
            c.scaling_list_8x8[i][ZIGZAG_8X8[k]] = *v;
        }
    }
    c
}

/// `V4L2_CID_STATELESS_H264_DECODE_PARAMS` for the current picture, without
/// the P/B frame flags (added per slice). `dpb` entries: every reference
/// picture in DPB order except second fields (a pair is one entry), as
/// GStreamer's `fill_decoder_params`.
pub fn decode_params_ctrl(
    hdr: &SliceHeader,
    cur: &Picture,
    cur_other: Option<&Picture>,
    dpb: &Dpb,
) -> bindings::v4l2_ctrl_h264_decode_params {
    let mut c = bindings::v4l2_ctrl_h264_decode_params {
        nal_ref_idc: cur.nal_ref_idc as u16,
        frame_num: hdr.frame_num,
        idr_pic_id: hdr.idr_pic_id,
        pic_order_cnt_lsb: hdr.pic_order_cnt_lsb,
        delta_pic_order_cnt_bottom: hdr.delta_pic_order_cnt_bottom,
        delta_pic_order_cnt0: hdr.delta_pic_order_cnt[0],
        delta_pic_order_cnt1: hdr.delta_pic_order_cnt[1],
        dec_ref_pic_marking_bit_size: hdr.dec_ref_pic_marking_bit_size as u32,
        pic_order_cnt_bit_size: hdr.pic_order_cnt_bit_size as u32,
        slice_group_change_cycle: 0,
        flags: if cur.idr {
            bindings::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC
        } else {
            0
        } | if hdr.field_pic_flag {
            bindings::V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC
        } else {
            0
        } | if hdr.bottom_field_flag {
            bindings::V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD
        } else {
            0
        },
        ..Default::default()
    };
    match cur.field() {
        Field::Frame => {
            c.top_field_order_cnt = cur.top_field_order_cnt;
            c.bottom_field_order_cnt = cur.bottom_field_order_cnt;
        }
        Field::Top => {
            c.top_field_order_cnt = cur.top_field_order_cnt;
            c.bottom_field_order_cnt = cur_other.map(|o| o.bottom_field_order_cnt).unwrap_or(0);
        }
        Field::Bottom => {
            c.top_field_order_cnt = cur_other.map(|o| o.top_field_order_cnt).unwrap_or(0);
            c.bottom_field_order_cnt = cur.bottom_field_order_cnt;
        }
    }
    let mut n = 0usize;
    for id in dpb.list.iter() {
        let Some(r) = dpb.get(*id) else { continue };
        if !r.is_ref() || r.second_field {
            continue;
        }
        if n >= c.dpb.len() {
            break;
        }
        let (pic_num, frame_num) = if r.is_long_ref() {
            (r.long_term_pic_num, r.long_term_frame_idx)
        } else {
            (r.pic_num, r.frame_num)
        };
        let e = &mut c.dpb[n];
        n += 1;
        e.reference_ts = r.timestamp_ns;
        e.frame_num = frame_num as u16;
        e.pic_num = pic_num as u32;
        e.flags = bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID
            | bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE
            | if r.is_long_ref() {
                bindings::V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM
            } else {
                0
            }
            | if r.field_pic_flag {
                bindings::V4L2_H264_DPB_ENTRY_FLAG_FIELD
            } else {
                0
            };
        let other = r.other_field.and_then(|o| dpb.get(o));
        match r.field() {
            Field::Frame => {
                e.top_field_order_cnt = r.top_field_order_cnt;
                e.bottom_field_order_cnt = r.bottom_field_order_cnt;
                e.fields = bindings::V4L2_H264_FRAME_REF as u8;
            }
            Field::Top => {
                e.top_field_order_cnt = r.top_field_order_cnt;
                e.fields = bindings::V4L2_H264_TOP_FIELD_REF as u8;
                if let Some(o) = other {
                    e.bottom_field_order_cnt = o.bottom_field_order_cnt;
                    e.fields |= bindings::V4L2_H264_BOTTOM_FIELD_REF as u8;
                }
            }
            Field::Bottom => {
                e.bottom_field_order_cnt = r.bottom_field_order_cnt;
                e.fields = bindings::V4L2_H264_BOTTOM_FIELD_REF as u8;
                if let Some(o) = other {
                    e.top_field_order_cnt = o.top_field_order_cnt;
                    e.fields |= bindings::V4L2_H264_TOP_FIELD_REF as u8;
                }
            }
        }
    }
    c
}

/// `V4L2_CID_STATELESS_H264_SLICE_PARAMS` without the reference lists.
/// `header_bit_size` counts the NAL header byte and excludes emulation
/// prevention bytes.
pub fn slice_params_ctrl(hdr: &SliceHeader) -> bindings::v4l2_ctrl_h264_slice_params {
    bindings::v4l2_ctrl_h264_slice_params {
        header_bit_size: hdr.header_bit_size as u32,
        first_mb_in_slice: hdr.first_mb_in_slice,
        slice_type: hdr.slice_type as u8,
        colour_plane_id: hdr.colour_plane_id,
        redundant_pic_cnt: hdr.redundant_pic_cnt,
        cabac_init_idc: hdr.cabac_init_idc,
        slice_qp_delta: hdr.slice_qp_delta,
        slice_qs_delta: hdr.slice_qs_delta,
        disable_deblocking_filter_idc: hdr.disable_deblocking_filter_idc,
        slice_alpha_c0_offset_div2: hdr.slice_alpha_c0_offset_div2,
        slice_beta_offset_div2: hdr.slice_beta_offset_div2,
        num_ref_idx_l0_active_minus1: hdr.num_ref_idx_l0_active_minus1,
        num_ref_idx_l1_active_minus1: hdr.num_ref_idx_l1_active_minus1,
        flags: if hdr.direct_spatial_mv_pred_flag {
            bindings::V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED
        } else {
            0
        } | if hdr.sp_for_switch_flag {
            bindings::V4L2_H264_SLICE_FLAG_SP_FOR_SWITCH
        } else {
            0
        },
        ..Default::default()
    }
}

/// Index of the DPB entry naming `pic` (its first field for a pair), or
/// 0xff, as GStreamer's `lookup_dpb_index`.
fn lookup_dpb_index(c: &bindings::v4l2_ctrl_h264_decode_params, dpb: &Dpb, id: PicId) -> u8 {
    let mut p = dpb.pic(id);
    if p.second_field {
        if let Some(o) = p.other_field.and_then(|o| dpb.get(o)) {
            p = o.clone();
        }
    }
    c.dpb
        .iter()
        .position(|e| {
            e.flags & bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE != 0
                && e.reference_ts == p.timestamp_ns
        })
        .map(|i| i as u8)
        .unwrap_or(0xff)
}

fn fields_ref(dpb: &Dpb, id: PicId, merge: bool) -> u8 {
    let p = dpb.pic(id);
    if merge && p.other_field.is_some() {
        return bindings::V4L2_H264_FRAME_REF as u8;
    }
    (match p.field() {
        Field::Frame => bindings::V4L2_H264_FRAME_REF,
        Field::Top => bindings::V4L2_H264_TOP_FIELD_REF,
        Field::Bottom => bindings::V4L2_H264_BOTTOM_FIELD_REF,
    }) as u8
}

/// Fills `ref_pic_list0/1` of `sp` from the final reference lists (8.2.4),
/// resolving each picture to its index in `dp.dpb`; unused entries are
/// 0xff/0xff (GStreamer memsets the lists to 0xff).
pub fn fill_references(
    sp: &mut bindings::v4l2_ctrl_h264_slice_params,
    dp: &bindings::v4l2_ctrl_h264_decode_params,
    dpb: &Dpb,
    cur_is_frame: bool,
    l0: &[Option<PicId>],
    l1: &[Option<PicId>],
) {
    let blank = bindings::v4l2_h264_reference {
        fields: 0xff,
        index: 0xff,
    };
    sp.ref_pic_list0 = [blank; 32];
    sp.ref_pic_list1 = [blank; 32];
    for (dst, src) in [(&mut sp.ref_pic_list0, l0), (&mut sp.ref_pic_list1, l1)] {
        for (i, e) in src.iter().enumerate().take(32) {
            if let Some(id) = e {
                dst[i].index = lookup_dpb_index(dp, dpb, *id);
                dst[i].fields = fields_ref(dpb, *id, cur_is_frame);
            }
        }
    }
}

/// `V4L2_CID_STATELESS_H264_PRED_WEIGHTS` from the slice's
/// pred_weight_table (all zero when the slice has none), l1 only for B slices.
pub fn pred_weights_ctrl(hdr: &SliceHeader, sps: &Sps) -> bindings::v4l2_ctrl_h264_pred_weights {
    let t = &hdr.pred_weight_table;
    let mut c = bindings::v4l2_ctrl_h264_pred_weights {
        luma_log2_weight_denom: t.luma_log2_weight_denom as u16,
        chroma_log2_weight_denom: t.chroma_log2_weight_denom as u16,
        ..Default::default()
    };
    let chroma = sps.chroma_array_type() != 0;
    let n0 = (hdr.num_ref_idx_l0_active_minus1 as usize + 1).min(32);
    for i in 0..n0 {
        c.weight_factors[0].luma_weight[i] = t.luma_weight_l0[i];
        c.weight_factors[0].luma_offset[i] = t.luma_offset_l0[i] as i16;
        if chroma {
            for j in 0..2 {
                c.weight_factors[0].chroma_weight[i][j] = t.chroma_weight_l0[i][j];
                c.weight_factors[0].chroma_offset[i][j] = t.chroma_offset_l0[i][j] as i16;
            }
        }
    }
    if !hdr.slice_type.is_b() {
        return c;
    }
    let n1 = (hdr.num_ref_idx_l1_active_minus1 as usize + 1).min(32);
    for i in 0..n1 {
        c.weight_factors[1].luma_weight[i] = t.luma_weight_l1[i];
        c.weight_factors[1].luma_offset[i] = t.luma_offset_l1[i];
        if chroma {
            for j in 0..2 {
                c.weight_factors[1].chroma_weight[i][j] = t.chroma_weight_l1[i][j];
                c.weight_factors[1].chroma_offset[i][j] = t.chroma_offset_l1[i][j] as i16;
            }
        }
    }
    c
}
