//! The stateless codecs: bitstream syntax, DPB / reference management and
//! output order, and the V4L2 stateless uAPI control structs for each
//! picture ([`vreq_core::Control`]).
//!
//! The uAPI structs (`v4l2_ctrl_h264_sps`, ...) are the lingua franca
//! between this crate and the device crate; nothing here issues an ioctl or
//! reads a file. Each codec folder (`h264`, `hevc`, `vp8`, `vp9`, `mpeg2`)
//! has the same files: `parser` (syntax), `dpb` (reference pictures and
//! output order), `controls` (uAPI structs for one picture) and `mod` (the
//! [`vreq_core::StatelessCodec`] implementation), plus its unit tests in `tests`
//! (`vp8` also keeps its probability tables in `probs`).
//! [`make_codec`] builds the one for a [`CodecKind`].

#![forbid(unsafe_code)]

// Private imports: the codec modules name these as `super::X`.
use vreq_core::{
    reduce_ratio, uapi_ext, CodecError, CodecEvent, CodecKind, CodecPrivate, CodedUnit,
    ColorDescription, Control, DecodeJob, DecodeMode, StartCode, StatelessCodec, StreamParams,
};

pub mod h264;
pub mod hevc;
pub mod mpeg2;
mod param_sets;
pub mod vp8;
pub mod vp9;

/// The sample aspect ratio of H.264 / HEVC `aspect_ratio_idc` (H.264 Table
/// E-1, H.265 Table E.1 — the same table): 1..=16 are fixed ratios, 255
/// (`Extended_SAR`) takes `sar_width` : `sar_height`. `None` for 0
/// ("Unspecified"), reserved values 17..=254 and a zero `sar_width` /
/// `sar_height` (E.2.1: "shall be relatively prime or equal to 0"; 0 means
/// unspecified), else the reduced ratio.
pub fn sar_from_aspect_ratio_idc(idc: u32, sar_width: u32, sar_height: u32) -> Option<(u32, u32)> {
    const TABLE_E1: [(u32, u32); 17] = [
        (0, 0),
        (1, 1),
        (12, 11),
        (10, 11),
        (16, 11),
        (40, 33),
        (24, 11),
        (20, 11),
        (32, 11),
        (80, 33),
        (18, 11),
        (15, 11),
        (64, 33),
        (160, 99),
        (4, 3),
        (3, 2),
        (2, 1),
    ];
    let (w, h) = match idc {
        1..=16 => TABLE_E1[idc as usize],
        255 => (sar_width, sar_height),
        _ => return None,
    };
    reduce_ratio(u64::from(w), u64::from(h))
}

/// The MPEG-2 sample aspect ratio (ISO/IEC 13818-2 6.3.3):
/// `aspect_ratio_information` 1 is square samples; 2, 3, 4 give the display
/// aspect ratio 4:3, 16:9, 2.21:1 of the display rectangle, which is
/// `sequence_display_extension`'s `display_horizontal_size` ×
/// `display_vertical_size` when present (`display`), else the frame
/// (`width` × `height`): `SAR = DAR · display_vertical_size /
/// display_horizontal_size`. As GStreamer's
/// `gst_mpeg_video_finalise_mpeg2_sequence_header` ("like DVD players"), a
/// display dimension is used only when smaller than the frame's (a zero or
/// larger one falls back to the frame's). `None` for forbidden / reserved
/// codes or a zero size. (FFmpeg's `mpeg12dec.c` differs in a corner: it uses
/// the display extension only when the resulting frame DAR is exactly 4:3 or
/// 16:9.)
pub fn mpeg2_pixel_aspect(
    aspect_ratio_information: u8,
    width: u32,
    height: u32,
    display: Option<(u32, u32)>,
) -> Option<(u32, u32)> {
    let (dar_w, dar_h): (u64, u64) = match aspect_ratio_information {
        1 => return Some((1, 1)),
        2 => (4, 3),
        3 => (16, 9),
        4 => (221, 100),
        _ => return None,
    };
    let (mut w, mut h) = (width, height);
    if let Some((dw, dh)) = display {
        if dw > 0 && dw < width {
            w = dw;
        }
        if dh > 0 && dh < height {
            h = dh;
        }
    }
    reduce_ratio(dar_w * u64::from(h), dar_h * u64::from(w))
}

