//! Conformance oracle: visl ftrace dumps of two decoders (GStreamer's
//! `v4l2slh264dec` as the reference, vreqplay under test) reduced to a
//! normalised text and compared control field by control field, per decode
//! job (issue 2 item 7; DESIGN.md §4 tier 2).
//!
//! * [`trace`]: parse visl's ftrace text (`visl_h264_controls` events,
//!   `v4l2_qbuf`) into jobs of uAPI structs.
//! * [`normalise`]: jobs → stable text (`job 12 slice_params.slice_qp_delta = 3`),
//!   timestamps → decode indices, DPB as a set, list indices resolved.
//! * [`visl_fmt`]: visl's print formats; [`visl_fmt::emulate`] renders our
//!   codec's [`crate::codec::DecodeJob`]s as visl would trace them, so the
//!   codec layer can be checked offline against committed goldens.
//! * [`compare`]: job-by-job comparison, `equal N/M jobs` + first difference.

pub mod compare;
pub mod normalise;
pub mod trace;
pub mod visl_fmt;

/// Parses visl trace text and normalises it (header lines become `# `
/// comments; at most `cap` jobs).
pub fn normalise_trace(
    text: &str,
    header: &[String],
    cap: Option<usize>,
) -> Result<String, trace::TraceError> {
    let t = trace::parse(text)?;
    Ok(normalise::normalise(&t, header, cap))
}
