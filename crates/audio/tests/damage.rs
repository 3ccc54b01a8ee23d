//! Bad input: every corpus audio track's packets, with bytes flipped,
//! truncated or replaced by noise, go through AudioDecoder. Nothing may
//! panic out of `decode`, every bad packet is `Ok` or `Err(Corrupt)` (never
//! another error), the run is bounded in time, and the clean packets after
//! the damage decode again.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use vreq_audio::decode::{AudioDecoder, AudioError};
use vreq_container::Packet;
use vreq_testkit::xorshift;

static CAUGHT_PANICS: AtomicUsize = AtomicUsize::new(0);

/// The corpus files with audio, from the goldens' `file` / `stream` lines.
fn tracks() -> Vec<(String, usize)> {
    let dir = repo_root().join("tests/golden/audio");
    let mut v: Vec<(String, usize)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).ok()?;
            let get = |k: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(k)?.strip_prefix('\t'))
                    .map(str::to_string)
            };
            Some((
                get("file")?,
                get("stream")?.trim_start_matches("a:").parse().ok()?,
            ))
        })
        .collect();
    v.sort();
    v
}

fn damage(p: &Packet, kind: u32, rng: &mut u64) -> Packet {
    let mut q = p.clone();
    let n = q.data.len();
    match kind {
        // Flip 1..8 random bits.
        0 => {
            for _ in 0..=(xorshift(rng) % 8) {
                if n > 0 {
                    let i = (xorshift(rng) % n as u64) as usize;
                    q.data[i] ^= 1 << (xorshift(rng) % 8);
                }
            }
        }
        // Truncate.
        1 => q.data.truncate((xorshift(rng) % (n as u64 + 1)) as usize),
        // Noise of the same length.
        2 => q.data.iter_mut().for_each(|b| *b = xorshift(rng) as u8),
        // Empty, or one byte.
        _ => q.data.truncate((xorshift(rng) % 2) as usize),
    }
    q
}

#[test]
fn damaged_packets_are_skipped_never_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        CAUGHT_PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let media = vreq_testkit::media_dir();
    let mut failures = Vec::new();
    let mut tested = 0;
    for (file, n) in tracks() {
        let path = media.join(&file);
        let Ok((mut dmx, track)) = audio_track(&path, n) else {
            continue; // the corpus test reports tracks the container lacks
        };
        let Ok(mut dec) = AudioDecoder::new(&track) else {
            continue; // and refused codecs
        };
        let mut packets = Vec::new();
        while let Some(p) = dmx.next_packet().unwrap() {
            if p.track == track.id {
                packets.push(p);
            }
        }
        tested += 1;
        let start = Instant::now();
        let mut rng = 0x9E37_79B9_7F4A_7C15 ^ packets.len() as u64;
        let (mut corrupt, mut ok) = (0usize, 0usize);
        for kind in 0..4 {
            dec.reset();
            for (i, p) in packets.iter().enumerate() {
                // Every third packet damaged, the rest clean.
                let q = if i % 3 == 1 {
                    damage(p, kind, &mut rng)
                } else {
                    p.clone()
                };
                match dec.decode(&q) {
                    Ok(_) => ok += 1,
                    Err(AudioError::Corrupt { byte_offset, .. }) => {
                        corrupt += 1;
                        if byte_offset != p.byte_offset {
                            failures.push(format!(
                                "{file}: Corrupt names byte {byte_offset}, packet is at {}",
                                p.byte_offset
                            ));
                        }
                    }
                    Err(e) => failures.push(format!("{file}: damaged packet gave {e}")),
                }
            }
        }
        // Clean packets after the damage: the decoder is usable again.
        dec.reset();
        let tail = &packets[packets.len().saturating_sub(40)..];
        let mut out = 0;
        for p in tail {
            if let Ok(Some(pcm)) = dec.decode(p) {
                out += pcm.frames();
            }
        }
        if out == 0 {
            failures.push(format!(
                "{file}: no output from clean packets after the damage"
            ));
        }
        let took = start.elapsed();
        eprintln!(
            "{file} a:{n} {}: {} packets x 4 rounds, {corrupt} corrupt / {ok} ok, {took:?}",
            dec.codec_name(),
            packets.len()
        );
        if took > Duration::from_secs(60) {
            failures.push(format!("{file}: {took:?} for the damaged runs"));
        }
    }
    let panics = CAUGHT_PANICS.load(Ordering::SeqCst);
    eprintln!("{tested} tracks; panics seen by the hook: {panics}");
    assert_eq!(panics, 0, "a decoder panicked");
    assert!(tested >= 15, "only {tested} tracks tested");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
