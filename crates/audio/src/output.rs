//! Audio output: a cpal (ALSA) output stream fed from a bounded ring of
//! converted PCM, volume and mute applied in the data callback, underruns
//! counted, pause / resume, and the [`AudioClock`] the picture follows.
//!
//! - **Device** (`--audio-device`, mpv's syntax, `player/audio.c` and
//!   `audio/out/ao.c`): `auto` (ALSA's `default`), `alsa` (the same),
//!   `alsa/<pcm>` (an ALSA PCM name: `alsa/default`, `alsa/hw:Loopback,0,0`,
//!   `alsa/plughw:CARD=PCH,DEV=0`). cpal opens only PCMs it enumerates
//!   (ALSA's name hints plus `hw:` / `plughw:` of every card), so a name is
//!   matched against that list: as written, in cpal's canonical
//!   `CARD=…,DEV=…` form, and without a trailing subdevice (`hw:Loopback,0,0`
//!   → `hw:CARD=Loopback,DEV=0`; ALSA then takes the first free subdevice,
//!   subdevice 0 on an idle card). [`list_devices`] prints the list as mpv's
//!   `--audio-device=help` does.
//! - **Config**: the stream's rate and channels if the device offers them
//!   (f32 samples preferred, else i32, else i16), else the nearest it offers
//!   (same channels at 48 / 44.1 kHz, then stereo, then the device default);
//!   the player converts to it (`mix::Converter`).
//! - **Sizes**: a device buffer of `--audio-buffer` (mpv's option; default
//!   [`DEFAULT_BUFFER`], mpv's 0.2 s), as two periods of half of it
//!   (`BufferSize::Fixed`, clamped to the device's range; cpal's ALSA host
//!   makes the device buffer two periods, `DEFAULT_PERIODS` in
//!   `cpal/src/host/alsa/mod.rs`). Measured in the project's VM (QEMU TCG,
//!   2 vCPUs, snd-aloop, `--vo null`): 20 ms periods gave 6 to 42 ALSA
//!   xruns per 60 s clip, 40 ms periods (80 ms buffer) one xrun in about
//!   every other 30 s run even with the callback thread real-time, 100 ms
//!   periods none (the callback thread not scheduled in time while the
//!   video thread and the kernel's visl share the CPUs). Latency does not
//!   move the picture (the clock subtracts the measured delay); it only
//!   delays volume and pause by up to the buffer, as in mpv. The
//!   ring in front of it holds [`RING_MS`] (500 ms), which the audio thread
//!   keeps full: decode jitter and the audio thread losing the CPU for a
//!   while never reach the device. The device's callback thread asks for
//!   `SCHED_FIFO` ([`RT_PRIORITY`], through the `thread-priority` crate)
//!   where root or `RLIMIT_RTPRIO` allows it, else it runs as before: in
//!   the VM, device xruns came from that thread not being scheduled within
//!   the device's 80 ms, not from a dry ring. A held output starts only
//!   once the ring holds [`PREFILL_MS`] (or the stream ended):
//!   [`AudioOutput::wait_prefill`].
//! - **Ring**: std primitives — a `Mutex<VecDeque>` of PCM chunks and a
//!   `Condvar`; the writer ([`RingWriter::push`], the audio thread) blocks
//!   while it is full, the data callback never blocks on anything but that
//!   mutex, which is held only to move samples.
//! - **Volume**: 0..100 → gain `(v / 100)³`, mpv's cubic curve
//!   (`audio/out/ao.c`/`player/audio.c`: `ao_volume` from `--volume` via
//!   `pow(vol / 100, 3)`); mute multiplies by 0.
//! - **Underruns**: a callback that finds the ring dry (some frames short)
//!   after the first samples arrived and before the end of the stream, plus
//!   every ALSA xrun cpal reports (`ErrorKind::Xrun`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use crate::clock::{frames_to_ns, AudioClock, CallbackInfo};
use crate::decode::AudioError;

/// The device buffer asked for when the user names none (`--audio-buffer`,
/// mpv's option and default: 0.2 s); see the module doc.
pub const DEFAULT_BUFFER: Duration = Duration::from_millis(200);
/// Ring capacity (ms of output audio); see the module doc.
pub const RING_MS: u32 = 500;

/// Audio (ms) the ring must hold before a held output starts to play
/// ([`AudioOutput::wait_prefill`]).
pub const PREFILL_MS: u32 = 200;

/// What [`AudioOutput::open`] opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputConfig {
    /// The device as the user names it (`alsa/default`, `alsa/hw:CARD=Loopback,DEV=0`).
    pub device: String,
    /// Output rate (Hz).
    pub rate: u32,
    /// Output channels.
    pub channels: u16,
    /// Sample format the device takes (`f32`, `i32`, `i16`).
    pub format: String,
    /// Frames per period (one data callback), at `rate`.
    pub period_frames: u32,
}

struct Chunk {
    /// Stream pts (ns) of `samples[0]`.
    pts_ns: i64,
    samples: Vec<f32>,
    /// Samples already played.
    pos: usize,
}

