//! The window around the video: optional globals (viewporter, subcompositor,
//! single-pixel buffers, idle inhibit, fractional scale, content type, the
//! seat's keyboard), the black background, placing the video subsurface
//! ([`geometry`] does the maths) and the key handling. See the module docs
//! of [`super`] for the whole picture.

use wayland_protocols::wp::content_type::v1::client::wp_content_type_v1;

use super::geometry;
use super::globals::NoEvents;
use super::state::FractionalScaleData;
use super::*;

impl WaylandSink {
    /// The largest output's logical size (by area), if any output is known.
    fn largest_output(&self) -> Option<(u32, u32)> {
        let o = &self.state.outputs;
        o.outputs()
            .filter_map(|out| o.info(&out))
            .filter_map(|i| {
                let (w, h) = match i.logical_size {
                    Some(s) => s,
                    None => {
                        let m = i.modes.iter().find(|m| m.current)?;
                        let s = i.scale_factor.max(1);
                        (m.dimensions.0 / s, m.dimensions.1 / s)
                    }
                };
                (w > 0 && h > 0).then_some((w as u32, h as u32))
            })
            .max_by_key(|&(w, h)| u64::from(w) * u64::from(h))
    }

    /// The preferred scale in 120ths (fractional scale, else the integer
    /// `wl_surface.preferred_buffer_scale`, else 1).
    fn scale_120(&self) -> u32 {
        self.state
            .fractional_scale
            .unwrap_or_else(|| self.state.buffer_scale.max(1) as u32 * 120)
    }

    /// Sets the video viewport's source for what was attached, remembers the
    /// picture's display size. Without [`Scaled`] (no viewporter) nothing.
    pub(super) fn set_source(&mut self, a: &Attached, display: Option<(u32, u32)>) {
        let Some(sc) = self.scaled.as_mut() else {
            return;
        };
        let src = sc.set_source(a);
        let shown = display.unwrap_or((src.w, src.h));
        if self.display != Some(shown) {
            tracing::info!(
                "wayland: picture {}x{} shown as {}x{} (pixel aspect applied)",
                src.w,
                src.h,
                shown.0,
                shown.1
            );
            self.display = Some(shown);
        }
    }

    /// Brings the subsurface position, both viewport destinations and the
    /// background up to date with the window size and the display size.
    /// Returns whether the toplevel surface needs a commit (the video
    /// surface's own state changes take effect at its next commit).
    pub(super) fn relayout(&mut self) -> bool {
        let scale = self.scale_120();
        let output = self.largest_output();
        let window = self.state.window_size;
        let Some(display) = self.display else {
            return false;
        };
        let Some(sc) = self.scaled.as_mut() else {
            return false;
        };
        let Some(l) = geometry::layout(display, window, scale, output) else {
            return false;
        };
        sc.apply_layout(l, self.state.toplevel.wl_surface(), scale, output)
    }

    /// After events: answer an acknowledged configure, follow size / scale
    /// changes, act on `f`.
    pub(super) fn after_events(&mut self) {
        if self.state.fullscreen_toggle {
            self.state.fullscreen_toggle = false;
            if self.state.fullscreen {
                self.state.toplevel.unset_fullscreen();
            } else {
                self.state.toplevel.set_fullscreen(None);
            }
        }
        if self.size.is_none() {
            // nothing shown yet: the first frame's commit answers the configure
            return;
        }
        let configure = std::mem::take(&mut self.state.configure_pending);
        let relayout = std::mem::take(&mut self.state.layout_dirty);
        if self.scaled.is_some() {
            if (configure || relayout) && self.relayout() {
                // the new video destination takes effect at the video surface's commit
                if let Some(sc) = &self.scaled {
                    sc.video_surface().commit();
                }
                self.state.toplevel.wl_surface().commit();
            } else if configure {
                self.state.toplevel.wl_surface().commit();
            }
        } else if configure {
            // finish the acknowledged configure; the buffer stays as it is
            self.state.toplevel.wl_surface().commit();
        }
        let _ = self.conn.flush();
    }

    /// Creates / destroys the idle inhibitor: on while playing, off while
    /// paused and after the end.
    pub(super) fn update_inhibitor(&mut self) {
        let want = !self.state.paused && !self.state.finished;
        match (&self.state.inhibitor, want) {
            (None, true) => {
                if let Some(m) = &self.extras.idle {
                    let i =
                        m.create_inhibitor(self.state.toplevel.wl_surface(), &self.qh, NoEvents);
                    tracing::debug!("wayland: idle inhibitor on");
                    self.state.inhibitor = Some(i);
                }
            }
            (Some(_), false) => {
                if let Some(i) = self.state.inhibitor.take() {
                    i.destroy();
                    tracing::debug!("wayland: idle inhibitor off");
                }
            }
            _ => {}
        }
    }

    /// `wp_content_type_v1.set_content_type(video)` and
    /// `wp_fractional_scale_v1` on the window's surfaces, where available.
    pub(super) fn setup_surface_hints(&mut self) {
        let top = self.state.toplevel.wl_surface().clone();
        if let Some(m) = &self.extras.content_type {
            let mut surfaces = vec![top.clone()];
            if let Some(sc) = &self.scaled {
                surfaces.push(sc.video_surface().clone());
            }
            for s in surfaces {
                let ct = m.get_surface_content_type(&s, &self.qh, NoEvents);
                ct.set_content_type(wp_content_type_v1::Type::Video);
                self.state.content_types.push(ct);
            }
        }
        if let Some(m) = &self.extras.fractional {
            self.state.fractional =
                Some(m.get_fractional_scale(&top, &self.qh, FractionalScaleData));
        }
    }
}
