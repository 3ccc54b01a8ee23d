use super::*;
use crate::sys::{
    _VAPictureParameterBufferHEVC__bindgen_ty_1 as PicUnion,
    _VAPictureParameterBufferHEVC__bindgen_ty_1__bindgen_ty_1 as PicBits,
    _VAPictureParameterBufferHEVC__bindgen_ty_2 as ParsingUnion,
    _VAPictureParameterBufferHEVC__bindgen_ty_2__bindgen_ty_1 as ParsingBits,
    _VASliceParameterBufferHEVC__bindgen_ty_1 as LongUnion,
    _VASliceParameterBufferHEVC__bindgen_ty_1__bindgen_ty_1 as LongBits,
};
use vreq_core::DecodeJob;
use vreq_testkit::rbsp::RbspWriter as W;

/// 64x64 4:2:0 8-bit, CTB 16 (16 CTBs), POC LSB 8 bits, 2 SPS short-term
/// sets, long-term references with 1 SPS candidate, temporal MVP, SAO.
pub(crate) fn params() -> sys::VAPictureParameterBufferHEVC {
    let mut pic = PicBits::default();
    pic.set_chroma_format_idc(1);
    pic.set_pps_loop_filter_across_slices_enabled_flag(1);
    let mut parsing = ParsingBits::default();
    parsing.set_long_term_ref_pics_present_flag(1);
    parsing.set_sps_temporal_mvp_enabled_flag(1);
    parsing.set_sample_adaptive_offset_enabled_flag(1);
    let mut pp = sys::VAPictureParameterBufferHEVC {
        pic_width_in_luma_samples: 64,
        pic_height_in_luma_samples: 64,
        pic_fields: PicUnion { bits: pic },
        slice_parsing_fields: ParsingUnion { bits: parsing },
        sps_max_dec_pic_buffering_minus1: 4,
        log2_min_luma_coding_block_size_minus3: 0,
        log2_diff_max_min_luma_coding_block_size: 1,
        log2_max_pic_order_cnt_lsb_minus4: 4,
        num_short_term_ref_pic_sets: 2,
        num_long_term_ref_pic_sps: 1,
        ..Default::default()
    };
    pp.CurrPic.picture_id = 10;
    for r in &mut pp.ReferenceFrames {
        r.picture_id = sys::VA_INVALID_SURFACE;
        r.flags = sys::VA_PICTURE_HEVC_INVALID;
    }
    pp
}

fn long_flags(slice_type: u8, temporal_mvp: bool) -> LongUnion {
    let mut b = LongBits::default();
    b.set_slice_type(u32::from(slice_type));
    b.set_slice_temporal_mvp_enabled_flag(u32::from(temporal_mvp));
    b.set_slice_sao_luma_flag(1);
    LongUnion { fields: b }
}

/// Slice parameters of a slice of `len` bytes, every `RefPicList` entry 0xff.
pub(crate) fn slice_params_of(len: usize, slice_type: u8) -> sys::VASliceParameterBufferHEVC {
    sys::VASliceParameterBufferHEVC {
        slice_data_size: len as u32,
        slice_data_flag: sys::VA_SLICE_DATA_FLAG_ALL,
        RefPicList: [[0xff; 15]; 2],
        LongSliceFlags: long_flags(slice_type, false),
        ..Default::default()
    }
}

/// NAL unit header: type `t`, layer 0, temporal id 0.
fn nal_header(w: &mut W, t: u32) {
    w.u(1, 0).u(6, t).u(6, 0).u(3, 1);
}

/// An IDR_W_RADL I slice of [`params`] (header 16 + 14 bits + alignment).
pub(crate) fn idr_slice() -> Vec<u8> {
    let mut w = W::default();
    nal_header(&mut w, 19);
    w.u(1, 1).u(1, 0).ue(0); // first slice, no_output_of_prior_pics 0, pps 0
    w.ue(2); // slice_type I
    w.u(1, 1).u(1, 1); // slice_sao_luma, slice_sao_chroma
    w.se(3); // slice_qp_delta
    w.u(1, 1); // slice_loop_filter_across_slices_enabled_flag
    w.nal(&[0xa5, 0x00, 0x00, 0x01, 0x7e])
}

/// A TRAIL_R P slice: SPS set `idx` (`sps_flag`), or an explicit own set
/// {-1 used, -3 unused}; one explicit long-term entry (POC LSB 200, used,
/// MSB cycle 1); temporal MVP; 1 active reference.
pub(crate) fn p_slice(sps_flag: bool, idx: u32) -> (Vec<u8>, u32, u32) {
    let mut w = W::default();
    nal_header(&mut w, 1);
    w.u(1, 1).ue(0); // first slice, pps 0
    w.ue(1); // slice_type P
    w.u(8, 17); // slice_pic_order_cnt_lsb
    w.u(1, u32::from(sps_flag));
    let st_start = w.len();
    if sps_flag {
        w.u(1, idx); // short_term_ref_pic_set_idx: Ceil(Log2(2)) = 1 bit
    } else {
        w.u(1, 0); // inter_ref_pic_set_prediction_flag
        w.ue(2).ue(0); // 2 negative, 0 positive
        w.ue(0).u(1, 1); // -1, used
        w.ue(1).u(1, 0); // -3, not used
    }
    let st_bits = if sps_flag {
        0
    } else {
        (w.len() - st_start) as u32
    };
    let lt_start = w.len();
    w.ue(0); // num_long_term_sps (num_long_term_ref_pics_sps 1 > 0)
    w.ue(1); // num_long_term_pics
    w.u(8, 200).u(1, 1); // poc_lsb_lt, used_by_curr_pic_lt_flag
    w.u(1, 1).ue(1); // delta_poc_msb_present_flag, delta_poc_msb_cycle_lt
    let lt_bits = (w.len() - lt_start) as u32;
    w.u(1, 1); // slice_temporal_mvp_enabled_flag
    w.u(1, 1).u(1, 0); // sao luma, chroma
    w.u(1, 0); // num_ref_idx_active_override_flag
    w.ue(0); // collocated_ref_idx (l0 active 2 > 1)
    w.ue(2); // five_minus_max_num_merge_cand
    w.se(-2); // slice_qp_delta
    w.u(1, 0); // slice_loop_filter_across_slices_enabled_flag
    (w.nal(&[0x11, 0x22]), st_bits, lt_bits)
}

