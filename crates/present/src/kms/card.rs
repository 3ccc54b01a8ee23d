//! The DRM device and its KMS objects as the sink uses them: opening a card
//! (client caps, master), property lookup by name, connector / CRTC / plane
//! discovery and the state saved at open for the restore at exit.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use drm::control::{
    atomic::AtomicModeReq, connector, crtc, plane, property, AtomicCommitFlags, Device as _,
    RawResourceHandle, ResourceHandle,
};
use drm::{ClientCapability, Device as _};

use super::pure::{connector_name, parse_in_formats};

/// An open DRM card (`/dev/dri/cardN`).
#[derive(Debug)]
pub struct Card {
    file: File,
    pub path: PathBuf,
}

impl AsFd for Card {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
impl drm::Device for Card {}
impl drm::control::Device for Card {}

/// `DRM_PLANE_TYPE_*` (include/drm/drm_plane.h; the plane's `type` enum
/// property: `Overlay` 0, `Primary` 1, `Cursor` 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneKind {
    Overlay,
    Primary,
    Cursor,
}

/// A plane's name → (property, current value) table.
pub type Props = HashMap<String, (property::Handle, u64)>;

/// A plane that can feed the chosen CRTC.
#[derive(Debug, Clone)]
pub struct PlaneDesc {
    pub handle: plane::Handle,
    pub kind: PlaneKind,
    /// (fourcc, modifier) pairs: `IN_FORMATS`, else the plane's format list
    /// with `DRM_FORMAT_MOD_LINEAR` (what a plane without modifier support takes).
    pub formats: Vec<(u32, u64)>,
    /// `IN_FORMATS` was there (framebuffers may carry a modifier).
    pub has_in_formats: bool,
    pub props: Props,
}

impl PlaneDesc {
    pub fn takes(&self, fourcc: u32, modifier: u64) -> bool {
        self.formats.contains(&(fourcc, modifier))
    }
}

/// True for errors meaning "not the DRM master" (`drm_ioctl_permit`:
/// `-EACCES` without master; `drm_setmaster_ioctl`: `-EBUSY` / `-EPERM`
/// / `-EINVAL` when another file is master).
pub fn is_master_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(nix::libc::EACCES | nix::libc::EPERM | nix::libc::EBUSY)
    )
}

