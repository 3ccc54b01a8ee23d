//! ISO BMFF demuxer: MP4, fragmented MP4 (moov + mvex, then moof/traf/tfhd/
//! tfdt/trun fragments) and QuickTime `.mov` (ISO/IEC 14496-12; avcC/hvcC from
//! ISO/IEC 14496-15).
//!
//! Our own box parser rather than a crate: `mp4` 0.14 drops the hvcC contents
//! and knows no `hvc1`/`av01`; `mp4parse` 0.17 has no HEVC; `re_mp4` 0.5
//! reserves vectors of whatever entry count the file states (a bit flip is a
//! multi-GiB allocation). Only `moov` and `moof` boxes are read into memory;
//! every count read from the file is checked against the box that holds it,
//! and every sample against the file size.
//!
//! Timestamps (what ffmpeg's mov demuxer does, so the first pts is ~0 as
//! ffprobe shows): dts = Σ stts deltas (or tfdt + Σ trun durations), pts =
//! dts + ctts/trun composition offset (signed 32-bit in both box versions);
//! then both are shifted by the edit list: minus the `media_time` of the first
//! non-empty edit, plus the duration of the leading empty edits. Values are
//! converted to ns with the track's `mdhd` timescale.
//!
//! Audio (`soun`) tracks: the sample entry's fourcc and configuration box
//! name the codec (`mp4a` + `esds` objectTypeIndication, `Opus` + `dOps`
//! rewritten into an `OpusHead`, `.mp3`, `fLaC` + `dfLa`, `alac`, `ac-3`,
//! `ec-3`, `dts?`, PCM fourccs); rate and channels come from the entry or
//! the configuration; the edit list's `media_time` is the priming to skip
//! (see [`crate::AudioParams::skip_samples`]).
//!
//! Keyframes: `stss` (absent = every sample is sync), for fragments the
//! `sample_is_non_sync_sample` bit of the trun / tfhd / trex sample flags.
//! Packets come in file order (all tracks interleaved by sample offset),
//! `byte_offset` = the sample's file offset.
//!
//! Seek: binary search in each track's sync-sample index (built at open
//! from `stss` or the fragments' sync flags; every `moof` is parsed at open,
//! so `tfra` / `mfra` / `sidx` would add nothing), other tracks resumed at
//! their own sample for the keyframe's time; no I/O. Duration: `mvhd`, else
//! `mehd`, else the tracks' last sample end. Chapters: Nero `chpl`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{
    audio, config, AudioCodec, AudioParams, Chapter, CodecKind, CodecPrivate, ContainerError, Crop,
    Demuxer, Packet, PcmFormat, TrackCodec, TrackInfo,
};

const FORMAT: &str = "MP4";
/// Largest `moov`/`moof` box read into memory.
const MAX_HEADER_BOX: u64 = 256 << 20;
/// Most samples (all tracks) a file may have: 8 Mi (~93 h at 25 fps), 32 bytes each in memory.
pub const MAX_SAMPLES: usize = 1 << 23;

/// Error inside the box parser: (file offset, message).
type BoxError = (u64, String);
type R<T> = Result<T, BoxError>;

/// A bounds-checked big-endian reader over a box payload.
struct Rd<'a> {
    d: &'a [u8],
    p: usize,
    /// File offset of `d[0]`.
    off: u64,
    what: &'static str,
}

