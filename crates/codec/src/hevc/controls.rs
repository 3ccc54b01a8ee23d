//! HEVC uAPI control structs (`V4L2_CID_STATELESS_HEVC_*`, uAPI
//! "ext-ctrls-codec-stateless.rst") for one picture / slice, and the RK3588
//! `EXT_SPS_ST_RPS` / `EXT_SPS_LT_RPS` arrays.
//!
//! Which field comes from which syntax element mirrors GStreamer's
//! `sys/v4l2codecs/gstv4l2codech265dec.c` (1.26.2 on visl; 1.28's
//! `fill_ext_sps_rps` for the extension).

use cros_codecs::codec::h265::parser::{Pps, ScalingLists, SliceHeader, SliceType, Sps};
use v4l2r::bindings;

use super::dpb::{ActiveRefs, RefPicSets};
use super::parser::{is_idr, is_irap, SpsRps};
use vreq_core::uapi_ext::{
    V4l2CtrlHevcExtSpsLtRps, V4l2CtrlHevcExtSpsStRps, V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT,
    V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED,
};

fn f(b: bool, v: u32) -> u64 {
    if b {
        u64::from(v)
    } else {
        0
    }
}

/// `V4L2_CID_STATELESS_HEVC_SPS` (7.3.2.2 syntax; the `[0]` entries of the
/// sub-layer arrays, as GStreamer).
pub fn sps_ctrl(sps: &Sps) -> bindings::v4l2_ctrl_hevc_sps {
    let mut c = bindings::v4l2_ctrl_hevc_sps {
        video_parameter_set_id: sps.video_parameter_set_id,
        seq_parameter_set_id: sps.seq_parameter_set_id,
        pic_width_in_luma_samples: sps.pic_width_in_luma_samples,
        pic_height_in_luma_samples: sps.pic_height_in_luma_samples,
        bit_depth_luma_minus8: sps.bit_depth_luma_minus8,
        bit_depth_chroma_minus8: sps.bit_depth_chroma_minus8,
        log2_max_pic_order_cnt_lsb_minus4: sps.log2_max_pic_order_cnt_lsb_minus4,
        sps_max_dec_pic_buffering_minus1: sps.max_dec_pic_buffering_minus1[0],
        sps_max_num_reorder_pics: sps.max_num_reorder_pics[0],
        sps_max_latency_increase_plus1: sps.max_latency_increase_plus1[0],
        log2_min_luma_coding_block_size_minus3: sps.log2_min_luma_coding_block_size_minus3,
        log2_diff_max_min_luma_coding_block_size: sps.log2_diff_max_min_luma_coding_block_size,
        log2_min_luma_transform_block_size_minus2: sps.log2_min_luma_transform_block_size_minus2,
        log2_diff_max_min_luma_transform_block_size: sps
            .log2_diff_max_min_luma_transform_block_size,
        max_transform_hierarchy_depth_inter: sps.max_transform_hierarchy_depth_inter,
        max_transform_hierarchy_depth_intra: sps.max_transform_hierarchy_depth_intra,
        num_short_term_ref_pic_sets: sps.num_short_term_ref_pic_sets,
        num_long_term_ref_pics_sps: sps.num_long_term_ref_pics_sps,
        chroma_format_idc: sps.chroma_format_idc,
        sps_max_sub_layers_minus1: sps.max_sub_layers_minus1,
        ..Default::default()
    };
    c.flags = f(
        sps.separate_colour_plane_flag,
        bindings::V4L2_HEVC_SPS_FLAG_SEPARATE_COLOUR_PLANE,
    ) | f(
        sps.scaling_list_enabled_flag,
        bindings::V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED,
    ) | f(
        sps.amp_enabled_flag,
        bindings::V4L2_HEVC_SPS_FLAG_AMP_ENABLED,
    ) | f(
        sps.sample_adaptive_offset_enabled_flag,
        bindings::V4L2_HEVC_SPS_FLAG_SAMPLE_ADAPTIVE_OFFSET,
    ) | f(
        sps.long_term_ref_pics_present_flag,
        bindings::V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT,
    ) | f(
        sps.temporal_mvp_enabled_flag,
        bindings::V4L2_HEVC_SPS_FLAG_SPS_TEMPORAL_MVP_ENABLED,
    ) | f(
        sps.strong_intra_smoothing_enabled_flag,
        bindings::V4L2_HEVC_SPS_FLAG_STRONG_INTRA_SMOOTHING_ENABLED,
    );
    if sps.pcm_enabled_flag {
        c.pcm_sample_bit_depth_luma_minus1 = sps.pcm_sample_bit_depth_luma_minus1;
        c.pcm_sample_bit_depth_chroma_minus1 = sps.pcm_sample_bit_depth_chroma_minus1;
        c.log2_min_pcm_luma_coding_block_size_minus3 =
            sps.log2_min_pcm_luma_coding_block_size_minus3;
        c.log2_diff_max_min_pcm_luma_coding_block_size =
            sps.log2_diff_max_min_pcm_luma_coding_block_size;
        c.flags |= u64::from(bindings::V4L2_HEVC_SPS_FLAG_PCM_ENABLED)
            | f(
                sps.pcm_loop_filter_disabled_flag,
                bindings::V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED,
            );
    }
    c
}

