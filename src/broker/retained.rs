//! Retained messages: one per topic, set/replaced by a retained PUBLISH,
//! cleared by an empty one, dropped when their expiry interval runs out.

use foldhash::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::message::Message;
use crate::protocol::codec::topic::topic_matches;

#[derive(Debug, Default)]
pub(crate) struct Retained {
    by_topic: HashMap<String, Arc<Message>>,
}

impl Retained {
    /// Stores (or, for an empty payload, clears) the retained message.
    pub fn store(&mut self, msg: &Arc<Message>) {
        if msg.payload.is_empty() {
            self.by_topic.remove(&msg.topic);
        } else {
            self.by_topic.insert(msg.topic.clone(), msg.clone());
        }
    }

    /// Unexpired retained messages matching `filter`, oldest topics unordered.
    pub fn matching(&mut self, filter: &str, now: Instant) -> Vec<Arc<Message>> {
        self.by_topic.retain(|_, m| !m.expired(now));
        self.by_topic
            .values()
            .filter(|m| topic_matches(filter, &m.topic))
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.by_topic.len()
    }
}
