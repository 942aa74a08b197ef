//! The bridge's outgoing queue: messages the local broker handed to the
//! bridge that the remote has not taken yet. [`OutQueue`] is the seam a
//! persistent store can back; [`MemQueue`] is the bounded in-memory one.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

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

/// Where outgoing messages wait, in order. Both sides move messages in
/// batches, one lock per batch. `push_all` never blocks (it runs on the
/// reactor); a full queue refuses and counts what does not fit as dropped.
pub trait OutQueue: Send + Sync {
    /// Append `ms` in order (emptying it) as far as there is room; returns
    /// how many went in: the first ones. The rest are dropped.
    fn push_all(&self, ms: &mut Vec<Outgoing>) -> usize;
    /// Move at most `max` of the oldest messages to the end of `into`.
    fn take(&self, max: usize, into: &mut Vec<Outgoing>);
    /// Put messages taken by `take` back at the front, in their order (they
    /// could not be sent).
    fn give_back(&self, ms: Vec<Outgoing>);
    /// Drop everything queued (not counted: the caller still holds them
    /// elsewhere).
    fn clear(&self);
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
    fn push_all(&self, ms: &mut Vec<Outgoing>) -> usize {
        let mut q = self.items();
        let room = self.max.saturating_sub(q.len()).min(ms.len());
        let refused = (ms.len() - room) as u64;
        if refused > 0 {
            self.dropped.fetch_add(refused, Ordering::Relaxed);
        }
        q.extend(ms.drain(..).take(room));
        room
    }

    fn take(&self, max: usize, into: &mut Vec<Outgoing>) {
        let mut q = self.items();
        let n = max.min(q.len());
        into.extend(q.drain(..n));
    }

    fn give_back(&self, ms: Vec<Outgoing>) {
        let mut q = self.items();
        for m in ms.into_iter().rev() {
            q.push_front(m);
        }
    }

    fn clear(&self) {
        self.items().clear();
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

/// For a durable bridge (persistence on): messages handed to the remote
/// side and not acknowledged by it yet, by client token, with their local
/// `(packet id, QoS)`. They are acknowledged to the local broker only once
/// the remote has them, so until then they stay in flight in the store.
#[derive(Debug, Default)]
pub struct Owed {
    on: AtomicBool,
    map: Mutex<HashMap<i32, (u16, QoS)>>,
    done: Mutex<Vec<(u16, QoS)>>,
}

impl Owed {
    pub(crate) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// The map: held while handing a batch over, so no completion can
    /// come before its entry is in.
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<i32, (u16, QoS)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The remote acknowledged `token`.
    pub(crate) fn complete(&self, token: i32) {
        if let Some(local) = self.lock().remove(&token) {
            self.done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(local);
        }
    }

    /// Move the completed ones to `into`.
    pub(crate) fn take_done(&self, into: &mut Vec<(u16, QoS)>) {
        into.append(&mut self.done.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// True when the message with local packet id `id` is still owed (the
    /// client will send it again itself).
    pub(crate) fn owes(&self, id: u16) -> bool {
        self.lock().values().any(|&(i, _)| i == id)
    }

    /// The client dropped what it held (a clean session): nothing is owed;
    /// the local broker sends those messages again.
    pub(crate) fn forget(&self) {
        self.lock().clear();
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

    fn topics(ms: &[Outgoing]) -> Vec<&str> {
        ms.iter().map(|m| m.topic.as_str()).collect()
    }

    #[test]
    fn bounded_ordered_and_counts_drops() {
        let q = MemQueue::new(3);
        let mut batch = vec![msg("a"), msg("b")];
        assert_eq!(q.push_all(&mut batch), 2);
        assert!(batch.is_empty());
        let mut batch = vec![msg("c"), msg("d"), msg("e")];
        assert_eq!(q.push_all(&mut batch), 1);
        assert_eq!((q.len(), q.dropped()), (3, 2));
        let mut got = Vec::new();
        q.take(2, &mut got);
        assert_eq!(topics(&got), ["a", "b"]);
        q.give_back(got);
        let mut got = Vec::new();
        q.take(10, &mut got);
        assert_eq!(topics(&got), ["a", "b", "c"]);
        assert!(q.is_empty());
        q.give_back(got);
        q.clear();
        assert_eq!((q.len(), q.dropped()), (0, 2));
    }
}
