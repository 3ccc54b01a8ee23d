//! `zwp_linux_dmabuf_v1` (protocol `linux-dmabuf-v1.xml`, wayland-protocols
//! stable/linux-dmabuf): which format/modifier pairs the compositor takes,
//! and how a CAPTURE buffer's planes become `zwp_linux_buffer_params_v1.add`
//! calls.
//!
//! * v3 announces pairs with `zwp_linux_dmabuf_v1.modifier` events right after
//!   binding (weston 14 headless-GL sends v3 only).
//! * v4+ sends no `modifier` events; the pairs come from
//!   `zwp_linux_dmabuf_feedback_v1`: a `format_table` fd (an array of 16-byte
//!   entries: u32 `format`, u32 padding, u64 `modifier`, host byte order) and
//!   per tranche `tranche_formats` (u16 indices into that table), closed by `done`.
//!
//! Format codes are DRM fourccs (`drm_fourcc.h`: `DRM_FORMAT_NV12` = `NV12`
//! little-endian), modifiers `DRM_FORMAT_MOD_LINEAR` (0) and
//! `DRM_FORMAT_MOD_INVALID` (2^56 − 1, "implicit modifier": the exporter's
//! own layout, linear for V4L2 vb2 buffers).

use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;

use vreq_frame::drm;
use vreq_frame::CaptureFormat;
use vreq_frame::PixelFormat;

/// `DRM_FORMAT_MOD_LINEAR` (`drm_fourcc.h`).
pub const DRM_FORMAT_MOD_LINEAR: u64 = 0;
/// `DRM_FORMAT_MOD_INVALID` (`drm_fourcc.h`): no explicit modifier.
pub const DRM_FORMAT_MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;
/// Size of one `format_table` entry in bytes (linux-dmabuf-v1.xml, `format_table`).
pub const FORMAT_TABLE_ENTRY: usize = 16;
/// Largest format table we read (entries are indexed by u16, so 65536 × 16 bytes).
pub const FORMAT_TABLE_MAX: usize = 65536 * FORMAT_TABLE_ENTRY;

/// The (DRM fourcc, modifier) pairs a compositor accepts, and (v4+
/// feedback) which of them came in a tranche flagged `scanout` — buffers the
/// compositor may put on a display plane directly, without composition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmabufFormats {
    pairs: BTreeSet<(u32, u64)>,
    scanout: BTreeSet<(u32, u64)>,
    /// The feedback's `main_device` (a `dev_t`), if announced.
    pub main_device: Option<u64>,
}

impl DmabufFormats {
    /// Adds one pair (v3 `modifier` event: `modifier_hi << 32 | modifier_lo`).
    pub fn insert(&mut self, fourcc: u32, modifier: u64) {
        self.pairs.insert((fourcc, modifier));
    }

    /// Adds one pair from a feedback tranche; `scanout`: the tranche had
    /// `zwp_linux_dmabuf_feedback_v1.tranche_flags.scanout`.
    pub fn insert_from_tranche(&mut self, fourcc: u32, modifier: u64, scanout: bool) {
        self.pairs.insert((fourcc, modifier));
        if scanout {
            self.scanout.insert((fourcc, modifier));
        }
    }