/// `V4L2_CID_STATELESS_HEVC_PPS` (7.3.2.3 syntax; tile sizes only with tiles).
pub fn pps_ctrl(pps: &Pps) -> bindings::v4l2_ctrl_hevc_pps {
    use bindings::*;
    let mut c = v4l2_ctrl_hevc_pps {
        pic_parameter_set_id: pps.pic_parameter_set_id,
        num_extra_slice_header_bits: pps.num_extra_slice_header_bits,
        num_ref_idx_l0_default_active_minus1: pps.num_ref_idx_l0_default_active_minus1,
        num_ref_idx_l1_default_active_minus1: pps.num_ref_idx_l1_default_active_minus1,
        init_qp_minus26: pps.init_qp_minus26,
        diff_cu_qp_delta_depth: pps.diff_cu_qp_delta_depth,
        pps_cb_qp_offset: pps.cb_qp_offset,
        pps_cr_qp_offset: pps.cr_qp_offset,
        pps_beta_offset_div2: pps.beta_offset_div2,
        pps_tc_offset_div2: pps.tc_offset_div2,
        log2_parallel_merge_level_minus2: pps.log2_parallel_merge_level_minus2,
        ..Default::default()
    };
    c.flags = f(
        pps.dependent_slice_segments_enabled_flag,
        V4L2_HEVC_PPS_FLAG_DEPENDENT_SLICE_SEGMENT_ENABLED,
    ) | f(
        pps.output_flag_present_flag,
        V4L2_HEVC_PPS_FLAG_OUTPUT_FLAG_PRESENT,
    ) | f(
        pps.sign_data_hiding_enabled_flag,
        V4L2_HEVC_PPS_FLAG_SIGN_DATA_HIDING_ENABLED,
    ) | f(
        pps.cabac_init_present_flag,
        V4L2_HEVC_PPS_FLAG_CABAC_INIT_PRESENT,
    ) | f(
        pps.constrained_intra_pred_flag,
        V4L2_HEVC_PPS_FLAG_CONSTRAINED_INTRA_PRED,
    ) | f(
        pps.transform_skip_enabled_flag,
        V4L2_HEVC_PPS_FLAG_TRANSFORM_SKIP_ENABLED,
    ) | f(
        pps.cu_qp_delta_enabled_flag,
        V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED,
    ) | f(
        pps.slice_chroma_qp_offsets_present_flag,
        V4L2_HEVC_PPS_FLAG_PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT,
    ) | f(pps.weighted_pred_flag, V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED)
        | f(pps.weighted_bipred_flag, V4L2_HEVC_PPS_FLAG_WEIGHTED_BIPRED)
        | f(
            pps.transquant_bypass_enabled_flag,
            V4L2_HEVC_PPS_FLAG_TRANSQUANT_BYPASS_ENABLED,
        )
        | f(pps.tiles_enabled_flag, V4L2_HEVC_PPS_FLAG_TILES_ENABLED)
        | f(
            pps.entropy_coding_sync_enabled_flag,
            V4L2_HEVC_PPS_FLAG_ENTROPY_CODING_SYNC_ENABLED,
        )
        | f(
            pps.loop_filter_across_tiles_enabled_flag,
            V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED,
        )
        | f(
            pps.loop_filter_across_slices_enabled_flag,
            V4L2_HEVC_PPS_FLAG_PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED,
        )
        | f(
            pps.deblocking_filter_override_enabled_flag,
            V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_OVERRIDE_ENABLED,
        )
        | f(
            pps.deblocking_filter_disabled_flag,
            V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER,
        )
        | f(
            pps.lists_modification_present_flag,
            V4L2_HEVC_PPS_FLAG_LISTS_MODIFICATION_PRESENT,
        )
        | f(
            pps.slice_segment_header_extension_present_flag,
            V4L2_HEVC_PPS_FLAG_SLICE_SEGMENT_HEADER_EXTENSION_PRESENT,
        )
        | f(
            pps.deblocking_filter_control_present_flag,
            V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT,
        )
        | f(pps.uniform_spacing_flag, V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING);
    if pps.tiles_enabled_flag {
        c.num_tile_columns_minus1 = pps.num_tile_columns_minus1;
        c.num_tile_rows_minus1 = pps.num_tile_rows_minus1;
        for i in 0..=(pps.num_tile_columns_minus1 as usize).min(19) {
            c.column_width_minus1[i] = pps.column_width_minus1[i] as u8;
        }
        for i in 0..=(pps.num_tile_rows_minus1 as usize).min(20) {
            c.row_height_minus1[i] = pps.row_height_minus1[i] as u8;
        }
    }
    c
}

