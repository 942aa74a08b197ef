//! Routing: QoS flows both ways, downgrade, ordering and window, retained
//! messages, overlapping subscriptions, host hooks for publish/subscribe.

use super::*;
use crate::broker::{Decision, Hooks, Limits};
use crate::protocol::codec::ProtocolVersion::{V5, V311};
use crate::protocol::codec::{SubAck, UnsubAck, Unsubscribe};

fn suback_codes(out: &[Packet]) -> Vec<ReasonCode> {
    match out.first() {
        Some(Packet::SubAck(SubAck { codes, .. })) => codes.clone(),
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

#[test]
fn qos_is_downgraded_to_the_subscription_maximum() {
    let mut h = H::new();
    h.connect(1, "sub", V311);
    assert_eq!(
        suback_codes(&h.subscribe(1, "t", QoS::AtMostOnce)),
        [ReasonCode::GRANTED_QOS_0]
    );
    h.connect(2, "pub", V311);
    h.publish(2, msg("t", "x", QoS::AtLeastOnce, 7));
    assert_eq!(h.take(2), vec![Packet::PubAck(ack(7))]);
    let out = h.take(1);
    let p = publishes(&out);
    assert_eq!((p.len(), p[0].qos, p[0].packet_id), (1, QoS::AtMostOnce, 0));
}

#[test]
fn qos1_flows_both_ways_and_the_ack_frees_the_window() {
    let config = BrokerConfig {
        limits: Limits {
            max_inflight: 2,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    for (i, body) in ["1", "2", "3", "4"].into_iter().enumerate() {
        h.publish(2, msg("t", body, QoS::AtLeastOnce, i as u16 + 1));
    }
    let out = h.take(1);
    assert_eq!(payloads(&out), ["1", "2"], "window of two");
    let ids: Vec<u16> = publishes(&out).iter().map(|p| p.packet_id).collect();
    assert!(ids.iter().all(|&id| id != 0) && ids[0] != ids[1]);
    h.send(1, Packet::PubAck(ack(ids[0])));
    assert_eq!(payloads(&h.take(1)), ["3"]);
    h.send(1, Packet::PubAck(ack(ids[1])));
    assert_eq!(payloads(&h.take(1)), ["4"], "order kept");
}

#[test]
fn qos2_inbound_is_routed_once_and_released() {
    let mut h = H::new();
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::ExactlyOnce);
    h.connect(2, "pub", V311);
    h.publish(2, msg("t", "once", QoS::ExactlyOnce, 9));
    assert_eq!(h.take(2), vec![Packet::PubRec(ack(9))]);
    let mut dup = msg("t", "once", QoS::ExactlyOnce, 9);
    dup.dup = true;
    h.publish(2, dup);
    assert_eq!(h.take(2), vec![Packet::PubRec(ack(9))]);
    h.send(2, Packet::PubRel(ack(9)));
    assert_eq!(h.take(2), vec![Packet::PubComp(ack(9))]);

    let out = h.take(1);
    assert_eq!(payloads(&out), ["once"], "duplicate not routed again");
    let id = publishes(&out)[0].packet_id;
    assert_eq!(publishes(&out)[0].qos, QoS::ExactlyOnce);
    h.send(1, Packet::PubRec(ack(id)));
    assert_eq!(h.take(1), vec![Packet::PubRel(ack(id))]);
    h.send(1, Packet::PubComp(ack(id)));
    assert!(h.take(1).is_empty());
    assert!(h.b.sessions["sub"].inflight.is_empty());
}

#[test]
fn retained_messages_set_replace_clear_and_carry_the_flag() {
    let mut h = H::new();
    h.connect(2, "pub", V311);
    let mut r = msg("r/a", "first", QoS::AtMostOnce, 0);
    r.retain = true;
    h.publish(2, r.clone());
    r.payload = Bytes::from_static(b"second");
    h.publish(2, r.clone());
    assert_eq!(h.b.stats().retained, 1);

    h.connect(1, "sub", V311);
    let out = h.subscribe(1, "r/+", QoS::AtLeastOnce);
    assert!(matches!(out[0], Packet::SubAck(_)), "SUBACK comes first");
    let p = publishes(&out);
    assert_eq!(payloads(&out), ["second"]);
    assert!(p[0].retain);
    assert_eq!(p[0].qos, QoS::AtMostOnce, "delivered at the message's QoS");

    h.publish(2, r.clone());
    let out = h.take(1);
    assert!(
        !publishes(&out)[0].retain,
        "3.1.1: established subscriptions get retain 0"
    );

    r.payload = Bytes::new();
    h.publish(2, r);
    h.take(1);
    assert_eq!(h.b.stats().retained, 0);
    h.connect(3, "late", V311);
    let out = h.subscribe(3, "r/#", QoS::AtMostOnce);
    assert!(publishes(&out).is_empty());
}

#[test]
fn overlapping_subscriptions_deliver_once_at_the_highest_qos() {
    let mut h = H::new();
    h.connect(1, "sub", V311);
    h.subscribe(1, "a/#", QoS::AtMostOnce);
    h.subscribe(1, "a/b", QoS::ExactlyOnce);
    h.connect(2, "pub", V311);
    h.publish(2, msg("a/b", "x", QoS::AtLeastOnce, 1));
    let out = h.take(1);
    let p = publishes(&out);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].qos, QoS::AtLeastOnce);
}

#[test]
fn dollar_topics_skip_leading_wildcards() {
    let mut h = H::new();
    h.connect(1, "all", V311);
    h.subscribe(1, "#", QoS::AtMostOnce);
    h.connect(3, "sys", V311);
    h.subscribe(3, "$SYS/#", QoS::AtMostOnce);
    h.connect(2, "pub", V311);
    h.publish(2, msg("$SYS/x", "s", QoS::AtMostOnce, 0));
    assert!(h.take(1).is_empty());
    assert_eq!(payloads(&h.take(3)), ["s"]);
}

#[test]
fn invalid_filters_fail_per_version_and_invalid_topics_close() {
    let mut h = H::new();
    h.connect(1, "old", V311);
    assert_eq!(
        suback_codes(&h.subscribe(1, "a/#/b", QoS::AtMostOnce)),
        [ReasonCode::V3_SUBACK_FAILURE]
    );
    h.connect(2, "new", V5);
    assert_eq!(
        suback_codes(&h.subscribe(2, "a+", QoS::AtMostOnce)),
        [ReasonCode::TOPIC_FILTER_INVALID]
    );
    h.publish(2, msg("a/+", "x", QoS::AtMostOnce, 0));
    let out = h.take(2);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::TOPIC_NAME_INVALID)
    );
    assert!(h.is_closed(2));
}

