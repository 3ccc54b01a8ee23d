//! Test devices for the image and export paths (tests only).
//!
//! * [`Wrapped`]: a device that forwards to an inner one but for what its
//!   [`Wrap`] changes ([`Painted`], [`Recording`], the hostile tests'
//!   failing device).
//! * [`Painted`]: a `vreq_testkit` [`FakeDevice`] whose dequeued CAPTURE
//!   buffers get a known byte pattern ([`pattern`]: the fake itself stamps
//!   only 16 bytes) and a file as their "dmabuf" (an unlinked temporary
//!   file: an fd that can be dup()ed and compared), as a V4L2 session's
//!   EXPBUF fds would be; reads go through the fake's `capture_map`, so its
//!   mapping count ([`DecoderDevice::mapped_captures`]) sees them.
//! * [`decode_idr`]: the VA calls of one H.264 IDR picture through the driver.
//! * [`fake_visl_decoder`], [`decode_buffers`], [`assert_pair_decoded`]: a
//!   [`Decoder`] on a fake visl, pictures rendered into it, two of them
//!   waited for and checked.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_frame::CaptureFormat;
use vreq_testkit::fake::{device_info, FakeDevice};
use vreq_v4l2::profile::for_driver;
use vreq_v4l2::{Completed, DecoderDevice, DeviceError};

use crate::decode::Decoder;
use crate::driver::{Driver, Opener};
use crate::ffi::bytes_of;
use crate::map::h264::tests::{blank_slice_params, idr_slice, params, seq_pic};
use crate::map::CodecMap;
use crate::picture::Picture;
use crate::sys::{self, VAContextID, VASurfaceID};

/// Byte `k` of a painted CAPTURE buffer whose picture has OUTPUT timestamp
/// `ts` (ns): varies with position and picture, never constant over a row.
pub(crate) fn pattern(ts: u64, k: usize) -> u8 {
    ((k as u64).wrapping_mul(2_654_435_761) >> 13).wrapping_add(ts / 1000 * 37) as u8
}

/// An unlinked temporary file standing in for a dmabuf.
pub(crate) fn temp_fd() -> File {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "vreq-va-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let f = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    f
}

/// A placeholder "dmabuf" of `len` bytes: an unlinked temporary file
/// (`Driver::placeholder` in tests; the driver's is `/dev/dma_heap/system`).
pub(crate) fn file_placeholder(len: usize) -> Result<std::os::fd::OwnedFd, String> {
    let f = temp_fd();
    f.set_len(len as u64).map_err(|e| e.to_string())?;
    Ok(f.into())
}

/// What a test device wrapper ([`Wrapped`]) does instead of its inner
/// device for the calls tests change; each default is the inner device's
/// own answer.
pub(crate) trait Wrap<D: DecoderDevice> {
    fn queue(&mut self, inner: &mut D, job: &DecodeJob) -> Result<(), DeviceError> {
        inner.queue(job)
    }
    fn dequeue(
        &mut self,
        inner: &mut D,
        timeout: Duration,
    ) -> Result<Option<Completed>, DeviceError> {
        inner.dequeue(timeout)
    }
    fn capture_dmabufs<'a>(&'a self, inner: &'a D, index: usize) -> Vec<BorrowedFd<'a>> {
        inner.capture_dmabufs(index)
    }
    fn capture_map<'a>(&'a self, inner: &'a D, index: usize) -> Result<Vec<&'a [u8]>, DeviceError> {
        inner.capture_map(index)
    }
}

/// A device that is `inner` but for what `wrap` ([`Wrap`]) changes.
pub(crate) struct Wrapped<D, W> {
    pub inner: D,
    pub wrap: W,
}

impl<D: DecoderDevice, W: Wrap<D>> DecoderDevice for Wrapped<D, W> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        self.inner.mode()
    }
    fn has_control(&self, id: u32) -> bool {
        self.inner.has_control(id)
    }
    fn configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first: &[Control],
        n: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        self.inner.configure(codec, params, first, n)
    }
    fn free_slots(&self) -> usize {
        self.inner.free_slots()
    }
    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
        self.wrap.queue(&mut self.inner, job)
    }
    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError> {
        self.wrap.dequeue(&mut self.inner, timeout)
    }
    fn in_flight(&self) -> usize {
        self.inner.in_flight()
    }
    fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError> {
        self.inner.requeue_capture(index)
    }
    fn capture_dmabufs(&self, index: usize) -> Vec<BorrowedFd<'_>> {
        self.wrap.capture_dmabufs(&self.inner, index)
    }
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        self.inner.capture_plane_lengths(index)
    }
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        self.wrap.capture_map(&self.inner, index)
    }
    fn mapped_captures(&self) -> usize {
        self.inner.mapped_captures()
    }
    fn take_source_change(&mut self) -> bool {
        self.inner.take_source_change()
    }
}

