//! Tests: DPB/POC/marking/ref-list units, end-to-end event checks on the
//! Annex-B corpus, bad-input robustness, and the synthetic streams (PAFF
//! fields, MMCO/long-term/gaps/list modifications, POC types 1 and 2) that
//! the corpus lacks. Those streams are committed under
//! `tests/data/h264-synthetic/` (written by `tests/oracle/make-synthetic.sh`
//! through the `VREQ_H264_DUMP` hook of [`synthetic_streams_are_committed`]);
//! the control-by-control comparison with GStreamer is the oracle's
//! (`crates/oracle/tests/oracle_golden.rs` against `tests/golden/h264/synthetic/`).

use std::collections::HashSet;

use super::dpb::*;
use super::*;
use cros_codecs::codec::h264::parser::RefPicMarkingInner;
use vreq_testkit::{manifest, media_dir};

// ---------------------------------------------------------------------------
// helpers

fn run_codec(data: &[u8], chunk: Option<usize>, mode: DecodeMode) -> Vec<CodecEvent> {
    let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
    c.set_mode(mode, StartCode::None);
    let chunks: Vec<&[u8]> = match chunk {
        Some(n) => data.chunks(n).collect(),
        None => split_aus(data),
    };
    feed(&mut c, &chunks, false)
}

/// Pushes `units` in order (pts = index × 1000 ns when `with_pts`, byte
/// offsets running), draining events after each, then flushes: every event.
fn feed<U: AsRef<[u8]>>(c: &mut H264Codec, units: &[U], with_pts: bool) -> Vec<CodecEvent> {
    let mut ev = Vec::new();
    let mut off = 0u64;
    for (i, u) in units.iter().enumerate() {
        let data = u.as_ref();
        c.push(CodedUnit {
            data,
            pts_ns: with_pts.then_some(i as i64 * 1000),
            keyframe: false,
            byte_offset: off,
        })
        .unwrap();
        off += data.len() as u64;
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

/// The Decode jobs of `ev` rendered as visl would trace them and normalised
/// by the oracle (timestamps → decode indices; crates/oracle/src/normalise.rs).
fn normalised_jobs(ev: &[CodecEvent]) -> String {
    let jobs: Vec<DecodeJob> = ev
        .iter()
        .filter_map(|e| match e {
            CodecEvent::Decode(j) => Some(j.clone()),
            _ => None,
        })
        .collect();
    vreq_oracle::normalise_trace(&vreq_oracle::visl_fmt::emulate(&jobs), &[], None)
        .expect("emulated trace parses")
}

/// Test-only AU splitter: cuts before every AUD/SPS/PPS/SEI after a VCL NAL
/// and before a slice with first_mb_in_slice == 0 (first byte of the slice
/// data ≥ 0x80). Only used to feed whole access units.
fn split_aus(data: &[u8]) -> Vec<&[u8]> {
    let nals = parser::split_annexb(data);
    let mut cuts = vec![0usize];
    let mut seen_vcl = false;
    for n in &nals {
        let t = n.nal_unit_type();
        let start = n
            .offset
            .saturating_sub(if n.offset >= 4 && data[n.offset - 4] == 0 {
                4
            } else {
                3
            });
        let vcl = t == 1 || t == 5;
        let first_mb0 = vcl && n.data.get(1).is_some_and(|b| b & 0x80 != 0);
        if seen_vcl && ((!vcl && matches!(t, 6..=9)) || first_mb0) {
            cuts.push(start);
            seen_vcl = false;
        }
        if vcl {
            seen_vcl = true;
        }
    }
    cuts.push(data.len());
    cuts.windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| &data[w[0]..w[1]])
        .collect()
}

struct Checked {
    decoded: Vec<u64>,
    outputs: Vec<u64>,
    jobs: usize,
    skipped: usize,
}

/// Structural checks every event stream must pass.
fn check_events(ev: &[CodecEvent]) -> Checked {
    if std::env::var_os("VREQ_H264_TRACE").is_some() {
        for e in ev {
            match e {
                CodecEvent::Decode(j) => eprintln!(
                    "Decode timestamp_ns={} start={} hold={} ctrls={}",
                    j.timestamp_ns,
                    j.starts_picture,
                    j.hold_capture,
                    j.controls.len()
                ),
                other => eprintln!("{other:?}"),
            }
        }
    }
    let mut decoded = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut unref: HashSet<u64> = HashSet::new();
    let mut outputs = Vec::new();
    let mut out_set = HashSet::new();
    let mut jobs = 0;
    let mut skipped = 0;
    let mut configured = false;
    let mut open_hold: Option<u64> = None;
    for e in ev {
        match e {
            CodecEvent::Configure(p) => {
                assert!(p.coded_width % 16 == 0 && p.coded_height % 16 == 0);
                assert!(open_hold.is_none(), "configure inside a held picture");
                configured = true;
            }
            CodecEvent::Decode(j) => {
                assert!(configured, "decode before configure");
                jobs += 1;
                if j.starts_picture {
                    assert!(
                        seen.insert(j.timestamp_ns),
                        "timestamp {} reused",
                        j.timestamp_ns
                    );
                    decoded.push(j.timestamp_ns);
                } else {
                    assert!(
                        seen.contains(&j.timestamp_ns),
                        "continuation of unknown picture"
                    );
                }
                if let Some(h) = open_hold {
                    assert_eq!(h, j.timestamp_ns, "held picture interrupted");
                }
                open_hold = j.hold_capture.then_some(j.timestamp_ns);
                assert!(!j.bitstream.is_empty());
            }
            CodecEvent::Output { timestamp_ns, .. } => {
                assert!(
                    seen.contains(timestamp_ns),
                    "output of undecoded picture {timestamp_ns}"
                );
                assert!(
                    out_set.insert(*timestamp_ns),
                    "picture {timestamp_ns} output twice"
                );
                outputs.push(*timestamp_ns);
            }
            CodecEvent::Unref { timestamp_ns } => {
                assert!(seen.contains(timestamp_ns), "unref of unknown picture");
                assert!(
                    unref.insert(*timestamp_ns),
                    "picture {timestamp_ns} unref'd twice"
                );
            }
            CodecEvent::Skipped { .. } => skipped += 1,
        }
    }
    for d in &decoded {
        assert!(unref.contains(d), "picture {d} never unref'd");
    }
    Checked {
        decoded,
        outputs,
        jobs,
        skipped,
    }
}

fn corpus_h264() -> Vec<(String, u64)> {
    manifest()
        .into_iter()
        .filter(|e| e.codec == "h264" && e.container == "H.264 Annex B")
        .map(|e| (e.path, e.frames))
        .collect()
}

// ---------------------------------------------------------------------------
// end to end on the corpus

#[test]
fn corpus_output_counts_match_manifest() {
    let list = corpus_h264();
    assert!(list.len() >= 6, "expected the Annex-B corpus, got {list:?}");
    for (path, frames) in list {
        let data = std::fs::read(media_dir().join(&path)).unwrap();
        for (how, chunk) in [("AU", None), ("4096-byte chunks", Some(4096))] {
            let ev = run_codec(&data, chunk, DecodeMode::SliceBased);
            let c = check_events(&ev);
            assert_eq!(c.outputs.len() as u64, frames, "{path} ({how}): outputs");
            assert_eq!(c.skipped, 0, "{path} ({how}): skipped input");
            assert!(c.jobs >= c.decoded.len());
        }
        let ev = run_codec(&data, None, DecodeMode::FrameBased);
        let c = check_events(&ev);
        assert_eq!(
            c.outputs.len() as u64,
            frames,
            "{path} (frame-based): outputs"
        );
    }
}

#[test]
fn slice_based_requests_mirror_gstreamer_layout() {
    // test-25fps.h264: 2 slices per picture.
    let data = std::fs::read(media_dir().join("crates-cros-codecs/test-25fps.h264")).unwrap();
    let ev = run_codec(&data, None, DecodeMode::SliceBased);
    let jobs: Vec<&DecodeJob> = ev
        .iter()
        .filter_map(|e| {
            if let CodecEvent::Decode(j) = e {
                Some(j)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(jobs.len(), 500);
    let first = jobs[0];
    let names: Vec<&str> = first.controls.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "V4L2_CID_STATELESS_H264_SPS",
            "V4L2_CID_STATELESS_H264_PPS",
            "V4L2_CID_STATELESS_H264_DECODE_PARAMS",
            "V4L2_CID_STATELESS_H264_SLICE_PARAMS",
            "V4L2_CID_STATELESS_H264_PRED_WEIGHTS"
        ]
    );
    assert!(first.hold_capture && first.starts_picture);
    let second = jobs[1];
    assert_eq!(second.controls.len(), 2);
    assert!(!second.hold_capture && !second.starts_picture);
    assert_eq!(second.timestamp_ns, first.timestamp_ns);
    // slice NAL without start code
    assert_eq!(first.bitstream[0] & 0x1f, 5);
}

#[test]
fn frame_based_annexb_start_codes() {
    let data = std::fs::read(media_dir().join("crates-cros-codecs/test-25fps.h264")).unwrap();
    let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
    c.set_mode(DecodeMode::FrameBased, StartCode::AnnexB);
    c.push(CodedUnit {
        data: &data,
        pts_ns: None,
        keyframe: true,
        byte_offset: 0,
    })
    .unwrap();
    c.flush().unwrap();
    let mut jobs = Vec::new();
    while let Some(e) = c.poll() {
        if let CodecEvent::Decode(j) = e {
            jobs.push(j);
        }
    }
    assert_eq!(jobs.len(), 250);
    let j = &jobs[0];
    assert!(j
        .controls
        .iter()
        .all(|c| !matches!(c, Control::H264SliceParams(_) | Control::H264PredWeights(_))));
    assert_eq!(&j.bitstream[..3], &[0, 0, 1]);
    assert_eq!(
        parser::split_annexb(&j.bitstream).len(),
        2,
        "two slices in one request"
    );
    assert!(!j.hold_capture);
}

#[test]
fn avc_length_prefixed_input() {
    // Convert the Annex-B file to avcC-style input and compare the jobs.
    let data = std::fs::read(media_dir().join("debian-libvpl-examples/cars_320x240.h264")).unwrap();
    let aus = split_aus(&data);
    let mut sps = Vec::new();
    let mut pps = Vec::new();
    let mut units: Vec<Vec<u8>> = Vec::new();
    for au in &aus {
        let mut u = Vec::new();
        for n in parser::split_annexb(au) {
            match n.nal_unit_type() {
                7 => sps.push(n.data.to_vec()),
                8 => pps.push(n.data.to_vec()),
                _ => {
                    u.extend_from_slice(&(n.data.len() as u32).to_be_bytes());
                    u.extend_from_slice(n.data);
                }
            }
        }
        units.push(u);
    }
    let mut c = H264Codec::new(&CodecPrivate::Avc {
        nal_length_size: 4,
        sps,
        pps,
    })
    .unwrap();
    let ev = feed(&mut c, &units, true);
    let chk = check_events(&ev);
    assert_eq!(chk.outputs.len(), 30);
    let annexb = run_codec(&data, None, DecodeMode::SliceBased);
    assert_eq!(normalised_jobs(&ev), normalised_jobs(&annexb));
    // each picture keeps the pts of the unit it came from (one picture per
    // unit here, so pts == decode index * 1000 == timestamp)
    for e in &ev {
        if let CodecEvent::Output {
            timestamp_ns,
            pts_ns,
        } = e
        {
            assert_eq!(*timestamp_ns as i64, *pts_ns);
        }
    }
}

#[test]
fn bad_input_never_panics_and_is_skipped() {
    let data = std::fs::read(media_dir().join("crates-cros-codecs/test-25fps.h264")).unwrap();
    let mut total_skipped = 0;
    // truncations
    for cut in [1usize, 7, 100, 1000, 5000, 33333, data.len() - 1] {
        let ev = run_codec(
            &data[..cut.min(data.len())],
            Some(777),
            DecodeMode::SliceBased,
        );
        let _ = check_events(&ev);
    }
    // bit flips in the first 40 kB (xorshift positions, deterministic)
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for round in 0..12 {
        let mut d = data[..40000].to_vec();
        for _ in 0..(5 + round * 7) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let pos = (x % d.len() as u64) as usize;
            d[pos] ^= 1 << (x % 8);
        }
        let ev = run_codec(
            &d,
            if round % 2 == 0 { None } else { Some(1500) },
            DecodeMode::SliceBased,
        );
        let c = check_events(&ev);
        total_skipped += c.skipped;
    }
    // more corruption on other streams (fields/MBAFF, long-term refs, B-pyramid)
    for f in [
        "crates-cros-codecs/test-25fps-interlaced.h264",
        "generated-by-us/foreman-ltr.openh264.h264",
        "debian-libvpl-examples/cars_320x240.h264",
    ] {
        let data = std::fs::read(media_dir().join(f)).unwrap();
        for round in 0..10u64 {
            let mut d = data.clone();
            for _ in 0..(3 + round * 20) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let pos = (x % d.len() as u64) as usize;
                d[pos] = (x >> 8) as u8;
            }
            let ev = run_codec(
                &d,
                if round % 3 == 0 { Some(999) } else { None },
                DecodeMode::SliceBased,
            );
            total_skipped += check_events(&ev).skipped;
            let ev = run_codec(&d, None, DecodeMode::FrameBased);
            total_skipped += check_events(&ev).skipped;
        }
    }
    assert!(
        total_skipped > 0,
        "corrupt input produced no Skipped events"
    );
    // stream starting without an IDR: skipped until the first IDR
    let aus = split_aus(&data);
    let tail: Vec<u8> = aus[3..].concat();
    let ev = run_codec(&tail, None, DecodeMode::SliceBased);
    let c = check_events(&ev);
    assert!(c.skipped > 0);
}

