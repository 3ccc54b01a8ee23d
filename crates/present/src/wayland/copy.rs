//! The copy path ([`CopyPath`]): frames the compositor cannot take as
//! dmabufs (or all frames with `--hwdec-copy` /
//! [`super::WindowOptions::force_shm`], which skips `zwp_linux_dmabuf_v1`)
//! are converted on the CPU; the frame is dropped right after the copy.
//!
//! What happens to a frame is a [`Plan`], chosen once per pixel format by
//! [`fallback_plan`] from what the compositor offers:
//! * **linear decoder formats** (NV12, YUV420, P010): converted to
//!   `wl_shm` XRGB8888 ([`vreq_frame::convert::to_xrgb8888`] with the
//!   frame's colour description, `DecodedFrame::color`: the stream's matrix
//!   and range, else BT.601 limited range below 720 lines, BT.709 from 720);
//! * **packed / tiled formats** (NC12, NC30, NV15) are first unpacked from
//!   (0, 0) to the visible right / bottom edge by
//!   [`vreq_frame::convert::unpack`] (which uses [`vreq_frame::detile`]):
//!   1. into a **linear dmabuf** (NV12 or P010, `DRM_FORMAT_MOD_LINEAR` /
//!      implicit, whichever the compositor announces; 10-bit sources prefer
//!      P010) from [`vreq_frame::dmaheap`] — a pool of [`COPY_DMABUFS`]
//!      buffers, each wrapped once in a `wl_buffer` and written again only
//!      after its `wl_buffer.release`;
//!   2. else into a `wl_shm` **NV12** buffer when `wl_shm` lists NV12
//!      (Y plane, then the CbCr plane at `stride · height` with the same
//!      stride: the implicit layout compositors use for multi-planar shm
//!      formats, e.g. weston's renderers; unverified beyond weston);
//!   3. else to P010 / NV12 in memory and then XRGB8888 `wl_shm`.
//!
//!   In 1 and 2 the buffer is the unpacked size and [`Attached::source`] is
//!   the visible rectangle inside it (the viewport crops); in 3 the buffer is
//!   the visible size.
//!
//! Every frame shown through this path counts in [`super::WindowStats::shown_shm`]
//! (the "copied" count), whatever the buffer type.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::reexports::client::protocol::{wl_buffer, wl_shm};
use smithay_client_toolkit::reexports::client::{Connection, Proxy, QueueHandle};
use smithay_client_toolkit::shm::slot::{Buffer, SlotPool};
use smithay_client_toolkit::shm::Shm;
use vreq_frame::convert::{to_xrgb8888, unpack, ColorInfo, LinearFrame};
use vreq_frame::detile::LinearDst;
use vreq_frame::{DecodedFrame, PixelFormat, PlanesRef};
use wayland_protocols::wp::linux_dmabuf::zv1::client::zwp_linux_buffer_params_v1;

use super::dmabuf::{self, DmabufFormats};
use super::event_loop::wl_err;
use super::state::State;
use super::window::{Attached, Window};
use super::zero_copy::ParamsData;
use crate::{FrameSource, PresentError};
use vreq_frame::dmaheap::DmaBuf;

/// Most `wl_shm` buffers the copy path allocates (one on screen, one queued, one being filled).
pub const SHM_BUFFERS: usize = 3;

/// Linear dmabufs the copy path keeps (one on screen, one queued, one being filled).
pub const COPY_DMABUFS: usize = 3;

/// What the copy path does with frames of one pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Unpack into a linear dmabuf of this format (NV12 or P010).
    LinearDmabuf(PixelFormat),
    /// Unpack into a `wl_shm` NV12 buffer (10-bit sources keep their 8 high bits).
    ShmNv12,
    /// Convert to `wl_shm` XRGB8888 from the frame (linear formats, `via` =
    /// the frame's format) or after unpacking it to `via` (NV12 / P010).
    ShmXrgb { via: PixelFormat },
}

