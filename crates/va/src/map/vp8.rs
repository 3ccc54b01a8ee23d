//! VP8: `VAPictureParameterBufferVP8` + `VAIQMatrixBufferVP8` +
//! `VAProbabilityDataBufferVP8` + `VASliceParameterBufferVP8` + slice data →
//! `V4L2_CID_STATELESS_VP8_FRAME`.
//!
//! Sources: libva `va/va_dec_vp8.h` (the VA structs, the `pic_fields` bit
//! field; `key_frame` is the frame tag's `frame_type` bit: 0 for a key
//! frame), the uAPI "ext-ctrls-codec-stateless.rst" (`v4l2_ctrl_vp8_frame`),
//! GStreamer 1.26's `sys/v4l2codecs/gstv4l2codecvp8dec.c` (which field is
//! filled from what; the OUTPUT buffer is the whole frame, tag included;
//! `crates/codec/src/vp8/controls.rs` does the same from our own parser),
//! FFmpeg's `libavcodec/vaapi_vp8.c` and GStreamer's `sys/va/gstvavp8dec.c`
//! (what the two clients put in each VA field) and RFC 6386 (9.1 frame tag,
//! 9.2–9.11 / 19.2 frame header).
//!
//! Where the slice data starts: FFmpeg passes the frame *after* its frame
//! tag (3 bytes, + 7 on key frames: start code and size), `slice_data_offset`
//! 0; GStreamer's vavp8dec passes the whole frame with `slice_data_offset` =
//! the tag's size (and `slice_data_size` = the whole frame's size, which runs
//! past the buffer by the tag's size: the range is clipped to the buffer).
//! Either way the first partition (the frame header) starts there. When the
//! tag is in the buffer it is used as is; otherwise it is rebuilt from VA's
//! fields (`frame_type` from `key_frame`, `version`, `show_frame` 1 — VA has
//! no such field —, `first_part_size` = `partition_size[0]` + the header's
//! bytes `(macroblock_offset + 7) / 8`, as both clients compute
//! `partition_size[0]`; key frames: start code, `frame_width` /
//! `frame_height`, scale 0). The OUTPUT buffer is that whole frame.
//!
//! VA gives final per-segment quantiser indices and loop filter levels
//! (base + segment value, clamped), not the uAPI's base values, deltas and
//! segment values with their mode; the frame header is therefore re-read
//! from the first partition with `vreq_core::vp8::parser` (the same parser
//! as the player's VP8 codec; it keeps the segmentation state from frame to
//! frame, reset on key frames, as a decoder must), and the header's syntax
//! fields come from it ([`frame`]: VA contributes the references, the
//! entropy and the frame size). docs/VA-DRIVER.md lists which field comes
//! from where.

use v4l2r::bindings;
use vreq_core::vp8::parser::{FrameHeader, Parser};
use vreq_core::{CodecKind, Control, DecodeJob};

use super::{BufferStructs, CodecMap, MapContext, MapError, Mapped, PictureFormat, Rendered};
use crate::ffi::{read_element, vp8_pic_fields};
use crate::sys::{self, VASurfaceID};

/// A picture parameter buffer's bytes as `VAPictureParameterBufferVP8`.
pub fn picture_parameters(bytes: &[u8]) -> Option<sys::VAPictureParameterBufferVP8> {
    read_element(bytes, 0)
}

/// A probability buffer's bytes as `VAProbabilityDataBufferVP8`.
pub fn probabilities(bytes: &[u8]) -> Option<sys::VAProbabilityDataBufferVP8> {
    read_element(bytes, 0)
}

/// Element `index` of a slice parameter buffer as `VASliceParameterBufferVP8`.
pub fn slice_parameters(bytes: &[u8], index: usize) -> Option<sys::VASliceParameterBufferVP8> {
    read_element(bytes, index)
}

