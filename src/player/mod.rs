//! The play loop: demux → decode → present, paced at the stream's rate for
//! windowed output (unpaced for `--vo null` / `-o file.y4m`).

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vreq_container as container;
use vreq_container::TrackInfo;
use vreq_core::{CodecKind, CodedUnit, StatelessCodec};
use vreq_engine::Engine;
use vreq_frame::{DecodedFrame, PlanesRef};
use vreq_present::{FrameSource, NullSink, PresentError, Sink, UserCommand};
use vreq_v4l2::{discover, session::Session, DecoderDevice, DeviceInfo};

/// Where frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A Wayland window (paced at the stream rate).
    Wayland,
    /// Decode only.
    Null,
    /// A Y4M file (frames in display order); `force` allows overwriting.
    Y4m { path: PathBuf, force: bool },
}

/// What to play and how.
#[derive(Debug, Clone)]
pub struct PlayOptions {
    pub input: PathBuf,
    pub output: Output,
    /// Stop after this many output frames.
    pub max_frames: Option<u64>,
    /// Use the decoder behind this media device (`/dev/mediaN`) instead of discovery.
    pub device: Option<PathBuf>,
    /// At the end, keep the window open on the last frame until the user closes it (mpv's `--keep-open`).
    pub keep_open: bool,
    /// Start the window fullscreen (`--fullscreen`; key `f` toggles).
    pub fullscreen: bool,
    /// Never hand the decoder's buffers to the compositor: always convert on
    /// the CPU (`--hwdec-copy`, mpv's `--hwdec=…-copy`).
    pub hwdec_copy: bool,
}

/// What playback did (printed at the end, checked by tests).
#[derive(Debug, Clone, Default)]
pub struct PlayReport {
    pub device: String,
    pub stats: vreq_engine::Stats,
    pub frames_shown: u64,
    /// Decoded frames not shown because their pts lies outside the track's
    /// presentation window (MP4 edit list).
    pub frames_hidden: u64,
    /// Every warning shown to the user (skipped input, bad frames, demux errors).
    pub warnings: Vec<String>,
    /// What the window did (presented / dropped / late), for windowed output.
    pub present: Option<vreq_present::PresentStats>,
}

/// Errors that end playback, each one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error(transparent)]
    Container(#[from] container::ContainerError),
    #[error("{0}")]
    NoDecoder(String),
    #[error("{path}: {what}")]
    Input { path: PathBuf, what: String },
    #[error("{0}")]
    Decode(String),
    #[error(transparent)]
    Present(#[from] PresentError),
}

/// Picks the device for a stream: the one behind `--device` (`forced`, a
/// `/dev/mediaN` or `/dev/videoN`; an error naming what it decodes if it
/// lacks the codec), else [`discover::route`] over every stateless decoder
/// found at start (the one that serves the codec, preferring one that fits
/// the size and bit depth).
pub fn pick_device(
    needs: &discover::StreamNeeds,
    forced: Option<&Path>,
) -> Result<DeviceInfo, PlayError> {
    let devices = discover::discover().map_err(PlayError::NoDecoder)?;
    choose_device(&devices, needs, forced).cloned()
}

/// [`pick_device`] over an already probed device list (tests build one with
/// `vreq_testkit::fake::device_info`).
pub fn choose_device<'a>(
    devices: &'a [DeviceInfo],
    needs: &discover::StreamNeeds,
    forced: Option<&Path>,
) -> Result<&'a DeviceInfo, PlayError> {
    if let Some(m) = forced {
        let d = devices
            .iter()
            .find(|d| d.media_path == m || d.video_path == m)
            .ok_or_else(|| {
                PlayError::NoDecoder(format!(
                    "{}: not a stateless decoder ({})",
                    m.display(),
                    discover::describe_union(devices)
                ))
            })?;
        if d.support(needs.codec).is_none() {
            let codecs: Vec<&str> = d.codecs.iter().map(|c| c.codec.name()).collect();
            return Err(PlayError::NoDecoder(format!(
                "{}: {} is not supported by {} (it decodes: {})",
                m.display(),
                needs.codec,
                d.driver,
                codecs.join(", ")
            )));
        }
        return Ok(d);
    }
    discover::route(devices, needs).map_err(PlayError::NoDecoder)
}

