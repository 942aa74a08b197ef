//! Helpers for the client session unit tests: configs, a connected session,
//! and draining packets/events at explicit instants.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::client::{ClientConfig, ClientSession, Event};
use crate::protocol::codec::{
    ConnAck, Packet, Properties, Property, PropertyId, PropertyValue, ProtocolVersion, PubResp,
    Publish, QoS, ReasonCode,
};

pub fn config(version: ProtocolVersion) -> ClientConfig {
    ClientConfig {
        version,
        client_id: "c1".into(),
        clean_start: true,
        keep_alive: Duration::from_secs(10),
        will: None,
        username: None,
        password: None,
        properties: Properties::default(),
        max_inflight: 10,
        retry_interval: Duration::ZERO,
        connect_timeout: Duration::from_secs(5),
        max_packet_size: 0,
        bridge: false,
        track_incoming_qos2: false,
        ack_on_delivery: false,
    }
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn packets(s: &mut ClientSession, now: Instant) -> Vec<Packet> {
    std::iter::from_fn(|| s.poll_packet(now)).collect()
}

pub fn events(s: &mut ClientSession) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

pub fn connack(session_present: bool) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present,
        code: ReasonCode::SUCCESS,
        properties: Properties::default(),
    })
}

pub fn prop(id: PropertyId, value: PropertyValue) -> Property {
    Property { id, value }
}

/// A session past CONNACK with its CONNECT and events drained.
pub fn connected(cfg: ClientConfig, t0: Instant) -> ClientSession {
    let mut s = ClientSession::new(cfg, t0);
    let out = packets(&mut s, t0);
    assert!(matches!(out.as_slice(), [Packet::Connect(_)]), "{out:?}");
    s.handle_packet(connack(false), t0);
    assert!(matches!(events(&mut s).as_slice(), [Event::Connected(_)]));
    assert!(s.is_connected());
    s
}

pub fn resp(packet_id: u16) -> PubResp {
    PubResp {
        packet_id,
        ..PubResp::default()
    }
}

pub fn publish(s: &mut ClientSession, topic: &str, qos: QoS, now: Instant) -> u16 {
    s.publish(
        topic.into(),
        Bytes::from_static(b"payload"),
        qos,
        false,
        Properties::default(),
        now,
    )
    .expect("publish accepted")
}

pub fn incoming(topic: &str, qos: QoS, packet_id: u16) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: topic.into(),
        packet_id,
        payload: Bytes::from_static(b"in"),
        ..Publish::default()
    })
}

pub fn published(p: &Packet) -> &Publish {
    match p {
        Packet::Publish(p) => p,
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}
