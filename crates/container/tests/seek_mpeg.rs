//! Seeking and timing in the MPEG demuxers (TS, M2TS, PS: PTS bisection;
//! MPEG-2 ES and Annex-B: byte-position estimate), on corpus clips and on
//! synthetic clips that tests/data/container/make-mpeg.sh makes with ffmpeg
//! into Cargo's `CARGO_TARGET_TMPDIR` (skipped with a message when ffmpeg is
//! missing).
//!
//! For each clip: 50 targets from a seeded generator from 1 s before the
//! start to 1 s past the duration; after `seek(1, t)` the first video packet must be a keyframe,
//! and for TS / PS exactly the last keyframe with pts ≤ t of a full linear
//! pass (the first keyframe when none is), followed by the same packets as
//! the linear pass. The time per seek is printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use vreq_container::{self as container, AudioCodec, Packet, TrackCodec};
use vreq_core::CodecKind;
use vreq_testkit::media_dir;

/// The synthetic clips' directory, made once per test run; `None` without
/// ffmpeg.
fn clips() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        // Cargo's scratch dir for integration tests: made again (ffmpeg -y)
        // by every run, nothing left in /tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seek-mpeg");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/container/make-mpeg.sh");
        match Command::new("sh").arg(&script).arg(&dir).status() {
            Ok(s) if s.success() => Some(dir),
            other => {
                eprintln!(
                    "SKIP synthetic MPEG clips: {} failed ({other:?}); is ffmpeg installed?",
                    script.display()
                );
                None
            }
        }
    })
    .as_deref()
}

/// Every packet of `path` in order.
fn all_packets(path: &Path) -> Vec<Packet> {
    let mut d = container::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    while let Some(p) = d.next_packet().unwrap_or_else(|e| panic!("{e}")) {
        out.push(p);
    }
    out
}

/// xorshift64: the same targets every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The next packet of track 1.
fn next_video(d: &mut dyn container::Demuxer) -> Option<Packet> {
    loop {
        match d.next_packet().expect("packet") {
            Some(p) if p.track == 1 => return Some(p),
            Some(_) => continue,
            None => return None,
        }
    }
}

/// Checks 50 seeks in `path` (TS / M2TS / PS) against a linear pass;
/// returns (max, mean) time per seek.
fn check_pts_seek(path: &Path) -> (Duration, Duration) {
    let name = path.display();
    let video: Vec<Packet> = all_packets(path)
        .into_iter()
        .filter(|p| p.track == 1)
        .collect();
    let keys: Vec<(usize, i64)> = video
        .iter()
        .enumerate()
        .filter(|(_, p)| p.keyframe)
        .filter_map(|(i, p)| p.pts_ns.map(|t| (i, t)))
        .collect();
    assert!(!keys.is_empty(), "{name}: no keyframe");
    if name.to_string().ends_with("opengop.ts") {
        // One IDR, the other 9 I pictures random-access by recovery point SEI.
        assert_eq!(keys.len(), 10, "{name}: keyframes");
    }
    let mut d = container::open(path).expect("open");
    let dur = d
        .duration_ns()
        .unwrap_or_else(|| panic!("{name}: no duration"));
    let last_pts = video.iter().filter_map(|p| p.pts_ns).max().unwrap();
    assert!(
        (dur - last_pts).abs() < 200_000_000,
        "{name}: duration {dur} ns, last video pts {last_pts} ns"
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut max, mut total) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..50 {
        let t = (rng.next() % (dur as u64 + 2_000_000_000)) as i64 - 1_000_000_000;
        let start = Instant::now();
        d.seek(1, t).expect("seek");
        let got = next_video(d.as_mut()).expect("a packet after the seek");
        let took = start.elapsed();
        max = max.max(took);
        total += took;
        let &(i, want) = keys
            .iter()
            .filter(|k| k.1 <= t)
            .max_by_key(|k| k.1)
            .unwrap_or(&keys[0]);
        assert!(got.keyframe, "{name}: seek({t}) landed on a non-keyframe");
        assert_eq!(got.pts_ns, Some(want), "{name}: seek({t})");
        assert!(got.data == video[i].data, "{name}: seek({t}): other bytes");
        // The packets that follow are the linear pass'.
        for (k, want) in video[i + 1..].iter().take(5).enumerate() {
            let p = next_video(d.as_mut()).expect("packet after the keyframe");
            assert!(
                p.data == want.data && p.pts_ns == want.pts_ns,
                "{name}: seek({t}): packet {k} after the keyframe differs"
            );
        }
    }
    (max, total / 50)
}

