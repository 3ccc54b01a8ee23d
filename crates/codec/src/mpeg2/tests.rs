//! Unit tests for the MPEG-2 codec on synthetic streams (corpus streams:
//! tests/mpeg2_pipeline.rs).

use super::controls::NO_REFERENCE_TIMESTAMP_NS;
use super::*;
use vreq_core::Control;

/// 720x576, 25 fps sequence header (no matrices) + sequence extension
/// (Main@Main, progressive_sequence as given, 4:2:0).
fn seq(progressive: bool) -> Vec<u8> {
    let mut v = vec![
        0, 0, 1, 0xB3, 0x2D, 0x02, 0x40, 0x23, 0xFF, 0xFF, 0xE0, 0x00,
    ];
    let b1 = 0x80 | (u8::from(progressive) << 3) | 0x02;
    v.extend_from_slice(&[0, 0, 1, 0xB5, 0x14, b1, 0x00, 0x01, 0x00, 0x00]);
    v
}

fn mpeg1_seq() -> Vec<u8> {
    vec![
        0, 0, 1, 0xB3, 0x2D, 0x02, 0x40, 0x23, 0xFF, 0xFF, 0xE0, 0x00,
    ]
}

fn gop(closed: bool) -> Vec<u8> {
    // time_code 25 bits 0, closed_gop, broken_link.
    vec![0, 0, 1, 0xB8, 0, 0, 0, if closed { 0x40 } else { 0 }]
}

fn pic(tr: u16, ty: u8, structure: u8) -> Vec<u8> {
    let b0 = (tr >> 2) as u8;
    let b1 = (((tr & 3) as u8) << 6) | (ty << 3);
    let mut v = vec![0, 0, 1, 0x00, b0, b1, 0, 0];
    // picture coding extension: f_code 1,2,3,4; dc 0; structure; tff=1, rest 0.
    v.extend_from_slice(&[0, 0, 1, 0xB5, 0x81, 0x23, 0x40 | structure, 0x80, 0x00]);
    v.extend_from_slice(&[0, 0, 1, 0x01, 0xAA, 0xBB]);
    v
}

/// A quant matrix extension loading intra = all 9 and chroma intra = all 7.
fn quant_ext() -> Vec<u8> {
    let mut bits: Vec<u8> = vec![0, 0, 1, 1]; // id 3
    bits.push(1);
    bits.extend(std::iter::repeat_n([0, 0, 0, 0, 1, 0, 0, 1], 64).flatten());
    bits.push(0);
    bits.push(1);
    bits.extend(std::iter::repeat_n([0, 0, 0, 0, 0, 1, 1, 1], 64).flatten());
    bits.push(0);
    while bits.len() % 8 != 0 {
        bits.push(0);
    }
    let mut v = vec![0, 0, 1, 0xB5];
    v.extend(
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |a, b| (a << 1) | b)),
    );
    v
}

fn unit(data: &[u8]) -> CodedUnit<'_> {
    CodedUnit {
        data,
        pts_ns: None,
        keyframe: false,
        byte_offset: 0,
    }
}

fn run(units: &[Vec<u8>]) -> Vec<CodecEvent> {
    let mut c = Mpeg2Codec::new(&CodecPrivate::None).unwrap();
    for u in units {
        c.push(unit(u)).unwrap();
    }
    c.flush().unwrap();
    std::iter::from_fn(|| c.poll()).collect()
}

fn jobs(ev: &[CodecEvent]) -> Vec<&DecodeJob> {
    ev.iter()
        .filter_map(|e| match e {
            CodecEvent::Decode(j) => Some(j),
            _ => None,
        })
        .collect()
}

fn picture(j: &DecodeJob) -> &bindings::v4l2_ctrl_mpeg2_picture {
    j.controls
        .iter()
        .find_map(|c| match c {
            Control::Mpeg2Picture(p) => Some(&**p),
            _ => None,
        })
        .expect("PICTURE in every request")
}

