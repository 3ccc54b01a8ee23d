//! `-o out.y4m`: writes frames in display order as YUV4MPEG2 4:2:0.
//!
//! Packed / tiled decoder formats are unpacked first
//! ([`vreq_frame::convert::LinearFrame`]): NC12 → NV12 (`C420jpeg`), NC30
//! and NV15 → P010 (`C420p10`), then cropped to the visible rectangle like
//! the linear formats.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{FrameSource, PresentError, Sink};
use vreq_frame::convert::LinearFrame;
use vreq_frame::y4m::Y4mWriter;
use vreq_frame::DecodedFrame;

/// A sink writing a Y4M file. Refuses to overwrite an existing file unless told to;
/// removes the file again if no frame was ever written.
pub struct Y4mSink {
    path: PathBuf,
    writer: Option<Y4mWriter<std::io::BufWriter<std::fs::File>>>,
    file: Option<std::fs::File>,
    fps: (u32, u32),
    /// Unpack buffer for NV15 / NC12 / NC30 frames, reused.
    scratch: LinearFrame,
}

impl Y4mSink {
    /// Creates `path` (error if it exists and `overwrite` is false). `fps` is num/den.
    pub fn create(path: &Path, overwrite: bool, fps: (u32, u32)) -> Result<Self, PresentError> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true);
        if overwrite {
            o.create(true).truncate(true);
        } else {
            o.create_new(true);
        }
        let file = o.open(path).map_err(|e| {
            PresentError::Io(format!(
                "{}: {e}{}",
                path.display(),
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    " (use --force to overwrite)"
                } else {
                    ""
                }
            ))
        })?;
        Ok(Y4mSink {
            path: path.to_owned(),
            writer: None,
            file: Some(file),
            fps,
            scratch: LinearFrame::default(),
        })
    }
}

impl Drop for Y4mSink {
    /// A file this sink created but never wrote a frame to (playback failed
    /// before the first frame) is removed rather than left empty.
    fn drop(&mut self) {
        if self.writer.is_none() && self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Sink for Y4mSink {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        _due: Option<std::time::Instant>,
    ) -> Result<(), PresentError> {
        let planes = src.planes(&frame)?;
        let err = |e: std::io::Error| PresentError::Io(format!("{}: {e}", self.path.display()));
        let planes = if planes.format.is_packed_or_tiled() {
            let target = planes.format.unpacked();
            self.scratch.unpack_from(&planes, target).map_err(|e| {
                PresentError::Io(format!(
                    "{}: frame pts {} ns: {e}",
                    self.path.display(),
                    frame.pts_ns
                ))
            })?;
            self.scratch.planes(frame.visible).ok_or_else(|| {
                PresentError::Io(format!(
                    "{}: frame pts {} ns: visible {:?} outside the {}x{} picture",
                    self.path.display(),
                    frame.pts_ns,
                    frame.visible,
                    planes.width,
                    planes.height
                ))
            })?
        } else {
            planes
        };
        if self.writer.is_none() {
            let f = self
                .file
                .take()
                .expect("file present until the first frame");
            self.writer = Some(
                Y4mWriter::new(
                    std::io::BufWriter::new(f),
                    planes.width,
                    planes.height,
                    self.fps,
                    planes.format,
                )
                .map_err(err)?,
            );
        }
        self.writer
            .as_mut()
            .expect("writer")
            .write_frame(&planes)
            .map_err(err)
    }

    fn finish(&mut self) -> Result<(), PresentError> {
        if let Some(w) = self.writer.as_mut() {
            w.inner_mut()
                .flush()
                .map_err(|e| PresentError::Io(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vreqplay-y4msink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn existing_file_is_refused_and_kept() {
        let p = tmp("mine.y4m");
        std::fs::write(&p, b"user data").unwrap();
        let err = Y4mSink::create(&p, false, (25, 1))
            .err()
            .expect("must refuse");
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), b"user data");
    }

    #[test]
    fn file_without_frames_is_removed() {
        let p = tmp("never-written.y4m");
        let _ = std::fs::remove_file(&p);
        let sink = Y4mSink::create(&p, false, (25, 1)).unwrap();
        assert!(p.exists());
        drop(sink);
        assert!(!p.exists());
    }
}
