//! Replays every input under `tests/data/fuzz-regressions/<target>/` (repo
//! root) through the body of fuzz target `<target>` (`vreq_fuzz::TARGETS`):
//! each must return — no panic — within [`LIMIT`] (a watchdog thread fails
//! the test otherwise). A directory named after no target fails the test,
//! so a renamed target cannot silently drop its inputs.
//!
//! `VREQ_FUZZ_REGRESSIONS=DIR` replays `DIR/<target>/*` instead (e.g.
//! `fuzz/corpus` or `fuzz/artifacts`: a corpus on the stable toolchain).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Per-input time limit (debug build; libFuzzer's is 1 s on an optimised one).
const LIMIT: Duration = Duration::from_secs(10);

fn root() -> PathBuf {
    if let Some(d) = std::env::var_os("VREQ_FUZZ_REGRESSIONS") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/fuzz-regressions")
}

fn run_one(name: &'static str, body: fn(&[u8]), file: PathBuf) -> Result<Duration, String> {
    let data = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let label = format!("{name}/{}", file.file_name().unwrap().to_string_lossy());
    std::thread::Builder::new()
        .name(label.clone())
        .spawn(move || {
            // a panic drops `tx` unsent: the receiver sees Disconnected
            body(&data);
            let _ = tx.send(());
        })
        .expect("spawn");
    match rx.recv_timeout(LIMIT) {
        Ok(()) => Ok(start.elapsed()),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(format!("{label}: panicked")),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("{label}: still running after {LIMIT:?} (hang)"))
        }
    }
}

#[test]
fn every_regression_input_finishes() {
    let root = root();
    let mut failures = Vec::new();
    let mut count = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .map(|r| r.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let dname = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(&(name, body)) = vreq_fuzz::TARGETS.iter().find(|(n, _)| *n == dname) else {
            failures.push(format!("{}: no fuzz target of that name", dir.display()));
            continue;
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            count += 1;
            match run_one(name, body, f) {
                Ok(_) => {}
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!("replayed {count} fuzz regression inputs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The bodies run on inputs they are not meant for (each target's seed
/// kinds crossed with the others) without panicking: a smoke test that the
/// replay harness itself works and every target is reachable.
#[test]
fn every_target_takes_junk() {
    let inputs: [&[u8]; 4] = [
        b"",
        b"\x00\x00\x00\x01\x67\x42\x00\x1e",
        b"\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1f",
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    ];
    for &(name, body) in vreq_fuzz::TARGETS {
        for i in inputs {
            let f = std::env::temp_dir().join(format!("vreq-fuzz-junk-{}", std::process::id()));
            std::fs::write(&f, i).unwrap();
            let r = run_one(name, body, f.clone());
            let _ = std::fs::remove_file(&f);
            assert!(r.is_ok(), "{name}: {r:?}");
        }
    }
}
