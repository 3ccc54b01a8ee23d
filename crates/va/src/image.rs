//! VA images: `vaCreateImage`, `vaDestroyImage`, `vaDeriveImage` and
//! `vaGetImage` (libva va.h, "Images"). `vaPutImage` is not implemented
//! (`VA_STATUS_ERROR_UNIMPLEMENTED`): surfaces are the decoder's CAPTURE
//! buffers and are written by the decoder only.
//!
//! An image is NV12 or P010 (the formats `vaQueryImageFormats` lists), its
//! pixels in one `VAImageBufferType` buffer ([`crate::buffer::Buffer::image`],
//! mapped with `vaMapBuffer`) laid out as libva's `VAImage` describes:
//! plane 0 (Y) at `offsets[0]` = 0, plane 1 (CbCr interleaved) at
//! `offsets[1]`, each row `pitches[i]` bytes apart ([`image_layout`]).
//! Image buffers count against the buffer caps
//! ([`crate::buffer::MAX_LIVE_BUFFERS`], [`crate::buffer::MAX_LIVE_BUFFER_BYTES`])
//! and are at most [`crate::buffer::MAX_IMAGE_BYTES`] each.
//!
//! **A surface's pixels** are those of the CAPTURE buffer holding its last
//! decoded picture ([`crate::decode::Decoder::frame`]) from (0, 0): the whole
//! allocated CAPTURE picture, so the rows a coded size adds below the visible
//! ones (1088 for 1080) read as the device decoded them. Linear CAPTURE
//! formats (NV12, P010, YUV420) are copied; packed / tiled ones (NV15,
//! SAND128 NC12 / NC30) are first unpacked on the CPU by the frame crate
//! (`vreq_frame::convert::LinearFrame`, [`vreq_frame::detile`]); 8 ↔ 10
//! bits convert by shifting (P010 holds the sample in bits 15..6; 8-bit `v`
//! ↔ P010 word `v << 8`). Where the surface is larger than the CAPTURE
//! picture, and for a surface that holds **no decoded picture** (never
//! decoded, or its context destroyed), `vaGetImage` writes black (Y 16,
//! Cb / Cr 128; P010 64 / 512): the surface has no memory of its own.
//!
//! **`vaDeriveImage`** gives a *copy* of the surface's picture taken at the
//! call (our surfaces have no CPU-mappable memory of their own: the CAPTURE
//! buffer changes from picture to picture and may be tiled), so writes into a
//! derived image do not reach the surface. On a surface with no decoded
//! picture it fails with `VA_STATUS_ERROR_OPERATION_FAILED` (va.h: "When
//! the operation is not possible this interface will return
//! VA_STATUS_ERROR_OPERATION_FAILED"): FFmpeg (libavutil/hwcontext_vaapi.c
//! `vaapi_frames_init`) and GStreamer test vaDeriveImage on a fresh surface
//! and, when it fails, read with `vaCreateImage` + `vaGetImage` and write
//! with `vaPutImage` instead — so an upload never goes silently into a copy.
//! FFmpeg downloads (`av_hwframe_transfer_data`, `hwdownload`) use
//! `vaCreateImage` + `vaGetImage` anyway (`vaapi_map_frame` derives only for
//! direct or write mappings). `vaGetImage` on a surface with a live derived
//! image is `VA_STATUS_ERROR_SURFACE_BUSY` (va.h `vaDeriveImage`).
//!
//! Both `vaDeriveImage` and `vaGetImage` wait for the surface's picture
//! first (`vaSyncSurface`) and give `VA_STATUS_ERROR_DECODING_ERROR` for a
//! picture the device flagged bad.

use vreq_frame::convert::LinearFrame;
use vreq_frame::{DecodedFrame, PixelFormat, PlanesRef};
use vreq_v4l2::DecoderDevice;

use crate::buffer::{self, Buffer};
use crate::driver::{heap_full, Driver};
use crate::status::*;
use crate::surface::{
    ImageFormat, FOURCC_NV12, FOURCC_P010, IMAGE_NV12, IMAGE_P010, SURFACE_DIM_CAP, SURFACE_DIM_MIN,
};
use crate::sys::{VABufferID, VAImageID, VASurfaceID};

