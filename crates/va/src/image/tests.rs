use super::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_frame::{plane_layout, BufferReturn, CaptureFormat};
use vreq_v4l2::{Completed, DeviceError};

use crate::testdev::{
    decode_idr, decode_idr_at, fake_driver, h264_context, h264_context_of, pattern, visl_driver,
};

const NV12: u32 = FOURCC_NV12;
const P010: u32 = FOURCC_P010;

#[test]
fn layouts_follow_vaimage() {
    let l = image_layout(NV12, 64, 48).unwrap();
    assert_eq!(
        (l.pitches, l.offsets, l.data_size, l.num_planes),
        ([64, 64, 0], [0, 64 * 48, 0], 64 * 48 * 3 / 2, 2)
    );
    // odd sizes: a row holds ceil(w/2) CbCr pairs, ceil(h/2) chroma rows
    let l = image_layout(NV12, 33, 17).unwrap();
    assert_eq!(
        (l.pitches[0], l.offsets[1], l.data_size),
        (34, 34 * 17, 34 * 17 + 34 * 9)
    );
    let l = image_layout(P010, 33, 17).unwrap();
    assert_eq!((l.pitches[1], l.data_size), (68, 68 * 26));
    // 8K P010 fits, 16384² does not; sizes out of range; other fourccs
    assert!(image_layout(P010, 7680, 4320).is_ok());
    assert_eq!(
        image_layout(P010, 16384, 16384),
        Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
    );
    for (w, h) in [(0, 1), (1, 0), (16385, 1), (1, u32::MAX)] {
        assert_eq!(
            image_layout(NV12, w, h),
            Err(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
    }
    assert_eq!(
        image_layout(crate::sys::VA_FOURCC_YV12, 64, 64),
        Err(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT)
    );
}

/// A linear NV12 (or P010) picture, `w` × `h`, rows `stride` bytes apart,
/// luma sample (x, y) = `luma(x, y)`, chroma pair (x, y) = `chroma(x, y)`.
fn linear(
    p010: bool,
    w: usize,
    h: usize,
    stride: usize,
    luma: impl Fn(usize, usize) -> u16,
    chroma: impl Fn(usize, usize) -> (u16, u16),
) -> (Vec<u8>, Vec<u8>) {
    let sb = if p010 { 2 } else { 1 };
    let mut y = vec![0xeeu8; stride * h];
    let mut c = vec![0xeeu8; stride * h.div_ceil(2)];
    let put = |buf: &mut Vec<u8>, at: usize, v: u16| {
        if p010 {
            buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
        } else {
            buf[at] = v as u8;
        }
    };
    for r in 0..h {
        for x in 0..w {
            put(&mut y, r * stride + x * sb, luma(x, r));
        }
    }
    for r in 0..h.div_ceil(2) {
        for x in 0..w.div_ceil(2) {
            let (cb, cr) = chroma(x, r);
            put(&mut c, r * stride + 2 * x * sb, cb);
            put(&mut c, r * stride + (2 * x + 1) * sb, cr);
        }
    }
    (y, c)
}

fn planes<'a>(
    format: PixelFormat,
    w: u32,
    h: u32,
    y: &'a [u8],
    c: &'a [u8],
    stride: usize,
) -> PlanesRef<'a> {
    PlanesRef {
        format,
        width: w,
        height: h,
        planes: [(y, stride), (c, stride), (&[], 0)],
    }
}

/// Sample (x, y) of plane `p` of an image (as a 16-bit word for P010).
fn sample(img: &[u8], l: &ImageLayout, p010: bool, p: usize, x: usize, y: usize) -> u16 {
    let at = l.offsets[p] as usize + y * l.pitches[p] as usize;
    if p010 {
        u16::from_le_bytes([img[at + 2 * x], img[at + 2 * x + 1]])
    } else {
        u16::from(img[at + x])
    }
}

