//! The kiosk's pure parts (no DRM calls): the `IN_FORMATS` blob parser,
//! connector names, mode choice, plane geometry and the CPU fallback's
//! scaler. Everything here is tested against hand-made input.

use super::ModeRequest;
use crate::wayland::geometry::{display_size, fit, Rect};
use vreq_frame::convert::{ColorInfo, ColorMatrix};

/// The plane's `COLOR_ENCODING` and `COLOR_RANGE` enum value names for a
/// frame's colour description (`DecodedFrame::color`), exactly as
/// drivers/gpu/drm/drm_color_mgmt.c `color_encoding_name` /
/// `color_range_name` spell them.
pub fn color_props(color: ColorInfo) -> (&'static str, &'static str) {
    let enc = match color.matrix {
        ColorMatrix::Bt601 => "ITU-R BT.601 YCbCr",
        ColorMatrix::Bt709 => "ITU-R BT.709 YCbCr",
        ColorMatrix::Bt2020 => "ITU-R BT.2020 YCbCr",
    };
    let range = if color.full_range {
        "YCbCr full range"
    } else {
        "YCbCr limited range"
    };
    (enc, range)
}

/// `struct drm_format_modifier_blob` (include/uapi/drm/drm_mode.h): the
/// header of a plane's `IN_FORMATS` blob, 6 × u32 = 24 bytes.
const BLOB_HEADER: usize = 24;
/// `struct drm_format_modifier` (drm_mode.h): `__u64 formats` (bitmask over
/// 64 formats starting at `offset`), `__u32 offset`, `__u32 pad`,
/// `__u64 modifier` = 24 bytes.
const MODIFIER_ENTRY: usize = 24;
/// `FORMAT_BLOB_CURRENT` (drm_mode.h): the only version defined.
const FORMAT_BLOB_CURRENT: u32 = 1;

/// Parses a plane's `IN_FORMATS` property blob (`struct
/// drm_format_modifier_blob`, include/uapi/drm/drm_mode.h; filled by
/// drivers/gpu/drm/drm_plane.c `create_in_format_blob`) into its
/// (fourcc, modifier) pairs. Every offset and count is checked against the
/// blob's length (a hostile or truncated blob gives an error, never a panic
/// or an allocation beyond the blob's size). Errors name what is wrong.
pub fn parse_in_formats(blob: &[u8]) -> Result<Vec<(u32, u64)>, String> {
    let u32_at = |o: usize| -> Option<u32> {
        blob.get(o..o.checked_add(4)?)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| -> Option<u64> {
        let b = blob.get(o..o.checked_add(8)?)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_le_bytes(a))
    };
    if blob.len() < BLOB_HEADER {
        return Err(format!(
            "IN_FORMATS blob of {} bytes is shorter than its {BLOB_HEADER}-byte header",
            blob.len()
        ));
    }
    let h = |i: usize| u32_at(i * 4).unwrap_or(0) as usize;
    let version = h(0) as u32;
    if version != FORMAT_BLOB_CURRENT {
        return Err(format!("IN_FORMATS blob version {version} (known: 1)"));
    }
    let (count_formats, formats_offset) = (h(2), h(3));
    let (count_modifiers, modifiers_offset) = (h(4), h(5));
    count_formats
        .checked_mul(4)
        .and_then(|n| n.checked_add(formats_offset))
        .filter(|e| *e <= blob.len())
        .ok_or_else(|| {
            format!(
                "IN_FORMATS: {count_formats} formats at byte {formats_offset} overrun the {}-byte blob",
                blob.len()
            )
        })?;
    count_modifiers
        .checked_mul(MODIFIER_ENTRY)
        .and_then(|n| n.checked_add(modifiers_offset))
        .filter(|e| *e <= blob.len())
        .ok_or_else(|| {
            format!(
                "IN_FORMATS: {count_modifiers} modifiers at byte {modifiers_offset} overrun the {}-byte blob",
                blob.len()
            )
        })?;
    let formats: Vec<u32> = (0..count_formats)
        .map(|i| u32_at(formats_offset + 4 * i).unwrap_or(0))
        .collect();
    let mut pairs = Vec::new();
    for m in 0..count_modifiers {
        let base = modifiers_offset + m * MODIFIER_ENTRY;
        let mask = u64_at(base).unwrap_or(0);
        let offset = u32_at(base + 8).unwrap_or(0) as usize;
        let modifier = u64_at(base + 16).unwrap_or(0);
        for bit in 0..64usize {
            if mask & (1u64 << bit) == 0 {
                continue;
            }
            // a bit past the format list is ignored (the kernel never sets one)
            if let Some(f) = offset.checked_add(bit).and_then(|i| formats.get(i)) {
                if !pairs.contains(&(*f, modifier)) {
                    pairs.push((*f, modifier));
                }
            }
        }
    }
    Ok(pairs)
}

/// `DRM_PLANE_TYPE_*` (include/drm/drm_plane.h; the plane's `type` enum
/// property: `Overlay` 0, `Primary` 1, `Cursor` 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneKind {
    Overlay,
    Primary,
    Cursor,
}

/// What the plane choice needs to know of a plane of the CRTC.
#[derive(Debug, Clone, Copy)]
pub struct PlaneCaps<'a> {
    /// KMS object id.
    pub id: u32,
    pub kind: PlaneKind,
    /// (fourcc, modifier) pairs it takes (`IN_FORMATS`, or its format list with LINEAR).
    pub formats: &'a [(u32, u64)],
}

