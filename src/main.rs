//! `vreqplay`: command-line front end (clap). Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use vreqplay::player::{self, Aid, AudioOptions, Output, PlayOptions};

/// Play a video through the Linux V4L2 stateless (request API) decoders.
///
/// Containers: MP4 (incl. fragmented), Matroska, WebM, IVF, MPEG-PS, MPEG-TS (MPEG-2, H.264 or HEVC video), MPEG-2 ES, raw H.264 / HEVC Annex-B.
/// Codecs: H.264, HEVC (Main, Main10), VP9 (profiles 0, 2), VP8, MPEG-2.
///
/// Sound: the first audio track (--aid) plays through ALSA (--audio-device) and is the clock the picture follows; without one (or with --no-audio) frames are paced by the wall clock. Audio codecs: AAC-LC, MP1/MP2/MP3, Vorbis, FLAC, PCM, ALAC, Opus; others print "audio: <codec> not supported, playing without sound".
///
/// Window keys: space pause / resume (picture and sound), f fullscreen, 9 / 0 volume down / up, m mute, q or Esc quit. At exit the window's counts are printed: frames presented, dropped and late, and how many went zero-copy or were copied; and the sound's: codec, device, rate, underruns.
#[derive(Parser, Debug)]
#[command(name = "vreqplay", version, about, long_about)]
struct Cli {
    /// The file to play.
    #[arg(required_unless_present_any = ["list_devices", "audio_device"])]
    file: Option<PathBuf>,

    /// Video output: a Wayland window, or none (decode only).
    #[arg(long, value_enum, default_value_t = Vo::Wayland)]
    vo: Vo,

    /// Write the decoded frames, in display order, to this Y4M file instead of a window.
    #[arg(short = 'o', long = "output", value_name = "FILE.y4m")]
    output: Option<PathBuf>,

    /// Overwrite the -o file if it exists.
    #[arg(long)]
    force: bool,

    /// Stop after N frames have been output.
    #[arg(long, value_name = "N")]
    frames: Option<u64>,

    /// Decode with the decoder behind this media or video device (e.g. /dev/media0) instead of routing the stream to the decoder that serves its codec, size and bit depth.
    #[arg(long, value_name = "/dev/mediaN")]
    device: Option<PathBuf>,

    /// Keep the window open on the last frame at the end, until it is closed.
    #[arg(long)]
    keep_open: bool,

    /// Start fullscreen (key f toggles).
    #[arg(long)]
    fullscreen: bool,

    /// Always copy decoded frames on the CPU (detiling / unpacking NC12, NC30, NV15 where needed) instead of handing the decoder's buffers to the compositor (zero-copy).
    #[arg(long)]
    hwdec_copy: bool,

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
    /// No output: decode only.
    Null,
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
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
    let Some(input) = cli.file else {
        eprintln!("vreqplay: a FILE to play is required (see --help)");
        return ExitCode::FAILURE;
    };
    let output = match (cli.output, cli.vo) {
        (Some(path), _) => Output::Y4m {
            path,
            force: cli.force,
        },
        (None, Vo::Null) => Output::Null,
        (None, Vo::Wayland) => Output::Wayland,
    };
    let opts = PlayOptions {
        input,
        output,
        max_frames: cli.frames,
        device: cli.device,
        keep_open: cli.keep_open,
        fullscreen: cli.fullscreen,
        hwdec_copy: cli.hwdec_copy,
    };
    let audio = AudioOptions {
        no_audio: cli.no_audio,
        aid: cli.aid,
        volume: cli.volume,
        device: cli.audio_device,
        untimed: cli.untimed,
        buffer: std::time::Duration::from_secs_f64(cli.audio_buffer),
    };
    match player::play(&opts, &audio) {
        Ok(r) => {
            eprintln!(
                "vreqplay: {} frames output ({} decoded, {} hidden by the edit list, {} bad, {} input units skipped) on {}",
                r.frames_shown, r.stats.decoded, r.frames_hidden, r.stats.bad, r.stats.skipped, r.device
            );
            if let Some(p) = r.present {
                eprintln!("vreqplay: window: {p}");
            }
            if let Some(a) = r.audio {
                eprintln!("vreqplay: audio: {a}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vreqplay: {e}");
            ExitCode::FAILURE
        }
    }
}
