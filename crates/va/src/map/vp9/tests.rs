use std::collections::HashMap;

use super::*;
use crate::decode::Decoder;
use crate::ffi::bytes_of;
use crate::map::RenderedSlice;
use crate::picture::Picture;
use crate::status::*;
use crate::sys::{
    _VADecPictureParameterBufferVP9__bindgen_ty_1 as PicUnion,
    _VADecPictureParameterBufferVP9__bindgen_ty_1__bindgen_ty_1 as PicBits,
    _VASegmentParameterVP9__bindgen_ty_1 as SegUnion,
    _VASegmentParameterVP9__bindgen_ty_1__bindgen_ty_1 as SegBits,
};
use vreq_core::{CodecEvent, CodecPrivate, CodedUnit, DecodeMode, StartCode, StatelessCodec};
use vreq_testkit::fake::FakeDevice;
use vreq_v4l2::profile::for_driver;

fn pic_value(b: PicBits) -> u32 {
    let pp = sys::VADecPictureParameterBufferVP9 {
        pic_fields: PicUnion { bits: b },
        ..Default::default()
    };
    vp9_pic_fields(&pp)
}

#[test]
fn pic_fields_follow_the_va_bit_field() {
    // Each field set through bindgen's setters (va_dec_vp9.h's layout),
    // read back through our decoding of `value`.
    let mut b = PicBits::default();
    b.set_subsampling_y(1);
    b.set_show_frame(1);
    b.set_intra_only(1);
    b.set_mcomp_filter_type(3);
    b.set_reset_frame_context(2);
    b.set_frame_context_idx(3);
    b.set_segmentation_temporal_update(1);
    b.set_last_ref_frame(5);
    b.set_golden_ref_frame(6);
    b.set_golden_ref_frame_sign_bias(1);
    b.set_alt_ref_frame(7);
    b.set_lossless_flag(1);
    let f = PicFields::from_value(pic_value(b));
    assert_eq!(
        f,
        PicFields {
            subsampling_y: true,
            show_frame: true,
            intra_only: true,
            mcomp_filter_type: 3,
            reset_frame_context: 2,
            frame_context_idx: 3,
            segmentation_temporal_update: true,
            last_ref_frame: 5,
            golden_ref_frame: 6,
            golden_ref_frame_sign_bias: true,
            alt_ref_frame: 7,
            lossless_flag: true,
            ..Default::default()
        }
    );
    let mut b = PicBits::default();
    b.set_subsampling_x(1);
    b.set_frame_type(1);
    b.set_error_resilient_mode(1);
    b.set_allow_high_precision_mv(1);
    b.set_frame_parallel_decoding_mode(1);
    b.set_refresh_frame_context(1);
    b.set_segmentation_enabled(1);
    b.set_segmentation_update_map(1);
    b.set_last_ref_frame_sign_bias(1);
    b.set_alt_ref_frame_sign_bias(1);
    let f = PicFields::from_value(pic_value(b));
    assert_eq!(
        f,
        PicFields {
            subsampling_x: true,
            frame_type: 1,
            error_resilient_mode: true,
            allow_high_precision_mv: true,
            frame_parallel_decoding_mode: true,
            refresh_frame_context: true,
            segmentation_enabled: true,
            segmentation_update_map: true,
            last_ref_frame_sign_bias: true,
            alt_ref_frame_sign_bias: true,
            ..Default::default()
        }
    );
}

#[test]
fn segment_flags_follow_the_va_bit_field() {
    let mut b = SegBits::default();
    b.set_segment_reference(2);
    b.set_segment_reference_skipped(1);
    let s = sys::VASegmentParameterVP9 {
        segment_flags: SegUnion { fields: b },
        ..Default::default()
    };
    assert_eq!(
        SegmentFlags::from_value(vp9_segment_flags(&s)),
        SegmentFlags {
            segment_reference_enabled: false,
            segment_reference: 2,
            segment_reference_skipped: true,
        }
    );
    let mut b = SegBits::default();
    b.set_segment_reference_enabled(1);
    let s = sys::VASegmentParameterVP9 {
        segment_flags: SegUnion { fields: b },
        ..Default::default()
    };
    assert!(SegmentFlags::from_value(vp9_segment_flags(&s)).segment_reference_enabled);
}

