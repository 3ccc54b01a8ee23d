//! CPU colour conversion for the presentation copy path: 8-bit 4:2:0
//! (`NV12`, `YUV420`) and 10-bit `P010` → `XRGB8888`.
//!
//! * `P010` (uAPI "pixfmt-yuv-planar" / `drm_fourcc.h` `DRM_FORMAT_P010`): like
//!   NV12 with 16-bit little-endian samples holding the 10-bit value in bits
//!   15..6 (MSB-aligned, low 6 bits zero); 10-bit limited range is Y 64..=940,
//!   Cb/Cr 64..=960 (BT.709-6 §3.4, BT.2020), i.e. the 8-bit ranges × 4.
//!
//! * Output: DRM `DRM_FORMAT_XRGB8888` / `wl_shm` `xrgb8888`: one little-endian
//!   32-bit word per pixel, `[31:0] x:R:G:B`, i.e. bytes B, G, R, 0xff in memory
//!   (`drm_fourcc.h`, `wayland.xml` `wl_shm.format`).
//! * Range ([`ColorInfo::full_range`]): *limited* ("TV", "studio") range, Y in
//!   16..=235, Cb/Cr in 16..=240 (ITU-R BT.601-7 §2.5.3, BT.709-6 §3.4; × 4 at
//!   10 bits), or *full* range, Y in 0..=2ⁿ−1, Cb/Cr centred on 2ⁿ⁻¹ (ITU-T
//!   H.273 §8.3, `VideoFullRangeFlag` 1: `Y = (2ⁿ−1)·E′Y`,
//!   `Cb = (2ⁿ−1)·E′PB + 2ⁿ⁻¹`); values outside are clamped after the matrix.
//! * Matrix: [`ColorMatrix::Bt601`] (Kr 0.299, Kb 0.114),
//!   [`ColorMatrix::Bt709`] (Kr 0.2126, Kb 0.0722) or [`ColorMatrix::Bt2020`]
//!   (Kr 0.2627, Kb 0.0593, the non-constant-luminance matrix of ITU-R
//!   BT.2020-2 Table 4; H.273 Table 4). The stream's colour description
//!   travels as the frame's [`ColorInfo`] (`DecodedFrame::color`);
//!   [`ColorMatrix::for_height`] / [`ColorInfo::from_height`] pick BT.709 for
//!   pictures ≥ 720 lines and BT.601 below, limited range, for streams without
//!   one — the usual default (what mpv and GStreamer do for unspecified HD/SD
//!   content).
//! * Chroma siting: each chroma sample is used for its 2×2 luma block
//!   (nearest, no interpolation).
//!
//! Arithmetic is 16.16 fixed point; the result is within ±1 of the exact
//! real-valued formula (tested against a float reference).
//!
//! Packed / tiled decoder formats (NV15, NC12, NC30) are first unpacked into
//! a linear NV12 / P010 picture by [`unpack`] / [`LinearFrame`] (which use
//! [`crate::detile`]); the CPU paths (Y4M, `wl_shm`, the linear
//! dmabuf fallback) work on that.

use super::detile::{self, DetileError, LinearDst, LinearSrc, Sand128};
use super::{PixelFormat, PlanesRef};

/// Y′CbCr → R′G′B′ matrix (ITU-R BT.601 / BT.709 / BT.2020).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorMatrix {
    /// ITU-R BT.601 (SD; H.273 `MatrixCoefficients` 5 and 6).
    Bt601,
    /// ITU-R BT.709 (HD; H.273 `MatrixCoefficients` 1).
    Bt709,
    /// ITU-R BT.2020 non-constant luminance (UHD; H.273 `MatrixCoefficients` 9;
    /// 10, constant luminance, is shown with this matrix too).
    Bt2020,
}

/// A picture's colour description as the presenters use it: the Y′CbCr
/// matrix and the sample range. Made from the stream's colour description
/// (`vreq_core::ColorDescription`, by the engine) or, when the stream has
/// none, [`ColorInfo::from_height`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColorInfo {
    /// The Y′CbCr → R′G′B′ matrix.
    pub matrix: ColorMatrix,
    /// Full range (H.273 `VideoFullRangeFlag` 1) instead of limited range.
    pub full_range: bool,
}

impl ColorInfo {
    /// The default for a picture whose stream states no colour description:
    /// [`ColorMatrix::for_height`], limited range.
    pub fn from_height(height: u32) -> Self {
        ColorInfo {
            matrix: ColorMatrix::for_height(height),
            full_range: false,
        }
    }

    /// From H.273 `MatrixCoefficients` (Table 4) and `VideoFullRangeFlag`:
    /// 1 → BT.709, 5 / 6 → BT.601, 9 / 10 → BT.2020; `None` or any other code
    /// point (2 "unspecified", 0 identity, 4 FCC, …, which the presenters do not
    /// convert) → the [`ColorMatrix::for_height`] guess for `height`. The range
    /// is taken as stated either way.
    pub fn from_h273(matrix_coefficients: Option<u8>, full_range: bool, height: u32) -> Self {
        let matrix = match matrix_coefficients {
            Some(1) => ColorMatrix::Bt709,
            Some(5 | 6) => ColorMatrix::Bt601,
            Some(9 | 10) => ColorMatrix::Bt2020,
            _ => ColorMatrix::for_height(height),
        };
        ColorInfo { matrix, full_range }
    }
}

impl ColorMatrix {
    /// BT.709 for `height` ≥ 720 lines, else BT.601 (default for streams
    /// without colour description).
    pub fn for_height(height: u32) -> Self {
        if height >= 720 {
            Self::Bt709
        } else {
            Self::Bt601
        }
    }

