//! One decoding session on a real V4L2 stateless decoder (uAPI
//! "dev-stateless-decoder", "media-request-api").
//!
//! Setup ([`Session::configure`]), in this order (it satisfies every
//! [`super::profile::Profile`]'s rules, see `Profile::setup_order`), one
//! `Session` method per step:
//! S_FMT(OUTPUT) with a `sizeimage` for the stream (`set_output_format`,
//! [`OutputSizes::for_stream`]) → REQBUFS(OUTPUT, MMAP) + QUERYBUF +
//! MEDIA_IOC_REQUEST_ALLOC (one request per OUTPUT buffer;
//! `allocate_output_buffers`; no mmap) → S_EXT_CTRLS(first controls, no request;
//! `set_first_controls`) → ENUM_FMT(CAPTURE) and the choice by bit depth
//! (`choose_capture_fourcc`) → G_FMT(CAPTURE), S_FMT(CAPTURE) if another
//! fourcc (`set_capture_format`) → CREATE_BUFS(CAPTURE, MMAP) + QUERYBUF +
//! EXPBUF (`create_capture_buffers`) → QBUF(all CAPTURE) → STREAMON(OUTPUT,
//! CAPTURE) (`stream_on`).
//!
//! CAPTURE memory is mapped into the process only when the CPU first reads a
//! buffer ([`DecoderDevice::capture_map`]: Y4M output, the copy paths,
//! vreq-va's image read-back), then kept until the buffer goes: the
//! decode-only and zero-copy paths (the dmabufs of EXPBUF, which maps
//! nothing) never map it, so its pages do not count in the process's RSS
//! (VP9 1080p: 25 buffers of 3.1 MB, ~77 MB of `/dev/video0` mappings when
//! they were all mapped at allocation).
//!
//! OUTPUT memory likewise: a buffer is mapped on its first use, the lowest
//! free index first ([`OutputPool::pick`]), so a stream with two jobs in
//! flight maps two buffers; an access unit larger than the buffers makes a
//! new generation of larger ones (`VIDIOC_CREATE_BUFS`, see
//! `OutputIo::grow`), up to a cap ([`OutputSizes::cap`]).
//!
//! Per job ([`Session::queue`]): copy the bitstream into a free OUTPUT
//! buffer (mapping it on its first use), S_EXT_CTRLS(which = REQUEST_VAL)
//! into that buffer's request, QBUF(OUTPUT, REQUEST_FD [+ M2M_HOLD_CAPTURE_BUF]), MEDIA_REQUEST_IOC_QUEUE.
//! Completion ([`Session::dequeue`]): poll, DQBUF(OUTPUT) → buffer and request
//! free again (MEDIA_REQUEST_IOC_REINIT), DQBUF(CAPTURE) → a [`Completed`].
//!
//! Timestamps: V4L2 carries them as a `timeval` (µs), vb2 stores ns. A job's
//! `timestamp_ns` should be a multiple of 1000 so that the `reference_ts` the
//! codec puts into controls matches what the kernel stores; the session maps
//! the µs-truncated value back to the job's exact value for [`Completed`].

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use v4l2r::bindings;
use v4l2r::ioctl::{
    self, CtrlWhich, ExpbufFlags, IntoErrno, MemoryConsistency, PlaneMapping, QueryBuffer, Request,
    UncheckedV4l2Buffer, V4l2Buffer,
};
use v4l2r::memory::MemoryType;
use v4l2r::{Format, QueueType};

use super::discover::{probe_video, read_menus};
use super::output::{AcquireError, Generation, NewBuffer, OutputPool, OutputSizes};
pub use super::output::{MAX_OUTPUT_SIZE, MIN_OUTPUT_SIZE};
use super::profile::{self, Profile};
use super::{CaptureFormat, Completed, DecoderDevice, DeviceError, DeviceInfo};
use vreq_core::uapi_ext;
use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_frame::{plane_layout, PixelFormat};

/// OUTPUT buffers (and media requests) per generation (`VIDIOC_REQBUFS`,
/// then each growth's `VIDIOC_CREATE_BUFS`): enough for ≥ 4 requests in
/// flight with room for the next ones being prepared. Mapped only when used.
pub const OUTPUT_BUFFERS: u32 = 8;
/// Most CAPTURE buffers a session allocates (`VIDEO_MAX_FRAME` is 64).
pub const MAX_CAPTURE_BUFFERS: u32 = 64;

/// `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF` (videodev2.h).
const HOLD_CAPTURE_BUF: u32 = bindings::V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;

fn ns_to_timeval(ns: u64) -> bindings::timeval {
    bindings::timeval {
        tv_sec: (ns / 1_000_000_000) as _,
        tv_usec: ((ns % 1_000_000_000) / 1000) as _,
    }
}

fn timeval_to_ns(tv: bindings::timeval) -> u64 {
    (tv.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(tv.tv_usec as u64 * 1000)
}

fn errno<E: IntoErrno>(e: E) -> Errno {
    Errno::from_raw(e.into_errno())
}

/// A failed ioctl on the video node `device`: what was asked, and the errno.
fn ioctl_error(device: &str, what: impl Into<String>, source: Errno) -> DeviceError {
    DeviceError::Ioctl {
        device: device.to_string(),
        what: what.into(),
        source,
    }
}

/// What the device `device` cannot do (or answered that we cannot use).
fn unsupported_error(device: &str, what: impl Into<String>) -> DeviceError {
    DeviceError::Unsupported(what.into(), device.to_string())
}

/// The OUTPUT buffers: mapped with `PlaneMapping` (whose drop is the
/// `munmap`), one media request each.
type Outputs = OutputPool<PlaneMapping, Request>;

/// What `VIDIOC_QUERY_EXT_CTRL` says about one control (uAPI "vidioc-queryctrl").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlInfo {
    /// `elem_size`: bytes per element.
    pub elem_size: u32,
    /// `elems`: current element count.
    pub elems: u32,
    /// `dims[0]` (0: not an array).
    pub dims0: u32,
    /// `flags` (`V4L2_CTRL_FLAG_DYNAMIC_ARRAY`, ...).
    pub flags: u32,
}

impl ControlInfo {
    /// `V4L2_CTRL_FLAG_DYNAMIC_ARRAY` is set.
    pub fn dynamic_array(&self) -> bool {
        self.flags & bindings::V4L2_CTRL_FLAG_DYNAMIC_ARRAY != 0
    }
}

/// The controls probed at open for `codec`: the optional ones and the
/// dynamic arrays whose `dims[0]` limits a request.
fn probed_controls(codec: CodecKind) -> &'static [u32] {
    match codec {
        CodecKind::Hevc => &[
            bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
            bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS,
            uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS,
            uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS,
        ],
        _ => &[],
    }
}

/// The decode mode and start code of `codec` on `video`: for H.264 / HEVC
/// the current values of `V4L2_CID_STATELESS_<codec>_DECODE_MODE` /
/// `_START_CODE` (frame-based / none where a menu is unreadable, with a
/// warning naming `name`); frame-based without start codes for the codecs
/// without such menus.
fn read_mode(video: &File, codec: CodecKind, name: &str) -> (DecodeMode, StartCode) {
    match (codec, read_menus(video, codec)) {
        (CodecKind::H264 | CodecKind::Hevc, (Some(m), Some(s))) => (m, s),
        (CodecKind::H264 | CodecKind::Hevc, (m, s)) => {
            tracing::warn!(
                "{name}: {codec} decode_mode/start_code menus unreadable; assuming frame-based"
            );
            (
                m.unwrap_or(DecodeMode::FrameBased),
                s.unwrap_or(StartCode::None),
            )
        }
        // VP8/VP9/MPEG-2 have no such menus: one request per frame, no start codes.
        _ => (DecodeMode::FrameBased, StartCode::None),
    }
}

/// `VIDIOC_QUERY_EXT_CTRL` of each of `codec`'s [`probed_controls`] on
/// `video`: control id → what the device said, `None` where the query
/// failed (the device lacks the control). Logged at debug level under `name`.
fn probe_controls(video: &File, codec: CodecKind, name: &str) -> HashMap<u32, Option<ControlInfo>> {
    let mut controls = HashMap::new();
    for &id in probed_controls(codec) {
        let info = ioctl::CtrlId::new(id)
            .ok()
            .and_then(|cid| {
                ioctl::query_ext_ctrl::<bindings::v4l2_query_ext_ctrl>(
                    video,
                    cid,
                    ioctl::QueryCtrlFlags::empty(),
                )
                .ok()
            })
            .map(|q| ControlInfo {
                elem_size: q.elem_size,
                elems: q.elems,
                dims0: q.dims[0],
                flags: q.flags,
            });
        tracing::debug!("{name}: control {id:#x}: {info:?}");
        controls.insert(id, info);
    }
    controls
}

