//! MPEG-2 video (Main / Simple profile, 4:2:0) stateless decoding: sequence /
//! picture headers and extensions ([`parser`], ISO/IEC 13818-2 6.2), the two
//! reference pictures and B-frame reordering ([`dpb`]) and the
//! `V4L2_CID_STATELESS_MPEG2_*` controls ([`controls`]).
//!
//! The request sequence mirrors GStreamer 1.26's `v4l2slmpeg2dec`
//! (`gstv4l2codecmpeg2dec.c` on `gstmpeg2decoder.c` / `gstmpeg2picture.c`,
//! fed one frame per buffer by `mpegvideoparse`):
//! - every pushed unit is one input frame `n` (GStreamer's
//!   `system_frame_number`); its picture's request carries
//!   `timestamp_ns = n * 1000`. The two field pictures of a frame travel in
//!   one unit (`mpegvideoparse` keeps them together): the first field's
//!   request has `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF`, the second is a
//!   request on the same CAPTURE buffer with the same timestamp;
//! - OUTPUT buffer: the picture's slices, each with its `00 00 01 xx` start
//!   code, up to the next start code (GStreamer copies `sc_offset`..`size+4`);
//! - `V4L2_CID_STATELESS_MPEG2_PICTURE` in every request;
//!   `..._SEQUENCE` and `..._QUANTISATION` after a new sequence (GStreamer
//!   sets them on the device at negotiation or in the next request; visl
//!   traces the current values in every job either way), and
//!   `..._QUANTISATION` again in each picture while a quant matrix extension
//!   that loads a matrix is in force (it stays in force until the next
//!   sequence header, 6.3.11);
//! - quantisation: intra / non-intra from the sequence header (defaults when
//!   not loaded), overwritten by the quant matrix extension's loaded ones;
//!   the chroma matrices only ever come from the extension (zero before, as
//!   in GStreamer);
//! - `forward_ref_ts` / `backward_ref_ts`: the reference pictures (I/P, at
//!   most two) before / after the current one in display order
//!   (`gst_mpeg2_dpb_get_neighbours`), `u64::MAX` (`GST_CLOCK_TIME_NONE`)
//!   when absent;
//! - `profile_and_level_indication = profile << 4 | level << 1 | escape`,
//!   `vbv_buffer_size = (value | ext << 10) * 16 * 1024` (16-bit
//!   intermediate), as GStreamer computes them.
//!
//! Output order: the DPB keeps two references; a new picture bumps the one
//! with the lowest display order (`pic_order_cnt` from the GOP-relative
//! `temporal_reference`), B pictures go straight out. A B picture of an open
//! GOP with no earlier reference is decoded but not output (GStreamer marks
//! it `DECODE_ONLY`). [`CodecEvent::Unref`] once a picture is neither a
//! reference nor waiting for output.
//!
//! Bad input (a header that does not parse, slices without a picture): the
//! unit is [`CodecEvent::Skipped`] and decoding resumes at the next I
//! picture. MPEG-1 streams (no sequence extension) are refused with
//! [`CodecError::Unsupported`]: `v4l2slmpeg2dec`'s sink caps take only
//! `mpegversion=2`; profiles other than Main / Simple and chroma formats
//! other than 4:2:0 likewise.

pub mod controls;
pub mod dpb;
pub mod parser;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use v4l2r::bindings;
use vreq_core::mpeg2video;

use super::{
    CodecError, CodecEvent, CodecKind, CodedUnit, DecodeJob, DecodeMode, StartCode, StatelessCodec,
    StreamParams,
};
use dpb::{Dpb, GopPoc, Pic};
use parser::{
    Extension, PictureCodingExtension, PictureHeader, QuantMatrixExtension, SequenceExtension,
    SequenceHeader,
};
use vreq_core::pool::JobPool;
use vreq_core::CodecPrivate;

/// Cap on one picture's slice data (bytes): larger pictures are skipped.
pub const MAX_PICTURE_BYTES: usize = 16 << 20;

/// The sequence as `gst_v4l2_codec_mpeg2_dec_new_sequence` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeqKey {
    width: u16,
    height: u16,
    vbv: u16,
    interlaced: bool,
}

/// A picture being gathered: header, extension and slice bytes.
struct Current {
    hdr: PictureHeader,
    ext: Option<PictureCodingExtension>,
    slices: Vec<u8>,
    byte_offset: u64,
}

