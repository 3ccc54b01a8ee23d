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
//! paths are tested against (property tests below: random sizes 1..=600 ×
//! 1..=160 incl. odd ones, stride padding, spare luma / column lines, minimal
//! source slices → fast == reference byte for byte, bytes outside the picture
//! untouched, short slices / bad geometry → the same `Err`; plus hand-made
//! layout pins written out from the documents).
//!
//! # Fast paths: what is vectorised how
//! No `unsafe` here (house rule: `unsafe` only in the FFI modules). Plain
//! `core::arch` intrinsics cannot be called safely from an ordinary function
//! even when the feature is on at compile time (rustc 1.95: E0133, "the sse2
//! target feature being enabled in the build configuration does not remove
//! the requirement to list it in `#[target_feature]`", and calling a
//! `#[target_feature]` function is `unsafe` again; in rustc 1.85, the
//! workspace's rust-version, every `core::arch::aarch64` intrinsic is an
//! `unsafe fn` outright). So the explicit SIMD goes through crates that wrap
//! `core::arch` in safe functions compiled in by `cfg(target_feature)` (the
//! `unsafe` blocks are theirs): `safe_arch` 0.7.4 for SSE2 (x86 only) and
//! `wide` 0.7.33 (rust-version 1.61; `wide` 1.x needs 1.89) for NEON, whose
//! `u8x16::swizzle` is `vqtbl1q_s8` (`tbl`), `u16x8` `*` `vmulq_u16`, `>>`
//! `vshlq_u16`, `u8x16::narrow_i16x8` `vqmovun_s16` on aarch64. Dispatch is
//! at compile time (runtime detection would need `unsafe` calls): x86_64
//! gets the SSE2 kernels (the `tbl` ones when built with SSSE3, e.g.
//! `-C target-cpu=x86-64-v2`: `swizzle` is then `pshufb`), aarch64 (NEON is
//! baseline) the `tbl` kernels, every other target the portable ones.
//! The other route, plain fixed-width array code left to LLVM's
//! vectoriser, does not give NEON here: the portable NC30 kernels built for
//! aarch64 (release, trixie's rustc 1.85) are 188 (P010) and 216 (NV12)
//! scalar instructions per 128-byte line (`lsr` / `and` / `orr` / `bfi`, no
//! vector register; `llvm-objdump -d`), where the `tbl` ones are 58 and 69
//! NEON + load / store + loop instructions (below).
//! * SAND128 formats go one destination row at a time; the row is cut into
//!   the output of whole 128-byte column lines (`chunks_mut::<OUT>`, the 1.85 stand-in for `as_chunks_mut`),
//!   each produced by a kernel `&[u8; 128] → &mut [u8; OUT]`; a ragged last
//!   column goes through a stack temporary of which only the used prefix is
//!   copied. On x86_64 each column's line 16 rows ahead is prefetched
//!   (`prefetcht0` through `safe_arch`, both 64-byte halves): a row touches
//!   one line in each of ~15-20 columns 209 KB apart, more streams than the
//!   hardware prefetchers follow (measured: NC30 → NV12 663-754 µs without,
//!   434-569 with; NC30 → P010 792-827 → 546-691; 8, 16 and 32 rows ahead
//!   within noise of each other). aarch64 has no safe prefetch (no `wide` /
//!   stable `core` function): none there. (Bands of 4 / 16 / 64 rows walked
//!   column by column were measured earlier with the SSE2 kernels: no
//!   consistent gain, NC12 slower.)
//! * NC12 → NV12: each line is a 128-byte array copy (SSE2 / NEON moves);
//!   memory-bound (in cache ≈ 2.6-3.5 ns per line), so SIMD has nothing to add.
//! * NC30 → P010 / NV12 and NV15 → P010 on aarch64 (`tbl`, also x86_64
//!   with SSSE3): every output sample is one 10-bit field within two
//!   adjacent source bytes; per 8 samples one 16-byte load, one `tbl` putting
//!   each sample's byte pair in a 16-bit lane, one per-lane shift (`ushl` by
//!   a constant vector: the multiply by `2^(6 - bit offset)`), then `bic`
//!   (P010, `& 0xffc0`) or `ushr #8` + `sqxtun` (NV12, the high byte). NV15
//!   runs the same kernel on 32 samples (40 bytes) per step over the row and
//!   the portable code on the row's last < 40 bytes.
//! * NC30 → P010 and NC30 → NV12 on x86_64 with SSE2 only (`sse2` module),
//!   both ending in one 48-bit stitch (eight 48-bit pieces in u64 lanes → 48
//!   bytes: the portable path's `X0 | X1 << 48`, … on two lanes at once,
//!   then `unpack*_epi64` / `move_sd` into store order). P010, per 8 words:
//!   unpack words to `[w0 w4 w1 w5]`, `[w2 w6 w3 w7]`, shift/mask each
//!   32-bit lane into samples 0|1 and 2 (`v << 6`), unpack to 48-bit lanes
//!   `s0 | s1 << 16 | s2 << 32`. NV12, per 16 words: the portable SWAR
//!   narrowing on each u64 lane (2 words → 6 bytes). SSE2 has no byte
//!   shuffle (`pshufb` is SSSE3, not baseline), so the 3-way interleave
//!   costs ≈ 3-4 vector ops per word: 13 (P010) and 17.7 (NV12) ns per line
//!   in cache against 5.4-6.3 and 5.8-6.1 for the `tbl` kernels built with
//!   SSSE3 on the same machine. (A `pmulhuw` per-lane shift for two of the three
//!   NV12 samples, 5 ops per 4 words instead of 8, measured 22.8 ns: not
//!   taken.)
//! * NC30, portable ([`portable`], targets other than x86_64 / aarch64):
//!   P010 per 4 words, each word's 3 samples spread to 48 bits with 3
//!   mask-and-shifts and stitched into three u64 stores; NV12 per 2 words
//!   one u64 SWAR narrowing (`v >> 2`), 4 words → u64 + u32 store.
//! * NV15 → P010, portable (every target but aarch64): per 4 groups (20
//!   bytes → 32), overlapping u64 loads at bytes 0, 5, 10, 12 and one
//!   mask-and-shift spread per group; remaining groups one by one, a ragged
//!   last group zero-padded.
//!
//! Measured on the shared build VM (x86_64 AMD EPYC, 2 vCPUs shared with
//! two other builds; release profile), `cargo bench -p vreq-frame --bench
//! detile` at 1920x1080 (SAND128 luma_height 1088, col_height 1632; NV15
//! stride 2432): this thread's CPU time, median of 31 runs after 5
//! warm-ups, the conversion and two memcpys (`copy_from_slice` between
//! pre-faulted buffers: one of the source bytes the conversion reads, one of
//! the destination bytes it writes) timed back to back in every run, so that
//! each ratio sees one machine load. ratio = memcpy time / conversion time
//! against the source bytes / the destination bytes. The fair one is the
//! larger side (a conversion must at least read its source and write its
//! destination): destination for P010 outputs, source for NC30 → NV12
//! (4/3 as many bytes read as written), either for NC12. "before" = the
//! parent commit, same day, same machine; runs 1 and 2 = this code (SSE2
//! baseline build); "v2" = this code built with `-C target-cpu=x86-64-v2`
//! (SSSE3: the `tbl` kernels). Absolute times
//! move ±30 % between runs with the other builds' load (the memcpys too):
//!
//! | conversion | before: µs | src× | dst× | run 1: µs | src× | dst× | run 2: µs | src× | dst× | v2: µs | src× | dst× |
//! |---|---|---|---|---|---|---|---|---|---|---|---|---|
//! | NC12 → NV12 | 209 | 0.75 | 0.79 | 244 | 0.81 | 0.80 | 162 | 0.88 | 0.86 | 157 | 0.90 | 0.89 |
//! | NC30 → P010 | 623 | 0.51 | 0.76 | 487 | 0.54 | 0.78 | 556 | 0.74 | 1.08 | 426 | 0.65 | 0.92 |
//! | NC30 → NV12 | 904 | 0.28 | 0.21 | 609 | 0.35 | 0.27 | 628 | 0.60 | 0.49 | 236 | 0.82 | 0.64 |
//! | NV15 → P010 | 508 | 0.45 | 0.75 | 518 | 0.47 | 0.84 | 533 | 0.62 | 1.04 | 534 | 0.53 | 0.90 |
//!
//! Against the ≥ 0.8 goal on the fair side, SSE2 baseline build: NC12 →
//! NV12 0.80-0.88, NC30 → P010 0.78-1.08, NV15 → P010 0.84-1.04 reach it (a
//! loaded run can dip below); NC30 → NV12 does not (0.35-0.60 of its source
//! memcpy, 1.4-1.5× faster than before): it is compute-bound on SSE2 (17.7
//! ns per line × 32400 lines ≈ its whole frame time), and the fix, the
//! `tbl` kernel (0.82-1.10 with SSSE3), needs SSSE3 at compile time, i.e. an
//! x86_64 baseline above Debian's amd64 one (x86-64-v1), or runtime
//! detection, which needs `unsafe` calls.
//!
//! aarch64 (the boards): no board was at hand, so no timing of a real core
//! here. Built by `scripts/cross-arm64.sh` (trixie's rustc 1.85, release)
//! and read with `llvm-objdump -d`, instructions per 128-byte NC30 line in
//! the conversion's inner loop (loop overhead included), NEON `tbl` /
//! portable: P010 58 (12 × `ldr q`, `tbl`, `ushl`, `bic`, 6 × `stp q`) /
//! 188 in the kernel + a call; NV12 69 (12 × `ldr q`, `tbl`, `ushl`, `ushr`,
//! `sqxtun(2)`, stores) / 216 + a call; NV15 → P010 per 32 samples (40
//! source bytes) 29 / 62. Those loops through `llvm-mca` 14 (a scheduling
//! *model*, not a measurement), cycles per line in steady state, Cortex-A72
//! (Raspberry Pi 4; LLVM's A57 model) / Cortex-A55 (RK3568; in order):
//! P010 49 / 67 against the portable kernel's 75 / 124; NV12 45 / 71 against
//! 84 / 129; NV15 per 32 samples 17 / 26 against 23 / 62. (The first
//! layout, each vector loaded, shuffled, shifted and stored in turn, was
//! one dependent chain per vector: 184 cycles per P010 line on the A55
//! model, slower than portable; the kernels now compute a whole line before
//! storing it.) Under qemu-user (`scripts/trixie-chroot.sh run` of the
//! bench built for aarch64, `--quick`) the NEON paths are 3.4-5.7× *slower*
//! than the portable ones (in cache 381 / 459 ns per line for P010 / NV12
//! against 106 / 80; NV15 → P010 12.5 ms against 3.7 ms): qemu TCG runs
//! `tbl` / `ushl` through helper functions, so those are emulation costs
//! and say nothing of a board. The ≥ 0.8 ratios on aarch64 stay unmeasured
//! until the bench runs on one (`cargo bench -p vreq-frame --bench detile`
//! there, or the cross-built binary copied over).

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
/// Saturates instead of overflowing (a saturated need is then "too short").
fn plane_bytes(rows: usize, stride: usize, row_bytes: usize) -> usize {
    if rows == 0 {
        0
    } else {
        (rows - 1).saturating_mul(stride).saturating_add(row_bytes)
    }
}

