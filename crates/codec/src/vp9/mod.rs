//! VP9 profile 0 / 2 stateless decoding: superframes, uncompressed and
//! compressed headers ([`parser`], which is `vreq_core::vp9`), the 8
//! reference slots ([`dpb`]) and the `V4L2_CID_STATELESS_VP9_*` controls
//! ([`controls`]).
//!
//! The request sequence mirrors GStreamer 1.26.2's `v4l2slvp9dec`
//! (`gstv4l2codecvp9dec.c` on `gstvp9decoder.c`, fed frame-aligned buffers
//! by `vp9parse`), the oracle on visl:
//! - every superframe is split into its frames (Annex B); each frame counts as
//!   one input frame `n` (GStreamer's `system_frame_number`), shown or hidden,
//!   decoded or not, and a decoded frame's request carries
//!   `timestamp_ns = n * 1000`;
//! - one request per decoded frame: `V4L2_CID_STATELESS_VP9_FRAME` and
//!   `V4L2_CID_STATELESS_VP9_COMPRESSED_HDR` (the probability deltas), OUTPUT
//!   buffer = the whole frame (headers included). GStreamer sends the latter
//!   when the device has it; every VP9 stateless driver (hantro, rkvdec,
//!   mediatek, visl) registers it, so it is always sent;
//! - `last/golden/alt_frame_ts` name the frames in slots
//!   `ref_frame_idx[0..3]` (0 when empty; intra frames have `ref_frame_idx`
//!   0, so they name slot 0's frame, as GStreamer's `fill_refs` does);
//! - after decoding, each slot set in `refresh_frame_flags` holds the frame.
//!
//! Events: [`CodecEvent::Output`] right after the Decode of a frame with
//! `show_frame` (hidden frames are decoded, never output);
//! `show_existing_frame` makes no request and outputs slot
//! `frame_to_show_map_idx`'s frame again with the new presentation time;
//! [`CodecEvent::Unref`] once a frame is in no slot (after its Output, if any).
//!
//! Sequences: a key frame (or an intra-only frame while waiting for one) whose
//! frame size, render size or profile differ from the current sequence's
//! (`gst_vp9_decoder_is_format_change`) starts a new one: the slots are
//! emptied (GStreamer drains and clears its DPB) and
//! [`CodecEvent::Configure`] precedes its Decode. An inter frame whose size
//! differs (reference scaling) is decoded in the current allocation when it
//! fits; a larger one is skipped to the next key frame (GStreamer would
//! renegotiate with `VIDIOC_REMOVE_BUFS`; no corpus clip does this).
//!
//! Bad input: a frame whose headers do not parse is [`CodecEvent::Skipped`]
//! and decoding resumes at the next key frame (as before the first one).
//! Profile 1 / 3 (4:4:4, 4:2:2, 4:4:0) and 12-bit streams are refused with
//! [`CodecError::Unsupported`].
//!
//! Checked on visl (kernel 6.12) in the trixie VM against GStreamer 1.26.2
//! (`filesrc ! {ivfparse|matroskademux|qtdemux} ! vp9parse ! v4l2slvp9dec`):
//! every `visl_vp9_controls` trace event (FRAME, COMPRESSED_HDR, coefficient
//! and MV probabilities) and every OUTPUT buffer timestamp identical for the
//! corpus' VP9 profile 0 / 2 clips; on `resolution_change_500frames-vp9.ivf`
//! GStreamer stops at the first size change (`set_sink_fmt`: EBUSY) and its 54
//! requests equal our first 54.

pub mod controls;
pub mod dpb;
/// The VP9 syntax (superframe index, uncompressed and compressed headers)
/// lives in `vreq_core::vp9`, shared with the VA driver (which reads from a
/// frame what VA's parameter buffers lack); `parser` names it here as in the
/// other codec folders.
pub use vreq_core::vp9 as parser;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::{
    CodecError, CodecEvent, CodecKind, CodedUnit, DecodeJob, DecodeMode, StartCode, StatelessCodec,
    StreamParams,
};
use dpb::RefSlots;
use parser::{FrameHeader, ParserState, NUM_REF_FRAMES};
use vreq_core::pool::JobPool;
use vreq_core::CodecPrivate;

/// Frame duration used to synthesize presentation times when the container
/// gives none (25 fps).
pub const DEFAULT_FRAME_DURATION_NS: u64 = 40_000_000;

