//! vreqplay's shared vocabulary: what the container, codec, v4l2 and
//! engine crates say to each other. No I/O of any kind.
//!
//! * [`CodecKind`]: the five stateless codecs, with their V4L2 OUTPUT fourcc.
//! * [`Control`]: one V4L2 stateless uAPI compound control value (the
//!   `v4l2_ctrl_*` structs of `include/uapi/linux/v4l2-controls.h`, plus the
//!   local extensions in [`uapi_ext`]).
//! * [`DecodeJob`]: one media request's controls and bitstream.
//! * [`StreamParams`], [`DecodeMode`], [`StartCode`]: what the device is
//!   configured for.
//! * [`CodedUnit`] and [`CodecPrivate`]: what a demuxer hands a codec.
//! * [`StatelessCodec`], [`CodecEvent`], [`CodecError`]: what a codec says to
//!   whoever drives the device (the engine); implemented by `vreq-codec`'s
//!   codecs (from a bitstream) and by `vreq-va`'s VA adapter (from VA-API
//!   buffers).
//! * [`hevc`]: H.265 NAL unit type classes (Table 7-1), which the HEVC codec
//!   and the VA driver share.
//! * [`mpeg2video`]: MPEG-2 start codes and the frame-rate table, which the
//!   MPEG-2 demuxer and the MPEG-2 codec both read; the picture coding
//!   extension and its uAPI flags, which the codec and the VA driver share.
//! * [`rbsp`]: H.264 / H.265 RBSP bit reading (emulation prevention removal,
//!   `u(n)`, `ue(v)`, `se(v)`), which the H.264 / HEVC codecs and the VA
//!   driver's slice header readers share.
//! * [`vp8`]: VP8 frame header syntax and the header's part of the uAPI
//!   frame control, which the VP8 codec and the VA driver both use.
//! * [`vp9`]: VP9 bitstream syntax (superframe index, uncompressed and
//!   compressed headers, the boolean decoder), which the VP9 codec and the
//!   VA driver's VP9 mapping both read.

#![forbid(unsafe_code)]

use v4l2r::bindings;

pub mod hevc;
pub mod mpeg2video;
pub mod pool;
pub mod rbsp;
pub mod uapi_ext;
pub mod vp8;
pub mod vp9;

/// The stateless codecs vreqplay drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodecKind {
    H264,
    Hevc,
    Vp8,
    Vp9,
    Mpeg2,
}

impl CodecKind {
    /// All codecs, in the order `--list-devices` prints them.
    pub const ALL: [CodecKind; 5] = [Self::H264, Self::Hevc, Self::Vp8, Self::Vp9, Self::Mpeg2];

    /// The OUTPUT (coded) pixel format fourcc of the stateless uAPI
    /// (`V4L2_PIX_FMT_H264_SLICE` = `S264`, ...; uAPI "pixfmt-compressed").
    pub fn output_fourcc(self) -> [u8; 4] {
        match self {
            Self::H264 => *b"S264",
            Self::Hevc => *b"S265",
            Self::Vp8 => *b"VP8F",
            Self::Vp9 => *b"VP9F",
            Self::Mpeg2 => *b"MG2S",
        }
    }

    /// Short lower-case name (`h264`, `hevc`, `vp8`, `vp9`, `mpeg2`).
    pub fn name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::Hevc => "hevc",
            Self::Vp8 => "vp8",
            Self::Vp9 => "vp9",
            Self::Mpeg2 => "mpeg2",
        }
    }
}

impl std::fmt::Display for CodecKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the device wants bitstream data split and prefixed: read from the
/// device's `V4L2_CID_STATELESS_*_DECODE_MODE` / `*_START_CODE` menu controls
/// (uAPI "ext-ctrls-codec-stateless"), never assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeMode {
    /// One request per slice; SLICE_PARAMS (+ PRED_WEIGHTS) per request.
    SliceBased,
    /// One request per picture; all slices in one OUTPUT buffer.
    FrameBased,
}

