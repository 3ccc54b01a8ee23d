//! The play loop: demux → decode → present. Frames are paced by the audio
//! clock when a track plays sound ([`audio`], [`queues`]; windowed output
//! and `--vo null` alike), else by the wall clock for windowed output, and
//! unpaced for `--vo null` without sound, `--untimed` and `-o file.y4m`.
//!
//! Threads (docs/ARCHITECTURE.md "Threads"): with sound, a demux thread
//! fills a video and an audio packet queue ([`queues`]), the audio thread
//! decodes into the output's ring ([`audio`]), cpal's thread plays the ring,
//! and the calling thread decodes video and presents it. Without sound the
//! calling thread reads the demuxer itself, as before.

pub mod audio;
pub mod options;
pub mod playlist;
pub mod queues;
pub mod signals;
pub mod status;

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vreq_audio::clock::AudioClock;
use vreq_audio::output::AudioOutput;
use vreq_container as container;
use vreq_container::TrackInfo;
use vreq_core::{CodecKind, CodedUnit, StatelessCodec};
use vreq_engine::Engine;
use vreq_frame::{DecodedFrame, PlanesRef};
use vreq_present::{FrameSource, NullSink, PresentError, Sink, UserCommand};
use vreq_v4l2::{discover, session::Session, DecoderDevice, DeviceInfo};

pub use audio::Aid;
pub use options::{HrSeek, KeepOpen, Loop, TimePos};
pub use playlist::{FileEnd, Playlist};
use queues::{Queues, Stream};

/// Where frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A Wayland window (paced at the stream rate).
    Wayland,
    /// A KMS plane, no compositor (the kiosk; paced at the stream rate).
    Drm(vreq_present::kms::KmsOptions),
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

impl PlayOptions {
    /// Decode `input` only (`--vo null`): every frame, the routed device,
    /// no window options.
    pub fn null(input: &Path) -> Self {
        PlayOptions {
            input: input.to_owned(),
            output: Output::Null,
            max_frames: None,
            device: None,
            keep_open: false,
            fullscreen: false,
            hwdec_copy: false,
        }
    }
}

/// The sound options (mpv's names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioOptions {
    /// `--no-audio`: no sound; frames paced as a file without audio.
    pub no_audio: bool,
    /// `--aid`: which audio track.
    pub aid: Aid,
    /// `--volume`, 0..=100 (gain `(v/100)³`).
    pub volume: u32,
    /// `--audio-device` (`auto`, `alsa/<pcm>`).
    pub device: String,
    /// `--untimed`: frames as fast as they decode, no sound.
    pub untimed: bool,
    /// `--audio-buffer`: the device buffer asked for
    /// ([`vreq_audio::output::DEFAULT_BUFFER`], mpv's 0.2 s).
    pub buffer: Duration,
}

impl Default for AudioOptions {
    fn default() -> Self {
        AudioOptions {
            no_audio: false,
            aid: Aid::Auto,
            volume: 100,
            device: "auto".into(),
            untimed: false,
            buffer: vreq_audio::output::DEFAULT_BUFFER,
        }
    }
}

/// What the sound did (the exit line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioReport {
    /// Decoder name (ffprobe's: `aac`, `opus`, …).
    pub codec: String,
    /// Output device (`alsa/default`, …).
    pub device: String,
    /// Output rate (Hz) and channels.
    pub rate: u32,
    pub channels: u16,
    /// Ring-dry callbacks plus ALSA xruns.
    pub underruns: u64,
    /// Corrupt audio frames skipped.
    pub corrupt: u64,
    /// Gaps filled with silence, and timeline restarts.
    pub gaps: u64,
    pub resyncs: u64,
}

impl std::fmt::Display for AudioReport {
    /// `aac, alsa/default, 48000 Hz 2 ch, underruns 0, corrupt 0` — the exit line's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {}, {} Hz {} ch, underruns {}, corrupt {}",
            self.codec, self.device, self.rate, self.channels, self.underruns, self.corrupt
        )
    }
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
    /// What the sound did, when a track played.
    pub audio: Option<AudioReport>,
    /// How the file ended (end of file, a playlist move, quit).
    pub end: FileEnd,
    /// The warnings shown so far, by kind (the player's own warn-once).
    warned: WarnOnce,
}

/// Warn once per kind of warning: a damaged file repeats one problem
/// hundreds of times (a zeroed block in an IVF file is 341 frame headers of
/// size 0; a spliced-in block in MPEG-TS loses sync again and again), so the
/// first of each kind is a warning with its file, track and byte offset and
/// the repeats go to the debug log; [`WarnOnce::summary`] is one line at the
/// file's end. The kind is the text with every run of digits replaced by `#`
/// (byte offsets, frame numbers and counts differ between repeats).
/// [`PlayReport::warnings`] keeps every one.
#[derive(Debug, Clone, Default)]
pub struct WarnOnce {
    kinds: std::collections::HashMap<String, u64>,
}

impl WarnOnce {
    /// The kind of `msg`: its text with each run of ASCII digits as `#`.
    pub fn kind(msg: &str) -> String {
        let mut k = String::with_capacity(msg.len());
        for c in msg.chars() {
            if c.is_ascii_digit() {
                if !k.ends_with('#') {
                    k.push('#');
                }
            } else {
                k.push(c);
            }
        }
        k
    }

    /// Logs `msg` as a warning if it is the first of its kind (returns
    /// true), else at debug level, counted.
    pub fn warn(&mut self, msg: &str) -> bool {
        let n = self.kinds.entry(Self::kind(msg)).or_insert(0);
        *n += 1;
        if *n == 1 {
            tracing::warn!("{msg}");
            true
        } else {
            tracing::debug!("{msg}");
            false
        }
    }

    /// "N more warnings like the ones above", when repeats were not shown.
    pub fn summary(&self) -> Option<String> {
        let more: u64 = self.kinds.values().map(|n| n - 1).sum();
        (more > 0).then(|| {
            format!(
                "{more} more warning(s) of the {} kind(s) above not shown (-vv shows them)",
                self.kinds.values().filter(|&&n| n > 1).count()
            )
        })
    }
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

/// The file's duration (ns): the demuxer's ([`container::Demuxer::duration_ns`]),
/// else the longest track's (`TrackInfo::duration_ns`).
pub fn file_duration(demux: &dyn container::Demuxer) -> Option<i64> {
    demux.duration_ns().or_else(|| {
        demux
            .tracks()
            .iter()
            .filter_map(|t| t.duration_ns)
            .map(|d| d as i64)
            .max()
    })
}

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

/// Whether `opts` allow sound at all: not `--no-audio`, `--untimed` or
/// `-o file.y4m` (those decode as fast as they can).
pub fn sound_wanted(opts: &PlayOptions, audio: &AudioOptions) -> bool {
    !audio.no_audio && !audio.untimed && !matches!(opts.output, Output::Y4m { .. })
}

/// Plays `opts.input` to the end (or `max_frames`) on a discovered device,
/// with sound when the file has an audio track vreqplay decodes and an
/// output opens (else one warning line each, and the picture alone). A file
/// whose video cannot be decoded but whose audio can plays the audio alone
/// with a warning, as mpv does.
pub fn play(opts: &PlayOptions, audio: &AudioOptions) -> Result<PlayReport, PlayError> {
    play_file(opts, audio, Controls::default(), &mut SinkSlot::default())
}

/// The output a playlist keeps across its files (the window stays open
/// between files; a Y4M file takes every file's frames).
#[derive(Default)]
pub struct SinkSlot {
    sink: Option<Box<dyn Sink>>,
    /// `VREQ_TEST_KEYS` for the window ([`vreq_present::wayland::WindowOptions::test_keys`]).
    pub test_keys: Option<PathBuf>,
    /// `--title`: the window title instead of `vreqplay — <file name>`.
    pub title: Option<String>,
}

impl SinkSlot {
    /// The window's counts so far, if one is open.
    pub fn present_stats(&self) -> Option<vreq_present::PresentStats> {
        self.sink.as_ref().and_then(|s| s.present_stats())
    }
}

/// [`play`] with per-file [`Controls`] (their file facts — duration,
/// chapters, stats — are filled in here) and the output kept in `slot`
/// (opened at the first file that needs it).
pub fn play_file(
    opts: &PlayOptions,
    audio: &AudioOptions,
    mut controls: Controls,
    slot: &mut SinkSlot,
) -> Result<PlayReport, PlayError> {
    let mut demux = container::open(&opts.input)?;
    let tracks = demux.tracks().to_vec();
    controls.duration_ns = file_duration(demux.as_ref());
    controls.chapters = demux.chapters().to_vec();
    let mut warnings = Vec::new();
    let audio_track = if sound_wanted(opts, audio) {
        match audio::select_audio_track(&tracks, audio.aid) {
            Ok(t) => t,
            Err(w) => {
                tracing::warn!("{w}");
                warnings.push(w);
                None
            }
        }
    } else {
        None
    };
    let video = pick_track(&opts.input, demux.as_ref()).and_then(|(track, kind)| {
        let codec = codec_for_track(&opts.input, &track, kind)?;
        Ok((track, kind, codec))
    });
    let (track, kind, codec) = match video {
        Ok(v) => v,
        Err(e) => {
            return play_audio_only(
                opts,
                audio,
                audio_track,
                e,
                warnings,
                controls.quit.as_ref(),
            )
        }
    };
    let frame_ns = track.frame_duration_ns.unwrap_or(40_000_000);
    // File sinks first: an existing -o file is refused before any device is touched.
    if slot.sink.is_none() {
        slot.sink = match &opts.output {
            Output::Null => Some(Box::new(NullSink::default())),
            Output::Y4m { path, force } => Some(Box::new(vreq_present::y4m::Y4mSink::create(
                path,
                *force,
                fps_fraction(frame_ns),
            )?)),
            Output::Wayland | Output::Drm(_) => None,
        };
    }
    let needs = discover::StreamNeeds {
        codec: kind,
        width: track.width,
        height: track.height,
        bit_depth: None,
    };
    let info = match pick_device(&needs, opts.device.as_deref()) {
        Ok(i) => i,
        Err(e) => {
            return play_audio_only(
                opts,
                audio,
                audio_track,
                e,
                warnings,
                controls.quit.as_ref(),
            )
        }
    };
    let session = Session::open(&info, kind).map_err(|e| PlayError::Decode(e.to_string()))?;
    let name = opts
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| opts.input.display().to_string());
    let title = slot
        .title
        .clone()
        .unwrap_or_else(|| format!("vreqplay — {name}"));
    if let (None, Output::Drm(ko)) = (&slot.sink, &opts.output) {
        let mut ko = ko.clone();
        ko.force_copy |= opts.hwdec_copy;
        ko.test_keys = slot.test_keys.clone();
        slot.sink = Some(vreq_present::kms::open_kms(&ko)?);
    }
    if slot.sink.is_none() {
        let mut wo = vreq_present::wayland::WindowOptions::for_input(&opts.input);
        wo.title = title.clone();
        wo.fullscreen = opts.fullscreen;
        wo.force_shm = opts.hwdec_copy;
        wo.test_keys = slot.test_keys.clone();
        slot.sink = Some(vreq_present::wayland::open_window_with(&wo)?);
    }
    let Some(sink) = slot.sink.as_mut() else {
        unreachable!("the sink was opened above")
    };
    sink.set_title(&title);
    controls.stats_header = vec![
        format!("Decoder: {} ({})", info.driver, info.video_path.display()),
        format!("Codec: {kind}"),
    ];
    let mut dec = Engine::new(codec, session);
    let sound = audio_track.and_then(|at| {
        let path = opts.input.clone();
        start_sound(
            opts,
            audio,
            Box::new(move || container::open(&path).map(|d| d as Box<dyn container::Demuxer>)),
            Some(track.id),
            &at,
            &mut warnings,
        )
    });
    if let Some(s) = &sound {
        controls
            .stats_header
            .push(format!("Audio: {}, {}", s.codec, s.output.config().device));
    }
    let mut report = match &sound {
        Some(s) => {
            drop(demux);
            run_file(
                opts,
                &controls,
                &mut Source::Queued(s.queues.clone()),
                &track,
                &mut dec,
                sink.as_mut(),
                Pacing::Audio {
                    clock: s.output.clock(),
                    output: Some(&s.output),
                },
            )
        }
        None => {
            let paced = matches!(opts.output, Output::Wayland | Output::Drm(_));
            let pacing = if paced && !audio.untimed {
                Pacing::Wall
            } else {
                Pacing::Unpaced
            };
            run_file(
                opts,
                &controls,
                &mut Source::Direct(demux.as_mut()),
                &track,
                &mut dec,
                sink.as_mut(),
                pacing,
            )
        }
    }?;
    report.audio = sound.map(Sound::finish);
    warnings.append(&mut report.warnings);
    report.warnings = warnings;
    report.device = info.video_path.display().to_string();
    Ok(report)
}

