use super::*;
use crate::ffi::bytes_of;
use crate::map::RenderedSlice;
use crate::status::*;
use crate::sys::{
    _VAPictureParameterBufferVP8__bindgen_ty_1 as PicUnion,
    _VAPictureParameterBufferVP8__bindgen_ty_1__bindgen_ty_1 as PicBits,
};
use vreq_testkit::ivf_frames;

/// The corpus clip whose second frame updates the segment map without
/// feature data (GStreamer's values for it are in the codec's tests).
fn clip() -> Vec<Vec<u8>> {
    ivf_frames(&vreq_testkit::media_dir().join("debian-src-firefox-esr/test_case_1224361.vp8.ivf"))
}

/// What a VA client renders for one frame, built as GStreamer's
/// `gstvavp8dec.c` builds it from the same parser state (`with_tag`: the
/// slice data buffer holds the whole frame, `slice_data_offset` the tag's
/// size) or as FFmpeg's `vaapi_vp8.c` passes the data (after the tag,
/// offset 0). `refs`: last, golden, alt-ref surfaces.
struct VaFrame {
    pp: sys::VAPictureParameterBufferVP8,
    prob: sys::VAProbabilityDataBufferVP8,
    sp: sys::VASliceParameterBufferVP8,
    data: Vec<u8>,
}

fn va_frame(frame: &[u8], state: &mut Parser, with_tag: bool, refs: [VASurfaceID; 3]) -> VaFrame {
    let h = state.parse_frame(frame).unwrap();
    let mut bits = PicBits::default();
    bits.set_key_frame(u32::from(!h.key_frame));
    bits.set_version(u32::from(h.version));
    bits.set_segmentation_enabled(u32::from(state.segmentation.segmentation_enabled));
    bits.set_filter_type(u32::from(h.filter_type));
    bits.set_sharpness_level(u32::from(h.sharpness_level));
    bits.set_mb_no_coeff_skip(u32::from(h.mb_no_skip_coeff));
    let mut mv = [[0u8; 19]; 2];
    for (i, p) in mv.iter_mut().flatten().enumerate() {
        *p = h.mv_probs[i];
    }
    let pp = sys::VAPictureParameterBufferVP8 {
        frame_width: 64,
        frame_height: 36,
        last_ref_frame: refs[0],
        golden_ref_frame: refs[1],
        alt_ref_frame: refs[2],
        out_of_loop_frame: sys::VA_INVALID_SURFACE,
        pic_fields: PicUnion { bits },
        mb_segment_tree_probs: state.segmentation.segment_prob,
        loop_filter_level: [h.loop_filter_level; 4],
        loop_filter_deltas_ref_frame: state.mb_lf_adjust.ref_frame_delta,
        loop_filter_deltas_mode: state.mb_lf_adjust.mb_mode_delta,
        prob_skip_false: h.prob_skip_false,
        prob_intra: h.prob_intra,
        prob_last: h.prob_last,
        prob_gf: h.prob_gf,
        y_mode_probs: h.y_mode_probs,
        uv_mode_probs: h.uv_mode_probs,
        mv_probs: mv,
        bool_coder_ctx: sys::VABoolCoderContextVPX {
            range: h.rd_range,
            value: h.rd_value,
            count: h.rd_count,
        },
        va_reserved: [0; 4],
    };
    let mut prob = sys::VAProbabilityDataBufferVP8::default();
    for (i, p) in prob
        .dct_coeff_probs
        .iter_mut()
        .flatten()
        .flatten()
        .flatten()
        .enumerate()
    {
        *p = h.coeff_probs[i];
    }
    let tag = h.data_chunk_size as usize;
    let n = h.num_dct_partitions() as usize;
    let mut sp = sys::VASliceParameterBufferVP8 {
        slice_data_size: (frame.len() - if with_tag { 0 } else { tag }) as u32,
        slice_data_offset: if with_tag { tag as u32 } else { 0 },
        slice_data_flag: sys::VA_SLICE_DATA_FLAG_ALL,
        macroblock_offset: h.header_size,
        num_of_partitions: n as u8 + 1,
        ..Default::default()
    };
    // unsigned, as both clients compute it: wraps when the header reads past
    // the first partition (this clip's second frame: 245 bits in 27 bytes)
    sp.partition_size[0] = h.first_part_size.wrapping_sub(h.header_size.div_ceil(8));
    sp.partition_size[1..=n].copy_from_slice(&h.partition_size[..n]);
    let data = if with_tag {
        frame.to_vec()
    } else {
        frame[tag..].to_vec()
    };
    VaFrame { pp, prob, sp, data }
}