/// Checks a SAND128 source for a `width_bytes` × `height` luma region.
fn check_sand(
    src: &Sand128,
    width_bytes: usize,
    height: usize,
    w: u32,
    h: u32,
) -> Result<(), DetileError> {
    let ch = height.div_ceil(2);
    if height > src.luma_height {
        return Err(DetileError::Geometry(format!(
            "SAND128: {height} rows asked, the columns hold {} luma rows",
            src.luma_height
        )));
    }
    if src.luma_height.saturating_add(src.luma_height.div_ceil(2)) > src.col_height {
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
    // (saturating: an absurd col_height is then a short source, not an overflow)
    let last = (cols - 1)
        .saturating_mul(src.col_height)
        .saturating_mul(128)
        .saturating_add((src.luma_height + ch).saturating_mul(128));
    need("SAND128 source", src.data.len(), last, w, h)
}

/// Checks a linear destination for `y_row` / `uv_row` bytes per row.
fn check_dst(
    dst: &LinearDst,
    y_row: usize,
    uv_row: usize,
    height: u32,
    w: u32,
) -> Result<(), DetileError> {
    let h = height as usize;
    if dst.y_stride < y_row || dst.uv_stride < uv_row {
        return Err(DetileError::Geometry(format!(
            "destination strides {}/{} < row bytes {y_row}/{uv_row}",
            dst.y_stride, dst.uv_stride
        )));
    }
    need(
        "destination Y plane",
        dst.y.len(),
        plane_bytes(h, dst.y_stride, y_row),
        w,
        height,
    )?;
    need(
        "destination CbCr plane",
        dst.uv.len(),
        plane_bytes(h.div_ceil(2), dst.uv_stride, uv_row),
        w,
        height,
    )
}

/// Checks an NV15 source for `w` × `h` luma samples (rows of `ceil(w·10/8)`
/// bytes; chroma `ceil(w/2)·2` samples × `ceil(h/2)` rows).
fn check_nv15(
    src: &LinearSrc,
    w: usize,
    h: usize,
    width: u32,
    height: u32,
) -> Result<(), DetileError> {
    let cs = w.div_ceil(2) * 2;
    let (yrow, crow) = ((w * 10).div_ceil(8), (cs * 10).div_ceil(8));
    if src.y_stride < yrow || src.uv_stride < crow {
        return Err(DetileError::Geometry(format!(
            "NV15 strides {}/{} < row bytes {yrow}/{crow}",
            src.y_stride, src.uv_stride
        )));
    }
    need(
        "NV15 Y plane",
        src.y.len(),
        plane_bytes(h, src.y_stride, yrow),
        width,
        height,
    )?;
    need(
        "NV15 CbCr plane",
        src.uv.len(),
        plane_bytes(h.div_ceil(2), src.uv_stride, crow),
        width,
        height,
    )
}

/// The plain per-sample definitions (the tests' oracle; also the fallback for
/// any size the fast paths do not cover).
pub mod reference {
    use super::*;

    /// NC12 → NV12, one byte at a time. Errors: [`DetileError`].
    pub fn nc12_to_nv12(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
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
    pub fn nc30_to_p010(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
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
    pub fn nc30_to_nv12(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
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
                dst.uv[y * dst.uv_stride + x] =
                    (nc30_sample(src, src.luma_height + y, x) >> 2) as u8;
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
    pub fn nv15_to_p010(
        src: &LinearSrc,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        let (w, h) = (width as usize, height as usize);
        let cs = w.div_ceil(2) * 2;
        let (yrow, crow) = ((w * 10).div_ceil(8), (cs * 10).div_ceil(8));
        check_nv15(src, w, h, width, height)?;
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

// ---------------------------------------------------------------------------
// Fast paths.
//
// Shape: one destination row at a time; the row is split into the output of
// whole 128-byte column lines (`chunks_mut::<OUT>`), each produced by a
// fixed-size kernel `&[u8; 128] → &mut [u8; OUT]` (no bounds checks inside,
// so LLVM unrolls / vectorises it); a ragged last column goes through a stack
// temporary and only its used prefix is copied. All bounds were checked up
// front by the same `check_*` functions the reference uses.
// ---------------------------------------------------------------------------

/// The whole `N`-byte chunks of `s` as arrays, then the rest: `s.as_chunks::<N>()`
/// as an iterator (`slice::as_chunks` is Rust 1.88; the workspace's
/// rust-version is 1.85, Debian trixie's). `chunks_exact` yields exactly `N`
/// bytes, so the conversion's check folds away after inlining.
#[inline(always)]
fn chunks<const N: usize>(s: &[u8]) -> (impl Iterator<Item = &[u8; N]>, &[u8]) {
    let it = s.chunks_exact(N);
    let rest = it.remainder();
    (it.map(|c| c.try_into().expect("N-byte chunk")), rest)
}

/// [`chunks`] of a mutable slice (`s.as_chunks_mut::<N>()`).
#[inline(always)]
fn chunks_mut<const N: usize>(s: &mut [u8]) -> (impl Iterator<Item = &mut [u8; N]>, &mut [u8]) {
    let (full, rest) = s.split_at_mut(s.len() / N * N);
    (
        full.chunks_exact_mut(N)
            .map(|c| c.try_into().expect("N-byte chunk")),
        rest,
    )
}

/// The `k`-th `M`-byte part of an array (constant `k` after inlining: no check left).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn part<const M: usize>(a: &[u8], k: usize) -> &[u8; M] {
    a[k * M..][..M].try_into().expect("M-byte part")
}

/// The 128-byte line `row` of SAND128 column `c` (bounds checked by `check_sand`).
#[inline(always)]
fn sand_line(data: &[u8], col_height: usize, c: usize, row: usize) -> &[u8; 128] {
    let off = (c * col_height + row) * 128;
    data[off..off + 128]
        .first_chunk::<128>()
        .expect("128-byte line")
}

/// How many rows ahead [`sand_plane`] prefetches each column's line.
const PREFETCH_ROWS: usize = 16;

/// Asks the CPU to fetch the 128-byte line `row` of column `c` into the
/// caches (x86_64 `prefetcht0` through `safe_arch`, which takes a reference:
/// only lines inside the buffer are named; elsewhere a no-op).
#[inline(always)]
fn prefetch_line(src: &Sand128, c: usize, row: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let off = (c * src.col_height + row).saturating_mul(128);
        if let Some(l) = src.data.get(off..off.saturating_add(128)) {
            safe_arch::prefetch_t0(&l[0]);
            safe_arch::prefetch_t0(&l[64]);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (src, c, row);
}

/// Converts `rows` rows of one SAND128 plane region starting at column line
/// `first_row` into `dst` (row `y` at `y · stride`, `row_out` bytes each),
/// `OUT` output bytes per 128-byte column line.
#[inline(always)]
fn sand_plane<const OUT: usize>(
    src: &Sand128,
    first_row: usize,
    rows: usize,
    dst: &mut [u8],
    stride: usize,
    row_out: usize,
    kernel: impl Fn(&[u8; 128], &mut [u8; OUT]),
) {
    for y in 0..rows {
        let drow = &mut dst[y * stride..][..row_out];
        let n = drow.len() / OUT;
        let (full, tail) = chunks_mut::<OUT>(drow);
        for (c, d) in full.enumerate() {
            prefetch_line(src, c, first_row + y + PREFETCH_ROWS);
            kernel(sand_line(src.data, src.col_height, c, first_row + y), d);
        }
        if !tail.is_empty() {
            let mut tmp = [0u8; OUT];
            kernel(
                sand_line(src.data, src.col_height, n, first_row + y),
                &mut tmp,
            );
            tail.copy_from_slice(&tmp[..tail.len()]);
        }
    }
}

/// One NC30 word (3 samples in bits 9:0, 19:10, 29:20) as 3 P010 samples
/// (`v << 6`, little-endian u16) in the low 48 bits of a u64.
#[inline(always)]
fn nc30_word_p010(w: u32) -> u64 {
    let w = w as u64;
    ((w & 0x3ff) << 6) | ((w & 0xf_fc00) << 12) | ((w & 0x3ff0_0000) << 18)
}

/// The little-endian u32 at byte `k` of a fixed-size array (constant `k`
/// after inlining: one load; the length check folds away).
#[inline(always)]
fn le32<const N: usize>(s: &[u8; N], k: usize) -> u32 {
    u32::from_le_bytes(s[k..k + 4].try_into().expect("4 bytes"))
}

/// The little-endian u64 at byte `k` of a fixed-size array.
#[inline(always)]
fn le64<const N: usize>(s: &[u8; N], k: usize) -> u64 {
    u64::from_le_bytes(s[k..k + 8].try_into().expect("8 bytes"))
}

/// One 128-byte NC30 column line (32 words, 96 samples) → 192 bytes of P010.
/// Per 4 words (16 bytes → 24 bytes): each word's 3 samples are spread to
/// 48 bits ([`nc30_word_p010`]) and the four 48-bit pieces are stitched into
/// three u64 stores.
#[inline(always)]
fn kernel_nc30_p010_swar(src: &[u8; 128], dst: &mut [u8; 192]) {
    for (q, o) in chunks::<16>(src).0.zip(chunks_mut::<24>(dst).0) {
        let r0 = nc30_word_p010(le32(q, 0));
        let r1 = nc30_word_p010(le32(q, 4));
        let r2 = nc30_word_p010(le32(q, 8));
        let r3 = nc30_word_p010(le32(q, 12));
        o[..8].copy_from_slice(&(r0 | (r1 << 48)).to_le_bytes());
        o[8..16].copy_from_slice(&((r1 >> 16) | (r2 << 32)).to_le_bytes());
        o[16..].copy_from_slice(&((r2 >> 32) | (r3 << 16)).to_le_bytes());
    }
}

/// Two NC30 words (a little-endian u64) → their 6 samples' 8 high bits
/// (`v >> 2`) in the low 48 bits: both 32-bit lanes are narrowed at once
/// (SWAR), then the two 24-bit results are joined.
#[inline(always)]
fn nc30_pair_nv12(p: u64) -> u64 {
    let t = ((p >> 2) & 0x0000_00ff_0000_00ff)
        | ((p >> 4) & 0x0000_ff00_0000_ff00)
        | ((p >> 6) & 0x00ff_0000_00ff_0000);
    (t & 0xff_ffff) | ((t >> 8) & 0xffff_ff00_0000)
}

/// One 128-byte NC30 column line → 96 bytes of 8-bit samples (`v >> 2`),
/// 4 words (16 bytes → 12 bytes) at a time, one u64 + one u32 store.
#[inline(always)]
fn kernel_nc30_nv12_swar(src: &[u8; 128], dst: &mut [u8; 96]) {
    for (q, o) in chunks::<16>(src).0.zip(chunks_mut::<12>(dst).0) {
        let s0 = nc30_pair_nv12(le64(q, 0));
        let s1 = nc30_pair_nv12(le64(q, 8));
        o[..8].copy_from_slice(&(s0 | (s1 << 48)).to_le_bytes());
        o[8..].copy_from_slice(&((s1 >> 16) as u32).to_le_bytes());
    }
}

/// Explicit SSE2 kernels for the NC30 unpackers (x86_64, where SSE2 is
/// baseline). The intrinsics come through `safe_arch` (safe wrappers over
/// `core::arch`, compiled in by `cfg(target_feature)`: a plain `core::arch`
/// call needs `unsafe` outside `#[target_feature]` functions, and calling
/// those needs `unsafe` again); vectors go in and out of the byte arrays by
/// value (`m128i::from([u8; 16])`), no pointer loads / stores.
///
/// Both kernels end in [`stitch48`](sse2::stitch48): eight 48-bit pieces in
/// u64 lanes → 48 contiguous bytes. NC30 → NV12 makes its pieces with the
/// portable SWAR narrowing per u64 lane (2 words → 6 bytes), 16 words at a
/// time. NC30 → P010, per 8 NC30 words (two 16-byte vectors `a` = w0..w3,
/// `b` = w4..w7):
/// 1. `unpack{lo,hi}_epi32(a, b)` → `[w0 w4 w1 w5]`, `[w2 w6 w3 w7]`;
/// 2. per 32-bit lane, shifts and masks put samples 0 and 1 of the word in
///    its two 16-bit halves (`p`) and sample 2 in the low half of `c`;
/// 3. `unpack{lo,hi}_epi32(p, c)` → 64-bit lanes `X = s0 | s1 << 16 | s2 << 32`
///    (48 bits), paired as `[X0 X4] [X1 X5] [X2 X6] [X3 X7]`;
/// 4. `stitch48`: the same 64-bit stitching as the portable path
///    (`X0 | X1 << 48`, `X1 >> 16 | X2 << 32`, `X2 >> 32 | X3 << 16`) on both
///    halves at once, then `unpack{lo,hi}_epi64` / `move_sd` put the six
///    u64 in store order: 24 16-bit samples in three vectors.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[cfg_attr(target_feature = "ssse3", allow(dead_code))] // tests only, `tbl` runs
mod sse2 {
    use super::{chunks, chunks_mut, part};
    use safe_arch::*;

    /// 8 NC30 words → their 24 P010 samples (`v << 6`, u16) in sample order.
    #[inline(always)]
    fn nc30_8words_p010(a: m128i, b: m128i) -> [m128i; 3] {
        let m = |k: u32| set_splat_i32_m128i(k as i32);
        let split = |t: m128i| {
            // samples 0 and 1 of each word in its two 16-bit halves
            let p = bitor_m128i(
                bitand_m128i(shl_imm_u32_m128i::<6>(t), m(0xffc0)),
                bitand_m128i(shl_imm_u32_m128i::<12>(t), m(0xffc0_0000)),
            );
            // sample 2 in the low half
            let c = bitand_m128i(shr_imm_u32_m128i::<14>(t), m(0xffc0));
            (unpack_low_i32_m128i(p, c), unpack_high_i32_m128i(p, c))
        };
        let (x04, x15) = split(unpack_low_i32_m128i(a, b));
        let (x26, x37) = split(unpack_high_i32_m128i(a, b));
        stitch48(x04, x15, x26, x37)
    }

    /// Eight 48-bit pieces `P0..P7` in the low 48 bits of the u64 lanes of
    /// `[P0 P4] [P1 P5] [P2 P6] [P3 P7]` (high 16 bits zero) → their 48
    /// bytes in order, in three vectors: `P0 | P1 << 48`, `P1 >> 16 | P2 << 32`,
    /// `P2 >> 32 | P3 << 16` (and the same for `P4..P7`) on both halves at once,
    /// then `unpack*_epi64` / `move_sd` into store order.
    #[inline(always)]
    pub(super) fn stitch48(x04: m128i, x15: m128i, x26: m128i, x37: m128i) -> [m128i; 3] {
        // [out0 out3], [out1 out4], [out2 out5]
        let e = bitor_m128i(x04, shl_imm_u64_m128i::<48>(x15));
        let f = bitor_m128i(shr_imm_u64_m128i::<16>(x15), shl_imm_u64_m128i::<32>(x26));
        let g = bitor_m128i(shr_imm_u64_m128i::<32>(x26), shl_imm_u64_m128i::<16>(x37));
        // [out2 out3]: g's low lane, e's high lane
        let ge = cast_to_m128i_from_m128d(copy_replace_low_f64_m128d(
            cast_to_m128d_from_m128i(e),
            cast_to_m128d_from_m128i(g),
        ));
        [unpack_low_i64_m128i(e, f), ge, unpack_high_i64_m128i(f, g)]
    }

    /// One 128-byte NC30 column line → 192 bytes of P010, 8 words at a time.
    #[inline(always)]
    pub(super) fn kernel_nc30_p010(src: &[u8; 128], dst: &mut [u8; 192]) {
        for (i, o) in chunks::<32>(src).0.zip(chunks_mut::<48>(dst).0) {
            let r = nc30_8words_p010(
                m128i::from(*part::<16>(i, 0)),
                m128i::from(*part::<16>(i, 1)),
            );
            for (o, r) in chunks_mut::<16>(o).0.zip(r) {
                *o = r.into();
            }
        }
    }

    /// One 128-byte NC30 column line → 96 bytes of 8-bit samples (`v >> 2`),
    /// 16 words at a time: per u64 lane (2 words, 6 samples) the portable
    /// SWAR narrowing (3 shift-and-masks, then the two 24-bit halves joined
    /// into 48 bits), lanes paired as words `[0,1 | 8,9] [2,3 | 10,11]
    /// [4,5 | 12,13] [6,7 | 14,15]`, then [`stitch48`].
    #[inline(always)]
    pub(super) fn kernel_nc30_nv12(src: &[u8; 128], dst: &mut [u8; 96]) {
        let m = |k: u64| set_splat_i64_m128i(k as i64);
        let six = |p: m128i| {
            let t = bitor_m128i(
                bitor_m128i(
                    bitand_m128i(shr_imm_u64_m128i::<2>(p), m(0x0000_00ff_0000_00ff)),
                    bitand_m128i(shr_imm_u64_m128i::<4>(p), m(0x0000_ff00_0000_ff00)),
                ),
                bitand_m128i(shr_imm_u64_m128i::<6>(p), m(0x00ff_0000_00ff_0000)),
            );
            bitor_m128i(
                bitand_m128i(t, m(0xff_ffff)),
                bitand_m128i(shr_imm_u64_m128i::<8>(t), m(0xffff_ff00_0000)),
            )
        };
        for (i, o) in chunks::<64>(src).0.zip(chunks_mut::<48>(dst).0) {
            let [v0, v1, v2, v3] = [0, 1, 2, 3].map(|k| m128i::from(*part::<16>(i, k)));
            let r = stitch48(
                six(unpack_low_i64_m128i(v0, v2)),
                six(unpack_high_i64_m128i(v0, v2)),
                six(unpack_low_i64_m128i(v1, v3)),
                six(unpack_high_i64_m128i(v1, v3)),
            );
            for (o, r) in chunks_mut::<16>(o).0.zip(r) {
                *o = r.into();
            }
        }
    }
}

/// Byte-table-lookup kernels (`tbl`), the NEON path on aarch64: NC30 → P010,
/// NC30 → NV12 and NV15 → P010 through `wide`'s `u8x16` / `u16x8` (safe
/// types whose methods call `core::arch::aarch64` NEON intrinsics on aarch64,
/// selected by `cfg(target_feature = "neon")`, baseline there). The same
/// source compiles on every target (off aarch64, `wide` falls back to SSE2 or
/// plain arrays, a scalar loop for `swizzle` without SSSE3), so the host's
/// tests run the algorithm too (through [`neon_tbl`]); aarch64 (and x86_64
/// built with SSSE3, where `swizzle` is `pshufb`) uses it for the conversions.
///
/// Every output sample of these formats is one 10-bit field lying in two
/// adjacent source bytes. Per 8 output samples (one `u16x8`):
/// 1. a 16-byte load at the first sample's word (NC30) / byte (NV15);
/// 2. `swizzle` (NEON `tbl`) puts each sample's two bytes, little-endian, in
///    its 16-bit lane;
/// 3. a per-lane multiply by `2^(6 - bit offset of the field in the pair)`
///    shifts the field to bits 15:6 (the bits above it fall off): P010 is
///    then `& 0xffc0`; NV12 (8 high bits, `v >> 2`) is the lane's high byte
///    (`>> 8`, then `narrow` two vectors into 16 bytes).
///
/// In NC30 a sample `i` of a 128-byte column line is field `i % 3` of word
/// `i / 3`: bytes `4·(i/3) + i%3`, `+1`, field offset `2·(i%3)` bits, so the
/// multiplier is `2^6`, `2^4`, `2^2`. 8 consecutive samples span at most 4
/// words (16 bytes). The pattern repeats every 24 samples (8 words, 32
/// bytes): P010 takes 32 source bytes → 48 destination bytes (3 vectors),
/// NV12 64 → 48 (6 half vectors). In NV15 sample `i` of a row is at bit
/// `10·i`: bytes `10·i / 8`, `+1`, offset `10·i % 8` ∈ {0, 2, 4, 6}; 8 samples
/// are 10 bytes, 32 samples (40 bytes) per step of four loads.
mod tbl {
    use super::chunks_mut;
    use bytemuck::cast;
    use wide::{i16x8, i8x16, u16x8, u8x16};

    /// The swizzle indices, multipliers and load offset (bytes) of one
    /// `u16x8` of output.
    struct Plan {
        idx: i8x16,
        mul: u16x8,
        load: usize,
    }

    /// The 16-byte load for bytes from `first` in a block of `block` bytes:
    /// at `first`, or moved back to end at the block's end.
    const fn load_at(first: usize, block: usize) -> usize {
        if first + 16 > block {
            block - 16
        } else {
            first
        }
    }

    /// NC30: the plan for the 8 samples from sample `s0` of a `block`-byte
    /// block of words (8 samples span at most 4 words: 16 bytes).
    const fn nc30_plan(s0: usize, block: usize) -> Plan {
        let load = load_at(4 * (s0 / 3), block);
        let (mut idx, mut mul) = ([0i8; 16], [0u16; 8]);
        let mut l = 0;
        while l < 8 {
            let (k, f) = ((s0 + l) / 3, (s0 + l) % 3);
            let b = 4 * k + f - load;
            idx[2 * l] = b as i8;
            idx[2 * l + 1] = b as i8 + 1;
            mul[l] = 1 << (6 - 2 * f);
            l += 1;
        }
        Plan {
            idx: i8x16::new(idx),
            mul: u16x8::new(mul),
            load,
        }
    }

    /// NV15: the plan for the 8 samples from sample `s0` (a multiple of 8:
    /// 10 bytes) of a `block`-byte block.
    const fn nv15_plan(s0: usize, block: usize) -> Plan {
        let load = load_at(s0 * 10 / 8, block);
        let (mut idx, mut mul) = ([0i8; 16], [0u16; 8]);
        let mut l = 0;
        while l < 8 {
            let bit = (s0 + l) * 10;
            let b = bit / 8 - load;
            idx[2 * l] = b as i8;
            idx[2 * l + 1] = b as i8 + 1;
            mul[l] = 1 << (6 - bit % 8);
            l += 1;
        }
        Plan {
            idx: i8x16::new(idx),
            mul: u16x8::new(mul),
            load,
        }
    }

    /// The 8 samples of `plan` from `src`, each shifted to bits 15:6 of its
    /// lane (bits below: neighbouring bits, to be masked or dropped).
    #[inline(always)]
    fn fields<const N: usize>(src: &[u8; N], plan: &Plan) -> u16x8 {
        let v: [u8; 16] = src[plan.load..plan.load + 16].try_into().expect("16 bytes");
        let pairs: u16x8 = cast(u8x16::new(v).swizzle(plan.idx));
        pairs * plan.mul
    }

    /// P010 (bits 15:6) of the 8 samples of `plan`, as 16 bytes.
    #[inline(always)]
    fn p010<const N: usize>(src: &[u8; N], plan: &Plan) -> [u8; 16] {
        cast(fields(src, plan) & u16x8::splat(0xffc0))
    }

    /// 8-bit (`v >> 2`) of the 16 samples of two plans, as 16 bytes.
    #[inline(always)]
    fn nv12<const N: usize>(src: &[u8; N], a: &Plan, b: &Plan) -> [u8; 16] {
        let hi = |p: &Plan| -> i16x8 { cast(fields(src, p) >> 8) };
        u8x16::narrow_i16x8(hi(a), hi(b)).to_array()
    }

    /// P010: 8 words (32 bytes) → 24 samples.
    const NC30_P010: [Plan; 3] = [nc30_plan(0, 32), nc30_plan(8, 32), nc30_plan(16, 32)];

    /// NV12: 16 words (64 bytes) → 48 samples.
    const NC30_NV12: [Plan; 6] = [
        nc30_plan(0, 64),
        nc30_plan(8, 64),
        nc30_plan(16, 64),
        nc30_plan(24, 64),
        nc30_plan(32, 64),
        nc30_plan(40, 64),
    ];

    /// One 128-byte NC30 column line → 192 bytes of P010, 8 words (32 bytes
    /// → 48) at a time.
    #[inline(always)]
    pub(super) fn kernel_nc30_p010(src: &[u8; 128], dst: &mut [u8; 192]) {
        // all 12 vectors of the line first, then the stores: independent
        // chains an in-order core (Cortex-A53 / A55) can overlap
        let block = |k: usize| -> &[u8; 32] { src[32 * k..][..32].try_into().expect("32 bytes") };
        let r: [[u8; 16]; 12] = core::array::from_fn(|k| p010(block(k / 3), &NC30_P010[k % 3]));
        for (o, r) in chunks_mut::<16>(dst).0.zip(r) {
            *o = r;
        }
    }

    /// One 128-byte NC30 column line → 96 bytes of 8-bit samples (`v >> 2`),
    /// 16 words (64 bytes → 48) at a time.
    #[inline(always)]
    pub(super) fn kernel_nc30_nv12(src: &[u8; 128], dst: &mut [u8; 96]) {
        // all 6 vectors of the line first, then the stores (as P010)
        let block = |k: usize| -> &[u8; 64] { src[64 * k..][..64].try_into().expect("64 bytes") };
        let r: [[u8; 16]; 6] = core::array::from_fn(|k| {
            let (b, j) = (block(k / 3), k % 3);
            nv12(b, &NC30_NV12[2 * j], &NC30_NV12[2 * j + 1])
        });
        for (o, r) in chunks_mut::<16>(dst).0.zip(r) {
            *o = r;
        }
    }

    /// 40 bytes → 32 samples (the last load at byte 24).
    const NV15: [Plan; 4] = [
        nv15_plan(0, 40),
        nv15_plan(8, 40),
        nv15_plan(16, 40),
        nv15_plan(24, 40),
    ];

    /// The head of an NV15 row → P010: 32 samples (40 bytes → 64) at a time.
    /// Returns the rest of `src` and `dst` (at a 4-group boundary) for the
    /// portable code.
    #[inline(always)]
    pub(super) fn nv15_head<'s, 'd>(
        mut src: &'s [u8],
        mut dst: &'d mut [u8],
    ) -> (&'s [u8], &'d mut [u8]) {
        while let (Some(s), true) = (src.first_chunk::<40>(), dst.len() >= 64) {
            let (o, rest) = std::mem::take(&mut dst).split_at_mut(64);
            let o: &mut [u8; 64] = o.try_into().expect("64 bytes");
            for (o, plan) in chunks_mut::<16>(o).0.zip(&NV15) {
                *o = p010(s, plan);
            }
            src = &src[40..];
            dst = rest;
        }
        (src, dst)
    }
}

// The line kernels the NC30 paths use: the `tbl` ones where a byte shuffle
// is baseline (aarch64 NEON `tbl`; x86_64 built with SSSE3 `pshufb`, e.g.
// `-C target-cpu=x86-64-v2`), SSE2 on other x86_64 builds, the portable SWAR
// ones elsewhere.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(target_feature = "ssse3")
))]
use sse2::{kernel_nc30_nv12, kernel_nc30_p010};
#[cfg(any(
    all(target_arch = "aarch64", target_feature = "neon"),
    all(target_arch = "x86_64", target_feature = "ssse3")
))]
use tbl::{kernel_nc30_nv12, kernel_nc30_p010};
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "aarch64", target_feature = "neon")
)))]
use {kernel_nc30_nv12_swar as kernel_nc30_nv12, kernel_nc30_p010_swar as kernel_nc30_p010};

