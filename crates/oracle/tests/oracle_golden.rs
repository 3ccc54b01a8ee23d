//! The committed golden normalised traces, all made by
//! tests/oracle/gen-golden.sh from GStreamer on visl only:
//! * tests/golden/{h264,hevc,vp9,vp8,mpeg2}/*.norm: the corpus clips of each codec
//!   (trixie VM: GStreamer 1.26.2, kernel 6.12);
//! * tests/golden/h264/synthetic/*.norm: the synthetic H.264 streams in
//!   tests/data/h264-synthetic/;
//! * tests/golden/hevc-sid/{ext,noext}/*.norm: the generated HEVC clips on
//!   the sid VM (GStreamer 1.28.8, kernel 7.2, visl with HEVC
//!   EXT_SPS_ST/LT_RPS present, and hidden with `hevc_ext_sps_rps=0`);
//!
//! and the offline check of our codec layers against them: container →
//! codec (made by `vreq_codec::make_codec`, so a codec is checked as
//! soon as it is wired in there) → DecodeJobs → emulated visl trace
//! (`oracle::visl_fmt::emulate_opts`) → normalised → compared job by job.

use std::path::{Path, PathBuf};

use vreq_core::CodecKind;
use vreq_oracle::compare::{self, Normalised};
use vreq_oracle::trace::parse;
use vreq_oracle::visl_fmt::{emulate_opts, EmulateOptions};
use vreq_oracle::{codec_jobs_with, normalise::normalise, VislControls};

/// Which goldens: the corpus clips of a codec (clip paths relative to the
/// media dir, golden named after the path with `/` → `--`), the synthetic
/// H.264 streams (clip paths relative to the repo root, golden named after
/// the file name), or the sid HEVC goldens (EXT_SPS controls present or not).
#[derive(Clone, Copy, Debug)]
enum Set {
    Corpus(CodecKind),
    Synthetic,
    SidHevc { ext: bool },
}

impl Set {
    fn golden_dir(self) -> PathBuf {
        let root = vreq_testkit::repo_dir().join("tests/golden");
        match self {
            Set::Corpus(k) => root.join(k.name()),
            Set::Synthetic => root.join("h264/synthetic"),
            Set::SidHevc { ext: true } => root.join("hevc-sid/ext"),
            Set::SidHevc { ext: false } => root.join("hevc-sid/noext"),
        }
    }
    /// The directory a golden's `clip` path is relative to.
    fn clip_base(self) -> PathBuf {
        match self {
            Set::Synthetic => vreq_testkit::repo_dir(),
            _ => vreq_testkit::media_dir(),
        }
    }
    fn golden_name(self, clip: &str) -> String {
        match self {
            Set::Synthetic => format!(
                "{}.norm",
                Path::new(clip).file_name().unwrap().to_string_lossy()
            ),
            _ => format!("{}.norm", clip.replace('/', "--")),
        }
    }
    fn codec(self) -> CodecKind {
        match self {
            Set::Corpus(k) => k,
            Set::Synthetic => CodecKind::H264,
            Set::SidHevc { .. } => CodecKind::Hevc,
        }
    }
    /// The visl the goldens were made on.
    fn visl(self) -> VislControls {
        VislControls {
            hevc_ext_sps_rps: matches!(self, Set::SidHevc { ext: true }),
        }
    }
    /// A field every job of this codec's normalised text has (carried or own).
    fn required_fields(self) -> &'static [&'static str] {
        match self.codec() {
            CodecKind::Hevc => &[
                "sps.pic_width_in_luma_samples",
                "decode_params.pic_order_cnt_val",
                "slice_params.slice_type",
            ],
            CodecKind::Vp9 => &["frame.profile", "compressed_hdr.tx_mode"],
            CodecKind::Vp8 => &["frame.width", "frame.flags", "entropy.y_mode_probs"],
            CodecKind::Mpeg2 => &[
                "sequence.horizontal_size",
                "quantisation.intra_quantiser_matrix",
                "picture.picture_coding_type",
            ],
            _ => &["sps.profile_idc", "decode_params.frame_num"],
        }
    }
}

fn goldens(set: Set) -> Vec<(PathBuf, Normalised)> {
    let dir = set.golden_dir();
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "norm"))
        .collect();
    v.sort();
    v.into_iter()
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            let n = compare::read(&t).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, n)
        })
        .collect()
}

