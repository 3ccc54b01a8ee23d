//! Pixel formats, plane layouts and the Y4M writer. No devices here.

pub mod convert;
pub mod y4m;

/// Pixel formats of decoded pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 8-bit 4:2:0, Y plane then interleaved CbCr (V4L2 `NV12`/`NM12`, DRM `NV12`).
    Nv12,
    /// 8-bit 4:2:0 planar Y, Cb, Cr (V4L2 `YU12`/`YM12`, DRM `YUV420`).
    Yuv420,
    /// 10-bit 4:2:0 in 16-bit words, Y then CbCr (V4L2 `P010`, DRM `P010`).
    P010,
}

impl PixelFormat {
    /// From a V4L2 fourcc (`NV12`, `NM12`, `YU12`, `YM12`, `P010`).
    pub fn from_v4l2(fourcc: [u8; 4]) -> Option<Self> {
        match &fourcc {
            b"NV12" | b"NM12" => Some(Self::Nv12),
            b"YU12" | b"YM12" => Some(Self::Yuv420),
            b"P010" => Some(Self::P010),
            _ => None,
        }
    }

    /// DRM fourcc (`drm_fourcc.h`) as its little-endian u32.
    pub fn drm_fourcc(self) -> u32 {
        let b = match self {
            Self::Nv12 => *b"NV12",
            Self::Yuv420 => *b"YU12",
            Self::P010 => *b"P010",
        };
        u32::from_le_bytes(b)
    }

    /// Number of planes (Y + chroma planes).
    pub fn planes(self) -> usize {
        match self {
            Self::Nv12 | Self::P010 => 2,
            Self::Yuv420 => 3,
        }
    }

    /// Bytes per sample.
    pub fn sample_bytes(self) -> usize {
        match self {
            Self::P010 => 2,
            _ => 1,
        }
    }
}

/// A decoded picture's pixels as CPU-visible planes (borrowed).
#[derive(Debug, Clone, Copy)]
pub struct PlanesRef<'a> {
    pub format: PixelFormat,
    /// Visible size in pixels.
    pub width: u32,
    pub height: u32,
    /// Per plane: bytes starting at the plane's first visible pixel, and its stride in bytes.
    pub planes: [(&'a [u8], usize); 3],
}
