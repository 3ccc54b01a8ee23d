//! No heap allocation per frame in the steady state (issue 17): a clip of
//! each codec the fake device supports (H.264, HEVC, VP8, VP9, MPEG-2, in
//! the containers the player reads them from) is demuxed
//! (`vreq_container::open`), parsed (`vreq_codec::make_codec`) and decoded
//! by the real [`Engine`] over the fake visl device
//! (`vreq_testkit::fake::FakeDevice`), and every heap allocation and
//! reallocation made from the first packet after frame [`WARM_UP`] was
//! output to the end of the file (before `Engine::finish`) is counted by a
//! counting global allocator (`stats_alloc`), split by phase: the demuxer's
//! `read_packet`, `Engine::decode` (the codec's parse, the requests queued,
//! the completions dequeued) and `Engine::next_frame`.
//!
//! Allocations made inside a [`DecoderDevice`] call are counted apart
//! ([`Counted`]) and not held to the bound: the fake records every request
//! it is given (its checks and the other tests read them), and the real
//! device is crates/v4l2's `Session`, which this test does not reach.
//!
//! The allocator counts every thread of the process: this binary holds one
//! test only, so libtest runs nothing beside it (its main thread waits),
//! and nothing measured starts a thread.
//!
//! Bounds: per clip and phase, allocations per frame (see `clips`), plus
//! [`GROWTH`] in all: 0 per frame for every clip now; what is still
//! allocated (the list at the end) is reused buffers growing to a new
//! largest unit, within [`GROWTH`].
//!
//! The steady state starts [`WARM_UP`] frames after a sequence starts (the
//! engine's device `configure`: the first, or a change of coded size, DPB
//! size or bit depth) and the packet that starts one is not counted: a
//! sequence's set-up (its parameter sets parsed, the device's new formats,
//! the reused buffers growing to the new picture size) is once per
//! sequence, not per frame. hevc_white_red_frames.mp4 changes sequence at
//! its frame 60 (1024x768 to 3480x2160, a new VPS / SPS / PPS); counted
//! through it, that set-up was 19 allocations (9 parsing the parameter
//! sets, 3 in `process_sps`, 7 buffers growing), 11 more than [`GROWTH`].
//!
//! Gone (issue 17): the HEVC slice parse's three RBSP copies per slice and
//! the entry points' heap spill (290 over hevc_white_red_frames.mp4's
//! frames before); the repeated HEVC parameter sets' parse (7 per
//! repetition); the H.264 slice header's lists (161 over bunny_hd_5s.mp4's
//! 88 frames: cros-codecs now parses into one reused `SliceHeader`,
//! third_party/cros-codecs-PATCHES.md). Then, attributed with a
//! backtrace-recording allocator (not kept):
//!
//! * MPEG-2 ES `demux` (movie-hello.m2v, 13 before): a copy of every 64 KiB
//!   chunk read (9), the window's buffer growing once when a refill found
//!   bytes left over (also movie-hello.mpeg2.ts), frame buffers growing;
//! * MPEG-PS `demux` (movie-hello.mpeg, 7 before, all at its end: the open
//!   probe had read the rest ahead): two copies of every PES (the packet,
//!   then its payload), for any longer file two allocations per PES; the
//!   audio cutter's list of spare buffers growing;
//! * MPEG-TS `demux` (sintel-captions.ts, 36 before): its audio PES carry
//!   9 AAC frames, all cut before the first came back, and the cutter kept
//!   8 spare buffers: a new one every PES (12); the unit buffers in turn
//!   (access units, audio frames, PES payloads) each growing on its own,
//!   doubling, as larger units came (its units grow 8x after the warm-up;
//!   3 access unit buffers per track, the caller's given back only after
//!   the next unit was cut); AuSplitter's own buffer holding the NAL unit
//!   being collected and the whole PES pushed (4). movie-hello.mpeg2.ts
//!   (9 before): its frame and PES payload buffers growing in turn;
//! * H.264 `decode` of sintel-captions.ts (17 before): the SPS and PPS
//!   repeated before its IDR picture parsed again (5), bitstream buffers
//!   taken last-in first and growing each on its own (8);
//! * VP9 `decode` (gizmo.webm, gizmo.vp9.mp4: 6 each before): a small
//!   spare bitstream buffer handed larger frames, doubling 4 times.
//!
//! Still allocated, within [`GROWTH`] (counts over the measured frames):
//!
//! * sintel-captions.ts: `decode` 8 (exactly [`GROWTH`]): the H.264
//!   Annex-B carry (the last NAL unit of a unit and the next unit, one
//!   buffer) doubling 4 times, and the 2 bitstream buffers in turn growing
//!   to twice the largest frame twice each, as its frames grow 8x after the
//!   warm-up; `demux` 5: its video PID's PES gathering buffer doubling
//!   twice, the 2 access unit buffers in turn growing to twice the largest
//!   unit (3);
//! * test-25fps.h265: `decode` 3 (an RBSP buffer first used after the
//!   warm-up, then doubling twice), `demux` 1 (the Annex-B reader's
//!   buffer, once);
//! * gizmo.webm `demux` 2 (the Matroska block and frame buffers growing
//!   once to a larger frame), gizmo.vp9.mp4 `demux` 1 (the MP4 packet
//!   buffer, once), movie-hello.mpeg2.ts `demux` 2 (its PES gathering
//!   buffer and the MPEG-2 splitter's buffer, once each), movie-hello.m2v
//!   `demux` 1 (the MPEG-2 splitter's buffer, once: 128 to 256 KiB);
//! * bunny_hd_5s.mp4 and test-25fps.vp8.ivf `decode` 1: the codec's event
//!   queue growing once (`emit_unrefs`).