/// The VP9 track's packets of a corpus clip (superframes unsplit), as the
/// player's demuxer gives them.
fn chunks(clip: &str) -> Vec<Vec<u8>> {
    let mut demux = vreq_container::open(&vreq_testkit::media_dir().join(clip)).unwrap();
    let track = demux
        .tracks()
        .iter()
        .find(|t| t.codec == vreq_container::TrackCodec::Video(CodecKind::Vp9))
        .map(|t| t.id)
        .unwrap();
    let mut out = Vec::new();
    while let Some(p) = demux.next_packet().unwrap() {
        if p.track == track {
            out.push(p.data);
        }
    }
    out
}

/// A VA client as FFmpeg's `vaapi_vp9.c` on its own parse of the stream:
/// it fills the fields the frame's header codes and leaves every other one
/// as the previous frame had it (FFmpeg's `VP9SharedContext` is not reset
/// between frames), references by surface.
struct Client {
    parser: ParserState,
    bits: PicBits,
    seg: [SegBits; 8],
    slots: [VASurfaceID; 8],
    next_surface: VASurfaceID,
    /// Frame size, render size and profile of the last key frame.
    sequence: Option<(u32, u32, u32, u32, u8)>,
}

impl Client {
    fn new() -> Self {
        Client {
            parser: ParserState::default(),
            bits: PicBits::default(),
            seg: [SegBits::default(); 8],
            slots: [sys::VA_INVALID_SURFACE; 8],
            next_surface: 0x100,
            sequence: None,
        }
    }

    /// The buffers of one frame (`None`: show_existing_frame, nothing
    /// rendered), its target surface and its refresh flags.
    #[allow(clippy::type_complexity)]
    fn render(
        &mut self,
        frame: &[u8],
    ) -> Option<(
        sys::VADecPictureParameterBufferVP9,
        sys::VASliceParameterBufferVP9,
        VASurfaceID,
        u8,
    )> {
        let h = self.parser.parse_uncompressed_header(frame).unwrap();
        if h.show_existing_frame {
            return None;
        }
        let key = h.frame_type == syntax::KEY_FRAME;
        let seq = (
            h.width,
            h.height,
            h.render_width,
            h.render_height,
            h.profile,
        );
        if key && self.sequence.replace(seq) != Some(seq) {
            // A new sequence: GStreamer's vp9 decoder drains and empties its
            // DPB (gst_vp9_decoder_is_format_change); FFmpeg opens a new
            // context, which knows none of the old surfaces.
            self.slots = [sys::VA_INVALID_SURFACE; 8];
        }
        let b = &mut self.bits;
        b.set_subsampling_x(h.subsampling_x.into());
        b.set_subsampling_y(h.subsampling_y.into());
        b.set_frame_type(h.frame_type.into());
        b.set_show_frame(h.show_frame.into());
        b.set_error_resilient_mode(h.error_resilient_mode.into());
        if !key {
            b.set_intra_only(h.intra_only.into());
            b.set_reset_frame_context(h.reset_frame_context.into());
        }
        if !h.is_intra() {
            b.set_allow_high_precision_mv(h.allow_high_precision_mv.into());
            b.set_mcomp_filter_type(h.interpolation_filter.into());
            b.set_last_ref_frame(h.ref_frame_idx[0].into());
            b.set_golden_ref_frame(h.ref_frame_idx[1].into());
            b.set_alt_ref_frame(h.ref_frame_idx[2].into());
            b.set_last_ref_frame_sign_bias(h.ref_frame_sign_bias[1].into());
            b.set_golden_ref_frame_sign_bias(h.ref_frame_sign_bias[2].into());
            b.set_alt_ref_frame_sign_bias(h.ref_frame_sign_bias[3].into());
        }
        b.set_frame_parallel_decoding_mode(h.frame_parallel_decoding_mode.into());
        b.set_refresh_frame_context(h.refresh_frame_context.into());
        b.set_frame_context_idx(h.frame_context_idx.into());
        b.set_lossless_flag(h.lossless.into());
        let s = &h.seg;
        b.set_segmentation_enabled(s.segmentation_enabled.into());
        if s.segmentation_enabled {
            b.set_segmentation_update_map(s.segmentation_update_map.into());
            if s.segmentation_update_map {
                b.set_segmentation_temporal_update(s.segmentation_temporal_update.into());
            }
            if s.segmentation_update_data {
                for i in 0..8 {
                    let sb = &mut self.seg[i];
                    sb.set_segment_reference_enabled(s.feature_enabled[i][2].into());
                    if s.feature_enabled[i][2] {
                        sb.set_segment_reference(s.feature_data[i][2] as u16);
                    }
                    sb.set_segment_reference_skipped(s.feature_enabled[i][3].into());
                }
            }
        } else {
            self.seg[0] = SegBits::default();
        }
        let temporal = b.segmentation_temporal_update() != 0;
        let mut pp = sys::VADecPictureParameterBufferVP9 {
            frame_width: h.width as u16,
            frame_height: h.height as u16,
            reference_frames: self.slots,
            pic_fields: PicUnion { bits: *b },
            filter_level: h.lf.loop_filter_level,
            sharpness_level: h.lf.loop_filter_sharpness,
            log2_tile_rows: h.tile_rows_log2,
            log2_tile_columns: h.tile_cols_log2,
            frame_header_length_in_bytes: h.uncompressed_header_size as u8,
            first_partition_size: h.header_size_in_bytes,
            mb_segment_tree_probs: s.segmentation_tree_probs,
            segment_pred_probs: [255; 3],
            profile: h.profile,
            bit_depth: h.bit_depth,
            ..Default::default()
        };
        if temporal {
            pp.segment_pred_probs = s.segmentation_pred_prob;
        }
        let mut sp = sys::VASliceParameterBufferVP9 {
            slice_data_size: frame.len() as u32,
            slice_data_offset: 0,
            slice_data_flag: sys::VA_SLICE_DATA_FLAG_ALL,
            ..Default::default()
        };
        for i in 0..8 {
            sp.seg_param[i].segment_flags = SegUnion {
                fields: self.seg[i],
            };
        }
        let target = self.next_surface;
        self.next_surface += 1;
        Some((pp, sp, target, h.refresh_frame_flags))
    }

