//! The committed golden normalised traces (tests/golden/h264/*.norm, made
//! by tests/oracle/gen-golden.sh from GStreamer on visl only), and the
//! offline check of our codec layer against them.

use std::path::PathBuf;

use vreqplay::oracle::compare::{self, Normalised};
use vreqplay::oracle::{codec_jobs, normalise_trace, visl_fmt::emulate};

fn goldens() -> Vec<(PathBuf, Normalised)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/h264");
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

/// `clip PATH sha256 HEX` header → PATH.
fn clip_of(n: &Normalised) -> Option<String> {
    n.header.iter().find_map(|h| h.strip_prefix("clip ").and_then(|r| r.split_whitespace().next()).map(str::to_string))
}

#[test]
fn goldens_parse_and_carry_provenance() {
    let g = goldens();
    assert!(!g.is_empty(), "no goldens in tests/golden/h264");
    for (p, n) in &g {
        let name = p.display();
        assert!(n.header.iter().any(|h| h.contains("from GStreamer only") && h.contains("gstreamer=")), "{name}");
        let clip = clip_of(n).unwrap_or_else(|| panic!("{name}: no clip header"));
        assert!(n.header.iter().any(|h| h.starts_with("clip ") && h.contains(" sha256 ")), "{name}");
        assert!(!n.jobs.is_empty(), "{name}: no jobs");
        if let Some(cap) = n.cap {
            assert_eq!(n.jobs.len(), cap, "{name}: cap");
        }
        // every job names its picture; pictures are numbered in first-appearance order
        let mut next = 0usize;
        for (j, f) in n.jobs.iter().enumerate() {
            let pic = f.iter().find(|(k, _)| k == "picture").unwrap_or_else(|| panic!("{name}: job {j}"));
            let pic: usize = pic.1.parse().unwrap_or_else(|_| panic!("{name}: job {j} picture {}", pic.1));
            assert!(pic <= next, "{name}: job {j} picture {pic} skips ahead");
            if pic == next {
                next += 1;
            }
            assert!(f.iter().any(|(k, _)| k == "sps.profile_idc"), "{name}: job {j} lacks sps");
            assert!(f.iter().any(|(k, _)| k == "decode_params.frame_num"), "{name}: job {j} lacks decode_params");
        }
        // the file name is derived from the clip path
        assert_eq!(p.file_name().unwrap().to_str().unwrap(), format!("{}.norm", clip.replace('/', "--")));
    }
}

/// Our codec layer (container → H264Codec → DecodeJobs → emulated visl
/// trace → normalised) against every golden. Prints one line per clip.
#[test]
fn codec_matches_goldens() {
    let media = vreqplay::testutil::media_dir();
    let mut failed = Vec::new();
    for (p, gold) in goldens() {
        let clip = clip_of(&gold).unwrap();
        let res = codec_jobs(&media.join(&clip), gold.cap).and_then(|jobs| {
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
    assert!(failed.is_empty(), "{} clips differ from GStreamer: {failed:?}", failed.len());
}
