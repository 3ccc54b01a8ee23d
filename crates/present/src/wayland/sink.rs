//! [`WaylandSink`]: the window as a [`Sink`]. It owns the [`Window`]
//! (connection, protocol state, surfaces), the path choice and the two
//! paths ([`ZeroCopy`], [`CopyPath`]); `show` paces, attaches through a
//! path and commits.
//!
//! # Pacing
//! The player hands each frame over [`Sink::lead`] before its due time;
//! [`Sink::show`] asks the scheduler in [`pacing`] when to commit it (after
//! the last predicted vblank before due, from `wp_presentation` feedback; at
//! due without it), waits for that while handling events, or drops the frame
//! when it is late (counted in [`WindowStats::dropped`] too; its buffer goes
//! straight back to the decoder). Each commit asks for its
//! `wp_presentation_feedback` (without `wp_presentation`: a `wl_surface.frame`
//! callback, one commit in flight). [`Sink::dispatch`] reads and handles
//! events without blocking; [`Sink::finish`] waits (at most
//! [`pacing::FINISH_WAIT`]) for the outstanding answers so that
//! [`Sink::present_stats`] adds up (`presented + dropped` = frames shown).
//!
//! # Buffer lifetimes
//! A zero-copy frame is dropped (its CAPTURE buffer given back) only on its
//! `wl_buffer.release`; at most [`MAX_HELD_FRAMES`] are held by the
//! compositor, further frames are dropped. A copied frame is dropped right
//! after the copy.

use std::time::{Duration, Instant};

use vreq_frame::{DecodedFrame, PixelFormat};

use super::copy::CopyPath;
use super::dmabuf::{self, DmabufFormats};
use super::geometry;
use super::options::WindowOptions;
use super::pacing;
use super::window::{Attached, Window};
use super::zero_copy::{Refused, ZeroCopy};
use crate::{FrameSource, Osd, PresentError, PresentStats, Sink, UserCommand};

/// Most decoder frames the compositor may hold (committed, not yet
/// `wl_buffer.release`d) before further frames are dropped instead of
/// committed: one on screen, up to two queued ([`pacing::MAX_IN_FLIGHT`]), one
/// being released. Keeps a stalled compositor from taking every CAPTURE
/// buffer (the engine allots `vreq_engine::CAPTURE_HEADROOM` beyond the DPB).
pub const MAX_HELD_FRAMES: usize = 4;

/// Counters of what the window did (for logs and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Frames committed through dmabuf `wl_buffer`s (zero-copy).
    pub shown_dmabuf: u64,
    /// Frames committed through `wl_shm` copies.
    pub shown_shm: u64,
    /// Frames not committed: dropped by the pacer (late, or too many commits
    /// unanswered; see [`pacing`]) or because every shm buffer was still held.
    pub dropped: u64,
    /// dmabuf `wl_buffer`s created (one per CAPTURE buffer and configuration).
    pub dmabuf_buffers: u64,
    /// `wl_buffer.release` events for dmabuf buffers (frames given back).
    pub dmabuf_releases: u64,
    /// pts (ns) of the last frame committed, if any.
    pub last_pts_ns: Option<i64>,
}

/// Which path frames take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathChoice {
    /// Not decided yet (no frame shown).
    Undecided,
    /// Zero-copy dmabuf with this modifier.
    Dmabuf { modifier: u64 },
    /// CPU copy into `wl_shm`; the reason dmabuf is not used.
    Shm(String),
}

/// The window sink. Use through [`super::open_window`] or directly for its
/// [`WaylandSink::stats`] / [`WaylandSink::path`].
pub struct WaylandSink {
    /// The connection, protocol state and surfaces.
    window: Window,
    force_shm: bool,
    path: PathChoice,
    /// The pixel format `path` was chosen for.
    path_format: Option<PixelFormat>,
    /// The zero-copy path (dmabuf `wl_buffer`s of the CAPTURE buffers).
    zero_copy: ZeroCopy,
    /// The copy path (detile / convert into linear dmabufs or `wl_shm`).
    copy: CopyPath,
}

impl WaylandSink {
    /// Connects (`WAYLAND_DISPLAY`), binds the globals, maps the toplevel and
    /// waits for its first configure. See [`super::open_window`] for errors.
    pub fn open(opts: &WindowOptions) -> Result<Self, PresentError> {
        Ok(WaylandSink {
            window: Window::open(opts)?,
            force_shm: opts.force_shm,
            path: PathChoice::Undecided,
            path_format: None,
            zero_copy: ZeroCopy::new(opts.dmabuf_immed),
            copy: CopyPath::new(opts.force_shm),
        })
    }

    /// What the window did so far.
    pub fn stats(&self) -> WindowStats {
        self.window.state.stats
    }

    /// The path frames take (decided at the first frame).
    pub fn path(&self) -> &PathChoice {
        &self.path
    }

    /// The (fourcc, modifier) pairs the compositor announced.
    pub fn dmabuf_formats(&self) -> &DmabufFormats {
        &self.window.state.dmabuf.formats
    }