    fn decoded(&mut self, target: VASurfaceID, refresh_frame_flags: u8) {
        for (i, s) in self.slots.iter_mut().enumerate() {
            if refresh_frame_flags >> i & 1 != 0 {
                *s = target;
            }
        }
    }
}

fn map_one(
    m: &mut Vp9Map,
    pp: &sys::VADecPictureParameterBufferVP9,
    sp: &sys::VASliceParameterBufferVP9,
    data: &[u8],
    timestamp_ns: u64,
    ts: &HashMap<VASurfaceID, u64>,
) -> Result<Mapped, MapError> {
    let slices = [RenderedSlice {
        params: bytes_of(sp),
        data,
    }];
    let r = Rendered {
        pic_params: bytes_of(pp),
        iq: None,
        probability: None,
        slices: &slices,
    };
    let lookup = |s: VASurfaceID| ts.get(&s).copied();
    let cx = MapContext {
        profile: if pp.profile == 2 {
            sys::VAProfileVP9Profile2
        } else {
            sys::VAProfileVP9Profile0
        },
        mode: DecodeMode::FrameBased,
        start_code: StartCode::None,
        timestamp_ns,
        timestamp_of: &lookup,
        has_control: &|_| false,
    };
    m.map(&r, &cx)
}

/// Every frame of `clip` through a client like FFmpeg and our map gives the
/// requests our player's VP9 codec (checked field by field against
/// GStreamer's on visl, `tests/golden/vp9/`) makes from the same stream:
/// same controls, same bitstream, references through surfaces.
fn same_requests_as_the_codec(clip: &str) -> usize {
    let chunks = chunks(clip);
    let mut codec = vreq_codec::vp9::Vp9Codec::new(&CodecPrivate::None).unwrap();
    let mut expected = Vec::new();
    for c in &chunks {
        codec
            .push(CodedUnit {
                data: c,
                pts_ns: None,
                keyframe: false,
                byte_offset: 0,
            })
            .unwrap();
        while let Some(ev) = codec.poll() {
            if let CodecEvent::Decode(j) = ev {
                expected.push(j);
            }
        }
    }
    let mut client = Client::new();
    let mut m = Vp9Map::default();
    let mut ts = HashMap::new();
    let mut n = 0;
    for c in &chunks {
        for (off, size) in syntax::split_superframe(c).unwrap() {
            let frame = &c[off..off + size];
            let Some((pp, sp, target, refresh)) = client.render(frame) else {
                continue;
            };
            let want = &expected[n];
            let got = map_one(&mut m, &pp, &sp, frame, want.timestamp_ns, &ts)
                .unwrap_or_else(|e| panic!("{clip} frame {n}: {e}"));
            assert_eq!(got.jobs.len(), 1);
            let job = &got.jobs[0];
            assert_eq!(job.bitstream, want.bitstream, "{clip} frame {n}");
            assert!(!job.hold_capture && job.starts_picture);
            let (Control::Vp9Frame(a), Control::Vp9Frame(b)) =
                (&job.controls[0], &want.controls[0])
            else {
                panic!("{clip} frame {n}: FRAME first")
            };
            assert_eq!(a, b, "{clip} frame {n}");
            let (Control::Vp9CompressedHdr(a), Control::Vp9CompressedHdr(b)) =
                (&job.controls[1], &want.controls[1])
            else {
                panic!("{clip} frame {n}: COMPRESSED_HDR second")
            };
            assert_eq!(a, b, "{clip} frame {n}");
            assert_eq!(
                got.format,
                PictureFormat {
                    coded_width: pp.frame_width.into(),
                    coded_height: pp.frame_height.into(),
                    bit_depth: pp.bit_depth,
                    dpb_size: 9,
                }
            );
            ts.insert(target, want.timestamp_ns);
            client.decoded(target, refresh);
            n += 1;
        }
    }
    assert_eq!(n, expected.len(), "{clip}: every decoded frame mapped");
    n
}

