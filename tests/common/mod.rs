//! What the root integration tests share: a file opened as the player
//! opens it, its video decoded by an engine over a fake visl device.

use std::path::Path;

use vreq_container::{self as container, Demuxer, TrackInfo};
use vreq_engine::Engine;
use vreq_testkit::fake::FakeDevice;
use vreq_v4l2::profile;
use vreqplay::player::{self, PlayError};

/// A file opened for playing: its demuxer, video track and engine.
pub type OnFakeVisl = (Box<dyn Demuxer + Send>, TrackInfo, Engine<FakeDevice>);

/// Opens `path`, picks its video track and codec as the player does, and
/// builds an engine over a fake visl device (`vreq_testkit::fake`) for it.
/// Errors: the player's (unreadable file, no video track, bad codec
/// configuration).
pub fn open_on_fake_visl(path: &Path) -> Result<OnFakeVisl, PlayError> {
    open_on_faulty_visl(path, |d| d)
}

/// [`open_on_fake_visl`] with the fake device changed by `fault` first (a
/// fault injected: `FakeDevice::with_fault`, `with_error_on`, ...).
pub fn open_on_faulty_visl(
    path: &Path,
    fault: impl FnOnce(FakeDevice) -> FakeDevice,
) -> Result<OnFakeVisl, PlayError> {
    let demux = container::open(path)?;
    let (track, kind) = player::pick_track(path, demux.as_ref())?;
    let codec = player::codec_for_track(path, &track, kind)?;
    let dev = fault(FakeDevice::for_codec(
        profile::for_driver("visl", "visl"),
        kind,
    ));
    Ok((demux, track, Engine::new(codec, dev)))
}