fn facts(st_rps_bits: u32) -> SliceFacts<'static> {
    SliceFacts {
        st_rps_bits,
        num_pic_total_curr: 2,
        num_ref_idx_active_minus1: [1, 0],
        known_num_delta_pocs: &[],
    }
}

#[test]
fn bit_fields_at_va_h_positions() {
    let mut pic = PicBits::default();
    pic.set_chroma_format_idc(2);
    pic.set_separate_colour_plane_flag(1);
    pic.set_scaling_list_enabled_flag(1);
    pic.set_weighted_bipred_flag(1);
    pic.set_tiles_enabled_flag(1);
    pic.set_pcm_loop_filter_disabled_flag(1);
    let mut parsing = ParsingBits::default();
    parsing.set_cabac_init_present_flag(1);
    parsing.set_pps_disable_deblocking_filter_flag(1);
    parsing.set_slice_segment_header_extension_present_flag(1);
    let mut pp = params();
    pp.pic_fields = PicUnion { bits: pic };
    pp.slice_parsing_fields = ParsingUnion { bits: parsing };
    let p = Picture::new(&pp);
    assert_eq!(
        p.pic,
        PicFields {
            chroma_format_idc: 2,
            separate_colour_plane_flag: true,
            scaling_list_enabled_flag: true,
            weighted_bipred_flag: true,
            tiles_enabled_flag: true,
            pcm_loop_filter_disabled_flag: true,
            ..Default::default()
        }
    );
    assert_eq!(p.pic.chroma_array_type(), 0);
    assert_eq!(
        p.parsing,
        SliceParsingFields {
            cabac_init_present_flag: true,
            pps_disable_deblocking_filter_flag: true,
            slice_segment_header_extension_present_flag: true,
            ..Default::default()
        }
    );
    let mut b = LongBits::default();
    b.set_dependent_slice_segment_flag(1);
    b.set_slice_type(1);
    b.set_color_plane_id(2);
    b.set_mvd_l1_zero_flag(1);
    b.set_collocated_from_l0_flag(1);
    b.set_slice_loop_filter_across_slices_enabled_flag(1);
    let sp = sys::VASliceParameterBufferHEVC {
        LongSliceFlags: LongUnion { fields: b },
        ..Default::default()
    };
    assert_eq!(
        LongSliceFlags::from_value(hevc_long_slice_flags(&sp)),
        LongSliceFlags {
            dependent_slice_segment_flag: true,
            slice_type: 1,
            color_plane_id: 2,
            mvd_l1_zero_flag: true,
            collocated_from_l0_flag: true,
            slice_loop_filter_across_slices_enabled_flag: true,
            ..Default::default()
        }
    );
}

#[test]
fn idr_header_sizes() {
    let pp = params();
    let pic = Picture::new(&pp);
    let h = read_slice_header(&idr_slice(), &pic, &facts(0)).unwrap();
    assert_eq!(h.nal_unit_type, 19);
    assert_eq!(h.nuh_temporal_id_plus1, 1);
    assert!(h.first_slice_segment_in_pic_flag);
    // 16 NAL header bits + 1+1+1+3+1+1+5+1 = 30, alignment to 32
    assert_eq!(h.header_bit_size, 32);
    assert_eq!((h.st_rps_bits, h.lt_rps_bits), (0, 0));
    assert!(h.collocated_from_l0_flag, "inferred 1 (7.4.7.1)");
}

#[test]
fn p_header_rps_sizes_and_long_term_entries() {
    let pp = params();
    let pic = Picture::new(&pp);
    let (nal, st_bits, lt_bits) = p_slice(false, 0);
    let h = read_slice_header(&nal, &pic, &facts(st_bits)).unwrap();
    assert_eq!(h.slice_type, 1);
    assert!(!h.short_term_ref_pic_set_sps_flag);
    assert_eq!((h.st_rps_bits, h.lt_rps_bits), (st_bits, lt_bits));
    assert_eq!(h.num_long_term_sps, 0);
    assert_eq!(
        h.long_term,
        [LongTermEntry {
            lt_idx_sps: None,
            poc_lsb_lt: 200,
            used_by_curr_pic_lt_flag: true,
            delta_poc_msb_present_flag: true,
            delta_poc_msb_cycle_lt: 1,
        }]
    );
    assert_eq!(h.header_bit_size % 8, 0);
    // the payload follows the header: its first byte is 0x11
    let rbsp = strip_emulation_prevention(&nal);
    assert_eq!(rbsp[h.header_bit_size as usize / 8], 0x11);

    let (nal, _, _) = p_slice(true, 1);
    let h = read_slice_header(&nal, &pic, &facts(0)).unwrap();
    assert!(h.short_term_ref_pic_set_sps_flag);
    assert_eq!((h.short_term_ref_pic_set_idx, h.st_rps_bits), (1, 0));
}

