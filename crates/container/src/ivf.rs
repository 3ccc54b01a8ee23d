//! IVF demuxer (the libvpx/libaom test-vector container).
//!
//! Layout (libvpx `ivfdec.c`, `ivfenc.c`; all little-endian):
//! * file header, 32 bytes: `DKIF`, version u16, header size u16, fourcc
//!   (`VP80`/`VP90`/`AV01`), width u16, height u16, time base denominator u32
//!   ("rate"), time base numerator u32 ("scale"), frame count u32, unused u32;
//! * per frame a 12-byte header: frame size u32, timestamp u64 (in time base
//!   units), then the frame bytes.
//!
//! One [`Packet`] per IVF frame (a VP9 superframe stays one packet). `pts_ns`
//! = timestamp × numerator / denominator s; `dts_ns` = `pts_ns` (IVF stores
//! decode order and these codecs have no reordering at the container level).
//! `keyframe` comes from the frame header: VP8 `key_frame` bit (RFC 6386
//! §9.1), VP9 `frame_type` of the uncompressed header (VP9 spec §6.2), AV1:
//! the temporal unit carries a sequence header OBU (a heuristic: libaom and
//! ffmpeg repeat it on every key frame).
//!
//! Seek: IVF has no index and no sync pattern to resync on, so the frame
//! headers are walked from the first frame (12 bytes + the key frame bits of
//! each, never the frame data), the key frames found kept for later seeks.
//! Duration: the header's frame count × the frame duration.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{CodecKind, CodecPrivate, ContainerError, Demuxer, Packet, TrackCodec, TrackInfo};

const FORMAT: &str = "IVF";
const FILE_HEADER_LEN: u64 = 32;
const FRAME_HEADER_LEN: u64 = 12;
/// Frame bytes peeked with each frame header (for key frame detection while seeking).
const HEAD: usize = 32;

/// IVF demuxer: one video track with id 1.
pub struct IvfDemuxer {
    path: PathBuf,
    reader: BufReader<File>,
    /// The file offset `reader` reads next, when known: a move from there
    /// stays inside its buffer (`BufReader::seek_relative`, no system
    /// call) where it can; a `seek` would drop the buffer and cost an
    /// `lseek` and a `read` per frame.
    at: Option<u64>,
    file_size: u64,
    /// File offset of the next frame header.
    pos: u64,
    /// Offset of the first frame header (the header's own size field).
    first_frame: u64,
    /// Time base as numerator / denominator seconds.
    tb_num: u64,
    tb_den: u64,
    tracks: Vec<TrackInfo>,
    /// Set after an unrecoverable error or at end of file.
    done: bool,
    /// Key frames seen by seeks so far: (pts ns, frame header offset), in
    /// file order; the frame headers are walked once, as far as a seek needed.
    keys: Vec<(i64, u64)>,
    /// The next frame header the seek walk has not read, and the pts of the
    /// last one it read; `None` once it reached the end of the file.
    walked: Option<(u64, i64)>,
}

impl IvfDemuxer {
    /// Opens an IVF file and reads its 32-byte header.
    ///
    /// Errors: [`ContainerError::Io`]; [`ContainerError::Corrupt`] for a short
    /// or malformed header; [`ContainerError::Unsupported`] for an unknown fourcc.
    pub fn open(path: &Path) -> Result<Self, ContainerError> {
        let file = File::open(path).map_err(|e| ContainerError::io(path, e))?;
        let file_size = file
            .metadata()
            .map_err(|e| ContainerError::io(path, e))?
            .len();
        let mut reader = BufReader::new(file);
        let mut h = [0u8; FILE_HEADER_LEN as usize];
        reader.read_exact(&mut h).map_err(|_| {
            ContainerError::corrupt(path, FORMAT, 0, "file shorter than the 32-byte IVF header")
        })?;
        if &h[0..4] != b"DKIF" {
            return Err(ContainerError::corrupt(
                path,
                FORMAT,
                0,
                "no DKIF signature",
            ));
        }
        let le16 = |o: usize| u16::from_le_bytes([h[o], h[o + 1]]);
        let le32 = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
        let header_len = u64::from(le16(6)).max(FILE_HEADER_LEN);
        let fourcc = [h[8], h[9], h[10], h[11]];
        let codec = match &fourcc {
            b"VP80" => TrackCodec::Video(CodecKind::Vp8),
            b"VP90" => TrackCodec::Video(CodecKind::Vp9),
            b"AV01" => TrackCodec::Av1,
            _ => {
                return Err(ContainerError::Unsupported {
                    path: path.to_owned(),
                    what: format!(
                        "IVF fourcc {:?} (vreqplay knows VP80, VP90, AV01)",
                        String::from_utf8_lossy(&fourcc)
                    ),
                })
            }
        };
        let (width, height) = (u32::from(le16(12)), u32::from(le16(14)));
        let (tb_den, tb_num) = (u64::from(le32(16)), u64::from(le32(20)));
        if tb_den == 0 || tb_num == 0 {
            return Err(ContainerError::corrupt(
                path,
                FORMAT,
                16,
                format!("time base {tb_num}/{tb_den}"),
            ));
        }
        let frame_count = u64::from(le32(24));
        let mut d = IvfDemuxer {
            path: path.to_owned(),
            reader,
            file_size,
            pos: header_len,
            first_frame: header_len,
            tb_num,
            tb_den,
            tracks: Vec::new(),
            done: false,
            at: None,
            keys: Vec::new(),
            walked: Some((header_len, i64::MIN)),
        };
        // Nominal frame duration: the timestamp step between the first two
        // frames (IVF writers step by 1 time base unit per frame, but not all).
        let mut step = 1u64;
        if let (Some((_, t0, _)), Some((_, t1, _))) = (d.frame_header_at(header_len)?, {
            match d.frame_header_at(header_len)? {
                Some((size, _, _)) => {
                    d.frame_header_at(header_len + FRAME_HEADER_LEN + u64::from(size))?
                }
                None => None,
            }
        }) {
            if t1 > t0 {
                step = t1 - t0;
            }
        }
        let frame_duration_ns = d.ts_to_ns(step).map(|v| v as u64);
        let duration_ns = if frame_count > 0 {
            d.ts_to_ns(frame_count.saturating_mul(step))
                .map(|v| v as u64)
        } else {
            None
        };
        d.tracks.push(TrackInfo {
            id: 1,
            codec,
            width,
            height,
            frame_duration_ns,
            duration_ns,
            codec_private: CodecPrivate::None,
            presentation_window_ns: None,
            pixel_aspect: None,
            crop: None,
            audio: None,
        });
        d.goto(header_len)
            .map_err(|e| ContainerError::io(path, e))?;
        Ok(d)
    }

