//! The zero-copy path. [`dmabuf::choose_dmabuf`] maps the frame's CAPTURE
//! format to a DRM (fourcc, modifier) — NV12 / YUV420 / P010 / NV15 with
//! `DRM_FORMAT_MOD_LINEAR` or `DRM_FORMAT_MOD_INVALID`, NC12 → NV12 and
//! NC30 → P030 with `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(h)` — and
//! the path is taken when the compositor announced the pair (v3 `modifier`
//! events or v4+ feedback tranches, see `linux_dmabuf.rs`; the choice is
//! the sink's). Each CAPTURE buffer (key:
//! [`DecodedFrame::generation`], [`DecodedFrame::capture_index`]) is wrapped
//! once, whole (its allocated size; the visible rectangle goes to the
//! viewport as [`Attached::source`]), in a `wl_buffer`
//! (`zwp_linux_buffer_params_v1.add` per plane with the fd
//! `FrameSource::dmabufs(frame)[plane.memory_plane]`; the (fourcc,
//! modifier) pair from [`dmabuf::choose_dmabuf`], the planes from
//! [`dmabuf::dmabuf_planes`]).
//!
//! The first buffer of a configuration is created with the asynchronous
//! `create` and its `created`/`failed` answer awaited: `failed` switches
//! this window to the copy path (a `create_immed` failure would instead be a
//! fatal protocol error). Once one buffer was accepted, the rest use
//! `create_immed` ([`super::WindowOptions::dmabuf_immed`]). The [`DecodedFrame`] is
//! kept until the compositor sends `wl_buffer.release`, and only then
//! dropped — which is what gives the CAPTURE buffer back to the decoder.
//! Nothing ever writes into a buffer the compositor holds.
//!
//! [`ZeroCopy`] (owned by the sink) makes the `wl_buffer`s and attaches
//! them; [`DmabufBuffers`] (in [`State`], where the release handler reaches
//! it) keeps them with the frame each one shows.

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::time::Instant;

use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::reexports::client::backend::ObjectId;
use smithay_client_toolkit::reexports::client::protocol::wl_buffer;
use smithay_client_toolkit::reexports::client::{Connection, Proxy, QueueHandle};
use vreq_frame::DecodedFrame;
use wayland_protocols::wp::linux_dmabuf::zv1::client::zwp_linux_buffer_params_v1;

use super::dmabuf;
use super::state::State;
use super::window::{Attached, Window, SETUP_TIMEOUT};
use crate::{FrameSource, PresentError};

/// A frame the zero-copy path did not take, handed back for the copy path.
pub(super) struct Refused {
    pub frame: DecodedFrame,
    /// Why dmabufs cannot be used from now on (the sink switches to the copy
    /// path); `None`: only this frame is copied.
    pub why: Option<String>,
}

/// The zero-copy path: wraps CAPTURE buffers as `wl_buffer`s and attaches
/// them (see the module docs).
pub(super) struct ZeroCopy {
    /// After the first accepted import, use `create_immed` ([`super::WindowOptions::dmabuf_immed`]).
    immed: bool,
    /// Generation whose dmabuf import the compositor accepted (`created`).
    proven: Option<u64>,
}

impl ZeroCopy {
    /// `immed`: [`super::WindowOptions::dmabuf_immed`].
    pub(super) fn new(immed: bool) -> Self {
        ZeroCopy {
            immed,
            proven: None,
        }
    }

