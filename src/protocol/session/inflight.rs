//! Outgoing QoS 1/2 publishes awaiting acknowledgement, kept in the order they
//! were first sent so that retries and redelivery after reconnect keep it.

use std::collections::{BTreeMap, HashMap};
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
    seq: u64,
}

/// The in-flight table: by id for acks, by sequence for ordered resends.
#[derive(Debug, Default)]
pub struct Inflight {
    entries: HashMap<u16, OutPublish>,
    order: BTreeMap<u64, u16>,
    next_seq: u64,
}

impl Inflight {
    /// Add a publish whose id is already allocated. False if the id is present.
    pub fn insert(&mut self, publish: Publish, state: OutState, now: Instant) -> bool {
        let id = publish.packet_id;
        if self.entries.contains_key(&id) {
            return false;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, id);
        self.entries.insert(
            id,
            OutPublish {
                publish,
                state,
                sent_at: now,
                seq,
            },
        );
        true
    }

    pub fn get(&self, id: u16) -> Option<&OutPublish> {
        self.entries.get(&id)
    }

    pub fn get_mut(&mut self, id: u16) -> Option<&mut OutPublish> {
        self.entries.get_mut(&id)
    }

    pub fn remove(&mut self, id: u16) -> Option<OutPublish> {
        let entry = self.entries.remove(&id)?;
        self.order.remove(&entry.seq);
        Some(entry)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Ids in the order their publishes were first sent.
    pub fn ids_in_order(&self) -> Vec<u16> {
        self.order.values().copied().collect()
    }

    /// Remove everything, returning the ids that were present.
    pub fn drain_ids(&mut self) -> Vec<u16> {
        let ids = self.ids_in_order();
        self.entries.clear();
        self.order.clear();
        ids
    }

    /// With nothing in flight, give the table's memory back (an idle
    /// session holds none).
    pub fn release_if_empty(&mut self) {
        if self.entries.is_empty() && self.entries.capacity() > 0 {
            self.entries = HashMap::default();
        }
    }

    /// The earliest `sent_at` of any entry.
    pub fn oldest_sent_at(&self) -> Option<Instant> {
        self.entries.values().map(|e| e.sent_at).min()
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
