//! MPEG-2 video elementary streams (`.m2v`, `.mpv`, `.m1v`): ISO/IEC
//! 13818-2 start-code syntax split into one [`Packet`] per frame.
//!
//! - A packet is a picture with everything before it since the previous
//!   picture's slices (sequence header and extensions, GOP header) and its
//!   slices; the two field pictures of one frame (the first picture's
//!   `picture_structure` is a field, 6.3.10) stay in one packet, as
//!   GStreamer's `mpegvideoparse` keeps them (so the decoder sees one frame
//!   per buffer).
//! - Timing: `pts_ns` = (GOP-relative `temporal_reference` + the pictures of
//!   the earlier GOPs) × frame duration from `frame_rate_code` (Table 6-4)
//!   and `frame_rate_extension_n/d`; `dts_ns` is `None`.
//! - `keyframe`: the packet holds an I picture and a sequence header (a
//!   point decoding can start from); [`Demuxer::seek`] goes to the last such
//!   packet at or before the target.
//!
//! The file is read whole, up to [`MAX_FILE_BYTES`]; larger files are
//! refused with [`ContainerError::Unsupported`].

use std::path::{Path, PathBuf};

use super::mpegvideo::{self as parser, Extension};
use super::{CodecKind, CodecPrivate, ContainerError, Demuxer, Packet, TrackCodec, TrackInfo};

/// Largest elementary stream read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

struct Entry {
    start: usize,
    end: usize,
    pts_ns: i64,
    keyframe: bool,
}

/// The elementary-stream demuxer: one video track, id 1.
pub struct Mpeg2EsDemuxer {
    data: Vec<u8>,
    entries: Vec<Entry>,
    next: usize,
    tracks: Vec<TrackInfo>,
}

/// Whether `head` (the file's first bytes) starts with a sequence header.
pub fn probe(head: &[u8]) -> bool {
    head.starts_with(&[0, 0, 1, parser::SEQUENCE_HEADER])
}

impl Mpeg2EsDemuxer {
    /// Reads and indexes `path`.
    ///
    /// Errors: [`ContainerError::Io`]; [`ContainerError::Unsupported`] when
    /// larger than [`MAX_FILE_BYTES`]; [`ContainerError::Corrupt`] when the
    /// first sequence header does not parse.
    pub fn open(path: &Path) -> Result<Self, ContainerError> {
        let meta = std::fs::metadata(path).map_err(|e| ContainerError::io(path, e))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(ContainerError::Unsupported {
                path: path.to_owned(),
                what: format!(
                    "MPEG-2 elementary stream of {} bytes (at most {MAX_FILE_BYTES} are read)",
                    meta.len()
                ),
            });
        }
        let data = std::fs::read(path).map_err(|e| ContainerError::io(path, e))?;
        Self::from_bytes(path, data)
    }

    pub(crate) fn from_bytes(path: &Path, data: Vec<u8>) -> Result<Self, ContainerError> {
        let path: PathBuf = path.to_owned();
        let units = parser::units(&data);
        let mut width = 0;
        let mut height = 0;
        let mut rate: Option<(u64, u64)> = None;
        let mut ext_rate: (u64, u64) = (1, 1);
        let mut seen_seq = false;

        // Packet building.
        struct Building {
            start: usize,
            pictures: u32,
            slices: bool,
            structure: u8,
            tr: u16,
            intra: bool,
            seq: bool,
        }
        let mut entries: Vec<(usize, usize, u64, bool)> = Vec::new();
        let mut gop_base = 0u64;
        let mut max_tr = 0u64;
        let mut pics_in_gop = false;
        let mut cur: Option<Building> = None;
        let mut pending_start: Option<usize> = None;
        let mut pending_seq = false;

        let close = |b: Building,
                     end: usize,
                     entries: &mut Vec<(usize, usize, u64, bool)>,
                     gop_base: u64| {
            if b.pictures > 0 {
                entries.push((b.start, end, gop_base + b.tr as u64, b.intra && b.seq));
            }
        };

        for u in &units {
            let code = u.code;
            match code {
                parser::SEQUENCE_HEADER | parser::GROUP_START | parser::PICTURE_START => {
                    let is_second_field = code == parser::PICTURE_START
                        && cur
                            .as_ref()
                            .is_some_and(|b| b.pictures == 1 && b.structure != 3 && b.slices);
                    if is_second_field {
                        if let Some(b) = cur.as_mut() {
                            b.pictures += 1;
                            b.slices = false;
                            b.structure = 3;
                        }
                        continue;
                    }
                    if cur.as_ref().is_some_and(|b| b.slices) {
                        let b = cur.take().unwrap();
                        close(b, u.start, &mut entries, gop_base);
                    }
                    if code == parser::SEQUENCE_HEADER {
                        let p = u.payload(&data);
                        match parser::sequence_header(p) {
                            Ok(s) => {
                                if !seen_seq {
                                    width = s.horizontal_size_value;
                                    height = s.vertical_size_value;
                                }
                                seen_seq = true;
                                rate = Some(s.frame_rate());
                            }
                            Err(e) if !seen_seq => {
                                return Err(ContainerError::corrupt(
                                    &path,
                                    "MPEG-2 ES",
                                    u.start as u64,
                                    format!("sequence header: {e}"),
                                ))
                            }
                            Err(_) => {}
                        }
                        pending_seq = true;
                    }
                    if code == parser::GROUP_START {
                        if pics_in_gop {
                            gop_base += max_tr + 1;
                        }
                        max_tr = 0;
                        pics_in_gop = false;
                    }
                    if code != parser::PICTURE_START {
                        pending_start.get_or_insert(u.start);
                        continue;
                    }
                    let hdr = parser::picture_header(u.payload(&data));
                    let tr = hdr.map_or(0, |(temporal_reference, _)| temporal_reference);
                    pics_in_gop = true;
                    max_tr = max_tr.max(tr as u64);
                    cur = Some(Building {
                        start: pending_start.take().unwrap_or(u.start),
                        pictures: 1,
                        slices: false,
                        structure: 3,
                        tr,
                        intra: hdr.is_some_and(|(_, picture_coding_type)| picture_coding_type == 1),
                        seq: std::mem::take(&mut pending_seq),
                    });
                }
                parser::EXTENSION_START => match parser::extension(u.payload(&data)) {
                    Some(Extension::PictureCoding { picture_structure }) => {
                        if let Some(b) = cur.as_mut() {
                            if b.pictures == 1 && !b.slices {
                                b.structure = picture_structure;
                            }
                        }
                    }
                    Some(Extension::Sequence {
                        horizontal_size_extension,
                        vertical_size_extension,
                        frame_rate_extension_n,
                        frame_rate_extension_d,
                    }) => {
                        width = (width & 0xfff) | (horizontal_size_extension << 12);
                        height = (height & 0xfff) | (vertical_size_extension << 12);
                        ext_rate = (frame_rate_extension_n + 1, frame_rate_extension_d + 1);
                    }
                    None => {}
                },
                0x01..=parser::SLICE_LAST => {
                    if let Some(b) = cur.as_mut() {
                        b.slices = true;
                    }
                }
                _ => {}
            }
        }
        if let Some(b) = cur.take() {
            close(b, data.len(), &mut entries, gop_base);
        }
        if !seen_seq {
            return Err(ContainerError::corrupt(
                &path,
                "MPEG-2 ES",
                0,
                "no sequence header",
            ));
        }
        let (n, d) = rate.unwrap_or((30000, 1001));
        let dur = 1_000_000_000 * d * ext_rate.1 / (n * ext_rate.0).max(1);
        let entries: Vec<Entry> = entries
            .into_iter()
            .map(|(start, end, poc, keyframe)| Entry {
                start,
                end,
                pts_ns: (poc.saturating_mul(dur)) as i64,
                keyframe,
            })
            .collect();
        let tracks = vec![TrackInfo {
            id: 1,
            codec: TrackCodec::Video(CodecKind::Mpeg2),
            width,
            height,
            frame_duration_ns: Some(dur),
            duration_ns: Some(entries.len() as u64 * dur),
            codec_private: CodecPrivate::None,
            presentation_window_ns: None,
            pixel_aspect: None,
            crop: None,
        }];
        Ok(Mpeg2EsDemuxer {
            data,
            entries,
            next: 0,
            tracks,
        })
    }
}

