//! Unit tests of MQTT 5 specifics: CONNACK limits on what we send and
//! incoming topic aliases.

use bytes::Bytes;

use super::client::{ClientSession, CloseReason, Event, SessionError};
use super::test_support::*;
use crate::protocol::codec::{
    ConnAck, Packet, Properties, PropertyId, PropertyValue, ProtocolVersion, QoS, ReasonCode,
};
use std::time::Instant;

fn connected_with(ack_props: Vec<crate::protocol::codec::Property>, t0: Instant) -> ClientSession {
    let mut cfg = config(ProtocolVersion::V5);
    cfg.properties
        .list
        .push(prop(PropertyId::TOPIC_ALIAS_MAXIMUM, PropertyValue::U16(4)));
    let mut s = ClientSession::new(cfg, t0);
    packets(&mut s, t0);
    let mut ack = ConnAck::default();
    ack.properties.list = ack_props;
    s.handle_packet(Packet::ConnAck(ack), t0);
    assert!(matches!(events(&mut s).as_slice(), [Event::Connected(_)]));
    s
}

#[test]
fn maximum_qos_and_retain_available_limit_publish() {
    let t0 = Instant::now();
    let mut s = connected_with(
        vec![
            prop(PropertyId::MAXIMUM_QOS, PropertyValue::Byte(1)),
            prop(PropertyId::RETAIN_AVAILABLE, PropertyValue::Byte(0)),
        ],
        t0,
    );
    let mut try_publish = |qos, retain| {
        s.publish(
            "t".into(),
            Bytes::new(),
            qos,
            retain,
            Properties::default(),
            t0,
        )
    };
    assert!(matches!(
        try_publish(QoS::ExactlyOnce, false),
        Err(SessionError::Invalid(_))
    ));
    assert!(matches!(
        try_publish(QoS::AtMostOnce, true),
        Err(SessionError::Invalid(_))
    ));
    assert_eq!(try_publish(QoS::AtLeastOnce, false), Ok(1));
}

fn aliased(topic: &str, alias: u16) -> Packet {
    let mut p = incoming(topic, QoS::AtMostOnce, 0);
    if let Packet::Publish(p) = &mut p {
        p.properties
            .list
            .push(prop(PropertyId::TOPIC_ALIAS, PropertyValue::U16(alias)));
    }
    p
}

#[test]
fn incoming_topic_alias_is_resolved() {
    let t0 = Instant::now();
    let mut s = connected_with(vec![], t0);
    s.handle_packet(aliased("long/topic", 2), t0);
    s.handle_packet(aliased("", 2), t0);
    let topics: Vec<String> = events(&mut s)
        .into_iter()
        .map(|e| match e {
            Event::Message(p) => p.topic,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(topics, vec!["long/topic", "long/topic"]);
}

#[test]
fn unknown_or_out_of_range_alias_is_a_protocol_error() {
    let t0 = Instant::now();
    for bad in [
        aliased("", 3),
        aliased("t", 5),
        aliased("t", 0),
        incoming("", QoS::AtMostOnce, 0),
    ] {
        let mut s = connected_with(vec![], t0);
        s.handle_packet(bad, t0);
        assert!(events(&mut s).is_empty());
        let out = packets(&mut s, t0);
        assert!(
            matches!(out.as_slice(), [Packet::Disconnect(d)] if d.reason == ReasonCode::TOPIC_ALIAS_INVALID),
            "{out:?}"
        );
        assert!(matches!(
            events(&mut s).as_slice(),
            [Event::Closed(CloseReason::ProtocolError(_))]
        ));
    }
}

#[test]
fn reconnect_keeps_undrained_events_and_forgets_aliases() {
    let t0 = Instant::now();
    let mut s = connected_with(vec![], t0);
    s.handle_packet(aliased("a/b", 1), t0);
    s.handle_connection_lost(t0);
    let cfg = s.config().clone();
    s.reconnect(cfg, t0);
    let ev = events(&mut s);
    assert!(matches!(
        ev.as_slice(),
        [
            Event::Message(_),
            Event::Closed(CloseReason::ConnectionLost)
        ]
    ));
    packets(&mut s, t0);
    s.handle_packet(connack(false), t0);
    events(&mut s);
    s.handle_packet(aliased("", 1), t0);
    assert!(events(&mut s).is_empty(), "the old alias is not delivered");
    assert!(matches!(
        packets(&mut s, t0).as_slice(),
        [Packet::Disconnect(_)]
    ));
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Closed(CloseReason::ProtocolError(_))]
    ));
}
