use super::*;
use crate::ffi::read_element;
use crate::sys::{
    _VAPictureParameterBufferH264__bindgen_ty_1 as SeqUnion,
    _VAPictureParameterBufferH264__bindgen_ty_1__bindgen_ty_1 as SeqBits,
    _VAPictureParameterBufferH264__bindgen_ty_2 as PicUnion,
    _VAPictureParameterBufferH264__bindgen_ty_2__bindgen_ty_1 as PicBits,
};
use vreq_testkit::rbsp::RbspWriter as W;

pub(crate) fn params(seq: SeqBits, pic: PicBits) -> sys::VAPictureParameterBufferH264 {
    let mut pp = sys::VAPictureParameterBufferH264 {
        CurrPic: Default::default(),
        ReferenceFrames: [Default::default(); 16],
        picture_width_in_mbs_minus1: 3,
        picture_height_in_mbs_minus1: 2,
        bit_depth_luma_minus8: 0,
        bit_depth_chroma_minus8: 0,
        num_ref_frames: 2,
        seq_fields: SeqUnion { bits: seq },
        num_slice_groups_minus1: 0,
        slice_group_map_type: 0,
        slice_group_change_rate_minus1: 0,
        pic_init_qp_minus26: -3,
        pic_init_qs_minus26: 0,
        chroma_qp_index_offset: 1,
        second_chroma_qp_index_offset: 1,
        pic_fields: PicUnion { bits: pic },
        frame_num: 0,
        va_reserved: [0; 8],
    };
    pp.CurrPic.picture_id = 10;
    for r in &mut pp.ReferenceFrames {
        r.picture_id = sys::VA_INVALID_SURFACE;
        r.flags = sys::VA_PICTURE_H264_INVALID;
    }
    pp
}

/// 4:2:0 progressive, log2_max_frame_num 4, POC type 0 with 6-bit lsb,
/// CABAC, weighted P prediction, deblocking control present.
pub(crate) fn seq_pic() -> (SeqBits, PicBits) {
    let mut s = SeqBits::default();
    s.set_chroma_format_idc(1);
    s.set_frame_mbs_only_flag(1);
    s.set_direct_8x8_inference_flag(1);
    s.set_log2_max_frame_num_minus4(0);
    s.set_pic_order_cnt_type(0);
    s.set_log2_max_pic_order_cnt_lsb_minus4(2);
    let mut p = PicBits::default();
    p.set_entropy_coding_mode_flag(1);
    p.set_weighted_pred_flag(1);
    p.set_deblocking_filter_control_present_flag(1);
    p.set_transform_8x8_mode_flag(1);
    p.set_reference_pic_flag(1);
    (s, p)
}

#[test]
fn bit_fields_at_va_h_positions() {
    // Every field set to a distinct value through bindgen's setters (va.h's
    // bit field layout), read back through our decoding of `value`.
    let mut s = SeqBits::default();
    s.set_chroma_format_idc(3);
    s.set_residual_colour_transform_flag(1);
    s.set_gaps_in_frame_num_value_allowed_flag(1);
    s.set_mb_adaptive_frame_field_flag(1);
    s.set_log2_max_frame_num_minus4(9);
    s.set_pic_order_cnt_type(2);
    s.set_log2_max_pic_order_cnt_lsb_minus4(5);
    s.set_delta_pic_order_always_zero_flag(1);
    let mut p = PicBits::default();
    p.set_weighted_bipred_idc(2);
    p.set_field_pic_flag(1);
    p.set_pic_order_present_flag(1);
    p.set_redundant_pic_cnt_present_flag(1);
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    assert_eq!(
        pic.seq,
        SeqFields {
            chroma_format_idc: 3,
            separate_colour_plane_flag: true,
            gaps_in_frame_num_value_allowed_flag: true,
            frame_mbs_only_flag: false,
            mb_adaptive_frame_field_flag: true,
            direct_8x8_inference_flag: false,
            log2_max_frame_num_minus4: 9,
            pic_order_cnt_type: 2,
            log2_max_pic_order_cnt_lsb_minus4: 5,
            delta_pic_order_always_zero_flag: true,
        }
    );
    assert_eq!(
        pic.pic,
        PicFields {
            weighted_bipred_idc: 2,
            field_pic_flag: true,
            bottom_field_pic_order_in_frame_present_flag: true,
            redundant_pic_cnt_present_flag: true,
            ..Default::default()
        }
    );
    // 3 MB rows of a field-coded sequence: 1 map unit pair... (3 / 2) - 1
    assert_eq!(pic.pic_height_in_map_units_minus1(), 0);
}