/// The plane (index into `planes`) that shows frames of (`fourcc`,
/// `modifier`) without a copy, per `--drm-plane`: `Auto` an overlay that
/// takes them, else the primary; `Primary` / `Overlay` / `Id` only that
/// kind / plane, and only if it takes them. `None`: the CPU copy.
pub fn choose_plane(
    planes: &[PlaneCaps<'_>],
    req: super::PlaneRequest,
    fourcc: u32,
    modifier: u64,
) -> Option<usize> {
    use super::PlaneRequest;
    let takes = |i: &usize| planes[*i].formats.contains(&(fourcc, modifier));
    let of = |k: PlaneKind| (0..planes.len()).filter(move |i| planes[*i].kind == k);
    match req {
        PlaneRequest::Auto => of(PlaneKind::Overlay)
            .find(takes)
            .or_else(|| of(PlaneKind::Primary).find(takes)),
        PlaneRequest::Overlay => of(PlaneKind::Overlay).find(takes),
        PlaneRequest::Primary => of(PlaneKind::Primary).find(takes),
        PlaneRequest::Id(id) => (0..planes.len())
            .find(|i| planes[*i].id == id)
            .filter(takes),
    }
}

/// The kernel's name of a connector: its type's name (drivers/gpu/drm/
/// drm_connector.c `drm_connector_enum_list`: `HDMI-A`, `DP`, `Virtual`,
/// `Writeback`, …) and its per-type id, `"<type>-<id>"`, as
/// `drm_connector_init` builds `drm_connector.name`.
pub fn connector_name(type_name: &str, type_id: u32) -> String {
    format!("{type_name}-{type_id}")
}

/// A connector's mode as the chooser sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeInfo {
    pub width: u16,
    pub height: u16,
    /// Refresh rate in mHz (pixel clock / (htotal · vtotal)).
    pub refresh_mhz: u32,
    /// `DRM_MODE_TYPE_PREFERRED`.
    pub preferred: bool,
}

impl ModeInfo {
    /// The refresh rate from a mode's timings: `clock_khz` (kHz) ·
    /// 10⁶ / (`htotal` · `vtotal`) mHz (drm_modes.c `drm_mode_vrefresh`
    /// without its rounding to Hz; interlace / doublescan not applied).
    /// 0 for a zero total.
    pub fn refresh_from_timings(clock_khz: u32, htotal: u16, vtotal: u16) -> u32 {
        let t = u64::from(htotal) * u64::from(vtotal);
        if t == 0 {
            return 0;
        }
        ((u64::from(clock_khz) * 1_000_000 + t / 2) / t).min(u64::from(u32::MAX)) as u32
    }
}

impl std::fmt::Display for ModeInfo {
    /// `1920x1080@60`, `1280x720@59.94`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}@", self.width, self.height)?;
        let hz = self.refresh_mhz / 1000;
        let frac = (self.refresh_mhz % 1000 + 5) / 10;
        if frac == 0 {
            write!(f, "{hz}")
        } else if frac == 100 {
            write!(f, "{}", hz + 1)
        } else {
            write!(f, "{hz}.{frac:02}")
        }
    }
}

/// Most modes named in the "not offered" error before `…`.
pub const MODES_LISTED: usize = 12;

