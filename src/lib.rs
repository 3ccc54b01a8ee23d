//! vreqplay: the player. `main.rs` is the command line; [`player`] wires
//! the crates together (see `docs/ARCHITECTURE.md`):
//!
//! ```text
//! file ──► vreq-container ──► vreq-codec ──► vreq-engine ──► vreq-v4l2 (device)
//!           Packet             DecodeJob        │
//!                                               ▼ DecodedFrame (dmabuf + format)
//!                                  player ──► vreq-present: wayland | y4m | null
//! ```
//!
//! This is the only crate that depends on both the device crate and the
//! presentation crate.

#![forbid(unsafe_code)]

pub mod player;
