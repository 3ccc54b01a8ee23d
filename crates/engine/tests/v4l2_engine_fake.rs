//! `engine::Engine` over `v4l2::fake::FakeDevice` with a tiny scripted
//! `StatelessCodec`: requests in flight, display order, CAPTURE buffer
//! lifetimes, error frames.
//!
//! The scripted codec decodes a fixed GOP pattern (I P B B ..., B pictures
//! non-reference, ≤ 2 reference pictures, reorder depth 2). Each coded unit's
//! first byte is the picture's index in decode order. Timestamps are
//! `(decode index + 1) * 1000` ns, pts `poc * 1 ms`.
//!
//! Like the real codecs, it emits a picture's Unref only once the picture is
//! neither a reference nor waiting for output (Unref follows the last Output).
//!
//! Engine rules with their own tests here: a reference's CAPTURE buffer
//! is not requeued while requests queued before its Unref may still read it;
//! a decoded non-reference picture is not recycled before it is output; a
//! reconfiguration (new size) mid-stream loses no frame and shows none at the
//! wrong size while the consumer still holds old frames; a picture output
//! twice (VP9 `show_existing_frame`) is shown twice and its buffer kept while
//! either frame is held; a picture never output (VP9 hidden frame) is recycled.

use std::collections::{HashMap, HashSet, VecDeque};

