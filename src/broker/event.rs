//! What the broker tells its host (events, statistics) and what the host
//! answers (decisions on connects, publishes and subscribes).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::{ClientRecord, ConnId};
use crate::protocol::codec::{Properties, QoS, ReasonCode};

/// Why a client's connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectCause {
    /// The client sent DISCONNECT (its reason code; 0x04 asks for the will).
    Normal(ReasonCode),
    /// The socket hit EOF or an error without a DISCONNECT.
    ConnectionLost,
    /// Nothing arrived within 1.5 × keepalive (or no CONNECT in time).
    KeepAliveTimeout,
    /// The client broke the protocol (the reason code sent/meant).
    ProtocolError(ReasonCode),
    /// Another connection took over the client id.
    TakenOver,
    /// The host refused the CONNECT (or the broker did).
    Refused(ReasonCode),
    /// The broker is shutting down (`Broker::shutdown`).
    ServerShutdown,
    /// Its queue stayed full longer than `slow_consumer_timeout` (MQTT 5
    /// clients get DISCONNECT 0x97 Quota exceeded).
    SlowConsumer,
    /// The host ended it (`Broker::disconnect_client`; MQTT 5 clients got
    /// DISCONNECT with this code).
    ByHost(ReasonCode),
}

/// An event for the host. Request events need a [`Decision`] for `conn`.
/// `client` is the connection's [`ClientRecord`].
#[derive(Debug, Clone, PartialEq)]
pub enum BrokerEvent {
    /// A CONNECT passed the protocol checks; accept or refuse it.
    ConnectRequest {
        conn: ConnId,
        client: Arc<ClientRecord>,
        password: Option<Bytes>,
    },
    /// One step of MQTT 5 enhanced authentication: the CONNECT (`step` 0)
    /// or a client AUTH continuing it (`step` 1, 2, ...); with `reauth`, a
    /// connected client's AUTH 0x19 (`step` 0) and its continuations.
    /// Answer with [`Decision::Auth`].
    AuthRequest {
        conn: ConnId,
        client: Arc<ClientRecord>,
        method: String,
        data: Option<Bytes>,
        step: u32,
        reauth: bool,
    },
    /// A client PUBLISH; accept or refuse it.
    PublishRequest {
        conn: ConnId,
        client: Arc<ClientRecord>,
        topic: String,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: Properties,
    },
    /// The store could not be written (it names the file): the broker
    /// acknowledges nothing more and has closed every connection.
    StoreFailed { error: String },
    /// A SUBSCRIBE; grant or refuse each valid filter (in order).
    SubscribeRequest {
        conn: ConnId,
        client: Arc<ClientRecord>,
        filters: Vec<(String, QoS)>,
    },
    /// An UNSUBSCRIBE was applied (notice): every filter it named, whether
    /// or not the client held it.
    Unsubscribed {
        conn: ConnId,
        client: Arc<ClientRecord>,
        filters: Vec<String>,
    },
    /// A client is connected (notice).
    Connected {
        conn: ConnId,
        client: Arc<ClientRecord>,
    },
    /// A client's connection ended (notice).
    Disconnected {
        conn: ConnId,
        client: Arc<ClientRecord>,
        cause: DisconnectCause,
    },
    /// An offline session's queue is full and its messages are being
    /// dropped by the drop policy (notice; once until it has room again or
    /// the client reconnects).
    QueueFull { client_id: String },
    /// A connection's TLS handshake or WebSocket upgrade failed, or garbage
    /// came on it (notice; from the server around the broker: the sans-IO
    /// broker never sees transports).
    TransportFailed { peer: SocketAddr, reason: String },
}

/// The host's answer to one enhanced authentication step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthAnswer {
    /// Send AUTH 0x18 with this data and wait for the client's next AUTH.
    Continue(Option<Bytes>),
    /// Authenticated: CONNACK (success; AUTH 0x00 for a re-authentication)
    /// carries the method and this data.
    Success(Option<Bytes>),
    /// Refused with this CONNACK reason code (a re-authenticating client
    /// gets DISCONNECT with it).
    Fail(ReasonCode),
}

/// The host's answer to a request event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `ReasonCode::SUCCESS` accepts; any MQTT 5 failure code refuses (3.x
    /// clients get the nearest 3.x return code).
    Connect(ReasonCode),
    /// `ReasonCode::SUCCESS` accepts; a failure code refuses (sent to MQTT 5
    /// clients in PUBACK/PUBREC).
    Publish(ReasonCode),
    /// One entry per filter of the request: a granted QoS code (0, 1, 2; never
    /// more than requested) or a failure code.
    Subscribe(Vec<ReasonCode>),
    /// The answer to an `AuthRequest`.
    Auth(AuthAnswer),
}

/// Counters for the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Open connections (accepted, not yet closed).
    pub connections: usize,
    /// Sessions held (online and offline).
    pub sessions: usize,
    /// Retained messages held.
    pub retained: usize,
    /// Application messages received (client publishes, wills, injections).
    pub messages_in: u64,
    /// PUBLISH packets sent to clients.
    pub messages_out: u64,
    /// Messages dropped: queue full, too large for the client, refused.
    pub dropped: u64,
    /// Messages dropped because their expiry interval ran out while queued.
    pub expired: u64,
    /// Of `dropped`: QoS 0 messages for an online subscriber whose queue
    /// was full while their publisher could not be paused.
    pub dropped_qos0: u64,
    /// Of `dropped`: messages for offline sessions whose queue was full
    /// (the drop policy).
    pub dropped_offline: u64,
    /// Times a publisher's input was paused for a full subscriber queue.
    pub flow_pauses: u64,
    /// Subscribers disconnected by `slow_consumer_timeout`.
    pub slow_consumers: u64,
    /// Connections refused at accept because of `max_connections`.
    pub refused_connections: u64,
    /// Clients connected now (CONNACK sent, not yet closed).
    pub clients_connected: usize,
    /// The most clients connected at once since the start.
    pub clients_maximum: usize,
    /// Subscriptions held by all sessions (online and offline).
    pub subscriptions: usize,
    /// Connections accepted (sockets) since the start.
    pub sockets_accepted: u64,
    /// CONNECTs accepted since the start.
    pub connects: u64,
    /// MQTT packets of any kind received and sent (mosquitto's
    /// `$SYS/broker/messages/received` and `sent`).
    pub packets_in: u64,
    pub packets_out: u64,
    /// Bytes received (as decoded) and handed out for writing.
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Deliveries skipped because the subscriber may not read the topic
    /// (the ACL file's read check or the host's delivery check).
    pub delivery_denied: u64,
}
