//! H.264 (ITU-T H.264 / ISO/IEC 14496-10) stateless decoding: syntax
//! ([`parser`], on top of the `cros-codecs` parser), reference marking and
//! output order ([`dpb`]), uAPI controls ([`controls`]).
//!
//! The request sequence mirrors GStreamer 1.26.2's `v4l2slh264dec`
//! (`gstv4l2codech264dec.c` on `gsth264decoder.c`), the oracle on visl:
//! - slice-based: one request per slice; SPS on the first request after a
//!   sequence change; PPS, SCALING_MATRIX (only when signalled) and
//!   DECODE_PARAMS on the first request of each picture (each field); SLICE_PARAMS
//!   (with ref_pic_list0/1) and PRED_WEIGHTS on every request;
//!   `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF` on all but the last slice of a picture
//!   and on the last slice of a first field; OUTPUT buffer = the slice NAL unit
//!   (with `00 00 01` when [`StartCode::AnnexB`]);
//! - frame-based: one request per picture (field) with all its slices.
//!
//! Timestamps: picture n (in decoding order, a field pair counts once) is
//! decoded with `timestamp_ns = n * 1000`, and the DPB entries name
//! references by that value (GStreamer uses `system_frame_number * 1000`;
//! "non-existing" frames of a frame_num gap carry 0, as in GStreamer).
//!
//! Events: [`CodecEvent::Output`] in display order (C.4.5.3 bumping, as
//! GStreamer's normal-latency mode); [`CodecEvent::Unref`] once a picture has
//! left the DPB, i.e. it is neither a reference nor waiting for output (so it
//! always follows the picture's Output, if any).
//!
//! Profiles: GStreamer on visl decodes High 10 and 4:4:4 streams (checked:
//! identical controls for `h264_avc1_yuv420p10le_tv_bt2020.mov` and
//! `multitrack.mkv`), so no profile is refused here; whether a device can
//! decode [`StreamParams::bit_depth`] 10 is for the engine / device profile.
//! Input before the first IDR or recovery point SEI, a corrupt slice, or a
//! reference list modification naming a missing picture yields
//! [`CodecEvent::Skipped`] and decoding resumes at the next IDR / recovery
//! point.
//!
//! Checked against GStreamer 1.26.2 on visl (kernel 6.12) by the oracle
//! (`crates/oracle`): its `tests/oracle_golden.rs` renders this codec's
//! requests as visl traces them, normalises them and compares them job by
//! job with the goldens `tests/golden/h264/*.norm` (every corpus clip) and
//! `tests/golden/h264/synthetic/*.norm` (the synthetic PAFF / MMCO / POC type
//! 1 and 2 streams of `tests.rs`, committed in `tests/data/h264-synthetic/`),
//! all made from GStreamer only by `tests/oracle/gen-golden.sh`.

pub mod controls;
pub mod dpb;
pub mod parser;

use std::collections::VecDeque;
use std::rc::Rc;

use cros_codecs::codec::h264::parser::{
    Parser, Pps, RefPicMarkingInner, SliceHeader, SliceType, Sps,
};
use v4l2r::bindings;

use super::{
    CodecError, CodecEvent, CodecKind, CodedUnit, Control, DecodeJob, DecodeMode, StartCode,
    StatelessCodec, StreamParams,
};
use crate::param_sets::SeenParamSet;
use dpb::{Field, PicId, Picture, RefState, SeqInfo};
use parser::{NalRef, PicKey};
use vreq_core::pool::JobPool;
use vreq_core::CodecPrivate;

/// Frame duration used to synthesize presentation times when neither the
/// container nor the VUI gives one (25 fps).
pub const DEFAULT_FRAME_DURATION_NS: u64 = 40_000_000;
/// Largest Annex B data kept while waiting for the next start code.
const MAX_CARRY: usize = 32 << 20;
/// Most `ref_pic_list_modification()` operations of one list a conforming
/// slice carries: `num_ref_idx_lX_active_minus1` + 1 ≤ 32 (7.4.3.1), plus
/// the `modification_of_pic_nums_idc` 3 that ends them (cros-codecs stores
/// it too). The capacity [`H264Codec::slice_header`] keeps per list.
const MAX_REF_PIC_LIST_MODIFICATIONS: usize = 33;
/// Most `memory_management_control_operation`s of one
/// `dec_ref_pic_marking()` a conforming slice carries, the end (0) not
/// stored: operations 1 to 3 each name a reference field (at most 32:
/// `max_num_ref_frames` ≤ 16, 7.4.2.1.1), each at most twice (as short-term,
/// then as long-term), and 4, 5, 6 once each (7.4.3.3). The capacity
/// [`H264Codec::slice_header`] keeps for them.
const MAX_MMCOS: usize = 2 * 32 + 3;

/// Frees `v`'s storage if it can hold more than `max` elements (keeps it
/// otherwise, for the next slice).
fn bound_capacity<T>(v: &mut Vec<T>, max: usize) {
    if v.capacity() > max {
        *v = Vec::new();
    }
}

/// MaxDpbMbs per level (Table A-1), keyed by `level_idc` (9 = level 1b).
fn max_dpb_mbs(level: u8) -> u32 {
    match level {
        9 | 10 => 396,
        11 => 900,
        12 | 13 | 20 => 2376,
        21 => 4752,
        22 | 30 => 8100,
        31 => 18000,
        32 => 20480,
        40 | 41 => 32768,
        42 => 34816,
        50 => 110400,
        51 | 52 => 184320,
        60..=62 => 696320,
        _ => 0,
    }
}