use v4l2r::bindings;
use vreq_core::{CodecError, CodecEvent, StatelessCodec};
use vreq_core::{CodecKind, CodedUnit, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_engine::Engine;
use vreq_frame::DecodedFrame;
use vreq_testkit::fake::FakeDevice;
use vreq_v4l2::profile::for_driver;
use vreq_v4l2::DecoderDevice;

const SLICES: usize = 2;
const MAX_REFS: usize = 2;

/// (poc, is_reference) in decode order: I0 P3 B1 B2 P6 B4 B5 ...
fn gop(pictures: usize) -> Vec<(i32, bool)> {
    let mut v = vec![(0, true)];
    let mut base = 0;
    while v.len() < pictures {
        v.push((base + 3, true));
        v.push((base + 1, false));
        v.push((base + 2, false));
        base += 3;
    }
    v.truncate(pictures);
    v
}

fn timestamp_ns_of(decode_index: usize) -> u64 {
    (decode_index as u64 + 1) * 1000
}

fn pts_of(poc: i32) -> i64 {
    poc as i64 * 1_000_000
}

struct Scripted {
    script: Vec<(i32, bool)>,
    mode: DecodeMode,
    start_code: StartCode,
    events: VecDeque<CodecEvent>,
    refs: VecDeque<u64>,
    reorder: Vec<(i32, u64)>,
    /// Pictures kept back for reordering before the smallest POC is output.
    reorder_depth: usize,
    configured: bool,
    /// Decoded pictures no longer referenced / already output (Unref when both).
    unreferenced: HashSet<u64>,
    output: HashSet<u64>,
}

impl Scripted {
    fn new(script: Vec<(i32, bool)>, reorder_depth: usize) -> Self {
        Scripted {
            script,
            mode: DecodeMode::FrameBased,
            start_code: StartCode::AnnexB,
            events: VecDeque::new(),
            refs: VecDeque::new(),
            reorder: Vec::new(),
            reorder_depth,
            configured: false,
            unreferenced: HashSet::new(),
            output: HashSet::new(),
        }
    }

    fn params(&self) -> StreamParams {
        vreq_testkit::params_64x48((MAX_REFS + self.reorder_depth) as u32)
    }

    fn bump(&mut self, all: bool) {
        while !self.reorder.is_empty() && (all || self.reorder.len() > self.reorder_depth) {
            self.reorder.sort();
            let (poc, timestamp_ns) = self.reorder.remove(0);
            self.events.push_back(CodecEvent::Output {
                timestamp_ns,
                pts_ns: pts_of(poc),
            });
            self.output.insert(timestamp_ns);
            self.maybe_unref(timestamp_ns);
        }
    }

    fn unref(&mut self, timestamp_ns: u64) {
        self.unreferenced.insert(timestamp_ns);
        self.maybe_unref(timestamp_ns);
    }

    fn maybe_unref(&mut self, timestamp_ns: u64) {
        if self.unreferenced.contains(&timestamp_ns) && self.output.contains(&timestamp_ns) {
            self.unreferenced.remove(&timestamp_ns);
            self.output.remove(&timestamp_ns);
            self.events.push_back(CodecEvent::Unref { timestamp_ns });
        }
    }
}

impl StatelessCodec for Scripted {
    fn kind(&self) -> CodecKind {
        CodecKind::H264
    }

    fn set_mode(&mut self, mode: DecodeMode, start_code: StartCode) {
        self.mode = mode;
        self.start_code = start_code;
    }

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        let i = *unit
            .data
            .first()
            .ok_or_else(|| CodecError::BadConfig("empty unit".into()))? as usize;
        let (poc, is_ref) = *self
            .script
            .get(i)
            .ok_or_else(|| CodecError::BadConfig(format!("no picture {i}")))?;
        let timestamp_ns = timestamp_ns_of(i);
        if !self.configured {
            self.configured = true;
            self.events.push_back(CodecEvent::Configure(self.params()));
        }
        let mut dp = bindings::v4l2_ctrl_h264_decode_params {
            frame_num: i as u16,
            nal_ref_idc: is_ref as u16,
            top_field_order_cnt: poc,
            bottom_field_order_cnt: poc,
            ..Default::default()
        };
        for (k, &r) in self.refs.iter().enumerate() {
            dp.dpb[k].reference_ts = r;
            dp.dpb[k].flags = bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID
                | bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;
        }
        let slices = if self.mode == DecodeMode::SliceBased {
            SLICES
        } else {
            1
        };
        for s in 0..slices {
            let mut controls = Vec::new();
            if s == 0 {
                if i == 0 {
                    controls.push(Control::H264Sps(Box::default()));
                    controls.push(Control::H264Pps(Box::default()));
                }
                controls.push(Control::H264DecodeParams(Box::new(dp)));
            }
            if self.mode == DecodeMode::SliceBased {
                controls.push(Control::H264SliceParams(Box::default()));
            }
            let mut bitstream = if self.start_code == StartCode::AnnexB {
                vec![0, 0, 1]
            } else {
                vec![]
            };
            bitstream.extend([if i == 0 { 0x65 } else { 0x41 }, i as u8, s as u8]);
            self.events.push_back(CodecEvent::Decode(DecodeJob {
                timestamp_ns,
                controls,
                bitstream,
                hold_capture: s + 1 < slices,
                starts_picture: s == 0,
            }));
        }
        self.reorder.push((poc, timestamp_ns));
        if is_ref {
            self.refs.push_back(timestamp_ns);
            if self.refs.len() > MAX_REFS {
                let old = self.refs.pop_front().expect("len > MAX_REFS");
                self.unref(old);
            }
        } else {
            self.unref(timestamp_ns);
        }
        self.bump(false);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CodecError> {
        self.bump(true);
        while let Some(r) = self.refs.pop_front() {
            self.unref(r);
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.refs.clear();
        self.reorder.clear();
    }

    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}

struct Run {
    pts: Vec<i64>,
    max_in_flight: usize,
    bad: u64,
    warnings: Vec<String>,
    violations: Vec<String>,
    jobs: usize,
}

/// Decodes `n` pictures; the consumer keeps the last `hold` frames alive and
/// checks after every step that each held frame's buffer still carries the
/// stamp of its own picture.
fn run(fake: FakeDevice, n: usize, hold: usize) -> Run {
    run_with(fake, n, hold, 2)
}

fn run_with(fake: FakeDevice, n: usize, hold: usize, reorder_depth: usize) -> Run {
    let script = gop(n);
    let ts_for_pts: HashMap<i64, u64> = script
        .iter()
        .enumerate()
        .map(|(i, &(poc, _))| (pts_of(poc), timestamp_ns_of(i)))
        .collect();
    let mut dec = Engine::new(Box::new(Scripted::new(script, reorder_depth)), fake);
    let mut held: VecDeque<DecodedFrame> = VecDeque::new();
    let mut pts = Vec::new();
    let mut warnings = Vec::new();
    let check = |dec: &Engine<FakeDevice>, held: &VecDeque<DecodedFrame>| {
        for f in held {
            let p = dec.planes(f).unwrap();
            let stamp = u64::from_le_bytes(p.planes[0].0[..8].try_into().unwrap());
            assert_eq!(
                stamp, ts_for_pts[&f.pts_ns],
                "frame pts {} (CAPTURE {}) was overwritten while the consumer held it",
                f.pts_ns, f.capture_index
            );
        }
    };
    let mut take = |dec: &mut Engine<FakeDevice>, held: &mut VecDeque<DecodedFrame>| {
        while let Some(f) = dec.next_frame() {
            pts.push(f.pts_ns);
            held.push_back(f);
            while held.len() > hold {
                held.pop_front();
            }
        }
        while let Some(w) = dec.take_warning() {
            warnings.push(w);
        }
    };
    for i in 0..n {
        dec.decode(CodedUnit {
            data: &[i as u8],
            pts_ns: None,
            keyframe: i == 0,
            byte_offset: i as u64,
        })
        .unwrap();
        take(&mut dec, &mut held);
        check(&dec, &held);
    }
    dec.finish().unwrap();
    take(&mut dec, &mut held);
    check(&dec, &held);
    drop(held);
    let _ = dec.next_frame(); // lets the engine recycle the dropped frames
    let s = dec.stats();
    Run {
        pts,
        max_in_flight: s.max_in_flight,
        bad: s.bad,
        warnings,
        violations: dec.device().violations(),
        jobs: dec.device().jobs().len(),
    }
}

fn sorted_pts(n: usize) -> Vec<i64> {
    let mut v: Vec<i64> = gop(n).iter().map(|&(poc, _)| pts_of(poc)).collect();
    v.sort();
    v
}

#[test]
fn keeps_at_least_four_requests_in_flight() {
    let fake = FakeDevice::new(for_driver("visl", ""))
        .with_slots(8)
        .with_busy_depth(4);
    let r = run(fake, 24, 0);
    assert!(r.max_in_flight >= 4, "max in flight {}", r.max_in_flight);
    assert_eq!(
        r.jobs,
        24 * SLICES,
        "slice-based visl: one request per slice"
    );
}

#[test]
fn deep_pipeline_outputs_every_frame() {
    let fake = FakeDevice::new(for_driver("visl", ""))
        .with_slots(8)
        .with_busy_depth(4);
    let r = run(fake, 24, 0);
    assert_eq!(r.pts, sorted_pts(24));
    assert!(r.violations.is_empty(), "{:?}", r.violations);
}

#[test]
fn frames_come_out_in_display_order() {
    for driver in ["visl", "hantro-vpu", "rkvdec", "cedrus"] {
        let fake = FakeDevice::new(for_driver(driver, "")).with_busy_depth(3);
        let r = run(fake, 19, 1);
        assert_eq!(r.pts, sorted_pts(19), "{driver}");
        assert!(r.violations.is_empty(), "{driver}: {:?}", r.violations);
        assert_eq!(r.bad, 0, "{driver}");
    }
}

#[test]
fn capture_not_requeued_while_referenced_or_held() {
    // LIFO reuse in the fake makes an early requeue overwrite the buffer at
    // once; `run` checks held frames' stamps, the fake checks references.
    let fake = FakeDevice::new(for_driver("visl", "")).with_busy_depth(5);
    let r = run(fake, 31, 3);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(r.pts, sorted_pts(31));
}

#[test]
fn the_checks_can_fail() {
    // A consumer that holds more frames than the headroom allows must stall
    // the engine rather than have buffers reused under it.
    let fake = FakeDevice::new(for_driver("visl", "")).with_busy_depth(2);
    let result = std::panic::catch_unwind(|| run(fake, 40, 64));
    assert!(
        result.is_err(),
        "holding every frame must exhaust CAPTURE buffers and stall"
    );
}

#[test]
fn error_frame_is_reported_bad_and_hides_the_rest_of_its_gop() {
    let n = 13;
    let bad_index = 5; // a non-reference B picture
    let (bad_poc, is_ref) = gop(n)[bad_index];
    assert!(!is_ref);
    let fake = FakeDevice::new(for_driver("hantro-vpu", ""))
        .with_error_on(timestamp_ns_of(bad_index))
        .with_busy_depth(2);
    let r = run(fake, n, 2);
    assert_eq!(r.bad, 1);
    assert!(
        r.warnings.iter().any(|w| w.contains("V4L2_BUF_FLAG_ERROR")),
        "{:?}",
        r.warnings
    );
    // Decoding resumes at the next keyframe (this GOP has none after
    // picture 0): the pictures decoded before the bad one still come out, in
    // order (P6 too, decoded before B4 though shown after it); none decoded
    // after it does.
    let mut want: Vec<i64> = gop(n)[..bad_index]
        .iter()
        .map(|&(poc, _)| pts_of(poc))
        .collect();
    want.sort();
    assert!(!want.contains(&pts_of(bad_poc)));
    assert_eq!(
        r.pts, want,
        "the frames decoded before the bad one, in order"
    );
}

#[test]
fn rkvdec_gets_sps_before_capture_format() {
    let fake = FakeDevice::new(for_driver("rkvdec", "rkvdec"));
    let mut dec = Engine::new(Box::new(Scripted::new(gop(4), 2)), fake);
    for i in 0..4u8 {
        dec.decode(CodedUnit {
            data: &[i],
            pts_ns: None,
            keyframe: i == 0,
            byte_offset: 0,
        })
        .unwrap();
    }
    dec.finish().unwrap();
    let cfg = &dec.device().configures()[0];
    assert!(cfg.2.contains(&bindings::V4L2_CID_STATELESS_H264_SPS));
    assert_eq!(
        dec.device().mode(),
        (DecodeMode::FrameBased, StartCode::AnnexB)
    );
}

#[test]
fn non_reference_picture_kept_until_output() {
    // Immediate completion and a deep reorder queue: a non-reference B is
    // decoded and unreferenced long before the codec outputs it.
    let fake = FakeDevice::new(for_driver("hantro-vpu", ""));
    let r = run_with(fake, 16, 0, 4);
    assert_eq!(r.pts, sorted_pts(16));
    assert!(r.violations.is_empty(), "{:?}", r.violations);
}

// ---------------------------------------------------------------------------
// VP9-style scripted streams: resolution changes, show_existing_frame, hidden
// frames. Each coded unit's first byte indexes a list of events.

#[derive(Debug, Clone)]
enum Ev {
    /// Configure at this coded size.
    Cfg(u32, u32),
    /// Decode a frame: timestamp, key frame, (last, golden, alt) references.
    Dec(u64, bool, [u64; 3]),
    /// Output a decoded frame with this pts (ms).
    Out(u64, i64),
    Unref(u64),
}

struct EventScript {
    units: Vec<Vec<Ev>>,
    at_flush: Vec<Ev>,
    events: VecDeque<CodecEvent>,
    size: (u32, u32),
}

impl EventScript {
    fn new(units: Vec<Vec<Ev>>, at_flush: Vec<Ev>) -> Self {
        EventScript {
            units,
            at_flush,
            events: VecDeque::new(),
            size: (0, 0),
        }
    }

    fn emit(&mut self, evs: Vec<Ev>) {
        for ev in evs {
            let e = match ev {
                Ev::Cfg(w, h) => {
                    self.size = (w, h);
                    CodecEvent::Configure(StreamParams {
                        coded_width: w,
                        coded_height: h,
                        visible: (0, 0, w, h),
                        bit_depth: 8,
                        dpb_size: 8,
                        frame_duration_ns: None,
                        pixel_aspect: (1, 1),
                        color: Default::default(),
                    })
                }
                Ev::Dec(timestamp_ns, key, refs) => {
                    let f = bindings::v4l2_ctrl_vp9_frame {
                        flags: if key {
                            bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME
                        } else {
                            0
                        },
                        last_frame_ts: refs[0],
                        golden_frame_ts: refs[1],
                        alt_frame_ts: refs[2],
                        frame_width_minus_1: self.size.0 as u16 - 1,
                        frame_height_minus_1: self.size.1 as u16 - 1,
                        ..Default::default()
                    };
                    CodecEvent::Decode(DecodeJob {
                        timestamp_ns,
                        controls: vec![
                            Control::Vp9Frame(Box::new(f)),
                            Control::Vp9CompressedHdr(Box::default()),
                        ],
                        bitstream: vec![0x82, 0x49, 0x83, timestamp_ns as u8],
                        hold_capture: false,
                        starts_picture: true,
                    })
                }
                Ev::Out(timestamp_ns, pts_ms) => CodecEvent::Output {
                    timestamp_ns,
                    pts_ns: pts_ms * 1_000_000,
                },
                Ev::Unref(timestamp_ns) => CodecEvent::Unref { timestamp_ns },
            };
            self.events.push_back(e);
        }
    }
}

impl StatelessCodec for EventScript {
    fn kind(&self) -> CodecKind {
        CodecKind::Vp9
    }

    fn set_mode(&mut self, _: DecodeMode, _: StartCode) {}

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        let i = *unit.data.first().expect("test units are not empty") as usize;
        let evs = self.units[i].clone();
        self.emit(evs);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CodecError> {
        let evs = std::mem::take(&mut self.at_flush);
        self.emit(evs);
        Ok(())
    }

    fn reset(&mut self) {}

    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}

/// What the fake stamped into a frame's buffer: (timestamp, width, height).
fn stamp_of(dec: &Engine<FakeDevice>, f: &DecodedFrame) -> (u64, u32, u32) {
    let p = dec.planes(f).unwrap().planes[0].0;
    assert!(
        p.len() >= 16,
        "frame pts {}: its CAPTURE buffer {} is gone",
        f.pts_ns,
        f.capture_index
    );
    let u = |r: std::ops::Range<usize>| p[r].to_vec();
    (
        u64::from_le_bytes(u(0..8).try_into().unwrap()),
        u32::from_le_bytes(u(8..12).try_into().unwrap()),
        u32::from_le_bytes(u(12..16).try_into().unwrap()),
    )
}

fn feed(dec: &mut Engine<FakeDevice>, i: usize) {
    dec.decode(CodedUnit {
        data: &[i as u8],
        pts_ns: None,
        keyframe: false,
        byte_offset: i as u64,
    })
    .unwrap();
}

/// Frames 0.. with a new size (and key frame) at each listed start; each
/// frame references the previous one, is output at once (pts = index ms)
/// and the previous one is unreferenced after it.
fn resize_script(sizes: &[(usize, u32, u32)], n: usize) -> (EventScript, Vec<(u32, u32)>) {
    let timestamp_ns = |i: usize| (i as u64 + 1) * 1000;
    let mut units = Vec::new();
    let mut size_of = Vec::new();
    let mut size = (0, 0);
    for i in 0..n {
        let mut u = Vec::new();
        let key = if let Some(&(_, w, h)) = sizes.iter().find(|s| s.0 == i) {
            u.push(Ev::Cfg(w, h));
            size = (w, h);
            true
        } else {
            false
        };
        let r = if i == 0 { 0 } else { timestamp_ns(i - 1) };
        u.push(Ev::Dec(timestamp_ns(i), key, [r; 3]));
        u.push(Ev::Out(timestamp_ns(i), i as i64));
        if i > 0 {
            u.push(Ev::Unref(timestamp_ns(i - 1)));
        }
        units.push(u);
        size_of.push(size);
    }
    (
        EventScript::new(units, vec![Ev::Unref(timestamp_ns(n - 1))]),
        size_of,
    )
}

#[test]
fn resolution_change_mid_stream_while_the_consumer_holds_old_frames() {
    let n = 30;
    let sizes = [(0, 64, 48), (7, 128, 96), (15, 48, 32), (16, 96, 64)];
    for hold in [0usize, 1, 3] {
        let (codec, size_of) = resize_script(&sizes, n);
        let fake = FakeDevice::new(for_driver("visl", "")).with_busy_depth(2);
        let mut dec = Engine::new(Box::new(codec), fake);
        let mut held: VecDeque<DecodedFrame> = VecDeque::new();
        let mut shown = Vec::new();
        let check = |dec: &Engine<FakeDevice>, held: &VecDeque<DecodedFrame>| {
            for f in held {
                let i = (f.pts_ns / 1_000_000) as usize;
                let (w, h) = size_of[i];
                assert_eq!(
                    (f.visible.2, f.visible.3),
                    (w, h),
                    "frame {i} has the wrong visible size"
                );
                let (timestamp_ns, bw, bh) = stamp_of(dec, f);
                assert_eq!(
                    timestamp_ns,
                    (i as u64 + 1) * 1000,
                    "frame {i}: buffer reused"
                );
                assert_eq!(
                    (bw, bh),
                    (f.format.width, f.format.height),
                    "frame {i}: buffer of another size"
                );
                assert!(f.format.width >= w && f.format.height >= h);
            }
        };
        let mut take = |dec: &mut Engine<FakeDevice>, held: &mut VecDeque<DecodedFrame>| {
            while let Some(f) = dec.next_frame() {
                shown.push(f.pts_ns / 1_000_000);
                held.push_back(f);
                check(dec, held);
                while held.len() > hold {
                    held.pop_front();
                }
            }
            if let Some(e) = dec.take_error() {
                panic!("{e}");
            }
        };
        for i in 0..n {
            feed(&mut dec, i);
            take(&mut dec, &mut held);
            check(&dec, &held);
        }
        dec.finish().unwrap();
        take(&mut dec, &mut held);
        let want: Vec<i64> = (0..n as i64).collect();
        assert_eq!(shown, want, "hold {hold}: every frame once, in order");
        assert_eq!(dec.device().configures().len(), sizes.len());
        for (c, s) in dec.device().configures().iter().zip(sizes) {
            assert_eq!((c.1.coded_width, c.1.coded_height), (s.1, s.2));
            assert_eq!(c.3, 9 + vreq_engine::CAPTURE_HEADROOM, "VP9: 8 slots + 1");
        }
        assert!(
            dec.device().violations().is_empty(),
            "{:?}",
            dec.device().violations()
        );
        drop(held);
        let _ = dec.next_frame();
        assert_eq!(
            dec.device().retired(),
            0,
            "hold {hold}: old buffers released once dropped"
        );
    }
}

#[test]
fn show_existing_frame_outputs_a_picture_twice_and_keeps_its_buffer() {
    let timestamp_ns = |i: u64| (i + 1) * 1000;
    // 0: key, shown. 1: hidden alt-ref. 2: inter, shown. 3: show_existing(1).
    // 4: show_existing(0) again with a new pts. Then inter frames; 0 and 1
    // leave the reference slots early (LIFO reuse would overwrite them).
    let mut units = vec![
        vec![
            Ev::Cfg(64, 48),
            Ev::Dec(timestamp_ns(0), true, [0; 3]),
            Ev::Out(timestamp_ns(0), 0),
        ],
        vec![Ev::Dec(timestamp_ns(1), false, [timestamp_ns(0); 3])],
        vec![
            Ev::Dec(
                timestamp_ns(2),
                false,
                [timestamp_ns(0), timestamp_ns(0), timestamp_ns(1)],
            ),
            Ev::Out(timestamp_ns(2), 1),
        ],
        vec![Ev::Out(timestamp_ns(1), 2)],
        vec![
            Ev::Out(timestamp_ns(0), 3),
            Ev::Unref(timestamp_ns(0)),
            Ev::Unref(timestamp_ns(1)),
        ],
    ];
    let n = 20u64;
    for i in 5..n {
        let prev = timestamp_ns(i - 1 - (i == 5) as u64 * 2); // frame 5 references frame 2
        units.push(vec![
            Ev::Dec(timestamp_ns(i), false, [prev; 3]),
            Ev::Out(timestamp_ns(i), i as i64 - 1),
            Ev::Unref(prev),
        ]);
    }
    let codec = EventScript::new(units, vec![Ev::Unref(timestamp_ns(n - 1))]);
    let fake = FakeDevice::new(for_driver("visl", ""));
    let mut dec = Engine::new(Box::new(codec), fake);
    let mut frames: Vec<DecodedFrame> = Vec::new();
    let mut pts = Vec::new();
    for i in 0..n as usize {
        feed(&mut dec, i);
        while let Some(f) = dec.next_frame() {
            pts.push(f.pts_ns / 1_000_000);
            frames.push(f);
        }
        // The consumer keeps both frames of picture 0 (pts 0 and 3) and drops the rest.
        frames.retain(|f| matches!(f.pts_ns / 1_000_000, 0 | 3));
        for f in &frames {
            assert_eq!(
                stamp_of(&dec, f).0,
                timestamp_ns(0),
                "picture 0's buffer was reused"
            );
        }
    }
    dec.finish().unwrap();
    while let Some(f) = dec.next_frame() {
        pts.push(f.pts_ns / 1_000_000);
    }
    let want: Vec<i64> = (0..n as i64 - 1).collect();
    assert_eq!(pts, want, "picture 0 shown twice, hidden picture 1 once");
    assert_eq!(dec.stats().output, n - 1);
    assert!(
        dec.device().violations().is_empty(),
        "{:?}",
        dec.device().violations()
    );
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].capture_index, frames[1].capture_index);
    let index = frames[0].capture_index;
    let given_back = |dec: &Engine<FakeDevice>| {
        dec.device()
            .requeues()
            .iter()
            .filter(|&&i| i == index)
            .count()
    };
    let before = given_back(&dec);
    frames.pop();
    let _ = dec.next_frame();
    assert_eq!(given_back(&dec), before, "still held by the other frame");
    frames.pop();
    let _ = dec.next_frame();
    assert_eq!(
        given_back(&dec),
        before + 1,
        "released after both were dropped"
    );
}

