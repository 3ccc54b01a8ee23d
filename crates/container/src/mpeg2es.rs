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

use std::path::Path;

use super::mpegvideo::{self as parser, Extension, Unit};
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
    /// Offset in the elementary stream of each packet's first byte, in order.
    pub(crate) fn entry_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries.iter().map(|e| e.start)
    }

    /// Index of the packet [`Demuxer::next_packet`] gives next.
    pub(crate) fn next_index(&self) -> usize {
        self.next
    }

    /// Makes packet `i` the next one (past the end: none is left).
    pub(crate) fn set_next(&mut self, i: usize) {
        self.next = i.min(self.entries.len());
    }

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

    /// Indexes an elementary stream held in memory (`path` only names it in
    /// errors): its start-code units ([`parser::units`]) go through a
    /// [`PacketBuilder`], which cuts one packet per frame as the module doc
    /// says.
    ///
    /// Errors: [`ContainerError::Corrupt`] when the first sequence header
    /// does not parse or there is none.
    pub(crate) fn from_bytes(path: &Path, data: Vec<u8>) -> Result<Self, ContainerError> {
        let mut builder = PacketBuilder::new(path);
        for u in &parser::units(&data) {
            builder.push(u, &data)?;
        }
        let (entries, track) = builder.finish(data.len())?;
        Ok(Mpeg2EsDemuxer {
            data,
            entries,
            next: 0,
            tracks: vec![track],
        })
    }
}

/// What the sequence headers and their extensions say (ISO/IEC 13818-2
/// 6.2.2.1 `sequence_header()`, 6.2.2.3 `sequence_extension()`).
struct SequenceInfo {
    /// A sequence header parsed (the first one set the size).
    seen: bool,
    /// Luma size in pixels: the first sequence header's 12-bit
    /// `horizontal_size_value` / `vertical_size_value`, with the last
    /// sequence extension's 2-bit `*_size_extension` above them.
    width: u32,
    height: u32,
    /// (numerator, denominator) of the last sequence header's
    /// `frame_rate_code` (Table 6-4), frames per second.
    rate: Option<(u64, u64)>,
    /// (`frame_rate_extension_n` + 1, `frame_rate_extension_d` + 1) of the
    /// last sequence extension; (1, 1) without one.
    ext_rate: (u64, u64),
}

impl SequenceInfo {
    fn new() -> Self {
        SequenceInfo {
            seen: false,
            width: 0,
            height: 0,
            rate: None,
            ext_rate: (1, 1),
        }
    }

    /// Frame duration in ns: 10⁹ · d · (ext_d) / (n · (ext_n)) (6.3.5:
    /// frame_rate = frame_rate_value · (ext_n) / (ext_d)); 30000/1001 fps
    /// when no sequence header gave a rate.
    fn frame_duration_ns(&self) -> u64 {
        let (n, d) = self.rate.unwrap_or((30000, 1001));
        1_000_000_000 * d * self.ext_rate.1 / (n * self.ext_rate.0).max(1)
    }
}

/// The packet being collected: from the first unit after the previous
/// packet (a sequence or GOP header, else its picture header) to the unit
/// after its last slice.
struct OpenPacket {
    /// Byte offset of the packet's first unit.
    start: usize,
    /// Picture headers in it: 1, or 2 for the two field pictures of a frame.
    pictures: u32,
    /// A slice followed the last picture header.
    slices: bool,
    /// The first picture's `picture_structure` (6.2.3.1: 1 top field,
    /// 2 bottom field, 3 frame); 3 once the second field has joined.
    structure: u8,
    /// The first picture's GOP-relative `temporal_reference` (6.2.3).
    temporal_reference: u16,
    /// The first picture is an I picture (`picture_coding_type` 1).
    intra: bool,
    /// A sequence header came before the picture.
    sequence_header: bool,
}

/// One packet cut: bytes `start..end` of the stream, its frame number in
/// presentation order (earlier GOPs' frames + `temporal_reference`) and
/// whether decoding can start at it.
struct Cut {
    start: usize,
    end: usize,
    frame: u64,
    keyframe: bool,
}

