//! HEVC (Main, Main10): `VAPictureParameterBufferHEVC` +
//! `VAIQMatrixBufferHEVC` + `VASliceParameterBufferHEVC` + slice data →
//! `V4L2_CID_STATELESS_HEVC_*` (SPS, PPS, SCALING_MATRIX, DECODE_PARAMS,
//! SLICE_PARAMS, ENTRY_POINT_OFFSETS and, on devices that have them, the
//! RK3588 `EXT_SPS_ST_RPS` / `EXT_SPS_LT_RPS` arrays).
//!
//! Sources: libva `va/va_dec_hevc.h` and `va/va.h` (the VA structs, their
//! bit fields, `VA_PICTURE_HEVC_*`), FFmpeg's `libavcodec/vaapi_hevc.c`
//! (what the client puts where: `ReferenceFrames` are the DPB's reference
//! pictures after the RPS marking with their `RPS_*` flags, `RefPicList`
//! indexes `ReferenceFrames`, `st_rps_bits` is the slice's
//! `st_ref_pic_set()` size, the IQ matrix is in raster order), the uAPI
//! "ext-ctrls-codec-stateless.rst", GStreamer 1.26's
//! `sys/v4l2codecs/gstv4l2codech265dec.c` and our own
//! `crates/codec/src/hevc/controls.rs` (which field is filled from what) and
//! ITU-T H.265 (V10) 7.3.6.1 (slice segment header syntax).
//!
//! VA carries what a decoder needs, not everything the uAPI structs hold.
//! What it lacks is read from the slice's own header ([`read_slice_header`];
//! the slice data starts at the NAL unit header) or derived, else left 0;
//! docs/VA-DRIVER.md lists every such field.
//!
//! # EXT_SPS_ST_RPS / EXT_SPS_LT_RPS (RK3588 vdpu381 / vdpu383)
//! These carry the SPS's `st_ref_pic_set(i)` and long-term candidates,
//! which VA does not. rkvdec (`rkvdec-hevc-common.c`
//! `rkvdec_hevc_assemble_hw_rps`) writes every set into the hardware's RPS
//! table and the hardware parses each slice header itself: a slice with
//! `short_term_ref_pic_set_sps_flag` 1 reads set `short_term_ref_pic_set_idx`,
//! a slice whose own set is inter-predicted reads set `RefRpsIdx`, a slice
//! with `lt_idx_sps[i]` reads candidate `lt_idx_sps[i]`; nothing else of
//! the arrays is used for that picture (as read in the driver; unverified
//! on silicon). So per picture ([`ExtRps::arrays`]) every element holds
//! what the picture reads:
//! - the picture's short-term RPS, which VA gives exactly: every
//!   short-term picture of `ReferenceFrames` (after the 8.3.2 marking these
//!   are the RPS's pictures; FFmpeg adds generated ones for missing
//!   references) with `DeltaPoc = POC − current POC`, S0 (negative, nearest
//!   first) and S1 (positive, nearest first) as 7.4.8 orders them,
//!   `used_by_curr_pic` = an `RPS_ST_CURR_*` flag; sent as an explicit
//!   set, which the kernel turns back into the same lists. Checked against
//!   GStreamer 1.28's arrays: for each of the 58 non-IDR pictures of the
//!   sid goldens that use an SPS set, the set rebuilt from `dpb[]` (what
//!   VA gives) is one of GStreamer's SPS sets;
//! - for a slice set inter-predicted from SPS set `RefRpsIdx`: that set as
//!   an earlier picture that named it showed it; never shown:
//!   [`MapError::Unsupported`] (`vaEndPicture` fails) rather than a table
//!   the hardware would misread;
//! - the one SPS long-term candidate a picture uses (two or more in one
//!   picture: [`MapError::Unsupported`]).
//!
use v4l2r::bindings;
pub use vreq_core::hevc::{is_idr, is_irap, is_slice};
use vreq_core::rbsp::{ceil_log2, strip_emulation_prevention, BitReader, RbspError};
use vreq_core::uapi_ext::{
    self, V4l2CtrlHevcExtSpsLtRps, V4l2CtrlHevcExtSpsStRps, V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT,
};
use vreq_core::{CodecKind, Control, DecodeMode, StartCode};

use super::h264::{slice_bitstream, strip_start_code};
use super::{BufferStructs, CodecMap, MapContext, MapError, Mapped, PictureFormat, Rendered};

use crate::ffi::{hevc_long_slice_flags, hevc_pic_fields, hevc_slice_parsing_fields, read_element};
use crate::sys::{self, VAPictureHEVC, VASurfaceID};

/// A picture parameter buffer's bytes as `VAPictureParameterBufferHEVC`
/// (`None` when shorter; FFmpeg sends the `…HEVCExtension` struct for RExt
/// profiles, which starts with it).
pub fn picture_parameters(bytes: &[u8]) -> Option<sys::VAPictureParameterBufferHEVC> {
    read_element(bytes, 0)
}

/// An IQ matrix buffer's bytes as `VAIQMatrixBufferHEVC`.
pub fn iq_matrix(bytes: &[u8]) -> Option<sys::VAIQMatrixBufferHEVC> {
    read_element(bytes, 0)
}

/// The first slice parameter element of a buffer's bytes.
pub fn slice_parameters(bytes: &[u8]) -> Option<sys::VASliceParameterBufferHEVC> {
    read_element(bytes, 0)
}

/// `pic_fields` of `VAPictureParameterBufferHEVC` (va_dec_hevc.h bit
/// field, LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PicFields {
    pub chroma_format_idc: u8,
    pub separate_colour_plane_flag: bool,
    pub pcm_enabled_flag: bool,
    pub scaling_list_enabled_flag: bool,
    pub transform_skip_enabled_flag: bool,
    pub amp_enabled_flag: bool,
    pub strong_intra_smoothing_enabled_flag: bool,
    pub sign_data_hiding_enabled_flag: bool,
    pub constrained_intra_pred_flag: bool,
    pub cu_qp_delta_enabled_flag: bool,
    pub weighted_pred_flag: bool,
    pub weighted_bipred_flag: bool,
    pub transquant_bypass_enabled_flag: bool,
    pub tiles_enabled_flag: bool,
    pub entropy_coding_sync_enabled_flag: bool,
    pub pps_loop_filter_across_slices_enabled_flag: bool,
    pub loop_filter_across_tiles_enabled_flag: bool,
    pub pcm_loop_filter_disabled_flag: bool,
}

impl PicFields {
    /// Decodes `pic_fields.value`.
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        PicFields {
            chroma_format_idc: (v & 3) as u8,
            separate_colour_plane_flag: b(2),
            pcm_enabled_flag: b(3),
            scaling_list_enabled_flag: b(4),
            transform_skip_enabled_flag: b(5),
            amp_enabled_flag: b(6),
            strong_intra_smoothing_enabled_flag: b(7),
            sign_data_hiding_enabled_flag: b(8),
            constrained_intra_pred_flag: b(9),
            cu_qp_delta_enabled_flag: b(10),
            weighted_pred_flag: b(11),
            weighted_bipred_flag: b(12),
            transquant_bypass_enabled_flag: b(13),
            tiles_enabled_flag: b(14),
            entropy_coding_sync_enabled_flag: b(15),
            pps_loop_filter_across_slices_enabled_flag: b(16),
            loop_filter_across_tiles_enabled_flag: b(17),
            pcm_loop_filter_disabled_flag: b(18),
        }
    }

    /// `ChromaArrayType` (7.4.3.2.1): 0 with separate colour planes.
    pub fn chroma_array_type(&self) -> u8 {
        if self.separate_colour_plane_flag {
            0
        } else {
            self.chroma_format_idc
        }
    }
}

/// `slice_parsing_fields` of `VAPictureParameterBufferHEVC` (LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SliceParsingFields {
    pub lists_modification_present_flag: bool,
    pub long_term_ref_pics_present_flag: bool,
    pub sps_temporal_mvp_enabled_flag: bool,
    pub cabac_init_present_flag: bool,
    pub output_flag_present_flag: bool,
    pub dependent_slice_segments_enabled_flag: bool,
    pub pps_slice_chroma_qp_offsets_present_flag: bool,
    pub sample_adaptive_offset_enabled_flag: bool,
    pub deblocking_filter_override_enabled_flag: bool,
    pub pps_disable_deblocking_filter_flag: bool,
    pub slice_segment_header_extension_present_flag: bool,
}

impl SliceParsingFields {
    /// Decodes `slice_parsing_fields.value` (`RapPicFlag`, `IdrPicFlag`,
    /// `IntraPicFlag` are not read: the NAL header has the type).
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        SliceParsingFields {
            lists_modification_present_flag: b(0),
            long_term_ref_pics_present_flag: b(1),
            sps_temporal_mvp_enabled_flag: b(2),
            cabac_init_present_flag: b(3),
            output_flag_present_flag: b(4),
            dependent_slice_segments_enabled_flag: b(5),
            pps_slice_chroma_qp_offsets_present_flag: b(6),
            sample_adaptive_offset_enabled_flag: b(7),
            deblocking_filter_override_enabled_flag: b(8),
            pps_disable_deblocking_filter_flag: b(9),
            slice_segment_header_extension_present_flag: b(10),
        }
    }
}