impl VaFrame {
    fn map(
        &self,
        m: &mut Vp8Map,
        ts: u64,
        timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
    ) -> Result<Mapped, MapError> {
        let slices = [RenderedSlice {
            params: bytes_of(&self.sp),
            data: &self.data,
        }];
        let r = Rendered {
            pic_params: bytes_of(&self.pp),
            iq: None,
            probability: Some(bytes_of(&self.prob)),
            slices: &slices,
        };
        m.map(
            &r,
            &MapContext {
                profile: sys::VAProfileVP8Version0_3,
                mode: vreq_core::DecodeMode::FrameBased,
                start_code: vreq_core::StartCode::None,
                timestamp_ns: ts,
                timestamp_of,
                has_control: &|_| false,
            },
        )
    }
}

fn frame_of(m: &Mapped) -> &bindings::v4l2_ctrl_vp8_frame {
    let [Control::Vp8Frame(f)] = &m.jobs[0].controls[..] else {
        panic!("{:?}", m.jobs[0].controls)
    };
    f
}

#[test]
fn pic_fields_bits_are_va_dec_vp8_h_layout() {
    let mut b = PicBits::default();
    b.set_key_frame(1);
    b.set_version(5);
    b.set_sharpness_level(6);
    b.set_loop_filter_adj_enable(1);
    b.set_mb_no_coeff_skip(1);
    b.set_loop_filter_disable(1);
    let pp = sys::VAPictureParameterBufferVP8 {
        pic_fields: PicUnion { bits: b },
        ..va_frame(&clip()[0], &mut Parser::default(), false, [0; 3]).pp
    };
    let v = vp8_pic_fields(&pp);
    assert_eq!(v, 1 | 5 << 1 | 6 << 8 | 1 << 11 | 1 << 15 | 1 << 16);
    let f = PicFields::from_value(v);
    assert_eq!(
        f,
        PicFields {
            key_frame: true,
            version: 5,
            sharpness_level: 6,
            loop_filter_adj_enable: true,
            mb_no_coeff_skip: true,
            loop_filter_disable: true,
            ..Default::default()
        }
    );
    assert!(
        !f.is_key_frame(),
        "va_dec_vp8.h key_frame 1 = an inter frame"
    );
}

#[test]
fn frame_tag_is_rfc_6386_9_1() {
    // key frame, version 0, shown, first partition 199 bytes, 176 x 144
    let t = frame_tag(true, 0, true, 199, 176, 144);
    assert_eq!(t.len(), 10);
    let tag = u32::from(t[0]) | u32::from(t[1]) << 8 | u32::from(t[2]) << 16;
    assert_eq!(
        (tag & 1, tag >> 1 & 7, tag >> 4 & 1, tag >> 5),
        (0, 0, 1, 199)
    );
    assert_eq!(&t[3..], &[0x9d, 0x01, 0x2a, 176, 0, 144, 0]);
    let t = frame_tag(false, 3, false, 0x7ffff, 0, 0);
    assert_eq!(t, [0xe7, 0xff, 0xff]);
}

