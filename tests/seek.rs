//! Seek through the whole pipeline on the host: container → codec → engine →
//! fake visl device, one clip per container (a table: adding a container is
//! one row). For 50 seeded targets per clip, on one demuxer and one engine
//! (`Demuxer::seek`, then `Engine::reset`), the fake device slow enough that
//! requests are still in flight when the seek comes:
//!
//! (a) keyframe seek: the first frame out has the pts of the last keyframe
//!     ≤ target (the first keyframe when none is), as a linear pass over the
//!     demuxer finds it;
//! (b) `--hr-seek=yes` semantics (frames with pts < target dropped): the
//!     first frame shown is the first frame ≥ target of a full linear decode;
//! (c) no frame with a pts before the keyframe comes out;
//! (d) the control jobs recorded after the seek equal those of a fresh
//!     engine and demuxer that seek to that keyframe and decode the same
//!     packets: same controls (every field, by `Debug`), same bitstream
//!     bytes, same flags. The codec numbers pictures with a running counter
//!     (`timestamp_ns` = n × 1000), so job timestamps and the reference
//!     timestamps inside the controls (H.264 DPB `reference_ts`, VP8 / VP9
//!     `last` / `golden` / `alt_frame_ts`) are renamed in order of first
//!     appearance before comparing;
//!
//! and a leak test: 1 000 seeks on one clip (a decoded frame held, as a
//! compositor holds one, across each seek), then the `/proc/self/fd` count
//! is what it was and the fake device has every CAPTURE buffer back and no
//! request in flight.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vreq_container::{self as container, Demuxer, Packet};
use vreq_core::Control;
use vreq_engine::Engine;
use vreq_testkit::fake::{FakeDevice, RecordedJob};
use vreq_testkit::{media_dir, repo_dir, xorshift};
use vreq_v4l2::{profile, DecoderDevice};
use vreqplay::player;

/// One clip per container: (name, path).
fn clips() -> Vec<(&'static str, PathBuf)> {
    let media = |p: &str| media_dir().join(p);
    let data = |p: &str| repo_dir().join("tests/data/container").join(p);
    vec![
        ("mp4 h264", media("debian-src-firefox-esr/gizmo.mp4")),
        ("fragmented mp4 h264", data("frag-test-25fps.mp4")),
        (
            "mkv h264 (Cues)",
            media("debian-src-qt6-multimedia/15s.mkv"),
        ),
        ("mkv h264 (no Cues)", data("nocues-h264.mkv")),
        ("webm vp9", data("vp9-kf25.webm")),
        (
            "webm vp8",
            media("debian-src-firefox-esr/webgl-npot-video.vp8.webm"),
        ),
        ("ivf vp8", media("crates-cros-codecs/test-25fps.vp8.ivf")),
        // MPEG-TS / PS (PTS bisection; an MPEG-2 seek restarts the sequence:
        // Mpeg2Codec::reset)
        ("ts h264", media("debian-src-gst-plugins-bad1.0/test.ts")),
        ("ts h264 (open GOP)", media("npm-mux.js/sintel-captions.ts")),
        ("ts mpeg2", media("remuxed-by-us/movie-hello.mpeg2.ts")),
        (
            "ps mpeg2",
            media("debian-forensics-samples-files/movie-hello.mpeg"),
        ),
    ]
}

type Dec = Engine<FakeDevice>;

/// Demuxer, video track id, engine over a fake visl that completes a
/// request only when more than 2 are pending (so some are in flight at a seek).
fn open(path: &Path) -> (Box<dyn Demuxer + Send>, u32, Dec) {
    let demux = container::open(path).unwrap_or_else(|e| panic!("{e}"));
    let (track, kind) = player::pick_track(path, demux.as_ref()).unwrap();
    let codec = player::codec_for_track(path, &track, kind).unwrap();
    let dev = FakeDevice::for_codec(profile::for_driver("visl", "visl"), kind).with_busy_depth(2);
    (demux, track.id, Engine::new(codec, dev))
}

fn next_video(d: &mut dyn Demuxer, track: u32) -> Option<Packet> {
    loop {
        let p = d.next_packet().expect("demux")?;
        if p.track == track {
            return Some(p);
        }
    }
}

