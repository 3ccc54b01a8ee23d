//! Pixel formats, plane layouts, detilers / unpackers, the Y4M writer and
//! CPU-writable dmabufs ([`dmaheap`]). No decoders, no windows here.
//!
//! `unsafe` is allowed in [`dmaheap`]'s FFI only; the rest denies it.

#![deny(unsafe_code)]

use std::cell::RefCell;
use std::rc::Rc;

pub mod convert;
pub use convert::{ColorInfo, ColorMatrix};
pub mod detile;
#[allow(unsafe_code)] // DMA_HEAP / UDMABUF / DMA_BUF_SYNC ioctls and mmap (FFI)
pub mod dmaheap;
pub mod drm;
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
    /// 10-bit 4:2:0 packed, Y then CbCr, 4 samples in 5 bytes little-endian
    /// (sample 0 in bits 9:0, sample 1 in 19:10, …; V4L2 `NV15`
    /// "V4L2_PIX_FMT_NV15", DRM `NV15`). rkvdec's 10-bit output. Linear rows,
    /// stride in bytes.
    Nv15,
    /// 8-bit 4:2:0 in 128-byte columns (Broadcom SAND128): V4L2
    /// `V4L2_PIX_FMT_NV12_COL128` (`NC12`, raspberrypi/linux
    /// Documentation/userspace-api/media/v4l/pixfmt-nv12-col128.rst), DRM `NV12`
    /// with `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(bytesperline)`. Column
    /// `c` starts at byte `c · bytesperline · 128`; in it luma row `y` is at
    /// `y · 128`, chroma (CbCr interleaved) row `y` at `(height + y) · 128`,
    /// where `height` is the format's (allocated) luma height and
    /// `bytesperline` the column height in 128-byte lines. rpi-hevc-dec.
    Nc12,
    /// 10-bit 4:2:0 in 128-byte columns: V4L2 `V4L2_PIX_FMT_NV12_10_COL128`
    /// (`NC30`, same document), DRM `P030` + SAND128 modifier. Same column
    /// structure as [`PixelFormat::Nc12`], but 3 10-bit samples per
    /// little-endian 32-bit word (bits 9:0, 19:10, 29:20; 31:30 unused), so 96
    /// samples per column row (chroma: Cb, Cr, Cb | Cr, Cb, Cr per 8 bytes).
    Nc30,
}

impl PixelFormat {
    /// From a V4L2 fourcc (`NV12`, `NM12`, `YU12`, `YM12`, `P010`).
    pub fn from_v4l2(fourcc: [u8; 4]) -> Option<Self> {
        match &fourcc {
            b"NV12" | b"NM12" => Some(Self::Nv12),
            b"YU12" | b"YM12" => Some(Self::Yuv420),
            b"P010" => Some(Self::P010),
            b"NV15" => Some(Self::Nv15),
            b"NC12" => Some(Self::Nc12),
            b"NC30" => Some(Self::Nc30),
            _ => None,
        }
    }

    /// The V4L2 CAPTURE fourcc of this format's single-plane variant (`NV12`,
    /// `YU12`, `P010`, `NV15`, `NC12`, `NC30`; [`Self::from_v4l2`] takes
    /// these back), e.g. for [`crate::drm::drm_format`].
    pub fn v4l2_fourcc(self) -> [u8; 4] {
        match self {
            Self::Nv12 => *b"NV12",
            Self::Yuv420 => *b"YU12",
            Self::P010 => *b"P010",
            Self::Nv15 => *b"NV15",
            Self::Nc12 => *b"NC12",
            Self::Nc30 => *b"NC30",
        }
    }

    /// DRM fourcc (`drm_fourcc.h`) as its little-endian u32. The SAND128
    /// formats need their modifier besides ([`crate::drm::drm_format`]).
    pub fn drm_fourcc(self) -> u32 {
        let b = match self {
            Self::Nv12 | Self::Nc12 => *b"NV12",
            Self::Yuv420 => *b"YU12",
            Self::P010 => *b"P010",
            Self::Nv15 => *b"NV15",
            Self::Nc30 => *b"P030",
        };
        u32::from_le_bytes(b)
    }