#[test]
fn copy_rect_same_format_and_black_outside() {
    let (w, h) = (20usize, 10usize);
    let lum = |x: usize, y: usize| (x * 7 + y * 3) as u16;
    let chr = |x: usize, y: usize| ((x + 100) as u16, (y + 200) as u16);
    let (y, c) = linear(false, w, h, 24, lum, chr);
    let src = planes(PixelFormat::Nv12, w as u32, h as u32, &y, &c, 24);
    // a rectangle from (4, 2), 8 × 6
    let l = image_layout(NV12, 8, 6).unwrap();
    let mut img = vec![0u8; l.data_size as usize];
    let rect = Rect {
        x: 4,
        y: 2,
        width: 8,
        height: 6,
    };
    copy_rect(Some(&src), rect, NV12, &l, &mut img).unwrap();
    for r in 0..6 {
        for x in 0..8 {
            assert_eq!(
                sample(&img, &l, false, 0, x, r),
                lum(x + 4, r + 2),
                "({x},{r})"
            );
        }
    }
    for r in 0..3 {
        for x in 0..4 {
            let (cb, cr) = chr(x + 2, r + 1);
            assert_eq!(sample(&img, &l, false, 1, 2 * x, r), cb);
            assert_eq!(sample(&img, &l, false, 1, 2 * x + 1, r), cr);
        }
    }
    // reaching past the source (18..26 × 6..12 of a 20 × 10 picture): black there
    let rect = Rect {
        x: 18,
        y: 6,
        width: 8,
        height: 6,
    };
    copy_rect(Some(&src), rect, NV12, &l, &mut img).unwrap();
    assert_eq!(sample(&img, &l, false, 0, 1, 3), lum(19, 9));
    assert_eq!(sample(&img, &l, false, 0, 2, 3), 16, "right of the picture");
    assert_eq!(sample(&img, &l, false, 0, 0, 4), 16, "below the picture");
    assert_eq!(sample(&img, &l, false, 1, 0, 1), chr(9, 4).0);
    assert_eq!(sample(&img, &l, false, 1, 2, 1), 128);
    assert_eq!(sample(&img, &l, false, 1, 1, 2), 128);
    // no picture: all black
    copy_rect(None, rect, NV12, &l, &mut img).unwrap();
    let luma_len = l.offsets[1] as usize;
    assert!(img[..luma_len].iter().all(|&v| v == 16));
    assert!(img[luma_len..].iter().all(|&v| v == 128));
}

#[test]
fn copy_rect_converts_bit_depth_and_planar_chroma() {
    let (w, h) = (6usize, 4usize);
    let lum = |x: usize, y: usize| ((x * 40 + y) as u16) << 6; // P010 words
    let chr = |x: usize, y: usize| (((x * 100 + 3) as u16) << 6, ((y * 200 + 5) as u16) << 6);
    let (y, c) = linear(true, w, h, 16, lum, chr);
    let src = planes(PixelFormat::P010, 6, 4, &y, &c, 16);
    let full = Rect {
        x: 0,
        y: 0,
        width: 6,
        height: 4,
    };
    // P010 → NV12: the 8 high bits
    let l = image_layout(NV12, 6, 4).unwrap();
    let mut img = vec![0u8; l.data_size as usize];
    copy_rect(Some(&src), full, NV12, &l, &mut img).unwrap();
    assert_eq!(sample(&img, &l, false, 0, 5, 3), lum(5, 3) >> 8);
    assert_eq!(sample(&img, &l, false, 1, 4, 1), chr(2, 1).0 >> 8);
    assert_eq!(sample(&img, &l, false, 1, 5, 1), chr(2, 1).1 >> 8);
    // P010 → P010: copied as is
    let lp = image_layout(P010, 6, 4).unwrap();
    let mut imgp = vec![0u8; lp.data_size as usize];
    copy_rect(Some(&src), full, P010, &lp, &mut imgp).unwrap();
    assert_eq!(sample(&imgp, &lp, true, 0, 5, 3), lum(5, 3));
    // NV12 → P010: v << 8; black is 64 / 512 at 10 bits
    let (y8, c8) = linear(
        false,
        3,
        2,
        4,
        |x, y| (x * 50 + y) as u16,
        |x, _| (x as u16 + 1, 250),
    );
    let src8 = planes(PixelFormat::Nv12, 3, 2, &y8, &c8, 4);
    copy_rect(Some(&src8), full, P010, &lp, &mut imgp).unwrap();
    assert_eq!(sample(&imgp, &lp, true, 0, 2, 1), 101 << 8);
    assert_eq!(sample(&imgp, &lp, true, 1, 3, 0), 250 << 8);
    assert_eq!(sample(&imgp, &lp, true, 0, 3, 0) >> 6, 64);
    assert_eq!(sample(&imgp, &lp, true, 1, 4, 0) >> 6, 512);
    // YUV420 (separate Cb, Cr planes) → NV12: interleaved
    let yp: Vec<u8> = (0..16).collect();
    let cb = [10u8, 11, 12, 13];
    let cr = [20u8, 21, 22, 23];
    let src3 = PlanesRef {
        format: PixelFormat::Yuv420,
        width: 4,
        height: 4,
        planes: [(&yp, 4), (&cb, 2), (&cr, 2)],
    };
    let l4 = image_layout(NV12, 4, 4).unwrap();
    let mut img4 = vec![0u8; l4.data_size as usize];
    let r4 = Rect {
        x: 0,
        y: 0,
        width: 4,
        height: 4,
    };
    copy_rect(Some(&src3), r4, NV12, &l4, &mut img4).unwrap();
    assert_eq!(&img4[16..], &[10, 20, 11, 21, 12, 22, 13, 23]);
    assert_eq!(&img4[..16], &yp[..]);
}

