//! MPEG program streams (`.mpg`, `.mpeg`, `.vob`; ISO/IEC 13818-1 2.5 and
//! MPEG-1 systems ISO/IEC 11172-1): the first MPEG video stream
//! (`stream_id` 0xE0) is gathered from its PES packets and split into
//! frames by [`super::mpeg2es`] (same packets, timing and keyframes as an
//! elementary stream); the audio streams (MPEG audio 0xC0–0xDF, AC-3 in
//! private stream 1) are cut into frames with their PES PTS put on the
//! video's time axis ([`super::mpegmux`]).
//!
//! Pack headers (`00 00 01 BA`, MPEG-2 14 bytes + `pack_stuffing_length`,
//! MPEG-1 12 bytes), the program end code (`00 00 01 B9`) and every other
//! PES / system packet (`00 00 01 BB..FF` with a 16-bit length) are skipped;
//! garbage between packets is skipped to the next start code. A packet
//! running past the end of the file ends the stream (truncated file).
//!
//! `byte_offset` of a video packet is its offset in the gathered video
//! elementary stream, not in the file; of an audio packet, the file offset
//! of the PES packet its frame starts in. The file is read whole, up to
//! [`super::mpeg2es::MAX_FILE_BYTES`].

use std::path::Path;

use super::mpeg2es::MAX_FILE_BYTES;
use super::mpegmux::{pes_header, AudioEs, AudioKind, Gathered, Mark, MuxDemuxer, Unwrapper};
use super::{CodecKind, ContainerError};

/// Whether `head` starts with a pack header.
pub fn probe(head: &[u8]) -> bool {
    head.starts_with(&[0, 0, 1, 0xBA])
}

/// The payload of every PES packet of `stream_id` 0xE0, concatenated.
pub fn video_elementary_stream(data: &[u8]) -> Vec<u8> {
    gather(data).video_es
}

/// The video ES (`stream_id` 0xE0) and the audio streams (`stream_id`
/// 0xC0–0xDF MPEG audio; private stream 1 (0xBD) sub-streams 0x80–0x87
/// AC-3, the DVD-Video layout: sub-stream id, frame count and a 2-byte
/// first access unit pointer before the frames) with their PES PTS and
/// file offsets.
pub(crate) fn gather(data: &[u8]) -> Gathered {
    let mut g = Gathered {
        video_codec: CodecKind::Mpeg2,
        video_es: Vec::new(),
        video_marks: Vec::new(),
        audio: Vec::new(),
    };
    let mut clock = Unwrapper::default();
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
                let pes = &data[i..end];
                let at = i as u64;
                i = end;
                let wanted = id == 0xE0 || (0xC0..=0xDF).contains(&id) || id == 0xBD;
                if !wanted {
                    continue;
                }
                let Some((p, pts, dts)) = pes_header(pes) else {
                    continue;
                };
                let pts = pts.map(|t| clock.unwrap(t));
                let dts = dts.map(|t| clock.unwrap(t));
                let payload = &pes[p..];
                if id == 0xE0 {
                    g.video_marks.push(Mark {
                        es_pos: g.video_es.len(),
                        pts,
                        dts,
                        file_offset: at,
                    });
                    g.video_es.extend_from_slice(payload);
                    continue;
                }
                let (sid, kind, payload) = if id == 0xBD {
                    match payload.first() {
                        Some(&s @ 0x80..=0x87) if payload.len() >= 4 => {
                            (u32::from(s), AudioKind::Ac3, &payload[4..])
                        }
                        _ => continue,
                    }
                } else {
                    (u32::from(id), AudioKind::Mpa, payload)
                };
                let idx = match g.audio.iter().position(|a| a.id == sid) {
                    Some(k) => k,
                    None => {
                        g.audio.push(AudioEs::new(sid, kind));
                        g.audio.len() - 1
                    }
                };
                g.audio[idx].push(payload, pts, at);
            }
        }
    }
    g
}

/// Opens a program stream: its MPEG video (track 1, split by
/// [`super::mpeg2es`]) and audio tracks (track id = `stream_id`, or the
/// private stream 1 sub-stream id), packets in file order
/// ([`MuxDemuxer`]).
///
/// Errors: [`ContainerError::Io`]; [`ContainerError::Unsupported`] when
/// larger than [`MAX_FILE_BYTES`]; [`ContainerError::Corrupt`] when it holds
/// no MPEG video sequence header.
pub fn open(path: &Path) -> Result<MuxDemuxer, ContainerError> {
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
    MuxDemuxer::new(path, gather(&data))
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