/// What one pushed unit (one frame: a frame picture or two field
/// pictures) has gathered so far.
struct UnitFrame {
    /// The unit's timestamp (ns): input frame `n` × 1000.
    timestamp_ns: u64,
    /// The unit's presentation time (ns), if the container gave one.
    pts_ns: Option<i64>,
    /// The picture being gathered.
    cur: Option<Current>,
    /// `picture_structure` of the first field once a first field was submitted.
    first_field: Option<u8>,
    /// The frame once its first picture was submitted (into the DPB when
    /// the frame ends).
    frame_pic: Option<Pic>,
}

/// The MPEG-2 [`StatelessCodec`].
pub struct Mpeg2Codec {
    /// Finished jobs' storage (see [`StatelessCodec::recycle`]).
    pool: JobPool,
    seq_hdr: Option<SequenceHeader>,
    seq_ext: Option<SequenceExtension>,
    /// `sequence_display_extension`'s display size of the current sequence header.
    seq_display: Option<(u32, u32)>,
    /// `sequence_display_extension`'s `matrix_coefficients` of the current
    /// sequence header (2, unspecified, without a colour description).
    seq_matrix_coefficients: u8,
    /// The params of the last [`CodecEvent::Configure`].
    last_params: Option<StreamParams>,
    seq_changed: bool,
    need_to_drain: bool,
    /// Size / profile / progressive the base class last saw (drain decision).
    base_key: Option<(u16, u16, u8, bool)>,
    key: Option<SeqKey>,
    quant_ext: Option<QuantMatrixExtension>,
    pic_ext: Option<PictureCodingExtension>,
    closed_gop: bool,
    quant: bindings::v4l2_ctrl_mpeg2_quantisation,
    sequence: bindings::v4l2_ctrl_mpeg2_sequence,
    need_sequence: bool,
    need_quantiser: bool,
    dpb: Dpb,
    /// Decoded pictures not yet Unref'd.
    tracked: Vec<u64>,
    frame_num: u64,
    wait_intra: bool,
    /// Display order from `temporal_reference`.
    gop_poc: GopPoc,
    frame_duration_ns: u64,
    events: VecDeque<CodecEvent>,
}

impl Mpeg2Codec {
    /// A codec for a track. `private` is Matroska's CodecPrivate for
    /// `V_MPEG2` (sequence header + extensions, parsed as if it preceded the
    /// first frame) or nothing.
    ///
    /// Errors: [`CodecError::BadConfig`] when the CodecPrivate's sequence
    /// header does not parse.
    pub fn new(private: &CodecPrivate) -> Result<Self, CodecError> {
        let mut c = Mpeg2Codec {
            seq_hdr: None,
            seq_ext: None,
            seq_display: None,
            seq_matrix_coefficients: 2,
            last_params: None,
            seq_changed: false,
            need_to_drain: false,
            base_key: None,
            key: None,
            quant_ext: None,
            pic_ext: None,
            closed_gop: false,
            quant: controls::empty_quantisation(),
            sequence: controls::empty_sequence(),
            need_sequence: false,
            need_quantiser: false,
            dpb: Dpb::default(),
            tracked: Vec::new(),
            pool: JobPool::default(),
            frame_num: 0,
            wait_intra: true,
            gop_poc: GopPoc::default(),
            frame_duration_ns: 40_000_000,
            events: VecDeque::new(),
        };
        if let CodecPrivate::Raw(data) = private {
            for u in mpeg2video::units(data) {
                let p = u.payload(data);
                let r = match u.code {
                    mpeg2video::SEQUENCE_HEADER => c.on_sequence_header(p),
                    mpeg2video::EXTENSION_START => c.on_extension(p),
                    _ => Ok(()),
                };
                r.map_err(|e| CodecError::BadConfig(format!("MPEG-2 CodecPrivate: {e}")))?;
            }
        }
        Ok(c)
    }

    fn skipped(&mut self, byte_offset: u64, reason: String) {
        self.events.push_back(CodecEvent::Skipped {
            byte_offset,
            reason,
        });
    }

    fn on_sequence_header(&mut self, p: &[u8]) -> Result<(), String> {
        let s = parser::parse_sequence_header(p)?;
        // 6.3.11 / gstmpeg2decoder.c: a sequence header resets the quant
        // matrix extension.
        self.quant_ext = None;
        if self.seq_hdr.as_ref() == Some(&s) {
            return Ok(());
        }
        let (n, d) = s.frame_rate();
        self.frame_duration_ns = 1_000_000_000u64 * d as u64 / n as u64;
        self.seq_hdr = Some(s);
        self.seq_ext = None;
        self.seq_display = None;
        self.seq_matrix_coefficients = 2;
        self.pic_ext = None;
        self.seq_changed = true;
        Ok(())
    }

