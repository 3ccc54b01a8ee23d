use super::*;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

use vreq_frame::{plane_layout, PlaneLayout};

use crate::testdev::{decode_idr, h264_context, visl_driver};

fn fmt(pf: PixelFormat, v4l2: [u8; 4], bpl: &[u32], w: u32, h: u32) -> CaptureFormat {
    CaptureFormat {
        pixel_format: pf,
        width: w,
        height: h,
        planes: plane_layout(v4l2, bpl, h).unwrap(),
    }
}

fn plane(object_index: u32, offset: u32, pitch: u32) -> DrmPlane {
    DrmPlane {
        object_index,
        offset,
        pitch,
    }
}

#[test]
fn layers_of_every_capture_format() {
    let nv12 = fmt(PixelFormat::Nv12, *b"NV12", &[1920], 1920, 1088);
    let (m, l) = layers_of(&nv12, true).unwrap();
    assert_eq!(m, DRM_MOD_LINEAR);
    assert_eq!(
        l,
        [DrmLayer {
            drm_format: u32::from_le_bytes(*b"NV12"),
            planes: vec![plane(0, 0, 1920), plane(0, 1920 * 1088, 1920)],
        }]
    );
    let (_, l) = layers_of(&nv12, false).unwrap();
    assert_eq!(
        l,
        [
            DrmLayer {
                drm_format: DRM_FORMAT_R8,
                planes: vec![plane(0, 0, 1920)]
            },
            DrmLayer {
                drm_format: DRM_FORMAT_GR88,
                planes: vec![plane(0, 1920 * 1088, 1920)]
            },
        ]
    );
    // two memory planes (NM12): two objects
    let nm12 = fmt(PixelFormat::Nv12, *b"NM12", &[64, 64], 64, 48);
    let (_, l) = layers_of(&nm12, true).unwrap();
    assert_eq!(l[0].planes, [plane(0, 0, 64), plane(1, 0, 64)]);
    let p010 = fmt(PixelFormat::P010, *b"P010", &[3840], 1920, 1088);
    let (_, l) = layers_of(&p010, false).unwrap();
    assert_eq!(
        (l[0].drm_format, l[1].drm_format, l[1].planes[0]),
        (
            DRM_FORMAT_R16,
            DRM_FORMAT_GR1616,
            plane(0, 3840 * 1088, 3840)
        )
    );
    let (_, l) = layers_of(&p010, true).unwrap();
    assert_eq!(l[0].drm_format, u32::from_le_bytes(*b"P010"));
    // NV15: composed only
    let nv15 = fmt(PixelFormat::Nv15, *b"NV15", &[2400], 1920, 1088);
    let (m, l) = layers_of(&nv15, true).unwrap();
    assert_eq!(
        (m, l[0].drm_format),
        (DRM_MOD_LINEAR, u32::from_le_bytes(*b"NV15"))
    );
    assert_eq!(l[0].planes[1], plane(0, 2400 * 1088, 2400));
    assert_eq!(
        layers_of(&nv15, false),
        Err(VA_STATUS_ERROR_INVALID_SURFACE)
    );
    // SAND128: the column height in the modifier, pitch = width (· 2 for P030)
    let nc12 = fmt(PixelFormat::Nc12, *b"NC12", &[1632], 1920, 1088);
    let (m, l) = layers_of(&nc12, true).unwrap();
    assert_eq!(m, drm::drm_mod_broadcom_sand128(1632));
    assert_eq!(m, (7 << 56) | (1632 << 8) | 4);
    assert_eq!(l[0].drm_format, u32::from_le_bytes(*b"NV12"));
    assert_eq!(l[0].planes, [plane(0, 0, 1920), plane(0, 1088 * 128, 1920)]);
    assert_eq!(
        layers_of(&nc12, false),
        Err(VA_STATUS_ERROR_INVALID_SURFACE)
    );
    let nc30 = fmt(PixelFormat::Nc30, *b"NC30", &[1632], 1920, 1088);
    let (m, l) = layers_of(&nc30, true).unwrap();
    assert_eq!(m, drm::drm_mod_broadcom_sand128(1632));
    assert_eq!(l[0].drm_format, u32::from_le_bytes(*b"P030"));
    assert_eq!(l[0].planes[0].pitch, 3840);
    // YUV420: one 3-plane YU12 layer, no separate layers
    let yu12 = fmt(PixelFormat::Yuv420, *b"YU12", &[64], 64, 48);
    let (_, l) = layers_of(&yu12, true).unwrap();
    assert_eq!(
        (l[0].drm_format, l[0].planes.len()),
        (u32::from_le_bytes(*b"YU12"), 3)
    );
    assert_eq!(
        layers_of(&yu12, false),
        Err(VA_STATUS_ERROR_INVALID_SURFACE)
    );
    // a layout missing planes, or planes in a fifth memory plane
    let mut bad = nv12.clone();
    bad.planes.truncate(1);
    assert_eq!(layers_of(&bad, true), Err(VA_STATUS_ERROR_OPERATION_FAILED));
    let mut bad = nv12;
    bad.planes[1] = PlaneLayout {
        memory_plane: 4,
        offset: 0,
        stride: 64,
    };
    assert_eq!(layers_of(&bad, true), Err(VA_STATUS_ERROR_OPERATION_FAILED));
}

