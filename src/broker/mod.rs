//! The embeddable broker: a sans-IO router over sessions (subscriptions,
//! retained messages, wills, limits). The reactor drives one [`Broker`] value
//! with packets, time and host decisions; it never touches sockets or clocks.
//!
//! Grammar: `handle_*` for input, `poll_*` for output, every entry takes `now`.
//! - input: `handle_start` (once, when serving starts: the `$SYS` clock),
//!   `handle_accept` (false = refused by `max_connections`),
//!   `handle_bytes` (raw socket bytes; or `handle_packet` with a decoded
//!   packet), `handle_closed` (EOF/socket error), `handle_timeout`,
//!   `handle_decision` (answer to a request event), `handle_congestion`
//!   (a connection's written output piles up, or no longer), `publish`
//!   (host injection), `shutdown`;
//! - output: `poll_transmit_bytes` (or `poll_transmit` for packets) yields one
//!   connection and all its pending output in order; drain it, then
//!   `poll_close` (connections to close after writing what they were sent);
//!   `poll_event` for the host; `poll_timeout` for the next deadline;
//!   `wants_input` is false while a host decision or flow control (a full
//!   subscriber queue it feeds, see flow.rs) holds a connection's input.
//!
//! Choices: overlapping subscriptions of one client are delivered once, at
//! the highest granted QoS, with every matching subscription identifier
//! (allowed by MQTT 5 §3.3.4 and 3.1.1 §3.3.5); each shared-group match is a
//! separate delivery. QoS 0 messages for offline sessions are not queued.
//! Outbound topic aliases are assigned first come (no replacement) up to
//! `min(Limits::topic_alias_out_max, client's Topic Alias Maximum)`.

pub mod auth;
pub mod bridge;
pub mod config;
pub mod config_file;
mod connect;
mod connection;
mod enhanced_auth;
mod event;
pub(crate) mod fastpath;
mod flow;
pub mod hooks;
pub mod listener;
mod message;
pub mod metrics;
mod publish;
mod record;
mod retained;
pub mod server;
mod session;
mod small_map;
pub mod store;
mod subscribe;
mod sys;
mod timers;
mod topics;
mod trie;
mod wire;

#[cfg(test)]
mod tests;

use foldhash::HashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

pub use config::{BrokerConfig, Delivery, DeliveryCheck, DropPolicy, Hooks, Limits};
pub use event::{AuthAnswer, BrokerEvent, Decision, DisconnectCause, Stats};
pub use record::ClientRecord;

use connection::{Conn, Phase};
use message::Message;
use retained::Retained;
use session::Session;
use timers::Timers;
use topics::valid_topic_name;
use trie::Trie;

use crate::protocol::codec::{Packet, Properties, ProtocolVersion, QoS, ReasonCode};

/// The reactor's key for a connection (its slab index).
pub type ConnId = usize;

/// The broker's whole protocol state.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    conns: HashMap<ConnId, Box<Conn>>,
    sessions: HashMap<Arc<str>, Box<Session>>,
    trie: Trie,
    retained: Retained,
    timers: Timers,
    dirty: VecDeque<ConnId>,
    closing: VecDeque<ConnId>,
    /// Connections whose flow-control pause ended; `settle` resumes them.
    unblocked: Vec<ConnId>,
    events: VecDeque<BrokerEvent>,
    stats: Stats,
    next_assigned: u64,
    /// Headers of the message being fanned out (see fastpath.rs).
    headers: fastpath::HeaderCache,
    /// Open connections per listener index.
    listener_conns: Vec<usize>,
    /// The `$SYS` tree, once started (see sys.rs).
    sys: Option<Box<sys::SysTree>>,
    /// Changes for the store to commit, only while persistence is on.
    staged: Option<Box<store::Staging>>,
    /// Bridges' internal sessions, by connection id (see bridge/local.rs).
    bridges: HashMap<ConnId, Box<bridge::local::Attached>>,
    /// Client records for the host hooks, by connection (only while hooks
    /// are on and some connection has one; see record.rs).
    records: Option<Box<record::Records>>,
}

