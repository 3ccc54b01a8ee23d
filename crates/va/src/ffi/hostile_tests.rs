//! Bad input through the decode entry points, as a client (or a fuzzer)
//! could send it through libva: the vtable's `vaBeginPicture` /
//! `vaRenderPicture` / `vaEndPicture` / `vaSyncSurface` /
//! `vaQuerySurfaceStatus` (and the image / export slots) with random,
//! truncated and oversized parameter, IQ-matrix, slice-parameter and
//! slice-data buffers, lying element counts, buffers of the wrong type or of
//! another context, and stale or destroyed surfaces, contexts and buffers,
//! mid-picture too — for every profile the driver lists, on fake devices
//! (`vreq_testkit::fake::FakeDevice` behind `Driver::with_opener`).
//!
//! What must hold (issue 11, "Robustness"): every call returns a VA status
//! and none panics (the ffi's `guard` turns a panic into
//! `VA_STATUS_ERROR_OPERATION_FAILED`; [`super::CAUGHT_PANICS`] tells the
//! two apart), no call takes long and the storm ends (a watchdog thread),
//! memory stays bounded (the buffer caps), and afterwards a valid H.264
//! picture decodes on the same context and on a fresh one. A device error
//! (`V4L2_BUF_FLAG_ERROR`, a wait that times out) fails that surface only
//! ([`flagged_and_timed_out_pictures_fail_their_surface_only`]).
//!
//! The storm is a fixed-seed PRNG: `VREQ_HOSTILE_SEED` (decimal or `0x…`)
//! and `VREQ_HOSTILE_ITERS` (pictures per device set) change it; a failure
//! prints the seed, the iteration and the last calls.

use super::*;
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use vreq_core::{CodecKind, DecodeJob};
use vreq_testkit::fake::{device_info, FakeDevice};
use vreq_v4l2::profile::for_driver;
use vreq_v4l2::{Completed, DecoderDevice, DeviceError};

use crate::driver::Opener;
use crate::map::h264::tests::{blank_slice_params, idr_slice, params, seq_pic};
use crate::profiles;
use crate::testdev::{Wrap, Wrapped};

/// The storm's seed unless `VREQ_HOSTILE_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x4057_11E5_EED0_0011;
/// Pictures attempted per device set unless `VREQ_HOSTILE_ITERS` says otherwise.
const DEFAULT_ITERS: u64 = 5000;
/// The whole storm of one device set, at most (a hang fails the test here).
const WATCHDOG: Duration = Duration::from_secs(300);
/// One call, at most: the fakes never wait, so a call this slow is a loop
/// or a real timeout (`vreq_engine::DEVICE_TIMEOUT`, 5 s) being waited out.
/// (The slowest legitimate call, zero-filling a 25 MiB buffer, takes up to
/// 0.7 s in debug on a loaded machine.)
const SLOW_CALL: Duration = Duration::from_secs(4);
/// A valid picture on the anchor context every this many iterations.
const CANARY_EVERY: u64 = 50;
/// Heap the storm's thread may hold at once beyond what it held before:
/// the driver's live buffers (`MAX_LIVE_BUFFER_BYTES`, 256 MiB), one
/// picture's copies (`MAX_PICTURE_BYTES`, 64 MiB), one buffer being made
/// (64 MiB) and slack for the fakes' CAPTURE memory and bookkeeping.
const MAX_HEAP_GROWTH: i64 = 512 << 20;
/// The largest single allocation the storm may cause: a buffer at the
/// per-buffer cap (`MAX_BUFFER_BYTES`, 64 MiB) and a vector's doubling.
const MAX_ALLOCATION: i64 = 128 << 20;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn seed() -> u64 {
    env_u64("VREQ_HOSTILE_SEED").unwrap_or(DEFAULT_SEED)
}

fn iterations() -> u64 {
    env_u64("VREQ_HOSTILE_ITERS").unwrap_or(DEFAULT_ITERS)
}

/// The test binary's allocator: the system's, counting per thread the
/// bytes live, their peak and the largest single request. Per thread, so
/// that tests running beside a storm do not count; by request, not by
/// resident pages, so that an allocation the kernel overcommits (a huge
/// zeroed buffer never touched) counts too.
struct Counting;