/// The copy path's plan for frames of `pf`, given the `wl_shm` formats and —
/// when linear dmabufs can be allocated and the compositor has
/// `zwp_linux_dmabuf_v1` — the (fourcc, modifier) pairs it announced (see
/// the module docs for the order). Pure: tested for every case.
pub fn fallback_plan(
    pf: PixelFormat,
    shm_formats: &[wl_shm::Format],
    dmabuf: Option<&DmabufFormats>,
) -> Plan {
    if !pf.is_packed_or_tiled() {
        return Plan::ShmXrgb { via: pf };
    }
    let targets: &[PixelFormat] = if pf.bit_depth() > 8 {
        &[PixelFormat::P010, PixelFormat::Nv12]
    } else {
        &[PixelFormat::Nv12]
    };
    if let Some(formats) = dmabuf {
        if let Some(t) = targets
            .iter()
            .find(|t| dmabuf::takes_linear(formats, t.drm_fourcc()))
        {
            return Plan::LinearDmabuf(*t);
        }
    }
    if shm_formats.contains(&wl_shm::Format::Nv12) {
        return Plan::ShmNv12;
    }
    Plan::ShmXrgb { via: pf.unpacked() }
}

/// A linear dmabuf of the pool, wrapped once in a `wl_buffer`.
struct CopyDmabuf {
    mem: DmaBuf,
    buffer: wl_buffer::WlBuffer,
    /// Attached and not yet released by the compositor.
    busy: Arc<AtomicBool>,
}

/// User data of the copy path's dmabuf `wl_buffer`s: cleared on `release`.
pub(super) struct CopyBufferData(Arc<AtomicBool>);

impl Dispatch2<wl_buffer::WlBuffer, State> for CopyBufferData {
    fn event(
        &self,
        _: &mut State,
        _: &wl_buffer::WlBuffer,
        event: wl_buffer::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        if let wl_buffer::Event::Release = event {
            self.0.store(false, Ordering::Release);
        }
    }
}

/// The copy path (see the module docs): the plan per pixel format, the
/// unpack scratch, the linear dmabuf pool and the `wl_shm` buffers. Owned
/// by the sink; frames are attached to the [`Window`]'s video surface.
pub(super) struct CopyPath {
    /// Never use `zwp_linux_dmabuf_v1` ([`super::WindowOptions::force_shm`]).
    force_shm: bool,
    /// The plan and the pixel format it was made for.
    plan: Option<(PixelFormat, Plan)>,
    /// Why linear dmabufs cannot be used (allocation or import failed), once known.
    no_dmabuf: Option<String>,
    scratch: LinearFrame,
    /// Format and size (pixels) of the linear dmabufs.
    dmabufs_key: Option<(PixelFormat, u32, u32)>,
    /// The linear dmabuf pool (at most [`COPY_DMABUFS`]).
    dmabufs: Vec<CopyDmabuf>,
    /// Format and size of the current `wl_shm` buffers.
    shm_key: Option<(wl_shm::Format, u32, u32)>,
    /// The `wl_shm` pool, made at the first `wl_shm` copy.
    shm_pool: Option<SlotPool>,
    /// The `wl_shm` buffers (at most [`SHM_BUFFERS`]).
    shm_buffers: Vec<Buffer>,
}

impl Drop for CopyPath {
    fn drop(&mut self) {
        self.drop_dmabufs();
    }
}

/// Row stride of the linear buffers we fill, bytes: 256-aligned (what GPU
/// importers commonly require of linear surfaces).
fn linear_stride(width: u32, pf: PixelFormat) -> usize {
    (width as usize * pf.sample_bytes()).next_multiple_of(256)
}

impl CopyPath {
    /// `force_shm`: [`super::WindowOptions::force_shm`] (no linear dmabufs either).
    pub(super) fn new(force_shm: bool) -> Self {
        CopyPath {
            force_shm,
            plan: None,
            no_dmabuf: None,
            scratch: LinearFrame::default(),
            dmabufs_key: None,
            dmabufs: Vec::new(),
            shm_key: None,
            shm_pool: None,
            shm_buffers: Vec::new(),
        }
    }