impl<'a> Rd<'a> {
    fn new(d: &'a [u8], off: u64, what: &'static str) -> Self {
        Rd { d, p: 0, off, what }
    }
    fn pos(&self) -> u64 {
        self.off + self.p as u64
    }
    fn left(&self) -> usize {
        self.d.len() - self.p
    }
    fn bytes(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.left() {
            return Err((
                self.pos(),
                format!(
                    "{} box ends early (wanted {n} more bytes, {} left)",
                    self.what,
                    self.left()
                ),
            ));
        }
        let s = &self.d[self.p..self.p + n];
        self.p += n;
        Ok(s)
    }
    fn skip(&mut self, n: usize) -> R<()> {
        self.bytes(n).map(|_| ())
    }
    fn u8(&mut self) -> R<u8> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> R<u16> {
        Ok(u16::from_be_bytes(self.bytes(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_be_bytes(self.bytes(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> R<u64> {
        Ok(u64::from_be_bytes(self.bytes(8)?.try_into().expect("8")))
    }
    /// FullBox header: (version, flags).
    fn full(&mut self) -> R<(u8, u32)> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0xff_ffff))
    }
    /// `count` cut to the entries of `entry_len` bytes that fit in what is
    /// left, with a warning naming the box and byte offset when it had to be
    /// cut: a damaged sample table's entry count (one flipped bit) makes the
    /// file unreadable otherwise, where FFmpeg's mov demuxer reads the
    /// entries that are there (libavformat/mov.c `mov_read_stss` & al. stop
    /// at the end of the data) and plays the file. Used for the sample
    /// tables (`stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco`, `co64`);
    /// nothing is allocated beyond the box's own bytes.
    fn count_in_box(&self, count: u32, entry_len: usize) -> usize {
        let fit = self.left() / entry_len.max(1);
        if count as usize > fit {
            tracing::warn!(
                "MP4: {} at byte {}: entry_count {count} × {entry_len} bytes exceeds the box; \
                 reading the {fit} entries it holds",
                self.what,
                self.pos()
            );
            return fit;
        }
        count as usize
    }
    /// Checks that `count` entries of `entry_len` bytes fit in what is left.
    fn check_count(&self, count: u32, entry_len: usize) -> R<usize> {
        let count = count as usize;
        if entry_len > 0 && count > self.left() / entry_len {
            return Err((
                self.pos(),
                format!(
                    "{} entry count {count} × {entry_len} bytes exceeds the box ({} bytes left)",
                    self.what,
                    self.left()
                ),
            ));
        }
        Ok(count)
    }
}

/// One child box inside a payload: (type, payload, file offset of the payload).
fn children(d: &[u8], off: u64) -> impl Iterator<Item = R<([u8; 4], &[u8], u64)>> {
    let mut p = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || p + 8 > d.len() {
            return None;
        }
        let size32 = u32::from_be_bytes(d[p..p + 4].try_into().expect("4"));
        let typ: [u8; 4] = d[p + 4..p + 8].try_into().expect("4");
        let (hdr, size) = match size32 {
            0 => (8usize, (d.len() - p) as u64),
            1 => {
                if p + 16 > d.len() {
                    failed = true;
                    return Some(Err((
                        off + p as u64,
                        "64-bit box size runs past its parent".into(),
                    )));
                }
                (
                    16,
                    u64::from_be_bytes(d[p + 8..p + 16].try_into().expect("8")),
                )
            }
            n => (8, u64::from(n)),
        };
        if size < hdr as u64 || size > (d.len() - p) as u64 {
            failed = true;
            return Some(Err((
                off + p as u64,
                format!(
                    "box '{}' of size {size} does not fit its parent ({} bytes left)",
                    fourcc(&typ),
                    d.len() - p
                ),
            )));
        }
        let payload = &d[p + hdr..p + size as usize];
        let poff = off + (p + hdr) as u64;
        p += size as usize;
        Some(Ok((typ, payload, poff)))
    })
}

fn fourcc(t: &[u8; 4]) -> String {
    t.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// One sample of a track.
#[derive(Debug, Clone, Copy)]
struct Sample {
    offset: u64,
    size: u32,
    /// Decode time in track timescale units (before the edit shift).
    dts: i64,
    /// Composition offset (pts - dts) in timescale units.
    cto: i32,
    duration: u32,
    sync: bool,
}

/// Defaults for fragment samples (`trex`, overridden per fragment by `tfhd`).
#[derive(Debug, Clone, Copy, Default)]
struct SampleDefaults {
    duration: u32,
    size: u32,
    flags: u32,
}

/// What the moov says of one track.
#[derive(Debug, Default)]
struct Trak {
    id: u32,
    handler: [u8; 4],
    timescale: u32,
    mdhd_duration: u64,
    tkhd_width: u32,
    tkhd_height: u32,
    entry: Option<([u8; 4], u32, u32, CodecPrivate)>,
    /// The sample entry's `pasp` (reduced) and `clap` crop.
    geometry: (Option<(u32, u32)>, Option<Crop>),
    /// An audio (`soun`) track's sample entry.
    audio: Option<AudioEntry>,
    stts: Vec<(u32, u32)>,
    ctts: Vec<(u32, i32)>,
    stss: Option<Vec<u32>>,
    stsc: Vec<(u32, u32)>,
    stsz_const: u32,
    stsz_count: u32,
    stsz: Vec<u32>,
    chunks: Vec<u64>,
    /// Edit list: (segment_duration in movie timescale, media_time).
    elst: Vec<(u64, i64)>,
    trex: SampleDefaults,
    samples: Vec<Sample>,
    /// Decode time after the last sample (for fragments without tfdt).
    next_dts: i64,
}

/// MP4 / fragmented MP4 / QuickTime demuxer.
pub struct Mp4Demuxer {
    path: PathBuf,
    file: File,
    file_size: u64,
    tracks: Vec<TrackInfo>,
    traks: Vec<Trak>,
    /// Per track: the ns shift from the edit list (added to pts and dts).
    shift: Vec<(i64, i64)>,
    /// All samples in file order: (offset, track index, sample index).
    order: Vec<(u64, u32, u32)>,
    cursor: usize,
    /// A broken fragment: reported once after the samples before it.
    fragment_error: Option<ContainerError>,
    /// Per track: samples delivered (those after the edit list's window are not).
    delivered: Vec<usize>,
    /// Per track: its delivered sync samples as (pts ns, sample index), by pts.
    sync_index: Vec<Vec<(i64, u32)>>,
    /// Per track: after a seek, the first sample index delivered again
    /// (entries of `order` before it are skipped).
    resume: Vec<u32>,
    /// `mvhd` duration in ns (0 / all-ones = unknown), else the `mehd` fragment duration.
    movie_duration_ns: Option<i64>,
    /// Nero chapters (`moov` / `udta` / `chpl`).
    chapters: Vec<Chapter>,
}

impl Mp4Demuxer {
    /// Opens an MP4/MOV file: reads the `moov` and every `moof` box and builds
    /// the sample tables.
    ///
    /// Errors: [`ContainerError::Io`]; [`ContainerError::Corrupt`] (with the
    /// byte offset) for a malformed or missing `moov` or sample table;
    /// [`ContainerError::Unsupported`] for a `moov` larger than 256 MiB.
    pub fn open(path: &Path) -> Result<Self, ContainerError> {
        let file = File::open(path).map_err(|e| ContainerError::io(path, e))?;
        let file_size = file
            .metadata()
            .map_err(|e| ContainerError::io(path, e))?
            .len();
        let mut d = Mp4Demuxer {
            path: path.to_owned(),
            file,
            file_size,
            tracks: Vec::new(),
            traks: Vec::new(),
            shift: Vec::new(),
            order: Vec::new(),
            cursor: 0,
            fragment_error: None,
            delivered: Vec::new(),
            sync_index: Vec::new(),
            resume: Vec::new(),
            movie_duration_ns: None,
            chapters: Vec::new(),
        };
        d.read_structure()?;
        Ok(d)
    }

    fn corrupt(&self, (offset, what): BoxError) -> ContainerError {
        ContainerError::corrupt(&self.path, FORMAT, offset, what)
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, ContainerError> {
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, offset)
            .map_err(|e| ContainerError::io(&self.path, e))?;
        Ok(buf)
    }

    /// Walks the top-level boxes; parses moov, then each moof in file order.
    fn read_structure(&mut self) -> Result<(), ContainerError> {
        let mut pos = 0u64;
        let mut moov_seen = false;
        let mut movie_timescale = 0u32;
        let mut fragment_error: Option<ContainerError> = None;
        while pos + 8 <= self.file_size {
            let h = self.read_at(pos, 8)?;
            let size32 = u32::from_be_bytes(h[0..4].try_into().expect("4"));
            let typ: [u8; 4] = h[4..8].try_into().expect("4");
            let (hdr, size) = match size32 {
                0 => (8u64, self.file_size - pos),
                1 => {
                    if pos + 16 > self.file_size {
                        break;
                    }
                    let l = self.read_at(pos + 8, 8)?;
                    (16, u64::from_be_bytes(l[..].try_into().expect("8")))
                }
                n => (8, u64::from(n)),
            };
            if size < hdr {
                let e = self.corrupt((
                    pos,
                    format!("top-level box '{}' has size {size}", fourcc(&typ)),
                ));
                if moov_seen {
                    // Keep what we have (samples before this point).
                    fragment_error = Some(e);
                    break;
                }
                return Err(e);
            }
            let end = pos.saturating_add(size);
            let truncated = end > self.file_size;
            match &typ {
                b"moov" | b"moof" => {
                    if truncated {
                        let e = self.corrupt((
                            pos,
                            format!(
                                "'{}' box of {size} bytes runs past the end of the file",
                                fourcc(&typ)
                            ),
                        ));
                        if &typ == b"moof" && moov_seen {
                            fragment_error = Some(e);
                            break;
                        }
                        return Err(e);
                    }
                    if size > MAX_HEADER_BOX {
                        return Err(ContainerError::Unsupported {
                            path: self.path.clone(),
                            what: format!(
                                "'{}' box of {size} bytes at byte {pos} (limit {MAX_HEADER_BOX})",
                                fourcc(&typ)
                            ),
                        });
                    }
                    let payload = self.read_at(pos + hdr, (size - hdr) as usize)?;
                    if &typ == b"moov" {
                        if moov_seen {
                            // A second moov: ignore (ffmpeg takes the first).
                        } else {
                            movie_timescale = self
                                .parse_moov(&payload, pos + hdr)
                                .map_err(|e| self.corrupt(e))?;
                            moov_seen = true;
                        }
                    } else if moov_seen {
                        if let Err(e) = self.parse_moof(&payload, pos + hdr, pos) {
                            fragment_error = Some(self.corrupt(e));
                            break;
                        }
                    }
                }
                _ => {}
            }
            if truncated {
                break;
            }
            pos = end;
        }
        if !moov_seen {
            return Err(self.corrupt((
                0,
                "no 'moov' box (not an MP4, or truncated before the movie header)".into(),
            )));
        }
        self.fragment_error = fragment_error;
        self.build(movie_timescale)
    }

    /// Parses `moov`; returns the movie timescale.
    fn parse_moov(&mut self, d: &[u8], off: u64) -> R<u32> {
        let mut movie_timescale = 0;
        for c in children(d, off) {
            let (typ, p, poff) = c?;
            match &typ {
                b"mvhd" => {
                    let mut r = Rd::new(p, poff, "mvhd");
                    let (v, _) = r.full()?;
                    r.skip(if v == 1 { 16 } else { 8 })?;
                    movie_timescale = r.u32()?;
                    let duration = if v == 1 {
                        r.u64()?
                    } else {
                        u64::from(r.u32()?)
                    };
                    self.movie_duration_ns = duration_ns(duration, v, movie_timescale);
                }
                b"udta" => {
                    for c in children(p, poff) {
                        let (typ, p, _) = c?;
                        if &typ == b"chpl" {
                            self.chapters = parse_chpl(p);
                        }
                    }
                }
                b"trak" => {
                    let mut t = Trak::default();
                    parse_trak(&mut t, p, poff, self.file_size)?;
                    self.traks.push(t);
                }
                _ => {}
            }
        }
        // trex may precede the traks it names in odd files; apply again.
        for c in children(d, off) {
            let (typ, p, poff) = c?;
            if &typ == b"mvex" {
                for c in children(p, poff) {
                    let (typ, p, poff) = c?;
                    if &typ == b"mehd" && self.movie_duration_ns.is_none() {
                        // MovieExtendsHeaderBox (14496-12 8.8.2): the whole
                        // fragmented movie's duration, movie timescale.
                        let mut r = Rd::new(p, poff, "mehd");
                        let (v, _) = r.full()?;
                        let d = if v == 1 {
                            r.u64()?
                        } else {
                            u64::from(r.u32()?)
                        };
                        self.movie_duration_ns = duration_ns(d, v, movie_timescale);
                    }
                    if &typ == b"trex" {
                        let mut r = Rd::new(p, poff, "trex");
                        r.full()?;
                        let id = r.u32()?;
                        r.u32()?;
                        let defaults = SampleDefaults {
                            duration: r.u32()?,
                            size: r.u32()?,
                            flags: r.u32()?,
                        };
                        if let Some(t) = self.traks.iter_mut().find(|t| t.id == id) {
                            t.trex = defaults;
                        }
                    }
                }
            }
        }
        let mut total = 0usize;
        for t in &mut self.traks {
            expand_sample_table(t, self.file_size).map_err(|(o, m)| (o.max(off), m))?;
            total += t.samples.len();
            if total > MAX_SAMPLES {
                return Err((off, format!("more than {MAX_SAMPLES} samples")));
            }
        }
        Ok(movie_timescale)
    }

    /// Parses one `moof` (payload `d` at file offset `off`, box start `moof_start`).
    fn parse_moof(&mut self, d: &[u8], off: u64, moof_start: u64) -> R<()> {
        // Base for trafs without base_data_offset and without default-base-is-moof:
        // the end of the previous traf's data, starting at the moof (14496-12 §8.8.7.1).
        let mut implicit_base = moof_start;
        let mut total_samples: usize = self.traks.iter().map(|t| t.samples.len()).sum();
        for c in children(d, off) {
            let (typ, p, poff) = c?;
            if &typ != b"traf" {
                continue;
            }
            let mut tidx: Option<usize> = None;
            let mut defaults = SampleDefaults::default();
            let mut base = implicit_base;
            let mut decode_time: Option<i64> = None;
            let mut data_end = base;
            for c in children(p, poff) {
                let (typ, p, poff) = c?;
                match &typ {
                    b"tfhd" => {
                        let mut r = Rd::new(p, poff, "tfhd");
                        let (_, flags) = r.full()?;
                        let id = r.u32()?;
                        let i = self.traks.iter().position(|t| t.id == id).ok_or((
                            poff,
                            format!("tfhd names track {id}, which the moov lacks"),
                        ))?;
                        tidx = Some(i);
                        defaults = self.traks[i].trex;
                        base = if flags & 0x01 != 0 {
                            r.u64()?
                        } else if flags & 0x02_0000 != 0 {
                            moof_start
                        } else {
                            implicit_base
                        };
                        if flags & 0x02 != 0 {
                            r.u32()?; // sample_description_index
                        }
                        if flags & 0x08 != 0 {
                            defaults.duration = r.u32()?;
                        }
                        if flags & 0x10 != 0 {
                            defaults.size = r.u32()?;
                        }
                        if flags & 0x20 != 0 {
                            defaults.flags = r.u32()?;
                        }
                        data_end = base;
                    }
                    b"tfdt" => {
                        let mut r = Rd::new(p, poff, "tfdt");
                        let (v, _) = r.full()?;
                        let t = if v == 1 {
                            r.u64()?
                        } else {
                            u64::from(r.u32()?)
                        };
                        decode_time = Some(
                            i64::try_from(t)
                                .map_err(|_| (poff, format!("tfdt {t} out of range")))?,
                        );
                    }
                    b"trun" => {
                        let i = tidx.ok_or((poff, "trun before tfhd".to_string()))?;
                        let file_size = self.file_size;
                        let t = &mut self.traks[i];
                        if let Some(dt) = decode_time.take() {
                            t.next_dts = dt;
                        }
                        let mut r = Rd::new(p, poff, "trun");
                        let (_, flags) = r.full()?;
                        let count = r.u32()?;
                        let mut offset = if flags & 0x01 != 0 {
                            let rel = r.u32()? as i32;
                            base.checked_add_signed(i64::from(rel))
                                .ok_or((poff, "trun data_offset out of range".to_string()))?
                        } else {
                            data_end
                        };
                        let first_flags = if flags & 0x04 != 0 {
                            Some(r.u32()?)
                        } else {
                            None
                        };
                        let per = 4 * [0x100, 0x200, 0x400, 0x800]
                            .iter()
                            .filter(|&&f| flags & f != 0)
                            .count();
                        let count = if per > 0 {
                            r.check_count(count, per)?
                        } else {
                            // No per-sample fields: each sample takes `defaults.size` bytes of the file.
                            let cap = file_size / u64::from(defaults.size.max(1));
                            if u64::from(count) > cap.min(1 << 24) {
                                return Err((
                                    poff,
                                    format!("trun sample_count {count} cannot fit in the file"),
                                ));
                            }
                            count as usize
                        };
                        if total_samples + count > MAX_SAMPLES {
                            return Err((poff, format!("more than {MAX_SAMPLES} samples")));
                        }
                        total_samples += count;
                        for k in 0..count {
                            let duration = if flags & 0x100 != 0 {
                                r.u32()?
                            } else {
                                defaults.duration
                            };
                            let size = if flags & 0x200 != 0 {
                                r.u32()?
                            } else {
                                defaults.size
                            };
                            let sflags = if flags & 0x400 != 0 {
                                r.u32()?
                            } else if k == 0 && first_flags.is_some() {
                                first_flags.unwrap_or(0)
                            } else {
                                defaults.flags
                            };
                            let cto = if flags & 0x800 != 0 {
                                r.u32()? as i32
                            } else {
                                0
                            };
                            t.samples.push(Sample {
                                offset,
                                size,
                                dts: t.next_dts,
                                cto,
                                duration,
                                // sample_is_non_sync_sample (14496-12 §8.8.3.1)
                                sync: sflags & 0x1_0000 == 0,
                            });
                            t.next_dts = t.next_dts.saturating_add(i64::from(duration));
                            offset = offset.saturating_add(u64::from(size));
                        }
                        data_end = offset;
                    }
                    _ => {}
                }
            }
            implicit_base = data_end;
        }
        Ok(())
    }

    /// Builds the track list, edit shifts and the file-order index.
    fn build(&mut self, movie_timescale: u32) -> Result<(), ContainerError> {
        for (ti, t) in self.traks.iter().enumerate() {
            let (fourcc_, w, h, private) = match &t.entry {
                Some((f, w, h, p)) => (*f, *w, *h, p.clone()),
                None => ([0; 4], 0, 0, CodecPrivate::None),
            };
            let codec = match (&t.handler, &fourcc_) {
                (_, b"avc1" | b"avc3") => TrackCodec::Video(CodecKind::H264),
                (_, b"hvc1" | b"hev1") => TrackCodec::Video(CodecKind::Hevc),
                (_, b"vp09") => TrackCodec::Video(CodecKind::Vp9),
                (_, b"vp08") => TrackCodec::Video(CodecKind::Vp8),
                (_, b"av01") => TrackCodec::Av1,
                (b"soun", f) => TrackCodec::Audio(match &t.audio {
                    Some(a) => a.codec.clone(),
                    None => AudioCodec::Other(fourcc(f)),
                }),
                (_, f) => TrackCodec::Other(fourcc(f)),
            };
            let timescale = i128::from(t.timescale.max(1));
            let to_ns = |v: i128| -> i64 {
                (v * 1_000_000_000 / timescale).clamp(i64::MIN as i128, i64::MAX as i128) as i64
            };
            // Edit list: leading empty edits delay the track, the first real edit's
            // media_time is the first presented media time.
            let mut delay_movie: u64 = 0;
            let mut media_time: i64 = 0;
            let mut first_edit_movie: Option<u64> = None;
            for &(seg, mt) in &t.elst {
                if mt == -1 {
                    delay_movie = delay_movie.saturating_add(seg);
                } else {
                    media_time = mt;
                    first_edit_movie = Some(seg);
                    break;
                }
            }
            let real_edits = t.elst.iter().filter(|&&(_, mt)| mt != -1).count();
            let delay_ns = if movie_timescale > 0 {
                (i128::from(delay_movie) * 1_000_000_000 / i128::from(movie_timescale))
                    .min(i64::MAX as i128) as i64
            } else {
                0
            };
            let shift_ns = delay_ns.saturating_sub(to_ns(i128::from(media_time)));
            // With exactly one real edit of known length, presentation is
            // [delay, delay + segment_duration) on the shifted timeline.
            let presentation_window_ns = match (real_edits, first_edit_movie) {
                (1, Some(seg)) if seg > 0 && movie_timescale > 0 => {
                    let seg_ns = (i128::from(seg) * 1_000_000_000 / i128::from(movie_timescale))
                        .min(i64::MAX as i128) as i64;
                    Some((delay_ns, delay_ns.saturating_add(seg_ns)))
                }
                _ => None,
            };
            self.shift.push((shift_ns, 0));
            // Dominant sample duration.
            let mut durs: Vec<u32> = t.samples.iter().map(|s| s.duration).collect();
            durs.sort_unstable();
            let mut best = (0u32, 0usize);
            let mut i = 0;
            while i < durs.len() {
                let mut j = i;
                while j < durs.len() && durs[j] == durs[i] {
                    j += 1;
                }
                if j - i > best.1 {
                    best = (durs[i], j - i);
                }
                i = j;
            }
            let frame_duration_ns =
                (best.1 > 0 && best.0 > 0).then(|| to_ns(i128::from(best.0)) as u64);
            let total: i128 = t.samples.iter().map(|s| i128::from(s.duration)).sum();
            let duration_ns = if t.mdhd_duration > 0
                && t.mdhd_duration != u64::from(u32::MAX)
                && t.mdhd_duration != u64::MAX
            {
                Some(to_ns(i128::from(t.mdhd_duration)) as u64)
            } else if total > 0 {
                Some(to_ns(total) as u64)
            } else {
                None
            };
            let (width, height) = if w > 0 {
                (w, h)
            } else {
                (t.tkhd_width, t.tkhd_height)
            };
            let (codec, private, audio) = match (&t.audio, codec) {
                (Some(a), TrackCodec::Audio(c)) => {
                    let (c, params) = self.audio_params(t, a, c, media_time);
                    (TrackCodec::Audio(c), a.private.clone(), Some(params))
                }
                (_, c) => (c, private, None),
            };
            self.tracks.push(TrackInfo {
                id: t.id,
                codec,
                width,
                height,
                frame_duration_ns,
                duration_ns,
                codec_private: private,
                presentation_window_ns,
                pixel_aspect: t.geometry.0,
                crop: t.geometry.1,
                audio,
            });
            // Samples after the last one (in decode order) that starts inside
            // the presentation window can neither be shown nor be referenced
            // by a shown one: they are not delivered (qtdemux does the same;
            // ffprobe does not count them either).
            let delivered = match presentation_window_ns {
                Some((_, end)) => t
                    .samples
                    .iter()
                    .rposition(|s| {
                        to_ns(i128::from(s.dts) + i128::from(s.cto)).saturating_add(shift_ns) < end
                    })
                    .map_or(0, |last| last + 1),
                None => t.samples.len(),
            };
            for (si, s) in t.samples.iter().enumerate().take(delivered) {
                self.order.push((s.offset, ti as u32, si as u32));
            }
            let mut sync: Vec<(i64, u32)> = t
                .samples
                .iter()
                .enumerate()
                .take(delivered)
                .filter(|(_, s)| s.sync)
                .map(|(si, s)| {
                    (
                        to_ns(i128::from(s.dts) + i128::from(s.cto)).saturating_add(shift_ns),
                        si as u32,
                    )
                })
                .collect();
            sync.sort_unstable();
            self.sync_index.push(sync);
            self.delivered.push(delivered);
        }
        self.order.sort_unstable();
        self.resume = vec![0; self.traks.len()];
        Ok(())
    }

    /// Sample `si` of track `ti`: its pts in ns (edit shift applied), as [`Self::packet`] gives it.
    fn sample_pts_ns(&self, ti: usize, si: usize) -> i64 {
        let t = &self.traks[ti];
        let s = &t.samples[si];
        let v = (i128::from(s.dts) + i128::from(s.cto)) * 1_000_000_000
            / i128::from(t.timescale.max(1));
        (v.clamp(i64::MIN as i128, i64::MAX as i128) as i64).saturating_add(self.shift[ti].0)
    }

    /// The sample of track `ti` where playback of time `t_ns` resumes: its
    /// last sync sample with pts ≤ `t_ns` (its first one if none), found by
    /// binary search in the sync-sample index (`stss`, or the fragments'
    /// sync flags); for a track whose every sample is sync (audio) the last
    /// sample starting at or before `t_ns`.
    fn resume_sample(&self, ti: usize, t_ns: i64) -> Option<usize> {
        let sync = &self.sync_index[ti];
        if sync.len() < self.delivered[ti] {
            let k = sync.partition_point(|e| e.0 <= t_ns);
            return sync.get(k.saturating_sub(1)).map(|e| e.1 as usize);
        }
        // Every sample is sync and the pts follow the decode order.
        let n = self.delivered[ti];
        let k = {
            let (mut lo, mut hi) = (0usize, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.sample_pts_ns(ti, mid) <= t_ns {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        (n > 0).then(|| k.saturating_sub(1))
    }

    /// An audio track's [`AudioParams`], and its codec once the first
    /// frame has named the MPEG audio layer (`objectTypeIndication` 0x69 /
    /// 0x6B and `.mp3` say only "MPEG audio"; FFmpeg leaves it to its parser).
    fn audio_params(
        &self,
        t: &Trak,
        a: &AudioEntry,
        codec: AudioCodec,
        media_time: i64,
    ) -> (AudioCodec, AudioParams) {
        let mut codec = codec;
        let (mut rate, mut channels) = (a.sample_rate, a.channels);
        if matches!(codec, AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3) {
            let first = t.samples.first().filter(|s| s.size >= 4).and_then(|s| {
                let mut h = [0u8; 4];
                self.file.read_exact_at(&mut h, s.offset).ok()?;
                audio::mpa_header(&h)
            });
            if let Some(h) = first {
                codec = h.codec();
                rate = h.sample_rate;
                channels = h.channels;
            }
        }
        // The priming to drop: the first real edit's media_time, converted
        // from the media timescale to samples (ISO/IEC 14496-12 8.6.6; what
        // FFmpeg's mov.c turns into `skip_samples`); for Opus the OpusHead's
        // pre_skip (see [`AudioParams::skip_samples`]).
        let skip_samples = match a.opus_pre_skip {
            Some(p) => u32::from(p),
            None if media_time > 0 && t.timescale > 0 && rate > 0 => {
                (i128::from(media_time) * i128::from(rate) / i128::from(t.timescale))
                    .min(i128::from(u32::MAX)) as u32
            }
            None => 0,
        };
        (
            codec,
            AudioParams {
                sample_rate: rate,
                channels,
                skip_samples,
            },
        )
    }

    /// Sample `si` of track `ti` into `pkt` (its buffer reused: one
    /// `pread` of the sample, no allocation once the buffer is large enough).
    fn packet(&self, ti: usize, si: usize, pkt: &mut Packet) -> Result<(), ContainerError> {
        let t = &self.traks[ti];
        let s = t.samples[si];
        let end = s.offset.checked_add(u64::from(s.size));
        if end.is_none_or(|e| e > self.file_size) {
            return Err(self.corrupt((
                s.offset,
                format!(
                    "track {} sample {} ({} bytes) runs past the end of the file ({} bytes)",
                    t.id,
                    si + 1,
                    s.size,
                    self.file_size
                ),
            )));
        }
        pkt.data.resize(s.size as usize, 0);
        self.file
            .read_exact_at(&mut pkt.data, s.offset)
            .map_err(|e| ContainerError::io(&self.path, e))?;
        let timescale = i128::from(t.timescale.max(1));
        let to_ns = |v: i128| -> i64 {
            (v * 1_000_000_000 / timescale).clamp(i64::MIN as i128, i64::MAX as i128) as i64
        };
        let shift = self.shift[ti].0;
        let dts = to_ns(i128::from(s.dts)).saturating_add(shift);
        let pts = to_ns(i128::from(s.dts) + i128::from(s.cto)).saturating_add(shift);
        pkt.track = t.id;
        pkt.pts_ns = Some(pts);
        pkt.dts_ns = Some(dts);
        pkt.duration_ns = Some(to_ns(i128::from(s.duration)) as u64);
        pkt.keyframe = s.sync;
        pkt.byte_offset = s.offset;
        pkt.discard_padding_ns = 0;
        Ok(())
    }
}

/// Parses one `trak` into `t` (sample table boxes raw; see [`expand_sample_table`]).
fn parse_trak(t: &mut Trak, d: &[u8], off: u64, file_size: u64) -> R<()> {
    for c in children(d, off) {
        let (typ, p, poff) = c?;
        match &typ {
            b"tkhd" => {
                let mut r = Rd::new(p, poff, "tkhd");
                let (v, _) = r.full()?;
                r.skip(if v == 1 { 16 } else { 8 })?;
                t.id = r.u32()?;
                // reserved, duration, reserved[2], layer, alternate_group, volume, reserved, matrix[9]
                r.skip(4 + if v == 1 { 8 } else { 4 } + 8 + 2 + 2 + 2 + 2 + 36)?;
                t.tkhd_width = r.u32()? >> 16;
                t.tkhd_height = r.u32()? >> 16;
            }
            b"edts" => {
                for c in children(p, poff) {
                    let (typ, p, poff) = c?;
                    if &typ == b"elst" {
                        let mut r = Rd::new(p, poff, "elst");
                        let (v, _) = r.full()?;
                        let n = r.u32()?;
                        let n = r.check_count(n, if v == 1 { 20 } else { 12 })?;
                        for _ in 0..n {
                            let (seg, mt) = if v == 1 {
                                (r.u64()?, r.u64()? as i64)
                            } else {
                                (u64::from(r.u32()?), i64::from(r.u32()? as i32))
                            };
                            r.u32()?; // media_rate
                            t.elst.push((seg, mt));
                        }
                    }
                }
            }
            b"mdia" => parse_mdia(t, p, poff, file_size)?,
            _ => {}
        }
    }
    Ok(())
}

fn parse_mdia(t: &mut Trak, d: &[u8], off: u64, file_size: u64) -> R<()> {
    for c in children(d, off) {
        let (typ, p, poff) = c?;
        match &typ {
            b"mdhd" => {
                let mut r = Rd::new(p, poff, "mdhd");
                let (v, _) = r.full()?;
                r.skip(if v == 1 { 16 } else { 8 })?;
                t.timescale = r.u32()?;
                t.mdhd_duration = if v == 1 {
                    r.u64()?
                } else {
                    u64::from(r.u32()?)
                };
                if t.timescale == 0 {
                    return Err((poff, "mdhd timescale is 0".into()));
                }
            }
            b"hdlr" => {
                let mut r = Rd::new(p, poff, "hdlr");
                r.full()?;
                r.u32()?; // pre_defined (QuickTime: component type)
                t.handler = r.bytes(4)?.try_into().expect("4");
            }
            b"minf" => {
                for c in children(p, poff) {
                    let (typ, p, poff) = c?;
                    if &typ == b"stbl" {
                        parse_stbl(t, p, poff, file_size)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_stbl(t: &mut Trak, d: &[u8], off: u64, file_size: u64) -> R<()> {
    for c in children(d, off) {
        let (typ, p, poff) = c?;
        let mut r = Rd::new(p, poff, "sample table");
        match &typ {
            b"stsd" => {
                r.full()?;
                let n = r.u32()?;
                if n >= 1 {
                    // First sample entry only.
                    if let Some(c) = children(&p[8..], poff + 8).next() {
                        let (f, ep, epoff) = c?;
                        if &t.handler == b"soun" {
                            t.audio = Some(parse_audio_entry(f, ep, epoff));
                        }
                        let (f, w, h, private, geometry) =
                            parse_sample_entry(f, ep, epoff, &t.handler)?;
                        t.entry = Some((f, w, h, private));
                        t.geometry = geometry;
                    }
                }
            }
            b"stts" => {
                r.full()?;
                let n = r.u32()?;
                for _ in 0..r.count_in_box(n, 8) {
                    t.stts.push((r.u32()?, r.u32()?));
                }
            }
            b"ctts" => {
                r.full()?;
                let n = r.u32()?;
                for _ in 0..r.count_in_box(n, 8) {
                    t.ctts.push((r.u32()?, r.u32()? as i32));
                }
            }
            b"stss" => {
                r.full()?;
                let n = r.u32()?;
                let n = r.count_in_box(n, 4);
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.u32()?);
                }
                t.stss = Some(v);
            }
            b"stsc" => {
                r.full()?;
                let n = r.u32()?;
                for _ in 0..r.count_in_box(n, 12) {
                    let first_chunk = r.u32()?;
                    let per_chunk = r.u32()?;
                    r.u32()?; // sample_description_index
                    t.stsc.push((first_chunk, per_chunk));
                }
            }
            b"stsz" => {
                r.full()?;
                t.stsz_const = r.u32()?;
                t.stsz_count = r.u32()?;
                if t.stsz_const == 0 {
                    for _ in 0..r.count_in_box(t.stsz_count, 4) {
                        t.stsz.push(r.u32()?);
                    }
                } else if u64::from(t.stsz_count) > file_size / u64::from(t.stsz_const) {
                    return Err((
                        poff,
                        format!(
                            "stsz: {} samples of {} bytes exceed the file",
                            t.stsz_count, t.stsz_const
                        ),
                    ));
                }
            }
            b"stz2" => {
                r.full()?;
                r.skip(3)?;
                let field = r.u8()?;
                let n = r.u32()?;
                let bits = usize::from(field);
                if !matches!(bits, 4 | 8 | 16) {
                    return Err((poff, format!("stz2 field_size {bits}")));
                }
                let bytes = r.bytes(
                    (n as usize)
                        .min(usize::MAX / 16)
                        .saturating_mul(bits)
                        .div_ceil(8),
                )?;
                for i in 0..n as usize {
                    t.stsz.push(match bits {
                        4 => u32::from((bytes[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf),
                        8 => u32::from(bytes[i]),
                        _ => u32::from(u16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]])),
                    });
                }
                t.stsz_count = n;
            }
            b"stco" => {
                r.full()?;
                let n = r.u32()?;
                for _ in 0..r.count_in_box(n, 4) {
                    t.chunks.push(u64::from(r.u32()?));
                }
            }
            b"co64" => {
                r.full()?;
                let n = r.u32()?;
                for _ in 0..r.count_in_box(n, 8) {
                    t.chunks.push(r.u64()?);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// What an audio sample entry says.
#[derive(Debug, Clone)]
struct AudioEntry {
    codec: AudioCodec,
    /// Hz, 0 if unknown.
    sample_rate: u32,
    channels: u16,
    /// FFmpeg-style extradata (see [`TrackInfo::audio`]).
    private: CodecPrivate,
    /// An Opus track's pre-skip (48 kHz samples) from `dOps`.
    opus_pre_skip: Option<u16>,
}

/// Parses an AudioSampleEntry (ISO/IEC 14496-12 12.2.3; QuickTime sound
/// description versions 1 and 2, QTFF "Sound Sample Descriptions"): the
/// codec from the fourcc and its configuration box (`esds`, `dOps`, `dfLa`,
/// `alac`, `pcmC`; inside a QuickTime `wave` box too), rate and channels
/// from the entry, or from the configuration where it states them (AAC
/// AudioSpecificConfig, `dOps`). A malformed configuration box is logged
/// and the track keeps its codec with [`CodecPrivate::None`]: the audio
/// decoder then refuses it and the video still plays.
fn parse_audio_entry(f: [u8; 4], d: &[u8], off: u64) -> AudioEntry {
    let mut e = AudioEntry {
        codec: AudioCodec::Other(fourcc(&f)),
        sample_rate: 0,
        channels: 0,
        private: CodecPrivate::None,
        opus_pre_skip: None,
    };
    // SampleEntry: reserved 6, data_reference_index 2; then version 2,
    // revision 2, vendor 4, channelcount 2, samplesize 2, compression_id 2,
    // packet_size 2, samplerate 4 (16.16) = 28 bytes.
    let Some(h) = d.get(..28) else {
        tracing::warn!(
            "MP4 byte {off}: audio sample entry '{}' is {} bytes",
            fourcc(&f),
            d.len()
        );
        return e;
    };
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let version = be16(8);
    let mut channels = be16(16);
    let mut bits = be16(18);
    let mut rate = u32::from_be_bytes([h[24], h[25], h[26], h[27]]) >> 16;
    let mut lpcm_flags = 0u32;
    // A box header that fits what is left and has a printable type.
    let box_at = |at: usize| -> bool {
        d.get(at..at + 8).is_some_and(|h| {
            let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
            size >= 8 && size <= d.len() - at && h[4..8].iter().all(|b| b.is_ascii_graphic())
        })
    };
    let children_at = match version {
        // QuickTime sound description v1: 16 more bytes (samplesPerPacket,
        // bytesPerPacket, bytesPerFrame, bytesPerSample). ISO/IEC 14496-12's
        // AudioSampleEntryV1 also says version 1 but adds nothing (its rate
        // is in an `srat` box): FFmpeg tells them apart by the brand; here
        // the boxes that follow do.
        1 if !box_at(28 + 16) && box_at(28) => 28,
        1 => 28 + 16,
        2 => {
            // sizeOfStructOnly 4, audioSampleRate f64, numAudioChannels 4,
            // always7F000000 4, constBitsPerChannel 4, formatSpecificFlags 4,
            // constBytesPerAudioPacket 4, constLPCMFramesPerAudioPacket 4.
            if let Some(v2) = d.get(28..64) {
                let u = |i: usize| u32::from_be_bytes([v2[i], v2[i + 1], v2[i + 2], v2[i + 3]]);
                let r = f64::from_bits(u64::from_be_bytes(v2[4..12].try_into().expect("8")));
                rate = if r.is_finite() && r > 0.0 && r < 1e7 {
                    r as u32
                } else {
                    0
                };
                channels = u16::try_from(u(12)).unwrap_or(0);
                bits = u16::try_from(u(20)).unwrap_or(0);
                lpcm_flags = u(24);
            }
            64
        }
        _ => 28,
    };
    e.sample_rate = rate;
    e.channels = channels;
    let mut little_endian = false;
    let mut pcmc: Option<(bool, u16)> = None;
    let mut boxes: Vec<([u8; 4], &[u8], u64)> = Vec::new();
    if let Some(rest) = d.get(children_at..) {
        for c in children(rest, off + children_at as u64) {
            let Ok((typ, p, poff)) = c else { break };
            if &typ == b"wave" {
                for c in children(p, poff) {
                    let Ok(b) = c else { break };
                    boxes.push(b);
                }
            } else {
                boxes.push((typ, p, poff));
            }
        }
    }
    let warn = |poff: u64, (o, m): (usize, String)| {
        tracing::warn!("MP4 byte {}: {m}", poff + o as u64);
    };
    for (typ, p, poff) in boxes {
        match &typ {
            b"esds" => match audio::parse_esds(p) {
                Ok(es) => {
                    e.codec = audio::esds_codec(&es);
                    if e.codec == AudioCodec::Aac {
                        if let Some((r, c)) = audio::asc_rate_channels(&es.specific) {
                            e.sample_rate = r;
                            if c > 0 {
                                e.channels = c;
                            }
                        }
                    }
                    if !es.specific.is_empty()
                        && !matches!(e.codec, AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3)
                    {
                        e.private = CodecPrivate::Raw(es.specific);
                    }
                }
                Err(err) => warn(poff, err),
            },
            b"dOps" => match audio::dops_to_opushead(p) {
                Ok((head, pre_skip)) => {
                    e.codec = AudioCodec::Opus;
                    e.channels = u16::from(head[9]);
                    e.sample_rate = 48000;
                    e.private = CodecPrivate::Raw(head);
                    e.opus_pre_skip = Some(pre_skip);
                }
                Err(err) => warn(poff, err),
            },
            b"dfLa" if p.len() > 4 => {
                // FLACSpecificBox (FLAC in ISOBMFF 3.3.2): FullBox header,
                // then FLAC metadata blocks; extradata = "fLaC" + the blocks.
                let mut x = b"fLaC".to_vec();
                x.extend_from_slice(&p[4..]);
                e.private = CodecPrivate::Raw(x);
            }
            b"alac" if p.len() >= 28 => {
                // ALACSpecificConfig (24 bytes) after the FullBox header.
                e.private = CodecPrivate::Raw(p[4..28].to_vec());
                e.channels = u16::from(p[4 + 9]);
                e.sample_rate = u32::from_be_bytes(p[24..28].try_into().expect("4"));
            }
            b"pcmC" if p.len() >= 6 => {
                // ISO/IEC 23003-5 5.1: FullBox, format_flags (bit 0 little
                // endian), PCM_sample_size.
                pcmc = Some((p[4] & 1 != 0, u16::from(p[5])));
            }
            b"enda" if p.len() >= 2 => little_endian = p[1] & 1 != 0,
            b"dac3" | b"dec3" => {
                if let Some(c) = audio::dac3_channels(p, &typ == b"dec3") {
                    e.channels = c;
                }
            }
            _ => {}
        }
    }
    let pcm = |bits: u16, float: bool, big_endian: bool, signed: bool| {
        AudioCodec::Pcm(PcmFormat {
            bits,
            float,
            big_endian,
            signed,
        })
    };
    match &f {
        b"mp4a" => {}
        b".mp3" | b"ms\0\x55" => e.codec = AudioCodec::Mp3,
        b"Opus" => e.codec = AudioCodec::Opus,
        b"fLaC" => e.codec = AudioCodec::Flac,
        b"alac" => e.codec = AudioCodec::Alac,
        b"ac-3" => e.codec = AudioCodec::Ac3,
        b"ec-3" => e.codec = AudioCodec::Eac3,
        b"dtsc" | b"dtsh" | b"dtsl" | b"dtse" => e.codec = AudioCodec::Dts,
        b"ipcm" | b"fpcm" => {
            let (le, b) = pcmc.unwrap_or((false, bits));
            e.codec = pcm(b, &f == b"fpcm", !le, true);
        }
        b"sowt" => e.codec = pcm(bits.max(8), false, false, bits > 8),
        b"twos" => e.codec = pcm(bits.max(8), false, true, true),
        b"raw " | b"NONE" => e.codec = pcm(8, false, false, false),
        b"in24" => e.codec = pcm(24, false, !little_endian, true),
        b"in32" => e.codec = pcm(32, false, !little_endian, true),
        b"fl32" => e.codec = pcm(32, true, !little_endian, true),
        b"fl64" => e.codec = pcm(64, true, !little_endian, true),
        b"lpcm" => {
            // QTFF formatSpecificFlags: kAudioFormatFlagIsFloat 1,
            // IsBigEndian 2, IsSignedInteger 4.
            let float = lpcm_flags & 1 != 0;
            e.codec = pcm(
                bits,
                float,
                lpcm_flags & 2 != 0,
                float || lpcm_flags & 4 != 0,
            );
        }
        _ => {}
    }
    e
}

/// A sample entry's `pasp` and `clap` as [`TrackInfo::pixel_aspect`] / [`TrackInfo::crop`].
type Geometry = (Option<(u32, u32)>, Option<Crop>);

/// Parses a sample entry: (fourcc, width, height, codec private data, `pasp` / `clap`).
fn parse_sample_entry(
    f: [u8; 4],
    d: &[u8],
    off: u64,
    handler: &[u8; 4],
) -> R<([u8; 4], u32, u32, CodecPrivate, Geometry)> {
    if handler != b"vide" {
        return Ok((f, 0, 0, CodecPrivate::None, (None, None)));
    }
    // VisualSampleEntry (14496-12 §12.1.3): SampleEntry 8 bytes (6 reserved +
    // data_reference_index), pre_defined/reserved 16, width 16, height 16,
    // resolutions 8, reserved 4, frame_count 2, compressorname 32, depth 2,
    // pre_defined 2 = 78 bytes, then child boxes.
    let mut r = Rd::new(d, off, "visual sample entry");
    r.skip(24)?;
    let w = u32::from(r.u16()?);
    let h = u32::from(r.u16()?);
    r.skip(50)?;
    let mut private = CodecPrivate::None;
    let (mut pasp, mut clap) = (None, None);
    for c in children(&d[78..], off + 78) {
        let Ok((typ, p, poff)) = c else { break };
        let conv = |(o, m): (usize, String)| (poff + o as u64, m);
        match &typ {
            b"avcC" if matches!(&f, b"avc1" | b"avc3") => {
                private = config::parse_avcc(p).map_err(conv)?
            }
            b"hvcC" if matches!(&f, b"hvc1" | b"hev1") => {
                private = config::parse_hvcc(p).map_err(conv)?
            }
            b"vpcC" | b"av1C" => private = CodecPrivate::Raw(p.to_vec()),
            b"pasp" => pasp = parse_pasp(p),
            b"clap" => clap = parse_clap(p, w, h),
            _ => {}
        }
    }
    Ok((f, w, h, private, (pasp, clap)))
}

/// `PixelAspectRatioBox` (ISO/IEC 14496-12 12.1.4): `hSpacing` : `vSpacing`,
/// reduced; `None` if short or either is 0 (says nothing).
fn parse_pasp(p: &[u8]) -> Option<(u32, u32)> {
    let h = u32::from_be_bytes(p.get(0..4)?.try_into().ok()?);
    let v = u32::from_be_bytes(p.get(4..8)?.try_into().ok()?);
    vreq_core::reduce_ratio(u64::from(h), u64::from(v))
}

/// `CleanApertureBox` (ISO/IEC 14496-12 12.1.4) as a crop of the `w` × `h`
/// sample entry picture, when it is simple: the aperture is
/// `cleanApertureWidthN/D` × `cleanApertureHeightN/D` centred at
/// `horizOffN/D`, `vertOffN/D` from the picture centre, so the left edge is
/// `(w − cleanApertureWidth) / 2 + horizOff`. `None` unless every
/// denominator is positive, every edge is a whole pixel and the aperture lies
/// inside the picture (FFmpeg 5.1 ignores `clap` altogether).
fn parse_clap(p: &[u8], w: u32, h: u32) -> Option<Crop> {
    let v: Vec<i64> = (0..8)
        .map(|i| {
            let b: [u8; 4] = p.get(4 * i..4 * i + 4)?.try_into().ok()?;
            // horizOffN and vertOffN are int(32), the rest unsigned int(32)
            Some(if i == 4 || i == 6 {
                i64::from(i32::from_be_bytes(b))
            } else {
                i64::from(u32::from_be_bytes(b))
            })
        })
        .collect::<Option<_>>()?;
    let (cw_n, cw_d, ch_n, ch_d, ho_n, ho_d, vo_n, vo_d) =
        (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
    if cw_d <= 0 || ch_d <= 0 || ho_d <= 0 || vo_d <= 0 {
        return None;
    }
    // Edge = (size − aperture) / 2 + offset, in exact integers.
    let edge = |size: u32, a_n: i64, a_d: i64, o_n: i64, o_d: i64| -> Option<(i64, i64)> {
        if a_n % a_d != 0 {
            return None;
        }
        let a = a_n / a_d;
        // |terms| < 2^34 · 2^32: no overflow in i128
        let num = (i128::from(size) - i128::from(a)) * i128::from(o_d) + 2 * i128::from(o_n);
        let den = 2 * i128::from(o_d);
        let edge = i64::try_from(num / den).ok()?;
        (num % den == 0).then_some((edge, a))
    };
    let (left, cw) = edge(w, cw_n, cw_d, ho_n, ho_d)?;
    let (top, ch) = edge(h, ch_n, ch_d, vo_n, vo_d)?;
    let right = i64::from(w) - left - cw;
    let bottom = i64::from(h) - top - ch;
    if cw <= 0 || ch <= 0 || left < 0 || top < 0 || right < 0 || bottom < 0 {
        return None;
    }
    let crop = Crop {
        left: left as u32,
        top: top as u32,
        right: right as u32,
        bottom: bottom as u32,
    };
    (crop != Crop::default()).then_some(crop)
}

/// Turns the raw sample table boxes of a track into its sample list.
fn expand_sample_table(t: &mut Trak, file_size: u64) -> R<()> {
    let count = if t.stsz_const == 0 {
        t.stsz.len()
    } else {
        t.stsz_count as usize
    };
    if count == 0 {
        return Ok(());
    }
    if count > MAX_SAMPLES {
        return Err((
            0,
            format!("track {}: {count} samples (limit {MAX_SAMPLES})", t.id),
        ));
    }
    let mut samples = Vec::with_capacity(count);
    // Uncompressed audio stores one PCM frame per sample: those are handed
    // out a chunk at a time, at most 1024 frames per packet, as FFmpeg's
    // mov_build_index does (a packet per PCM frame would be absurd).
    let pcm_frames = t
        .audio
        .as_ref()
        .is_some_and(|a| matches!(a.codec, AudioCodec::Pcm(_)))
        && t.stsz_const > 0
        && t.stts.iter().all(|e| e.1 == 1);
    let mut chunk_starts: Vec<usize> = Vec::new();
    // stsc + chunk offsets → sample offsets.
    let mut si = 0usize;
    'chunks: for (ci, &chunk_off) in t.chunks.iter().enumerate() {
        let chunk_no = ci as u32 + 1;
        // The stsc entry in force: the last with first_chunk <= chunk_no.
        let per_chunk = match t.stsc.iter().rev().find(|e| e.0 <= chunk_no) {
            Some(e) => e.1,
            None => break,
        };
        if pcm_frames {
            chunk_starts.push(samples.len());
        }
        let mut off = chunk_off;
        for _ in 0..per_chunk {
            if si >= count {
                break 'chunks;
            }
            let size = if t.stsz_const == 0 {
                t.stsz[si]
            } else {
                t.stsz_const
            };
            samples.push(Sample {
                offset: off,
                size,
                dts: 0,
                cto: 0,
                duration: 0,
                sync: true,
            });
            off = off.saturating_add(u64::from(size));
            si += 1;
        }
    }
    if samples.len() < count {
        tracing::warn!(
            "track {}: chunk table covers {} of {} samples (file {} bytes)",
            t.id,
            samples.len(),
            count,
            file_size
        );
    }
    // stts → dts and duration.
    let mut dts: i64 = 0;
    let mut it = t
        .stts
        .iter()
        .flat_map(|&(n, d)| std::iter::repeat_n(d, n as usize));
    let mut last = t.stts.last().map_or(0, |e| e.1);
    for s in samples.iter_mut() {
        let d = match it.next() {
            Some(d) => {
                last = d;
                d
            }
            None => last,
        };
        s.dts = dts;
        s.duration = d;
        dts = dts.saturating_add(i64::from(d));
    }
    t.next_dts = dts;
    // ctts → composition offsets.
    let mut it = t
        .ctts
        .iter()
        .flat_map(|&(n, o)| std::iter::repeat_n(o, n as usize));
    for s in samples.iter_mut() {
        match it.next() {
            Some(o) => s.cto = o,
            None => break,
        }
    }
    // stss → sync flags (absent: all sync).
    if let Some(stss) = &t.stss {
        for s in samples.iter_mut() {
            s.sync = false;
        }
        for &n in stss {
            if let Some(s) = (n as usize).checked_sub(1).and_then(|i| samples.get_mut(i)) {
                s.sync = true;
            }
        }
    }
    if pcm_frames {
        samples = group_pcm_frames(&samples, &chunk_starts);
    }
    t.samples = samples;
    Ok(())
}

/// Merges PCM frames (one per sample) into packets of at most 1024 frames,
/// never across a chunk (`chunk_starts`: index of each chunk's first sample).
fn group_pcm_frames(samples: &[Sample], chunk_starts: &[usize]) -> Vec<Sample> {
    let mut out = Vec::with_capacity(samples.len() / 1024 + chunk_starts.len() + 1);
    for (k, &start) in chunk_starts.iter().enumerate() {
        let end = chunk_starts.get(k + 1).copied().unwrap_or(samples.len());
        for group in samples[start.min(end)..end].chunks(1024) {
            let first = group[0];
            out.push(Sample {
                size: group.iter().map(|s| s.size).fold(0u32, u32::saturating_add),
                duration: group
                    .iter()
                    .map(|s| s.duration)
                    .fold(0u32, u32::saturating_add),
                ..first
            });
        }
    }
    out
}

impl Demuxer for Mp4Demuxer {
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    /// The next sample in file order. A sample lying past the end of the file
    /// (truncated file) gives [`ContainerError::Corrupt`]; the next call goes on
    /// with the following sample. A fragment (`moof`) that could not be parsed
    /// ends the sample list there and is reported once, after the samples
    /// before it.
    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
        let mut pkt = Packet::default();
        Ok(self.read_packet(&mut pkt)?.then_some(pkt))
    }

    fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
        loop {
            let Some(&(_, ti, si)) = self.order.get(self.cursor) else {
                return match self.fragment_error.take() {
                    Some(e) => Err(e),
                    None => Ok(false),
                };
            };
            self.cursor += 1;
            // After a seek: samples of a track before where it resumes.
            if si < self.resume[ti as usize] {
                continue;
            }
            return self.packet(ti as usize, si as usize, pkt).map(|()| true);
        }
    }

    /// Positions at the sync sample of `track` with the largest pts ≤
    /// `pts_ns` (or the track's first sync sample) by binary search in the
    /// sync-sample index built at open (`stss`, ISO/IEC 14496-12 8.6.2; for
    /// fragments the trun / tfhd / trex `sample_is_non_sync_sample` flags of
    /// every `moof`, all of which are read at open — so `tfra` / `mfra` /
    /// `sidx` would add nothing). Every other track resumes at its own sample
    /// for that keyframe's pts (its last sync sample, or for all-sync tracks
    /// such as audio its last sample, starting at or before it): reading
    /// restarts at the smallest file offset of those samples and skips the
    /// samples of each track before its own. No file I/O.
    fn seek(&mut self, track: u32, pts_ns: i64) -> Result<(), ContainerError> {
        let Some(ti) = self.tracks.iter().position(|t| t.id == track) else {
            return Err(ContainerError::Unsupported {
                path: self.path.clone(),
                what: format!("seek: no track {track}"),
            });
        };
        let sync = &self.sync_index[ti];
        let Some(&(key_pts, key_si)) = sync
            .get(sync.partition_point(|e| e.0 <= pts_ns).saturating_sub(1))
            .filter(|e| e.0 <= pts_ns)
            .or(sync.iter().min_by_key(|e| e.1))
        else {
            self.cursor = self.order.len();
            return Ok(());
        };
        let mut start: Option<usize> = None;
        for tj in 0..self.traks.len() {
            let si = if tj == ti {
                Some(key_si as usize)
            } else {
                self.resume_sample(tj, key_pts)
            };
            let Some(si) = si else {
                self.resume[tj] = u32::MAX;
                continue;
            };
            self.resume[tj] = si as u32;
            let key = (self.traks[tj].samples[si].offset, tj as u32, si as u32);
            let at = self.order.binary_search(&key).unwrap_or_else(|i| i);
            start = Some(start.map_or(at, |s: usize| s.min(at)));
        }
        self.cursor = start.unwrap_or(self.order.len());
        Ok(())
    }

    /// `mvhd` duration (ISO/IEC 14496-12 8.2.2; for fragmented files without
    /// one the `mvex` / `mehd` fragment duration, 8.8.2), else the longest
    /// track's last delivered sample end (pts + duration: the fragments' sum).
    fn duration_ns(&self) -> Option<i64> {
        if self.movie_duration_ns.is_some() {
            return self.movie_duration_ns;
        }
        (0..self.traks.len())
            .filter_map(|ti| {
                let n = self.delivered[ti];
                let t = &self.traks[ti];
                (0..n)
                    .rev()
                    .take(64)
                    .map(|si| {
                        let d = i128::from(t.samples[si].duration) * 1_000_000_000
                            / i128::from(t.timescale.max(1));
                        self.sample_pts_ns(ti, si).saturating_add(d as i64)
                    })
                    .max()
            })
            .max()
    }

    /// Nero chapters (`udta` / `chpl`; a QuickTime `chap` text track is not
    /// read: FFmpeg writes both).
    fn chapters(&self) -> &[Chapter] {
        &self.chapters
    }
}

/// Nero's chapter list (`chpl`, a FullBox in `moov` / `udta`, as FFmpeg's
/// `mov_read_chpl` / `mov_write_chpl_tag` read and write it): version 1 has
/// 4 reserved bytes after the flags; then an 8-bit count and per chapter a
/// 64-bit start in 100 ns units and a title of an 8-bit length. Movie time
/// is the tracks' presentation (pts) axis. Whatever does not fit the box is
/// dropped; the list comes sorted by start.
fn parse_chpl(p: &[u8]) -> Vec<Chapter> {
    let mut out = Vec::new();
    let Some(&version) = p.first() else {
        return out;
    };
    let mut at = 4 + if version == 1 { 4 } else { 0 };
    let Some(&count) = p.get(at) else {
        return out;
    };
    at += 1;
    for _ in 0..count {
        let Some(start) = p.get(at..at + 8) else {
            break;
        };
        let start = u64::from_be_bytes(start.try_into().expect("8"));
        let Some(&len) = p.get(at + 8) else { break };
        let Some(title) = p.get(at + 9..at + 9 + usize::from(len)) else {
            break;
        };
        at += 9 + usize::from(len);
        out.push(Chapter {
            start_ns: i64::try_from(u128::from(start) * 100).unwrap_or(i64::MAX),
            title: (len > 0).then(|| String::from_utf8_lossy(title).into_owned()),
        });
    }
    out.sort_by_key(|c| c.start_ns);
    out
}

/// A movie-timescale duration in ns; `None` when 0, all ones (14496-12:
/// "unknown") or the timescale is 0.
fn duration_ns(d: u64, version: u8, timescale: u32) -> Option<i64> {
    let unknown = if version == 1 {
        u64::MAX
    } else {
        u64::from(u32::MAX)
    };
    (d != 0 && d != unknown && timescale > 0).then(|| {
        (i128::from(d) * 1_000_000_000 / i128::from(timescale)).min(i64::MAX as i128) as i64
    })
}

#[cfg(test)]
mod geometry_tests {
    use super::*;

    fn clap(v: [i64; 8]) -> Vec<u8> {
        v.iter().flat_map(|&x| (x as u32).to_be_bytes()).collect()
    }

    #[test]
    fn clap_centred_and_offset() {
        // 1920x1088 coded, 1920x1080 clean aperture centred: 4 rows off each side.
        assert_eq!(
            parse_clap(&clap([1920, 1, 1080, 1, 0, 1, 0, 1]), 1920, 1088),
            Some(Crop {
                left: 0,
                top: 4,
                right: 0,
                bottom: 4
            })
        );
        // moved up by 4 rows (vertOff −4): all 8 rows come off the bottom
        assert_eq!(
            parse_clap(&clap([1920, 1, 1080, 1, 0, 1, -4, 1]), 1920, 1088),
            Some(Crop {
                left: 0,
                top: 0,
                right: 0,
                bottom: 8
            })
        );
        // 704 of 720 wide, centred: 8 each side
        assert_eq!(
            parse_clap(&clap([704, 1, 576, 1, 0, 1, 0, 1]), 720, 576),
            Some(Crop {
                left: 8,
                top: 0,
                right: 8,
                bottom: 0
            })
        );
    }

    #[test]
    fn clap_not_simple_is_ignored() {
        // the whole picture: no crop
        assert_eq!(
            parse_clap(&clap([720, 1, 576, 1, 0, 1, 0, 1]), 720, 576),
            None
        );
        // half-pixel edge
        assert_eq!(
            parse_clap(&clap([703, 1, 576, 1, 0, 1, 0, 1]), 720, 576),
            None
        );
        // fractional aperture, zero denominator, outside the picture, short box
        assert_eq!(
            parse_clap(&clap([1405, 2, 576, 1, 0, 1, 0, 1]), 720, 576),
            None
        );
        assert_eq!(
            parse_clap(&clap([704, 0, 576, 1, 0, 1, 0, 1]), 720, 576),
            None
        );
        assert_eq!(
            parse_clap(&clap([704, 1, 576, 1, 100, 1, 0, 1]), 720, 576),
            None
        );
        assert_eq!(parse_clap(&[0; 16], 720, 576), None);
    }

    #[test]
    fn pasp_reduced_zero_is_none() {
        assert_eq!(parse_pasp(&[0, 0, 0, 32, 0, 0, 0, 30]), Some((16, 15)));
        assert_eq!(parse_pasp(&[0, 0, 0, 0, 0, 0, 0, 1]), None);
        assert_eq!(parse_pasp(&[0, 0, 0, 1]), None);
    }
}