/// Whether each slice in the OUTPUT buffer is prefixed by `00 00 01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartCode {
    None,
    AnnexB,
}

/// One compound control value for one media request. The payload is the
/// uAPI struct exactly as `VIDIOC_S_EXT_CTRLS` takes it; `Vec` payloads are
/// dynamic-array controls (`V4L2_CTRL_FLAG_DYNAMIC_ARRAY`), sent with
/// `size = len * size_of::<T>()` bytes (uAPI "vidioc-g-ext-ctrls").
#[derive(Clone)]
pub enum Control {
    H264Sps(Box<bindings::v4l2_ctrl_h264_sps>),
    H264Pps(Box<bindings::v4l2_ctrl_h264_pps>),
    H264ScalingMatrix(Box<bindings::v4l2_ctrl_h264_scaling_matrix>),
    H264DecodeParams(Box<bindings::v4l2_ctrl_h264_decode_params>),
    H264SliceParams(Box<bindings::v4l2_ctrl_h264_slice_params>),
    H264PredWeights(Box<bindings::v4l2_ctrl_h264_pred_weights>),
    HevcSps(Box<bindings::v4l2_ctrl_hevc_sps>),
    HevcPps(Box<bindings::v4l2_ctrl_hevc_pps>),
    /// Dynamic array: one element per slice of the request (one in slice-based mode).
    HevcSliceParams(Vec<bindings::v4l2_ctrl_hevc_slice_params>),
    HevcScalingMatrix(Box<bindings::v4l2_ctrl_hevc_scaling_matrix>),
    HevcDecodeParams(Box<bindings::v4l2_ctrl_hevc_decode_params>),
    /// Dynamic array of `u32`: every slice's `entry_point_offset_minus1[i] + 1`, in slice order.
    HevcEntryPointOffsets(Vec<u32>),
    /// Dynamic array (RK3588 extension, see [`uapi_ext`]).
    HevcExtSpsStRps(Vec<uapi_ext::V4l2CtrlHevcExtSpsStRps>),
    /// Dynamic array (RK3588 extension, see [`uapi_ext`]).
    HevcExtSpsLtRps(Vec<uapi_ext::V4l2CtrlHevcExtSpsLtRps>),
    Vp9Frame(Box<bindings::v4l2_ctrl_vp9_frame>),
    Vp9CompressedHdr(Box<bindings::v4l2_ctrl_vp9_compressed_hdr>),
    Vp8Frame(Box<bindings::v4l2_ctrl_vp8_frame>),
    Mpeg2Sequence(Box<bindings::v4l2_ctrl_mpeg2_sequence>),
    Mpeg2Picture(Box<bindings::v4l2_ctrl_mpeg2_picture>),
    Mpeg2Quantisation(Box<bindings::v4l2_ctrl_mpeg2_quantisation>),
}

impl Control {
    /// The control's `V4L2_CID_STATELESS_*` id.
    pub fn id(&self) -> u32 {
        match self {
            Self::H264Sps(_) => bindings::V4L2_CID_STATELESS_H264_SPS,
            Self::H264Pps(_) => bindings::V4L2_CID_STATELESS_H264_PPS,
            Self::H264ScalingMatrix(_) => bindings::V4L2_CID_STATELESS_H264_SCALING_MATRIX,
            Self::H264DecodeParams(_) => bindings::V4L2_CID_STATELESS_H264_DECODE_PARAMS,
            Self::H264SliceParams(_) => bindings::V4L2_CID_STATELESS_H264_SLICE_PARAMS,
            Self::H264PredWeights(_) => bindings::V4L2_CID_STATELESS_H264_PRED_WEIGHTS,
            Self::HevcSps(_) => bindings::V4L2_CID_STATELESS_HEVC_SPS,
            Self::HevcPps(_) => bindings::V4L2_CID_STATELESS_HEVC_PPS,
            Self::HevcSliceParams(_) => bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
            Self::HevcScalingMatrix(_) => bindings::V4L2_CID_STATELESS_HEVC_SCALING_MATRIX,
            Self::HevcDecodeParams(_) => bindings::V4L2_CID_STATELESS_HEVC_DECODE_PARAMS,
            Self::HevcEntryPointOffsets(_) => bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS,
            Self::HevcExtSpsStRps(_) => uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS,
            Self::HevcExtSpsLtRps(_) => uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS,
            Self::Vp9Frame(_) => bindings::V4L2_CID_STATELESS_VP9_FRAME,
            Self::Vp9CompressedHdr(_) => bindings::V4L2_CID_STATELESS_VP9_COMPRESSED_HDR,
            Self::Vp8Frame(_) => bindings::V4L2_CID_STATELESS_VP8_FRAME,
            Self::Mpeg2Sequence(_) => bindings::V4L2_CID_STATELESS_MPEG2_SEQUENCE,
            Self::Mpeg2Picture(_) => bindings::V4L2_CID_STATELESS_MPEG2_PICTURE,
            Self::Mpeg2Quantisation(_) => bindings::V4L2_CID_STATELESS_MPEG2_QUANTISATION,
        }
    }

