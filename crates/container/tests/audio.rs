//! Audio tracks of every corpus file with audio, and of the synthetic clips
//! of the codecs the corpus lacks (tests/data/container/audio/), against ffprobe: codec,
//! rate, channels, extradata, packet count and the first packets' pts, and
//! that the audio sits on the video's time axis. The golden table
//! `tests/golden/audio-packets/streams.tsv` is written by
//! `scripts/gen-audio-packet-goldens.sh` from ffprobe alone.

use std::collections::BTreeMap;
use std::path::Path;

use vreq_container::{self as container, AudioCodec, Packet, TrackCodec, TrackInfo};
use vreq_core::CodecPrivate;
use vreq_testkit::{media_dir, repo_dir};

/// One row of the golden table.
#[derive(Debug)]
struct Golden {
    path: String,
    k: usize,
    id: String,
    codec: String,
    rate: u32,
    channels: u16,
    packets: usize,
    first_pts: Vec<Option<i64>>,
    extradata_sha256: Option<String>,
    video_start_ns: Option<i64>,
}

fn goldens() -> Vec<Golden> {
    let text = std::fs::read_to_string(repo_dir().join("tests/golden/audio-packets/streams.tsv"))
        .expect("tests/golden/audio-packets/streams.tsv (scripts/gen-audio-packet-goldens.sh)");
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 11, "golden row {line:?}");
        let opt = |s: &str| (s != "-").then(|| s.to_string());
        out.push(Golden {
            path: f[0].into(),
            k: f[1].parse().unwrap(),
            id: f[2].into(),
            codec: f[3].into(),
            rate: f[4].parse().unwrap(),
            channels: f[5].parse().unwrap(),
            packets: f[6].parse().unwrap(),
            first_pts: f[7].split(',').map(|p| p.parse().ok()).collect(),
            extradata_sha256: opt(f[8]),
            video_start_ns: f[10].parse().ok(),
        });
    }
    assert!(
        out.len() >= 20,
        "the golden table lists {} streams",
        out.len()
    );
    out
}