#[test]
fn copy_rect_refuses_bad_geometry() {
    let l = image_layout(NV12, 8, 8).unwrap();
    let mut img = vec![0u8; l.data_size as usize];
    let big = Rect {
        x: 0,
        y: 0,
        width: 9,
        height: 8,
    };
    assert_eq!(
        copy_rect(None, big, NV12, &l, &mut img),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    let r = Rect {
        x: 0,
        y: 0,
        width: 8,
        height: 8,
    };
    assert_eq!(
        copy_rect(None, r, NV12, &l, &mut img[..10]),
        Err(VA_STATUS_ERROR_INVALID_PARAMETER)
    );
    // a source plane shorter than its size and stride say
    let y = vec![0u8; 8 * 7];
    let c = vec![0u8; 8 * 4];
    let src = planes(PixelFormat::Nv12, 8, 8, &y, &c, 8);
    assert_eq!(
        copy_rect(Some(&src), r, NV12, &l, &mut img),
        Err(VA_STATUS_ERROR_OPERATION_FAILED)
    );
    // tiled sources must be unpacked first
    let src = planes(PixelFormat::Nc12, 8, 8, &y, &c, 8);
    assert_eq!(
        copy_rect(Some(&src), r, NV12, &l, &mut img),
        Err(VA_STATUS_ERROR_OPERATION_FAILED)
    );
}

/// A device that only holds CAPTURE buffer 0 (`maps`: one per memory plane).
struct Mapped(Vec<Vec<u8>>);

impl DecoderDevice for Mapped {
    fn name(&self) -> String {
        "mapped".into()
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        (DecodeMode::FrameBased, StartCode::None)
    }
    fn configure(
        &mut self,
        _: CodecKind,
        _: &StreamParams,
        _: &[Control],
        _: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        Err(DeviceError::Unsupported(
            "mapped".into(),
            "test device".into(),
        ))
    }
    fn free_slots(&self) -> usize {
        0
    }
    fn queue(&mut self, _: &DecodeJob) -> Result<(), DeviceError> {
        Err(DeviceError::Unsupported(
            "mapped".into(),
            "test device".into(),
        ))
    }
    fn dequeue(&mut self, _: Duration) -> Result<Option<Completed>, DeviceError> {
        Ok(None)
    }
    fn in_flight(&self) -> usize {
        0
    }
    fn requeue_capture(&mut self, _: usize) -> Result<(), DeviceError> {
        Ok(())
    }
    fn capture_dmabufs(&self, _: usize) -> Vec<std::os::fd::BorrowedFd<'_>> {
        Vec::new()
    }
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        match self.capture_map(index) {
            Ok(m) => m.iter().map(|p| p.len()).collect(),
            Err(_) => Vec::new(),
        }
    }
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        Ok(if index == 0 {
            self.0.iter().map(|m| &m[..]).collect()
        } else {
            Vec::new()
        })
    }
    fn mapped_captures(&self) -> usize {
        // Memory of its own, always "mapped".
        usize::from(!self.0.is_empty())
    }
}