    /// Moves the reader to file offset `pos` (see [`IvfDemuxer::at`]).
    fn goto(&mut self, pos: u64) -> std::io::Result<()> {
        let r = match self.at {
            Some(at) if at == pos => Ok(()),
            Some(at) => self.reader.seek_relative(pos as i64 - at as i64),
            None => self.reader.seek(SeekFrom::Start(pos)).map(|_| ()),
        };
        self.at = r.is_ok().then_some(pos);
        r
    }

    /// Reads `buf.len()` bytes at the reader's position (then past them).
    fn read_here(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        let r = self.reader.read_exact(buf);
        self.at = match (&r, self.at) {
            (Ok(()), Some(at)) => Some(at + buf.len() as u64),
            _ => None,
        };
        r
    }

    /// Timestamp in time-base units → ns (None on overflow).
    fn ts_to_ns(&self, ts: u64) -> Option<i64> {
        let ns = u128::from(ts) * u128::from(self.tb_num) * 1_000_000_000 / u128::from(self.tb_den);
        i64::try_from(ns).ok()
    }

    /// Reads the frame header at `offset`: (frame size, timestamp, first [`HEAD`] data bytes, zero-padded).
    /// `Ok(None)` if fewer than 12 bytes remain; Corrupt if the size runs past the file end.
    fn frame_header_at(
        &mut self,
        offset: u64,
    ) -> Result<Option<(u32, u64, [u8; HEAD])>, ContainerError> {
        if offset.saturating_add(FRAME_HEADER_LEN) > self.file_size {
            return Ok(None);
        }
        self.goto(offset)
            .map_err(|e| ContainerError::io(&self.path, e))?;
        let mut fh = [0u8; 12 + HEAD];
        let want = (self.file_size - offset).min(12 + HEAD as u64) as usize;
        self.read_here(&mut fh[..want])
            .map_err(|e| ContainerError::io(&self.path, e))?;
        let size = u32::from_le_bytes([fh[0], fh[1], fh[2], fh[3]]);
        let ts = u64::from_le_bytes(fh[4..12].try_into().expect("8 bytes"));
        if offset + FRAME_HEADER_LEN + u64::from(size) > self.file_size {
            return Err(ContainerError::corrupt(
                &self.path,
                FORMAT,
                offset,
                format!(
                    "frame size {size} runs past the end of the file ({} bytes)",
                    self.file_size
                ),
            ));
        }
        let mut head = [0u8; HEAD];
        head.copy_from_slice(&fh[12..]);
        Ok(Some((size, ts, head)))
    }

    fn codec(&self) -> &TrackCodec {
        &self.tracks[0].codec
    }
}

/// Whether a VP8/VP9/AV1 frame starting with `data` is a key frame (see module docs).
fn is_keyframe(codec: &TrackCodec, data: &[u8]) -> bool {
    match codec {
        // RFC 6386 §9.1: frame tag bit 0 is key_frame, 0 = key frame.
        TrackCodec::Video(CodecKind::Vp8) => data.first().is_some_and(|b| b & 1 == 0),
        TrackCodec::Video(CodecKind::Vp9) => vp9_is_keyframe(data),
        TrackCodec::Av1 => av1_has_sequence_header(data),
        _ => false,
    }
}

