//! `vreqplay`: command-line front end (clap). Everything else lives in the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use vreq_present::kms::{KmsOptions, ModeRequest, PlaneRequest};
use vreqplay::player::{
    self, Aid, AudioOptions, HrSeek, KeepOpen, ListOptions, Loop, Output, PlayOptions, TimePos,
};

/// The KEYS section of `--help` (man-page-ready: mpv's default bindings).
const KEYS: &str = "\
KEYS (mpv's default bindings, physical keys of the layout in use):
  space, p         pause / resume (picture and sound)
  q, Q             quit
  Esc              leave fullscreen; quit when not fullscreen (--vo=drm: quit)
  f, double-click  fullscreen on / off (--vo=drm: nothing, always full screen)
  Left, Right      seek 5 s back / forward (keyframe seek unless --hr-seek=yes)
  Down, Up         seek 60 s back / forward
  PgDn, PgUp       previous / next chapter; without chapters 10 % of the duration back / forward
  >, Enter         next file of the playlist
  <                previous file
  .                show the next frame, then pause (frame step)
  ,                go back one frame, then pause: keyframe-bound — decodes from the
                   keyframe at or before the previous frame and shows only that frame
  9, 0             volume down / up by 2
  m                mute on / off
  o                show the seek bar and time
  i                show statistics (decoder device, codec, sizes, zero-copy / copied,
                   dropped, A-V)

With --vo=drm (no compositor) the keys come from every local keyboard
(/dev/input/event*: root or the input group; none readable = no keys, one
info line; --no-input opens none), laid out by the XKB_DEFAULT_LAYOUT /
XKB_DEFAULT_VARIANT / XKB_DEFAULT_MODEL / XKB_DEFAULT_OPTIONS environment
(default us), as a compositor would; held seek keys repeat at the
keyboard's own rate.

SIGNALS: SIGINT (Ctrl+C) and SIGTERM quit as q does (the KMS output puts the
screen back as it found it); a second one while quitting kills at once.

EXIT STATUS (as mpv): 0 when every file played or the user quit; 1 on a bad
command line; 2 when no file could be played (also: no video output could be
chosen); 3 when some files could not; 4 when SIGINT / SIGTERM ended playback.

