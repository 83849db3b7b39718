//! Per-channel stats slot allocation: each installed binding owns one index of the per-CPU
//! channel stats array until it is removed.

/// Free-list allocator over `0..capacity`; O(1) alloc and free, bounded memory.
#[derive(Debug)]
pub struct SlotAllocator {
    free: Vec<u32>,
}

impl SlotAllocator {
    pub fn new(capacity: u32) -> Self {
        // Reversed so slot 0 is handed out first (easier to read in bpftool dumps).
        SlotAllocator { free: (0..capacity).rev().collect() }
    }

    pub fn alloc(&mut self) -> Option<u32> {
        self.free.pop()
    }

    pub fn free(&mut self, slot: u32) {
        self.free.push(slot);
    }

    #[cfg(test)]
    pub fn available(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_until_full_then_reuses() {
        let mut a = SlotAllocator::new(2);
        assert_eq!(a.alloc(), Some(0));
        assert_eq!(a.alloc(), Some(1));
        assert_eq!(a.alloc(), None);
        a.free(0);
        assert_eq!(a.available(), 1);
        assert_eq!(a.alloc(), Some(0));
    }
}
