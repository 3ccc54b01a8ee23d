//! Opus through the system libopus (the `opus` 0.3 binding): the `OpusHead`
//! identification header (RFC 7845 5.1) and one `opus_multistream_decoder`
//! at 48 kHz (mapping families 0 and 1: up to 8 channels).

use super::AudioError;

/// What `OpusHead` says (RFC 7845 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpusHead {
    /// Output channel count (1 to 8 for what we decode).
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded stream.
    pub pre_skip: u16,
    /// Output gain, Q7.8 dB (`OPUS_SET_GAIN` takes the same unit).
    pub output_gain: i16,
    /// Channel mapping family.
    pub mapping_family: u8,
    /// `stream_count`, `coupled_count` and the channel mapping (RFC 7845
    /// 5.1.1); for family 0 the implied 1, `channels` − 1, [0] or [0, 1].
    pub streams: u8,
    pub coupled: u8,
    pub mapping: Vec<u8>,
}

/// Parses `OpusHead`. Errors: shorter than 19 bytes, no magic, version
/// above 15 (RFC 7845 5.1: the major version, upper nibble, must be 0), no
/// channels, a family 0 with more than 2 channels or a family 1 table that
/// is short or inconsistent → [`AudioError::Config`]; families other than
/// 0 and 1 (ambisonics 2 and 3, 255 "no defined layout"), and family 1 above
/// 8 channels → [`AudioError::Unsupported`].
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
    let family = b[18];
    if channels == 0 {
        return Err(AudioError::Config("opus: OpusHead has 0 channels".into()));
    }
    let (streams, coupled, mapping) = match family {
        0 => {
            if channels > 2 {
                return Err(AudioError::Config(format!(
                    "opus: mapping family 0 with {channels} channels (RFC 7845 5.1.1.1 allows 1 or 2)"
                )));
            }
            (1, channels - 1, (0..channels).collect())
        }
        1 if channels <= 8 => {
            let t = &b[19..];
            if t.len() < 2 + usize::from(channels) {
                return Err(AudioError::Config(
                    "opus: OpusHead channel mapping table is short".into(),
                ));
            }
            let (streams, coupled) = (t[0], t[1]);
            let mapping = t[2..2 + usize::from(channels)].to_vec();
            let max = u16::from(streams) + u16::from(coupled);
            if streams == 0
                || coupled > streams
                || mapping.iter().any(|&m| m != 255 && u16::from(m) >= max)
            {
                return Err(AudioError::Config(format!(
                    "opus: inconsistent channel mapping ({streams} streams, {coupled} coupled, {mapping:?})"
                )));
            }
            (streams, coupled, mapping)
        }
        _ => {
            return Err(AudioError::Unsupported {
                codec: format!("opus ({channels} channels, mapping family {family})"),
            })
        }
    };
    Ok(OpusHead {
        channels,
        pre_skip: u16::from_le_bytes([b[10], b[11]]),
        output_gain: i16::from_le_bytes([b[16], b[17]]),
        mapping_family: family,
        streams,
        coupled,
        mapping,
    })
}

/// Where Vorbis-order channel `i` of an `n`-channel family-1 stream goes in
/// WAVE order (RFC 7845 5.1.1.2 uses the Vorbis layouts, Vorbis I spec
/// 4.3.9; FFmpeg's `libopusdec.c` reorders with
/// `ff_vorbis_channel_layout_offsets` the same way).
fn wave_index(n: u8, i: usize) -> usize {
    let map: &[usize] = match n {
        3 => &[0, 2, 1],
        5 => &[0, 2, 1, 3, 4],
        6 => &[0, 2, 1, 4, 5, 3],
        7 => &[0, 2, 1, 5, 6, 4, 3],
        8 => &[0, 2, 1, 6, 7, 4, 5, 3],
        _ => return i,
    };
    map[i]
}

/// One libopus multistream decoder at 48 kHz (`opus_multistream_decoder`,
/// as FFmpeg's `libopusdec.c` uses for every mapping family).
pub(crate) struct OpusDecoder {
    dec: opus::MSDecoder,
    channels: u8,
    gain: i16,
    buf: Vec<f32>,
    out: Vec<f32>,
}

/// 120 ms at 48 kHz, the longest an Opus packet decodes to (RFC 6716 3.2.5).
const MAX_FRAME: usize = 5760;

impl OpusDecoder {
    pub fn new(head: &OpusHead) -> Result<Self, AudioError> {
        let mut dec = opus::MSDecoder::new(48000, head.streams, head.coupled, &head.mapping)
            .map_err(|e| {
                AudioError::Config(format!("opus: opus_multistream_decoder_create: {e}"))
            })?;
        dec.set_gain(i32::from(head.output_gain))
            .map_err(|e| AudioError::Config(format!("opus: OPUS_SET_GAIN: {e}")))?;
        Ok(OpusDecoder {
            dec,
            channels: head.channels,
            gain: head.output_gain,
            buf: vec![0.0; MAX_FRAME * usize::from(head.channels)],
            out: Vec::new(),
        })
    }

    /// Channels per frame.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// Decodes one packet into interleaved f32 in WAVE channel order.
    /// Errors: libopus's (`OPUS_INVALID_PACKET`, ...).
    pub fn decode(&mut self, data: &[u8]) -> Result<&[f32], String> {
        let n = self
            .dec
            .decode_float(data, &mut self.buf, false)
            .map_err(|e| e.to_string())?;
        let ch = usize::from(self.channels);
        let s = &self.buf[..n * ch];
        if ch <= 2 || ch == 4 {
            return Ok(s);
        }
        self.out.resize(s.len(), 0.0);
        for (src, dst) in s.chunks_exact(ch).zip(self.out.chunks_exact_mut(ch)) {
            for (i, v) in src.iter().enumerate() {
                dst[wave_index(self.channels, i)] = *v;
            }
        }
        Ok(&self.out)
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
        assert_eq!(
            (h.streams, h.coupled, h.mapping.clone()),
            (1, 1, vec![0, 1])
        );
        // 5.1, family 1 (RFC 7845 5.1.1.2's example table).
        let h = parse_head(&head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5])).unwrap();
        assert_eq!(
            (h.streams, h.coupled, h.mapping.clone()),
            (4, 2, vec![0, 4, 1, 2, 3, 5])
        );
        assert!(OpusDecoder::new(&h).is_ok());
        // A mapping naming a stream that is not there.
        assert!(matches!(
            parse_head(&head(2, 1, &[1, 0, 0, 1])),
            Err(AudioError::Config(_))
        ));
        // Ambisonics (family 2) is refused by name.
        let e = parse_head(&head(4, 2, &[4, 0, 0, 1, 2, 3])).unwrap_err();
        assert!(
            matches!(e, AudioError::Unsupported { ref codec } if codec == "opus (4 channels, mapping family 2)")
        );
        assert!(matches!(
            parse_head(b"OpusTags\0\0\0\0\0\0\0\0\0\0\0"),
            Err(AudioError::Config(_))
        ));
    }
}