ENVIRONMENT:
  WAYLAND_DISPLAY, XDG_RUNTIME_DIR  without --vo: a compositor found there
                   (WAYLAND_DISPLAY set, or XDG_RUNTIME_DIR/wayland-0) means
                   --vo=wayland, else a free KMS card means --vo=drm
  XKB_DEFAULT_LAYOUT, XKB_DEFAULT_VARIANT, XKB_DEFAULT_MODEL, XKB_DEFAULT_OPTIONS
                   the keyboard layout for --vo=drm (libxkbcommon's names)
  VREQ_TEST_KEYS=FILE   test hook: key names (xkbcommon keysym names, one per
                   line: Right, space, period, Page_Up, …) read from FILE or a
                   FIFO as key presses, for the window and --vo=drm alike
  VREQ_KMS_WRITEBACK=FILE.ppm   test hook (--vo=drm): at the end of playback
                   capture what the screen shows through the card's writeback
                   connector into FILE.ppm (binary PPM, the mode's size)";

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
#[command(name = "vreqplay", version, about, long_about, after_long_help = KEYS)]
struct Cli {
    /// The files to play, in order (a playlist).
    #[arg(required_unless_present_any = ["list_devices", "audio_device", "playlist"])]
    files: Vec<PathBuf>,

    /// Also play the files listed in FILE, after the FILE arguments (mpv's --playlist): one path per line, relative to the list's directory; blank lines and lines starting with # are skipped (an M3U's #EXTINF too).
    #[arg(long, value_name = "FILE")]
    playlist: Option<PathBuf>,

    /// Video output (default: wayland when a compositor is there, else drm when a KMS card with a connected screen is free).
    #[arg(long, value_enum)]
    vo: Option<Vo>,

    /// --vo=drm: the KMS card (default: the first /dev/dri/card* with a connected connector that is free).
    #[arg(long, value_name = "/dev/dri/cardN")]
    drm_device: Option<PathBuf>,

    /// --vo=drm: the connector, by the kernel's name (HDMI-A-1, DSI-1, Virtual-1) or its index on the card (default: the first connected one).
    #[arg(long, value_name = "NAME|INDEX")]
    drm_connector: Option<String>,

    /// --vo=drm: the mode: preferred (the screen's preferred mode), highest (the largest), WxH or WxH@Hz (e.g. 1920x1080@60, 1280x720@59.94).
    #[arg(
        long,
        value_name = "preferred|highest|WxH[@Hz]",
        default_value = "preferred"
    )]
    drm_mode: ModeRequest,

    /// --vo=drm: the plane that shows the video (mpv's --drm-drmprime-video-plane idea): auto (a plane that takes the decoder's format, by IN_FORMATS), primary, overlay, or a plane's KMS object id (as drm_info / modetest -p list them).
    #[arg(long, value_name = "auto|primary|overlay|ID", default_value = "auto")]
    drm_plane: PlaneRequest,

    /// --vo=drm: no keys from local keyboards (evdev); quit by signal (SIGTERM, Ctrl+C) or the end of the playlist.
    #[arg(long)]
    no_input: bool,

    /// Write the decoded frames, in display order, to this Y4M file instead of a window.
    #[arg(short = 'o', long = "output", value_name = "FILE.y4m")]
    output: Option<PathBuf>,

    /// Overwrite the -o file if it exists.
    #[arg(long)]
    force: bool,

    /// Stop each file after N frames have been output.
    #[arg(long, value_name = "N")]
    frames: Option<u64>,

    /// Decode with the decoder behind this media or video device (e.g. /dev/media0) instead of routing the stream to the decoder that serves its codec, size and bit depth.
    #[arg(long, value_name = "/dev/mediaN")]
    device: Option<PathBuf>,

    /// At the end: no — next file / exit; yes — after the last file stay paused on its last frame (keys work, a seek plays on) until quit or the window closes; always — so at the end of every file (mpv's --keep-open). A bare --keep-open is yes.
    #[arg(long, value_name = "yes|no|always", num_args = 0..=1, require_equals = true, default_missing_value = "yes", default_value = "no")]
    keep_open: KeepOpen,

    /// Start fullscreen (key f toggles); --fullscreen is the same. With --vo=drm the picture is always full screen (accepted, no effect).
    #[arg(long = "fs", alias = "fullscreen")]
    fs: bool,

    /// Hardware decoding (mpv's --hwdec): auto — the decoder's buffers go to the compositor where it takes them (zero-copy), else copied; auto-copy — always copied on the CPU (detiling / unpacking NC12, NC30, NV15 where needed); no — refused: vreqplay has no software decoder.
    #[arg(long, value_enum, default_value_t = Hwdec::Auto)]
    hwdec: Hwdec,

    /// Old name of --hwdec=auto-copy.
    #[arg(long, hide = true)]
    hwdec_copy: bool,

    /// Start paused (the first frame is shown; space plays).
    #[arg(long)]
    pause: bool,

    /// Window title (default: vreqplay — <file name>).
    #[arg(long, value_name = "STRING")]
    title: Option<String>,

    /// Start at this position: seconds, mm:ss, hh:mm:ss (fractions allowed), N% of the duration, or -TIME before the end (mpv's syntax).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    start: Option<TimePos>,

    /// End each file at this position (same syntax as --start).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    end: Option<TimePos>,

    /// Precise seeks: yes — always decode from the keyframe before the target and show nothing before it; no — show from the keyframe at or before the target; default — precise for absolute targets (--start, chapters, the 10 % steps), keyframe for the arrow keys (mpv's default, "absolute").
    #[arg(long, value_name = "yes|no|default", default_value = "default")]
    hr_seek: HrSeek,

    /// Play each file N more times by seeking back to its start (mpv counts those seeks: --loop-file=1 plays it twice), inf forever, no once; a bare --loop-file is inf.
    #[arg(long, value_name = "N|inf|no", num_args = 0..=1, require_equals = true, default_missing_value = "inf", default_value = "no")]
    loop_file: Loop,

    /// Play the whole list N times (1 and no: once, as mpv), inf forever; a bare --loop-playlist is inf.
    #[arg(long, value_name = "N|inf|no", num_args = 0..=1, require_equals = true, default_missing_value = "inf", default_value = "no")]
    loop_playlist: Loop,

    /// No status line.
    #[arg(long)]
    quiet: bool,

    /// No output at all except errors.
    #[arg(long)]
    really_quiet: bool,

    /// List the stateless decoders found on this machine, the union of their codecs and the device each codec is routed to, and exit.
    #[arg(long)]
    list_devices: bool,

    /// No sound: the picture alone, paced as a file without audio (wall clock in a window, as fast as it decodes with --vo null).
    #[arg(long)]
    no_audio: bool,

    /// Audio track: auto (the first), no (none), or N (the N-th audio track, 1-based in file order, as mpv numbers them).
    #[arg(long, value_name = "N|no|auto", default_value = "auto")]
    aid: Aid,

    /// Volume 0..100 (mpv's cubic curve: gain = (volume/100)^3); keys 9 / 0 change it by 2, m mutes.
    #[arg(long, value_name = "0..100", default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=100))]
    volume: u32,

    /// Audio output device, mpv's syntax: auto (ALSA's default), alsa/<ALSA PCM name> (e.g. alsa/default, alsa/hw:Loopback,0,0, alsa/plughw:CARD=PCH,DEV=0); help lists the devices and exits.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    audio_device: String,

    /// The audio device's buffer in seconds (0.02..2; mpv's option and default, 0.2): larger rides out a busy machine, smaller makes volume and pause react sooner. The picture follows what is heard either way.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.2, value_parser = parse_audio_buffer)]
    audio_buffer: f64,

    /// Show frames as fast as they decode, without sound (benchmarks, the oracle; mpv's --untimed --no-audio).
    #[arg(long)]
    untimed: bool,

    /// More log output (-v info, also the A-V offset once a second; -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// What chose the output when `--vo` is not given (mpv tries its outputs in
/// order: `video/out/vo.c`'s list).
#[derive(Debug, Clone, PartialEq, Eq)]
enum AutoVo {
    /// A compositor is there.
    Wayland,
    /// No compositor; this KMS card (from [`vreq_present::kms::kms_available`]) is free.
    Drm(PathBuf),
}

/// The environment [`auto_vo`] looks at.
#[derive(Debug, Clone, Default)]
struct VoEnv {
    /// `WAYLAND_DISPLAY` (set and not empty).
    wayland_display: Option<String>,
    /// `XDG_RUNTIME_DIR`.
    runtime_dir: Option<PathBuf>,
}

impl VoEnv {
    fn from_env() -> Self {
        VoEnv {
            wayland_display: std::env::var("WAYLAND_DISPLAY")
                .ok()
                .filter(|s| !s.is_empty()),
            runtime_dir: std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        }
    }
}

/// The output without `--vo`: [`AutoVo::Wayland`] when `WAYLAND_DISPLAY` is
/// set or `XDG_RUNTIME_DIR/wayland-0` exists (libwayland's default socket),
/// else [`AutoVo::Drm`] when `kms()` finds a free card, else the error line:
/// the window's "cannot connect" with a hint naming `--vo=drm`. `kms` runs
/// only when there is no compositor (it opens the cards).
fn auto_vo(
    env: &VoEnv,
    socket_exists: impl Fn(&Path) -> bool,
    kms: impl FnOnce() -> Option<PathBuf>,
) -> Result<AutoVo, String> {
    let socket = env.runtime_dir.as_ref().map(|d| d.join("wayland-0"));
    if env.wayland_display.is_some() || socket.as_deref().is_some_and(socket_exists) {
        return Ok(AutoVo::Wayland);
    }
    if let Some(card) = kms() {
        return Ok(AutoVo::Drm(card));
    }
    Err(format!(
        "wayland: cannot connect to a Wayland compositor (WAYLAND_DISPLAY=unset, XDG_RUNTIME_DIR={}) \
         and no free KMS card with a connected screen (looked at /dev/dri/card*): \
         start a compositor, or use --vo=drm (--drm-device=/dev/dri/cardN), --vo=null or -o FILE.y4m",
        env.runtime_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "unset".into())
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Vo {
    /// A Wayland window (zero-copy dmabuf where the compositor takes the decoder's format: NV12, P010, NV15, SAND128 NV12/P030; else detiled / converted on the CPU into a linear dmabuf or wl_shm).
    Wayland,
    /// A KMS plane, no compositor (the kiosk): the decoder's buffers scanned out directly where a plane takes their format, else converted on the CPU into dumb buffers.
    Drm,
    /// No output: decode only.
    Null,
}

/// `--hwdec` (mpv's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Hwdec {
    /// Zero-copy where the compositor takes the decoder's buffers.
    Auto,
    /// Always copy on the CPU.
    AutoCopy,
    /// Software decoding: not available.
    No,
}

/// `--audio-buffer`: seconds in 0.02..=2.
fn parse_audio_buffer(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.02..=2.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in 0.02..2 (seconds)"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.really_quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| player::status::LogStderr)
        .init();

    if cli.list_devices {
        return match vreq_v4l2::discover::discover() {
            Ok(devs) => {
                print!("{}", vreq_v4l2::discover::format_table(&devs));
                if devs.is_empty() {
                    eprintln!(
                        "vreqplay: no V4L2 stateless decoder found (looked at every /dev/media*)"
                    );
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("vreqplay: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cli.audio_device == "help" {
        return match vreq_audio::output::list_devices() {
            Ok(list) => {
                print!("{list}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vreqplay: audio: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cli.hwdec == Hwdec::No {
        eprintln!(
            "vreqplay: --hwdec=no: there is no software decoder; vreqplay decodes only through V4L2 stateless decoders (use auto or auto-copy)"
        );
        return ExitCode::FAILURE;
    }
    let mut files = cli.files.clone();
    if let Some(list) = &cli.playlist {
        match player::playlist::read_playlist(list) {
            Ok(mut l) => files.append(&mut l),
            Err(e) => {
                eprintln!("vreqplay: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if files.is_empty() {
        eprintln!("vreqplay: a FILE to play is required (see --help)");
        return ExitCode::FAILURE;
    }
    let kms = |device: Option<PathBuf>| KmsOptions {
        device,
        connector: cli.drm_connector.clone(),
        mode: cli.drm_mode,
        plane: cli.drm_plane,
        input: !cli.no_input,
        writeback: std::env::var_os("VREQ_KMS_WRITEBACK").map(PathBuf::from),
        ..Default::default()
    };
    let output = match (cli.output.clone(), cli.vo) {
        (Some(path), _) => Output::Y4m {
            path,
            force: cli.force,
        },
        (None, Some(Vo::Null)) => Output::Null,
        (None, Some(Vo::Wayland)) => Output::Wayland,
        (None, Some(Vo::Drm)) => Output::Drm(kms(cli.drm_device.clone())),
        (None, None) => match auto_vo(
            &VoEnv::from_env(),
            |p| p.exists(),
            vreq_present::kms::kms_available,
        ) {
            Ok(AutoVo::Wayland) => Output::Wayland,
            Ok(AutoVo::Drm(card)) => {
                tracing::info!("--vo=drm on {} (no compositor)", card.display());
                Output::Drm(kms(cli.drm_device.clone().or(Some(card))))
            }
            Err(e) => {
                eprintln!("vreqplay: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let label = if matches!(output, Output::Drm(_)) {
        "drm"
    } else {
        "window"
    };
    let quit = match player::signals::install() {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!("SIGINT / SIGTERM handlers: {e}; signals end the player at once");
            None
        }
    };
    let opts = PlayOptions {
        input: files[0].clone(),
        output,
        max_frames: cli.frames,
        device: cli.device,
        keep_open: false,
        fullscreen: cli.fs,
        hwdec_copy: cli.hwdec_copy || cli.hwdec == Hwdec::AutoCopy,
    };
    let audio = AudioOptions {
        no_audio: cli.no_audio,
        aid: cli.aid,
        volume: cli.volume,
        device: cli.audio_device,
        untimed: cli.untimed,
        buffer: std::time::Duration::from_secs_f64(cli.audio_buffer),
    };
    let lo = ListOptions {
        start: cli.start,
        end: cli.end,
        hr_seek: cli.hr_seek,
        pause: cli.pause,
        loop_file: cli.loop_file,
        loop_playlist: cli.loop_playlist,
        keep_open: cli.keep_open,
        status_line: !cli.quiet && !cli.really_quiet && std::io::stderr().is_terminal(),
        title: cli.title,
        test_keys: std::env::var_os("VREQ_TEST_KEYS").map(PathBuf::from),
        quit,
    };
    let quiet = cli.really_quiet;
    let outcome = player::play_list(&files, &opts, &audio, &lo, |_, r| match r {
        Ok(r) if !quiet => {
            eprintln!(
                "vreqplay: {} frames output ({} decoded, {} hidden by the edit list, {} bad, {} input units skipped) on {}",
                r.frames_shown, r.stats.decoded, r.frames_hidden, r.stats.bad, r.stats.skipped, r.device
            );
            if let Some(p) = r.present {
                eprintln!("vreqplay: {label}: {p}");
            }
            if let Some(a) = &r.audio {
                eprintln!("vreqplay: audio: {a}");
            }
        }
        Ok(_) => {}
        Err(e) => {
            // the error's instant, for tests/vm/check-damage.py (see input_end in player)
            tracing::debug!(target: "vreqplay::input_end", "error");
            eprintln!("vreqplay: {e}");
        }
    });
    ExitCode::from(outcome.exit_code())
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
        // the long help lists every key
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd.render_long_help().to_string();
        for key in [
            "space, p",
            "Left, Right",
            "PgDn, PgUp",
            ">, Enter",
            "keyframe-bound",
            "i ",
        ] {
            assert!(help.contains(key), "{key}");
        }
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
    fn automatic_vo_wayland_then_drm_then_an_error_naming_vo_drm() {
        let none = |_: &Path| false;
        let wl = VoEnv {
            wayland_display: Some("wayland-1".into()),
            runtime_dir: Some("/run/user/1000".into()),
        };
        // a compositor wins; the cards are not even looked at
        assert_eq!(
            auto_vo(&wl, none, || panic!("KMS probed with a compositor")),
            Ok(AutoVo::Wayland)
        );
        // no WAYLAND_DISPLAY but libwayland's default socket exists
        let rt = VoEnv {
            wayland_display: None,
            runtime_dir: Some("/run/user/1000".into()),
        };
        assert_eq!(
            auto_vo(&rt, |p| p == Path::new("/run/user/1000/wayland-0"), || None),
            Ok(AutoVo::Wayland)
        );
        // no compositor: a free card
        assert_eq!(
            auto_vo(&rt, none, || Some("/dev/dri/card0".into())),
            Ok(AutoVo::Drm("/dev/dri/card0".into()))
        );
        assert_eq!(
            auto_vo(&VoEnv::default(), none, || Some("/dev/dri/card1".into())),
            Ok(AutoVo::Drm("/dev/dri/card1".into()))
        );
        // neither: the window's error with the hint
        let e = auto_vo(&rt, none, || None).unwrap_err();
        assert!(
            e.starts_with("wayland: cannot connect to a Wayland compositor"),
            "{e}"
        );
        assert!(
            e.contains("XDG_RUNTIME_DIR=/run/user/1000") && e.contains("--vo=drm"),
            "{e}"
        );
        let e = auto_vo(&VoEnv::default(), none, || None).unwrap_err();
        assert!(e.contains("XDG_RUNTIME_DIR=unset"), "{e}");
    }

    #[test]
    fn help_names_the_kiosk_keys_exit_status_4_and_the_test_hooks() {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd.render_long_help().to_string();
        for s in [
            "--vo=drm: quit",
            "/dev/input/event",
            "4 when SIGINT / SIGTERM",
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