/// Most demux errors in a row before playback gives up on the file (each
/// error is reported; a demuxer that cannot resume ends with `Ok(None)`).
pub const MAX_CONSECUTIVE_DEMUX_ERRORS: u32 = 64;

/// The video track [`play`] picks: the first one vreqplay can decode
/// ([`container::first_video_track`]).
pub fn pick_track(
    input: &Path,
    demux: &dyn container::Demuxer,
) -> Result<(TrackInfo, CodecKind), PlayError> {
    container::first_video_track(input, demux.tracks()).map_err(PlayError::Decode)
}

/// The codec for `track` ([`vreq_codec::make_codec`]). Errors name the file
/// and track: its configuration is bad or the stream is outside what the
/// codec decodes (e.g. VP9 profile 3, MPEG-1).
pub fn codec_for_track(
    input: &Path,
    track: &TrackInfo,
    kind: CodecKind,
) -> Result<Box<dyn StatelessCodec>, PlayError> {
    vreq_codec::make_codec(kind, &track.codec_private).map_err(|e| PlayError::Input {
        path: input.to_owned(),
        what: format!("track {}: {e}", track.id),
    })
}

/// Plays `opts.input` to the end (or `max_frames`) on a discovered device.
pub fn play(opts: &PlayOptions) -> Result<PlayReport, PlayError> {
    let mut demux = container::open(&opts.input)?;
    let (track, kind) = pick_track(&opts.input, demux.as_ref())?;
    let codec = codec_for_track(&opts.input, &track, kind)?;
    let frame_ns = track.frame_duration_ns.unwrap_or(40_000_000);
    // File sinks first: an existing -o file is refused before any device is touched.
    let file_sink: Option<Box<dyn Sink>> = match &opts.output {
        Output::Null => Some(Box::new(NullSink::default())),
        Output::Y4m { path, force } => Some(Box::new(vreq_present::y4m::Y4mSink::create(
            path,
            *force,
            fps_fraction(frame_ns),
        )?)),
        Output::Wayland => None,
    };
    let needs = discover::StreamNeeds {
        codec: kind,
        width: track.width,
        height: track.height,
        bit_depth: None,
    };
    let info = pick_device(&needs, opts.device.as_deref())?;
    let session = Session::open(&info, kind).map_err(|e| PlayError::Decode(e.to_string()))?;
    let mut sink = match file_sink {
        Some(s) => s,
        None => {
            let mut wo = vreq_present::wayland::WindowOptions::for_input(&opts.input);
            wo.fullscreen = opts.fullscreen;
            wo.force_shm = opts.hwdec_copy;
            vreq_present::wayland::open_window_with(&wo)?
        }
    };
    let paced = opts.output == Output::Wayland;
    let mut dec = Engine::new(codec, session);
    let mut report = run(opts, demux.as_mut(), &track, &mut dec, sink.as_mut(), paced)?;
    report.device = info.video_path.display().to_string();
    Ok(report)
}

/// The engine's frames as the presentation crate reads them: CPU planes
/// through [`Engine::planes`], dmabufs through the device's
/// [`DecoderDevice::capture_dmabufs`]. (The present crate owns
/// [`FrameSource`] and never sees the device; this adapter is the one place
/// both meet.)
pub struct EngineFrames<'a, D: DecoderDevice>(pub &'a Engine<D>);

impl<D: DecoderDevice> FrameSource for EngineFrames<'_, D> {
    fn planes(&self, frame: &DecodedFrame) -> PlanesRef<'_> {
        self.0.planes(frame)
    }
    fn dmabufs(&self, frame: &DecodedFrame) -> Vec<BorrowedFd<'_>> {
        self.0.device().capture_dmabufs(frame.capture_index)
    }
}

