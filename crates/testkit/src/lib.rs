//! Helpers shared by tests (unit and integration): the shared media corpus
//! ([`media_dir`], [`manifest`], [`ivf_frames`]), damaged copies for
//! bad-input tests, [`rbsp::RbspWriter`] for hand-made H.264 / H.265 syntax,
//! and [`fake::FakeDevice`], a decoder device built from a device profile. A
//! dev-dependency only: no product crate links it.

#![forbid(unsafe_code)]

pub mod fake;
pub mod rbsp;

use std::path::PathBuf;

/// The repository's top folder (the workspace root: `tests/`, `scripts/`
/// are below it), whichever crate's test asks.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The frames of an IVF file (a file header whose bytes 6–7, u16
/// little-endian, give its length, then per frame a 12-byte header — size,
/// u32 little-endian, then the 64-bit timestamp — and the frame), in order;
/// a frame cut short by the end of the file is left out. Panics if the file
/// cannot be read or is shorter than 8 bytes.
pub fn ivf_frames(path: &std::path::Path) -> Vec<Vec<u8>> {
    let d = std::fs::read(path).unwrap();
    let hdr = u16::from_le_bytes([d[6], d[7]]) as usize;
    let mut at = hdr;
    let mut out = Vec::new();
    while at + 12 <= d.len() {
        let n = u32::from_le_bytes(d[at..at + 4].try_into().unwrap()) as usize;
        at += 12;
        if at + n > d.len() {
            break;
        }
        out.push(d[at..at + n].to_vec());
        at += n;
    }
    out
}

/// The shared test media folder (`shared/media`, with `MANIFEST.tsv`).
///
/// `$VREQ_MEDIA` if set; else the first `shared/media` found walking up from
/// this crate's directory (the checkout has `shared/` beside it, in CI too).
/// Panics with a clear message if there is none: the tests that call this
/// need the media and must not pass silently without it.
pub fn media_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("VREQ_MEDIA") {
        return PathBuf::from(d);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let cand = dir.join("shared/media");
        if cand.join("MANIFEST.tsv").is_file() {
            return cand;
        }
        if !dir.pop() {
            panic!(
                "shared/media/MANIFEST.tsv not found above {} (set VREQ_MEDIA)",
                env!("CARGO_MANIFEST_DIR")
            );
        }
    }
}

/// One row of `MANIFEST.tsv`.
#[derive(Debug, Clone)]
pub struct MediaEntry {
    /// Path relative to [`media_dir`].
    pub path: String,
    pub codec: String,
    pub profile: String,
    pub bit_depth: u32,
    pub width: u32,
    pub height: u32,
    /// Frames per `ffprobe -count_frames`.
    pub frames: u64,
    pub container: String,
    pub notes: String,
}

/// All rows of `MANIFEST.tsv` (deduplicated by path).
pub fn manifest() -> Vec<MediaEntry> {
    let text =
        std::fs::read_to_string(media_dir().join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut out: Vec<MediaEntry> = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 10 || out.iter().any(|e| e.path == f[0]) {
            continue;
        }
        let (w, h) = f[6].split_once('x').unwrap_or(("0", "0"));
        out.push(MediaEntry {
            path: f[0].to_string(),
            codec: f[3].to_string(),
            profile: f[4].to_string(),
            bit_depth: f[5].parse().unwrap_or(0),
            width: w.parse().unwrap_or(0),
            height: h.parse().unwrap_or(0),
            frames: f[7].parse().unwrap_or(0),
            container: f[8].to_string(),
            notes: f.get(14).unwrap_or(&"").to_string(),
        });
    }
    out
}

/// A deterministic xorshift64 step (shifts 13, 7, 17), so the damage a
/// bad-input test does is the same on every run. Returns the new state.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Writes a damaged copy of `src` (its bytes changed by `f`) to
/// `$TMPDIR/vreqplay-damage-<pid>/<stem>-<tag>.<ext>` and returns that path
/// (the extension is kept so the container is still probed the same way).
/// Panics on I/O errors: for tests only.
pub fn damaged_copy(src: &std::path::Path, tag: &str, f: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut data = std::fs::read(src).unwrap();
    f(&mut data);
    let ext = src.extension().unwrap().to_str().unwrap();
    let dir = std::env::temp_dir().join(format!("vreqplay-damage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!(
        "{}-{tag}.{ext}",
        src.file_stem().unwrap().to_str().unwrap()
    ));
    std::fs::write(&out, data).unwrap();
    out
}

/// The 64 × 48 8-bit stream the fake-device tests configure (visible the
/// whole picture, square pixels, no frame rate), with a DPB of `dpb_size`
/// pictures.
pub fn params_64x48(dpb_size: u32) -> vreq_core::StreamParams {
    vreq_core::StreamParams {
        coded_width: 64,
        coded_height: 48,
        visible: (0, 0, 64, 48),
        bit_depth: 8,
        dpb_size,
        frame_duration_ns: None,
        pixel_aspect: (1, 1),
        color: Default::default(),
    }
}

/// Where a seek to `target` must land (the `Demuxer::seek` contract): the
/// last of the sorted keyframe times `keys` at or before `target`, or the
/// first keyframe when none is. Panics on an empty `keys` (a test setup bug).
pub fn expected_seek_key(keys: &[i64], target: i64) -> i64 {
    keys.iter()
        .copied()
        .filter(|&k| k <= target)
        .max()
        .unwrap_or(keys[0])
}
