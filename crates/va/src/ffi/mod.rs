//! The C side: libva's bindings, the exported init function and the vtable's
//! entry points. Each entry point only converts: C pointers and counts to
//! Rust values, a call into [`crate::driver::Driver`], the result back to C.
//! Every entry point runs inside [`guard`] (`catch_unwind`): a panic becomes
//! `VA_STATUS_ERROR_OPERATION_FAILED`, never an unwind into C. This needs a
//! build with `panic = "unwind"`: the workspace's profiles all unwind
//! (Cargo.toml; the player aborts through its own panic hook,
//! `vreqplay::abort_on_panic`, which this library never installs).
//!
//! Sources: libva `va/va_backend.h` (`VADriverContext`, `VADriverVTable`),
//! `va/va.c` (`va_openDriver`: the init symbol, the checks libva makes after
//! init: every `max_*` but `max_display_attributes` nonzero, `str_vendor`
//! set, the core vtable slots non-null).

use std::ffi::{c_int, c_uint, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, PoisonError};

use vreq_v4l2::DeviceInfo;

use crate::driver::{self, Driver};
use crate::status::*;
use crate::surface::SurfaceAttrib;

/// bindgen's output over libva's `va/va.h`, `va/va_backend.h` and
/// `va/va_drmcommon.h` (the headers of the installed `libva-dev`).
#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    missing_docs,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::pedantic
)]
pub mod sys {
    include!(concat!(env!("OUT_DIR"), "/va_sys.rs"));
}

use sys::{
    VABufferID, VABufferType, VAConfigAttrib, VAConfigID, VAContextID, VADriverContextP,
    VAEntrypoint, VAImageFormat, VAProfile, VASurfaceAttrib, VASurfaceID, VASurfaceStatus,
};

include!(concat!(env!("OUT_DIR"), "/va_init.rs"));

/// The `VA_STATUS_ERROR_UNIMPLEMENTED` stubs, one per vtable slot (build.rs).
mod stubs {
    #[allow(unused_imports)]
    use super::sys::{self, *};
    use super::unimplemented_entry;
    include!(concat!(env!("OUT_DIR"), "/vtable_stubs.rs"));
}

pub(crate) use stubs::VTABLE_SLOTS;

/// The slots `driver_init` sets to real entry points; every other slot of
/// [`crate::vtable_slots`] returns `VA_STATUS_ERROR_UNIMPLEMENTED`.
pub const IMPLEMENTED: &[&str] = &[
    "vaTerminate",
    "vaQueryConfigProfiles",
    "vaQueryConfigEntrypoints",
    "vaGetConfigAttributes",
    "vaCreateConfig",
    "vaDestroyConfig",
    "vaQueryConfigAttributes",
    "vaQueryImageFormats",
    "vaQuerySurfaceAttributes",
    "vaCreateSurfaces",
    "vaCreateSurfaces2",
    "vaDestroySurfaces",
    "vaSyncSurface",
    "vaQuerySurfaceStatus",
    "vaCreateContext",
    "vaDestroyContext",
    "vaCreateBuffer",
    "vaBufferSetNumElements",
    "vaMapBuffer",
    "vaUnmapBuffer",
    "vaDestroyBuffer",
    "vaBufferInfo",
    "vaBeginPicture",
    "vaRenderPicture",
    "vaEndPicture",
    "vaCreateImage",
    "vaDestroyImage",
    "vaDeriveImage",
    "vaGetImage",
    "vaExportSurfaceHandle",
];

/// What `pDriverData` points to (Box::into_raw at init, freed by vaTerminate).
struct State {
    driver: Mutex<Driver>,
}

#[cfg(test)]
thread_local! {
    /// Panics [`guard`] caught on this thread (tests: the caller only sees
    /// `VA_STATUS_ERROR_OPERATION_FAILED`, which a device failure gives too;
    /// a caught panic is still a bug).
    pub(crate) static CAUGHT_PANICS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs an entry point's body; a panic becomes `VA_STATUS_ERROR_OPERATION_FAILED`.
fn guard(name: &str, body: impl FnOnce() -> VAStatus) -> VAStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(s) => s,
        Err(_) => {
            #[cfg(test)]
            CAUGHT_PANICS.with(|c| c.set(c.get() + 1));
            tracing::error!("{name}: panicked; returning VA_STATUS_ERROR_OPERATION_FAILED");
            VA_STATUS_ERROR_OPERATION_FAILED
        }
    }
}

/// What every not-yet-implemented vtable slot returns.
fn unimplemented_entry(name: &str) -> VAStatus {
    guard(name, || {
        tracing::debug!("{name}: not implemented (VA_STATUS_ERROR_UNIMPLEMENTED)");
        VA_STATUS_ERROR_UNIMPLEMENTED
    })
}

fn status_of(r: Result<(), VAStatus>) -> VAStatus {
    r.err().unwrap_or(VA_STATUS_SUCCESS)
}

