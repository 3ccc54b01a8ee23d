//! vreqplay: a video player that decodes through Linux V4L2 stateless
//! (request API) decoders.
//!
//! The data path runs one way (see `docs/ARCHITECTURE.md`):
//!
//! ```text
//! file ──► container ──► codec ──► engine + v4l2 ──► present / player
//!           Packet      DecodeJob   DecodedFrame
//! ```
//!
//! * [`container`]: demuxers (MP4 incl. fragmented, Matroska/WebM, IVF, Annex-B)
//!   producing [`container::Packet`]s with pts/dts in ns.
//! * [`codec`]: per-codec bitstream parsing, DPB / reference management and the
//!   V4L2 stateless uAPI control structs for one picture. No ioctls.
//! * [`v4l2`]: the only code issuing V4L2 / media-controller ioctls: discovery,
//!   device profiles, queues, media requests.
//! * [`engine`]: glue that drives one codec and one device session.
//! * [`frame`]: pixel formats, plane layouts, Y4M.
//! * [`present`]: Wayland window, Y4M file and null sinks.
//! * [`player`]: pacing, the play loop.

pub mod codec;
pub mod container;
pub mod engine;
pub mod frame;
pub mod oracle;
pub mod player;
pub mod present;
#[doc(hidden)]
pub mod testutil;
pub mod v4l2;
