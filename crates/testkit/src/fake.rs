//! A [`DecoderDevice`] that decodes nothing but behaves like a V4L2 stateless
//! decoder built from a [`Profile`], for tests of the engine and codecs.
//!
//! What it imitates (kernel `drivers/media/v4l2-core/v4l2-mem2mem.c` and
//! `videobuf2-v4l2.c` semantics):
//! * jobs complete in FIFO order; each consumes one OUTPUT slot until done;
//! * each job needs a queued CAPTURE buffer; with `hold_capture`
//!   (`V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF`) the buffer stays with the picture
//!   and completes only with the picture's last request;
//! * references are looked up by `reference_ts` among pictures whose CAPTURE
//!   buffer has not been requeued (like `vb2_find_buffer`); a reference to a
//!   picture whose buffer went back to the device is a [violation](FakeDevice::violations)
//!   and the picture completes with the error flag;
//! * CAPTURE buffers are CPU memory; each completed picture's timestamp is
//!   stamped into its first 8 bytes (little-endian) so tests can detect a buffer
//!   reused while it was still shown, and the CAPTURE width and height (u32 LE)
//!   into the next 8 so they can tell a frame shown at the wrong size;
//! * CAPTURE indices are unique across configurations (as [`vreq_v4l2::session`]
//!   numbers them): a reconfiguration retires the buffers the engine had
//!   dequeued (vb2 orphans mapped buffers on `REQBUFS(0)`); they stay readable
//!   until [`DecoderDevice::requeue_capture`] releases them;
//! * CAPTURE mappings as the session makes them: a buffer counts as mapped
//!   from the first [`DecoderDevice::capture_map`] of it (one "mmap",
//!   [`FakeDevice::mmaps`]) until it is released or dropped by a
//!   reconfiguration ([`DecoderDevice::mapped_captures`]); nothing is mapped
//!   at allocation, and [`DecoderDevice::capture_plane_lengths`] /
//!   [`DecoderDevice::capture_dmabufs`] map nothing. A failing mmap can be
//!   injected ([`FakeDevice::with_mmap_errno`]).
//!
//! Rules it enforces (a broken rule makes [`DecoderDevice::queue`] /
//! [`DecoderDevice::configure`] fail with [`DeviceError::Unsupported`]):
//! * slice-based H.264: every request carries `V4L2_CID_STATELESS_H264_SLICE_PARAMS`;
//! * frame-based: no `hold_capture`;
//! * the bitstream starts with a `00 00 01` start code iff the device's start
//!   code is [`StartCode::AnnexB`];
//! * a picture's first request carries DECODE_PARAMS; SPS and PPS were set before;
//! * requests continuing a held picture share its timestamp;
//! * profiles with `sps_before_capture_format` (rkvdec, rpi-hevc-dec) get
//!   the SPS among `configure`'s first controls (H.264 and HEVC);
//! * HEVC: SPS and PPS before the first picture, DECODE_PARAMS on a picture's
//!   first request, SLICE_PARAMS in every request when the driver has that
//!   control (one element per request when slice-based); every valid `decode_params.dpb[i].timestamp`
//!   (`i < num_active_dpb_entries`) names a picture decoded earlier whose
//!   buffer is still held (else a violation, as for H.264 `reference_ts`);
//! * dynamic arrays (HEVC SLICE_PARAMS, ENTRY_POINT_OFFSETS, EXT_SPS_ST/LT_RPS)
//!   only if the profile has the control, never empty, at most its `dims[0]`
//!   elements (65 for the EXT_SPS arrays);
//! * VP9: V4L2_CID_STATELESS_VP9_FRAME in every request, no HOLD_CAPTURE_BUF;
//!   an inter frame's (neither `KEY_FRAME` nor `INTRA_ONLY`)
//!   `last_frame_ts` / `golden_frame_ts` / `alt_frame_ts` name held pictures
//!   (else a violation);
//! * CAPTURE format: the profile's choice for the stream's bit depth among
//!   the formats it lists ([`vreq_v4l2::profile::choose_capture_format`]); drivers
//!   that derive the format from the SPS (rkvdec, rpi-hevc-dec) list only the
//!   formats of the stream's depth. The engine gets the driver's real format
//!   and geometry, packed / tiled ones included (NV15 from rkvdec, NC12 /
//!   NC30 SAND128 from rpi-hevc-dec: column height in `bytesperline`,
//!   chroma at `height · 128`). The choice is kept
//!   ([`FakeDevice::capture_fourcc`]); a format the frame module does not
//!   know (ST12) fails `configure`, or, with [`FakeDevice::with_stand_in_formats`],
//!   the engine gets a linear stand-in of the same depth;
//! * a codec the profile lacks: "`<codec>` is not supported by `<driver>` (it
//!   decodes: ...)"; a coded size above the profile's maximum; a 10-bit
//!   stream of a codec the driver decodes only in 8-bit;
//! * the setup sequence, recorded as ioctl names ([`FakeDevice::ioctls`]),
//!   obeys the profile's ordering rules ([`Profile::check_order`]: rkvdec and
//!   rpi-hevc-dec want the SPS before `S_FMT(CAPTURE)`; rpi-hevc-dec wants
//!   `S_FMT(OUTPUT)` → `REQBUFS(OUTPUT)` → `S_FMT(CAPTURE)` →
//!   `CREATE_BUFS(CAPTURE)` → `STREAMON`).
//!
//! Faults it can inject (issue 15, each named as the uAPI names it; see
//! [`Fault`]): a CAPTURE buffer returned with `V4L2_BUF_FLAG_ERROR`
//! ([`FakeDevice::with_error_on`]); a request that never completes
//! ([`Fault::StuckRequest`]: `dequeue` keeps answering `Ok(None)`); an errno
//! from `VIDIOC_QBUF` / `VIDIOC_S_EXT_CTRLS` (where they surface: `queue`)
//! or `VIDIOC_REQBUFS` / `VIDIOC_CREATE_BUFS` (`configure`), once or for
//! good ([`Fault::Errno`]); the device vanishing (`ENODEV` from every call
//! after N completed pictures, [`Fault::Vanish`]); `V4L2_EVENT_SOURCE_CHANGE`
//! on any picture(s) ([`FakeDevice::with_source_change_on`]). A failed call
//! changes no state, as the session's does (it reinits the request and keeps
//! the OUTPUT buffer free).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::errno::Errno;
use v4l2r::bindings;

use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_frame::{plane_layout, CaptureFormat, PixelFormat};
use vreq_v4l2::profile::{choose_capture_format, Profile, VARYING_CONTROLS};
use vreq_v4l2::session::{check_array_controls, ControlInfo};
use vreq_v4l2::{Completed, DecoderDevice, DeviceError};

/// What discovery would report for a device of `profile` (a fake
/// `/dev/media<n>` / `/dev/video<n>`): its codecs with the profile's maximum
/// sizes and, for H.264 / HEVC, the menus' expected values. `card` names the
/// variant so that [`vreq_v4l2::profile::for_driver`] finds the profile again.
/// For routing tests ([`vreq_v4l2::discover::route`]) of multi-decoder boards.
pub fn device_info(profile: &'static Profile, n: u32) -> vreq_v4l2::DeviceInfo {
    let codecs = profile
        .codecs
        .iter()
        .map(|&(codec, max_width, max_height)| {
            let menus = matches!(codec, CodecKind::H264 | CodecKind::Hevc);
            vreq_v4l2::CodecSupport {
                codec,
                max_width,
                max_height,
                decode_mode: menus.then_some(profile.expected_decode_mode),
                start_code: menus.then_some(profile.expected_start_code),
            }
        })
        .collect();
    vreq_v4l2::DeviceInfo {
        media_path: format!("/dev/media{n}").into(),
        video_path: format!("/dev/video{n}").into(),
        driver: profile.driver.to_string(),
        card: profile.variant.to_string(),
        bus_info: format!("platform:fake-{n}"),
        codecs,
    }
}

/// The CAPTURE format a driver would report for a `w` × `h` stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    /// Allocated width and height in pixels.
    width: usize,
    height: usize,
    /// `bytesperline` (SAND128: the column height in 128-byte lines).
    bytesperline: usize,
    /// `sizeimage`, bytes.
    size: usize,
}