fn frame_of(format: CaptureFormat) -> DecodedFrame {
    let q = Rc::new(RefCell::new(Vec::new()));
    let (w, h) = (format.width, format.height);
    DecodedFrame {
        pts_ns: 1000,
        capture_index: 0,
        generation: 0,
        format: Rc::new(format),
        visible: (0, 0, w, h),
        pixel_aspect: (1, 1),
        color: vreq_frame::ColorInfo::from_height(h),
        release: BufferReturn::new(&q, 0, 0),
    }
}

/// `buf`, the one CAPTURE buffer of a `size` picture of `fmt`, through
/// [`linear_picture`], then copied whole into an image of `fourcc`: the
/// linear picture's (format, width, height), the image's layout and bytes.
fn unpacked_image(
    fmt: CaptureFormat,
    buf: Vec<u8>,
    size: (u32, u32),
    fourcc: u32,
) -> ((PixelFormat, u32, u32), ImageLayout, Vec<u8>) {
    let dev = Mapped(vec![buf]);
    let frame = frame_of(fmt);
    let mut scratch = LinearFrame::default();
    let src = linear_picture(&frame, &dev, size, &mut scratch).unwrap();
    let l = image_layout(fourcc, size.0, size.1).unwrap();
    let mut img = vec![0u8; l.data_size as usize];
    let rect = Rect {
        x: 0,
        y: 0,
        width: size.0,
        height: size.1,
    };
    copy_rect(Some(&src), rect, fourcc, &l, &mut img).unwrap();
    ((src.format, src.width, src.height), l, img)
}

/// SAND128 (NC12) as raspberrypi/linux pixfmt-nv12-col128.rst lays it
/// out, written from a linear NV12 picture: the CAPTURE picture is
/// unpacked before it is copied.
#[test]
fn tiled_nc12_is_unpacked() {
    let (w, h) = (200usize, 16usize); // two 128-byte columns, the second ragged
    let alloc_w = 256;
    let col = h * 3 / 2; // column height in 128-byte lines
    let mut buf = vec![0u8; col * 128 * 2];
    let lum = |x: usize, y: usize| ((x * 3 + y * 5) % 251) as u8;
    let chr = |b: usize, y: usize| ((b * 11 + y * 7 + 1) % 253) as u8; // byte b of chroma row y
    for y in 0..h {
        for x in 0..alloc_w {
            buf[(x / 128) * col * 128 + y * 128 + x % 128] = lum(x, y);
        }
    }
    for y in 0..h / 2 {
        for b in 0..alloc_w {
            buf[(b / 128) * col * 128 + (h + y) * 128 + b % 128] = chr(b, y);
        }
    }
    let fmt = CaptureFormat {
        pixel_format: PixelFormat::Nc12,
        width: alloc_w as u32,
        height: h as u32,
        planes: plane_layout(*b"NC12", &[col as u32], h as u32).unwrap(),
    };
    let (linear, l, img) = unpacked_image(fmt, buf, (w as u32, h as u32), NV12);
    assert_eq!(linear, (PixelFormat::Nv12, 200, 16));
    for (x, y) in [(0, 0), (127, 3), (128, 3), (199, 15), (130, 9)] {
        assert_eq!(
            sample(&img, &l, false, 0, x, y),
            u16::from(lum(x, y)),
            "({x},{y})"
        );
    }
    for (b, y) in [(0, 0), (127, 1), (128, 1), (199, 7)] {
        assert_eq!(
            sample(&img, &l, false, 1, b, y),
            u16::from(chr(b, y)),
            "({b},{y})"
        );
    }
}

