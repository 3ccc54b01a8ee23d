//! HEVC (ITU-T H.265) Main / Main10 stateless decoding: syntax
//! ([`parser`], on top of the `cros-codecs` parser), POC / RPS / DPB
//! ([`dpb`], H.265 8.3.1, 8.3.2, C.5.2) and the uAPI controls ([`controls`]).
//!
//! The request sequence mirrors GStreamer 1.26.2's `v4l2slh265dec`
//! (`gstv4l2codech265dec.c` on `gsth265decoder.c`), the oracle on visl:
//! - one coded unit is one access unit (MP4/Matroska sample; the Annex-B
//!   demuxer cuts at access units) and picture n of the stream (counted per
//!   coded unit, as GStreamer's `system_frame_number`) is decoded with
//!   `timestamp_ns = n * 1000`; DPB entries name references by that value;
//! - SPS in the first request after a sequence change or when the active
//!   `sps_id` changes (plus, on a device with them, the RK3588
//!   `EXT_SPS_ST_RPS` / `EXT_SPS_LT_RPS` arrays when they are non-empty, as
//!   GStreamer 1.28.8); PPS, SCALING_MATRIX (whenever the device has it,
//!   zeroed without scaling lists) and DECODE_PARAMS in the first request of
//!   each picture; SLICE_PARAMS (dynamic array) in every request unless the
//!   device is frame-based without SLICE_PARAMS; ENTRY_POINT_OFFSETS when
//!   the device has it and the slices have entry points;
//! - slice-based: one request per slice segment,
//!   `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF` on all but the last; frame-based:
//!   one request per picture with every slice (one SLICE_PARAMS element each);
//! - OUTPUT buffer: the slice NAL units (`00 00 01` before each with
//!   [`StartCode::AnnexB`]).
//!
//! Output order: C.5.2.2 / C.5.2.3 bumping (`sps_max_num_reorder_pics`,
//! `SpsMaxLatencyPictures`, `sps_max_dec_pic_buffering`); RASL pictures
//! associated with an IRAP with NoRaslOutputFlag are not decoded (their
//! timestamp slot is still used, as in GStreamer); `pic_output_flag` 0
//! pictures are decoded, never output.
//!
//! Missing references (a corrupt or cut stream; H.265 8.3.2 "no reference
//! picture"): for each missing entry of `RefPicSetStCurrBefore`,
//! `RefPicSetStCurrAfter` or `RefPicSetLtCurr` — the pictures the current
//! picture actually uses — a picture is generated as 8.3.3.2 / 8.3.3.3
//! ([`dpb::active_refs`]): a `dpb[]` entry with the missing
//! `PicOrderCntVal`, short- or long-term, `PicOutputFlag` 0, and the
//! timestamp of the DPB picture with the nearest POC, so the device reads
//! that picture's CAPTURE buffer (the spec's mid-grey samples cannot be
//! handed to a device that never decoded them; FFmpeg's
//! `generate_missing_ref` greys only in software and leaves a hwaccel
//! surface as it was). The lists name that entry instead of 0xff (a
//! driver may turn an unknown reference into DMA address 0: hantro's
//! `hantro_get_ref()` for a timestamp it does not hold). The generated
//! picture lives in the current picture's DECODE_PARAMS only: it never
//! enters the DPB, is never output and gets no Unref; a later picture
//! missing it again gets its own stand-in. Each missing reference is logged once per coded video
//! sequence with `tracing::warn!` (what was missing, what stood in; the
//! player's log level `warn` prints it), then at debug level. When the DPB
//! holds no picture at all the picture is skipped to the next IRAP
//! ([`CodecEvent::Skipped`]). The `Foll` lists get no generated pictures
//! (GStreamer 1.26.2 generates none; valid streams keep its `dpb[]`), and
//! with all 16 `dpb[]` entries taken the lists name the nearest picture's
//! own entry.
//!
//! Not done (as GStreamer 1.26.2): `pic_struct` / `field_pic` from
//! picture timing SEI (always 0). No corpus or synthetic stream has tiles,
//! dependent slice segments or slice-level long-term references, so those
//! paths are checked by unit tests and the own-parser comparison only, not
//! against GStreamer; the missing-reference stand-ins are checked by tests
//! only (`tests.rs`, `tests/hevc_pipeline.rs`: hevc-x265.h265 with a
//! referenced picture removed), as GStreamer sends 0xff there.
//!
//! Input before the first IRAP, a slice header that does not parse, or a
//! slice whose PPS/SPS was never seen yields [`CodecEvent::Skipped`];
//! decoding resumes at the next IRAP picture.
//!
//! Checked against GStreamer by the oracle
//! (`crates/oracle/tests/oracle_golden.rs`: all 15 corpus goldens of
//! `tests/golden/hevc/` from GStreamer 1.26.2 on visl
//! 6.12, and the 3 + 3 `tests/golden/hevc-sid/{ext,noext}` goldens from
//! GStreamer 1.28.8 on the sid VM's visl with EXT_SPS_ST/LT_RPS present /
//! hidden: every job equal). By hand on the VMs (visl traces of `vreqplay`
//! vs `v4l2slh265dec`, 2026-11-21): the same clips, the synthetic
//! `tests/data/hevc-synthetic/` streams (4 slices per picture with scaling
//! lists, weighted prediction, CRA start with RASL skipped) and, with the
//! device session probing its controls, the EXT arrays on the sid VM are
//! equal; GStreamer stops at hevc_white_red_frames.mp4's resolution change
//! (S_FMT EBUSY) after 60 of its 120 pictures, which we decode.
//!
//! Checked on visl (by hand, 2026-11-21, before the oracle had HEVC): the
//! visl control traces of `vreqplay` equal GStreamer 1.26.2's
//! `v4l2slh265dec` job for job on bbb.h265 (60), test-25fps.h265 (250),
//! hevc-x265.h265 (30), hevc-sps-rps-inter-lt.h265 (30), gizmo_hevc_8bit_420
//! .mp4/.mkv (30 each), busMpeg4.mp4 (25), aspect_ratio_4_3_hevc.mp4 (25),
//! wpt-webcodecs-h265.mp4 (10), wpt-Rec2020 Main10 (1), and on the first
//! 60 of hevc_white_red_frames.mp4 (GStreamer stops at its resolution
//! change: S_FMT EBUSY), and on the synthetic `tests/data/hevc-synthetic/`
//! streams (4 slices per picture with scaling lists: equal but for the
//! SCALING_MATRIX a device session that does not yet probe `has_control`
//! leaves out; weighted prediction; CRA start with RASL skipped);
//! the RK3588 EXT_SPS_ST/LT_RPS arrays equal GStreamer
//! 1.28.8's on the sid VM for the hevc-sps-rps*.h265 clips.

