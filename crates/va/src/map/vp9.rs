//! VP9 (profiles 0 and 2): `VADecPictureParameterBufferVP9` +
//! `VASliceParameterBufferVP9` (with its `seg_param[8]`) + slice data (the
//! whole frame) → `V4L2_CID_STATELESS_VP9_FRAME` and
//! `V4L2_CID_STATELESS_VP9_COMPRESSED_HDR`, one request per frame.
//!
//! Sources: libva `va/va_dec_vp9.h` (the VA structs and their bit fields),
//! the uAPI "ext-ctrls-codec-stateless.rst" (`v4l2_ctrl_vp9_frame`,
//! `v4l2_ctrl_vp9_compressed_hdr`), GStreamer 1.26's
//! `sys/v4l2codecs/gstv4l2codecvp9dec.c` (which uAPI field is filled from
//! what; `crates/codec/src/vp9/controls.rs` does the same from our own
//! parser), and what the two clients put in the VA buffers: FFmpeg's
//! `libavcodec/vaapi_vp9.c` and GStreamer's `sys/va/gstvavp9dec.c` both pass
//! the whole frame (uncompressed header, compressed header, tiles) as the
//! slice data at `slice_data_offset` 0, `frame_header_length_in_bytes` =
//! the uncompressed header's size and `first_partition_size` = the
//! compressed header's (`header_size_in_bytes`), and neither renders
//! anything for a `show_existing_frame` header (they show the reference
//! surface again themselves; GStreamer's v4l2codecs sends no request
//! either).
//!
//! VA carries what a decoder that parses the compressed header itself
//! needs, not everything the uAPI holds: the loop filter deltas, the
//! quantizer (`base_q_idx` and its deltas: VA has per-segment scales
//! instead), the segmentation feature data, the render size, the colour
//! range and the whole compressed header (probability deltas, `tx_mode`,
//! `reference_mode`) are read from the frame with `vreq_core::vp9` (the
//! syntax our player's VP9 codec uses). Where VA carries a field it is
//! used, but only when the frame's header codes it: FFmpeg leaves the
//! previous frame's value in fields the syntax does not code for this frame
//! (`intra_only` and `reset_frame_context` on key frames, the interpolation
//! filter, high-precision MVs, reference indices and sign biases on intra
//! frames, the segmentation map flags with segmentation off), where the
//! spec's inferred value (the parsed header's, GStreamer's) is the right
//! one. docs/VA-DRIVER.md lists every field and its source.

use v4l2r::bindings;
use vreq_core::vp9::{self as syntax, CompressedHeader, FrameHeader, ParserState};
use vreq_core::{CodecKind, Control, DecodeJob};

use super::{BufferStructs, CodecMap, MapContext, MapError, Mapped, PictureFormat, Rendered};

use crate::ffi::{read_element, vp9_pic_fields, vp9_segment_flags};
use crate::sys::{self, VASurfaceID};

/// A picture parameter buffer's bytes as `VADecPictureParameterBufferVP9`
/// (`None` when shorter than the struct).
pub fn picture_parameters(bytes: &[u8]) -> Option<sys::VADecPictureParameterBufferVP9> {
    read_element(bytes, 0)
}

/// Element `index` of a slice parameter buffer as `VASliceParameterBufferVP9`.
pub fn slice_parameters(bytes: &[u8], index: usize) -> Option<sys::VASliceParameterBufferVP9> {
    read_element(bytes, index)
}

/// `pic_fields` of `VADecPictureParameterBufferVP9` (va_dec_vp9.h bit
/// field, LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PicFields {
    pub subsampling_x: bool,
    pub subsampling_y: bool,
    /// 0 = key frame (spec `frame_type`).
    pub frame_type: u8,
    pub show_frame: bool,
    pub error_resilient_mode: bool,
    pub intra_only: bool,
    pub allow_high_precision_mv: bool,
    /// `interp_filter` after the spec's literal map (7.2): EIGHTTAP 0,
    /// EIGHTTAP_SMOOTH 1, EIGHTTAP_SHARP 2, BILINEAR 3, SWITCHABLE 4 — the
    /// `V4L2_VP9_INTERP_FILTER_*` numbering (FFmpeg: `filtermode ^
    /// (filtermode <= 1)`).
    pub mcomp_filter_type: u8,
    pub frame_parallel_decoding_mode: bool,
    /// As coded, 0..=3.
    pub reset_frame_context: u8,
    pub refresh_frame_context: bool,
    pub frame_context_idx: u8,
    pub segmentation_enabled: bool,
    pub segmentation_temporal_update: bool,
    pub segmentation_update_map: bool,
    /// Indices into `reference_frames[8]` (spec `ref_frame_idx[0..3]`).
    pub last_ref_frame: u8,
    pub last_ref_frame_sign_bias: bool,
    pub golden_ref_frame: u8,
    pub golden_ref_frame_sign_bias: bool,
    pub alt_ref_frame: u8,
    pub alt_ref_frame_sign_bias: bool,
    pub lossless_flag: bool,
}