/// `LongSliceFlags` of `VASliceParameterBufferHEVC` (LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LongSliceFlags {
    pub dependent_slice_segment_flag: bool,
    pub slice_type: u8,
    pub color_plane_id: u8,
    pub slice_sao_luma_flag: bool,
    pub slice_sao_chroma_flag: bool,
    pub mvd_l1_zero_flag: bool,
    pub cabac_init_flag: bool,
    pub slice_temporal_mvp_enabled_flag: bool,
    pub slice_deblocking_filter_disabled_flag: bool,
    pub collocated_from_l0_flag: bool,
    pub slice_loop_filter_across_slices_enabled_flag: bool,
}

impl LongSliceFlags {
    /// Decodes `LongSliceFlags.value` (`LastSliceOfPic`, bit 0, is not
    /// needed: `vaEndPicture` ends the picture).
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        LongSliceFlags {
            dependent_slice_segment_flag: b(1),
            slice_type: (v >> 2 & 3) as u8,
            color_plane_id: (v >> 4 & 3) as u8,
            slice_sao_luma_flag: b(6),
            slice_sao_chroma_flag: b(7),
            mvd_l1_zero_flag: b(8),
            cabac_init_flag: b(9),
            slice_temporal_mvp_enabled_flag: b(10),
            slice_deblocking_filter_disabled_flag: b(11),
            collocated_from_l0_flag: b(12),
            slice_loop_filter_across_slices_enabled_flag: b(13),
        }
    }
}

/// What the mapping needs of one `VAPictureParameterBufferHEVC`.
#[derive(Clone, Copy)]
pub struct Picture<'a> {
    pub pp: &'a sys::VAPictureParameterBufferHEVC,
    pub pic: PicFields,
    pub parsing: SliceParsingFields,
}

impl<'a> Picture<'a> {
    /// Decodes the bit fields of `pp`.
    pub fn new(pp: &'a sys::VAPictureParameterBufferHEVC) -> Self {
        Picture {
            pp,
            pic: PicFields::from_value(hevc_pic_fields(pp)),
            parsing: SliceParsingFields::from_value(hevc_slice_parsing_fields(pp)),
        }
    }

    /// `PicSizeInCtbsY` (7-10 … 7-19).
    pub fn pic_size_in_ctbs(&self) -> u32 {
        let pp = self.pp;
        let log2_ctb = (u32::from(pp.log2_min_luma_coding_block_size_minus3)
            + 3
            + u32::from(pp.log2_diff_max_min_luma_coding_block_size))
        .min(16);
        let ctb = 1u32 << log2_ctb;
        u32::from(pp.pic_width_in_luma_samples).div_ceil(ctb)
            * u32::from(pp.pic_height_in_luma_samples).div_ceil(ctb)
    }

    /// `MaxPicOrderCntLsb` (7-8).
    fn max_poc_lsb(&self) -> i32 {
        1 << (u32::from(self.pp.log2_max_pic_order_cnt_lsb_minus4) + 4).min(16)
    }
}

/// Errors reading a slice segment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SliceError {
    /// The slice data ends inside the header, or a value is out of its range.
    Truncated,
    /// Not a coded slice segment NAL unit (`nal_unit_type` 0–9, 16–21).
    NotASlice(u8),
    /// The slice's `st_ref_pic_set()` is inter-predicted from a set of the
    /// SPS whose size VA does not tell (`st_rps_bits` 0).
    UnknownRefRps,
}

impl From<RbspError> for SliceError {
    /// Every bit reader failure (data ending early, an over-long or
    /// out-of-range `ue(v)`) is a [`SliceError::Truncated`] header.
    fn from(_: RbspError) -> Self {
        SliceError::Truncated
    }
}

/// One long-term entry of a slice header (7.3.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LongTermEntry {
    /// `lt_idx_sps[i]` for the first `num_long_term_sps` entries, else `None`.
    pub lt_idx_sps: Option<u8>,
    /// `poc_lsb_lt[i]` (explicit entries only).
    pub poc_lsb_lt: u16,
    /// `used_by_curr_pic_lt_flag[i]` (explicit entries only).
    pub used_by_curr_pic_lt_flag: bool,
    pub delta_poc_msb_present_flag: bool,
    /// `delta_poc_msb_cycle_lt[i]` as coded (not accumulated, 7-52).
    pub delta_poc_msb_cycle_lt: u32,
}

/// The slice segment header fields the uAPI wants and VA does not carry
/// (7.3.6.1), read from the slice NAL unit. Bit counts are of the RBSP
/// (emulation prevention bytes removed), as GStreamer's `gsth265parser.c`
/// and cros-codecs count them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SliceHeader {
    pub nal_unit_type: u8,
    pub nuh_temporal_id_plus1: u8,
    pub first_slice_segment_in_pic_flag: bool,
    pub no_output_of_prior_pics_flag: bool,
    pub slice_pic_parameter_set_id: u8,
    pub dependent_slice_segment_flag: bool,
    pub slice_type: u8,
    pub short_term_ref_pic_set_sps_flag: bool,
    pub short_term_ref_pic_set_idx: u8,
    /// The slice's own `st_ref_pic_set()` is inter-predicted.
    pub inter_ref_pic_set_prediction_flag: bool,
    /// `delta_idx_minus1` of the slice's own inter-predicted set.
    pub delta_idx_minus1: u8,
    /// `NumDeltaPocs[RefRpsIdx]` of the set the slice's own set is predicted from.
    pub num_delta_pocs_of_ref_rps_idx: u8,
    /// Bits of the slice's own `st_ref_pic_set()` (0 with the SPS's).
    pub st_rps_bits: u32,
    /// `num_long_term_sps` (the first entries of `long_term`).
    pub num_long_term_sps: u8,
    pub long_term: Vec<LongTermEntry>,
    /// Bits from `num_long_term_sps` to the last `delta_poc_msb_cycle_lt`
    /// (GStreamer's `long_term_ref_pic_set_size`; 0 without long-term
    /// syntax).
    pub lt_rps_bits: u32,
    /// `collocated_from_l0_flag`, 1 when absent (7.4.7.1).
    pub collocated_from_l0_flag: bool,
    pub num_entry_point_offsets: u32,
    /// `entry_point_offset_minus1[i]`.
    pub entry_point_offset_minus1: Vec<u32>,
    /// Bits from the NAL header's first bit to the end of
    /// `byte_alignment()` (cros-codecs' and GStreamer's `header_size` + the
    /// 16 NAL header bits).
    pub header_bit_size: u32,
}

/// What the slice header reader needs besides the picture parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct SliceFacts<'a> {
    /// VA's `st_rps_bits` (FFmpeg / GStreamer: the slice's own
    /// `st_ref_pic_set()` size; 0 when unknown).
    pub st_rps_bits: u32,
    /// `NumPicTotalCurr` (7-55): `ReferenceFrames` flagged `RPS_*_CURR`.
    pub num_pic_total_curr: u32,
    /// The slice's final `num_ref_idx_l0/l1_active_minus1` (VA's).
    pub num_ref_idx_active_minus1: [u8; 2],
    /// `NumDeltaPocs` of the SPS's sets, when known (for a slice set
    /// inter-predicted from one when `st_rps_bits` is 0).
    pub known_num_delta_pocs: &'a [Option<u8>],
}

/// Most NAL bytes the header reader looks at, before their emulation
/// prevention bytes are removed (7.4.2) (entry point offsets make headers
/// long: up to 440 × 32 bits for an 8K WPP picture).
const HEADER_BYTES_MAX: usize = 1 << 16;

