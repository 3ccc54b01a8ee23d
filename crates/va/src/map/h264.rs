//! H.264: `VAPictureParameterBufferH264` + `VAIQMatrixBufferH264` +
//! `VASliceParameterBufferH264` + slice data → `V4L2_CID_STATELESS_H264_*`.
//!
//! Sources: libva `va/va.h` (the VA structs, their bit fields and
//! `VA_PICTURE_H264_*` flags), the uAPI "ext-ctrls-codec-stateless.rst"
//! (`v4l2_ctrl_h264_*`), GStreamer 1.26's
//! `sys/v4l2codecs/gstv4l2codech264dec.c` (which field is filled from what;
//! `crates/codec/src/h264/controls.rs` does the same from our own parser)
//! and ITU-T H.264 (08/2021) 7.3.3 (slice header syntax).
//!
//! VA carries what a decoder needs, not everything the uAPI structs hold.
//! What it lacks is read from the slice's own header ([`SliceHeader`], the
//! slice data starts at the NAL header) when the header has it, else left
//! 0; docs/VA-DRIVER.md lists every such field.

use v4l2r::bindings;
use vreq_core::rbsp::{strip_emulation_prevention, BitReader, RbspError};
use vreq_core::{CodecKind, Control, StartCode};

use super::{BufferStructs, CodecMap, MapContext, MapError, Mapped, PictureFormat, Rendered};

use crate::ffi::{h264_pic_fields, h264_seq_fields, read_element};
use crate::sys::{self, VAPictureH264, VASurfaceID};

/// A picture parameter buffer's bytes as `VAPictureParameterBufferH264`
/// (`None` when shorter than the struct).
pub fn picture_parameters(bytes: &[u8]) -> Option<sys::VAPictureParameterBufferH264> {
    read_element(bytes, 0)
}

/// An IQ matrix buffer's bytes as `VAIQMatrixBufferH264`.
pub fn iq_matrix(bytes: &[u8]) -> Option<sys::VAIQMatrixBufferH264> {
    read_element(bytes, 0)
}

/// Element `index` of a slice parameter buffer (a client renders
/// `num_elements` slices' parameters in one buffer).
pub fn slice_parameters(bytes: &[u8], index: usize) -> Option<sys::VASliceParameterBufferH264> {
    read_element(bytes, index)
}

/// `seq_fields` of `VAPictureParameterBufferH264`, bit positions as va.h
/// declares the bit field (LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqFields {
    pub chroma_format_idc: u8,
    /// `residual_colour_transform_flag` in va.h (renamed
    /// `separate_colour_plane_flag` in H.264 since 2007).
    pub separate_colour_plane_flag: bool,
    pub gaps_in_frame_num_value_allowed_flag: bool,
    pub frame_mbs_only_flag: bool,
    pub mb_adaptive_frame_field_flag: bool,
    pub direct_8x8_inference_flag: bool,
    pub log2_max_frame_num_minus4: u8,
    pub pic_order_cnt_type: u8,
    pub log2_max_pic_order_cnt_lsb_minus4: u8,
    pub delta_pic_order_always_zero_flag: bool,
}

impl SeqFields {
    /// Decodes `seq_fields.value`.
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        SeqFields {
            chroma_format_idc: (v & 3) as u8,
            separate_colour_plane_flag: b(2),
            gaps_in_frame_num_value_allowed_flag: b(3),
            frame_mbs_only_flag: b(4),
            mb_adaptive_frame_field_flag: b(5),
            direct_8x8_inference_flag: b(6),
            // bit 7: MinLumaBiPredSize8x8 (not a syntax element)
            log2_max_frame_num_minus4: (v >> 8 & 0xf) as u8,
            pic_order_cnt_type: (v >> 12 & 3) as u8,
            log2_max_pic_order_cnt_lsb_minus4: (v >> 14 & 0xf) as u8,
            delta_pic_order_always_zero_flag: b(18),
        }
    }

    /// `ChromaArrayType` (7.4.2.1.1): 0 with separate colour planes.
    pub fn chroma_array_type(&self) -> u8 {
        if self.separate_colour_plane_flag {
            0
        } else {
            self.chroma_format_idc
        }
    }
}

/// `pic_fields` of `VAPictureParameterBufferH264` (va.h bit field, LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PicFields {
    pub entropy_coding_mode_flag: bool,
    pub weighted_pred_flag: bool,
    pub weighted_bipred_idc: u8,
    pub transform_8x8_mode_flag: bool,
    pub field_pic_flag: bool,
    pub constrained_intra_pred_flag: bool,
    /// `pic_order_present_flag` in va.h (renamed
    /// `bottom_field_pic_order_in_frame_present_flag`).
    pub bottom_field_pic_order_in_frame_present_flag: bool,
    pub deblocking_filter_control_present_flag: bool,
    pub redundant_pic_cnt_present_flag: bool,
    /// `nal_ref_idc != 0`.
    pub reference_pic_flag: bool,
}

impl PicFields {
    /// Decodes `pic_fields.value`.
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        PicFields {
            entropy_coding_mode_flag: b(0),
            weighted_pred_flag: b(1),
            weighted_bipred_idc: (v >> 2 & 3) as u8,
            transform_8x8_mode_flag: b(4),
            field_pic_flag: b(5),
            constrained_intra_pred_flag: b(6),
            bottom_field_pic_order_in_frame_present_flag: b(7),
            deblocking_filter_control_present_flag: b(8),
            redundant_pic_cnt_present_flag: b(9),
            reference_pic_flag: b(10),
        }
    }
}