/// Up-right diagonal scan (6.5.3) of a `blk`x`blk` block: scan index → raster index.
fn diag_scan(blk: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(blk * blk);
    let (mut x, mut y) = (0i32, 0i32);
    let b = blk as i32;
    while out.len() < blk * blk {
        while y >= 0 {
            if x < b && y < b {
                out.push((y * b + x) as usize);
            }
            y -= 1;
            x += 1;
        }
        y = x;
        x = 0;
    }
    out
}

/// `V4L2_CID_STATELESS_HEVC_SCALING_MATRIX` from the PPS list, else the SPS
/// list (the lists in raster order; zero when scaling lists are disabled,
/// as GStreamer). cros-codecs keeps the coded (diagonal) order; the
/// 32x32 lists are matrixId 0 and 3.
pub fn scaling_matrix(pps: &Pps) -> bindings::v4l2_ctrl_hevc_scaling_matrix {
    let mut m = bindings::v4l2_ctrl_hevc_scaling_matrix::default();
    let sps = &pps.sps;
    if !sps.scaling_list_enabled_flag {
        return m;
    }
    let sl: &ScalingLists = if pps.scaling_list_data_present_flag {
        &pps.scaling_list
    } else if sps.scaling_list_data_present_flag {
        &sps.scaling_list
    } else {
        &pps.scaling_list
    };
    let d4 = diag_scan(4);
    let d8 = diag_scan(8);
    for i in 0..6 {
        for (k, &r) in d4.iter().enumerate() {
            m.scaling_list_4x4[i][r] = sl.scaling_list_4x4[i][k];
        }
        for (k, &r) in d8.iter().enumerate() {
            m.scaling_list_8x8[i][r] = sl.scaling_list_8x8[i][k];
            m.scaling_list_16x16[i][r] = sl.scaling_list_16x16[i][k];
        }
        m.scaling_list_dc_coef_16x16[i] = (sl.scaling_list_dc_coef_minus8_16x16[i] + 8) as u8;
    }
    for (j, i) in [0usize, 3].into_iter().enumerate() {
        for (k, &r) in d8.iter().enumerate() {
            m.scaling_list_32x32[j][r] = sl.scaling_list_32x32[i][k];
        }
        m.scaling_list_dc_coef_32x32[j] = (sl.scaling_list_dc_coef_minus8_32x32[i] + 8) as u8;
    }
    m
}

