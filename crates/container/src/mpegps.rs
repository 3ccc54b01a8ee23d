//! MPEG program streams (`.mpg`, `.mpeg`, `.vob`; ISO/IEC 13818-1 2.5 and
//! MPEG-1 systems ISO/IEC 11172-1), streamed through a bounded window as
//! PES packets (`PsSource`) for [`MuxDemuxer`] (video split into frames,
//! audio cut, PTS bisection seek, duration; see [`super::mpegmux`]): the
//! first MPEG video stream (`stream_id` 0xE0) is track 1; the audio streams
//! (MPEG audio 0xC0–0xDF, track id = `stream_id`; AC-3 in private stream 1,
//! track id = sub-stream id) are tracks.
//!
//! Pack headers (`00 00 01 BA`, MPEG-2 14 bytes + `pack_stuffing_length`,
//! MPEG-1 12 bytes), the program end code (`00 00 01 B9`) and every other
//! PES / system packet (`00 00 01 BB..FF` with a 16-bit length) are skipped;
//! garbage between packets is skipped to the next start code. A packet
//! running past the end of the file ends the stream (truncated file). After
//! a seek to a byte that is no packet start reading resumes at the next
//! pack header.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::mpegmux::{
    pes_header, AudioKind, MuxDemuxer, Pes, PesSource, Source, Spares, StreamKind, Window,
};
use super::{CodecKind, ContainerError};

/// Whether `head` starts with a pack header.
pub fn probe(head: &[u8]) -> bool {
    head.starts_with(&[0, 0, 1, 0xBA])
}

/// A program stream read as PES packets (see the module doc).
pub(crate) struct PsSource {
    path: Option<PathBuf>,
    win: Window,
    len: u64,
    /// After a seek: skip to the next pack header.
    to_pack: bool,
    /// Payload buffers given back ([`PesSource::recycle`]), at most
    /// [`MAX_SPARE_PAYLOADS`].
    spare: Spares,
}

/// Payload buffers [`PsSource`] keeps for reuse at most (the engine hands
/// each PES's back once it has split it).
const MAX_SPARE_PAYLOADS: usize = 4;

impl PsSource {
    /// A source over `r` (`len` bytes; `path` names it in errors and lets
    /// [`PesSource::fork`] reopen it).
    pub(crate) fn new(path: Option<PathBuf>, r: Box<dyn Source>, len: u64) -> Self {
        PsSource {
            path,
            win: Window::new(r),
            len,
            to_pack: false,
            spare: Spares::new(MAX_SPARE_PAYLOADS),
        }
    }

    fn io(&self, e: std::io::Error) -> ContainerError {
        ContainerError::io(self.path.as_deref().unwrap_or(Path::new("MPEG-PS")), e)
    }
}

