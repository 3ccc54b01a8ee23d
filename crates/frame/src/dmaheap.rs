//! CPU-writable linear dmabufs (the FFI module of this crate: dma-heap,
//! udmabuf and dma-buf sync ioctls, mmap). Users: vreq-present's copy path
//! (a picture unpacked on the CPU, NC12 → NV12, NV15 / NC30 → P010, ..., is
//! written into a [`DmaBuf`] and handed to the compositor as a dmabuf, which
//! most compositors composite faster than a `wl_shm` buffer) and vreq-va's
//! export placeholder ([`system_heap_alloc`]).
//!
//! Two allocators, tried in this order by [`DmaBuf::alloc`]:
//! * `/dev/dma_heap/system` with `DMA_HEAP_IOCTL_ALLOC` (include/uapi/linux/dma-heap.h:
//!   `struct dma_heap_allocation_data { __u64 len; __u32 fd; __u32 fd_flags;
//!   __u64 heap_flags; }`, `_IOWR('H', 0x0, ...)`, `heap_flags` must be 0);
//! * `/dev/udmabuf` with `UDMABUF_CREATE` over a sealed memfd
//!   (include/uapi/linux/udmabuf.h: `struct udmabuf_create { __u32 memfd;
//!   __u32 flags; __u64 offset; __u64 size; }`, `_IOW('u', 0x42, ...)`; the
//!   kernel wants `F_SEAL_SHRINK` on the memfd and a page-multiple size).
//!
//! CPU access is bracketed with `DMA_BUF_IOCTL_SYNC` (include/uapi/linux/dma-buf.h:
//! `struct dma_buf_sync { __u64 flags; }`, `_IOW('b', 0, ...)`;
//! `DMA_BUF_SYNC_START` / `DMA_BUF_SYNC_END` | `DMA_BUF_SYNC_WRITE`), as the
//! header's comment asks. Both nodes are root-only on a system without udev
//! rules (tests/vm/trixie/PRESENT.md): the caller falls back to `wl_shm`
//! when neither opens.

use std::fs::OpenOptions;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};

/// Largest buffer we allocate, bytes (an 8K P010 picture is ~100 MB).
pub const MAX_DMABUF: usize = 128 << 20;

#[repr(C)]
struct DmaHeapAllocationData {
    len: u64,
    fd: u32,
    fd_flags: u32,
    heap_flags: u64,
}

#[repr(C)]
struct UdmabufCreate {
    memfd: u32,
    flags: u32,
    offset: u64,
    size: u64,
}

#[repr(C)]
struct DmaBufSync {
    flags: u64,
}

nix::ioctl_readwrite!(dma_heap_alloc, b'H', 0x0, DmaHeapAllocationData);
nix::ioctl_write_ptr!(udmabuf_create, b'u', 0x42, UdmabufCreate);
nix::ioctl_write_ptr!(dma_buf_sync, b'b', 0, DmaBufSync);

const DMA_BUF_SYNC_WRITE: u64 = 2;
const DMA_BUF_SYNC_START: u64 = 0;
const DMA_BUF_SYNC_END: u64 = 4;
const UDMABUF_FLAGS_CLOEXEC: u32 = 0x01;

/// Which allocator produced a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// `/dev/dma_heap/system`.
    DmaHeap,
    /// `/dev/udmabuf` over a memfd.
    Udmabuf,
}

/// A linear dmabuf mapped for CPU writes. Unmapped (and the fd closed) on drop.
pub struct DmaBuf {
    fd: OwnedFd,
    ptr: NonNull<u8>,
    len: usize,
    /// Where it came from.
    pub allocator: Allocator,
}

impl std::fmt::Debug for DmaBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmaBuf")
            .field("fd", &self.fd.as_raw_fd())
            .field("len", &self.len)
            .field("allocator", &self.allocator)
            .finish()
    }
}

fn page_align(len: usize) -> usize {
    len.next_multiple_of(4096)
}

