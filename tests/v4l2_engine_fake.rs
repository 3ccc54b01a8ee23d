//! `engine::Decoder` over `v4l2::fake::FakeDevice` with a tiny scripted
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
use vreqplay::codec::{
    CodecError, CodecEvent, CodecKind, CodedUnit, Control, DecodeJob, DecodeMode, StartCode,
    StatelessCodec, StreamParams,
};
use vreqplay::engine::{DecodedFrame, Decoder};
use vreqplay::v4l2::fake::FakeDevice;
use vreqplay::v4l2::profile::for_driver;
use vreqplay::v4l2::DecoderDevice;

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

fn ts_of(decode_index: usize) -> u64 {
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
        StreamParams {
            coded_width: 64,
            coded_height: 48,
            visible: (0, 0, 64, 48),
            bit_depth: 8,
            dpb_size: (MAX_REFS + self.reorder_depth) as u32,
            frame_duration_ns: None,
        }
    }

    fn bump(&mut self, all: bool) {
        while !self.reorder.is_empty() && (all || self.reorder.len() > self.reorder_depth) {
            self.reorder.sort();
            let (poc, ts) = self.reorder.remove(0);
            self.events.push_back(CodecEvent::Output {
                timestamp_ns: ts,
                pts_ns: pts_of(poc),
            });
            self.output.insert(ts);
            self.maybe_unref(ts);
        }
    }

    fn unref(&mut self, ts: u64) {
        self.unreferenced.insert(ts);
        self.maybe_unref(ts);
    }

    fn maybe_unref(&mut self, ts: u64) {
        if self.unreferenced.contains(&ts) && self.output.contains(&ts) {
            self.unreferenced.remove(&ts);
            self.output.remove(&ts);
            self.events
                .push_back(CodecEvent::Unref { timestamp_ns: ts });
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
        let ts = ts_of(i);
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
                timestamp_ns: ts,
                controls,
                bitstream,
                hold_capture: s + 1 < slices,
                starts_picture: s == 0,
            }));
        }
        self.reorder.push((poc, ts));
        if is_ref {
            self.refs.push_back(ts);
            if self.refs.len() > MAX_REFS {
                let old = self.refs.pop_front().expect("len > MAX_REFS");
                self.unref(old);
            }
        } else {
            self.unref(ts);
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
        .map(|(i, &(poc, _))| (pts_of(poc), ts_of(i)))
        .collect();
    let mut dec = Decoder::new(Box::new(Scripted::new(script, reorder_depth)), fake);
    let mut held: VecDeque<DecodedFrame> = VecDeque::new();
    let mut pts = Vec::new();
    let mut warnings = Vec::new();
    let check = |dec: &Decoder<FakeDevice>, held: &VecDeque<DecodedFrame>| {
        for f in held {
            let p = dec.planes(f);
            let stamp = u64::from_le_bytes(p.planes[0].0[..8].try_into().unwrap());
            assert_eq!(
                stamp, ts_for_pts[&f.pts_ns],
                "frame pts {} (CAPTURE {}) was overwritten while the consumer held it",
                f.pts_ns, f.capture_index
            );
        }
    };
    let mut take = |dec: &mut Decoder<FakeDevice>, held: &mut VecDeque<DecodedFrame>| {
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
fn error_frame_is_reported_bad_and_decoding_continues() {
    let n = 13;
    let bad_index = 5; // a non-reference B picture
    let (bad_poc, is_ref) = gop(n)[bad_index];
    assert!(!is_ref);
    let fake = FakeDevice::new(for_driver("hantro-vpu", ""))
        .with_error_on(ts_of(bad_index))
        .with_busy_depth(2);
    let r = run(fake, n, 2);
    assert_eq!(r.bad, 1);
    assert!(
        r.warnings.iter().any(|w| w.contains("V4L2_BUF_FLAG_ERROR")),
        "{:?}",
        r.warnings
    );
    let mut want = sorted_pts(n);
    want.retain(|&p| p != pts_of(bad_poc));
    assert_eq!(r.pts, want, "every other frame still comes out, in order");
}

#[test]
fn rkvdec_gets_sps_before_capture_format() {
    let fake = FakeDevice::new(for_driver("rkvdec", "rkvdec"));
    let mut dec = Decoder::new(Box::new(Scripted::new(gop(4), 2)), fake);
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
