//! `Demuxer::seek` against a full linear pass, per container: MP4 (plain
//! and fragmented), Matroska with and without Cues, WebM (VP8, VP9 with and
//! without Cues), IVF. For 50 targets from a seeded xorshift the first packet
//! of the video track after `seek` must be a keyframe, the **last** keyframe
//! with pts ≤ target (the first keyframe when none is), as the linear pass
//! finds it; the video packets after it must be the linear pass's packets
//! from that keyframe on (same pts, same bytes). Time per seek is printed.
//!
//! Inputs: the shared corpus, and tests/data/container/ (made by
//! `make-fragmented.sh` and `make-seek.sh` with ffmpeg).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vreq_container::{self as container, Demuxer, Packet};
use vreq_testkit::{media_dir, repo_dir, xorshift};

fn data(name: &str) -> PathBuf {
    repo_dir().join("tests/data/container").join(name)
}

fn media(name: &str) -> PathBuf {
    media_dir().join(name)
}

/// One clip per row: (what it exercises, path).
fn clips() -> Vec<(&'static str, PathBuf)> {
    vec![
        (
            "mp4 h264+aac, 6 keyframes",
            media("debian-src-firefox-esr/gizmo.mp4"),
        ),
        (
            "fragmented mp4, moof per keyframe",
            data("frag-test-25fps.mp4"),
        ),
        ("fragmented mp4, B-frames", data("frag-foreman-2s.mp4")),
        (
            "mkv h264+aac, Cues",
            media("debian-src-qt6-multimedia/15s.mkv"),
        ),
        ("mkv h264+aac, no Cues, B-frames", data("nocues-h264.mkv")),
        ("mkv with chapters, B-frames", data("chapters-h264.mkv")),
        ("mp4 with chapters, B-frames", data("chapters-h264.mp4")),
        (
            "mkv h264+aac, 3 clusters",
            media("remuxed-by-us/balle-jbart.h264.mkv"),
        ),
        (
            "webm vp8, Cues",
            media("debian-src-firefox-esr/webgl-npot-video.vp8.webm"),
        ),
        (
            "webm vp8+vorbis",
            media("debian-src-firefox-esr/bunny.webm"),
        ),
        ("webm vp9, Cues", data("vp9-kf25.webm")),
        ("webm vp9, no Cues", data("nocues-vp9-kf25.webm")),
        ("ivf vp8", media("crates-cros-codecs/test-25fps.vp8.ivf")),
        ("ivf vp9", media("crates-cros-codecs/test-25fps.vp9.ivf")),
    ]
}

fn open(path: &Path) -> Box<dyn Demuxer + Send> {
    container::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Every packet of the file, in order (a read error fails the test).
fn linear(path: &Path) -> Vec<Packet> {
    let mut d = open(path);
    let mut out = Vec::new();
    while let Some(p) = d
        .next_packet()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        out.push(p);
    }
    out
}

/// The next packet of `track` (other tracks' packets are returned in `others`).
fn next_of(d: &mut dyn Demuxer, track: u32, others: &mut Vec<Packet>) -> Option<Packet> {
    for _ in 0..1_000_000 {
        let p = d.next_packet().expect("packet after seek")?;
        if p.track == track {
            return Some(p);
        }
        others.push(p);
    }
    panic!("no packet of track {track} in 1 000 000");
}

