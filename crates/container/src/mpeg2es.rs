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
//! The file is streamed through a bounded window (`Mpeg2Splitter` keeps
//! only the frame being cut); nothing is read whole.
//!
//! Seeking ([`Demuxer::seek`]): an elementary stream has no timestamps, its
//! `pts_ns` count frames. The target frame (`pts_ns` / frame duration) is
//! turned into a byte position with the average frame size of the frames
//! in the first [`ESTIMATE_BYTES`] of the file; from a window before that
//! position the stream is cut again and the last keyframe whose estimated
//! frame number (its byte position / the average frame size) is at or
//! before the target is taken. After a seek `pts_ns` go on from that
//! estimate, so they are approximate: off by the drift between the real
//! frame sizes and the average (for a constant-bitrate stream a fraction of
//! a GOP; for a variable one up to the ratio of local to average bitrate
//! times the position). A seek to 0 (or before the first keyframe) is exact.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::mpegmux::Window;
use super::mpegvideo::{self as parser, Extension};
use super::{CodecKind, ContainerError, Demuxer, Packet, TrackCodec, TrackInfo};

/// Bytes at the file's start whose frames give the average frame size a
/// seek estimates positions with.
pub const ESTIMATE_BYTES: u64 = 4 << 20;
/// Largest frame (bytes) the splitter holds; a longer stretch without a
/// frame boundary is dropped as damage.
pub const MAX_FRAME_BYTES: usize = 32 << 20;
const CHUNK: usize = 64 << 10;

/// One frame cut by `Mpeg2Splitter`: its bytes, the stream offset of its
/// first byte, its frame number in presentation order (earlier GOPs'
/// frames + `temporal_reference`), whether decoding can start at it, and
/// the frame duration (ns) in force.
pub(crate) struct Frame {
    pub data: Vec<u8>,
    pub start: u64,
    pub frame: u64,
    pub keyframe: bool,
    pub duration_ns: u64,
}

/// Cuts an MPEG-1/2 video elementary stream pushed in pieces into frames
/// (see the module doc): start-code units ([`parser::units`]' rule, found
/// incrementally) go through a [`PacketBuilder`]; bytes are kept only from
/// the start of the frame being collected.
pub(crate) struct Mpeg2Splitter {
    b: PacketBuilder,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Where the start-code search goes on in `buf`.
    scan: usize,
    /// The unit being collected: its code and start in `buf`.
    unit: Option<(u8, usize)>,
    /// Buffers given back ([`Self::recycle`]) for the next frames' bytes,
    /// at most `mpegmux::MAX_SPARE` (a transport stream's PES may hold
    /// several frames, cut before the caller hands one back).
    spare: super::mpegmux::Spares,
}

impl Mpeg2Splitter {
    /// A splitter whose first pushed byte is at stream offset `base`.
    pub fn new(path: &Path, base: u64) -> Self {
        Mpeg2Splitter {
            b: PacketBuilder::new(path),
            buf: Vec::new(),
            base,
            scan: 0,
            unit: None,
            spare: super::mpegmux::Spares::new(super::mpegmux::MAX_SPARE),
        }
    }

