//! The engine: drives one [`StatelessCodec`] and one [`DecoderDevice`],
//! keeps requests in flight, owns CAPTURE buffer lifetimes and yields decoded
//! frames in display order.
//!
//! A CAPTURE buffer goes back to the device only when all three holds on its
//! picture are gone: the codec's reference (until [`CodecEvent::Unref`]),
//! every pending display of it (until the frame is handed out or dropped as
//! bad) and every [`DecodedFrame`] of it the consumer still has.
//!
//! Codec contract the engine relies on (as the H.264 codec documents it):
//! a picture's [`CodecEvent::Unref`] comes after its last
//! [`CodecEvent::Output`]. A picture may be output more than once (VP9
//! `show_existing_frame`: the same `timestamp_ns` with a new pts) or never
//! (VP9 hidden frames, HEVC `pic_output_flag` 0): its buffer is held until
//! the Unref and every display of it are done.
//!
//! Reconfiguration (new size / depth / DPB size, a codec's
//! [`CodecEvent::Configure`] before the next decode job): the device is
//! drained, every frame of the old configuration is handed out first (the
//! new job is held until the consumer took them), then the device
//! reallocates CAPTURE. Frames of the old configuration the consumer still
//! holds stay valid: a device keeps their buffers (retired, with their own
//! indices) until the engine releases them with
//! [`DecoderDevice::requeue_capture`] once they are dropped.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use vreq_core::{
    CodecError, CodecEvent, CodecKind, CodedUnit, ColorDescription, Control, StatelessCodec,
    StreamParams,
};
use vreq_frame::{BufferReturn, CaptureFormat, ColorInfo, DecodedFrame, PlanesRef};
use vreq_v4l2::{DecoderDevice, DeviceError};

/// The presenters' [`ColorInfo`] for a picture of the stream colour
/// description `c` and visible height `height`
/// ([`ColorInfo::from_h273`]: no or an unhandled `matrix_coefficients` →
/// the height guess).
fn frame_color(c: ColorDescription, height: u32) -> ColorInfo {
    ColorInfo::from_h273(c.matrix_coefficients, c.video_full_range, height)
}

/// Extra CAPTURE buffers beyond the DPB: requests in flight plus frames the
/// consumer (compositor, presentation queue) may hold at once.
pub const CAPTURE_HEADROOM: u32 = 8;
/// VP9 keeps 8 reference slots (VP9 spec §7.2 `NUM_REF_FRAMES`) plus the
/// frame being decoded: the DPB part of the CAPTURE count is at least this.
pub const VP9_MIN_DPB: u32 = 8 + 1;

/// CAPTURE buffers for a stream: the codec's DPB (references + reorder,
/// [`StreamParams::dpb_size`], at least [`VP9_MIN_DPB`] for VP9) plus
/// [`CAPTURE_HEADROOM`] for requests in flight and frames the sink holds.
pub fn capture_buffer_count(codec: CodecKind, p: &StreamParams) -> u32 {
    let dpb = match codec {
        CodecKind::Vp9 => p.dpb_size.max(VP9_MIN_DPB),
        _ => p.dpb_size,
    };
    dpb.saturating_add(CAPTURE_HEADROOM)
}
/// How long one wait for the device may take before it counts as hung.
pub const DEVICE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many times a `queue` / `configure` failing with a transient errno
/// ([`DeviceError::is_transient`]: `EAGAIN`, `EBUSY`) is tried again before
/// the error ends decoding; the n-th retry waits `RETRY_BACKOFF · 2^(n-1)`
/// (1 + 2 + 4 + 8 + 16 = 31 ms in all) after collecting finished pictures.
pub const TRANSIENT_RETRIES: u32 = 5;
/// The first retry's wait (see [`TRANSIENT_RETRIES`]).
pub const RETRY_BACKOFF: Duration = Duration::from_millis(1);

/// Errors that stop decoding.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("{0}")]
    Stalled(String),
    /// A device error while decoding frame `frame` (0-based, decode order,
    /// counted from the engine's creation) whose request carries
    /// `timestamp_ns` (`None`: no request was in flight, `frame` is the next
    /// to be queued): one line naming the device, the ioctl, the errno and
    /// the frame.
    #[error(
        "{source} at frame {frame}{}",
        .timestamp_ns.map(|t| format!(" (timestamp {t} ns)")).unwrap_or_default()
    )]
    DeviceAtFrame {
        source: DeviceError,
        frame: u64,
        timestamp_ns: Option<u64>,
    },
}

