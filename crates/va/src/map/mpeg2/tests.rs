use super::*;
use crate::ffi::bytes_of;
use crate::map::RenderedSlice;
use crate::status::*;
use crate::sys::{
    _VAPictureParameterBufferMPEG2__bindgen_ty_1 as ExtUnion,
    _VAPictureParameterBufferMPEG2__bindgen_ty_1__bindgen_ty_1 as ExtBits,
};

/// A 720 × 576 picture's parameters as FFmpeg's `vaapi_mpeg2.c` fills them:
/// type `ty` (1 I, 2 P, 3 B), references as given, f_code 0x1234 for
/// P / B (0xffff for I), the extension's bit fields set through the
/// bindgen setters (va.h's layout).
pub(crate) fn params(
    ty: i32,
    forward: VASurfaceID,
    backward: VASurfaceID,
    ext: impl FnOnce(&mut ExtBits),
) -> sys::VAPictureParameterBufferMPEG2 {
    let mut bits = ExtBits::default();
    bits.set_picture_structure(3);
    bits.set_is_first_field(1);
    bits.set_progressive_frame(1);
    bits.set_frame_pred_frame_dct(1);
    ext(&mut bits);
    sys::VAPictureParameterBufferMPEG2 {
        horizontal_size: 720,
        vertical_size: 576,
        forward_reference_picture: forward,
        backward_reference_picture: backward,
        picture_coding_type: ty,
        f_code: if ty == 1 { 0xffff } else { 0x1234 },
        picture_coding_extension: ExtUnion { bits },
        va_reserved: [0; 4],
    }
}

/// A slice's parameters over `len` bytes at offset 0 (FFmpeg: the data
/// starts at the start code, `macroblock_offset` counts its 32 bits).
pub(crate) fn slice_params(len: usize, row: u32) -> sys::VASliceParameterBufferMPEG2 {
    sys::VASliceParameterBufferMPEG2 {
        slice_data_size: len as u32,
        slice_data_offset: 0,
        slice_data_flag: sys::VA_SLICE_DATA_FLAG_ALL,
        macroblock_offset: 38,
        slice_horizontal_position: 0,
        slice_vertical_position: row,
        quantiser_scale_code: 8,
        intra_slice_flag: 0,
        va_reserved: [0; 4],
    }
}

/// Slice `row` (0-based): its start code `00 00 01 row+1` and a few bytes.
pub(crate) fn slice_data(row: u8) -> Vec<u8> {
    vec![0, 0, 1, row + 1, 0x42, 0x99, 0x10, row]
}

fn no_refs(_: VASurfaceID) -> Option<u64> {
    None
}

struct Pic {
    pp: sys::VAPictureParameterBufferMPEG2,
    iq: Option<sys::VAIQMatrixBufferMPEG2>,
    slices: Vec<(sys::VASliceParameterBufferMPEG2, Vec<u8>)>,
}

impl Pic {
    fn new(pp: sys::VAPictureParameterBufferMPEG2, rows: u8) -> Self {
        Pic {
            pp,
            iq: None,
            slices: (0..rows)
                .map(|r| {
                    let d = slice_data(r);
                    (slice_params(d.len(), u32::from(r)), d)
                })
                .collect(),
        }
    }

    fn map(
        &self,
        m: &mut Mpeg2Map,
        profile: sys::VAProfile,
        ts: u64,
        timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
    ) -> Result<Mapped, MapError> {
        let slices: Vec<RenderedSlice<'_>> = self
            .slices
            .iter()
            .map(|(p, d)| RenderedSlice {
                params: bytes_of(p),
                data: d,
            })
            .collect();
        let r = Rendered {
            pic_params: bytes_of(&self.pp),
            iq: self.iq.as_ref().map(bytes_of),
            probability: None,
            slices: &slices,
        };
        m.map(&r, &context(profile, ts, timestamp_of))
    }
}

/// The context MPEG-2 pictures map in (frame-based, Annex B start codes,
/// no optional control), OUTPUT timestamp `ts`.
fn context<'a>(
    profile: sys::VAProfile,
    ts: u64,
    timestamp_of: &'a dyn Fn(VASurfaceID) -> Option<u64>,
) -> MapContext<'a> {
    MapContext {
        profile,
        mode: vreq_core::DecodeMode::FrameBased,
        start_code: vreq_core::StartCode::AnnexB,
        timestamp_ns: ts,
        timestamp_of,
        has_control: &|_| false,
    }
}

