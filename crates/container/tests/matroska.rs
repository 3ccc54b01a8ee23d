//! The Matroska / WebM reader on the cases issue 15 names: garbage spliced
//! into a Cluster (packets after it still come out, at least as many as
//! ffprobe's), live WebM (unknown-size Segment and Clusters with 8-byte
//! size fields, no SeekHead, no Cues, no Duration: the same packets as the
//! file it was rewritten from, exact seeks), SeekHead links that loop or
//! point past the end.

use std::path::{Path, PathBuf};
use std::process::Command;

use vreq_container::{self as container, Packet};
use vreq_testkit::{damaged_copy, media_dir, repo_dir, xorshift};

/// Every packet of `path`, errors skipped (counted).
fn packets(path: &Path) -> (Vec<Packet>, usize) {
    let mut d = container::open(path).unwrap_or_else(|e| panic!("{e}"));
    let (mut out, mut errors) = (Vec::new(), 0);
    for _ in 0..1_000_000 {
        match d.next_packet() {
            Ok(Some(p)) => out.push(p),
            Ok(None) => return (out, errors),
            Err(e) => {
                assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
                errors += 1;
            }
        }
    }
    panic!("{}: no end", path.display());
}

/// ffprobe's packet count over all streams of `path` (`-count_packets`).
fn ffprobe_packets(path: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "quiet",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
            "-of",
            "default=nw=1:nk=1",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<usize>().ok())
        .sum()
}

/// An EBML element header in `d` at `p`: (ID, data start, size or None).
fn header(d: &[u8], p: usize) -> (u32, usize, Option<usize>) {
    let il = d[p].leading_zeros() as usize + 1;
    let id = d[p..p + il]
        .iter()
        .fold(0u32, |a, &x| (a << 8) | u32::from(x));
    let q = p + il;
    let sl = d[q].leading_zeros() as usize + 1;
    let mut v = u64::from(d[q]) & (0xff >> sl);
    for &x in &d[q + 1..q + sl] {
        v = (v << 8) | u64::from(x);
    }
    let unknown = v == (1u64 << (7 * sl)) - 1;
    (id, q + sl, (!unknown).then_some(v as usize))
}

const UNKNOWN8: [u8; 8] = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/// `src` rewritten as a live recorder writes it: EBML header, Segment of
/// unknown size (8-byte field), Info without Duration, Tracks, then each
/// Cluster with an unknown size (8-byte field) — no SeekHead, Cues, Void.
fn live_copy(src: &Path) -> PathBuf {
    damaged_copy(src, "live", |d| {
        let (id, data, size) = header(d, 0);
        assert_eq!(id, 0x1A45_DFA3);
        let mut out = d[..data + size.unwrap()].to_vec();
        let (id, seg, _) = header(d, out.len());
        assert_eq!(id, 0x1853_8067);
        out.extend_from_slice(&0x1853_8067u32.to_be_bytes());
        out.extend_from_slice(&UNKNOWN8);
        let mut p = seg;
        while p < d.len() {
            let (id, data, size) = header(d, p);
            let end = data + size.expect("a sized element");
            match id {
                0x1549_A966 => {
                    // Info: its children without Duration (0x4489).
                    let mut body = Vec::new();
                    let mut q = data;
                    while q < end {
                        let (cid, cdata, csize) = header(d, q);
                        let cend = cdata + csize.unwrap();
                        if cid != 0x4489 {
                            body.extend_from_slice(&d[q..cend]);
                        }
                        q = cend;
                    }
                    out.extend_from_slice(&0x1549_A966u32.to_be_bytes());
                    // An 8-byte size field: 0x01 then 7 bytes.
                    out.extend_from_slice(&(body.len() as u64 | 1 << 56).to_be_bytes());
                    out.extend_from_slice(&body);
                }
                0x1654_AE6B => out.extend_from_slice(&d[p..end]),
                0x1F43_B675 => {
                    out.extend_from_slice(&0x1F43_B675u32.to_be_bytes());
                    out.extend_from_slice(&UNKNOWN8);
                    out.extend_from_slice(&d[data..end]);
                }
                _ => {}
            }
            p = end;
        }
        *d = out;
    })
}

fn key(p: &Packet) -> (u32, Option<i64>, bool, Vec<u8>) {
    (p.track, p.pts_ns, p.keyframe, p.data.clone())
}

/// A live WebM / Matroska (unknown sizes with 8-byte fields, no Cues, no
/// Duration, no SeekHead) gives the packets of the file it was rewritten
/// from, its duration is the last frame's end, and seeks land on the last
/// keyframe ≤ target (bisection on Cluster timestamps).
#[test]
fn live_unknown_size_clusters_and_no_cues() {
    for src in [
        repo_dir().join("tests/data/container/vp9-kf25.webm"),
        repo_dir().join("tests/data/container/chapters-h264.mkv"),
        media_dir().join("debian-src-firefox-esr/gizmo.webm"),
    ] {
        let live = live_copy(&src);
        let (want, e0) = packets(&src);
        let (got, e1) = packets(&live);
        assert_eq!((e0, e1), (0, 0), "{}", src.display());
        assert_eq!(
            got.iter().map(key).collect::<Vec<_>>(),
            want.iter().map(key).collect::<Vec<_>>(),
            "{}",
            src.display()
        );
        let d = container::open(&live).unwrap();
        let end = want
            .iter()
            .filter_map(|p| Some(p.pts_ns? + p.duration_ns.unwrap_or(0) as i64))
            .max();
        assert_eq!(d.duration_ns(), end, "{}", live.display());
        // Seeks: the video track's keyframes.
        let track = d.tracks()[0].id;
        let keys: Vec<i64> = want
            .iter()
            .filter(|p| p.track == track && p.keyframe)
            .filter_map(|p| p.pts_ns)
            .collect();
        let mut d = container::open(&live).unwrap();
        let mut rng = 0x6c69_7665u64;
        for _ in 0..30 {
            let target = (xorshift(&mut rng) % (end.unwrap() as u64 + 1)) as i64;
            let want = vreq_testkit::expected_seek_key(&keys, target);
            d.seek(track, target).unwrap();
            let first = std::iter::from_fn(|| d.next_packet().ok().flatten())
                .find(|p| p.track == track)
                .unwrap();
            assert!(
                first.keyframe && first.pts_ns == Some(want),
                "{}: seek to {target}: {:?}, want {want}",
                live.display(),
                first.pts_ns
            );
        }
    }
}

