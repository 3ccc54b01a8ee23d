//! Object heaps: one per VA object type, IDs never reused within a process.
//!
//! VA IDs (`VAConfigID`, `VASurfaceID`, … all `VAGenericID`, C `unsigned int`)
//! are handed out from a per-type range, so an ID of one type is never a
//! valid ID of another, and counted up without reuse, so a stale ID (of a
//! destroyed object) stays invalid for the life of the process. A range that
//! runs out refuses new objects (the caller returns
//! `VA_STATUS_ERROR_ALLOCATION_FAILED`) rather than reuse an ID.
//! `VA_INVALID_ID` (0xFFFFFFFF, va.h) is never handed out.

use std::collections::BTreeMap;

/// The ID range of one object type: IDs `base ..= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub base: u32,
    pub last: u32,
}

/// `VAConfigID`s: 0x1000_0000 ..= 0x1FFF_FFFF (2^28 configs).
pub const CONFIG_IDS: IdRange = IdRange {
    base: 0x1000_0000,
    last: 0x1FFF_FFFF,
};
/// `VAContextID`s: 0x2000_0000 ..= 0x2FFF_FFFF.
pub const CONTEXT_IDS: IdRange = IdRange {
    base: 0x2000_0000,
    last: 0x2FFF_FFFF,
};
/// `VASurfaceID`s: 0x3000_0000 ..= 0x3FFF_FFFF.
pub const SURFACE_IDS: IdRange = IdRange {
    base: 0x3000_0000,
    last: 0x3FFF_FFFF,
};
/// `VAImageID`s: 0x4000_0000 ..= 0x4FFF_FFFF.
pub const IMAGE_IDS: IdRange = IdRange {
    base: 0x4000_0000,
    last: 0x4FFF_FFFF,
};
/// `VABufferID`s, the ones clients create by the thousand per minute:
/// 0x8000_0000 ..= 0xFFFF_FFFE (2^31 − 1 buffers: 40 days at 600 a second).
pub const BUFFER_IDS: IdRange = IdRange {
    base: 0x8000_0000,
    last: 0xFFFF_FFFE,
};

/// Why [`Heap::insert`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapFull {
    /// Every ID of the range has been handed out once.
    IdsExhausted,
    /// `max_live` objects exist already.
    TooMany,
}

/// Live objects of one type by ID.
#[derive(Debug)]
pub struct Heap<T> {
    range: IdRange,
    /// The next ID to hand out; `None` once past `range.last`.
    next: Option<u32>,
    max_live: usize,
    live: BTreeMap<u32, T>,
}

impl<T> Heap<T> {
    /// An empty heap handing out IDs of `range`, holding at most `max_live`
    /// objects at a time (a bound on what a client can make us allocate).
    pub fn new(range: IdRange, max_live: usize) -> Self {
        Heap {
            range,
            next: Some(range.base),
            max_live,
            live: BTreeMap::new(),
        }
    }

    /// Stores `obj` under a fresh ID.
    pub fn insert(&mut self, obj: T) -> Result<u32, HeapFull> {
        if self.live.len() >= self.max_live {
            return Err(HeapFull::TooMany);
        }
        let id = self.next.ok_or(HeapFull::IdsExhausted)?;
        self.next = id.checked_add(1).filter(|&n| n <= self.range.last);
        self.live.insert(id, obj);
        Ok(id)
    }

    pub fn get(&self, id: u32) -> Option<&T> {
        self.live.get(&id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.live.get_mut(&id)
    }

    /// Removes and returns the object; `None` for an unknown or stale ID.
    pub fn remove(&mut self, id: u32) -> Option<T> {
        self.live.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// The live objects with their IDs, in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.live.iter().map(|(&id, v)| (id, v))
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused() {
        let mut h = Heap::new(CONFIG_IDS, 4);
        let a = h.insert('a').unwrap();
        assert_eq!(a, CONFIG_IDS.base);
        assert_eq!(h.remove(a), Some('a'));
        let b = h.insert('b').unwrap();
        assert_ne!(a, b);
        assert_eq!(h.get(a), None, "stale id");
        assert_eq!(h.remove(a), None, "stale id twice");
        assert_eq!(h.get(b), Some(&'b'));
    }

    #[test]
    fn ranges_are_disjoint_and_exclude_invalid_id() {
        let rs = [CONFIG_IDS, CONTEXT_IDS, SURFACE_IDS, IMAGE_IDS, BUFFER_IDS];
        for (i, a) in rs.iter().enumerate() {
            assert!(a.base <= a.last && a.last != u32::MAX && a.base != 0);
            for b in &rs[i + 1..] {
                assert!(a.last < b.base || b.last < a.base, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn exhaustion_and_live_limit() {
        let mut h = Heap::new(IdRange { base: 10, last: 11 }, 8);
        assert_eq!(h.insert(()), Ok(10));
        assert_eq!(h.insert(()), Ok(11));
        h.remove(10);
        assert_eq!(h.insert(()), Err(HeapFull::IdsExhausted));
        let mut h = Heap::new(BUFFER_IDS, 1);
        h.insert(()).unwrap();
        assert_eq!(h.insert(()), Err(HeapFull::TooMany));
        let mut h = Heap::new(
            IdRange {
                base: u32::MAX - 1,
                last: u32::MAX,
            },
            8,
        );
        assert_eq!(h.insert(()), Ok(u32::MAX - 1));
        assert_eq!(h.insert(()), Ok(u32::MAX));
        assert_eq!(h.insert(()), Err(HeapFull::IdsExhausted));
    }
}