/// Reads the slice segment header of `nal` (a coded slice segment NAL unit
/// from its two header bytes, no start code) with the sequence / picture
/// facts of `pic` and `facts` (7.3.6.1; `pred_weight_table()` and
/// `ref_pic_lists_modification()` are skipped, their values come from VA).
/// A dependent slice segment's header has only its address and entry
/// points: the other fields stay default (the caller takes them from the
/// slice segment it depends on).
pub fn read_slice_header(
    nal: &[u8],
    pic: &Picture<'_>,
    facts: &SliceFacts<'_>,
) -> Result<SliceHeader, SliceError> {
    let rbsp = strip_emulation_prevention(&nal[..nal.len().min(HEADER_BYTES_MAX)]);
    let mut r = BitReader::new(&rbsp);
    let mut h = SliceHeader {
        collocated_from_l0_flag: true,
        ..Default::default()
    };
    let (pp, pf, sp) = (pic.pp, pic.pic, pic.parsing);
    r.u(1)?; // forbidden_zero_bit
    h.nal_unit_type = r.u(6)? as u8;
    r.u(6)?; // nuh_layer_id
    h.nuh_temporal_id_plus1 = r.u(3)? as u8;
    if !is_slice(h.nal_unit_type) {
        return Err(SliceError::NotASlice(h.nal_unit_type));
    }
    let t = h.nal_unit_type;
    h.first_slice_segment_in_pic_flag = r.flag()?;
    if is_irap(t) {
        h.no_output_of_prior_pics_flag = r.flag()?;
    }
    h.slice_pic_parameter_set_id = r.ue_max(63)? as u8;
    if !h.first_slice_segment_in_pic_flag {
        if sp.dependent_slice_segments_enabled_flag {
            h.dependent_slice_segment_flag = r.flag()?;
        }
        r.u(ceil_log2(pic.pic_size_in_ctbs()))?; // slice_segment_address: VA has it
    }
    if !h.dependent_slice_segment_flag {
        r.skip(usize::from(pp.num_extra_slice_header_bits))?; // slice_reserved_flag[]
        h.slice_type = r.ue_max(2)? as u8;
        if sp.output_flag_present_flag {
            r.flag()?; // pic_output_flag
        }
        if pf.separate_colour_plane_flag {
            r.u(2)?; // colour_plane_id: VA has it
        }
        let mut slice_temporal_mvp = false;
        if !is_idr(t) {
            r.skip(usize::from(pp.log2_max_pic_order_cnt_lsb_minus4) + 4)?; // slice_pic_order_cnt_lsb
            h.short_term_ref_pic_set_sps_flag = r.flag()?;
            let nsets = u32::from(pp.num_short_term_ref_pic_sets);
            if !h.short_term_ref_pic_set_sps_flag {
                let start = r.pos();
                read_slice_st_rps(&mut r, &mut h, nsets, facts)?;
                h.st_rps_bits = (r.pos() - start) as u32;
            } else if nsets > 1 {
                h.short_term_ref_pic_set_idx = r.u(ceil_log2(nsets))? as u8;
                if u32::from(h.short_term_ref_pic_set_idx) >= nsets {
                    return Err(SliceError::Truncated);
                }
            }
            if sp.long_term_ref_pics_present_flag {
                let start = r.pos();
                let nsps = u32::from(pp.num_long_term_ref_pic_sps);
                if nsps > 0 {
                    h.num_long_term_sps = r.ue_max(nsps.min(32))? as u8;
                }
                let pics = r.ue_max(32)?;
                let n = u32::from(h.num_long_term_sps) + pics;
                if n > 32 {
                    return Err(SliceError::Truncated);
                }
                for i in 0..n {
                    let mut e = LongTermEntry::default();
                    if i < u32::from(h.num_long_term_sps) {
                        e.lt_idx_sps = Some(if nsps > 1 {
                            r.u(ceil_log2(nsps))? as u8
                        } else {
                            0
                        });
                    } else {
                        e.poc_lsb_lt =
                            r.u(u32::from(pp.log2_max_pic_order_cnt_lsb_minus4) + 4)? as u16;
                        e.used_by_curr_pic_lt_flag = r.flag()?;
                    }
                    e.delta_poc_msb_present_flag = r.flag()?;
                    if e.delta_poc_msb_present_flag {
                        e.delta_poc_msb_cycle_lt = r.ue()?;
                    }
                    h.long_term.push(e);
                }
                h.lt_rps_bits = (r.pos() - start) as u32;
            }
            if sp.sps_temporal_mvp_enabled_flag {
                slice_temporal_mvp = r.flag()?;
            }
        }
        let (mut sao_luma, mut sao_chroma) = (false, false);
        if sp.sample_adaptive_offset_enabled_flag {
            sao_luma = r.flag()?;
            if pf.chroma_array_type() != 0 {
                sao_chroma = r.flag()?;
            }
        }
        let (b, p) = (h.slice_type == 0, h.slice_type == 1);
        if p || b {
            let [mut l0, mut l1] = facts.num_ref_idx_active_minus1;
            if l0 > 14 || l1 > 14 {
                // past num_ref_idx_lX_active_minus1's range (7.4.7.1)
                return Err(SliceError::Truncated);
            }
            if r.flag()? {
                // num_ref_idx_active_override_flag
                l0 = r.ue_max(14)? as u8;
                if b {
                    l1 = r.ue_max(14)? as u8;
                }
            }
            if sp.lists_modification_present_flag && facts.num_pic_total_curr > 1 {
                let bits = ceil_log2(facts.num_pic_total_curr);
                if r.flag()? {
                    r.skip(bits as usize * (usize::from(l0) + 1))?; // list_entry_l0
                }
                if b && r.flag()? {
                    r.skip(bits as usize * (usize::from(l1) + 1))?; // list_entry_l1
                }
            }
            if b {
                r.flag()?; // mvd_l1_zero_flag
            }
            if sp.cabac_init_present_flag {
                r.flag()?; // cabac_init_flag
            }
            if slice_temporal_mvp {
                if b {
                    h.collocated_from_l0_flag = r.flag()?;
                }
                if (h.collocated_from_l0_flag && l0 > 0) || (!h.collocated_from_l0_flag && l1 > 0) {
                    r.ue_max(14)?; // collocated_ref_idx
                }
            }
            if (pf.weighted_pred_flag && p) || (pf.weighted_bipred_flag && b) {
                skip_pred_weight_table(&mut r, pic, [l0, l1], b)?;
            }
            r.ue_max(4)?; // five_minus_max_num_merge_cand
        }
        r.se()?; // slice_qp_delta
        if sp.pps_slice_chroma_qp_offsets_present_flag {
            r.se()?;
            r.se()?;
        }
        let mut deblocking_override = false;
        if sp.deblocking_filter_override_enabled_flag {
            deblocking_override = r.flag()?;
        }
        let mut deblocking_disabled = sp.pps_disable_deblocking_filter_flag;
        if deblocking_override {
            deblocking_disabled = r.flag()?;
            if !deblocking_disabled {
                r.se()?; // slice_beta_offset_div2
                r.se()?; // slice_tc_offset_div2
            }
        }
        if pf.pps_loop_filter_across_slices_enabled_flag
            && (sao_luma || sao_chroma || !deblocking_disabled)
        {
            r.flag()?; // slice_loop_filter_across_slices_enabled_flag
        }
    }
    if pf.tiles_enabled_flag || pf.entropy_coding_sync_enabled_flag {
        h.num_entry_point_offsets = r.ue_max(pic.pic_size_in_ctbs().max(1) * 22)?;
        if h.num_entry_point_offsets > 0 {
            let len = r.ue_max(31)? + 1;
            let n = h.num_entry_point_offsets as usize;
            // each offset takes at least one bit: bounded by the header bytes
            if n > r.len_bits() {
                return Err(SliceError::Truncated);
            }
            h.entry_point_offset_minus1.reserve(n);
            for _ in 0..n {
                h.entry_point_offset_minus1.push(r.u(len)?);
            }
        }
    }
    if sp.slice_segment_header_extension_present_flag {
        let len = r.ue_max(256)?;
        for _ in 0..len {
            r.u(8)?;
        }
    }
    // byte_alignment(): alignment_bit_equal_to_one, then zeros
    if !r.flag()? {
        return Err(SliceError::Truncated);
    }
    while r.pos() % 8 != 0 {
        r.u(1)?;
    }
    h.header_bit_size = r.pos() as u32;
    Ok(h)
}

/// The slice's own `st_ref_pic_set(num_short_term_ref_pic_sets)` (7.3.7).
/// For an inter-predicted set the loop runs over `NumDeltaPocs[RefRpsIdx]
/// + 1` entries, a count of the SPS that VA does not carry: it is the one
/// that makes the set `facts.st_rps_bits` long (each entry is 1 or 2 bits),
/// else what `facts.known_num_delta_pocs` remembers.
fn read_slice_st_rps(
    r: &mut BitReader<'_>,
    h: &mut SliceHeader,
    nsets: u32,
    facts: &SliceFacts<'_>,
) -> Result<(), SliceError> {
    let start = r.pos();
    if nsets != 0 {
        h.inter_ref_pic_set_prediction_flag = r.flag()?;
    }
    if h.inter_ref_pic_set_prediction_flag {
        h.delta_idx_minus1 = r.ue_max(nsets - 1)? as u8;
        r.flag()?; // delta_rps_sign
        r.ue_max((1 << 15) - 1)?; // abs_delta_rps_minus1
        let ref_idx = nsets as usize - (usize::from(h.delta_idx_minus1) + 1);
        let known = facts.known_num_delta_pocs.get(ref_idx).copied().flatten();
        if let Some(n) = known.filter(|_| facts.st_rps_bits == 0) {
            for _ in 0..=n {
                if !r.flag()? {
                    r.flag()?;
                }
            }
            h.num_delta_pocs_of_ref_rps_idx = n;
            return Ok(());
        }
        if facts.st_rps_bits == 0 {
            return Err(SliceError::UnknownRefRps);
        }
        let end = start + facts.st_rps_bits as usize;
        let mut entries = 0u32;
        while r.pos() < end {
            if !r.flag()? {
                r.flag()?; // use_delta_flag
            }
            entries += 1;
            if entries > 33 {
                return Err(SliceError::Truncated);
            }
        }
        if r.pos() != end || entries == 0 {
            return Err(SliceError::Truncated);
        }
        h.num_delta_pocs_of_ref_rps_idx = (entries - 1) as u8;
    } else {
        let neg = r.ue_max(16)?;
        let pos = r.ue_max(16)?;
        if neg + pos > 16 {
            return Err(SliceError::Truncated);
        }
        for _ in 0..neg + pos {
            r.ue_max(1 << 15)?; // delta_poc_s*_minus1
            r.flag()?; // used_by_curr_pic_s*_flag
        }
    }
    Ok(())
}