/// A slice whose own set is inter-predicted from SPS set 1 (delta_idx_minus1
/// 0) with `entries` (used_by_curr_pic_flag, use_delta_flag) pairs.
fn inter_rps_slice(entries: &[(bool, bool)]) -> (Vec<u8>, u32) {
    let mut w = W::default();
    nal_header(&mut w, 1);
    w.u(1, 1).ue(0).ue(2).u(8, 5).u(1, 0); // first, pps, I, poc lsb, own set
    let start = w.len();
    w.u(1, 1).ue(0).u(1, 1).ue(0); // inter, delta_idx_minus1, sign -, abs 0
    for &(used, use_delta) in entries {
        w.u(1, u32::from(used));
        if !used {
            w.u(1, u32::from(use_delta));
        }
    }
    let bits = (w.len() - start) as u32;
    w.ue(0).ue(0).u(1, 0); // long-term: none; temporal MVP 0
    w.u(1, 0).u(1, 0).se(0).u(1, 0); // sao, qp, loop filter
    (w.nal(&[0x80]), bits)
}

#[test]
fn inter_predicted_slice_set_counts_entries_from_st_rps_bits() {
    let pp = params();
    let pic = Picture::new(&pp);
    let (nal, bits) = inter_rps_slice(&[(true, true), (false, true), (false, false)]);
    let h = read_slice_header(&nal, &pic, &facts(bits)).unwrap();
    assert!(h.inter_ref_pic_set_prediction_flag);
    assert_eq!(h.num_delta_pocs_of_ref_rps_idx, 2);
    assert_eq!(h.st_rps_bits, bits);
    // VA's st_rps_bits 0 and nothing known: refused, not guessed
    assert_eq!(
        read_slice_header(&nal, &pic, &facts(0)),
        Err(SliceError::UnknownRefRps)
    );
    // known from an earlier picture
    let known = [None, Some(2)];
    let f = SliceFacts {
        known_num_delta_pocs: &known,
        ..facts(0)
    };
    assert_eq!(
        read_slice_header(&nal, &pic, &f)
            .unwrap()
            .num_delta_pocs_of_ref_rps_idx,
        2
    );
    // a wrong size does not end on an entry boundary or overruns: refused
    assert!(read_slice_header(&nal, &pic, &facts(bits + 1)).is_err());
}

#[test]
fn entry_points_and_truncation() {
    let mut pp = params();
    let mut pic_bits = PicBits::default();
    pic_bits.set_chroma_format_idc(1);
    pic_bits.set_entropy_coding_sync_enabled_flag(1);
    pp.pic_fields = PicUnion { bits: pic_bits };
    let pic = Picture::new(&pp);
    let mut w = W::default();
    nal_header(&mut w, 19);
    w.u(1, 1).u(1, 0).ue(0).ue(2).u(1, 0).u(1, 0).se(0); // no loop-filter flag: pps flag 0
    w.ue(3).ue(9); // 3 entry points of 10 bits
    for v in [100, 200, 1023] {
        w.u(10, v);
    }
    let nal = w.nal(&[0x42]);
    let h = read_slice_header(&nal, &pic, &facts(0)).unwrap();
    assert_eq!(h.num_entry_point_offsets, 3);
    assert_eq!(h.entry_point_offset_minus1, [100, 200, 1023]);
    for cut in 0..nal.len() - 1 {
        assert!(
            read_slice_header(&nal[..cut], &pic, &facts(0)).is_err(),
            "cut {cut}"
        );
    }
    // not a slice: a PPS NAL unit (type 34)
    assert_eq!(
        read_slice_header(&[0x44, 0x01, 0xc0], &pic, &facts(0)),
        Err(SliceError::NotASlice(34))
    );
}

/// `params` for a P picture with POC 8 into surface 10 whose
/// `ReferenceFrames` hold (slot order, as FFmpeg fills them): surface 3
/// POC 4 (ST_CURR_BEFORE), surface 1 POC 7 (ST_CURR_BEFORE), surface 2 POC
/// 12 (ST_CURR_AFTER), surface 4 POC 0 (short-term, not used), surface 5
/// POC 456 (long-term, LT_CURR).
fn p_picture() -> sys::VAPictureParameterBufferHEVC {
    let mut pp = params();
    pp.CurrPic.pic_order_cnt = 8;
    let refs = [
        (3, 4, sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE),
        (1, 7, sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE),
        (2, 12, sys::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER),
        (4, 0, 0),
        (
            5,
            456,
            sys::VA_PICTURE_HEVC_RPS_LT_CURR | sys::VA_PICTURE_HEVC_LONG_TERM_REFERENCE,
        ),
    ];
    for (i, (s, poc, flags)) in refs.into_iter().enumerate() {
        pp.ReferenceFrames[i] = VAPictureHEVC {
            picture_id: s,
            pic_order_cnt: poc,
            flags,
            ..Default::default()
        };
    }
    pp
}