// ---------------------------------------------------------------------------
// unit tests of the reference process

fn seq(poc_type: u8, max_num_ref_frames: u8) -> SeqInfo {
    SeqInfo {
        max_frame_num: 16,
        max_num_ref_frames,
        pic_order_cnt_type: poc_type,
        log2_max_pic_order_cnt_lsb_minus4: 0,
        gaps_in_frame_num_value_allowed_flag: true,
        ..Default::default()
    }
}

#[test]
fn poc_type0_wraps_msb() {
    let s = seq(0, 4);
    let mut st = RefState {
        max_frame_num: 16,
        ..Default::default()
    };
    // max lsb = 16; ref pictures with lsb 0, 6, 12, then 2 → wraps to 18
    let mut pocs = Vec::new();
    for (i, lsb) in [0, 6, 12, 2].iter().enumerate() {
        let mut p = Picture {
            idr: i == 0,
            nal_ref_idc: 1,
            field: Some(Field::Frame),
            pic_order_cnt_lsb: *lsb,
            delta_pic_order_cnt_bottom: 1,
            ..Default::default()
        };
        calculate_poc(&mut st, &s, &[], &mut p);
        st.prev_ref_pic_order_cnt_msb = p.pic_order_cnt_msb;
        st.prev_ref_pic_order_cnt_lsb = p.pic_order_cnt_lsb;
        pocs.push((
            p.top_field_order_cnt,
            p.bottom_field_order_cnt,
            p.pic_order_cnt,
        ));
    }
    assert_eq!(pocs, vec![(0, 1, 0), (6, 7, 6), (12, 13, 12), (18, 19, 18)]);
}