/// The driver state behind `ctx`, locked; `VA_STATUS_ERROR_INVALID_DISPLAY`
/// for a null context or one without our state (not initialised, or terminated).
///
/// # Safety
/// `ctx` is null or a valid `VADriverContext` whose `pDriverData` is null or
/// was set by [`driver_init`] and not yet freed by [`va_terminate`].
unsafe fn lock<'a>(ctx: VADriverContextP) -> Result<MutexGuard<'a, Driver>, VAStatus> {
    if ctx.is_null() {
        return Err(VA_STATUS_ERROR_INVALID_DISPLAY);
    }
    // SAFETY: ctx is non-null and valid (caller).
    let data = unsafe { (*ctx).pDriverData } as *const State;
    if data.is_null() {
        return Err(VA_STATUS_ERROR_INVALID_DISPLAY);
    }
    // SAFETY: a non-null pDriverData is our State, alive until vaTerminate (caller).
    let state = unsafe { &*data };
    Ok(state.driver.lock().unwrap_or_else(PoisonError::into_inner))
}

/// `ptr` as `&mut T`, or `VA_STATUS_ERROR_INVALID_PARAMETER` when null.
///
/// # Safety
/// `ptr` is null or valid for writes of a `T` for `'a`.
unsafe fn out<'a, T>(ptr: *mut T) -> Result<&'a mut T, VAStatus> {
    // SAFETY: non-null and valid (caller).
    unsafe { ptr.as_mut() }.ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)
}

/// The C array `ptr[0..n]`; empty for `n == 0`; INVALID_PARAMETER for a
/// negative `n` or a null `ptr` with `n > 0`.
///
/// # Safety
/// For `n > 0`, `ptr` is null or valid for reads and writes of `n` `T`s for `'a`.
unsafe fn array<'a, T>(ptr: *mut T, n: c_int) -> Result<&'a mut [T], VAStatus> {
    let n = usize::try_from(n).map_err(|_| VA_STATUS_ERROR_INVALID_PARAMETER)?;
    if n == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
    }
    // SAFETY: non-null, n elements valid (caller).
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, n) })
}

/// Writes `items` to the client's array `list` (sized for the matching
/// `max_*` of the context; `items.len()` never exceeds it) and its length to `num`.
///
/// # Safety
/// `list` is null or valid for `items.len()` writes; `num` null or valid.
unsafe fn write_list<T: Copy>(items: &[T], list: *mut T, num: *mut c_int) -> Result<(), VAStatus> {
    // SAFETY: caller.
    let num = unsafe { out(num) }?;
    if list.is_null() {
        return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
    }
    // SAFETY: caller: list holds max_* ≥ items.len() elements.
    let dst = unsafe { std::slice::from_raw_parts_mut(list, items.len()) };
    dst.copy_from_slice(items);
    *num = c_int::try_from(items.len()).map_err(|_| VA_STATUS_ERROR_UNKNOWN)?;
    Ok(())
}

/// Discovery as the exported init runs it: every stateless decoder of the
/// machine (`vreq_v4l2::discover::discover`).
fn discover_devices() -> Result<Vec<DeviceInfo>, String> {
    vreq_v4l2::discover::discover()
}

/// Reports an init failure through libva's error callback (libva prints it
/// as "libva error: …" unless the application installed its own).
///
/// # Safety
/// `ctx` is a valid `VADriverContext`.
unsafe fn report_error(ctx: VADriverContextP, msg: &str) {
    tracing::error!("{msg}");
    let Ok(c) = CString::new(format!("vreq: {msg}\n").replace('\0', "?")) else {
        return;
    };
    // SAFETY: ctx valid (caller).
    if let Some(cb) = unsafe { (*ctx).error_callback } {
        // SAFETY: libva's callback takes the context and a NUL-terminated string.
        unsafe { cb(ctx, c.as_ptr()) };
    }
}