/// `V4L2_CID_STATELESS_HEVC_DECODE_PARAMS` of the picture whose first slice
/// has header `hdr` and NAL unit type `nal_unit_type`, with
/// `PicOrderCntVal` `poc`, RPS `refs` ([`super::dpb::derive_and_mark`])
/// and `dpb[]` / "Curr" lists `active` ([`super::dpb::active_refs`], 8.3.3
/// stand-ins included; an empty list entry is 0xff), as GStreamer 1.26.2's
/// `gst_v4l2_codec_h265_dec_fill_decode_params` fills it.
/// `short_term_ref_pic_set_size` / `long_term_ref_pic_set_size` are left 0:
/// the caller sets them from the first slice.
pub fn decode_params(
    hdr: &SliceHeader,
    sps: &Sps,
    nal_unit_type: u8,
    poc: i32,
    refs: &RefPicSets,
    active: &ActiveRefs,
) -> bindings::v4l2_ctrl_hevc_decode_params {
    let mut dp = bindings::v4l2_ctrl_hevc_decode_params {
        pic_order_cnt_val: poc,
        num_poc_st_curr_before: refs.st_curr_before.len() as u8,
        num_poc_st_curr_after: refs.st_curr_after.len() as u8,
        num_poc_lt_curr: refs.lt_curr.len() as u8,
        ..Default::default()
    };
    if !hdr.short_term_ref_pic_set_sps_flag
        && hdr.short_term_ref_pic_set.inter_ref_pic_set_prediction_flag
    {
        let ref_idx = usize::from(sps.num_short_term_ref_pic_sets)
            .checked_sub(usize::from(hdr.short_term_ref_pic_set.delta_idx_minus1) + 1);
        if let Some(r) = ref_idx.and_then(|i| sps.short_term_ref_pic_set.get(i)) {
            dp.num_delta_pocs_of_ref_rps_idx = r.num_delta_pocs as u8;
        }
    }
    dp.flags = f(
        is_irap(nal_unit_type),
        bindings::V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC,
    ) | f(
        is_idr(nal_unit_type),
        bindings::V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC,
    ) | f(
        hdr.no_output_of_prior_pics_flag,
        bindings::V4L2_HEVC_DECODE_PARAM_FLAG_NO_OUTPUT_OF_PRIOR,
    );
    for (e, d) in active.entries.iter().zip(dp.dpb.iter_mut()) {
        *d = bindings::v4l2_hevc_dpb_entry {
            timestamp: e.timestamp_ns,
            flags: if e.long_term {
                bindings::V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE as u8
            } else {
                0
            },
            field_pic: 0,
            pic_order_cnt_val: e.poc,
            ..Default::default()
        };
    }
    dp.num_active_dpb_entries = active.entries.len().min(dp.dpb.len()) as u8;
    for i in 0..16 {
        let at = |l: &[Option<u8>]| l.get(i).copied().flatten().unwrap_or(0xff);
        dp.poc_st_curr_before[i] = at(&active.st_curr_before);
        dp.poc_st_curr_after[i] = at(&active.st_curr_after);
        dp.poc_lt_curr[i] = at(&active.lt_curr);
    }
    dp
}

