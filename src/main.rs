//! `vreqplay`: command-line front end (clap). Everything else lives in the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use vreqplay::player::{
    self, Aid, AudioOptions, HrSeek, KeepOpen, ListOptions, Loop, Output, PlayOptions, TimePos,
};

/// The KEYS section of `--help` (man-page-ready: mpv's default bindings).
const KEYS: &str = "\
KEYS (mpv's default bindings, physical keys of the layout in use):
  space, p         pause / resume (picture and sound)
  q, Q             quit
  Esc              leave fullscreen; quit when not fullscreen
  f, double-click  fullscreen on / off
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

EXIT STATUS (as mpv): 0 when every file played or the user quit; 1 on a bad
command line; 2 when no file could be played; 3 when some files could not.

TEST HOOK: VREQ_TEST_KEYS=FILE feeds the window key names (xkbcommon keysym
names, one per line: Right, space, period, Page_Up, …) from FILE or a FIFO.";

/// Play videos through the Linux V4L2 stateless (request API) decoders.
///
/// Containers: MP4 (incl. fragmented), Matroska, WebM, IVF, MPEG-PS, MPEG-TS (MPEG-2, H.264 or HEVC video), MPEG-2 ES, raw H.264 / HEVC Annex-B.
/// Codecs: H.264, HEVC (Main, Main10), VP9 (profiles 0, 2), VP8, MPEG-2.
///
/// Sound: the first audio track (--aid) plays through ALSA (--audio-device) and is the clock the picture follows; without one (or with --no-audio) frames are paced by the wall clock. Audio codecs: AAC-LC, MP1/MP2/MP3, Vorbis, FLAC, PCM, ALAC, Opus; others print "audio: <codec> not supported, playing without sound".
///
/// Options and keys follow mpv's names and meaning where mpv has them: --fs, --hwdec, --keep-open, --pause, --title, --start, --end, --hr-seek, --loop-file, --loop-playlist, --quiet, --really-quiet, --no-audio, --aid, --volume, --audio-device, --audio-buffer, --untimed, --vo, -o, --frames. Several FILEs form a playlist. On a terminal a status line shows the position (mpv's shape). At the end of each file the window's counts are printed: frames presented, dropped and late, and how many went zero-copy or were copied; and the sound's: codec, device, rate, underruns.
#[derive(Parser, Debug)]
#[command(name = "vreqplay", version, about, long_about, after_long_help = KEYS)]
struct Cli {
    /// The files to play, in order (a playlist).
    #[arg(required_unless_present_any = ["list_devices", "audio_device"])]
    files: Vec<PathBuf>,

    /// Video output: a Wayland window, or none (decode only).
    #[arg(long, value_enum, default_value_t = Vo::Wayland)]
    vo: Vo,

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

    /// Start fullscreen (key f toggles); --fullscreen is the same.
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
    if cli.files.is_empty() {
        eprintln!("vreqplay: a FILE to play is required (see --help)");
        return ExitCode::FAILURE;
    }
    let output = match (cli.output, cli.vo) {
        (Some(path), _) => Output::Y4m {
            path,
            force: cli.force,
        },
        (None, Vo::Null) => Output::Null,
        (None, Vo::Wayland) => Output::Wayland,
        (None, Vo::Drm) => Output::Drm(vreq_present::kms::KmsOptions {
            input: true,
            writeback: std::env::var_os("VREQ_KMS_WRITEBACK").map(PathBuf::from),
            ..Default::default()
        }),
    };
    let opts = PlayOptions {
        input: cli.files[0].clone(),
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
    };
    let quiet = cli.really_quiet;
    let outcome = player::play_list(&cli.files, &opts, &audio, &lo, |_, r| match r {
        Ok(r) if !quiet => {
            eprintln!(
                "vreqplay: {} frames output ({} decoded, {} hidden by the edit list, {} bad, {} input units skipped) on {}",
                r.frames_shown, r.stats.decoded, r.frames_hidden, r.stats.bad, r.stats.skipped, r.device
            );
            if let Some(p) = r.present {
                eprintln!("vreqplay: window: {p}");
            }
            if let Some(a) = &r.audio {
                eprintln!("vreqplay: audio: {a}");
            }
        }
        Ok(_) => {}
        Err(e) => eprintln!("vreqplay: {e}"),
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
}