impl PicFields {
    /// Decodes `pic_fields.value`.
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        let n = |bit: u32, len: u32| (v >> bit & ((1 << len) - 1)) as u8;
        PicFields {
            subsampling_x: b(0),
            subsampling_y: b(1),
            frame_type: n(2, 1),
            show_frame: b(3),
            error_resilient_mode: b(4),
            intra_only: b(5),
            allow_high_precision_mv: b(6),
            mcomp_filter_type: n(7, 3),
            frame_parallel_decoding_mode: b(10),
            reset_frame_context: n(11, 2),
            refresh_frame_context: b(13),
            frame_context_idx: n(14, 2),
            segmentation_enabled: b(16),
            segmentation_temporal_update: b(17),
            segmentation_update_map: b(18),
            last_ref_frame: n(19, 3),
            last_ref_frame_sign_bias: b(22),
            golden_ref_frame: n(23, 3),
            golden_ref_frame_sign_bias: b(26),
            alt_ref_frame: n(27, 3),
            alt_ref_frame_sign_bias: b(30),
            lossless_flag: b(31),
        }
    }
}

/// `segment_flags` of `VASegmentParameterVP9` (LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentFlags {
    /// `FeatureEnabled[seg][SEG_LVL_REF_FRAME]`.
    pub segment_reference_enabled: bool,
    /// `FeatureData[seg][SEG_LVL_REF_FRAME]`, 0..=3.
    pub segment_reference: u8,
    /// `FeatureEnabled[seg][SEG_LVL_SKIP]`.
    pub segment_reference_skipped: bool,
}

impl SegmentFlags {
    /// Decodes `segment_flags.value`.
    pub fn from_value(v: u16) -> Self {
        SegmentFlags {
            segment_reference_enabled: v & 1 != 0,
            segment_reference: (v >> 1 & 3) as u8,
            segment_reference_skipped: v >> 3 & 1 != 0,
        }
    }
}

/// `SEG_LVL_REF_FRAME` and `SEG_LVL_SKIP` (spec 7.2.10; the uAPI's
/// `V4L2_VP9_SEG_LVL_*`).
const SEG_LVL_REF_FRAME: usize = 2;
const SEG_LVL_SKIP: usize = 3;

/// The frame a VP9 slice parameter element selects: `slice_data_size`
/// bytes at `slice_data_offset` of its data buffer, whole
/// (`VA_SLICE_DATA_FLAG_ALL`). `None`: out of range or partial.
pub fn frame_bytes<'a>(sp: &sys::VASliceParameterBufferVP9, data: &'a [u8]) -> Option<&'a [u8]> {
    let start = sp.slice_data_offset as usize;
    let end = start.checked_add(sp.slice_data_size as usize)?;
    data.get(start..end)
        .filter(|_| sp.slice_data_flag == sys::VA_SLICE_DATA_FLAG_ALL)
}

/// The frame's headers as read from the slice data, checked against what
/// the picture parameters say of them.
pub struct Headers {
    /// The uncompressed header (spec 6.2) with `tx_mode` and
    /// `reference_mode` from the compressed one.
    pub frame: FrameHeader,
    /// The compressed header's probability deltas (spec 6.3).
    pub compressed: CompressedHeader,
}