    /// Decides the path for a frame of this format (once per pixel format —
    /// a stream may switch between 8 and 10 bits at a reconfiguration — or
    /// again after a dmabuf failure).
    fn choose_path(&mut self, frame: &DecodedFrame) {
        let pf = frame.format.pixel_format;
        if self.path != PathChoice::Undecided && self.path_format == Some(pf) {
            return;
        }
        self.path_format = Some(pf);
        let mut fourcc = pf.drm_fourcc();
        self.path = if self.force_shm {
            PathChoice::Shm("dmabuf disabled by option".into())
        } else if self.window.state.dmabuf.global.is_none() {
            PathChoice::Shm("compositor has no zwp_linux_dmabuf_v1".into())
        } else {
            match dmabuf::choose_dmabuf(&self.window.state.dmabuf.formats, &frame.format) {
                Ok((f, modifier)) => {
                    fourcc = f;
                    PathChoice::Dmabuf { modifier }
                }
                Err(why) => PathChoice::Shm(why),
            }
        };
        let name = String::from_utf8_lossy(&fourcc.to_le_bytes()).into_owned();
        let formats = &self.window.state.dmabuf.formats;
        match &self.path {
            PathChoice::Dmabuf { modifier } => {
                tracing::info!(
                    "wayland: zero-copy: {name} dmabufs, modifier {modifier:#x}{}",
                    if formats.is_scanout(fourcc, *modifier) {
                        " (in a scanout tranche)"
                    } else {
                        ""
                    }
                )
            }
            PathChoice::Shm(why) => {
                tracing::info!("wayland: copying {pf:?} frames on the CPU: {why}")
            }
            PathChoice::Undecided => {}
        }
    }

    /// Attaches `frame` to the video surface through the chosen path: zero-copy
    /// (a frame it refuses goes to the copy path; with a reason, so do all
    /// further frames), else the copy path. `Ok(None)`: no free buffer, the
    /// frame was dropped.
    fn attach(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
    ) -> Result<Option<Attached>, PresentError> {
        let frame = match self.path {
            PathChoice::Dmabuf { modifier } => {
                match self
                    .zero_copy
                    .attach(&mut self.window, frame, src, modifier)?
                {
                    Ok(a) => return Ok(Some(a)),
                    Err(Refused { frame, why }) => {
                        if let Some(why) = why {
                            self.path = PathChoice::Shm(why);
                        }
                        frame
                    }
                }
            }
            _ => frame,
        };
        self.copy.attach(&mut self.window, frame, src)
    }
}

impl Sink for WaylandSink {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        due: Option<Instant>,
    ) -> Result<(), PresentError> {
        self.window.pump(Duration::ZERO)?;
        if self.window.state.closed {
            return Err(PresentError::Closed);
        }
        // pacing: wait for the commit time, or drop (pacing.rs)
        let pts_ns = frame.pts_ns;
        let Some(due_ns) = pacing::pace(&mut self.window, pts_ns, due)? else {
            return Ok(());
        };
        self.choose_path(&frame);
        if matches!(self.path, PathChoice::Dmabuf { .. })
            && self.window.state.dmabuf_buffers.held() >= MAX_HELD_FRAMES
        {
            // A compositor that stops releasing (weston under TCG froze for seconds) must
            // not collect CAPTURE buffers until the decoder starves: drop instead.
            tracing::debug!(
                "wayland: frame pts {pts_ns} ns dropped: the compositor holds {MAX_HELD_FRAMES} unreleased frames"
            );
            self.window.state.pacing.no_buffer(pts_ns, due_ns);
            return Ok(());
        }
        let display =
            geometry::display_size((frame.visible.2, frame.visible.3), frame.pixel_aspect);
        let Some(attached) = self.attach(frame, src)? else {
            self.window.state.pacing.no_buffer(pts_ns, due_ns);
            return Ok(());
        };
        self.window.set_source(&attached, display);
        self.window.commit_video(pts_ns, due_ns)
    }

    fn lead(&self) -> Duration {
        self.window.state.pacing.lead()
    }

    fn present_stats(&self) -> Option<PresentStats> {
        Some(
            self.window
                .state
                .pacing
                .present_stats(&self.window.state.stats),
        )
    }

    fn dispatch(&mut self) -> Result<(), PresentError> {
        self.window.pump(Duration::ZERO)?;
        if self.window.state.closed {
            return Err(PresentError::Closed);
        }
        Ok(())
    }

    fn set_osd(&mut self, osd: Option<Osd>) {
        self.window.set_osd(osd);
    }

    /// Nothing to drop: `show` commits (or drops) each frame before it
    /// returns, so the window holds no frame that is not committed yet; the
    /// frames the compositor holds come back on `wl_buffer.release` as
    /// usual. What a seek does change is the timeline: the pacer forgets the
    /// frame interval of the old one ([`pacing::Pacer::discontinuity`]).
    fn discard_queued(&mut self) {
        self.window.state.pacing.discontinuity();
    }

    fn set_title(&mut self, title: &str) {
        self.window.state.toplevel.set_title(title.to_owned());
        self.window.flush();
    }

    fn take_commands(&mut self) -> Vec<UserCommand> {
        let c = std::mem::take(&mut self.window.state.commands);
        if !c.is_empty() {
            self.window.update_inhibitor();
        }
        c
    }

    fn finish(&mut self) -> Result<(), PresentError> {
        pacing::finish(&mut self.window)?;
        self.window.state.finished = true;
        self.window.update_inhibitor();
        self.window.flush();
        let s = self.window.state.stats;
        tracing::info!(
            "wayland: {} frames zero-copy ({} dmabuf wl_buffers, {} releases), {} copied, {} dropped",
            s.shown_dmabuf,
            s.dmabuf_buffers,
            s.dmabuf_releases,
            s.shown_shm,
            s.dropped
        );
        Ok(())
    }
}

impl Drop for WaylandSink {
    fn drop(&mut self) {
        self.window.state.dmabuf_buffers.destroy_all();
        self.window.flush();
    }
}