/// One NV15 40-bit group (4 samples at bits 0, 10, 20, 30; higher bits
/// ignored) → 4 P010 samples.
#[inline(always)]
fn nv15_bits_p010(g: u64) -> [u8; 8] {
    (((g & 0x3ff) << 6)
        | ((g & 0xf_fc00) << 12)
        | ((g & 0x3ff0_0000) << 18)
        | ((g & 0xff_c000_0000) << 24))
        .to_le_bytes()
}

/// One NV15 5-byte group (4 samples, little-endian bit order) → 4 P010
/// samples (8 bytes).
#[inline(always)]
fn nv15_group_p010(g: &[u8; 5]) -> [u8; 8] {
    nv15_bits_p010(u64::from_le_bytes([g[0], g[1], g[2], g[3], g[4], 0, 0, 0]))
}

/// 4 NV15 groups (20 bytes) → 16 P010 samples (32 bytes): overlapping u64
/// loads at bytes 0, 5, 10 and 12 (the last shifted down by 24 bits).
#[inline(always)]
fn nv15_quad_p010(s: &[u8; 20], o: &mut [u8; 32]) {
    o[..8].copy_from_slice(&nv15_bits_p010(le64(s, 0)));
    o[8..16].copy_from_slice(&nv15_bits_p010(le64(s, 5)));
    o[16..24].copy_from_slice(&nv15_bits_p010(le64(s, 10)));
    o[24..].copy_from_slice(&nv15_bits_p010(le64(s, 12) >> 24));
}

