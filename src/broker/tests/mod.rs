//! Unit tests driving the [`Broker`] value with packets and explicit
//! instants; the helpers here build packets and collect output per connection.

mod auth;
mod connect;
mod corners;
mod flow;
mod fuzz;
mod hooks;
mod limits;
mod routing;
mod sessions;
mod store;
mod sys;
mod v5;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Broker, BrokerConfig, BrokerEvent, ConnId};
use crate::protocol::codec::{
    Connect, Packet, Properties, Property, PropertyId, PropertyValue, ProtocolVersion, PubResp,
    Publish, QoS, ReasonCode, Subscribe, SubscriptionOptions,
};

pub(super) struct H {
    pub b: Broker,
    pub now: Instant,
    outbox: HashMap<ConnId, Vec<Packet>>,
    pub closed: Vec<ConnId>,
}

pub(super) fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

impl H {
    pub fn new() -> Self {
        Self::with(BrokerConfig::default())
    }

    pub fn with(config: BrokerConfig) -> Self {
        H {
            b: Broker::new(config),
            now: Instant::now(),
            outbox: HashMap::new(),
            closed: Vec::new(),
        }
    }

    pub fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.b.handle_timeout(self.now);
        self.flush();
    }

    /// Moves all output into the per-connection outboxes, then closes.
    pub fn flush(&mut self) {
        let mut buf = Vec::new();
        while let Some(conn) = self.b.poll_transmit(&mut buf) {
            self.outbox.entry(conn).or_default().append(&mut buf);
        }
        while let Some(conn) = self.b.poll_close() {
            self.closed.push(conn);
        }
    }

    pub fn send(&mut self, conn: ConnId, p: Packet) {
        self.b.handle_packet(conn, p, self.now);
        self.flush();
    }

    /// Everything sent to `conn` since the last call.
    pub fn take(&mut self, conn: ConnId) -> Vec<Packet> {
        self.flush();
        self.outbox.remove(&conn).unwrap_or_default()
    }

    pub fn is_closed(&self, conn: ConnId) -> bool {
        self.closed.contains(&conn)
    }

    pub fn events(&mut self) -> Vec<BrokerEvent> {
        std::iter::from_fn(|| self.b.poll_event()).collect()
    }

    /// Accepts `conn` and sends `c`; returns what came back.
    pub fn connect_with(&mut self, conn: ConnId, c: Connect) -> Vec<Packet> {
        assert!(self.b.handle_accept(conn, peer(), self.now));
        self.send(conn, Packet::Connect(Box::new(c)));
        self.take(conn)
    }

    /// Connects a clean-session client and checks for a successful CONNACK.
    pub fn connect(&mut self, conn: ConnId, id: &str, v: ProtocolVersion) {
        let out = self.connect_with(conn, connect(id, v));
        assert!(
            matches!(&out[..], [Packet::ConnAck(a)] if a.code == ReasonCode::SUCCESS),
            "{out:?}"
        );
    }

    pub fn subscribe(&mut self, conn: ConnId, filter: &str, qos: QoS) -> Vec<Packet> {
        self.subscribe_opts(conn, filter, opts(qos), Properties::default())
    }

    pub fn subscribe_opts(
        &mut self,
        conn: ConnId,
        filter: &str,
        o: SubscriptionOptions,
        properties: Properties,
    ) -> Vec<Packet> {
        self.send(
            conn,
            Packet::Subscribe(Subscribe {
                packet_id: 1,
                properties,
                filters: vec![(filter.into(), o)],
            }),
        );
        self.take(conn)
    }

    pub fn publish(&mut self, conn: ConnId, p: Publish) {
        self.send(conn, Packet::Publish(p));
    }
}

pub(super) fn connect(id: &str, v: ProtocolVersion) -> Connect {
    Connect {
        protocol: v,
        client_id: id.into(),
        ..Connect::default()
    }
}

pub(super) fn opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..SubscriptionOptions::default()
    }
}

pub(super) fn msg(topic: &str, payload: &'static str, qos: QoS, pid: u16) -> Publish {
    Publish {
        qos,
        topic: topic.into(),
        packet_id: pid,
        payload: Bytes::from_static(payload.as_bytes()),
        ..Publish::default()
    }
}

pub(super) fn props(list: Vec<(PropertyId, PropertyValue)>) -> Properties {
    Properties {
        list: list
            .into_iter()
            .map(|(id, value)| Property { id, value })
            .collect(),
    }
}

pub(super) fn ack(pid: u16) -> PubResp {
    PubResp {
        packet_id: pid,
        ..PubResp::default()
    }
}

/// The PUBLISH packets in `out`.
pub(super) fn publishes(out: &[Packet]) -> Vec<&Publish> {
    out.iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Payloads of the PUBLISH packets in `out`, as strings.
pub(super) fn payloads(out: &[Packet]) -> Vec<String> {
    publishes(out)
        .iter()
        .map(|p| String::from_utf8_lossy(&p.payload).into_owned())
        .collect()
}

/// The value of property `id` in `p`.
pub(super) fn prop_of(p: &Properties, id: PropertyId) -> Option<&PropertyValue> {
    p.list.iter().find(|x| x.id == id).map(|x| &x.value)
}
