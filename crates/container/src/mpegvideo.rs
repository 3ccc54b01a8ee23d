//! The few MPEG-2 video header fields a demuxer needs to cut an elementary
//! stream into frames (ISO/IEC 13818-2 6.2), read from the start-code
//! units of [`vreq_core::mpeg2video`]: the size and
//! `frame_rate_code` of `sequence_header()`, the size and frame-rate
//! extensions of `sequence_extension()`, `temporal_reference` /
//! `picture_coding_type` of `picture_header()` and `picture_structure` of
//! `picture_coding_extension()`.
//!
//! Every field read here sits at a fixed bit offset, so it is read in place
//! (as FFmpeg's `mpegvideo_parser.c` does) instead of through the codec's
//! full header parser, which the container crate does not depend on. A
//! header counts as well-formed exactly when the codec's parser
//! (`vreq_codec::mpeg2::parser`) would accept it: the same lengths
//! (including loaded quantiser matrices) and the same reserved values are
//! refused.

pub(crate) use vreq_core::mpeg2video::{
    EXTENSION_START, GROUP_START, PICTURE_START, SEQUENCE_HEADER, SLICE_LAST,
};

/// `n` (≤ 32) bits of `p` from bit `at` (MSB first); `None` past the end.
fn bits(p: &[u8], at: usize, n: usize) -> Option<u32> {
    if at + n > p.len() * 8 {
        return None;
    }
    Some((at..at + n).fold(0u32, |v, i| {
        (v << 1) | u32::from((p[i / 8] >> (7 - i % 8)) & 1)
    }))
}

/// What a demuxer takes from `sequence_header()` (6.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    pub horizontal_size_value: u32,
    pub vertical_size_value: u32,
    pub frame_rate_code: u8,
}

impl SequenceHeader {
    /// Frame rate (numerator, denominator) of `frame_rate_code` (Table 6-4);
    /// codes outside 1..=8 give 30000/1001, as GStreamer's
    /// `set_fps_from_code`.
    pub fn frame_rate(&self) -> (u64, u64) {
        let (n, d) = vreq_core::mpeg2video::frame_rate(self.frame_rate_code);
        (u64::from(n), u64::from(d))
    }
}

/// Reads a sequence header payload (after `00 00 01 B3`). Errors: shorter
/// than its fields and loaded matrices (`load_intra_quantiser_matrix`,
/// `load_non_intra_quantiser_matrix`: 64 bytes each), or a zero size.
pub fn sequence_header(p: &[u8]) -> Result<SequenceHeader, String> {
    let truncated = || format!("truncated ({} bytes)", p.len());
    // 12 + 12 + 4 + 4 + 18 + 1 + 10 + 1 bits, then load_intra_quantiser_matrix
    let load_intra = bits(p, 62, 1).ok_or_else(truncated)? == 1;
    let non_intra_at = 63 + if load_intra { 512 } else { 0 };
    let load_non_intra = bits(p, non_intra_at, 1).ok_or_else(truncated)? == 1;
    let end = non_intra_at + 1 + if load_non_intra { 512 } else { 0 };
    if end > p.len() * 8 {
        return Err(truncated());
    }
    let h = SequenceHeader {
        horizontal_size_value: bits(p, 0, 12).ok_or_else(truncated)?,
        vertical_size_value: bits(p, 12, 12).ok_or_else(truncated)?,
        frame_rate_code: bits(p, 28, 4).ok_or_else(truncated)? as u8,
    };
    if h.horizontal_size_value == 0 || h.vertical_size_value == 0 {
        return Err("sequence header with a zero size".into());
    }
    Ok(h)
}

/// What a demuxer takes from `picture_header()` (6.2.3): `None` when
/// truncated or `picture_coding_type` is reserved (not 1..=4).
pub fn picture_header(p: &[u8]) -> Option<(u16, u8)> {
    let temporal_reference = bits(p, 0, 10)? as u16;
    let picture_coding_type = bits(p, 10, 3)? as u8;
    (1..=4)
        .contains(&picture_coding_type)
        .then_some((temporal_reference, picture_coding_type))
}

/// The extensions a demuxer reads (6.2.2.3, 6.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// `sequence_extension()`: the size extensions (2 bits each) and
    /// `frame_rate_extension_n` / `_d`.
    Sequence {
        horizontal_size_extension: u32,
        vertical_size_extension: u32,
        frame_rate_extension_n: u64,
        frame_rate_extension_d: u64,
    },
    /// `picture_coding_extension()`: `picture_structure` (1 top field,
    /// 2 bottom field, 3 frame).
    PictureCoding { picture_structure: u8 },
}

/// Reads an extension payload (after `00 00 01 B5`); `None` for other
/// extensions, a truncated one or a reserved `picture_structure` 0.
pub fn extension(p: &[u8]) -> Option<Extension> {
    match bits(p, 0, 4)? {
        1 => {
            bits(p, 0, 48)?; // the whole sequence_extension()
            Some(Extension::Sequence {
                horizontal_size_extension: bits(p, 15, 2)?,
                vertical_size_extension: bits(p, 17, 2)?,
                frame_rate_extension_n: u64::from(bits(p, 41, 2)?),
                frame_rate_extension_d: u64::from(bits(p, 43, 5)?),
            })
        }
        8 => {
            bits(p, 0, 33)?; // through progressive_frame
            let picture_structure = bits(p, 22, 2)? as u8;
            (picture_structure != 0).then_some(Extension::PictureCoding { picture_structure })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_header_fields_and_matrix_lengths() {
        // 720x576, aspect 2, frame_rate_code 3, no matrices
        let p = [0x2D, 0x02, 0x40, 0x23, 0xFF, 0xFF, 0xE0, 0x00];
        let h = sequence_header(&p).unwrap();
        assert_eq!((h.horizontal_size_value, h.vertical_size_value), (720, 576));
        assert_eq!(h.frame_rate(), (25, 1));
        // load_intra_quantiser_matrix set: 64 more bytes are needed
        let mut q = p.to_vec();
        q[7] |= 0x02;
        assert!(sequence_header(&q).is_err());
        q.extend([16u8; 64]);
        assert!(sequence_header(&q).is_ok());
        assert!(sequence_header(&[0, 0, 0, 0x23, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn picture_header_and_extensions() {
        // temporal_reference 5, picture_coding_type 1 (I)
        assert_eq!(picture_header(&[0x01, 0x48]), Some((5, 1)));
        assert_eq!(picture_header(&[0x01, 0x40]), None); // type 0: reserved
                                                         // picture_coding_extension, picture_structure 1 (top field)
        let pce = [0x8F, 0xFF, 0xF1, 0x00, 0x00];
        assert_eq!(
            extension(&pce),
            Some(Extension::PictureCoding {
                picture_structure: 1
            })
        );
        assert_eq!(extension(&pce[..4]), None);
        // sequence_extension with frame_rate_extension_n 1, _d 2
        let se = [0x14, 0x8A, 0x00, 0x01, 0x00, 0x22];
        assert_eq!(
            extension(&se),
            Some(Extension::Sequence {
                horizontal_size_extension: 0,
                vertical_size_extension: 0,
                frame_rate_extension_n: 1,
                frame_rate_extension_d: 2,
            })
        );
    }
}