pub mod controls;
pub mod dpb;
pub mod parser;

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use cros_codecs::codec::h265::parser::{Nalu, Parser, Pps, SliceHeader, Sps};
use v4l2r::bindings;

use super::{
    uapi_ext, CodecError, CodecEvent, CodecKind, CodedUnit, Control, DecodeJob, DecodeMode,
    StartCode, StatelessCodec, StreamParams,
};
use crate::param_sets::SeenParamSet;
use dpb::{Dpb, Picture, PocInput, PocState, RpsInput};
use parser::NalRef;
use vreq_core::pool::JobPool;
use vreq_core::CodecPrivate;

/// Frame duration used to synthesize presentation times when neither the
/// container nor the VUI gives one (25 fps).
pub const DEFAULT_FRAME_DURATION_NS: u64 = 40_000_000;

/// What decides a new sequence (GStreamer `process_sps`): coded size, DPB
/// size, visible rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeqKey {
    width: u32,
    height: u32,
    max_dpb_size: u32,
    visible: (u32, u32, u32, u32),
    bit_depth: u8,
}

/// GStreamer's `get_max_dpb_size_from_sps`: A.4.2's MaxDpbSize, replaced by
/// `sps_max_dec_pic_buffering_minus1 + 1` when that fits, else 16.
fn max_dpb_size(sps: &Sps) -> u32 {
    let m = if sps.profile_tier_level.general_level_idc as u32 == 0 {
        16
    } else {
        (sps.max_dpb_size() as u32).clamp(1, 16)
    };
    let dec =
        u32::from(sps.max_dec_pic_buffering_minus1[usize::from(sps.max_sub_layers_minus1.min(6))])
            + 1;
    if dec <= m {
        dec
    } else {
        16
    }
}

fn visible_rect(sps: &Sps) -> (u32, u32, u32, u32) {
    let (w, h) = (
        u32::from(sps.pic_width_in_luma_samples),
        u32::from(sps.pic_height_in_luma_samples),
    );
    if !sps.conformance_window_flag {
        return (0, 0, w, h);
    }
    let (sw, sh): (u32, u32) = match (sps.chroma_format_idc, sps.separate_colour_plane_flag) {
        (1, false) => (2, 2),
        (2, false) => (2, 1),
        _ => (1, 1),
    };
    let l = sw.saturating_mul(sps.conf_win_left_offset).min(w);
    let r = sw.saturating_mul(sps.conf_win_right_offset).min(w - l);
    let t = sh.saturating_mul(sps.conf_win_top_offset).min(h);
    let b = sh.saturating_mul(sps.conf_win_bottom_offset).min(h - t);
    (l, t, w - l - r, h - t - b)
}

fn seq_key(sps: &Sps) -> SeqKey {
    SeqKey {
        width: u32::from(sps.pic_width_in_luma_samples),
        height: u32::from(sps.pic_height_in_luma_samples),
        max_dpb_size: max_dpb_size(sps),
        visible: visible_rect(sps),
        bit_depth: sps.bit_depth_luma_minus8 + 8,
    }
}

fn stream_params(sps: &Sps, key: &SeqKey) -> StreamParams {
    let vui = &sps.vui_parameters;
    let frame_duration_ns = (sps.vui_parameters_present_flag
        && vui.timing_info_present_flag
        && vui.num_units_in_tick > 0
        && vui.time_scale > 0)
        .then(|| 1_000_000_000u64 * u64::from(vui.num_units_in_tick) / u64::from(vui.time_scale));
    let pixel_aspect = (sps.vui_parameters_present_flag && vui.aspect_ratio_info_present_flag)
        .then(|| {
            super::sar_from_aspect_ratio_idc(vui.aspect_ratio_idc, vui.sar_width, vui.sar_height)
        })
        .flatten()
        .unwrap_or((1, 1));
    let color = super::vui_color_description(
        sps.vui_parameters_present_flag,
        vui.video_signal_type_present_flag,
        vui.video_full_range_flag,
        vui.colour_description_present_flag,
        vui.matrix_coeffs,
    );
    StreamParams {
        coded_width: key.width,
        coded_height: key.height,
        visible: key.visible,
        bit_depth: key.bit_depth,
        dpb_size: key.max_dpb_size,
        frame_duration_ns,
        pixel_aspect,
        color,
    }
}

/// The SPS controls pending for the next request.
#[derive(Clone, PartialEq)]
struct SeqControls {
    sps: Box<bindings::v4l2_ctrl_hevc_sps>,
    /// `None`: the device lacks the extension, or the SPS's raw RPS syntax is unknown.
    ext: Option<ExtRps>,
}

/// The `EXT_SPS_ST_RPS` / `EXT_SPS_LT_RPS` arrays of an SPS.
type ExtRps = (
    Vec<uapi_ext::V4l2CtrlHevcExtSpsStRps>,
    Vec<uapi_ext::V4l2CtrlHevcExtSpsLtRps>,
);

