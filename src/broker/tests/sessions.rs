//! Persistent sessions: offline queuing, resume in order with session
//! present, resend of in-flight messages, expiry, limits and drops.

use super::*;
use crate::broker::{DropPolicy, Limits};
use crate::protocol::codec::Disconnect;
use crate::protocol::codec::ProtocolVersion::{V5, V311};

fn persistent(id: &str, v: ProtocolVersion, expiry: u32) -> Connect {
    Connect {
        clean_start: false,
        properties: if v.is_v5() {
            props(vec![(
                PropertyId::SESSION_EXPIRY_INTERVAL,
                PropertyValue::U32(expiry),
            )])
        } else {
            Properties::default()
        },
        ..connect(id, v)
    }
}

fn session_present(out: &[Packet]) -> bool {
    match out.first() {
        Some(Packet::ConnAck(a)) => a.session_present,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

#[test]
fn offline_session_queues_qos1_in_order_and_resumes() {
    let mut h = H::new();
    assert!(!session_present(
        &h.connect_with(1, persistent("p", V311, 0))
    ));
    h.subscribe(1, "q", QoS::ExactlyOnce);
    h.send(1, Packet::Disconnect(Disconnect::default()));
    h.connect(2, "pub", V311);
    h.publish(2, msg("q", "a", QoS::AtLeastOnce, 1));
    h.publish(2, msg("q", "zero", QoS::AtMostOnce, 0));
    h.publish(2, msg("q", "b", QoS::ExactlyOnce, 2));
    h.publish(2, msg("q", "c", QoS::AtLeastOnce, 3));
    let out = h.connect_with(3, persistent("p", V311, 0));
    assert!(session_present(&out));
    assert_eq!(
        payloads(&out),
        ["a", "b", "c"],
        "QoS 0 not queued offline; order kept"
    );
    let qos: Vec<QoS> = publishes(&out).iter().map(|p| p.qos).collect();
    assert_eq!(qos, [QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::AtLeastOnce]);
}

#[test]
fn clean_session_discards_the_old_state() {
    let mut h = H::new();
    h.connect_with(1, persistent("p", V311, 0));
    h.subscribe(1, "q", QoS::AtLeastOnce);
    h.b.handle_closed(1, h.now);
    let out = h.connect_with(2, connect("p", V311));
    assert!(!session_present(&out));
    h.connect(3, "pub", V311);
    h.publish(3, msg("q", "x", QoS::AtLeastOnce, 1));
    assert!(h.take(2).is_empty(), "subscription went with the session");
}

#[test]
fn unacknowledged_messages_are_resent_on_reconnect() {
    let mut h = H::new();
    h.connect_with(1, persistent("p", V311, 0));
    h.subscribe(1, "q", QoS::ExactlyOnce);
    h.connect(2, "pub", V311);
    h.publish(2, msg("q", "one", QoS::AtLeastOnce, 1));
    h.publish(2, msg("q", "two", QoS::ExactlyOnce, 2));
    let first = h.take(1);
    let ids: Vec<u16> = publishes(&first).iter().map(|p| p.packet_id).collect();
    h.send(1, Packet::PubRec(ack(ids[1])));
    assert_eq!(h.take(1), vec![Packet::PubRel(ack(ids[1]))]);
    h.b.handle_closed(1, h.now);

    let out = h.connect_with(3, persistent("p", V311, 0));
    assert!(session_present(&out));
    match &out[1..] {
        [Packet::Publish(p), Packet::PubRel(r)] => {
            assert!(p.dup);
            assert_eq!((p.packet_id, &p.payload[..]), (ids[0], &b"one"[..]));
            assert_eq!(r.packet_id, ids[1]);
        }
        other => panic!("unexpected resend {other:?}"),
    }
}

#[test]
fn session_expiry_ends_offline_sessions() {
    let mut h = H::new();
    h.connect_with(1, persistent("e", V5, 10));
    h.subscribe(1, "q", QoS::AtLeastOnce);
    h.b.handle_closed(1, h.now);
    h.advance(9);
    assert!(h.b.sessions.contains_key("e"));
    h.advance(1);
    assert!(!h.b.sessions.contains_key("e"));
    assert!(!session_present(
        &h.connect_with(2, persistent("e", V5, 10))
    ));
}

#[test]
fn session_expiry_can_be_changed_on_disconnect() {
    let mut h = H::new();
    h.connect_with(1, persistent("e", V5, 30));
    let d = Disconnect {
        properties: props(vec![(
            PropertyId::SESSION_EXPIRY_INTERVAL,
            PropertyValue::U32(0),
        )]),
        ..Disconnect::default()
    };
    h.send(1, Packet::Disconnect(d));
    assert!(!h.b.sessions.contains_key("e"), "expiry 0 ends it at once");

    h.connect_with(2, persistent("z", V5, 0));
    let d = Disconnect {
        properties: props(vec![(
            PropertyId::SESSION_EXPIRY_INTERVAL,
            PropertyValue::U32(30),
        )]),
        ..Disconnect::default()
    };
    h.send(2, Packet::Disconnect(d));
    let out = h.take(2);
    assert!(matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR));
}

fn queue_limit(policy: DropPolicy) -> (Vec<String>, u64) {
    let config = BrokerConfig {
        limits: Limits {
            max_queued: 2,
            drop_policy: policy,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect_with(1, persistent("p", V311, 0));
    h.subscribe(1, "q", QoS::AtLeastOnce);
    h.b.handle_closed(1, h.now);
    h.connect(2, "pub", V311);
    for (i, body) in ["1", "2", "3"].into_iter().enumerate() {
        h.publish(2, msg("q", body, QoS::AtLeastOnce, i as u16 + 1));
    }
    let out = h.connect_with(3, persistent("p", V311, 0));
    (payloads(&out), h.b.stats().dropped)
}

#[test]
fn queue_limit_drops_by_policy_and_counts() {
    assert_eq!(
        queue_limit(DropPolicy::DropNewest),
        (vec!["1".into(), "2".into()], 1)
    );
    assert_eq!(
        queue_limit(DropPolicy::DropOldest),
        (vec!["2".into(), "3".into()], 1)
    );
}