/// A dmabuf of `len` bytes from `/dev/dma_heap/system`
/// (`DMA_HEAP_IOCTL_ALLOC`, include/uapi/linux/dma-heap.h: `_IOWR('H', 0x0,
/// struct dma_heap_allocation_data)`, `heap_flags` 0, `fd_flags` O_RDWR |
/// O_CLOEXEC), not mapped; the system heap hands out zeroed pages
/// (drivers/dma-buf/heaps/system_heap.c allocates with `__GFP_ZERO`). `len`
/// is passed as is (the heap rounds it up to pages). Errors name the node or
/// the ioctl (the node is root-only without a udev rule).
pub fn system_heap_alloc(len: usize) -> Result<OwnedFd, String> {
    let heap = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/dma_heap/system")
        .map_err(|e| format!("/dev/dma_heap/system: {e}"))?;
    let mut data = DmaHeapAllocationData {
        len: len as u64,
        fd: 0,
        fd_flags: (libc_o_rdwr() | libc_o_cloexec()) as u32,
        heap_flags: 0,
    };
    // SAFETY: `data` is a valid, initialised dma_heap_allocation_data that
    // lives for the call; the ioctl number matches its size (dma-heap.h).
    unsafe { dma_heap_alloc(heap.as_raw_fd(), &mut data) }
        .map_err(|e| format!("DMA_HEAP_IOCTL_ALLOC({len} bytes): {e}"))?;
    // SAFETY: on success the kernel returned a new dmabuf fd we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(data.fd as i32) })
}

fn alloc_udmabuf(len: usize) -> Result<OwnedFd, String> {
    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let dev = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/udmabuf")
        .map_err(|e| format!("/dev/udmabuf: {e}"))?;
    let name = c"vreqplay-copy";
    let memfd = memfd_create(
        name,
        MemFdCreateFlag::MFD_ALLOW_SEALING | MemFdCreateFlag::MFD_CLOEXEC,
    )
    .map_err(|e| format!("memfd_create: {e}"))?;
    // off_t: i64 on 64-bit targets, i32 on armhf (no LFS in nix's libc)
    let size =
        nix::libc::off_t::try_from(len).map_err(|_| format!("{len} bytes: too large for off_t"))?;
    nix::unistd::ftruncate(&memfd, size).map_err(|e| format!("ftruncate memfd: {e}"))?;
    fcntl(
        memfd.as_raw_fd(),
        FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SHRINK),
    )
    .map_err(|e| format!("F_ADD_SEALS(F_SEAL_SHRINK): {e}"))?;
    let create = UdmabufCreate {
        memfd: memfd.as_raw_fd() as u32,
        flags: UDMABUF_FLAGS_CLOEXEC,
        offset: 0,
        size: len as u64,
    };
    // SAFETY: `create` is a valid udmabuf_create for the duration of the call.
    let fd = unsafe { udmabuf_create(dev.as_raw_fd(), &create) }
        .map_err(|e| format!("UDMABUF_CREATE({len} bytes): {e}"))?;
    // SAFETY: UDMABUF_CREATE returns a new dmabuf fd on success; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn libc_o_rdwr() -> i32 {
    nix::fcntl::OFlag::O_RDWR.bits()
}

fn libc_o_cloexec() -> i32 {
    nix::fcntl::OFlag::O_CLOEXEC.bits()
}