/// Checks a request's dynamic-array controls against what the device said:
/// an empty array is never sent (`size` 0 would keep the previous value or be
/// refused, uAPI "vidioc-g-ext-ctrls"), a control the device lacks is not
/// sent, and an array longer than the device's `dims[0]` is refused.
/// Returns the message for a [`DeviceError::Unsupported`].
pub fn check_array_controls(
    controls: &[Control],
    info: &dyn Fn(u32) -> Option<Option<ControlInfo>>,
) -> Result<(), String> {
    for c in controls {
        let len = match c {
            Control::HevcSliceParams(v) => v.len(),
            Control::HevcEntryPointOffsets(v) => v.len(),
            Control::HevcExtSpsStRps(v) => v.len(),
            Control::HevcExtSpsLtRps(v) => v.len(),
            _ => continue,
        };
        if len == 0 {
            return Err(format!("{}: empty dynamic array (not sent)", c.name()));
        }
        match info(c.id()) {
            Some(None) => return Err(format!("{}: the device has no such control", c.name())),
            Some(Some(i)) if i.dynamic_array() && i.dims0 > 0 && len > i.dims0 as usize => {
                return Err(format!(
                    "{}: {len} elements exceed the device's maximum of {} (dims[0])",
                    c.name(),
                    i.dims0
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One memory plane of a CAPTURE buffer as `VIDIOC_QUERYBUF` described it
/// (uAPI "vidioc-querybuf", `struct v4l2_plane`).
#[derive(Debug, Clone, Copy)]
struct CapturePlane {
    /// `m.mem_offset`: the cookie `mmap` takes as its offset on the video node.
    mem_offset: u32,
    /// `length`: the plane's size in bytes.
    length: u32,
}

struct CaptureBuffer {
    /// The V4L2 buffer index in its configuration (for messages).
    index: usize,
    /// Per memory plane, from `VIDIOC_QUERYBUF` at allocation.
    planes: Vec<CapturePlane>,
    /// The CPU mappings, one per memory plane, made by the first
    /// [`Session::map_capture`] and kept until this buffer is dropped (which
    /// unmaps them: `PlaneMapping`'s `Drop` is the `munmap`).
    ///
    /// Interior mutability rather than a `&mut` accessor: the readers hold
    /// shared borrows of the session for as long as a frame's planes are
    /// read (the engine's `planes(&self)` behind vreq-present's
    /// `FrameSource`, vreq-va's image read-back through `&dyn
    /// DecoderDevice`), while other frames are out, so no reader can have
    /// the session exclusively. The cell is written once and never changed
    /// (a `OnceLock`, not a `OnceCell`, so that `Session` stays `Sync`: the
    /// mappings are plain memory).
    maps: OnceLock<Vec<PlaneMapping>>,
    /// One dmabuf per memory plane (`VIDIOC_EXPBUF`, at allocation).
    dmabufs: Vec<OwnedFd>,
    queued: bool,
}

impl CaptureBuffer {
    /// A slot for an index the kernel did not give us (below
    /// `v4l2_create_buffers.index`: not expected).
    fn absent(index: usize) -> CaptureBuffer {
        CaptureBuffer {
            index,
            planes: Vec::new(),
            maps: OnceLock::new(),
            dmabufs: Vec::new(),
            queued: false,
        }
    }

    /// This buffer's mappings, if it has been mapped.
    fn mapped(&self) -> Option<Vec<&[u8]>> {
        self.maps.get().map(|m| m.iter().map(|p| &p[..]).collect())
    }
}

/// A decoding session on a real V4L2 stateless decoder.
pub struct Session {
    name: String,
    video: File,
    media: File,
    mplane: bool,
    profile: &'static Profile,
    info: DeviceInfo,
    codec: CodecKind,
    mode: (DecodeMode, StartCode),
    outputs: Outputs,
    captures: Vec<CaptureBuffer>,
    /// Index the engine sees for V4L2 CAPTURE buffer 0 of this configuration:
    /// indices stay unique across reconfigurations.
    capture_base: usize,
    /// Dequeued CAPTURE buffers of earlier configurations (mappings and
    /// dmabufs kept; vb2 orphans buffers still mapped or exported on
    /// `REQBUFS(0)`), until released.
    retired: HashMap<usize, CaptureBuffer>,
    capture_planes: usize,
    /// The codec's controls as `VIDIOC_QUERY_EXT_CTRL` answered at open;
    /// `None` where the query failed (control absent).
    controls: HashMap<u32, Option<ControlInfo>>,
    streaming: bool,
    /// µs-truncated ns → the job's exact `timestamp_ns`, for queued pictures.
    timestamps: HashMap<u64, u64>,
    /// Pictures whose last request (no HOLD flag) is queued and whose CAPTURE
    /// buffer has not been dequeued yet.
    captures_expected: usize,
    /// Warned once that a job's `timestamp_ns` is not a whole µs.
    warned_timestamp_ns: bool,
    /// OUTPUT queue has V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF.
    supports_hold: bool,
    /// A `V4L2_EVENT_SOURCE_CHANGE` (resolution) was dequeued and not yet reported.
    source_changed: bool,
}

impl Session {
    /// Opens `info`'s video and media nodes for decoding `codec`: checks the
    /// device still offers `codec`, reads its decode-mode / start-code menus
    /// and subscribes to `V4L2_EVENT_SOURCE_CHANGE`.
    ///
    /// Errors name the node and the failing step (open, QUERYCAP, ...), or
    /// say the codec is not offered.
    pub fn open(info: &DeviceInfo, codec: CodecKind) -> Result<Session, DeviceError> {
        let vpath = info.video_path.display().to_string();
        let io = |what: &str, path: &str, e: std::io::Error| DeviceError::Ioctl {
            device: path.to_string(),
            what: what.to_string(),
            source: Errno::from_raw(e.raw_os_error().unwrap_or(libc_eio())),
        };
        let video = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(
                nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_CLOEXEC.bits(),
            )
            .open(&info.video_path)
            .map_err(|e| io("open", &vpath, e))?;
        let mpath = info.media_path.display().to_string();
        let media = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_CLOEXEC.bits())
            .open(&info.media_path)
            .map_err(|e| io("open", &mpath, e))?;
        let probe = probe_video(&video, &info.video_path)
            .map_err(|e| DeviceError::Unsupported(e, vpath.clone()))?;
        let name = format!("{} ({})", vpath, probe.driver);
        if !probe.codecs.iter().any(|c| c.codec == codec) {
            return Err(DeviceError::Unsupported(
                format!("{codec} is not among its OUTPUT formats"),
                name,
            ));
        }
        let mode = read_mode(&video, codec, &name);
        if let Err(e) = ioctl::subscribe_event(
            &video,
            ioctl::EventType::SourceChange(0),
            ioctl::SubscribeEventFlags::empty(),
        ) {
            tracing::debug!("{name}: VIDIOC_SUBSCRIBE_EVENT(SOURCE_CHANGE): {e}");
        }
        let listed: Vec<CodecKind> = probe.codecs.iter().map(|c| c.codec).collect();
        let profile = profile::for_probe(&probe.driver, &probe.card, &listed);
        let controls = probe_controls(&video, codec, &name);
        tracing::info!(
            "{name}: {codec} {mode:?}, profile {} {}",
            profile.driver,
            profile.variant
        );
        Ok(Session {
            name,
            video,
            media,
            mplane: probe.mplane,
            profile,
            info: info.clone(),
            codec,
            mode,
            outputs: Outputs::default(),
            captures: Vec::new(),
            capture_base: 0,
            retired: HashMap::new(),
            capture_planes: 0,
            controls,
            streaming: false,
            timestamps: HashMap::new(),
            captures_expected: 0,
            warned_timestamp_ns: false,
            supports_hold: false,
            source_changed: false,
        })
    }

    /// The profile this session follows.
    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    /// Queued requests the kernel has not completed yet: each busy OUTPUT
    /// buffer's request fd polled for `POLLPRI` (signalled on completion,
    /// uAPI "media-request-ioc-queue") without waiting. For diagnostics.
    pub fn requests_not_completed(&self) -> usize {
        self.outputs
            .busy()
            .filter(|o| {
                let mut pfd = [PollFd::new(
                    request_fd::borrow(&o.request),
                    PollFlags::POLLPRI,
                )];
                matches!(nix::poll::poll(&mut pfd, PollTimeout::ZERO), Ok(0))
            })
            .count()
    }

    /// The media device fd (requests are allocated from it).
    pub fn media_fd(&self) -> BorrowedFd<'_> {
        self.media.as_fd()
    }

    fn out_q(&self) -> QueueType {
        if self.mplane {
            QueueType::VideoOutputMplane
        } else {
            QueueType::VideoOutput
        }
    }

    fn cap_q(&self) -> QueueType {
        if self.mplane {
            QueueType::VideoCaptureMplane
        } else {
            QueueType::VideoCapture
        }
    }

    fn err(&self, what: impl Into<String>, source: Errno) -> DeviceError {
        ioctl_error(&self.name, what, source)
    }

    fn unsupported(&self, what: impl Into<String>) -> DeviceError {
        unsupported_error(&self.name, what)
    }

    /// STREAMOFF both queues and frees every buffer and request (unmapping
    /// the CAPTURE buffers that were mapped). With `retire`, CAPTURE buffers
    /// the engine had dequeued keep their mappings (if any) and dmabufs under
    /// their indices until released by [`DecoderDevice::requeue_capture`];
    /// the next configuration's indices start after them.
    fn teardown(&mut self, retire: bool) {
        if self.streaming {
            let _ = ioctl::streamoff(&self.video, self.out_q());
            let _ = ioctl::streamoff(&self.video, self.cap_q());
            self.streaming = false;
        }
        // Unmaps the mapped OUTPUT buffers and closes their requests.
        self.outputs = Outputs::default();
        let n = self.captures.len();
        for (i, c) in std::mem::take(&mut self.captures).into_iter().enumerate() {
            if retire && !c.queued && !c.planes.is_empty() {
                self.retired.insert(self.capture_base + i, c);
            }
        }
        if !retire {
            self.retired.clear();
        }
        self.capture_base += n;
        self.timestamps.clear();
        self.captures_expected = 0;
        let none = MemoryConsistency::empty();
        let _ = ioctl::reqbufs::<()>(&self.video, self.out_q(), MemoryType::Mmap, 0, none);
        let _ = ioctl::reqbufs::<()>(&self.video, self.cap_q(), MemoryType::Mmap, 0, none);
    }

    fn set_controls(
        &self,
        controls: &[Control],
        which: CtrlWhich,
        step: &str,
    ) -> Result<(), DeviceError> {
        if controls.is_empty() {
            return Ok(());
        }
        let mut raw: Vec<bindings::v4l2_ext_control> = controls.iter().map(ext_control).collect();
        ioctl::s_ext_ctrls(&self.video, which, &mut raw[..]).map_err(|e| {
            let at = controls
                .get(e.error_idx as usize)
                .map(|c| c.name())
                .unwrap_or("(all)");
            self.err(format!("{step} at {at}"), errno(e))
        })
    }

    fn qbuf(
        &self,
        queue: QueueType,
        index: usize,
        bytesused: u32,
        flags: u32,
        timestamp_ns: u64,
        request: Option<i32>,
    ) -> Result<(), Errno> {
        let mut b = bindings::v4l2_buffer {
            index: index as u32,
            type_: queue as u32,
            memory: MemoryType::Mmap as u32,
            flags,
            timestamp: ns_to_timeval(timestamp_ns),
            ..Default::default()
        };
        if let Some(fd) = request {
            b.__bindgen_anon_1.request_fd = fd;
        }
        let planes = if self.mplane {
            let mut p: [bindings::v4l2_plane; bindings::VIDEO_MAX_PLANES as usize] =
                Default::default();
            let n = if queue == self.out_q() {
                1
            } else {
                self.capture_planes.max(1)
            };
            b.length = n as u32;
            p[0].bytesused = bytesused;
            Some(p)
        } else {
            b.bytesused = bytesused;
            None
        };
        ioctl::qbuf::<_, ()>(&self.video, UncheckedV4l2Buffer(b, planes)).map_err(errno)
    }

    fn dqbuf(&self, queue: QueueType) -> Result<Option<V4l2Buffer>, Errno> {
        match ioctl::dqbuf::<V4l2Buffer>(&self.video, queue) {
            Ok(b) => Ok(Some(b)),
            Err(e) => match errno(e) {
                Errno::EAGAIN => Ok(None),
                e => Err(e),
            },
        }
    }

    /// Recycles every finished OUTPUT buffer and its request. Asks the
    /// device only while some OUTPUT buffer is queued: a `VIDIOC_DQBUF` on an
    /// empty queue is a syscall that can only fail with `EAGAIN` (it was 2 of
    /// the ~11 syscalls per frame of a decode-only run: scripts/bench-vm.sh).
    fn reap_outputs(&mut self) -> Result<(), DeviceError> {
        while self.busy_outputs() > 0 {
            let Some(b) = self
                .dqbuf(self.out_q())
                .map_err(|e| self.err("VIDIOC_DQBUF(OUTPUT)", e))?
            else {
                break;
            };
            let i = b.index() as usize;
            let Some(out) = self.outputs.slot(i) else {
                continue;
            };
            let timestamp_ns = out.busy;
            if b.has_error() {
                tracing::warn!(
                    "{}: request for picture {:?} completed with V4L2_BUF_FLAG_ERROR",
                    self.name,
                    timestamp_ns
                );
            }
            if let Err(e) = out.request.reinit() {
                // The request may still be completing: wait for it (POLLPRI on
                // the request fd signals completion), then retry once.
                let mut pfd = [PollFd::new(
                    request_fd::borrow(&out.request),
                    PollFlags::POLLPRI,
                )];
                let _ = nix::poll::poll(&mut pfd, PollTimeout::from(1000u16));
                if out.request.reinit().is_err() {
                    // Not busy any more, but its request is unusable.
                    self.outputs.take_out_of_use(i);
                    return Err(DeviceError::Ioctl {
                        device: self.name.clone(),
                        what: format!("MEDIA_REQUEST_IOC_REINIT (OUTPUT buffer {i}): {e}"),
                        source: Errno::EBUSY,
                    });
                }
            }
            self.outputs.release(i);
        }
        Ok(())
    }

    fn reap_events(&mut self) {
        while let Ok(ev) = ioctl::dqevent::<ioctl::Event>(&self.video) {
            if let ioctl::Event::SrcChangeEvent(ch) = &ev {
                if ch.contains(ioctl::SrcChanges::RESOLUTION) {
                    self.source_changed = true;
                }
            }
            tracing::info!(
                "{}: V4L2 event {ev:?} (a resolution change makes the engine renegotiate CAPTURE)",
                self.name
            );
        }
    }

    /// CAPTURE buffer by engine index: this configuration's or a retired one.
    fn capture(&self, global: usize) -> Option<&CaptureBuffer> {
        match global.checked_sub(self.capture_base) {
            Some(i) => self.captures.get(i),
            None => self.retired.get(&global),
        }
    }

    /// What `VIDIOC_QUERY_EXT_CTRL` said about control `id` at open
    /// (`None`: not probed; `Some(None)`: the device lacks it).
    pub fn control_info(&self, id: u32) -> Option<Option<ControlInfo>> {
        self.controls.get(&id).copied()
    }

    fn busy_outputs(&self) -> usize {
        self.outputs.busy_count()
    }

    /// OUTPUT buffers mapped into the process now: each mapped on its first
    /// use ([`OutputPool::pick`] hands out the lowest free index first), so
    /// this is the most jobs that were in flight at once, not
    /// [`OUTPUT_BUFFERS`]. For tests and the soak log line.
    pub fn mapped_outputs(&self) -> usize {
        self.outputs.mapped_count()
    }

    /// The size in bytes of the OUTPUT buffers jobs go into now (`length`
    /// from `VIDIOC_QUERYBUF`; 0 before configuration).
    pub fn output_buffer_size(&self) -> usize {
        self.outputs.buffer_size()
    }

    /// One configuration, in the order of the module doc (uAPI
    /// "dev-stateless-decoder", Initialization, with the OUTPUT buffers moved
    /// before the first controls as `Profile::setup_order` has it):
    /// [`Self::set_output_format`] → [`Self::allocate_output_buffers`] →
    /// [`Self::set_first_controls`] → [`Self::choose_capture_fourcc`] →
    /// [`Self::set_capture_format`] → [`Self::create_capture_buffers`] →
    /// [`Self::stream_on`]. That order satisfies every profile's
    /// [`Profile::check_order`]: rpi-hevc-dec wants `REQBUFS(OUTPUT)` before
    /// `S_FMT(CAPTURE)`; rkvdec and rpi-hevc-dec derive the CAPTURE format
    /// from the SPS among `first_controls`. The caller tears down on error.
    fn do_configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first_controls: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        let (w, h) = (params.coded_width, params.coded_height);
        self.check_coded_size(codec, w, h)?;
        let sizes = OutputSizes::for_stream(codec, params, first_controls);
        self.set_output_format(codec, w, h, sizes.initial)?;
        self.outputs = Outputs::new(sizes.cap);
        self.allocate_output_buffers()?;
        self.set_first_controls(first_controls)?;
        let chosen = self.choose_capture_fourcc(params.bit_depth)?;
        let cap = self.set_capture_format(chosen, w, h)?;
        let fmt = self.describe_capture_format(&cap)?;
        self.capture_planes = cap.plane_fmt.len().max(1);
        let created = self.create_capture_buffers(&cap, capture_buffers)?;
        self.stream_on(created)?;
        self.codec = codec;
        tracing::info!(
            "{}: OUTPUT {codec} {w}x{h} {} x {} bytes (cap {}, mapped when used); \
             CAPTURE {} {}x{} x {}",
            self.name,
            self.outputs.len(),
            self.outputs.buffer_size(),
            sizes.cap,
            cap.pixelformat,
            cap.width,
            cap.height,
            created.count
        );
        Ok(fmt)
    }

    /// Refuses a zero coded size (pixels) or one above what
    /// `VIDIOC_ENUM_FRAMESIZES` said at discovery ([`super::CodecSupport`]).
    fn check_coded_size(&self, codec: CodecKind, w: u32, h: u32) -> Result<(), DeviceError> {
        if w == 0 || h == 0 {
            return Err(self.unsupported(format!("coded size {w}x{h}")));
        }
        if let Some(s) = self.info.support(codec) {
            if (s.max_width > 0 && w > s.max_width) || (s.max_height > 0 && h > s.max_height) {
                return Err(self.unsupported(format!(
                    "{codec} {w}x{h} exceeds the device's maximum {}x{}",
                    s.max_width, s.max_height
                )));
            }
        }
        Ok(())
    }

    /// Sets the coded format on OUTPUT (`VIDIOC_S_FMT`): the codec's fourcc,
    /// the coded size in pixels and `sizeimage` bytes
    /// ([`OutputSizes::initial`]). The driver may round `sizeimage` up (or
    /// impose its own); the buffers' real size is what `VIDIOC_QUERYBUF`
    /// says at allocation. Refuses a driver answer with another fourcc or a
    /// smaller coded size.
    fn set_output_format(
        &mut self,
        codec: CodecKind,
        w: u32,
        h: u32,
        sizeimage: u32,
    ) -> Result<(), DeviceError> {
        let out_fmt = Format {
            width: w,
            height: h,
            pixelformat: v4l2r::PixelFormat::from(&codec.output_fourcc()),
            plane_fmt: vec![v4l2r::PlaneLayout {
                sizeimage,
                bytesperline: 0,
            }],
        };
        let out_q = self.out_q();
        let got: Format = ioctl::s_fmt(&mut self.video, (out_q, &out_fmt))
            .map_err(|e| self.err("VIDIOC_S_FMT(OUTPUT)", errno(e)))?;
        if <[u8; 4]>::from(got.pixelformat) != codec.output_fourcc()
            || got.width < w
            || got.height < h
        {
            return Err(self.unsupported(format!(
                "VIDIOC_S_FMT(OUTPUT): driver chose {} {}x{} for {codec} {w}x{h}",
                got.pixelformat, got.width, got.height
            )));
        }
        tracing::debug!(
            "{}: VIDIOC_S_FMT(OUTPUT) sizeimage {sizeimage} bytes asked, {:?} given",
            self.name,
            got.plane_fmt.first().map(|p| p.sizeimage)
        );
        Ok(())
    }

    /// Allocates the source (bitstream) buffers: `VIDIOC_REQBUFS(OUTPUT,
    /// MMAP, OUTPUT_BUFFERS)`, then per buffer `VIDIOC_QUERYBUF` and one
    /// media request (`MEDIA_IOC_REQUEST_ALLOC`); no mmap (see
    /// [`Self::output_for`]). Records whether the queue supports
    /// `V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF`.
    fn allocate_output_buffers(&mut self) -> Result<(), DeviceError> {
        let rb: ioctl::RequestBuffers = ioctl::reqbufs(
            &self.video,
            self.out_q(),
            MemoryType::Mmap,
            OUTPUT_BUFFERS,
            MemoryConsistency::empty(),
        )
        .map_err(|e| self.err("VIDIOC_REQBUFS(OUTPUT)", errno(e)))?;
        let n = rb.count as usize;
        // uAPI vidioc-reqbufs: V4L2_BUF_CAP_SUPPORTS_REQUESTS is mandatory for a
        // stateless decoder's OUTPUT queue; HOLD_CAPTURE_BUF is needed for
        // slice-based decoding of multi-slice pictures.
        if !rb
            .capabilities
            .contains(ioctl::BufferCapabilities::SUPPORTS_REQUESTS)
        {
            return Err(self.unsupported("OUTPUT queue lacks V4L2_BUF_CAP_SUPPORTS_REQUESTS"));
        }
        self.supports_hold = rb
            .capabilities
            .contains(ioctl::BufferCapabilities::SUPPORTS_M2M_HOLD_CAPTURE_BUF);
        if n == 0 {
            return Err(self.unsupported("VIDIOC_REQBUFS(OUTPUT) gave 0 buffers"));
        }
        self.add_output_generation(0, n)
    }

    /// The OUTPUT pool (mutably) and the ioctls on OUTPUT buffers, borrowed
    /// apart: the ioctls borrow only the nodes, the media path and the name.
    fn outputs_and_io(&mut self) -> (&mut Outputs, OutputIo<'_>) {
        let queue = self.out_q();
        (
            &mut self.outputs,
            OutputIo {
                video: &self.video,
                media: &self.media,
                media_path: &self.info.media_path,
                queue,
                name: &self.name,
            },
        )
    }

    /// Queries OUTPUT buffers `first..first + count` and hands them to the
    /// pool as its newest generation ([`OutputIo::query`]).
    fn add_output_generation(&mut self, first: usize, count: usize) -> Result<(), DeviceError> {
        let (outputs, io) = self.outputs_and_io();
        let buffers = io.query(first, count)?;
        outputs
            .add_generation(first, buffers)
            .map_err(|e| io.unsupported(e))
    }

    /// The OUTPUT buffer for the job of `timestamp_ns` with `len` bytes of
    /// bitstream, mapped ([`OutputPool::acquire`]): the lowest free index of
    /// the newest generation, mapped now if this is its first use
    /// ([`OutputIo::map`]); when `len` exceeds the buffers, a new generation
    /// of larger ones first ([`OutputIo::grow`]).
    ///
    /// Errors name the picture: `len` above the stream's cap
    /// ([`OutputSizes::cap`]: "picture T: N bytes of bitstream exceed the
    /// largest OUTPUT buffer allowed for this stream (C bytes)"), no free
    /// buffer, a failed growth or mmap.
    fn output_for(&mut self, len: usize, timestamp_ns: u64) -> Result<usize, DeviceError> {
        let (outputs, io) = self.outputs_and_io();
        let old = outputs.buffer_size();
        let r = outputs.acquire(
            len,
            |i, offset, length| io.map(i, offset, length),
            |sizeimage| io.grow(sizeimage, len, timestamp_ns),
        );
        if outputs.buffer_size() != old {
            tracing::info!(
                "{}: picture {timestamp_ns}: {len} bytes of bitstream exceed the {old}-byte \
                 OUTPUT buffers; {} new ones of {} bytes (VIDIOC_CREATE_BUFS)",
                io.name,
                outputs.current_len(),
                outputs.buffer_size()
            );
        }
        r.map_err(|e| match e {
            AcquireError::TooLarge { len, cap } => self.unsupported(format!(
                "picture {timestamp_ns}: {len} bytes of bitstream exceed the largest OUTPUT \
                 buffer allowed for this stream ({cap} bytes)"
            )),
            AcquireError::NoneFree => {
                self.unsupported("queue with no free OUTPUT buffer (free_slots() == 0)")
            }
            AcquireError::GrownTooSmall { len, size } => self.unsupported(format!(
                "picture {timestamp_ns}: {len} bytes of bitstream: the OUTPUT buffers \
                 VIDIOC_CREATE_BUFS made are only {size} bytes"
            )),
            AcquireError::Pool(e) => self.unsupported(format!("picture {timestamp_ns}: {e}")),
            AcquireError::Device(e) => e,
        })
    }

    /// The media request of OUTPUT buffer `i`.
    fn request_of(&self, i: usize) -> Result<&Request, DeviceError> {
        self.outputs
            .slot(i)
            .map(|s| &s.request)
            .ok_or_else(|| self.unsupported(format!("no OUTPUT buffer {i}")))
    }

    /// Sets the sequence controls some drivers need before CAPTURE is
    /// negotiated (rkvdec, rpi-hevc-dec: the SPS) with `VIDIOC_S_EXT_CTRLS`
    /// outside any request (`V4L2_CTRL_WHICH_CUR_VAL`).
    fn set_first_controls(&self, first_controls: &[Control]) -> Result<(), DeviceError> {
        self.set_controls(
            first_controls,
            CtrlWhich::Current,
            "VIDIOC_S_EXT_CTRLS(first controls)",
        )
    }

    /// The CAPTURE fourcc for a stream of `bit_depth` bits: the profile's
    /// preference ([`profile::choose_capture_format`]) among the formats
    /// `VIDIOC_ENUM_FMT(CAPTURE)` lists after the first controls and that
    /// the frame crate can present ([`PixelFormat::from_v4l2`] and
    /// [`plane_layout`] know it). Warns when a 10-bit stream falls back to
    /// an 8-bit format.
    fn choose_capture_fourcc(&self, bit_depth: u8) -> Result<[u8; 4], DeviceError> {
        let listed: Vec<[u8; 4]> = ioctl::FormatIterator::new(&self.video, self.cap_q())
            .map(|d| d.pixelformat.into())
            .collect();
        // Every format the frame module knows, packed / tiled ones included
        // (NV15, NC12, NC30: shown zero-copy when the compositor takes them,
        // unpacked by `frame::detile` otherwise).
        let usable = |f: &[u8; 4]| {
            PixelFormat::from_v4l2(*f).is_some() && plane_layout(*f, &[0; 3], 0).is_some()
        };
        let (chosen, fallback) =
            profile::choose_capture_format(self.profile, bit_depth, &listed, usable).ok_or_else(
                || {
                    let names: Vec<String> = listed
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect();
                    self.unsupported(format!(
                        "no CAPTURE format we can show among [{}]",
                        names.join(", ")
                    ))
                },
            )?;
        if fallback {
            tracing::warn!(
                "{}: {}-bit stream but the device lists no 10-bit CAPTURE format we can \
                 show; using {} (as GStreamer does on visl)",
                self.name,
                bit_depth,
                String::from_utf8_lossy(&chosen)
            );
        }
        Ok(chosen)
    }

    /// The CAPTURE format: `VIDIOC_G_FMT(CAPTURE)`, and `VIDIOC_S_FMT(CAPTURE)`
    /// only when its fourcc is not `chosen`. The driver derives the CAPTURE
    /// size (and for rkvdec the depth) from the OUTPUT format and the SPS:
    /// keep what G_FMT says and only switch the pixel format if needed (as
    /// GStreamer's v4l2codecs does). Refuses a format smaller than the coded
    /// size `w` × `h` (pixels).
    fn set_capture_format(
        &mut self,
        chosen: [u8; 4],
        w: u32,
        h: u32,
    ) -> Result<Format, DeviceError> {
        let cap_q = self.cap_q();
        let current: Format = ioctl::g_fmt(&self.video, cap_q)
            .map_err(|e| self.err("VIDIOC_G_FMT(CAPTURE)", errno(e)))?;
        let cap: Format = if <[u8; 4]>::from(current.pixelformat) == chosen {
            current
        } else {
            let cap_req = Format {
                width: current.width.max(w),
                height: current.height.max(h),
                pixelformat: v4l2r::PixelFormat::from(&chosen),
                plane_fmt: vec![],
            };
            ioctl::s_fmt(&mut self.video, (cap_q, &cap_req))
                .map_err(|e| self.err("VIDIOC_S_FMT(CAPTURE)", errno(e)))?
        };
        if cap.width < w || cap.height < h {
            return Err(self.unsupported(format!(
                "CAPTURE format {}x{} is smaller than the coded size {w}x{h}",
                cap.width, cap.height
            )));
        }
        Ok(cap)
    }

    /// The negotiated CAPTURE format as the engine sees it: its
    /// [`PixelFormat`], allocated size in pixels and [`plane_layout`] from
    /// the per-memory-plane `bytesperline`.
    fn describe_capture_format(&self, cap: &Format) -> Result<CaptureFormat, DeviceError> {
        let fourcc: [u8; 4] = cap.pixelformat.into();
        let pixel_format = PixelFormat::from_v4l2(fourcc).ok_or_else(|| {
            self.unsupported(format!("driver chose CAPTURE format {}", cap.pixelformat))
        })?;
        let bpl: Vec<u32> = cap.plane_fmt.iter().map(|p| p.bytesperline).collect();
        let planes = plane_layout(fourcc, &bpl, cap.height)
            .ok_or_else(|| self.unsupported(format!("no plane layout for {}", cap.pixelformat)))?;
        Ok(CaptureFormat {
            pixel_format,
            width: cap.width,
            height: cap.height,
            planes,
        })
    }

    /// Allocates the destination (picture) buffers: `VIDIOC_CREATE_BUFS(CAPTURE,
    /// MMAP)` of `cap` for `capture_buffers` clamped to
    /// 1..=[`MAX_CAPTURE_BUFFERS`], then `VIDIOC_QUERYBUF` and a
    /// `VIDIOC_EXPBUF` of every memory plane once
    /// ([`Self::export_capture_buffer`]); no mmap (see
    /// [`Self::map_capture`]). Returns the kernel's answer (`index` of the
    /// first buffer, `count` created).
    fn create_capture_buffers(
        &mut self,
        cap: &Format,
        capture_buffers: u32,
    ) -> Result<bindings::v4l2_create_buffers, DeviceError> {
        let count = capture_buffers.clamp(1, MAX_CAPTURE_BUFFERS);
        let raw_fmt = bindings::v4l2_format::try_from((self.cap_q(), cap))
            .map_err(|_| self.unsupported("CAPTURE format has too many planes"))?;
        let created: bindings::v4l2_create_buffers =
            ioctl::create_bufs(&self.video, count, MemoryType::Mmap, raw_fmt)
                .map_err(|e| self.err(format!("VIDIOC_CREATE_BUFS(CAPTURE, {count})"), errno(e)))?;
        if created.count == 0 {
            return Err(self.unsupported("VIDIOC_CREATE_BUFS(CAPTURE) created no buffer"));
        }
        for i in created.index as usize..(created.index + created.count) as usize {
            let buffer = self.export_capture_buffer(i)?;
            while self.captures.len() < i {
                // Indices below `created.index` belong to nobody (not expected).
                self.captures
                    .push(CaptureBuffer::absent(self.captures.len()));
            }
            self.captures.push(buffer);
        }
        Ok(created)
    }

    /// CAPTURE buffer `i`: `VIDIOC_QUERYBUF` (each memory plane's
    /// `mem_offset` and `length`, kept for a later [`Self::map_capture`]),
    /// then per memory plane a dmabuf (`VIDIOC_EXPBUF`, `O_CLOEXEC | O_RDWR`;
    /// the zero-copy paths' handle, which maps nothing). Not mapped, not
    /// queued yet.
    fn export_capture_buffer(&self, i: usize) -> Result<CaptureBuffer, DeviceError> {
        let q: QueryBuffer = ioctl::querybuf(&self.video, self.cap_q(), i)
            .map_err(|e| self.err(format!("VIDIOC_QUERYBUF(CAPTURE {i})"), errno(e)))?;
        let mut planes = Vec::new();
        let mut dmabufs = Vec::new();
        for (pi, p) in q.planes.iter().enumerate() {
            planes.push(CapturePlane {
                mem_offset: p.mem_offset,
                length: p.length,
            });
            dmabufs.push(
                ioctl::expbuf::<OwnedFd>(
                    &self.video,
                    self.cap_q(),
                    i,
                    pi,
                    ExpbufFlags::CLOEXEC | ExpbufFlags::RDWR,
                )
                .map_err(|e| {
                    self.err(format!("VIDIOC_EXPBUF(CAPTURE {i} plane {pi})"), errno(e))
                })?,
            );
        }
        Ok(CaptureBuffer {
            index: i,
            planes,
            maps: OnceLock::new(),
            dmabufs,
            queued: false,
        })
    }

    /// The CPU view of CAPTURE buffer `global` (engine index), one slice of
    /// `length` bytes per memory plane, mapping it on the first call
    /// (`PROT_READ | PROT_WRITE`, `MAP_SHARED`, as v4l2r maps) and returning
    /// the same mappings afterwards:
    /// * a buffer of this configuration: `mmap` of the video node at the
    ///   plane's `mem_offset` (uAPI `Documentation/userspace-api/media/v4l/mmap.rst`,
    ///   "Streaming I/O (Memory Mapping)");
    /// * a retired buffer (an earlier configuration's, see
    ///   [`Self::teardown`]): after `REQBUFS(0)` the video node no longer
    ///   knows its offset (vb2 `__find_plane_by_offset` fails: `EINVAL`), so
    ///   its exported dmabuf is mapped from offset 0 instead. Both reach the
    ///   same allocator memop (videobuf2-vmalloc.c `vb2_vmalloc_dmabuf_ops_mmap`
    ///   calls `vb2_vmalloc_mmap`, as the video node's mmap does; likewise
    ///   dma-contig and dma-sg), and the dmabuf keeps the memory alive
    ///   (`refcount_inc` in `vb2_*_get_dmabuf`), so the bytes are the ones
    ///   the picture was decoded into. The CPU cache was synchronised when the
    ///   buffer was dequeued (vb2 `finish` memop), before either mapping.
    ///
    /// `Ok(vec![])` for an unknown index. Errors: one
    /// [`DeviceError::Ioctl`] naming the device, the V4L2 buffer index and
    /// the plane (`mmap(CAPTURE 3 plane 0)`, `mmap(CAPTURE 3 plane 0,
    /// retired, its dmabuf)`), with the errno (`ENOMEM`, `EINVAL`, ...).
    fn map_capture(&self, global: usize) -> Result<Vec<&[u8]>, DeviceError> {
        let retired = global < self.capture_base;
        let Some(c) = self.capture(global) else {
            return Ok(Vec::new());
        };
        if let Some(m) = c.mapped() {
            return Ok(m);
        }
        let i = c.index;
        let mut maps = Vec::with_capacity(c.planes.len());
        for (pi, p) in c.planes.iter().enumerate() {
            let map = if retired {
                let fd = c.dmabufs.get(pi).ok_or_else(|| {
                    self.unsupported(format!(
                        "mmap(CAPTURE {i} plane {pi}, retired): no dmabuf for the plane"
                    ))
                })?;
                ioctl::mmap(fd, 0, p.length).map_err(|e| {
                    self.err(
                        format!("mmap(CAPTURE {i} plane {pi}, retired, its dmabuf)"),
                        errno(e),
                    )
                })?
            } else {
                ioctl::mmap(&self.video, p.mem_offset, p.length)
                    .map_err(|e| self.err(format!("mmap(CAPTURE {i} plane {pi})"), errno(e)))?
            };
            maps.push(map);
        }
        // Set once; a mapping made meanwhile by another thread wins and
        // this one is unmapped on drop.
        let maps = c.maps.get_or_init(|| maps);
        Ok(maps.iter().map(|p| &p[..]).collect())
    }

    /// CAPTURE buffers, this configuration's and retired ones, that are
    /// mapped now.
    fn count_mapped(&self) -> usize {
        self.captures
            .iter()
            .chain(self.retired.values())
            .filter(|c| c.maps.get().is_some())
            .count()
    }

    /// Queues every CAPTURE buffer from `created.index` on (`VIDIOC_QBUF`),
    /// then starts streaming: `VIDIOC_STREAMON(OUTPUT)`, then
    /// `VIDIOC_STREAMON(CAPTURE)`.
    fn stream_on(&mut self, created: bindings::v4l2_create_buffers) -> Result<(), DeviceError> {
        for i in created.index as usize..self.captures.len() {
            self.qbuf(self.cap_q(), i, 0, 0, 0, None)
                .map_err(|e| self.err(format!("VIDIOC_QBUF(CAPTURE {i})"), e))?;
            self.captures[i].queued = true;
        }
        ioctl::streamon(&self.video, self.out_q())
            .map_err(|e| self.err("VIDIOC_STREAMON(OUTPUT)", errno(e)))?;
        self.streaming = true;
        ioctl::streamon(&self.video, self.cap_q())
            .map_err(|e| self.err("VIDIOC_STREAMON(CAPTURE)", errno(e)))?;
        Ok(())
    }
}

/// The session's only `unsafe`: v4l2r's `Request` implements `AsRawFd` but
/// not `AsFd`, so its fd is borrowed by hand.
#[allow(unsafe_code)] // BorrowedFd::borrow_raw of a media request's fd (FFI)
mod request_fd {
    use std::os::fd::{AsRawFd, BorrowedFd};

    use v4l2r::ioctl::Request;

    /// `request`'s fd (from `MEDIA_IOC_REQUEST_ALLOC`), borrowed for as long
    /// as `request` lives; polled for `POLLPRI`, which signals the request's
    /// completion (uAPI "media-request-ioc-queue").
    pub(super) fn borrow(request: &Request) -> BorrowedFd<'_> {
        // SAFETY: `Request` owns its fd (a `File`) and closes it only when
        // dropped, so the fd stays open for the returned borrow, which cannot
        // outlive `request`.
        unsafe { BorrowedFd::borrow_raw(request.as_raw_fd()) }
    }
}

/// The ioctls on OUTPUT buffers ([`Session::output_io`]): the video and
/// media nodes, the OUTPUT queue type and the device name for messages.
struct OutputIo<'a> {
    video: &'a File,
    media: &'a File,
    /// The media node's path, for errors (borrowed: no String per job).
    media_path: &'a std::path::Path,
    queue: QueueType,
    name: &'a str,
}

impl OutputIo<'_> {
    fn err(&self, what: impl Into<String>, source: Errno) -> DeviceError {
        ioctl_error(self.name, what, source)
    }

    fn unsupported(&self, what: impl Into<String>) -> DeviceError {
        unsupported_error(self.name, what)
    }

    /// OUTPUT buffers `first..first + count`, not mapped: per buffer
    /// `VIDIOC_QUERYBUF` (its plane's `mem_offset` and `length` in bytes)
    /// and a media request (`MEDIA_IOC_REQUEST_ALLOC` on the media node).
    fn query(&self, first: usize, count: usize) -> Result<Vec<NewBuffer<Request>>, DeviceError> {
        let mut buffers = Vec::with_capacity(count);
        for i in first..first + count {
            let q: QueryBuffer = ioctl::querybuf(self.video, self.queue, i)
                .map_err(|e| self.err(format!("VIDIOC_QUERYBUF(OUTPUT {i})"), errno(e)))?;
            let p = q
                .planes
                .first()
                .ok_or_else(|| self.unsupported(format!("OUTPUT buffer {i} has no plane")))?;
            let request = Request::alloc(self.media).map_err(|e| {
                let source = match e {
                    ioctl::RequestError::IoctlError(e) => Errno::from_raw(e as i32),
                    _ => Errno::EINVAL,
                };
                DeviceError::Ioctl {
                    device: self.media_path.display().to_string(),
                    what: "MEDIA_IOC_REQUEST_ALLOC".into(),
                    source,
                }
            })?;
            buffers.push(NewBuffer {
                mem_offset: p.mem_offset,
                length: p.length as usize,
                request,
            });
        }
        Ok(buffers)
    }

    /// The CPU mapping of OUTPUT buffer `i`: `mmap` of the video node at its
    /// `mem_offset`, `length` bytes, `PROT_READ | PROT_WRITE`, `MAP_SHARED`
    /// (uAPI `Documentation/userspace-api/media/v4l/mmap.rst`).
    fn map(&self, i: usize, mem_offset: u32, length: usize) -> Result<PlaneMapping, DeviceError> {
        ioctl::mmap(self.video, mem_offset, length as u32)
            .map_err(|e| self.err(format!("mmap(OUTPUT {i})"), errno(e)))
    }

    /// A new generation of [`OUTPUT_BUFFERS`] OUTPUT buffers of `sizeimage`
    /// bytes, for the job of `timestamp_ns` whose `len` bytes of bitstream
    /// exceed the current ones: `VIDIOC_G_FMT(OUTPUT)` with `sizeimage`
    /// raised, `VIDIOC_CREATE_BUFS(OUTPUT, MMAP)`, then [`Self::query`] of
    /// the new buffers (their real `length`: the driver may round up).
    /// Returns the first new V4L2 index and the buffers. The older buffers
    /// stay allocated in the kernel until the next configuration's
    /// `REQBUFS(0)`, unmapped once free ([`OutputPool::add_generation`]).
    ///
    /// Why `CREATE_BUFS` and not `REQBUFS(0)` + `S_FMT` + `REQBUFS`: the
    /// uAPI (`vidioc-create-bufs.rst`) lets it be called "multiple times to
    /// create buffers of different sizes", while streaming, taking the
    /// `sizeimage` of the format it is given. The other way needs the
    /// OUTPUT queue stopped and empty (vb2 refuses `REQBUFS` while
    /// streaming: `EBUSY`), and `S_FMT(OUTPUT)` is refused while the
    /// CAPTURE queue has buffers (rkvdec `rkvdec_s_output_fmt`, cedrus,
    /// tegra-vde: "format change on the OUTPUT queue will reset the CAPTURE
    /// queue"), so it would free the CAPTURE buffers that hold the reference
    /// pictures mid-stream; `dev-stateless-decoder.rst` reallocates only at a
    /// resolution change, after draining. vb2 keeps at most
    /// `VIDEO_MAX_FRAME` buffers on a queue (32 on most drivers): growth is
    /// to at least twice the size ([`OutputPool::pick`]).
    fn grow(
        &self,
        sizeimage: u32,
        len: usize,
        timestamp_ns: u64,
    ) -> Result<Generation<Request>, DeviceError> {
        let mut fmt: Format = ioctl::g_fmt(self.video, self.queue)
            .map_err(|e| self.err("VIDIOC_G_FMT(OUTPUT)", errno(e)))?;
        fmt.plane_fmt.truncate(1);
        match fmt.plane_fmt.first_mut() {
            Some(p) => p.sizeimage = sizeimage,
            None => fmt.plane_fmt.push(v4l2r::PlaneLayout {
                sizeimage,
                bytesperline: 0,
            }),
        }
        let raw = bindings::v4l2_format::try_from((self.queue, &fmt))
            .map_err(|_| self.unsupported("OUTPUT format has too many planes"))?;
        let created: bindings::v4l2_create_buffers =
            ioctl::create_bufs(self.video, OUTPUT_BUFFERS, MemoryType::Mmap, raw).map_err(|e| {
                self.err(
                    format!(
                        "picture {timestamp_ns}: {len} bytes of bitstream: \
                         VIDIOC_CREATE_BUFS(OUTPUT, {OUTPUT_BUFFERS} x {sizeimage} bytes)"
                    ),
                    errno(e),
                )
            })?;
        if created.count == 0 {
            return Err(self.unsupported(format!(
                "picture {timestamp_ns}: VIDIOC_CREATE_BUFS(OUTPUT, {sizeimage} bytes) \
                 created no buffer"
            )));
        }
        let first = created.index as usize;
        Ok((first, self.query(first, created.count as usize)?))
    }
}

