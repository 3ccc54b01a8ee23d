//! What MPEG program streams ([`super::mpegps`]) and transport streams
//! ([`super::mpegts`]) share once they are read as PES packets
//! (`PesSource`): the PES header (ISO/IEC 13818-1 2.4.3.6 / 11172-1
//! 2.4.3.6: payload start, PTS, DTS), the 33-bit PTS unwrapped onto one
//! time line, the video split into access units / frames, audio elementary
//! streams cut into frames, and [`MuxDemuxer`], which hands out the video
//! and audio packets in file order, seeks by PTS bisection and knows the
//! duration from the head and tail timestamps.
//!
//! Streaming: the file is read through a bounded `Window` (a few hundred
//! KiB) as PES packets; each splitter keeps only the unit it is cutting.
//! Opening reads the head (at most [`PROBE_BYTES`], usually far less) and a
//! tail window ([`TAIL_BYTES`]); a multi-GB recording opens at once.
//!
//! Time axis: 0 is the smallest PTS of the first 32 video PES packets (the
//! first picture in display order; without video the first audio PTS);
//! every packet's `pts_ns` = (its PES PTS − that) in ns, so audio and video
//! keep the offset the file gives them (what ffprobe shows as the streams'
//! `start_time` difference). PTS / DTS are unwrapped at the 33-bit wrap
//! (each value taken nearest the previous one modulo 2^33), and a time base
//! discontinuity (a video DTS jump of more than 10 s forward or 1 s back,
//! or any jump out of 0..10 s after a TS `discontinuity_indicator`) is
//! bridged: the stream goes on one frame after the last timestamp, the same
//! offset applied to all streams from there (GStreamer's tsdemux keeps its
//! running time continuous over PCR discontinuities; FFmpeg's ffmpeg.c
//! re-bases DTS jumps over `dts_delta_threshold`, 10 s, for
//! `AVFMT_TS_DISCONT` formats). Timestamps stay monotonic.
//!
//! Video: H.264 / HEVC access units cut by the rules of [`super::annexb::AnnexBDemuxer`]
//! (`AuSplitter`); MPEG-1/2 frames by `Mpeg2Splitter`. A unit takes the
//! PTS / DTS of the PES its first byte is in when it is the first unit
//! starting in that PES (one picture per PES is what muxers write;
//! 13818-1 2.4.3.7); an MPEG-2 frame without one gets the frame count since
//! the last frame that had one. `byte_offset` of every packet: the file
//! offset of the PES its first byte is in.
//!
//! Audio frames (one [`Packet`] each): MPEG-1/2 audio split by the header's
//! frame length (ISO/IEC 11172-3 2.4.2.3); AAC in ADTS split likewise, the
//! ADTS header stripped, an AudioSpecificConfig built from the first header
//! (FFmpeg's `aac_adtstoasc`); AC-3 / E-AC-3 sync frames (A/52 5.3, E.1.2);
//! LATM (`stream_type` 0x11) as whole PES payloads, named
//! [`AudioCodec::Other`]. A PES PTS belongs to the first frame that starts in
//! that PES's payload (13818-1 2.4.3.7); later frames get the previous pts +
//! one frame's duration. Bytes that are no frame header are skipped to the
//! next header (a damaged frame is lost, the rest plays), except an ADTS
//! stream's first PES when it holds one raw AAC frame and the next PES
//! starts with ADTS: handed out as a packet, as FFmpeg does; a last frame
//! cut short by the end of the file is dropped.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::annexb::{classify, MAX_AU_BYTES};
use super::mpeg2es::Mpeg2Splitter;
use super::{
    audio, AudioCodec, AudioParams, CodecKind, CodecPrivate, ContainerError, Demuxer, Packet,
    TrackCodec, TrackInfo,
};
pub(crate) use vreq_core::pool::Spares;

/// Offset of the payload in a PES packet `pes` (from its `00 00 01` start
/// code), its PTS and DTS (33 bits, 90 kHz) when it has them: the MPEG-2
/// header (`10` marker bits, `PTS_DTS_flags`, `PES_header_data_length`) or
/// the MPEG-1 one (stuffing, STD buffer size, PTS / PTS+DTS forms, 0x0F).
/// `None` when the header runs past `pes` or is neither.
pub(crate) fn pes_header(pes: &[u8]) -> Option<(usize, Option<u64>, Option<u64>)> {
    let b = pes.get(6..)?;
    let first = *b.first()?;
    if first & 0xC0 == 0x80 {
        let flags = *b.get(1)?;
        let hlen = usize::from(*b.get(2)?);
        let start = 6 + 3 + hlen;
        if start > pes.len() {
            return None;
        }
        let pts = if flags & 0x80 != 0 && hlen >= 5 {
            read_pts(b.get(3..8)?)
        } else {
            None
        };
        let dts = if flags & 0xC0 == 0xC0 && hlen >= 10 {
            read_pts(b.get(8..13)?)
        } else {
            None
        };
        return Some((start, pts, dts));
    }
    let mut p = 0;
    while *b.get(p)? == 0xFF && p < 16 {
        p += 1;
    }
    if b.get(p)? & 0xC0 == 0x40 {
        p += 2;
    }
    let c = *b.get(p)?;
    let (len, pts, dts) = match c & 0xF0 {
        0x20 => (5, read_pts(b.get(p..p + 5)?), None),
        0x30 => (
            10,
            read_pts(b.get(p..p + 5)?),
            read_pts(b.get(p + 5..p + 10)?),
        ),
        _ if c == 0x0F => (1, None, None),
        _ => return None,
    };
    let start = 6 + p + len;
    (start <= pes.len()).then_some((start, pts, dts))
}

/// A 5-byte PTS / DTS field (13818-1 Table 2-21): 3 + 15 + 15 bits with
/// marker bits between.
fn read_pts(b: &[u8]) -> Option<u64> {
    let b = b.get(..5)?;
    Some(
        (u64::from((b[0] >> 1) & 7) << 30)
            | (u64::from(b[1]) << 22)
            | (u64::from(b[2] >> 1) << 15)
            | (u64::from(b[3]) << 7)
            | u64::from(b[4] >> 1),
    )
}

/// Unwraps 33-bit PTS values met in file order onto one signed 90 kHz time
/// line: each value is taken as the nearest to the previous one modulo
/// 2^33 (the streams of one file are never 13 hours apart).
#[derive(Debug, Default)]
pub(crate) struct Unwrapper {
    last: Option<i64>,
}

impl Unwrapper {
    pub fn unwrap(&mut self, raw: u64) -> i64 {
        const M: i64 = 1 << 33;
        let raw = (raw & (M as u64 - 1)) as i64;
        let v = match self.last {
            None => raw,
            Some(last) => {
                let d = (raw - last).rem_euclid(M);
                last + if d >= M / 2 { d - M } else { d }
            }
        };
        self.last = Some(v);
        v
    }
}

/// Where a PES packet's payload begins in its stream's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    /// Offset in the stream's elementary stream (since the demuxer started
    /// reading at its current position).
    pub es_pos: u64,
    /// PTS (90 kHz) on the file's time line, if the PES had one.
    pub pts: Option<i64>,
    /// DTS (90 kHz) on the file's time line, if the PES had one.
    pub dts: Option<i64>,
    /// File offset of the PES packet's start (TS packet / PS packet).
    pub file_offset: u64,
}

/// The coded format of an audio elementary stream, as the container names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioKind {
    /// MPEG-1/2 audio (layer from the frames).
    Mpa,
    /// AAC with ADTS headers.
    Adts,
    /// AC-3 or E-AC-3 (from the frames' `bsid`).
    Ac3,
    /// AAC in LATM / LOAS: passed on per PES.
    Latm,
}

/// What a PES packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    /// The program's video (track 1).
    Video(CodecKind),
    /// An audio stream.
    Audio(AudioKind),
}

/// One PES packet as a `PesSource` hands it on.
#[derive(Debug)]
pub(crate) struct Pes {
    /// Track id: TS PID, PS `stream_id` (private stream 1: sub-stream id);
    /// 1 for the video.
    pub id: u32,
    pub kind: StreamKind,
    pub payload: Vec<u8>,
    /// Raw 33-bit PTS / DTS (90 kHz).
    pub pts: Option<u64>,
    pub dts: Option<u64>,
    /// File offset of the packet that starts the PES (TS packet incl. an
    /// M2TS prefix; PS PES start code).
    pub offset: u64,
    /// The container signalled a time base discontinuity before this PES
    /// (TS `discontinuity_indicator` on its PID or the PCR PID).
    pub discontinuity: bool,
}