fn quant(j: &DecodeJob) -> Option<&bindings::v4l2_ctrl_mpeg2_quantisation> {
    j.controls.iter().find_map(|c| match c {
        Control::Mpeg2Quantisation(q) => Some(&**q),
        _ => None,
    })
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn i_p_b_b_references_controls_and_display_order() {
    // decode order I0 P3 B1 B2 (temporal_reference = display order).
    let units = vec![
        cat(&[seq(true), gop(true), pic(0, 1, 3)]),
        pic(3, 2, 3),
        pic(1, 3, 3),
        pic(2, 3, 3),
    ];
    let ev = run(&units);
    assert!(
        matches!(ev[0], CodecEvent::Configure(p) if p.coded_width == 720 && p.coded_height == 576)
    );
    let j = jobs(&ev);
    assert_eq!(j.len(), 4);
    let ids: Vec<Vec<&str>> = j
        .iter()
        .map(|j| j.controls.iter().map(|c| c.name()).collect())
        .collect();
    assert_eq!(
        ids[0],
        [
            "V4L2_CID_STATELESS_MPEG2_SEQUENCE",
            "V4L2_CID_STATELESS_MPEG2_PICTURE",
            "V4L2_CID_STATELESS_MPEG2_QUANTISATION"
        ]
    );
    assert_eq!(ids[1], ["V4L2_CID_STATELESS_MPEG2_PICTURE"]);
    let s = match &j[0].controls[0] {
        Control::Mpeg2Sequence(s) => **s,
        _ => unreachable!(),
    };
    assert_eq!((s.horizontal_size, s.vertical_size), (720, 576));
    assert_eq!(s.profile_and_level_indication, (4 << 4) | (8 << 1));
    assert_eq!(s.chroma_format, 1);
    assert_eq!(s.flags, bindings::V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE as u8);
    let q = quant(j[0]).unwrap();
    assert_eq!(q.intra_quantiser_matrix, parser::DEFAULT_INTRA_MATRIX);
    assert_eq!(q.chroma_intra_quantiser_matrix, [0; 64]);
    let refs: Vec<(u64, u64, u8)> = j
        .iter()
        .map(|j| {
            let p = picture(j);
            (p.forward_ref_ts, p.backward_ref_ts, p.picture_coding_type)
        })
        .collect();
    assert_eq!(
        refs,
        [
            (NO_REFERENCE_TIMESTAMP_NS, NO_REFERENCE_TIMESTAMP_NS, 1),
            (0, NO_REFERENCE_TIMESTAMP_NS, 2),
            (0, 1000, 3),
            (0, 1000, 3)
        ]
    );
    let p0 = picture(j[0]);
    assert_eq!(p0.f_code, [[1, 2], [3, 4]]);
    assert_eq!(p0.picture_structure, 3);
    assert_eq!(p0.flags, bindings::V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST);
    assert_eq!(j[0].bitstream, [0, 0, 1, 0x01, 0xAA, 0xBB]);
    // display order: I0 (timestamp_ns 0), B1 (2000), B2 (3000), P3 (1000)
    let outs: Vec<u64> = ev
        .iter()
        .filter_map(|e| match e {
            CodecEvent::Output { timestamp_ns, .. } => Some(*timestamp_ns),
            _ => None,
        })
        .collect();
    assert_eq!(outs, [0, 2000, 3000, 1000]);
    // Unref of each picture only after its Output; all four unref'd at the end.
    for timestamp_ns in [0, 1000, 2000, 3000] {
        let o = ev
            .iter()
            .position(
                |e| matches!(e, CodecEvent::Output { timestamp_ns: t, .. } if *t == timestamp_ns),
            )
            .unwrap();
        let u = ev
            .iter()
            .position(|e| matches!(e, CodecEvent::Unref { timestamp_ns: t } if *t == timestamp_ns))
            .unwrap_or_else(|| panic!("no Unref of {timestamp_ns}"));
        assert!(o < u, "timestamp_ns {timestamp_ns}: Unref before Output");
    }
}

#[test]
fn field_pair_shares_one_capture_buffer() {
    let units = vec![cat(&[seq(false), gop(true), pic(0, 1, 1), pic(0, 2, 2)])];
    let ev = run(&units);
    let j = jobs(&ev);
    assert_eq!(j.len(), 2);
    assert_eq!((j[0].timestamp_ns, j[1].timestamp_ns), (0, 0));
    assert!(j[0].hold_capture && j[0].starts_picture);
    assert!(!j[1].hold_capture && !j[1].starts_picture);
    assert_eq!(picture(j[0]).picture_structure, 1);
    assert_eq!(picture(j[1]).picture_structure, 2);
    let outs = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Output { .. }))
        .count();
    assert_eq!(outs, 1);
    // interlaced: coded height in 32-line units.
    assert!(matches!(ev[0], CodecEvent::Configure(p) if p.coded_height == 576));
}