/// The work of `__vaDriverInit_1_N`: find the decoders (`discover`, then
/// `VREQ_DEVICE` if set), fill `ctx`'s vtable (every slot: [`IMPLEMENTED`]
/// ones and `VA_STATUS_ERROR_UNIMPLEMENTED` stubs), `max_*`, `str_vendor`,
/// `version_major/minor`, and `pDriverData` (our state, freed by vaTerminate).
/// Errors: `VA_STATUS_ERROR_INVALID_DISPLAY` (null ctx),
/// `VA_STATUS_ERROR_INVALID_PARAMETER` (null vtable),
/// `VA_STATUS_ERROR_OPERATION_FAILED` (no decoder; the reason goes to libva's
/// error callback).
///
/// # Safety
/// `ctx` is null or a valid `VADriverContext` (libva ≥ the headers' version)
/// whose `vtable` is null or points to a `VADriverVTable`.
pub(crate) unsafe fn driver_init(
    ctx: VADriverContextP,
    discover: fn() -> Result<Vec<DeviceInfo>, String>,
) -> VAStatus {
    guard("vaDriverInit", || {
        crate::log::init_from_env();
        if ctx.is_null() {
            return VA_STATUS_ERROR_INVALID_DISPLAY;
        }
        // SAFETY: ctx non-null and valid (caller).
        let c = unsafe { &mut *ctx };
        if c.vtable.is_null() {
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        }
        let forced = std::env::var("VREQ_DEVICE").ok().filter(|s| !s.is_empty());
        let made = discover()
            .and_then(|found| driver::select_devices(found, forced.as_deref()))
            .and_then(Driver::new);
        let drv = match made {
            Ok(d) => d,
            Err(e) => {
                // SAFETY: ctx valid.
                unsafe { report_error(ctx, &e) };
                return VA_STATUS_ERROR_OPERATION_FAILED;
            }
        };
        // SAFETY: vtable non-null, a VADriverVTable allocated by libva (caller).
        let vt = unsafe { &mut *c.vtable };
        stubs::fill_unimplemented(vt);
        vt.vaTerminate = Some(va_terminate);
        vt.vaQueryConfigProfiles = Some(va_query_config_profiles);
        vt.vaQueryConfigEntrypoints = Some(va_query_config_entrypoints);
        vt.vaGetConfigAttributes = Some(va_get_config_attributes);
        vt.vaCreateConfig = Some(va_create_config);
        vt.vaDestroyConfig = Some(va_destroy_config);
        vt.vaQueryConfigAttributes = Some(va_query_config_attributes);
        vt.vaQueryImageFormats = Some(va_query_image_formats);
        vt.vaQuerySurfaceAttributes = Some(va_query_surface_attributes);
        vt.vaCreateSurfaces = Some(va_create_surfaces);
        vt.vaCreateSurfaces2 = Some(va_create_surfaces2);
        vt.vaDestroySurfaces = Some(va_destroy_surfaces);
        vt.vaSyncSurface = Some(va_sync_surface);
        vt.vaQuerySurfaceStatus = Some(va_query_surface_status);
        vt.vaCreateContext = Some(va_create_context);
        vt.vaDestroyContext = Some(va_destroy_context);
        vt.vaCreateBuffer = Some(va_create_buffer);
        vt.vaBufferSetNumElements = Some(va_buffer_set_num_elements);
        vt.vaMapBuffer = Some(va_map_buffer);
        vt.vaUnmapBuffer = Some(va_unmap_buffer);
        vt.vaDestroyBuffer = Some(va_destroy_buffer);
        vt.vaBufferInfo = Some(va_buffer_info);
        vt.vaBeginPicture = Some(va_begin_picture);
        vt.vaRenderPicture = Some(va_render_picture);
        vt.vaEndPicture = Some(va_end_picture);
        vt.vaCreateImage = Some(va_create_image);
        vt.vaDestroyImage = Some(va_destroy_image);
        vt.vaDeriveImage = Some(va_derive_image);
        vt.vaGetImage = Some(va_get_image);
        vt.vaExportSurfaceHandle = Some(va_export_surface_handle);

        c.version_major = VA_VERSION.0 as c_int;
        c.version_minor = VA_VERSION.1 as c_int;
        c.max_profiles = driver::MAX_PROFILES as c_int;
        c.max_entrypoints = driver::MAX_ENTRYPOINTS as c_int;
        c.max_attributes = driver::MAX_ATTRIBUTES as c_int;
        c.max_image_formats = driver::MAX_IMAGE_FORMATS as c_int;
        c.max_subpic_formats = driver::MAX_SUBPIC_FORMATS as c_int;
        c.max_display_attributes = driver::MAX_DISPLAY_ATTRIBUTES as c_int;
        // The CString's heap buffer does not move when the Driver moves into
        // the Box: str_vendor stays valid until vaTerminate frees the state.
        c.str_vendor = drv.vendor().as_ptr();
        let state = Box::new(State {
            driver: Mutex::new(drv),
        });
        c.pDriverData = Box::into_raw(state).cast();
        VA_STATUS_SUCCESS
    })
}

/// `vaTerminate`: frees the state made at init. A second call (or one on a
/// context never initialised) returns `VA_STATUS_ERROR_INVALID_DISPLAY`.
unsafe extern "C" fn va_terminate(ctx: VADriverContextP) -> VAStatus {
    guard("vaTerminate", || {
        if ctx.is_null() {
            return VA_STATUS_ERROR_INVALID_DISPLAY;
        }
        // SAFETY: libva passes its valid context.
        let c = unsafe { &mut *ctx };
        let data = std::mem::replace(&mut c.pDriverData, std::ptr::null_mut()) as *mut State;
        if data.is_null() {
            return VA_STATUS_ERROR_INVALID_DISPLAY;
        }
        c.str_vendor = std::ptr::null();
        // SAFETY: made by Box::into_raw in driver_init, taken out of the context once.
        drop(unsafe { Box::from_raw(data) });
        VA_STATUS_SUCCESS
    })
}