/// Live images at most (each has a buffer, so the buffer cap binds first).
pub const MAX_LIVE_IMAGES: usize = buffer::MAX_LIVE_BUFFERS;

/// Black luma as an MSB-aligned 16-bit word: 8-bit 16 (`16 << 8`), which is
/// also P010's 10-bit 64 (`64 << 6`) (BT.709 limited range).
const BLACK_Y: u16 = 16 << 8;
/// Black (neutral) chroma: 8-bit 128, 10-bit 512, as MSB-aligned words.
const BLACK_C: u16 = 128 << 8;

/// Where an image's planes sit in its buffer (libva va.h `VAImage`:
/// `data_size`, `num_planes`, `pitches`, `offsets`, bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLayout {
    /// Size in pixels.
    pub width: u32,
    pub height: u32,
    /// Bytes of the whole buffer.
    pub data_size: u32,
    /// 2: Y, CbCr.
    pub num_planes: u32,
    /// Bytes per row of each plane.
    pub pitches: [u32; 3],
    /// Byte offset of each plane in the buffer.
    pub offsets: [u32; 3],
}

/// The layout of a `width` × `height` image of `fourcc` (NV12 or P010):
/// both planes with pitch `ceil(width / 2) · 2 · bytes per sample` (one
/// row of Y samples, or of `ceil(width / 2)` CbCr pairs), Y at 0 with
/// `height` rows, CbCr right after with `ceil(height / 2)` rows.
///
/// Errors: another fourcc → `VA_STATUS_ERROR_INVALID_IMAGE_FORMAT`; a side
/// outside 1 ..= [`SURFACE_DIM_CAP`] → `VA_STATUS_ERROR_INVALID_PARAMETER`;
/// more than [`buffer::MAX_IMAGE_BYTES`] → `VA_STATUS_ERROR_ALLOCATION_FAILED`.
pub fn image_layout(fourcc: u32, width: u32, height: u32) -> Result<ImageLayout, VAStatus> {
    let sample_bytes: u64 = match fourcc {
        FOURCC_NV12 => 1,
        FOURCC_P010 => 2,
        _ => return Err(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT),
    };
    let dims = SURFACE_DIM_MIN..=SURFACE_DIM_CAP;
    if !dims.contains(&width) || !dims.contains(&height) {
        return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
    }
    let pitch = u64::from(width.div_ceil(2)) * 2 * sample_bytes;
    let luma = pitch * u64::from(height);
    let size = luma + pitch * u64::from(height.div_ceil(2));
    if size > buffer::MAX_IMAGE_BYTES {
        return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
    }
    // ≤ 128 MiB: every value fits u32.
    let (pitch, luma, size) = (pitch as u32, luma as u32, size as u32);
    Ok(ImageLayout {
        width,
        height,
        data_size: size,
        num_planes: 2,
        pitches: [pitch, pitch, 0],
        offsets: [0, luma, 0],
    })
}

/// One `vaCreateImage` / `vaDeriveImage` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub format: ImageFormat,
    pub layout: ImageLayout,
    /// Its `VAImageBufferType` buffer (destroyed with the image).
    pub buf: VABufferID,
    /// The surface a `vaDeriveImage` image was derived from.
    pub derived_from: Option<VASurfaceID>,
}

/// A rectangle in pixels: origin and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// A zeroed byte vector of `n` bytes, or `VA_STATUS_ERROR_ALLOCATION_FAILED`.
fn alloc(n: u32) -> Result<Vec<u8>, VAStatus> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(n as usize)
        .map_err(|_| VA_STATUS_ERROR_ALLOCATION_FAILED)?;
    v.resize(n as usize, 0);
    Ok(v)
}

