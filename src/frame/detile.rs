//! CPU detile / unpack of the decoders' non-linear CAPTURE formats into
//! linear ones, for when the compositor (or a file sink) cannot take them:
//! NC12 (SAND128 8-bit) → NV12, NC30 (SAND128 10-bit) → P010 or NV12,
//! NV15 (10-bit packed) → P010.
//!
//! Layouts (see [`PixelFormat`](super::PixelFormat) for the full text):
//! * SAND128 (raspberrypi/linux `pixfmt-nv12-col128.rst`; DRM
//!   `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT`): 128-byte columns, column
//!   `c` at `c · col_height · 128`; luma row `y` at `+ y · 128`, chroma row `y`
//!   at `+ (luma_height + y) · 128`.
//! * NC30 packs 3 10-bit samples per little-endian u32 (bits 9:0, 19:10,
//!   29:20): 96 samples per 128-byte column row.
//! * NV15 (`videodev2.h` `V4L2_PIX_FMT_NV15`, DRM `NV15`): 4 10-bit samples
//!   in 5 bytes, little-endian bit order, linear rows.
//! * P010 (DRM `P010`): 10-bit samples in the high bits of little-endian u16
//!   (`value << 6`).
//!
//! Every function converts the region from (0, 0) of `width` × `height`
//! pixels (chroma `ceil(width/2)` × `ceil(height/2)`), checks every slice
//! bound first, and returns [`DetileError`] instead of panicking on short or
//! inconsistent input.
//!
//! The `reference` functions are the plain per-sample definitions the fast
//! paths are tested against.

/// Why a conversion was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetileError {
    /// A source or destination slice is shorter than the geometry needs.
    #[error("{what}: {len} bytes, the {width}x{height} picture needs {need}")]
    Short {
        what: &'static str,
        len: usize,
        need: usize,
        width: u32,
        height: u32,
    },
    /// Inconsistent geometry (stride smaller than a row, column height smaller
    /// than luma + chroma rows, …).
    #[error("{0}")]
    Geometry(String),
}

/// A SAND128 (NC12 / NC30) picture in memory.
#[derive(Debug, Clone, Copy)]
pub struct Sand128<'a> {
    /// The buffer from column 0, row 0.
    pub data: &'a [u8],
    /// Column height in 128-byte lines (V4L2 `bytesperline`; the DRM modifier's parameter).
    pub col_height: usize,
    /// Luma rows per column before the chroma rows (the format's allocated height).
    pub luma_height: usize,
}

/// A linear destination: two planes (Y, interleaved CbCr) with strides in bytes.
#[derive(Debug)]
pub struct LinearDst<'a> {
    pub y: &'a mut [u8],
    pub y_stride: usize,
    pub uv: &'a mut [u8],
    pub uv_stride: usize,
}

/// A linear two-plane source (NV15): Y and CbCr planes with strides in bytes.
#[derive(Debug, Clone, Copy)]
pub struct LinearSrc<'a> {
    pub y: &'a [u8],
    pub y_stride: usize,
    pub uv: &'a [u8],
    pub uv_stride: usize,
}

fn need(what: &'static str, len: usize, need: usize, w: u32, h: u32) -> Result<(), DetileError> {
    if len < need {
        return Err(DetileError::Short {
            what,
            len,
            need,
            width: w,
            height: h,
        });
    }
    Ok(())
}

/// Bytes a destination plane of `rows` rows, `row_bytes` used bytes each, needs.
fn plane_bytes(rows: usize, stride: usize, row_bytes: usize) -> usize {
    if rows == 0 {
        0
    } else {
        (rows - 1) * stride + row_bytes
    }
}

