//! The command line: [`Cli`] (clap derive) and what `--help` and the man
//! page say beyond the flags. Both are generated from the tables here and
//! the key map the player dispatches on ([`vreq_present::keys::BINDINGS`]):
//! `vreqplay --help` prints [`after_long_help`]; `cargo xtask assets OUT`
//! (the `xtask` crate, a build tool) writes `vreqplay.1` from
//! [`Cli`]'s `clap::Command` (clap_mangen) plus KEYS, ENVIRONMENT, FILES,
//! EXIT STATUS and SEE ALSO from [`KEYS_NOTE`], [`ENVIRONMENT`], [`FILES`],
//! [`EXIT_STATUS`] and [`SEE_ALSO`], and the shell completions
//! (clap_complete).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Parser, ValueEnum};
pub use vreq_present::keys::{key_label, Binding, BINDINGS};
use vreq_present::kms::{ModeRequest, PlaneRequest};

use crate::player::{
    Aid, HrSeek, KeepOpen, Loop, TimePos, EXIT_ERROR, EXIT_NOTHING_PLAYED, EXIT_OK, EXIT_SIGNAL,
    EXIT_SOME_FAILED,
};

/// One entry of a man-page list (ENVIRONMENT, FILES): the tag and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The variable(s) or path(s), as written in the man page.
    pub name: &'static str,
    /// What it is or does (one paragraph, no markup).
    pub text: &'static str,
}

/// The keys' heading line (before the [`BINDINGS`] rows).
pub const KEYS_HEADING: &str =
    "mpv's default bindings, by the keysym the layout in use puts on the \
    key (on AZERTY the quit key is the one labelled Q); a key pressed with Ctrl, Alt or Super does \
    nothing.";

/// What the man page's and `--help`'s KEYS say after the rows.
pub const KEYS_NOTE: &str = "With --vo=drm (no compositor) the keys come from every local keyboard \
    (/dev/input/event*: root or the input group; none readable = no keys, one info line; --no-input \
    opens none), laid out by the XKB_DEFAULT_* environment (default us) as a compositor would; held \
    seek keys repeat at the keyboard's own rate.";

/// SIGINT / SIGTERM (the man page's SIGNALS, `--help`'s).
pub const SIGNALS_NOTE: &str =
    "SIGINT (Ctrl+C) and SIGTERM quit as q does (the KMS output puts the \
    screen back as it found it; exit status 4); a second one while quitting kills at once.";

/// The exit status, as mpv's (`DOCS/man/mpv.rst`, EXIT CODES).
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (EXIT_OK, "every file played, or the user quit"),
    (
        EXIT_ERROR,
        "a bad command line, or an error before playback (--list-devices found no decoder, \
         --hwdec=no, --audio-device=help without ALSA)",
    ),
    (
        EXIT_NOTHING_PLAYED,
        "no file could be played (also: no video output could be chosen, the --playlist file \
         could not be read)",
    ),
    (EXIT_SOME_FAILED, "some files played and some could not"),
    (EXIT_SIGNAL, "SIGINT or SIGTERM ended playback"),
];