    fn on_extension(&mut self, p: &[u8]) -> Result<(), String> {
        match parser::parse_extension(p)? {
            Extension::Sequence(e) => {
                if self.seq_hdr.is_none() {
                    return Err("sequence extension before any sequence header".into());
                }
                if self.seq_ext == Some(e) {
                    return Ok(());
                }
                if e.frame_rate_extension_n != 0 && e.frame_rate_extension_d != 0 {
                    if let Some(s) = &self.seq_hdr {
                        let (n, d) = s.frame_rate();
                        let n = n as u64 * (e.frame_rate_extension_n as u64 + 1);
                        let d = d as u64 * (e.frame_rate_extension_d as u64 + 1);
                        self.frame_duration_ns = 1_000_000_000 * d / n;
                    }
                }
                self.seq_ext = Some(e);
                self.seq_changed = true;
            }
            Extension::QuantMatrix(q) => self.quant_ext = Some(*q),
            Extension::PictureCoding(e) => self.pic_ext = Some(e),
            Extension::SequenceDisplay(d) => {
                if self.seq_matrix_coefficients != d.matrix_coefficients {
                    self.seq_matrix_coefficients = d.matrix_coefficients;
                    self.seq_changed = true;
                }
                let d = Some((
                    u32::from(d.display_horizontal_size),
                    u32::from(d.display_vertical_size),
                ));
                if self.seq_display != d {
                    self.seq_display = d;
                    self.seq_changed = true;
                }
            }
            Extension::Other(_) => {}
        }
        Ok(())
    }

    /// `gst_mpeg2_decoder_handle_picture` + `new_sequence`: runs when a
    /// picture header follows a changed sequence.
    fn start_sequence(&mut self, byte_offset: u64) -> Result<bool, CodecError> {
        let Some(s) = self.seq_hdr.clone() else {
            return Ok(false);
        };
        let Some(e) = self.seq_ext else {
            return Err(CodecError::Unsupported(format!(
                "MPEG-1 video (sequence header without sequence_extension, byte {byte_offset}): \
                 V4L2 stateless MPEG-2 decoders (and GStreamer's v4l2slmpeg2dec) take MPEG-2 only"
            )));
        };
        if e.profile != 4 && e.profile != 5 {
            return Err(CodecError::Unsupported(format!(
                "MPEG-2 profile {} (byte {byte_offset}): only Main (4) and Simple (5) are decoded",
                e.profile
            )));
        }
        if e.chroma_format != 1 {
            return Err(CodecError::Unsupported(format!(
                "MPEG-2 chroma_format {} (byte {byte_offset}): only 4:2:0 is decoded",
                e.chroma_format
            )));
        }
        let width =
            (s.horizontal_size_value & 0x0fff) | ((e.horizontal_size_extension as u16) << 12);
        let height = (s.vertical_size_value & 0x0fff) | ((e.vertical_size_extension as u16) << 12);
        let base = (width, height, e.profile, e.progressive_sequence);
        if self.base_key.is_some_and(|b| b != base) {
            self.need_to_drain = true;
        }
        self.base_key = Some(base);
        if self.need_to_drain {
            self.drain();
            self.need_to_drain = false;
        }
        self.seq_changed = false;
        let vbv = controls::vbv_buffer_size(&s, &e);
        let key = SeqKey {
            width,
            height,
            vbv,
            interlaced: !e.progressive_sequence,
        };
        controls::load_sequence_matrices(&mut self.quant, &s);
        self.sequence = controls::sequence(&e, width, height, vbv);
        let w = (width as u32).div_ceil(16) * 16;
        let h = if e.progressive_sequence {
            (height as u32).div_ceil(16) * 16
        } else {
            (height as u32).div_ceil(32) * 32
        };
        let params = StreamParams {
            coded_width: w,
            coded_height: h,
            visible: (0, 0, width as u32, height as u32),
            bit_depth: 8,
            dpb_size: 4,
            frame_duration_ns: Some(self.frame_duration_ns),
            pixel_aspect: super::mpeg2_pixel_aspect(
                s.aspect_ratio_information,
                u32::from(width),
                u32::from(height),
                self.seq_display,
            )
            .unwrap_or((1, 1)),
            // 6.3.6: no range flag in MPEG-2; samples are limited range.
            color: super::ColorDescription::from_h273(self.seq_matrix_coefficients, false),
        };
        if self.key != Some(key) {
            self.key = Some(key);
            self.last_params = Some(params);
            self.events.push_back(CodecEvent::Configure(params));
        } else if self
            .last_params
            .is_some_and(|p| p != params && p.same_device_config(&params))
        {
            // Same sequence, new aspect ratio or colour description: no
            // reconfiguration of the device.
            self.last_params = Some(params);
            self.events.push_back(CodecEvent::Configure(params));
        }
        self.need_sequence = true;
        self.need_quantiser = true;
        Ok(true)
    }