/// Cuts an elementary stream into packets, one unit at a time in stream
/// order ([`PacketBuilder::push`]), then times them
/// ([`PacketBuilder::finish`]). See the module doc for what a packet is.
struct PacketBuilder<'a> {
    /// The file, for errors.
    path: &'a Path,
    sequence: SequenceInfo,
    cuts: Vec<Cut>,
    /// Frames of the earlier GOPs: the sum of each one's largest
    /// `temporal_reference` + 1.
    gop_base: u64,
    /// Largest `temporal_reference` of the current GOP so far.
    max_temporal_reference: u64,
    /// The current GOP has a picture.
    pictures_in_gop: bool,
    /// The packet being collected, from its first picture header on.
    open: Option<OpenPacket>,
    /// Offset of the first sequence / GOP header since the last picture:
    /// where the next packet starts.
    pending_start: Option<usize>,
    /// A sequence header came since the last picture.
    pending_sequence_header: bool,
}

impl<'a> PacketBuilder<'a> {
    fn new(path: &'a Path) -> Self {
        PacketBuilder {
            path,
            sequence: SequenceInfo::new(),
            cuts: Vec::new(),
            gop_base: 0,
            max_temporal_reference: 0,
            pictures_in_gop: false,
            open: None,
            pending_start: None,
            pending_sequence_header: false,
        }
    }

    /// Takes the next start-code unit `u` of `data`. A sequence, GOP or
    /// picture header (except a frame's second field) ends the open packet
    /// if it has slices. Errors: the first sequence header does not parse.
    fn push(&mut self, u: &Unit, data: &[u8]) -> Result<(), ContainerError> {
        match u.code {
            parser::SEQUENCE_HEADER => {
                self.close_after_slices(u.start);
                self.sequence_header(u, data)?;
                self.pending_start.get_or_insert(u.start);
            }
            parser::GROUP_START => {
                self.close_after_slices(u.start);
                self.group_of_pictures();
                self.pending_start.get_or_insert(u.start);
            }
            parser::PICTURE_START => self.picture(u, data),
            parser::EXTENSION_START => self.extension(u.payload(data)),
            0x01..=parser::SLICE_LAST => self.slice(),
            _ => {}
        }
        Ok(())
    }

    /// `sequence_header()` (6.2.2.1): size (first one only) and frame rate.
    /// A bad one is an error only while none has parsed yet.
    fn sequence_header(&mut self, u: &Unit, data: &[u8]) -> Result<(), ContainerError> {
        match parser::sequence_header(u.payload(data)) {
            Ok(s) => {
                if !self.sequence.seen {
                    self.sequence.width = s.horizontal_size_value;
                    self.sequence.height = s.vertical_size_value;
                }
                self.sequence.seen = true;
                self.sequence.rate = Some(s.frame_rate());
            }
            Err(e) if !self.sequence.seen => {
                return Err(ContainerError::corrupt(
                    self.path,
                    "MPEG-2 ES",
                    u.start as u64,
                    format!("sequence header: {e}"),
                ))
            }
            Err(_) => {}
        }
        self.pending_sequence_header = true;
        Ok(())
    }

    /// `group_of_pictures_header()` (6.2.2.6): `temporal_reference` restarts
    /// at 0, so the frames of the GOP before (if it had pictures) move the
    /// base on.
    fn group_of_pictures(&mut self) {
        if self.pictures_in_gop {
            self.gop_base += self.max_temporal_reference + 1;
        }
        self.max_temporal_reference = 0;
        self.pictures_in_gop = false;
    }

    /// The second field picture of the open packet's frame (its first
    /// picture is a field and has slices): it joins that packet.
    fn second_field(&mut self) -> bool {
        match self.open.as_mut() {
            Some(b) if b.pictures == 1 && b.structure != 3 && b.slices => {
                b.pictures += 1;
                b.slices = false;
                b.structure = 3;
                true
            }
            _ => false,
        }
    }

    /// `picture_header()` (6.2.3): a frame's second field joins the open
    /// packet ([`Self::second_field`]); any other picture ends the open
    /// packet if it has slices and opens one, starting at the pending
    /// sequence / GOP header, else at this header. An unreadable header
    /// counts as `temporal_reference` 0, not intra.
    fn picture(&mut self, u: &Unit, data: &[u8]) {
        if self.second_field() {
            return;
        }
        self.close_after_slices(u.start);
        let hdr = parser::picture_header(u.payload(data));
        let temporal_reference = hdr.map_or(0, |(temporal_reference, _)| temporal_reference);
        self.pictures_in_gop = true;
        self.max_temporal_reference = self.max_temporal_reference.max(temporal_reference as u64);
        self.open = Some(OpenPacket {
            start: self.pending_start.take().unwrap_or(u.start),
            pictures: 1,
            slices: false,
            structure: 3,
            temporal_reference,
            intra: hdr.is_some_and(|(_, picture_coding_type)| picture_coding_type == 1),
            sequence_header: std::mem::take(&mut self.pending_sequence_header),
        });
    }

