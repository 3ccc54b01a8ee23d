//! The driver's state behind one `VADriverContext`: the decoders found at
//! `vaInitialize`, the profiles they serve, and the config, surface, context
//! and buffer objects. Plain Rust; the FFI module converts C arguments to
//! these calls.

use std::ffi::CString;
use std::path::Path;

use std::collections::HashMap;

use vreq_core::CodecKind;
use vreq_frame::DecodedFrame;
use vreq_v4l2::{DecoderDevice, DeviceInfo};

use crate::buffer::{self, Buffer};
use crate::decode::Decoder;
use crate::image::{self, Image};
use crate::objects::{Heap, HeapFull, BUFFER_IDS, CONFIG_IDS, CONTEXT_IDS, IMAGE_IDS, SURFACE_IDS};
use crate::picture::Picture;
use crate::profiles::{self, VaProfileInfo};
use crate::status::*;
use crate::surface::{self, Context, ImageFormat, Surface, SurfaceAttrib, SurfaceAttribValue};
use crate::sys::{
    self, VABufferID, VABufferType, VAConfigAttrib, VAConfigID, VAContextID, VAEntrypoint,
    VAProfile, VASurfaceID, VASurfaceStatus,
};

/// `max_profiles`: every profile the driver may list.
pub const MAX_PROFILES: usize = profiles::VA_PROFILES.len();
/// `max_entrypoints`: VLD only.
pub const MAX_ENTRYPOINTS: usize = 1;
/// `max_attributes`: the config attributes `vaQueryConfigAttributes` returns
/// (`VAConfigAttribRTFormat` only).
pub const MAX_ATTRIBUTES: usize = 1;
/// `max_image_formats`: the image formats `vaQueryImageFormats` may list
/// (NV12, P010).
pub const MAX_IMAGE_FORMATS: usize = 2;
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

/// Opens the decoder session of a context: the config's routed device
/// and codec. The default is [`vreq_v4l2::session::Session::open`]; tests
/// give a fake ([`Driver::with_opener`]).
pub type Opener = Box<dyn Fn(&DeviceInfo, CodecKind) -> Result<Box<dyn DecoderDevice>, String>>;

/// A context's decoding state: its decoder (opened at the first
/// `vaBeginPicture`) and the picture being rendered.
#[derive(Default)]
struct Decoding {
    decoder: Option<Decoder<Box<dyn DecoderDevice>>>,
    picture: Option<Picture>,
}

/// The driver state of one VA display.
pub struct Driver {
    devices: Vec<DeviceInfo>,
    profiles: Vec<VAProfile>,
    configs: Heap<Config>,
    pub(crate) surfaces: Heap<Surface>,
    contexts: Heap<Context>,
    pub(crate) buffers: Heap<Buffer>,
    /// Bytes of all live buffers ([`buffer::MAX_LIVE_BUFFER_BYTES`] at most).
    pub(crate) buffer_bytes: u64,
    /// `vaCreateImage` / `vaDeriveImage` results ([`crate::image`]).
    pub(crate) images: Heap<Image>,
    /// Whether a served device decodes a 10-bit profile (P010 surfaces).
    pub(crate) ten_bit: bool,
    /// Largest width and height in pixels over the served devices
    /// ([`surface::max_size_of`]).
    max_size: (u32, u32),
    vendor: CString,
    opener: Opener,
    decoding: HashMap<VAContextID, Decoding>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("devices", &self.devices)
            .field("configs", &self.configs.len())
            .field("surfaces", &self.surfaces.len())
            .field("contexts", &self.contexts.len())
            .field("buffers", &self.buffers.len())
            .finish_non_exhaustive()
    }
}

fn open_session(info: &DeviceInfo, codec: CodecKind) -> Result<Box<dyn DecoderDevice>, String> {
    vreq_v4l2::session::Session::open(info, codec)
        .map(|s| Box::new(s) as Box<dyn DecoderDevice>)
        .map_err(|e| e.to_string())
}