/// `pic_fields` of `VAPictureParameterBufferVP8` (va_dec_vp8.h bit field,
/// LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PicFields {
    /// va_dec_vp8.h `key_frame`: the frame tag's `frame_type`, **0 for a
    /// key frame** (FFmpeg and GStreamer fill it `!keyframe`).
    pub key_frame: bool,
    pub version: u8,
    pub segmentation_enabled: bool,
    pub update_mb_segmentation_map: bool,
    pub update_segment_feature_data: bool,
    pub filter_type: bool,
    pub sharpness_level: u8,
    pub loop_filter_adj_enable: bool,
    pub mode_ref_lf_delta_update: bool,
    pub sign_bias_golden: bool,
    pub sign_bias_alternate: bool,
    pub mb_no_coeff_skip: bool,
    pub loop_filter_disable: bool,
}

impl PicFields {
    /// Decodes `pic_fields.value`.
    pub fn from_value(v: u32) -> Self {
        let b = |bit: u32| v >> bit & 1 != 0;
        PicFields {
            key_frame: b(0),
            version: (v >> 1 & 7) as u8,
            segmentation_enabled: b(4),
            update_mb_segmentation_map: b(5),
            update_segment_feature_data: b(6),
            filter_type: b(7),
            sharpness_level: (v >> 8 & 7) as u8,
            loop_filter_adj_enable: b(11),
            mode_ref_lf_delta_update: b(12),
            sign_bias_golden: b(13),
            sign_bias_alternate: b(14),
            mb_no_coeff_skip: b(15),
            loop_filter_disable: b(16),
        }
    }

    /// A key frame (`key_frame` is `frame_type`: 0 = key frame).
    pub fn is_key_frame(&self) -> bool {
        !self.key_frame
    }
}

/// The bytes of the frame tag (RFC 6386 9.1): 3 bytes, + the start code
/// `9d 01 2a` and the 14-bit sizes with their 2-bit scales on key frames.
pub fn frame_tag(
    key_frame: bool,
    version: u8,
    show_frame: bool,
    first_part_size: u32,
    width: u16,
    height: u16,
) -> Vec<u8> {
    let tag = u32::from(!key_frame)
        | u32::from(version & 7) << 1
        | u32::from(show_frame) << 4
        | (first_part_size & 0x7ffff) << 5;
    let mut out = tag.to_le_bytes()[..3].to_vec();
    if key_frame {
        out.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        out.extend_from_slice(&(width & 0x3fff).to_le_bytes());
        out.extend_from_slice(&(height & 0x3fff).to_le_bytes());
    }
    out
}

/// The whole frame (tag, first partition, partition sizes, DCT partitions)
/// from the slice data buffer (see the module docs: the tag is the buffer's
/// own when the client put it before `slice_data_offset`, else rebuilt).
/// `Err`: the range starts past the buffer, the slice is partial, or the
/// partition sizes do not fit a 19-bit `first_part_size`.
pub fn whole_frame(
    pp: &sys::VAPictureParameterBufferVP8,
    pf: &PicFields,
    sp: &sys::VASliceParameterBufferVP8,
    data: &[u8],
) -> Result<Vec<u8>, String> {
    if sp.slice_data_flag != sys::VA_SLICE_DATA_FLAG_ALL {
        return Err(format!(
            "partial slice (slice_data_flag {})",
            sp.slice_data_flag
        ));
    }
    let start = sp.slice_data_offset as usize;
    if start > data.len() {
        return Err(format!(
            "slice_data_offset {start} past the {}-byte data buffer",
            data.len()
        ));
    }
    let end = start
        .saturating_add(sp.slice_data_size as usize)
        .min(data.len());
    let key = pf.is_key_frame();
    let tag_len = if key { 10 } else { 3 };
    if start == tag_len && tag_matches(&data[..start], key) {
        return Ok(data[..end].to_vec());
    }
    // Both clients compute partition_size[0] in unsigned 32-bit arithmetic,
    // which wraps when the header reads past its partition (a damaged
    // stream; GStreamer's and libvpx's bool decoders read zeros there): the
    // inverse wraps the same way.
    let first_part_size = sp.partition_size[0].wrapping_add(sp.macroblock_offset.div_ceil(8));
    if first_part_size > 0x7ffff {
        return Err(format!(
            "first partition of {first_part_size} bytes (19 bits at most)"
        ));
    }
    let mut out = frame_tag(
        key,
        pf.version,
        true,
        first_part_size,
        pp.frame_width.min(0x3fff) as u16,
        pp.frame_height.min(0x3fff) as u16,
    );
    out.extend_from_slice(&data[start..end]);
    Ok(out)
}