/// The environment the player and its VA driver read. A test in the `xtask`
/// crate finds every variable the product code reads (`env::var("…")`,
/// `*_ENV` constants) and fails when one is missing here.
pub const ENVIRONMENT: &[Entry] = &[
    Entry {
        name: "RUST_LOG",
        text: "The log filter (tracing's EnvFilter syntax: warn, debug, vreqplay=trace), to stderr; \
               overrides -v and --really-quiet. The VA driver reads it when VREQ_LOG is unset.",
    },
    Entry {
        name: "WAYLAND_DISPLAY",
        text: "The compositor's socket. Without --vo: set (or XDG_RUNTIME_DIR/wayland-0 there) \
               means --vo=wayland, else a free KMS card means --vo=drm.",
    },
    Entry {
        name: "XDG_RUNTIME_DIR",
        text: "Where the Wayland socket (wayland-0) and a sound server's (pipewire-0, pulse/native) \
               are looked for.",
    },
    Entry {
        name: "XKB_DEFAULT_RULES, XKB_DEFAULT_MODEL, XKB_DEFAULT_LAYOUT, XKB_DEFAULT_VARIANT, XKB_DEFAULT_OPTIONS",
        text: "--vo=drm: the keyboard layout, by libxkbcommon's names (default: evdev, pc105, us), \
               e.g. XKB_DEFAULT_LAYOUT=fr.",
    },
    Entry {
        name: "LIBVA_DRIVER_NAME",
        text: "Read by libva in VA-API clients (vainfo, mpv --hwdec=vaapi, ffmpeg, Firefox), not by \
               vreqplay: vreq loads vreqplay's VA-API driver, vreq_drv_video.so, which decodes \
               through the same V4L2 stateless decoders.",
    },
    Entry {
        name: "LIBVA_DRIVERS_PATH",
        text: "Read by libva: the directories searched for NAME_drv_video.so (default \
               /usr/lib/<triplet>/dri).",
    },
    Entry {
        name: "VREQ_DEVICE",
        text: "The VA driver: /dev/mediaN or its /dev/videoN, the only decoder it uses (default: \
               every stateless decoder found, each profile routed to the one serving it).",
    },
    Entry {
        name: "VREQ_LOG",
        text: "The VA driver's log filter (as RUST_LOG; silent by default), to stderr of the VA-API \
               client.",
    },
    Entry {
        name: "VREQ_TEST_KEYS",
        text: "Test hook: FILE or FIFO of key names (xkbcommon keysym names, one per line: Right, \
               space, period, Page_Up) read as key presses, for the window and --vo=drm alike.",
    },
    Entry {
        name: "VREQ_KMS_WRITEBACK",
        text: "Test hook (--vo=drm): FILE.ppm; at the end of playback what the screen shows is \
               captured through the card's writeback connector into it (binary PPM, the mode's \
               size).",
    },
    Entry {
        name: "VREQPLAY_NO_VIEWPORTER",
        text: "Test hook: 1 makes the window behave as if the compositor had no wp_viewporter \
               (unscaled video on the toplevel).",
    },
];

/// The files the player, its VA driver and its kiosk unit use.
pub const FILES: &[Entry] = &[
    Entry {
        name: "/dev/media*, /dev/video*",
        text:
            "The V4L2 stateless decoders (group video), probed at start: vreqplay --list-devices \
               lists them.",
    },
    Entry {
        name: "/dev/dri/card*",
        text: "--vo=drm: the KMS cards (group video).",
    },
    Entry {
        name: "/dev/input/event*",
        text: "--vo=drm: the local keyboards (group input).",
    },
    Entry {
        name: "/usr/lib/<triplet>/dri/vreq_drv_video.so",
        text: "The VA-API driver (LIBVA_DRIVER_NAME=vreq); <triplet> is the multiarch triplet: \
               aarch64-linux-gnu, arm-linux-gnueabihf, x86_64-linux-gnu.",
    },
    Entry {
        name: "/usr/lib/systemd/system/vreqplay-kiosk@.service",
        text: "The kiosk unit: plays the playlist named by its instance (the path escaped by \
               systemd-escape --path) with --vo=drm --loop-playlist=inf as the user vreqplay; \
               vreqplay-kiosk@etc-vreqplay-lobby.m3u.service plays /etc/vreqplay/lobby.m3u.",
    },
    Entry {
        name: "/usr/lib/sysusers.d/vreqplay.conf",
        text: "The kiosk's system user vreqplay (groups video, render, audio, input).",
    },
    Entry {
        name: "/etc/default/vreqplay",
        text: "The kiosk unit's environment, optional (e.g. XKB_DEFAULT_LAYOUT=fr).",
    },
    Entry {
        name: "/etc/vreqplay/",
        text: "The kiosk's playlists (--playlist): one path per line, relative to the list's \
               directory; blank lines and lines starting with # are skipped (an M3U plays as it \
               is).",
    },
];

/// SEE ALSO: (page, section).
pub const SEE_ALSO: &[(&str, u8)] = &[("mpv", 1), ("vainfo", 1)];

