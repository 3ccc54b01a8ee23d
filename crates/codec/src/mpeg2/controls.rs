//! `V4L2_CID_STATELESS_MPEG2_SEQUENCE`, `..._PICTURE` and
//! `..._QUANTISATION` for one picture (uAPI "ext-ctrls-codec-stateless"),
//! filled field by field as GStreamer 1.26's `gstv4l2codecmpeg2dec.c`
//! (`gst_v4l2_codec_mpeg2_dec_new_sequence`, `..._start_picture`) fills
//! them, the oracle on visl. When each is sent is [`super::Mpeg2Codec`]'s
//! business (see the module doc of [`super`]).

use v4l2r::bindings;

use super::parser::{
    PictureCodingExtension, PictureHeader, QuantMatrixExtension, SequenceExtension, SequenceHeader,
};

/// `GST_CLOCK_TIME_NONE`: the reference timestamp GStreamer sends when a
/// reference is missing.
pub const NO_REFERENCE_TIMESTAMP_NS: u64 = u64::MAX;

/// `vbv_buffer_size_value` (10 bits, 6.2.2.1) with
/// `vbv_buffer_size_extension` (6.2.2.3) as its upper bits, in units of
/// 16 kbit: `(value & 0x3ff) + (ext << 10)` in a 16-bit intermediate, as
/// GStreamer computes it (the extension's top bits fall off).
pub fn vbv_buffer_size(s: &SequenceHeader, e: &SequenceExtension) -> u16 {
    (s.vbv_buffer_size_value & 0x03ff).wrapping_add((e.vbv_buffer_size_extension as u16) << 10)
}

/// `v4l2_ctrl_mpeg2_sequence` of a sequence of `width` × `height` pixels
/// (the 14-bit sizes with their extensions) and VBV size `vbv` (from
/// [`vbv_buffer_size`]): `vbv_buffer_size` in bytes (`vbv * 16 * 1024`),
/// `profile_and_level_indication = profile << 4 | level << 1 | escape`.
pub fn sequence(
    e: &SequenceExtension,
    width: u16,
    height: u16,
    vbv: u16,
) -> bindings::v4l2_ctrl_mpeg2_sequence {
    bindings::v4l2_ctrl_mpeg2_sequence {
        horizontal_size: width,
        vertical_size: height,
        vbv_buffer_size: vbv as u32 * 16 * 1024,
        profile_and_level_indication: ((e.profile as u16) << 4)
            | ((e.level as u16) << 1)
            | e.profile_level_escape_bit as u16,
        chroma_format: e.chroma_format,
        flags: if e.progressive_sequence {
            bindings::V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE as u8
        } else {
            0
        },
    }
}

/// An all-zero `v4l2_ctrl_mpeg2_sequence` (before the first sequence).
pub fn empty_sequence() -> bindings::v4l2_ctrl_mpeg2_sequence {
    bindings::v4l2_ctrl_mpeg2_sequence {
        horizontal_size: 0,
        vertical_size: 0,
        vbv_buffer_size: 0,
        profile_and_level_indication: 0,
        chroma_format: 0,
        flags: 0,
    }
}

/// `v4l2_ctrl_mpeg2_picture` for a picture with header `hdr` and picture
/// coding extension `ext` (`None`: flags, `f_code`, `picture_structure` and
/// `intra_dc_precision` 0). `forward_timestamp_ns` / `backward_timestamp_ns`
/// are the timestamps (ns) of the reference pictures before / after it in
/// display order (`gst_mpeg2_dpb_get_neighbours`); an absent one is sent as
/// [`NO_REFERENCE_TIMESTAMP_NS`].
pub fn picture(
    hdr: &PictureHeader,
    ext: Option<PictureCodingExtension>,
    forward_timestamp_ns: Option<u64>,
    backward_timestamp_ns: Option<u64>,
) -> bindings::v4l2_ctrl_mpeg2_picture {
    let mut flags = 0u32;
    let mut pic = bindings::v4l2_ctrl_mpeg2_picture {
        backward_ref_ts: backward_timestamp_ns.unwrap_or(NO_REFERENCE_TIMESTAMP_NS),
        forward_ref_ts: forward_timestamp_ns.unwrap_or(NO_REFERENCE_TIMESTAMP_NS),
        flags: 0,
        f_code: [[0; 2]; 2],
        picture_coding_type: hdr.picture_coding_type,
        picture_structure: 0,
        intra_dc_precision: 0,
        reserved: [0; 5],
    };
    if let Some(e) = ext {
        flags = e.v4l2_picture_flags();
        pic.f_code = e.f_code;
        pic.picture_structure = e.picture_structure;
        pic.intra_dc_precision = e.intra_dc_precision;
    }
    pic.flags = flags;
    pic
}

/// An all-zero `v4l2_ctrl_mpeg2_quantisation` (before the first sequence;
/// the chroma matrices stay zero until a quant matrix extension loads
/// them, as in GStreamer).
pub fn empty_quantisation() -> bindings::v4l2_ctrl_mpeg2_quantisation {
    bindings::v4l2_ctrl_mpeg2_quantisation {
        intra_quantiser_matrix: [0; 64],
        non_intra_quantiser_matrix: [0; 64],
        chroma_intra_quantiser_matrix: [0; 64],
        chroma_non_intra_quantiser_matrix: [0; 64],
    }
}

/// A new sequence: the intra / non-intra matrices of its sequence header
/// (the defaults of 6.3.11 when not loaded); the chroma ones are kept.
/// Matrices in zigzag scan order, as the uAPI takes them.
pub fn load_sequence_matrices(q: &mut bindings::v4l2_ctrl_mpeg2_quantisation, s: &SequenceHeader) {
    q.intra_quantiser_matrix = s.intra_quantiser_matrix;
    q.non_intra_quantiser_matrix = s.non_intra_quantiser_matrix;
}

/// Overwrites the matrices a quant matrix extension (6.2.3.2) loads; true
/// when it loaded any (the quantisation control must then be sent again).
pub fn load_extension_matrices(
    q: &mut bindings::v4l2_ctrl_mpeg2_quantisation,
    ext: &QuantMatrixExtension,
) -> bool {
    let mut loaded = false;
    if let Some(m) = ext.intra_quantiser_matrix {
        q.intra_quantiser_matrix = m;
        loaded = true;
    }
    if let Some(m) = ext.non_intra_quantiser_matrix {
        q.non_intra_quantiser_matrix = m;
        loaded = true;
    }
    if let Some(m) = ext.chroma_intra_quantiser_matrix {
        q.chroma_intra_quantiser_matrix = m;
        loaded = true;
    }
    if let Some(m) = ext.chroma_non_intra_quantiser_matrix {
        q.chroma_non_intra_quantiser_matrix = m;
        loaded = true;
    }
    loaded
}