#[test]
fn poc_type1_and_type2() {
    let mut s = seq(1, 2);
    s.num_ref_frames_in_pic_order_cnt_cycle = 2;
    s.offset_for_non_ref_pic = -2;
    s.offset_for_top_to_bottom_field = 1;
    let offs = [4, 2];
    let mut st = RefState {
        max_frame_num: 16,
        ..Default::default()
    };
    let mut got = Vec::new();
    for (fnum, ref_idc, idr) in [(0, 1, true), (1, 1, false), (2, 1, false), (3, 0, false)] {
        let mut p = Picture {
            idr,
            nal_ref_idc: ref_idc,
            frame_num: fnum,
            field: Some(Field::Frame),
            pic_order_cnt_type: 1,
            ..Default::default()
        };
        calculate_poc(&mut st, &s, &offs, &mut p);
        st.prev_frame_num = fnum;
        st.prev_frame_num_offset = p.frame_num_offset;
        got.push((p.top_field_order_cnt, p.bottom_field_order_cnt));
    }
    // abs 0 → 0; abs 1 → 4; abs 2 → 6; non-ref abs 3-1=2 → 6 - 2 = 4
    assert_eq!(got, vec![(0, 1), (4, 5), (6, 7), (4, 5)]);

    let s2 = seq(2, 2);
    let mut st = RefState {
        max_frame_num: 16,
        ..Default::default()
    };
    let mut got = Vec::new();
    for (fnum, ref_idc, idr) in [
        (0, 1, true),
        (1, 1, false),
        (2, 0, false),
        (15, 1, false),
        (0, 1, false),
    ] {
        let mut p = Picture {
            idr,
            nal_ref_idc: ref_idc,
            frame_num: fnum,
            field: Some(Field::Frame),
            pic_order_cnt_type: 2,
            ..Default::default()
        };
        calculate_poc(&mut st, &s2, &[], &mut p);
        st.prev_frame_num = fnum;
        st.prev_frame_num_offset = p.frame_num_offset;
        got.push(p.pic_order_cnt);
    }
    assert_eq!(got, vec![0, 2, 3, 30, 32]);
}

/// Adds a decoded reference frame to the DPB like finish_picture does.
fn add_ref_frame(
    st: &mut RefState,
    s: &SeqInfo,
    frame_num: i32,
    poc: i32,
    timestamp_ns: u64,
) -> PicId {
    update_pic_nums(st, Field::Frame, frame_num);
    let mut p = Picture {
        timestamp_ns,
        nal_ref_idc: 1,
        frame_num,
        pic_num: frame_num,
        field: Some(Field::Frame),
        reference: Reference::ShortTerm,
        ref_pic: true,
        pic_order_cnt: poc,
        top_field_order_cnt: poc,
        bottom_field_order_cnt: poc,
        ..Default::default()
    };
    let id = st.dpb.alloc(p.clone());
    reference_picture_marking(st, s, &mut p, id, &[]);
    *st.dpb.get_mut(id).unwrap() = p;
    st.dpb.delete_unused();
    st.dpb.add(id);
    id
}

fn new_state(max_frames: usize) -> RefState {
    let mut st = RefState {
        max_frame_num: 16,
        max_long_term_frame_idx: -1,
        ..Default::default()
    };
    st.dpb.clear();
    st.dpb.max_num_frames = max_frames;
    st
}

#[test]
fn sliding_window_drops_lowest_frame_num_wrap() {
    let s = seq(2, 2);
    let mut st = new_state(4);
    let a = add_ref_frame(&mut st, &s, 14, 0, 0);
    let b = add_ref_frame(&mut st, &s, 15, 2, 1000);
    let c = add_ref_frame(&mut st, &s, 0, 4, 2000); // wraps: 14 → -2, oldest
    assert!(!st.dpb.pic(a).is_ref());
    assert!(st.dpb.pic(b).is_ref() && st.dpb.pic(c).is_ref());
    assert_eq!(st.dpb.num_ref_frames(), 2);
}

#[test]
fn ref_list_init_p_and_b_frames() {
    let s = seq(0, 4);
    let mut st = new_state(5);
    // decode order: POC 0 (fn 0), POC 8 (fn 1), POC 4 (fn 2), POC 16 (fn 3)
    let p0 = add_ref_frame(&mut st, &s, 0, 0, 0);
    let p8 = add_ref_frame(&mut st, &s, 1, 8, 1000);
    let p4 = add_ref_frame(&mut st, &s, 2, 4, 2000);
    let p16 = add_ref_frame(&mut st, &s, 3, 16, 3000);
    // current: B frame, frame_num 4, POC 6
    update_pic_nums(&mut st, Field::Frame, 4);
    let cur = Picture {
        frame_num: 4,
        pic_num: 4,
        pic_order_cnt: 6,
        field: Some(Field::Frame),
        ..Default::default()
    };
    let l = prepare_ref_pic_lists(&st, &cur);
    assert_eq!(
        l.p0.to_vec(),
        vec![p16, p4, p8, p0],
        "P: descending pic_num"
    );
    assert_eq!(
        l.b0.to_vec(),
        vec![p4, p0, p8, p16],
        "B0: POC<6 desc, then POC>6 asc"
    );
    assert_eq!(
        l.b1.to_vec(),
        vec![p8, p16, p4, p0],
        "B1: POC>6 asc, then POC<6 desc"
    );
}

#[test]
fn ref_list_init_fields_alternate_parity() {
    let s = seq(0, 4);
    let mut st = new_state(4);
    st.dpb.interlaced = true;
    // two reference field pairs: (fn 0: T poc 0, B poc 1), (fn 1: T 4, B 5)
    let mut ids = Vec::new();
    for (fnum, timestamp_ns) in [(0, 0u64), (1, 1000)] {
        for (field, poc, second) in [
            (Field::Top, fnum * 4, false),
            (Field::Bottom, fnum * 4 + 1, true),
        ] {
            let p = Picture {
                timestamp_ns,
                frame_num: fnum,
                field: Some(field),
                field_pic_flag: true,
                second_field: second,
                other_field: if second { ids.last().copied() } else { None },
                reference: Reference::ShortTerm,
                ref_pic: true,
                pic_order_cnt: poc,
                top_field_order_cnt: if field == Field::Top { poc } else { 0 },
                bottom_field_order_cnt: if field == Field::Bottom { poc } else { 0 },
                ..Default::default()
            };
            let id = st.dpb.alloc(p);
            st.dpb.add(id);
            ids.push(id);
            let _ = s;
        }
    }
    // current: bottom field of frame_num 2, P
    update_pic_nums(&mut st, Field::Bottom, 2);
    let cur = Picture {
        frame_num: 2,
        field: Some(Field::Bottom),
        pic_order_cnt: 9,
        ..Default::default()
    };
    let l = prepare_ref_pic_lists(&st, &cur);
    // 8.2.4.2.5: start with same parity (bottom) of the highest frame_num_wrap
    assert_eq!(l.p0.to_vec(), vec![ids[3], ids[2], ids[1], ids[0]]);
    // same parity pic_num = 2*FrameNumWrap+1, opposite 2*FrameNumWrap
    assert_eq!(st.dpb.pic(ids[3]).pic_num, 3);
    assert_eq!(st.dpb.pic(ids[2]).pic_num, 2);
    // B fields: POC < 9 descending by frame → bottom first alternating
    assert_eq!(l.b0.to_vec(), vec![ids[3], ids[2], ids[1], ids[0]]);
}

