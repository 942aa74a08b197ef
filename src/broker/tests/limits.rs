//! Limits a mosquitto.conf can set: message_size_limit, byte limits on the
//! in-flight window and the queue, retain_available, per-listener
//! max_connections, persistent_client_expiration.

use super::*;
use crate::broker::Limits;
use crate::protocol::codec::ProtocolVersion::{V5, V311};

fn with(limits: Limits) -> H {
    H::with(BrokerConfig {
        limits,
        ..BrokerConfig::default()
    })
}

fn big(topic: &str, n: usize, pid: u16) -> Publish {
    let mut p = msg(topic, "", QoS::AtLeastOnce, pid);
    p.payload = Bytes::from(vec![b'x'; n]);
    p
}

#[test]
fn message_size_limit_acks_and_drops() {
    let mut h = with(Limits {
        max_payload_size: Some(10),
        ..Limits::default()
    });
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "p5", V5);
    h.publish(2, big("t", 11, 1));
    h.publish(2, big("t", 10, 2));
    let acks: Vec<ReasonCode> = h
        .take(2)
        .iter()
        .map(|p| match p {
            Packet::PubAck(r) => r.reason,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        acks,
        [
            ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR,
            ReasonCode::SUCCESS
        ]
    );
    assert_eq!(publishes(&h.take(1)).len(), 1);
}

#[test]
fn inflight_bytes_hold_the_window() {
    let mut h = with(Limits {
        max_inflight_bytes: Some(100),
        ..Limits::default()
    });
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    for i in 1..=3 {
        h.publish(2, big("t", 60, i));
    }
    let out = h.take(1);
    let sent = publishes(&out);
    assert_eq!(sent.len(), 1, "60 + 60 bytes exceed 100");
    let id = sent[0].packet_id;
    h.send(1, Packet::PubAck(ack(id)));
    assert_eq!(publishes(&h.take(1)).len(), 1);
}

#[test]
fn queued_bytes_pause_the_publisher() {
    let mut h = with(Limits {
        max_inflight: 1,
        max_queued_bytes: Some(100),
        ..Limits::default()
    });
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    for i in 1..=4 {
        h.publish(2, big("t", 60, i));
    }
    // One in flight, one queued: 60 + 60 bytes fill the 100 and pause the
    // publisher (its fourth PUBLISH waits unread), nothing is dropped.
    assert_eq!(h.b.stats().dropped, 0);
    assert!(!h.b.wants_input(2));
    assert_eq!(
        h.take(2).len(),
        3,
        "the held PUBLISH is not acknowledged yet"
    );
    let mut got = 0;
    while got < 4 {
        let out = h.take(1);
        let sent = publishes(&out);
        assert_eq!(sent.len(), 1, "one at a time (window 1)");
        got += 1;
        let id = sent[0].packet_id;
        h.send(1, Packet::PubAck(ack(id)));
    }
    assert!(h.b.wants_input(2));
    assert_eq!(h.take(2).len(), 1, "the fourth is acknowledged once read");
}

#[test]
fn retain_unavailable_is_said_and_enforced() {
    let mut h = with(Limits {
        retain_available: false,
        ..Limits::default()
    });
    let out = h.connect_with(1, connect("c", V5));
    let Some(Packet::ConnAck(a)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(
        prop_of(&a.properties, PropertyId::RETAIN_AVAILABLE),
        Some(&PropertyValue::Byte(0))
    );
    let mut p = msg("t", "r", QoS::AtMostOnce, 0);
    p.retain = true;
    h.publish(1, p);
    assert!(h.is_closed(1));
    assert!(
        matches!(&h.take(1)[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::RETAIN_NOT_SUPPORTED)
    );
}

#[test]
fn max_connections_per_listener() {
    let mut h = with(Limits {
        listener_max_connections: vec![Some(1), None],
        ..Limits::default()
    });
    let now = h.now;
    assert!(h.b.handle_accept_on(1, peer(), 0, now));
    assert!(!h.b.handle_accept_on(2, peer(), 0, now));
    assert!(h.b.handle_accept_on(3, peer(), 1, now));
    h.b.handle_closed(1, now);
    assert!(h.b.handle_accept_on(4, peer(), 0, now), "a place was freed");
}

#[test]
fn persistent_sessions_expire_when_configured() {
    let mut h = with(Limits {
        persistent_client_expiration: Some(Duration::from_secs(3600)),
        ..Limits::default()
    });
    let mut c = connect("keep", V311);
    c.clean_start = false;
    h.connect_with(1, c);
    h.b.handle_closed(1, h.now);
    assert_eq!(h.b.stats().sessions, 1);
    h.advance(3599);
    assert_eq!(h.b.stats().sessions, 1);
    h.advance(2);
    assert_eq!(h.b.stats().sessions, 0);
}
