//! Raw Annex-B elementary streams (`.h264`, `.h265`): byte stream format of
//! H.264 Annex B / H.265 Annex B split into access units.
//!
//! The file is streamed through a bounded buffer (never read whole). NAL units
//! are delimited by `00 00 01` start codes; a `00 00 00 01` start code's leading
//! zero byte belongs to the NAL unit it starts. Bytes before the first start
//! code are skipped. Each [`Packet`] is one access unit with its start codes,
//! `pts_ns`/`dts_ns`/`duration_ns` `None`, `keyframe` = the AU holds an IDR
//! (H.264 `nal_unit_type` 5) or IRAP (HEVC 16..=21) picture, or (H.264) a
//! recovery point SEI message (D.1.8; FFmpeg's `h264_parser.c` marks such
//! units key frames too, and the H.264 codec starts decoding at them).
//!
//! Access unit boundaries (first NAL unit of a new AU, once the current AU has
//! a VCL NAL unit):
//! * H.264 (7.4.1.2.3): AUD (9), SPS (7), PPS (8), SEI (6), types 14..=18, or a
//!   VCL NAL (1, 2, 5) whose `first_mb_in_slice` is 0 (ue(v) == 0 ⇔ the first
//!   payload bit is 1). Interlaced field pairs therefore give one AU per field.
//! * HEVC (7.4.2.4.4): VPS/SPS/PPS (32..=34), AUD (35), prefix SEI (39),
//!   41..=44, 48..=55, or a VCL NAL (0..=31) with
//!   `first_slice_segment_in_pic_flag` = 1.
//!
//! The other first-slice tests of H.264 7.4.1.2.4 (frame_num, pps_id... differ)
//! are not applied: streams with arbitrary slice order would be mis-split.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{CodecKind, ContainerError, Demuxer, Packet, TrackCodec, TrackInfo};

/// Largest access unit (and NAL unit) accepted, in bytes.
pub const MAX_AU_BYTES: usize = 32 << 20;
/// Bytes at the file's start whose access units give the average unit size
/// a seek estimates positions with.
pub const ESTIMATE_BYTES: u64 = 4 << 20;
/// Frame duration (ns) a seek assumes: the player's for a track that states
/// none (25 fps).
pub const ASSUMED_FRAME_NS: u64 = 40_000_000;
const CHUNK: usize = 64 << 10;

/// One NAL unit with its start code, as found in the file.
struct Nal {
    /// File offset of the first byte (start code included).
    offset: u64,
    /// Start code + NAL unit bytes (+ trailing zero bytes).
    bytes: Vec<u8>,
    /// Index of the NAL header's first byte in `bytes`.
    header: usize,
}

/// How many bytes of a file [`probe_codec`] looks at.
pub const PROBE_BYTES: usize = 64 << 10;

/// Recognises a raw H.264 or HEVC Annex-B byte stream by its content,
/// whatever the file is called (`.bin`, `.es`, no extension), from its first
/// bytes (at most [`PROBE_BYTES`] are read).
///
/// Every NAL unit header found after a `00 00 01` start code is checked
/// against each syntax (H.264 7.3.1 / 7.4.1: `forbidden_zero_bit` 0,
/// `nal_ref_idc` non-zero for SPS / PPS / IDR slices and zero for SEI / AUD /
/// end of sequence or stream / filler; H.265 7.3.1.2 / 7.4.2.2:
/// `forbidden_zero_bit` 0, `nuh_temporal_id_plus1` non-zero, `nuh_layer_id`
/// 0). A syntax matches when no header breaks it, fewer headers are reserved
/// or unspecified types than parameter sets and pictures, and the head holds
/// what a decoder starts from: H.264 an SPS, a PPS and an IDR slice (or more
/// than 3 non-IDR slices, a stream cut mid-GOP); HEVC a VPS, an SPS, a PPS
/// and an IRAP picture (16..=23). This follows the evidence FFmpeg's
/// `h264_probe` / `hevc_probe` (libavformat) weigh. `None` when neither or
/// both match.
pub fn probe_codec(head: &[u8]) -> Option<CodecKind> {
    let (mut h264, mut hevc) = (Some(Tally::default()), Some(Tally::default()));
    let mut i = 0;
    while i + 4 < head.len() {
        if head[i] != 0 || head[i + 1] != 0 || head[i + 2] != 1 {
            i += 1;
            continue;
        }
        let (b0, b1) = (head[i + 3], head[i + 4]);
        h264 = h264.and_then(|t| t.h264_nal(b0));
        hevc = hevc.and_then(|t| t.hevc_nal(b0, b1));
        i += 3;
    }
    let h264 = h264.is_some_and(|t| {
        t.sps > 0 && t.pps > 0 && (t.random_access > 0 || t.slices > 3) && t.plausible()
    });
    let hevc = hevc.is_some_and(|t| {
        t.vps > 0 && t.sps > 0 && t.pps > 0 && t.random_access > 0 && t.plausible()
    });
    match (h264, hevc) {
        (true, false) => Some(CodecKind::H264),
        (false, true) => Some(CodecKind::Hevc),
        _ => None,
    }
}

