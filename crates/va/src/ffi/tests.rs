//! The C entry points as libva calls them: a `VADriverContext` built here,
//! the init function, then the vtable's slots, with stale IDs and null
//! pointers. No crash; error statuses.

use super::*;
use crate::profiles;
use std::ptr;
use vreq_testkit::fake::device_info;
use vreq_v4l2::profile::for_driver;

fn rk3588() -> Result<Vec<DeviceInfo>, String> {
    Ok(vec![
        device_info(for_driver("hantro-vpu", "rk3568-vpu"), 0),
        device_info(for_driver("rkvdec", "vdpu381"), 1),
    ])
}

fn nothing() -> Result<Vec<DeviceInfo>, String> {
    Ok(vec![])
}

fn broken() -> Result<Vec<DeviceInfo>, String> {
    Err("cannot read /dev".into())
}

/// What libva allocates before calling init (va.c va_openDriver: the
/// context and a calloc()ed vtable), kept alive together.
struct Display {
    ctx: Box<sys::VADriverContext>,
    _vtable: Box<sys::VADriverVTable>,
}

impl Display {
    fn new() -> Display {
        // SAFETY: VADriverContext / VADriverVTable are C structs of pointers,
        // integers and Option<fn>: all-zero is what libva's calloc gives.
        let mut vtable: Box<sys::VADriverVTable> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: as above.
        let mut ctx: Box<sys::VADriverContext> = Box::new(unsafe { std::mem::zeroed() });
        ctx.vtable = &mut *vtable;
        Display {
            ctx,
            _vtable: vtable,
        }
    }

    fn ptr(&mut self) -> VADriverContextP {
        &mut *self.ctx
    }

    fn vt(&self) -> &sys::VADriverVTable {
        // SAFETY: points to our boxed vtable.
        unsafe { &*self.ctx.vtable }
    }
}

static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn record_error(_ctx: VADriverContextP, msg: *const std::ffi::c_char) {
    // SAFETY: driver passes a NUL-terminated string.
    let m = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    ERRORS.lock().unwrap().push(m);
}

#[test]
fn init_symbol_is_the_headers_version() {
    assert_eq!(
        INIT_SYMBOL,
        format!(
            "__vaDriverInit_{}_{}",
            sys::VA_MAJOR_VERSION,
            sys::VA_MINOR_VERSION
        )
    );
    assert_eq!(VA_VERSION, (sys::VA_MAJOR_VERSION, sys::VA_MINOR_VERSION));
}

#[test]
fn init_fills_every_slot_and_the_maxima() {
    let mut d = Display::new();
    // SAFETY: a context as libva makes it.
    assert_eq!(unsafe { driver_init(d.ptr(), rk3588) }, VA_STATUS_SUCCESS);
    assert_eq!(stubs::unset_slots(d.vt()), Vec::<&str>::new());
    for name in IMPLEMENTED {
        assert!(VTABLE_SLOTS.contains(name), "{name}");
    }
    let c = &d.ctx;
    assert_eq!(c.max_profiles as usize, profiles::VA_PROFILES.len());
    assert!(c.max_entrypoints > 0 && c.max_attributes > 0 && c.max_image_formats > 0);
    assert!(c.max_subpic_formats > 0);
    assert_eq!((c.version_major as u32, c.version_minor as u32), VA_VERSION);
    assert!(!c.pDriverData.is_null());
    // SAFETY: initialised.
    let vendor = unsafe { vendor_of(d.ptr()) }.unwrap();
    assert!(
        vendor.starts_with("vreq VA driver ")
            && vendor.ends_with("(V4L2 stateless: hantro-vpu, rkvdec)"),
        "{vendor}"
    );
    let term = d.vt().vaTerminate.unwrap();
    // SAFETY: initialised context.
    assert_eq!(unsafe { term(d.ptr()) }, VA_STATUS_SUCCESS);
    assert!(d.ctx.pDriverData.is_null() && d.ctx.str_vendor.is_null());
}

