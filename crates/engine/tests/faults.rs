//! Fault injection (issue 15): `Engine` over a `FakeDevice` that fails the
//! way a V4L2 stateless decoder can — a CAPTURE buffer with
//! `V4L2_BUF_FLAG_ERROR`, a request that never completes, `EAGAIN` /
//! `EBUSY` / `ENOMEM` from `VIDIOC_QBUF`, `VIDIOC_S_EXT_CTRLS`,
//! `VIDIOC_REQBUFS`, `VIDIOC_CREATE_BUFS`, the device vanishing (`ENODEV`),
//! `V4L2_EVENT_SOURCE_CHANGE` at unexpected times. Each fault either
//! recovers (the frames that come out are checked one by one) or ends with
//! one line naming the device and the frame; every test runs under a
//! watchdog that fails it after 10 s instead of hanging CI.
//!
//! The scripted codec decodes GOPs of [`GOP`] pictures, I P P P ..., each P
//! referencing the picture before it, output at once (pts = decode index
//! ms); unit `i` is a keyframe iff `i % GOP == 0`. Timestamps are
//! `(i + 1) · 1000` ns.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

use nix::errno::Errno;
use v4l2r::bindings;
use vreq_core::{CodecError, CodecEvent, StatelessCodec};
use vreq_core::{CodecKind, CodedUnit, Control, DecodeJob, DecodeMode, StartCode};
use vreq_engine::{Engine, TRANSIENT_RETRIES};
use vreq_testkit::fake::{FakeDevice, Fault, FaultIoctl};
use vreq_v4l2::profile::for_driver;
use vreq_v4l2::DecoderDevice;

const GOP: usize = 10;
const N: usize = 30;

fn ts(i: usize) -> u64 {
    (i as u64 + 1) * 1000
}

struct Ippp {
    mode: (DecodeMode, StartCode),
    events: VecDeque<CodecEvent>,
    configured: bool,
    last: Option<u64>,
}

impl Ippp {
    fn new() -> Self {
        Ippp {
            mode: (DecodeMode::FrameBased, StartCode::AnnexB),
            events: VecDeque::new(),
            configured: false,
            last: None,
        }
    }
}

impl StatelessCodec for Ippp {
    fn kind(&self) -> CodecKind {
        CodecKind::H264
    }
    fn set_mode(&mut self, mode: DecodeMode, start_code: StartCode) {
        self.mode = (mode, start_code);
    }
    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        let i = unit.data[0] as usize;
        let key = i % GOP == 0;
        if !self.configured {
            self.configured = true;
            self.events
                .push_back(CodecEvent::Configure(vreq_testkit::params_64x48(2)));
        }
        let mut dp = bindings::v4l2_ctrl_h264_decode_params {
            frame_num: (i % GOP) as u16,
            nal_ref_idc: 1,
            ..Default::default()
        };
        if let (false, Some(r)) = (key, self.last) {
            dp.dpb[0].reference_ts = r;
            dp.dpb[0].flags = bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID
                | bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;
        }
        let mut controls = vec![
            Control::H264Sps(Box::default()),
            Control::H264Pps(Box::default()),
            Control::H264DecodeParams(Box::new(dp)),
        ];
        if self.mode.0 == DecodeMode::SliceBased {
            controls.push(Control::H264SliceParams(Box::default()));
        }
        let mut bitstream = if self.mode.1 == StartCode::AnnexB {
            vec![0, 0, 1]
        } else {
            vec![]
        };
        bitstream.extend([if key { 0x65 } else { 0x41 }, i as u8]);
        self.events.push_back(CodecEvent::Decode(DecodeJob {
            timestamp_ns: ts(i),
            controls,
            bitstream,
            hold_capture: false,
            starts_picture: true,
        }));
        self.events.push_back(CodecEvent::Output {
            timestamp_ns: ts(i),
            pts_ns: i as i64 * 1_000_000,
        });
        if let Some(r) = self.last.replace(ts(i)) {
            self.events.push_back(CodecEvent::Unref { timestamp_ns: r });
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), CodecError> {
        if let Some(r) = self.last.take() {
            self.events.push_back(CodecEvent::Unref { timestamp_ns: r });
        }
        Ok(())
    }
    fn reset(&mut self) {
        // The engine forgets every reference at a reset: no Unref owed.
        self.events.clear();
        self.last = None;
    }
    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}