fn skip_pred_weight_table(
    r: &mut BitReader<'_>,
    pic: &Picture<'_>,
    active: [u8; 2],
    b: bool,
) -> Result<(), SliceError> {
    r.ue_max(7)?; // luma_log2_weight_denom
    let chroma = pic.pic.chroma_array_type() != 0;
    if chroma {
        r.se()?; // delta_chroma_log2_weight_denom
    }
    for &n in active.iter().take(if b { 2 } else { 1 }) {
        let n = usize::from(n) + 1;
        // luma_weight_lX_flag[i] / chroma_weight_lX_flag[i]: present for
        // every reference of a single-layer stream without pps_curr_pic_ref
        let mut luma = [false; 16];
        let mut chr = [false; 16];
        for l in luma.iter_mut().take(n) {
            *l = r.flag()?;
        }
        if chroma {
            for c in chr.iter_mut().take(n) {
                *c = r.flag()?;
            }
        }
        for i in 0..n {
            if luma[i] {
                r.se()?;
                r.se()?;
            }
            if chr[i] {
                for _ in 0..4 {
                    r.se()?;
                }
            }
        }
    }
    Ok(())
}

/// Whether a `VAPictureHEVC` names a picture.
pub fn is_valid(p: &VAPictureHEVC) -> bool {
    p.picture_id != sys::VA_INVALID_SURFACE && p.flags & sys::VA_PICTURE_HEVC_INVALID == 0
}

const CURR_FLAGS: u32 = sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE
    | sys::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER
    | sys::VA_PICTURE_HEVC_RPS_LT_CURR;

/// One reference picture as `dpb[]` gets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpbRef {
    /// Index into `ReferenceFrames`.
    pub va_index: usize,
    pub timestamp_ns: u64,
    pub poc: i32,
    pub flags: u32,
}

