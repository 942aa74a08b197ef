//! MQTTClient semantics: a handle whose calls block until the reactor reports
//! completion, with optional callbacks on a dispatcher thread.

use std::time::Duration;

use bytes::Bytes;

use super::error::ClientError;
use crate::protocol::codec::{Properties, QoS, ReasonCode, SubscriptionOptions, Will};

/// What MQTTClient_createWithOptions adds to create.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// MQTTVERSION_DEFAULT (0), 3, 4 or 5. 5 is required for the `*5` calls.
    pub mqtt_version: i32,
}

/// MQTTClient_connectOptions, converted and checked.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub keep_alive: Duration,
    /// cleansession (3.x).
    pub clean_session: bool,
    /// cleanstart (5).
    pub clean_start: bool,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
    pub connect_timeout: Duration,
    pub retry_interval: Duration,
    /// MQTTVERSION_DEFAULT (0: 3.1.1 then 3.1), 3, 4 or 5.
    pub mqtt_version: i32,
    /// Tried in turn; empty means the URI given at create.
    pub server_uris: Vec<String>,
    pub max_inflight: u16,
    /// CONNECT properties (MQTT 5).
    pub properties: Properties,
}

/// `returned` of the connect options, plus the MQTT 5 response.
#[derive(Debug, Clone, Default)]
pub struct ConnectResult {
    pub server_uri: String,
    pub mqtt_version: i32,
    pub session_present: bool,
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// An application message as the API sees it.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub payload: Bytes,
    pub qos: QoS,
    pub retained: bool,
    pub dup: bool,
    pub msgid: u16,
    pub properties: Properties,
}

/// Result of a publish: the delivery token and the MQTT 5 response.
#[derive(Debug, Clone, Default)]
pub struct PublishResult {
    pub token: i32,
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// SUBACK/UNSUBACK codes (one per filter) and properties.
#[derive(Debug, Clone, Default)]
pub struct AckResult {
    pub codes: Vec<ReasonCode>,
    pub properties: Properties,
}

/// The callbacks of MQTTClient_setCallbacks. They run on the client's
/// dispatcher thread, never on the reactor, with no client lock held.
pub trait Callbacks: Send + Sync {
    /// The connection was lost (not called for a disconnect we asked for).
    fn connection_lost(&self, cause: Option<&str>);
    /// A message arrived. Return true when it was taken; false asks for the
    /// same message to be offered again later (Paho semantics).
    fn message_arrived(&self, topic: &str, message: &Message) -> bool;
    /// A QoS 1/2 publish with this token completed.
    fn delivery_complete(&self, token: i32);
}

/// MQTTClient_setDisconnected: the server sent DISCONNECT (MQTT 5).
pub type DisconnectedFn = Box<dyn Fn(&Properties, ReasonCode) + Send + Sync>;
/// MQTTClient_setPublished: (token, packet type, properties, reason code).
pub type PublishedFn = Box<dyn Fn(i32, i32, &Properties, ReasonCode) + Send + Sync>;

/// A synchronous client handle.
pub struct Client {
    _todo: (),
}

impl Client {
    /// MQTTClient_create(WithOptions) with persistence NONE: validates the
    /// URI (scheme tcp://, mqtt://, ws://, ssl://, mqtts://, wss:// or none).
    pub fn new(
        server_uri: &str,
        client_id: &str,
        options: CreateOptions,
    ) -> Result<Client, ClientError> {
        let _ = (server_uri, client_id, options);
        todo!("client")
    }

    /// Install (or with `None` remove) callbacks; fails while connected.
    pub fn set_callbacks(&self, callbacks: Option<Box<dyn Callbacks>>) -> Result<(), ClientError> {
        let _ = callbacks;
        todo!()
    }

    /// MQTTClient_setDisconnected.
    pub fn set_disconnected(&self, cb: Option<DisconnectedFn>) -> Result<(), ClientError> {
        let _ = cb;
        todo!()
    }

    /// MQTTClient_setPublished.
    pub fn set_published(&self, cb: Option<PublishedFn>) -> Result<(), ClientError> {
        let _ = cb;
        todo!()
    }

    /// Connect and wait for CONNACK (or failure) within the connect timeout.
    pub fn connect(&self, options: ConnectOptions) -> Result<ConnectResult, ClientError> {
        let _ = options;
        todo!()
    }

    /// Disconnect, letting in-flight work finish for up to `timeout`.
    pub fn disconnect(
        &self,
        timeout: Duration,
        reason: ReasonCode,
        properties: Properties,
    ) -> Result<(), ClientError> {
        let _ = (timeout, reason, properties);
        todo!()
    }

    pub fn is_connected(&self) -> bool {
        todo!()
    }

    /// Queue a publish; the token completes on PUBACK/PUBCOMP (QoS 0: once written).
    pub fn publish(
        &self,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retained: bool,
        properties: Properties,
    ) -> Result<PublishResult, ClientError> {
        let _ = (topic, payload, qos, retained, properties);
        todo!()
    }

    /// Subscribe and wait for SUBACK.
    pub fn subscribe_many(
        &self,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    ) -> Result<AckResult, ClientError> {
        let _ = (filters, properties);
        todo!()
    }

    /// Unsubscribe and wait for UNSUBACK.
    pub fn unsubscribe_many(
        &self,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<AckResult, ClientError> {
        let _ = (filters, properties);
        todo!()
    }

    /// Wait until the publish with `token` completes, or fail after `timeout`.
    pub fn wait_for_completion(&self, token: i32, timeout: Duration) -> Result<(), ClientError> {
        let _ = (token, timeout);
        todo!()
    }

    /// Tokens of publishes not yet complete.
    pub fn pending_tokens(&self) -> Vec<i32> {
        todo!()
    }

    /// Receive mode: the next message within `timeout` (Ok(None) on timeout).
    pub fn receive(&self, timeout: Duration) -> Result<Option<(String, Message)>, ClientError> {
        let _ = timeout;
        todo!()
    }

    /// MQTTClient_yield: give queued work a chance to run.
    pub fn yield_now(&self) {
        todo!()
    }

    /// MQTTClient_setCommandTimeout.
    pub fn set_command_timeout(&self, timeout: Duration) {
        let _ = timeout;
        todo!()
    }
}