    fn drop_dmabufs(&mut self) {
        for b in self.dmabufs.drain(..) {
            b.buffer.destroy();
        }
        self.dmabufs_key = None;
    }

    /// The plan for frames of `pf` (made once per pixel format, again after
    /// linear dmabufs failed).
    fn copy_plan(&mut self, win: &Window, pf: PixelFormat) -> Plan {
        if let Some((f, p)) = self.plan {
            if f == pf {
                return p;
            }
        }
        let dmabuf_ok =
            !self.force_shm && win.state.dmabuf.global.is_some() && self.no_dmabuf.is_none();
        let plan = fallback_plan(
            pf,
            win.state.shm.formats(),
            dmabuf_ok.then_some(&win.state.dmabuf.formats),
        );
        tracing::info!("wayland: copy path for {pf:?} frames: {plan:?}");
        self.plan = Some((pf, plan));
        plan
    }

    /// Copy attach to the window's video surface: the frame goes through
    /// its [`Plan`] and is dropped once copied. `Ok(None)`: no free buffer,
    /// the frame is dropped (counted in [`super::WindowStats::dropped`]).
    pub(super) fn attach(
        &mut self,
        win: &mut Window,
        frame: DecodedFrame,
        src: &dyn FrameSource,
    ) -> Result<Option<Attached>, PresentError> {
        let pf = frame.format.pixel_format;
        let mut plan = self.copy_plan(win, pf);
        if let Plan::LinearDmabuf(t) = plan {
            // The frame is read here (its CAPTURE buffer mapped on the first
            // read): a failure to read it is the frame's error, not the
            // dmabuf pool's.
            let planes = src.planes(&frame)?;
            match self.attach_linear_dmabuf(win, &frame, &planes, t) {
                Ok(a) => {
                    if a.is_some() {
                        win.state.stats.last_pts_ns = Some(frame.pts_ns);
                        win.state.stats.shown_shm += 1;
                    } else {
                        win.state.stats.dropped += 1;
                    }
                    return Ok(a);
                }
                Err(why) => {
                    tracing::warn!(
                        "wayland: linear dmabuf copies unavailable ({why}); using wl_shm"
                    );
                    self.no_dmabuf = Some(why);
                    self.plan = None;
                    self.drop_dmabufs();
                    plan = self.copy_plan(win, pf);
                }
            }
        }
        match plan {
            Plan::ShmNv12 => self.attach_shm_nv12(win, frame, src),
            Plan::ShmXrgb { via } if via != pf => {
                let planes = src.planes(&frame)?;
                self.scratch
                    .unpack_from(&planes, via)
                    .map_err(|e| PresentError::Io(format!("frame pts {} ns: {e}", frame.pts_ns)))?;
                let pts = frame.pts_ns;
                let visible = frame.visible;
                let color = frame.color;
                drop(frame);
                let scratch = std::mem::take(&mut self.scratch);
                let r = match scratch.planes(visible) {
                    Some(p) => self.attach_xrgb(win, &p, pts, color),
                    None => Err(PresentError::Io(format!(
                        "frame pts {pts} ns: visible {visible:?} outside the unpacked picture"
                    ))),
                };
                self.scratch = scratch;
                r
            }
            _ => {
                let planes = src.planes(&frame)?;
                let pts = frame.pts_ns;
                let r = self.attach_xrgb(win, &planes, pts, frame.color);
                drop(frame);
                r
            }
        }
    }

