//! The player aborts on a panic in any thread ([`vreqplay::abort_on_panic`],
//! installed first by `main`): the release profile unwinds (Cargo.toml), so
//! this hook is what keeps "a panic is never caught on the data path" true.
//! Each case runs this test binary again as a child process (the hook is
//! process-global and ends the process) and looks at how the child ended.

#![forbid(unsafe_code)]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

/// SIGABRT's number on Linux, every architecture (signal(7)), what
/// `abort()` raises.
const SIGABRT: i32 = 6;
/// The child's mode, from the parent: "hook" installs the hook, "none" not.
const CHILD: &str = "VREQ_TEST_ABORT_CHILD";
/// What the child prints after its worker thread's panic was joined: never
/// with the hook.
const AFTER: &str = "the main thread went on after the panic";

/// The child's body: a worker thread panics; the main thread joins it.
fn child(hook: bool) -> ! {
    if hook {
        vreqplay::abort_on_panic();
    }
    let worker = std::thread::Builder::new()
        .name("decode".into())
        .spawn(|| panic!("a deliberate panic in a worker thread"))
        .expect("spawn");
    let joined = worker.join();
    eprintln!(
        "{AFTER} (join: {})",
        if joined.is_err() { "Err" } else { "Ok" }
    );
    std::process::exit(0);
}

fn run_child(test: &str, mode: &str) -> Output {
    Command::new(std::env::current_exe().expect("current_exe"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .output()
        .expect("run the test binary as the child")
}

fn child_mode() -> Option<bool> {
    std::env::var(CHILD).ok().map(|m| m == "hook")
}

#[test]
fn a_panic_in_a_worker_thread_aborts_the_process() {
    if let Some(hook) = child_mode() {
        child(hook);
    }
    let out = run_child("a_panic_in_a_worker_thread_aborts_the_process", "hook");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "the child must die by SIGABRT: {:?}\n{err}",
        out.status
    );
    assert!(
        err.contains("thread 'decode'")
            && err.contains("panicked")
            && err.contains("a deliberate panic"),
        "the standard panic message is printed first:\n{err}"
    );
    assert!(!err.contains(AFTER), "nothing runs after the panic:\n{err}");
}

/// The control: without the hook the same child survives its worker's panic
/// (the profile unwinds), so the case above tests the hook, not the harness.
#[test]
fn without_the_hook_the_process_goes_on() {
    if let Some(hook) = child_mode() {
        child(hook);
    }
    let out = run_child("without_the_hook_the_process_goes_on", "none");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{:?}\n{err}", out.status);
    assert!(err.contains(AFTER) && err.contains("join: Err"), "{err}");
}