#[test]
fn init_without_decoders_fails_with_a_reason() {
    for (f, want) in [
        (nothing as fn() -> _, "no V4L2 stateless decoder"),
        (broken, "cannot read /dev"),
    ] {
        let mut d = Display::new();
        d.ctx.error_callback = Some(record_error);
        // SAFETY: a context as libva makes it.
        let status = unsafe { driver_init(d.ptr(), f) };
        assert_eq!(status, VA_STATUS_ERROR_OPERATION_FAILED);
        assert!(d.ctx.pDriverData.is_null());
        assert!(ERRORS.lock().unwrap().iter().any(|m| m.contains(want)));
    }
    // SAFETY: null context / null vtable are refused before any dereference.
    let status = unsafe { driver_init(std::ptr::null_mut(), rk3588) };
    assert_eq!(status, VA_STATUS_ERROR_INVALID_DISPLAY);
    let mut d = Display::new();
    d.ctx.vtable = std::ptr::null_mut();
    // SAFETY: as above.
    let status = unsafe { driver_init(d.ptr(), rk3588) };
    assert_eq!(status, VA_STATUS_ERROR_INVALID_PARAMETER);
}

#[test]
fn exported_init_on_this_host_never_crashes() {
    // The real discovery: the host may or may not have a decoder.
    let mut d = Display::new();
    // SAFETY: a context as libva makes it.
    let s = unsafe { va_driver_init(d.ptr()) };
    assert!(
        s == VA_STATUS_SUCCESS || s == VA_STATUS_ERROR_OPERATION_FAILED,
        "{s}"
    );
    if s == VA_STATUS_SUCCESS {
        // SAFETY: initialised.
        let status = unsafe { d.vt().vaTerminate.unwrap()(d.ptr()) };
        assert_eq!(status, VA_STATUS_SUCCESS);
    }
}