    /// Takes the next bytes of the stream. Errors: the first sequence
    /// header does not parse.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ContainerError> {
        self.buf.extend_from_slice(bytes);
        let mut i = self.scan;
        let b = &self.buf;
        while i + 3 < b.len() {
            if b[i + 2] > 1 {
                i += 3;
                continue;
            }
            if b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1 {
                if let Some((code, s)) = self.unit.take() {
                    let payload = &b[(s + 4).min(i)..i];
                    self.b.push(code, self.base + s as u64, payload)?;
                }
                self.unit = Some((b[i + 3], i));
                i += 3;
            } else {
                i += 1;
            }
        }
        self.scan = i;
        self.compact();
        Ok(())
    }

    /// Drops the bytes no frame needs any more.
    fn compact(&mut self) {
        let mut keep = self.base + self.scan as u64;
        if let Some((_, s)) = self.unit {
            keep = keep.min(self.base + s as u64);
        }
        if let Some(s) = self.b.earliest() {
            keep = keep.min(s);
        }
        let mut n = (keep.saturating_sub(self.base) as usize).min(self.buf.len());
        if self.buf.len() - n > MAX_FRAME_BYTES {
            // No frame boundary in MAX_FRAME_BYTES: damage; start over.
            tracing::warn!(
                "MPEG video: no frame boundary in {MAX_FRAME_BYTES} bytes at stream offset {}: dropped",
                self.base
            );
            self.b.open = None;
            self.b.pending_start = None;
            self.b.cuts.clear();
            self.unit = None;
            n = self.buf.len();
        }
        if n > 0 {
            self.buf.drain(..n);
            self.base += n as u64;
            self.scan = self.scan.saturating_sub(n);
            if let Some((_, s)) = self.unit.as_mut() {
                *s -= n;
            }
        }
    }

    /// Ends the stream: the last unit and the open frame are cut.
    pub fn finish(&mut self) -> Result<(), ContainerError> {
        if let Some((code, s)) = self.unit.take() {
            let payload = &self.buf[(s + 4).min(self.buf.len())..];
            self.b.push(code, self.base + s as u64, payload)?;
        }
        let end = self.base + self.buf.len() as u64;
        if let Some(b) = self.b.open.take() {
            self.b.close(b, end);
        }
        self.scan = self.buf.len();
        Ok(())
    }

    /// The next frame cut, if any.
    pub fn pop(&mut self) -> Option<Frame> {
        let c = self.b.cuts.pop_front()?;
        let from = (c.start.saturating_sub(self.base) as usize).min(self.buf.len());
        let to = (c.end.saturating_sub(self.base) as usize).clamp(from, self.buf.len());
        let mut data = self.spare.take(to - from);
        data.extend_from_slice(&self.buf[from..to]);
        Some(Frame {
            data,
            start: c.start,
            frame: c.frame,
            keyframe: c.keyframe,
            duration_ns: self.b.sequence.frame_duration_ns(),
        })
    }

    /// Takes back a frame's buffer for the next [`Self::pop`] to fill (no
    /// allocation per frame).
    pub fn recycle(&mut self, data: Vec<u8>) {
        self.spare.give(data);
    }

    /// Whether a sequence header has parsed.
    pub fn has_sequence(&self) -> bool {
        self.b.sequence.seen
    }

    /// The track (id 1) the sequence headers so far describe.
    pub fn track(&self) -> TrackInfo {
        let s = &self.b.sequence;
        TrackInfo {
            width: s.width,
            height: s.height,
            frame_duration_ns: Some(s.frame_duration_ns()),
            ..TrackInfo::new(1, TrackCodec::Video(CodecKind::Mpeg2))
        }
    }
}

/// The elementary-stream demuxer: one video track, id 1, streamed.
pub struct Mpeg2EsDemuxer {
    path: PathBuf,
    win: Window,
    split: Mpeg2Splitter,
    tracks: Vec<TrackInfo>,
    eof: bool,
    /// Added to every frame number (after a seek: the estimated frame
    /// number of the frame landed on minus the splitter's count there).
    frame_base: i64,
    /// Frame duration (ns) and average frame size (bytes) from the file's
    /// head, measured at the first seek.
    estimate: Option<(u64, f64)>,
    /// After a seek: frames before this stream offset are dropped.
    skip_before: Option<u64>,
    file_len: u64,
}

/// Whether `head` (the file's first bytes) starts with a sequence header.
pub fn probe(head: &[u8]) -> bool {
    head.starts_with(&[0, 0, 1, parser::SEQUENCE_HEADER])
}

impl Mpeg2EsDemuxer {
    /// Opens `path`, reading only until the first sequence header (the
    /// track's size and frame rate).
    ///
    /// Errors: [`ContainerError::Io`]; [`ContainerError::Corrupt`] when the
    /// first sequence header does not parse or there is none.
    pub fn open(path: &Path) -> Result<Self, ContainerError> {
        let f = File::open(path).map_err(|e| ContainerError::io(path, e))?;
        let file_len = f.metadata().map_err(|e| ContainerError::io(path, e))?.len();
        let mut d = Mpeg2EsDemuxer {
            path: path.to_owned(),
            win: Window::new(Box::new(f)),
            split: Mpeg2Splitter::new(path, 0),
            tracks: Vec::new(),
            eof: false,
            frame_base: 0,
            estimate: None,
            skip_before: None,
            file_len,
        };
        while !d.split.has_sequence() && d.feed()? {}
        if !d.split.has_sequence() {
            return Err(ContainerError::corrupt(
                path,
                "MPEG-2 ES",
                0,
                "no sequence header",
            ));
        }
        d.tracks = vec![d.split.track()];
        d.measure()?;
        Ok(d)
    }