/// `V4L2_CID_STATELESS_HEVC_SLICE_PARAMS` for one slice segment, without
/// `ref_idx_l0/l1` (see [`super::HevcCodec`]). `nal_len` is the NAL unit's
/// size with its header, `sc` the start code bytes prefixed (0 or 3),
/// `poc` the picture's `PicOrderCntVal`.
#[allow(clippy::too_many_arguments)]
pub fn slice_params(
    hdr: &SliceHeader,
    pps: &Pps,
    nal_unit_type: u8,
    temporal_id_plus1: u8,
    nal_len: usize,
    sc: usize,
    poc: i32,
    lt_size: u32,
) -> bindings::v4l2_ctrl_hevc_slice_params {
    use bindings::*;
    let mut p = v4l2_ctrl_hevc_slice_params {
        bit_size: ((nal_len + sc) * 8) as u32,
        data_byte_offset: hdr.header_bit_size / 8 + sc as u32,
        num_entry_point_offsets: hdr.num_entry_point_offsets,
        nal_unit_type,
        nuh_temporal_id_plus1: temporal_id_plus1,
        slice_type: hdr.type_ as u8,
        colour_plane_id: hdr.colour_plane_id,
        slice_pic_order_cnt: poc,
        num_ref_idx_l0_active_minus1: hdr.num_ref_idx_l0_active_minus1,
        num_ref_idx_l1_active_minus1: hdr.num_ref_idx_l1_active_minus1,
        collocated_ref_idx: hdr.collocated_ref_idx,
        five_minus_max_num_merge_cand: hdr.five_minus_max_num_merge_cand,
        slice_qp_delta: hdr.qp_delta,
        slice_cb_qp_offset: hdr.cb_qp_offset,
        slice_cr_qp_offset: hdr.cr_qp_offset,
        slice_act_y_qp_offset: hdr.slice_act_y_qp_offset,
        slice_act_cb_qp_offset: hdr.slice_act_cb_qp_offset,
        slice_act_cr_qp_offset: hdr.slice_act_cr_qp_offset,
        slice_beta_offset_div2: hdr.beta_offset_div2,
        slice_tc_offset_div2: hdr.tc_offset_div2,
        pic_struct: 0,
        slice_segment_addr: hdr.segment_address,
        short_term_ref_pic_set_size: hdr.st_rps_bits as u16,
        long_term_ref_pic_set_size: lt_size as u16,
        ..Default::default()
    };
    p.ref_idx_l0 = [0xff; 16];
    p.ref_idx_l1 = [0xff; 16];
    let pw = &hdr.pred_weight_table;
    p.pred_weight_table.luma_log2_weight_denom = pw.luma_log2_weight_denom;
    p.pred_weight_table.delta_chroma_log2_weight_denom = pw.delta_chroma_log2_weight_denom;
    p.flags = f(
        hdr.sao_luma_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA,
    ) | f(
        hdr.sao_chroma_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_CHROMA,
    ) | f(
        hdr.temporal_mvp_enabled_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_TEMPORAL_MVP_ENABLED,
    ) | f(
        hdr.mvd_l1_zero_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_MVD_L1_ZERO,
    ) | f(hdr.cabac_init_flag, V4L2_HEVC_SLICE_PARAMS_FLAG_CABAC_INIT)
        | f(
            hdr.collocated_from_l0_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_COLLOCATED_FROM_L0,
        )
        | f(
            hdr.use_integer_mv_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_USE_INTEGER_MV,
        )
        | f(
            hdr.deblocking_filter_disabled_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_DEBLOCKING_FILTER_DISABLED,
        )
        | f(
            hdr.loop_filter_across_slices_enabled_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED,
        )
        | f(
            hdr.dependent_slice_segment_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT,
        );
    let is_p = matches!(hdr.type_, SliceType::P);
    let is_b = matches!(hdr.type_, SliceType::B);
    if !((pps.weighted_pred_flag && is_p) || (pps.weighted_bipred_flag && is_b)) {
        return p;
    }
    // 7-56 with WpOffsetHalfRangeC = 1 << 7 (8-bit offsets, as GStreamer).
    let half = 1i32 << 7;
    let denom = i32::from(pw.luma_log2_weight_denom) + i32::from(pw.delta_chroma_log2_weight_denom);
    let chroma = pps.sps.chroma_array_type != 0;
    let t = &mut p.pred_weight_table;
    let chroma_offset = |dw: i8, doff: i16| -> i8 {
        let w = (1i32 << denom.clamp(0, 7)) + i32::from(dw);
        let o = half + i32::from(doff) - ((half * w) >> denom.clamp(0, 7));
        o.clamp(-half, half - 1) as i8
    };
    for i in 0..=(hdr.num_ref_idx_l0_active_minus1 as usize).min(14) {
        if pw.luma_weight_l0_flag[i] {
            t.delta_luma_weight_l0[i] = pw.delta_luma_weight_l0[i];
            t.luma_offset_l0[i] = pw.luma_offset_l0[i];
        }
        if chroma && pw.chroma_weight_l0_flag[i] {
            for j in 0..2 {
                t.delta_chroma_weight_l0[i][j] = pw.delta_chroma_weight_l0[i][j];
                t.chroma_offset_l0[i][j] = chroma_offset(
                    pw.delta_chroma_weight_l0[i][j],
                    pw.delta_chroma_offset_l0[i][j],
                );
            }
        }
    }
    if !is_b {
        return p;
    }
    let t = &mut p.pred_weight_table;
    for i in 0..=(hdr.num_ref_idx_l1_active_minus1 as usize).min(14) {
        if pw.luma_weight_l1_flag[i] {
            t.delta_luma_weight_l1[i] = pw.delta_luma_weight_l1[i];
            t.luma_offset_l1[i] = pw.luma_offset_l1[i];
        }
        if chroma && pw.chroma_weight_l1_flag[i] {
            for j in 0..2 {
                t.delta_chroma_weight_l1[i][j] = pw.delta_chroma_weight_l1[i][j];
                t.chroma_offset_l1[i][j] = chroma_offset(
                    pw.delta_chroma_weight_l1[i][j],
                    pw.delta_chroma_offset_l1[i][j],
                );
            }
        }
    }
    p
}

