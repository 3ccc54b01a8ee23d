//! Issue 17 ("Memory"): CAPTURE buffers are mapped into the process only
//! when the CPU reads them. Through the player's loop on a fake device
//! (`vreq_testkit::fake`, which counts a buffer as mapped from its first
//! `DecoderDevice::capture_map` as the real session mmaps it, until it is
//! released or reallocated), for one clip of each codec, a resolution
//! change and a tiled format:
//!
//! * decode only (`--vo null`, the player's `NullSink`): no mmap at all;
//! * a zero-copy sink (what the Wayland linux-dmabuf and KMS plane paths take
//!   of a frame: its dmabufs only): no mmap at all;
//! * Y4M output (`-o`, the real `Y4mSink`): each CAPTURE buffer read is
//!   mapped once and the mapping reused (mmaps = distinct buffers read, far
//!   fewer than frames); a reallocation unmaps the old configuration's;
//! * a failing mmap ends the Y4M playback with the device's one line naming
//!   the buffer and plane.
//!
//! vreq-va's read-back and export paths are checked in its own tests
//! (`export::tests::only_image_reads_map_capture_buffers`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use vreq_engine::Engine;
use vreq_frame::DecodedFrame;
use vreq_present::y4m::Y4mSink;
use vreq_present::{FrameSource, NullSink, PresentError, Sink};
use vreq_testkit::fake::FakeDevice;
use vreq_testkit::media_dir;
use vreq_v4l2::profile;
use vreq_v4l2::DecoderDevice;
use vreqplay::player::{self, PlayOptions};

/// Clips with resolution changes (CAPTURE reallocated mid-stream; a Y4M
/// file cannot change size, so their frames are read as the window's copy
/// path reads them).
const RESIZE: &str = "debian-src-firefox-esr/wpt-400x300-red-resize-200x150-green.webm";
const RESIZE_VP9: &str = "crates-cros-codecs/resolution_change_500frames-vp9.ivf";

/// One clip per codec, the resize clips and an HEVC clip on rpi-hevc-dec
/// (SAND128 NC12, unpacked by the Y4M sink).
const CLIPS: &[(&str, &str, &str)] = &[
    ("crates-cros-codecs/test-25fps.h264", "visl", "visl"),
    ("crates-cros-codecs/test-25fps.h265", "visl", "visl"),
    ("crates-cros-codecs/test-25fps.vp9.ivf", "visl", "visl"),
    ("crates-cros-codecs/test-25fps.vp8.ivf", "visl", "visl"),
    ("remuxed-by-us/movie-hello.mpeg2.mkv", "visl", "visl"),
    (RESIZE, "visl", "visl"),
    (RESIZE_VP9, "visl", "visl"),
    (
        "crates-cros-codecs/test-25fps.h265",
        "rpi-hevc-dec",
        "rpi-hevc-dec",
    ),
];

/// What a zero-copy sink takes of each frame: its dmabufs (WaylandSink's
/// `ZeroCopy::import`, KmsSink's PRIME import), never its planes.
#[derive(Default)]
struct DmabufOnly {
    frames: u64,
}

impl Sink for DmabufOnly {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        _due: Option<Instant>,
    ) -> Result<(), PresentError> {
        let _fds = src.dmabufs(&frame);
        self.frames += 1;
        Ok(())
    }
}

/// A sink that reads every frame on the CPU, recording which CAPTURE
/// buffers it was handed: the real Y4M sink, or (`y4m: None`, for the
/// resize clips) the planes read as the window's / kiosk's copy paths read
/// them (`FrameSource::planes`, every row of the luma plane touched).
struct Reading {
    y4m: Option<Y4mSink>,
    frames: u64,
    buffers: HashSet<usize>,
    luma_sum: u64,
}

impl Sink for Reading {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        due: Option<Instant>,
    ) -> Result<(), PresentError> {
        self.frames += 1;
        self.buffers.insert(frame.capture_index);
        match &mut self.y4m {
            Some(y4m) => y4m.show(frame, src, due),
            None => {
                let p = src.planes(&frame)?;
                let (y, stride) = p.planes[0];
                self.luma_sum += (0..p.height as usize)
                    .filter_map(|r| y.get(r * stride))
                    .map(|&b| u64::from(b))
                    .sum::<u64>();
                Ok(())
            }
        }
    }
    fn finish(&mut self) -> Result<(), PresentError> {
        match &mut self.y4m {
            Some(y4m) => y4m.finish(),
            None => Ok(()),
        }
    }
}

/// A Y4M path of this test process in the temporary directory.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "vreqplay-capture-mapping-{}-{name}.y4m",
        std::process::id()
    ))
}

type Played = (
    Result<player::PlayReport, player::PlayError>,
    Engine<FakeDevice>,
);