/// `rows` NV15 rows of `samples` samples each → P010; with `TBL` the head of
/// each row through `tbl` (NEON on aarch64), the rest portable.
fn nv15_plane<const TBL: bool>(
    src: &[u8],
    src_stride: usize,
    rows: usize,
    samples: usize,
    dst: &mut [u8],
    dst_stride: usize,
) {
    let row_in = (samples * 10).div_ceil(8);
    for y in 0..rows {
        let s = &src[y * src_stride..][..row_in];
        let d = &mut dst[y * dst_stride..][..samples * 2];
        let (s, d) = if TBL { tbl::nv15_head(s, d) } else { (s, d) };
        // row_in = 5·g + t (g = samples/4 whole groups, t = ceil(10·(samples%4)/8) < 5)
        // and samples·2 = 8·g + 2·(samples%4): both sides hold g/4 whole
        // 4-group quads, then g%4 whole groups, then a tail of < 5 / < 8 bytes.
        let (sq, s) = chunks::<20>(s);
        let (dq, d) = chunks_mut::<32>(d);
        for (q, o) in sq.zip(dq) {
            nv15_quad_p010(q, o);
        }
        let (sg, stail) = chunks::<5>(s);
        let (dg, dtail) = chunks_mut::<8>(d);
        for (g, o) in sg.zip(dg) {
            *o = nv15_group_p010(g);
        }
        if !dtail.is_empty() {
            let mut g = [0u8; 5];
            g[..stail.len()].copy_from_slice(stail);
            let o = nv15_group_p010(&g);
            dtail.copy_from_slice(&o[..dtail.len()]);
        }
    }
}

