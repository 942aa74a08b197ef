//! MQTT 5 extras: properties forwarded, message expiry, topic aliases,
//! receive maximum, maximum packet size, subscription ids, no-local, shared.

use super::*;
use crate::broker::Limits;
use crate::protocol::codec::ProtocolVersion::{V5, V311};
use crate::protocol::codec::SubAck;

fn v5_with(id: &str, list: Vec<(PropertyId, PropertyValue)>) -> Connect {
    Connect {
        properties: props(list),
        ..connect(id, V5)
    }
}

#[test]
fn message_properties_are_forwarded() {
    let mut h = H::new();
    h.connect(1, "sub", V5);
    h.subscribe(1, "t", QoS::AtMostOnce);
    h.connect(2, "pub", V5);
    let forwarded = vec![
        (PropertyId::PAYLOAD_FORMAT_INDICATOR, PropertyValue::Byte(1)),
        (
            PropertyId::CONTENT_TYPE,
            PropertyValue::String("text/plain".into()),
        ),
        (
            PropertyId::RESPONSE_TOPIC,
            PropertyValue::String("reply".into()),
        ),
        (
            PropertyId::CORRELATION_DATA,
            PropertyValue::Binary(Bytes::from_static(b"c1")),
        ),
        (
            PropertyId::USER_PROPERTY,
            PropertyValue::Pair("k".into(), "v1".into()),
        ),
        (
            PropertyId::USER_PROPERTY,
            PropertyValue::Pair("k".into(), "v2".into()),
        ),
    ];
    let mut all = forwarded.clone();
    all.push((PropertyId::TOPIC_ALIAS, PropertyValue::U16(3)));
    let mut p = msg("t", "x", QoS::AtMostOnce, 0);
    p.properties = props(all);
    h.publish(2, p);
    let out = h.take(1);
    assert_eq!(
        publishes(&out)[0].properties,
        props(forwarded),
        "alias not forwarded, order kept"
    );
}

#[test]
fn message_expiry_counts_down_while_queued() {
    let mut h = H::new();
    let keep = Connect {
        clean_start: false,
        properties: props(vec![(
            PropertyId::SESSION_EXPIRY_INTERVAL,
            PropertyValue::U32(100),
        )]),
        ..connect("s", V5)
    };
    h.connect_with(1, keep.clone());
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.b.handle_closed(1, h.now);
    h.connect(2, "pub", V5);
    for (body, secs) in [("long", 10), ("short", 2)] {
        let mut p = msg("t", body, QoS::AtLeastOnce, if secs == 10 { 1 } else { 2 });
        p.properties = props(vec![(
            PropertyId::MESSAGE_EXPIRY_INTERVAL,
            PropertyValue::U32(secs),
        )]);
        h.publish(2, p);
    }
    h.advance(4);
    let out = h.connect_with(3, keep);
    assert_eq!(payloads(&out), ["long"]);
    assert_eq!(
        prop_of(
            &publishes(&out)[0].properties,
            PropertyId::MESSAGE_EXPIRY_INTERVAL
        ),
        Some(&PropertyValue::U32(6))
    );
    assert_eq!(h.b.stats().expired, 1);
}

#[test]
fn inbound_topic_aliases_are_resolved_and_checked() {
    let mut h = H::new();
    h.connect(1, "sub", V311);
    h.subscribe(1, "long/topic", QoS::AtMostOnce);
    h.connect(2, "pub", V5);
    let alias = |a: u16| props(vec![(PropertyId::TOPIC_ALIAS, PropertyValue::U16(a))]);
    let mut p = msg("long/topic", "1", QoS::AtMostOnce, 0);
    p.properties = alias(1);
    h.publish(2, p);
    let mut p = msg("", "2", QoS::AtMostOnce, 0);
    p.properties = alias(1);
    h.publish(2, p.clone());
    assert_eq!(payloads(&h.take(1)), ["1", "2"]);

    p.properties = alias(2);
    h.publish(2, p);
    let out = h.take(2);
    assert!(matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR));

    h.connect(3, "pub2", V5);
    let mut p = msg("x", "3", QoS::AtMostOnce, 0);
    p.properties = alias(Limits::default().topic_alias_max + 1);
    h.publish(3, p);
    let out = h.take(3);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::TOPIC_ALIAS_INVALID)
    );
}