/// SHA-256 of a file, hex (coreutils `sha256sum`, as gen-golden.sh uses).
fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("sha256sum {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "sha256sum {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `clip PATH sha256 HEX` header → PATH.
fn clip_of(n: &Normalised) -> Option<String> {
    n.header.iter().find_map(|h| {
        h.strip_prefix("clip ")
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string)
    })
}

#[test]
fn goldens_parse_and_carry_provenance() {
    check_provenance(Set::Corpus(CodecKind::H264));
}

#[test]
fn synthetic_goldens_parse_and_carry_provenance() {
    check_provenance(Set::Synthetic);
}

#[test]
fn hevc_goldens_parse_and_carry_provenance() {
    check_provenance(Set::Corpus(CodecKind::Hevc));
}

#[test]
fn vp9_goldens_parse_and_carry_provenance() {
    check_provenance(Set::Corpus(CodecKind::Vp9));
}

#[test]
fn vp8_goldens_parse_and_carry_provenance() {
    check_provenance(Set::Corpus(CodecKind::Vp8));
}

#[test]
fn mpeg2_goldens_parse_and_carry_provenance() {
    check_provenance(Set::Corpus(CodecKind::Mpeg2));
}

/// The same coded MPEG-2 stream in different containers gives GStreamer's
/// v4l2slmpeg2dec the same jobs (ES = PS = TS = MKV for movie-hello, PS =
/// TS = MKV for k3bphotosvcd): the demuxers hand over the same pictures, so one
/// stream's goldens cross-check each other.
#[test]
fn mpeg2_goldens_agree_across_containers() {
    let g = goldens(Set::Corpus(CodecKind::Mpeg2));
    let find = |name: &str| {
        &g.iter()
            .find(|(p, _)| p.file_name().unwrap().to_string_lossy() == name)
            .unwrap_or_else(|| panic!("no golden {name}"))
            .1
    };
    for group in [
        &[
            "remuxed-by-us--movie-hello.m2v.norm",
            "debian-forensics-samples-files--movie-hello.mpeg.norm",
            "remuxed-by-us--movie-hello.mpeg2.ts.norm",
            "remuxed-by-us--movie-hello.mpeg2.mkv.norm",
        ][..],
        &[
            "debian-k3b-data--k3bphotosvcd.mpg.norm",
            "remuxed-by-us--k3bphotosvcd.mpeg2-interlaced.ts.norm",
            "remuxed-by-us--k3bphotosvcd.mpeg2-interlaced.mkv.norm",
        ][..],
    ] {
        let a = find(group[0]);
        for other in &group[1..] {
            let c = compare::compare(a, find(other));
            assert!(c.ok(), "{} vs {other}: {c}", group[0]);
        }
    }
}

#[test]
fn hevc_sid_goldens_parse_and_carry_provenance() {
    check_provenance(Set::SidHevc { ext: true });
    check_provenance(Set::SidHevc { ext: false });
}

/// The sid goldens show the EXT_SPS controls exactly when visl had them:
/// the `ext` set has `ext_sps_st_rps` sections, with the SPS's RPSs sent for
/// the `hevc-sps-rps*` clips; the `noext` set has none.
#[test]
fn hevc_sid_goldens_differ_in_ext_sps_only() {
    for ext in [true, false] {
        for (p, n) in goldens(Set::SidHevc { ext }) {
            let has = n
                .jobs
                .iter()
                .all(|f| f.iter().any(|(k, _)| k == "ext_sps_st_rps.elements"));
            assert_eq!(has, ext, "{}", p.display());
            let sent = n.jobs[0]
                .iter()
                .any(|(k, v)| k.starts_with("ext_sps_st_rps[") && v != "(not sent)");
            let rps_clip = p.to_string_lossy().contains("hevc-sps-rps");
            assert_eq!(sent, ext && rps_clip, "{}", p.display());
        }
    }
}

fn check_provenance(set: Set) {
    let g = goldens(set);
    assert!(
        !g.is_empty(),
        "no goldens in {}",
        set.golden_dir().display()
    );
    for (p, n) in &g {
        let name = p.display();
        assert!(
            n.header
                .iter()
                .any(|h| h.contains("from GStreamer only") && h.contains("gstreamer=")),
            "{name}"
        );
        let clip = clip_of(n).unwrap_or_else(|| panic!("{name}: no clip header"));
        assert!(
            n.header
                .iter()
                .any(|h| h.starts_with("clip ") && h.contains(" sha256 ")),
            "{name}"
        );
        assert!(!n.jobs.is_empty(), "{name}: no jobs");
        if let Some(cap) = n.cap {
            assert_eq!(n.jobs.len(), cap, "{name}: cap");
        }
        // every job names its picture; pictures are numbered in first-appearance order
        let mut next = 0usize;
        for (j, f) in n.jobs.iter().enumerate() {
            let pic = f
                .iter()
                .find(|(k, _)| k == "picture")
                .unwrap_or_else(|| panic!("{name}: job {j}"));
            let pic: usize = pic
                .1
                .parse()
                .unwrap_or_else(|_| panic!("{name}: job {j} picture {}", pic.1));
            assert!(pic <= next, "{name}: job {j} picture {pic} skips ahead");
            if pic == next {
                next += 1;
            }
            for key in set.required_fields() {
                assert!(
                    f.iter().any(|(k, _)| k == key),
                    "{name}: job {j} lacks {key}"
                );
            }
        }
        // the file name is derived from the clip path
        assert_eq!(
            p.file_name().unwrap().to_str().unwrap(),
            set.golden_name(&clip)
        );
        // the golden was made from the bytes committed/present now
        if let Set::Synthetic = set {
            let sha = sha256sum(&set.clip_base().join(&clip));
            assert!(
                n.header
                    .iter()
                    .any(|h| h == &format!("clip {clip} sha256 {sha}")),
                "{name}: {clip} sha256 {sha} differs from the golden's"
            );
        }
    }
}

/// Our H.264 codec layer (container → H264Codec → DecodeJobs → emulated visl
/// trace → normalised) against every golden. Prints one line per clip.
#[test]
fn codec_matches_goldens() {
    check_codec(Set::Corpus(CodecKind::H264));
}

/// The same for the synthetic streams (PAFF field pairs, MMCO/long-term/
/// frame_num gaps/list modifications, POC types 1 and 2).
#[test]
fn codec_matches_synthetic_goldens() {
    check_codec(Set::Synthetic);
}

/// Our HEVC codec layer against every HEVC golden (trixie, stock visl 6.12).
#[test]
fn hevc_codec_matches_goldens() {
    check_codec(Set::Corpus(CodecKind::Hevc));
}

/// Our VP9 codec layer against every VP9 golden (trixie, stock visl 6.12).
#[test]
fn vp9_codec_matches_goldens() {
    check_codec(Set::Corpus(CodecKind::Vp9));
}

/// Our VP8 codec layer against every VP8 golden (trixie, stock visl 6.12;
/// the resize clip's golden is PARTIAL: its first 59 jobs).
#[test]
fn vp8_codec_matches_goldens() {
    check_codec(Set::Corpus(CodecKind::Vp8));
}

/// Our MPEG-2 codec layer against every MPEG-2 golden (trixie, stock visl
/// 6.12; ES, PS, TS and MKV clips).
#[test]
fn mpeg2_codec_matches_goldens() {
    check_codec(Set::Corpus(CodecKind::Mpeg2));
}

/// Our HEVC codec layer on the sid goldens: with EXT_SPS_ST/LT_RPS present
/// (it must fill them from the SPS) and hidden (it must send nothing extra).
#[test]
fn hevc_codec_matches_sid_goldens() {
    check_codec(Set::SidHevc { ext: true });
    check_codec(Set::SidHevc { ext: false });
}

/// Clips GStreamer decodes on visl (visl checks nothing) but that are out of
/// vreqplay's scope (tests/oracle/out-of-scope.tsv, shared with run.sh): our
/// codec must refuse them with a clear "unsupported stream" error instead
/// of matching the golden. (clip, why)
fn out_of_scope() -> Vec<(String, String)> {
    let p = vreq_testkit::repo_dir().join("tests/oracle/out-of-scope.tsv");
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (c, why) = l.split_once('\t').unwrap_or((l, ""));
            (c.to_string(), why.to_string())
        })
        .collect()
}