/// The geometry of each CAPTURE format as the drivers fill it:
/// * linear NV12 / P010 (and stand-ins): 16-aligned size, `bytesperline` =
///   width · sample bytes, Y then CbCr;
/// * NV15 (rkvdec, `v4l2_fill_pixfmt_mp`: 4 samples in 5 bytes):
///   `bytesperline` = width · 5 / 4 for the 16-aligned width;
/// * NC12 (hevc_d_video.c `hevc_d_prepare_dst_format`): width aligned to 128,
///   height to 16 (rpivid; hevc_d aligns to 8), column height
///   (`bytesperline`) = height · 3 / 2, `sizeimage` = column height · width;
/// * NC30: width `ALIGN((w + 2) / 3, 32) · 3` pixels (96 per 128-byte
///   column), same column height, `sizeimage` = column height · 128 · columns.
fn capture_geometry(fourcc: [u8; 4], pf: PixelFormat, w: u32, h: u32) -> Geometry {
    let (w, h) = (w as usize, h as usize);
    let height = h.next_multiple_of(16);
    match &fourcc {
        b"NC12" => {
            let width = w.next_multiple_of(128);
            let col = height * 3 / 2;
            Geometry {
                width,
                height,
                bytesperline: col,
                size: col * width,
            }
        }
        b"NC30" => {
            let width = w.div_ceil(3).next_multiple_of(32) * 3;
            let col = height * 3 / 2;
            Geometry {
                width,
                height,
                bytesperline: col,
                size: col * 128 * (width / 96),
            }
        }
        b"NV15" => {
            let width = w.next_multiple_of(16);
            let bpl = width * 5 / 4;
            Geometry {
                width,
                height,
                bytesperline: bpl,
                size: bpl * height * 3 / 2,
            }
        }
        _ => {
            let width = w.next_multiple_of(16);
            let bpl = width * pf.sample_bytes();
            Geometry {
                width,
                height,
                bytesperline: bpl,
                size: bpl * height * 3 / 2,
            }
        }
    }
}

/// Largest CAPTURE buffer the fake allocates, bytes.
const MAX_FAKE_BUFFER: usize = 64 << 20;

/// An ioctl whose failure [`Fault::Errno`] injects, named as in the uAPI.
/// `Qbuf` and `SExtCtrls` surface through [`DecoderDevice::queue`] (the
/// session sets a request's controls, then queues its OUTPUT buffer);
/// `Reqbufs` and `CreateBufs` through [`DecoderDevice::configure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultIoctl {
    /// `VIDIOC_QBUF(OUTPUT, request)`.
    Qbuf,
    /// `VIDIOC_S_EXT_CTRLS(request)`.
    SExtCtrls,
    /// `VIDIOC_REQBUFS(OUTPUT)`.
    Reqbufs,
    /// `VIDIOC_CREATE_BUFS(CAPTURE)`.
    CreateBufs,
}

impl FaultIoctl {
    fn name(self) -> &'static str {
        match self {
            FaultIoctl::Qbuf => "VIDIOC_QBUF(OUTPUT, request)",
            FaultIoctl::SExtCtrls => "VIDIOC_S_EXT_CTRLS(request)",
            FaultIoctl::Reqbufs => "VIDIOC_REQBUFS(OUTPUT)",
            FaultIoctl::CreateBufs => "VIDIOC_CREATE_BUFS(CAPTURE)",
        }
    }

    fn at_queue(self) -> bool {
        matches!(self, FaultIoctl::Qbuf | FaultIoctl::SExtCtrls)
    }
}

/// A fault to inject ([`FakeDevice::with_fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `ioctl` fails with `errno` from its `from`-th call on (0-based: the
    /// `queue` calls for QBUF / S_EXT_CTRLS, the `configure` calls for
    /// REQBUFS / CREATE_BUFS), `times` times (`None`: every call after).
    Errno {
        ioctl: FaultIoctl,
        errno: Errno,
        from: usize,
        times: Option<usize>,
    },
    /// The request of the picture with this timestamp (ns) never completes:
    /// it and every request after it (completion is FIFO) stay in flight and
    /// `dequeue` answers `Ok(None)` whatever its timeout.
    StuckRequest(u64),
    /// After this many pictures completed, every call (`configure`, `queue`,
    /// `dequeue`, `requeue_capture`) fails with `ENODEV`, as a device whose
    /// driver was unbound does (`video_unregister_device`: ioctls on the open
    /// fd return `-ENODEV`, v4l2-dev.c `v4l2_ioctl`).
    Vanish { after: u64 },
}

/// One job as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedJob {
    pub timestamp_ns: u64,
    /// `V4L2_CID_STATELESS_*` ids of the controls, in the job's order.
    pub control_ids: Vec<u32>,
    pub controls: Vec<Control>,
    pub bitstream: Vec<u8>,
    pub hold_capture: bool,
    pub starts_picture: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CapState {
    /// Queued to the (fake) device, free for a new picture.
    Queued,
    /// Being filled by the held picture with this timestamp.
    Filling(u64),
    /// Dequeued: belongs to the engine until `requeue_capture`.
    Dequeued,
}

/// A fake stateless decoder. See the module docs.
pub struct FakeDevice {
    profile: &'static Profile,
    mode: DecodeMode,
    start_code: StartCode,
    slots: usize,
    busy_depth: usize,
    error_on: HashSet<u64>,
    codec: Option<CodecKind>,
    format: Option<CaptureFormat>,
    /// Index of this configuration's buffer 0 (earlier configurations' buffers come first).
    base: usize,
    capture_mem: Vec<Vec<u8>>,
    /// Dequeued buffers of earlier configurations, by index, until released.
    retired: HashMap<usize, Vec<u8>>,
    cap_state: Vec<CapState>,
    /// Queued CAPTURE buffers, most recently requeued first (LIFO, so that a
    /// buffer given back too early is reused at once and the mistake shows).
    cap_free: VecDeque<usize>,
    pending: VecDeque<RecordedJob>,
    done: VecDeque<Completed>,
    /// Picture timestamp → CAPTURE buffer holding it (completed, not requeued).
    resident: HashMap<u64, usize>,
    /// Timestamp of the picture whose CAPTURE buffer is held, with its buffer.
    held: Option<(u64, usize)>,
    /// The last queued job held the CAPTURE buffer (for timestamp checks at queue time).
    queued_hold: Option<u64>,
    /// Error flag decided for the picture currently being filled.
    filling_error: bool,
    sps_set: bool,
    pps_set: bool,
    log: Vec<RecordedJob>,
    configures: Vec<(CodecKind, StreamParams, Vec<u32>, u32)>,
    requeues: Vec<usize>,
    violations: RefCell<Vec<String>>,
    /// Signal `V4L2_EVENT_SOURCE_CHANGE` when these pictures complete.
    source_change_on: HashSet<u64>,
    source_changed: bool,
    /// Setup and queue ioctls, in order (see [`FakeDevice::ioctls`]).
    ioctls: Vec<String>,
    /// The CAPTURE fourcc the driver would give at the last `configure`.
    capture_fourcc: Option<[u8; 4]>,
    /// Stand in a linear format for a CAPTURE format the frame module cannot show.
    stand_in: bool,
    /// Injected faults ([`Fault`]).
    faults: Vec<Fault>,
    /// `queue` / `configure` calls so far (for [`Fault::Errno`]'s `from`).
    queue_calls: usize,
    configure_calls: usize,
    /// Pictures completed so far (for [`Fault::Vanish`]).
    completed: u64,
    /// Errnos injected so far, as `"<ioctl>: <errno>"`.
    injected: Vec<String>,
    /// CAPTURE buffers (engine indices) mapped now: read through
    /// `capture_map` and neither released nor dropped since.
    mapped: RefCell<HashSet<usize>>,
    /// `capture_map` calls that mapped a buffer (the session's mmaps).
    mmaps: Cell<usize>,
    /// Every CAPTURE mmap fails with this errno ([`FakeDevice::with_mmap_errno`]).
    mmap_errno: Option<Errno>,
}

impl FakeDevice {
    /// A fake of `profile`'s driver with its expected decode mode and start
    /// code, 8 OUTPUT slots and immediate completion.
    pub fn new(profile: &'static Profile) -> Self {
        FakeDevice {
            profile,
            mode: profile.expected_decode_mode,
            start_code: profile.expected_start_code,
            slots: 8,
            busy_depth: 0,
            error_on: HashSet::new(),
            codec: None,
            format: None,
            base: 0,
            capture_mem: Vec::new(),
            retired: HashMap::new(),
            cap_state: Vec::new(),
            cap_free: VecDeque::new(),
            pending: VecDeque::new(),
            done: VecDeque::new(),
            resident: HashMap::new(),
            held: None,
            queued_hold: None,
            filling_error: false,
            sps_set: false,
            pps_set: false,
            log: Vec::new(),
            configures: Vec::new(),
            requeues: Vec::new(),
            violations: RefCell::new(Vec::new()),
            source_change_on: HashSet::new(),
            source_changed: false,
            ioctls: Vec::new(),
            capture_fourcc: None,
            stand_in: false,
            faults: Vec::new(),
            queue_calls: 0,
            configure_calls: 0,
            completed: 0,
            injected: Vec::new(),
            mapped: RefCell::new(HashSet::new()),
            mmaps: Cell::new(0),
            mmap_errno: None,
        }
    }

    /// Every CAPTURE mmap (the first [`DecoderDevice::capture_map`] of a
    /// buffer) fails with `errno`, as the session's would (`ENOMEM` when the
    /// process is out of address space): one [`DeviceError::Ioctl`] naming
    /// the device, buffer and plane (`mmap(CAPTURE <index> plane 0)`).
    pub fn with_mmap_errno(mut self, errno: Errno) -> Self {
        self.mmap_errno = Some(errno);
        self
    }

    /// CAPTURE mmaps so far (first reads of a buffer through
    /// [`DecoderDevice::capture_map`]; failed ones not counted), over every
    /// configuration: 0 when nothing ever read a picture on the CPU.
    pub fn mmaps(&self) -> usize {
        self.mmaps.get()
    }