/// The pixel aspect ratio that shows a `width` × `height` VP9 frame at its
/// intended display size `render_width` × `render_height` (VP9 spec 7.2
/// `render_size()`: "the intended display size"; no scaling is implied by the
/// decoder). vreqplay keeps the decoded frame as the visible rectangle and
/// expresses the render size as a PAR, so the window shows the frame with the
/// render size's aspect: `PAR = (render_width · height) : (render_height ·
/// width)`. Equal sizes give `(1, 1)`. (FFmpeg 5.1 reads and ignores the
/// render size.)
pub fn vp9_render_pixel_aspect(
    width: u32,
    height: u32,
    render_width: u32,
    render_height: u32,
) -> (u32, u32) {
    reduce_ratio(
        u64::from(render_width) * u64::from(height),
        u64::from(render_height) * u64::from(width),
    )
    .unwrap_or((1, 1))
}

/// The presentation time (ns) of output number `index` of a stream whose
/// packets carry none: `index` × `frame_duration_ns`, saturating at
/// `i64::MAX`. The duration comes from the VUI (`num_units_in_tick` /
/// `time_scale`, up to ~8.6·10^18 ns for H.264's 2·10^9 · 2^32 − 1), so the
/// product may not fit: a file can claim a frame lasts centuries (found by
/// `codec_h264`).
pub fn synthetic_pts_ns(index: u64, frame_duration_ns: u64) -> i64 {
    i64::try_from(index.saturating_mul(frame_duration_ns)).unwrap_or(i64::MAX)
}

/// The colour description of an H.264 / HEVC VUI (H.264 E.1.1 / E.2.1, H.265
/// E.2.1 / E.3.1): `video_full_range_flag` when `video_signal_type_present_flag`
/// (else 0, limited), `matrix_coefficients` (H.273 Table 4) when also
/// `colour_description_present_flag` (else 2, unspecified → `None`). All
/// absent without `vui_parameters_present_flag`.
pub fn vui_color_description(
    vui_parameters_present_flag: bool,
    video_signal_type_present_flag: bool,
    video_full_range_flag: bool,
    colour_description_present_flag: bool,
    matrix_coefficients: u32,
) -> ColorDescription {
    let signal = vui_parameters_present_flag && video_signal_type_present_flag;
    let mc = if signal && colour_description_present_flag {
        u8::try_from(matrix_coefficients).unwrap_or(2)
    } else {
        2
    };
    ColorDescription::from_h273(mc, signal && video_full_range_flag)
}

/// The colour description of a VP9 frame's `color_config()` (VP9 bitstream
/// spec 6.2.2 / 7.2.2): `color_space` `CS_BT_601` and `CS_SMPTE_170` → H.273
/// `matrix_coefficients` 6, `CS_BT_709` → 1, `CS_SMPTE_240` → 7, `CS_BT_2020`
/// → 9, `CS_UNKNOWN` and the rest → `None`; `color_range` 1 is full range.
pub fn vp9_color_description(color_space: u8, color_range: u8) -> ColorDescription {
    use vreq_core::vp9::{CS_BT_2020, CS_BT_601, CS_BT_709, CS_SMPTE_170, CS_SMPTE_240};
    let mc = match color_space {
        CS_BT_601 | CS_SMPTE_170 => 6,
        CS_BT_709 => 1,
        CS_SMPTE_240 => 7,
        CS_BT_2020 => 9,
        _ => 2,
    };
    ColorDescription::from_h273(mc, color_range != 0)
}