/// Plays `rel` on a fake of `driver` / `variant` (changed by `fake` first)
/// into `sink`; returns the playback's result and the engine afterwards
/// (its device, and with it every CAPTURE buffer, still alive).
fn play(
    rel: &str,
    (driver, variant): (&str, &str),
    fake: impl FnOnce(FakeDevice) -> FakeDevice,
    sink: &mut dyn Sink,
) -> Played {
    let path = media_dir().join(rel);
    let mut demux = vreq_container::open(&path).expect("open clip");
    let (track, kind) = player::pick_track(&path, demux.as_ref()).expect("video track");
    let codec = player::codec_for_track(&path, &track, kind).expect("codec");
    let dev = fake(FakeDevice::for_codec(
        profile::for_driver(driver, variant),
        kind,
    ));
    let mut dec = Engine::new(codec, dev);
    let r = player::run(
        &PlayOptions::null(&path),
        demux.as_mut(),
        &track,
        &mut dec,
        sink,
        false,
    );
    (r, dec)
}

#[test]
fn decode_only_maps_no_capture_buffer() {
    for &(rel, driver, variant) in CLIPS {
        let mut sink = NullSink::default();
        let (r, dec) = play(rel, (driver, variant), |d| d, &mut sink);
        let dev = dec.device();
        let r = r.unwrap_or_else(|e| panic!("{rel} on {driver}: {e}"));
        assert!(r.frames_shown > 0 && sink.frames > 0, "{rel}: no frame");
        assert_eq!(
            (dev.mmaps(), dev.mapped_captures()),
            (0, 0),
            "{rel} on {driver}: --vo null mapped CAPTURE buffers ({} frames)",
            sink.frames
        );
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    }
}

#[test]
fn zero_copy_maps_no_capture_buffer() {
    for &(rel, driver, variant) in CLIPS {
        let mut sink = DmabufOnly::default();
        let (r, dec) = play(rel, (driver, variant), |d| d, &mut sink);
        let dev = dec.device();
        r.unwrap_or_else(|e| panic!("{rel} on {driver}: {e}"));
        assert!(sink.frames > 0, "{rel}: no frame");
        assert_eq!(
            (dev.mmaps(), dev.mapped_captures()),
            (0, 0),
            "{rel} on {driver}: the zero-copy path mapped CAPTURE buffers ({} frames)",
            sink.frames
        );
    }
}

#[test]
fn cpu_reads_map_each_buffer_read_once() {
    for (n, &(rel, driver, variant)) in CLIPS.iter().enumerate() {
        let resize = rel == RESIZE || rel == RESIZE_VP9;
        let out = temp(&format!("{n}"));
        let y4m = (!resize).then(|| Y4mSink::create(&out, false, (25, 1)).unwrap());
        let mut sink = Reading {
            y4m,
            frames: 0,
            buffers: HashSet::new(),
            luma_sum: 0,
        };
        let (r, dec) = play(rel, (driver, variant), |d| d, &mut sink);
        let dev = dec.device();
        r.unwrap_or_else(|e| panic!("{rel} on {driver}: {e}"));
        let read = sink.buffers.len();
        let written = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&out);
        assert!(read > 0, "{rel}: nothing read");
        assert!(resize || written > 0, "{rel}: nothing written");
        // The fake stamps each picture into its buffer's first bytes: the
        // reads saw them.
        assert!(
            !resize || sink.luma_sum > 0,
            "{rel}: read nothing but zeros"
        );
        // Every buffer read was mapped, once: the mapping is cached.
        assert_eq!(dev.mmaps(), read, "{rel} on {driver}: mmaps");
        assert!(
            (read as u64) < sink.frames,
            "{rel}: {read} buffers for {} frames",
            sink.frames
        );
        let reallocated = dev.configures().len() > 1;
        assert_eq!(reallocated, resize, "{rel}: configures");
        if reallocated {
            // The old configuration's buffers were unmapped with them.
            assert!(
                dev.mapped_captures() < read,
                "{rel}: {} of {read} still mapped after the reallocation",
                dev.mapped_captures()
            );
        } else {
            assert_eq!(dev.mapped_captures(), read, "{rel}: mapped at the end");
        }
    }
}

#[test]
fn a_failing_capture_mmap_ends_the_y4m_output_with_one_line() {
    let out = temp("fail");
    let mut sink = Y4mSink::create(&out, false, (25, 1)).unwrap();
    let (r, dec) = play(
        "crates-cros-codecs/test-25fps.vp8.ivf",
        ("visl", "visl"),
        |d| d.with_mmap_errno(nix::errno::Errno::ENOMEM),
        &mut sink,
    );
    drop(sink);
    let _ = std::fs::remove_file(&out);
    let dev = dec.device();
    let e = r.expect_err("the frame cannot be read").to_string();
    assert!(
        e.starts_with("fake visl (") && e.contains("): mmap(CAPTURE 0 plane 0): ENOMEM: "),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
    assert_eq!(dev.mmaps(), 0);
}