    /// Injects `fault` (see [`Fault`]); several may be combined.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// The errnos injected so far, as `"<ioctl>: <errno>"` in call order.
    pub fn injected(&self) -> &[String] {
        &self.injected
    }

    /// Pictures completed (dequeued or waiting to be) so far.
    pub fn completed(&self) -> u64 {
        self.completed
    }

    /// `ENODEV` once [`Fault::Vanish`]'s count of completed pictures is reached.
    fn vanished(&self, what: &str) -> Result<(), DeviceError> {
        let gone = self
            .faults
            .iter()
            .any(|f| matches!(f, Fault::Vanish { after } if self.completed >= *after));
        if gone {
            return Err(DeviceError::Ioctl {
                device: self.name_(),
                what: what.to_string(),
                source: Errno::ENODEV,
            });
        }
        Ok(())
    }

    /// The injected errno of `ioctl`'s `call`-th call, if any (recorded).
    fn injected_errno(&mut self, at_queue: bool, call: usize) -> Option<(FaultIoctl, Errno)> {
        let hit = self.faults.iter().find_map(|f| match *f {
            Fault::Errno {
                ioctl,
                errno,
                from,
                times,
            } if ioctl.at_queue() == at_queue
                && call >= from
                && times.is_none_or(|t| call < from + t) =>
            {
                Some((ioctl, errno))
            }
            _ => None,
        });
        if let Some((ioctl, errno)) = hit {
            self.injected.push(format!("{}: {errno}", ioctl.name()));
        }
        hit
    }

    /// A fake opened for `codec`, with the mode a [`vreq_v4l2::session::Session`]
    /// would report: the profile's H.264 / HEVC menus, frame-based without
    /// start codes for the codecs without menus (VP8, VP9, MPEG-2).
    pub fn for_codec(profile: &'static Profile, codec: CodecKind) -> Self {
        let d = Self::new(profile);
        match codec {
            CodecKind::H264 | CodecKind::Hevc => d,
            _ => d.with_mode(DecodeMode::FrameBased, StartCode::None),
        }
    }

    /// Overrides the decode mode / start code menus (visl offers both).
    pub fn with_mode(mut self, mode: DecodeMode, start_code: StartCode) -> Self {
        self.mode = mode;
        self.start_code = start_code;
        self
    }

    /// OUTPUT buffers (= requests that can be in flight at once), ≥ 1.
    pub fn with_slots(mut self, slots: usize) -> Self {
        self.slots = slots.max(1);
        self
    }

    /// A slow device: a non-blocking [`DecoderDevice::dequeue`] (zero
    /// timeout) completes nothing while `depth` or fewer jobs are pending; a
    /// waiting dequeue always completes the oldest job.
    pub fn with_busy_depth(mut self, depth: usize) -> Self {
        self.busy_depth = depth;
        self
    }

    /// The picture with this timestamp completes with `V4L2_BUF_FLAG_ERROR`.
    pub fn with_error_on(mut self, timestamp_ns: u64) -> Self {
        self.error_on.insert(timestamp_ns);
        self
    }

    /// Signals a resolution `V4L2_EVENT_SOURCE_CHANGE` when the picture with
    /// this timestamp completes (may be given for several pictures: mid-GOP,
    /// twice in a row, on the last picture during the final drain).
    pub fn with_source_change_on(mut self, timestamp_ns: u64) -> Self {
        self.source_change_on.insert(timestamp_ns);
        self
    }

    /// For CAPTURE formats the frame module does not know (today only
    /// Allwinner's ST12, which no profile prefers while NV12 is listed): hand
    /// the engine a linear stand-in of the same depth (NV12 for 8-bit, P010
    /// for 10-bit) instead of failing `configure`. NV15 / NC12 / NC30 are
    /// known and always given as themselves. The driver's real choice stays
    /// visible through [`FakeDevice::capture_fourcc`] and in
    /// [`FakeDevice::ioctls`]. Tests only: a real [`vreq_v4l2::session::Session`]
    /// refuses an unknown format.
    pub fn with_stand_in_formats(mut self) -> Self {
        self.stand_in = true;
        self
    }

    /// The CAPTURE fourcc the driver chose at the last `configure` (its
    /// ENUM_FMT list after the first controls, by
    /// [`vreq_v4l2::profile::choose_capture_format`]), whether or not the frame
    /// module can show it.
    pub fn capture_fourcc(&self) -> Option<[u8; 4]> {
        self.capture_fourcc
    }

    /// The ioctl-level sequence so far: per `configure` `S_FMT(OUTPUT) <fourcc>`,
    /// `REQBUFS(OUTPUT)`, `S_EXT_CTRLS(first) <control names>` (when the caller
    /// gave first controls), `S_FMT(CAPTURE) <fourcc>`, `CREATE_BUFS(CAPTURE) <n>`,
    /// `STREAMON`; per job `QBUF(OUTPUT)+MEDIA_REQUEST_IOC_QUEUE <timestamp>`.
    /// `configure` checks its part against [`Profile::check_order`].
    pub fn ioctls(&self) -> &[String] {
        &self.ioctls
    }

    /// Every job queued so far, in order.
    pub fn jobs(&self) -> &[RecordedJob] {
        &self.log
    }

    /// Every `configure` call: codec, params, first-control ids, CAPTURE count.
    pub fn configures(&self) -> &[(CodecKind, StreamParams, Vec<u32>, u32)] {
        &self.configures
    }

    /// CAPTURE indices given back, in order.
    pub fn requeues(&self) -> &[usize] {
        &self.requeues
    }

    /// Rule breaks detected while decoding (not at queue time), e.g. a
    /// reference to a picture whose CAPTURE buffer was already requeued.
    pub fn violations(&self) -> Vec<String> {
        self.violations.borrow().clone()
    }

    /// The timestamp stamped into CAPTURE buffer `index` (its last picture).
    pub fn stamp(&self, index: usize) -> Option<u64> {
        let m = self.mem(index)?;
        Some(u64::from_le_bytes(m.get(..8)?.try_into().ok()?))
    }

    /// CAPTURE buffers of the current configuration by state: (queued to
    /// the device and free, being filled by a held multi-request picture,
    /// dequeued — with the engine or its consumer until requeued). With no
    /// picture anywhere in the pipeline every buffer is queued.
    pub fn capture_states(&self) -> (usize, usize, usize) {
        let count = |f: fn(&CapState) -> bool| self.cap_state.iter().filter(|s| f(s)).count();
        (
            count(|s| *s == CapState::Queued),
            count(|s| matches!(s, CapState::Filling(_))),
            count(|s| *s == CapState::Dequeued),
        )
    }

    /// Buffers of earlier configurations not yet released.
    pub fn retired(&self) -> usize {
        self.retired.len()
    }

    fn mem(&self, index: usize) -> Option<&Vec<u8>> {
        match index.checked_sub(self.base) {
            Some(i) => self.capture_mem.get(i),
            None => self.retired.get(&index),
        }
    }

    fn name_(&self) -> String {
        format!("fake {} ({})", self.profile.driver, self.profile.variant)
    }

    fn reject(&self, what: String) -> DeviceError {
        DeviceError::Unsupported(what, self.name_())
    }

    /// A rejection of the request for picture `timestamp_ns`:
    /// `picture <timestamp_ns>: <what>`.
    fn reject_picture(&self, timestamp_ns: u64, what: impl std::fmt::Display) -> DeviceError {
        self.reject(format!("picture {timestamp_ns}: {what}"))
    }

    /// The module doc's per-request rules, checked in this order: the
    /// codec's controls, the dynamic arrays, HOLD_CAPTURE_BUF on a
    /// frame-based device, start codes, continuation of a held picture.
    fn check_job(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        match self.codec {
            Some(CodecKind::H264) => self.check_h264_controls(job)?,
            Some(CodecKind::Hevc) => self.check_hevc_controls(job)?,
            Some(CodecKind::Vp9) => self.check_vp9_controls(job)?,
            _ => {}
        }
        self.check_dynamic_arrays(job)?;
        if self.mode == DecodeMode::FrameBased && job.hold_capture {
            return Err(
                self.reject_picture(job.timestamp_ns, "HOLD_CAPTURE_BUF on a frame-based device")
            );
        }
        self.check_start_code(job)?;
        self.check_continuation(job)
    }

    /// H.264: SLICE_PARAMS in every request when slice-based, DECODE_PARAMS
    /// in a picture's first request, SPS and PPS set before or with it.
    fn check_h264_controls(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        let has = |id: u32| job.controls.iter().any(|c| c.id() == id);
        let reject = |what: &str| Err(self.reject_picture(job.timestamp_ns, what));
        if self.mode == DecodeMode::SliceBased
            && !has(bindings::V4L2_CID_STATELESS_H264_SLICE_PARAMS)
        {
            return reject("slice-based device needs SLICE_PARAMS in every request");
        }
        if job.starts_picture && !has(bindings::V4L2_CID_STATELESS_H264_DECODE_PARAMS) {
            return reject("first request of a picture lacks DECODE_PARAMS");
        }
        let sps = self.sps_set || has(bindings::V4L2_CID_STATELESS_H264_SPS);
        let pps = self.pps_set || has(bindings::V4L2_CID_STATELESS_H264_PPS);
        if !sps || !pps {
            return reject("SPS/PPS never set");
        }
        Ok(())
    }