/// What the mapping needs of one `VAPictureParameterBufferH264`.
#[derive(Clone, Copy)]
pub struct Picture<'a> {
    pub pp: &'a sys::VAPictureParameterBufferH264,
    pub seq: SeqFields,
    pub pic: PicFields,
}

impl<'a> Picture<'a> {
    /// Decodes the bit fields of `pp`.
    pub fn new(pp: &'a sys::VAPictureParameterBufferH264) -> Self {
        Picture {
            pp,
            seq: SeqFields::from_value(h264_seq_fields(pp)),
            pic: PicFields::from_value(h264_pic_fields(pp)),
        }
    }

    /// `PicSizeInMapUnits` (7-29): width in MBs × height in map units.
    fn pic_size_in_map_units(&self) -> u32 {
        (u32::from(self.pp.picture_width_in_mbs_minus1) + 1)
            * (self.pic_height_in_map_units_minus1() + 1)
    }

    /// `pic_height_in_map_units_minus1` from VA's frame height in MBs
    /// (`FrameHeightInMbs = (2 − frame_mbs_only_flag) · PicHeightInMapUnits`, 7-18).
    pub fn pic_height_in_map_units_minus1(&self) -> u32 {
        let h = u32::from(self.pp.picture_height_in_mbs_minus1) + 1;
        if self.seq.frame_mbs_only_flag {
            h - 1
        } else {
            (h / 2).max(1) - 1
        }
    }
}

/// Errors reading a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SliceError {
    /// The slice data ends inside the header, or a value is out of its range.
    Truncated,
    /// Not a coded slice NAL unit (`nal_unit_type` 1 or 5).
    NotASlice(u8),
}

impl From<RbspError> for SliceError {
    /// Every bit reader failure (data ending early, an over-long or
    /// out-of-range `ue(v)`) is a [`SliceError::Truncated`] header.
    fn from(_: RbspError) -> Self {
        SliceError::Truncated
    }
}

/// The slice header fields the uAPI wants and VA does not carry (7.3.3),
/// read from the slice NAL unit. Bit counts are of the RBSP (emulation
/// prevention bytes removed), as GStreamer's `h264parser.c` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SliceHeader {
    pub nal_ref_idc: u8,
    pub nal_unit_type: u8,
    pub slice_type: u8,
    pub pic_parameter_set_id: u8,
    pub colour_plane_id: u8,
    pub frame_num: u16,
    pub field_pic_flag: bool,
    pub bottom_field_flag: bool,
    pub idr_pic_id: u16,
    pub pic_order_cnt_lsb: u16,
    pub delta_pic_order_cnt_bottom: i32,
    pub delta_pic_order_cnt: [i32; 2],
    /// Bits of `pic_order_cnt_lsb` .. `delta_pic_order_cnt[1]`.
    pub pic_order_cnt_bit_size: u32,
    pub redundant_pic_cnt: u8,
    pub num_ref_idx_active_override_flag: bool,
    pub num_ref_idx_l0_active_minus1: u8,
    pub num_ref_idx_l1_active_minus1: u8,
    /// Bits of `dec_ref_pic_marking()` (0 when `nal_ref_idc` is 0).
    pub dec_ref_pic_marking_bit_size: u32,
    pub sp_for_switch_flag: bool,
    pub slice_qs_delta: i8,
    pub slice_group_change_cycle: u32,
    /// Bits from the NAL header's first bit to the end of `slice_header()`
    /// (the uAPI `header_bit_size`; our codec counts it the same way).
    pub header_bit_size: u32,
}

/// Most NAL bytes the header reader looks at, before their emulation
/// prevention bytes are removed (7.4.1): a slice header is far shorter
/// (its longest parts, 33 list modifications and 66 MMCOs of ≤ 65 bits each,
/// stay under 1 KiB).
const HEADER_BYTES_MAX: usize = 2048;