/// `vaQueryConfigProfiles`: `profile_list` holds `max_profiles` entries.
unsafe extern "C" fn va_query_config_profiles(
    ctx: VADriverContextP,
    profile_list: *mut VAProfile,
    num_profiles: *mut c_int,
) -> VAStatus {
    guard("vaQueryConfigProfiles", || {
        // SAFETY: libva's context; the list sized max_profiles (va.h vaQueryConfigProfiles).
        status_of(unsafe { lock(ctx) }.and_then(|d| unsafe {
            write_list(d.query_config_profiles(), profile_list, num_profiles)
        }))
    })
}

/// `vaQueryConfigEntrypoints`: `entrypoint_list` holds `max_entrypoints` entries.
unsafe extern "C" fn va_query_config_entrypoints(
    ctx: VADriverContextP,
    profile: VAProfile,
    entrypoint_list: *mut VAEntrypoint,
    num_entrypoints: *mut c_int,
) -> VAStatus {
    guard("vaQueryConfigEntrypoints", || {
        // SAFETY: libva's context; the list sized max_entrypoints (va.h).
        status_of(unsafe { lock(ctx) }.and_then(|d| {
            let eps = d.query_config_entrypoints(profile)?;
            // SAFETY: as above.
            unsafe { write_list(eps, entrypoint_list, num_entrypoints) }
        }))
    })
}

/// `vaGetConfigAttributes`: fills the `value` of each of the `num_attribs`
/// attributes the client asks about.
unsafe extern "C" fn va_get_config_attributes(
    ctx: VADriverContextP,
    profile: VAProfile,
    entrypoint: VAEntrypoint,
    attrib_list: *mut VAConfigAttrib,
    num_attribs: c_int,
) -> VAStatus {
    guard("vaGetConfigAttributes", || {
        // SAFETY: libva's context; attrib_list holds num_attribs entries (va.h).
        status_of(unsafe { lock(ctx) }.and_then(|d| {
            // SAFETY: as above.
            let attribs = unsafe { array(attrib_list, num_attribs) }?;
            d.get_config_attributes(profile, entrypoint, attribs)
        }))
    })
}

/// `vaCreateConfig`: routes the config to the device serving `profile`.
unsafe extern "C" fn va_create_config(
    ctx: VADriverContextP,
    profile: VAProfile,
    entrypoint: VAEntrypoint,
    attrib_list: *mut VAConfigAttrib,
    num_attribs: c_int,
    config_id: *mut VAConfigID,
) -> VAStatus {
    guard("vaCreateConfig", || {
        // SAFETY: libva's context; attrib_list holds num_attribs entries,
        // config_id one (va.h vaCreateConfig).
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let out_id = unsafe { out(config_id) }?;
            // SAFETY: as above.
            let attribs = unsafe { array(attrib_list, num_attribs) }?;
            *out_id = d.create_config(profile, entrypoint, attribs)?;
            Ok(())
        }))
    })
}

/// `vaDestroyConfig`.
unsafe extern "C" fn va_destroy_config(ctx: VADriverContextP, config_id: VAConfigID) -> VAStatus {
    guard("vaDestroyConfig", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.destroy_config(config_id)))
    })
}

/// `vaQueryConfigAttributes`: `attrib_list` holds `max_attributes` entries.
unsafe extern "C" fn va_query_config_attributes(
    ctx: VADriverContextP,
    config_id: VAConfigID,
    profile: *mut VAProfile,
    entrypoint: *mut VAEntrypoint,
    attrib_list: *mut VAConfigAttrib,
    num_attribs: *mut c_int,
) -> VAStatus {
    guard("vaQueryConfigAttributes", || {
        // SAFETY: libva's context; out-pointers valid or null, attrib_list
        // sized max_attributes (va.h vaQueryConfigAttributes).
        status_of(unsafe { lock(ctx) }.and_then(|d| {
            let (p, e, attrs) = d.query_config_attributes(config_id)?;
            // SAFETY: as above.
            let (po, eo) = unsafe { (out(profile)?, out(entrypoint)?) };
            // SAFETY: as above.
            unsafe { write_list(&attrs, attrib_list, num_attribs) }?;
            *po = p;
            *eo = e;
            Ok(())
        }))
    })
}

/// `vaQueryImageFormats`: `format_list` holds `max_image_formats` entries.
unsafe extern "C" fn va_query_image_formats(
    ctx: VADriverContextP,
    format_list: *mut VAImageFormat,
    num_formats: *mut c_int,
) -> VAStatus {
    guard("vaQueryImageFormats", || {
        // SAFETY: libva's context; the list sized max_image_formats (va.h vaQueryImageFormats).
        status_of(unsafe { lock(ctx) }.and_then(|d| {
            let formats: Vec<VAImageFormat> = d
                .query_image_formats()
                .iter()
                .map(|f| VAImageFormat {
                    fourcc: f.fourcc,
                    byte_order: f.byte_order,
                    bits_per_pixel: f.bits_per_pixel,
                    ..Default::default()
                })
                .collect();
            // SAFETY: as above.
            unsafe { write_list(&formats, format_list, num_formats) }
        }))
    })
}