/// Surface s was rendered as picture s: timestamp s·1000.
fn ts(s: VASurfaceID) -> Option<u64> {
    (s < 10).then_some(u64::from(s) * 1000)
}

#[test]
fn dpb_in_decode_order_and_curr_lists() {
    let pp = p_picture();
    let pic = Picture::new(&pp);
    let refs = dpb_refs(&pp, &ts);
    let order: Vec<i32> = refs.iter().map(|r| r.poc).collect();
    assert_eq!(order, [7, 12, 4, 0, 456], "surfaces 1..5 = decode order");
    let (nal, st, _) = p_slice(false, 0);
    let h = read_slice_header(&nal, &pic, &facts(st)).unwrap();
    let dp = decode_params(&pic, &h, &refs);
    assert_eq!(dp.pic_order_cnt_val, 8);
    assert_eq!(dp.num_active_dpb_entries, 5);
    assert_eq!(dp.dpb[0].timestamp, 1000);
    assert_eq!(
        dp.dpb[4].flags,
        bindings::V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE as u8
    );
    // StCurrBefore nearest first: POC 7 (dpb 0), POC 4 (dpb 2)
    assert_eq!(dp.num_poc_st_curr_before, 2);
    assert_eq!(&dp.poc_st_curr_before[..3], &[0, 2, 0xff]);
    assert_eq!((dp.num_poc_st_curr_after, dp.poc_st_curr_after[0]), (1, 1));
    assert_eq!((dp.num_poc_lt_curr, dp.poc_lt_curr[0]), (1, 4));
    assert_eq!(dp.short_term_ref_pic_set_size as u32, st);
    assert_eq!(dp.flags, 0);

    // RefPicList indexes ReferenceFrames (slot 1 = surface 1 = dpb 0)
    let mut sp = slice_params_of(nal.len(), 1);
    sp.num_ref_idx_l0_active_minus1 = 1;
    sp.RefPicList[0][0] = 1;
    sp.RefPicList[0][1] = 0;
    sp.RefPicList[1][0] = 2; // not a B slice: ignored
    let c = slice_params(&sp, &h, &pic, &refs, nal.len(), 3);
    assert_eq!(&c.ref_idx_l0[..3], &[0, 2, 0xff]);
    assert_eq!(c.ref_idx_l1[0], 0xff);
    assert_eq!(c.bit_size as usize, (nal.len() + 3) * 8);
    assert_eq!(c.data_byte_offset, h.header_bit_size / 8 + 3);
    assert_eq!(c.slice_pic_order_cnt, 8);
    // COLLOCATED_FROM_L0: inferred 1 for a P slice (7.4.7.1)
    assert_eq!(
        c.flags,
        u64::from(
            bindings::V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA
                | bindings::V4L2_HEVC_SLICE_PARAMS_FLAG_COLLOCATED_FROM_L0
        )
    );
}

#[test]
fn short_term_rps_and_ext_arrays_from_reference_frames() {
    let pp = p_picture();
    let pic = Picture::new(&pp);
    assert_eq!(
        short_term_rps(&pp),
        (vec![(-1, true), (-4, true), (-8, false)], vec![(4, true)])
    );
    let (nal, _, _) = p_slice(true, 1);
    let h = read_slice_header(&nal, &pic, &facts(0)).unwrap();
    let mut ext = ExtRps::default();
    let (st, lt) = ext.arrays(&pic, &h, None).unwrap();
    // every element holds the set the slice reads (index 1 here)
    assert_eq!(st.len(), 2);
    assert_eq!(st[0], st[1]);
    let e = &st[1];
    assert_eq!((e.num_negative_pics, e.num_positive_pics), (3, 1));
    // -1, -4, -8 → 0, 2, 3; +4 → 3
    assert_eq!(&e.delta_poc_s0_minus1[..3], &[0, 2, 3]);
    assert_eq!(e.delta_poc_s1_minus1[0], 3);
    assert_eq!(e.used_by_curr_pic, 0b1011);
    assert_eq!(e.flags, 0);
    assert_eq!(
        (ext.num_delta_pocs(0), ext.num_delta_pocs(1)),
        (None, Some(4))
    );
    // no SPS long-term candidate used: zeros (or the last array sent)
    assert_eq!(lt, [V4l2CtrlHevcExtSpsLtRps::default()]);
    let last = [V4l2CtrlHevcExtSpsLtRps {
        lt_ref_pic_poc_lsb_sps: 9,
        flags: 0,
    }];
    assert_eq!(ext.arrays(&pic, &h, Some(&last)).unwrap().1, last);
}

/// The explicit encoding is the inverse of the kernel's
/// `st_ref_pic_set_calculate` (7-67 … 7-70).
#[test]
fn st_element_round_trips_through_7_67_to_7_70() {
    let set: StSet = (
        vec![(-2, true), (-3, false), (-7, true)],
        vec![(1, false), (5, true)],
    );
    let e = st_element(&set);
    let mut s0 = Vec::new();
    let mut d = 0i32;
    for i in 0..usize::from(e.num_negative_pics) {
        d -= i32::from(e.delta_poc_s0_minus1[i]) + 1;
        s0.push((d, e.used_by_curr_pic >> i & 1 == 1));
    }
    let mut s1 = Vec::new();
    d = 0;
    let n0 = usize::from(e.num_negative_pics);
    for j in 0..usize::from(e.num_positive_pics) {
        d += i32::from(e.delta_poc_s1_minus1[j]) + 1;
        s1.push((d, e.used_by_curr_pic >> (n0 + j) & 1 == 1));
    }
    assert_eq!((s0, s1), set);
}

