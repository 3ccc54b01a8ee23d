//! The optional globals the window binds when the compositor has them
//! ([`Extras`]), and [`NoEvents`], the user data of protocol objects whose
//! events are ignored or that have none.

use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::protocol::wl_buffer;
use smithay_client_toolkit::reexports::client::{Connection, Proxy, QueueHandle};
use wayland_protocols::wp::content_type::v1::client::{
    wp_content_type_manager_v1, wp_content_type_v1,
};
use wayland_protocols::wp::fractional_scale::v1::client::wp_fractional_scale_manager_v1;
use wayland_protocols::wp::idle_inhibit::zv1::client::{
    zwp_idle_inhibit_manager_v1, zwp_idle_inhibitor_v1,
};
use wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1;
use wayland_protocols::wp::viewporter::client::{wp_viewport, wp_viewporter};

use super::state::State;

/// The optional globals, bound (version 1) if the compositor has them.
#[derive(Default)]
pub(super) struct Extras {
    /// `wp_viewporter` (viewporter.xml): scaling and cropping the video.
    pub viewporter: Option<wp_viewporter::WpViewporter>,
    /// `wp_single_pixel_buffer_manager_v1`: the black background.
    pub single_pixel: Option<wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1>,
    /// `zwp_idle_inhibit_manager_v1`: no screen blanking while playing.
    pub idle: Option<zwp_idle_inhibit_manager_v1::ZwpIdleInhibitManagerV1>,
    /// `wp_fractional_scale_manager_v1`: the preferred scale in 120ths.
    pub fractional: Option<wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1>,
    /// `wp_content_type_manager_v1`: marks the surfaces as `video`.
    pub content_type: Option<wp_content_type_manager_v1::WpContentTypeManagerV1>,
}

impl Extras {
    /// Binds what is there; logs (info) which were found.
    pub(super) fn bind(globals: &GlobalList, qh: &QueueHandle<State>) -> Self {
        let e = Extras {
            viewporter: globals.bind(qh, 1..=1, NoEvents).ok(),
            single_pixel: globals.bind(qh, 1..=1, NoEvents).ok(),
            idle: globals.bind(qh, 1..=1, NoEvents).ok(),
            fractional: globals.bind(qh, 1..=1, NoEvents).ok(),
            content_type: globals.bind(qh, 1..=1, NoEvents).ok(),
        };
        let has = |b: bool| if b { "yes" } else { "no" };
        tracing::info!(
            "wayland: optional globals: wp_viewporter {}, wp_single_pixel_buffer_manager_v1 {}, \
             zwp_idle_inhibit_manager_v1 {}, wp_fractional_scale_manager_v1 {}, wp_content_type_manager_v1 {}",
            has(e.viewporter.is_some()),
            has(e.single_pixel.is_some()),
            has(e.idle.is_some()),
            has(e.fractional.is_some()),
            has(e.content_type.is_some()),
        );
        e
    }
}

/// User data of protocol objects whose events are ignored or have none.
pub(super) struct NoEvents;

macro_rules! no_events {
    ($($i:ty),* $(,)?) => {$(
        impl Dispatch2<$i, State> for NoEvents {
            fn event(
                &self,
                _: &mut State,
                _: &$i,
                _: <$i as Proxy>::Event,
                _: &Connection,
                _: &QueueHandle<State>,
            ) {
            }
        }
    )*};
}

no_events!(
    wp_viewporter::WpViewporter,
    wp_viewport::WpViewport,
    wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1,
    // the black buffer's `release`: it stays attached, nothing to do
    wl_buffer::WlBuffer,
    zwp_idle_inhibit_manager_v1::ZwpIdleInhibitManagerV1,
    zwp_idle_inhibitor_v1::ZwpIdleInhibitorV1,
    wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1,
    wp_content_type_manager_v1::WpContentTypeManagerV1,
    wp_content_type_v1::WpContentTypeV1,
);
