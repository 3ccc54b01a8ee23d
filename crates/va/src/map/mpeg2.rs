//! MPEG-2: `VAPictureParameterBufferMPEG2` + `VAIQMatrixBufferMPEG2` +
//! `VASliceParameterBufferMPEG2` + slice data →
//! `V4L2_CID_STATELESS_MPEG2_SEQUENCE`, `_PICTURE`, `_QUANTISATION`.
//!
//! Sources: libva `va/va.h` (the VA structs and the
//! `picture_coding_extension` bit field), the uAPI
//! "ext-ctrls-codec-stateless.rst" (`v4l2_ctrl_mpeg2_*`), GStreamer 1.26's
//! `sys/v4l2codecs/gstv4l2codecmpeg2dec.c` (which field is filled from
//! what, when SEQUENCE and QUANTISATION are sent, the bitstream: every slice
//! of the picture from its `00 00 01 xx` start code, one request;
//! `crates/codec/src/mpeg2/controls.rs` does the same from our own parser),
//! FFmpeg's `libavcodec/vaapi_mpeg2.c` and GStreamer's
//! `sys/va/gstvampeg2dec.c` (what the two clients put in each VA field: the
//! slice data buffer starts at the slice's start code, `macroblock_offset`
//! counts it) and ISO/IEC 13818-2 (6.2.2 sequence header / extension,
//! 6.3.11 default matrices).
//!
//! VA carries no sequence header: `vbv_buffer_size`, the level and the
//! escape bit of `profile_and_level_indication` are not recoverable (left
//! 0; no stateless driver reads them), the profile comes from the config's
//! `VAProfile`, `chroma_format` is 4:2:0 (the only format of VA's Simple /
//! Main profiles), `progressive_sequence` is derived from the pictures
//! ([`Mpeg2Map`]). docs/VA-DRIVER.md lists them.

use v4l2r::bindings;
pub use vreq_core::mpeg2video::PictureCodingExtension;
use vreq_core::{CodecKind, Control, DecodeJob};

use super::{BufferStructs, CodecMap, MapContext, MapError, Mapped, PictureFormat, Rendered};
use crate::ffi::{mpeg2_picture_coding_extension, read_element};
use crate::sys::{self, VASurfaceID};

/// The reference timestamp sent for a missing reference: `u64::MAX`, as
/// GStreamer sends `GST_CLOCK_TIME_NONE`.
pub const NO_REFERENCE_TS: u64 = u64::MAX;

/// ISO/IEC 13818-2 6.3.11 default `intra_quantiser_matrix`, in zigzag scan
/// order (the order VA and the uAPI both use).
pub const DEFAULT_INTRA_MATRIX: [u8; 64] = [
    8, 16, 16, 19, 16, 19, 22, 22, 22, 22, 22, 22, 26, 24, 26, 27, 27, 27, 26, 26, 26, 26, 27, 27,
    27, 29, 29, 29, 34, 34, 34, 29, 29, 29, 27, 27, 29, 29, 32, 32, 34, 34, 37, 38, 37, 35, 35, 34,
    35, 38, 38, 40, 40, 40, 48, 48, 46, 46, 56, 56, 58, 69, 69, 83,
];

/// 6.3.11 default `non_intra_quantiser_matrix` (flat 16).
pub const DEFAULT_NON_INTRA_MATRIX: [u8; 64] = [16; 64];

/// A picture parameter buffer's bytes as `VAPictureParameterBufferMPEG2`.
pub fn picture_parameters(bytes: &[u8]) -> Option<sys::VAPictureParameterBufferMPEG2> {
    read_element(bytes, 0)
}

/// An IQ matrix buffer's bytes as `VAIQMatrixBufferMPEG2`.
pub fn iq_matrix(bytes: &[u8]) -> Option<sys::VAIQMatrixBufferMPEG2> {
    read_element(bytes, 0)
}

/// Element `index` of a slice parameter buffer.
pub fn slice_parameters(bytes: &[u8], index: usize) -> Option<sys::VASliceParameterBufferMPEG2> {
    read_element(bytes, index)
}