    /// Zero-copy attach of the whole CAPTURE buffer (`CaptureFormat` width ×
    /// height; [`Attached::source`] is the visible rectangle for the
    /// viewport) to the window's video surface. The (fourcc, modifier) pair
    /// is taken per configuration from the frame's CAPTURE format
    /// ([`dmabuf::choose_dmabuf`]: a SAND128 column height can change with
    /// the size), `modifier` being the one the path was chosen with.
    /// `Ok(Err(_))` hands the frame back for the copy path.
    pub(super) fn attach(
        &mut self,
        win: &mut Window,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        modifier: u64,
    ) -> Result<Result<Attached, Refused>, PresentError> {
        let key = (frame.generation, frame.capture_index);
        win.state
            .dmabuf_buffers
            .forget_other_generations(frame.generation);
        let (w, h) = (frame.format.width, frame.format.height);
        let (vx, vy, vw, vh) = frame.visible;
        if vx.saturating_add(vw) > w || vy.saturating_add(vh) > h || vw == 0 || vh == 0 {
            let why = format!(
                "visible {:?} is not inside the {w}x{h} CAPTURE buffer",
                frame.visible
            );
            return Ok(Err(Refused {
                frame,
                why: Some(why),
            }));
        }
        if !win.state.dmabuf_buffers.entries.contains_key(&key) {
            let buffer = match self.import(win, &frame, src, modifier)? {
                Ok(b) => b,
                Err(why) => return Ok(Err(Refused { frame, why })),
            };
            win.state.stats.dmabuf_buffers += 1;
            tracing::debug!("wayland: CAPTURE buffer {key:?} -> {}", buffer.id());
            let buffers = &mut win.state.dmabuf_buffers;
            buffers.entry_of.insert(buffer.id(), key);
            buffers.entries.insert(
                key,
                DmabufEntry {
                    buffer,
                    frame: None,
                },
            );
        }
        let refused = |frame| Ok(Err(Refused { frame, why: None }));
        let Some(entry) = win.state.dmabuf_buffers.entries.get_mut(&key) else {
            return refused(frame);
        };
        if entry.frame.is_some() {
            // the compositor still holds this CAPTURE buffer's previous picture: cannot happen
            // while we keep frames until release, but never attach a buffer twice
            tracing::warn!(
                "wayland: CAPTURE buffer {key:?} still held by the compositor; copying instead"
            );
            return refused(frame);
        }
        let buffer = entry.buffer.clone();
        win.video_surface().attach(Some(&buffer), 0, 0);
        let Some(entry) = win.state.dmabuf_buffers.entries.get_mut(&key) else {
            return refused(frame);
        };
        win.state.stats.last_pts_ns = Some(frame.pts_ns);
        entry.frame = Some(frame);
        win.state.stats.shown_dmabuf += 1;
        win.size = Some((w, h));
        Ok(Ok(Attached {
            buffer_size: (w, h),
            source: (vx, vy, vw, vh),
        }))
    }

    /// Wraps `frame`'s CAPTURE buffer in a new `wl_buffer`
    /// (`zwp_linux_buffer_params_v1`: one `add` per plane, then
    /// `create_immed`, or `create` and waiting for `created` / `failed` —
    /// at most [`SETUP_TIMEOUT`] — until a generation was accepted).
    /// `Ok(Err(why))`: not possible; `why` (if any) says why dmabufs cannot
    /// be used from now on.
    fn import(
        &mut self,
        win: &mut Window,
        frame: &DecodedFrame,
        src: &dyn FrameSource,
        modifier: u64,
    ) -> Result<Result<wl_buffer::WlBuffer, Option<String>>, PresentError> {
        let (w, h) = (frame.format.width, frame.format.height);
        let (fourcc, modifier) = match dmabuf::choose_dmabuf(
            &win.state.dmabuf.formats,
            &frame.format,
        ) {
            Ok((f, m)) => {
                if m != modifier {
                    tracing::debug!("wayland: modifier {m:#x} for this configuration (path chosen with {modifier:#x})");
                }
                (f, m)
            }
            Err(why) => return Ok(Err(Some(why))),
        };
        let Some(planes) = dmabuf::dmabuf_planes(&frame.format) else {
            return Ok(Err(Some(format!(
                "CAPTURE layout {:?} cannot be expressed as dmabuf planes",
                frame.format.planes
            ))));
        };
        let fds = src.dmabufs(frame);
        if planes.iter().any(|p| p.memory_plane >= fds.len()) {
            return Ok(Err(Some(format!(
                "decoder exported {} dmabuf(s), planes need memory planes {:?}",
                fds.len(),
                planes.iter().map(|p| p.memory_plane).collect::<Vec<_>>()
            ))));
        }
        let Some(global) = win.state.dmabuf.global.clone() else {
            return Ok(Err(None));
        };
        let params = global.create_params(&win.qh, ParamsData);
        for (i, p) in planes.iter().enumerate() {
            params.add(
                fds[p.memory_plane].as_fd(),
                i as u32,
                p.offset,
                p.stride,
                (modifier >> 32) as u32,
                modifier as u32,
            );
        }
        drop(fds);
        let flags = zwp_linux_buffer_params_v1::Flags::empty();
        let buffer = if self.immed && self.proven == Some(frame.generation) {
            params.create_immed(w as i32, h as i32, fourcc, flags, &win.qh, DmabufBufferData)
        } else {
            params.create(w as i32, h as i32, fourcc, flags);
            let id = params.id();
            let ok = win.wait_until(Instant::now() + SETUP_TIMEOUT, |s| {
                s.dmabuf_buffers.params_answers.contains_key(&id)
            })?;
            match win.state.dmabuf_buffers.params_answers.remove(&id) {
                Some(ParamsAnswer::Created(b)) => {
                    self.proven = Some(frame.generation);
                    b
                }
                answer => {
                    params.destroy();
                    let why = if ok && answer.is_some() {
                        "compositor answered zwp_linux_buffer_params_v1.failed".to_string()
                    } else {
                        format!("no created/failed answer within {SETUP_TIMEOUT:?}")
                    };
                    tracing::warn!(
                        "wayland: dmabuf import refused ({why}); falling back to wl_shm copies"
                    );
                    return Ok(Err(Some(why)));
                }
            }
        };
        params.destroy();
        Ok(Ok(buffer))
    }
}

