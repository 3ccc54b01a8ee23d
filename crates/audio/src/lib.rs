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
//!   through symphonia 0.6.1 (AAC-LC up to 5.1, MPEG-1/2 audio layers
//!   I–III, Vorbis, FLAC, ALAC, PCM; two of its crates patched,
//!   `third_party/symphonia-PATCHES.md`) and the system libopus (Opus, 1 to
//!   8 channels). Everything else is [`decode::AudioError::Unsupported`]
//!   with ffprobe's codec name (HE-AAC, AAC 7.1 or with a PCE, AC-3, E-AC-3,
//!   DTS, Opus ambisonics): the player says `audio: <codec> not supported,
//!   playing without sound`. Priming is dropped as ffmpeg drops it, so the
//!   sample counts are ffmpeg's (`crates/audio/tests/corpus.rs`); a corrupt
//!   packet is `AudioError::Corrupt` and the next one decodes.
//! - [`mix`]: [`mix::Converter`] maps / down-mixes channels with
//!   libswresample's default matrix and resamples with rubato when the
//!   device's rate differs; `delay_frames` is what it holds back, for the
//!   clock.

#![forbid(unsafe_code)]

pub mod clock;
pub mod decode;
pub mod mix;
pub mod output;
