//! vreqplay: the player. `main.rs` is the command line; [`player`] wires
//! the crates together. The data path (`docs/ARCHITECTURE.md`):
//!
//! ```text
//! file ─► vreq-container ─► vreq-codec ─► vreq-engine ─► vreq-v4l2 ─► kernel
//!          Packet ─► CodedUnit  CodecEvent     │  DecodeJob ─► media request
//!                                              │  Completed ◄─ CAPTURE DQBUF
//!                                              ▼
//!                               DecodedFrame (vreq-frame: format, planes, dmabufs)
//!                                              │
//!                         vreqplay (player) ───┴─► vreq-present: wayland | y4m | null
//! ```
//!
//! This is the only crate that depends on both the device crate
//! (`vreq-v4l2`) and the presentation crate (`vreq-present`).

#![forbid(unsafe_code)]

pub mod player;