/// `vaQuerySurfaceAttributes` (va.h): with a null `attrib_list`, the number
/// of attributes to `*num_attribs`; with a list of `*num_attribs` entries too
/// short, the number needed and `VA_STATUS_ERROR_MAX_NUM_EXCEEDED`; else the
/// attributes and their number.
unsafe extern "C" fn va_query_surface_attributes(
    ctx: VADriverContextP,
    config: VAConfigID,
    attrib_list: *mut VASurfaceAttrib,
    num_attribs: *mut c_uint,
) -> VAStatus {
    guard("vaQuerySurfaceAttributes", || {
        // SAFETY: libva's context; num_attribs valid or null; attrib_list
        // null or *num_attribs entries (va.h vaQuerySurfaceAttributes).
        status_of(unsafe { lock(ctx) }.and_then(|d| {
            let attrs = d.query_surface_attributes(config)?;
            // SAFETY: as above.
            let num = unsafe { out(num_attribs) }?;
            let needed = c_uint::try_from(attrs.len()).map_err(|_| VA_STATUS_ERROR_UNKNOWN)?;
            if attrib_list.is_null() {
                *num = needed;
                return Ok(());
            }
            if *num < needed {
                *num = needed;
                return Err(VA_STATUS_ERROR_MAX_NUM_EXCEEDED);
            }
            // SAFETY: non-null, *num ≥ attrs.len() entries (caller).
            let dst = unsafe { std::slice::from_raw_parts_mut(attrib_list, attrs.len()) };
            for (o, a) in dst.iter_mut().zip(&attrs) {
                *o = VASurfaceAttrib {
                    type_: a.type_,
                    flags: a.flags,
                    value: sys::VAGenericValue {
                        type_: sys::VAGenericValueTypeInteger,
                        value: sys::_VAGenericValue__bindgen_ty_1 { i: a.value as i32 },
                    },
                };
            }
            *num = needed;
            Ok(())
        }))
    })
}

/// A `VASurfaceAttrib` as [`SurfaceAttrib`].
fn surface_attrib(a: &VASurfaceAttrib) -> SurfaceAttrib {
    let integer = a.value.type_ == sys::VAGenericValueTypeInteger;
    // SAFETY: the union's first 4 bytes are a valid i32 whatever member was
    // written (libva's clients write the whole VASurfaceAttrib); used only
    // when the tag says it holds an int.
    let raw = unsafe { a.value.value.i } as u32;
    let i = integer.then_some(raw);
    match (a.type_, i) {
        (sys::VASurfaceAttribPixelFormat, Some(v)) => SurfaceAttrib::PixelFormat(v),
        (sys::VASurfaceAttribMemoryType, Some(v)) => SurfaceAttrib::MemoryType(v),
        (sys::VASurfaceAttribExternalBufferDescriptor, _) => SurfaceAttrib::ExternalBuffer,
        (t @ (sys::VASurfaceAttribPixelFormat | sys::VASurfaceAttribMemoryType), None) => {
            SurfaceAttrib::NotInteger(t)
        }
        (t, _) => SurfaceAttrib::Other(t),
    }
}

/// Creates the surfaces and writes their IDs to `surfaces[0..n]`.
///
/// # Safety
/// `ctx` as [`lock`]; `surfaces` null or valid for `n` writes; `attribs` as read.
unsafe fn create_surfaces(
    ctx: VADriverContextP,
    rt_format: u32,
    width: u32,
    height: u32,
    surfaces: *mut VASurfaceID,
    n: c_int,
    attribs: &[SurfaceAttrib],
) -> Result<(), VAStatus> {
    // SAFETY: caller.
    let mut d = unsafe { lock(ctx) }?;
    let n = usize::try_from(n).map_err(|_| VA_STATUS_ERROR_INVALID_PARAMETER)?;
    if n > 0 && surfaces.is_null() {
        return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
    }
    let ids = d.create_surfaces(rt_format, width, height, n, attribs)?;
    // Written through the pointer: the client's array may be uninitialised.
    // SAFETY: surfaces is valid for n = ids.len() writes (caller).
    unsafe { std::ptr::copy_nonoverlapping(ids.as_ptr(), surfaces, ids.len()) };
    Ok(())
}

