//! Frame pacing for the Wayland window: when to commit each frame, which to
//! drop, and what the compositor did with each commit.
//!
//! # The scheduler ([`Pacer`], pure: no Wayland types)
//! Times are nanoseconds on the presentation clock (`wp_presentation.clock_id`,
//! weston: `CLOCK_MONOTONIC`). The pacer learns the display's refresh interval
//! and the last vblank from `wp_presentation_feedback.presented`
//! (presentation-time.xml: `tv_sec_hi/lo`, `tv_nsec` = the time the content
//! turned visible, `refresh` = ns to the next one, 0 if unknown) and decides,
//! per frame with due time `due`:
//! * **Commit** / **wait until T, then commit**: with a known refresh grid
//!   (vblanks at `last_vblank + k·refresh`) the commit goes out after the last
//!   predicted vblank *before* `due` (plus [`MARGIN_NS`]), so the earliest
//!   vblank it can reach is the first one at or after `due`; never earlier
//!   than `due − refresh/2`, so a compositor whose real vblanks are off our
//!   predicted grid (weston's headless backend runs a timer, not a vblank
//!   grid) still cannot show it much before `due`. Without a grid (first
//!   frames, refresh 0, or no `wp_presentation` at all) the commit goes out
//!   at `due`: nothing the compositor does can then show it early.
//! * **Drop (late)**: the vblank the commit could reach lies more than one
//!   frame interval (the gap between consecutive due times) after `due`,
//!   i.e. past the next frame's due time. Frames are scheduled against the
//!   player's fixed clock, so dropping keeps the window in time instead of
//!   letting it drift behind. So that a decoder slower than real time still
//!   updates the picture, a frame is shown anyway (and counted late) once
//!   [`MAX_DROP_RUN_NS`] worth of frames were dropped in a row.
//! * **Drop (superseded)**: at most [`MAX_IN_FLIGHT`] commits wait for
//!   feedback; a frame that finds them all unanswered at its commit time is
//!   dropped. Without `wp_presentation` one commit is in flight (its
//!   `wl_surface.frame` callback is the only answer we get) and a frame
//!   waits for that answer until it would be late, then is dropped.
//!
//! # Counting
//! Every frame handed to `show` ends in exactly one of: **presented**
//! (`presented` feedback; fallback: its frame callback fired), **discarded**
//! (`discarded` feedback: the compositor never showed that content update,
//! e.g. a newer commit replaced it before a repaint), **dropped** here (late,
//! superseded, no free buffer, or no answer by the end: [`Pacer::abandon`]).
//! Hence `presented + dropped == frames shown` where `dropped` counts the
//! last three. **Late**: presented more than one refresh interval (the
//! feedback's `refresh`, else the frame interval) after its due time.
//!
//! # Log
//! Each frame's fate is one debug line (target `crate::wayland::pacing`):
//! `frame pts_ns=<i64> due_ns=<i64> result=<presented|discarded|dropped> presented_ns=<i64|-> refresh_ns=<u64|->`
//! with `due_ns` / `presented_ns` on the presentation clock (`tests/vm` parses it).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nix::time::{clock_gettime, ClockId};
use smithay_client_toolkit::compositor::FrameCallbackData;
use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::protocol::wl_surface;
use smithay_client_toolkit::reexports::client::{Connection, QueueHandle};
use wayland_protocols::wp::presentation_time::client::{wp_presentation, wp_presentation_feedback};

use super::state::State;
use super::window::Window;
use super::WindowStats;
use crate::PresentError;
use crate::PresentStats;

/// Slack after a predicted vblank before committing for the next one (ns;
/// at most a quarter of the refresh interval).
pub const MARGIN_NS: i64 = 1_000_000;
/// A frame is shown even though late once this much (ns of frame intervals)
/// was dropped in a row: at least one picture a second.
pub const MAX_DROP_RUN_NS: i64 = 1_000_000_000;
/// Most commits waiting for `wp_presentation` feedback (one being shown,
/// one queued for the next vblank). Each holds a decoder buffer until the
/// compositor releases it; a compositor that stops answering (weston under
/// TCG stalls for seconds) must not take every CAPTURE buffer from the decoder.
pub const MAX_IN_FLIGHT: usize = 2;
/// Fallback: a frame callback unanswered this long is given up (counted dropped).
pub const STALE_NS: i64 = 1_000_000_000;
/// `lead` without a known refresh interval: how early the player hands a
/// frame over before its due time.
pub const DEFAULT_LEAD: Duration = Duration::from_millis(4);
/// How long `finish` waits for the outstanding feedback / frame callbacks.
pub const FINISH_WAIT: Duration = Duration::from_secs(3);
/// Interval of the `-v` statistics line.
pub const STATS_EVERY: Duration = Duration::from_secs(5);

/// What to do with a frame now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Commit it now.
    Commit,
    /// Wait until this instant (presentation clock, ns), then ask again.
    WaitUntil(i64),
    /// Do not commit it.
    Drop(DropReason),
}

/// Why the pacer drops a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The vblank it could reach is past the next frame's due time.
    Late,
    /// Too many commits still unanswered ([`MAX_IN_FLIGHT`]; fallback: one)
    /// until the frame would be late.
    Superseded,
    /// The sink had no buffer to put it in (every `wl_shm` buffer held).
    NoBuffer,
    /// Committed, but no presented/discarded/frame callback came by the end.
    NoAnswer,
}

/// The fate of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameResult {
    Presented,
    Discarded,
    Dropped,
}

/// One frame's fate, as logged (times in presentation-clock ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub pts_ns: i64,
    pub due_ns: i64,
    pub result: FrameResult,
    /// When it turned visible (feedback), `None` unless presented with feedback.
    pub presented_ns: Option<i64>,
    /// Refresh interval known at that time.
    pub refresh_ns: Option<u64>,
    /// Presented later than one refresh interval after `due_ns`.
    pub late: bool,
    /// When it was committed (`None`: never committed).
    pub commit_ns: Option<i64>,
}

