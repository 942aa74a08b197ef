//! Unit tests of the QoS 1/2 flows in both directions, the in-flight window,
//! packet ids, retries, redelivery after reconnect and send ordering.

use bytes::Bytes;

use super::client::{ClientSession, Event, SessionError};
use super::test_support::*;
use crate::protocol::codec::{
    Packet, Properties, ProtocolVersion, PubResp, QoS, ReasonCode, SubAck, SubscriptionOptions,
    UnsubAck,
};
use std::time::Instant;

#[test]
fn outgoing_qos1_completes_on_puback() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    let id = publish(&mut s, "a/b", QoS::AtLeastOnce, t0);
    assert_eq!(id, 1);
    let out = packets(&mut s, t0);
    let p = published(&out[0]);
    assert_eq!((p.qos, p.packet_id, p.dup), (QoS::AtLeastOnce, 1, false));
    assert_eq!(s.pending_packet_ids(), vec![1]);
    // A PUBACK for an unknown id is ignored, not fatal.
    s.handle_packet(Packet::PubAck(resp(99)), t0);
    assert!(events(&mut s).is_empty());
    s.handle_packet(Packet::PubAck(resp(1)), t0);
    assert_eq!(
        events(&mut s),
        vec![Event::PublishComplete {
            packet_id: 1,
            reason: ReasonCode::SUCCESS,
            properties: Properties::default()
        }]
    );
    assert!(s.pending_packet_ids().is_empty());
    assert!(s.is_connected());
}

#[test]
fn outgoing_qos2_pubrec_pubrel_pubcomp() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    let id = publish(&mut s, "a", QoS::ExactlyOnce, t0);
    packets(&mut s, t0);
    // PUBACK is not the answer to a QoS 2 publish.
    s.handle_packet(Packet::PubAck(resp(id)), t0);
    s.handle_packet(Packet::PubComp(resp(id)), t0);
    assert!(events(&mut s).is_empty());
    s.handle_packet(Packet::PubRec(resp(id)), t0);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRel(resp(id))]);
    assert_eq!(
        events(&mut s),
        vec![Event::PublishReleased { packet_id: id }]
    );
    // A duplicate PUBREC gets the PUBREL again, and no second event.
    s.handle_packet(Packet::PubRec(resp(id)), t0);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRel(resp(id))]);
    assert!(events(&mut s).is_empty());
    s.handle_packet(Packet::PubComp(resp(id)), t0);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::PublishComplete { packet_id, .. }] if *packet_id == id
    ));
    assert_eq!(s.inflight_len(), 0);
}

#[test]
fn v5_pubrec_with_error_completes_without_pubrel() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V5), t0);
    let id = publish(&mut s, "a", QoS::ExactlyOnce, t0);
    packets(&mut s, t0);
    let rec = PubResp {
        packet_id: id,
        reason: ReasonCode::QUOTA_EXCEEDED,
        properties: Properties::default(),
    };
    s.handle_packet(Packet::PubRec(rec), t0);
    assert!(packets(&mut s, t0).is_empty());
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::PublishComplete { reason, .. }] if *reason == ReasonCode::QUOTA_EXCEEDED
    ));
}

#[test]
fn incoming_qos1_delivers_then_acks() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("in", QoS::AtLeastOnce, 42), t0);
    let ev = events(&mut s);
    assert!(matches!(ev.as_slice(), [Event::Message(p)] if p.topic == "in" && p.packet_id == 42));
    assert_eq!(packets(&mut s, t0), vec![Packet::PubAck(resp(42))]);
}

#[test]
fn incoming_qos2_delivered_once_and_acked_each_time() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("in", QoS::ExactlyOnce, 7), t0);
    assert_eq!(events(&mut s).len(), 1);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(7))]);
    // The server resends before our PUBREC reached it: ack, don't deliver.
    let mut dup = incoming("in", QoS::ExactlyOnce, 7);
    if let Packet::Publish(p) = &mut dup {
        p.dup = true;
    }
    s.handle_packet(dup, t0);
    assert!(events(&mut s).is_empty(), "not delivered twice");
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(7))]);
    s.handle_packet(Packet::PubRel(resp(7)), t0);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(7))]);
    // After PUBREL the id is free: a new message with it is a new delivery.
    s.handle_packet(incoming("in", QoS::ExactlyOnce, 7), t0);
    assert_eq!(events(&mut s).len(), 1);
}

#[test]
fn v5_pubrel_for_unknown_id_answers_not_found() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V5), t0);
    s.handle_packet(Packet::PubRel(resp(5)), t0);
    let out = packets(&mut s, t0);
    assert!(matches!(
        out.as_slice(),
        [Packet::PubComp(c)] if c.reason == ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
    ));
}

