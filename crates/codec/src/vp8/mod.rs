//! VP8 stateless decoding: frame tag and first-partition header (RFC 6386
//! 9.2–9.11, [`parser`]), last / golden / altref management ([`dpb`]) and
//! `V4L2_CID_STATELESS_VP8_FRAME` ([`controls`]).
//!
//! The request sequence mirrors GStreamer 1.26.2's `v4l2slvp8dec`
//! (`gstv4l2codecvp8dec.c` on `gstvp8decoder.c` / `gstvp8parser.c`), the
//! oracle on visl:
//! - each container frame is input frame `n` (GStreamer's
//!   `system_frame_number`); a decoded frame's request carries
//!   `timestamp_ns = n * 1000`; one request per frame, the OUTPUT buffer is
//!   the whole frame (frame tag and headers included), the only control is
//!   `V4L2_CID_STATELESS_VP8_FRAME`;
//! - `last/golden/alt_frame_ts` name the frames held as LAST, GOLDEN and
//!   ALTREF before this frame (0 when none);
//! - after decoding (`gst_vp8_decoder_update_reference`): a key frame becomes
//!   all three; otherwise ALTREF is refreshed or copied first
//!   (`copy_buffer_to_alternate` 1 = LAST, 2 = GOLDEN), then GOLDEN
//!   (`copy_buffer_to_golden` 1 = LAST, 2 = ALTREF *as just updated*, as
//!   GStreamer does), then LAST if `refresh_last`.
//!
//! Events: [`CodecEvent::Output`] right after the Decode of a frame with
//! `show_frame`; [`CodecEvent::Unref`] once a frame is none of the three
//! references (after its Output, if any).
//!
//! Sequences: a key frame whose size differs from the current one
//! (`gst_vp8_decoder_check_codec_change`) empties the references and
//! [`CodecEvent::Configure`] precedes its Decode.
//!
//! Checked on visl (kernel 6.12) in the trixie VM against GStreamer 1.26.2
//! (`filesrc ! {ivfparse|matroskademux} ! v4l2slvp8dec`): every
//! `v4l2_ctrl_vp8_frame` / `v4l2_ctrl_vp8_entropy` trace event and every
//! OUTPUT buffer timestamp identical for all 7 corpus VP8 clips; on
//! `wpt-400x300-red-resize-200x150-green.webm` GStreamer stops at the size
//! change ("Failed to configure VP8 decoder") and its 59 requests equal our
//! first 59; the 200x150 part cut into its own IVF gives 60 requests equal
//! to our last 60 (timestamps shifted by 59 frames).
//!
//! Bad input: a frame whose headers do not parse is [`CodecEvent::Skipped`]
//! and decoding resumes at the next key frame (as before the first one).
//!
//! Why our own parser: cros-codecs 0.0.6's `codec::vp8::parser` reads the
//! segment tree probabilities only when `update_segment_feature_data` is also
//! set (RFC 6386 9.3 and GStreamer read them whenever
//! `update_mb_segmentation_map` is), which derails the rest of the header
//! (the second frame of `test_case_1224361.vp8.ivf`), and its tables and bool
//! decoder are private.

pub mod controls;
pub mod dpb;
pub use vreq_core::vp8::parser;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use dpb::Refs;
use parser::Parser;

use super::{
    CodecError, CodecEvent, CodecKind, CodedUnit, DecodeMode, StartCode, StatelessCodec,
    StreamParams,
};
use vreq_core::pool::JobPool;
use vreq_core::CodecPrivate;

/// Frame duration used to synthesize presentation times when the container
/// gives none (25 fps).
pub const DEFAULT_FRAME_DURATION_NS: u64 = 40_000_000;

/// Largest frame accepted, in bytes (bounds the copy into the OUTPUT buffer).
pub const MAX_FRAME_BYTES: usize = 64 << 20;

/// The VP8 [`StatelessCodec`].
pub struct Vp8Codec {
    parser: Parser,
    refs: Refs,
    /// Decoded frames not yet Unref'd.
    tracked: Vec<u64>,
    frame_num: u64,
    wait_keyframe: bool,
    size: Option<(u16, u16)>,
    events: VecDeque<CodecEvent>,
    last_pts: Option<i64>,
    outputs: u64,
    /// Finished jobs' storage (see [`StatelessCodec::recycle`]).
    pool: JobPool,
}

impl Vp8Codec {
    /// A codec for a track. `private` carries nothing VP8 needs (frames are
    /// self-describing). Never fails today; the `Result` matches the others.
    pub fn new(private: &CodecPrivate) -> Result<Self, CodecError> {
        let _ = private;
        Ok(Vp8Codec {
            parser: Parser::default(),
            refs: Refs::default(),
            tracked: Vec::new(),
            frame_num: 0,
            wait_keyframe: true,
            size: None,
            events: VecDeque::new(),
            pool: JobPool::default(),
            last_pts: None,
            outputs: 0,
        })
    }