/// `picture_coding_extension` and `f_code` of `VAPictureParameterBufferMPEG2`
/// as the syntax (13818-2 6.2.3.1). The bit field is LSB first (va.h):
/// `intra_dc_precision` (bits 0–1), `picture_structure` (2–3),
/// `top_field_first`, `frame_pred_frame_dct`, `concealment_motion_vectors`,
/// `q_scale_type`, `intra_vlc_format`, `alternate_scan`,
/// `repeat_first_field`, `progressive_frame` (4–11) and `is_first_field`
/// (12: the first field of a frame, or a frame picture; not syntax, not
/// read); `f_code` va.h packs `[0][0] << 12 | [0][1] << 8 | [1][0] << 4 |
/// [1][1]`. `chroma_420_type`, which VA does not carry (and the uAPI has no
/// flag for), is false.
pub fn picture_coding_extension(pp: &sys::VAPictureParameterBufferMPEG2) -> PictureCodingExtension {
    let v = mpeg2_picture_coding_extension(pp);
    let b = |bit: u32| v >> bit & 1 != 0;
    let fc = pp.f_code as u32;
    let nib = |shift: u32| (fc >> shift & 0xf) as u8;
    PictureCodingExtension {
        f_code: [[nib(12), nib(8)], [nib(4), nib(0)]],
        intra_dc_precision: (v & 3) as u8,
        picture_structure: (v >> 2 & 3) as u8,
        top_field_first: b(4),
        frame_pred_frame_dct: b(5),
        concealment_motion_vectors: b(6),
        q_scale_type: b(7),
        intra_vlc_format: b(8),
        alternate_scan: b(9),
        repeat_first_field: b(10),
        chroma_420_type: false,
        progressive_frame: b(11),
    }
}

/// `profile_and_level_indication` for a VA profile: the profile
/// (13818-2 Table 8-2: Main 4, Simple 5) in GStreamer's packing
/// (`profile << 4 | level << 1 | escape`, which for level 0 and no escape is
/// also the syntax element's own bit layout); the level and escape bit are
/// not carried by VA (0).
pub fn profile_and_level_indication(profile: sys::VAProfile) -> u16 {
    match profile {
        sys::VAProfileMPEG2Simple => 5 << 4,
        _ => 4 << 4,
    }
}

/// `V4L2_CID_STATELESS_MPEG2_SEQUENCE` from VA's picture parameters
/// (`horizontal_size`, `vertical_size`: the sequence header's 14-bit sizes),
/// the config's profile and the derived `progressive_sequence`.
/// `vbv_buffer_size` is not carried (0); `chroma_format` 1 (4:2:0).
pub fn sequence(
    pp: &sys::VAPictureParameterBufferMPEG2,
    profile: sys::VAProfile,
    progressive_sequence: bool,
) -> bindings::v4l2_ctrl_mpeg2_sequence {
    bindings::v4l2_ctrl_mpeg2_sequence {
        horizontal_size: pp.horizontal_size,
        vertical_size: pp.vertical_size,
        vbv_buffer_size: 0,
        profile_and_level_indication: profile_and_level_indication(profile),
        chroma_format: 1,
        flags: if progressive_sequence {
            bindings::V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE as u8
        } else {
            0
        },
    }
}

/// The OUTPUT timestamp of a reference surface; [`NO_REFERENCE_TS`] for
/// `VA_INVALID_SURFACE` or a surface holding no picture of this context.
fn reference_ts(surface: VASurfaceID, timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>) -> u64 {
    if surface == sys::VA_INVALID_SURFACE {
        return NO_REFERENCE_TS;
    }
    timestamp_of(surface).unwrap_or(NO_REFERENCE_TS)
}

/// `V4L2_CID_STATELESS_MPEG2_PICTURE`: `picture_coding_type` from VA;
/// `f_code`, `picture_structure`, `intra_dc_precision` and the flags from
/// `ext` (VA's, [`picture_coding_extension`]); `forward_ref_ts` /
/// `backward_ref_ts` from `forward_reference_picture` /
/// `backward_reference_picture` through the surfaces' timestamps.
pub fn picture(
    pp: &sys::VAPictureParameterBufferMPEG2,
    ext: &PictureCodingExtension,
    timestamp_of: &dyn Fn(VASurfaceID) -> Option<u64>,
) -> bindings::v4l2_ctrl_mpeg2_picture {
    bindings::v4l2_ctrl_mpeg2_picture {
        backward_ref_ts: reference_ts(pp.backward_reference_picture, timestamp_of),
        forward_ref_ts: reference_ts(pp.forward_reference_picture, timestamp_of),
        flags: ext.v4l2_picture_flags(),
        f_code: ext.f_code,
        picture_coding_type: pp.picture_coding_type.clamp(0, 255) as u8,
        picture_structure: ext.picture_structure,
        intra_dc_precision: ext.intra_dc_precision,
        reserved: [0; 5],
    }
}