/// The picture being assembled.
struct CurPic {
    timestamp_ns: u64,
    poc: i32,
    poc_lsb: i32,
    pts: Option<i64>,
    output_flag: bool,
    first_slice: bool,
    starts_picture: bool,
    submitted: bool,
    pps: bindings::v4l2_ctrl_hevc_pps,
    scaling: bindings::v4l2_ctrl_hevc_scaling_matrix,
    decode_params: bindings::v4l2_ctrl_hevc_decode_params,
    /// `dpb[]` and the Curr lists as `dpb[]` indices (8.3.3 stand-ins included).
    refs: dpb::ActiveRefs,
    slices: Vec<bindings::v4l2_ctrl_hevc_slice_params>,
    entry_points: Vec<u32>,
    bitstream: Vec<u8>,
}

/// How the first slice's NAL unit type starts a picture (8.1.3, C.5.2.2),
/// as `gst_h265_decoder_start_current_picture` decides it.
struct PicStart {
    /// An IRAP picture (BLA, IDR, CRA).
    irap: bool,
    /// `NoRaslOutputFlag` (8.1.3): IDR, BLA, a CRA that starts the
    /// bitstream, or the first picture after an end of sequence.
    no_rasl_output_flag: bool,
    /// C.5.2.2: an IRAP with NoRaslOutputFlag that is not the bitstream's
    /// first picture empties the DPB.
    clear_dpb: bool,
    /// `NoOutputOfPriorPicsFlag` when `clear_dpb` (a CRA infers 1, as
    /// GStreamer does), else false.
    no_output_of_prior_pics: bool,
}

impl PicStart {
    /// For NAL unit type `t` with slice header `hdr`; `new_bitstream`: the
    /// first picture of the bitstream (or after end of bitstream),
    /// `after_eos`: the first after an end of sequence NAL unit.
    fn new(t: u8, hdr: &SliceHeader, new_bitstream: bool, after_eos: bool) -> Self {
        let irap = parser::is_irap(t);
        let no_rasl_output_flag = parser::is_idr(t)
            || parser::is_bla(t)
            || (parser::is_cra(t) && new_bitstream)
            || after_eos;
        let clear_dpb = irap && no_rasl_output_flag && !new_bitstream;
        PicStart {
            irap,
            no_rasl_output_flag,
            clear_dpb,
            no_output_of_prior_pics: clear_dpb
                && (parser::is_cra(t) || hdr.no_output_of_prior_pics_flag),
        }
    }
}

/// The 8.3.2 inputs of a non-IDR picture from its slice header: the
/// short-term set (the slice's own `st_ref_pic_set()` or the SPS set
/// `short_term_ref_pic_set_idx`) as (`DeltaPocS0/S1`, `UsedByCurrPicS0/S1`)
/// and the long-term part as (`PocLsbLt`, `UsedByCurrPicLt`,
/// `delta_poc_msb_present_flag`, `DeltaPocMsbCycleLt`), at most 16 each.
/// `None` when the SPS has no set at that index.
fn rps_input(hdr: &SliceHeader, sps: &Sps) -> Option<RpsInput> {
    let st = if !hdr.short_term_ref_pic_set_sps_flag {
        &hdr.short_term_ref_pic_set
    } else {
        sps.short_term_ref_pic_set
            .get(usize::from(hdr.short_term_ref_pic_set_idx))?
    };
    let nn = usize::from(st.num_negative_pics).min(16);
    let np = usize::from(st.num_positive_pics).min(16);
    let nlt = (usize::from(hdr.num_long_term_sps) + usize::from(hdr.num_long_term_pics)).min(16);
    Some(RpsInput {
        s0: (0..nn)
            .map(|i| (st.delta_poc_s0[i], st.used_by_curr_pic_s0[i]))
            .collect(),
        s1: (0..np)
            .map(|i| (st.delta_poc_s1[i], st.used_by_curr_pic_s1[i]))
            .collect(),
        lt: (0..nlt)
            .map(|i| {
                (
                    hdr.poc_lsb_lt[i] as i32,
                    hdr.used_by_curr_pic_lt[i],
                    hdr.delta_poc_msb_present_flag[i],
                    hdr.delta_poc_msb_cycle_lt[i] as i32,
                )
            })
            .collect(),
    })
}

/// The HEVC [`StatelessCodec`].
pub struct HevcCodec {
    /// Finished jobs' storage (see [`StatelessCodec::recycle`]).
    pool: JobPool,
    parser: Parser,
    /// The slice parse's reused storage (its RBSP copy, its entry points).
    slice_scratch: parser::SliceScratch,
    nal_length_size: Option<usize>,
    mode: DecodeMode,
    start_code: StartCode,
    has_slice_params: bool,
    has_scaling_matrix: bool,
    has_entry_points: bool,
    has_ext_rps: bool,
    events: VecDeque<CodecEvent>,
    dpb: Dpb,
    poc: PocState,
    /// Raw RPS syntax per `sps_id` (for the RK3588 extension).
    sps_rps: HashMap<u8, parser::SpsRps>,
    seq_key: Option<SeqKey>,
    /// The params of the last [`CodecEvent::Configure`].
    last_params: Option<StreamParams>,
    /// `seq_parameter_set_id` of the SPS control last filled.
    sps_ctrl_id: Option<u8>,
    need_sequence: Option<SeqControls>,
    last_sequence: Option<SeqControls>,
    max_num_reorder: u32,
    max_latency_pictures: u32,
    max_dec_pic_buffering: u32,
    frame_duration_ns: u64,
    cur: Option<CurPic>,
    /// The current access unit's picture is being dropped (RASL / skipped).
    dropping: bool,
    next_frame: u64,
    unit_timestamp_ns: u64,
    tracked: Vec<u64>,
    outputs: u64,
    new_bitstream: bool,
    prev_nal_is_eos: bool,
    associated_irap_no_rasl: bool,
    prev_independent: Option<SliceHeader>,
    waiting_rap: bool,
    skip_reported: bool,
    unit_pts: Option<i64>,
    unit_offset: u64,
    /// (POC, long-term) of missing references already warned about in this
    /// coded video sequence (later pictures naming them log at debug level).
    missing_reported: Vec<(i32, bool)>,
    /// The last VPS, SPS, PPS parsed (by `nal_unit_type` − 32), see
    /// [`Self::handle_param_set`].
    seen_param_sets: [SeenParamSet; 3],
    /// How many VPS, SPS, PPS NAL units were parsed (not skipped as
    /// repetitions), by `nal_unit_type` − 32.
    param_set_parses: [u64; 3],
}