/// The play loop over any [`DecoderDevice`] (the caller builds `dec`, so tests
/// can inspect a fake device afterwards): demux `track`'s packets, decode,
/// hand frames to `sink` in display order (sleeping until each pts when
/// `paced`), drain at end of stream. Corrupt input is skipped with a warning;
/// device errors end playback with the file, track and byte offset.
pub fn run<D: DecoderDevice>(
    opts: &PlayOptions,
    demux: &mut dyn container::Demuxer,
    track: &TrackInfo,
    dec: &mut Engine<D>,
    sink: &mut dyn Sink,
    paced: bool,
) -> Result<PlayReport, PlayError> {
    let mut report = PlayReport {
        device: dec.device().name(),
        ..Default::default()
    };
    let mut clock: Option<(Instant, i64)> = None;
    let limit = opts.max_frames.unwrap_or(u64::MAX);
    let input = &opts.input;

    let mut show = |dec: &mut Engine<D>,
                    sink: &mut dyn Sink,
                    report: &mut PlayReport|
     -> Result<Flow, PlayError> {
        while let Some(w) = dec.take_warning() {
            tracing::warn!("{}: track {}: {w}", input.display(), track.id);
            report.warnings.push(w);
        }
        while let Some(mut frame) = dec.next_frame() {
            if report.frames_shown >= limit {
                return Ok(Flow::Stop);
            }
            if let Some((start, end)) = track.presentation_window_ns {
                if frame.pts_ns < start || frame.pts_ns >= end {
                    report.frames_hidden += 1;
                    continue;
                }
            }
            // Container crop and aspect ratio over the bitstream's (mpv's
            // default `--video-aspect-method=container`).
            (frame.visible, frame.pixel_aspect) =
                container::display_geometry(track, frame.visible, frame.pixel_aspect);
            let mut due = None;
            if paced {
                let lead = sink.lead();
                let (t0, p0) = *clock.get_or_insert((Instant::now() + lead, frame.pts_ns));
                let at = t0 + Duration::from_nanos((frame.pts_ns - p0).max(0) as u64);
                let now = Instant::now();
                if let Some(wake) = at.checked_sub(lead) {
                    if wake > now {
                        std::thread::sleep(wake - now);
                    }
                }
                due = Some(at);
            }
            sink.show(frame, &EngineFrames(dec), due)?;
            report.frames_shown += 1;
            if handle_commands(sink, &mut clock)? == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        sink.dispatch()?;
        if handle_commands(sink, &mut clock)? == Flow::Quit {
            return Ok(Flow::Quit);
        }
        Ok(if report.frames_shown < limit {
            Flow::Go
        } else {
            Flow::Stop
        })
    };

    let mut errors_in_a_row = 0;
    let mut flow = Flow::Go;
    loop {
        let pkt = match demux.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                report.warnings.push(e.to_string());
                errors_in_a_row += 1;
                if errors_in_a_row >= MAX_CONSECUTIVE_DEMUX_ERRORS {
                    tracing::error!("{e}; {errors_in_a_row} demux errors in a row, giving up on the rest of the file");
                    break;
                }
                tracing::warn!("{e}; continuing with the next readable packet");
                continue;
            }
        };
        errors_in_a_row = 0;
        if pkt.track != track.id {
            continue;
        }
        let unit = CodedUnit::from(&pkt);
        dec.decode(unit).map_err(|e| {
            PlayError::Decode(format!(
                "{}: track {} byte {}: {e}",
                input.display(),
                track.id,
                pkt.byte_offset
            ))
        })?;
        flow = show(dec, sink, &mut report)?;
        if flow != Flow::Go {
            break;
        }
    }
    if flow == Flow::Go && report.frames_shown < limit {
        dec.finish().map_err(|e| {
            PlayError::Decode(format!("{}: at end of stream: {e}", input.display()))
        })?;
        flow = show(dec, sink, &mut report)?;
        if let Some(e) = dec.take_error() {
            return Err(PlayError::Decode(format!(
                "{}: at end of stream: {e}",
                input.display()
            )));
        }
    }
    sink.finish()?;
    report.stats = dec.stats();
    report.present = sink.present_stats();
    if opts.keep_open && paced && flow != Flow::Quit {
        // The decoder (which owns the last frame's buffer) stays alive until the
        // window closes or the user quits (`space` does nothing here).
        loop {
            match sink.dispatch() {
                Ok(()) => {
                    if sink.take_commands().contains(&UserCommand::Quit) {
                        tracing::info!("quit (key)");
                        break;
                    }
                    std::thread::sleep(PAUSE_POLL)
                }
                Err(PresentError::Closed) => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(report)
}

/// How often a paused player lets the sink handle events (keys, releases, close).
pub const PAUSE_POLL: Duration = Duration::from_millis(20);

/// What the play loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Keep decoding.
    Go,
    /// `max_frames` reached.
    Stop,
    /// The user asked to quit ([`UserCommand::Quit`]).
    Quit,
}

/// Acts on the sink's [`UserCommand`]s: `Quit` → [`Flow::Quit`];
/// `TogglePause` pauses: this blocks, letting the sink dispatch every
/// [`PAUSE_POLL`], until the next `TogglePause` (or `Quit`), then shifts the
/// pacing clock's origin by the time spent paused so later frames keep their
/// spacing. Errors: the sink's (e.g. [`PresentError::Closed`]).
fn handle_commands(
    sink: &mut dyn Sink,
    clock: &mut Option<(Instant, i64)>,
) -> Result<Flow, PresentError> {
    let mut paused_at: Option<Instant> = None;
    loop {
        for c in sink.take_commands() {
            match c {
                UserCommand::Quit => {
                    tracing::info!("quit (key)");
                    return Ok(Flow::Quit);
                }
                UserCommand::TogglePause => match paused_at.take() {
                    None => {
                        tracing::info!("paused");
                        paused_at = Some(Instant::now());
                    }
                    Some(t) => {
                        let paused = t.elapsed();
                        if let Some((t0, _)) = clock.as_mut() {
                            *t0 += paused;
                        }
                        tracing::info!("resumed after {paused:?}");
                    }
                },
            }
        }
        if paused_at.is_none() {
            return Ok(Flow::Go);
        }
        std::thread::sleep(PAUSE_POLL);
        sink.dispatch()?;
    }
}

/// Frame rate as a fraction from a frame duration in ns (25 fps → (25, 1)).
pub fn fps_fraction(frame_ns: u64) -> (u32, u32) {
    if frame_ns == 0 {
        return (25, 1);
    }
    // common NTSC rates
    for (num, den) in [(24000u64, 1001u64), (30000, 1001), (60000, 1001)] {
        if (frame_ns as i64 - (den * 1_000_000_000 / num) as i64).abs() < 1000 {
            return (num as u32, den as u32);
        }
    }
    let fps = (1_000_000_000f64 / frame_ns as f64).round().max(1.0) as u32;
    (fps, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_frame::DecodedFrame;
    use vreq_present::FrameSource;
    use vreq_testkit::fake::FakeDevice;
    use vreq_v4l2::profile;

    /// A sink that hands out scripted commands: `after_show[n]` after the
    /// n-th shown frame (0-based), `after_dispatch[n]` at the n-th dispatch
    /// (0-based) since commands were last taken. Records each frame's due instant.
    #[derive(Default)]
    struct Scripted {
        after_show: Vec<(u64, UserCommand)>,
        after_dispatch: Vec<(u64, UserCommand)>,
        shown: u64,
        dispatches: u64,
        since_taken: u64,
        pending: Vec<UserCommand>,
        dues: Vec<Instant>,
    }

    impl Sink for Scripted {
        fn show(
            &mut self,
            _frame: DecodedFrame,
            _src: &dyn FrameSource,
            due: Option<Instant>,
        ) -> Result<(), PresentError> {
            if let Some(d) = due {
                self.dues.push(d);
            }
            for &(n, c) in &self.after_show {
                if n == self.shown {
                    self.pending.push(c);
                }
            }
            self.shown += 1;
            Ok(())
        }
        fn dispatch(&mut self) -> Result<(), PresentError> {
            for &(n, c) in &self.after_dispatch {
                if n == self.since_taken {
                    self.pending.push(c);
                }
            }
            self.dispatches += 1;
            self.since_taken += 1;
            Ok(())
        }
        fn take_commands(&mut self) -> Vec<UserCommand> {
            if !self.pending.is_empty() {
                self.since_taken = 0;
            }
            std::mem::take(&mut self.pending)
        }
    }

    fn play(sink: &mut Scripted, max_frames: Option<u64>, paced: bool) -> PlayReport {
        let path = vreq_testkit::media_dir().join("debian-src-firefox-esr/bipbop_short_vp8.webm");
        let opts = PlayOptions {
            input: path.clone(),
            output: Output::Null,
            max_frames,
            device: None,
            keep_open: false,
            fullscreen: false,
            hwdec_copy: false,
        };
        let mut demux = container::open(&path).expect("open clip");
        let (track, kind) = pick_track(&path, demux.as_ref()).expect("track");
        let codec = codec_for_track(&path, &track, kind).expect("codec");
        let mut dec = Engine::new(
            codec,
            FakeDevice::for_codec(profile::for_driver("visl", "visl"), kind),
        );
        run(&opts, demux.as_mut(), &track, &mut dec, sink, paced).expect("run")
    }

    #[test]
    fn quit_ends_playback_with_a_report() {
        let mut sink = Scripted {
            after_show: vec![(4, UserCommand::Quit)],
            ..Default::default()
        };
        let r = play(&mut sink, None, false);
        // the clip has 27 frames; quit after the 5th
        assert_eq!(r.frames_shown, 5);
        assert_eq!(sink.shown, 5);
        assert!(r.stats.output >= 5, "{:?}", r.stats);
    }

    #[test]
    fn pause_holds_frames_and_shifts_the_clock() {
        // pause after frame 2, resume at the 10th dispatch while paused (~200 ms)
        let mut sink = Scripted {
            after_show: vec![(2, UserCommand::TogglePause)],
            after_dispatch: vec![(10, UserCommand::TogglePause)],
            ..Default::default()
        };
        let start = Instant::now();
        let r = play(&mut sink, Some(6), true);
        assert_eq!(r.frames_shown, 6);
        assert!(
            sink.dispatches >= 10,
            "dispatched {} times",
            sink.dispatches
        );
        let d = &sink.dues;
        assert_eq!(d.len(), 6);
        let step = d[1] - d[0];
        assert!(step > Duration::from_millis(5), "frame step {step:?}");
        // the frame after the pause is due one step plus the paused time later ...
        let gap = d[3] - d[2];
        assert!(
            gap >= step + 10 * PAUSE_POLL - Duration::from_millis(5),
            "gap {gap:?}, step {step:?}"
        );
        // ... and the frames after it keep their spacing
        for w in d[3..].windows(2) {
            let s = w[1] - w[0];
            assert!(
                s.abs_diff(step) < Duration::from_millis(2),
                "{s:?} vs {step:?}"
            );
        }
        assert!(start.elapsed() >= 5 * step + 10 * PAUSE_POLL);
    }

    #[test]
    fn quit_while_paused_ends_playback() {
        let mut sink = Scripted {
            after_show: vec![(1, UserCommand::TogglePause)],
            after_dispatch: vec![(3, UserCommand::Quit)],
            ..Default::default()
        };
        let r = play(&mut sink, None, false);
        assert_eq!(r.frames_shown, 2);
        assert!(sink.dispatches >= 4);
    }
}