fn hantro() -> FakeDevice {
    FakeDevice::new(for_driver("hantro-vpu", ""))
}

/// What a run of units `units` gave: the frames shown (decode indices), the
/// first error's text, the warnings, and the engine (for its device and stats).
struct Outcome {
    shown: Vec<usize>,
    error: Option<String>,
    warnings: Vec<String>,
    dec: Engine<FakeDevice>,
}

fn unit(i: usize) -> CodedUnit<'static> {
    const DATA: [u8; 256] = {
        let mut d = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            d[i] = i as u8;
            i += 1;
        }
        d
    };
    CodedUnit {
        data: &DATA[i..i + 1],
        pts_ns: None,
        keyframe: i % GOP == 0,
        byte_offset: i as u64 * 100,
    }
}

/// Decodes `units` then finishes, taking every frame as soon as it is
/// ready (and dropping it, so its buffer goes back), stopping at the first
/// error.
fn play_on(mut dec: Engine<FakeDevice>, units: impl IntoIterator<Item = usize>) -> Outcome {
    let mut shown = Vec::new();
    let mut warnings = Vec::new();
    let mut take = |dec: &mut Engine<FakeDevice>| {
        while let Some(f) = dec.next_frame() {
            shown.push((f.pts_ns / 1_000_000) as usize);
        }
        while let Some(w) = dec.take_warning() {
            warnings.push(w);
        }
    };
    let mut error = None;
    for i in units {
        if let Err(e) = dec.decode(unit(i)) {
            error = Some(e);
            break;
        }
        take(&mut dec);
    }
    if error.is_none() {
        error = dec.finish().err();
    }
    take(&mut dec);
    if error.is_none() {
        error = dec.take_error();
    }
    Outcome {
        shown,
        error: error.map(|e| e.to_string()),
        warnings,
        dec,
    }
}

fn play(fake: FakeDevice) -> Outcome {
    play_on(Engine::new(Box::new(Ippp::new()), fake), 0..N)
}

/// Runs the test body `f` on a thread; fails the test if it takes more
/// than 10 s (a hang) or fails (its assertion message is printed above).
fn watchdog(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no return within 10 s: a hang"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test body failed (above)"),
    }
}

/// Every CAPTURE buffer back with the device, nothing in flight (the
/// buffer accounting after a recovery).
fn assert_idle(dec: &Engine<FakeDevice>) {
    let (queued, filling, dequeued) = dec.device().capture_states();
    assert_eq!((filling, dequeued), (0, 0), "{queued} queued");
    assert_eq!(dec.device().in_flight(), 0);
}

fn range(r: std::ops::Range<usize>) -> Vec<usize> {
    r.collect()
}

#[test]
fn capture_buffer_with_v4l2_buf_flag_error_skips_to_the_next_keyframe() {
    watchdog(capture_buffer_with_v4l2_buf_flag_error_skips_to_the_next_keyframe_body);
}

fn capture_buffer_with_v4l2_buf_flag_error_skips_to_the_next_keyframe_body() {
    // A slow device (3 requests in flight before anything completes): the
    // pictures queued after the bad one before it came back are hidden too.
    for busy in [0, 3] {
        let o = play(hantro().with_busy_depth(busy).with_error_on(ts(13)));
        assert_eq!(o.error, None);
        let mut want = range(0..13);
        want.extend(20..N);
        assert_eq!(o.shown, want, "busy depth {busy}");
        let s = o.dec.stats();
        assert_eq!((s.bad, s.after_bad, s.decoded), (1, 6, N as u64));
        assert!(
            o.warnings.iter().any(|w| w.contains("fake hantro-vpu")
                && w.contains("frame 13")
                && w.contains("V4L2_BUF_FLAG_ERROR")),
            "{:?}",
            o.warnings
        );
        assert_idle(&o.dec);
        assert!(o.dec.device().violations().is_empty());
    }
    // On a keyframe: that GOP is lost, the next one plays.
    let o = play(hantro().with_error_on(ts(10)));
    let mut want = range(0..10);
    want.extend(20..N);
    assert_eq!(o.shown, want);
    // On the last picture of a GOP: only it.
    let o = play(hantro().with_error_on(ts(19)));
    let mut want = range(0..19);
    want.extend(20..N);
    assert_eq!(o.shown, want);
}