/// How `--help` and the man page write a row's keys: `space, p`,
/// `>, Return, KP_Enter` ([`key_label`]).
pub fn binding_keys(b: &Binding) -> String {
    b.keys
        .iter()
        .map(|&(sym, name)| key_label(sym, name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` wrapped at `width` columns, every line indented by `indent`
/// spaces (the first line too).
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{:indent$}{line}", "");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{:indent$}{line}", "");
    }
    out
}

/// The text after the options in `vreqplay --help`: KEYS (from
/// [`BINDINGS`]), SIGNALS, EXIT STATUS, ENVIRONMENT and FILES, the same
/// tables the man page is made of.
pub fn after_long_help() -> String {
    const W: usize = 80;
    let mut s = String::from("KEYS:\n");
    s += &wrap(KEYS_HEADING, 2, W);
    s += "\n";
    for b in BINDINGS {
        let keys = binding_keys(b);
        let text = wrap(b.help, 22, W);
        if keys.len() < 19 {
            let _ = write!(s, "  {keys:<19} {}", &text[22..]);
        } else {
            let _ = write!(s, "  {keys}\n{text}");
        }
    }
    s += "\n";
    s += &wrap(KEYS_NOTE, 2, W);
    s += "\nSIGNALS:\n";
    s += &wrap(SIGNALS_NOTE, 2, W);
    s += "\nEXIT STATUS (as mpv):\n";
    for (code, text) in EXIT_STATUS {
        let _ = write!(s, "  {code}  {}", &wrap(text, 5, W)[5..]);
    }
    s += "\nENVIRONMENT:\n";
    for e in ENVIRONMENT {
        let _ = writeln!(s, "  {}", e.name);
        s += &wrap(e.text, 8, W);
    }
    s += "\nFILES:\n";
    for e in FILES {
        let _ = writeln!(s, "  {}", e.name);
        s += &wrap(e.text, 8, W);
    }
    s.trim_end().to_string()
}

/// A FILE argument: a `file://` URI of this machine (empty host or
/// `localhost`, RFC 8089; desktops pass these for the desktop entry's `%U`)
/// becomes its percent-decoded path, anything else is the path as given.
pub fn file_arg(arg: std::ffi::OsString) -> PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = arg.as_bytes();
    if let Some(rest) = bytes.strip_prefix(b"file://") {
        let slash = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let (host, path) = rest.split_at(slash);
        if (host.is_empty() || host.eq_ignore_ascii_case(b"localhost")) && !path.is_empty() {
            let decoded: Vec<u8> = percent_encoding::percent_decode(path).collect();
            return PathBuf::from(std::ffi::OsString::from_vec(decoded));
        }
    }
    PathBuf::from(arg)
}

/// The exit status of a command line clap refused: [`EXIT_ERROR`] (mpv's 1
/// for unknown options; clap's own would be 2, this player's "nothing
/// played"), [`EXIT_OK`] for `--help` / `--version`.
pub fn clap_error_exit_code(e: &clap::Error) -> u8 {
    if e.use_stderr() {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}

/// Play videos through the Linux V4L2 stateless (request API) decoders.
///
/// Containers: MP4 (incl. fragmented), Matroska, WebM, IVF, MPEG-PS, MPEG-TS (MPEG-2, H.264 or HEVC video), MPEG-2 ES, raw H.264 / HEVC Annex-B.
/// Codecs: H.264, HEVC (Main, Main10), VP9 (profiles 0, 2), VP8, MPEG-2.
///
/// Sound: the first audio track (--aid) plays through ALSA (--audio-device) and is the clock the picture follows; without one (or with --no-audio) frames are paced by the wall clock. Audio codecs: AAC-LC, MP1/MP2/MP3, Vorbis, FLAC, PCM, ALAC, Opus; others print "audio: <codec> not supported, playing without sound".
///
/// Video outputs: a Wayland window (--vo=wayland), a KMS plane without a compositor (--vo=drm: kiosks, signage; full screen on the connector's mode), none (--vo=null) or a Y4M file (-o). Without --vo, as mpv tries its outputs in order: wayland when a compositor is there, else drm when a KMS card with a connected screen is free.
///
/// Options and keys follow mpv's names and meaning where mpv has them: --fs, --hwdec, --keep-open, --pause, --title, --start, --end, --hr-seek, --loop-file, --loop-playlist, --playlist, --quiet, --really-quiet, --no-audio, --aid, --volume, --audio-device, --audio-buffer, --untimed, --vo, --drm-device, --drm-connector, --drm-mode, --drm-plane, --no-input, -o, --frames. Several FILEs form a playlist. On a terminal a status line shows the position (mpv's shape). At the end of each file the window's counts are printed: frames presented, dropped and late, and how many went zero-copy or were copied; and the sound's: codec, device, rate, underruns.
#[derive(Parser, Debug)]
#[command(name = "vreqplay", version, about, long_about, after_long_help = after_long_help())]
// the doc comments are --help's text, written for the terminal (`<codec>`, `<file name>`)
#[allow(rustdoc::invalid_html_tags)]
pub struct Cli {
    /// The files to play, in order (a playlist); a file:// URI (as desktops pass them) is its path.
    #[arg(
        required_unless_present_any = ["list_devices", "audio_device", "playlist"],
        value_parser = clap::builder::OsStringValueParser::new().map(file_arg)
    )]
    pub files: Vec<PathBuf>,

    /// Also play the files listed in FILE, after the FILE arguments (mpv's --playlist): one path per line, relative to the list's directory; blank lines and lines starting with # are skipped (an M3U's #EXTINF too).
    #[arg(long, value_name = "FILE")]
    pub playlist: Option<PathBuf>,

    /// Video output (default: wayland when a compositor is there, else drm when a KMS card with a connected screen is free).
    #[arg(long, value_enum)]
    pub vo: Option<Vo>,

    /// --vo=drm: the KMS card (default: the first /dev/dri/card* with a connected connector that is free).
    #[arg(long, value_name = "/dev/dri/cardN")]
    pub drm_device: Option<PathBuf>,

    /// --vo=drm: the connector, by the kernel's name (HDMI-A-1, DSI-1, Virtual-1) or its index on the card (default: the first connected one).
    #[arg(long, value_name = "NAME|INDEX")]
    pub drm_connector: Option<String>,

    /// --vo=drm: the mode: preferred (the screen's preferred mode), highest (the largest), WxH or WxH@Hz (e.g. 1920x1080@60, 1280x720@59.94).
    #[arg(
        long,
        value_name = "preferred|highest|WxH[@Hz]",
        default_value = "preferred"
    )]
    pub drm_mode: ModeRequest,

    /// --vo=drm: the plane that shows the video (mpv's --drm-drmprime-video-plane idea): auto (a plane that takes the decoder's format, by IN_FORMATS), primary, overlay, or a plane's KMS object id (as drm_info / modetest -p list them).
    #[arg(long, value_name = "auto|primary|overlay|ID", default_value = "auto")]
    pub drm_plane: PlaneRequest,

    /// --vo=drm: no keys from local keyboards (evdev); quit by signal (SIGTERM, Ctrl+C) or the end of the playlist.
    #[arg(long)]
    pub no_input: bool,

    /// Write the decoded frames, in display order, to this Y4M file instead of a window.
    #[arg(short = 'o', long = "output", value_name = "FILE.y4m")]
    pub output: Option<PathBuf>,

    /// Overwrite the -o file if it exists.
    #[arg(long)]
    pub force: bool,

    /// Stop each file after N frames have been output.
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,

    /// Decode with the decoder behind this media or video device (e.g. /dev/media0) instead of routing the stream to the decoder that serves its codec, size and bit depth.
    #[arg(long, value_name = "/dev/mediaN")]
    pub device: Option<PathBuf>,

    /// At the end: no — next file / exit; yes — after the last file stay paused on its last frame (keys work, a seek plays on) until quit or the window closes; always — so at the end of every file (mpv's --keep-open). A bare --keep-open is yes.
    #[arg(long, value_name = "yes|no|always", num_args = 0..=1, require_equals = true, default_missing_value = "yes", default_value = "no")]
    pub keep_open: KeepOpen,

    /// Start fullscreen (key f toggles); --fullscreen is the same. With --vo=drm the picture is always full screen (accepted, no effect).
    #[arg(long = "fs", alias = "fullscreen")]
    pub fs: bool,

    /// Hardware decoding (mpv's --hwdec): auto — the decoder's buffers go to the compositor where it takes them (zero-copy), else copied; auto-copy — always copied on the CPU (detiling / unpacking NC12, NC30, NV15 where needed); no — refused: vreqplay has no software decoder.
    #[arg(long, value_enum, default_value_t = Hwdec::Auto)]
    pub hwdec: Hwdec,

    /// Old name of --hwdec=auto-copy.
    #[arg(long, hide = true)]
    pub hwdec_copy: bool,

    /// Start paused (the first frame is shown; space plays).
    #[arg(long)]
    pub pause: bool,

    /// Window title (default: vreqplay — <file name>).
    #[arg(long, value_name = "STRING")]
    pub title: Option<String>,

    /// Start at this position: seconds, mm:ss, hh:mm:ss (fractions allowed), N% of the duration, or -TIME before the end (mpv's syntax).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start: Option<TimePos>,

    /// End each file at this position (same syntax as --start).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub end: Option<TimePos>,

    /// Precise seeks: yes — always decode from the keyframe before the target and show nothing before it; no — show from the keyframe at or before the target; default — precise for absolute targets (--start, chapters, the 10 % steps), keyframe for the arrow keys (mpv's default, "absolute").
    #[arg(long, value_name = "yes|no|default", default_value = "default")]
    pub hr_seek: HrSeek,

    /// Play each file N more times by seeking back to its start (mpv counts those seeks: --loop-file=1 plays it twice), inf forever, no once; a bare --loop-file is inf.
    #[arg(long, value_name = "N|inf|no", num_args = 0..=1, require_equals = true, default_missing_value = "inf", default_value = "no")]
    pub loop_file: Loop,

    /// Play the whole list N times (1 and no: once, as mpv), inf forever; a bare --loop-playlist is inf.
    #[arg(long, value_name = "N|inf|no", num_args = 0..=1, require_equals = true, default_missing_value = "inf", default_value = "no")]
    pub loop_playlist: Loop,

    /// No status line.
    #[arg(long)]
    pub quiet: bool,

    /// No output at all except errors.
    #[arg(long)]
    pub really_quiet: bool,

    /// List the stateless decoders found on this machine, the union of their codecs and the device each codec is routed to, and exit.
    #[arg(long)]
    pub list_devices: bool,

    /// No sound: the picture alone, paced as a file without audio (wall clock in a window, as fast as it decodes with --vo null).
    #[arg(long)]
    pub no_audio: bool,

    /// Audio track: auto (the first), no (none), or N (the N-th audio track, 1-based in file order, as mpv numbers them).
    #[arg(long, value_name = "N|no|auto", default_value = "auto")]
    pub aid: Aid,

    /// Volume 0..100 (mpv's cubic curve: gain = (volume/100)^3); keys 9 / 0 change it by 2, m mutes.
    #[arg(long, value_name = "0..100", default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub volume: u32,

    /// Audio output device, mpv's syntax: auto (ALSA's default), alsa/<ALSA PCM name> (e.g. alsa/default, alsa/hw:Loopback,0,0, alsa/plughw:CARD=PCH,DEV=0); help lists the devices and exits.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    pub audio_device: String,

    /// The audio device's buffer in seconds (0.02..2; mpv's option and default, 0.2): larger rides out a busy machine, smaller makes volume and pause react sooner. The picture follows what is heard either way.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.2, value_parser = parse_audio_buffer)]
    pub audio_buffer: f64,

    /// Show frames as fast as they decode, without sound (benchmarks, the oracle; mpv's --untimed --no-audio).
    #[arg(long)]
    pub untimed: bool,

    /// More log output (-v info, also the A-V offset once a second; -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Vo {
    /// A Wayland window (zero-copy dmabuf where the compositor takes the decoder's format: NV12, P010, NV15, SAND128 NV12/P030; else detiled / converted on the CPU into a linear dmabuf or wl_shm).
    Wayland,
    /// A KMS plane, no compositor (the kiosk): the decoder's buffers scanned out directly where a plane takes their format, else converted on the CPU into dumb buffers.
    Drm,
    /// No output: decode only.
    Null,
}