#[test]
fn reads_va_structs_from_buffer_bytes() {
    let size = std::mem::size_of::<sys::VAPictureParameterBufferH264>();
    let mut bytes = vec![0u8; 2 * size + 1];
    // element 1 of a buffer that starts at an odd address: unaligned read
    bytes[1 + size..1 + size + 4].copy_from_slice(&10u32.to_ne_bytes());
    let p = read_element::<sys::VAPictureParameterBufferH264>(&bytes[1..], 1).unwrap();
    assert_eq!(p.CurrPic.picture_id, 10);
    assert!(read_element::<sys::VAPictureParameterBufferH264>(&bytes[2..], 1).is_none());
    assert!(read_element::<sys::VASliceParameterBufferH264>(&bytes, usize::MAX).is_none());
}

#[test]
fn emulation_prevention_bytes_are_not_counted() {
    let (mut s, p) = seq_pic();
    s.set_log2_max_frame_num_minus4(12);
    s.set_log2_max_pic_order_cnt_lsb_minus4(12);
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    let mut w = W::default();
    w.u(1, 0).u(2, 0).u(5, 1); // non-reference, non-IDR
    w.ue(0).ue(7).ue(0).u(16, 0).u(16, 0); // I, frame_num 0, poc lsb 0 (16 bits each)
    w.se(0).ue(0).se(0).se(0);
    let nal = w.nal(&[]);
    assert!(nal.windows(3).any(|w| w == [0, 0, 3]), "{nal:02x?}");
    let h = read_slice_header(&nal, &pic, [1, 0]).unwrap();
    assert_eq!((h.frame_num, h.dec_ref_pic_marking_bit_size), (0, 0));
    assert_eq!(h.header_bit_size, 8 + 9 + 16 + 16 + 4);
    assert_eq!(h.pic_order_cnt_bit_size, 16);
}

/// Slice parameters of a `slice_type` slice of `slice_data_size` bytes with
/// every RefPicList entry invalid (`VA_INVALID_SURFACE`,
/// `VA_PICTURE_H264_INVALID`), as a client sends for an I slice.
pub(crate) fn blank_slice_params(
    slice_data_size: usize,
    slice_type: u8,
) -> sys::VASliceParameterBufferH264 {
    let mut sp = sys::VASliceParameterBufferH264 {
        slice_data_size: slice_data_size as u32,
        slice_type,
        ..Default::default()
    };
    for r in sp.RefPicList0.iter_mut().chain(sp.RefPicList1.iter_mut()) {
        r.picture_id = sys::VA_INVALID_SURFACE;
        r.flags = sys::VA_PICTURE_H264_INVALID;
    }
    sp
}

/// An IDR I slice (nal_ref_idc 3) of the `seq_pic` sequence.
pub(crate) fn idr_slice() -> Vec<u8> {
    let mut w = W::default();
    w.u(1, 0).u(2, 3).u(5, 5); // NAL header
    w.ue(0).ue(7).ue(0); // first_mb_in_slice, slice_type I (7), pps id
    w.u(4, 0); // frame_num
    w.ue(3); // idr_pic_id
    w.u(6, 0); // pic_order_cnt_lsb
    w.u(1, 0).u(1, 1); // dec_ref_pic_marking: no_output, long_term_reference
    w.se(-4); // slice_qp_delta
    w.ue(0).se(1).se(-1); // deblocking idc 0 + offsets
    w.nal(&[])
}