#[test]
fn a_request_that_never_completes_ends_with_one_line_naming_device_and_frame() {
    watchdog(a_request_that_never_completes_ends_with_one_line_naming_device_and_frame_body);
}

fn a_request_that_never_completes_ends_with_one_line_naming_device_and_frame_body() {
    let o = play(
        hantro()
            .with_slots(4)
            .with_fault(Fault::StuckRequest(ts(7))),
    );
    let e = o.error.expect("a stuck request is an error");
    assert!(!e.contains('\n'), "{e}");
    assert!(e.contains("fake hantro-vpu"), "{e}");
    assert!(e.contains("frame 7 (timestamp 8000 ns)"), "{e}");
    assert_eq!(o.shown, range(0..7), "the frames before it were shown");
}

#[test]
fn transient_errnos_are_retried() {
    watchdog(transient_errnos_are_retried_body);
}

fn transient_errnos_are_retried_body() {
    for ioctl in [FaultIoctl::Qbuf, FaultIoctl::SExtCtrls] {
        for errno in [Errno::EAGAIN, Errno::EBUSY] {
            let fault = Fault::Errno {
                ioctl,
                errno,
                from: 5,
                times: Some(3),
            };
            let o = play(hantro().with_fault(fault));
            assert_eq!(o.error, None, "{ioctl:?} {errno}");
            assert_eq!(o.shown, range(0..N), "{ioctl:?} {errno}");
            assert_eq!(o.dec.stats().retries, 3);
            assert_eq!(o.dec.device().injected().len(), 3);
            assert_eq!(o.dec.device().jobs().len(), N, "each job queued once");
            assert_idle(&o.dec);
        }
    }
    for ioctl in [FaultIoctl::Reqbufs, FaultIoctl::CreateBufs] {
        let fault = Fault::Errno {
            ioctl,
            errno: Errno::EBUSY,
            from: 0,
            times: Some(2),
        };
        let o = play(hantro().with_fault(fault));
        assert_eq!(o.error, None, "{ioctl:?}");
        assert_eq!(o.shown, range(0..N));
        assert_eq!(o.dec.stats().retries, 2);
        assert_eq!(o.dec.device().configures().len(), 1);
    }
}

#[test]
fn persistent_or_fatal_errnos_end_with_one_line_naming_device_and_frame() {
    watchdog(persistent_or_fatal_errnos_end_with_one_line_naming_device_and_frame_body);
}

fn persistent_or_fatal_errnos_end_with_one_line_naming_device_and_frame_body() {
    let cases = [
        // (ioctl, errno, times, calls expected: retried only if transient)
        (
            FaultIoctl::Qbuf,
            Errno::EAGAIN,
            None,
            TRANSIENT_RETRIES as usize + 1,
        ),
        (
            FaultIoctl::SExtCtrls,
            Errno::EBUSY,
            None,
            TRANSIENT_RETRIES as usize + 1,
        ),
        (FaultIoctl::Qbuf, Errno::ENOMEM, Some(1), 1),
        (FaultIoctl::SExtCtrls, Errno::ENOMEM, Some(1), 1),
    ];
    for (ioctl, errno, times, calls) in cases {
        let fault = Fault::Errno {
            ioctl,
            errno,
            from: 5,
            times,
        };
        let o = play(hantro().with_fault(fault));
        let e = o
            .error
            .unwrap_or_else(|| panic!("{ioctl:?} {errno}: no error"));
        assert!(!e.contains('\n'), "{e}");
        for part in [
            "fake hantro-vpu",
            if ioctl == FaultIoctl::Qbuf {
                "VIDIOC_QBUF"
            } else {
                "VIDIOC_S_EXT_CTRLS"
            },
            errno.desc(),
            "frame 5 (timestamp 6000 ns)",
        ] {
            assert!(e.contains(part), "{part:?} not in {e:?}");
        }
        assert_eq!(o.dec.device().injected().len(), calls, "{e}");
        assert_eq!(o.shown, range(0..5), "{e}");
    }
    for ioctl in [FaultIoctl::Reqbufs, FaultIoctl::CreateBufs] {
        let fault = Fault::Errno {
            ioctl,
            errno: Errno::ENOMEM,
            from: 0,
            times: None,
        };
        let o = play(hantro().with_fault(fault));
        let e = o.error.expect("ENOMEM at configure");
        assert!(
            e.contains("fake hantro-vpu") && e.contains("frame 0"),
            "{e}"
        );
        assert!(e.contains(if ioctl == FaultIoctl::Reqbufs {
            "VIDIOC_REQBUFS"
        } else {
            "VIDIOC_CREATE_BUFS"
        }));
        assert!(o.shown.is_empty());
    }
}