    /// Unpacks into a free buffer of the linear dmabuf pool and attaches it.
    /// `Ok(None)`: every buffer is still held by the compositor. `Err`: the
    /// pool cannot work here (allocation / import refused), with the reason.
    fn attach_linear_dmabuf(
        &mut self,
        win: &mut Window,
        frame: &DecodedFrame,
        planes: &PlanesRef<'_>,
        target: PixelFormat,
    ) -> Result<Option<Attached>, String> {
        let (w, h) = (planes.width, planes.height);
        if w == 0
            || h == 0
            || w > vreq_frame::convert::MAX_UNPACK_SIDE
            || h > vreq_frame::convert::MAX_UNPACK_SIDE
        {
            return Err(format!("cannot unpack a {w}x{h} picture"));
        }
        let (bw, bh) = (w.next_multiple_of(2), h.next_multiple_of(2));
        let stride = linear_stride(bw, target);
        let y_len = stride * bh as usize;
        let len = y_len + stride * (bh as usize / 2);
        if self.dmabufs_key != Some((target, bw, bh)) {
            self.drop_dmabufs();
            self.dmabufs_key = Some((target, bw, bh));
        }
        let idx = match self
            .dmabufs
            .iter()
            .position(|b| !b.busy.load(Ordering::Acquire))
        {
            Some(i) => i,
            None if self.dmabufs.len() < COPY_DMABUFS => {
                let mem = DmaBuf::alloc(len)?;
                let global = win
                    .state
                    .dmabuf
                    .global
                    .clone()
                    .ok_or("no zwp_linux_dmabuf_v1")?;
                let fourcc = target.drm_fourcc();
                let modifier = win
                    .state
                    .dmabuf
                    .formats
                    .linear_modifier(fourcc)
                    .ok_or("the compositor does not take it linear")?;
                let params = global.create_params(&win.qh, ParamsData);
                for offset in [0, y_len] {
                    params.add(
                        mem.fd(),
                        if offset == 0 { 0 } else { 1 },
                        offset as u32,
                        stride as u32,
                        (modifier >> 32) as u32,
                        modifier as u32,
                    );
                }
                let busy = Arc::new(AtomicBool::new(false));
                // the compositor announced this (fourcc, modifier) pair: create_immed
                let buffer = params.create_immed(
                    bw as i32,
                    bh as i32,
                    fourcc,
                    zwp_linux_buffer_params_v1::Flags::empty(),
                    &win.qh,
                    CopyBufferData(busy.clone()),
                );
                params.destroy();
                tracing::debug!(
                    "wayland: copy dmabuf {} ({:?}, {len} bytes, {target:?} {bw}x{bh})",
                    buffer.id(),
                    mem.allocator
                );
                self.dmabufs.push(CopyDmabuf { mem, buffer, busy });
                self.dmabufs.len() - 1
            }
            None => return Ok(None),
        };
        let b = &mut self.dmabufs[idx];
        let result = b.mem.write_with(|bytes| {
            let (y, uv) = bytes.split_at_mut(y_len);
            unpack(
                planes,
                target,
                &mut LinearDst {
                    y,
                    y_stride: stride,
                    uv,
                    uv_stride: stride,
                },
            )
        })?;
        result.map_err(|e| format!("frame pts {} ns: {e}", frame.pts_ns))?;
        b.busy.store(true, Ordering::Release);
        let buffer = b.buffer.clone();
        win.video_surface().attach(Some(&buffer), 0, 0);
        win.size = Some((bw, bh));
        let (vx, vy, vw, vh) = frame.visible;
        Ok(Some(Attached {
            buffer_size: (bw, bh),
            source: (vx, vy, vw.min(bw - vx.min(bw)), vh.min(bh - vy.min(bh))),
        }))
    }

    /// Finds (or makes, from `shm`) a free `wl_shm` buffer of `format`, `w`
    /// × `h` pixels, `stride` bytes per row and `len` bytes. `None`: all busy.
    fn free_shm_buffer(
        &mut self,
        shm: &Shm,
        format: wl_shm::Format,
        (w, h): (u32, u32),
        stride: usize,
        len: usize,
    ) -> Result<Option<usize>, PresentError> {
        if self.shm_key != Some((format, w, h)) {
            self.shm_buffers.clear();
            self.shm_key = Some((format, w, h));
        }
        if self.shm_pool.is_none() {
            self.shm_pool = Some(SlotPool::new(len, shm).map_err(|e| wl_err("wl_shm pool", e))?);
        }
        let pool = self.shm_pool.as_mut().expect("set above");
        if let Some(i) = self
            .shm_buffers
            .iter()
            .position(|b| b.slot().canvas(pool).is_some())
        {
            return Ok(Some(i));
        }
        if self.shm_buffers.len() >= SHM_BUFFERS {
            return Ok(None);
        }
        let slot = pool.new_slot(len).map_err(|e| wl_err("wl_shm slot", e))?;
        let b = pool
            .create_buffer_in(&slot, w as i32, h as i32, stride as i32, format)
            .map_err(|e| wl_err("wl_shm buffer", e))?;
        self.shm_buffers.push(b);
        Ok(Some(self.shm_buffers.len() - 1))
    }