/// One CAPTURE buffer wrapped in a `wl_buffer`.
struct DmabufEntry {
    buffer: wl_buffer::WlBuffer,
    /// The frame on (or queued to) screen in this buffer, dropped on `release`.
    frame: Option<DecodedFrame>,
}

/// Pending answer to an asynchronous `zwp_linux_buffer_params_v1.create`.
enum ParamsAnswer {
    Created(wl_buffer::WlBuffer),
    Failed,
}

/// The CAPTURE buffers wrapped as dmabuf `wl_buffer`s, keyed by
/// ([`DecodedFrame::generation`], [`DecodedFrame::capture_index`]), with
/// the frame each one shows until its `wl_buffer.release`. Lives in
/// [`State`] so the release handler reaches it.
#[derive(Default)]
pub(super) struct DmabufBuffers {
    params_answers: HashMap<ObjectId, ParamsAnswer>,
    entries: HashMap<(u64, usize), DmabufEntry>,
    /// wl_buffer id → entry key.
    entry_of: HashMap<ObjectId, (u64, usize)>,
}

impl DmabufBuffers {
    /// Decoded frames committed and not yet released by the compositor.
    pub(super) fn held(&self) -> usize {
        self.entries.values().filter(|e| e.frame.is_some()).count()
    }

    /// Drops the wrappers of other configurations than `generation` (those
    /// still on screen go on their release).
    fn forget_other_generations(&mut self, generation: u64) {
        let stale: Vec<(u64, usize)> = self
            .entries
            .keys()
            .filter(|k| k.0 != generation)
            .copied()
            .collect();
        for key in stale {
            let busy = self.entries.get(&key).is_some_and(|e| e.frame.is_some());
            if !busy {
                if let Some(e) = self.entries.remove(&key) {
                    self.entry_of.remove(&e.buffer.id());
                    e.buffer.destroy();
                }
            }
        }
    }

    /// Destroys every wrapper (`wl_buffer.destroy`) and drops the frames they held.
    pub(super) fn destroy_all(&mut self) {
        for (_, e) in self.entries.drain() {
            e.buffer.destroy();
        }
    }
}

/// User data of `zwp_linux_buffer_params_v1` objects.
pub(super) struct ParamsData;
/// User data of dmabuf `wl_buffer`s (looked up by id in `DmabufBuffers::entry_of`).
struct DmabufBufferData;

impl Dispatch2<zwp_linux_buffer_params_v1::ZwpLinuxBufferParamsV1, State> for ParamsData {
    fn event(
        &self,
        state: &mut State,
        proxy: &zwp_linux_buffer_params_v1::ZwpLinuxBufferParamsV1,
        event: zwp_linux_buffer_params_v1::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        match event {
            zwp_linux_buffer_params_v1::Event::Created { buffer } => {
                state
                    .dmabuf_buffers
                    .params_answers
                    .insert(proxy.id(), ParamsAnswer::Created(buffer));
            }
            zwp_linux_buffer_params_v1::Event::Failed => {
                state
                    .dmabuf_buffers
                    .params_answers
                    .insert(proxy.id(), ParamsAnswer::Failed);
            }
            _ => {}
        }
    }

    smithay_client_toolkit::reexports::client::event_created_child!(State, zwp_linux_buffer_params_v1::ZwpLinuxBufferParamsV1, [
        zwp_linux_buffer_params_v1::EVT_CREATED_OPCODE => (wl_buffer::WlBuffer, DmabufBufferData)
    ]);
}

impl Dispatch2<wl_buffer::WlBuffer, State> for DmabufBufferData {
    fn event(
        &self,
        state: &mut State,
        proxy: &wl_buffer::WlBuffer,
        event: wl_buffer::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        if let wl_buffer::Event::Release = event {
            state.stats.dmabuf_releases += 1;
            tracing::debug!("wayland: release {}", proxy.id());
            let buffers = &mut state.dmabuf_buffers;
            if let Some(key) = buffers.entry_of.get(&proxy.id()) {
                if let Some(e) = buffers.entries.get_mut(key) {
                    // dropping the frame gives the CAPTURE buffer back to the decoder
                    e.frame = None;
                }
            }
        }
    }
}
