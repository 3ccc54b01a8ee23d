//! Surfaces, contexts and image formats as plain records.
//!
//! A surface is, in this milestone, a record (size, RT format, pixel format,
//! memory type, state); the decode milestone binds it to a CAPTURE buffer of
//! the device its context decodes on. A context records its config and render
//! targets; its engine session is created in the decode milestone.
//! Sources: libva va.h (`vaCreateSurfaces`, `VASurfaceAttrib*`,
//! `VA_RT_FORMAT_*`, `VA_SURFACE_ATTRIB_MEM_TYPE_*`, `VA_FOURCC_*`),
//! va_drmcommon.h (`VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2`).

use vreq_v4l2::DeviceInfo;

use crate::status::*;
use crate::sys::{self, VAConfigID, VASurfaceID};

/// Largest surface / context width or height in pixels the driver accepts
/// whatever a device reports (a bound on what a client can make us record
/// and, later, allocate): 16384, the largest `VIDIOC_ENUM_FRAMESIZES` maximum
/// of the stateless drivers we know (rkvdec's 65472 is clamped here).
pub const SURFACE_DIM_CAP: u32 = 16384;

/// Smallest surface width or height in pixels: discovery reports no minimum
/// (ENUM_FRAMESIZES minima are not recorded), so 1.
pub const SURFACE_DIM_MIN: u32 = 1;

/// Live surfaces at most, over all contexts (each becomes a CAPTURE buffer
/// in the decode milestone).
pub const MAX_LIVE_SURFACES: usize = 4096;

/// Live contexts at most.
pub const MAX_LIVE_CONTEXTS: usize = 64;

/// `VA_FOURCC_NV12`: 8-bit 4:2:0, Y plane then interleaved CbCr plane.
pub const FOURCC_NV12: u32 = sys::VA_FOURCC_NV12;
/// `VA_FOURCC_P010`: 10-bit 4:2:0 in 16-bit little-endian words, MSB-aligned.
pub const FOURCC_P010: u32 = sys::VA_FOURCC_P010;

/// The memory types a surface may be created with or exported as:
/// `VA_SURFACE_ATTRIB_MEM_TYPE_VA` | `VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2`.
pub const MEMORY_TYPES: u32 =
    sys::VA_SURFACE_ATTRIB_MEM_TYPE_VA | sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;

/// One `VAImageFormat` as plain fields (va.h `struct _VAImageFormat`; YUV
/// formats leave `depth` and the RGB masks zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFormat {
    pub fourcc: u32,
    /// `VA_LSB_FIRST` for both formats.
    pub byte_order: u32,
    /// Bits per pixel averaged over the planes: NV12 12, P010 24.
    pub bits_per_pixel: u32,
}

/// NV12 as `vaQueryImageFormats` lists it.
pub const IMAGE_NV12: ImageFormat = ImageFormat {
    fourcc: FOURCC_NV12,
    byte_order: sys::VA_LSB_FIRST,
    bits_per_pixel: 12,
};
/// P010 as `vaQueryImageFormats` lists it.
pub const IMAGE_P010: ImageFormat = ImageFormat {
    fourcc: FOURCC_P010,
    byte_order: sys::VA_LSB_FIRST,
    bits_per_pixel: 24,
};

/// The pixel format (fourcc) of a surface of one RT format:
/// `VA_RT_FORMAT_YUV420` → NV12, `VA_RT_FORMAT_YUV420_10` → P010; `None` for
/// any other value (also for several bits at once).
pub fn fourcc_of_rt_format(rt_format: u32) -> Option<u32> {
    match rt_format {
        sys::VA_RT_FORMAT_YUV420 => Some(FOURCC_NV12),
        sys::VA_RT_FORMAT_YUV420_10 => Some(FOURCC_P010),
        _ => None,
    }
}

