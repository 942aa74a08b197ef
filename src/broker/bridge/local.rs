//! A bridge's side inside the local broker: an internal MQTT 5 session with
//! no socket. It subscribes (no-local, retain as published) to the `out`
//! topics; what the router delivers to it is decoded here and put on the
//! bridge's [`OutQueue`], and acknowledged once the bridge has handed it to
//! the remote side: until then it counts in this session's in-flight
//! window, so a slow remote holds messages in the broker's own queue for
//! the session and, when that is full, pauses the publishers (flow control)
//! instead of losing them. While the link is down, messages are
//! acknowledged as they enter the queue, which `bridge_max_queued` bounds
//! (what does not fit is dropped and counted): publishers never wait for an
//! absent remote. Messages from the remote are
//! routed with this session as their origin, so no-local keeps them from
//! going back out. Its connection ids sit above every reactor id; the host
//! hands their output here instead of to a socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use crossbeam_channel::Sender;

use super::BridgeStats;
use super::config::TopicRule;
use super::queue::{OutQueue, Outgoing, Owed};
use crate::broker::connection::Conn;
use crate::broker::message::Message;
use crate::broker::topics::valid_topic_name;
use crate::broker::{Broker, ConnId, Hooks};
use crate::protocol::codec::{
    Connect, Packet, Properties, Property, PropertyId, PropertyValue, ProtocolVersion, PubResp,
    QoS, Subscribe, SubscriptionOptions, decode,
};

/// Connection ids at or above this are bridges' internal sessions.
const INTERNAL_BASE: ConnId = 1 << (usize::BITS - 2);
static NEXT_INTERNAL: AtomicUsize = AtomicUsize::new(INTERNAL_BASE);

/// A fresh connection id for an internal session.
pub(crate) fn internal_conn_id() -> ConnId {
    NEXT_INTERNAL.fetch_add(1, Ordering::Relaxed)
}

/// The most messages the broker keeps in flight to an internal session:
/// enough to keep the link's own window (`HANDED_MAX`) full, few enough
/// that the session's in-flight bookkeeping stays short (the rest wait in
/// the broker's queue for the session, under its flow control).
const WINDOW_MAX: usize = 1024;

/// True for an internal session's connection id (never a socket's).
pub(crate) fn is_internal(conn: ConnId) -> bool {
    conn >= INTERNAL_BASE
}

/// The broker's record of one attached bridge.
pub(crate) struct Attached {
    /// Undecoded output of the broker for this session.
    rx: BytesMut,
    /// The `out`/`both` rules: local topic → remote topic.
    rules: Vec<TopicRule>,
    queue: Arc<dyn OutQueue>,
    /// Wakes the bridge's sender (a full channel already means "wake").
    wake: Sender<()>,
    /// The link to the remote is up (acknowledge on hand-over, not on entry).
    up: Arc<AtomicBool>,
    /// The internal session's client id.
    client_id: String,
    /// Kept in the store, offline while the link is down.
    durable: bool,
    /// Durable: what the remote has not acknowledged yet.
    owed: Arc<Owed>,
    /// May be durable: not for a lazy bridge, which counts what waits in
    /// its own queue to know when to connect.
    may_park: bool,
    /// The bridge's name and counters, for `$SYS/broker/bridge/NAME/...`,
    /// and the values last published there.
    name: String,
    stats: Arc<BridgeStats>,
    sys_last: Option<[u64; 4]>,
}

impl std::fmt::Debug for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("rules", &self.rules)
            .field("queued", &self.queue.len())
            .finish()
    }
}

impl Attached {
    /// The record for a bridge with these `rules` (only the out ones
    /// matter here) and this queue, wake-up and link state.
    pub(crate) fn new(
        rules: &[TopicRule],
        queue: Arc<dyn OutQueue>,
        wake: Sender<()>,
        up: Arc<AtomicBool>,
    ) -> Attached {
        Attached {
            rx: BytesMut::new(),
            rules: rules
                .iter()
                .filter(|r| r.direction.is_out())
                .cloned()
                .collect(),
            queue,
            wake,
            up,
            client_id: String::new(),
            durable: false,
            may_park: true,
            owed: Arc::default(),
            name: String::new(),
            stats: Arc::default(),
            sys_last: None,
        }
    }

    /// Where a durable bridge keeps what the remote owes.
    pub(crate) fn with_owed(mut self, owed: Arc<Owed>) -> Attached {
        self.owed = owed;
        self
    }

    /// Whether it may be a durable session that goes offline with the link.
    pub(crate) fn may_park(mut self, yes: bool) -> Attached {
        self.may_park = yes;
        self
    }

    /// Publish `stats` in `$SYS` as bridge `name`'s.
    pub(crate) fn with_counters(mut self, name: &str, stats: Arc<BridgeStats>) -> Attached {
        self.name = name.to_string();
        self.stats = stats;
        self
    }
}