impl HevcCodec {
    /// A codec for a stream with this out-of-band configuration
    /// ([`CodecPrivate::Hvcc`] for MP4/Matroska: NAL units with
    /// `nal_length_size`-byte prefixes, its VPS/SPS/PPS parsed at once;
    /// [`CodecPrivate::None`] for Annex-B).
    ///
    /// Errors: [`CodecError::BadConfig`] for a `nal_length_size` other than
    /// 1, 2 or 4 or other private data.
    pub fn new(private: &CodecPrivate) -> Result<Self, CodecError> {
        let mut c = HevcCodec {
            parser: Parser::default(),
            slice_scratch: parser::SliceScratch::default(),
            nal_length_size: None,
            mode: DecodeMode::SliceBased,
            start_code: StartCode::None,
            has_slice_params: true,
            has_scaling_matrix: true,
            has_entry_points: false,
            has_ext_rps: false,
            events: VecDeque::new(),
            dpb: Dpb::default(),
            poc: PocState::default(),
            sps_rps: HashMap::new(),
            seq_key: None,
            last_params: None,
            sps_ctrl_id: None,
            need_sequence: None,
            last_sequence: None,
            max_num_reorder: 0,
            max_latency_pictures: 0,
            max_dec_pic_buffering: 0,
            frame_duration_ns: DEFAULT_FRAME_DURATION_NS,
            cur: None,
            dropping: false,
            next_frame: 0,
            unit_timestamp_ns: 0,
            tracked: Vec::new(),
            pool: JobPool::default(),
            outputs: 0,
            new_bitstream: true,
            prev_nal_is_eos: false,
            associated_irap_no_rasl: false,
            prev_independent: None,
            waiting_rap: true,
            skip_reported: false,
            unit_pts: None,
            unit_offset: 0,
            missing_reported: Vec::new(),
            seen_param_sets: Default::default(),
            param_set_parses: [0; 3],
        };
        match private {
            CodecPrivate::None => {}
            CodecPrivate::Hvcc {
                nal_length_size,
                nal_units,
            } => {
                if !matches!(nal_length_size, 1 | 2 | 4) {
                    return Err(CodecError::BadConfig(format!(
                        "hvcC lengthSizeMinusOne + 1 = {nal_length_size}"
                    )));
                }
                c.nal_length_size = Some(usize::from(*nal_length_size));
                for n in nal_units {
                    c.handle_param_set(&NalRef { offset: 0, data: n });
                }
            }
            other => {
                return Err(CodecError::BadConfig(format!(
                    "HEVC with codec private data {other:?}"
                )))
            }
        }
        Ok(c)
    }

    fn skipped(&mut self, offset: usize, reason: String) {
        tracing::warn!("hevc: byte {}: {reason}", self.unit_offset + offset as u64);
        self.events.push_back(CodecEvent::Skipped {
            byte_offset: self.unit_offset + offset as u64,
            reason,
        });
    }

    // -- parameter sets --------------------------------------------------------

    /// A VPS, SPS or PPS NAL unit: checked, parsed by cros-codecs. One
    /// byte-identical to the last of its type parsed without error, parsed
    /// against the same VPSs (an SPS) or SPSs (a PPS), is skipped: its parse
    /// would store the same values (no heap allocation for the parameter
    /// sets repeated before every IRAP picture).
    fn handle_param_set(&mut self, nal: &NalRef) {
        let t = parser::nal_unit_type(nal.data);
        // (the hvcC arrays may hold other NAL units, e.g. SEI: ignored)
        if !(32..=34).contains(&t) {
            return;
        }
        let Some(nalu) = parser::cros_nalu(nal) else {
            return;
        };
        let i = usize::from(t - 32);
        let depends_on_parses = if i > 0 {
            self.param_set_parses[i - 1]
        } else {
            0
        };
        if self.seen_param_sets[i].repeats(nal.data, depends_on_parses) {
            return;
        }
        self.seen_param_sets[i].forget();
        self.param_set_parses[i] += 1;
        if self.parse_param_set(nal, &nalu) {
            self.seen_param_sets[i].remember(nal.data, depends_on_parses);
        }
    }

    /// [`Self::handle_param_set`]'s check and parse; false on error
    /// (reported as skipped).
    fn parse_param_set(&mut self, nal: &NalRef, nalu: &Nalu) -> bool {
        let t = parser::nal_unit_type(nal.data);
        // cros-codecs 0.0.6 panics on some out-of-range syntax of these
        // (parser::check_vps / check_sps / check_pps): refused here first
        let check = match t {
            32 => parser::check_vps(nal.data).map_err(|e| format!("bad VPS: {e}")),
            33 => parser::check_sps(nal.data).map_err(|e| format!("bad SPS: {e}")),
            34 => parser::check_pps(&self.parser, nal.data).map_err(|e| format!("bad PPS: {e}")),
            _ => Ok(()),
        };
        if let Err(e) = check {
            self.skipped(nal.offset, e);
            return false;
        }
        match t {
            32 => {
                if let Err(e) = self.parser.parse_vps(nalu) {
                    self.skipped(nal.offset, format!("bad VPS: {e}"));
                    return false;
                }
            }
            33 => match self.parser.parse_sps(nalu) {
                Ok(sps) => {
                    let sps = sps.clone();
                    match parser::parse_sps_rps(nal.data, &sps) {
                        Ok(r) => {
                            self.sps_rps.insert(sps.seq_parameter_set_id, r);
                        }
                        Err(e) => {
                            self.sps_rps.remove(&sps.seq_parameter_set_id);
                            tracing::warn!(
                                "hevc: SPS {} RPS syntax: {e}",
                                sps.seq_parameter_set_id
                            );
                        }
                    }
                }
                Err(e) => {
                    self.skipped(nal.offset, format!("bad SPS: {e}"));
                    return false;
                }
            },
            34 => {
                if let Err(e) = self.parser.parse_pps(nalu) {
                    self.skipped(nal.offset, format!("bad PPS: {e}"));
                    return false;
                }
            }
            _ => {}
        }
        true
    }

