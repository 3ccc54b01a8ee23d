//! MPEG transport streams (`.ts`; ISO/IEC 13818-1 2.4) and their 192-byte
//! BDAV / M2TS form (`.m2ts`, `.mts`: a 4-byte `TP_extra_header` —
//! copy permission and arrival time stamp — before each 188-byte packet),
//! streamed through a bounded window as PES packets (`TsSource`) for
//! [`MuxDemuxer`], which splits the video, cuts the audio, seeks by PTS
//! bisection and knows the duration (see [`super::mpegmux`]).
//!
//! The first program's first video stream (`stream_type` 0x02 MPEG-2,
//! 0x1B H.264, 0x24 HEVC, else 0x01 MPEG-1) is track 1; its audio streams
//! (`stream_type` 0x03 / 0x04 MPEG audio, 0x0F ADTS AAC, 0x11 LATM, 0x81
//! AC-3 and 0x87 E-AC-3 as ATSC A/53 maps them, and 0x06 private data with
//! the DVB AC-3 / enhanced AC-3 descriptor (tags 0x6A / 0x7A, ETSI EN 300
//! 468 Annex D) or a registration descriptor `AC-3` / `EAC3`, or without
//! any descriptor when its first PES payload is ADTS, AC-3 or MPEG audio —
//! how ffmpeg's M2TS muxer writes AAC) are tracks with id = PID.
//!
//! * Transport packets (2.4.3.2): 188 bytes starting with the sync byte
//!   0x47 (192 with the M2TS prefix: [`probe`] tells which by the sync
//!   bytes at 0, 188, 376 or at 4, 196, 388). On lost sync the next offset
//!   where 0x47 repeats one packet later is searched. Packets with
//!   `transport_error_indicator` set, with `adaptation_field_control` 0
//!   (reserved) or with an `adaptation_field_length` running past the
//!   packet are dropped.
//! * `continuity_counter` (2.4.3.3): a gap means lost data; it is counted
//!   (on the video PID) and logged, and gathering goes on (the splitters
//!   resync). A repeated counter (a duplicate packet) is dropped.
//! * `discontinuity_indicator` (2.4.3.5) on a stream's PID or the PCR PID
//!   marks that stream's next PES: [`super::mpegmux`] re-bases a time jump
//!   there.
//! * PSI (2.4.4): the program association table (PID 0) gives the first
//!   program's `program_map_PID`; its program map section the streams.
//!   Sections must fit in the packet after `pointer_field` and pass their
//!   CRC_32; others are ignored. Opening reads until the PMT (at most
//!   [`PSI_BYTES`]).
//! * PES (2.4.3.6): the payloads of a PID from one
//!   `payload_unit_start_indicator` to the next (or to `PES_packet_length`
//!   when non-zero) form a PES packet.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::mpegmux::{
    pes_header, AudioKind, MuxDemuxer, Pes, PesSource, Spares, StreamKind, Window,
};
use super::{CodecKind, ContainerError};

/// Transport packet size in bytes (ISO/IEC 13818-1 2.4.3.2).
pub const PACKET_SIZE: usize = 188;
/// BDAV / M2TS packet size: a 4-byte `TP_extra_header` + a transport packet.
pub const M2TS_PACKET_SIZE: usize = 192;
/// Bytes read at most to find the PAT and PMT.
pub const PSI_BYTES: u64 = 16 << 20;
/// Largest PES packet gathered (bytes); a longer one is dropped.
pub const MAX_PES_BYTES: usize = 32 << 20;
const SYNC: u8 = 0x47;

/// The packet layout of `head` (the file's first bytes): `Some(0)` for
/// 188-byte packets (sync byte 0x47 at 0, 188 and 376), `Some(4)` for
/// 192-byte M2TS packets (at 4, 196 and 388).
pub fn packet_prefix(head: &[u8]) -> Option<usize> {
    let at = |i: usize| head.get(i) == Some(&SYNC);
    if at(0) && at(PACKET_SIZE) && at(2 * PACKET_SIZE) {
        Some(0)
    } else if at(4) && at(4 + M2TS_PACKET_SIZE) && at(4 + 2 * M2TS_PACKET_SIZE) {
        Some(4)
    } else {
        None
    }
}

/// Whether `head` (the file's first bytes, at least 389 of them) is a
/// transport stream: 188-byte packets or 192-byte M2TS packets.
pub fn probe(head: &[u8]) -> bool {
    packet_prefix(head).is_some()
}

