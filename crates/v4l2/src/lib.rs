//! The only code that issues V4L2 and media-controller ioctls.
//!
//! * [`discover`]: walk every `/dev/media*` topology (`MEDIA_IOC_DEVICE_INFO`,
//!   `MEDIA_IOC_G_TOPOLOGY`) to find stateless decoders; no hard-coded `/dev/videoN`.
//! * [`profile`]: per-driver facts (formats, control menus, ordering rules)
//!   taken from the drivers' sources and the uAPI docs.
//! * [`session`]: one decoding session on a real device (OUTPUT MMAP,
//!   CAPTURE CREATE_BUFS + EXPBUF, CAPTURE mmap only when the CPU first
//!   reads a buffer, a pool of media requests).
//! * [`output`]: the OUTPUT (bitstream) buffers' sizes per stream and their
//!   pool (mapped on first use, lowest free index first, growth by
//!   CREATE_BUFS up to a cap), without I/O so that it is tested on the host.
//!
//! The engine talks to devices only through the [`DecoderDevice`] trait
//! (tests implement it with the testkit crate's fake device).
//!
//! `unsafe` is allowed in the private `media` module's FFI and in [`session`]'s one private
//! `request_fd` module (a media request's fd borrowed for `poll`) only, each
//! block with its `// SAFETY:` line; the rest of the crate denies it.

#![deny(unsafe_code)]

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_frame::CaptureFormat;

pub mod discover;
#[allow(unsafe_code)] // MEDIA_IOC_* ioctls (FFI)
mod media;
pub mod output;
pub mod profile;
pub mod session; // its `request_fd` submodule allows unsafe_code

/// What one codec on one device supports (from VIDIOC_ENUM_FMT, ENUM_FRAMESIZES
/// and the codec's menu controls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecSupport {
    pub codec: CodecKind,
    /// Largest coded size in pixels (VIDIOC_ENUM_FRAMESIZES on the OUTPUT format).
    pub max_width: u32,
    pub max_height: u32,
    /// Current value of `V4L2_CID_STATELESS_<codec>_DECODE_MODE`, if the codec has that menu.
    pub decode_mode: Option<DecodeMode>,
    /// Current value of `V4L2_CID_STATELESS_<codec>_START_CODE`, if the codec has that menu.
    pub start_code: Option<StartCode>,
}

/// One stateless decoder found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `/dev/mediaN` (requests are allocated here).
    pub media_path: PathBuf,
    /// The decoder's `/dev/videoN`, found through the media topology.
    pub video_path: PathBuf,
    /// `driver` from MEDIA_IOC_DEVICE_INFO / VIDIOC_QUERYCAP (e.g. `hantro-vpu`, `visl`).
    pub driver: String,
    /// `card` from VIDIOC_QUERYCAP.
    pub card: String,
    pub bus_info: String,
    pub codecs: Vec<CodecSupport>,
}

impl DeviceInfo {
    /// This device's support for `codec`, if any.
    pub fn support(&self, codec: CodecKind) -> Option<&CodecSupport> {
        self.codecs.iter().find(|c| c.codec == codec)
    }
}

/// A decode job the device has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    /// The job's [`DecodeJob::timestamp_ns`].
    pub timestamp_ns: u64,
    /// Index of the CAPTURE buffer holding the picture: the V4L2 buffer index
    /// plus the number of buffers of earlier configurations, so that indices
    /// stay unique across reconfigurations.
    pub capture_index: usize,
    /// `V4L2_BUF_FLAG_ERROR` was set on the CAPTURE buffer: the picture is bad.
    pub error: bool,
}

/// Errors from a device. Every variant says which device and which step.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{device}: {what}: {source}")]
    Ioctl {
        device: String,
        what: String,
        source: nix::Error,
    },
    #[error("{device}: {0}", device = .1)]
    Unsupported(String, String),
    #[error("{device}: device stopped answering ({what})")]
    Timeout { device: String, what: String },
}

