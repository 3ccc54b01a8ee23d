//! The uAPI structs vreqplay passes to V4L2 ioctls have, in `v4l2r::bindings`
//! (bindgen, run for the target: `TARGET` → clang's `--target`), the size and
//! field offsets the target's C compiler gives them over the same headers
//! (third_party/linux-uapi). A mismatch means an ioctl whose number encodes
//! one size is passed a struct of another, or a field read at the wrong
//! byte: exactly what differs between amd64, arm64 and armhf. The list:
//! tests/uapi_layout.list; the C side: build.rs. Runs on the host (amd64) in
//! `cargo test` and on arm64 under qemu-user (the arm64 .deb's tests,
//! scripts/check-packages.sh; or scripts/cross-arm64.sh test).

mod table {
    include!(concat!(env!("OUT_DIR"), "/uapi_layout.rs"));
}

extern "C" {
    /// `sizeof` / `offsetof` values compiled by the target's C compiler, in
    /// the order of `table::RUST` (build.rs writes both from one list).
    static vreq_uapi_layout: [u64; table::N];
}

/// The C compiler's table.
fn c_layout() -> [u64; table::N] {
    // SAFETY: `vreq_uapi_layout` is a `const unsigned long long[N]` defined by
    // build.rs's C file with the same `N`; it is immutable data, read by value.
    unsafe { vreq_uapi_layout }
}

#[test]
fn bindgen_layouts_equal_the_c_compilers() {
    let c = c_layout();
    let mut bad = Vec::new();
    for ((what, rust), c) in table::RUST.iter().zip(c) {
        if *rust as u64 != c {
            bad.push(format!("{what}: C {c}, v4l2r::bindings {rust}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} uAPI layout entries differ on {}:\n{}",
        bad.len(),
        table::N,
        std::env::consts::ARCH,
        bad.join("\n")
    );
    // the table is not empty and holds real sizes
    assert!(table::N > 100 && c.iter().all(|&v| v < 1 << 20));
}

/// The pointer- and `long`-bearing structs follow the target's word size
/// (their ioctl numbers differ between 64-bit amd64/arm64 and 32-bit armhf):
/// the kernel's layouts, counted by hand from videodev2.h. 64-bit:
/// v4l2_buffer 4·5 u32, pad 4, timeval 16, timecode 16, 2 u32, union 8,
/// 3 u32, pad 4 = 88; 32-bit (32-bit time_t): 20 + 8 + 16 + 8 + 4 + 12 = 68.
/// v4l2_ext_controls: 5 u32 (+ pad 4) + pointer = 32 / 24.
#[test]
fn word_size_dependent_structs_show_it() {
    let c = c_layout();
    let get = |what: &str| {
        let i = table::RUST
            .iter()
            .position(|(w, _)| *w == what)
            .unwrap_or_else(|| panic!("{what} not in tests/uapi_layout.list"));
        c[i]
    };
    let (buf, ext) = (
        get("sizeof(struct v4l2_buffer)"),
        get("sizeof(struct v4l2_ext_controls)"),
    );
    println!(
        "{}: sizeof v4l2_buffer {buf}, v4l2_ext_controls {ext}, v4l2_event {}",
        std::env::consts::ARCH,
        get("sizeof(struct v4l2_event)")
    );
    if cfg!(target_pointer_width = "64") {
        assert_eq!((buf, ext), (88, 32));
    } else {
        assert_eq!((buf, ext), (68, 24));
    }
}