    /// The SPS controls for `sps` (with the extension when the device has it).
    fn sequence_controls(&self, sps: &Sps) -> SeqControls {
        SeqControls {
            sps: Box::new(controls::sps_ctrl(sps)),
            ext: self.sequence_ext(sps),
        }
    }

    /// The extension part of [`Self::sequence_controls`].
    fn sequence_ext(&self, sps: &Sps) -> Option<ExtRps> {
        if self.has_ext_rps {
            // None (logged when the SPS is sent): RPS syntax unknown.
            self.sps_rps.get(&sps.seq_parameter_set_id).map(|raw| {
                (
                    controls::ext_sps_st_rps(sps, raw),
                    controls::ext_sps_lt_rps(raw),
                )
            })
        } else {
            None
        }
    }

    /// `gst_h265_decoder_process_sps` for the SPS of the next picture.
    fn process_sps(&mut self, sps: &Sps, no_output_of_prior_pics: bool) {
        let key = seq_key(sps);
        if self.seq_key != Some(key) {
            if no_output_of_prior_pics {
                self.clear_dpb_no_output();
            } else {
                self.drain_internal();
            }
            self.seq_key = Some(key);
            self.dpb.max_num_pics = key.max_dpb_size as usize;
            let params = stream_params(sps, &key);
            self.last_params = Some(params);
            self.frame_duration_ns = params
                .frame_duration_ns
                .unwrap_or(DEFAULT_FRAME_DURATION_NS);
            self.events.push_back(CodecEvent::Configure(params));
            let seq = self.sequence_controls(sps);
            self.last_sequence = Some(seq.clone());
            self.need_sequence = Some(seq);
            self.sps_ctrl_id = Some(sps.seq_parameter_set_id);
        } else {
            // Same sequence: only new display metadata (VUI aspect ratio,
            // colour description) is signalled (no drain; the engine does not
            // reconfigure the device for it).
            let params = stream_params(sps, &key);
            if self
                .last_params
                .is_some_and(|p| p != params && p.same_device_config(&params))
            {
                self.last_params = Some(params);
                self.events.push_back(CodecEvent::Configure(params));
            }
        }
        let hi = usize::from(sps.max_sub_layers_minus1.min(6));
        self.max_num_reorder = u32::from(sps.max_num_reorder_pics[hi]);
        self.max_latency_pictures = if sps.max_latency_increase_plus1[hi] > 0 {
            u32::from(sps.max_num_reorder_pics[hi]) + u32::from(sps.max_latency_increase_plus1[hi])
                - 1
        } else {
            0
        };
        self.max_dec_pic_buffering = u32::from(sps.max_dec_pic_buffering_minus1[hi]) + 1;
    }

    // -- slices ------------------------------------------------------------------

    fn abort_to_rap(&mut self, offset: usize, reason: String) {
        if let Some(cur) = self.cur.take() {
            if !cur.submitted {
                self.tracked.retain(|t| *t != cur.timestamp_ns);
            } else {
                // Part of it reached the device: finish it so it is released.
                self.cur = Some(cur);
                self.finish_current_picture();
            }
        }
        self.dropping = true;
        self.waiting_rap = true;
        if !self.skip_reported {
            self.skipped(offset, reason);
        }
        self.skip_reported = true;
    }

    fn handle_slice(&mut self, nal: &NalRef) {
        let t = parser::nal_unit_type(nal.data);
        let mut hdr = match parser::parse_slice(&mut self.parser, nal, &mut self.slice_scratch) {
            Ok(h) => h,
            Err(e) => {
                self.new_bitstream = false;
                self.prev_nal_is_eos = false;
                return self.abort_to_rap(nal.offset, format!("slice header: {e}"));
            }
        };
        let new_bitstream = self.new_bitstream;
        let after_eos = self.prev_nal_is_eos;
        self.new_bitstream = false;
        self.prev_nal_is_eos = false;
        if hdr.dependent_slice_segment_flag {
            let Some(prev) = self.prev_independent.clone() else {
                return self.abort_to_rap(nal.offset, "dependent slice without its slice".into());
            };
            let mut h = prev;
            h.first_slice_segment_in_pic_flag = hdr.first_slice_segment_in_pic_flag;
            h.no_output_of_prior_pics_flag = hdr.no_output_of_prior_pics_flag;
            h.pic_parameter_set_id = hdr.pic_parameter_set_id;
            h.dependent_slice_segment_flag = true;
            h.segment_address = hdr.segment_address;
            h.num_entry_point_offsets = hdr.num_entry_point_offsets;
            h.offset_len_minus1 = hdr.offset_len_minus1;
            h.entry_point_offset_minus1 = hdr.entry_point_offset_minus1;
            h.header_bit_size = hdr.header_bit_size;
            h.n_emulation_prevention_bytes = hdr.n_emulation_prevention_bytes;
            hdr = h;
        } else {
            self.prev_independent = Some(hdr.clone());
        }
        if hdr.first_slice_segment_in_pic_flag {
            self.finish_current_picture();
            self.dropping = false;
        }
        if self.dropping {
            return;
        }
        let Some(pps) = self.parser.get_pps(hdr.pic_parameter_set_id).cloned() else {
            return self.abort_to_rap(nal.offset, "slice names an unknown PPS".into());
        };
        if self.cur.is_none() {
            if !hdr.first_slice_segment_in_pic_flag {
                return self.abort_to_rap(
                    nal.offset,
                    "slice of a picture whose start is missing".into(),
                );
            }
            if self.waiting_rap && !parser::is_irap(t) {
                if !self.skip_reported {
                    self.skip_reported = true;
                    self.skipped(nal.offset, "picture before a random-access point".into());
                }
                self.dropping = true;
                return;
            }
            if !self.start_picture(nal, &hdr, &pps, new_bitstream, after_eos) {
                self.dropping = true;
                return;
            }
        }
        self.decode_slice(nal, &hdr, &pps);
    }