fn iq_loading(intra: [u8; 64], non_intra: Option<[u8; 64]>) -> sys::VAIQMatrixBufferMPEG2 {
    sys::VAIQMatrixBufferMPEG2 {
        load_intra_quantiser_matrix: 1,
        load_non_intra_quantiser_matrix: non_intra.is_some() as i32,
        load_chroma_intra_quantiser_matrix: 0,
        load_chroma_non_intra_quantiser_matrix: 0,
        intra_quantiser_matrix: intra,
        non_intra_quantiser_matrix: non_intra.unwrap_or([99; 64]),
        chroma_intra_quantiser_matrix: [77; 64],
        chroma_non_intra_quantiser_matrix: [77; 64],
        va_reserved: [0; 4],
    }
}

#[test]
fn picture_coding_extension_bits_are_va_h_layout() {
    let all = [
        (0u32, "intra_dc_precision"),
        (2, "picture_structure"),
        (4, "top_field_first"),
        (5, "frame_pred_frame_dct"),
        (6, "concealment_motion_vectors"),
        (7, "q_scale_type"),
        (8, "intra_vlc_format"),
        (9, "alternate_scan"),
        (10, "repeat_first_field"),
        (11, "progressive_frame"),
        (12, "is_first_field"),
    ];
    for (bit, name) in all {
        let mut b = ExtBits::default();
        match name {
            "intra_dc_precision" => b.set_intra_dc_precision(2),
            "picture_structure" => b.set_picture_structure(2),
            "top_field_first" => b.set_top_field_first(1),
            "frame_pred_frame_dct" => b.set_frame_pred_frame_dct(1),
            "concealment_motion_vectors" => b.set_concealment_motion_vectors(1),
            "q_scale_type" => b.set_q_scale_type(1),
            "intra_vlc_format" => b.set_intra_vlc_format(1),
            "alternate_scan" => b.set_alternate_scan(1),
            "repeat_first_field" => b.set_repeat_first_field(1),
            "progressive_frame" => b.set_progressive_frame(1),
            _ => b.set_is_first_field(1),
        }
        let pp = sys::VAPictureParameterBufferMPEG2 {
            picture_coding_extension: ExtUnion { bits: b },
            f_code: 0,
            ..params(1, 0, 0, |_| {})
        };
        let v = mpeg2_picture_coding_extension(&pp);
        assert_eq!(v, if bit < 4 { 2 << bit } else { 1 << bit }, "{name}");
        let e = picture_coding_extension(&pp);
        let set = match name {
            "intra_dc_precision" => e.intra_dc_precision == 2,
            "picture_structure" => e.picture_structure == 2,
            "top_field_first" => e.top_field_first,
            "frame_pred_frame_dct" => e.frame_pred_frame_dct,
            "concealment_motion_vectors" => e.concealment_motion_vectors,
            "q_scale_type" => e.q_scale_type,
            "intra_vlc_format" => e.intra_vlc_format,
            "alternate_scan" => e.alternate_scan,
            "repeat_first_field" => e.repeat_first_field,
            "progressive_frame" => e.progressive_frame,
            // not syntax: nothing to set
            _ => true,
        };
        assert!(set, "{name}: {e:?}");
        // nothing else set
        let mut others = e;
        match name {
            "intra_dc_precision" => others.intra_dc_precision = 0,
            "picture_structure" => others.picture_structure = 0,
            "top_field_first" => others.top_field_first = false,
            "frame_pred_frame_dct" => others.frame_pred_frame_dct = false,
            "concealment_motion_vectors" => others.concealment_motion_vectors = false,
            "q_scale_type" => others.q_scale_type = false,
            "intra_vlc_format" => others.intra_vlc_format = false,
            "alternate_scan" => others.alternate_scan = false,
            "repeat_first_field" => others.repeat_first_field = false,
            "progressive_frame" => others.progressive_frame = false,
            _ => {}
        }
        assert_eq!(others, PictureCodingExtension::default(), "{name}");
    }
}

