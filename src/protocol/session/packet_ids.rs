//! Packet identifier allocation: a free-slot allocator over 1..=65535 shared by
//! PUBLISH, SUBSCRIBE and UNSUBSCRIBE. Ids are handed out round-robin and an id
//! is reused only after it has been released.

const WORDS: usize = 65536 / 64;

/// Ids in use at which the sorted list turns into a bitset.
const SPARSE_MAX: usize = 1024;

/// The ids in use: a sorted list while few are (the usual case, and an idle
/// session holds no memory at all), a 8 KiB bitset while many are.
enum Used {
    Sparse(Vec<u16>),
    Dense(Box<[u64; WORDS]>),
}

/// The ids in use plus a cursor for round-robin allocation.
pub struct PacketIdAllocator {
    used: Used,
    in_use: u32,
    /// The id the next search starts at (1..=65535).
    next: u16,
}

impl Default for PacketIdAllocator {
    fn default() -> Self {
        Self::new()
    }
}

/// The id after `id` in 1..=65535, wrapping.
fn after(id: u16) -> u16 {
    id.checked_add(1).unwrap_or(1)
}

impl PacketIdAllocator {
    /// An allocator with every id free; the first id handed out is 1.
    pub fn new() -> Self {
        PacketIdAllocator {
            used: Used::Sparse(Vec::new()),
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
        let id = match &mut self.used {
            Used::Sparse(list) => {
                // Fewer than 65535 ids are listed, so a free one exists; walk
                // from the cursor past the run of taken ids.
                let mut id = self.next;
                let mut i = list.partition_point(|&x| x < id);
                loop {
                    if i < list.len() && list[i] == id {
                        id = after(id);
                        i = if id == 1 { 0 } else { i + 1 };
                        continue;
                    }
                    break;
                }
                list.insert(i, id);
                if list.len() > SPARSE_MAX {
                    let mut bits = Box::new([0u64; WORDS]);
                    for &x in list.iter() {
                        bits[usize::from(x) / 64] |= 1u64 << (x % 64);
                    }
                    self.used = Used::Dense(bits);
                }
                id
            }
            Used::Dense(bits) => {
                let start = usize::from(self.next);
                let mut word = start / 64;
                let mut mask = !0u64 << (start % 64);
                // Id 0 is never free.
                let taken = |w: usize, v: u64| if w == 0 { v | 1 } else { v };
                let mut found = None;
                // WORDS + 1 iterations: the start word is visited again after
                // the wrap so its low bits (below the cursor) count too.
                for _ in 0..=WORDS {
                    let free = !taken(word, bits[word]) & mask;
                    if free != 0 {
                        let id = word * 64 + free.trailing_zeros() as usize;
                        bits[word] |= 1u64 << (id % 64);
                        found = u16::try_from(id).ok();
                        break;
                    }
                    word = (word + 1) % WORDS;
                    mask = !0u64;
                }
                found?
            }
        };
        self.in_use += 1;
        self.next = after(id);
        Some(id)
    }

    /// Mark `id` as taken (e.g. restoring persisted state). False if it was
    /// already taken or is 0.
    pub fn reserve(&mut self, id: u16) -> bool {
        if id == 0 || self.is_used(id) {
            return false;
        }
        match &mut self.used {
            Used::Sparse(list) => {
                let i = list.partition_point(|&x| x < id);
                list.insert(i, id);
            }
            Used::Dense(bits) => bits[usize::from(id) / 64] |= 1u64 << (id % 64),
        }
        self.in_use += 1;
        true
    }

    /// Free `id`. False if it was not in use.
    pub fn release(&mut self, id: u16) -> bool {
        if id == 0 || !self.is_used(id) {
            return false;
        }
        match &mut self.used {
            Used::Sparse(list) => {
                if let Ok(i) = list.binary_search(&id) {
                    list.remove(i);
                }
                if list.is_empty() && list.capacity() > 64 {
                    *list = Vec::new();
                }
            }
            Used::Dense(bits) => bits[usize::from(id) / 64] &= !(1u64 << (id % 64)),
        }
        self.in_use -= 1;
        if self.in_use == 0 && matches!(self.used, Used::Dense(_)) {
            self.used = Used::Sparse(Vec::new());
        }
        true
    }

    /// True if `id` is currently allocated.
    pub fn is_used(&self, id: u16) -> bool {
        id != 0
            && match &self.used {
                Used::Sparse(list) => list.binary_search(&id).is_ok(),
                Used::Dense(bits) => bits[usize::from(id) / 64] & (1u64 << (id % 64)) != 0,
            }
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
    fn sparse_and_dense_agree() {
        // Fill past the sparse limit, release in a pattern, and check the
        // allocator hands out exactly the ids a reference model expects.
        let mut a = PacketIdAllocator::new();
        let mut model = std::collections::BTreeSet::new();
        let mut cursor = 1u16;
        let mut rng = 12345u32;
        for _ in 0..20_000 {
            rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            if !rng.is_multiple_of(3) || model.is_empty() {
                let got = a.allocate().unwrap();
                let mut want = cursor;
                while model.contains(&want) {
                    want = after(want);
                }
                assert_eq!(got, want);
                model.insert(got);
                cursor = after(got);
            } else {
                let k = *model.iter().nth(rng as usize % model.len()).unwrap();
                assert!(a.release(k));
                model.remove(&k);
            }
            assert_eq!(a.in_use(), model.len());
        }
        assert!(model.len() > SPARSE_MAX, "the test reached the dense form");
        for k in model.clone() {
            assert!(a.is_used(k));
            assert!(a.release(k));
        }
        assert!(
            matches!(a.used, Used::Sparse(_)),
            "empty again: no bitset held"
        );
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
