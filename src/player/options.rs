//! mpv's option syntaxes the player takes: times (`--start`, `--end`),
//! `--hr-seek`, `--loop-file` / `--loop-playlist`, `--keep-open`. Each
//! parser follows mpv's manual (`DOCS/man/options.rst`) and its parser
//! (`options/m_option.c`: `parse_timestring`, `parse_rel_time`); the
//! errors are one line for clap to print.

use std::str::FromStr;

/// A position in a file as mpv's `--start` / `--end` take it
/// (`options/m_option.c` `parse_rel_time`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimePos {
    /// `N`, `mm:ss`, `hh:mm:ss` (fractions allowed), or `+…`: ns from the start.
    Start(i64),
    /// `-…`: ns before the end (needs the duration).
    End(i64),
    /// `N%`: percent of the duration.
    Percent(f64),
}

impl TimePos {
    /// The position in ns on the file's axis (`duration_ns` resolves `-…`
    /// and `N%`; `None` when it is unknown). Clamped at 0.
    pub fn resolve(self, duration_ns: Option<i64>) -> Option<i64> {
        let v = match self {
            TimePos::Start(t) => t,
            TimePos::End(t) => duration_ns? - t,
            TimePos::Percent(p) => (duration_ns? as f64 * p / 100.0) as i64,
        };
        Some(v.max(0))
    }
}

/// mpv's `parse_timestring`: `[hh:]mm:ss[.fff]` or `ss[.fff]` (no sign) → ns.
pub fn parse_timestring(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let (whole, last) = parts.split_at(parts.len() - 1);
    let mut secs = 0f64;
    for p in whole {
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        secs = secs * 60.0 + p.parse::<f64>().ok()?;
    }
    let l = last[0];
    if !l.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let ls: f64 = l.parse().ok()?;
    if parts.len() > 1 && ls >= 60.0 {
        return None;
    }
    secs = secs * 60.0 + ls;
    if !secs.is_finite() || secs > 1e9 {
        return None;
    }
    Some((secs * 1e9).round() as i64)
}

impl FromStr for TimePos {
    type Err = String;
    /// `10`, `1:30`, `01:02:03.5`, `+10`, `-30` (before the end), `25%`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("{s}: expected seconds, mm:ss, hh:mm:ss, N% or -TIME (before the end), as mpv")
        };
        if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p.parse().map_err(|_| bad())?;
            return if (0.0..=100.0).contains(&v) {
                Ok(TimePos::Percent(v))
            } else {
                Err(bad())
            };
        }
        if let Some(r) = s.strip_prefix('-') {
            return parse_timestring(r).map(TimePos::End).ok_or_else(bad);
        }
        let r = s.strip_prefix('+').unwrap_or(s);
        parse_timestring(r).map(TimePos::Start).ok_or_else(bad)
    }
}

/// `--hr-seek` (mpv's names and meaning): when a seek decodes from the
/// keyframe at or before the target and shows nothing before the target
/// ("precise"), instead of showing from the keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HrSeek {
    /// `no`: never precise (always from the keyframe).
    No,
    /// `default` (= mpv's `absolute`): precise for absolute targets
    /// (`--start`, chapters, the 10 % steps), keyframe for relative ones
    /// (the arrow keys).
    #[default]
    Default,
    /// `yes` / `always`: always precise.
    Yes,
}

impl HrSeek {
    /// Whether a seek (`absolute` or relative) is precise.
    pub fn precise(self, absolute: bool) -> bool {
        match self {
            HrSeek::No => false,
            HrSeek::Default => absolute,
            HrSeek::Yes => true,
        }
    }
}

impl FromStr for HrSeek {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "no" => Ok(HrSeek::No),
            "default" | "absolute" => Ok(HrSeek::Default),
            "yes" | "always" => Ok(HrSeek::Yes),
            _ => Err(format!(
                "{s}: expected yes, no, default (or absolute / always)"
            )),
        }
    }
}

/// `--loop-file` / `--loop-playlist` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loop {
    /// `no` (the default).
    #[default]
    No,
    /// `N`.
    Times(u64),
    /// `inf` (forever).
    Inf,
}

impl FromStr for Loop {
    type Err = String;
    /// `no`, `inf` (also `yes`, as mpv's flag form), or a count ≥ 0.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "no" => Ok(Loop::No),
            "inf" | "yes" => Ok(Loop::Inf),
            n => n
                .parse::<u64>()
                .map(Loop::Times)
                .map_err(|_| format!("{n}: expected no, inf or a count")),
        }
    }
}

/// `--keep-open` (mpv): what happens at the end of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeepOpen {
    /// `no`: the next file, or exit after the last.
    #[default]
    No,
    /// `yes`: after the last file (no more looping), stay paused on the
    /// last frame; earlier files move on.
    Yes,
    /// `always`: stay paused on the last frame of every file.
    Always,
}

impl FromStr for KeepOpen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "no" => Ok(KeepOpen::No),
            "yes" => Ok(KeepOpen::Yes),
            "always" => Ok(KeepOpen::Always),
            _ => Err(format!("{s}: expected yes, no or always")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const S: i64 = 1_000_000_000;

    #[test]
    fn times_parse_as_mpv() {
        assert_eq!("10".parse(), Ok(TimePos::Start(10 * S)));
        assert_eq!("2.5".parse(), Ok(TimePos::Start(2_500_000_000)));
        assert_eq!("1:30".parse(), Ok(TimePos::Start(90 * S)));
        assert_eq!("01:02:03".parse(), Ok(TimePos::Start(3723 * S)));
        assert_eq!("0:00:01.25".parse(), Ok(TimePos::Start(1_250_000_000)));
        assert_eq!("+5".parse(), Ok(TimePos::Start(5 * S)));
        assert_eq!("-30".parse(), Ok(TimePos::End(30 * S)));
        assert_eq!("25%".parse(), Ok(TimePos::Percent(25.0)));
        for bad in ["", "x", "1:", ":1", "1:2:3:4", "1:75", "150%", "1e3", "-"] {
            assert!(bad.parse::<TimePos>().is_err(), "{bad}");
        }
        let d = Some(100 * S);
        assert_eq!(TimePos::Percent(25.0).resolve(d), Some(25 * S));
        assert_eq!(TimePos::End(30 * S).resolve(d), Some(70 * S));
        assert_eq!(TimePos::End(300 * S).resolve(d), Some(0));
        assert_eq!(TimePos::Percent(25.0).resolve(None), None);
        assert_eq!(TimePos::Start(7).resolve(None), Some(7));
    }

    #[test]
    fn flags_parse() {
        assert_eq!("no".parse(), Ok(HrSeek::No));
        assert_eq!("absolute".parse(), Ok(HrSeek::Default));
        assert_eq!("always".parse(), Ok(HrSeek::Yes));
        assert!(HrSeek::Default.precise(true) && !HrSeek::Default.precise(false));
        assert!(!HrSeek::No.precise(true) && HrSeek::Yes.precise(false));
        assert_eq!("3".parse(), Ok(Loop::Times(3)));
        assert_eq!("inf".parse(), Ok(Loop::Inf));
        assert_eq!("no".parse(), Ok(Loop::No));
        assert!("-1".parse::<Loop>().is_err());
        assert_eq!("always".parse(), Ok(KeepOpen::Always));
        assert!("maybe".parse::<KeepOpen>().is_err());
    }
}