fn libc_eio() -> i32 {
    Errno::EIO as i32
}

/// The `v4l2_ext_control` for one compound control: id, payload size and a
/// pointer to the uAPI struct inside `c` (valid while `c` is borrowed).
fn ext_control(c: &Control) -> bindings::v4l2_ext_control {
    fn raw<T>(b: &T) -> (u32, *mut std::ffi::c_void) {
        (
            std::mem::size_of::<T>() as u32,
            b as *const T as *mut std::ffi::c_void,
        )
    }
    // Dynamic arrays: the payload is the whole slice (uAPI "vidioc-g-ext-ctrls":
    // `size` in bytes tells the kernel the element count).
    fn array<T>(v: &[T]) -> (u32, *mut std::ffi::c_void) {
        (
            std::mem::size_of_val(v) as u32,
            v.as_ptr() as *mut std::ffi::c_void,
        )
    }
    let (size, ptr) = match c {
        Control::H264Sps(b) => raw(&**b),
        Control::H264Pps(b) => raw(&**b),
        Control::H264ScalingMatrix(b) => raw(&**b),
        Control::H264DecodeParams(b) => raw(&**b),
        Control::H264SliceParams(b) => raw(&**b),
        Control::H264PredWeights(b) => raw(&**b),
        Control::HevcSps(b) => raw(&**b),
        Control::HevcPps(b) => raw(&**b),
        Control::HevcSliceParams(v) => array(v),
        Control::HevcScalingMatrix(b) => raw(&**b),
        Control::HevcDecodeParams(b) => raw(&**b),
        Control::HevcEntryPointOffsets(v) => array(v),
        Control::HevcExtSpsStRps(v) => array(v),
        Control::HevcExtSpsLtRps(v) => array(v),
        Control::Vp9Frame(b) => raw(&**b),
        Control::Vp9CompressedHdr(b) => raw(&**b),
        Control::Vp8Frame(b) => raw(&**b),
        Control::Mpeg2Sequence(b) => raw(&**b),
        Control::Mpeg2Picture(b) => raw(&**b),
        Control::Mpeg2Quantisation(b) => raw(&**b),
    };
    let mut e = bindings::v4l2_ext_control {
        id: c.id(),
        size,
        ..Default::default()
    };
    e.__bindgen_anon_1.ptr = ptr;
    e
}

