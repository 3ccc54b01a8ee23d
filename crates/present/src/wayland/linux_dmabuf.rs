//! The bound `zwp_linux_dmabuf_v1` global (linux-dmabuf-v1.xml) and what
//! the compositor announced through it: v3 `modifier` events, or the v4+
//! default `zwp_linux_dmabuf_feedback_v1` (format table, tranches, `done`)
//! assembled into [`DmabufFormats`]. The tables' parsing is in [`dmabuf`]
//! (pure, tested); this file only receives the events.

use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::{Connection, Proxy, QueueHandle};
use wayland_protocols::wp::linux_dmabuf::zv1::client::{
    zwp_linux_dmabuf_feedback_v1, zwp_linux_dmabuf_v1,
};

use super::dmabuf::{self, DmabufFormats};
use super::state::State;

/// `zwp_linux_dmabuf_v1` (v3–v5) if bound, and the (fourcc, modifier) pairs
/// it announced. Lives in [`State`] so the event handlers reach it.
#[derive(Default)]
pub(super) struct LinuxDmabuf {
    /// The global; `None` when the compositor has none usable or dmabufs
    /// are disabled ([`super::WindowOptions::force_shm`]).
    pub global: Option<zwp_linux_dmabuf_v1::ZwpLinuxDmabufV1>,
    /// What the compositor takes (the last complete feedback, or v3 `modifier`s).
    pub formats: DmabufFormats,
    /// v4 feedback being received: format table and pairs of finished tranches.
    feedback_table: Vec<(u32, u64)>,
    feedback_pairs: Vec<(u32, u64, bool)>,
    /// Pairs of the tranche being received and whether it is flagged `scanout`.
    tranche_pairs: Vec<(u32, u64)>,
    tranche_scanout: bool,
    feedback_main_device: Option<u64>,
    /// A feedback `done` arrived.
    pub feedback_done: bool,
    /// Why a `format_table` could not be read, if it could not.
    pub feedback_error: Option<String>,
}

impl LinuxDmabuf {
    /// Binds `zwp_linux_dmabuf_v1` v3–v5 (v3 sends its `modifier` events
    /// right after the bind); without it (logged at info) [`Self::global`] is `None`.
    pub(super) fn bind(globals: &GlobalList, qh: &QueueHandle<State>) -> Self {
        let global = match globals.bind::<zwp_linux_dmabuf_v1::ZwpLinuxDmabufV1, _, _>(
            qh,
            3..=5,
            DmabufGlobalData,
        ) {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::info!("wayland: no usable zwp_linux_dmabuf_v1 ({e})");
                None
            }
        };
        LinuxDmabuf {
            global,
            ..Default::default()
        }
    }

    /// The bound global is v4 or later (its formats come as feedback).
    pub(super) fn is_v4(&self) -> bool {
        self.global.as_ref().is_some_and(|g| g.version() >= 4)
    }

    /// v4+: asks for the default feedback (`get_default_feedback`); v3 sends
    /// `modifier` events on bind instead, nothing to ask.
    pub(super) fn request_default_feedback(&self, qh: &QueueHandle<State>) {
        if let Some(g) = &self.global {
            if g.version() >= 4 {
                g.get_default_feedback(qh, FeedbackData);
            }
        }
    }

    /// For the "window up" log line: `v<N>` or `absent`.
    pub(super) fn version_text(&self) -> String {
        self.global
            .as_ref()
            .map(|g| format!("v{}", g.version()))
            .unwrap_or_else(|| "absent".into())
    }

    /// One `zwp_linux_dmabuf_feedback_v1` event.
    fn feedback_event(&mut self, event: zwp_linux_dmabuf_feedback_v1::Event) {
        use zwp_linux_dmabuf_feedback_v1::Event;
        match event {
            Event::FormatTable { fd, size } => match dmabuf::read_format_table(fd, size) {
                Ok(t) => self.feedback_table = t,
                Err(e) => self.feedback_error = Some(e),
            },
            Event::MainDevice { device } => {
                self.feedback_main_device = dmabuf::dev_t_from_bytes(&device);
            }
            Event::TrancheFlags { flags } => {
                self.tranche_scanout = flags
                    .into_result()
                    .is_ok_and(|f| f.contains(zwp_linux_dmabuf_feedback_v1::TrancheFlags::Scanout));
            }
            Event::TrancheFormats { indices } => {
                let pairs = dmabuf::tranche_pairs(&self.feedback_table, &indices);
                self.tranche_pairs.extend(pairs);
            }
            Event::TrancheDone => {
                let scanout = std::mem::take(&mut self.tranche_scanout);
                for (f, m) in self.tranche_pairs.drain(..) {
                    self.feedback_pairs.push((f, m, scanout));
                }
            }
            Event::Done => {
                // a new feedback replaces the previous set (linux-dmabuf-v1.xml, `done`)
                self.formats = DmabufFormats::default();
                self.formats.main_device = self.feedback_main_device;
                for (f, m, scanout) in self.feedback_pairs.drain(..) {
                    self.formats.insert_from_tranche(f, m, scanout);
                }
                self.feedback_done = true;
            }
            _ => {}
        }
    }
}

/// User data of the bound `zwp_linux_dmabuf_v1`.
struct DmabufGlobalData;
/// User data of the default `zwp_linux_dmabuf_feedback_v1`.
struct FeedbackData;

impl Dispatch2<zwp_linux_dmabuf_v1::ZwpLinuxDmabufV1, State> for DmabufGlobalData {
    fn event(
        &self,
        state: &mut State,
        proxy: &zwp_linux_dmabuf_v1::ZwpLinuxDmabufV1,
        event: zwp_linux_dmabuf_v1::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        // `format` is superseded by `modifier` from v3 on; v4+ sends neither.
        if let zwp_linux_dmabuf_v1::Event::Modifier {
            format,
            modifier_hi,
            modifier_lo,
        } = event
        {
            if proxy.version() < 4 {
                state.dmabuf.formats.insert(
                    format,
                    (u64::from(modifier_hi) << 32) | u64::from(modifier_lo),
                );
            }
        }
    }
}

impl Dispatch2<zwp_linux_dmabuf_feedback_v1::ZwpLinuxDmabufFeedbackV1, State> for FeedbackData {
    fn event(
        &self,
        state: &mut State,
        _: &zwp_linux_dmabuf_feedback_v1::ZwpLinuxDmabufFeedbackV1,
        event: zwp_linux_dmabuf_feedback_v1::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        state.dmabuf.feedback_event(event);
    }
}