/// Feeds video packets until `min` frames came out and (if given) one with
/// pts ≥ `until`, or the end (then `finish`). Returns the frames' pts and the
/// number of packets fed (+ 1 when the end was reached). `keep` holds the last frame (as a compositor holds
/// the one on screen) instead of dropping it.
fn decode(
    d: &mut dyn Demuxer,
    track: u32,
    dec: &mut Dec,
    min: usize,
    until: Option<i64>,
    keep: &mut Option<vreq_frame::DecodedFrame>,
) -> (Vec<i64>, usize) {
    let mut out = Vec::new();
    let mut fed = 0;
    let done =
        |out: &Vec<i64>| out.len() >= min && until.is_none_or(|t| out.iter().any(|&p| p >= t));
    loop {
        let Some(p) = next_video(d, track) else {
            dec.finish().expect("finish");
            while let Some(f) = dec.next_frame() {
                out.push(f.pts_ns);
                *keep = Some(f);
            }
            return (out, fed + 1);
        };
        dec.decode((&p).into()).expect("decode");
        fed += 1;
        while let Some(f) = dec.next_frame() {
            out.push(f.pts_ns);
            *keep = Some(f);
        }
        if done(&out) {
            return (out, fed);
        }
    }
}

/// Feeds `n` video packets, [`decode`]'s count (the end counting as one:
/// then `finish`).
fn feed(d: &mut dyn Demuxer, track: u32, dec: &mut Dec, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(p) = next_video(d, track) else {
            dec.finish().expect("finish");
            while let Some(f) = dec.next_frame() {
                out.push(f.pts_ns);
            }
            break;
        };
        dec.decode((&p).into()).expect("decode");
        while let Some(f) = dec.next_frame() {
            out.push(f.pts_ns);
        }
    }
    out
}

/// Every field of a control (the uAPI structs' `Debug`).
fn control_text(c: &Control) -> String {
    match c {
        Control::H264Sps(v) => format!("{v:?}"),
        Control::H264Pps(v) => format!("{v:?}"),
        Control::H264ScalingMatrix(v) => format!("{v:?}"),
        Control::H264DecodeParams(v) => format!("{v:?}"),
        Control::H264SliceParams(v) => format!("{v:?}"),
        Control::H264PredWeights(v) => format!("{v:?}"),
        Control::HevcSps(v) => format!("{v:?}"),
        Control::HevcPps(v) => format!("{v:?}"),
        Control::HevcSliceParams(v) => format!("{v:?}"),
        Control::HevcScalingMatrix(v) => format!("{v:?}"),
        Control::HevcDecodeParams(v) => format!("{v:?}"),
        Control::HevcEntryPointOffsets(v) => format!("{v:?}"),
        Control::HevcExtSpsStRps(v) => format!("{v:?}"),
        Control::HevcExtSpsLtRps(v) => format!("{v:?}"),
        Control::Vp9Frame(v) => format!("{v:?}"),
        Control::Vp9CompressedHdr(v) => format!("{v:?}"),
        Control::Vp8Frame(v) => format!("{v:?}"),
        Control::Mpeg2Sequence(v) => format!("{v:?}"),
        Control::Mpeg2Picture(v) => format!("{v:?}"),
        Control::Mpeg2Quantisation(v) => format!("{v:?}"),
    }
}