impl DecoderDevice for Session {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn mode(&self) -> (DecodeMode, StartCode) {
        self.mode
    }

    fn configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first_controls: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        self.teardown(true);
        let r = self.do_configure(codec, params, first_controls, capture_buffers);
        if r.is_err() {
            self.teardown(true);
        }
        r
    }

    fn free_slots(&self) -> usize {
        self.outputs.free_count()
    }

    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
        if !self.streaming {
            return Err(self.unsupported("queue before configure"));
        }
        check_array_controls(&job.controls, &|id| self.control_info(id))
            .map_err(|e| self.unsupported(format!("picture {}: {e}", job.timestamp_ns)))?;
        if job.hold_capture && !self.supports_hold {
            return Err(self.unsupported(format!(
                "picture {}: HOLD_CAPTURE_BUF requested but the OUTPUT queue lacks \
                 V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF",
                job.timestamp_ns
            )));
        }
        if job.timestamp_ns % 1000 != 0 && !self.warned_timestamp_ns {
            self.warned_timestamp_ns = true;
            tracing::warn!(
                "{}: timestamp {} ns is not a whole µs; reference_ts will not match",
                self.name,
                job.timestamp_ns
            );
        }
        let i = self.output_for(job.bitstream.len(), job.timestamp_ns)?;
        let Some(out) = self.outputs.slot_mut(i) else {
            return Err(self.unsupported(format!("OUTPUT buffer {i} vanished")));
        };
        let Some(map) = out.map.as_mut() else {
            return Err(self.unsupported(format!("OUTPUT buffer {i} is not mapped")));
        };
        map[..job.bitstream.len()].copy_from_slice(&job.bitstream);
        let req_fd = out.request.as_raw_fd();
        let step = format!("picture {}: VIDIOC_S_EXT_CTRLS(request)", job.timestamp_ns);
        let mut flags = bindings::V4L2_BUF_FLAG_REQUEST_FD;
        if job.hold_capture {
            flags |= HOLD_CAPTURE_BUF;
        }
        let result = self
            .set_controls(&job.controls, CtrlWhich::Request(req_fd), &step)
            .and_then(|_| {
                self.qbuf(
                    self.out_q(),
                    i,
                    job.bitstream.len() as u32,
                    flags,
                    job.timestamp_ns,
                    Some(req_fd),
                )
                .map_err(|e| {
                    self.err(
                        format!(
                            "picture {}: VIDIOC_QBUF(OUTPUT {i}, request)",
                            job.timestamp_ns
                        ),
                        e,
                    )
                })?;
                self.request_of(i)?.queue().map_err(|e| {
                    let source = match e {
                        ioctl::RequestError::IoctlError(e) => Errno::from_raw(e as i32),
                        _ => Errno::EINVAL,
                    };
                    self.err(
                        format!("picture {}: MEDIA_REQUEST_IOC_QUEUE", job.timestamp_ns),
                        source,
                    )
                })
            });
        if let Err(e) = result {
            // Nothing of this request reached the device; make it reusable.
            if let Ok(r) = self.request_of(i) {
                let _ = r.reinit();
            }
            return Err(e);
        }
        self.outputs.mark_busy(i, job.timestamp_ns);
        self.timestamps
            .insert(job.timestamp_ns / 1000 * 1000, job.timestamp_ns);
        if !job.hold_capture {
            self.captures_expected += 1;
        }
        Ok(())
    }

    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.reap_outputs()?;
            if let Some(b) = self
                .dqbuf(self.cap_q())
                .map_err(|e| self.err("VIDIOC_DQBUF(CAPTURE)", e))?
            {
                let index = b.index() as usize;
                if let Some(c) = self.captures.get_mut(index) {
                    c.queued = false;
                }
                self.captures_expected = self.captures_expected.saturating_sub(1);
                let key = timeval_to_ns(b.timestamp());
                let timestamp_ns = self.timestamps.remove(&key).unwrap_or(key);
                // Free OUTPUT buffers finished together with this picture.
                self.reap_outputs()?;
                return Ok(Some(Completed {
                    timestamp_ns,
                    capture_index: self.capture_base + index,
                    error: b.has_error(),
                }));
            }
            let now = Instant::now();
            if now >= deadline || self.in_flight() == 0 {
                return Ok(None);
            }
            let ms = (deadline - now).as_millis().clamp(1, i32::MAX as u128) as i32;
            let mut pfd = [PollFd::new(
                self.video.as_fd(),
                PollFlags::POLLIN | PollFlags::POLLOUT | PollFlags::POLLPRI,
            )];
            let n = match nix::poll::poll(
                &mut pfd,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(self.err("poll", e)),
            };
            let rev = pfd[0].revents().unwrap_or(PollFlags::empty());
            if rev.contains(PollFlags::POLLPRI) {
                self.reap_events();
            }
            if n > 0
                && rev.contains(PollFlags::POLLERR)
                && !rev.intersects(PollFlags::POLLIN | PollFlags::POLLOUT)
            {
                // v4l2_m2m_poll: nothing queued on either side that could complete.
                self.reap_outputs()?;
                return Ok(None);
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.busy_outputs().max(self.captures_expected)
    }

    fn requeue_capture(&mut self, global: usize) -> Result<(), DeviceError> {
        let Some(index) = global.checked_sub(self.capture_base) else {
            // A buffer of an earlier configuration: unmap it, close its dmabufs.
            return match self.retired.remove(&global) {
                Some(_) => Ok(()),
                None => Err(self.unsupported(format!(
                    "release of unknown retired CAPTURE buffer {global}"
                ))),
            };
        };
        match self.captures.get(index) {
            None => {
                return Err(self.unsupported(format!("requeue of unknown CAPTURE buffer {index}")))
            }
            Some(c) if c.queued => {
                return Err(self.unsupported(format!("CAPTURE buffer {index} is already queued")))
            }
            Some(_) => {}
        }
        self.qbuf(self.cap_q(), index, 0, 0, 0, None)
            .map_err(|e| self.err(format!("VIDIOC_QBUF(CAPTURE {index})"), e))?;
        self.captures[index].queued = true;
        Ok(())
    }

    fn capture_dmabufs(&self, index: usize) -> Vec<BorrowedFd<'_>> {
        self.capture(index)
            .map(|c| c.dmabufs.iter().map(|f| f.as_fd()).collect())
            .unwrap_or_default()
    }

    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        self.capture(index)
            .map(|c| c.planes.iter().map(|p| p.length as usize).collect())
            .unwrap_or_default()
    }

    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        self.map_capture(index)
    }

    fn mapped_captures(&self) -> usize {
        self.count_mapped()
    }

    fn take_source_change(&mut self) -> bool {
        std::mem::take(&mut self.source_changed)
    }

    fn has_control(&self, id: u32) -> bool {
        match self.controls.get(&id) {
            Some(info) => info.is_some(),
            // Not probed: a mandatory control of the codec.
            None => true,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if tracing::enabled!(target: "vreq_soak", tracing::Level::DEBUG) {
            self.log_close();
        }
        self.teardown(false);
    }
}

