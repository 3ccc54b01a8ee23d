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

/// Writes H.265 syntax (u(n), ue(v), se(v)) MSB first, then the NAL with
/// emulation prevention bytes inserted.
#[derive(Default)]
pub(crate) struct W {
    bits: Vec<bool>,
}

impl W {
    pub(crate) fn u(&mut self, n: u32, v: u32) -> &mut Self {
        for i in (0..n).rev() {
            self.bits.push(v >> i & 1 == 1);
        }
        self
    }
    pub(crate) fn ue(&mut self, v: u32) -> &mut Self {
        let x = u64::from(v) + 1;
        let len = 64 - x.leading_zeros();
        for _ in 0..len - 1 {
            self.bits.push(false);
        }
        for i in (0..len).rev() {
            self.bits.push(x >> i & 1 == 1);
        }
        self
    }
    pub(crate) fn se(&mut self, v: i32) -> &mut Self {
        let k = if v > 0 { 2 * v - 1 } else { -2 * v };
        self.ue(k as u32)
    }
    fn len(&self) -> usize {
        self.bits.len()
    }
    /// byte_alignment() (1, then zeros), then `payload` bytes of slice
    /// data, with emulation prevention.
    pub(crate) fn slice_nal(&self, payload: &[u8]) -> Vec<u8> {
        let mut bits = self.bits.clone();
        bits.push(true);
        while !bits.len().is_multiple_of(8) {
            bits.push(false);
        }
        let mut rbsp: Vec<u8> = bits
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |a, &b| a << 1 | b as u8))
            .collect();
        rbsp.extend_from_slice(payload);
        let mut out = Vec::new();
        let mut zeros = 0;
        for b in rbsp {
            if zeros >= 2 && b <= 3 {
                out.push(3);
                zeros = 0;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            out.push(b);
        }
        out
    }
}

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
    w.slice_nal(&[0xa5, 0x00, 0x00, 0x01, 0x7e])
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
    (w.slice_nal(&[0x11, 0x22]), st_bits, lt_bits)
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
    let rbsp = Bits::new(&nal).rbsp;
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
    (w.slice_nal(&[0x80]), bits)
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
    let nal = w.slice_nal(&[0x42]);
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
    ext.learn(&pic, &h).unwrap();
    let st = ext.st_elements();
    assert_eq!(st.len(), 2);
    assert_eq!(
        st[0].num_negative_pics + st[0].num_positive_pics,
        0,
        "not seen: empty"
    );
    let e = &st[1];
    assert_eq!((e.num_negative_pics, e.num_positive_pics), (3, 1));
    // -1, -4, -8 → 0, 2, 3; +4 → 3
    assert_eq!(&e.delta_poc_s0_minus1[..3], &[0, 2, 3]);
    assert_eq!(e.delta_poc_s1_minus1[0], 3);
    assert_eq!(e.used_by_curr_pic, 0b1011);
    assert_eq!(e.flags, 0);
    assert_eq!(ext.num_delta_pocs(1), Some(4));
    assert_eq!(ext.lt_elements(), [V4l2CtrlHevcExtSpsLtRps::default()]);
}

#[test]
fn ext_rps_refuses_what_va_cannot_tell() {
    let pp = p_picture();
    let pic = Picture::new(&pp);
    let (nal, bits) = inter_rps_slice(&[(true, true), (true, true)]);
    let h = read_slice_header(&nal, &pic, &facts(bits)).unwrap();
    // predicted from SPS set 1, never seen
    assert!(ExtRps::default().learn(&pic, &h).is_err());
    // two SPS long-term candidates in one picture: order not recoverable
    let mut h2 = h.clone();
    h2.inter_ref_pic_set_prediction_flag = false;
    h2.long_term = vec![
        LongTermEntry {
            lt_idx_sps: Some(0),
            ..Default::default()
        };
        2
    ];
    assert!(ExtRps::default().learn(&pic, &h2).is_err());
    // one SPS candidate: the unclaimed long-term reference (POC 456 → LSB 200)
    h2.long_term.truncate(1);
    let mut ext = ExtRps::default();
    ext.learn(&pic, &h2).unwrap();
    assert_eq!(
        ext.lt_elements(),
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
    assert_eq!(st[1].num_negative_pics, 3);
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
    let nal = w.slice_nal(&[]);
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
