//! Lossless codecs must decode bit-exactly: FLAC, ALAC and PCM versions of
//! a corpus track are made with ffmpeg into a temporary folder (Matroska,
//! and MP4 / QuickTime where the codec has a sample entry) and our decode
//! through vreq_container + AudioDecoder must equal ffmpeg's decode of the
//! same file, sample for sample, as f32.

mod common;

use common::*;

/// (output name, ffmpeg encoding options)
const CASES: &[(&str, &[&str])] = &[
    ("flac16.mkv", &["-c:a", "flac", "-sample_fmt", "s16"]),
    ("flac24.mkv", &["-c:a", "flac", "-sample_fmt", "s32"]),
    // FLAC in MP4 is "experimental" to ffmpeg 5.1's muxer.
    (
        "flac16.mp4",
        &["-c:a", "flac", "-sample_fmt", "s16", "-strict", "-2"],
    ),
    ("alac16.m4a", &["-c:a", "alac", "-sample_fmt", "s16p"]),
    ("alac24.m4a", &["-c:a", "alac", "-sample_fmt", "s32p"]),
    ("alac16.mkv", &["-c:a", "alac", "-sample_fmt", "s16p"]),
    ("s16le.mkv", &["-c:a", "pcm_s16le"]),
    ("s24le.mkv", &["-c:a", "pcm_s24le"]),
    ("f32le.mkv", &["-c:a", "pcm_f32le"]),
    ("s16le.mov", &["-c:a", "pcm_s16le"]),
    ("s16be.mov", &["-c:a", "pcm_s16be"]),
    ("s24le.mov", &["-c:a", "pcm_s24le"]),
    ("f32le.mov", &["-c:a", "pcm_f32le"]),
];

#[test]
fn lossless_is_bit_exact_with_ffmpeg() {
    let src = signal_source();
    let dir = std::env::temp_dir().join(format!("vreq-audio-lossless-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (name, opts) in CASES {
        let out = dir.join(name);
        let mut args = vec![
            "-i",
            src.to_str().unwrap(),
            "-map",
            "0:a:0",
            "-ss",
            "3",
            "-t",
            "4",
        ];
        args.extend_from_slice(opts);
        ffmpeg_make(&args, &out);
        let reference = ffmpeg_f32(&out, 0, &[]);
        assert!(
            peak(&reference) > 0.01,
            "{name}: the source is silent, the test would prove nothing"
        );
        match decode_track(&out, 0) {
            Ok(d) => {
                let same = d.samples.len() == reference.len()
                    && d.samples
                        .iter()
                        .zip(&reference)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                let first_diff = d
                    .samples
                    .iter()
                    .zip(&reference)
                    .position(|(a, b)| a.to_bits() != b.to_bits());
                eprintln!(
                    "{name:<12} {:<10} {} / {} samples, {}",
                    d.codec,
                    d.samples.len(),
                    reference.len(),
                    if same {
                        "bit-exact".to_string()
                    } else {
                        format!("first difference at sample {first_diff:?}")
                    }
                );
                if !same {
                    failures.push(format!(
                        "{name}: {} vs ffmpeg {} samples, first difference at {first_diff:?}",
                        d.samples.len(),
                        reference.len()
                    ));
                }
                if d.corrupt > 0 {
                    failures.push(format!("{name}: {} corrupt packets", d.corrupt));
                }
            }
            Err(e) => {
                eprintln!("{name:<12} {e:?}");
                failures.push(format!("{name}: {e:?}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