/// What decides a new sequence (GStreamer `process_sps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeqKey {
    width: u32,
    height: u32,
    max_dpb_size: usize,
    interlaced: bool,
    max_reorder: u32,
}

fn seq_key(sps: &Sps) -> Result<SeqKey, String> {
    let mut level = sps.level_idc as u8;
    if level == 11 && (sps.profile_idc == 66 || sps.profile_idc == 77) && sps.constraint_set3_flag {
        level = 9;
    }
    let mbs = max_dpb_mbs(level);
    if mbs == 0 {
        return Err(format!("unknown level_idc {level}"));
    }
    let (w, h) = (sps.width(), sps.height());
    let frame_mbs = ((w as u64 / 16) * (h as u64 / 16)).max(1);
    let mut max_dpb_frames = ((mbs as u64 / frame_mbs) as usize).min(dpb::DPB_MAX_SIZE);
    let vui = &sps.vui_parameters;
    let restricted = sps.vui_parameters_present_flag && vui.bitstream_restriction_flag;
    if restricted {
        max_dpb_frames = (vui.max_dec_frame_buffering as usize).max(1);
    }
    let max_dpb_size = max_dpb_frames
        .max(sps.max_num_ref_frames as usize)
        .min(dpb::DPB_MAX_SIZE);
    let max_reorder = if restricted {
        vui.max_num_reorder_frames.min(max_dpb_size as u32)
    } else if (sps.constraint_set3_flag
        && matches!(sps.profile_idc, 44 | 86 | 100 | 110 | 122 | 244))
        || matches!(sps.profile_idc, 66 | 83)
    {
        // inferred 0 (E.2.1), and GStreamer's relaxed rule for Baseline
        0
    } else {
        max_dpb_size as u32
    };
    Ok(SeqKey {
        width: w,
        height: h,
        max_dpb_size,
        interlaced: !sps.frame_mbs_only_flag,
        max_reorder,
    })
}

fn stream_params(sps: &Sps, key: &SeqKey) -> StreamParams {
    let (w, h) = (sps.width(), sps.height());
    let mut visible = (0, 0, w, h);
    if sps.frame_cropping_flag {
        let (sub_w, sub_h) = match (sps.chroma_format_idc, sps.separate_colour_plane_flag) {
            (1, false) => (2, 2),
            (2, false) => (2, 1),
            _ => (1, 1),
        };
        let (cx, cy): (u32, u32) = if sps.chroma_array_type() == 0 {
            (1, 2 - sps.frame_mbs_only_flag as u32)
        } else {
            (sub_w, sub_h * (2 - sps.frame_mbs_only_flag as u32))
        };
        let l = cx.saturating_mul(sps.frame_crop_left_offset).min(w);
        let r = cx.saturating_mul(sps.frame_crop_right_offset).min(w - l);
        let t = cy.saturating_mul(sps.frame_crop_top_offset).min(h);
        let b = cy.saturating_mul(sps.frame_crop_bottom_offset).min(h - t);
        visible = (l, t, w - l - r, h - t - b);
    }
    let vui = &sps.vui_parameters;
    let frame_duration_ns = (sps.vui_parameters_present_flag
        && vui.timing_info_present_flag
        && vui.num_units_in_tick > 0
        && vui.time_scale > 0)
        .then(|| 2_000_000_000u64 * vui.num_units_in_tick as u64 / vui.time_scale as u64);
    let pixel_aspect = (sps.vui_parameters_present_flag && vui.aspect_ratio_info_present_flag)
        .then(|| {
            super::sar_from_aspect_ratio_idc(
                u32::from(vui.aspect_ratio_idc),
                u32::from(vui.sar_width),
                u32::from(vui.sar_height),
            )
        })
        .flatten()
        .unwrap_or((1, 1));
    let color = super::vui_color_description(
        sps.vui_parameters_present_flag,
        vui.video_signal_type_present_flag,
        vui.video_full_range_flag,
        vui.colour_description_present_flag,
        u32::from(vui.matrix_coefficients),
    );
    StreamParams {
        coded_width: w,
        coded_height: h,
        visible,
        bit_depth: sps.bit_depth_luma_minus8 + 8,
        dpb_size: key.max_dpb_size as u32,
        frame_duration_ns,
        pixel_aspect,
        color,
    }
}

/// One slice ready for its request (slice-based mode).
struct PendingSlice {
    slice_params: Box<bindings::v4l2_ctrl_h264_slice_params>,
    pred_weights: Box<bindings::v4l2_ctrl_h264_pred_weights>,
    bitstream: Vec<u8>,
}

/// The picture (frame or field) being assembled.
struct CurPic {
    id: PicId,
    key: PicKey,
    timestamp_ns: u64,
    is_frame: bool,
    second_field: bool,
    starts_picture: bool,
    /// A request of this picture was emitted.
    submitted: bool,
    first_slice: bool,
    pps: bindings::v4l2_ctrl_h264_pps,
    scaling: Option<bindings::v4l2_ctrl_h264_scaling_matrix>,
    decode_params: bindings::v4l2_ctrl_h264_decode_params,
    lists: dpb::InitLists,
    pending: Option<PendingSlice>,
    bitstream: Vec<u8>,
}