/// A program or transport stream read as PES packets in file order.
pub(crate) trait PesSource: Send {
    /// The next PES packet of a stream the demuxer reads; `Ok(None)` at
    /// the end of the file.
    fn next_pes(&mut self) -> Result<Option<Pes>, ContainerError>;
    /// Takes back a [`Pes::payload`] handed on by [`Self::next_pes`], for
    /// a later PES's payload (no allocation per PES). Default: dropped.
    fn recycle(&mut self, payload: Vec<u8>) {
        drop(payload);
    }
    /// Goes on at the first packet boundary at or after byte `pos` with
    /// every per-stream state (PES being gathered, continuity counter)
    /// reset; what the source learnt of the file's structure (PSI) stays.
    fn seek(&mut self, pos: u64) -> Result<(), ContainerError>;
    /// The file's size in bytes.
    fn len(&self) -> u64;
    /// File offset of the next byte the source reads.
    fn position(&self) -> u64;
    /// A second, independent reader of the same file (for seek and
    /// duration look-ups), at its start.
    fn fork(&self) -> Result<Box<dyn PesSource>, ContainerError>;
    /// The audio streams the container declares (TS: the PMT's, in its
    /// order), as (track id, kind); empty when streams are found as they
    /// come (PS).
    fn declared_audio(&self) -> Vec<(u32, AudioKind)> {
        Vec::new()
    }
    /// Bytes of the head read at least before the tracks are settled
    /// (where streams are found as they come).
    fn min_probe(&self) -> u64 {
        0
    }
}

/// Anything a `Window` reads from.
pub(crate) trait Source: Read + Seek + Send {}
impl<T: Read + Seek + Send> Source for T {}

/// Reads a file through a bounded buffer: at most what one [`Self::want`]
/// asks for plus [`WINDOW_CHUNK`] bytes are held.
pub(crate) struct Window {
    r: Box<dyn Source>,
    buf: Vec<u8>,
    head: usize,
    /// File offset of `buf[head]`.
    start: u64,
    eof: bool,
}

/// Bytes a `Window` reads at a time.
pub(crate) const WINDOW_CHUNK: usize = 256 << 10;

impl Window {
    pub fn new(r: Box<dyn Source>) -> Self {
        Window {
            r,
            buf: Vec::new(),
            head: 0,
            start: 0,
            eof: false,
        }
    }

    /// File offset of the first unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.start
    }

    /// The unconsumed bytes read so far.
    pub fn avail(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Reads until at least `n` bytes are unconsumed or the file ends;
    /// returns how many are.
    pub fn want(&mut self, n: usize) -> std::io::Result<usize> {
        while self.buf.len() - self.head < n && !self.eof {
            if self.head > 0 {
                self.buf.drain(..self.head);
                self.head = 0;
            }
            let old = self.buf.len();
            // Up to WINDOW_CHUNK in all (more only for a larger `n`): the
            // buffer keeps the size it first had, whatever was left over.
            self.buf.resize(n.max(WINDOW_CHUNK), 0);
            let got = loop {
                match self.r.read(&mut self.buf[old..]) {
                    Ok(k) => break k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + got);
            self.eof = got == 0;
        }
        Ok(self.buf.len() - self.head)
    }

    /// Drops the first `n` unconsumed bytes.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.head);
        self.head += n;
        self.start += n as u64;
    }

    /// Goes on reading at file offset `pos`.
    pub fn seek(&mut self, pos: u64) -> std::io::Result<()> {
        self.r.seek(SeekFrom::Start(pos))?;
        self.buf.clear();
        self.head = 0;
        self.start = pos;
        self.eof = false;
        Ok(())
    }
}