#[test]
fn mmco_long_term_and_unmark() {
    let s = seq(0, 4);
    let mut st = new_state(4);
    let a = add_ref_frame(&mut st, &s, 0, 0, 0);
    let b = add_ref_frame(&mut st, &s, 1, 2, 1000);
    // current frame_num 2 with MMCO: 4 (max idx 1), 3 (pic 0 → LT idx 0), 1 (unmark pic 1)
    update_pic_nums(&mut st, Field::Frame, 2);
    let mut cur = Picture {
        frame_num: 2,
        pic_num: 2,
        nal_ref_idc: 1,
        field: Some(Field::Frame),
        reference: Reference::ShortTerm,
        ref_pic: true,
        ..Default::default()
    };
    cur.dec_ref_pic_marking.adaptive_ref_pic_marking_mode_flag = true;
    let mk = |op, diff, idx, maxp1| RefPicMarkingInner {
        memory_management_control_operation: op,
        difference_of_pic_nums_minus1: diff,
        long_term_frame_idx: idx,
        max_long_term_frame_idx:
            cros_codecs::codec::h264::parser::MaxLongTermFrameIdx::from_value_plus1(maxp1),
        ..Default::default()
    };
    let ops = [mk(4, 0, 0, 2), mk(3, 1, 0, 0), mk(1, 0, 0, 0)];
    let id = st.dpb.alloc(cur.clone());
    assert!(reference_picture_marking(&mut st, &s, &mut cur, id, &ops));
    assert_eq!(st.dpb.pic(a).reference, Reference::LongTerm);
    assert_eq!(st.dpb.pic(a).long_term_frame_idx, 0);
    assert_eq!(st.dpb.pic(b).reference, Reference::None);
    assert_eq!(st.max_long_term_frame_idx, 1);
    // MMCO 6 on the next picture takes LT idx 0: the old one is unmarked
    *st.dpb.get_mut(id).unwrap() = cur.clone();
    st.dpb.add(id);
    update_pic_nums(&mut st, Field::Frame, 3);
    let mut nxt = Picture {
        frame_num: 3,
        pic_num: 3,
        nal_ref_idc: 1,
        field: Some(Field::Frame),
        reference: Reference::ShortTerm,
        ref_pic: true,
        ..Default::default()
    };
    nxt.dec_ref_pic_marking.adaptive_ref_pic_marking_mode_flag = true;
    let nid = st.dpb.alloc(nxt.clone());
    assert!(reference_picture_marking(
        &mut st,
        &s,
        &mut nxt,
        nid,
        &[mk(6, 0, 0, 0)]
    ));
    assert_eq!(st.dpb.pic(a).reference, Reference::None);
    assert_eq!(nxt.reference, Reference::LongTerm);
    // MMCO 5: everything unmarked, POC rebased
    let mut m5 = Picture {
        frame_num: 4,
        field: Some(Field::Frame),
        top_field_order_cnt: 10,
        bottom_field_order_cnt: 11,
        pic_order_cnt: 10,
        reference: Reference::ShortTerm,
        ..Default::default()
    };
    m5.dec_ref_pic_marking.adaptive_ref_pic_marking_mode_flag = true;
    let mid = st.dpb.alloc(m5.clone());
    assert!(reference_picture_marking(
        &mut st,
        &s,
        &mut m5,
        mid,
        &[mk(5, 0, 0, 0)]
    ));
    assert!(m5.mem_mgmt_5);
    assert_eq!(
        (
            m5.top_field_order_cnt,
            m5.bottom_field_order_cnt,
            m5.frame_num
        ),
        (0, 1, 0)
    );
    assert_eq!(st.dpb.num_ref_frames(), 0);
}

#[test]
fn modification_moves_long_term_to_front() {
    let s = seq(0, 4);
    let mut st = new_state(4);
    let a = add_ref_frame(&mut st, &s, 0, 0, 0);
    st.dpb.get_mut(a).unwrap().reference = Reference::LongTerm;
    st.dpb.get_mut(a).unwrap().long_term_frame_idx = 0;
    st.max_long_term_frame_idx = 0;
    let b = add_ref_frame(&mut st, &s, 1, 2, 1000);
    update_pic_nums(&mut st, Field::Frame, 2);
    let cur = Picture {
        frame_num: 2,
        pic_num: 2,
        field: Some(Field::Frame),
        pic_order_cnt: 4,
        ..Default::default()
    };
    st.max_pic_num = 16;
    let l = prepare_ref_pic_lists(&st, &cur);
    assert_eq!(l.p0.to_vec(), vec![b, a]);
    let mut hdr = SliceHeader {
        num_ref_idx_l0_active_minus1: 1,
        ref_pic_list_modification_flag_l0: true,
        ..Default::default()
    };
    hdr.ref_pic_list_modification_l0 = vec![
        cros_codecs::codec::h264::parser::RefPicListModification {
            modification_of_pic_nums_idc: 2,
            long_term_pic_num: 0,
            ..Default::default()
        },
        cros_codecs::codec::h264::parser::RefPicListModification {
            modification_of_pic_nums_idc: 3,
            ..Default::default()
        },
    ];
    let m = modify_ref_pic_list(&st, &cur, &hdr, 0, &l.p0).unwrap();
    assert_eq!(m.to_vec(), vec![Some(a), Some(b)]);
    // a missing long-term pic is an error, not a panic
    hdr.ref_pic_list_modification_l0[0].long_term_pic_num = 5;
    assert!(modify_ref_pic_list(&st, &cur, &hdr, 0, &l.p0).is_err());
}

#[test]
fn bumping_outputs_in_poc_order_when_full() {
    let mut dpb = Dpb::default();
    dpb.clear();
    dpb.max_num_frames = 2;
    let mk = |poc: i32, r: bool| Picture {
        field: Some(Field::Frame),
        pic_order_cnt: poc,
        reference: if r {
            Reference::ShortTerm
        } else {
            Reference::None
        },
        ref_pic: r,
        ..Default::default()
    };
    let a = dpb.alloc(mk(4, true));
    dpb.add(a);
    let b = dpb.alloc(mk(2, false));
    dpb.add(b);
    let next = mk(8, true);
    assert!(dpb.needs_bump(Some(&next)));
    assert_eq!(dpb.bump(false), Some((b, true)), "lowest POC first");
    dpb.delete_unused();
    assert!(!dpb.needs_bump(Some(&next)));
    assert_eq!(dpb.bump(true), Some((a, true)));
}

#[test]
fn frame_num_gap_inserts_non_existing_frames() {
    // Build a codec state by hand: DPB with frame_num 0, gap to 3.
    let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
    c.seq = seq(2, 4);
    c.st = new_state(4);
    let s = c.seq;
    add_ref_frame(&mut c.st, &s, 0, 0, 0);
    c.st.prev_ref_frame_num = 0;
    c.handle_frame_num_gap(3);
    let fnums: Vec<(i32, bool)> =
        c.st.dpb
            .list
            .iter()
            .map(|id| (c.st.dpb.pic(*id).frame_num, c.st.dpb.pic(*id).nonexisting))
            .collect();
    assert_eq!(fnums, vec![(0, false), (1, true), (2, true)]);
    // gaps never produce output events
    assert!(c
        .events
        .iter()
        .all(|e| !matches!(e, CodecEvent::Output { .. })));
}

