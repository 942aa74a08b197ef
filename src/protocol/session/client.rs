//! The client side of one MQTT connection/session, sans-IO.
//!
//! Grammar (as quinn-proto): `handle_*` for input, `poll_*` for output,
//! getters for state. Every entry takes `now`. A fatal condition is a state
//! change plus an [`Event::Closed`], never a panic.

use super::{IdSet, push_small};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::inflight::{Inflight, OutState};
use super::packet_ids::PacketIdAllocator;
use super::timers::{Timer, Timers};
use crate::protocol::codec::{
    Auth, ConnAck, Connect, DecodeError, Disconnect, Packet, Properties, Property, PropertyId,
    PropertyValue, ProtocolVersion, Publish, QoS, ReasonCode, SubAck, Subscribe,
    SubscriptionOptions, UnsubAck, Unsubscribe, Will, decode, encode, publish_len,
    validate_topic_filter, validate_topic_name, varint::MAX_VARINT,
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
    /// Boxed: most clients have none, and a session per client adds up.
    pub will: Option<Box<Will>>,
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
    /// Connect as a bridge (mosquitto's try_private: level | 0x80).
    pub bridge: bool,
    /// The owner persists incoming QoS 2 flows (Paho's `r-` records): it
    /// hears of each first arrival ([`Event::Qos2Received`]) and each
    /// PUBREL ([`Event::Qos2Released`]), and an MQTT 3.x message is
    /// delivered on PUBREL, as Paho does, so a crash before PUBREL loses
    /// nothing and repeats nothing.
    pub track_incoming_qos2: bool,
    /// Incoming QoS 1/2 messages are acknowledged on the owner's word
    /// ([`ClientSession::acknowledge`]), once the application has them,
    /// not on arrival: a PUBACK, the PUBCOMP of a message delivered on its
    /// PUBREL, or else the PUBREC waits for it. A process that dies with a
    /// message unread has not acknowledged it, so the server sends it
    /// again (clients with a store, which keep their session).
    pub ack_on_delivery: bool,
}

/// Incoming QoS 2 state that only clients with a store keep (boxed behind
/// an Option: a session per client adds up).
#[derive(Debug, Default)]
pub(super) struct Tracked {
    /// Incoming QoS 2 messages to deliver on their PUBREL (see
    /// `track_incoming_qos2`).
    pub(super) held: Vec<Publish>,
    /// Incoming QoS 2 ids handed to the owner whose PUBREC (or, delivered
    /// on PUBREL, PUBCOMP) waits for [`ClientSession::acknowledge`].
    pub(super) unacked: IdSet,
}

/// What [`ClientSession::acknowledge`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// Nothing: the flow is not (or no longer) waiting for the owner, or a
    /// QoS 1 ack with no connection up.
    Nothing,
    /// A PUBACK is queued.
    PubAck,
    /// The QoS 2 flow now waits for PUBREL: the owner records it as
    /// delivered (a PUBREC is queued when connected).
    PubRec,
    /// The QoS 2 flow is over: the owner drops its record (a PUBCOMP is
    /// queued when connected).
    PubComp,
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
    /// An application message arrived (QoS 2: delivered once, on PUBLISH;
    /// on PUBREL with `track_incoming_qos2` in MQTT 3.x).
    Message(Publish),
    /// A QoS 2 PUBLISH arrived for the first time and its PUBREC is queued
    /// (`track_incoming_qos2` only): persist it before the PUBREC is sent.
    Qos2Received(Publish),
    /// The PUBREL of an incoming QoS 2 flow arrived and its PUBCOMP is
    /// queued (`track_incoming_qos2` only): the flow is over.
    Qos2Released {
        packet_id: u16,
    },
    /// An outgoing QoS 1/2 publish finished (PUBACK, PUBCOMP, or a PUBREC/PUBACK
    /// with an error reason).
    PublishComplete {
        packet_id: u16,
        reason: ReasonCode,
        properties: Properties,
    },
    /// An outgoing QoS 2 publish got its PUBREC: the PUBREL is queued and
    /// the flow now waits for PUBCOMP (persistence records this step).
    PublishReleased {
        packet_id: u16,
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

/// Which state a session is in (see [`ClientSession::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    AwaitConnack,
    Connected,
    Disconnecting,
    Closed,
}