#[test]
fn ext_rps_refuses_what_va_cannot_tell() {
    let pp = p_picture();
    let pic = Picture::new(&pp);
    let (nal, bits) = inter_rps_slice(&[(true, true), (true, true)]);
    let h = read_slice_header(&nal, &pic, &facts(bits)).unwrap();
    // predicted from SPS set 1, never seen
    let mut ext = ExtRps::default();
    assert!(ext.arrays(&pic, &h, None).is_err());
    // once a picture named set 1, the prediction reads it
    let (p, _, _) = p_slice(true, 1);
    let hp = read_slice_header(&p, &pic, &facts(0)).unwrap();
    let (st1, _) = ext.arrays(&pic, &hp, None).unwrap();
    assert_eq!(ext.arrays(&pic, &h, None).unwrap().0, st1);
    // two SPS long-term candidates in one picture: order not recoverable
    let mut h2 = hp.clone();
    h2.long_term = vec![
        LongTermEntry {
            lt_idx_sps: Some(0),
            ..Default::default()
        };
        2
    ];
    assert!(ExtRps::default().arrays(&pic, &h2, None).is_err());
    // one SPS candidate: the long-term reference the explicit entry (LSB
    // 200 = POC 456) does not claim; here none is left: refused
    h2.long_term.truncate(1);
    h2.long_term.push(LongTermEntry {
        poc_lsb_lt: 200,
        used_by_curr_pic_lt_flag: true,
        ..Default::default()
    });
    assert!(ExtRps::default().arrays(&pic, &h2, None).is_err());
    // without the explicit entry POC 456 is the SPS candidate
    h2.long_term.truncate(1);
    assert_eq!(
        ExtRps::default().arrays(&pic, &h2, None).unwrap().1,
        [V4l2CtrlHevcExtSpsLtRps {
            lt_ref_pic_poc_lsb_sps: 200,
            flags: V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT,
        }]
    );
}

struct Cx {
    mode: DecodeMode,
    start_code: StartCode,
    ext: bool,
}

fn map_one(
    map: &mut HevcMap,
    pp: &sys::VAPictureParameterBufferHEVC,
    slices: &[(sys::VASliceParameterBufferHEVC, Vec<u8>)],
    cx: &Cx,
) -> Result<Mapped, MapError> {
    let params: Vec<Vec<u8>> = slices
        .iter()
        .map(|(p, _)| crate::ffi::bytes_of(p).to_vec())
        .collect();
    let rendered: Vec<RenderedSlice<'_>> = slices
        .iter()
        .zip(&params)
        .map(|((_, d), p)| RenderedSlice { params: p, data: d })
        .collect();
    let pic_bytes = crate::ffi::bytes_of(pp).to_vec();
    let r = Rendered {
        pic_params: &pic_bytes,
        iq: None,
        probability: None,
        slices: &rendered,
    };
    let ext = cx.ext;
    let has = move |id: u32| {
        ext || (id != uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS
            && id != uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS)
    };
    let mc = MapContext {
        profile: sys::VAProfileHEVCMain,
        mode: cx.mode,
        start_code: cx.start_code,
        timestamp_ns: 9000,
        timestamp_of: &ts,
        has_control: &has,
    };
    map.map(&r, &mc)
}

use super::super::RenderedSlice;

fn ids(j: &DecodeJob) -> Vec<u32> {
    j.controls.iter().map(Control::id).collect()
}

#[test]
fn requests_per_slice_and_per_frame() {
    use bindings::*;
    let pp = params();
    let idr = idr_slice();
    let two = [
        (slice_params_of(idr.len(), 2), idr.clone()),
        (slice_params_of(idr.len(), 2), idr.clone()),
    ];
    let sb = Cx {
        mode: DecodeMode::SliceBased,
        start_code: StartCode::None,
        ext: false,
    };
    let mut map = HevcMap::default();
    let m = map_one(&mut map, &pp, &two, &sb).unwrap();
    assert_eq!(m.jobs.len(), 2);
    assert_eq!(
        ids(&m.jobs[0]),
        [
            V4L2_CID_STATELESS_HEVC_SPS,
            V4L2_CID_STATELESS_HEVC_PPS,
            V4L2_CID_STATELESS_HEVC_SCALING_MATRIX,
            V4L2_CID_STATELESS_HEVC_DECODE_PARAMS,
            V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
        ]
    );
    assert_eq!(ids(&m.jobs[1]), [V4L2_CID_STATELESS_HEVC_SLICE_PARAMS]);
    assert!(m.jobs[0].hold_capture && !m.jobs[1].hold_capture);
    assert_eq!(m.jobs[0].bitstream, idr);
    assert_eq!(
        m.format,
        PictureFormat {
            coded_width: 64,
            coded_height: 64,
            bit_depth: 8,
            dpb_size: 5
        }
    );
    let Control::HevcDecodeParams(dp) = &m.jobs[0].controls[3] else {
        panic!()
    };
    assert_eq!(
        dp.flags,
        u64::from(V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC | V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC)
    );
    // same SPS: not sent again
    let m = map_one(&mut map, &pp, &two[..1], &sb).unwrap();
    assert_eq!(ids(&m.jobs[0])[0], V4L2_CID_STATELESS_HEVC_PPS);

    let fb = Cx {
        mode: DecodeMode::FrameBased,
        start_code: StartCode::AnnexB,
        ext: false,
    };
    let m = map_one(&mut HevcMap::default(), &pp, &two, &fb).unwrap();
    assert_eq!(m.jobs.len(), 1);
    let j = &m.jobs[0];
    assert!(!j.hold_capture);
    let mut want = vec![0, 0, 1];
    want.extend(&idr);
    want.extend([0, 0, 1]);
    want.extend(&idr);
    assert_eq!(j.bitstream, want);
    let Some(Control::HevcSliceParams(v)) = j.controls.last() else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].data_byte_offset, 4 + 3);
}

