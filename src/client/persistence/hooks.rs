//! How a client uses its store: a record when a QoS 1/2 publish enters the
//! session, another when its PUBREC arrives, both removed when it completes;
//! a record when an incoming QoS 2 PUBLISH arrives, removed on its PUBREL;
//! MQTTAsync's buffered publishes as command records until they enter the
//! session. Read back by attach.rs, resumed by the first connect that
//! keeps the session, cleared by a clean one.

use std::time::Instant;

use super::commands::{CommandPublish, command_key, encode_command};
use super::records::{encode_publish, encode_pubrel, publish_key, pubrel_key, received_key};
use super::{
    PUBLISH_RECEIVED, PUBLISH_RECEIVED_V5, PUBLISH_SENT, PUBLISH_SENT_V5, PUBREL, PUBREL_V5, Store,
};
use crate::client::core::Core;
use crate::client::pending::Buffered;
use crate::client::trace::{self, trace};
use crate::protocol::codec::{ProtocolVersion, Publish, QoS};
use crate::protocol::session::client::ClientSession;

/// How an MQTTAsync client persists its offline buffer.
#[derive(Debug, Clone, Copy)]
pub struct CommandOptions {
    /// Created with MQTTVersion 5: `c5-` records with properties.
    pub v5: bool,
    /// Persist buffered QoS 0 publishes too.
    pub persist_qos0: bool,
    /// Replay the command records found at create.
    pub restore: bool,
}

fn report(r: Result<(), super::StoreError>, what: &str) {
    if let Err(e) = r {
        trace!(trace::ERROR, "persistence: {what}: {e}");
    }
}