/// What went wrong on the way through a transport stream.
#[derive(Debug, Default, Clone)]
pub struct TsStats {
    /// Continuity counter gaps seen on the video PID (lost packets).
    pub continuity_gaps: u32,
    /// Times sync was lost and searched for again.
    pub resyncs: u32,
    /// Packets dropped: `transport_error_indicator`, reserved
    /// `adaptation_field_control`, bad `adaptation_field_length`, duplicates.
    pub dropped_packets: u32,
}

/// The video elementary stream gathered from a transport stream, and what
/// went wrong on the way.
#[derive(Debug, Default)]
pub struct TsVideo {
    /// The PES payloads of the video PID, concatenated.
    pub es: Vec<u8>,
    /// PID of the video elementary stream.
    pub video_pid: u16,
    /// `stream_type` of that stream in the PMT.
    pub stream_type: u8,
    pub continuity_gaps: u32,
    pub resyncs: u32,
    pub dropped_packets: u32,
}

/// Why no video stream could be found: byte offset in the file and what.
#[derive(Debug, PartialEq, Eq)]
pub struct TsError {
    pub offset: u64,
    pub what: String,
    /// True when the file is a valid TS that just has no video stream.
    pub unsupported: bool,
}

fn err(offset: u64, what: impl Into<String>, unsupported: bool) -> TsError {
    TsError {
        offset,
        what: what.into(),
        unsupported,
    }
}

/// CRC_32 of PSI sections (ISO/IEC 13818-1 Annex A: polynomial 0x04C11DB7,
/// initial value 0xFFFFFFFF, MSB first, no final XOR). A section including
/// its CRC_32 field gives 0.
fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The section starting in `payload` (a PSI payload with
/// `payload_unit_start_indicator` set), if `table_id` matches, it fits and
/// its CRC is right. Returned without the CRC_32.
fn section(payload: &[u8], table_id: u8) -> Option<&[u8]> {
    let pointer = *payload.first()? as usize;
    let s = payload.get(1 + pointer..)?;
    if *s.first()? != table_id || s.len() < 3 {
        return None;
    }
    let section_length = (((s[1] & 0x0F) as usize) << 8) | s[2] as usize;
    let total = 3 + section_length;
    if section_length < 9 || total > s.len() || crc32_mpeg2(&s[..total]) != 0 {
        return None;
    }
    Some(&s[..total - 4])
}

/// `program_map_PID` of the first program (program_number ≠ 0) of a PAT.
fn pat_first_pmt_pid(s: &[u8]) -> Option<u16> {
    s.get(8..)?
        .chunks_exact(4)
        .find(|c| u16::from_be_bytes([c[0], c[1]]) != 0)
        .map(|c| u16::from_be_bytes([c[2] & 0x1F, c[3]]))
}

/// One stream of a PMT: `stream_type`, `elementary_PID`, its descriptor
/// tags and registration descriptors' `format_identifier`s.
type PmtStream = (u8, u16, Vec<u8>, Vec<[u8; 4]>);

/// (`stream_type`, `elementary_PID`, descriptor tags and registration
/// `format_identifier`s) of every stream of a PMT section (2.4.4.8).
fn pmt_streams(s: &[u8]) -> Vec<PmtStream> {
    let mut out = Vec::new();
    if s.len() < 12 {
        return out;
    }
    let program_info_length = (((s[10] & 0x0F) as usize) << 8) | s[11] as usize;
    let mut i = 12 + program_info_length;
    while i + 5 <= s.len() {
        let es_info_length = (((s[i + 3] & 0x0F) as usize) << 8) | s[i + 4] as usize;
        let desc = s
            .get(i + 5..(i + 5 + es_info_length).min(s.len()))
            .unwrap_or(&[]);
        let (mut tags, mut regs) = (Vec::new(), Vec::new());
        let mut d = 0;
        while d + 2 <= desc.len() {
            let (tag, len) = (desc[d], usize::from(desc[d + 1]));
            tags.push(tag);
            if tag == 0x05 {
                if let Some(f) = desc.get(d + 2..d + 6) {
                    regs.push([f[0], f[1], f[2], f[3]]);
                }
            }
            d += 2 + len;
        }
        out.push((
            s[i],
            u16::from_be_bytes([s[i + 1] & 0x1F, s[i + 2]]),
            tags,
            regs,
        ));
        i += 5 + es_info_length;
    }
    out
}

/// `PCR_PID` of a PMT section.
fn pmt_pcr_pid(s: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([s.get(8)? & 0x1F, *s.get(9)?]))
}