#[test]
fn after_a_failed_queue_the_engine_resumes_from_a_keyframe_with_consistent_buffers() {
    watchdog(after_a_failed_queue_the_engine_resumes_from_a_keyframe_with_consistent_buffers_body);
}

fn after_a_failed_queue_the_engine_resumes_from_a_keyframe_with_consistent_buffers_body() {
    // EAGAIN on more calls than the retries: frame 5 fails; a seek (reset)
    // then decoding from the keyframe at 10 works, and every buffer is back.
    let fault = Fault::Errno {
        ioctl: FaultIoctl::Qbuf,
        errno: Errno::EAGAIN,
        from: 5,
        times: Some(TRANSIENT_RETRIES as usize + 1),
    };
    let mut o = play(hantro().with_busy_depth(2).with_fault(fault));
    assert!(o.error.is_some());
    o.dec.reset().unwrap();
    let o = play_on(o.dec, 10..N);
    assert_eq!(o.error, None);
    assert_eq!(o.shown, range(10..N));
    assert_idle(&o.dec);
    assert!(o.dec.device().violations().is_empty());
}

#[test]
fn device_vanishing_mid_stream_ends_with_one_line_naming_device_and_frame() {
    watchdog(device_vanishing_mid_stream_ends_with_one_line_naming_device_and_frame_body);
}

fn device_vanishing_mid_stream_ends_with_one_line_naming_device_and_frame_body() {
    for busy in [0, 3] {
        let o = play(
            hantro()
                .with_busy_depth(busy)
                .with_fault(Fault::Vanish { after: 12 }),
        );
        let e = o.error.expect("ENODEV is an error");
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("fake hantro-vpu"), "{e}");
        assert!(e.contains(Errno::ENODEV.desc()), "{e}");
        assert!(e.contains("at frame 1"), "{e}");
        assert!(o.shown.len() <= 12, "{:?}", o.shown);
        assert_eq!(o.shown, range(0..o.shown.len()));
    }
}

/// Units 0..N with `V4L2_EVENT_SOURCE_CHANGE` on the listed pictures: the
/// frames shown and the number of `configure` calls.
fn source_change(on: &[usize]) -> (Vec<usize>, usize, Vec<String>) {
    let mut fake = FakeDevice::new(for_driver("visl", ""));
    for &i in on {
        fake = fake.with_source_change_on(ts(i));
    }
    let o = play(fake);
    assert_eq!(o.error, None);
    assert_idle(&o.dec);
    (o.shown, o.dec.device().configures().len(), o.warnings)
}

#[test]
fn source_change_at_unexpected_times() {
    watchdog(source_change_at_unexpected_times_body);
}

fn source_change_at_unexpected_times_body() {
    // Mid-GOP: renegotiated before frame 14; its reference went with the
    // old buffers, so 14..20 are hidden and decoding resumes at 20.
    let (shown, configures, warnings) = source_change(&[13]);
    let mut want = range(0..14);
    want.extend(20..N);
    assert_eq!((shown, configures), (want, 2));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("SOURCE_CHANGE before frame 14")),
        "{warnings:?}"
    );
    // Right after configure (on the first picture).
    let (shown, configures, _) = source_change(&[0]);
    let mut want = vec![0];
    want.extend(10..N);
    assert_eq!((shown, configures), (want, 2));
    // Twice in a row: two renegotiations.
    let (shown, configures, _) = source_change(&[4, 5]);
    let mut want = range(0..5);
    want.extend(10..N);
    assert_eq!((shown, configures), (want, 3));
    // Before a keyframe: nothing lost.
    let (shown, configures, _) = source_change(&[9]);
    assert_eq!((shown, configures), (range(0..N), 2));
    // During the final drain (on the last picture): every frame, no
    // renegotiation needed.
    let (shown, configures, _) = source_change(&[N - 1]);
    assert_eq!((shown, configures), (range(0..N), 1));
}