#[test]
fn window_full_refuses_qos_above_zero_only() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.max_inflight = 2;
    let mut s = connected(cfg, t0);
    publish(&mut s, "a", QoS::AtLeastOnce, t0);
    publish(&mut s, "a", QoS::ExactlyOnce, t0);
    let full = s.publish(
        "a".into(),
        Bytes::new(),
        QoS::AtLeastOnce,
        false,
        Properties::default(),
        t0,
    );
    assert_eq!(full, Err(SessionError::InflightFull));
    assert_eq!(publish(&mut s, "a", QoS::AtMostOnce, t0), 0);
    s.handle_packet(Packet::PubAck(resp(1)), t0);
    assert_eq!(publish(&mut s, "a", QoS::AtLeastOnce, t0), 3);
}

#[test]
fn ids_are_shared_and_reused_only_after_release() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    let p = publish(&mut s, "a", QoS::AtLeastOnce, t0);
    let sub = s
        .subscribe(
            vec![("a/+".into(), SubscriptionOptions::default())],
            Properties::default(),
            t0,
        )
        .unwrap();
    let unsub = s
        .unsubscribe(vec!["a/#".into()], Properties::default(), t0)
        .unwrap();
    assert_eq!((p, sub, unsub), (1, 2, 3));
    let suback = SubAck {
        packet_id: sub,
        properties: Properties::default(),
        codes: vec![ReasonCode::GRANTED_QOS_1],
    };
    s.handle_packet(Packet::SubAck(suback.clone()), t0);
    s.handle_packet(Packet::SubAck(suback.clone()), t0);
    let unsuback = UnsubAck {
        packet_id: unsub,
        ..UnsubAck::default()
    };
    s.handle_packet(Packet::UnsubAck(unsuback.clone()), t0);
    assert_eq!(
        events(&mut s),
        vec![Event::SubAck(suback), Event::UnsubAck(unsuback)],
        "a second SUBACK for a finished id is ignored"
    );
    // Released ids are not handed out again before the cursor wraps.
    assert_eq!(publish(&mut s, "a", QoS::AtLeastOnce, t0), 4);
    assert_eq!(s.pending_packet_ids(), vec![1, 4]);
}

#[test]
fn invalid_commands_are_refused() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    for topic in ["", "a/+", "#"] {
        let r = s.publish(
            topic.into(),
            Bytes::new(),
            QoS::AtMostOnce,
            false,
            Properties::default(),
            t0,
        );
        assert!(matches!(r, Err(SessionError::Invalid(_))), "{topic:?}");
    }
    // The codec's filter rules, shared subscriptions included: a server
    // would close the connection for any of these.
    for filter in ["a/#/b", "a+", "$share//a", "$share/g"] {
        let bad = vec![(filter.to_string(), SubscriptionOptions::default())];
        assert!(
            matches!(
                s.subscribe(bad, Properties::default(), t0),
                Err(SessionError::Invalid(_))
            ),
            "{filter:?}"
        );
    }
    assert!(matches!(
        s.unsubscribe(vec!["$share/g/".into()], Properties::default(), t0),
        Err(SessionError::Invalid("invalid shared subscription"))
    ));
    assert!(matches!(
        s.subscribe(vec![], Properties::default(), t0),
        Err(SessionError::Invalid(_))
    ));
    assert!(matches!(
        s.unsubscribe(vec![String::new()], Properties::default(), t0),
        Err(SessionError::Invalid(_))
    ));
    assert!(
        packets(&mut s, t0).is_empty(),
        "nothing queued for refused commands"
    );
}

#[test]
fn retry_resends_publish_with_dup_and_pubrel_in_3x() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.retry_interval = secs(3);
    cfg.keep_alive = secs(0);
    let mut s = connected(cfg, t0);
    let a = publish(&mut s, "a", QoS::AtLeastOnce, t0);
    let b = publish(&mut s, "b", QoS::ExactlyOnce, t0 + secs(1));
    packets(&mut s, t0 + secs(1));
    assert_eq!(s.poll_timeout(), Some(t0 + secs(3)));
    s.handle_timeout(t0 + secs(3));
    let out = packets(&mut s, t0 + secs(3));
    assert_eq!(out.len(), 1, "only the publish that waited 3 s: {out:?}");
    assert!(published(&out[0]).dup);
    assert_eq!(published(&out[0]).packet_id, a);
    s.handle_packet(Packet::PubRec(resp(b)), t0 + secs(3));
    assert_eq!(packets(&mut s, t0 + secs(3)), vec![Packet::PubRel(resp(b))]);
    s.handle_packet(Packet::PubAck(resp(a)), t0 + secs(3));
    // The PUBREL is resent after another interval.
    s.handle_timeout(t0 + secs(6));
    assert_eq!(packets(&mut s, t0 + secs(6)), vec![Packet::PubRel(resp(b))]);
    s.handle_packet(Packet::PubComp(resp(b)), t0 + secs(6));
    s.handle_timeout(t0 + secs(9));
    assert!(packets(&mut s, t0 + secs(9)).is_empty());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn no_retry_during_a_v5_connection() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V5);
    cfg.retry_interval = secs(3);
    cfg.keep_alive = secs(0);
    let mut s = connected(cfg, t0);
    publish(&mut s, "a", QoS::AtLeastOnce, t0);
    packets(&mut s, t0);
    assert_eq!(s.poll_timeout(), None);
}