/// Largest coded width and height in pixels over `devices` and their codecs,
/// each unknown maximum (0) counted as [`SURFACE_DIM_CAP`], the result
/// clamped to it.
pub fn max_size_of(devices: &[DeviceInfo]) -> (u32, u32) {
    let known = |v: u32| if v == 0 { SURFACE_DIM_CAP } else { v };
    let mut w = 0;
    let mut h = 0;
    for c in devices.iter().flat_map(|d| &d.codecs) {
        w = w.max(known(c.max_width));
        h = h.max(known(c.max_height));
    }
    (w.min(SURFACE_DIM_CAP), h.min(SURFACE_DIM_CAP))
}

/// One surface attribute of `vaCreateSurfaces2`, as the FFI module reads it
/// from a `VASurfaceAttrib` (whose value is a C union).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurfaceAttrib {
    /// `VASurfaceAttribPixelFormat` with an integer value (a `VA_FOURCC_*`).
    PixelFormat(u32),
    /// `VASurfaceAttribMemoryType` with an integer value
    /// (`VA_SURFACE_ATTRIB_MEM_TYPE_*`).
    MemoryType(u32),
    /// `VASurfaceAttribExternalBufferDescriptor`: the client brings the
    /// memory. Refused: our surfaces are the decoder's CAPTURE buffers.
    ExternalBuffer,
    /// `VASurfaceAttribPixelFormat` or `VASurfaceAttribMemoryType` whose
    /// value is not `VAGenericValueTypeInteger`.
    NotInteger(u32),
    /// Any other type (`VASurfaceAttribUsageHint`,
    /// `VASurfaceAttribDRMFormatModifiers`, …): ignored.
    Other(u32),
}

/// What happened to a surface so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurfaceState {
    /// Created, never a render target of a picture: `VASurfaceReady`, and
    /// `vaSyncSurface` returns at once.
    Fresh,
}

/// One `vaCreateSurfaces2` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    /// Width and height in pixels as created.
    pub width: u32,
    pub height: u32,
    /// One `VA_RT_FORMAT_*` bit: YUV420 or YUV420_10.
    pub rt_format: u32,
    /// `VA_FOURCC_NV12` or `VA_FOURCC_P010`.
    pub fourcc: u32,
    /// `VA_SURFACE_ATTRIB_MEM_TYPE_VA` or `_DRM_PRIME_2` (as asked; both are
    /// driver-allocated).
    pub memory_type: u32,
    pub state: SurfaceState,
    /// The live context that has the surface among its render targets.
    pub context: Option<u32>,
}

/// Checks `vaCreateSurfaces2`'s arguments and makes the record each of the
/// surfaces gets. `max` is the largest size the served devices decode
/// ([`max_size_of`]); `ten_bit` whether a served device decodes 10-bit.
/// Errors: `VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT` (not exactly YUV420 or
/// YUV420_10, or YUV420_10 without a 10-bit device),
/// `VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED` (a zero size or one past
/// `max`), `VA_STATUS_ERROR_INVALID_IMAGE_FORMAT` (a pixel format that is not
/// the RT format's), `VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE` (a memory type
/// other than VA / DRM_PRIME_2, or an external buffer descriptor),
/// `VA_STATUS_ERROR_INVALID_PARAMETER` (a non-integer value).
pub fn surface_record(
    rt_format: u32,
    width: u32,
    height: u32,
    attribs: &[SurfaceAttrib],
    max: (u32, u32),
    ten_bit: bool,
) -> Result<Surface, VAStatus> {
    let fourcc = fourcc_of_rt_format(rt_format).ok_or(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT)?;
    if fourcc == FOURCC_P010 && !ten_bit {
        return Err(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT);
    }
    if width < SURFACE_DIM_MIN || height < SURFACE_DIM_MIN || width > max.0 || height > max.1 {
        return Err(VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED);
    }
    let mut memory_type = sys::VA_SURFACE_ATTRIB_MEM_TYPE_VA;
    for a in attribs {
        match *a {
            SurfaceAttrib::PixelFormat(f) if f != fourcc => {
                return Err(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT)
            }
            SurfaceAttrib::PixelFormat(_) => {}
            SurfaceAttrib::MemoryType(m) => {
                if m == 0 || m & !MEMORY_TYPES != 0 || !m.is_power_of_two() {
                    return Err(VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE);
                }
                memory_type = m;
            }
            SurfaceAttrib::ExternalBuffer => {
                tracing::warn!(
                    "vaCreateSurfaces2: VASurfaceAttribExternalBufferDescriptor refused: \
                     surfaces are the decoder's CAPTURE buffers (VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE)"
                );
                return Err(VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE);
            }
            SurfaceAttrib::NotInteger(_) => return Err(VA_STATUS_ERROR_INVALID_PARAMETER),
            SurfaceAttrib::Other(t) => {
                tracing::debug!("vaCreateSurfaces2: surface attribute type {t} ignored");
            }
        }
    }
    Ok(Surface {
        width,
        height,
        rt_format,
        fourcc,
        memory_type,
        state: SurfaceState::Fresh,
        context: None,
    })
}

