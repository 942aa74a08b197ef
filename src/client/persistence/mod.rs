//! Client persistence as Paho C does it: one store interface ([`Store`]) with
//! two implementations, Paho's file layout ([`file::FileStore`]) and the
//! application's callback table (in `src/ffi`), plus the record formats.

mod attach;
pub mod commands;
pub mod file;
mod hooks;
pub mod queue;

pub use attach::{AfterRead, BeforeWrite};
pub use hooks::CommandOptions;
pub mod records;

use std::fmt;

/// Key prefix of an outgoing QoS 1/2 PUBLISH (MQTT 3.x), followed by its id.
pub const PUBLISH_SENT: &str = "s-";
/// Key prefix of an outgoing PUBLISH (MQTT 5).
pub const PUBLISH_SENT_V5: &str = "s5-";
/// Key prefix of the PUBREL of an outgoing QoS 2 publish (MQTT 3.x).
pub const PUBREL: &str = "sc-";
/// Key prefix of the PUBREL of an outgoing QoS 2 publish (MQTT 5).
pub const PUBREL_V5: &str = "sc5-";
/// Key prefix of an incoming QoS 2 PUBLISH waiting for its PUBREL (MQTT
/// 3.x: not delivered yet, it is on the PUBREL).
pub const PUBLISH_RECEIVED: &str = "r-";
/// Key prefix of an incoming QoS 2 PUBLISH waiting for its PUBREL (MQTT 5:
/// already delivered).
pub const PUBLISH_RECEIVED_V5: &str = "r5-";

/// A store operation failed (Paho's MQTTCLIENT_PERSISTENCE_ERROR, or the
/// code a user callback returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The code to report: a user callback's own non-zero code, else -2.
    pub code: i32,
    pub what: String,
}

impl StoreError {
    pub fn new(what: impl Into<String>) -> StoreError {
        StoreError {
            code: -2,
            what: what.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.what, self.code)
    }
}

/// Paho's MQTTClient_persistence interface: a key-value store of one
/// client's records, opened at create and closed at destroy.
pub trait Store: Send {
    /// Store the concatenation of `parts` under `key`, replacing any record.
    fn put(&mut self, key: &str, parts: &[&[u8]]) -> Result<(), StoreError>;
    /// The record under `key`.
    fn get(&mut self, key: &str) -> Result<Vec<u8>, StoreError>;
    /// Remove `key` (absent is not an error).
    fn remove(&mut self, key: &str) -> Result<(), StoreError>;
    /// Every key in the store.
    fn keys(&mut self) -> Result<Vec<String>, StoreError>;
    /// Remove every record.
    fn clear(&mut self) -> Result<(), StoreError>;
    /// Whether `key` is present.
    fn contains_key(&mut self, key: &str) -> bool;
    /// Close the store (at destroy).
    fn close(&mut self) -> Result<(), StoreError>;
}

/// A client's store and what the client keeps about it.
pub struct ClientStore {
    pub store: Box<dyn Store>,
    /// Outgoing flows read back at create, waiting for the first connect
    /// that keeps the session.
    pub restored: Vec<(
        crate::protocol::codec::Publish,
        crate::protocol::session::inflight::OutState,
    )>,
    /// SUBSCRIBE/UNSUBSCRIBE commands read back, with their keys, to send
    /// once connected.
    pub restored_requests: Vec<(String, commands::Command)>,
    /// Ids of flows read back and put in the session, not yet complete.
    pub resumed: Vec<u16>,
    /// Incoming QoS 2 flows read back at create (with the message when it
    /// is still to be delivered), waiting for the first connect that keeps
    /// the session.
    pub restored_incoming: Vec<(u16, Option<crate::protocol::codec::Publish>)>,
    /// Received messages an earlier run queued for the application (Paho's
    /// `q-` records), to deliver first after connect.
    pub restored_queue: Vec<queue::Queued>,
    /// The last command sequence number used (MQTTAsync's `c-<seqno>`).
    pub command_seqno: u32,
    /// Command records use MQTT 5's keys and layout (created with MQTTVersion 5).
    pub commands_v5: bool,
    /// Buffered QoS 0 publishes are persisted too (MQTTAsync's persistQoS0).
    pub persist_qos0: bool,
    /// MQTTAsync_setBeforePersistenceWrite's transform.
    pub before_write: Option<BeforeWrite>,
    /// MQTTAsync_setAfterPersistenceRead's transform.
    pub after_read: Option<AfterRead>,
    /// Not read back yet (MQTTAsync, until its first connect); true when
    /// buffered publishes of an earlier run are to be replayed.
    pub unread: Option<bool>,
}

/// The server URI as Paho hands it to a store's open: without its
/// `scheme://` prefix.
pub fn uri_for_store(server_uri: &str) -> &str {
    match server_uri.find("://") {
        Some(i) => &server_uri[i + 3..],
        None => server_uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_is_stripped_as_paho_does() {
        assert_eq!(uri_for_store("tcp://h:1"), "h:1");
        assert_eq!(uri_for_store("mqtt://h:2"), "h:2");
        assert_eq!(uri_for_store("ws://h:3/p"), "h:3/p");
        assert_eq!(uri_for_store("localhost:4"), "localhost:4");
    }
}
