//! Unit tests: reference management and header → control mapping on the
//! corpus' VP8 IVF clip.

use super::*;
use vreq_core::Control;
use vreq_testkit::ivf_frames;

fn run(frames: &[Vec<u8>]) -> Vec<CodecEvent> {
    let mut c = Vp8Codec::new(&CodecPrivate::default()).unwrap();
    let mut ev = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        c.push(CodedUnit {
            data: f,
            pts_ns: Some(i as i64),
            byte_offset: i as u64,
            keyframe: false,
        })
        .unwrap();
        while let Some(e) = c.poll() {
            ev.push(e);
        }
    }
    c.flush().unwrap();
    while let Some(e) = c.poll() {
        ev.push(e);
    }
    ev
}

#[test]
fn refs_follow_gstreamer_order() {
    let mut r = Refs::default();
    let mut h = parser::FrameHeader {
        key_frame: true,
        ..Default::default()
    };
    r.update(&h, 0);
    assert_eq!((r.last, r.golden, r.alt), (Some(0), Some(0), Some(0)));
    h.key_frame = false;
    h.refresh_last = true;
    r.update(&h, 1000);
    assert_eq!((r.last, r.golden, r.alt), (Some(1000), Some(0), Some(0)));
    // alt <- last first, then golden <- alt (the updated one).
    h.refresh_last = false;
    h.copy_buffer_to_alternate = 1;
    h.copy_buffer_to_golden = 2;
    r.update(&h, 2000);
    assert_eq!(
        (r.last, r.golden, r.alt),
        (Some(1000), Some(1000), Some(1000))
    );
    h.copy_buffer_to_alternate = 0;
    h.copy_buffer_to_golden = 0;
    h.refresh_golden_frame = true;
    r.update(&h, 3000);
    assert_eq!(r.golden, Some(3000));
}

#[test]
fn ivf_clip_controls_and_events() {
    let path = vreq_testkit::media_dir().join("crates-cros-codecs/test-25fps.vp8.ivf");
    let frames = ivf_frames(&path);
    assert_eq!(frames.len(), 250);
    let ev = run(&frames);
    let configs = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Configure(_)))
        .count();
    assert_eq!(configs, 1);
    // RFC 6386 9.2: BT.601 (H.273 matrix_coefficients 6), limited range
    let Some(CodecEvent::Configure(p)) = ev.first() else {
        panic!("first event {:?}", ev.first())
    };
    assert_eq!(
        (p.color.matrix_coefficients, p.color.video_full_range),
        (Some(6), false)
    );
    let mut decodes = 0;
    let mut outputs = 0;
    for e in &ev {
        match e {
            CodecEvent::Decode(j) => {
                let Control::Vp8Frame(f) = &j.controls[0] else {
                    panic!("not VP8_FRAME")
                };
                assert_eq!((f.width, f.height), (320, 240));
                assert!(f.coder_state.range >= 128 && f.coder_state.bit_count < 8);
                assert!(f.num_dct_parts >= 1 && f.num_dct_parts <= 8);
                let n = j.timestamp_ns / 1000;
                let key = f.flags & u64::from(v4l2r::bindings::V4L2_VP8_FRAME_FLAG_KEY_FRAME) != 0;
                assert_eq!(key, frames[n as usize][0] & 1 == 0);
                // The partitions and header add up to the frame.
                let parts: u32 = f.dct_part_sizes[..f.num_dct_parts as usize].iter().sum();
                let hdr = if key { 10 } else { 3 };
                assert_eq!(
                    hdr + f.first_part_size + 3 * (f.num_dct_parts as u32 - 1) + parts,
                    j.bitstream.len() as u32
                );
                assert!(f.first_part_header_bits <= 8 * f.first_part_size);
                if n > 0 {
                    assert_ne!(f.last_frame_ts, j.timestamp_ns);
                    assert!(f.last_frame_ts < j.timestamp_ns);
                }
                decodes += 1;
            }
            CodecEvent::Output { .. } => outputs += 1,
            _ => {}
        }
    }
    assert_eq!(decodes, 250);
    assert_eq!(outputs, 250);
    let unrefs = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Unref { .. }))
        .count();
    assert_eq!(unrefs, 250, "every decoded frame released by the end");
}

#[test]
fn garbage_and_truncation_skip_to_key_frame() {
    let path = vreq_testkit::media_dir().join("crates-cros-codecs/test-25fps.vp8.ivf");
    let mut frames = ivf_frames(&path);
    frames[5].truncate(2);
    frames[7] = vec![0xff; 3];
    frames[9] = vec![0u8; 12];
    let l = frames[11].len() / 3;
    frames[11].truncate(l);
    let ev = run(&frames);
    let skipped = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Skipped { .. }))
        .count();
    assert!(skipped > 0);
    // Nothing between the first damage and the next key frame is decoded.
    let next_key = frames
        .iter()
        .enumerate()
        .skip(6)
        .find(|(_, f)| f[0] & 1 == 0 && f.len() > 10)
        .map(|(i, _)| i as u64);
    for e in &ev {
        if let CodecEvent::Decode(j) = e {
            let n = j.timestamp_ns / 1000;
            assert!(
                n < 5 || Some(n) >= next_key,
                "frame {n} decoded after damage"
            );
        }
    }
}

/// Values from GStreamer 1.26.2's `v4l2slvp8dec` on visl (the
/// `v4l2_ctrl_vp8_frame` trace events of `test_case_1224361.vp8.ivf`): the
/// second frame updates the segment map without feature data, the case
/// cros-codecs 0.0.6 mis-parses.
#[test]
fn segment_map_update_without_feature_data_matches_gstreamer() {
    let path = vreq_testkit::media_dir().join("debian-src-firefox-esr/test_case_1224361.vp8.ivf");
    let frames = ivf_frames(&path);
    let mut p = parser::Parser::default();
    let k = p.parse_frame(&frames[0]).unwrap();
    assert_eq!((k.rd_range, k.rd_value, k.rd_count), (236, 120, 4));
    assert_eq!((k.first_part_size, k.header_size), (199, 204));
    assert_eq!(k.partition_size[0], 0x46c);
    assert_eq!(p.segmentation.quantizer_update_value, [-127i8, 4, -5, 0]);
    let h = p.parse_frame(&frames[1]).unwrap();
    assert!(
        p.segmentation.update_mb_segmentation_map && !p.segmentation.update_segment_feature_data
    );
    assert_eq!(p.segmentation.segment_prob, [0xff, 0xcd, 0xff]);
    assert_eq!((h.rd_range, h.rd_value, h.rd_count), (224, 18, 3));
    assert_eq!((h.first_part_size, h.header_size), (27, 245));
    assert_eq!(h.partition_size[..2], [0x46, 0]);
    assert_eq!((h.prob_intra, h.prob_last, h.prob_gf), (194, 179, 73));
    assert_eq!(
        (
            h.quant.y_ac_qi,
            h.quant.y_dc_delta,
            h.quant.y2_dc_delta,
            h.quant.uv_dc_delta
        ),
        (79, -10, 7, 4)
    );
}

#[test]
fn short_and_garbage_frames_are_errors_not_panics() {
    let mut p = parser::Parser::default();
    for len in 0..40usize {
        for fill in [0u8, 0xff, 0x5a] {
            let mut d = vec![fill; len];
            if len > 0 {
                d[0] &= !1; // key frame tag
            }
            let _ = p.parse_frame(&d);
            if len > 0 {
                d[0] |= 1;
            }
            let _ = p.parse_frame(&d);
        }
    }
}
