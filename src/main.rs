//! `vreqplay`: the command line's logic. The clap definition is
//! [`vreqplay::cli`] (the man page and completions are generated from it);
//! everything else lives in the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use vreq_present::kms::KmsOptions;
use vreqplay::cli::{clap_error_exit_code, Cli, Hwdec, Vo};
use vreqplay::player::{
    self, AudioOptions, ListOptions, Output, PlayOptions, EXIT_ERROR, EXIT_NOTHING_PLAYED,
};

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

fn main() -> ExitCode {
    // a panic anywhere is a bug: abort (the profile unwinds; see the function)
    vreqplay::abort_on_panic();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(clap_error_exit_code(&e));
        }
    };
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
                    ExitCode::from(EXIT_ERROR)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("vreqplay: {e}");
                ExitCode::from(EXIT_ERROR)
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
                ExitCode::from(EXIT_ERROR)
            }
        };
    }
    if cli.hwdec == Hwdec::No {
        eprintln!(
            "vreqplay: --hwdec=no: there is no software decoder; vreqplay decodes only through V4L2 stateless decoders (use auto or auto-copy)"
        );
        return ExitCode::from(EXIT_ERROR);
    }
    let mut files = cli.files.clone();
    if let Some(list) = &cli.playlist {
        match player::playlist::read_playlist(list) {
            Ok(mut l) => files.append(&mut l),
            Err(e) => {
                eprintln!("vreqplay: {e}");
                return ExitCode::from(EXIT_NOTHING_PLAYED);
            }
        }
    }
    if files.is_empty() {
        eprintln!("vreqplay: a FILE to play is required (see --help)");
        return ExitCode::from(EXIT_ERROR);
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
                return ExitCode::from(EXIT_NOTHING_PLAYED);
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
}