#[test]
fn idr_slice_header() {
    let (s, p) = seq_pic();
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    let h = read_slice_header(&idr_slice(), &pic, [0, 0]).unwrap();
    assert_eq!((h.nal_ref_idc, h.nal_unit_type, h.slice_type), (3, 5, 2));
    assert_eq!(h.idr_pic_id, 3);
    assert_eq!(h.pic_order_cnt_bit_size, 6);
    assert_eq!(h.dec_ref_pic_marking_bit_size, 2);
    // 8 + 1+7+1 + 4 + 5 + 6 + 2 + 7 (se -4 = ue 8) + 1+3+3
    assert_eq!(h.header_bit_size, 8 + 9 + 4 + 5 + 6 + 2 + 7 + 7);
    // with a start code it is not a NAL header any more
    let mut sc = vec![0, 0, 1];
    sc.extend(idr_slice());
    assert_eq!(
        read_slice_header(strip_start_code(&sc), &pic, [0, 0]),
        Ok(h)
    );
    assert_eq!(
        read_slice_header(&[0x67, 0x42], &pic, [0, 0]),
        Err(SliceError::NotASlice(7))
    );
    let full = idr_slice();
    for n in 0..full.len() - 1 {
        assert!(
            read_slice_header(&full[..n], &pic, [0, 0]).is_err(),
            "{n} bytes"
        );
    }
}

/// A P slice: override of the active count, a list modification, a
/// pred_weight_table, MMCOs.
pub(crate) fn p_slice() -> Vec<u8> {
    let mut w = W::default();
    w.u(1, 0).u(2, 2).u(5, 1);
    w.ue(0).ue(5).ue(0); // first_mb 0, P (5), pps 0
    w.u(4, 0).u(6, 0); // frame_num 0, poc lsb 0
    w.u(1, 1).ue(1); // override: l0 active minus1 = 1
    w.u(1, 1).ue(0).ue(0).ue(3); // modification l0: idc 0 diff 0, end
                                 // pred_weight_table: denoms, 2 entries
    w.ue(5).ue(4);
    w.u(1, 1).se(40).se(-2).u(1, 0);
    w.u(1, 0).u(1, 1).se(1).se(2).se(3).se(4);
    // dec_ref_pic_marking: adaptive, MMCO 1 (diff 0), 0
    w.u(1, 1).ue(1).ue(0).ue(0);
    w.ue(1); // cabac_init_idc
    w.se(2); // qp delta
    w.ue(1); // deblocking off: no offsets
    w.nal(&[])
}

#[test]
fn p_slice_header() {
    let (s, p) = seq_pic();
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    let nal = p_slice();
    let h = read_slice_header(&nal, &pic, [1, 0]).unwrap();
    assert_eq!((h.nal_ref_idc, h.slice_type), (2, 0));
    assert!(h.num_ref_idx_active_override_flag);
    assert_eq!(h.num_ref_idx_l0_active_minus1, 1);
    assert_eq!(h.pic_order_cnt_bit_size, 6);
    // 1 + ue(1)=3 + ue(0)=1 + ue(0)=1
    assert_eq!(h.dec_ref_pic_marking_bit_size, 6);
}

fn surfaces(s: VASurfaceID) -> Option<u64> {
    match s {
        20 => Some(2000),
        21 => Some(2100),
        22 => Some(2200),
        _ => None,
    }
}

pub(crate) fn refs(pp: &mut sys::VAPictureParameterBufferH264) {
    pp.frame_num = 1;
    let r = &mut pp.ReferenceFrames;
    // short-term frame_num 0 (< 1), long-term idx 0, short-term 14 (wraps),
    // one on a surface that holds no picture
    r[0] = VAPictureH264 {
        picture_id: 20,
        frame_idx: 0,
        flags: sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
        TopFieldOrderCnt: 4,
        BottomFieldOrderCnt: 4,
        va_reserved: [0; 4],
    };
    r[1] = VAPictureH264 {
        picture_id: 99,
        flags: sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
        ..r[0]
    };
    r[2] = VAPictureH264 {
        picture_id: 21,
        frame_idx: 0,
        flags: sys::VA_PICTURE_H264_LONG_TERM_REFERENCE,
        TopFieldOrderCnt: 0,
        BottomFieldOrderCnt: 0,
        va_reserved: [0; 4],
    };
    r[3] = VAPictureH264 {
        picture_id: 22,
        frame_idx: 14,
        flags: sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
        ..r[2]
    };
}

