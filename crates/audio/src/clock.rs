//! The audio clock: which stream pts is being **heard** now, from what the
//! output device reports, not from what was written.
//!
//! At every data callback the output tells the clock ([`AudioClock::on_callback`]):
//! the pts of the first stream frame it writes into the device (`first_pts_ns`),
//! how many real (not silence) frames follow it, and the device delay — cpal's
//! `OutputCallbackInfo::timestamp()`, `playback − callback`: how long until
//! the first frame written now leaves the DAC (cpal's ALSA host computes it
//! from `snd_pcm_avail_delay`'s delay in frames, see `cpal/src/host/alsa/mod.rs`
//! `process_output`). The frame written now is heard at
//! `callback + delay`; so at CLOCK_MONOTONIC time `t` the stream is at
//!
//! ```text
//! heard(t) = first_pts − delay + (t − t_callback) − converter_delay
//! ```
//!
//! extrapolated between callbacks on CLOCK_MONOTONIC (`std::time::Instant`),
//! capped at the end of the real audio written (so an underrun or the end of
//! the stream holds the clock instead of running ahead of the sound) for at
//! most [`STALL_MAX_NS`], after which it runs on as a wall clock (a stream
//! whose audio stops — a gap in the file, a stalled decoder — never stops the
//! picture; mpv likewise lets video continue on the system clock at audio
//! EOF, `player/audio.c` / `video.c`). Frozen while paused. The
//! `converter_delay` is the resampler's latency (`mix::Converter::delay_frames`),
//! converted to ns at the output rate: the samples in the ring are already
//! converted, the pts they carry is the decoder's, so the output is that much
//! behind.
//!
//! Readers ([`AudioClock::now_ns`]) take a short mutex that no one holds across
//! I/O or a wait (the callback holds it for a few arithmetic operations).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long (ns) the clock holds at the end of the real audio written before
/// it runs on as a wall clock: 250 ms, longer than one ring of audio
/// (an underrun that recovers within it costs no video frame).
pub const STALL_MAX_NS: i64 = 250_000_000;

/// One data callback as the clock sees it (synthetic ones in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackInfo {
    /// CLOCK_MONOTONIC instant the callback ran.
    pub at: Instant,
    /// cpal `playback − callback`: time until the first frame written now is heard.
    pub delay: Duration,
    /// Stream pts (ns) of the first real frame written in this callback, `None`
    /// if the callback wrote only silence (ring dry / not started).
    pub first_pts_ns: Option<i64>,
    /// Real (non-silence) frames written after `first_pts_ns`, at `rate` Hz.
    pub frames: u64,
    /// Output sample rate (Hz).
    pub rate: u32,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    at: Instant,
    /// Stream pts (ns) heard at `at` (delay already subtracted, converter delay not).
    pts_ns: i64,
    /// Stream pts (ns) where the real audio written so far ends.
    end_ns: i64,
}

#[derive(Debug, Default)]
struct State {
    anchor: Option<Anchor>,
    /// `Some(pts)` while paused: the value the clock is frozen at.
    paused: Option<i64>,
    /// Resampler latency in ns, subtracted from every reading.
    converter_delay_ns: i64,
    /// The stream's audio has ended (no more to come): no stall hold at the end.
    ended: bool,
}

/// The audio clock (cheap to clone; every clone reads the same clock).
#[derive(Debug, Clone, Default)]
pub struct AudioClock {
    state: Arc<Mutex<State>>,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // The state is plain numbers: a panic elsewhere cannot leave it inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn dur_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// `frames` at `rate` Hz in ns (0 for rate 0).
pub fn frames_to_ns(frames: u64, rate: u32) -> i64 {
    if rate == 0 {
        return 0;
    }
    i64::try_from(u128::from(frames) * 1_000_000_000 / u128::from(rate)).unwrap_or(i64::MAX)
}

impl AudioClock {
    /// A clock that has not started ([`AudioClock::now_ns`] is `None` until
    /// the first callback that writes real audio).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one data callback. A callback that wrote real audio
    /// re-anchors the clock (so pts jumps and gaps resynchronise at the next
    /// callback); a silent one (underrun) keeps the old anchor, which then
    /// holds at the end of the audio written (see the module doc).
    pub fn on_callback(&self, cb: &CallbackInfo) {
        let Some(first) = cb.first_pts_ns else {
            return;
        };
        let mut s = lock(&self.state);
        s.ended = false;
        s.anchor = Some(Anchor {
            at: cb.at,
            pts_ns: first - dur_ns(cb.delay),
            end_ns: first + frames_to_ns(cb.frames, cb.rate),
        });
    }