#[test]
fn export_through_the_driver() {
    let mut d = visl_driver(true, &[]);
    let s = d
        .create_surfaces(sys::VA_RT_FORMAT_YUV420, 64, 48, 2, &[])
        .unwrap();
    let ctx = h264_context(&mut d);
    let prime2 = sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;
    let read = sys::VA_EXPORT_SURFACE_READ_ONLY;
    let composed = read | sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS;
    let separate = read | sys::VA_EXPORT_SURFACE_SEPARATE_LAYERS;
    // no decoded picture: a placeholder of the surface's format (pitch 64)
    let e = d.export_surface_handle(s[0], prime2, separate).unwrap();
    assert_eq!(
        (e.fourcc, e.objects.len(), e.objects[0].size),
        (sys::VA_FOURCC_NV12, 1, 8192)
    );
    assert_eq!(
        e.layers,
        [
            DrmLayer {
                drm_format: DRM_FORMAT_R8,
                planes: vec![plane(0, 0, 64)]
            },
            DrmLayer {
                drm_format: DRM_FORMAT_GR88,
                planes: vec![plane(0, 64 * 48, 64)]
            },
        ]
    );
    let placeholder = std::fs::File::from(e.objects.into_iter().next().unwrap().fd);
    assert_eq!(
        placeholder.metadata().unwrap().len(),
        8192,
        "4608 bytes in whole pages"
    );
    // no heap for the placeholder: not exportable
    d.placeholder = |_| Err("no heap".into());
    assert_eq!(
        d.export_surface_handle(s[0], prime2, composed).err(),
        Some(VA_STATUS_ERROR_INVALID_SURFACE)
    );
    decode_idr(&mut d, ctx, s[0]);
    let e = d.export_surface_handle(s[0], prime2, composed).unwrap();
    assert_eq!(
        (e.fourcc, e.width, e.height, e.objects.len()),
        (sys::VA_FOURCC_NV12, 64, 48, 1)
    );
    assert_eq!(
        (e.objects[0].size, e.objects[0].drm_format_modifier),
        (64 * 48 * 3 / 2, DRM_MOD_LINEAR)
    );
    assert_eq!(
        e.layers,
        [DrmLayer {
            drm_format: u32::from_le_bytes(*b"NV12"),
            planes: vec![plane(0, 0, 64), plane(0, 64 * 48, 64)],
        }]
    );
    // the fd is a dup of the CAPTURE buffer's dmabuf: another number, the same file
    let (frame, dev) = d.picture_of(s[0]).unwrap();
    let theirs = dev.capture_dmabufs(frame.capture_index)[0];
    assert_ne!(e.objects[0].fd.as_raw_fd(), theirs.as_raw_fd());
    let ino = |fd: std::os::fd::BorrowedFd<'_>| {
        std::fs::File::from(fd.try_clone_to_owned().unwrap())
            .metadata()
            .unwrap()
            .ino()
    };
    use std::os::fd::AsFd;
    assert_eq!(ino(e.objects[0].fd.as_fd()), ino(theirs));
    // separate layers; no layer flag at all is separate too (as mesa)
    for flags in [separate, read, 0] {
        let e = d.export_surface_handle(s[0], prime2, flags).unwrap();
        assert_eq!(
            e.layers.iter().map(|l| l.drm_format).collect::<Vec<_>>(),
            [DRM_FORMAT_R8, DRM_FORMAT_GR88],
            "{flags:#x}"
        );
    }
    // refused: other memory types, writes, bad / fresh surfaces
    for m in [
        sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME,
        sys::VA_SURFACE_ATTRIB_MEM_TYPE_VA,
        sys::VA_SURFACE_ATTRIB_MEM_TYPE_USER_PTR,
        0,
    ] {
        assert_eq!(
            d.export_surface_handle(s[0], m, composed).err(),
            Some(VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE),
            "{m:#x}"
        );
    }
    for f in [
        sys::VA_EXPORT_SURFACE_WRITE_ONLY,
        sys::VA_EXPORT_SURFACE_READ_WRITE | sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS,
    ] {
        assert_eq!(
            d.export_surface_handle(s[0], prime2, f).err(),
            Some(VA_STATUS_ERROR_INVALID_SURFACE)
        );
    }
    assert_eq!(
        d.export_surface_handle(0xdead, prime2, composed).err(),
        Some(VA_STATUS_ERROR_INVALID_SURFACE)
    );
    assert_eq!(
        d.export_surface_handle(s[1], prime2, composed).err(),
        Some(VA_STATUS_ERROR_INVALID_SURFACE),
        "no picture, no placeholder heap"
    );
}