use std::alloc::System;
use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use vreq_container as container;
use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_engine::Engine;
use vreq_frame::CaptureFormat;
use vreq_testkit::fake::FakeDevice;
use vreq_testkit::media_dir;
use vreq_v4l2::{profile, Completed, DecoderDevice, DeviceError};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Frames output before the counting starts (again after a sequence
/// change, see the module doc): the device is configured, the
/// CAPTURE pool and the DPB are full, every buffer the path reuses has grown
/// to its largest size (more than the largest DPB, 16 pictures, plus the
/// reorder depth).
const WARM_UP: u64 = 30;

/// Allocations allowed per phase over a whole clip on top of its per-frame
/// bound: a buffer that the path reuses growing once more after the
/// warm-up (a larger packet than any before it, a deeper display queue),
/// which is not an allocation per frame.
const GROWTH: u64 = 8;

/// Allocations (new blocks + reallocations) in each phase over the measured frames.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    demux: usize,
    decode: usize,
    output: usize,
    /// Inside the device's calls (not bounded, see the module doc).
    device: usize,
    /// Frames output while counting.
    frames: u64,
    /// Sequences started (device `configure` calls) over the clip.
    sequences: u64,
}

fn allocs() -> usize {
    let s = GLOBAL.stats();
    s.allocations + s.reallocations
}

/// A device whose calls' allocations are counted apart, in `inside`, and
/// whose `configure` calls (the engine's start of a sequence) are counted
/// in `configures`.
struct Counted<D> {
    dev: D,
    inside: Cell<usize>,
    configures: u64,
}

impl<D> Counted<D> {
    fn count<R>(&self, f: impl FnOnce(&D) -> R) -> R {
        let a = allocs();
        let r = f(&self.dev);
        self.inside.set(self.inside.get() + allocs() - a);
        r
    }

    fn count_mut<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> R {
        let a = allocs();
        let r = f(&mut self.dev);
        self.inside.set(self.inside.get() + allocs() - a);
        r
    }
}

impl<D: DecoderDevice> DecoderDevice for Counted<D> {
    fn name(&self) -> String {
        self.count(|d| d.name())
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        self.count(|d| d.mode())
    }
    fn has_control(&self, id: u32) -> bool {
        self.count(|d| d.has_control(id))
    }
    fn configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first_controls: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        self.configures += 1;
        self.count_mut(|d| d.configure(codec, params, first_controls, capture_buffers))
    }
    fn free_slots(&self) -> usize {
        self.count(|d| d.free_slots())
    }
    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
        self.count_mut(|d| d.queue(job))
    }
    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError> {
        self.count_mut(|d| d.dequeue(timeout))
    }
    fn in_flight(&self) -> usize {
        self.count(|d| d.in_flight())
    }
    fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError> {
        self.count_mut(|d| d.requeue_capture(index))
    }
    fn capture_dmabufs(&self, index: usize) -> Vec<std::os::fd::BorrowedFd<'_>> {
        let a = allocs();
        let r = self.dev.capture_dmabufs(index);
        self.inside.set(self.inside.get() + allocs() - a);
        r
    }
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        self.count(|d| d.capture_plane_lengths(index))
    }
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        let a = allocs();
        let r = self.dev.capture_map(index);
        self.inside.set(self.inside.get() + allocs() - a);
        r
    }
    fn mapped_captures(&self) -> usize {
        self.count(|d| d.mapped_captures())
    }
    fn take_source_change(&mut self) -> bool {
        self.count_mut(|d| d.take_source_change())
    }
}

