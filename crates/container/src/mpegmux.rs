//! What MPEG program streams ([`super::mpegps`]) and transport streams
//! ([`super::mpegts`]) share once their PES packets are gathered: the PES
//! header (ISO/IEC 13818-1 2.4.3.6 / 11172-1 2.4.3.6: payload start, PTS),
//! the 33-bit PTS unwrapped onto one time line, audio elementary streams cut
//! into frames, and [`MuxDemuxer`], which hands out the video and audio
//! packets interleaved in file order.
//!
//! Time axis: the video packets' `pts_ns` come from the MPEG-2 ES splitter
//! ([`super::mpeg2es`]), which counts frames from 0 at the first picture in
//! display order, i.e. at the smallest video PES PTS of the first pictures.
//! Audio `pts_ns` = (its PES PTS − that smallest video PTS) in ns, so audio
//! and video keep the offset the file gives them (what ffprobe shows as the
//! streams' `start_time` difference). Without video, the first audio PTS is 0.
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
//! starts with ADTS: handed out as a packet, as FFmpeg does
//! (`leading_raw_aac`); a last frame cut short by the end of the file is
//! dropped.

use std::path::{Path, PathBuf};

use super::annexb::AnnexBDemuxer;
use super::mpeg2es::Mpeg2EsDemuxer;
use super::{
    audio, AudioCodec, AudioParams, CodecKind, CodecPrivate, ContainerError, Demuxer, Packet,
    TrackCodec, TrackInfo,
};

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

/// Where a PES packet's payload begins in its stream's gathered bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    /// Offset in the gathered elementary stream.
    pub es_pos: usize,
    /// Unwrapped PTS (90 kHz), if the PES had one.
    pub pts: Option<i64>,
    /// Unwrapped DTS (90 kHz), if the PES had one.
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

/// One audio elementary stream gathered from its PES packets.
#[derive(Debug)]
pub(crate) struct AudioEs {
    /// Track id: TS PID, PS `stream_id` (private stream 1: sub-stream id).
    pub id: u32,
    pub kind: AudioKind,
    pub es: Vec<u8>,
    pub marks: Vec<Mark>,
}