#[test]
fn placeholders_of_undecoded_surfaces() {
    let (f, n) = placeholder_format(sys::VA_FOURCC_NV12, 1920, 1080).unwrap();
    assert_eq!(
        (f.planes[0].stride, f.planes[1].offset, n),
        (1920, 1920 * 1080, 1920 * 1620)
    );
    let (f, n) = placeholder_format(sys::VA_FOURCC_P010, 100, 9).unwrap();
    assert_eq!(
        (f.pixel_format, f.planes[0].stride, n),
        (PixelFormat::P010, 256, 256 * 14)
    );
    assert!(placeholder_format(sys::VA_FOURCC_P010, 16384, 16384).is_none());
    assert!(placeholder_format(sys::VA_FOURCC_YV12, 64, 64).is_none());
    // a P010 surface on a 10-bit device: R16 + GR1616 over the placeholder
    let mut d = crate::testdev::fake_driver("rkvdec", "rk3399", true, &[]);
    let s = d
        .create_surfaces(sys::VA_RT_FORMAT_YUV420_10, 100, 9, 1, &[])
        .unwrap();
    let prime2 = sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;
    let e = d.export_surface_handle(s[0], prime2, 0).unwrap();
    assert_eq!(
        (e.fourcc, e.layers[0].drm_format, e.layers[1].drm_format),
        (sys::VA_FOURCC_P010, DRM_FORMAT_R16, DRM_FORMAT_GR1616)
    );
    assert_eq!(e.layers[1].planes[0], plane(0, 256 * 9, 256));
    // write exports stay refused, placeholder or not
    assert_eq!(
        d.export_surface_handle(s[0], prime2, sys::VA_EXPORT_SURFACE_READ_WRITE)
            .err(),
        Some(VA_STATUS_ERROR_INVALID_SURFACE)
    );
}

#[test]
fn export_needs_dmabufs_and_a_good_picture() {
    let prime2 = sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;
    let flags = sys::VA_EXPORT_SURFACE_READ_ONLY | sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS;
    // a device that gives no dmabuf
    let mut d = visl_driver(false, &[]);
    let s = d
        .create_surfaces(sys::VA_RT_FORMAT_YUV420, 64, 48, 1, &[])
        .unwrap();
    let ctx = h264_context(&mut d);
    decode_idr(&mut d, ctx, s[0]);
    assert_eq!(
        d.export_surface_handle(s[0], prime2, flags).err(),
        Some(VA_STATUS_ERROR_OPERATION_FAILED)
    );
    // a picture the device flagged
    let mut d = visl_driver(true, &[1000]);
    let s = d
        .create_surfaces(sys::VA_RT_FORMAT_YUV420, 64, 48, 1, &[])
        .unwrap();
    let ctx = h264_context(&mut d);
    decode_idr(&mut d, ctx, s[0]);
    assert_eq!(
        d.export_surface_handle(s[0], prime2, flags).err(),
        Some(VA_STATUS_ERROR_DECODING_ERROR)
    );
}

/// Issue 17: the zero-copy path (`vaExportSurfaceHandle`) maps no CAPTURE
/// buffer into the process; the CPU read-backs (`vaGetImage`,
/// `vaDeriveImage`) map the picture's buffer on their first read and reuse
/// the mapping. Counted by the fake device under the painted wrapper
/// (`DecoderDevice::mapped_captures`), as the V4L2 session counts its mmaps.
#[test]
fn only_image_reads_map_capture_buffers() {
    let mut d = visl_driver(true, &[]);
    let s = d
        .create_surfaces(sys::VA_RT_FORMAT_YUV420, 64, 48, 2, &[])
        .unwrap();
    let ctx = h264_context(&mut d);
    decode_idr(&mut d, ctx, s[0]);
    decode_idr(&mut d, ctx, s[1]);
    let mapped = |d: &Driver| d.picture_of(s[0]).unwrap().1.mapped_captures();
    let (f0, f1) = {
        let f = |i: usize| d.picture_of(s[i]).unwrap().0.capture_index;
        (f(0), f(1))
    };
    assert_ne!(f0, f1, "two pictures, two CAPTURE buffers");
    assert_eq!(mapped(&d), 0, "decoding maps nothing");
    let prime2 = sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;
    let read = sys::VA_EXPORT_SURFACE_READ_ONLY;
    for flags in [
        read | sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS,
        read | sys::VA_EXPORT_SURFACE_SEPARATE_LAYERS,
    ] {
        for &surface in &s {
            let e = d.export_surface_handle(surface, prime2, flags).unwrap();
            assert_eq!(e.objects[0].size, 64 * 48 * 3 / 2, "QUERYBUF's length");
        }
    }
    assert_eq!(mapped(&d), 0, "exports map nothing");
    // vaGetImage reads s[0]: its buffer is mapped, once.
    let (img, _) = d.create_image(sys::VA_FOURCC_NV12, 64, 48).unwrap();
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    assert_eq!(mapped(&d), 1);
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    assert_eq!(mapped(&d), 1, "the mapping is reused");
    // vaDeriveImage copies s[1]'s picture: the second buffer.
    let (der, _) = d.derive_image(s[1]).unwrap();
    assert_eq!(mapped(&d), 2);
    d.destroy_image(der).unwrap();
    d.destroy_image(img).unwrap();
    d.export_surface_handle(s[1], prime2, read).unwrap();
    assert_eq!(mapped(&d), 2);
}