    /// Number of planes (Y + chroma planes).
    pub fn planes(self) -> usize {
        match self {
            Self::Yuv420 => 3,
            _ => 2,
        }
    }

    /// Bytes per sample of the linear formats (NV12, YUV420: 1; P010: 2).
    /// For the packed / tiled formats: 1 (their rows are addressed in bytes
    /// only; see [`PixelFormat::is_packed_or_tiled`]).
    pub fn sample_bytes(self) -> usize {
        match self {
            Self::P010 => 2,
            _ => 1,
        }
    }

    /// Bit depth of a sample (8 or 10).
    pub fn bit_depth(self) -> u8 {
        match self {
            Self::Nv12 | Self::Yuv420 | Self::Nc12 => 8,
            Self::P010 | Self::Nv15 | Self::Nc30 => 10,
        }
    }

    /// NV15 (packed: 4 samples in 5 bytes) and NC12 / NC30 (SAND128 columns):
    /// a crop origin cannot be folded into a plane offset, and the CPU paths
    /// (Y4M, shm) unpack them first ([`crate::detile`]).
    pub fn is_packed_or_tiled(self) -> bool {
        matches!(self, Self::Nv15 | Self::Nc12 | Self::Nc30)
    }

    /// The linear format [`crate::detile`] turns this one into
    /// (NC12 → NV12, NC30 → P010, NV15 → P010); itself for linear formats.
    pub fn unpacked(self) -> PixelFormat {
        match self {
            Self::Nc12 => Self::Nv12,
            Self::Nc30 | Self::Nv15 => Self::P010,
            f => f,
        }
    }
}

/// A decoded picture's pixels as CPU-visible planes (borrowed).
///
/// Linear formats (NV12, YUV420, P010): the crop origin is folded in — each
/// plane slice starts at the first visible sample and `width` × `height` is
/// the visible size.
///
/// Packed / tiled formats ([`PixelFormat::is_packed_or_tiled`]): nothing is
/// folded — each plane slice starts at the plane's first byte (for NC12/NC30
/// plane 0 is the buffer from column 0, plane 1 the buffer from the chroma
/// offset `height_alloc · 128`, and the "stride" is the column height in
/// 128-byte lines, V4L2 `bytesperline`), and `width` × `height` is the visible
/// rectangle's right/bottom edge (`x + w`, `y + h`): unpack that much, then
/// crop.
#[derive(Debug, Clone, Copy)]
pub struct PlanesRef<'a> {
    pub format: PixelFormat,
    /// Size in pixels (see above).
    pub width: u32,
    pub height: u32,
    /// Per plane: bytes starting at the plane's first visible pixel, and its stride in bytes
    /// (NC12 / NC30: column height in 128-byte lines).
    pub planes: [(&'a [u8], usize); 3],
}

/// The CAPTURE format the device chose for the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFormat {
    pub pixel_format: PixelFormat,
    /// Allocated size in pixels (≥ visible size).
    pub width: u32,
    pub height: u32,
    /// One entry per picture plane (Y, then CbCr or Cb and Cr): which memory
    /// plane holds it, at which byte offset, with which stride ([`plane_layout`]).
    pub planes: Vec<PlaneLayout>,
}

/// One plane's layout inside a CAPTURE buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneLayout {
    /// Index of the V4L2 memory plane (dmabuf) holding this plane.
    pub memory_plane: usize,
    /// Byte offset of the plane inside that memory plane.
    pub offset: usize,
    /// Bytes per line.
    pub stride: usize,
}