impl AudioEs {
    pub fn new(id: u32, kind: AudioKind) -> Self {
        AudioEs {
            id,
            kind,
            es: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Appends one PES packet's payload.
    pub fn push(&mut self, payload: &[u8], pts: Option<i64>, file_offset: u64) {
        self.marks.push(Mark {
            es_pos: self.es.len(),
            pts,
            dts: None,
            file_offset,
        });
        self.es.extend_from_slice(payload);
    }
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

/// An ADTS stream whose first PES payload holds no ADTS header but is
/// followed by a PES that starts with one: that payload is taken as one raw
/// AAC frame (`raw_data_block`, ISO/IEC 14496-3 4.4.2.1) and handed out as
/// a packet with its PES's pts, as FFmpeg's MPEG-TS demuxer passes it on
/// (its AAC decoder then decodes it with the configuration of the ADTS
/// headers that follow). `debian-src-gst-plugins-bad1.0/test.ts` starts so:
/// a 149-byte frame carrying libfaac's fill element, then ADTS. Anywhere
/// else such bytes are damage and skipped. `p`: where the frame search
/// failed (0: the stream's start); `next`: the next confirmed header.
fn leading_raw_aac(a: &AudioEs, p: usize, next: Option<usize>, ref_pts: i64) -> Option<Packet> {
    /// The largest raw frame: 6144 bits per channel (ISO/IEC 14496-3
    /// 4.5.3.2), 8 channels.
    const MAX_RAW: usize = 6144;
    if a.kind != AudioKind::Adts || p != 0 {
        return None;
    }
    // The first PES with payload (empty ones share its position).
    let m = a.marks.iter().rfind(|m| m.es_pos == 0)?;
    let end = a.marks.iter().find(|m| m.es_pos > 0)?.es_pos;
    if next != Some(end) || end > MAX_RAW {
        return None;
    }
    Some(Packet {
        track: a.id,
        data: a.es[..end].to_vec(),
        pts_ns: m.pts.map(|t| ticks_ns(t - ref_pts)),
        dts_ns: None,
        duration_ns: None,
        keyframe: true,
        byte_offset: m.file_offset,
        discard_padding_ns: 0,
    })
}

/// 90 kHz ticks → ns.
fn ticks_ns(t: i64) -> i64 {
    (i128::from(t) * 100_000 / 9).clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

/// Cuts an audio ES into packets (see the module doc) with `pts_ns`
/// relative to `ref_pts` (90 kHz), each packet's `byte_offset` the file
/// offset of the PES its frame starts in. Returns the track (None when no
/// frame was found) and the packets.
pub(crate) fn audio_packets(a: &AudioEs, ref_pts: i64) -> (Option<TrackInfo>, Vec<Packet>) {
    let mut packets = Vec::new();
    if a.kind == AudioKind::Latm {
        for (i, m) in a.marks.iter().enumerate() {
            let end = a.marks.get(i + 1).map_or(a.es.len(), |n| n.es_pos);
            if end > m.es_pos {
                packets.push(Packet {
                    track: a.id,
                    data: a.es[m.es_pos..end].to_vec(),
                    pts_ns: m.pts.map(|p| ticks_ns(p - ref_pts)),
                    dts_ns: None,
                    duration_ns: None,
                    keyframe: true,
                    byte_offset: m.file_offset,
                    discard_padding_ns: 0,
                });
            }
        }
        let track = (!packets.is_empty()).then(|| TrackInfo {
            id: a.id,
            codec: TrackCodec::Audio(AudioCodec::Other("aac_latm".into())),
            width: 0,
            height: 0,
            frame_duration_ns: None,
            duration_ns: None,
            codec_private: CodecPrivate::None,
            presentation_window_ns: None,
            pixel_aspect: None,
            crop: None,
            audio: Some(AudioParams::default()),
        });
        return (track, packets);
    }
    let es = &a.es;
    let mut first: Option<Frame> = None;
    let mut p = 0usize;
    let mut mark = 0usize; // next unconsumed mark
    let mut last_pts: Option<(i64, u32, u32)> = None; // (ns, samples, rate)
    let mut skipped = 0usize;
    while p < es.len() {
        let f = match frame_at(es, p, a.kind) {
            Some(f) => f,
            None => {
                // Resync: the next confirmed header.
                let next = (p + 1..es.len()).find(|&q| confirmed(es, q, a.kind).is_some());
                if let Some(raw) = leading_raw_aac(a, p, next, ref_pts) {
                    packets.push(raw);
                    p = next.unwrap_or(es.len());
                    continue;
                }
                match next {
                    Some(q) => {
                        skipped += q - p;
                        p = q;
                        continue;
                    }
                    None => {
                        skipped += es.len() - p;
                        break;
                    }
                }
            }
        };
        // The PES a frame starts in; its PTS if this is the first frame
        // starting in it.
        let mut pts_ticks = None;
        let mut file_offset = 0;
        while mark < a.marks.len() && a.marks[mark].es_pos <= f.start {
            if a.marks[mark].pts.is_some() {
                pts_ticks = a.marks[mark].pts;
            }
            mark += 1;
        }
        if let Some(m) = a.marks[..mark].last() {
            file_offset = m.file_offset;
        }
        let pts_ns = match (pts_ticks, last_pts) {
            (Some(t), _) => Some(ticks_ns(t - ref_pts)),
            (None, Some((ns, samples, rate))) if rate > 0 => {
                Some(ns + (i64::from(samples) * 1_000_000_000 / i64::from(rate)))
            }
            _ => None,
        };
        if let Some(ns) = pts_ns {
            last_pts = Some((ns, f.samples, f.rate));
        }
        let duration_ns =
            (f.rate > 0).then(|| u64::from(f.samples) * 1_000_000_000 / u64::from(f.rate));
        packets.push(Packet {
            track: a.id,
            data: es[f.data_start..f.end].to_vec(),
            pts_ns,
            dts_ns: None,
            duration_ns,
            keyframe: true,
            byte_offset: file_offset,
            discard_padding_ns: 0,
        });
        p = f.end;
        first.get_or_insert(f);
    }
    if skipped > 0 {
        tracing::warn!(
            "audio stream {}: {skipped} bytes without a frame header skipped",
            a.id
        );
    }
    let Some(f) = first else {
        return (None, packets);
    };
    let frame_duration_ns =
        (f.rate > 0).then(|| u64::from(f.samples) * 1_000_000_000 / u64::from(f.rate));
    if let Some(raw) = packets.first_mut().filter(|p| p.duration_ns.is_none()) {
        // The leading raw AAC frame: 1024 samples at the stream's rate.
        raw.duration_ns = frame_duration_ns;
    }
    let codec_private = match &f.adts {
        Some(h) => CodecPrivate::Raw(h.audio_specific_config()),
        None => CodecPrivate::None,
    };
    let track = TrackInfo {
        id: a.id,
        codec: TrackCodec::Audio(f.codec.clone()),
        width: 0,
        height: 0,
        frame_duration_ns,
        duration_ns: frame_duration_ns.map(|d| d * packets.len() as u64),
        codec_private,
        presentation_window_ns: None,
        pixel_aspect: None,
        crop: None,
        audio: Some(AudioParams {
            sample_rate: f.rate,
            channels: f.channels,
            skip_samples: 0,
        }),
    };
    (Some(track), packets)
}

/// What a program / transport stream gave: the MPEG-2 video ES with the
/// PES marks, and the audio streams.
pub(crate) struct Gathered {
    /// MPEG-1/2 video (split by [`super::mpeg2es`]), H.264 or HEVC (split
    /// into access units by [`super::annexb`]).
    pub video_codec: CodecKind,
    pub video_es: Vec<u8>,
    pub video_marks: Vec<Mark>,
    pub audio: Vec<AudioEs>,
}

/// One packet source in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// The video's packet with this index.
    Video(usize),
    /// `audio[i]`.
    Audio(usize),
}

/// The video track's packets.
enum Video {
    /// MPEG-1/2: the ES splitter, its packets timed from 0 by frame count.
    Mpeg2(Mpeg2EsDemuxer),
    /// H.264 / HEVC access units timed by their PES PTS / DTS, and the next one.
    Units(Vec<Packet>, usize),
}

/// Splits an H.264 / HEVC ES into access units ([`AnnexBDemuxer`]) and
/// times them: an access unit takes the PTS / DTS of the PES its first byte
/// is in when it is the first unit starting in that PES (one access unit
/// per PES is what muxers write; 13818-1 2.4.3.7), else it has none.
fn timed_units(
    path: &Path,
    codec: CodecKind,
    es: Vec<u8>,
    marks: &[Mark],
    ref_pts: i64,
) -> Result<(TrackInfo, Vec<Packet>), ContainerError> {
    let mut d = AnnexBDemuxer::from_bytes(path, TrackCodec::Video(codec), es)?;
    let track = d.tracks()[0].clone();
    let mut units = Vec::new();
    let mut used = usize::MAX; // index of the last mark whose PTS was given out
    let mut errors = 0;
    loop {
        let mut p = match d.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                errors += 1;
                tracing::warn!("{e}");
                if errors > 100 {
                    break;
                }
                continue;
            }
        };
        let es_pos = usize::try_from(p.byte_offset).unwrap_or(usize::MAX);
        let i = marks.partition_point(|m| m.es_pos <= es_pos);
        if let Some(k) = i.checked_sub(1) {
            if k != used {
                used = k;
                p.pts_ns = marks[k].pts.map(|t| ticks_ns(t - ref_pts));
                p.dts_ns = marks[k].dts.or(marks[k].pts).map(|t| ticks_ns(t - ref_pts));
            }
        }
        units.push(p);
    }
    Ok((track, units))
}

/// A program or transport stream's video (track 1) and audio tracks,
/// packets interleaved in file order: a video packet at the file offset of
/// the PES its first byte came from, an audio frame at the PES it starts in.
pub struct MuxDemuxer {
    path: PathBuf,
    tracks: Vec<TrackInfo>,
    video: Video,
    audio: Vec<Packet>,
    order: Vec<Item>,
    cursor: usize,
}

impl MuxDemuxer {
    /// Builds the demuxer from what [`super::mpegts`] / [`super::mpegps`]
    /// gathered.
    ///
    /// Errors: [`ContainerError::Corrupt`] when MPEG video holds no sequence
    /// header.
    pub(crate) fn new(path: &Path, g: Gathered) -> Result<Self, ContainerError> {
        // The video axis' 0: the smallest PTS of the first video PES packets
        // (the first picture in display order; 32 covers a GOP's leading
        // pictures).
        let ref_pts = g
            .video_marks
            .iter()
            .filter_map(|m| m.pts)
            .take(32)
            .min()
            .or_else(|| {
                g.audio
                    .iter()
                    .filter_map(|a| a.marks.iter().find_map(|m| m.pts))
                    .min()
            })
            .unwrap_or(0);
        // File position of a video ES offset: the PES it is in.
        let marks = &g.video_marks;
        let pos_of = |es_pos: usize| -> u64 {
            let i = marks.partition_point(|m| m.es_pos <= es_pos);
            i.checked_sub(1).map_or(0, |i| marks[i].file_offset)
        };
        let (video, mut tracks, video_pos): (Video, Vec<TrackInfo>, Vec<u64>) = match g.video_codec
        {
            CodecKind::H264 | CodecKind::Hevc => {
                let (track, units) = timed_units(path, g.video_codec, g.video_es, marks, ref_pts)?;
                let pos = units
                    .iter()
                    .map(|u| pos_of(usize::try_from(u.byte_offset).unwrap_or(usize::MAX)))
                    .collect();
                (Video::Units(units, 0), vec![track], pos)
            }
            _ => {
                let v = Mpeg2EsDemuxer::from_bytes(path, g.video_es)?;
                let pos = v.entry_starts().map(pos_of).collect();
                let tracks = v.tracks().to_vec();
                (Video::Mpeg2(v), tracks, pos)
            }
        };
        let mut audio = Vec::new();
        for a in &g.audio {
            let (track, packets) = audio_packets(a, ref_pts);
            if let Some(t) = track {
                tracks.push(t);
                audio.extend(packets);
            }
        }
        let mut keyed: Vec<(u64, Item)> = video_pos
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, Item::Video(i)))
            .collect();
        keyed.extend(
            audio
                .iter()
                .enumerate()
                .map(|(i, p)| (p.byte_offset, Item::Audio(i))),
        );
        // Stable: equal offsets keep video before audio and each stream's order.
        keyed.sort_by_key(|k| k.0);
        Ok(MuxDemuxer {
            path: path.to_owned(),
            tracks,
            video,
            audio,
            order: keyed.into_iter().map(|k| k.1).collect(),
            cursor: 0,
        })
    }

    /// Positions at `order[i]`, the video at the first video item from there on.
    fn go_to(&mut self, i: usize) {
        self.cursor = i;
        let next_video = self.order[i.min(self.order.len())..]
            .iter()
            .find_map(|it| match it {
                Item::Video(v) => Some(*v),
                Item::Audio(_) => None,
            })
            .unwrap_or(usize::MAX);
        match &mut self.video {
            Video::Mpeg2(v) => v.set_next(next_video),
            Video::Units(u, next) => *next = next_video.min(u.len()),
        }
    }
}