/// CONNECT is out; waiting for CONNACK until `deadline` (if any).
#[derive(Debug)]
pub(super) struct AwaitConnack {
    pub(super) deadline: Option<Instant>,
}

/// CONNACK accepted; the limits negotiated with the server.
#[derive(Debug)]
pub(super) struct Connected {
    /// Our keepalive, or the server's Server Keep Alive (MQTT 5). Zero = none.
    pub(super) keep_alive: Duration,
    /// Outgoing QoS 1/2 publishes allowed unacknowledged.
    pub(super) send_window: u16,
    /// The server's Maximum Packet Size (0 = protocol maximum).
    pub(super) max_send_size: u32,
    /// The server's Maximum QoS (MQTT 5; QoS 2 otherwise).
    pub(super) max_qos: QoS,
    /// The server's Retain Available (MQTT 5; true otherwise).
    pub(super) retain_available: bool,
    /// A PINGREQ has been queued and nothing has arrived since.
    pub(super) ping_outstanding: bool,
}

/// A DISCONNECT is queued; once handed out the session closes with `then`.
#[derive(Debug)]
pub(super) struct Disconnecting {
    pub(super) then: CloseReason,
}

/// The connection is over (the `Closed` event has been queued).
#[derive(Debug)]
pub(super) struct Closed {
    pub(super) reason: CloseReason,
}

#[derive(Debug)]
pub(super) enum State {
    AwaitConnack(AwaitConnack),
    Connected(Connected),
    Disconnecting(Disconnecting),
    Closed(Closed),
}

/// One client session. Created when a transport connection is established;
/// the QoS 1/2 state survives into the next connection via [`ClientSession::reconnect`].
///
/// The owner drives it in this order after every input: `poll_transmit` (write
/// what it returns), then `poll_event` until `None`, then wait until
/// `poll_timeout`. Keepalive rule: PINGREQ is sent when nothing has been sent
/// for keep_alive; the connection is declared dead when *no packet at all*
/// (PINGRESP or any other) arrives within keep_alive after the PINGREQ —
/// a server busy sending us messages is alive even if its PINGRESP is late.
pub struct ClientSession {
    pub(super) config: ClientConfig,
    pub(super) state: State,
    pub(super) timers: Timers,
    pub(super) ids: PacketIdAllocator,
    pub(super) inflight: Inflight,
    /// SUBSCRIBE / UNSUBSCRIBE ids waiting for their ack.
    pub(super) pending_subs: IdSet,
    pub(super) pending_unsubs: IdSet,
    /// Incoming QoS 2 ids delivered (or held) and waiting for PUBREL.
    pub(super) incoming_qos2: IdSet,
    /// Incoming flow state of a client with a store (None for most).
    pub(super) tracked: Option<Box<Tracked>>,
    pub(super) out: VecDeque<Packet>,
    pub(super) events: VecDeque<Event>,
    pub(super) last_sent: Instant,
    pub(super) connack: Option<ConnAck>,
    pub(super) assigned_client_id: Option<String>,
    /// Incoming topic aliases of this connection (MQTT 5).
    /// Made on the first alias the server uses (most never do); boxed so
    /// that the session carries one pointer, not an empty table.
    #[allow(clippy::box_collection)]
    pub(super) topic_aliases: Option<Box<HashMap<u16, String>>>,
}