#[test]
fn reset_waits_for_idr_and_resends_sps() {
    let data = std::fs::read(media_dir().join("debian-libvpl-examples/cars_320x240.h264")).unwrap();
    let aus = split_aus(&data);
    let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
    c.set_mode(DecodeMode::SliceBased, StartCode::None);
    let mut ev = Vec::new();
    for au in &aus[..10] {
        c.push(CodedUnit {
            data: au,
            pts_ns: None,
            keyframe: false,
            byte_offset: 0,
        })
        .unwrap();
    }
    c.reset();
    while let Some(e) = c.poll() {
        ev.push(e);
    }
    let before = ev.len();
    // a non-IDR access unit after the seek is skipped
    c.push(CodedUnit {
        data: aus[12],
        pts_ns: None,
        keyframe: false,
        byte_offset: 0,
    })
    .unwrap();
    c.flush().unwrap();
    while let Some(e) = c.poll() {
        ev.push(e);
    }
    assert!(ev[before..]
        .iter()
        .any(|e| matches!(e, CodecEvent::Skipped { .. })));
    assert!(!ev[before..]
        .iter()
        .any(|e| matches!(e, CodecEvent::Decode(_))));
    // then the IDR decodes, with the SPS sent again
    c.reset();
    let mut ev2 = Vec::new();
    c.push(CodedUnit {
        data: aus[0],
        pts_ns: None,
        keyframe: true,
        byte_offset: 0,
    })
    .unwrap();
    c.flush().unwrap();
    while let Some(e) = c.poll() {
        ev2.push(e);
    }
    let first = ev2
        .iter()
        .find_map(|e| {
            if let CodecEvent::Decode(j) = e {
                Some(j)
            } else {
                None
            }
        })
        .unwrap();
    assert!(matches!(first.controls[0], Control::H264Sps(_)));
    assert_eq!(
        ev2.iter()
            .filter(|e| matches!(e, CodecEvent::Output { .. }))
            .count(),
        1
    );
}

// ---------------------------------------------------------------------------
// Synthetic PAFF stream (field pictures mixed with frames). No corpus clip
// has field-coded pictures; visl decodes no pixels, so headers plus filler
// slice data are enough for GStreamer on visl and for us.

use cros_codecs::codec::h264::nalu_writer::NaluWriter;

/// One picture in decode order: (fields, frame_num, nal_ref_idc, slice type
/// (0 P, 1 B, 2 I), idr, top/first POC lsb, bottom-field-first).
type SynthPic = (bool, u32, u8, u32, bool, u32, bool);
/// MMCOs (op, a, b) of the first and second field of a [`SynthPic`].
type FieldMmcos = [Vec<(u32, u32, u32)>; 2];

fn synth_paff_stream() -> Vec<u8> {
    let pics: [SynthPic; 12] = [
        (true, 0, 3, 2, true, 0, false),
        (true, 1, 2, 0, false, 8, false),
        (true, 2, 0, 1, false, 4, false),
        (true, 2, 2, 0, false, 16, false),
        (true, 3, 1, 1, false, 12, false),
        (true, 4, 0, 1, false, 10, false),
        (true, 4, 0, 1, false, 14, false),
        (false, 4, 2, 0, false, 24, false),
        (true, 5, 0, 1, false, 20, false),
        (true, 5, 2, 0, false, 32, true),
        (false, 6, 0, 1, false, 28, false),
        (true, 6, 2, 0, false, 40, false),
    ];
    let with: Vec<(SynthPic, FieldMmcos)> = pics.iter().map(|p| (*p, [vec![], vec![]])).collect();
    synth_paff_stream_with(&with, false)
}

/// Field MMCOs: per picture the MMCOs (op, a, b as in [`Synth`]) of its first
/// and second field; `ltr_idr`: the IDR is a long-term reference.
fn synth_paff_stream_with(pics: &[(SynthPic, FieldMmcos)], ltr_idr: bool) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = NaluWriter::new(&mut out, true);
        w.write_header(3, 7).unwrap();
        w.write_u(8, 77u32).unwrap(); // profile_idc Main
        w.write_u(8, 0u32).unwrap(); // constraint flags
        w.write_u(8, 30u32).unwrap(); // level_idc
        w.write_ue(0u32).unwrap(); // sps id
        w.write_ue(0u32).unwrap(); // log2_max_frame_num_minus4
        w.write_ue(0u32).unwrap(); // pic_order_cnt_type
        w.write_ue(2u32).unwrap(); // log2_max_pic_order_cnt_lsb_minus4
        w.write_ue(2u32).unwrap(); // max_num_ref_frames
        w.write_u(1, 0u32).unwrap(); // gaps
        w.write_ue(19u32).unwrap(); // 320 px
        w.write_ue(7u32).unwrap(); // 8 map units = 256 lines
        w.write_u(1, 0u32).unwrap(); // frame_mbs_only_flag
        w.write_u(1, 0u32).unwrap(); // mb_adaptive_frame_field_flag
        w.write_u(1, 1u32).unwrap(); // direct_8x8_inference
        w.write_u(1, 0u32).unwrap(); // cropping
        w.write_u(1, 0u32).unwrap(); // vui
        w.write_u(1, 1u32).unwrap();
        while !w.aligned() {
            w.write_u(1, 0u32).unwrap();
        }
        w.write_header(3, 8).unwrap();
        w.write_ue(0u32).unwrap();
        w.write_ue(0u32).unwrap();
        w.write_u(1, 0u32).unwrap(); // CAVLC
        w.write_u(1, 1u32).unwrap(); // bottom_field_pic_order_in_frame_present
        w.write_ue(0u32).unwrap();
        w.write_ue(1u32).unwrap(); // l0 default 2
        w.write_ue(0u32).unwrap();
        w.write_u(1, 0u32).unwrap();
        w.write_u(2, 0u32).unwrap();
        w.write_se(0).unwrap();
        w.write_se(0).unwrap();
        w.write_se(0).unwrap();
        w.write_u(1, 0u32).unwrap();
        w.write_u(1, 0u32).unwrap();
        w.write_u(1, 0u32).unwrap();
        w.write_u(1, 1u32).unwrap();
        while !w.aligned() {
            w.write_u(1, 0u32).unwrap();
        }
        for ((fields, frame_num, ref_idc, st, idr, poc, bottom_first), mmcos) in
            pics.iter().cloned()
        {
            let n = if fields { 2 } else { 1 };
            for k in 0..n {
                let bottom = fields && ((k == 1) != bottom_first);
                // the second field of an IDR picture is a non-IDR P field
                let (nal_type, stype) = if idr && k == 1 {
                    (1u8, 0u32)
                } else {
                    (if idr { 5 } else { 1 }, st)
                };
                w.write_header(ref_idc, nal_type).unwrap();
                w.write_ue(0u32).unwrap(); // first_mb_in_slice
                w.write_ue(stype + 5).unwrap();
                w.write_ue(0u32).unwrap(); // pps
                w.write_u(4, frame_num).unwrap();
                w.write_u(1, fields as u32).unwrap();
                if fields {
                    w.write_u(1, bottom as u32).unwrap();
                }
                if nal_type == 5 {
                    w.write_ue(0u32).unwrap();
                }
                w.write_u(6, (poc + k) % 64).unwrap();
                if !fields {
                    w.write_se(1).unwrap(); // delta_pic_order_cnt_bottom
                }
                if stype == 1 {
                    w.write_u(1, 1u32).unwrap(); // direct_spatial_mv_pred
                }
                if stype != 2 {
                    w.write_u(1, 0u32).unwrap(); // override
                    w.write_u(1, 0u32).unwrap(); // ref_pic_list_modification_flag_l0
                    if stype == 1 {
                        w.write_u(1, 0u32).unwrap();
                    }
                }
                if ref_idc != 0 {
                    if nal_type == 5 {
                        w.write_u(1, 0u32).unwrap();
                        w.write_u(1, ltr_idr as u32).unwrap();
                    } else if mmcos[k as usize].is_empty() {
                        w.write_u(1, 0u32).unwrap(); // sliding window
                    } else {
                        w.write_u(1, 1u32).unwrap();
                        for (op, a, b) in &mmcos[k as usize] {
                            w.write_ue(*op).unwrap();
                            if matches!(op, 1..=4) {
                                w.write_ue(*a).unwrap();
                            }
                            if matches!(op, 3 | 6) {
                                w.write_ue(*b).unwrap();
                            }
                        }
                        w.write_ue(0u32).unwrap();
                    }
                }
                w.write_se(0).unwrap(); // slice_qp_delta
                for _ in 0..4 {
                    w.write_u(8, 0xa5u32).unwrap(); // filler "slice data"
                }
                w.write_u(1, 1u32).unwrap();
                while !w.aligned() {
                    w.write_u(1, 0u32).unwrap();
                }
            }
        }
    }
    out
}

