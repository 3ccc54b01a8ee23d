//! [`KmsSink`]: the kiosk's [`Sink`]: pacing → path (zero-copy plane or CPU
//! copy into dumb buffers) → one nonblocking atomic commit per frame with
//! `DRM_MODE_PAGE_FLIP_EVENT` → page-flip events answer the pacer.

use std::collections::HashMap;
use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use drm::buffer::{DrmFourcc, DrmModifier, PlanarBuffer};
use drm::control::{
    atomic::AtomicModeReq,
    connector, crtc,
    dumbbuffer::{DumbBuffer, DumbMapping},
    framebuffer, property, AtomicCommitFlags, Device as _, Event, FbCmd2Flags, Mode,
    RawResourceHandle,
};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use vreq_frame::convert::{to_xrgb8888, ColorInfo, LinearFrame};
use vreq_frame::{DecodedFrame, PixelFormat};

use super::card::{is_commit_master_error, Card, PlaneDesc, PlaneKind, Props, SavedState};
use super::pure::{
    choose_plane, color_props, probe_placement, scale_xrgb_nearest, PlaneCaps, PlaneRects,
};
use super::PlaneRequest;
use crate::kiosk_input::KioskInput;
use crate::wayland::geometry::{display_size, fit, Rect};
use crate::wayland::pacing::{ClockPair, Decision, DropReason, Outcome, Pacer};
use crate::{FrameSource, PresentError, PresentStats, Sink, UserCommand};
use drm::{Device as _, VblankWaitFlags, VblankWaitTarget};

/// Dumb buffers of the CPU fallback (one on screen, one queued, one being filled).
pub const COPY_BUFFERS: usize = 3;
/// How often a lost master is asked for again.
pub const MASTER_RETRY: Duration = Duration::from_millis(500);
/// Longest wait for the writeback capture to settle.
pub const WRITEBACK_WAIT: Duration = Duration::from_secs(5);
/// How long `finish` / the restore wait for an outstanding page flip.
pub const FLIP_WAIT: Duration = Duration::from_secs(1);
/// [`KmsSink::vblank_gate`]: how far (ns) after `due` the next vblank must
/// be predicted for a commit to go out (vblank stamps are whole µs).
pub const GATE_SLACK_NS: i64 = 100_000;

fn kms(e: impl std::fmt::Display) -> PresentError {
    PresentError::Kms(e.to_string())
}

/// A framebuffer over PRIME-imported CAPTURE dmabufs.
struct ImportedFb {
    fb: framebuffer::Handle,
    /// GEM handles to close (one per distinct dmabuf).
    gem: Vec<drm::buffer::Handle>,
}

/// The planar description given to `DRM_IOCTL_MODE_ADDFB2`.
struct Planar {
    size: (u32, u32),
    format: DrmFourcc,
    modifier: Option<DrmModifier>,
    pitches: [u32; 4],
    handles: [Option<drm::buffer::Handle>; 4],
    offsets: [u32; 4],
}

impl PlanarBuffer for Planar {
    fn size(&self) -> (u32, u32) {
        self.size
    }
    fn format(&self) -> DrmFourcc {
        self.format
    }
    fn modifier(&self) -> Option<DrmModifier> {
        self.modifier
    }
    fn pitches(&self) -> [u32; 4] {
        self.pitches
    }
    fn handles(&self) -> [Option<drm::buffer::Handle>; 4] {
        self.handles
    }
    fn offsets(&self) -> [u32; 4] {
        self.offsets
    }
}

/// A dumb XRGB8888 buffer with its framebuffer.
struct Dumb {
    buf: DumbBuffer,
    /// Mapped once (the `DumbBuffer` it borrows is a leaked 32-byte copy, so
    /// the mapping can live here; unmapped when dropped).
    map: DumbMapping<'static>,
    fb: framebuffer::Handle,
    /// The letterbox rectangle last drawn into it (borders are black outside).
    drawn: Option<Rect>,
    /// NV12 only: the borders were drawn as full-range black (Y 0), not
    /// limited-range black (Y 16), for a frame of `DecodedFrame::color`
    /// full range (the plane's `COLOR_RANGE` follows the frame).
    drawn_full: bool,
    /// NV12 (Y then CbCr at `pitch · height`), else XRGB8888.
    nv12: bool,
}

/// What a commit put on screen (held until the flip that replaces it).
enum Content {
    /// A copy in dumb buffer `i` (the frame went back right after the copy).
    Copy(usize),
    /// The decoder's buffer itself: held until replaced.
    Zero(#[allow(dead_code)] DecodedFrame),
}

struct Pending {
    id: u64,
    content: Content,
    since: Instant,
}

/// What a [`Path`] was chosen for: (generation, visible rectangle, pixel aspect, format).
type PathKey = (u64, (u32, u32, u32, u32), (u32, u32), PixelFormat);

/// How frames of one configuration are shown.
#[derive(Clone)]
enum Path {
    /// Through dumb buffers on the primary: NV12 (`nv12`) or XRGB8888.
    Copy { nv12: bool },
    /// On `plane` with these rectangles.
    Zero { plane: usize, rects: PlaneRects },
}

/// The kiosk sink (see the module docs of [`super`]).
pub struct KmsSink {
    card: Card,
    connector: connector::Handle,
    conn_props: Props,
    crtc: crtc::Handle,
    /// The CRTC's index in the card's resources (the `pipe` of
    /// `DRM_IOCTL_WAIT_VBLANK`'s `_DRM_VBLANK_HIGH_CRTC_MASK` bits).
    crtc_index: u32,
    crtc_props: Props,
    mode_size: (u32, u32),
    mode_blob: u64,
    refresh_ns: u64,
    planes: Vec<PlaneDesc>,
    primary: usize,
    plane_req: PlaneRequest,
    force_copy: bool,
    saved: SavedState,
    /// The next commit must carry the whole state with `ALLOW_MODESET`.
    need_modeset: bool,
    pacer: Pacer,
    pending: Option<Pending>,
    on_screen: Option<Content>,
    dumbs: Vec<Dumb>,
    black: Option<Dumb>,
    scratch: LinearFrame,
    rgb: Vec<u8>,
    /// (generation, capture index) → framebuffer.
    fbs: HashMap<(u64, usize), ImportedFb>,
    fb_generation: Option<u64>,
    /// Framebuffers of old generations, removed once off screen.
    retired: Vec<ImportedFb>,
    /// The path per (generation, visible, pixel aspect, format).
    path: Option<(PathKey, Path)>,
    zero_copy: u64,
    copied: u64,
    /// Planes enabled on our CRTC at open that we do not use: disabled by the first commit.
    others: Vec<usize>,
    /// Lost master: when to ask again.
    master_lost: Option<Instant>,
    input: Option<KioskInput>,
    commands: Vec<UserCommand>,
    writeback: Option<std::path::PathBuf>,
    /// The whole state of the last commit (modeset part included), for the writeback commit.
    last_request: Option<AtomicModeReq>,
    last_stats_log: Instant,
}

impl std::fmt::Debug for KmsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSink")
            .field("card", &self.card.path)
            .finish_non_exhaustive()
    }
}

