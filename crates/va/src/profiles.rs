//! Which VA profiles the machine's decoders serve, and which device a profile
//! is routed to.
//!
//! A device serves a VA profile when discovery found the profile's codec on
//! its OUTPUT queue (VIDIOC_ENUM_FMT) and, for the 10-bit profiles
//! (`VAProfileH264High10`, `VAProfileHEVCMain10`, `VAProfileVP9Profile2`),
//! when its device profile lists the codec in `codecs_10bit`
//! (`vreq_v4l2::profile`, taken from the drivers' sources). Profile values:
//! libva va.h `enum VAProfile`.

use vreq_core::CodecKind;
use vreq_v4l2::discover::{self, StreamNeeds};
use vreq_v4l2::DeviceInfo;

use crate::sys::{self, VAProfile};

/// One VA profile this driver can list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaProfileInfo {
    /// libva's `VAProfile` value.
    pub profile: VAProfile,
    /// Its name in va.h (`VAProfileH264Main`, …), as vainfo prints it.
    pub name: &'static str,
    pub codec: CodecKind,
    /// A 10-bit (4:2:0) profile: served only by devices that decode the
    /// codec at 10 bits.
    pub ten_bit: bool,
}

/// `VAProfileH264High10` = 36: added in libva 2.18 (VA-API 1.18; libva
/// commit b75818c0 "add VAProfileH264High10"), so absent from Debian 12's
/// 2.17 headers. The value is ABI; clients of a newer libva (trixie's 2.22)
/// ask for it by number.
pub const VA_PROFILE_H264_HIGH10: VAProfile = 36;

const fn p(
    profile: VAProfile,
    name: &'static str,
    codec: CodecKind,
    ten_bit: bool,
) -> VaProfileInfo {
    VaProfileInfo {
        profile,
        name,
        codec,
        ten_bit,
    }
}

/// Every profile the driver may list, in `enum VAProfile` order (the order of
/// `vaQueryConfigProfiles`' answer).
pub const VA_PROFILES: &[VaProfileInfo] = &[
    p(
        sys::VAProfileMPEG2Simple,
        "VAProfileMPEG2Simple",
        CodecKind::Mpeg2,
        false,
    ),
    p(
        sys::VAProfileMPEG2Main,
        "VAProfileMPEG2Main",
        CodecKind::Mpeg2,
        false,
    ),
    p(
        sys::VAProfileH264Main,
        "VAProfileH264Main",
        CodecKind::H264,
        false,
    ),
    p(
        sys::VAProfileH264High,
        "VAProfileH264High",
        CodecKind::H264,
        false,
    ),
    p(
        sys::VAProfileH264ConstrainedBaseline,
        "VAProfileH264ConstrainedBaseline",
        CodecKind::H264,
        false,
    ),
    p(
        sys::VAProfileVP8Version0_3,
        "VAProfileVP8Version0_3",
        CodecKind::Vp8,
        false,
    ),
    p(
        sys::VAProfileHEVCMain,
        "VAProfileHEVCMain",
        CodecKind::Hevc,
        false,
    ),
    p(
        sys::VAProfileHEVCMain10,
        "VAProfileHEVCMain10",
        CodecKind::Hevc,
        true,
    ),
    p(
        sys::VAProfileVP9Profile0,
        "VAProfileVP9Profile0",
        CodecKind::Vp9,
        false,
    ),
    p(
        sys::VAProfileVP9Profile2,
        "VAProfileVP9Profile2",
        CodecKind::Vp9,
        true,
    ),
    p(
        VA_PROFILE_H264_HIGH10,
        "VAProfileH264High10",
        CodecKind::H264,
        true,
    ),
];

/// The listed facts of `profile`; `None` for a profile this driver never lists.
pub fn info(profile: VAProfile) -> Option<&'static VaProfileInfo> {
    VA_PROFILES.iter().find(|i| i.profile == profile)
}

/// Whether `dev` decodes `codec` into a 10-bit CAPTURE format (its device
/// profile's `codecs_10bit`, the same fact routing uses).
fn does_10bit(dev: &DeviceInfo, codec: CodecKind) -> bool {
    let listed: Vec<CodecKind> = dev.codecs.iter().map(|c| c.codec).collect();
    vreq_v4l2::profile::for_probe(&dev.driver, &dev.card, &listed)
        .codecs_10bit
        .contains(&codec)
}

/// Whether `dev` serves `info`'s profile.
pub fn serves(dev: &DeviceInfo, info: &VaProfileInfo) -> bool {
    dev.support(info.codec).is_some() && (!info.ten_bit || does_10bit(dev, info.codec))
}

/// The VA profiles `dev` serves, in [`VA_PROFILES`] order.
pub fn device_profiles(dev: &DeviceInfo) -> Vec<VAProfile> {
    VA_PROFILES
        .iter()
        .filter(|i| serves(dev, i))
        .map(|i| i.profile)
        .collect()
}

/// The union over `devices`, in [`VA_PROFILES`] order.
pub fn profile_union(devices: &[DeviceInfo]) -> Vec<VAProfile> {
    VA_PROFILES
        .iter()
        .filter(|i| devices.iter().any(|d| serves(d, i)))
        .map(|i| i.profile)
        .collect()
}

/// `VAConfigAttribRTFormat` of `info`'s profile: `VA_RT_FORMAT_YUV420`, and
/// for a 10-bit profile also `VA_RT_FORMAT_YUV420_10` (a Main10 / High10 /
/// Profile 2 stream may be coded at 8 bits too).
pub fn rt_formats(info: &VaProfileInfo) -> u32 {
    if info.ten_bit {
        sys::VA_RT_FORMAT_YUV420 | sys::VA_RT_FORMAT_YUV420_10
    } else {
        sys::VA_RT_FORMAT_YUV420
    }
}

/// The index in `devices` of the device a config of `info`'s profile is
/// routed to: among the devices that serve the profile,
/// [`vreq_v4l2::discover::route`]'s choice for the codec at the profile's
/// bit depth and an unknown size (the largest maximum size wins, then
/// discovery order: on the RK3588 H.264 / HEVC go to rkvdec, VP8 / MPEG-2 to
/// hantro). `None` when no device serves it.
pub fn route(devices: &[DeviceInfo], info: &VaProfileInfo) -> Option<usize> {
    let serving: Vec<usize> = (0..devices.len())
        .filter(|&i| serves(&devices[i], info))
        .collect();
    let candidates: Vec<DeviceInfo> = serving.iter().map(|&i| devices[i].clone()).collect();
    let needs = StreamNeeds {
        codec: info.codec,
        width: 0,
        height: 0,
        bit_depth: Some(if info.ten_bit { 10 } else { 8 }),
    };
    let chosen = discover::route(&candidates, &needs).ok()?;
    let pos = candidates.iter().position(|c| std::ptr::eq(c, chosen))?;
    Some(serving[pos])
}