fn measure(path: &Path) -> Result<Counts, String> {
    let mut demux = container::open(path).map_err(|e| e.to_string())?;
    let (track, kind) = container::first_video_track(path, demux.tracks())?;
    let codec = vreq_codec::make_codec(kind, &track.codec_private).map_err(|e| e.to_string())?;
    let dev = Counted {
        dev: FakeDevice::for_codec(profile::for_driver("visl", "visl"), kind),
        inside: Cell::new(0),
        configures: 0,
    };
    let mut engine = Engine::new(codec, dev);
    let mut pkt = container::Packet::default();
    let mut shown = 0u64;
    let mut c = Counts::default();
    loop {
        let counting = shown >= WARM_UP;
        let configures = engine.device().configures;
        let frames_before = c.frames;
        let d0 = engine.device().inside.get();
        let a0 = allocs();
        let more = demux.read_packet(&mut pkt).map_err(|e| e.to_string())?;
        let a1 = allocs();
        if !more {
            break;
        }
        let mut a2 = a1;
        let mut a3 = a1;
        let mut d1 = d0;
        if pkt.track == track.id {
            engine
                .decode((&pkt).into())
                .map_err(|e| format!("byte {}: {e}", pkt.byte_offset))?;
            a2 = allocs();
            d1 = engine.device().inside.get();
            while let Some(f) = engine.next_frame() {
                drop(f);
                shown += 1;
                if counting {
                    c.frames += 1;
                }
            }
            a3 = allocs();
        }
        if engine.device().configures != configures {
            // a sequence starts (the first, or a change: new coded size, DPB
            // size, bit depth): its set-up (parameter sets, the device's new
            // formats, reused buffers growing to the new picture size) is not
            // per frame; the steady state is again WARM_UP frames away, and
            // this packet is not counted
            c.sequences += 1;
            c.frames = frames_before;
            shown = 0;
            continue;
        }
        if counting {
            // the device's share happens inside decode / next_frame
            let (d_decode, d_output) = (d1 - d0, engine.device().inside.get() - d1);
            c.demux += a1 - a0;
            c.decode += a2 - a1 - d_decode;
            c.output += a3 - a2 - d_output;
            c.device += d_decode + d_output;
        }
    }
    if let Some(e) = engine.take_error() {
        return Err(e.to_string());
    }
    if let Some(v) = engine.device().dev.violations().first() {
        return Err(format!("fake device: {v}"));
    }
    Ok(c)
}

#[test]
fn steady_state_decodes_allocate_nothing_per_frame() {
    // (per-frame bound: [demux, decode, output], clip)
    let clips: [([f64; 3], &str); 15] = [
        // H.264: MP4 (AVC length prefixes), MPEG-TS (Annex-B)
        ([0.0, 0.0, 0.0], "debian-src-firefox-esr/gizmo.mp4"),
        ([0.0, 0.0, 0.0], "debian-src-firefox-esr/bunny_hd_5s.mp4"),
        ([0.0, 0.0, 0.0], "npm-mux.js/sintel-captions.ts"),
        // HEVC: Annex-B elementary stream, MP4
        ([0.0, 0.0, 0.0], "crates-cros-codecs/test-25fps.h265"),
        (
            [0.0, 0.0, 0.0],
            "debian-src-firefox-esr/hevc_white_red_frames.mp4",
        ),
        // VP8: IVF, WebM
        ([0.0, 0.0, 0.0], "crates-cros-codecs/test-25fps.vp8.ivf"),
        (
            [0.0, 0.0, 0.0],
            "debian-src-firefox-esr/webgl-npot-video.vp8.webm",
        ),
        // VP9: WebM (superframes), IVF, MP4
        ([0.0, 0.0, 0.0], "debian-src-firefox-esr/gizmo.webm"),
        (
            [0.0, 0.0, 0.0],
            "debian-src-firefox-esr/vp9-superframes.webm",
        ),
        ([0.0, 0.0, 0.0], "crates-cros-codecs/test-25fps.vp9.ivf"),
        ([0.0, 0.0, 0.0], "remuxed-by-us/gizmo.vp9.mp4"),
        // MPEG-2: elementary stream, MPEG-PS, MPEG-TS, Matroska
        ([0.0, 0.0, 0.0], "remuxed-by-us/movie-hello.m2v"),
        (
            [0.0, 0.0, 0.0],
            "debian-forensics-samples-files/movie-hello.mpeg",
        ),
        ([0.0, 0.0, 0.0], "remuxed-by-us/movie-hello.mpeg2.ts"),
        (
            [0.0, 0.0, 0.0],
            "remuxed-by-us/k3bphotosvcd.mpeg2-interlaced.mkv",
        ),
    ];
    let mut failures = Vec::new();
    let mut table = Vec::new();
    // VREQ_ALLOC_CLIP=<part of a path>: only those clips (to profile one
    // with a heap profiler)
    let only = std::env::var("VREQ_ALLOC_CLIP").ok();
    for (bound, clip) in clips {
        if only.as_ref().is_some_and(|o| !clip.contains(o.as_str())) {
            continue;
        }
        match measure(&media_dir().join(clip)) {
            Ok(c) => {
                let per = |n: usize| n as f64 / c.frames.max(1) as f64;
                table.push(format!(
                    "{clip}: {} frames, {} sequences, per frame: demux {:.2}, decode {:.2}, output {:.2} (device {:.2})",
                    c.frames,
                    c.sequences,
                    per(c.demux),
                    per(c.decode),
                    per(c.output),
                    per(c.device)
                ));
                if c.frames < 50 {
                    failures.push(format!("{clip}: only {} frames measured", c.frames));
                }
                let counted = [c.demux, c.decode, c.output];
                if (0..3).any(|i| counted[i] as f64 > bound[i] * c.frames as f64 + GROWTH as f64) {
                    failures.push(format!("{clip}: {c:?}, over {bound:?} per frame"));
                }
            }
            Err(e) => failures.push(format!("{clip}: {e}")),
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {} clips allocate per frame:\n{}",
        failures.len(),
        clips.len(),
        failures.join("\n")
    );
}