    /// `gst_h265_decoder_start_current_picture`; false when the picture is
    /// dropped. Steps: the IRAP / NoRaslOutputFlag decision ([`PicStart`]),
    /// the SPS ([`Self::activate_sps`]), POC (8.3.1), RASL skipping, the
    /// RPS (8.3.2: [`rps_input`], [`dpb::derive_and_mark`]), C.5.2.2
    /// output and removal ([`Self::bump_before_decode`]), the `dpb[]` with
    /// 8.3.3 stand-ins ([`dpb::active_refs`]) and DECODE_PARAMS
    /// ([`controls::decode_params`]).
    fn start_picture(
        &mut self,
        nal: &NalRef,
        hdr: &SliceHeader,
        pps: &Rc<Pps>,
        new_bitstream: bool,
        after_eos: bool,
    ) -> bool {
        let t = parser::nal_unit_type(nal.data);
        let sps = Rc::clone(&pps.sps);
        let start = PicStart::new(t, hdr, new_bitstream, after_eos);
        self.activate_sps(&sps, start.no_output_of_prior_pics);
        if start.irap && start.no_rasl_output_flag {
            self.missing_reported.clear();
        }
        if start.irap {
            self.associated_irap_no_rasl = start.no_rasl_output_flag;
            self.waiting_rap = false;
            self.skip_reported = false;
        }
        let rasl_dropped = parser::is_rasl(t) && self.associated_irap_no_rasl;
        let output_flag = !rasl_dropped && hdr.pic_output_flag;
        let log2_max_poc_lsb = u32::from(sps.log2_max_pic_order_cnt_lsb_minus4) + 4;
        let (poc, poc_lsb) = dpb::calculate_poc(
            &mut self.poc,
            &PocInput {
                nal_unit_type: t,
                temporal_id_plus1: parser::temporal_id_plus1(nal.data),
                no_rasl_output_flag: start.no_rasl_output_flag,
                pic_order_cnt_lsb: i32::from(hdr.pic_order_cnt_lsb),
                log2_max_poc_lsb,
            },
        );
        if rasl_dropped {
            tracing::debug!(
                "hevc: RASL picture (POC {poc}) after a CRA/BLA that starts decoding: not decoded"
            );
            return false;
        }
        let rps = if parser::is_idr(t) {
            RpsInput::default()
        } else {
            let Some(rps) = rps_input(hdr, &sps) else {
                self.abort_to_rap(nal.offset, "slice names a missing st_ref_pic_set".into());
                return false;
            };
            rps
        };
        let refs = dpb::derive_and_mark(
            &mut self.dpb,
            t,
            start.no_rasl_output_flag,
            poc,
            i32::from(hdr.pic_order_cnt_lsb),
            log2_max_poc_lsb,
            &rps,
        );
        self.bump_before_decode(&start);
        // dpb[] and the Curr lists, with 8.3.3 stand-ins for missing references
        let Some(active) = dpb::active_refs(&self.dpb, &refs) else {
            self.abort_to_rap(
                nal.offset,
                format!(
                    "picture POC {poc} references pictures that were never decoded \
                     and the DPB is empty"
                ),
            );
            return false;
        };
        self.report_generated(poc, &active.generated);
        let dp = controls::decode_params(hdr, &sps, t, poc, &refs, &active);
        let timestamp_ns = self.unit_timestamp_ns;
        if !self.tracked.contains(&timestamp_ns) {
            self.tracked.push(timestamp_ns);
        }
        self.cur = Some(CurPic {
            timestamp_ns,
            poc,
            poc_lsb,
            pts: self.unit_pts,
            output_flag,
            first_slice: true,
            starts_picture: true,
            submitted: false,
            pps: controls::pps_ctrl(pps),
            scaling: controls::scaling_matrix(pps),
            decode_params: dp,
            refs: active,
            slices: self.pool.array(),
            entry_points: self.pool.array(),
            bitstream: self.pool.bitstream(),
        });
        true
    }

    /// The SPS of the next picture: `process_sps` (new sequence or aspect
    /// ratio), then the SPS controls are sent again when the active
    /// `sps_id` changes (GStreamer) or the SPS was rewritten under the same
    /// id (e.g. new RPSs, same size), which GStreamer 1.26/1.28 miss.
    fn activate_sps(&mut self, sps: &Sps, no_output_of_prior_pics: bool) {
        self.process_sps(sps, no_output_of_prior_pics);
        // compared before boxing: the same SPS on every picture allocates nothing
        let ctrl = controls::sps_ctrl(sps);
        let ext = self.sequence_ext(sps);
        let same = self.sps_ctrl_id == Some(sps.seq_parameter_set_id)
            && self
                .last_sequence
                .as_ref()
                .is_some_and(|l| *l.sps == ctrl && l.ext == ext);
        if !same {
            let seq = SeqControls {
                sps: Box::new(ctrl),
                ext,
            };
            self.last_sequence = Some(seq.clone());
            self.need_sequence = Some(seq);
            self.sps_ctrl_id = Some(sps.seq_parameter_set_id);
        }
    }

    /// C.5.2.2, before the current picture is decoded (after 8.3.2): an
    /// IRAP with NoRaslOutputFlag that is not the first picture empties the
    /// DPB, outputting what waits unless NoOutputOfPriorPicsFlag; otherwise
    /// unused pictures leave and pictures are bumped while C.5.2.2's
    /// conditions hold (`sps_max_num_reorder_pics`, `SpsMaxLatencyPictures`,
    /// `sps_max_dec_pic_buffering`).
    fn bump_before_decode(&mut self, start: &PicStart) {
        if start.clear_dpb {
            if start.no_output_of_prior_pics {
                self.clear_dpb_no_output();
            } else {
                self.dpb.delete_unused();
                while let Some((p, _)) = self.dpb.bump(false) {
                    self.output(&p);
                }
            }
        } else {
            self.dpb.delete_unused();
            while self.dpb.needs_bump(
                self.max_num_reorder,
                self.max_latency_pictures,
                self.max_dec_pic_buffering,
            ) {
                match self.dpb.bump(false) {
                    Some((p, _)) => self.output(&p),
                    None => break,
                }
            }
        }
    }