/// Picks the mode `req` asks for among a connector's `modes` (in the
/// kernel's order) and returns its index. `Preferred`: the
/// `DRM_MODE_TYPE_PREFERRED` one, else the first; `Highest`: the largest area,
/// then the highest refresh; `Size`: the first of that size (and refresh
/// within 10 mHz when given). Errors (one line, naming what the connector
/// offers): no modes, or the size / refresh not offered.
pub fn choose_mode(modes: &[ModeInfo], req: ModeRequest, connector: &str) -> Result<usize, String> {
    if modes.is_empty() {
        return Err(format!("{connector} offers no modes"));
    }
    let found = match req {
        ModeRequest::Preferred => Some(modes.iter().position(|m| m.preferred).unwrap_or(0)),
        ModeRequest::Highest => modes
            .iter()
            .enumerate()
            .max_by_key(|(i, m)| {
                (
                    u32::from(m.width) * u32::from(m.height),
                    m.refresh_mhz,
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(i, _)| i),
        ModeRequest::Size {
            width,
            height,
            refresh_mhz,
        } => modes.iter().position(|m| {
            m.width == width
                && m.height == height
                && refresh_mhz.is_none_or(|r| m.refresh_mhz.abs_diff(r) <= 10)
        }),
    };
    found.ok_or_else(|| {
        let wanted = match req {
            ModeRequest::Size {
                width,
                height,
                refresh_mhz: Some(r),
            } => ModeInfo {
                width,
                height,
                refresh_mhz: r,
                preferred: false,
            }
            .to_string(),
            ModeRequest::Size { width, height, .. } => format!("{width}x{height}"),
            _ => unreachable_mode(),
        };
        let mut list: Vec<String> = modes
            .iter()
            .take(MODES_LISTED)
            .map(|m| {
                if m.preferred {
                    format!("{m} (preferred)")
                } else {
                    m.to_string()
                }
            })
            .collect();
        if modes.len() > MODES_LISTED {
            list.push("…".into());
        }
        format!(
            "mode {wanted} is not offered by {connector}; it offers: {}",
            list.join(", ")
        )
    })
}

/// `Preferred` / `Highest` always find a mode when there is one.
fn unreachable_mode() -> String {
    "?".into()
}

/// Where the video goes on a plane: the source rectangle in the buffer
/// (16.16 fixed point, as the plane's `SRC_*` properties take it,
/// drm_plane.c / drm_mode.h) and the destination on the CRTC (pixels,
/// `CRTC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneRects {
    /// `SRC_X`, `SRC_Y`, `SRC_W`, `SRC_H` (16.16).
    pub src: [u64; 4],
    /// `CRTC_X`, `CRTC_Y`, `CRTC_W`, `CRTC_H` (pixels).
    pub crtc: Rect,
}

/// The scaled placement: the visible rectangle (x, y, w, h, buffer pixels)
/// shown at the aspect-correct fit of its display size (visible size ×
/// `par`, [`display_size`]) centred in the mode (`mode` = w, h pixels).
/// `None` for an empty picture or mode.
pub fn scaled_rects(
    visible: (u32, u32, u32, u32),
    par: (u32, u32),
    mode: (u32, u32),
) -> Option<PlaneRects> {
    let (_, _, w, h) = visible;
    let d = display_size((w, h), par)?;
    let crtc = fit(d, mode)?;
    Some(PlaneRects {
        src: src16(visible),
        crtc,
    })
}

/// The unscaled placement (for planes that cannot scale, e.g. vkms): the
/// visible rectangle 1:1, centred in the mode; `None` when it does not fit
/// (or is empty). The pixel aspect is not applied.
pub fn unscaled_rects(visible: (u32, u32, u32, u32), mode: (u32, u32)) -> Option<PlaneRects> {
    let (_, _, w, h) = visible;
    if w == 0 || h == 0 || w > mode.0 || h > mode.1 {
        return None;
    }
    Some(PlaneRects {
        src: src16(visible),
        crtc: Rect {
            x: ((mode.0 - w) / 2) as i32,
            y: ((mode.1 - h) / 2) as i32,
            w,
            h,
        },
    })
}

fn src16((x, y, w, h): (u32, u32, u32, u32)) -> [u64; 4] {
    [x, y, w, h].map(|v| u64::from(v) << 16)
}

/// What the zero-copy probe decided, from the `DRM_MODE_ATOMIC_TEST_ONLY`
/// answers: the scaled fit when accepted, else the unscaled centre when the
/// picture fits and it is accepted, else the CPU fallback (`None`).
/// `test` returns whether the kernel accepts a placement.
pub fn probe_placement(
    visible: (u32, u32, u32, u32),
    par: (u32, u32),
    mode: (u32, u32),
    mut test: impl FnMut(&PlaneRects) -> bool,
) -> Option<(PlaneRects, bool)> {
    if let Some(r) = scaled_rects(visible, par, mode) {
        if test(&r) {
            return Some((r, true));
        }
    }
    let r = unscaled_rects(visible, mode)?;
    test(&r).then_some((r, false))
}

/// The CPU fallback's scaler (nearest neighbour) for XRGB8888: writes the
/// picture `src` (`sw` × `sh` pixels, rows `src_stride` bytes apart) into
/// `dst` (a `dw` × `dh` buffer, rows `dst_stride` bytes apart) scaled to
/// `rect` (clipped to the buffer), and black (0xff000000) around it when
/// `clear` is set. See [`scale_nearest`].
#[allow(clippy::too_many_arguments)]
pub fn scale_xrgb_nearest(
    src: &[u8],
    sw_sh: (u32, u32),
    src_stride: usize,
    dst: &mut [u8],
    dw_dh: (u32, u32),
    dst_stride: usize,
    rect: Rect,
    clear: bool,
) -> Result<(), String> {
    scale_nearest(
        src,
        sw_sh,
        src_stride,
        dst,
        dw_dh,
        dst_stride,
        rect,
        clear.then_some(&[0, 0, 0, 0xff]),
    )
}

/// Nearest-neighbour scaling of one plane of `B`-byte pixels (XRGB8888: 4;
/// an NV12 luma plane: 1, its CbCr plane: 2): destination pixel (x, y) of
/// `rect` takes source pixel (⌊(x + ½)·sw/rw⌋, ⌊(y + ½)·sh/rh⌋); pixels of
/// the `dw` × `dh` buffer outside `rect` are set to `fill` when given (else
/// left as they are). Errors: buffers shorter than their sizes and strides
/// need (nothing written).
#[allow(clippy::too_many_arguments)]
pub fn scale_nearest<const B: usize>(
    src: &[u8],
    (sw, sh): (u32, u32),
    src_stride: usize,
    dst: &mut [u8],
    (dw, dh): (u32, u32),
    dst_stride: usize,
    rect: Rect,
    fill: Option<&[u8; B]>,
) -> Result<(), String> {
    let need = |rows: u32, row: usize, stride: usize| {
        if rows == 0 {
            0
        } else {
            (rows as usize - 1) * stride + row
        }
    };
    if src.len() < need(sh, sw as usize * B, src_stride) || (sh > 1 && src_stride < sw as usize * B)
    {
        return Err(format!(
            "source {sw}x{sh} stride {src_stride}: {} bytes too few",
            src.len()
        ));
    }
    if dst.len() < need(dh, dw as usize * B, dst_stride) || (dh > 1 && dst_stride < dw as usize * B)
    {
        return Err(format!(
            "destination {dw}x{dh} stride {dst_stride}: {} bytes too few",
            dst.len()
        ));
    }
    let clear = fill.is_some();
    let fill_row = |row: &mut [u8]| {
        if let Some(f) = fill {
            for px in row.chunks_exact_mut(B) {
                px.copy_from_slice(f);
            }
        }
    };
    let x0 = rect.x.max(0) as u32;
    let y0 = rect.y.max(0) as u32;
    let x1 = (i64::from(rect.x) + i64::from(rect.w)).clamp(0, i64::from(dw)) as u32;
    let y1 = (i64::from(rect.y) + i64::from(rect.h)).clamp(0, i64::from(dh)) as u32;
    if sw == 0 || sh == 0 || rect.w == 0 || rect.h == 0 {
        for y in 0..dh as usize {
            fill_row(&mut dst[y * dst_stride..y * dst_stride + dw as usize * B]);
        }
        return Ok(());
    }
    // source column of each destination column of the rectangle
    let cols: Vec<usize> = (x0..x1)
        .map(|x| {
            let rx = (i64::from(x) - i64::from(rect.x)) as u64;
            (((2 * rx + 1) * u64::from(sw)) / (2 * u64::from(rect.w))).min(u64::from(sw - 1))
                as usize
        })
        .collect();
    let mut prev: Option<(usize, u32)> = None;
    for y in 0..dh {
        let start = y as usize * dst_stride;
        if y < y0 || y >= y1 {
            fill_row(&mut dst[start..start + dw as usize * B]);
            continue;
        }
        let ry = i64::from(y) - i64::from(rect.y);
        let sy = (((2 * ry as u64 + 1) * u64::from(sh)) / (2 * u64::from(rect.h)))
            .min(u64::from(sh - 1)) as usize;
        // the same source row as the row above: copy that row (cheap memmove)
        if let Some((psy, py)) = prev {
            if psy == sy {
                let (from, len, to) = if clear {
                    (py as usize * dst_stride, dw as usize * B, start)
                } else {
                    (
                        py as usize * dst_stride + x0 as usize * B,
                        cols.len() * B,
                        start + x0 as usize * B,
                    )
                };
                dst.copy_within(from..from + len, to);
                prev = Some((sy, y));
                continue;
            }
        }
        prev = Some((sy, y));
        let row = &mut dst[start..start + dw as usize * B];
        let srow = &src[sy * src_stride..sy * src_stride + sw as usize * B];
        fill_row(&mut row[..x0 as usize * B]);
        fill_row(&mut row[x1 as usize * B..]);
        for (px, sx) in row[x0 as usize * B..x1 as usize * B]
            .chunks_exact_mut(B)
            .zip(&cols)
        {
            px.copy_from_slice(&srow[sx * B..sx * B + B]);
        }
    }
    Ok(())
}

/// The fit rectangle made even in origin and size (an NV12 buffer's chroma
/// is one sample per 2×2 luma pixels), at least 2×2.
pub fn even_rect(r: Rect) -> Rect {
    Rect {
        x: r.x & !1,
        y: r.y & !1,
        w: (r.w & !1).max(2),
        h: (r.h & !1).max(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_props_follow_the_frame_not_the_height() {
        let c = |matrix, full_range| ColorInfo { matrix, full_range };
        assert_eq!(
            color_props(c(ColorMatrix::Bt2020, true)),
            ("ITU-R BT.2020 YCbCr", "YCbCr full range")
        );
        assert_eq!(
            color_props(c(ColorMatrix::Bt601, false)),
            ("ITU-R BT.601 YCbCr", "YCbCr limited range")
        );
        assert_eq!(
            color_props(c(ColorMatrix::Bt709, true)),
            ("ITU-R BT.709 YCbCr", "YCbCr full range")
        );
        // the unspecified default keeps the old height guess
        assert_eq!(
            color_props(ColorInfo::from_height(1080)).0,
            "ITU-R BT.709 YCbCr"
        );
        assert_eq!(
            color_props(ColorInfo::from_height(576)).0,
            "ITU-R BT.601 YCbCr"
        );
    }

    fn blob(formats: &[u32], mods: &[(u64, u32, u64)]) -> Vec<u8> {
        let mut b = Vec::new();
        let fo = BLOB_HEADER as u32;
        let mo = fo + 4 * formats.len() as u32;
        for v in [1, 0, formats.len() as u32, fo, mods.len() as u32, mo] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for f in formats {
            b.extend_from_slice(&f.to_le_bytes());
        }
        for (mask, off, m) in mods {
            b.extend_from_slice(&mask.to_le_bytes());
            b.extend_from_slice(&off.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&m.to_le_bytes());
        }
        b
    }

    const XR24: u32 = u32::from_le_bytes(*b"XR24");
    const NV12: u32 = u32::from_le_bytes(*b"NV12");
    const P010: u32 = u32::from_le_bytes(*b"P010");

    #[test]
    fn in_formats_pairs_from_the_bitmask() {
        // vkms 7.2 shape: every format LINEAR; one tiled modifier for NV12 only
        let b = blob(
            &[XR24, NV12, P010],
            &[(0b111, 0, 0), (0b10, 0, 0x0100_0000_0000_0001)],
        );
        assert_eq!(
            parse_in_formats(&b).unwrap(),
            vec![
                (XR24, 0),
                (NV12, 0),
                (P010, 0),
                (NV12, 0x0100_0000_0000_0001)
            ]
        );
        // offset shifts the bitmask's base
        let b = blob(&[XR24, NV12, P010], &[(0b1, 2, 7)]);
        assert_eq!(parse_in_formats(&b).unwrap(), vec![(P010, 7)]);
        // a bit past the list names nothing
        let b = blob(&[XR24], &[(1 << 40 | 1, 0, 0)]);
        assert_eq!(parse_in_formats(&b).unwrap(), vec![(XR24, 0)]);
    }

    #[test]
    fn in_formats_truncated_or_hostile_blobs_are_errors() {
        let good = blob(&[XR24, NV12], &[(0b11, 0, 0)]);
        for n in 0..good.len() {
            assert!(parse_in_formats(&good[..n]).is_err(), "truncated to {n}");
        }
        // wrong version
        let mut b = good.clone();
        b[0] = 2;
        assert!(parse_in_formats(&b).unwrap_err().contains("version 2"));
        // counts and offsets pointing far away / overflowing
        for (field, v) in [
            (2usize, u32::MAX),
            (3, u32::MAX),
            (4, u32::MAX),
            (5, u32::MAX),
            (4, 0x1000_0000),
        ] {
            let mut b = good.clone();
            b[field * 4..field * 4 + 4].copy_from_slice(&v.to_le_bytes());
            assert!(parse_in_formats(&b).is_err(), "field {field} = {v}");
        }
        // offset in an entry beyond the list: nothing, no panic
        let b = blob(&[XR24], &[(u64::MAX, u32::MAX, 0)]);
        assert_eq!(parse_in_formats(&b).unwrap(), vec![]);
    }

    #[test]
    fn plane_choice_by_in_formats() {
        use crate::kms::PlaneRequest;
        let rgb = [(XR24, 0)];
        let yuv = [(XR24, 0), (NV12, 0), (P010, 0)];
        let sand = [(NV12, 0x0700_0000_0000_6604)];
        let trixie = [
            PlaneCaps {
                id: 32,
                kind: PlaneKind::Primary,
                formats: &rgb,
            },
            PlaneCaps {
                id: 35,
                kind: PlaneKind::Cursor,
                formats: &rgb,
            },
        ];
        for r in [
            PlaneRequest::Auto,
            PlaneRequest::Primary,
            PlaneRequest::Overlay,
            PlaneRequest::Id(32),
        ] {
            assert_eq!(choose_plane(&trixie, r, NV12, 0), None, "{r:?}");
        }
        // sid without overlays: the primary; with: the first overlay
        let sid = [
            PlaneCaps {
                id: 35,
                kind: PlaneKind::Primary,
                formats: &yuv,
            },
            PlaneCaps {
                id: 40,
                kind: PlaneKind::Cursor,
                formats: &yuv,
            },
        ];
        assert_eq!(choose_plane(&sid, PlaneRequest::Auto, NV12, 0), Some(0));
        assert_eq!(choose_plane(&sid, PlaneRequest::Overlay, NV12, 0), None);
        let ov = [
            PlaneCaps {
                id: 35,
                kind: PlaneKind::Primary,
                formats: &yuv,
            },
            PlaneCaps {
                id: 40,
                kind: PlaneKind::Overlay,
                formats: &rgb,
            },
            PlaneCaps {
                id: 45,
                kind: PlaneKind::Overlay,
                formats: &yuv,
            },
        ];
        assert_eq!(choose_plane(&ov, PlaneRequest::Auto, NV12, 0), Some(2));
        assert_eq!(choose_plane(&ov, PlaneRequest::Primary, P010, 0), Some(0));
        assert_eq!(choose_plane(&ov, PlaneRequest::Id(40), NV12, 0), None);
        assert_eq!(choose_plane(&ov, PlaneRequest::Id(45), NV12, 0), Some(2));
        assert_eq!(choose_plane(&ov, PlaneRequest::Id(99), NV12, 0), None);
        // the modifier must match too (SAND128 vs LINEAR)
        let pi = [
            PlaneCaps {
                id: 1,
                kind: PlaneKind::Primary,
                formats: &yuv,
            },
            PlaneCaps {
                id: 2,
                kind: PlaneKind::Overlay,
                formats: &sand,
            },
        ];
        assert_eq!(
            choose_plane(&pi, PlaneRequest::Auto, NV12, 0x0700_0000_0000_6604),
            Some(1)
        );
        assert_eq!(
            choose_plane(&pi, PlaneRequest::Auto, NV12, 0x0700_0000_0000_0004),
            None
        );
    }

    #[test]
    fn connector_names_are_the_kernels() {
        assert_eq!(connector_name("Virtual", 1), "Virtual-1");
        assert_eq!(connector_name("HDMI-A", 2), "HDMI-A-2");
        assert_eq!(connector_name("Writeback", 1), "Writeback-1");
    }

    fn m(w: u16, h: u16, hz_m: u32, preferred: bool) -> ModeInfo {
        ModeInfo {
            width: w,
            height: h,
            refresh_mhz: hz_m,
            preferred,
        }
    }

    #[test]
    fn mode_choice() {
        let modes = [
            m(1920, 1080, 60_000, false),
            m(1024, 768, 60_004, true),
            m(1920, 1080, 59_940, false),
            m(3840, 2160, 30_000, false),
            m(3840, 2160, 60_000, false),
        ];
        assert_eq!(choose_mode(&modes, ModeRequest::Preferred, "V-1"), Ok(1));
        assert_eq!(
            choose_mode(&modes[..1], ModeRequest::Preferred, "V-1"),
            Ok(0)
        );
        assert_eq!(choose_mode(&modes, ModeRequest::Highest, "V-1"), Ok(4));
        let size = |w, h, r| ModeRequest::Size {
            width: w,
            height: h,
            refresh_mhz: r,
        };
        assert_eq!(choose_mode(&modes, size(1920, 1080, None), "V-1"), Ok(0));
        assert_eq!(
            choose_mode(&modes, size(1920, 1080, Some(59_940)), "V-1"),
            Ok(2)
        );
        assert_eq!(
            choose_mode(&modes, size(1024, 768, Some(60_000)), "V-1"),
            Ok(1)
        );
        let e = choose_mode(&modes, size(4096, 2160, None), "Virtual-1").unwrap_err();
        assert_eq!(
            e,
            "mode 4096x2160 is not offered by Virtual-1; it offers: 1920x1080@60, 1024x768@60 (preferred), 1920x1080@59.94, 3840x2160@30, 3840x2160@60"
        );
        let e = choose_mode(&modes, size(1920, 1080, Some(50_000)), "Virtual-1").unwrap_err();
        assert!(
            e.starts_with("mode 1920x1080@50 is not offered by Virtual-1; it offers: "),
            "{e}"
        );
        let many: Vec<ModeInfo> = (0..20).map(|i| m(640 + i, 480, 60_000, false)).collect();
        let e = choose_mode(&many, size(1, 1, None), "X-1").unwrap_err();
        assert!(e.ends_with("651x480@60, …"), "{e}");
        assert!(choose_mode(&[], ModeRequest::Preferred, "X-1")
            .unwrap_err()
            .contains("no modes"));
        // 1080p60 CEA timings: 148.5 MHz / (2200 · 1125)
        assert_eq!(ModeInfo::refresh_from_timings(148_500, 2200, 1125), 60_000);
        assert_eq!(ModeInfo::refresh_from_timings(148_352, 2200, 1125), 59_940);
        assert_eq!(ModeInfo::refresh_from_timings(1, 0, 0), 0);
    }

    #[test]
    fn plane_geometry_and_the_non_scaling_fallback() {
        // 720x576 with 16:15 → 768x576 in 1024x768: width-limited fit
        let r = scaled_rects((0, 0, 720, 576), (16, 15), (1024, 768)).unwrap();
        assert_eq!(r.src, [0, 0, 720 << 16, 576 << 16]);
        assert_eq!(
            r.crtc,
            Rect {
                x: 0,
                y: 0,
                w: 1024,
                h: 768
            }
        );
        let r = scaled_rects((0, 0, 1920, 1080), (1, 1), (1024, 768)).unwrap();
        assert_eq!(
            r.crtc,
            Rect {
                x: 0,
                y: 96,
                w: 1024,
                h: 576
            }
        );
        // crop origin in the source
        let r = unscaled_rects((8, 4, 320, 240), (1024, 768)).unwrap();
        assert_eq!(r.src, [8 << 16, 4 << 16, 320 << 16, 240 << 16]);
        assert_eq!(
            r.crtc,
            Rect {
                x: 352,
                y: 264,
                w: 320,
                h: 240
            }
        );
        assert_eq!(unscaled_rects((0, 0, 1920, 1080), (1024, 768)), None);
        assert_eq!(scaled_rects((0, 0, 0, 10), (1, 1), (1024, 768)), None);

        // a plane that cannot scale (vkms: SRC size must equal CRTC size)
        let no_scale = |r: &PlaneRects| {
            r.src[2] >> 16 == u64::from(r.crtc.w) && r.src[3] >> 16 == u64::from(r.crtc.h)
        };
        let (r, scaled) = probe_placement((0, 0, 352, 288), (1, 1), (1024, 768), no_scale).unwrap();
        assert!(!scaled);
        assert_eq!(
            r.crtc,
            Rect {
                x: 336,
                y: 240,
                w: 352,
                h: 288
            }
        );
        // too big for the mode without scaling: the CPU fallback
        assert_eq!(
            probe_placement((0, 0, 1920, 1080), (1, 1), (1024, 768), no_scale),
            None
        );
        // a scaling plane takes the fit
        let (r, scaled) =
            probe_placement((0, 0, 352, 288), (12, 11), (1024, 768), |_| true).unwrap();
        assert!(scaled);
        assert_eq!(r.crtc.h, 768);
        // nothing accepted at all
        assert_eq!(
            probe_placement((0, 0, 352, 288), (1, 1), (1024, 768), |_| false),
            None
        );
    }

    /// Reference: per destination pixel, the formula in floating point.
    fn reference(src: &[u8], sw: u32, sh: u32, dw: u32, dh: u32, rect: Rect) -> Vec<u8> {
        let mut out = vec![0u8; (dw * dh * 4) as usize];
        for y in 0..dh {
            for x in 0..dw {
                let inside = (x as i32) >= rect.x
                    && (x as i32) < rect.x + rect.w as i32
                    && (y as i32) >= rect.y
                    && (y as i32) < rect.y + rect.h as i32;
                let px = if inside {
                    let fx = ((f64::from(x as i32 - rect.x) + 0.5) * f64::from(sw)
                        / f64::from(rect.w))
                    .floor() as usize;
                    let fy = ((f64::from(y as i32 - rect.y) + 0.5) * f64::from(sh)
                        / f64::from(rect.h))
                    .floor() as usize;
                    let o = (fy.min(sh as usize - 1) * sw as usize + fx.min(sw as usize - 1)) * 4;
                    [src[o], src[o + 1], src[o + 2], src[o + 3]]
                } else {
                    [0, 0, 0, 0xff]
                };
                let o = ((y * dw + x) * 4) as usize;
                out[o..o + 4].copy_from_slice(&px);
            }
        }
        out
    }

    #[test]
    fn the_plane_scaler_matches_the_reference_for_1_and_2_byte_pixels() {
        // treat 4 one-byte (or 2 two-byte) pixels as one XRGB pixel of the reference
        let (sw, sh) = (6u32, 5u32);
        let src: Vec<u8> = (0..sw * sh * 4).map(|i| (i * 29 % 241) as u8).collect();
        let rect = Rect {
            x: 2,
            y: 1,
            w: 9,
            h: 7,
        };
        let mut one = vec![0u8; 16 * 4 * 10];
        scale_nearest::<4>(
            &src,
            (sw, sh),
            sw as usize * 4,
            &mut one,
            (16, 10),
            64,
            rect,
            Some(&[0, 0, 0, 0xff]),
        )
        .unwrap();
        assert_eq!(one, reference(&src, sw, sh, 16, 10, rect));
        // 1-byte luma: fill 16 outside, each value where the reference puts it
        let ys: Vec<u8> = (0..20u8).collect();
        let mut y = vec![0u8; 8 * 6];
        scale_nearest::<1>(
            &ys,
            (5, 4),
            5,
            &mut y,
            (8, 6),
            8,
            Rect {
                x: 2,
                y: 2,
                w: 4,
                h: 2,
            },
            Some(&[16]),
        )
        .unwrap();
        assert_eq!(&y[..16], &[16; 16]);
        assert_eq!(&y[16..24], &[16, 16, 5, 6, 8, 9, 16, 16]);
        assert_eq!(&y[24..32], &[16, 16, 15, 16, 18, 19, 16, 16]);
        assert_eq!(&y[32..], &[16; 16]);
        assert_eq!(
            even_rect(Rect {
                x: 3,
                y: 5,
                w: 7,
                h: 1
            }),
            Rect {
                x: 2,
                y: 4,
                w: 6,
                h: 2
            }
        );
    }

    #[test]
    fn the_scaler_matches_the_reference() {
        let (sw, sh) = (7u32, 5u32);
        let src: Vec<u8> = (0..sw * sh * 4).map(|i| (i * 37 % 251) as u8).collect();
        for (dw, dh, rect) in [
            (
                16u32,
                12u32,
                Rect {
                    x: 0,
                    y: 1,
                    w: 16,
                    h: 10,
                },
            ),
            (
                16,
                12,
                Rect {
                    x: 3,
                    y: 0,
                    w: 9,
                    h: 12,
                },
            ),
            (
                5,
                4,
                Rect {
                    x: 1,
                    y: 1,
                    w: 3,
                    h: 2,
                },
            ),
            (
                20,
                9,
                Rect {
                    x: 0,
                    y: 0,
                    w: 20,
                    h: 9,
                },
            ),
        ] {
            let mut dst = vec![0x55u8; (dw * dh * 4) as usize];
            scale_xrgb_nearest(
                &src,
                (sw, sh),
                sw as usize * 4,
                &mut dst,
                (dw, dh),
                dw as usize * 4,
                rect,
                true,
            )
            .unwrap();
            assert_eq!(
                dst,
                reference(&src, sw, sh, dw, dh, rect),
                "{dw}x{dh} {rect:?}"
            );
        }
        // short buffers are errors, nothing written
        let mut dst = vec![0x55u8; 10];
        assert!(scale_xrgb_nearest(
            &src,
            (sw, sh),
            28,
            &mut dst,
            (4, 4),
            16,
            Rect {
                x: 0,
                y: 0,
                w: 4,
                h: 4
            },
            true
        )
        .is_err());
        assert!(dst.iter().all(|b| *b == 0x55));
        assert!(scale_xrgb_nearest(
            &src[..10],
            (sw, sh),
            28,
            &mut [0; 64],
            (4, 4),
            16,
            Rect {
                x: 0,
                y: 0,
                w: 4,
                h: 4
            },
            true
        )
        .is_err());
    }
}

/// The sink's pacing, simulated: the window's `Pacer` as the kiosk drives it
/// (one commit in flight, answers = page-flip events at the vblank after
/// the commit) against a simulated 60 Hz vblank clock.
#[cfg(test)]
mod pacing_sim {
    use crate::wayland::pacing::{Decision, FrameResult, Pacer};

    const MS: i64 = 1_000_000;
    const REFRESH: i64 = 16_666_667;

    struct Sim {
        pacer: Pacer,
        now: i64,
        phase: i64,
        /// (id, flip time) of the commit in flight
        pending: Option<(u64, i64)>,
        /// extra delay of the next flip (a stalled commit worker)
        stall: i64,
        /// vblank handlers run this late: a commit made up to `latch` after
        /// a vblank's nominal time still takes that vblank (and its stamp)
        latch: i64,
        results: Vec<(i64, FrameResult, Option<i64>)>,
    }

    impl Sim {
        fn new(phase: i64) -> Self {
            let mut pacer = Pacer::new(false);
            pacer.set_half_refresh_margin();
            Sim {
                latch: 0,
                pacer,
                now: 0,
                phase,
                pending: None,
                stall: 0,
                results: Vec::new(),
            }
        }
        fn vblank_after(&self, t: i64) -> i64 {
            self.phase + ((t - self.phase).div_euclid(REFRESH) + 1) * REFRESH
        }
        /// Advances the clock to `t`, delivering a flip event due by then.
        fn advance(&mut self, t: i64) {
            if let Some((id, at)) = self.pending {
                if at <= t {
                    self.now = self.now.max(at);
                    let o = self.pacer.presented(id, at, REFRESH as u64).unwrap();
                    self.results.push((o.due_ns, o.result, o.presented_ns));
                    self.pending = None;
                }
            }
            self.now = self.now.max(t);
        }
        /// `show` of a frame due at `due`, handed over at `arrive`.
        fn show(&mut self, due: i64, arrive: i64) {
            self.advance(arrive);
            loop {
                match self.pacer.decide(self.now, due) {
                    Decision::Commit => break,
                    Decision::Drop(r) => {
                        let o = self.pacer.dropped(due, due, r);
                        self.results.push((o.due_ns, o.result, None));
                        return;
                    }
                    Decision::WaitUntil(t) => {
                        // woken by the flip event or at t
                        let wake = self.pending.map_or(t, |(_, at)| at.min(t));
                        self.advance(wake.max(self.now + 1));
                    }
                }
            }
            let id = self.pacer.committed(due, due, self.now);
            let at = self.vblank_after(self.now - self.latch) + std::mem::take(&mut self.stall);
            self.pending = Some((id, at));
        }
        fn finish(&mut self) {
            self.advance(self.now + 10 * REFRESH);
        }
        fn check(&self, frames: usize) {
            assert_eq!(self.results.len(), frames, "presented + dropped = frames");
            for (due, r, at) in &self.results {
                if *r == FrameResult::Presented {
                    let at = at.unwrap();
                    assert!(at >= *due, "shown at {at} before due {due}");
                }
            }
        }
        fn count(&self, r: FrameResult) -> usize {
            self.results.iter().filter(|x| x.1 == r).count()
        }
    }

    #[test]
    fn steady_25fps_on_60hz_all_shown_none_early() {
        for phase in [0, 3 * MS, 11 * MS] {
            let mut s = Sim::new(phase);
            let t0 = 100 * MS;
            for i in 0..250 {
                let due = t0 + i * 40 * MS;
                s.show(due, due - REFRESH - MS);
            }
            s.finish();
            s.check(250);
            assert_eq!(s.count(FrameResult::Presented), 250, "phase {phase}");
            // each on the first vblank at or after due (after the first flip taught the grid)
            for (due, _, at) in s.results.iter().skip(1) {
                assert!(at.unwrap() - due <= REFRESH, "{due} shown at {at:?}");
            }
        }
    }

    #[test]
    fn late_vblank_handlers_never_make_a_frame_early() {
        // vkms under TCG: the hrtimer handler ran > 1 ms late, so a commit 1 ms
        // after a nominal vblank was latched to it (flip stamped 4 ms before due)
        for latch in [MS, 3 * MS, 6 * MS] {
            for phase in [0, 4 * MS, 9 * MS, 13 * MS] {
                let mut s = Sim::new(phase);
                s.latch = latch;
                for i in 0..200 {
                    let due = 100 * MS + i * 33_333_333;
                    s.show(due, due - REFRESH - MS);
                }
                s.finish();
                // the first frame is committed at due, before any flip taught the
                // vblank phase: a late handler may stamp it up to `latch` early
                let first = s.results.iter().position(|r| r.0 == 100 * MS).unwrap();
                let (due0, _, at0) = s.results.remove(first);
                assert!(at0.is_none_or(|a| a >= due0 - latch));
                s.check(199);
                assert!(
                    s.count(FrameResult::Presented) >= 194,
                    "latch {latch} phase {phase}"
                );
            }
        }
    }

    #[test]
    fn a_stalled_flip_drops_late_frames_and_keeps_the_count() {
        let mut s = Sim::new(5 * MS);
        let t0 = 100 * MS;
        for i in 0..100 {
            let due = t0 + i * 40 * MS;
            if i == 30 {
                s.stall = 300 * MS;
            }
            s.show(due, due - REFRESH - MS);
        }
        s.finish();
        s.check(100);
        assert!(
            s.count(FrameResult::Dropped) >= 5,
            "{}",
            s.count(FrameResult::Dropped)
        );
        assert!(s.count(FrameResult::Presented) >= 85);
    }

    #[test]
    fn a_slow_producer_never_shows_early() {
        // frames handed over late (decoder slower than real time)
        let mut s = Sim::new(0);
        for i in 0..120 {
            let due = 100 * MS + i * 33 * MS;
            s.show(due, due + (i % 7) * 9 * MS);
        }
        s.finish();
        s.check(120);
        assert!(s.count(FrameResult::Presented) > 0);
    }
}