/// [`Wrap`] of a [`FakeDevice`]: each dequeued CAPTURE buffer painted with
/// [`pattern`] and given a temporary file as its dmabuf (when `dmabufs`).
pub(crate) struct Painted {
    mem: HashMap<usize, Vec<u8>>,
    files: HashMap<usize, File>,
    /// Give dmabufs (else none, as the plain fake).
    dmabufs: bool,
}

impl Painted {
    /// `inner` painted, with dmabufs if `dmabufs`.
    pub fn new(inner: FakeDevice, dmabufs: bool) -> Wrapped<FakeDevice, Painted> {
        Wrapped {
            inner,
            wrap: Painted {
                mem: HashMap::new(),
                files: HashMap::new(),
                dmabufs,
            },
        }
    }
}

impl Wrap<FakeDevice> for Painted {
    fn dequeue(
        &mut self,
        inner: &mut FakeDevice,
        timeout: Duration,
    ) -> Result<Option<Completed>, DeviceError> {
        let c = inner.dequeue(timeout)?;
        if let Some(c) = &c {
            // Painting is the "device" writing the picture: it maps nothing.
            let len = inner
                .capture_plane_lengths(c.capture_index)
                .first()
                .copied()
                .unwrap_or(0);
            let mem = (0..len).map(|k| pattern(c.timestamp_ns, k)).collect();
            self.mem.insert(c.capture_index, mem);
            self.files.entry(c.capture_index).or_insert_with(temp_fd);
        }
        Ok(c)
    }
    fn capture_dmabufs<'a>(&'a self, _: &'a FakeDevice, index: usize) -> Vec<BorrowedFd<'a>> {
        match self.files.get(&index) {
            Some(f) if self.dmabufs => vec![f.as_fd()],
            _ => Vec::new(),
        }
    }
    /// The painted bytes, read as the session reads a buffer: the fake's
    /// own `capture_map` first, so that its mapping count sees the read.
    fn capture_map<'a>(
        &'a self,
        inner: &'a FakeDevice,
        index: usize,
    ) -> Result<Vec<&'a [u8]>, DeviceError> {
        let maps = inner.capture_map(index)?;
        Ok(match self.mem.get(&index) {
            Some(m) => vec![&m[..]],
            None => maps,
        })
    }
}

/// [`Wrap`] that records the jobs queued where the test sees them.
pub(crate) struct Recording(pub std::rc::Rc<std::cell::RefCell<Vec<DecodeJob>>>);

impl<D: DecoderDevice> Wrap<D> for Recording {
    fn queue(&mut self, inner: &mut D, job: &DecodeJob) -> Result<(), DeviceError> {
        self.0.borrow_mut().push(job.clone());
        inner.queue(job)
    }
}

/// A driver over a fake visl whose sessions are [`Painted`] (with dmabufs
/// if `dmabufs`), failing the pictures of the timestamps in `errors`.
pub(crate) fn visl_driver(dmabufs: bool, errors: &[u64]) -> Driver {
    fake_driver("visl", "", dmabufs, errors)
}

/// [`visl_driver`] over the fake of another driver (`for_driver(driver, variant)`).
pub(crate) fn fake_driver(
    driver: &'static str,
    variant: &'static str,
    dmabufs: bool,
    errors: &[u64],
) -> Driver {
    let errors = errors.to_vec();
    let opener: Opener = Box::new(move |_, codec| {
        let mut fake = FakeDevice::for_codec(for_driver(driver, variant), codec);
        for &t in &errors {
            fake = fake.with_error_on(t);
        }
        Ok(Box::new(Painted::new(fake, dmabufs)) as Box<dyn DecoderDevice>)
    });
    let mut d = Driver::new(vec![device_info(for_driver(driver, variant), 0)])
        .unwrap()
        .with_opener(opener);
    d.placeholder = file_placeholder;
    d
}

