//! Broker configuration: resource limits with their defaults, and which host
//! hooks (connect/publish/subscribe decisions, notices) are active.
//! `mosquitto` reads mosquitto.conf syntax (and FerroMQ's own keys) into it.

pub mod listener_keys;
pub mod mosquitto;
mod mosquitto_keys;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::auth::Auth;

/// What to drop when a session's queue of undelivered messages is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DropPolicy {
    /// Keep the queue as it is and drop the arriving message.
    #[default]
    DropNewest,
    /// Drop the oldest queued message to make room for the arriving one.
    DropOldest,
}

/// Default `Limits::max_queued_bytes`: 16 MiB of payload per session.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;

/// Default `Limits::slow_consumer_timeout`: well under the keepalive most
/// clients use (60 s), so paused publishers are not left waiting that long.
pub const DEFAULT_SLOW_CONSUMER_TIMEOUT: Duration = Duration::from_secs(30);

/// Resource limits. Every limit has a sane default (see [`Limits::default`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections accepted at once; `handle_accept` refuses beyond it.
    pub max_connections: usize,
    /// Largest packet accepted from a client (advertised to MQTT 5 clients).
    pub max_packet_size: u32,
    /// Outgoing QoS 1/2 messages unacknowledged at once per session (an
    /// MQTT 5 client's Receive Maximum lowers it further).
    pub max_inflight: u16,
    /// Messages queued per session beyond the in-flight window. For an
    /// online session this is a pause mark, not a drop mark: when its queue
    /// is full, the publishers feeding it are paused until it drains to half.
    pub max_queued: usize,
    /// What goes when an offline session's queue is full.
    pub drop_policy: DropPolicy,
    /// Longest topic name or filter, in bytes.
    pub max_topic_len: usize,
    /// Most levels in a topic name or filter.
    pub max_topic_levels: usize,
    /// Keepalive is enforced at `keep_alive * keepalive_factor_pct / 100`.
    pub keepalive_factor_pct: u32,
    /// A connection that sends no CONNECT within this is closed.
    pub connect_timeout: Duration,
    /// Server Keep Alive: a client asking for more (or for none) gets this.
    pub max_keep_alive: Option<u16>,
    /// Topic Alias Maximum we accept from MQTT 5 clients (0 = none).
    pub topic_alias_max: u16,
    /// Topic aliases we assign per MQTT 5 connection for outgoing PUBLISH
    /// (further limited by the client's Topic Alias Maximum; 0 = none).
    pub topic_alias_out_max: u16,
    /// Receive Maximum we advertise: inbound QoS 2 messages awaiting PUBREL.
    pub receive_maximum: u16,
    /// Largest PUBLISH payload accepted; a larger one is acknowledged (MQTT
    /// 5: 0x83) and dropped (mosquitto's `message_size_limit`).
    pub max_payload_size: Option<u32>,
    /// Payload bytes of outgoing QoS 1/2 messages in flight per session
    /// (one message always fits).
    pub max_inflight_bytes: Option<usize>,
    /// Payload bytes queued per session beyond the in-flight window (a
    /// pause mark for online sessions, as `max_queued`).
    pub max_queued_bytes: Option<usize>,
    /// An online session whose queue stays full (above half its limits)
    /// this long is disconnected (MQTT 5: 0x97 Quota exceeded), so that it
    /// cannot hold its publishers paused for ever. `None`: never.
    pub slow_consumer_timeout: Option<Duration>,
    /// Sessions that would never expire (3.x clean session 0, MQTT 5 expiry
    /// 0xFFFFFFFF) end after this long offline.
    pub persistent_client_expiration: Option<Duration>,
    /// Retained messages allowed; when false a retained PUBLISH is a
    /// protocol error (MQTT 5: 0x9A) and MQTT 5 CONNACKs say so.
    pub retain_available: bool,
    /// Connections accepted at once per listener (by listener index); a
    /// missing entry or `None` means only `max_connections` applies.
    pub listener_max_connections: Vec<Option<usize>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 100_000,
            max_packet_size: 16 * 1024 * 1024,
            max_inflight: 32,
            max_queued: 1000,
            drop_policy: DropPolicy::DropNewest,
            max_topic_len: 65_535,
            max_topic_levels: 128,
            keepalive_factor_pct: 150,
            connect_timeout: Duration::from_secs(10),
            max_keep_alive: None,
            topic_alias_max: 16,
            topic_alias_out_max: 16,
            receive_maximum: 1024,
            max_payload_size: None,
            max_inflight_bytes: None,
            max_queued_bytes: Some(DEFAULT_MAX_QUEUED_BYTES),
            slow_consumer_timeout: Some(DEFAULT_SLOW_CONSUMER_TIMEOUT),
            persistent_client_expiration: None,
            retain_available: true,
            listener_max_connections: Vec::new(),
        }
    }
}

