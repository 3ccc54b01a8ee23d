//! MPEG program streams (`.mpg`, `.mpeg`, `.vob`; ISO/IEC 13818-1 2.5 and
//! MPEG-1 systems ISO/IEC 11172-1): the first MPEG video stream
//! (`stream_id` 0xE0) is gathered from its PES packets and split into
//! frames by [`super::mpeg2es`] (same packets, timing and keyframes as an
//! elementary stream; PES PTS/DTS are not used).
//!
//! Pack headers (`00 00 01 BA`, MPEG-2 14 bytes + `pack_stuffing_length`,
//! MPEG-1 12 bytes), the program end code (`00 00 01 B9`) and every other
//! PES / system packet (`00 00 01 BB..FF` with a 16-bit length) are skipped;
//! garbage between packets is skipped to the next start code. A packet
//! running past the end of the file ends the stream (truncated file).
//!
//! `byte_offset` of a packet is its offset in the gathered video elementary
//! stream, not in the file. The file is read whole, up to
//! [`super::mpeg2es::MAX_FILE_BYTES`].

use std::path::Path;

use super::mpeg2es::{Mpeg2EsDemuxer, MAX_FILE_BYTES};
use super::ContainerError;

/// Whether `head` starts with a pack header.
pub fn probe(head: &[u8]) -> bool {
    head.starts_with(&[0, 0, 1, 0xBA])
}

/// The payload of every PES packet of `stream_id` 0xE0, concatenated.
pub fn video_elementary_stream(data: &[u8]) -> Vec<u8> {
    let mut es = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        if !(data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) || data[i + 3] < 0xB9 {
            i += 1;
            continue;
        }
        let id = data[i + 3];
        match id {
            0xB9 => i += 4,
            0xBA => {
                let Some(&b4) = data.get(i + 4) else { break };
                if b4 & 0xC0 == 0x40 {
                    let Some(&b13) = data.get(i + 13) else { break };
                    i += 14 + (b13 & 7) as usize;
                } else {
                    i += 12;
                }
            }
            _ => {
                if i + 6 > data.len() {
                    break;
                }
                let len = u16::from_be_bytes([data[i + 4], data[i + 5]]) as usize;
                let end = (i + 6 + len).min(data.len());
                if id == 0xE0 {
                    if let Some(p) = pes_payload_start(&data[i + 6..end]) {
                        es.extend_from_slice(&data[i + 6 + p..end]);
                    }
                }
                i = end;
            }
        }
    }
    es
}

/// Offset of the payload inside a PES packet body (after the 6-byte
/// start + length): MPEG-2 (`10` marker, `PES_header_data_length`) or
/// MPEG-1 (stuffing, STD buffer, PTS/DTS forms).
fn pes_payload_start(b: &[u8]) -> Option<usize> {
    let first = *b.first()?;
    if first & 0xC0 == 0x80 {
        return Some(3 + *b.get(2)? as usize).filter(|&p| p <= b.len());
    }
    let mut p = 0;
    while *b.get(p)? == 0xFF && p < 16 {
        p += 1;
    }
    if b.get(p)? & 0xC0 == 0x40 {
        p += 2;
    }
    let c = *b.get(p)?;
    p += match c & 0xF0 {
        0x20 => 5,
        0x30 => 10,
        _ if c == 0x0F => 1,
        _ => return None,
    };
    (p <= b.len()).then_some(p)
}

/// Opens a program stream: its video as an [`Mpeg2EsDemuxer`].
///
/// Errors: [`ContainerError::Io`]; [`ContainerError::Unsupported`] when
/// larger than [`MAX_FILE_BYTES`]; [`ContainerError::Corrupt`] when it holds
/// no MPEG video sequence header.
pub fn open(path: &Path) -> Result<Mpeg2EsDemuxer, ContainerError> {
    let meta = std::fs::metadata(path).map_err(|e| ContainerError::io(path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ContainerError::Unsupported {
            path: path.to_owned(),
            what: format!(
                "MPEG program stream of {} bytes (at most {MAX_FILE_BYTES} are read)",
                meta.len()
            ),
        });
    }
    let data = std::fs::read(path).map_err(|e| ContainerError::io(path, e))?;
    let es = video_elementary_stream(&data);
    Mpeg2EsDemuxer::from_bytes(path, es)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_video_pes_payloads_only() {
        let mut d = vec![0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1, 1, 0x89, 0xC3, 0xF8];
        // MPEG-2 video PES: flags 0x80 0x80, header length 5 (PTS), payload AB CD
        d.extend_from_slice(&[0, 0, 1, 0xE0, 0, 10, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]);
        d.extend_from_slice(&[0xAB, 0xCD]);
        // audio PES: skipped
        d.extend_from_slice(&[0, 0, 1, 0xC0, 0, 3, 0x0F, 0x11, 0x22]);
        // MPEG-1 video PES, no timestamps: payload EF
        d.extend_from_slice(&[0, 0, 1, 0xE0, 0, 2, 0x0F, 0xEF]);
        d.extend_from_slice(&[0, 0, 1, 0xB9]);
        assert_eq!(video_elementary_stream(&d), [0xAB, 0xCD, 0xEF]);
        // truncated inside a packet: what is there is kept, no panic
        assert_eq!(video_elementary_stream(&d[..29]), [0xAB]);
    }
}
