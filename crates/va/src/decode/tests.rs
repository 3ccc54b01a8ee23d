use super::*;
use crate::ffi::bytes_of;
use crate::map::h264::tests::{blank_slice_params, idr_slice, p_slice, params, seq_pic};
use crate::map::h264::{self, H264Map};
use v4l2r::bindings;
use vreq_core::Control;
use vreq_testkit::fake::FakeDevice;
use vreq_v4l2::profile::for_driver;

fn visl() -> FakeDevice {
    FakeDevice::for_codec(for_driver("visl", "visl"), CodecKind::H264)
}

/// `d` decodes a picture rendered as a VA client renders it: picture
/// parameters, IQ matrix, then each slice's parameters and data.
fn decode_h264(
    d: &mut Decoder<FakeDevice>,
    target: VASurfaceID,
    pp: &sys::VAPictureParameterBufferH264,
    iq: Option<&sys::VAIQMatrixBufferH264>,
    slices: &[h264::Slice<'_>],
) -> Result<(), VAStatus> {
    let mut pic = Picture::new(target);
    let codec = H264Map::default();
    pic.render(&codec, sys::VAPictureParameterBufferType, bytes_of(pp), 1)?;
    if let Some(iq) = iq {
        pic.render(&codec, sys::VAIQMatrixBufferType, bytes_of(iq), 1)?;
    }
    for s in slices {
        pic.render(
            &codec,
            sys::VASliceParameterBufferType,
            bytes_of(&s.params),
            1,
        )?;
        pic.render(&codec, sys::VASliceDataBufferType, s.data, 1)?;
    }
    d.decode(&pic)
}

fn h264_decoder(dev: FakeDevice, surface_count: u32) -> Decoder<FakeDevice> {
    Decoder::new(
        dev,
        Box::new(H264Map::default()),
        sys::VAProfileH264High,
        64,
        48,
        surface_count,
    )
}

fn slice(data: &[u8], slice_type: u8) -> h264::Slice<'_> {
    h264::Slice {
        params: blank_slice_params(data.len(), slice_type),
        data,
    }
}

/// Picture parameters of an IDR into `cur`, or of a P picture into `cur`
/// referencing `reference` (short-term, frame_num 0).
fn picture(cur: VASurfaceID, reference: Option<VASurfaceID>) -> sys::VAPictureParameterBufferH264 {
    let (s, p) = seq_pic();
    let mut pp = params(s, p);
    pp.CurrPic.picture_id = cur;
    if let Some(r) = reference {
        pp.frame_num = 1;
        pp.ReferenceFrames[0] = sys::VAPictureH264 {
            picture_id: r,
            frame_idx: 0,
            flags: sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
            ..Default::default()
        };
    }
    pp
}

fn p_slice_referencing<'a>(
    data: &'a [u8],
    pp: &sys::VAPictureParameterBufferH264,
) -> h264::Slice<'a> {
    let mut s = slice(data, 0);
    s.params.num_ref_idx_l0_active_minus1 = 1;
    s.params.RefPicList0[0] = pp.ReferenceFrames[0];
    s
}

#[test]
fn idr_then_p_decode_and_reference_by_timestamp() {
    let mut d = h264_decoder(visl(), 0);
    let (idr, p) = (idr_slice(), p_slice());
    decode_h264(&mut d, 1, &picture(1, None), None, &[slice(&idr, 2)]).unwrap();
    let pp = picture(2, Some(1));
    decode_h264(&mut d, 2, &pp, None, &[p_slice_referencing(&p, &pp)]).unwrap();
    d.sync(2).unwrap();
    d.sync(1).unwrap();
    assert!(d.frame(1).is_some() && d.frame(2).is_some());
    assert_eq!(d.status(1), Ok(sys::VASurfaceReady));
    let dev = d.engine().device();
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    let jobs = dev.jobs();
    assert_eq!(jobs.len(), 2);
    let (t1, t2) = (jobs[0].timestamp_ns, jobs[1].timestamp_ns);
    assert_ne!(t1, t2);
    assert_eq!(d.timestamp_of(1), Some(t1));
    assert_eq!(
        jobs[0].control_ids,
        [
            bindings::V4L2_CID_STATELESS_H264_SPS,
            bindings::V4L2_CID_STATELESS_H264_PPS,
            bindings::V4L2_CID_STATELESS_H264_DECODE_PARAMS,
            bindings::V4L2_CID_STATELESS_H264_SLICE_PARAMS,
            bindings::V4L2_CID_STATELESS_H264_PRED_WEIGHTS,
        ]
    );
    // visl: slice-based, no start code; the SPS only once
    assert_eq!(jobs[0].bitstream, idr);
    assert_eq!(
        jobs[1].control_ids[0],
        bindings::V4L2_CID_STATELESS_H264_PPS
    );
    let Control::H264DecodeParams(dp) = &jobs[1].controls[1] else {
        panic!("{:?}", jobs[1].control_ids)
    };
    assert_eq!(dp.dpb[0].reference_ts, t1);
    let Control::H264SliceParams(sp) = &jobs[1].controls[2] else {
        panic!("{:?}", jobs[1].control_ids)
    };
    assert_eq!(sp.ref_pic_list0[0].index, 0);
    let c = dev.configures();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.coded_width, c[0].1.coded_height), (64, 48));

    // rendering into surface 1 again drops its frame and takes a new timestamp
    decode_h264(&mut d, 1, &picture(1, None), None, &[slice(&idr, 2)]).unwrap();
    d.sync(1).unwrap();
    assert_eq!(d.timestamp_of(1), Some(t2 + TIMESTAMP_STEP_NS));
}