/// NC12 → NV12 (fast path: whole 128-byte column lines copied). Same
/// contract as [`reference::nc12_to_nv12`].
pub fn nc12_to_nv12(
    src: &Sand128,
    width: u32,
    height: u32,
    dst: &mut LinearDst,
) -> Result<(), DetileError> {
    let (w, h) = (width as usize, height as usize);
    let cw = w.div_ceil(2) * 2;
    check_sand(src, w.max(cw), h, width, height)?;
    check_dst(dst, w, cw, height, width)?;
    if w == 0 || h == 0 {
        return Ok(());
    }
    let copy = |s: &[u8; 128], d: &mut [u8; 128]| *d = *s;
    sand_plane(src, 0, h, dst.y, dst.y_stride, w, copy);
    sand_plane(
        src,
        src.luma_height,
        h.div_ceil(2),
        dst.uv,
        dst.uv_stride,
        cw,
        copy,
    );
    Ok(())
}

/// NC30 → P010 (fast path). Same contract as [`reference::nc30_to_p010`].
pub fn nc30_to_p010(
    src: &Sand128,
    width: u32,
    height: u32,
    dst: &mut LinearDst,
) -> Result<(), DetileError> {
    nc30_with(src, width, height, dst, kernel_nc30_p010)
}

/// NC30 → P010 (`OUT` = 192: 96 samples × 2 bytes per column line) or NV12
/// (`OUT` = 96: 1 byte per sample) with a given line kernel.
#[inline(always)]
fn nc30_with<const OUT: usize>(
    src: &Sand128,
    width: u32,
    height: u32,
    dst: &mut LinearDst,
    kernel: impl Fn(&[u8; 128], &mut [u8; OUT]) + Copy,
) -> Result<(), DetileError> {
    let sb = OUT / 96; // bytes per output sample
    let (w, h) = (width as usize, height as usize);
    let cs = w.div_ceil(2) * 2;
    check_sand(src, reference::nc30_row_bytes(w.max(cs)), h, width, height)?;
    check_dst(dst, w * sb, cs * sb, height, width)?;
    if w == 0 || h == 0 {
        return Ok(());
    }
    sand_plane(src, 0, h, dst.y, dst.y_stride, w * sb, kernel);
    sand_plane(
        src,
        src.luma_height,
        h.div_ceil(2),
        dst.uv,
        dst.uv_stride,
        cs * sb,
        kernel,
    );
    Ok(())
}

/// NC30 → NV12 (fast path). Same contract as [`reference::nc30_to_nv12`].
pub fn nc30_to_nv12(
    src: &Sand128,
    width: u32,
    height: u32,
    dst: &mut LinearDst,
) -> Result<(), DetileError> {
    nc30_with(src, width, height, dst, kernel_nc30_nv12)
}

/// The portable (SWAR, no `std::arch`) paths: NC30 what every target but
/// x86_64 and aarch64 runs, NV15 what every target but aarch64 runs. Public
/// only so that the tests and `benches/detile.rs` can hold them against the
/// reference and the SSE2 / NEON paths.
#[doc(hidden)]
pub mod portable {
    use super::*;

    /// NC30 → P010 through the portable line kernel. Same contract as
    /// [`reference::nc30_to_p010`].
    pub fn nc30_to_p010(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        nc30_with(src, width, height, dst, kernel_nc30_p010_swar)
    }

    /// NC30 → NV12 through the portable line kernel. Same contract as
    /// [`reference::nc30_to_nv12`].
    pub fn nc30_to_nv12(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        nc30_with(src, width, height, dst, kernel_nc30_nv12_swar)
    }

    /// NV15 → P010, portable only (what every target but aarch64 runs).
    /// Same contract as [`reference::nv15_to_p010`].
    pub fn nv15_to_p010(
        src: &LinearSrc,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        nv15_with::<false>(src, width, height, dst)
    }
}

/// NV15 → P010 (fast path). Same contract as [`reference::nv15_to_p010`].
pub fn nv15_to_p010(
    src: &LinearSrc,
    width: u32,
    height: u32,
    dst: &mut LinearDst,
) -> Result<(), DetileError> {
    nv15_with::<{ cfg!(all(target_arch = "aarch64", target_feature = "neon")) }>(
        src, width, height, dst,
    )
}

