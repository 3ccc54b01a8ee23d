//! Generates, into `$OUT_DIR`:
//! * `va_sys.rs`: bindgen over libva's `va/va.h`, `va/va_backend.h` and
//!   `va/va_drmcommon.h` (Debian `libva-dev`; the system include path);
//! * `va_init.rs`: the driver's init function exported as
//!   `__vaDriverInit_<VA_MAJOR_VERSION>_<VA_MINOR_VERSION>` of those headers
//!   (libva's va.c `va_openDriver` dlsym()s that name);
//! * `vtable_stubs.rs`: one `VA_STATUS_ERROR_UNIMPLEMENTED` stub per
//!   `VADriverVTable` slot of those headers, with its exact signature, and
//!   `fill_unimplemented` setting every slot to its stub.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_type("VA.*|drm_state")
        .allowlist_var("VA_.*")
        .prepend_enum_name(false)
        .generate_comments(false)
        .derive_default(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect(
            "bindgen over libva's va/va_backend.h (is libva-dev installed? scripts/setup-host.sh)",
        );
    let text = bindings.to_string();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(out.join("va_sys.rs"), &text).unwrap();

    let major = const_u32(&text, "VA_MAJOR_VERSION");
    let minor = const_u32(&text, "VA_MINOR_VERSION");
    let symbol = format!("__vaDriverInit_{major}_{minor}");
    let init = format!(
        r#"/// The init symbol libva dlsym()s: `__vaDriverInit_<VA_MAJOR_VERSION>_<VA_MINOR_VERSION>`
/// of the libva headers this driver was built against (libva va.c `va_openDriver`
/// tries its own minor version first, then every older one down to 0).
pub const INIT_SYMBOL: &str = "{symbol}";
/// VA_MAJOR_VERSION / VA_MINOR_VERSION of the headers built against.
pub const VA_VERSION: (u32, u32) = ({major}, {minor});

/// The driver's entry point, exported as [`INIT_SYMBOL`]: libva calls it once
/// after dlopen() with its `VADriverContext` (vtable already allocated).
///
/// # Safety
/// `ctx` is null or points to a `VADriverContext` of libva ≥ {major}.{minor}
/// whose `vtable` is null or points to a zeroed `VADriverVTable`.
#[export_name = "{symbol}"]
pub unsafe extern "C" fn va_driver_init(ctx: sys::VADriverContextP) -> sys::VAStatus {{
    // SAFETY: the caller's contract is driver_init's.
    unsafe {{ driver_init(ctx, discover_devices) }}
}}
"#
    );
    fs::write(out.join("va_init.rs"), init).unwrap();
    fs::write(out.join("vtable_stubs.rs"), vtable_stubs(&text)).unwrap();
}

/// The value of `pub const NAME: u32 = N;` in bindgen's output.
fn const_u32(text: &str, name: &str) -> u32 {
    let pat = format!("pub const {name}: u32 = ");
    let at = text
        .find(&pat)
        .unwrap_or_else(|| panic!("{name} not in libva's headers"))
        + pat.len();
    let end = text[at..].find(';').unwrap() + at;
    text[at..end].trim().parse().unwrap()
}

/// Splits `s` at commas outside (), <> and [] (`->` is no bracket).
fn split_top(s: &str) -> Vec<String> {
    let (mut depth, mut cur, mut out) = (0i32, String::new(), Vec::new());
    for ch in s.chars() {
        match ch {
            '(' | '<' | '[' => depth += 1,
            '>' if cur.ends_with('-') => {} // `->`
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur);
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn vtable_stubs(text: &str) -> String {
    let start = text
        .find("pub struct VADriverVTable {")
        .expect("VADriverVTable")
        + 27;
    let end = text[start..].find("\n}").unwrap() + start;
    let body: String = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut slots = Vec::new(); // (name, params, ret)
    for field in split_top(&body) {
        let field = field.trim_start_matches("pub ").trim();
        let Some((name, ty)) = field.split_once(':') else {
            continue;
        };
        let ty = ty.trim();
        let Some(fn_at) = ty.find("fn(") else {
            continue;
        }; // reserved[]
        let args_start = fn_at + 3;
        let mut depth = 1;
        let mut args_end = args_start;
        for (i, ch) in ty[args_start..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        args_end = args_start + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let rest = &ty[args_end + 1..];
        let ret = rest
            .trim()
            .strip_prefix("->")
            .expect("every vtable slot returns a value")
            .trim()
            .trim_end_matches('>')
            .trim()
            .trim_end_matches(',')
            .trim()
            .to_string();
        assert_eq!(ret, "VAStatus", "vtable slot {name} returns {ret}");
        slots.push((
            name.trim().to_string(),
            split_top(&ty[args_start..args_end]),
        ));
    }
    assert!(
        slots.len() > 40,
        "VADriverVTable parsed badly: {} slots",
        slots.len()
    );
    let mut s = String::new();
    s += "/// Every slot of `VADriverVTable` in the libva headers built against, in order.\n";
    s += "pub(crate) const VTABLE_SLOTS: &[&str] = &[\n";
    for (name, _) in &slots {
        let _ = writeln!(s, "    \"{name}\",");
    }
    s += "];\n\n";
    for (name, params) in &slots {
        let params: Vec<String> = params.iter().map(|p| format!("_{p}")).collect();
        let _ = writeln!(
            s,
            "#[allow(non_snake_case)]\nextern \"C\" fn unimplemented_{name}({}) -> sys::VAStatus {{\n    unimplemented_entry(\"{name}\")\n}}\n",
            params.join(", ")
        );
    }
    s += "/// Sets every slot of `vt` to its `VA_STATUS_ERROR_UNIMPLEMENTED` stub.\n";
    s += "pub(super) fn fill_unimplemented(vt: &mut sys::VADriverVTable) {\n";
    for (name, _) in &slots {
        let _ = writeln!(s, "    vt.{name} = Some(unimplemented_{name});");
    }
    s += "}\n\n";
    s += "/// The slots of `vt` that are not set (for tests: none after init).\n";
    s += "#[allow(dead_code)]\npub(super) fn unset_slots(vt: &sys::VADriverVTable) -> Vec<&'static str> {\n    let mut v = Vec::new();\n";
    for (name, _) in &slots {
        let _ = writeln!(
            s,
            "    if vt.{name}.is_none() {{\n        v.push(\"{name}\");\n    }}"
        );
    }
    s += "    v\n}\n";
    s
}
