//! Retained messages: one per topic, set/replaced by a retained PUBLISH,
//! cleared by an empty one, dropped when their expiry interval runs out.
//! Indexed by a tree of topic levels, so a filter visits only the branches
//! it can match (an exact topic is one walk down; `#` is its subtree), never
//! every retained message.

use foldhash::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::message::Message;

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    msg: Option<Arc<Message>>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.msg.is_none() && self.children.is_empty()
    }

    /// Every message in this subtree (this node's included).
    fn collect_all(&self, skip_dollar: bool, out: &mut Vec<Arc<Message>>) {
        let mut stack = vec![(self, skip_dollar)];
        while let Some((node, skip)) = stack.pop() {
            out.extend(node.msg.iter().cloned());
            for (key, child) in &node.children {
                if !(skip && key.starts_with('$')) {
                    stack.push((child, false));
                }
            }
        }
    }

    /// Messages under this node matching the filter levels `rest`; `root`:
    /// this is the first level, where wildcards skip `$` topics.
    fn collect(&self, rest: &[&str], root: bool, out: &mut Vec<Arc<Message>>) {
        let Some((&level, tail)) = rest.split_first() else {
            out.extend(self.msg.iter().cloned());
            return;
        };
        match level {
            // "a/#" also matches "a" itself (this node).
            "#" => self.collect_all(root, out),
            "+" => {
                for (key, child) in &self.children {
                    if !(root && key.starts_with('$')) {
                        child.collect(tail, false, out);
                    }
                }
            }
            exact => {
                if let Some(child) = self.children.get(exact) {
                    child.collect(tail, false, out);
                }
            }
        }
    }

    /// Removes the message at `levels` (pruning emptied branches).
    fn remove(&mut self, levels: &[&str]) -> Option<Arc<Message>> {
        let Some((&level, tail)) = levels.split_first() else {
            return self.msg.take();
        };
        let child = self.children.get_mut(level)?;
        let gone = child.remove(tail);
        if child.is_empty() {
            self.children.remove(level);
        }
        gone
    }
}

#[derive(Debug, Default)]
pub(crate) struct Retained {
    root: Node,
    len: usize,
}

impl Retained {
    /// Stores (or, for an empty payload, clears) the retained message.
    pub fn store(&mut self, msg: &Arc<Message>) {
        if msg.payload.is_empty() {
            self.remove(&msg.topic);
            return;
        }
        let mut node = &mut self.root;
        for level in msg.topic.split('/') {
            node = node.children.entry(level.into()).or_default();
        }
        if node.msg.replace(msg.clone()).is_none() {
            self.len += 1;
        }
    }

    /// The message retained on exactly `topic`.
    pub fn get(&self, topic: &str) -> Option<&Arc<Message>> {
        let mut node = &self.root;
        for level in topic.split('/') {
            node = node.children.get(level)?;
        }
        node.msg.as_ref()
    }

    fn remove(&mut self, topic: &str) {
        let levels: Vec<&str> = topic.split('/').collect();
        if self.root.remove(&levels).is_some() {
            self.len -= 1;
        }
    }

    /// Unexpired retained messages matching `filter`, in no set order.
    /// Expired ones met on the way are removed.
    pub fn matching(&mut self, filter: &str, now: Instant) -> Vec<Arc<Message>> {
        let levels: Vec<&str> = filter.split('/').collect();
        let mut out = Vec::new();
        self.root.collect(&levels, true, &mut out);
        if out.iter().any(|m| m.expired(now)) {
            for m in out.iter().filter(|m| m.expired(now)) {
                self.remove(&m.topic);
            }
            out.retain(|m| !m.expired(now));
        }
        out
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::topic::topic_matches;
    use crate::protocol::codec::{Properties, QoS};
    use bytes::Bytes;

    fn msg(topic: &str, payload: &'static str) -> Arc<Message> {
        Arc::new(Message::new(
            topic.into(),
            Bytes::from_static(payload.as_bytes()),
            QoS::AtLeastOnce,
            true,
            &Properties::default(),
            None,
            Instant::now(),
        ))
    }

    const TOPICS: [&str; 12] = [
        "a", "a/b", "a/b/c", "a/c", "b", "/", "/a", "a/", "$SYS/x", "$SYS", "x/$y", "a/b/c/d",
    ];
    const FILTERS: [&str; 16] = [
        "#",
        "+",
        "a",
        "a/#",
        "a/+",
        "+/b",
        "+/+",
        "a/b/#",
        "/#",
        "+/#",
        "$SYS/#",
        "$SYS",
        "+/+/c",
        "x/+",
        "a/+/c/#",
        "nothing/#",
    ];

    /// Every filter finds exactly what matching each topic one by one finds.
    #[test]
    fn the_index_agrees_with_topic_matching() {
        let mut r = Retained::default();
        for t in TOPICS {
            r.store(&msg(t, "v"));
        }
        assert_eq!(r.len(), TOPICS.len());
        let now = Instant::now();
        for f in FILTERS {
            let mut got: Vec<String> = r.matching(f, now).iter().map(|m| m.topic.clone()).collect();
            got.sort();
            let mut want: Vec<String> = TOPICS
                .iter()
                .filter(|t| topic_matches(f, t))
                .map(|t| t.to_string())
                .collect();
            want.sort();
            assert_eq!(got, want, "filter {f}");
        }
    }

    #[test]
    fn replace_and_clear_keep_the_count() {
        let mut r = Retained::default();
        r.store(&msg("a/b", "1"));
        r.store(&msg("a/b", "2"));
        r.store(&msg("a", "3"));
        assert_eq!(r.len(), 2);
        let now = Instant::now();
        assert_eq!(&r.matching("a/b", now)[0].payload[..], b"2");
        r.store(&msg("a/b", ""));
        r.store(&msg("never/stored", ""));
        assert_eq!(r.len(), 1);
        assert!(r.matching("a/b", now).is_empty());
        r.store(&msg("a", ""));
        assert_eq!(r.len(), 0);
        assert!(r.root.is_empty(), "empty branches are pruned");
    }
}