#[derive(Default)]
struct RingState {
    chunks: VecDeque<Chunk>,
    /// Frames queued (not yet played).
    frames: u64,
    /// Some audio has been pushed since the start / the last flush.
    started: bool,
    /// The writer said there is no more audio.
    ended: bool,
    /// A callback found the ring dry (`started`, not `ended`) since the last
    /// push: an underrun once more audio comes, the end of the sound if
    /// [`RingWriter::finish`] comes first (the writer only learns that the
    /// stream ended after its last push), nothing if a flush comes first.
    dry: bool,
    /// The output is gone: writers stop waiting.
    closed: bool,
}

struct Shared {
    ring: Mutex<RingState>,
    space: Condvar,
    rate: u32,
    channels: u16,
    cap_frames: u64,
    /// `--volume` 0..=100.
    volume: AtomicU32,
    muted: AtomicBool,
    /// Held: the callback plays silence and leaves the ring alone (start-up:
    /// the audio waits for the first video frame, as mpv's does).
    held: AtomicBool,
    underruns: AtomicU64,
    xruns: AtomicU64,
    clock: AudioClock,
}

fn lock(m: &Mutex<RingState>) -> MutexGuard<'_, RingState> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// mpv's volume curve: `(v / 100)³` for `v` in 0..=100 (clamped).
pub fn volume_gain(volume: u32) -> f32 {
    let v = volume.min(100) as f32 / 100.0;
    v * v * v
}

impl Shared {
    fn new(rate: u32, channels: u16, clock: AudioClock) -> Self {
        Shared {
            ring: Mutex::new(RingState::default()),
            space: Condvar::new(),
            rate,
            channels,
            cap_frames: u64::from(rate) * u64::from(RING_MS) / 1000,
            volume: AtomicU32::new(100),
            muted: AtomicBool::new(false),
            held: AtomicBool::new(false),
            underruns: AtomicU64::new(0),
            xruns: AtomicU64::new(0),
            clock,
        }
    }