/// One value `vaQuerySurfaceAttributes` returns: type, flags
/// (`VA_SURFACE_ATTRIB_GETTABLE` / `_SETTABLE`) and an integer value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfaceAttribValue {
    pub type_: u32,
    pub flags: u32,
    pub value: u32,
}

/// `vaQuerySurfaceAttributes` of a config with RT formats `rt_format` whose
/// device decodes up to `max` (width, height) pixels: one
/// `VASurfaceAttribPixelFormat` per RT format bit (NV12 for YUV420, P010 for
/// YUV420_10), `VASurfaceAttribMemoryType` (VA | DRM_PRIME_2),
/// `VASurfaceAttribMin/MaxWidth/Height`.
pub fn query_surface_attributes(rt_format: u32, max: (u32, u32)) -> Vec<SurfaceAttribValue> {
    let gs = sys::VA_SURFACE_ATTRIB_GETTABLE | sys::VA_SURFACE_ATTRIB_SETTABLE;
    let get = sys::VA_SURFACE_ATTRIB_GETTABLE;
    let v = |type_, flags, value| SurfaceAttribValue {
        type_,
        flags,
        value,
    };
    let mut out = Vec::new();
    for bit in [sys::VA_RT_FORMAT_YUV420, sys::VA_RT_FORMAT_YUV420_10] {
        if rt_format & bit != 0 {
            if let Some(f) = fourcc_of_rt_format(bit) {
                out.push(v(sys::VASurfaceAttribPixelFormat, gs, f));
            }
        }
    }
    out.push(v(sys::VASurfaceAttribMemoryType, gs, MEMORY_TYPES));
    out.push(v(sys::VASurfaceAttribMinWidth, get, SURFACE_DIM_MIN));
    out.push(v(sys::VASurfaceAttribMinHeight, get, SURFACE_DIM_MIN));
    out.push(v(sys::VASurfaceAttribMaxWidth, get, max.0));
    out.push(v(sys::VASurfaceAttribMaxHeight, get, max.1));
    out
}

