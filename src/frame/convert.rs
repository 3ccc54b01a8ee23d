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
//! * Input is *limited* ("TV", "studio") range: Y in 16..=235, Cb/Cr in 16..=240
//!   (ITU-R BT.601-7 §2.5.3, BT.709-6 §3.4); values outside are clamped after
//!   the matrix.
//! * Matrix: [`ColorMatrix::Bt601`] (Kr 0.299, Kb 0.114) or
//!   [`ColorMatrix::Bt709`] (Kr 0.2126, Kb 0.0722). [`ColorMatrix::for_height`]
//!   picks BT.709 for pictures ≥ 720 lines and BT.601 below — the usual default
//!   for streams without colour description (what mpv and GStreamer do for
//!   unspecified HD/SD content). The stream's VUI `matrix_coefficients` is not
//!   read yet.
//! * Chroma siting: each chroma sample is used for its 2×2 luma block
//!   (nearest, no interpolation).
//!
//! Arithmetic is 16.16 fixed point; the result is within ±1 of the exact
//! real-valued formula (tested against a float reference).

use super::{PixelFormat, PlanesRef};

/// Y′CbCr → R′G′B′ matrix (ITU-R BT.601 / BT.709), limited range input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMatrix {
    /// ITU-R BT.601 (SD).
    Bt601,
    /// ITU-R BT.709 (HD).
    Bt709,
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
        }
    }

    /// Real-valued coefficients: (y, r_v, g_u, g_v, b_u) for
    /// R = y·(Y−16) + r_v·(Cr−128), G = y·(Y−16) − g_u·(Cb−128) − g_v·(Cr−128),
    /// B = y·(Y−16) + b_u·(Cb−128).
    pub fn coefficients(self) -> [f64; 5] {
        let (kr, kb) = self.kr_kb();
        let kg = 1.0 - kr - kb;
        let ys = 255.0 / 219.0;
        let cs = 255.0 / 224.0;
        let r_v = cs * 2.0 * (1.0 - kr);
        let b_u = cs * 2.0 * (1.0 - kb);
        let g_u = cs * 2.0 * (1.0 - kb) * kb / kg;
        let g_v = cs * 2.0 * (1.0 - kr) * kr / kg;
        [ys, r_v, g_u, g_v, b_u]
    }

    fn fixed(self) -> [i32; 5] {
        self.coefficients().map(|c| (c * 65536.0).round() as i32)
    }
}

/// Why a conversion could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("{0:?} cannot be converted to XRGB8888 on the CPU yet")]
    Unsupported(PixelFormat),
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

/// Bytes a plane of `rows` rows of `row_bytes` bytes at `stride` occupies.
fn plane_need(rows: usize, row_bytes: usize, stride: usize) -> usize {
    if rows == 0 {
        0
    } else {
        (rows - 1) * stride + row_bytes
    }
}

/// Converts the visible picture in `src` (NV12 or YUV420 8-bit, P010 10-bit;
/// limited range) to XRGB8888 into `dst`, rows `dst_stride` bytes apart.
/// `dst` must hold `(height−1)·dst_stride + 4·width` bytes.
///
/// Errors: planes or destination shorter than the size and strides require
/// (no panic, nothing written).
pub fn to_xrgb8888(
    src: &PlanesRef<'_>,
    matrix: ColorMatrix,
    dst: &mut [u8],
    dst_stride: usize,
) -> Result<(), ConvertError> {
    let (w, h) = (src.width as usize, src.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let chroma_planes: &[usize] = match src.format {
        PixelFormat::Nv12 | PixelFormat::P010 => &[1],
        PixelFormat::Yuv420 => &[1, 2],
        f @ (PixelFormat::Nv15 | PixelFormat::Nc12 | PixelFormat::Nc30) => {
            // unpack first (crate::frame::detile), then convert the linear result
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
    let [ky, krv, kgu, kgv, kbu] = matrix.fixed();
    // 8-bit: offsets 16 / 128, 16.16 fixed point. 10-bit: offsets 64 / 512 and
    // two more fraction bits (the samples are 4× the 8-bit scale).
    let (y_off, c_off, shift) = if sb == 2 {
        (64, 512, 18)
    } else {
        (16, 128, 16)
    };
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
                PixelFormat::Nv15 | PixelFormat::Nc12 | PixelFormat::Nc30 => {
                    unreachable!("refused above")
                }
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
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        to_xrgb8888(&src, m, &mut dst, 8).unwrap();
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
        to_xrgb8888(&nv12, ColorMatrix::Bt601, &mut a, ds).unwrap();
        to_xrgb8888(&i420, ColorMatrix::Bt601, &mut b, ds).unwrap();
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
            to_xrgb8888(&src, ColorMatrix::Bt601, &mut dst, 16),
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
            to_xrgb8888(&src, ColorMatrix::Bt601, &mut small, 16),
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
            to_xrgb8888(&src, ColorMatrix::Bt601, &mut dst, 16),
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
        to_xrgb8888(&nv12, ColorMatrix::Bt709, &mut a, ds).unwrap();
        to_xrgb8888(&p010, ColorMatrix::Bt709, &mut b, ds).unwrap();
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
            to_xrgb8888(&src, m, &mut dst, 8).unwrap();
            let [ky, rv, gu, gv, bu] = m.coefficients();
            let (yf, u, v) = ((y as f64 - 64.0) / 4.0, (cb as f64 - 512.0) / 4.0, (cr as f64 - 512.0) / 4.0);
            let want = [ky * yf + rv * v, ky * yf - gu * u - gv * v, ky * yf + bu * u]
                .map(|c| c.clamp(0.0, 255.0));
            for (c, w) in [dst[2], dst[1], dst[0]].iter().zip(want.iter()) {
                prop_assert!((*c as f64 - w).abs() <= 1.0, "{:?} vs {:?}", &dst[..4], want);
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