#[test]
fn seek_lands_on_last_keyframe_at_or_before_target() {
    let mut report = Vec::new();
    for (what, path) in clips() {
        let all = linear(&path);
        let d0 = open(&path);
        let track = d0
            .tracks()
            .iter()
            .find(|t| t.codec.kind().is_some())
            .unwrap_or_else(|| panic!("{}: no video track", path.display()))
            .id;
        let audio = d0.tracks().iter().find(|t| t.audio.is_some()).map(|t| t.id);
        drop(d0);
        let video: Vec<&Packet> = all.iter().filter(|p| p.track == track).collect();
        let keys: Vec<(usize, i64)> = video
            .iter()
            .enumerate()
            .filter(|(_, p)| p.keyframe)
            .map(|(i, p)| (i, p.pts_ns.expect("video pts")))
            .collect();
        assert!(!keys.is_empty(), "{}: no keyframe", path.display());
        let last_pts = video.iter().filter_map(|p| p.pts_ns).max().unwrap();
        let lo = -500_000_000i64;
        let span = (last_pts + 1_000_000_000 - lo) as u64;
        let mut rng = 0x5eed_0000_0000_0001u64 ^ path.to_string_lossy().len() as u64;
        let mut d = open(&path);
        let (mut total, mut worst) = (Duration::ZERO, Duration::ZERO);
        let mut distinct = std::collections::BTreeSet::new();
        for n in 0..50 {
            let target = lo + (xorshift(&mut rng) % span) as i64;
            // The last keyframe (largest pts) at or before the target; the
            // first keyframe (decode order) when none is.
            let want = keys
                .iter()
                .filter(|k| k.1 <= target)
                .max_by_key(|k| (k.1, k.0))
                .copied()
                .unwrap_or(keys[0]);
            let t0 = Instant::now();
            d.seek(track, target)
                .unwrap_or_else(|e| panic!("{}: seek {target}: {e}", path.display()));
            let dt = t0.elapsed();
            total += dt;
            worst = worst.max(dt);
            let mut others = Vec::new();
            let first = next_of(d.as_mut(), track, &mut others)
                .unwrap_or_else(|| panic!("{what}: nothing after seek to {target} ns"));
            assert!(
                first.keyframe && first.pts_ns == Some(want.1),
                "{what} ({}), seek #{n} to {target} ns: first video packet pts {:?} key {}, \
                 want the keyframe at {} ns (linear pass)",
                path.display(),
                first.pts_ns,
                first.keyframe,
                want.1
            );
            distinct.insert(want.1);
            // The packets after it are the linear pass's, in order.
            let mut got = vec![first];
            for _ in 0..7 {
                match next_of(d.as_mut(), track, &mut others) {
                    Some(p) => got.push(p),
                    None => break,
                }
            }
            let expect = &video[want.0..(want.0 + got.len()).min(video.len())];
            assert_eq!(
                got.len(),
                expect.len(),
                "{what}: packets after seek to {target}"
            );
            for (g, e) in got.iter().zip(expect) {
                assert!(
                    g.pts_ns == e.pts_ns && g.data == e.data && g.keyframe == e.keyframe,
                    "{what}: after seek to {target} ns: packet pts {:?} differs from the \
                     linear pass's {:?}",
                    g.pts_ns,
                    e.pts_ns
                );
            }
            // Audio resumes near the keyframe (within 1 s).
            if let Some(a) = audio {
                let first_audio = others.iter().find(|p| p.track == a).and_then(|p| p.pts_ns);
                if let Some(ap) = first_audio {
                    assert!(
                        (ap - want.1).abs() <= 1_000_000_000,
                        "{what}: after seek to {target} ns audio resumes at {ap} ns, keyframe {}",
                        want.1
                    );
                }
            }
        }
        assert!(
            keys.len() < 2 || distinct.len() >= 2,
            "{what}: 50 targets reached only {distinct:?}"
        );
        report.push(format!(
            "{what:38} {:3} keyframes, {:2} distinct landings, seek mean {:8.1} µs max {:8.1} µs",
            keys.len(),
            distinct.len(),
            total.as_secs_f64() * 1e6 / 50.0,
            worst.as_secs_f64() * 1e6
        ));
    }
    for l in report {
        println!("{l}");
    }
}

/// `duration_ns` is the container's (header) duration: within 100 ms of the
/// end of the last packet the linear pass gives (pts + duration).
#[test]
fn duration_matches_the_packets() {
    for (what, path) in clips() {
        let d = open(&path);
        let dur = d
            .duration_ns()
            .unwrap_or_else(|| panic!("{what}: no duration"));
        let end = linear(&path)
            .iter()
            .filter_map(|p| Some(p.pts_ns? + p.duration_ns.unwrap_or(0) as i64))
            .max()
            .unwrap();
        println!("{what:38} duration {dur} ns, last packet end {end} ns");
        assert!(
            (dur - end).abs() <= 100_000_000,
            "{what}: duration {dur} ns, packets end at {end} ns"
        );
    }
}

