//! `vaExportSurfaceHandle` (libva va.h, va_drmcommon.h): a surface's
//! picture as DRM PRIME dmabufs, `VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2` →
//! `VADRMPRIMESurfaceDescriptor`. Other memory types:
//! `VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE`.
//!
//! **What is exported.** A surface is bound to a CAPTURE buffer only once a
//! picture is decoded into it (the device picks the buffer): the descriptor
//! names the dmabufs of the CAPTURE buffer holding the surface's last
//! decoded picture (`DecoderDevice::capture_dmabufs`, V4L2 `VIDIOC_EXPBUF`,
//! one per memory plane), each **dup()ed** (`F_DUPFD_CLOEXEC`): the client
//! owns and closes them (va.h). `objects[i].size` is the memory plane's
//! mapped length. A surface whose picture is still in flight is waited for
//! first (va.h says export does not synchronise, but until the device
//! returns the picture there is no buffer to name; Qt and others export
//! before `vaSyncSurface`). So:
//! * mpv (`video/out/hwdec/hwdec_vaapi.c`), Firefox
//!   (`widget/gtk/DMABufSurface.cpp`), Qt, FFmpeg's `hwmap` to DRM export
//!   after decoding, per frame — served;
//! * a surface with **no decoded picture** has no CAPTURE buffer. Clients
//!   probe export on fresh surfaces: mpv (`hwdec_vaapi.c`
//!   `determine_working_formats`: a 128 × 128 surface per format, exported
//!   READ_ONLY | SEPARATE_LAYERS and imported, before any decode; a format
//!   whose export fails is dropped, and without one hwdec fails), GStreamer's
//!   va DMABuf allocator (gstvaallocator.c
//!   `_va_create_surface_and_export_to_dmabuf`, but with `READ_WRITE`, which
//!   is refused below). For such a surface the export is a **placeholder**:
//!   a fresh zeroed linear buffer of the surface's format and size (NV12 /
//!   P010, pitch `width · bytes` rounded up to 64, chroma right after the
//!   luma rows; whole 4 KiB pages; at most [`crate::buffer::MAX_IMAGE_BYTES`]) from
//!   `/dev/dma_heap/system` (`DMA_HEAP_IOCTL_ALLOC`; the node is root-only
//!   without a udev rule). It tells a prober the layout and that the import
//!   works; it never shows a picture (pictures go to the device's CAPTURE
//!   buffers: export again after decoding). No heap (or a larger surface):
//!   `VA_STATUS_ERROR_INVALID_SURFACE` (va.h: "the surface is not exportable
//!   in the specified way"). A later picture in the same surface may be in
//!   another CAPTURE buffer, so exported fds must not be cached per surface.
//!
//! **Formats** — the same facts the player hands to its compositor
//! (`vreq_frame::drm::drm_format`; pitches as the player's
//! `vreq_present::wayland::dmabuf::dmabuf_planes`):
//!
//! | CAPTURE | composed layer | modifier | separate layers |
//! |---|---|---|---|
//! | NV12 / NM12 | `NV12`, 2 planes | `DRM_FORMAT_MOD_LINEAR` | `R8` + `GR88` |
//! | P010 | `P010`, 2 planes | linear | `R16` + `GR1616` |
//! | YUV420 (YU12 / YM12) | `YU12`, 3 planes | linear | refused |
//! | NV15 | `NV15`, 2 planes | linear | refused |
//! | NC12 (SAND128) | `NV12`, pitch = width | `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(bytesperline)` | refused |
//! | NC30 (SAND128) | `P030`, pitch = 2 · width | the same | refused |
//!
//! The separate-layer formats are mesa's and intel's (`GR88`: byte 0 = Cb
//! in R, byte 1 = Cr in G; drm_fourcc.h). A packed / tiled plane has no
//! single-plane DRM format, so `VA_EXPORT_SURFACE_SEPARATE_LAYERS` of one is
//! `VA_STATUS_ERROR_INVALID_SURFACE`. Without `COMPOSED_LAYERS` the layers
//! are separate (as mesa's `vlVaExportSurfaceHandle`). The descriptor's
//! `fourcc` is the surface's VA fourcc (NV12 / P010: Firefox's
//! `FFmpegVideoFramePool.cpp` `GetVideoFrameSurface` takes only NV12, YV12,
//! P010, P016),
//! `width` × `height` the surface's size; planes start at the CAPTURE
//! buffer's (0, 0) (the visible picture is the surface's top-left).
//!
//! **Flags.** `VA_EXPORT_SURFACE_WRITE_ONLY` (also in `READ_WRITE`) is
//! refused with `VA_STATUS_ERROR_INVALID_SURFACE`: the buffer is the
//! decoder's, which may still read it as a reference. Read-only exports
//! (with or without `VA_EXPORT_SURFACE_READ_ONLY`) are served.

