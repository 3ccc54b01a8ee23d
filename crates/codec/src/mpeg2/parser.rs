//! MPEG-2 video syntax (ISO/IEC 13818-2 6.2): start-code units, sequence
//! header and extension, GOP header, picture header, picture coding
//! extension and quant matrix extension.
//!
//! Quantiser matrices are kept in the bitstream's (zigzag scan) order, which
//! is also the order `v4l2_ctrl_mpeg2_quantisation` takes (uAPI
//! "ext-ctrls-codec-stateless") and GStreamer's `gstmpegvideoparser.c` keeps.

/// Default intra matrix (6.3.11), zigzag scan order.
pub const DEFAULT_INTRA_MATRIX: [u8; 64] = [
    8, 16, 16, 19, 16, 19, 22, 22, 22, 22, 22, 22, 26, 24, 26, 27, 27, 27, 26, 26, 26, 26, 27, 27,
    27, 29, 29, 29, 34, 34, 34, 29, 29, 29, 27, 27, 29, 29, 32, 32, 34, 34, 37, 38, 37, 35, 35, 34,
    35, 38, 38, 40, 40, 40, 48, 48, 46, 46, 56, 56, 58, 69, 69, 83,
];
/// Default non-intra matrix (6.3.11): all 16.
pub const DEFAULT_NON_INTRA_MATRIX: [u8; 64] = [16; 64];

/// MSB-first bit reader; reads past the end are errors.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Reads `n` (≤ 32) bits.
    pub fn bits(&mut self, n: u32) -> Result<u32, String> {
        if self.pos + n as usize > self.data.len() * 8 {
            return Err(format!(
                "truncated: needs {} bits at bit {} of {}",
                n,
                self.pos,
                self.data.len() * 8
            ));
        }
        let mut v = 0u32;
        for _ in 0..n {
            let b = (self.data[self.pos / 8] >> (7 - self.pos % 8)) & 1;
            v = (v << 1) | b as u32;
            self.pos += 1;
        }
        Ok(v)
    }

    pub fn flag(&mut self) -> Result<bool, String> {
        Ok(self.bits(1)? == 1)
    }

    fn matrix(&mut self) -> Result<[u8; 64], String> {
        let mut m = [0u8; 64];
        for v in m.iter_mut() {
            *v = self.bits(8)? as u8;
        }
        Ok(m)
    }
}

/// `sequence_header()` (6.2.2.1), with the matrices already defaulted
/// when not loaded (6.3.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceHeader {
    pub horizontal_size_value: u16,
    pub vertical_size_value: u16,
    pub aspect_ratio_information: u8,
    pub frame_rate_code: u8,
    pub bit_rate_value: u32,
    pub vbv_buffer_size_value: u16,
    pub constrained_parameters_flag: bool,
    pub intra_quantiser_matrix: [u8; 64],
    pub non_intra_quantiser_matrix: [u8; 64],
}

impl SequenceHeader {
    /// Frame rate as (numerator, denominator) from `frame_rate_code`
    /// (Table 6-4); codes outside 1..=8 give 30000/1001 as GStreamer's
    /// `set_fps_from_code` does.
    pub fn frame_rate(&self) -> (u32, u32) {
        vreq_core::mpeg2video::frame_rate(self.frame_rate_code)
    }
}

/// Parses a sequence header payload (after `00 00 01 B3`).
pub fn parse_sequence_header(p: &[u8]) -> Result<SequenceHeader, String> {
    let mut r = BitReader::new(p);
    let horizontal_size_value = r.bits(12)? as u16;
    let vertical_size_value = r.bits(12)? as u16;
    let aspect_ratio_information = r.bits(4)? as u8;
    let frame_rate_code = r.bits(4)? as u8;
    let bit_rate_value = r.bits(18)?;
    let _marker = r.bits(1)?;
    let vbv_buffer_size_value = r.bits(10)? as u16;
    let constrained_parameters_flag = r.flag()?;
    let intra_quantiser_matrix = if r.flag()? {
        r.matrix()?
    } else {
        DEFAULT_INTRA_MATRIX
    };
    let non_intra_quantiser_matrix = if r.flag()? {
        r.matrix()?
    } else {
        DEFAULT_NON_INTRA_MATRIX
    };
    if horizontal_size_value == 0 || vertical_size_value == 0 {
        return Err("sequence header with a zero size".into());
    }
    Ok(SequenceHeader {
        horizontal_size_value,
        vertical_size_value,
        aspect_ratio_information,
        frame_rate_code,
        bit_rate_value,
        vbv_buffer_size_value,
        constrained_parameters_flag,
        intra_quantiser_matrix,
        non_intra_quantiser_matrix,
    })
}

