//! Outgoing QoS 1/2 publishes awaiting acknowledgement, kept in the order they
//! were first sent so that retries and redelivery after reconnect keep it.

use std::collections::VecDeque;
use std::time::Instant;

use crate::protocol::codec::Publish;

/// Where an outgoing QoS 1/2 publish is in its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutState {
    /// QoS 1: PUBLISH sent, waiting for PUBACK.
    AwaitPubAck,
    /// QoS 2: PUBLISH sent, waiting for PUBREC.
    AwaitPubRec,
    /// QoS 2: PUBREL sent, waiting for PUBCOMP.
    AwaitPubComp,
}

/// One unacknowledged publish.
#[derive(Debug, Clone)]
pub struct OutPublish {
    pub publish: Publish,
    pub state: OutState,
    /// When the current step (PUBLISH or PUBREL) was last queued.
    pub sent_at: Instant,
}

/// The in-flight table, in the order publishes were first sent (for ordered
/// resends). Acknowledgements nearly always come in that order too, so a
/// lookup from the front finds its entry at once; and a session with one
/// message in flight holds one entry, not a hash table (thousands of
/// clients per process).
#[derive(Debug, Default)]
pub struct Inflight {
    entries: VecDeque<OutPublish>,
}

impl Inflight {
    fn position(&self, id: u16) -> Option<usize> {
        self.entries.iter().position(|e| e.publish.packet_id == id)
    }

    /// Add a publish whose id is already allocated. False if the id is present.
    pub fn insert(&mut self, publish: Publish, state: OutState, now: Instant) -> bool {
        if self.position(publish.packet_id).is_some() {
            return false;
        }
        if self.entries.capacity() == 0 {
            self.entries.reserve_exact(1);
        }
        self.entries.push_back(OutPublish {
            publish,
            state,
            sent_at: now,
        });
        true
    }

    pub fn get(&self, id: u16) -> Option<&OutPublish> {
        self.position(id).map(|i| &self.entries[i])
    }

    pub fn get_mut(&mut self, id: u16) -> Option<&mut OutPublish> {
        let i = self.position(id)?;
        self.entries.get_mut(i)
    }

    pub fn remove(&mut self, id: u16) -> Option<OutPublish> {
        let i = self.position(id)?;
        self.entries.remove(i)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Ids in the order their publishes were first sent.
    pub fn ids_in_order(&self) -> Vec<u16> {
        self.entries.iter().map(|e| e.publish.packet_id).collect()
    }

    /// Remove everything, returning the ids that were present.
    pub fn drain_ids(&mut self) -> Vec<u16> {
        let ids = self.ids_in_order();
        self.entries.clear();
        ids
    }

    /// With nothing in flight, give the table's memory back (an idle
    /// session holds none).
    pub fn release_if_empty(&mut self) {
        if self.entries.is_empty() && self.entries.capacity() > 0 {
            self.entries = VecDeque::new();
        }
    }

    /// The earliest `sent_at` of any entry.
    pub fn oldest_sent_at(&self) -> Option<Instant> {
        self.entries.iter().map(|e| e.sent_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(id: u16) -> Publish {
        Publish {
            packet_id: id,
            topic: "t".into(),
            ..Publish::default()
        }
    }

    #[test]
    fn keeps_send_order_across_removals() {
        let now = Instant::now();
        let mut f = Inflight::default();
        assert!(f.insert(publish(9), OutState::AwaitPubAck, now));
        assert!(f.insert(publish(2), OutState::AwaitPubRec, now));
        assert!(f.insert(publish(5), OutState::AwaitPubAck, now));
        assert!(!f.insert(publish(2), OutState::AwaitPubAck, now));
        assert_eq!(f.ids_in_order(), vec![9, 2, 5]);
        assert_eq!(f.remove(2).map(|e| e.state), Some(OutState::AwaitPubRec));
        assert_eq!(f.ids_in_order(), vec![9, 5]);
        assert_eq!(f.len(), 2);
        assert_eq!(f.drain_ids(), vec![9, 5]);
        assert!(f.is_empty());
    }
}