/// NAL unit types counted by [`probe_codec`] for one syntax.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    vps: u32,
    sps: u32,
    pps: u32,
    /// IDR (H.264) / IRAP (HEVC) slices.
    random_access: u32,
    /// Other slices.
    slices: u32,
    /// Reserved or unspecified NAL unit types.
    odd: u32,
}

impl Tally {
    /// Fewer reserved / unspecified headers than evidence for the syntax.
    fn plausible(&self) -> bool {
        self.odd < self.vps + self.sps + self.pps + self.random_access + self.slices
    }

    /// Counts an H.264 NAL header byte; `None` when it breaks the syntax.
    fn h264_nal(mut self, b: u8) -> Option<Self> {
        let (forbidden, ref_idc, ty) = (b >> 7, (b >> 5) & 3, b & 0x1f);
        if forbidden != 0 {
            return None;
        }
        match ty {
            // SPS, PPS and IDR slices are always reference data (7.4.1)
            5 | 7 | 8 if ref_idc == 0 => return None,
            // SEI, AUD, end of sequence / stream, filler: nal_ref_idc 0
            6 | 9..=12 if ref_idc != 0 => return None,
            1 => self.slices += 1,
            5 => self.random_access += 1,
            7 => self.sps += 1,
            8 => self.pps += 1,
            2..=4 | 6 | 9..=15 | 19..=21 => {}
            _ => self.odd += 1,
        }
        Some(self)
    }

    /// Counts an HEVC NAL header (two bytes); `None` when it breaks the syntax.
    fn hevc_nal(mut self, b0: u8, b1: u8) -> Option<Self> {
        let (forbidden, ty) = (b0 >> 7, (b0 >> 1) & 0x3f);
        let layer_id = (u16::from(b0 & 1) << 5) | u16::from(b1 >> 3);
        if forbidden != 0 || b1 & 7 == 0 || layer_id != 0 {
            return None;
        }
        match ty {
            0..=9 => self.slices += 1,
            16..=23 => self.random_access += 1,
            32 => self.vps += 1,
            33 => self.sps += 1,
            34 => self.pps += 1,
            35..=40 => {}
            _ => self.odd += 1,
        }
        Some(self)
    }
}

/// Where an Annex-B stream is read from: the file.
enum Source {
    File(File),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::File(f) => f.read(buf),
        }
    }
}

impl std::io::Seek for Source {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Source::File(f) => f.seek(to),
        }
    }
}

/// Annex-B demuxer: one track (id 1) of [`TrackCodec::Video`] with
/// [`CodecKind::H264`] or [`CodecKind::Hevc`].
pub struct AnnexBDemuxer {
    path: PathBuf,
    file: Source,
    hevc: bool,
    format: &'static str,
    tracks: Vec<TrackInfo>,
    /// Buffered file bytes; `buf[head..]` are unconsumed and `buf[head]` is at
    /// file offset `buf_start`.
    buf: Vec<u8>,
    head: usize,
    buf_start: u64,
    eof: bool,
    /// Whether the first start code has been found.
    synced: bool,
    /// NAL unit read ahead that begins the next AU.
    pending: Option<Nal>,
    /// The buffer of the NAL unit read last, for the next one to be read
    /// into (no allocation per NAL unit).
    spare: Vec<u8>,
    /// File size and average access unit size, measured at the first seek.
    estimate: Option<(u64, f64)>,
}

impl AnnexBDemuxer {
    /// Opens a raw elementary stream of `codec` ([`TrackCodec::Video`] with
    /// [`CodecKind::H264`] or [`CodecKind::Hevc`]).
    ///
    /// Errors: [`ContainerError::Io`]; [`ContainerError::Unsupported`] for any other codec.
    /// The average access unit size of the file's first
    /// [`ESTIMATE_BYTES`] is measured here (for [`Demuxer::seek`] and
    /// [`Demuxer::duration_ns`]).
    pub fn open(path: &Path, codec: TrackCodec) -> Result<Self, ContainerError> {
        let mut d = Self::open_plain(path, codec)?;
        d.measure()?;
        Ok(d)
    }