impl Broker {
    /// Create the internal session `client_id` on `conn` and subscribe it
    /// to the local side of its out rules. It is trusted: the
    /// password file, ACLs and host decision hooks do not apply to it.
    /// With a store it is durable and starts offline (see `bridge_park`).
    pub(crate) fn bridge_attach(
        &mut self,
        conn: ConnId,
        client_id: &str,
        mut attached: Attached,
        now: Instant,
    ) {
        attached.client_id = client_id.to_string();
        attached.durable = attached.may_park && self.config.persistence.is_some();
        let durable = attached.durable;
        attached.owed.set_on(durable);
        self.bridges.insert(conn, Box::new(attached));
        self.bridge_connect(conn, now);
        if durable {
            self.bridge_park(conn, now);
        }
    }

    /// The link is up: a durable internal session comes back online; the
    /// broker resends what it had in flight and then its queue.
    pub(crate) fn bridge_resume(&mut self, conn: ConnId, now: Instant) {
        let parked = self.bridges.get(&conn).is_some_and(|a| a.durable);
        if parked && !self.conns.contains_key(&conn) {
            self.bridge_connect(conn, now);
        }
    }

    /// The link is down: a durable internal session goes offline, so that
    /// what arrives for the remote waits in the broker's queue for it, in
    /// the store, under `max_queued` like any offline session's. What the
    /// bridge had queued and not handed over is still unacknowledged in the
    /// session: it comes again on resume.
    pub(crate) fn bridge_park(&mut self, conn: ConnId, now: Instant) {
        let Some(a) = self.bridges.get_mut(&conn) else {
            return;
        };
        if !a.durable || !self.conns.contains_key(&conn) {
            return;
        }
        a.up.store(false, Ordering::Release);
        a.queue.clear();
        a.rx.clear();
        self.handle_closed(conn, now);
    }

    /// Connect the internal session of `conn` (whose record is in place).
    fn bridge_connect(&mut self, conn: ConnId, now: Instant) {
        let Some(a) = self.bridges.get(&conn) else {
            return;
        };
        let subscribed = self.sessions.get(a.client_id.as_str()).map(|s| &s.subs);
        let filters: Vec<(String, SubscriptionOptions)> = a
            .rules
            .iter()
            .map(|r| (r.local_filter(), r.qos))
            // A resumed session keeps its subscriptions: subscribing again
            // would send the retained messages again.
            .filter(|(f, _)| !subscribed.is_some_and(|s| s.keys().any(|k| k == f)))
            .map(|(f, qos)| {
                let opts = SubscriptionOptions {
                    qos,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: 0,
                };
                (f, opts)
            })
            .collect();
        // Never more in flight than the queue holds (see `bridge_output`).
        let window = a.queue.capacity().clamp(1, WINDOW_MAX) as u16;
        let mut connect = Connect {
            protocol: ProtocolVersion::V5,
            clean_start: !a.durable,
            keep_alive: 0,
            client_id: a.client_id.clone(),
            ..Connect::default()
        };
        connect.properties.list.push(Property {
            id: PropertyId::RECEIVE_MAXIMUM,
            value: PropertyValue::U16(window),
        });
        if a.durable {
            connect.properties.list.push(Property {
                id: PropertyId::SESSION_EXPIRY_INTERVAL,
                value: PropertyValue::U32(u32::MAX),
            });
        }
        let mut c = Box::new(Conn::new(SocketAddr::from(([127, 0, 0, 1], 0)), now));
        // No listener: no per-listener count or limit applies.
        c.listener = u16::MAX;
        self.conns.insert(conn, c);
        let auth = self.config.auth.take();
        let hooks = self.config.hooks;
        self.config.hooks = Hooks {
            notices: hooks.notices,
            ..Hooks::default()
        };
        self.handle_packet(conn, Packet::Connect(Box::new(connect)), now);
        if !filters.is_empty() {
            let sub = Subscribe {
                packet_id: 1,
                properties: Properties::default(),
                filters,
            };
            self.handle_packet(conn, Packet::Subscribe(sub), now);
        }
        self.config.auth = auth;
        self.config.hooks = hooks;
    }

    /// End the internal session on `conn` (a durable one stays, offline).
    pub(crate) fn bridge_detach(&mut self, conn: ConnId, now: Instant) {
        self.bridges.remove(&conn);
        if self.conns.contains_key(&conn) {
            self.handle_closed(conn, now);
        }
    }