    /// Pushes the next chunk of the file; false at its end (the splitter
    /// finished).
    fn feed(&mut self) -> Result<bool, ContainerError> {
        if self.eof {
            return Ok(false);
        }
        let n = self
            .win
            .want(CHUNK)
            .map_err(|e| ContainerError::io(&self.path, e))?;
        if n == 0 {
            self.eof = true;
            self.split.finish()?;
            return Ok(false);
        }
        // straight from the window (no copy of the chunk)
        let k = n.min(CHUNK);
        let r = self.split.push(&self.win.avail()[..k]);
        self.win.consume(k);
        r?;
        Ok(true)
    }

    /// Frame duration (ns) and average frame size (bytes) of the frames
    /// in the first [`ESTIMATE_BYTES`] (read with a second file handle).
    fn measure(&mut self) -> Result<(u64, f64), ContainerError> {
        if let Some(e) = self.estimate {
            return Ok(e);
        }
        let f = File::open(&self.path).map_err(|e| ContainerError::io(&self.path, e))?;
        let mut w = Window::new(Box::new(f));
        let mut s = Mpeg2Splitter::new(&self.path, 0);
        let (mut frames, mut last_end, mut read) = (0u64, 0u64, 0u64);
        loop {
            let n = w
                .want(CHUNK)
                .map_err(|e| ContainerError::io(&self.path, e))?;
            if n == 0 || read >= ESTIMATE_BYTES {
                if n == 0 {
                    s.finish()?;
                }
                while let Some(f) = s.pop() {
                    frames += 1;
                    last_end = f.start + f.data.len() as u64;
                }
                break;
            }
            let chunk = w.avail()[..n.min(CHUNK)].to_vec();
            w.consume(chunk.len());
            read += chunk.len() as u64;
            s.push(&chunk)?;
            while let Some(f) = s.pop() {
                frames += 1;
                last_end = f.start + f.data.len() as u64;
            }
        }
        let dur = s.b.sequence.frame_duration_ns();
        let avg = if frames > 0 {
            last_end as f64 / frames as f64
        } else {
            self.file_len.max(1) as f64
        };
        self.estimate = Some((dur, avg));
        Ok((dur, avg))
    }

    /// Repositions at stream offset `pos` with a fresh splitter.
    fn restart(&mut self, pos: u64) -> Result<(), ContainerError> {
        self.win
            .seek(pos)
            .map_err(|e| ContainerError::io(&self.path, e))?;
        self.split = Mpeg2Splitter::new(&self.path, pos);
        self.eof = false;
        Ok(())
    }