    /// Unpacks a packed / tiled frame straight into a `wl_shm` NV12 buffer.
    fn attach_shm_nv12(
        &mut self,
        win: &mut Window,
        frame: DecodedFrame,
        src: &dyn FrameSource,
    ) -> Result<Option<Attached>, PresentError> {
        let planes = src.planes(&frame)?;
        let (w, h) = (planes.width, planes.height);
        if w == 0 || h == 0 || w > 16384 || h > 16384 {
            return Err(PresentError::Io(format!(
                "frame pts {} ns: cannot show a {w}x{h} picture",
                frame.pts_ns
            )));
        }
        let (bw, bh) = (w.next_multiple_of(2), h.next_multiple_of(2));
        let stride = bw as usize;
        let y_len = stride * bh as usize;
        let len = y_len + y_len / 2;
        let Some(idx) =
            self.free_shm_buffer(&win.state.shm, wl_shm::Format::Nv12, (bw, bh), stride, len)?
        else {
            win.state.stats.dropped += 1;
            return Ok(None);
        };
        let pool = self.shm_pool.as_mut().expect("made by free_shm_buffer");
        let buffer = &self.shm_buffers[idx];
        let canvas = buffer
            .slot()
            .canvas(pool)
            .ok_or_else(|| PresentError::Wayland("wl_shm buffer busy".into()))?;
        let (y, uv) = canvas[..len].split_at_mut(y_len);
        unpack(
            &planes,
            PixelFormat::Nv12,
            &mut LinearDst {
                y,
                y_stride: stride,
                uv,
                uv_stride: stride,
            },
        )
        .map_err(|e| PresentError::Io(format!("frame pts {} ns: {e}", frame.pts_ns)))?;
        let (vx, vy, vw, vh) = frame.visible;
        win.state.stats.last_pts_ns = Some(frame.pts_ns);
        drop(frame);
        buffer
            .attach_to(win.video_surface())
            .map_err(|e| wl_err("attach", e))?;
        win.state.stats.shown_shm += 1;
        win.size = Some((bw, bh));
        Ok(Some(Attached {
            buffer_size: (bw, bh),
            source: (vx, vy, vw.min(bw - vx.min(bw)), vh.min(bh - vy.min(bh))),
        }))
    }