/// The jobs as text, picture timestamps renamed `0`, `T1`, `T2`, … in order
/// of first appearance (as job timestamps; a reference field of a control —
/// `reference_ts`, `*_frame_ts`, `*_ref_ts`, `timestamp` — equal to one of
/// them is renamed the same way). The first is named `0` because a
/// fresh codec numbers its first picture 0, the value of every unused
/// reference slot too: so both runs name those alike.
fn normalised(jobs: &[RecordedJob]) -> Vec<String> {
    let mut names: HashMap<u64, usize> = HashMap::new();
    for j in jobs {
        let n = names.len();
        names.entry(j.timestamp_ns).or_insert(n);
    }
    let rename = |s: &str| -> String {
        let mut out = String::with_capacity(s.len());
        let mut digits = String::new();
        for ch in s.chars().chain(std::iter::once(' ')) {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            if !digits.is_empty() {
                // Only reference fields: `reference_ts`, `*_frame_ts`,
                // `*_ref_ts`, HEVC's DPB `timestamp`.
                let is_ref = out.ends_with("_ts: ") || out.ends_with("timestamp: ");
                match digits
                    .parse::<u64>()
                    .ok()
                    .filter(|_| is_ref)
                    .and_then(|v| names.get(&v))
                {
                    // The first picture is named 0: a fresh codec numbers it
                    // 0, which is also every unused reference slot's value.
                    Some(0) => out.push('0'),
                    Some(i) => out.push_str(&format!("T{i}")),
                    None => out.push_str(&digits),
                }
                digits.clear();
            }
            out.push(ch);
        }
        out.pop();
        out
    };
    jobs.iter()
        .map(|j| {
            let controls: Vec<String> = j
                .controls
                .iter()
                .map(|c| rename(&control_text(c)))
                .collect();
            format!(
                "ts #{} hold {} starts {} ids {:x?} bitstream {} bytes {:016x} controls {}",
                names[&j.timestamp_ns],
                j.hold_capture,
                j.starts_picture,
                j.control_ids,
                j.bitstream.len(),
                fnv(&j.bitstream),
                controls.join(" | ")
            )
        })
        .collect()
}

fn fnv(d: &[u8]) -> u64 {
    d.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// (keyframe pts in decode order, every frame's pts of a full decode in output order).
fn reference(path: &Path) -> (Vec<i64>, Vec<i64>) {
    let (mut d, track, _) = open(path);
    let mut keys = Vec::new();
    while let Some(p) = next_video(d.as_mut(), track) {
        if p.keyframe {
            keys.push(p.pts_ns.expect("pts"));
        }
    }
    let (mut d, track, mut dec) = open(path);
    let mut keep = None;
    let (all, _) = decode(d.as_mut(), track, &mut dec, usize::MAX, None, &mut keep);
    (keys, all)
}

#[test]
fn seek_then_decode_matches_a_fresh_decode() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut report = Vec::new();
    for (name, path) in clips() {
        let (keys, frames) = reference(&path);
        assert!(
            !keys.is_empty() && !frames.is_empty(),
            "{name}: nothing decoded"
        );
        let last = *frames.iter().max().unwrap();
        let (mut demux, track, mut dec) = open(&path);
        // Start playing, so the first seek interrupts a running decode.
        let mut keep = None;
        decode(demux.as_mut(), track, &mut dec, 3, None, &mut keep);
        drop(keep.take());
        let mut rng = 0x0005_eeed_u64 ^ (name.len() as u64) << 32;
        let span = (last + 400_000_000) as u64;
        let t0 = Instant::now();
        let mut landings = std::collections::BTreeSet::new();
        for n in 0..50 {
            let target = (xorshift(&mut rng) % span) as i64 - 200_000_000;
            let key = vreq_testkit::expected_seek_key(&keys, target);
            demux.seek(track, target).expect("seek");
            dec.reset().expect("engine reset");
            let jobs_before = dec.device().jobs().len();
            let (out, fed) = decode(demux.as_mut(), track, &mut dec, 4, Some(target), &mut keep);
            drop(keep.take());
            let ctx = format!("{name}: seek #{n} to {target} ns (keyframe {key} ns)");
            // (a)
            assert_eq!(
                out.first().copied(),
                Some(key),
                "{ctx}: first frame out {out:?}"
            );
            // (c)
            assert!(
                out.iter().all(|&p| p >= key),
                "{ctx}: a frame from before the seek: {out:?}"
            );
            // (b)
            let shown = out.iter().copied().find(|&p| p >= target);
            // The full decode's frames from the keyframe's on, in output order.
            let from = frames
                .iter()
                .position(|&p| p == key)
                .expect("keyframe decoded");
            let want = frames[from..].iter().copied().find(|&p| p >= target);
            assert_eq!(shown, want, "{ctx}: hr-seek first shown frame");
            // (d)
            let after = normalised(&dec.device().jobs()[jobs_before..]);
            let (mut d2, t2, mut dec2) = open(&path);
            d2.seek(t2, key).expect("fresh seek");
            let out2 = feed(d2.as_mut(), t2, &mut dec2, fed);
            let fresh = normalised(dec2.device().jobs());
            assert_eq!(
                after.len(),
                fresh.len(),
                "{ctx}: job count vs a fresh decode"
            );
            for (k, (a, b)) in after.iter().zip(&fresh).enumerate() {
                if a != b {
                    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                    let lo = floor_char_boundary(a, at.saturating_sub(150));
                    panic!(
                        "{ctx}: job {k} differs from a fresh decode's at byte {at}:\n  after seek: …{}\n  fresh:      …{}",
                        &a[lo..floor_char_boundary(a, at + 80)],
                        &b[lo..floor_char_boundary(b, at + 80)]
                    );
                }
            }
            assert_eq!(out, out2, "{ctx}: frames vs a fresh decode");
            assert!(
                dec.device().violations().is_empty(),
                "{ctx}: {:?}",
                dec.device().violations()
            );
            landings.insert(key);
        }
        report.push(format!(
            "{name:22} {:3} keyframes, 50 seeks, {:2} distinct keyframes landed on, {:6.1} ms per seek+decode",
            keys.len(),
            landings.len(),
            t0.elapsed().as_secs_f64() * 1000.0 / 50.0
        ));
    }
    for l in report {
        println!("{l}");
    }
}

