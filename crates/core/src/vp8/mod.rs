//! VP8 bitstream syntax (RFC 6386) that both the player's VP8 codec and the
//! VA driver read: the frame tag, the boolean decoder and the first
//! partition's frame header ([`parser`], in GStreamer 1.26.2's
//! `gstvp8parser.c` form so that the decoder state after the header is what
//! `v4l2slvp8dec` reports) and the probability tables ([`probs`]). Pure
//! syntax: no controls, no references, no I/O.

pub mod parser;
pub mod probs;