/// The chapters `make-seek.sh` wrote (its FFMETADATA input), read back
/// from Matroska (ChapterAtoms) and MP4 (Nero `chpl`).
#[test]
fn chapters() {
    let want = vec![
        (0, Some("Opening".to_string())),
        (4_500_000_000, Some("Middle".to_string())),
        (10_000_000_000, Some("End".to_string())),
    ];
    for name in ["chapters-h264.mkv", "chapters-h264.mp4"] {
        let d = open(&data(name));
        let got: Vec<(i64, Option<String>)> = d
            .chapters()
            .iter()
            .map(|c| (c.start_ns, c.title.clone()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
    assert!(open(&data("nocues-h264.mkv")).chapters().is_empty());
    assert!(open(&media("debian-src-firefox-esr/gizmo.mp4"))
        .chapters()
        .is_empty());
}

/// Damaged files (cut in half, or 64 bytes flipped in the second half):
/// seeking anywhere and reading a few packets after gives packets or clear
/// errors, never a panic or a hang.
#[test]
fn seeking_in_damaged_files_is_an_error_not_a_panic() {
    for (what, path) in clips() {
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        let mut rng = 0xdead_beefu64;
        let cut = vreq_testkit::damaged_copy(&path, "half", |d| d.truncate(len / 2));
        let flipped = vreq_testkit::damaged_copy(&path, "flipped", |d| {
            for _ in 0..64 {
                let at = len / 2 + (xorshift(&mut rng) as usize) % (len / 2);
                d[at] ^= 0xff;
            }
        });
        for damaged in [cut, flipped] {
            let Ok(mut d) = container::open(&damaged) else {
                continue;
            };
            let Some(track) = d
                .tracks()
                .iter()
                .find(|t| t.codec.kind().is_some())
                .map(|t| t.id)
            else {
                continue;
            };
            let t0 = Instant::now();
            for target in [0, 1_000_000_000, 4_000_000_000, 9_000_000_000, i64::MAX / 2] {
                if d.seek(track, target).is_ok() {
                    for _ in 0..20 {
                        match d.next_packet() {
                            Ok(Some(_)) | Err(_) => {}
                            Ok(None) => break,
                        }
                    }
                }
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{what} ({}): {:?}",
                damaged.display(),
                t0.elapsed()
            );
        }
    }
}

/// MP4: after a seek the audio track resumes with the sample playing at
/// the keyframe's time (pts ≤ keyframe < pts + duration), whatever the
/// interleave, as the sample tables say.
#[test]
fn mp4_audio_resumes_at_the_keyframe_time() {
    for path in [
        media("debian-src-firefox-esr/gizmo.mp4"),
        data("chapters-h264.mp4"),
    ] {
        let mut d = open(&path);
        let video = d
            .tracks()
            .iter()
            .find(|t| t.codec.kind().is_some())
            .unwrap()
            .id;
        let audio = d.tracks().iter().find(|t| t.audio.is_some()).unwrap().id;
        let mut rng = 0x000a_0d10_u64;
        for _ in 0..20 {
            let target = (xorshift(&mut rng) % 5_000_000_000) as i64;
            d.seek(video, target).unwrap();
            let mut others = Vec::new();
            let key = next_of(d.as_mut(), video, &mut others).unwrap();
            let k = key.pts_ns.unwrap();
            let a = match others.into_iter().find(|p| p.track == audio) {
                Some(a) => a,
                None => next_of(d.as_mut(), audio, &mut Vec::new()).unwrap(),
            };
            let (ap, ad) = (a.pts_ns.unwrap(), a.duration_ns.unwrap() as i64);
            assert!(
                ap <= k.max(0) && k.max(0) < ap + ad,
                "{}: keyframe {k} ns, first audio [{ap}, {})",
                path.display(),
                ap + ad
            );
        }
    }
}