    /// The uAPI name, e.g. `V4L2_CID_STATELESS_H264_SPS`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::H264Sps(_) => "V4L2_CID_STATELESS_H264_SPS",
            Self::H264Pps(_) => "V4L2_CID_STATELESS_H264_PPS",
            Self::H264ScalingMatrix(_) => "V4L2_CID_STATELESS_H264_SCALING_MATRIX",
            Self::H264DecodeParams(_) => "V4L2_CID_STATELESS_H264_DECODE_PARAMS",
            Self::H264SliceParams(_) => "V4L2_CID_STATELESS_H264_SLICE_PARAMS",
            Self::H264PredWeights(_) => "V4L2_CID_STATELESS_H264_PRED_WEIGHTS",
            Self::HevcSps(_) => "V4L2_CID_STATELESS_HEVC_SPS",
            Self::HevcPps(_) => "V4L2_CID_STATELESS_HEVC_PPS",
            Self::HevcSliceParams(_) => "V4L2_CID_STATELESS_HEVC_SLICE_PARAMS",
            Self::HevcScalingMatrix(_) => "V4L2_CID_STATELESS_HEVC_SCALING_MATRIX",
            Self::HevcDecodeParams(_) => "V4L2_CID_STATELESS_HEVC_DECODE_PARAMS",
            Self::HevcEntryPointOffsets(_) => "V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS",
            Self::HevcExtSpsStRps(_) => "V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS",
            Self::HevcExtSpsLtRps(_) => "V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS",
            Self::Vp9Frame(_) => "V4L2_CID_STATELESS_VP9_FRAME",
            Self::Vp9CompressedHdr(_) => "V4L2_CID_STATELESS_VP9_COMPRESSED_HDR",
            Self::Vp8Frame(_) => "V4L2_CID_STATELESS_VP8_FRAME",
            Self::Mpeg2Sequence(_) => "V4L2_CID_STATELESS_MPEG2_SEQUENCE",
            Self::Mpeg2Picture(_) => "V4L2_CID_STATELESS_MPEG2_PICTURE",
            Self::Mpeg2Quantisation(_) => "V4L2_CID_STATELESS_MPEG2_QUANTISATION",
        }
    }
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One media request's worth of work: controls + one OUTPUT buffer.
#[derive(Debug, Clone)]
pub struct DecodeJob {
    /// OUTPUT buffer timestamp in ns (`v4l2_buffer.timestamp`). It is copied to
    /// the CAPTURE buffer and is how later pictures name this one as a reference
    /// (`reference_ts`). Unique per picture; all slices of a picture share it.
    pub timestamp_ns: u64,
    /// Controls to set in this request (the device keeps the others' last value).
    pub controls: Vec<Control>,
    /// The coded bytes for the OUTPUT buffer (slice data, start codes per [`StartCode`]).
    pub bitstream: Vec<u8>,
    /// `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF`: more slices of this picture follow.
    pub hold_capture: bool,
    /// First request of a new picture (a CAPTURE buffer gets consumed).
    pub starts_picture: bool,
}

