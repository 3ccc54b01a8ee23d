//! EBML (RFC 8794) element headers and values over a buffered file window.
//!
//! [`Source`] reads the file with positioned reads (`pread`, no `lseek`)
//! through one window of [`WINDOW`] bytes, so that walking element headers
//! costs one system call per window, not per element (the issue-17
//! benchmark saw a read/lseek pair per element on this path). Payloads
//! larger than the window are read straight into their own buffer.
//!
//! [`Header`]: an Element ID (RFC 8794 §5, 1–4 bytes; longer IDs are
//! refused) and an Element Data Size (§6, a VINT of 1–8 bytes; all value
//! bits set = unknown size, §6.2).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes of the file window.
pub const WINDOW: usize = 64 << 10;
/// Bytes of the second, small window for look-ups away from the reading
/// position (a resync candidate's next element, a Cluster's end).
pub const AUX_WINDOW: usize = 4 << 10;

/// A file read through a window of [`WINDOW`] bytes.
pub struct Source {
    file: File,
    /// File size in bytes.
    pub len: u64,
    /// File offset of `buf[0]`.
    at: u64,
    buf: Vec<u8>,
    /// File offset of `aux[0]` and the small look-up window.
    aux_at: u64,
    aux: Vec<u8>,
    /// Bytes read per small-window load ([`AUX_WINDOW`]; smaller in tests).
    pub aux_window: usize,
    /// Bytes read per window load ([`WINDOW`]; smaller in tests).
    pub window: usize,
    /// Bytes read from the file so far (the tests' measure of a seek).
    pub read_bytes: Arc<AtomicU64>,
}

/// An element header: where it starts, its ID, where its data starts and
/// its data size (`None`: unknown, RFC 8794 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// File offset of the Element ID's first byte.
    pub pos: u64,
    /// The Element ID with its marker bits (as the specs write it: `0x1A45DFA3`).
    pub id: u32,
    /// File offset of the element's data.
    pub data: u64,
    /// Element Data Size in bytes; `None` for an unknown size.
    pub size: Option<u64>,
}

impl Header {
    /// The end of the element's data, if its size is known (saturating).
    pub fn end(&self) -> Option<u64> {
        self.size.map(|s| self.data.saturating_add(s))
    }
}

/// Parses an element header from `d` (its first byte at file offset
/// `pos`): `None` if the bytes are not one (a VINT_WIDTH over 4 for the ID
/// or 8 for the size, an ID of all 1s, or too few bytes).
pub fn header_in(d: &[u8], pos: u64) -> Option<Header> {
    let b0 = *d.first()?;
    let il = b0.leading_zeros() as usize + 1;
    if il > 4 {
        return None;
    }
    let id = d
        .get(..il)?
        .iter()
        .fold(0u32, |a, &x| (a << 8) | u32::from(x));
    // An ID whose VINT_DATA is all 1s is reserved (RFC 8794 §5).
    if id == (1u32 << (7 * il as u32)) * 2 - 1 {
        return None;
    }
    let (size, sl) = vint(d.get(il..)?)?;
    Some(Header {
        pos,
        id,
        data: pos + (il + sl) as u64,
        size,
    })
}

/// A VINT (RFC 8794 §4): (value or `None` if all value bits are set, its
/// length in bytes).
pub fn vint(d: &[u8]) -> Option<(Option<u64>, usize)> {
    let s0 = *d.first()?;
    let sl = s0.leading_zeros() as usize + 1;
    if sl > 8 {
        return None;
    }
    let mut v = u64::from(s0) & (0xff >> sl);
    for &x in d.get(1..sl)? {
        v = (v << 8) | u64::from(x);
    }
    let unknown = v == (1u64 << (7 * sl)) - 1;
    Some(((!unknown).then_some(v), sl))
}