    fn skipped(&mut self, byte_offset: u64, reason: String) {
        self.events.push_back(CodecEvent::Skipped {
            byte_offset,
            reason,
        });
    }

    fn output(&mut self, timestamp_ns: u64, pts: Option<i64>) {
        let pts_ns = pts.unwrap_or_else(|| match self.last_pts {
            Some(p) => p + DEFAULT_FRAME_DURATION_NS as i64,
            None => (self.outputs * DEFAULT_FRAME_DURATION_NS) as i64,
        });
        self.last_pts = Some(pts_ns);
        self.outputs += 1;
        self.events.push_back(CodecEvent::Output {
            timestamp_ns,
            pts_ns,
        });
    }

    fn emit_unrefs(&mut self) {
        let refs = self.refs;
        let events = &mut self.events;
        self.tracked.retain(|&timestamp_ns| {
            let live = refs.holds(timestamp_ns);
            if !live {
                events.push_back(CodecEvent::Unref { timestamp_ns });
            }
            live
        });
    }

    fn clear_refs(&mut self) {
        self.refs = Refs::default();
        self.emit_unrefs();
    }

    fn fail(&mut self, n: u64, byte_offset: u64, what: String) {
        self.wait_keyframe = true;
        self.skipped(byte_offset, format!("VP8 frame {n}: {what}"));
    }
}

impl StatelessCodec for Vp8Codec {
    fn kind(&self) -> CodecKind {
        CodecKind::Vp8
    }

    /// VP8 is frame-based with no start codes; nothing depends on the mode.
    fn set_mode(&mut self, _mode: DecodeMode, _start_code: StartCode) {}

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        let n = self.frame_num;
        self.frame_num += 1;
        let timestamp_ns = n * 1000;
        let off = unit.byte_offset;
        if unit.data.len() > MAX_FRAME_BYTES {
            self.fail(
                n,
                off,
                format!("{} bytes, over {MAX_FRAME_BYTES}", unit.data.len()),
            );
            return Ok(());
        }
        let h = match self.parser.parse_frame(unit.data) {
            Ok(h) => h,
            Err(e) => {
                self.fail(n, off, e.to_string());
                return Ok(());
            }
        };
        if !h.key_frame && (self.wait_keyframe || self.size.is_none()) {
            self.skipped(off, format!("VP8 frame {n}: waiting for a key frame"));
            return Ok(());
        }
        if h.key_frame {
            if h.width == 0 || h.height == 0 {
                self.fail(
                    n,
                    off,
                    format!("key frame of size {}x{}", h.width, h.height),
                );
                return Ok(());
            }
            if self.size != Some((h.width, h.height)) {
                self.clear_refs();
                self.size = Some((h.width, h.height));
                let (w, hgt) = (u32::from(h.width), u32::from(h.height));
                self.events.push_back(CodecEvent::Configure(StreamParams {
                    coded_width: w,
                    coded_height: hgt,
                    visible: (0, 0, w, hgt),
                    bit_depth: 8,
                    // LAST, GOLDEN, ALTREF and the frame being decoded.
                    dpb_size: 4,
                    frame_duration_ns: None,
                    // horizontal_scale / vertical_scale (RFC 6386 9.2) are
                    // upscaling hints for the application; FFmpeg
                    // (`vp8.c`: "Upscaling" unsupported) and GStreamer ignore
                    // them, and so do we: square pixels.
                    pixel_aspect: (1, 1),
                    // RFC 6386 9.2: `color_space` 0 is the only defined value
                    // ("YUV", BT.601 coefficients) and `clamping_type` only
                    // tells the decoder whether to clamp: always BT.601
                    // (H.273 `matrix_coefficients` 6), limited range.
                    color: super::ColorDescription::from_h273(6, false),
                }));
            }
        }
        self.wait_keyframe = false;
        let (w, hgt) = self.size.unwrap_or((h.width, h.height));
        let frame = controls::frame(&h, &self.parser, w, hgt, self.refs);
        let mut controls = self.pool.controls();
        controls.push(self.pool.boxed(frame));
        let mut bitstream = self.pool.bitstream();
        bitstream.extend_from_slice(unit.data);
        self.events.push_back(CodecEvent::Decode(super::DecodeJob {
            timestamp_ns,
            controls,
            bitstream,
            hold_capture: false,
            starts_picture: true,
        }));
        self.tracked.push(timestamp_ns);
        self.refs.update(&h, timestamp_ns);
        if h.show_frame {
            self.output(timestamp_ns, unit.pts_ns);
        }
        self.emit_unrefs();
        Ok(())
    }

    fn recycle(&mut self, job: super::DecodeJob) {
        self.pool.give_back(job);
    }

    /// Everything was output as it was decoded; end of stream empties the
    /// references and waits for a key frame.
    fn flush(&mut self) -> Result<(), CodecError> {
        self.clear_refs();
        self.wait_keyframe = true;
        Ok(())
    }

    fn reset(&mut self) {
        self.clear_refs();
        self.events.clear();
        self.wait_keyframe = true;
    }

    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}