/// NV15 → P010, the row heads through `tbl` if `TBL`.
#[inline(always)]
fn nv15_with<const TBL: bool>(
    src: &LinearSrc,
    width: u32,
    height: u32,
    dst: &mut LinearDst,
) -> Result<(), DetileError> {
    let (w, h) = (width as usize, height as usize);
    let cs = w.div_ceil(2) * 2;
    check_nv15(src, w, h, width, height)?;
    check_dst(dst, w * 2, cs * 2, height, width)?;
    nv15_plane::<TBL>(src.y, src.y_stride, h, w, dst.y, dst.y_stride);
    nv15_plane::<TBL>(
        src.uv,
        src.uv_stride,
        h.div_ceil(2),
        cs,
        dst.uv,
        dst.uv_stride,
    );
    Ok(())
}

/// The `tbl` kernels (NEON on aarch64; `wide`'s SSE2 / scalar fallbacks
/// elsewhere, slow there: a scalar `swizzle` without SSSE3) as whole
/// conversions, on every target: for the property tests (== the portable
/// paths == the reference) and the bench. On aarch64 these are the fast
/// paths themselves.
#[doc(hidden)]
pub mod neon_tbl {
    use super::*;

    /// NC30 → P010 through `tbl`'s line kernel. Same contract as
    /// [`reference::nc30_to_p010`].
    pub fn nc30_to_p010(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        nc30_with(src, width, height, dst, tbl::kernel_nc30_p010)
    }

    /// NC30 → NV12 through `tbl`'s line kernel. Same contract as
    /// [`reference::nc30_to_nv12`].
    pub fn nc30_to_nv12(
        src: &Sand128,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        nc30_with(src, width, height, dst, tbl::kernel_nc30_nv12)
    }