#[test]
fn client_receive_maximum_limits_the_window() {
    let mut h = H::new();
    h.connect_with(
        1,
        v5_with(
            "sub",
            vec![(PropertyId::RECEIVE_MAXIMUM, PropertyValue::U16(1))],
        ),
    );
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V5);
    h.publish(2, msg("t", "a", QoS::AtLeastOnce, 1));
    h.publish(2, msg("t", "b", QoS::AtLeastOnce, 2));
    let out = h.take(1);
    assert_eq!(payloads(&out), ["a"]);
    h.send(1, Packet::PubAck(ack(publishes(&out)[0].packet_id)));
    assert_eq!(payloads(&h.take(1)), ["b"]);
}

#[test]
fn our_receive_maximum_is_enforced() {
    let config = BrokerConfig {
        limits: Limits {
            receive_maximum: 1,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect(1, "pub", V5);
    h.publish(1, msg("t", "a", QoS::ExactlyOnce, 1));
    h.publish(1, msg("t", "b", QoS::ExactlyOnce, 2));
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::PubRec(_), Packet::Disconnect(d)]
        if d.reason == ReasonCode::RECEIVE_MAXIMUM_EXCEEDED)
    );
}

#[test]
fn packets_larger_than_the_clients_maximum_are_dropped() {
    let mut h = H::new();
    h.connect_with(
        1,
        v5_with(
            "sub",
            vec![(PropertyId::MAXIMUM_PACKET_SIZE, PropertyValue::U32(40))],
        ),
    );
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V5);
    h.publish(
        2,
        msg(
            "t",
            "this payload is far too long for forty bytes",
            QoS::AtLeastOnce,
            1,
        ),
    );
    h.publish(2, msg("t", "small", QoS::AtLeastOnce, 2));
    assert_eq!(payloads(&h.take(1)), ["small"]);
    assert_eq!(h.b.stats().dropped, 1);
    assert_eq!(
        h.b.sessions["sub"].inflight.len(),
        1,
        "the dropped one takes no slot"
    );
}

#[test]
fn subscription_identifiers_come_with_each_match() {
    let mut h = H::new();
    h.connect(1, "sub", V5);
    let id = |n: u32| {
        props(vec![(
            PropertyId::SUBSCRIPTION_IDENTIFIER,
            PropertyValue::VarInt(n),
        )])
    };
    h.subscribe_opts(1, "a/#", opts(QoS::AtMostOnce), id(7));
    h.subscribe_opts(1, "a/b", opts(QoS::AtMostOnce), id(9));
    h.connect(2, "pub", V5);
    h.publish(2, msg("a/b", "x", QoS::AtMostOnce, 0));
    let out = h.take(1);
    let mut ids: Vec<PropertyValue> = publishes(&out)[0]
        .properties
        .list
        .iter()
        .filter(|p| p.id == PropertyId::SUBSCRIPTION_IDENTIFIER)
        .map(|p| p.value.clone())
        .collect();
    ids.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(ids, [PropertyValue::VarInt(7), PropertyValue::VarInt(9)]);
}

#[test]
fn no_local_suppresses_own_messages() {
    let mut h = H::new();
    h.connect(1, "me", V5);
    let nl = SubscriptionOptions {
        no_local: true,
        ..opts(QoS::AtMostOnce)
    };
    h.subscribe_opts(1, "loop", nl, Properties::default());
    h.subscribe(1, "echo", QoS::AtMostOnce);
    h.publish(1, msg("loop", "mine", QoS::AtMostOnce, 0));
    h.publish(1, msg("echo", "back", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&h.take(1)), ["back"]);
}

#[test]
fn retain_handling_and_retain_as_published() {
    let mut h = H::new();
    h.connect(2, "pub", V5);
    let mut r = msg("r", "kept", QoS::AtMostOnce, 0);
    r.retain = true;
    h.publish(2, r.clone());
    h.connect(1, "sub", V5);
    let never = SubscriptionOptions {
        retain_handling: 2,
        ..opts(QoS::AtMostOnce)
    };
    assert!(publishes(&h.subscribe_opts(1, "r", never, Properties::default())).is_empty());
    h.connect(3, "sub3", V5);
    let if_new = SubscriptionOptions {
        retain_handling: 1,
        retain_as_published: true,
        ..opts(QoS::AtMostOnce)
    };
    assert_eq!(
        payloads(&h.subscribe_opts(3, "r", if_new, Properties::default())),
        ["kept"]
    );
    assert!(publishes(&h.subscribe_opts(3, "r", if_new, Properties::default())).is_empty());

    h.publish(2, r);
    assert!(!publishes(&h.take(1))[0].retain, "retain-as-published off");
    assert!(publishes(&h.take(3))[0].retain, "retain-as-published on");
}