    /// (Kr, Kb) luma weights.
    fn kr_kb(self) -> (f64, f64) {
        match self {
            Self::Bt601 => (0.299, 0.114),
            Self::Bt709 => (0.2126, 0.0722),
            Self::Bt2020 => (0.2627, 0.0593),
        }
    }

    /// Real-valued coefficients for 8-bit limited range: (y, r_v, g_u, g_v, b_u)
    /// for R = y·(Y−16) + r_v·(Cr−128), G = y·(Y−16) − g_u·(Cb−128) − g_v·(Cr−128),
    /// B = y·(Y−16) + b_u·(Cb−128).
    pub fn coefficients(self) -> [f64; 5] {
        self.coefficients_for(false, 8).0
    }

    /// Real-valued coefficients for `bit_depth`-bit samples in full or limited
    /// range, and the (Y, C) offsets they apply to: R = y·(Y−y0) + r_v·(Cr−c0),
    /// G = y·(Y−y0) − g_u·(Cb−c0) − g_v·(Cr−c0), B = y·(Y−y0) + b_u·(Cb−c0),
    /// on the 0..=255 output scale. Limited: y0 = 16·2ⁿ⁻⁸, c0 = 128·2ⁿ⁻⁸, Y
    /// spans 219·2ⁿ⁻⁸, C 224·2ⁿ⁻⁸; full: y0 = 0, c0 = 2ⁿ⁻¹, both span 2ⁿ−1
    /// (H.273 §8.3).
    pub fn coefficients_for(self, full_range: bool, bit_depth: u8) -> ([f64; 5], [i32; 2]) {
        let (kr, kb) = self.kr_kb();
        let kg = 1.0 - kr - kb;
        let n = u32::from(bit_depth);
        let (y_span, c_span, offsets) = if full_range {
            let max = f64::from((1u32 << n) - 1);
            (max, max, [0, 1 << (n - 1)])
        } else {
            let s = f64::from(1u32 << (n - 8));
            (219.0 * s, 224.0 * s, [16 << (n - 8), 128 << (n - 8)])
        };
        let ys = 255.0 / y_span;
        let cs = 255.0 / c_span;
        let r_v = cs * 2.0 * (1.0 - kr);
        let b_u = cs * 2.0 * (1.0 - kb);
        let g_u = cs * 2.0 * (1.0 - kb) * kb / kg;
        let g_v = cs * 2.0 * (1.0 - kr) * kr / kg;
        ([ys, r_v, g_u, g_v, b_u], offsets)
    }

    /// [`Self::coefficients_for`] in fixed point with `shift` fraction bits.
    fn fixed(self, full_range: bool, bit_depth: u8, shift: u32) -> ([i32; 5], [i32; 2]) {
        let (c, off) = self.coefficients_for(full_range, bit_depth);
        let scale = f64::from(1u32 << shift);
        (c.map(|c| (c * scale).round() as i32), off)
    }
}

/// Why a conversion could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("{0:?} cannot be converted this way on the CPU (unpack packed / tiled formats first)")]
    Unsupported(PixelFormat),
    #[error("unpacking: {0}")]
    Detile(#[from] DetileError),
    #[error("{0}x{1} is larger than the CPU paths unpack (8192x8192)")]
    TooLarge(u32, u32),
    #[error("plane {plane}: {have} bytes, {need} needed for {width}x{height} (stride {stride})")]
    ShortPlane {
        plane: usize,
        have: usize,
        need: usize,
        width: u32,
        height: u32,
        stride: usize,
    },
    #[error(
        "destination: {have} bytes, {need} needed for {width}x{height} XRGB8888 (stride {stride})"
    )]
    ShortDestination {
        have: usize,
        need: usize,
        width: u32,
        height: u32,
        stride: usize,
    },
}

/// Largest picture side [`LinearFrame`] allocates for, pixels (8K).
pub const MAX_UNPACK_SIDE: u32 = 8192;