    /// Whether the pair came in a scanout tranche (always false for v3).
    pub fn is_scanout(&self, fourcc: u32, modifier: u64) -> bool {
        self.scanout.contains(&(fourcc, modifier))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the compositor announced nothing.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Distinct fourccs announced.
    pub fn fourccs(&self) -> usize {
        self.pairs
            .iter()
            .map(|p| p.0)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The modifier to use for a linear buffer of `fourcc`: `DRM_FORMAT_MOD_LINEAR`
    /// if announced, else `DRM_FORMAT_MOD_INVALID` (implicit) if announced, else
    /// `None` (the compositor cannot take this format from us).
    pub fn linear_modifier(&self, fourcc: u32) -> Option<u64> {
        [DRM_FORMAT_MOD_LINEAR, DRM_FORMAT_MOD_INVALID]
            .into_iter()
            .find(|m| self.pairs.contains(&(fourcc, *m)))
    }
}

/// The `dev_t` in a feedback `main_device` / `tranche_target_device` array
/// (linux-dmabuf-v1.xml: "a dev_t value", host byte order); `None` if the
/// array is not 4 or 8 bytes.
pub fn dev_t_from_bytes(bytes: &[u8]) -> Option<u64> {
    match bytes.len() {
        8 => Some(u64::from_ne_bytes(bytes.try_into().ok()?)),
        4 => Some(u64::from(u32::from_ne_bytes(bytes.try_into().ok()?))),
        _ => None,
    }
}

/// `fourcc_mod_broadcom_mod(m)` (drm_fourcc.h): a Broadcom modifier with its
/// parameter (the SAND column height, bits 55:8) cleared; other modifiers unchanged.
pub fn broadcom_mod_base(m: u64) -> u64 {
    if m >> 56 == 0x07 {
        m & !(((1u64 << 48) - 1) << 8)
    } else {
        m
    }
}

/// The DRM (fourcc, modifier) to wrap CAPTURE buffers of `fmt` with, or why
/// the compositor cannot take them (then frames go through the copy path).
///
/// The pair comes from the CAPTURE format ([`drm::drm_format`]):
/// * NV12 / YU12 / P010 / NV15: that DRM format, `DRM_FORMAT_MOD_LINEAR` or
///   `DRM_FORMAT_MOD_INVALID` (implicit) as announced
///   ([`DmabufFormats::linear_modifier`]);
/// * NC12 → `DRM_FORMAT_NV12`, NC30 → `DRM_FORMAT_P030`, each with
///   `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(col_height)` where the column
///   height is the CAPTURE `bytesperline` (= `planes[0].stride`). Taken when
///   the compositor announces exactly that modifier **or** the bare
///   `DRM_FORMAT_MOD_BROADCOM_SAND128` (column height 0): KMS planes list the
///   bare one and accept any height (kernel vc4_plane.c
///   `vc4_format_mod_supported` compares `fourcc_mod_broadcom_mod(modifier)`
///   with `DRM_FORMAT_MOD_BROADCOM_SAND128`; Kodi's
///   `CDRMPlane::SupportsFormatAndModifier` masks the parameter the same way
///   before comparing with the announced list). The buffer is always described
///   with its real column height. A SAND128 modifier with another non-zero
///   height does not match. Unverified on silicon.
pub fn choose_dmabuf(formats: &DmabufFormats, fmt: &CaptureFormat) -> Result<(u32, u64), String> {
    let pf = fmt.pixel_format;
    let stride0 = fmt.planes.first().map(|p| p.stride).unwrap_or(0);
    let Some((fourcc, modifier)) =
        drm::drm_format(pf.v4l2_fourcc(), u32::try_from(stride0).unwrap_or(u32::MAX))
    else {
        return Err(format!("{pf:?} has no DRM format"));
    };
    let name = String::from_utf8_lossy(&fourcc.to_le_bytes()).into_owned();
    if modifier == DRM_FORMAT_MOD_LINEAR {
        return formats
            .linear_modifier(fourcc)
            .map(|m| (fourcc, m))
            .ok_or_else(|| {
                format!(
                    "compositor does not announce DRM_FORMAT_{name} with a linear or implicit modifier"
                )
            });
    }
    let bare = broadcom_mod_base(modifier);
    if formats.pairs.contains(&(fourcc, modifier))
        || (bare != modifier && formats.pairs.contains(&(fourcc, bare)))
    {
        return Ok((fourcc, modifier));
    }
    Err(format!(
        "compositor does not announce DRM_FORMAT_{name} with modifier {modifier:#x} \
         (DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT({stride0})) nor the bare SAND128 one"
    ))
}

/// True when the compositor announces `fourcc` with a linear or implicit
/// modifier (what the copy path's linear dmabufs need).
pub fn takes_linear(formats: &DmabufFormats, fourcc: u32) -> bool {
    formats.linear_modifier(fourcc).is_some()
}

/// Parses a v4 `format_table` (`size` bytes) into (fourcc, modifier) pairs.
/// Errors on a size that is not a multiple of 16 or larger than
/// [`FORMAT_TABLE_MAX`].
pub fn parse_format_table(bytes: &[u8]) -> Result<Vec<(u32, u64)>, String> {
    if bytes.len() % FORMAT_TABLE_ENTRY != 0 || bytes.len() > FORMAT_TABLE_MAX {
        return Err(format!(
            "format_table of {} bytes is not n × 16 bytes (n ≤ 65536)",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(FORMAT_TABLE_ENTRY)
        .map(|e| {
            let f = u32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
            let m = u64::from_ne_bytes([e[8], e[9], e[10], e[11], e[12], e[13], e[14], e[15]]);
            (f, m)
        })
        .collect())
}

/// Reads a `format_table` fd of `size` bytes (with `pread`, no mapping).
pub fn read_format_table(fd: std::os::fd::OwnedFd, size: u32) -> Result<Vec<(u32, u64)>, String> {
    let size = size as usize;
    if size > FORMAT_TABLE_MAX {
        return Err(format!(
            "format_table of {size} bytes is larger than {FORMAT_TABLE_MAX}"
        ));
    }
    let file = std::fs::File::from(fd);
    let mut buf = vec![0u8; size];
    file.read_exact_at(&mut buf, 0)
        .map_err(|e| format!("reading format_table ({size} bytes): {e}"))?;
    parse_format_table(&buf)
}

/// Resolves `tranche_formats` indices (u16, host byte order, 2 bytes each)
/// against `table`; indices outside the table are skipped.
pub fn tranche_pairs(table: &[(u32, u64)], indices: &[u8]) -> Vec<(u32, u64)> {
    indices
        .chunks_exact(2)
        .filter_map(|i| {
            table
                .get(u16::from_ne_bytes([i[0], i[1]]) as usize)
                .copied()
        })
        .collect()
}

/// One `zwp_linux_buffer_params_v1.add` call: plane index = position in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmabufPlane {
    /// Which of the frame's dmabufs (V4L2 memory plane) holds this plane.
    pub memory_plane: usize,
    /// Byte offset of the plane's first byte in that dmabuf.
    pub offset: u32,
    /// Bytes per line (the `pitch` DRM checks; see below for SAND128).
    pub stride: u32,
}

/// The `add` calls for the **whole** CAPTURE buffer of `fmt` (a `wl_buffer`
/// of `fmt.width` × `fmt.height`; the visible rectangle is shown with
/// `wp_viewport.set_source`, nothing is folded into the offsets):
/// * linear formats (NV12, P010, NV15, YU12): each plane's offset and
///   `bytesperline` as the layout has them;
/// * NC12 (DRM NV12 + SAND128): plane 0 at 0, plane 1 at `height · 128`
///   (the layout's chroma offset), pitch = `width` for both: the column
///   height travels in the modifier, and drm_fourcc.h asks for "stride =
///   width · cpp" for the core's checks (comment above
///   `DRM_FORMAT_MOD_BROADCOM_SAND32_COL_HEIGHT`); FFmpeg-rpi's
///   `drm_from_format` (v4l2_request_hevc.c) sets the same;
/// * NC30 (DRM P030 + SAND128): same offsets, pitch = `width · 2` (FFmpeg-rpi:
///   "Lies but it keeps DRM import happy"; ≥ the P030 minimum pitch
///   `ceil(width / 3) · 4`).
///
/// `None` when the layout does not describe every plane of the format or a
/// value does not fit u32.
pub fn dmabuf_planes(fmt: &CaptureFormat) -> Option<Vec<DmabufPlane>> {
    let pf = fmt.pixel_format;
    let n = pf.planes();
    if fmt.planes.len() < n {
        return None;
    }
    let sand_pitch = match pf {
        PixelFormat::Nc12 => Some(fmt.width as usize),
        PixelFormat::Nc30 => Some(fmt.width as usize * 2),
        _ => None,
    };
    fmt.planes[..n]
        .iter()
        .map(|pl| {
            Some(DmabufPlane {
                memory_plane: pl.memory_plane,
                offset: u32::try_from(pl.offset).ok()?,
                stride: u32::try_from(sand_pitch.unwrap_or(pl.stride)).ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_frame::PlaneLayout;

    const NV12: u32 = u32::from_le_bytes(*b"NV12");
    const YU12: u32 = u32::from_le_bytes(*b"YU12");

    #[test]
    fn feedback_scanout_tranche_and_main_device() {
        let nv12 = u32::from_le_bytes(*b"NV12");
        let mut f = DmabufFormats::default();
        f.insert_from_tranche(nv12, DRM_FORMAT_MOD_LINEAR, true);
        f.insert_from_tranche(nv12, DRM_FORMAT_MOD_INVALID, false);
        assert!(f.is_scanout(nv12, DRM_FORMAT_MOD_LINEAR));
        assert!(!f.is_scanout(nv12, DRM_FORMAT_MOD_INVALID));
        assert_eq!(f.linear_modifier(nv12), Some(DRM_FORMAT_MOD_LINEAR));
        // dev_t 226:128 (renderD128) as the compositor sends it: host-order bytes
        let dev: u64 = (226 << 8) | 128;
        assert_eq!(dev_t_from_bytes(&dev.to_ne_bytes()), Some(dev));
        assert_eq!(dev_t_from_bytes(&(dev as u32).to_ne_bytes()), Some(dev));
        assert_eq!(dev_t_from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn drm_fourcc_matches_drm_fourcc_h() {
        // drm_fourcc.h: #define DRM_FORMAT_NV12 fourcc_code('N', 'V', '1', '2') = 0x3231564e
        assert_eq!(PixelFormat::Nv12.drm_fourcc(), 0x3231_564e);
        assert_eq!(PixelFormat::Nv12.drm_fourcc(), NV12);
        // DRM_FORMAT_YUV420 fourcc_code('Y', 'U', '1', '2') = 0x32315559
        assert_eq!(PixelFormat::Yuv420.drm_fourcc(), 0x3231_5559);
    }

    fn linear(pf: PixelFormat, w: u32, h: u32, stride: usize) -> CaptureFormat {
        CaptureFormat {
            pixel_format: pf,
            width: w,
            height: h,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride,
                },
                PlaneLayout {
                    memory_plane: 0,
                    offset: stride * h as usize,
                    stride,
                },
            ],
        }
    }

    /// NC12 / NC30 as rpi-hevc-dec fills them: 1088 lines, column height 1632.
    fn sand(pf: PixelFormat, w: u32) -> CaptureFormat {
        CaptureFormat {
            pixel_format: pf,
            width: w,
            height: 1088,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride: 1632,
                },
                PlaneLayout {
                    memory_plane: 0,
                    offset: 1088 * 128,
                    stride: 1632,
                },
            ],
        }
    }

    #[test]
    fn p010_zero_copy_only_when_announced() {
        // drm_fourcc.h: DRM_FORMAT_P010 fourcc_code('P', '0', '1', '0') = 0x30313050
        let p010 = PixelFormat::P010.drm_fourcc();
        assert_eq!(p010, 0x3031_3050);
        let mut f = DmabufFormats::default();
        f.insert(NV12, DRM_FORMAT_MOD_LINEAR);
        let nv12 = linear(PixelFormat::Nv12, 64, 48, 64);
        assert_eq!(choose_dmabuf(&f, &nv12), Ok((NV12, DRM_FORMAT_MOD_LINEAR)));
        let p = linear(PixelFormat::P010, 64, 48, 128);
        let e = choose_dmabuf(&f, &p).unwrap_err();
        assert!(e.contains("DRM_FORMAT_P010"), "{e}");
        f.insert(p010, DRM_FORMAT_MOD_INVALID);
        assert_eq!(choose_dmabuf(&f, &p), Ok((p010, DRM_FORMAT_MOD_INVALID)));
    }

    #[test]
    fn nv15_zero_copy_only_when_listed_linear() {
        // drm_fourcc.h: DRM_FORMAT_NV15 fourcc_code('N', 'V', '1', '5')
        let nv15 = u32::from_le_bytes(*b"NV15");
        let fmt = linear(PixelFormat::Nv15, 1920, 1088, 2400);
        let mut f = DmabufFormats::default();
        f.insert(NV12, DRM_FORMAT_MOD_LINEAR);
        assert!(choose_dmabuf(&f, &fmt)
            .unwrap_err()
            .contains("DRM_FORMAT_NV15"));
        f.insert(nv15, DRM_FORMAT_MOD_LINEAR);
        assert_eq!(choose_dmabuf(&f, &fmt), Ok((nv15, DRM_FORMAT_MOD_LINEAR)));
        let p = dmabuf_planes(&fmt).unwrap();
        assert_eq!(
            p.iter().map(|p| (p.offset, p.stride)).collect::<Vec<_>>(),
            vec![(0, 2400), (2400 * 1088, 2400)]
        );
    }

    #[test]
    fn sand128_modifier_carries_the_column_height() {
        let p030 = u32::from_le_bytes(*b"P030");
        let want = drm::drm_mod_broadcom_sand128(1632);
        // drm_fourcc.h: fourcc_mod_code(BROADCOM = 7, (1632 << 8) | 4)
        assert_eq!(want, (7u64 << 56) | (1632 << 8) | 4);
        let nc12 = sand(PixelFormat::Nc12, 1920);
        let nc30 = sand(PixelFormat::Nc30, 1920);
        let mut f = DmabufFormats::default();
        // not listed at all (only linear NV12): refused, modifier named
        f.insert(NV12, DRM_FORMAT_MOD_LINEAR);
        let e = choose_dmabuf(&f, &nc12).unwrap_err();
        assert!(e.contains("SAND128_COL_HEIGHT(1632)"), "{e}");
        // another column height: refused
        f.insert(NV12, drm::drm_mod_broadcom_sand128(1600));
        assert!(choose_dmabuf(&f, &nc12).is_err());
        // exactly that pair
        f.insert(NV12, want);
        assert_eq!(choose_dmabuf(&f, &nc12), Ok((NV12, want)));
        // the bare SAND128 (column height 0) is the wildcard KMS lists
        let mut g = DmabufFormats::default();
        g.insert(p030, drm::drm_mod_broadcom_sand128(0));
        assert_eq!(choose_dmabuf(&g, &nc30), Ok((p030, want)));
        // ... for P030 only here, not for NV12
        assert!(choose_dmabuf(&g, &nc12).is_err());
        assert_eq!(broadcom_mod_base(want), drm::drm_mod_broadcom_sand128(0));
        assert_eq!(
            broadcom_mod_base(DRM_FORMAT_MOD_INVALID),
            DRM_FORMAT_MOD_INVALID
        );
    }

    #[test]
    fn sand128_planes() {
        // NC12: chroma at height · 128, pitch = width (drm_fourcc.h "stride = width · cpp")
        let p = dmabuf_planes(&sand(PixelFormat::Nc12, 1920)).unwrap();
        assert_eq!(
            p,
            vec![
                DmabufPlane {
                    memory_plane: 0,
                    offset: 0,
                    stride: 1920
                },
                DmabufPlane {
                    memory_plane: 0,
                    offset: 1088 * 128,
                    stride: 1920
                },
            ]
        );
        // NC30: 1920 pixels = 20 columns of 96; pitch width · 2 as FFmpeg-rpi sets it
        let p = dmabuf_planes(&sand(PixelFormat::Nc30, 1920)).unwrap();
        assert_eq!(
            p.iter().map(|p| (p.offset, p.stride)).collect::<Vec<_>>(),
            vec![(0, 3840), (1088 * 128, 3840)]
        );
        assert!(p[0].stride >= 1920u32.div_ceil(3) * 4);
    }

    #[test]
    fn p010_planes_whole_buffer() {
        // 1920x1088 P010 (stride 3840 bytes): the whole buffer, the crop is the viewport's
        let p = dmabuf_planes(&linear(PixelFormat::P010, 1920, 1088, 3840)).unwrap();
        assert_eq!(p[0].offset, 0);
        assert_eq!(p[1].offset, 3840 * 1088);
        assert_eq!(p[1].stride, 3840);
    }

    #[test]
    fn modifier_preference() {
        let mut f = DmabufFormats::default();
        assert_eq!(f.linear_modifier(NV12), None);
        f.insert(NV12, DRM_FORMAT_MOD_INVALID);
        assert_eq!(f.linear_modifier(NV12), Some(DRM_FORMAT_MOD_INVALID));
        f.insert(NV12, DRM_FORMAT_MOD_LINEAR);
        assert_eq!(f.linear_modifier(NV12), Some(DRM_FORMAT_MOD_LINEAR));
        // a tiled-only format is not usable for our linear buffers
        f.insert(YU12, 0x0100_0000_0000_0001); // I915_FORMAT_MOD_X_TILED
        assert_eq!(f.linear_modifier(YU12), None);
        assert_eq!((f.len(), f.fourccs()), (3, 2));
    }

    #[test]
    fn format_table_and_tranche_indices() {
        let mut bytes = Vec::new();
        for (f, m) in [
            (NV12, DRM_FORMAT_MOD_LINEAR),
            (YU12, DRM_FORMAT_MOD_INVALID),
            (NV12, 7u64),
        ] {
            bytes.extend_from_slice(&f.to_ne_bytes());
            bytes.extend_from_slice(&0xdead_beefu32.to_ne_bytes()); // padding is ignored
            bytes.extend_from_slice(&m.to_ne_bytes());
        }
        let table = parse_format_table(&bytes).unwrap();
        assert_eq!(
            table,
            vec![(NV12, 0), (YU12, DRM_FORMAT_MOD_INVALID), (NV12, 7)]
        );
        let idx: Vec<u8> = [2u16, 0, 9].iter().flat_map(|i| i.to_ne_bytes()).collect();
        assert_eq!(tranche_pairs(&table, &idx), vec![(NV12, 7), (NV12, 0)]);
        assert!(parse_format_table(&bytes[..17]).is_err());
    }

    #[test]
    fn format_table_from_fd() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&NV12.to_ne_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&DRM_FORMAT_MOD_INVALID.to_ne_bytes());
        let path = std::env::temp_dir().join(format!("vreqplay-fmt-table-{}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let fd: std::os::fd::OwnedFd = std::fs::File::open(&path).unwrap().into();
        let got = read_format_table(fd, 16);
        let _ = std::fs::remove_file(&path);
        assert_eq!(got.unwrap(), vec![(NV12, DRM_FORMAT_MOD_INVALID)]);
    }

    fn nv12_1088() -> CaptureFormat {
        CaptureFormat {
            pixel_format: PixelFormat::Nv12,
            width: 1920,
            height: 1088,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride: 1920,
                },
                PlaneLayout {
                    memory_plane: 0,
                    offset: 1920 * 1088,
                    stride: 1920,
                },
            ],
        }
    }

    #[test]
    fn nv12_planes_whole_buffer() {
        let f = nv12_1088();
        let p = dmabuf_planes(&f).unwrap();
        assert_eq!(
            p,
            vec![
                DmabufPlane {
                    memory_plane: 0,
                    offset: 0,
                    stride: 1920
                },
                DmabufPlane {
                    memory_plane: 0,
                    offset: 1920 * 1088,
                    stride: 1920
                },
            ]
        );
    }

    #[test]
    fn yuv420_multiplanar_and_missing_planes() {
        let f = CaptureFormat {
            pixel_format: PixelFormat::Yuv420,
            width: 64,
            height: 32,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride: 64,
                },
                PlaneLayout {
                    memory_plane: 1,
                    offset: 0,
                    stride: 32,
                },
                PlaneLayout {
                    memory_plane: 2,
                    offset: 0,
                    stride: 32,
                },
            ],
        };
        let p = dmabuf_planes(&f).unwrap();
        assert_eq!(
            p.iter()
                .map(|p| (p.memory_plane, p.offset, p.stride))
                .collect::<Vec<_>>(),
            vec![(0, 0, 64), (1, 0, 32), (2, 0, 32)]
        );
        let mut short = nv12_1088();
        short.planes.truncate(1);
        assert_eq!(dmabuf_planes(&short), None);
    }
}
