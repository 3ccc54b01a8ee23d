//! The player's sound: picking the audio track (`--aid`), opening the output
//! (`--audio-device`), and the audio thread (decode → convert → ring).
//!
//! The audio thread waits only on the audio packet queue (for input) and
//! on the output ring (for room); it never waits on the video thread or the
//! compositor. Discontinuities: a decoded frame whose pts lies more than
//! [`GAP_TOLERANCE_NS`] after where the previous one ended is preceded by
//! silence up to [`MAX_SILENCE_NS`] (the picture keeps its pace through a
//! gap in the audio); a larger jump, or one backwards, restarts the output
//! timeline at the new pts (the clock re-anchors when it is heard).
//! A corrupt frame is skipped (the decoder stays usable) and counted.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use vreq_audio::clock::frames_to_ns;
use vreq_audio::decode::{AudioDecoder, AudioError};
use vreq_audio::mix::Converter;
use vreq_audio::output::{AudioOutput, RingWriter};
use vreq_container::{TrackCodec, TrackInfo};

use super::queues::{Queues, Stream};

/// A pts step up to this much (ns) between decoded frames is continuous.
pub const GAP_TOLERANCE_NS: i64 = 40_000_000;
/// Gaps up to this long (ns) are filled with silence; longer jumps restart
/// the timeline.
pub const MAX_SILENCE_NS: i64 = 2_000_000_000;
/// Corrupt-frame warnings printed before they are only counted.
const MAX_CORRUPT_WARNINGS: u64 = 5;

/// `--aid`: mpv's audio track selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aid {
    /// The first audio track (mpv `--aid=auto`).
    #[default]
    Auto,
    /// No audio (mpv `--aid=no`).
    No,
    /// The N-th audio track, 1-based in file order (mpv's numbering).
    Track(u32),
}

impl std::str::FromStr for Aid {
    type Err = String;
    /// `auto`, `no`, or a number ≥ 1.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Aid::Auto),
            "no" => Ok(Aid::No),
            n => match n.parse::<u32>() {
                Ok(v) if v >= 1 => Ok(Aid::Track(v)),
                _ => Err(format!("{n}: expected auto, no or a track number ≥ 1")),
            },
        }
    }
}

/// The audio track `aid` names among `tracks`. `Err` (a one-line warning)
/// when `--aid N` names a track the file lacks: mpv then plays without sound.
pub fn select_audio_track(tracks: &[TrackInfo], aid: Aid) -> Result<Option<TrackInfo>, String> {
    let mut audio = tracks
        .iter()
        .filter(|t| matches!(t.codec, TrackCodec::Audio(_)));
    match aid {
        Aid::No => Ok(None),
        Aid::Auto => Ok(audio.next().cloned()),
        Aid::Track(n) => {
            let all: Vec<&TrackInfo> = audio.collect();
            all.get(n as usize - 1)
                .map(|t| Some((*t).clone()))
                .ok_or_else(|| {
                    format!(
                        "--aid={n}: the file has {} audio track(s); playing without sound",
                        all.len()
                    )
                })
        }
    }
}

/// The one line the player prints when an audio track cannot be decoded.
pub fn unsupported_message(e: &AudioError, track: &TrackInfo) -> String {
    match e {
        AudioError::Unsupported { codec } => {
            format!("audio: {codec} not supported, playing without sound")
        }
        e => format!("audio: track {}: {e}; playing without sound", track.id),
    }
}

/// What the audio thread did.
#[derive(Debug, Clone, Default)]
pub struct AudioThreadStats {
    /// Frames decoded (at the stream rate).
    pub frames: u64,
    /// Corrupt frames skipped.
    pub corrupt: u64,
    /// Gaps filled with silence.
    pub gaps: u64,
    /// Timeline restarts (large or backwards pts jumps).
    pub resyncs: u64,
}

/// A running audio thread.
pub struct AudioThread {
    pub codec: String,
    handle: JoinHandle<AudioThreadStats>,
}