/// Unpacks / detiles the packed or tiled picture `src` (a [`PlanesRef`] of
/// NV15, NC12 or NC30 as the engine's `planes` gives it: planes
/// from their first byte, `width` × `height` = the visible right / bottom
/// edge) into the linear two-plane `dst` of format `target`:
///
/// | source | `target` | how |
/// |---|---|---|
/// | NC12 | NV12 | [`detile::nc12_to_nv12`] |
/// | NC30 | P010 / NV12 | [`detile::nc30_to_p010`] / [`detile::nc30_to_nv12`] |
/// | NV15 | P010 | [`detile::nv15_to_p010`] |
/// | NV15 | NV12 | NV15 → P010, then the 8 high bits of each sample |
///
/// SAND128 geometry comes from the [`PlanesRef`] contract: plane 0 is the
/// buffer from column 0, plane 1 the same buffer from the chroma offset
/// `luma_height · 128` (both to the buffer's end), and the "stride" is the
/// column height; so `luma_height = (len(plane 0) − len(plane 1)) / 128`.
///
/// Errors: any other (source, target) pair, a linear source
/// ([`ConvertError::Unsupported`]); an inconsistent layout or short buffers
/// ([`ConvertError::Detile`]). Nothing panics on bad geometry.
pub fn unpack(
    src: &PlanesRef<'_>,
    target: PixelFormat,
    dst: &mut LinearDst,
) -> Result<(), ConvertError> {
    let (w, h) = (src.width, src.height);
    let sand = || -> Result<Sand128<'_>, ConvertError> {
        let (y, col_height) = src.planes[0];
        let (c, _) = src.planes[1];
        let diff = y.len().checked_sub(c.len()).filter(|d| d % 128 == 0).ok_or_else(|| {
            ConvertError::Detile(DetileError::Geometry(format!(
                "SAND128 planes of {} and {} bytes: the chroma plane must start a multiple of 128 bytes into the luma one",
                y.len(),
                c.len()
            )))
        })?;
        Ok(Sand128 {
            data: y,
            col_height,
            luma_height: diff / 128,
        })
    };
    match (src.format, target) {
        (PixelFormat::Nc12, PixelFormat::Nv12) => detile::nc12_to_nv12(&sand()?, w, h, dst)?,
        (PixelFormat::Nc30, PixelFormat::P010) => detile::nc30_to_p010(&sand()?, w, h, dst)?,
        (PixelFormat::Nc30, PixelFormat::Nv12) => detile::nc30_to_nv12(&sand()?, w, h, dst)?,
        (PixelFormat::Nv15, PixelFormat::P010) => detile::nv15_to_p010(&nv15_src(src), w, h, dst)?,
        (PixelFormat::Nv15, PixelFormat::Nv12) => {
            // through a P010 copy: NV15 → P010 (tested detile path), then >> 8
            let (wu, hu) = (w as usize, h as usize);
            if w > MAX_UNPACK_SIDE || h > MAX_UNPACK_SIDE {
                return Err(ConvertError::TooLarge(w, h));
            }
            let (ys, cs) = (wu * 2, wu.div_ceil(2) * 4);
            let mut y = vec![0u8; ys * hu];
            let mut uv = vec![0u8; cs * hu.div_ceil(2)];
            detile::nv15_to_p010(
                &nv15_src(src),
                w,
                h,
                &mut LinearDst {
                    y: &mut y,
                    y_stride: ys,
                    uv: &mut uv,
                    uv_stride: cs,
                },
            )?;
            let need_y = plane_need(hu, wu, dst.y_stride);
            let need_c = plane_need(hu.div_ceil(2), cs / 2, dst.uv_stride);
            if dst.y.len() < need_y || dst.uv.len() < need_c {
                return Err(ConvertError::Detile(DetileError::Short {
                    what: "destination NV12",
                    len: dst.y.len().min(dst.uv.len()),
                    need: need_y.max(need_c),
                    width: w,
                    height: h,
                }));
            }
            for r in 0..hu {
                for x in 0..wu {
                    dst.y[r * dst.y_stride + x] = y[r * ys + 2 * x + 1];
                }
            }
            for r in 0..hu.div_ceil(2) {
                for x in 0..cs / 2 {
                    dst.uv[r * dst.uv_stride + x] = uv[r * cs + 2 * x + 1];
                }
            }
        }
        (f, _) => return Err(ConvertError::Unsupported(f)),
    }
    Ok(())
}

fn nv15_src<'a>(src: &PlanesRef<'a>) -> LinearSrc<'a> {
    LinearSrc {
        y: src.planes[0].0,
        y_stride: src.planes[0].1,
        uv: src.planes[1].0,
        uv_stride: src.planes[1].1,
    }
}

/// An owned linear NV12 / P010 picture (Y at byte 0, CbCr right after),
/// the scratch buffer the CPU paths unpack packed / tiled frames into and
/// reuse from frame to frame.
#[derive(Debug, Default)]
pub struct LinearFrame {
    /// [`PixelFormat::Nv12`] or [`PixelFormat::P010`].
    pub format: Option<PixelFormat>,
    /// Size in pixels (the source's visible right / bottom edge).
    pub width: u32,
    pub height: u32,
    /// Bytes per row of both planes.
    pub stride: usize,
    data: Vec<u8>,
}

impl LinearFrame {
    /// Unpacks `src` into this buffer as `target` ([`unpack`]), reallocating
    /// only when the size grows. Errors: those of [`unpack`], or a side above
    /// [`MAX_UNPACK_SIDE`] ([`ConvertError::TooLarge`]).
    pub fn unpack_from(
        &mut self,
        src: &PlanesRef<'_>,
        target: PixelFormat,
    ) -> Result<(), ConvertError> {
        let (w, h) = (src.width, src.height);
        if w > MAX_UNPACK_SIDE || h > MAX_UNPACK_SIDE {
            return Err(ConvertError::TooLarge(w, h));
        }
        let stride = w.div_ceil(2) as usize * 2 * target.sample_bytes();
        let (hu, ch) = (h as usize, h.div_ceil(2) as usize);
        let need = stride * (hu + ch);
        if self.data.len() < need {
            self.data.resize(need, 0);
        }
        let (y, uv) = self.data[..need].split_at_mut(stride * hu);
        self.format = None;
        unpack(
            src,
            target,
            &mut LinearDst {
                y,
                y_stride: stride,
                uv,
                uv_stride: stride,
            },
        )?;
        (self.format, self.width, self.height, self.stride) = (Some(target), w, h, stride);
        Ok(())
    }

    /// The unpacked picture cropped to `visible` (x, y, w, h in pixels,
    /// origin folded into the plane slices as for linear decoder frames;
    /// chroma at `x / 2`, `y / 2`). `None` before a successful
    /// [`LinearFrame::unpack_from`] or if `visible` reaches outside the picture.
    pub fn planes(&self, visible: (u32, u32, u32, u32)) -> Option<PlanesRef<'_>> {
        let format = self.format?;
        let (vx, vy, vw, vh) = visible;
        if vx.checked_add(vw)? > self.width || vy.checked_add(vh)? > self.height {
            return None;
        }
        let sb = format.sample_bytes();
        let y_len = self.stride * self.height as usize;
        let (y, uv) = self.data.split_at(y_len);
        let yo = vy as usize * self.stride + vx as usize * sb;
        let co = (vy / 2) as usize * self.stride + (vx / 2) as usize * 2 * sb;
        Some(PlanesRef {
            format,
            width: vw,
            height: vh,
            planes: [
                (y.get(yo..)?, self.stride),
                (uv.get(co..)?, self.stride),
                (&[], 0),
            ],
        })
    }
}

