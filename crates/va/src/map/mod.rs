//! VA-API parameter buffers → V4L2 stateless uAPI controls, one module per
//! codec, each a [`CodecMap`]. VA structs and slice bytes in,
//! [`vreq_core::DecodeJob`]s out; no device, no driver state beyond what
//! the codec carries from picture to picture (the SPS the device already
//! has, what earlier slices told of the PPS). Surfaces are named by the
//! OUTPUT timestamp of the picture last rendered into them
//! (`reference_ts`, uAPI "ext-ctrls-codec-stateless"), which the caller
//! passes as a lookup ([`MapContext::timestamp_of`]).
//!
//! A codec module exposes `pub struct <Codec>Map` implementing
//! [`CodecMap`]; [`for_profile`] picks it by `VAProfile`.

use vreq_core::{CodecKind, DecodeJob, DecodeMode, StartCode};

use crate::profiles;
use crate::status::*;
use crate::sys::{self, VABufferType, VAProfile, VASurfaceID};

pub mod h264;
pub mod hevc;
pub mod mpeg2;
pub mod vp8;
pub mod vp9;

/// The buffers of one picture as the client rendered them between
/// `vaBeginPicture` and `vaEndPicture` (crate::picture keeps the bytes).
/// Each slice parameter element comes with the bytes of the slice data
/// buffer rendered after it (VA clients render parameters, then data).
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a> {
    /// `VAPictureParameterBufferType`: the last one rendered.
    pub pic_params: &'a [u8],
    /// `VAIQMatrixBufferType` (IQ matrix / quantisation), if rendered.
    pub iq: Option<&'a [u8]>,
    /// `VAProbabilityBufferType` (VP8's coefficient probabilities), if rendered.
    pub probability: Option<&'a [u8]>,
    /// `VASliceParameterBufferType` elements, one per slice, in order.
    pub slices: &'a [RenderedSlice<'a>],
}

/// One slice parameter element and its slice data buffer.
#[derive(Debug, Clone, Copy)]
pub struct RenderedSlice<'a> {
    /// The element's bytes (`vaCreateBuffer`'s `size`).
    pub params: &'a [u8],
    /// The whole slice data buffer (the element's `slice_data_offset` /
    /// `slice_data_size` select its slice).
    pub data: &'a [u8],
}

/// What the mapper needs to know besides the buffers.
pub struct MapContext<'a> {
    /// The config's profile.
    pub profile: VAProfile,
    /// The device's decode mode and start code (`V4L2_CID_STATELESS_*_DECODE_MODE`,
    /// `_START_CODE`).
    pub mode: DecodeMode,
    pub start_code: StartCode,
    /// The OUTPUT timestamp of this picture's requests, ns.
    pub timestamp_ns: u64,
    /// The OUTPUT timestamp of the picture last rendered into a surface
    /// (`None`: never rendered in this context).
    pub timestamp_of: &'a dyn Fn(VASurfaceID) -> Option<u64>,
    /// Whether the device has control `id` (`V4L2_CID_*`, probed at open:
    /// `vreq_v4l2::DecoderDevice::has_control`), for optional controls
    /// (HEVC SCALING_MATRIX, ENTRY_POINT_OFFSETS, the RK3588 EXT_SPS arrays).
    pub has_control: &'a dyn Fn(u32) -> bool,
}

/// What the picture needs of the device's CAPTURE queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureFormat {
    /// Coded size, pixels (the CAPTURE format's width and height).
    pub coded_width: u32,
    pub coded_height: u32,
    /// Luma bit depth (8 or 10).
    pub bit_depth: u8,
    /// Frames the codec may reference plus the current one (H.264
    /// `num_ref_frames` + 1, VP8 4, VP9 9, MPEG-2 3); the decoder adds the
    /// context's render targets.
    pub dpb_size: u32,
}

/// One picture mapped: its format and its requests.
#[derive(Debug)]
pub struct Mapped {
    pub format: PictureFormat,
    /// The requests, in order: one per slice (slice-based devices) or one
    /// (frame-based); `hold_capture` on all but the last.
    pub jobs: Vec<DecodeJob>,
}

