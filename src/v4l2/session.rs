//! Placeholder: being written (issue 2).

use std::time::Duration;

use super::{CaptureFormat, Completed, DecoderDevice, DeviceError, DeviceInfo};
use crate::codec::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};

/// A decoding session on a real V4L2 stateless decoder.
pub struct Session {
    name: String,
}

impl Session {
    /// Opens `info`'s video and media nodes for decoding `codec`.
    pub fn open(info: &DeviceInfo, codec: CodecKind) -> Result<Session, DeviceError> {
        Err(DeviceError::Unsupported(
            format!("{codec}: V4L2 session not implemented yet"),
            info.video_path.display().to_string(),
        ))
    }
}

impl DecoderDevice for Session {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        (DecodeMode::FrameBased, StartCode::AnnexB)
    }
    fn configure(&mut self, _: CodecKind, _: &StreamParams, _: &[Control], _: u32) -> Result<CaptureFormat, DeviceError> {
        Err(DeviceError::Unsupported("not implemented".into(), self.name.clone()))
    }
    fn free_slots(&self) -> usize {
        0
    }
    fn queue(&mut self, _: &DecodeJob) -> Result<(), DeviceError> {
        Err(DeviceError::Unsupported("not implemented".into(), self.name.clone()))
    }
    fn dequeue(&mut self, _: Duration) -> Result<Option<Completed>, DeviceError> {
        Ok(None)
    }
    fn in_flight(&self) -> usize {
        0
    }
    fn requeue_capture(&mut self, _: usize) -> Result<(), DeviceError> {
        Ok(())
    }
    fn capture_dmabufs(&self, _: usize) -> Vec<std::os::fd::BorrowedFd<'_>> {
        Vec::new()
    }
    fn capture_map(&self, _: usize) -> Vec<&[u8]> {
        Vec::new()
    }
}