#[test]
fn every_profile_0_and_2_corpus_clip_maps_as_the_codec_decodes_it() {
    // Profile 3 (simple.mkv) is refused by both; the rest, 8 and 10 bit,
    // with superframes, hidden and show-existing frames, size changes.
    let clips: Vec<_> = vreq_testkit::manifest()
        .into_iter()
        .filter(|e| e.codec == "vp9" && e.profile != "Profile 3" && e.container != "MPEG-TS")
        .collect();
    assert!(clips.len() >= 19, "{} VP9 clips", clips.len());
    assert!(clips.iter().any(|e| e.bit_depth == 10));
    for e in clips {
        let n = same_requests_as_the_codec(&e.path);
        assert!(n as u64 >= e.frames.min(1), "{}: {n} requests", e.path);
    }
}

#[test]
fn test_25fps_maps_as_the_codec_decodes_it() {
    // 250 shown frames, hidden alt-ref frames in superframes: 269 requests
    // (tests/golden/vp9/README.md).
    assert_eq!(
        same_requests_as_the_codec("crates-cros-codecs/test-25fps.vp9.ivf"),
        269
    );
}

#[test]
fn show_existing_frame_vectors_map_as_the_codec_decodes_them() {
    // 13 and 16 frames, 9 requests each: show_existing_frame renders nothing.
    for clip in [
        "crates-cros-codecs/vp90-2-10-show-existing-frame.vp9.ivf",
        "crates-cros-codecs/vp90-2-10-show-existing-frame2.vp9.ivf",
    ] {
        assert_eq!(same_requests_as_the_codec(clip), 9, "{clip}");
    }
}

/// The first frame of test-25fps (a key frame) as the client renders it.
fn first_frame() -> (
    Vec<u8>,
    sys::VADecPictureParameterBufferVP9,
    sys::VASliceParameterBufferVP9,
) {
    let chunks = chunks("crates-cros-codecs/test-25fps.vp9.ivf");
    let frame = chunks[0].clone();
    let (pp, sp, _, _) = Client::new().render(&frame).unwrap();
    (frame, pp, sp)
}