impl Broker {
    pub fn new(config: BrokerConfig) -> Self {
        Broker {
            config,
            conns: HashMap::default(),
            sessions: HashMap::default(),
            trie: Trie::default(),
            retained: Retained::default(),
            timers: Timers::default(),
            dirty: VecDeque::new(),
            closing: VecDeque::new(),
            unblocked: Vec::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            next_assigned: 0,
            headers: fastpath::HeaderCache::default(),
            listener_conns: Vec::new(),
            sys: None,
            staged: None,
            bridges: HashMap::default(),
            records: None,
        }
    }

    /// Replaces the configuration (a reload): limits and `auth` apply from
    /// the next packet on; connections and sessions stay. The host hooks in
    /// force and the store are kept (they belong to the host, not to the file).
    pub fn reconfigure(&mut self, mut config: BrokerConfig) {
        config.hooks = self.config.hooks;
        config.delivery_check = self.config.delivery_check.take();
        config.persistence = self.config.persistence.take();
        self.config = config;
    }

    /// The configuration in force.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// A new connection. `false`: refused (connection limit); the reactor
    /// closes the socket and must not pass this id again.
    pub fn handle_accept(&mut self, conn: ConnId, peer: SocketAddr, now: Instant) -> bool {
        self.handle_accept_on(conn, peer, 0, now)
    }

    /// A new connection on listener `listener` (its index in the host's
    /// listener list: per-listener limits and security apply).
    pub fn handle_accept_on(
        &mut self,
        conn: ConnId,
        peer: SocketAddr,
        listener: usize,
        now: Instant,
    ) -> bool {
        let limits = &self.config.limits;
        let on_listener = self.listener_conns.get(listener).copied().unwrap_or(0);
        let listener_max = limits
            .listener_max_connections
            .get(listener)
            .copied()
            .flatten()
            .unwrap_or(usize::MAX);
        if self.conns.len() >= limits.max_connections || on_listener >= listener_max {
            self.stats.refused_connections += 1;
            return false;
        }
        if self.listener_conns.len() <= listener {
            self.listener_conns.resize(listener + 1, 0);
        }
        self.listener_conns[listener] += 1;
        self.closing.retain(|c| *c != conn);
        self.stats.sockets_accepted += 1;
        let mut c = Box::new(Conn::new(peer, now));
        c.listener = listener.min(usize::from(u16::MAX)) as u16;
        self.conns.insert(conn, c);
        self.schedule_conn(conn, now + self.config.limits.connect_timeout);
        true
    }

    /// One decoded packet from `conn`.
    pub fn handle_packet(&mut self, conn: ConnId, packet: Packet, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.is_closed() {
            return;
        }
        c.last_rx = timers::Stamp::from_instant(now);
        self.stats.packets_in += 1;
        if c.is_blocked() {
            c.backlog.get_or_insert_with(Box::default).push_back(packet);
            return;
        }
        self.dispatch(conn, packet, now);
        self.mark_dirty(conn);
        self.settle(now);
    }

    /// The peer address of `conn`, while it is known.
    pub fn peer_of(&self, conn: ConnId) -> Option<SocketAddr> {
        self.conns.get(&conn).map(|c| c.peer)
    }

