//! The Segment's header elements, parsed from their data read whole into
//! memory (each capped, see [`super`]): SeekHead, Info, Tracks, Chapters,
//! Cues (RFC 9559 §5.1). Element names are RFC 9559's; defaults are the
//! schema's where the demuxer needs one.

use super::ebml::{children, float, int, uint, Header};
use super::ids::*;

/// Most TrackEntries read (more are ignored).
pub const MAX_TRACKS: usize = 128;
/// Most ChapterAtoms read.
pub const MAX_CHAPTERS: usize = 4096;
/// Most Seek entries kept over all SeekHeads.
pub const MAX_SEEKS: usize = 4096;

/// Segment `Info` (RFC 9559 §5.1.2).
#[derive(Debug, Clone)]
pub struct Info {
    /// TimestampScale: ns per timestamp tick (default 1 000 000).
    pub timestamp_scale: u64,
    /// Duration in ticks (a float), if present.
    pub duration: Option<f64>,
}

impl Default for Info {
    fn default() -> Self {
        Info {
            timestamp_scale: 1_000_000,
            duration: None,
        }
    }
}

/// A `Video` element's fields (RFC 9559 §5.1.4.1.28).
#[derive(Debug, Clone, Default)]
pub struct Video {
    pub pixel_width: u64,
    pub pixel_height: u64,
    pub pixel_crop_bottom: Option<u64>,
    pub pixel_crop_top: Option<u64>,
    pub pixel_crop_left: Option<u64>,
    pub pixel_crop_right: Option<u64>,
    pub display_width: Option<u64>,
    pub display_height: Option<u64>,
    /// DisplayUnit: 0 pixels, 1 cm, 2 inches, 3 display aspect ratio, 4 unknown.
    pub display_unit: Option<u64>,
    /// StereoMode (RFC 9559 §5.1.4.1.28.3): 0 mono, 1 side by side, ...
    pub stereo_mode: Option<u64>,
}

/// An `Audio` element's fields (RFC 9559 §5.1.4.1.29).
#[derive(Debug, Clone)]
pub struct Audio {
    /// SamplingFrequency in Hz (default 8000).
    pub sampling_frequency: f64,
    /// Channels (default 1).
    pub channels: u64,
    pub bit_depth: Option<u64>,
}

impl Default for Audio {
    fn default() -> Self {
        Audio {
            sampling_frequency: 8000.0,
            channels: 1,
            bit_depth: None,
        }
    }
}

/// A `TrackEntry` (RFC 9559 §5.1.4.1).
#[derive(Debug, Clone, Default)]
pub struct TrackEntry {
    pub track_number: u64,
    /// TrackType: 1 video, 2 audio, ...
    pub track_type: u64,
    pub codec_id: String,
    pub codec_private: Option<Vec<u8>>,
    /// DefaultDuration in ns.
    pub default_duration: Option<u64>,
    /// CodecDelay in ns.
    pub codec_delay: Option<u64>,
    pub video: Option<Video>,
    pub audio: Option<Audio>,
    /// ContentCompSettings of a header-stripping ContentCompression
    /// (ContentCompAlgo 3, RFC 9559 §5.1.4.1.31.6): bytes removed from the
    /// start of every frame, put back by the demuxer.
    pub stripped_header: Option<Vec<u8>>,
}

/// SeekHead → (SeekID, SeekPosition) entries (RFC 9559 §5.1.1).
pub fn seek_entries(d: &[u8], base: u64, out: &mut Vec<(u32, u64)>) {
    for (h, seek) in children(d, base) {
        if h.id != ID_SEEK || out.len() >= MAX_SEEKS {
            continue;
        }
        let (mut id, mut pos) = (None, None);
        for (c, v) in children(seek, h.data) {
            match c.id {
                ID_SEEKID if v.len() <= 4 => id = uint(v).map(|x| x as u32),
                ID_SEEKPOSITION => pos = uint(v),
                _ => {}
            }
        }
        if let (Some(i), Some(p)) = (id, pos) {
            out.push((i, p));
        }
    }
}