impl Session {
    /// The soak check's line (`tests/vm/soak-test.sh`), at `debug` on the
    /// `vreq_soak` target, before the teardown: the buffer states (idle at
    /// the end of a stream: every CAPTURE buffer queued, every OUTPUT buffer
    /// free, none retired, nothing in flight), the process's open fds
    /// (`/proc/self/fd`) and `VmRSS` (`/proc/self/status`, kB), and last
    /// the CAPTURE buffers mapped into the process (0 on the decode-only and
    /// zero-copy paths) and the OUTPUT buffers mapped (the most jobs in
    /// flight at once) with their size, after the fields
    /// `tests/vm/check-soak.py` reads.
    fn log_close(&self) {
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let rss_kb = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
        tracing::debug!(
            target: "vreq_soak",
            "session close {}: CAPTURE queued {} of {}, OUTPUT free {} of {}, retired {}, \
             in flight {}; process fds {fds}, VmRSS {rss_kb} kB; CAPTURE mapped {}, \
             OUTPUT mapped {} of {} bytes each",
            self.name,
            self.captures.iter().filter(|c| c.queued).count(),
            self.captures.len(),
            self.outputs.free_count(),
            self.outputs.current_len(),
            self.retired.len(),
            self.in_flight(),
            self.count_mapped(),
            self.mapped_outputs(),
            self.outputs.buffer_size()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeval_round_trip_keeps_whole_microseconds() {
        for ns in [0u64, 1000, 33_333_000, 1_000_000_000, 3_600_000_001_000] {
            assert_eq!(timeval_to_ns(ns_to_timeval(ns)), ns);
        }
        assert_eq!(timeval_to_ns(ns_to_timeval(1_234_567)), 1_234_000);
    }

    #[test]
    fn dynamic_arrays_checked_against_the_device() {
        let slice = bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS;
        let epo = bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS;
        let st = uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS;
        let dynamic = |dims0| {
            Some(Some(ControlInfo {
                elem_size: 4,
                elems: 1,
                dims0,
                flags: bindings::V4L2_CTRL_FLAG_DYNAMIC_ARRAY,
            }))
        };
        let device = |id: u32| -> Option<Option<ControlInfo>> {
            if id == slice {
                dynamic(1) // cedrus: one slice per request
            } else if id == epo {
                dynamic(256)
            } else if id == st {
                Some(None) // probed, absent
            } else {
                None
            }
        };
        let one = Control::HevcSliceParams(vec![Default::default()]);
        let two = Control::HevcSliceParams(vec![Default::default(); 2]);
        assert!(check_array_controls(std::slice::from_ref(&one), &device).is_ok());
        let e = check_array_controls(&[two], &device).unwrap_err();
        assert!(
            e.contains("2 elements exceed") && e.contains("SLICE_PARAMS"),
            "{e}"
        );
        let e =
            check_array_controls(&[Control::HevcEntryPointOffsets(vec![])], &device).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        assert!(
            check_array_controls(&[Control::HevcEntryPointOffsets(vec![7; 256])], &device).is_ok()
        );
        assert!(
            check_array_controls(&[Control::HevcEntryPointOffsets(vec![7; 257])], &device).is_err()
        );
        let e = check_array_controls(
            &[one, Control::HevcExtSpsStRps(vec![Default::default()])],
            &device,
        )
        .unwrap_err();
        assert!(e.contains("no such control"), "{e}");
        // The payload size is the slice's bytes (elements × element size).
        let c = Control::HevcExtSpsStRps(vec![Default::default(); 3]);
        let size = { ext_control(&c).size };
        assert_eq!(size, 3 * 80);
        let c = Control::HevcEntryPointOffsets(vec![1, 2, 3, 4, 5]);
        let size = { ext_control(&c).size };
        assert_eq!(size, 20);
    }

    /// The visl device, if this machine has one (the VM: `tests/vm/trixie/run.sh`).
    fn visl() -> Option<DeviceInfo> {
        super::super::discover::discover()
            .ok()?
            .into_iter()
            .find(|d| d.driver == "visl")
    }

    fn h264_job(timestamp_ns: u64) -> DecodeJob {
        DecodeJob {
            timestamp_ns,
            controls: vec![
                Control::H264Sps(Box::default()),
                Control::H264Pps(Box::default()),
                Control::H264DecodeParams(Box::default()),
                Control::H264SliceParams(Box::default()),
            ],
            bitstream: vec![0x65, 0x88, 0x80, 0x40],
            hold_capture: false,
            starts_picture: true,
        }
    }

    /// An 8-bit 4:2:0 stream of `w`×`h` pixels for the visl tests.
    fn visl_params(w: u32, h: u32) -> StreamParams {
        StreamParams {
            coded_width: w,
            coded_height: h,
            visible: (0, 0, w, h),
            bit_depth: 8,
            dpb_size: 2,
            frame_duration_ns: None,
            pixel_aspect: (1, 1),
            color: Default::default(),
        }
    }

    /// Real device (visl): OUTPUT buffers sized for the stream, mapped only
    /// when used, the lowest index first (one job at a time: one buffer
    /// mapped); an access unit larger than them grows them
    /// (`VIDIOC_CREATE_BUFS` while streaming); one above the cap is refused
    /// naming the picture. Run in the VM:
    /// `cargo test -p vreq-v4l2 --lib session -- --ignored`.
    #[test]
    #[ignore = "needs a visl device (run in the VM)"]
    fn visl_output_buffers_mapped_when_used_and_grown() {
        let info = visl().expect("no visl device");
        let mut s = Session::open(&info, CodecKind::H264).unwrap();
        let sps = [Control::H264Sps(Box::default())];
        s.configure(CodecKind::H264, &visl_params(64, 48), &sps, 4)
            .unwrap();
        assert_eq!(s.mapped_outputs(), 0, "nothing mapped at allocation");
        assert_eq!(s.free_slots(), OUTPUT_BUFFERS as usize);
        let size = s.output_buffer_size();
        eprintln!("visl OUTPUT buffers for 64x48: {size} bytes");
        assert!(size >= MIN_OUTPUT_SIZE as usize, "{size}");
        let run = |s: &mut Session, job: &DecodeJob| {
            s.queue(job).unwrap();
            let c = s.dequeue(Duration::from_secs(5)).unwrap().expect("decoded");
            s.requeue_capture(c.capture_index).unwrap();
        };
        for k in 1..=6 {
            run(&mut s, &h264_job(k * 1000));
        }
        assert_eq!(s.mapped_outputs(), 1, "one job at a time: one buffer");
        assert_eq!(s.free_slots(), OUTPUT_BUFFERS as usize);
        let mut big = h264_job(10_000);
        big.bitstream.resize(size + 1, 0);
        run(&mut s, &big);
        let grown = s.output_buffer_size();
        assert!(grown > size, "{grown} after {size}");
        assert_eq!(
            s.mapped_outputs(),
            1,
            "the old buffer unmapped, one new one"
        );
        assert_eq!(s.free_slots(), OUTPUT_BUFFERS as usize);
        run(&mut s, &h264_job(11_000));
        let mut huge = h264_job(12_000);
        // 64x48: the cap is MIN_OUTPUT_CAP (unless visl gave more).
        let cap = (super::super::output::MIN_OUTPUT_CAP as usize).max(s.output_buffer_size());
        huge.bitstream.resize(cap + 1, 0);
        let e = s.queue(&huge).unwrap_err().to_string();
        assert!(
            e.contains("picture 12000") && e.contains("exceed the largest OUTPUT buffer"),
            "{e}"
        );
        run(&mut s, &h264_job(13_000));
    }

    /// Real device (visl, kernel 6.12): QUERY_EXT_CTRL probing of the HEVC
    /// controls; CAPTURE buffers mapped only when read; a reconfiguration
    /// that retires a held CAPTURE buffer whose mapping stays readable until
    /// released, and one that retires a buffer never mapped, which is then
    /// mapped through its dmabuf. Run in the VM:
    /// `cargo test -p vreq-v4l2 --lib session -- --ignored`.
    #[test]
    #[ignore = "needs a visl device (run in the VM)"]
    fn visl_probe_and_retire() {
        let info = visl().expect("no visl device");
        let hevc = Session::open(&info, CodecKind::Hevc).unwrap();
        let slice = hevc
            .control_info(bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS)
            .unwrap()
            .expect("visl has HEVC SLICE_PARAMS");
        assert!(slice.dynamic_array(), "{slice:?}");
        assert_eq!(slice.dims0, 600);
        assert_eq!(
            slice.elem_size as usize,
            std::mem::size_of::<bindings::v4l2_ctrl_hevc_slice_params>()
        );
        let epo = hevc
            .control_info(bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS)
            .unwrap()
            .expect("visl has ENTRY_POINT_OFFSETS");
        assert_eq!((epo.dims0, epo.elem_size), (256, 4));
        assert!(hevc.has_control(bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS));
        // trixie's visl has no EXT_SPS_*_RPS; the sid VM's patched one has
        // them unless `hevc_ext_sps_rps=0`.
        let ext = hevc.has_control(uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS);
        eprintln!("visl EXT_SPS_ST_RPS: {ext}");
        for id in [
            uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS,
            uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS,
        ] {
            assert_eq!(hevc.has_control(id), ext, "both or neither");
            if let Some(i) = hevc.control_info(id).unwrap() {
                eprintln!("{id:#x}: {i:?}");
                assert!(i.dynamic_array());
                assert_eq!(i.dims0, uapi_ext::V4L2_HEVC_EXT_SPS_RPS_MAX as u32);
            }
        }
        if let Some(i) = hevc
            .control_info(uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS)
            .unwrap()
        {
            assert_eq!(
                i.elem_size as usize,
                std::mem::size_of::<uapi_ext::V4l2CtrlHevcExtSpsStRps>()
            );
        }
        drop(hevc);

        let mut s = Session::open(&info, CodecKind::H264).unwrap();
        let p = visl_params;
        let sps = [Control::H264Sps(Box::default())];
        let f1 = s.configure(CodecKind::H264, &p(64, 48), &sps, 4).unwrap();
        assert_eq!(s.mapped_captures(), 0, "nothing mapped at allocation");
        s.queue(&h264_job(1000)).unwrap();
        let a = s.dequeue(Duration::from_secs(5)).unwrap().expect("decoded");
        assert_eq!(s.mapped_captures(), 0, "nothing mapped by decoding");
        assert_eq!(s.capture_dmabufs(a.capture_index).len(), 1);
        let len = s.capture_plane_lengths(a.capture_index);
        let before: Vec<u8> = s.capture_map(a.capture_index).unwrap()[0].to_vec();
        assert_eq!(len, vec![before.len()]);
        assert!(!before.is_empty());
        assert_eq!(s.mapped_captures(), 1, "the buffer read is mapped");
        // Mapped once, the same mapping afterwards.
        let p1 = s.capture_map(a.capture_index).unwrap()[0].as_ptr();
        assert_eq!(s.capture_map(a.capture_index).unwrap()[0].as_ptr(), p1);
        let f2 = s.configure(CodecKind::H264, &p(128, 96), &sps, 4).unwrap();
        assert!(f2.width >= 128 && f2.width > f1.width);
        // The old buffer is retired: still mapped, same bytes, dmabuf still open.
        assert_eq!(s.mapped_captures(), 1);
        assert_eq!(s.capture_map(a.capture_index).unwrap()[0], &before[..]);
        assert_eq!(s.capture_dmabufs(a.capture_index).len(), 1);
        s.queue(&h264_job(2000)).unwrap();
        let b = s.dequeue(Duration::from_secs(5)).unwrap().expect("decoded");
        assert!(b.capture_index >= 4, "indices continue after the old ones");
        assert_eq!(s.capture_map(a.capture_index).unwrap()[0], &before[..]);
        s.requeue_capture(a.capture_index).unwrap();
        assert_eq!(s.mapped_captures(), 0, "unmapped with its release");
        assert!(s.capture_map(a.capture_index).unwrap().is_empty());
        assert!(s.requeue_capture(a.capture_index).is_err());
        // `b`, never mapped, retired by the next configuration: mapped
        // through its dmabuf (the video node forgot it at REQBUFS(0)).
        s.configure(CodecKind::H264, &p(64, 48), &sps, 4).unwrap();
        assert_eq!(s.mapped_captures(), 0);
        let blen = s.capture_plane_lengths(b.capture_index);
        let retired = s.capture_map(b.capture_index).unwrap();
        assert_eq!(vec![retired[0].len()], blen);
        assert_eq!(s.mapped_captures(), 1);
        s.requeue_capture(b.capture_index).unwrap();
        assert_eq!(s.mapped_captures(), 0);
        // An empty dynamic array is refused before any ioctl.
        let mut h = Session::open(&info, CodecKind::Hevc).unwrap();
        h.configure(CodecKind::Hevc, &p(64, 48), &[], 4).unwrap();
        let job = DecodeJob {
            timestamp_ns: 3000,
            controls: vec![Control::HevcSliceParams(vec![])],
            bitstream: vec![0x26, 0x01],
            hold_capture: false,
            starts_picture: true,
        };
        let e = h.queue(&job).unwrap_err().to_string();
        assert!(e.contains("empty dynamic array"), "{e}");
        // 10-bit: visl 6.12 lists NV12 / YU12 only, so NV12 (as GStreamer).
        let mut p10 = p(64, 48);
        p10.bit_depth = 10;
        let f = h
            .configure(
                CodecKind::Hevc,
                &p10,
                &[Control::HevcSps(Box::default())],
                4,
            )
            .unwrap();
        assert_eq!(f.pixel_format, PixelFormat::Nv12);
    }
}