    fn output(&mut self, p: Pic) {
        if p.visible {
            self.events.push_back(CodecEvent::Output {
                timestamp_ns: p.timestamp_ns,
                pts_ns: p.pts_ns,
            });
        }
    }

    /// Unrefs every tracked picture the DPB no longer holds.
    fn emit_unrefs(&mut self) {
        let dpb = &self.dpb;
        let events = &mut self.events;
        self.tracked.retain(|&timestamp_ns| {
            let live = dpb.holds(timestamp_ns);
            if !live {
                events.push_back(CodecEvent::Unref { timestamp_ns });
            }
            live
        });
    }

    /// Outputs every picture still waiting, then empties the DPB.
    fn drain(&mut self) {
        while let Some(p) = self.dpb.bump() {
            self.output(p);
        }
        self.dpb.clear();
        self.emit_unrefs();
    }

    /// Submits one picture (a frame or one field).
    fn submit(
        &mut self,
        cur: Current,
        timestamp_ns: u64,
        poc: u64,
        first_field: bool,
        second_field: bool,
    ) -> (Option<Pic>, Option<Pic>) {
        let (prev, next) = self.dpb.neighbours(poc);
        let pic = controls::picture(
            &cur.hdr,
            cur.ext,
            prev.map(|p| p.timestamp_ns),
            next.map(|p| p.timestamp_ns),
        );
        if let Some(q) = self.quant_ext {
            self.need_quantiser |= controls::load_extension_matrices(&mut self.quant, &q);
        }
        let mut controls = self.pool.controls();
        if self.need_sequence {
            controls.push(self.pool.boxed(self.sequence));
            self.need_sequence = false;
        }
        controls.push(self.pool.boxed(pic));
        if self.need_quantiser {
            controls.push(self.pool.boxed(self.quant));
            self.need_quantiser = false;
        }
        self.events.push_back(CodecEvent::Decode(DecodeJob {
            timestamp_ns,
            controls,
            bitstream: cur.slices,
            hold_capture: first_field,
            starts_picture: !second_field,
        }));
        (prev, next)
    }

    fn on_gop(&mut self, p: &[u8]) -> Result<(), String> {
        let g = parser::parse_gop(p)?;
        self.closed_gop = g.closed_gop;
        self.gop_poc.new_gop();
        Ok(())
    }

    /// Ends the picture being gathered (at the next picture, GOP or
    /// sequence header, or the end of the unit): submits it, and for a
    /// frame picture or a first field makes the frame's [`Pic`]. A picture
    /// that is not the second field of the pending first field first puts
    /// the pending frame (an unpaired first field) into the DPB.
    ///
    /// Errors: a picture without slices; a non-I picture while waiting
    /// for an I picture ("waiting for an I picture").
    fn end_picture(&mut self, f: &mut UnitFrame) -> Result<(), String> {
        let Some(c) = f.cur.take() else {
            return Ok(());
        };
        if c.slices.is_empty() {
            return Err(format!("picture at byte {} has no slices", c.byte_offset));
        }
        let structure = c.ext.map_or(3, |e| e.picture_structure);
        let is_field = structure != 3;
        let intra = matches!(c.hdr.picture_coding_type, 1 | 4);
        let second = is_field && f.first_field.is_some_and(|s| s != structure);
        if !second {
            if let Some(p) = f.frame_pic.take() {
                // An unpaired first field: it is the frame.
                self.finish_frame(p);
            }
            f.first_field = None;
        }
        if self.wait_intra && !intra && !second {
            return Err("waiting for an I picture".into());
        }
        let poc = self.gop_poc.poc(c.hdr.temporal_reference);
        let is_ref = matches!(c.hdr.picture_coding_type, 1 | 2);
        let is_b = c.hdr.picture_coding_type == 3;
        let (prev, _) = self.submit(c, f.timestamp_ns, poc, is_field && !second, second);
        if !second {
            self.wait_intra = false;
            // gst_mpeg2_decoder_start_current_picture: DECODE_ONLY.
            let visible = !(is_b && prev.is_none() && !self.closed_gop);
            f.frame_pic = Some(Pic {
                timestamp_ns: f.timestamp_ns,
                poc,
                is_ref,
                needed_for_output: true,
                visible,
                pts_ns: f.pts_ns.unwrap_or((poc * self.frame_duration_ns) as i64),
            });
            self.tracked.push(f.timestamp_ns);
            if is_field {
                f.first_field = Some(structure);
            }
        } else {
            f.first_field = None;
        }
        Ok(())
    }