impl Outcome {
    /// The compositor's presentation time lies before the commit: not a
    /// measured time. Seen with weston 14's headless backend (a timer, no
    /// vblank) after its repaint loop went idle: the stamp was exactly the
    /// previous stamp + one refresh, hundreds of ms before the commit.
    pub fn presented_before_commit(&self) -> bool {
        matches!((self.presented_ns, self.commit_ns), (Some(p), Some(c)) if p < c)
    }
}

impl std::fmt::Display for Outcome {
    /// `frame pts_ns=… due_ns=… result=… presented_ns=…|- refresh_ns=…|-`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let result = match self.result {
            FrameResult::Presented => "presented",
            FrameResult::Discarded => "discarded",
            FrameResult::Dropped => "dropped",
        };
        write!(
            f,
            "frame pts_ns={} due_ns={} result={result} presented_ns=",
            self.pts_ns, self.due_ns
        )?;
        match self.presented_ns {
            Some(p) => write!(f, "{p}")?,
            None => f.write_str("-")?,
        }
        f.write_str(" refresh_ns=")?;
        match self.refresh_ns {
            Some(r) => write!(f, "{r}"),
            None => f.write_str("-"),
        }
    }
}

/// Counters kept by the pacer (see the module docs for their meaning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacerCounts {
    pub presented: u64,
    /// `discarded` feedback.
    pub discarded: u64,
    /// Dropped here (late, superseded, no buffer, no answer).
    pub dropped: u64,
    pub late: u64,
    /// Frames committed.
    pub committed: u64,
}

/// A commit waiting for its feedback (or frame callback).
#[derive(Debug, Clone, Copy)]
struct InFlight {
    id: u64,
    pts_ns: i64,
    due_ns: i64,
    commit_ns: i64,
}

/// The scheduler; see the module docs.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Answers come as `wp_presentation_feedback` (else: frame callbacks).
    feedback: bool,
    refresh_ns: Option<u64>,
    last_vblank_ns: Option<i64>,
    last_due_ns: Option<i64>,
    frame_ns: Option<i64>,
    in_flight: VecDeque<InFlight>,
    next_id: u64,
    /// ns of frame intervals dropped in a row as late.
    drop_run_ns: i64,
    counts: PacerCounts,
    /// Slack after the predicted vblank before committing: [`MARGIN_NS`]
    /// (at most a quarter refresh), or half a refresh ([`Pacer::set_half_refresh_margin`]).
    half_refresh_margin: bool,
}

impl Pacer {
    /// `feedback`: `wp_presentation` is bound (answers are feedback events);
    /// false: frame callbacks are the answers (one commit in flight).
    pub fn new(feedback: bool) -> Self {
        Pacer {
            feedback,
            refresh_ns: None,
            last_vblank_ns: None,
            last_due_ns: None,
            frame_ns: None,
            in_flight: VecDeque::new(),
            next_id: 1,
            drop_run_ns: 0,
            counts: PacerCounts::default(),
            half_refresh_margin: false,
        }
    }

    /// Commit half a refresh interval after the predicted vblank before
    /// `due` instead of [`MARGIN_NS`] after it (the kiosk): a vblank whose
    /// handler runs late (vkms' hrtimer under QEMU TCG ran > 1 ms late)
    /// still latches a commit made just after its nominal time and stamps
    /// the flip with that time, before `due`; half a refresh leaves that
    /// much room and still reaches the next vblank.
    pub fn set_half_refresh_margin(&mut self) {
        self.half_refresh_margin = true;
    }

    /// Whether answers are `wp_presentation_feedback` events.
    pub fn uses_feedback(&self) -> bool {
        self.feedback
    }

    /// The refresh interval learnt from feedback (ns), if any.
    pub fn refresh_ns(&self) -> Option<u64> {
        self.refresh_ns
    }

    pub fn counts(&self) -> PacerCounts {
        self.counts
    }

    /// Commits still waiting for an answer.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// How long before its due time the player should hand a frame over:
    /// one refresh interval (+1 ms) once known, else [`DEFAULT_LEAD`].
    pub fn lead(&self) -> Duration {
        match self.refresh_ns {
            Some(r) => Duration::from_nanos(r) + Duration::from_millis(1),
            None => DEFAULT_LEAD,
        }
    }

    /// The frame interval to judge `due` by: the gap to the previous due time,
    /// else the last such gap.
    fn interval(&self, due_ns: i64) -> Option<i64> {
        self.last_due_ns
            .map(|l| due_ns - l)
            .filter(|d| *d > 0)
            .or(self.frame_ns)
    }

    /// The predicted vblank grid `(a vblank, refresh)`.
    fn grid(&self) -> Option<(i64, i64)> {
        match (self.last_vblank_ns, self.refresh_ns) {
            (Some(v), Some(r)) if r > 0 => Some((v, r as i64)),
            _ => None,
        }
    }

    /// Earliest time to commit a frame due at `due_ns` (see the module docs).
    pub fn commit_target(&self, due_ns: i64) -> i64 {
        match self.grid() {
            Some((v, r)) => {
                // last predicted vblank strictly before due
                let k = (due_ns - 1 - v).div_euclid(r);
                let prev = v + k * r;
                let margin = if self.half_refresh_margin {
                    r / 2
                } else {
                    MARGIN_NS.min(r / 4)
                };
                (prev + margin).max(due_ns - r / 2)
            }
            None => due_ns,
        }
    }

    /// When a commit at `commit_ns` would be shown at the earliest: the first
    /// predicted vblank after it, or (no grid) `commit_ns` itself.
    fn reach(&self, commit_ns: i64) -> i64 {
        match self.grid() {
            Some((v, r)) => v + ((commit_ns - v).div_euclid(r) + 1) * r,
            None => commit_ns,
        }
    }