impl Demuxer for Mpeg2EsDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let Some(e) = self.entries.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        Ok(Some(Packet {
            track: 1,
            data: self.data[e.start..e.end].to_vec(),
            pts_ns: Some(e.pts_ns),
            dts_ns: None,
            duration_ns: self.tracks[0].frame_duration_ns,
            keyframe: e.keyframe,
            byte_offset: e.start as u64,
        }))
    }

    /// Goes to the last packet that is a keyframe (sequence header + I
    /// picture) with `pts_ns` at or before the target (the first one if none).
    fn seek(&mut self, _track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        let mut best = 0;
        for (i, e) in self.entries.iter().enumerate() {
            if e.keyframe && e.pts_ns <= pts_ns {
                best = i;
            }
        }
        self.next = best;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq() -> Vec<u8> {
        // 720x576, 25 fps, sequence extension (Main@Main, progressive).
        let mut v = vec![
            0, 0, 1, 0xB3, 0x2D, 0x02, 0x40, 0x23, 0xFF, 0xFF, 0xE0, 0x00,
        ];
        v.extend_from_slice(&[0, 0, 1, 0xB5, 0x14, 0x8A, 0x00, 0x01, 0x00, 0x00]);
        v
    }

    fn pic(tr: u16, ty: u8, structure: u8) -> Vec<u8> {
        let b0 = (tr >> 2) as u8;
        let b1 = (((tr & 3) as u8) << 6) | (ty << 3);
        let mut v = vec![0, 0, 1, 0x00, b0, b1, 0, 0];
        // picture coding extension: id 8, f_codes 0xFFFF, dc 0, structure.
        v.extend_from_slice(&[0, 0, 1, 0xB5, 0x8F, 0xFF, 0xF0 | structure, 0x80, 0x00]);
        v.extend_from_slice(&[0, 0, 1, 0x01, 0xAA, 0xBB]);
        v
    }

    #[test]
    fn splits_frames_and_keeps_field_pairs() {
        let mut d = seq();
        d.extend(pic(0, 1, 3));
        d.extend(pic(2, 2, 1));
        d.extend(pic(2, 2, 2));
        d.extend(pic(1, 3, 3));
        let m = Mpeg2EsDemuxer::from_bytes(Path::new("x.m2v"), d.clone()).unwrap();
        assert_eq!(m.entries.len(), 3);
        assert_eq!(m.entries[0].start, 0);
        assert!(m.entries[0].keyframe);
        assert!(!m.entries[1].keyframe);
        assert_eq!(m.entries[2].end, d.len());
        assert_eq!(m.entries[1].pts_ns, 80_000_000);
        assert_eq!(m.entries[2].pts_ns, 40_000_000);
        assert_eq!((m.tracks[0].width, m.tracks[0].height), (720, 576));
    }

    #[test]
    fn no_sequence_header_is_an_error() {
        assert!(Mpeg2EsDemuxer::from_bytes(Path::new("x.m2v"), pic(0, 1, 3)).is_err());
    }
}