#[test]
fn i_p_b_pictures_map_as_gstreamer_sends_them() {
    let mut m = Mpeg2Map::default();
    let ts_of = |s: VASurfaceID| match s {
        10 => Some(1000),
        11 => Some(2000),
        _ => None,
    };
    // I picture (FFmpeg: both references VA_INVALID_SURFACE)
    let mut i = Pic::new(
        params(1, sys::VA_INVALID_SURFACE, sys::VA_INVALID_SURFACE, |b| {
            b.set_intra_dc_precision(1);
            b.set_q_scale_type(1);
            b.set_alternate_scan(1);
        }),
        3,
    );
    i.iq = Some(iq_loading(DEFAULT_INTRA_MATRIX, Some([16; 64])));
    let out = i
        .map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
        .unwrap();
    assert_eq!(
        out.format,
        PictureFormat {
            coded_width: 720,
            coded_height: 576,
            bit_depth: 8,
            dpb_size: 3
        }
    );
    assert_eq!(out.jobs.len(), 1);
    let j = &out.jobs[0];
    assert_eq!(
        (j.timestamp_ns, j.hold_capture, j.starts_picture),
        (1000, false, true)
    );
    let mut want_bits = Vec::new();
    for r in 0..3 {
        want_bits.extend(slice_data(r));
    }
    assert_eq!(j.bitstream, want_bits);
    let [Control::Mpeg2Sequence(seq), Control::Mpeg2Picture(pic), Control::Mpeg2Quantisation(q)] =
        &j.controls[..]
    else {
        panic!("{:?}", j.controls)
    };
    assert_eq!((seq.horizontal_size, seq.vertical_size), (720, 576));
    // Main profile, level unknown; GStreamer sends 80 for Main@Main (4 << 4 | 8 << 1)
    assert_eq!(seq.profile_and_level_indication, 64);
    assert_eq!((seq.chroma_format, seq.vbv_buffer_size), (1, 0));
    assert_eq!(
        u32::from(seq.flags),
        bindings::V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE
    );
    assert_eq!(pic.picture_coding_type, 1);
    assert_eq!((pic.picture_structure, pic.intra_dc_precision), (3, 1));
    assert_eq!(
        pic.flags,
        bindings::V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT
            | bindings::V4L2_MPEG2_PIC_FLAG_Q_SCALE_TYPE
            | bindings::V4L2_MPEG2_PIC_FLAG_ALT_SCAN
            | bindings::V4L2_MPEG2_PIC_FLAG_PROGRESSIVE
    );
    assert_eq!(pic.f_code, [[15, 15], [15, 15]]);
    assert_eq!(
        (pic.forward_ref_ts, pic.backward_ref_ts),
        (u64::MAX, u64::MAX)
    );
    assert_eq!(q.intra_quantiser_matrix, DEFAULT_INTRA_MATRIX);
    assert_eq!(q.non_intra_quantiser_matrix, [16; 64]);
    assert_eq!(q.chroma_intra_quantiser_matrix, [0; 64], "not loaded");

    // P picture: same sequence and matrices → PICTURE only
    let mut p = Pic::new(params(2, 10, sys::VA_INVALID_SURFACE, |_| {}), 1);
    p.iq = i.iq;
    let out = p
        .map(&mut m, sys::VAProfileMPEG2Main, 2000, &ts_of)
        .unwrap();
    let [Control::Mpeg2Picture(pic)] = &out.jobs[0].controls[..] else {
        panic!("{:?}", out.jobs[0].controls)
    };
    assert_eq!(pic.forward_ref_ts, 1000);
    assert_eq!(pic.backward_ref_ts, u64::MAX);
    assert_eq!(pic.f_code, [[1, 2], [3, 4]]);

    // B picture loading a new intra matrix → PICTURE + QUANTISATION
    let mut b = Pic::new(params(3, 10, 11, |_| {}), 1);
    b.iq = Some(iq_loading([20; 64], None));
    let out = b
        .map(&mut m, sys::VAProfileMPEG2Main, 3000, &ts_of)
        .unwrap();
    let [Control::Mpeg2Picture(pic), Control::Mpeg2Quantisation(q)] = &out.jobs[0].controls[..]
    else {
        panic!("{:?}", out.jobs[0].controls)
    };
    assert_eq!((pic.forward_ref_ts, pic.backward_ref_ts), (1000, 2000));
    assert_eq!(q.intra_quantiser_matrix, [20; 64]);
    assert_eq!(q.non_intra_quantiser_matrix, [16; 64], "kept: not loaded");
}