/// VP9 uncompressed_header() (VP9 bitstream spec §6.2): frame_marker(2),
/// profile_low_bit, profile_high_bit, [reserved_zero if profile 3],
/// show_existing_frame, frame_type (0 = KEY_FRAME).
pub(crate) fn vp9_is_keyframe(data: &[u8]) -> bool {
    let Some(&b) = data.first() else { return false };
    if b >> 6 != 2 {
        return false;
    }
    let profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    let mut bit = 4; // index (from the MSB) of the next bit
    if profile == 3 {
        bit += 1;
    }
    let show_existing_frame = (b >> (7 - bit)) & 1;
    if show_existing_frame == 1 {
        return false;
    }
    bit += 1;
    let frame_type = (b >> (7 - bit)) & 1;
    frame_type == 0
}

/// AV1: the temporal unit contains an OBU_SEQUENCE_HEADER (obu_type 1), AV1 spec §5.3.
fn av1_has_sequence_header(data: &[u8]) -> bool {
    let mut i = 0usize;
    while i < data.len() {
        let h = data[i];
        let obu_type = (h >> 3) & 0xf;
        if obu_type == 1 {
            return true;
        }
        let has_ext = h & 4 != 0;
        let has_size = h & 2 != 0;
        i += 1 + usize::from(has_ext);
        if !has_size {
            return false;
        }
        // leb128 obu_size
        let mut size: u64 = 0;
        let mut shift = 0;
        loop {
            let Some(&b) = data.get(i) else { return false };
            i += 1;
            size |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 56 {
                return false;
            }
        }
        i = match usize::try_from(size).ok().and_then(|s| i.checked_add(s)) {
            Some(n) => n,
            None => return false,
        };
    }
    false
}

impl Demuxer for IvfDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let mut pkt = Packet::default();
        Ok(self.read_packet(&mut pkt)?.then_some(pkt))
    }

    fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
        if self.done {
            return Ok(false);
        }
        let offset = self.pos;
        let (size, ts) = match self.frame_header_at(offset) {
            Ok(Some((size, ts, _))) => (size, ts),
            Ok(None) => {
                self.done = true;
                return Ok(false);
            }
            Err(e) => {
                // A bad size (or an I/O error) leaves no way to find the next frame header.
                self.done = true;
                return Err(e);
            }
        };
        // frame_header_at checked that `size` bytes are in the file.
        pkt.data.resize(size as usize, 0);
        let mut data = std::mem::take(&mut pkt.data);
        let read = self
            .goto(offset + FRAME_HEADER_LEN)
            .and_then(|()| self.read_here(&mut data));
        pkt.data = data;
        if let Err(e) = read {
            self.done = true;
            return Err(ContainerError::io(&self.path, e));
        }
        self.pos = offset + FRAME_HEADER_LEN + u64::from(size);
        let pts_ns = self.ts_to_ns(ts);
        pkt.track = 1;
        pkt.keyframe = is_keyframe(self.codec(), &pkt.data);
        pkt.pts_ns = pts_ns;
        pkt.dts_ns = pts_ns;
        pkt.duration_ns = self.tracks[0].frame_duration_ns;
        pkt.byte_offset = offset + FRAME_HEADER_LEN;
        pkt.discard_padding_ns = 0;
        Ok(true)
    }

    /// IVF has no index and its frames cannot be found from an arbitrary
    /// byte position (a frame header is 12 bytes of size + timestamp with no
    /// sync pattern: a resync would guess), so the frame headers are walked
    /// from the first frame — only the 12-byte header and the first bytes of
    /// each frame (key frame bit) are read, never the frame data. The key
    /// frames found are kept: a later seek to a time already walked is a
    /// binary search with no I/O, and a seek further on continues the walk
    /// where the last one stopped (one pass over the headers in all).
    fn seek(&mut self, _track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        while let Some((off, last_pts)) = self.walked {
            if last_pts > pts_ns && !self.keys.is_empty() {
                break;
            }
            let Some((size, ts, head)) = self.frame_header_at(off)? else {
                self.walked = None;
                break;
            };
            let pts = self.ts_to_ns(ts).unwrap_or(i64::MAX);
            if is_keyframe(&self.tracks[0].codec, &head[..(size as usize).min(HEAD)]) {
                self.keys.push((pts, off));
            }
            self.walked = Some((off + FRAME_HEADER_LEN + u64::from(size), pts));
        }
        let k = self.keys.partition_point(|e| e.0 <= pts_ns);
        self.pos = match k.checked_sub(1) {
            Some(i) => self.keys[i].1,
            None => self.keys.first().map_or(self.first_frame, |e| e.1),
        };
        self.done = false;
        Ok(())
    }

    /// The header's frame count × the frame duration (the timestamp step
    /// of the first two frames), libvpx `ivfdec.c`'s fields.
    fn duration_ns(&self) -> Option<i64> {
        self.tracks[0]
            .duration_ns
            .and_then(|d| i64::try_from(d).ok())
    }
}