    /// Sets the converter's latency (`mix::Converter::delay_frames` at the
    /// output rate `rate`, Hz).
    pub fn set_converter_delay(&self, frames: u64, rate: u32) {
        lock(&self.state).converter_delay_ns = frames_to_ns(frames, rate);
    }

    /// The stream's audio has ended: after the last sample is heard the
    /// clock runs on as a wall clock at once (no stall hold).
    pub fn set_ended(&self) {
        lock(&self.state).ended = true;
    }

    /// Freezes the clock at its value at `at` (pause).
    pub fn pause_at(&self, at: Instant) {
        let mut s = lock(&self.state);
        if s.paused.is_none() {
            s.paused = Some(Self::read(&s, at).unwrap_or(0));
        }
    }

    /// Unfreezes the clock at `at` (resume): it runs on from the frozen value
    /// until the next callback re-anchors it.
    pub fn resume_at(&self, at: Instant) {
        let mut s = lock(&self.state);
        if let Some(v) = s.paused.take() {
            let pts_ns = v + s.converter_delay_ns;
            if let Some(a) = s.anchor.as_mut() {
                // the audio written before the pause is still to be heard: keep its end
                a.at = at;
                a.pts_ns = pts_ns;
            }
        }
    }

    /// Discontinuity (seek / restart): forgets the anchor; the clock reads
    /// `None` until the next callback with real audio.
    pub fn reset(&self) {
        let mut s = lock(&self.state);
        s.anchor = None;
        s.ended = false;
    }

    /// The stream pts (ns) heard now, `None` before the first real audio.
    pub fn now_ns(&self) -> Option<i64> {
        self.at_ns(Instant::now())
    }

    /// The stream pts (ns) heard at CLOCK_MONOTONIC instant `t` (≥ the last
    /// callback's instant), `None` before the first real audio.
    pub fn at_ns(&self, t: Instant) -> Option<i64> {
        let s = lock(&self.state);
        Self::read(&s, t)
    }

    /// Whether the clock is frozen (paused).
    pub fn is_paused(&self) -> bool {
        lock(&self.state).paused.is_some()
    }