/// `vaCreateSurfaces2`: `num_surfaces` surfaces of RT format `format`
/// (`VA_RT_FORMAT_YUV420` / `_YUV420_10`), `width` × `height` pixels, with
/// `num_attribs` surface attributes.
#[allow(clippy::too_many_arguments)] // the C signature
unsafe extern "C" fn va_create_surfaces2(
    ctx: VADriverContextP,
    format: c_uint,
    width: c_uint,
    height: c_uint,
    surfaces: *mut VASurfaceID,
    num_surfaces: c_uint,
    attrib_list: *mut VASurfaceAttrib,
    num_attribs: c_uint,
) -> VAStatus {
    guard("vaCreateSurfaces2", || {
        let n = c_int::try_from(num_surfaces).map_err(|_| VA_STATUS_ERROR_INVALID_PARAMETER);
        let na = c_int::try_from(num_attribs).map_err(|_| VA_STATUS_ERROR_INVALID_PARAMETER);
        status_of(n.and_then(|n| {
            // SAFETY: attrib_list holds num_attribs entries (va.h vaCreateSurfaces).
            let attribs: Vec<SurfaceAttrib> = unsafe { array(attrib_list, na?) }?
                .iter()
                .map(surface_attrib)
                .collect();
            // SAFETY: libva's context; surfaces holds num_surfaces entries.
            unsafe { create_surfaces(ctx, format, width, height, surfaces, n, &attribs) }
        }))
    })
}

/// `vaCreateSurfaces` (the VA-API 0.x slot, still in the vtable): as
/// `vaCreateSurfaces2` without attributes; `format` is the RT format.
unsafe extern "C" fn va_create_surfaces(
    ctx: VADriverContextP,
    width: c_int,
    height: c_int,
    format: c_int,
    num_surfaces: c_int,
    surfaces: *mut VASurfaceID,
) -> VAStatus {
    guard("vaCreateSurfaces", || {
        let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
            return VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED;
        };
        // SAFETY: libva's context; surfaces holds num_surfaces entries.
        status_of(unsafe { create_surfaces(ctx, format as u32, w, h, surfaces, num_surfaces, &[]) })
    })
}

/// `vaDestroySurfaces`: all `num_surfaces` IDs valid, or none destroyed.
unsafe extern "C" fn va_destroy_surfaces(
    ctx: VADriverContextP,
    surface_list: *mut VASurfaceID,
    num_surfaces: c_int,
) -> VAStatus {
    guard("vaDestroySurfaces", || {
        // SAFETY: libva's context; surface_list holds num_surfaces entries.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let ids = unsafe { array(surface_list, num_surfaces) }?;
            d.destroy_surfaces(ids)
        }))
    })
}

/// `vaSyncSurface`.
unsafe extern "C" fn va_sync_surface(
    ctx: VADriverContextP,
    render_target: VASurfaceID,
) -> VAStatus {
    guard("vaSyncSurface", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.sync_surface(render_target)))
    })
}

/// `vaBeginPicture`.
unsafe extern "C" fn va_begin_picture(
    ctx: VADriverContextP,
    context: VAContextID,
    render_target: VASurfaceID,
) -> VAStatus {
    guard("vaBeginPicture", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.begin_picture(context, render_target)))
    })
}

/// `vaRenderPicture`: `buffers` holds `num_buffers` buffer IDs.
unsafe extern "C" fn va_render_picture(
    ctx: VADriverContextP,
    context: VAContextID,
    buffers: *mut VABufferID,
    num_buffers: c_int,
) -> VAStatus {
    guard("vaRenderPicture", || {
        // SAFETY: libva's context; `buffers` valid for `num_buffers` IDs or null.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let ids = unsafe { array(buffers, num_buffers) }?;
            d.render_picture(context, ids)
        }))
    })
}

/// `vaEndPicture`.
unsafe extern "C" fn va_end_picture(ctx: VADriverContextP, context: VAContextID) -> VAStatus {
    guard("vaEndPicture", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.end_picture(context)))
    })
}

/// `vaQuerySurfaceStatus`.
unsafe extern "C" fn va_query_surface_status(
    ctx: VADriverContextP,
    render_target: VASurfaceID,
    status: *mut VASurfaceStatus,
) -> VAStatus {
    guard("vaQuerySurfaceStatus", || {
        // SAFETY: libva's context; status valid or null.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            let s = d.query_surface_status(render_target)?;
            // SAFETY: as above.
            *unsafe { out(status) }? = s;
            Ok(())
        }))
    })
}

/// `vaCreateContext`: `render_targets` holds `num_render_targets` surfaces.
#[allow(clippy::too_many_arguments)] // the C signature
unsafe extern "C" fn va_create_context(
    ctx: VADriverContextP,
    config_id: VAConfigID,
    picture_width: c_int,
    picture_height: c_int,
    flag: c_int,
    render_targets: *mut VASurfaceID,
    num_render_targets: c_int,
    context: *mut VAContextID,
) -> VAStatus {
    guard("vaCreateContext", || {
        // SAFETY: libva's context; render_targets holds num_render_targets
        // entries, context one (va.h vaCreateContext).
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let out_id = unsafe { out(context) }?;
            // SAFETY: as above.
            let targets = unsafe { array(render_targets, num_render_targets) }?;
            let (Ok(w), Ok(h)) = (u32::try_from(picture_width), u32::try_from(picture_height))
            else {
                return Err(VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED);
            };
            *out_id = d.create_context(config_id, w, h, flag, targets)?;
            Ok(())
        }))
    })
}