/// The H.264 [`StatelessCodec`].
pub struct H264Codec {
    parser: Parser,
    nal_length_size: Option<usize>,
    mode: DecodeMode,
    start_code: StartCode,
    events: VecDeque<CodecEvent>,
    st: RefState,
    seq: SeqInfo,
    offset_for_ref_frame: Vec<i32>,
    /// The current picture's memory management control operations (its
    /// first slice header's dec_ref_pic_marking() list, set by
    /// `start_picture`, read by `finish_picture`): kept here, its capacity
    /// reused, rather than in the DPB's `Picture`s, which are cloned.
    cur_mmcos: Vec<RefPicMarkingInner>,
    /// The slice header each slice is parsed into
    /// (`Parser::parse_slice_header_into`), kept from slice to slice so that
    /// its lists (`ref_pic_list_modification_l0` / `_l1`,
    /// `dec_ref_pic_marking.inner`) reuse their storage; see
    /// [`Self::handle_slice`] for the bound on what is kept.
    slice_header: SliceHeader,
    seq_key: Option<SeqKey>,
    /// The params of the last [`CodecEvent::Configure`].
    last_params: Option<StreamParams>,
    need_sequence: Option<Box<bindings::v4l2_ctrl_h264_sps>>,
    last_sps: Option<Box<bindings::v4l2_ctrl_h264_sps>>,
    frame_duration_ns: u64,
    cur: Option<CurPic>,
    /// Finished jobs' storage (see [`StatelessCodec::recycle`]).
    pool: JobPool,
    next_frame: u64,
    waiting_rap: bool,
    recovery_seen: bool,
    tracked: Vec<u64>,
    outputs: u64,
    unit_pts: Option<i64>,
    unit_offset: u64,
    skip_reported: bool,
    /// Annex B: the last (possibly incomplete) NAL unit of the previous unit,
    /// with that unit's pts and byte offset.
    carry: Vec<u8>,
    carry_pts: Option<i64>,
    carry_offset: u64,
    /// The last SPS and PPS handled ([`Self::handle_sps`], [`Self::handle_pps`]).
    seen_sps: SeenParamSet,
    seen_pps: SeenParamSet,
    /// SPS NAL units parsed (not skipped as repetitions).
    sps_parses: u64,
}

impl H264Codec {
    /// A codec for a stream with this out-of-band configuration
    /// ([`CodecPrivate::Avc`] for MP4/Matroska: NAL units with
    /// `nal_length_size`-byte prefixes; [`CodecPrivate::None`] for Annex-B).
    /// The avcC parameter sets are parsed at once (a [`CodecEvent::Configure`]
    /// may be pending before the first push).
    ///
    /// Errors: [`CodecError::BadConfig`] for a `nal_length_size` other than
    /// 1, 2 or 4 or other private data.
    pub fn new(private: &CodecPrivate) -> Result<Self, CodecError> {
        let mut c = H264Codec {
            parser: Parser::default(),
            nal_length_size: None,
            mode: DecodeMode::SliceBased,
            start_code: StartCode::None,
            events: VecDeque::new(),
            st: RefState::default(),
            seq: SeqInfo::default(),
            offset_for_ref_frame: Vec::new(),
            cur_mmcos: Vec::new(),
            slice_header: SliceHeader::default(),
            seq_key: None,
            last_params: None,
            need_sequence: None,
            last_sps: None,
            frame_duration_ns: DEFAULT_FRAME_DURATION_NS,
            cur: None,
            next_frame: 0,
            waiting_rap: true,
            recovery_seen: false,
            tracked: Vec::new(),
            pool: JobPool::default(),
            outputs: 0,
            unit_pts: None,
            unit_offset: 0,
            skip_reported: false,
            carry: Vec::new(),
            carry_pts: None,
            carry_offset: 0,
            seen_sps: SeenParamSet::default(),
            seen_pps: SeenParamSet::default(),
            sps_parses: 0,
        };
        c.st.dpb.clear();
        match private {
            CodecPrivate::None => {}
            CodecPrivate::Avc {
                nal_length_size,
                sps,
                pps,
            } => {
                if !matches!(nal_length_size, 1 | 2 | 4) {
                    return Err(CodecError::BadConfig(format!(
                        "avcC nal_length_size {nal_length_size}"
                    )));
                }
                c.nal_length_size = Some(*nal_length_size as usize);
                for n in sps.iter().chain(pps.iter()) {
                    c.handle_nal(NalRef { offset: 0, data: n });
                }
            }
            other => {
                return Err(CodecError::BadConfig(format!(
                    "H.264 with codec private data {other:?}"
                )))
            }
        }
        Ok(c)
    }

    fn skipped(&mut self, offset: usize, reason: String) {
        self.events.push_back(CodecEvent::Skipped {
            byte_offset: self.unit_offset + offset as u64,
            reason,
        });
    }

    // -- parameter sets ------------------------------------------------------