#[test]
fn device_error_is_a_decoding_error_for_that_surface_only() {
    let second = 2 * TIMESTAMP_STEP_NS;
    let mut d = h264_decoder(visl().with_error_on(second), 4);
    let (idr, p) = (idr_slice(), p_slice());
    decode_h264(&mut d, 1, &picture(1, None), None, &[slice(&idr, 2)]).unwrap();
    let pp = picture(2, Some(1));
    decode_h264(&mut d, 2, &pp, None, &[p_slice_referencing(&p, &pp)]).unwrap();
    assert_eq!(d.sync(2), Err(VA_STATUS_ERROR_DECODING_ERROR));
    assert_eq!(d.status(2), Err(VA_STATUS_ERROR_DECODING_ERROR));
    assert_eq!(d.sync(1), Ok(()));
    // the next picture decodes
    decode_h264(&mut d, 3, &picture(3, None), None, &[slice(&idr, 2)]).unwrap();
    assert_eq!(d.sync(3), Ok(()));
    assert!(d.frame(3).is_some());
}

#[test]
fn bad_buffers_queue_nothing_and_the_decoder_goes_on() {
    let mut d = h264_decoder(visl(), 0);
    let idr = idr_slice();
    let mut oversize = slice(&idr, 2);
    oversize.params.slice_data_size += 1;
    assert_eq!(
        decode_h264(&mut d, 1, &picture(1, None), None, &[oversize]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        decode_h264(&mut d, 1, &picture(1, None), None, &[]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    assert!(d.engine().device().jobs().is_empty());
    assert_eq!(d.timestamp_of(1), None);
    assert_eq!(d.sync(1), Ok(()));
    decode_h264(&mut d, 1, &picture(1, None), None, &[slice(&idr, 2)]).unwrap();
    assert_eq!(d.sync(1), Ok(()));
    assert_eq!(d.engine().device().jobs().len(), 1);
}

/// HEVC through the decoder on a fake visl (slice-based, no start code,
/// SCALING_MATRIX and ENTRY_POINT_OFFSETS present, no EXT_SPS arrays): an
/// IDR into surface 1, then a P picture into surface 2 referencing it.
#[test]
fn hevc_idr_then_p_reference_by_timestamp() {
    use crate::map::hevc::tests::{idr_slice, p_slice, params, slice_params_of};
    use crate::map::hevc::HevcMap;
    use crate::testdev::{assert_pair_decoded, decode_buffers, fake_visl_decoder};
    let mut d = fake_visl_decoder(
        CodecKind::Hevc,
        Box::new(HevcMap::default()),
        sys::VAProfileHEVCMain,
        64,
        64,
    );
    let render = |d: &mut _,
                  target: VASurfaceID,
                  pp: &sys::VAPictureParameterBufferHEVC,
                  sp: &sys::VASliceParameterBufferHEVC,
                  data: &[u8]| {
        let buffers = [
            (sys::VAPictureParameterBufferType, bytes_of(pp)),
            (sys::VASliceParameterBufferType, bytes_of(sp)),
            (sys::VASliceDataBufferType, data),
        ];
        decode_buffers(d, &HevcMap::default(), target, &buffers)
    };
    let idr = idr_slice();
    let mut pp = params();
    pp.CurrPic.picture_id = 1;
    render(&mut d, 1, &pp, &slice_params_of(idr.len(), 2), &idr).unwrap();
    let (p, _, _) = p_slice(true, 0);
    pp.CurrPic = sys::VAPictureHEVC {
        picture_id: 2,
        pic_order_cnt: 1,
        flags: 0,
        ..Default::default()
    };
    pp.ReferenceFrames[3] = sys::VAPictureHEVC {
        picture_id: 1,
        pic_order_cnt: 0,
        flags: sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE,
        ..Default::default()
    };
    let mut sp = slice_params_of(p.len(), 1);
    // the slice's header reads collocated_ref_idx: 2 active references
    sp.num_ref_idx_l0_active_minus1 = 1;
    sp.RefPicList[0] = [3; 15];
    render(&mut d, 2, &pp, &sp, &p).unwrap();
    assert_pair_decoded(&mut d, 1, 2);
    let dev = d.engine().device();
    let jobs = dev.jobs();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0].control_ids,
        [
            bindings::V4L2_CID_STATELESS_HEVC_SPS,
            bindings::V4L2_CID_STATELESS_HEVC_PPS,
            bindings::V4L2_CID_STATELESS_HEVC_SCALING_MATRIX,
            bindings::V4L2_CID_STATELESS_HEVC_DECODE_PARAMS,
            bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
        ]
    );
    assert_eq!(jobs[0].bitstream, idr);
    let Control::HevcDecodeParams(dp) = &jobs[1].controls[2] else {
        panic!("{:?}", jobs[1].control_ids)
    };
    assert_eq!(dp.num_active_dpb_entries, 1);
    assert_eq!(dp.dpb[0].timestamp, jobs[0].timestamp_ns);
    assert_eq!(dp.poc_st_curr_before[0], 0);
    let Control::HevcSliceParams(sp) = &jobs[1].controls[3] else {
        panic!("{:?}", jobs[1].control_ids)
    };
    assert_eq!(sp[0].ref_idx_l0[0], 0);
    let c = dev.configures();
    assert_eq!(
        (c[0].1.coded_width, c[0].1.coded_height, c[0].1.bit_depth),
        (64, 64, 8)
    );
}