impl Card {
    /// Opens `path` read-write with `O_CLOEXEC`.
    pub fn open(path: &Path) -> io::Result<Card> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Card {
            file,
            path: path.to_path_buf(),
        })
    }

    /// `DRM_CLIENT_CAP_UNIVERSAL_PLANES`, `DRM_CLIENT_CAP_ATOMIC` (and
    /// `DRM_CLIENT_CAP_WRITEBACK_CONNECTORS` when `writeback`).
    pub fn set_caps(&self, writeback: bool) -> Result<(), String> {
        self.set_client_capability(ClientCapability::UniversalPlanes, true)
            .map_err(|e| {
                format!(
                    "{}: DRM_CLIENT_CAP_UNIVERSAL_PLANES refused: {e}",
                    self.path.display()
                )
            })?;
        self.set_client_capability(ClientCapability::Atomic, true)
            .map_err(|e| {
                format!(
                    "{}: DRM_CLIENT_CAP_ATOMIC refused ({e}): the driver has no atomic modesetting",
                    self.path.display()
                )
            })?;
        if writeback {
            if let Err(e) = self.set_client_capability(ClientCapability::WritebackConnectors, true)
            {
                tracing::warn!(
                    "drm: DRM_CLIENT_CAP_WRITEBACK_CONNECTORS refused ({e}); no writeback capture"
                );
            }
        }
        Ok(())
    }

    /// Name → (property handle, value) of an object's properties.
    pub fn props<H: ResourceHandle>(&self, h: H) -> io::Result<Props> {
        let set = self.get_properties(h)?;
        let (ids, vals) = set.as_props_and_values();
        let mut out = HashMap::new();
        for (id, v) in ids.iter().zip(vals) {
            if let Ok(info) = self.get_property(*id) {
                out.insert(info.name().to_string_lossy().into_owned(), (*id, *v));
            }
        }
        Ok(out)
    }

    /// The value of an enum property's entry named `name` (e.g.
    /// `COLOR_ENCODING` = `ITU-R BT.709 YCbCr`), if the property has it.
    pub fn enum_value(&self, prop: property::Handle, name: &str) -> Option<u64> {
        let info = self.get_property(prop).ok()?;
        if let property::ValueType::Enum(e) = info.value_type() {
            let (raw, vals) = e.values();
            for (r, v) in raw.iter().zip(vals) {
                if v.name().to_bytes() == name.as_bytes() {
                    return Some(*r);
                }
            }
        }
        None
    }

    /// Every connector with its kernel name and whether it is connected.
    pub fn connectors(&self) -> io::Result<Vec<(connector::Info, String)>> {
        let res = self.resource_handles()?;
        let mut out = Vec::new();
        for c in res.connectors() {
            let info = self.get_connector(*c, false)?;
            let name = connector_name(info.interface().as_str(), info.interface_id());
            out.push((info, name));
        }
        Ok(out)
    }

    /// The planes that can feed the CRTC at `crtc_index` (its bit in
    /// `possible_crtcs`, drm_mode.h `drm_mode_get_plane`).
    pub fn planes_for(&self, crtc: crtc::Handle) -> io::Result<Vec<PlaneDesc>> {
        let res = self.resource_handles()?;
        let mut out = Vec::new();
        for p in self.plane_handles()? {
            let info = self.get_plane(p)?;
            if !res.filter_crtcs(info.possible_crtcs()).contains(&crtc) {
                continue;
            }
            let props = self.props(p)?;
            let kind = match props.get("type").map(|(_, v)| *v) {
                Some(1) => PlaneKind::Primary,
                Some(2) => PlaneKind::Cursor,
                _ => PlaneKind::Overlay,
            };
            let mut has_in_formats = false;
            let mut formats: Vec<(u32, u64)> = Vec::new();
            if let Some((_, blob)) = props.get("IN_FORMATS") {
                match self
                    .get_property_blob(*blob)
                    .map_err(|e| e.to_string())
                    .and_then(|b| parse_in_formats(&b))
                {
                    Ok(f) => {
                        has_in_formats = true;
                        formats = f;
                    }
                    Err(e) => {
                        tracing::warn!("drm: plane {}: {e}; using its format list", u32::from(p))
                    }
                }
            }
            if !has_in_formats {
                formats = info.formats().iter().map(|f| (*f, 0)).collect();
            }
            out.push(PlaneDesc {
                handle: p,
                kind,
                formats,
                has_in_formats,
                props,
            });
        }
        Ok(out)
    }

    /// An atomic commit; the request is consumed.
    pub fn commit(&self, flags: AtomicCommitFlags, req: AtomicModeReq) -> io::Result<()> {
        self.atomic_commit(flags, req)
    }
}

/// Property values of KMS objects saved at open (the CRTC's `MODE_ID` /
/// `ACTIVE`, the connectors' `CRTC_ID`, the planes' `FB_ID`, `CRTC_ID`,
/// `SRC_*`, `CRTC_*`), put back by one atomic commit at exit.
#[derive(Debug, Default)]
pub struct SavedState {
    values: Vec<(RawResourceHandle, property::Handle, u64)>,
    /// The CRTC's `MODE_ID` property and mode at open: the kernel's blob of
    /// that mode is freed once our commit replaces it, so the restore makes
    /// a new blob of the mode (`None`: no mode, `MODE_ID` 0).
    pub mode: Option<(crtc::Handle, property::Handle, Option<drm::control::Mode>)>,
}

/// The properties saved per object kind.
pub const CRTC_PROPS: &[&str] = &["ACTIVE"];
pub const CONNECTOR_PROPS: &[&str] = &["CRTC_ID"];
pub const PLANE_PROPS: &[&str] = &[
    "FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H", "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H",
];

impl SavedState {
    /// Records `names` of object `h` from its property table.
    pub fn save<H: ResourceHandle>(&mut self, h: H, props: &Props, names: &[&str]) {
        for n in names {
            if let Some((p, v)) = props.get(*n) {
                self.values.push((h.into(), *p, *v));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The restore request (and the mode blob it made, to destroy after the commit).
    pub fn request(&self, card: &Card) -> (AtomicModeReq, Option<u64>) {
        let mut req = AtomicModeReq::new();
        for (o, p, v) in &self.values {
            req.add_raw_property(*o, *p, *v);
        }
        let mut blob = None;
        if let Some((c, prop, mode)) = &self.mode {
            let v = match mode.as_ref().map(|m| card.create_property_blob(m)) {
                Some(Ok(property::Value::Blob(b))) => {
                    blob = Some(b);
                    b
                }
                _ => 0,
            };
            req.add_raw_property((*c).into(), *prop, v);
        }
        (req, blob)
    }
}