/// Reads the slice header of `nal` (a coded slice NAL unit from its header
/// byte, no start code) with the sequence / picture facts of `pic` and the
/// slice's final `num_ref_idx_l0/l1_active_minus1` from its
/// `VASliceParameterBufferH264` (`active_minus1`: the header has them only
/// when it overrides the PPS defaults, and `pred_weight_table()` needs them)
/// (7.3.3; `ref_pic_list_modification()` and `pred_weight_table()` are
/// skipped, their values come from VA's slice parameters).
pub fn read_slice_header(
    nal: &[u8],
    pic: &Picture<'_>,
    active_minus1: [u8; 2],
) -> Result<SliceHeader, SliceError> {
    let rbsp = strip_emulation_prevention(&nal[..nal.len().min(HEADER_BYTES_MAX)]);
    let mut r = BitReader::new(&rbsp);
    let mut h = SliceHeader::default();
    r.u(1)?; // forbidden_zero_bit
    h.nal_ref_idc = r.u(2)? as u8;
    h.nal_unit_type = r.u(5)? as u8;
    if h.nal_unit_type != 1 && h.nal_unit_type != 5 {
        return Err(SliceError::NotASlice(h.nal_unit_type));
    }
    let idr = h.nal_unit_type == 5;
    let (seq, pf) = (pic.seq, pic.pic);
    r.ue()?; // first_mb_in_slice: VA carries it
    h.slice_type = (r.ue_max(9)? % 5) as u8;
    h.pic_parameter_set_id = r.ue_max(255)? as u8;
    if seq.separate_colour_plane_flag {
        h.colour_plane_id = r.u(2)? as u8;
    }
    h.frame_num = r.u(u32::from(seq.log2_max_frame_num_minus4) + 4)? as u16;
    if !seq.frame_mbs_only_flag {
        h.field_pic_flag = r.flag()?;
        if h.field_pic_flag {
            h.bottom_field_flag = r.flag()?;
        }
    }
    if idr {
        h.idr_pic_id = r.ue_max(65535)? as u16;
    }
    let poc_start = r.pos();
    if seq.pic_order_cnt_type == 0 {
        h.pic_order_cnt_lsb = r.u(u32::from(seq.log2_max_pic_order_cnt_lsb_minus4) + 4)? as u16;
        if pf.bottom_field_pic_order_in_frame_present_flag && !h.field_pic_flag {
            h.delta_pic_order_cnt_bottom = r.se()?;
        }
    }
    if seq.pic_order_cnt_type == 1 && !seq.delta_pic_order_always_zero_flag {
        h.delta_pic_order_cnt[0] = r.se()?;
        if pf.bottom_field_pic_order_in_frame_present_flag && !h.field_pic_flag {
            h.delta_pic_order_cnt[1] = r.se()?;
        }
    }
    h.pic_order_cnt_bit_size = (r.pos() - poc_start) as u32;
    if pf.redundant_pic_cnt_present_flag {
        h.redundant_pic_cnt = r.ue_max(127)? as u8;
    }
    let (p, b, i_or_si) = match h.slice_type {
        0 | 3 => (true, false, false),
        1 => (false, true, false),
        _ => (false, false, true),
    };
    if b {
        r.flag()?; // direct_spatial_mv_pred_flag: VA carries it
    }
    if p || b {
        h.num_ref_idx_active_override_flag = r.flag()?;
        if h.num_ref_idx_active_override_flag {
            h.num_ref_idx_l0_active_minus1 = r.ue_max(31)? as u8;
            if b {
                h.num_ref_idx_l1_active_minus1 = r.ue_max(31)? as u8;
            }
        } else {
            // the PPS defaults (7.4.3): VA's final counts
            h.num_ref_idx_l0_active_minus1 = active_minus1[0].min(31);
            if b {
                h.num_ref_idx_l1_active_minus1 = active_minus1[1].min(31);
            }
        }
    }
    // ref_pic_list_modification() (7.3.3.1; nal_unit_type 20/21 excluded above)
    for list in 0..2 {
        if i_or_si || (list == 1 && !b) {
            continue;
        }
        if r.flag()? {
            let mut n = 0;
            loop {
                let idc = r.ue_max(5)?;
                if idc == 3 {
                    break;
                }
                r.ue()?;
                n += 1;
                if n > 33 {
                    return Err(SliceError::Truncated);
                }
            }
        }
    }
    if (pf.weighted_pred_flag && p) || (pf.weighted_bipred_idc == 1 && b) {
        skip_pred_weight_table(&mut r, pic, &h, b)?;
    }
    if h.nal_ref_idc != 0 {
        let start = r.pos();
        if idr {
            r.u(2)?; // no_output_of_prior_pics_flag, long_term_reference_flag
        } else if r.flag()? {
            // adaptive_ref_pic_marking_mode_flag: MMCOs until 0 (7.3.3.3)
            let mut n = 0;
            loop {
                let mmco = r.ue_max(6)?;
                if mmco == 0 {
                    break;
                }
                if mmco == 1 || mmco == 3 {
                    r.ue()?;
                }
                if mmco == 2 {
                    r.ue()?;
                }
                if mmco == 3 || mmco == 6 {
                    r.ue()?;
                }
                if mmco == 4 {
                    r.ue()?;
                }
                n += 1;
                if n > 66 {
                    return Err(SliceError::Truncated);
                }
            }
        }
        h.dec_ref_pic_marking_bit_size = (r.pos() - start) as u32;
    }
    if pf.entropy_coding_mode_flag && !i_or_si {
        r.ue_max(2)?; // cabac_init_idc: VA carries it
    }
    r.se()?; // slice_qp_delta: VA carries it
    if h.slice_type == 3 || h.slice_type == 4 {
        if h.slice_type == 3 {
            h.sp_for_switch_flag = r.flag()?;
        }
        h.slice_qs_delta = r.se()?.clamp(-51, 51) as i8;
    }
    if pf.deblocking_filter_control_present_flag {
        let idc = r.ue_max(6)?; // VA carries it and the two offsets
        if idc != 1 {
            r.se()?;
            r.se()?;
        }
    }
    let pp = pic.pp;
    if pp.num_slice_groups_minus1 > 0 && (3..=5).contains(&pp.slice_group_map_type) {
        // Ceil(Log2(PicSizeInMapUnits ÷ SliceGroupChangeRate + 1)) bits (7-34)
        let rate = u32::from(pp.slice_group_change_rate_minus1) + 1;
        let x = pic.pic_size_in_map_units() / rate + 1;
        let bits = u32::BITS - (x - 1).leading_zeros();
        h.slice_group_change_cycle = r.u(bits)?;
    }
    h.header_bit_size = r.pos() as u32;
    Ok(h)
}

