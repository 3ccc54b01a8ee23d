//! VP8 bitstream syntax (RFC 6386) that both the player's VP8 codec and the
//! VA driver read: the frame tag, the boolean decoder and the first
//! partition's frame header ([`parser`], in GStreamer 1.26.2's
//! `gstvp8parser.c` form so that the decoder state after the header is what
//! `v4l2slvp8dec` reports), the probability tables ([`probs`]) and the
//! header's part of the uAPI frame control ([`control::frame_control`]: all
//! but the size and the references). No references, no I/O.

pub mod control;
pub mod parser;
pub mod probs;