/// The quantiser matrices in force: those `iq` loads (`load_*` non-zero),
/// else `prev`'s (the matrices stay until loaded again, 6.3.11); all in
/// zigzag scan order, as VA (va.h: "in zig-zag scan order", FFmpeg fills
/// them with `ff_zigzag_direct`) and the uAPI take them.
pub fn quantisation(
    iq: Option<&sys::VAIQMatrixBufferMPEG2>,
    prev: &bindings::v4l2_ctrl_mpeg2_quantisation,
) -> bindings::v4l2_ctrl_mpeg2_quantisation {
    let mut q = *prev;
    if let Some(m) = iq {
        if m.load_intra_quantiser_matrix != 0 {
            q.intra_quantiser_matrix = m.intra_quantiser_matrix;
        }
        if m.load_non_intra_quantiser_matrix != 0 {
            q.non_intra_quantiser_matrix = m.non_intra_quantiser_matrix;
        }
        if m.load_chroma_intra_quantiser_matrix != 0 {
            q.chroma_intra_quantiser_matrix = m.chroma_intra_quantiser_matrix;
        }
        if m.load_chroma_non_intra_quantiser_matrix != 0 {
            q.chroma_non_intra_quantiser_matrix = m.chroma_non_intra_quantiser_matrix;
        }
    }
    q
}

/// The quantisation before any IQ matrix: the 6.3.11 defaults; the chroma
/// matrices 0 until loaded (as GStreamer: 4:2:0 uses the luma ones).
pub fn default_quantisation() -> bindings::v4l2_ctrl_mpeg2_quantisation {
    bindings::v4l2_ctrl_mpeg2_quantisation {
        intra_quantiser_matrix: DEFAULT_INTRA_MATRIX,
        non_intra_quantiser_matrix: DEFAULT_NON_INTRA_MATRIX,
        chroma_intra_quantiser_matrix: [0; 64],
        chroma_non_intra_quantiser_matrix: [0; 64],
    }
}

/// The slice's bytes from its slice data buffer, checked to start with a
/// slice start code (`00 00 01` + 0x01..=0xAF, 6.2.4: both clients pass it,
/// and the uAPI bitstream wants it). `None`: out of range, partial
/// (`slice_data_flag` ≠ ALL) or no slice start code.
pub fn slice_bytes<'a>(sp: &sys::VASliceParameterBufferMPEG2, data: &'a [u8]) -> Option<&'a [u8]> {
    let start = sp.slice_data_offset as usize;
    let end = start.checked_add(sp.slice_data_size as usize)?;
    let s = data.get(start..end)?;
    if sp.slice_data_flag != sys::VA_SLICE_DATA_FLAG_ALL {
        return None;
    }
    match s {
        [0, 0, 1, code, ..] if (0x01..=0xAF).contains(code) => Some(s),
        _ => None,
    }
}

/// The MPEG-2 [`CodecMap`]. Carries from picture to picture: the matrices
/// in force (VA's `load_*` flags load them), the SEQUENCE and QUANTISATION
/// the device has (sent again only when they change, as GStreamer sends
/// them at a new sequence or a quant matrix extension; visl traces the
/// current values in every request either way), and whether the sequence
/// showed an interlaced picture.
///
/// `progressive_sequence` (not in VA) is derived: a sequence is progressive
/// until a picture says it cannot be (`progressive_frame` 0 or a field
/// picture: 6.3.10, with `progressive_sequence` 1 every picture is a
/// progressive frame); a new size starts a new sequence.
#[derive(Debug)]
pub struct Mpeg2Map {
    quant: bindings::v4l2_ctrl_mpeg2_quantisation,
    last_sequence: Option<bindings::v4l2_ctrl_mpeg2_sequence>,
    last_quant: Option<bindings::v4l2_ctrl_mpeg2_quantisation>,
    /// Size of the sequence and whether it showed an interlaced picture.
    interlaced: Option<((u16, u16), bool)>,
}

