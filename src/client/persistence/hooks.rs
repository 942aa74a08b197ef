//! How a client uses its store: a record when a QoS 1/2 publish enters the
//! session, another when its PUBREC arrives, both removed when it completes;
//! read back at create, resumed by the first connect that keeps the
//! session, cleared by a clean one.

use std::sync::Arc;
use std::time::Instant;

use super::Store;
use super::records::{self, encode_publish, encode_pubrel, publish_key, pubrel_key};
use crate::client::core::{Core, Shared};
use crate::client::error::ClientError;
use crate::client::trace::{self, trace};
use crate::protocol::codec::ProtocolVersion;
use crate::protocol::session::client::ClientSession;

impl Core {
    fn store_v5(&self) -> bool {
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

    /// A QoS 1/2 publish entered the session as `id`: write its record
    /// before it can reach the wire (the caller holds the lock the reactor
    /// needs to send it).
    pub fn persist_sent(&mut self, id: u16) {
        let v5 = self.store_v5();
        let (Some(store), Some(session)) = (self.store.as_mut(), self.session.as_ref()) else {
            return;
        };
        let Some(publish) = session.inflight_publish(id) else {
            return;
        };
        let r = encode_publish(publish, v5).and_then(|b| store.put(&publish_key(v5, id), &[&b]));
        if let Err(e) = r {
            trace!(trace::ERROR, "persistence: publish {id}: {e}");
        }
    }

    /// The PUBREC of `id` arrived: record that its PUBREL is due.
    pub fn persist_released(&mut self, id: u16) {
        let v5 = self.store_v5();
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let r = encode_pubrel(id, v5).and_then(|b| store.put(&pubrel_key(v5, id), &[&b]));
        if let Err(e) = r {
            trace!(trace::ERROR, "persistence: PUBREL {id}: {e}");
        }
    }

    /// The flow of `id` is over: its records go.
    pub fn persist_completed(&mut self, id: u16) {
        let v5 = self.store_v5();
        let Some(store) = self.store.as_mut() else {
            return;
        };
        for key in [publish_key(v5, id), pubrel_key(v5, id)] {
            if let Err(e) = store.remove(&key) {
                trace!(trace::ERROR, "persistence: {e}");
            }
        }
    }

    /// The session starts clean (cleansession=1, or the server kept
    /// nothing): as Paho, the store is emptied.
    pub fn persist_clear(&mut self) {
        self.restored.clear();
        if let Some(store) = self.store.as_mut()
            && let Err(e) = store.clear()
        {
            trace!(trace::ERROR, "persistence: {e}");
        }
    }

    /// A new session for a connect that keeps the session: the flows read
    /// at create go into it, to be resent after CONNACK.
    pub fn resume_restored(&mut self, session: &mut ClientSession, now: Instant) {
        for (publish, state) in std::mem::take(&mut self.restored) {
            let id = publish.packet_id;
            if !session.restore(publish, state, now) {
                trace!(trace::ERROR, "persistence: flow {id} not resumed");
            }
        }
    }
}

impl Shared {
    /// Give the client its store and read it back (at create).
    pub fn attach_store(&self, mut store: Box<dyn Store>) -> Result<(), ClientError> {
        let restored = records::restore(store.as_mut()).map_err(|e| {
            trace!(trace::ERROR, "persistence: {e}");
            ClientError::Persistence
        })?;
        if !restored.entries.is_empty() {
            trace!(
                trace::MINIMUM,
                "persistence: {} outgoing flows to resume",
                restored.entries.len()
            );
        }
        let mut core = self.lock();
        core.restored = restored.entries;
        core.store = Some(store);
        Ok(())
    }

    /// Close the store (at destroy), outside the client's lock.
    pub fn detach_store(self: &Arc<Self>) {
        let store = self.lock().store.take();
        if let Some(mut s) = store
            && let Err(e) = s.close()
        {
            trace!(trace::ERROR, "persistence: {e}");
        }
    }
}
