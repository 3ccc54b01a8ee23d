//! The driver's state behind one `VADriverContext`: the decoders found at
//! `vaInitialize`, the profiles they serve, and the config objects.
//! Plain Rust; the FFI module converts C arguments to these calls.

use std::ffi::CString;
use std::path::Path;

use vreq_v4l2::DeviceInfo;

use crate::objects::{Heap, HeapFull, CONFIG_IDS};
use crate::profiles::{self, VaProfileInfo};
use crate::status::*;
use crate::sys::{self, VAConfigAttrib, VAConfigID, VAEntrypoint, VAProfile};

/// `max_profiles`: every profile the driver may list.
pub const MAX_PROFILES: usize = profiles::VA_PROFILES.len();
/// `max_entrypoints`: VLD only.
pub const MAX_ENTRYPOINTS: usize = 1;
/// `max_attributes`: the config attributes `vaQueryConfigAttributes` returns
/// (`VAConfigAttribRTFormat` only).
pub const MAX_ATTRIBUTES: usize = 1;
/// `max_image_formats`: the image formats `vaQueryImageFormats` will list
/// (NV12, P010, …; unimplemented so far, libva requires a nonzero maximum).
pub const MAX_IMAGE_FORMATS: usize = 4;
/// `max_subpic_formats`: none supported; libva requires a nonzero maximum.
pub const MAX_SUBPIC_FORMATS: usize = 1;
/// `max_display_attributes`: none supported.
pub const MAX_DISPLAY_ATTRIBUTES: usize = 1;
/// Live configs at most (bounds what a client can make us allocate).
pub const MAX_LIVE_CONFIGS: usize = 4096;

/// The one entrypoint: `VAEntrypointVLD` (slice-level decode).
pub const ENTRYPOINTS: [VAEntrypoint; MAX_ENTRYPOINTS] = [sys::VAEntrypointVLD];

/// One `vaCreateConfig` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub profile: VAProfile,
    pub entrypoint: VAEntrypoint,
    /// The `VA_RT_FORMAT_*` bits the config decodes into.
    pub rt_format: u32,
    /// Index into [`Driver::devices`] of the device the config is routed to.
    pub device: usize,
}

/// The driver state of one VA display.
#[derive(Debug)]
pub struct Driver {
    devices: Vec<DeviceInfo>,
    profiles: Vec<VAProfile>,
    configs: Heap<Config>,
    vendor: CString,
}

/// Picks the devices to serve from `found` (discovery's result): all, or
/// with `forced` (`VREQ_DEVICE=/dev/mediaN`) the one of that media (or video)
/// node. Errors say what was found.
pub fn select_devices(
    found: Vec<DeviceInfo>,
    forced: Option<&str>,
) -> Result<Vec<DeviceInfo>, String> {
    let Some(forced) = forced else {
        return Ok(found);
    };
    let path = Path::new(forced);
    let names: Vec<String> = found
        .iter()
        .map(|d| d.media_path.display().to_string())
        .collect();
    let chosen: Vec<DeviceInfo> = found
        .into_iter()
        .filter(|d| d.media_path == path || d.video_path == path)
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "VREQ_DEVICE={forced}: not a stateless decoder found by discovery (found: {})",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ));
    }
    Ok(chosen)
}

impl Driver {
    /// The driver over `devices`; an error when there is none (vaInitialize
    /// then fails: a VA driver without a decoder serves nothing).
    pub fn new(devices: Vec<DeviceInfo>) -> Result<Driver, String> {
        if devices.is_empty() {
            return Err(
                "no V4L2 stateless decoder found (no /dev/media* with a decoder entity)".into(),
            );
        }
        let profiles = profiles::profile_union(&devices);
        let mut drivers: Vec<&str> = Vec::new();
        for d in &devices {
            if !drivers.contains(&d.driver.as_str()) {
                drivers.push(&d.driver);
            }
        }
        let vendor = format!(
            "vreq VA driver {} (V4L2 stateless: {})",
            env!("CARGO_PKG_VERSION"),
            drivers.join(", ")
        );
        // Driver names come from the kernel; a NUL in one would be a kernel bug.
        let vendor = CString::new(vendor.replace('\0', "?")).unwrap_or_default();
        Ok(Driver {
            devices,
            profiles,
            configs: Heap::new(CONFIG_IDS, MAX_LIVE_CONFIGS),
            vendor,
        })
    }

