//! vreqplay: the player. [`cli`] is the command line (clap; `main.rs` acts
//! on it, the `xtask` crate makes the man page and completions of it);
//! [`player`] wires the crates together. The data path (`docs/ARCHITECTURE.md`):
//!
//! ```text
//! file ─► vreq-container ─► vreq-codec ──┐ CodecEvent (Configure, Decode, Output, Unref)
//! VA client ─► vreq-va (VA buffers) ─────┤
//!                                        ▼
//!                                   vreq-engine ─► vreq-v4l2 ─► kernel
//!                                        │   DecodeJob ─► media request
//!                                        │   Completed ◄─ CAPTURE DQBUF
//!                                        ▼
//!                 DecodedFrame (vreq-frame: format, planes, dmabufs)
//!                  │                                      │
//!  vreqplay ─► vreq-present: wayland | y4m | null     vreq-va: the client's surfaces
//!
//! file ─► vreq-container ─► vreq-audio: decode ─► mix ─► output (cpal / ALSA)
//!         (audio packets)                                  │ AudioClock: the pts being heard
//!                                                          ▼
//!                                   vreqplay: each frame due at its pts on that clock
//! ```
//!
//! This is the only crate that depends on both the device crate
//! (`vreq-v4l2`) and the presentation crate (`vreq-present`).

#![forbid(unsafe_code)]

pub mod cli;
pub mod player;