#[test]
fn uncoded_fields_are_not_taken_from_va() {
    // A key frame with FFmpeg-like leftovers of an earlier inter frame in
    // the fields a key frame does not code.
    let (frame, mut pp, sp) = first_frame();
    let fresh = map_one(
        &mut Vp9Map::default(),
        &pp,
        &sp,
        &frame,
        1000,
        &HashMap::new(),
    )
    .unwrap();
    let mut b = bits_of(&pp);
    b.set_intra_only(1);
    b.set_reset_frame_context(3);
    b.set_allow_high_precision_mv(1);
    b.set_mcomp_filter_type(2);
    b.set_last_ref_frame(3);
    b.set_last_ref_frame_sign_bias(1);
    b.set_segmentation_update_map(1);
    pp.pic_fields = PicUnion { bits: b };
    pp.reference_frames = [7, 8, 9, 10, 11, 12, 13, 14];
    let ts: HashMap<_, _> = [(7, 500), (10, 900)].into();
    let stale = map_one(&mut Vp9Map::default(), &pp, &sp, &frame, 1000, &ts).unwrap();
    let (Control::Vp9Frame(a), Control::Vp9Frame(b)) =
        (&fresh.jobs[0].controls[0], &stale.jobs[0].controls[0])
    else {
        panic!()
    };
    // intra: all three references name reference_frames[0] (GStreamer's
    // fill_refs with ref_frame_idx 0), nothing else changes
    assert_eq!(
        (a.last_frame_ts, a.golden_frame_ts, a.alt_frame_ts),
        (0, 0, 0)
    );
    assert_eq!(
        (b.last_frame_ts, b.golden_frame_ts, b.alt_frame_ts),
        (500, 500, 500)
    );
    let mut b = **b;
    b.last_frame_ts = 0;
    b.golden_frame_ts = 0;
    b.alt_frame_ts = 0;
    assert_eq!(**a, b);
}

/// The bit field of `pp` (a copy, through `value`).
fn bits_of(pp: &sys::VADecPictureParameterBufferVP9) -> PicBits {
    let v = vp9_pic_fields(pp);
    let mut b = PicBits::default();
    // rebuild through the setters from our decoding
    let f = PicFields::from_value(v);
    b.set_subsampling_x(f.subsampling_x.into());
    b.set_subsampling_y(f.subsampling_y.into());
    b.set_frame_type(f.frame_type.into());
    b.set_show_frame(f.show_frame.into());
    b.set_error_resilient_mode(f.error_resilient_mode.into());
    b.set_intra_only(f.intra_only.into());
    b.set_allow_high_precision_mv(f.allow_high_precision_mv.into());
    b.set_mcomp_filter_type(f.mcomp_filter_type.into());
    b.set_frame_parallel_decoding_mode(f.frame_parallel_decoding_mode.into());
    b.set_reset_frame_context(f.reset_frame_context.into());
    b.set_refresh_frame_context(f.refresh_frame_context.into());
    b.set_frame_context_idx(f.frame_context_idx.into());
    b.set_segmentation_enabled(f.segmentation_enabled.into());
    b.set_segmentation_temporal_update(f.segmentation_temporal_update.into());
    b.set_segmentation_update_map(f.segmentation_update_map.into());
    b.set_lossless_flag(f.lossless_flag.into());
    assert_eq!(pic_value(b), v);
    b
}

