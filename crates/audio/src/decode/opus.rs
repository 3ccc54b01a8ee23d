//! Opus through the system libopus (the `opus` 0.3 binding): the `OpusHead`
//! identification header (RFC 7845 5.1) and one `opus_decoder` at 48 kHz.

use super::AudioError;

/// What `OpusHead` says (RFC 7845 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpusHead {
    /// Output channel count (1 or 2 for what we decode).
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded stream.
    pub pre_skip: u16,
    /// Output gain, Q7.8 dB (`opus_decoder_ctl(OPUS_SET_GAIN)` takes the same unit).
    pub output_gain: i16,
    /// Channel mapping family.
    pub mapping_family: u8,
}

/// Parses `OpusHead`. Errors: shorter than 19 bytes, no magic, version
/// above 15 (RFC 7845 5.1: the major version, upper nibble, must be 0), no
/// channels. Mapping families other than 0 are refused as
/// [`AudioError::Unsupported`] unless they describe one stream of one or two
/// channels in order (family 1, `stream_count` 1, mapping 0, 1), which is
/// family 0's layout: the `opus` 0.3 binding has no multistream decoder.
pub(crate) fn parse_head(b: &[u8]) -> Result<OpusHead, AudioError> {
    if b.len() < 19 || &b[..8] != b"OpusHead" {
        return Err(AudioError::Config(
            "opus: codec private data is not an OpusHead packet (RFC 7845 5.1)".into(),
        ));
    }
    if b[8] > 15 {
        return Err(AudioError::Config(format!(
            "opus: OpusHead version {} (only major version 0 exists)",
            b[8]
        )));
    }
    let channels = b[9];
    let head = OpusHead {
        channels,
        pre_skip: u16::from_le_bytes([b[10], b[11]]),
        output_gain: i16::from_le_bytes([b[16], b[17]]),
        mapping_family: b[18],
    };
    if channels == 0 {
        return Err(AudioError::Config("opus: OpusHead has 0 channels".into()));
    }
    let simple = match head.mapping_family {
        0 => channels <= 2,
        _ => {
            // Family 1+: stream_count, coupled_count, mapping[channels].
            let table = &b[19..];
            channels <= 2
                && table.len() >= 2 + usize::from(channels)
                && table[0] == 1
                && table[1] == channels - 1
                && table[2..2 + usize::from(channels)]
                    .iter()
                    .enumerate()
                    .all(|(i, &m)| usize::from(m) == i)
        }
    };
    if !simple {
        return Err(AudioError::Unsupported {
            codec: format!(
                "opus ({} channels, mapping family {})",
                channels, head.mapping_family
            ),
        });
    }
    Ok(head)
}

/// One libopus decoder at 48 kHz.
pub(crate) struct OpusDecoder {
    dec: opus::Decoder,
    channels: u8,
    gain: i16,
    buf: Vec<f32>,
}

/// 120 ms at 48 kHz, the longest an Opus packet decodes to (RFC 6716 3.2.5).
const MAX_FRAME: usize = 5760;

impl OpusDecoder {
    pub fn new(head: &OpusHead) -> Result<Self, AudioError> {
        let ch = if head.channels == 1 {
            opus::Channels::Mono
        } else {
            opus::Channels::Stereo
        };
        let mut dec = opus::Decoder::new(48000, ch)
            .map_err(|e| AudioError::Config(format!("opus: opus_decoder_create: {e}")))?;
        dec.set_gain(i32::from(head.output_gain))
            .map_err(|e| AudioError::Config(format!("opus: OPUS_SET_GAIN: {e}")))?;
        Ok(OpusDecoder {
            dec,
            channels: head.channels,
            gain: head.output_gain,
            buf: vec![0.0; MAX_FRAME * usize::from(head.channels)],
        })
    }

    /// Decodes one packet into interleaved f32; the samples are in the
    /// returned slice. Errors: libopus's (`OPUS_INVALID_PACKET`, ...).
    pub fn decode(&mut self, data: &[u8]) -> Result<&[f32], String> {
        let n = self
            .dec
            .decode_float(data, &mut self.buf, false)
            .map_err(|e| e.to_string())?;
        Ok(&self.buf[..n * usize::from(self.channels)])
    }

    /// Channels per frame.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// `OPUS_RESET_STATE`, gain kept.
    pub fn reset(&mut self) {
        let _ = self.dec.reset_state();
        let _ = self.dec.set_gain(i32::from(self.gain));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, family: u8, table: &[u8]) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.extend([
            1, channels, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0x00, 0x01, family,
        ]);
        h.extend(table);
        h
    }

    #[test]
    fn opus_head_fields() {
        let h = parse_head(&head(2, 0, &[])).unwrap();
        assert_eq!(
            (h.channels, h.pre_skip, h.output_gain, h.mapping_family),
            (2, 312, 256, 0)
        );
        // Family 1, one coupled stream, identity mapping: family 0's layout.
        assert!(parse_head(&head(2, 1, &[1, 1, 0, 1])).is_ok());
        // 5.1 (family 1, 4 streams) needs the multistream decoder.
        let e = parse_head(&head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5])).unwrap_err();
        assert!(matches!(e, AudioError::Unsupported { ref codec } if codec.starts_with("opus")));
        assert!(matches!(
            parse_head(b"OpusTags\0\0\0\0\0\0\0\0\0\0\0"),
            Err(AudioError::Config(_))
        ));
    }
}