/// NV15 (4 10-bit samples in 5 bytes, little-endian bit order) → P010.
#[test]
fn packed_nv15_is_unpacked() {
    let (w, h) = (8usize, 4usize);
    let bpl = w * 5 / 4;
    let val = |i: usize| ((i * 97 + 13) % 1024) as u64; // sample i of a row-major plane
    let pack = |rows: usize, off: usize| {
        let mut out = vec![0u8; bpl * rows];
        for r in 0..rows {
            for g in 0..w / 4 {
                let mut bits = 0u64;
                for s in 0..4 {
                    bits |= val(off + r * w + g * 4 + s) << (10 * s);
                }
                out[r * bpl + g * 5..r * bpl + g * 5 + 5].copy_from_slice(&bits.to_le_bytes()[..5]);
            }
        }
        out
    };
    let mut buf = pack(h, 0);
    buf.extend(pack(h / 2, 1000));
    let fmt = CaptureFormat {
        pixel_format: PixelFormat::Nv15,
        width: w as u32,
        height: h as u32,
        planes: plane_layout(*b"NV15", &[bpl as u32], h as u32).unwrap(),
    };
    let (_, l, img) = unpacked_image(fmt, buf, (w as u32, h as u32), P010);
    for (x, y) in [(0, 0), (3, 0), (4, 1), (7, 3)] {
        assert_eq!(
            u64::from(sample(&img, &l, true, 0, x, y) >> 6),
            val(y * w + x),
            "({x},{y})"
        );
    }
    for (k, y) in [(0, 0), (7, 1)] {
        assert_eq!(
            u64::from(sample(&img, &l, true, 1, k, y) >> 6),
            val(1000 + y * w + k)
        );
    }
    // a buffer shorter than its layout: an error, not a panic
    let mut scratch = LinearFrame::default();
    let short = Mapped(vec![vec![0u8; 7]]);
    let frame = frame_of(CaptureFormat {
        pixel_format: PixelFormat::Nv15,
        width: w as u32,
        height: h as u32,
        planes: plane_layout(*b"NV15", &[bpl as u32], h as u32).unwrap(),
    });
    assert_eq!(
        linear_picture(&frame, &short, (8, 4), &mut scratch).err(),
        Some(VA_STATUS_ERROR_OPERATION_FAILED)
    );
}

/// The image bytes a painted visl CAPTURE buffer (NV12, 64 × 48, stride
/// 64) gives for the rectangle `r`.
fn expected_nv12(ts: u64, r: Rect) -> Vec<u8> {
    let l = image_layout(NV12, r.width, r.height).unwrap();
    let mut v = vec![0u8; l.data_size as usize];
    for y in 0..r.height as usize {
        for x in 0..r.width as usize {
            let k = (r.y as usize + y) * 64 + r.x as usize + x;
            v[y * l.pitches[0] as usize + x] = pattern(ts, k);
        }
    }
    for y in 0..r.height.div_ceil(2) as usize {
        for b in 0..(2 * r.width.div_ceil(2)) as usize {
            let k = 64 * 48 + (r.y as usize / 2 + y) * 64 + r.x as usize / 2 * 2 + b;
            v[l.offsets[1] as usize + y * l.pitches[1] as usize + b] = pattern(ts, k);
        }
    }
    v
}