/// The `dpb[]` entries: every valid `ReferenceFrames` picture whose surface
/// holds a rendered picture, in decode order (the OUTPUT timestamps grow
/// per picture; GStreamer lists its DPB in decode order; FFmpeg lists
/// surfaces in its DPB slot order), at most 16.
pub fn dpb_refs(
    pp: &sys::VAPictureParameterBufferHEVC,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> Vec<DpbRef> {
    let mut v: Vec<DpbRef> = pp
        .ReferenceFrames
        .iter()
        .enumerate()
        .filter(|(_, r)| is_valid(r))
        .filter_map(|(i, r)| {
            Some(DpbRef {
                va_index: i,
                timestamp_ns: timestamp_of(r.picture_id)?,
                poc: r.pic_order_cnt,
                flags: r.flags,
            })
        })
        .collect();
    v.sort_by_key(|r| r.timestamp_ns);
    v.truncate(bindings::V4L2_HEVC_DPB_ENTRIES_NUM_MAX as usize);
    v
}

/// The current picture's short-term RPS from `ReferenceFrames`: (DeltaPocS0
/// with `used_by_curr_pic_s0`, nearest first, then S1 likewise), 7.4.8.
pub fn short_term_rps(pp: &sys::VAPictureParameterBufferHEVC) -> StSet {
    let cur = pp.CurrPic.pic_order_cnt;
    let mut s0 = Vec::new();
    let mut s1 = Vec::new();
    for r in pp.ReferenceFrames.iter().filter(|r| is_valid(r)) {
        if r.flags & sys::VA_PICTURE_HEVC_LONG_TERM_REFERENCE != 0 {
            continue;
        }
        let d = r.pic_order_cnt.wrapping_sub(cur);
        let used = r.flags
            & (sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE | sys::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER)
            != 0;
        if d < 0 {
            s0.push((d, used));
        } else if d > 0 {
            s1.push((d, used));
        }
    }
    s0.sort_by_key(|&(d, _)| std::cmp::Reverse(d));
    s1.sort_by_key(|&(d, _)| d);
    (s0, s1)
}

/// `V4L2_CID_STATELESS_HEVC_DECODE_PARAMS`: `pic_order_cnt_val` = `CurrPic`'s
/// POC, `dpb[]` = `refs` ([`dpb_refs`]), the "Curr" lists = the indices of
/// the `dpb[]` entries flagged `RPS_ST_CURR_BEFORE` (POC descending: the
/// order of `RefPicSetStCurrBefore`, 8.3.2), `RPS_ST_CURR_AFTER` (ascending)
/// and `RPS_LT_CURR` (the slice header's long-term order where its POC LSBs
/// tell, else decode order); IRAP / IDR / NO_OUTPUT_OF_PRIOR flags and the
/// RPS sizes from the first slice's header.
pub fn decode_params(
    pic: &Picture<'_>,
    first: &SliceHeader,
    refs: &[DpbRef],
) -> bindings::v4l2_ctrl_hevc_decode_params {
    let f = |b: bool, v: u32| if b { u64::from(v) } else { 0 };
    let mut dp = bindings::v4l2_ctrl_hevc_decode_params {
        pic_order_cnt_val: pic.pp.CurrPic.pic_order_cnt,
        short_term_ref_pic_set_size: first.st_rps_bits as u16,
        long_term_ref_pic_set_size: first.lt_rps_bits as u16,
        num_active_dpb_entries: refs.len() as u8,
        num_delta_pocs_of_ref_rps_idx: if first.inter_ref_pic_set_prediction_flag {
            first.num_delta_pocs_of_ref_rps_idx
        } else {
            0
        },
        flags: f(
            is_irap(first.nal_unit_type),
            bindings::V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC,
        ) | f(
            is_idr(first.nal_unit_type),
            bindings::V4L2_HEVC_DECODE_PARAM_FLAG_IDR_PIC,
        ) | f(
            first.no_output_of_prior_pics_flag,
            bindings::V4L2_HEVC_DECODE_PARAM_FLAG_NO_OUTPUT_OF_PRIOR,
        ),
        ..Default::default()
    };
    for (e, r) in dp.dpb.iter_mut().zip(refs) {
        *e = bindings::v4l2_hevc_dpb_entry {
            timestamp: r.timestamp_ns,
            flags: if r.flags & sys::VA_PICTURE_HEVC_LONG_TERM_REFERENCE != 0 {
                bindings::V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE as u8
            } else {
                0
            },
            field_pic: 0,
            pic_order_cnt_val: r.poc,
            ..Default::default()
        };
    }
    let indexed = |flag: u32| -> Vec<(usize, i32)> {
        refs.iter()
            .enumerate()
            .filter(|(_, r)| r.flags & flag != 0)
            .map(|(i, r)| (i, r.poc))
            .collect()
    };
    let mut before = indexed(sys::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE);
    before.sort_by_key(|&(_, poc)| std::cmp::Reverse(poc));
    let mut after = indexed(sys::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER);
    after.sort_by_key(|&(_, poc)| poc);
    let lt = lt_curr_order(pic, first, &indexed(sys::VA_PICTURE_HEVC_RPS_LT_CURR));
    dp.num_poc_st_curr_before = before.len().min(16) as u8;
    dp.num_poc_st_curr_after = after.len().min(16) as u8;
    dp.num_poc_lt_curr = lt.len().min(16) as u8;
    for i in 0..16 {
        let at = |l: &[(usize, i32)]| l.get(i).map_or(0xff, |&(x, _)| x as u8);
        dp.poc_st_curr_before[i] = at(&before);
        dp.poc_st_curr_after[i] = at(&after);
        dp.poc_lt_curr[i] = at(&lt);
    }
    dp
}

/// `RefPicSetLtCurr` order (8.3.2: the slice header's long-term entries
/// in order, those with `used_by_curr_pic_lt_flag`): each explicit entry is
/// matched to the `dpb[]` picture with its POC (or POC LSBs); the rest
/// keep decode order after them.
fn lt_curr_order(pic: &Picture<'_>, first: &SliceHeader, lt: &[(usize, i32)]) -> Vec<(usize, i32)> {
    let max_lsb = pic.max_poc_lsb();
    let cur = pic.pp.CurrPic.pic_order_cnt;
    let mut rest: Vec<(usize, i32)> = lt.to_vec();
    let mut out = Vec::with_capacity(lt.len());
    for e in &first.long_term {
        if e.lt_idx_sps.is_some() || !e.used_by_curr_pic_lt_flag {
            continue;
        }
        let lsb = i32::from(e.poc_lsb_lt);
        let pos = rest.iter().position(|&(_, poc)| {
            if e.delta_poc_msb_present_flag {
                // 8-5 with DeltaPocMsbCycleLt as coded (first entries)
                let (cur, max) = (i64::from(cur), i64::from(max_lsb));
                let cycle = i64::from(e.delta_poc_msb_cycle_lt);
                i64::from(poc) == cur - cycle * max - (cur & (max - 1)) + i64::from(lsb)
            } else {
                poc & (max_lsb - 1) == lsb
            }
        });
        if let Some(p) = pos {
            out.push(rest.remove(p));
        }
    }
    out.extend(rest);
    out
}

/// `V4L2_CID_STATELESS_HEVC_SPS` from VA's picture parameters. Not carried
/// by VA, left 0: `video_parameter_set_id`, `seq_parameter_set_id`,
/// `sps_max_num_reorder_pics`, `sps_max_latency_increase_plus1`,
/// `sps_max_sub_layers_minus1` (no driver we know reads them).
pub fn sps(pic: &Picture<'_>) -> bindings::v4l2_ctrl_hevc_sps {
    let (pp, pf, sp) = (pic.pp, pic.pic, pic.parsing);
    let f = |b: bool, v: u32| if b { u64::from(v) } else { 0 };
    let mut c = bindings::v4l2_ctrl_hevc_sps {
        pic_width_in_luma_samples: pp.pic_width_in_luma_samples,
        pic_height_in_luma_samples: pp.pic_height_in_luma_samples,
        bit_depth_luma_minus8: pp.bit_depth_luma_minus8,
        bit_depth_chroma_minus8: pp.bit_depth_chroma_minus8,
        log2_max_pic_order_cnt_lsb_minus4: pp.log2_max_pic_order_cnt_lsb_minus4,
        sps_max_dec_pic_buffering_minus1: pp.sps_max_dec_pic_buffering_minus1,
        log2_min_luma_coding_block_size_minus3: pp.log2_min_luma_coding_block_size_minus3,
        log2_diff_max_min_luma_coding_block_size: pp.log2_diff_max_min_luma_coding_block_size,
        log2_min_luma_transform_block_size_minus2: pp.log2_min_transform_block_size_minus2,
        log2_diff_max_min_luma_transform_block_size: pp.log2_diff_max_min_transform_block_size,
        max_transform_hierarchy_depth_inter: pp.max_transform_hierarchy_depth_inter,
        max_transform_hierarchy_depth_intra: pp.max_transform_hierarchy_depth_intra,
        num_short_term_ref_pic_sets: pp.num_short_term_ref_pic_sets,
        num_long_term_ref_pics_sps: pp.num_long_term_ref_pic_sps,
        chroma_format_idc: pf.chroma_format_idc,
        flags: f(
            pf.separate_colour_plane_flag,
            bindings::V4L2_HEVC_SPS_FLAG_SEPARATE_COLOUR_PLANE,
        ) | f(
            pf.scaling_list_enabled_flag,
            bindings::V4L2_HEVC_SPS_FLAG_SCALING_LIST_ENABLED,
        ) | f(
            pf.amp_enabled_flag,
            bindings::V4L2_HEVC_SPS_FLAG_AMP_ENABLED,
        ) | f(
            sp.sample_adaptive_offset_enabled_flag,
            bindings::V4L2_HEVC_SPS_FLAG_SAMPLE_ADAPTIVE_OFFSET,
        ) | f(
            sp.long_term_ref_pics_present_flag,
            bindings::V4L2_HEVC_SPS_FLAG_LONG_TERM_REF_PICS_PRESENT,
        ) | f(
            sp.sps_temporal_mvp_enabled_flag,
            bindings::V4L2_HEVC_SPS_FLAG_SPS_TEMPORAL_MVP_ENABLED,
        ) | f(
            pf.strong_intra_smoothing_enabled_flag,
            bindings::V4L2_HEVC_SPS_FLAG_STRONG_INTRA_SMOOTHING_ENABLED,
        ),
        ..Default::default()
    };
    if pf.pcm_enabled_flag {
        c.pcm_sample_bit_depth_luma_minus1 = pp.pcm_sample_bit_depth_luma_minus1;
        c.pcm_sample_bit_depth_chroma_minus1 = pp.pcm_sample_bit_depth_chroma_minus1;
        c.log2_min_pcm_luma_coding_block_size_minus3 =
            pp.log2_min_pcm_luma_coding_block_size_minus3;
        c.log2_diff_max_min_pcm_luma_coding_block_size =
            pp.log2_diff_max_min_pcm_luma_coding_block_size;
        c.flags |= u64::from(bindings::V4L2_HEVC_SPS_FLAG_PCM_ENABLED)
            | f(
                pf.pcm_loop_filter_disabled_flag,
                bindings::V4L2_HEVC_SPS_FLAG_PCM_LOOP_FILTER_DISABLED,
            );
    }
    c
}

/// Tile column widths / row heights of uniform spacing (6-3, 6-4), CTBs.
fn uniform_tiles(n: u32, size_ctbs: u32) -> Vec<u32> {
    (0..n)
        .map(|i| ((i + 1) * size_ctbs) / n - (i * size_ctbs) / n)
        .collect()
}

/// `V4L2_CID_STATELESS_HEVC_PPS` from VA's picture parameters and the first
/// slice's `slice_pic_parameter_set_id`. Derived:
/// `DEBLOCKING_FILTER_CONTROL_PRESENT` (VA lacks it; set when a field it
/// gates is not its default: override enabled, deblocking disabled, a beta
/// or tc offset ≠ 0, 7.3.2.3) and `UNIFORM_SPACING` (VA gives the tile
/// sizes: set when they are the uniform ones, 6-3 / 6-4, and without
/// tiles, where 7.4.3.3 infers it 1 and GStreamer sends it).
pub fn pps(pic: &Picture<'_>, first: &SliceHeader) -> bindings::v4l2_ctrl_hevc_pps {
    use bindings::*;
    let (pp, pf, sp) = (pic.pp, pic.pic, pic.parsing);
    let f = |b: bool, v: u32| if b { u64::from(v) } else { 0 };
    let deblocking_control = sp.deblocking_filter_override_enabled_flag
        || sp.pps_disable_deblocking_filter_flag
        || pp.pps_beta_offset_div2 != 0
        || pp.pps_tc_offset_div2 != 0;
    // uniform_spacing_flag is inferred 1 without tiles (7.4.3.3)
    let mut uniform = true;
    let mut c = v4l2_ctrl_hevc_pps {
        pic_parameter_set_id: first.slice_pic_parameter_set_id,
        num_extra_slice_header_bits: pp.num_extra_slice_header_bits,
        num_ref_idx_l0_default_active_minus1: pp.num_ref_idx_l0_default_active_minus1,
        num_ref_idx_l1_default_active_minus1: pp.num_ref_idx_l1_default_active_minus1,
        init_qp_minus26: pp.init_qp_minus26,
        diff_cu_qp_delta_depth: pp.diff_cu_qp_delta_depth,
        pps_cb_qp_offset: pp.pps_cb_qp_offset,
        pps_cr_qp_offset: pp.pps_cr_qp_offset,
        pps_beta_offset_div2: pp.pps_beta_offset_div2,
        pps_tc_offset_div2: pp.pps_tc_offset_div2,
        log2_parallel_merge_level_minus2: pp.log2_parallel_merge_level_minus2,
        ..Default::default()
    };
    if pf.tiles_enabled_flag {
        let cols = (usize::from(pp.num_tile_columns_minus1) + 1).min(20);
        let rows = (usize::from(pp.num_tile_rows_minus1) + 1).min(21);
        c.num_tile_columns_minus1 = pp.num_tile_columns_minus1.min(19);
        c.num_tile_rows_minus1 = pp.num_tile_rows_minus1.min(20);
        for i in 0..cols.min(19) {
            c.column_width_minus1[i] = pp.column_width_minus1[i] as u8;
        }
        for i in 0..rows.min(21) {
            c.row_height_minus1[i] = pp.row_height_minus1[i] as u8;
        }
        let log2_ctb = (u32::from(pp.log2_min_luma_coding_block_size_minus3)
            + 3
            + u32::from(pp.log2_diff_max_min_luma_coding_block_size))
        .min(16);
        let w = u32::from(pp.pic_width_in_luma_samples).div_ceil(1 << log2_ctb);
        let h = u32::from(pp.pic_height_in_luma_samples).div_ceil(1 << log2_ctb);
        let given =
            |a: &[u16], n: usize| a[..n].iter().map(|&x| u32::from(x) + 1).collect::<Vec<_>>();
        uniform = given(&pp.column_width_minus1, cols.min(19))
            == uniform_tiles(cols as u32, w)[..cols.min(19)]
            && given(&pp.row_height_minus1, rows.min(21))
                == uniform_tiles(rows as u32, h)[..rows.min(21)];
    }
    c.flags = f(
        sp.dependent_slice_segments_enabled_flag,
        V4L2_HEVC_PPS_FLAG_DEPENDENT_SLICE_SEGMENT_ENABLED,
    ) | f(
        sp.output_flag_present_flag,
        V4L2_HEVC_PPS_FLAG_OUTPUT_FLAG_PRESENT,
    ) | f(
        pf.sign_data_hiding_enabled_flag,
        V4L2_HEVC_PPS_FLAG_SIGN_DATA_HIDING_ENABLED,
    ) | f(
        sp.cabac_init_present_flag,
        V4L2_HEVC_PPS_FLAG_CABAC_INIT_PRESENT,
    ) | f(
        pf.constrained_intra_pred_flag,
        V4L2_HEVC_PPS_FLAG_CONSTRAINED_INTRA_PRED,
    ) | f(
        pf.transform_skip_enabled_flag,
        V4L2_HEVC_PPS_FLAG_TRANSFORM_SKIP_ENABLED,
    ) | f(
        pf.cu_qp_delta_enabled_flag,
        V4L2_HEVC_PPS_FLAG_CU_QP_DELTA_ENABLED,
    ) | f(
        sp.pps_slice_chroma_qp_offsets_present_flag,
        V4L2_HEVC_PPS_FLAG_PPS_SLICE_CHROMA_QP_OFFSETS_PRESENT,
    ) | f(pf.weighted_pred_flag, V4L2_HEVC_PPS_FLAG_WEIGHTED_PRED)
        | f(pf.weighted_bipred_flag, V4L2_HEVC_PPS_FLAG_WEIGHTED_BIPRED)
        | f(
            pf.transquant_bypass_enabled_flag,
            V4L2_HEVC_PPS_FLAG_TRANSQUANT_BYPASS_ENABLED,
        )
        | f(pf.tiles_enabled_flag, V4L2_HEVC_PPS_FLAG_TILES_ENABLED)
        | f(
            pf.entropy_coding_sync_enabled_flag,
            V4L2_HEVC_PPS_FLAG_ENTROPY_CODING_SYNC_ENABLED,
        )
        | f(
            pf.loop_filter_across_tiles_enabled_flag,
            V4L2_HEVC_PPS_FLAG_LOOP_FILTER_ACROSS_TILES_ENABLED,
        )
        | f(
            pf.pps_loop_filter_across_slices_enabled_flag,
            V4L2_HEVC_PPS_FLAG_PPS_LOOP_FILTER_ACROSS_SLICES_ENABLED,
        )
        | f(
            sp.deblocking_filter_override_enabled_flag,
            V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_OVERRIDE_ENABLED,
        )
        | f(
            sp.pps_disable_deblocking_filter_flag,
            V4L2_HEVC_PPS_FLAG_PPS_DISABLE_DEBLOCKING_FILTER,
        )
        | f(
            sp.lists_modification_present_flag,
            V4L2_HEVC_PPS_FLAG_LISTS_MODIFICATION_PRESENT,
        )
        | f(
            sp.slice_segment_header_extension_present_flag,
            V4L2_HEVC_PPS_FLAG_SLICE_SEGMENT_HEADER_EXTENSION_PRESENT,
        )
        | f(
            deblocking_control,
            V4L2_HEVC_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT,
        )
        | f(uniform, V4L2_HEVC_PPS_FLAG_UNIFORM_SPACING);
    c
}

/// `V4L2_CID_STATELESS_HEVC_SCALING_MATRIX`: VA's lists (raster order as
/// FFmpeg fills them from its `ScalingList`, the uAPI's order; the DC
/// values are `scaling_list_dc_coef_minus8 + 8`, as the uAPI's) when
/// `scaling_list_enabled_flag` and an IQ matrix came, else zero as
/// GStreamer sends it without scaling lists.
pub fn scaling_matrix(
    pic: &Picture<'_>,
    iq: Option<&sys::VAIQMatrixBufferHEVC>,
) -> bindings::v4l2_ctrl_hevc_scaling_matrix {
    let mut m = bindings::v4l2_ctrl_hevc_scaling_matrix::default();
    let (true, Some(iq)) = (pic.pic.scaling_list_enabled_flag, iq) else {
        return m;
    };
    m.scaling_list_4x4 = iq.ScalingList4x4;
    m.scaling_list_8x8 = iq.ScalingList8x8;
    m.scaling_list_16x16 = iq.ScalingList16x16;
    m.scaling_list_32x32 = iq.ScalingList32x32;
    m.scaling_list_dc_coef_16x16 = iq.ScalingListDC16x16;
    m.scaling_list_dc_coef_32x32 = iq.ScalingListDC32x32;
    m
}

/// `V4L2_CID_STATELESS_HEVC_SLICE_PARAMS` for one slice segment: VA's
/// slice parameters, `RefPicList[0/1]` (indices of `ReferenceFrames`)
/// resolved to `dpb[]` indices, `hdr` for what VA lacks (sizes, entry
/// points, NAL header, `collocated_from_l0_flag` as the header infers it).
/// `nal_len` is the NAL unit's size with its header, `sc` the start code
/// bytes prefixed (0 or 3).
pub fn slice_params(
    sp: &sys::VASliceParameterBufferHEVC,
    hdr: &SliceHeader,
    pic: &Picture<'_>,
    refs: &[DpbRef],
    nal_len: usize,
    sc: usize,
) -> bindings::v4l2_ctrl_hevc_slice_params {
    use bindings::*;
    let fl = LongSliceFlags::from_value(hevc_long_slice_flags(sp));
    let f = |b: bool, v: u32| if b { u64::from(v) } else { 0 };
    let st = fl.slice_type;
    let (is_b, is_p) = (st == 0, st == 1);
    let mut p = v4l2_ctrl_hevc_slice_params {
        bit_size: ((nal_len + sc) * 8) as u32,
        data_byte_offset: hdr.header_bit_size / 8 + sc as u32,
        num_entry_point_offsets: hdr.num_entry_point_offsets,
        nal_unit_type: hdr.nal_unit_type,
        nuh_temporal_id_plus1: hdr.nuh_temporal_id_plus1,
        slice_type: st,
        colour_plane_id: fl.color_plane_id,
        slice_pic_order_cnt: pic.pp.CurrPic.pic_order_cnt,
        num_ref_idx_l0_active_minus1: if is_p || is_b {
            sp.num_ref_idx_l0_active_minus1
        } else {
            0
        },
        num_ref_idx_l1_active_minus1: if is_b {
            sp.num_ref_idx_l1_active_minus1
        } else {
            0
        },
        collocated_ref_idx: if fl.slice_temporal_mvp_enabled_flag && sp.collocated_ref_idx != 0xff {
            sp.collocated_ref_idx
        } else {
            0
        },
        five_minus_max_num_merge_cand: sp.five_minus_max_num_merge_cand,
        slice_qp_delta: sp.slice_qp_delta,
        slice_cb_qp_offset: sp.slice_cb_qp_offset,
        slice_cr_qp_offset: sp.slice_cr_qp_offset,
        slice_beta_offset_div2: sp.slice_beta_offset_div2,
        slice_tc_offset_div2: sp.slice_tc_offset_div2,
        pic_struct: 0,
        slice_segment_addr: sp.slice_segment_address,
        short_term_ref_pic_set_size: hdr.st_rps_bits as u16,
        long_term_ref_pic_set_size: if hdr.dependent_slice_segment_flag {
            0
        } else {
            hdr.lt_rps_bits as u16
        },
        ..Default::default()
    };
    p.ref_idx_l0 = [0xff; 16];
    p.ref_idx_l1 = [0xff; 16];
    let lists = [
        (
            &mut p.ref_idx_l0,
            &sp.RefPicList[0],
            p.num_ref_idx_l0_active_minus1,
            is_p || is_b,
        ),
        (
            &mut p.ref_idx_l1,
            &sp.RefPicList[1],
            p.num_ref_idx_l1_active_minus1,
            is_b,
        ),
    ];
    for (dst, src, n, used) in lists {
        if !used {
            continue;
        }
        for (d, &s) in dst.iter_mut().zip(src.iter()).take(usize::from(n) + 1) {
            if let Some(i) = refs.iter().position(|r| r.va_index == usize::from(s)) {
                *d = i as u8;
            }
        }
    }
    let t = &mut p.pred_weight_table;
    t.luma_log2_weight_denom = sp.luma_log2_weight_denom;
    t.delta_chroma_log2_weight_denom = sp.delta_chroma_log2_weight_denom;
    if (pic.pic.weighted_pred_flag && is_p) || (pic.pic.weighted_bipred_flag && is_b) {
        let chroma = pic.pic.chroma_array_type() != 0;
        for i in 0..=(usize::from(p.num_ref_idx_l0_active_minus1)).min(14) {
            t.delta_luma_weight_l0[i] = sp.delta_luma_weight_l0[i];
            t.luma_offset_l0[i] = sp.luma_offset_l0[i];
            if chroma {
                t.delta_chroma_weight_l0[i] = sp.delta_chroma_weight_l0[i];
                t.chroma_offset_l0[i] = sp.ChromaOffsetL0[i];
            }
        }
        if is_b {
            for i in 0..=(usize::from(p.num_ref_idx_l1_active_minus1)).min(14) {
                t.delta_luma_weight_l1[i] = sp.delta_luma_weight_l1[i];
                t.luma_offset_l1[i] = sp.luma_offset_l1[i];
                if chroma {
                    t.delta_chroma_weight_l1[i] = sp.delta_chroma_weight_l1[i];
                    t.chroma_offset_l1[i] = sp.ChromaOffsetL1[i];
                }
            }
        }
    }
    p.flags = f(
        fl.slice_sao_luma_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_LUMA,
    ) | f(
        fl.slice_sao_chroma_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_SAO_CHROMA,
    ) | f(
        fl.slice_temporal_mvp_enabled_flag,
        V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_TEMPORAL_MVP_ENABLED,
    ) | f(fl.mvd_l1_zero_flag, V4L2_HEVC_SLICE_PARAMS_FLAG_MVD_L1_ZERO)
        | f(fl.cabac_init_flag, V4L2_HEVC_SLICE_PARAMS_FLAG_CABAC_INIT)
        | f(
            hdr.collocated_from_l0_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_COLLOCATED_FROM_L0,
        )
        | f(
            fl.slice_deblocking_filter_disabled_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_DEBLOCKING_FILTER_DISABLED,
        )
        | f(
            fl.slice_loop_filter_across_slices_enabled_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_SLICE_LOOP_FILTER_ACROSS_SLICES_ENABLED,
        )
        | f(
            hdr.dependent_slice_segment_flag,
            V4L2_HEVC_SLICE_PARAMS_FLAG_DEPENDENT_SLICE_SEGMENT,
        );
    p
}

/// One SPS short-term set as this mapping knows it: (DeltaPocS0, used)
/// nearest first, (DeltaPocS1, used) nearest first.
pub type StSet = (Vec<(i32, bool)>, Vec<(i32, bool)>);

/// The RK3588 `EXT_SPS_ST_RPS` / `EXT_SPS_LT_RPS` arrays rebuilt from VA
/// per picture (module docs): every element holds the set (the long-term
/// candidate) the picture's slices make the hardware read, so whichever
/// index a slice names reads it. Replicating also keeps rkvdec's cache
/// honest: `rkvdec_hevc_prepare_hw_st_rps` recomputes its table only when
/// element 0 changed (it `memcmp`s one element against its cache), which
/// a change confined to another index would slip past. What earlier
/// pictures showed of each SPS set is remembered (for slice sets
/// inter-predicted from one) until the next IRAP picture (which may
/// activate another SPS) or a change of the SPS fields VA carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtRps {
    st: Vec<Option<StSet>>,
}

