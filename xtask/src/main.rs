//! `cargo xtask` (alias in `.cargo/config.toml`): vreqplay's build tasks.
//! A build tool, not shipped (docs/ARCHITECTURE.md, "The crates").
//!
//! `cargo xtask assets OUT` (= `cargo run -p xtask --locked -- assets OUT`)
//! writes what packages install beside the binary, generated from the clap
//! definition ([`vreqplay::cli::Cli`]) and the code's tables, never from
//! hand-kept text:
//! - `OUT/man/vreqplay.1`: clap_mangen's NAME, SYNOPSIS, DESCRIPTION and
//!   OPTIONS, then KEYS (the key map the player dispatches on,
//!   `vreq_present::keys::BINDINGS`), SIGNALS, EXIT STATUS, ENVIRONMENT,
//!   FILES, VERSION and SEE ALSO (`vreqplay::cli`'s tables, through the
//!   `roff` crate);
//! - `OUT/completions/vreqplay.bash`, `OUT/completions/_vreqplay` (zsh),
//!   `OUT/completions/vreqplay.fish` (clap_complete).
//!
//! The desktop entry, the icon and the AppStream metainfo are static files
//! under `assets/`; `scripts/make-icons.sh` makes the PNG icons and
//! `scripts/check-assets.sh` validates all of it.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clap_complete::{Generator, Shell};
use roff::{bold, italic, roman, Roff};
use vreqplay::cli::{
    binding_keys, Cli, Entry, BINDINGS, ENVIRONMENT, EXIT_STATUS, FILES, KEYS_HEADING, KEYS_NOTE,
    SEE_ALSO, SIGNALS_NOTE,
};

/// The program's name: the binary, the man page, the completions' command.
const BIN: &str = "vreqplay";

/// A roff request without arguments (`.TP`, `.PP`).
const NO_ARGS: [&str; 0] = [];

/// The shells completions are written for, as clap_complete names their files.
const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// vreqplay's build tasks.
#[derive(Parser, Debug)]
#[command(name = "xtask", about)]
enum Task {
    /// Write the man page (OUT/man/vreqplay.1) and the shell completions
    /// (OUT/completions/vreqplay.bash, _vreqplay, vreqplay.fish).
    Assets {
        /// The output directory (created; existing files are replaced).
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    match Task::parse() {
        Task::Assets { out } => match assets(&out) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Writes the man page and the completions under `out`; returns the paths
/// written. Errors: a directory or file that cannot be written (the path
/// and the OS error, one line).
fn assets(out: &Path) -> Result<Vec<PathBuf>, String> {
    let write = |path: PathBuf, bytes: &[u8]| -> Result<PathBuf, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    };
    let mut written = vec![write(
        out.join("man").join(format!("{BIN}.1")),
        man_page().as_bytes(),
    )?];
    for shell in SHELLS {
        written.push(write(
            out.join("completions").join(shell.file_name(BIN)),
            &completion(shell),
        )?);
    }
    Ok(written)
}

/// The completion script of `shell` for vreqplay's command line.
fn completion(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut buf);
    buf
}

/// `vreqplay.1`: clap_mangen's sections of the command, then the ones clap
/// cannot know, from `vreqplay::cli`'s tables.
fn man_page() -> String {
    // --help's text after the options is these same tables; the man page
    // has them as sections of their own instead of clap_mangen's EXTRA
    let cmd = Cli::command().after_long_help(None::<&str>);
    let man = clap_mangen::Man::new(cmd)
        .manual("User Commands")
        .date(man_date());
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    type Render = fn(&clap_mangen::Man, &mut dyn std::io::Write) -> std::io::Result<()>;
    let sections: [Render; 5] = [
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
    ];
    for render in sections {
        let mut buf = Vec::new();
        render(&man, &mut buf).expect("writing to a Vec");
        pieces.push(buf);
    }
    let mut buf = Vec::new();
    man.render_version_section(&mut buf)
        .expect("writing to a Vec");
    let version = buf;

    let mut roff = Roff::new();
    roff.control("SH", ["KEYS"]);
    roff.text([roman(KEYS_HEADING)]);
    for b in BINDINGS {
        roff.control("TP", NO_ARGS);
        let keys = binding_keys(b);
        let mut inlines = Vec::new();
        for (i, k) in keys.split(", ").enumerate() {
            if i > 0 {
                inlines.push(roman(", "));
            }
            inlines.push(bold(k));
        }
        roff.text(inlines);
        roff.text([roman(b.help)]);
    }
    roff.control("PP", NO_ARGS);
    roff.text([roman(KEYS_NOTE)]);

    roff.control("SH", ["SIGNALS"]);
    roff.text([roman(SIGNALS_NOTE)]);

    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman("As mpv's:")]);
    for (code, text) in EXIT_STATUS {
        roff.control("TP", NO_ARGS);
        roff.text([bold(code.to_string())]);
        roff.text([roman(*text)]);
    }

    let list = |roff: &mut Roff, title: &str, entries: &[Entry], tag: fn(&str) -> roff::Inline| {
        roff.control("SH", [title]);
        for e in entries {
            roff.control("TP", NO_ARGS);
            let mut inlines = Vec::new();
            for (i, name) in e.name.split(", ").enumerate() {
                if i > 0 {
                    inlines.push(roman(", "));
                }
                inlines.push(tag(name));
            }
            roff.text(inlines);
            roff.text([roman(e.text)]);
        }
    };
    list(&mut roff, "ENVIRONMENT", ENVIRONMENT, |s| bold(s));
    list(&mut roff, "FILES", FILES, |s| italic(s));
    let extra = roff.render();

    let mut see_also = Roff::new();
    see_also.control("SH", ["SEE ALSO"]);
    let mut inlines = Vec::new();
    for (i, (page, section)) in SEE_ALSO.iter().enumerate() {
        if i > 0 {
            inlines.push(roman(", "));
        }
        inlines.push(bold(*page));
        inlines.push(roman(format!("({section})")));
    }
    see_also.text(inlines);
    let see_also = see_also.render();

    // every piece starts with the roff crate's apostrophe preamble: keep the first
    let preamble = Roff::new().render();
    let mut page = String::new();
    for (i, piece) in pieces
        .into_iter()
        .map(|p| String::from_utf8(p).expect("roff output is UTF-8"))
        .chain([extra, String::from_utf8(version).expect("UTF-8"), see_also])
        .enumerate()
    {
        page += if i == 0 {
            &piece
        } else {
            piece.strip_prefix(&preamble).unwrap_or(&piece)
        };
    }
    page
}

