//! Matroska / WebM demuxer on top of the `matroska-demuxer` crate.
//!
//! The crate parses EBML, SimpleBlocks and BlockGroups and undoes Xiph, EBML
//! and fixed-size lacing (one [`Packet`] per laced frame). What we add:
//!
//! * CodecID → [`TrackCodec`] (`V_MPEG4/ISO/AVC`, `V_MPEGH/ISO/HEVC`, `V_VP8`,
//!   `V_VP9`, `V_MPEG2`, `V_AV1`, `A_*`); the AVC/HEVC CodecPrivate (an
//!   avcC/hvcC record) is parsed into [`CodecPrivate::Avc`]/[`CodecPrivate::Hvcc`],
//!   other CodecPrivate is passed on as [`CodecPrivate::Raw`].
//! * `pts_ns` = block timestamp × TimestampScale (Matroska stores presentation
//!   times); `dts_ns` is `None` (Matroska has no decode times).
//! * `keyframe`: the SimpleBlock keyframe flag. The crate does not expose a
//!   BlockGroup's ReferenceBlock, so for BlockGroups the frame's bytes are
//!   inspected instead (`config::frame_is_keyframe`: IDR/IRAP NAL unit, VP8/VP9
//!   key frame bit, MPEG-2 I picture).
//! * `frame_duration_ns` = the track's DefaultDuration.
//! * Audio tracks: CodecID → [`AudioCodec`] (`A_AAC*`, `A_VORBIS`, `A_OPUS`,
//!   `A_MPEG/L1..L3`, `A_FLAC`, `A_ALAC`, `A_PCM/*`, `A_AC3`, `A_EAC3`,
//!   `A_DTS*`), [`AudioParams`] from the `Audio` element (and, for Opus, the
//!   OpusHead), CodecPrivate as the extradata. Their pts are moved back by
//!   `CodecDelay`, which is not otherwise dropped (as FFmpeg 5.1's
//!   matroskadec); the frames of a laced block after the first
//!   get the block time + k × DefaultDuration or, without one, the end of
//!   the frame before (its length from its bytes: Vorbis block sizes from
//!   the headers and the packet's mode, the Opus TOC, MPEG audio / AC-3
//!   headers, AAC's 1024), else no pts.
//! * `discard_padding_ns`: a BlockGroup's `DiscardPadding`, on the Block's
//!   last frame. The crate does not hand it out, so we read it ourselves
//!   (`DiscardScan`: the Cluster of the packet just demuxed, its
//!   BlockGroups' children headers), as FFmpeg's matroskadec passes it on.
//! * `byte_offset` = the file offset of the frame's first byte, exact: it is
//!   taken from the position of the read that filled the frame buffer (see
//!   `TrackingReader`).
//! * Seek: the Cluster from the **Cues** (our own reading of CuePoint /
//!   CueTrackPositions / CueClusterPosition), or without Cues by **bisection
//!   on Cluster timestamps** (resync to the Cluster ID in a window read at the
//!   middle of the range); then the frames from that Cluster to the last
//!   keyframe ≤ target. The crate's reader is placed on the Cluster through a
//!   shared jump position (`Jump`): its own `seek` computes a
//!   CueRelativePosition from the first cluster instead of the cued one and
//!   without Cues reads every Cluster from the first. Limits of the crate
//!   kept here (issue 15 replaces it): the file is reopened (headers and Cues
//!   parsed again) for each Cluster a seek reads from, and the header walk
//!   at open (`prescan`) visits every Cluster header.
//! * `duration_ns`: Segment Info `Duration` × TimestampScale; `chapters`: the
//!   first EditionEntry's ChapterAtoms (the crate exposes no edition or
//!   chapter flags, so hidden / disabled chapters are listed too).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use matroska_demuxer::{DisplayUnit, Frame, MatroskaFile, StereoMode, TrackType};

use super::{
    audio, config, AudioCodec, AudioParams, Chapter, CodecKind, CodecPrivate, ContainerError, Crop,
    Demuxer, Packet, PcmFormat, TrackCodec, TrackInfo,
};

const FORMAT: &str = "Matroska";
/// Read calls remembered by [`TrackingReader`].
const READ_LOG: usize = 8;

/// A `Read + Seek` wrapper that (1) remembers where its last few reads started
/// and how many bytes they asked for, so that a frame's file offset can be
/// found after the crate has read it, and (2) overlays a few patched bytes
/// (see [`prescan`]) over the file.
struct TrackingReader {
    inner: BufReader<File>,
    pos: u64,
    /// File size in bytes.
    len: u64,
    log: ReadLog,
    next: usize,
    patches: Vec<(u64, Vec<u8>)>,
    /// A position the demuxer asked for: applied before the next read or
    /// seek (see [`Jump`]).
    jump: Jump,
    /// Bytes read through this reader and its successors (tests' measure).
    read_bytes: Arc<AtomicU64>,
}

impl TrackingReader {
    /// Moves to the position the demuxer asked for, if any.
    fn take_jump(&mut self) -> std::io::Result<()> {
        if let Some(to) = self.jump.take() {
            self.inner.seek(SeekFrom::Start(to))?;
            self.pos = to;
        }
        Ok(())
    }
}

impl Read for TrackingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.take_jump()?;
        let mut log = self.log.get();
        log[self.next % READ_LOG] = (self.pos, buf.len());
        self.next += 1;
        self.log.set(log);
        let n = self.inner.read(buf)?;
        self.read_bytes.fetch_add(n as u64, Ordering::Relaxed);
        let (start, end) = (self.pos, self.pos + n as u64);
        for (off, bytes) in &self.patches {
            for (k, &b) in bytes.iter().enumerate() {
                let at = off + k as u64;
                if at >= start && at < end {
                    buf[(at - start) as usize] = b;
                }
            }
        }
        self.pos = end;
        Ok(n)
    }
}

/// Bytes written over the file at an offset (see [`prescan`]).
type Patch = (u64, Vec<u8>);

/// A BlockGroup with a `DiscardPadding`: (Block payload start, Block end,
/// DiscardPadding ns).
type PaddedBlock = (u64, u64, i64);

/// Matroska element IDs used by [`prescan`] (Matroska spec, RFC 9559 §5.1).
const ID_EBML: u32 = 0x1A45_DFA3;
const ID_SEGMENT: u32 = 0x1853_8067;
const ID_SEEKHEAD: u32 = 0x114D_9B74;
const ID_SEEK: u32 = 0x4DBB;
const ID_SEEKID: u32 = 0x53AB;
const ID_SEEKPOSITION: u32 = 0x53AC;
/// A 4-byte ID no Matroska element has, written over hidden SeekHead entries.
const UNUSED_ID: u32 = 0x1F43_B676;
const ID_CLUSTER: u32 = 0x1F43_B675;
const ID_CUES: u32 = 0x1C53_BB6B;
const ID_CUEPOINT: u32 = 0xBB;
const ID_CUETIME: u32 = 0xB3;
const ID_CUETRACKPOSITIONS: u32 = 0xB7;
const ID_CUETRACK: u32 = 0xF7;
const ID_CUECLUSTERPOSITION: u32 = 0xF1;
const ID_TIMESTAMP: u32 = 0xE7;
const ID_CRC32: u32 = 0xBF;
const ID_VOID: u32 = 0xEC;
/// Largest Cues element read into memory.
const MAX_CUES: u64 = 64 << 20;
/// Bytes read per step while looking for a Cluster ID (seek bisection).
const SYNC_WINDOW: u64 = 64 << 10;
const TOP_LEVEL: [u32; 8] = [
    ID_SEEKHEAD,
    0x1549_A966,
    0x1654_AE6B,
    ID_CLUSTER,
    0x1C53_BB6B,
    0x1043_A770,
    0x1254_C367,
    0x1941_A469,
];

/// Reads an EBML element header at `pos`: (id, size or None if unknown, size field length, header length).
fn ebml_header(f: &File, pos: u64, file_size: u64) -> Option<(u32, Option<u64>, usize, u64)> {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 12];
    let n = (file_size.checked_sub(pos)?).min(12) as usize;
    f.read_exact_at(&mut b[..n], pos).ok()?;
    let il = b[0].leading_zeros() as usize + 1;
    if il > 4 || il + 1 > n {
        return None;
    }
    let id = b[..il].iter().fold(0u32, |a, &x| (a << 8) | u32::from(x));
    let sl = b[il].leading_zeros() as usize + 1;
    if sl > 8 || il + sl > n {
        return None;
    }
    let mut v = u64::from(b[il]) & (0xff >> sl);
    for &x in &b[il + 1..il + sl] {
        v = (v << 8) | u64::from(x);
    }
    let unknown = v == (1u64 << (7 * sl)) - 1;
    Some((id, (!unknown).then_some(v), sl, (il + sl) as u64))
}