#[test]
fn decode_params_dpb_from_reference_frames() {
    let (s, p) = seq_pic();
    let mut pp = params(s, p);
    refs(&mut pp);
    pp.CurrPic.TopFieldOrderCnt = 8;
    pp.CurrPic.BottomFieldOrderCnt = 8;
    let pic = Picture::new(&pp);
    let h = read_slice_header(&p_slice(), &pic, [1, 0]).unwrap();
    let dp = decode_params(&pic, &h, &surfaces);
    assert_eq!(dp.frame_num, 1);
    assert_eq!((dp.top_field_order_cnt, dp.nal_ref_idc), (8, 2));
    assert_eq!(dp.flags, bindings::V4L2_H264_DECODE_PARAM_FLAG_PFRAME);
    assert_eq!(dp.dec_ref_pic_marking_bit_size, 6);
    let ts: Vec<u64> = dp.dpb.iter().map(|e| e.reference_ts).collect();
    assert_eq!(&ts[..4], &[2000, 2100, 2200, 0]);
    let vl = bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID | bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;
    assert_eq!(dp.dpb[0].flags, vl);
    assert_eq!(
        dp.dpb[1].flags,
        vl | bindings::V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM
    );
    assert_eq!(dp.dpb[3].flags, 0);
    assert_eq!(dp.dpb[0].fields, bindings::V4L2_H264_FRAME_REF as u8);
    // FrameNumWrap: 14 > 1 → 14 − 16
    assert_eq!(dp.dpb[2].pic_num as i32, -2);
    assert_eq!(dp.dpb[2].frame_num, 14);

    let idr = read_slice_header(&idr_slice(), &pic, [0, 0]).unwrap();
    let dp = decode_params(&pic, &idr, &surfaces);
    assert_eq!(dp.flags, bindings::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC);
    assert_eq!(dp.idr_pic_id, 3);
}

#[test]
fn slice_params_resolve_references_through_timestamps() {
    let (s, p) = seq_pic();
    let mut pp = params(s, p);
    refs(&mut pp);
    let pic = Picture::new(&pp);
    let h = read_slice_header(&p_slice(), &pic, [1, 0]).unwrap();
    let dp = decode_params(&pic, &h, &surfaces);
    let mut sp = sys::VASliceParameterBufferH264 {
        slice_type: 0,
        num_ref_idx_l0_active_minus1: 2,
        num_ref_idx_l1_active_minus1: 5,
        slice_qp_delta: 2,
        disable_deblocking_filter_idc: 1,
        ..Default::default()
    };
    sp.RefPicList0[0] = pp.ReferenceFrames[3];
    sp.RefPicList0[1] = pp.ReferenceFrames[0];
    sp.RefPicList0[2] = pp.ReferenceFrames[1]; // surface without a picture
    sp.RefPicList1[0] = pp.ReferenceFrames[0]; // P slice: list 1 unused
    let c = slice_params(&sp, &h, &dp, false, &surfaces);
    assert_eq!(
        (c.ref_pic_list0[0].index, c.ref_pic_list0[0].fields),
        (2, 3)
    );
    assert_eq!(c.ref_pic_list0[1].index, 0);
    assert_eq!(c.ref_pic_list0[2].index, 0xff);
    assert_eq!(c.ref_pic_list1[0].index, 0xff);
    assert_eq!(c.header_bit_size, h.header_bit_size);
    assert_eq!((c.slice_qp_delta, c.disable_deblocking_filter_idc), (2, 1));

    // weighted P: VA's table for 3 entries; unweighted: zeros
    sp.luma_log2_weight_denom = 5;
    sp.luma_weight_l0[..3].copy_from_slice(&[40, 32, 32]);
    sp.chroma_weight_l0[1] = [3, 5];
    let w = pred_weights(&sp, &pic);
    assert_eq!(w.luma_log2_weight_denom, 5);
    assert_eq!(&w.weight_factors[0].luma_weight[..4], &[40, 32, 32, 0]);
    assert_eq!(w.weight_factors[0].chroma_weight[1], [3, 5]);
    let (s, mut p) = seq_pic();
    p.set_weighted_pred_flag(0);
    let pp2 = params(s, p);
    let w = pred_weights(&sp, &Picture::new(&pp2));
    assert_eq!(w.luma_log2_weight_denom, 0);
    assert_eq!(w.weight_factors[0].luma_weight[0], 0);
}