/// Sequence-level facts the engine needs to (re)configure the device.
///
/// [`StreamParams::pixel_aspect`] and [`StreamParams::color`] are display
/// metadata only: two params that differ in nothing else are
/// [`StreamParams::same_device_config`] and do not reconfigure the device
/// (vreq-engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamParams {
    /// Coded size in pixels (macroblock / CTB aligned).
    pub coded_width: u32,
    pub coded_height: u32,
    /// Visible (cropped) rectangle in pixels: x, y, width, height.
    pub visible: (u32, u32, u32, u32),
    /// Luma bit depth (8 or 10).
    pub bit_depth: u8,
    /// Pictures the DPB may hold (CAPTURE buffers needed for references + reorder).
    pub dpb_size: u32,
    /// Frame duration in ns from the bitstream's timing info, if present.
    pub frame_duration_ns: Option<u64>,
    /// Pixel (sample) aspect ratio width : height as the bitstream states it,
    /// reduced ([`reduce_ratio`]); `(1, 1)` when square or unknown (no VUI
    /// aspect info, `aspect_ratio_idc` 0 "Unspecified" or reserved, a zero
    /// `sar_width` / `sar_height`). A `w`-pixel-wide visible picture is shown
    /// `w · pixel_aspect.0 / pixel_aspect.1` pixels wide. Sources:
    /// H.264 / HEVC VUI (`aspect_ratio_idc`, Table E-1, 255 = `Extended_SAR`:
    /// `sar_width` / `sar_height`; `vreq_codec::sar_from_aspect_ratio_idc`); MPEG-2
    /// `aspect_ratio_information` (ISO/IEC 13818-2 6.3.3, a display aspect
    /// ratio: `vreq_codec::mpeg2_pixel_aspect`); VP9 `render_width` / `render_height`
    /// against the frame size (`vreq_codec::vp9_render_pixel_aspect`); VP8: always
    /// `(1, 1)` (the key frame's `horizontal_scale` / `vertical_scale` are
    /// upscaling hints, ignored as FFmpeg and GStreamer do).
    pub pixel_aspect: (u32, u32),
    /// The stream's colour description (Y′CbCr matrix and range) as the
    /// bitstream states it; [`ColorDescription::default`] (unspecified,
    /// limited range) when it states none. See [`ColorDescription`] for the
    /// source per codec.
    pub color: ColorDescription,
}

impl StreamParams {
    /// True when `self` and `other` need the same device configuration:
    /// equal in everything but [`StreamParams::pixel_aspect`] and
    /// [`StreamParams::color`] (a PAR- or colour-only change must not drain
    /// and reallocate CAPTURE).
    pub fn same_device_config(&self, other: &StreamParams) -> bool {
        StreamParams {
            pixel_aspect: other.pixel_aspect,
            color: other.color,
            ..*self
        } == *other
    }
}

/// A stream's colour description, in the code points of ITU-T H.273
/// (which H.264 Annex E, H.265 Annex E and ISO/IEC 13818-2 share), as the
/// bitstream states it:
///
/// * H.264 / HEVC: VUI `video_signal_type_present_flag`,
///   `video_full_range_flag`, `colour_description_present_flag`,
///   `matrix_coefficients` (H.264 E.2.1, H.265 E.3.1).
/// * MPEG-2: `sequence_display_extension`'s `colour_description` and
///   `matrix_coefficients` (ISO/IEC 13818-2 6.3.6); always limited range.
/// * VP9: `color_space` (`CS_BT_601` → 6, `CS_BT_709` → 1, `CS_BT_2020` → 9,
///   others unspecified) and `color_range` (VP9 bitstream spec 6.2.2 / 7.2.2).
/// * VP8: always BT.601 (code point 6), limited range: the key frame's
///   `color_space` has only "YUV" (0) and `clamping_type` is a decoder hint
///   (RFC 6386 9.2).
///
/// A presenter maps it to a Y′CbCr → R′G′B′ conversion; what it does for
/// `None` (no description, or code point 2 "unspecified") is its choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ColorDescription {
    /// H.273 `MatrixCoefficients` (Table 4): 1 BT.709, 5 / 6 BT.601,
    /// 9 / 10 BT.2020 non-constant / constant luminance, …; `None` when the
    /// stream states none or states 2 ("unspecified").
    pub matrix_coefficients: Option<u8>,
    /// `video_full_range_flag` (H.273 `VideoFullRangeFlag`; VP9 `color_range`):
    /// samples use the full 0..2^n−1 range, else the limited ("studio") one.
    pub video_full_range: bool,
}