#[test]
fn bad_buffers_are_errors_and_leave_the_state() {
    let (frame, pp, sp) = first_frame();
    let ts = HashMap::new();
    let mut m = Vp9Map::default();
    // header sizes that disagree with the frame's
    let mut bad = pp;
    bad.frame_header_length_in_bytes += 1;
    assert!(matches!(
        map_one(&mut m, &bad, &sp, &frame, 1000, &ts),
        Err(MapError::Header(0, why)) if why.contains("frame_header_length_in_bytes")
    ));
    let mut bad = pp;
    bad.first_partition_size -= 1;
    assert!(matches!(
        map_one(&mut m, &bad, &sp, &frame, 1000, &ts),
        Err(MapError::Header(0, _))
    ));
    let mut bad = pp;
    bad.frame_width += 8;
    assert!(map_one(&mut m, &bad, &sp, &frame, 1000, &ts).is_err());
    // slice data past its buffer, partial, or a truncated frame
    let mut bad = sp;
    bad.slice_data_size += 1;
    assert_eq!(
        map_one(&mut m, &pp, &bad, &frame, 1000, &ts).unwrap_err(),
        MapError::SliceData(0)
    );
    let mut bad = sp;
    bad.slice_data_flag = sys::VA_SLICE_DATA_FLAG_BEGIN;
    assert_eq!(
        map_one(&mut m, &pp, &bad, &frame, 1000, &ts).unwrap_err(),
        MapError::SliceData(0)
    );
    for len in [0, 1, 5, 20] {
        let mut short = sp;
        short.slice_data_size = len;
        assert!(map_one(&mut m, &pp, &short, &frame, 1000, &ts).is_err());
    }
    // a frame marker that is not 2
    let mut garbage = frame.clone();
    garbage[0] ^= 0x80;
    assert!(map_one(&mut m, &pp, &sp, &garbage, 1000, &ts).is_err());
    // a show_existing_frame header (frame_marker 2, profile 0, show_existing 1)
    let show_existing = [0b1000_1000u8, 0];
    let mut se = sp;
    se.slice_data_size = 2;
    assert!(matches!(
        map_one(&mut m, &pp, &se, &show_existing, 1000, &ts),
        Err(MapError::Unsupported(_))
    ));
    // picture parameters that say profile 2 for a profile 0 frame
    let mut p2 = pp;
    p2.profile = 2;
    assert!(matches!(
        map_one(&mut m, &p2, &sp, &frame, 1000, &ts),
        Err(MapError::Header(0, why)) if why.contains("profile")
    ));
    // no, two or short buffers
    let slices: [RenderedSlice; 0] = [];
    let lookup = |_: VASurfaceID| None;
    let cx = MapContext {
        profile: sys::VAProfileVP9Profile0,
        mode: DecodeMode::FrameBased,
        start_code: StartCode::None,
        timestamp_ns: 1000,
        timestamp_of: &lookup,
        has_control: &|_| false,
    };
    let r = Rendered {
        pic_params: bytes_of(&pp),
        iq: None,
        probability: None,
        slices: &slices,
    };
    assert_eq!(m.map(&r, &cx).unwrap_err(), MapError::NoSlices);
    let two = [
        RenderedSlice {
            params: bytes_of(&sp),
            data: &frame,
        },
        RenderedSlice {
            params: bytes_of(&sp),
            data: &frame,
        },
    ];
    let r2 = Rendered { slices: &two, ..r };
    assert!(matches!(m.map(&r2, &cx), Err(MapError::Unsupported(_))));
    let r3 = Rendered {
        pic_params: &bytes_of(&pp)[..10],
        slices: &two[..1],
        ..r
    };
    assert_eq!(m.map(&r3, &cx).unwrap_err(), MapError::PictureParameters);
    let r4 = Rendered {
        slices: &[RenderedSlice {
            params: &bytes_of(&sp)[..8],
            data: &frame,
        }],
        ..r
    };
    assert_eq!(m.map(&r4, &cx).unwrap_err(), MapError::SliceData(0));
    // after all that, the map gives what a fresh one gives
    let after = map_one(&mut m, &pp, &sp, &frame, 1000, &ts).unwrap();
    let fresh = map_one(&mut Vp9Map::default(), &pp, &sp, &frame, 1000, &ts).unwrap();
    let (Control::Vp9Frame(a), Control::Vp9Frame(b)) =
        (&after.jobs[0].controls[0], &fresh.jobs[0].controls[0])
    else {
        panic!()
    };
    assert_eq!(a, b);
    assert_eq!(after.jobs[0].bitstream, frame);
}