/// Works around two `matroska-demuxer` 0.8.1 limits by patching bytes the
/// crate reads (the file itself is untouched):
///
/// * An unknown-size Segment or Cluster written with a long size field
///   (`01 FF FF FF FF FF FF FF`, as browsers' MediaRecorder do) is taken by the
///   crate as a 2^56-byte element; we write the real size into the field
///   (Segment: to the end of the file; Cluster: up to the next top-level element).
/// * The crate takes the *last* `Cluster` entry of the SeekHead(s) as the first
///   cluster, which skips everything before it when a muxer indexes every
///   cluster; we hide Cluster entries (SeekID changed to an unused ID) so the
///   crate searches for the first cluster itself.
/// * The crate refuses a file whose SeekHead points past its end (a truncated
///   file whose Cues were at the end); we hide such entries too.
/// * The crate follows SeekHead → SeekHead links without loop detection (a
///   backward link hangs it) and panics on two links in one SeekHead; we keep
///   only the first forward link of each SeekHead.
///
/// The scan walks top-level element headers only (and the children of
/// unknown-size clusters); it stops at the first header it cannot read.
/// It also returns where each Cluster's children are (start, end), for
/// [`DiscardScan`].
fn prescan(f: &File, file_size: u64) -> (Vec<Patch>, Vec<(u64, u64)>, Layout) {
    let mut patches = Vec::new();
    let mut clusters = Vec::new();
    let mut layout = Layout::default();
    let encode = |v: u64, len: usize| -> Option<Vec<u8>> {
        if len == 0 || len > 8 || v >= (1u64 << (7 * len)) - 1 {
            return None;
        }
        let with_marker = v | (1u64 << (7 * len));
        Some(with_marker.to_be_bytes()[8 - len..].to_vec())
    };
    let Some((ID_EBML, Some(size), _, hl)) = ebml_header(f, 0, file_size) else {
        return (patches, clusters, layout);
    };
    let mut pos = hl + size;
    let Some((ID_SEGMENT, seg_size, sl, hl)) = ebml_header(f, pos, file_size) else {
        return (patches, clusters, layout);
    };
    let seg_data = pos + hl;
    let seg_end = match seg_size {
        Some(s) => seg_data.saturating_add(s).min(file_size),
        None => {
            if sl > 1 {
                if let Some(b) = encode(file_size - seg_data, sl) {
                    patches.push((seg_data - sl as u64, b));
                }
            }
            file_size
        }
    };
    pos = seg_data;
    // SeekHead positions, and SeekHead → SeekHead entries: (SeekID offset, referring SeekHead, target).
    let mut seekheads: Vec<u64> = Vec::new();
    let mut chain_refs: Vec<(u64, u64, Option<u64>)> = Vec::new();
    while pos < seg_end {
        let Some((id, size, sl, hl)) = ebml_header(f, pos, file_size) else {
            break;
        };
        let data = pos + hl;
        match (id, size) {
            (ID_SEEKHEAD, Some(size)) => {
                seekheads.push(pos);
                let end = data.saturating_add(size).min(seg_end);
                let mut p = data;
                while p < end {
                    let Some((cid, Some(csize), _, chl)) = ebml_header(f, p, file_size) else {
                        break;
                    };
                    if cid == ID_SEEK {
                        let cend = (p + chl).saturating_add(csize).min(end);
                        let mut q = p + chl;
                        // (offset of the SeekID payload, SeekID, SeekPosition)
                        let (mut id_at, mut seek_id, mut seek_pos) = (None, 0u32, None);
                        while q < cend {
                            let Some((gid, Some(gsize), _, ghl)) = ebml_header(f, q, file_size)
                            else {
                                break;
                            };
                            use std::os::unix::fs::FileExt;
                            let mut v = [0u8; 8];
                            let n = gsize.min(8) as usize;
                            if gsize <= 8 && f.read_exact_at(&mut v[..n], q + ghl).is_ok() {
                                let value =
                                    v[..n].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
                                if gid == ID_SEEKID && gsize == 4 {
                                    (id_at, seek_id) = (Some(q + ghl), value as u32);
                                } else if gid == ID_SEEKPOSITION {
                                    seek_pos = Some(value);
                                }
                            }
                            q = (q + ghl).saturating_add(gsize);
                        }
                        let past_end =
                            seek_pos.is_some_and(|sp| seg_data.saturating_add(sp) >= file_size);
                        if let (ID_CUES, Some(sp), false) = (seek_id, seek_pos, past_end) {
                            layout.cues.get_or_insert(seg_data.saturating_add(sp));
                        }
                        if let Some(at) = id_at {
                            if seek_id == ID_CLUSTER || past_end {
                                patches.push((at, UNUSED_ID.to_be_bytes().to_vec()));
                            } else if seek_id == ID_SEEKHEAD {
                                chain_refs.push((
                                    at,
                                    pos,
                                    seek_pos.map(|sp| seg_data.saturating_add(sp)),
                                ));
                            }
                        }
                    }
                    p = (p + chl).saturating_add(csize);
                }
                pos = end;
            }
            (ID_CLUSTER, None) => {
                layout.first_cluster.get_or_insert(pos);
                // Find the end: the first top-level ID (or unreadable header) among its children.
                let mut p = data;
                while p < seg_end {
                    match ebml_header(f, p, file_size) {
                        Some((cid, Some(csize), _, chl)) if !TOP_LEVEL.contains(&cid) => {
                            p = (p + chl).saturating_add(csize);
                        }
                        _ => break,
                    }
                }
                let end = p.min(seg_end);
                if sl > 1 {
                    if let Some(b) = encode(end - data, sl) {
                        patches.push((data - sl as u64, b));
                    }
                }
                clusters.push((data, end));
                pos = end;
            }
            (ID_CLUSTER, Some(size)) => {
                layout.first_cluster.get_or_insert(pos);
                pos = data.saturating_add(size);
                clusters.push((data, pos.min(seg_end)));
            }
            (id, Some(size)) => {
                if id == ID_CUES {
                    layout.cues = Some(pos);
                }
                pos = data.saturating_add(size);
            }
            (_, None) => break,
        }
    }
    // The crate follows SeekHead → SeekHead links without loop detection and
    // panics on a second link in one SeekHead: keep only the first forward link
    // of each SeekHead to a SeekHead we saw.
    let mut linked_from: Vec<u64> = Vec::new();
    for (at, from, target) in chain_refs {
        let ok = target.is_some_and(|t| t > from && seekheads.contains(&t))
            && !linked_from.contains(&from);
        if ok {
            linked_from.push(from);
        } else {
            patches.push((at, UNUSED_ID.to_be_bytes().to_vec()));
        }
    }
    layout.seg_data = seg_data;
    (patches, clusters, layout)
}

/// Where [`prescan`] found the parts a seek needs.
#[derive(Debug, Clone, Default)]
struct Layout {
    /// File offset of the Segment's data (Cue positions count from it).
    seg_data: u64,
    /// File offset of the first Cluster element.
    first_cluster: Option<u64>,
    /// File offset of the Cues element (from the SeekHead or the walk).
    cues: Option<u64>,
}

const ID_BLOCKGROUP: u32 = 0xA0;
const ID_BLOCK: u32 = 0xA1;
const ID_DISCARDPADDING: u32 = 0x75A2;

/// Matroska `DiscardPadding` (RFC 9559 §5.1.3.5.7, a BlockGroup child: ns
/// of padding in the Block to drop after decoding), read by us because
/// `matroska-demuxer` 0.8.1 parses the element but does not hand it out
/// (its `Frame` has no such field). Lazily, one Cluster at a time: the
/// Cluster holding the packet just demuxed (the crate has just read those
/// pages), its BlockGroups' children walked for `Block` and
/// `DiscardPadding`; headers only, bounded by the Cluster's size.
struct DiscardScan {
    file: File,
    len: u64,
    /// (children start, end) of each Cluster, from [`prescan`], in file order.
    clusters: Vec<(u64, u64)>,
    /// The Cluster scanned last (index) and its BlockGroups with a
    /// DiscardPadding: (Block payload start, Block end, DiscardPadding ns).
    cached: Option<(usize, Vec<PaddedBlock>)>,
}

