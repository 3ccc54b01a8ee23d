//! The static desktop files under `assets/` agree with the code: the
//! window's app id is the desktop entry's name, the AppStream metainfo names
//! that entry, the binary and the workspace's version, the desktop entry
//! offers every MIME type `assets/mime/vreqplay.xml` defines and runs the
//! binary. (The validators — desktop-file-validate, appstreamcli,
//! update-mime-database, man — run in `scripts/check-assets.sh`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn asset(rel: &str) -> (PathBuf, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (p, text)
}

/// The `[Desktop Entry]` group's keys (no locale variants in this file).
fn desktop_entry() -> BTreeMap<String, String> {
    let (_, text) = asset("vreqplay.desktop");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("[Desktop Entry]"));
    let mut keys = BTreeMap::new();
    for l in lines.filter(|l| !l.is_empty() && !l.starts_with('#')) {
        assert!(!l.starts_with('['), "one group only: {l}");
        let (k, v) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("not key=value: {l}"));
        assert!(
            keys.insert(k.to_string(), v.to_string()).is_none(),
            "{k} twice"
        );
    }
    keys
}

/// The text of every `<tag>…</tag>` (or `<tag attrs>…</tag>`) in `xml`.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&format!("<{tag}")) {
        let after = &rest[i + 1 + tag.len()..];
        if !after.starts_with(['>', ' ']) {
            rest = after;
            continue;
        }
        let open_end = after.find('>').expect("unclosed tag");
        let body = &after[open_end + 1..];
        let close = body.find(&format!("</{tag}>")).unwrap_or(0);
        out.push(body[..close].trim());
        rest = &body[close..];
    }
    out
}

#[test]
fn window_app_id_is_the_desktop_entrys_name() {
    let (path, _) = asset("vreqplay.desktop");
    let stem = path.file_stem().unwrap().to_str().unwrap();
    assert_eq!(vreq_present::wayland::APP_ID, stem);
    assert_eq!(
        vreq_present::wayland::WindowOptions::for_input(Path::new("film.mkv")).app_id,
        stem,
        "the window the player opens"
    );
}

#[test]
fn desktop_entry_runs_the_binary_with_its_icon() {
    let e = desktop_entry();
    let bin = env!("CARGO_PKG_NAME");
    assert_eq!(e["Exec"], format!("{bin} %U"));
    assert_eq!(e["TryExec"], bin);
    assert_eq!(e["Icon"], bin);
    assert!(asset(&format!("icons/{bin}.svg")).1.contains("<svg"));
    assert_eq!(e["Type"], "Application");
    assert_eq!(e["Terminal"], "false");
    assert_eq!(e["Categories"], "AudioVideo;Video;Player;");
}

#[test]
fn desktop_entry_offers_every_container_and_every_type_we_define() {
    let e = desktop_entry();
    let types: Vec<&str> = e["MimeType"]
        .strip_suffix(';')
        .unwrap()
        .split(';')
        .collect();
    // shared-mime-info's names of the containers the player reads (README "Run")
    for t in [
        "video/mp4",
        "video/quicktime",
        "video/x-matroska",
        "video/webm",
        "video/mpeg",
        "video/mp2t",
    ] {
        assert!(types.contains(&t), "{t}");
    }
    // the ones shared-mime-info lacks, defined in assets/mime/vreqplay.xml
    let (_, mime) = asset("mime/vreqplay.xml");
    let mut defined = 0;
    for part in mime.split("<mime-type type=\"").skip(1) {
        let t = &part[..part.find('"').unwrap()];
        assert!(types.contains(&t), "{t} defined but not offered");
        defined += 1;
    }
    for part in mime.split("<alias type=\"").skip(1) {
        let t = &part[..part.find('"').unwrap()];
        assert!(types.contains(&t), "alias {t}");
    }
    assert_eq!(defined, 3, "video/x-ivf, video/h264, video/h265");
    let mut sorted = types.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), types.len(), "a type twice");
}

#[test]
fn metainfo_names_the_entry_the_binary_and_this_version() {
    let (path, xml) = asset("io.github.vreqplay.vreqplay.metainfo.xml");
    let id = elements(&xml, "id");
    assert_eq!(id, ["io.github.vreqplay.vreqplay"]);
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("{}.metainfo.xml", id[0])
    );
    assert_eq!(elements(&xml, "launchable"), ["vreqplay.desktop"]);
    assert_eq!(elements(&xml, "binary"), [env!("CARGO_PKG_NAME")]);
    assert_eq!(
        elements(&xml, "project_license"),
        [env!("CARGO_PKG_LICENSE")]
    );
    assert_eq!(elements(&xml, "metadata_license"), ["CC0-1.0"]);
    let e = desktop_entry();
    let cats: Vec<&str> = e["Categories"].split_terminator(';').collect();
    assert_eq!(elements(&xml, "category"), cats);
    // the newest release is this version
    let rel = xml.find("<release ").expect("a release");
    let rel = &xml[rel..rel + xml[rel..].find('>').unwrap()];
    assert!(
        rel.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{rel}: the workspace version is {}",
        env!("CARGO_PKG_VERSION")
    );
}