/// The audio kind of a PMT stream (13818-1 Table 2-34; 0x81 / 0x87 AC-3 /
/// E-AC-3 as ATSC A/53 and FFmpeg's mpegts.c map them; 0x06 with a DVB
/// AC-3 / E-AC-3 descriptor or an `AC-3` / `EAC3` registration).
fn audio_kind(stream_type: u8, tags: &[u8], regs: &[[u8; 4]]) -> Option<AudioKind> {
    match stream_type {
        0x03 | 0x04 => Some(AudioKind::Mpa),
        0x0F => Some(AudioKind::Adts),
        0x11 => Some(AudioKind::Latm),
        0x81 | 0x87 => Some(AudioKind::Ac3),
        0x06 if tags.iter().any(|t| matches!(t, 0x6A | 0x7A))
            || regs.iter().any(|r| r == b"AC-3" || r == b"EAC3") =>
        {
            Some(AudioKind::Ac3)
        }
        _ => None,
    }
}

/// Per elementary PID: continuity counter and the PES being gathered
/// (with the file offset of its first TS packet).
#[derive(Default, Clone)]
struct PidState {
    last_cc: Option<u8>,
    pes: Vec<u8>,
    pes_offset: u64,
    in_pes: bool,
    discontinuity: bool,
}

/// One elementary stream the demuxer reads.
#[derive(Clone)]
struct PidEntry {
    pid: u16,
    kind: StreamKind,
    state: PidState,
    /// A `stream_type` 0x06 stream without a descriptor naming it: its
    /// kind is taken from its first PES payload ([`sniff_audio`]).
    sniff: bool,
}

/// The audio kind a PES payload starts with: an ADTS header, an AC-3 /
/// E-AC-3 sync frame or an MPEG audio header, each followed by another
/// header of its kind or the payload's end. FFmpeg's mpegts.c probes the
/// payload of such a private stream (`request_probe`) the same way;
/// ffmpeg's M2TS muxer (`-mpegts_m2ts_mode 1`) writes AAC so.
fn sniff_audio(payload: &[u8]) -> Option<AudioKind> {
    use super::audio;
    let next_ok = |len: usize, f: &dyn Fn(&[u8]) -> bool| {
        payload.len() == len || payload.get(len..).is_some_and(|r| r.len() < 8 || f(r))
    };
    if let Some(h) = audio::adts_header(payload) {
        if next_ok(h.frame_len, &|r| audio::adts_header(r).is_some()) {
            return Some(AudioKind::Adts);
        }
    }
    if let Some(h) = audio::ac3_header(payload) {
        if next_ok(h.frame_len, &|r| audio::ac3_header(r).is_some()) {
            return Some(AudioKind::Ac3);
        }
    }
    if let Some(h) = audio::mpa_header(payload) {
        if next_ok(h.frame_len, &|r| audio::mpa_header(r).is_some()) {
            return Some(AudioKind::Mpa);
        }
    }
    None
}

/// A transport stream read as PES packets (see the module doc).
pub(crate) struct TsSource {
    path: Option<PathBuf>,
    win: Window,
    len: u64,
    /// 0, or 4 for M2TS.
    prefix: usize,
    pmt_pid: Option<u16>,
    pat_offset: u64,
    pcr_pid: Option<u16>,
    pmt_types: Option<Vec<u8>>,
    video: Option<(u16, u8)>,
    pids: Vec<PidEntry>,
    ready: VecDeque<Pes>,
    packets: u64,
    in_sync: bool,
    /// Just sought to an arbitrary byte: finding the first packet there
    /// is no lost sync.
    seeking: bool,
    eof: bool,
    pub stats: TsStats,
    /// Payload buffers given back ([`PesSource::recycle`]), at most
    /// [`MAX_SPARE_PAYLOADS`].
    spare: Spares,
}

/// Payload buffers [`TsSource`] keeps for reuse at most (the engine hands
/// each PES's back once it has split it).
const MAX_SPARE_PAYLOADS: usize = 4;