#[test]
fn ext_arrays_only_on_a_device_with_them_and_when_they_change() {
    use uapi_ext::*;
    let pp = p_picture();
    let (nal, _, _) = p_slice(true, 1);
    let mut sp = slice_params_of(nal.len(), 1);
    sp.LongSliceFlags = long_flags(1, true);
    sp.num_ref_idx_l0_active_minus1 = 1;
    let s = [(sp, nal)];
    let cx = |ext| Cx {
        mode: DecodeMode::SliceBased,
        start_code: StartCode::None,
        ext,
    };
    let m = map_one(&mut HevcMap::default(), &pp, &s, &cx(false)).unwrap();
    assert!(!ids(&m.jobs[0]).contains(&V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS));
    let mut map = HevcMap::default();
    let m = map_one(&mut map, &pp, &s, &cx(true)).unwrap();
    let i = ids(&m.jobs[0]);
    assert_eq!(
        &i[..3],
        &[
            bindings::V4L2_CID_STATELESS_HEVC_SPS,
            V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS,
            V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS,
        ]
    );
    let Control::HevcExtSpsStRps(st) = &m.jobs[0].controls[1] else {
        panic!()
    };
    assert_eq!((st[0].num_negative_pics, st[1].num_negative_pics), (3, 3));
    // unchanged: not sent again
    let m = map_one(&mut map, &pp, &s, &cx(true)).unwrap();
    assert_eq!(ids(&m.jobs[0])[0], bindings::V4L2_CID_STATELESS_HEVC_PPS);
    // a picture the arrays cannot describe: an error, nothing queued
    let (nal, bits) = inter_rps_slice(&[(true, true), (true, true)]);
    let mut pp2 = p_picture();
    pp2.st_rps_bits = bits;
    let s2 = [(slice_params_of(nal.len(), 2), nal)];
    assert!(matches!(
        map_one(&mut HevcMap::default(), &pp2, &s2, &cx(true)),
        Err(MapError::Unsupported(_))
    ));
    // without the extension the same picture maps
    assert!(map_one(&mut HevcMap::default(), &pp2, &s2, &cx(false)).is_ok());
}

#[test]
fn bad_slices_are_errors() {
    let pp = params();
    let idr = idr_slice();
    let sb = Cx {
        mode: DecodeMode::SliceBased,
        start_code: StartCode::None,
        ext: false,
    };
    let mut sp = slice_params_of(idr.len() + 1, 2);
    assert_eq!(
        map_one(&mut HevcMap::default(), &pp, &[(sp, idr.clone())], &sb).unwrap_err(),
        MapError::SliceData(0)
    );
    sp.slice_data_size = 3; // the header is 4 bytes
    assert!(matches!(
        map_one(&mut HevcMap::default(), &pp, &[(sp, idr.clone())], &sb),
        Err(MapError::Header(0, _))
    ));
    // a dependent slice segment first
    let mut w = W::default();
    nal_header(&mut w, 1);
    w.u(1, 0).ue(0); // not first
    let nal = w.nal(&[]);
    assert!(matches!(
        map_one(
            &mut HevcMap::default(),
            &pp,
            &[(slice_params_of(nal.len(), 2), nal)],
            &sb
        ),
        Err(MapError::Header(0, _))
    ));
    assert_eq!(
        map_one(&mut HevcMap::default(), &pp, &[], &sb).unwrap_err(),
        MapError::NoSlices
    );
}

#[test]
fn main10_bit_depth_and_format() {
    let mut pp = params();
    pp.bit_depth_luma_minus8 = 2;
    pp.bit_depth_chroma_minus8 = 2;
    let idr = idr_slice();
    let cx = Cx {
        mode: DecodeMode::FrameBased,
        start_code: StartCode::None,
        ext: false,
    };
    let m = map_one(
        &mut HevcMap::default(),
        &pp,
        &[(slice_params_of(idr.len(), 2), idr)],
        &cx,
    )
    .unwrap();
    assert_eq!(m.format.bit_depth, 10);
    let Control::HevcSps(s) = &m.jobs[0].controls[0] else {
        panic!()
    };
    assert_eq!((s.bit_depth_luma_minus8, s.bit_depth_chroma_minus8), (2, 2));
}