#[test]
fn paff_field_pictures() {
    let data = synth_paff_stream();
    let ev = run_codec(&data, None, DecodeMode::SliceBased);
    let c = check_events(&ev);
    assert_eq!(c.skipped, 0);
    assert_eq!(
        c.decoded.len(),
        12,
        "one CAPTURE picture per frame / field pair"
    );
    assert_eq!(c.jobs, 22, "one request per field");
    assert_eq!(c.outputs.len(), 12);
    let jobs: Vec<&DecodeJob> = ev
        .iter()
        .filter_map(|e| {
            if let CodecEvent::Decode(j) = e {
                Some(j)
            } else {
                None
            }
        })
        .collect();
    // first field held, second field continues the same CAPTURE buffer
    assert!(jobs[0].hold_capture && jobs[0].starts_picture);
    assert!(!jobs[1].hold_capture && !jobs[1].starts_picture);
    assert_eq!(jobs[0].timestamp_ns, jobs[1].timestamp_ns);
    // the second field of the IDR refers to the first field (same frame)
    let Some(Control::H264SliceParams(sp)) = jobs[1]
        .controls
        .iter()
        .find(|c| matches!(c, Control::H264SliceParams(_)))
    else {
        panic!("no slice params")
    };
    let Some(Control::H264DecodeParams(dp)) = jobs[1]
        .controls
        .iter()
        .find(|c| matches!(c, Control::H264DecodeParams(_)))
    else {
        panic!("no decode params")
    };
    assert_eq!(sp.ref_pic_list0[0].index, 0);
    assert_eq!(
        sp.ref_pic_list0[0].fields,
        bindings::V4L2_H264_TOP_FIELD_REF as u8
    );
    assert_eq!(dp.dpb[0].reference_ts, jobs[0].timestamp_ns);
    assert_eq!(
        dp.dpb[0].flags & bindings::V4L2_H264_DPB_ENTRY_FLAG_FIELD,
        bindings::V4L2_H264_DPB_ENTRY_FLAG_FIELD
    );
    // display order follows POC: 0, 4, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40
    let order: Vec<u64> = c.outputs.iter().map(|t| t / 1000).collect();
    assert_eq!(order, vec![0, 2, 1, 5, 4, 6, 3, 8, 7, 10, 9, 11]);
}

/// One synthetic progressive picture: frame_num, nal_ref_idc, slice type
/// (0 P, 1 B, 2 I), idr, POC lsb, num_ref_idx override (l0, l1),
/// ref_pic_list_modification l0 and l1 (idc, value), MMCOs (op, a, b) with
/// a = difference_of_pic_nums_minus1 / long_term_pic_num /
/// max_long_term_frame_idx_plus1 and b = long_term_frame_idx.
struct Synth {
    frame_num: u32,
    ref_idc: u8,
    stype: u32,
    idr: bool,
    poc: u32,
    over: Option<(u32, u32)>,
    mods: [Vec<(u32, u32)>; 2],
    mmco: Vec<(u32, u32, u32)>,
    long_term_reference_flag: bool,
    /// delta_pic_order_cnt[0] (POC type 1 streams).
    delta0: i32,
}

/// `poc_type` 0: `Synth::poc` is pic_order_cnt_lsb; 1: cycle [2, 4],
/// offset_for_non_ref_pic -1, top_to_bottom 1, `Synth::delta0` per slice; 2.
fn synth_progressive_stream(pics: &[Synth], poc_type: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = NaluWriter::new(&mut out, true);
        w.write_header(3, 7).unwrap();
        for (bits, v) in [(8usize, 77u32), (8, 0), (8, 30)] {
            w.write_u(bits, v).unwrap();
        }
        w.write_ue(0u32).unwrap(); // sps id
        w.write_ue(0u32).unwrap(); // log2_max_frame_num_minus4
        w.write_ue(poc_type).unwrap();
        match poc_type {
            0 => w.write_ue(2u32).unwrap(), // log2_max_pic_order_cnt_lsb_minus4
            1 => {
                w.write_u(1, 0u32).unwrap(); // delta_pic_order_always_zero_flag
                w.write_se(-1).unwrap(); // offset_for_non_ref_pic
                w.write_se(1).unwrap(); // offset_for_top_to_bottom_field
                w.write_ue(2u32).unwrap();
                w.write_se(2).unwrap();
                w.write_se(4).unwrap();
            }
            _ => {}
        }
        w.write_ue(3u32).unwrap(); // max_num_ref_frames
        w.write_u(1, 1u32).unwrap(); // gaps_in_frame_num_value_allowed_flag
        w.write_ue(19u32).unwrap();
        w.write_ue(14u32).unwrap();
        for v in [1u32, 1, 0, 0, 1] {
            w.write_u(1, v).unwrap(); // frame_mbs_only, direct_8x8, crop, vui, stop bit
        }
        while !w.aligned() {
            w.write_u(1, 0u32).unwrap();
        }
        w.write_header(3, 8).unwrap();
        for v in [0u32, 0] {
            w.write_ue(v).unwrap();
        }
        w.write_u(2, 0u32).unwrap(); // CAVLC, no bottom poc
        for v in [0u32, 2, 0] {
            w.write_ue(v).unwrap();
        }
        w.write_u(3, 0u32).unwrap();
        for _ in 0..3 {
            w.write_se(0).unwrap();
        }
        w.write_u(4, 1u32).unwrap(); // 3 flags + stop bit
        while !w.aligned() {
            w.write_u(1, 0u32).unwrap();
        }
        for p in pics {
            w.write_header(p.ref_idc, if p.idr { 5 } else { 1 })
                .unwrap();
            w.write_ue(0u32).unwrap();
            w.write_ue(p.stype + 5).unwrap();
            w.write_ue(0u32).unwrap();
            w.write_u(4, p.frame_num).unwrap();
            if p.idr {
                w.write_ue(0u32).unwrap();
            }
            match poc_type {
                0 => {
                    w.write_u(6, p.poc % 64).unwrap();
                }
                1 => w.write_se(p.delta0).unwrap(),
                _ => {}
            }
            if p.stype == 1 {
                w.write_u(1, 1u32).unwrap();
            }
            if p.stype != 2 {
                w.write_u(1, p.over.is_some() as u32).unwrap();
                if let Some((l0, l1)) = p.over {
                    w.write_ue(l0).unwrap();
                    if p.stype == 1 {
                        w.write_ue(l1).unwrap();
                    }
                }
                for l in 0..(if p.stype == 1 { 2 } else { 1 }) {
                    w.write_u(1, !p.mods[l].is_empty() as u32).unwrap();
                    if !p.mods[l].is_empty() {
                        for (idc, v) in &p.mods[l] {
                            w.write_ue(*idc).unwrap();
                            w.write_ue(*v).unwrap();
                        }
                        w.write_ue(3u32).unwrap();
                    }
                }
            }
            if p.ref_idc != 0 {
                if p.idr {
                    w.write_u(1, 0u32).unwrap();
                    w.write_u(1, p.long_term_reference_flag as u32).unwrap();
                } else {
                    w.write_u(1, !p.mmco.is_empty() as u32).unwrap();
                    if !p.mmco.is_empty() {
                        for (op, a, b) in &p.mmco {
                            w.write_ue(*op).unwrap();
                            if matches!(op, 1..=4) {
                                w.write_ue(*a).unwrap();
                            }
                            if matches!(op, 3 | 6) {
                                w.write_ue(*b).unwrap();
                            }
                        }
                        w.write_ue(0u32).unwrap();
                    }
                }
            }
            w.write_se(0).unwrap();
            for _ in 0..4 {
                w.write_u(8, 0xa5u32).unwrap();
            }
            w.write_u(1, 1u32).unwrap();
            while !w.aligned() {
                w.write_u(1, 0u32).unwrap();
            }
        }
    }
    out
}