    /// [`AudioOutput::wait_prefill`]: polls every 2 ms.
    fn wait_prefill(&self, timeout: Duration) -> u64 {
        let want = u64::from(self.rate) * u64::from(PREFILL_MS) / 1000;
        let start = Instant::now();
        loop {
            let (frames, ended) = {
                let r = lock(&self.ring);
                (r.frames, r.ended || r.closed)
            };
            if frames >= want || ended || start.elapsed() >= timeout {
                return frames;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The data callback's work, over f32 samples: fills `out` (interleaved,
    /// `channels` wide) from the ring, silence where it is dry, applies the
    /// gain and tells the clock. `at` / `delay` come from cpal.
    fn fill(&self, out: &mut [f32], at: Instant, delay: Duration) {
        let ch = usize::from(self.channels.max(1));
        if self.held.load(Ordering::Acquire) {
            out.fill(0.0);
            return;
        }
        let want = out.len() / ch;
        let gain = if self.muted.load(Ordering::Relaxed) {
            0.0
        } else {
            volume_gain(self.volume.load(Ordering::Relaxed))
        };
        let mut first_pts = None;
        let mut got = 0usize;
        {
            let mut r = lock(&self.ring);
            while got < want {
                let Some(c) = r.chunks.front_mut() else { break };
                if first_pts.is_none() {
                    first_pts = Some(c.pts_ns + frames_to_ns((c.pos / ch) as u64, self.rate));
                }
                let n = ((c.samples.len() - c.pos) / ch).min(want - got);
                let src = &c.samples[c.pos..c.pos + n * ch];
                for (o, s) in out[got * ch..(got + n) * ch].iter_mut().zip(src) {
                    *o = (s * gain).clamp(-1.0, 1.0);
                }
                c.pos += n * ch;
                got += n;
                if c.pos + ch > c.samples.len() {
                    r.chunks.pop_front();
                }
            }
            r.frames -= got as u64;
            if got < want && r.started && !r.ended && !r.closed {
                r.dry = true;
            }
        }
        self.space.notify_all();
        out[got * ch..].fill(0.0);
        self.clock.on_callback(&CallbackInfo {
            at,
            delay,
            first_pts_ns: first_pts,
            frames: got as u64,
            rate: self.rate,
        });
    }
}

/// The audio thread's end of the ring.
#[derive(Clone)]
pub struct RingWriter {
    shared: Arc<Shared>,
}

impl RingWriter {
    /// Output rate (Hz) and channels the pushed samples must have.
    pub fn format(&self) -> (u32, u16) {
        (self.shared.rate, self.shared.channels)
    }

    /// Queues interleaved samples (output rate and channels) whose first
    /// frame has stream pts `pts_ns`. Blocks while the ring holds
    /// [`RING_MS`] or more (returns as soon as there is room: one chunk may
    /// overshoot the cap by its own length). Returns `false` if the output is
    /// closed (the caller stops).
    pub fn push(&self, pts_ns: i64, samples: Vec<f32>) -> bool {
        let ch = usize::from(self.shared.channels.max(1));
        let frames = (samples.len() / ch) as u64;
        if frames == 0 {
            return !lock(&self.shared.ring).closed;
        }
        let mut r = lock(&self.shared.ring);
        while !r.closed && r.frames >= self.shared.cap_frames {
            r = self
                .shared
                .space
                .wait_timeout(r, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if r.closed {
            return false;
        }
        if std::mem::take(&mut r.dry) {
            self.shared.underruns.fetch_add(1, Ordering::Relaxed);
        }
        r.started = true;
        r.ended = false;
        r.frames += frames;
        r.chunks.push_back(Chunk {
            pts_ns,
            samples,
            pos: 0,
        });
        true
    }

    /// The converter's latency in output frames (`mix::Converter::delay_frames`):
    /// the clock subtracts it.
    pub fn set_converter_delay(&self, frames: u64) {
        self.shared
            .clock
            .set_converter_delay(frames, self.shared.rate);
    }

    /// Frames queued and not yet played.
    pub fn queued_frames(&self) -> u64 {
        lock(&self.shared.ring).frames
    }

    /// No more audio will come: the dry ring after this is not an underrun,
    /// and the clock runs on as a wall clock after the last sample.
    pub fn finish(&self) {
        let mut r = lock(&self.shared.ring);
        r.ended = true;
        r.dry = false;
        drop(r);
        self.shared.clock.set_ended();
    }

    /// Drops everything queued (discontinuity) and forgets the clock's anchor.
    pub fn flush(&self) {
        let mut r = lock(&self.shared.ring);
        r.chunks.clear();
        r.frames = 0;
        r.started = false;
        r.dry = false;
        drop(r);
        self.shared.clock.reset();
        self.shared.space.notify_all();
    }

    /// Wakes and stops every writer (the output is going away).
    pub fn close(&self) {
        lock(&self.shared.ring).closed = true;
        self.shared.space.notify_all();
    }
}

/// The device's end of a ring without a device: what the data callback
/// does, driven by the caller (tests of the audio thread; offline use).
pub struct RingReader {
    shared: Arc<Shared>,
}

impl RingReader {
    /// [`AudioOutput::wait_prefill`] for a ring with no device behind it.
    pub fn wait_prefill(&self, timeout: Duration) -> u64 {
        self.shared.wait_prefill(timeout)
    }

    /// Fills `out` (interleaved f32) as the data callback would at instant
    /// `at` with device delay `delay`: samples with the gain applied,
    /// silence where the ring is dry; the clock hears about it.
    pub fn fill(&self, out: &mut [f32], at: Instant, delay: Duration) {
        self.shared.fill(out, at, delay);
    }

    /// Ring-dry fills so far that more audio followed (a dropout: not the
    /// silence after the end of the sound or before a seek's flush).
    pub fn underruns(&self) -> u64 {
        self.shared.underruns.load(Ordering::Relaxed)
    }

    /// Whether the writer finished ([`RingWriter::finish`]).
    pub fn ended(&self) -> bool {
        lock(&self.shared.ring).ended
    }
}

/// A ring of [`RING_MS`] at `rate` Hz × `channels` with no device behind
/// it: its writer, its reader (the callback's part) and its clock.
pub fn ring(rate: u32, channels: u16) -> (RingWriter, RingReader, AudioClock) {
    let clock = AudioClock::new();
    let shared = Arc::new(Shared::new(rate, channels, clock.clone()));
    (
        RingWriter {
            shared: shared.clone(),
        },
        RingReader { shared },
        clock,
    )
}

/// A playing (or paused) output stream. Dropping it stops the stream.
pub struct AudioOutput {
    stream: cpal::Stream,
    shared: Arc<Shared>,
    config: OutputConfig,
    playing: AtomicBool,
    /// Whether the ring was held when [`AudioOutput::pause`] held it.
    held_before_pause: AtomicBool,
}

impl std::fmt::Debug for AudioOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioOutput")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn out_err(what: impl std::fmt::Display) -> AudioError {
    AudioError::Output(what.to_string())
}

/// An error's message without the variant's prefix (for nesting).
fn inner(e: AudioError) -> String {
    match e {
        AudioError::Output(m) => m,
        e => e.to_string(),
    }
}

/// The ALSA PCM name an `--audio-device` value names (`auto` / `alsa` →
/// `default`). Errors: a value that is not `auto`, `alsa` or `alsa/<pcm>`.
pub fn pcm_name(device: &str) -> Result<String, AudioError> {
    match device {
        "" | "auto" | "alsa" => Ok("default".into()),
        d => match d.strip_prefix("alsa/") {
            Some(p) if !p.is_empty() => Ok(p.to_owned()),
            _ => Err(out_err(format!(
                "--audio-device={d}: not a device name (auto, alsa/<pcm name>; --audio-device=help lists them)"
            ))),
        },
    }
}

/// The forms of an ALSA PCM name cpal's enumeration may list: as written,
/// `prefix:CARD=c,DEV=d` for `prefix:c,d[,sub]` / `prefix:c`.
pub fn pcm_candidates(pcm: &str) -> Vec<String> {
    let mut v = vec![pcm.to_owned()];
    if let Some((prefix, rest)) = pcm.split_once(':') {
        if !rest.contains('=') {
            let mut parts = rest.split(',').map(str::trim);
            let card = parts.next().unwrap_or("");
            let dev = parts.next().unwrap_or("0");
            v.push(format!("{prefix}:CARD={card},DEV={dev}"));
        } else if !rest.contains("DEV=") {
            v.push(format!("{prefix}:{rest},DEV=0"));
        }
    }
    v
}

fn alsa_host() -> Result<cpal::Host, AudioError> {
    cpal::host_from_id(cpal::HostId::Alsa).map_err(out_err)
}

/// Whether the kernel has a sound card (`/proc/asound/cards` lists one) or a
/// sound server may (a PipeWire or PulseAudio socket in `$XDG_RUNTIME_DIR`,
/// which ALSA's `default` reaches through their plugins).
pub fn sound_possible() -> bool {
    let card = std::fs::read_to_string("/proc/asound/cards")
        .map(|s| {
            s.lines()
                .any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        })
        .unwrap_or(false);
    let server = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| {
        let d = std::path::PathBuf::from(d);
        d.join("pipewire-0").exists() || d.join("pulse/native").exists()
    });
    card || server
}

fn find_device(host: &cpal::Host, pcm: &str) -> Result<cpal::Device, AudioError> {
    // alsa-lib prints its own multi-line complaints to stderr when `default`
    // names no card: say it in one line before it gets the chance
    if pcm == "default" && !sound_possible() {
        return Err(out_err(format!(
            "alsa/{pcm}: no sound card (/proc/asound/cards lists none) and no sound server"
        )));
    }
    if pcm == "default" {
        return host
            .default_output_device()
            .ok_or_else(|| out_err("no default ALSA output device"));
    }
    let devices: Vec<cpal::Device> = host.devices().map_err(out_err)?.collect();
    for cand in pcm_candidates(pcm) {
        if let Some(d) = devices
            .iter()
            .find(|d| d.id().map(|id| id.id() == cand).unwrap_or(false))
        {
            return Ok(d.clone());
        }
    }
    Err(out_err(format!(
        "audio device alsa/{pcm} not found (--audio-device=help lists them)"
    )))
}

/// mpv's `--audio-device=help` listing: `List of detected audio devices:`
/// then one `  'name' (description)` line per output device, `auto` first.
pub fn list_devices() -> Result<String, AudioError> {
    let host = alsa_host()?;
    let mut s = String::from("List of detected audio devices:\n  'auto' (Autoselect device)\n");
    s.push_str("  'alsa' (Default (alsa))\n");
    for d in host.devices().map_err(out_err)? {
        if !d.supports_output() {
            continue;
        }
        let Ok(id) = d.id() else { continue };
        let desc = d
            .description()
            .map(|x| x.to_string().replace('\n', ", "))
            .unwrap_or_default();
        s.push_str(&format!("  'alsa/{}' ({})\n", id.id(), desc));
    }
    Ok(s)
}

const FORMATS: [SampleFormat; 3] = [SampleFormat::F32, SampleFormat::I32, SampleFormat::I16];

/// Picks a config: the stream's rate / channels if offered, else the
/// nearest (see the module doc). Returns (rate, channels, format, period range).
fn choose_config(
    device: &cpal::Device,
    rate: u32,
    channels: u16,
) -> Result<(u32, u16, SampleFormat, cpal::SupportedBufferSize), AudioError> {
    let ranges: Vec<cpal::SupportedStreamConfigRange> = device
        .supported_output_configs()
        .map_err(out_err)?
        .filter(|r| FORMATS.contains(&r.sample_format()))
        .collect();
    let rank = |f: SampleFormat| FORMATS.iter().position(|x| *x == f).unwrap_or(9);
    let mut wanted: Vec<(u32, u16)> = Vec::new();
    if rate > 0 && channels > 0 {
        wanted.push((rate, channels));
    }
    for r in [48_000, 44_100] {
        if channels > 0 {
            wanted.push((r, channels));
        }
    }
    if rate > 0 {
        wanted.push((rate, 2));
    }
    wanted.extend([(48_000, 2), (44_100, 2)]);
    for (r, c) in wanted {
        if let Some(best) = ranges
            .iter()
            .filter(|x| x.channels() == c && x.contains_rate(r))
            .min_by_key(|x| rank(x.sample_format()))
        {
            return Ok((r, c, best.sample_format(), *best.buffer_size()));
        }
    }
    let d = device.default_output_config().map_err(out_err)?;
    if !FORMATS.contains(&d.sample_format()) {
        return Err(out_err(format!(
            "the device takes no f32 / i32 / i16 samples (default {})",
            d.sample_format()
        )));
    }
    Ok((
        d.sample_rate(),
        d.channels(),
        d.sample_format(),
        *d.buffer_size(),
    ))
}

/// The period (frames) asked for: half of `buffer` (cpal's ALSA host makes
/// the device buffer two periods) at `rate`, within the device's range.
pub fn period_frames(rate: u32, buffer: Duration, range: &cpal::SupportedBufferSize) -> u32 {
    let p =
        (u128::from(rate) * buffer.as_micros() / 2_000_000).clamp(1, u128::from(u32::MAX)) as u32;
    match *range {
        cpal::SupportedBufferSize::Range { min, max } if min <= max => p.clamp(min, max),
        _ => p,
    }
}

impl AudioOutput {
    /// Opens `device` (`--audio-device` syntax, see the module doc) for a
    /// stream of `rate` Hz and `channels` channels (0 = unknown: the device's
    /// choice) with a device buffer of about `buffer` (two periods;
    /// `--audio-buffer`, [`DEFAULT_BUFFER`]), and starts it (silence until
    /// the ring gets samples).
    /// Errors ([`AudioError::Output`], one line): no such device, ALSA
    /// refused it (no card, busy), no usable config.
    pub fn open(
        device: &str,
        rate: u32,
        channels: u16,
        buffer: Duration,
    ) -> Result<Self, AudioError> {
        let pcm = pcm_name(device)?;
        let host = alsa_host()?;
        let dev = find_device(&host, &pcm)?;
        let name = dev
            .id()
            .map(|id| format!("alsa/{}", id.id()))
            .unwrap_or_else(|_| format!("alsa/{pcm}"));
        let (out_rate, out_ch, fmt, range) = choose_config(&dev, rate, channels)
            .map_err(|e| out_err(format!("{name}: {}", inner(e))))?;
        let period = period_frames(out_rate, buffer, &range);
        let clock = AudioClock::new();
        let shared = Arc::new(Shared::new(out_rate, out_ch, clock));
        let cfg = cpal::StreamConfig {
            channels: out_ch,
            sample_rate: out_rate,
            buffer_size: cpal::BufferSize::Fixed(period),
        };
        let stream = match fmt {
            SampleFormat::I16 => build::<i16>(&dev, &cfg, &shared),
            SampleFormat::I32 => build::<i32>(&dev, &cfg, &shared),
            _ => build::<f32>(&dev, &cfg, &shared),
        }
        .map_err(|e| out_err(format!("{name}: {e}")))?;
        stream.play().map_err(|e| out_err(format!("{name}: {e}")))?;
        let period_frames = stream.buffer_size().unwrap_or(period);
        Ok(AudioOutput {
            stream,
            shared,
            config: OutputConfig {
                device: name,
                rate: out_rate,
                channels: out_ch,
                format: fmt.to_string(),
                period_frames,
            },
            playing: AtomicBool::new(true),
            held_before_pause: AtomicBool::new(false),
        })
    }

    /// What was opened.
    pub fn config(&self) -> &OutputConfig {
        &self.config
    }

    /// The audio thread's end of the ring.
    pub fn writer(&self) -> RingWriter {
        RingWriter {
            shared: self.shared.clone(),
        }
    }

    /// The clock this output drives.
    pub fn clock(&self) -> AudioClock {
        self.shared.clock.clone()
    }

    /// Pauses: the callback stops taking from the ring at once (it plays
    /// silence), the clock freezes, and the stream is paused (cpal
    /// `Stream::pause`, ALSA `snd_pcm_pause`; a device that cannot pause
    /// keeps running on silence, which keeps the clock right). Errors:
    /// none that matter to the caller (a refused `snd_pcm_pause` is logged).
    pub fn pause(&self) -> Result<(), AudioError> {
        if self.playing.swap(false, Ordering::SeqCst) {
            self.held_before_pause.store(
                self.shared.held.swap(true, Ordering::AcqRel),
                Ordering::Relaxed,
            );
            self.shared.clock.pause_at(Instant::now());
            if let Err(e) = self.stream.pause() {
                tracing::debug!("audio output: pause: {e}; playing silence instead");
            }
        }
        Ok(())
    }

    /// Resumes after [`AudioOutput::pause`]; the clock runs on from where it
    /// froze. Errors: the device's, one line.
    pub fn resume(&self) -> Result<(), AudioError> {
        if !self.playing.swap(true, Ordering::SeqCst) {
            self.shared.clock.resume_at(Instant::now());
            let r = self.stream.play().map_err(out_err);
            if !self.held_before_pause.load(Ordering::Relaxed) {
                self.shared.held.store(false, Ordering::Release);
            }
            r?;
        }
        Ok(())
    }

    /// Holds the ring: the device plays silence and the clock does not start
    /// until [`AudioOutput::release`] (the player holds the audio until its
    /// first video frame is decoded, so the picture starts with the sound).
    pub fn hold(&self) {
        self.shared.held.store(true, Ordering::Release);
    }

    /// Waits, at most `timeout`, until the ring holds [`PREFILL_MS`] of
    /// audio or the stream has ended (nothing more will come), so that
    /// playback does not start on a nearly dry ring: the player calls it
    /// just before [`AudioOutput::release`]. (Measured in the VM: released
    /// as soon as the first video frame was out, a 0.33 s clip underran 3
    /// times in its first 100 ms while the decoder was still starting.)
    /// Returns the frames buffered when it returned.
    pub fn wait_prefill(&self, timeout: Duration) -> u64 {
        self.shared.wait_prefill(timeout)
    }

    /// Ends [`AudioOutput::hold`]: the next data callback plays the ring.
    pub fn release(&self) {
        self.shared.held.store(false, Ordering::Release);
    }

    /// `--volume`, 0..=100 (clamped).
    pub fn set_volume(&self, v: u32) {
        self.shared.volume.store(v.min(100), Ordering::Relaxed);
    }

    /// The current volume, 0..=100.
    pub fn volume(&self) -> u32 {
        self.shared.volume.load(Ordering::Relaxed)
    }

    /// Mute on / off (the volume is kept).
    pub fn set_muted(&self, m: bool) {
        self.shared.muted.store(m, Ordering::Relaxed);
    }

    /// Whether muted.
    pub fn muted(&self) -> bool {
        self.shared.muted.load(Ordering::Relaxed)
    }

    /// Underruns so far: ring-dry callbacks plus ALSA xruns.
    pub fn underruns(&self) -> u64 {
        self.shared.underruns.load(Ordering::Relaxed) + self.shared.xruns.load(Ordering::Relaxed)
    }

    /// Whether the writer said the stream's audio has ended ([`RingWriter::finish`]).
    pub fn ended(&self) -> bool {
        lock(&self.shared.ring).ended
    }

    /// Of [`AudioOutput::underruns`]: (ring-dry callbacks, ALSA xruns).
    pub fn underrun_kinds(&self) -> (u64, u64) {
        (
            self.shared.underruns.load(Ordering::Relaxed),
            self.shared.xruns.load(Ordering::Relaxed),
        )
    }

    /// Frames still queued in the ring (not counting the device's buffer).
    pub fn queued_frames(&self) -> u64 {
        lock(&self.shared.ring).frames
    }
}

impl Drop for AudioOutput {
    fn drop(&mut self) {
        self.writer().close();
    }
}

/// `SCHED_FIFO` priority of the device's callback thread
/// ([`promote_to_real_time`]): rtkit's default ceiling (`RLIMIT_RTPRIO` 20
/// in `rtkit-daemon`'s defaults), below the kernel's own threads.
pub const RT_PRIORITY: u8 = 20;

/// `SCHED_FIFO` priority of the player's audio decode thread: below the
/// callback thread, above every normal thread (the video thread, the
/// demuxer), so that decoding the sound never waits on decoding the picture.
pub const DECODE_RT_PRIORITY: u8 = 10;

/// Puts the calling thread (`what`, for the log) under `SCHED_FIFO` at
/// `priority`, as audio servers do for their data threads, so that the
/// video thread, the demuxer and the decoder's kernel work cannot keep it
/// from feeding the device in time: cpal's ALSA callback thread on its
/// first callback ([`RT_PRIORITY`]) and the player's audio decode thread
/// ([`DECODE_RT_PRIORITY`]). Allowed for root or within `RLIMIT_RTPRIO`;
/// otherwise the thread keeps its normal policy (one debug line says why).
/// Measured in the VM (QEMU TCG, 2 vCPUs): without it, the 30 s loop clip
/// had a device xrun in some runs, and a 1080p clip's sound slipped once
/// the visl decode of its picture loaded both CPUs.
pub fn promote_to_real_time(priority: u8, what: &str) {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy,
        ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    };
    let r = ThreadPriorityValue::try_from(priority)
        .map_err(|e| e.to_string())
        .and_then(|v| {
            set_thread_priority_and_policy(
                thread_native_id(),
                ThreadPriority::Crossplatform(v),
                ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
            )
            .map_err(|e| format!("{e:?}"))
        });
    match r {
        Ok(()) => tracing::debug!("audio: {what} thread SCHED_FIFO {priority}"),
        Err(e) => tracing::debug!("audio: {what} thread stays unprivileged ({e})"),
    }
}

fn build<T>(
    dev: &cpal::Device,
    cfg: &cpal::StreamConfig,
    shared: &Arc<Shared>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let s = shared.clone();
    let e = shared.clone();
    let mut scratch: Vec<f32> = Vec::new();
    let mut promoted = false;
    dev.build_output_stream::<T, _, _>(
        *cfg,
        move |out: &mut [T], info: &cpal::OutputCallbackInfo| {
            if !promoted {
                promoted = true;
                promote_to_real_time(RT_PRIORITY, "device callback");
            }
            let at = Instant::now();
            let ts = info.timestamp();
            let delay = ts.playback.saturating_duration_since(ts.callback);
            if scratch.len() != out.len() {
                scratch.resize(out.len(), 0.0);
            }
            s.fill(&mut scratch, at, delay);
            for (o, v) in out.iter_mut().zip(&scratch) {
                *o = T::from_sample(*v);
            }
        },
        move |err: cpal::Error| {
            if err.kind() == cpal::ErrorKind::Xrun {
                e.xruns.fetch_add(1, Ordering::Relaxed);
            } else {
                tracing::warn!("audio output: {err}");
            }
        },
        Some(Duration::from_secs(2)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(rate: u32, ch: u16) -> (Arc<Shared>, RingWriter) {
        let s = Arc::new(Shared::new(rate, ch, AudioClock::new()));
        (s.clone(), RingWriter { shared: s })
    }

    #[test]
    fn volume_curve_is_cubic() {
        assert_eq!(volume_gain(100), 1.0);
        assert_eq!(volume_gain(0), 0.0);
        assert!((volume_gain(50) - 0.125).abs() < 1e-6);
        assert_eq!(volume_gain(250), 1.0);
    }

    #[test]
    fn device_names_follow_mpv_syntax() {
        assert_eq!(pcm_name("auto").unwrap(), "default");
        assert_eq!(pcm_name("alsa").unwrap(), "default");
        assert_eq!(pcm_name("alsa/hw:Loopback,0,0").unwrap(), "hw:Loopback,0,0");
        assert!(pcm_name("pulse/foo").is_err());
        assert!(pcm_name("alsa/").is_err());
        assert_eq!(
            pcm_candidates("hw:Loopback,0,0"),
            ["hw:Loopback,0,0", "hw:CARD=Loopback,DEV=0"]
        );
        assert_eq!(pcm_candidates("hw:1"), ["hw:1", "hw:CARD=1,DEV=0"]);
        assert_eq!(
            pcm_candidates("plughw:CARD=PCH"),
            ["plughw:CARD=PCH", "plughw:CARD=PCH,DEV=0"]
        );
        assert_eq!(pcm_candidates("default"), ["default"]);
    }

    #[test]
    fn period_is_half_the_buffer_within_the_device_range() {
        let any = cpal::SupportedBufferSize::Unknown;
        assert_eq!(period_frames(48_000, DEFAULT_BUFFER, &any), 4800);
        assert_eq!(period_frames(44_100, DEFAULT_BUFFER, &any), 4410);
        let ms80 = Duration::from_millis(80);
        assert_eq!(period_frames(48_000, ms80, &any), 1920);
        let r = cpal::SupportedBufferSize::Range {
            min: 2048,
            max: 4096,
        };
        assert_eq!(period_frames(48_000, ms80, &r), 2048);
        assert_eq!(period_frames(48_000, DEFAULT_BUFFER, &r), 4096);
        let r = cpal::SupportedBufferSize::Range { min: 64, max: 1024 };
        assert_eq!(period_frames(48_000, ms80, &r), 1024);
        assert_eq!(period_frames(48_000, Duration::ZERO, &any), 1);
    }

    #[test]
    fn prefill_waits_for_prefill_ms_or_the_end() {
        let (w, r, _) = super::ring(1000, 1);
        // empty: waits the whole timeout
        let t = Instant::now();
        assert_eq!(r.wait_prefill(Duration::from_millis(30)), 0);
        assert!(t.elapsed() >= Duration::from_millis(30));
        // 100 of the 200 frames wanted: still waits
        assert!(w.push(0, vec![0.0; 100]));
        assert_eq!(r.wait_prefill(Duration::from_millis(10)), 100);
        // a writer filling it in another thread ends the wait before the timeout
        let w2 = w.clone();
        let filler = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            w2.push(100_000_000, vec![0.0; 110])
        });
        let t = Instant::now();
        assert_eq!(r.wait_prefill(Duration::from_secs(10)), 210);
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(filler.join().unwrap());
        // a short stream that has ended does not wait
        let (w, r, _) = super::ring(1000, 1);
        assert!(w.push(0, vec![0.0; 10]));
        w.finish();
        let t = Instant::now();
        assert_eq!(r.wait_prefill(Duration::from_secs(10)), 10);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn callback_plays_in_order_with_gain_and_pts_and_counts_underruns() {
        let (s, w) = ring(1000, 2);
        let t0 = Instant::now();
        // before any audio: silence, no underrun, clock not started
        let mut out = vec![1.0f32; 8];
        s.fill(&mut out, t0, Duration::from_millis(10));
        assert!(out.iter().all(|v| *v == 0.0));
        assert_eq!(s.underruns.load(Ordering::Relaxed), 0);
        assert_eq!(s.clock.at_ns(t0), None);

        assert!(w.push(5_000_000_000, vec![0.5, -0.5, 0.25, -0.25, 0.1, -0.1]));
        assert!(w.push(5_003_000_000, vec![0.2, 0.2]));
        s.volume.store(50, Ordering::Relaxed);
        let mut out = vec![0f32; 4]; // 2 frames
        s.fill(&mut out, t0, Duration::from_millis(10));
        assert_eq!(out, [0.0625, -0.0625, 0.03125, -0.03125]);
        // heard at t0: pts 5 s − 10 ms
        assert_eq!(s.clock.at_ns(t0), Some(4_990_000_000));
        s.volume.store(100, Ordering::Relaxed);
        let mut out = vec![0f32; 6]; // 3 frames: 1 of chunk 1, 1 of chunk 2, 1 short
        let t1 = t0 + Duration::from_millis(2);
        s.fill(&mut out, t1, Duration::from_millis(10));
        assert_eq!(out, [0.1, -0.1, 0.2, 0.2, 0.0, 0.0]);
        // the first frame written at t1 was the third of chunk 1: pts 5.002 s
        assert_eq!(s.clock.at_ns(t1), Some(4_992_000_000));
        // the dry ring is an underrun only when more audio comes after it
        assert_eq!(s.underruns.load(Ordering::Relaxed), 0);
        assert_eq!(w.queued_frames(), 0);
        // held: silence, the ring is left alone
        w.push(5_500_000_000, vec![0.7, 0.7]);
        assert_eq!(s.underruns.load(Ordering::Relaxed), 1);
        s.held.store(true, Ordering::Relaxed);
        let mut out = vec![1f32; 2];
        s.fill(&mut out, t1, Duration::ZERO);
        assert_eq!(out, [0.0, 0.0]);
        assert_eq!(w.queued_frames(), 1);
        s.held.store(false, Ordering::Relaxed);
        s.fill(&mut out, t1, Duration::ZERO);
        assert_eq!(out, [0.7, 0.7]);
        // muted: zeros, still consumed
        s.muted.store(true, Ordering::Relaxed);
        w.push(6_000_000_000, vec![0.9, 0.9]);
        let mut out = vec![1f32; 2];
        s.fill(&mut out, t1, Duration::ZERO);
        assert_eq!(out, [0.0, 0.0]);
        // dry before the writer learnt that its last push was the end (it
        // finishes after the demuxer's end of stream): no underrun
        w.push(6_100_000_000, vec![0.3, 0.3]);
        let mut two = vec![1f32; 4];
        s.fill(&mut two, t1, Duration::ZERO);
        w.finish();
        // after the end of the stream a dry ring is no underrun
        s.fill(&mut out, t1, Duration::ZERO);
        assert_eq!(s.underruns.load(Ordering::Relaxed), 1);
        // dry, then a seek's flush: no underrun either
        w.push(7_000_000_000, vec![0.3, 0.3]);
        s.fill(&mut two, t1, Duration::ZERO);
        w.flush();
        w.push(8_000_000_000, vec![0.3, 0.3]);
        assert_eq!(s.underruns.load(Ordering::Relaxed), 1);
        // dry, then more audio: one underrun
        s.fill(&mut two, t1, Duration::ZERO);
        w.push(8_100_000_000, vec![0.3, 0.3]);
        assert_eq!(s.underruns.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn writer_blocks_while_full_and_close_releases_it() {
        let (s, w) = ring(1000, 1);
        let cap = u64::from(RING_MS); // frames at 1000 Hz
        let n = |f: u64| vec![0.0; f as usize];
        assert!(w.push(0, n(cap - 50)));
        assert!(w.push(1, n(100))); // cap + 50 ≥ cap now
        let w2 = w.clone();
        let h = std::thread::spawn(move || w2.push(2, vec![0.0; 10]));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!h.is_finished(), "push into a full ring must wait");
        // the callback drains 100 frames → room
        let mut out = vec![0f32; 100];
        s.fill(&mut out, Instant::now(), Duration::ZERO);
        assert!(h.join().unwrap());
        assert_eq!(w.queued_frames(), cap - 50 + 10);
        // full again; close wakes the writer with false
        assert!(w.push(3, n(100)));
        let w3 = w.clone();
        let h = std::thread::spawn(move || w3.push(4, vec![0.0; 10]));
        std::thread::sleep(Duration::from_millis(20));
        w.close();
        assert!(!h.join().unwrap());
    }

    #[test]
    fn flush_forgets_audio_and_clock() {
        let (s, w) = ring(1000, 1);
        w.push(0, vec![0.5; 50]);
        let mut out = vec![0f32; 10];
        let t = Instant::now();
        s.fill(&mut out, t, Duration::ZERO);
        assert!(s.clock.at_ns(t).is_some());
        w.flush();
        assert_eq!(w.queued_frames(), 0);
        assert_eq!(s.clock.at_ns(t), None);
        s.fill(&mut out, t, Duration::ZERO);
        assert_eq!(
            s.underruns.load(Ordering::Relaxed),
            0,
            "not started after flush"
        );
    }

    #[test]
    fn opening_a_missing_device_is_a_one_line_error() {
        let e = AudioOutput::open("alsa/hw:NoSuchCard,0,0", 48_000, 2, DEFAULT_BUFFER).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("NoSuchCard") && !m.contains('\n'), "{m}");
    }
}
