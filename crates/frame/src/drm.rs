//! DRM format facts, the one place they live: the DRM fourcc and format
//! modifier of each decoder CAPTURE format, for dmabuf import by a Wayland
//! compositor (`zwp_linux_dmabuf_v1`) or a KMS plane.
//!
//! Source of every value: include/uapi/drm/drm_fourcc.h.

/// `DRM_FORMAT_MOD_VENDOR_BROADCOM` (include/uapi/drm/drm_fourcc.h).
const DRM_MOD_VENDOR_BROADCOM: u64 = 0x07;
/// `DRM_FORMAT_MOD_VENDOR_ALLWINNER` (drm_fourcc.h).
const DRM_MOD_VENDOR_ALLWINNER: u64 = 0x09;

/// `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(h)` (drm_fourcc.h:
/// `fourcc_mod_broadcom_code(4, h)`, the parameter shifted by 8): Broadcom's
/// SAND layout, 128-byte wide columns of `h` lines each holding the luma rows
/// then the chroma rows of that column.
pub const fn drm_mod_broadcom_sand128(col_height: u32) -> u64 {
    (DRM_MOD_VENDOR_BROADCOM << 56) | (((col_height as u64) << 8) | 4)
}

/// `DRM_FORMAT_MOD_ALLWINNER_TILED` (drm_fourcc.h: `fourcc_mod_code(ALLWINNER, 1)`):
/// 32x32 tiles, the layout of V4L2 `NV12_32L32` (`ST12`).
pub const DRM_MOD_ALLWINNER_TILED: u64 = (DRM_MOD_VENDOR_ALLWINNER << 56) | 1;

/// `DRM_FORMAT_MOD_LINEAR`.
pub const DRM_MOD_LINEAR: u64 = 0;

/// The DRM format (fourcc as its little-endian u32, modifier) for a V4L2
/// CAPTURE fourcc, for a dmabuf import (`zwp_linux_dmabuf_v1`, KMS planes).
/// `bytesperline` is the V4L2 format's plane 0 `bytesperline`: for the SAND128
/// formats the driver puts the column height there (hevc_d_video.c
/// `hevc_d_prepare_dst_format`: "For column formats set bytesperline to column
/// height"). `None` for a fourcc with no DRM equivalent known here.
///
/// Sources: include/uapi/drm/drm_fourcc.h (NV12, P010, NV15, P030, the
/// Broadcom / Allwinner modifiers); include/uapi/linux/videodev2.h (NV15 is
/// "12 Y/CbCr 4:2:0 10-bit packed", ST12 is `V4L2_PIX_FMT_NV12_32L32`);
/// raspberrypi/linux videodev2.h (NC12 `V4L2_PIX_FMT_NV12_COL128`, NC30
/// `V4L2_PIX_FMT_NV12_10_COL128`: 3 10-bit samples per 32 bits, which DRM
/// calls P030). Unverified on silicon.
pub fn drm_format(fourcc: [u8; 4], bytesperline: u32) -> Option<(u32, u64)> {
    let le = |b: &[u8; 4]| u32::from_le_bytes(*b);
    Some(match &fourcc {
        b"NV12" | b"NM12" => (le(b"NV12"), DRM_MOD_LINEAR),
        b"YU12" | b"YM12" => (le(b"YU12"), DRM_MOD_LINEAR),
        b"P010" => (le(b"P010"), DRM_MOD_LINEAR),
        b"NV15" => (le(b"NV15"), DRM_MOD_LINEAR),
        b"ST12" => (le(b"NV12"), DRM_MOD_ALLWINNER_TILED),
        b"NC12" => (le(b"NV12"), drm_mod_broadcom_sand128(bytesperline)),
        b"NC30" => (le(b"P030"), drm_mod_broadcom_sand128(bytesperline)),
        _ => return None,
    })
}