/// One GStreamer `ext_sps_st_rps[i]` line of a normalised trace, derived to
/// (DeltaPocS0, used) / (DeltaPocS1, used) lists (7-61 … 7-70, as the
/// kernel's `st_ref_pic_set_prediction` / `_calculate` do).
fn derive_golden_sets(lines: &[&str]) -> Vec<StSet> {
    let num = |v: &str, k: &str| -> Option<u32> {
        let rest = v.split(&format!("{k} ")).nth(1)?;
        rest.split_whitespace().next()?.parse().ok()
    };
    let hex = |v: &str, k: &str| -> u32 {
        let rest = v.split(&format!("{k} ")).nth(1).unwrap();
        u32::from_str_radix(rest.split_whitespace().next().unwrap(), 16).unwrap()
    };
    let arr = |v: &str, k: &str| -> Vec<i32> {
        let Some(rest) = v.split(&format!("{k} [")).nth(1) else {
            return vec![];
        };
        rest.split(']')
            .next()
            .unwrap()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect()
    };
    let mut out: Vec<StSet> = Vec::new();
    for v in lines {
        let used = hex(v, "used_by_curr_pic");
        if v.contains("INTER_REF_PIC_SET_PRED") {
            let r = &out[out.len() - (num(v, "delta_idx_minus1").unwrap() as usize + 1)];
            let d = (1 - 2 * num(v, "delta_rps_sign").unwrap() as i32)
                * (num(v, "abs_delta_rps_minus1").unwrap() as i32 + 1);
            let ud = hex(v, "use_delta_flag");
            let (r0, r1) = r.clone();
            let nd = r0.len() + r1.len();
            let (u, ok) = (|j: usize| used >> j & 1 == 1, |j: usize| ud >> j & 1 == 1);
            let (mut s0, mut s1) = (vec![], vec![]);
            for j in (0..r1.len()).rev() {
                let p = r1[j].0 + d;
                if p < 0 && ok(r0.len() + j) {
                    s0.push((p, u(r0.len() + j)));
                }
            }
            if d < 0 && ok(nd) {
                s0.push((d, u(nd)));
            }
            for (j, &(q, _)) in r0.iter().enumerate() {
                if q + d < 0 && ok(j) {
                    s0.push((q + d, u(j)));
                }
            }
            for j in (0..r0.len()).rev() {
                let p = r0[j].0 + d;
                if p > 0 && ok(j) {
                    s1.push((p, u(j)));
                }
            }
            if d > 0 && ok(nd) {
                s1.push((d, u(nd)));
            }
            for (j, &(q, _)) in r1.iter().enumerate() {
                if q + d > 0 && ok(r0.len() + j) {
                    s1.push((q + d, u(r0.len() + j)));
                }
            }
            out.push((s0, s1));
        } else {
            let (m0, m1) = (arr(v, "delta_poc_s0_minus1"), arr(v, "delta_poc_s1_minus1"));
            let mut p = 0;
            let s0 = m0
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    p -= m + 1;
                    (p, used >> k & 1 == 1)
                })
                .collect();
            p = 0;
            let s1 = m1
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    p += m + 1;
                    (p, used >> (m0.len() + k) & 1 == 1)
                })
                .collect();
            out.push((s0, s1));
        }
    }
    out
}