/// 90 kHz ticks → ns.
pub(crate) fn ticks_ns(t: i64) -> i64 {
    (i128::from(t) * 100_000 / 9).clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

/// ns → 90 kHz ticks (rounded down).
fn ns_ticks(ns: i64) -> i64 {
    (i128::from(ns) * 9).div_euclid(100_000) as i64
}

/// The value `raw` + k · 2^33 nearest to `near` (33-bit wrap).
fn unwrap_near(raw: u64, near: i64) -> i64 {
    const M: i64 = 1 << 33;
    let raw = (raw & (M as u64 - 1)) as i64;
    let d = (raw - near).rem_euclid(M);
    near + if d >= M / 2 { d - M } else { d }
}

/// One frame found in an audio ES: bytes, samples per channel, rate,
/// channels, and the ADTS header it came with.
struct Frame {
    start: usize,
    data_start: usize,
    end: usize,
    samples: u32,
    rate: u32,
    channels: u16,
    codec: AudioCodec,
    adts: Option<audio::AdtsHeader>,
}

/// The frame starting at `p` of `es`, if a header of `kind` is there and the
/// frame fits.
fn frame_at(es: &[u8], p: usize, kind: AudioKind) -> Option<Frame> {
    let rest = es.get(p..)?;
    let f = match kind {
        AudioKind::Mpa => {
            let h = audio::mpa_header(rest)?;
            Frame {
                start: p,
                data_start: p,
                end: p + h.frame_len,
                samples: h.samples,
                rate: h.sample_rate,
                channels: h.channels,
                codec: h.codec(),
                adts: None,
            }
        }
        AudioKind::Adts => {
            let h = audio::adts_header(rest)?;
            let channels = match h.channel_config {
                7 => 8,
                c => u16::from(c),
            };
            Frame {
                start: p,
                data_start: p + h.header_len,
                end: p + h.frame_len,
                samples: 1024 * u32::from(h.blocks),
                rate: h.sample_rate(),
                channels,
                codec: AudioCodec::Aac,
                adts: Some(h),
            }
        }
        AudioKind::Ac3 => {
            let h = audio::ac3_header(rest)?;
            Frame {
                start: p,
                data_start: p,
                end: p + h.frame_len,
                samples: h.samples,
                rate: h.sample_rate,
                channels: h.channels,
                codec: if h.eac3 {
                    AudioCodec::Eac3
                } else {
                    AudioCodec::Ac3
                },
                adts: None,
            }
        }
        AudioKind::Latm => return None,
    };
    (f.end <= es.len() && f.data_start <= f.end).then_some(f)
}

/// A header at `p` counts when its frame is followed by another header of
/// the same kind, or by the end of the stream (guards against sync words
/// inside frame data after a damaged stretch).
fn confirmed(es: &[u8], p: usize, kind: AudioKind) -> Option<Frame> {
    let f = frame_at(es, p, kind)?;
    let next = &es[f.end..];
    let header_next = match kind {
        AudioKind::Mpa => audio::mpa_header(next).is_some(),
        AudioKind::Adts => audio::adts_header(next).is_some(),
        AudioKind::Ac3 => audio::ac3_header(next).is_some(),
        AudioKind::Latm => false,
    };
    if next.is_empty() || header_next {
        Some(f)
    } else {
        None
    }
}

/// Bytes a frame header decision may look at past a position: a header
/// and the next frame's header need fewer; while fewer are buffered and
/// the stream goes on, the cutter waits for more.
const LOOKAHEAD: usize = 16;

/// Whether a frame (or the header after it) at `p` cannot be judged yet.
fn undecided(es: &[u8], p: usize, kind: AudioKind, eof: bool) -> bool {
    if eof {
        return false;
    }
    if es.len() < p + LOOKAHEAD {
        return true;
    }
    match frame_header_len(es, p, kind) {
        Some(end) => es.len() < end + LOOKAHEAD,
        None => false,
    }
}

/// End of the frame whose header is at `p` (it may lie past `es`).
fn frame_header_len(es: &[u8], p: usize, kind: AudioKind) -> Option<usize> {
    let rest = es.get(p..)?;
    Some(
        p + match kind {
            AudioKind::Mpa => audio::mpa_header(rest)?.frame_len,
            AudioKind::Adts => audio::adts_header(rest)?.frame_len,
            AudioKind::Ac3 => audio::ac3_header(rest)?.frame_len,
            AudioKind::Latm => return None,
        },
    )
}

/// What the first frame of an audio stream says: its track.
#[derive(Debug, Clone)]
struct FirstFrame {
    codec: AudioCodec,
    rate: u32,
    channels: u16,
    samples: u32,
    adts: Option<audio::AdtsHeader>,
}

/// Cuts one audio elementary stream, pushed one PES payload at a time,
/// into frames (see the module doc); keeps only the bytes from the next
/// frame on.
pub(crate) struct AudioCutter {
    pub id: u32,
    pub kind: AudioKind,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Stream offset where the next frame is looked for.
    p: u64,
    marks: VecDeque<Mark>,
    /// Pushed bytes so far.
    es_len: u64,
    /// File offset of the last PES a frame started in.
    last_offset: u64,
    /// (pts ns, samples, rate) of the last frame with a pts.
    last_pts: Option<(i64, u32, u32)>,
    first: Option<FirstFrame>,
    /// The stream was read from the file's start (a leading raw AAC frame
    /// is only looked for there).
    from_start: bool,
    ref_pts: i64,
    skipped: usize,
    /// Buffers given back ([`Self::recycle`]) for the next frames' bytes,
    /// at most [`MAX_SPARE_AUDIO`].
    spare: Spares,
}

impl AudioCutter {
    /// A cutter whose pts are relative to `ref_pts` (90 kHz).
    pub fn new(id: u32, kind: AudioKind, ref_pts: i64, from_start: bool) -> Self {
        AudioCutter {
            id,
            kind,
            buf: Vec::new(),
            base: 0,
            p: 0,
            marks: VecDeque::new(),
            es_len: 0,
            last_offset: 0,
            last_pts: None,
            first: None,
            from_start,
            ref_pts,
            skipped: 0,
            spare: Spares::new(MAX_SPARE_AUDIO),
        }
    }

    /// Takes back a frame's buffer for a later frame's bytes (no allocation
    /// per frame once the buffers have grown to the largest frame).
    pub fn recycle(&mut self, data: Vec<u8>) {
        self.spare.give(data);
    }

    /// Appends one PES packet's payload (`pts` unwrapped, 90 kHz).
    pub fn push(&mut self, payload: &[u8], pts: Option<i64>, file_offset: u64) {
        self.marks.push_back(Mark {
            es_pos: self.es_len,
            pts,
            dts: None,
            file_offset,
        });
        self.es_len += payload.len() as u64;
        self.buf.extend_from_slice(payload);
    }

    /// The track its first frame describes; `None` before one.
    pub fn track(&self) -> Option<TrackInfo> {
        if self.kind == AudioKind::Latm {
            return (self.es_len > 0).then(|| TrackInfo {
                audio: Some(AudioParams::default()),
                ..TrackInfo::new(
                    self.id,
                    TrackCodec::Audio(AudioCodec::Other("aac_latm".into())),
                )
            });
        }
        let f = self.first.as_ref()?;
        let frame_duration_ns =
            (f.rate > 0).then(|| u64::from(f.samples) * 1_000_000_000 / u64::from(f.rate));
        Some(TrackInfo {
            frame_duration_ns,
            codec_private: match &f.adts {
                Some(h) => CodecPrivate::Raw(h.audio_specific_config()),
                None => CodecPrivate::None,
            },
            audio: Some(AudioParams {
                sample_rate: f.rate,
                channels: f.channels,
                skip_samples: 0,
            }),
            ..TrackInfo::new(self.id, TrackCodec::Audio(f.codec.clone()))
        })
    }

    fn packet(&self, data: Vec<u8>, pts: Option<i64>, offset: u64) -> Packet {
        Packet {
            track: self.id,
            data,
            pts_ns: pts.map(|t| ticks_ns(t - self.ref_pts)),
            dts_ns: None,
            duration_ns: None,
            keyframe: true,
            byte_offset: offset,
            discard_padding_ns: 0,
        }
    }

    /// Cuts the frames complete so far into `out`; `eof`: the stream
    /// ended (the last frames are judged without more bytes).
    pub fn drain(&mut self, eof: bool, out: &mut VecDeque<Packet>) {
        if self.kind == AudioKind::Latm {
            // Whole PES payloads: each one is complete once the next has
            // begun (or at the end).
            while self.marks.len() > 1 || (eof && !self.marks.is_empty()) {
                let m = self.marks.pop_front().expect("checked");
                let end = self.marks.front().map_or(self.es_len, |n| n.es_pos);
                let from = (m.es_pos - self.base) as usize;
                let to = (end - self.base) as usize;
                if to > from {
                    out.push_back(self.packet(self.buf[from..to].to_vec(), m.pts, m.file_offset));
                }
                self.buf.drain(..to);
                self.base = end;
                self.p = end;
            }
            return;
        }
        loop {
            let es = &self.buf;
            let p = (self.p - self.base) as usize;
            if p >= es.len() {
                break;
            }
            if undecided(es, p, self.kind, eof) {
                break;
            }
            let f = match frame_at(es, p, self.kind) {
                Some(f) => f,
                None => {
                    // Resync: the next confirmed header.
                    let mut next = None;
                    let mut wait = false;
                    for q in p + 1..es.len() {
                        if frame_header_len(es, q, self.kind).is_none() {
                            continue;
                        }
                        if undecided(es, q, self.kind, eof) {
                            wait = true;
                            break;
                        }
                        if confirmed(es, q, self.kind).is_some() {
                            next = Some(q);
                            break;
                        }
                    }
                    if self.from_start && self.p == 0 && self.kind == AudioKind::Adts {
                        // A leading raw AAC frame needs the second PES.
                        if self.marks.len() < 2 && !eof {
                            break;
                        }
                        if let Some(raw) = self.leading_raw(next) {
                            out.push_back(raw);
                            self.p = self.base + next.unwrap_or(es.len()) as u64;
                            continue;
                        }
                    }
                    match next {
                        Some(q) => {
                            self.skipped += q - p;
                            self.p = self.base + q as u64;
                            continue;
                        }
                        None if wait => break,
                        None => {
                            // Nothing here is a header: keep only what a
                            // header starting near the end may need.
                            let keep = if eof { 0 } else { LOOKAHEAD };
                            let to = es.len().saturating_sub(keep).max(p);
                            self.skipped += to - p;
                            self.p = self.base + to as u64;
                            break;
                        }
                    }
                }
            };
            // The PES a frame starts in; its PTS if this is the first frame
            // starting in it.
            let start = self.base + f.start as u64;
            let mut pts_ticks = None;
            while self.marks.front().is_some_and(|m| m.es_pos <= start) {
                let m = self.marks.pop_front().expect("checked");
                if m.pts.is_some() {
                    pts_ticks = m.pts;
                }
                self.last_offset = m.file_offset;
            }
            let pts_ns = match (pts_ticks, self.last_pts) {
                (Some(t), _) => Some(ticks_ns(t - self.ref_pts)),
                (None, Some((ns, samples, rate))) if rate > 0 => {
                    Some(ns + (i64::from(samples) * 1_000_000_000 / i64::from(rate)))
                }
                _ => None,
            };
            if let Some(ns) = pts_ns {
                self.last_pts = Some((ns, f.samples, f.rate));
            }
            let duration_ns =
                (f.rate > 0).then(|| u64::from(f.samples) * 1_000_000_000 / u64::from(f.rate));
            let mut data = self.spare.take(f.end - f.data_start);
            data.extend_from_slice(&es[f.data_start..f.end]);
            out.push_back(Packet {
                track: self.id,
                data,
                pts_ns,
                dts_ns: None,
                duration_ns,
                keyframe: true,
                byte_offset: self.last_offset,
                discard_padding_ns: 0,
            });
            self.p = self.base + f.end as u64;
            if self.first.is_none() {
                self.first = Some(FirstFrame {
                    codec: f.codec.clone(),
                    rate: f.rate,
                    channels: f.channels,
                    samples: f.samples,
                    adts: f.adts,
                });
                // A leading raw frame had no duration of its own: the stream's.
                let d =
                    (f.rate > 0).then(|| u64::from(f.samples) * 1_000_000_000 / u64::from(f.rate));
                for q in out
                    .iter_mut()
                    .filter(|q| q.track == self.id && q.duration_ns.is_none())
                {
                    q.duration_ns = d;
                }
            }
        }
        // Bytes before the next frame are no longer needed.
        let n = (self.p - self.base) as usize;
        if n > 0 {
            self.buf.drain(..n.min(self.buf.len()));
            self.base = self.p;
        }
        if eof && self.skipped > 0 {
            tracing::warn!(
                "audio stream {}: {} bytes without a frame header skipped",
                self.id,
                self.skipped
            );
            self.skipped = 0;
        }
    }

    /// An ADTS stream whose first PES payload holds no ADTS header but is
    /// followed by a PES that starts with one: that payload is taken as one
    /// raw AAC frame (`raw_data_block`, ISO/IEC 14496-3 4.4.2.1) and handed
    /// out as a packet with its PES's pts, as FFmpeg's MPEG-TS demuxer
    /// passes it on (its AAC decoder then decodes it with the configuration
    /// of the ADTS headers that follow).
    /// `debian-src-gst-plugins-bad1.0/test.ts` starts so: a 149-byte frame
    /// carrying libfaac's fill element, then ADTS. Anywhere else such bytes
    /// are damage and skipped. `next`: the next confirmed header (index in
    /// the buffer, which starts at stream offset 0 here).
    fn leading_raw(&self, next: Option<usize>) -> Option<Packet> {
        /// The largest raw frame: 6144 bits per channel (ISO/IEC 14496-3
        /// 4.5.3.2), 8 channels.
        const MAX_RAW: usize = 6144;
        if self.base != 0 {
            return None;
        }
        // The first PES with payload (empty ones share its position).
        let m = self.marks.iter().rfind(|m| m.es_pos == 0)?;
        let end = self.marks.iter().find(|m| m.es_pos > 0)?.es_pos as usize;
        if next != Some(end) || end > MAX_RAW {
            return None;
        }
        Some(self.packet(self.buf[..end].to_vec(), m.pts, m.file_offset))
    }
}

/// Cuts a whole audio ES (PES payloads with their unwrapped PTS and file
/// offsets) into packets relative to `ref_pts` (90 kHz): the track (None
/// when no frame was found) and the packets.
#[cfg(test)]
pub(crate) fn audio_packets(
    id: u32,
    kind: AudioKind,
    pes: &[(&[u8], Option<i64>, u64)],
    ref_pts: i64,
) -> (Option<TrackInfo>, Vec<Packet>) {
    let mut c = AudioCutter::new(id, kind, ref_pts, true);
    let mut out = VecDeque::new();
    for (payload, pts, offset) in pes {
        c.push(payload, *pts, *offset);
        c.drain(false, &mut out);
    }
    c.drain(true, &mut out);
    (c.track(), out.into())
}

/// Splits an H.264 / HEVC byte stream pushed in pieces into access units,
/// by the rules of [`super::annexb::AnnexBDemuxer`] (same NAL unit bytes, same boundaries),
/// keeping only the bytes of the unit being collected.
pub(crate) struct AuSplitter {
    hevc: bool,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    scan: usize,
    /// The NAL unit being collected: its first byte and its header's index
    /// (0 when those bytes went to `au` already, see `moved`).
    nal: Option<(usize, usize)>,
    /// The NAL unit being collected has its first bytes in `au` already:
    /// (index in `au` where they start, its header's offset from its first
    /// byte, its first byte's stream offset).
    moved: Option<(usize, usize, u64)>,
    au: Vec<u8>,
    au_start: u64,
    has_vcl: bool,
    key: bool,
    /// Cut units: stream offset, bytes, IDR / IRAP.
    pub out: VecDeque<(u64, Vec<u8>, bool)>,
    /// Buffers given back ([`Self::recycle`]) for the next units' bytes, at
    /// most [`MAX_SPARE`].
    spare: Spares,
}

/// Buffers a video splitter keeps for reuse at most: the packet the
/// caller holds comes back on its next read, and a PES may hold several
/// units cut before that; no more than were in flight at once ever come
/// back, more are dropped.
pub(crate) const MAX_SPARE: usize = 8;

/// Buffers an audio cutter keeps for reuse at most: every frame of a PES
/// is cut before the first comes back (npm-mux.js/sintel-captions.ts
/// carries 9 AAC frames per PES); more are dropped.
pub(crate) const MAX_SPARE_AUDIO: usize = 32;

/// Bytes an [`AuSplitter`] scans at a time: its own buffer holds at most
/// these and a few more (the NAL unit being collected goes on to the unit's
/// buffer as it comes), whatever the size of the pieces pushed (a PES
/// payload, often a whole access unit), and is allocated once at that size.
const PUSH_PIECE: usize = 4096;

impl AuSplitter {
    pub fn new(hevc: bool) -> Self {
        AuSplitter {
            hevc,
            // a piece and the few bytes kept between pieces, at once
            buf: Vec::with_capacity(PUSH_PIECE + 16),
            base: 0,
            scan: 0,
            nal: None,
            moved: None,
            au: Vec::new(),
            au_start: 0,
            has_vcl: false,
            key: false,
            out: VecDeque::new(),
            spare: Spares::new(MAX_SPARE),
        }
    }

    /// Takes back a unit's buffer for a later unit's bytes (no allocation
    /// per access unit once the buffers have grown to the largest unit).
    pub fn recycle(&mut self, data: Vec<u8>) {
        self.spare.give(data);
    }

    /// Takes the next bytes of the stream, [`PUSH_PIECE`] bytes at a time.
    pub fn push(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(PUSH_PIECE) {
            self.push_piece(piece);
        }
    }

    fn push_piece(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let mut i = self.scan;
        while i + 3 <= self.buf.len() {
            let b = &self.buf;
            let c = b[i + 2];
            if c > 1 {
                i += 3;
                continue;
            }
            if !(c == 1 && b[i] == 0 && b[i + 1] == 0) {
                i += 1;
                continue;
            }
            match self.nal {
                None => {
                    let start = if i > 0 && b[i - 1] == 0 { i - 1 } else { i };
                    self.nal = Some((start, i + 3));
                }
                Some((s, sc)) => {
                    let end = if i > sc && b[i - 1] == 0 { i - 1 } else { i };
                    self.nal_done(s, sc, end);
                    self.nal = Some((end, i + 3));
                }
            }
            i += 3;
        }
        let floor = self.nal.map_or(0, |n| n.1);
        self.scan = i.min(self.buf.len().saturating_sub(2)).max(floor);
        // Keep from the NAL unit being collected (or the last two bytes,
        // which may begin a start code).
        let keep = self.nal.map_or(self.scan, |n| n.0);
        if keep > 0 {
            self.buf.drain(..keep);
            self.base += keep as u64;
            self.scan -= keep;
            if let Some(n) = self.nal.as_mut() {
                n.0 -= keep;
                n.1 -= keep;
            }
        }
        let moved = self.moved.map_or(0, |m| self.au.len() - m.0);
        if moved + self.buf.len() > MAX_AU_BYTES {
            tracing::warn!("NAL unit longer than {MAX_AU_BYTES} bytes: dropped");
            self.base += self.buf.len() as u64;
            self.buf.clear();
            self.scan = 0;
            self.nal = None;
            if let Some((at, ..)) = self.moved.take() {
                self.au.truncate(at);
            }
        }
        // The NAL unit's bytes so far (but the last few, which the next
        // start code may begin with or look back at) go on to `au` now,
        // tentatively (`nal_done` moves them to the next unit if this NAL
        // unit starts one): `buf` keeps a few bytes, not a NAL unit, and
        // does not grow with the units.
        if let Some((s, sc)) = self.nal {
            let m = self.scan.saturating_sub(4);
            if m > s {
                if self.moved.is_none() {
                    self.moved = Some((self.au.len(), sc - s, self.base + s as u64));
                }
                let len = self.au.len() + (m - s);
                self.spare.reserve(&mut self.au, len);
                self.au.extend_from_slice(&self.buf[s..m]);
                self.buf.drain(..m);
                self.base += m as u64;
                self.scan -= m;
                self.nal = Some((0, sc.saturating_sub(m)));
            }
        }
    }

    /// NAL unit `buf[s..end]` (header at `sc`) is complete (its first
    /// bytes in `au` already if `moved`).
    fn nal_done(&mut self, s: usize, sc: usize, end: usize) {
        let moved = self.moved.take();
        let (vcl, starts, key) = match moved {
            None => classify(self.hevc, &self.buf[sc..end]),
            Some((at, hdr, _)) => {
                let len = self.au.len() + (end - s);
                self.spare.reserve(&mut self.au, len);
                self.au.extend_from_slice(&self.buf[s..end]);
                classify(self.hevc, self.au.get(at + hdr..).unwrap_or(&[]))
            }
        };
        // `au`'s bytes before this NAL unit, its length, its stream offset
        let (mut before, nal_len, pos) = match moved {
            None => (self.au.len(), end - s, self.base + s as u64),
            Some((at, _, pos)) => (at, self.au.len() - at, pos),
        };
        if self.has_vcl && starts {
            if before > 0 {
                let mut next = self.spare.take(0);
                if moved.is_some() {
                    // this NAL unit's bytes begin the next unit
                    self.spare.reserve(&mut next, nal_len);
                    next.extend_from_slice(&self.au[before..]);
                    self.au.truncate(before);
                }
                self.emit_into(next);
                before = 0;
            } else {
                self.has_vcl = false;
                self.key = false;
            }
        }
        if before == 0 {
            self.au_start = pos;
        }
        if before + nal_len > MAX_AU_BYTES {
            tracing::warn!(
                "access unit at stream offset {} longer than {MAX_AU_BYTES} bytes: dropped",
                self.au_start
            );
            self.au.clear();
            self.has_vcl = false;
            self.key = false;
            return;
        }
        self.has_vcl |= vcl;
        self.key |= key;
        if moved.is_none() {
            let nal = &self.buf[s..end];
            let len = self.au.len() + nal.len();
            self.spare.reserve(&mut self.au, len);
            self.au.extend_from_slice(nal);
        }
    }

    /// Hands the unit gathered on, `next` taking its place.
    fn emit_into(&mut self, next: Vec<u8>) {
        self.out.push_back((
            self.au_start,
            std::mem::replace(&mut self.au, next),
            self.key,
        ));
        self.has_vcl = false;
        self.key = false;
    }

    fn emit(&mut self) {
        if !self.au.is_empty() {
            let next = self.spare.take(0);
            self.emit_into(next);
        }
        self.has_vcl = false;
        self.key = false;
    }

    /// The stream ended: the last NAL unit and access unit are cut.
    pub fn finish(&mut self) {
        if let Some((s, sc)) = self.nal.take() {
            let end = self.buf.len();
            self.nal_done(s, sc.min(end), end);
        }
        self.emit();
    }
}

/// The video track's splitter.
enum VideoSplit {
    /// H.264 / HEVC access units.
    Nal(AuSplitter),
    /// MPEG-1/2 frames.
    Mpeg2(Box<Mpeg2Splitter>),
}

/// PES packets → packets: the video split into access units / frames
/// timed by their PES, the audio cut into frames, in the order they
/// complete (file order, up to the one unit each splitter holds back).
struct Engine {
    path: PathBuf,
    src: Box<dyn PesSource>,
    /// PES read ahead at open (the probe), handed on before the source's.
    pending: VecDeque<Pes>,
    clock: Unwrapper,
    /// Ticks added to every timestamp after a time base discontinuity.
    shift: i64,
    /// The last video DTS (else PTS) after `shift`, ticks.
    last_video_ts: Option<i64>,
    /// Video frame duration in ticks (what a discontinuity is bridged with).
    frame_ticks: i64,
    ref_pts: i64,
    video: Option<VideoSplit>,
    marks: VecDeque<Mark>,
    es_len: u64,
    /// es_pos of the last mark whose PTS was given to a unit.
    used_mark: Option<u64>,
    /// MPEG-2: PES PTS − time line's 0 − frame number × duration (ticks)
    /// at the last PES-timed frame; `None` before the first one since the
    /// start / a seek.
    anchor_ns: Option<i64>,
    /// MPEG-2 frames without a PES PTS before the first one that has one
    /// (timed from it), with their frame number × duration (ticks).
    held: Vec<(Packet, i64)>,
    /// Video units are dropped until a keyframe (after a reposition).
    wait_key: bool,
    audio: Vec<AudioCutter>,
    audio_on: bool,
    /// The cutters start at the file's start.
    from_start: bool,
    out: VecDeque<Packet>,
    done: bool,
}

impl Engine {
    fn new(path: &Path, src: Box<dyn PesSource>, ref_pts: i64) -> Self {
        Engine {
            path: path.to_owned(),
            src,
            pending: VecDeque::new(),
            clock: Unwrapper::default(),
            shift: 0,
            last_video_ts: None,
            frame_ticks: 3003,
            ref_pts,
            video: None,
            marks: VecDeque::new(),
            es_len: 0,
            used_mark: None,
            anchor_ns: None,
            held: Vec::new(),
            wait_key: false,
            audio: Vec::new(),
            audio_on: true,
            from_start: true,
            out: VecDeque::new(),
            done: false,
        }
    }

    /// Goes on at byte `pos` with every stream's state reset; timestamps
    /// unwrap near `near` (ticks).
    fn reposition(&mut self, pos: u64, near: i64) -> Result<(), ContainerError> {
        self.src.seek(pos)?;
        self.pending.clear();
        self.clock = Unwrapper { last: Some(near) };
        self.shift = 0;
        self.last_video_ts = None;
        self.video = None;
        self.marks.clear();
        self.es_len = 0;
        self.used_mark = None;
        self.anchor_ns = None;
        self.held.clear();
        self.wait_key = true;
        for a in &mut self.audio {
            *a = AudioCutter::new(a.id, a.kind, self.ref_pts, pos == 0);
        }
        self.from_start = pos == 0;
        self.out.clear();
        self.done = false;
        Ok(())
    }

    /// Processes the next PES; false once the file has ended and every
    /// splitter is finished.
    fn pump(&mut self) -> Result<bool, ContainerError> {
        if self.done {
            return Ok(false);
        }
        let pes = match self.pending.pop_front() {
            Some(p) => Some(p),
            None => self.src.next_pes()?,
        };
        let Some(pes) = pes else {
            self.done = true;
            match &mut self.video {
                Some(VideoSplit::Nal(s)) => s.finish(),
                Some(VideoSplit::Mpeg2(s)) => s.finish()?,
                None => {}
            }
            self.drain_video();
            if !self.held.is_empty() {
                self.release_held();
            }
            for a in &mut self.audio {
                a.drain(true, &mut self.out);
            }
            return Ok(true);
        };
        let mut pts = pes.pts.map(|t| self.clock.unwrap(t));
        let mut dts = pes.dts.map(|t| self.clock.unwrap(t));
        if let (StreamKind::Video(_), Some(t)) = (pes.kind, dts.or(pts)) {
            // Time base discontinuity (PCR / PTS jump): the stream goes on
            // one frame after the last, as GStreamer's tsdemux keeps its
            // output running time continuous and FFmpeg (ffmpeg.c, for
            // AVFMT_TS_DISCONT formats) re-bases a DTS jump of more than
            // `dts_delta_threshold` (10 s).
            if let Some(last) = self.last_video_ts {
                let d = t + self.shift - last;
                const JUMP: i64 = 10 * 90_000;
                if !(-90_000..=JUMP).contains(&d) || (pes.discontinuity && !(0..=JUMP).contains(&d))
                {
                    let new_shift = last + self.frame_ticks - t;
                    tracing::warn!(
                        "{}: time base discontinuity at byte {} ({} ms jump): timestamps re-based",
                        self.path.display(),
                        pes.offset,
                        d / 90
                    );
                    self.shift = new_shift;
                }
            }
            self.last_video_ts = Some(t + self.shift);
        }
        pts = pts.map(|t| t + self.shift);
        dts = dts.map(|t| t + self.shift);
        match pes.kind {
            StreamKind::Video(codec) => {
                if self.video.is_none() {
                    self.video = Some(match codec {
                        CodecKind::H264 | CodecKind::Hevc => {
                            VideoSplit::Nal(AuSplitter::new(codec == CodecKind::Hevc))
                        }
                        _ => VideoSplit::Mpeg2(Box::new(Mpeg2Splitter::new(&self.path, 0))),
                    });
                }
                self.marks.push_back(Mark {
                    es_pos: self.es_len,
                    pts,
                    dts,
                    file_offset: pes.offset,
                });
                self.es_len += pes.payload.len() as u64;
                match self.video.as_mut().expect("set above") {
                    VideoSplit::Nal(s) => s.push(&pes.payload),
                    VideoSplit::Mpeg2(s) => s.push(&pes.payload)?,
                }
                self.src.recycle(pes.payload);
                self.drain_video();
            }
            StreamKind::Audio(kind) => {
                if !self.audio_on {
                    return Ok(true);
                }
                let k = match self.audio.iter().position(|a| a.id == pes.id) {
                    Some(k) => k,
                    None => {
                        self.audio.push(AudioCutter::new(
                            pes.id,
                            kind,
                            self.ref_pts,
                            self.from_start,
                        ));
                        self.audio.len() - 1
                    }
                };
                let a = &mut self.audio[k];
                a.push(&pes.payload, pts, pes.offset);
                a.drain(false, &mut self.out);
                self.src.recycle(pes.payload);
            }
        }
        Ok(true)
    }

    /// The mark of the PES holding stream offset `pos`, and whether it is
    /// the first unit starting in it (which takes its PTS / DTS).
    fn mark_for(&mut self, pos: u64) -> (Option<Mark>, bool) {
        while self.marks.len() > 1 && self.marks[1].es_pos <= pos {
            self.marks.pop_front();
        }
        let Some(m) = self.marks.front().copied().filter(|m| m.es_pos <= pos) else {
            return (None, false);
        };
        let fresh = self.used_mark != Some(m.es_pos);
        self.used_mark = Some(m.es_pos);
        (Some(m), fresh)
    }

    /// Moves the video units cut so far into `out`.
    fn drain_video(&mut self) {
        loop {
            let unit = match &mut self.video {
                Some(VideoSplit::Nal(s)) => s.out.pop_front().map(|(a, d, k)| (a, d, k, None)),
                Some(VideoSplit::Mpeg2(s)) => s
                    .pop()
                    .map(|f| (f.start, f.data, f.keyframe, Some((f.frame, f.duration_ns)))),
                None => None,
            };
            let Some((start, data, keyframe, frame)) = unit else {
                return;
            };
            let (mark, fresh) = self.mark_for(start);
            let mut p = Packet {
                track: 1,
                data,
                pts_ns: None,
                dts_ns: None,
                duration_ns: None,
                keyframe,
                byte_offset: mark.map_or(0, |m| m.file_offset),
                discard_padding_ns: 0,
            };
            if self.wait_key {
                // After a reposition: what comes before the first keyframe
                // is the tail of a GOP whose start was not read (its frame
                // numbers would mistime the frames after it).
                if !keyframe {
                    continue;
                }
                self.wait_key = false;
            }
            let m = mark.filter(|_| fresh);
            let ref_pts = self.ref_pts;
            p.pts_ns = m.and_then(|m| m.pts).map(|t| ticks_ns(t - ref_pts));
            match frame {
                None => {
                    p.dts_ns = m
                        .and_then(|m| m.dts.or(m.pts))
                        .map(|t| ticks_ns(t - ref_pts));
                }
                Some((n, dur)) => {
                    // MPEG-2: the PES PTS where the picture has one, else the
                    // frame count from the last one that had (frames before
                    // the first one wait for it).
                    // Counted in 90 kHz ticks (exact for the usual rates):
                    // frame number × duration, rounded to a tick.
                    let counted = ((i128::from(n) * i128::from(dur) * 9 + 50_000) / 100_000) as i64;
                    p.duration_ns = Some(dur);
                    self.frame_ticks = ns_ticks(dur as i64).max(1);
                    let own = m.and_then(|m| m.pts).map(|t| t - ref_pts);
                    match (own, self.anchor_ns) {
                        (Some(t), _) => {
                            self.anchor_ns = Some(t - counted);
                            self.release_held();
                        }
                        (None, Some(a)) => p.pts_ns = Some(ticks_ns(a + counted)),
                        (None, None) => {
                            self.held.push((p, counted));
                            if self.held.len() >= MAX_HELD {
                                self.anchor_ns = Some(0);
                                self.release_held();
                            }
                            continue;
                        }
                    }
                }
            }
            self.out.push_back(p);
        }
    }

    /// Times and hands on the held MPEG-2 frames (anchor 0 if none is known).
    fn release_held(&mut self) {
        let a = *self.anchor_ns.get_or_insert(0);
        for (mut p, counted) in self.held.drain(..) {
            p.pts_ns = Some(ticks_ns(a + counted));
            self.out.push_back(p);
        }
    }

    /// Takes back the buffer of a packet of `track` for a later packet of
    /// that track (dropped if the track has no splitter / cutter now).
    fn recycle(&mut self, track: u32, data: Vec<u8>) {
        if track == 1 {
            match &mut self.video {
                Some(VideoSplit::Nal(s)) => s.recycle(data),
                Some(VideoSplit::Mpeg2(s)) => s.recycle(data),
                None => {}
            }
        } else if let Some(a) = self.audio.iter_mut().find(|a| a.id == track) {
            a.recycle(data);
        }
    }

    /// The next packet; `Ok(None)` at the end.
    fn next(&mut self) -> Result<Option<Packet>, ContainerError> {
        loop {
            if let Some(p) = self.out.pop_front() {
                return Ok(Some(p));
            }
            if !self.pump()? {
                return Ok(None);
            }
        }
    }
}

/// MPEG-2 frames held at most while waiting for a PES PTS to time them.
const MAX_HELD: usize = 64;

/// Bytes of the file's head read at open for the time line's 0, the
/// tracks' parameters (first frames) and the video's first timestamps.
pub const PROBE_BYTES: u64 = 8 << 20;
/// Bytes of the file's tail first read for its last timestamp (doubled
/// while none is found).
pub const TAIL_BYTES: u64 = 1 << 20;
/// The bisection of [`MuxDemuxer`]'s seek stops when the byte range is this
/// small; the rest is a forward scan.
pub const BISECT_BYTES: u64 = 256 << 10;

/// A program or transport stream's video (track 1) and audio tracks,
/// packets in file order, the file streamed through a bounded window.
pub struct MuxDemuxer {
    path: PathBuf,
    tracks: Vec<TrackInfo>,
    engine: Engine,
    /// First video PTS (ticks, unwrapped from the first PES) and the file's
    /// last video PTS on the same line (None: not found).
    ref_pts: i64,
    last_pts: Option<i64>,
    /// Video frame duration, ticks (from the tail's timestamps).
    tail_frame: i64,
    /// After a seek: video packets are dropped until the keyframe with
    /// this pts (ns); audio packets of `.1` before `.2` (ns) are dropped.
    skip_video: Option<i64>,
    skip_audio: Option<(u32, i64)>,
}

impl MuxDemuxer {
    /// Reads the head of the file through `src` (at most [`PROBE_BYTES`],
    /// less when every stream's first frame and 32 video PES with a PTS
    /// come earlier) for the time axis and the tracks, and the tail
    /// ([`TAIL_BYTES`] and more) for the duration.
    ///
    /// Errors: [`ContainerError::Corrupt`] when MPEG video holds no sequence
    /// header in the head; I/O errors.
    pub(crate) fn open(path: &Path, mut src: Box<dyn PesSource>) -> Result<Self, ContainerError> {
        // The time axis' 0: the smallest PTS of the first video PES packets
        // (the first picture in display order; 32 cover a GOP's leading
        // pictures), else of the first audio PES.
        let mut pending = VecDeque::new();
        let mut clock = Unwrapper::default();
        let (mut video_pts, mut audio_pts) = (Vec::new(), None::<i64>);
        while let Some(p) = src.next_pes()? {
            let pts = p.pts.map(|t| clock.unwrap(t));
            if let Some(t) = pts {
                match p.kind {
                    StreamKind::Video(_) => video_pts.push(t),
                    StreamKind::Audio(_) => audio_pts = Some(audio_pts.map_or(t, |a| a.min(t))),
                }
            }
            pending.push_back(p);
            if video_pts.len() >= 32 || src.position() > PROBE_BYTES {
                break;
            }
        }
        let ref_pts = video_pts.iter().copied().min().or(audio_pts).unwrap_or(0);
        let has_video = pending
            .iter()
            .any(|p| matches!(p.kind, StreamKind::Video(_)));
        let tail = src.fork().ok();
        let declared = src.declared_audio();
        let min_probe = src.min_probe();
        let mut engine = Engine::new(path, src, ref_pts);
        engine.pending = pending;
        for (id, kind) in declared {
            engine.audio.push(AudioCutter::new(id, kind, ref_pts, true));
        }
        // Run until the video and every audio stream met so far gave their
        // first unit (their packets stay queued), within the probe budget.
        loop {
            let video_known = match &engine.video {
                Some(VideoSplit::Mpeg2(s)) => s.has_sequence(),
                Some(VideoSplit::Nal(_)) => true,
                None => !has_video,
            };
            let audio_known = engine.audio.iter().all(|a| a.track().is_some());
            if (video_known
                && audio_known
                && engine.pending.is_empty()
                && engine.src.position() >= min_probe)
                || engine.src.position() > 2 * PROBE_BYTES
                || !engine.pump()?
            {
                break;
            }
        }
        let mut tracks = Vec::new();
        match &engine.video {
            Some(VideoSplit::Mpeg2(s)) if s.has_sequence() => tracks.push(s.track()),
            Some(VideoSplit::Mpeg2(_)) | None if has_video => {
                return Err(ContainerError::corrupt(
                    path,
                    "MPEG video",
                    0,
                    "no sequence header",
                ))
            }
            Some(VideoSplit::Nal(s)) => tracks.push(TrackInfo::new(
                1,
                TrackCodec::Video(if s.hevc {
                    CodecKind::Hevc
                } else {
                    CodecKind::H264
                }),
            )),
            _ => {
                return Err(ContainerError::corrupt(
                    path,
                    "MPEG video",
                    0,
                    "no sequence header",
                ))
            }
        }
        tracks.extend(engine.audio.iter().filter_map(|a| a.track()));
        let mut d = MuxDemuxer {
            path: path.to_owned(),
            tracks,
            engine,
            ref_pts,
            last_pts: None,
            tail_frame: 3003,
            skip_video: None,
            skip_audio: None,
        };
        if let Some(t) = tail {
            d.read_tail(t)?;
        }
        Ok(d)
    }

    /// The last video PTS of the file from its tail (on the axis that
    /// starts at `ref_pts`: a tail PTS below it is taken as wrapped once).
    fn read_tail(&mut self, mut src: Box<dyn PesSource>) -> Result<(), ContainerError> {
        let len = src.len();
        let mut back = TAIL_BYTES;
        loop {
            let from = len.saturating_sub(back);
            src.seek(from)?;
            let mut ts = Vec::new();
            while let Some(p) = src.next_pes()? {
                if let (StreamKind::Video(_), Some(t)) = (p.kind, p.pts) {
                    ts.push(self.ref_pts + ((t as i64 - self.ref_pts).rem_euclid(1 << 33)));
                }
            }
            if !ts.is_empty() {
                ts.sort_unstable();
                ts.dedup();
                self.tail_frame = ts.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(3003);
                self.last_pts = ts.last().copied();
                return Ok(());
            }
            if from == 0 || back >= 64 * TAIL_BYTES {
                return Ok(());
            }
            back *= 2;
        }
    }

    /// Where on the time line (ticks) byte `pos` is, by linear
    /// interpolation between the first and last PTS.
    fn ticks_at(&self, pos: u64) -> i64 {
        let len = self.engine.src.len().max(1);
        match self.last_pts {
            Some(last) => {
                self.ref_pts + ((last - self.ref_pts) as f64 * pos as f64 / len as f64) as i64
            }
            None => self.ref_pts,
        }
    }

    /// The first video PTS (ticks) read from byte `pos` on (within
    /// 4 × [`BISECT_BYTES`]), unwrapped near where `pos` is expected.
    fn first_pts_at(
        &self,
        src: &mut dyn PesSource,
        pos: u64,
    ) -> Result<Option<i64>, ContainerError> {
        src.seek(pos)?;
        let near = self.ticks_at(pos);
        while let Some(p) = src.next_pes()? {
            if let (StreamKind::Video(_), Some(t)) = (p.kind, p.pts) {
                return Ok(Some(unwrap_near(t, near)));
            }
            if src.position() > pos + 4 * BISECT_BYTES {
                break;
            }
        }
        Ok(None)
    }

    /// Keyframes (pts ns, file offset of the PES they start in) read from
    /// byte `from` until one past `target_ns` (or the end).
    fn keyframes_from(&self, from: u64, target_ns: i64) -> Result<Vec<(i64, u64)>, ContainerError> {
        let mut e = Engine::new(&self.path, self.engine.src.fork()?, self.ref_pts);
        e.audio_on = false;
        e.reposition(from, self.ticks_at(from))?;
        let mut keys = Vec::new();
        while let Some(p) = e.next()? {
            if p.track != 1 || !p.keyframe {
                continue;
            }
            let Some(t) = p.pts_ns else { continue };
            keys.push((t, p.byte_offset));
            if t > target_ns {
                break;
            }
        }
        Ok(keys)
    }
}

impl Demuxer for MuxDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let mut pkt = Packet::default();
        Ok(self.read_packet(&mut pkt)?.then_some(pkt))
    }

    /// [`Demuxer::next_packet`] into `pkt`; its old buffer, and those of
    /// the packets skipped, take later packets' bytes of the same track
    /// (the splitters' and cutters' `recycle`), and the source's PES
    /// payloads are reused too: no heap allocation per packet once the
    /// buffers have grown. `pkt`'s buffer goes back first (on an error
    /// `pkt.data` is left empty), so that it can take this very packet's
    /// bytes: one buffer fewer per track in circulation, each growing as
    /// larger units come.
    fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
        let old = std::mem::take(&mut pkt.data);
        self.engine.recycle(pkt.track, old);
        loop {
            let Some(p) = self.engine.next()? else {
                return Ok(false);
            };
            if !self.tracks.iter().any(|t| t.id == p.track) {
                self.engine.recycle(p.track, p.data);
                continue;
            }
            if p.track == 1 {
                if let Some(k) = self.skip_video {
                    if !(p.keyframe && p.pts_ns.is_some_and(|t| t >= k)) {
                        self.engine.recycle(p.track, p.data);
                        continue;
                    }
                    self.skip_video = None;
                }
            }
            if let Some((id, t)) = self.skip_audio {
                if p.track == id {
                    let end = p.pts_ns.zip(p.duration_ns).map(|(s, d)| s + d as i64);
                    if end.is_some_and(|e| e <= t) {
                        self.engine.recycle(p.track, p.data);
                        continue;
                    }
                    self.skip_audio = None;
                }
            }
            *pkt = p;
            return Ok(true);
        }
    }

    /// PTS bisection: byte positions are bisected on the first video PTS
    /// read there (each probe reads at most 4 × [`BISECT_BYTES`]) until
    /// the range is [`BISECT_BYTES`]; from its low end the video is split
    /// forward (audio skipped) until a keyframe past the target, stepping
    /// back 1 MiB, 2 MiB, … while no keyframe at or before the target is
    /// found. The demuxer then goes on at the PES that keyframe starts in,
    /// all per-stream state reset, video packets before that keyframe
    /// dropped. A keyframe is an access unit with an IDR / IRAP picture
    /// (H.264 / HEVC), a frame with a sequence header and an I picture
    /// (MPEG-2). An audio track: the video is sought there and that
    /// track's frames ending at or before `pts_ns` are dropped.
    ///
    /// Timestamps are assumed to grow with the file position (33-bit wraps
    /// are unwrapped by the position's interpolated time); across a time
    /// base discontinuity the bisection may land in the wrong part of the
    /// file and timestamps after a seek do not carry the re-basing that
    /// linear play applied (they restart from the file's own values).
    fn seek(&mut self, track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        if !self.tracks.iter().any(|t| t.id == track) {
            return Err(ContainerError::Unsupported {
                path: self.path.clone(),
                what: format!("seek: no track {track}"),
            });
        }
        let target = self.ref_pts + ns_ticks(pts_ns);
        let mut probe_src = self.engine.src.fork()?;
        let (mut lo, mut hi) = (0u64, self.engine.src.len());
        while hi - lo > BISECT_BYTES {
            let mid = lo + (hi - lo) / 2;
            match self.first_pts_at(probe_src.as_mut(), mid)? {
                Some(t) if t <= target => lo = mid,
                _ => hi = mid,
            }
        }
        let mut from = lo;
        let mut back = 1u64 << 20;
        let pick = loop {
            let keys = self.keyframes_from(from, pts_ns)?;
            if let Some(k) = keys.iter().rev().find(|k| k.0 <= pts_ns) {
                break Some(*k);
            }
            if from == 0 {
                break keys.first().copied();
            }
            from = from.saturating_sub(back);
            back = back.saturating_mul(2);
        };
        let Some((key_ns, offset)) = pick else {
            // No keyframe at all: start over.
            self.engine.reposition(0, self.ref_pts)?;
            self.skip_video = None;
            return Ok(());
        };
        let near = self.ref_pts + ns_ticks(key_ns);
        self.engine.reposition(offset, near)?;
        self.skip_video = Some(key_ns);
        self.skip_audio = (track != 1).then_some((track, pts_ns));
        Ok(())
    }

    /// Last video PTS − first + one frame (the smallest PTS step of the
    /// tail), from the head and a tail window; `None` when the tail holds
    /// no video PTS.
    fn duration_ns(&self) -> Option<i64> {
        let last = self.last_pts?;
        Some(ticks_ns(last - self.ref_pts + self.tail_frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PES payloads of one audio stream, cut at the end.
    struct AudioEs {
        id: u32,
        kind: AudioKind,
        pes: Vec<(Vec<u8>, Option<i64>, u64)>,
    }

    impl AudioEs {
        fn new(id: u32, kind: AudioKind) -> Self {
            AudioEs {
                id,
                kind,
                pes: Vec::new(),
            }
        }
        fn push(&mut self, p: &[u8], pts: Option<i64>, offset: u64) {
            self.pes.push((p.to_vec(), pts, offset));
        }
    }

    fn audio_packets(a: &AudioEs, ref_pts: i64) -> (Option<TrackInfo>, Vec<Packet>) {
        let v: Vec<(&[u8], Option<i64>, u64)> =
            a.pes.iter().map(|(p, t, o)| (&p[..], *t, *o)).collect();
        super::audio_packets(a.id, a.kind, &v, ref_pts)
    }

    #[test]
    fn pts_fields_and_unwrapping() {
        // PTS 0x1_2345_6789 in the 5-byte form with marker bits.
        let v: u64 = 0x1_2345_6789;
        let b = [
            0x21 | (((v >> 30) as u8 & 7) << 1),
            (v >> 22) as u8,
            (((v >> 15) as u8) << 1) | 1,
            (v >> 7) as u8,
            ((v as u8) << 1) | 1,
        ];
        assert_eq!(read_pts(&b), Some(v));
        let mut u = Unwrapper::default();
        assert_eq!(u.unwrap((1 << 33) - 90), (1 << 33) - 90);
        assert_eq!(u.unwrap(10), (1 << 33) + 10); // wrapped forward
        assert_eq!(u.unwrap((1 << 33) - 10), (1 << 33) - 10); // slightly back
    }

    fn mp2_frame(fill: u8) -> Vec<u8> {
        // MPEG-1 layer II 192 kbit/s 48 kHz stereo: 576 bytes.
        let mut f = vec![0xff, 0xfd, 0xa4, 0x04];
        f.resize(576, fill);
        f
    }

    #[test]
    fn mpeg_audio_frames_across_pes_with_interpolated_pts() {
        let mut a = AudioEs::new(0x1c0, AudioKind::Mpa);
        let mut es = Vec::new();
        for i in 0..3 {
            es.extend(mp2_frame(i));
        }
        // PES 1: frame 0 and half of frame 1 (PTS 9000); PES 2: the rest (PTS
        // 9000 + 1.5 frames — belongs to frame 2, the first starting in it).
        a.push(&es[..864], Some(9000), 100);
        a.push(&es[864..], Some(9000 + 3240), 2000);
        let (t, p) = audio_packets(&a, 0);
        let t = t.unwrap();
        assert_eq!(t.codec, TrackCodec::Audio(AudioCodec::Mp2));
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].pts_ns, Some(100_000_000));
        assert_eq!(p[1].pts_ns, Some(124_000_000)); // + 1152 / 48 kHz
        assert_eq!(p[2].pts_ns, Some(136_000_000)); // its own PES PTS
        assert_eq!(
            p.iter().map(|p| p.byte_offset).collect::<Vec<_>>(),
            [100, 100, 2000]
        );
        // Garbage between frames is skipped; a truncated last frame dropped.
        let mut b = AudioEs::new(0x1c0, AudioKind::Mpa);
        let mut es = mp2_frame(1);
        es.extend([1, 2, 3, 0xff, 0xfd]);
        es.extend(mp2_frame(2));
        es.extend(&mp2_frame(3)[..100]);
        b.push(&es, Some(0), 0);
        let (_, p) = audio_packets(&b, 0);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn ac3_and_eac3_sync_frames() {
        // AC-3 48 kHz 448 kbit/s (1792 bytes), then E-AC-3 (bsid 16,
        // frmsiz 99 → 200 bytes, 48 kHz, 6 blocks).
        let mut ac3 = vec![0x0b, 0x77, 0, 0, 0x1e, 0x40, 0x40, 0];
        ac3.resize(1792, 0x11);
        let mut a = AudioEs::new(0x80, AudioKind::Ac3);
        let mut es = ac3.clone();
        es.extend(&ac3);
        a.push(&es, Some(0), 0);
        let (t, p) = audio_packets(&a, 0);
        assert_eq!(t.unwrap().codec, TrackCodec::Audio(AudioCodec::Ac3));
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].pts_ns, Some(32_000_000)); // 1536 / 48 kHz
        let mut eac3 = vec![0x0b, 0x77, 0x00, 99, 0x30, 16 << 3];
        eac3.resize(200, 0x22);
        let mut e = AudioEs::new(0x102, AudioKind::Ac3);
        e.push(&eac3, Some(0), 0);
        let (t, p) = audio_packets(&e, 0);
        let t = t.unwrap();
        assert_eq!(t.codec, TrackCodec::Audio(AudioCodec::Eac3));
        assert_eq!(t.audio.unwrap().sample_rate, 48000);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn adts_headers_are_stripped_and_give_the_config() {
        let mut a = AudioEs::new(0x101, AudioKind::Adts);
        let mut f = vec![0xff, 0xf1, 0x50, 0x40, 0x02, 0x1f, 0xfc];
        f.extend([0xAA; 9]); // 16-byte frame
        let mut es = f.clone();
        es.extend(&f);
        a.push(&es, Some(90_000), 0);
        let (t, p) = audio_packets(&a, 0);
        let t = t.unwrap();
        assert_eq!(t.codec_private, CodecPrivate::Raw(vec![0x12, 0x08]));
        assert_eq!(t.audio.unwrap().sample_rate, 44100);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].data, vec![0xAA; 9]);
        assert_eq!(
            p[1].pts_ns,
            Some(1_000_000_000 + 1024 * 1_000_000_000 / 44100)
        );
    }

    #[test]
    fn a_leading_raw_aac_pes_is_a_packet_and_later_ones_are_damage() {
        let mut f = vec![0xff, 0xf1, 0x50, 0x40, 0x02, 0x1f, 0xfc];
        f.extend([0xAA; 9]); // 16-byte ADTS frame
        let ff = [f.clone(), f].concat();
        let raw = [0xDE, 0x04, 0x00, 0x00, 0x11, 0x22, 0x33];
        let mut a = AudioEs::new(0x101, AudioKind::Adts);
        a.push(&raw, Some(90_000), 188);
        a.push(&ff, Some(90_000 + 2089), 376);
        a.push(&raw, Some(90_000 + 3 * 2089), 564);
        a.push(&ff, Some(90_000 + 4 * 2089), 752);
        let (t, p) = audio_packets(&a, 0);
        assert_eq!(
            t.unwrap().codec_private,
            CodecPrivate::Raw(vec![0x12, 0x08])
        );
        // The first PES (no ADTS header) is one raw frame; the same bytes
        // between ADTS frames are skipped.
        let offsets: Vec<u64> = p.iter().map(|p| p.byte_offset).collect();
        assert_eq!(offsets, [188, 376, 376, 752, 752]);
        assert_eq!(p[0].data, raw);
        assert_eq!(
            (p[0].pts_ns, p[0].duration_ns),
            (Some(1_000_000_000), Some(1024 * 1_000_000_000 / 44100))
        );
        assert!(p[1..].iter().all(|p| p.data == [0xAA; 9]));
    }

    /// `AuSplitter` cuts the same units whatever the pieces it is pushed
    /// in (the NAL unit being collected goes on to the unit's buffer as it
    /// comes; a start code may straddle pieces).
    #[test]
    fn au_splitter_units_do_not_depend_on_the_pieces() {
        // H.264: AUD, SPS, IDR slice (first_mb 0), slice (first_mb > 0),
        // AUD and non-IDR slice with 4-byte start codes, a long slice (more
        // than a piece: it goes on to the unit's buffer as it comes), a
        // last slice
        let mut es = Vec::new();
        for (sc, nal) in [
            (&[0u8, 0, 1][..], vec![0x09, 0xF0]),
            (&[0, 0, 1][..], vec![0x67, 0x42, 0, 0x1E, 0, 0]),
            (&[0, 0, 1][..], vec![0x65, 0x88, 1, 2, 3, 0, 0, 3, 1]),
            (&[0, 0, 1][..], vec![0x65, 0x40, 9, 9]),
            (&[0, 0, 0, 1][..], vec![0x09, 0xF0]),
            (&[0, 0, 0, 1][..], vec![0x41, 0x9A, 7, 0]),
            (
                &[0, 0, 1][..],
                (0..10_000).map(|i| (i % 251) as u8 | 1).collect(),
            ),
            (&[0, 0, 1][..], vec![0x41, 0x9A, 0]),
        ] {
            es.extend_from_slice(sc);
            es.extend_from_slice(&nal);
        }
        let cut = |piece: usize| {
            let mut s = AuSplitter::new(false);
            for p in es.chunks(piece) {
                s.push(p);
            }
            s.finish();
            s.out.into_iter().collect::<Vec<_>>()
        };
        let whole = cut(es.len());
        assert_eq!(whole.len(), 3);
        assert!(whole[0].2 && !whole[1].2);
        for piece in [1, 2, 3, 5, 7, 4096, 5000] {
            assert!(cut(piece) == whole, "pieces of {piece} bytes");
        }
    }
}
