//! Every audio stream of the shared corpus through vreq_container +
//! AudioDecoder, against ffmpeg: the sample count against the committed
//! golden (`tests/golden/audio/*.tsv`, made by `scripts/gen-audio-goldens.sh`
//! from ffmpeg's output only), the signal against ffmpeg's decode run now.

mod common;

use std::collections::BTreeMap;

use common::*;
use vreq_audio::decode::AudioError;

struct Golden {
    file: String,
    stream: usize,
    codec: String,
    sample_rate: u32,
    channels: u16,
    frames: u64,
}

fn goldens() -> Vec<Golden> {
    let dir = repo_root().join("tests/golden/audio");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let kv: BTreeMap<&str, &str> =
                text.lines().filter_map(|l| l.split_once('\t')).collect();
            let g = |k: &str| {
                *kv.get(k)
                    .unwrap_or_else(|| panic!("{}: no {k}", p.display()))
            };
            Golden {
                file: g("file").to_string(),
                stream: g("stream").trim_start_matches("a:").parse().unwrap(),
                codec: g("codec").to_string(),
                sample_rate: g("sample_rate").parse().unwrap(),
                channels: g("channels").parse().unwrap(),
                frames: g("frames").parse().unwrap(),
            }
        })
        .collect()
}

/// Streams we refuse, and why (the player says "audio: <codec> not
/// supported, playing without sound"). Kept exact: a stream listed here
/// that decodes fails the test too.
const UNSUPPORTED: &[(&str, &str)] = &[
    // None today: the corpus's 5.1 AAC (bigbuckbunny.mp4) and 5.1 Vorbis
    // (simple.mkv) decode through the patched symphonia crates
    // (third_party/symphonia-PATCHES.md); before, symphonia 0.6.1 refused
    // AAC with more than two channels and got 5.1 Vorbis wrong (3 to 9 dB
    // SNR per channel against libvorbis).
];

/// SNR (dB) our decode must reach against ffmpeg's, per codec, and why.
fn min_snr_db(codec: &str) -> f64 {
    match codec {
        "opus" => OPUS_MIN_SNR_DB,
        _ => 60.0,
    }
}

/// ffmpeg's decoder options for the live comparison: Opus through ffmpeg's
/// libopus wrapper asking for float output (its default is s16), the same
/// library we call.
fn peer_opts(codec: &str) -> &'static [&'static str] {
    match codec {
        "opus" => &["-c:a", "libopus", "-request_sample_fmt", "flt"],
        _ => &[],
    }
}

#[test]
fn corpus_audio_matches_ffmpeg() {
    let media = vreq_testkit::media_dir();
    let gs = goldens();
    assert!(gs.len() >= 20, "only {} goldens", gs.len());
    let mut failures = Vec::new();
    let mut padded_streams = 0;
    let mut table = vec![format!(
        "{:<62} {:>4} {:<7} {:>17} {:>10}",
        "file", "a:N", "codec", "frames ours/ffmpeg", "SNR dB"
    )];
    for g in &gs {
        let path = media.join(&g.file);
        let expect_unsup = UNSUPPORTED.iter().find(|(f, _)| *f == g.file).map(|x| x.1);
        let d = match decode_track(&path, g.stream) {
            Err(Fail::Audio(AudioError::Unsupported { codec })) => {
                table.push(format!(
                    "{:<62} {:>4} {:<7} {:>17} {:>10}",
                    g.file,
                    g.stream,
                    g.codec,
                    "-",
                    format!("unsupported: {codec}")
                ));
                if expect_unsup != Some(codec.as_str()) {
                    failures.push(format!("{} a:{}: unsupported {codec}", g.file, g.stream));
                }
                continue;
            }
            Err(e) => {
                table.push(format!(
                    "{:<62} {:>4} {:<7} {e:?}",
                    g.file, g.stream, g.codec
                ));
                failures.push(format!("{} a:{}: {e:?}", g.file, g.stream));
                continue;
            }
            Ok(d) => d,
        };
        if let Some(u) = expect_unsup {
            failures.push(format!(
                "{} a:{}: listed unsupported ({u}) but decodes",
                g.file, g.stream
            ));
        }
        let ch = usize::from(d.channels.max(1));
        let frames = (d.samples.len() / ch) as u64;
        let reference = ffmpeg_f32(&path, g.stream, peer_opts(&g.codec));
        let matroska = g.file.ends_with(".mkv") || g.file.ends_with(".webm");
        // Matroska `DiscardPadding`, which ffmpeg drops from the end and so
        // do we (`Packet::discard_padding_ns`): shown, and counted so that
        // the test knows the corpus exercised it.
        let padding = if matroska {
            ffprobe_discard_padding(&path, g.stream)
        } else {
            0
        };
        padded_streams += usize::from(padding > 0);
        let ff_len = reference.len() as u64;
        let snr = snr_db(&d.samples, &reference);
        table.push(format!(
            "{:<62} {:>4} {:<7} {:>8}/{:<8} {:>10} {}",
            g.file,
            g.stream,
            d.codec,
            frames,
            g.frames,
            if peak(&reference) == 0.0 {
                // balle-jbart's track is digital silence: equality proves
                // little beyond the sample count.
                "silent".to_string()
            } else if snr.is_infinite() {
                "bit-exact".to_string()
            } else {
                format!("{snr:.1}")
            },
            match padding {
                0 => String::new(),
                e => format!("({e} DiscardPadding frames dropped)"),
            }
        ));
        if d.codec != g.codec {
            failures.push(format!(
                "{}: codec {} vs ffprobe {}",
                g.file, d.codec, g.codec
            ));
        }
        if (d.sample_rate, d.channels) != (g.sample_rate, g.channels) {
            failures.push(format!(
                "{}: {} Hz x {} vs ffmpeg {} Hz x {}",
                g.file, d.sample_rate, d.channels, g.sample_rate, g.channels
            ));
        }
        if frames != g.frames {
            failures.push(format!(
                "{}: {frames} frames vs ffmpeg {}",
                g.file, g.frames
            ));
        }
        if ff_len != g.frames * u64::from(g.channels) {
            failures.push(format!(
                "{}: ffmpeg now gives {} samples, the golden says {} frames x {}: regenerate goldens?",
                g.file,
                ff_len,
                g.frames,
                g.channels
            ));
        }
        if d.corrupt > 0 {
            failures.push(format!(
                "{}: {} corrupt packets in a clean file",
                g.file, d.corrupt
            ));
        }
        let min = min_snr_db(&g.codec);
        if snr < min {
            failures.push(format!(
                "{} a:{}: SNR {snr:.1} dB < {min} dB",
                g.file, g.stream
            ));
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        padded_streams > 0,
        "no corpus stream has DiscardPadding: the end trim went untested"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