impl TsSource {
    /// A source over `r` (`len` bytes; `path` names it in errors and lets
    /// [`PesSource::fork`] reopen it) with packets after a `prefix`-byte
    /// header, read until the program's PMT.
    ///
    /// Errors ([`TsError`]): no sync byte, no PAT, no PMT for the first
    /// program, or no video stream in it (`unsupported`); I/O errors as
    /// [`TsError`] at the offset they happened.
    pub(crate) fn new(
        path: Option<PathBuf>,
        r: Box<dyn super::mpegmux::Source>,
        len: u64,
        prefix: usize,
    ) -> Result<Self, TsError> {
        let mut s = TsSource {
            path,
            win: Window::new(r),
            len,
            prefix,
            pmt_pid: None,
            pat_offset: 0,
            pcr_pid: None,
            pmt_types: None,
            video: None,
            pids: Vec::new(),
            ready: VecDeque::new(),
            packets: 0,
            in_sync: true,
            seeking: false,
            eof: false,
            stats: TsStats::default(),
            spare: Spares::new(MAX_SPARE_PAYLOADS),
        };
        while s.pmt_types.is_none() && s.win.offset() < PSI_BYTES {
            match s.packet() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(err(s.win.offset(), e.to_string(), false)),
            }
        }
        if s.packets == 0 {
            return Err(err(0, "no transport packet (sync byte 0x47) found", false));
        }
        let Some(pmt_pid) = s.pmt_pid else {
            return Err(err(0, "no program association table (PID 0) found", false));
        };
        if s.video.is_none() {
            return Err(match &s.pmt_types {
                None => err(
                    s.pat_offset,
                    format!("no program map table on PID {pmt_pid} (from the PAT here)"),
                    false,
                ),
                Some(types) => err(
                    s.pat_offset,
                    format!(
                        "the first program (PMT PID {pmt_pid}) has no MPEG-1/2, H.264 or HEVC \
                         video stream (stream_types {types:02x?})"
                    ),
                    true,
                ),
            });
        }
        Ok(s)
    }

    fn size(&self) -> usize {
        self.prefix + PACKET_SIZE
    }

    /// Reads and handles one packet; false at the end of the file.
    fn packet(&mut self) -> std::io::Result<bool> {
        let size = self.size();
        // Sync: a sync byte here and one packet later (or the file's end
        // right after this packet).
        loop {
            let n = self.win.want(2 * size + 1)?;
            if n < size {
                self.win.consume(n);
                return Ok(false);
            }
            let a = self.win.avail();
            let ok = a[self.prefix] == SYNC
                && (n == size
                    || a.get(size + self.prefix)
                        .map_or(n < size + self.prefix + 1, |&b| b == SYNC));
            if ok {
                break;
            }
            if self.in_sync && !self.seeking {
                self.stats.resyncs += 1;
                tracing::warn!("MPEG-TS: sync lost at byte {}", self.win.offset());
            }
            self.in_sync = false;
            self.win.consume(1);
        }
        if !self.in_sync && !self.seeking {
            tracing::warn!("MPEG-TS: sync found again at byte {}", self.win.offset());
        }
        self.in_sync = true;
        self.seeking = false;
        let offset = self.win.offset();
        let mut pkt = [0u8; PACKET_SIZE];
        pkt.copy_from_slice(&self.win.avail()[self.prefix..size]);
        self.win.consume(size);
        self.packets += 1;
        self.handle(&pkt, offset);
        Ok(true)
    }

    /// One 188-byte transport packet at file offset `offset`.
    fn handle(&mut self, pkt: &[u8], offset: u64) {
        if pkt[1] & 0x80 != 0 {
            self.stats.dropped_packets += 1;
            return;
        }
        let pusi = pkt[1] & 0x40 != 0;
        let pid = u16::from_be_bytes([pkt[1] & 0x1F, pkt[2]]);
        let afc = (pkt[3] >> 4) & 3;
        let cc = pkt[3] & 0x0F;
        let mut start = 4;
        if afc == 0 {
            self.stats.dropped_packets += 1;
            return;
        }
        if afc & 2 != 0 {
            start = 5 + pkt[4] as usize;
            if start > PACKET_SIZE || (afc == 3 && start == PACKET_SIZE) {
                self.stats.dropped_packets += 1;
                return;
            }
            // discontinuity_indicator (2.4.3.5).
            if pkt[4] > 0 && pkt[5] & 0x80 != 0 {
                if Some(pid) == self.pcr_pid {
                    for e in &mut self.pids {
                        e.state.discontinuity = true;
                    }
                }
                if let Some(e) = self.pids.iter_mut().find(|e| e.pid == pid) {
                    e.state.discontinuity = true;
                    e.state.last_cc = None;
                }
            }
        }
        if afc & 1 == 0 {
            return; // adaptation field only: no payload, counter unchanged
        }
        let payload = &pkt[start..];
        if pid == 0 && pusi && self.pmt_pid.is_none() {
            if let Some(s) = section(payload, 0x00) {
                self.pmt_pid = pat_first_pmt_pid(s);
                self.pat_offset = offset;
            }
            return;
        }
        if Some(pid) == self.pmt_pid {
            if pusi && self.pmt_types.is_none() {
                if let Some(s) = section(payload, 0x02) {
                    self.pmt(s);
                }
            }
            return;
        }
        let video_pid = self.video.map(|v| v.0);
        let Some(k) = self.pids.iter().position(|e| e.pid == pid) else {
            return;
        };
        let st = &mut self.pids[k].state;
        if let Some(last) = st.last_cc {
            if cc == last {
                self.stats.dropped_packets += 1; // duplicate packet (2.4.3.3)
                return;
            }
            if cc != (last + 1) & 0x0F {
                if Some(pid) == video_pid {
                    self.stats.continuity_gaps += 1;
                }
                tracing::warn!(
                    "MPEG-TS: continuity gap on PID {pid} at byte {offset} \
                     (counter {last} then {cc}): data lost"
                );
            }
        }
        st.last_cc = Some(cc);
        if pusi {
            self.flush(k);
            let st = &mut self.pids[k].state;
            st.in_pes = true;
            st.pes_offset = offset;
        }
        let st = &mut self.pids[k].state;
        if st.in_pes {
            let before = st.pes.len();
            st.pes.extend_from_slice(payload);
            let declared = st
                .pes
                .get(4..6)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                .unwrap_or(0);
            if before < 6 && declared > 0 {
                // The PES's size is known from its first packet: room for
                // all of it at once (at most 6 + 65535 bytes), not growth
                // packet by packet.
                st.pes.reserve((6 + declared).saturating_sub(st.pes.len()));
            }
            if declared > 0 && st.pes.len() >= 6 + declared {
                self.flush(k);
            } else if st.pes.len() > MAX_PES_BYTES {
                tracing::warn!(
                    "MPEG-TS: PES on PID {pid} longer than {MAX_PES_BYTES} bytes: dropped"
                );
                st.pes.clear();
                st.in_pes = false;
            }
        }
    }

    /// A PMT section: the video and audio streams.
    fn pmt(&mut self, s: &[u8]) {
        let streams = pmt_streams(s);
        self.pcr_pid = pmt_pcr_pid(s);
        let pick = streams
            .iter()
            .find(|t| matches!(t.0, 0x02 | 0x1B | 0x24))
            .or_else(|| streams.iter().find(|t| t.0 == 0x01));
        if let Some((t, p, ..)) = pick {
            let codec = match t {
                0x1B => CodecKind::H264,
                0x24 => CodecKind::Hevc,
                _ => CodecKind::Mpeg2,
            };
            self.video = Some((*p, *t));
            self.pids.push(PidEntry {
                pid: *p,
                kind: StreamKind::Video(codec),
                state: PidState::default(),
                sniff: false,
            });
        }
        for (t, p, tags, regs) in &streams {
            let kind = audio_kind(*t, tags, regs);
            let sniff = kind.is_none() && *t == 0x06 && tags.is_empty();
            if (kind.is_some() || sniff) && self.pids.iter().all(|x| x.pid != *p) {
                self.pids.push(PidEntry {
                    pid: *p,
                    kind: StreamKind::Audio(kind.unwrap_or(AudioKind::Adts)),
                    state: PidState::default(),
                    sniff,
                });
            }
        }
        self.pmt_types = Some(streams.iter().map(|t| t.0).collect());
    }

    /// The PES gathered on `pids[k]` is complete: parsed into `ready`.
    fn flush(&mut self, k: usize) {
        let e = &mut self.pids[k];
        let st = &mut e.state;
        if !st.in_pes {
            return;
        }
        st.in_pes = false;
        let pes = std::mem::take(&mut st.pes);
        if let Some((payload, pts, dts)) = pes_parts(&pes) {
            if e.sniff {
                match sniff_audio(payload) {
                    Some(k) => {
                        e.kind = StreamKind::Audio(k);
                        e.sniff = false;
                    }
                    None => {
                        st.pes = pes;
                        st.pes.clear();
                        return;
                    }
                }
            }
            let mut buf = self.spare.take(payload.len());
            buf.extend_from_slice(payload);
            self.ready.push_back(Pes {
                id: match e.kind {
                    StreamKind::Video(_) => 1,
                    StreamKind::Audio(_) => u32::from(e.pid),
                },
                kind: e.kind,
                payload: buf,
                pts,
                dts,
                offset: st.pes_offset,
                discontinuity: std::mem::take(&mut st.discontinuity),
            });
        }
        st.pes = pes;
        st.pes.clear();
    }
}

