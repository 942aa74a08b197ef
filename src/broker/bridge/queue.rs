//! The bridge's outgoing queue: messages the local broker handed to the
//! bridge that the remote has not taken yet. [`OutQueue`] is the seam a
//! persistent store can back; [`MemQueue`] is the bounded in-memory one.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::protocol::codec::{Properties, QoS};

/// One message for the remote broker, its topic already mapped.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    pub properties: Properties,
    /// The local broker's packet id for it (0 at QoS 0): acknowledged to the
    /// local broker once the message is handed to the remote side.
    pub local_id: u16,
}

/// Where outgoing messages wait, in order. `push` never blocks (it runs on
/// the reactor); a full queue refuses and counts the message as dropped.
pub trait OutQueue: Send + Sync {
    /// Append; false when the queue is full (the message is dropped).
    fn push(&self, m: Outgoing) -> bool;
    /// The oldest message, taken out.
    fn pop(&self) -> Option<Outgoing>;
    /// Put a message taken by `pop` back at the front (it could not be sent).
    fn unpop(&self, m: Outgoing);
    fn len(&self) -> usize;
    /// The most it holds.
    fn capacity(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Messages refused because the queue was full.
    fn dropped(&self) -> u64;
}

/// A bounded in-memory [`OutQueue`].
pub struct MemQueue {
    items: Mutex<VecDeque<Outgoing>>,
    max: usize,
    dropped: AtomicU64,
}

impl MemQueue {
    pub fn new(max: usize) -> MemQueue {
        MemQueue {
            items: Mutex::new(VecDeque::new()),
            max: max.max(1),
            dropped: AtomicU64::new(0),
        }
    }

    fn items(&self) -> std::sync::MutexGuard<'_, VecDeque<Outgoing>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl OutQueue for MemQueue {
    fn push(&self, m: Outgoing) -> bool {
        let mut q = self.items();
        if q.len() >= self.max {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.push_back(m);
        true
    }

    fn pop(&self) -> Option<Outgoing> {
        self.items().pop_front()
    }

    fn unpop(&self, m: Outgoing) {
        self.items().push_front(m);
    }

    fn len(&self) -> usize {
        self.items().len()
    }

    fn capacity(&self) -> usize {
        self.max
    }

    fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(t: &str) -> Outgoing {
        Outgoing {
            topic: t.into(),
            payload: Bytes::new(),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties::default(),
            local_id: 0,
        }
    }

    #[test]
    fn bounded_ordered_and_counts_drops() {
        let q = MemQueue::new(2);
        assert!(q.push(msg("a")) && q.push(msg("b")));
        assert!(!q.push(msg("c")));
        assert_eq!((q.len(), q.dropped()), (2, 1));
        let a = q.pop().unwrap();
        assert_eq!(a.topic, "a");
        q.unpop(a);
        let order: Vec<String> = std::iter::from_fn(|| q.pop()).map(|m| m.topic).collect();
        assert_eq!(order, ["a", "b"]);
        assert!(q.is_empty());
    }
}