/// Both clients' ways of passing a frame give the frame's own bytes as
/// bitstream and GStreamer's `v4l2slvp8dec` values (the codec's test
/// `segment_map_update_without_feature_data_matches_gstreamer` has them
/// from its visl trace) for the fields VA lacks.
#[test]
fn ffmpeg_and_gstreamer_layouts_give_gstreamers_frame() {
    let frames = clip();
    for with_tag in [false, true] {
        let mut state = Parser::default();
        let mut m = Vp8Map::default();
        let k = va_frame(
            &frames[0],
            &mut state,
            with_tag,
            [sys::VA_INVALID_SURFACE; 3],
        );
        let out = k.map(&mut m, 1000, &|_| None).unwrap();
        assert_eq!(out.jobs[0].bitstream, frames[0], "with_tag {with_tag}");
        assert_eq!(
            out.format,
            PictureFormat {
                coded_width: 64,
                coded_height: 48,
                bit_depth: 8,
                dpb_size: 4
            }
        );
        let f = frame_of(&out);
        assert_eq!(
            (
                f.coder_state.range,
                f.coder_state.value,
                f.coder_state.bit_count
            ),
            (236, 120, 4)
        );
        assert_eq!((f.first_part_size, f.first_part_header_bits), (199, 204));
        assert_eq!(f.dct_part_sizes[0], 0x46c);
        assert_eq!(f.segment.quant_update, [-127, 4, -5, 0]);
        assert_eq!(
            f.flags & u64::from(bindings::V4L2_VP8_FRAME_FLAG_KEY_FRAME),
            u64::from(bindings::V4L2_VP8_FRAME_FLAG_KEY_FRAME)
        );
        assert_eq!((f.width, f.height), (64, 36));

        let ts_of = |s: VASurfaceID| (s == 7).then_some(1000);
        let p = va_frame(&frames[1], &mut state, with_tag, [7, 7, 7]);
        let out = p.map(&mut m, 2000, &ts_of).unwrap();
        assert_eq!(out.jobs[0].bitstream, frames[1]);
        let f = frame_of(&out);
        assert_eq!(
            (
                f.coder_state.range,
                f.coder_state.value,
                f.coder_state.bit_count
            ),
            (224, 18, 3)
        );
        assert_eq!((f.first_part_size, f.first_part_header_bits), (27, 245));
        assert_eq!(f.dct_part_sizes[..2], [0x46, 0]);
        assert_eq!((f.prob_intra, f.prob_last, f.prob_gf), (194, 179, 73));
        assert_eq!(
            (
                f.quant.y_ac_qi,
                f.quant.y_dc_delta,
                f.quant.y2_dc_delta,
                f.quant.uv_dc_delta
            ),
            (79, -10, 7, 4)
        );
        // kept from the key frame: this frame updates the map, not the data
        assert_eq!(f.segment.quant_update, [-127, 4, -5, 0]);
        assert_eq!(f.segment.segment_probs, [0xff, 0xcd, 0xff]);
        let seg =
            bindings::V4L2_VP8_SEGMENT_FLAG_ENABLED | bindings::V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP;
        assert_eq!(
            f.segment.flags & (seg | bindings::V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA),
            seg
        );
        assert_eq!(
            (f.last_frame_ts, f.golden_frame_ts, f.alt_frame_ts),
            (1000, 1000, 1000)
        );
    }
}

/// The entropy is VA's, except for a frame whose header ran past its first
/// partition (this clip's second frame, 245 header bits in 27 bytes): there
/// the clients' guesses differ (FFmpeg's probabilities differed from
/// GStreamer's golden in one coefficient in the VM) and the parser's
/// (libvpx's reading) is taken.
#[test]
fn entropy_is_vas_unless_the_header_ran_past_its_partition() {
    let frames = clip();
    let mut state = Parser::default();
    let mut m = Vp8Map::default();
    let mut k = va_frame(&frames[0], &mut state, false, [sys::VA_INVALID_SURFACE; 3]);
    let parsed_k = k.prob.dct_coeff_probs[3][7][0][10];
    k.prob.dct_coeff_probs[3][7][0][10] ^= 1;
    k.pp.mv_probs[1][18] ^= 1;
    let out = k.map(&mut m, 1000, &|_| None).unwrap();
    let f = frame_of(&out);
    assert!(!header_past_partition(
        &Parser::default().parse_frame(&frames[0]).unwrap()
    ));
    assert_eq!(f.entropy.coeff_probs[3][7][0][10], parsed_k ^ 1, "VA's");
    assert_eq!(f.entropy.mv_probs, k.pp.mv_probs);

    let mut p = va_frame(&frames[1], &mut state, false, [7, 7, 7]);
    let parsed = p.prob.dct_coeff_probs;
    let parsed_mv = p.pp.mv_probs;
    p.prob.dct_coeff_probs[3][7][0][10] ^= 1;
    p.pp.mv_probs[0][0] ^= 1;
    let out = p.map(&mut m, 2000, &|_| None).unwrap();
    let f = frame_of(&out);
    assert_eq!(f.first_part_header_bits, 245);
    assert_eq!(f.first_part_size, 27);
    assert_eq!(f.entropy.coeff_probs, parsed, "the parser's");
    assert_eq!(f.entropy.mv_probs, parsed_mv);
}

