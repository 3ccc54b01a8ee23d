//! `V4L2_CID_STATELESS_VP8_FRAME` for one frame (uAPI
//! "ext-ctrls-codec-stateless"), filled as GStreamer 1.26.2's
//! `gstv4l2codecvp8dec.c` fills it, the oracle on visl: the header's part by
//! [`vreq_core::vp8::control::frame_control`], the size and references
//! (`fill_references`) here.

use super::parser::{FrameHeader, Parser};
use v4l2r::bindings;

use super::dpb::Refs;

/// `v4l2_ctrl_vp8_frame` for header `h`. `parser` holds the persistent
/// segmentation and loop-filter deltas after parsing `h`; `width` / `height`
/// are the sequence's (its key frame's) size in pixels, as GStreamer sends
/// them on inter frames too; `refs` are the references before this frame.
pub fn frame(
    h: &FrameHeader,
    parser: &Parser,
    width: u16,
    height: u16,
    refs: Refs,
) -> bindings::v4l2_ctrl_vp8_frame {
    let mut f = vreq_core::vp8::control::frame_control(h, parser);
    f.width = width;
    f.height = height;
    f.last_frame_ts = refs.last.unwrap_or(0);
    f.golden_frame_ts = refs.golden.unwrap_or(0);
    f.alt_frame_ts = refs.alt.unwrap_or(0);
    f
}
