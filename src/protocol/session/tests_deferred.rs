//! Unit tests of acknowledging incoming QoS 1/2 messages on the owner's
//! word (`ack_on_delivery`): nothing is acknowledged before the owner says
//! the application has the message, and a flow waiting for the owner
//! survives resends and reconnects without a second delivery.

use super::client::{Acked, ClientConfig, ClientSession, Event};
use super::test_support::*;
use crate::protocol::codec::{Packet, ProtocolVersion, QoS};
use std::time::Instant;

/// A client with a store: flows tracked, acks deferred, session kept.
fn deferred(version: ProtocolVersion) -> ClientConfig {
    ClientConfig {
        track_incoming_qos2: true,
        ack_on_delivery: true,
        clean_start: false,
        ..config(version)
    }
}

fn messages(ev: &[Event]) -> Vec<u16> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Message(p) => Some(p.packet_id),
            _ => None,
        })
        .collect()
}

/// Lose the connection and come back with the session kept.
fn reconnect(s: &mut ClientSession, t0: Instant) {
    s.handle_connection_lost(t0);
    events(s);
    s.reconnect(s.config().clone(), t0);
    let out = packets(s, t0);
    assert!(matches!(out.as_slice(), [Packet::Connect(_)]), "{out:?}");
    s.handle_packet(connack(true), t0);
    events(s);
}

#[test]
fn qos1_is_acknowledged_only_when_the_owner_says_so() {
    for v in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let t0 = Instant::now();
        let mut s = connected(deferred(v), t0);
        s.handle_packet(incoming("a", QoS::AtLeastOnce, 5), t0);
        assert_eq!(messages(&events(&mut s)), vec![5]);
        assert!(packets(&mut s, t0).is_empty(), "{v:?}: no PUBACK yet");
        assert_eq!(s.acknowledge(5, QoS::AtLeastOnce), Acked::PubAck);
        assert_eq!(packets(&mut s, t0), vec![Packet::PubAck(resp(5))]);
        // Not connected: nothing to send it on.
        s.handle_connection_lost(t0);
        assert_eq!(s.acknowledge(6, QoS::AtLeastOnce), Acked::Nothing);
    }
}

#[test]
fn qos0_needs_no_acknowledgement() {
    let t0 = Instant::now();
    let mut s = connected(deferred(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("a", QoS::AtMostOnce, 0), t0);
    assert_eq!(messages(&events(&mut s)), vec![0]);
    assert_eq!(s.acknowledge(0, QoS::AtMostOnce), Acked::Nothing);
    assert!(packets(&mut s, t0).is_empty());
}

#[test]
fn mqtt5_qos2_pubrec_waits_for_the_owner() {
    let t0 = Instant::now();
    let mut s = connected(deferred(ProtocolVersion::V5), t0);
    s.handle_packet(incoming("a", QoS::ExactlyOnce, 7), t0);
    let ev = events(&mut s);
    assert_eq!(messages(&ev), vec![7]);
    assert!(
        !ev.iter().any(|e| matches!(e, Event::Qos2Received(_))),
        "recorded when acknowledged, not on arrival: {ev:?}"
    );
    assert!(packets(&mut s, t0).is_empty(), "no PUBREC yet");
    // The server resends it (a reconnect): neither delivered nor answered.
    reconnect(&mut s, t0);
    s.handle_packet(incoming("a", QoS::ExactlyOnce, 7), t0);
    assert!(messages(&events(&mut s)).is_empty(), "delivered once");
    assert!(packets(&mut s, t0).is_empty());
    assert_eq!(s.acknowledge(7, QoS::ExactlyOnce), Acked::PubRec);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(7))]);
    assert_eq!(s.acknowledge(7, QoS::ExactlyOnce), Acked::Nothing, "once");
    // Past PUBREC a resend is answered, not delivered.
    s.handle_packet(incoming("a", QoS::ExactlyOnce, 7), t0);
    assert!(messages(&events(&mut s)).is_empty());
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(7))]);
    s.handle_packet(Packet::PubRel(resp(7)), t0);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Qos2Released { packet_id: 7 }]
    ));
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(7))]);
}

#[test]
fn mqtt3_qos2_pubcomp_waits_for_the_owner() {
    let t0 = Instant::now();
    let mut s = connected(deferred(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("a", QoS::ExactlyOnce, 9), t0);
    // Stored and PUBREC'd at once, delivered on PUBREL (as Paho).
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Qos2Received(p)] if p.packet_id == 9
    ));
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(9))]);
    s.handle_packet(Packet::PubRel(resp(9)), t0);
    let ev = events(&mut s);
    assert_eq!(messages(&ev), vec![9]);
    assert!(
        !ev.iter().any(|e| matches!(e, Event::Qos2Released { .. })),
        "the record stays until the owner acknowledges: {ev:?}"
    );
    assert!(packets(&mut s, t0).is_empty(), "no PUBCOMP yet");
    // A PUBREL resent meanwhile changes nothing.
    reconnect(&mut s, t0);
    s.handle_packet(Packet::PubRel(resp(9)), t0);
    assert!(events(&mut s).is_empty());
    assert!(packets(&mut s, t0).is_empty());
    assert_eq!(s.acknowledge(9, QoS::ExactlyOnce), Acked::PubComp);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(9))]);
    assert_eq!(s.acknowledge(9, QoS::ExactlyOnce), Acked::Nothing, "once");
}

#[test]
fn an_acknowledgement_while_offline_is_settled_on_the_next_connection() {
    let t0 = Instant::now();
    let mut s = connected(deferred(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("a", QoS::ExactlyOnce, 3), t0);
    s.handle_packet(Packet::PubRel(resp(3)), t0);
    events(&mut s);
    packets(&mut s, t0);
    s.handle_connection_lost(t0);
    // The flow is over for the owner (it drops the record) though no
    // PUBCOMP can go now...
    assert_eq!(s.acknowledge(3, QoS::ExactlyOnce), Acked::PubComp);
    s.reconnect(s.config().clone(), t0);
    packets(&mut s, t0);
    s.handle_packet(connack(true), t0);
    events(&mut s);
    // ...and the server's PUBREL again gets its PUBCOMP, no redelivery.
    s.handle_packet(Packet::PubRel(resp(3)), t0);
    assert!(messages(&events(&mut s)).is_empty());
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(3))]);
}

#[test]
fn a_session_the_server_did_not_keep_forgets_waiting_flows() {
    let t0 = Instant::now();
    let mut s = connected(deferred(ProtocolVersion::V5), t0);
    s.handle_packet(incoming("a", QoS::ExactlyOnce, 4), t0);
    events(&mut s);
    s.handle_connection_lost(t0);
    events(&mut s);
    s.reconnect(s.config().clone(), t0);
    packets(&mut s, t0);
    s.handle_packet(connack(false), t0);
    events(&mut s);
    assert_eq!(s.acknowledge(4, QoS::ExactlyOnce), Acked::Nothing);
    // A new message may reuse the id and is delivered.
    s.handle_packet(incoming("b", QoS::ExactlyOnce, 4), t0);
    assert_eq!(messages(&events(&mut s)), vec![4]);
}

#[test]
fn without_deferral_acks_go_on_arrival() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("a", QoS::AtLeastOnce, 1), t0);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubAck(resp(1))]);
    // The owner's word is then no news.
    assert_eq!(s.acknowledge(2, QoS::ExactlyOnce), Acked::Nothing);
}