    /// The TLS handshake of `conn` (on a `use_identity_as_username`
    /// listener) is done: `name` is its certificate's common name, the
    /// user name its CONNECT will be judged by (`None`: no certificate,
    /// so its CONNECT is refused as not authorised).
    pub fn handle_identity(&mut self, conn: ConnId, name: Option<String>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.cert_identity = Some(Box::new(name.map(String::into_boxed_str)));
        }
    }

    /// The listener index `conn` came in on, while it is known.
    pub fn listener_of(&self, conn: ConnId) -> Option<usize> {
        self.conns.get(&conn).map(|c| usize::from(c.listener))
    }

    /// The socket hit EOF or an error: the connection is gone at once.
    pub fn handle_closed(&mut self, conn: ConnId, now: Instant) {
        self.close_conn(conn, DisconnectCause::ConnectionLost, None, now);
        self.forget_conn(conn);
        self.settle(now);
    }

    /// Drops a connection's state; true if it was known.
    fn forget_conn(&mut self, conn: ConnId) -> bool {
        let Some(c) = self.conns.remove(&conn) else {
            return false;
        };
        self.forget_record(conn);
        if let Some(n) = self.listener_conns.get_mut(usize::from(c.listener)) {
            *n = n.saturating_sub(1);
        }
        true
    }

    /// The host's answer to the request event pending for `conn`.
    pub fn handle_decision(&mut self, conn: ConnId, decision: Decision, now: Instant) {
        self.stage_conn(conn);
        let decision = match decision {
            Decision::Auth(answer) => {
                self.auth_decision(conn, answer, now);
                self.resume(conn, now);
                self.mark_dirty(conn);
                self.settle(now);
                return;
            }
            other => other,
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match decision {
            Decision::Connect(code) => {
                if matches!(c.phase, Phase::AwaitDecision)
                    && let Some(connection::Pending::Connect(connect, assigned)) =
                        c.take_pending(|p| matches!(p, connection::Pending::Connect(..)))
                {
                    c.phase = Phase::AwaitConnect;
                    if code.is_success() {
                        self.accept_connect(conn, *connect, assigned, now);
                    } else {
                        self.refuse_connect(conn, &connect.client_id, code, now);
                    }
                }
            }
            Decision::Auth(_) => {}
            Decision::Publish(code) => {
                if let Some(connection::Pending::Publish(p)) =
                    c.take_pending(|p| matches!(p, connection::Pending::Publish(_)))
                {
                    self.finish_publish(conn, p, code, now);
                }
            }
            Decision::Subscribe(codes) => {
                if let Some(connection::Pending::Subscribe(s, pre)) =
                    c.take_pending(|p| matches!(p, connection::Pending::Subscribe(..)))
                {
                    self.finish_subscribe(conn, s, pre, Some(codes), now);
                }
            }
        }
        self.resume(conn, now);
        self.mark_dirty(conn);
        self.settle(now);
    }

    /// Injects a message from the host (no origin client).
    pub fn publish(
        &mut self,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: &Properties,
        now: Instant,
    ) -> Result<(), ReasonCode> {
        if !valid_topic_name(topic, &self.config.limits) {
            return Err(ReasonCode::TOPIC_NAME_INVALID);
        }
        let msg = Message::new(topic.into(), payload, qos, retain, properties, None, now);
        self.route(msg, now);
        self.settle(now);
        Ok(())
    }

    /// Ends the connection of the client `client_id` as the host asks:
    /// MQTT 5 clients get DISCONNECT with `code` (3.x ones are just
    /// closed); the will goes out as for any connection the server ends.
    /// False when no client with that id is connected.
    pub fn disconnect_client(&mut self, client_id: &str, code: ReasonCode, now: Instant) -> bool {
        let Some(conn) = self.sessions.get(client_id).and_then(|s| s.conn) else {
            return false;
        };
        self.close_conn(conn, DisconnectCause::ByHost(code), Some(code), now);
        self.settle(now);
        true
    }

    /// The next connection with output, its items moved into `out` in order.
    pub(crate) fn poll_output(&mut self, out: &mut Vec<connection::Out>) -> Option<ConnId> {
        while let Some(id) = self.dirty.pop_front() {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            c.dirty = false;
            c.flush_buf();
            // An idle connection keeps no buffer memory.
            c.buf = bytes::BytesMut::new();
            if c.out.is_empty() {
                continue;
            }
            // Take the buffer itself: an idle connection keeps no capacity.
            if out.is_empty() {
                *out = std::mem::take(&mut c.out);
            } else {
                out.append(&mut c.out);
                c.out = Vec::new();
            }
            return Some(id);
        }
        None
    }

    /// The next connection with output, as packets in order (pre-encoded
    /// items are decoded back: this form is for tests and tools).
    pub fn poll_transmit(&mut self, out: &mut Vec<Packet>) -> Option<ConnId> {
        let mut items = Vec::new();
        let conn = self.poll_output(&mut items)?;
        let version = self
            .conns
            .get(&conn)
            .map_or(ProtocolVersion::V311, |c| c.version);
        let mut wire = bytes::BytesMut::new();
        for item in items {
            match item {
                connection::Out::Packet(p) => out.push(*p),
                connection::Out::Wire(b) => {
                    wire.extend_from_slice(&b);
                    while let Ok(Some(p)) = crate::protocol::codec::decode(&mut wire, version, 0) {
                        out.push(p);
                    }
                }
            }
        }
        Some(conn)
    }

    /// A connection to close once its output (drain `poll_transmit` first)
    /// is written. The broker forgets it.
    pub fn poll_close(&mut self) -> Option<ConnId> {
        while let Some(id) = self.closing.pop_front() {
            if self.forget_conn(id) {
                return Some(id);
            }
        }
        None
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<BrokerEvent> {
        self.events.pop_front()
    }

    /// Queues an event from the host side (a store failure) for `poll_event`.
    pub(crate) fn push_event(&mut self, ev: BrokerEvent) {
        self.events.push_back(ev);
    }

    /// Closes every connection (MQTT 5 clients get DISCONNECT 0x8B); wills
    /// go out as for any connection the server ends. Drain `poll_transmit`
    /// and `poll_close` afterwards.
    pub fn shutdown(&mut self, now: Instant) {
        let mut ids: Vec<ConnId> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.close_conn(
                id,
                DisconnectCause::ServerShutdown,
                Some(ReasonCode::SERVER_SHUTTING_DOWN),
                now,
            );
        }
    }

    /// Counters and sizes.
    pub fn stats(&self) -> Stats {
        Stats {
            connections: self.conns.len(),
            sessions: self.sessions.len(),
            retained: self.retained.len(),
            ..self.stats
        }
    }

    fn dispatch(&mut self, conn: ConnId, packet: Packet, now: Instant) {
        self.stage_conn(conn);
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match (&c.phase, packet) {
            (Phase::AwaitConnect, Packet::Connect(connect)) => {
                self.handle_connect(conn, *connect, now)
            }
            (Phase::Authenticating { .. }, Packet::Auth(a)) => self.handle_auth(conn, a, now),
            (Phase::AwaitConnect, _) => self.close_conn(
                conn,
                DisconnectCause::ProtocolError(ReasonCode::PROTOCOL_ERROR),
                None,
                now,
            ),
            (Phase::Connected, Packet::Publish(p)) => self.handle_publish(conn, p, now),
            (Phase::Connected, Packet::PubAck(r)) => self.handle_puback(conn, r.packet_id, now),
            (Phase::Connected, Packet::PubRec(r)) => self.handle_pubrec(conn, r, now),
            (Phase::Connected, Packet::PubRel(r)) => self.handle_pubrel(conn, r.packet_id),
            (Phase::Connected, Packet::PubComp(r)) => self.handle_pubcomp(conn, r.packet_id, now),
            (Phase::Connected, Packet::Subscribe(s)) => self.handle_subscribe(conn, s, now),
            (Phase::Connected, Packet::Unsubscribe(u)) => self.handle_unsubscribe(conn, u, now),
            (Phase::Connected, Packet::PingReq) => self.send(conn, Packet::PingResp),
            (Phase::Connected, Packet::Disconnect(d)) => self.handle_disconnect(conn, d, now),
            (Phase::Connected, Packet::Auth(a)) => self.handle_reauth(conn, a, now),
            _ => self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now),
        }
    }

    /// Feeds held-back input once no decision is pending.
    fn resume(&mut self, conn: ConnId, now: Instant) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.is_blocked() || c.is_closed() {
                return;
            }
            let Some(p) = c.backlog.as_mut().and_then(|b| b.pop_front()) else {
                c.backlog = None;
                return;
            };
            self.dispatch(conn, p, now);
        }
    }

    /// Queues a packet for `conn`.
    fn send(&mut self, conn: ConnId, packet: Packet) {
        if let Some(c) = self.conns.get_mut(&conn) {
            self.stats.packets_out += 1;
            c.flush_buf();
            c.out.push(connection::Out::Packet(Box::new(packet)));
            if !c.dirty {
                c.dirty = true;
                self.dirty.push_back(conn);
            }
        }
    }

    /// Puts `conn` on the dirty list if it has output.
    fn mark_dirty(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn)
            && (!c.out.is_empty() || !c.buf.is_empty())
            && !c.dirty
        {
            c.dirty = true;
            self.dirty.push_back(conn);
        }
    }
}
