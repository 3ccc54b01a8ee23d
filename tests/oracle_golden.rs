//! The committed golden normalised traces (tests/golden/h264/*.norm for the
//! corpus clips, tests/golden/h264/synthetic/*.norm for the synthetic streams
//! in tests/data/h264-synthetic/; all made by tests/oracle/gen-golden.sh from
//! GStreamer on visl only), and the offline check of our codec layer against
//! them.

use std::path::{Path, PathBuf};

use vreqplay::oracle::compare::{self, Normalised};
use vreqplay::oracle::{codec_jobs, normalise_trace, visl_fmt::emulate};

/// Which goldens: the corpus clips (clip paths relative to the media dir,
/// golden named after the path with `/` → `--`) or the synthetic streams
/// (clip paths relative to the repo root, golden named after the file name).
#[derive(Clone, Copy, Debug)]
enum Set {
    Corpus,
    Synthetic,
}

impl Set {
    fn golden_dir(self) -> PathBuf {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/h264");
        match self {
            Set::Corpus => root,
            Set::Synthetic => root.join("synthetic"),
        }
    }
    /// The directory a golden's `clip` path is relative to.
    fn clip_base(self) -> PathBuf {
        match self {
            Set::Corpus => vreqplay::testutil::media_dir(),
            Set::Synthetic => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        }
    }
    fn golden_name(self, clip: &str) -> String {
        match self {
            Set::Corpus => format!("{}.norm", clip.replace('/', "--")),
            Set::Synthetic => format!(
                "{}.norm",
                Path::new(clip).file_name().unwrap().to_string_lossy()
            ),
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
    check_provenance(Set::Corpus);
}

#[test]
fn synthetic_goldens_parse_and_carry_provenance() {
    check_provenance(Set::Synthetic);
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
            assert!(
                f.iter().any(|(k, _)| k == "sps.profile_idc"),
                "{name}: job {j} lacks sps"
            );
            assert!(
                f.iter().any(|(k, _)| k == "decode_params.frame_num"),
                "{name}: job {j} lacks decode_params"
            );
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

/// Our codec layer (container → H264Codec → DecodeJobs → emulated visl
/// trace → normalised) against every golden. Prints one line per clip.
#[test]
fn codec_matches_goldens() {
    check_codec(Set::Corpus);
}

/// The same for the synthetic streams (PAFF field pairs, MMCO/long-term/
/// frame_num gaps/list modifications, POC types 1 and 2).
#[test]
fn codec_matches_synthetic_goldens() {
    check_codec(Set::Synthetic);
}

fn check_codec(set: Set) {
    let base = set.clip_base();
    let mut failed = Vec::new();
    let mut n = 0;
    for (p, gold) in goldens(set) {
        n += 1;
        let clip = clip_of(&gold).unwrap();
        let res = codec_jobs(&base.join(&clip), gold.cap).and_then(|jobs| {
            let n = normalise_trace(&emulate(&jobs), &[], None).map_err(|e| e.to_string())?;
            compare::read(&n).map_err(|e| e.to_string())
        });
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