#[test]
fn simple_profile_and_an_interlaced_sequence() {
    let mut m = Mpeg2Map::default();
    let mut pp = params(1, sys::VA_INVALID_SURFACE, sys::VA_INVALID_SURFACE, |b| {
        b.set_progressive_frame(0);
        b.set_top_field_first(1);
    });
    pp.horizontal_size = 352;
    pp.vertical_size = 240;
    let out = Pic::new(pp, 1)
        .map(&mut m, sys::VAProfileMPEG2Simple, 1000, &no_refs)
        .unwrap();
    let Control::Mpeg2Sequence(seq) = &out.jobs[0].controls[0] else {
        panic!()
    };
    assert_eq!(seq.profile_and_level_indication, 80);
    assert_eq!(seq.flags, 0, "a non-progressive frame: interlaced sequence");
    // coded height in field macroblock pairs (32 lines)
    assert_eq!(
        (out.format.coded_width, out.format.coded_height),
        (352, 256)
    );
    // a later progressive frame of the same sequence keeps it interlaced
    let pp2 = sys::VAPictureParameterBufferMPEG2 {
        horizontal_size: 352,
        vertical_size: 240,
        ..params(1, sys::VA_INVALID_SURFACE, sys::VA_INVALID_SURFACE, |_| {})
    };
    let out = Pic::new(pp2, 1)
        .map(&mut m, sys::VAProfileMPEG2Simple, 2000, &no_refs)
        .unwrap();
    assert!(matches!(out.jobs[0].controls[0], Control::Mpeg2Picture(_)));
    assert_eq!(out.format.coded_height, 256);
}

#[test]
fn bad_pictures_are_errors_and_change_nothing() {
    let mut m = Mpeg2Map::default();
    let good = Pic::new(params(1, 0, 0, |_| {}), 2);
    // slice without its start code
    let mut p = Pic::new(params(1, 0, 0, |_| {}), 2);
    p.slices[1].1[2] = 2;
    assert_eq!(
        p.map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
            .unwrap_err(),
        MapError::SliceData(1)
    );
    // a slice start code beyond 0xAF (a system start code)
    let mut p = Pic::new(params(1, 0, 0, |_| {}), 1);
    p.slices[0].1[3] = 0xB3;
    assert!(p
        .map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
        .is_err());
    // data range past the buffer, partial slice
    let mut p = Pic::new(params(1, 0, 0, |_| {}), 1);
    p.slices[0].0.slice_data_offset = 4;
    assert!(p
        .map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
        .is_err());
    let mut p = Pic::new(params(1, 0, 0, |_| {}), 1);
    p.slices[0].0.slice_data_flag = sys::VA_SLICE_DATA_FLAG_BEGIN;
    assert!(p
        .map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
        .is_err());
    // no slices
    let p = Pic::new(params(1, 0, 0, |_| {}), 0);
    assert_eq!(
        p.map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
            .unwrap_err(),
        MapError::NoSlices
    );
    // field pictures: refused (see Mpeg2Map::map)
    let p = Pic::new(
        params(1, 0, 0, |b| {
            b.set_picture_structure(1);
            b.set_progressive_frame(0);
        }),
        1,
    );
    assert!(matches!(
        p.map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs),
        Err(MapError::Unsupported(_))
    ));
    // short picture parameters
    let slices = [RenderedSlice {
        params: bytes_of(&good.slices[0].0),
        data: &good.slices[0].1,
    }];
    let r = Rendered {
        pic_params: &bytes_of(&good.pp)[..8],
        iq: None,
        probability: None,
        slices: &slices,
    };
    let cx = context(sys::VAProfileMPEG2Main, 1000, &no_refs);
    assert_eq!(m.map(&r, &cx).unwrap_err(), MapError::PictureParameters);
    // none of it changed the map: the first good picture sends SEQUENCE and QUANTISATION
    let out = good
        .map(&mut m, sys::VAProfileMPEG2Main, 1000, &no_refs)
        .unwrap();
    assert_eq!(out.jobs[0].controls.len(), 3);
}