#[test]
fn quant_matrix_extension_loads_and_carries_over_until_sequence_header() {
    let units = vec![
        cat(&[seq(true), gop(true), pic(0, 1, 3)]),
        cat(&[
            pic(1, 2, 3)[..17].to_vec(),
            quant_ext(),
            pic(1, 2, 3)[17..].to_vec(),
        ]),
        pic(2, 2, 3),
        cat(&[seq(true), gop(true), pic(0, 1, 3)]),
    ];
    let ev = run(&units);
    let j = jobs(&ev);
    assert_eq!(j.len(), 4);
    let q1 = quant(j[1]).expect("loaded matrices are sent");
    assert_eq!(q1.intra_quantiser_matrix, [9; 64]);
    assert_eq!(q1.non_intra_quantiser_matrix, [16; 64]);
    assert_eq!(q1.chroma_intra_quantiser_matrix, [7; 64]);
    assert_eq!(q1.chroma_non_intra_quantiser_matrix, [0; 64]);
    // still in force for the next picture (GStreamer re-sends it)
    assert_eq!(quant(j[2]).unwrap().intra_quantiser_matrix, [9; 64]);
    // the repeated (identical) sequence header resets the extension: no
    // QUANTISATION in the request (the sequence did not change)
    assert!(quant(j[3]).is_none());
}

#[test]
fn mpeg1_is_refused_clearly() {
    let mut c = Mpeg2Codec::new(&CodecPrivate::None).unwrap();
    let d = cat(&[mpeg1_seq(), pic(0, 1, 3)]);
    let e = c.push(unit(&d)).unwrap_err();
    assert!(e.to_string().contains("MPEG-1"), "{e}");
}

#[test]
fn bad_picture_is_skipped_and_decoding_resumes_at_i() {
    let mut bad = pic(1, 2, 3);
    bad[5] = 0x38; // picture_coding_type 7
    let units = vec![
        cat(&[seq(true), gop(true), pic(0, 1, 3)]),
        bad,
        pic(2, 2, 3),
        cat(&[gop(true), pic(0, 1, 3)]),
        pic(1, 2, 3),
    ];
    let ev = run(&units);
    let skipped = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Skipped { .. }))
        .count();
    assert_eq!(skipped, 2, "{ev:?}");
    let types: Vec<u8> = jobs(&ev)
        .iter()
        .map(|j| picture(j).picture_coding_type)
        .collect();
    assert_eq!(types, [1, 1, 2]);
}

#[test]
fn open_gop_leading_b_is_decoded_not_shown() {
    // I2 B0 B1 of an open GOP: the B pictures have no earlier reference.
    let units = vec![
        cat(&[seq(true), gop(false), pic(2, 1, 3)]),
        pic(0, 3, 3),
        pic(1, 3, 3),
    ];
    let ev = run(&units);
    assert_eq!(jobs(&ev).len(), 3);
    let outs: Vec<u64> = ev
        .iter()
        .filter_map(|e| match e {
            CodecEvent::Output { timestamp_ns, .. } => Some(*timestamp_ns),
            _ => None,
        })
        .collect();
    assert_eq!(outs, [0]);
    let unrefs = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Unref { .. }))
        .count();
    assert_eq!(unrefs, 3);
}

/// [`seq`] with another `aspect_ratio_information` (frame_rate_code 3).
fn seq_aspect(aspect: u8) -> Vec<u8> {
    let mut v = seq(true);
    v[7] = (aspect << 4) | 3;
    v
}

/// `sequence_display_extension` (6.2.2.4) without colour description.
fn display_ext(w: u16, h: u16) -> Vec<u8> {
    display_ext_colour(w, h, None)
}