/// `vaDestroyContext`.
unsafe extern "C" fn va_destroy_context(ctx: VADriverContextP, context: VAContextID) -> VAStatus {
    guard("vaDestroyContext", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.destroy_context(context)))
    })
}

/// `vaCreateBuffer`: copies `size * num_elements` bytes from `data` when
/// non-null (sizes checked before the client's memory is read).
unsafe extern "C" fn va_create_buffer(
    ctx: VADriverContextP,
    context: VAContextID,
    type_: VABufferType,
    size: c_uint,
    num_elements: c_uint,
    data: *mut c_void,
    buf_id: *mut VABufferID,
) -> VAStatus {
    guard("vaCreateBuffer", || {
        // SAFETY: libva's context; buf_id one entry; data null or
        // size * num_elements bytes (va.h vaCreateBuffer).
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let out_id = unsafe { out(buf_id) }?;
            let n = crate::buffer::total_bytes(size, num_elements)?;
            let src = if data.is_null() {
                None
            } else {
                // SAFETY: data holds size * num_elements = n bytes (caller),
                // n ≤ MAX_BUFFER_BYTES.
                Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), n) })
            };
            *out_id = d.create_buffer(context, type_, size, num_elements, src)?;
            Ok(())
        }))
    })
}

/// `vaBufferSetNumElements`.
unsafe extern "C" fn va_buffer_set_num_elements(
    ctx: VADriverContextP,
    buf_id: VABufferID,
    num_elements: c_uint,
) -> VAStatus {
    guard("vaBufferSetNumElements", || {
        // SAFETY: libva's context.
        status_of(
            unsafe { lock(ctx) }.and_then(|mut d| d.buffer_set_num_elements(buf_id, num_elements)),
        )
    })
}

/// `vaMapBuffer`: the buffer's storage, valid until `vaDestroyBuffer`.
unsafe extern "C" fn va_map_buffer(
    ctx: VADriverContextP,
    buf_id: VABufferID,
    pbuf: *mut *mut c_void,
) -> VAStatus {
    guard("vaMapBuffer", || {
        // SAFETY: libva's context; pbuf valid or null.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let o = unsafe { out(pbuf) }?;
            *o = d.map_buffer(buf_id)?.cast();
            Ok(())
        }))
    })
}

/// `vaUnmapBuffer`.
unsafe extern "C" fn va_unmap_buffer(ctx: VADriverContextP, buf_id: VABufferID) -> VAStatus {
    guard("vaUnmapBuffer", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.unmap_buffer(buf_id)))
    })
}

/// `vaDestroyBuffer`.
unsafe extern "C" fn va_destroy_buffer(ctx: VADriverContextP, buffer_id: VABufferID) -> VAStatus {
    guard("vaDestroyBuffer", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.destroy_buffer(buffer_id)))
    })
}

/// `vaBufferInfo`: type, bytes per element, elements.
unsafe extern "C" fn va_buffer_info(
    ctx: VADriverContextP,
    buf_id: VABufferID,
    type_: *mut VABufferType,
    size: *mut c_uint,
    num_elements: *mut c_uint,
) -> VAStatus {
    guard("vaBufferInfo", || {
        // SAFETY: libva's context; out-pointers valid or null.
        status_of(unsafe { lock(ctx) }.and_then(|d| {
            let (t, s, n) = d.buffer_info(buf_id)?;
            // SAFETY: as above.
            let (to, so, no) = unsafe { (out(type_)?, out(size)?, out(num_elements)?) };
            *to = t;
            *so = s;
            *no = n;
            Ok(())
        }))
    })
}

/// The `VAImage` libva hands back for an image (va.h `struct _VAImage`:
/// no palette, reserved fields zero).
fn va_image_of(id: sys::VAImageID, image: &crate::image::Image) -> sys::VAImage {
    let l = &image.layout;
    sys::VAImage {
        image_id: id,
        format: VAImageFormat {
            fourcc: image.format.fourcc,
            byte_order: image.format.byte_order,
            bits_per_pixel: image.format.bits_per_pixel,
            ..Default::default()
        },
        buf: image.buf,
        // ≤ SURFACE_DIM_CAP (16384): fits u16.
        width: l.width as u16,
        height: l.height as u16,
        data_size: l.data_size,
        num_planes: l.num_planes,
        pitches: l.pitches,
        offsets: l.offsets,
        num_palette_entries: 0,
        entry_bytes: 0,
        component_order: [0; 4],
        va_reserved: [0; 4],
    }
}