impl DiscardScan {
    /// The `DiscardPadding` in ns of the Block whose payload ends with the
    /// frame at `offset` of `len` bytes (the Block's last frame: the padding
    /// is at the Block's end), 0 if none.
    fn padding_ns(&mut self, offset: u64, len: usize) -> i64 {
        if offset == 0 || self.clusters.is_empty() {
            return 0;
        }
        let i = self.clusters.partition_point(|c| c.0 <= offset);
        let Some(i) = i.checked_sub(1) else {
            return 0;
        };
        if offset >= self.clusters[i].1 {
            return 0;
        }
        if self.cached.as_ref().is_none_or(|c| c.0 != i) {
            self.cached = Some((i, self.scan_cluster(self.clusters[i])));
        }
        let end = offset.saturating_add(len as u64);
        self.cached
            .as_ref()
            .and_then(|c| c.1.iter().find(|b| b.0 <= offset && b.1 == end))
            .map_or(0, |b| b.2)
    }

    fn scan_cluster(&self, (start, end): (u64, u64)) -> Vec<PaddedBlock> {
        use std::os::unix::fs::FileExt;
        let mut out = Vec::new();
        let end = end.min(self.len);
        let mut p = start;
        while p < end {
            let Some((id, Some(size), _, hl)) = ebml_header(&self.file, p, self.len) else {
                break;
            };
            let data = p + hl;
            let next = data.saturating_add(size).min(end);
            if id == ID_BLOCKGROUP {
                let (mut block, mut padding) = (None, None);
                let mut q = data;
                while q < next {
                    let Some((cid, Some(csize), _, chl)) = ebml_header(&self.file, q, self.len)
                    else {
                        break;
                    };
                    let cdata = q + chl;
                    let cend = cdata.saturating_add(csize);
                    if cid == ID_BLOCK {
                        block = Some((cdata, cend));
                    } else if cid == ID_DISCARDPADDING && (1..=8).contains(&csize) {
                        let mut v = [0u8; 8];
                        let n = csize as usize;
                        if self.file.read_exact_at(&mut v[..n], cdata).is_ok() {
                            // EBML signed integer: big-endian two's complement.
                            let raw = v[..n].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
                            let shift = 64 - 8 * n as u32;
                            padding = Some(((raw << shift) as i64) >> shift);
                        }
                    }
                    q = cend;
                }
                if let (Some((b0, b1)), Some(pad)) = (block, padding) {
                    if pad != 0 {
                        out.push((b0, b1, pad));
                    }
                }
            }
            p = next;
        }
        out
    }
}

impl Seek for TrackingReader {
    /// Seeks relative to the current position so that `BufReader` keeps its
    /// buffer (the crate seeks around every block, e.g. to the end and back).
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.take_jump()?;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        };
        let delta = i64::try_from(i128::from(target) - i128::from(self.pos)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek out of range")
        })?;
        self.inner.seek_relative(delta)?;
        self.pos = target;
        Ok(target)
    }
}

/// Matroska / WebM demuxer.
pub struct MkvDemuxer {
    path: PathBuf,
    mkv: MatroskaFile<TrackingReader>,
    log: ReadLog,
    timestamp_scale: u64,
    tracks: Vec<TrackInfo>,
    /// Per track number: its `CodecDelay` in ns (0 if none), subtracted
    /// from its block timestamps.
    codec_delay_ns: Vec<(u32, i64)>,
    /// The last audio frame given: (track, block timestamp, frames of that
    /// block so far, the frame's end in ns before `CodecDelay` if known), to
    /// tell the frames of one laced block apart and place them.
    lace: Option<(u32, u64, u32, Option<i64>)>,
    /// Per audio track: how long its frames are, from their bytes.
    timers: Vec<(u32, FrameTimer)>,
    /// BlockGroups' `DiscardPadding`, which the crate does not give.
    discard: DiscardScan,
    frame: Frame,
    done: bool,
    /// The bytes [`prescan`] patches over the file (kept to reopen it).
    patches: Vec<Patch>,
    /// Where the reader goes before its next read (a seek's cluster).
    jump: Jump,
    /// Where the first Cluster and the Cues are.
    layout: Layout,
    /// File size in bytes.
    file_len: u64,
    /// CuePoints: (CueTime in ns, CueTrack, Cluster file offset), by time.
    cues: Vec<(i64, u32, u64)>,
    /// Segment `Duration` × TimestampScale, ns.
    duration_ns: Option<i64>,
    chapters: Vec<Chapter>,
    /// Bytes read per step of the Cluster search ([`SYNC_WINDOW`]; smaller in tests).
    sync_window: u64,
    /// Bytes read since open by seeks' readers and Cluster searches (not
    /// the first reader's): what a seek costs, for the tests.
    read_bytes: Arc<AtomicU64>,
}

/// A file position the demuxer hands the reader inside the crate's
/// `MatroskaFile` (which owns it): the reader moves there before its next
/// read or seek. Set only right after a (re)open, when the crate is between
/// frames and about to read the next element, so the crate then reads the
/// Cluster at that position as if it had come to it.
#[derive(Clone, Default)]
struct Jump(Arc<Mutex<Option<u64>>>);

impl Jump {
    fn set(&self, to: u64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(to);
    }
    fn take(&self) -> Option<u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Shared log of the reader's recent reads: (file offset, requested length).
/// Shared between the reader (inside the crate's `MatroskaFile`) and the
/// demuxer; an `Arc<Mutex>` so that the demuxer is `Send` (the player
/// demuxes on its own thread). Never contended: both sides run on one thread.
#[derive(Clone, Default)]
struct ReadLog(Arc<Mutex<[(u64, usize); READ_LOG]>>);

impl ReadLog {
    fn get(&self) -> [(u64, usize); READ_LOG] {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn set(&self, v: [(u64, usize); READ_LOG]) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = v;
    }
}

/// What [`open_file`] gives: the crate's demuxer, its read log, the
/// `DiscardPadding` reader, the prescan's patches and layout, the file size.
type Opened = (
    MatroskaFile<TrackingReader>,
    ReadLog,
    DiscardScan,
    Vec<Patch>,
    Layout,
    u64,
);

fn open_file(path: &Path) -> Result<Opened, ContainerError> {
    let file = File::open(path).map_err(|e| ContainerError::io(path, e))?;
    let file_size = file
        .metadata()
        .map_err(|e| ContainerError::io(path, e))?
        .len();
    let (patches, clusters, layout) = prescan(&file, file_size);
    let discard = DiscardScan {
        file: file.try_clone().map_err(|e| ContainerError::io(path, e))?,
        len: file_size,
        clusters,
        cached: None,
    };
    let (mkv, log) = reopen(
        path,
        file,
        file_size,
        &patches,
        Jump::default(),
        Arc::default(),
    )?;
    Ok((mkv, log, discard, patches, layout, file_size))
}

/// Opens the crate's demuxer over `file` with the prescan's `patches`.
fn reopen(
    path: &Path,
    file: File,
    file_size: u64,
    patches: &[Patch],
    jump: Jump,
    read_bytes: Arc<AtomicU64>,
) -> Result<(MatroskaFile<TrackingReader>, ReadLog), ContainerError> {
    // A `try_clone`d file shares its offset with the original: start at 0.
    let mut file = file;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| ContainerError::io(path, e))?;
    let log = ReadLog::default();
    let reader = TrackingReader {
        inner: BufReader::new(file),
        pos: 0,
        len: file_size,
        log: log.clone(),
        next: 0,
        patches: patches.to_vec(),
        jump,
        read_bytes,
    };
    let mkv = guard(|| MatroskaFile::open(reader)).map_err(|e| {
        ContainerError::corrupt(
            path,
            FORMAT,
            0,
            format!("cannot read the Matroska header: {e}"),
        )
    })?;
    Ok((mkv, log))
}

/// An EBML element header in `d` at `p`: (id, size or None if unknown, header length).
fn ebml_header_in(d: &[u8], p: usize) -> Option<(u32, Option<u64>, usize)> {
    let b0 = *d.get(p)?;
    let il = b0.leading_zeros() as usize + 1;
    if il > 4 {
        return None;
    }
    let id = d
        .get(p..p + il)?
        .iter()
        .fold(0u32, |a, &x| (a << 8) | u32::from(x));
    let s0 = *d.get(p + il)?;
    let sl = s0.leading_zeros() as usize + 1;
    if sl > 8 {
        return None;
    }
    let mut v = u64::from(s0) & (0xff >> sl);
    for &x in d.get(p + il + 1..p + il + sl)? {
        v = (v << 8) | u64::from(x);
    }
    let unknown = v == (1u64 << (7 * sl)) - 1;
    Some((id, (!unknown).then_some(v), il + sl))
}