    /// An SPS NAL unit. One byte-identical to the last one handled without
    /// error is skipped: its parse would store the same values and its
    /// sequence is the current one, with the same params (no heap
    /// allocation for the SPS repeated before every IDR picture).
    fn handle_sps(&mut self, nal: &NalRef) {
        if self.seen_sps.repeats(nal.data, 0) {
            return;
        }
        self.seen_sps.forget();
        let Some(nalu) = parser::cros_nalu(nal) else {
            return;
        };
        self.sps_parses += 1;
        let sps = match self.parser.parse_sps(&nalu) {
            Ok(s) => Rc::clone(s),
            Err(e) => return self.skipped(nal.offset, format!("bad SPS: {e}")),
        };
        let key = match seq_key(&sps) {
            Ok(k) => k,
            Err(e) => return self.skipped(nal.offset, format!("bad SPS: {e}")),
        };
        self.seen_sps.remember(nal.data, 0);
        if self.seq_key == Some(key) {
            // Same sequence: only new display metadata (VUI aspect ratio,
            // colour description) is signalled (no drain; the engine does not
            // reconfigure the device for it).
            let params = stream_params(&sps, &key);
            if self
                .last_params
                .is_some_and(|p| p != params && p.same_device_config(&params))
            {
                self.finish_current_picture();
                self.last_params = Some(params);
                self.events.push_back(CodecEvent::Configure(params));
            }
            return;
        }
        // New sequence: drain, reconfigure, send the SPS with the next request.
        self.finish_current_picture();
        self.drain_internal();
        self.emit_unrefs();
        self.seq_key = Some(key);
        self.st.dpb.max_num_frames = key.max_dpb_size;
        self.st.dpb.interlaced = key.interlaced;
        self.st.dpb.max_num_reorder_frames = key.max_reorder;
        let params = stream_params(&sps, &key);
        self.last_params = Some(params);
        self.frame_duration_ns = params
            .frame_duration_ns
            .unwrap_or(DEFAULT_FRAME_DURATION_NS);
        self.events.push_back(CodecEvent::Configure(params));
        let ctrl = Box::new(controls::sps_ctrl(&sps));
        self.last_sps = Some(ctrl.clone());
        self.need_sequence = Some(ctrl);
    }

    /// A PPS NAL unit. One byte-identical to the last one parsed without
    /// error, with no SPS parsed since (its parse links the SPS of its id
    /// as parsed then), is skipped: its parse would store the same values.
    fn handle_pps(&mut self, nal: &NalRef) {
        if self.seen_pps.repeats(nal.data, self.sps_parses) {
            return;
        }
        self.seen_pps.forget();
        let Some(nalu) = parser::cros_nalu(nal) else {
            return;
        };
        match self.parser.parse_pps(&nalu) {
            Ok(_) => self.seen_pps.remember(nal.data, self.sps_parses),
            Err(e) => self.skipped(nal.offset, format!("bad PPS: {e}")),
        }
    }

    // -- NAL dispatch ----------------------------------------------------------