#[test]
fn hidden_frames_are_recycled() {
    // 60 hidden alt-ref frames, each shown later through show_existing_frame
    // or never: with 9 + headroom CAPTURE buffers a leak stalls the engine.
    let timestamp_ns = |i: u64| (i + 1) * 1000;
    let mut units = vec![vec![
        Ev::Cfg(64, 48),
        Ev::Dec(timestamp_ns(0), true, [0; 3]),
        Ev::Out(timestamp_ns(0), 0),
    ]];
    let mut pts = 1;
    let mut last = timestamp_ns(0);
    for k in 0..60u64 {
        let hidden = timestamp_ns(1 + 2 * k);
        let shown = timestamp_ns(2 + 2 * k);
        let mut u = vec![
            Ev::Dec(hidden, false, [last; 3]),
            Ev::Dec(shown, false, [last, last, hidden]),
            Ev::Out(shown, pts),
        ];
        pts += 1;
        if k % 2 == 0 {
            u.push(Ev::Out(hidden, pts)); // show_existing_frame
            pts += 1;
        }
        u.extend([Ev::Unref(hidden), Ev::Unref(last)]);
        last = shown;
        units.push(u);
    }
    let codec = EventScript::new(units.clone(), vec![Ev::Unref(last)]);
    let mut dec = Engine::new(Box::new(codec), FakeDevice::new(for_driver("visl", "")));
    let mut out = Vec::new();
    for i in 0..units.len() {
        feed(&mut dec, i);
        while let Some(f) = dec.next_frame() {
            out.push(f.pts_ns / 1_000_000);
        }
    }
    dec.finish().unwrap();
    while let Some(f) = dec.next_frame() {
        out.push(f.pts_ns / 1_000_000);
    }
    assert_eq!(out, (0..pts).collect::<Vec<_>>());
    assert_eq!(dec.stats().decoded, 121);
    assert!(dec.device().violations().is_empty());
}