impl ColorDescription {
    /// From an H.273 `matrix_coefficients` code point and full-range flag:
    /// 2 ("unspecified") is kept as `None`.
    pub fn from_h273(matrix_coefficients: u8, video_full_range: bool) -> Self {
        ColorDescription {
            matrix_coefficients: (matrix_coefficients != 2).then_some(matrix_coefficients),
            video_full_range,
        }
    }
}

/// `a : b` reduced by their greatest common divisor; `None` if either is 0
/// (a ratio that says nothing).
pub fn reduce_ratio(a: u64, b: u64) -> Option<(u32, u32)> {
    if a == 0 || b == 0 {
        return None;
    }
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    let (n, d) = (a / x, b / x);
    // Terms beyond u32 only come from absurd inputs: keep the ratio, drop precision.
    let shift = 64 - n.max(d).leading_zeros();
    let shift = shift.saturating_sub(32);
    let (n, d) = ((n >> shift).max(1), (d >> shift).max(1));
    Some((n as u32, d as u32))
}

/// One coded unit handed to a codec: a container packet's payload and
/// timing (the container crate converts its packets into these).
#[derive(Debug, Clone, Copy)]
pub struct CodedUnit<'a> {
    pub data: &'a [u8],
    /// Presentation time in ns, if the container knows it.
    pub pts_ns: Option<i64>,
    /// Container keyframe flag.
    pub keyframe: bool,
    /// Where this unit starts in the file (bytes), for error messages.
    pub byte_offset: u64,
}

/// Codec configuration carried by the container (not in-band).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CodecPrivate {
    /// Nothing out of band: parameter sets (if any) are in-band (Annex-B, IVF).
    #[default]
    None,
    /// `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3): H.264 NAL units
    /// in packets are prefixed by `nal_length_size` (1, 2 or 4) big-endian bytes.
    Avc {
        nal_length_size: u8,
        /// Raw SPS NAL units (no start code, no length prefix).
        sps: Vec<Vec<u8>>,
        /// Raw PPS NAL units.
        pps: Vec<Vec<u8>>,
    },
    /// `HEVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §8.3.3).
    Hvcc {
        nal_length_size: u8,
        /// Raw VPS/SPS/PPS/SEI NAL units in record order.
        nal_units: Vec<Vec<u8>>,
    },
    /// Anything else, verbatim (vpcC, MPEG-2 sequence header, CodecPrivate...).
    Raw(Vec<u8>),
}

/// What a codec asks of the engine, in order.
#[derive(Debug)]
pub enum CodecEvent {
    /// The sequence changed (first SPS, or new size/depth/DPB size): the engine
    /// must (re)configure the device before the next [`CodecEvent::Decode`].
    Configure(StreamParams),
    /// Submit this request.
    Decode(DecodeJob),
    /// The picture decoded with `timestamp_ns` is next in display order; show it at `pts_ns`
    /// (possibly again: see [`CodecEvent::Unref`]).
    Output { timestamp_ns: u64, pts_ns: i64 },
    /// The picture is neither needed for reference nor waiting for output:
    /// its CAPTURE buffer may be reused once the consumer dropped it. Contract
    /// (the engine, `crates/engine`, relies on it): a picture's Unref comes
    /// after its last [`CodecEvent::Output`]; a picture may be output more than once (VP9
    /// `show_existing_frame`, same `timestamp_ns`, new pts) or never (VP9
    /// hidden frames, HEVC `pic_output_flag` 0), and then gets only its Unref.
    Unref { timestamp_ns: u64 },
    /// Input was skipped: what and where (decoding resumes at the next random-access point).
    Skipped { byte_offset: u64, reason: String },
}

