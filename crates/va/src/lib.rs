//! vreq's VA-API driver: `vreq_drv_video.so` (driver name `vreq`), so that
//! VA-API clients (Firefox, mpv, ffmpeg, GStreamer's `va` elements) decode
//! through every V4L2 stateless decoder of the machine.
//!
//! # Install and use
//! Cargo builds the cdylib as `target/<profile>/libvreq_drv_video.so`; libva
//! loads `<LIBVA_DRIVER_NAME>_drv_video.so` from `LIBVA_DRIVERS_PATH` (libva
//! va.c `va_openDriver`, `DRIVER_EXTENSION`), so the file must be installed
//! or linked under the name `vreq_drv_video.so`:
//! `scripts/va-driver-dir.sh` makes `target/<profile>/va/vreq_drv_video.so`
//! (a symlink), then
//! `LIBVA_DRIVERS_PATH=target/debug/va LIBVA_DRIVER_NAME=vreq vainfo --display drm`.
//! System-wide: copy it to `/usr/lib/<triplet>/dri/vreq_drv_video.so`.
//!
//! # Init symbol
//! The driver exports `__vaDriverInit_<VA_MAJOR_VERSION>_<VA_MINOR_VERSION>`
//! of the libva headers it was built against ([`INIT_SYMBOL`]; Debian 12's
//! libva-dev 2.17 → `__vaDriverInit_1_17`). libva (va.c `va_openDriver`)
//! dlsym()s `__vaDriverInit_1_<its minor>`, then every older minor down to
//! `_1_0`, so a newer libva (trixie's 2.22, VA-API 1.22) finds our symbol,
//! and hands us its larger, zeroed vtable and context (both only grow at the
//! end: we write only the fields of our headers). An *older* libva does not
//! find it, which is right: its vtable would be shorter than the one we fill.
//!
//! # Devices and profiles
//! At init the driver runs `vreq_v4l2::discover::discover()` (every
//! `/dev/media*` stateless decoder); `VREQ_DEVICE=/dev/mediaN` (or its
//! `/dev/videoN`) keeps only that device. `vaQueryConfigProfiles` answers the
//! union over all devices ([`profiles`]); `vaCreateConfig` routes each config
//! to the device serving its profile (on the RK3588: H.264 / HEVC → rkvdec,
//! VP8 / MPEG-2 → hantro). No decoder found: `vaInitialize` fails with
//! `VA_STATUS_ERROR_OPERATION_FAILED` and the reason through libva's error
//! callback.
//!
//! # What is implemented
//! `vaTerminate`, `vaQueryConfigProfiles`, `vaQueryConfigEntrypoints` (VLD
//! only), `vaGetConfigAttributes` (`VAConfigAttribRTFormat`; every other
//! attribute `VA_ATTRIB_NOT_SUPPORTED`), `vaCreateConfig`, `vaDestroyConfig`,
//! `vaQueryConfigAttributes`.
//!
//! **Every other `VADriverVTable` slot returns `VA_STATUS_ERROR_UNIMPLEMENTED`**
//! (a stub per slot, generated from the headers by build.rs), among them:
//! `vaCreateSurfaces` / `vaCreateSurfaces2`, `vaDestroySurfaces`,
//! `vaCreateContext`, `vaDestroyContext`, `vaCreateBuffer`, `vaMapBuffer`,
//! `vaUnmapBuffer`, `vaDestroyBuffer`, `vaBeginPicture`, `vaRenderPicture`,
//! `vaEndPicture`, `vaSyncSurface`, `vaQuerySurfaceStatus`,
//! `vaQuerySurfaceAttributes`, `vaExportSurfaceHandle`, `vaQueryImageFormats`,
//! `vaCreateImage`, `vaDeriveImage`, `vaGetImage`, `vaPutImage`,
//! `vaDestroyImage`, the subpicture and display-attribute calls. So clients
//! can list and configure, not yet decode.
//!
//! # Objects
//! One heap per object type ([`objects`]), IDs from disjoint ranges and never
//! reused within a process: a bad or stale ID gives the type's
//! `VA_STATUS_ERROR_INVALID_*` (configs: `VA_STATUS_ERROR_INVALID_CONFIG`).
//!
//! # Safety
//! `unsafe` lives in the private `ffi` module only (bindings, entry points),
//! each block with its `// SAFETY:` line (the bitfield accessors bindgen
//! generates into `ffi::sys` carry bindgen's own unsafe code); every entry point catches panics
//! and returns a VA status (`VA_STATUS_ERROR_OPERATION_FAILED`).

#![deny(unsafe_code)]

pub mod buffer;
pub mod driver;
#[allow(unsafe_code)] // the C ABI: libva's structs and the exported entry points
mod ffi;
pub mod objects;
pub mod profiles;
pub mod status;
pub mod surface;

pub use ffi::sys;
pub use ffi::{IMPLEMENTED, INIT_SYMBOL, VA_VERSION};

/// Every slot of `VADriverVTable` in the libva headers built against.
pub fn vtable_slots() -> &'static [&'static str] {
    ffi::VTABLE_SLOTS
}