    /// What to do with a frame due at `due_ns` at time `now_ns`. Call
    /// [`Pacer::expire`] first; after [`Decision::WaitUntil`] ask again.
    pub fn decide(&self, now_ns: i64, due_ns: i64) -> Decision {
        let target = self.commit_target(due_ns);
        let commit_at = now_ns.max(target);
        let lateness = self.reach(commit_at) - due_ns;
        let cap = if self.feedback { MAX_IN_FLIGHT } else { 1 };
        if let Some(f) = self.interval(due_ns) {
            if lateness > f && self.drop_run_ns + f <= MAX_DROP_RUN_NS {
                return Decision::Drop(DropReason::Late);
            }
            if self.in_flight.len() >= cap && self.feedback {
                // the compositor is more than a frame behind: wait for an answer until
                // this frame's commit time, no longer (the player decodes meanwhile)
                return if now_ns >= target {
                    Decision::Drop(DropReason::Superseded)
                } else {
                    Decision::WaitUntil(target)
                };
            }
            if self.in_flight.len() >= cap {
                // frame callbacks: wait for the answer while this frame is still in time
                let give_up = due_ns + f;
                return if now_ns >= give_up {
                    Decision::Drop(DropReason::Superseded)
                } else {
                    // the sink wakes up earlier when the callback comes
                    Decision::WaitUntil(give_up)
                };
            }
        } else if self.in_flight.len() >= cap {
            return Decision::Drop(DropReason::Superseded);
        }
        if target > now_ns {
            Decision::WaitUntil(target)
        } else {
            Decision::Commit
        }
    }

    fn note_due(&mut self, due_ns: i64) {
        if let Some(d) = self.last_due_ns.map(|l| due_ns - l).filter(|d| *d > 0) {
            self.frame_ns = Some(d);
        }
        self.last_due_ns = Some(self.last_due_ns.map_or(due_ns, |l| l.max(due_ns)));
    }

    /// The frame was committed at `now_ns`; returns the id its answer carries.
    pub fn committed(&mut self, pts_ns: i64, due_ns: i64, now_ns: i64) -> u64 {
        self.note_due(due_ns);
        self.drop_run_ns = 0;
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight.push_back(InFlight {
            id,
            pts_ns,
            due_ns,
            commit_ns: now_ns,
        });
        self.counts.committed += 1;
        id
    }

    /// The frame was not committed.
    pub fn dropped(&mut self, pts_ns: i64, due_ns: i64, reason: DropReason) -> Outcome {
        if reason == DropReason::Late {
            self.drop_run_ns += self.interval(due_ns).unwrap_or(0);
        }
        self.note_due(due_ns);
        self.counts.dropped += 1;
        Outcome {
            pts_ns,
            due_ns,
            result: FrameResult::Dropped,
            presented_ns: None,
            refresh_ns: self.refresh_ns,
            late: false,
            commit_ns: None,
        }
    }

    fn take(&mut self, id: u64) -> Option<InFlight> {
        let i = self.in_flight.iter().position(|f| f.id == id)?;
        self.in_flight.remove(i)
    }

    /// `wp_presentation_feedback.presented` for commit `id`: visible at
    /// `presented_ns`, `refresh_ns` (0: unknown) to the next refresh.
    /// `None` for an id not in flight (already answered or abandoned).
    pub fn presented(&mut self, id: u64, presented_ns: i64, refresh_ns: u64) -> Option<Outcome> {
        if refresh_ns > 0 {
            self.refresh_ns = Some(refresh_ns);
        }
        if self.last_vblank_ns.is_none_or(|v| presented_ns > v) {
            self.last_vblank_ns = Some(presented_ns);
        }
        let f = self.take(id)?;
        let allowed = match refresh_ns {
            0 => self
                .refresh_ns
                .map(|r| r as i64)
                .or(self.frame_ns)
                .unwrap_or(16_666_667),
            r => r as i64,
        };
        let late = presented_ns - f.due_ns > allowed;
        self.counts.presented += 1;
        self.counts.late += u64::from(late);
        Some(Outcome {
            pts_ns: f.pts_ns,
            due_ns: f.due_ns,
            result: FrameResult::Presented,
            presented_ns: Some(presented_ns),
            refresh_ns: self.refresh_ns,
            late,
            commit_ns: Some(f.commit_ns),
        })
    }

    /// `wp_presentation_feedback.discarded` for commit `id`.
    pub fn discarded(&mut self, id: u64) -> Option<Outcome> {
        let f = self.take(id)?;
        self.counts.discarded += 1;
        Some(Outcome {
            pts_ns: f.pts_ns,
            due_ns: f.due_ns,
            result: FrameResult::Discarded,
            presented_ns: None,
            refresh_ns: self.refresh_ns,
            late: false,
            commit_ns: Some(f.commit_ns),
        })
    }

    /// Fallback: the frame callback of the oldest commit fired at `now_ns`
    /// (ignored when answers are feedback). Late (judged by when the callback
    /// came, an upper bound of the presentation time) if more than one frame
    /// interval after due.
    pub fn frame_callback(&mut self, now_ns: i64) -> Option<Outcome> {
        if self.feedback {
            return None;
        }
        let f = self.in_flight.pop_front()?;
        let allowed = self.frame_ns.unwrap_or(16_666_667);
        let late = now_ns - f.due_ns > allowed;
        self.counts.presented += 1;
        self.counts.late += u64::from(late);
        Some(Outcome {
            pts_ns: f.pts_ns,
            due_ns: f.due_ns,
            result: FrameResult::Presented,
            presented_ns: None,
            refresh_ns: self.refresh_ns,
            late,
            commit_ns: Some(f.commit_ns),
        })
    }

    /// Fallback: gives up on commits unanswered for [`STALE_NS`] (a hidden
    /// window gets no frame callbacks), counting them dropped.
    pub fn expire(&mut self, now_ns: i64) -> Vec<Outcome> {
        let mut out = Vec::new();
        if self.feedback {
            return out;
        }
        while let Some(f) = self.in_flight.front() {
            if now_ns - f.commit_ns < STALE_NS {
                break;
            }
            let f = self.in_flight.pop_front().expect("front exists");
            out.push(self.abandoned(f));
        }
        out
    }

    fn abandoned(&mut self, f: InFlight) -> Outcome {
        self.counts.dropped += 1;
        Outcome {
            pts_ns: f.pts_ns,
            due_ns: f.due_ns,
            result: FrameResult::Dropped,
            presented_ns: None,
            refresh_ns: self.refresh_ns,
            late: false,
            commit_ns: Some(f.commit_ns),
        }
    }