/// The CAPTURE picture of `frame` (in `device`'s buffer) from (0, 0) as
/// linear planes (NV12, P010 or YUV420), covering `want` (width, height in
/// pixels) or the whole picture if smaller; packed / tiled formats are
/// unpacked into `scratch` ([`LinearFrame::unpack_from`]: NC12 → NV12,
/// NC30 / NV15 → P010). This is the driver's CPU read of a picture: the
/// device maps the CAPTURE buffer on its first read
/// ([`DecoderDevice::capture_map`]; exports map nothing). Errors
/// (`VA_STATUS_ERROR_OPERATION_FAILED`, logged): the mapping failed (the
/// device's one line naming the buffer and plane), a layout that does not
/// fit the buffer.
pub fn linear_picture<'a>(
    frame: &DecodedFrame,
    device: &'a dyn DecoderDevice,
    want: (u32, u32),
    scratch: &'a mut LinearFrame,
) -> Result<PlanesRef<'a>, VAStatus> {
    let fmt = &frame.format;
    let maps = device.capture_map(frame.capture_index).map_err(|e| {
        tracing::error!("image: reading the CAPTURE picture: {e}");
        VA_STATUS_ERROR_OPERATION_FAILED
    })?;
    let width = want.0.min(fmt.width);
    let height = want.1.min(fmt.height);
    let empty: &'a [u8] = &[];
    let mut planes = [(empty, 0usize); 3];
    for (i, pl) in fmt.planes.iter().enumerate().take(3) {
        let buf = maps.get(pl.memory_plane).copied().unwrap_or(empty);
        planes[i] = (buf.get(pl.offset..).unwrap_or(empty), pl.stride);
    }
    let src = PlanesRef {
        format: fmt.pixel_format,
        width,
        height,
        planes,
    };
    if !fmt.pixel_format.is_packed_or_tiled() {
        return Ok(src);
    }
    let target = fmt.pixel_format.unpacked();
    if let Err(e) = scratch.unpack_from(&src, target) {
        tracing::warn!(
            "image: unpacking the CAPTURE picture ({:?}): {e}",
            fmt.pixel_format
        );
        return Err(VA_STATUS_ERROR_OPERATION_FAILED);
    }
    let scratch: &'a LinearFrame = scratch;
    scratch
        .planes((0, 0, width, height))
        .ok_or(VA_STATUS_ERROR_OPERATION_FAILED)
}