/// `sequence_extension()` (6.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceExtension {
    pub profile_level_escape_bit: u8,
    /// 3 bits: 4 Main, 5 Simple, 1 High, ...
    pub profile: u8,
    /// 4 bits.
    pub level: u8,
    pub progressive_sequence: bool,
    pub chroma_format: u8,
    pub horizontal_size_extension: u8,
    pub vertical_size_extension: u8,
    pub bit_rate_extension: u16,
    pub vbv_buffer_size_extension: u8,
    pub low_delay: bool,
    pub frame_rate_extension_n: u8,
    pub frame_rate_extension_d: u8,
}

/// `picture_coding_extension()` (6.2.3.1), shared with vreq-va's MPEG-2
/// mapping.
pub use vreq_core::mpeg2video::PictureCodingExtension;

/// `quant_matrix_extension()` (6.2.3.2): each matrix present only when its
/// `load_*` flag is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuantMatrixExtension {
    pub intra_quantiser_matrix: Option<[u8; 64]>,
    pub non_intra_quantiser_matrix: Option<[u8; 64]>,
    pub chroma_intra_quantiser_matrix: Option<[u8; 64]>,
    pub chroma_non_intra_quantiser_matrix: Option<[u8; 64]>,
}

/// `sequence_display_extension()` (6.2.2.4): the display rectangle, used for
/// the sample aspect ratio (6.3.3), and the colour description (6.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceDisplayExtension {
    pub video_format: u8,
    /// `colour_description`: the three fields below were coded; when 0 they
    /// hold 2 ("unspecified"; 6.3.6 says the decoder then assumes BT.709 for
    /// `matrix_coefficients`, which players do not follow: they keep their
    /// default, as vreqplay's presenters do for "unspecified").
    pub colour_description: bool,
    /// 8 bits (6.3.6, Table 6-7; H.273 `ColourPrimaries`).
    pub colour_primaries: u8,
    /// 8 bits (6.3.6, Table 6-8; H.273 `TransferCharacteristics`).
    pub transfer_characteristics: u8,
    /// 8 bits (6.3.6, Table 6-9; H.273 `MatrixCoefficients`).
    pub matrix_coefficients: u8,
    /// 14 bits.
    pub display_horizontal_size: u16,
    /// 14 bits.
    pub display_vertical_size: u16,
}

/// An extension unit (6.2.2.2 `extension_start_code_identifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    Sequence(SequenceExtension),
    QuantMatrix(Box<QuantMatrixExtension>),
    PictureCoding(PictureCodingExtension),
    SequenceDisplay(SequenceDisplayExtension),
    /// Any other identifier (scalable, copyright, ...): not needed.
    Other(u8),
}