/// An H.264 High config and a 64 × 48 context on `d`.
pub(crate) fn h264_context(d: &mut Driver) -> VAContextID {
    h264_context_of(d, sys::VAProfileH264High, sys::VA_RT_FORMAT_YUV420)
}

/// A config of `profile` with RT format `rt` and a 64 × 48 context on `d`.
pub(crate) fn h264_context_of(d: &mut Driver, profile: sys::VAProfile, rt: u32) -> VAContextID {
    let attr = sys::VAConfigAttrib {
        type_: sys::VAConfigAttribRTFormat,
        value: rt,
    };
    let cfg = d
        .create_config(profile, sys::VAEntrypointVLD, &[attr])
        .unwrap();
    d.create_context(cfg, 64, 48, 0, &[]).unwrap()
}

/// Decodes one IDR picture (64 × 48, `map::h264::tests`) into `target`
/// through the VA calls; returns its OUTPUT timestamp (ns).
pub(crate) fn decode_idr(d: &mut Driver, ctx: VAContextID, target: VASurfaceID) -> u64 {
    decode_idr_at(d, ctx, target, 8)
}

/// [`decode_idr`] of a `bit_depth`-bit stream (`bit_depth_luma/chroma_minus8`).
pub(crate) fn decode_idr_at(
    d: &mut Driver,
    ctx: VAContextID,
    target: VASurfaceID,
    bit_depth: u8,
) -> u64 {
    let (sq, pc) = seq_pic();
    let mut pp = params(sq, pc);
    pp.bit_depth_luma_minus8 = bit_depth - 8;
    pp.bit_depth_chroma_minus8 = bit_depth - 8;
    pp.CurrPic.picture_id = target;
    let idr = idr_slice();
    let sp = blank_slice_params(idr.len(), 2);
    let p = bytes_of(&pp);
    let s = bytes_of(&sp);
    let sz = |b: &[u8]| b.len() as u32;
    let bufs = [
        d.create_buffer(ctx, sys::VAPictureParameterBufferType, sz(p), 1, Some(p))
            .unwrap(),
        d.create_buffer(ctx, sys::VASliceParameterBufferType, sz(s), 1, Some(s))
            .unwrap(),
        d.create_buffer(ctx, sys::VASliceDataBufferType, sz(&idr), 1, Some(&idr))
            .unwrap(),
    ];
    d.begin_picture(ctx, target).unwrap();
    d.render_picture(ctx, &bufs).unwrap();
    d.end_picture(ctx).unwrap();
    for b in bufs {
        d.destroy_buffer(b).unwrap();
    }
    d.decoder(ctx).unwrap().timestamp_of(target).unwrap()
}

/// A [`Decoder`] over a fake visl of `codec`, mapping with `map`, for a
/// `width` × `height` context of `profile` (no render targets named).
pub(crate) fn fake_visl_decoder(
    codec: CodecKind,
    map: Box<dyn CodecMap>,
    profile: sys::VAProfile,
    width: u32,
    height: u32,
) -> Decoder<FakeDevice> {
    let dev = FakeDevice::for_codec(for_driver("visl", "visl"), codec);
    Decoder::new(dev, map, profile, width, height, 0)
}

/// One picture into `target` as a VA client renders it: each of `buffers`
/// (type, one element's bytes) in order, then decoded by `d`.
pub(crate) fn decode_buffers(
    d: &mut Decoder<FakeDevice>,
    map: &dyn CodecMap,
    target: VASurfaceID,
    buffers: &[(sys::VABufferType, &[u8])],
) -> Result<(), crate::status::VAStatus> {
    let mut pic = Picture::new(target);
    for &(t, bytes) in buffers {
        pic.render(map, t, bytes, 1)?;
    }
    d.decode(&pic)
}

/// Waits for `second`, then `first`; both must hold a frame and the fake
/// device must have seen no uAPI violation.
pub(crate) fn assert_pair_decoded(
    d: &mut Decoder<FakeDevice>,
    first: VASurfaceID,
    second: VASurfaceID,
) {
    d.sync(second).unwrap();
    d.sync(first).unwrap();
    assert!(d.frame(first).is_some() && d.frame(second).is_some());
    let dev = d.engine().device();
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
}