/// `vaCreateImage`: `format` one of `vaQueryImageFormats`' (its fourcc counts).
unsafe extern "C" fn va_create_image(
    ctx: VADriverContextP,
    format: *mut VAImageFormat,
    width: c_int,
    height: c_int,
    image: *mut sys::VAImage,
) -> VAStatus {
    guard("vaCreateImage", || {
        // SAFETY: libva's context; format and image null or valid (va.h vaCreateImage).
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let (f, o) = unsafe { (out(format)?, out(image)?) };
            let (id, img) = d.create_image(f.fourcc, width, height)?;
            *o = va_image_of(id, &img);
            Ok(())
        }))
    })
}

/// `vaDestroyImage`.
unsafe extern "C" fn va_destroy_image(ctx: VADriverContextP, image: sys::VAImageID) -> VAStatus {
    guard("vaDestroyImage", || {
        // SAFETY: libva's context.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| d.destroy_image(image)))
    })
}

/// `vaDeriveImage`.
unsafe extern "C" fn va_derive_image(
    ctx: VADriverContextP,
    surface: VASurfaceID,
    image: *mut sys::VAImage,
) -> VAStatus {
    guard("vaDeriveImage", || {
        // SAFETY: libva's context; image null or valid (va.h vaDeriveImage).
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            // SAFETY: as above.
            let o = unsafe { out(image) }?;
            let (id, img) = d.derive_image(surface)?;
            *o = va_image_of(id, &img);
            Ok(())
        }))
    })
}

/// `vaGetImage`: the rectangle `x`, `y`, `width` × `height` of the surface
/// into the image from its (0, 0).
unsafe extern "C" fn va_get_image(
    ctx: VADriverContextP,
    surface: VASurfaceID,
    x: c_int,
    y: c_int,
    width: c_uint,
    height: c_uint,
    image: sys::VAImageID,
) -> VAStatus {
    guard("vaGetImage", || {
        // SAFETY: libva's context.
        status_of(
            unsafe { lock(ctx) }.and_then(|mut d| d.get_image(surface, x, y, width, height, image)),
        )
    })
}

/// `vaExportSurfaceHandle`: with `VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2`,
/// `descriptor` is a `VADRMPRIMESurfaceDescriptor` (va_drmcommon.h); its
/// fds become the client's.
unsafe extern "C" fn va_export_surface_handle(
    ctx: VADriverContextP,
    surface_id: VASurfaceID,
    mem_type: u32,
    flags: u32,
    descriptor: *mut c_void,
) -> VAStatus {
    guard("vaExportSurfaceHandle", || {
        // SAFETY: libva's context; for DRM_PRIME_2 `descriptor` is null or a
        // VADRMPRIMESurfaceDescriptor (va.h vaExportSurfaceHandle); other
        // memory types are refused before it is touched.
        status_of(unsafe { lock(ctx) }.and_then(|mut d| {
            if descriptor.is_null() {
                return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
            }
            let desc = d.export_surface_handle(surface_id, mem_type, flags)?;
            let max = crate::export::MAX_DESCRIPTOR_ENTRIES;
            if desc.objects.len() > max
                || desc.layers.len() > max
                || desc.layers.iter().any(|l| l.planes.len() > max)
            {
                return Err(VA_STATUS_ERROR_OPERATION_FAILED);
            }
            let mut o = sys::VADRMPRIMESurfaceDescriptor {
                fourcc: desc.fourcc,
                width: desc.width,
                height: desc.height,
                num_objects: desc.objects.len() as u32,
                num_layers: desc.layers.len() as u32,
                ..Default::default()
            };
            for (dst, l) in o.layers.iter_mut().zip(&desc.layers) {
                dst.drm_format = l.drm_format;
                dst.num_planes = l.planes.len() as u32;
                for (i, p) in l.planes.iter().enumerate() {
                    dst.object_index[i] = p.object_index;
                    dst.offset[i] = p.offset;
                    dst.pitch[i] = p.pitch;
                }
            }
            for (dst, obj) in o.objects.iter_mut().zip(desc.objects) {
                dst.size = obj.size;
                dst.drm_format_modifier = obj.drm_format_modifier;
                // The fd becomes the client's (va.h: "The exported handles
                // are owned by the caller").
                dst.fd = std::os::fd::IntoRawFd::into_raw_fd(obj.fd);
            }
            // SAFETY: non-null, a VADRMPRIMESurfaceDescriptor (above).
            unsafe {
                descriptor
                    .cast::<sys::VADRMPRIMESurfaceDescriptor>()
                    .write(o)
            };
            Ok(())
        }))
    })
}

/// The vendor string of an initialised context (tests, diagnostics).
///
/// # Safety
/// `ctx` is a valid, initialised `VADriverContext`.
#[allow(dead_code)]
unsafe fn vendor_of(ctx: VADriverContextP) -> Option<String> {
    // SAFETY: caller.
    let p = unsafe { (*ctx).str_vendor };
    // SAFETY: set by driver_init to a NUL-terminated string alive until vaTerminate.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

mod plain;
pub(crate) use plain::*;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod hostile_tests;