#[test]
fn unsubscribe_stops_delivery() {
    let mut h = H::new();
    h.connect(1, "sub", V5);
    h.subscribe(1, "t", QoS::AtMostOnce);
    let u = Unsubscribe {
        packet_id: 4,
        properties: Properties::default(),
        filters: vec!["t".into(), "never".into()],
    };
    h.send(1, Packet::Unsubscribe(u));
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::UnsubAck(UnsubAck { packet_id: 4, codes, .. })]
        if codes == &[ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_FOUND])
    );
    h.connect(2, "pub", V311);
    h.publish(2, msg("t", "x", QoS::AtMostOnce, 0));
    assert!(h.take(1).is_empty());
}

#[test]
fn fan_out_shares_one_payload() {
    let mut h = H::new();
    for conn in 1..=3 {
        h.connect(conn, &format!("s{conn}"), V311);
        h.subscribe(conn, "f", QoS::AtLeastOnce);
    }
    h.connect(9, "pub", V311);
    // Drive the broker directly: the harness would decode the output.
    let big = Bytes::from(vec![b's'; crate::broker::fastpath::COPY_MAX + 1]);
    let publish = Publish {
        payload: big.clone(),
        ..msg("f", "", QoS::AtLeastOnce, 1)
    };
    h.b.handle_packet(9, Packet::Publish(publish), h.now);
    // On the wire side every subscriber's payload chunk is the publisher's
    // one buffer; only the headers were written per subscriber.
    let mut payload_ptrs = Vec::new();
    let mut chunks = Vec::new();
    while let Some(conn) = h.b.poll_transmit_bytes(&mut chunks) {
        if (1..=3).contains(&conn) {
            let p = chunks
                .iter()
                .find(|c| c[..] == big[..])
                .expect("payload chunk");
            payload_ptrs.push(p.as_ptr());
        }
        chunks.clear();
    }
    assert_eq!(payload_ptrs.len(), 3);
    assert!(payload_ptrs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn host_hooks_refuse_publishes_and_subscriptions() {
    let config = BrokerConfig {
        hooks: Hooks {
            publish: true,
            subscribe: true,
            ..Hooks::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect(1, "sub", V5);
    h.send(
        1,
        Packet::Subscribe(Subscribe {
            packet_id: 3,
            properties: Properties::default(),
            filters: vec![
                ("ok".into(), opts(QoS::ExactlyOnce)),
                ("no".into(), opts(QoS::AtMostOnce)),
            ],
        }),
    );
    let ev = h.events();
    assert!(
        matches!(&ev[..], [BrokerEvent::SubscribeRequest { filters, .. }] if filters.len() == 2)
    );
    h.b.handle_decision(
        1,
        Decision::Subscribe(vec![ReasonCode::GRANTED_QOS_1, ReasonCode::NOT_AUTHORIZED]),
        h.now,
    );
    assert_eq!(
        suback_codes(&h.take(1)),
        [ReasonCode::GRANTED_QOS_1, ReasonCode::NOT_AUTHORIZED]
    );

    h.connect(2, "pub", V5);
    h.publish(2, msg("ok", "denied", QoS::AtLeastOnce, 5));
    h.publish(2, msg("ok", "allowed", QoS::AtLeastOnce, 6));
    assert!(h.take(2).is_empty(), "waiting for the host");
    let ev = h.events();
    assert!(matches!(&ev[..], [BrokerEvent::PublishRequest { topic, .. }] if topic == "ok"));
    h.b.handle_decision(2, Decision::Publish(ReasonCode::NOT_AUTHORIZED), h.now);
    let out = h.take(2);
    assert!(
        matches!(&out[..], [Packet::PubAck(a)] if a.reason == ReasonCode::NOT_AUTHORIZED
        && prop_of(&a.properties, PropertyId::REASON_STRING).is_some())
    );
    assert_eq!(h.events().len(), 1, "the held publish is asked next");
    h.b.handle_decision(2, Decision::Publish(ReasonCode::SUCCESS), h.now);
    assert_eq!(h.take(2), vec![Packet::PubAck(ack(6))]);
    assert_eq!(payloads(&h.take(1)), ["allowed"]);
}

#[test]
fn host_injection_reaches_subscribers() {
    let mut h = H::new();
    h.connect(1, "sub", V311);
    h.subscribe(1, "inj/#", QoS::AtLeastOnce);
    let now = h.now;
    h.b.publish(
        "inj/x",
        Bytes::from_static(b"hi"),
        QoS::AtLeastOnce,
        false,
        &Properties::default(),
        now,
    )
    .unwrap();
    assert_eq!(payloads(&h.take(1)), ["hi"]);
    assert!(
        h.b.publish(
            "bad/#",
            Bytes::new(),
            QoS::AtMostOnce,
            false,
            &Properties::default(),
            now
        )
        .is_err()
    );
}

#[test]
fn overlapping_subscriptions_made_across_reconnects_still_deliver_once() {
    let mut h = H::new();
    let keep = Connect {
        clean_start: false,
        ..connect("c", V311)
    };
    h.connect_with(1, keep.clone());
    h.subscribe(1, "a/#", QoS::AtMostOnce);
    h.b.handle_closed(1, h.now);
    // The second subscription is made from another connection of the same
    // persistent session.
    h.connect_with(2, keep);
    h.take(2);
    h.subscribe(2, "a/+", QoS::AtLeastOnce);
    h.connect(3, "pub", V311);
    h.publish(3, msg("a/b", "x", QoS::AtLeastOnce, 1));
    let out = h.take(2);
    let p = publishes(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(p[0].qos, QoS::AtLeastOnce, "highest granted QoS wins");
}

#[test]
fn small_messages_go_out_as_one_contiguous_chunk_per_connection() {
    let mut h = H::new();
    h.connect(1, "s", V311);
    h.subscribe(1, "f", QoS::AtMostOnce);
    h.connect(9, "pub", V311);
    for _ in 0..10 {
        h.b.handle_packet(
            9,
            Packet::Publish(msg("f", "tiny", QoS::AtMostOnce, 0)),
            h.now,
        );
    }
    let mut chunks = Vec::new();
    let mut found = false;
    while let Some(conn) = h.b.poll_transmit_bytes(&mut chunks) {
        if conn == 1 {
            assert_eq!(chunks.len(), 1, "one run for ten PUBLISHes");
            // 2 fixed header + 2 topic length + 1 topic + 4 payload, ten times.
            assert_eq!(chunks[0].len(), 10 * 9);
            found = true;
        }
        chunks.clear();
    }
    assert!(found);
}
