//! The copy path: frames the compositor cannot take as dmabufs are
//! converted on the CPU into `wl_shm` buffers.

use super::*;

impl WaylandSink {
    /// Copy attach into a `wl_shm` XRGB8888 buffer. `Ok(None)`: no free buffer, dropped.
    pub(super) fn attach_shm(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
    ) -> Result<Option<Attached>, PresentError> {
        let planes = src.planes(&frame);
        let (w, h) = (planes.width, planes.height);
        if w == 0 || h == 0 || w > 16384 || h > 16384 {
            return Err(PresentError::Io(format!(
                "frame pts {} ns: cannot show a {w}x{h} picture",
                frame.pts_ns
            )));
        }
        let stride = w as usize * 4;
        if self.size != Some((w, h))
            || self
                .shm_buffers
                .iter()
                .any(|b| b.height() != h as i32 || b.stride() != stride as i32)
        {
            self.shm_buffers.clear();
        }
        if self.pool.is_none() {
            self.pool = Some(
                SlotPool::new(stride * h as usize, &self.state.shm)
                    .map_err(|e| wl_err("wl_shm pool", e))?,
            );
        }
        let pool = self.pool.as_mut().expect("set above");
        let idx = match self
            .shm_buffers
            .iter()
            .position(|b| b.canvas(pool).is_some())
        {
            Some(i) => i,
            None if self.shm_buffers.len() < SHM_BUFFERS => {
                let (b, _) = pool
                    .create_buffer(w as i32, h as i32, stride as i32, wl_shm::Format::Xrgb8888)
                    .map_err(|e| wl_err("wl_shm buffer", e))?;
                self.shm_buffers.push(b);
                self.shm_buffers.len() - 1
            }
            None => {
                self.state.stats.dropped += 1;
                return Ok(None);
            }
        };
        let buffer = &self.shm_buffers[idx];
        let canvas = buffer
            .canvas(pool)
            .ok_or_else(|| PresentError::Wayland("wl_shm buffer busy".into()))?;
        to_xrgb8888(&planes, ColorMatrix::for_height(h), canvas, stride)
            .map_err(|e| PresentError::Io(format!("frame pts {} ns: {e}", frame.pts_ns)))?;
        self.state.stats.last_pts_ns = Some(frame.pts_ns);
        drop(frame);
        buffer
            .attach_to(self.video_surface())
            .map_err(|e| wl_err("attach", e))?;
        self.state.stats.shown_shm += 1;
        self.size = Some((w, h));
        Ok(Some(Attached {
            buffer_size: (w, h),
            source: (0, 0, w, h),
        }))
    }
}