/// Why a picture's buffers do not make requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// No (or a short) `VAPictureParameterBufferType` buffer.
    PictureParameters,
    /// No slice was rendered.
    NoSlices,
    /// Slice `n`'s parameters are short, its data range (`slice_data_offset`,
    /// `slice_data_size`) is outside its data buffer, or `slice_data_flag`
    /// is not `VA_SLICE_DATA_FLAG_ALL` (partial slices are not supported).
    SliceData(usize),
    /// Slice `n`'s header does not read (the reason).
    Header(usize, String),
    /// The picture is valid VA but cannot be expressed in the uAPI controls
    /// (the reason), e.g. a value past a uAPI array.
    Unsupported(String),
}

impl std::fmt::Display for MapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapError::PictureParameters => write!(f, "no or short picture parameter buffer"),
            MapError::NoSlices => write!(f, "no slice rendered"),
            MapError::SliceData(n) => write!(f, "slice {n}: parameters or data out of range"),
            MapError::Header(n, why) => write!(f, "slice {n}: header: {why}"),
            MapError::Unsupported(why) => write!(f, "unsupported: {why}"),
        }
    }
}

/// One codec's VA → uAPI mapping, one per context.
pub trait CodecMap {
    /// The codec (the device session is opened for it).
    fn kind(&self) -> CodecKind;

    /// The VA structs of the buffer types the codec takes.
    fn buffers(&self) -> BufferStructs;

    /// `vaRenderPicture` of one buffer (a slice parameter buffer: one
    /// element of it): `Err(VA_STATUS_ERROR_INVALID_PARAMETER)` when shorter
    /// than its struct ([`CodecMap::buffers`]),
    /// `Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE)` for a type the codec has
    /// no use for. Slice data buffers are taken whatever their size.
    fn check(&self, type_: VABufferType, element: &[u8]) -> Result<(), VAStatus> {
        let b = self.buffers();
        let size = match type_ {
            sys::VAPictureParameterBufferType => Some(b.picture),
            sys::VAIQMatrixBufferType => b.iq_matrix,
            sys::VAProbabilityBufferType => b.probability,
            sys::VASliceParameterBufferType => Some(b.slice),
            sys::VASliceDataBufferType => Some(0),
            _ => None,
        };
        match size {
            None => Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE),
            Some(n) if element.len() < n => Err(VA_STATUS_ERROR_INVALID_PARAMETER),
            Some(_) => Ok(()),
        }
    }

    /// The requests of one picture (`vaEndPicture`). On `Err` nothing is
    /// queued and the mapper's state is unchanged.
    fn map(&mut self, pic: &Rendered<'_>, cx: &MapContext<'_>) -> Result<Mapped, MapError>;
}

/// The mapper for a listed profile's codec (every codec is mapped; `None`
/// for a profile the driver does not list).
pub fn for_profile(profile: VAProfile) -> Option<Box<dyn CodecMap>> {
    match profiles::info(profile)?.codec {
        CodecKind::H264 => Some(Box::new(h264::H264Map::default())),
        CodecKind::Mpeg2 => Some(Box::new(mpeg2::Mpeg2Map::default())),
        CodecKind::Vp8 => Some(Box::new(vp8::Vp8Map::default())),
        CodecKind::Hevc => Some(Box::new(hevc::HevcMap::default())),
        CodecKind::Vp9 => Some(Box::new(vp9::Vp9Map::default())),
    }
}

/// The sizes in bytes of a codec's VA buffer structs (`size_of` of the
/// `va/va*.h` struct of each buffer type); `None`: the codec takes no buffer
/// of that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferStructs {
    /// `VAPictureParameterBufferType`.
    pub picture: usize,
    /// `VAIQMatrixBufferType`.
    pub iq_matrix: Option<usize>,
    /// `VAProbabilityBufferType`.
    pub probability: Option<usize>,
    /// One element of a `VASliceParameterBufferType` buffer.
    pub slice: usize,
}
