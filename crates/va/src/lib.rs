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
//! Configs: `vaTerminate`, `vaQueryConfigProfiles`, `vaQueryConfigEntrypoints`
//! (VLD only), `vaGetConfigAttributes` (`VAConfigAttribRTFormat`; every other
//! attribute `VA_ATTRIB_NOT_SUPPORTED`), `vaCreateConfig`, `vaDestroyConfig`,
//! `vaQueryConfigAttributes`.
//!
//! Objects, without decoding ([`surface`], [`buffer`]):
//! - `vaQueryImageFormats`: NV12, and P010 when a served device decodes a
//!   10-bit profile. `vaQuerySurfaceAttributes` of a config:
//!   `VASurfaceAttribPixelFormat` (NV12 / P010 by the config's RT format),
//!   `VASurfaceAttribMemoryType` (`VA` | `DRM_PRIME_2`), min / max width and
//!   height (the routed device's `CodecSupport` maximum, capped at
//!   [`surface::SURFACE_DIM_CAP`]).
//! - `vaCreateSurfaces2` / `vaCreateSurfaces` (RT format `YUV420` or
//!   `YUV420_10`; `VASurfaceAttribExternalBufferDescriptor` is refused with
//!   `VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE`: surfaces will be the decoder's
//!   CAPTURE buffers), `vaDestroySurfaces` (drops the surface's decoded
//!   frame), `vaQuerySurfaceStatus`, `vaSyncSurface` (below).
//! - `vaCreateContext` (checks the config, the size and the render targets,
//!   records them), `vaDestroyContext` (closes the context's decoder).
//! - `vaCreateBuffer` (picture / IQ matrix / slice parameter / slice data /
//!   probability buffers, copied; at most [`buffer::MAX_BUFFER_BYTES`] each,
//!   [`buffer::MAX_LIVE_BUFFERS`] and [`buffer::MAX_LIVE_BUFFER_BYTES`] in
//!   all), `vaBufferSetNumElements`, `vaMapBuffer` / `vaUnmapBuffer` (a stable
//!   pointer into the buffer's storage), `vaDestroyBuffer`, `vaBufferInfo`.
//!
//! Decoding, H.264 only ([`decode`], [`picture`], [`map::h264`]):
//! - A context is one [`vreq_engine::Engine`] over a
//!   `vreq_v4l2::session::Session` on the config's routed device, opened at
//!   the context's first `vaBeginPicture` (a fake device in host tests:
//!   [`driver::Driver::with_opener`]). The engine is driven by
//!   [`decode::VaCodec`], a [`vreq_core::StatelessCodec`] whose events come
//!   from VA buffers, not from a bitstream parser.
//! - The client owns the DPB and names references by `VASurfaceID`; V4L2
//!   names them by OUTPUT timestamp (`reference_ts`). A surface records the
//!   timestamp of the last picture rendered into it and, once decoded, holds
//!   that picture's `DecodedFrame` (its CAPTURE buffer) until the client
//!   renders into it again or destroys it.
//! - `vaBeginPicture` / `vaRenderPicture` (buffers copied, at most
//!   [`picture::MAX_SLICES`] slices and [`picture::MAX_PICTURE_BYTES`] of
//!   slice data per picture) / `vaEndPicture` (the requests of
//!   [`map::h264::jobs`], queued at once); `vaSyncSurface` waits for the
//!   picture (the engine's `DEVICE_TIMEOUT` per wait); a picture the device
//!   flags `V4L2_BUF_FLAG_ERROR` gives `VA_STATUS_ERROR_DECODING_ERROR` from
//!   `vaSyncSurface` / `vaQuerySurfaceStatus`, later pictures still decode.
//!   Other profiles: `vaBeginPicture` answers `VA_STATUS_ERROR_UNIMPLEMENTED`.
//! - Thread safety: all driver state sits behind one mutex (`ffi`); the
//!   engine's `Rc`s are only touched under it.
//!
//! **Every other `VADriverVTable` slot returns `VA_STATUS_ERROR_UNIMPLEMENTED`**
//! (a stub per slot, generated from the headers by build.rs), among them:
//! `vaExportSurfaceHandle`, `vaCreateImage`, `vaDeriveImage`, `vaGetImage`,
//! `vaPutImage`, `vaDestroyImage`, `vaQuerySurfaceError`, `vaCreateBuffer2`,
//! `vaSyncSurface2`, `vaSyncBuffer`, the subpicture and display-attribute
//! calls. So clients decode H.264 but cannot read or export the pictures yet.
//!
//! # Objects
//! One heap per object type ([`objects`]), IDs from disjoint ranges and never
//! reused within a process: a bad or stale ID gives the type's
//! `VA_STATUS_ERROR_INVALID_{CONFIG,SURFACE,CONTEXT,BUFFER}`; a null pointer
//! `VA_STATUS_ERROR_INVALID_PARAMETER`. Every client-given size is bounded
//! before anything is allocated or read. `vaDestroySurfaces` destroys a
//! surface a live context uses (and drops it from the context: libva's va.h
//! and bootlin's libva-v4l2-request do not refuse it); `vaCreateContext`
//! refuses a render target bound to another live context with
//! `VA_STATUS_ERROR_SURFACE_BUSY`.
//!
//! # Safety
//! `unsafe` lives in the private `ffi` module only (bindings, entry points),
//! each block with its `// SAFETY:` line (the bitfield accessors bindgen
//! generates into `ffi::sys` carry bindgen's own unsafe code); every entry point catches panics
//! and returns a VA status (`VA_STATUS_ERROR_OPERATION_FAILED`).

#![deny(unsafe_code)]

pub mod buffer;
pub mod decode;
pub mod driver;
pub mod export;
#[allow(unsafe_code)] // the C ABI: libva's structs and the exported entry points
mod ffi;
pub mod image;
pub mod map;
pub mod objects;
pub mod picture;
pub mod profiles;
pub mod status;
pub mod surface;
#[cfg(test)]
mod testdev;

pub use ffi::sys;
pub use ffi::{IMPLEMENTED, INIT_SYMBOL, VA_VERSION};

/// Every slot of `VADriverVTable` in the libva headers built against.
pub fn vtable_slots() -> &'static [&'static str] {
    ffi::VTABLE_SLOTS
}