    /// Logs the 8.3.3 stand-ins of picture `poc`: `warn` the first time a
    /// missing reference is met in the coded video sequence, `debug` after.
    fn report_generated(&mut self, poc: i32, generated: &[dpb::Generated]) {
        for g in generated {
            let kind = if g.long_term {
                "long-term"
            } else {
                "short-term"
            };
            let what = if g.own_entry {
                format!(
                    "generated it (H.265 8.3.3) from picture POC {} (timestamp {} ns)",
                    g.substitute_poc, g.substitute_timestamp_ns
                )
            } else {
                format!(
                    "used picture POC {} (timestamp {} ns) in its place",
                    g.substitute_poc, g.substitute_timestamp_ns
                )
            };
            let key = (g.poc, g.long_term);
            if self.missing_reported.contains(&key) {
                tracing::debug!(
                    "hevc: byte {}: picture POC {poc}: {kind} reference POC {} still missing: {what}",
                    self.unit_offset,
                    g.poc
                );
                continue;
            }
            if self.missing_reported.len() >= 64 {
                self.missing_reported.clear();
            }
            self.missing_reported.push(key);
            tracing::warn!(
                "hevc: byte {}: picture POC {poc}: {kind} reference POC {} was never decoded \
                 (lost or cut stream); {what}",
                self.unit_offset,
                g.poc
            );
        }
    }

    /// `gst_v4l2_codec_h265_dec_decode_slice`, for the slice just parsed
    /// (its entry points in [`Self::slice_scratch`]).
    fn decode_slice(&mut self, nal: &NalRef, hdr: &SliceHeader, pps: &Rc<Pps>) {
        let t = parser::nal_unit_type(nal.data);
        let slice_based = self.mode == DecodeMode::SliceBased;
        let frame_based_no_slices = self.mode == DecodeMode::FrameBased && !self.has_slice_params;
        let sc: &[u8] = if self.start_code == StartCode::AnnexB {
            &[0, 0, 1]
        } else {
            &[]
        };
        if slice_based && self.cur.as_ref().is_some_and(|c| !c.bitstream.is_empty()) {
            self.submit(true);
        }
        let lt_size = parser::long_term_ref_pic_set_size(hdr, &pps.sps, parser::is_idr(t));
        let Some(cur) = self.cur.as_mut() else { return };
        if !frame_based_no_slices {
            let mut sp = controls::slice_params(
                hdr,
                pps,
                t,
                parser::temporal_id_plus1(nal.data),
                nal.data.len(),
                sc.len(),
                cur.poc,
                lt_size,
            );
            let r = &cur.refs;
            let total = r.num_pic_total_curr as usize;
            let mods = &hdr.ref_pic_list_modification;
            if !hdr.type_.is_i() {
                let l0 = dpb::ref_pic_list(
                    &r.st_curr_before,
                    &r.st_curr_after,
                    &r.lt_curr,
                    usize::from(hdr.num_ref_idx_l0_active_minus1) + 1,
                    total,
                    mods.ref_pic_list_modification_flag_l0
                        .then_some(mods.list_entry_l0.as_slice()),
                );
                for (i, x) in l0.iter().enumerate() {
                    sp.ref_idx_l0[i] = x.unwrap_or(0xff);
                }
                if hdr.type_.is_b() {
                    let l1 = dpb::ref_pic_list(
                        &r.st_curr_after,
                        &r.st_curr_before,
                        &r.lt_curr,
                        usize::from(hdr.num_ref_idx_l1_active_minus1) + 1,
                        total,
                        mods.ref_pic_list_modification_flag_l1
                            .then_some(mods.list_entry_l1.as_slice()),
                    );
                    for (i, x) in l1.iter().enumerate() {
                        sp.ref_idx_l1[i] = x.unwrap_or(0xff);
                    }
                }
            }
            cur.slices.push(sp);
            cur.entry_points.extend(
                self.slice_scratch
                    .entry_point_offset_minus1
                    .iter()
                    .map(|v| v.wrapping_add(1)),
            );
        }
        if hdr.first_slice_segment_in_pic_flag {
            cur.decode_params.short_term_ref_pic_set_size = hdr.st_rps_bits as u16;
            cur.decode_params.long_term_ref_pic_set_size = lt_size as u16;
        }
        cur.bitstream.extend_from_slice(sc);
        cur.bitstream.extend_from_slice(nal.data);
    }

