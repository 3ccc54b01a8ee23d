//! Test devices for the image and export paths (tests only).
//!
//! * [`Painted`]: a `vreq_testkit` [`FakeDevice`] whose dequeued CAPTURE
//!   buffers get a known byte pattern ([`pattern`]: the fake itself stamps
//!   only 16 bytes) and a file as their "dmabuf" (an unlinked temporary
//!   file: an fd that can be dup()ed and compared), as a V4L2 session's
//!   EXPBUF fds would be.
//! * [`decode_idr`]: the VA calls of one H.264 IDR picture through the driver.

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

use crate::driver::{Driver, Opener};
use crate::ffi::bytes_of;
use crate::map::h264::tests::{blank_slice_params, idr_slice, params, seq_pic};
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

/// See the module docs.
pub(crate) struct Painted {
    pub inner: FakeDevice,
    mem: HashMap<usize, Vec<u8>>,
    files: HashMap<usize, File>,
    /// Give dmabufs (else none, as the plain fake).
    dmabufs: bool,
}

impl Painted {
    pub fn new(inner: FakeDevice, dmabufs: bool) -> Self {
        Painted {
            inner,
            mem: HashMap::new(),
            files: HashMap::new(),
            dmabufs,
        }
    }
}

impl DecoderDevice for Painted {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        self.inner.mode()
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
        self.inner.queue(job)
    }
    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError> {
        let c = self.inner.dequeue(timeout)?;
        if let Some(c) = &c {
            let len = self
                .inner
                .capture_map(c.capture_index)
                .first()
                .map_or(0, |m| m.len());
            let mem = (0..len).map(|k| pattern(c.timestamp_ns, k)).collect();
            self.mem.insert(c.capture_index, mem);
            self.files.entry(c.capture_index).or_insert_with(temp_fd);
        }
        Ok(c)
    }
    fn in_flight(&self) -> usize {
        self.inner.in_flight()
    }
    fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError> {
        self.inner.requeue_capture(index)
    }
    fn capture_dmabufs(&self, index: usize) -> Vec<BorrowedFd<'_>> {
        match self.files.get(&index) {
            Some(f) if self.dmabufs => vec![f.as_fd()],
            _ => Vec::new(),
        }
    }
    fn capture_map(&self, index: usize) -> Vec<&[u8]> {
        match self.mem.get(&index) {
            Some(m) => vec![&m[..]],
            None => self.inner.capture_map(index),
        }
    }
}

/// A driver over a fake visl whose sessions are [`Painted`] (with dmabufs
/// if `dmabufs`), failing the pictures of the timestamps in `errors`.
pub(crate) fn visl_driver(dmabufs: bool, errors: &[u64]) -> Driver {
    let errors = errors.to_vec();
    let opener: Opener = Box::new(move |_, codec| {
        let mut fake = FakeDevice::for_codec(for_driver("visl", ""), codec);
        for &t in &errors {
            fake = fake.with_error_on(t);
        }
        Ok(Box::new(Painted::new(fake, dmabufs)) as Box<dyn DecoderDevice>)
    });
    Driver::new(vec![device_info(for_driver("visl", ""), 0)])
        .unwrap()
        .with_opener(opener)
}

/// An H.264 High config and a 64 × 48 context on `d`.
pub(crate) fn h264_context(d: &mut Driver) -> VAContextID {
    let cfg = d
        .create_config(sys::VAProfileH264High, sys::VAEntrypointVLD, &[])
        .unwrap();
    d.create_context(cfg, 64, 48, 0, &[]).unwrap()
}

/// Decodes one IDR picture (64 × 48, `map::h264::tests`) into `target`
/// through the VA calls; returns its OUTPUT timestamp (ns).
pub(crate) fn decode_idr(d: &mut Driver, ctx: VAContextID, target: VASurfaceID) -> u64 {
    let (sq, pc) = seq_pic();
    let mut pp = params(sq, pc);
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