impl PesSource for PsSource {
    /// The next video PES (`stream_id` 0xE0), MPEG audio PES (0xC0–0xDF)
    /// or AC-3 private stream 1 sub-stream (0x80–0x87, the DVD-Video
    /// layout: sub-stream id, frame count and a 2-byte first access unit
    /// pointer before the frames).
    fn next_pes(&mut self) -> Result<Option<Pes>, ContainerError> {
        loop {
            let n = self.win.want(6).map_err(|e| self.io(e))?;
            if n < 4 {
                self.win.consume(n);
                return Ok(None);
            }
            let d = self.win.avail();
            let start = d[0] == 0 && d[1] == 0 && d[2] == 1;
            if !start || d[3] < 0xB9 || (self.to_pack && d[3] != 0xBA) {
                self.win.consume(1);
                continue;
            }
            self.to_pack = false;
            let id = d[3];
            let at = self.win.offset();
            match id {
                0xB9 => self.win.consume(4),
                0xBA => {
                    let n = self.win.want(14).map_err(|e| self.io(e))?;
                    let d = self.win.avail();
                    if n < 5 {
                        self.win.consume(n);
                        return Ok(None);
                    }
                    if d[4] & 0xC0 == 0x40 {
                        if n < 14 {
                            self.win.consume(n);
                            return Ok(None);
                        }
                        let skip = 14 + (d[13] & 7) as usize;
                        self.win.consume(skip);
                    } else {
                        self.win.consume(12);
                    }
                }
                _ => {
                    if n < 6 {
                        self.win.consume(n);
                        return Ok(None);
                    }
                    let len = u16::from_be_bytes([d[4], d[5]]) as usize;
                    let n = self.win.want(6 + len).map_err(|e| self.io(e))?;
                    let end = (6 + len).min(n);
                    let wanted = id == 0xE0 || (0xC0..=0xDF).contains(&id) || id == 0xBD;
                    let pes = &self.win.avail()[..end];
                    let parts = if wanted { pes_header(pes) } else { None };
                    let Some((p, pts, dts)) = parts else {
                        self.win.consume(end);
                        continue;
                    };
                    let payload = &pes[p..];
                    let (sid, kind, payload) = if id == 0xE0 {
                        (1, StreamKind::Video(CodecKind::Mpeg2), payload)
                    } else if id == 0xBD {
                        match payload.first() {
                            Some(&s @ 0x80..=0x87) if payload.len() >= 4 => (
                                u32::from(s),
                                StreamKind::Audio(AudioKind::Ac3),
                                &payload[4..],
                            ),
                            _ => {
                                self.win.consume(end);
                                continue;
                            }
                        }
                    } else {
                        (u32::from(id), StreamKind::Audio(AudioKind::Mpa), payload)
                    };
                    let mut buf = self.spare.take(payload.len());
                    buf.extend_from_slice(payload);
                    self.win.consume(end);
                    return Ok(Some(Pes {
                        id: sid,
                        kind,
                        payload: buf,
                        pts,
                        dts,
                        offset: at,
                        discontinuity: false,
                    }));
                }
            }
        }
    }

    fn seek(&mut self, pos: u64) -> Result<(), ContainerError> {
        self.win.seek(pos.min(self.len)).map_err(|e| self.io(e))?;
        // A packet start (where a seek lands on a PES found before) is
        // taken as is; anywhere else reading resumes at a pack header.
        let n = self.win.want(4).map_err(|e| self.io(e))?;
        let d = self.win.avail();
        let at_packet = n >= 4 && d[..3] == [0, 0, 1] && d[3] >= 0xBA;
        self.to_pack = pos > 0 && !at_packet;
        Ok(())
    }

    fn recycle(&mut self, payload: Vec<u8>) {
        self.spare.give(payload);
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn position(&self) -> u64 {
        self.win.offset()
    }

    /// Audio streams are found as they come: the first 1 MiB (or the
    /// probe's PES, if more) is read before the tracks are settled.
    fn min_probe(&self) -> u64 {
        (1u64 << 20).min(self.len)
    }

    fn fork(&self) -> Result<Box<dyn PesSource>, ContainerError> {
        let path = self
            .path
            .clone()
            .ok_or_else(|| ContainerError::Unsupported {
                path: PathBuf::from("MPEG-PS"),
                what: "a second reader of an in-memory stream".into(),
            })?;
        let f = File::open(&path).map_err(|e| ContainerError::io(&path, e))?;
        Ok(Box::new(PsSource::new(Some(path), Box::new(f), self.len)))
    }
}

/// The payload of every PES packet of `stream_id` 0xE0 in `data`, concatenated.
pub fn video_elementary_stream(data: &[u8]) -> Vec<u8> {
    let mut s = PsSource::new(
        None,
        Box::new(std::io::Cursor::new(data.to_vec())),
        data.len() as u64,
    );
    let mut es = Vec::new();
    while let Ok(Some(p)) = s.next_pes() {
        if p.id == 1 {
            es.extend_from_slice(&p.payload);
        }
    }
    es
}

/// Opens a program stream: its MPEG video (track 1) and audio tracks
/// (track id = `stream_id`, or the private stream 1 sub-stream id),
/// packets in file order ([`MuxDemuxer`]), the file streamed.
///
/// Errors: [`ContainerError::Io`]; [`ContainerError::Corrupt`] when its
/// head holds no MPEG video sequence header.
pub fn open(path: &Path) -> Result<MuxDemuxer, ContainerError> {
    let f = File::open(path).map_err(|e| ContainerError::io(path, e))?;
    let len = f.metadata().map_err(|e| ContainerError::io(path, e))?.len();
    MuxDemuxer::open(
        path,
        Box::new(PsSource::new(Some(path.to_owned()), Box::new(f), len)),
    )
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