    /// HEVC: SLICE_PARAMS in every request when the driver has the control
    /// (one element when slice-based), DECODE_PARAMS in a picture's first
    /// request, SPS and PPS set before or with it.
    fn check_hevc_controls(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        let has = |id: u32| job.controls.iter().any(|c| c.id() == id);
        let reject = |what: &str| Err(self.reject_picture(job.timestamp_ns, what));
        let slice_params = bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS;
        if self.profile.has_control(slice_params) && !has(slice_params) {
            return reject("HEVC request without SLICE_PARAMS (the driver has the control)");
        }
        let slices = job.controls.iter().find_map(|c| match c {
            Control::HevcSliceParams(v) => Some(v.len()),
            _ => None,
        });
        if self.mode == DecodeMode::SliceBased && slices.is_some_and(|n| n > 1) {
            return reject("slice-based device: one SLICE_PARAMS element per request");
        }
        if job.starts_picture && !has(bindings::V4L2_CID_STATELESS_HEVC_DECODE_PARAMS) {
            return reject("first request of a picture lacks DECODE_PARAMS");
        }
        let sps = self.sps_set || has(bindings::V4L2_CID_STATELESS_HEVC_SPS);
        let pps = self.pps_set || has(bindings::V4L2_CID_STATELESS_HEVC_PPS);
        if !sps || !pps {
            return reject("SPS/PPS never set");
        }
        Ok(())
    }

    /// VP9: V4L2_CID_STATELESS_VP9_FRAME in every request, one request per
    /// frame.
    fn check_vp9_controls(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        let reject = |what: &str| Err(self.reject_picture(job.timestamp_ns, what));
        if !job
            .controls
            .iter()
            .any(|c| c.id() == bindings::V4L2_CID_STATELESS_VP9_FRAME)
        {
            return reject("VP9 request without V4L2_CID_STATELESS_VP9_FRAME");
        }
        if job.hold_capture || !job.starts_picture {
            return reject("VP9 is one request per frame (no HOLD_CAPTURE_BUF)");
        }
        Ok(())
    }

    /// The dynamic arrays against the profile, as [`check_array_controls`]
    /// checks them against a real device's `VIDIOC_QUERY_EXT_CTRL` answers:
    /// a [`VARYING_CONTROLS`] entry the profile lacks is absent, one it has
    /// is a dynamic array of at most its `dims[0]` elements.
    fn check_dynamic_arrays(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        let profile = self.profile;
        check_array_controls(&job.controls, &|id| {
            if !VARYING_CONTROLS.contains(&id) {
                return None;
            }
            Some(profile.has_control(id).then(|| ControlInfo {
                elem_size: 0,
                elems: 1,
                dims0: profile.max_elems(id).unwrap_or(0),
                flags: bindings::V4L2_CTRL_FLAG_DYNAMIC_ARRAY,
            }))
        })
        .map_err(|e| self.reject_picture(job.timestamp_ns, e))
    }

    /// H.264 / HEVC: the bitstream starts with a `00 00 01` (or `00 00 00
    /// 01`) start code iff the device's start-code menu says
    /// [`StartCode::AnnexB`]. Other codecs have no such menu.
    fn check_start_code(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        let b = &job.bitstream;
        let starts_with_code = b.starts_with(&[0, 0, 1]) || b.starts_with(&[0, 0, 0, 1]);
        let has_start_code_menu = matches!(self.codec, Some(CodecKind::H264 | CodecKind::Hevc));
        match self.start_code {
            _ if !has_start_code_menu => Ok(()),
            StartCode::AnnexB if !starts_with_code => {
                Err(self.reject_picture(job.timestamp_ns, "Annex-B device but no start code"))
            }
            StartCode::None if starts_with_code => {
                Err(self
                    .reject_picture(job.timestamp_ns, "start code present but device wants none"))
            }
            _ => Ok(()),
        }
    }

    /// A request continuing a picture shares the held picture's timestamp;
    /// a new picture waits until the held one's last request; on a
    /// slice-based device a continuation follows its picture's first
    /// request.
    fn check_continuation(&self, job: &DecodeJob) -> Result<(), DeviceError> {
        let timestamp_ns = job.timestamp_ns;
        match (self.queued_hold, job.starts_picture) {
            (Some(held_timestamp_ns), false) if held_timestamp_ns != timestamp_ns => Err(self
                .reject_picture(
                    timestamp_ns,
                    format!("continues held picture {held_timestamp_ns} with another timestamp"),
                )),
            // A continuation without a held picture is allowed only if the
            // previous request of the same picture was queued (it completed).
            (None, false)
                if self.mode == DecodeMode::SliceBased
                    && self.log.last().map(|j| j.timestamp_ns) != Some(timestamp_ns) =>
            {
                Err(self.reject_picture(timestamp_ns, "continuation request without a first one"))
            }
            (Some(held_timestamp_ns), true) => Err(self.reject_picture(
                timestamp_ns,
                format!("new picture while picture {held_timestamp_ns} is still held"),
            )),
            _ => Ok(()),
        }
    }

    /// Runs the oldest pending job; returns false if it cannot run (no CAPTURE buffer).
    fn run_one(&mut self) -> bool {
        let Some(job) = self.pending.front() else {
            return false;
        };
        let timestamp_ns = job.timestamp_ns;
        if self.faults.contains(&Fault::StuckRequest(timestamp_ns)) {
            return false;
        }
        let index = match self.held {
            Some((held_timestamp_ns, i)) if held_timestamp_ns == timestamp_ns => i,
            Some((held_timestamp_ns, i)) => {
                // v4l2_m2m: a held buffer is released when the next job has another timestamp.
                self.finish_picture(held_timestamp_ns, i);
                match self.cap_free.pop_front() {
                    Some(i) => i,
                    None => return false,
                }
            }
            None => match self.cap_free.pop_front() {
                Some(i) => i,
                None => return false,
            },
        };
        let job = self.pending.pop_front().expect("checked above");
        if self.held.is_none() || self.held.map(|h| h.0) != Some(timestamp_ns) {
            self.filling_error = self.error_on.contains(&timestamp_ns);
        }
        let mut refs: Vec<(&str, u64)> = Vec::new();
        for c in &job.controls {
            match c {
                Control::H264DecodeParams(dp) => refs.extend(
                    dp.dpb
                        .iter()
                        .filter(|e| e.flags & bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID != 0)
                        .map(|e| ("reference_ts", e.reference_ts)),
                ),
                Control::HevcDecodeParams(dp) => {
                    let n = (dp.num_active_dpb_entries as usize).min(dp.dpb.len());
                    refs.extend(dp.dpb[..n].iter().map(|e| ("dpb[].timestamp", e.timestamp)));
                }
                Control::Vp9Frame(f) => {
                    let intra = bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME
                        | bindings::V4L2_VP9_FRAME_FLAG_INTRA_ONLY;
                    if f.flags & intra == 0 {
                        refs.push(("last_frame_ts", f.last_frame_ts));
                        refs.push(("golden_frame_ts", f.golden_frame_ts));
                        refs.push(("alt_frame_ts", f.alt_frame_ts));
                    }
                }
                _ => {}
            }
        }
        for (what, reference_timestamp_ns) in refs {
            if !self.resident.contains_key(&reference_timestamp_ns) {
                self.violations.borrow_mut().push(format!(
                    "picture {timestamp_ns}: {what} {reference_timestamp_ns} is not in any \
                     dequeued CAPTURE buffer"
                ));
                self.filling_error = true;
            }
        }
        self.cap_state[index] = CapState::Filling(timestamp_ns);
        if job.hold_capture {
            self.held = Some((timestamp_ns, index));
        } else {
            self.held = None;
            self.finish_picture(timestamp_ns, index);
        }
        true
    }