/// The codec for a stream of `kind` with the container's out-of-band
/// configuration `private` (avcC / hvcC, or [`CodecPrivate::None`]).
///
/// Errors: [`CodecError::BadConfig`] when `private` does not parse,
/// [`CodecError::Unsupported`] for streams outside what the codec decodes
/// (e.g. VP9 profile 3, MPEG-1).
pub fn make_codec(
    kind: CodecKind,
    private: &CodecPrivate,
) -> Result<Box<dyn StatelessCodec>, CodecError> {
    Ok(match kind {
        CodecKind::H264 => Box::new(h264::H264Codec::new(private)?),
        CodecKind::Hevc => Box::new(hevc::HevcCodec::new(private)?),
        CodecKind::Vp8 => Box::new(vp8::Vp8Codec::new(private)?),
        CodecKind::Vp9 => Box::new(vp9::Vp9Codec::new(private)?),
        CodecKind::Mpeg2 => Box::new(mpeg2::Mpeg2Codec::new(private)?),
    })
}

#[cfg(test)]
mod aspect_tests {
    use super::*;

    #[test]
    fn aspect_ratio_idc_table_e1() {
        assert_eq!(sar_from_aspect_ratio_idc(0, 0, 0), None);
        assert_eq!(sar_from_aspect_ratio_idc(1, 0, 0), Some((1, 1)));
        assert_eq!(sar_from_aspect_ratio_idc(4, 0, 0), Some((16, 11)));
        assert_eq!(sar_from_aspect_ratio_idc(13, 0, 0), Some((160, 99)));
        assert_eq!(sar_from_aspect_ratio_idc(14, 0, 0), Some((4, 3)));
        assert_eq!(sar_from_aspect_ratio_idc(16, 0, 0), Some((2, 1)));
        assert_eq!(sar_from_aspect_ratio_idc(17, 0, 0), None);
        // Extended_SAR, reduced; zero means unspecified
        assert_eq!(sar_from_aspect_ratio_idc(255, 32, 30), Some((16, 15)));
        assert_eq!(sar_from_aspect_ratio_idc(255, 0, 11), None);
        assert_eq!(
            sar_from_aspect_ratio_idc(255, 4017, 1271),
            Some((4017, 1271))
        );
    }

    #[test]
    fn mpeg2_dar_to_par() {
        // 480x576 at 4:3 (SVCD): 4·576 : 3·480 = 8:5
        assert_eq!(mpeg2_pixel_aspect(2, 480, 576, None), Some((8, 5)));
        assert_eq!(mpeg2_pixel_aspect(3, 720, 576, None), Some((64, 45)));
        assert_eq!(mpeg2_pixel_aspect(1, 720, 576, None), Some((1, 1)));
        assert_eq!(mpeg2_pixel_aspect(0, 720, 576, None), None);
        assert_eq!(mpeg2_pixel_aspect(5, 720, 576, None), None);
        // display extension 704x576 inside 720x576: 4·576 : 3·704 = 12:11
        assert_eq!(
            mpeg2_pixel_aspect(2, 720, 576, Some((704, 576))),
            Some((12, 11))
        );
        // larger than the frame: ignored (GStreamer)
        assert_eq!(
            mpeg2_pixel_aspect(2, 720, 576, Some((1920, 1080))),
            Some((16, 15))
        );
    }

    #[test]
    fn vp9_render_size_as_par() {
        assert_eq!(vp9_render_pixel_aspect(352, 288, 352, 288), (1, 1));
        // 1440x1080 coded, shown 1920x1080
        assert_eq!(vp9_render_pixel_aspect(1440, 1080, 1920, 1080), (4, 3));
    }
}

#[cfg(test)]
mod pts_tests {
    use super::synthetic_pts_ns;

    #[test]
    fn synthetic_pts_saturates_instead_of_overflowing() {
        assert_eq!(synthetic_pts_ns(0, 40_000_000), 0);
        assert_eq!(synthetic_pts_ns(3, 40_000_000), 120_000_000);
        // H.264's largest VUI frame duration: 2e9 * (2^32 - 1) / 1 ns
        let d = 2_000_000_000u64 * u64::from(u32::MAX);
        assert_eq!(synthetic_pts_ns(1, d), i64::try_from(d).unwrap());
        assert_eq!(synthetic_pts_ns(2, d), i64::MAX);
        assert_eq!(synthetic_pts_ns(u64::MAX, u64::MAX), i64::MAX);
    }
}