/// How the CAPTURE planes of `fourcc` sit in its memory planes, from the
/// negotiated `bytesperline` (per memory plane) and allocated `height`.
///
/// `fourcc` is the V4L2 CAPTURE pixel format (`pixelformat` of
/// `v4l2_pix_format(_mplane)`), `bytesperline` holds one value in bytes per
/// memory plane (missing ones read as 0), `height` is in pixel rows. Returns
/// one [`PlaneLayout`] per picture plane (Y first; 2 or 3, as
/// [`PixelFormat::planes`]).
///
/// Layouts per uAPI "pixfmt-yuv-planar": NV12 (Y then CbCr in one buffer),
/// NM12 (two buffers), YU12 (Y, Cb, Cr in one buffer, chroma stride half),
/// YM12 (three buffers), P010 (like NV12 with 16-bit samples), NV15 (like
/// NV12, 4 10-bit samples in 5 bytes: `bytesperline` ≥ ceil(width · 10 / 8);
/// rkvdec fills it with `v4l2_fill_pixfmt_mp`, chroma right after the luma).
///
/// The SAND128 formats NC12 / NC30 (raspberrypi/linux
/// `pixfmt-nv12-col128.rst`) are one memory plane of 128-byte columns;
/// their `bytesperline` is the **column height in 128-byte lines**
/// (hevc_d_video.c `hevc_d_prepare_dst_format`: "For column formats set
/// bytesperline to column height", at least `height · 3 / 2`), and the
/// chroma rows of each column start at line `height` (rpivid_h265.c /
/// hevc_d_h265.c: `frame_c_offset = dst_fmt.height * 128`). So plane 0 is at
/// byte 0, plane 1 at `height · 128`, and both "strides" are the column
/// height (see [`PlanesRef`]). `None` for an unknown fourcc or
/// a SAND128 column height below `height · 3 / 2`.
pub fn plane_layout(
    fourcc: [u8; 4],
    bytesperline: &[u32],
    height: u32,
) -> Option<Vec<PlaneLayout>> {
    let bpl = |i: usize| bytesperline.get(i).copied().unwrap_or(0) as usize;
    let h = height as usize;
    let p = |memory_plane, offset, stride| PlaneLayout {
        memory_plane,
        offset,
        stride,
    };
    Some(match &fourcc {
        b"NV12" | b"P010" | b"NV15" => vec![p(0, 0, bpl(0)), p(0, bpl(0) * h, bpl(0))],
        b"NC12" | b"NC30" => {
            if bpl(0) < h + h.div_ceil(2) {
                return None;
            }
            vec![p(0, 0, bpl(0)), p(0, h * 128, bpl(0))]
        }
        b"NM12" => vec![p(0, 0, bpl(0)), p(1, 0, bpl(1))],
        b"YU12" => {
            let c = bpl(0) / 2;
            vec![
                p(0, 0, bpl(0)),
                p(0, bpl(0) * h, c),
                p(0, bpl(0) * h + c * h.div_ceil(2), c),
            ]
        }
        b"YM12" => vec![p(0, 0, bpl(0)), p(1, 0, bpl(1)), p(2, 0, bpl(2))],
        _ => return None,
    })
}

/// A decoded picture in display order. Dropping it gives its CAPTURE buffer
/// back to the decoder (after the codec no longer references it).
#[derive(Debug)]
pub struct DecodedFrame {
    /// Presentation time in ns.
    pub pts_ns: i64,
    /// CAPTURE buffer index (`vreq_v4l2::Completed::capture_index`: unique
    /// across configurations). Two frames share it when the codec output one
    /// picture twice (VP9 `show_existing_frame`).
    pub capture_index: usize,
    /// Configuration generation: bumps on every (re)configuration, so a
    /// presenter can tell when its per-buffer wrappers are stale.
    pub generation: u64,
    /// The CAPTURE format of this frame's buffer.
    pub format: Rc<CaptureFormat>,
    /// Visible rectangle in pixels: x, y, width, height.
    pub visible: (u32, u32, u32, u32),
    /// Pixel aspect ratio (sample aspect ratio) as width : height, (1, 1) for
    /// square pixels: a `w`-pixel-wide picture is shown `w · par.0 / par.1`
    /// wide. From the bitstream (H.264 / HEVC VUI `aspect_ratio_idc`,
    /// `sar_width` / `sar_height`; MPEG-2 `aspect_ratio_information`; VP9
    /// render size): the `vreq_core::StreamParams::pixel_aspect` in effect when the
    /// picture was queued (a PAR-only change reconfigures nothing). The
    /// player replaces it (and narrows `visible`) with the container's when
    /// the container states one (`vreq_container::display_geometry`).
    pub pixel_aspect: (u32, u32),
    /// Y′CbCr matrix and range to show the picture with: the stream's colour
    /// description (H.264 / HEVC VUI `matrix_coefficients` and
    /// `video_full_range_flag`, MPEG-2 `sequence_display_extension`, VP9
    /// `color_space` / `color_range`, VP8 BT.601 limited: the
    /// `vreq_core::StreamParams::color` in effect when the picture was queued,
    /// a colour-only change reconfiguring nothing), else
    /// [`ColorInfo::from_height`] of the visible height.
    pub color: ColorInfo,
    /// Held for its `Drop`: gives the buffer back to the engine.
    pub release: BufferReturn,
}