#[test]
fn sps_pps_and_scaling() {
    let (s, p) = seq_pic();
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    let c = sps(&pic, sys::VAProfileH264High);
    assert_eq!((c.profile_idc, c.max_num_ref_frames), (100, 2));
    assert_eq!(
        (c.pic_width_in_mbs_minus1, c.pic_height_in_map_units_minus1),
        (3, 2)
    );
    assert_eq!(c.log2_max_pic_order_cnt_lsb_minus4, 2);
    assert_eq!(
        c.flags,
        bindings::V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY
            | bindings::V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE
    );
    assert_eq!(profile_idc(sys::VAProfileH264ConstrainedBaseline), (66, 2));

    // P slice overriding its counts: the PPS default is unknown (0); an
    // I slice says nothing either.
    let h = read_slice_header(&p_slice(), &pic, [1, 0]).unwrap();
    let mut known = [0, 0];
    pps_defaults(&[h], &mut known);
    assert_eq!(known, [0, 0]);
    let c = pps(&pic, &h, known, false);
    assert_eq!(c.num_ref_idx_l0_default_active_minus1, 0);
    assert_eq!(c.pic_init_qp_minus26, -3);
    let no_override = SliceHeader {
        num_ref_idx_active_override_flag: false,
        ..h
    };
    pps_defaults(&[no_override], &mut known);
    assert_eq!(known, [1, 0]);
    // an I slice keeps what was known
    let idr = read_slice_header(&idr_slice(), &pic, [0, 0]).unwrap();
    pps_defaults(&[idr], &mut known);
    assert_eq!(known, [1, 0]);
    let c = pps(&pic, &idr, known, true);
    assert_eq!(c.num_ref_idx_l0_default_active_minus1, 1);
    assert_ne!(
        c.flags & bindings::V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT as u16,
        0
    );

    let mut iq = sys::VAIQMatrixBufferH264 {
        ScalingList4x4: [[16; 16]; 6],
        ScalingList8x8: [[16; 64]; 2],
        va_reserved: [0; 4],
    };
    assert!(!scaling_matrix_present(Some(&iq)));
    assert!(!scaling_matrix_present(None));
    iq.ScalingList8x8[1][63] = 40;
    assert!(scaling_matrix_present(Some(&iq)));
    let m = scaling_matrix(&iq);
    assert_eq!(m.scaling_list_8x8[1][63], 40);
    assert_eq!(m.scaling_list_8x8[2], [0; 64]);
    assert_eq!(m.scaling_list_4x4[5], [16; 16]);
}

#[test]
fn bitstream_with_and_without_start_code() {
    let mut out = Vec::new();
    slice_bitstream(&[0x65, 0x88], StartCode::AnnexB, &mut out);
    slice_bitstream(&[0x41], StartCode::None, &mut out);
    assert_eq!(out, [0, 0, 1, 0x65, 0x88, 0x41]);
    assert_eq!(strip_start_code(&[0, 0, 0, 1, 0x65]), &[0x65]);
    assert_eq!(strip_start_code(&[0x65, 0, 0, 1]), &[0x65, 0, 0, 1]);
}

#[test]
fn garbage_never_panics() {
    let (s, p) = seq_pic();
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    let mut x: u32 = 12345;
    for len in 0..300usize {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let _ = read_slice_header(&data, &pic, [31, 31]);
    }
    // ue with 32+ leading zeros
    assert!(read_slice_header(&[0x65, 0, 0, 0, 0, 0, 0, 0, 0, 1], &pic, [0, 0]).is_err());
}