    /// A seek / flush ([`crate::Sink::discard_queued`]): the due times
    /// start a new timeline, so the frame interval and the late-drop run
    /// learnt from the old one are forgotten (else the first frame after the
    /// seek is judged by the gap to the last frame before it — a few ms when
    /// the player re-anchors its clock just after the old last due time —
    /// and dropped as late). Commits in flight stay counted: they were
    /// committed and get their answers as usual; the refresh grid stays
    /// (it is the display's).
    pub fn discontinuity(&mut self) {
        self.last_due_ns = None;
        self.frame_ns = None;
        self.drop_run_ns = 0;
    }

    /// End of playback: every commit still unanswered counts as dropped.
    pub fn abandon(&mut self) -> Vec<Outcome> {
        let all: Vec<InFlight> = self.in_flight.drain(..).collect();
        all.into_iter().map(|f| self.abandoned(f)).collect()
    }

    /// The counters as [`PresentStats`] (`zero_copy` / `copied` from the window).
    pub fn stats(&self, zero_copy: u64, copied: u64) -> PresentStats {
        PresentStats {
            presented: self.counts.presented,
            dropped: self.counts.dropped + self.counts.discarded,
            late: self.counts.late,
            zero_copy,
            copied,
        }
    }
}

/// Logs one frame's fate (debug; the format `tests/vm` parses).
pub fn log_outcome(o: &Outcome) {
    tracing::debug!("{o}");
}

// ---- clocks ----

/// Reads `clock` in ns (`clock_gettime`); CLOCK_MONOTONIC if that fails.
pub fn clock_ns(clock: ClockId) -> i64 {
    let ts = clock_gettime(clock)
        .or_else(|_| clock_gettime(ClockId::CLOCK_MONOTONIC))
        .unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
    // time_t / c_long: i64 on 64-bit targets, i32 on armhf
    ts.tv_sec() as i64 * 1_000_000_000 + ts.tv_nsec() as i64
}

/// `Instant` ↔ presentation-clock mapping, taken from one pair of readings.
#[derive(Debug, Clone, Copy)]
pub struct ClockPair {
    pub instant: Instant,
    pub clock_ns: i64,
}

impl ClockPair {
    /// Reads both clocks next to each other.
    pub fn now(clock: ClockId) -> Self {
        let instant = Instant::now();
        let clock_ns = clock_ns(clock);
        ClockPair { instant, clock_ns }
    }

    /// `t` on the presentation clock.
    pub fn to_clock(&self, t: Instant) -> i64 {
        if t >= self.instant {
            self.clock_ns + (t - self.instant).as_nanos().min(i64::MAX as u128) as i64
        } else {
            self.clock_ns - (self.instant - t).as_nanos().min(i64::MAX as u128) as i64
        }
    }

    /// Presentation-clock `ns` as an `Instant` (clamped to now for past times).
    pub fn to_instant(&self, ns: i64) -> Instant {
        let d = ns - self.clock_ns;
        if d > 0 {
            self.instant + Duration::from_nanos(d as u64)
        } else {
            self.instant
        }
    }
}

// ---- the Wayland side ----

/// Pacing state of the window (in [`State`], so event handlers reach it).
pub(super) struct Pacing {
    pacer: Pacer,
    presentation: Option<wp_presentation::WpPresentation>,
    /// `wp_presentation.clock_id` (CLOCK_MONOTONIC until told).
    clock: ClockId,
    last_stats_log: Instant,
}

/// User data of the bound `wp_presentation`.
pub(super) struct PresentationData;
/// User data of a `wp_presentation_feedback`: the commit's id in the pacer.
pub(super) struct FeedbackFrame(u64);

impl Pacing {
    /// Binds `wp_presentation` (v1–2) if the compositor has it.
    pub(super) fn bind(globals: &GlobalList, qh: &QueueHandle<State>) -> Self {
        let presentation = match globals.bind::<wp_presentation::WpPresentation, _, _>(
            qh,
            1..=2,
            PresentationData,
        ) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::info!("wayland: no wp_presentation ({e}); pacing by frame callbacks");
                None
            }
        };
        Pacing {
            pacer: Pacer::new(presentation.is_some()),
            presentation,
            clock: ClockId::CLOCK_MONOTONIC,
            last_stats_log: Instant::now(),
        }
    }

    fn now(&self) -> ClockPair {
        ClockPair::now(self.clock)
    }

    /// Fallback hook: a `wl_surface.frame` callback fired.
    pub(super) fn frame_callback(&mut self) {
        let now = clock_ns(self.clock);
        if let Some(o) = self.pacer.frame_callback(now) {
            log_outcome(&o);
        }
    }

    /// A frame the sink could not put in a buffer (after [`pace`] said commit).
    pub(super) fn no_buffer(&mut self, pts_ns: i64, due_ns: i64) {
        let o = self.pacer.dropped(pts_ns, due_ns, DropReason::NoBuffer);
        log_outcome(&o);
    }

    /// The `-v` statistics line, every [`STATS_EVERY`].
    fn log_stats(&mut self, stats: &WindowStats) {
        if self.last_stats_log.elapsed() >= STATS_EVERY {
            self.last_stats_log = Instant::now();
            tracing::info!("wayland: {}", self.present_stats(stats));
        }
    }

    /// What the window did, as [`PresentStats`] (the zero-copy / copied
    /// counts from `stats`).
    pub(super) fn present_stats(&self, stats: &WindowStats) -> PresentStats {
        self.pacer.stats(stats.shown_dmabuf, stats.shown_shm)
    }

    /// `Sink::discard_queued`: see [`Pacer::discontinuity`].
    pub(super) fn discontinuity(&mut self) {
        tracing::debug!(
            "wayland: discontinuity (seek): {} commit(s) in flight stay, the frame timeline restarts",
            self.pacer.in_flight()
        );
        self.pacer.discontinuity();
    }

    /// `Sink::lead`: one refresh interval once known.
    pub(super) fn lead(&self) -> Duration {
        self.pacer.lead()
    }

    /// Asks for the answer to the commit about to be made (call right before
    /// `wl_surface.commit`).
    pub(super) fn before_commit(
        &mut self,
        surface: &wl_surface::WlSurface,
        qh: &QueueHandle<State>,
        pts_ns: i64,
        due_ns: i64,
    ) {
        let now = clock_ns(self.clock);
        let id = self.pacer.committed(pts_ns, due_ns, now);
        if let Some(p) = &self.presentation {
            p.feedback(surface, qh, FeedbackFrame(id));
        } else {
            // the callback sctk routes to CompositorHandler::frame (→ frame_callback)
            surface.frame(qh, FrameCallbackData(surface.clone()));
        }
    }
}