    fn handle_nal(&mut self, nal: NalRef) {
        let t = nal.nal_unit_type();
        match t {
            1 | 5 => self.handle_slice(&nal),
            6 | 7 | 8 | 9 | 10 | 11 | 13..=18 => {
                // 7.4.1.2.3: these end the access unit of a preceding picture.
                if t != 13 && t != 10 && t != 11 {
                    self.finish_current_picture();
                }
                match t {
                    6 if self.waiting_rap && parser::sei_has_recovery_point(nal.data) => {
                        self.recovery_seen = true;
                    }
                    7 => self.handle_sps(&nal),
                    8 => self.handle_pps(&nal),
                    10 | 11 => self.finish_current_picture(),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn abort_to_rap(&mut self, offset: usize, reason: String) {
        self.finish_current_picture();
        self.waiting_rap = true;
        self.recovery_seen = false;
        self.skipped(offset, reason);
        self.skip_reported = true;
    }

    /// A slice NAL unit, parsed into [`Self::slice_header`] (no heap
    /// allocation once its lists have grown). Those lists keep at most the
    /// capacity a conforming slice needs ([`MAX_REF_PIC_LIST_MODIFICATIONS`],
    /// [`MAX_MMCOS`]): a longer one (a hostile stream's, bounded by its NAL
    /// unit's size) is freed after its slice rather than held.
    fn handle_slice(&mut self, nal: &NalRef) {
        let mut hdr = std::mem::take(&mut self.slice_header);
        self.handle_slice_header(nal, &mut hdr);
        bound_capacity(
            &mut hdr.ref_pic_list_modification_l0,
            MAX_REF_PIC_LIST_MODIFICATIONS,
        );
        bound_capacity(
            &mut hdr.ref_pic_list_modification_l1,
            MAX_REF_PIC_LIST_MODIFICATIONS,
        );
        bound_capacity(&mut hdr.dec_ref_pic_marking.inner, MAX_MMCOS);
        self.slice_header = hdr;
    }

    fn handle_slice_header(&mut self, nal: &NalRef, hdr: &mut SliceHeader) {
        let Some(nalu) = parser::cros_nalu(nal) else {
            return;
        };
        let idr = nal.nal_unit_type() == 5;
        let ref_idc = nal.nal_ref_idc();
        match self.parser.parse_slice_header_into(&nalu, hdr) {
            Ok(()) => {}
            Err(e) => {
                if self.waiting_rap {
                    if !self.skip_reported {
                        self.skip_reported = true;
                        self.skipped(
                            nal.offset,
                            format!("undecodable slice before a random-access point: {e}"),
                        );
                    }
                    return;
                }
                return self.abort_to_rap(nal.offset, format!("corrupt slice header: {e}"));
            }
        }
        let hdr = &*hdr;
        let key = PicKey::new(hdr, ref_idc, idr);
        if let Some(cur) = &self.cur {
            if cur.key.starts_new_picture(&key, hdr.first_mb_in_slice) {
                self.finish_current_picture();
            }
        }
        if self.cur.is_none() {
            if self.waiting_rap {
                if !(idr || self.recovery_seen) {
                    if !self.skip_reported {
                        self.skip_reported = true;
                        self.skipped(
                            nal.offset,
                            "waiting for an IDR picture or recovery point".into(),
                        );
                    }
                    return;
                }
                self.waiting_rap = false;
                self.recovery_seen = false;
            }
            if hdr.first_mb_in_slice != 0 {
                return self.abort_to_rap(
                    nal.offset,
                    format!(
                        "picture starts with first_mb_in_slice {}",
                        hdr.first_mb_in_slice
                    ),
                );
            }
            let Some(pps) = self.parser.get_pps(hdr.pic_parameter_set_id).cloned() else {
                return self.abort_to_rap(nal.offset, "slice names a missing PPS".into());
            };
            if self.seq_key.is_none() {
                return self.abort_to_rap(nal.offset, "slice before any usable SPS".into());
            }
            if let Err(e) = self.start_picture(hdr, ref_idc, idr, &pps, key) {
                return self.abort_to_rap(nal.offset, e);
            }
        }
        if let Err(e) = self.decode_slice(hdr, nal.data) {
            self.abort_to_rap(nal.offset, e);
        }
    }

    // -- pictures --------------------------------------------------------------

    /// `gst_h264_decoder_find_first_field_picture`.
    fn find_first_field(&mut self, hdr: &SliceHeader) -> Result<Option<PicId>, String> {
        let mut prev_field = None;
        let mut in_dpb = false;
        if self.st.dpb.interlaced {
            if let Some(lf) = self.st.last_field {
                prev_field = Some(lf);
            } else if let Some(&last) = self.st.dpb.list.last() {
                let p = self.st.dpb.pic(last);
                if !p.is_frame() && p.other_field.is_none() {
                    prev_field = Some(last);
                    in_dpb = true;
                }
            }
        }
        let fail = |s: &mut Self, why: &str| {
            if !in_dpb {
                s.st.last_field = None;
            }
            Err(why.to_string())
        };
        let Some(pf) = prev_field else {
            return Ok(None);
        };
        if !hdr.field_pic_flag {
            return fail(self, "previous field picture is not complete");
        }
        let p = self.st.dpb.pic(pf);
        if p.frame_num != hdr.frame_num as i32 {
            return fail(self, "previous field picture is not complete");
        }
        let cur_field = if hdr.bottom_field_flag {
            Field::Bottom
        } else {
            Field::Top
        };
        if cur_field == p.field() {
            return fail(self, "two fields of the same parity in a row");
        }
        Ok(Some(pf))
    }

    fn start_picture(
        &mut self,
        hdr: &SliceHeader,
        ref_idc: u8,
        idr: bool,
        pps: &Rc<Pps>,
        key: PicKey,
    ) -> Result<(), String> {
        let sps = Rc::clone(&pps.sps);
        self.seq = SeqInfo::from_sps(&sps);
        // into the kept buffer: no allocation per picture
        self.offset_for_ref_frame.clear();
        self.offset_for_ref_frame
            .extend_from_slice(&sps.offset_for_ref_frame);
        let first_field = self.find_first_field(hdr)?;
        let mut base = Picture::default();
        let starts_picture;
        if let Some(ff) = first_field {
            let f = self.st.dpb.pic(ff);
            base.other_field = Some(ff);
            base.second_field = true;
            base.timestamp_ns = f.timestamp_ns;
            base.pts = f.pts;
            starts_picture = false;
        } else {
            base.timestamp_ns = self.next_frame * 1000;
            base.pts = self.unit_pts;
            self.next_frame += 1;
            starts_picture = true;
        }

        // gst_h264_decoder_start_current_picture
        self.st.max_frame_num = self.seq.max_frame_num;
        let frame_num = hdr.frame_num as i32;
        if idr {
            self.st.prev_ref_frame_num = 0;
        }
        self.handle_frame_num_gap(frame_num);

        let mut pic = dpb::picture_from_slice(hdr, ref_idc, idr, &self.seq);
        // into the kept buffer: no allocation per picture
        self.cur_mmcos.clear();
        self.cur_mmcos
            .extend_from_slice(&hdr.dec_ref_pic_marking.inner);
        pic.other_field = base.other_field;
        pic.second_field = base.second_field;
        pic.timestamp_ns = base.timestamp_ns;
        pic.pts = base.pts;
        dpb::calculate_poc(
            &mut self.st,
            &self.seq,
            &self.offset_for_ref_frame,
            &mut pic,
        );

        if pic.idr {
            if !pic.dec_ref_pic_marking.no_output_of_prior_pics_flag {
                self.drain_internal();
            } else {
                self.clear_dpb_no_output();
            }
        }
        let field = pic.field();
        let is_frame = pic.is_frame();
        let second_field = pic.second_field;
        let id = self.st.dpb.alloc(pic);
        dpb::update_pic_nums(&mut self.st, field, frame_num);

        let cur_pic = self.st.dpb.pic(id);
        let lists = if self.mode == DecodeMode::SliceBased {
            dpb::prepare_ref_pic_lists(&self.st, &cur_pic)
        } else {
            dpb::InitLists::default()
        };
        let other = cur_pic
            .other_field
            .and_then(|o| self.st.dpb.get(o))
            .cloned();
        let scaling =
            controls::scaling_matrix_present(pps).then(|| controls::scaling_matrix_ctrl(pps));
        let decode_params =
            controls::decode_params_ctrl(hdr, &cur_pic, other.as_ref(), &self.st.dpb);
        self.cur = Some(CurPic {
            id,
            key,
            timestamp_ns: cur_pic.timestamp_ns,
            is_frame,
            second_field,
            starts_picture,
            submitted: false,
            first_slice: true,
            pps: controls::pps_ctrl(pps),
            scaling,
            decode_params,
            lists,
            pending: None,
            bitstream: self.pool.bitstream(),
        });
        if starts_picture {
            self.tracked.push(cur_pic.timestamp_ns);
        }
        Ok(())
    }

    fn decode_slice(&mut self, hdr: &SliceHeader, nal: &[u8]) -> Result<(), String> {
        let slice_based = self.mode == DecodeMode::SliceBased;
        if slice_based && self.cur.as_ref().is_some_and(|c| c.pending.is_some()) {
            self.submit(true);
        }
        let sc: &[u8] = if self.start_code == StartCode::AnnexB {
            &[0, 0, 1]
        } else {
            &[]
        };
        let Some(cur) = self.cur.as_ref() else {
            return Err("no current picture".into());
        };
        if slice_based {
            self.st.max_pic_num = hdr.max_pic_num as i32;
            let cur_pic = self.st.dpb.pic(cur.id);
            let (l0, l1) = match hdr.slice_type {
                SliceType::P | SliceType::Sp => (
                    dpb::modify_ref_pic_list(&self.st, &cur_pic, hdr, 0, &cur.lists.p0)?,
                    dpb::ModifiedList::new(),
                ),
                SliceType::B => (
                    dpb::modify_ref_pic_list(&self.st, &cur_pic, hdr, 0, &cur.lists.b0)?,
                    dpb::modify_ref_pic_list(&self.st, &cur_pic, hdr, 1, &cur.lists.b1)?,
                ),
                _ => (dpb::ModifiedList::new(), dpb::ModifiedList::new()),
            };
            let sps = self
                .parser
                .get_pps(hdr.pic_parameter_set_id)
                .map(|p| Rc::clone(&p.sps));
            let mut sp = self.pool.take_box(controls::slice_params_ctrl(hdr));
            controls::fill_references(
                &mut sp,
                &cur.decode_params,
                &self.st.dpb,
                cur.is_frame,
                &l0,
                &l1,
            );
            let pw = self.pool.take_box(match sps {
                Some(s) => controls::pred_weights_ctrl(hdr, &s),
                None => bindings::v4l2_ctrl_h264_pred_weights::default(),
            });
            let mut bitstream = self.pool.bitstream();
            self.pool
                .reserve_bitstream(&mut bitstream, sc.len() + nal.len());
            bitstream.extend_from_slice(sc);
            bitstream.extend_from_slice(nal);
            let cur = self.cur.as_mut().expect("checked above");
            cur.pending = Some(PendingSlice {
                slice_params: sp,
                pred_weights: pw,
                bitstream,
            });
        } else {
            let cur = self.cur.as_mut().expect("checked above");
            let len = cur.bitstream.len() + sc.len() + nal.len();
            self.pool.reserve_bitstream(&mut cur.bitstream, len);
            cur.bitstream.extend_from_slice(sc);
            cur.bitstream.extend_from_slice(nal);
        }
        let cur = self.cur.as_mut().expect("checked above");
        match hdr.slice_type {
            SliceType::P => cur.decode_params.flags |= bindings::V4L2_H264_DECODE_PARAM_FLAG_PFRAME,
            SliceType::B => cur.decode_params.flags |= bindings::V4L2_H264_DECODE_PARAM_FLAG_BFRAME,
            _ => {}
        }
        Ok(())
    }

    /// `gst_v4l2_codec_h264_dec_submit_bitstream`: one request.
    fn submit(&mut self, hold: bool) {
        let need_sequence = self.need_sequence.take();
        let slice_based = self.mode == DecodeMode::SliceBased;
        let Some(cur) = self.cur.as_mut() else { return };
        let mut controls = self.pool.controls();
        if let Some(s) = need_sequence {
            controls.push(Control::H264Sps(s));
        }
        if cur.first_slice {
            controls.push(self.pool.boxed(cur.pps));
            if let Some(s) = cur.scaling {
                controls.push(self.pool.boxed(s));
            }
            controls.push(self.pool.boxed(cur.decode_params));
            cur.first_slice = false;
        }
        let bitstream = if slice_based {
            let Some(p) = cur.pending.take() else { return };
            controls.push(Control::H264SliceParams(p.slice_params));
            controls.push(Control::H264PredWeights(p.pred_weights));
            p.bitstream
        } else {
            std::mem::take(&mut cur.bitstream)
        };
        let starts_picture = cur.starts_picture;
        cur.starts_picture = false;
        cur.submitted = true;
        self.events.push_back(CodecEvent::Decode(DecodeJob {
            timestamp_ns: cur.timestamp_ns,
            controls,
            bitstream,
            hold_capture: hold,
            starts_picture,
        }));
    }

    /// End of the current picture: last request, then reference marking and
    /// output (`gst_h264_decoder_finish_current_picture`).
    fn finish_current_picture(&mut self) {
        let Some(cur) = self.cur.as_ref() else { return };
        let hold = !cur.is_frame && !cur.second_field;
        let has_data = if self.mode == DecodeMode::SliceBased {
            cur.pending.is_some()
        } else {
            !cur.bitstream.is_empty()
        };
        if has_data {
            self.submit(hold);
        }
        let Some(mut cur) = self.cur.take() else {
            return;
        };
        self.pool
            .give_back_bitstream(std::mem::take(&mut cur.bitstream));
        if !cur.submitted {
            // Nothing of this picture reached the device: forget it.
            if cur.starts_picture {
                self.tracked.retain(|t| *t != cur.timestamp_ns);
            }
            let keep: Vec<PicId> = self.st.last_field.into_iter().collect();
            self.st.dpb.gc(&keep);
            self.skip_reported = false;
            return;
        }
        self.finish_picture(cur.id);
        self.skip_reported = false;
        self.emit_unrefs();
    }

    fn finish_picture(&mut self, id: PicId) {
        let mut pic = self.st.dpb.pic(id);
        if pic.is_ref() {
            let seq = self.seq;
            // An MMCO naming a missing picture is only a warning (GStreamer).
            let _ =
                dpb::reference_picture_marking(&mut self.st, &seq, &mut pic, id, &self.cur_mmcos);
            self.st.prev_ref_has_memmgmnt5 = pic.mem_mgmt_5;
            self.st.prev_ref_top_field_order_cnt = pic.top_field_order_cnt;
            self.st.prev_ref_pic_order_cnt_msb = pic.pic_order_cnt_msb;
            self.st.prev_ref_pic_order_cnt_lsb = pic.pic_order_cnt_lsb;
            self.st.prev_ref_field = pic.field;
            self.st.prev_ref_frame_num = pic.frame_num;
        }
        self.st.prev_frame_num = pic.frame_num;
        self.st.prev_has_memmgmnt5 = pic.mem_mgmt_5;
        self.st.prev_frame_num_offset = pic.frame_num_offset;
        if let Some(p) = self.st.dpb.get_mut(id) {
            *p = pic.clone();
        }
        self.st.dpb.delete_unused();
        if pic.mem_mgmt_5 {
            self.drain_internal();
        }
        self.bump_dpb(&pic);
        let other_ref = pic.second_field
            && pic
                .other_field
                .and_then(|o| self.st.dpb.get(o))
                .is_some_and(|o| o.is_ref());
        if other_ref || pic.is_ref() || self.st.dpb.has_empty_frame_buffer() {
            if self.st.dpb.interlaced && pic.is_frame() {
                let other = dpb::split_frame(&mut self.st.dpb, id);
                self.add_picture_to_dpb(id);
                if let Some(o) = other {
                    self.add_picture_to_dpb(o);
                }
            } else {
                self.add_picture_to_dpb(id);
            }
        } else {
            self.output_picture_directly(id);
        }
        let keep: Vec<PicId> = self.st.last_field.into_iter().collect();
        self.st.dpb.gc(&keep);
    }

    fn bump_dpb(&mut self, to_insert: &Picture) {
        while self.st.dpb.needs_bump(Some(to_insert)) {
            match self.st.dpb.bump(false) {
                Some((id, needed)) => {
                    if needed {
                        self.output(id)
                    }
                }
                None => break,
            }
        }
    }

    fn add_picture_to_dpb(&mut self, id: PicId) {
        if self.st.dpb.interlaced {
            let other = self.st.dpb.get(id).and_then(|p| p.other_field);
            if let Some(lf) = self.st.last_field {
                if other == Some(lf) {
                    self.st.dpb.add(lf);
                    self.st.last_field = None;
                }
            }
        }
        self.st.dpb.add(id);
    }

    fn output_picture_directly(&mut self, id: PicId) {
        let p = self.st.dpb.pic(id);
        if p.is_frame() {
            return self.output(id);
        }
        match self.st.last_field {
            None => {
                if !p.second_field {
                    self.st.last_field = Some(id);
                }
            }
            Some(lf) => {
                self.st.last_field = None;
                if p.second_field && p.other_field == Some(lf) {
                    if let Some(l) = self.st.dpb.get_mut(lf) {
                        l.other_field = Some(id);
                    }
                    self.output(lf);
                }
            }
        }
    }

    fn output(&mut self, id: PicId) {
        let p = self.st.dpb.pic(id);
        if p.nonexisting {
            return;
        }
        let pts_ns = p
            .pts
            .unwrap_or_else(|| crate::synthetic_pts_ns(self.outputs, self.frame_duration_ns));
        self.outputs += 1;
        self.events.push_back(CodecEvent::Output {
            timestamp_ns: p.timestamp_ns,
            pts_ns,
        });
    }

    /// `gst_h264_decoder_drain_internal`: output everything, empty the DPB.
    fn drain_internal(&mut self) {
        while let Some((id, _)) = self.st.dpb.bump(true) {
            self.output(id);
        }
        self.st.last_field = None;
        self.st.dpb.clear();
    }

    /// IDR with no_output_of_prior_pics_flag (C.4.4): empty without output.
    fn clear_dpb_no_output(&mut self) {
        self.st.last_field = None;
        self.st.dpb.clear();
    }

    /// `gst_h264_decoder_handle_frame_num_gap` (8.2.5.2).
    fn handle_frame_num_gap(&mut self, frame_num: i32) {
        let max = self.st.max_frame_num.max(1);
        let prev = self.st.prev_ref_frame_num;
        if prev == frame_num || (prev + 1) % max == frame_num || self.st.dpb.list.is_empty() {
            return;
        }
        if !self.seq.gaps_in_frame_num_value_allowed_flag {
            return;
        }
        let mut unused = (prev + 1) % max;
        // Only the last max_num_ref_frames gap frames can survive the sliding
        // window: skip the rest (bounded work on hostile input).
        let gap = (frame_num - unused).rem_euclid(max);
        let keep = (self.seq.max_num_ref_frames as i32).max(1) + 1;
        if gap > keep {
            unused = (frame_num - keep).rem_euclid(max);
        }
        while unused != frame_num {
            let mut p = Picture {
                nonexisting: true,
                nal_ref_idc: 1,
                frame_num: unused,
                pic_num: unused,
                reference: dpb::Reference::ShortTerm,
                ref_pic: true,
                field: Some(Field::Frame),
                // left at 0 like GStreamer's init_gap_picture (see calculate_poc)
                ..Default::default()
            };
            dpb::calculate_poc(&mut self.st, &self.seq, &self.offset_for_ref_frame, &mut p);
            dpb::update_pic_nums(&mut self.st, Field::Frame, unused);
            let seq = self.seq;
            dpb::sliding_window(&mut self.st, &seq, &p);
            self.st.dpb.delete_unused();
            self.bump_dpb(&p);
            let id = self.st.dpb.alloc(p);
            if self.st.dpb.interlaced {
                let other = dpb::split_frame(&mut self.st.dpb, id);
                self.add_picture_to_dpb(id);
                if let Some(o) = other {
                    self.add_picture_to_dpb(o);
                }
            } else {
                self.add_picture_to_dpb(id);
            }
            unused = (unused + 1) % max;
        }
        let keep: Vec<PicId> = self.st.last_field.into_iter().collect();
        self.st.dpb.gc(&keep);
    }

    /// Unref every decoded frame that is neither in the DPB, being decoded,
    /// nor a pending first field.
    fn emit_unrefs(&mut self) {
        let st = &self.st;
        let last_field = st
            .last_field
            .and_then(|l| st.dpb.get(l))
            .map(|p| p.timestamp_ns);
        let cur = self.cur.as_ref().map(|c| c.timestamp_ns);
        let live = |timestamp_ns: u64| {
            st.dpb.list.iter().any(|id| {
                st.dpb
                    .get(*id)
                    .is_some_and(|p| !p.nonexisting && p.timestamp_ns == timestamp_ns)
            }) || last_field == Some(timestamp_ns)
                || cur == Some(timestamp_ns)
        };
        let events = &mut self.events;
        self.tracked.retain(|&timestamp_ns| {
            let keep = live(timestamp_ns);
            if !keep {
                events.push_back(CodecEvent::Unref { timestamp_ns });
            }
            keep
        });
    }

    fn process_nals(&mut self, data: &[u8], avc: bool) {
        if avc {
            let n = self.nal_length_size.unwrap_or(4);
            let mut nals = parser::length_prefixed_nals(data, n);
            for nal in nals.by_ref() {
                self.handle_nal(nal);
            }
            if let Some(off) = nals.overrun {
                self.skipped(off, "NAL unit length overruns the coded unit".into());
            }
        } else {
            for nal in parser::annexb_nals(data) {
                self.handle_nal(nal);
            }
        }
    }
}

impl StatelessCodec for H264Codec {
    fn kind(&self) -> CodecKind {
        CodecKind::H264
    }

    fn recycle(&mut self, job: DecodeJob) {
        self.pool.give_back(job);
    }

    fn set_mode(&mut self, mode: DecodeMode, start_code: StartCode) {
        self.mode = mode;
        self.start_code = start_code;
    }

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        if self.nal_length_size.is_some() {
            self.unit_pts = unit.pts_ns;
            self.unit_offset = unit.byte_offset;
            self.process_nals(unit.data, true);
            // A length-prefixed unit is a whole access unit (or field pair).
            self.finish_current_picture();
            return Ok(());
        }
        // Annex B byte stream: the last NAL unit may continue in the next unit.
        let mut buf = std::mem::take(&mut self.carry);
        let base_offset = if buf.is_empty() {
            unit.byte_offset
        } else {
            self.carry_offset
        };
        let carry_pts = self.carry_pts;
        let carried = buf.len();
        buf.extend_from_slice(unit.data);
        // NAL units found as they are handled, borrowed from `buf` (no
        // list, no copy per NAL unit); the last one may continue in the
        // next unit and is carried instead.
        let mut nals = parser::annexb_nals(&buf);
        let Some(mut last) = nals.next() else {
            // No start code yet: keep (bounded) for the next unit.
            if buf.len() > MAX_CARRY {
                self.unit_offset = base_offset;
                self.skipped(0, "no H.264 start code found".into());
            } else {
                self.carry = buf;
                self.carry_offset = base_offset;
                self.carry_pts = if carried > 0 { carry_pts } else { unit.pts_ns };
            }
            return Ok(());
        };
        for next in nals {
            let n = std::mem::replace(&mut last, next);
            // NAL units that began in the carried bytes keep that unit's pts.
            self.unit_pts = if n.offset < carried {
                carry_pts
            } else {
                unit.pts_ns
            };
            self.unit_offset = base_offset;
            self.handle_nal(n);
        }
        let last_start = last.offset.saturating_sub(3);
        self.carry_pts = if last_start < carried {
            carry_pts
        } else {
            unit.pts_ns
        };
        self.carry_offset = base_offset + last_start as u64;
        // the carried bytes moved to the front of the same buffer
        buf.drain(..last_start);
        self.carry = buf;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CodecError> {
        if !self.carry.is_empty() {
            let buf = std::mem::take(&mut self.carry);
            self.unit_pts = self.carry_pts;
            self.unit_offset = self.carry_offset;
            self.process_nals(&buf, false);
        }
        self.finish_current_picture();
        self.drain_internal();
        self.emit_unrefs();
        Ok(())
    }

    fn reset(&mut self) {
        self.cur = None;
        self.carry.clear();
        let (max, il, reorder) = (
            self.st.dpb.max_num_frames,
            self.st.dpb.interlaced,
            self.st.dpb.max_num_reorder_frames,
        );
        self.st = RefState::default();
        self.st.dpb.clear();
        self.st.dpb.max_num_frames = max;
        self.st.dpb.interlaced = il;
        self.st.dpb.max_num_reorder_frames = reorder;
        // The device may have been reset too: send the SPS again.
        self.need_sequence = self.last_sps.clone();
        self.waiting_rap = true;
        self.recovery_seen = false;
        self.skip_reported = false;
        for timestamp_ns in std::mem::take(&mut self.tracked) {
            self.events.push_back(CodecEvent::Unref { timestamp_ns });
        }
    }

    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