#[test]
fn ts_m2ts_ps_seek_lands_on_the_last_keyframe_at_or_before_the_target() {
    let m = media_dir();
    let mut clips_: Vec<PathBuf> = [
        "debian-src-gst-plugins-bad1.0/test.ts",
        "npm-mux.js/sintel-captions.ts",
        "remuxed-by-us/movie-hello.mpeg2.ts",
        "remuxed-by-us/k3bphotosvcd.mpeg2-interlaced.ts",
        "debian-forensics-samples-files/movie-hello.mpeg",
        "debian-k3b-data/k3bphotosvcd.mpg",
    ]
    .iter()
    .map(|c| m.join(c))
    .collect();
    if let Some(dir) = clips() {
        for c in [
            "h264-aac.ts",
            "h264-aac.m2ts",
            "h264-opengop.ts",
            "hevc-mp2.ts",
            "h264-ac3dvb.ts",
            "mpeg2-mp2.ts",
            "mpeg2-mp2.mpg",
            "wrap.ts",
        ] {
            clips_.push(dir.join(c));
        }
    }
    for c in &clips_ {
        let (max, mean) = check_pts_seek(c);
        eprintln!(
            "{}: 50 seeks, {:.2} ms mean, {:.2} ms max",
            c.display(),
            mean.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
}

/// MPEG-2 ES and Annex-B: each seek lands on a keyframe; its time in a
/// linear pass (ES: frame count × duration; Annex-B: unit index × 40 ms)
/// is compared with the exact answer and the largest error printed and
/// bounded (two GOPs: the estimate from the average frame size).
fn check_es_seek(path: &Path, gop_ns: i64) {
    let name = path.display();
    let video = all_packets(path);
    let time = |i: usize, p: &Packet| p.pts_ns.unwrap_or(i as i64 * 40_000_000);
    let keys: Vec<(u64, i64)> = video
        .iter()
        .enumerate()
        .filter(|(_, p)| p.keyframe)
        .map(|(i, p)| (p.byte_offset, time(i, p)))
        .collect();
    let mut d = container::open(path).expect("open");
    let dur = d.duration_ns().expect("duration estimate");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut worst, mut max) = (0i64, Duration::ZERO);
    for _ in 0..50 {
        let t = (rng.next() % (dur as u64 + 2_000_000_000)) as i64 - 1_000_000_000;
        let start = Instant::now();
        d.seek(1, t).expect("seek");
        let got = d
            .next_packet()
            .expect("packet")
            .expect("a packet after the seek");
        max = max.max(start.elapsed());
        let landed = keys
            .iter()
            .find(|k| k.0 == got.byte_offset)
            .unwrap_or_else(|| {
                panic!(
                    "{name}: seek({t}) landed at byte {} on no keyframe",
                    got.byte_offset
                )
            });
        let want = keys
            .iter()
            .filter(|k| k.1 <= t)
            .map(|k| k.1)
            .max()
            .unwrap_or(keys[0].1);
        worst = worst.max((landed.1 - want).abs());
    }
    eprintln!(
        "{name}: 50 seeks, largest error {:.0} ms (one GOP {} ms), {:.2} ms max per seek",
        worst as f64 / 1e6,
        gop_ns / 1_000_000,
        max.as_secs_f64() * 1e3
    );
    assert!(worst <= 2 * gop_ns, "{name}: a seek is {worst} ns off");
}

#[test]
fn es_and_annexb_seek_lands_on_a_keyframe_near_the_target() {
    check_es_seek(
        &media_dir().join("remuxed-by-us/movie-hello.m2v"),
        400_400_000,
    );
    if let Some(dir) = clips() {
        check_es_seek(&dir.join("mpeg2.m2v"), 480_000_000);
        check_es_seek(&dir.join("h264.h264"), 1_000_000_000);
    }
}

/// The tracks ffmpeg wrote and as many packets as ffprobe counts.
#[test]
fn synthetic_ts_tracks_and_packet_counts_match_ffprobe() {
    let Some(dir) = clips() else { return };
    for (clip, video, audio) in [
        ("h264-aac.ts", CodecKind::H264, AudioCodec::Aac),
        ("h264-aac.m2ts", CodecKind::H264, AudioCodec::Aac),
        ("hevc-mp2.ts", CodecKind::Hevc, AudioCodec::Mp2),
        ("h264-ac3dvb.ts", CodecKind::H264, AudioCodec::Ac3),
        ("mpeg2-mp2.ts", CodecKind::Mpeg2, AudioCodec::Mp2),
        ("mpeg2-mp2.mpg", CodecKind::Mpeg2, AudioCodec::Mp2),
    ] {
        let path = dir.join(clip);
        let d = container::open(&path).expect("open");
        let tracks = d.tracks().to_vec();
        assert_eq!(tracks[0].codec, TrackCodec::Video(video), "{clip}");
        assert_eq!(tracks.len(), 2, "{clip}: {tracks:?}");
        assert_eq!(tracks[1].codec, TrackCodec::Audio(audio), "{clip}");
        let packets = all_packets(&path);
        for (k, t) in tracks.iter().enumerate() {
            let ours = packets.iter().filter(|p| p.track == t.id).count();
            let out = Command::new("ffprobe")
                .args(["-v", "error", "-count_packets", "-select_streams"])
                .arg(format!("{}:0", if k == 0 { 'v' } else { 'a' }))
                .args([
                    "-show_entries",
                    "stream=nb_read_packets",
                    "-of",
                    "default=nw=1:nk=1",
                ])
                .arg(&path)
                .output()
                .expect("ffprobe");
            let theirs: usize = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .and_then(|l| l.trim().parse().ok())
                .expect("ffprobe count");
            assert_eq!(ours, theirs, "{clip} track {}: packets vs ffprobe", t.id);
        }
    }
    // M2TS holds the same frames, at the same times, as the TS it was
    // remuxed from (the audio's PID differs: per track, video then audio).
    let per_track = |v: Vec<Packet>| -> [Vec<(Vec<u8>, Option<i64>)>; 2] {
        let (video, audio): (Vec<Packet>, Vec<Packet>) = v.into_iter().partition(|p| p.track == 1);
        [video, audio].map(|t| t.into_iter().map(|p| (p.data, p.pts_ns)).collect())
    };
    let ts = per_track(all_packets(&dir.join("h264-aac.ts")));
    let m2ts = per_track(all_packets(&dir.join("h264-aac.m2ts")));
    for k in 0..2 {
        assert_eq!(ts[k].len(), m2ts[k].len(), "track {k}");
        assert!(ts[k] == m2ts[k], "M2TS track {k} differs from the TS's");
    }
}

/// The 33-bit PTS wrap and a time base jump: the pts stay on one
/// monotonic axis (keyframes in order, nothing outside the clip's 10 s).
#[test]
fn pts_wrap_and_discontinuity_keep_one_monotonic_time_line() {
    let Some(dir) = clips() else { return };
    for clip in ["wrap.ts", "discont.ts"] {
        let path = dir.join(clip);
        let packets = all_packets(&path);
        let keys: Vec<i64> = packets
            .iter()
            .filter(|p| p.track == 1 && p.keyframe)
            .filter_map(|p| p.pts_ns)
            .collect();
        assert!(keys.len() >= 9, "{clip}: {} keyframes", keys.len());
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{clip}: {keys:?}");
        for p in &packets {
            let t = p.pts_ns.expect("pts");
            assert!(
                (-1_000_000_000..11_000_000_000).contains(&t),
                "{clip}: track {} pts {t} ns off the clip's time line",
                p.track
            );
        }
        let d = container::open(&path).expect("open");
        if clip == "wrap.ts" {
            let dur = d.duration_ns().expect("duration");
            assert!(
                (dur - 10_000_000_000).abs() < 200_000_000,
                "{clip}: duration {dur}"
            );
        }
    }
}

/// Peak resident memory of this process (`VmHWM`, KiB).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A multi-GB transport stream (tests/ts/make-big-ts.sh), named by
/// `VREQ_BIG_TS`: the first video packet comes within 1 s of `open`, the
/// duration is known at once, 20 seeks land on keyframes, 300 frames are
/// read from each of a few of them, and the process' peak RSS stays under
/// 60 MB. Not in CI (`--ignored`; the file is GBs).
#[test]
#[ignore]
fn big_ts_opens_at_once_and_streams_in_bounded_memory() {
    let Ok(path) = std::env::var("VREQ_BIG_TS") else {
        eprintln!("SKIP: VREQ_BIG_TS names no file (tests/ts/make-big-ts.sh makes one)");
        return;
    };
    let size = std::fs::metadata(&path).expect("VREQ_BIG_TS").len();
    let start = Instant::now();
    let mut d = container::open(Path::new(&path)).expect("open");
    let first = next_video(d.as_mut()).expect("a video packet");
    let to_first = start.elapsed();
    assert!(first.keyframe);
    let dur = d.duration_ns().expect("duration");
    for _ in 0..300 {
        next_video(d.as_mut()).expect("300 video packets");
    }
    let mut rng = Rng(0x1234_5678);
    let (mut max, mut total) = (Duration::ZERO, Duration::ZERO);
    for i in 0..20 {
        let t = (rng.next() % dur as u64) as i64;
        let s = Instant::now();
        d.seek(1, t).expect("seek");
        let p = next_video(d.as_mut()).expect("a packet after the seek");
        let took = s.elapsed();
        max = max.max(took);
        total += took;
        assert!(
            p.keyframe && p.pts_ns.unwrap() <= t.max(0),
            "seek({t}): {:?}",
            p.pts_ns
        );
        if i % 5 == 0 {
            for _ in 0..300 {
                next_video(d.as_mut()).expect("300 packets after a seek");
            }
        }
    }
    let rss = peak_rss_kib();
    eprintln!(
        "{path}: {size} bytes, duration {:.1} s; first video packet {:.1} ms after open; \
         20 seeks {:.1} ms mean, {:.1} ms max; peak RSS {} KiB",
        dur as f64 / 1e9,
        to_first.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / 20.0,
        max.as_secs_f64() * 1e3,
        rss
    );
    assert!(
        to_first < Duration::from_secs(1),
        "{to_first:?} to the first packet"
    );
    assert!(rss < 60 * 1024, "peak RSS {rss} KiB");
}