/// Which host hooks are active. An active decision hook makes the broker
/// emit a request event and wait (for that session only) for
/// `Broker::handle_decision`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks {
    /// Ask the host to accept or refuse each CONNECT.
    pub connect: bool,
    /// Ask the host to accept or refuse each client PUBLISH.
    pub publish: bool,
    /// Ask the host to grant or refuse each SUBSCRIBE's filters.
    pub subscribe: bool,
    /// Emit connected/disconnected notices.
    pub notices: bool,
    /// Emit a notice per filter a client unsubscribes from.
    pub unsubscribe: bool,
    /// Ask the host through each MQTT 5 enhanced authentication exchange
    /// (without it, a CONNECT naming an Authentication Method is refused
    /// with 0x8C).
    pub auth: bool,
    /// Ask [`BrokerConfig::delivery_check`] before each message goes to a
    /// subscriber.
    pub deliver: bool,
    /// The notices need only what a connection itself knows (client id,
    /// address, protocol; not the user name): with no other hook on, no
    /// client record is kept per connection for them (a logging host keeps
    /// the idle footprint of a broker without hooks).
    pub lean_notices: bool,
}

/// A message about to go to one subscriber, as the delivery check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub topic: &'a str,
    pub payload: &'a bytes::Bytes,
    /// The QoS it goes out with (the lower of the message's and the grant).
    pub qos: crate::protocol::codec::QoS,
    pub retain: bool,
    pub properties: &'a crate::protocol::codec::Properties,
}

/// The host's read check per delivered message. Unlike the other hooks it
/// is asked inline, where the router hands the message to the connection
/// (as the ACL read check is), so it must be quick and must not call back
/// into this broker.
pub trait DeliveryCheck: Send + Sync + std::fmt::Debug {
    /// False: the message is skipped for this subscriber (and counted).
    fn may_deliver(&self, client: &super::ClientRecord, message: &Delivery<'_>) -> bool;
}

/// Everything the broker is configured with.
#[derive(Debug, Clone, Default)]
pub struct BrokerConfig {
    pub limits: Limits,
    pub hooks: Hooks,
    /// Authentication and authorisation asked on every CONNECT, PUBLISH,
    /// SUBSCRIBE and delivery (`None`: everyone may do everything).
    pub auth: Option<Arc<dyn Auth>>,
    /// Publish the `$SYS/broker/...` tree (mosquitto's topic names, retained)
    /// every this often; `None` = off. mosquitto's default is 10 s; an
    /// embedded broker publishes nothing unless asked to.
    pub sys_interval: Option<Duration>,
    /// Serve Prometheus text-format metrics over HTTP (`GET /metrics`) on
    /// this address (port 0 = any free port); `None` = off.
    pub metrics_listener: Option<SocketAddr>,
    /// `persistence true`: the store file (mosquitto's `persistence_location`
    /// joined with `persistence_file`), opened when the server is created;
    /// `None` = nothing survives a restart. A reload does not change it.
    pub persistence: Option<PathBuf>,
    /// The host's per-delivery read check, asked when `hooks.deliver` is set.
    pub delivery_check: Option<Arc<dyn DeliveryCheck>>,
}