impl Demuxer for MuxDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let Some(&item) = self.order.get(self.cursor) else {
            return Ok(None);
        };
        self.cursor += 1;
        match item {
            Item::Video(_) => match &mut self.video {
                Video::Mpeg2(v) => v.next_packet(),
                Video::Units(u, next) => {
                    let p = u.get(*next).cloned();
                    *next += 1;
                    Ok(p)
                }
            },
            Item::Audio(i) => Ok(Some(self.audio[i].clone())),
        }
    }

    /// Video track: the last keyframe at or before `pts_ns` (MPEG-2: the ES
    /// splitter's seek); audio track: its last frame with pts ≤ `pts_ns` (or
    /// its first). Other tracks' packets go on from that file position.
    fn seek(&mut self, track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        if track == 1 {
            let v = match &mut self.video {
                Video::Mpeg2(v) => {
                    v.seek(1, pts_ns)?;
                    v.next_index()
                }
                Video::Units(u, _) => {
                    let keys = || u.iter().enumerate().filter(|(_, p)| p.keyframe);
                    keys()
                        .filter(|(_, p)| p.pts_ns.is_some_and(|t| t <= pts_ns))
                        .max_by_key(|(_, p)| p.pts_ns)
                        .or_else(|| keys().next())
                        .map_or(usize::MAX, |(i, _)| i)
                }
            };
            let i = self
                .order
                .iter()
                .position(|it| *it == Item::Video(v))
                .unwrap_or(self.order.len());
            self.go_to(i);
            return Ok(());
        }
        if !self.tracks.iter().any(|t| t.id == track) {
            return Err(ContainerError::Unsupported {
                path: self.path.clone(),
                what: format!("seek: no track {track}"),
            });
        }
        let mut best: Option<usize> = None;
        let mut first: Option<usize> = None;
        for (k, it) in self.order.iter().enumerate() {
            if let Item::Audio(i) = *it {
                let p = &self.audio[i];
                if p.track != track {
                    continue;
                }
                first.get_or_insert(k);
                if p.pts_ns.is_some_and(|t| t <= pts_ns) {
                    best = Some(k);
                }
            }
        }
        let i = best.or(first).unwrap_or(self.order.len());
        self.go_to(i);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