/// The page's date (`.TH`'s third field, YYYY-MM-DD): `SOURCE_DATE_EPOCH`
/// (reproducible builds: dpkg-buildpackage and makepkg set it), else the
/// date of the checkout's last commit (`git log -1 --format=%cs`), else
/// today. Never empty: clap_mangen drops an empty field, shifting the rest.
fn man_date() -> String {
    if let Some(secs) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
    {
        return civil_date(secs);
    }
    let git = std::process::Command::new("git")
        .args(["log", "-1", "--format=%cs"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(o) = git {
        let d = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if o.status.success() && d.len() == 10 {
            return d;
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    civil_date(now)
}

/// `secs` since the Unix epoch as a UTC date, YYYY-MM-DD (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
fn civil_date(secs: i64) -> String {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The man page's text as written, roff's `\-` back to `-`.
    fn man_text() -> String {
        man_page().replace("\\-", "-").replace("\\*(Aq", "'")
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_796_601_599), "2026-12-06");
        assert_eq!(civil_date(-86_400), "1969-12-31");
    }

    #[test]
    fn man_page_lists_every_long_flag_and_every_key() {
        let man = man_text();
        let cmd = Cli::command();
        let mut flags = 0;
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                assert!(
                    man.contains(&format!("--{long}")),
                    "--{long} not in vreqplay.1"
                );
                flags += 1;
            }
        }
        assert!(
            flags >= 30,
            "only {flags} long flags: is this the player's Command?"
        );
        let keys = &man[man.find(".SH KEYS").expect("a KEYS section")..];
        let keys = &keys[..keys.find(".SH SIGNALS").expect("SIGNALS after KEYS")];
        for b in BINDINGS {
            for &(sym, name) in b.keys {
                let label = vreqplay::cli::key_label(sym, name);
                let label = label.replace('-', "\\-");
                assert!(
                    keys.contains(&format!("\\fB{label}\\fR")),
                    "key {name} not in KEYS"
                );
            }
            assert!(keys.contains(b.help), "{}", b.help);
        }
    }

    #[test]
    fn man_page_has_the_sections_in_order_and_every_table_entry() {
        let man = man_text();
        let mut at = 0;
        for sh in [
            ".TH vreqplay 1 20",
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH KEYS",
            ".SH SIGNALS",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH VERSION",
            ".SH \"SEE ALSO\"",
        ] {
            let i = man[at..]
                .find(sh)
                .unwrap_or_else(|| panic!("{sh} missing or out of order"));
            at += i + sh.len();
        }
        assert!(
            !man.contains(".SH EXTRA"),
            "--help's tables are sections of their own"
        );
        for (code, text) in EXIT_STATUS {
            assert!(man.contains(&format!("\\fB{code}\\fR\n{text}")), "{code}");
        }
        for e in ENVIRONMENT.iter().chain(FILES) {
            for name in e.name.split(", ") {
                assert!(man.contains(name), "{name}");
            }
            assert!(man.contains(e.text), "{}", e.name);
        }
        assert!(man.contains("\\fBmpv\\fR(1), \\fBvainfo\\fR(1)"));
        // one apostrophe preamble, at the top
        assert_eq!(
            man.matches(".ds Aq").count(),
            2,
            "the preamble's two lines, once"
        );
    }

    /// Every environment variable the product code reads (`env::var("X")`,
    /// `env::var_os("X")`, a `const …ENV…: &str = "X"`), outside the test-only
    /// crates and test code, is in `cli::ENVIRONMENT` and so in the man page.
    #[test]
    fn every_variable_the_product_reads_is_documented() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src")];
        for c in std::fs::read_dir(root.join("crates")).unwrap() {
            let c = c.unwrap().path();
            let name = c.file_name().unwrap().to_string_lossy().into_owned();
            if !["testkit", "oracle", "fuzz"].contains(&name.as_str()) {
                dirs.push(c.join("src"));
            }
        }
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if p.is_dir() {
                    if name != "tests" {
                        dirs.push(p);
                    }
                } else if name.ends_with(".rs")
                    && name != "tests.rs"
                    && !name.ends_with("_tests.rs")
                {
                    files.push(p);
                }
            }
        }
        let documented: Vec<&str> = ENVIRONMENT
            .iter()
            .flat_map(|e| e.name.split(", "))
            .collect();
        let mut found = std::collections::BTreeSet::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let text = text.split("#[cfg(test)]\nmod ").next().unwrap();
            for pat in ["var(\"", "var_os(\"", "ENV: &str = \""] {
                for (i, _) in text.match_indices(pat) {
                    let rest = &text[i + pat.len()..];
                    let name = &rest[..rest.find('"').unwrap()];
                    if !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    {
                        found.insert(name.to_string());
                    }
                }
            }
        }
        for must in [
            "RUST_LOG",
            "VREQ_DEVICE",
            "VREQ_LOG",
            "VREQ_TEST_KEYS",
            "VREQ_KMS_WRITEBACK",
            "WAYLAND_DISPLAY",
        ] {
            assert!(
                found.contains(must),
                "the scan missed {must}: found {found:?}"
            );
        }
        let man = man_text();
        for name in &found {
            assert!(
                documented.contains(&name.as_str()),
                "{name} is read by the product but not in cli::ENVIRONMENT"
            );
            assert!(man.contains(name.as_str()), "{name}");
        }
    }

    #[test]
    fn completions_know_the_flags_and_value_names() {
        for shell in SHELLS {
            let text = String::from_utf8(completion(shell)).unwrap();
            for flag in [
                "drm-connector",
                "loop-playlist",
                "audio-device",
                "hwdec",
                "list-devices",
            ] {
                assert!(text.contains(flag), "{shell}: {flag}");
            }
            // the value enums' choices
            assert!(
                text.contains("auto-copy") && text.contains("wayland"),
                "{shell}"
            );
        }
        assert_eq!(
            SHELLS.map(|s| s.file_name(BIN)),
            ["vreqplay.bash", "_vreqplay", "vreqplay.fish"],
            "the file names packaging/ installs"
        );
    }

    /// groff renders the page without a warning (lintian's check:
    /// `man --warnings -E UTF-8 -l -Tutf8 -Z`), where `man` is installed.
    #[test]
    fn man_renders_without_groff_warnings() {
        let dir = std::env::temp_dir().join(format!("vreq-xtask-man-{}", std::process::id()));
        let files = assets(&dir).unwrap();
        assert_eq!(files.len(), 4);
        let page = dir.join("man/vreqplay.1");
        let out = match std::process::Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"])
            .arg(&page)
            .env("LC_ALL", "C.UTF-8")
            .env("MANROFFSEQ", "")
            .env("MANWIDTH", "80")
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                println!("SKIP man --warnings: cannot run man ({e}); install man-db (scripts/setup-host.sh)");
                let _ = std::fs::remove_dir_all(&dir);
                return;
            }
        };
        let _ = std::fs::remove_dir_all(&dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "man failed: {stderr}");
        assert!(stderr.trim().is_empty(), "groff warnings:\n{stderr}");
        assert!(
            out.stdout.len() > 1000,
            "rendered {} bytes",
            out.stdout.len()
        );
    }
}
