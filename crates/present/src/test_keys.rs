//! The test hook `VREQ_TEST_KEYS` ([`crate::wayland::WindowOptions::test_keys`],
//! [`crate::kms::KmsOptions::test_keys`]): a file or FIFO of key names, one
//! per line, as xkbcommon names keysyms (`Right`, `space`, `Escape`,
//! `Page_Up`, `greater`; case-sensitive, `xkb_keysym_from_name`). The window
//! and the kiosk ([`crate::kiosk_input`]) feed each to the same keysym →
//! action mapping as a key press ([`crate::keys::keysym_action`]; no
//! modifiers, no repeat), so `f` and `Escape` work through it too.
//!
//! The file is opened non-blocking and read from the sink's event loop:
//! its fd is polled with the Wayland socket or the DRM fd (a line written to
//! a FIFO wakes a waiting sink) and read when readable. A regular file is read to its
//! end and then closed. A FIFO's end of file (every writer closed) reopens
//! it, so a test may write to it again and the closed writer's `POLLHUP`
//! does not wake the loop forever (a freshly opened FIFO reports no hang-up
//! until a writer came and went). Unknown names are skipped with a warning;
//! a line longer than [`MAX_LINE`] bytes is dropped (bounded memory).

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::keys::{keysym_from_name, Keysym};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Longest line kept (bytes); a longer one is dropped with a warning.
pub const MAX_LINE: usize = 256;

/// Most bytes read per call (the rest waits for the next pump).
const READ_CHUNK: usize = 64 * 1024;

/// The open key-name file / FIFO.
#[derive(Debug)]
pub struct TestKeys {
    path: PathBuf,
    /// `None` once a regular file was read to its end.
    file: Option<File>,
    fifo: bool,
    /// Bytes of the line not finished yet.
    partial: Vec<u8>,
    /// The current line is longer than [`MAX_LINE`]: skip to its newline.
    overlong: bool,
}

impl TestKeys {
    /// Opens `path` read-only, non-blocking (a FIFO without a writer opens
    /// at once). Errors: the file cannot be opened (`<path>: <error>`).
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = Self::open_file(path)?;
        let fifo = file
            .metadata()
            .map(|m| m.file_type().is_fifo())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TestKeys {
            path: path.to_owned(),
            file: Some(file),
            fifo,
            partial: Vec::new(),
            overlong: false,
        })
    }

    fn open_file(path: &Path) -> Result<File, String> {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The fd to poll for input (`None` once a regular file was read out).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.file.as_ref().map(|f| f.as_fd())
    }

    /// A regular file read to its end: nothing more will come.
    pub fn is_done(&self) -> bool {
        self.file.is_none()
    }

    /// Whether the fd has something (data, end of file) to read now.
    fn readable(&self) -> bool {
        let Some(fd) = self.fd() else { return false };
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
    }

    /// The keysyms of the complete lines available now, oldest first (never
    /// blocks). Empty lines are skipped, unknown names warned about.
    pub fn take_keysyms(&mut self) -> Vec<Keysym> {
        let mut out = Vec::new();
        if !self.readable() {
            return out;
        }
        let mut buf = vec![0u8; 4096];
        let mut total = 0;
        while total < READ_CHUNK {
            let Some(f) = self.file.as_mut() else { break };
            match f.read(&mut buf) {
                Ok(0) => {
                    self.end_of_file(&mut out);
                    break;
                }
                Ok(n) => {
                    total += n;
                    for &b in &buf[..n] {
                        self.byte(b, &mut out);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::warn!("test keys {}: {e}; no more keys", self.path.display());
                    self.file = None;
                    break;
                }
            }
        }
        out
    }

    /// End of file: a regular file is done (its last line counts without a
    /// newline); a FIFO is reopened for the next writer.
    fn end_of_file(&mut self, out: &mut Vec<Keysym>) {
        self.byte(b'\n', out);
        if !self.fifo {
            self.file = None;
            return;
        }
        match Self::open_file(&self.path) {
            Ok(f) => self.file = Some(f),
            Err(e) => {
                tracing::warn!("test keys: reopening {e}; no more keys");
                self.file = None;
            }
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Keysym>) {
        if b != b'\n' {
            if self.partial.len() >= MAX_LINE {
                self.overlong = true;
                self.partial.clear();
            }
            if !self.overlong {
                self.partial.push(b);
            }
            return;
        }
        if std::mem::take(&mut self.overlong) {
            tracing::warn!(
                "test keys {}: a line longer than {MAX_LINE} bytes skipped",
                self.path.display()
            );
        } else {
            let line = String::from_utf8_lossy(&self.partial);
            let name = line.trim();
            if !name.is_empty() {
                match keysym_from_name(name) {
                    Some(s) => out.push(s),
                    None => tracing::warn!(
                        "test keys {}: {name:?} is not an xkbcommon keysym name; skipped",
                        self.path.display()
                    ),
                }
            }
        }
        self.partial.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vreq-test-keys-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn regular_file_read_to_the_end_then_closed() {
        let p = tmp("keys.txt");
        let long = "x".repeat(MAX_LINE + 10);
        std::fs::write(
            &p,
            format!("Right\nspace\n\nbogus\n{long}\nEscape\n  Page_Up \nq"),
        )
        .unwrap();
        let mut k = TestKeys::open(&p).unwrap();
        assert!(!k.is_done());
        assert_eq!(
            k.take_keysyms(),
            vec![
                Keysym::Right,
                Keysym::space,
                Keysym::Escape,
                Keysym::Page_Up,
                Keysym::q
            ]
        );
        assert!(k.is_done(), "closed at its end");
        assert!(k.take_keysyms().is_empty());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let p = tmp("absent");
        let e = TestKeys::open(&p).unwrap_err();
        assert!(e.contains("absent"), "{e}");
    }

    #[test]
    fn fifo_lines_arrive_as_written_and_eof_reopens_without_spinning() {
        let p = tmp("keys.fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // opening without a writer does not block; nothing to read, not readable
        let mut k = TestKeys::open(&p).unwrap();
        assert!(k.take_keysyms().is_empty());
        assert!(!k.readable(), "no writer yet: no hang-up reported");
        let mut w = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        // a partial line waits for its newline
        w.write_all(b"o\nperi").unwrap();
        assert_eq!(k.take_keysyms(), vec![Keysym::o]);
        w.write_all(b"od\n").unwrap();
        assert_eq!(k.take_keysyms(), vec![Keysym::period]);
        assert!(k.take_keysyms().is_empty(), "writer open, nothing new");
        drop(w);
        // the writer's close: end of file → reopened, nothing read, and the
        // new fd reports nothing (a loop polling it does not spin)
        assert!(k.take_keysyms().is_empty());
        assert!(!k.is_done());
        assert!(!k.readable(), "reopened FIFO still reports a hang-up");
        // a second writer is heard
        let mut w = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        w.write_all(b"f\nless\n").unwrap();
        assert_eq!(k.take_keysyms(), vec![Keysym::f, Keysym::less]);
        drop(w);
        std::fs::remove_file(&p).unwrap();
    }
}