fn check_codec(set: Set) {
    let base = set.clip_base();
    let mut failed = Vec::new();
    let mut n = 0;
    let out_of_scope = out_of_scope();
    let opts = EmulateOptions {
        codec: Some(set.codec()),
        hevc_ext_sps_rps: set.visl().hevc_ext_sps_rps,
    };
    for (p, gold) in goldens(set) {
        n += 1;
        let clip = clip_of(&gold).unwrap();
        let res =
            codec_jobs_with(&base.join(&clip), set.visl(), gold.cap).and_then(|(kind, jobs)| {
                if kind != set.codec() {
                    return Err(format!("picked a {kind} track, golden is {}", set.codec()));
                }
                let t = parse(&emulate_opts(&jobs, &opts)).map_err(|e| e.to_string())?;
                compare::read(&normalise(&t, &[], None)).map_err(|e| e.to_string())
            });
        if let Some((_, why)) = out_of_scope.iter().find(|(c, _)| *c == clip) {
            let line = match res {
                Err(e) if e.contains("unsupported stream") => {
                    format!("{clip}: refused as expected ({why}): {e}")
                }
                Err(e) => {
                    failed.push(clip.clone());
                    format!("{clip}: out of scope ({why}) but failed otherwise: {e}")
                }
                Ok(_) => {
                    failed.push(clip.clone());
                    format!("{clip}: out of scope ({why}) but decoded")
                }
            };
            println!("{line}  [{}]", p.file_name().unwrap().to_string_lossy());
            continue;
        }
        let line = match res {
            Ok(ours) => {
                let c = compare::compare(&gold, &ours);
                if !c.ok() {
                    failed.push(clip.clone());
                }
                format!("{clip}: {c}")
            }
            Err(e) => {
                failed.push(clip.clone());
                format!("{clip}: codec failed: {e}")
            }
        };
        println!("{line}  [{}]", p.file_name().unwrap().to_string_lossy());
    }
    assert!(n > 0, "no goldens in {}", set.golden_dir().display());
    assert!(
        failed.is_empty(),
        "{} clips differ from GStreamer: {failed:?}",
        failed.len()
    );
}