    /// Converts linear `planes` (visible size) into a `wl_shm` XRGB8888 buffer.
    fn attach_xrgb(
        &mut self,
        win: &mut Window,
        planes: &PlanesRef<'_>,
        pts_ns: i64,
        color: ColorInfo,
    ) -> Result<Option<Attached>, PresentError> {
        let (w, h) = (planes.width, planes.height);
        if w == 0 || h == 0 || w > 16384 || h > 16384 {
            return Err(PresentError::Io(format!(
                "frame pts {pts_ns} ns: cannot show a {w}x{h} picture"
            )));
        }
        let stride = w as usize * 4;
        let len = stride * h as usize;
        let Some(idx) = self.free_shm_buffer(
            &win.state.shm,
            wl_shm::Format::Xrgb8888,
            (w, h),
            stride,
            len,
        )?
        else {
            win.state.stats.dropped += 1;
            return Ok(None);
        };
        let pool = self.shm_pool.as_mut().expect("made by free_shm_buffer");
        let buffer = &self.shm_buffers[idx];
        let canvas = buffer
            .slot()
            .canvas(pool)
            .ok_or_else(|| PresentError::Wayland("wl_shm buffer busy".into()))?;
        to_xrgb8888(planes, color, &mut canvas[..len], stride)
            .map_err(|e| PresentError::Io(format!("frame pts {pts_ns} ns: {e}")))?;
        win.state.stats.last_pts_ns = Some(pts_ns);
        buffer
            .attach_to(win.video_surface())
            .map_err(|e| wl_err("attach", e))?;
        win.state.stats.shown_shm += 1;
        win.size = Some((w, h));
        Ok(Some(Attached {
            buffer_size: (w, h),
            source: (0, 0, w, h),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmabuf::{DRM_FORMAT_MOD_INVALID, DRM_FORMAT_MOD_LINEAR};

    fn pairs(list: &[(&[u8; 4], u64)]) -> DmabufFormats {
        let mut f = DmabufFormats::default();
        for (c, m) in list {
            f.insert(u32::from_le_bytes(**c), *m);
        }
        f
    }

    const XRGB: &[wl_shm::Format] = &[wl_shm::Format::Argb8888, wl_shm::Format::Xrgb8888];
    const XRGB_NV12: &[wl_shm::Format] = &[
        wl_shm::Format::Argb8888,
        wl_shm::Format::Xrgb8888,
        wl_shm::Format::Nv12,
    ];

    #[test]
    fn linear_formats_keep_the_xrgb_path() {
        let all = pairs(&[(b"NV12", 0), (b"P010", 0)]);
        for pf in [PixelFormat::Nv12, PixelFormat::Yuv420, PixelFormat::P010] {
            assert_eq!(
                fallback_plan(pf, XRGB_NV12, Some(&all)),
                Plan::ShmXrgb { via: pf }
            );
        }
    }

    #[test]
    fn packed_formats_prefer_a_linear_dmabuf_of_their_depth() {
        let nv12 = pairs(&[(b"NV12", DRM_FORMAT_MOD_LINEAR)]);
        let both = pairs(&[
            (b"NV12", DRM_FORMAT_MOD_LINEAR),
            (b"P010", DRM_FORMAT_MOD_INVALID),
        ]);
        // 8-bit SAND128 → NV12
        assert_eq!(
            fallback_plan(PixelFormat::Nc12, XRGB, Some(&both)),
            Plan::LinearDmabuf(PixelFormat::Nv12)
        );
        // 10-bit → P010 when offered, else NV12
        for pf in [PixelFormat::Nc30, PixelFormat::Nv15] {
            assert_eq!(
                fallback_plan(pf, XRGB, Some(&both)),
                Plan::LinearDmabuf(PixelFormat::P010)
            );
            assert_eq!(
                fallback_plan(pf, XRGB, Some(&nv12)),
                Plan::LinearDmabuf(PixelFormat::Nv12)
            );
        }
    }

    #[test]
    fn without_usable_dmabufs_shm_nv12_then_xrgb() {
        // a tiled-only NV12 pair is no use for our linear buffers
        let tiled = pairs(&[(b"NV12", 0x0100_0000_0000_0001)]);
        for pf in [PixelFormat::Nc12, PixelFormat::Nc30, PixelFormat::Nv15] {
            for d in [None, Some(&tiled)] {
                assert_eq!(fallback_plan(pf, XRGB_NV12, d), Plan::ShmNv12, "{pf:?}");
                assert_eq!(
                    fallback_plan(pf, XRGB, d),
                    Plan::ShmXrgb { via: pf.unpacked() },
                    "{pf:?}"
                );
            }
        }
        assert_eq!(PixelFormat::Nc12.unpacked(), PixelFormat::Nv12);
        assert_eq!(PixelFormat::Nv15.unpacked(), PixelFormat::P010);
    }

    #[test]
    fn linear_strides_are_256_aligned() {
        assert_eq!(linear_stride(1920, PixelFormat::Nv12), 2048);
        assert_eq!(linear_stride(1280, PixelFormat::Nv12), 1280);
        assert_eq!(linear_stride(1920, PixelFormat::P010), 3840);
        assert_eq!(linear_stride(562, PixelFormat::P010), 1280);
        assert_eq!(linear_stride(2, PixelFormat::Nv12), 256);
    }
}