impl DmaBuf {
    /// Allocates and maps a dmabuf of at least `len` bytes (rounded up to
    /// whole pages): dma-heap first, then udmabuf. Errors name every attempt
    /// (both nodes missing or not permitted is the usual case on desktops),
    /// or a size of 0 / above [`MAX_DMABUF`].
    pub fn alloc(len: usize) -> Result<DmaBuf, String> {
        if len == 0 || len > MAX_DMABUF {
            return Err(format!("dmabuf of {len} bytes refused (1..={MAX_DMABUF})"));
        }
        let len = page_align(len);
        let (fd, allocator) = match system_heap_alloc(len) {
            Ok(fd) => (fd, Allocator::DmaHeap),
            Err(heap) => match alloc_udmabuf(len) {
                Ok(fd) => (fd, Allocator::Udmabuf),
                Err(u) => return Err(format!("{heap}; {u}")),
            },
        };
        let size = NonZeroUsize::new(len).expect("len > 0");
        // SAFETY: a fresh shared mapping of a dmabuf fd we own, `len` bytes
        // (the buffer's size); nothing else aliases it in this process. It is
        // unmapped in Drop before the fd closes.
        let ptr = unsafe {
            mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &fd,
                0,
            )
        }
        .map_err(|e| format!("mmap dmabuf ({len} bytes): {e}"))?;
        Ok(DmaBuf {
            fd,
            ptr: ptr.cast(),
            len,
            allocator,
        })
    }

    /// The dmabuf fd (for `zwp_linux_buffer_params_v1.add`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Size in bytes (page-aligned).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: a 0-byte buffer is refused at allocation.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Runs `f` on the mapping as a byte slice, between
    /// `DMA_BUF_IOCTL_SYNC(START | WRITE)` and `(END | WRITE)`. The caller
    /// must not write into a buffer the compositor still holds (wait for
    /// `wl_buffer.release`). A failing sync ioctl is an error (after `END`
    /// was attempted).
    pub fn write_with<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, String> {
        let sync = |flags: u64, what: &str| {
            let s = DmaBufSync { flags };
            // SAFETY: `s` is a valid dma_buf_sync for the call; the fd is a dmabuf.
            unsafe { dma_buf_sync(self.fd.as_raw_fd(), &s) }
                .map(|_| ())
                .map_err(|e| format!("DMA_BUF_IOCTL_SYNC({what}): {e}"))
        };
        sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, "START|WRITE")?;
        // SAFETY: `ptr` maps `len` bytes read/write for as long as `self`
        // lives, and `&mut self` makes this the only reference to them.
        let slice = unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) };
        let r = f(slice);
        sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, "END|WRITE")?;
        Ok(r)
    }
}

impl Drop for DmaBuf {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping made in `alloc`, not used after this.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_capped_and_page_aligned() {
        assert!(DmaBuf::alloc(0).is_err());
        assert!(DmaBuf::alloc(MAX_DMABUF + 1)
            .unwrap_err()
            .contains("refused"));
        assert_eq!(page_align(1), 4096);
        assert_eq!(page_align(4096), 4096);
        assert_eq!(page_align(4097), 8192);
    }

    #[test]
    fn ioctl_numbers_match_the_uapi_headers() {
        // _IOWR('H', 0, 24 bytes) = 0xc0184800; _IOW('u', 0x42, 24) = 0x40187542;
        // _IOW('b', 0, 8) = 0x40086200 (computed from asm-generic/ioctl.h)
        assert_eq!(std::mem::size_of::<DmaHeapAllocationData>(), 24);
        assert_eq!(std::mem::size_of::<UdmabufCreate>(), 24);
        assert_eq!(
            nix::request_code_readwrite!(b'H', 0x0, std::mem::size_of::<DmaHeapAllocationData>()),
            0xc018_4800
        );
        assert_eq!(
            nix::request_code_write!(b'u', 0x42, std::mem::size_of::<UdmabufCreate>()),
            0x4018_7542
        );
        assert_eq!(
            nix::request_code_write!(b'b', 0, std::mem::size_of::<DmaBufSync>()),
            0x4008_6200
        );
    }

    /// Allocates, writes and reads back when this machine lets us (root in
    /// the VM); otherwise says why and passes (desktops have neither node).
    #[test]
    fn alloc_write_when_available() {
        match DmaBuf::alloc(10_000) {
            Ok(mut b) => {
                assert_eq!(b.len(), 12288);
                b.write_with(|s| s[..4].copy_from_slice(b"vreq")).unwrap();
                let first = b.write_with(|s| s[..4].to_vec()).unwrap();
                assert_eq!(first, b"vreq");
            }
            Err(e) => eprintln!("no dmabuf allocator here: {e}"),
        }
    }
}