#[test]
fn source_change_event_renegotiates_capture() {
    // The device signals V4L2_EVENT_SOURCE_CHANGE when frame 9 completes; the
    // engine renegotiates before frame 10 (a key frame) with the same stream
    // parameters, handing out frames 0..=9 first; the held ones stay valid.
    let timestamp_ns = |i: usize| (i as u64 + 1) * 1000;
    let n = 20;
    let mut units = Vec::new();
    for i in 0..n {
        let mut u = Vec::new();
        if i == 0 {
            u.push(Ev::Cfg(64, 48));
        }
        let key = i % 10 == 0;
        let r = if key { 0 } else { timestamp_ns(i - 1) };
        u.push(Ev::Dec(timestamp_ns(i), key, [r; 3]));
        u.push(Ev::Out(timestamp_ns(i), i as i64));
        if i > 0 {
            u.push(Ev::Unref(timestamp_ns(i - 1)));
        }
        units.push(u);
    }
    let codec = EventScript::new(units, vec![Ev::Unref(timestamp_ns(n - 1))]);
    let fake = FakeDevice::new(for_driver("visl", "")).with_source_change_on(timestamp_ns(9));
    let mut dec = Engine::new(Box::new(codec), fake);
    let mut held: VecDeque<DecodedFrame> = VecDeque::new();
    let mut out = Vec::new();
    for i in 0..n {
        // frame 10 is a key frame: nothing is hidden after the renegotiation
        dec.decode(CodedUnit {
            data: &[i as u8],
            pts_ns: None,
            keyframe: i % 10 == 0,
            byte_offset: i as u64,
        })
        .unwrap();
        while let Some(f) = dec.next_frame() {
            out.push(f.pts_ns / 1_000_000);
            held.push_back(f);
            if held.len() > 2 {
                held.pop_front();
            }
        }
        for f in &held {
            let i = (f.pts_ns / 1_000_000) as usize;
            assert_eq!(
                stamp_of(&dec, f).0,
                timestamp_ns(i),
                "frame {i}: buffer reused"
            );
        }
    }
    dec.finish().unwrap();
    while let Some(f) = dec.next_frame() {
        out.push(f.pts_ns / 1_000_000);
    }
    assert_eq!(out, (0..n as i64).collect::<Vec<_>>());
    let cfg = dec.device().configures();
    assert_eq!(cfg.len(), 2, "one renegotiation after the event");
    assert_eq!(cfg[0].1, cfg[1].1);
    assert!(
        dec.device().violations().is_empty(),
        "{:?}",
        dec.device().violations()
    );
}