impl ClientSession {
    /// A new session whose CONNECT is queued for transmission at once and whose
    /// connect-timeout timer starts at `now`.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let mut session = ClientSession {
            config,
            state: State::Closed(Closed {
                reason: CloseReason::ConnectionLost,
            }),
            timers: Timers::default(),
            ids: PacketIdAllocator::new(),
            inflight: Inflight::default(),
            pending_subs: IdSet::default(),
            pending_unsubs: IdSet::default(),
            incoming_qos2: IdSet::default(),
            tracked: None,
            out: VecDeque::new(),
            events: VecDeque::new(),
            last_sent: now,
            connack: None,
            assigned_client_id: None,
            topic_aliases: None,
        };
        session.start_connection(now);
        session
    }

    /// Start a new transport connection for the same session: queue CONNECT
    /// (with `config` possibly changed, e.g. the 3.1 fallback), and after a
    /// CONNACK resend unacknowledged QoS 1/2 packets with DUP when the
    /// session is kept (clean_start false); drop them when it is not.
    pub fn reconnect(&mut self, config: ClientConfig, now: Instant) {
        self.config = config;
        self.start_connection(now);
    }

    fn start_connection(&mut self, now: Instant) {
        self.out.clear();
        self.timers.clear_all();
        self.release_pending_acks();
        self.connack = None;
        self.topic_aliases = None;
        if self.config.clean_start {
            self.drop_session_state();
        }
        let deadline = (!self.config.connect_timeout.is_zero())
            .then(|| now.checked_add(self.config.connect_timeout))
            .flatten();
        if let Some(at) = deadline {
            self.timers.set(Timer::ConnectTimeout, at);
        }
        self.state = State::AwaitConnack(AwaitConnack { deadline });
        self.last_sent = now;
        let connect = self.connect_packet();
        push_small(&mut self.out, connect);
    }

    fn connect_packet(&self) -> Packet {
        let cfg = &self.config;
        let mut properties = cfg.properties.clone();
        if cfg.version.is_v5()
            && cfg.max_packet_size != 0
            && properties.get(PropertyId::MAXIMUM_PACKET_SIZE).is_none()
        {
            // Tell the server what we will accept, so it does not send what
            // our decoder would have to reject.
            properties.list.push(Property {
                id: PropertyId::MAXIMUM_PACKET_SIZE,
                value: PropertyValue::U32(cfg.max_packet_size),
            });
        }
        let keep_alive = u16::try_from(cfg.keep_alive.as_secs()).unwrap_or(u16::MAX);
        Packet::Connect(Box::new(Connect {
            protocol: cfg.version,
            clean_start: cfg.clean_start,
            keep_alive,
            client_id: cfg.client_id.clone(),
            will: cfg.will.as_deref().cloned(),
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            properties,
            bridge: cfg.bridge,
        }))
    }

    /// Forget every outgoing and incoming QoS 1/2 flow (clean session).
    pub(super) fn drop_session_state(&mut self) {
        for id in self.inflight.drain_ids() {
            self.ids.release(id);
        }
        self.incoming_qos2.clear();
        self.tracked = None;
        self.timers.clear(Timer::Retry);
    }

    /// SUBSCRIBE/UNSUBSCRIBE are never resent: their ids die with the connection.
    fn release_pending_acks(&mut self) {
        for id in self.pending_subs.drain().chain(self.pending_unsubs.drain()) {
            self.ids.release(id);
        }
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
        let State::Connected(conn) = &self.state else {
            return Err(SessionError::NotConnected);
        };
        validate_topic_name(&topic).map_err(|e| SessionError::Invalid(e.as_str()))?;
        if qos > conn.max_qos {
            return Err(SessionError::Invalid("QoS above the server's Maximum QoS"));
        }
        if retain && !conn.retain_available {
            return Err(SessionError::Invalid("the server does not support retain"));
        }
        let mut publish = Publish {
            dup: false,
            qos,
            retain,
            topic,
            packet_id: 0,
            properties,
            payload,
        };
        let size = publish_len(&publish, self.config.version);
        if size > MAX_VARINT as usize
            || (conn.max_send_size != 0 && size > conn.max_send_size as usize)
        {
            return Err(SessionError::Invalid(
                "publish larger than the maximum packet size",
            ));
        }
        if qos == QoS::AtMostOnce {
            push_small(&mut self.out, Packet::Publish(publish));
            return Ok(0);
        }
        if self.inflight.len() >= usize::from(conn.send_window) {
            return Err(SessionError::InflightFull);
        }
        let id = self.ids.allocate().ok_or(SessionError::NoPacketId)?;
        publish.packet_id = id;
        let state = if qos == QoS::AtLeastOnce {
            OutState::AwaitPubAck
        } else {
            OutState::AwaitPubRec
        };
        push_small(&mut self.out, Packet::Publish(publish.clone()));
        self.inflight.insert(publish, state, now);
        self.arm_retry(now);
        Ok(id)
    }

    /// Queue a SUBSCRIBE. Returns its packet id.
    pub fn subscribe(
        &mut self,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
        _now: Instant,
    ) -> Result<u16, SessionError> {
        if !self.is_connected() {
            return Err(SessionError::NotConnected);
        }
        if filters.is_empty() {
            return Err(SessionError::Invalid("SUBSCRIBE needs at least one filter"));
        }
        for (filter, opts) in &filters {
            validate_topic_filter(filter).map_err(|e| SessionError::Invalid(e.as_str()))?;
            if opts.retain_handling > 2 {
                return Err(SessionError::Invalid("retain handling above 2"));
            }
        }
        let packet_id = self.ids.allocate().ok_or(SessionError::NoPacketId)?;
        self.pending_subs.insert(packet_id);
        push_small(
            &mut self.out,
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            }),
        );
        Ok(packet_id)
    }

    /// Queue an UNSUBSCRIBE. Returns its packet id.
    pub fn unsubscribe(
        &mut self,
        filters: Vec<String>,
        properties: Properties,
        _now: Instant,
    ) -> Result<u16, SessionError> {
        if !self.is_connected() {
            return Err(SessionError::NotConnected);
        }
        if filters.is_empty() {
            return Err(SessionError::Invalid(
                "UNSUBSCRIBE needs at least one filter",
            ));
        }
        for filter in &filters {
            validate_topic_filter(filter).map_err(|e| SessionError::Invalid(e.as_str()))?;
        }
        let packet_id = self.ids.allocate().ok_or(SessionError::NoPacketId)?;
        self.pending_unsubs.insert(packet_id);
        push_small(
            &mut self.out,
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            }),
        );
        Ok(packet_id)
    }

    /// Bytes read from the transport.
    pub fn handle_bytes(&mut self, data: &mut BytesMut, now: Instant) {
        while matches!(self.state, State::AwaitConnack(_) | State::Connected(_)) {
            match decode(data, self.config.version, self.config.max_packet_size) {
                Ok(Some(packet)) => self.handle_packet(packet, now),
                Ok(None) => break,
                Err(e) => {
                    self.protocol_error(format!("{e:?}"), decode_error_reason(&e));
                    break;
                }
            }
        }
    }

    /// Time has reached (or passed) `poll_timeout()`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers.expired(Timer::ConnectTimeout, now) {
            self.timers.clear(Timer::ConnectTimeout);
            if let State::AwaitConnack(AwaitConnack { deadline: Some(_) }) = self.state {
                self.close(CloseReason::ConnectTimeout);
                return;
            }
        }
        let State::Connected(conn) = &mut self.state else {
            return;
        };
        if self.timers.expired(Timer::PingDeadline, now) {
            self.timers.clear(Timer::PingDeadline);
            if conn.ping_outstanding {
                self.close(CloseReason::KeepAliveTimeout);
                return;
            }
        }
        if self.timers.expired(Timer::KeepAlive, now) {
            self.timers.clear(Timer::KeepAlive);
            let ka = conn.keep_alive;
            if !ka.is_zero() && !conn.ping_outstanding {
                let due = self.last_sent + ka;
                if due <= now {
                    conn.ping_outstanding = true;
                    push_small(&mut self.out, Packet::PingReq);
                    self.timers.set(Timer::PingDeadline, now + ka);
                } else {
                    self.timers.set(Timer::KeepAlive, due);
                }
            }
        }
        if self.timers.expired(Timer::Retry, now) {
            self.timers.clear(Timer::Retry);
            self.retry(now);
        }
    }

    /// The transport closed or failed.
    pub fn handle_connection_lost(&mut self, _now: Instant) {
        if !matches!(self.state, State::Closed(_)) {
            self.close(CloseReason::ConnectionLost);
        }
    }

    /// Queue DISCONNECT; after it is transmitted the session emits
    /// `Closed(ClientDisconnect)`.
    pub fn disconnect(&mut self, reason: ReasonCode, properties: Properties, _now: Instant) {
        if matches!(self.state, State::AwaitConnack(_) | State::Connected(_)) {
            self.begin_disconnect(reason, properties, CloseReason::ClientDisconnect);
        }
    }

    /// Queue DISCONNECT and stop every timer; `then` is the close reason
    /// reported once the DISCONNECT has been handed out.
    pub(super) fn begin_disconnect(
        &mut self,
        reason: ReasonCode,
        properties: Properties,
        then: CloseReason,
    ) {
        self.timers.clear_all();
        self.out
            .push_back(Packet::Disconnect(Disconnect { reason, properties }));
        self.state = State::Disconnecting(Disconnecting { then });
    }

    /// Enter `Closed` and report it. Queued output is discarded; QoS 1/2
    /// publish state is kept for a later `reconnect`.
    pub(super) fn close(&mut self, reason: CloseReason) {
        self.timers.clear_all();
        self.out.clear();
        self.release_pending_acks();
        push_small(&mut self.events, Event::Closed(reason.clone()));
        self.state = State::Closed(Closed { reason });
    }

    /// Append every byte waiting to be sent to `out`. Returns true if any was.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut BytesMut) -> bool {
        let mut any = false;
        while let Some(packet) = self.poll_packet(now) {
            if let Err(e) = encode(&packet, self.config.version, out) {
                self.close(CloseReason::ProtocolError(format!(
                    "cannot encode {:?}: {e:?}",
                    packet.packet_type()
                )));
                break;
            }
            any = true;
        }
        any
    }

    /// The next packet to send, at packet level (what `poll_transmit` encodes).
    /// Handing out a packet counts as sending it for keepalive.
    pub fn poll_packet(&mut self, now: Instant) -> Option<Packet> {
        let packet = self.out.pop_front()?;
        self.last_sent = now;
        match &self.state {
            State::Connected(conn) if !conn.keep_alive.is_zero() && !conn.ping_outstanding => {
                self.timers.set(Timer::KeepAlive, now + conn.keep_alive);
            }
            State::Disconnecting(d) if matches!(packet, Packet::Disconnect(_)) => {
                let then = d.then.clone();
                self.close(then);
            }
            _ => {}
        }
        Some(packet)
    }

    /// The earliest instant at which `handle_timeout` must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Give back the memory of queues and tables that are empty now, so an
    /// idle session costs little (many clients per process). The owner
    /// calls this after draining output and events.
    pub fn release_idle_buffers(&mut self) {
        if self.out.is_empty() && self.out.capacity() > 0 {
            self.out = VecDeque::new();
        }
        if self.events.is_empty() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
        self.inflight.release_if_empty();
        self.pending_subs.release_if_empty();
        self.pending_unsubs.release_if_empty();
        self.incoming_qos2.release_if_empty();
        if self
            .tracked
            .as_ref()
            .is_some_and(|t| t.held.is_empty() && t.unacked.is_empty())
        {
            self.tracked = None;
        }
    }
}

/// The MQTT 5 DISCONNECT reason for a decode error.
fn decode_error_reason(_e: &DecodeError) -> ReasonCode {
    ReasonCode::MALFORMED_PACKET
}