/// What decides a new sequence (`gst_vp9_decoder_is_format_change`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeqKey {
    width: u32,
    height: u32,
    render_width: u32,
    render_height: u32,
    profile: u8,
}

impl SeqKey {
    fn of(h: &FrameHeader) -> Self {
        SeqKey {
            width: h.width,
            height: h.height,
            render_width: h.render_width,
            render_height: h.render_height,
            profile: h.profile,
        }
    }
}

/// The VP9 [`StatelessCodec`].
pub struct Vp9Codec {
    state: ParserState,
    /// The 8 reference slots.
    slots: RefSlots,
    /// Decoded frames not yet Unref'd.
    tracked: Vec<u64>,
    /// Next input frame number (superframes split).
    frame_num: u64,
    wait_keyframe: bool,
    seq: Option<SeqKey>,
    params: Option<StreamParams>,
    events: VecDeque<CodecEvent>,
    last_pts: Option<i64>,
    outputs: u64,
    /// Finished jobs' storage (see [`StatelessCodec::recycle`]).
    pool: JobPool,
}

impl Vp9Codec {
    /// A codec for a track. `private` (vpcC from MP4, CodecPrivate from
    /// Matroska) carries nothing the decoder needs: VP9 frames are
    /// self-describing. Never fails today; the `Result` matches the other codecs.
    pub fn new(private: &CodecPrivate) -> Result<Self, CodecError> {
        let _ = private;
        Ok(Vp9Codec {
            state: ParserState::default(),
            slots: RefSlots::default(),
            tracked: Vec::new(),
            frame_num: 0,
            wait_keyframe: true,
            seq: None,
            params: None,
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

    /// Unref every tracked frame no slot holds any more.
    fn emit_unrefs(&mut self) {
        let slots = self.slots;
        let events = &mut self.events;
        self.tracked.retain(|&timestamp_ns| {
            let live = slots.holds(timestamp_ns);
            if !live {
                events.push_back(CodecEvent::Unref { timestamp_ns });
            }
            live
        });
    }

    fn clear_slots(&mut self) {
        self.slots.clear();
        self.emit_unrefs();
    }

    /// One frame of a chunk. `pts` is the chunk's pts if no frame of it was
    /// shown yet.
    fn handle_frame(
        &mut self,
        frame: &[u8],
        byte_offset: u64,
        pts: &mut Option<i64>,
    ) -> Result<(), CodecError> {
        let n = self.frame_num;
        self.frame_num += 1;
        let timestamp_ns = n * 1000;
        let mut h = match self.state.parse_uncompressed_header(frame) {
            Ok(h) => h,
            Err(e) => {
                self.wait_keyframe = true;
                self.skipped(byte_offset, format!("VP9 frame {n}: {e}"));
                return Ok(());
            }
        };
        if h.profile == 1 || h.profile == 3 {
            return Err(CodecError::Unsupported(format!(
                "VP9 profile {} (frame {n} at byte {byte_offset}): only profiles 0 and 2 (4:2:0) are decoded",
                h.profile
            )));
        }
        if h.bit_depth == 12 {
            return Err(CodecError::Unsupported(format!(
                "VP9 12-bit (frame {n} at byte {byte_offset}): only 8 and 10 bit are decoded"
            )));
        }
        let mut probs = None;
        if !h.show_existing_frame {
            match parser::parse_compressed_header(frame, &mut h) {
                Ok(c) => probs = Some(c),
                Err(e) => {
                    self.wait_keyframe = true;
                    self.skipped(byte_offset, format!("VP9 frame {n}: {e}"));
                    return Ok(());
                }
            }
        }
        let intra = !h.show_existing_frame && h.is_intra();
        let check_codec_change = intra && (h.frame_type == parser::KEY_FRAME || self.wait_keyframe);
        if self.wait_keyframe && !intra {
            self.skipped(
                byte_offset,
                format!("VP9 frame {n}: waiting for a key frame"),
            );
            return Ok(());
        }
        if check_codec_change {
            let key = SeqKey::of(&h);
            if self.seq != Some(key) {
                self.clear_slots();
                self.seq = Some(key);
                let p = StreamParams {
                    coded_width: h.width,
                    coded_height: h.height,
                    visible: (0, 0, h.width, h.height),
                    bit_depth: h.bit_depth,
                    dpb_size: NUM_REF_FRAMES as u32 + 1,
                    frame_duration_ns: None,
                    // render_size() is the intended display size: shown
                    // through the PAR, the frame itself stays the visible area.
                    pixel_aspect: super::vp9_render_pixel_aspect(
                        h.width,
                        h.height,
                        h.render_width,
                        h.render_height,
                    ),
                    color: super::vp9_color_description(h.color_space, h.color_range),
                };
                self.params = Some(p);
                self.events.push_back(CodecEvent::Configure(p));
            } else if let Some(p) = self.params {
                // Same sequence: a key / intra-only frame may state another
                // colour description (display metadata: the engine does not
                // reconfigure the device for it).
                let color = super::vp9_color_description(h.color_space, h.color_range);
                if p.color != color {
                    let p = StreamParams { color, ..p };
                    self.params = Some(p);
                    self.events.push_back(CodecEvent::Configure(p));
                }
            }
        } else if !h.show_existing_frame {
            if let (Some(seq), Some(p)) = (self.seq, self.params) {
                let key = SeqKey::of(&h);
                if key != seq && h.width <= p.coded_width && h.height <= p.coded_height {
                    // GStreamer (non-keyframe format change supported on
                    // devices with VIDIOC_REMOVE_BUFS) takes the new size as
                    // the sequence's, so the next key frame of the old size
                    // starts a new sequence again.
                    self.seq = Some(key);
                } else if key != seq {
                    self.wait_keyframe = true;
                    self.skipped(
                        byte_offset,
                        format!(
                            "VP9 frame {n}: inter frame of {}x{} does not fit the {}x{} allocation; waiting for a key frame",
                            h.width, h.height, p.coded_width, p.coded_height
                        ),
                    );
                    return Ok(());
                }
            }
        }
        if self.seq.is_none() {
            self.skipped(byte_offset, format!("VP9 frame {n}: no sequence yet"));
            return Ok(());
        }
        self.wait_keyframe = false;

        if h.show_existing_frame {
            let idx = h.frame_to_show_map_idx as usize;
            match self.slots.get(idx) {
                Some(shown) => {
                    let p = pts.take();
                    self.output(shown, p);
                }
                None => self.skipped(
                    byte_offset,
                    format!("VP9 frame {n}: show_existing_frame of empty slot {idx}"),
                ),
            }
            return Ok(());
        }

        let refs = self.slots.ref_timestamps(&h.ref_frame_idx);
        let mut ctrls = self.pool.controls();
        ctrls.push(self.pool.boxed(controls::frame(&h, refs)));
        if let Some(c) = &probs {
            ctrls.push(self.pool.boxed(c.to_v4l2()));
        }
        let mut bitstream = self.pool.bitstream();
        self.pool.reserve_bitstream(&mut bitstream, frame.len());
        bitstream.extend_from_slice(frame);
        self.events.push_back(CodecEvent::Decode(DecodeJob {
            timestamp_ns,
            controls: ctrls,
            bitstream,
            hold_capture: false,
            starts_picture: true,
        }));
        self.tracked.push(timestamp_ns);
        self.slots.refresh(h.refresh_frame_flags, timestamp_ns);
        if h.show_frame {
            let p = pts.take();
            self.output(timestamp_ns, p);
        }
        self.emit_unrefs();
        Ok(())
    }
}

impl StatelessCodec for Vp9Codec {
    fn kind(&self) -> CodecKind {
        CodecKind::Vp9
    }

    fn recycle(&mut self, job: DecodeJob) {
        self.pool.give_back(job);
    }

    /// VP9 is frame-based with no start codes; nothing depends on the mode.
    fn set_mode(&mut self, _mode: DecodeMode, _start_code: StartCode) {}

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        let frames = match parser::split_superframe(unit.data) {
            Ok(f) => f,
            Err(e) => {
                self.frame_num += 1;
                self.wait_keyframe = true;
                self.skipped(unit.byte_offset, format!("VP9 chunk: {e}"));
                return Ok(());
            }
        };
        let mut pts = unit.pts_ns;
        for (off, size) in frames {
            let data = &unit.data[off..off + size];
            self.handle_frame(data, unit.byte_offset + off as u64, &mut pts)?;
        }
        Ok(())
    }

    /// Everything was output as it was decoded; end of stream empties the
    /// slots (GStreamer's drain clears its DPB) and waits for a key frame.
    fn flush(&mut self) -> Result<(), CodecError> {
        self.clear_slots();
        self.wait_keyframe = true;
        Ok(())
    }

    fn reset(&mut self) {
        self.clear_slots();
        self.events.clear();
        self.wait_keyframe = true;
    }

    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}