/// Publishes two QoS 1 and one QoS 2 (moved to PUBREL), then loses the connection.
fn session_with_unacked(cfg: super::client::ClientConfig, t0: Instant) -> ClientSession {
    let mut s = connected(cfg, t0);
    publish(&mut s, "one", QoS::AtLeastOnce, t0);
    publish(&mut s, "two", QoS::ExactlyOnce, t0);
    publish(&mut s, "three", QoS::AtLeastOnce, t0);
    packets(&mut s, t0);
    s.handle_packet(Packet::PubRec(resp(2)), t0);
    packets(&mut s, t0);
    s.handle_connection_lost(t0);
    events(&mut s);
    assert_eq!(s.pending_packet_ids(), vec![1, 2, 3]);
    s
}

#[test]
fn reconnect_with_session_present_resends_in_order_with_dup() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.clean_start = false;
    let mut s = session_with_unacked(cfg.clone(), t0);
    s.reconnect(cfg, t0 + secs(1));
    assert!(matches!(
        packets(&mut s, t0).as_slice(),
        [Packet::Connect(_)]
    ));
    s.handle_packet(connack(true), t0 + secs(1));
    assert!(matches!(events(&mut s).as_slice(), [Event::Connected(_)]));
    let out = packets(&mut s, t0 + secs(1));
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(published(&out[0]).dup && published(&out[0]).topic == "one");
    assert_eq!(out[1], Packet::PubRel(resp(2)));
    assert!(published(&out[2]).dup && published(&out[2]).topic == "three");
}

#[test]
fn reconnect_without_session_present_drops_state() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.clean_start = false;
    let mut s = session_with_unacked(cfg.clone(), t0);
    s.reconnect(cfg, t0);
    packets(&mut s, t0);
    s.handle_packet(connack(false), t0);
    assert!(packets(&mut s, t0).is_empty());
    assert!(s.pending_packet_ids().is_empty());
}

#[test]
fn reconnect_v31_always_resends() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V31);
    cfg.clean_start = false;
    let mut s = session_with_unacked(cfg.clone(), t0);
    s.reconnect(cfg, t0);
    packets(&mut s, t0);
    s.handle_packet(connack(false), t0);
    assert_eq!(packets(&mut s, t0).len(), 3);
}

#[test]
fn reconnect_with_clean_session_drops_state_and_frees_ids() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.clean_start = false;
    let mut s = session_with_unacked(cfg.clone(), t0);
    cfg.clean_start = true;
    s.reconnect(cfg, t0);
    assert!(s.pending_packet_ids().is_empty());
    packets(&mut s, t0);
    s.handle_packet(connack(true), t0);
    assert!(packets(&mut s, t0).is_empty(), "nothing resent");
    assert_eq!(s.inflight_len(), 0);
}

#[test]
fn packets_leave_in_command_order() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    publish(&mut s, "first", QoS::AtMostOnce, t0);
    let sub = s
        .subscribe(
            vec![("x".into(), SubscriptionOptions::default())],
            Properties::default(),
            t0,
        )
        .unwrap();
    publish(&mut s, "second", QoS::ExactlyOnce, t0);
    publish(&mut s, "third", QoS::AtLeastOnce, t0);
    let out = packets(&mut s, t0);
    assert_eq!(out.len(), 4);
    assert_eq!(published(&out[0]).topic, "first");
    assert!(matches!(&out[1], Packet::Subscribe(p) if p.packet_id == sub));
    assert_eq!(published(&out[2]).topic, "second");
    assert_eq!(published(&out[3]).topic, "third");
}

