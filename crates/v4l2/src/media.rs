//! Media-controller ioctls v4l2r does not wrap: `MEDIA_IOC_DEVICE_INFO` and
//! `MEDIA_IOC_G_TOPOLOGY` (uAPI `linux/media.h`, kernel 6.12; copy in
//! `third_party/linux-uapi/include/linux/media.h`).
//!
//! The `#[repr(C)]` structs below mirror that header field by field (the
//! `media_v2_*` ones are `__attribute__((packed))` there, hence
//! `#[repr(C, packed)]`). The ioctls are the `unsafe fn`s nix generates in
//! [`ffi`]; every call of them and every `mem::zeroed` has its `// SAFETY:`
//! line.

use std::os::fd::{AsRawFd, BorrowedFd};

/// `MEDIA_ENT_F_PROC_VIDEO_DECODER` (`MEDIA_ENT_F_BASE + 0x4008`).
pub const MEDIA_ENT_F_PROC_VIDEO_DECODER: u32 = 0x4008;
/// `MEDIA_INTF_T_V4L_VIDEO` (`MEDIA_INTF_T_V4L_BASE + 0`).
pub const MEDIA_INTF_T_V4L_VIDEO: u32 = 0x200;
/// `MEDIA_LNK_FL_LINK_TYPE` mask.
pub const MEDIA_LNK_FL_LINK_TYPE: u32 = 0xf << 28;
/// `MEDIA_LNK_FL_INTERFACE_LINK`.
pub const MEDIA_LNK_FL_INTERFACE_LINK: u32 = 1 << 28;
/// `MEDIA_LNK_FL_DATA_LINK`.
pub const MEDIA_LNK_FL_DATA_LINK: u32 = 0;

/// Upper bound on any topology array we allocate (entities, pads, links...):
/// a decoder's graph has a handful; a hostile or broken driver must not make
/// us allocate without bound.
const MAX_TOPOLOGY_ITEMS: u32 = 4096;

/// `struct media_device_info`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MediaDeviceInfo {
    pub driver: [u8; 16],
    pub model: [u8; 32],
    pub serial: [u8; 40],
    pub bus_info: [u8; 32],
    pub media_version: u32,
    pub hw_revision: u32,
    pub driver_version: u32,
    pub reserved: [u32; 31],
}

/// `struct media_v2_entity` (packed).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct MediaV2Entity {
    pub id: u32,
    pub name: [u8; 64],
    pub function: u32,
    pub flags: u32,
    pub reserved: [u32; 5],
}

/// `struct media_v2_interface` (packed); the union is read as its `devnode` arm
/// (`major`, `minor`) followed by the rest of `raw[16]`.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct MediaV2Interface {
    pub id: u32,
    pub intf_type: u32,
    pub flags: u32,
    pub reserved: [u32; 9],
    pub devnode_major: u32,
    pub devnode_minor: u32,
    pub raw_rest: [u32; 14],
}

/// `struct media_v2_pad` (packed).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct MediaV2Pad {
    pub id: u32,
    pub entity_id: u32,
    pub flags: u32,
    pub index: u32,
    pub reserved: [u32; 4],
}

/// `struct media_v2_link` (packed). For interface links `source_id` is the
/// interface id and `sink_id` the entity id; for data links both are pad ids.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct MediaV2Link {
    pub id: u32,
    pub source_id: u32,
    pub sink_id: u32,
    pub flags: u32,
    pub reserved: [u32; 6],
}

/// `struct media_v2_topology` (packed).
#[repr(C, packed)]
#[derive(Clone, Copy, Default)]
pub struct MediaV2Topology {
    pub topology_version: u64,
    pub num_entities: u32,
    pub reserved1: u32,
    pub ptr_entities: u64,
    pub num_interfaces: u32,
    pub reserved2: u32,
    pub ptr_interfaces: u64,
    pub num_pads: u32,
    pub reserved3: u32,
    pub ptr_pads: u64,
    pub num_links: u32,
    pub reserved4: u32,
    pub ptr_links: u64,
}

// Layout checks against media.h (sizes computed from the header).
const _: () = assert!(std::mem::size_of::<MediaDeviceInfo>() == 16 + 32 + 40 + 32 + 12 + 124);
const _: () = assert!(std::mem::size_of::<MediaV2Entity>() == 4 + 64 + 8 + 20);
const _: () = assert!(std::mem::size_of::<MediaV2Interface>() == 48 + 64);
const _: () = assert!(std::mem::size_of::<MediaV2Pad>() == 32);
const _: () = assert!(std::mem::size_of::<MediaV2Link>() == 40);
const _: () = assert!(std::mem::size_of::<MediaV2Topology>() == 72);

