//! Shared by the audio host tests: ffmpeg as the peer decoder, our decode of
//! a file's Nth audio track, and the comparison figures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use vreq_audio::decode::{AudioDecoder, AudioError};
use vreq_container::{TrackCodec, TrackInfo};

/// ffmpeg's decode of audio stream `a:n` of `file` as interleaved f32
/// (`ffmpeg -v error -i FILE -map 0:a:N -f f32le -`), with extra input
/// options (`-c:a libopus`, ...) before `-i`. Panics when ffmpeg is missing
/// or fails: the comparison cannot be skipped silently.
pub fn ffmpeg_f32(file: &Path, n: usize, input_opts: &[&str]) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error"])
        .args(input_opts)
        .arg("-i")
        .arg(file)
        .args(["-map", &format!("0:a:{n}"), "-f", "f32le", "-"])
        .output()
        .unwrap_or_else(|e| {
            panic!("ffmpeg not runnable ({e}): install it with scripts/setup-host.sh")
        });
    assert!(
        out.status.success(),
        "ffmpeg failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Runs ffmpeg to make a file (the lossless tests' inputs).
pub fn ffmpeg_make(args: &[&str], out: &Path) {
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .unwrap_or_else(|e| {
            panic!("ffmpeg not runnable ({e}): install it with scripts/setup-host.sh")
        });
    assert!(st.success(), "ffmpeg {args:?} {} failed", out.display());
}

/// What our decoder made of one track.
pub struct Decoded {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<f32>,
    pub corrupt: usize,
    /// pts of the first output, ns.
    pub first_pts_ns: Option<i64>,
}

/// The `n`th audio track of `file` (container order, which is ffmpeg's
/// `0:a:N` order for the corpus).
pub fn audio_track(
    file: &Path,
    n: usize,
) -> Result<(Box<dyn vreq_container::Demuxer + Send>, TrackInfo), String> {
    let dmx = vreq_container::open(file).map_err(|e| e.to_string())?;
    let t = dmx
        .tracks()
        .iter()
        .filter(|t| matches!(t.codec, TrackCodec::Audio(_)))
        .nth(n)
        .cloned()
        .ok_or_else(|| {
            format!(
                "{}: no audio track #{n} from vreq_container (tracks: {:?})",
                file.display(),
                dmx.tracks().iter().map(|t| &t.codec).collect::<Vec<_>>()
            )
        })?;
    Ok((dmx, t))
}

/// Why a track did not decode at all.
#[derive(Debug)]
pub enum Fail {
    /// The container gave no such audio track.
    NoTrack(String),
    /// `AudioDecoder::new` refused it.
    Audio(AudioError),
}

/// Decodes the `n`th audio track of `file` through vreq_container and
/// [`AudioDecoder`].
pub fn decode_track(file: &Path, n: usize) -> Result<Decoded, Fail> {
    let (mut dmx, t) = audio_track(file, n).map_err(Fail::NoTrack)?;
    let mut dec = AudioDecoder::new(&t).map_err(Fail::Audio)?;
    let mut d = Decoded {
        codec: dec.codec_name().to_string(),
        sample_rate: 0,
        channels: 0,
        samples: Vec::new(),
        corrupt: 0,
        first_pts_ns: None,
    };
    while let Some(p) = dmx.next_packet().unwrap_or_else(|e| panic!("{e}")) {
        if p.track != t.id {
            continue;
        }
        match dec.decode(&p) {
            Ok(Some(pcm)) => {
                if d.channels == 0 {
                    d.sample_rate = pcm.sample_rate;
                    d.channels = pcm.channels;
                    d.first_pts_ns = pcm.pts_ns;
                }
                assert_eq!(
                    (pcm.sample_rate, pcm.channels),
                    (d.sample_rate, d.channels),
                    "{}: format changed mid-stream",
                    file.display()
                );
                d.samples.extend(pcm.samples);
            }
            Ok(None) => {}
            Err(AudioError::Corrupt { .. }) => d.corrupt += 1,
            Err(e) => panic!("{}: {e}", file.display()),
        }
    }
    Ok(d)
}

/// SNR of `ours` against `reference` in dB over their common length
/// (infinite when equal). A silent reference gives 0 signal: then the SNR
/// is infinite only if ours is silent too, else −∞ (callers that need a
/// signal check [`peak`] first).
pub fn snr_db(ours: &[f32], reference: &[f32]) -> f64 {
    let n = ours.len().min(reference.len());
    let (mut sig, mut err) = (0f64, 0f64);
    for i in 0..n {
        let r = f64::from(reference[i]);
        sig += r * r;
        err += (f64::from(ours[i]) - r).powi(2);
    }
    if err == 0.0 {
        f64::INFINITY
    } else if sig == 0.0 {
        f64::NEG_INFINITY
    } else {
        10.0 * (sig / err).log10()
    }
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Largest |sample|.
pub fn peak(s: &[f32]) -> f32 {
    s.iter().fold(0f32, |m, v| m.max(v.abs()))
}

/// A corpus track with signal all through (stereo AAC, 48 kHz, −16.5 dBFS
/// RMS), the source the lossless and generated tests encode from.
pub fn signal_source() -> PathBuf {
    vreq_testkit::media_dir().join("debian-src-qt6-multimedia/15s.mkv")
}

/// Samples ffmpeg drops from the end of audio stream `a:n` because of
/// Matroska `DiscardPadding` (ffprobe's `discard_padding` packet side data;
/// FFmpeg `matroskadec.c` → `AV_PKT_DATA_SKIP_SAMPLES`); vreq_container
/// hands it over as `Packet::discard_padding_ns` and the decoder drops it.
pub fn ffprobe_discard_padding(file: &Path, n: usize) -> u64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            &format!("a:{n}"),
            "-show_packets",
        ])
        .args([
            "-show_entries",
            "packet_side_data=discard_padding",
            "-of",
            "default=nw=1",
        ])
        .arg(file)
        .output()
        .expect("ffprobe (scripts/setup-host.sh)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("discard_padding="))
        .map(|v| v.trim().parse::<u64>().unwrap_or(0))
        .sum()
}

/// Opus: the same libopus as ffmpeg's `-c:a libopus` decoder, bit-exact on
/// x86_64, where the goldens were made (scripts/gen-audio-goldens.sh). On
/// other architectures libopus's float decoder takes other SIMD paths (its
/// celt/arm NEON code) and rounds differently: 134.8-143.7 dB measured on
/// aarch64 (trixie's libopus0 under qemu-user, scripts/cross-arm64.sh), so
/// 120 dB there.
pub const OPUS_MIN_SNR_DB: f64 = if cfg!(target_arch = "x86_64") {
    f64::INFINITY
} else {
    120.0
};