use std::os::fd::OwnedFd;

use vreq_frame::drm::{self, DRM_MOD_LINEAR};
use vreq_frame::{CaptureFormat, PixelFormat};

use crate::buffer::MAX_IMAGE_BYTES;
use crate::driver::Driver;
use crate::status::*;
use crate::sys::{self, VASurfaceID};

/// Most objects / layers / planes per layer a `VADRMPRIMESurfaceDescriptor`
/// holds (va_drmcommon.h: `objects[4]`, `layers[4]`, 4 planes each).
pub const MAX_DESCRIPTOR_ENTRIES: usize = 4;

/// `DRM_FORMAT_R8` (drm_fourcc.h `fourcc_code('R', '8', ' ', ' ')`).
pub const DRM_FORMAT_R8: u32 = u32::from_le_bytes(*b"R8  ");
/// `DRM_FORMAT_GR88` (`'G', 'R', '8', '8'`: `[15:0] G:R` little endian).
pub const DRM_FORMAT_GR88: u32 = u32::from_le_bytes(*b"GR88");
/// `DRM_FORMAT_R16` (`'R', '1', '6', ' '`).
pub const DRM_FORMAT_R16: u32 = u32::from_le_bytes(*b"R16 ");
/// `DRM_FORMAT_GR1616` (`'G', 'R', '3', '2'`: `[31:0] G:R 16:16` little endian).
pub const DRM_FORMAT_GR1616: u32 = u32::from_le_bytes(*b"GR32");

/// Allocates a zeroed dmabuf of the given bytes (the placeholder of a
/// surface without a picture): `/dev/dma_heap/system` in the driver, files
/// in tests.
pub type Allocator = fn(usize) -> Result<OwnedFd, String>;

/// The linear layout of the placeholder of a `width` × `height` surface of
/// `fourcc` (NV12 / P010): pitch `width · bytes per sample` rounded up to 64
/// bytes, CbCr at `pitch · height`; and its size in bytes
/// (`pitch · (height + ceil(height / 2))`). `None` past
/// [`MAX_IMAGE_BYTES`] or for another fourcc.
pub fn placeholder_format(fourcc: u32, width: u32, height: u32) -> Option<(CaptureFormat, usize)> {
    let (pf, v4l2, sb) = match fourcc {
        sys::VA_FOURCC_NV12 => (PixelFormat::Nv12, *b"NV12", 1u64),
        sys::VA_FOURCC_P010 => (PixelFormat::P010, *b"P010", 2),
        _ => return None,
    };
    let pitch = (u64::from(width) * sb).next_multiple_of(64);
    let size = pitch * (u64::from(height) + u64::from(height.div_ceil(2)));
    if size > MAX_IMAGE_BYTES {
        return None;
    }
    let planes = vreq_frame::plane_layout(v4l2, &[pitch as u32], height)?;
    let fmt = CaptureFormat {
        pixel_format: pf,
        width,
        height,
        planes,
    };
    Some((fmt, size as usize))
}

/// One plane of a layer: which object holds it, byte offset, pitch in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrmPlane {
    pub object_index: u32,
    pub offset: u32,
    pub pitch: u32,
}

/// One layer: a DRM format and its planes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrmLayer {
    pub drm_format: u32,
    pub planes: Vec<DrmPlane>,
}

/// One exported object: a dup()ed dmabuf, its size in bytes, its modifier.
#[derive(Debug)]
pub struct DrmObject {
    pub fd: OwnedFd,
    pub size: u32,
    pub drm_format_modifier: u64,
}