/// What a playlist did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOutcome {
    /// Files that played (each loop counts).
    pub played: u64,
    /// Files that could not be played.
    pub failed: u64,
    /// The user quit.
    pub quit: bool,
    /// A signal (SIGINT / SIGTERM) ended playback ([`signals`]).
    pub signalled: bool,
}

/// Exit status: every file played, or the user quit (mpv's 0).
pub const EXIT_OK: u8 = 0;
/// Exit status: a bad command line, or an error before playback (no
/// decoder for `--list-devices`, `--hwdec=no`; mpv's 1).
pub const EXIT_ERROR: u8 = 1;
/// Exit status: no file could be played (also: no output could be chosen,
/// the `--playlist` file unreadable; mpv's 2).
pub const EXIT_NOTHING_PLAYED: u8 = 2;
/// Exit status: some files played and some could not (mpv's 3).
pub const EXIT_SOME_FAILED: u8 = 3;
pub use signals::EXIT_SIGNAL;

impl ListOutcome {
    /// mpv's exit status (`DOCS/man/mpv.rst`, EXIT CODES): [`EXIT_SIGNAL`]
    /// when a signal ended playback, [`EXIT_OK`] when every file played or
    /// the user quit, [`EXIT_NOTHING_PLAYED`] when no file could be played,
    /// [`EXIT_SOME_FAILED`] when some could and some could not.
    pub fn exit_code(&self) -> u8 {
        if self.signalled {
            EXIT_SIGNAL
        } else if self.quit || self.failed == 0 {
            EXIT_OK
        } else if self.played == 0 {
            EXIT_NOTHING_PLAYED
        } else {
            EXIT_SOME_FAILED
        }
    }
}

/// Walks `playlist`: `play_one(index, playlist)` plays an entry, its result
/// goes to `on_result` (the caller prints the report or the one-line
/// error), and [`Playlist::advance`] picks the next. A file that fails is
/// skipped; the window closing ends the list as a quit.
pub fn run_playlist(
    playlist: &mut Playlist,
    play_one: impl FnMut(usize, &Playlist) -> Result<PlayReport, PlayError>,
    on_result: impl FnMut(usize, &Result<PlayReport, PlayError>),
) -> ListOutcome {
    run_playlist_until(playlist, || false, play_one, on_result)
}

/// [`run_playlist`] that also stops before the next entry once `stop()`
/// (a signal, [`signals`]) is true; the outcome is then
/// [`ListOutcome::signalled`] (and a quit).
pub fn run_playlist_until(
    playlist: &mut Playlist,
    stop: impl Fn() -> bool,
    mut play_one: impl FnMut(usize, &Playlist) -> Result<PlayReport, PlayError>,
    mut on_result: impl FnMut(usize, &Result<PlayReport, PlayError>),
) -> ListOutcome {
    let mut out = ListOutcome::default();
    let mut i = playlist.index();
    loop {
        if stop() {
            out.quit = true;
            out.signalled = true;
            return out;
        }
        let r = play_one(i, playlist);
        on_result(i, &r);
        let end = match &r {
            Ok(rep) => {
                out.played += 1;
                rep.end
            }
            Err(PlayError::Present(PresentError::Closed)) => {
                out.played += 1;
                FileEnd::Quit
            }
            Err(_) => {
                out.failed += 1;
                FileEnd::Failed
            }
        };
        if end == FileEnd::Quit {
            out.quit = true;
        }
        match playlist.advance(end) {
            Some(n) => i = n,
            None => {
                out.signalled = stop();
                return out;
            }
        }
    }
}

/// The options that span a playlist (mpv's names).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub start: Option<TimePos>,
    pub end: Option<TimePos>,
    pub hr_seek: HrSeek,
    /// `--pause`: the first file starts paused.
    pub pause: bool,
    pub loop_file: Loop,
    pub loop_playlist: Loop,
    pub keep_open: KeepOpen,
    /// The status line (stderr is a terminal, no `--quiet`).
    pub status_line: bool,
    /// `--title`.
    pub title: Option<String>,
    /// `VREQ_TEST_KEYS`.
    pub test_keys: Option<PathBuf>,
    /// Set by SIGINT / SIGTERM ([`signals::install`]): quit as `q` does.
    pub quit: Option<Arc<AtomicBool>>,
}

/// Plays `files` in order with the playlist's loops and keys, one output
/// for all ([`SinkSlot`]); `opts.input` is ignored. `on_result` sees each
/// file's report or error.
pub fn play_list(
    files: &[PathBuf],
    opts: &PlayOptions,
    audio: &AudioOptions,
    lo: &ListOptions,
    on_result: impl FnMut(&Path, &Result<PlayReport, PlayError>),
) -> ListOutcome {
    let mut on_result = on_result;
    let mut slot = SinkSlot {
        test_keys: lo.test_keys.clone(),
        title: lo.title.clone(),
        ..Default::default()
    };
    // the file loops run inside the file (a seek back, nothing reopened);
    // the playlist loops reopen
    let mut pl = Playlist::new(files.len(), Loop::No, lo.loop_playlist);
    let mut first = true;
    run_playlist_until(
        &mut pl,
        || signals::raised(lo.quit.as_ref()),
        |i, pl| {
            let mut o = opts.clone();
            o.input = files[i].clone();
            o.keep_open = match lo.keep_open {
                // (after the file's own loops: run_file checks those first)
                KeepOpen::No => false,
                KeepOpen::Yes => pl.at_last(),
                KeepOpen::Always => true,
            };
            let c = Controls {
                start: lo.start,
                end: lo.end,
                hr_seek: lo.hr_seek,
                pause: lo.pause && std::mem::take(&mut first),
                status_line: lo.status_line,
                has_next: pl.has_next(),
                has_prev: pl.has_prev(),
                loop_file: lo.loop_file,
                quit: lo.quit.clone(),
                osd_name: o
                    .input
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned()),
                ..Default::default()
            };
            play_file(&o, audio, c, &mut slot)
        },
        |i, r| on_result(&files[i], r),
    )
}

/// The sound of one playback: the output, the audio thread and the demux
/// thread feeding it (and the video queue). Dropping it stops all three.
pub struct Sound {
    /// The output (clock, pause, volume).
    pub output: AudioOutput,
    /// The packet queues the demux thread fills.
    pub queues: Queues,
    thread: Option<audio::AudioThread>,
    demux: Option<std::thread::JoinHandle<()>>,
    codec: String,
}

impl Sound {
    /// Stops the threads and says what the sound did.
    pub fn finish(mut self) -> AudioReport {
        let c = self.output.config().clone();
        let underruns = self.output.underruns();
        let stats = self.stop();
        AudioReport {
            codec: self.codec.clone(),
            device: c.device,
            rate: c.rate,
            channels: c.channels,
            underruns,
            corrupt: stats.corrupt,
            gaps: stats.gaps,
            resyncs: stats.resyncs,
        }
    }

    fn stop(&mut self) -> audio::AudioThreadStats {
        self.queues.stop();
        self.output.writer().close();
        let stats = self.thread.take().map(|t| t.join()).unwrap_or_default();
        if let Some(d) = self.demux.take() {
            let _ = d.join();
        }
        stats
    }
}

impl Drop for Sound {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the sound for audio `track`: checks that its codec decodes
/// (else exactly `audio: <codec> not supported, playing without sound`),
/// opens `--audio-device` (else `audio: <error>; playing without sound`),
/// then starts the demux thread over `open` (video packets of track
/// `video` to the video queue) and the audio thread. Every problem is one
/// line in `warnings` (and the log) and `None`: the picture plays alone.
pub fn start_sound(
    opts: &PlayOptions,
    audio_opts: &AudioOptions,
    open: queues::OpenDemuxer,
    video: Option<u32>,
    track: &TrackInfo,
    warnings: &mut Vec<String>,
) -> Option<Sound> {
    let mut warn = |m: String| {
        tracing::warn!("{m}");
        warnings.push(m);
    };
    // the codec first: an unsupported one is reported even without a device
    if let Err(e) = vreq_audio::decode::AudioDecoder::new(track) {
        warn(audio::unsupported_message(&e, track));
        return None;
    }
    let output = match audio::open_output(
        &audio_opts.device,
        track,
        audio_opts.volume,
        audio_opts.buffer,
    ) {
        Ok(o) => o,
        Err(e) => {
            let m = match e {
                vreq_audio::decode::AudioError::Output(m) => m,
                e => e.to_string(),
            };
            warn(format!("audio: {m}; playing without sound"));
            return None;
        }
    };
    let (queues, demux) = queues::spawn_demux(open, video, Some(track.id));
    let thread =
        match audio::spawn_audio(&opts.input, track.clone(), queues.clone(), output.writer()) {
            Ok(t) => t,
            Err(e) => {
                warn(audio::unsupported_message(&e, track));
                queues.stop();
                let _ = demux.join();
                return None;
            }
        };
    let c = output.config();
    tracing::info!(
        "audio: track {} {} → {} ({} Hz, {} ch, {}, period {} frames)",
        track.id,
        thread.codec,
        c.device,
        c.rate,
        c.channels,
        c.format,
        c.period_frames
    );
    Some(Sound {
        codec: thread.codec.clone(),
        output,
        queues,
        thread: Some(thread),
        demux: Some(demux),
    })
}

/// Plays the audio alone (the video could not be decoded: `video_err`), if
/// there is sound; else fails with `video_err`.
fn play_audio_only(
    opts: &PlayOptions,
    audio: &AudioOptions,
    audio_track: Option<TrackInfo>,
    video_err: PlayError,
    mut warnings: Vec<String>,
    quit: Option<&Arc<AtomicBool>>,
) -> Result<PlayReport, PlayError> {
    let Some(at) = audio_track else {
        return Err(video_err);
    };
    let path = opts.input.clone();
    let Some(sound) = start_sound(
        opts,
        audio,
        Box::new(move || container::open(&path).map(|d| d as Box<dyn container::Demuxer>)),
        None,
        &at,
        &mut warnings,
    ) else {
        return Err(video_err);
    };
    let w = format!("{video_err}; playing the audio alone");
    tracing::warn!("{w}");
    warnings.push(w);
    sound.output.wait_prefill(PREFILL_WAIT);
    sound.output.release();
    let flow = drain_sound(&sound.output, None, quit, &mut Pacer::new(Pacing::Unpaced))?;
    Ok(PlayReport {
        end: if flow == Flow::Quit {
            FileEnd::Quit
        } else {
            FileEnd::Eof
        },
        device: "none".into(),
        warnings,
        audio: Some(sound.finish()),
        ..Default::default()
    })
}

/// The engine's frames as the presentation crate reads them: CPU planes
/// through [`Engine::planes`], dmabufs through the device's
/// [`DecoderDevice::capture_dmabufs`]. (The present crate owns
/// [`FrameSource`] and never sees the device; this adapter is the one place
/// both meet.)
pub struct EngineFrames<'a, D: DecoderDevice>(pub &'a Engine<D>);

