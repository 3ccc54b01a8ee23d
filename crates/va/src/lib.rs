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
//! Decoding ([`decode`], [`picture`], [`map`]; the codecs [`map::for_profile`]
//! maps: H.264 [`map::h264`], HEVC Main / Main10 [`map::hevc`] (with the
//! RK3588 `EXT_SPS_ST/LT_RPS` arrays rebuilt per picture from
//! `ReferenceFrames` where VA can describe them, `vaEndPicture` failing
//! where it cannot), MPEG-2 [`map::mpeg2`], VP8 [`map::vp8`], VP9 profiles
//! 0 and 2 [`map::vp9`] (one request per frame, the fields VA lacks read
//! from the frame's own headers with `vreq_core::vp9`)):
//! - A context is one [`vreq_engine::Engine`] over a
//!   `vreq_v4l2::session::Session` on the config's routed device, opened at
//!   the context's first `vaBeginPicture` (a fake device in host tests:
//!   [`driver::Driver::with_opener`]). The engine is driven by
//!   [`decode::VaCodec`], a [`vreq_core::StatelessCodec`] whose events come
//!   from VA buffers, not from a bitstream parser; the context's
//!   [`map::CodecMap`] (one per codec) turns each picture's buffers into
//!   the same V4L2 control structs the player's codecs produce.
//! - The client owns the DPB and names references by `VASurfaceID`; V4L2
//!   names them by OUTPUT timestamp (`reference_ts`). A surface records the
//!   timestamp of the last picture rendered into it and, once decoded, holds
//!   that picture's `DecodedFrame` (its CAPTURE buffer) until the client
//!   renders into it again or destroys it.
//! - `vaBeginPicture` / `vaRenderPicture` (buffers copied, at most
//!   [`picture::MAX_SLICES`] slices and [`picture::MAX_PICTURE_BYTES`] of
//!   slice data per picture; each buffer checked by the codec's
//!   [`map::CodecMap::check`]) / `vaEndPicture` (the requests of
//!   [`map::CodecMap::map`], queued at once); `vaSyncSurface` waits for the
//!   picture (the engine's `DEVICE_TIMEOUT` per wait); a picture the device
//!   flags `V4L2_BUF_FLAG_ERROR` gives `VA_STATUS_ERROR_DECODING_ERROR` from
//!   `vaSyncSurface` / `vaQuerySurfaceStatus`, later pictures still decode.
//!   Profiles of a codec not mapped yet: `vaBeginPicture` answers
//!   `VA_STATUS_ERROR_UNIMPLEMENTED`.
//! - Thread safety: all driver state sits behind one mutex (`ffi`); the
//!   engine's `Rc`s are only touched under it.
//!
//! Reading and exporting pictures ([`image`], [`export`]): a surface's
//! pixels are the CAPTURE buffer holding its last decoded picture.
//! - `vaCreateImage` (NV12, P010 when listed; one `VAImageBufferType` buffer
//!   counted against the buffer caps, at most [`buffer::MAX_IMAGE_BYTES`]),
//!   `vaDestroyImage`, `vaGetImage` (waits for the picture; a rectangle,
//!   copied or unpacked on the CPU from NV15 / SAND128, converted 8 ↔ 10
//!   bits; black for a surface without a picture), `vaDeriveImage` (a copy
//!   of the picture; `VA_STATUS_ERROR_OPERATION_FAILED` on a surface without
//!   one, so FFmpeg / GStreamer fall back to `vaGetImage` and `vaPutImage`).
//! - `vaExportSurfaceHandle`: `VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2` only;
//!   the CAPTURE buffer's dmabufs, dup()ed, with the player's DRM format /
//!   modifier facts, composed or separate layers; read-only; a surface
//!   without a decoded picture exports a zeroed placeholder of its format
//!   from `/dev/dma_heap/system` (mpv probes export on fresh surfaces), or
//!   `VA_STATUS_ERROR_INVALID_SURFACE` without the heap.
//!
//! **Every other `VADriverVTable` slot returns `VA_STATUS_ERROR_UNIMPLEMENTED`**
//! (a stub per slot, generated from the headers by build.rs), among them:
//! `vaPutImage` (surfaces are written by the decoder only),
//! `vaQuerySurfaceError`, `vaCreateBuffer2`, `vaSyncSurface2`, `vaSyncBuffer`,
//! the subpicture and display-attribute calls.
//!
//! # Objects
//! One heap per object type ([`objects`]), IDs from disjoint ranges and never
//! reused within a process: a bad or stale ID gives the type's
//! `VA_STATUS_ERROR_INVALID_{CONFIG,SURFACE,CONTEXT,BUFFER,IMAGE}`; a null pointer
//! `VA_STATUS_ERROR_INVALID_PARAMETER`. Every client-given size is bounded
//! before anything is allocated or read. `vaDestroySurfaces` destroys a
//! surface a live context uses (and drops it from the context: libva's va.h
//! and bootlin's libva-v4l2-request do not refuse it); `vaCreateContext`
//! refuses a render target bound to another live context with
//! `VA_STATUS_ERROR_SURFACE_BUSY`.
//!
//! # Logging
//! Silent by default; `VREQ_LOG` (else `RUST_LOG`) set to a tracing filter
//! (`warn`, `debug`, `vreq_drv_video=trace`) logs to stderr ([`log`]).
//!
//! # Safety
//! `unsafe` lives in the private `ffi` module only (bindings, entry points),
//! each block with its `// SAFETY:` line (the bitfield accessors bindgen
//! generates into `ffi::sys` carry bindgen's own unsafe code); every entry point catches panics
//! and returns a VA status (`VA_STATUS_ERROR_OPERATION_FAILED`).
//!
//! # Bad input
//! The host tests drive the C entry points with a seeded storm of bad
//! pictures and stale IDs on fake devices (every listed profile; random,
//! truncated and oversized buffers, lying element counts, objects destroyed
//! mid-picture): every call returns a status, none panics (tests count the
//! panics `guard` catches), none hangs, the heap stays within the buffer
//! caps (a counting allocator in the test binary),
//! and a valid picture decodes afterwards on the same context and a fresh
//! one. `VREQ_HOSTILE_SEED` / `VREQ_HOSTILE_ITERS` change the storm. Known
//! gaps (a picture refused by the device at configure or at queue upsets
//! the context's next pictures; a surface shared by two contexts) are listed
//! in `docs/VA-DRIVER.md`.

#![deny(unsafe_code)]

pub mod buffer;
pub mod decode;
pub mod driver;
pub mod export;
#[allow(unsafe_code)] // the C ABI: libva's structs and the exported entry points
mod ffi;
pub mod image;
pub mod log;
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