#[test]
fn restored_flows_resume_at_their_phase_after_a_kept_session() {
    use super::inflight::OutState;
    use crate::protocol::codec::Publish;
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.clean_start = false;
    let mut s = ClientSession::new(cfg, t0);
    let p = |id: u16, qos: QoS| Publish {
        qos,
        topic: "t".into(),
        packet_id: id,
        payload: Bytes::from_static(b"x"),
        ..Publish::default()
    };
    assert!(s.restore(p(3, QoS::AtLeastOnce), OutState::AwaitPubAck, t0));
    assert!(s.restore(p(4, QoS::ExactlyOnce), OutState::AwaitPubRec, t0));
    assert!(s.restore(p(5, QoS::ExactlyOnce), OutState::AwaitPubComp, t0));
    assert!(!s.restore(p(5, QoS::ExactlyOnce), OutState::AwaitPubComp, t0));
    assert!(!s.restore(p(6, QoS::AtMostOnce), OutState::AwaitPubAck, t0));
    assert!(matches!(
        packets(&mut s, t0).as_slice(),
        [Packet::Connect(_)]
    ));
    s.handle_packet(connack(true), t0);
    events(&mut s);
    let out = packets(&mut s, t0);
    assert_eq!(out.len(), 3, "{out:?}");
    let (a, b) = (published(&out[0]), published(&out[1]));
    assert_eq!((a.packet_id, a.dup, b.packet_id, b.dup), (3, true, 4, true));
    assert_eq!(out[2], Packet::PubRel(resp(5)));
    // Restored ids are not handed out again while in flight.
    let id = publish(&mut s, "t", QoS::AtLeastOnce, t0);
    assert!(![3, 4, 5].contains(&id), "{id}");
}

fn tracked(version: ProtocolVersion) -> super::client::ClientConfig {
    super::client::ClientConfig {
        track_incoming_qos2: true,
        ..config(version)
    }
}

fn kinds(ev: &[Event]) -> Vec<&'static str> {
    ev.iter()
        .map(|e| match e {
            Event::Message(_) => "message",
            Event::Qos2Received(_) => "received",
            Event::Qos2Released { .. } => "released",
            _ => "other",
        })
        .collect()
}

#[test]
fn tracked_incoming_qos2_v3_is_held_until_pubrel() {
    let t0 = Instant::now();
    let mut s = connected(tracked(ProtocolVersion::V311), t0);
    s.handle_packet(incoming("in", QoS::ExactlyOnce, 7), t0);
    // Reported for the store before the PUBREC is written; not delivered.
    assert_eq!(kinds(&events(&mut s)), vec!["received"]);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(7))]);
    s.handle_packet(incoming("in", QoS::ExactlyOnce, 7), t0);
    assert!(events(&mut s).is_empty(), "a resend is not reported again");
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(7))]);
    s.handle_packet(Packet::PubRel(resp(7)), t0);
    let ev = events(&mut s);
    assert_eq!(kinds(&ev), vec!["message", "released"]);
    assert!(matches!(&ev[0], Event::Message(p) if p.packet_id == 7 && p.payload == "in"));
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(7))]);
    s.handle_packet(Packet::PubRel(resp(7)), t0);
    assert!(events(&mut s).is_empty(), "delivered once");
}

#[test]
fn tracked_incoming_qos2_v5_is_delivered_on_publish() {
    let t0 = Instant::now();
    let mut s = connected(tracked(ProtocolVersion::V5), t0);
    s.handle_packet(incoming("in", QoS::ExactlyOnce, 9), t0);
    assert_eq!(kinds(&events(&mut s)), vec!["received", "message"]);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(9))]);
    s.handle_packet(Packet::PubRel(resp(9)), t0);
    assert_eq!(kinds(&events(&mut s)), vec!["released"]);
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(9))]);
}

#[test]
fn restored_incoming_flows_are_answered_and_not_delivered_twice() {
    let t0 = Instant::now();
    let cfg = super::client::ClientConfig {
        clean_start: false,
        ..tracked(ProtocolVersion::V5)
    };
    let mut s = ClientSession::new(cfg, t0);
    // Read from a store: 3 was delivered (r5-), 4 was not (r-).
    s.restore_incoming(3, None);
    let held = match incoming("held", QoS::ExactlyOnce, 4) {
        Packet::Publish(p) => p,
        _ => unreachable!(),
    };
    s.restore_incoming(4, Some(held));
    packets(&mut s, t0);
    s.handle_packet(connack(true), t0);
    events(&mut s);
    // The server resends PUBLISH 3 (it never saw our PUBREC): acked only.
    s.handle_packet(incoming("in", QoS::ExactlyOnce, 3), t0);
    assert!(events(&mut s).is_empty(), "not delivered twice");
    assert_eq!(packets(&mut s, t0), vec![Packet::PubRec(resp(3))]);
    s.handle_packet(Packet::PubRel(resp(3)), t0);
    assert_eq!(kinds(&events(&mut s)), vec!["released"]);
    // Success, not "packet identifier not found".
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(3))]);
    s.handle_packet(Packet::PubRel(resp(4)), t0);
    let ev = events(&mut s);
    assert_eq!(kinds(&ev), vec!["message", "released"]);
    assert!(matches!(&ev[0], Event::Message(p) if p.topic == "held"));
    assert_eq!(packets(&mut s, t0), vec![Packet::PubComp(resp(4))]);
}