/// Parses an extension payload (after `00 00 01 B5`).
pub fn parse_extension(p: &[u8]) -> Result<Extension, String> {
    let mut r = BitReader::new(p);
    let id = r.bits(4)? as u8;
    match id {
        1 => {
            let profile_level_escape_bit = r.bits(1)? as u8;
            let profile = r.bits(3)? as u8;
            let level = r.bits(4)? as u8;
            let progressive_sequence = r.flag()?;
            let chroma_format = r.bits(2)? as u8;
            let horizontal_size_extension = r.bits(2)? as u8;
            let vertical_size_extension = r.bits(2)? as u8;
            let bit_rate_extension = r.bits(12)? as u16;
            let _marker = r.bits(1)?;
            let vbv_buffer_size_extension = r.bits(8)? as u8;
            let low_delay = r.flag()?;
            let frame_rate_extension_n = r.bits(2)? as u8;
            let frame_rate_extension_d = r.bits(5)? as u8;
            Ok(Extension::Sequence(SequenceExtension {
                profile_level_escape_bit,
                profile,
                level,
                progressive_sequence,
                chroma_format,
                horizontal_size_extension,
                vertical_size_extension,
                bit_rate_extension,
                vbv_buffer_size_extension,
                low_delay,
                frame_rate_extension_n,
                frame_rate_extension_d,
            }))
        }
        3 => {
            let mut q = QuantMatrixExtension::default();
            if r.flag()? {
                q.intra_quantiser_matrix = Some(r.matrix()?);
            }
            if r.flag()? {
                q.non_intra_quantiser_matrix = Some(r.matrix()?);
            }
            if r.flag()? {
                q.chroma_intra_quantiser_matrix = Some(r.matrix()?);
            }
            if r.flag()? {
                q.chroma_non_intra_quantiser_matrix = Some(r.matrix()?);
            }
            Ok(Extension::QuantMatrix(Box::new(q)))
        }
        8 => {
            let mut f_code = [[0u8; 2]; 2];
            for s in f_code.iter_mut() {
                for t in s.iter_mut() {
                    *t = r.bits(4)? as u8;
                }
            }
            let e = PictureCodingExtension {
                f_code,
                intra_dc_precision: r.bits(2)? as u8,
                picture_structure: r.bits(2)? as u8,
                top_field_first: r.flag()?,
                frame_pred_frame_dct: r.flag()?,
                concealment_motion_vectors: r.flag()?,
                q_scale_type: r.flag()?,
                intra_vlc_format: r.flag()?,
                alternate_scan: r.flag()?,
                repeat_first_field: r.flag()?,
                chroma_420_type: r.flag()?,
                progressive_frame: r.flag()?,
            };
            if e.picture_structure == 0 {
                return Err("picture_structure 0 (reserved)".into());
            }
            Ok(Extension::PictureCoding(e))
        }
        2 => {
            let mut display = || -> Result<SequenceDisplayExtension, String> {
                let video_format = r.bits(3)? as u8;
                let colour_description = r.flag()?;
                let (mut colour_primaries, mut transfer_characteristics) = (2, 2);
                let mut matrix_coefficients = 2;
                if colour_description {
                    colour_primaries = r.bits(8)? as u8;
                    transfer_characteristics = r.bits(8)? as u8;
                    matrix_coefficients = r.bits(8)? as u8;
                }
                let display_horizontal_size = r.bits(14)? as u16;
                let _marker = r.bits(1)?;
                let display_vertical_size = r.bits(14)? as u16;
                Ok(SequenceDisplayExtension {
                    video_format,
                    colour_description,
                    colour_primaries,
                    transfer_characteristics,
                    matrix_coefficients,
                    display_horizontal_size,
                    display_vertical_size,
                })
            };
            // Display metadata only: a truncated one is ignored, not an error.
            Ok(display().map_or(Extension::Other(2), Extension::SequenceDisplay))
        }
        other => Ok(Extension::Other(other)),
    }
}

/// `group_of_pictures_header()` (6.2.2.6): the flags that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GopHeader {
    pub time_code: u32,
    pub closed_gop: bool,
    pub broken_link: bool,
}

/// Parses a GOP header payload (after `00 00 01 B8`).
pub fn parse_gop(p: &[u8]) -> Result<GopHeader, String> {
    let mut r = BitReader::new(p);
    Ok(GopHeader {
        time_code: r.bits(25)?,
        closed_gop: r.flag()?,
        broken_link: r.flag()?,
    })
}

/// `picture_header()` (6.2.3): the fields the uAPI and reordering need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureHeader {
    pub temporal_reference: u16,
    /// 1 I, 2 P, 3 B, 4 D.
    pub picture_coding_type: u8,
}

/// Parses a picture header payload (after `00 00 01 00`).
pub fn parse_picture_header(p: &[u8]) -> Result<PictureHeader, String> {
    let mut r = BitReader::new(p);
    let temporal_reference = r.bits(10)? as u16;
    let picture_coding_type = r.bits(3)? as u8;
    if !(1..=4).contains(&picture_coding_type) {
        return Err(format!(
            "picture_coding_type {picture_coding_type} (reserved)"
        ));
    }
    Ok(PictureHeader {
        temporal_reference,
        picture_coding_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_header_defaults_and_size() {
        // 720x576, aspect 2, frame_rate_code 3, no matrices.
        let mut r = vec![0x2D, 0x02, 0x40, 0x23, 0xFF, 0xFF, 0xE0, 0x00];
        r.extend_from_slice(&[0x00, 0x00]);
        let s = parse_sequence_header(&r).unwrap();
        assert_eq!((s.horizontal_size_value, s.vertical_size_value), (720, 576));
        assert_eq!(s.frame_rate(), (25, 1));
        assert_eq!(s.intra_quantiser_matrix, DEFAULT_INTRA_MATRIX);
        assert_eq!(s.non_intra_quantiser_matrix, [16; 64]);
        assert!(parse_sequence_header(&r[..3]).is_err());
    }

    #[test]
    fn picture_header_rejects_reserved_type() {
        assert_eq!(
            parse_picture_header(&[0x00, 0x48, 0, 0]).unwrap(),
            PictureHeader {
                temporal_reference: 1,
                picture_coding_type: 1
            }
        );
        assert!(parse_picture_header(&[0x00, 0x78, 0, 0]).is_err());
    }
}
