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

use crate::frame::PixelFormat;
use crate::v4l2::CaptureFormat;

/// `DRM_FORMAT_MOD_LINEAR` (`drm_fourcc.h`).
pub const DRM_FORMAT_MOD_LINEAR: u64 = 0;
/// `DRM_FORMAT_MOD_INVALID` (`drm_fourcc.h`): no explicit modifier.
pub const DRM_FORMAT_MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;
/// Size of one `format_table` entry in bytes (linux-dmabuf-v1.xml, `format_table`).
pub const FORMAT_TABLE_ENTRY: usize = 16;
/// Largest format table we read (entries are indexed by u16, so 65536 × 16 bytes).
pub const FORMAT_TABLE_MAX: usize = 65536 * FORMAT_TABLE_ENTRY;

/// The (DRM fourcc, modifier) pairs a compositor accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmabufFormats {
    pairs: BTreeSet<(u32, u64)>,
}

impl DmabufFormats {
    /// Adds one pair (v3 `modifier` event: `modifier_hi << 32 | modifier_lo`).
    pub fn insert(&mut self, fourcc: u32, modifier: u64) {
        self.pairs.insert((fourcc, modifier));
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

/// The dmabuf modifier to wrap CAPTURE buffers of `pf` with (linear or
/// implicit, see [`DmabufFormats::linear_modifier`]), or why the compositor
/// cannot take them (then frames go through the `wl_shm` copy path). For a
/// 10-bit stream this is `DRM_FORMAT_P010` zero-copy when the compositor lists
/// it, else the caller converts P010 → XRGB8888 on the CPU.
pub fn choose_dmabuf(formats: &DmabufFormats, pf: PixelFormat) -> Result<u64, String> {
    let fourcc = pf.drm_fourcc();
    formats.linear_modifier(fourcc).ok_or_else(|| {
        let name = String::from_utf8_lossy(&fourcc.to_le_bytes()).into_owned();
        format!("compositor does not announce DRM_FORMAT_{name} with a linear or implicit modifier")
    })
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
    /// Byte offset of the plane's first *visible* sample in that dmabuf.
    pub offset: u32,
    /// Bytes per line.
    pub stride: u32,
}

/// The `add` calls for a frame of `fmt` cropped to `visible` (x, y, w, h in
/// pixels): the crop origin is folded into the plane offsets so that a
/// `w × h` `wl_buffer` shows exactly the visible rectangle (no viewporter
/// needed). Chroma planes are subsampled 2×2 (4:2:0). `None` when the
/// layout does not describe every plane of the format, the origin is odd
/// (chroma would be misaligned), or an offset does not fit u32.
pub fn dmabuf_planes(
    fmt: &CaptureFormat,
    visible: (u32, u32, u32, u32),
) -> Option<Vec<DmabufPlane>> {
    let pf = fmt.pixel_format;
    let n = pf.planes();
    if fmt.planes.len() < n {
        return None;
    }
    let (vx, vy, _, _) = visible;
    if vx % 2 != 0 || vy % 2 != 0 {
        return None;
    }
    let sb = pf.sample_bytes();
    fmt.planes[..n]
        .iter()
        .enumerate()
        .map(|(i, pl)| {
            let (x, y) = if i == 0 {
                (vx as usize, vy as usize)
            } else {
                (vx as usize / 2, vy as usize / 2)
            };
            let per_x = if i > 0 && matches!(pf, PixelFormat::Nv12 | PixelFormat::P010) {
                2 * sb
            } else {
                sb
            };
            let offset = pl
                .offset
                .checked_add(y.checked_mul(pl.stride)?)?
                .checked_add(x * per_x)?;
            Some(DmabufPlane {
                memory_plane: pl.memory_plane,
                offset: u32::try_from(offset).ok()?,
                stride: u32::try_from(pl.stride).ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v4l2::PlaneLayout;

    const NV12: u32 = u32::from_le_bytes(*b"NV12");
    const YU12: u32 = u32::from_le_bytes(*b"YU12");

    #[test]
    fn drm_fourcc_matches_drm_fourcc_h() {
        // drm_fourcc.h: #define DRM_FORMAT_NV12 fourcc_code('N', 'V', '1', '2') = 0x3231564e
        assert_eq!(PixelFormat::Nv12.drm_fourcc(), 0x3231_564e);
        assert_eq!(PixelFormat::Nv12.drm_fourcc(), NV12);
        // DRM_FORMAT_YUV420 fourcc_code('Y', 'U', '1', '2') = 0x32315559
        assert_eq!(PixelFormat::Yuv420.drm_fourcc(), 0x3231_5559);
    }

    #[test]
    fn p010_zero_copy_only_when_announced() {
        // drm_fourcc.h: DRM_FORMAT_P010 fourcc_code('P', '0', '1', '0') = 0x30313050
        let p010 = PixelFormat::P010.drm_fourcc();
        assert_eq!(p010, 0x3031_3050);
        let mut f = DmabufFormats::default();
        f.insert(NV12, DRM_FORMAT_MOD_LINEAR);
        assert_eq!(
            choose_dmabuf(&f, PixelFormat::Nv12),
            Ok(DRM_FORMAT_MOD_LINEAR)
        );
        let e = choose_dmabuf(&f, PixelFormat::P010).unwrap_err();
        assert!(e.contains("DRM_FORMAT_P010"), "{e}");
        f.insert(p010, DRM_FORMAT_MOD_INVALID);
        assert_eq!(
            choose_dmabuf(&f, PixelFormat::P010),
            Ok(DRM_FORMAT_MOD_INVALID)
        );
    }

    #[test]
    fn p010_planes_with_crop() {
        // 1920x1088 P010 (stride 3840 bytes), visible 1920x1080 from (2, 4).
        let fmt = CaptureFormat {
            pixel_format: PixelFormat::P010,
            width: 1920,
            height: 1088,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride: 3840,
                },
                PlaneLayout {
                    memory_plane: 0,
                    offset: 3840 * 1088,
                    stride: 3840,
                },
            ],
        };
        let p = dmabuf_planes(&fmt, (2, 4, 1916, 1080)).unwrap();
        assert_eq!(p[0].offset, 4 * 3840 + 2 * 2);
        // chroma row 2, sample pair 1: 4 bytes per CbCr pair
        assert_eq!(p[1].offset, 3840 * 1088 + 2 * 3840 + 4);
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
    fn nv12_planes_with_crop() {
        let f = nv12_1088();
        let p = dmabuf_planes(&f, (0, 0, 1920, 1080)).unwrap();
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
        let p = dmabuf_planes(&f, (16, 8, 1904, 1072)).unwrap();
        assert_eq!(p[0].offset, 8 * 1920 + 16);
        assert_eq!(p[1].offset, 1920 * 1088 + 4 * 1920 + 16);
        assert_eq!(dmabuf_planes(&f, (1, 0, 1918, 1080)), None);
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
        let p = dmabuf_planes(&f, (2, 2, 60, 28)).unwrap();
        assert_eq!(
            p.iter()
                .map(|p| (p.memory_plane, p.offset))
                .collect::<Vec<_>>(),
            vec![(0, 130), (1, 33), (2, 33)]
        );
        let mut short = nv12_1088();
        short.planes.truncate(1);
        assert_eq!(dmabuf_planes(&short, (0, 0, 1920, 1080)), None);
    }
}