#[test]
fn jobs_per_slice_and_per_frame() {
    use vreq_core::{Control as C, DecodeMode};
    let (s, p) = seq_pic();
    let mut pp = params(s, p);
    refs(&mut pp);
    let pic = Picture::new(&pp);
    let mut data = vec![0xaa];
    let a = p_slice();
    data.extend(&a);
    let b = p_slice();
    data.extend(&b);
    let sp = |offset: usize, size: usize| sys::VASliceParameterBufferH264 {
        slice_data_offset: offset as u32,
        slice_data_size: size as u32,
        slice_type: 0,
        ..Default::default()
    };
    let slices = [
        Slice {
            params: sp(1, a.len()),
            data: &data,
        },
        Slice {
            params: sp(1 + a.len(), b.len()),
            data: &data,
        },
    ];
    let names = |j: &vreq_core::DecodeJob| j.controls.iter().map(C::name).collect::<Vec<_>>();
    let m = jobs(
        &pic,
        None,
        &slices,
        sys::VAProfileH264High,
        DecodeMode::SliceBased,
        StartCode::AnnexB,
        7000,
        None,
        &mut [0, 0],
        &surfaces,
    )
    .unwrap();
    assert_eq!(m.jobs.len(), 2);
    assert_eq!(
        names(&m.jobs[0]),
        [
            "V4L2_CID_STATELESS_H264_SPS",
            "V4L2_CID_STATELESS_H264_PPS",
            "V4L2_CID_STATELESS_H264_DECODE_PARAMS",
            "V4L2_CID_STATELESS_H264_SLICE_PARAMS",
            "V4L2_CID_STATELESS_H264_PRED_WEIGHTS"
        ]
    );
    assert_eq!(names(&m.jobs[1]).len(), 2);
    assert_eq!(
        (m.jobs[0].hold_capture, m.jobs[1].hold_capture),
        (true, false)
    );
    assert_eq!(
        (m.jobs[0].starts_picture, m.jobs[1].starts_picture),
        (true, false)
    );
    assert_eq!(&m.jobs[0].bitstream[..3], &[0, 0, 1]);
    assert_eq!(&m.jobs[1].bitstream[3..], &b[..]);
    assert!(m.jobs.iter().all(|j| j.timestamp_ns == 7000));

    // frame-based, same SPS already on the device: no SPS, one request
    let f = jobs(
        &pic,
        None,
        &slices,
        sys::VAProfileH264High,
        DecodeMode::FrameBased,
        StartCode::None,
        8000,
        Some(&m.sps),
        &mut [0, 0],
        &surfaces,
    )
    .unwrap();
    assert_eq!(f.jobs.len(), 1);
    assert_eq!(names(&f.jobs[0])[0], "V4L2_CID_STATELESS_H264_PPS");
    assert_eq!(f.jobs[0].bitstream.len(), a.len() + b.len());

    // a slice past its data buffer, no slices, a partial slice
    let run = |sl: &[Slice<'_>]| {
        jobs(
            &pic,
            None,
            sl,
            sys::VAProfileH264High,
            DecodeMode::SliceBased,
            StartCode::None,
            1,
            None,
            &mut [0, 0],
            &surfaces,
        )
        .err()
    };
    let mut bad = slices;
    bad[1].params.slice_data_size += 1;
    assert_eq!(run(&bad), Some(MapError::SliceData(1)));
    bad[1].params.slice_data_offset = u32::MAX;
    assert_eq!(run(&bad), Some(MapError::SliceData(1)));
    assert_eq!(run(&[]), Some(MapError::NoSlices));
    let mut partial = slices;
    partial[0].params.slice_data_flag = sys::VA_SLICE_DATA_FLAG_BEGIN;
    assert_eq!(run(&partial), Some(MapError::SliceData(0)));
}

#[test]
fn pred_weight_table_uses_the_pps_default_counts_from_va() {
    // weighted P without num_ref_idx_active_override: the table has as many
    // entries as the PPS default (3 here), which only VA's slice parameters say
    let (s, p) = seq_pic();
    let pp = params(s, p);
    let pic = Picture::new(&pp);
    let mut w = W::default();
    w.u(1, 0).u(2, 2).u(5, 1);
    w.ue(0).ue(5).ue(0).u(4, 1).u(6, 2);
    w.u(1, 0); // no override
    w.u(1, 0); // no list modification
    w.ue(5).ue(4);
    for _ in 0..3 {
        w.u(1, 1).se(40).se(-2).u(1, 0);
    }
    w.u(1, 0); // dec_ref_pic_marking: sliding window
    w.ue(0).se(0).ue(1);
    let nal = w.nal(&[]);
    let h = read_slice_header(&nal, &pic, [2, 0]).unwrap();
    assert!(!h.num_ref_idx_active_override_flag);
    assert_eq!(h.num_ref_idx_l0_active_minus1, 2);
    assert_eq!(h.dec_ref_pic_marking_bit_size, 1);
    let mut known = [0, 0];
    pps_defaults(&[h], &mut known);
    assert_eq!(known, [2, 0]);
    // with the wrong count the header misreads
    assert_ne!(read_slice_header(&nal, &pic, [0, 0]).ok(), Some(h));
}