/// Pacing at the top of `show`: waits (handling the window's events) until
/// the frame should be committed and returns its due time on the
/// presentation clock, or `None` when it is dropped (counted and logged).
/// `due: None` (unpaced caller) means "now".
pub(super) fn pace(
    win: &mut Window,
    pts_ns: i64,
    due: Option<Instant>,
) -> Result<Option<i64>, PresentError> {
    let state = &mut win.state;
    state.pacing.log_stats(&state.stats);
    let pair = win.state.pacing.now();
    let due_ns = due.map_or(pair.clock_ns, |d| pair.to_clock(d));
    loop {
        let pacing = &mut win.state.pacing;
        let pair = pacing.now();
        for o in pacing.pacer.expire(pair.clock_ns) {
            log_outcome(&o);
        }
        match pacing.pacer.decide(pair.clock_ns, due_ns) {
            Decision::Commit => {
                tracing::trace!(
                    "wayland: pts {pts_ns} ns commit (now {} ns, due {due_ns} ns)",
                    pair.clock_ns
                );
                return Ok(Some(due_ns));
            }
            Decision::Drop(reason) => {
                tracing::trace!(
                    "wayland: pts {pts_ns} ns dropped: {reason:?} (now {} ns, due {due_ns} ns, {} in flight)",
                    pair.clock_ns,
                    pacing.pacer.in_flight()
                );
                win.state.stats.dropped += 1;
                let o = win.state.pacing.pacer.dropped(pts_ns, due_ns, reason);
                log_outcome(&o);
                return Ok(None);
            }
            Decision::WaitUntil(t) => {
                let wait = pair.to_instant(t).saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    return Ok(Some(due_ns));
                }
                win.pump(wait)?;
                if win.state.closed {
                    return Err(PresentError::Closed);
                }
            }
        }
    }
}

/// End of playback: waits (at most [`FINISH_WAIT`], handling the window's
/// events) for every outstanding answer, counts the rest dropped, logs the
/// totals.
pub(super) fn finish(win: &mut Window) -> Result<(), PresentError> {
    win.wait_until(Instant::now() + FINISH_WAIT, |s| {
        s.pacing.pacer.in_flight() == 0
    })?;
    let left = win.state.pacing.pacer.abandon();
    if !left.is_empty() {
        tracing::info!(
            "wayland: {} commit(s) unanswered after {FINISH_WAIT:?}, counted dropped",
            left.len()
        );
    }
    for o in &left {
        log_outcome(o);
    }
    tracing::info!(
        "wayland: {}",
        win.state.pacing.present_stats(&win.state.stats)
    );
    Ok(())
}

impl Dispatch2<wp_presentation::WpPresentation, State> for PresentationData {
    fn event(
        &self,
        state: &mut State,
        _: &wp_presentation::WpPresentation,
        event: wp_presentation::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        if let wp_presentation::Event::ClockId { clk_id } = event {
            let clock = ClockId::from_raw(clk_id as nix::libc::clockid_t);
            match clock_gettime(clock) {
                Ok(_) => state.pacing.clock = clock,
                Err(e) => tracing::warn!(
                    "wayland: wp_presentation clock {clk_id} unreadable ({e}); using CLOCK_MONOTONIC"
                ),
            }
            tracing::debug!("wayland: wp_presentation clock_id {clk_id}");
        }
    }
}