/// The segment goldens of one codec (`tests/golden/CODEC/segments/`, made by
/// `gen-golden.sh -s`): per clip, its path and its segment goldens in order.
/// Checks their provenance on the way: every segment golden names the clip
/// (with sha256), `segment NN of K` with NN its position and K the number of
/// segment files of that clip, and GStreamer's frame count.
fn segment_goldens(codec: CodecKind) -> Vec<(String, Vec<Normalised>)> {
    let dir = Set::Corpus(codec).golden_dir().join("segments");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "norm"))
        .collect();
    files.sort();
    let mut clips: Vec<(String, Vec<Normalised>)> = Vec::new();
    for p in files {
        let name = p.display().to_string();
        let t = std::fs::read_to_string(&p).unwrap();
        let n = compare::read(&t).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            n.header
                .iter()
                .any(|h| h.contains("from GStreamer only") && h.contains("gstreamer=")),
            "{name}"
        );
        assert!(
            n.header.iter().any(|h| h.starts_with("gst frames ")),
            "{name}"
        );
        assert!(!n.jobs.is_empty(), "{name}: no jobs");
        let clip = clip_of(&n).unwrap_or_else(|| panic!("{name}: no clip header"));
        let seg = n
            .header
            .iter()
            .find_map(|h| h.strip_prefix("segment "))
            .unwrap_or_else(|| panic!("{name}: no segment header"))
            .to_string();
        let fname = p.file_name().unwrap().to_string_lossy().to_string();
        let pos = match clips.last_mut() {
            Some((c, v)) if *c == clip => {
                v.push(n);
                v.len() - 1
            }
            _ => {
                clips.push((clip.clone(), vec![n]));
                0
            }
        };
        assert!(
            seg.starts_with(&format!("{pos:02} of ")),
            "{name}: segment header `{seg}` at position {pos}"
        );
        assert_eq!(
            fname,
            format!("{}--seg{pos:02}.norm", clip.replace('/', "--")),
            "{name}"
        );
    }
    for (clip, v) in &clips {
        for n in v {
            let seg = n
                .header
                .iter()
                .find_map(|h| h.strip_prefix("segment "))
                .unwrap();
            let k: usize = seg
                .split_whitespace()
                .nth(2)
                .and_then(|x| x.trim_end_matches(':').parse().ok())
                .unwrap_or(0);
            assert_eq!(k, v.len(), "{clip}: `segment {seg}` vs {} files", v.len());
        }
    }
    clips
}

/// tests/oracle/known-differences.tsv (shared with run.sh / vreq-oracle
/// report): (clip, the exact segment comparison result, why).
fn known_differences() -> Vec<(String, String, String)> {
    let p = vreq_testkit::repo_dir().join("tests/oracle/known-differences.tsv");
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let c = f.next().unwrap_or_default().to_string();
            let r = f.next().unwrap_or_default().to_string();
            let w = f.next().unwrap_or_default().to_string();
            (c, r, w)
        })
        .collect()
}