impl<D: DecoderDevice> FrameSource for EngineFrames<'_, D> {
    /// The frame's CPU view; its CAPTURE buffer is mapped on its first read
    /// ([`Engine::planes`]). A failed mapping is [`PresentError::Frame`]
    /// with the device's one line (device, buffer, plane, errno).
    fn planes(&self, frame: &DecodedFrame) -> Result<PlanesRef<'_>, PresentError> {
        self.0
            .planes(frame)
            .map_err(|e| PresentError::Frame(e.to_string()))
    }
    fn dmabufs(&self, frame: &DecodedFrame) -> Vec<BorrowedFd<'_>> {
        self.0.device().capture_dmabufs(frame.capture_index)
    }
}

/// Where the video loop gets its packets.
pub enum Source<'a> {
    /// The demuxer itself, read on this thread (no sound).
    Direct(&'a mut dyn container::Demuxer),
    /// The demux thread's video queue.
    Queued(Queues),
}

impl Source<'_> {
    /// The next packet of `track`, `None` at the end. Demux errors are
    /// warned about and skipped ([`MAX_CONSECUTIVE_DEMUX_ERRORS`] in a row end it).
    /// `done`: the previous packet, decoded: handed back to the demux
    /// thread ([`Queues::give_back`]) or read into
    /// ([`container::Demuxer::read_packet`]), so no packet buffer is
    /// allocated per frame.
    fn next(
        &mut self,
        track: u32,
        report: &mut PlayReport,
        done: Option<container::Packet>,
    ) -> Option<container::Packet> {
        match self {
            Source::Queued(q) => {
                if let Some(d) = done {
                    q.give_back(d);
                }
                let p = q.pop(Stream::Video);
                report.warnings.extend(q.take_warnings());
                p
            }
            Source::Direct(demux) => {
                let mut errors_in_a_row = 0;
                let mut p = done.unwrap_or_default();
                loop {
                    match demux.read_packet(&mut p) {
                        Ok(true) if p.track == track => return Some(p),
                        Ok(true) => errors_in_a_row = 0,
                        Ok(false) => return None,
                        Err(e) => {
                            report.warnings.push(e.to_string());
                            errors_in_a_row += 1;
                            if errors_in_a_row >= MAX_CONSECUTIVE_DEMUX_ERRORS {
                                tracing::error!("{e}; {errors_in_a_row} demux errors in a row, giving up on the rest of the file");
                                return None;
                            }
                            report
                                .warned
                                .warn(&format!("{e}; continuing with the next readable packet"));
                        }
                    }
                }
            }
        }
    }
}

/// How frames are timed.
pub enum Pacing<'a> {
    /// As fast as they decode (`--vo null` without sound, `--untimed`, `-o`).
    Unpaced,
    /// On the wall clock from the first frame (windowed, no sound).
    Wall,
    /// On the audio clock: each frame due at `now + (pts − clock)`.
    /// `output` (absent in tests) is released at the first frame, paused
    /// with the picture, and takes the volume keys.
    Audio {
        clock: AudioClock,
        output: Option<&'a AudioOutput>,
    },
}

/// How long the first frame waits for the audio clock to start before the
/// wall clock stands in.
pub const CLOCK_START_WAIT: Duration = Duration::from_millis(1000);

/// Longest the first frame waits for the audio thread to fill the output's
/// ring before the sound starts ([`vreq_audio::output::AudioOutput::wait_prefill`]).
pub const PREFILL_WAIT: Duration = Duration::from_millis(500);

/// Turns pts into due instants, and owns pause / volume.
struct Pacer<'a> {
    pacing: Pacing<'a>,
    /// Wall clock origin: (instant, pts) of the first frame.
    wall: Option<(Instant, i64)>,
    released: bool,
    paused: bool,
    /// When the pause began.
    paused_at: Option<Instant>,
    last_av_log: Option<Instant>,
    underruns_logged: u64,
    /// After a seek with sound: the audio thread must have flushed for this
    /// generation before the ring's prefill is awaited.
    await_audio: Option<(Queues, u64)>,
    /// The last A-V difference (s): frame pts minus the audio clock when due.
    av: Option<f64>,
}

impl<'a> Pacer<'a> {
    fn new(pacing: Pacing<'a>) -> Self {
        Pacer {
            pacing,
            wall: None,
            released: false,
            paused: false,
            paused_at: None,
            last_av_log: None,
            underruns_logged: 0,
            await_audio: None,
            av: None,
        }
    }

