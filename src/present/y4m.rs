//! `-o out.y4m`: writes frames in display order as YUV4MPEG2 4:2:0.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{FrameSource, PresentError, Sink};
use crate::engine::DecodedFrame;
use crate::frame::y4m::Y4mWriter;

/// A sink writing a Y4M file. Refuses to overwrite an existing file unless told to.
pub struct Y4mSink {
    path: PathBuf,
    writer: Option<Y4mWriter<std::io::BufWriter<std::fs::File>>>,
    file: Option<std::fs::File>,
    fps: (u32, u32),
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
        })
    }
}

impl Sink for Y4mSink {
    fn show(&mut self, frame: DecodedFrame, src: &dyn FrameSource) -> Result<(), PresentError> {
        let planes = src.planes(&frame);
        let err = |e: std::io::Error| PresentError::Io(format!("{}: {e}", self.path.display()));
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