/// Reads the uncompressed and compressed headers of `frame` with `state`
/// (the parser state carried from the context's previous frames; updated
/// only on success) and checks them against `pp`: the header sizes
/// (`frame_header_length_in_bytes`, `first_partition_size`), the frame size,
/// profile, bit depth and frame type must agree, else the slice data is not
/// the frame the parameters describe (or does not start at its
/// uncompressed header) and the device would read other headers than ours:
/// `Err` with the reason. `show_existing_frame`, profiles 1 / 3 and 12-bit
/// frames are refused (the first has nothing to decode: clients show the
/// reference surface themselves).
pub fn read_headers(
    state: &mut ParserState,
    pp: &sys::VADecPictureParameterBufferVP9,
    frame: &[u8],
) -> Result<Headers, MapError> {
    let mut next = state.clone();
    let mut h = next
        .parse_uncompressed_header(frame)
        .map_err(|e| MapError::Header(0, e))?;
    if h.show_existing_frame {
        return Err(MapError::Unsupported(
            "VP9 show_existing_frame: nothing to decode (the client shows the reference surface)"
                .into(),
        ));
    }
    if h.profile == 1 || h.profile == 3 || h.bit_depth == 12 {
        return Err(MapError::Unsupported(format!(
            "VP9 profile {} at {} bits: only profiles 0 and 2, 8 and 10 bits",
            h.profile, h.bit_depth
        )));
    }
    let pic = PicFields::from_value(vp9_pic_fields(pp));
    let checks: [(&str, u32, u32); 7] = [
        (
            "frame_header_length_in_bytes",
            pp.frame_header_length_in_bytes.into(),
            h.uncompressed_header_size.into(),
        ),
        (
            "first_partition_size",
            pp.first_partition_size.into(),
            h.header_size_in_bytes.into(),
        ),
        ("frame_width", pp.frame_width.into(), h.width),
        ("frame_height", pp.frame_height.into(), h.height),
        ("profile", pp.profile.into(), h.profile.into()),
        ("bit_depth", pp.bit_depth.into(), h.bit_depth.into()),
        ("frame_type", pic.frame_type.into(), h.frame_type.into()),
    ];
    for (name, va, parsed) in checks {
        if va != parsed {
            return Err(MapError::Header(
                0,
                format!("{name} is {va} in the picture parameters, {parsed} in the frame's header"),
            ));
        }
    }
    let compressed =
        syntax::parse_compressed_header(frame, &mut h).map_err(|e| MapError::Header(0, e))?;
    *state = next;
    Ok(Headers {
        frame: h,
        compressed,
    })
}