pub fn info(d: &[u8], base: u64) -> Info {
    let mut i = Info::default();
    for (h, v) in children(d, base) {
        match h.id {
            ID_TIMESTAMPSCALE => {
                if let Some(s) = uint(v).filter(|&s| s > 0) {
                    i.timestamp_scale = s;
                }
            }
            ID_DURATION => i.duration = float(v),
            _ => {}
        }
    }
    i
}

fn string(v: &[u8]) -> String {
    // EBML strings may be zero-padded (RFC 8794 §7.4).
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

pub fn tracks(d: &[u8], base: u64) -> Vec<TrackEntry> {
    let mut out = Vec::new();
    for (h, entry) in children(d, base) {
        if h.id != ID_TRACKENTRY {
            continue;
        }
        if out.len() >= MAX_TRACKS {
            break;
        }
        let mut t = TrackEntry::default();
        for (c, v) in children(entry, h.data) {
            match c.id {
                ID_TRACKNUMBER => t.track_number = uint(v).unwrap_or(0),
                ID_TRACKTYPE => t.track_type = uint(v).unwrap_or(0),
                ID_CODECID => t.codec_id = string(v),
                ID_CODECPRIVATE => t.codec_private = Some(v.to_vec()),
                ID_DEFAULTDURATION => t.default_duration = uint(v).filter(|&x| x > 0),
                ID_CODECDELAY => t.codec_delay = uint(v),
                ID_VIDEO => t.video = Some(video(v, c.data)),
                ID_AUDIO => t.audio = Some(audio(v, c.data)),
                ID_CONTENTENCODINGS => t.stripped_header = stripped_header(v, c.data),
                _ => {}
            }
        }
        if t.track_number > 0 {
            out.push(t);
        }
    }
    out
}

fn video(d: &[u8], base: u64) -> Video {
    let mut v = Video::default();
    for (h, x) in children(d, base) {
        let n = uint(x);
        match h.id {
            ID_PIXELWIDTH => v.pixel_width = n.unwrap_or(0),
            ID_PIXELHEIGHT => v.pixel_height = n.unwrap_or(0),
            ID_PIXELCROPBOTTOM => v.pixel_crop_bottom = n,
            ID_PIXELCROPTOP => v.pixel_crop_top = n,
            ID_PIXELCROPLEFT => v.pixel_crop_left = n,
            ID_PIXELCROPRIGHT => v.pixel_crop_right = n,
            ID_DISPLAYWIDTH => v.display_width = n.filter(|&x| x > 0),
            ID_DISPLAYHEIGHT => v.display_height = n.filter(|&x| x > 0),
            ID_DISPLAYUNIT => v.display_unit = n,
            ID_STEREOMODE => v.stereo_mode = n,
            _ => {}
        }
    }
    v
}

fn audio(d: &[u8], base: u64) -> Audio {
    let mut a = Audio::default();
    for (h, x) in children(d, base) {
        match h.id {
            ID_SAMPLINGFREQUENCY => {
                if let Some(f) = float(x) {
                    a.sampling_frequency = f;
                }
            }
            ID_CHANNELS => a.channels = uint(x).filter(|&c| c > 0).unwrap_or(1),
            ID_BITDEPTH => a.bit_depth = uint(x).filter(|&b| b > 0),
            _ => {}
        }
    }
    a
}

/// ContentEncodings → the ContentCompSettings of a ContentCompression
/// with ContentCompAlgo 3 (header stripping), if any.
fn stripped_header(d: &[u8], base: u64) -> Option<Vec<u8>> {
    for (h, enc) in children(d, base) {
        if h.id != ID_CONTENTENCODING {
            continue;
        }
        for (c, comp) in children(enc, h.data) {
            if c.id != ID_CONTENTCOMPRESSION {
                continue;
            }
            let (mut algo, mut settings) = (0, None);
            for (g, v) in children(comp, c.data) {
                match g.id {
                    ID_CONTENTCOMPALGO => algo = uint(v).unwrap_or(0),
                    ID_CONTENTCOMPSETTINGS => settings = Some(v.to_vec()),
                    _ => {}
                }
            }
            if algo == 3 {
                return settings;
            }
        }
    }
    None
}

/// A chapter: ChapterTimeStart in ns and the first ChapterDisplay's ChapString.
pub type ChapterAtom = (u64, Option<String>);

/// Chapters (RFC 9559 §5.1.7): the ChapterAtoms of the default EditionEntry
/// (EditionFlagDefault; else the first one not hidden; else the first),
/// without those with ChapterFlagHidden = 1 or ChapterFlagEnabled = 0
/// (§5.1.7.1.4.5–6). Nested ChapterAtoms are not read (a player lists the
/// top level).
pub fn chapters(d: &[u8], base: u64) -> Vec<ChapterAtom> {
    let mut editions = Vec::new();
    for (h, ed) in children(d, base) {
        if h.id != ID_EDITIONENTRY {
            continue;
        }
        let (mut hidden, mut default) = (false, false);
        let mut atoms = Vec::new();
        for (c, v) in children(ed, h.data) {
            match c.id {
                ID_EDITIONFLAGHIDDEN => hidden = uint(v) == Some(1),
                ID_EDITIONFLAGDEFAULT => default = uint(v) == Some(1),
                ID_CHAPTERATOM if atoms.len() < MAX_CHAPTERS => {
                    if let Some(a) = atom(v, c.data) {
                        atoms.push(a);
                    }
                }
                _ => {}
            }
        }
        editions.push((default, hidden, atoms));
    }
    let pick = editions
        .iter()
        .position(|e| e.0)
        .or_else(|| editions.iter().position(|e| !e.1))
        .or((!editions.is_empty()).then_some(0));
    pick.map(|i| editions.swap_remove(i).2).unwrap_or_default()
}

fn atom(d: &[u8], base: u64) -> Option<ChapterAtom> {
    let (mut start, mut title, mut hidden, mut enabled) = (None, None, false, true);
    for (h, v) in children(d, base) {
        match h.id {
            ID_CHAPTERTIMESTART => start = uint(v),
            ID_CHAPTERFLAGHIDDEN => hidden = uint(v) == Some(1),
            ID_CHAPTERFLAGENABLED => enabled = uint(v) != Some(0),
            ID_CHAPTERDISPLAY if title.is_none() => {
                title = children(v, h.data)
                    .find(|(c, _)| c.id == ID_CHAPSTRING)
                    .map(|(_, s)| string(s));
            }
            _ => {}
        }
    }
    (!hidden && enabled).then_some((start?, title))
}

/// Cues (RFC 9559 §5.1.5): per CuePoint and CueTrackPositions, (CueTime ×
/// TimestampScale ns, CueTrack, `seg_data` + CueClusterPosition), sorted
/// by time.
pub fn cues(d: &[u8], base: u64, seg_data: u64, scale: u64) -> Vec<(i64, u32, u64)> {
    let mut out = Vec::new();
    for (h, point) in children(d, base) {
        if h.id != ID_CUEPOINT {
            continue;
        }
        let mut time = None;
        let mut positions = Vec::new();
        for (c, v) in children(point, h.data) {
            match c.id {
                ID_CUETIME => time = uint(v),
                ID_CUETRACKPOSITIONS => {
                    let (mut track, mut cluster) = (None, None);
                    for (g, x) in children(v, c.data) {
                        match g.id {
                            ID_CUETRACK => track = uint(x),
                            ID_CUECLUSTERPOSITION => cluster = uint(x),
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

/// A BlockGroup's children (RFC 9559 §5.1.3.5): the Block (its header and
/// data), whether a ReferenceBlock is there, BlockDuration (ticks),
/// DiscardPadding (ns).
#[derive(Default)]
pub struct Group<'a> {
    pub block: Option<(Header, &'a [u8])>,
    pub has_reference: bool,
    pub duration: Option<u64>,
    pub discard_padding: Option<i64>,
}

pub fn group(d: &[u8], base: u64) -> Group<'_> {
    let mut g = Group::default();
    for (h, v) in children(d, base) {
        match h.id {
            ID_BLOCK if g.block.is_none() => g.block = Some((h, v)),
            ID_REFERENCEBLOCK => g.has_reference = true,
            ID_BLOCKDURATION => g.duration = uint(v),
            ID_DISCARDPADDING => g.discard_padding = int(v),
            _ => {}
        }
    }
    g
}
