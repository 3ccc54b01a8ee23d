//! The built `libvreq_drv_video.so` as libva loads it (va.c `va_openDriver`:
//! dlopen, dlsym of `__vaDriverInit_<major>_<minor>`, call with a calloc()ed
//! context and vtable): the symbol resolves, older names do not, and on a
//! host without a stateless decoder init fails with a status and a reason
//! through the error callback, no crash.

use std::ffi::{c_char, CStr};
use std::path::PathBuf;
use std::sync::Mutex;

use vreq_drv_video::status::*;
use vreq_drv_video::{sys, INIT_SYMBOL};

/// target/<profile>/deps/libvreq_drv_video.so: the cdylib Cargo built for
/// this test, next to the test binary (the copy in target/<profile>/ is made
/// only when the library itself is a build target).
fn driver_so() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().join("libvreq_drv_video.so")
}

static MESSAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_error(_ctx: sys::VADriverContextP, msg: *const c_char) {
    // SAFETY: the driver passes a NUL-terminated string.
    let m = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    MESSAGES.lock().unwrap().push(m);
}

#[test]
fn libva_finds_and_calls_the_init_symbol() {
    let path = driver_so();
    assert!(path.exists(), "{} not built", path.display());
    // SAFETY: our own driver library; its initialisers are Rust's std only.
    let lib = unsafe { libloading::Library::new(&path) }.unwrap();
    type Init = unsafe extern "C" fn(sys::VADriverContextP) -> sys::VAStatus;
    // SAFETY: the symbol's type is VADriverInit (va_backend.h).
    let init = unsafe { lib.get::<Init>(INIT_SYMBOL.as_bytes()) }.unwrap();
    // libva tries its own minor first, then older ones: none but ours exists.
    let (major, minor) = vreq_drv_video::VA_VERSION;
    for m in (0..minor).chain(minor + 1..minor + 8) {
        let name = format!("__vaDriverInit_{major}_{m}");
        // SAFETY: only looked up, never called.
        assert!(
            unsafe { lib.get::<Init>(name.as_bytes()) }.is_err(),
            "{name}"
        );
    }

    // SAFETY: all-zero is what libva's calloc() gives for these C structs.
    let mut vtable: Box<sys::VADriverVTable> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: as above.
    let mut ctx: Box<sys::VADriverContext> = Box::new(unsafe { std::mem::zeroed() });
    ctx.vtable = &mut *vtable;
    ctx.error_callback = Some(on_error);
    let p: sys::VADriverContextP = &mut *ctx;
    // SAFETY: a context as libva makes it, alive across the calls.
    let status = unsafe { init(p) };
    if std::path::Path::new("/dev/media0").exists() && status == VA_STATUS_SUCCESS {
        // A host with a decoder: the vtable is live; terminate frees our state.
        let term = vtable.vaTerminate.expect("vaTerminate set");
        // SAFETY: initialised context.
        let status = unsafe { term(p) };
        assert_eq!(status, VA_STATUS_SUCCESS);
    } else {
        assert_eq!(status, VA_STATUS_ERROR_OPERATION_FAILED);
        assert!(ctx.pDriverData.is_null());
        let msgs = MESSAGES.lock().unwrap();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("vreq: ") && m.ends_with('\n')),
            "{msgs:?}"
        );
    }
    // SAFETY: a null context is refused before any dereference.
    let status = unsafe { init(std::ptr::null_mut()) };
    assert_eq!(status, VA_STATUS_ERROR_INVALID_DISPLAY);
}