/// SHA-256 (FIPS 180-4), for comparing extradata with ffprobe's hash.
fn sha256(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut m = data.to_vec();
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in m.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn sha256_known_answers() {
    assert_eq!(
        sha256(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

struct File {
    tracks: Vec<TrackInfo>,
    packets: Vec<Packet>,
}

fn demux(path: &Path) -> File {
    let mut d = container::open(path).unwrap_or_else(|e| panic!("{e}"));
    let tracks = d.tracks().to_vec();
    let mut packets = Vec::new();
    let mut errors = 0;
    loop {
        match d.next_packet() {
            Ok(Some(p)) => packets.push(p),
            Ok(None) => break,
            Err(e) => {
                errors += 1;
                assert!(errors < 100, "{}: {e}", path.display());
            }
        }
    }
    File { tracks, packets }
}

/// The containers this test holds to the golden table (all the corpus has
/// audio in).
fn covered(path: &str) -> bool {
    let ext = path.rsplit('.').next().unwrap_or("");
    matches!(ext, "mp4" | "mov" | "mkv" | "webm" | "mpeg" | "mpg" | "ts")
}

/// 1 ms: Matroska times are in ms (ffprobe rounds `CodecDelay` to the
/// track's 1 ms tick, we keep it in ns).
const TOLERANCE_NS: i64 = 1_000_000;

#[test]
fn audio_tracks_match_ffprobe() {
    let media = media_dir();
    let mut by_file: BTreeMap<String, Vec<Golden>> = BTreeMap::new();
    for g in goldens() {
        by_file.entry(g.path.clone()).or_default().push(g);
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, rows) in &by_file {
        if !covered(path) {
            continue;
        }
        // The synthetic clips (tests/data/container/make-audio.sh) live in
        // the repository, the corpus in the shared media directory.
        let f = if path.starts_with("tests/") {
            demux(&repo_dir().join(path))
        } else {
            demux(&media.join(path))
        };
        let audio: Vec<&TrackInfo> = f
            .tracks
            .iter()
            .filter(|t| matches!(t.codec, TrackCodec::Audio(_)))
            .collect();
        if audio.len() != rows.len() {
            failures.push(format!(
                "{path}: {} audio tracks, ffprobe {}",
                audio.len(),
                rows.len()
            ));
            continue;
        }
        let video_start = f
            .tracks
            .iter()
            .find(|t| t.codec.kind().is_some())
            .and_then(|v| {
                f.packets
                    .iter()
                    .filter(|p| p.track == v.id)
                    .filter_map(|p| p.pts_ns)
                    .min()
            });
        let mpeg_ps = path.ends_with(".mpeg") || path.ends_with(".mpg");
        let mpeg_mux = mpeg_ps || path.ends_with(".ts");
        let matroska = path.ends_with(".mkv") || path.ends_with(".webm");
        for g in rows {
            checked += 1;
            let t = audio[g.k];
            let mut fail = |what: String| failures.push(format!("{path} audio #{}: {what}", g.k));
            let TrackCodec::Audio(c) = &t.codec else {
                unreachable!()
            };
            if c.ffprobe_name() != g.codec {
                fail(format!("codec {c:?}, ffprobe {}", g.codec));
            }
            if g.id.starts_with("0x") {
                let mut id = u32::from_str_radix(&g.id[2..], 16).unwrap();
                if mpeg_ps {
                    // ffprobe names a PS stream 0x100 | stream_id.
                    id &= 0xff;
                }
                if t.id != id {
                    fail(format!("track id {}, ffprobe {id}", t.id));
                }
            }
            let a = t.audio.expect("audio params");
            if (a.sample_rate, a.channels) != (g.rate, g.channels) {
                fail(format!(
                    "{} Hz {} ch, ffprobe {} Hz {} ch",
                    a.sample_rate, a.channels, g.rate, g.channels
                ));
            }
            let ours = match &t.codec_private {
                CodecPrivate::Raw(r) => Some(sha256(r)),
                CodecPrivate::None => None,
                other => Some(format!("{other:?}")),
            };
            if ours != g.extradata_sha256 {
                fail(format!(
                    "extradata sha256 {ours:?}, ffprobe {:?}",
                    g.extradata_sha256
                ));
            }
            let pk: Vec<&Packet> = f.packets.iter().filter(|p| p.track == t.id).collect();
            // (test.ts's first PES is a raw AAC frame, before the ADTS
            // frames: given as a packet, as ffprobe does; mpegmux.rs.)
            let first_pts = &g.first_pts;
            if pk.len() != g.packets {
                fail(format!("{} packets, ffprobe {}", pk.len(), g.packets));
            }
            // MPEG-PS / TS: ffprobe keeps the PES clock, we put the video's
            // first picture at 0: compare times relative to the video's start.
            let (our_base, their_base) = match (mpeg_mux, video_start, g.video_start_ns) {
                (true, Some(o), Some(t)) => (o, t),
                _ => (0, 0),
            };
            for (i, (p, want)) in pk.iter().zip(first_pts).enumerate() {
                let (got, want) = match (p.pts_ns, want) {
                    (Some(g), Some(w)) => (g, *w),
                    (None, Some(w)) => {
                        fail(format!("packet {i} has no pts, ffprobe {w} ns"));
                        continue;
                    }
                    _ => continue,
                };
                let (got, want) = (got - our_base, want - their_base);
                // FFmpeg places a laced Matroska frame at the previous pts +
                // that frame's duration rounded down to the track's 1 ms
                // tick: its error grows by up to 1 ms per frame of a lace.
                let tolerance = if matroska {
                    TOLERANCE_NS * (i as i64 + 1)
                } else {
                    TOLERANCE_NS
                };
                if (got - want).abs() > tolerance {
                    fail(format!("packet {i} pts {got} ns, ffprobe {want} ns"));
                }
            }
            // Interleaved in file order, not one track after the other.
            let at = |q: &Packet| f.packets.iter().position(|p| std::ptr::eq(p, q)).unwrap();
            if let (Some(first), Some(last)) = (pk.first(), pk.last()) {
                let n = f.packets.len();
                if at(first) * 5 > n || at(last) * 5 < 4 * n {
                    fail(format!(
                        "audio packets from {} to {} of {n}: not interleaved with the video",
                        at(first),
                        at(last)
                    ));
                }
            }
            // The same time axis as the video: the offset between the first
            // audio pts and the video's start equals ffprobe's.
            if let (Some(Some(want_a)), Some(want_v), Some(got_a), Some(got_v)) = (
                first_pts.first(),
                g.video_start_ns,
                pk.first().and_then(|p| p.pts_ns),
                video_start,
            ) {
                let (got, want) = (got_a - got_v, want_a - want_v);
                if (got - want).abs() > TOLERANCE_NS {
                    fail(format!(
                        "audio starts {got} ns after the video, ffprobe {want} ns"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 48, "only {checked} audio streams checked");
}

/// Laced Matroska audio (the crate hands every frame of a block the block's
/// time): every frame gets a pts from the frame lengths (Vorbis block sizes
/// from the headers and each packet's mode), strictly increasing.
#[test]
fn laced_vorbis_frames_are_placed_by_their_block_sizes() {
    for path in [
        media_dir().join("crates-matroska-demuxer/simple.mkv"),
        repo_dir().join("tests/data/container/audio/vorbis.mkv"),
    ] {
        let f = demux(&path);
        let t = f
            .tracks
            .iter()
            .find(|t| t.codec == TrackCodec::Audio(AudioCodec::Vorbis))
            .expect("Vorbis track");
        let pts: Vec<i64> = f
            .packets
            .iter()
            .filter(|p| p.track == t.id)
            .map(|p| {
                p.pts_ns
                    .unwrap_or_else(|| panic!("{}: a packet without pts", path.display()))
            })
            .collect();
        assert!(pts.len() > 40, "{}", path.display());
        assert!(
            pts.windows(2).all(|w| w[0] < w[1]),
            "{}: {pts:?}",
            path.display()
        );
    }
}

/// Matroska `DiscardPadding` reaches `Packet::discard_padding_ns` on the
/// packets ffprobe shows it on (its `discard_padding` side data, in samples
/// at the track's rate, FFmpeg `matroskadec.c`), and nowhere else.
#[test]
fn discard_padding_is_on_the_packets_ffprobe_has_it_on() {
    let mut checked = 0;
    for rel in [
        "debian-src-firefox-esr/gizmo.webm",
        "debian-src-firefox-esr/bipbop_short_vp8.webm",
        "remuxed-by-us/gizmo.vp9.mkv",
    ] {
        let path = media_dir().join(rel);
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "a:0", "-show_packets"])
            .args([
                "-show_entries",
                "packet=pts:packet_side_data=discard_padding",
                "-of",
                "compact",
            ])
            .arg(&path)
            .output()
            .expect("ffprobe (scripts/setup-host.sh)");
        // Per packet (in order): its discard_padding in samples, 0 if none.
        let theirs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("packet|"))
            .map(|l| {
                // ffprobe 5: `discard_padding=N`; 7: `side_datum/skip_samples:discard_padding=N`
                l.split('|')
                    .find_map(|f| {
                        let (k, v) = f.split_once('=')?;
                        (k == "discard_padding" || k.ends_with(":discard_padding")).then_some(v)
                    })
                    .map_or(0, |v| v.parse().unwrap())
            })
            .collect();
        let f = demux(&path);
        let t = f
            .tracks
            .iter()
            .find(|t| matches!(t.codec, TrackCodec::Audio(_)))
            .expect("an audio track");
        let rate = u64::from(t.audio.unwrap().sample_rate);
        let ours: Vec<u64> = f
            .packets
            .iter()
            .filter(|p| p.track == t.id)
            .map(|p| {
                assert!(p.discard_padding_ns >= 0, "{rel}: negative DiscardPadding");
                (p.discard_padding_ns as u64 * rate + 500_000_000) / 1_000_000_000
            })
            .collect();
        assert!(
            theirs.iter().any(|&d| d > 0),
            "{rel}: ffprobe shows no padding"
        );
        assert_eq!(ours, theirs, "{rel}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}