    /// The broker's output for internal session `conn` (what it would have
    /// written to a socket): queue the publishes and acknowledge them.
    pub(crate) fn bridge_output(&mut self, conn: ConnId, chunks: &mut Vec<Bytes>, now: Instant) {
        let Some(a) = self.bridges.get_mut(&conn) else {
            chunks.clear();
            return;
        };
        for c in chunks.drain(..) {
            a.rx.extend_from_slice(&c);
        }
        let mut acks = Vec::new();
        // This turn's publishes for the remote, and their ids, queued at once.
        let mut batch = Vec::new();
        let mut ids = Vec::new();
        let up = a.up.load(Ordering::Acquire);
        loop {
            match decode(&mut a.rx, ProtocolVersion::V5, 0) {
                Ok(Some(Packet::Publish(p))) => {
                    let (id, qos) = (p.packet_id, p.qos);
                    // Sent again on resume, but the client still has it.
                    if p.dup && a.owed.is_on() && a.owed.owes(id) {
                        continue;
                    }
                    match a.rules.iter().find_map(|r| r.to_remote(&p.topic)) {
                        Some(topic) => {
                            let mut properties = p.properties;
                            properties.list.retain(|x| {
                                x.id != PropertyId::SUBSCRIPTION_IDENTIFIER
                                    && x.id != PropertyId::TOPIC_ALIAS
                            });
                            batch.push(Outgoing {
                                topic,
                                payload: p.payload,
                                qos,
                                retain: p.retain,
                                properties,
                                local_id: if up { id } else { 0 },
                            });
                            ids.push((id, qos));
                        }
                        // Not for the remote: release it now.
                        None => acks.extend(local_ack(id, qos)),
                    }
                }
                Ok(Some(Packet::PubRel(r))) => acks.push(Packet::PubComp(PubResp {
                    packet_id: r.packet_id,
                    ..PubResp::default()
                })),
                Ok(Some(_)) => {}
                Ok(None) => break,
                // Our own encoder wrote it: cannot happen; never loop on it.
                Err(_) => {
                    a.rx.clear();
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let pushed = a.queue.push_all(&mut batch);
            if pushed > 0 {
                let _ = a.wake.try_send(());
            }
            // Link down: released as they enter the queue. Not queued
            // (dropped, counted by the queue): released now.
            let release = if up { &ids[pushed..] } else { &ids[..] };
            acks.extend(release.iter().filter_map(|&(id, qos)| local_ack(id, qos)));
        }
        for p in acks {
            self.handle_packet(conn, p, now);
        }
    }

    /// Each bridge's counters that changed since the last `$SYS`
    /// publication (all of them the first time): topic and value.
    pub(crate) fn bridge_sys(&mut self) -> Vec<(String, String)> {
        const NAMES: [&str; 4] = ["sent", "received", "dropped", "queued"];
        let mut out = Vec::new();
        for a in self.bridges.values_mut() {
            let now = [
                a.stats.sent.load(Ordering::Relaxed),
                a.stats.received.load(Ordering::Relaxed),
                a.queue.dropped(),
                a.queue.len() as u64,
            ];
            for (i, name) in NAMES.iter().enumerate() {
                if a.sys_last.is_none_or(|last| last[i] != now[i]) {
                    let topic = format!("$SYS/broker/bridge/{}/messages/{name}", a.name);
                    out.push((topic, now[i].to_string()));
                }
            }
            a.sys_last = Some(now);
        }
        out
    }

    /// The bridge handed these `(packet id, QoS)` messages to the remote
    /// side: acknowledge them to the broker.
    pub(crate) fn bridge_release(&mut self, conn: ConnId, ids: &[(u16, QoS)], now: Instant) {
        for &(id, qos) in ids {
            if let Some(ack) = local_ack(id, qos) {
                self.handle_packet(conn, ack, now);
            }
        }
    }

    /// Route a message that came from the remote, as published by internal
    /// session `conn` (so its no-local subscriptions skip it). False when
    /// the session is gone or the topic is not valid here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bridge_inject(
        &mut self,
        conn: ConnId,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: &Properties,
        now: Instant,
    ) -> bool {
        let Some(origin) = self.conns.get(&conn).and_then(|c| c.client_id.clone()) else {
            return false;
        };
        if !valid_topic_name(topic, &self.config.limits) {
            return false;
        }
        let msg = Message::new(
            topic.into(),
            payload,
            qos,
            retain,
            properties,
            Some(origin),
            now,
        );
        self.route(msg, now);
        self.settle(now);
        true
    }
}

/// PUBACK (QoS 1) or PUBREC (QoS 2) for a delivered message.
fn local_ack(packet_id: u16, qos: QoS) -> Option<Packet> {
    let ack = PubResp {
        packet_id,
        ..PubResp::default()
    };
    match qos {
        QoS::AtMostOnce => None,
        QoS::AtLeastOnce => Some(Packet::PubAck(ack)),
        QoS::ExactlyOnce => Some(Packet::PubRec(ack)),
    }
}