/// The children of the master element payload `d`: (id, payload).
fn ebml_children(d: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut p = 0usize;
    std::iter::from_fn(move || {
        let (id, size, hl) = ebml_header_in(d, p)?;
        let start = p + hl;
        let end = start.checked_add(usize::try_from(size?).ok()?)?;
        let payload = d.get(start..end)?;
        p = end;
        Some((id, payload))
    })
}

fn ebml_uint(d: &[u8]) -> Option<u64> {
    (d.len() <= 8).then(|| d.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
}

/// Reads the Cues element at `at` (RFC 9559 §5.1.5): per CuePoint and
/// CueTrackPositions, (CueTime × TimestampScale ns, CueTrack, Segment data
/// offset + CueClusterPosition), sorted by time. Empty when unreadable.
fn read_cues(f: &File, at: u64, file_size: u64, seg_data: u64, scale: u64) -> Vec<(i64, u32, u64)> {
    use std::os::unix::fs::FileExt;
    let mut out = Vec::new();
    let Some((ID_CUES, Some(size), _, hl)) = ebml_header(f, at, file_size) else {
        return out;
    };
    if size > MAX_CUES || at + hl + size > file_size {
        return out;
    }
    let mut d = vec![0u8; size as usize];
    if f.read_exact_at(&mut d, at + hl).is_err() {
        return out;
    }
    for (id, point) in ebml_children(&d) {
        if id != ID_CUEPOINT {
            continue;
        }
        let mut time = None;
        let mut positions = Vec::new();
        for (cid, c) in ebml_children(point) {
            match cid {
                ID_CUETIME => time = ebml_uint(c),
                ID_CUETRACKPOSITIONS => {
                    let (mut track, mut cluster) = (None, None);
                    for (gid, g) in ebml_children(c) {
                        match gid {
                            ID_CUETRACK => track = ebml_uint(g),
                            ID_CUECLUSTERPOSITION => cluster = ebml_uint(g),
                            _ => {}
                        }
                    }
                    if let (Some(t), Some(c)) = (track, cluster) {
                        positions.push((t, c));
                    }
                }
                _ => {}
            }
        }
        let Some(time) = time else { continue };
        let ns = (u128::from(time) * u128::from(scale)).min(i64::MAX as u128) as i64;
        for (t, c) in positions {
            if let (Ok(t), Some(pos)) = (u32::try_from(t), seg_data.checked_add(c)) {
                out.push((ns, t, pos));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Runs a crate call, turning a panic inside it (the crate has `expect`s
/// reachable from file contents) into an error.
fn guard<T>(f: impl FnOnce() -> Result<T, matroska_demuxer::DemuxError>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        // The crate's Display of an I/O error prints only its (empty) source.
        Ok(Err(matroska_demuxer::DemuxError::IoError(e))) => Err(format!("I/O error: {e}")),
        Ok(Err(e)) => {
            let s = e.to_string();
            // Likewise for its UTF-8 / integer conversion errors ("None").
            Err(if s == "None" { format!("{e:?}") } else { s })
        }
        Err(_) => Err("matroska-demuxer panicked on this input".into()),
    }
}

/// Matroska CodecID → [`TrackCodec`] (Matroska codec specs, "codec mappings").
fn codec_id(id: &str, video: bool) -> TrackCodec {
    match id {
        "V_MPEG4/ISO/AVC" => TrackCodec::Video(CodecKind::H264),
        "V_MPEGH/ISO/HEVC" => TrackCodec::Video(CodecKind::Hevc),
        "V_VP8" => TrackCodec::Video(CodecKind::Vp8),
        "V_VP9" => TrackCodec::Video(CodecKind::Vp9),
        "V_MPEG2" => TrackCodec::Video(CodecKind::Mpeg2),
        "V_AV1" => TrackCodec::Av1,
        a if a.starts_with("A_") || !video && a.is_empty() => TrackCodec::Audio(audio_codec_id(a)),
        o => TrackCodec::Other(o.to_string()),
    }
}

/// Matroska audio CodecID → [`AudioCodec`] (Matroska codec mappings,
/// "Audio Codec Mappings"; the old `A_AAC/MPEG{2,4}/<profile>` IDs too).
/// PCM's bit depth is filled from `BitDepth` by the caller.
fn audio_codec_id(id: &str) -> AudioCodec {
    let pcm = |float: bool, big_endian: bool| {
        AudioCodec::Pcm(PcmFormat {
            bits: 0,
            float,
            big_endian,
            signed: true,
        })
    };
    match id {
        a if a == "A_AAC" || a.starts_with("A_AAC/") => AudioCodec::Aac,
        "A_VORBIS" => AudioCodec::Vorbis,
        "A_OPUS" | "A_OPUS/EXPERIMENTAL" => AudioCodec::Opus,
        "A_MPEG/L1" => AudioCodec::Mp1,
        "A_MPEG/L2" => AudioCodec::Mp2,
        "A_MPEG/L3" => AudioCodec::Mp3,
        "A_FLAC" => AudioCodec::Flac,
        "A_ALAC" => AudioCodec::Alac,
        "A_PCM/INT/LIT" => pcm(false, false),
        "A_PCM/INT/BIG" => pcm(false, true),
        "A_PCM/FLOAT/IEEE" => pcm(true, false),
        "A_AC3" | "A_AC3/BSID9" | "A_AC3/BSID10" => AudioCodec::Ac3,
        "A_EAC3" => AudioCodec::Eac3,
        a if a == "A_DTS" || a.starts_with("A_DTS/") => AudioCodec::Dts,
        o => AudioCodec::Other(o.to_string()),
    }
}

/// An old-style `A_AAC/MPEG{2,4}/<profile>` track has no CodecPrivate: the
/// 2-byte AudioSpecificConfig its ID, rate and channels stand for (ISO/IEC
/// 14496-3 1.6.2.1; audioObjectType MAIN 1, LC 2, SSR 3, LTP 4, `/SBR` → the
/// LC core), as FFmpeg's matroskadec builds it. `None` if the rate is not
/// one of the AAC table's.
fn aac_config_from_id(id: &str, rate: u32, channels: u16) -> Option<Vec<u8>> {
    let profile = id.split('/').nth(2)?;
    let aot: u16 = match profile {
        "MAIN" => 1,
        "LC" => 2,
        "SSR" => 3,
        "LTP" => 4,
        _ => return None,
    };
    let idx = audio::AAC_RATES.iter().position(|&r| r == rate)? as u16;
    let ch = if channels == 8 { 7 } else { channels.min(7) };
    Some(
        ((aot << 11) | (idx << 7) | (ch << 3))
            .to_be_bytes()
            .to_vec(),
    )
}

/// How an audio track's frame length is found from its bytes (to place the
/// frames of a laced block).
#[derive(Debug, Clone)]
enum FrameTimer {
    /// Vorbis: block sizes from the headers and the packet's mode; the rate.
    Vorbis(audio::VorbisDurations, u32),
    /// Opus: the TOC byte (48 kHz).
    Opus,
    /// MPEG audio: the frame header.
    Mpa,
    /// AC-3 / E-AC-3: the sync frame header.
    Ac3,
    /// A fixed number of samples at a rate (AAC: 1024).
    Fixed(u32, u32),
    Unknown,
}

impl FrameTimer {
    fn for_track(c: &AudioCodec, private: &CodecPrivate, a: &AudioParams) -> Self {
        match (c, private) {
            (AudioCodec::Vorbis, CodecPrivate::Raw(p)) => audio::VorbisDurations::new(p)
                .map_or(FrameTimer::Unknown, |v| {
                    FrameTimer::Vorbis(v, a.sample_rate)
                }),
            (AudioCodec::Opus, _) => FrameTimer::Opus,
            (AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3, _) => FrameTimer::Mpa,
            (AudioCodec::Ac3 | AudioCodec::Eac3, _) => FrameTimer::Ac3,
            (AudioCodec::Aac, _) => FrameTimer::Fixed(1024, a.sample_rate),
            _ => FrameTimer::Unknown,
        }
    }
}

/// An audio track's codec (PCM with its `BitDepth`), extradata and
/// [`AudioParams`]: rate and channels from the `Audio` element
/// (`SamplingFrequency`, `Channels`; the OpusHead's channels for Opus),
/// `skip_samples` the OpusHead's `pre_skip` for Opus, else 0 (see
/// [`AudioParams::skip_samples`]): `CodecDelay` only moves the track's pts
/// back, as FFmpeg 5.1's `matroskadec.c` does for every codec (it stores
/// `CodecDelay` as `codecpar->initial_padding`, which no decoder drops, and
/// subtracts `codec_delay_in_track_tb` from the block times; an Opus
/// decoder drops the OpusHead's `pre_skip` itself).
fn audio_track(
    id: &str,
    codec: AudioCodec,
    private: CodecPrivate,
    a: Option<&matroska_demuxer::Audio>,
) -> (AudioCodec, CodecPrivate, AudioParams) {
    let mut rate = a
        .map(|a| a.sampling_frequency())
        .filter(|r| r.is_finite() && *r > 0.0 && *r < 1e7)
        .map_or(0, |r| r.round() as u32);
    let mut channels = a.map_or(0, |a| u16::try_from(a.channels().get()).unwrap_or(0));
    let bits = a
        .and_then(|a| a.bit_depth())
        .map_or(0, |b| u16::try_from(b.get()).unwrap_or(0));
    let mut codec = codec;
    let mut private = private;
    let mut skip_samples = 0;
    match (&mut codec, &private) {
        (AudioCodec::Pcm(f), _) => {
            f.bits = bits;
            // 8-bit integer PCM in Matroska is unsigned (FFmpeg: pcm_u8).
            f.signed = f.float || bits != 8;
        }
        (AudioCodec::Aac, CodecPrivate::None) => {
            if let Some(asc) = aac_config_from_id(id, rate, channels) {
                private = CodecPrivate::Raw(asc);
            }
        }
        (AudioCodec::Opus, CodecPrivate::Raw(h)) => {
            if let Some((pre_skip, ch)) = audio::opushead_pre_skip_channels(h) {
                skip_samples = u32::from(pre_skip);
                channels = u16::from(ch);
            }
            rate = 48000;
        }
        (AudioCodec::Vorbis, CodecPrivate::Raw(p)) if rate == 0 || channels == 0 => {
            if let Some((r, c)) = audio::vorbis_rate_channels(p) {
                (rate, channels) = (r, c);
            }
        }
        _ => {}
    }
    (
        codec,
        private,
        AudioParams {
            sample_rate: rate,
            channels,
            skip_samples,
        },
    )
}

/// A Matroska `Video` element's pixel aspect ratio and crop (Matroska
/// spec, RFC 9559, `Video` element: `PixelCrop*` are "video pixels to remove" from
/// the `PixelWidth` × `PixelHeight` frame; `DisplayWidth` / `DisplayHeight`
/// "apply to the video frame after cropping", in `DisplayUnit`s). The PAR is
/// `DisplayWidth · croppedHeight : DisplayHeight · croppedWidth`; `None`
/// without both display sizes or with an unknown `DisplayUnit` (FFmpeg's
/// `matroskadec.c` takes units 0-3 alike, as here; it ignores the crop in
/// the ratio, which only differs for files that crop). With a packed
/// `StereoMode` the display size is one eye's: the whole frame (both views,
/// shown as coded) is twice as wide (side by side, column interleaved) or
/// twice as tall (top-bottom, row interleaved), as FFmpeg's
/// `mkv_stereo_mode_display_mul` counts it.
fn video_geometry(v: &matroska_demuxer::Video) -> (Option<(u32, u32)>, Option<Crop>) {
    let c = |x: Option<u64>| u32::try_from(x.unwrap_or(0)).unwrap_or(u32::MAX);
    let crop = Crop {
        left: c(v.pixel_crop_left()),
        top: c(v.pixel_crop_top()),
        right: c(v.pixel_crop_right()),
        bottom: c(v.pixel_crop_bottom()),
    };
    let pw = v.pixel_width().get();
    let ph = v.pixel_height().get();
    let cw = pw.saturating_sub(u64::from(crop.left) + u64::from(crop.right));
    let ch = ph.saturating_sub(u64::from(crop.top) + u64::from(crop.bottom));
    let known_unit = !matches!(v.display_unit(), Some(DisplayUnit::Unknown));
    let (mul_w, mul_h): (u128, u128) = match v.stereo_mode() {
        Some(
            StereoMode::SideBySideLeftEyeFirst
            | StereoMode::SideBySideRightEyeFirst
            | StereoMode::ColumnInterleavedRightEyeFirst
            | StereoMode::ColumnInterleavedLeftEyeFirst,
        ) => (2, 1),
        Some(
            StereoMode::TopBottomRightEyeFirst
            | StereoMode::TopBottomLeftEyeFirst
            | StereoMode::RowInterleavedRightEyeFirst
            | StereoMode::RowInterleavedLeftEyeFirst,
        ) => (1, 2),
        _ => (1, 1),
    };
    let pixel_aspect = match (v.display_width(), v.display_height()) {
        (Some(dw), Some(dh)) if known_unit && cw > 0 && ch > 0 => {
            // Sizes capped to 32 bits (EBML allows 64): the products fit in u128.
            let cap = |x: u64| u128::from(x.min(u64::from(u32::MAX)));
            let n = cap(dw.get()) * mul_w * cap(ch);
            let d = cap(dh.get()) * mul_h * cap(cw);
            let shift = (128 - n.max(d).leading_zeros()).saturating_sub(64);
            vreq_core::reduce_ratio((n >> shift) as u64, (d >> shift) as u64)
        }
        _ => None,
    };
    let crop = (crop != Crop::default()).then_some(crop);
    (pixel_aspect, crop)
}

impl MkvDemuxer {
    /// Opens a Matroska or WebM file and reads its track list.
    ///
    /// Errors: [`ContainerError::Io`]; [`ContainerError::Corrupt`] if the EBML
    /// header / Segment / Tracks can't be parsed (offset 0: the crate does not
    /// say where) or an AVC/HEVC CodecPrivate is malformed.
    pub fn open(path: &Path) -> Result<Self, ContainerError> {
        let (mkv, log, discard, patches, layout, file_len) = open_file(path)?;
        let timestamp_scale = mkv.info().timestamp_scale().get();
        let cues = match layout.cues {
            Some(at) => read_cues(
                &discard.file,
                at,
                file_len,
                layout.seg_data,
                timestamp_scale,
            ),
            None => Vec::new(),
        };
        // Segment Info Duration (a float, in TimestampScale units).
        let duration_ns = mkv
            .info()
            .duration()
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| (d * timestamp_scale as f64).min(i64::MAX as f64) as i64);
        // Chapters / EditionEntry / ChapterAtom: ChapterTimeStart (ns,
        // unscaled) and the first ChapterDisplay's ChapString. The crate
        // exposes neither EditionFlagDefault nor ChapterFlagHidden /
        // ChapterFlagEnabled: the first edition is taken, every atom of it.
        let mut chapters: Vec<Chapter> = mkv
            .chapters()
            .and_then(|e| e.first())
            .map(|e| {
                e.chapter_atoms()
                    .iter()
                    .map(|a| Chapter {
                        start_ns: i64::try_from(a.time_start()).unwrap_or(i64::MAX),
                        title: a.displays().first().map(|d| d.string().to_owned()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        chapters.sort_by_key(|c| c.start_ns);
        let mut tracks = Vec::new();
        let mut codec_delay_ns = Vec::new();
        let mut timers = Vec::new();
        for t in mkv.tracks() {
            let video = t.track_type() == TrackType::Video;
            let codec = codec_id(t.codec_id(), video);
            let Ok(id) = u32::try_from(t.track_number().get()) else {
                continue;
            };
            let bad_private = |(o, m): (usize, String)| {
                ContainerError::corrupt(
                    path,
                    FORMAT,
                    0,
                    format!("track {id} CodecPrivate byte {o}: {m}"),
                )
            };
            let private = match (&codec, t.codec_private()) {
                (_, None) => CodecPrivate::None,
                (TrackCodec::Video(CodecKind::H264), Some(p)) => {
                    config::parse_avcc(p).map_err(bad_private)?
                }
                (TrackCodec::Video(CodecKind::Hevc), Some(p)) => {
                    config::parse_hvcc(p).map_err(bad_private)?
                }
                (_, Some(p)) => CodecPrivate::Raw(p.to_vec()),
            };
            let (width, height) = t
                .video()
                .map(|v| {
                    (
                        u32::try_from(v.pixel_width().get()).unwrap_or(0),
                        u32::try_from(v.pixel_height().get()).unwrap_or(0),
                    )
                })
                .unwrap_or((0, 0));
            let (pixel_aspect, crop) = t.video().map(video_geometry).unwrap_or((None, None));
            let (codec, private, audio, delay_ns) = match codec {
                TrackCodec::Audio(c) => {
                    let (c, private, params) = audio_track(t.codec_id(), c, private, t.audio());
                    let delay = i64::try_from(t.codec_delay().unwrap_or(0)).unwrap_or(0);
                    (TrackCodec::Audio(c), private, Some(params), delay)
                }
                c => (c, private, None, 0),
            };
            codec_delay_ns.push((id, delay_ns));
            if let (TrackCodec::Audio(c), Some(a)) = (&codec, &audio) {
                timers.push((id, FrameTimer::for_track(c, &private, a)));
            }
            let duration_ns = mkv
                .info()
                .duration()
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| (d * timestamp_scale as f64).min(u64::MAX as f64) as u64);
            tracks.push(TrackInfo {
                id,
                codec,
                width,
                height,
                frame_duration_ns: t.default_duration().map(|d| d.get()),
                duration_ns,
                codec_private: private,
                presentation_window_ns: None,
                pixel_aspect,
                crop,
                audio,
            });
        }
        let mut d = MkvDemuxer {
            path: path.to_owned(),
            mkv,
            log,
            timestamp_scale,
            tracks,
            codec_delay_ns,
            timers,
            discard,
            lace: None,
            frame: Frame::default(),
            done: false,
            patches,
            jump: Jump::default(),
            layout,
            file_len,
            cues,
            duration_ns,
            chapters,
            sync_window: SYNC_WINDOW,
            read_bytes: Arc::default(),
        };
        if d.duration_ns.is_none() {
            d.duration_ns = d.tail_duration()?;
        }
        Ok(d)
    }

    /// For a file without a Segment `Duration` (live WebM, e.g. a browser's
    /// MediaRecorder): the end of its last frame (pts + duration, any
    /// track), read from the last Cluster, which bisection finds (no read of
    /// the file from its start). Then back at the first Cluster. `None` when
    /// there is no Cluster or no timed frame in the last one.
    fn tail_duration(&mut self) -> Result<Option<i64>, ContainerError> {
        let Some(first) = self.layout.first_cluster else {
            return Ok(None);
        };
        let last = self.bisect(first, self.file_len, u64::MAX);
        self.restart_at(last)?;
        let mut end: Option<i64> = None;
        while let Ok(Some(p)) = self.next_frame() {
            if let Some(pts) = p.pts_ns {
                let e = pts.saturating_add(p.duration_ns.map_or(0, |d| d as i64));
                end = Some(end.map_or(e, |x| x.max(e)));
            }
        }
        self.restart_at(first)?;
        Ok(end)
    }

    fn ts_ns(&self, ts: u64) -> i64 {
        (u128::from(ts) * u128::from(self.timestamp_scale)).min(i64::MAX as u128) as i64
    }

    /// How long audio frame `data` of `track` plays, in ns, if its codec
    /// tells from its bytes.
    fn frame_samples_ns(timers: &mut [(u32, FrameTimer)], track: u32, data: &[u8]) -> Option<i64> {
        let (_, t) = timers.iter_mut().find(|t| t.0 == track)?;
        let (samples, rate) = match t {
            FrameTimer::Vorbis(v, rate) => (v.samples(data)?, *rate),
            FrameTimer::Opus => (audio::opus_packet_samples(data)?, 48000),
            FrameTimer::Mpa => {
                let h = audio::mpa_header(data)?;
                (h.samples, h.sample_rate)
            }
            FrameTimer::Ac3 => {
                let h = audio::ac3_header(data)?;
                (h.samples, h.sample_rate)
            }
            FrameTimer::Fixed(n, rate) => (*n, *rate),
            FrameTimer::Unknown => return None,
        };
        (rate > 0).then(|| i64::from(samples) * 1_000_000_000 / i64::from(rate))
    }

    /// The file offset of the last read that asked for exactly `len` bytes.
    fn data_offset(&self, len: usize) -> u64 {
        let log = self.log.get();
        let mut best: Option<(u64, usize)> = None;
        for (pos, l) in log {
            if l == len && best.is_none_or(|b| pos >= b.0) {
                best = Some((pos, l));
            }
        }
        best.map_or(0, |b| b.0)
    }

    /// One frame from the crate → Packet (and whether it is a keyframe).
    fn next_frame(&mut self) -> Result<Option<Packet>, ContainerError> {
        if self.done {
            return Ok(None);
        }
        let (mkv, frame) = (&mut self.mkv, &mut self.frame);
        match guard(|| mkv.next_frame(frame)) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => {
                // The crate cannot resume after a parse error.
                self.done = true;
                let at = self.log.get().iter().map(|r| r.0).max().unwrap_or(0);
                return Err(ContainerError::corrupt(&self.path, FORMAT, at, e));
            }
        }
        let f = &self.frame;
        let track = u32::try_from(f.track).unwrap_or(u32::MAX);
        let info = self.tracks.iter().find(|t| t.id == track);
        let keyframe = match (f.is_keyframe, info) {
            (Some(k), _) => k,
            (None, Some(t)) => config::frame_is_keyframe(&t.codec, &t.codec_private, &f.data),
            (None, None) => false,
        };
        let duration_ns = match f.duration {
            Some(d) => Some(self.ts_ns(d) as u64),
            None => info.and_then(|t| t.frame_duration_ns),
        };
        let byte_offset = if f.data.is_empty() {
            0
        } else {
            self.data_offset(f.data.len())
        };
        let mut pts_ns = Some(self.ts_ns(f.timestamp));
        let mut discard_padding_ns = 0;
        if info.is_some_and(|t| t.audio.is_some()) {
            discard_padding_ns = self.discard.padding_ns(byte_offset, f.data.len());
            // The crate gives every frame of a laced block the block's
            // timestamp: frame k of the lace plays k DefaultDurations later
            // (FFmpeg's matroska_parse_block: block duration / laces), or,
            // without DefaultDuration, when the frame before it ends (its
            // samples from its own bytes: FFmpeg's parsers); unknown if
            // neither says (FFmpeg: AV_NOPTS_VALUE).
            let samples_ns = Self::frame_samples_ns(&mut self.timers, track, &f.data);
            let prev = match self.lace {
                Some((t, ts, n, end)) if t == track && ts == f.timestamp => Some((n, end)),
                _ => None,
            };
            let k = prev.map_or(0, |p| p.0);
            if k > 0 {
                pts_ns = match info.and_then(|t| t.frame_duration_ns) {
                    Some(d) => i64::try_from(d)
                        .ok()
                        .and_then(|d| d.checked_mul(i64::from(k)))
                        .and_then(|d| pts_ns?.checked_add(d)),
                    None => prev.and_then(|p| p.1),
                };
            }
            let end = pts_ns.zip(samples_ns).map(|(p, d)| p.saturating_add(d));
            self.lace = Some((track, f.timestamp, k + 1, end));
            // CodecDelay moves the track's timestamps back (FFmpeg's
            // matroska_parse_block: `- codec_delay_in_track_tb`).
            let delay = self
                .codec_delay_ns
                .iter()
                .find(|d| d.0 == track)
                .map_or(0, |d| d.1);
            pts_ns = pts_ns.map(|p| p.saturating_sub(delay));
        }
        Ok(Some(Packet {
            track,
            data: std::mem::take(&mut self.frame.data),
            pts_ns,
            dts_ns: None,
            duration_ns,
            keyframe,
            byte_offset,
            discard_padding_ns,
        }))
    }

    /// Reopens the file with the reader placed at the Cluster at `cluster`
    /// (its element's first byte): the next frame is that Cluster's first.
    fn restart_at(&mut self, cluster: u64) -> Result<(), ContainerError> {
        let file = self
            .discard
            .file
            .try_clone()
            .map_err(|e| ContainerError::io(&self.path, e))?;
        let jump = Jump::default();
        let (mkv, log) = reopen(
            &self.path,
            file,
            self.file_len,
            &self.patches,
            jump.clone(),
            self.read_bytes.clone(),
        )?;
        jump.set(cluster);
        self.mkv = mkv;
        self.log = log;
        self.jump = jump;
        self.done = false;
        self.lace = None;
        for (_, t) in &mut self.timers {
            if let FrameTimer::Vorbis(v, _) = t {
                v.reset();
            }
        }
        Ok(())
    }

    /// Whether a Cluster element starts at `pos`: its ID, a size that fits
    /// the file (or unknown), a Timestamp (1–8 bytes) as first child (after
    /// a CRC-32 / Void: RFC 9559 §6.2; FFmpeg writes a CRC-32 in every
    /// Matroska Cluster) and, for a known size, a top-level element or the
    /// end of the file after it. Returns (Cluster Timestamp in
    /// TimestampScale units, end offset if the size is known). Header
    /// reads only.
    fn cluster_header(&self, pos: u64) -> Option<(u64, Option<u64>)> {
        use std::os::unix::fs::FileExt;
        let f = &self.discard.file;
        let len = self.file_len;
        self.read_bytes.fetch_add(36, Ordering::Relaxed);
        let Some((ID_CLUSTER, size, _, hl)) = ebml_header(f, pos, len) else {
            return None;
        };
        let data = pos + hl;
        let end = match size {
            Some(s) => Some(data.checked_add(s).filter(|&e| e <= len)?),
            None => None,
        };
        let mut child = data;
        let mut timestamp = None;
        for _ in 0..3 {
            match ebml_header(f, child, len) {
                Some((ID_CRC32 | ID_VOID, Some(s), _, chl)) if s <= 64 => child += chl + s,
                Some((ID_TIMESTAMP, Some(tl @ 1..=8), _, thl)) => {
                    timestamp = Some((child + thl, tl as usize));
                    break;
                }
                _ => break,
            }
        }
        let (tpos, tl) = timestamp?;
        let mut v = [0u8; 8];
        f.read_exact_at(&mut v[..tl], tpos).ok()?;
        if let Some(e) = end {
            if e < len && !ebml_header(f, e, len).is_some_and(|h| TOP_LEVEL.contains(&h.0)) {
                return None;
            }
        }
        Some((ebml_uint(&v[..tl]).unwrap_or(0), end))
    }

    /// The first Cluster whose element starts in `[from, limit)`, found by
    /// looking for its ID (`1F 43 B6 75`) in windows of `sync_window` bytes
    /// ([`SYNC_WINDOW`]), each candidate checked by [`Self::cluster_header`]:
    /// (element offset, Cluster Timestamp in TimestampScale units).
    fn cluster_at(&self, from: u64, limit: u64) -> Option<(u64, u64)> {
        use std::os::unix::fs::FileExt;
        let f = &self.discard.file;
        let limit = limit.min(self.file_len);
        let mut at = from;
        let window = self.sync_window.max(8);
        let mut buf = vec![0u8; window as usize];
        while at < limit {
            let n = (self.file_len - at).min(window) as usize;
            f.read_exact_at(&mut buf[..n], at).ok()?;
            self.read_bytes.fetch_add(n as u64, Ordering::Relaxed);
            for k in 0..n.saturating_sub(3) {
                if buf[k..k + 4] != ID_CLUSTER.to_be_bytes() {
                    continue;
                }
                let pos = at + k as u64;
                if pos >= limit {
                    return None;
                }
                if let Some((ts, _)) = self.cluster_header(pos) {
                    return Some((pos, ts));
                }
            }
            at += (n as u64).saturating_sub(3).max(1);
            if n < window as usize {
                break;
            }
        }
        None
    }

    /// Bisection on Cluster timestamps: the last Cluster starting in
    /// `[lo, hi)` whose Timestamp is ≤ `ticks`, given that the Cluster at
    /// `lo` qualifies. Each step reads a window at the middle of the range
    /// and resyncs to the next Cluster ([`Self::cluster_at`]); Cluster
    /// timestamps grow through the file (RFC 9559 §5.1.3.1). The Cluster
    /// right after `lo` (by its size) is looked at first: when it is past
    /// the target, `lo` is the answer without scanning.
    fn bisect(&self, lo: u64, hi: u64, ticks: u64) -> u64 {
        let (mut lo, mut hi) = (lo, hi);
        loop {
            if let Some((_, Some(end))) = self.cluster_header(lo) {
                if end >= hi {
                    return lo;
                }
                match self.cluster_header(end) {
                    Some((ts, _)) if ts > ticks => return lo,
                    Some(_) => lo = end,
                    None => {}
                }
            }
            if hi.saturating_sub(lo) <= self.sync_window {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            match self.cluster_at(mid, hi) {
                Some((c, ts)) if ts <= ticks && c > lo => lo = c,
                _ => hi = mid,
            }
        }
        while let Some((c, ts)) = self.cluster_at(lo + 1, hi) {
            if ts > ticks {
                break;
            }
            lo = c;
        }
        lo
    }

    /// Reads forward from the Cluster at `cluster` and returns each frame's
    /// file offset with (index of the last keyframe of `track` with pts ≤
    /// `pts_ns`, index of its first keyframe), counted from that Cluster's
    /// first frame. Stops at the first frame of `track` with pts past
    /// `pts_ns` — no later keyframe can be ≤ `pts_ns`: a frame decoded
    /// before a keyframe is shown before it — or, with `need_first`, once
    /// a keyframe was seen too.
    fn walk(
        &mut self,
        cluster: u64,
        track: u32,
        pts_ns: i64,
        need_first: bool,
    ) -> Result<Walk, ContainerError> {
        self.restart_at(cluster)?;
        let mut w = Walk::default();
        loop {
            let p = match self.next_frame() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                // Damage past the keyframe found does not spoil the seek.
                Err(_) if w.best.is_some() => break,
                Err(e) => return Err(e),
            };
            let k = w.offsets.len();
            w.offsets.push(p.byte_offset);
            if p.track != track {
                continue;
            }
            let past = p.pts_ns.is_some_and(|t| t > pts_ns);
            if p.keyframe {
                w.first.get_or_insert(k);
                if !past {
                    w.best = Some(k);
                }
            }
            if past && (!need_first || w.first.is_some()) {
                break;
            }
        }
        Ok(w)
    }
}

/// What [`MkvDemuxer::walk`] found.
#[derive(Default)]
struct Walk {
    /// File offset of every frame read, in order.
    offsets: Vec<u64>,
    /// Index of the last keyframe ≤ the target.
    best: Option<usize>,
    /// Index of the first keyframe.
    first: Option<usize>,
}

impl Demuxer for MkvDemuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    /// The next frame of any track in file order. A parse error from the crate
    /// ends the stream (it cannot resynchronise): `Err` once, then `Ok(None)`.
    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        self.next_frame()
    }

    /// Finds a Cluster at or before the target, then reads forward from it
    /// to the last keyframe of `track` with pts ≤ `pts_ns`:
    ///
    /// * with **Cues** (RFC 9559 §5.1.5), the Cluster of the last CuePoint of
    ///   `track` with CueTime ≤ target (CueClusterPosition; a position that
    ///   is not a Cluster falls back to bisection);
    /// * without, **bisection on Cluster timestamps** ([`Self::bisect`]: a
    ///   window read at the middle of the byte range, resync to the next
    ///   Cluster ID, its Timestamp), as FFmpeg's `matroska_read_seek` falls
    ///   back to reading when the index lacks the time.
    ///
    /// The frames from that Cluster up to the first keyframe past the target
    /// are read once to find the last keyframe ≤ target (Cues may name only
    /// the first keyframe of each Cluster); when none is there the previous
    /// Cluster is taken (bisection again), down to the first, whose first
    /// keyframe serves a target before every keyframe. The file is then
    /// reopened at that Cluster and the frames before the keyframe skipped:
    /// other tracks resume after the keyframe in file order. Never a read of
    /// the file from its start, except the header walk at open ([`prescan`]).
    fn seek(&mut self, track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        let Some(first_cluster) = self.layout.first_cluster else {
            self.done = true;
            return Ok(());
        };
        let ticks = u64::try_from(pts_ns.max(0)).unwrap_or(0) / self.timestamp_scale.max(1);
        let cued = self
            .cues
            .iter()
            .rfind(|c| c.1 == track && c.0 <= pts_ns)
            .map(|c| c.2)
            .filter(|&pos| pos >= first_cluster && self.cluster_header(pos).is_some());
        let mut cluster = match cued {
            Some(pos) => pos,
            None if self.cues.iter().any(|c| c.1 == track) && pts_ns >= 0 => {
                let first_cue = self.cues.iter().find(|c| c.1 == track).map(|c| c.0);
                if first_cue.is_some_and(|t| t > pts_ns) {
                    first_cluster
                } else {
                    self.bisect(first_cluster, self.file_len, ticks)
                }
            }
            None => match self.cluster_header(first_cluster) {
                Some((ts, _)) if ts <= ticks => self.bisect(first_cluster, self.file_len, ticks),
                _ => first_cluster,
            },
        };
        loop {
            let at_first = cluster <= first_cluster;
            let w = self.walk(cluster, track, pts_ns, at_first)?;
            let key = match (w.best, w.first) {
                (Some(k), _) => k,
                (None, Some(k)) if at_first => k,
                (None, None) if at_first => {
                    self.done = true;
                    return Ok(());
                }
                _ => {
                    // No keyframe of the track from this Cluster to the
                    // target: the previous Cluster.
                    cluster = self.bisect(first_cluster, cluster, u64::MAX);
                    continue;
                }
            };
            // Restart at the Cluster holding the keyframe (the last one
            // starting before it) rather than re-reading from `cluster`.
            let key_at = w.offsets[key];
            let start = if key_at > cluster {
                self.bisect(cluster, key_at, u64::MAX)
            } else {
                cluster
            };
            let skip = w.offsets[..key].iter().filter(|&&o| o >= start).count();
            self.restart_at(start)?;
            for _ in 0..skip {
                if self.next_frame()?.is_none() {
                    break;
                }
            }
            return Ok(());
        }
    }

    /// Segment Info `Duration` × `TimestampScale` (RFC 9559 §5.1.2.8);
    /// without one, the end of the last Cluster's last frame (found at open
    /// by bisection).
    fn duration_ns(&self) -> Option<i64> {
        self.duration_ns
    }

    /// The first EditionEntry's ChapterAtoms (ChapterTimeStart, the first
    /// ChapterDisplay's ChapString), by start.
    fn chapters(&self) -> &[Chapter] {
        &self.chapters
    }
}

#[cfg(test)]
mod audio_tests {
    use super::*;

    #[test]
    fn codec_ids_and_old_aac_ids() {
        assert_eq!(audio_codec_id("A_AAC"), AudioCodec::Aac);
        assert_eq!(audio_codec_id("A_MPEG/L2"), AudioCodec::Mp2);
        assert_eq!(audio_codec_id("A_DTS/EXPRESS"), AudioCodec::Dts);
        assert_eq!(
            audio_codec_id("A_TRUEHD"),
            AudioCodec::Other("A_TRUEHD".into())
        );
        // LC, 44.1 kHz (index 4), stereo: 00010 0100 0010 000
        assert_eq!(
            aac_config_from_id("A_AAC/MPEG4/LC", 44100, 2),
            Some(vec![0x12, 0x10])
        );
        assert_eq!(aac_config_from_id("A_AAC/MPEG2/LC", 44000, 2), None);
        let (c, _, params) = audio_track(
            "A_PCM/INT/LIT",
            audio_codec_id("A_PCM/INT/LIT"),
            CodecPrivate::None,
            None,
        );
        assert!(matches!(c, AudioCodec::Pcm(f) if !f.big_endian && !f.float));
        assert_eq!(params, AudioParams::default());
    }
}

#[cfg(test)]
mod seek_tests {
    use super::*;
    use std::path::PathBuf;

    fn data(name: &str) -> PathBuf {
        vreq_testkit::repo_dir()
            .join("tests/data/container")
            .join(name)
    }

    /// (video track, its keyframes' pts in file order, the last packet's end).
    fn linear(path: &Path) -> (u32, Vec<i64>, i64) {
        let mut d = MkvDemuxer::open(path).unwrap();
        let track = d
            .tracks
            .iter()
            .find(|t| t.codec.kind().is_some())
            .unwrap()
            .id;
        let (mut keys, mut end) = (Vec::new(), 0);
        while let Some(p) = d.next_packet().unwrap() {
            let pts = p.pts_ns.unwrap();
            end = end.max(pts + p.duration_ns.unwrap_or(0) as i64);
            if p.track == track && p.keyframe {
                keys.push(pts);
            }
        }
        (track, keys, end)
    }

    /// Seeks `d` to 50 seeded targets; each must land on the last keyframe
    /// ≤ target. Returns the most bytes one seek read.
    fn check_seeks(d: &mut MkvDemuxer, track: u32, keys: &[i64], end: i64, what: &str) -> u64 {
        let mut rng = 0x006d_6b76_u64;
        let mut most = 0;
        for n in 0..50 {
            let target = (vreq_testkit::xorshift(&mut rng) % (end as u64 + 500_000_000)) as i64;
            let want = keys
                .iter()
                .copied()
                .filter(|&k| k <= target)
                .max()
                .unwrap_or(keys[0]);
            let before = d.read_bytes.load(Ordering::Relaxed);
            d.seek(track, target).unwrap();
            let first = std::iter::from_fn(|| d.next_packet().unwrap())
                .find(|p| p.track == track)
                .unwrap();
            most = most.max(d.read_bytes.load(Ordering::Relaxed) - before);
            assert!(
                first.keyframe && first.pts_ns == Some(want),
                "{what}: seek #{n} to {target}: got {:?}, want {want}",
                first.pts_ns
            );
        }
        most
    }

    /// Without Cues, with a small search window so that the bisection
    /// proper (not only the final walk over the Clusters) runs: every seek
    /// lands right, and none reads more than half the file.
    #[test]
    fn bisection_without_cues() {
        for name in ["nocues-h264.mkv", "nocues-vp9-kf25.webm"] {
            let path = data(name);
            let (track, keys, end) = linear(&path);
            let mut d = MkvDemuxer::open(&path).unwrap();
            assert!(d.cues.is_empty(), "{name} has Cues");
            d.sync_window = 256;
            let most = check_seeks(&mut d, track, &keys, end, name);
            let len = std::fs::metadata(&path).unwrap().len();
            println!("{name}: {len} bytes, a seek read at most {most}");
            assert!(most < len / 2, "{name}: a seek read {most} of {len} bytes");
        }
    }

    /// The Cues ffmpeg wrote (one CuePoint per video keyframe) are read:
    /// their times are the keyframes' pts and each names a Cluster.
    #[test]
    fn cues_are_read() {
        let path = data("vp9-kf25.webm");
        let (track, keys, _) = linear(&path);
        let d = MkvDemuxer::open(&path).unwrap();
        let times: Vec<i64> = d
            .cues
            .iter()
            .filter(|c| c.1 == track)
            .map(|c| c.0)
            .collect();
        assert_eq!(times, keys);
        assert!(d.cues.iter().all(|c| d.cluster_header(c.2).is_some()));
    }

    /// Cues pointing at no Cluster: the seek falls back to bisection.
    #[test]
    fn bad_cue_positions_fall_back_to_bisection() {
        let path = data("chapters-h264.mkv");
        let (track, keys, end) = linear(&path);
        let mut d = MkvDemuxer::open(&path).unwrap();
        assert!(!d.cues.is_empty());
        for c in &mut d.cues {
            c.2 += 3;
        }
        d.sync_window = 256;
        check_seeks(&mut d, track, &keys, end, "bad Cues");
    }

    /// A file without Segment Duration: the end of its last frame, read
    /// from the last Cluster.
    #[test]
    fn duration_without_the_element() {
        let src = data("nocues-vp9-kf25.webm");
        let with = MkvDemuxer::open(&src).unwrap().duration_ns.unwrap();
        let path = vreq_testkit::damaged_copy(&src, "noduration", |d| {
            // Duration (0x4489, an 8-byte float) in the Info near the start:
            // renamed to an ID no element has, which readers skip.
            let at = d[..4096]
                .windows(3)
                .position(|w| w == [0x44, 0x89, 0x88])
                .expect("Duration element");
            d[at] = 0x4f;
            d[at + 1] = 0xff;
        });
        let mut d = MkvDemuxer::open(&path).unwrap();
        let (_, _, end) = linear(&path);
        assert_eq!(d.duration_ns, Some(end), "with Duration: {with}");
        assert!((with - end).abs() <= 100_000_000, "{with} vs {end}");
        // Reading starts at the first Cluster all the same.
        let first = d.next_packet().unwrap().unwrap();
        assert_eq!(first.pts_ns, Some(0));
    }
}
