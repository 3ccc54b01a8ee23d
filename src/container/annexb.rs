//! Placeholder: being written (issue 2).

use std::path::Path;

use super::{CodecId, ContainerError, Demuxer, Packet, TrackInfo};

/// Raw Annex-B elementary stream demuxer (not yet implemented).
pub struct AnnexBDemuxer {
    tracks: Vec<TrackInfo>,
}

impl AnnexBDemuxer {
    /// Opens a raw elementary stream of `codec`.
    pub fn open(path: &Path, _codec: CodecId) -> Result<Self, ContainerError> {
        Err(ContainerError::Unsupported {
            path: path.to_owned(),
            what: "demuxer not implemented yet".into(),
        })
    }
}

impl Demuxer for AnnexBDemuxer {
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