/// An EBML unsigned integer (RFC 8794 §7.2): 0–8 bytes big-endian.
pub fn uint(d: &[u8]) -> Option<u64> {
    (d.len() <= 8).then(|| d.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
}

/// An EBML signed integer (RFC 8794 §7.1): 0–8 bytes, two's complement.
pub fn int(d: &[u8]) -> Option<i64> {
    let n = d.len();
    if n == 0 {
        return Some(0);
    }
    let raw = uint(d)?;
    let shift = 64 - 8 * n as u32;
    Some(((raw << shift) as i64) >> shift)
}

/// An EBML float (RFC 8794 §7.3): 0, 4 or 8 bytes.
pub fn float(d: &[u8]) -> Option<f64> {
    match d.len() {
        0 => Some(0.0),
        4 => Some(f64::from(f32::from_be_bytes(d.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(d.try_into().ok()?)),
        _ => None,
    }
}

/// The children of the master element data `d` (whose first byte is at
/// file offset `base`): their headers and data. Stops at the first child
/// that is not a header or whose size is unknown or overruns `d`.
pub fn children(d: &[u8], base: u64) -> impl Iterator<Item = (Header, &[u8])> {
    let mut p = 0usize;
    std::iter::from_fn(move || {
        let h = header_in(d.get(p..)?, base + p as u64)?;
        let start = p + (h.data - h.pos) as usize;
        let end = start.checked_add(usize::try_from(h.size?).ok()?)?;
        let payload = d.get(start..end)?;
        p = end;
        Some((h, payload))
    })
}

impl Source {
    pub fn new(file: File, read_bytes: Arc<AtomicU64>) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Source {
            file,
            len,
            at: 0,
            buf: Vec::new(),
            aux_at: 0,
            aux: Vec::new(),
            aux_window: AUX_WINDOW,
            window: WINDOW,
            read_bytes,
        })
    }

    /// Up to `n` bytes at `pos` (fewer at the end of the file), from the
    /// window; `n` ≤ [`WINDOW`].
    pub fn peek(&mut self, pos: u64, n: usize) -> std::io::Result<&[u8]> {
        let n = n.min(WINDOW);
        let end = pos.saturating_add(n as u64).min(self.len);
        let have = self.at..self.at + self.buf.len() as u64;
        if pos < have.start || end > have.end || pos > self.len {
            self.fill(pos, n)?;
        }
        let s = (pos.saturating_sub(self.at)) as usize;
        let e = (end.saturating_sub(self.at)) as usize;
        Ok(self.buf.get(s..e.max(s)).unwrap_or(&[]))
    }

    /// Up to `n` (≤ [`AUX_WINDOW`], ≥ 16) bytes at `pos` from the main window if
    /// it holds them, else from the small window (loaded at `pos` if
    /// needed): a look-up that leaves the main window where it is.
    pub fn peek_far(&mut self, pos: u64, n: usize) -> std::io::Result<&[u8]> {
        let n = n.min(self.aux_window.max(16));
        let end = pos.saturating_add(n as u64).min(self.len);
        let main = self.at..self.at + self.buf.len() as u64;
        if pos >= main.start && end <= main.end && pos <= self.len {
            let s = (pos - self.at) as usize;
            let e = (end - self.at) as usize;
            return Ok(&self.buf[s..e.max(s)]);
        }
        let aux = self.aux_at..self.aux_at + self.aux.len() as u64;
        if pos < aux.start || end > aux.end || pos > self.len {
            let p = pos.min(self.len);
            let k = (self.len - p).min(self.aux_window.max(16) as u64) as usize;
            self.aux_at = p;
            load_window(&self.file, &mut self.aux, p, k)?;
            self.read_bytes.fetch_add(k as u64, Ordering::Relaxed);
        }
        let s = (pos.saturating_sub(self.aux_at)) as usize;
        let e = (end.saturating_sub(self.aux_at)) as usize;
        Ok(self.aux.get(s..e.max(s)).unwrap_or(&[]))
    }

    /// The element header at `pos` read through [`Self::peek_far`].
    pub fn header_far(&mut self, pos: u64) -> std::io::Result<Option<Header>> {
        let d = self.peek_far(pos, 12)?;
        Ok(header_in(d, pos))
    }

    /// Loads the window at `pos`, at least `want` bytes of it.
    fn fill(&mut self, pos: u64, want: usize) -> std::io::Result<()> {
        let pos = pos.min(self.len);
        let n = (self.len - pos).min(self.window.max(want) as u64) as usize;
        self.at = pos;
        load_window(&self.file, &mut self.buf, pos, n)?;
        self.read_bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Exactly `n` bytes at `pos` into a new buffer (`None` past the end
    /// of the file). The caller caps `n`.
    pub fn read(&mut self, pos: u64, n: usize) -> std::io::Result<Option<Vec<u8>>> {
        let mut v = Vec::new();
        Ok(self.read_into(pos, n, &mut v)?.then_some(v))
    }

    /// [`Self::read`] into `out` (replacing its contents, reusing its
    /// storage): `false` past the end of the file (`out` then empty).
    pub fn read_into(&mut self, pos: u64, n: usize, out: &mut Vec<u8>) -> std::io::Result<bool> {
        out.clear();
        if pos.saturating_add(n as u64) > self.len {
            return Ok(false);
        }
        if n <= WINDOW {
            out.extend_from_slice(self.peek(pos, n)?);
            return Ok(true);
        }
        out.resize(n, 0);
        self.file
            .read_exact_at(out, pos)
            .inspect_err(|_| out.clear())?;
        self.read_bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(true)
    }

    /// The element header at `pos`, `None` if the bytes there are not one.
    pub fn header(&mut self, pos: u64) -> std::io::Result<Option<Header>> {
        let d = self.peek(pos, 12)?;
        Ok(header_in(d, pos))
    }

    /// A small element's data (≤ 8 bytes) read as an unsigned integer
    /// ([`uint`]), without a buffer; `None` if larger or past the end of
    /// the file.
    pub fn small_uint(&mut self, h: &Header) -> std::io::Result<Option<u64>> {
        match h.size {
            Some(s) if s <= 8 && h.data.saturating_add(s) <= self.len => {
                let d = self.peek(h.data, s as usize)?;
                Ok(if d.len() == s as usize { uint(d) } else { None })
            }
            _ => Ok(None),
        }
    }
}

/// Fills `buf` with the `n` bytes of `file` at `pos` (one `pread`); on an
/// error `buf` is left empty, so no stale bytes are served as the new
/// position's. Both windows of the reader load through it.
fn load_window(file: &File, buf: &mut Vec<u8>, pos: u64, n: usize) -> std::io::Result<()> {
    buf.resize(n, 0);
    file.read_exact_at(buf, pos).inspect_err(|_| buf.clear())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_and_headers() {
        // RFC 8794 §4.4: 1 as a 1..8-byte VINT.
        assert_eq!(vint(&[0x81]), Some((Some(1), 1)));
        assert_eq!(vint(&[0x40, 0x01]), Some((Some(1), 2)));
        assert_eq!(vint(&[0x01, 0, 0, 0, 0, 0, 0, 1]), Some((Some(1), 8)));
        // Unknown size at any length (§6.2).
        assert_eq!(vint(&[0xff]), Some((None, 1)));
        assert_eq!(
            vint(&[0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Some((None, 8))
        );
        assert_eq!(vint(&[0x00, 1]), None);
        assert_eq!(vint(&[0x40]), None);
        let h = header_in(
            &[
                0x1f, 0x43, 0xb6, 0x75, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            10,
        )
        .unwrap();
        assert_eq!((h.id, h.data, h.size), (0x1F43_B675, 22, None));
        assert_eq!(header_in(&[0xff, 0x81], 0), None, "reserved ID");
        assert_eq!(int(&[0xff, 0xfe]), Some(-2));
        assert_eq!(float(&[0x3f, 0x80, 0, 0]), Some(1.0));
        let d = [0xe7, 0x81, 0x05, 0xa3, 0x82, 1, 2, 0xa3];
        let c: Vec<_> = children(&d, 100)
            .map(|(h, p)| (h.id, h.pos, p.to_vec()))
            .collect();
        assert_eq!(c, vec![(0xe7, 100, vec![5]), (0xa3, 103, vec![1, 2])]);
    }
}