impl EngineError {
    /// The device error inside, if this is one.
    pub fn device_error(&self) -> Option<&DeviceError> {
        match self {
            EngineError::Device(e) | EngineError::DeviceAtFrame { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Picture {
    capture_index: Option<usize>,
    /// The codec's Unref has not taken effect yet.
    referenced: bool,
    /// Entries for it in the display queue (Output seen, not yet handed out).
    display_pending: u32,
    /// [`DecodedFrame`]s of it the consumer still holds.
    with_consumer: u32,
    error: bool,
    /// [`StreamParams::pixel_aspect`] in effect when it was queued.
    pixel_aspect: Option<(u32, u32)>,
    /// [`StreamParams::color`] in effect when it was queued.
    color: Option<ColorDescription>,
    /// Decode-order number (0-based, [`Engine`]'s `pictures_queued` at queue time).
    seq: u64,
}

/// Counters for the status line and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Requests queued.
    pub jobs: u64,
    /// Pictures decoded (CAPTURE buffers dequeued).
    pub decoded: u64,
    /// Frames handed out in display order.
    pub output: u64,
    /// Pictures the device flagged `V4L2_BUF_FLAG_ERROR` (not shown).
    pub bad: u64,
    /// Input the codec skipped (corrupt / before a random-access point).
    pub skipped: u64,
    /// Most requests that were in flight at once.
    pub max_in_flight: usize,
    /// Pictures decoded after a bad one (`V4L2_BUF_FLAG_ERROR`) up to the
    /// next keyframe: they may reference it, so they are not shown either.
    pub after_bad: u64,
    /// `queue` / `configure` calls tried again after a transient errno
    /// ([`TRANSIENT_RETRIES`]).
    pub retries: u64,
}

/// The decode engine: one codec ([`StatelessCodec`]) driving one decoder
/// device ([`DecoderDevice`], the hardware: a V4L2 session or a fake).
pub struct Engine<D: DecoderDevice> {
    codec: Box<dyn StatelessCodec>,
    device: D,
    format: Option<Rc<CaptureFormat>>,
    params: Option<StreamParams>,
    generation: u64,
    pictures: HashMap<u64, Picture>,
    display: VecDeque<(u64, i64)>,
    ready: VecDeque<DecodedFrame>,
    returned: Rc<RefCell<Vec<(u64, usize)>>>,
    /// [`Engine::recycle`]'s working lists, kept so that the steady state
    /// allocates nothing (issue 17): the returns taken from `returned`, and
    /// the timestamps of the pictures whose buffers go back to the device.
    returned_scratch: Vec<(u64, usize)>,
    done_scratch: Vec<u64>,
    /// Buffers of older configurations the consumer still holds:
    /// (generation, index) → frames alive. Released to the device when 0.
    retired: HashMap<(u64, usize), u32>,
    pending_configure: Option<StreamParams>,
    /// A decode job that needs a reconfiguration, held back until the
    /// consumer has taken every frame of the old configuration.
    held: Option<CodecEvent>,
    /// Set by [`Engine::finish`]: resuming a held job also drains the device.
    finishing: bool,
    /// The device signalled `V4L2_EVENT_SOURCE_CHANGE` (resolution).
    source_changed: bool,
    /// The CAPTURE format must be renegotiated even though the stream
    /// parameters did not change (after a source change).
    format_stale: bool,
    /// An error met while resuming inside [`Engine::next_frame`], returned by
    /// the next [`Engine::decode`] / [`Engine::finish`] / [`Engine::take_error`].
    error: Option<EngineError>,
    /// Unref'd pictures with the number of pictures queued at that moment:
    /// requests already queued may still read them until that many pictures
    /// have completed (the device completes in queue order).
    unref_pending: VecDeque<(u64, u64)>,
    pictures_queued: u64,
    stats: Stats,
    /// Messages about skipped input / bad frames, for the caller to print.
    warnings: VecDeque<String>,
    /// A picture came back bad: every picture queued from then on is not
    /// shown until a keyframe unit ([`CodedUnit::keyframe`]) arrives.
    after_bad: bool,
    /// The last unit given to [`Engine::decode`] was a keyframe.
    unit_keyframe: bool,
    /// Whether the pictures after a bad one are hidden up to the next
    /// keyframe (the player) or only the bad one is (the VA driver; see
    /// [`Engine::set_hide_after_bad`]).
    hide_after_bad: bool,
}

impl<D: DecoderDevice> Engine<D> {
    /// Pairs a codec with a device; reads the device's decode mode and start
    /// code and tells the codec.
    pub fn new(mut codec: Box<dyn StatelessCodec>, device: D) -> Self {
        let (mode, sc) = device.mode();
        codec.set_mode(mode, sc);
        codec.set_device_controls(&|id| device.has_control(id));
        Engine {
            codec,
            device,
            format: None,
            params: None,
            generation: 0,
            pictures: HashMap::new(),
            display: VecDeque::new(),
            ready: VecDeque::new(),
            returned: Rc::new(RefCell::new(Vec::new())),
            returned_scratch: Vec::new(),
            done_scratch: Vec::new(),
            retired: HashMap::new(),
            pending_configure: None,
            held: None,
            finishing: false,
            source_changed: false,
            format_stale: false,
            error: None,
            unref_pending: VecDeque::new(),
            pictures_queued: 0,
            stats: Stats::default(),
            warnings: VecDeque::new(),
            after_bad: false,
            unit_keyframe: true,
            hide_after_bad: true,
        }
    }

    /// Whether, after a picture came back with `V4L2_BUF_FLAG_ERROR` (or a
    /// `V4L2_EVENT_SOURCE_CHANGE` arrived before a non-keyframe), the
    /// pictures that follow up to the next keyframe unit are hidden too
    /// (default `true`: what a player wants, decoding visibly resumes at the
    /// next random-access point). `false` marks only the bad picture itself:
    /// for a caller whose units carry no keyframe flag and whose client
    /// decides what to show, as the VA driver (VA-API reports a decoding
    /// error per surface, `vaQuerySurfaceError`; the client conceals).
    pub fn set_hide_after_bad(&mut self, hide: bool) {
        self.hide_after_bad = hide;
        if !hide {
            self.after_bad = false;
        }
    }

    /// The device session (for presenters that need its dmabufs or maps).
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Current stream parameters, once the first sequence header was seen.
    pub fn params(&self) -> Option<StreamParams> {
        self.params
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Next warning (skipped input, bad frame) to show the user.
    pub fn take_warning(&mut self) -> Option<String> {
        self.warnings.pop_front()
    }

    /// Feeds one coded unit; queues the requests it yields (blocking only
    /// while all request slots are busy).
    ///
    /// After a picture came back with `V4L2_BUF_FLAG_ERROR`, the pictures of
    /// the units that follow it up to the next keyframe unit are decoded (the
    /// codec's state stays whole) but not shown: decoding visibly resumes at
    /// the next random-access point ([`Stats::after_bad`]).
    ///
    /// Errors: the codec's; a device error as [`EngineError::DeviceAtFrame`]
    /// (after [`TRANSIENT_RETRIES`] for `EAGAIN` / `EBUSY`); a device that
    /// frees no request slot within [`DEVICE_TIMEOUT`] as
    /// [`EngineError::Stalled`].
    pub fn decode(&mut self, unit: CodedUnit<'_>) -> Result<(), EngineError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.unit_keyframe = unit.keyframe;
        if unit.keyframe {
            self.after_bad = false;
        }
        self.codec.push(unit)?;
        self.pump_codec()?;
        self.collect(Duration::ZERO)?;
        Ok(())
    }

    /// End of stream: drains the codec and the device. Afterwards
    /// [`Engine::next_frame`] returns every remaining frame.
    pub fn finish(&mut self) -> Result<(), EngineError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.finishing = true;
        self.codec.flush()?;
        self.pump_codec()?;
        self.drain_device()?;
        Ok(())
    }

    /// An error met while [`Engine::next_frame`] resumed held-back work.
    pub fn take_error(&mut self) -> Option<EngineError> {
        self.error.take()
    }

    /// Discards everything in flight and pending (seek). Requests already
    /// queued are drained (waited for: a stateless decoder cannot cancel one
    /// request, only all of them by STREAMOFF, which would also drop the
    /// CAPTURE buffers the consumer holds); their pictures are not shown and
    /// every CAPTURE buffer goes back to the device, except those of frames
    /// the consumer still holds, which go back when it drops them (as at a
    /// resolution change). The codec restarts at the next random-access
    /// point; after [`Engine::finish`] decoding may start again (a seek from
    /// the end of the stream).
    pub fn reset(&mut self) -> Result<(), EngineError> {
        self.drain_device()?;
        self.codec.reset();
        while self.codec.poll().is_some() {}
        self.after_bad = false;
        self.finishing = false;
        self.held = None;
        self.pending_configure = None;
        self.display.clear();
        self.ready.clear();
        for p in self.pictures.values_mut() {
            p.referenced = false;
            p.display_pending = 0;
        }
        self.recycle()?;
        Ok(())
    }

    /// The next decoded frame in display order, if one is ready. When the
    /// last frame of a configuration has been taken, this resumes the work held
    /// back for the reconfiguration (errors: [`Engine::take_error`]).
    pub fn next_frame(&mut self) -> Option<DecodedFrame> {
        if let Err(e) = self.recycle() {
            self.error.get_or_insert(e);
        }
        if self.ready.is_empty() && self.held.is_some() && self.error.is_none() {
            let resumed = self.pump_codec().and_then(|()| {
                if self.finishing {
                    self.drain_device()
                } else {
                    Ok(())
                }
            });
            if let Err(e) = resumed {
                self.error = Some(e);
            }
        }
        self.ready.pop_front()
    }

    /// CPU view of a frame's planes. Linear formats: the visible area (crop
    /// origin folded into the plane slices, `width` × `height` = visible
    /// size). Packed / tiled formats ([`vreq_frame::PixelFormat::is_packed_or_tiled`]:
    /// NV15, NC12, NC30): each plane from its first byte, strides as the
    /// layout has them (NC12 / NC30: column height in 128-byte lines), and
    /// `width` × `height` = the visible rectangle's right / bottom edge
    /// (`x + w`, `y + h`), as [`PlanesRef`] documents. A plane outside the
    /// mapping comes back empty (the consumer's bound checks refuse it).
    ///
    /// This is the CPU read of a frame: the device maps the frame's CAPTURE
    /// buffer here on its first read ([`DecoderDevice::capture_map`]), so
    /// only consumers that read pixels (Y4M, the copy paths) make the
    /// mapping; zero-copy consumers take [`DecoderDevice::capture_dmabufs`].
    ///
    /// Errors: [`EngineError::Device`] when that mapping fails (one line
    /// naming the device, the buffer and the plane).
    pub fn planes<'a>(&'a self, frame: &DecodedFrame) -> Result<PlanesRef<'a>, EngineError> {
        let maps = self.device.capture_map(frame.capture_index)?;
        let fmt = &frame.format;
        let (vx, vy, vw, vh) = frame.visible;
        let empty: &[u8] = &[];
        let mut planes = [(empty, 0usize); 3];
        if fmt.pixel_format.is_packed_or_tiled() {
            for (i, pl) in fmt.planes.iter().enumerate().take(3) {
                let buf = maps.get(pl.memory_plane).copied().unwrap_or(empty);
                planes[i] = (buf.get(pl.offset..).unwrap_or(empty), pl.stride);
            }
            return Ok(PlanesRef {
                format: fmt.pixel_format,
                width: vx.saturating_add(vw),
                height: vy.saturating_add(vh),
                planes,
            });
        }
        for (i, pl) in fmt.planes.iter().enumerate().take(3) {
            let (sub_x, sub_y) = if i == 0 { (1, 1) } else { (2, 2) };
            let interleave = if i > 0 && fmt.pixel_format.planes() == 2 {
                2
            } else {
                1
            };
            let sb = fmt.pixel_format.sample_bytes();
            let off = pl.offset
                + (vy as usize / sub_y) * pl.stride
                + (vx as usize / sub_x) * interleave * sb;
            let buf = maps.get(pl.memory_plane).copied().unwrap_or(empty);
            planes[i] = (buf.get(off..).unwrap_or(empty), pl.stride);
        }
        Ok(PlanesRef {
            format: fmt.pixel_format,
            width: vw,
            height: vh,
            planes,
        })
    }

    fn pump_codec(&mut self) -> Result<(), EngineError> {
        while let Some(ev) = self.held.take().or_else(|| self.codec.poll()) {
            match ev {
                CodecEvent::Configure(p) => self.pending_configure = Some(p),
                CodecEvent::Decode(job) => {
                    if self.source_changed && self.pending_configure.is_none() {
                        // V4L2_EVENT_SOURCE_CHANGE: renegotiate with the same
                        // stream parameters (the driver's CAPTURE format changed).
                        self.pending_configure = self.params;
                        self.format_stale = true;
                        if self.hide_after_bad && !self.unit_keyframe && !self.after_bad {
                            // The new CAPTURE buffers hold none of the
                            // references: until the next keyframe the
                            // pictures cannot be right.
                            self.after_bad = true;
                            self.warnings.push_back(format!(
                                "{}: V4L2_EVENT_SOURCE_CHANGE before frame {} (not a keyframe): \
                                 its references are gone with the old CAPTURE buffers; the \
                                 pictures up to the next keyframe are not shown",
                                self.device.name(),
                                self.pictures_queued
                            ));
                        }
                    }
                    if let Some(p) = self.pending_configure {
                        if !self.same_device_config(&p) {
                            // Frames of the old configuration go out first: finish
                            // them, and hold this job until the consumer took them.
                            self.drain_device()?;
                            if !self.ready.is_empty() {
                                self.held = Some(CodecEvent::Decode(job));
                                break;
                            }
                        }
                        self.pending_configure = None;
                        // The sequence-level controls from which drivers derive
                        // the CAPTURE format (rkvdec: H.264 / HEVC SPS; hantro:
                        // HEVC SPS and VP9 FRAME bit depth), set before it is
                        // negotiated, as GStreamer's v4l2codecs do.
                        let first: Vec<Control> = job
                            .controls
                            .iter()
                            .filter(|c| {
                                matches!(
                                    c,
                                    Control::H264Sps(_)
                                        | Control::HevcSps(_)
                                        | Control::Vp9Frame(_)
                                )
                            })
                            .cloned()
                            .collect();
                        self.reconfigure(p, &first)?;
                    }
                    if self.format.is_none() {
                        return Err(EngineError::Stalled(
                            "codec produced a decode job before any sequence header".into(),
                        ));
                    }
                    while self.device.free_slots() == 0 {
                        if self.collect(DEVICE_TIMEOUT)? == 0 && self.device.free_slots() == 0 {
                            let held = self
                                .pictures
                                .values()
                                .filter(|p| p.with_consumer > 0)
                                .count();
                            let refs = self.pictures.values().filter(|p| p.referenced).count();
                            return Err(EngineError::Stalled(format!(
                                "{}: no request slot freed within {:?} ({} in flight, waiting \
                                 for {}; of the CAPTURE buffers {} pictures held by the \
                                 consumer, {} referenced)",
                                self.device.name(),
                                DEVICE_TIMEOUT,
                                self.device.in_flight(),
                                self.oldest_in_flight(),
                                held,
                                refs
                            )));
                        }
                    }
                    let seq = if job.starts_picture {
                        self.pictures_queued
                    } else {
                        self.pictures
                            .get(&job.timestamp_ns)
                            .map_or(self.pictures_queued, |p| p.seq)
                    };
                    if job.starts_picture {
                        self.pictures.insert(
                            job.timestamp_ns,
                            Picture {
                                referenced: true,
                                pixel_aspect: self.params.map(|p| p.pixel_aspect),
                                color: self.params.map(|p| p.color),
                                error: self.after_bad,
                                seq,
                                ..Default::default()
                            },
                        );
                        if self.after_bad {
                            self.stats.after_bad += 1;
                        }
                    }
                    if let Err(e) = self.queue_with_retries(&job) {
                        // The picture will never complete: forget it, or the
                        // display queue would wait for it forever.
                        if job.starts_picture {
                            self.pictures.remove(&job.timestamp_ns);
                        }
                        return Err(EngineError::DeviceAtFrame {
                            source: e,
                            frame: seq,
                            timestamp_ns: Some(job.timestamp_ns),
                        });
                    }
                    if job.starts_picture {
                        self.pictures_queued += 1;
                    }
                    // the device has copied it: its storage builds the next job
                    self.codec.recycle(job);
                    self.stats.jobs += 1;
                    self.stats.max_in_flight =
                        self.stats.max_in_flight.max(self.device.in_flight());
                }
                CodecEvent::Output {
                    timestamp_ns,
                    pts_ns,
                } => {
                    if let Some(p) = self.pictures.get_mut(&timestamp_ns) {
                        p.display_pending += 1;
                        self.display.push_back((timestamp_ns, pts_ns));
                    } else {
                        self.warnings.push_back(format!(
                            "codec output picture {timestamp_ns}, which was never decoded \
                             or already released; not shown"
                        ));
                    }
                }
                CodecEvent::Unref { timestamp_ns } => {
                    self.unref_pending
                        .push_back((timestamp_ns, self.pictures_queued));
                }
                CodecEvent::Skipped {
                    byte_offset,
                    reason,
                } => {
                    self.stats.skipped += 1;
                    self.warnings
                        .push_back(format!("skipped input at byte {byte_offset}: {reason}"));
                }
            }
            self.advance_display();
        }
        self.recycle()?;
        Ok(())
    }

    /// The device is configured, its format is current and `p` needs no
    /// other configuration than the one in effect ([`StreamParams::same_device_config`]:
    /// a pixel-aspect- or colour-only change keeps the device as it is).
    fn same_device_config(&self, p: &StreamParams) -> bool {
        self.format.is_some()
            && !self.format_stale
            && self.params.is_some_and(|cur| cur.same_device_config(p))
    }

    fn reconfigure(&mut self, p: StreamParams, first: &[Control]) -> Result<(), EngineError> {
        if self.same_device_config(&p) {
            // Display metadata only (pixel aspect, colour): later pictures take it.
            self.params = Some(p);
            return Ok(());
        }
        if self.format_stale {
            tracing::info!(
                "{}: source change: renegotiating CAPTURE",
                self.device.name()
            );
        }
        self.drain_device()?;
        self.recycle()?;
        // Frames of the old configuration the consumer still holds keep their
        // buffers (the device retires them); the others are released below.
        self.display.clear();
        self.ready.clear();
        self.unref_pending.clear();
        let old: Vec<Picture> = self.pictures.drain().map(|(_, p)| p).collect();
        let buffers = capture_buffer_count(self.codec.kind(), &p);
        let mut attempt = 0;
        let fmt = loop {
            match self.device.configure(self.codec.kind(), &p, first, buffers) {
                Ok(f) => break f,
                Err(e) if e.is_transient() && attempt < TRANSIENT_RETRIES => {
                    tracing::warn!("{e}; configuring again");
                    std::thread::sleep(RETRY_BACKOFF * (1 << attempt));
                    attempt += 1;
                    self.stats.retries += 1;
                }
                Err(e) => return Err(self.at_frame(e)),
            }
        };
        for pic in old {
            let Some(index) = pic.capture_index else {
                continue;
            };
            if pic.with_consumer > 0 {
                *self.retired.entry((self.generation, index)).or_default() += pic.with_consumer;
            } else {
                self.device.requeue_capture(index)?;
            }
        }
        tracing::info!(
            "configured {}: {}x{} {:?}, {} CAPTURE buffers",
            self.device.name(),
            fmt.width,
            fmt.height,
            fmt.pixel_format,
            buffers
        );
        self.generation += 1;
        self.format_stale = false;
        self.source_changed = false;
        self.format = Some(Rc::new(fmt));
        self.params = Some(p);
        Ok(())
    }

    /// Dequeues finished pictures, waiting up to `timeout` for the first one.
    fn collect(&mut self, timeout: Duration) -> Result<usize, EngineError> {
        // Give back first what the consumer returned since the last collect (a
        // sink drops frames when the compositor releases them, between our
        // calls): a device that waits for a free CAPTURE buffer would
        // otherwise block this dequeue for the whole timeout.
        self.recycle()?;
        let mut n = 0;
        let mut wait = timeout;
        while self.device.in_flight() > 0 {
            let done = match self.device.dequeue(wait) {
                Ok(done) => done,
                Err(e) => return Err(self.at_frame(e)),
            };
            match done {
                Some(done) => {
                    n += 1;
                    wait = Duration::ZERO;
                    self.stats.decoded += 1;
                    let p = self.pictures.entry(done.timestamp_ns).or_default();
                    p.capture_index = Some(done.capture_index);
                    if done.error {
                        p.error = true;
                        let seq = p.seq;
                        self.stats.bad += 1;
                        self.warnings.push_back(format!(
                            "{}: picture {} (frame {seq}) came back with V4L2_BUF_FLAG_ERROR; \
                             not shown{}",
                            self.device.name(),
                            done.timestamp_ns,
                            if self.hide_after_bad {
                                ", nor the pictures after it up to the next keyframe"
                            } else {
                                ""
                            }
                        ));
                        if self.hide_after_bad {
                            // Pictures queued after it may reference it: hide
                            // them and every later one until a keyframe unit.
                            for q in self.pictures.values_mut() {
                                if q.seq > seq && !q.error {
                                    q.error = true;
                                    self.stats.after_bad += 1;
                                }
                            }
                            self.after_bad = true;
                        }
                    }
                }
                None => break,
            }
        }
        if self.device.take_source_change() {
            self.source_changed = true;
        }
        self.advance_display();
        self.recycle()?;
        Ok(n)
    }

    fn drain_device(&mut self) -> Result<(), EngineError> {
        while self.device.in_flight() > 0 {
            if self.collect(DEVICE_TIMEOUT)? == 0 && self.device.in_flight() > 0 {
                return Err(EngineError::Stalled(format!(
                    "{}: {} request(s) still in flight after {:?}, waiting for {}",
                    self.device.name(),
                    self.device.in_flight(),
                    DEVICE_TIMEOUT,
                    self.oldest_in_flight()
                )));
            }
        }
        self.advance_display();
        Ok(())
    }

    /// Moves decoded pictures at the head of the display queue to `ready`.
    fn advance_display(&mut self) {
        let Some(format) = self.format.clone() else {
            return;
        };
        let visible = self
            .params
            .map(|p| p.visible)
            .unwrap_or((0, 0, format.width, format.height));
        let current_aspect = self.params.map_or((1, 1), |p| p.pixel_aspect);
        let current_color = self.params.map(|p| p.color).unwrap_or_default();
        while let Some(&(timestamp_ns, pts)) = self.display.front() {
            let Some(p) = self.pictures.get_mut(&timestamp_ns) else {
                self.display.pop_front();
                continue;
            };
            let Some(index) = p.capture_index else { break };
            self.display.pop_front();
            p.display_pending = p.display_pending.saturating_sub(1);
            if p.error {
                continue;
            }
            p.with_consumer += 1;
            self.stats.output += 1;
            self.ready.push_back(DecodedFrame {
                pts_ns: pts,
                capture_index: index,
                generation: self.generation,
                format: format.clone(),
                visible,
                pixel_aspect: p.pixel_aspect.unwrap_or(current_aspect),
                color: frame_color(p.color.unwrap_or(current_color), visible.3),
                release: BufferReturn::new(&self.returned, self.generation, index),
            });
        }
    }

    /// Gives CAPTURE buffers whose pictures nobody needs back to the device.
    fn recycle(&mut self) -> Result<(), EngineError> {
        while let Some(&(timestamp_ns, queued)) = self.unref_pending.front() {
            if queued > self.stats.decoded && self.device.in_flight() > 0 {
                break;
            }
            self.unref_pending.pop_front();
            if let Some(p) = self.pictures.get_mut(&timestamp_ns) {
                p.referenced = false;
            }
        }
        // swapped, not drained into a new Vec: both lists keep their capacity
        let mut returned = std::mem::take(&mut self.returned_scratch);
        std::mem::swap(&mut returned, &mut *self.returned.borrow_mut());
        let mut result = Ok(());
        for &(generation, index) in &returned {
            if generation != self.generation {
                if let Some(n) = self.retired.get_mut(&(generation, index)) {
                    *n -= 1;
                    if *n == 0 {
                        self.retired.remove(&(generation, index));
                        if let Err(e) = self.device.requeue_capture(index) {
                            result = Err(self.at_frame(e));
                            break;
                        }
                    }
                }
                continue;
            }
            if let Some(p) = self
                .pictures
                .values_mut()
                .find(|p| p.capture_index == Some(index))
            {
                p.with_consumer = p.with_consumer.saturating_sub(1);
            }
        }
        returned.clear();
        self.returned_scratch = returned;
        result?;
        let mut done = std::mem::take(&mut self.done_scratch);
        done.extend(
            self.pictures
                .iter()
                .filter(|(_, p)| {
                    p.capture_index.is_some()
                        && !p.referenced
                        && p.display_pending == 0
                        && p.with_consumer == 0
                })
                .map(|(&timestamp_ns, _)| timestamp_ns),
        );
        let mut result = Ok(());
        for &timestamp_ns in &done {
            if let Some(p) = self.pictures.remove(&timestamp_ns) {
                if let Some(index) = p.capture_index {
                    if let Err(e) = self.device.requeue_capture(index) {
                        result = Err(self.at_frame(e));
                        break;
                    }
                }
            }
        }
        done.clear();
        self.done_scratch = done;
        result
    }

    /// Queues `job`, trying again up to [`TRANSIENT_RETRIES`] times with
    /// exponential backoff from [`RETRY_BACKOFF`] while the device answers
    /// `EAGAIN` / `EBUSY` (collecting finished pictures in between, which may
    /// free what it was waiting for). A failed `queue` leaves the device as
    /// it was (the session reinits the request and keeps the OUTPUT buffer
    /// free), so the same job can be queued again.
    fn queue_with_retries(&mut self, job: &vreq_core::DecodeJob) -> Result<(), DeviceError> {
        let mut attempt = 0;
        loop {
            match self.device.queue(job) {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() && attempt < TRANSIENT_RETRIES => {
                    tracing::warn!("{e}; queueing again");
                    std::thread::sleep(RETRY_BACKOFF * (1 << attempt));
                    attempt += 1;
                    self.stats.retries += 1;
                    // A bad picture met here marks this one too (it is in
                    // `pictures` already); an error here is the device's.
                    if let Err(
                        EngineError::DeviceAtFrame { source, .. } | EngineError::Device(source),
                    ) = self.collect(Duration::ZERO)
                    {
                        return Err(source);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The picture the device is working on: the oldest queued one not yet
    /// completed (frame number and timestamp), or the next to be queued
    /// (no timestamp yet).
    fn current_frame(&self) -> (u64, Option<u64>) {
        self.pictures
            .iter()
            .filter(|(_, p)| p.capture_index.is_none())
            .map(|(&t, p)| (p.seq, Some(t)))
            .min()
            .unwrap_or((self.pictures_queued, None))
    }

    /// `frame N (timestamp T ns)` of [`Engine::current_frame`].
    fn oldest_in_flight(&self) -> String {
        match self.current_frame() {
            (frame, Some(t)) => format!("frame {frame} (timestamp {t} ns)"),
            (frame, None) => format!("frame {frame}"),
        }
    }

    /// A device error with the frame it happened at.
    fn at_frame(&self, source: DeviceError) -> EngineError {
        let (frame, timestamp_ns) = self.current_frame();
        EngineError::DeviceAtFrame {
            source,
            frame,
            timestamp_ns,
        }
    }
}

/// At the end of a stream every count here is 0 (the soak check,
/// `tests/vm/soak-test.sh`, asserts it for every cycle): logged at `debug`
/// on the `vreq_soak` target when the engine is dropped.
impl<D: DecoderDevice> Drop for Engine<D> {
    fn drop(&mut self) {
        tracing::debug!(
            target: "vreq_soak",
            "engine close {}: frames output {} decoded {} bad {}; pictures holding CAPTURE \
             buffers {} (with the consumer {}, referenced {}); retired buffers held {}; \
             requests in flight {}",
            self.device.name(),
            self.stats.output,
            self.stats.decoded,
            self.stats.bad,
            self.pictures
                .values()
                .filter(|p| p.capture_index.is_some())
                .count(),
            self.pictures.values().filter(|p| p.with_consumer > 0).count(),
            self.pictures.values().filter(|p| p.referenced).count(),
            self.retired.len(),
            self.device.in_flight()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_frame::PixelFormat;
    use vreq_testkit::fake::FakeDevice;
    use vreq_v4l2::profile::for_driver;

    fn params(dpb_size: u32) -> StreamParams {
        StreamParams {
            coded_width: 64,
            coded_height: 48,
            visible: (2, 4, 60, 40),
            bit_depth: 10,
            dpb_size,
            frame_duration_ns: None,
            pixel_aspect: (1, 1),
            color: ColorDescription::default(),
        }
    }

    #[test]
    fn color_change_does_not_reconfigure_and_follows_each_picture() {
        let plain = params(2);
        let bt2020 = StreamParams {
            color: ColorDescription::from_h273(9, true),
            ..plain
        };
        // Picture 1000 is decoded before the colour change but output after
        // it: it keeps the (unspecified → height guess) colour it was decoded with.
        let (dec, a, b) = reordered_across(plain, bt2020);
        assert_eq!(
            (a.pts_ns, a.color),
            (
                0,
                ColorInfo {
                    matrix: vreq_frame::ColorMatrix::Bt2020,
                    full_range: true
                }
            )
        );
        // visible height 40: the unspecified default is BT.601 limited
        assert_eq!((b.pts_ns, b.color), (1, ColorInfo::from_height(40)));
        assert_eq!(a.generation, b.generation);
        assert_eq!(
            dec.device().configures().len(),
            1,
            "colour-only change reconfigured"
        );
    }

    #[test]
    fn capture_buffers_cover_dpb_and_headroom() {
        assert_eq!(
            capture_buffer_count(CodecKind::H264, &params(4)),
            4 + CAPTURE_HEADROOM
        );
        assert_eq!(
            capture_buffer_count(CodecKind::Hevc, &params(6)),
            6 + CAPTURE_HEADROOM
        );
        // VP9: 8 reference slots + the frame being decoded, whatever the codec says.
        assert_eq!(
            capture_buffer_count(CodecKind::Vp9, &params(3)),
            9 + CAPTURE_HEADROOM
        );
        assert_eq!(
            capture_buffer_count(CodecKind::Vp9, &params(12)),
            12 + CAPTURE_HEADROOM
        );
    }

    /// A codec that configures once (10-bit, cropped) and decodes/outputs one picture.
    struct One(VecDeque<CodecEvent>, vreq_core::StartCode);

    impl StatelessCodec for One {
        fn kind(&self) -> CodecKind {
            CodecKind::Hevc
        }
        fn set_mode(&mut self, _: vreq_core::DecodeMode, sc: vreq_core::StartCode) {
            self.1 = sc;
        }
        fn push(&mut self, _: CodedUnit<'_>) -> Result<(), CodecError> {
            let dp = v4l2r::bindings::v4l2_ctrl_hevc_decode_params::default();
            self.0.extend([
                CodecEvent::Configure(params(2)),
                CodecEvent::Decode(vreq_core::DecodeJob {
                    timestamp_ns: 1000,
                    controls: vec![
                        Control::HevcSps(Box::default()),
                        Control::HevcPps(Box::default()),
                        Control::HevcDecodeParams(Box::new(dp)),
                        Control::HevcSliceParams(vec![Default::default()]),
                    ],
                    bitstream: if self.1 == vreq_core::StartCode::AnnexB {
                        vec![0, 0, 1, 0x26]
                    } else {
                        vec![0x26]
                    },
                    hold_capture: false,
                    starts_picture: true,
                }),
                CodecEvent::Output {
                    timestamp_ns: 1000,
                    pts_ns: 0,
                },
                CodecEvent::Unref { timestamp_ns: 1000 },
            ]);
            Ok(())
        }
        fn flush(&mut self) -> Result<(), CodecError> {
            Ok(())
        }
        fn reset(&mut self) {}
        fn poll(&mut self) -> Option<CodecEvent> {
            self.0.pop_front()
        }
    }

    #[test]
    fn p010_frame_planes_start_at_the_crop() {
        // A driver without a profile offers P010 for 10-bit (GENERIC).
        let fake = FakeDevice::new(for_driver("some-new-driver", ""));
        let mut dec = Engine::new(
            Box::new(One(VecDeque::new(), vreq_core::StartCode::AnnexB)),
            fake,
        );
        dec.decode(CodedUnit {
            data: &[0],
            pts_ns: None,
            keyframe: true,
            byte_offset: 0,
        })
        .unwrap();
        dec.finish().unwrap();
        let f = dec.next_frame().expect("one frame");
        assert_eq!(f.format.pixel_format, PixelFormat::P010);
        assert_eq!(f.visible, (2, 4, 60, 40));
        let stride = f.format.planes[0].stride;
        assert_eq!(stride, 64 * 2);
        let p = dec.planes(&f).unwrap();
        assert_eq!((p.width, p.height), (60, 40));
        let whole = dec.device().capture_plane_lengths(f.capture_index)[0];
        // luma: 4 rows down, 2 samples of 2 bytes right
        assert_eq!(p.planes[0].0.len(), whole - (4 * stride + 2 * 2));
        // chroma: 2 rows down, 1 CbCr pair of 4 bytes right
        let c0 = f.format.planes[1].offset;
        assert_eq!(p.planes[1].0.len(), whole - (c0 + 2 * stride + 4));
    }

    /// A codec replaying a fixed event script on the first push.
    struct Script(VecDeque<CodecEvent>, Option<Vec<CodecEvent>>);

    impl StatelessCodec for Script {
        fn kind(&self) -> CodecKind {
            CodecKind::Hevc
        }
        fn set_mode(&mut self, _: vreq_core::DecodeMode, _: vreq_core::StartCode) {}
        fn push(&mut self, _: CodedUnit<'_>) -> Result<(), CodecError> {
            self.0.extend(self.1.take().unwrap_or_default());
            Ok(())
        }
        fn flush(&mut self) -> Result<(), CodecError> {
            Ok(())
        }
        fn reset(&mut self) {}
        fn poll(&mut self) -> Option<CodecEvent> {
            self.0.pop_front()
        }
    }

    fn job(timestamp_ns: u64) -> CodecEvent {
        CodecEvent::Decode(vreq_core::DecodeJob {
            timestamp_ns,
            controls: vec![
                Control::HevcSps(Box::default()),
                Control::HevcPps(Box::default()),
                Control::HevcDecodeParams(Box::default()),
                Control::HevcSliceParams(vec![Default::default()]),
            ],
            bitstream: vec![0, 0, 1, 0x26],
            hold_capture: false,
            starts_picture: true,
        })
    }

    /// Picture 1000 decoded under `first`, picture 2000 under `second`, output
    /// in the other order (2000 at pts 0, 1000 at pts 1): the engine and the
    /// two frames.
    fn reordered_across(
        first: StreamParams,
        second: StreamParams,
    ) -> (Engine<FakeDevice>, DecodedFrame, DecodedFrame) {
        let script = vec![
            CodecEvent::Configure(first),
            job(1000),
            CodecEvent::Configure(second),
            job(2000),
            CodecEvent::Output {
                timestamp_ns: 2000,
                pts_ns: 0,
            },
            CodecEvent::Output {
                timestamp_ns: 1000,
                pts_ns: 1,
            },
            CodecEvent::Unref { timestamp_ns: 1000 },
            CodecEvent::Unref { timestamp_ns: 2000 },
        ];
        let fake = FakeDevice::new(for_driver("some-new-driver", ""));
        let mut dec = Engine::new(Box::new(Script(VecDeque::new(), Some(script))), fake);
        dec.decode(CodedUnit {
            data: &[0],
            pts_ns: None,
            keyframe: true,
            byte_offset: 0,
        })
        .unwrap();
        dec.finish().unwrap();
        let a = dec.next_frame().expect("frame 2000");
        let b = dec.next_frame().expect("frame 1000");
        (dec, a, b)
    }

    #[test]
    fn pixel_aspect_change_does_not_reconfigure_and_follows_each_picture() {
        let square = params(2);
        let wide = StreamParams {
            pixel_aspect: (4, 3),
            ..square
        };
        // Picture 1000 is decoded before the aspect change but output after it
        // (reordering): it keeps the aspect it was decoded with.
        let (dec, a, b) = reordered_across(square, wide);
        assert_eq!((a.pts_ns, a.pixel_aspect), (0, (4, 3)));
        assert_eq!((b.pts_ns, b.pixel_aspect), (1, (1, 1)));
        assert_eq!(a.generation, b.generation);
        assert_eq!(
            dec.device().configures().len(),
            1,
            "PAR-only change reconfigured"
        );
        assert_eq!(dec.params().map(|p| p.pixel_aspect), Some((4, 3)));
    }

    /// A codec replaying one scripted batch of events per push.
    struct Batches(VecDeque<CodecEvent>, VecDeque<Vec<CodecEvent>>);

    impl StatelessCodec for Batches {
        fn kind(&self) -> CodecKind {
            CodecKind::Hevc
        }
        fn set_mode(&mut self, _: vreq_core::DecodeMode, _: vreq_core::StartCode) {}
        fn push(&mut self, _: CodedUnit<'_>) -> Result<(), CodecError> {
            let batch = self.1.pop_front().unwrap_or_default();
            self.0.extend(batch);
            Ok(())
        }
        fn flush(&mut self) -> Result<(), CodecError> {
            Ok(())
        }
        fn reset(&mut self) {
            self.0.clear();
        }
        fn poll(&mut self) -> Option<CodecEvent> {
            self.0.pop_front()
        }
    }

    fn unit() -> CodedUnit<'static> {
        CodedUnit {
            data: &[0],
            pts_ns: None,
            keyframe: true,
            byte_offset: 0,
        }
    }

    fn out(timestamp_ns: u64) -> [CodecEvent; 2] {
        [
            CodecEvent::Output {
                timestamp_ns,
                pts_ns: timestamp_ns as i64,
            },
            CodecEvent::Unref { timestamp_ns },
        ]
    }

    /// A seek from the end of the stream (`finish`, then `reset`) starts
    /// decoding afresh: the engine no longer drains the device as at the end
    /// (it did: `finishing` outlived the reset), and requests in flight at
    /// a reset are drained, their buffers back, the consumer's frame kept.
    #[test]
    fn reset_after_finish_decodes_as_a_fresh_start() {
        let small = params(2);
        let big = StreamParams {
            coded_width: 128,
            coded_height: 96,
            visible: (0, 0, 128, 96),
            ..small
        };
        let batch = |p: StreamParams, t: u64| -> Vec<CodecEvent> {
            let mut b = vec![CodecEvent::Configure(p), job(t)];
            b.extend(out(t));
            b
        };
        let batches = VecDeque::from([batch(small, 1000), batch(small, 2000), batch(big, 3000)]);
        // A device that completes nothing while 1 request or none is pending
        // (unless waited for).
        let fake = FakeDevice::new(for_driver("some-new-driver", "")).with_busy_depth(1);
        let mut dec = Engine::new(Box::new(Batches(VecDeque::new(), batches)), fake);
        dec.decode(unit()).unwrap();
        dec.finish().unwrap();
        let held = dec.next_frame().expect("frame 1000");
        dec.reset().unwrap();
        dec.decode(unit()).unwrap();
        assert_eq!(dec.device().in_flight(), 1, "2000 queued, not completed");
        // The size change drains 2000 and holds 3000 until 2000 is taken.
        dec.decode(unit()).unwrap();
        let f2000 = dec.next_frame().expect("frame 2000");
        assert_eq!(f2000.pts_ns, 2000);
        drop(f2000);
        // 3000 is queued now and, the stream not being at its end, left to
        // the device.
        assert!(
            dec.next_frame().is_none(),
            "drained as if at the end of the stream"
        );
        assert_eq!(dec.device().in_flight(), 1);
        // reset with 3000 in flight: drained, not shown, its buffer back.
        dec.reset().unwrap();
        assert_eq!(dec.device().in_flight(), 0);
        assert!(dec.next_frame().is_none());
        let (_, filling, dequeued) = dec.device().capture_states();
        assert_eq!((filling, dequeued), (0, 0), "3000's buffer not back");
        // Frame 1000 (first configuration) was held by the consumer all along.
        assert_eq!(dec.device().retired(), 1);
        drop(held);
        dec.reset().unwrap();
        assert_eq!(
            dec.device().retired(),
            0,
            "the consumer's buffer not released"
        );
    }

    #[test]
    fn packed_and_tiled_planes_are_not_cropped() {
        // rkvdec (RK3588) decodes 10-bit into NV15, rpi-hevc-dec into NC30.
        for (driver, card, pf) in [
            ("rkvdec", "rk3588", PixelFormat::Nv15),
            ("rpi-hevc-dec", "rpi-hevc-dec", PixelFormat::Nc30),
        ] {
            let fake = FakeDevice::new(for_driver(driver, card));
            let mut dec = Engine::new(
                Box::new(One(VecDeque::new(), vreq_core::StartCode::AnnexB)),
                fake,
            );
            dec.decode(CodedUnit {
                data: &[0],
                pts_ns: None,
                keyframe: true,
                byte_offset: 0,
            })
            .unwrap();
            dec.finish().unwrap();
            let f = dec.next_frame().expect("one frame");
            assert_eq!(f.format.pixel_format, pf, "{driver}");
            let p = dec.planes(&f).unwrap();
            // visible (2, 4, 60, 40): right / bottom edge, nothing folded
            assert_eq!((p.format, p.width, p.height), (pf, 62, 44), "{driver}");
            let whole = dec.device().capture_plane_lengths(f.capture_index)[0];
            assert_eq!(p.planes[0].0.len(), whole, "{driver}");
            assert_eq!(p.planes[0].1, f.format.planes[0].stride, "{driver}");
            let c0 = f.format.planes[1].offset;
            assert_eq!(p.planes[1].0.len(), whole - c0, "{driver}");
            if pf == PixelFormat::Nc30 {
                // chroma at height · 128, "stride" = column height ≥ 1.5 · height
                assert_eq!(c0, f.format.height as usize * 128);
                assert!(p.planes[1].1 >= f.format.height as usize * 3 / 2);
            }
        }
    }
}