/// Bytes a plane of `rows` rows of `row_bytes` bytes at `stride` occupies.
fn plane_need(rows: usize, row_bytes: usize, stride: usize) -> usize {
    if rows == 0 {
        0
    } else {
        (rows - 1) * stride + row_bytes
    }
}

/// Converts the visible picture in `src` (NV12 or YUV420 8-bit, P010 10-bit;
/// limited or full range as `color` says, with `color`'s matrix) to XRGB8888
/// into `dst`, rows `dst_stride` bytes apart.
/// `dst` must hold `(height−1)·dst_stride + 4·width` bytes.
///
/// Errors: planes or destination shorter than the size and strides require
/// (no panic, nothing written).
pub fn to_xrgb8888(
    src: &PlanesRef<'_>,
    color: ColorInfo,
    dst: &mut [u8],
    dst_stride: usize,
) -> Result<(), ConvertError> {
    let (w, h) = (src.width as usize, src.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let chroma_planes: &[usize] = match src.format {
        PixelFormat::Nv12 | PixelFormat::P010 => &[1],
        PixelFormat::Yuv420 => &[1, 2],
        f @ (PixelFormat::Nv15 | PixelFormat::Nc12 | PixelFormat::Nc30) => {
            // unpack first (crate::detile), then convert the linear result
            return Err(ConvertError::Unsupported(f));
        }
    };
    let sb = src.format.sample_bytes();
    let check = |plane: usize, rows: usize, row_bytes: usize| {
        let (data, stride) = src.planes[plane];
        let need = plane_need(rows, row_bytes, stride);
        if data.len() < need || (rows > 1 && stride < row_bytes) {
            Err(ConvertError::ShortPlane {
                plane,
                have: data.len(),
                need,
                width: src.width,
                height: src.height,
                stride,
            })
        } else {
            Ok(())
        }
    };
    check(0, h, w * sb)?;
    let chroma_row = if src.format == PixelFormat::Yuv420 {
        cw
    } else {
        2 * cw * sb
    };
    for &p in chroma_planes {
        check(p, ch, chroma_row)?;
    }
    let need = plane_need(h, 4 * w, dst_stride);
    if dst.len() < need || (h > 1 && dst_stride < 4 * w) {
        return Err(ConvertError::ShortDestination {
            have: dst.len(),
            need,
            width: src.width,
            height: src.height,
            stride: dst_stride,
        });
    }
    // 8-bit: 16.16 fixed point. 10-bit: two more fraction bits (the samples
    // are 4× the 8-bit scale), so limited-range coefficients are the same
    // integers at both depths.
    let (bits, shift) = if sb == 2 { (10, 18) } else { (8, 16) };
    let ([ky, krv, kgu, kgv, kbu], [y_off, c_off]) =
        color.matrix.fixed(color.full_range, bits, shift);
    let round = 1i32 << (shift - 1);
    // 10-bit value of the P010 sample at byte offset `o`.
    let s16 = |d: &[u8], o: usize| (u16::from_le_bytes([d[o], d[o + 1]]) >> 6) as i32;
    let (y_plane, y_stride) = src.planes[0];
    for row in 0..h {
        let y_row = &y_plane[row * y_stride..row * y_stride + w * sb];
        let crow = row / 2;
        let out = &mut dst[row * dst_stride..row * dst_stride + 4 * w];
        // (Cb, Cr) of chroma sample `i` on this row
        let chroma = |i: usize| -> (i32, i32) {
            match src.format {
                // refused before the loop; neutral chroma keeps this total without a panic
                PixelFormat::Nv15 | PixelFormat::Nc12 | PixelFormat::Nc30 => (c_off, c_off),
                PixelFormat::Nv12 => {
                    let (c, s) = src.planes[1];
                    let o = crow * s + 2 * i;
                    (c[o] as i32, c[o + 1] as i32)
                }
                PixelFormat::P010 => {
                    let (c, s) = src.planes[1];
                    let o = crow * s + 4 * i;
                    (s16(c, o), s16(c, o + 2))
                }
                PixelFormat::Yuv420 => {
                    let (u, us) = src.planes[1];
                    let (v, vs) = src.planes[2];
                    (u[crow * us + i] as i32, v[crow * vs + i] as i32)
                }
            }
        };
        for (x, px) in out.chunks_exact_mut(4).enumerate() {
            let yv = if sb == 2 {
                s16(y_row, 2 * x)
            } else {
                y_row[x] as i32
            };
            let (cb, cr) = chroma(x / 2);
            let (u, v) = (cb - c_off, cr - c_off);
            let yy = ky * (yv - y_off) + round;
            let r = (yy + krv * v) >> shift;
            let g = (yy - kgu * u - kgv * v) >> shift;
            let b = (yy + kbu * u) >> shift;
            px[0] = b.clamp(0, 255) as u8;
            px[1] = g.clamp(0, 255) as u8;
            px[2] = r.clamp(0, 255) as u8;
            px[3] = 0xff;
        }
    }
    Ok(())
}

#[cfg(test)]
mod unpack_tests {
    use super::*;

    /// Tiles a linear NV12 picture (`w` × `h`, strides = w rounded to even)
    /// into NC12 with `luma_height` rows per column and column height `col`:
    /// the inverse of the layout in `pixfmt-nv12-col128.rst`.
    fn nc12_of(y: &[u8], uv: &[u8], w: usize, h: usize, luma_height: usize, col: usize) -> Vec<u8> {
        let cols = w.div_ceil(128).max(1);
        let mut buf = vec![0u8; cols * col * 128];
        let cw = w.div_ceil(2) * 2;
        for r in 0..h {
            for x in 0..w {
                buf[(x / 128) * col * 128 + r * 128 + x % 128] = y[r * w + x];
            }
        }
        for r in 0..h.div_ceil(2) {
            for x in 0..cw {
                buf[(x / 128) * col * 128 + (luma_height + r) * 128 + x % 128] = uv[r * cw + x];
            }
        }
        buf
    }

    #[test]
    fn nc12_unpacks_to_the_nv12_it_was_tiled_from_and_crops() {
        // 200x70 visible edge in a 256x80 allocation, column height 120 (= 80 · 3 / 2)
        let (w, h, lh, col) = (200usize, 70usize, 80usize, 120usize);
        let y: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
        let uv: Vec<u8> = (0..w * h.div_ceil(2))
            .map(|i| (i * 13 % 241) as u8)
            .collect();
        let buf = nc12_of(&y, &uv, w, h, lh, col);
        let src = PlanesRef {
            format: PixelFormat::Nc12,
            width: w as u32,
            height: h as u32,
            planes: [(&buf, col), (&buf[lh * 128..], col), (&[], 0)],
        };
        let mut lf = LinearFrame::default();
        lf.unpack_from(&src, PixelFormat::Nv12).unwrap();
        let p = lf.planes((0, 0, w as u32, h as u32)).unwrap();
        for r in 0..h {
            assert_eq!(
                &p.planes[0].0[r * p.planes[0].1..][..w],
                &y[r * w..][..w],
                "row {r}"
            );
        }
        for r in 0..h.div_ceil(2) {
            assert_eq!(
                &p.planes[1].0[r * p.planes[1].1..][..w],
                &uv[r * w..][..w],
                "chroma row {r}"
            );
        }
        // crop (4, 2, 190, 60): luma from (4, 2), chroma from (2, 1) pairs
        let c = lf.planes((4, 2, 190, 60)).unwrap();
        assert_eq!((c.width, c.height), (190, 60));
        assert_eq!(c.planes[0].0[0], y[2 * w + 4]);
        assert_eq!(&c.planes[1].0[..2], &uv[w + 4..w + 6]);
        assert!(lf.planes((4, 2, 197, 60)).is_none());
        // the same bytes as NC12 with the chroma plane not 128-aligned: refused
        let bad = PlanesRef {
            planes: [(&buf, col), (&buf[lh * 128 + 1..], col), (&[], 0)],
            ..src
        };
        assert!(matches!(
            lf.unpack_from(&bad, PixelFormat::Nv12),
            Err(ConvertError::Detile(_))
        ));
        // a short buffer is an error, not a panic
        let short = PlanesRef {
            planes: [
                (&buf[..col * 128], col),
                (&buf[lh * 128..col * 128], col),
                (&[], 0),
            ],
            ..src
        };
        assert!(lf.unpack_from(&short, PixelFormat::Nv12).is_err());
        // pairs that make no sense are refused
        assert!(matches!(
            lf.unpack_from(&src, PixelFormat::P010),
            Err(ConvertError::Unsupported(PixelFormat::Nc12))
        ));
    }

    #[test]
    fn nv15_to_nv12_is_the_high_bits_of_nv15_to_p010() {
        let (w, h) = (10usize, 4usize);
        let stride = 16; // ≥ ceil(10 · 10 / 8) = 13
        let buf: Vec<u8> = (0..stride * h * 3 / 2)
            .map(|i| (i * 37 % 256) as u8)
            .collect();
        let src = PlanesRef {
            format: PixelFormat::Nv15,
            width: w as u32,
            height: h as u32,
            planes: [(&buf, stride), (&buf[stride * h..], stride), (&[], 0)],
        };
        let mut p010 = LinearFrame::default();
        p010.unpack_from(&src, PixelFormat::P010).unwrap();
        let mut nv12 = LinearFrame::default();
        nv12.unpack_from(&src, PixelFormat::Nv12).unwrap();
        let (a, b) = (
            p010.planes((0, 0, 10, 4)).unwrap(),
            nv12.planes((0, 0, 10, 4)).unwrap(),
        );
        for plane in 0..2 {
            let rows = if plane == 0 { h } else { h / 2 };
            for r in 0..rows {
                for x in 0..w {
                    let v = u16::from_le_bytes([
                        a.planes[plane].0[r * a.planes[plane].1 + 2 * x],
                        a.planes[plane].0[r * a.planes[plane].1 + 2 * x + 1],
                    ]);
                    assert_eq!(b.planes[plane].0[r * b.planes[plane].1 + x], (v >> 8) as u8);
                }
            }
        }
        // first luma sample: bits 9:0 of the first two bytes, MSB-aligned in P010
        let s0 = (u16::from(buf[0]) | (u16::from(buf[1]) << 8)) & 0x3ff;
        assert_eq!(
            u16::from_le_bytes([a.planes[0].0[0], a.planes[0].0[1]]),
            s0 << 6
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lim(matrix: ColorMatrix) -> ColorInfo {
        ColorInfo {
            matrix,
            full_range: false,
        }
    }

    /// R′G′B′ on 0..=255 of one `bits`-bit Y′CbCr sample, straight from the
    /// spec's equations (H.273 §8.3 range, Kr / Kb of BT.601 / 709 / 2020),
    /// not from the converter's coefficient table.
    fn spec_reference(c: ColorInfo, bits: u32, y: u32, cb: u32, cr: u32) -> [f64; 3] {
        let (kr, kb) = match c.matrix {
            ColorMatrix::Bt601 => (0.299, 0.114),
            ColorMatrix::Bt709 => (0.2126, 0.0722),
            ColorMatrix::Bt2020 => (0.2627, 0.0593),
        };
        let (y, cb, cr) = (f64::from(y), f64::from(cb), f64::from(cr));
        let (ey, epb, epr) = if c.full_range {
            let max = f64::from((1u32 << bits) - 1);
            let half = f64::from(1u32 << (bits - 1));
            (y / max, (cb - half) / max, (cr - half) / max)
        } else {
            let s = f64::from(1u32 << (bits - 8));
            (
                (y - 16.0 * s) / (219.0 * s),
                (cb - 128.0 * s) / (224.0 * s),
                (cr - 128.0 * s) / (224.0 * s),
            )
        };
        let r = ey + 2.0 * (1.0 - kr) * epr;
        let b = ey + 2.0 * (1.0 - kb) * epb;
        let g = (ey - kr * r - kb * b) / (1.0 - kr - kb);
        [r, g, b].map(|v| (v * 255.0).clamp(0.0, 255.0))
    }

    fn all_colors() -> impl Strategy<Value = ColorInfo> {
        (
            prop_oneof![
                Just(ColorMatrix::Bt601),
                Just(ColorMatrix::Bt709),
                Just(ColorMatrix::Bt2020)
            ],
            any::<bool>(),
        )
            .prop_map(|(matrix, full_range)| ColorInfo { matrix, full_range })
    }

    fn reference(m: ColorMatrix, y: u8, cb: u8, cr: u8) -> [f64; 3] {
        let [ky, rv, gu, gv, bu] = m.coefficients();
        let (y, u, v) = (y as f64 - 16.0, cb as f64 - 128.0, cr as f64 - 128.0);
        [ky * y + rv * v, ky * y - gu * u - gv * v, ky * y + bu * u].map(|c| c.clamp(0.0, 255.0))
    }

    /// One 2x2 NV12 picture of a single colour.
    fn nv12_px(y: u8, cb: u8, cr: u8) -> ([u8; 4], [u8; 2]) {
        ([y; 4], [cb, cr])
    }

    fn convert_one(m: ColorMatrix, y: u8, cb: u8, cr: u8) -> [u8; 4] {
        let (yp, cp) = nv12_px(y, cb, cr);
        let src = PlanesRef {
            format: PixelFormat::Nv12,
            width: 2,
            height: 2,
            planes: [(&yp, 2), (&cp, 2), (&[], 0)],
        };
        let mut dst = [0u8; 16];
        to_xrgb8888(&src, lim(m), &mut dst, 8).unwrap();
        // all four pixels equal
        assert!(dst.chunks(4).all(|p| p == &dst[..4]));
        [dst[0], dst[1], dst[2], dst[3]]
    }

    #[test]
    fn black_white_grey_are_neutral() {
        for m in [ColorMatrix::Bt601, ColorMatrix::Bt709] {
            assert_eq!(convert_one(m, 16, 128, 128), [0, 0, 0, 0xff]);
            assert_eq!(convert_one(m, 235, 128, 128), [255, 255, 255, 0xff]);
            let g = convert_one(m, 126, 128, 128);
            assert_eq!((g[0], g[1]), (g[1], g[2]));
            assert!((127..=129).contains(&g[0]), "{g:?}");
        }
    }

    #[test]
    fn bt601_primaries() {
        // 75 % red / green / blue in BT.601 limited range (EBU bars, Y'CbCr values
        // from the BT.601 formula): red (81, 90, 240), green (145, 54, 34), blue (41, 240, 110)
        let r = convert_one(ColorMatrix::Bt601, 81, 90, 240);
        assert!(r[2] > 250 && r[1] < 5 && r[0] < 5, "red {r:?}");
        let g = convert_one(ColorMatrix::Bt601, 145, 54, 34);
        assert!(g[1] > 250 && g[2] < 5 && g[0] < 5, "green {g:?}");
        let b = convert_one(ColorMatrix::Bt601, 41, 240, 110);
        assert!(b[0] > 250 && b[1] < 5 && b[2] < 5, "blue {b:?}");
    }

    #[test]
    fn full_range_black_white_and_bt2020_primaries() {
        for matrix in [ColorMatrix::Bt601, ColorMatrix::Bt709, ColorMatrix::Bt2020] {
            let full = ColorInfo {
                matrix,
                full_range: true,
            };
            let one = |y, cb, cr| {
                let (yp, cp) = nv12_px(y, cb, cr);
                let src = PlanesRef {
                    format: PixelFormat::Nv12,
                    width: 2,
                    height: 2,
                    planes: [(&yp, 2), (&cp, 2), (&[], 0)],
                };
                let mut dst = [0u8; 16];
                to_xrgb8888(&src, full, &mut dst, 8).unwrap();
                [dst[0], dst[1], dst[2]]
            };
            assert_eq!(one(0, 128, 128), [0, 0, 0]);
            assert_eq!(one(255, 128, 128), [255, 255, 255]);
            // limited-range black is not black in full range
            assert_eq!(one(16, 128, 128), [16, 16, 16]);
        }
        // BT.2020 full-range 100 % red: Y = 255·Kr, Cb = 128 − 255·Kr / (2(1−Kb)), Cr = 128 + 255·0.5
        let (yp, cp) = nv12_px(67, 92, 255);
        let src = PlanesRef {
            format: PixelFormat::Nv12,
            width: 2,
            height: 2,
            planes: [(&yp, 2), (&cp, 2), (&[], 0)],
        };
        let mut dst = [0u8; 16];
        let bt2020 = ColorInfo {
            matrix: ColorMatrix::Bt2020,
            full_range: true,
        };
        to_xrgb8888(&src, bt2020, &mut dst, 8).unwrap();
        assert!(
            dst[2] >= 253 && dst[1] <= 2 && dst[0] <= 2,
            "{:?}",
            &dst[..4]
        );
        // the same samples read as BT.709 are visibly not pure red
        to_xrgb8888(
            &src,
            ColorInfo {
                matrix: ColorMatrix::Bt709,
                ..bt2020
            },
            &mut dst,
            8,
        )
        .unwrap();
        assert!(dst[1] > 8, "{:?}", &dst[..4]);
    }

    #[test]
    fn color_info_from_h273() {
        let f = ColorInfo::from_h273;
        assert_eq!(f(Some(1), false, 480).matrix, ColorMatrix::Bt709);
        assert_eq!(f(Some(5), false, 1080).matrix, ColorMatrix::Bt601);
        assert_eq!(f(Some(6), false, 1080).matrix, ColorMatrix::Bt601);
        assert_eq!(
            f(Some(9), true, 480),
            ColorInfo {
                matrix: ColorMatrix::Bt2020,
                full_range: true
            }
        );
        assert_eq!(f(Some(10), false, 480).matrix, ColorMatrix::Bt2020);
        assert_eq!(f(None, false, 1080), ColorInfo::from_height(1080));
        assert_eq!(f(None, false, 576), ColorInfo::from_height(576));
        assert_eq!(f(Some(0), true, 576).matrix, ColorMatrix::Bt601);
        assert!(f(None, true, 576).full_range);
        assert!(!ColorInfo::from_height(2160).full_range);
    }

    #[test]
    fn matrix_choice_by_height() {
        assert_eq!(ColorMatrix::for_height(576), ColorMatrix::Bt601);
        assert_eq!(ColorMatrix::for_height(720), ColorMatrix::Bt709);
        assert_eq!(ColorMatrix::for_height(1080), ColorMatrix::Bt709);
    }

    #[test]
    fn yuv420_matches_nv12_and_respects_strides() {
        // 5x3 picture (odd sizes), strides wider than the rows
        let (w, h) = (5usize, 3usize);
        let (cw, ch) = (3usize, 2usize);
        let ys = 8;
        let y: Vec<u8> = (0..ys * h).map(|i| (16 + i * 7 % 220) as u8).collect();
        let u: Vec<u8> = (0..4 * ch).map(|i| (30 + i * 23 % 200) as u8).collect();
        let v: Vec<u8> = (0..4 * ch).map(|i| (200 - i * 17 % 180) as u8).collect();
        let mut uv = vec![0u8; 8 * ch];
        for r in 0..ch {
            for c in 0..cw {
                uv[r * 8 + 2 * c] = u[r * 4 + c];
                uv[r * 8 + 2 * c + 1] = v[r * 4 + c];
            }
        }
        let nv12 = PlanesRef {
            format: PixelFormat::Nv12,
            width: w as u32,
            height: h as u32,
            planes: [(&y, ys), (&uv, 8), (&[], 0)],
        };
        let i420 = PlanesRef {
            format: PixelFormat::Yuv420,
            width: w as u32,
            height: h as u32,
            planes: [(&y, ys), (&u, 4), (&v, 4)],
        };
        let ds = 4 * w + 12;
        let mut a = vec![0u8; ds * h];
        let mut b = vec![0u8; ds * h];
        to_xrgb8888(&nv12, lim(ColorMatrix::Bt601), &mut a, ds).unwrap();
        to_xrgb8888(&i420, lim(ColorMatrix::Bt601), &mut b, ds).unwrap();
        assert_eq!(a, b);
        for row in 0..h {
            for x in 0..w {
                let px = &a[row * ds + 4 * x..][..4];
                let want = reference(
                    ColorMatrix::Bt601,
                    y[row * ys + x],
                    u[row / 2 * 4 + x / 2],
                    v[row / 2 * 4 + x / 2],
                );
                for (c, &want) in [px[2], px[1], px[0]].iter().zip(want.iter()) {
                    assert!(
                        (*c as f64 - want).abs() <= 1.0,
                        "({x},{row}): {px:?} vs {want:?}"
                    );
                }
            }
            // stride padding untouched
            assert!(a[row * ds + 4 * w..(row + 1) * ds].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn short_input_is_an_error_not_a_panic() {
        let y = [16u8; 7];
        let uv = [128u8; 4];
        let src = PlanesRef {
            format: PixelFormat::Nv12,
            width: 4,
            height: 2,
            planes: [(&y, 4), (&uv, 4), (&[], 0)],
        };
        let mut dst = [0u8; 32];
        assert!(matches!(
            to_xrgb8888(&src, lim(ColorMatrix::Bt601), &mut dst, 16),
            Err(ConvertError::ShortPlane {
                plane: 0,
                need: 8,
                ..
            })
        ));
        let y = [16u8; 8];
        let src = PlanesRef {
            format: PixelFormat::Nv12,
            width: 4,
            height: 2,
            planes: [(&y, 4), (&uv, 4), (&[], 0)],
        };
        let mut small = [0u8; 31];
        assert!(matches!(
            to_xrgb8888(&src, lim(ColorMatrix::Bt601), &mut small, 16),
            Err(ConvertError::ShortDestination { need: 32, .. })
        ));
        // P010: 16-bit samples, so 8 luma bytes are half a 4x2 picture's row data.
        let src = PlanesRef {
            format: PixelFormat::P010,
            width: 4,
            height: 2,
            planes: [(&y, 8), (&uv, 8), (&[], 0)],
        };
        assert!(matches!(
            to_xrgb8888(&src, lim(ColorMatrix::Bt601), &mut dst, 16),
            Err(ConvertError::ShortPlane {
                plane: 0,
                need: 16,
                ..
            })
        ));
    }

    /// NV12 planes → P010 planes with the same values (8-bit v → 10-bit 4v, MSB-aligned).
    fn widen(p: &[u8]) -> Vec<u8> {
        p.iter()
            .flat_map(|&v| (((v as u16) << 2) << 6).to_le_bytes())
            .collect()
    }

    #[test]
    fn p010_matches_nv12_of_the_same_values() {
        let (w, h) = (5usize, 3usize);
        let y: Vec<u8> = (0..8 * h).map(|i| (16 + i * 11 % 220) as u8).collect();
        let uv: Vec<u8> = (0..8 * 2).map(|i| (40 + i * 29 % 190) as u8).collect();
        let nv12 = PlanesRef {
            format: PixelFormat::Nv12,
            width: w as u32,
            height: h as u32,
            planes: [(&y, 8), (&uv, 8), (&[], 0)],
        };
        let (y16, uv16) = (widen(&y), widen(&uv));
        let p010 = PlanesRef {
            format: PixelFormat::P010,
            width: w as u32,
            height: h as u32,
            planes: [(&y16, 16), (&uv16, 16), (&[], 0)],
        };
        let ds = 4 * w;
        let (mut a, mut b) = (vec![0u8; ds * h], vec![0u8; ds * h]);
        to_xrgb8888(&nv12, lim(ColorMatrix::Bt709), &mut a, ds).unwrap();
        to_xrgb8888(&p010, lim(ColorMatrix::Bt709), &mut b, ds).unwrap();
        assert_eq!(a, b);
    }

    proptest! {
        #[test]
        fn p010_within_one_of_float_reference(y in 0u16..1024, cb in 0u16..1024, cr in 0u16..1024, hd in any::<bool>()) {
            let m = if hd { ColorMatrix::Bt709 } else { ColorMatrix::Bt601 };
            let yp: Vec<u8> = [y << 6; 4].iter().flat_map(|v| v.to_le_bytes()).collect();
            let cp: Vec<u8> = [cb << 6, cr << 6].iter().flat_map(|v| v.to_le_bytes()).collect();
            let src = PlanesRef {
                format: PixelFormat::P010,
                width: 2,
                height: 2,
                planes: [(&yp, 4), (&cp, 4), (&[], 0)],
            };
            let mut dst = [0u8; 16];
            to_xrgb8888(&src, lim(m), &mut dst, 8).unwrap();
            let [ky, rv, gu, gv, bu] = m.coefficients();
            let (yf, u, v) = ((y as f64 - 64.0) / 4.0, (cb as f64 - 512.0) / 4.0, (cr as f64 - 512.0) / 4.0);
            let want = [ky * yf + rv * v, ky * yf - gu * u - gv * v, ky * yf + bu * u]
                .map(|c| c.clamp(0.0, 255.0));
            for (c, w) in [dst[2], dst[1], dst[0]].iter().zip(want.iter()) {
                prop_assert!((*c as f64 - w).abs() <= 1.0, "{:?} vs {:?}", &dst[..4], want);
            }
        }

        #[test]
        fn nv12_every_matrix_and_range_within_one_of_spec(y in 0u8..=255, cb in 0u8..=255, cr in 0u8..=255, c in all_colors()) {
            let (yp, cp) = nv12_px(y, cb, cr);
            let src = PlanesRef {
                format: PixelFormat::Nv12,
                width: 2,
                height: 2,
                planes: [(&yp, 2), (&cp, 2), (&[], 0)],
            };
            let mut dst = [0u8; 16];
            to_xrgb8888(&src, c, &mut dst, 8).unwrap();
            let want = spec_reference(c, 8, y.into(), cb.into(), cr.into());
            for (got, w) in [dst[2], dst[1], dst[0]].iter().zip(want.iter()) {
                prop_assert!((*got as f64 - w).abs() <= 1.0, "{:?}: {:?} vs {:?}", c, &dst[..4], want);
            }
        }

        #[test]
        fn p010_every_matrix_and_range_within_one_of_spec(y in 0u16..1024, cb in 0u16..1024, cr in 0u16..1024, c in all_colors()) {
            let yp: Vec<u8> = [y << 6; 4].iter().flat_map(|v| v.to_le_bytes()).collect();
            let cp: Vec<u8> = [cb << 6, cr << 6].iter().flat_map(|v| v.to_le_bytes()).collect();
            let src = PlanesRef {
                format: PixelFormat::P010,
                width: 2,
                height: 2,
                planes: [(&yp, 4), (&cp, 4), (&[], 0)],
            };
            let mut dst = [0u8; 16];
            to_xrgb8888(&src, c, &mut dst, 8).unwrap();
            let want = spec_reference(c, 10, y.into(), cb.into(), cr.into());
            for (got, w) in [dst[2], dst[1], dst[0]].iter().zip(want.iter()) {
                prop_assert!((*got as f64 - w).abs() <= 1.0, "{:?}: {:?} vs {:?}", c, &dst[..4], want);
            }
        }

        #[test]
        fn within_one_of_float_reference(y in 0u8..=255, cb in 0u8..=255, cr in 0u8..=255, hd in any::<bool>()) {
            let m = if hd { ColorMatrix::Bt709 } else { ColorMatrix::Bt601 };
            let px = convert_one(m, y, cb, cr);
            let want = reference(m, y, cb, cr);
            for (c, w) in [px[2], px[1], px[0]].iter().zip(want.iter()) {
                prop_assert!((*c as f64 - w).abs() <= 1.0, "{:?} vs {:?}", px, want);
            }
        }
    }
}