impl ExtRps {
    /// The arrays for `pic` whose first slice has header `first`:
    /// - `EXT_SPS_ST_RPS`: `num_short_term_ref_pic_sets` copies of the set
    ///   the hardware reads: the picture's own RPS ([`short_term_rps`]; what
    ///   set `short_term_ref_pic_set_idx` holds when the slice names one,
    ///   which is also remembered), or, for a slice set inter-predicted
    ///   from SPS set `RefRpsIdx`, that set as an earlier picture showed it;
    /// - `EXT_SPS_LT_RPS`: `num_long_term_ref_pics_sps` copies of the one
    ///   SPS candidate the picture uses (`lt_idx_sps`): the long-term
    ///   `ReferenceFrames` picture no explicit entry claims, its POC LSBs
    ///   and `RPS_LT_CURR` as `used_by_curr_pic_lt_sps_flag`; `last_lt`
    ///   when the picture uses none.
    ///
    /// Errors (nothing remembered): a slice set inter-predicted from a set
    /// no earlier picture showed, or several SPS long-term candidates in
    /// one picture (which is which is not recoverable from VA).
    pub fn arrays(
        &mut self,
        pic: &Picture<'_>,
        first: &SliceHeader,
        last_lt: Option<&[V4l2CtrlHevcExtSpsLtRps]>,
    ) -> Result<(Vec<V4l2CtrlHevcExtSpsStRps>, Vec<V4l2CtrlHevcExtSpsLtRps>), String> {
        let pp = pic.pp;
        let nst = usize::from(pp.num_short_term_ref_pic_sets).min(64);
        let nlt = usize::from(pp.num_long_term_ref_pic_sps).min(32);
        if is_irap(first.nal_unit_type) {
            // an IRAP may activate another SPS with the same VA-visible
            // fields but other sets: forget what earlier pictures showed
            self.st.clear();
        }
        self.st.resize(nst, None);
        let idr = is_idr(first.nal_unit_type);
        let read = if !idr
            && !first.short_term_ref_pic_set_sps_flag
            && first.inter_ref_pic_set_prediction_flag
        {
            let r = nst.checked_sub(usize::from(first.delta_idx_minus1) + 1);
            r.and_then(|r| self.st.get(r).cloned().flatten())
                .ok_or_else(|| {
                    format!(
                        "slice st_ref_pic_set() predicted from SPS set {r:?}, which VA does not \
                         carry and no earlier picture showed (EXT_SPS_ST_RPS)"
                    )
                })?
        } else {
            short_term_rps(pp)
        };
        let lt = self.lt_candidate(pic, first)?;
        if !idr && first.short_term_ref_pic_set_sps_flag {
            if let Some(slot) = self
                .st
                .get_mut(usize::from(first.short_term_ref_pic_set_idx))
            {
                *slot = Some(read.clone());
            }
        }
        let st = vec![st_element(&read); nst];
        let lt = match (lt, last_lt) {
            (Some(c), _) => vec![c; nlt],
            (None, Some(last)) if last.len() == nlt => last.to_vec(),
            (None, _) => vec![V4l2CtrlHevcExtSpsLtRps::default(); nlt],
        };
        Ok((st, lt))
    }