impl Dispatch2<wp_presentation_feedback::WpPresentationFeedback, State> for FeedbackFrame {
    fn event(
        &self,
        state: &mut State,
        _: &wp_presentation_feedback::WpPresentationFeedback,
        event: wp_presentation_feedback::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        use wp_presentation_feedback::Event;
        let o = match event {
            Event::Presented {
                tv_sec_hi,
                tv_sec_lo,
                tv_nsec,
                refresh,
                ..
            } => {
                let sec = (u64::from(tv_sec_hi) << 32) | u64::from(tv_sec_lo);
                let ns = (sec as i64)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(i64::from(tv_nsec));
                state.pacing.pacer.presented(self.0, ns, u64::from(refresh))
            }
            Event::Discarded => state.pacing.pacer.discarded(self.0),
            _ => None,
        };
        if let Some(o) = o {
            log_outcome(&o);
            if o.presented_before_commit() {
                tracing::debug!(
                    "wayland: pts {} ns: the compositor's presentation time {} ns is {:.1} ms before the commit ({} ns): an estimate, not a measurement",
                    o.pts_ns,
                    o.presented_ns.unwrap_or(0),
                    (o.commit_ns.unwrap_or(0) - o.presented_ns.unwrap_or(0)) as f64 / 1e6,
                    o.commit_ns.unwrap_or(0)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;
    const REFRESH_60: u64 = 16_666_667;
    const FRAME_25: i64 = 40 * MS;

    /// A simulated compositor with a 60 Hz vblank grid starting at `phase`:
    /// at each vblank `V` it shows the newest commit made by `V - latch` (its
    /// repaint deadline) — `presented` at `V` — and answers `discarded` to
    /// the older ones it replaced. In a stall no vblank happens at all.
    struct Sim {
        pacer: Pacer,
        phase: i64,
        latch: i64,
        /// commits not answered yet: (id, commit time)
        pending: Vec<(u64, i64)>,
        /// the last vblank handled
        done_until: i64,
        outcomes: Vec<Outcome>,
        shown: u64,
        /// no vblanks in [stall.0, stall.1)
        stall: Option<(i64, i64)>,
    }

    impl Sim {
        fn new(phase: i64) -> Self {
            Sim {
                pacer: Pacer::new(true),
                phase,
                latch: 3 * MS,
                pending: Vec::new(),
                done_until: i64::MIN,
                outcomes: Vec::new(),
                shown: 0,
                stall: None,
            }
        }

        fn vblank_after(&self, t: i64) -> i64 {
            let r = REFRESH_60 as i64;
            self.phase + ((t - self.phase).div_euclid(r) + 1) * r
        }

        /// Runs every vblank up to `now`.
        fn deliver(&mut self, now: i64) {
            let Some(first) = self.pending.iter().map(|p| p.1).min() else {
                return;
            };
            let mut v = self.vblank_after((first + self.latch - 1).max(self.done_until));
            while v <= now && !self.pending.is_empty() {
                self.done_until = v;
                let stalled = self.stall.is_some_and(|(a, b)| v >= a && v < b);
                if !stalled {
                    let (latched, later): (Vec<_>, Vec<_>) =
                        self.pending.iter().partition(|p| p.1 <= v - self.latch);
                    self.pending = later;
                    if let Some((&newest, older)) = latched.split_last() {
                        for &(id, _) in older {
                            self.outcomes.extend(self.pacer.discarded(id));
                        }
                        self.outcomes
                            .extend(self.pacer.presented(newest.0, v, REFRESH_60));
                    }
                }
                v = self.vblank_after(v);
            }
        }

        /// Runs one frame through the pacer as `show` does; `arrive` is when
        /// the player hands it over.
        fn show(&mut self, pts: i64, due: i64, arrive: i64) {
            self.shown += 1;
            let mut now = arrive;
            loop {
                self.deliver(now);
                match self.pacer.decide(now, due) {
                    Decision::Commit => break,
                    Decision::Drop(r) => {
                        let o = self.pacer.dropped(pts, due, r);
                        self.outcomes.push(o);
                        return;
                    }
                    Decision::WaitUntil(t) => {
                        assert!(t > now, "WaitUntil({t}) not after now {now}");
                        now = t;
                    }
                }
            }
            let id = self.pacer.committed(pts, due, now);
            self.pending.push((id, now));
        }

        fn finish(&mut self, now: i64) {
            self.stall = None;
            self.deliver(now + 10_000 * MS);
            self.outcomes.extend(self.pacer.abandon());
        }

        fn count(&self, r: FrameResult) -> u64 {
            self.outcomes.iter().filter(|o| o.result == r).count() as u64
        }
    }

    /// Plays `n` frames at 25 fps starting at `t0`, each handed over `lead` before due
    /// (or at `arrive(i)` when given).
    fn play(sim: &mut Sim, n: i64, t0: i64, arrive: impl Fn(i64, i64) -> i64) {
        for i in 0..n {
            let due = t0 + i * FRAME_25;
            let lead = sim.pacer.lead().as_nanos() as i64;
            sim.show(i * FRAME_25, due, arrive(i, due - lead));
        }
    }

    fn check_invariants(sim: &Sim) {
        let s = sim.pacer.stats(0, 0);
        assert_eq!(s.presented + s.dropped, sim.shown, "{s}");
        assert_eq!(sim.outcomes.len() as u64, sim.shown);
        for o in &sim.outcomes {
            if let Some(p) = o.presented_ns {
                assert!(p >= o.due_ns, "presented {p} before due {}: {o}", o.due_ns);
            }
        }
    }

    #[test]
    fn steady_25fps_on_60hz_no_drops_never_early() {
        for phase in [0, 3 * MS, 11 * MS, 16 * MS] {
            let mut sim = Sim::new(phase);
            play(&mut sim, 250, 1_000 * MS, |_, a| a);
            sim.finish(1_000 * MS + 250 * FRAME_25);
            check_invariants(&sim);
            let s = sim.pacer.stats(0, 0);
            assert_eq!(s.presented, 250, "phase {phase}: {s}");
            assert_eq!(s.dropped, 0, "phase {phase}: {s}");
            // only the first frame (no refresh known yet) may miss its vblank
            assert!(s.late <= 1, "phase {phase}: {s}");
            // once the grid is known every frame shows at the first vblank >= due
            let r = REFRESH_60 as i64;
            for o in sim.outcomes.iter().skip(2) {
                let p = o.presented_ns.expect("presented");
                assert!(p - o.due_ns < r, "phase {phase}: {o}");
            }
        }
    }

    #[test]
    fn commit_target_is_after_the_last_vblank_before_due() {
        let mut p = Pacer::new(true);
        let id = p.committed(0, 0, 0);
        p.presented(id, 100 * MS, REFRESH_60);
        let r = REFRESH_60 as i64;
        for due in [
            100 * MS + 1,
            110 * MS,
            116 * MS,
            117 * MS,
            150 * MS,
            99 * MS,
        ] {
            let t = p.commit_target(due);
            // the first vblank after the commit is the first one at or after due
            let v = p.reach(t);
            assert!(v >= due, "due {due}: target {t} reaches {v}");
            assert!(v - due < r, "due {due}: target {t} reaches {v}");
            assert!(t >= due - r / 2, "due {due}: target {t} too early");
        }
        // a due time exactly on a vblank is reached at that vblank
        let due = 100 * MS + 3 * r;
        assert_eq!(p.reach(p.commit_target(due)), due);
    }

    #[test]
    fn compositor_stall_drops_late_frames_and_keeps_the_clock() {
        let mut sim = Sim::new(2 * MS);
        let t0 = 1_000 * MS;
        // the compositor answers nothing and shows nothing for 300 ms from frame 50
        let stall = (t0 + 50 * FRAME_25, t0 + 50 * FRAME_25 + 300 * MS);
        sim.stall = Some(stall);
        play(&mut sim, 250, t0, |_, a| a);
        sim.finish(t0 + 250 * FRAME_25);
        check_invariants(&sim);
        let s = sim.pacer.stats(0, 0);
        // the frames due in the stall were not shown (discarded: superseded in the queue)
        assert!(s.dropped >= 6, "{s}");
        assert!(s.dropped <= 9, "{s}");
        // after the stall: on time again, at the first vblank at/after due (no drift)
        let r = REFRESH_60 as i64;
        let after: Vec<&Outcome> = sim
            .outcomes
            .iter()
            .filter(|o| o.due_ns >= stall.1 + FRAME_25)
            .collect();
        assert!(after.len() > 150);
        for o in after {
            let p = o.presented_ns.expect("presented after the stall");
            assert!(p >= o.due_ns && p - o.due_ns < r, "{o}");
        }
    }

    #[test]
    fn player_stall_late_frames_are_dropped_not_queued() {
        let mut sim = Sim::new(5 * MS);
        let t0 = 1_000 * MS;
        // the decoder stalls 300 ms before frame 100; frames 100.. arrive in a burst
        let resume = t0 + 100 * FRAME_25 + 300 * MS;
        play(&mut sim, 250, t0, |i, a| {
            if (100..=107).contains(&i) {
                resume + (i - 100) * MS
            } else {
                a
            }
        });
        sim.finish(t0 + 250 * FRAME_25);
        check_invariants(&sim);
        let dropped: Vec<i64> = sim
            .outcomes
            .iter()
            .filter(|o| o.result != FrameResult::Presented)
            .map(|o| o.pts_ns / FRAME_25)
            .collect();
        // frames 100..=106 can reach no vblank before the next one's due: dropped,
        // not queued; 107 (due 20 ms before it arrives) is borderline
        assert!(
            dropped == (100..=106).collect::<Vec<_>>()
                || dropped == (100..=107).collect::<Vec<_>>(),
            "{dropped:?}"
        );
        // from 108 on: at the first vblank at/after the original due time (no drift)
        let r = REFRESH_60 as i64;
        for o in sim.outcomes.iter().filter(|o| o.pts_ns >= 108 * FRAME_25) {
            let p = o.presented_ns.expect("presented");
            assert!(p >= o.due_ns && p - o.due_ns < r, "{o}");
        }
    }

    #[test]
    fn a_silent_compositor_gets_at_most_max_in_flight_commits() {
        // the compositor answers nothing for 3 s (weston under TCG): commits stop at
        // MAX_IN_FLIGHT (each holds a decoder buffer), the rest is dropped in time
        let mut sim = Sim::new(0);
        let t0 = 1_000 * MS;
        sim.stall = Some((t0 + 400 * MS, t0 + 3_400 * MS));
        let mut most = 0;
        for i in 0..150 {
            let due = t0 + i * FRAME_25;
            let lead = sim.pacer.lead().as_nanos() as i64;
            sim.show(i * FRAME_25, due, due - lead);
            most = most.max(sim.pacer.in_flight());
        }
        assert_eq!(most, MAX_IN_FLIGHT);
        sim.finish(t0 + 150 * FRAME_25);
        check_invariants(&sim);
        let s = sim.pacer.stats(0, 0);
        // 3 s at 25 fps: ~75 frames lost, and the frames after the stall are shown
        assert!(s.dropped >= 70 && s.dropped <= 80, "{s}");
        assert!(s.presented >= 70, "{s}");
    }

    #[test]
    fn discarded_feedback_counts_as_dropped() {
        let mut p = Pacer::new(true);
        let a = p.committed(0, 10 * MS, 0);
        let b = p.committed(40 * MS, 50 * MS, MS);
        let o = p.discarded(a).expect("in flight");
        assert_eq!(o.result, FrameResult::Discarded);
        assert!(p.discarded(a).is_none(), "answered twice");
        let o = p.presented(b, 60 * MS, REFRESH_60).expect("in flight");
        assert_eq!(o.presented_ns, Some(60 * MS));
        assert_eq!(o.commit_ns, Some(MS));
        assert!(!o.presented_before_commit());
        assert!(Outcome {
            commit_ns: Some(61 * MS),
            ..o
        }
        .presented_before_commit());
        let s = p.stats(2, 0);
        assert_eq!((s.presented, s.dropped, s.late), (1, 1, 0));
        assert_eq!(
            s.to_string(),
            "presented 1, dropped 1, late 0 (zero-copy 2, copied 0)"
        );
    }

    #[test]
    fn late_presentation_is_counted_late() {
        let mut p = Pacer::new(true);
        let a = p.committed(0, 100 * MS, 90 * MS);
        let b = p.committed(1, 140 * MS, 130 * MS);
        p.presented(a, 110 * MS, REFRESH_60); // 10 ms after due: fine
        let o = p.presented(b, 160 * MS, REFRESH_60).unwrap(); // 20 ms > 16.7 ms
        assert!(o.late);
        assert_eq!(p.counts().late, 1);
    }

    #[test]
    fn fallback_without_refresh_commits_at_due_one_in_flight() {
        let mut p = Pacer::new(false);
        assert_eq!(p.lead(), DEFAULT_LEAD);
        // no grid: wait for due itself
        assert_eq!(p.decide(96 * MS, 100 * MS), Decision::WaitUntil(100 * MS));
        assert_eq!(p.decide(100 * MS, 100 * MS), Decision::Commit);
        p.committed(0, 100 * MS, 100 * MS);
        // next frame while the callback is outstanding: wait (not past its due + interval)
        match p.decide(136 * MS, 140 * MS) {
            Decision::WaitUntil(t) => assert_eq!(t, 180 * MS),
            d => panic!("{d:?}"),
        }
        // the callback comes: commit at due
        let o = p.frame_callback(120 * MS).unwrap();
        assert_eq!(o.result, FrameResult::Presented);
        assert_eq!(p.decide(138 * MS, 140 * MS), Decision::WaitUntil(140 * MS));
        p.committed(1, 140 * MS, 140 * MS);
        // frame 3 finds frame 2's callback still out until it is late: dropped
        assert_eq!(
            p.decide(221 * MS, 180 * MS),
            Decision::Drop(DropReason::Late)
        );
        assert_eq!(
            p.decide(220 * MS, 180 * MS),
            Decision::Drop(DropReason::Superseded)
        );
        p.dropped(2, 180 * MS, DropReason::Superseded);
        // a callback never answered (hidden window) expires
        assert!(p.expire(1_000 * MS).is_empty());
        let gone = p.expire(1_141 * MS);
        assert_eq!(gone.len(), 1);
        let s = p.stats(0, 3);
        assert_eq!((s.presented, s.dropped), (1, 2));
        // feedback hooks are not used in fallback, frame callbacks not with feedback
        let mut q = Pacer::new(true);
        q.committed(0, 0, 0);
        assert!(q.frame_callback(1).is_none());
        assert_eq!(q.in_flight(), 1);
    }

    #[test]
    fn refresh_zero_means_no_grid() {
        let mut p = Pacer::new(true);
        let a = p.committed(0, 100 * MS, 100 * MS);
        p.presented(a, 105 * MS, 0);
        assert_eq!(p.refresh_ns(), None);
        assert_eq!(p.commit_target(140 * MS), 140 * MS);
        assert_eq!(p.lead(), DEFAULT_LEAD);
    }

    #[test]
    fn presented_plus_dropped_equals_shown_for_a_mixed_sequence() {
        // a compositor slower than the stream (latches 30 ms late), a decoder
        // with random hiccups, and a stall: every frame still ends in exactly one count
        let mut seed = 7u64;
        let mut sim = Sim::new(MS);
        sim.latch = 30 * MS;
        let t0 = 500 * MS;
        sim.stall = Some((t0 + 3_000 * MS, t0 + 3_500 * MS));
        let jitter: Vec<i64> = (0..250)
            .map(|_| {
                // xorshift64 (13, 7, 17)
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 90) as i64 * MS
            })
            .collect();
        play(&mut sim, 250, t0, |i, a| {
            if i % 7 == 3 {
                a + jitter[i as usize]
            } else {
                a
            }
        });
        sim.finish(t0 + 250 * FRAME_25);
        check_invariants(&sim);
        let s = sim.pacer.stats(0, 0);
        assert!(s.dropped > 0 && s.presented > 100, "{s}");
        assert_eq!(sim.count(FrameResult::Presented), s.presented);
        assert_eq!(
            sim.count(FrameResult::Dropped) + sim.count(FrameResult::Discarded),
            s.dropped
        );
    }

    #[test]
    fn slow_decoder_still_shows_a_frame_a_second() {
        // every frame arrives 200 ms late: all late, but one a second is shown
        let mut sim = Sim::new(0);
        play(&mut sim, 100, 1_000 * MS, |_, a| a + 200 * MS);
        sim.finish(1_000 * MS + 100 * FRAME_25);
        check_invariants(&sim);
        let s = sim.pacer.stats(0, 0);
        assert!(s.presented >= 3 && s.presented <= 5, "{s}");
        assert_eq!(s.late, s.presented, "{s}");
    }

    #[test]
    fn outcome_line_format() {
        let o = Outcome {
            pts_ns: 40_000_000,
            due_ns: 123,
            result: FrameResult::Presented,
            presented_ns: Some(456),
            refresh_ns: Some(REFRESH_60),
            late: false,
            commit_ns: None,
        };
        assert_eq!(
            o.to_string(),
            "frame pts_ns=40000000 due_ns=123 result=presented presented_ns=456 refresh_ns=16666667"
        );
        let d = Outcome {
            result: FrameResult::Dropped,
            presented_ns: None,
            refresh_ns: None,
            ..o
        };
        assert_eq!(
            d.to_string(),
            "frame pts_ns=40000000 due_ns=123 result=dropped presented_ns=- refresh_ns=-"
        );
    }

    #[test]
    fn clock_pair_round_trips() {
        let pair = ClockPair::now(ClockId::CLOCK_MONOTONIC);
        let later = pair.instant + Duration::from_millis(7);
        assert_eq!(pair.to_clock(later), pair.clock_ns + 7_000_000);
        assert_eq!(pair.to_instant(pair.clock_ns + 7_000_000), later);
        let earlier = pair.instant - Duration::from_millis(3);
        assert_eq!(pair.to_clock(earlier), pair.clock_ns - 3_000_000);
        // CLOCK_MONOTONIC is Instant's clock on Linux: the mapping is (nearly) the identity
        let again = ClockPair::now(ClockId::CLOCK_MONOTONIC);
        let d = again.clock_ns - pair.to_clock(again.instant);
        assert!(d.abs() < 5_000_000, "{d}");
    }

    /// Plays 100 frames, then a seek: the player restarts its timeline with
    /// the first new frame due 5 ms after the last old one, 40 ms apart after.
    fn seek_sim(discontinuity: bool) -> Sim {
        let mut sim = Sim::new(4 * MS);
        let t0 = 1_000 * MS;
        play(&mut sim, 100, t0, |_, a| a);
        if discontinuity {
            sim.pacer.discontinuity();
        }
        let t1 = t0 + 99 * FRAME_25 + 5 * MS;
        for i in 0..50 {
            let due = t1 + i * FRAME_25;
            let lead = sim.pacer.lead().as_nanos() as i64;
            sim.show(5_000 * MS + i * FRAME_25, due, due - lead);
        }
        sim.finish(t1 + 50 * FRAME_25);
        sim
    }

    #[test]
    fn discontinuity_after_a_seek_shows_every_new_frame() {
        let sim = seek_sim(true);
        check_invariants(&sim);
        let s = sim.pacer.stats(0, 0);
        // every frame after the seek is shown; the last one before it may be
        // superseded (the first new frame, due 5 ms later, replaces it
        // before the vblank both reach: discarded by the compositor)
        let lost: Vec<&Outcome> = sim
            .outcomes
            .iter()
            .filter(|o| o.result != FrameResult::Presented)
            .collect();
        assert!(
            lost.iter().all(|o| o.pts_ns == 99 * FRAME_25),
            "{s}: {lost:?}"
        );
        assert!(s.presented >= 149, "{s}");
        // every frame after the seek on time: the first vblank at / after due
        let r = REFRESH_60 as i64;
        for o in sim.outcomes.iter().filter(|o| o.pts_ns >= 5_000 * MS) {
            let p = o.presented_ns.expect("presented");
            assert!(p >= o.due_ns && p - o.due_ns < r, "{o}");
        }
        // without it the first new frame is judged by a 5 ms "frame interval"
        // and dropped as late: what discard_queued is for
        let without = seek_sim(false);
        check_invariants(&without);
        let first_new = without
            .outcomes
            .iter()
            .find(|o| o.pts_ns == 5_000 * MS)
            .expect("first frame after the seek");
        assert_eq!(first_new.result, FrameResult::Dropped, "{first_new}");
    }
}