#[test]
fn bad_frames_are_errors_and_keep_the_parser_state() {
    let frames = clip();
    let mut state = Parser::default();
    let mut m = Vp8Map::default();
    let k = va_frame(&frames[0], &mut state, false, [sys::VA_INVALID_SURFACE; 3]);
    k.map(&mut m, 1000, &|_| None).unwrap();
    let before = format!("{m:?}");
    let p = va_frame(&frames[1], &mut state, false, [7, 7, 7]);

    // VA says key frame, the header (rebuilt tag + data) reads otherwise or fails
    let mut bad = clone(&p);
    let mut bits = PicBits::default();
    bits.set_key_frame(0);
    bad.pp.pic_fields = PicUnion { bits };
    assert!(matches!(
        bad.map(&mut m, 2000, &|_| None),
        Err(MapError::Header(..))
    ));
    // partition count VA cannot have, and one that disagrees with the header
    let mut bad = clone(&p);
    bad.sp.num_of_partitions = 4;
    assert_eq!(
        bad.map(&mut m, 2000, &|_| None).unwrap_err(),
        MapError::SliceData(0)
    );
    let mut bad = clone(&p);
    bad.sp.num_of_partitions = 3;
    assert!(matches!(
        bad.map(&mut m, 2000, &|_| None),
        Err(MapError::Header(..))
    ));
    // partial slice, offset past the buffer, truncated partitions
    let mut bad = clone(&p);
    bad.sp.slice_data_flag = sys::VA_SLICE_DATA_FLAG_BEGIN;
    assert!(bad.map(&mut m, 2000, &|_| None).is_err());
    let mut bad = clone(&p);
    bad.sp.slice_data_offset = bad.data.len() as u32 + 1;
    assert!(bad.map(&mut m, 2000, &|_| None).is_err());
    let mut bad = clone(&p);
    bad.data.truncate(10);
    assert!(matches!(
        bad.map(&mut m, 2000, &|_| None),
        Err(MapError::Header(..))
    ));
    // a first partition larger than the tag's 19 bits
    let mut bad = clone(&p);
    bad.sp.partition_size[0] = 0x80000;
    assert!(matches!(
        bad.map(&mut m, 2000, &|_| None),
        Err(MapError::Header(..))
    ));
    assert_eq!(
        format!("{m:?}"),
        before,
        "no error changed the parser state"
    );
    // no probability buffer, no slice, two slices
    let slices = [RenderedSlice {
        params: bytes_of(&p.sp),
        data: &p.data,
    }];
    let cx = MapContext {
        profile: sys::VAProfileVP8Version0_3,
        mode: vreq_core::DecodeMode::FrameBased,
        start_code: vreq_core::StartCode::None,
        timestamp_ns: 2000,
        timestamp_of: &|_| None,
        has_control: &|_| false,
    };
    let r = |probability, slices| Rendered {
        pic_params: bytes_of(&p.pp),
        iq: None,
        probability,
        slices,
    };
    assert!(matches!(
        m.map(&r(None, &slices), &cx),
        Err(MapError::Unsupported(_))
    ));
    let prob = Some(bytes_of(&p.prob));
    assert_eq!(m.map(&r(prob, &[]), &cx).unwrap_err(), MapError::NoSlices);
    let two = [slices[0], slices[0]];
    assert_eq!(
        m.map(&r(prob, &two), &cx).unwrap_err(),
        MapError::SliceData(1)
    );
    // and the good frame still maps
    let out = p.map(&mut m, 2000, &|_| None).unwrap();
    assert_eq!(frame_of(&out).first_part_header_bits, 245);
}

fn clone(f: &VaFrame) -> VaFrame {
    VaFrame {
        pp: f.pp,
        prob: f.prob,
        sp: f.sp,
        data: f.data.clone(),
    }
}