/// What `vaExportSurfaceHandle` fills a `VADRMPRIMESurfaceDescriptor` with.
#[derive(Debug)]
pub struct PrimeDescriptor {
    /// The surface's VA fourcc (`VA_FOURCC_NV12` / `_P010`).
    pub fourcc: u32,
    /// The surface's size in pixels.
    pub width: u32,
    pub height: u32,
    pub objects: Vec<DrmObject>,
    pub layers: Vec<DrmLayer>,
}

/// The layers (composed: one; separate: one per plane) and the modifier of
/// a CAPTURE buffer of `fmt` (module table). Errors:
/// `VA_STATUS_ERROR_INVALID_SURFACE` for separate layers of a packed / tiled
/// or 3-plane format; `VA_STATUS_ERROR_OPERATION_FAILED` for a layout that
/// does not describe the format's planes or does not fit the descriptor.
pub fn layers_of(fmt: &CaptureFormat, composed: bool) -> Result<(u64, Vec<DrmLayer>), VAStatus> {
    let pf = fmt.pixel_format;
    let n = pf.planes();
    if fmt.planes.len() < n {
        return Err(VA_STATUS_ERROR_OPERATION_FAILED);
    }
    let stride0 =
        u32::try_from(fmt.planes[0].stride).map_err(|_| VA_STATUS_ERROR_OPERATION_FAILED)?;
    let (drm_fourcc, modifier) =
        drm::drm_format(pf.v4l2_fourcc(), stride0).ok_or(VA_STATUS_ERROR_OPERATION_FAILED)?;
    // SAND128: the column height travels in the modifier; DRM wants pitch =
    // width · cpp (drm_fourcc.h, above DRM_FORMAT_MOD_BROADCOM_SAND32_COL_HEIGHT);
    // P030 as FFmpeg-rpi's v4l2_request_hevc.c `drm_from_format` sets it.
    let sand_pitch = match pf {
        PixelFormat::Nc12 => Some(fmt.width as usize),
        PixelFormat::Nc30 => Some(fmt.width as usize * 2),
        _ => None,
    };
    let mut planes = Vec::with_capacity(n);
    for pl in &fmt.planes[..n] {
        if pl.memory_plane >= MAX_DESCRIPTOR_ENTRIES {
            return Err(VA_STATUS_ERROR_OPERATION_FAILED);
        }
        let as_u32 = |v: usize| u32::try_from(v).map_err(|_| VA_STATUS_ERROR_OPERATION_FAILED);
        planes.push(DrmPlane {
            object_index: pl.memory_plane as u32,
            offset: as_u32(pl.offset)?,
            pitch: as_u32(sand_pitch.unwrap_or(pl.stride))?,
        });
    }
    if composed {
        return Ok((
            modifier,
            vec![DrmLayer {
                drm_format: drm_fourcc,
                planes,
            }],
        ));
    }
    let formats = match pf {
        PixelFormat::Nv12 => [DRM_FORMAT_R8, DRM_FORMAT_GR88],
        PixelFormat::P010 => [DRM_FORMAT_R16, DRM_FORMAT_GR1616],
        _ => {
            tracing::debug!(
                "vaExportSurfaceHandle: {pf:?} has no separate-layer DRM formats \
                 (VA_STATUS_ERROR_INVALID_SURFACE; ask for COMPOSED_LAYERS)"
            );
            return Err(VA_STATUS_ERROR_INVALID_SURFACE);
        }
    };
    debug_assert_eq!(modifier, DRM_MOD_LINEAR);
    let layers = formats
        .iter()
        .zip(planes)
        .map(|(&drm_format, p)| DrmLayer {
            drm_format,
            planes: vec![p],
        })
        .collect();
    Ok((modifier, layers))
}