#[test]
fn shared_subscriptions_serve_one_member_per_message() {
    let mut h = H::new();
    h.connect(1, "m1", V5);
    h.connect(2, "m2", V5);
    h.connect(3, "plain", V5);
    h.subscribe(1, "$share/g/s/#", QoS::AtMostOnce);
    h.subscribe(2, "$share/g/s/#", QoS::AtMostOnce);
    h.subscribe(3, "s/#", QoS::AtMostOnce);
    h.connect(9, "pub", V5);
    for body in ["1", "2", "3", "4"] {
        h.publish(9, msg("s/x", body, QoS::AtMostOnce, 0));
    }
    let (a, b) = (payloads(&h.take(1)), payloads(&h.take(2)));
    assert_eq!(a.len() + b.len(), 4);
    assert_eq!((a.len(), b.len()), (2, 2), "round robin");
    assert_eq!(payloads(&h.take(3)), ["1", "2", "3", "4"]);
}

#[test]
fn reason_strings_only_when_problem_information_is_allowed() {
    let mut h = H::new();
    h.connect(1, "talk", V5);
    h.connect_with(
        2,
        v5_with(
            "quiet",
            vec![(
                PropertyId::REQUEST_PROBLEM_INFORMATION,
                PropertyValue::Byte(0),
            )],
        ),
    );
    for (conn, expect) in [(1, true), (2, false)] {
        let out = h.subscribe(conn, "bad#", QoS::AtMostOnce);
        let Packet::SubAck(SubAck { properties, .. }) = &out[0] else {
            panic!()
        };
        assert_eq!(
            prop_of(properties, PropertyId::REASON_STRING).is_some(),
            expect
        );
    }
}

#[test]
fn outbound_topic_aliases_within_the_clients_maximum() {
    let mut h = H::new();
    h.connect_with(
        1,
        v5_with(
            "sub",
            vec![(PropertyId::TOPIC_ALIAS_MAXIMUM, PropertyValue::U16(1))],
        ),
    );
    h.subscribe(1, "#", QoS::AtMostOnce);
    h.connect(2, "plain", V5);
    h.subscribe(2, "#", QoS::AtMostOnce);
    h.connect(9, "pub", V5);
    for topic in ["a/long/topic", "a/long/topic", "other"] {
        h.publish(9, msg(topic, "x", QoS::AtMostOnce, 0));
    }
    let out = h.take(1);
    let seen: Vec<(String, Option<&PropertyValue>)> = publishes(&out)
        .iter()
        .map(|p| {
            (
                p.topic.clone(),
                prop_of(&p.properties, PropertyId::TOPIC_ALIAS),
            )
        })
        .collect();
    let one = Some(&PropertyValue::U16(1));
    assert_eq!(
        seen,
        [
            ("a/long/topic".into(), one),
            (String::new(), one),
            ("other".into(), None)
        ]
    );
    let out = h.take(2);
    assert!(
        publishes(&out).iter().all(|p| !p.topic.is_empty()),
        "no aliases unless asked"
    );
}

#[test]
fn puback_says_no_matching_subscribers_in_v5_only() {
    let mut h = H::new();
    h.connect(1, "pub5", V5);
    h.connect(2, "pub3", V311);
    h.publish(1, msg("nobody/listens", "x", QoS::AtLeastOnce, 3));
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::PubAck(a)] if a.packet_id == 3 && a.reason == ReasonCode::NO_MATCHING_SUBSCRIBERS),
        "{out:?}"
    );
    h.publish(2, msg("nobody/listens", "x", QoS::AtLeastOnce, 4));
    let out = h.take(2);
    assert!(
        matches!(&out[..], [Packet::PubAck(a)] if a.reason == ReasonCode::SUCCESS),
        "{out:?}"
    );
    // With a subscriber the v5 ack is plain success.
    h.connect(3, "sub", V5);
    h.subscribe(3, "nobody/listens", QoS::AtMostOnce);
    h.publish(1, msg("nobody/listens", "x", QoS::AtLeastOnce, 5));
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::PubAck(a)] if a.reason == ReasonCode::SUCCESS),
        "{out:?}"
    );
}