    fn open_plain(path: &Path, codec: TrackCodec) -> Result<Self, ContainerError> {
        let file = File::open(path).map_err(|e| ContainerError::io(path, e))?;
        Self::with_source(path, codec, Source::File(file))
    }

    fn with_source(path: &Path, codec: TrackCodec, file: Source) -> Result<Self, ContainerError> {
        let (hevc, format) = match codec {
            TrackCodec::Video(CodecKind::H264) => (false, "H.264 Annex-B"),
            TrackCodec::Video(CodecKind::Hevc) => (true, "HEVC Annex-B"),
            other => {
                return Err(ContainerError::Unsupported {
                    path: path.to_owned(),
                    what: format!("Annex-B streams of {other:?}"),
                })
            }
        };
        Ok(AnnexBDemuxer {
            path: path.to_owned(),
            file,
            hevc,
            format,
            tracks: vec![TrackInfo::new(1, codec)],
            buf: Vec::with_capacity(CHUNK),
            head: 0,
            buf_start: 0,
            eof: false,
            synced: false,
            pending: None,
            spare: Vec::new(),
            estimate: None,
        })
    }

    /// Goes on reading at byte `pos` (the start of an access unit).
    fn restart(&mut self, pos: u64) -> Result<(), ContainerError> {
        use std::io::Seek;
        self.file
            .seek(std::io::SeekFrom::Start(pos))
            .map_err(|e| ContainerError::io(&self.path, e))?;
        self.buf.clear();
        self.head = 0;
        self.buf_start = pos;
        self.eof = false;
        self.synced = false;
        self.pending = None;
        Ok(())
    }

    /// The file's size and the average access unit size (bytes) of the
    /// units in its first [`ESTIMATE_BYTES`] (read with a second handle).
    fn measure(&mut self) -> Result<(u64, f64), ContainerError> {
        if let Some(e) = self.estimate {
            return Ok(e);
        }
        let mut d = AnnexBDemuxer::open_plain(&self.path, self.tracks[0].codec.clone())?;
        let len = std::fs::metadata(&self.path)
            .map_err(|e| ContainerError::io(&self.path, e))?
            .len();
        let (mut units, mut end) = (0u64, 0u64);
        while let Ok(Some(p)) = d.next_packet() {
            if p.byte_offset >= ESTIMATE_BYTES {
                break;
            }
            units += 1;
            end = p.byte_offset + p.data.len() as u64;
        }
        let avg = if units > 0 {
            end as f64 / units as f64
        } else {
            len.max(1) as f64
        };
        self.estimate = Some((len, avg));
        Ok((len, avg))
    }

    /// Byte offsets of the random-access units starting in `from..to`.
    fn keyframes_in(&self, from: u64, to: u64) -> Result<Vec<u64>, ContainerError> {
        let mut d = AnnexBDemuxer::open_plain(&self.path, self.tracks[0].codec.clone())?;
        d.restart(from)?;
        let mut out = Vec::new();
        loop {
            match d.next_packet() {
                Ok(Some(p)) if p.byte_offset < to => {
                    if p.keyframe {
                        out.push(p.byte_offset);
                    }
                }
                Ok(_) => return Ok(out),
                Err(_) => continue,
            }
        }
    }