#[test]
fn check_wants_whole_structs_and_mpeg2_buffer_types() {
    let m = Mpeg2Map::default();
    let n = std::mem::size_of::<sys::VASliceParameterBufferMPEG2>();
    assert_eq!(
        m.check(sys::VASliceParameterBufferType, &vec![0; n]),
        Ok(())
    );
    assert_eq!(
        m.check(sys::VASliceParameterBufferType, &vec![0; n - 1]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        m.check(sys::VAProbabilityBufferType, &[0; 4096]),
        Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE)
    );
}

/// The whole path on a fake visl: `Decoder` + `Mpeg2Map`, an I then a P
/// picture rendered as a VA client renders them; the P's `forward_ref_ts`
/// is the I's OUTPUT timestamp, one frame-based request per picture.
#[test]
fn decoder_on_fake_visl_decodes_i_then_p() {
    use crate::testdev::{assert_pair_decoded, decode_buffers, fake_visl_decoder};

    let mut d = fake_visl_decoder(
        CodecKind::Mpeg2,
        Box::new(Mpeg2Map::default()),
        sys::VAProfileMPEG2Main,
        720,
        576,
    );
    let render = |d: &mut _, target, p: &Pic| {
        let mut buffers = vec![(sys::VAPictureParameterBufferType, bytes_of(&p.pp))];
        for (sp, data) in &p.slices {
            buffers.push((sys::VASliceParameterBufferType, bytes_of(sp)));
            buffers.push((sys::VASliceDataBufferType, &data[..]));
        }
        decode_buffers(d, &Mpeg2Map::default(), target, &buffers)
    };
    let i = Pic::new(
        params(1, sys::VA_INVALID_SURFACE, sys::VA_INVALID_SURFACE, |_| {}),
        2,
    );
    render(&mut d, 5, &i).unwrap();
    let p = Pic::new(params(2, 5, sys::VA_INVALID_SURFACE, |_| {}), 2);
    render(&mut d, 6, &p).unwrap();
    assert_pair_decoded(&mut d, 5, 6);
    let dev = d.engine().device();
    let jobs = dev.jobs();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0].control_ids,
        [
            bindings::V4L2_CID_STATELESS_MPEG2_SEQUENCE,
            bindings::V4L2_CID_STATELESS_MPEG2_PICTURE,
            bindings::V4L2_CID_STATELESS_MPEG2_QUANTISATION,
        ]
    );
    assert_eq!(
        jobs[1].control_ids,
        [bindings::V4L2_CID_STATELESS_MPEG2_PICTURE]
    );
    let Control::Mpeg2Picture(pic) = &jobs[1].controls[0] else {
        panic!()
    };
    assert_eq!(pic.forward_ref_ts, jobs[0].timestamp_ns);
    assert_eq!(d.timestamp_of(5), Some(jobs[0].timestamp_ns));
    let c = dev.configures();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.coded_width, c[0].1.coded_height), (720, 576));
}

/// Random picture, IQ matrix and slice parameters over random slice data:
/// errors or requests, never a panic.
#[test]
fn random_buffers_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut bytes = |n: usize| -> Vec<u8> { (0..n).map(|_| next() as u8).collect() };
    let mut m = Mpeg2Map::default();
    for _ in 0..3000 {
        let pp = bytes(std::mem::size_of::<sys::VAPictureParameterBufferMPEG2>());
        let iq = bytes(std::mem::size_of::<sys::VAIQMatrixBufferMPEG2>());
        let mut sp = bytes(std::mem::size_of::<sys::VASliceParameterBufferMPEG2>());
        if sp[0] & 1 == 0 {
            // a slice in range half the time: slice_data_size 16, offset 0, flag ALL
            sp[..12].copy_from_slice(&[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        }
        let mut data = bytes(16);
        data[..3].copy_from_slice(&[0, 0, 1]);
        let slices = [RenderedSlice {
            params: &sp,
            data: &data,
        }];
        let r = Rendered {
            pic_params: &pp,
            iq: Some(&iq),
            probability: None,
            slices: &slices,
        };
        let _ = m.map(&r, &context(sys::VAProfileMPEG2Main, 1000, &|_| Some(1)));
    }
}