/// What [`KmsSink::new`] needs, chosen by [`super::open_kms`].
pub(super) struct Setup {
    pub card: Card,
    pub connector: connector::Handle,
    pub crtc: crtc::Handle,
    pub mode: Mode,
    pub plane_req: PlaneRequest,
    pub force_copy: bool,
    pub input: Option<KioskInput>,
    pub writeback: Option<std::path::PathBuf>,
}

impl KmsSink {
    pub(super) fn new(s: Setup) -> Result<KmsSink, PresentError> {
        let card = s.card;
        let path = card.path.display().to_string();
        let conn_props = card
            .props(s.connector)
            .map_err(|e| kms(format!("{path}: connector properties: {e}")))?;
        let crtc_props = card
            .props(s.crtc)
            .map_err(|e| kms(format!("{path}: CRTC properties: {e}")))?;
        for (what, props, names) in [
            ("connector", &conn_props, &["CRTC_ID"][..]),
            ("CRTC", &crtc_props, &["MODE_ID", "ACTIVE"][..]),
        ] {
            for n in names {
                if !props.contains_key(*n) {
                    return Err(kms(format!(
                        "{path}: the {what} has no {n} property (not an atomic driver?)"
                    )));
                }
            }
        }
        let planes = card
            .planes_for(s.crtc)
            .map_err(|e| kms(format!("{path}: planes: {e}")))?;
        let primary = planes
            .iter()
            .position(|p| p.kind == PlaneKind::Primary)
            .ok_or_else(|| kms(format!("{path}: no primary plane for the CRTC")))?;
        // save what we will touch: CRTC, every connector, every plane of the CRTC
        let mut saved = SavedState::default();
        saved.save(s.crtc, &crtc_props, super::card::CRTC_PROPS);
        if let Some((h, _)) = crtc_props.get("MODE_ID") {
            let mode = card.get_crtc(s.crtc).ok().and_then(|i| i.mode());
            saved.mode = Some((s.crtc, *h, mode));
        }
        if let Ok(conns) = card.connectors() {
            for (info, _) in conns {
                if let Ok(p) = card.props(info.handle()) {
                    saved.save(info.handle(), &p, super::card::CONNECTOR_PROPS);
                }
            }
        }
        let crtc_raw: u32 = s.crtc.into();
        let mut others = Vec::new();
        for (i, p) in planes.iter().enumerate() {
            saved.save(p.handle, &p.props, super::card::PLANE_PROPS);
            if i != primary && p.props.get("CRTC_ID").map(|(_, v)| *v) == Some(u64::from(crtc_raw))
            {
                others.push(i);
            }
        }
        let mode_blob = match card.create_property_blob(&s.mode) {
            Ok(property::Value::Blob(b)) => b,
            Ok(_) => return Err(kms("MODE_ID blob: unexpected value")),
            Err(e) => return Err(kms(format!("{path}: MODE_ID blob: {e}"))),
        };
        let (mw, mh) = s.mode.size();
        let (_, _, htotal) = s.mode.hsync();
        let (_, _, vtotal) = s.mode.vsync();
        let refresh_mhz =
            super::pure::ModeInfo::refresh_from_timings(s.mode.clock(), htotal, vtotal).max(1000);
        let refresh_ns = 1_000_000_000_000u64 / u64::from(refresh_mhz);
        tracing::info!(
            "drm: {path}: CRTC {crtc_raw}, mode {mw}x{mh} ({:.3} Hz), {} plane(s) for it: {}",
            f64::from(refresh_mhz) / 1000.0,
            planes.len(),
            planes
                .iter()
                .map(|p| format!(
                    "{} {:?} ({} format/modifier pairs{})",
                    u32::from(p.handle),
                    p.kind,
                    p.formats.len(),
                    if p.has_in_formats { ", IN_FORMATS" } else { "" }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let crtc_index = card
            .resource_handles()
            .ok()
            .and_then(|r| r.crtcs().iter().position(|c| *c == s.crtc))
            .unwrap_or(0) as u32;
        Ok(KmsSink {
            card,
            connector: s.connector,
            conn_props,
            crtc: s.crtc,
            crtc_index,
            crtc_props,
            mode_size: (u32::from(mw), u32::from(mh)),
            mode_blob,
            refresh_ns,
            planes,
            primary,
            plane_req: s.plane_req,
            force_copy: s.force_copy,
            saved,
            need_modeset: true,
            pacer: {
                let mut p = Pacer::new(false);
                p.set_half_refresh_margin();
                p
            },
            pending: None,
            on_screen: None,
            dumbs: Vec::new(),
            black: None,
            scratch: LinearFrame::default(),
            rgb: Vec::new(),
            fbs: HashMap::new(),
            fb_generation: None,
            retired: Vec::new(),
            path: None,
            zero_copy: 0,
            copied: 0,
            others,
            master_lost: None,
            input: s.input,
            commands: Vec::new(),
            writeback: s.writeback,
            last_request: None,
            last_stats_log: Instant::now(),
        })
    }

    fn now(&self) -> ClockPair {
        ClockPair::now(nix::time::ClockId::CLOCK_MONOTONIC)
    }

    /// Polls the DRM fd and the input fds for at most `timeout`, handling
    /// page-flip events and keys.
    fn pump(&mut self, timeout: Duration) -> Result<(), PresentError> {
        let ms = timeout.as_millis().min(10_000) as u16;
        let ready = {
            let mut fds = vec![PollFd::new(self.card.as_fd(), PollFlags::POLLIN)];
            if let Some(i) = &self.input {
                for fd in i.fds() {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                }
            }
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) => fds
                    .iter()
                    .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                    .collect::<Vec<_>>(),
                Err(nix::errno::Errno::EINTR) => vec![],
                Err(e) => return Err(kms(format!("poll: {e}"))),
            }
        };
        if ready.first() == Some(&true) {
            self.read_events()?;
        }
        if ready.iter().skip(1).any(|r| *r) {
            if let Some(i) = &mut self.input {
                self.commands.extend(i.read());
            }
        }
        Ok(())
    }

    fn read_events(&mut self) -> Result<(), PresentError> {
        let events = match self.card.receive_events() {
            Ok(e) => e,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                return Ok(())
            }
            Err(e) => return Err(kms(format!("reading DRM events: {e}"))),
        };
        for ev in events {
            if let Event::PageFlip(f) = ev {
                if f.crtc != self.crtc {
                    continue;
                }
                // DRM_CAP_TIMESTAMP_MONOTONIC: the event's tv_sec / tv_usec are CLOCK_MONOTONIC
                let ts = f.duration.as_nanos().min(i64::MAX as u128) as i64;
                self.flipped(Some(ts));
            }
        }
        Ok(())
    }