/// `sequence_display_extension` (6.2.2.4), with `colour_description` 1 and
/// (`colour_primaries`, `transfer_characteristics`, `matrix_coefficients`)
/// when `colour` is given.
fn display_ext_colour(w: u16, h: u16, colour: Option<(u8, u8, u8)>) -> Vec<u8> {
    let mut bits: Vec<u8> = vec![0, 0, 1, 0]; // id 2
    bits.extend([1, 0, 1]); // video_format 5
    bits.push(u8::from(colour.is_some())); // colour_description
    if let Some((p, t, m)) = colour {
        for b in [p, t, m] {
            bits.extend((0..8).rev().map(|i| (b >> i) & 1));
        }
    }
    bits.extend((0..14).rev().map(|i| ((w >> i) & 1) as u8));
    bits.push(1);
    bits.extend((0..14).rev().map(|i| ((h >> i) & 1) as u8));
    while bits.len() % 8 != 0 {
        bits.push(0);
    }
    let mut v = vec![0, 0, 1, 0xB5];
    v.extend(
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |a, b| (a << 1) | b)),
    );
    v
}

fn configures(ev: &[CodecEvent]) -> Vec<StreamParams> {
    ev.iter()
        .filter_map(|e| match e {
            CodecEvent::Configure(p) => Some(*p),
            _ => None,
        })
        .collect()
}

#[test]
fn aspect_ratio_information_gives_the_pixel_aspect() {
    // 720x576 4:3 → 16:15; then 16:9 in a new sequence header of the same
    // size: a Configure that only changes the pixel aspect (64:45).
    let units = vec![
        cat(&[seq_aspect(2), gop(true), pic(0, 1, 3)]),
        cat(&[seq_aspect(3), gop(true), pic(0, 1, 3)]),
    ];
    let c = configures(&run(&units));
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[0].pixel_aspect, (16, 15));
    assert_eq!(c[1].pixel_aspect, (64, 45));
    assert!(c[0].same_device_config(&c[1]));
}

#[test]
fn sequence_display_extension_sets_the_display_rectangle() {
    // 704 of 720 columns are the 4:3 picture: 4·576 : 3·704 = 12:11.
    let units = vec![cat(&[
        seq_aspect(2),
        display_ext(704, 576),
        gop(true),
        pic(0, 1, 3),
    ])];
    let c = configures(&run(&units));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].pixel_aspect, (12, 11));
    assert_eq!(c[0].visible, (0, 0, 720, 576));
}

#[test]
fn sequence_display_colour_description_gives_the_color() {
    // No extension: unspecified, limited. BT.709 (1, 1, 1) after it, then
    // BT.601 (5, 5, 5 as a 625-line PAL master): colour-only Configures.
    let units = vec![
        cat(&[seq_aspect(2), gop(true), pic(0, 1, 3)]),
        cat(&[
            seq_aspect(2),
            display_ext_colour(704, 576, Some((1, 1, 1))),
            gop(true),
            pic(0, 1, 3),
        ]),
        cat(&[
            seq_aspect(2),
            display_ext_colour(704, 576, Some((5, 5, 5))),
            gop(true),
            pic(0, 1, 3),
        ]),
    ];
    let c = configures(&run(&units));
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0].color, vreq_core::ColorDescription::default());
    assert_eq!(c[1].color.matrix_coefficients, Some(1));
    assert_eq!(c[2].color.matrix_coefficients, Some(5));
    assert!(c.iter().all(|p| !p.color.video_full_range));
    assert!(c[1].same_device_config(&c[2]));
    // the display rectangle is still read after the colour description
    assert_eq!(c[1].pixel_aspect, (12, 11));
}

#[test]
fn overlapping_start_codes_are_not_a_panic() {
    // `00 00 01 00` whose payload would start past the next `00 00 01`:
    // the picture unit is empty (vreq_core::mpeg2video::Unit::payload).
    let ev = run(&[vec![0, 0, 1, 0, 0, 1, 0xB3, 0x2D], seq(true)]);
    assert!(ev.iter().all(|e| !matches!(e, CodecEvent::Decode(_))));
}