impl Driver {
    /// `vaExportSurfaceHandle` with `VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2`
    /// (module docs). Waits for the surface's picture first. Errors: another
    /// memory type → `VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE`; a bad
    /// surface, a write export, separate layers of a packed / tiled format,
    /// a surface without a picture whose placeholder cannot be allocated →
    /// `VA_STATUS_ERROR_INVALID_SURFACE`;
    /// a picture the device flagged → `VA_STATUS_ERROR_DECODING_ERROR`; no
    /// dmabuf from the device, or dup() failed → `VA_STATUS_ERROR_OPERATION_FAILED`.
    pub fn export_surface_handle(
        &mut self,
        surface: VASurfaceID,
        mem_type: u32,
        flags: u32,
    ) -> Result<PrimeDescriptor, VAStatus> {
        let s = self.surface(surface)?;
        let (fourcc, width, height) = (s.fourcc, s.width, s.height);
        if mem_type != sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2 {
            return Err(VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE);
        }
        if flags & sys::VA_EXPORT_SURFACE_WRITE_ONLY != 0 {
            tracing::debug!(
                "vaExportSurfaceHandle: write export refused: the surface is the \
                 decoder's CAPTURE buffer (VA_STATUS_ERROR_INVALID_SURFACE)"
            );
            return Err(VA_STATUS_ERROR_INVALID_SURFACE);
        }
        let composed = flags & sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS != 0;
        self.sync_surface(surface)?;
        let Some((frame, device)) = self.picture_of(surface) else {
            return self.export_placeholder(surface, fourcc, width, height, composed);
        };
        let (modifier, layers) = layers_of(&frame.format, composed)?;
        let used = layers
            .iter()
            .flat_map(|l| &l.planes)
            .map(|p| p.object_index as usize + 1)
            .max()
            .unwrap_or(0);
        // The dmabufs and their sizes (QUERYBUF's `length`): an export maps
        // nothing into this process (the client imports or maps the fds).
        let fds = device.capture_dmabufs(frame.capture_index);
        let lengths = device.capture_plane_lengths(frame.capture_index);
        if fds.len() < used || lengths.len() < used {
            tracing::error!(
                "vaExportSurfaceHandle: CAPTURE buffer {} has {} dmabufs / {} plane lengths, {used} needed",
                frame.capture_index,
                fds.len(),
                lengths.len()
            );
            return Err(VA_STATUS_ERROR_OPERATION_FAILED);
        }
        let mut objects = Vec::with_capacity(used);
        for (fd, &length) in fds.iter().zip(&lengths).take(used) {
            let fd = fd.try_clone_to_owned().map_err(|e| {
                tracing::error!("vaExportSurfaceHandle: dup of a CAPTURE dmabuf: {e}");
                VA_STATUS_ERROR_OPERATION_FAILED
            })?;
            objects.push(DrmObject {
                fd,
                size: u32::try_from(length).map_err(|_| VA_STATUS_ERROR_OPERATION_FAILED)?,
                drm_format_modifier: modifier,
            });
        }
        Ok(PrimeDescriptor {
            fourcc,
            width,
            height,
            objects,
            layers,
        })
    }

    /// The placeholder export of a surface without a decoded picture
    /// (module docs); `VA_STATUS_ERROR_INVALID_SURFACE` when it cannot be made.
    fn export_placeholder(
        &self,
        surface: VASurfaceID,
        fourcc: u32,
        width: u32,
        height: u32,
        composed: bool,
    ) -> Result<PrimeDescriptor, VAStatus> {
        let Some((fmt, size)) = placeholder_format(fourcc, width, height) else {
            return Err(VA_STATUS_ERROR_INVALID_SURFACE);
        };
        let (modifier, layers) = layers_of(&fmt, composed)?;
        // The heap allocates whole pages (dma-heap.c `PAGE_ALIGN(len)`):
        // ask for them, and report the dmabuf's real size.
        let size = size.next_multiple_of(4096);
        let fd = (self.placeholder)(size).map_err(|e| {
            tracing::debug!(
                "vaExportSurfaceHandle: surface {surface:#x} holds no decoded picture and \
                 its placeholder was not allocated: {e} (VA_STATUS_ERROR_INVALID_SURFACE)"
            );
            VA_STATUS_ERROR_INVALID_SURFACE
        })?;
        Ok(PrimeDescriptor {
            fourcc,
            width,
            height,
            objects: vec![DrmObject {
                fd,
                size: size as u32,
                drm_format_modifier: modifier,
            }],
            layers,
        })
    }
}

#[cfg(test)]
mod tests;