    /// The SPS long-term candidate `first` uses, if one (see [`Self::arrays`]).
    fn lt_candidate(
        &self,
        pic: &Picture<'_>,
        first: &SliceHeader,
    ) -> Result<Option<V4l2CtrlHevcExtSpsLtRps>, String> {
        let pp = pic.pp;
        let sps_entries = first
            .long_term
            .iter()
            .filter(|e| e.lt_idx_sps.is_some())
            .count();
        match sps_entries {
            0 => return Ok(None),
            1 => {}
            n => {
                return Err(format!(
                    "{n} long-term references from the SPS candidates in one picture: which \
                     is which is not recoverable from VA (EXT_SPS_LT_RPS)"
                ))
            }
        }
        let max_lsb = pic.max_poc_lsb();
        let claimed = |poc: i32| {
            first
                .long_term
                .iter()
                .any(|e| e.lt_idx_sps.is_none() && i32::from(e.poc_lsb_lt) == poc & (max_lsb - 1))
        };
        let cands: Vec<&VAPictureHEVC> = pp
            .ReferenceFrames
            .iter()
            .filter(|r| is_valid(r))
            .filter(|r| r.flags & sys::VA_PICTURE_HEVC_LONG_TERM_REFERENCE != 0)
            .filter(|r| !claimed(r.pic_order_cnt))
            .collect();
        let [c] = cands.as_slice() else {
            return Err(format!(
                "SPS long-term candidate: {} unclaimed long-term references in \
                 ReferenceFrames (EXT_SPS_LT_RPS)",
                cands.len()
            ));
        };
        Ok(Some(V4l2CtrlHevcExtSpsLtRps {
            lt_ref_pic_poc_lsb_sps: (c.pic_order_cnt & (max_lsb - 1)) as u16,
            flags: if c.flags & sys::VA_PICTURE_HEVC_RPS_LT_CURR != 0 {
                V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT
            } else {
                0
            },
        }))
    }

    /// `NumDeltaPocs` of SPS set `i`, if an earlier picture showed it.
    pub fn num_delta_pocs(&self, i: usize) -> Option<u8> {
        self.st
            .get(i)?
            .as_ref()
            .map(|(s0, s1)| (s0.len() + s1.len()) as u8)
    }
}

/// One `EXT_SPS_ST_RPS` element: `set` as an explicit `st_ref_pic_set()`
/// (`delta_poc_s0_minus1[0] = −DeltaPocS0[0] − 1`, then the differences − 1,
/// the inverse of 7-67 … 7-70; `used_by_curr_pic` S0 bits then S1 bits;
/// `use_delta_flag` 0xffff as GStreamer), which the kernel turns back into
/// the same `DeltaPoc` lists (`st_ref_pic_set_calculate`).
pub fn st_element(set: &StSet) -> V4l2CtrlHevcExtSpsStRps {
    let (s0, s1) = set;
    let mut e = V4l2CtrlHevcExtSpsStRps {
        use_delta_flag: 0xffff,
        num_negative_pics: s0.len().min(16) as u8,
        num_positive_pics: s1.len().min(16) as u8,
        ..Default::default()
    };
    let mut bit = 0;
    let mut prev = 0i64;
    for (k, &(d, used)) in s0.iter().take(16).enumerate() {
        let d = i64::from(d);
        e.delta_poc_s0_minus1[k] = (prev - d - 1).clamp(0, 0xffff) as u16;
        prev = d;
        e.used_by_curr_pic |= u32::from(used) << bit;
        bit += 1;
    }
    prev = 0;
    for (k, &(d, used)) in s1.iter().take(16).enumerate() {
        let d = i64::from(d);
        e.delta_poc_s1_minus1[k] = (d - prev - 1).clamp(0, 0xffff) as u16;
        prev = d;
        if bit < 32 {
            e.used_by_curr_pic |= u32::from(used) << bit;
        }
        bit += 1;
    }
    e
}

/// What the device has of the optional HEVC controls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceControls {
    pub slice_params: bool,
    pub scaling_matrix: bool,
    pub entry_points: bool,
    /// Both RK3588 `EXT_SPS_ST_RPS` and `EXT_SPS_LT_RPS`.
    pub ext_rps: bool,
}

impl DeviceControls {
    /// Asks `has` (the device's `has_control`).
    pub fn probe(has: &dyn Fn(u32) -> bool) -> Self {
        DeviceControls {
            slice_params: has(bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS),
            scaling_matrix: has(bindings::V4L2_CID_STATELESS_HEVC_SCALING_MATRIX),
            entry_points: has(bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS),
            ext_rps: has(uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS)
                && has(uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS),
        }
    }
}

/// The HEVC [`CodecMap`]: it carries the SPS (and EXT arrays) the device
/// has, sent again only when they change (GStreamer sends the SPS when the
/// sequence changes), and what pictures showed of the SPS's RPS sets.
#[derive(Debug, Default)]
pub struct HevcMap {
    last_sps: Option<bindings::v4l2_ctrl_hevc_sps>,
    last_ext: Option<(Vec<V4l2CtrlHevcExtSpsStRps>, Vec<V4l2CtrlHevcExtSpsLtRps>)>,
    ext: ExtRps,
}

/// One slice as rendered.
#[derive(Clone, Copy)]
pub struct Slice<'a> {
    pub params: sys::VASliceParameterBufferHEVC,
    pub data: &'a [u8],
}

