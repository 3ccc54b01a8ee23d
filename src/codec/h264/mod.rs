//! H.264 (ITU-T H.264 / ISO/IEC 14496-10) stateless decoding: syntax
//! ([`parser`]), reference marking and output order ([`dpb`]), uAPI controls
//! ([`controls`]). Placeholder: being written (issue 2).

pub mod controls;
pub mod dpb;
pub mod parser;

use super::{CodecError, CodecEvent, CodecKind, CodedUnit, DecodeMode, StartCode, StatelessCodec};
use crate::container::CodecPrivate;

/// The H.264 [`StatelessCodec`].
pub struct H264Codec {
    _private: CodecPrivate,
}

impl H264Codec {
    /// A codec for a stream with this out-of-band configuration
    /// ([`CodecPrivate::Avc`] for MP4/Matroska, [`CodecPrivate::None`] for Annex-B).
    pub fn new(private: &CodecPrivate) -> Result<Self, CodecError> {
        Ok(H264Codec {
            _private: private.clone(),
        })
    }
}

impl StatelessCodec for H264Codec {
    fn kind(&self) -> CodecKind {
        CodecKind::H264
    }
    fn set_mode(&mut self, _mode: DecodeMode, _start_code: StartCode) {}
    fn push(&mut self, _unit: CodedUnit<'_>) -> Result<(), CodecError> {
        Err(CodecError::Unsupported(
            "H.264 codec not implemented yet".into(),
        ))
    }
    fn flush(&mut self) -> Result<(), CodecError> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn poll(&mut self) -> Option<CodecEvent> {
        None
    }
}