impl AudioThread {
    /// Waits for the thread (it ends at the end of the audio queue or when
    /// the output closes).
    pub fn join(self) -> AudioThreadStats {
        self.handle.join().unwrap_or_default()
    }

    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// Starts the audio thread for `track`: builds the decoder there (decoders
/// need not be `Send`) and reports its codec name, or the decoder's error
/// (then the thread has ended and the caller plays without sound).
pub fn spawn_audio(
    input: &Path,
    track: TrackInfo,
    queues: Queues,
    writer: RingWriter,
) -> Result<AudioThread, AudioError> {
    let (tx, rx) = mpsc::sync_channel(1);
    let input = input.to_owned();
    let handle = std::thread::Builder::new()
        .name("vreq-audio".into())
        .spawn(move || {
            vreq_audio::output::promote_to_real_time(
                vreq_audio::output::DECODE_RT_PRIORITY,
                "decode",
            );
            let dec = match AudioDecoder::new(&track) {
                Ok(d) => {
                    let _ = tx.send(Ok(d.codec_name().to_owned()));
                    d
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    queues.abandon(Stream::Audio);
                    return AudioThreadStats::default();
                }
            };
            let stats = audio_loop(&input, &track, dec, &queues, &writer);
            queues.abandon(Stream::Audio);
            writer.finish();
            stats
        })
        .map_err(|e| AudioError::Output(format!("audio thread: {e}")))?;
    match rx.recv() {
        Ok(Ok(codec)) => Ok(AudioThread { codec, handle }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(AudioError::Output("audio thread ended at start".into())),
    }
}

/// Where the output timeline stands.
struct Timeline {
    /// Expected pts (ns) of the next decoded frame.
    next_in: Option<i64>,
    /// Pts (ns) of the next sample pushed to the ring.
    out: i64,
}

fn audio_loop(
    input: &Path,
    track: &TrackInfo,
    mut dec: AudioDecoder,
    queues: &Queues,
    writer: &RingWriter,
) -> AudioThreadStats {
    let (out_rate, out_ch) = writer.format();
    let mut stats = AudioThreadStats::default();
    let mut conv: Option<(Converter, u32, u16)> = None;
    let mut tl = Timeline {
        next_in: None,
        out: 0,
    };
    let mut generation = 0;
    // after a seek: sound before this pts (ns) is dropped
    let mut from: Option<i64> = None;
    loop {
        while let Some((pkt, g, start)) = queues.pop_audio() {
            if g != generation {
                // a seek: forget what is queued and the decoder's state
                generation = g;
                writer.flush();
                dec.reset();
                conv = None;
                tl = Timeline {
                    next_in: None,
                    out: 0,
                };
                from = start;
                queues.ack_audio(g);
            }
            let decoded = dec.decode(&pkt);
            let byte_offset = pkt.byte_offset;
            // decoded: the demux thread reads a later packet into it
            queues.give_back(pkt);
            let mut pcm = match decoded {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(e) => {
                    stats.corrupt += 1;
                    if stats.corrupt <= MAX_CORRUPT_WARNINGS {
                        tracing::warn!(
                            "{}: audio track {} byte {}: {e}; frame skipped",
                            input.display(),
                            track.id,
                            byte_offset
                        );
                    }
                    continue;
                }
            };
            let ch = usize::from(pcm.channels.max(1));
            if let (Some(f), Some(p)) = (from, pcm.pts_ns) {
                // the sound restarts with the picture: drop what lies before
                let skip = trim_frames(p, f, pcm.sample_rate);
                if skip > 0 {
                    let n = (skip as usize * ch).min(pcm.samples.len());
                    pcm.samples.drain(..n);
                    pcm.pts_ns = Some(p + frames_to_ns(skip, pcm.sample_rate));
                }
                if pcm.samples.is_empty() {
                    continue;
                }
                from = None;
            }
            let frames = (pcm.samples.len() / ch) as u64;
            if frames == 0 || pcm.sample_rate == 0 {
                continue;
            }
            stats.frames += frames;
            // (re)build the converter on a format change
            if conv
                .as_ref()
                .is_none_or(|(_, r, c)| (*r, *c) != (pcm.sample_rate, pcm.channels))
            {
                match Converter::new(pcm.sample_rate, pcm.channels, out_rate, out_ch) {
                    Ok(c) => {
                        if let Some((mut old, _, _)) = conv.take() {
                            let tail = old.flush();
                            let n = tail.len() / usize::from(out_ch.max(1));
                            if !writer.push(tl.out, tail) {
                                return stats;
                            }
                            tl.out += frames_to_ns(n as u64, out_rate);
                        }
                        writer.set_converter_delay(c.delay_frames());
                        conv = Some((c, pcm.sample_rate, pcm.channels));
                    }
                    Err(e) => {
                        tracing::warn!(
                            "audio: {} Hz × {} → {out_rate} Hz × {out_ch}: {e}; frame skipped",
                            pcm.sample_rate,
                            pcm.channels
                        );
                        continue;
                    }
                }
            }
            let Some((c, _, _)) = conv.as_mut() else {
                continue;
            };
            let pts = pcm.pts_ns.or(tl.next_in).unwrap_or(0);
            match tl.next_in {
                None => tl.out = pts,
                Some(exp) => {
                    let d = pts - exp;
                    if d > GAP_TOLERANCE_NS && d <= MAX_SILENCE_NS {
                        stats.gaps += 1;
                        tracing::debug!(
                            "audio: {} ms gap at pts {exp} filled with silence",
                            d / 1_000_000
                        );
                        let n = (i128::from(d) * i128::from(out_rate) / 1_000_000_000) as usize;
                        if !writer.push(tl.out, vec![0.0; n * usize::from(out_ch)]) {
                            return stats;
                        }
                        tl.out += frames_to_ns(n as u64, out_rate);
                    } else if d.abs() > GAP_TOLERANCE_NS {
                        stats.resyncs += 1;
                        tracing::info!("audio: pts jump {exp} → {pts} ns; resync");
                        tl.out = pts;
                    }
                }
            }
            tl.next_in = Some(pts + frames_to_ns(frames, pcm.sample_rate));
            let out = c.process(&pcm.samples);
            let n = out.len() / usize::from(out_ch.max(1));
            if !writer.push(tl.out, out) {
                return stats;
            }
            tl.out += frames_to_ns(n as u64, out_rate);
        }
        if let Some((c, _, _)) = conv.as_mut() {
            let tail = c.flush();
            let n = tail.len() / usize::from(out_ch.max(1));
            writer.push(tl.out, tail);
            tl.out += frames_to_ns(n as u64, out_rate);
        }
        // the end of this generation's sound; a seek may start another
        writer.finish();
        if !queues.wait_generation_after(generation) {
            return stats;
        }
    }
}

/// Frames (at `rate` Hz) to drop from the start of decoded audio at
/// `pts_ns` so that what is left starts at `from_ns` (0 when it already
/// does; may exceed the frames decoded).
pub fn trim_frames(pts_ns: i64, from_ns: i64, rate: u32) -> u64 {
    if pts_ns >= from_ns || rate == 0 {
        return 0;
    }
    let d = (from_ns - pts_ns) as u128;
    (d * u128::from(rate)).div_ceil(1_000_000_000) as u64
}

/// Opens the output for `track` on `device` (`--audio-device`); the stream
/// starts held ([`AudioOutput::hold`]). Errors: one line for the user.
pub fn open_output(
    device: &str,
    track: &TrackInfo,
    volume: u32,
    buffer: std::time::Duration,
) -> Result<AudioOutput, AudioError> {
    let (rate, ch) = track
        .audio
        .map(|a| (a.sample_rate, a.channels))
        .unwrap_or((0, 0));
    let out = AudioOutput::open(device, rate, ch, buffer)?;
    out.hold();
    out.set_volume(volume);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use vreq_container::{AudioCodec, AudioParams, Packet, PcmFormat};

    fn pcm_track() -> TrackInfo {
        TrackInfo {
            id: 2,
            codec: TrackCodec::Audio(AudioCodec::Pcm(PcmFormat {
                bits: 16,
                float: false,
                big_endian: false,
                signed: true,
            })),
            width: 0,
            height: 0,
            frame_duration_ns: None,
            duration_ns: None,
            codec_private: Default::default(),
            presentation_window_ns: None,
            pixel_aspect: None,
            crop: None,
            audio: Some(AudioParams {
                sample_rate: 1000,
                channels: 1,
                skip_samples: 0,
            }),
        }
    }

    /// `n` s16le samples of value `v`, at `pts_ms`.
    fn pkt(pts_ms: i64, n: usize, v: i16) -> Packet {
        Packet {
            track: 2,
            data: v.to_le_bytes().repeat(n),
            pts_ns: Some(pts_ms * 1_000_000),
            dts_ns: None,
            duration_ns: None,
            keyframe: true,
            byte_offset: pts_ms as u64,
            discard_padding_ns: 0,
        }
    }

    /// A demuxer of scripted packets (track 2 only).
    struct Scripted(std::vec::IntoIter<Packet>);
    impl vreq_container::Demuxer for Scripted {
        fn tracks(&self) -> &[TrackInfo] {
            &[]
        }
        fn next_packet(&mut self) -> Result<Option<Packet>, vreq_container::ContainerError> {
            Ok(self.0.next())
        }
        fn seek(&mut self, _: u32, _: i64) -> Result<(), vreq_container::ContainerError> {
            Ok(())
        }
    }

    #[test]
    fn gaps_become_silence_and_jumps_restart_the_timeline() {
        // 1 kHz mono: 20 ms at 0, 20 ms at 20 (continuous), a 60 ms gap,
        // 20 ms at 100, then a jump back to 0 (a restart), 20 ms there;
        // 140 ms in all, within the 500 ms ring (nothing reads while it fills)
        let packets = vec![
            pkt(0, 20, 1000),
            pkt(20, 20, 1000),
            pkt(100, 20, 2000),
            pkt(0, 20, 3000),
        ];
        let (queues, demux) = super::super::queues::spawn_demux(
            Box::new(move || Ok(Box::new(Scripted(packets.into_iter())) as _)),
            None,
            Some(2),
        );
        let (writer, reader, clock) = vreq_audio::output::ring(1000, 1);
        let dec = AudioDecoder::new(&pcm_track()).expect("s16le decodes");
        // the loop waits for a seek at the end of the file: stop it from a second thread
        let stopper = {
            let q = queues.clone();
            let w = writer.clone();
            std::thread::spawn(move || {
                while w.queued_frames() < 140 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                q.stop();
            })
        };
        let stats = audio_loop(Path::new("x"), &pcm_track(), dec, &queues, &writer);
        stopper.join().unwrap();
        demux.join().unwrap();
        assert_eq!(
            (stats.frames, stats.gaps, stats.resyncs, stats.corrupt),
            (80, 1, 1, 0)
        );
        assert_eq!(writer.queued_frames(), 140);
        // read it all out, 10 ms at a time, noting the clock at each read
        let t0 = Instant::now();
        let mut out = Vec::new();
        let mut heard = Vec::new();
        for i in 0..16 {
            let mut buf = [9.0f32; 10];
            let at = t0 + Duration::from_millis(10 * i);
            reader.fill(&mut buf, at, Duration::ZERO);
            heard.push(clock.at_ns(at).unwrap() / 1_000_000);
            out.extend_from_slice(&buf);
        }
        let level = |v: i16| f32::from(v) / 32768.0;
        assert!(out[..40].iter().all(|s| (*s - level(1000)).abs() < 1e-6));
        assert!(out[40..100].iter().all(|s| *s == 0.0), "the gap is silence");
        assert!(out[100..120]
            .iter()
            .all(|s| (*s - level(2000)).abs() < 1e-6));
        assert!(out[120..140]
            .iter()
            .all(|s| (*s - level(3000)).abs() < 1e-6));
        assert!(out[140..].iter().all(|s| *s == 0.0), "then silence");
        // the clock follows the pts: through the gap, then back to 0 at the jump
        assert_eq!(
            &heard[..14],
            [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 0, 10]
        );
        assert_eq!(
            reader.underruns(),
            0,
            "the end of the stream is no underrun"
        );
    }

    /// 1 kHz mono s16: `n` packets of 20 ms, packet i holding the value
    /// 100·i; seeks go to the packet at or before the target.
    struct Tone {
        next: usize,
        n: usize,
    }
    impl vreq_container::Demuxer for Tone {
        fn tracks(&self) -> &[TrackInfo] {
            &[]
        }
        fn next_packet(&mut self) -> Result<Option<Packet>, vreq_container::ContainerError> {
            if self.next >= self.n {
                return Ok(None);
            }
            let i = self.next;
            self.next += 1;
            Ok(Some(pkt(20 * i as i64, 20, 100 * i as i16)))
        }
        fn seek(&mut self, _: u32, pts_ns: i64) -> Result<(), vreq_container::ContainerError> {
            self.next = ((pts_ns / 20_000_000) as usize).min(self.n);
            Ok(())
        }
    }

    #[test]
    fn a_seek_flushes_the_ring_and_the_sound_restarts_at_the_target() {
        use super::super::queues::SeekRequest;
        // 1 s of audio into a 500 ms ring nobody reads: the audio thread
        // blocks on a full ring when the seek comes
        let (queues, demux) = super::super::queues::spawn_demux(
            Box::new(move || Ok(Box::new(Tone { next: 0, n: 50 }) as _)),
            None,
            Some(2),
        );
        let (writer, reader, clock) = vreq_audio::output::ring(1000, 1);
        let dec = AudioDecoder::new(&pcm_track()).expect("s16le decodes");
        let thread = {
            let (q, w) = (queues.clone(), writer.clone());
            std::thread::spawn(move || audio_loop(Path::new("x"), &pcm_track(), dec, &q, &w))
        };
        let t0 = Instant::now();
        while writer.queued_frames() < 500 {
            assert!(t0.elapsed() < Duration::from_secs(5), "the ring fills");
            std::thread::sleep(Duration::from_millis(5));
        }
        // what the video thread does (Pacer::restart): post the seek, flush
        let g = queues.seek(SeekRequest {
            target_ns: 105_000_000,
            precise: true,
        });
        writer.flush();
        assert!(queues.wait_audio_ack(g, Duration::from_secs(5)));
        while writer.queued_frames() < 100 {
            assert!(t0.elapsed() < Duration::from_secs(5), "new sound arrives");
            std::thread::sleep(Duration::from_millis(5));
        }
        // the first sample heard is the target's: packet 5 (100..120 ms) from 105 ms
        let mut buf = [9.0f32; 30];
        let at = Instant::now();
        reader.fill(&mut buf, at, Duration::ZERO);
        assert_eq!(clock.at_ns(at), Some(105_000_000));
        let level = |v: i16| f32::from(v) / 32768.0;
        assert!(
            buf[..15].iter().all(|s| (*s - level(500)).abs() < 1e-6),
            "{buf:?}"
        );
        assert!(
            buf[15..].iter().all(|s| (*s - level(600)).abs() < 1e-6),
            "{buf:?}"
        );
        queues.stop();
        writer.close();
        thread.join().unwrap();
        demux.join().unwrap();
    }

    #[test]
    fn trim_frames_rounds_up_to_the_target() {
        assert_eq!(trim_frames(100_000_000, 105_000_000, 1000), 5);
        assert_eq!(trim_frames(100_000_000, 100_500_000, 1000), 1);
        assert_eq!(trim_frames(105_000_000, 100_000_000, 1000), 0);
        assert_eq!(trim_frames(0, 1_000_000_000, 48_000), 48_000);
    }
}
