//! The C entry points as libva calls them: a `VADriverContext` built here,
//! the init function, then the vtable's slots, with stale IDs and null
//! pointers. No crash; error statuses.

use super::*;
use crate::profiles;
use std::os::fd::FromRawFd;
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

        // pictures on a stale context; a bad image; vaPutImage not implemented
        assert_eq!(
            vt.vaBeginPicture.unwrap()(ctx, 0, 0),
            VA_STATUS_ERROR_INVALID_CONTEXT
        );
        assert_eq!(
            vt.vaEndPicture.unwrap()(ctx, 0),
            VA_STATUS_ERROR_INVALID_CONTEXT
        );
        assert_eq!(
            vt.vaRenderPicture.unwrap()(ctx, 0, ptr::null_mut(), 1),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaDestroyImage.unwrap()(ctx, 0),
            VA_STATUS_ERROR_INVALID_IMAGE
        );
        assert_eq!(
            vt.vaPutImage.unwrap()(ctx, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1),
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
        let attrs_ptr = if rng.next() % 4 == 0 {
            ptr::null_mut()
        } else {
            attrs.as_mut_ptr()
        };
        let (p, e, n) = (rng.pick(&profiles_), rng.pick(&eps), rng.pick(&counts));
        let id = rng.pick(&ids);
        let mut out_id: VAConfigID = 0;
        let out_ptr: *mut VAConfigID = if rng.next() % 8 == 0 {
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

/// An initialised display over the fake RK3588 and one config of `profile`
/// (with RT format `rt`).
fn display_with_config(profile: VAProfile, rt: u32) -> (Display, VAConfigID) {
    let mut d = Display::new();
    // SAFETY: a context as libva makes it.
    assert_eq!(unsafe { driver_init(d.ptr(), rk3588) }, VA_STATUS_SUCCESS);
    let vt = *d.vt();
    let mut attr = [VAConfigAttrib {
        type_: sys::VAConfigAttribRTFormat,
        value: rt,
    }];
    let mut id = 0;
    // SAFETY: initialised; attr holds 1 entry.
    let s = unsafe {
        vt.vaCreateConfig.unwrap()(
            d.ptr(),
            profile,
            sys::VAEntrypointVLD,
            attr.as_mut_ptr(),
            1,
            &mut id,
        )
    };
    assert_eq!(s, VA_STATUS_SUCCESS);
    (d, id)
}

fn int_attrib(type_: u32, v: u32) -> VASurfaceAttrib {
    VASurfaceAttrib {
        type_,
        flags: sys::VA_SURFACE_ATTRIB_SETTABLE,
        value: sys::VAGenericValue {
            type_: sys::VAGenericValueTypeInteger,
            value: sys::_VAGenericValue__bindgen_ty_1 { i: v as i32 },
        },
    }
}

#[test]
fn image_formats_and_surface_attributes() {
    let (mut d, hevc10) = display_with_config(
        sys::VAProfileHEVCMain10,
        sys::VA_RT_FORMAT_YUV420 | sys::VA_RT_FORMAT_YUV420_10,
    );
    let vt = *d.vt();
    let ctx = d.ptr();
    // SAFETY: (the whole block) ctx initialised; arrays sized as libva sizes
    // them or as the count passed says; null pointers deliberate.
    unsafe {
        let mut formats = vec![VAImageFormat::default(); d.ctx.max_image_formats as usize];
        let mut n: c_int = -1;
        assert_eq!(
            vt.vaQueryImageFormats.unwrap()(ctx, formats.as_mut_ptr(), &mut n),
            VA_STATUS_SUCCESS
        );
        // rkvdec vdpu381 decodes 10-bit: NV12 and P010
        assert_eq!(n, 2);
        assert_eq!(
            (formats[0].fourcc, formats[0].bits_per_pixel),
            (sys::VA_FOURCC_NV12, 12)
        );
        assert_eq!(
            (formats[1].fourcc, formats[1].bits_per_pixel),
            (sys::VA_FOURCC_P010, 24)
        );
        assert_eq!(
            vt.vaQueryImageFormats.unwrap()(ctx, ptr::null_mut(), &mut n),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaQueryImageFormats.unwrap()(ctx, formats.as_mut_ptr(), ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );

        let q = vt.vaQuerySurfaceAttributes.unwrap();
        let mut na: c_uint = 0;
        assert_eq!(q(ctx, hevc10, ptr::null_mut(), &mut na), VA_STATUS_SUCCESS);
        assert_eq!(na, 7, "NV12, P010, memory type, min/max width/height");
        let mut list = vec![int_attrib(0, 0); na as usize];
        let mut small: c_uint = 2;
        assert_eq!(
            q(ctx, hevc10, list.as_mut_ptr(), &mut small),
            VA_STATUS_ERROR_MAX_NUM_EXCEEDED
        );
        assert_eq!(small, 7);
        assert_eq!(
            q(ctx, hevc10, list.as_mut_ptr(), &mut na),
            VA_STATUS_SUCCESS
        );
        let pf: Vec<u32> = list
            .iter()
            .filter(|a| a.type_ == sys::VASurfaceAttribPixelFormat)
            .map(|a| a.value.value.i as u32)
            .collect();
        assert_eq!(pf, [sys::VA_FOURCC_NV12, sys::VA_FOURCC_P010]);
        let get = |t| {
            let a = list.iter().find(|a| a.type_ == t).unwrap();
            assert_eq!(a.value.type_, sys::VAGenericValueTypeInteger);
            a.value.value.i as u32
        };
        assert_eq!(
            get(sys::VASurfaceAttribMemoryType),
            sys::VA_SURFACE_ATTRIB_MEM_TYPE_VA | sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2
        );
        let dev = &rk3588().unwrap()[1];
        let hevc = dev.support(vreq_core::CodecKind::Hevc).unwrap();
        let cap = crate::surface::SURFACE_DIM_CAP;
        assert_eq!(get(sys::VASurfaceAttribMaxWidth), hevc.max_width.min(cap));
        assert_eq!(get(sys::VASurfaceAttribMaxHeight), hevc.max_height.min(cap));
        assert_eq!(
            q(ctx, hevc10, list.as_mut_ptr(), ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            q(ctx, hevc10 + 1, list.as_mut_ptr(), &mut na),
            VA_STATUS_ERROR_INVALID_CONFIG
        );
        assert_eq!(vt.vaTerminate.unwrap()(ctx), VA_STATUS_SUCCESS);
    }
}

#[test]
fn surfaces_contexts_buffers_through_the_vtable() {
    let (mut d, config) = display_with_config(sys::VAProfileH264High, sys::VA_RT_FORMAT_YUV420);
    let vt = *d.vt();
    let ctx = d.ptr();
    let yuv420 = sys::VA_RT_FORMAT_YUV420;
    // SAFETY: (the whole block) ctx initialised; arrays hold the counts
    // passed; null pointers and stale IDs deliberate.
    unsafe {
        let create2 = vt.vaCreateSurfaces2.unwrap();
        let mut surfaces = [sys::VA_INVALID_ID; 4];
        let mut attrs = [
            int_attrib(sys::VASurfaceAttribPixelFormat, sys::VA_FOURCC_NV12),
            int_attrib(
                sys::VASurfaceAttribMemoryType,
                sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2,
            ),
            int_attrib(sys::VASurfaceAttribUsageHint, 1),
        ];
        assert_eq!(
            create2(
                ctx,
                yuv420,
                1920,
                1080,
                surfaces.as_mut_ptr(),
                4,
                attrs.as_mut_ptr(),
                3
            ),
            VA_STATUS_SUCCESS
        );
        assert!(surfaces.iter().all(|&s| s != sys::VA_INVALID_ID));
        // the legacy slot
        let mut legacy = [0; 2];
        assert_eq!(
            vt.vaCreateSurfaces.unwrap()(ctx, 640, 480, yuv420 as c_int, 2, legacy.as_mut_ptr()),
            VA_STATUS_SUCCESS
        );
        // argument errors
        let mut one = [0; 1];
        let mut ext = [int_attrib(sys::VASurfaceAttribExternalBufferDescriptor, 0)];
        ext[0].value.type_ = sys::VAGenericValueTypePointer;
        for (rt, w, h, out, n, a, na, want) in [
            (
                yuv420,
                64,
                64,
                ptr::null_mut(),
                1,
                ptr::null_mut(),
                0,
                VA_STATUS_ERROR_INVALID_PARAMETER,
            ),
            (
                yuv420,
                64,
                64,
                one.as_mut_ptr(),
                1,
                ptr::null_mut(),
                2,
                VA_STATUS_ERROR_INVALID_PARAMETER,
            ),
            (
                yuv420,
                64,
                64,
                one.as_mut_ptr(),
                1,
                ext.as_mut_ptr(),
                1,
                VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE,
            ),
            (
                yuv420,
                0,
                64,
                one.as_mut_ptr(),
                1,
                ptr::null_mut(),
                0,
                VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED,
            ),
            (
                yuv420,
                u32::MAX,
                u32::MAX,
                one.as_mut_ptr(),
                1,
                ptr::null_mut(),
                0,
                VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED,
            ),
            (
                sys::VA_RT_FORMAT_RGB32,
                64,
                64,
                one.as_mut_ptr(),
                1,
                ptr::null_mut(),
                0,
                VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT,
            ),
            (
                yuv420,
                64,
                64,
                one.as_mut_ptr(),
                u32::MAX,
                ptr::null_mut(),
                0,
                VA_STATUS_ERROR_INVALID_PARAMETER,
            ),
            (
                yuv420,
                64,
                64,
                one.as_mut_ptr(),
                1_000_000,
                ptr::null_mut(),
                0,
                VA_STATUS_ERROR_ALLOCATION_FAILED,
            ),
        ] {
            assert_eq!(
                create2(ctx, rt, w, h, out, n, a, na),
                want,
                "{rt:#x} {w}x{h} n={n}"
            );
        }
        assert_eq!(
            vt.vaCreateSurfaces.unwrap()(ctx, -1, 480, yuv420 as c_int, 1, one.as_mut_ptr()),
            VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED
        );

        let mut st: VASurfaceStatus = 0;
        assert_eq!(
            vt.vaQuerySurfaceStatus.unwrap()(ctx, surfaces[0], &mut st),
            VA_STATUS_SUCCESS
        );
        assert_eq!(st, sys::VASurfaceReady);
        assert_eq!(
            vt.vaQuerySurfaceStatus.unwrap()(ctx, surfaces[0], ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaSyncSurface.unwrap()(ctx, surfaces[1]),
            VA_STATUS_SUCCESS
        );

        // context
        let cc = vt.vaCreateContext.unwrap();
        let mut context = 0;
        assert_eq!(
            cc(
                ctx,
                config,
                1920,
                1080,
                sys::VA_PROGRESSIVE as c_int,
                surfaces.as_mut_ptr(),
                4,
                &mut context
            ),
            VA_STATUS_SUCCESS
        );
        let mut c2 = 0;
        assert_eq!(
            cc(
                ctx,
                config,
                1920,
                1080,
                0,
                surfaces.as_mut_ptr(),
                1,
                &mut c2
            ),
            VA_STATUS_ERROR_SURFACE_BUSY
        );
        assert_eq!(
            cc(ctx, config + 7, 1920, 1080, 0, ptr::null_mut(), 0, &mut c2),
            VA_STATUS_ERROR_INVALID_CONFIG
        );
        assert_eq!(
            cc(ctx, config, 1920, 1080, 0, ptr::null_mut(), 2, &mut c2),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            cc(
                ctx,
                config,
                1920,
                1080,
                0,
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            cc(ctx, config, -1, 1080, 0, ptr::null_mut(), 0, &mut c2),
            VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED
        );
        let mut stale = [sys::VA_INVALID_ID];
        assert_eq!(
            cc(ctx, config, 1920, 1080, 0, stale.as_mut_ptr(), 1, &mut c2),
            VA_STATUS_ERROR_INVALID_SURFACE
        );

        // buffers: create, info, map/unmap round trip, set elements
        let cb = vt.vaCreateBuffer.unwrap();
        let mut data: Vec<u8> = (0..=255).collect();
        let mut buf = 0;
        assert_eq!(
            cb(
                ctx,
                context,
                sys::VASliceDataBufferType,
                64,
                4,
                data.as_mut_ptr().cast(),
                &mut buf
            ),
            VA_STATUS_SUCCESS
        );
        let (mut t, mut sz, mut ne) = (0, 0, 0);
        assert_eq!(
            vt.vaBufferInfo.unwrap()(ctx, buf, &mut t, &mut sz, &mut ne),
            VA_STATUS_SUCCESS
        );
        assert_eq!((t, sz, ne), (sys::VASliceDataBufferType, 64, 4));
        let mut p: *mut c_void = ptr::null_mut();
        assert_eq!(vt.vaMapBuffer.unwrap()(ctx, buf, &mut p), VA_STATUS_SUCCESS);
        let mapped = std::slice::from_raw_parts_mut(p.cast::<u8>(), 256);
        assert_eq!(mapped, &data[..]);
        mapped[0] = 0xAA;
        assert_eq!(vt.vaUnmapBuffer.unwrap()(ctx, buf), VA_STATUS_SUCCESS);
        let mut p2: *mut c_void = ptr::null_mut();
        assert_eq!(
            vt.vaMapBuffer.unwrap()(ctx, buf, &mut p2),
            VA_STATUS_SUCCESS
        );
        assert_eq!(p, p2, "stable pointer");
        assert_eq!(*p2.cast::<u8>(), 0xAA);
        assert_eq!(vt.vaUnmapBuffer.unwrap()(ctx, buf), VA_STATUS_SUCCESS);
        assert_eq!(
            vt.vaMapBuffer.unwrap()(ctx, buf, ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        let sne = vt.vaBufferSetNumElements.unwrap();
        assert_eq!(sne(ctx, buf, 2), VA_STATUS_SUCCESS);
        assert_eq!(sne(ctx, buf, 5), VA_STATUS_ERROR_INVALID_PARAMETER);
        assert_eq!(
            vt.vaBufferInfo.unwrap()(ctx, buf, &mut t, &mut sz, &mut ne),
            VA_STATUS_SUCCESS
        );
        assert_eq!(ne, 2);
        // a zeroed buffer without data; the other types
        let mut b2 = 0;
        for ty in crate::buffer::BUFFER_TYPES {
            assert_eq!(
                cb(ctx, context, ty, 16, 1, ptr::null_mut(), &mut b2),
                VA_STATUS_SUCCESS
            );
        }
        // buffer errors: overflow, cap, type, context, null out
        for (c, ty, size, n, want) in [
            (
                context,
                sys::VASliceDataBufferType,
                u32::MAX,
                u32::MAX,
                VA_STATUS_ERROR_ALLOCATION_FAILED,
            ),
            (
                context,
                sys::VASliceDataBufferType,
                1 << 16,
                1 << 16,
                VA_STATUS_ERROR_ALLOCATION_FAILED,
            ),
            (
                context,
                sys::VASliceDataBufferType,
                (64 << 20) + 1,
                1,
                VA_STATUS_ERROR_ALLOCATION_FAILED,
            ),
            (
                context,
                sys::VAImageBufferType,
                16,
                1,
                VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE,
            ),
            (
                context + 1,
                sys::VASliceDataBufferType,
                16,
                1,
                VA_STATUS_ERROR_INVALID_CONTEXT,
            ),
            (
                config,
                sys::VASliceDataBufferType,
                16,
                1,
                VA_STATUS_ERROR_INVALID_CONTEXT,
            ),
        ] {
            // data null: a size past the cap must fail before anything is read
            assert_eq!(cb(ctx, c, ty, size, n, ptr::null_mut(), &mut b2), want);
        }
        assert_eq!(
            cb(
                ctx,
                context,
                sys::VASliceDataBufferType,
                16,
                1,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        // the size cap holds even with a (too short) data pointer: no read
        assert_eq!(
            cb(
                ctx,
                context,
                sys::VASliceDataBufferType,
                u32::MAX,
                2,
                data.as_mut_ptr().cast(),
                &mut b2
            ),
            VA_STATUS_ERROR_ALLOCATION_FAILED
        );

        let db = vt.vaDestroyBuffer.unwrap();
        assert_eq!(db(ctx, buf), VA_STATUS_SUCCESS);
        assert_eq!(db(ctx, buf), VA_STATUS_ERROR_INVALID_BUFFER);
        assert_eq!(
            vt.vaMapBuffer.unwrap()(ctx, buf, &mut p),
            VA_STATUS_ERROR_INVALID_BUFFER
        );
        assert_eq!(
            vt.vaUnmapBuffer.unwrap()(ctx, buf),
            VA_STATUS_ERROR_INVALID_BUFFER
        );
        assert_eq!(sne(ctx, buf, 1), VA_STATUS_ERROR_INVALID_BUFFER);
        assert_eq!(
            vt.vaBufferInfo.unwrap()(ctx, buf, &mut t, &mut sz, &mut ne),
            VA_STATUS_ERROR_INVALID_BUFFER
        );
        assert_eq!(db(ctx, surfaces[0]), VA_STATUS_ERROR_INVALID_BUFFER);

        // destroying surfaces: all-or-none; a bound one leaves its context
        let ds = vt.vaDestroySurfaces.unwrap();
        let mut mixed = [surfaces[0], sys::VA_INVALID_ID];
        assert_eq!(
            ds(ctx, mixed.as_mut_ptr(), 2),
            VA_STATUS_ERROR_INVALID_SURFACE
        );
        assert_eq!(
            vt.vaSyncSurface.unwrap()(ctx, surfaces[0]),
            VA_STATUS_SUCCESS
        );
        let mut twice = [surfaces[0], surfaces[0]];
        assert_eq!(
            ds(ctx, twice.as_mut_ptr(), 2),
            VA_STATUS_ERROR_INVALID_SURFACE
        );
        assert_eq!(
            ds(ctx, ptr::null_mut(), 1),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(ds(ctx, ptr::null_mut(), 0), VA_STATUS_SUCCESS);
        assert_eq!(ds(ctx, surfaces.as_mut_ptr(), 1), VA_STATUS_SUCCESS);
        assert_eq!(
            vt.vaSyncSurface.unwrap()(ctx, surfaces[0]),
            VA_STATUS_ERROR_INVALID_SURFACE
        );
        assert_eq!(
            vt.vaQuerySurfaceStatus.unwrap()(ctx, surfaces[0], &mut st),
            VA_STATUS_ERROR_INVALID_SURFACE
        );

        let dc = vt.vaDestroyContext.unwrap();
        assert_eq!(dc(ctx, context), VA_STATUS_SUCCESS);
        assert_eq!(dc(ctx, context), VA_STATUS_ERROR_INVALID_CONTEXT);
        // its surfaces are free again for a new context
        assert_eq!(
            cc(
                ctx,
                config,
                1920,
                1080,
                0,
                surfaces[1..].as_mut_ptr(),
                3,
                &mut c2
            ),
            VA_STATUS_SUCCESS
        );
        assert_eq!(
            cb(
                ctx,
                context,
                sys::VASliceDataBufferType,
                16,
                1,
                ptr::null_mut(),
                &mut b2
            ),
            VA_STATUS_ERROR_INVALID_CONTEXT
        );
        assert_eq!(ds(ctx, surfaces[1..].as_mut_ptr(), 3), VA_STATUS_SUCCESS);
        assert_eq!(ds(ctx, legacy.as_mut_ptr(), 2), VA_STATUS_SUCCESS);
        assert_eq!(dc(ctx, c2), VA_STATUS_SUCCESS);

        // after vaTerminate: INVALID_DISPLAY
        assert_eq!(vt.vaTerminate.unwrap()(ctx), VA_STATUS_SUCCESS);
        assert_eq!(
            vt.vaSyncSurface.unwrap()(ctx, surfaces[1]),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
        assert_eq!(db(ctx, b2), VA_STATUS_ERROR_INVALID_DISPLAY);
        assert_eq!(
            create2(ctx, yuv420, 64, 64, one.as_mut_ptr(), 1, ptr::null_mut(), 0),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
    }
}

#[test]
fn random_object_calls_give_statuses() {
    let (mut d, config) = display_with_config(sys::VAProfileHEVCMain, sys::VA_RT_FORMAT_YUV420);
    let vt = *d.vt();
    let ctx = d.ptr();
    let mut rng = Rng(0x0B1E_C75E_ED00_0002);
    let mut irng = Rng(0x1A6E_0000_0000_0003);
    let mut surfaces: Vec<VASurfaceID> =
        vec![0, sys::VA_INVALID_ID, crate::objects::SURFACE_IDS.base];
    let mut contexts: Vec<VAContextID> =
        vec![0, sys::VA_INVALID_ID, crate::objects::CONTEXT_IDS.base];
    let mut buffers: Vec<VABufferID> = vec![0, sys::VA_INVALID_ID, crate::objects::BUFFER_IDS.base];
    let mut images: Vec<sys::VAImageID> =
        vec![0, sys::VA_INVALID_ID, crate::objects::IMAGE_IDS.base];
    let coords: Vec<c_int> = vec![-1, 0, 1, 63, 4096, c_int::MAX];
    // image sides: small ones (images count against the live buffer bytes), bad ones
    let sides: Vec<c_int> = vec![-1, 0, 1, 63, 64, 16385, c_int::MAX];
    let configs = [config, config + 1, 0];
    let sizes: Vec<u32> = vec![0, 1, 16, 64, 1920, 4096, 70000, u32::MAX];
    let counts: Vec<u32> = vec![0, 1, 2, 4, 1 << 20, u32::MAX];
    let rts = [
        sys::VA_RT_FORMAT_YUV420,
        sys::VA_RT_FORMAT_YUV420_10,
        0,
        u32::MAX,
    ];
    let types: Vec<VABufferType> = (0..16).chain([u32::MAX]).collect();
    let allowed = [
        VA_STATUS_SUCCESS,
        VA_STATUS_ERROR_INVALID_PARAMETER,
        VA_STATUS_ERROR_INVALID_CONFIG,
        VA_STATUS_ERROR_INVALID_SURFACE,
        VA_STATUS_ERROR_INVALID_CONTEXT,
        VA_STATUS_ERROR_INVALID_BUFFER,
        VA_STATUS_ERROR_ALLOCATION_FAILED,
        VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT,
        VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE,
        VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED,
        VA_STATUS_ERROR_SURFACE_BUSY,
        VA_STATUS_ERROR_INVALID_IMAGE_FORMAT,
        VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE,
        VA_STATUS_ERROR_INVALID_IMAGE,
    ];
    let mut made = 0;
    let mut images_made = 0;
    for _ in 0..5000 {
        // Arrays of 4 ids: every count passed with a non-null array is ≤ 4.
        let mut ids = [0u32; 4];
        let n = rng.pick(&[0u32, 1, 2, 4]);
        let mut out = 0u32;
        let mut p: *mut c_void = ptr::null_mut();
        let mut attrs = [int_attrib(
            rng.pick(&[1, 6, 7, 8, 99]),
            rng.pick(&[
                0,
                sys::VA_FOURCC_NV12,
                sys::VA_FOURCC_P010,
                1,
                4,
                0x4000_0000,
            ]),
        )];
        let na = rng.pick(&[0u32, 1]);
        // SAFETY: ctx initialised; arrays hold ≥ the counts passed; buffer
        // data is null (the driver zero-fills), out-pointers valid.
        let s = unsafe {
            match rng.next() % 9 {
                0 => {
                    let s = vt.vaCreateSurfaces2.unwrap()(
                        ctx,
                        rng.pick(&rts),
                        rng.pick(&sizes),
                        rng.pick(&sizes),
                        ids.as_mut_ptr(),
                        n,
                        attrs.as_mut_ptr(),
                        na,
                    );
                    if s == VA_STATUS_SUCCESS {
                        surfaces.extend_from_slice(&ids[..n as usize]);
                    }
                    s
                }
                1 => {
                    for i in &mut ids {
                        *i = rng.pick(&surfaces);
                    }
                    vt.vaDestroySurfaces.unwrap()(ctx, ids.as_mut_ptr(), n as c_int)
                }
                2 => {
                    for i in &mut ids {
                        *i = rng.pick(&surfaces);
                    }
                    let s = vt.vaCreateContext.unwrap()(
                        ctx,
                        rng.pick(&configs),
                        rng.pick(&sizes) as c_int,
                        rng.pick(&sizes) as c_int,
                        0,
                        ids.as_mut_ptr(),
                        n as c_int,
                        &mut out,
                    );
                    if s == VA_STATUS_SUCCESS {
                        contexts.push(out);
                    }
                    s
                }
                3 => vt.vaDestroyContext.unwrap()(ctx, rng.pick(&contexts)),
                4 => {
                    let s = vt.vaCreateBuffer.unwrap()(
                        ctx,
                        rng.pick(&contexts),
                        rng.pick(&types),
                        rng.pick(&sizes),
                        rng.pick(&counts),
                        ptr::null_mut(),
                        &mut out,
                    );
                    if s == VA_STATUS_SUCCESS {
                        buffers.push(out);
                        made += 1;
                    }
                    s
                }
                5 => vt.vaMapBuffer.unwrap()(ctx, rng.pick(&buffers), &mut p),
                6 => vt.vaUnmapBuffer.unwrap()(ctx, rng.pick(&buffers)),
                7 => vt.vaDestroyBuffer.unwrap()(ctx, rng.pick(&buffers)),
                _ => {
                    let mut st = 0;
                    vt.vaQuerySurfaceStatus.unwrap()(ctx, rng.pick(&surfaces), &mut st)
                }
            }
        };
        assert!(allowed.contains(&s), "status {s:#x}");
        // The image and export calls, drawn from their own generator so the
        // calls above stay the sequence they were.
        // SAFETY: as above; the descriptor and images are valid out-pointers.
        let s = unsafe {
            match irng.next() % 5 {
                0 => {
                    let mut f = VAImageFormat {
                        fourcc: irng.pick(&[sys::VA_FOURCC_NV12, sys::VA_FOURCC_P010, 0]),
                        ..Default::default()
                    };
                    let mut img = sys::VAImage::default();
                    let s = vt.vaCreateImage.unwrap()(
                        ctx,
                        &mut f,
                        irng.pick(&sides),
                        irng.pick(&sides),
                        &mut img,
                    );
                    if s == VA_STATUS_SUCCESS {
                        images.push(img.image_id);
                        buffers.push(img.buf);
                        images_made += 1;
                    }
                    s
                }
                1 => vt.vaGetImage.unwrap()(
                    ctx,
                    irng.pick(&surfaces),
                    irng.pick(&coords),
                    irng.pick(&coords),
                    irng.pick(&sizes),
                    irng.pick(&sizes),
                    irng.pick(&images),
                ),
                2 => {
                    // no surface here holds a picture: derive is not possible
                    let mut img = sys::VAImage::default();
                    match vt.vaDeriveImage.unwrap()(ctx, irng.pick(&surfaces), &mut img) {
                        VA_STATUS_ERROR_OPERATION_FAILED => VA_STATUS_SUCCESS,
                        s => s,
                    }
                }
                3 => vt.vaDestroyImage.unwrap()(ctx, irng.pick(&images)),
                _ => {
                    let mut desc = sys::VADRMPRIMESurfaceDescriptor::default();
                    let s = vt.vaExportSurfaceHandle.unwrap()(
                        ctx,
                        irng.pick(&surfaces),
                        irng.pick(&[0x4000_0000, 0x2000_0000, 1, 0]),
                        irng.pick(&[0, 1, 2, 3, 4, 8, 13, u32::MAX]),
                        (&mut desc as *mut sys::VADRMPRIMESurfaceDescriptor).cast(),
                    );
                    if s == VA_STATUS_SUCCESS {
                        // a placeholder, where the host's DMA heap serves one: the client's fds
                        for o in &desc.objects[..desc.num_objects as usize] {
                            drop(std::os::fd::OwnedFd::from_raw_fd(o.fd));
                        }
                    }
                    s
                }
            }
        };
        assert!(allowed.contains(&s), "status {s:#x}");
    }
    assert!(
        made > 3 && images_made > 3 && surfaces.len() > 10 && contexts.len() > 3,
        "{made} buffers, {images_made} images, {} surfaces, {} contexts",
        surfaces.len(),
        contexts.len()
    );
    // SAFETY: initialised.
    let status = unsafe { vt.vaTerminate.unwrap()(ctx) };
    assert_eq!(status, VA_STATUS_SUCCESS);
}

fn visl() -> Result<Vec<DeviceInfo>, String> {
    Ok(vec![device_info(for_driver("visl", ""), 0)])
}

/// The image and export entry points on a surface holding a decoded
/// picture (a fake visl whose CAPTURE buffers are painted and have files
/// for dmabufs, `crate::testdev`): the `VAImage` and
/// `VADRMPRIMESurfaceDescriptor` libva hands back, the pixels through
/// `vaMapBuffer`, the fds the client owns; null pointers and bad IDs.
#[test]
fn images_and_export_through_the_vtable() {
    use crate::testdev::{decode_idr, h264_context, pattern, visl_driver};
    let mut disp = Display::new();
    // SAFETY: a context as libva makes it.
    assert_eq!(unsafe { driver_init(disp.ptr(), visl) }, VA_STATUS_SUCCESS);
    let vt = *disp.vt();
    let ctx = disp.ptr();
    // The fake devices come in through the driver behind the context; the
    // picture is decoded with the driver's calls (the vtable's decode path
    // has its own tests).
    let (surface, ts) = {
        // SAFETY: initialised.
        let mut d = unsafe { lock(ctx) }.unwrap();
        *d = visl_driver(true, &[]);
        let s = d
            .create_surfaces(sys::VA_RT_FORMAT_YUV420, 64, 48, 2, &[])
            .unwrap();
        let c = h264_context(&mut d);
        let ts = decode_idr(&mut d, c, s[0]);
        (s, ts)
    };
    let nv12 = |k: usize| pattern(ts, k);
    // SAFETY: ctx initialised; every pointer below is valid or null on purpose.
    unsafe {
        // vaCreateImage + vaGetImage + vaMapBuffer, as FFmpeg downloads
        let mut f = VAImageFormat {
            fourcc: sys::VA_FOURCC_NV12,
            ..Default::default()
        };
        let mut img = sys::VAImage::default();
        assert_eq!(
            vt.vaCreateImage.unwrap()(ctx, &mut f, 64, 48, &mut img),
            VA_STATUS_SUCCESS
        );
        assert_eq!(
            (
                img.format.fourcc,
                img.format.bits_per_pixel,
                img.format.byte_order
            ),
            (sys::VA_FOURCC_NV12, 12, sys::VA_LSB_FIRST)
        );
        assert_eq!(
            (img.width, img.height, img.num_planes, img.data_size),
            (64, 48, 2, 64 * 48 * 3 / 2)
        );
        assert_eq!((img.pitches, img.offsets), ([64, 64, 0], [0, 64 * 48, 0]));
        assert_eq!(
            vt.vaGetImage.unwrap()(ctx, surface[0], 0, 0, 64, 48, img.image_id),
            VA_STATUS_SUCCESS
        );
        let mut p: *mut c_void = ptr::null_mut();
        assert_eq!(
            vt.vaMapBuffer.unwrap()(ctx, img.buf, &mut p),
            VA_STATUS_SUCCESS
        );
        let bytes = std::slice::from_raw_parts(p.cast::<u8>(), img.data_size as usize);
        for k in [0, 1, 63, 64, 64 * 48 - 1, 64 * 48, 64 * 48 * 3 / 2 - 1] {
            assert_eq!(bytes[k], nv12(k), "byte {k}");
        }
        assert_eq!(vt.vaUnmapBuffer.unwrap()(ctx, img.buf), VA_STATUS_SUCCESS);
        // vaDeriveImage: the same pixels, another image and buffer
        let mut der = sys::VAImage::default();
        assert_eq!(
            vt.vaDeriveImage.unwrap()(ctx, surface[0], &mut der),
            VA_STATUS_SUCCESS
        );
        assert!(der.image_id != img.image_id && der.buf != img.buf);
        assert_eq!(
            (der.width, der.height, der.format.fourcc),
            (64, 48, sys::VA_FOURCC_NV12)
        );
        assert_eq!(
            vt.vaMapBuffer.unwrap()(ctx, der.buf, &mut p),
            VA_STATUS_SUCCESS
        );
        let derived = std::slice::from_raw_parts(p.cast::<u8>(), der.data_size as usize);
        assert_eq!(derived, bytes);
        assert_eq!(
            vt.vaGetImage.unwrap()(ctx, surface[0], 0, 0, 64, 48, img.image_id),
            VA_STATUS_ERROR_SURFACE_BUSY
        );
        assert_eq!(
            vt.vaDestroyImage.unwrap()(ctx, der.image_id),
            VA_STATUS_SUCCESS
        );
        assert_eq!(
            vt.vaDestroyImage.unwrap()(ctx, der.image_id),
            VA_STATUS_ERROR_INVALID_IMAGE
        );
        // a surface without a picture: no derive (clients fall back to vaGetImage)
        assert_eq!(
            vt.vaDeriveImage.unwrap()(ctx, surface[1], &mut der),
            VA_STATUS_ERROR_OPERATION_FAILED
        );
        // null pointers, bad IDs, oversize rectangles
        assert_eq!(
            vt.vaCreateImage.unwrap()(ctx, ptr::null_mut(), 64, 48, &mut img),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaCreateImage.unwrap()(ctx, &mut f, 64, 48, ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaDeriveImage.unwrap()(ctx, surface[0], ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaGetImage.unwrap()(ctx, surface[0], 0, 0, 65, 48, img.image_id),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            vt.vaGetImage.unwrap()(ctx, 0xdead, 0, 0, 64, 48, img.image_id),
            VA_STATUS_ERROR_INVALID_SURFACE
        );
        assert_eq!(
            vt.vaGetImage.unwrap()(ctx, surface[0], 0, 0, 64, 48, img.image_id + 99),
            VA_STATUS_ERROR_INVALID_IMAGE
        );

        // vaExportSurfaceHandle, composed: one NV12 layer in one object
        let mut desc = sys::VADRMPRIMESurfaceDescriptor::default();
        let flags = sys::VA_EXPORT_SURFACE_READ_ONLY | sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS;
        let prime2 = sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;
        let export = vt.vaExportSurfaceHandle.unwrap();
        let dp = (&mut desc as *mut sys::VADRMPRIMESurfaceDescriptor).cast();
        assert_eq!(
            export(ctx, surface[0], prime2, flags, dp),
            VA_STATUS_SUCCESS
        );
        assert_eq!(
            (
                desc.fourcc,
                desc.width,
                desc.height,
                desc.num_objects,
                desc.num_layers
            ),
            (sys::VA_FOURCC_NV12, 64, 48, 1, 1)
        );
        assert_eq!(
            (desc.objects[0].size, desc.objects[0].drm_format_modifier),
            (64 * 48 * 3 / 2, 0)
        );
        let l = desc.layers[0];
        assert_eq!((l.drm_format, l.num_planes), (sys::VA_FOURCC_NV12, 2));
        assert_eq!((l.offset, l.pitch), ([0, 64 * 48, 0, 0], [64, 64, 0, 0]));
        // the fd is the client's: a file of its own to close
        let fd = desc.objects[0].fd;
        assert!(fd >= 0);
        let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        assert!(std::fs::File::from(owned).metadata().unwrap().is_file());
        // separate layers: R8 + GR88
        let flags = sys::VA_EXPORT_SURFACE_READ_ONLY | sys::VA_EXPORT_SURFACE_SEPARATE_LAYERS;
        assert_eq!(
            export(ctx, surface[0], prime2, flags, dp),
            VA_STATUS_SUCCESS
        );
        assert_eq!((desc.num_layers, desc.layers[1].offset[0]), (2, 64 * 48));
        assert_eq!(
            (desc.layers[0].drm_format, desc.layers[1].drm_format),
            (u32::from_le_bytes(*b"R8  "), u32::from_le_bytes(*b"GR88"))
        );
        drop(std::os::fd::OwnedFd::from_raw_fd(desc.objects[0].fd));
        // refused
        assert_eq!(
            export(ctx, surface[0], prime2, flags, ptr::null_mut()),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            export(
                ctx,
                surface[0],
                sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME,
                flags,
                dp
            ),
            VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE
        );
        // no decoded picture: a placeholder (here a file: testdev), the client's too
        assert_eq!(
            export(ctx, surface[1], prime2, flags, dp),
            VA_STATUS_SUCCESS
        );
        assert_eq!(
            (desc.num_objects, desc.num_layers, desc.objects[0].size),
            (1, 2, 8192)
        );
        let f = std::fs::File::from(std::os::fd::OwnedFd::from_raw_fd(desc.objects[0].fd));
        assert_eq!(f.metadata().unwrap().len(), 8192);
        assert_eq!(
            export(
                ctx,
                surface[0],
                prime2,
                sys::VA_EXPORT_SURFACE_READ_WRITE,
                dp
            ),
            VA_STATUS_ERROR_INVALID_SURFACE
        );
        assert_eq!(
            vt.vaDestroyImage.unwrap()(ctx, img.image_id),
            VA_STATUS_SUCCESS
        );
        assert_eq!(vt.vaTerminate.unwrap()(ctx), VA_STATUS_SUCCESS);
        assert_eq!(
            vt.vaGetImage.unwrap()(ctx, surface[0], 0, 0, 64, 48, img.image_id),
            VA_STATUS_ERROR_INVALID_DISPLAY
        );
    }
}

/// The placeholder allocator against a real `/dev/dma_heap/system` (run in
/// the VM by tests/vm/tier.sh, check `va-dma-heap`; the host may have no
/// heap): a dmabuf of the pages asked.
#[test]
#[ignore]
fn system_heap_gives_a_dmabuf() {
    use std::io::Seek;
    let fd = vreq_frame::dmaheap::system_heap_alloc(8192).unwrap();
    let mut f = std::fs::File::from(fd);
    assert_eq!(f.seek(std::io::SeekFrom::End(0)).unwrap(), 8192);
}
