//! The zero-copy path: choosing the dmabuf format/modifier for a frame and
//! wrapping each CAPTURE buffer in one `wl_buffer` (see the module docs of
//! [`super`] for the protocol flow).

use std::os::fd::AsFd;
use std::time::Instant;

use smithay_client_toolkit::reexports::client::Proxy;
use wayland_protocols::wp::linux_dmabuf::zv1::client::zwp_linux_buffer_params_v1;

use super::*;

impl WaylandSink {
    /// Decides the path for a frame of this format (once per pixel format —
    /// a stream may switch between 8 and 10 bits at a reconfiguration — or
    /// again after a dmabuf failure).
    pub(super) fn choose_path(&mut self, frame: &DecodedFrame) {
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
        match &self.path {
            PathChoice::Dmabuf { modifier } => {
                tracing::info!(
                    "wayland: zero-copy: {name} dmabufs, modifier {modifier:#x}{}",
                    if self
                        .window
                        .state
                        .dmabuf
                        .formats
                        .is_scanout(fourcc, *modifier)
                    {
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

    /// Drops dmabuf wrappers of older configurations (those still on screen go on release).
    pub(super) fn forget_other_generations(&mut self, generation: u64) {
        let stale: Vec<(u64, usize)> = self
            .window
            .state
            .dmabuf_buffers
            .entries
            .keys()
            .filter(|k| k.0 != generation)
            .copied()
            .collect();
        for key in stale {
            let busy = self
                .window
                .state
                .dmabuf_buffers
                .entries
                .get(&key)
                .is_some_and(|e| e.frame.is_some());
            if !busy {
                if let Some(e) = self.window.state.dmabuf_buffers.entries.remove(&key) {
                    self.window
                        .state
                        .dmabuf_buffers
                        .entry_of
                        .remove(&e.buffer.id());
                    e.buffer.destroy();
                }
            }
        }
    }

    /// Zero-copy attach of the whole CAPTURE buffer (`CaptureFormat` width ×
    /// height; [`Attached::source`] is the visible rectangle for the
    /// viewport). The (fourcc, modifier) pair is taken per configuration from
    /// the frame's CAPTURE format ([`dmabuf::choose_dmabuf`]: a SAND128
    /// column height can change with the size), `modifier` being the one the
    /// path was chosen with. `Ok(Err(frame))` hands the frame back for the copy path.
    pub(super) fn attach_dmabuf(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        modifier: u64,
    ) -> Result<Result<Attached, DecodedFrame>, PresentError> {
        let key = (frame.generation, frame.capture_index);
        self.forget_other_generations(frame.generation);
        let (w, h) = (frame.format.width, frame.format.height);
        let (vx, vy, vw, vh) = frame.visible;
        if vx.saturating_add(vw) > w || vy.saturating_add(vh) > h || vw == 0 || vh == 0 {
            self.path = PathChoice::Shm(format!(
                "visible {:?} is not inside the {w}x{h} CAPTURE buffer",
                frame.visible
            ));
            return Ok(Err(frame));
        }
        if !self.window.state.dmabuf_buffers.entries.contains_key(&key) {
            let (fourcc, modifier) = match dmabuf::choose_dmabuf(
                &self.window.state.dmabuf.formats,
                &frame.format,
            ) {
                Ok((f, m)) => {
                    if m != modifier {
                        tracing::debug!("wayland: modifier {m:#x} for this configuration (path chosen with {modifier:#x})");
                    }
                    (f, m)
                }
                Err(why) => {
                    self.path = PathChoice::Shm(why);
                    return Ok(Err(frame));
                }
            };
            let Some(planes) = dmabuf::dmabuf_planes(&frame.format) else {
                self.path = PathChoice::Shm(format!(
                    "CAPTURE layout {:?} cannot be expressed as dmabuf planes",
                    frame.format.planes
                ));
                return Ok(Err(frame));
            };
            let fds = src.dmabufs(&frame);
            if planes.iter().any(|p| p.memory_plane >= fds.len()) {
                self.path = PathChoice::Shm(format!(
                    "decoder exported {} dmabuf(s), planes need memory planes {:?}",
                    fds.len(),
                    planes.iter().map(|p| p.memory_plane).collect::<Vec<_>>()
                ));
                return Ok(Err(frame));
            }
            let Some(global) = self.window.state.dmabuf.global.clone() else {
                return Ok(Err(frame));
            };
            let params = global.create_params(&self.window.qh, ParamsData);
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
            let buffer = if self.dmabuf_immed && self.proven == Some(frame.generation) {
                params.create_immed(
                    w as i32,
                    h as i32,
                    fourcc,
                    flags,
                    &self.window.qh,
                    DmabufBufferData,
                )
            } else {
                params.create(w as i32, h as i32, fourcc, flags);
                let id = params.id();
                let ok = self
                    .window
                    .wait_until(Instant::now() + SETUP_TIMEOUT, |s| {
                        s.dmabuf_buffers.params_answers.contains_key(&id)
                    })?;
                match self.window.state.dmabuf_buffers.params_answers.remove(&id) {
                    Some(ParamsAnswer::Created(b)) => {
                        self.proven = Some(frame.generation);
                        b
                    }
                    answer => {
                        params.destroy();
                        self.path = PathChoice::Shm(if ok && answer.is_some() {
                            "compositor answered zwp_linux_buffer_params_v1.failed".into()
                        } else {
                            format!("no created/failed answer within {SETUP_TIMEOUT:?}")
                        });
                        tracing::warn!(
                            "wayland: dmabuf import refused ({}); falling back to wl_shm copies",
                            match &self.path {
                                PathChoice::Shm(s) => s.as_str(),
                                _ => "",
                            }
                        );
                        return Ok(Err(frame));
                    }
                }
            };
            params.destroy();
            self.window.state.stats.dmabuf_buffers += 1;
            tracing::debug!("wayland: CAPTURE buffer {key:?} -> {}", buffer.id());
            self.window
                .state
                .dmabuf_buffers
                .entry_of
                .insert(buffer.id(), key);
            self.window.state.dmabuf_buffers.entries.insert(
                key,
                DmabufEntry {
                    buffer,
                    frame: None,
                },
            );
        }
        let Some(entry) = self.window.state.dmabuf_buffers.entries.get_mut(&key) else {
            return Ok(Err(frame));
        };
        if entry.frame.is_some() {
            // the compositor still holds this CAPTURE buffer's previous picture: cannot happen
            // while we keep frames until release, but never attach a buffer twice
            tracing::warn!(
                "wayland: CAPTURE buffer {key:?} still held by the compositor; copying instead"
            );
            return Ok(Err(frame));
        }
        let buffer = entry.buffer.clone();
        self.window.video_surface().attach(Some(&buffer), 0, 0);
        let Some(entry) = self.window.state.dmabuf_buffers.entries.get_mut(&key) else {
            return Ok(Err(frame));
        };
        self.window.state.stats.last_pts_ns = Some(frame.pts_ns);
        entry.frame = Some(frame);
        self.window.state.stats.shown_dmabuf += 1;
        self.window.size = Some((w, h));
        Ok(Ok(Attached {
            buffer_size: (w, h),
            source: (vx, vy, vw, vh),
        }))
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
