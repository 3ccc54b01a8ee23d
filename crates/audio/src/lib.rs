//! vreq-audio: vreqplay's sound. Decodes a container's audio track through
//! kept libraries (symphonia; libopus for Opus), converts it to what the
//! output takes (channel down-mix / mapping, rubato resampling), plays it
//! through cpal (ALSA) and keeps the audio clock the picture follows.
//!
//! Arrows (docs/ARCHITECTURE.md): container → audio → player; never v4l2
//! or present.
//!
//! - [`decode`]: [`decode::AudioDecoder`] turns one track's packets into
//!   [`decode::Pcm`] (interleaved f32, WAVE channel order, pts in ns),
//!   through symphonia 0.6.1 (AAC-LC mono / stereo, MPEG-1/2 audio layers
//!   I–III, Vorbis mono / stereo, FLAC, ALAC, PCM) and the system libopus
//!   (Opus, 1 to 8 channels). Everything else is
//!   [`decode::AudioError::Unsupported`] with ffprobe's codec name (HE-AAC,
//!   AAC or Vorbis with more than two channels, AC-3, E-AC-3, DTS, Opus
//!   ambisonics): the player says `audio: <codec> not supported,
//!   playing without sound`. Priming is dropped as ffmpeg drops it, so the
//!   sample counts are ffmpeg's (`crates/audio/tests/corpus.rs`); a corrupt
//!   packet is `AudioError::Corrupt` and the next one decodes.
//! - [`mix`]: [`mix::Converter`] maps / down-mixes channels with
//!   libswresample's default matrix and resamples with rubato when the
//!   device's rate differs; `delay_frames` is what it holds back, for the
//!   clock.

#![forbid(unsafe_code)]

pub mod decode;
pub mod mix;
pub mod output;