    fn read(s: &State, t: Instant) -> Option<i64> {
        if let Some(v) = s.paused {
            return Some(v);
        }
        let a = s.anchor?;
        let elapsed = t
            .checked_duration_since(a.at)
            .map(dur_ns)
            .unwrap_or_else(|| -dur_ns(a.at - t));
        let raw = a.pts_ns + elapsed;
        let hold = if s.ended { 0 } else { STALL_MAX_NS };
        let v = if raw <= a.end_ns {
            raw
        } else if raw - a.end_ns <= hold {
            a.end_ns
        } else {
            raw - hold
        };
        Some(v - s.converter_delay_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn cb(at: Instant, delay_ms: u64, first_ms: Option<i64>, frames: u64) -> CallbackInfo {
        CallbackInfo {
            at,
            delay: Duration::from_millis(delay_ms),
            first_pts_ns: first_ms.map(|m| m * MS),
            frames,
            rate: 48_000,
        }
    }

    #[test]
    fn not_started_until_real_audio() {
        let c = AudioClock::new();
        let t0 = Instant::now();
        assert_eq!(c.at_ns(t0), None);
        c.on_callback(&cb(t0, 40, None, 0));
        assert_eq!(c.at_ns(t0), None);
    }

    #[test]
    fn heard_is_written_pts_minus_device_delay_and_runs_on_the_monotonic_clock() {
        let c = AudioClock::new();
        let t0 = Instant::now();
        // writing pts 1000 ms (960 frames = 20 ms) with 40 ms in the device
        c.on_callback(&cb(t0, 40, Some(1000), 960));
        assert_eq!(c.at_ns(t0), Some(960 * MS));
        assert_eq!(c.at_ns(t0 + Duration::from_millis(15)), Some(975 * MS));
        // the next callback 20 ms later re-anchors
        let t1 = t0 + Duration::from_millis(20);
        c.on_callback(&cb(t1, 38, Some(1020), 960));
        assert_eq!(c.at_ns(t1), Some(982 * MS));
        assert_eq!(c.at_ns(t1 + Duration::from_millis(10)), Some(992 * MS));
    }

    #[test]
    fn converter_delay_is_subtracted() {
        let c = AudioClock::new();
        let t0 = Instant::now();
        c.set_converter_delay(480, 48_000); // 10 ms
        c.on_callback(&cb(t0, 40, Some(1000), 960));
        assert_eq!(c.at_ns(t0), Some(950 * MS));
    }

    #[test]
    fn underrun_holds_at_the_end_of_the_audio_then_runs_as_a_wall_clock() {
        let c = AudioClock::new();
        let t0 = Instant::now();
        c.on_callback(&cb(t0, 40, Some(1000), 960)); // audio up to 1020 ms
                                                     // silent callbacks do not move the anchor
        c.on_callback(&cb(t0 + Duration::from_millis(20), 40, None, 0));
        let at = |ms: u64| c.at_ns(t0 + Duration::from_millis(ms)).unwrap() / MS;
        assert_eq!(at(60), 1020); // 960 + 60 = 1020: the end
        assert_eq!(at(100), 1020); // held
        assert_eq!(at(60 + 250), 1020); // held for STALL_MAX
        assert_eq!(at(60 + 250 + 30), 1050); // then runs on
                                             // at the end of the stream there is no hold
        c.set_ended();
        assert_eq!(at(100), 1060);
    }

    #[test]
    fn pause_freezes_and_resume_runs_on_from_the_frozen_value() {
        let c = AudioClock::new();
        let t0 = Instant::now();
        c.on_callback(&cb(t0, 40, Some(1000), 9600)); // 200 ms written
        c.pause_at(t0 + Duration::from_millis(10));
        assert!(c.is_paused());
        assert_eq!(c.at_ns(t0 + Duration::from_secs(5)), Some(970 * MS));
        let t1 = t0 + Duration::from_secs(5);
        c.resume_at(t1);
        assert!(!c.is_paused());
        assert_eq!(c.at_ns(t1 + Duration::from_millis(30)), Some(1000 * MS));
        // the audio written before the pause still bounds the extrapolation
        assert_eq!(c.at_ns(t1 + Duration::from_millis(230)), Some(1200 * MS));
        assert_eq!(c.at_ns(t1 + Duration::from_millis(330)), Some(1200 * MS));
    }

    #[test]
    fn a_pts_jump_re_anchors_at_the_next_callback() {
        let c = AudioClock::new();
        let t0 = Instant::now();
        c.on_callback(&cb(t0, 40, Some(1000), 960));
        let t1 = t0 + Duration::from_millis(20);
        c.on_callback(&cb(t1, 40, Some(5000), 960));
        assert_eq!(c.at_ns(t1), Some(4960 * MS));
        c.reset();
        assert_eq!(c.at_ns(t1), None);
    }

    #[test]
    fn frames_to_ns_is_exact_for_common_rates() {
        assert_eq!(frames_to_ns(48_000, 48_000), 1_000_000_000);
        assert_eq!(frames_to_ns(441, 44_100), 10_000_000);
        assert_eq!(frames_to_ns(1, 0), 0);
    }
}