/// Checks a SAND128 source for a `width_bytes` × `height` luma region.
fn check_sand(src: &Sand128, width_bytes: usize, height: usize, w: u32, h: u32) -> Result<(), DetileError> {
    let ch = height.div_ceil(2);
    if height > src.luma_height {
        return Err(DetileError::Geometry(format!(
            "SAND128: {height} rows asked, the columns hold {} luma rows",
            src.luma_height
        )));
    }
    if src.luma_height + src.luma_height.div_ceil(2) > src.col_height {
        return Err(DetileError::Geometry(format!(
            "SAND128: column height {} lines < luma {} + chroma {} rows",
            src.col_height,
            src.luma_height,
            src.luma_height.div_ceil(2)
        )));
    }
    if width_bytes == 0 || height == 0 {
        return Ok(());
    }
    let cols = width_bytes.div_ceil(128);
    // last byte read: last column, chroma row ch-1
    let last = (cols - 1) * src.col_height * 128 + (src.luma_height + ch) * 128;
    need("SAND128 source", src.data.len(), last, w, h)
}

/// Checks a linear destination for `y_row` / `uv_row` bytes per row.
fn check_dst(dst: &LinearDst, y_row: usize, uv_row: usize, height: u32, w: u32) -> Result<(), DetileError> {
    let h = height as usize;
    if dst.y_stride < y_row || dst.uv_stride < uv_row {
        return Err(DetileError::Geometry(format!(
            "destination strides {}/{} < row bytes {y_row}/{uv_row}",
            dst.y_stride, dst.uv_stride
        )));
    }
    need("destination Y plane", dst.y.len(), plane_bytes(h, dst.y_stride, y_row), w, height)?;
    need(
        "destination CbCr plane",
        dst.uv.len(),
        plane_bytes(h.div_ceil(2), dst.uv_stride, uv_row),
        w,
        height,
    )
}

/// The plain per-sample definitions (the tests' oracle; also the fallback for
/// any size the fast paths do not cover).
pub mod reference {
    use super::*;

    /// NC12 → NV12, one byte at a time. Errors: [`DetileError`].
    pub fn nc12_to_nv12(src: &Sand128, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
        let (w, h) = (width as usize, height as usize);
        let cw = w.div_ceil(2) * 2; // CbCr bytes per row
        check_sand(src, w.max(cw), h, width, height)?;
        check_dst(dst, w, cw, height, width)?;
        let col = |x: usize| (x / 128) * src.col_height * 128 + x % 128;
        for y in 0..h {
            for x in 0..w {
                dst.y[y * dst.y_stride + x] = src.data[col(x) + y * 128];
            }
        }
        for y in 0..h.div_ceil(2) {
            for x in 0..cw {
                dst.uv[y * dst.uv_stride + x] = src.data[col(x) + (src.luma_height + y) * 128];
            }
        }
        Ok(())
    }

    /// Sample `i` (0-based, counting across columns) of row `row` of a NC30 plane region.
    fn nc30_sample(src: &Sand128, row: usize, i: usize) -> u16 {
        let (c, k) = (i / 96, i % 96);
        let word = c * src.col_height * 128 + row * 128 + (k / 3) * 4;
        let v = u32::from_le_bytes([
            src.data[word],
            src.data[word + 1],
            src.data[word + 2],
            src.data[word + 3],
        ]);
        ((v >> (10 * (k % 3))) & 0x3ff) as u16
    }

    /// Byte extent (in the column layout) of `samples` NC30 samples per row.
    pub(crate) fn nc30_row_bytes(samples: usize) -> usize {
        let cols = samples.div_ceil(96);
        if cols == 0 {
            0
        } else {
            (cols - 1) * 128 + (samples - (cols - 1) * 96).div_ceil(3) * 4
        }
    }

    /// NC30 → P010 (10-bit value `<< 6` in a little-endian u16). Errors: [`DetileError`].
    pub fn nc30_to_p010(src: &Sand128, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
        let (w, h) = (width as usize, height as usize);
        let cs = w.div_ceil(2) * 2; // chroma samples per row
        check_sand(src, nc30_row_bytes(w.max(cs)), h, width, height)?;
        check_dst(dst, w * 2, cs * 2, height, width)?;
        for y in 0..h {
            for x in 0..w {
                let v = nc30_sample(src, y, x) << 6;
                dst.y[y * dst.y_stride + 2 * x..][..2].copy_from_slice(&v.to_le_bytes());
            }
        }
        for y in 0..h.div_ceil(2) {
            for x in 0..cs {
                let v = nc30_sample(src, src.luma_height + y, x) << 6;
                dst.uv[y * dst.uv_stride + 2 * x..][..2].copy_from_slice(&v.to_le_bytes());
            }
        }
        Ok(())
    }