/// The whole path on a fake visl: `Decoder` + `Vp8Map`, a key frame then an
/// inter frame whose references are the key frame's surface: its
/// `last_frame_ts` is the key frame's OUTPUT timestamp.
#[test]
fn decoder_on_fake_visl_decodes_key_then_inter() {
    use crate::testdev::{assert_pair_decoded, decode_buffers, fake_visl_decoder};

    let frames = clip();
    let mut d = fake_visl_decoder(
        CodecKind::Vp8,
        Box::new(Vp8Map::default()),
        sys::VAProfileVP8Version0_3,
        64,
        36,
    );
    let render = |d: &mut _, target, f: &VaFrame| {
        let buffers = [
            (sys::VAPictureParameterBufferType, bytes_of(&f.pp)),
            (sys::VAProbabilityBufferType, bytes_of(&f.prob)),
            (sys::VASliceParameterBufferType, bytes_of(&f.sp)),
            (sys::VASliceDataBufferType, &f.data[..]),
        ];
        decode_buffers(d, &Vp8Map::default(), target, &buffers)
    };
    let mut state = Parser::default();
    let k = va_frame(&frames[0], &mut state, false, [sys::VA_INVALID_SURFACE; 3]);
    render(&mut d, 3, &k).unwrap();
    let p = va_frame(&frames[1], &mut state, false, [3, 3, 3]);
    render(&mut d, 4, &p).unwrap();
    assert_pair_decoded(&mut d, 3, 4);
    let dev = d.engine().device();
    let jobs = dev.jobs();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0].control_ids,
        [bindings::V4L2_CID_STATELESS_VP8_FRAME]
    );
    assert_eq!(jobs[0].bitstream, frames[0]);
    let Control::Vp8Frame(f) = &jobs[1].controls[0] else {
        panic!()
    };
    assert_eq!(f.last_frame_ts, jobs[0].timestamp_ns);
    let c = dev.configures();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.coded_width, c[0].1.coded_height), (64, 48));
}

#[test]
fn check_wants_whole_structs_and_vp8_buffer_types() {
    let m = Vp8Map::default();
    let n = std::mem::size_of::<sys::VAProbabilityDataBufferVP8>();
    assert_eq!(m.check(sys::VAProbabilityBufferType, &vec![0; n]), Ok(()));
    assert_eq!(
        m.check(sys::VAProbabilityBufferType, &vec![0; n - 1]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        m.check(sys::VAHuffmanTableBufferType, &[0; 4096]),
        Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE)
    );
}

/// Random picture parameters, slice parameters and data (a corpus frame
/// with random bytes flipped, or random bytes): errors or frames, never a
/// panic; the frame header reader is bounded.
#[test]
fn random_buffers_never_panic() {
    let frames = clip();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut state = Parser::default();
    let good = va_frame(&frames[0], &mut state, false, [0; 3]);
    let mut m = Vp8Map::default();
    for i in 0..3000 {
        let mut f = clone(&good);
        let pp = random_bytes(
            &mut next,
            std::mem::size_of::<sys::VAPictureParameterBufferVP8>(),
        );
        let sp = random_bytes(
            &mut next,
            std::mem::size_of::<sys::VASliceParameterBufferVP8>(),
        );
        if i % 3 == 0 {
            f.pp = crate::ffi::read_element(&pp, 0).unwrap();
        }
        if i % 3 == 1 {
            f.sp = crate::ffi::read_element(&sp, 0).unwrap();
            f.sp.slice_data_flag = sys::VA_SLICE_DATA_FLAG_ALL;
            f.sp.num_of_partitions = [2, 3, 5, 9][(next() % 4) as usize];
        }
        for _ in 0..(next() % 8) {
            if !f.data.is_empty() {
                let at = (next() as usize) % f.data.len();
                f.data[at] ^= next() as u8;
            }
        }
        f.data.truncate((next() as usize) % (f.data.len() + 1));
        let _ = f.map(&mut m, 1000, &|_| Some(1));
    }
}

fn random_bytes(next: &mut impl FnMut() -> u64, n: usize) -> Vec<u8> {
    (0..n).map(|_| next() as u8).collect()
}