/// Errors that stop a codec (bad input that is merely skipped is a
/// [`CodecEvent::Skipped`] instead).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("unsupported stream: {0}")]
    Unsupported(String),
    #[error("bad codec configuration: {0}")]
    BadConfig(String),
}

/// One stateless codec: coded units in, device requests and display-order
/// events out. Fixed call order: [`StatelessCodec::push`] any number of times,
/// draining [`StatelessCodec::poll`] after each; [`StatelessCodec::flush`] at
/// end of stream (or before a seek), then drain again.
pub trait StatelessCodec {
    /// Which codec this is.
    fn kind(&self) -> CodecKind;
    /// Tells the codec the device's decode mode and start-code setting (before the first push).
    fn set_mode(&mut self, mode: DecodeMode, start_code: StartCode);
    /// Tells the codec which optional controls the device has (before the
    /// first push): `has(id)` answers for a `V4L2_CID_STATELESS_*` id, as probed
    /// with `VIDIOC_QUERY_EXT_CTRL` when the device was opened (e.g. HEVC
    /// `ENTRY_POINT_OFFSETS`, `EXT_SPS_ST_RPS` / `EXT_SPS_LT_RPS`). A codec must
    /// never send an optional control the device lacks. Default: ignores it.
    fn set_device_controls(&mut self, has: &dyn Fn(u32) -> bool) {
        let _ = has;
    }
    /// Feeds one coded unit. Malformed input becomes [`CodecEvent::Skipped`].
    fn push(&mut self, unit: CodedUnit<'_>) -> Result<(), CodecError>;
    /// End of stream: decode what is pending and output every remaining picture.
    fn flush(&mut self) -> Result<(), CodecError>;
    /// Drops all state except parameter sets (seek); the next picture must be a random-access point.
    fn reset(&mut self);
    /// The next pending event, if any.
    fn poll(&mut self) -> Option<CodecEvent>;
    /// Takes back a [`DecodeJob`] this codec gave out, once the device has
    /// queued it (the device copied what it needs: the controls into the
    /// request, the bitstream into an OUTPUT buffer). A codec keeps its
    /// storage in a [`pool::JobPool`] and builds its next jobs there, so that
    /// the steady state allocates nothing per frame. Default: drops it.
    fn recycle(&mut self, job: DecodeJob) {
        drop(job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_only_change_keeps_the_device_config() {
        let a = StreamParams {
            coded_width: 1920,
            coded_height: 1088,
            visible: (0, 0, 1920, 1080),
            bit_depth: 8,
            dpb_size: 4,
            frame_duration_ns: None,
            pixel_aspect: (1, 1),
            color: ColorDescription::default(),
        };
        let b = StreamParams {
            pixel_aspect: (4, 3),
            ..a
        };
        assert!(a.same_device_config(&b));
        assert_ne!(a, b);
        // a colour-only change (BT.2020, full range) keeps the device config too
        let d = StreamParams {
            color: ColorDescription::from_h273(9, true),
            ..a
        };
        assert!(a.same_device_config(&d));
        assert_ne!(a, d);
        assert!(!a.same_device_config(&StreamParams { bit_depth: 10, ..d }));
        let c = StreamParams {
            coded_height: 1080,
            ..b
        };
        assert!(!a.same_device_config(&c));
    }

    #[test]
    fn reduce_ratio_gcd_and_zero() {
        assert_eq!(reduce_ratio(1920, 1440), Some((4, 3)));
        assert_eq!(reduce_ratio(0, 3), None);
        assert_eq!(reduce_ratio(3, 0), None);
        let (n, d) = reduce_ratio(u64::MAX, 3).unwrap();
        assert!(n > d && d >= 1);
    }
}