#[test]
fn derive_and_get_through_the_driver() {
    let mut d = visl_driver(false, &[]);
    let s = d
        .create_surfaces(crate::sys::VA_RT_FORMAT_YUV420, 64, 48, 2, &[])
        .unwrap();
    let ctx = h264_context(&mut d);
    // a surface with no picture: derive fails (clients fall back), get reads black
    assert_eq!(d.derive_image(s[0]), Err(VA_STATUS_ERROR_OPERATION_FAILED));
    let (img, image) = d.create_image(NV12, 64, 48).unwrap();
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    let data = d.buffer(image.buf).unwrap().data();
    assert!(data[..64 * 48].iter().all(|&v| v == 16));
    assert!(data[64 * 48..].iter().all(|&v| v == 128));

    let ts = decode_idr(&mut d, ctx, s[0]);
    let full = Rect {
        x: 0,
        y: 0,
        width: 64,
        height: 48,
    };
    // vaGetImage of the whole surface: the CAPTURE buffer's bytes
    let p = d.map_buffer(image.buf).unwrap();
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    assert_eq!(
        d.buffer(image.buf).unwrap().data(),
        &expected_nv12(ts, full)[..]
    );
    assert_eq!(
        d.map_buffer(image.buf).unwrap(),
        p,
        "the mapping did not move"
    );
    // a rectangle into a smaller image, odd origin
    let (small, simage) = d.create_image(NV12, 16, 8).unwrap();
    let r = Rect {
        x: 9,
        y: 5,
        width: 16,
        height: 8,
    };
    d.get_image(s[0], 9, 5, 16, 8, small).unwrap();
    assert_eq!(
        d.buffer(simage.buf).unwrap().data(),
        &expected_nv12(ts, r)[..]
    );
    // vaDeriveImage: a copy in the surface's format and size
    let (der, dimage) = d.derive_image(s[0]).unwrap();
    assert_eq!(
        (
            dimage.format.fourcc,
            dimage.layout.width,
            dimage.layout.height
        ),
        (NV12, 64, 48)
    );
    assert_eq!(
        d.buffer(dimage.buf).unwrap().data(),
        &expected_nv12(ts, full)[..]
    );
    assert_eq!(
        d.buffer_info(dimage.buf),
        Ok((crate::sys::VAImageBufferType, 64 * 48 * 3 / 2, 1))
    );
    // the surface is busy for vaGetImage while its derived image lives
    assert_eq!(
        d.get_image(s[0], 0, 0, 64, 48, img),
        Err(VA_STATUS_ERROR_SURFACE_BUSY)
    );
    d.destroy_image(der).unwrap();
    assert_eq!(
        d.buffer_info(dimage.buf),
        Err(VA_STATUS_ERROR_INVALID_BUFFER),
        "the image's buffer went with it"
    );
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    // the image buffer is not a render buffer of any context
    d.begin_picture(ctx, s[1]).unwrap();
    assert_eq!(
        d.render_picture(ctx, &[image.buf]),
        Err(VA_STATUS_ERROR_INVALID_BUFFER)
    );

    // bad arguments
    assert_eq!(d.destroy_image(der), Err(VA_STATUS_ERROR_INVALID_IMAGE));
    assert_eq!(
        d.get_image(s[0], 0, 0, 64, 48, der),
        Err(VA_STATUS_ERROR_INVALID_IMAGE)
    );
    assert_eq!(
        d.get_image(0xdead, 0, 0, 64, 48, img),
        Err(VA_STATUS_ERROR_INVALID_SURFACE)
    );
    assert_eq!(d.derive_image(0xdead), Err(VA_STATUS_ERROR_INVALID_SURFACE));
    for (x, y, w, h) in [
        (-1, 0, 16, 8),
        (0, -1, 16, 8),
        (49, 0, 16, 8), // past the surface's right edge
        (0, 41, 16, 8), // past its bottom
        (0, 0, 17, 8),  // wider than the image
        (0, 0, 16, 9),  // taller
        (i32::MAX, 0, u32::MAX, 8),
    ] {
        assert_eq!(
            d.get_image(s[0], x, y, w, h, small),
            Err(VA_STATUS_ERROR_INVALID_PARAMETER),
            "{x},{y} {w}x{h}"
        );
    }
    assert_eq!(
        d.create_image(P010, 64, 48).err(),
        Some(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT),
        "visl decodes 8-bit only: P010 is not listed"
    );
    assert_eq!(
        d.create_image(crate::sys::VA_FOURCC_YV12, 64, 48).err(),
        Some(VA_STATUS_ERROR_INVALID_IMAGE_FORMAT)
    );
    for (w, h) in [(0, 48), (64, -1), (16385, 1)] {
        assert_eq!(
            d.create_image(NV12, w, h).err(),
            Some(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
    }
    // images count against the live buffer bytes: two 96 MiB images fit, a third does not
    let (a, _) = d.create_image(NV12, 8192, 8192).unwrap();
    let (b, _) = d.create_image(NV12, 8192, 8192).unwrap();
    assert_eq!(
        d.create_image(NV12, 8192, 8192).err(),
        Some(VA_STATUS_ERROR_ALLOCATION_FAILED)
    );
    d.destroy_image(a).unwrap();
    d.destroy_image(b).unwrap();
    d.create_image(NV12, 8192, 8192).unwrap();
    // the surface's context destroyed: its frame is gone, it reads black
    d.destroy_context(ctx).unwrap();
    assert_eq!(d.derive_image(s[0]), Err(VA_STATUS_ERROR_OPERATION_FAILED));
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    assert!(d.buffer(image.buf).unwrap().data()[..64]
        .iter()
        .all(|&v| v == 16));
}

#[test]
fn a_failed_picture_is_a_decoding_error() {
    let mut d = visl_driver(false, &[1000]);
    let s = d
        .create_surfaces(crate::sys::VA_RT_FORMAT_YUV420, 64, 48, 1, &[])
        .unwrap();
    let ctx = h264_context(&mut d);
    assert_eq!(decode_idr(&mut d, ctx, s[0]), 1000);
    let (img, _) = d.create_image(NV12, 64, 48).unwrap();
    assert_eq!(
        d.get_image(s[0], 0, 0, 64, 48, img),
        Err(VA_STATUS_ERROR_DECODING_ERROR)
    );
    assert_eq!(d.derive_image(s[0]), Err(VA_STATUS_ERROR_DECODING_ERROR));
}

/// A 10-bit H.264 picture on a fake rkvdec (RK3399): CAPTURE is NV15
/// (`bytesperline` 80 for 64 pixels, chroma at 80 · 48). vaDeriveImage of
/// the P010 surface unpacks it; vaGetImage into NV12 keeps the 8 high bits.
#[test]
fn ten_bit_nv15_through_the_driver() {
    let mut d = fake_driver("rkvdec", "rk3399", true, &[]);
    let rt10 = crate::sys::VA_RT_FORMAT_YUV420_10;
    let s = d.create_surfaces(rt10, 64, 48, 1, &[]).unwrap();
    let ctx = h264_context_of(&mut d, crate::profiles::VA_PROFILE_H264_HIGH10, rt10);
    let ts = decode_idr_at(&mut d, ctx, s[0], 10);
    let (frame, _) = d.picture_of(s[0]).unwrap();
    assert_eq!(frame.format.pixel_format, PixelFormat::Nv15);
    // sample i of the NV15 row at byte `row`: 4 samples per 5 bytes, LE bits
    let nv15 = |row: usize, i: usize| -> u16 {
        let at = row + i / 4 * 5;
        let mut bits = 0u64;
        for b in 0..5 {
            bits |= u64::from(pattern(ts, at + b)) << (8 * b);
        }
        ((bits >> (10 * (i % 4))) & 0x3ff) as u16
    };
    let (der, dimg) = d.derive_image(s[0]).unwrap();
    assert_eq!(dimg.format.fourcc, P010);
    let l = dimg.layout;
    let data = d.buffer(dimg.buf).unwrap().data().to_vec();
    for (x, y) in [(0, 0), (1, 0), (3, 0), (4, 0), (63, 0), (17, 29), (63, 47)] {
        assert_eq!(
            sample(&data, &l, true, 0, x, y),
            nv15(y * 80, x) << 6,
            "Y ({x},{y})"
        );
    }
    for (k, y) in [(0, 0), (5, 3), (63, 23)] {
        assert_eq!(
            sample(&data, &l, true, 1, k, y),
            nv15(80 * 48 + y * 80, k) << 6,
            "CbCr ({k},{y})"
        );
    }
    d.destroy_image(der).unwrap();
    let (img, image) = d.create_image(NV12, 64, 48).unwrap();
    d.get_image(s[0], 0, 0, 64, 48, img).unwrap();
    let data = d.buffer(image.buf).unwrap().data();
    let l8 = image.layout;
    assert_eq!(sample(data, &l8, false, 0, 17, 29), nv15(29 * 80, 17) >> 2);
    assert_eq!(
        sample(data, &l8, false, 1, 5, 3),
        nv15(80 * 48 + 3 * 80, 5) >> 2
    );
    // exported: one NV15 layer; NV15 has no separate-layer formats
    let prime2 = crate::sys::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2;
    let e = d
        .export_surface_handle(s[0], prime2, crate::sys::VA_EXPORT_SURFACE_COMPOSED_LAYERS)
        .unwrap();
    assert_eq!(
        (
            e.fourcc,
            e.layers[0].drm_format,
            e.layers[0].planes[1].offset
        ),
        (P010, u32::from_le_bytes(*b"NV15"), 80 * 48)
    );
    assert_eq!(
        d.export_surface_handle(s[0], prime2, crate::sys::VA_EXPORT_SURFACE_SEPARATE_LAYERS)
            .err(),
        Some(VA_STATUS_ERROR_INVALID_SURFACE)
    );
}