    /// `extension_start_code` payload `p`: `picture_coding_extension()`
    /// (6.2.3.1) sets the open packet's first `picture_structure` (before
    /// its slices); `sequence_extension()` (6.2.2.3) the size's high bits
    /// and the frame-rate extension.
    fn extension(&mut self, p: &[u8]) {
        match parser::extension(p) {
            Some(Extension::PictureCoding { picture_structure }) => {
                if let Some(b) = self.open.as_mut() {
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
                let s = &mut self.sequence;
                s.width = (s.width & 0xfff) | (horizontal_size_extension << 12);
                s.height = (s.height & 0xfff) | (vertical_size_extension << 12);
                s.ext_rate = (frame_rate_extension_n + 1, frame_rate_extension_d + 1);
            }
            None => {}
        }
    }

    /// A `slice()` (6.2.4): the open packet's last picture has data.
    fn slice(&mut self) {
        if let Some(b) = self.open.as_mut() {
            b.slices = true;
        }
    }

    /// Ends the open packet at byte `end` if its last picture has slices.
    fn close_after_slices(&mut self, end: usize) {
        if self.open.as_ref().is_some_and(|b| b.slices) {
            let b = self.open.take().expect("checked above");
            self.close(b, end);
        }
    }

    /// Records packet `b` as bytes `b.start..end`.
    fn close(&mut self, b: OpenPacket, end: usize) {
        if b.pictures > 0 {
            self.cuts.push(Cut {
                start: b.start,
                end,
                frame: self.gop_base + b.temporal_reference as u64,
                keyframe: b.intra && b.sequence_header,
            });
        }
    }

    /// Ends the open packet at `end` (the stream's length) and gives the
    /// packets with their `pts_ns` (frame number × frame duration) and the
    /// track (id 1). Errors: no sequence header parsed.
    fn finish(mut self, end: usize) -> Result<(Vec<Entry>, TrackInfo), ContainerError> {
        if let Some(b) = self.open.take() {
            self.close(b, end);
        }
        if !self.sequence.seen {
            return Err(ContainerError::corrupt(
                self.path,
                "MPEG-2 ES",
                0,
                "no sequence header",
            ));
        }
        let dur = self.sequence.frame_duration_ns();
        let entries: Vec<Entry> = self
            .cuts
            .into_iter()
            .map(|c| Entry {
                start: c.start,
                end: c.end,
                pts_ns: (c.frame.saturating_mul(dur)) as i64,
                keyframe: c.keyframe,
            })
            .collect();
        let track = TrackInfo {
            id: 1,
            codec: TrackCodec::Video(CodecKind::Mpeg2),
            width: self.sequence.width,
            height: self.sequence.height,
            frame_duration_ns: Some(dur),
            duration_ns: Some(entries.len() as u64 * dur),
            codec_private: CodecPrivate::None,
            presentation_window_ns: None,
            pixel_aspect: None,
            crop: None,
            audio: None,
        };
        Ok((entries, track))
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
            discard_padding_ns: 0,
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
    fn overlapping_start_codes_are_not_a_panic() {
        // A picture start code whose code byte (00) begins a GOP start code.
        let mut d = seq();
        d.extend(pic(0, 1, 3));
        d.extend([0, 0, 1, 0x00, 0, 1, 0xB8, 0, 0, 0, 0]);
        d.extend(pic(1, 2, 3));
        let m = Mpeg2EsDemuxer::from_bytes(Path::new("x.m2v"), d).unwrap();
        assert_eq!(m.entries.len(), 2);
    }

    #[test]
    fn no_sequence_header_is_an_error() {
        assert!(Mpeg2EsDemuxer::from_bytes(Path::new("x.m2v"), pic(0, 1, 3)).is_err());
    }
}