impl DeviceError {
    /// The errno of a failed ioctl, if this is one.
    pub fn errno(&self) -> Option<nix::Error> {
        match self {
            DeviceError::Ioctl { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// A failure worth retrying the same call for: `EAGAIN` or `EBUSY` from
    /// an ioctl (the uAPI's "resource temporarily unavailable" / "device or
    /// resource busy": vb2 while buffers are being returned, a media request
    /// still completing). `ENOMEM`, `ENODEV` and every other errno are final.
    pub fn is_transient(&self) -> bool {
        matches!(self.errno(), Some(nix::Error::EAGAIN | nix::Error::EBUSY))
    }

    /// The device is gone (`ENODEV`: its driver was unbound or the hardware
    /// removed; v4l2-dev.c answers every ioctl on an open fd with it).
    pub fn is_gone(&self) -> bool {
        self.errno() == Some(nix::Error::ENODEV)
    }
}

/// A stateless decoder session as the engine sees it. Implemented by
/// [`session::Session`] (real device) and the testkit crate's
/// `vreq_testkit::fake::FakeDevice` (tests).
pub trait DecoderDevice {
    /// Human-readable name for messages (`/dev/video0 (visl)`).
    fn name(&self) -> String;
    /// The decode mode and start-code setting the device is in (read from its menus).
    fn mode(&self) -> (DecodeMode, StartCode);
    /// Whether the device has control `id` (`V4L2_CID_*`), as probed with
    /// `VIDIOC_QUERY_EXT_CTRL` at open (a fake answers from its profile).
    /// Used for optional controls such as HEVC `EXT_SPS_ST_RPS`.
    /// Default: `false` (only mandatory controls are sent).
    fn has_control(&self, id: u32) -> bool {
        let _ = id;
        false
    }
    /// (Re)configures for a stream: OUTPUT format, the sequence controls that
    /// some drivers need before CAPTURE is negotiated (`first_controls`, e.g. the
    /// H.264 / HEVC SPS for rkvdec), CAPTURE format (by
    /// [`StreamParams::bit_depth`], see [`profile::choose_capture_format`]) and
    /// `capture_buffers` CAPTURE buffers. Drops all buffers of a previous
    /// configuration except those the engine had dequeued and not given back:
    /// those are *retired* — still readable through [`DecoderDevice::capture_map`]
    /// / [`DecoderDevice::capture_dmabufs`] under their index (vb2 orphans
    /// buffers still mapped or exported on `REQBUFS(0)`; a retired buffer not
    /// mapped before is mapped through its dmabuf) — until
    /// [`DecoderDevice::requeue_capture`] releases them.
    fn configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first_controls: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError>;
    /// Requests that can be queued right now without blocking (free OUTPUT buffers/requests).
    fn free_slots(&self) -> usize;
    /// Queues one job as one media request. Precondition: `free_slots() > 0`.
    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError>;
    /// Waits up to `timeout` for a finished picture. `Ok(None)` on timeout.
    /// Also recycles finished OUTPUT buffers and requests.
    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError>;
    /// Jobs queued and not yet completed.
    fn in_flight(&self) -> usize;
    /// Gives CAPTURE buffer `index` back to the device for a future picture;
    /// for a retired buffer of an earlier configuration, releases it (unmap,
    /// close its dmabufs). Errors on an unknown or already queued index.
    fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError>;
    /// The dmabufs of CAPTURE buffer `index`, one per memory plane
    /// (`VIDIOC_EXPBUF`, done once when the buffer is allocated: an export
    /// maps nothing into this process). Empty for an unknown index.
    fn capture_dmabufs(&self, index: usize) -> Vec<std::os::fd::BorrowedFd<'_>>;
    /// The size in bytes of each memory plane of CAPTURE buffer `index`
    /// (`VIDIOC_QUERYBUF`'s `length`, read when the buffer is allocated),
    /// without mapping it: what a zero-copy consumer (vreq-va's
    /// `vaExportSurfaceHandle`) reports as a dmabuf's size. Empty for an
    /// unknown index.
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize>;
    /// CPU view of CAPTURE buffer `index`, one slice per memory plane, each
    /// [`DecoderDevice::capture_plane_lengths`] bytes long. The buffer is
    /// mapped on the first call for it (`mmap`, uAPI
    /// `Documentation/userspace-api/media/v4l/mmap.rst`), not at allocation:
    /// only the CPU readers (Y4M output, the window's and the kiosk's copy
    /// paths, vreq-va's `vaGetImage` / `vaDeriveImage`) call this, so the
    /// decode-only and zero-copy paths map nothing. The mapping is then kept
    /// for the buffer's life and unmapped with it (released retired buffer,
    /// reconfiguration without retirement, drop). `Ok` with no slice for an
    /// unknown index.
    ///
    /// Errors: the mapping failed, one [`DeviceError::Ioctl`] line naming the
    /// device, the buffer and the plane
    /// (`/dev/video0 (visl): mmap(CAPTURE 3 plane 0): ENOMEM: ...`).
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError>;
    /// CAPTURE buffers (this configuration's and retired ones) that have a
    /// CPU mapping now (see [`DecoderDevice::capture_map`]): 0 on the
    /// decode-only and zero-copy paths. For tests and the soak log line.
    fn mapped_captures(&self) -> usize;
    /// Whether the device signalled `V4L2_EVENT_SOURCE_CHANGE` with
    /// `V4L2_EVENT_SRC_CH_RESOLUTION` since the last call (uAPI
    /// "vidioc-dqevent"; stateless drivers rarely send it, the stream's own
    /// headers normally drive reconfiguration). Clears the flag. The engine
    /// then renegotiates CAPTURE before its next job (drain, hand out the old
    /// frames, reallocate). Default: never.
    fn take_source_change(&mut self) -> bool {
        false
    }
}

/// Keeps exported dmabuf fds alive alongside their buffer.
/// A boxed device is a device (`Box<dyn DecoderDevice>`: the VA driver picks
/// a real session or, in tests, a fake at run time).
impl<D: DecoderDevice + ?Sized> DecoderDevice for Box<D> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        (**self).mode()
    }
    fn has_control(&self, id: u32) -> bool {
        (**self).has_control(id)
    }
    fn configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first_controls: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        (**self).configure(codec, params, first_controls, capture_buffers)
    }
    fn free_slots(&self) -> usize {
        (**self).free_slots()
    }
    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
        (**self).queue(job)
    }
    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError> {
        (**self).dequeue(timeout)
    }
    fn in_flight(&self) -> usize {
        (**self).in_flight()
    }
    fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError> {
        (**self).requeue_capture(index)
    }
    fn capture_dmabufs(&self, index: usize) -> Vec<std::os::fd::BorrowedFd<'_>> {
        (**self).capture_dmabufs(index)
    }
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        (**self).capture_plane_lengths(index)
    }
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        (**self).capture_map(index)
    }
    fn mapped_captures(&self) -> usize {
        (**self).mapped_captures()
    }
    fn take_source_change(&mut self) -> bool {
        (**self).take_source_change()
    }
}

pub type DmabufFds = Vec<OwnedFd>;