/// Splits a complete PES packet into (payload, PTS, DTS), the payload cut at
/// `PES_packet_length` when non-zero.
fn pes_parts(pes: &[u8]) -> Option<(&[u8], Option<u64>, Option<u64>)> {
    if pes.len() < 9 || !pes.starts_with(&[0, 0, 1]) {
        return None;
    }
    let len = u16::from_be_bytes([pes[4], pes[5]]) as usize;
    let end = if len == 0 {
        pes.len()
    } else {
        (6 + len).min(pes.len())
    };
    let (start, pts, dts) = pes_header(&pes[..end]).unwrap_or((6, None, None));
    (start <= end).then(|| (&pes[start..end], pts, dts))
}

impl PesSource for TsSource {
    fn next_pes(&mut self) -> Result<Option<Pes>, ContainerError> {
        loop {
            if let Some(p) = self.ready.pop_front() {
                return Ok(Some(p));
            }
            if self.eof {
                return Ok(None);
            }
            let more = self.packet().map_err(|e| {
                ContainerError::io(self.path.as_deref().unwrap_or(Path::new("MPEG-TS")), e)
            })?;
            if !more {
                self.eof = true;
                for k in 0..self.pids.len() {
                    self.flush(k);
                }
            }
        }
    }

    fn seek(&mut self, pos: u64) -> Result<(), ContainerError> {
        self.win.seek(pos.min(self.len)).map_err(|e| {
            ContainerError::io(self.path.as_deref().unwrap_or(Path::new("MPEG-TS")), e)
        })?;
        for e in &mut self.pids {
            e.state = PidState::default();
        }
        self.ready.clear();
        self.eof = false;
        self.in_sync = true;
        self.seeking = true;
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

    fn declared_audio(&self) -> Vec<(u32, AudioKind)> {
        self.pids
            .iter()
            .filter_map(|e| match e.kind {
                StreamKind::Audio(_) if e.sniff => None,
                StreamKind::Audio(k) => Some((u32::from(e.pid), k)),
                StreamKind::Video(_) => None,
            })
            .collect()
    }

    fn fork(&self) -> Result<Box<dyn PesSource>, ContainerError> {
        let path = self
            .path
            .clone()
            .ok_or_else(|| ContainerError::Unsupported {
                path: PathBuf::from("MPEG-TS"),
                what: "a second reader of an in-memory stream".into(),
            })?;
        let f = File::open(&path).map_err(|e| ContainerError::io(&path, e))?;
        let mut pids = self.pids.clone();
        for e in &mut pids {
            e.state = PidState::default();
        }
        Ok(Box::new(TsSource {
            path: Some(path),
            win: Window::new(Box::new(f)),
            len: self.len,
            prefix: self.prefix,
            pmt_pid: self.pmt_pid,
            pat_offset: self.pat_offset,
            pcr_pid: self.pcr_pid,
            pmt_types: self.pmt_types.clone(),
            video: self.video,
            pids,
            ready: VecDeque::new(),
            packets: 0,
            in_sync: true,
            seeking: false,
            eof: false,
            stats: TsStats::default(),
            spare: Spares::new(MAX_SPARE_PAYLOADS),
        }))
    }
}

/// Gathers the first program's video elementary stream of a transport
/// stream held in `data` (188- or 192-byte packets as [`packet_prefix`]
/// says; 188 when it cannot tell).
///
/// Errors: no sync byte, no PAT, no PMT for the first program, or no
/// video stream in it (`unsupported`).
pub fn video_elementary_stream(data: &[u8]) -> Result<TsVideo, TsError> {
    let prefix = packet_prefix(data).unwrap_or(0);
    let mut s = TsSource::new(
        None,
        Box::new(std::io::Cursor::new(data.to_vec())),
        data.len() as u64,
        prefix,
    )?;
    let mut es = Vec::new();
    while let Some(p) = s.next_pes().map_err(|e| err(0, e.to_string(), false))? {
        if matches!(p.kind, StreamKind::Video(_)) {
            es.extend_from_slice(&p.payload);
        }
    }
    let (video_pid, stream_type) = s.video.unwrap_or_default();
    Ok(TsVideo {
        es,
        video_pid,
        stream_type,
        continuity_gaps: s.stats.continuity_gaps,
        resyncs: s.stats.resyncs,
        dropped_packets: s.stats.dropped_packets,
    })
}

/// Opens a transport stream (188-byte packets, or 192-byte M2TS ones):
/// its video (track 1) and audio tracks (track id = PID), packets in file
/// order ([`MuxDemuxer`]), the file streamed.
///
/// Errors: [`ContainerError::Io`]; [`ContainerError::Unsupported`] when
/// the first program has no video stream vreqplay reads;
/// [`ContainerError::Corrupt`] (with the byte offset) when no PAT / PMT is
/// found or MPEG video holds no sequence header.
pub fn open(path: &Path) -> Result<MuxDemuxer, ContainerError> {
    use std::io::Read;
    let mut f = File::open(path).map_err(|e| ContainerError::io(path, e))?;
    let len = f.metadata().map_err(|e| ContainerError::io(path, e))?.len();
    let mut head = Vec::new();
    (&mut f)
        .take(3 * M2TS_PACKET_SIZE as u64)
        .read_to_end(&mut head)
        .map_err(|e| ContainerError::io(path, e))?;
    let prefix = packet_prefix(&head).unwrap_or(0);
    let f = File::open(path).map_err(|e| ContainerError::io(path, e))?;
    let src = TsSource::new(Some(path.to_owned()), Box::new(f), len, prefix).map_err(|e| {
        if e.unsupported {
            ContainerError::Unsupported {
                path: path.to_owned(),
                what: format!("MPEG-TS at byte {}: {}", e.offset, e.what),
            }
        } else {
            ContainerError::corrupt(path, "MPEG-TS", e.offset, e.what)
        }
    })?;
    MuxDemuxer::open(path, Box::new(src))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PSI packet on `pid` holding one section (`body` after
    /// section_length, without CRC), pointer_field 0.
    fn psi_packet(pid: u16, table_id: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![
            table_id,
            0xB0 | ((body.len() + 4) >> 8) as u8,
            (body.len() + 4) as u8,
        ];
        s.extend_from_slice(body);
        let crc = crc32_mpeg2(&s);
        s.extend_from_slice(&crc.to_be_bytes());
        let mut p = vec![SYNC, 0x40 | (pid >> 8) as u8, pid as u8, 0x10, 0];
        p.extend_from_slice(&s);
        p.resize(PACKET_SIZE, 0xFF);
        p
    }

    fn pat(pmt_pid: u16) -> Vec<u8> {
        // transport_stream_id, version, section numbers, network PID 0x10,
        // program 1 → pmt_pid.
        let body = [
            0,
            1,
            0xC1,
            0,
            0,
            0,
            0,
            0xE0,
            0x10,
            0,
            1,
            0xE0 | (pmt_pid >> 8) as u8,
            pmt_pid as u8,
        ];
        psi_packet(0, 0x00, &body)
    }

    fn pmt(pmt_pid: u16, streams: &[(u8, u16)]) -> Vec<u8> {
        let mut body = vec![0, 1, 0xC1, 0, 0, 0xE1, 0x00, 0xF0, 0];
        for &(t, pid) in streams {
            body.extend_from_slice(&[t, 0xE0 | (pid >> 8) as u8, pid as u8, 0xF0, 0]);
        }
        psi_packet(pmt_pid, 0x02, &body)
    }

    /// A packet on `pid` with `payload`, padded with an adaptation field
    /// (stuffing) when short.
    fn data_packet(pid: u16, pusi: bool, cc: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() <= 184);
        let mut p = vec![SYNC, (pusi as u8) << 6 | (pid >> 8) as u8, pid as u8];
        if payload.len() == 184 {
            p.push(0x10 | cc);
        } else {
            p.push(0x30 | cc);
            let af_len = 183 - payload.len();
            p.push(af_len as u8);
            if af_len > 0 {
                p.push(0); // flags
                p.resize(5 + af_len, 0xFF);
            }
        }
        p.extend_from_slice(payload);
        assert_eq!(p.len(), PACKET_SIZE);
        p
    }

    fn pes_header(payload_len: usize) -> Vec<u8> {
        let len = 3 + 5 + payload_len;
        let len = if len > 0xFFFF { 0 } else { len };
        vec![
            0,
            0,
            1,
            0xE0,
            (len >> 8) as u8,
            len as u8,
            0x80,
            0x80,
            5,
            0x21,
            0,
            1,
            0,
            1,
        ]
    }

    fn stream() -> (Vec<u8>, Vec<u8>) {
        let es1: Vec<u8> = (0..300u32).map(|x| x as u8).collect();
        let es2: Vec<u8> = (0..50u32).map(|x| (x * 7) as u8).collect();
        let mut pes1 = pes_header(es1.len());
        pes1.extend_from_slice(&es1);
        let mut pes2 = pes_header(es2.len());
        pes2.extend_from_slice(&es2);
        let mut ts = pat(0x100);
        ts.extend(pmt(0x100, &[(0x03, 0x101), (0x02, 0x200)]));
        ts.extend(data_packet(0x200, true, 0, &pes1[..184]));
        ts.extend(data_packet(0x101, true, 0, &[0, 0, 1, 0xC0, 0, 0]));
        ts.extend(data_packet(0x200, false, 1, &pes1[184..]));
        ts.extend(data_packet(0x200, true, 2, &pes2));
        let mut expect = es1;
        expect.extend(es2);
        (ts, expect)
    }

    #[test]
    fn gathers_video_pes_payloads_through_pat_and_pmt() {
        let (ts, expect) = stream();
        assert!(probe(&ts));
        let v = video_elementary_stream(&ts).unwrap();
        assert_eq!((v.video_pid, v.stream_type), (0x200, 0x02));
        assert_eq!(v.es, expect);
        assert_eq!((v.continuity_gaps, v.resyncs, v.dropped_packets), (0, 0, 0));
    }

    #[test]
    fn continuity_gap_is_counted_and_gathering_goes_on() {
        let (mut ts, _) = stream();
        let es3 = [9u8, 8, 7];
        let mut pes3 = pes_header(es3.len());
        pes3.extend_from_slice(&es3);
        // counter 2 → 5: two packets lost
        ts.extend(data_packet(0x200, true, 5, &pes3));
        // duplicate of the previous packet: dropped
        ts.extend(data_packet(0x200, true, 5, &pes3));
        let v = video_elementary_stream(&ts).unwrap();
        assert_eq!(v.continuity_gaps, 1);
        assert_eq!(v.dropped_packets, 1);
        assert!(v.es.ends_with(&es3));
        assert!(!v.es.ends_with(&[9, 8, 7, 9, 8, 7]));
    }

    #[test]
    fn resyncs_after_garbage_and_drops_error_packets() {
        let (ts, expect) = stream();
        let mut bad = ts[..2 * PACKET_SIZE].to_vec();
        bad.extend_from_slice(&[0x47, 1, 2, 0x47, 5]); // garbage with false syncs
        bad.extend_from_slice(&ts[2 * PACKET_SIZE..]);
        let mut err_pkt = data_packet(0x200, true, 3, &[1, 2, 3]);
        err_pkt[1] |= 0x80; // transport_error_indicator
        bad.extend(err_pkt);
        let v = video_elementary_stream(&bad).unwrap();
        assert_eq!(v.es, expect);
        assert_eq!((v.resyncs, v.dropped_packets), (1, 1));
    }

    #[test]
    fn truncated_stream_keeps_what_is_there() {
        let (ts, expect) = stream();
        // cut inside the 4th packet (second half of PES 1): first 184-14 bytes kept
        for cut in [3 * PACKET_SIZE + 50, 4 * PACKET_SIZE + 10] {
            let v = video_elementary_stream(&ts[..cut]).unwrap();
            assert_eq!(v.es, expect[..184 - 14], "cut at {cut}");
        }
        // cut before the PMT
        let e = video_elementary_stream(&ts[..PACKET_SIZE + 100]).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(
            e.what.contains("no program map table on PID 256"),
            "{}",
            e.what
        );
    }

    #[test]
    fn garbage_and_non_video_programs_are_clear_errors() {
        let e = video_elementary_stream(&[0u8; 1000]).unwrap_err();
        assert!(e.what.contains("sync byte"), "{}", e.what);
        let mut junk = vec![0x47u8; 2000];
        junk[3] = 0x10;
        let e = video_elementary_stream(&junk).unwrap_err();
        assert!(e.what.contains("program association table"), "{}", e.what);
        assert!(!probe(&[0x47; 300]));
        // VC-1 and AAC only (stream_types 0xEA, 0x0F): unsupported, names the types
        let mut ts = pat(0x100);
        ts.extend(pmt(0x100, &[(0xEA, 0x101), (0x0F, 0x102)]));
        let e = video_elementary_stream(&ts).unwrap_err();
        assert!(e.unsupported);
        assert!(e.what.contains("[ea, 0f]"), "{}", e.what);
        // a PAT with a bad CRC is ignored
        let mut ts = pat(0x100);
        ts[10] ^= 1;
        ts.extend(pmt(0x100, &[(0x02, 0x101)]));
        let e = video_elementary_stream(&ts).unwrap_err();
        assert!(e.what.contains("program association table"), "{}", e.what);
        // pointer_field / section_length past the packet: ignored, no panic
        let mut ts = pat(0x100);
        ts[4] = 200;
        assert!(video_elementary_stream(&ts).is_err());
        let mut ts = pat(0x100);
        ts[6] = 0xBF;
        ts[7] = 0xFF;
        assert!(video_elementary_stream(&ts).is_err());
    }

    #[test]
    fn fuzzed_streams_never_panic() {
        let (ts, _) = stream();
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..500 {
            let mut t = ts.clone();
            for _ in 0..8 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % t.len();
                t[at] = (state >> 32) as u8;
            }
            let _ = video_elementary_stream(&t);
            let cut = (state >> 40) as usize % t.len();
            let _ = video_elementary_stream(&t[..cut]);
        }
    }
}