    /// The pending commit completed (its page-flip event at `ts`, ns
    /// CLOCK_MONOTONIC) or was given up (`None`).
    fn flipped(&mut self, ts: Option<i64>) {
        let Some(p) = self.pending.take() else { return };
        let o = match ts {
            Some(ts) => self.pacer.presented(p.id, ts, self.refresh_ns),
            None => self.pacer.abandon().into_iter().next(),
        };
        if let Some(o) = o {
            log_outcome_kms(&o);
        }
        // the previous content leaves the screen: a zero-copy frame goes back to the decoder here
        self.on_screen = Some(p.content);
        if self.pending.is_none() {
            self.release_retired();
        }
    }

    /// Removes the framebuffers of old generations that are off screen.
    fn release_retired(&mut self) {
        for f in self.retired.drain(..) {
            let _ = self.card.destroy_framebuffer(f.fb);
            for g in f.gem {
                let _ = self.card.close_buffer(g);
            }
        }
    }

    /// Waits for the pending flip (at most `max`); gives it up after that.
    fn wait_flip(&mut self, max: Duration) -> Result<(), PresentError> {
        let until = Instant::now() + max;
        while self.pending.is_some() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!("drm: no page-flip event for {max:?}; giving the commit up");
                self.flipped(None);
                break;
            }
            self.pump(left)?;
        }
        Ok(())
    }

    /// Never before `due`: returns once the kernel has *handled* the last
    /// vblank before `due_ns` (ns, CLOCK_MONOTONIC), so a commit made now
    /// latches at the vblank after it, which is at or after `due`.
    ///
    /// The pacer's commit time comes from the predicted vblank grid, but a
    /// vblank's handler can run after its nominal time (vkms' hrtimer under
    /// QEMU TCG ran up to a refresh late), and a commit made between the
    /// nominal time and the handler is latched by that vblank and stamped
    /// with its time, before `due` (measured on trixie's vkms: 3 of 250
    /// frames 3–10 ms early with a half-refresh margin). So the sink asks
    /// the kernel: `DRM_IOCTL_WAIT_VBLANK` `_DRM_VBLANK_RELATIVE` 0 returns
    /// the last handled vblank's timestamp `V` at once (drm_vblank.c
    /// `drm_wait_vblank_ioctl`: a query); when `V + refresh` is before
    /// `due` (+ [`GATE_SLACK_NS`] for the µs rounding of the stamps) it
    /// waits for the next vblank (relative 1, blocking, at most one
    /// refresh) and asks again. Bounded: at most as many waits as refreshes
    /// until `due` + 2. A driver that refuses the ioctl (no vblank support)
    /// skips the gate with one debug line: the pacer's timing alone then.
    fn vblank_gate(&mut self, due_ns: i64) {
        let r = self.refresh_ns.max(1) as i64;
        let now = self.now().clock_ns;
        let mut budget = ((due_ns - now).max(0) / r + 2).min(600);
        let mut target = VblankWaitTarget::Relative(0);
        loop {
            let reply =
                match self
                    .card
                    .wait_vblank(target, VblankWaitFlags::empty(), self.crtc_index, 0)
                {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(
                            "drm: DRM_IOCTL_WAIT_VBLANK: {e}; commit without the vblank gate"
                        );
                        return;
                    }
                };
            let Some(v) = reply.time() else { return };
            let v = v.as_nanos().min(i64::MAX as u128) as i64;
            if v + r >= due_ns + GATE_SLACK_NS || budget == 0 {
                return;
            }
            budget -= 1;
            target = VblankWaitTarget::Relative(1);
        }
    }

    /// Gives up a commit whose page-flip event did not come in [`FLIP_WAIT`].
    fn expire_pending(&mut self) {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.since.elapsed() > FLIP_WAIT)
        {
            tracing::warn!("drm: no page-flip event for {FLIP_WAIT:?}; giving the commit up");
            self.flipped(None);
        }
    }

    /// Lost master: asks again every [`MASTER_RETRY`]; true while still lost.
    fn master_still_lost(&mut self) -> bool {
        let Some(next) = self.master_lost else {
            return false;
        };
        if Instant::now() < next {
            return true;
        }
        match self.card.acquire_master_lock() {
            Ok(()) => {
                tracing::warn!(
                    "drm: {}: DRM master back; restoring the output",
                    self.card.path.display()
                );
                self.master_lost = None;
                self.need_modeset = true;
                false
            }
            Err(_) => {
                self.master_lost = Some(Instant::now() + MASTER_RETRY);
                true
            }
        }
    }

    fn lose_master(&mut self, e: &io::Error) {
        tracing::warn!(
            "drm: {}: commit refused ({e}): DRM master lost (VT switch or another master); pausing, asking again every {MASTER_RETRY:?}",
            self.card.path.display()
        );
        self.master_lost = Some(Instant::now() + MASTER_RETRY);
        // nothing of ours will flip now
        if let Some(p) = self.pending.take() {
            let _ = self.pacer.abandon();
            self.on_screen = Some(p.content);
        }
    }

    fn prop(props: &Props, name: &str) -> Option<property::Handle> {
        props.get(name).map(|(h, _)| *h)
    }

    /// Adds the plane `i` showing `fb` at `rects` to `req`.
    fn add_plane(
        &self,
        req: &mut AtomicModeReq,
        i: usize,
        fb: framebuffer::Handle,
        r: &PlaneRects,
    ) {
        let p = &self.planes[i];
        let raw: RawResourceHandle = p.handle.into();
        let crtc_raw: RawResourceHandle = self.crtc.into();
        let vals: [(&str, u64); 10] = [
            ("FB_ID", u64::from(u32::from(fb))),
            ("CRTC_ID", u64::from(u32::from(crtc_raw))),
            ("SRC_X", r.src[0]),
            ("SRC_Y", r.src[1]),
            ("SRC_W", r.src[2]),
            ("SRC_H", r.src[3]),
            ("CRTC_X", r.crtc.x as i64 as u64),
            ("CRTC_Y", r.crtc.y as i64 as u64),
            ("CRTC_W", u64::from(r.crtc.w)),
            ("CRTC_H", u64::from(r.crtc.h)),
        ];
        for (n, v) in vals {
            if let Some(h) = Self::prop(&p.props, n) {
                req.add_raw_property(raw, h, v);
            }
        }
    }

    fn disable_plane(&self, req: &mut AtomicModeReq, i: usize) {
        let p = &self.planes[i];
        let raw: RawResourceHandle = p.handle.into();
        for n in ["FB_ID", "CRTC_ID"] {
            if let Some(h) = Self::prop(&p.props, n) {
                req.add_raw_property(raw, h, 0);
            }
        }
    }

    /// The modeset part: connector → CRTC, `MODE_ID`, `ACTIVE`.
    fn add_modeset(&self, req: &mut AtomicModeReq) {
        let crtc_raw: RawResourceHandle = self.crtc.into();
        if let Some(h) = Self::prop(&self.conn_props, "CRTC_ID") {
            req.add_raw_property(self.connector.into(), h, u64::from(u32::from(crtc_raw)));
        }
        if let Some(h) = Self::prop(&self.crtc_props, "MODE_ID") {
            req.add_raw_property(crtc_raw, h, self.mode_blob);
        }
        if let Some(h) = Self::prop(&self.crtc_props, "ACTIVE") {
            req.add_raw_property(crtc_raw, h, 1);
        }
        for i in &self.others {
            self.disable_plane(req, *i);
        }
    }

    fn full_screen(&self) -> PlaneRects {
        let (w, h) = self.mode_size;
        PlaneRects {
            src: [0, 0, u64::from(w) << 16, u64::from(h) << 16],
            crtc: Rect { x: 0, y: 0, w, h },
        }
    }

    /// A black dumb buffer of the mode's size with its framebuffer:
    /// XRGB8888, or NV12 (one dumb buffer of 1.5 × the height at 8 bpp, the
    /// CbCr plane at `pitch · height`; black = Y 16, CbCr 128).
    fn make_dumb(&self, nv12: bool) -> Result<Dumb, PresentError> {
        let (w, h) = self.mode_size;
        let (size, fourcc, bpp) = if nv12 {
            ((w, h + h / 2), DrmFourcc::Nv12, 8)
        } else {
            ((w, h), DrmFourcc::Xrgb8888, 32)
        };
        let buf = self
            .card
            .create_dumb_buffer(size, fourcc, bpp)
            .map_err(|e| {
                kms(format!(
                    "dumb buffer {}x{} ({fourcc:?}): {e}",
                    size.0, size.1
                ))
            })?;
        let pitch = drm::buffer::Buffer::pitch(&buf);
        let fb = if nv12 {
            let handle = drm::buffer::Buffer::handle(&buf);
            let planar = Planar {
                size: (w, h),
                format: DrmFourcc::Nv12,
                modifier: None,
                pitches: [pitch, pitch, 0, 0],
                handles: [Some(handle), Some(handle), None, None],
                offsets: [0, pitch * h, 0, 0],
            };
            self.card
                .add_planar_framebuffer(&planar, FbCmd2Flags::empty())
        } else {
            self.card.add_framebuffer(&buf, 24, 32)
        };
        let fb = match fb {
            Ok(fb) => fb,
            Err(e) => {
                let _ = self.card.destroy_dumb_buffer(buf);
                return Err(kms(format!(
                    "framebuffer of a dumb buffer ({fourcc:?}): {e}"
                )));
            }
        };
        let leaked: &'static mut DumbBuffer = Box::leak(Box::new(buf));
        let mut map = match self.card.map_dumb_buffer(leaked) {
            Ok(m) => m,
            Err(e) => {
                let _ = self.card.destroy_framebuffer(fb);
                let _ = self.card.destroy_dumb_buffer(buf);
                return Err(kms(format!("mapping a dumb buffer: {e}")));
            }
        };
        if nv12 {
            let y_len = (pitch * h) as usize;
            map[..y_len].fill(16);
            map[y_len..].fill(128);
        } else {
            for px in map.chunks_exact_mut(4) {
                px.copy_from_slice(&[0, 0, 0, 0xff]);
            }
        }
        Ok(Dumb {
            buf,
            map,
            fb,
            drawn: None,
            drawn_full: false,
            nv12,
        })
    }

    fn destroy_dumb(&self, d: Dumb) {
        let Dumb { buf, map, fb, .. } = d;
        drop(map);
        let _ = self.card.destroy_framebuffer(fb);
        let _ = self.card.destroy_dumb_buffer(buf);
    }

    /// A dumb buffer of the format (`nv12`) not on screen nor pending; one
    /// of the other format that is free is replaced when the pool is full.
    fn free_dumb(&mut self, nv12: bool) -> Result<usize, PresentError> {
        let used = |c: Option<&Content>, i: usize| matches!(c, Some(Content::Copy(j)) if *j == i);
        let free: Vec<usize> = (0..self.dumbs.len())
            .filter(|i| {
                !used(self.on_screen.as_ref(), *i)
                    && !used(self.pending.as_ref().map(|p| &p.content), *i)
            })
            .collect();
        if let Some(i) = free.iter().find(|i| self.dumbs[**i].nv12 == nv12) {
            return Ok(*i);
        }
        let d = self.make_dumb(nv12)?;
        if self.dumbs.len() < COPY_BUFFERS {
            self.dumbs.push(d);
            return Ok(self.dumbs.len() - 1);
        }
        match free.first() {
            Some(i) => {
                let old = std::mem::replace(&mut self.dumbs[*i], d);
                self.destroy_dumb(old);
                Ok(*i)
            }
            None => {
                self.destroy_dumb(d);
                Err(kms("every dumb buffer is busy"))
            }
        }
    }

    /// CPU fallback: converts the frame's visible picture into a free dumb
    /// buffer (aspect-correct fit, black around it); the frame is dropped
    /// (buffer back to the decoder) before returning.
    fn copy_frame(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        nv12: bool,
    ) -> Result<usize, PresentError> {
        let t0 = Instant::now();
        let i = self.free_dumb(nv12)?;
        if nv12 {
            return self.copy_nv12(frame, src, i, t0);
        }
        let pts = frame.pts_ns;
        let (vx, vy, vw, vh) = frame.visible;
        let par = frame.pixel_aspect;
        let pf = frame.format.pixel_format;
        let err = |e: String| PresentError::Io(format!("frame pts {pts} ns: {e}"));
        // visible picture → XRGB8888 (visible size)
        let (w, h);
        {
            let planes = src.planes(&frame)?;
            let mut scratch = std::mem::take(&mut self.scratch);
            let linear = if pf.is_packed_or_tiled() {
                scratch
                    .unpack_from(&planes, pf.unpacked())
                    .map_err(|e| err(e.to_string()))?;
                Some(())
            } else {
                None
            };
            let view = match linear {
                Some(()) => scratch.planes((vx, vy, vw, vh)).ok_or_else(|| {
                    err(format!(
                        "visible {:?} outside the unpacked picture",
                        frame.visible
                    ))
                })?,
                None => planes,
            };
            (w, h) = (view.width, view.height);
            if w == 0 || h == 0 || w > 16384 || h > 16384 {
                return Err(err(format!("cannot show a {w}x{h} picture")));
            }
            let len = w as usize * h as usize * 4;
            if self.rgb.len() < len {
                self.rgb.resize(len, 0);
            }
            to_xrgb8888(&view, frame.color, &mut self.rgb[..len], w as usize * 4)
                .map_err(|e| err(e.to_string()))?;
            self.scratch = scratch;
        }
        drop(frame);
        let display = display_size((w, h), par).unwrap_or((w, h));
        let rect = fit(display, self.mode_size).unwrap_or(Rect {
            x: 0,
            y: 0,
            w: 0,
            h: 0,
        });
        let d = &mut self.dumbs[i];
        let clear = d.drawn != Some(rect);
        let pitch = drm::buffer::Buffer::pitch(&d.buf) as usize;
        scale_xrgb_nearest(
            &self.rgb,
            (w, h),
            w as usize * 4,
            &mut d.map,
            self.mode_size,
            pitch,
            rect,
            clear,
        )
        .map_err(err)?;
        d.drawn = Some(rect);
        tracing::trace!("drm: pts {pts} ns copied in {:?}", t0.elapsed());
        Ok(i)
    }

    /// The NV12 copy (8-bit NV12 / NC12 frames on a primary that takes
    /// NV12): luma and chroma planes scaled nearest-neighbour into the even
    /// fit rectangle of dumb buffer `i`, black (Y 16, or 0 for a full-range
    /// frame; CbCr 128) around it; no
    /// colour conversion (the plane's `COLOR_ENCODING` / `COLOR_RANGE` say
    /// how to read it).
    fn copy_nv12(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        i: usize,
        t0: Instant,
    ) -> Result<usize, PresentError> {
        let pts = frame.pts_ns;
        let (vx, vy, vw, vh) = frame.visible;
        let par = frame.pixel_aspect;
        let pf = frame.format.pixel_format;
        let err = |e: String| PresentError::Io(format!("frame pts {pts} ns: {e}"));
        let (mw, mh) = self.mode_size;
        let d = &mut self.dumbs[i];
        let pitch = drm::buffer::Buffer::pitch(&d.buf) as usize;
        let y_len = pitch * mh as usize;
        let planes = src.planes(&frame)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let view = if pf.is_packed_or_tiled() {
            scratch
                .unpack_from(&planes, PixelFormat::Nv12)
                .map_err(|e| err(e.to_string()))?;
            scratch.planes((vx, vy, vw, vh)).ok_or_else(|| {
                err(format!(
                    "visible {:?} outside the unpacked picture",
                    frame.visible
                ))
            })?
        } else {
            planes
        };
        if view.format != PixelFormat::Nv12 {
            return Err(err(format!("{:?} in the NV12 copy", view.format)));
        }
        let (w, h) = (view.width, view.height);
        let display = display_size((w, h), par).unwrap_or((w, h));
        let rect = super::pure::even_rect(fit(display, self.mode_size).unwrap_or(Rect {
            x: 0,
            y: 0,
            w: 0,
            h: 0,
        }));
        let full = frame.color.full_range;
        let clear = d.drawn != Some(rect) || d.drawn_full != full;
        let (luma, chroma) = d.map.split_at_mut(y_len);
        let r = super::pure::scale_nearest::<1>(
            view.planes[0].0,
            (w, h),
            view.planes[0].1,
            luma,
            (mw, mh),
            pitch,
            rect,
            clear.then_some(if full { &[0] } else { &[16] }),
        )
        .and_then(|()| {
            let half = Rect {
                x: rect.x / 2,
                y: rect.y / 2,
                w: rect.w / 2,
                h: rect.h / 2,
            };
            super::pure::scale_nearest::<2>(
                view.planes[1].0,
                (w.div_ceil(2), h.div_ceil(2)),
                view.planes[1].1,
                chroma,
                (mw / 2, mh / 2),
                pitch,
                half,
                clear.then_some(&[128, 128]),
            )
        });
        self.scratch = scratch;
        drop(frame);
        r.map_err(err)?;
        self.dumbs[i].drawn = Some(rect);
        self.dumbs[i].drawn_full = full;
        tracing::trace!("drm: pts {pts} ns copied (NV12) in {:?}", t0.elapsed());
        Ok(i)
    }

    /// The framebuffer of a frame's CAPTURE buffer (imported once per
    /// (generation, capture index)).
    fn import(
        &mut self,
        frame: &DecodedFrame,
        src: &dyn FrameSource,
        fourcc: u32,
        modifier: u64,
        with_mod: bool,
    ) -> Result<framebuffer::Handle, String> {
        if self.fb_generation != Some(frame.generation) {
            // a new configuration: the old framebuffers go once off screen
            let old: Vec<ImportedFb> = self.fbs.drain().map(|(_, v)| v).collect();
            self.retired.extend(old);
            self.fb_generation = Some(frame.generation);
            if self.pending.is_none() && !matches!(self.on_screen, Some(Content::Zero(_))) {
                self.release_retired();
            }
        }
        let key = (frame.generation, frame.capture_index);
        if let Some(f) = self.fbs.get(&key) {
            return Ok(f.fb);
        }
        let fds = src.dmabufs(frame);
        let mut gem = Vec::new();
        for fd in &fds {
            let h = self
                .card
                .prime_fd_to_buffer(fd.as_fd())
                .map_err(|e| format!("PRIME import: {e}"))?;
            gem.push(h);
        }
        let fmt = &frame.format;
        let mut planar = Planar {
            size: (fmt.width, fmt.height),
            format: DrmFourcc::try_from(fourcc)
                .map_err(|_| format!("fourcc {fourcc:#x} unknown to the drm crate"))?,
            modifier: with_mod.then(|| DrmModifier::from(modifier)),
            pitches: [0; 4],
            handles: [None; 4],
            offsets: [0; 4],
        };
        for (i, pl) in fmt.planes.iter().take(4).enumerate() {
            let h = *gem
                .get(pl.memory_plane)
                .ok_or("a plane in a missing dmabuf")?;
            planar.handles[i] = Some(h);
            planar.pitches[i] = pl.stride as u32;
            planar.offsets[i] = pl.offset as u32;
        }
        let flags = if with_mod {
            FbCmd2Flags::MODIFIERS
        } else {
            FbCmd2Flags::empty()
        };
        let fb = match self.card.add_planar_framebuffer(&planar, flags) {
            Ok(fb) => fb,
            Err(e) => {
                let mut g = gem.clone();
                g.dedup();
                for h in g {
                    let _ = self.card.close_buffer(h);
                }
                return Err(format!("ADDFB2: {e}"));
            }
        };
        gem.sort_by_key(|h| u32::from(*h));
        gem.dedup();
        tracing::debug!(
            "drm: framebuffer {} for CAPTURE buffer {} (generation {})",
            u32::from(fb),
            frame.capture_index,
            frame.generation
        );
        self.fbs.insert(key, ImportedFb { fb, gem });
        Ok(fb)
    }

    /// The plane for zero-copy of (fourcc, modifier), per `--drm-plane`.
    fn video_plane(&self, fourcc: u32, modifier: u64) -> Option<usize> {
        let caps: Vec<PlaneCaps<'_>> = self
            .planes
            .iter()
            .map(|p| PlaneCaps {
                id: p.handle.into(),
                kind: p.kind,
                formats: &p.formats,
            })
            .collect();
        choose_plane(&caps, self.plane_req, fourcc, modifier)
    }

    /// Colour properties of a YUV plane (`COLOR_ENCODING`, `COLOR_RANGE`,
    /// drm_color_mgmt.c `drm_plane_create_color_properties`) from the
    /// frame's colour description ([`color_props`]).
    fn add_color(&self, req: &mut AtomicModeReq, i: usize, color: ColorInfo) {
        let p = &self.planes[i];
        let raw: RawResourceHandle = p.handle.into();
        let (enc, range) = color_props(color);
        for (n, v) in [("COLOR_ENCODING", enc), ("COLOR_RANGE", range)] {
            if let Some(h) = Self::prop(&p.props, n) {
                if let Some(val) = self.card.enum_value(h, v) {
                    req.add_raw_property(raw, h, val);
                }
            }
        }
    }

    fn black_fb(&mut self) -> Result<framebuffer::Handle, PresentError> {
        if self.black.is_none() {
            self.black = Some(self.make_dumb(false)?);
        }
        Ok(self.black.as_ref().expect("made above").fb)
    }

    /// The request showing `fb` on plane `plane` at `rects`, with the black
    /// primary under an overlay, the other planes off, the modeset when needed.
    fn zero_request(
        &mut self,
        plane: usize,
        fb: framebuffer::Handle,
        rects: &PlaneRects,
        color: ColorInfo,
    ) -> Result<AtomicModeReq, PresentError> {
        let mut req = AtomicModeReq::new();
        if self.need_modeset {
            self.add_modeset(&mut req);
        }
        if plane != self.primary {
            let black = self.black_fb()?;
            let full = self.full_screen();
            self.add_plane(&mut req, self.primary, black, &full);
        }
        self.add_plane(&mut req, plane, fb, rects);
        self.add_color(&mut req, plane, color);
        Ok(req)
    }

    fn copy_request(&self, i: usize, color: ColorInfo) -> AtomicModeReq {
        let mut req = AtomicModeReq::new();
        if self.need_modeset {
            self.add_modeset(&mut req);
        }
        let full = self.full_screen();
        self.add_plane(&mut req, self.primary, self.dumbs[i].fb, &full);
        if self.dumbs[i].nv12 {
            self.add_color(&mut req, self.primary, color);
        }
        // a video overlay of the zero-copy path goes off
        if let Some(Path::Zero { plane, .. }) = self.path.as_ref().map(|(_, p)| p) {
            if *plane != self.primary {
                let mut r = req;
                self.disable_plane(&mut r, *plane);
                return r;
            }
        }
        req
    }

    fn flags(&self) -> AtomicCommitFlags {
        let mut f = AtomicCommitFlags::NONBLOCK | AtomicCommitFlags::PAGE_FLIP_EVENT;
        if self.need_modeset {
            f |= AtomicCommitFlags::ALLOW_MODESET;
        }
        f
    }

    fn test(&self, req: &AtomicModeReq) -> Result<(), io::Error> {
        let mut f = AtomicCommitFlags::TEST_ONLY;
        if self.need_modeset {
            f |= AtomicCommitFlags::ALLOW_MODESET;
        }
        self.card.commit(f, req.clone())
    }

    /// The path for this frame's configuration (probed once per
    /// configuration with `DRM_MODE_ATOMIC_TEST_ONLY`).
    fn choose_path(&mut self, frame: &DecodedFrame, src: &dyn FrameSource) -> Path {
        let pf = frame.format.pixel_format;
        let key = (frame.generation, frame.visible, frame.pixel_aspect, pf);
        if let Some((k, p)) = &self.path {
            if *k == key {
                return p.clone();
            }
        }
        let path = self.probe_zero(frame, src).unwrap_or_else(|why| {
            let nv12 = self.nv12_copy_ok(pf);
            tracing::info!(
                "drm: {pf:?} frames through the CPU copy (dumb {} buffers): {why}",
                if nv12 { "NV12" } else { "XRGB8888" }
            );
            Path::Copy { nv12 }
        });
        self.path = Some((key, path.clone()));
        path
    }

    /// The copy may go to NV12 dumb buffers: an 8-bit NV12 / NC12 frame and
    /// a primary plane that takes NV12 LINEAR and accepts a mode-sized NV12
    /// buffer (`DRM_MODE_ATOMIC_TEST_ONLY`).
    fn nv12_copy_ok(&mut self, pf: PixelFormat) -> bool {
        let nv12 = u32::from_le_bytes(*b"NV12");
        if !matches!(pf, PixelFormat::Nv12 | PixelFormat::Nc12)
            || !self.planes[self.primary].formats.contains(&(nv12, 0))
        {
            return false;
        }
        let d = match self.make_dumb(true) {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!("drm: NV12 dumb buffer: {e}");
                return false;
            }
        };
        let mut req = AtomicModeReq::new();
        if self.need_modeset {
            self.add_modeset(&mut req);
        }
        let full = self.full_screen();
        self.add_plane(&mut req, self.primary, d.fb, &full);
        let ok = match self.test(&req) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!("drm: NV12 on the primary refused: {e}");
                false
            }
        };
        self.destroy_dumb(d);
        ok
    }

    fn probe_zero(&mut self, frame: &DecodedFrame, src: &dyn FrameSource) -> Result<Path, String> {
        if self.force_copy {
            return Err("--hwdec=auto-copy".into());
        }
        let fmt = &frame.format;
        let bpl = fmt.planes.first().map_or(0, |p| p.stride as u32);
        let (fourcc, modifier) = vreq_frame::drm::drm_format(fmt.pixel_format.v4l2_fourcc(), bpl)
            .ok_or("no DRM format for it")?;
        let fourcc_s = String::from_utf8_lossy(&fourcc.to_le_bytes()).into_owned();
        let plane = self.video_plane(fourcc, modifier).ok_or_else(|| {
            format!("no plane of the CRTC takes {fourcc_s} with modifier {modifier:#x} (--drm-plane {:?})", self.plane_req)
        })?;
        let with_mod = self.planes[plane].has_in_formats;
        let fb = self.import(frame, src, fourcc, modifier, with_mod)?;
        let color = frame.color;
        let mut refused = Vec::new();
        let probe = probe_placement(frame.visible, frame.pixel_aspect, self.mode_size, |r| {
            let req = match self.zero_request(plane, fb, r, color) {
                Ok(q) => q,
                Err(e) => {
                    refused.push(e.to_string());
                    return false;
                }
            };
            match self.test(&req) {
                Ok(()) => true,
                Err(e) => {
                    refused.push(format!(
                        "{}x{} at {},{}: {e}",
                        r.crtc.w, r.crtc.h, r.crtc.x, r.crtc.y
                    ));
                    false
                }
            }
        });
        let (rects, scaled) = probe.ok_or_else(|| {
            format!(
                "plane {} refuses the placements (DRM_MODE_ATOMIC_TEST_ONLY: {})",
                u32::from(self.planes[plane].handle),
                refused.join("; ")
            )
        })?;
        if !scaled {
            tracing::info!(
                "drm: plane {} cannot scale: the picture is shown 1:1 ({}x{}), its pixel aspect / fit is not applied",
                u32::from(self.planes[plane].handle),
                rects.crtc.w,
                rects.crtc.h
            );
        }
        tracing::info!(
            "drm: zero-copy: {fourcc_s} modifier {modifier:#x} on {:?} plane {} at {}x{}+{}+{}",
            self.planes[plane].kind,
            u32::from(self.planes[plane].handle),
            rects.crtc.w,
            rects.crtc.h,
            rects.crtc.x,
            rects.crtc.y
        );
        Ok(Path::Zero { plane, rects })
    }

    fn log_stats(&mut self) {
        if self.last_stats_log.elapsed() >= Duration::from_secs(5) {
            self.last_stats_log = Instant::now();
            tracing::info!("drm: {}", self.stats());
        }
    }

    fn stats(&self) -> PresentStats {
        self.pacer.stats(self.zero_copy, self.copied)
    }

    fn drop_frame(&mut self, frame: DecodedFrame, due_ns: i64, reason: DropReason) {
        let o = self.pacer.dropped(frame.pts_ns, due_ns, reason);
        log_outcome_kms(&o);
        drop(frame);
    }

    /// Writes the writeback capture (see [`super::KmsOptions::writeback`]).
    fn writeback_capture(&mut self, out: &std::path::Path) -> Result<(), String> {
        let conns = self.card.connectors().map_err(|e| e.to_string())?;
        let Some((wb, _)) = conns
            .iter()
            .find(|(i, _)| i.interface() == connector::Interface::Writeback)
        else {
            tracing::warn!(
                "drm: VREQ_KMS_WRITEBACK: {} has no writeback connector; no capture",
                self.card.path.display()
            );
            return Ok(());
        };
        let props = self.card.props(wb.handle()).map_err(|e| e.to_string())?;
        let (Some(crtc_id), Some(fb_id)) = (
            Self::prop(&props, "CRTC_ID"),
            Self::prop(&props, "WRITEBACK_FB_ID"),
        ) else {
            return Err("the writeback connector lacks CRTC_ID / WRITEBACK_FB_ID".into());
        };
        let Some(last) = self.last_request.clone() else {
            return Err("nothing was shown".into());
        };
        let target = self.make_dumb(false).map_err(|e| e.to_string())?;
        let crtc_raw: u32 = self.crtc.into();
        let attempt = |detach: bool| -> io::Result<()> {
            let mut req = last.clone();
            req.add_raw_property(wb.handle().into(), crtc_id, u64::from(crtc_raw));
            req.add_raw_property(wb.handle().into(), fb_id, u64::from(u32::from(target.fb)));
            if detach {
                if let Some(h) = Self::prop(&self.conn_props, "CRTC_ID") {
                    req.add_raw_property(self.connector.into(), h, 0);
                }
            }
            self.card.commit(AtomicCommitFlags::ALLOW_MODESET, req)
        };
        let mut detached = false;
        if let Err(e) = attempt(false) {
            tracing::debug!("drm: writeback cloned with the connector refused ({e}); detaching the connector for it");
            attempt(true).map_err(|e| format!("writeback commit: {e}"))?;
            detached = true;
        }
        // The writeback job completes after the composition of the vblank
        // following the commit (vkms_composer.c: the composer work signals
        // it), which under QEMU TCG takes hundreds of ms for an NV12 plane.
        // WRITEBACK_OUT_FENCE_PTR would tell when, but waiting on its fd
        // needs a raw-fd poll (unsafe; this crate forbids unsafe code), so:
        // at least 4 refresh intervals, then until the buffer reads the same
        // three times 150 ms apart (at most WRITEBACK_WAIT).
        std::thread::sleep(Duration::from_nanos(self.refresh_ns * 4));
        let until = Instant::now() + WRITEBACK_WAIT;
        let mut last_sum = None;
        let mut same = 0;
        while same < 2 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(150));
            let sum = target.map.chunks(4096).fold(0u64, |a, c| {
                a.rotate_left(5)
                    ^ c.iter()
                        .fold(0u64, |b, x| b.wrapping_mul(31).wrapping_add(u64::from(*x)))
            });
            same = if last_sum == Some(sum) { same + 1 } else { 0 };
            last_sum = Some(sum);
        }
        if same < 2 {
            tracing::warn!(
                "drm: writeback buffer still changing after {WRITEBACK_WAIT:?}; writing it anyway"
            );
        }
        let (w, h) = self.mode_size;
        let pitch = drm::buffer::Buffer::pitch(&target.buf) as usize;
        let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
        {
            let map = &target.map;
            ppm.reserve(w as usize * h as usize * 3);
            for y in 0..h as usize {
                for px in map[y * pitch..y * pitch + w as usize * 4].chunks_exact(4) {
                    ppm.extend_from_slice(&[px[2], px[1], px[0]]);
                }
            }
        }
        std::fs::write(out, &ppm).map_err(|e| format!("{}: {e}", out.display()))?;
        tracing::info!("writeback: {} {w}x{h}", out.display());
        // detach the writeback connector again (and the real one back)
        let mut req = last;
        req.add_raw_property(wb.handle().into(), crtc_id, 0);
        req.add_raw_property(wb.handle().into(), fb_id, 0);
        if detached {
            self.add_modeset(&mut req);
        }
        if let Err(e) = self.card.commit(AtomicCommitFlags::ALLOW_MODESET, req) {
            tracing::debug!("drm: after the writeback: {e}");
        }
        let Dumb { buf, map, fb, .. } = target;
        drop(map);
        let _ = self.card.destroy_framebuffer(fb);
        let _ = self.card.destroy_dumb_buffer(buf);
        Ok(())
    }
}

