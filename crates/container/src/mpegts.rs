//! MPEG transport streams (`.ts`, `.m2ts` without the 4-byte prefix;
//! ISO/IEC 13818-1 2.4): the first video elementary stream of the first
//! program (`stream_type` 0x02 MPEG-2, 0x1B H.264, 0x24 HEVC, else 0x01
//! MPEG-1) is gathered from its PES packets; MPEG video is split into frames
//! by [`super::mpeg2es`] (same packets, timing and keyframes as an
//! elementary stream) — the same way [`super::mpegps`] does —, H.264 / HEVC
//! into access units by [`super::annexb`] (Annex-B bytes, keyframe = IDR /
//! IRAP, `CodecPrivate::None`) timed by their PES PTS / DTS; the program's audio
//! streams (`stream_type` 0x03 / 0x04 MPEG audio, 0x0F ADTS AAC, 0x11 LATM,
//! 0x81 AC-3, 0x87 E-AC-3; track id = PID) are cut into frames, their PES
//! PTS put on the video's time axis ([`super::mpegmux`]), and all packets
//! come in file order.
//!
//! * Transport packets (2.4.3.2): 188 bytes starting with the sync byte
//!   0x47. On lost sync the next offset where 0x47 repeats 188 bytes later
//!   is searched. Packets with `transport_error_indicator` set, with
//!   `adaptation_field_control` 0 (reserved) or with an
//!   `adaptation_field_length` running past the packet are dropped.
//! * `continuity_counter` (2.4.3.3): a gap on the video PID means lost
//!   data (on an audio PID it is logged; the frame splitter resyncs); it is counted and logged, and gathering goes on (the MPEG-2
//!   frame splitter resumes at the next picture). A repeated counter (a
//!   duplicate packet) is dropped.
//! * PSI (2.4.4): the program association table (PID 0) gives the first
//!   program's `program_map_PID`; its TS program map section gives the first
//!   elementary stream of `stream_type` 0x02 (ITU-T H.262 / MPEG-2 video),
//!   0x1B (H.264) or 0x24 (HEVC) or, if none, 0x01 (MPEG-1 video, which the
//!   MPEG-2 codec refuses), and the audio streams.
//!   Sections must fit in the packet after `pointer_field` and pass their
//!   CRC_32; others are ignored.
//! * PES (2.4.3.6): the payloads of the video PID from one
//!   `payload_unit_start_indicator` to the next form a PES packet; its
//!   header (9 bytes + `PES_header_data_length`) is stripped and the rest
//!   (up to `PES_packet_length` when non-zero) appended.
//!
//! `byte_offset` of a video packet is its offset in the gathered video
//! elementary stream, not in the file; of an audio packet, the file offset
//! of the TS packet starting the PES its frame starts in. The file is read whole, up to
//! [`super::mpeg2es::MAX_FILE_BYTES`].

use std::path::Path;

use super::mpeg2es::MAX_FILE_BYTES;
use super::mpegmux::{pes_header, AudioEs, AudioKind, Gathered, Mark, MuxDemuxer, Unwrapper};
use super::{CodecKind, ContainerError};

/// Transport packet size in bytes (ISO/IEC 13818-1 2.4.3.2).
pub const PACKET_SIZE: usize = 188;
const SYNC: u8 = 0x47;

/// Whether `head` (the file's first bytes, at least 377 of them) holds the
/// sync byte 0x47 at offsets 0, 188 and 376.
pub fn probe(head: &[u8]) -> bool {
    head.len() > 2 * PACKET_SIZE
        && head[0] == SYNC
        && head[PACKET_SIZE] == SYNC
        && head[2 * PACKET_SIZE] == SYNC
}

/// The video elementary stream gathered from a transport stream, and what
/// went wrong on the way.
#[derive(Debug, Default)]
pub struct TsVideo {
    /// The PES payloads of the video PID, concatenated.
    pub es: Vec<u8>,
    /// PID of the video elementary stream.
    pub video_pid: u16,
    /// `stream_type` of that stream in the PMT (0x02 MPEG-2, 0x01 MPEG-1).
    pub stream_type: u8,
    /// Continuity counter gaps seen on the video PID (lost packets).
    pub continuity_gaps: u32,
    /// Times sync was lost and searched for again.
    pub resyncs: u32,
    /// Packets dropped: `transport_error_indicator`, reserved
    /// `adaptation_field_control`, bad `adaptation_field_length`, duplicates.
    pub dropped_packets: u32,
}