    fn output(&self) -> Option<&'a AudioOutput> {
        match self.pacing {
            Pacing::Audio { output, .. } => output,
            _ => None,
        }
    }

    fn has_sound(&self) -> bool {
        matches!(self.pacing, Pacing::Audio { .. })
    }

    /// The due instant of a frame with `pts_ns`; `None` when unpaced.
    /// While paused (a frame step, the first frame after a seek) a frame is
    /// due at once.
    fn due(&mut self, pts_ns: i64, lead: Duration) -> Option<Instant> {
        if self.paused {
            return match self.pacing {
                Pacing::Unpaced => None,
                _ => Some(Instant::now()),
            };
        }
        match &self.pacing {
            Pacing::Unpaced => None,
            Pacing::Wall => Some(self.wall_due(pts_ns, lead)),
            Pacing::Audio { clock, output } => {
                if !self.released {
                    if let Some(o) = output {
                        if let Some((q, g)) = self.await_audio.take() {
                            q.wait_audio_ack(g, SEEK_AUDIO_WAIT);
                        }
                        o.wait_prefill(PREFILL_WAIT);
                        o.release();
                    }
                    self.released = true;
                }
                let clock = clock.clone();
                let start = Instant::now();
                loop {
                    let now = Instant::now();
                    if let Some(c) = clock.at_ns(now) {
                        return Some(due_from_clock(now, c, pts_ns));
                    }
                    if self.wall.is_some() || now - start > CLOCK_START_WAIT {
                        return Some(self.wall_due(pts_ns, lead));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }

    fn wall_due(&mut self, pts_ns: i64, lead: Duration) -> Instant {
        let (t0, p0) = *self.wall.get_or_insert((Instant::now() + lead, pts_ns));
        t0 + Duration::from_nanos((pts_ns - p0).max(0) as u64)
    }

    /// A seek: the wall clock re-anchors at the next frame; with sound the
    /// output is held and its ring emptied (the audio thread flushes again
    /// when it meets the new generation `queued`), and the next frame waits
    /// for the new sound as the first frame does.
    fn restart(&mut self, queued: Option<(Queues, u64)>) {
        self.wall = None;
        self.av = None;
        if let Some(o) = self.output() {
            o.hold();
            o.writer().flush();
            self.released = false;
            self.await_audio = queued;
        }
    }

    /// mpv's `A-V: +0.012` (frame pts minus the audio clock when it is due
    /// to be shown, seconds): kept for the status line, logged with `-v`
    /// once a second.
    fn log_av(&mut self, pts_ns: i64, due: Instant) {
        let Pacing::Audio { clock, .. } = &self.pacing else {
            return;
        };
        let now = Instant::now();
        let c = clock.at_ns(due.max(now));
        if let Some(c) = c {
            self.av = Some((pts_ns - c) as f64 / 1e9);
        }
        if self
            .last_av_log
            .is_some_and(|t| now - t < Duration::from_secs(1))
        {
            return;
        }
        if let Some(c) = c {
            self.last_av_log = Some(now);
            tracing::info!("A-V: {:+.3}", (pts_ns - c) as f64 / 1e9);
        }
        if let Some(o) = self.output() {
            let (dry, xruns) = o.underrun_kinds();
            if dry + xruns != self.underruns_logged {
                self.underruns_logged = dry + xruns;
                tracing::debug!(
                    "audio: underruns {} (ring dry {dry}, device xruns {xruns}), ring {} frames",
                    dry + xruns,
                    o.queued_frames()
                );
            }
        }
    }

    fn pause(&mut self) {
        if self.paused {
            return;
        }
        self.paused = true;
        self.paused_at = Some(Instant::now());
        if let Some(o) = self.output() {
            if let Err(e) = o.pause() {
                tracing::warn!("audio: pause: {e}");
            }
        }
    }

    /// Resumes; on the wall clock the origin shifts by the time paused so
    /// later frames keep their spacing (`reanchor`: after a frame step or a
    /// seek while paused, it starts again at the next frame instead).
    fn resume(&mut self, reanchor: bool) {
        if !self.paused {
            return;
        }
        self.paused = false;
        let paused = self
            .paused_at
            .take()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        tracing::info!("resumed after {paused:?}");
        if reanchor {
            self.wall = None;
        } else if let Some((t0, _)) = self.wall.as_mut() {
            *t0 += paused;
        }
        if let Some(o) = self.output() {
            if let Err(e) = o.resume() {
                tracing::warn!("audio: resume: {e}");
            }
        }
    }

    /// Changes the volume by `delta`; the new level (`None` without sound).
    fn add_volume(&self, delta: i32) -> Option<u32> {
        match self.output() {
            Some(o) => {
                let v = (o.volume() as i32 + delta).clamp(0, 100) as u32;
                o.set_volume(v);
                tracing::info!("volume {v}");
                Some(v)
            }
            None => {
                tracing::info!("volume: no sound");
                None
            }
        }
    }

    /// Toggles mute; whether muted now (`None` without sound).
    fn toggle_mute(&self) -> Option<bool> {
        let o = self.output()?;
        o.set_muted(!o.muted());
        tracing::info!("mute {}", if o.muted() { "on" } else { "off" });
        Some(o.muted())
    }
}

/// How long the first frame after a seek waits for the audio thread to
/// flush its output for the seek.
pub const SEEK_AUDIO_WAIT: Duration = Duration::from_millis(1000);

/// mpv's `--chapter-seek-threshold` default (5 s, in ns): see
/// `Control::chapter_target`.
pub const CHAPTER_SEEK_THRESHOLD_NS: i64 = 5_000_000_000;

/// How long an OSD message stays (mpv's `--osd-duration`, 1 s).
pub const OSD_DURATION: Duration = Duration::from_secs(1);

/// The instant a frame with `pts_ns` is due when the audio clock reads
/// `clock_ns` at `now`: `now + (pts − clock)` (in the past for a late frame).
pub fn due_from_clock(now: Instant, clock_ns: i64, pts_ns: i64) -> Instant {
    let d = pts_ns.saturating_sub(clock_ns);
    if d >= 0 {
        now + Duration::from_nanos(d as u64)
    } else {
        now.checked_sub(Duration::from_nanos(d.unsigned_abs()))
            .unwrap_or(now)
    }
}

/// Per-file controls: mpv's options that act inside one file and the facts
/// about the file the keys need. `Controls::default()` is the plain play
/// loop (no seek, no status line, no OSD text).
#[derive(Debug, Clone, Default)]
pub struct Controls {
    /// `--start`: seek here before the first frame.
    pub start: Option<TimePos>,
    /// `--end`: the file ends at the first frame at or after this.
    pub end: Option<TimePos>,
    /// `--hr-seek`.
    pub hr_seek: HrSeek,
    /// `--pause`: start paused (the first frame is shown).
    pub pause: bool,
    /// The status line on stderr ([`status`]).
    pub status_line: bool,
    /// The file's duration (ns), for `N%`, `-TIME`, the 10 % steps and the bar.
    pub duration_ns: Option<i64>,
    /// The file's chapters (`PgUp` / `PgDn`).
    pub chapters: Vec<container::Chapter>,
    /// Whether `>` / `<` move (the playlist has a next / previous entry).
    pub has_next: bool,
    pub has_prev: bool,
    /// Shown on the OSD at the start for [`OSD_DURATION`] (the file name).
    pub osd_name: Option<String>,
    /// The stats of `i` that do not change (decoder device, codec).
    pub stats_header: Vec<String>,
    /// `--loop-file`: at the end, seek back to the file's start (not
    /// `--start`, as mpv's `player/playloop.c` `handle_loop_file`) this many more times (mpv counts the seeks back: `1` plays twice),
    /// keeping the engine, the device session and the sound threads: no
    /// reopening between loops.
    pub loop_file: Loop,
    /// Set by SIGINT / SIGTERM ([`signals`]): the loop quits as on `q`
    /// (checked with the keys: every frame, every [`PAUSE_POLL`] while
    /// paused or waiting at the end).
    pub quit: Option<Arc<AtomicBool>>,
}

/// What the play loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Keep decoding.
    Go,
    /// `max_frames` reached.
    Stop,
    /// `--end` reached.
    End,
    /// The user asked to quit ([`UserCommand::Quit`]).
    Quit,
    /// Seek to `target` ns; `precise`: show nothing before it; `back`: a
    /// frame back-step (show one frame, stay paused).
    Seek {
        target: i64,
        precise: bool,
        back: bool,
    },
    /// `playlist-next` / `playlist-prev`.
    Next,
    Prev,
}

/// The play loop's state between frames (position, seek in progress,
/// frame step, status line).
struct Control<'c> {
    c: &'c Controls,
    /// Pts (ns) of the last two frames shown (latest last).
    pos: Option<i64>,
    prev_pos: Option<i64>,
    /// Target (ns) of a seek no frame has been shown since.
    seeking: Option<i64>,
    /// When that seek was asked for (`-v` logs the time to its first frame).
    seek_asked: Option<Instant>,
    /// Frames with pts below this (ns) are decoded but not shown (hr-seek).
    skip_before: Option<i64>,
    /// Show one frame, then pause (`.`, and after `,`).
    step: bool,
    /// A step or a seek happened while paused: the wall clock re-anchors on resume.
    moved_while_paused: bool,
    frame_ns: i64,
    end_ns: Option<i64>,
    status: status::StatusLine,
    /// The last shown frame's visible size and its coded (CAPTURE) size.
    sizes: Option<((u32, u32), (u32, u32))>,
    /// A packet has been fed to the engine.
    fed: bool,
}

impl<'c> Control<'c> {
    fn new(c: &'c Controls, frame_ns: i64) -> Self {
        Control {
            c,
            pos: None,
            prev_pos: None,
            seeking: None,
            seek_asked: None,
            skip_before: None,
            step: false,
            moved_while_paused: false,
            frame_ns,
            end_ns: c.end.and_then(|e| e.resolve(c.duration_ns)),
            status: status::StatusLine::new(c.status_line),
            sizes: None,
            fed: false,
        }
    }

    /// Where the player stands (the seek target in progress, else the last frame).
    fn here(&self) -> i64 {
        self.seeking.or(self.pos).unwrap_or(0)
    }

    fn status(&self, pacer: &Pacer<'_>, sink: &dyn Sink) -> status::Status {
        status::Status {
            paused: pacer.paused,
            audio: pacer.has_sound(),
            pos_ns: self.here(),
            duration_ns: self.c.duration_ns,
            av_s: pacer.av,
            dropped: sink.present_stats().map(|s| s.dropped).unwrap_or(0),
        }
    }

    fn update_status(&mut self, pacer: &Pacer<'_>, sink: &dyn Sink, force: bool) {
        if self.c.status_line {
            let s = self.status(pacer, sink);
            self.status.update(&s, force);
        }
    }

    /// The seek bar (`o`, after a seek), with `Paused` while paused.
    fn show_progress(&self, sink: &mut dyn Sink, paused: bool) {
        let pos = self.here();
        let mut text = Vec::new();
        if paused {
            text.push("Paused".to_owned());
        }
        let progress = match self.c.duration_ns {
            Some(d) => Some((pos, d)),
            None => {
                text.push(status::format_time(pos));
                None
            }
        };
        sink.set_osd(Some(vreq_present::Osd {
            text,
            progress,
            // every OSD message fades after ~1 s (mpv's --osd-duration),
            // "Paused" too: the status line / `o` show the state later
            hold: Some(OSD_DURATION),
        }));
    }

    /// The `i` stats: decoder device and codec, sizes, zero-copy / copied,
    /// dropped, A-V.
    fn stats_lines(&self, pacer: &Pacer<'_>, sink: &dyn Sink) -> Vec<String> {
        let mut l = self.c.stats_header.clone();
        if let Some(((vw, vh), (cw, ch))) = self.sizes {
            l.push(format!("Size: {vw}x{vh} (coded {cw}x{ch})"));
        }
        if let Some(p) = sink.present_stats() {
            l.push(format!(
                "Frames: {} zero-copy, {} copied, {} dropped, {} late",
                p.zero_copy, p.copied, p.dropped, p.late
            ));
        }
        if let Some(av) = pacer.av {
            l.push(format!("A-V: {av:+.3}"));
        }
        l
    }

    /// The target of `PgUp` / `PgDn` (`d` = ±1) from `pos`: the next /
    /// previous chapter's start (mpv's `add chapter` with its
    /// `--chapter-seek-threshold` of [`CHAPTER_SEEK_THRESHOLD_NS`]: back
    /// from more than that into a chapter goes to that chapter's start,
    /// else to the previous one's; before the first → 0; past the last:
    /// none), or ±10 % of the duration without chapters.
    fn chapter_target(&self, d: i32) -> Option<i64> {
        let pos = self.here();
        let ch = &self.c.chapters;
        if ch.is_empty() {
            let dur = self.c.duration_ns?;
            return Some(pos + i64::from(d) * dur / 10);
        }
        // a little slack so that a seek just landed on a chapter counts as in it
        let cur = ch
            .iter()
            .rposition(|c| c.start_ns <= pos + 500_000_000)
            .map(|i| i as i64)
            .unwrap_or(-1);
        if d < 0 && cur >= 0 {
            let start = ch[cur as usize].start_ns;
            if pos - start > CHAPTER_SEEK_THRESHOLD_NS {
                return Some(start);
            }
        }
        let want = cur + i64::from(d);
        if want < 0 {
            return Some(0);
        }
        ch.get(want as usize).map(|c| c.start_ns)
    }
}

/// Waits until the sound has played out (the audio thread ended, the
/// ring is empty, then the device's two periods), handling the sink's keys
/// meanwhile (pause, volume, quit → [`Flow::Quit`], seek and playlist
/// moves → that [`Flow`]); gives up with a warning when nothing has been
/// played for [`DRAIN_STALL`] (a device that stopped).
fn drain_sound(
    output: &AudioOutput,
    mut keys: Option<(&mut dyn Sink, &mut Control<'_>)>,
    quit: Option<&Arc<AtomicBool>>,
    pacer: &mut Pacer<'_>,
) -> Result<Flow, PresentError> {
    let mut last = (output.queued_frames(), Instant::now());
    loop {
        let q = output.queued_frames();
        if q == 0 && output.ended() {
            break;
        }
        if q != last.0 || pacer.paused || !output.ended() {
            last = (q, Instant::now());
        } else if last.1.elapsed() > DRAIN_STALL {
            tracing::warn!("audio: nothing played for {DRAIN_STALL:?}; not waiting for the rest");
            return Ok(Flow::Go);
        }
        std::thread::sleep(PAUSE_POLL);
        if signals::raised(quit) {
            tracing::info!("quit (signal)");
            return Ok(Flow::Quit);
        }
        if let Some((s, ctl)) = keys.as_mut() {
            s.dispatch()?;
            match handle_commands(*s, pacer, ctl)? {
                Flow::Go => {}
                f => return Ok(f),
            }
        }
    }
    let c = output.config();
    let tail = vreq_audio::clock::frames_to_ns(2 * u64::from(c.period_frames), c.rate);
    std::thread::sleep(Duration::from_nanos(tail.max(0) as u64));
    Ok(Flow::Go)
}

/// How long [`drain_sound`] waits while nothing is played.
pub const DRAIN_STALL: Duration = Duration::from_secs(2);

/// [`run_with`] over a demuxer read on this thread, on the wall clock when
/// `paced` (else unpaced): the loop as it is without sound.
pub fn run<D: DecoderDevice>(
    opts: &PlayOptions,
    demux: &mut dyn container::Demuxer,
    track: &TrackInfo,
    dec: &mut Engine<D>,
    sink: &mut dyn Sink,
    paced: bool,
) -> Result<PlayReport, PlayError> {
    let pacing = if paced { Pacing::Wall } else { Pacing::Unpaced };
    run_with(opts, &mut Source::Direct(demux), track, dec, sink, pacing)
}

/// [`run_file`] without controls (no `--start`, status line or OSD text):
/// the play loop the oracle, the board tests and `-o` use.
pub fn run_with<D: DecoderDevice>(
    opts: &PlayOptions,
    source: &mut Source<'_>,
    track: &TrackInfo,
    dec: &mut Engine<D>,
    sink: &mut dyn Sink,
    pacing: Pacing<'_>,
) -> Result<PlayReport, PlayError> {
    run_file(opts, &Controls::default(), source, track, dec, sink, pacing)
}

/// Hands the engine's ready frames to `sink` at their due time: frames
/// outside the track's presentation window (edit list) and, after a
/// precise seek, before the target are decoded but not shown; each shown
/// frame is followed by the sink's commands.
#[allow(clippy::too_many_arguments)]
fn show_ready<D: DecoderDevice>(
    input: &Path,
    track: &TrackInfo,
    limit: u64,
    dec: &mut Engine<D>,
    sink: &mut dyn Sink,
    report: &mut PlayReport,
    pacer: &mut Pacer<'_>,
    ctl: &mut Control<'_>,
) -> Result<Flow, PlayError> {
    while let Some(w) = dec.take_warning() {
        report
            .warned
            .warn(&format!("{}: track {}: {w}", input.display(), track.id));
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
        if ctl.skip_before.is_some_and(|t| frame.pts_ns < t) {
            // hr-seek: decoded for the reference, not shown
            continue;
        }
        if ctl.end_ns.is_some_and(|e| frame.pts_ns >= e) {
            return Ok(Flow::End);
        }
        // Container crop and aspect ratio over the bitstream's (mpv's
        // default `--video-aspect-method=container`).
        (frame.visible, frame.pixel_aspect) =
            container::display_geometry(track, frame.visible, frame.pixel_aspect);
        let pts = frame.pts_ns;
        ctl.sizes = Some((
            (frame.visible.2, frame.visible.3),
            (frame.format.width, frame.format.height),
        ));
        let lead = sink.lead();
        let due = pacer.due(pts, lead);
        if let Some(at) = due {
            let now = Instant::now();
            if let Some(wake) = at.checked_sub(lead) {
                if wake > now {
                    std::thread::sleep(wake - now);
                }
            }
        }
        sink.show(frame, &EngineFrames(dec), due)?;
        report.frames_shown += 1;
        ctl.prev_pos = ctl.pos;
        ctl.pos = Some(pts);
        if let (Some(target), Some(t)) = (ctl.seeking, ctl.seek_asked.take()) {
            // the time per seek the closing notes report (request to the
            // first frame handed to the sink, decode from the keyframe included)
            tracing::info!(
                "seek to {} ns: first frame pts {pts} ns shown after {:.1} ms",
                target,
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        ctl.seeking = None;
        ctl.skip_before = None;
        if ctl.step {
            ctl.step = false;
            ctl.moved_while_paused = true;
        }
        if let Some(at) = due {
            pacer.log_av(pts, at);
        }
        ctl.update_status(pacer, sink, false);
        match handle_commands(sink, pacer, ctl)? {
            Flow::Go => {}
            f => return Ok(f),
        }
    }
    sink.dispatch()?;
    match handle_commands(sink, pacer, ctl)? {
        Flow::Go => {}
        f => return Ok(f),
    }
    Ok(if report.frames_shown < limit {
        Flow::Go
    } else {
        Flow::Stop
    })
}

/// The play loop over any [`DecoderDevice`] (the caller builds `dec`, so tests
/// can inspect a fake device afterwards): take `track`'s packets from
/// `source`, decode, hand frames to `sink` in display order at their due
/// time ([`Pacing`]: the frame is handed over [`Sink::lead`] before it),
/// drain at end of stream. Corrupt input is skipped with a warning;
/// device errors end playback with the file, track and byte offset. With
/// sound, the end of the picture waits for the end of the sound.
///
/// Controls (`ctl`, mpv's behaviour): `--start` seeks before the first
/// frame; a seek ([`UserCommand::Seek`], `Chapter`, `,`) positions the
/// source at the keyframe at or before the target ([`container::Demuxer::seek`];
/// with sound through the demux thread, [`Queues::seek`]), resets the
/// engine ([`Engine::reset`]) and drops the frames the sink has not shown
/// yet ([`Sink::discard_queued`]); a precise seek (`--hr-seek`) decodes
/// from the keyframe and shows nothing before the target. Seeks arriving
/// before the previous one showed a frame are merged (relative ones add to
/// the pending target). Paused, a seek shows the new frame and stays
/// paused. At the end of the file with `opts.keep_open` the player pauses
/// on the last frame and keys still work (a seek plays on). How the file
/// ended is [`PlayReport::end`].
pub fn run_file<D: DecoderDevice>(
    opts: &PlayOptions,
    controls: &Controls,
    source: &mut Source<'_>,
    track: &TrackInfo,
    dec: &mut Engine<D>,
    sink: &mut dyn Sink,
    pacing: Pacing<'_>,
) -> Result<PlayReport, PlayError> {
    let mut report = PlayReport {
        device: dec.device().name(),
        ..Default::default()
    };
    let mut pacer = Pacer::new(pacing);
    let paced = !matches!(pacer.pacing, Pacing::Unpaced);
    let limit = opts.max_frames.unwrap_or(u64::MAX);
    let input = &opts.input;
    let frame_ns = track.frame_duration_ns.unwrap_or(40_000_000) as i64;
    let mut ctl = Control::new(controls, frame_ns);
    if let Some(name) = &controls.osd_name {
        sink.set_osd(Some(vreq_present::Osd {
            text: vec![name.clone()],
            progress: None,
            hold: Some(OSD_DURATION),
        }));
    }
    let mut pending: Option<Flow> = None;
    if let Some(t) = controls.start.and_then(|s| s.resolve(controls.duration_ns)) {
        if t > 0 {
            pending = Some(Flow::Seek {
                target: t,
                precise: controls.hr_seek.precise(true),
                back: false,
            });
        }
    }
    if controls.pause {
        pacer.pause();
        sink.set_osd(Some(vreq_present::Osd {
            text: vec!["Paused".into()],
            progress: None,
            hold: Some(OSD_DURATION),
        }));
        // the first frame is shown, then the player waits
        ctl.step = true;
    }

    let mut flow;
    let mut video_failed = false;
    let mut eof_flow;
    let mut loops_left = controls.loop_file;
    // the packet last decoded, for the next read (Source::next)
    let mut done: Option<container::Packet> = None;
    'file: loop {
        if let Some(Flow::Seek {
            target,
            precise,
            back,
        }) = pending.take()
        {
            seek_to(
                source, track, dec, sink, &mut pacer, &mut ctl, target, precise, back,
            )?;
        }
        flow = Flow::Go;
        while let Some(pkt) = source.next(track.id, &mut report, done.take()) {
            let unit = CodedUnit::from(&pkt);
            ctl.fed = true;
            if pkt.pts_ns.is_none() && ctl.seeking.is_some() {
                // a stream without timestamps (raw Annex-B): the frames'
                // pts count from the seek point, not the file's start, so a
                // precise seek cannot find its target among them — it
                // shows from the keyframe the demuxer's byte estimate found
                ctl.skip_before = None;
            }
            if let Err(e) = dec.decode(unit) {
                let err = PlayError::Decode(format!(
                    "{}: track {} byte {}: {e}",
                    input.display(),
                    track.id,
                    pkt.byte_offset
                ));
                if report.frames_shown == 0 && pacer.output().is_some() {
                    // the video cannot be decoded at all (e.g. VP9 profile 3,
                    // found in the first frame's header): the sound plays alone
                    let w = format!("{err}; playing the audio alone");
                    tracing::warn!("{w}");
                    report.warnings.push(w);
                    video_failed = true;
                    break;
                }
                return Err(err);
            }
            // decoded (the device holds its own copy): read the next into it
            done = Some(pkt);
            flow = show_ready(
                input,
                track,
                limit,
                dec,
                sink,
                &mut report,
                &mut pacer,
                &mut ctl,
            )?;
            if let Flow::Seek { .. } = flow {
                pending = Some(flow);
                continue 'file;
            }
            if flow != Flow::Go {
                break;
            }
        }
        if let Source::Queued(q) = source {
            if let Some(e) = q.take_seek_error() {
                report.warnings.push(e);
            }
        }
        // the instant the input ended (or the loop stopped): with its log
        // timestamp, tests/vm/check-damage.py measures the time from here to
        // the exit (issue 15: within 2 s of the input's end or its error)
        tracing::debug!(
            target: "vreqplay::input_end",
            "{}: input ended, {} frames shown",
            input.display(),
            report.frames_shown
        );
        if !video_failed && flow == Flow::Go && report.frames_shown < limit {
            dec.finish().map_err(|e| {
                PlayError::Decode(format!("{}: at end of stream: {e}", input.display()))
            })?;
            flow = show_ready(
                input,
                track,
                limit,
                dec,
                sink,
                &mut report,
                &mut pacer,
                &mut ctl,
            )?;
            if let Some(e) = dec.take_error() {
                return Err(PlayError::Decode(format!(
                    "{}: at end of stream: {e}",
                    input.display()
                )));
            }
            if let Flow::Seek { .. } = flow {
                pending = Some(flow);
                continue 'file;
            }
        }
        eof_flow = flow;
        // --loop-file: back to the start at once — before the sound's tail is
        // waited for (the kiosk's loop has no pause in the picture; the sound
        // after the last frame, if any, is cut as the ring is flushed)
        if matches!(flow, Flow::Go | Flow::End) && !video_failed && report.frames_shown > 0 {
            let again = match &mut loops_left {
                Loop::Inf => true,
                Loop::No | Loop::Times(0) => false,
                Loop::Times(n) => {
                    *n -= 1;
                    true
                }
            };
            if again {
                // to the file's start, not --start (mpv's handle_loop_file:
                // an absolute seek to the start time, default precision)
                tracing::info!("--loop-file: back to the start");
                pending = Some(Flow::Seek {
                    target: 0,
                    precise: false,
                    back: false,
                });
                continue 'file;
            }
        }
        if flow == Flow::Go {
            if let Some(o) = pacer.output() {
                // the sound's tail: wait for it, keys still work
                o.wait_prefill(PREFILL_WAIT);
                o.release();
                pacer.released = true;
                flow = drain_sound(o, Some((&mut *sink, &mut ctl)), None, &mut pacer)?;
                if let Flow::Seek { .. } = flow {
                    pending = Some(flow);
                    continue 'file;
                }
            }
        }
        // (`--frames N` reached is an end of file too, as mpv's --frames)
        if opts.keep_open && paced && matches!(flow, Flow::Go | Flow::End | Flow::Stop) {
            // mpv's --keep-open: pause on the last frame; the decoder (which
            // owns its buffer) stays alive; keys work (a seek plays on)
            pacer.pause();
            ctl.update_status(&pacer, sink, true);
            match keep_open_wait(sink, &mut pacer, &mut ctl)? {
                f @ Flow::Seek { .. } => {
                    pending = Some(f);
                    continue 'file;
                }
                f => flow = f,
            }
        }
        break;
    }
    ctl.status.end();
    if let Source::Queued(q) = source {
        // the picture is done: the demux thread reads on for the sound alone
        if eof_flow != Flow::Go || video_failed {
            q.abandon(Stream::Video);
        }
    }
    sink.finish()?;
    if let Some(more) = report.warned.summary() {
        tracing::warn!("{}: {more}", input.display());
    }
    report.stats = dec.stats();
    report.present = sink.present_stats();
    report.end = match flow {
        Flow::Quit => FileEnd::Quit,
        Flow::Next => FileEnd::Next,
        Flow::Prev => FileEnd::Prev,
        _ => FileEnd::Eof,
    };
    Ok(report)
}

/// `--keep-open` at the end: waits (paused) for a key; the window closing
/// ends it as a quit.
fn keep_open_wait(
    sink: &mut dyn Sink,
    pacer: &mut Pacer<'_>,
    ctl: &mut Control<'_>,
) -> Result<Flow, PlayError> {
    loop {
        match sink.dispatch() {
            Ok(()) => {}
            Err(PresentError::Closed) => return Ok(Flow::Quit),
            Err(e) => return Err(e.into()),
        }
        match handle_commands(sink, pacer, ctl) {
            Ok(Flow::Go) => {
                if !pacer.paused || ctl.step {
                    // resumed (or stepped) at the end: there is nothing more to play
                    pacer.pause();
                    ctl.step = false;
                }
                std::thread::sleep(PAUSE_POLL);
            }
            Ok(f) => return Ok(f),
            Err(PresentError::Closed) => return Ok(Flow::Quit),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Performs a seek to `target` ns (clamped to the file): the source moves
/// to the keyframe at or before it, the engine and the sink drop what they
/// hold, the pacer restarts; `precise`: frames before `target` are not
/// shown; `back` (frame back-step): show that one frame, stay paused.
#[allow(clippy::too_many_arguments)]
fn seek_to<D: DecoderDevice>(
    source: &mut Source<'_>,
    track: &TrackInfo,
    dec: &mut Engine<D>,
    sink: &mut dyn Sink,
    pacer: &mut Pacer<'_>,
    ctl: &mut Control<'_>,
    target: i64,
    precise: bool,
    back: bool,
) -> Result<(), PlayError> {
    let mut target = target.max(0);
    if let Some(d) = ctl.c.duration_ns {
        target = target.min(d);
    }
    tracing::info!(
        "seek to {} ({})",
        status::format_time(target),
        if precise { "precise" } else { "keyframe" }
    );
    let queued = match source {
        Source::Direct(d) => {
            if let Err(e) = d.seek(track.id, target) {
                tracing::warn!("seek: {e}");
            }
            None
        }
        Source::Queued(q) => {
            let g = q.seek(queues::SeekRequest {
                target_ns: target,
                precise,
            });
            Some((q.clone(), g))
        }
    };
    if ctl.fed {
        // (nothing to flush before the first packet: `--start`)
        dec.reset()
            .map_err(|e| PlayError::Decode(format!("seek: {e}")))?;
    }
    sink.discard_queued();
    pacer.restart(queued);
    ctl.seeking = Some(target);
    ctl.seek_asked.get_or_insert_with(Instant::now);
    ctl.skip_before = if back {
        // the frame at the target: tolerate rounding of the frame duration
        Some(target - ctl.frame_ns / 2)
    } else {
        precise.then_some(target)
    };
    if back {
        pacer.pause();
        ctl.step = true;
    }
    if pacer.paused {
        ctl.moved_while_paused = true;
    }
    ctl.show_progress(sink, pacer.paused);
    ctl.update_status(pacer, sink, true);
    Ok(())
}

/// How often a paused player lets the sink handle events (keys, releases, close).
pub const PAUSE_POLL: Duration = Duration::from_millis(20);

/// Acts on the sink's [`UserCommand`]s (mpv's default bindings):
/// `Quit` → [`Flow::Quit`]; `TogglePause` pauses / resumes (the sound with
/// it; on the wall clock the origin shifts by the time spent paused);
/// volume and mute; `Seek` / `Chapter` / `FrameBackStep` → [`Flow::Seek`]
/// (several in one batch merge: relative steps add up, from the pending
/// target of a seek still in progress); `FrameStep` shows one frame and
/// pauses; `PlaylistNext` / `Prev` → [`Flow::Next`] / [`Flow::Prev`] when
/// the playlist has that entry; `ShowProgress` / `ShowStats` → the OSD.
/// While paused (and no frame step is due) this blocks, letting the sink
/// dispatch every [`PAUSE_POLL`] and keeping the status line, until a
/// command needs the loop. Errors: the sink's (e.g. [`PresentError::Closed`]).
fn handle_commands(
    sink: &mut dyn Sink,
    pacer: &mut Pacer<'_>,
    ctl: &mut Control<'_>,
) -> Result<Flow, PresentError> {
    let osd_text = |sink: &mut dyn Sink, text: String| {
        sink.set_osd(Some(vreq_present::Osd {
            text: vec![text],
            progress: None,
            hold: Some(OSD_DURATION),
        }))
    };
    loop {
        if signals::raised(ctl.c.quit.as_ref()) {
            tracing::info!("quit (signal)");
            return Ok(Flow::Quit);
        }
        let mut flow = Flow::Go;
        for c in sink.take_commands() {
            match c {
                UserCommand::Quit => {
                    tracing::info!("quit (key)");
                    return Ok(Flow::Quit);
                }
                UserCommand::TogglePause => {
                    if pacer.paused {
                        pacer.resume(std::mem::take(&mut ctl.moved_while_paused));
                        ctl.step = false;
                        sink.set_osd(None);
                    } else {
                        tracing::info!("paused");
                        pacer.pause();
                        sink.set_osd(Some(vreq_present::Osd {
                            text: vec!["Paused".into()],
                            progress: None,
                            hold: Some(OSD_DURATION),
                        }));
                    }
                    ctl.update_status(pacer, sink, true);
                }
                UserCommand::VolumeDown | UserCommand::VolumeUp => {
                    let d = if c == UserCommand::VolumeUp { 2 } else { -2 };
                    match pacer.add_volume(d) {
                        Some(v) => osd_text(sink, format!("Volume: {v}%")),
                        None => osd_text(sink, "Volume: no audio".into()),
                    }
                }
                UserCommand::ToggleMute => match pacer.toggle_mute() {
                    Some(m) => osd_text(sink, format!("Mute: {}", if m { "yes" } else { "no" })),
                    None => osd_text(sink, "Mute: no audio".into()),
                },
                UserCommand::Seek(s) => {
                    let base = match flow {
                        Flow::Seek { target, .. } => target,
                        _ => ctl.here(),
                    };
                    flow = Flow::Seek {
                        target: base + i64::from(s) * 1_000_000_000,
                        precise: ctl.c.hr_seek.precise(false),
                        back: false,
                    };
                }
                UserCommand::Chapter(d) => {
                    if let Some(t) = ctl.chapter_target(d) {
                        flow = Flow::Seek {
                            target: t,
                            precise: ctl.c.hr_seek.precise(true),
                            back: false,
                        };
                    }
                }
                UserCommand::PlaylistNext if ctl.c.has_next => return Ok(Flow::Next),
                UserCommand::PlaylistPrev if ctl.c.has_prev => return Ok(Flow::Prev),
                UserCommand::PlaylistNext | UserCommand::PlaylistPrev => {
                    tracing::info!("{c:?}: no such playlist entry");
                }
                UserCommand::FrameStep => {
                    pacer.pause();
                    ctl.step = true;
                }
                UserCommand::FrameBackStep => {
                    // keyframe-bound: a precise seek to the previous frame
                    let here = ctl.here();
                    let prev = match (ctl.prev_pos, ctl.seeking) {
                        (Some(p), None) if p < here && here - p <= 2 * ctl.frame_ns => p,
                        _ => here - ctl.frame_ns,
                    };
                    if prev >= 0 {
                        flow = Flow::Seek {
                            target: prev,
                            precise: true,
                            back: true,
                        };
                    }
                }
                UserCommand::ShowProgress => ctl.show_progress(sink, pacer.paused),
                UserCommand::ShowStats => {
                    let lines = ctl.stats_lines(pacer, sink);
                    sink.set_osd(Some(vreq_present::Osd {
                        text: lines,
                        progress: None,
                        hold: Some(5 * OSD_DURATION),
                    }));
                }
            }
        }
        if flow != Flow::Go {
            return Ok(flow);
        }
        if !pacer.paused || ctl.step || ctl.seeking.is_some() {
            // playing, or a frame is due while paused (step, seek)
            return Ok(Flow::Go);
        }
        ctl.update_status(pacer, sink, false);
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

    #[test]
    fn warn_once_shows_the_first_of_each_kind_and_counts_the_rest() {
        let mut w = WarnOnce::default();
        assert_eq!(
            WarnOnce::kind("a.ivf: track 1: skipped input at byte 127210: VP8 frame 119"),
            "a.ivf: track #: skipped input at byte #: VP# frame #"
        );
        assert!(w.warn("x.ts: sync lost at byte 160364"));
        assert!(!w.warn("x.ts: sync lost at byte 173640"));
        assert!(w.warn("x.ts: sync found again at byte 173452"));
        assert!(!w.warn("x.ts: sync lost at byte 192543"));
        assert!(!w.warn("x.ts: sync found again at byte 192355"));
        let s = w.summary().expect("repeats were not shown");
        assert!(s.starts_with("3 more warning(s) of the 2 kind(s)"), "{s}");
        assert_eq!(WarnOnce::default().summary(), None);
    }

    /// A sink that hands out scripted commands: `after_show[n]` after the
    /// n-th shown frame (0-based), `after_dispatch[n]` once, at the n-th
    /// dispatch (0-based) since commands were last taken or a frame shown. Records each frame's due instant.
    #[derive(Default)]
    struct Scripted {
        after_show: Vec<(u64, UserCommand)>,
        after_dispatch: Vec<(u64, UserCommand)>,
        shown: u64,
        dispatches: u64,
        since_taken: u64,
        pending: Vec<UserCommand>,
        dues: Vec<Instant>,
        pts: Vec<i64>,
        /// `discard_queued` calls.
        discards: u64,
        /// Every OSD set.
        osd: Vec<Option<vreq_present::Osd>>,
    }

    impl Sink for Scripted {
        fn show(
            &mut self,
            frame: DecodedFrame,
            _src: &dyn FrameSource,
            due: Option<Instant>,
        ) -> Result<(), PresentError> {
            if let Some(d) = due {
                self.dues.push(d);
            }
            self.pts.push(frame.pts_ns);
            for &(n, c) in &self.after_show {
                if n == self.shown {
                    self.pending.push(c);
                }
            }
            self.shown += 1;
            self.since_taken = 0;
            Ok(())
        }
        fn dispatch(&mut self) -> Result<(), PresentError> {
            // one-shot: each entry fires once
            let now = self.since_taken;
            let (fire, keep): (Vec<_>, Vec<_>) =
                self.after_dispatch.iter().partition(|(n, _)| *n == now);
            self.after_dispatch = keep;
            self.pending.extend(fire.into_iter().map(|(_, c)| c));
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
        fn discard_queued(&mut self) {
            self.discards += 1;
        }
        fn set_osd(&mut self, osd: Option<vreq_present::Osd>) {
            self.osd.push(osd);
        }
    }

    fn opts_for(path: &Path, max_frames: Option<u64>) -> PlayOptions {
        PlayOptions {
            input: path.to_owned(),
            output: Output::Null,
            max_frames,
            device: None,
            keep_open: false,
            fullscreen: false,
            hwdec_copy: false,
        }
    }

    /// bipbop_short_vp8.webm (27 frames, Opus) on a fake visl device through
    /// `run_with`.
    fn play_with(
        sink: &mut Scripted,
        max_frames: Option<u64>,
        source: Option<Queues>,
        pacing: Pacing<'_>,
    ) -> PlayReport {
        let path = vreq_testkit::media_dir().join("debian-src-firefox-esr/bipbop_short_vp8.webm");
        let opts = opts_for(&path, max_frames);
        let mut demux = container::open(&path).expect("open clip");
        let (track, kind) = pick_track(&path, demux.as_ref()).expect("track");
        let codec = codec_for_track(&path, &track, kind).expect("codec");
        let mut dec = Engine::new(
            codec,
            FakeDevice::for_codec(profile::for_driver("visl", "visl"), kind),
        );
        let mut src = match source {
            Some(q) => Source::Queued(q),
            None => Source::Direct(demux.as_mut()),
        };
        run_with(&opts, &mut src, &track, &mut dec, sink, pacing).expect("run")
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

    fn clip(rel: &str) -> PathBuf {
        vreq_testkit::media_dir().join(rel)
    }

    fn tracks_of(rel: &str) -> Vec<TrackInfo> {
        container::open(&clip(rel)).expect("open").tracks().to_vec()
    }

    #[test]
    fn frames_are_due_by_the_audio_clock() {
        // a fake clock: 0 ns heard at t0, audio written far ahead (no hold)
        let clock = AudioClock::new();
        let t0 = Instant::now() + Duration::from_millis(50);
        clock.on_callback(&vreq_audio::clock::CallbackInfo {
            at: t0,
            delay: Duration::ZERO,
            first_pts_ns: Some(0),
            frames: 48_000 * 60,
            rate: 48_000,
        });
        let mut sink = Scripted::default();
        let start = Instant::now();
        let r = play_with(
            &mut sink,
            Some(10),
            None,
            Pacing::Audio {
                clock,
                output: None,
            },
        );
        assert_eq!(r.frames_shown, 10);
        assert_eq!(sink.dues.len(), 10);
        for (due, pts) in sink.dues.iter().zip(&sink.pts) {
            let want = t0 + Duration::from_nanos(*pts as u64);
            let err = if *due > want {
                *due - want
            } else {
                want - *due
            };
            assert!(
                err < Duration::from_micros(50),
                "pts {pts}: due off by {err:?}"
            );
        }
        // paced in real time: the 10th frame (pts 300 ms at 30 fps) was not shown before it was due
        let last = *sink.pts.last().unwrap();
        assert!(last >= 250_000_000, "{:?}", sink.pts);
        assert!(start.elapsed() >= Duration::from_nanos(last as u64));
    }

    #[test]
    fn frames_behind_the_audio_clock_are_due_in_the_past_without_waiting() {
        let clock = AudioClock::new();
        let t0 = Instant::now();
        // 10 s are already heard: every frame is late
        clock.on_callback(&vreq_audio::clock::CallbackInfo {
            at: t0,
            delay: Duration::ZERO,
            first_pts_ns: Some(10_000_000_000),
            frames: 48_000 * 60,
            rate: 48_000,
        });
        let mut sink = Scripted::default();
        let start = Instant::now();
        let r = play_with(
            &mut sink,
            None,
            None,
            Pacing::Audio {
                clock,
                output: None,
            },
        );
        assert_eq!(r.frames_shown, 27);
        assert!(sink.dues.iter().all(|d| *d < t0), "all late");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn due_from_clock_is_now_plus_pts_minus_clock() {
        let now = Instant::now() + Duration::from_secs(100);
        assert_eq!(
            due_from_clock(now, 1_000, 41_000),
            now + Duration::from_nanos(40_000)
        );
        assert_eq!(
            due_from_clock(now, 41_000, 1_000),
            now - Duration::from_nanos(40_000)
        );
    }

    #[test]
    fn video_from_the_demux_thread_plays_like_the_direct_read() {
        let path = clip("debian-src-firefox-esr/bipbop_short_vp8.webm");
        let tracks = tracks_of("debian-src-firefox-esr/bipbop_short_vp8.webm");
        let (track, _) = container::first_video_track(&path, &tracks).unwrap();
        let audio = select_audio(&tracks, Aid::Auto)
            .unwrap()
            .expect("an audio track");
        let p = path.clone();
        let (q, h) = queues::spawn_demux(
            Box::new(move || container::open(&p).map(|d| d as Box<dyn container::Demuxer>)),
            Some(track.id),
            Some(audio.id),
        );
        let mut sink = Scripted::default();
        let r = play_with(&mut sink, None, Some(q.clone()), Pacing::Unpaced);
        assert_eq!(r.frames_shown, 27);
        // the audio queue filled meanwhile, its consumer absent
        assert!(q.lens().1 > 0);
        q.stop();
        h.join().unwrap();
    }

    const GIZMO: &str = "debian-src-firefox-esr/gizmo.mp4";

    /// The video packets' (pts, keyframe) of `rel`, in file order, read
    /// through the demuxer: what seeks are checked against.
    fn video_packets(rel: &str) -> Vec<(i64, bool)> {
        let path = clip(rel);
        let mut d = container::open(&path).unwrap();
        let (t, _) = pick_track(&path, d.as_ref()).unwrap();
        let mut v = Vec::new();
        while let Some(p) = d.next_packet().unwrap() {
            if p.track == t.id {
                v.push((p.pts_ns.unwrap(), p.keyframe));
            }
        }
        v
    }

    /// The keyframe at or before `t` (else the first), and the first pts at or after it.
    fn expected(rel: &str, t: i64) -> (i64, i64) {
        let v = video_packets(rel);
        let key = v
            .iter()
            .filter(|(p, k)| *k && *p <= t)
            .map(|(p, _)| *p)
            .max()
            .unwrap_or(v[0].0);
        let mut pts: Vec<i64> = v.iter().map(|(p, _)| *p).collect();
        pts.sort();
        let first = *pts.iter().find(|p| **p >= t).unwrap();
        (key, first)
    }

    /// Plays `rel` (H.264 / VP8 … on a fake visl device) with `controls`,
    /// from the demuxer directly or (`queued`) through the demux thread.
    fn play_ctl(
        rel: &str,
        sink: &mut Scripted,
        controls: &Controls,
        queued: bool,
        pacing: Pacing<'_>,
    ) -> PlayReport {
        let path = clip(rel);
        let mut opts = opts_for(&path, None);
        opts.keep_open = false;
        let mut demux = container::open(&path).expect("open clip");
        let (track, kind) = pick_track(&path, demux.as_ref()).expect("track");
        let codec = codec_for_track(&path, &track, kind).expect("codec");
        let mut dec = Engine::new(
            codec,
            FakeDevice::for_codec(profile::for_driver("visl", "visl"), kind),
        );
        if queued {
            let p = path.clone();
            let (q, h) = queues::spawn_demux(
                Box::new(move || container::open(&p).map(|d| d as Box<dyn container::Demuxer>)),
                Some(track.id),
                None,
            );
            let r = run_file(
                &opts,
                controls,
                &mut Source::Queued(q.clone()),
                &track,
                &mut dec,
                sink,
                pacing,
            )
            .expect("run");
            q.stop();
            h.join().unwrap();
            r
        } else {
            run_file(
                &opts,
                controls,
                &mut Source::Direct(demux.as_mut()),
                &track,
                &mut dec,
                sink,
                pacing,
            )
            .expect("run")
        }
    }

    const S: i64 = 1_000_000_000;

    #[test]
    fn seek_forward_and_back_show_the_keyframe_at_or_before_the_target() {
        for queued in [false, true] {
            // +2 s after the 6th frame, then -3 s after the 16th
            let mut sink = Scripted {
                after_show: vec![(5, UserCommand::Seek(2)), (15, UserCommand::Seek(-3))],
                ..Default::default()
            };
            let c = Controls {
                duration_ns: Some(6 * S),
                ..Default::default()
            };
            let r = play_ctl(GIZMO, &mut sink, &c, queued, Pacing::Unpaced);
            let p = &sink.pts;
            let (k1, _) = expected(GIZMO, p[5] + 2 * S);
            assert_eq!(p[6], k1, "queued {queued}: {p:?}");
            assert!(k1 > p[5], "a forward seek");
            let (k2, _) = expected(GIZMO, p[15] - 3 * S);
            assert_eq!(p[16], k2, "queued {queued}");
            assert!(k2 < p[15]);
            assert_eq!(sink.discards, 2);
            // then it plays on from there to the end
            let last = video_packets(GIZMO).iter().map(|x| x.0).max().unwrap();
            assert_eq!(*p.last().unwrap(), last);
            assert_eq!(r.end, FileEnd::Eof);
            // the seek bar came up
            assert!(sink
                .osd
                .iter()
                .flatten()
                .any(|o| o.progress.is_some() && o.hold == Some(OSD_DURATION)));
        }
    }

    #[test]
    fn seeks_in_one_batch_merge() {
        for queued in [false, true] {
            let mut sink = Scripted {
                after_show: vec![
                    (3, UserCommand::Seek(1)),
                    (3, UserCommand::Seek(1)),
                    (3, UserCommand::Seek(1)),
                ],
                ..Default::default()
            };
            play_ctl(
                GIZMO,
                &mut sink,
                &Controls::default(),
                queued,
                Pacing::Unpaced,
            );
            let (k, _) = expected(GIZMO, sink.pts[3] + 3 * S);
            assert_eq!(sink.pts[4], k);
            assert_eq!(sink.discards, 1, "one seek, not three");
        }
    }

    #[test]
    fn seek_while_paused_shows_the_new_frame_and_stays_paused() {
        for queued in [false, true] {
            let mut sink = Scripted {
                after_show: vec![(5, UserCommand::TogglePause)],
                after_dispatch: vec![(2, UserCommand::Seek(3)), (40, UserCommand::Quit)],
                ..Default::default()
            };
            let r = play_ctl(GIZMO, &mut sink, &Controls::default(), queued, Pacing::Wall);
            let (k, _) = expected(GIZMO, sink.pts[5] + 3 * S);
            assert_eq!(
                sink.pts.len(),
                7,
                "queued {queued}: one frame after the seek: {:?} {r:?}",
                sink.pts
            );
            assert_eq!(sink.pts[6], k);
            assert_eq!(r.end, FileEnd::Quit);
            // "Paused" on the OSD with the bar, fading after ~1 s like
            // every OSD message
            let last = sink.osd.iter().flatten().last().unwrap();
            // (no duration known: the time as text instead of a bar)
            assert_eq!(last.text[0], "Paused");
            assert_eq!(last.text[1], status::format_time(k));
            assert_eq!(last.hold, Some(OSD_DURATION));
        }
    }

    #[test]
    fn start_and_hr_seek_pick_the_first_shown_frame() {
        let t = 2 * S + S / 2;
        let (key, first) = expected(GIZMO, t);
        assert!(key < first, "the target lies between keyframes");
        for (hr, want) in [
            (HrSeek::Default, first), // absolute: precise, as mpv
            (HrSeek::Yes, first),
            (HrSeek::No, key),
        ] {
            for queued in [false, true] {
                let c = Controls {
                    start: Some(TimePos::Start(t)),
                    hr_seek: hr,
                    ..Default::default()
                };
                let mut sink = Scripted::default();
                play_ctl(GIZMO, &mut sink, &c, queued, Pacing::Unpaced);
                assert_eq!(sink.pts[0], want, "{hr:?} queued {queued}");
                assert!(sink.pts.iter().all(|p| *p >= want));
            }
        }
        // relative seeks are keyframe seeks by default, precise with yes
        let mut sink = Scripted {
            after_show: vec![(0, UserCommand::Seek(2))],
            ..Default::default()
        };
        let c = Controls {
            hr_seek: HrSeek::Yes,
            ..Default::default()
        };
        play_ctl(GIZMO, &mut sink, &c, false, Pacing::Unpaced);
        assert_eq!(sink.pts[1], expected(GIZMO, sink.pts[0] + 2 * S).1);
    }

    #[test]
    fn end_stops_before_the_frame_at_it_and_percent_needs_the_duration() {
        let c = Controls {
            end: Some(TimePos::Start(S)),
            ..Default::default()
        };
        let mut sink = Scripted::default();
        let r = play_ctl(GIZMO, &mut sink, &c, false, Pacing::Unpaced);
        let want = video_packets(GIZMO).iter().filter(|p| p.0 < S).count();
        assert_eq!(sink.pts.len(), want);
        assert_eq!(r.end, FileEnd::Eof);
        // 50 % of the file's duration
        let d = file_duration(container::open(&clip(GIZMO)).unwrap().as_ref()).unwrap();
        let c = Controls {
            start: Some(TimePos::Percent(50.0)),
            duration_ns: Some(d),
            hr_seek: HrSeek::No,
            ..Default::default()
        };
        let mut sink = Scripted::default();
        play_ctl(GIZMO, &mut sink, &c, false, Pacing::Unpaced);
        assert_eq!(sink.pts[0], expected(GIZMO, d / 2).0);
    }

    #[test]
    fn frame_step_and_back_step() {
        // `.` after the 11th frame: one more frame, paused; `.` again: one
        // more; `,`: back to the one before; then quit
        let mut sink = Scripted {
            after_show: vec![(10, UserCommand::FrameStep)],
            after_dispatch: vec![
                (3, UserCommand::FrameStep),
                (6, UserCommand::FrameBackStep),
                (30, UserCommand::Quit),
            ],
            ..Default::default()
        };
        let r = play_ctl(GIZMO, &mut sink, &Controls::default(), false, Pacing::Wall);
        let p = &sink.pts;
        assert_eq!(p.len(), 14, "{p:?}");
        let mut all: Vec<i64> = video_packets(GIZMO).iter().map(|x| x.0).collect();
        all.sort();
        assert_eq!(&p[..13], &all[..13], "11 frames, then two steps");
        assert_eq!(p[13], all[11], "back one frame");
        assert_eq!(sink.discards, 1);
        assert_eq!(r.end, FileEnd::Quit);
    }

    #[test]
    fn chapters_or_tenths_of_the_duration() {
        let ch = |s: i64| container::Chapter {
            start_ns: s,
            title: None,
        };
        let c = Controls {
            chapters: vec![ch(0), ch(10 * S), ch(20 * S)],
            duration_ns: Some(30 * S),
            ..Default::default()
        };
        let mut k = Control::new(&c, 40_000_000);
        k.pos = Some(12 * S);
        assert_eq!(k.chapter_target(1), Some(20 * S));
        // within 5 s of the chapter's start: back to the previous chapter
        assert_eq!(k.chapter_target(-1), Some(0));
        // further in: back to this chapter's start (mpv's threshold)
        k.pos = Some(17 * S);
        assert_eq!(k.chapter_target(-1), Some(10 * S));
        k.pos = Some(22 * S);
        assert_eq!(k.chapter_target(1), None);
        k.pos = Some(5 * S);
        assert_eq!(k.chapter_target(-1), Some(0));
        let c = Controls {
            duration_ns: Some(100 * S),
            ..Default::default()
        };
        let mut k = Control::new(&c, 40_000_000);
        k.pos = Some(50 * S);
        assert_eq!(k.chapter_target(1), Some(60 * S));
        assert_eq!(k.chapter_target(-1), Some(40 * S));
    }

    #[test]
    fn osd_messages_name_the_file_pause_volume_and_stats() {
        let c = Controls {
            osd_name: Some("gizmo.mp4".into()),
            stats_header: vec!["Decoder: visl (/dev/video0)".into(), "Codec: h264".into()],
            duration_ns: Some(6 * S),
            ..Default::default()
        };
        let mut sink = Scripted {
            after_show: vec![
                (2, UserCommand::VolumeUp),
                (3, UserCommand::ToggleMute),
                (4, UserCommand::ShowStats),
                (5, UserCommand::ShowProgress),
                (6, UserCommand::TogglePause),
                (8, UserCommand::Quit),
            ],
            after_dispatch: vec![(2, UserCommand::TogglePause)],
            ..Default::default()
        };
        play_ctl(GIZMO, &mut sink, &c, false, Pacing::Wall);
        let texts: Vec<Vec<String>> = sink
            .osd
            .iter()
            .map(|o| o.as_ref().map(|o| o.text.clone()).unwrap_or_default())
            .collect();
        assert_eq!(texts[0], ["gizmo.mp4"], "the file name first");
        assert_eq!(sink.osd[0].as_ref().unwrap().hold, Some(OSD_DURATION));
        // no sound here: volume and mute say so
        assert_eq!(texts[1], ["Volume: no audio"]);
        assert_eq!(texts[2], ["Mute: no audio"]);
        let stats = &texts[3];
        assert_eq!(&stats[..2], &c.stats_header[..]);
        assert!(
            stats[2].starts_with("Size: ") && stats[2].contains(" (coded "),
            "{stats:?}"
        );
        let bar = sink.osd[4].as_ref().unwrap();
        assert_eq!(bar.progress, Some((sink.pts[5], 6 * S)));
        assert_eq!(texts[5], ["Paused"]);
        assert_eq!(
            sink.osd[5].as_ref().unwrap().hold,
            Some(OSD_DURATION),
            "fades after ~1 s (the issue: every OSD message fades)"
        );
        assert_eq!(sink.osd[6], None, "cleared on resume");
    }

    #[test]
    fn loop_file_seeks_back_without_reopening() {
        for queued in [false, true] {
            let c = Controls {
                loop_file: Loop::Times(2),
                ..Default::default()
            };
            let mut sink = Scripted::default();
            let r = play_ctl(GIZMO, &mut sink, &c, queued, Pacing::Unpaced);
            let mut once: Vec<i64> = video_packets(GIZMO).iter().map(|x| x.0).collect();
            once.sort();
            let thrice: Vec<i64> = once.iter().chain(&once).chain(&once).copied().collect();
            assert_eq!(sink.pts, thrice, "queued {queued}");
            assert_eq!(sink.discards, 2);
            assert_eq!(r.end, FileEnd::Eof);
        }
    }

    use audio::select_audio_track as select_audio;

    #[test]
    fn aid_numbers_audio_tracks_like_mpv() {
        let tracks = tracks_of("debian-src-qt6-multimedia/multitrack.mkv");
        let audio: Vec<u32> = tracks
            .iter()
            .filter(|t| matches!(t.codec, container::TrackCodec::Audio(_)))
            .map(|t| t.id)
            .collect();
        assert_eq!(audio.len(), 2, "{tracks:?}");
        assert_eq!(
            select_audio(&tracks, Aid::Auto).unwrap().unwrap().id,
            audio[0]
        );
        assert_eq!(
            select_audio(&tracks, Aid::Track(1)).unwrap().unwrap().id,
            audio[0]
        );
        assert_eq!(
            select_audio(&tracks, Aid::Track(2)).unwrap().unwrap().id,
            audio[1]
        );
        assert_eq!(select_audio(&tracks, Aid::No).unwrap(), None);
        let e = select_audio(&tracks, Aid::Track(3)).unwrap_err();
        assert_eq!(
            e,
            "--aid=3: the file has 2 audio track(s); playing without sound"
        );
        // one audio track; a file without audio
        let gizmo = tracks_of("debian-src-firefox-esr/gizmo.mp4");
        assert!(matches!(
            select_audio(&gizmo, Aid::Auto).unwrap().unwrap().codec,
            container::TrackCodec::Audio(container::AudioCodec::Aac)
        ));
        assert!(select_audio(&gizmo, Aid::Track(2)).is_err());
        let silent = tracks_of("debian-src-firefox-esr/foreman.mp4");
        assert_eq!(select_audio(&silent, Aid::Auto).unwrap(), None);
        // the flag's syntax
        assert_eq!("auto".parse::<Aid>(), Ok(Aid::Auto));
        assert_eq!("no".parse::<Aid>(), Ok(Aid::No));
        assert_eq!("2".parse::<Aid>(), Ok(Aid::Track(2)));
        assert!("0".parse::<Aid>().is_err());
        assert!("x".parse::<Aid>().is_err());
    }

    #[test]
    fn no_audio_untimed_and_y4m_play_without_sound() {
        let path = clip("debian-src-firefox-esr/gizmo.mp4");
        let mut o = opts_for(&path, None);
        let mut a = AudioOptions::default();
        assert!(sound_wanted(&o, &a));
        a.no_audio = true;
        assert!(!sound_wanted(&o, &a));
        a.no_audio = false;
        a.untimed = true;
        assert!(!sound_wanted(&o, &a));
        a.untimed = false;
        o.output = Output::Y4m {
            path: "/nonexistent/x.y4m".into(),
            force: false,
        };
        assert!(!sound_wanted(&o, &a));
    }

    /// Whether this machine has an ALSA card (`/proc/asound/cards`).
    fn has_sound_card() -> bool {
        std::fs::read_to_string("/proc/asound/cards")
            .map(|s| {
                s.lines()
                    .any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            })
            .unwrap_or(false)
    }

    #[test]
    fn no_audio_device_warns_once_and_the_picture_plays() {
        let path = clip("debian-src-firefox-esr/bipbop_short_vp8.webm");
        let opts = opts_for(&path, None);
        let mut audio = AudioOptions::default();
        if has_sound_card() {
            // the host tier runs without a card; elsewhere name one that is absent
            audio.device = "alsa/hw:NoSuchCard,0,0".into();
        }
        let tracks = tracks_of("debian-src-firefox-esr/bipbop_short_vp8.webm");
        let at = select_audio(&tracks, Aid::Auto)
            .unwrap()
            .expect("opus track");
        let mut warnings = Vec::new();
        let p = path.clone();
        let sound = start_sound(
            &opts,
            &audio,
            Box::new(move || container::open(&p).map(|d| d as Box<dyn container::Demuxer>)),
            Some(1),
            &at,
            &mut warnings,
        );
        assert!(sound.is_none());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert!(
            w.starts_with("audio: ") && w.ends_with("; playing without sound") && !w.contains('\n'),
            "{w}"
        );
        // and the picture plays on the wall clock
        let mut sink = Scripted::default();
        let r = play_with(&mut sink, Some(5), None, Pacing::Wall);
        assert_eq!(r.frames_shown, 5);
        assert_eq!(sink.dues.len(), 5);
    }

    #[test]
    fn an_unsupported_codec_is_one_line_and_no_sound() {
        let dir = std::env::temp_dir().join(format!("vreqplay-ac3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sine-ac3.mkv");
        let st = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=1000:duration=1",
            ])
            .args(["-c:a", "ac3"])
            .arg(&path)
            .status()
            .expect("ffmpeg (a host package: scripts/setup-host.sh)");
        assert!(st.success());
        let tracks = container::open(&path).unwrap().tracks().to_vec();
        let at = select_audio(&tracks, Aid::Auto)
            .unwrap()
            .expect("an audio track");
        assert_eq!(
            at.codec,
            container::TrackCodec::Audio(container::AudioCodec::Ac3)
        );
        let opts = opts_for(&path, None);
        let mut warnings = Vec::new();
        let p = path.clone();
        let sound = start_sound(
            &opts,
            &AudioOptions::default(),
            Box::new(move || container::open(&p).map(|d| d as Box<dyn container::Demuxer>)),
            None,
            &at,
            &mut warnings,
        );
        assert!(sound.is_none());
        assert_eq!(
            warnings,
            ["audio: ac3 not supported, playing without sound"]
        );
        // no video either: play() fails with the video's error
        let e = super::play(&opts, &AudioOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no video track"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