/// Logs one frame's fate under `vreq_present::kms::pacing` (the window's format).
fn log_outcome_kms(o: &Outcome) {
    tracing::debug!(target: "vreq_present::kms::pacing", "{o}");
}

impl Sink for KmsSink {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        due: Option<Instant>,
    ) -> Result<(), PresentError> {
        self.log_stats();
        self.pump(Duration::ZERO)?;
        let pair = self.now();
        let due_ns = due.map_or(pair.clock_ns, |d| pair.to_clock(d));
        if self.master_still_lost() {
            self.drop_frame(frame, due_ns, DropReason::NoBuffer);
            return Ok(());
        }
        self.expire_pending();
        // already late: no work on it
        if let Decision::Drop(reason) = self.pacer.decide(self.now().clock_ns, due_ns) {
            if reason == DropReason::Late {
                self.drop_frame(frame, due_ns, reason);
                return Ok(());
            }
        }
        // prepare the buffer first (the CPU copy takes time), then wait for the commit time
        let pts = frame.pts_ns;
        let color = frame.color;
        let path = self.choose_path(&frame, src);
        let (req, content) = match path {
            Path::Zero { plane, rects } => {
                let bpl = frame.format.planes.first().map_or(0, |p| p.stride as u32);
                let (fourcc, modifier) =
                    vreq_frame::drm::drm_format(frame.format.pixel_format.v4l2_fourcc(), bpl)
                        .ok_or_else(|| kms("no DRM format"))?;
                let with_mod = self.planes[plane].has_in_formats;
                let fb = self
                    .import(&frame, src, fourcc, modifier, with_mod)
                    .map_err(kms)?;
                let req = self.zero_request(plane, fb, &rects, color)?;
                (req, Content::Zero(frame))
            }
            Path::Copy { nv12 } => {
                let i = self.copy_frame(frame, src, nv12)?;
                (self.copy_request(i, color), Content::Copy(i))
            }
        };
        // pacing: wait until the commit time (flip events and keys meanwhile)
        loop {
            self.expire_pending();
            let pair = self.now();
            match self.pacer.decide(pair.clock_ns, due_ns) {
                Decision::Commit => break,
                Decision::Drop(reason) => {
                    let o = self.pacer.dropped(pts, due_ns, reason);
                    log_outcome_kms(&o);
                    drop(content);
                    return Ok(());
                }
                Decision::WaitUntil(t) => {
                    let wait = pair.to_instant(t).saturating_duration_since(Instant::now());
                    if wait.is_zero() {
                        if self.pending.is_some() {
                            self.pump(Duration::from_millis(1))?;
                            continue;
                        }
                        break;
                    }
                    self.pump(wait)?;
                }
            }
        }
        if self.pending.is_some() {
            // decide() says commit only without one in flight; be safe
            self.wait_flip(FLIP_WAIT)?;
        }
        if !self.need_modeset {
            self.vblank_gate(due_ns);
        }
        let zero = matches!(content, Content::Zero(_));
        let now = self.now().clock_ns;
        let flags = self.flags();
        let mut full = req.clone();
        self.add_modeset(&mut full);
        self.last_request = Some(full);
        match self.card.commit(flags, req) {
            Ok(()) => {
                self.need_modeset = false;
                let id = self.pacer.committed(pts, due_ns, now);
                self.pending = Some(Pending {
                    id,
                    content,
                    since: Instant::now(),
                });
                if zero {
                    self.zero_copy += 1;
                } else {
                    self.copied += 1;
                }
                Ok(())
            }
            Err(e) if is_commit_master_error(&e) => {
                self.lose_master(&e);
                let o = self.pacer.dropped(pts, due_ns, DropReason::NoBuffer);
                log_outcome_kms(&o);
                drop(content);
                Ok(())
            }
            Err(e) => Err(kms(format!("atomic commit ({flags:?}): {e}"))),
        }
    }

    fn lead(&self) -> Duration {
        Duration::from_nanos(self.refresh_ns) + Duration::from_millis(1)
    }

    fn dispatch(&mut self) -> Result<(), PresentError> {
        self.pump(Duration::ZERO)?;
        let _ = self.master_still_lost();
        Ok(())
    }

    fn take_commands(&mut self) -> Vec<UserCommand> {
        if let Some(i) = &mut self.input {
            self.commands.extend(i.read());
        }
        std::mem::take(&mut self.commands)
    }

    fn discard_queued(&mut self) {
        // nothing is queued beyond the one commit in flight, which will show
        self.pacer.discontinuity();
    }

    fn finish(&mut self) -> Result<(), PresentError> {
        self.wait_flip(FLIP_WAIT)?;
        for o in self.pacer.abandon() {
            log_outcome_kms(&o);
        }
        tracing::info!("drm: {}", self.stats());
        if let Some(out) = self.writeback.take() {
            if let Err(e) = self.writeback_capture(&out) {
                tracing::warn!("drm: VREQ_KMS_WRITEBACK: {e}");
            }
        }
        Ok(())
    }

    fn present_stats(&self) -> Option<PresentStats> {
        Some(self.stats())
    }
}

impl Drop for KmsSink {
    fn drop(&mut self) {
        let _ = self.wait_flip(FLIP_WAIT);
        if self.master_lost.is_none() && !self.saved.is_empty() {
            let (req, blob) = self.saved.request(&self.card);
            match self.card.commit(AtomicCommitFlags::ALLOW_MODESET, req) {
                Ok(()) => tracing::info!("drm: the output's previous state is restored"),
                Err(e) => tracing::warn!("drm: restoring the previous output state: {e}"),
            }
            if let Some(b) = blob {
                let _ = self.card.destroy_property_blob(b);
            }
        }
        self.on_screen = None;
        let fbs: Vec<ImportedFb> = self.fbs.drain().map(|(_, v)| v).collect();
        self.retired.extend(fbs);
        self.release_retired();
        let dumbs: Vec<Dumb> = self.dumbs.drain(..).chain(self.black.take()).collect();
        for d in dumbs {
            self.destroy_dumb(d);
        }
        let _ = self.card.destroy_property_blob(self.mode_blob);
    }
}