/// Why no video stream could be gathered: byte offset in the file and what.
#[derive(Debug, PartialEq, Eq)]
pub struct TsError {
    pub offset: u64,
    pub what: String,
    /// True when the file is a valid TS that just has no MPEG video stream.
    pub unsupported: bool,
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

/// (`stream_type`, `elementary_PID`) of every stream of a PMT section.
fn pmt_streams(s: &[u8]) -> Vec<(u8, u16)> {
    let mut out = Vec::new();
    if s.len() < 12 {
        return out;
    }
    let program_info_length = (((s[10] & 0x0F) as usize) << 8) | s[11] as usize;
    let mut i = 12 + program_info_length;
    while i + 5 <= s.len() {
        let es_info_length = (((s[i + 3] & 0x0F) as usize) << 8) | s[i + 4] as usize;
        out.push((s[i], u16::from_be_bytes([s[i + 1] & 0x1F, s[i + 2]])));
        i += 5 + es_info_length;
    }
    out
}

/// Offset of the next packet at or after `from`: the first offset holding
/// the sync byte with another sync byte 188 bytes later (or the end of the
/// file right after the packet); `from` itself when it qualifies.
fn resync(data: &[u8], from: usize) -> Option<usize> {
    (from..data.len()).find(|&j| {
        data[j] == SYNC
            && data
                .get(j + PACKET_SIZE)
                .map_or(j + PACKET_SIZE == data.len(), |&b| b == SYNC)
    })
}

/// Gathers the first program's MPEG video elementary stream of a transport
/// stream held in `data`.
///
/// Errors ([`TsError`], with the byte offset in `data`): no sync byte at all,
/// no PAT, no PMT for the first program, or no MPEG-1/2, H.264 or HEVC video stream in it
/// (`unsupported`).
pub fn video_elementary_stream(data: &[u8]) -> Result<TsVideo, TsError> {
    gather(data).map(|(mut v, g)| {
        v.es = g.video_es;
        v
    })
}

/// The audio kind of a PMT `stream_type` (13818-1 Table 2-34; 0x81 / 0x87
/// AC-3 / E-AC-3 as ATSC A/53 and FFmpeg's mpegts.c map them).
fn audio_kind(stream_type: u8) -> Option<AudioKind> {
    match stream_type {
        0x03 | 0x04 => Some(AudioKind::Mpa),
        0x0F => Some(AudioKind::Adts),
        0x11 => Some(AudioKind::Latm),
        0x81 | 0x87 => Some(AudioKind::Ac3),
        _ => None,
    }
}

/// Per elementary PID: continuity counter and the PES being collected
/// (with the file offset of its first TS packet).
#[derive(Default)]
struct PidState {
    last_cc: Option<u8>,
    pes: Vec<u8>,
    pes_offset: u64,
    in_pes: bool,
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

/// Gathers the first program's video ES (with PES marks) and its audio
/// streams (`stream_type` 0x03 / 0x04 MPEG audio, 0x0F ADTS AAC, 0x11
/// LATM, 0x81 AC-3, 0x87 E-AC-3; track id = PID).
///
/// Errors: as [`video_elementary_stream`].
pub(crate) fn gather(data: &[u8]) -> Result<(TsVideo, Gathered), TsError> {
    let mut out = TsVideo::default();
    let mut g = Gathered {
        video_codec: CodecKind::Mpeg2,
        video_es: Vec::new(),
        video_marks: Vec::new(),
        audio: Vec::new(),
    };
    let mut clock = Unwrapper::default();
    let mut pmt_pid: Option<u16> = None;
    let mut pat_offset = 0u64;
    let mut pmt_types: Option<Vec<u8>> = None;
    let mut video_pid: Option<u16> = None;
    // (PID, its state, index into g.audio or None for the video).
    let mut pids: Vec<(u16, PidState, Option<usize>)> = Vec::new();
    let mut packets = 0u64;
    let mut i = 0usize;
    let flush =
        |st: &mut PidState, target: Option<usize>, g: &mut Gathered, clock: &mut Unwrapper| {
            if !st.in_pes {
                return;
            }
            if let Some((payload, pts, dts)) = pes_parts(&st.pes) {
                let pts = pts.map(|t| clock.unwrap(t));
                let dts = dts.map(|t| clock.unwrap(t));
                match target {
                    None => {
                        g.video_marks.push(Mark {
                            es_pos: g.video_es.len(),
                            pts,
                            dts,
                            file_offset: st.pes_offset,
                        });
                        g.video_es.extend_from_slice(payload);
                    }
                    Some(k) => g.audio[k].push(payload, pts, st.pes_offset),
                }
            }
            st.pes.clear();
            st.in_pes = false;
        };
    while i < data.len() {
        let Some(at) = resync(data, i) else { break };
        if at != i {
            out.resyncs += 1;
            tracing::warn!("MPEG-TS: sync lost at byte {i}, resumed at byte {at}");
        }
        i = at;
        let Some(pkt) = data.get(i..i + PACKET_SIZE) else {
            break; // truncated last packet
        };
        let offset = i as u64;
        i += PACKET_SIZE;
        packets += 1;
        if pkt[1] & 0x80 != 0 {
            out.dropped_packets += 1;
            continue;
        }
        let pusi = pkt[1] & 0x40 != 0;
        let pid = u16::from_be_bytes([pkt[1] & 0x1F, pkt[2]]);
        let afc = (pkt[3] >> 4) & 3;
        let cc = pkt[3] & 0x0F;
        let mut start = 4;
        if afc == 0 {
            out.dropped_packets += 1;
            continue;
        }
        if afc & 2 != 0 {
            start = 5 + pkt[4] as usize;
            if start > PACKET_SIZE || (afc == 3 && start == PACKET_SIZE) {
                out.dropped_packets += 1;
                continue;
            }
        }
        if afc & 1 == 0 {
            continue; // adaptation field only: no payload, counter unchanged
        }
        let payload = &pkt[start..];
        if pid == 0 && pusi && pmt_pid.is_none() {
            if let Some(s) = section(payload, 0x00) {
                pmt_pid = pat_first_pmt_pid(s);
                pat_offset = offset;
            }
        } else if Some(pid) == pmt_pid && pusi && pmt_types.is_none() {
            if let Some(s) = section(payload, 0x02) {
                let streams = pmt_streams(s);
                let pick = streams
                    .iter()
                    .find(|t| matches!(t.0, 0x02 | 0x1B | 0x24))
                    .or_else(|| streams.iter().find(|t| t.0 == 0x01));
                if let Some(&(t, p)) = pick {
                    g.video_codec = match t {
                        0x1B => CodecKind::H264,
                        0x24 => CodecKind::Hevc,
                        _ => CodecKind::Mpeg2,
                    };
                    video_pid = Some(p);
                    out.stream_type = t;
                    out.video_pid = p;
                    pids.push((p, PidState::default(), None));
                }
                for &(t, p) in &streams {
                    if let Some(kind) = audio_kind(t) {
                        if pids.iter().all(|x| x.0 != p) {
                            g.audio.push(AudioEs::new(u32::from(p), kind));
                            pids.push((p, PidState::default(), Some(g.audio.len() - 1)));
                        }
                    }
                }
                pmt_types = Some(streams.iter().map(|t| t.0).collect());
            }
        } else if let Some((_, st, target)) = pids.iter_mut().find(|x| x.0 == pid) {
            if let Some(last) = st.last_cc {
                if cc == last {
                    out.dropped_packets += 1; // duplicate packet (2.4.3.3)
                    continue;
                }
                if cc != (last + 1) & 0x0F {
                    if target.is_none() {
                        out.continuity_gaps += 1;
                    }
                    tracing::warn!(
                        "MPEG-TS: continuity gap on PID {pid} at byte {offset} \
                         (counter {last} then {cc}): data lost"
                    );
                }
            }
            st.last_cc = Some(cc);
            if pusi {
                flush(st, *target, &mut g, &mut clock);
                st.in_pes = true;
                st.pes_offset = offset;
            }
            if st.in_pes {
                st.pes.extend_from_slice(payload);
            }
        }
    }
    for (_, st, target) in &mut pids {
        flush(st, *target, &mut g, &mut clock);
    }
    if packets == 0 {
        return Err(err(0, "no transport packet (sync byte 0x47) found", false));
    }
    let Some(pmt_pid) = pmt_pid else {
        return Err(err(0, "no program association table (PID 0) found", false));
    };
    if video_pid.is_none() {
        return Err(match pmt_types {
            None => err(
                pat_offset,
                format!("no program map table on PID {pmt_pid} (from the PAT here)"),
                false,
            ),
            Some(types) => err(
                pat_offset,
                format!(
                    "the first program (PMT PID {pmt_pid}) has no MPEG-1/2, H.264 or HEVC \
                     video stream (stream_types {types:02x?})"
                ),
                true,
            ),
        });
    }
    Ok((out, g))
}

fn err(offset: u64, what: impl Into<String>, unsupported: bool) -> TsError {
    TsError {
        offset,
        what: what.into(),
        unsupported,
    }
}

/// Opens a transport stream: its MPEG video (track 1, split by
/// [`super::mpeg2es`]) and audio tracks (track id = PID), packets in file
/// order ([`MuxDemuxer`]).
///
/// Errors: [`ContainerError::Io`]; [`ContainerError::Unsupported`] when
/// larger than [`MAX_FILE_BYTES`] or when the first program has no MPEG
/// video stream; [`ContainerError::Corrupt`] (with the byte offset) when no
/// PAT / PMT is found or the video holds no sequence header.
pub fn open(path: &Path) -> Result<MuxDemuxer, ContainerError> {
    let meta = std::fs::metadata(path).map_err(|e| ContainerError::io(path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ContainerError::Unsupported {
            path: path.to_owned(),
            what: format!(
                "MPEG transport stream of {} bytes (at most {MAX_FILE_BYTES} are read)",
                meta.len()
            ),
        });
    }
    let data = std::fs::read(path).map_err(|e| ContainerError::io(path, e))?;
    let (v, g) = gather(&data).map_err(|e| {
        if e.unsupported {
            ContainerError::Unsupported {
                path: path.to_owned(),
                what: format!("MPEG-TS at byte {}: {}", e.offset, e.what),
            }
        } else {
            ContainerError::corrupt(path, "MPEG-TS", e.offset, e.what)
        }
    })?;
    drop(data);
    if v.continuity_gaps > 0 || v.resyncs > 0 || v.dropped_packets > 0 {
        tracing::warn!(
            "{}: MPEG-TS video PID {}: {} continuity gaps, {} resyncs, {} packets dropped",
            path.display(),
            v.video_pid,
            v.continuity_gaps,
            v.resyncs,
            v.dropped_packets
        );
    }
    MuxDemuxer::new(path, g)
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