    /// `gst_v4l2_codec_h265_dec_submit_bitstream`: one request.
    fn submit(&mut self, hold: bool) {
        let frame_based_no_slices = self.mode == DecodeMode::FrameBased && !self.has_slice_params;
        let need_sequence = self.need_sequence.take();
        let has_scaling = self.has_scaling_matrix;
        let has_ep = self.has_entry_points;
        let Some(cur) = self.cur.as_mut() else { return };
        let mut controls = self.pool.controls();
        if let Some(seq) = need_sequence {
            if self.has_ext_rps && seq.ext.is_none() {
                tracing::warn!(
                    "hevc: RPS syntax of SPS {} unknown: EXT_SPS_ST/LT_RPS not sent",
                    seq.sps.seq_parameter_set_id
                );
            }
            let (nst, nlt) = (
                seq.sps.num_short_term_ref_pic_sets,
                seq.sps.num_long_term_ref_pics_sps,
            );
            controls.push(Control::HevcSps(seq.sps));
            if let Some((st, lt)) = seq.ext {
                if nst > 0 && !st.is_empty() {
                    controls.push(Control::HevcExtSpsStRps(st));
                }
                if nlt > 0 && !lt.is_empty() {
                    controls.push(Control::HevcExtSpsLtRps(lt));
                }
            }
        }
        if cur.first_slice {
            controls.push(self.pool.boxed(cur.pps));
            if has_scaling {
                controls.push(self.pool.boxed(cur.scaling));
            }
            controls.push(self.pool.boxed(cur.decode_params));
            cur.first_slice = false;
        }
        if !cur.slices.is_empty() && !frame_based_no_slices {
            // the next request's arrays come from the pool too
            let slices = std::mem::replace(&mut cur.slices, self.pool.array());
            controls.push(Control::HevcSliceParams(slices));
            if has_ep && !cur.entry_points.is_empty() {
                let entry_points = std::mem::replace(&mut cur.entry_points, self.pool.array());
                controls.push(Control::HevcEntryPointOffsets(entry_points));
            }
        }
        cur.slices.clear();
        cur.entry_points.clear();
        let starts_picture = cur.starts_picture;
        cur.starts_picture = false;
        cur.submitted = true;
        self.events.push_back(CodecEvent::Decode(DecodeJob {
            timestamp_ns: cur.timestamp_ns,
            controls,
            bitstream: std::mem::take(&mut cur.bitstream),
            hold_capture: hold,
            starts_picture,
        }));
    }

    /// End of the current picture: last request, then into the DPB and
    /// C.5.2.3 bumping (`gst_h265_decoder_finish_picture`).
    fn finish_current_picture(&mut self) {
        if self.cur.as_ref().is_some_and(|c| !c.bitstream.is_empty()) {
            self.submit(false);
        }
        let Some(cur) = self.cur.take() else { return };
        if !cur.submitted {
            self.tracked.retain(|t| *t != cur.timestamp_ns);
            return;
        }
        self.dpb.delete_unused();
        self.dpb.add(Picture {
            timestamp_ns: cur.timestamp_ns,
            poc: cur.poc,
            poc_lsb: cur.poc_lsb,
            output_flag: cur.output_flag,
            pts: cur.pts,
            ..Default::default()
        });
        while self
            .dpb
            .needs_bump(self.max_num_reorder, self.max_latency_pictures, 0)
        {
            match self.dpb.bump(false) {
                Some((p, _)) => self.output(&p),
                None => break,
            }
        }
        self.emit_unrefs();
    }

    fn output(&mut self, p: &Picture) {
        let pts_ns = p
            .pts
            .unwrap_or_else(|| crate::synthetic_pts_ns(self.outputs, self.frame_duration_ns));
        self.outputs += 1;
        self.events.push_back(CodecEvent::Output {
            timestamp_ns: p.timestamp_ns,
            pts_ns,
        });
    }

    /// `gst_h265_decoder_drain_internal`: output everything, empty the DPB.
    fn drain_internal(&mut self) {
        while let Some((p, _)) = self.dpb.bump(true) {
            self.output(&p);
        }
        self.dpb.clear();
        self.emit_unrefs();
    }

    /// NoOutputOfPriorPicsFlag (C.5.2.2): empty without output.
    fn clear_dpb_no_output(&mut self) {
        self.dpb.clear();
        self.emit_unrefs();
    }

    /// Unref every decoded picture that is neither in the DPB nor being decoded.
    fn emit_unrefs(&mut self) {
        let dpb = &self.dpb;
        let cur = self.cur.as_ref().map(|c| c.timestamp_ns);
        let events = &mut self.events;
        self.tracked.retain(|&timestamp_ns| {
            let live = cur == Some(timestamp_ns)
                || dpb.list.iter().any(|p| p.timestamp_ns == timestamp_ns);
            if !live {
                events.push_back(CodecEvent::Unref { timestamp_ns });
            }
            live
        });
    }

    fn handle_nal(&mut self, nal: NalRef) {
        let t = parser::nal_unit_type(nal.data);
        match t {
            _ if parser::is_slice(t) => self.handle_slice(&nal),
            32..=34 => self.handle_param_set(&nal),
            36 => self.prev_nal_is_eos = true,
            37 => self.new_bitstream = true,
            _ => {}
        }
    }
}

impl StatelessCodec for HevcCodec {
    fn kind(&self) -> CodecKind {
        CodecKind::Hevc
    }

    fn recycle(&mut self, job: DecodeJob) {
        self.pool.give_back(job);
    }

    fn set_mode(&mut self, mode: DecodeMode, start_code: StartCode) {
        self.mode = mode;
        self.start_code = start_code;
    }

    fn set_device_controls(&mut self, has: &dyn Fn(u32) -> bool) {
        self.has_slice_params = has(bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS);
        self.has_scaling_matrix = has(bindings::V4L2_CID_STATELESS_HEVC_SCALING_MATRIX);
        self.has_entry_points = has(bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS);
        self.has_ext_rps = has(uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS)
            && has(uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS);
    }

    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError> {
        self.unit_pts = unit.pts_ns;
        self.unit_offset = unit.byte_offset;
        self.unit_timestamp_ns = self.next_frame * 1000;
        self.next_frame += 1;
        self.dropping = false;
        if let Some(n) = self.nal_length_size {
            let mut nals = parser::length_prefixed_nals(unit.data, n);
            for nal in nals.by_ref() {
                self.handle_nal(nal);
            }
            if let Some(off) = nals.overrun {
                self.skipped(off, "NAL unit length overruns the coded unit".into());
            }
        } else {
            for nal in parser::annexb_nals(unit.data) {
                self.handle_nal(nal);
            }
        }
        // One coded unit is one access unit.
        self.finish_current_picture();
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CodecError> {
        self.finish_current_picture();
        self.drain_internal();
        Ok(())
    }

    fn reset(&mut self) {
        self.cur = None;
        self.dpb.clear();
        self.poc = PocState::default();
        self.need_sequence = self.last_sequence.clone();
        self.waiting_rap = true;
        self.skip_reported = false;
        self.new_bitstream = true;
        self.prev_independent = None;
        self.missing_reported.clear();
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