/// The tests of this binary run on parallel threads of one process, and
/// `/proc/self/fd` counts every thread's files: each test holds this lock
/// so the leak count sees no other test's demuxers open or close.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn thousand_seeks_leak_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (name, path) in [
        (
            "mkv h264 (Cues)",
            media_dir().join("debian-src-qt6-multimedia/15s.mkv"),
        ),
        (
            "mp4 h264",
            media_dir().join("debian-src-firefox-esr/gizmo.mp4"),
        ),
        (
            "ts h264",
            media_dir().join("debian-src-gst-plugins-bad1.0/test.ts"),
        ),
    ] {
        let (mut demux, track, mut dec) = open(&path);
        let (keys, frames) = reference(&path);
        let last = *frames.iter().max().unwrap();
        let mut keep = None;
        decode(demux.as_mut(), track, &mut dec, 3, None, &mut keep);
        let fds = fd_count();
        let mut rng = 0x1ea4u64;
        for _ in 0..1000 {
            let target = (xorshift(&mut rng) % (last as u64 + 1)) as i64;
            demux.seek(track, target).expect("seek");
            // The frame on screen stays held across the seek, as a compositor holds it.
            dec.reset().expect("reset");
            let held = keep.take();
            let (out, _) = decode(demux.as_mut(), track, &mut dec, 2, None, &mut keep);
            assert!(
                keys.contains(&out[0]),
                "{name}: first frame {} not a keyframe",
                out[0]
            );
            drop(held);
        }
        drop(keep.take());
        dec.reset().expect("reset");
        let (queued, filling, dequeued) = dec.device().capture_states();
        println!(
            "{name}: fds {fds} before, {} after 1000 seeks; CAPTURE queued {queued} filling {filling} dequeued {dequeued}; in flight {}; retired {}",
            fd_count(),
            dec.device().in_flight(),
            dec.device().retired()
        );
        assert_eq!(fd_count(), fds, "{name}: fds leaked over 1000 seeks");
        assert_eq!(
            dec.device().in_flight(),
            0,
            "{name}: requests in flight after reset"
        );
        assert_eq!(
            (filling, dequeued),
            (0, 0),
            "{name}: CAPTURE buffers not back"
        );
        assert!(queued > 0);
        assert_eq!(dec.device().retired(), 0);
        assert!(
            dec.device().violations().is_empty(),
            "{:?}",
            dec.device().violations()
        );
    }
}

/// The largest char boundary of `s` at or below `i` (`str::floor_char_boundary`
/// is newer than the workspace's rust-version, 1.85).
fn floor_char_boundary(s: &str, i: usize) -> usize {
    (0..=i.min(s.len()))
        .rev()
        .find(|&k| s.is_char_boundary(k))
        .unwrap_or(0)
}