    fn finish_picture(&mut self, timestamp_ns: u64, index: usize) {
        if self.held.map(|h| h.1) == Some(index) {
            self.held = None;
        }
        let (w, h) = self
            .format
            .as_ref()
            .map(|f| (f.width, f.height))
            .unwrap_or_default();
        if let Some(m) = self.capture_mem.get_mut(index) {
            m[..8].copy_from_slice(&timestamp_ns.to_le_bytes());
            m[8..12].copy_from_slice(&w.to_le_bytes());
            m[12..16].copy_from_slice(&h.to_le_bytes());
        }
        self.cap_state[index] = CapState::Dequeued;
        self.resident.retain(|_, &mut i| i != index);
        self.resident.insert(timestamp_ns, index);
        self.completed += 1;
        if self.source_change_on.contains(&timestamp_ns) {
            self.source_changed = true;
        }
        self.done.push_back(Completed {
            timestamp_ns,
            capture_index: self.base + index,
            error: self.filling_error,
        });
        self.filling_error = false;
    }
    /// Refuses what the driver would: a codec the profile lacks, a coded
    /// size (pixels) outside 1x1 up to the profile's maximum, a 10-bit
    /// stream of a codec the driver decodes only in 8-bit.
    fn check_stream(&self, codec: CodecKind, params: &StreamParams) -> Result<(), DeviceError> {
        let (w, h) = (params.coded_width, params.coded_height);
        if !self.profile.codecs.is_empty() {
            let Some((mw, mh)) = self.profile.max_size(codec) else {
                return Err(self.reject(self.profile.unsupported_codec(codec)));
            };
            if w > mw || h > mh || w == 0 || h == 0 {
                return Err(self.reject(format!("{codec} {w}x{h} outside 1x1..{mw}x{mh}")));
            }
        }
        // Drivers refuse a 10-bit sequence of a codec they decode only in
        // 8-bit (hantro_drv.c try_ctrl: H.264 bit_depth_luma_minus8 != 0;
        // rkvdec VP9 profile 0 only). visl takes anything (its CAPTURE stays
        // NV12), and a driver without a profile is not second-guessed.
        if params.bit_depth > 8
            && self.profile.driver != "visl"
            && !self.profile.codecs.is_empty()
            && !self.profile.codecs_10bit.contains(&codec)
        {
            let ten: Vec<&str> = self.profile.codecs_10bit.iter().map(|c| c.name()).collect();
            return Err(self.reject(format!(
                "{}-bit {codec} is not supported by {} (10-bit: {})",
                params.bit_depth,
                self.profile.driver,
                if ten.is_empty() {
                    "none".to_string()
                } else {
                    ten.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// What `VIDIOC_ENUM_FMT(CAPTURE)` lists after the first controls:
    /// drivers that derive the format from the SPS (rkvdec, rpi-hevc-dec)
    /// list only the ones for the stream's `bit_depth`; the others list all.
    fn listed_capture_formats(&self, bit_depth: u8) -> Vec<[u8; 4]> {
        if self.profile.sps_before_capture_format {
            if bit_depth > 8 {
                self.profile.capture_formats_10bit.to_vec()
            } else {
                self.profile.capture_formats.to_vec()
            }
        } else {
            self.profile.all_capture_formats()
        }
    }

    /// The CAPTURE fourcc among `listed` ([`choose_capture_format`]) and the
    /// [`PixelFormat`] the engine gets: the format itself when the frame
    /// module knows it, else (with [`FakeDevice::with_stand_in_formats`]) a
    /// linear stand-in of the same depth. Keeps the driver's own choice,
    /// shown or not, in [`FakeDevice::capture_fourcc`].
    fn pick_capture_format(
        &mut self,
        bit_depth: u8,
        listed: &[[u8; 4]],
    ) -> Result<([u8; 4], PixelFormat), DeviceError> {
        // The driver's choice, shown or not (a device-level fact for tests).
        let device_choice = choose_capture_format(self.profile, bit_depth, listed, |_| true);
        self.capture_fourcc = device_choice.map(|c| c.0);
        let shown = choose_capture_format(self.profile, bit_depth, listed, |f| {
            PixelFormat::from_v4l2(*f).is_some()
        });
        match (shown, device_choice) {
            (Some((f, _)), _) => Ok((f, PixelFormat::from_v4l2(f).expect("checked"))),
            (None, Some((f, _))) if self.stand_in => {
                let pf = if bit_depth > 8 {
                    PixelFormat::P010
                } else {
                    PixelFormat::Nv12
                };
                Ok((f, pf))
            }
            _ => Err(self.reject(format!(
                "no CAPTURE format the frame module can handle (the driver offers {})",
                listed
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Records the setup ioctls of `session::Session::configure`, as far as
    /// the caller decides them (which controls come first), in
    /// [`FakeDevice::ioctls`], and checks them against
    /// [`Profile::check_order`] (an error names the broken rule).
    fn record_setup(
        &mut self,
        codec: CodecKind,
        first_controls: &[Control],
        capture_fourcc: [u8; 4],
        capture_buffers: u32,
    ) -> Result<(), DeviceError> {
        let mut ops = vec![
            format!(
                "S_FMT(OUTPUT) {}",
                String::from_utf8_lossy(&codec.output_fourcc())
            ),
            "REQBUFS(OUTPUT)".to_string(),
        ];
        if !first_controls.is_empty() {
            ops.push(format!(
                "S_EXT_CTRLS(first) {}",
                first_controls
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        ops.push(format!(
            "S_FMT(CAPTURE) {}",
            String::from_utf8_lossy(&capture_fourcc)
        ));
        ops.push(format!("CREATE_BUFS(CAPTURE) {capture_buffers}"));
        ops.push("STREAMON".to_string());
        let sps_needed = matches!(codec, CodecKind::H264 | CodecKind::Hevc);
        let order = self.profile.check_order(&ops, sps_needed);
        self.ioctls.extend(ops);
        order.map_err(|e| self.reject(e))
    }

    /// Forgets the jobs and pictures of the previous configuration and
    /// starts decoding `codec`, with SPS / PPS set if `first_controls`
    /// carries them.
    fn restart(&mut self, codec: CodecKind, first_controls: &[Control]) {
        self.pending.clear();
        self.done.clear();
        self.resident.clear();
        self.held = None;
        self.queued_hold = None;
        self.sps_set = first_controls
            .iter()
            .any(|c| matches!(c, Control::H264Sps(_) | Control::HevcSps(_)));
        self.pps_set = first_controls
            .iter()
            .any(|c| matches!(c, Control::H264Pps(_) | Control::HevcPps(_)));
        self.codec = Some(codec);
    }

    /// Retires the dequeued CAPTURE buffers of the previous configuration
    /// (readable until released, as vb2 orphans mapped buffers on
    /// `REQBUFS(0)`), then allocates `count` zeroed buffers of `size` bytes,
    /// all queued, numbered after every earlier one.
    fn reallocate_captures(&mut self, count: u32, size: usize) {
        let old = std::mem::take(&mut self.capture_mem);
        for (i, m) in old.into_iter().enumerate() {
            if self.cap_state.get(i) == Some(&CapState::Dequeued) {
                self.retired.insert(self.base + i, m);
            } else {
                // Freed by REQBUFS(0): its mapping goes with it.
                self.mapped.get_mut().remove(&(self.base + i));
            }
        }
        self.base += self.cap_state.len();
        self.capture_mem = (0..count).map(|_| vec![0u8; size]).collect();
        self.cap_state = vec![CapState::Queued; count as usize];
        self.cap_free = (0..count as usize).collect();
    }
}

impl DecoderDevice for FakeDevice {
    fn name(&self) -> String {
        self.name_()
    }

    fn mode(&self) -> (DecodeMode, StartCode) {
        (self.mode, self.start_code)
    }

    fn has_control(&self, id: u32) -> bool {
        self.profile.has_control(id)
    }

    fn take_source_change(&mut self) -> bool {
        std::mem::take(&mut self.source_changed)
    }

    fn configure(
        &mut self,
        codec: CodecKind,
        params: &StreamParams,
        first_controls: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        self.vanished("VIDIOC_S_FMT(OUTPUT)")?;
        let call = self.configure_calls;
        self.configure_calls += 1;
        if let Some((ioctl, errno)) = self.injected_errno(false, call) {
            return Err(DeviceError::Ioctl {
                device: self.name_(),
                what: ioctl.name().to_string(),
                source: errno,
            });
        }
        self.configures.push((
            codec,
            *params,
            first_controls.iter().map(|c| c.id()).collect(),
            capture_buffers,
        ));
        let (w, h) = (params.coded_width, params.coded_height);
        self.check_stream(codec, params)?;
        // What ENUM_FMT lists after the first controls, and the choice.
        let listed = self.listed_capture_formats(params.bit_depth);
        let (fourcc, pixel_format) = self.pick_capture_format(params.bit_depth, &listed)?;
        self.record_setup(codec, first_controls, fourcc, capture_buffers)?;
        let geo = capture_geometry(fourcc, pixel_format, w, h);
        if geo.size > MAX_FAKE_BUFFER || capture_buffers == 0 || capture_buffers > 64 {
            return Err(self.reject(format!(
                "{capture_buffers} CAPTURE buffers of {} bytes",
                geo.size
            )));
        }
        let layout_fourcc = match pixel_format {
            PixelFormat::P010 => *b"P010",
            _ => *b"NV12",
        };
        let (bytesperline, height) = (geo.bytesperline as u32, geo.height as u32);
        let planes = plane_layout(fourcc, &[bytesperline], height)
            .or_else(|| plane_layout(layout_fourcc, &[bytesperline], height))
            .expect("known format");
        self.restart(codec, first_controls);
        self.reallocate_captures(capture_buffers, geo.size);
        let fmt = CaptureFormat {
            pixel_format,
            width: geo.width as u32,
            height: geo.height as u32,
            planes,
        };
        self.format = Some(fmt.clone());
        Ok(fmt)
    }

    fn free_slots(&self) -> usize {
        if self.format.is_none() {
            return 0;
        }
        self.slots.saturating_sub(self.pending.len())
    }

    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
        if self.format.is_none() {
            return Err(self.reject("queue before configure".into()));
        }
        if self.free_slots() == 0 {
            return Err(self.reject("queue with no free OUTPUT slot".into()));
        }
        self.check_job(job)?;
        self.vanished(&format!(
            "picture {}: VIDIOC_S_EXT_CTRLS(request)",
            job.timestamp_ns
        ))?;
        let call = self.queue_calls;
        self.queue_calls += 1;
        if let Some((ioctl, errno)) = self.injected_errno(true, call) {
            return Err(DeviceError::Ioctl {
                device: self.name_(),
                what: format!("picture {}: {}", job.timestamp_ns, ioctl.name()),
                source: errno,
            });
        }
        self.ioctls.push(format!(
            "QBUF(OUTPUT)+MEDIA_REQUEST_IOC_QUEUE {}",
            job.timestamp_ns
        ));
        let has = |id: u32| job.controls.iter().any(|c| c.id() == id);
        self.sps_set |= has(bindings::V4L2_CID_STATELESS_H264_SPS)
            || has(bindings::V4L2_CID_STATELESS_HEVC_SPS);
        self.pps_set |= has(bindings::V4L2_CID_STATELESS_H264_PPS)
            || has(bindings::V4L2_CID_STATELESS_HEVC_PPS);
        self.queued_hold = if job.hold_capture {
            Some(job.timestamp_ns)
        } else {
            None
        };
        let rec = RecordedJob {
            timestamp_ns: job.timestamp_ns,
            control_ids: job.controls.iter().map(|c| c.id()).collect(),
            controls: job.controls.clone(),
            bitstream: job.bitstream.clone(),
            hold_capture: job.hold_capture,
            starts_picture: job.starts_picture,
        };
        self.log.push(rec.clone());
        self.pending.push_back(rec);
        Ok(())
    }

    fn dequeue(&mut self, timeout: Duration) -> Result<Option<Completed>, DeviceError> {
        self.vanished("VIDIOC_DQBUF(CAPTURE)")?;
        if let Some(c) = self.done.pop_front() {
            return Ok(Some(c));
        }
        let may_run = !timeout.is_zero() || self.pending.len() > self.busy_depth;
        if may_run {
            while self.done.is_empty() && self.run_one() {}
        }
        Ok(self.done.pop_front())
    }

    fn in_flight(&self) -> usize {
        self.pending.len() + self.done.len()
    }

    fn requeue_capture(&mut self, global: usize) -> Result<(), DeviceError> {
        self.vanished(&format!("VIDIOC_QBUF(CAPTURE {global})"))?;
        let Some(index) = global.checked_sub(self.base) else {
            // A buffer of an earlier configuration: released.
            return match self.retired.remove(&global) {
                Some(_) => {
                    self.requeues.push(global);
                    self.mapped.get_mut().remove(&global);
                    Ok(())
                }
                None => Err(self.reject(format!(
                    "release of unknown retired CAPTURE buffer {global}"
                ))),
            };
        };
        match self.cap_state.get(index) {
            None => return Err(self.reject(format!("requeue of unknown CAPTURE buffer {global}"))),
            Some(CapState::Dequeued) => {}
            Some(s) => {
                return Err(
                    self.reject(format!("requeue of CAPTURE buffer {global} in state {s:?}"))
                )
            }
        }
        self.requeues.push(global);
        self.resident.retain(|_, &mut i| i != index);
        self.cap_state[index] = CapState::Queued;
        self.cap_free.push_front(index);
        Ok(())
    }

    fn capture_dmabufs(&self, _index: usize) -> Vec<BorrowedFd<'_>> {
        Vec::new()
    }

    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        self.mem(index).map(|m| vec![m.len()]).unwrap_or_default()
    }

    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        let Some(m) = self.mem(index) else {
            return Ok(Vec::new());
        };
        if !self.mapped.borrow().contains(&index) {
            if let Some(errno) = self.mmap_errno {
                return Err(DeviceError::Ioctl {
                    device: self.name_(),
                    what: format!("mmap(CAPTURE {index} plane 0)"),
                    source: errno,
                });
            }
            self.mapped.borrow_mut().insert(index);
            self.mmaps.set(self.mmaps.get() + 1);
        }
        Ok(vec![&m[..]])
    }

    fn mapped_captures(&self) -> usize {
        self.mapped.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_v4l2::profile::for_driver;

    fn params() -> StreamParams {
        crate::params_64x48(2)
    }

    fn sps() -> Control {
        Control::H264Sps(Box::default())
    }

    fn dp(refs: &[u64]) -> Control {
        let mut d = bindings::v4l2_ctrl_h264_decode_params::default();
        for (i, &r) in refs.iter().enumerate() {
            d.dpb[i].reference_ts = r;
            d.dpb[i].flags = bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID;
        }
        Control::H264DecodeParams(Box::new(d))
    }

    fn job(
        timestamp_ns: u64,
        controls: Vec<Control>,
        annexb: bool,
        hold: bool,
        first: bool,
    ) -> DecodeJob {
        let mut bitstream = if annexb { vec![0, 0, 1] } else { vec![] };
        bitstream.extend([0x65, 0x88, 0x80]);
        DecodeJob {
            timestamp_ns,
            controls,
            bitstream,
            hold_capture: hold,
            starts_picture: first,
        }
    }

    fn slice() -> Control {
        Control::H264SliceParams(Box::default())
    }

    fn pps() -> Control {
        Control::H264Pps(Box::default())
    }

    #[test]
    fn visl_slice_based_hold_completes_with_last_slice() {
        let mut d = FakeDevice::new(for_driver("visl", ""));
        assert_eq!(d.mode(), (DecodeMode::SliceBased, StartCode::None));
        d.configure(CodecKind::H264, &params(), &[sps()], 4)
            .unwrap();
        d.queue(&job(
            1000,
            vec![sps(), pps(), dp(&[]), slice()],
            false,
            true,
            true,
        ))
        .unwrap();
        assert_eq!(
            d.dequeue(Duration::from_millis(1)).unwrap(),
            None,
            "held picture must not complete"
        );
        d.queue(&job(1000, vec![slice()], false, false, false))
            .unwrap();
        let c = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert_eq!((c.timestamp_ns, c.error), (1000, false));
        assert_eq!(d.stamp(c.capture_index), Some(1000));
        assert_eq!(d.jobs().len(), 2);
        assert_eq!(
            d.jobs()[0].control_ids[3],
            bindings::V4L2_CID_STATELESS_H264_SLICE_PARAMS
        );
        assert_eq!(d.in_flight(), 0);
    }

    #[test]
    fn rules_reject_bad_jobs() {
        let mut d = FakeDevice::new(for_driver("visl", ""));
        d.configure(CodecKind::H264, &params(), &[sps()], 4)
            .unwrap();
        // No SLICE_PARAMS on a slice-based device.
        assert!(d
            .queue(&job(1000, vec![pps(), dp(&[])], false, false, true))
            .is_err());
        // Start code on a start-code-none device.
        assert!(d
            .queue(&job(1000, vec![pps(), dp(&[]), slice()], true, false, true))
            .is_err());
        // No DECODE_PARAMS on a picture's first request.
        assert!(d
            .queue(&job(1000, vec![pps(), slice()], false, false, true))
            .is_err());
        // Continuation with a different timestamp while held.
        d.queue(&job(1000, vec![pps(), dp(&[]), slice()], false, true, true))
            .unwrap();
        assert!(d
            .queue(&job(2000, vec![slice()], false, false, false))
            .is_err());
        assert!(d
            .queue(&job(2000, vec![dp(&[]), slice()], false, false, true))
            .is_err());
        assert_eq!(d.jobs().len(), 1);

        let mut h = FakeDevice::new(for_driver("hantro-vpu", "rk3568"));
        assert_eq!(h.mode(), (DecodeMode::FrameBased, StartCode::AnnexB));
        h.configure(CodecKind::H264, &params(), &[sps()], 4)
            .unwrap();
        assert!(
            h.queue(&job(1000, vec![pps(), dp(&[])], false, false, true))
                .is_err(),
            "needs start code"
        );
        assert!(
            h.queue(&job(1000, vec![pps(), dp(&[])], true, true, true))
                .is_err(),
            "no HOLD when frame-based"
        );
        h.queue(&job(1000, vec![pps(), dp(&[])], true, false, true))
            .unwrap();
    }

    #[test]
    fn rkvdec_wants_sps_before_capture() {
        let mut d = FakeDevice::new(for_driver("rkvdec", "rkvdec"));
        assert!(d.configure(CodecKind::H264, &params(), &[], 4).is_err());
        assert!(d.configure(CodecKind::H264, &params(), &[sps()], 4).is_ok());
        let mut v = FakeDevice::new(for_driver("visl", ""));
        assert!(v.configure(CodecKind::H264, &params(), &[], 4).is_ok());
    }

    #[test]
    fn busy_depth_slots_and_errors() {
        let mut d = FakeDevice::new(for_driver("hantro-vpu", ""))
            .with_slots(4)
            .with_busy_depth(2)
            .with_error_on(2000);
        d.configure(CodecKind::H264, &params(), &[sps(), pps()], 4)
            .unwrap();
        d.queue(&job(1000, vec![dp(&[])], true, false, true))
            .unwrap();
        d.queue(&job(2000, vec![dp(&[1000])], true, false, true))
            .unwrap();
        assert_eq!(
            d.dequeue(Duration::ZERO).unwrap(),
            None,
            "2 pending ≤ busy depth"
        );
        d.queue(&job(3000, vec![dp(&[1000])], true, false, true))
            .unwrap();
        d.queue(&job(4000, vec![dp(&[1000])], true, false, true))
            .unwrap();
        assert_eq!(d.free_slots(), 0);
        assert!(d
            .queue(&job(5000, vec![dp(&[])], true, false, true))
            .is_err());
        let a = d.dequeue(Duration::ZERO).unwrap().unwrap();
        assert_eq!((a.timestamp_ns, a.error), (1000, false));
        let b = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert_eq!((b.timestamp_ns, b.error), (2000, true));
        assert!(d.violations().is_empty());
        // Giving back the reference's buffer, then decoding a picture that
        // references it: a violation, and that picture is flagged bad.
        d.requeue_capture(a.capture_index).unwrap();
        assert!(
            d.requeue_capture(a.capture_index).is_err(),
            "double requeue"
        );
        let c = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert_eq!(c.timestamp_ns, 3000);
        assert!(c.error);
        assert_eq!(d.violations().len(), 1);
        // LIFO: the requeued buffer was reused at once and carries the new stamp.
        assert_eq!(c.capture_index, a.capture_index);
        assert_eq!(d.stamp(c.capture_index), Some(3000));
    }

    #[test]
    fn stalls_without_capture_buffers() {
        let mut d = FakeDevice::new(for_driver("hantro-vpu", ""));
        d.configure(CodecKind::H264, &params(), &[sps(), pps()], 1)
            .unwrap();
        d.queue(&job(1000, vec![dp(&[])], true, false, true))
            .unwrap();
        d.queue(&job(2000, vec![dp(&[])], true, false, true))
            .unwrap();
        let a = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert_eq!(
            d.dequeue(Duration::from_millis(1)).unwrap(),
            None,
            "no CAPTURE buffer left"
        );
        d.requeue_capture(a.capture_index).unwrap();
        assert_eq!(
            d.dequeue(Duration::from_millis(1))
                .unwrap()
                .unwrap()
                .timestamp_ns,
            2000
        );
    }

    fn hevc_dp(refs: &[u64]) -> Control {
        let mut d = bindings::v4l2_ctrl_hevc_decode_params::default();
        for (i, &r) in refs.iter().enumerate() {
            d.dpb[i].timestamp = r;
        }
        d.num_active_dpb_entries = refs.len() as u8;
        Control::HevcDecodeParams(Box::new(d))
    }

    fn hevc_job(timestamp_ns: u64, controls: Vec<Control>) -> DecodeJob {
        DecodeJob {
            timestamp_ns,
            controls,
            bitstream: vec![0x26, 0x01, 0xaf],
            hold_capture: false,
            starts_picture: true,
        }
    }

    fn hevc_slice(n: usize) -> Control {
        Control::HevcSliceParams(vec![Default::default(); n])
    }

    #[test]
    fn hevc_rules() {
        let sps = || Control::HevcSps(Box::default());
        let pps = || Control::HevcPps(Box::default());
        let mut d = FakeDevice::new(for_driver("visl", ""));
        d.configure(CodecKind::Hevc, &params(), &[], 8).unwrap();
        // SPS/PPS never set.
        let e = d.queue(&hevc_job(1000, vec![hevc_dp(&[]), hevc_slice(1)]));
        assert!(format!("{}", e.unwrap_err()).contains("SPS/PPS"));
        // No SLICE_PARAMS although visl has the control.
        assert!(d
            .queue(&hevc_job(1000, vec![sps(), pps(), hevc_dp(&[])]))
            .is_err());
        // No DECODE_PARAMS on the first request.
        assert!(d
            .queue(&hevc_job(1000, vec![sps(), pps(), hevc_slice(1)]))
            .is_err());
        // Empty slice array.
        assert!(d
            .queue(&hevc_job(
                1000,
                vec![sps(), pps(), hevc_dp(&[]), hevc_slice(0)]
            ))
            .is_err());
        // More slices than visl's dims[0] (600).
        assert!(d
            .queue(&hevc_job(
                1000,
                vec![sps(), pps(), hevc_dp(&[]), hevc_slice(601)]
            ))
            .is_err());
        // EXT_SPS_ST_RPS on visl 6.12 (it has no such control).
        let st = Control::HevcExtSpsStRps(vec![Default::default()]);
        assert!(d
            .queue(&hevc_job(
                1000,
                vec![sps(), pps(), hevc_dp(&[]), hevc_slice(1), st.clone()]
            ))
            .is_err());
        // Slice-based visl: one slice per request.
        assert!(d
            .queue(&hevc_job(
                1000,
                vec![sps(), pps(), hevc_dp(&[]), hevc_slice(2)]
            ))
            .is_err());
        assert!(d.jobs().is_empty());
        d.queue(&hevc_job(
            1000,
            vec![sps(), pps(), hevc_dp(&[]), hevc_slice(1)],
        ))
        .unwrap();
        let a = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        // A DPB entry naming the held picture is fine; one naming a picture
        // never decoded is a violation and the picture comes back bad.
        d.queue(&hevc_job(2000, vec![hevc_dp(&[1000]), hevc_slice(1)]))
            .unwrap();
        let b = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert!(!b.error && d.violations().is_empty());
        d.queue(&hevc_job(3000, vec![hevc_dp(&[1000, 2500]), hevc_slice(1)]))
            .unwrap();
        let c = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert!(c.error);
        assert_eq!(d.violations().len(), 1, "{:?}", d.violations());
        // Released picture named as a reference: another violation.
        d.requeue_capture(a.capture_index).unwrap();
        d.queue(&hevc_job(4000, vec![hevc_dp(&[1000]), hevc_slice(1)]))
            .unwrap();
        assert!(d.dequeue(Duration::from_millis(1)).unwrap().unwrap().error);
        assert_eq!(d.violations().len(), 2);

        // RK3588: the EXT arrays are accepted, ≤ 65 elements, never empty.
        let mut rk = FakeDevice::new(for_driver("rkvdec", "rk3588"));
        assert!(rk.has_control(vreq_core::uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS));
        assert!(!d.has_control(vreq_core::uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS));
        assert!(
            rk.configure(CodecKind::Hevc, &params(), &[], 8).is_err(),
            "rkvdec needs the SPS before the CAPTURE format"
        );
        rk.configure(CodecKind::Hevc, &params(), &[sps()], 8)
            .unwrap();
        let annexb = |mut j: DecodeJob| {
            j.bitstream.splice(0..0, [0, 0, 1]);
            j
        };
        let lt = |n| Control::HevcExtSpsLtRps(vec![Default::default(); n]);
        let st = |n| Control::HevcExtSpsStRps(vec![Default::default(); n]);
        let base = || vec![sps(), pps(), hevc_dp(&[]), hevc_slice(1)];
        for bad in [st(0), st(66), lt(0), lt(66)] {
            let mut c = base();
            c.push(bad);
            assert!(rk.queue(&annexb(hevc_job(1000, c))).is_err());
        }
        let mut c = base();
        c.extend([st(65), lt(1)]);
        rk.queue(&annexb(hevc_job(1000, c))).unwrap();
        // Frame-based: all slices of the picture in one request.
        let mut c = base();
        c[3] = hevc_slice(3);
        rk.queue(&annexb(hevc_job(2000, c))).unwrap();
    }

    fn vp9_frame(key: bool, refs: [u64; 3]) -> Control {
        let f = bindings::v4l2_ctrl_vp9_frame {
            flags: if key {
                bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME
            } else {
                0
            },
            last_frame_ts: refs[0],
            golden_frame_ts: refs[1],
            alt_frame_ts: refs[2],
            ..Default::default()
        };
        Control::Vp9Frame(Box::new(f))
    }

    fn vp9_job(timestamp_ns: u64, controls: Vec<Control>) -> DecodeJob {
        DecodeJob {
            timestamp_ns,
            controls,
            bitstream: vec![0x82, 0x49, 0x83],
            hold_capture: false,
            starts_picture: true,
        }
    }

    #[test]
    fn vp9_rules() {
        let mut d = FakeDevice::for_codec(for_driver("visl", ""), CodecKind::Vp9);
        assert_eq!(d.mode(), (DecodeMode::FrameBased, StartCode::None));
        assert_eq!(
            FakeDevice::for_codec(for_driver("visl", ""), CodecKind::Hevc).mode(),
            (DecodeMode::SliceBased, StartCode::None)
        );
        d.configure(CodecKind::Vp9, &params(), &[], 9).unwrap();
        // Every request carries FRAME.
        assert!(d
            .queue(&vp9_job(
                1000,
                vec![Control::Vp9CompressedHdr(Box::default())]
            ))
            .is_err());
        // One request per frame.
        let mut held = vp9_job(1000, vec![vp9_frame(true, [0; 3])]);
        held.hold_capture = true;
        assert!(d.queue(&held).is_err());
        // A key frame's (stale) reference timestamps are not checked.
        d.queue(&vp9_job(1000, vec![vp9_frame(true, [77; 3])]))
            .unwrap();
        let a = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert!(!a.error);
        d.queue(&vp9_job(2000, vec![vp9_frame(false, [1000; 3])]))
            .unwrap();
        assert!(!d.dequeue(Duration::from_millis(1)).unwrap().unwrap().error);
        assert!(d.violations().is_empty());
        // Inter frame whose golden is unknown: violation, bad picture.
        d.queue(&vp9_job(3000, vec![vp9_frame(false, [2000, 1500, 1000])]))
            .unwrap();
        assert!(d.dequeue(Duration::from_millis(1)).unwrap().unwrap().error);
        let v = d.violations();
        assert!(
            v.len() == 1 && v[0].contains("golden_frame_ts 1500"),
            "{v:?}"
        );
    }

    #[test]
    fn ten_bit_capture_format() {
        let mut p = params();
        p.bit_depth = 10;
        // visl lists no 10-bit format: NV12 as GStreamer gets it.
        let mut v = FakeDevice::new(for_driver("visl", ""));
        let f = v.configure(CodecKind::Hevc, &p, &[], 4).unwrap();
        assert_eq!(f.pixel_format, PixelFormat::Nv12);
        // A driver without a profile: P010, 16-bit samples.
        let mut g = FakeDevice::new(for_driver("some-new-driver", ""));
        let f = g
            .configure(CodecKind::Hevc, &p, &[Control::HevcSps(Box::default())], 4)
            .unwrap();
        assert_eq!(f.pixel_format, PixelFormat::P010);
        assert!(f.planes[0].stride >= 64 * 2);
        p.bit_depth = 8;
        let f = g
            .configure(CodecKind::Hevc, &p, &[Control::HevcSps(Box::default())], 4)
            .unwrap();
        assert_eq!(f.pixel_format, PixelFormat::Nv12);
        // rkvdec lists only NV15 after a 10-bit SPS: the real format, packed.
        p.bit_depth = 10;
        let mut rk = FakeDevice::new(for_driver("rkvdec", "rk3588"));
        let f = rk
            .configure(CodecKind::Hevc, &p, &[Control::HevcSps(Box::default())], 4)
            .unwrap();
        assert_eq!(f.pixel_format, PixelFormat::Nv15);
        assert_eq!((f.width, f.height), (64, 48));
        assert_eq!(f.planes[0].stride, 80); // 64 samples · 10 bits / 8
        assert_eq!(f.planes[1].offset, 80 * 48);
        assert_eq!(rk.capture_plane_lengths(0), [80 * 48 * 3 / 2]);
    }

    #[test]
    fn rpi_gives_sand128_with_the_drivers_geometry() {
        let mut p = params();
        p.coded_width = 200; // two 128-byte NC12 columns, three 96-sample NC30 ones
        p.coded_height = 100;
        p.visible = (0, 0, 200, 100);
        let rpi = for_driver("rpi-hevc-dec", "rpi-hevc-dec");
        let mut d = FakeDevice::new(rpi);
        let f = d
            .configure(CodecKind::Hevc, &p, &[Control::HevcSps(Box::default())], 2)
            .unwrap();
        assert_eq!(f.pixel_format, PixelFormat::Nc12);
        assert_eq!((f.width, f.height), (256, 112));
        assert_eq!(f.planes[0].stride, 168); // column height = 112 · 3 / 2
        assert_eq!(f.planes[1].offset, 112 * 128);
        assert_eq!(d.capture_plane_lengths(0), [168 * 256]);
        p.bit_depth = 10;
        let f = d
            .configure(CodecKind::Hevc, &p, &[Control::HevcSps(Box::default())], 2)
            .unwrap();
        assert_eq!(f.pixel_format, PixelFormat::Nc30);
        assert_eq!((f.width, f.height), (288, 112));
        assert_eq!(d.capture_fourcc(), Some(*b"NC30"));
        // indices continue after the first configuration's two buffers
        assert_eq!(d.capture_plane_lengths(2), [168 * 128 * 3]);
    }

    #[test]
    fn retired_buffers_stay_readable_until_released() {
        let mut d = FakeDevice::new(for_driver("hantro-vpu", ""));
        d.configure(CodecKind::H264, &params(), &[sps(), pps()], 2)
            .unwrap();
        d.queue(&job(1000, vec![dp(&[])], true, false, true))
            .unwrap();
        let a = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        let mut big = params();
        big.coded_width = 128;
        big.coded_height = 96;
        d.configure(CodecKind::H264, &big, &[sps(), pps()], 2)
            .unwrap();
        assert_eq!(d.retired(), 1);
        assert_eq!(d.stamp(a.capture_index), Some(1000));
        d.queue(&job(2000, vec![dp(&[])], true, false, true))
            .unwrap();
        let b = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        assert!(b.capture_index >= 2, "new indices after the old ones");
        assert_eq!(d.stamp(a.capture_index), Some(1000));
        assert_eq!(
            d.capture_map(b.capture_index).unwrap()[0][8..12],
            128u32.to_le_bytes()
        );
        d.requeue_capture(a.capture_index).unwrap();
        assert_eq!(d.retired(), 0);
        assert!(d.capture_map(a.capture_index).unwrap().is_empty());
        assert!(d.requeue_capture(a.capture_index).is_err());
    }

    #[test]
    fn capture_buffers_are_mapped_when_first_read_and_unmapped_with_them() {
        let mut d = FakeDevice::new(for_driver("hantro-vpu", ""));
        d.configure(CodecKind::H264, &params(), &[sps(), pps()], 3)
            .unwrap();
        assert_eq!((d.mapped_captures(), d.mmaps()), (0, 0));
        d.queue(&job(1000, vec![dp(&[])], true, false, true))
            .unwrap();
        let a = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        d.queue(&job(2000, vec![dp(&[])], true, false, true))
            .unwrap();
        let b = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        // Decoding, lengths and dmabufs map nothing.
        assert_eq!(d.capture_plane_lengths(a.capture_index).len(), 1);
        assert!(d.capture_dmabufs(a.capture_index).is_empty());
        assert_eq!((d.mapped_captures(), d.mmaps()), (0, 0));
        // The first read maps, later reads reuse it.
        let len = d.capture_map(a.capture_index).unwrap()[0].len();
        assert_eq!(d.capture_plane_lengths(a.capture_index), [len]);
        d.capture_map(a.capture_index).unwrap();
        assert_eq!((d.mapped_captures(), d.mmaps()), (1, 1));
        // An unknown index maps nothing.
        assert!(d.capture_map(99).unwrap().is_empty());
        assert!(d.capture_plane_lengths(99).is_empty());
        assert_eq!(d.mapped_captures(), 1);
        // Requeued and reconfigured: a freed buffer's mapping goes with it;
        // the retired `b` (held) keeps none until read, then is unmapped
        // with its release.
        d.requeue_capture(a.capture_index).unwrap();
        d.configure(CodecKind::H264, &params(), &[sps(), pps()], 3)
            .unwrap();
        assert_eq!(d.retired(), 1);
        assert_eq!(d.mapped_captures(), 0);
        assert_eq!(d.stamp(b.capture_index), Some(2000));
        d.capture_map(b.capture_index).unwrap();
        assert_eq!((d.mapped_captures(), d.mmaps()), (1, 2));
        d.requeue_capture(b.capture_index).unwrap();
        assert_eq!((d.mapped_captures(), d.mmaps()), (0, 2));
    }

    #[test]
    fn a_failing_mmap_names_device_buffer_and_plane() {
        let mut d = FakeDevice::new(for_driver("visl", "")).with_mmap_errno(Errno::ENOMEM);
        d.configure(CodecKind::H264, &params(), &[sps(), pps()], 2)
            .unwrap();
        d.queue(&job(1000, vec![dp(&[]), slice()], false, false, true))
            .unwrap();
        let a = d.dequeue(Duration::from_millis(1)).unwrap().unwrap();
        let e = d.capture_map(a.capture_index).unwrap_err();
        assert_eq!(e.errno(), Some(Errno::ENOMEM));
        assert_eq!(
            e.to_string(),
            format!(
                "{}: mmap(CAPTURE {} plane 0): ENOMEM: {}",
                d.name(),
                a.capture_index,
                Errno::ENOMEM.desc()
            )
        );
        assert_eq!((d.mapped_captures(), d.mmaps()), (0, 0));
    }

    #[test]
    fn rpi_without_the_sps_first_is_an_error() {
        // rpi-hevc-dec derives NC12 / NC30 from the SPS: it must come before S_FMT(CAPTURE)
        let mut d = FakeDevice::new(for_driver("rpi-hevc-dec", ""));
        assert!(d.configure(CodecKind::Hevc, &params(), &[], 4).is_err());
    }
}