fn skip_pred_weight_table(
    r: &mut BitReader<'_>,
    pic: &Picture<'_>,
    h: &SliceHeader,
    b: bool,
) -> Result<(), SliceError> {
    r.ue()?; // luma_log2_weight_denom
    let chroma = pic.seq.chroma_array_type() != 0;
    if chroma {
        r.ue()?;
    }
    for n in [
        h.num_ref_idx_l0_active_minus1,
        h.num_ref_idx_l1_active_minus1,
    ]
    .into_iter()
    .take(if b { 2 } else { 1 })
    {
        for _ in 0..=n {
            if r.flag()? {
                r.se()?;
                r.se()?;
            }
            if chroma && r.flag()? {
                for _ in 0..4 {
                    r.se()?;
                }
            }
        }
    }
    Ok(())
}

/// `data` without a leading `00 00 01` / `00 00 00 01` start code (clients
/// pass slice data from the NAL header; some keep the start code).
pub fn strip_start_code(data: &[u8]) -> &[u8] {
    if let Some(rest) = data.strip_prefix(&[0, 0, 1]) {
        rest
    } else if let Some(rest) = data.strip_prefix(&[0, 0, 0, 1]) {
        rest
    } else {
        data
    }
}

/// The OUTPUT buffer bytes for one NAL unit: prefixed by `00 00 01` when
/// the device's `V4L2_CID_STATELESS_H264_START_CODE` is `ANNEX_B`.
pub fn slice_bitstream(nal: &[u8], start_code: StartCode, out: &mut Vec<u8>) {
    if start_code == StartCode::AnnexB {
        out.extend_from_slice(&[0, 0, 1]);
    }
    out.extend_from_slice(nal);
}

/// `profile_idc` and `constraint_set_flags` a VA profile stands for (A.2):
/// VA carries the profile only as the config's `VAProfile`.
pub fn profile_idc(profile: sys::VAProfile) -> (u8, u8) {
    match profile {
        // constraint_set1_flag: a Constrained Baseline stream (A.2.1.1)
        sys::VAProfileH264ConstrainedBaseline => (66, 1 << 1),
        sys::VAProfileH264Main => (77, 0),
        36 => (110, 0), // VAProfileH264High10 (libva ≥ 2.18)
        _ => (100, 0),
    }
}

/// `V4L2_CID_STATELESS_H264_SPS` from VA's picture parameters, the config's
/// profile and the first slice's header. Not carried by VA, left 0:
/// `level_idc`, `seq_parameter_set_id`, the POC type 1 cycle
/// (`offset_for_non_ref_pic`, `offset_for_top_to_bottom_field`,
/// `num_ref_frames_in_pic_order_cnt_cycle`, `offset_for_ref_frame`) and
/// `QPPRIME_Y_ZERO_TRANSFORM_BYPASS`.
pub fn sps(pic: &Picture<'_>, profile: sys::VAProfile) -> bindings::v4l2_ctrl_h264_sps {
    let (profile_idc, constraint_set_flags) = profile_idc(profile);
    let s = pic.seq;
    let f = |b: bool, v: u32| if b { v } else { 0 };
    bindings::v4l2_ctrl_h264_sps {
        profile_idc,
        constraint_set_flags,
        chroma_format_idc: s.chroma_format_idc,
        bit_depth_luma_minus8: pic.pp.bit_depth_luma_minus8,
        bit_depth_chroma_minus8: pic.pp.bit_depth_chroma_minus8,
        log2_max_frame_num_minus4: s.log2_max_frame_num_minus4,
        pic_order_cnt_type: s.pic_order_cnt_type,
        log2_max_pic_order_cnt_lsb_minus4: s.log2_max_pic_order_cnt_lsb_minus4,
        max_num_ref_frames: pic.pp.num_ref_frames,
        pic_width_in_mbs_minus1: pic.pp.picture_width_in_mbs_minus1,
        pic_height_in_map_units_minus1: pic.pic_height_in_map_units_minus1() as u16,
        flags: f(
            s.separate_colour_plane_flag,
            bindings::V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE,
        ) | f(
            s.delta_pic_order_always_zero_flag,
            bindings::V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO,
        ) | f(
            s.gaps_in_frame_num_value_allowed_flag,
            bindings::V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED,
        ) | f(
            s.frame_mbs_only_flag,
            bindings::V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY,
        ) | f(
            s.mb_adaptive_frame_field_flag,
            bindings::V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD,
        ) | f(
            s.direct_8x8_inference_flag,
            bindings::V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE,
        ),
        ..Default::default()
    }
}

/// True when the IQ matrix is not the flat one (every entry 16, which
/// clients send when the stream signals no matrix: Flat_4x4_16 /
/// Flat_8x8_16, 7.4.2.1.1). Decides `SCALING_MATRIX_PRESENT` and whether the
/// SCALING_MATRIX control is sent (VA carries no "present" flag; a stream
/// that signals an explicitly flat matrix is taken as one without).
pub fn scaling_matrix_present(iq: Option<&sys::VAIQMatrixBufferH264>) -> bool {
    iq.is_some_and(|m| {
        m.ScalingList4x4.iter().flatten().any(|&v| v != 16)
            || m.ScalingList8x8.iter().flatten().any(|&v| v != 16)
    })
}