    /// `str_vendor`: `"vreq VA driver <version> (V4L2 stateless: <drivers>)"`.
    pub fn vendor(&self) -> &std::ffi::CStr {
        &self.vendor
    }

    /// The decoders this driver serves, in discovery order.
    pub fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }

    /// `vaQueryConfigProfiles`: the union over all devices (at most
    /// [`MAX_PROFILES`]), in `enum VAProfile` order.
    pub fn query_config_profiles(&self) -> &[VAProfile] {
        &self.profiles
    }

    /// The facts of a profile this driver lists, else
    /// `VA_STATUS_ERROR_UNSUPPORTED_PROFILE`.
    fn listed(&self, profile: VAProfile) -> Result<&'static VaProfileInfo, VAStatus> {
        match profiles::info(profile) {
            Some(i) if self.profiles.contains(&profile) => Ok(i),
            _ => Err(VA_STATUS_ERROR_UNSUPPORTED_PROFILE),
        }
    }

    fn check(
        &self,
        profile: VAProfile,
        entrypoint: VAEntrypoint,
    ) -> Result<&'static VaProfileInfo, VAStatus> {
        let info = self.listed(profile)?;
        if !ENTRYPOINTS.contains(&entrypoint) {
            return Err(VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT);
        }
        Ok(info)
    }

    /// `vaQueryConfigEntrypoints`: `VAEntrypointVLD` for a listed profile;
    /// `VA_STATUS_ERROR_UNSUPPORTED_PROFILE` for any other.
    pub fn query_config_entrypoints(
        &self,
        profile: VAProfile,
    ) -> Result<&'static [VAEntrypoint], VAStatus> {
        self.listed(profile)?;
        Ok(&ENTRYPOINTS)
    }

    /// `vaGetConfigAttributes`: fills each attribute's `value`:
    /// `VAConfigAttribRTFormat` → the profile's `VA_RT_FORMAT_*` bits, every
    /// other type → `VA_ATTRIB_NOT_SUPPORTED`. Errors: unsupported profile /
    /// entrypoint.
    pub fn get_config_attributes(
        &self,
        profile: VAProfile,
        entrypoint: VAEntrypoint,
        attribs: &mut [VAConfigAttrib],
    ) -> Result<(), VAStatus> {
        let info = self.check(profile, entrypoint)?;
        for a in attribs {
            a.value = if a.type_ == sys::VAConfigAttribRTFormat {
                profiles::rt_formats(info)
            } else {
                sys::VA_ATTRIB_NOT_SUPPORTED
            };
        }
        Ok(())
    }

    /// `vaCreateConfig`: a config of a listed profile with `VAEntrypointVLD`,
    /// routed to the device serving the profile ([`profiles::route`]).
    /// `VAConfigAttribRTFormat` in `attribs`, if given, must be a nonzero
    /// subset of the profile's formats (else
    /// `VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT`); other attribute types are
    /// ignored. Errors: unsupported profile / entrypoint,
    /// `VA_STATUS_ERROR_ALLOCATION_FAILED` past [`MAX_LIVE_CONFIGS`] or when
    /// config IDs run out.
    pub fn create_config(
        &mut self,
        profile: VAProfile,
        entrypoint: VAEntrypoint,
        attribs: &[VAConfigAttrib],
    ) -> Result<VAConfigID, VAStatus> {
        let info = self.check(profile, entrypoint)?;
        let supported = profiles::rt_formats(info);
        let mut rt_format = sys::VA_RT_FORMAT_YUV420;
        for a in attribs
            .iter()
            .filter(|a| a.type_ == sys::VAConfigAttribRTFormat)
        {
            if a.value == 0 || a.value & !supported != 0 {
                return Err(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT);
            }
            rt_format = a.value;
        }
        let device =
            profiles::route(&self.devices, info).ok_or(VA_STATUS_ERROR_UNSUPPORTED_PROFILE)?;
        let config = Config {
            profile,
            entrypoint,
            rt_format,
            device,
        };
        self.configs.insert(config).map_err(|e| match e {
            HeapFull::IdsExhausted | HeapFull::TooMany => VA_STATUS_ERROR_ALLOCATION_FAILED,
        })
    }

    /// `vaDestroyConfig`; `VA_STATUS_ERROR_INVALID_CONFIG` for an unknown or
    /// already destroyed ID.
    pub fn destroy_config(&mut self, id: VAConfigID) -> Result<(), VAStatus> {
        self.configs
            .remove(id)
            .map(|_| ())
            .ok_or(VA_STATUS_ERROR_INVALID_CONFIG)
    }

    /// A live config; `VA_STATUS_ERROR_INVALID_CONFIG` for an unknown or stale ID.
    pub fn config(&self, id: VAConfigID) -> Result<&Config, VAStatus> {
        self.configs.get(id).ok_or(VA_STATUS_ERROR_INVALID_CONFIG)
    }

    /// The device a config is routed to.
    pub fn config_device(&self, id: VAConfigID) -> Result<&DeviceInfo, VAStatus> {
        let c = self.config(id)?;
        Ok(&self.devices[c.device])
    }

    /// `vaQueryConfigAttributes`: the config's profile, entrypoint and its
    /// attributes ([`MAX_ATTRIBUTES`]: `VAConfigAttribRTFormat`).
    pub fn query_config_attributes(
        &self,
        id: VAConfigID,
    ) -> Result<(VAProfile, VAEntrypoint, [VAConfigAttrib; MAX_ATTRIBUTES]), VAStatus> {
        let c = self.config(id)?;
        let attr = VAConfigAttrib {
            type_: sys::VAConfigAttribRTFormat,
            value: c.rt_format,
        };
        Ok((c.profile, c.entrypoint, [attr]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_testkit::fake::device_info;
    use vreq_v4l2::profile::for_driver;

    /// The RK3588: rkvdec (vdpu381: H.264, HEVC, 10-bit both) and the
    /// VDPU121 hantro (rk3568-vpu variant: H.264, VP8, MPEG-2, 8-bit).
    fn rk3588() -> Vec<DeviceInfo> {
        vec![
            device_info(for_driver("hantro-vpu", "rk3568-vpu"), 0),
            device_info(for_driver("rkvdec", "vdpu381"), 1),
        ]
    }

    fn names(ps: &[VAProfile]) -> Vec<&'static str> {
        ps.iter()
            .map(|&p| profiles::info(p).unwrap().name)
            .collect()
    }

    #[test]
    fn union_of_two_devices() {
        let d = Driver::new(rk3588()).unwrap();
        assert_eq!(
            names(d.query_config_profiles()),
            [
                "VAProfileMPEG2Simple",
                "VAProfileMPEG2Main",
                "VAProfileH264Main",
                "VAProfileH264High",
                "VAProfileH264ConstrainedBaseline",
                "VAProfileVP8Version0_3",
                "VAProfileHEVCMain",
                "VAProfileHEVCMain10",
                "VAProfileH264High10",
            ]
        );
        assert!(d.query_config_profiles().len() <= MAX_PROFILES);
        // each device alone
        assert_eq!(
            names(&profiles::device_profiles(&rk3588()[0])),
            [
                "VAProfileMPEG2Simple",
                "VAProfileMPEG2Main",
                "VAProfileH264Main",
                "VAProfileH264High",
                "VAProfileH264ConstrainedBaseline",
                "VAProfileVP8Version0_3"
            ]
        );
        assert_eq!(
            d.vendor().to_str().unwrap(),
            format!(
                "vreq VA driver {} (V4L2 stateless: hantro-vpu, rkvdec)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn visl_serves_all_five_codecs_at_8_bits() {
        let d = Driver::new(vec![device_info(for_driver("visl", ""), 0)]).unwrap();
        assert_eq!(
            names(d.query_config_profiles()),
            [
                "VAProfileMPEG2Simple",
                "VAProfileMPEG2Main",
                "VAProfileH264Main",
                "VAProfileH264High",
                "VAProfileH264ConstrainedBaseline",
                "VAProfileVP8Version0_3",
                "VAProfileHEVCMain",
                "VAProfileVP9Profile0",
            ]
        );
    }

    #[test]
    fn configs_route_to_the_serving_device() {
        let mut d = Driver::new(rk3588()).unwrap();
        let vld = sys::VAEntrypointVLD;
        let mut route = |p| {
            let id = d.create_config(p, vld, &[]).unwrap();
            d.config_device(id).unwrap().driver.clone()
        };
        for p in [
            sys::VAProfileH264Main,
            sys::VAProfileH264High,
            sys::VAProfileH264ConstrainedBaseline,
            profiles::VA_PROFILE_H264_HIGH10,
            sys::VAProfileHEVCMain,
            sys::VAProfileHEVCMain10,
        ] {
            assert_eq!(route(p), "rkvdec", "{}", profiles::info(p).unwrap().name);
        }
        for p in [
            sys::VAProfileVP8Version0_3,
            sys::VAProfileMPEG2Simple,
            sys::VAProfileMPEG2Main,
        ] {
            assert_eq!(
                route(p),
                "hantro-vpu",
                "{}",
                profiles::info(p).unwrap().name
            );
        }
        // two configs on two devices live side by side
        let a = d.create_config(sys::VAProfileHEVCMain, vld, &[]).unwrap();
        let b = d
            .create_config(sys::VAProfileVP8Version0_3, vld, &[])
            .unwrap();
        assert_eq!(
            d.config_device(a).unwrap().video_path,
            std::path::Path::new("/dev/video1")
        );
        assert_eq!(
            d.config_device(b).unwrap().video_path,
            std::path::Path::new("/dev/video0")
        );
    }

    #[test]
    fn unserved_profiles_and_entrypoints() {
        let mut d = Driver::new(rk3588()).unwrap();
        let vld = sys::VAEntrypointVLD;
        for p in [
            sys::VAProfileVP9Profile0,
            sys::VAProfileVP9Profile2,
            sys::VAProfileAV1Profile0,
            sys::VAProfileNone,
            -7,
            9999,
        ] {
            assert_eq!(
                d.create_config(p, vld, &[]),
                Err(VA_STATUS_ERROR_UNSUPPORTED_PROFILE)
            );
            assert_eq!(
                d.query_config_entrypoints(p),
                Err(VA_STATUS_ERROR_UNSUPPORTED_PROFILE)
            );
            let mut a = [VAConfigAttrib {
                type_: sys::VAConfigAttribRTFormat,
                value: 0,
            }];
            assert_eq!(
                d.get_config_attributes(p, vld, &mut a),
                Err(VA_STATUS_ERROR_UNSUPPORTED_PROFILE)
            );
        }
        assert_eq!(
            d.query_config_entrypoints(sys::VAProfileH264Main),
            Ok(&[vld][..])
        );
        for e in [
            sys::VAEntrypointEncSlice,
            sys::VAEntrypointVideoProc,
            0,
            u32::MAX,
            1000,
        ] {
            assert_eq!(
                d.create_config(sys::VAProfileH264Main, e, &[]),
                Err(VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT)
            );
        }
    }

    #[test]
    fn attributes() {
        let mut d = Driver::new(rk3588()).unwrap();
        let vld = sys::VAEntrypointVLD;
        let rt = sys::VAConfigAttribRTFormat;
        let mut a = [
            VAConfigAttrib {
                type_: rt,
                value: 0,
            },
            VAConfigAttrib {
                type_: sys::VAConfigAttribDecSliceMode,
                value: 0,
            },
            VAConfigAttrib {
                type_: u32::MAX - 4,
                value: 7,
            },
        ];
        d.get_config_attributes(sys::VAProfileH264Main, vld, &mut a)
            .unwrap();
        assert_eq!(
            a.map(|a| a.value),
            [
                sys::VA_RT_FORMAT_YUV420,
                sys::VA_ATTRIB_NOT_SUPPORTED,
                sys::VA_ATTRIB_NOT_SUPPORTED
            ]
        );
        d.get_config_attributes(sys::VAProfileHEVCMain10, vld, &mut a)
            .unwrap();
        assert_eq!(
            a[0].value,
            sys::VA_RT_FORMAT_YUV420 | sys::VA_RT_FORMAT_YUV420_10
        );

        // RTFormat must be a nonzero subset of the profile's
        let ten = [VAConfigAttrib {
            type_: rt,
            value: sys::VA_RT_FORMAT_YUV420_10,
        }];
        assert_eq!(
            d.create_config(sys::VAProfileHEVCMain, vld, &ten),
            Err(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT)
        );
        let zero = [VAConfigAttrib {
            type_: rt,
            value: 0,
        }];
        assert_eq!(
            d.create_config(sys::VAProfileHEVCMain, vld, &zero),
            Err(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT)
        );
        let id = d
            .create_config(sys::VAProfileHEVCMain10, vld, &ten)
            .unwrap();
        let (p, e, attrs) = d.query_config_attributes(id).unwrap();
        assert_eq!((p, e), (sys::VAProfileHEVCMain10, vld));
        assert_eq!(
            (attrs[0].type_, attrs[0].value),
            (rt, sys::VA_RT_FORMAT_YUV420_10)
        );
        // unknown attribute types are ignored; default RT format YUV420
        let id = d
            .create_config(sys::VAProfileH264High, vld, &a[1..])
            .unwrap();
        assert_eq!(
            d.query_config_attributes(id).unwrap().2[0].value,
            sys::VA_RT_FORMAT_YUV420
        );
    }

    #[test]
    fn bad_and_stale_config_ids() {
        let mut d = Driver::new(rk3588()).unwrap();
        let id = d
            .create_config(sys::VAProfileH264Main, sys::VAEntrypointVLD, &[])
            .unwrap();
        assert_eq!(d.destroy_config(id), Ok(()));
        assert_eq!(d.destroy_config(id), Err(VA_STATUS_ERROR_INVALID_CONFIG));
        assert_eq!(
            d.query_config_attributes(id).err(),
            Some(VA_STATUS_ERROR_INVALID_CONFIG)
        );
        assert_eq!(
            d.config_device(id).err(),
            Some(VA_STATUS_ERROR_INVALID_CONFIG)
        );
        let id2 = d
            .create_config(sys::VAProfileH264Main, sys::VAEntrypointVLD, &[])
            .unwrap();
        assert_ne!(id, id2, "IDs are not reused");
        for bad in [
            0,
            1,
            sys::VA_INVALID_ID,
            crate::objects::SURFACE_IDS.base,
            id2 + 1,
        ] {
            assert_eq!(d.destroy_config(bad), Err(VA_STATUS_ERROR_INVALID_CONFIG));
        }
    }

    #[test]
    fn live_config_limit() {
        let mut d = Driver::new(rk3588()).unwrap();
        for _ in 0..MAX_LIVE_CONFIGS {
            d.create_config(sys::VAProfileVP8Version0_3, sys::VAEntrypointVLD, &[])
                .unwrap();
        }
        assert_eq!(
            d.create_config(sys::VAProfileVP8Version0_3, sys::VAEntrypointVLD, &[]),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
    }

    #[test]
    fn device_selection() {
        assert!(Driver::new(vec![])
            .unwrap_err()
            .contains("no V4L2 stateless decoder"));
        let all = select_devices(rk3588(), None).unwrap();
        assert_eq!(all.len(), 2);
        let one = select_devices(rk3588(), Some("/dev/media1")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].driver, "rkvdec");
        let by_video = select_devices(rk3588(), Some("/dev/video0")).unwrap();
        assert_eq!(by_video[0].driver, "hantro-vpu");
        let e = select_devices(rk3588(), Some("/dev/media7")).unwrap_err();
        assert!(
            e.contains("/dev/media7") && e.contains("/dev/media0, /dev/media1"),
            "{e}"
        );
        // forced to hantro: HEVC is gone, H.264 stays
        let d = Driver::new(one).unwrap();
        assert!(!d
            .query_config_profiles()
            .contains(&sys::VAProfileVP8Version0_3));
    }
}