/// Gives a frame's buffer back when dropped: pushes `(generation, index)`
/// onto the queue its maker (the engine) drains before it touches the device.
#[derive(Debug)]
pub struct BufferReturn {
    index: usize,
    generation: u64,
    returned: Rc<RefCell<Vec<(u64, usize)>>>,
}

impl BufferReturn {
    /// A return of buffer `index` of configuration `generation` onto `queue`.
    pub fn new(queue: &Rc<RefCell<Vec<(u64, usize)>>>, generation: u64, index: usize) -> Self {
        BufferReturn {
            index,
            generation,
            returned: Rc::clone(queue),
        }
    }
}

impl Drop for BufferReturn {
    fn drop(&mut self) {
        self.returned
            .borrow_mut()
            .push((self.generation, self.index));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4l2_fourcc_is_what_from_v4l2_reads() {
        use PixelFormat::*;
        for pf in [Nv12, Yuv420, P010, Nv15, Nc12, Nc30] {
            assert_eq!(PixelFormat::from_v4l2(pf.v4l2_fourcc()), Some(pf), "{pf:?}");
        }
        assert_eq!(Yuv420.v4l2_fourcc(), *b"YU12");
    }

    #[test]
    fn layouts() {
        let nv12 = plane_layout(*b"NV12", &[320], 240).unwrap();
        assert_eq!(
            nv12[1],
            PlaneLayout {
                memory_plane: 0,
                offset: 320 * 240,
                stride: 320
            }
        );
        let yu12 = plane_layout(*b"YU12", &[320], 240).unwrap();
        assert_eq!(yu12[1].offset, 320 * 240);
        assert_eq!(yu12[2].offset, 320 * 240 + 160 * 120);
        assert_eq!(yu12[2].stride, 160);
        let nm12 = plane_layout(*b"NM12", &[320, 320], 240).unwrap();
        assert_eq!(
            nm12[1],
            PlaneLayout {
                memory_plane: 1,
                offset: 0,
                stride: 320
            }
        );
        // NC12 / NC30: one memory plane, chroma at height · 128, "stride" =
        // column height (bytesperline); a column shorter than 1.5 × height is refused.
        assert!(plane_layout(*b"NC12", &[128], 240).is_none());
        for f in [*b"NC12", *b"NC30"] {
            let l = plane_layout(f, &[1632], 1088).unwrap();
            assert_eq!(
                l,
                vec![
                    PlaneLayout {
                        memory_plane: 0,
                        offset: 0,
                        stride: 1632
                    },
                    PlaneLayout {
                        memory_plane: 0,
                        offset: 1088 * 128,
                        stride: 1632
                    }
                ]
            );
        }
        assert!(plane_layout(*b"NC30", &[1631], 1088).is_none());
        // NV15: like NV12; 1920 samples = 2400 bytes per row.
        let nv15 = plane_layout(*b"NV15", &[2400], 1088).unwrap();
        assert_eq!(nv15[1].offset, 2400 * 1088);
        assert_eq!(nv15[1].stride, 2400);
    }
}
