//! VP9 codec tests against spec facts and ffprobe.