/// 64 KiB of seeded random bytes spliced into a Cluster (at a third, half
/// and three quarters of the file): the file opens, the damage is one or
/// a few errors naming the file, the packets after the splice come out
/// unchanged (each is a packet of the clean file), and there are at least
/// as many as ffprobe counts on the same damaged file.
#[test]
fn spliced_garbage_in_a_cluster() {
    let files = [
        "debian-src-firefox-esr/gizmo.webm",
        "remuxed-by-us/balle-jbart.h264.mkv",
        "debian-src-firefox-esr/bunny.webm",
        "debian-src-firefox-esr/webgl-npot-video.vp8.webm",
        "debian-src-qt6-multimedia/multitrack.mkv",
    ];
    let (mut ours_sum, mut theirs_sum) = (0, 0);
    for f in files {
        let src = media_dir().join(f);
        let (clean, _) = packets(&src);
        let clean_keys: std::collections::HashSet<_> = clean.iter().map(key).collect();
        let len = std::fs::metadata(&src).unwrap().len() as usize;
        for (k, frac) in [(1usize, 3usize), (1, 2), (3, 4)] {
            let at = len * k / frac;
            let mut rng = (len * frac) as u64 | 1;
            let path = damaged_copy(&src, &format!("splice{k}-{frac}"), |d| {
                let garbage: Vec<u8> = (0..64 << 10).map(|_| xorshift(&mut rng) as u8).collect();
                d.splice(at..at, garbage);
            });
            let (got, errors) = packets(&path);
            let theirs = ffprobe_packets(&path);
            eprintln!(
                "{f} splice at {at}: {} packets, {errors} errors; ffprobe {theirs}; clean {}",
                got.len(),
                clean.len()
            );
            assert!(errors >= 1, "{f} at {at}: the damage went unnoticed");
            let after: Vec<&Packet> = got
                .iter()
                .filter(|p| p.byte_offset >= (at + (64 << 10)) as u64)
                .collect();
            assert!(!after.is_empty(), "{f} at {at}: nothing after the splice");
            for p in &after {
                assert!(
                    clean_keys.contains(&key(p)),
                    "{f} at {at}: packet at byte {} is not one of the file's",
                    p.byte_offset
                );
            }
            assert!(
                got.len() >= theirs,
                "{f} at {at}: {} packets, ffprobe {theirs}",
                got.len()
            );
            ours_sum += got.len();
            theirs_sum += theirs;
            std::fs::remove_file(&path).ok();
        }
    }
    eprintln!("spliced: ours {ours_sum}, ffprobe {theirs_sum}");
}

/// The first SeekHead's link to the second one pointed back at itself
/// (a loop) or past the end of the file: the file reads whole.
#[test]
fn seekhead_links_that_loop_or_point_past_the_end() {
    let src = media_dir().join("debian-src-firefox-esr/webgl-npot-video.vp8.webm");
    let bytes = std::fs::read(&src).unwrap();
    let link = [0x53, 0xab, 0x84, 0x11, 0x4d, 0x9b, 0x74, 0x53, 0xac, 0x82];
    let at = bytes
        .windows(link.len())
        .position(|w| w == link)
        .expect("SeekHead link in the first SeekHead")
        + link.len();
    let (want, _) = packets(&src);
    for (tag, v) in [("self", [0u8, 0]), ("past-end", [0xff, 0xff])] {
        let path = damaged_copy(&src, tag, |d| d[at..at + 2].copy_from_slice(&v));
        let (got, errors) = packets(&path);
        assert_eq!(errors, 0, "{tag}");
        assert_eq!(got.len(), want.len(), "{tag}");
        assert_eq!(got.len(), 900, "{tag}");
    }
}

/// Inputs on which `matroska-demuxer` 0.8.1 (the crate this reader
/// replaced) hung for over a second in the fuzz comparison
/// (`tests/data/fuzz-regressions/demux_mkv/matroska-demuxer-hang-*.mkv`):
/// each opens or is refused, reads to its end and seeks, within a second.
#[test]
fn inputs_that_hung_the_old_crate_end_quickly() {
    let dir = repo_dir().join("tests/data/fuzz-regressions/demux_mkv");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("matroska-demuxer-hang-") {
            continue;
        }
        n += 1;
        let t0 = std::time::Instant::now();
        if let Ok(mut d) = vreq_container::mkv::MkvDemuxer::open(&path) {
            use vreq_container::Demuxer;
            let mut left = 1_000_000;
            while left > 0 && !matches!(d.next_packet(), Ok(None)) {
                left -= 1;
            }
            assert!(left > 0, "{name}: no end");
            if let Some(t) = d.tracks().first().map(|t| t.id) {
                for target in [0, 500_000_000, 10_000_000_000] {
                    d.seek(t, target).unwrap();
                    let _ = d.next_packet();
                }
            }
        }
        assert!(
            t0.elapsed().as_secs_f64() < 1.0,
            "{name}: {:?}",
            t0.elapsed()
        );
    }
    assert_eq!(n, 4);
}