/// The OUTPUT timestamp of `reference_frames[idx]` (0 when the entry is
/// `VA_INVALID_SURFACE` or names a surface never rendered in this context,
/// as GStreamer's `fill_refs` gives 0 for an empty slot).
fn ref_ts(
    pp: &sys::VADecPictureParameterBufferVP9,
    idx: u8,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> u64 {
    let s = pp.reference_frames[usize::from(idx & 7)];
    if s == sys::VA_INVALID_SURFACE {
        return 0;
    }
    timestamp_of(s).unwrap_or(0)
}

/// `v4l2_ctrl_vp9_frame` of one frame: VA's fields where VA carries them
/// and the frame's header codes them, else the parsed header's (module
/// docs; docs/VA-DRIVER.md has the table). References: `last_ref_frame`,
/// `golden_ref_frame`, `alt_ref_frame` index `reference_frames[8]`, whose
/// surfaces name the pictures by OUTPUT timestamp (`timestamp_of`); intra
/// frames code no indices and name `reference_frames[0]` three times, as
/// GStreamer's `fill_refs` (its `ref_frame_idx` is 0).
pub fn frame(
    pp: &sys::VADecPictureParameterBufferVP9,
    slice: &sys::VASliceParameterBufferVP9,
    h: &FrameHeader,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> bindings::v4l2_ctrl_vp9_frame {
    let pic = PicFields::from_value(vp9_pic_fields(pp));
    let key = pic.frame_type == syntax::KEY_FRAME;
    let intra = h.is_intra();
    let mut f: bindings::v4l2_ctrl_vp9_frame = Default::default();
    let flag = |b: bool, v: u32| if b { v } else { 0 };
    f.flags = flag(key, bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME)
        | flag(pic.show_frame, bindings::V4L2_VP9_FRAME_FLAG_SHOW_FRAME)
        | flag(
            pic.error_resilient_mode,
            bindings::V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT,
        )
        // not coded on key frames: FFmpeg keeps the last frame's
        | flag(
            !key && pic.intra_only,
            bindings::V4L2_VP9_FRAME_FLAG_INTRA_ONLY,
        )
        // coded for inter frames only
        | flag(
            !intra && pic.allow_high_precision_mv,
            bindings::V4L2_VP9_FRAME_FLAG_ALLOW_HIGH_PREC_MV,
        )
        | flag(
            pic.refresh_frame_context,
            bindings::V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX,
        )
        | flag(
            pic.frame_parallel_decoding_mode,
            bindings::V4L2_VP9_FRAME_FLAG_PARALLEL_DEC_MODE,
        )
        | flag(pic.subsampling_x, bindings::V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING)
        | flag(pic.subsampling_y, bindings::V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING)
        // VA has no colour range
        | flag(
            h.color_range != 0,
            bindings::V4L2_VP9_FRAME_FLAG_COLOR_RANGE_FULL_SWING,
        );
    f.compressed_header_size = pp.first_partition_size;
    f.uncompressed_header_size = pp.frame_header_length_in_bytes.into();
    f.profile = pp.profile;
    f.frame_context_idx = pic.frame_context_idx;
    f.bit_depth = pp.bit_depth;
    f.interpolation_filter = if intra { 0 } else { pic.mcomp_filter_type };
    f.tile_cols_log2 = pp.log2_tile_columns;
    f.tile_rows_log2 = pp.log2_tile_rows;
    f.reference_mode = h.reference_mode;
    f.frame_width_minus_1 = pp.frame_width.saturating_sub(1);
    f.frame_height_minus_1 = pp.frame_height.saturating_sub(1);
    f.render_width_minus_1 = (h.render_width.max(1) - 1) as u16;
    f.render_height_minus_1 = (h.render_height.max(1) - 1) as u16;
    // Error-resilient inter frames code the sign biases, but libvpx's
    // decoder (vp9_setup_past_independence) and GStreamer's parser clear
    // them right after reading, and the compressed header is read (here, by
    // libvpx and GStreamer) with the cleared values: the parsed ones are
    // used there; FFmpeg passes the coded ones.
    if intra || pic.error_resilient_mode {
        f.ref_frame_sign_bias = flag(h.ref_frame_sign_bias[1], bindings::V4L2_VP9_SIGN_BIAS_LAST)
            as u8
            | flag(
                h.ref_frame_sign_bias[2],
                bindings::V4L2_VP9_SIGN_BIAS_GOLDEN,
            ) as u8
            | flag(h.ref_frame_sign_bias[3], bindings::V4L2_VP9_SIGN_BIAS_ALT) as u8;
    } else {
        f.ref_frame_sign_bias = (flag(
            pic.last_ref_frame_sign_bias,
            bindings::V4L2_VP9_SIGN_BIAS_LAST,
        ) | flag(
            pic.golden_ref_frame_sign_bias,
            bindings::V4L2_VP9_SIGN_BIAS_GOLDEN,
        ) | flag(
            pic.alt_ref_frame_sign_bias,
            bindings::V4L2_VP9_SIGN_BIAS_ALT,
        )) as u8;
    }
    // reset_frame_context 0 and 1 both mean "no reset" (spec 7.2); not
    // coded on key frames.
    f.reset_frame_context = match (key, pic.reset_frame_context) {
        (false, 2) => bindings::V4L2_VP9_RESET_FRAME_CTX_SPEC,
        (false, 3) => bindings::V4L2_VP9_RESET_FRAME_CTX_ALL,
        _ => bindings::V4L2_VP9_RESET_FRAME_CTX_NONE,
    } as u8;
    let idx = if intra {
        [0; 3]
    } else {
        [pic.last_ref_frame, pic.golden_ref_frame, pic.alt_ref_frame]
    };
    f.last_frame_ts = ref_ts(pp, idx[0], timestamp_of);
    f.golden_frame_ts = ref_ts(pp, idx[1], timestamp_of);
    f.alt_frame_ts = ref_ts(pp, idx[2], timestamp_of);

    f.lf = h.lf.to_v4l2();
    // VA's level and sharpness (equal to the header's: FFmpeg fills them
    // from it for every frame)
    f.lf.level = pp.filter_level;
    f.lf.sharpness = pp.sharpness_level;
    f.quant = h.quant.to_v4l2();

    let s = &h.seg;
    let enabled = pic.segmentation_enabled;
    // The map flags and probabilities are coded only with segmentation on
    // (and the temporal flag / probabilities only with update_map): there
    // VA's, else the carried values (FFmpeg keeps its last ones).
    let update_map = if enabled {
        pic.segmentation_update_map
    } else {
        s.segmentation_update_map
    };
    let map_coded = enabled && pic.segmentation_update_map;
    let temporal = if map_coded {
        pic.segmentation_temporal_update
    } else {
        s.segmentation_temporal_update
    };
    f.seg.flags = (flag(enabled, bindings::V4L2_VP9_SEGMENTATION_FLAG_ENABLED)
        | flag(update_map, bindings::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP)
        | flag(
            temporal,
            bindings::V4L2_VP9_SEGMENTATION_FLAG_TEMPORAL_UPDATE,
        )
        | flag(
            s.segmentation_update_data,
            bindings::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA,
        )
        | flag(
            s.segmentation_abs_or_delta_update,
            bindings::V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE,
        )) as u8;
    if map_coded {
        f.seg.tree_probs = pp.mb_segment_tree_probs;
        f.seg.pred_probs = pp.segment_pred_probs;
    } else {
        f.seg.tree_probs = s.segmentation_tree_probs;
        f.seg.pred_probs = s.segmentation_pred_prob;
    }
    for i in 0..8 {
        let mut en = s.feature_enabled[i];
        let mut data = s.feature_data[i];
        if enabled {
            // va_dec_vp9.h: with segmentation on, all eight entries are valid.
            let sf = SegmentFlags::from_value(vp9_segment_flags(&slice.seg_param[i]));
            en[SEG_LVL_REF_FRAME] = sf.segment_reference_enabled;
            if sf.segment_reference_enabled {
                data[SEG_LVL_REF_FRAME] = sf.segment_reference.into();
            }
            en[SEG_LVL_SKIP] = sf.segment_reference_skipped;
        }
        // V4L2_VP9_SEGMENT_FEATURE_ENABLED(id) = 1 << id
        f.seg.feature_enabled[i] = (0..4).filter(|&j| en[j]).fold(0u8, |acc, j| acc | (1 << j));
        f.seg.feature_data[i] = data;
    }
    f
}

/// The VP9 [`CodecMap`]. It carries the `vreq_core::vp9` parser state from
/// frame to frame (the colour config, loop filter deltas, segmentation and
/// reference slot sizes an inter frame's header leaves uncoded), so a
/// context must see every decoded frame in decode order, from a key frame
/// on — as VA clients render them.
#[derive(Debug, Default)]
pub struct Vp9Map {
    state: ParserState,
}

impl CodecMap for Vp9Map {
    fn kind(&self) -> CodecKind {
        CodecKind::Vp9
    }

    fn buffers(&self) -> BufferStructs {
        use std::mem::size_of;
        BufferStructs {
            picture: size_of::<sys::VADecPictureParameterBufferVP9>(),
            iq_matrix: None,
            probability: None,
            slice: size_of::<sys::VASliceParameterBufferVP9>(),
        }
    }

    /// One request (VP9 devices are frame-based; no start code): FRAME +
    /// COMPRESSED_HDR, the OUTPUT buffer = the whole frame, as
    /// `gstv4l2codecvp9dec.c` submits it. Format: coded size = the frame
    /// size (`frame_width` × `frame_height`, pixels), bit depth
    /// `bit_depth`, DPB 9 (8 reference slots + the current frame). Exactly
    /// one slice (the frame) per picture, else `MapError::Unsupported`.
    /// The frame's profile is not checked against the config's: FFmpeg's
    /// `-hwaccel_flags allow_profile_mismatch` decodes profile 2 streams
    /// in a `VAProfileVP9Profile0` context where the driver lists no
    /// `VAProfileVP9Profile2` (visl), as libva's drivers let it (they
    /// decode what the parameters say); the device is configured for the
    /// frame's bit depth.
    fn map(&mut self, r: &Rendered<'_>, cx: &MapContext<'_>) -> Result<Mapped, MapError> {
        let pp = picture_parameters(r.pic_params).ok_or(MapError::PictureParameters)?;
        let s = match r.slices {
            [] => return Err(MapError::NoSlices),
            [s] => s,
            more => {
                return Err(MapError::Unsupported(format!(
                    "VP9: {} slice parameter elements; one (the frame) per picture",
                    more.len()
                )))
            }
        };
        let sp = slice_parameters(s.params, 0).ok_or(MapError::SliceData(0))?;
        let bytes = frame_bytes(&sp, s.data).ok_or(MapError::SliceData(0))?;
        let mut state = self.state.clone();
        let hdr = read_headers(&mut state, &pp, bytes)?;
        let controls = vec![
            Control::Vp9Frame(Box::new(frame(&pp, &sp, &hdr.frame, cx.timestamp_of))),
            Control::Vp9CompressedHdr(Box::new(hdr.compressed.to_v4l2())),
        ];
        self.state = state;
        Ok(Mapped {
            format: PictureFormat {
                coded_width: pp.frame_width.into(),
                coded_height: pp.frame_height.into(),
                bit_depth: pp.bit_depth,
                dpb_size: syntax::NUM_REF_FRAMES as u32 + 1,
            },
            jobs: vec![DecodeJob {
                timestamp_ns: cx.timestamp_ns,
                controls,
                bitstream: bytes.to_vec(),
                hold_capture: false,
                starts_picture: true,
            }],
        })
    }
}

#[cfg(test)]
mod tests;