/// Our codec over the WHOLE clip (its mid-stream reconfiguration is what is
/// tested) against the segment goldens of clips that change resolution
/// mid-stream: our trace is split at its sequence starts and compared
/// segment by segment, decode indices re-based per segment
/// (`oracle::compare::compare_segments`). Prints one line per segment.
fn check_segments(codec: CodecKind) {
    let clips = segment_goldens(codec);
    assert!(!clips.is_empty(), "no segment goldens for {codec}");
    let opts = EmulateOptions {
        codec: Some(codec),
        hevc_ext_sps_rps: false,
    };
    let mut failed = Vec::new();
    let known = known_differences();
    for (clip, segs) in clips {
        let res = codec_jobs_with(
            &vreq_testkit::media_dir().join(&clip),
            VislControls::default(),
            None,
        )
        .and_then(|(kind, jobs)| {
            if kind != codec {
                return Err(format!("picked a {kind} track, goldens are {codec}"));
            }
            let t = parse(&emulate_opts(&jobs, &opts)).map_err(|e| e.to_string())?;
            compare::read(&normalise(&t, &[], None)).map_err(|e| e.to_string())
        });
        match res {
            Ok(ours) => {
                let c = compare::compare_segments(&segs, &ours);
                let known = known.iter().find(|(k, _, _)| *k == clip);
                match known {
                    Some((_, expected, why)) => {
                        if c.to_string() == *expected {
                            println!("{clip}: KNOWN DIFFERENCE ({why}): {c}");
                        } else {
                            println!("{clip}: {c}; known difference listed as `{expected}`: update tests/oracle/known-differences.tsv");
                            failed.push(clip.clone());
                        }
                    }
                    None => {
                        println!("{clip}: {c}");
                        if !c.ok() {
                            failed.push(clip.clone());
                        }
                    }
                }
                for l in c.per_segment() {
                    println!("  {l}");
                }
            }
            Err(e) => {
                println!("{clip}: codec failed: {e}");
                failed.push(clip);
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} clips differ from GStreamer's segments: {failed:?}",
        failed.len()
    );
}

#[test]
fn vp9_codec_matches_segment_goldens() {
    check_segments(CodecKind::Vp9);
}

/// VP8: the WebM resize clip against its two IVF segment goldens
/// (segment.py cuts WebM → IVF, coded bytes unchanged).
#[test]
fn vp8_codec_matches_segment_goldens() {
    check_segments(CodecKind::Vp8);
}

#[test]
fn hevc_codec_matches_segment_goldens() {
    check_segments(CodecKind::Hevc);
}

/// Every job equal, like the others (a clip listed in
/// tests/oracle/known-differences.tsv passes only while its result is
/// exactly the listed one).
#[test]
fn h264_codec_matches_segment_goldens() {
    check_segments(CodecKind::H264);
}

/// The segment goldens were made from exactly what `tests/oracle/segment.py`
/// cuts now: it is re-run on each clip and every cut file's sha256, frame
/// range and size must equal its golden's `segment NN of K: frames A..B WxH
/// file F sha256 S` header (and the clip's sha256 the `clip` header).
/// Needs python3 (the cutter's language; scripts/setup-host.sh's machine has it).
#[test]
fn segment_goldens_match_the_cuts() {
    assert!(
        std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_ok(),
        "python3 not found: it runs tests/oracle/segment.py"
    );
    let script = vreq_testkit::repo_dir().join("tests/oracle/segment.py");
    let mut n = 0;
    for codec in [
        CodecKind::H264,
        CodecKind::Hevc,
        CodecKind::Vp9,
        CodecKind::Vp8,
    ] {
        for (clip, segs) in segment_goldens(codec) {
            let src = vreq_testkit::media_dir().join(&clip);
            let sha = sha256sum(&src);
            let out = std::env::temp_dir().join(format!(
                "vreq-segcheck-{}-{}",
                std::process::id(),
                clip.replace('/', "--")
            ));
            let r = std::process::Command::new("python3")
                .arg(&script)
                .arg(&src)
                .arg(&out)
                .output()
                .unwrap();
            assert!(
                r.status.success(),
                "segment.py {clip}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            let lines: Vec<String> = String::from_utf8_lossy(&r.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            assert_eq!(lines.len(), segs.len(), "{clip}: cuts vs segment goldens");
            for (k, (line, g)) in lines.iter().zip(&segs).enumerate() {
                let f: Vec<&str> = line.split('\t').collect();
                assert_eq!(f.len(), 4, "{clip}: segment.py line `{line}`");
                let fsha = sha256sum(&out.join(f[0]));
                let want = format!(
                    "segment {k:02} of {}: frames {}..{} {} file {} sha256 {fsha} (cut by tests/oracle/segment.py)",
                    segs.len(),
                    f[1],
                    f[2],
                    f[3],
                    f[0]
                );
                assert!(
                    g.header.contains(&want),
                    "{clip}: segment {k}: no header `{want}` in {:?}",
                    g.header
                );
                assert!(
                    g.header
                        .iter()
                        .any(|h| *h == format!("clip {clip} sha256 {sha}")),
                    "{clip}: the clip's sha256 {sha} differs from the golden's"
                );
                n += 1;
            }
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    assert!(n > 0, "no segment goldens");
}