fn synth(frame_num: u32, ref_idc: u8, stype: u32, poc: u32) -> Synth {
    Synth {
        frame_num,
        ref_idc,
        stype,
        idr: false,
        poc,
        over: None,
        mods: [Vec::new(), Vec::new()],
        mmco: Vec::new(),
        long_term_reference_flag: false,
        delta0: 0,
    }
}

/// Long-term references (IDR long_term_reference_flag, MMCO 1–6), list
/// modifications (idc 0/1/2) and a frame_num gap, in one synthetic stream.
#[allow(clippy::vec_init_then_push)]
fn synth_marking_stream() -> Vec<u8> {
    let mut p = Vec::new();
    p.push(Synth {
        idr: true,
        long_term_reference_flag: true,
        ..synth(0, 3, 2, 0)
    });
    p.push(Synth {
        mmco: vec![(4, 2, 0)],
        ..synth(1, 2, 0, 4)
    });
    p.push(Synth {
        over: Some((0, 0)),
        mods: [vec![(2, 0)], vec![]],
        ..synth(2, 2, 0, 8)
    });
    p.push(Synth {
        mmco: vec![(3, 0, 1)],
        ..synth(3, 2, 0, 12)
    });
    p.push(Synth {
        over: Some((1, 0)),
        mods: [vec![], vec![(0, 0)]],
        ..synth(4, 0, 1, 10)
    });
    // frame_num gap 4, 5, 6
    p.push(Synth {
        mmco: vec![(1, 0, 0)],
        ..synth(7, 2, 0, 16)
    });
    p.push(Synth {
        over: Some((1, 0)),
        mods: [vec![(0, 0), (2, 0)], vec![]],
        ..synth(8, 2, 0, 20)
    });
    p.push(Synth {
        mmco: vec![(2, 1, 0), (6, 0, 1)],
        ..synth(9, 2, 0, 24)
    });
    p.push(Synth {
        over: Some((0, 0)),
        mods: [vec![(2, 1)], vec![]],
        ..synth(10, 2, 0, 28)
    });
    p.push(Synth {
        mmco: vec![(5, 0, 0)],
        ..synth(11, 2, 0, 32)
    });
    p.push(synth(1, 2, 0, 4));
    p.push(synth(2, 0, 1, 2));
    p.push(Synth {
        idr: true,
        ..synth(0, 3, 2, 0)
    });
    p.push(synth(1, 2, 0, 4));
    synth_progressive_stream(&p, 0)
}

/// POC types 1 and 2 with non-reference pictures, a frame_num gap across
/// the MaxFrameNum (16) wrap and MMCO 5.
fn synth_poc_stream(poc_type: u32) -> Vec<u8> {
    let mut p = vec![Synth {
        idr: true,
        ..synth(0, 3, 2, 0)
    }];
    for fnum in 1..14 {
        p.push(Synth {
            delta0: (fnum as i32 % 3) - 1,
            ..synth(fnum, 2, 0, 0)
        });
        if fnum % 4 == 0 {
            p.push(Synth {
                delta0: -2,
                ..synth(fnum + 1, 0, 1, 0)
            });
        }
    }
    // gap: 14, 15, 0, 1 are missing
    p.push(synth(2, 2, 0, 0));
    p.push(Synth {
        delta0: 1,
        ..synth(3, 0, 0, 0)
    });
    p.push(Synth {
        mmco: vec![(5, 0, 0)],
        ..synth(3, 2, 0, 0)
    });
    p.push(synth(1, 2, 0, 0));
    p.push(Synth {
        delta0: -1,
        ..synth(2, 0, 0, 0)
    });
    p.push(synth(2, 2, 0, 0));
    synth_progressive_stream(&p, poc_type)
}

#[test]
fn poc_types_1_and_2_with_wrapping_gap() {
    for poc_type in [1u32, 2] {
        let data = synth_poc_stream(poc_type);
        let ev = run_codec(&data, None, DecodeMode::SliceBased);
        let name = format!("poc{poc_type}-synth.h264");
        let c = check_events(&ev);
        assert_eq!(c.skipped, 0, "{name}");
        assert_eq!(c.outputs.len(), c.decoded.len(), "{name}");
        assert_eq!(c.decoded.len(), 23, "{name}");
    }
}

#[test]
fn long_term_mmco_gaps_and_modifications() {
    let data = synth_marking_stream();
    let ev = run_codec(&data, None, DecodeMode::SliceBased);
    let c = check_events(&ev);
    assert_eq!(c.skipped, 0);
    assert_eq!(c.decoded.len(), 14);
    assert_eq!(c.outputs.len(), 14, "gap frames are never output");
    let dps: Vec<&bindings::v4l2_ctrl_h264_decode_params> = ev
        .iter()
        .filter_map(|e| {
            if let CodecEvent::Decode(j) = e {
                Some(j)
            } else {
                None
            }
        })
        .filter_map(|j| {
            j.controls.iter().find_map(|c| {
                if let Control::H264DecodeParams(d) = c {
                    Some(&**d)
                } else {
                    None
                }
            })
        })
        .collect();
    let lt = |d: &bindings::v4l2_ctrl_h264_decode_params| {
        d.dpb
            .iter()
            .filter(|e| e.flags & bindings::V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM != 0)
            .count()
    };
    // the IDR with long_term_reference_flag is a long-term reference for picture 1
    assert_eq!(lt(dps[1]), 1);
    // after MMCO 3 (picture 3) two long-term references exist
    assert_eq!(lt(dps[4]), 2);
    // after MMCO 5 (picture 9) only that picture remains, as frame_num 0, POC 0
    let live: Vec<_> = dps[10].dpb.iter().filter(|e| e.flags != 0).collect();
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].frame_num, live[0].top_field_order_cnt), (0, 0));
}

#[test]
fn annexb_units_keep_their_pts() {
    // One access unit per unit, pts = decode index: each Output must carry
    // the pts of the unit its picture came from, although the last NAL unit
    // of a unit is only parsed when the next unit (or flush) arrives.
    for clip in [
        "debian-libvpl-examples/cars_320x240.h264",
        "crates-cros-codecs/test-25fps.h264",
    ] {
        let data = std::fs::read(media_dir().join(clip)).unwrap();
        let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
        c.set_mode(DecodeMode::SliceBased, StartCode::None);
        let ev = feed(&mut c, &split_aus(&data), true);
        let mut n = 0;
        for e in &ev {
            if let CodecEvent::Output {
                timestamp_ns,
                pts_ns,
            } = e
            {
                assert_eq!(*timestamp_ns as i64, *pts_ns, "{clip}");
                n += 1;
            }
        }
        assert!(n >= 30);
    }
}

