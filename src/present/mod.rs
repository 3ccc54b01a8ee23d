//! Where decoded frames go: a Wayland window ([`wayland`]), a Y4M file
//! ([`y4m::Y4mSink`]) or nowhere ([`NullSink`]). Nothing here knows V4L2:
//! sinks see [`DecodedFrame`]s plus a [`FrameSource`] for pixels / dmabufs.

use std::os::fd::BorrowedFd;

use crate::engine::DecodedFrame;
use crate::frame::PlanesRef;

pub mod wayland;
pub mod y4m;

/// Access to a frame's memory, provided by the decoder that made it.
pub trait FrameSource {
    /// CPU view of the frame's visible planes.
    fn planes(&self, frame: &DecodedFrame) -> PlanesRef<'_>;
    /// The frame's dmabufs, one per memory plane.
    fn dmabufs(&self, frame: &DecodedFrame) -> Vec<BorrowedFd<'_>>;
}

impl<D: crate::v4l2::DecoderDevice> FrameSource for crate::engine::Decoder<D> {
    fn planes(&self, frame: &DecodedFrame) -> PlanesRef<'_> {
        crate::engine::Decoder::planes(self, frame)
    }
    fn dmabufs(&self, frame: &DecodedFrame) -> Vec<BorrowedFd<'_>> {
        self.device().capture_dmabufs(frame.capture_index)
    }
}

/// Errors from a sink.
#[derive(Debug, thiserror::Error)]
pub enum PresentError {
    #[error("{0}")]
    Io(String),
    #[error("wayland: {0}")]
    Wayland(String),
    /// The user closed the window.
    #[error("window closed")]
    Closed,
}

/// A frame consumer. `show` takes ownership; the sink drops the frame (giving
/// the buffer back) when it no longer needs it (for Wayland: on `wl_buffer.release`).
pub trait Sink {
    /// Presents `frame` (blocking as the sink's pacing requires).
    fn show(&mut self, frame: DecodedFrame, src: &dyn FrameSource) -> Result<(), PresentError>;
    /// Lets the sink process events (releases, close); called when idle.
    fn dispatch(&mut self) -> Result<(), PresentError> {
        Ok(())
    }
    /// End of stream: flush files, wait for the last frame to be shown.
    fn finish(&mut self) -> Result<(), PresentError> {
        Ok(())
    }
}

/// Discards every frame (`--vo null`: decode only).
#[derive(Debug, Default)]
pub struct NullSink {
    pub frames: u64,
}

impl Sink for NullSink {
    fn show(&mut self, _frame: DecodedFrame, _src: &dyn FrameSource) -> Result<(), PresentError> {
        self.frames += 1;
        Ok(())
    }
}