/// Whether `tag` is a frame tag of the kind VA says (key or inter frame),
/// with the key frame start code.
fn tag_matches(tag: &[u8], key: bool) -> bool {
    match tag {
        [b0, _, _] => !key && b0 & 1 == 1,
        [b0, _, _, 0x9d, 0x01, 0x2a, _, _, _, _] => key && b0 & 1 == 0,
        _ => false,
    }
}

/// The OUTPUT timestamp of a reference surface, 0 when none (as GStreamer:
/// `VA_INVALID_SURFACE` or a surface holding no picture of this context).
fn reference_ts(surface: VASurfaceID, timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>) -> u64 {
    if surface == sys::VA_INVALID_SURFACE {
        return 0;
    }
    timestamp_of(surface).unwrap_or(0)
}

/// Whether the frame header used more bits than its first partition has
/// (a damaged frame: RFC 6386 decoders then read past the partition's end;
/// libvpx's and GStreamer's bool decoders read zeros).
pub fn header_past_partition(h: &FrameHeader) -> bool {
    u64::from(h.header_size) > 8 * u64::from(h.first_part_size)
}

/// `V4L2_CID_STATELESS_VP8_FRAME`, filled as GStreamer's
/// `gstv4l2codecvp8dec.c` fills it from its parser. From VA: the references
/// (`last/golden/alt_ref_frame` through the surfaces' timestamps; 0 on key
/// frames and for a missing one), the entropy (the coefficient
/// probabilities of the probability buffer, `y_mode_probs`,
/// `uv_mode_probs`, `mv_probs`: those in force after this frame's updates)
/// — unless the header ran past its partition ([`header_past_partition`]):
/// then the parser's, the reference decoder's reading of the missing bits —
/// and `frame_width` / `frame_height` (the key frame's size; inter frames
/// carry none). From the frame header `h` and the parser's persistent state
/// `parser` (the frame's own syntax; VA lacks it, gives it combined and
/// clamped, or — FFmpeg — keeps a previous frame's value of a flag this
/// frame does not code, e.g. `update_segment_feature_data` with
/// segmentation off, `mode_ref_lf_delta_update` with adjustments off):
/// everything else ([`vreq_core::vp8::control::frame_control`], as the
/// player's VP8 codec fills it).
pub fn frame(
    pp: &sys::VAPictureParameterBufferVP8,
    probs: &sys::VAProbabilityDataBufferVP8,
    h: &FrameHeader,
    parser: &Parser,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> bindings::v4l2_ctrl_vp8_frame {
    let mut f = vreq_core::vp8::control::frame_control(h, parser);
    if !header_past_partition(h) {
        // VA's probabilities in force after this frame's updates; when the
        // header ran past the first partition the updates were read from
        // bits the frame does not have: the client's decoder guessed them
        // its own way (FFmpeg's range coder differs from libvpx's there),
        // so the header's (the reference decoder's reading: libvpx /
        // GStreamer read zeros) stay.
        // va_dec_vp8.h dct_coeff_probs[4][8][3][11] and the uAPI's
        // coeff_probs[4][8][3][11] are both per coefficient band.
        f.entropy.coeff_probs = probs.dct_coeff_probs;
        f.entropy.y_mode_probs = pp.y_mode_probs;
        f.entropy.uv_mode_probs = pp.uv_mode_probs;
        f.entropy.mv_probs = pp.mv_probs;
    }
    f.width = pp.frame_width.min(u32::from(u16::MAX)) as u16;
    f.height = pp.frame_height.min(u32::from(u16::MAX)) as u16;
    if !h.key_frame {
        f.last_frame_ts = reference_ts(pp.last_ref_frame, timestamp_of);
        f.golden_frame_ts = reference_ts(pp.golden_ref_frame, timestamp_of);
        f.alt_frame_ts = reference_ts(pp.alt_ref_frame, timestamp_of);
    }
    f
}

/// The VP8 [`CodecMap`]: carries the frame header parser's persistent state
/// (segmentation values and mode, loop filter deltas, saved probabilities;
/// reset by every key frame), which VA does not pass in uAPI form.
#[derive(Debug, Default)]
pub struct Vp8Map {
    parser: Parser,
}

impl CodecMap for Vp8Map {
    fn kind(&self) -> CodecKind {
        CodecKind::Vp8
    }

    fn buffers(&self) -> BufferStructs {
        use std::mem::size_of;
        BufferStructs {
            picture: size_of::<sys::VAPictureParameterBufferVP8>(),
            iq_matrix: Some(size_of::<sys::VAIQMatrixBufferVP8>()),
            probability: Some(size_of::<sys::VAProbabilityDataBufferVP8>()),
            slice: size_of::<sys::VASliceParameterBufferVP8>(),
        }
    }

    /// One request per frame (VP8 devices are frame-based; the uAPI has one
    /// control): FRAME, the whole frame as bitstream. Exactly one slice
    /// (VA-API VP8 passes a frame as one slice with its partitions) and a
    /// probability buffer are required. The IQ matrix is not read: its
    /// final per-segment indices are what the uAPI's base index, deltas and
    /// segment values (from the header) give. Format: coded size the frame
    /// size rounded up to macroblocks (16), 8 bits, DPB 4 (last, golden,
    /// alt-ref + the current frame).
    ///
    /// Errors: [`MapError::SliceData`] (not one slice; a range past its
    /// buffer; a partial slice; `num_of_partitions` not 2, 3, 5 or 9),
    /// [`MapError::Unsupported`] (no probability buffer), [`MapError::Header`]
    /// (the frame header does not parse, or disagrees with VA on the frame
    /// type or partition count). On error the parser's state is unchanged.
    fn map(&mut self, r: &Rendered<'_>, cx: &MapContext<'_>) -> Result<Mapped, MapError> {
        let pp = picture_parameters(r.pic_params).ok_or(MapError::PictureParameters)?;
        let pf = PicFields::from_value(vp8_pic_fields(&pp));
        let [s] = r.slices else {
            return Err(if r.slices.is_empty() {
                MapError::NoSlices
            } else {
                MapError::SliceData(1)
            });
        };
        let sp = slice_parameters(s.params, 0).ok_or(MapError::SliceData(0))?;
        if ![2, 3, 5, 9].contains(&sp.num_of_partitions) {
            return Err(MapError::SliceData(0));
        }
        let probs = r.probability.and_then(probabilities).ok_or_else(|| {
            MapError::Unsupported("VP8 picture without a probability buffer".into())
        })?;
        let bitstream = whole_frame(&pp, &pf, &sp, s.data).map_err(|e| MapError::Header(0, e))?;
        let mut parser = self.parser.clone();
        let h = parser
            .parse_frame(&bitstream)
            .map_err(|e| MapError::Header(0, e.to_string()))?;
        if h.key_frame != pf.is_key_frame() || h.num_dct_partitions() + 1 != sp.num_of_partitions {
            return Err(MapError::Header(
                0,
                format!(
                    "frame header (key frame {}, {} DCT partitions) disagrees with VA's \
                     (key frame {}, num_of_partitions {})",
                    h.key_frame,
                    h.num_dct_partitions(),
                    pf.is_key_frame(),
                    sp.num_of_partitions
                ),
            ));
        }
        let fr = frame(&pp, &probs, &h, &parser, cx.timestamp_of);
        self.parser = parser;
        Ok(Mapped {
            format: PictureFormat {
                coded_width: pp.frame_width.div_ceil(16) * 16,
                coded_height: pp.frame_height.div_ceil(16) * 16,
                bit_depth: 8,
                dpb_size: 4,
            },
            jobs: vec![DecodeJob {
                timestamp_ns: cx.timestamp_ns,
                controls: vec![Control::Vp8Frame(Box::new(fr))],
                bitstream,
                hold_capture: false,
                starts_picture: true,
            }],
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