    /// NC30 → NV12 (the 8 high bits of each sample: `v >> 2`). Errors: [`DetileError`].
    pub fn nc30_to_nv12(src: &Sand128, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
        let (w, h) = (width as usize, height as usize);
        let cs = w.div_ceil(2) * 2;
        check_sand(src, nc30_row_bytes(w.max(cs)), h, width, height)?;
        check_dst(dst, w, cs, height, width)?;
        for y in 0..h {
            for x in 0..w {
                dst.y[y * dst.y_stride + x] = (nc30_sample(src, y, x) >> 2) as u8;
            }
        }
        for y in 0..h.div_ceil(2) {
            for x in 0..cs {
                dst.uv[y * dst.uv_stride + x] = (nc30_sample(src, src.luma_height + y, x) >> 2) as u8;
            }
        }
        Ok(())
    }

    /// Sample `i` of an NV15 row.
    fn nv15_sample(row: &[u8], i: usize) -> u16 {
        let bit = i * 10;
        let b = bit / 8;
        let lo = row[b] as u16;
        let hi = row.get(b + 1).copied().unwrap_or(0) as u16;
        ((lo | (hi << 8)) >> (bit % 8)) & 0x3ff
    }

    /// NV15 → P010. Errors: [`DetileError`].
    pub fn nv15_to_p010(src: &LinearSrc, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
        let (w, h) = (width as usize, height as usize);
        let cs = w.div_ceil(2) * 2;
        let (yrow, crow) = ((w * 10).div_ceil(8), (cs * 10).div_ceil(8));
        if src.y_stride < yrow || src.uv_stride < crow {
            return Err(DetileError::Geometry(format!(
                "NV15 strides {}/{} < row bytes {yrow}/{crow}",
                src.y_stride, src.uv_stride
            )));
        }
        need("NV15 Y plane", src.y.len(), plane_bytes(h, src.y_stride, yrow), width, height)?;
        need("NV15 CbCr plane", src.uv.len(), plane_bytes(h.div_ceil(2), src.uv_stride, crow), width, height)?;
        check_dst(dst, w * 2, cs * 2, height, width)?;
        for y in 0..h {
            let row = &src.y[y * src.y_stride..][..yrow];
            for x in 0..w {
                let v = nv15_sample(row, x) << 6;
                dst.y[y * dst.y_stride + 2 * x..][..2].copy_from_slice(&v.to_le_bytes());
            }
        }
        for y in 0..h.div_ceil(2) {
            let row = &src.uv[y * src.uv_stride..][..crow];
            for x in 0..cs {
                let v = nv15_sample(row, x) << 6;
                dst.uv[y * dst.uv_stride + 2 * x..][..2].copy_from_slice(&v.to_le_bytes());
            }
        }
        Ok(())
    }
}

/// NC12 → NV12 (fast path). Same contract as [`reference::nc12_to_nv12`].
pub fn nc12_to_nv12(src: &Sand128, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
    reference::nc12_to_nv12(src, width, height, dst)
}

/// NC30 → P010 (fast path). Same contract as [`reference::nc30_to_p010`].
pub fn nc30_to_p010(src: &Sand128, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
    reference::nc30_to_p010(src, width, height, dst)
}

/// NC30 → NV12 (fast path). Same contract as [`reference::nc30_to_nv12`].
pub fn nc30_to_nv12(src: &Sand128, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
    reference::nc30_to_nv12(src, width, height, dst)
}

/// NV15 → P010 (fast path). Same contract as [`reference::nv15_to_p010`].
pub fn nv15_to_p010(src: &LinearSrc, width: u32, height: u32, dst: &mut LinearDst) -> Result<(), DetileError> {
    reference::nv15_to_p010(src, width, height, dst)
}
