//! The driver's log: silent by default; `VREQ_LOG` (or, without it,
//! `RUST_LOG`) set to a `tracing_subscriber::EnvFilter` directive (`warn`,
//! `debug`, `vreq_drv_video=trace`, …) sends it to stderr, the way the
//! player's `-v` / `RUST_LOG` do. A driver lives in its client's process:
//! it installs a global subscriber only when asked to and only when the
//! process has none yet (`try_init`), once per process.

use std::sync::Once;

/// The filter directive from the environment: `VREQ_LOG`, else `RUST_LOG`
/// (empty values count as unset); `None`: stay silent.
pub fn directive(vreq_log: Option<String>, rust_log: Option<String>) -> Option<String> {
    vreq_log
        .filter(|s| !s.trim().is_empty())
        .or(rust_log.filter(|s| !s.trim().is_empty()))
}

/// Installs the stderr subscriber if [`directive`] of the environment asks
/// for one (`vaInitialize` calls it). A directive that does not parse logs
/// warnings; errors of `try_init` (the process has a subscriber) are ignored.
pub fn init_from_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(d) = directive(
            std::env::var("VREQ_LOG").ok(),
            std::env::var("RUST_LOG").ok(),
        ) else {
            return;
        };
        let filter = tracing_subscriber::EnvFilter::try_new(&d)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    });
}

#[cfg(test)]
mod tests {
    use super::directive;

    #[test]
    fn vreq_log_wins_and_empty_is_unset() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(directive(None, None), None);
        assert_eq!(directive(s(""), s(" ")), None);
        assert_eq!(directive(s("debug"), s("warn")), s("debug"));
        assert_eq!(directive(s(""), s("warn")), s("warn"));
        assert_eq!(
            directive(None, s("vreq_drv_video=trace")),
            s("vreq_drv_video=trace")
        );
    }
}
