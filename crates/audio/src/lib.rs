//! vreq-audio: vreqplay's sound. Decodes a container's audio track through
//! kept libraries (symphonia; libopus for Opus), converts it to what the
//! output takes (channel down-mix / mapping, rubato resampling), plays it
//! through cpal (ALSA) and keeps the audio clock the picture follows.
//!
//! Arrows (docs/ARCHITECTURE.md): container → audio → player; never v4l2
//! or present.

#![forbid(unsafe_code)]

pub mod clock;
pub mod decode;
pub mod mix;
pub mod output;