impl Core {
    fn flow_v5(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.version() == ProtocolVersion::V5)
    }

    /// The current connection speaks MQTT 3.1 (no session-present flag).
    pub fn session_v31(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.version() == ProtocolVersion::V31)
    }

    fn store_mut(&mut self) -> Option<&mut (dyn Store + 'static)> {
        self.store.as_mut().map(|s| s.store.as_mut())
    }

    /// A QoS 1/2 publish entered the session as `id`: write its record
    /// before it can reach the wire (the caller holds the lock the reactor
    /// needs to send it).
    pub fn persist_sent(&mut self, id: u16) {
        let v5 = self.flow_v5();
        let (Some(cs), Some(session)) = (self.store.as_mut(), self.session.as_ref()) else {
            return;
        };
        let Some(publish) = session.inflight_publish(id) else {
            return;
        };
        let r = encode_publish(publish, v5).and_then(|b| cs.put(&publish_key(v5, id), b));
        report(r, &format!("publish {id}"));
    }

    /// The PUBREC of `id` arrived: record that its PUBREL is due.
    pub fn persist_released(&mut self, id: u16) {
        let v5 = self.flow_v5();
        if let Some(cs) = self.store.as_mut() {
            let r = encode_pubrel(id, v5).and_then(|b| cs.put(&pubrel_key(v5, id), b));
            report(r, &format!("PUBREL {id}"));
        }
    }

    /// The flow of `id` is over: its records go. A flow read from the
    /// store may have been written by a client of the other MQTT version
    /// (`s-` read back by an MQTT 5 connection): both keys go then.
    pub fn persist_completed(&mut self, id: u16) {
        let v5 = self.flow_v5();
        let Some(cs) = self.store.as_mut() else {
            return;
        };
        let resumed = match cs.resumed.iter().position(|&r| r == id) {
            Some(i) => {
                cs.resumed.swap_remove(i);
                true
            }
            None => false,
        };
        for key in [publish_key(v5, id), pubrel_key(v5, id)] {
            report(cs.store.remove(&key), "remove");
        }
        if resumed {
            for key in [publish_key(!v5, id), pubrel_key(!v5, id)] {
                report(cs.store.remove(&key), "remove");
            }
        }
    }

    /// An incoming QoS 2 PUBLISH arrived: keep it until its PUBREL. The
    /// record is written before the PUBREC can reach the wire (the reactor
    /// writes what the session queued only after routing its events).
    pub fn persist_received(&mut self, publish: &Publish) {
        let v5 = self.flow_v5();
        let id = publish.packet_id;
        if let Some(cs) = self.store.as_mut() {
            let r = encode_publish(publish, v5).and_then(|b| cs.put(&received_key(v5, id), b));
            report(r, &format!("received publish {id}"));
        }
    }

    /// The PUBREL of incoming `id` arrived: as Paho, the record of either
    /// version goes.
    pub fn persist_received_done(&mut self, id: u16) {
        if let Some(store) = self.store_mut() {
            for v5 in [false, true] {
                report(store.remove(&received_key(v5, id)), "remove");
            }
        }
    }

    /// A clean session (cleansession=1): as Paho, the store is emptied.
    pub fn persist_clear(&mut self) {
        if let Some(cs) = self.store.as_mut() {
            cs.restored.clear();
            cs.restored_incoming.clear();
            // Messages an earlier run queued are that session's too: Paho
            // drops them undelivered on a clean connect.
            cs.restored_queue.clear();
            cs.resumed.clear();
            report(cs.store.clear(), "clear");
        }
    }

    /// The server kept no session, so the session dropped its flows: their
    /// records go (buffered publishes keep theirs).
    pub fn persist_drop_flows(&mut self) {
        if let Some(cs) = self.store.as_mut() {
            cs.resumed.clear();
        }
        let Some(store) = self.store_mut() else {
            return;
        };
        let keys = match store.keys() {
            Ok(k) => k,
            Err(e) => return report(Err(e), "keys"),
        };
        for k in keys {
            let flow = [
                PUBLISH_SENT,
                PUBLISH_SENT_V5,
                PUBREL,
                PUBREL_V5,
                PUBLISH_RECEIVED,
                PUBLISH_RECEIVED_V5,
            ]
            .iter()
            .any(|p| k.starts_with(p));
            if flow {
                report(store.remove(&k), "remove");
            }
        }
    }

    /// A new session for a connect that keeps the session: the flows read
    /// at create go into it, to be resent after CONNACK.
    pub fn resume_restored(&mut self, session: &mut ClientSession, now: Instant) {
        let Some(cs) = self.store.as_mut() else {
            return;
        };
        for (publish, state) in std::mem::take(&mut cs.restored) {
            let id = publish.packet_id;
            if session.restore(publish, state, now) {
                cs.resumed.push(id);
            } else {
                trace!(trace::ERROR, "persistence: flow {id} not resumed");
            }
        }
        for (id, held) in std::mem::take(&mut cs.restored_incoming) {
            session.restore_incoming(id, held);
        }
    }

    /// A publish waits in the offline buffer: keep it as a command record
    /// (QoS 0 only with persistQoS0). Returns its sequence number (0: none).
    pub fn persist_buffered(&mut self, b: &Buffered) -> u32 {
        let Some(cs) = self.store.as_mut() else {
            return 0;
        };
        if b.qos == QoS::AtMostOnce && !cs.persist_qos0 {
            return 0;
        }
        cs.command_seqno = cs.command_seqno.checked_add(1).unwrap_or(1);
        let seqno = cs.command_seqno;
        let c = CommandPublish {
            token: b.token,
            topic: b.topic.clone(),
            payload: b.payload.clone(),
            qos: b.qos,
            retained: b.retained,
            properties: b.properties.clone(),
        };
        let v5 = cs.commands_v5;
        let r = encode_command(&c, v5).and_then(|rec| cs.put(&command_key(v5, seqno), rec));
        report(r, &format!("command {seqno}"));
        seqno
    }

    /// A buffered publish left the buffer (into the session, or dropped).
    pub fn persist_unbuffered(&mut self, seqno: u32) {
        if seqno == 0 {
            return;
        }
        if let Some(cs) = self.store.as_mut() {
            let key = command_key(cs.commands_v5, seqno);
            report(cs.store.remove(&key), "remove");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ClientStore;
    use super::super::file::FileStore;
    use super::*;
    use bytes::Bytes;

    #[test]
    fn buffered_publishes_become_command_records_through_before_write() {
        let t = tempfile::tempdir().unwrap();
        let store = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        let mut core = Core::new();
        core.store = Some(Box::new(ClientStore {
            before_write: Some(Box::new(|mut r: Vec<u8>| {
                r.reverse();
                Ok(r)
            })),
            ..ClientStore::new(Box::new(store))
        }));
        let b = |qos| Buffered {
            token: 4,
            topic: "t".into(),
            payload: Bytes::from_static(b"p"),
            qos,
            retained: false,
            properties: Default::default(),
            on_complete: None,
            seqno: 0,
        };
        assert_eq!(
            core.persist_buffered(&b(QoS::AtMostOnce)),
            0,
            "persistQoS0 off"
        );
        assert_eq!(core.persist_buffered(&b(QoS::AtLeastOnce)), 1);
        let path = t.path().join("id-h-1").join("c-1.msg");
        let mut stored = std::fs::read(&path).unwrap();
        stored.reverse();
        let c = super::super::commands::decode_command(&stored, false).unwrap();
        assert_eq!(
            (c.token, c.topic.as_str(), c.qos),
            (4, "t", QoS::AtLeastOnce)
        );
        core.persist_unbuffered(1);
        assert!(!path.exists());
    }

    #[test]
    fn a_resumed_flow_loses_the_records_of_either_version() {
        let t = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        for k in ["s5-3", "sc5-3", "s5-4"] {
            store.put(k, &[b"x"]).unwrap();
        }
        let mut core = Core::new();
        core.store = Some(Box::new(ClientStore {
            resumed: vec![3],
            ..ClientStore::new(Box::new(store))
        }));
        // No session: an MQTT 3 flow, whose records were written by MQTT 5.
        core.persist_completed(3);
        core.persist_completed(4);
        let dir = t.path().join("id-h-1");
        assert!(!dir.join("s5-3.msg").exists() && !dir.join("sc5-3.msg").exists());
        assert!(dir.join("s5-4.msg").exists(), "4 was not resumed");
    }
}