impl Default for Mpeg2Map {
    fn default() -> Self {
        Mpeg2Map {
            quant: default_quantisation(),
            last_sequence: None,
            last_quant: None,
            interlaced: None,
        }
    }
}

impl CodecMap for Mpeg2Map {
    fn kind(&self) -> CodecKind {
        CodecKind::Mpeg2
    }

    fn buffers(&self) -> BufferStructs {
        use std::mem::size_of;
        BufferStructs {
            picture: size_of::<sys::VAPictureParameterBufferMPEG2>(),
            iq_matrix: Some(size_of::<sys::VAIQMatrixBufferMPEG2>()),
            probability: None,
            slice: size_of::<sys::VASliceParameterBufferMPEG2>(),
        }
    }

    /// One request per picture, frame-based as every MPEG-2 stateless
    /// device (the uAPI has no slice control): SEQUENCE (when changed),
    /// PICTURE, QUANTISATION (when changed) and every slice from its start
    /// code. Format: coded size the sizes rounded up to macroblocks (16;
    /// 32 lines for an interlaced sequence: field macroblocks), 8 bits,
    /// DPB 3 (two references + the current picture).
    ///
    /// Field pictures (`picture_structure` 1 / 2: a client renders the two
    /// fields of a frame into one surface as two pictures) are refused
    /// ([`MapError::Unsupported`]): the second field must be a request on
    /// the first field's CAPTURE buffer (same timestamp, the first with
    /// `hold_capture`), which the decoder's one-timestamp-per-picture
    /// contract cannot express yet.
    fn map(&mut self, r: &Rendered<'_>, cx: &MapContext<'_>) -> Result<Mapped, MapError> {
        let pp = picture_parameters(r.pic_params).ok_or(MapError::PictureParameters)?;
        let ext = picture_coding_extension(&pp);
        if ext.picture_structure != 3 {
            return Err(MapError::Unsupported(format!(
                "MPEG-2 field picture (picture_structure {})",
                ext.picture_structure
            )));
        }
        if r.slices.is_empty() {
            return Err(MapError::NoSlices);
        }
        let mut bitstream = Vec::new();
        for (n, s) in r.slices.iter().enumerate() {
            let sp = slice_parameters(s.params, 0).ok_or(MapError::SliceData(n))?;
            let bytes = slice_bytes(&sp, s.data).ok_or(MapError::SliceData(n))?;
            bitstream.extend_from_slice(bytes);
        }
        let size = (pp.horizontal_size, pp.vertical_size);
        let picture_interlaced = !ext.progressive_frame;
        let interlaced = match self.interlaced {
            Some((s, i)) if s == size => i || picture_interlaced,
            _ => picture_interlaced,
        };
        let seq = sequence(&pp, cx.profile, !interlaced);
        let iq = r.iq.and_then(iq_matrix);
        let quant = quantisation(iq.as_ref(), &self.quant);
        let mut controls = Vec::with_capacity(3);
        if self.last_sequence != Some(seq) {
            controls.push(Control::Mpeg2Sequence(Box::new(seq)));
        }
        controls.push(Control::Mpeg2Picture(Box::new(picture(
            &pp,
            &ext,
            cx.timestamp_of,
        ))));
        if self.last_quant != Some(quant) {
            controls.push(Control::Mpeg2Quantisation(Box::new(quant)));
        }
        self.interlaced = Some((size, interlaced));
        self.quant = quant;
        self.last_sequence = Some(seq);
        self.last_quant = Some(quant);
        let w = u32::from(pp.horizontal_size).div_ceil(16) * 16;
        let h = if interlaced {
            u32::from(pp.vertical_size).div_ceil(32) * 32
        } else {
            u32::from(pp.vertical_size).div_ceil(16) * 16
        };
        Ok(Mapped {
            format: PictureFormat {
                coded_width: w,
                coded_height: h,
                bit_depth: 8,
                dpb_size: 3,
            },
            jobs: vec![DecodeJob {
                timestamp_ns: cx.timestamp_ns,
                controls,
                bitstream,
                hold_capture: false,
                starts_picture: true,
            }],
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