/// `V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS`: one element per SPS
/// `st_ref_pic_set(i)`, filled as GStreamer 1.28.8 fills them
/// (tests/vm/sid/REPORT.md §3): explicit sets carry the coded
/// `delta_poc_s*_minus1`, `used_by_curr_pic` bits S0 then S1 and
/// `use_delta_flag` 0xffff; inter-predicted sets carry the raw syntax
/// (sign, `abs_delta_rps_minus1`, per-j bitmasks of the first 16 j),
/// derived `num_*_pics` and zero delta arrays. Fresh arrays per SPS
/// (GStreamer 1.28 ORs into arrays it never clears, which only matters
/// when an SPS change shrinks a bitmask).
pub fn ext_sps_st_rps(sps: &Sps, raw: &SpsRps) -> Vec<V4l2CtrlHevcExtSpsStRps> {
    let mut out = Vec::new();
    for (i, s) in raw.st.iter().enumerate().take(64) {
        let derived = &sps.short_term_ref_pic_set[i];
        let mut e = V4l2CtrlHevcExtSpsStRps {
            num_negative_pics: derived.num_negative_pics,
            num_positive_pics: derived.num_positive_pics,
            ..Default::default()
        };
        for (j, &u) in s.used_by_curr_pic_flag.iter().enumerate().take(16) {
            e.used_by_curr_pic |= u32::from(u) << j;
        }
        if s.inter_ref_pic_set_prediction_flag {
            e.flags |= V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED;
            e.delta_idx_minus1 = s.delta_idx_minus1 as u8;
            e.delta_rps_sign = s.delta_rps_sign as u8;
            e.abs_delta_rps_minus1 = s.abs_delta_rps_minus1 as u16;
            e.use_delta_flag = 0xffff;
            for (j, &u) in s.use_delta_flag.iter().enumerate().take(16) {
                if !u {
                    e.use_delta_flag &= !(1 << j);
                }
            }
        } else {
            e.use_delta_flag = 0xffff;
            for (k, &d) in s.delta_poc_s0_minus1.iter().enumerate().take(16) {
                e.delta_poc_s0_minus1[k] = d as u16;
            }
            for (k, &d) in s.delta_poc_s1_minus1.iter().enumerate().take(16) {
                e.delta_poc_s1_minus1[k] = d as u16;
            }
        }
        out.push(e);
    }
    out
}

/// `V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS`: one element per SPS long-term candidate.
pub fn ext_sps_lt_rps(raw: &SpsRps) -> Vec<V4l2CtrlHevcExtSpsLtRps> {
    raw.lt
        .iter()
        .map(|&(lsb, used)| V4l2CtrlHevcExtSpsLtRps {
            lt_ref_pic_poc_lsb_sps: lsb as u16,
            flags: if used {
                V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT
            } else {
                0
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_scan_matches_6_5_3() {
        // Table 6-5 style: 4x4 up-right diagonal
        assert_eq!(
            diag_scan(4),
            vec![0, 4, 1, 8, 5, 2, 12, 9, 6, 3, 13, 10, 7, 14, 11, 15]
        );
        let d8 = diag_scan(8);
        assert_eq!(&d8[..6], &[0, 8, 1, 16, 9, 2]);
        let mut s = d8.clone();
        s.sort();
        assert_eq!(s, (0..64).collect::<Vec<_>>());
    }
}
