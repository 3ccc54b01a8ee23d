//! Placeholder: being written (issue 2).

use std::path::Path;

use super::{ContainerError, Demuxer, Packet, TrackInfo};

/// Demuxer (not yet implemented).
pub struct Mp4Demuxer {
    tracks: Vec<TrackInfo>,
}

impl Mp4Demuxer {
    /// Opens a file.
    pub fn open(path: &Path) -> Result<Self, ContainerError> {
        Err(ContainerError::Unsupported {
            path: path.to_owned(),
            what: "demuxer not implemented yet".into(),
        })
    }
}

impl Demuxer for Mp4Demuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }
    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        Ok(None)
    }
    fn seek(&mut self, _track: u32, _pts_ns: i64) -> Result<(), ContainerError> {
        Ok(())
    }
}