/// Field pictures with MMCO 1, 2, 3 (pairing a long-term index across the
/// two fields), 4 and 6.
fn synth_paff_mmco_stream() -> Vec<u8> {
    let n = Vec::new;
    let pics: Vec<(SynthPic, FieldMmcos)> = vec![
        ((true, 0, 3, 2, true, 0, false), [n(), n()]),
        (
            (true, 1, 2, 0, false, 8, false),
            [vec![(3, 1, 0)], vec![(3, 1, 0)]],
        ),
        ((true, 2, 0, 1, false, 4, false), [n(), n()]),
        (
            (true, 2, 2, 0, false, 16, false),
            [vec![(1, 1, 0)], vec![(2, 1, 0)]],
        ),
        ((true, 3, 2, 0, false, 24, false), [n(), n()]),
        (
            (true, 4, 2, 0, false, 32, false),
            [vec![(4, 2, 0), (6, 0, 1)], vec![(6, 0, 1)]],
        ),
        ((true, 5, 0, 1, false, 28, false), [n(), n()]),
        ((true, 5, 2, 0, false, 40, false), [n(), n()]),
        ((true, 6, 2, 0, false, 48, true), [n(), n()]),
    ];
    synth_paff_stream_with(&pics, false)
}

#[test]
fn paff_field_mmco() {
    let data = synth_paff_mmco_stream();
    let ev = run_codec(&data, None, DecodeMode::SliceBased);
    let c = check_events(&ev);
    assert_eq!(c.skipped, 0);
    assert_eq!((c.decoded.len(), c.jobs, c.outputs.len()), (9, 18, 9));
}

/// The synthetic streams of this module, by the file name they have under
/// `tests/data/h264-synthetic/` (and their goldens under
/// `tests/golden/h264/synthetic/<name>.norm`).
fn synthetic_streams() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("marking-synth.h264", synth_marking_stream()),
        ("paff-mmco-synth.h264", synth_paff_mmco_stream()),
        ("paff-synth.h264", synth_paff_stream()),
        ("poc1-synth.h264", synth_poc_stream(1)),
        ("poc2-synth.h264", synth_poc_stream(2)),
    ]
}

/// The committed `tests/data/h264-synthetic/*.h264` (which the GStreamer
/// goldens were made from) are exactly what the generators here write, so
/// the oracle test and these unit tests read the same bytes. With
/// `VREQ_H264_DUMP=DIR` the streams are first written to DIR
/// (`tests/oracle/make-synthetic.sh`).
#[test]
fn synthetic_streams_are_committed() {
    let streams = synthetic_streams();
    if let Some(dir) = std::env::var_os("VREQ_H264_DUMP") {
        let dir = std::path::PathBuf::from(dir);
        for (name, data) in &streams {
            std::fs::write(dir.join(name), data)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
        }
    }
    let dir = vreq_testkit::repo_dir().join("tests/data/h264-synthetic");
    for (name, data) in &streams {
        let path = dir.join(name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == *data,
            "{}: differs from the generator; run tests/oracle/make-synthetic.sh and regenerate its golden (gen-golden.sh -S)",
            path.display()
        );
    }
    // whole-AU and 4096-byte-chunk input give the same requests
    for (name, data) in &streams {
        let a = normalised_jobs(&run_codec(data, None, DecodeMode::SliceBased));
        let b = normalised_jobs(&run_codec(data, Some(4096), DecodeMode::SliceBased));
        assert_eq!(a, b, "{name}: AU vs 4096-byte chunks");
    }
}

/// An Annex-B SPS NAL unit (start code included) from cros-codecs' builder.
fn sps_nal(aspect_ratio_idc: Option<u8>) -> Vec<u8> {
    sps_nal_colour(aspect_ratio_idc, None)
}

/// [`sps_nal`] with a VUI video signal type when `colour` is given:
/// `(video_full_range_flag, matrix_coefficients)`, the colour description
/// (with BT.709 primaries and transfer) coded only for `Some` coefficients.
fn sps_nal_colour(aspect_ratio_idc: Option<u8>, colour: Option<(bool, Option<u8>)>) -> Vec<u8> {
    use cros_codecs::codec::h264::parser::{Level, Profile, SpsBuilder};
    use cros_codecs::codec::h264::synthesizer::Synthesizer;
    let mut b = SpsBuilder::new()
        .profile_idc(Profile::Main)
        .level_idc(Level::L4)
        .chroma_format_idc(1)
        .frame_mbs_only_flag(true) // before resolution(): it sets the crop units
        .resolution(1920, 1080)
        .max_num_ref_frames(4)
        .direct_8x8_inference_flag(true)
        .pic_order_cnt_type(0)
        .log2_max_pic_order_cnt_lsb_minus4(4)
        .log2_max_frame_num_minus4(4);
    if let Some(idc) = aspect_ratio_idc {
        b = b.aspect_ratio_idc(idc);
    }
    if colour.is_some() {
        b = b.vui_parameters_present();
    }
    let mut sps = Rc::try_unwrap(b.build()).expect("one owner");
    if let Some((full, mc)) = colour {
        let vui = &mut sps.vui_parameters;
        vui.video_signal_type_present_flag = true;
        vui.video_format = 5;
        vui.video_full_range_flag = full;
        vui.colour_description_present_flag = mc.is_some();
        if let Some(mc) = mc {
            vui.colour_primaries = 1;
            vui.transfer_characteristics = 1;
            vui.matrix_coefficients = mc;
        }
    }
    let mut out = vec![0, 0, 0, 1];
    Synthesizer::<cros_codecs::codec::h264::parser::Sps, &mut Vec<u8>>::synthesize(
        3, &sps, &mut out, true,
    )
    .expect("synthesize SPS");
    out
}

#[test]
fn vui_aspect_ratio_and_par_only_change() {
    let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
    let mut data = sps_nal(Some(14)); // 4:3
    data.extend(sps_nal(Some(14))); // repeated: nothing new
    data.extend(sps_nal(Some(2))); // 12:11, same sequence otherwise
    data.extend(sps_nal(None)); // no aspect info: square
    c.push(CodedUnit {
        data: &data,
        pts_ns: None,
        keyframe: true,
        byte_offset: 0,
    })
    .unwrap();
    c.flush().unwrap();
    let conf: Vec<StreamParams> = std::iter::from_fn(|| c.poll())
        .filter_map(|e| match e {
            CodecEvent::Configure(p) => Some(p),
            _ => None,
        })
        .collect();
    let pars: Vec<(u32, u32)> = conf.iter().map(|p| p.pixel_aspect).collect();
    assert_eq!(pars, [(4, 3), (12, 11), (1, 1)]);
    assert_eq!(conf[0].visible, (0, 0, 1920, 1080));
    assert!(conf.windows(2).all(|w| w[0].same_device_config(&w[1])));
}

#[test]
fn vui_colour_description_and_colour_only_change() {
    let mut c = H264Codec::new(&CodecPrivate::None).unwrap();
    let mut data = sps_nal(None); // no VUI: unspecified, limited
    data.extend(sps_nal_colour(None, Some((true, Some(9))))); // BT.2020, full
    data.extend(sps_nal_colour(None, Some((false, Some(5))))); // BT.601 (625), limited
    data.extend(sps_nal_colour(None, Some((true, None)))); // full range only
    data.extend(sps_nal_colour(None, Some((false, Some(2))))); // "unspecified"
    c.push(CodedUnit {
        data: &data,
        pts_ns: None,
        keyframe: true,
        byte_offset: 0,
    })
    .unwrap();
    c.flush().unwrap();
    let conf: Vec<StreamParams> = std::iter::from_fn(|| c.poll())
        .filter_map(|e| match e {
            CodecEvent::Configure(p) => Some(p),
            _ => None,
        })
        .collect();
    let colors: Vec<(Option<u8>, bool)> = conf
        .iter()
        .map(|p| (p.color.matrix_coefficients, p.color.video_full_range))
        .collect();
    assert_eq!(
        colors,
        [
            (None, false),
            (Some(9), true),
            (Some(5), false),
            (None, true),
            (None, false)
        ]
    );
    assert!(conf.windows(2).all(|w| w[0].same_device_config(&w[1])));
}