mod ffi {
    use super::{MediaDeviceInfo, MediaV2Topology};
    nix::ioctl_readwrite!(media_ioc_device_info, b'|', 0x00, MediaDeviceInfo);
    nix::ioctl_readwrite!(media_ioc_g_topology, b'|', 0x04, MediaV2Topology);
}

/// Decoded `media_device_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub driver: String,
    pub model: String,
    pub bus_info: String,
}

/// A NUL-terminated C char array as a `String` (lossy UTF-8).
pub fn c_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `MEDIA_IOC_DEVICE_INFO` on an open `/dev/mediaN`.
pub fn device_info(fd: BorrowedFd<'_>) -> nix::Result<DeviceInfo> {
    // SAFETY: all-zero bytes are a valid MediaDeviceInfo (plain integers/arrays).
    let mut info: MediaDeviceInfo = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is an open fd; `info` is a writable struct with the exact
    // layout of `struct media_device_info` that the ioctl number encodes.
    unsafe { ffi::media_ioc_device_info(fd.as_raw_fd(), &mut info) }?;
    Ok(DeviceInfo {
        driver: c_str(&info.driver),
        model: c_str(&info.model),
        bus_info: c_str(&info.bus_info),
    })
}

/// The whole media graph of one `/dev/mediaN`.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// (id, name, function)
    pub entities: Vec<(u32, String, u32)>,
    /// (id, intf_type, devnode major, devnode minor)
    pub interfaces: Vec<(u32, u32, u32, u32)>,
    /// (pad id, entity id)
    pub pads: Vec<(u32, u32)>,
    /// (source_id, sink_id, flags)
    pub links: Vec<(u32, u32, u32)>,
}

fn zeroed_vec<T: Copy>(n: u32) -> Vec<T> {
    // SAFETY: only instantiated with the packed plain-integer structs above,
    // for which all-zero bytes are a valid value.
    (0..n).map(|_| unsafe { std::mem::zeroed() }).collect()
}