    /// Stream offsets of the keyframes starting in `from..to` (cut with a
    /// second file handle).
    fn keyframes_in(&self, from: u64, to: u64) -> Result<Vec<u64>, ContainerError> {
        let f = File::open(&self.path).map_err(|e| ContainerError::io(&self.path, e))?;
        let mut w = Window::new(Box::new(f));
        w.seek(from)
            .map_err(|e| ContainerError::io(&self.path, e))?;
        let mut s = Mpeg2Splitter::new(&self.path, from);
        let mut out = Vec::new();
        let mut sequence_seen = false;
        loop {
            let n = w
                .want(CHUNK)
                .map_err(|e| ContainerError::io(&self.path, e))?;
            let end = n == 0 || w.offset() >= to;
            if end {
                s.finish().ok();
            } else {
                let chunk = w.avail()[..n.min(CHUNK)].to_vec();
                w.consume(chunk.len());
                // A damaged first header in the window is not an error here.
                if s.push(&chunk).is_err() {
                    s = Mpeg2Splitter::new(&self.path, w.offset());
                }
            }
            sequence_seen |= s.has_sequence();
            while let Some(f) = s.pop() {
                if f.keyframe && sequence_seen && f.start >= from && f.start < to {
                    out.push(f.start);
                }
            }
            if end {
                return Ok(out);
            }
        }
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
    start: u64,
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
    start: u64,
    end: u64,
    frame: u64,
    keyframe: bool,
}

/// Cuts an elementary stream into packets, one unit at a time in stream
/// order ([`PacketBuilder::push`]), then times them
/// ([`PacketBuilder::finish`]). See the module doc for what a packet is.
struct PacketBuilder {
    /// The file, for errors.
    path: PathBuf,
    sequence: SequenceInfo,
    cuts: VecDeque<Cut>,
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
    pending_start: Option<u64>,
    /// A sequence header came since the last picture.
    pending_sequence_header: bool,
}

impl PacketBuilder {
    fn new(path: &Path) -> Self {
        PacketBuilder {
            path: path.to_owned(),
            sequence: SequenceInfo::new(),
            cuts: VecDeque::new(),
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
    fn push(&mut self, code: u8, start: u64, payload: &[u8]) -> Result<(), ContainerError> {
        match code {
            parser::SEQUENCE_HEADER => {
                self.close_after_slices(start);
                self.sequence_header(start, payload)?;
                self.pending_start.get_or_insert(start);
            }
            parser::GROUP_START => {
                self.close_after_slices(start);
                self.group_of_pictures();
                self.pending_start.get_or_insert(start);
            }
            parser::PICTURE_START => self.picture(start, payload),
            parser::EXTENSION_START => self.extension(payload),
            0x01..=parser::SLICE_LAST => self.slice(),
            _ => {}
        }
        Ok(())
    }

    /// `sequence_header()` (6.2.2.1): size (first one only) and frame rate.
    /// A bad one is an error only while none has parsed yet.
    fn sequence_header(&mut self, start: u64, payload: &[u8]) -> Result<(), ContainerError> {
        match parser::sequence_header(payload) {
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
                    &self.path,
                    "MPEG-2 ES",
                    start,
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
    fn picture(&mut self, start: u64, payload: &[u8]) {
        if self.second_field() {
            return;
        }
        self.close_after_slices(start);
        let hdr = parser::picture_header(payload);
        let temporal_reference = hdr.map_or(0, |(temporal_reference, _)| temporal_reference);
        self.pictures_in_gop = true;
        self.max_temporal_reference = self.max_temporal_reference.max(temporal_reference as u64);
        self.open = Some(OpenPacket {
            start: self.pending_start.take().unwrap_or(start),
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
    fn close_after_slices(&mut self, end: u64) {
        if self.open.as_ref().is_some_and(|b| b.slices) {
            let b = self.open.take().expect("checked above");
            self.close(b, end);
        }
    }

    /// Records packet `b` as bytes `b.start..end`.
    fn close(&mut self, b: OpenPacket, end: u64) {
        if b.pictures > 0 {
            self.cuts.push_back(Cut {
                start: b.start,
                end,
                frame: self.gop_base + b.temporal_reference as u64,
                keyframe: b.intra && b.sequence_header,
            });
        }
    }

    /// The stream offset of the first byte a frame still to be cut needs.
    fn earliest(&self) -> Option<u64> {
        [
            self.cuts.front().map(|c| c.start),
            self.open.as_ref().map(|b| b.start),
            self.pending_start,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl Demuxer for Mpeg2EsDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    /// The next frame; `pts_ns` = frame number × frame duration,
    /// `byte_offset` its first byte in the file.
    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let mut pkt = Packet::default();
        Ok(self.read_packet(&mut pkt)?.then_some(pkt))
    }

    /// [`Demuxer::next_packet`] into `pkt`; its old buffer takes the
    /// frame after (the splitter's [`Mpeg2Splitter::recycle`]).
    fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
        loop {
            if let Some(f) = self.split.pop() {
                if let Some(s) = self.skip_before {
                    if f.start < s {
                        continue;
                    }
                    self.skip_before = None;
                    if let Some((dur, avg)) = self.estimate {
                        // The frame landed on gets its estimated number.
                        let est = (f.start as f64 / avg).round() as i64;
                        self.frame_base = est - f.frame as i64;
                        let _ = dur;
                    }
                }
                let frame = (f.frame as i64 + self.frame_base).max(0) as u64;
                let old = std::mem::replace(
                    pkt,
                    Packet {
                        track: 1,
                        pts_ns: Some(frame.saturating_mul(f.duration_ns) as i64),
                        dts_ns: None,
                        duration_ns: Some(f.duration_ns),
                        keyframe: f.keyframe,
                        byte_offset: f.start,
                        discard_padding_ns: 0,
                        data: f.data,
                    },
                );
                self.split.recycle(old.data);
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            self.feed()?;
        }
    }

    /// Byte-position estimate (module doc): the last keyframe (sequence
    /// header + I picture) whose estimated frame number is at or before
    /// `pts_ns` / frame duration; the first keyframe when none is.
    fn seek(&mut self, _track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        let (dur, avg) = self.measure()?;
        let target_frame = (pts_ns.max(0) as f64 / dur.max(1) as f64).floor();
        let target_pos = (target_frame * avg).min(self.file_len as f64) as u64;
        // Keyframes before the target position, stepping back a window at a
        // time until one is found (the frame estimated at position p is
        // p / avg, so "at or before the target" is "at or before target_pos").
        let mut back = (64.0 * avg) as u64 + (1 << 20);
        let mut to = target_pos.saturating_add(1);
        let pick = loop {
            let from = to.saturating_sub(back);
            let keys = self.keyframes_in(from, to)?;
            if let Some(&k) = keys.last() {
                break k;
            }
            if from == 0 {
                // None at or before: the first keyframe of the file.
                let first = self.keyframes_in(0, self.file_len)?;
                break first.first().copied().unwrap_or(0);
            }
            to = from;
            back = back.saturating_mul(2);
        };
        self.restart(pick)?;
        if pick == 0 {
            self.frame_base = 0;
            self.skip_before = None;
        } else {
            self.skip_before = Some(pick);
        }
        Ok(())
    }

    /// Estimated: file size / average frame size of the head × frame
    /// duration. `None` for an empty file.
    fn duration_ns(&self) -> Option<i64> {
        let (dur, avg) = self.estimate?;
        Some((self.file_len as f64 / avg * dur as f64) as i64)
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

    /// Cuts `d` pushed in pieces of `step` bytes.
    fn split(d: &[u8], step: usize) -> Result<(Vec<Frame>, TrackInfo), ContainerError> {
        let mut s = Mpeg2Splitter::new(Path::new("x.m2v"), 0);
        let mut out = Vec::new();
        for c in d.chunks(step) {
            s.push(c)?;
            out.extend(std::iter::from_fn(|| s.pop()));
        }
        s.finish()?;
        out.extend(std::iter::from_fn(|| s.pop()));
        if !s.has_sequence() {
            return Err(ContainerError::corrupt(
                Path::new("x"),
                "MPEG-2 ES",
                0,
                "none",
            ));
        }
        Ok((out, s.track()))
    }

    #[test]
    fn splits_frames_and_keeps_field_pairs() {
        let mut d = seq();
        d.extend(pic(0, 1, 3));
        d.extend(pic(2, 2, 1));
        d.extend(pic(2, 2, 2));
        d.extend(pic(1, 3, 3));
        for step in [1, 3, 7, d.len()] {
            let (f, t) = split(&d, step).unwrap();
            assert_eq!(f.len(), 3);
            assert_eq!(f[0].start, 0);
            assert!(f[0].keyframe);
            assert!(!f[1].keyframe);
            assert_eq!(f[2].start as usize + f[2].data.len(), d.len());
            assert_eq!(f.iter().map(|f| f.data.len()).sum::<usize>(), d.len());
            assert_eq!(f[1].frame * f[1].duration_ns, 80_000_000);
            assert_eq!(f[2].frame * f[2].duration_ns, 40_000_000);
            assert_eq!((t.width, t.height), (720, 576));
        }
    }

    #[test]
    fn overlapping_start_codes_are_not_a_panic() {
        // A picture start code whose code byte (00) begins a GOP start code.
        let mut d = seq();
        d.extend(pic(0, 1, 3));
        d.extend([0, 0, 1, 0x00, 0, 1, 0xB8, 0, 0, 0, 0]);
        d.extend(pic(1, 2, 3));
        for step in [1, 2, d.len()] {
            assert_eq!(split(&d, step).unwrap().0.len(), 2);
        }
    }

    #[test]
    fn no_sequence_header_is_an_error() {
        assert!(split(&pic(0, 1, 3), 5).is_err());
    }
}