    /// Appends up to [`CHUNK`] bytes; returns false at end of file.
    fn fill(&mut self) -> Result<bool, ContainerError> {
        if self.eof {
            return Ok(false);
        }
        if self.head > 0 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.file.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(ContainerError::io(&self.path, e));
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The unconsumed bytes.
    fn avail(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Drops the first `n` unconsumed bytes.
    fn consume(&mut self, n: usize) {
        self.head += n;
        self.buf_start += n as u64;
    }

    /// Index (into [`Self::avail`]) of the first `00 00 01` at or after `from`.
    fn find_start_code(&self, from: usize) -> Option<usize> {
        let b = self.avail();
        let mut i = from;
        while i + 3 <= b.len() {
            // Skip quickly: a start code needs b[i+2] == 1.
            let c = b[i + 2];
            if c > 1 {
                i += 3;
            } else if c == 1 && b[i] == 0 && b[i + 1] == 0 {
                return Some(i);
            } else {
                i += 1;
            }
        }
        None
    }

    /// The next NAL unit, `Ok(None)` at end of file.
    fn next_nal(&mut self) -> Result<Option<Nal>, ContainerError> {
        // Find the first start code (skip leading garbage).
        if !self.synced {
            loop {
                if let Some(i) = self.find_start_code(0) {
                    let start = if i > 0 && self.avail()[i - 1] == 0 {
                        i - 1
                    } else {
                        i
                    };
                    self.consume(start);
                    self.synced = true;
                    break;
                }
                let keep = self.avail().len().min(2);
                self.consume(self.avail().len() - keep);
                if !self.fill()? {
                    return Ok(None);
                }
            }
        }
        if self.avail().is_empty() && !self.fill()? {
            return Ok(None);
        }
        // buf[0..] starts with [00] 00 00 01.
        let sc = match self.find_start_code(0) {
            Some(i) => i + 3,
            None => {
                // Only a partial start code left at end of file.
                if !self.fill()? {
                    self.consume(self.avail().len());
                    return Ok(None);
                }
                return self.next_nal();
            }
        };
        let mut scan = sc;
        loop {
            if let Some(j) = self.find_start_code(scan) {
                let end = if j > sc && self.avail()[j - 1] == 0 {
                    j - 1
                } else {
                    j
                };
                let mut bytes = std::mem::take(&mut self.spare);
                bytes.clear();
                bytes.extend_from_slice(&self.avail()[..end]);
                let offset = self.buf_start;
                self.consume(end);
                return Ok(Some(Nal {
                    offset,
                    bytes,
                    header: sc,
                }));
            }
            if self.avail().len() > MAX_AU_BYTES {
                let offset = self.buf_start;
                // Resync: drop this NAL unit and look for the next start code.
                let keep = 2;
                self.consume(self.avail().len() - keep);
                self.synced = false;
                return Err(ContainerError::corrupt(
                    &self.path,
                    self.format,
                    offset,
                    format!("NAL unit longer than {MAX_AU_BYTES} bytes (no start code found)"),
                ));
            }
            scan = self.avail().len().saturating_sub(2).max(sc);
            if !self.fill()? {
                let mut bytes = std::mem::take(&mut self.spare);
                bytes.clear();
                bytes.extend_from_slice(self.avail());
                let offset = self.buf_start;
                self.consume(bytes.len());
                return Ok(Some(Nal {
                    offset,
                    bytes,
                    header: sc,
                }));
            }
        }
    }

    /// (is VCL, starts a new AU if the current one has a VCL NAL, is IDR/IRAP).
    fn classify(&self, nal: &Nal) -> (bool, bool, bool) {
        classify(self.hevc, &nal.bytes[nal.header..])
    }
}

/// Of a NAL unit `h` (from its header byte on): (is VCL, starts a new AU
/// if the current one has a VCL NAL unit, is IDR / IRAP) — the rules in the
/// module doc.
pub(crate) fn classify(hevc: bool, h: &[u8]) -> (bool, bool, bool) {
    let Some(&b0) = h.first() else {
        return (false, false, false);
    };
    if hevc {
        let t = (b0 >> 1) & 0x3f;
        let vcl = t <= 31;
        let first_slice = h.get(2).is_some_and(|b| b & 0x80 != 0);
        let starts = if vcl {
            first_slice
        } else {
            matches!(t, 32..=35 | 39 | 41..=44 | 48..=55)
        };
        (vcl, starts, (16..=21).contains(&t))
    } else {
        let t = b0 & 0x1f;
        let vcl = matches!(t, 1 | 2 | 5);
        let first_mb_zero = h.get(1).is_some_and(|b| b & 0x80 != 0);
        let starts = if vcl {
            first_mb_zero
        } else {
            matches!(t, 6..=9 | 14..=18)
        };
        (
            vcl,
            starts,
            t == 5 || (t == 6 && sei_has_recovery_point(&h[1..])),
        )
    }
}

/// Whether an H.264 SEI NAL unit's payload (`rbsp` after the header byte,
/// emulation prevention bytes still in) holds a `recovery_point` message
/// (`payloadType` 6; H.264 7.3.2.3.1, D.1.8).
fn sei_has_recovery_point(p: &[u8]) -> bool {
    // Remove emulation prevention (00 00 03 -> 00 00), of the first
    // 4096 bytes, into a stack buffer (no heap allocation per SEI).
    let mut buf = [0u8; 4096];
    let mut n = 0;
    let mut zeros = 0;
    for &b in p.iter().take(buf.len()) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        buf[n] = b;
        n += 1;
    }
    let rbsp = &buf[..n];
    let mut i = 0;
    // sei_message()s until rbsp_trailing_bits (0x80).
    while i < rbsp.len() && rbsp[i] != 0x80 {
        let mut read = || -> Option<usize> {
            let mut v = 0usize;
            loop {
                let b = *rbsp.get(i)?;
                i += 1;
                v += usize::from(b);
                if b != 0xFF {
                    return Some(v);
                }
            }
        };
        let (Some(ty), Some(size)) = (read(), read()) else {
            return false;
        };
        if ty == 6 {
            return true;
        }
        i += size;
    }
    false
}

impl Demuxer for AnnexBDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let mut pkt = Packet::default();
        Ok(self.read_packet(&mut pkt)?.then_some(pkt))
    }

    fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
        let data = &mut pkt.data;
        data.clear();
        let mut byte_offset = 0u64;
        let mut has_vcl = false;
        let mut keyframe = false;
        loop {
            let nal = match self.pending.take() {
                Some(n) => n,
                None => match self.next_nal() {
                    Ok(Some(n)) => n,
                    Ok(None) => break,
                    Err(e) => {
                        if data.is_empty() {
                            return Err(e);
                        }
                        // Hand out what we have; the error is lost with the NAL unit,
                        // but the next call resumes after it.
                        break;
                    }
                },
            };
            let (vcl, starts, key) = self.classify(&nal);
            if has_vcl && starts {
                self.pending = Some(nal);
                break;
            }
            if data.is_empty() {
                byte_offset = nal.offset;
            }
            if data.len() + nal.bytes.len() > MAX_AU_BYTES {
                let off = nal.offset;
                return Err(ContainerError::corrupt(
                    &self.path,
                    self.format,
                    off,
                    format!("access unit starting at byte {byte_offset} longer than {MAX_AU_BYTES} bytes"),
                ));
            }
            has_vcl |= vcl;
            keyframe |= key;
            data.extend_from_slice(&nal.bytes);
            // its buffer takes the next NAL unit
            self.spare = nal.bytes;
        }
        if data.is_empty() {
            return Ok(false);
        }
        pkt.track = 1;
        pkt.pts_ns = None;
        pkt.dts_ns = None;
        pkt.duration_ns = None;
        pkt.keyframe = keyframe;
        pkt.byte_offset = byte_offset;
        pkt.discard_padding_ns = 0;
        Ok(true)
    }

    /// Raw streams carry no timestamps: the target is taken as access unit
    /// number `pts_ns` / [`ASSUMED_FRAME_NS`] (the player's frame duration
    /// for a track that states none) and turned into a byte position with
    /// the average access unit size of the first [`ESTIMATE_BYTES`]; the
    /// demuxer goes on at the last random-access unit (IDR / IRAP) starting
    /// at or before that position (stepping back a window at a time), or
    /// at the first one. Approximate: off by the drift between the real
    /// unit sizes and the average (for a constant-bitrate stream within a
    /// GOP; for a variable one up to the ratio of local to average
    /// bitrate times the position). `pts_ns` ≤ 0 rewinds to the start.
    fn seek(&mut self, _track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        let pick = if pts_ns <= 0 {
            0
        } else {
            let (len, avg) = self.measure()?;
            let target = (pts_ns as f64 / ASSUMED_FRAME_NS as f64).floor();
            let pos = ((target * avg) as u64).min(len);
            let mut back = (64.0 * avg) as u64 + (1 << 20);
            let mut to = pos.saturating_add(1);
            loop {
                let from = to.saturating_sub(back);
                if let Some(&k) = self.keyframes_in(from, to)?.last() {
                    break k;
                }
                if from == 0 {
                    break self.keyframes_in(0, len)?.first().copied().unwrap_or(0);
                }
                to = from;
                back = back.saturating_mul(2);
            }
        };
        self.restart(pick)
    }

    /// Access units of about this many bytes, by the first ones.
    fn duration_ns(&self) -> Option<i64> {
        let (len, avg) = self.estimate?;
        Some((len as f64 / avg * ASSUMED_FRAME_NS as f64) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_point_sei_marks_a_random_access_unit() {
        // SEI: user data unregistered (type 5, 17 bytes), then recovery
        // point (type 6, 2 bytes), trailing bits.
        let mut sei = vec![0x06, 5, 17];
        sei.extend([0xAA; 17]);
        sei.extend([6, 2, 0x84, 0x00, 0x80]);
        assert_eq!(classify(false, &sei), (false, true, true));
        // Only the user data: no.
        let mut other = vec![0x06, 5, 17];
        other.extend([0xAA; 17]);
        other.push(0x80);
        assert_eq!(classify(false, &other), (false, true, false));
        // Emulation prevention inside a payload is removed before sizing.
        let sei_ep = vec![0x06, 5, 3, 0, 0, 3, 1, 6, 1, 0x80, 0x80];
        assert_eq!(classify(false, &sei_ep), (false, true, true));
        // Truncated / garbage: no panic, no.
        assert!(!sei_has_recovery_point(&[0xFF, 0xFF]));
        assert!(!sei_has_recovery_point(&[]));
    }
}