pub(crate) fn heap_full(_: HeapFull) -> VAStatus {
    VA_STATUS_ERROR_ALLOCATION_FAILED
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
        let ten_bit = profiles
            .iter()
            .any(|&p| profiles::info(p).is_some_and(|i| i.ten_bit));
        let max_size = surface::max_size_of(&devices);
        Ok(Driver {
            devices,
            profiles,
            configs: Heap::new(CONFIG_IDS, MAX_LIVE_CONFIGS),
            surfaces: Heap::new(SURFACE_IDS, surface::MAX_LIVE_SURFACES),
            contexts: Heap::new(CONTEXT_IDS, surface::MAX_LIVE_CONTEXTS),
            buffers: Heap::new(BUFFER_IDS, buffer::MAX_LIVE_BUFFERS),
            buffer_bytes: 0,
            images: Heap::new(IMAGE_IDS, image::MAX_LIVE_IMAGES),
            ten_bit,
            max_size,
            vendor,
            opener: Box::new(open_session),
            decoding: HashMap::new(),
        })
    }

    /// The same driver opening its decoder sessions with `opener` (tests: fake devices).
    pub fn with_opener(mut self, opener: Opener) -> Driver {
        self.opener = opener;
        self
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
        self.configs.insert(config).map_err(heap_full)
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
    /// The largest width and height in pixels a config's device decodes its
    /// codec at (`CodecSupport` max sizes; unknown (0) or past the cap →
    /// [`surface::SURFACE_DIM_CAP`]).
    fn config_max_size(&self, c: &Config) -> (u32, u32) {
        let codec = profiles::info(c.profile).map(|i| i.codec);
        let support = codec.and_then(|k| self.devices[c.device].support(k));
        let cap = |v: u32| {
            if v == 0 {
                surface::SURFACE_DIM_CAP
            } else {
                v.min(surface::SURFACE_DIM_CAP)
            }
        };
        support.map_or((surface::SURFACE_DIM_CAP, surface::SURFACE_DIM_CAP), |s| {
            (cap(s.max_width), cap(s.max_height))
        })
    }

    /// `vaQueryImageFormats`: NV12 always, P010 when a served device decodes
    /// a 10-bit profile; at most [`MAX_IMAGE_FORMATS`].
    pub fn query_image_formats(&self) -> Vec<ImageFormat> {
        let mut v = vec![surface::IMAGE_NV12];
        if self.ten_bit {
            v.push(surface::IMAGE_P010);
        }
        v
    }

    /// `vaQuerySurfaceAttributes` of a config: its pixel formats, memory
    /// types, and sizes bounded by its device's `CodecSupport` for the
    /// config's codec ([`surface::query_surface_attributes`]).
    pub fn query_surface_attributes(
        &self,
        config: VAConfigID,
    ) -> Result<Vec<SurfaceAttribValue>, VAStatus> {
        let c = self.config(config)?;
        Ok(surface::query_surface_attributes(
            c.rt_format,
            self.config_max_size(c),
        ))
    }

    /// `vaCreateSurfaces2` (and the legacy `vaCreateSurfaces`, without
    /// attributes): `n` surfaces of one RT format and size, bounded by the
    /// largest size a served device decodes ([`surface::surface_record`] for
    /// the argument errors). All or none: `VA_STATUS_ERROR_ALLOCATION_FAILED`
    /// when `n` more would pass [`surface::MAX_LIVE_SURFACES`] or IDs run out.
    pub fn create_surfaces(
        &mut self,
        rt_format: u32,
        width: u32,
        height: u32,
        n: usize,
        attribs: &[SurfaceAttrib],
    ) -> Result<Vec<VASurfaceID>, VAStatus> {
        let rec = surface::surface_record(
            rt_format,
            width,
            height,
            attribs,
            self.max_size,
            self.ten_bit,
        )?;
        if n > surface::MAX_LIVE_SURFACES - self.surfaces.len() {
            return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
        }
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            match self.surfaces.insert(rec.clone()) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    for id in ids {
                        self.surfaces.remove(id);
                    }
                    return Err(heap_full(e));
                }
            }
        }
        Ok(ids)
    }

    /// `vaDestroySurfaces`: all or none; `VA_STATUS_ERROR_INVALID_SURFACE` if
    /// any ID is unknown or stale (or listed twice). A surface a live context
    /// has among its render targets is destroyed too and dropped from the
    /// context's list: libva's va.h says nothing of a busy surface here, and
    /// bootlin's libva-v4l2-request (`RequestDestroySurfaces`) frees without
    /// looking at contexts. The surface's decoded frame goes back to its
    /// context's engine; a picture still in flight is not waited for (its
    /// frame is dropped when it comes back).
    pub fn destroy_surfaces(&mut self, ids: &[VASurfaceID]) -> Result<(), VAStatus> {
        for (i, id) in ids.iter().enumerate() {
            if self.surfaces.get(*id).is_none() || ids[..i].contains(id) {
                return Err(VA_STATUS_ERROR_INVALID_SURFACE);
            }
        }
        for &id in ids {
            for d in self.decoding.values_mut() {
                if let Some(dec) = d.decoder.as_mut() {
                    dec.forget(id);
                }
            }
            if let Some(s) = self.surfaces.remove(id) {
                if let Some(c) = s.context.and_then(|c| self.contexts.get_mut(c)) {
                    c.render_targets.retain(|&t| t != id);
                }
            }
        }
        Ok(())
    }

    /// A live surface; `VA_STATUS_ERROR_INVALID_SURFACE` for an unknown or stale ID.
    pub fn surface(&self, id: VASurfaceID) -> Result<&Surface, VAStatus> {
        self.surfaces.get(id).ok_or(VA_STATUS_ERROR_INVALID_SURFACE)
    }

    /// The decoder of the context whose last picture went into `id`, if any.
    fn decoder_of(&mut self, id: VASurfaceID) -> Option<&mut Decoder<Box<dyn DecoderDevice>>> {
        self.decoding
            .values_mut()
            .filter_map(|d| d.decoder.as_mut())
            .find(|d| d.timestamp_of(id).is_some())
    }

    /// The decoded picture `id` holds and the device whose CAPTURE buffer
    /// it is in (images, export: [`crate::image`], [`crate::export`]).
    pub(crate) fn picture_of(
        &self,
        id: VASurfaceID,
    ) -> Option<(&DecodedFrame, &dyn DecoderDevice)> {
        self.decoding
            .values()
            .filter_map(|d| d.decoder.as_ref())
            .find_map(|d| d.frame(id).map(|f| (f, &**d.engine().device())))
    }

    /// `vaQuerySurfaceStatus`: `VASurfaceReady` for a surface never rendered
    /// or decoded, `VASurfaceRendering` while its picture is in flight,
    /// `VA_STATUS_ERROR_DECODING_ERROR` when the device flagged it
    /// ([`Decoder::status`]).
    pub fn query_surface_status(&mut self, id: VASurfaceID) -> Result<VASurfaceStatus, VAStatus> {
        self.surface(id)?;
        match self.decoder_of(id) {
            Some(d) => d.status(id),
            None => Ok(sys::VASurfaceReady),
        }
    }

    /// `vaSyncSurface`: waits for the surface's picture ([`Decoder::sync`]:
    /// at most the engine's `DEVICE_TIMEOUT` per wait); returns at once for a
    /// surface never rendered; `VA_STATUS_ERROR_DECODING_ERROR` for a
    /// picture the device flagged.
    pub fn sync_surface(&mut self, id: VASurfaceID) -> Result<(), VAStatus> {
        self.surface(id)?;
        match self.decoder_of(id) {
            Some(d) => d.sync(id),
            None => Ok(()),
        }
    }

    /// `vaBeginPicture`: starts a picture of `context` into `target` (a live
    /// surface of one of the config's RT formats, not bound to another
    /// context). Opens the context's decoder session on the config's device
    /// the first time (`VA_STATUS_ERROR_OPERATION_FAILED` when it does not
    /// open). Only H.264 decodes yet: other profiles give
    /// `VA_STATUS_ERROR_UNIMPLEMENTED`. A picture begun and not ended is dropped.
    pub fn begin_picture(
        &mut self,
        context: VAContextID,
        target: VASurfaceID,
    ) -> Result<(), VAStatus> {
        let ctx = self.context(context)?;
        let (config, width, height, n) = (
            ctx.config,
            ctx.width,
            ctx.height,
            ctx.render_targets.len() as u32,
        );
        let c = self.config(config)?;
        let (profile, rt, device) = (c.profile, c.rt_format, c.device);
        let s = self.surface(target)?;
        if s.rt_format & rt == 0 {
            return Err(VA_STATUS_ERROR_INVALID_SURFACE);
        }
        if s.context.is_some_and(|c| c != context) {
            return Err(VA_STATUS_ERROR_SURFACE_BUSY);
        }
        if profiles::info(profile).map(|i| i.codec) != Some(CodecKind::H264) {
            return Err(VA_STATUS_ERROR_UNIMPLEMENTED);
        }
        let entry = self.decoding.entry(context).or_default();
        if entry.decoder.is_none() {
            let dev = (self.opener)(&self.devices[device], CodecKind::H264).map_err(|e| {
                tracing::error!("vaBeginPicture: {e}");
                VA_STATUS_ERROR_OPERATION_FAILED
            })?;
            entry.decoder = Some(Decoder::new(dev, profile, width, height, n));
        }
        entry.picture = Some(Picture::new(target));
        Ok(())
    }

    /// `vaRenderPicture`: copies each buffer (of this context) into the
    /// picture begun on `context` ([`Picture::render`]).
    /// `VA_STATUS_ERROR_INVALID_BUFFER` for a buffer unknown or of another
    /// context; `VA_STATUS_ERROR_INVALID_PARAMETER` without `vaBeginPicture`.
    pub fn render_picture(
        &mut self,
        context: VAContextID,
        buffers: &[VABufferID],
    ) -> Result<(), VAStatus> {
        self.context(context)?;
        for &id in buffers {
            let b = self.buffer(id)?;
            if b.context != context {
                return Err(VA_STATUS_ERROR_INVALID_BUFFER);
            }
        }
        let Some(pic) = self
            .decoding
            .get_mut(&context)
            .and_then(|d| d.picture.as_mut())
        else {
            return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
        };
        for &id in buffers {
            let b = self.buffers.get(id).ok_or(VA_STATUS_ERROR_INVALID_BUFFER)?;
            pic.render(b.type_, b.data(), b.num_elements)?;
        }
        Ok(())
    }

    /// `vaEndPicture`: decodes the picture ([`Picture::end`],
    /// [`Decoder::decode_h264`]); `VA_STATUS_ERROR_INVALID_PARAMETER`
    /// without `vaBeginPicture`. The context stays usable after an error.
    pub fn end_picture(&mut self, context: VAContextID) -> Result<(), VAStatus> {
        self.context(context)?;
        let d = self
            .decoding
            .get_mut(&context)
            .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
        let pic = d.picture.take().ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
        let dec = d
            .decoder
            .as_mut()
            .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
        if self.surfaces.get(pic.target).is_none() {
            return Err(VA_STATUS_ERROR_INVALID_SURFACE);
        }
        pic.end(dec)
    }

    /// The decoder of a context, once a picture was begun on it (tests).
    pub fn decoder(&self, context: VAContextID) -> Option<&Decoder<Box<dyn DecoderDevice>>> {
        self.decoding.get(&context)?.decoder.as_ref()
    }

    /// `vaCreateContext`: a context of a live config for `width` × `height`
    /// pixels (at most what the config's device decodes for its codec, else
    /// `VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED`) over `render_targets`
    /// (may be empty; duplicates are dropped). Each render target must be a
    /// live surface (`VA_STATUS_ERROR_INVALID_SURFACE`) of one of the
    /// config's RT formats (`VA_STATUS_ERROR_INVALID_SURFACE` too) not bound
    /// to another live context (`VA_STATUS_ERROR_SURFACE_BUSY`: a surface will
    /// be a CAPTURE buffer of one context's device). The engine session is
    /// created in the decode milestone, not here.
    pub fn create_context(
        &mut self,
        config: VAConfigID,
        width: u32,
        height: u32,
        flag: i32,
        render_targets: &[VASurfaceID],
    ) -> Result<VAContextID, VAStatus> {
        let c = self.config(config)?;
        let rt = c.rt_format;
        let max = self.config_max_size(c);
        if width == 0 || height == 0 || width > max.0 || height > max.1 {
            return Err(VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED);
        }
        let mut targets: Vec<VASurfaceID> = Vec::with_capacity(render_targets.len());
        for &id in render_targets {
            let s = self.surface(id)?;
            if s.rt_format & rt == 0 {
                return Err(VA_STATUS_ERROR_INVALID_SURFACE);
            }
            if s.context.is_some() {
                return Err(VA_STATUS_ERROR_SURFACE_BUSY);
            }
            if !targets.contains(&id) {
                targets.push(id);
            }
        }
        let ctx = Context {
            config,
            width,
            height,
            flag,
            render_targets: targets,
        };
        let id = self.contexts.insert(ctx).map_err(heap_full)?;
        let targets = self.contexts.get(id).map(|c| c.render_targets.clone());
        for t in targets.unwrap_or_default() {
            if let Some(s) = self.surfaces.get_mut(t) {
                s.context = Some(id);
            }
        }
        Ok(id)
    }

    /// A live context; `VA_STATUS_ERROR_INVALID_CONTEXT` for an unknown or stale ID.
    pub fn context(&self, id: VAContextID) -> Result<&Context, VAStatus> {
        self.contexts.get(id).ok_or(VA_STATUS_ERROR_INVALID_CONTEXT)
    }

    /// `vaDestroyContext`: waits for its pictures in flight, then closes its
    /// decoder; its surfaces stay (unbound, their frames gone); its buffers
    /// stay until `vaDestroyBuffer`.
    pub fn destroy_context(&mut self, id: VAContextID) -> Result<(), VAStatus> {
        let c = self
            .contexts
            .remove(id)
            .ok_or(VA_STATUS_ERROR_INVALID_CONTEXT)?;
        if let Some(mut d) = self.decoding.remove(&id).and_then(|d| d.decoder) {
            d.finish();
        }
        for t in c.render_targets {
            if let Some(s) = self.surfaces.get_mut(t) {
                s.context = None;
            }
        }
        Ok(())
    }

    /// `vaCreateBuffer` on a live context ([`Buffer::new`] for the argument
    /// errors). `VA_STATUS_ERROR_ALLOCATION_FAILED` past
    /// [`buffer::MAX_LIVE_BUFFERS`] or [`buffer::MAX_LIVE_BUFFER_BYTES`].
    pub fn create_buffer(
        &mut self,
        context: VAContextID,
        type_: VABufferType,
        size: u32,
        num_elements: u32,
        data: Option<&[u8]>,
    ) -> Result<VABufferID, VAStatus> {
        self.context(context)?;
        let n = buffer::total_bytes(size, num_elements)? as u64;
        if self.buffer_bytes + n > buffer::MAX_LIVE_BUFFER_BYTES {
            return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
        }
        let b = Buffer::new(context, type_, size, num_elements, data)?;
        let id = self.buffers.insert(b).map_err(heap_full)?;
        self.buffer_bytes += n;
        Ok(id)
    }

    fn buffer_mut(&mut self, id: VABufferID) -> Result<&mut Buffer, VAStatus> {
        self.buffers
            .get_mut(id)
            .ok_or(VA_STATUS_ERROR_INVALID_BUFFER)
    }

    /// A live buffer; `VA_STATUS_ERROR_INVALID_BUFFER` for an unknown or stale ID.
    pub fn buffer(&self, id: VABufferID) -> Result<&Buffer, VAStatus> {
        self.buffers.get(id).ok_or(VA_STATUS_ERROR_INVALID_BUFFER)
    }

    /// `vaBufferSetNumElements` ([`Buffer::set_num_elements`]).
    pub fn buffer_set_num_elements(&mut self, id: VABufferID, n: u32) -> Result<(), VAStatus> {
        self.buffer_mut(id)?.set_num_elements(n)
    }

    /// `vaMapBuffer`: the address of the buffer's storage, valid until
    /// `vaDestroyBuffer` ([`Buffer::map`]).
    pub fn map_buffer(&mut self, id: VABufferID) -> Result<*mut u8, VAStatus> {
        Ok(self.buffer_mut(id)?.map())
    }

    /// `vaUnmapBuffer`.
    pub fn unmap_buffer(&mut self, id: VABufferID) -> Result<(), VAStatus> {
        self.buffer_mut(id)?.unmap();
        Ok(())
    }

    /// `vaDestroyBuffer` (a mapped buffer too: its pointer dies with it).
    pub fn destroy_buffer(&mut self, id: VABufferID) -> Result<(), VAStatus> {
        let b = self
            .buffers
            .remove(id)
            .ok_or(VA_STATUS_ERROR_INVALID_BUFFER)?;
        self.buffer_bytes -= b.len() as u64;
        Ok(())
    }

    /// `vaBufferInfo`: type, bytes per element, elements.
    pub fn buffer_info(&self, id: VABufferID) -> Result<(VABufferType, u32, u32), VAStatus> {
        let b = self.buffer(id)?;
        Ok((b.type_, b.size, b.num_elements))
    }

    /// Live objects: (surfaces, contexts, buffers) (tests, diagnostics).
    pub fn live_objects(&self) -> (usize, usize, usize) {
        (self.surfaces.len(), self.contexts.len(), self.buffers.len())
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
    #[test]
    fn image_formats_follow_10_bit_devices() {
        let d = Driver::new(rk3588()).unwrap();
        let f: Vec<u32> = d.query_image_formats().iter().map(|f| f.fourcc).collect();
        assert_eq!(f, [surface::FOURCC_NV12, surface::FOURCC_P010]);
        assert!(f.len() <= MAX_IMAGE_FORMATS);
        // hantro alone: 8-bit only, no P010 surfaces either
        let mut d = Driver::new(rk3588()[..1].to_vec()).unwrap();
        let f: Vec<u32> = d.query_image_formats().iter().map(|f| f.fourcc).collect();
        assert_eq!(f, [surface::FOURCC_NV12]);
        assert_eq!(
            d.create_surfaces(sys::VA_RT_FORMAT_YUV420_10, 64, 64, 1, &[]),
            Err(VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT)
        );
    }

    #[test]
    fn surfaces_and_contexts() {
        let mut d = Driver::new(rk3588()).unwrap();
        let vld = sys::VAEntrypointVLD;
        let h264 = d.create_config(sys::VAProfileH264High, vld, &[]).unwrap();
        let yuv = sys::VA_RT_FORMAT_YUV420;
        let s = d.create_surfaces(yuv, 1920, 1088, 3, &[]).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(d.query_surface_status(s[0]), Ok(sys::VASurfaceReady));
        assert_eq!(d.sync_surface(s[2]), Ok(()));
        // P010 surfaces do not fit an 8-bit config
        let ten = d
            .create_surfaces(sys::VA_RT_FORMAT_YUV420_10, 64, 64, 1, &[])
            .unwrap();
        assert_eq!(
            d.create_context(h264, 1920, 1088, 0, &ten),
            Err(VA_STATUS_ERROR_INVALID_SURFACE)
        );
        // duplicates dropped; bound surfaces are busy for another context
        let c = d
            .create_context(h264, 1920, 1088, 1, &[s[0], s[1], s[0]])
            .unwrap();
        assert_eq!(d.context(c).unwrap().render_targets, [s[0], s[1]]);
        assert_eq!(d.surface(s[0]).unwrap().context, Some(c));
        assert_eq!(
            d.create_context(h264, 1920, 1088, 0, &[s[2], s[1]]),
            Err(VA_STATUS_ERROR_SURFACE_BUSY)
        );
        assert_eq!(
            d.surface(s[2]).unwrap().context,
            None,
            "nothing bound on error"
        );
        // sizes: bounded by the routed device (rkvdec, capped)
        assert_eq!(
            d.create_context(h264, 0, 1088, 0, &[]),
            Err(VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED)
        );
        assert_eq!(
            d.create_context(h264, surface::SURFACE_DIM_CAP + 1, 64, 0, &[]),
            Err(VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED)
        );
        // destroying a bound surface drops it from the context
        d.destroy_surfaces(&[s[1]]).unwrap();
        assert_eq!(d.context(c).unwrap().render_targets, [s[0]]);
        assert_eq!(
            d.destroy_surfaces(&[s[2], s[1]]),
            Err(VA_STATUS_ERROR_INVALID_SURFACE)
        );
        assert!(d.surface(s[2]).is_ok(), "all or none");
        d.destroy_context(c).unwrap();
        assert_eq!(d.surface(s[0]).unwrap().context, None);
        assert_eq!(d.destroy_context(c), Err(VA_STATUS_ERROR_INVALID_CONTEXT));
        assert_eq!(
            d.create_context(h264 + 1, 64, 64, 0, &[]),
            Err(VA_STATUS_ERROR_INVALID_CONFIG)
        );
        d.destroy_surfaces(&[s[0], s[2], ten[0]]).unwrap();
        assert_eq!(d.live_objects(), (0, 0, 0));
        // the live surface cap, all or none
        assert_eq!(
            d.create_surfaces(yuv, 64, 64, surface::MAX_LIVE_SURFACES + 1, &[]),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
        assert_eq!(d.live_objects(), (0, 0, 0));
        d.create_surfaces(yuv, 64, 64, surface::MAX_LIVE_SURFACES, &[])
            .unwrap();
        assert_eq!(
            d.create_surfaces(yuv, 64, 64, 1, &[]),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
    }

    #[test]
    fn buffers_and_their_caps() {
        let mut d = Driver::new(rk3588()).unwrap();
        let cfg = d
            .create_config(sys::VAProfileVP8Version0_3, sys::VAEntrypointVLD, &[])
            .unwrap();
        let c = d.create_context(cfg, 640, 480, 0, &[]).unwrap();
        let slice = sys::VASliceDataBufferType;
        let b = d
            .create_buffer(c, sys::VAProbabilityBufferType, 1200, 1, None)
            .unwrap();
        assert_eq!(
            d.buffer_info(b),
            Ok((sys::VAProbabilityBufferType, 1200, 1))
        );
        assert_eq!(d.map_buffer(b), d.map_buffer(b));
        d.unmap_buffer(b).unwrap();
        d.destroy_buffer(b).unwrap();
        assert_eq!(d.buffer_info(b), Err(VA_STATUS_ERROR_INVALID_BUFFER));
        assert_eq!(
            d.create_buffer(c + 1, slice, 1, 1, None),
            Err(VA_STATUS_ERROR_INVALID_CONTEXT)
        );
        // the total byte cap: four 64 MiB buffers fit, a fifth does not
        let big = buffer::MAX_BUFFER_BYTES as u32;
        let ids: Vec<_> = (0..4)
            .map(|_| d.create_buffer(c, slice, big, 1, None).unwrap())
            .collect();
        assert_eq!(
            d.create_buffer(c, slice, 1, 1, None),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
        d.destroy_buffer(ids[0]).unwrap();
        d.create_buffer(c, slice, 1, 1, None).unwrap();
        // buffers outlive their context until vaDestroyBuffer
        d.destroy_context(c).unwrap();
        assert!(d.buffer(ids[1]).is_ok());
    }

    use std::cell::RefCell;
    use std::rc::Rc;
    use vreq_core::{Control, DecodeJob, DecodeMode, StartCode, StreamParams};
    use vreq_frame::CaptureFormat;
    use vreq_v4l2::{Completed, DeviceError};

    /// A device that records the jobs queued to it where the test sees them.
    struct Recording<D>(D, Rc<RefCell<Vec<DecodeJob>>>);

    impl<D: DecoderDevice> DecoderDevice for Recording<D> {
        fn name(&self) -> String {
            self.0.name()
        }
        fn mode(&self) -> (DecodeMode, StartCode) {
            self.0.mode()
        }
        fn configure(
            &mut self,
            codec: CodecKind,
            params: &StreamParams,
            first: &[Control],
            n: u32,
        ) -> Result<CaptureFormat, DeviceError> {
            self.0.configure(codec, params, first, n)
        }
        fn free_slots(&self) -> usize {
            self.0.free_slots()
        }
        fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
            self.1.borrow_mut().push(job.clone());
            self.0.queue(job)
        }
        fn dequeue(
            &mut self,
            timeout: std::time::Duration,
        ) -> Result<Option<Completed>, DeviceError> {
            self.0.dequeue(timeout)
        }
        fn in_flight(&self) -> usize {
            self.0.in_flight()
        }
        fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError> {
            self.0.requeue_capture(index)
        }
        fn capture_dmabufs(&self, index: usize) -> Vec<std::os::fd::BorrowedFd<'_>> {
            self.0.capture_dmabufs(index)
        }
        fn capture_map(&self, index: usize) -> Vec<&[u8]> {
            self.0.capture_map(index)
        }
    }

    /// A fake visl behind the driver: the VA call sequence of one IDR and
    /// one P picture decodes; bad calls give statuses and the context goes on.
    #[test]
    fn pictures_through_the_driver_on_a_fake_visl() {
        use crate::ffi::bytes_of;
        use crate::map::h264::tests::{blank_slice_params, idr_slice, p_slice, params, seq_pic};
        use vreq_testkit::fake::FakeDevice;

        let jobs = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&jobs);
        let opener: Opener = Box::new(move |_, codec| {
            Ok(Box::new(Recording(
                FakeDevice::for_codec(for_driver("visl", ""), codec),
                Rc::clone(&seen),
            )) as Box<dyn DecoderDevice>)
        });
        let mut d = Driver::new(vec![device_info(for_driver("visl", ""), 0)])
            .unwrap()
            .with_opener(opener);
        let cfg = d
            .create_config(sys::VAProfileH264High, sys::VAEntrypointVLD, &[])
            .unwrap();
        let s = d
            .create_surfaces(sys::VA_RT_FORMAT_YUV420, 64, 48, 2, &[])
            .unwrap();
        let ctx = d.create_context(cfg, 64, 48, 0, &[]).unwrap();
        let (sq, pc) = seq_pic();
        let mut pp = params(sq, pc);
        let slice = |data: &[u8], slice_type| blank_slice_params(data.len(), slice_type);
        let buffers = |d: &mut Driver,
                       pp: &sys::VAPictureParameterBufferH264,
                       sp: &sys::VASliceParameterBufferH264,
                       data: &[u8]| {
            let sz = |b: &[u8]| b.len() as u32;
            let p = bytes_of(pp);
            let s = bytes_of(sp);
            vec![
                d.create_buffer(ctx, sys::VAPictureParameterBufferType, sz(p), 1, Some(p))
                    .unwrap(),
                d.create_buffer(ctx, sys::VASliceParameterBufferType, sz(s), 1, Some(s))
                    .unwrap(),
                d.create_buffer(ctx, sys::VASliceDataBufferType, sz(data), 1, Some(data))
                    .unwrap(),
            ]
        };
        // a render without vaBeginPicture, an end without one
        let idr = idr_slice();
        pp.CurrPic.picture_id = s[0];
        let b = buffers(&mut d, &pp, &slice(&idr, 2), &idr);
        assert_eq!(
            d.render_picture(ctx, &b),
            Err(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
        assert_eq!(d.end_picture(ctx), Err(VA_STATUS_ERROR_INVALID_PARAMETER));
        // IDR into s[0]
        d.begin_picture(ctx, s[0]).unwrap();
        d.render_picture(ctx, &b).unwrap();
        d.end_picture(ctx).unwrap();
        d.sync_surface(s[0]).unwrap();
        assert_eq!(d.query_surface_status(s[0]), Ok(sys::VASurfaceReady));
        // an oversize slice: an error, nothing queued
        let mut big = slice(&idr, 2);
        big.slice_data_size += 1;
        let bad = buffers(&mut d, &pp, &big, &idr);
        d.begin_picture(ctx, s[1]).unwrap();
        d.render_picture(ctx, &bad).unwrap();
        assert_eq!(d.end_picture(ctx), Err(VA_STATUS_ERROR_INVALID_PARAMETER));
        // stale IDs
        assert_eq!(
            d.begin_picture(ctx, 0xdead),
            Err(VA_STATUS_ERROR_INVALID_SURFACE)
        );
        assert_eq!(
            d.begin_picture(ctx + 1, s[1]),
            Err(VA_STATUS_ERROR_INVALID_CONTEXT)
        );
        d.begin_picture(ctx, s[1]).unwrap();
        assert_eq!(
            d.render_picture(ctx, &[0xbeef]),
            Err(VA_STATUS_ERROR_INVALID_BUFFER)
        );
        // P into s[1] referencing s[0]: the context is still usable
        let p = p_slice();
        pp.CurrPic.picture_id = s[1];
        pp.frame_num = 1;
        pp.ReferenceFrames[0] = sys::VAPictureH264 {
            picture_id: s[0],
            flags: sys::VA_PICTURE_H264_SHORT_TERM_REFERENCE,
            ..Default::default()
        };
        let mut sp = slice(&p, 0);
        sp.num_ref_idx_l0_active_minus1 = 1;
        sp.RefPicList0[0] = pp.ReferenceFrames[0];
        let b = buffers(&mut d, &pp, &sp, &p);
        for id in &b {
            d.render_picture(ctx, &[*id]).unwrap();
        }
        d.end_picture(ctx).unwrap();
        d.sync_surface(s[1]).unwrap();
        let dec = d.decoder(ctx).unwrap();
        let jobs = jobs.borrow();
        assert_eq!(jobs.len(), 2);
        let Control::H264DecodeParams(dp) = &jobs[1].controls[1] else {
            panic!("{:?}", jobs[1].controls)
        };
        assert_eq!(dp.dpb[0].reference_ts, jobs[0].timestamp_ns);
        assert!(dec.frame(s[0]).is_some() && dec.frame(s[1]).is_some());
        // destroying a surface drops its frame; the context goes away cleanly
        d.destroy_surfaces(&[s[0]]).unwrap();
        assert!(d.decoder(ctx).unwrap().frame(s[0]).is_none());
        d.destroy_context(ctx).unwrap();
        assert!(d.decoder(ctx).is_none());
    }
}