/// `--hwdec` (mpv's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Hwdec {
    /// Zero-copy where the compositor takes the decoder's buffers.
    Auto,
    /// Always copy on the CPU.
    AutoCopy,
    /// Software decoding: not available.
    No,
}

/// `--audio-buffer`: seconds in 0.02..=2.
pub fn parse_audio_buffer(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.02..=2.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in 0.02..2 (seconds)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("vreqplay").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn flags_in_mpvs_shape() {
        // a bare --keep-open is yes and does not eat the file name
        let c = parse(&["--keep-open", "a.mp4", "b.mkv"]);
        assert_eq!(c.keep_open, KeepOpen::Yes);
        assert_eq!(c.files, [PathBuf::from("a.mp4"), PathBuf::from("b.mkv")]);
        assert_eq!(
            parse(&["--keep-open=always", "a"]).keep_open,
            KeepOpen::Always
        );
        assert_eq!(parse(&["a"]).keep_open, KeepOpen::No);
        assert!(parse(&["--fullscreen", "a"]).fs && parse(&["--fs", "a"]).fs);
        assert_eq!(parse(&["--hwdec=auto-copy", "a"]).hwdec, Hwdec::AutoCopy);
        assert!(parse(&["--hwdec-copy", "a"]).hwdec_copy);
        let c = parse(&["--start=-30", "--end=1:30", "--hr-seek=yes", "a"]);
        assert_eq!(c.start, Some(TimePos::End(30_000_000_000)));
        assert_eq!(c.end, Some(TimePos::Start(90_000_000_000)));
        assert_eq!(c.hr_seek, HrSeek::Yes);
        assert_eq!(
            parse(&["--start", "25%", "a"]).start,
            Some(TimePos::Percent(25.0))
        );
        let c = parse(&["--loop-file", "a"]);
        assert_eq!((c.loop_file, c.loop_playlist), (Loop::Inf, Loop::No));
        assert_eq!(
            parse(&["--loop-playlist=3", "a"]).loop_playlist,
            Loop::Times(3)
        );
        assert!(Cli::try_parse_from(["vreqplay", "--start=x", "a"]).is_err());
        assert!(Cli::try_parse_from(["vreqplay", "--keep-open=maybe", "a"]).is_err());
    }

    #[test]
    fn long_help_lists_every_binding_exit_status_and_variable_of_the_tables() {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd.render_long_help().to_string();
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for b in BINDINGS {
            let keys = binding_keys(b);
            assert!(
                help.contains(&format!("  {keys} ")) || help.contains(&format!("  {keys}\n")),
                "{keys}"
            );
            assert!(flat.contains(b.help), "{}", b.help);
        }
        for want in [
            "space, p",
            ">, Return, KP_Enter",
            "Page_Down",
            "keyframe-bound",
        ] {
            assert!(help.contains(want), "{want}");
        }
        for (code, text) in EXIT_STATUS {
            assert!(flat.contains(&format!("{code} {text}")), "{code}");
        }
        for e in ENVIRONMENT.iter().chain(FILES) {
            assert!(
                help.contains(e.name)
                    && flat.contains(
                        e.text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .as_str()
                    ),
                "{}",
                e.name
            );
        }
        assert_eq!(
            EXIT_STATUS.iter().map(|e| e.0).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4],
            "mpv's exit codes"
        );
    }

    #[test]
    fn file_uris_become_paths_other_arguments_stay() {
        use std::os::unix::ffi::OsStrExt;
        let p = |s: &str| parse(&[s]).files.remove(0);
        assert_eq!(
            p("file:///home/u/My%20Film%20%231.mkv"),
            PathBuf::from("/home/u/My Film #1.mkv")
        );
        assert_eq!(p("file://localhost/srv/a.mp4"), PathBuf::from("/srv/a.mp4"));
        assert_eq!(
            p("file:///tmp/%FF.ivf").as_os_str().as_bytes(),
            b"/tmp/\xff.ivf",
            "not UTF-8: the bytes as decoded"
        );
        // not a local file URI: left as written (opening it fails, naming it)
        assert_eq!(
            p("file://server/a.mkv"),
            PathBuf::from("file://server/a.mkv")
        );
        assert_eq!(p("a%20b.mkv"), PathBuf::from("a%20b.mkv"));
        assert_eq!(p("dir/file:///x"), PathBuf::from("dir/file:///x"));
        let c = parse(&["file:///a.mkv", "b.mkv"]);
        assert_eq!(c.files, [PathBuf::from("/a.mkv"), PathBuf::from("b.mkv")]);
    }

    #[test]
    fn bad_command_lines_exit_1_as_mpv_help_exits_0() {
        let e = Cli::try_parse_from(["vreqplay", "--no-such-flag", "a"]).unwrap_err();
        assert_eq!(clap_error_exit_code(&e), 1);
        let e = Cli::try_parse_from(["vreqplay", "--volume=101", "a"]).unwrap_err();
        assert_eq!(clap_error_exit_code(&e), 1);
        let e = Cli::try_parse_from(["vreqplay", "--help"]).unwrap_err();
        assert_eq!(clap_error_exit_code(&e), 0);
        let e = Cli::try_parse_from(["vreqplay", "--version"]).unwrap_err();
        assert_eq!(clap_error_exit_code(&e), 0);
    }

    #[test]
    fn kiosk_flags_parse_into_kms_options() {
        let c = parse(&[
            "--vo=drm",
            "--drm-device=/dev/dri/card1",
            "--drm-connector=HDMI-A-1",
            "--drm-mode=1920x1080@60",
            "--drm-plane=overlay",
            "--no-input",
            "--fs",
            "a.mkv",
        ]);
        assert_eq!(c.vo, Some(Vo::Drm));
        assert_eq!(c.drm_device, Some(PathBuf::from("/dev/dri/card1")));
        assert_eq!(c.drm_connector.as_deref(), Some("HDMI-A-1"));
        assert_eq!(
            c.drm_mode,
            ModeRequest::Size {
                width: 1920,
                height: 1080,
                refresh_mhz: Some(60_000)
            }
        );
        assert_eq!(c.drm_plane, PlaneRequest::Overlay);
        assert!(c.no_input && c.fs);
        // defaults: automatic output, mpv's preferred mode, plane by format, keys on
        let c = parse(&["a.mkv"]);
        assert_eq!(c.vo, None);
        assert_eq!(c.drm_mode, ModeRequest::Preferred);
        assert_eq!(c.drm_plane, PlaneRequest::Auto);
        assert!(!c.no_input);
        assert_eq!(
            parse(&["--drm-mode=highest", "a"]).drm_mode,
            ModeRequest::Highest
        );
        assert_eq!(
            parse(&["--drm-plane=42", "a"]).drm_plane,
            PlaneRequest::Id(42)
        );
        assert_eq!(
            parse(&["--drm-connector=0", "a"]).drm_connector.as_deref(),
            Some("0")
        );
        // --playlist stands in for the FILEs
        let c = parse(&["--playlist=/etc/vreqplay/list"]);
        assert!(c.files.is_empty());
        assert_eq!(c.playlist, Some(PathBuf::from("/etc/vreqplay/list")));
    }

    #[test]
    fn bad_kiosk_flags_are_clap_errors_naming_the_forms() {
        let err = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("vreqplay").chain(args.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        let e = err(&["--drm-mode=big", "a"]);
        assert!(
            e.contains("--drm-mode") && e.contains("preferred, highest, WxH or WxH@Hz"),
            "{e}"
        );
        let e = err(&["--drm-plane=top", "a"]);
        assert!(
            e.contains("--drm-plane") && e.contains("auto, primary, overlay"),
            "{e}"
        );
        let e = err(&["--vo=x11", "a"]);
        assert!(
            e.contains("wayland") && e.contains("drm") && e.contains("null"),
            "{e}"
        );
        // without FILE or --playlist: required
        assert!(Cli::try_parse_from(["vreqplay", "--vo=drm"]).is_err());
    }

    #[test]
    fn help_names_the_kiosk_keys_exit_status_4_and_the_test_hooks() {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd.render_long_help().to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for s in [
            "--vo=drm: quit",
            "/dev/input/event",
            "4 SIGINT or SIGTERM ended playback",
            "VREQ_KMS_WRITEBACK",
            "VREQ_TEST_KEYS",
            "XKB_DEFAULT_LAYOUT",
            "--drm-drmprime-video-plane",
            "--no-input",
            "--playlist",
        ] {
            assert!(help.contains(s), "{s}");
        }
    }
}
