//! The client side of one MQTT connection/session, sans-IO.
//!
//! Grammar (as quinn-proto): `handle_*` for input, `poll_*` for output,
//! getters for state. Every entry takes `now`. A fatal condition is a state
//! change plus an [`Event::Closed`], never a panic.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::protocol::codec::{
    Auth, ConnAck, Disconnect, Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubAck,
    SubscriptionOptions, UnsubAck, Will,
};

/// Everything CONNECT needs plus the session's own limits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub version: ProtocolVersion,
    pub client_id: String,
    /// cleansession (3.x) / cleanstart (5).
    pub clean_start: bool,
    /// Zero disables keepalive.
    pub keep_alive: Duration,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
    /// CONNECT properties (MQTT 5).
    pub properties: Properties,
    /// Outgoing QoS 1/2 publishes allowed unacknowledged at once.
    pub max_inflight: u16,
    /// Resend unacknowledged packets after this long (3.x only); zero = only on reconnect.
    pub retry_interval: Duration,
    /// Deadline for CONNACK after the connection is established.
    pub connect_timeout: Duration,
    /// Largest packet we accept (0 = protocol maximum).
    pub max_packet_size: u32,
}

/// Why the session closed the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// No CONNACK before the connect timeout.
    ConnectTimeout,
    /// No PINGRESP within the keepalive deadline.
    KeepAliveTimeout,
    /// The server broke the protocol (the text names the rule).
    ProtocolError(String),
    /// The server sent DISCONNECT (MQTT 5) — see the event's packet.
    ServerDisconnect,
    /// Our own DISCONNECT was sent; the connection is done.
    ClientDisconnect,
    /// The transport went away (`handle_connection_lost`).
    ConnectionLost,
}

/// What the session reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// CONNACK with a success code: the session is connected.
    Connected(ConnAck),
    /// CONNACK with a failure code; the connection is closed after it.
    ConnectRefused(ConnAck),
    /// An application message arrived (QoS 2: delivered once, on PUBLISH).
    Message(Publish),
    /// An outgoing QoS 1/2 publish finished (PUBACK, PUBCOMP, or a PUBREC/PUBACK
    /// with an error reason).
    PublishComplete {
        packet_id: u16,
        reason: ReasonCode,
        properties: Properties,
    },
    SubAck(SubAck),
    UnsubAck(UnsubAck),
    /// The server sent DISCONNECT (MQTT 5).
    ServerDisconnect(Disconnect),
    /// AUTH from the server (MQTT 5).
    Auth(Auth),
    /// The connection is over; the owner closes the socket.
    Closed(CloseReason),
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// Not in the connected state.
    NotConnected,
    /// The in-flight window (max_inflight) is full.
    InflightFull,
    /// All 65535 packet ids are in use.
    NoPacketId,
    /// The packet breaks a protocol rule (topic, sizes, properties).
    Invalid(&'static str),
}

/// One client session. Created when a transport connection is established;
/// the QoS 1/2 state survives into the next connection via [`ClientSession::reconnect`].
pub struct ClientSession {
    _todo: (),
}

impl ClientSession {
    /// A new session whose CONNECT is queued for transmission at once and whose
    /// connect-timeout timer starts at `now`.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let _ = (config, now);
        todo!("session helper")
    }

    /// Start a new transport connection for the same session: queue CONNECT
    /// (with `config` possibly changed, e.g. the 3.1 fallback), and after a
    /// CONNACK resend unacknowledged QoS 1/2 packets with DUP when the
    /// session is kept (clean_start false); drop them when it is not.
    pub fn reconnect(&mut self, config: ClientConfig, now: Instant) {
        let _ = (config, now);
        todo!()
    }

    /// Bytes read from the transport.
    pub fn handle_bytes(&mut self, data: &mut BytesMut, now: Instant) {
        let _ = (data, now);
        todo!()
    }

    /// Time has reached (or passed) `poll_timeout()`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        todo!()
    }

    /// The transport closed or failed.
    pub fn handle_connection_lost(&mut self, now: Instant) {
        let _ = now;
        todo!()
    }

    /// Queue a PUBLISH. Returns its packet id (0 for QoS 0).
    #[allow(clippy::too_many_arguments)]
    pub fn publish(
        &mut self,
        topic: String,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: Properties,
        now: Instant,
    ) -> Result<u16, SessionError> {
        let _ = (topic, payload, qos, retain, properties, now);
        todo!()
    }

    /// Queue a SUBSCRIBE. Returns its packet id.
    pub fn subscribe(
        &mut self,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
        now: Instant,
    ) -> Result<u16, SessionError> {
        let _ = (filters, properties, now);
        todo!()
    }

    /// Queue an UNSUBSCRIBE. Returns its packet id.
    pub fn unsubscribe(
        &mut self,
        filters: Vec<String>,
        properties: Properties,
        now: Instant,
    ) -> Result<u16, SessionError> {
        let _ = (filters, properties, now);
        todo!()
    }

    /// Queue DISCONNECT; after it is transmitted the session emits
    /// `Closed(ClientDisconnect)`.
    pub fn disconnect(&mut self, reason: ReasonCode, properties: Properties, now: Instant) {
        let _ = (reason, properties, now);
        todo!()
    }

    /// Append every byte waiting to be sent to `out`. Returns true if any was.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut BytesMut) -> bool {
        let _ = (now, out);
        todo!()
    }

    /// The earliest instant at which `handle_timeout` must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        todo!()
    }

    /// True between a successful CONNACK and the end of the connection.
    pub fn is_connected(&self) -> bool {
        todo!()
    }

    /// Outgoing QoS 1/2 packet ids not yet complete, in send order.
    pub fn pending_packet_ids(&self) -> Vec<u16> {
        todo!()
    }
}