/// Reads every slice's header (dependent slice segments take the fields
/// of the slice segment they depend on). `ext`: what is known of the SPS's
/// sets (for a slice set inter-predicted when VA's `st_rps_bits` is 0).
pub fn read_headers<'s>(
    pic: &Picture<'_>,
    slices: &[Slice<'s>],
    ext: Option<&ExtRps>,
) -> Result<(Vec<SliceHeader>, Vec<&'s [u8]>), MapError> {
    let curr = pic
        .pp
        .ReferenceFrames
        .iter()
        .filter(|r| is_valid(r) && r.flags & CURR_FLAGS != 0)
        .count() as u32;
    let known: Vec<Option<u8>> = ext
        .map(|e| (0..e.st.len()).map(|i| e.num_delta_pocs(i)).collect())
        .unwrap_or_default();
    let mut headers: Vec<SliceHeader> = Vec::with_capacity(slices.len());
    let mut nals = Vec::with_capacity(slices.len());
    for (n, s) in slices.iter().enumerate() {
        let start = s.params.slice_data_offset as usize;
        let end = start.checked_add(s.params.slice_data_size as usize);
        let nal = end
            .and_then(|end| s.data.get(start..end))
            .filter(|_| s.params.slice_data_flag == sys::VA_SLICE_DATA_FLAG_ALL)
            .ok_or(MapError::SliceData(n))?;
        let nal = strip_start_code(nal);
        let facts = SliceFacts {
            st_rps_bits: pic.pp.st_rps_bits,
            num_pic_total_curr: curr,
            num_ref_idx_active_minus1: [
                s.params.num_ref_idx_l0_active_minus1,
                s.params.num_ref_idx_l1_active_minus1,
            ],
            known_num_delta_pocs: &known,
        };
        let mut h = read_slice_header(nal, pic, &facts)
            .map_err(|e| MapError::Header(n, format!("{e:?}")))?;
        if n == 0 && !h.first_slice_segment_in_pic_flag {
            return Err(MapError::Header(
                0,
                "first slice without first_slice_segment_in_pic_flag".into(),
            ));
        }
        if h.dependent_slice_segment_flag {
            let prev = headers
                .iter()
                .rev()
                .find(|p| !p.dependent_slice_segment_flag)
                .ok_or_else(|| MapError::Header(n, "dependent slice without its slice".into()))?;
            let own = h;
            h = prev.clone();
            h.first_slice_segment_in_pic_flag = own.first_slice_segment_in_pic_flag;
            h.no_output_of_prior_pics_flag = own.no_output_of_prior_pics_flag;
            h.dependent_slice_segment_flag = true;
            h.num_entry_point_offsets = own.num_entry_point_offsets;
            h.entry_point_offset_minus1 = own.entry_point_offset_minus1;
            h.header_bit_size = own.header_bit_size;
            h.nal_unit_type = own.nal_unit_type;
            h.nuh_temporal_id_plus1 = own.nuh_temporal_id_plus1;
        }
        headers.push(h);
        nals.push(nal);
    }
    Ok((headers, nals))
}

impl CodecMap for HevcMap {
    fn kind(&self) -> CodecKind {
        CodecKind::Hevc
    }

    fn buffers(&self) -> BufferStructs {
        use std::mem::size_of;
        BufferStructs {
            picture: size_of::<sys::VAPictureParameterBufferHEVC>(),
            iq_matrix: Some(size_of::<sys::VAIQMatrixBufferHEVC>()),
            probability: None,
            slice: size_of::<sys::VASliceParameterBufferHEVC>(),
        }
    }

    /// The picture's requests as GStreamer's `gstv4l2codech265dec.c`
    /// submits them: the first carries SPS (when it changed; with the
    /// EXT_SPS arrays on a device that has them, whenever they change), PPS,
    /// SCALING_MATRIX (when the device has it) and DECODE_PARAMS;
    /// slice-based: one request per slice segment with its SLICE_PARAMS
    /// (+ ENTRY_POINT_OFFSETS when the device has it and the slice has
    /// entry points), `hold_capture` on all but the last; frame-based: one
    /// request with every slice (SLICE_PARAMS only if the device has it).
    /// Format: coded size `pic_width/height_in_luma_samples`, bit depth
    /// `bit_depth_luma_minus8 + 8`, DPB `sps_max_dec_pic_buffering_minus1 + 1`.
    fn map(&mut self, r: &Rendered<'_>, cx: &MapContext<'_>) -> Result<Mapped, MapError> {
        let pp = picture_parameters(r.pic_params).ok_or(MapError::PictureParameters)?;
        let pic = Picture::new(&pp);
        let iq = r.iq.and_then(iq_matrix);
        if r.slices.is_empty() {
            return Err(MapError::NoSlices);
        }
        let mut slices = Vec::with_capacity(r.slices.len());
        for (n, s) in r.slices.iter().enumerate() {
            let params = slice_parameters(s.params).ok_or(MapError::SliceData(n))?;
            slices.push(Slice {
                params,
                data: s.data,
            });
        }
        let dev = DeviceControls::probe(cx.has_control);
        let sps_ctrl = sps(&pic);
        // a new SPS (as far as VA tells) forgets what was learned of the old one
        let mut ext = if self.last_sps.as_ref() == Some(&sps_ctrl) {
            self.ext.clone()
        } else {
            ExtRps::default()
        };
        let (headers, nals) = read_headers(&pic, &slices, dev.ext_rps.then_some(&ext))?;
        let first = &headers[0];
        let mut ext_arrays = None;
        if dev.ext_rps && (pp.num_short_term_ref_pic_sets > 0 || pp.num_long_term_ref_pic_sps > 0) {
            let last_lt = self.last_ext.as_ref().map(|(_, lt)| lt.as_slice());
            ext_arrays = Some(
                ext.arrays(&pic, first, last_lt)
                    .map_err(MapError::Unsupported)?,
            );
        }
        let refs = dpb_refs(&pp, cx.timestamp_of);
        let dp = decode_params(&pic, first, &refs);
        let mut head = Vec::with_capacity(6);
        if self.last_sps != Some(sps_ctrl) {
            head.push(Control::HevcSps(Box::new(sps_ctrl)));
        }
        if let Some((st, lt)) = &ext_arrays {
            // each array when it changed (rkvdec keeps the last one set)
            let new_sps = self.last_sps != Some(sps_ctrl);
            let last = self.last_ext.as_ref();
            if !st.is_empty() && (new_sps || last.map(|l| &l.0) != Some(st)) {
                head.push(Control::HevcExtSpsStRps(st.clone()));
            }
            if !lt.is_empty() && (new_sps || last.map(|l| &l.1) != Some(lt)) {
                head.push(Control::HevcExtSpsLtRps(lt.clone()));
            }
        }
        head.push(Control::HevcPps(Box::new(pps(&pic, first))));
        if dev.scaling_matrix {
            head.push(Control::HevcScalingMatrix(Box::new(scaling_matrix(
                &pic,
                iq.as_ref(),
            ))));
        }
        head.push(Control::HevcDecodeParams(Box::new(dp)));
        let sc = if cx.start_code == StartCode::AnnexB {
            3
        } else {
            0
        };
        let slice_ctrl = |i: usize| {
            slice_params(
                &slices[i].params,
                &headers[i],
                &pic,
                &refs,
                nals[i].len(),
                sc,
            )
        };
        let entry_points = |h: &SliceHeader| -> Vec<u32> {
            h.entry_point_offset_minus1
                .iter()
                .map(|v| v.wrapping_add(1))
                .collect()
        };
        let job = |controls, bitstream, hold_capture, starts_picture| vreq_core::DecodeJob {
            timestamp_ns: cx.timestamp_ns,
            controls,
            bitstream,
            hold_capture,
            starts_picture,
        };
        let mut jobs = Vec::new();
        if cx.mode == DecodeMode::FrameBased {
            let mut bitstream = Vec::new();
            let mut params = Vec::new();
            let mut eps = Vec::new();
            for (i, nal) in nals.iter().enumerate() {
                slice_bitstream(nal, cx.start_code, &mut bitstream);
                if dev.slice_params {
                    params.push(slice_ctrl(i));
                    eps.extend(entry_points(&headers[i]));
                }
            }
            if !params.is_empty() {
                head.push(Control::HevcSliceParams(params));
                if dev.entry_points && !eps.is_empty() {
                    head.push(Control::HevcEntryPointOffsets(eps));
                }
            }
            jobs.push(job(head, bitstream, false, true));
        } else {
            let last = nals.len() - 1;
            for (i, nal) in nals.iter().enumerate() {
                let mut controls = if i == 0 {
                    std::mem::take(&mut head)
                } else {
                    Vec::with_capacity(2)
                };
                controls.push(Control::HevcSliceParams(vec![slice_ctrl(i)]));
                let eps = entry_points(&headers[i]);
                if dev.entry_points && !eps.is_empty() {
                    controls.push(Control::HevcEntryPointOffsets(eps));
                }
                let mut bitstream = Vec::new();
                slice_bitstream(nal, cx.start_code, &mut bitstream);
                jobs.push(job(controls, bitstream, i != last, i == 0));
            }
        }
        self.last_sps = Some(sps_ctrl);
        if ext_arrays.is_some() {
            self.last_ext = ext_arrays;
        }
        self.ext = ext;
        Ok(Mapped {
            format: PictureFormat {
                coded_width: u32::from(pp.pic_width_in_luma_samples),
                coded_height: u32::from(pp.pic_height_in_luma_samples),
                bit_depth: pp.bit_depth_luma_minus8.saturating_add(8),
                dpb_size: u32::from(pp.sps_max_dec_pic_buffering_minus1) + 1,
            },
            jobs,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