/// What the slices of a picture say of the PPS's
/// `num_ref_idx_l0/l1_default_active_minus1` (VA does not carry them): a P
/// or B slice that does not override its counts
/// (`num_ref_idx_active_override_flag` 0, 7.4.3) uses the defaults, so its
/// final counts (VA's) are them (l1 only from a B slice). `known` keeps what
/// earlier pictures told (a context's PPS rarely changes) and is updated.
pub fn pps_defaults(headers: &[SliceHeader], known: &mut [u8; 2]) {
    for h in headers {
        if h.num_ref_idx_active_override_flag {
            continue;
        }
        match h.slice_type {
            0 | 3 => known[0] = h.num_ref_idx_l0_active_minus1,
            1 => {
                known[0] = h.num_ref_idx_l0_active_minus1;
                known[1] = h.num_ref_idx_l1_active_minus1;
            }
            _ => {}
        }
    }
}

/// `V4L2_CID_STATELESS_H264_PPS`. `defaults`:
/// `num_ref_idx_l0/l1_default_active_minus1` as [`pps_defaults`] found them
/// (0 until a slice tells). `seq_parameter_set_id` is not carried (0).
pub fn pps(
    pic: &Picture<'_>,
    first: &SliceHeader,
    defaults: [u8; 2],
    scaling_present: bool,
) -> bindings::v4l2_ctrl_h264_pps {
    let p = pic.pic;
    let f = |b: bool, v: u32| if b { v as u16 } else { 0 };
    let [l0, l1] = defaults;
    bindings::v4l2_ctrl_h264_pps {
        pic_parameter_set_id: first.pic_parameter_set_id,
        seq_parameter_set_id: 0,
        num_slice_groups_minus1: pic.pp.num_slice_groups_minus1,
        num_ref_idx_l0_default_active_minus1: l0,
        num_ref_idx_l1_default_active_minus1: l1,
        weighted_bipred_idc: p.weighted_bipred_idc,
        pic_init_qp_minus26: pic.pp.pic_init_qp_minus26,
        pic_init_qs_minus26: pic.pp.pic_init_qs_minus26,
        chroma_qp_index_offset: pic.pp.chroma_qp_index_offset,
        second_chroma_qp_index_offset: pic.pp.second_chroma_qp_index_offset,
        flags: f(
            p.entropy_coding_mode_flag,
            bindings::V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE,
        ) | f(
            p.bottom_field_pic_order_in_frame_present_flag,
            bindings::V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT,
        ) | f(
            p.weighted_pred_flag,
            bindings::V4L2_H264_PPS_FLAG_WEIGHTED_PRED,
        ) | f(
            p.deblocking_filter_control_present_flag,
            bindings::V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT,
        ) | f(
            p.constrained_intra_pred_flag,
            bindings::V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED,
        ) | f(
            p.redundant_pic_cnt_present_flag,
            bindings::V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT,
        ) | f(
            p.transform_8x8_mode_flag,
            bindings::V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE,
        ) | f(
            scaling_present,
            bindings::V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT,
        ),
    }
}

/// `V4L2_CID_STATELESS_H264_SCALING_MATRIX`: both are in raster order (va.h
/// "in raster scan order"; uAPI: raster order). VA has the two 4:2:0 8x8
/// lists (Intra Y, Inter Y); the other four stay 0 as GStreamer leaves them
/// for non-4:4:4 streams.
pub fn scaling_matrix(iq: &sys::VAIQMatrixBufferH264) -> bindings::v4l2_ctrl_h264_scaling_matrix {
    let mut c = bindings::v4l2_ctrl_h264_scaling_matrix {
        scaling_list_4x4: iq.ScalingList4x4,
        ..Default::default()
    };
    c.scaling_list_8x8 = [[0; 64]; 6];
    c.scaling_list_8x8[..2].copy_from_slice(&iq.ScalingList8x8);
    c
}

/// Whether a `VAPictureH264` names a picture (not `VA_INVALID_SURFACE`, not
/// flagged `VA_PICTURE_H264_INVALID`).
pub fn is_valid(p: &VAPictureH264) -> bool {
    p.picture_id != sys::VA_INVALID_SURFACE && p.flags & sys::VA_PICTURE_H264_INVALID == 0
}