/// The claim the EXT_SPS_ST_RPS mapping rests on, on GStreamer 1.28.8's
/// real SPS arrays (tests/golden/hevc-sid/ext): for every non-IDR picture
/// whose slice names an SPS set (`short_term_ref_pic_set_size` 0), the set
/// rebuilt from what VA gives (`dpb[]` = ReferenceFrames with POCs, the
/// Curr lists = the RPS_* flags), encoded as we send it and decoded as the
/// kernel does, is one of the SPS's sets.
#[test]
fn rebuilt_rps_is_an_sps_set_of_the_sid_goldens() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/hevc-sid/ext"
    );
    let mut checked = 0;
    for name in [
        "generated-by-us--hevc-sps-rps.h265.norm",
        "generated-by-us--hevc-sps-rps-inter-lt.h265.norm",
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        let mut jobs: Vec<Vec<(String, String)>> = Vec::new();
        for line in text.lines().filter(|l| l.starts_with("job ")) {
            let (head, value) = line.split_once(" = ").unwrap_or((line, ""));
            let mut it = head.splitn(3, ' ');
            let (_, j, key) = (it.next(), it.next().unwrap(), it.next().unwrap_or(""));
            let j: usize = j.parse().unwrap();
            if jobs.len() <= j {
                jobs.resize(j + 1, Vec::new());
            }
            jobs[j].push((key.to_string(), value.to_string()));
        }
        let set_lines: Vec<&str> = jobs[0]
            .iter()
            .filter(|(k, _)| k.starts_with("ext_sps_st_rps["))
            .map(|(_, v)| v.as_str())
            .collect();
        let sets = derive_golden_sets(&set_lines);
        assert!(!sets.is_empty(), "{name}: no EXT_SPS_ST_RPS in job 0");
        let mut dpb: Vec<(String, String)> = Vec::new();
        for (j, job) in jobs.iter().enumerate() {
            let get = |k: &str| job.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
            if get("dpb").is_some() {
                dpb = job
                    .iter()
                    .filter(|(k, _)| k.starts_with("dpb["))
                    .cloned()
                    .collect();
            }
            let Some(poc) = get("decode_params.pic_order_cnt_val") else {
                continue;
            };
            if get("decode_params.flags").unwrap_or("").contains("IDR")
                || get("decode_params.short_term_ref_pic_set_size") != Some("0")
            {
                continue;
            }
            let mut pp = params();
            pp.CurrPic.pic_order_cnt = poc.parse().unwrap();
            for (i, (k, v)) in dpb.iter().enumerate() {
                let pic = &k[4..k.len() - 1]; // "pic N"
                let flag = |list: &str| job.iter().any(|(x, y)| x.starts_with(list) && y == pic);
                pp.ReferenceFrames[i] = VAPictureHEVC {
                    picture_id: i as u32,
                    pic_order_cnt: v.rsplit(' ').next().unwrap().parse().unwrap(),
                    flags: if v.contains("LONG_TERM") {
                        sys::VA_PICTURE_HEVC_LONG_TERM_REFERENCE
                    } else if flag("decode_params.poc_st_curr_before") {
                        sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE
                    } else if flag("decode_params.poc_st_curr_after") {
                        sys::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER
                    } else {
                        0
                    },
                    ..Default::default()
                };
            }
            // encoded as sent, decoded as st_ref_pic_set_calculate does
            let e = st_element(&short_term_rps(&pp));
            let n0 = usize::from(e.num_negative_pics);
            let mut d = 0;
            let s0: Vec<(i32, bool)> = (0..n0)
                .map(|i| {
                    d -= i32::from(e.delta_poc_s0_minus1[i]) + 1;
                    (d, e.used_by_curr_pic >> i & 1 == 1)
                })
                .collect();
            d = 0;
            let s1: Vec<(i32, bool)> = (0..usize::from(e.num_positive_pics))
                .map(|i| {
                    d += i32::from(e.delta_poc_s1_minus1[i]) + 1;
                    (d, e.used_by_curr_pic >> (n0 + i) & 1 == 1)
                })
                .collect();
            assert!(
                sets.contains(&(s0.clone(), s1.clone())),
                "{name} job {j}: rebuilt {s0:?} {s1:?} is none of the SPS's sets {sets:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 58, "non-IDR pictures naming an SPS set");
}

/// Hostile input: random picture / slice parameter bytes and mutated slice
/// data give `Ok` or `Err`, never a panic (overflowing POCs, counts past
/// the arrays, lengths past the data), on devices with and without the
/// EXT_SPS controls, slice- and frame-based.
#[test]
fn random_parameters_and_slices_never_panic() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (p, _, _) = p_slice(false, 0);
    let seeds = [
        idr_slice(),
        p,
        inter_rps_slice(&[(true, true), (false, true)]).0,
    ];
    for round in 0..3000 {
        let mut pp_bytes = crate::ffi::bytes_of(&p_picture()).to_vec();
        for _ in 0..(next() % 24) {
            let i = (next() as usize) % pp_bytes.len();
            pp_bytes[i] = next() as u8;
        }
        let pp: sys::VAPictureParameterBufferHEVC = picture_parameters(&pp_bytes).unwrap();
        let mut data = seeds[round % 3].clone();
        for _ in 0..(next() % 4) {
            let i = (next() as usize) % data.len();
            data[i] = next() as u8;
        }
        let mut sp_bytes =
            crate::ffi::bytes_of(&slice_params_of(data.len(), (next() % 3) as u8)).to_vec();
        for _ in 0..(next() % 8) {
            // past slice_data_size / offset / flag: those are checked elsewhere
            let i = 12 + (next() as usize) % (sp_bytes.len() - 12);
            sp_bytes[i] = next() as u8;
        }
        let sp = slice_parameters(&sp_bytes).unwrap();
        let cx = Cx {
            mode: if round % 2 == 0 {
                DecodeMode::SliceBased
            } else {
                DecodeMode::FrameBased
            },
            start_code: StartCode::AnnexB,
            ext: round % 4 < 2,
        };
        let _ = map_one(&mut HevcMap::default(), &pp, &[(sp, data)], &cx);
    }
}

/// A client's `num_ref_idx_l0_active_minus1` past 14 (the header does not
/// override it) is refused before it indexes a 15-entry list.
#[test]
fn reference_counts_past_the_lists_are_refused() {
    let mut pp = params();
    let mut pic_bits = PicBits::default();
    pic_bits.set_chroma_format_idc(1);
    pic_bits.set_weighted_pred_flag(1);
    pp.pic_fields = PicUnion { bits: pic_bits };
    let pic = Picture::new(&pp);
    let mut w = W::default();
    nal_header(&mut w, 1);
    w.u(1, 1).ue(0).ue(1).u(8, 3).u(1, 1).u(1, 0); // P, SPS set 0
    w.ue(0).ue(0); // no long-term
    w.u(1, 0).u(1, 0).u(1, 0); // temporal MVP 0, sao 0 0
    w.u(1, 0); // no override
    w.ue(0); // luma_log2_weight_denom
    w.se(0); // delta_chroma_log2_weight_denom
    for _ in 0..30 {
        w.u(1, 0); // luma_weight_l0_flag[0..15], chroma_weight_l0_flag[0..15]
    }
    w.ue(0).se(0); // five_minus_max_num_merge_cand, slice_qp_delta
    let nal = w.nal(&[0x80]);
    let f = SliceFacts {
        num_ref_idx_active_minus1: [200, 0],
        ..facts(0)
    };
    assert_eq!(
        read_slice_header(&nal, &pic, &f),
        Err(SliceError::Truncated)
    );
    let f = SliceFacts {
        num_ref_idx_active_minus1: [14, 0],
        ..facts(0)
    };
    assert!(read_slice_header(&nal, &pic, &f).is_ok());
}