/// `MEDIA_IOC_G_TOPOLOGY`, two passes: counts, then arrays sized from the
/// counts (capped at [`MAX_TOPOLOGY_ITEMS`]). Retries if the graph changed
/// between the passes (`topology_version` differs or counts grew).
pub fn topology(fd: BorrowedFd<'_>) -> nix::Result<Topology> {
    for _attempt in 0..4 {
        let mut counts = MediaV2Topology::default();
        // SAFETY: `counts` has the layout of `struct media_v2_topology`; all
        // array pointers are 0, so the kernel only writes the counts.
        unsafe { ffi::media_ioc_g_topology(fd.as_raw_fd(), &mut counts) }?;
        let cap = |n: u32| n.min(MAX_TOPOLOGY_ITEMS);
        let mut entities: Vec<MediaV2Entity> = zeroed_vec(cap(counts.num_entities));
        let mut interfaces: Vec<MediaV2Interface> = zeroed_vec(cap(counts.num_interfaces));
        let mut pads: Vec<MediaV2Pad> = zeroed_vec(cap(counts.num_pads));
        let mut links: Vec<MediaV2Link> = zeroed_vec(cap(counts.num_links));
        let mut full = MediaV2Topology {
            num_entities: entities.len() as u32,
            ptr_entities: entities.as_mut_ptr() as u64,
            num_interfaces: interfaces.len() as u32,
            ptr_interfaces: interfaces.as_mut_ptr() as u64,
            num_pads: pads.len() as u32,
            ptr_pads: pads.as_mut_ptr() as u64,
            num_links: links.len() as u32,
            ptr_links: links.as_mut_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: each ptr_* points to a live, writable Vec of exactly num_*
        // elements of the matching packed struct; the kernel returns ENOSPC
        // rather than writing past num_*. The Vecs outlive the call.
        match unsafe { ffi::media_ioc_g_topology(fd.as_raw_fd(), &mut full) } {
            Err(nix::Error::ENOSPC) => continue,
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let (version_a, version_b) = (counts.topology_version, full.topology_version);
        if version_a != version_b {
            continue;
        }
        let n = |k: u32, len: usize| (k as usize).min(len);
        entities.truncate(n(full.num_entities, entities.len()));
        interfaces.truncate(n(full.num_interfaces, interfaces.len()));
        pads.truncate(n(full.num_pads, pads.len()));
        links.truncate(n(full.num_links, links.len()));
        return Ok(Topology {
            entities: entities
                .iter()
                .map(|e| (e.id, c_str(&{ e.name }), e.function))
                .collect(),
            interfaces: interfaces
                .iter()
                .map(|i| (i.id, i.intf_type, i.devnode_major, i.devnode_minor))
                .collect(),
            pads: pads.iter().map(|p| (p.id, p.entity_id)).collect(),
            links: links
                .iter()
                .map(|l| (l.source_id, l.sink_id, l.flags))
                .collect(),
        });
    }
    Err(nix::Error::EAGAIN)
}

impl Topology {
    /// Ids of entities whose function is `MEDIA_ENT_F_PROC_VIDEO_DECODER`.
    pub fn decoder_entities(&self) -> Vec<u32> {
        self.entities
            .iter()
            .filter(|e| e.2 == MEDIA_ENT_F_PROC_VIDEO_DECODER)
            .map(|e| e.0)
            .collect()
    }

    /// `(major, minor)` of the V4L2 video interface serving decoder entity `entity`.
    ///
    /// The mem2mem core (`v4l2_m2m_register_media_controller`, kernel
    /// drivers/media/v4l2-core/v4l2-mem2mem.c) links the video interface to
    /// the source/sink I/O entities, which have data links to the decoder's
    /// pads; so this looks at the decoder entity and its data-link neighbours.
    pub fn video_devnode_for(&self, entity: u32) -> Option<(u32, u32)> {
        let pad_entity = |pad: u32| self.pads.iter().find(|p| p.0 == pad).map(|p| p.1);
        let mut near = vec![entity];
        for &(src, sink, flags) in &self.links {
            if flags & MEDIA_LNK_FL_LINK_TYPE != MEDIA_LNK_FL_DATA_LINK {
                continue;
            }
            let (a, b) = (pad_entity(src), pad_entity(sink));
            if a == Some(entity) {
                near.extend(b);
            } else if b == Some(entity) {
                near.extend(a);
            }
        }
        for &e in &near {
            for &(src, sink, flags) in &self.links {
                if flags & MEDIA_LNK_FL_LINK_TYPE != MEDIA_LNK_FL_INTERFACE_LINK || sink != e {
                    continue;
                }
                if let Some(i) = self
                    .interfaces
                    .iter()
                    .find(|i| i.0 == src && i.1 == MEDIA_INTF_T_V4L_VIDEO)
                {
                    return Some((i.2, i.3));
                }
            }
        }
        None
    }
}

/// `/dev/<DEVNAME>` of character device `major:minor`, from
/// `/sys/dev/char/M:m/uevent` (sysfs ABI, Documentation/ABI/testing/sysfs-dev).
pub fn devnode_path(major: u32, minor: u32) -> Result<std::path::PathBuf, String> {
    let uevent = format!("/sys/dev/char/{major}:{minor}/uevent");
    let text = std::fs::read_to_string(&uevent).map_err(|e| format!("{uevent}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("DEVNAME="))
        .map(|n| std::path::Path::new("/dev").join(n.trim()))
        .ok_or_else(|| format!("{uevent}: no DEVNAME line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Graph shaped like v4l2_m2m_register_media_controller builds it:
    /// source(1) -pad 2→pad 3- proc(4) -pad 5→pad 6- sink(7); interface 8
    /// linked to source and sink.
    fn m2m_graph() -> Topology {
        Topology {
            entities: vec![
                (1, "visl-source".into(), 0x10001),
                (4, "visl-proc".into(), MEDIA_ENT_F_PROC_VIDEO_DECODER),
                (7, "visl-sink".into(), 0x10001),
            ],
            interfaces: vec![(8, MEDIA_INTF_T_V4L_VIDEO, 81, 3)],
            pads: vec![(2, 1), (3, 4), (5, 4), (6, 7)],
            links: vec![
                (2, 3, MEDIA_LNK_FL_DATA_LINK | 1),
                (5, 6, MEDIA_LNK_FL_DATA_LINK | 1),
                (8, 1, MEDIA_LNK_FL_INTERFACE_LINK | 1),
                (8, 7, MEDIA_LNK_FL_INTERFACE_LINK | 1),
            ],
        }
    }

    #[test]
    fn finds_video_node_through_io_entities() {
        let t = m2m_graph();
        assert_eq!(t.decoder_entities(), vec![4]);
        assert_eq!(t.video_devnode_for(4), Some((81, 3)));
    }

    #[test]
    fn no_interface_no_node() {
        let mut t = m2m_graph();
        t.links
            .retain(|l| l.2 & MEDIA_LNK_FL_LINK_TYPE != MEDIA_LNK_FL_INTERFACE_LINK);
        assert_eq!(t.video_devnode_for(4), None);
        t.interfaces[0].1 = 0x300; // not a V4L video interface
        assert_eq!(t.video_devnode_for(4), None);
    }

    #[test]
    fn c_str_stops_at_nul() {
        assert_eq!(c_str(b"visl\0\0garbage"), "visl");
        assert_eq!(c_str(b"full"), "full");
    }
}