    /// One pushed unit = one frame (one or two pictures).
    fn handle_unit(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        let n = self.frame_num;
        self.frame_num += 1;
        let data = unit.data;
        let units = mpeg2video::units(data);
        let mut f = UnitFrame {
            timestamp_ns: n * 1000,
            pts_ns: unit.pts_ns,
            cur: None,
            first_field: None,
            frame_pic: None,
        };
        let mut failed: Option<String> = None;

        for u in units {
            let p = u.payload(data);
            let off = unit.byte_offset + u.start as u64;
            let r: Result<(), String> = match u.code {
                mpeg2video::SEQUENCE_HEADER => {
                    if let Err(e) = self.end_picture(&mut f) {
                        failed.get_or_insert(e);
                    }
                    self.on_sequence_header(p)
                }
                mpeg2video::EXTENSION_START => self.on_extension(p),
                mpeg2video::GROUP_START => {
                    if let Err(e) = self.end_picture(&mut f) {
                        failed.get_or_insert(e);
                    }
                    self.on_gop(p)
                }
                mpeg2video::PICTURE_START => {
                    if let Err(e) = self.end_picture(&mut f) {
                        failed.get_or_insert(e);
                    }
                    if self.seq_changed {
                        self.start_sequence(off)?;
                    }
                    if self.key.is_none() {
                        Err("picture before any sequence header".to_string())
                    } else {
                        let pool = &mut self.pool;
                        parser::parse_picture_header(p).map(|h| {
                            f.cur = Some(Current {
                                hdr: h,
                                ext: None,
                                // a finished job's buffer: no allocation per picture
                                slices: pool.bitstream(),
                                byte_offset: off,
                            });
                        })
                    }
                }
                0x01..=mpeg2video::SLICE_LAST => match &mut f.cur {
                    Some(c) => {
                        if c.ext.is_none() {
                            c.ext = self.pic_ext;
                        }
                        if c.slices.len() + (u.end - u.start) > MAX_PICTURE_BYTES {
                            Err(format!("picture larger than {MAX_PICTURE_BYTES} bytes"))
                        } else {
                            c.slices.extend_from_slice(&data[u.start..u.end]);
                            Ok(())
                        }
                    }
                    None => Ok(()),
                },
                _ => Ok(()),
            };
            if let Err(e) = r {
                failed.get_or_insert(format!("byte {off}: {e}"));
                f.cur = None;
                break;
            }
        }
        if failed.is_none() {
            if let Err(e) = self.end_picture(&mut f) {
                failed = Some(e);
            }
        }
        if let Some(p) = f.frame_pic.take() {
            self.finish_frame(p);
        }
        if let Some(e) = failed {
            if !e.contains("waiting for an I picture") {
                self.wait_intra = true;
            }
            self.skipped(unit.byte_offset, format!("MPEG-2 frame {n}: {e}"));
        }
        Ok(())
    }

    /// `gst_mpeg2_decoder_output_current_picture`: into the DPB, bump.
    fn finish_frame(&mut self, p: Pic) {
        self.dpb.add(p);
        while self.dpb.need_bump() {
            match self.dpb.bump() {
                Some(o) => self.output(o),
                None => break,
            }
        }
        self.emit_unrefs();
    }
}

impl StatelessCodec for Mpeg2Codec {
    fn kind(&self) -> CodecKind {
        CodecKind::Mpeg2
    }

    fn recycle(&mut self, job: DecodeJob) {
        self.pool.give_back(job);
    }

    /// MPEG-2 has no decode-mode / start-code menus: frame-based, slices
    /// with their start codes.
    fn set_mode(&mut self, _mode: DecodeMode, _start_code: StartCode) {}

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        self.handle_unit(unit)
    }

    /// End of stream: output what the DPB holds (GStreamer's drain).
    fn flush(&mut self) -> Result<(), CodecError> {
        self.drain();
        self.wait_intra = true;
        Ok(())
    }

    fn reset(&mut self) {
        self.dpb.clear();
        self.emit_unrefs();
        self.events.clear();
        self.wait_intra = true;
        // After a seek the first picture starts the sequence again (matrices
        // reloaded from the sequence header, SEQUENCE and QUANTISATION sent
        // with it), as a fresh decoder starting at that point would
        // (tests/seek.rs compares the two); the device is not reconfigured
        // when the sequence is unchanged.
        self.seq_changed = self.seq_hdr.is_some();
    }

    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}