/// Sample `k` of a row of `format` (8-bit formats: 1 byte; P010: a
/// little-endian u16) as an MSB-aligned 16-bit word.
fn word(row: &[u8], p010: bool, k: usize) -> Option<u16> {
    if p010 {
        let b = row.get(2 * k..2 * k + 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    } else {
        row.get(k).map(|&v| u16::from(v) << 8)
    }
}

/// Writes the word `w` as sample `k` of a destination row (NV12: its high
/// byte; P010: its 10 high bits, little-endian).
fn put(row: &mut [u8], p010: bool, k: usize, w: u16) {
    if p010 {
        row[2 * k..2 * k + 2].copy_from_slice(&(w & 0xffc0).to_le_bytes());
    } else {
        row[k] = (w >> 8) as u8;
    }
}

/// Copies the `rect` of the linear picture `src` (NV12, P010 or YUV420
/// planes from (0, 0); `None`: no picture) into an image of `fourcc` (NV12 /
/// P010) laid out as `layout`, at the image's (0, 0). Samples outside `src`
/// are black. Chroma: rows `rect.y / 2 ..` and pairs `rect.x / 2 ..`,
/// `ceil(height / 2)` rows of `ceil(width / 2)` pairs.
///
/// Errors: `rect` larger than the image, `dst` shorter than the layout →
/// `VA_STATUS_ERROR_INVALID_PARAMETER`; a source plane shorter than its
/// width / height / stride say → `VA_STATUS_ERROR_OPERATION_FAILED`.
pub fn copy_rect(
    src: Option<&PlanesRef<'_>>,
    rect: Rect,
    fourcc: u32,
    layout: &ImageLayout,
    dst: &mut [u8],
) -> Result<(), VAStatus> {
    let dst_p010 = match fourcc {
        FOURCC_NV12 => false,
        FOURCC_P010 => true,
        _ => return Err(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT),
    };
    if rect.width > layout.width || rect.height > layout.height {
        return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
    }
    if dst.len() < layout.data_size as usize {
        return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
    }
    let src_fmt = src.map(|s| s.format);
    let src_p010 = src_fmt == Some(PixelFormat::P010);
    if let Some(f) = src_fmt {
        if !matches!(
            f,
            PixelFormat::Nv12 | PixelFormat::P010 | PixelFormat::Yuv420
        ) {
            return Err(VA_STATUS_ERROR_OPERATION_FAILED);
        }
    }
    let same = matches!(
        (src_fmt, dst_p010),
        (Some(PixelFormat::Nv12), false) | (Some(PixelFormat::P010), true)
    );
    let dsb = if dst_p010 { 2 } else { 1 };
    let short = VA_STATUS_ERROR_OPERATION_FAILED;
    // Luma.
    let (sw, sh) = src.map_or((0, 0), |s| (s.width, s.height));
    let w = rect.width as usize;
    for r in 0..rect.height as usize {
        let start = layout.offsets[0] as usize + r * layout.pitches[0] as usize;
        let row = &mut dst[start..start + w * dsb];
        let sy = rect.y as usize + r;
        let n = if sy < sh as usize {
            (sw.saturating_sub(rect.x) as usize).min(w)
        } else {
            0
        };
        if n > 0 {
            let (plane, stride) = src.map(|s| s.planes[0]).unwrap_or((&[], 0));
            let ssb = if src_p010 { 2 } else { 1 };
            let from = sy * stride + rect.x as usize * ssb;
            let srow = plane.get(from..from + n * ssb).ok_or(short)?;
            if same {
                row[..n * dsb].copy_from_slice(srow);
            } else {
                for k in 0..n {
                    put(row, dst_p010, k, word(srow, src_p010, k).ok_or(short)?);
                }
            }
        }
        for k in n..w {
            put(row, dst_p010, k, BLACK_Y);
        }
    }
    // Chroma: pairs of (Cb, Cr).
    let (cw, ch) = (rect.width.div_ceil(2) as usize, rect.height.div_ceil(2));
    let (scw, sch) = (sw.div_ceil(2), sh.div_ceil(2));
    let (cx, cy) = (rect.x / 2, rect.y / 2);
    for r in 0..ch as usize {
        let start = layout.offsets[1] as usize + r * layout.pitches[1] as usize;
        let row = &mut dst[start..start + 2 * cw * dsb];
        let sy = cy as usize + r;
        let n = if sy < sch as usize {
            (scw.saturating_sub(cx) as usize).min(cw)
        } else {
            0
        };
        if let (Some(s), true) = (src, n > 0) {
            if s.format == PixelFormat::Yuv420 {
                let (cb, cbs) = s.planes[1];
                let (cr, crs) = s.planes[2];
                let from_b = sy * cbs + cx as usize;
                let from_r = sy * crs + cx as usize;
                let b = cb.get(from_b..from_b + n).ok_or(short)?;
                let rr = cr.get(from_r..from_r + n).ok_or(short)?;
                for k in 0..n {
                    put(row, dst_p010, 2 * k, u16::from(b[k]) << 8);
                    put(row, dst_p010, 2 * k + 1, u16::from(rr[k]) << 8);
                }
            } else {
                let (plane, stride) = s.planes[1];
                let ssb = if src_p010 { 2 } else { 1 };
                let from = sy * stride + cx as usize * 2 * ssb;
                let srow = plane.get(from..from + 2 * n * ssb).ok_or(short)?;
                if same {
                    row[..2 * n * dsb].copy_from_slice(srow);
                } else {
                    for k in 0..2 * n {
                        put(row, dst_p010, k, word(srow, src_p010, k).ok_or(short)?);
                    }
                }
            }
        }
        for k in 2 * n..2 * cw {
            put(row, dst_p010, k, BLACK_C);
        }
    }
    Ok(())
}

/// Writes the `rect` of the picture `surface` holds (black where it holds
/// none, [`copy_rect`]) into `dst`, an image of `fourcc` laid out as `layout`.
fn fill_from_surface(
    d: &Driver,
    surface: VASurfaceID,
    rect: Rect,
    fourcc: u32,
    layout: &ImageLayout,
    dst: &mut [u8],
) -> Result<(), VAStatus> {
    let mut scratch = LinearFrame::default();
    let want = (rect.x + rect.width, rect.y + rect.height);
    let src = match d.picture_of(surface) {
        Some((frame, device)) => Some(linear_picture(frame, device, want, &mut scratch)?),
        None => None,
    };
    copy_rect(src.as_ref(), rect, fourcc, layout, dst)
}

impl Driver {
    /// The listed image format of `fourcc` (NV12; P010 when a served device
    /// decodes 10-bit, as `vaQueryImageFormats`), else
    /// `VA_STATUS_ERROR_INVALID_IMAGE_FORMAT`.
    fn listed_image_format(&self, fourcc: u32) -> Result<ImageFormat, VAStatus> {
        match fourcc {
            FOURCC_NV12 => Ok(IMAGE_NV12),
            FOURCC_P010 if self.ten_bit => Ok(IMAGE_P010),
            _ => Err(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT),
        }
    }

    /// Stores an image and its buffer holding `data`; all or nothing.
    /// `VA_STATUS_ERROR_ALLOCATION_FAILED` past the buffer or image caps.
    fn insert_image(
        &mut self,
        format: ImageFormat,
        layout: ImageLayout,
        data: Vec<u8>,
        derived_from: Option<VASurfaceID>,
    ) -> Result<(VAImageID, Image), VAStatus> {
        let buf = Buffer::image(data)?;
        let n = buf.len() as u64;
        if self.buffer_bytes + n > buffer::MAX_LIVE_BUFFER_BYTES {
            return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
        }
        let buf_id = self.buffers.insert(buf).map_err(heap_full)?;
        self.buffer_bytes += n;
        let image = Image {
            format,
            layout,
            buf: buf_id,
            derived_from,
        };
        match self.images.insert(image.clone()) {
            Ok(id) => Ok((id, image)),
            Err(e) => {
                self.buffers.remove(buf_id);
                self.buffer_bytes -= n;
                Err(heap_full(e))
            }
        }
    }

    /// `vaCreateImage`: an image of a listed format ([`Driver::query_image_formats`])
    /// of `width` × `height` pixels ([`image_layout`]), its buffer zeroed.
    /// Errors: a format not listed → `VA_STATUS_ERROR_INVALID_IMAGE_FORMAT`;
    /// a side outside 1 ..= [`SURFACE_DIM_CAP`] → `VA_STATUS_ERROR_INVALID_PARAMETER`;
    /// past [`buffer::MAX_IMAGE_BYTES`] or the buffer caps →
    /// `VA_STATUS_ERROR_ALLOCATION_FAILED`.
    pub fn create_image(
        &mut self,
        fourcc: u32,
        width: i32,
        height: i32,
    ) -> Result<(VAImageID, Image), VAStatus> {
        let format = self.listed_image_format(fourcc)?;
        let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
            return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
        };
        let layout = image_layout(fourcc, w, h)?;
        let data = alloc(layout.data_size)?;
        self.insert_image(format, layout, data, None)
    }

    /// A live image; `VA_STATUS_ERROR_INVALID_IMAGE` for an unknown or stale ID.
    pub fn image(&self, id: VAImageID) -> Result<&Image, VAStatus> {
        self.images.get(id).ok_or(VA_STATUS_ERROR_INVALID_IMAGE)
    }

    /// `vaDestroyImage`: the image and its buffer (if the client has not
    /// destroyed that already). `VA_STATUS_ERROR_INVALID_IMAGE` for an
    /// unknown or stale ID.
    pub fn destroy_image(&mut self, id: VAImageID) -> Result<(), VAStatus> {
        let image = self
            .images
            .remove(id)
            .ok_or(VA_STATUS_ERROR_INVALID_IMAGE)?;
        if let Some(b) = self.buffers.remove(image.buf) {
            self.buffer_bytes -= b.len() as u64;
        }
        Ok(())
    }

    /// `vaDeriveImage`: waits for the surface's picture, then an image of
    /// the surface's fourcc and size holding a copy of it (module docs).
    /// Errors: bad surface → `VA_STATUS_ERROR_INVALID_SURFACE`; a picture
    /// the device flagged → `VA_STATUS_ERROR_DECODING_ERROR`; no decoded
    /// picture, or one that does not unpack → `VA_STATUS_ERROR_OPERATION_FAILED`;
    /// the caps → `VA_STATUS_ERROR_ALLOCATION_FAILED`.
    pub fn derive_image(&mut self, surface: VASurfaceID) -> Result<(VAImageID, Image), VAStatus> {
        let s = self.surface(surface)?;
        let (fourcc, w, h) = (s.fourcc, s.width, s.height);
        self.sync_surface(surface)?;
        if self.picture_of(surface).is_none() {
            tracing::debug!(
                "vaDeriveImage: surface {surface:#x} holds no decoded picture \
                 (VA_STATUS_ERROR_OPERATION_FAILED)"
            );
            return Err(VA_STATUS_ERROR_OPERATION_FAILED);
        }
        let format = self.listed_image_format(fourcc)?;
        let layout = image_layout(fourcc, w, h)?;
        let mut data = alloc(layout.data_size)?;
        let rect = Rect {
            x: 0,
            y: 0,
            width: w,
            height: h,
        };
        fill_from_surface(self, surface, rect, fourcc, &layout, &mut data)?;
        self.insert_image(format, layout, data, Some(surface))
    }

    /// `vaGetImage`: waits for the surface's picture, then writes its
    /// rectangle (`x`, `y`, `width` × `height` pixels) into `image` from the
    /// image's (0, 0), converting to the image's format (module docs).
    /// Errors: bad surface / image → `VA_STATUS_ERROR_INVALID_SURFACE` /
    /// `_INVALID_IMAGE`; a negative origin, a rectangle past the surface or
    /// larger than the image → `VA_STATUS_ERROR_INVALID_PARAMETER`; a live
    /// image derived from the surface → `VA_STATUS_ERROR_SURFACE_BUSY`
    /// (va.h `vaDeriveImage`); a picture the device flagged →
    /// `VA_STATUS_ERROR_DECODING_ERROR`.
    pub fn get_image(
        &mut self,
        surface: VASurfaceID,
        x: i32,
        y: i32,
        width: u32,
        height: u32,
        image: VAImageID,
    ) -> Result<(), VAStatus> {
        let s = self.surface(surface)?;
        let (sw, sh) = (s.width, s.height);
        let img = self.image(image)?.clone();
        let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
            return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
        };
        let fits = |o: u32, n: u32, max: u32| o.checked_add(n).is_some_and(|e| e <= max);
        if !fits(x, width, sw)
            || !fits(y, height, sh)
            || width > img.layout.width
            || height > img.layout.height
        {
            return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
        }
        if self
            .images
            .iter()
            .any(|(_, i)| i.derived_from == Some(surface))
        {
            return Err(VA_STATUS_ERROR_SURFACE_BUSY);
        }
        self.sync_surface(surface)?;
        // The storage leaves the buffer while it is written (the driver is
        // borrowed for the picture meanwhile) and goes back unmoved, so a
        // pointer vaMapBuffer gave stays valid.
        let b = self
            .buffers
            .get_mut(img.buf)
            .ok_or(VA_STATUS_ERROR_INVALID_IMAGE)?;
        let mut storage = std::mem::take(b.storage_mut());
        let rect = Rect {
            x,
            y,
            width,
            height,
        };
        let r = fill_from_surface(
            self,
            surface,
            rect,
            img.format.fourcc,
            &img.layout,
            &mut storage,
        );
        if let Some(b) = self.buffers.get_mut(img.buf) {
            *b.storage_mut() = storage;
        }
        r
    }
}

#[cfg(test)]
mod tests;
