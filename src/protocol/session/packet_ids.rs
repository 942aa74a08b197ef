//! Packet identifier allocation: a free-slot allocator over 1..=65535 shared by
//! PUBLISH, SUBSCRIBE and UNSUBSCRIBE. Ids are handed out round-robin and an id
//! is reused only after it has been released.

const WORDS: usize = 65536 / 64;

/// A bitset of the ids in use plus a cursor for round-robin allocation.
pub struct PacketIdAllocator {
    bits: Box<[u64; WORDS]>,
    in_use: u32,
    /// The id the next search starts at (1..=65535).
    next: u16,
}

impl Default for PacketIdAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketIdAllocator {
    /// An allocator with every id free; the first id handed out is 1.
    pub fn new() -> Self {
        let mut bits = Box::new([0u64; WORDS]);
        // Id 0 is not a valid packet identifier: keep it permanently taken.
        bits[0] = 1;
        PacketIdAllocator {
            bits,
            in_use: 0,
            next: 1,
        }
    }

    /// The lowest free id at or after the cursor (wrapping), or `None` when
    /// all 65535 ids are in use.
    pub fn allocate(&mut self) -> Option<u16> {
        if self.in_use >= u32::from(u16::MAX) {
            return None;
        }
        let start = usize::from(self.next);
        let mut word = start / 64;
        let mut mask = !0u64 << (start % 64);
        // WORDS + 1 iterations: the start word is visited again after the wrap
        // so its low bits (below the cursor) are considered too.
        for _ in 0..=WORDS {
            let free = !self.bits[word] & mask;
            if free != 0 {
                let id = word * 64 + free.trailing_zeros() as usize;
                self.bits[word] |= 1u64 << (id % 64);
                self.in_use += 1;
                let id = u16::try_from(id).ok()?;
                self.next = id.checked_add(1).unwrap_or(1);
                return Some(id);
            }
            word = (word + 1) % WORDS;
            mask = !0u64;
        }
        None
    }

    /// Mark `id` as taken (e.g. restoring persisted state). False if it was
    /// already taken or is 0.
    pub fn reserve(&mut self, id: u16) -> bool {
        if id == 0 || self.is_used(id) {
            return false;
        }
        self.bits[usize::from(id) / 64] |= 1u64 << (id % 64);
        self.in_use += 1;
        true
    }

    /// Free `id`. False if it was not in use.
    pub fn release(&mut self, id: u16) -> bool {
        if id == 0 || !self.is_used(id) {
            return false;
        }
        self.bits[usize::from(id) / 64] &= !(1u64 << (id % 64));
        self.in_use -= 1;
        true
    }

    /// True if `id` is currently allocated.
    pub fn is_used(&self, id: u16) -> bool {
        id != 0 && self.bits[usize::from(id) / 64] & (1u64 << (id % 64)) != 0
    }

    /// How many ids are allocated.
    pub fn in_use(&self) -> usize {
        self.in_use as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_advance() {
        let mut a = PacketIdAllocator::new();
        assert_eq!(a.allocate(), Some(1));
        assert_eq!(a.allocate(), Some(2));
        assert_eq!(a.allocate(), Some(3));
        assert_eq!(a.in_use(), 3);
    }

    #[test]
    fn released_id_is_not_reused_until_the_cursor_wraps() {
        let mut a = PacketIdAllocator::new();
        assert_eq!(a.allocate(), Some(1));
        assert_eq!(a.allocate(), Some(2));
        assert!(a.release(1));
        assert_eq!(a.allocate(), Some(3));
        assert!(!a.release(1), "double release is refused");
    }

    #[test]
    fn wraps_after_65535_and_skips_ids_in_use() {
        let mut a = PacketIdAllocator::new();
        for expected in 1..=65535u16 {
            assert_eq!(a.allocate(), Some(expected));
        }
        assert_eq!(a.allocate(), None, "all ids taken");
        assert!(a.release(7));
        assert!(a.release(65535));
        assert!(a.release(3));
        // The cursor is past 65535, so the search wraps to the lowest free id.
        assert_eq!(a.allocate(), Some(3));
        assert_eq!(a.allocate(), Some(7));
        assert_eq!(a.allocate(), Some(65535));
        assert_eq!(a.allocate(), None);
        assert_eq!(a.in_use(), 65535);
    }

    #[test]
    fn zero_is_never_allocated_or_released() {
        let mut a = PacketIdAllocator::new();
        assert!(!a.release(0));
        assert!(!a.reserve(0));
        assert!(!a.is_used(0));
        assert!(a.reserve(1));
        assert_eq!(a.allocate(), Some(2));
    }
}