thread_local! {
    static LIVE: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
    static PEAK: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
    static LARGEST: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// `delta` bytes allocated (or freed, negative) by this thread.
fn note_heap(delta: i64) {
    // try_with: nothing is counted while the thread's locals are torn down.
    let _ = LIVE.try_with(|l| {
        let v = l.get() + delta;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
    let _ = LARGEST.try_with(|m| m.set(m.get().max(delta)));
}

/// (live bytes, peak since the last call; largest request since the last
/// call) of this thread, and both reset.
fn heap_mark() -> (i64, i64, i64) {
    let live = LIVE.with(std::cell::Cell::get);
    let peak = PEAK.with(|p| p.replace(live));
    let largest = LARGEST.with(|m| m.replace(0));
    (live, peak, largest)
}

// SAFETY: every call goes to `System` with the caller's arguments
// unchanged; the counters are const thread-locals without destructors
// (no allocation, no re-entry).
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { std::alloc::System.alloc(layout) };
        if !p.is_null() {
            note_heap(layout.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        if !p.is_null() {
            note_heap(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { std::alloc::System.dealloc(ptr, layout) };
        note_heap(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new) };
        if !p.is_null() {
            note_heap(new as i64 - layout.size() as i64);
        }
        p
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// xorshift64*: a fixed sequence per seed, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True once in `n` times.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// Overwrites up to `k` random bytes of `b`.
    fn scribble(&mut self, b: &mut [u8], k: u64) {
        if b.is_empty() {
            return;
        }
        for _ in 0..=self.below(k) {
            let i = self.below(b.len() as u64) as usize;
            b[i] = self.next() as u8;
        }
    }
}

/// What libva allocates before calling init (va.c `va_openDriver`), kept
/// alive together.
struct Display {
    ctx: Box<sys::VADriverContext>,
    _vtable: Box<sys::VADriverVTable>,
}

impl Display {
    /// An initialised display over the devices `discover` lists, whose
    /// decoder sessions are `opener`'s devices.
    fn new(discover: fn() -> Result<Vec<DeviceInfo>, String>, opener: Opener) -> Display {
        // SAFETY: VADriverContext / VADriverVTable are C structs of pointers,
        // integers and Option<fn>: all-zero is what libva's calloc gives.
        let mut vtable: Box<sys::VADriverVTable> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: as above.
        let mut ctx: Box<sys::VADriverContext> = Box::new(unsafe { std::mem::zeroed() });
        ctx.vtable = &mut *vtable;
        let mut d = Display {
            ctx,
            _vtable: vtable,
        };
        // SAFETY: a context as libva makes it.
        assert_eq!(unsafe { driver_init(d.ptr(), discover) }, VA_STATUS_SUCCESS);
        // The exported init opens real V4L2 sessions; swap in the fakes. The
        // driver moves out of the mutex and back: its vendor CString's heap
        // buffer (str_vendor) does not move.
        // SAFETY: initialised just above.
        let mut drv = unsafe { lock(d.ptr()) }.unwrap();
        let devices = discover().unwrap();
        let real = std::mem::replace(&mut *drv, Driver::new(devices).unwrap());
        *drv = real.with_opener(opener);
        drop(drv);
        d
    }

    fn ptr(&mut self) -> VADriverContextP {
        &mut *self.ctx
    }

    fn vt(&self) -> sys::VADriverVTable {
        // SAFETY: points to our boxed vtable.
        unsafe { *self.ctx.vtable }
    }
}

fn visl() -> Result<Vec<DeviceInfo>, String> {
    Ok(vec![device_info(for_driver("visl", ""), 0)])
}

/// RK3588's two decoders: hantro (VP8, MPEG-2, H.264) and rkvdec (H.264 and
/// HEVC at 10 bits, VP9): every profile the driver knows, 10-bit ones too.
fn rk3588() -> Result<Vec<DeviceInfo>, String> {
    Ok(vec![
        device_info(for_driver("hantro-vpu", "rk3568-vpu"), 0),
        device_info(for_driver("rkvdec", "vdpu381"), 1),
    ])
}

/// Each session a `FakeDevice` of the routed device's profile.
fn fake_opener() -> Opener {
    Box::new(|info: &DeviceInfo, codec: CodecKind| {
        let profile = for_driver(&info.driver, &info.card);
        Ok(Box::new(FakeDevice::for_codec(profile, codec)) as Box<dyn DecoderDevice>)
    })
}

/// The last calls, shared with the watchdog so a hang names them.
type Trail = Arc<Mutex<VecDeque<String>>>;

/// The calls of one storm: each checked (a status, no caught panic, fast)
/// and counted.
struct Calls {
    vt: sys::VADriverVTable,
    ctx: VADriverContextP,
    seed: u64,
    iteration: u64,
    trail: Trail,
    /// (entry point, status) → calls.
    counts: BTreeMap<(&'static str, VAStatus), u64>,
    slowest: (Duration, String),
}

impl Calls {
    fn new(d: &mut Display, seed: u64, trail: Trail) -> Calls {
        Calls {
            vt: d.vt(),
            ctx: d.ptr(),
            seed,
            iteration: 0,
            trail,
            counts: BTreeMap::new(),
            slowest: (Duration::ZERO, String::new()),
        }
    }

    fn trail_text(&self) -> String {
        let t = self.trail.lock().unwrap_or_else(PoisonError::into_inner);
        t.iter().cloned().collect::<Vec<_>>().join("\n  ")
    }

    /// Runs one entry point call `name(args)` and checks it.
    fn call(&mut self, name: &'static str, args: String, f: impl FnOnce() -> VAStatus) -> VAStatus {
        let what = format!("#{} {name}({args})", self.iteration);
        {
            let mut t = self.trail.lock().unwrap_or_else(PoisonError::into_inner);
            if t.len() == 40 {
                t.pop_front();
            }
            t.push_back(what.clone());
        }
        let panics = CAUGHT_PANICS.with(std::cell::Cell::get);
        let start = Instant::now();
        let s = f();
        let took = start.elapsed();
        if let Some(last) = self
            .trail
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .back_mut()
        {
            last.push_str(&format!(" → {s:#x}"));
        }
        let ctx = || {
            format!(
                "seed {:#x} (VREQ_HOSTILE_SEED), iteration {}; last calls:\n  {}",
                self.seed,
                self.iteration,
                self.trail_text()
            )
        };
        assert_eq!(
            CAUGHT_PANICS.with(std::cell::Cell::get),
            panics,
            "{what} panicked (the guard returned {s:#x}); {}",
            ctx()
        );
        assert!(
            KNOWN_STATUSES.contains(&s),
            "{what}: status {s:#x}; {}",
            ctx()
        );
        assert!(took < SLOW_CALL, "{what} took {took:?}; {}", ctx());
        if took > self.slowest.0 {
            self.slowest = (took, what);
        }
        *self.counts.entry((name, s)).or_default() += 1;
        s
    }

    fn create_config(&mut self, profile: VAProfile) -> (VAStatus, VAConfigID) {
        let (vt, ctx) = (self.vt, self.ctx);
        let mut id = 0;
        let s = self.call("vaCreateConfig", format!("{profile}"), || {
            // SAFETY: initialised context; no attributes; id valid.
            unsafe {
                vt.vaCreateConfig.unwrap()(
                    ctx,
                    profile,
                    sys::VAEntrypointVLD,
                    ptr::null_mut(),
                    0,
                    &mut id,
                )
            }
        });
        (s, id)
    }

    fn create_surfaces(&mut self, n: usize) -> (VAStatus, Vec<VASurfaceID>) {
        let (vt, ctx) = (self.vt, self.ctx);
        let mut ids = vec![0; n];
        let s = self.call("vaCreateSurfaces2", format!("64x48 × {n}"), || {
            // SAFETY: initialised context; ids holds n entries; no attributes.
            unsafe {
                vt.vaCreateSurfaces2.unwrap()(
                    ctx,
                    sys::VA_RT_FORMAT_YUV420,
                    64,
                    48,
                    ids.as_mut_ptr(),
                    n as c_uint,
                    ptr::null_mut(),
                    0,
                )
            }
        });
        (s, ids)
    }

    fn destroy_surface(&mut self, id: VASurfaceID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        let mut ids = [id];
        self.call("vaDestroySurfaces", format!("{id:#x}"), || {
            // SAFETY: initialised context; ids holds 1 entry.
            unsafe { vt.vaDestroySurfaces.unwrap()(ctx, ids.as_mut_ptr(), 1) }
        })
    }

    fn create_context(
        &mut self,
        config: VAConfigID,
        targets: &mut [VASurfaceID],
    ) -> (VAStatus, VAContextID) {
        let (vt, ctx) = (self.vt, self.ctx);
        let mut id = 0;
        let n = targets.len() as c_int;
        let s = self.call(
            "vaCreateContext",
            format!("{config:#x}, 64x48, {targets:x?}"),
            || {
                // SAFETY: initialised context; targets holds n entries; id valid.
                unsafe {
                    vt.vaCreateContext.unwrap()(
                        ctx,
                        config,
                        64,
                        48,
                        sys::VA_PROGRESSIVE as c_int,
                        targets.as_mut_ptr(),
                        n,
                        &mut id,
                    )
                }
            },
        );
        (s, id)
    }

    fn destroy_context(&mut self, id: VAContextID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call("vaDestroyContext", format!("{id:#x}"), || {
            // SAFETY: initialised context.
            unsafe { vt.vaDestroyContext.unwrap()(ctx, id) }
        })
    }

    /// `vaCreateBuffer` of `num` elements of `size` bytes from `data`
    /// (exactly `size * num` bytes) or zero-filled (`None`).
    fn create_buffer(
        &mut self,
        context: VAContextID,
        type_: VABufferType,
        size: u32,
        num: u32,
        data: Option<&mut [u8]>,
    ) -> (VAStatus, VABufferID) {
        let (vt, ctx) = (self.vt, self.ctx);
        let mut id = 0;
        let p: *mut c_void = match data {
            Some(d) => {
                assert_eq!(d.len() as u64, u64::from(size) * u64::from(num));
                d.as_mut_ptr().cast()
            }
            None => ptr::null_mut(),
        };
        let s = self.call(
            "vaCreateBuffer",
            format!(
                "{context:#x}, type {type_}, {size} × {num}, {}",
                if p.is_null() { "null" } else { "data" }
            ),
            || {
                // SAFETY: initialised context; p null or valid for size * num
                // bytes (asserted above); id valid.
                unsafe { vt.vaCreateBuffer.unwrap()(ctx, context, type_, size, num, p, &mut id) }
            },
        );
        (s, id)
    }

    fn destroy_buffer(&mut self, id: VABufferID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call("vaDestroyBuffer", format!("{id:#x}"), || {
            // SAFETY: initialised context.
            unsafe { vt.vaDestroyBuffer.unwrap()(ctx, id) }
        })
    }

    fn begin(&mut self, context: VAContextID, target: VASurfaceID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call(
            "vaBeginPicture",
            format!("{context:#x}, {target:#x}"),
            || {
                // SAFETY: initialised context.
                unsafe { vt.vaBeginPicture.unwrap()(ctx, context, target) }
            },
        )
    }

    /// `vaRenderPicture` with the array `ids` and the count `n` (≤
    /// `ids.len()`, or negative), or a null array.
    fn render(
        &mut self,
        context: VAContextID,
        ids: &mut [VABufferID],
        n: c_int,
        null: bool,
    ) -> VAStatus {
        assert!(n <= ids.len() as c_int);
        let (vt, ctx) = (self.vt, self.ctx);
        let p = if null {
            ptr::null_mut()
        } else {
            ids.as_mut_ptr()
        };
        self.call(
            "vaRenderPicture",
            format!(
                "{context:#x}, {:x?}{}, {n}",
                ids,
                if null { " (null)" } else { "" }
            ),
            || {
                // SAFETY: initialised context; p null or valid for n ≤ ids.len() IDs.
                unsafe { vt.vaRenderPicture.unwrap()(ctx, context, p, n) }
            },
        )
    }

    fn end(&mut self, context: VAContextID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call("vaEndPicture", format!("{context:#x}"), || {
            // SAFETY: initialised context.
            unsafe { vt.vaEndPicture.unwrap()(ctx, context) }
        })
    }

    fn sync(&mut self, surface: VASurfaceID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call("vaSyncSurface", format!("{surface:#x}"), || {
            // SAFETY: initialised context.
            unsafe { vt.vaSyncSurface.unwrap()(ctx, surface) }
        })
    }

    /// `vaQuerySurfaceStatus`; the status written (`None` with a null pointer).
    fn query(&mut self, surface: VASurfaceID, null: bool) -> (VAStatus, VASurfaceStatus) {
        let (vt, ctx) = (self.vt, self.ctx);
        let mut st: VASurfaceStatus = 0;
        let p: *mut VASurfaceStatus = if null { ptr::null_mut() } else { &mut st };
        let s = self.call("vaQuerySurfaceStatus", format!("{surface:#x}"), || {
            // SAFETY: initialised context; p null or valid.
            unsafe { vt.vaQuerySurfaceStatus.unwrap()(ctx, surface, p) }
        });
        (s, st)
    }

    /// The buffer's storage overwritten with random bytes between
    /// `vaMapBuffer` and `vaUnmapBuffer` (a client writing after render).
    fn scribble_mapped(&mut self, id: VABufferID, rng: &mut Rng) {
        let (vt, ctx) = (self.vt, self.ctx);
        let (mut t, mut size, mut num) = (0, 0, 0);
        let s = self.call("vaBufferInfo", format!("{id:#x}"), || {
            // SAFETY: initialised context; out-pointers valid.
            unsafe { vt.vaBufferInfo.unwrap()(ctx, id, &mut t, &mut size, &mut num) }
        });
        if s != VA_STATUS_SUCCESS {
            return;
        }
        let mut p: *mut c_void = ptr::null_mut();
        let s = self.call("vaMapBuffer", format!("{id:#x}"), || {
            // SAFETY: initialised context; p valid.
            unsafe { vt.vaMapBuffer.unwrap()(ctx, id, &mut p) }
        });
        if s == VA_STATUS_SUCCESS {
            assert!(!p.is_null());
            // The storage holds the bytes as created: size × the elements
            // created (vaBufferSetNumElements only lowers the count, and
            // `num` may be that lowered count: stay within it).
            let n = size as usize * num as usize;
            // SAFETY: the driver's mapped storage is valid for the buffer's
            // bytes until vaDestroyBuffer; nothing else aliases it now.
            let bytes = unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), n) };
            rng.scribble(bytes, 16);
            self.call("vaUnmapBuffer", format!("{id:#x}"), || {
                // SAFETY: initialised context.
                unsafe { vt.vaUnmapBuffer.unwrap()(ctx, id) }
            });
        }
    }

    fn set_num_elements(&mut self, id: VABufferID, n: u32) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call("vaBufferSetNumElements", format!("{id:#x}, {n}"), || {
            // SAFETY: initialised context.
            unsafe { vt.vaBufferSetNumElements.unwrap()(ctx, id, n) }
        })
    }

    /// The image and export slots on `surface` (`crate::image`,
    /// `crate::export`; a status whatever the surface holds). What they make
    /// is released.
    fn images(&mut self, surface: VASurfaceID, rng: &mut Rng) {
        let (vt, ctx) = (self.vt, self.ctx);
        // SAFETY: all-zero is a valid VAImage (integers).
        let mut image: sys::VAImage = unsafe { std::mem::zeroed() };
        match rng.below(4) {
            0 => {
                let s = self.call("vaDeriveImage", format!("{surface:#x}"), || {
                    // SAFETY: initialised context; image valid.
                    unsafe { vt.vaDeriveImage.unwrap()(ctx, surface, &mut image) }
                });
                if s == VA_STATUS_SUCCESS {
                    self.destroy_image(image.image_id);
                }
            }
            1 => {
                // SAFETY: all-zero is a valid VAImageFormat (integers).
                let mut f: sys::VAImageFormat = unsafe { std::mem::zeroed() };
                f.fourcc = rng.pick(&[sys::VA_FOURCC_NV12, sys::VA_FOURCC_P010, 0, u32::MAX]);
                let (w, h) = (
                    rng.pick(&[0, 64, 4096, -1]),
                    rng.pick(&[0, 48, 1 << 20, -1]),
                );
                let s = self.call("vaCreateImage", format!("{:#x}, {w}x{h}", f.fourcc), || {
                    // SAFETY: initialised context; f and image valid.
                    unsafe { vt.vaCreateImage.unwrap()(ctx, &mut f, w, h, &mut image) }
                });
                if s == VA_STATUS_SUCCESS {
                    let id = image.image_id;
                    let (x, y) = (rng.pick(&[0, 8, -1]), rng.pick(&[0, 8, -1]));
                    let (gw, gh) = (rng.pick(&[0u32, 64, u32::MAX]), rng.pick(&[0u32, 48, 4096]));
                    self.call(
                        "vaGetImage",
                        format!("{surface:#x}, {x},{y} {gw}x{gh}, {id:#x}"),
                        || {
                            // SAFETY: initialised context.
                            unsafe { vt.vaGetImage.unwrap()(ctx, surface, x, y, gw, gh, id) }
                        },
                    );
                    self.destroy_image(id);
                }
            }
            2 => {
                let id = rng.pick(&[0, sys::VA_INVALID_ID, crate::objects::IMAGE_IDS.base]);
                self.call("vaGetImage", format!("{surface:#x}, stale {id:#x}"), || {
                    // SAFETY: initialised context.
                    unsafe { vt.vaGetImage.unwrap()(ctx, surface, 0, 0, 64, 48, id) }
                });
                self.destroy_image(id);
            }
            _ => {
                // SAFETY: all-zero is a valid descriptor (integers).
                let mut desc: sys::VADRMPRIMESurfaceDescriptor = unsafe { std::mem::zeroed() };
                for o in &mut desc.objects {
                    o.fd = -1;
                }
                let mem = rng.pick(&[sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2, 0, 1, u32::MAX]);
                let flags = rng.pick(&[sys::VA_EXPORT_SURFACE_READ_ONLY, 0, 0x7, u32::MAX]);
                let s = self.call(
                    "vaExportSurfaceHandle",
                    format!("{surface:#x}, {mem:#x}, {flags:#x}"),
                    || {
                        // SAFETY: initialised context; desc is a DRM PRIME 2 descriptor.
                        unsafe {
                            vt.vaExportSurfaceHandle.unwrap()(
                                ctx,
                                surface,
                                mem,
                                flags,
                                (&mut desc as *mut sys::VADRMPRIMESurfaceDescriptor).cast(),
                            )
                        }
                    },
                );
                if s == VA_STATUS_SUCCESS {
                    let n = (desc.num_objects as usize).min(desc.objects.len());
                    for o in &desc.objects[..n] {
                        if o.fd >= 0 {
                            // SAFETY: the export handed this fd to us, once.
                            drop(unsafe { OwnedFd::from_raw_fd(o.fd) });
                        }
                    }
                }
            }
        }
    }

    fn destroy_image(&mut self, id: sys::VAImageID) -> VAStatus {
        let (vt, ctx) = (self.vt, self.ctx);
        self.call("vaDestroyImage", format!("{id:#x}"), || {
            // SAFETY: initialised context.
            unsafe { vt.vaDestroyImage.unwrap()(ctx, id) }
        })
    }

    /// The buffers of a valid H.264 IDR picture into `target` on `context`
    /// (picture parameters, slice parameters, slice data), each created.
    fn idr_buffers(&mut self, context: VAContextID, target: VASurfaceID) -> Vec<sys::VABufferID> {
        let (sq, pc) = seq_pic();
        let mut pp = params(sq, pc);
        pp.CurrPic.picture_id = target;
        let mut idr = idr_slice();
        let sp = blank_slice_params(idr.len(), 2);
        let mut pb = bytes_of(&pp).to_vec();
        let mut sb = bytes_of(&sp).to_vec();
        let mut ids = Vec::new();
        for (t, b) in [
            (sys::VAPictureParameterBufferType, &mut pb),
            (sys::VASliceParameterBufferType, &mut sb),
            (sys::VASliceDataBufferType, &mut idr),
        ] {
            let (s, id) = self.create_buffer(context, t, b.len() as u32, 1, Some(b));
            assert_eq!(s, VA_STATUS_SUCCESS, "{}", self.trail_text());
            ids.push(id);
        }
        ids
    }

    /// A valid H.264 IDR picture into `target` on `context`: every call
    /// succeeds, the surface is ready and holds a frame.
    fn valid_idr(&mut self, context: VAContextID, target: VASurfaceID) {
        let mut ids = self.idr_buffers(context, target);
        let n = ids.len() as c_int;
        let ok = [
            self.begin(context, target),
            self.render(context, &mut ids, n, false),
            self.end(context),
            self.sync(target),
            self.query(target, false).0,
        ];
        assert_eq!(
            ok,
            [VA_STATUS_SUCCESS; 5],
            "a valid IDR on context {context:#x} into {target:#x} (begin, render, end, sync, \
             query); seed {:#x}, iteration {}; last calls:\n  {}",
            self.seed,
            self.iteration,
            self.trail_text()
        );
        assert_eq!(self.query(target, false).1, sys::VASurfaceReady);
        // SAFETY: initialised context.
        let d = unsafe { lock(self.ctx) }.unwrap();
        assert!(
            d.decoder(context)
                .and_then(|dec| dec.frame(target))
                .is_some(),
            "no frame on {target:#x}"
        );
        drop(d);
        for id in ids {
            assert_eq!(self.destroy_buffer(id), VA_STATUS_SUCCESS);
        }
    }
}

/// A context of the storm.
#[derive(Clone, Copy)]
struct Ctx {
    id: VAContextID,
    codec: CodecKind,
}

/// The storm's objects: live, and dead (destroyed IDs kept to be used again).
struct Pools {
    configs: Vec<(VAConfigID, CodecKind)>,
    contexts: Vec<Ctx>,
    /// The H.264 context never destroyed (the "same context" after the storm).
    anchor: Ctx,
    surfaces: Vec<VASurfaceID>,
    buffers: Vec<VABufferID>,
    dead_contexts: Vec<VAContextID>,
    dead_surfaces: Vec<VASurfaceID>,
    dead_buffers: Vec<VABufferID>,
}

const GARBAGE_IDS: [u32; 4] = [0, sys::VA_INVALID_ID, 0x7FFF_FFFF, 0x1234];

impl Pools {
    fn context(&self, rng: &mut Rng) -> (VAContextID, Option<Ctx>) {
        match rng.below(20) {
            0 if !self.dead_contexts.is_empty() => (rng.pick(&self.dead_contexts), None),
            1 => (rng.pick(&GARBAGE_IDS), None),
            2..=6 => (self.anchor.id, Some(self.anchor)),
            _ => {
                let c = rng.pick(&self.contexts);
                (c.id, Some(c))
            }
        }
    }

    fn surface(&self, rng: &mut Rng) -> VASurfaceID {
        match rng.below(20) {
            0 if !self.dead_surfaces.is_empty() => rng.pick(&self.dead_surfaces),
            1 => rng.pick(&GARBAGE_IDS),
            _ => rng.pick(&self.surfaces),
        }
    }

    /// A buffer ID to render besides the picture's own: another context's,
    /// destroyed, or garbage.
    fn stray_buffer(&self, rng: &mut Rng) -> VABufferID {
        match rng.below(3) {
            0 if !self.buffers.is_empty() => rng.pick(&self.buffers),
            1 if !self.dead_buffers.is_empty() => rng.pick(&self.dead_buffers),
            _ => rng.pick(&GARBAGE_IDS),
        }
    }
}

/// One buffer to create: type, element size, element count, bytes (exactly
/// `size * num`, or `None`: zero-filled by the driver).
struct Spec {
    type_: VABufferType,
    size: u32,
    num: u32,
    data: Option<Vec<u8>>,
}

impl Spec {
    fn of(type_: VABufferType, bytes: Vec<u8>) -> Spec {
        Spec {
            type_,
            size: bytes.len() as u32,
            num: 1,
            data: Some(bytes),
        }
    }
}

/// The VA structs of `codec` (picture parameters, IQ / quantisation matrix,
/// slice parameters), by size: what a client of that codec sends.
fn struct_sizes(codec: CodecKind) -> [usize; 3] {
    use std::mem::size_of;
    match codec {
        CodecKind::H264 => [
            size_of::<sys::VAPictureParameterBufferH264>(),
            size_of::<sys::VAIQMatrixBufferH264>(),
            size_of::<sys::VASliceParameterBufferH264>(),
        ],
        CodecKind::Hevc => [
            size_of::<sys::VAPictureParameterBufferHEVC>(),
            size_of::<sys::VAIQMatrixBufferHEVC>(),
            size_of::<sys::VASliceParameterBufferHEVC>(),
        ],
        CodecKind::Vp8 => [
            size_of::<sys::VAPictureParameterBufferVP8>(),
            size_of::<sys::VAIQMatrixBufferVP8>(),
            size_of::<sys::VASliceParameterBufferVP8>(),
        ],
        CodecKind::Vp9 => [
            size_of::<sys::VADecPictureParameterBufferVP9>(),
            0,
            size_of::<sys::VASliceParameterBufferVP9>(),
        ],
        CodecKind::Mpeg2 => [
            size_of::<sys::VAPictureParameterBufferMPEG2>(),
            size_of::<sys::VAIQMatrixBufferMPEG2>(),
            size_of::<sys::VASliceParameterBufferMPEG2>(),
        ],
    }
}

/// A surface ID for a reference field: a live one, a dead one, garbage.
fn ref_surface(rng: &mut Rng, pools: &Pools, target: VASurfaceID) -> VASurfaceID {
    match rng.below(6) {
        0 => target,
        1 if !pools.dead_surfaces.is_empty() => rng.pick(&pools.dead_surfaces),
        2 => rng.pick(&GARBAGE_IDS),
        _ => rng.pick(&pools.surfaces),
    }
}

/// An H.264 picture near a valid one: the valid IDR of
/// `map::h264::tests`, then lies (sizes, offsets, flags, counts,
/// references) and random bytes.
fn h264_picture(
    rng: &mut Rng,
    pools: &Pools,
    target: VASurfaceID,
    device_limits: bool,
) -> Vec<Spec> {
    let (sq, pc) = seq_pic();
    let mut pp = params(sq, pc);
    // A third of the pictures are valid: they reach the device.
    let clean = rng.one_in(3);
    let fault = |rng: &mut Rng, n| !clean && rng.one_in(n);
    pp.CurrPic.picture_id = if fault(rng, 8) {
        ref_surface(rng, pools, target)
    } else {
        target
    };
    if fault(rng, 3) {
        pp.frame_num = rng.below(20) as u16;
        for r in pp.ReferenceFrames.iter_mut().take(rng.below(17) as usize) {
            r.picture_id = ref_surface(rng, pools, target);
            r.frame_idx = rng.below(40) as u32;
            let any = rng.next() as u32;
            r.flags = rng.pick(&[
                sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
                sys::VA_PICTURE_H264_LONG_TERM_REFERENCE,
                sys::VA_PICTURE_H264_TOP_FIELD | sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
                sys::VA_PICTURE_H264_INVALID,
                any,
            ]);
            r.TopFieldOrderCnt = rng.next() as i32 % 64;
            r.BottomFieldOrderCnt = rng.next() as i32;
        }
    }
    match if clean { 99 } else { rng.below(12) } {
        // Sizes the device may not decode (coded size past its maximum,
        // 10-bit on an 8-bit device) or that overflow derived values.
        0 if device_limits => {
            pp.picture_width_in_mbs_minus1 = rng.pick(&[0, 255, 1023, u16::MAX]);
            pp.picture_height_in_mbs_minus1 = rng.pick(&[0, 255, 1023, u16::MAX]);
        }
        1 if device_limits => pp.bit_depth_luma_minus8 = rng.pick(&[2, 6, 255]),
        2 if device_limits => pp.num_ref_frames = rng.pick(&[0, 16, 17, 255]),
        3 => pp.seq_fields.value = rng.next() as u32,
        4 => pp.pic_fields.value = rng.next() as u32,
        5 => {
            pp.num_slice_groups_minus1 = rng.pick(&[1, 7, 255]);
            pp.slice_group_map_type = rng.below(8) as u8;
        }
        _ => {}
    }
    let mut pbytes = bytes_of(&pp).to_vec();
    if fault(rng, 6) {
        rng.scribble(&mut pbytes, 32);
    }

    let mut data = match if clean { 99 } else { rng.below(10) } {
        0 => {
            let n = 1 + rng.below(300) as usize;
            rng.bytes(n)
        }
        1 => {
            let mut d = idr_slice();
            d.truncate(rng.below(d.len() as u64) as usize + 1);
            d
        }
        2 => [&[0, 0, 1][..], &idr_slice()].concat(),
        3 => {
            let mut d = idr_slice();
            rng.scribble(&mut d, 4);
            d
        }
        4 => vec![0; 1 + rng.below(8) as usize],
        _ => idr_slice(),
    };
    let slice_type = if clean {
        2
    } else {
        rng.pick(&[2, 2, 7, 0, 1, 4, 255])
    };
    let mut sp = blank_slice_params(data.len(), slice_type);
    match if clean { 99 } else { rng.below(14) } {
        0 => sp.slice_data_size = data.len() as u32 + 1 + rng.below(100) as u32,
        1 => sp.slice_data_size = u32::MAX,
        2 => sp.slice_data_offset = rng.pick(&[1, data.len() as u32, u32::MAX]),
        3 => {
            sp.slice_data_flag = rng.pick(&[
                sys::VA_SLICE_DATA_FLAG_BEGIN,
                sys::VA_SLICE_DATA_FLAG_MIDDLE,
                sys::VA_SLICE_DATA_FLAG_END,
                u32::MAX,
            ])
        }
        4 => sp.slice_data_bit_offset = rng.next() as u16,
        5 => {
            sp.num_ref_idx_l0_active_minus1 = rng.pick(&[1, 31, 32, 255]);
            sp.num_ref_idx_l1_active_minus1 = rng.pick(&[0, 31, 32, 255]);
            for r in sp.RefPicList0.iter_mut().chain(sp.RefPicList1.iter_mut()) {
                if rng.one_in(2) {
                    r.picture_id = ref_surface(rng, pools, target);
                    r.flags = rng.next() as u32;
                }
            }
        }
        6 => {
            sp.luma_log2_weight_denom = rng.next() as u8;
            sp.chroma_log2_weight_denom = rng.next() as u8;
            sp.luma_weight_l0_flag = 1;
            sp.chroma_weight_l0_flag = 1;
            sp.num_ref_idx_l0_active_minus1 = rng.next() as u8;
        }
        7 => sp.first_mb_in_slice = rng.pick(&[12, 0xFFFF]),
        8 => sp.disable_deblocking_filter_idc = rng.next() as u8,
        _ => {}
    }
    let mut sbytes = bytes_of(&sp).to_vec();
    if fault(rng, 8) {
        rng.scribble(&mut sbytes, 32);
    }

    let mut specs = Vec::new();
    if !fault(rng, 12) {
        specs.push(Spec::of(sys::VAPictureParameterBufferType, pbytes));
    }
    if rng.one_in(4) {
        let mut iq = vec![16u8; struct_sizes(CodecKind::H264)[1]];
        if fault(rng, 2) {
            rng.scribble(&mut iq, 64);
        }
        specs.push(Spec::of(sys::VAIQMatrixBufferType, iq));
    }
    match if clean { 99 } else { rng.below(10) } {
        // Two slices in one parameter buffer (num_elements 2), the second
        // maybe random.
        0 => {
            let mut two = sbytes.clone();
            let mut second = sbytes.clone();
            if fault(rng, 2) {
                rng.scribble(&mut second, 64);
            }
            two.extend_from_slice(&second);
            specs.push(Spec {
                type_: sys::VASliceParameterBufferType,
                size: sbytes.len() as u32,
                num: 2,
                data: Some(two),
            });
        }
        // Parameters without data, or data without parameters.
        1 => specs.push(Spec::of(sys::VASliceParameterBufferType, sbytes)),
        2 => {}
        _ => specs.push(Spec::of(sys::VASliceParameterBufferType, sbytes)),
    }
    if !matches!(specs.last(), Some(s) if s.type_ == sys::VASliceParameterBufferType)
        || !fault(rng, 12)
    {
        specs.push(Spec::of(
            sys::VASliceDataBufferType,
            std::mem::take(&mut data),
        ));
    }
    // A second slice (parameters and data again), sometimes.
    if rng.one_in(6) {
        let d = idr_slice();
        let s = blank_slice_params(d.len(), 2);
        specs.push(Spec::of(
            sys::VASliceParameterBufferType,
            bytes_of(&s).to_vec(),
        ));
        specs.push(Spec::of(sys::VASliceDataBufferType, d));
    }
    if fault(rng, 3) {
        mangle(rng, &mut specs, CodecKind::H264);
    }
    if !device_limits {
        for s in &mut specs {
            fit_the_device(s);
        }
    }
    specs
}

/// Picture parameters whatever their bytes, but with a coded size, bit
/// depth and DPB every fake device decodes (at most 256 × 256 pixels, 8
/// bits, `num_ref_frames` ≤ 16), so that the engine configures the device.
fn fit_the_device(s: &mut Spec) {
    let Some(d) = s.data.as_mut() else { return };
    if s.type_ != sys::VAPictureParameterBufferType {
        return;
    }
    let Some(mut pp) = read_element::<sys::VAPictureParameterBufferH264>(d, 0) else {
        return;
    };
    pp.picture_width_in_mbs_minus1 %= 16;
    pp.picture_height_in_mbs_minus1 %= 16;
    pp.bit_depth_luma_minus8 = 0;
    pp.bit_depth_chroma_minus8 = 0;
    pp.num_ref_frames %= 17;
    let b = bytes_of(&pp);
    d[..b.len()].copy_from_slice(b);
}

/// A picture of a codec without a mapping yet, or any picture gone wrong:
/// its structs' sizes (± a byte) filled with random bytes, any buffer type.
fn random_picture(rng: &mut Rng, codec: CodecKind) -> Vec<Spec> {
    let sizes = struct_sizes(codec);
    let types = [
        sys::VAPictureParameterBufferType,
        sys::VAIQMatrixBufferType,
        sys::VASliceParameterBufferType,
    ];
    let mut specs = Vec::new();
    for (t, size) in types.into_iter().zip(sizes) {
        if size == 0 || rng.one_in(4) {
            continue;
        }
        let size = match rng.below(6) {
            0 => size - 1,
            1 => size + 1,
            2 => size / 2,
            _ => size,
        };
        specs.push(Spec::of(t, rng.bytes(size.max(1))));
    }
    if codec == CodecKind::Vp8 && rng.one_in(2) {
        let n = std::mem::size_of::<sys::VAProbabilityDataBufferVP8>();
        specs.push(Spec::of(sys::VAProbabilityBufferType, rng.bytes(n)));
    }
    let n = 1 + rng.below(512) as usize;
    specs.push(Spec::of(sys::VASliceDataBufferType, rng.bytes(n)));
    mangle(rng, &mut specs, codec);
    specs
}

/// Lies about the buffers: truncated or oversized structs, element counts
/// that do not match, wrong types, zero-filled storage, the order shuffled.
fn mangle(rng: &mut Rng, specs: &mut Vec<Spec>, codec: CodecKind) {
    let sizes = struct_sizes(codec);
    for s in specs.iter_mut() {
        match rng.below(10) {
            0 => {
                // truncated
                if let Some(d) = &mut s.data {
                    let keep = rng.below(d.len() as u64) as usize;
                    d.truncate(keep.max(1));
                    s.size = d.len() as u32;
                    s.num = 1;
                }
            }
            1 => {
                // oversized: trailing garbage
                if let Some(d) = &mut s.data {
                    let n = 1 + rng.below(64) as usize;
                    let more = rng.bytes(n);
                    d.extend_from_slice(&more);
                    s.size = d.len() as u32;
                    s.num = 1;
                }
            }
            2 => {
                // a count that splits the bytes into too-short elements
                if let Some(d) = &s.data {
                    let num = rng.pick(&[2u32, 3, 7]);
                    let size = (d.len() as u32 / num).max(1);
                    s.size = size;
                    s.num = num;
                    s.data = Some(rng.bytes((size * num) as usize));
                }
            }
            3 => {
                s.type_ = rng.pick(&[
                    sys::VAPictureParameterBufferType,
                    sys::VAIQMatrixBufferType,
                    sys::VASliceParameterBufferType,
                    sys::VASliceDataBufferType,
                    sys::VAProbabilityBufferType,
                    sys::VABitPlaneBufferType,
                    sys::VAEncCodedBufferType,
                    sys::VAImageBufferType,
                    99,
                    u32::MAX,
                ]);
            }
            4 => {
                s.data = None;
            }
            _ => {}
        }
    }
    if rng.one_in(4) && specs.len() > 1 {
        let (a, b) = (
            rng.below(specs.len() as u64) as usize,
            rng.below(specs.len() as u64) as usize,
        );
        specs.swap(a, b);
    }
    if rng.one_in(40) {
        // Many slices of zeros: up to past the picture's cap (MAX_SLICES;
        // rarely: 25 MiB zero-filled take 0.3 s in debug).
        let past = crate::picture::MAX_SLICES as u32 + 1;
        let n = rng.pick(&[2u32, 100, 100, 100, 100, past]);
        specs.push(Spec {
            type_: sys::VASliceParameterBufferType,
            size: sizes[2].max(1) as u32,
            num: n,
            data: None,
        });
    }
    if rng.one_in(40) {
        // Sizes whose product overflows or passes the per-buffer cap.
        let (size, num) = rng.pick(&[
            (u32::MAX, u32::MAX),
            (u32::MAX, 2),
            (1 << 16, 1 << 16),
            ((64 << 20) + 1, 1),
        ]);
        specs.push(Spec {
            type_: sys::VASliceDataBufferType,
            size,
            num,
            data: None,
        });
    }
}

/// One storm over the devices `discover` lists: `iters` pictures attempted
/// with `seed`; pictures past the device's limits only with
/// `device_limits` (else [`fit_the_device`]). Returns the calls' statuses
/// (for the caller's coverage checks).
fn storm(
    discover: fn() -> Result<Vec<DeviceInfo>, String>,
    seed: u64,
    iters: u64,
    device_limits: bool,
    trail: Trail,
) -> Outcome {
    let mut display = Display::new(discover, fake_opener());
    let mut c = Calls::new(&mut display, seed, trail);
    let mut rng = Rng::new(seed);
    let (heap_before, _, _) = heap_mark();

    // Every profile the driver lists: a config and a context each.
    let profiles_ = {
        // SAFETY: the driver's own state behind an initialised context.
        let d = unsafe { lock(c.ctx) }.unwrap();
        d.query_config_profiles().to_vec()
    };
    assert!(!profiles_.is_empty());
    let (s, surfaces) = c.create_surfaces(12);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let (s, canary) = c.create_surfaces(2);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let mut configs = Vec::new();
    let mut contexts = Vec::new();
    for &p in &profiles_ {
        let (s, id) = c.create_config(p);
        assert_eq!(s, VA_STATUS_SUCCESS, "profile {p}");
        let codec = profiles::info(p).unwrap().codec;
        configs.push((id, codec));
        let (s, ctx) = c.create_context(id, &mut []);
        assert_eq!(s, VA_STATUS_SUCCESS, "profile {p}");
        contexts.push(Ctx { id: ctx, codec });
    }
    let h264 = *configs
        .iter()
        .find(|(_, codec)| *codec == CodecKind::H264)
        .expect("an H.264 profile");
    let (s, anchor) = c.create_context(h264.0, &mut []);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let anchor = Ctx {
        id: anchor,
        codec: CodecKind::H264,
    };
    let mut pools = Pools {
        configs,
        contexts,
        anchor,
        surfaces,
        buffers: Vec::new(),
        dead_contexts: Vec::new(),
        dead_surfaces: Vec::new(),
        dead_buffers: Vec::new(),
    };
    c.valid_idr(anchor.id, canary[0]);

    for i in 0..iters {
        c.iteration = i;
        let (context, known) = pools.context(&mut rng);
        let target = pools.surface(&mut rng);
        let codec = known.map_or(CodecKind::H264, |k| k.codec);
        let specs = if codec == CodecKind::H264 && !rng.one_in(10) {
            h264_picture(&mut rng, &pools, target, device_limits)
        } else {
            let mut specs = random_picture(&mut rng, codec);
            if !device_limits && codec == CodecKind::H264 {
                specs.iter_mut().for_each(fit_the_device);
            }
            specs
        };

        // A third of the call sequences are as a client makes them.
        let calm = rng.one_in(3);
        if calm || !rng.one_in(10) {
            c.begin(context, target);
        }
        // The picture's buffers, on its context (or another one).
        let mut ids = Vec::new();
        let mut scribbled = Vec::new();
        for mut s in specs {
            let on = if !calm && rng.one_in(15) {
                pools.context(&mut rng).0
            } else {
                context
            };
            let (st, id) = c.create_buffer(on, s.type_, s.size, s.num, s.data.as_deref_mut());
            if st == VA_STATUS_SUCCESS {
                ids.push(id);
                // Picture parameters keep fitting the device unless asked.
                if device_limits || s.type_ != sys::VAPictureParameterBufferType {
                    scribbled.push(id);
                }
            }
        }
        let mut mine = ids.clone();
        if !calm && rng.one_in(6) {
            let stray = pools.stray_buffer(&mut rng);
            let at = rng.below(ids.len() as u64 + 1) as usize;
            ids.insert(at, stray);
        }
        if !calm && rng.one_in(12) && !ids.is_empty() {
            ids.push(ids[0]); // the same buffer twice
        }
        // Chaos between the picture's calls.
        if !calm && rng.one_in(10) && !scribbled.is_empty() {
            let id = rng.pick(&scribbled);
            c.scribble_mapped(id, &mut rng);
        }
        if !calm && rng.one_in(10) && !mine.is_empty() {
            let id = rng.pick(&mine);
            c.set_num_elements(id, rng.pick(&[0, 1, 2, 9000, u32::MAX]));
        }
        if !calm && rng.one_in(15) && !mine.is_empty() {
            // destroyed before it is rendered
            let id = mine.swap_remove(rng.below(mine.len() as u64) as usize);
            c.destroy_buffer(id);
            pools.dead_buffers.push(id);
        }
        // Rendered in up to three calls; lying counts and null arrays.
        let mut rest: &mut [VABufferID] = &mut ids;
        let calls = 1 + rng.below(3);
        for k in 0..calls {
            let take = if k + 1 == calls {
                rest.len()
            } else {
                rng.below(rest.len() as u64 + 1) as usize
            };
            let (now, later) = std::mem::take(&mut rest).split_at_mut(take);
            let (n, null) = match if calm { 99 } else { rng.below(30) } {
                0 => (-1, false),
                1 => (c_int::MIN, false),
                2 if !now.is_empty() => (now.len() as c_int, true),
                3 => (0, false),
                _ => (now.len() as c_int, false),
            };
            c.render(context, now, n, null);
            if rng.one_in(4) && !scribbled.is_empty() {
                // scribbled after render: the driver copied at render (and
                // a leaked buffer may be rendered again later)
                let id = rng.pick(&scribbled);
                c.scribble_mapped(id, &mut rng);
            }
            rest = later;
        }
        if !calm && rng.one_in(25) && target != canary[0] && pools.surfaces.contains(&target) {
            // the target destroyed mid-picture
            if c.destroy_surface(target) == VA_STATUS_SUCCESS {
                pools.surfaces.retain(|&s| s != target);
                pools.dead_surfaces.push(target);
            }
        }
        if !calm && rng.one_in(40) {
            if let Some(k) = known.filter(|k| k.id != pools.anchor.id) {
                // the context destroyed mid-picture
                if c.destroy_context(k.id) == VA_STATUS_SUCCESS {
                    pools.contexts.retain(|x| x.id != k.id);
                    pools.dead_contexts.push(k.id);
                }
            }
        }
        if calm || !rng.one_in(10) {
            c.end(context);
        }
        if rng.one_in(20) {
            c.end(context); // ended twice
        }
        match rng.below(4) {
            0 => {
                c.sync(target);
            }
            1 => {
                let s = pools.surface(&mut rng);
                c.query(s, rng.one_in(10));
            }
            2 => {
                c.query(target, false);
                c.sync(target);
            }
            _ => {}
        }
        if rng.one_in(8) {
            let s = pools.surface(&mut rng);
            c.images(s, &mut rng);
        }
        // The picture's buffers destroyed (a few leak: the caps hold).
        for id in mine {
            if rng.one_in(20) {
                pools.buffers.push(id);
            } else {
                c.destroy_buffer(id);
                pools.dead_buffers.push(id);
            }
        }
        if rng.one_in(30) && !pools.buffers.is_empty() {
            let id = pools
                .buffers
                .swap_remove(rng.below(pools.buffers.len() as u64) as usize);
            c.destroy_buffer(id);
            pools.dead_buffers.push(id);
        }
        // Replenish: surfaces, and a context per config.
        while pools.surfaces.len() < 8 {
            let (s, ids) = c.create_surfaces(2);
            assert_eq!(s, VA_STATUS_SUCCESS);
            pools.surfaces.extend(ids);
        }
        if pools.contexts.len() < pools.configs.len() || rng.one_in(60) {
            let (config, codec) = rng.pick(&pools.configs);
            let mut targets: Vec<VASurfaceID> = if rng.one_in(3) {
                vec![pools.surface(&mut rng)]
            } else {
                vec![]
            };
            let (s, id) = c.create_context(config, &mut targets);
            if s == VA_STATUS_SUCCESS {
                pools.contexts.push(Ctx { id, codec });
            }
        }
        if i % CANARY_EVERY == CANARY_EVERY - 1 {
            // The anchor decodes whatever came before.
            let t = canary[(i / CANARY_EVERY) as usize % 2];
            c.valid_idr(pools.anchor.id, t);
        }
    }

    // After the storm: the same context, then a fresh one, decode.
    c.iteration = iters;
    c.valid_idr(pools.anchor.id, canary[1]);
    for k in pools.contexts.clone() {
        if k.codec == CodecKind::H264 {
            let (s, t) = c.create_surfaces(1);
            assert_eq!(s, VA_STATUS_SUCCESS);
            c.valid_idr(k.id, t[0]);
        }
    }
    let (s, config) = c.create_config(sys::VAProfileH264High);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let (s, fresh) = c.create_context(config, &mut []);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let (s, t) = c.create_surfaces(1);
    assert_eq!(s, VA_STATUS_SUCCESS);
    c.valid_idr(fresh, t[0]);

    // Bounded: the driver's live objects within its caps, and memory.
    {
        // SAFETY: the driver's own state behind an initialised context.
        let d = unsafe { lock(c.ctx) }.unwrap();
        let (_, _, buffers) = d.live_objects();
        assert!(buffers <= crate::buffer::MAX_LIVE_BUFFERS);
    }
    let (_, peak, largest) = heap_mark();
    let grown = peak - heap_before;
    eprintln!(
        "storm heap: peak {} KiB above the start, largest allocation {} KiB",
        grown >> 10,
        largest >> 10
    );
    // Past the device limits, pictures up to the device's largest size are
    // configured: the fake device's CAPTURE buffers (kernel memory on a real
    // device, bounded by it; heap here) then dwarf the driver's own memory,
    // so the bound is checked only where pictures fit the device.
    if !device_limits {
        assert!(
            grown <= MAX_HEAP_GROWTH && largest <= MAX_ALLOCATION,
            "the storm held up to {grown} bytes of heap; its largest allocation {largest} bytes"
        );
    }
    // SAFETY: initialised; nothing uses the context afterwards.
    let s = unsafe { c.vt.vaTerminate.unwrap()(c.ctx) };
    assert_eq!(s, VA_STATUS_SUCCESS);
    drop(display);
    Outcome {
        counts: c.counts,
        slowest: c.slowest,
    }
}

/// What a storm did: (entry point, status) → calls, and its slowest call.
struct Outcome {
    counts: BTreeMap<(&'static str, VAStatus), u64>,
    slowest: (Duration, String),
}

impl Outcome {
    fn count(&self, name: &str, s: VAStatus) -> u64 {
        self.counts
            .iter()
            .filter(|((n, st), _)| *n == name && *st == s)
            .map(|(_, c)| c)
            .sum()
    }
}

/// The driver's warnings and errors (`tracing`) into this thread's test
/// output: a failing test shows why the driver refused what it refused.
fn log_to_test_output() -> tracing::dispatcher::DefaultGuard {
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .without_time()
        .with_test_writer()
        .set_default()
}

/// Runs [`storm`] on its own thread under a watchdog: a storm that does not
/// end within [`WATCHDOG`] fails with the calls it was making.
fn storm_with_watchdog(
    name: &str,
    discover: fn() -> Result<Vec<DeviceInfo>, String>,
    device_limits: bool,
) -> Outcome {
    let (seed, iters) = (seed(), iterations());
    let trail: Trail = Arc::new(Mutex::new(VecDeque::new()));
    let t = Arc::clone(&trail);
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(format!("storm-{name}"))
        .spawn(move || {
            let _log = log_to_test_output();
            let _ = tx.send(storm(discover, seed, iters, device_limits, t));
        })
        .unwrap();
    match rx.recv_timeout(WATCHDOG) {
        Ok(out) => {
            worker.join().unwrap();
            eprintln!(
                "storm {name}: seed {seed:#x}, {iters} pictures, slowest call {:?} ({})",
                out.slowest.0, out.slowest.1
            );
            out
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker failed an assertion: its panic is the message.
            match worker.join() {
                Err(e) => std::panic::resume_unwind(e),
                Ok(()) => panic!("storm {name} ended without a result"),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let t = trail.lock().unwrap_or_else(PoisonError::into_inner);
            panic!(
                "storm {name} (seed {seed:#x}) still running after {WATCHDOG:?}; last calls:\n  {}",
                t.iter().cloned().collect::<Vec<_>>().join("\n  ")
            );
        }
    }
}

/// The check each storm call makes catches what the caller cannot see: a
/// panic the ffi's guard turned into `VA_STATUS_ERROR_OPERATION_FAILED`.
#[test]
#[should_panic(expected = "vaTest() panicked (the guard returned 0x1)")]
fn a_caught_panic_fails_the_check() {
    let mut display = Display::new(visl, fake_opener());
    let mut c = Calls::new(&mut display, 0, Trail::default());
    c.call("vaTest", String::new(), || {
        guard("vaTest", || panic!("boom"))
    });
}

/// The storm reached every stage: pictures decoded and refused, each entry
/// point answered with successes and errors.
fn assert_coverage(name: &str, c: &Outcome) {
    let summary = format!("{name}: {:?}", c.counts);
    let iters = iterations();
    let end = |s| c.count("vaEndPicture", s);
    eprintln!(
        "storm {name}: vaEndPicture: {} decoded, {} INVALID_PARAMETER, {} OPERATION_FAILED, \
         {} other errors",
        end(VA_STATUS_SUCCESS),
        end(VA_STATUS_ERROR_INVALID_PARAMETER),
        end(VA_STATUS_ERROR_OPERATION_FAILED),
        c.counts
            .iter()
            .filter(|((n, _), _)| *n == "vaEndPicture")
            .map(|(_, v)| v)
            .sum::<u64>()
            - end(VA_STATUS_SUCCESS)
            - end(VA_STATUS_ERROR_INVALID_PARAMETER)
            - end(VA_STATUS_ERROR_OPERATION_FAILED)
    );
    if iters < 500 {
        eprintln!("{iters} pictures: too few for the coverage checks; {summary}");
        return;
    }
    let ok = |n| c.count(n, VA_STATUS_SUCCESS);
    let all = |n: &str| -> u64 {
        c.counts
            .iter()
            .filter(|((k, _), _)| *k == n)
            .map(|(_, v)| v)
            .sum()
    };
    for n in [
        "vaBeginPicture",
        "vaRenderPicture",
        "vaEndPicture",
        "vaSyncSurface",
        "vaQuerySurfaceStatus",
    ] {
        assert!(ok(n) > 0 && all(n) > ok(n), "{n}: {summary}");
    }
    // Pictures reached the device besides the canaries, and bad ones were
    // refused for their parameters.
    let canaries = iters / CANARY_EVERY + 3;
    assert!(ok("vaEndPicture") > canaries + iters / 20, "{summary}");
    assert!(
        c.count("vaEndPicture", VA_STATUS_ERROR_INVALID_PARAMETER) > iters / 20,
        "{summary}"
    );
    assert!(
        c.count("vaRenderPicture", VA_STATUS_ERROR_INVALID_BUFFER) > 0,
        "{summary}"
    );
    assert!(
        c.count("vaBeginPicture", VA_STATUS_ERROR_INVALID_CONTEXT) > 0
            && c.count("vaBeginPicture", VA_STATUS_ERROR_INVALID_SURFACE) > 0,
        "{summary}"
    );
}

#[test]
fn decode_storm_on_visl() {
    let c = storm_with_watchdog("visl", visl, false);
    assert_coverage("visl", &c);
}

#[test]
fn decode_storm_on_rk3588() {
    let c = storm_with_watchdog("rk3588", rk3588, false);
    assert_coverage("rk3588", &c);
}

/// The storm with pictures past the device's limits too (coded sizes past
/// its maximum, 10-bit on an 8-bit device, `num_ref_frames` past 16): each
/// such picture fails at the engine's configure.
#[test]
fn decode_storm_past_device_limits() {
    for (name, discover) in [
        ("visl", visl as fn() -> Result<Vec<DeviceInfo>, String>),
        ("rk3588", rk3588),
    ] {
        let c = storm_with_watchdog(name, discover, true);
        assert_coverage(name, &c);
    }
}

/// A fake device that fails on purpose: a request refused at queue
/// (`fail_queue_ts`), a picture whose wait times out once (`stall_ts`: every
/// dequeue returns nothing until the engine waited once with a timeout).
struct Faulty {
    fail_queue_ts: Option<u64>,
    stall_ts: Option<u64>,
    stalling: bool,
}

impl Wrap<FakeDevice> for Faulty {
    fn queue(&mut self, inner: &mut FakeDevice, job: &DecodeJob) -> Result<(), DeviceError> {
        if self.fail_queue_ts == Some(job.timestamp_ns) {
            return Err(DeviceError::Unsupported(
                "MEDIA_REQUEST_IOC_QUEUE: EIO (test)".into(),
                inner.name(),
            ));
        }
        if self.stall_ts == Some(job.timestamp_ns) {
            self.stalling = true;
        }
        inner.queue(job)
    }
    fn dequeue(
        &mut self,
        inner: &mut FakeDevice,
        timeout: Duration,
    ) -> Result<Option<Completed>, DeviceError> {
        if self.stalling {
            if !timeout.is_zero() {
                // The wait timed out; the device answers again afterwards.
                self.stalling = false;
                self.stall_ts = None;
            }
            return Ok(None);
        }
        inner.dequeue(timeout)
    }
}

/// A display over a fake visl whose sessions fail as [`Faulty`] says
/// (and flag `V4L2_BUF_FLAG_ERROR` on the picture `error_ts`), with an
/// H.264 High context and `n` surfaces.
fn faulty_display(
    error_ts: Option<u64>,
    stall_ts: Option<u64>,
    fail_queue_ts: Option<u64>,
    n: usize,
) -> (Display, VAContextID, Vec<VASurfaceID>) {
    let opener: Opener = Box::new(move |info: &DeviceInfo, codec| {
        let profile = for_driver(&info.driver, &info.card);
        let mut inner = FakeDevice::for_codec(profile, codec);
        if let Some(ts) = error_ts {
            inner = inner.with_error_on(ts);
        }
        Ok(Box::new(Wrapped {
            inner,
            wrap: Faulty {
                fail_queue_ts,
                stall_ts,
                stalling: false,
            },
        }) as Box<dyn DecoderDevice>)
    });
    let mut display = Display::new(visl, opener);
    let mut c = Calls::new(&mut display, 0, Trail::default());
    let (s, config) = c.create_config(sys::VAProfileH264High);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let (s, context) = c.create_context(config, &mut []);
    assert_eq!(s, VA_STATUS_SUCCESS);
    let (s, sf) = c.create_surfaces(n);
    assert_eq!(s, VA_STATUS_SUCCESS);
    (display, context, sf)
}

/// A valid IDR ended into `target`; the status of `vaEndPicture`.
fn idr_picture(c: &mut Calls, context: VAContextID, target: VASurfaceID) -> VAStatus {
    let mut ids = c.idr_buffers(context, target);
    assert_eq!(c.begin(context, target), VA_STATUS_SUCCESS);
    let n = ids.len() as c_int;
    assert_eq!(c.render(context, &mut ids, n, false), VA_STATUS_SUCCESS);
    let s = c.end(context);
    for id in ids {
        assert_eq!(c.destroy_buffer(id), VA_STATUS_SUCCESS);
    }
    s
}

/// `vaSyncSurface` and `vaQuerySurfaceStatus` say the surface is decoded.
fn assert_ready(c: &mut Calls, t: VASurfaceID) {
    assert_eq!(c.sync(t), VA_STATUS_SUCCESS, "vaSyncSurface({t:#x})");
    assert_eq!(
        c.query(t, false),
        (VA_STATUS_SUCCESS, sys::VASurfaceReady),
        "vaQuerySurfaceStatus({t:#x})"
    );
}

/// Both say `VA_STATUS_ERROR_DECODING_ERROR`.
fn assert_failed(c: &mut Calls, t: VASurfaceID) {
    assert_eq!(
        c.sync(t),
        VA_STATUS_ERROR_DECODING_ERROR,
        "vaSyncSurface({t:#x})"
    );
    assert_eq!(
        c.query(t, false).0,
        VA_STATUS_ERROR_DECODING_ERROR,
        "vaQuerySurfaceStatus({t:#x})"
    );
}

/// A device error fails that surface only: `V4L2_BUF_FLAG_ERROR` on the
/// 2nd picture (timestamp 2000) and a wait that times out on the 4th
/// (4000): each such surface answers `VA_STATUS_ERROR_DECODING_ERROR` to
/// `vaSyncSurface` and `vaQuerySurfaceStatus`, the pictures after it decode,
/// and the failed surface decodes when rendered again.
#[test]
fn flagged_and_timed_out_pictures_fail_their_surface_only() {
    let (mut display, context, sf) = faulty_display(Some(2000), Some(4000), None, 6);
    let mut c = Calls::new(&mut display, 0, Trail::default());
    // 1000, 2000 (flagged), 3000 in flight together, synced in reverse.
    for &t in &sf[..3] {
        assert_eq!(idr_picture(&mut c, context, t), VA_STATUS_SUCCESS);
    }
    assert_ready(&mut c, sf[2]);
    assert_failed(&mut c, sf[1]);
    assert_ready(&mut c, sf[0]);
    // 4000: the wait times out (the engine gives up after one wait).
    assert_eq!(idr_picture(&mut c, context, sf[3]), VA_STATUS_SUCCESS);
    assert_failed(&mut c, sf[3]);
    // 5000, 6000 decode; the failed surfaces still say so.
    assert_eq!(idr_picture(&mut c, context, sf[4]), VA_STATUS_SUCCESS);
    assert_eq!(idr_picture(&mut c, context, sf[5]), VA_STATUS_SUCCESS);
    assert_ready(&mut c, sf[5]);
    assert_ready(&mut c, sf[4]);
    for t in [sf[1], sf[3]] {
        assert_failed(&mut c, t);
    }
    for t in [sf[0], sf[2]] {
        assert_ready(&mut c, t);
    }
    // A failed surface rendered again decodes.
    assert_eq!(idr_picture(&mut c, context, sf[1]), VA_STATUS_SUCCESS);
    assert_ready(&mut c, sf[1]);
    // SAFETY: initialised; nothing uses the context afterwards.
    let s = unsafe { c.vt.vaTerminate.unwrap()(c.ctx) };
    assert_eq!(s, VA_STATUS_SUCCESS);
}

/// A request the device refuses at `MEDIA_REQUEST_IOC_QUEUE` (as a kernel
/// does for controls it finds invalid): `vaEndPicture` says
/// `VA_STATUS_ERROR_OPERATION_FAILED`, that surface
/// `VA_STATUS_ERROR_DECODING_ERROR`, and the next pictures decode.
#[test]
fn a_refused_request_fails_its_surface_only() {
    let (mut display, context, sf) = faulty_display(None, None, Some(2000), 4);
    let mut c = Calls::new(&mut display, 0, Trail::default());
    assert_eq!(idr_picture(&mut c, context, sf[0]), VA_STATUS_SUCCESS);
    assert_eq!(
        idr_picture(&mut c, context, sf[1]),
        VA_STATUS_ERROR_OPERATION_FAILED
    );
    assert_failed(&mut c, sf[1]);
    assert_eq!(idr_picture(&mut c, context, sf[2]), VA_STATUS_SUCCESS);
    assert_eq!(idr_picture(&mut c, context, sf[3]), VA_STATUS_SUCCESS);
    assert_ready(&mut c, sf[3]);
    assert_ready(&mut c, sf[2]);
    assert_ready(&mut c, sf[0]);
    assert_failed(&mut c, sf[1]);
    // SAFETY: initialised; nothing uses the context afterwards.
    let s = unsafe { c.vt.vaTerminate.unwrap()(c.ctx) };
    assert_eq!(s, VA_STATUS_SUCCESS);
}

/// The buffers of an H.264 picture into `target` with `slices` copies of
/// the IDR slice, the coded size `mbs` (width, height in macroblocks, minus
/// 1) and `num_ref_frames`; rendered and ended: the status of `vaEndPicture`.
fn h264_picture_with(
    c: &mut Calls,
    context: VAContextID,
    target: VASurfaceID,
    slices: usize,
    mbs: (u16, u16),
    num_ref_frames: u8,
) -> VAStatus {
    let (sq, pc) = seq_pic();
    let mut pp = params(sq, pc);
    pp.CurrPic.picture_id = target;
    (
        pp.picture_width_in_mbs_minus1,
        pp.picture_height_in_mbs_minus1,
    ) = mbs;
    pp.num_ref_frames = num_ref_frames;
    let idr = idr_slice();
    let sp = blank_slice_params(idr.len(), 2);
    let mut pb = bytes_of(&pp).to_vec();
    let mut ids = Vec::new();
    let (s, id) = c.create_buffer(
        context,
        sys::VAPictureParameterBufferType,
        pb.len() as u32,
        1,
        Some(&mut pb),
    );
    assert_eq!(s, VA_STATUS_SUCCESS);
    ids.push(id);
    for _ in 0..slices {
        let mut sb = bytes_of(&sp).to_vec();
        let mut data = idr.clone();
        for (t, b) in [
            (sys::VASliceParameterBufferType, &mut sb),
            (sys::VASliceDataBufferType, &mut data),
        ] {
            let (s, id) = c.create_buffer(context, t, b.len() as u32, 1, Some(b));
            assert_eq!(s, VA_STATUS_SUCCESS);
            ids.push(id);
        }
    }
    assert_eq!(c.begin(context, target), VA_STATUS_SUCCESS);
    let n = ids.len() as c_int;
    assert_eq!(c.render(context, &mut ids, n, false), VA_STATUS_SUCCESS);
    let s = c.end(context);
    for id in ids {
        assert_eq!(c.destroy_buffer(id), VA_STATUS_SUCCESS);
    }
    s
}

/// A picture the device cannot decode (a coded size past its maximum,
/// found when the engine configures the device): that picture fails, the
/// next valid one on the same context decodes. Slice-based visl, so the
/// refused picture has requests (one per slice) left to send.
#[test]
fn a_picture_past_the_device_limits_fails_alone() {
    for slices in [1, 2] {
        let (mut display, context, sf) = faulty_display(None, None, None, 3);
        let mut c = Calls::new(&mut display, 0, Trail::default());
        assert_eq!(
            h264_picture_with(&mut c, context, sf[0], 1, (3, 2), 2),
            VA_STATUS_SUCCESS
        );
        assert_ready(&mut c, sf[0]);
        // 16 × 16384 pixels: visl decodes at most 4096 × 2304.
        let s = h264_picture_with(&mut c, context, sf[1], slices, (0, 1023), 2);
        assert_ne!(s, VA_STATUS_SUCCESS, "{slices} slices");
        assert_eq!(
            h264_picture_with(&mut c, context, sf[2], 1, (3, 2), 2),
            VA_STATUS_SUCCESS,
            "the picture after one of {slices} slices past the limits"
        );
        assert_ready(&mut c, sf[2]);
        assert_ready(&mut c, sf[0]);
        // SAFETY: initialised; nothing uses the context afterwards.
        let s = unsafe { c.vt.vaTerminate.unwrap()(c.ctx) };
        assert_eq!(s, VA_STATUS_SUCCESS);
    }
}

/// `num_ref_frames` past H.264's 16 (A.3.1: `max_dec_frame_buffering` ≤
/// 16): the DPB asked of the device is clamped (16 + 1 + the render
/// targets, at least 17), so the picture decodes, and so does the next.
#[test]
fn num_ref_frames_past_16_is_clamped() {
    let (mut display, context, sf) = faulty_display(None, None, None, 2);
    let mut c = Calls::new(&mut display, 0, Trail::default());
    assert_eq!(
        h264_picture_with(&mut c, context, sf[0], 1, (3, 2), 255),
        VA_STATUS_SUCCESS
    );
    assert_ready(&mut c, sf[0]);
    assert_eq!(
        h264_picture_with(&mut c, context, sf[1], 1, (3, 2), 2),
        VA_STATUS_SUCCESS
    );
    assert_ready(&mut c, sf[1]);
}

/// One surface rendered by two contexts in turn (allowed: neither lists it
/// as a render target): `vaSyncSurface` / `vaQuerySurfaceStatus` answer for
/// the picture rendered last, whatever the order the driver keeps its
/// contexts in. The second context's device flags its picture bad.
#[test]
fn a_surface_answers_for_its_last_picture() {
    for round in 0..16 {
        let opened = std::rc::Rc::new(std::cell::Cell::new(0));
        let n = std::rc::Rc::clone(&opened);
        let opener: Opener = Box::new(move |info: &DeviceInfo, codec| {
            n.set(n.get() + 1);
            let mut d = FakeDevice::for_codec(for_driver(&info.driver, &info.card), codec);
            if n.get() == 2 {
                // the display's second picture (its contexts share one
                // timestamp counter): context B's
                d = d.with_error_on(2 * crate::decode::TIMESTAMP_STEP_NS);
            }
            Ok(Box::new(d) as Box<dyn DecoderDevice>)
        });
        let mut display = Display::new(visl, opener);
        let mut c = Calls::new(&mut display, 0, Trail::default());
        let (s, config) = c.create_config(sys::VAProfileH264High);
        assert_eq!(s, VA_STATUS_SUCCESS);
        let (_, a) = c.create_context(config, &mut []);
        let (_, b) = c.create_context(config, &mut []);
        let (_, sf) = c.create_surfaces(1);
        assert_eq!(idr_picture(&mut c, a, sf[0]), VA_STATUS_SUCCESS);
        assert_ready(&mut c, sf[0]);
        assert_eq!(idr_picture(&mut c, b, sf[0]), VA_STATUS_SUCCESS);
        assert_eq!(
            c.sync(sf[0]),
            VA_STATUS_ERROR_DECODING_ERROR,
            "round {round}: the surface's last picture (context B) was flagged bad"
        );
        // SAFETY: initialised; nothing uses the context afterwards.
        let s = unsafe { c.vt.vaTerminate.unwrap()(c.ctx) };
        assert_eq!(s, VA_STATUS_SUCCESS);
        assert_eq!(opened.get(), 2);
    }
}