#[test]
fn check_takes_vp9_buffers_only() {
    let m = Vp9Map::default();
    let pp = sys::VADecPictureParameterBufferVP9::default();
    let sp = sys::VASliceParameterBufferVP9::default();
    assert_eq!(
        m.check(sys::VAPictureParameterBufferType, bytes_of(&pp)),
        Ok(())
    );
    assert_eq!(
        m.check(sys::VAPictureParameterBufferType, &bytes_of(&pp)[1..]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        m.check(sys::VASliceParameterBufferType, bytes_of(&sp)),
        Ok(())
    );
    assert_eq!(
        m.check(sys::VASliceParameterBufferType, &bytes_of(&sp)[4..]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    assert_eq!(m.check(sys::VASliceDataBufferType, &[1, 2]), Ok(()));
    assert_eq!(
        m.check(sys::VAIQMatrixBufferType, &[0; 64]),
        Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE)
    );
    assert_eq!(
        crate::map::for_profile(sys::VAProfileVP9Profile2).map(|m| m.kind()),
        Some(CodecKind::Vp9)
    );
}

#[test]
fn decoder_on_a_fake_visl_queues_one_request_per_frame_with_references() {
    let dev = FakeDevice::for_codec(for_driver("visl", "visl"), CodecKind::Vp9);
    let chunks = chunks("crates-cros-codecs/test-25fps.vp9.ivf");
    let mut d = Decoder::new(
        dev,
        Box::new(Vp9Map::default()),
        sys::VAProfileVP9Profile0,
        320,
        240,
        0,
    );
    let mut client = Client::new();
    let mut targets = Vec::new();
    for c in chunks.iter().take(4) {
        for (off, size) in syntax::split_superframe(c).unwrap() {
            let frame = &c[off..off + size];
            let (pp, sp, target, refresh) = client.render(frame).unwrap();
            let mut pic = Picture::new(target);
            let map = Vp9Map::default();
            pic.render(&map, sys::VAPictureParameterBufferType, bytes_of(&pp), 1)
                .unwrap();
            pic.render(&map, sys::VASliceParameterBufferType, bytes_of(&sp), 1)
                .unwrap();
            pic.render(&map, sys::VASliceDataBufferType, frame, 1)
                .unwrap();
            d.decode(&pic).unwrap();
            client.decoded(target, refresh);
            targets.push((target, pp));
        }
    }
    for (t, _) in &targets {
        d.sync(*t).unwrap();
        assert_eq!(d.status(*t), Ok(sys::VASurfaceReady));
    }
    let dev = d.engine().device();
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    let jobs = dev.jobs();
    assert_eq!(jobs.len(), targets.len());
    for (j, (t, pp)) in jobs.iter().zip(&targets) {
        assert_eq!(d.timestamp_of(*t), Some(j.timestamp_ns));
        assert_eq!(
            j.control_ids,
            [
                bindings::V4L2_CID_STATELESS_VP9_FRAME,
                bindings::V4L2_CID_STATELESS_VP9_COMPRESSED_HDR
            ]
        );
        let Control::Vp9Frame(f) = &j.controls[0] else {
            panic!()
        };
        if f.flags & bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME == 0 {
            // an inter frame's LAST reference is the picture in the surface
            // reference_frames[last_ref_frame] names
            let pic = PicFields::from_value(vp9_pic_fields(pp));
            let s = pp.reference_frames[usize::from(pic.last_ref_frame)];
            assert_ne!(f.last_frame_ts, 0);
            assert_eq!(Some(f.last_frame_ts), d.timestamp_of(s));
        }
    }
    let c = dev.configures();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.coded_width, c[0].1.coded_height), (320, 240));
}

#[test]
fn damaged_frames_are_errors_or_requests_never_panics() {
    // Random bytes flipped in each of the first frames of test-25fps (and
    // random picture parameters' header sizes): every map call returns.
    let chunks = chunks("crates-cros-codecs/test-25fps.vp9.ivf");
    let mut client = Client::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut m = Vp9Map::default();
    let ts = HashMap::new();
    let (mut ok, mut err) = (0, 0);
    for c in chunks.iter().take(6) {
        for (off, size) in syntax::split_superframe(c).unwrap() {
            let frame = &c[off..off + size];
            let (pp, sp, target, refresh) = client.render(frame).unwrap();
            for _ in 0..300 {
                let mut bad = frame.to_vec();
                for _ in 0..1 + rnd() % 4 {
                    let i = (rnd() % bad.len().min(64) as u64) as usize;
                    bad[i] ^= 1 << (rnd() % 8);
                }
                let mut p = pp;
                if rnd() % 4 == 0 {
                    p.first_partition_size = rnd() as u16;
                }
                match map_one(&mut m, &p, &sp, &bad, 1000, &ts) {
                    Ok(_) => ok += 1,
                    Err(_) => err += 1,
                }
            }
            // the undamaged frame keeps the map's state in step
            map_one(&mut m, &pp, &sp, frame, 1000, &ts).unwrap();
            client.decoded(target, refresh);
        }
    }
    assert!(err > 0, "{ok} mapped, {err} refused");
}
