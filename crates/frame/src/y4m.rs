//! YUV4MPEG2 writer (the format's de-facto spec: mjpegtools `yuv4mpeg(5)`).
//! Writes 4:2:0 planar (`C420jpeg`, 8-bit) or `C420p10` (10-bit, little-endian
//! 16-bit samples holding the value 0..=1023, as ffmpeg's `yuv420p10le`) from
//! NV12 / YUV420 / P010 planes. P010 keeps its 10 bits MSB-aligned (bits
//! 15..6, uAPI "pixfmt-yuv-planar"), so each sample is shifted right by 6.

use std::io::{self, Write};

use super::{PixelFormat, PlanesRef};

/// Writes frames of one size and format.
pub struct Y4mWriter<W: Write> {
    out: W,
    width: u32,
    height: u32,
    format: PixelFormat,
    row: Vec<u8>,
}

impl<W: Write> Y4mWriter<W> {
    /// Writes the stream header. `fps` is (numerator, denominator).
    pub fn new(
        mut out: W,
        width: u32,
        height: u32,
        fps: (u32, u32),
        format: PixelFormat,
    ) -> io::Result<Self> {
        let c = if format == PixelFormat::P010 {
            "C420p10"
        } else {
            "C420jpeg"
        };
        writeln!(
            out,
            "YUV4MPEG2 W{width} H{height} F{}:{} Ip A1:1 {c}",
            fps.0, fps.1
        )?;
        Ok(Y4mWriter {
            out,
            width,
            height,
            format,
            row: Vec::new(),
        })
    }

    /// The underlying writer.
    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Writes one frame. Errors if the planes are smaller than the header's size says.
    pub fn write_frame(&mut self, p: &PlanesRef<'_>) -> io::Result<()> {
        if p.width != self.width || p.height != self.height || p.format != self.format {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "frame {}x{} {:?} does not match the stream's {}x{} {:?}",
                    p.width, p.height, p.format, self.width, self.height, self.format
                ),
            ));
        }
        if self.format.is_packed_or_tiled() {
            // unpack first (crate::detile) and write the linear result
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{:?} frames must be unpacked before Y4M", self.format),
            ));
        }
        self.out.write_all(b"FRAME\n")?;
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let sb = self.format.sample_bytes();
        let short = || {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "decoded plane shorter than its layout",
            )
        };
        // luma
        let (y, ys) = p.planes[0];
        for r in 0..h {
            let line = y.get(r * ys..r * ys + w * sb).ok_or_else(short)?;
            if self.format == PixelFormat::P010 {
                self.row.clear();
                for s in line.chunks_exact(2) {
                    self.row.extend_from_slice(&p010_to_le10(s));
                }
                self.out.write_all(&self.row)?;
            } else {
                self.out.write_all(line)?;
            }
        }
        match self.format {
            PixelFormat::Yuv420 => {
                for plane in [p.planes[1], p.planes[2]] {
                    let (d, s) = plane;
                    for r in 0..ch {
                        self.out
                            .write_all(d.get(r * s..r * s + cw).ok_or_else(short)?)?;
                    }
                }
            }
            PixelFormat::Nv12
            | PixelFormat::P010
            | PixelFormat::Nv15
            | PixelFormat::Nc12
            | PixelFormat::Nc30 => {
                let (d, s) = p.planes[1];
                for comp in 0..2 {
                    for r in 0..ch {
                        let line = d.get(r * s..r * s + cw * 2 * sb).ok_or_else(short)?;
                        self.row.clear();
                        for px in line.chunks_exact(2 * sb) {
                            let s = &px[comp * sb..comp * sb + sb];
                            if sb == 2 {
                                self.row.extend_from_slice(&p010_to_le10(s));
                            } else {
                                self.row.extend_from_slice(s);
                            }
                        }
                        self.out.write_all(&self.row)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// One P010 sample (little-endian, value in bits 15..6) as a `C420p10`
/// sample (little-endian, value in bits 9..0).
fn p010_to_le10(s: &[u8]) -> [u8; 2] {
    (u16::from_le_bytes([s[0], s[1]]) >> 6).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nv12_deinterleaves_chroma() {
        // 2x2 NV12: Y = 1 2 / 3 4, CbCr = (10, 20)
        let y = [1u8, 2, 3, 4];
        let uv = [10u8, 20];
        let p = PlanesRef {
            format: PixelFormat::Nv12,
            width: 2,
            height: 2,
            planes: [(&y, 2), (&uv, 2), (&[], 0)],
        };
        let mut w = Y4mWriter::new(Vec::new(), 2, 2, (25, 1), PixelFormat::Nv12).unwrap();
        w.write_frame(&p).unwrap();
        let out = w.out;
        let hdr = b"YUV4MPEG2 W2 H2 F25:1 Ip A1:1 C420jpeg\nFRAME\n";
        assert_eq!(&out[..hdr.len()], hdr);
        assert_eq!(&out[hdr.len()..], &[1, 2, 3, 4, 10, 20]);
    }

    #[test]
    fn p010_becomes_c420p10_little_endian() {
        // 2x2 P010: Y = 64 100 / 940 1023, CbCr = (512, 960); MSB-aligned.
        let y: Vec<u8> = [64u16, 100, 940, 1023]
            .iter()
            .flat_map(|v| (v << 6).to_le_bytes())
            .collect();
        let uv: Vec<u8> = [512u16, 960]
            .iter()
            .flat_map(|v| (v << 6).to_le_bytes())
            .collect();
        let p = PlanesRef {
            format: PixelFormat::P010,
            width: 2,
            height: 2,
            planes: [(&y, 4), (&uv, 4), (&[], 0)],
        };
        let mut w = Y4mWriter::new(Vec::new(), 2, 2, (25, 1), PixelFormat::P010).unwrap();
        w.write_frame(&p).unwrap();
        let out = w.out;
        let hdr = b"YUV4MPEG2 W2 H2 F25:1 Ip A1:1 C420p10\nFRAME\n";
        assert_eq!(&out[..hdr.len()], hdr);
        let samples: Vec<u16> = out[hdr.len()..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(samples, [64, 100, 940, 1023, 512, 960]);
    }

    #[test]
    fn short_plane_is_an_error_not_a_panic() {
        let y = [1u8, 2, 3];
        let p = PlanesRef {
            format: PixelFormat::Nv12,
            width: 2,
            height: 2,
            planes: [(&y, 2), (&[], 2), (&[], 0)],
        };
        let mut w = Y4mWriter::new(Vec::new(), 2, 2, (25, 1), PixelFormat::Nv12).unwrap();
        assert!(w.write_frame(&p).is_err());
    }
}