/// One `vaCreateContext` result. Its engine session (the V4L2 device opened,
/// the CAPTURE buffers the surfaces become) is created in the decode
/// milestone; today it is this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub config: VAConfigID,
    /// The coded picture size in pixels given at creation.
    pub width: u32,
    pub height: u32,
    /// `flag` as given (`VA_PROGRESSIVE` or 0).
    pub flag: i32,
    /// The render targets, without duplicates, in the order given; a
    /// surface destroyed while the context lives is dropped from the list.
    pub render_targets: Vec<VASurfaceID>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_testkit::fake::device_info;
    use vreq_v4l2::profile::for_driver;

    const YUV420: u32 = sys::VA_RT_FORMAT_YUV420;
    const YUV420_10: u32 = sys::VA_RT_FORMAT_YUV420_10;

    #[test]
    fn rt_formats_and_fourccs() {
        assert_eq!(fourcc_of_rt_format(YUV420), Some(FOURCC_NV12));
        assert_eq!(fourcc_of_rt_format(YUV420_10), Some(FOURCC_P010));
        assert_eq!(fourcc_of_rt_format(YUV420 | YUV420_10), None);
        assert_eq!(fourcc_of_rt_format(0), None);
        assert_eq!(fourcc_of_rt_format(sys::VA_RT_FORMAT_YUV422), None);
    }

    #[test]
    fn max_size_is_bounded() {
        let devs = vec![
            device_info(for_driver("hantro-vpu", "rk3568-vpu"), 0),
            device_info(for_driver("rkvdec", "vdpu381"), 1),
        ];
        let (w, h) = max_size_of(&devs);
        assert!(w >= 1920 && h >= 1080 && w <= SURFACE_DIM_CAP && h <= SURFACE_DIM_CAP);
        assert_eq!(max_size_of(&[]), (0, 0));
        let mut d = devs[0].clone();
        for c in &mut d.codecs {
            c.max_width = 0;
            c.max_height = u32::MAX;
        }
        assert_eq!(max_size_of(&[d]), (SURFACE_DIM_CAP, SURFACE_DIM_CAP));
    }

    #[test]
    fn surface_records() {
        let max = (4096, 2304);
        let s = surface_record(YUV420, 1920, 1080, &[], max, false).unwrap();
        assert_eq!(
            (s.fourcc, s.memory_type, s.state, s.context),
            (
                FOURCC_NV12,
                sys::VA_SURFACE_ATTRIB_MEM_TYPE_VA,
                SurfaceState::Fresh,
                None
            )
        );
        let attrs = [
            SurfaceAttrib::PixelFormat(FOURCC_P010),
            SurfaceAttrib::MemoryType(sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2),
            SurfaceAttrib::Other(sys::VASurfaceAttribUsageHint),
        ];
        let s = surface_record(YUV420_10, 4096, 2304, &attrs, max, true).unwrap();
        assert_eq!(
            (s.fourcc, s.memory_type),
            (FOURCC_P010, sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2)
        );
        let e = |rt, w, h, a: &[SurfaceAttrib], ten| surface_record(rt, w, h, a, max, ten).err();
        assert_eq!(
            e(YUV420_10, 64, 64, &[], false),
            Some(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT)
        );
        assert_eq!(
            e(YUV420 | YUV420_10, 64, 64, &[], true),
            Some(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT)
        );
        for (w, h) in [
            (0, 64),
            (64, 0),
            (4097, 64),
            (64, 2305),
            (u32::MAX, u32::MAX),
        ] {
            assert_eq!(
                e(YUV420, w, h, &[], false),
                Some(VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED)
            );
        }
        assert_eq!(
            e(
                YUV420,
                64,
                64,
                &[SurfaceAttrib::PixelFormat(FOURCC_P010)],
                true
            ),
            Some(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT)
        );
        for m in [
            0,
            sys::VA_SURFACE_ATTRIB_MEM_TYPE_USER_PTR,
            sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME,
            MEMORY_TYPES,
        ] {
            assert_eq!(
                e(YUV420, 64, 64, &[SurfaceAttrib::MemoryType(m)], false),
                Some(VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE),
                "{m:#x}"
            );
        }
        assert_eq!(
            e(YUV420, 64, 64, &[SurfaceAttrib::ExternalBuffer], false),
            Some(VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE)
        );
        assert_eq!(
            e(YUV420, 64, 64, &[SurfaceAttrib::NotInteger(1)], false),
            Some(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
    }

    #[test]
    fn surface_attributes_of_a_config() {
        let a = query_surface_attributes(YUV420 | YUV420_10, (4096, 2304));
        let pf: Vec<u32> = a
            .iter()
            .filter(|a| a.type_ == sys::VASurfaceAttribPixelFormat)
            .map(|a| a.value)
            .collect();
        assert_eq!(pf, [FOURCC_NV12, FOURCC_P010]);
        let get = |t| a.iter().find(|a| a.type_ == t).unwrap().value;
        assert_eq!(get(sys::VASurfaceAttribMemoryType), MEMORY_TYPES);
        assert_eq!(get(sys::VASurfaceAttribMaxWidth), 4096);
        assert_eq!(get(sys::VASurfaceAttribMaxHeight), 2304);
        assert_eq!(get(sys::VASurfaceAttribMinWidth), 1);
        let a = query_surface_attributes(YUV420, (1920, 1088));
        assert_eq!(
            a.iter()
                .filter(|a| a.type_ == sys::VASurfaceAttribPixelFormat)
                .count(),
            1
        );
    }
}