/// `V4L2_CID_STATELESS_H264_DECODE_PARAMS` for the picture, from
/// `ReferenceFrames` (the client's DPB) and the first slice's header;
/// `P/BFRAME` from the first slice's type, as GStreamer submits the first
/// slice before it sees the next. `timestamp_of(surface)` is the OUTPUT
/// timestamp of the picture last decoded into `surface` (`reference_ts`);
/// a reference whose surface holds no decoded picture is left out.
/// `pic_num` (not carried by VA) is `FrameNumWrap` (8-27) for short-term
/// frame references and `LongTermFrameIdx` for long-term ones (8-28), as
/// for frames; for field decoding: `2·FrameNumWrap + 1` / `2·LongTermFrameIdx + 1`
/// (8-30, 8-31, same parity).
pub fn decode_params(
    pic: &Picture<'_>,
    first: &SliceHeader,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> bindings::v4l2_ctrl_h264_decode_params {
    let pp = pic.pp;
    let cur = &pp.CurrPic;
    let f = |b: bool, v: u32| if b { v } else { 0 };
    let mut c = bindings::v4l2_ctrl_h264_decode_params {
        nal_ref_idc: u16::from(first.nal_ref_idc),
        frame_num: pp.frame_num,
        top_field_order_cnt: cur.TopFieldOrderCnt,
        bottom_field_order_cnt: cur.BottomFieldOrderCnt,
        idr_pic_id: first.idr_pic_id,
        pic_order_cnt_lsb: first.pic_order_cnt_lsb,
        delta_pic_order_cnt_bottom: first.delta_pic_order_cnt_bottom,
        delta_pic_order_cnt0: first.delta_pic_order_cnt[0],
        delta_pic_order_cnt1: first.delta_pic_order_cnt[1],
        dec_ref_pic_marking_bit_size: first.dec_ref_pic_marking_bit_size,
        pic_order_cnt_bit_size: first.pic_order_cnt_bit_size,
        slice_group_change_cycle: first.slice_group_change_cycle,
        flags: f(
            first.nal_unit_type == 5,
            bindings::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC,
        ) | f(
            pic.pic.field_pic_flag,
            bindings::V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC,
        ) | f(
            pic.pic.field_pic_flag && cur.flags & sys::VA_PICTURE_H264_BOTTOM_FIELD != 0,
            bindings::V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD,
        ) | match first.slice_type {
            0 => bindings::V4L2_H264_DECODE_PARAM_FLAG_PFRAME,
            1 => bindings::V4L2_H264_DECODE_PARAM_FLAG_BFRAME,
            _ => 0,
        },
        ..Default::default()
    };
    let max_frame_num = 1i64 << (u32::from(pic.seq.log2_max_frame_num_minus4) + 4);
    let field = pic.pic.field_pic_flag;
    let mut n = 0;
    for r in pp.ReferenceFrames.iter().filter(|r| is_valid(r)) {
        let Some(ts) = timestamp_of(r.picture_id) else {
            continue;
        };
        if n >= c.dpb.len() {
            break;
        }
        let long = r.flags & sys::VA_PICTURE_H264_LONG_TERM_REFERENCE != 0;
        let (top, bottom) = (
            r.flags & sys::VA_PICTURE_H264_TOP_FIELD != 0,
            r.flags & sys::VA_PICTURE_H264_BOTTOM_FIELD != 0,
        );
        let e = &mut c.dpb[n];
        n += 1;
        e.reference_ts = ts;
        e.frame_num = r.frame_idx as u16;
        let base = if long {
            i64::from(r.frame_idx)
        } else {
            let fnum = i64::from(r.frame_idx);
            if fnum > i64::from(pp.frame_num) {
                fnum - max_frame_num
            } else {
                fnum
            }
        };
        e.pic_num = if field { 2 * base + 1 } else { base } as u32;
        e.top_field_order_cnt = r.TopFieldOrderCnt;
        e.bottom_field_order_cnt = r.BottomFieldOrderCnt;
        e.fields = match (top, bottom) {
            (true, false) => bindings::V4L2_H264_TOP_FIELD_REF,
            (false, true) => bindings::V4L2_H264_BOTTOM_FIELD_REF,
            _ => bindings::V4L2_H264_FRAME_REF,
        } as u8;
        e.flags = bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID
            | bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE
            | f(long, bindings::V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM)
            | f(top != bottom, bindings::V4L2_H264_DPB_ENTRY_FLAG_FIELD);
    }
    c
}

/// `V4L2_CID_STATELESS_H264_SLICE_PARAMS` for one slice: VA's slice
/// parameters, `RefPicList0/1` resolved to indices of `dp.dpb` through the
/// surfaces' timestamps (unused entries 0xff / 0xff as GStreamer), and the
/// header fields VA lacks from `hdr`.
pub fn slice_params(
    sp: &sys::VASliceParameterBufferH264,
    hdr: &SliceHeader,
    dp: &bindings::v4l2_ctrl_h264_decode_params,
    field_pic: bool,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> bindings::v4l2_ctrl_h264_slice_params {
    let mut c = bindings::v4l2_ctrl_h264_slice_params {
        header_bit_size: hdr.header_bit_size,
        first_mb_in_slice: u32::from(sp.first_mb_in_slice),
        slice_type: sp.slice_type % 5,
        colour_plane_id: hdr.colour_plane_id,
        redundant_pic_cnt: hdr.redundant_pic_cnt,
        cabac_init_idc: sp.cabac_init_idc,
        slice_qp_delta: sp.slice_qp_delta,
        slice_qs_delta: hdr.slice_qs_delta,
        disable_deblocking_filter_idc: sp.disable_deblocking_filter_idc,
        slice_alpha_c0_offset_div2: sp.slice_alpha_c0_offset_div2,
        slice_beta_offset_div2: sp.slice_beta_offset_div2,
        num_ref_idx_l0_active_minus1: sp.num_ref_idx_l0_active_minus1,
        num_ref_idx_l1_active_minus1: sp.num_ref_idx_l1_active_minus1,
        flags: if sp.direct_spatial_mv_pred_flag != 0 {
            bindings::V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED
        } else {
            0
        } | if hdr.sp_for_switch_flag {
            bindings::V4L2_H264_SLICE_FLAG_SP_FOR_SWITCH
        } else {
            0
        },
        ..Default::default()
    };
    let blank = bindings::v4l2_h264_reference {
        fields: 0xff,
        index: 0xff,
    };
    c.ref_pic_list0 = [blank; 32];
    c.ref_pic_list1 = [blank; 32];
    let st = sp.slice_type % 5;
    let lists = [
        (
            &mut c.ref_pic_list0,
            &sp.RefPicList0,
            sp.num_ref_idx_l0_active_minus1,
            st == 0 || st == 1 || st == 3,
        ),
        (
            &mut c.ref_pic_list1,
            &sp.RefPicList1,
            sp.num_ref_idx_l1_active_minus1,
            st == 1,
        ),
    ];
    for (dst, src, n, used) in lists {
        if !used {
            continue;
        }
        for (d, s) in dst.iter_mut().zip(src.iter()).take(usize::from(n) + 1) {
            if !is_valid(s) {
                continue;
            }
            let Some(ts) = timestamp_of(s.picture_id) else {
                continue;
            };
            let Some(index) = dp.dpb.iter().position(|e| {
                e.flags & bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE != 0 && e.reference_ts == ts
            }) else {
                continue;
            };
            d.index = index as u8;
            d.fields = if !field_pic {
                bindings::V4L2_H264_FRAME_REF
            } else if s.flags & sys::VA_PICTURE_H264_BOTTOM_FIELD != 0 {
                bindings::V4L2_H264_BOTTOM_FIELD_REF
            } else {
                bindings::V4L2_H264_TOP_FIELD_REF
            } as u8;
        }
    }
    c
}

/// `V4L2_CID_STATELESS_H264_PRED_WEIGHTS`: VA's table when the slice has a
/// `pred_weight_table()` (explicit weighted prediction: `weighted_pred_flag`
/// for P / SP, `weighted_bipred_idc` 1 for B; 7.3.3), else all zero as
/// GStreamer; chroma only when `ChromaArrayType` ≠ 0, list 1 only for B.
pub fn pred_weights(
    sp: &sys::VASliceParameterBufferH264,
    pic: &Picture<'_>,
) -> bindings::v4l2_ctrl_h264_pred_weights {
    let mut c = bindings::v4l2_ctrl_h264_pred_weights::default();
    let st = sp.slice_type % 5;
    let (p, b) = (st == 0 || st == 3, st == 1);
    if !((pic.pic.weighted_pred_flag && p) || (pic.pic.weighted_bipred_idc == 1 && b)) {
        return c;
    }
    c.luma_log2_weight_denom = u16::from(sp.luma_log2_weight_denom);
    c.chroma_log2_weight_denom = u16::from(sp.chroma_log2_weight_denom);
    let chroma = pic.seq.chroma_array_type() != 0;
    let n0 = (usize::from(sp.num_ref_idx_l0_active_minus1) + 1).min(32);
    let w = &mut c.weight_factors[0];
    for i in 0..n0 {
        w.luma_weight[i] = sp.luma_weight_l0[i];
        w.luma_offset[i] = sp.luma_offset_l0[i];
        if chroma {
            w.chroma_weight[i] = sp.chroma_weight_l0[i];
            w.chroma_offset[i] = sp.chroma_offset_l0[i];
        }
    }
    if !b {
        return c;
    }
    let n1 = (usize::from(sp.num_ref_idx_l1_active_minus1) + 1).min(32);
    let w = &mut c.weight_factors[1];
    for i in 0..n1 {
        w.luma_weight[i] = sp.luma_weight_l1[i];
        w.luma_offset[i] = sp.luma_offset_l1[i];
        if chroma {
            w.chroma_weight[i] = sp.chroma_weight_l1[i];
            w.chroma_offset[i] = sp.chroma_offset_l1[i];
        }
    }
    c
}

/// One slice as the client rendered it: its `VASliceParameterBufferH264`
/// and the bytes of the slice data buffer rendered with it.
#[derive(Clone, Copy)]
pub struct Slice<'a> {
    pub params: sys::VASliceParameterBufferH264,
    pub data: &'a [u8],
}

/// What [`jobs`] makes of one picture.
#[derive(Debug)]
pub struct Jobs {
    /// The requests, in order (see [`super::Mapped::jobs`]).
    pub jobs: Vec<vreq_core::DecodeJob>,
    /// The SPS as sent (or as it would have been: unchanged from `last_sps`).
    pub sps: bindings::v4l2_ctrl_h264_sps,
}

/// The requests for one picture, as GStreamer's `gstv4l2codech264dec.c`
/// submits them: the first request carries SPS (only when it differs from
/// `last_sps`, the one the device has), PPS (`pps_known`: [`pps_defaults`]),
/// SCALING_MATRIX (when
/// [`scaling_matrix_present`]) and DECODE_PARAMS; in slice-based mode every
/// request carries its slice's SLICE_PARAMS and PRED_WEIGHTS and one slice's
/// bytes; in frame-based mode one request has every slice. Slice bytes are
/// prefixed per `start_code`. All requests have `timestamp_ns`.
#[allow(clippy::too_many_arguments)]
pub fn jobs(
    pic: &Picture<'_>,
    iq: Option<&sys::VAIQMatrixBufferH264>,
    slices: &[Slice<'_>],
    profile: sys::VAProfile,
    mode: vreq_core::DecodeMode,
    start_code: StartCode,
    timestamp_ns: u64,
    last_sps: Option<&bindings::v4l2_ctrl_h264_sps>,
    pps_known: &mut [u8; 2],
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> Result<Jobs, MapError> {
    if slices.is_empty() {
        return Err(MapError::NoSlices);
    }
    let mut nals = Vec::with_capacity(slices.len());
    let mut headers = Vec::with_capacity(slices.len());
    for (n, s) in slices.iter().enumerate() {
        let start = s.params.slice_data_offset as usize;
        let end = start.checked_add(s.params.slice_data_size as usize);
        let nal = end
            .and_then(|end| s.data.get(start..end))
            .filter(|_| s.params.slice_data_flag == sys::VA_SLICE_DATA_FLAG_ALL)
            .ok_or(MapError::SliceData(n))?;
        let nal = strip_start_code(nal);
        let active = [
            s.params.num_ref_idx_l0_active_minus1,
            s.params.num_ref_idx_l1_active_minus1,
        ];
        headers.push(
            read_slice_header(nal, pic, active)
                .map_err(|e| MapError::Header(n, format!("{e:?}")))?,
        );
        nals.push(nal);
    }
    let first = &headers[0];
    pps_defaults(&headers, pps_known);
    let scaling = scaling_matrix_present(iq);
    let sps = sps(pic, profile);
    let dp = decode_params(pic, first, timestamp_of);
    let mut head = Vec::with_capacity(4);
    if last_sps != Some(&sps) {
        head.push(Control::H264Sps(Box::new(sps)));
    }
    head.push(Control::H264Pps(Box::new(pps(
        pic, first, *pps_known, scaling,
    ))));
    if let (true, Some(m)) = (scaling, iq) {
        head.push(Control::H264ScalingMatrix(Box::new(scaling_matrix(m))));
    }
    head.push(Control::H264DecodeParams(Box::new(dp)));
    let job = |controls, bitstream, hold_capture, starts_picture| vreq_core::DecodeJob {
        timestamp_ns,
        controls,
        bitstream,
        hold_capture,
        starts_picture,
    };
    let mut out = Vec::new();
    if mode == vreq_core::DecodeMode::FrameBased {
        let mut bitstream = Vec::new();
        for nal in &nals {
            slice_bitstream(nal, start_code, &mut bitstream);
        }
        out.push(job(head, bitstream, false, true));
    } else {
        let last = slices.len() - 1;
        for (n, (s, (h, nal))) in slices.iter().zip(headers.iter().zip(&nals)).enumerate() {
            let mut controls = if n == 0 {
                std::mem::take(&mut head)
            } else {
                Vec::with_capacity(2)
            };
            controls.push(Control::H264SliceParams(Box::new(slice_params(
                &s.params,
                h,
                &dp,
                pic.pic.field_pic_flag,
                timestamp_of,
            ))));
            controls.push(Control::H264PredWeights(Box::new(pred_weights(
                &s.params, pic,
            ))));
            let mut bitstream = Vec::new();
            slice_bitstream(nal, start_code, &mut bitstream);
            out.push(job(controls, bitstream, n != last, n == 0));
        }
    }
    Ok(Jobs { jobs: out, sps })
}

/// The H.264 [`CodecMap`]: what it carries from picture to picture is the
/// SPS the device has (sent again only when it changes, as GStreamer does)
/// and the PPS defaults slices told so far ([`pps_defaults`]).
#[derive(Debug, Default)]
pub struct H264Map {
    last_sps: Option<bindings::v4l2_ctrl_h264_sps>,
    pps_known: [u8; 2],
}

impl CodecMap for H264Map {
    fn kind(&self) -> CodecKind {
        CodecKind::H264
    }

    fn buffers(&self) -> BufferStructs {
        use std::mem::size_of;
        BufferStructs {
            picture: size_of::<sys::VAPictureParameterBufferH264>(),
            iq_matrix: Some(size_of::<sys::VAIQMatrixBufferH264>()),
            probability: None,
            slice: size_of::<sys::VASliceParameterBufferH264>(),
        }
    }

    /// [`jobs`] of the picture; its format: coded size from
    /// `picture_width/height_in_mbs_minus1` (16-pixel macroblocks), bit
    /// depth `bit_depth_luma_minus8 + 8`, DPB `num_ref_frames` (at most 16)
    /// + 1.
    fn map(&mut self, r: &Rendered<'_>, cx: &MapContext<'_>) -> Result<Mapped, MapError> {
        let pp = picture_parameters(r.pic_params).ok_or(MapError::PictureParameters)?;
        let iq = r.iq.and_then(iq_matrix);
        let mut slices = Vec::with_capacity(r.slices.len());
        for (n, s) in r.slices.iter().enumerate() {
            let params = slice_parameters(s.params, 0).ok_or(MapError::SliceData(n))?;
            slices.push(Slice {
                params,
                data: s.data,
            });
        }
        let mut known = self.pps_known;
        let out = jobs(
            &Picture::new(&pp),
            iq.as_ref(),
            &slices,
            cx.profile,
            cx.mode,
            cx.start_code,
            cx.timestamp_ns,
            self.last_sps.as_ref(),
            &mut known,
            cx.timestamp_of,
        )?;
        self.pps_known = known;
        self.last_sps = Some(out.sps);
        Ok(Mapped {
            format: PictureFormat {
                coded_width: (u32::from(pp.picture_width_in_mbs_minus1) + 1) * 16,
                coded_height: (u32::from(pp.picture_height_in_mbs_minus1) + 1) * 16,
                bit_depth: pp.bit_depth_luma_minus8.saturating_add(8),
                // at most 16 reference frames (A.3.1 MaxDpbFrames): a
                // larger value would ask the device for buffers for nothing
                dpb_size: u32::from(pp.num_ref_frames.min(16)) + 1,
            },
            jobs: out.jobs,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