    /// NV15 → P010 with the row heads through `tbl`. Same contract as
    /// [`reference::nv15_to_p010`].
    pub fn nv15_to_p010(
        src: &LinearSrc,
        width: u32,
        height: u32,
        dst: &mut LinearDst,
    ) -> Result<(), DetileError> {
        nv15_with::<true>(src, width, height, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Conv = fn(&Sand128, u32, u32, &mut LinearDst) -> Result<(), DetileError>;

    fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
        // Fibonacci hashing of the index: deterministic, well spread.
        (0..n as u64)
            .map(|i| (seed.wrapping_add(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect()
    }

    /// One random SAND128 case: geometry, source and destination sizes.
    #[derive(Debug, Clone)]
    struct SandCase {
        width: u32,
        height: u32,
        luma_height: usize,
        col_height: usize,
        y_pad: usize,
        uv_pad: usize,
        tail: usize,
        seed: u64,
    }

    fn sand_case() -> impl Strategy<Value = SandCase> {
        (
            1u32..=600,
            1u32..=160,
            0usize..=6,
            0usize..=6,
            0usize..=70,
            0usize..=70,
            0usize..=40,
            any::<u64>(),
        )
            .prop_map(|(width, height, lx, cx, y_pad, uv_pad, tail, seed)| {
                let luma_height = height as usize + lx;
                SandCase {
                    width,
                    height,
                    luma_height,
                    col_height: luma_height + luma_height.div_ceil(2) + cx,
                    y_pad,
                    uv_pad,
                    tail,
                    seed,
                }
            })
    }

    /// Bytes per row: (source extent in a column row, destination Y row,
    /// destination CbCr row) for a format with `bits` 8 (NC12) or 10 (NC30)
    /// and `out` destination bytes per sample.
    fn sand_rows(width: u32, bits: u32, out: usize) -> (usize, usize, usize) {
        let w = width as usize;
        let cs = w.div_ceil(2) * 2;
        let src = if bits == 8 {
            cs
        } else {
            // 96 samples per 128-byte column line, 3 per 4-byte word
            let cols = cs.div_ceil(96);
            (cols - 1) * 128 + (cs - (cols - 1) * 96).div_ceil(3) * 4
        };
        (src, w * out, cs * out)
    }

    /// Runs `fast` and `reference` on the same input and destination and
    /// checks: identical results, identical bytes, bytes outside the written
    /// rows untouched.
    fn check_sand_case(
        c: &SandCase,
        bits: u32,
        out: usize,
        fast: Conv,
        reference: Conv,
    ) -> Result<(), TestCaseError> {
        let (src_row, y_row, uv_row) = sand_rows(c.width, bits, out);
        let h = c.height as usize;
        let ch = h.div_ceil(2);
        let cols = src_row.div_ceil(128);
        // the smallest source that holds the last chroma line read
        let src_len = (cols - 1) * c.col_height * 128 + (c.luma_height + ch) * 128;
        let data = random_bytes(src_len, c.seed);
        let src = Sand128 {
            data: &data,
            col_height: c.col_height,
            luma_height: c.luma_height,
        };
        let (ys, uvs) = (y_row + c.y_pad, uv_row + c.uv_pad);
        let y0 = random_bytes((h - 1) * ys + y_row + c.tail, c.seed ^ 0x5555);
        let uv0 = random_bytes((ch - 1) * uvs + uv_row + c.tail, c.seed ^ 0xaaaa);
        let (mut yf, mut uvf, mut yr, mut uvr) = (y0.clone(), uv0.clone(), y0.clone(), uv0.clone());
        let rf = fast(
            &src,
            c.width,
            c.height,
            &mut LinearDst {
                y: &mut yf,
                y_stride: ys,
                uv: &mut uvf,
                uv_stride: uvs,
            },
        );
        let rr = reference(
            &src,
            c.width,
            c.height,
            &mut LinearDst {
                y: &mut yr,
                y_stride: ys,
                uv: &mut uvr,
                uv_stride: uvs,
            },
        );
        prop_assert_eq!(&rf, &Ok(()));
        prop_assert_eq!(&rr, &Ok(()));
        prop_assert!(yf == yr, "Y planes differ");
        prop_assert!(uvf == uvr, "CbCr planes differ");
        untouched(&y0, &yf, ys, y_row, h)?;
        untouched(&uv0, &uvf, uvs, uv_row, ch)?;
        Ok(())
    }

    /// Every byte outside rows `[k·stride, k·stride + row)`, `k < rows`, is as before.
    fn untouched(
        before: &[u8],
        after: &[u8],
        stride: usize,
        row: usize,
        rows: usize,
    ) -> Result<(), TestCaseError> {
        for (i, (a, b)) in before.iter().zip(after).enumerate() {
            if i % stride >= row || i / stride >= rows {
                prop_assert_eq!(
                    a,
                    b,
                    "byte {} (stride {}, row {}) outside the picture changed",
                    i,
                    stride,
                    row
                );
            }
        }
        Ok(())
    }

    /// One random NV15 case.
    #[derive(Debug, Clone)]
    struct Nv15Case {
        width: u32,
        height: u32,
        src_pad: (usize, usize),
        dst_pad: (usize, usize),
        tail: usize,
        seed: u64,
    }

    fn nv15_case() -> impl Strategy<Value = Nv15Case> {
        (
            1u32..=600,
            1u32..=160,
            (0usize..=70, 0usize..=70),
            (0usize..=70, 0usize..=70),
            0usize..=40,
            any::<u64>(),
        )
            .prop_map(|(width, height, src_pad, dst_pad, tail, seed)| Nv15Case {
                width,
                height,
                src_pad,
                dst_pad,
                tail,
                seed,
            })
    }

    type Nv15Conv = fn(&LinearSrc, u32, u32, &mut LinearDst) -> Result<(), DetileError>;

    /// Runs `fast` and `reference` on one NV15 case (as [`check_sand_case`]).
    fn run_nv15(c: &Nv15Case, fast: Nv15Conv, reference: Nv15Conv) -> Result<(), TestCaseError> {
        let (w, h) = (c.width as usize, c.height as usize);
        let (cs, ch) = (w.div_ceil(2) * 2, h.div_ceil(2));
        let (yrow, crow) = ((w * 10).div_ceil(8), (cs * 10).div_ceil(8));
        let (sys, suvs) = (yrow + c.src_pad.0, crow + c.src_pad.1);
        // the smallest source planes (the last row without stride padding)
        let sy = random_bytes((h - 1) * sys + yrow, c.seed);
        let suv = random_bytes((ch - 1) * suvs + crow, !c.seed);
        let src = LinearSrc {
            y: &sy,
            y_stride: sys,
            uv: &suv,
            uv_stride: suvs,
        };
        let (y_row, uv_row) = (w * 2, cs * 2);
        let (ys, uvs) = (y_row + c.dst_pad.0, uv_row + c.dst_pad.1);
        let y0 = random_bytes((h - 1) * ys + y_row + c.tail, c.seed ^ 0x5555);
        let uv0 = random_bytes((ch - 1) * uvs + uv_row + c.tail, c.seed ^ 0xaaaa);
        let (mut yf, mut uvf, mut yr, mut uvr) = (y0.clone(), uv0.clone(), y0.clone(), uv0.clone());
        let rf = fast(
            &src,
            c.width,
            c.height,
            &mut LinearDst {
                y: &mut yf,
                y_stride: ys,
                uv: &mut uvf,
                uv_stride: uvs,
            },
        );
        let rr = reference(
            &src,
            c.width,
            c.height,
            &mut LinearDst {
                y: &mut yr,
                y_stride: ys,
                uv: &mut uvr,
                uv_stride: uvs,
            },
        );
        prop_assert_eq!(&rf, &Ok(()));
        prop_assert_eq!(&rr, &Ok(()));
        prop_assert!(yf == yr, "Y planes differ");
        prop_assert!(uvf == uvr, "CbCr planes differ");
        untouched(&y0, &yf, ys, y_row, h)?;
        untouched(&uv0, &uvf, uvs, uv_row, ch)?;
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn nc12_to_nv12_matches_reference(c in sand_case()) {
            check_sand_case(&c, 8, 1, nc12_to_nv12, reference::nc12_to_nv12)?;
        }

        #[test]
        fn nc30_to_p010_matches_reference(c in sand_case()) {
            check_sand_case(&c, 10, 2, nc30_to_p010, reference::nc30_to_p010)?;
        }

        #[test]
        fn nc30_to_nv12_matches_reference(c in sand_case()) {
            check_sand_case(&c, 10, 1, nc30_to_nv12, reference::nc30_to_nv12)?;
        }

        #[test]
        fn portable_nc30_matches_reference(c in sand_case()) {
            check_sand_case(&c, 10, 2, portable::nc30_to_p010, reference::nc30_to_p010)?;
            check_sand_case(&c, 10, 1, portable::nc30_to_nv12, reference::nc30_to_nv12)?;
        }

        /// The NEON (`tbl`) paths == the portable paths (NEON on aarch64,
        /// `wide`'s fallbacks elsewhere).
        #[test]
        fn neon_tbl_nc30_matches_portable(c in sand_case()) {
            check_sand_case(&c, 10, 2, neon_tbl::nc30_to_p010, portable::nc30_to_p010)?;
            check_sand_case(&c, 10, 1, neon_tbl::nc30_to_nv12, portable::nc30_to_nv12)?;
        }

        #[test]
        fn neon_tbl_nv15_matches_portable(c in nv15_case()) {
            run_nv15(&c, neon_tbl::nv15_to_p010, portable::nv15_to_p010)?;
        }

        #[test]
        fn portable_nv15_matches_reference(c in nv15_case()) {
            run_nv15(&c, portable::nv15_to_p010, reference::nv15_to_p010)?;
        }

        #[test]
        fn nv15_to_p010_matches_reference(c in nv15_case()) {
            run_nv15(&c, nv15_to_p010, reference::nv15_to_p010)?;
        }

        /// Any slice cut short (by 1..=200 bytes) or any stride one too small
        /// gives the same error from both implementations, never a panic.
        #[test]
        fn short_or_bad_geometry_is_an_error(
            c in sand_case(),
            which in 0usize..6,
            cut in 1usize..=200,
        ) {
            for (bits, out, fast, refr) in [
                (8, 1, nc12_to_nv12 as Conv, reference::nc12_to_nv12 as Conv),
                (10, 2, nc30_to_p010, reference::nc30_to_p010),
                (10, 1, nc30_to_nv12, reference::nc30_to_nv12),
            ] {
                let (src_row, y_row, uv_row) = sand_rows(c.width, bits, out);
                let h = c.height as usize;
                let ch = h.div_ceil(2);
                let cols = src_row.div_ceil(128);
                let mut src_len = (cols - 1) * c.col_height * 128 + (c.luma_height + ch) * 128;
                let (mut ys, mut uvs) = (y_row + c.y_pad, uv_row + c.uv_pad);
                let mut y_len = (h - 1) * ys + y_row;
                let mut uv_len = (ch - 1) * uvs + uv_row;
                let (mut lh, mut colh, mut height) = (c.luma_height, c.col_height, c.height);
                match which {
                    0 => src_len = src_len.saturating_sub(cut),
                    1 => y_len = y_len.saturating_sub(cut),
                    2 => uv_len = uv_len.saturating_sub(cut),
                    3 => { ys = y_row - 1; uvs = uvs.max(1) } // stride < row
                    4 => colh = lh + lh.div_ceil(2) - 1,       // chroma does not fit
                    _ => { lh = (height as usize) - 1; height = height.max(1); colh = colh.max(lh) } // rows > luma_height
                }
                if which == 3 && y_row == 0 { continue; }
                let data = random_bytes(src_len, c.seed);
                let src = Sand128 { data: &data, col_height: colh, luma_height: lh };
                let (mut yf, mut uvf) = (vec![7u8; y_len], vec![9u8; uv_len]);
                let (mut yr, mut uvr) = (yf.clone(), uvf.clone());
                let rf = fast(&src, c.width, height, &mut LinearDst { y: &mut yf, y_stride: ys, uv: &mut uvf, uv_stride: uvs });
                let rr = refr(&src, c.width, height, &mut LinearDst { y: &mut yr, y_stride: ys, uv: &mut uvr, uv_stride: uvs });
                prop_assert!(rf.is_err(), "case {} bits {}: {:?}", which, bits, rf);
                prop_assert_eq!(&rf, &rr);
                prop_assert!(yf.iter().all(|&b| b == 7) && uvf.iter().all(|&b| b == 9), "wrote before refusing");
            }
        }

        #[test]
        fn nv15_short_is_an_error(c in nv15_case(), which in 0usize..5, cut in 1usize..=200) {
            let (w, h) = (c.width as usize, c.height as usize);
            let (cs, ch) = (w.div_ceil(2) * 2, h.div_ceil(2));
            let (yrow, crow) = ((w * 10).div_ceil(8), (cs * 10).div_ceil(8));
            let (mut sys, suvs) = (yrow + c.src_pad.0, crow + c.src_pad.1);
            let mut sy_len = (h - 1) * sys + yrow;
            let mut suv_len = (ch - 1) * suvs + crow;
            let (ys, uvs) = (w * 2 + c.dst_pad.0, cs * 2 + c.dst_pad.1);
            let mut y_len = (h - 1) * ys + w * 2;
            let mut uv_len = (ch - 1) * uvs + cs * 2;
            match which {
                0 => sy_len = sy_len.saturating_sub(cut),
                1 => suv_len = suv_len.saturating_sub(cut),
                2 => y_len = y_len.saturating_sub(cut),
                3 => uv_len = uv_len.saturating_sub(cut),
                _ => sys = yrow - 1,
            }
            let (sy, suv) = (random_bytes(sy_len, c.seed), random_bytes(suv_len, !c.seed));
            let src = LinearSrc { y: &sy, y_stride: sys, uv: &suv, uv_stride: suvs };
            let (mut yf, mut uvf) = (vec![7u8; y_len], vec![9u8; uv_len]);
            let (mut yr, mut uvr) = (yf.clone(), uvf.clone());
            let rf = nv15_to_p010(&src, c.width, c.height, &mut LinearDst { y: &mut yf, y_stride: ys, uv: &mut uvf, uv_stride: uvs });
            let rr = reference::nv15_to_p010(&src, c.width, c.height, &mut LinearDst { y: &mut yr, y_stride: ys, uv: &mut uvr, uv_stride: uvs });
            prop_assert!(rf.is_err(), "case {}: {:?}", which, rf);
            prop_assert_eq!(&rf, &rr);
            prop_assert!(yf.iter().all(|&b| b == 7) && uvf.iter().all(|&b| b == 9), "wrote before refusing");
        }
    }

    /// Absurd geometry (huge strides / column heights) is an error, not an
    /// arithmetic overflow.
    #[test]
    fn huge_geometry_is_an_error() {
        let data = [0u8; 4096];
        let (mut y, mut uv) = ([0u8; 64], [0u8; 64]);
        let src = Sand128 {
            data: &data,
            col_height: usize::MAX,
            luma_height: 8,
        };
        let fns: [Conv; 6] = [
            nc12_to_nv12,
            nc30_to_p010,
            nc30_to_nv12,
            reference::nc12_to_nv12,
            reference::nc30_to_p010,
            reference::nc30_to_nv12,
        ];
        for f in fns {
            let mut dst = LinearDst {
                y: &mut y,
                y_stride: 8,
                uv: &mut uv,
                uv_stride: 8,
            };
            assert!(matches!(
                f(&src, 300, 8, &mut dst),
                Err(DetileError::Short { .. })
            ));
            let ok = Sand128 {
                data: &data,
                col_height: 12,
                luma_height: 8,
            };
            let mut dst = LinearDst {
                y: &mut y,
                y_stride: usize::MAX,
                uv: &mut uv,
                uv_stride: 8,
            };
            assert!(matches!(
                f(&ok, 4, 8, &mut dst),
                Err(DetileError::Short { .. })
            ));
            let mut dst = LinearDst {
                y: &mut y,
                y_stride: 8,
                uv: &mut uv,
                uv_stride: 8,
            };
            assert!(f(&ok, u32::MAX, 8, &mut dst).is_err());
        }
        let s = LinearSrc {
            y: &data,
            y_stride: usize::MAX,
            uv: &data,
            uv_stride: 8,
        };
        let mut dst = LinearDst {
            y: &mut y,
            y_stride: 8,
            uv: &mut uv,
            uv_stride: 8,
        };
        assert!(matches!(
            nv15_to_p010(&s, 2, 4, &mut dst),
            Err(DetileError::Short { .. })
        ));
        assert!(matches!(
            reference::nv15_to_p010(&s, 2, 4, &mut dst),
            Err(DetileError::Short { .. })
        ));
    }

    /// The line kernels called directly (the SSE2 ones on x86_64, the
    /// `tbl` (NEON) and portable SWAR ones everywhere): a hand-made line whose sample `i` is
    /// `(37 · i + 5) mod 1024` (bits 31:30 of every word set, to be ignored)
    /// → P010 `v << 6` / 8-bit `v >> 2` in sample order; and random lines →
    /// SSE2 == `tbl` == SWAR byte for byte.
    #[test]
    fn nc30_line_kernels() {
        let sample = |i: usize| ((37 * i + 5) % 1024) as u32;
        let mut line = [0u8; 128];
        for k in 0..32 {
            let w = sample(3 * k) | sample(3 * k + 1) << 10 | sample(3 * k + 2) << 20 | 0b11 << 30;
            line[4 * k..][..4].copy_from_slice(&w.to_le_bytes());
        }
        let want_p010: Vec<u16> = (0..96).map(|i| (sample(i) << 6) as u16).collect();
        let want_nv12: Vec<u8> = (0..96).map(|i| (sample(i) >> 2) as u8).collect();
        type P010 = fn(&[u8; 128], &mut [u8; 192]);
        type Nv12 = fn(&[u8; 128], &mut [u8; 96]);
        #[cfg_attr(
            not(all(target_arch = "x86_64", target_feature = "sse2")),
            allow(unused_mut)
        )]
        let mut kernels: Vec<(&str, P010, Nv12)> = vec![
            ("swar", kernel_nc30_p010_swar, kernel_nc30_nv12_swar),
            ("tbl", tbl::kernel_nc30_p010, tbl::kernel_nc30_nv12),
        ];
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        kernels.push(("sse2", sse2::kernel_nc30_p010, sse2::kernel_nc30_nv12));
        for (name, p010, nv12) in &kernels {
            let (mut p, mut n) = ([0u8; 192], [0u8; 96]);
            p010(&line, &mut p);
            nv12(&line, &mut n);
            assert_eq!(u16s(&p), want_p010, "{name} P010");
            assert_eq!(n.to_vec(), want_nv12, "{name} NV12");
        }
        let (_, p_swar, n_swar) = kernels[0];
        for seed in 1..200u64 {
            let line: [u8; 128] = random_bytes(128, seed).try_into().unwrap();
            let (mut p0, mut n0) = ([0u8; 192], [0u8; 96]);
            p_swar(&line, &mut p0);
            n_swar(&line, &mut n0);
            for (name, p010, nv12) in &kernels[1..] {
                let (mut p, mut n) = ([0u8; 192], [0u8; 96]);
                p010(&line, &mut p);
                nv12(&line, &mut n);
                assert!(p == p0 && n == n0, "{name} != swar, seed {seed}");
            }
        }
    }

    fn u16s(b: &[u8]) -> Vec<u16> {
        b.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    // Hand-made layout pins (values written out from the docs, not computed
    // by the code under test), run against both implementations.

    /// raspberrypi/linux pixfmt-nv12-col128.rst: column 1 starts at
    /// `bytesperline · 128`; luma row y at `y · 128`, chroma row y at
    /// `(height + y) · 128` within the column.
    #[test]
    fn nc12_layout_two_columns() {
        let (col_height, luma_height) = (8usize, 4usize); // 4 luma + 2 chroma lines + 2 spare
        let mut data = vec![0u8; 2 * col_height * 128];
        data[col_height * 128 + 3 * 128 + 5] = 0x11; // column 1, luma row 3, byte 5
        data[col_height * 128 + 3 * 128 + 71] = 0x22; // column 1, luma row 3, byte 71 (x = 199)
        data[2 * 128 + 127] = 0x33; // column 0, luma row 2, byte 127
        data[(luma_height + 1) * 128 + 6] = 0x44; // column 0, chroma row 1, bytes 6,7 = Cb3, Cr3
        data[(luma_height + 1) * 128 + 7] = 0x55;
        data[col_height * 128 + luma_height * 128] = 0x66; // column 1, chroma row 0, Cb64
        let src = Sand128 {
            data: &data,
            col_height,
            luma_height,
        };
        for f in [nc12_to_nv12 as Conv, reference::nc12_to_nv12] {
            let (mut y, mut uv) = (vec![0u8; 4 * 200], vec![0u8; 2 * 200]);
            f(
                &src,
                200,
                4,
                &mut LinearDst {
                    y: &mut y,
                    y_stride: 200,
                    uv: &mut uv,
                    uv_stride: 200,
                },
            )
            .unwrap();
            assert_eq!(y[3 * 200 + 128 + 5], 0x11);
            assert_eq!(y[3 * 200 + 199], 0x22);
            assert_eq!(y[2 * 200 + 127], 0x33);
            assert_eq!(y.iter().filter(|&&b| b != 0).count(), 3);
            assert_eq!((uv[200 + 6], uv[200 + 7]), (0x44, 0x55));
            assert_eq!(uv[128], 0x66);
            assert_eq!(uv.iter().filter(|&&b| b != 0).count(), 3);
        }
    }

    /// pixfmt-nv12-col128.rst: 3 samples per LE u32 in bits 9:0, 19:10,
    /// 29:20, 96 samples per column line; P010 = value << 6.
    #[test]
    fn nc30_layout_words() {
        let (col_height, luma_height) = (6usize, 4usize);
        let mut data = vec![0u8; 2 * col_height * 128];
        let word: u32 = 0x3ff | (0x155 << 10) | (0x2aa << 20);
        // luma row 1, column 0, word 0 → x = 0, 1, 2
        data[128..132].copy_from_slice(&word.to_le_bytes());
        // luma row 0, column 1, word 1 → x = 96 + 3 ..= 96 + 5
        data[col_height * 128 + 4..][..4].copy_from_slice(&word.to_le_bytes());
        // chroma row 0, column 0, words 0 and 1: Cb0 Cr0 Cb1 | Cr1 Cb2 Cr2
        let c0: u32 = 0x001 | (0x002 << 10) | (0x003 << 20) | (0b11 << 30); // bits 31:30 unused
        let c1: u32 = 0x004 | (0x005 << 10) | (0x006 << 20);
        data[luma_height * 128..][..4].copy_from_slice(&c0.to_le_bytes());
        data[luma_height * 128 + 4..][..4].copy_from_slice(&c1.to_le_bytes());
        let src = Sand128 {
            data: &data,
            col_height,
            luma_height,
        };
        for f in [nc30_to_p010 as Conv, reference::nc30_to_p010] {
            let (mut y, mut uv) = (vec![0u8; 2 * 2 * 110], vec![0u8; 2 * 110]);
            f(
                &src,
                110,
                2,
                &mut LinearDst {
                    y: &mut y,
                    y_stride: 220,
                    uv: &mut uv,
                    uv_stride: 220,
                },
            )
            .unwrap();
            let (y, uv) = (u16s(&y), u16s(&uv));
            assert_eq!(&y[110..113], &[0xffc0, 0x5540, 0xaa80]);
            assert_eq!(&y[99..102], &[0xffc0, 0x5540, 0xaa80]);
            assert_eq!(y.iter().filter(|&&v| v != 0).count(), 6);
            assert_eq!(
                &uv[..7],
                &[0x0040, 0x0080, 0x00c0, 0x0100, 0x0140, 0x0180, 0]
            );
        }
        for f in [nc30_to_nv12 as Conv, reference::nc30_to_nv12] {
            let (mut y, mut uv) = (vec![0u8; 2 * 110], vec![0u8; 110]);
            f(
                &src,
                110,
                2,
                &mut LinearDst {
                    y: &mut y,
                    y_stride: 110,
                    uv: &mut uv,
                    uv_stride: 110,
                },
            )
            .unwrap();
            assert_eq!(&y[110..113], &[0xff, 0x55, 0xaa]);
            assert_eq!(&y[99..102], &[0xff, 0x55, 0xaa]);
            assert_eq!(y.iter().filter(|&&v| v != 0).count(), 6);
            assert_eq!(&uv[..7], &[0, 0, 0, 1, 1, 1, 0]); // 10-bit 1..=6 >> 2
        }
    }

    /// NV15 (kernel pixfmt doc for V4L2_PIX_FMT_NV15): 4 samples in 5 bytes,
    /// byte 0 = Y0[7:0], byte 1 = Y1[5:0] Y0[9:8], byte 2 = Y2[3:0] Y1[9:6],
    /// byte 3 = Y3[1:0] Y2[9:4], byte 4 = Y3[9:2].
    #[test]
    fn nv15_layout_group() {
        // Y0 = 0x3ff, Y1 = 0x155, Y2 = 0x2aa, Y3 = 0x201, then Y4 = 0x3ff alone in a tail
        let y_src = [0xff, 0x57, 0xa5, 0x6a, 0x80, 0xff, 0x03];
        let uv_src = [0x01, 0x08, 0x30, 0x00, 0x01, 0x05, 0x18, 0x00]; // Cb0..Cr2 = 1..=6
        let src = LinearSrc {
            y: &y_src,
            y_stride: 7,
            uv: &uv_src,
            uv_stride: 8,
        };
        for f in [
            nv15_to_p010 as Nv15Conv,
            reference::nv15_to_p010,
            neon_tbl::nv15_to_p010,
            portable::nv15_to_p010,
        ] {
            let (mut y, mut uv) = (vec![0u8; 10], vec![0u8; 12]);
            f(
                &src,
                5,
                1,
                &mut LinearDst {
                    y: &mut y,
                    y_stride: 10,
                    uv: &mut uv,
                    uv_stride: 12,
                },
            )
            .unwrap();
            assert_eq!(u16s(&y), [0xffc0, 0x5540, 0xaa80, 0x8040, 0xffc0]);
            assert_eq!(u16s(&uv), [0x0040, 0x0080, 0x00c0, 0x0100, 0x0140, 0x0180]);
        }
    }
}