#[test]
fn config_calls_through_the_vtable() {
    let mut d = Display::new();
    // SAFETY: a context as libva makes it.
    assert_eq!(unsafe { driver_init(d.ptr(), rk3588) }, VA_STATUS_SUCCESS);
    let vt = *d.vt();
    let ctx = d.ptr();
    // SAFETY: (the whole block) ctx is initialised; the arrays are sized as
    // libva sizes them (max_*), or the pointers are deliberately null / the
    // IDs stale, which the driver must refuse without dereferencing.
    unsafe {
        let mut list = vec![0 as VAProfile; d.ctx.max_profiles as usize];
        let mut n: c_int = -1;
        assert_eq!(
            vt.vaQueryConfigProfiles.unwrap()(ctx, list.as_mut_ptr(), &mut n),
            VA_STATUS_SUCCESS
        );
        list.truncate(n as usize);
        assert_eq!(list, profiles::profile_union(&rk3588().unwrap()));
        assert!(
            list.contains(&sys::VAProfileHEVCMain) && list.contains(&sys::VAProfileVP8Version0_3)
        );
        assert_eq!(
            vt.vaQueryConfigProfiles.unwrap()(ctx, ptr::null_mut(), &mut n),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaQueryConfigProfiles.unwrap()(ctx, list.as_mut_ptr(), ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );

        let mut eps = [0 as VAEntrypoint; 1];
        assert_eq!(
            vt.vaQueryConfigEntrypoints.unwrap()(
                ctx,
                sys::VAProfileH264High,
                eps.as_mut_ptr(),
                &mut n
            ),
            VA_STATUS_SUCCESS
        );
        assert_eq!((n, eps[0]), (1, sys::VAEntrypointVLD));
        assert_eq!(
            vt.vaQueryConfigEntrypoints.unwrap()(
                ctx,
                sys::VAProfileVP9Profile0,
                eps.as_mut_ptr(),
                &mut n
            ),
            VA_STATUS_ERROR_UNSUPPORTED_PROFILE
        );

        let mut attr = [VAConfigAttrib {
            type_: sys::VAConfigAttribRTFormat,
            value: 0,
        }];
        let vld = sys::VAEntrypointVLD;
        let h264 = sys::VAProfileH264Main;
        assert_eq!(
            vt.vaGetConfigAttributes.unwrap()(ctx, h264, vld, attr.as_mut_ptr(), 1),
            VA_STATUS_SUCCESS
        );
        assert_eq!(attr[0].value, sys::VA_RT_FORMAT_YUV420);
        assert_eq!(
            vt.vaGetConfigAttributes.unwrap()(ctx, h264, vld, ptr::null_mut(), 3),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaGetConfigAttributes.unwrap()(ctx, h264, vld, attr.as_mut_ptr(), -1),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaGetConfigAttributes.unwrap()(ctx, h264, vld, ptr::null_mut(), 0),
            VA_STATUS_SUCCESS
        );

        let mut id: VAConfigID = sys::VA_INVALID_ID;
        let create = vt.vaCreateConfig.unwrap();
        assert_eq!(
            create(ctx, h264, vld, attr.as_mut_ptr(), 1, &mut id),
            VA_STATUS_SUCCESS
        );
        assert_ne!(id, sys::VA_INVALID_ID);
        assert_eq!(
            create(ctx, h264, vld, ptr::null_mut(), 0, ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            create(ctx, h264, vld, ptr::null_mut(), 2, &mut id),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            create(ctx, h264, vld, attr.as_mut_ptr(), c_int::MIN, &mut id),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        let mut id2: VAConfigID = 0;
        assert_eq!(
            create(
                ctx,
                sys::VAProfileVP8Version0_3,
                vld,
                ptr::null_mut(),
                0,
                &mut id2
            ),
            VA_STATUS_SUCCESS
        );
        assert_eq!(
            create(
                ctx,
                sys::VAProfileAV1Profile0,
                vld,
                ptr::null_mut(),
                0,
                &mut id2
            ),
            VA_STATUS_ERROR_UNSUPPORTED_PROFILE
        );
        assert_eq!(
            create(
                ctx,
                h264,
                sys::VAEntrypointEncSlice,
                ptr::null_mut(),
                0,
                &mut id2
            ),
            VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT
        );

        let (mut p, mut e, mut na) = (0 as VAProfile, 0 as VAEntrypoint, 0 as c_int);
        let mut attrs = vec![VAConfigAttrib { type_: 0, value: 0 }; d.ctx.max_attributes as usize];
        let query = vt.vaQueryConfigAttributes.unwrap();
        assert_eq!(
            query(ctx, id, &mut p, &mut e, attrs.as_mut_ptr(), &mut na),
            VA_STATUS_SUCCESS
        );
        assert_eq!((p, e, na), (h264, vld, 1));
        assert_eq!(
            (attrs[0].type_, attrs[0].value),
            (sys::VAConfigAttribRTFormat, sys::VA_RT_FORMAT_YUV420)
        );
        assert_eq!(
            query(
                ctx,
                id,
                ptr::null_mut(),
                &mut e,
                attrs.as_mut_ptr(),
                &mut na
            ),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            query(ctx, id, &mut p, &mut e, ptr::null_mut(), &mut na),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );

        let destroy = vt.vaDestroyConfig.unwrap();
        assert_eq!(destroy(ctx, id), VA_STATUS_SUCCESS);
        assert_eq!(destroy(ctx, id), VA_STATUS_ERROR_INVALID_CONFIG);
        assert_eq!(
            destroy(ctx, sys::VA_INVALID_ID),
            VA_STATUS_ERROR_INVALID_CONFIG
        );
        assert_eq!(
            query(ctx, id, &mut p, &mut e, attrs.as_mut_ptr(), &mut na),
            VA_STATUS_ERROR_INVALID_CONFIG
        );

        // not yet implemented: honest status, whatever the arguments
        assert_eq!(
            vt.vaCreateSurfaces2.unwrap()(ctx, 0, 64, 64, ptr::null_mut(), 4, ptr::null_mut(), 0),
            VA_STATUS_ERROR_UNIMPLEMENTED
        );
        assert_eq!(
            vt.vaBeginPicture.unwrap()(ctx, 0, 0),
            VA_STATUS_ERROR_UNIMPLEMENTED
        );
        assert_eq!(
            vt.vaQueryImageFormats.unwrap()(ctx, ptr::null_mut(), ptr::null_mut()),
            VA_STATUS_ERROR_UNIMPLEMENTED
        );

        // terminate, then everything is INVALID_DISPLAY (no use after free)
        assert_eq!(vt.vaTerminate.unwrap()(ctx), VA_STATUS_SUCCESS);
        assert_eq!(
            vt.vaTerminate.unwrap()(ctx),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(destroy(ctx, id2), VA_STATUS_ERROR_INVALID_DISPLAY);
        assert_eq!(
            vt.vaQueryConfigProfiles.unwrap()(ctx, list.as_mut_ptr(), &mut n),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(
            create(ctx, h264, vld, ptr::null_mut(), 0, &mut id2),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );

        // a null context everywhere
        let nc = std::ptr::null_mut();
        assert_eq!(vt.vaTerminate.unwrap()(nc), VA_STATUS_ERROR_INVALID_DISPLAY);
        assert_eq!(
            vt.vaQueryConfigProfiles.unwrap()(nc, list.as_mut_ptr(), &mut n),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(
            vt.vaQueryConfigEntrypoints.unwrap()(nc, h264, eps.as_mut_ptr(), &mut n),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(
            vt.vaGetConfigAttributes.unwrap()(nc, h264, vld, attr.as_mut_ptr(), 1),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(
            create(nc, h264, vld, ptr::null_mut(), 0, &mut id2),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(destroy(nc, id2), VA_STATUS_ERROR_INVALID_DISPLAY);
        assert_eq!(
            query(nc, id2, &mut p, &mut e, attrs.as_mut_ptr(), &mut na),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
    }
}

#[test]
fn a_panic_becomes_a_status() {
    assert_eq!(
        guard("test", || panic!("boom")),
        VA_STATUS_ERROR_OPERATION_FAILED
    );
    assert_eq!(guard("test", || VA_STATUS_SUCCESS), VA_STATUS_SUCCESS);
}

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

#[test]
fn random_calls_give_statuses() {
    let mut d = Display::new();
    // SAFETY: a context as libva makes it.
    let status = unsafe { driver_init(d.ptr(), rk3588) };
    assert_eq!(status, VA_STATUS_SUCCESS);
    let vt = *d.vt();
    let ctx = d.ptr();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut ids: Vec<VAConfigID> = vec![0, sys::VA_INVALID_ID, crate::objects::CONFIG_IDS.base];
    let profiles_: Vec<VAProfile> = (-2..40).collect();
    let eps: Vec<VAEntrypoint> = vec![0, 1, 2, 6, 8, 11, u32::MAX];
    let counts: Vec<c_int> = vec![-1, 0, 1, 2, 4, c_int::MIN];
    let allowed = [
        VA_STATUS_SUCCESS,
        VA_STATUS_ERROR_INVALID_PARAMETER,
        VA_STATUS_ERROR_INVALID_CONFIG,
        VA_STATUS_ERROR_UNSUPPORTED_PROFILE,
        VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT,
        VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT,
    ];
    for _ in 0..5000 {
        // Arrays big enough for the largest count used (4), or null.
        let mut attrs = [VAConfigAttrib { type_: 0, value: 0 }; 4];
        for a in &mut attrs {
            a.type_ = rng.pick(&[sys::VAConfigAttribRTFormat, 1, 5, u32::MAX]);
            a.value = rng.pick(&[0, 1, 0x100, 0x101, u32::MAX]);
        }
        let attrs_ptr = if rng.next().is_multiple_of(4) {
            ptr::null_mut()
        } else {
            attrs.as_mut_ptr()
        };
        let (p, e, n) = (rng.pick(&profiles_), rng.pick(&eps), rng.pick(&counts));
        let id = rng.pick(&ids);
        let mut out_id: VAConfigID = 0;
        let out_ptr: *mut VAConfigID = if rng.next().is_multiple_of(8) {
            ptr::null_mut()
        } else {
            &mut out_id
        };
        let (mut qp, mut qe, mut qn) = (0, 0, 0);
        // SAFETY: ctx initialised; every non-null pointer is valid for the
        // counts passed (attrs holds 4 ≥ any positive count, ≥ max_attributes).
        let s = unsafe {
            match rng.next() % 4 {
                0 => vt.vaCreateConfig.unwrap()(ctx, p, e, attrs_ptr, n, out_ptr),
                1 => vt.vaDestroyConfig.unwrap()(ctx, id),
                2 => vt.vaGetConfigAttributes.unwrap()(ctx, p, e, attrs_ptr, n),
                _ => vt.vaQueryConfigAttributes.unwrap()(
                    ctx,
                    id,
                    &mut qp,
                    &mut qe,
                    attrs.as_mut_ptr(),
                    &mut qn,
                ),
            }
        };
        assert!(allowed.contains(&s), "status {s:#x}");
        if s == VA_STATUS_SUCCESS && out_id != 0 {
            ids.push(out_id);
        }
    }
    assert!(ids.len() > 10, "some configs were made");
    // SAFETY: initialised.
    let status = unsafe { vt.vaTerminate.unwrap()(ctx) };
    assert_eq!(status, VA_STATUS_SUCCESS);
}
