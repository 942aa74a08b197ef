//! Flow control: a full subscriber queue pauses its publishers instead of
//! dropping, releases them at half, never pauses a cycle, and a subscriber
//! full for `slow_consumer_timeout` is disconnected with its session kept.

use super::*;
use crate::broker::Limits;
use crate::protocol::codec::ProtocolVersion::{V5, V311};

/// Window 1, queue mark 4: small enough to fill in a few messages.
fn small() -> H {
    H::with(BrokerConfig {
        limits: Limits {
            max_inflight: 1,
            max_queued: 4,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    })
}

fn body(i: usize) -> &'static str {
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"][i]
}

/// Acknowledges every PUBLISH `conn` gets until none come; returns payloads.
fn drain(h: &mut H, conn: ConnId) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let out = h.take(conn);
        let sent: Vec<(u16, String)> = publishes(&out)
            .iter()
            .map(|p| (p.packet_id, String::from_utf8_lossy(&p.payload).into()))
            .collect();
        if sent.is_empty() {
            return got;
        }
        for (id, p) in sent {
            got.push(p);
            h.send(conn, Packet::PubAck(ack(id)));
        }
    }
}

#[test]
fn a_full_queue_pauses_the_publisher_and_loses_nothing() {
    let mut h = small();
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    for i in 0..10 {
        h.publish(2, msg("t", body(i), QoS::AtLeastOnce, i as u16 + 1));
    }
    // One in flight, four queued: the fifth message filled the queue and
    // paused the publisher; the other five wait unread (unacknowledged).
    assert!(!h.b.wants_input(2));
    assert_eq!(h.take(2).len(), 5);
    assert_eq!(h.b.stats().flow_pauses, 1);
    let got = drain(&mut h, 1);
    let want: Vec<String> = (0..10).map(|i| body(i).to_string()).collect();
    assert_eq!(got, want, "all, in order");
    assert!(h.b.wants_input(2));
    assert_eq!(h.take(2).len(), 5, "the held ones are acknowledged");
    assert_eq!(h.b.stats().dropped, 0);
}

#[test]
fn the_publisher_goes_on_only_at_half() {
    let mut h = small();
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    for i in 0..6 {
        h.publish(2, msg("t", body(i), QoS::AtLeastOnce, i as u16 + 1));
    }
    assert!(!h.b.wants_input(2));
    // Each ack moves one queued message into the window: 4 -> 3 -> 2.
    let id = publishes(&h.take(1))[0].packet_id;
    h.send(1, Packet::PubAck(ack(id)));
    assert!(!h.b.wants_input(2), "3 queued: above half of 4");
    let id = publishes(&h.take(1))[0].packet_id;
    h.send(1, Packet::PubAck(ack(id)));
    // Down to 2: released; the held sixth message is routed at once and
    // queued behind them (3 queued, not full), so it stays released.
    assert!(h.b.wants_input(2));
}

#[test]
fn a_client_feeding_itself_is_never_paused() {
    let mut h = small();
    h.connect(1, "me", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    for i in 0..10 {
        h.publish(1, msg("t", body(i), QoS::AtLeastOnce, i as u16 + 1));
    }
    assert!(h.b.wants_input(1), "pausing it would wait for its own acks");
    let got = drain(&mut h, 1);
    assert_eq!(got.len(), 10);
    assert_eq!(h.b.stats().dropped, 0);
}

#[test]
fn a_queue_no_publisher_can_be_paused_for_is_still_bounded() {
    // Window 1 and mark 4: the hard cap is 16 queued.
    let mut h = small();
    h.connect(1, "me", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    // It feeds itself and never acknowledges: one in flight, 15 queued.
    for i in 0..16 {
        h.publish(1, msg("t", "x", QoS::AtLeastOnce, i + 1));
    }
    h.advance(0);
    assert!(!h.is_closed(1), "under the cap it may grow past its mark");
    h.publish(1, msg("t", "x", QoS::AtLeastOnce, 17));
    h.advance(0);
    let out = h.take(1);
    assert!(h.is_closed(1), "at the cap its connection ends: {out:?}");
    assert_eq!(h.b.stats().slow_consumers, 1);
}

#[test]
fn two_clients_feeding_each_other_do_not_deadlock() {
    let mut h = small();
    h.connect(1, "a", V311);
    h.subscribe(1, "to/a", QoS::AtLeastOnce);
    h.connect(2, "b", V311);
    h.subscribe(2, "to/b", QoS::AtLeastOnce);
    for i in 0..10 {
        let pid = i as u16 + 1;
        h.publish(1, msg("to/b", body(i), QoS::AtLeastOnce, pid));
        h.publish(2, msg("to/a", body(i), QoS::AtLeastOnce, pid));
    }
    assert!(
        h.b.wants_input(1) || h.b.wants_input(2),
        "one of them is always read"
    );
    // Reading the unpaused one lets its acks through; both finish.
    let (mut to_a, mut to_b) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        to_a.extend(drain(&mut h, 1));
        to_b.extend(drain(&mut h, 2));
    }
    assert_eq!((to_a.len(), to_b.len()), (10, 10));
    assert_eq!(h.b.stats().dropped, 0);
}

#[test]
fn qos0_is_dropped_and_counted_when_its_publisher_cannot_wait() {
    let mut h = small();
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    for i in 0..5 {
        h.b.publish(
            "t",
            Bytes::from_static(b"q1"),
            QoS::AtLeastOnce,
            false,
            &Properties::default(),
            h.now,
        )
        .unwrap();
        let _ = i;
    }
    // Full now (1 in flight, 4 queued). The host cannot be paused: QoS 0
    // is dropped, QoS 1 still queued.
    h.b.publish(
        "t",
        Bytes::from_static(b"q0"),
        QoS::AtMostOnce,
        false,
        &Properties::default(),
        h.now,
    )
    .unwrap();
    h.b.publish(
        "t",
        Bytes::from_static(b"q1"),
        QoS::AtLeastOnce,
        false,
        &Properties::default(),
        h.now,
    )
    .unwrap();
    let s = h.b.stats();
    assert_eq!((s.dropped, s.dropped_qos0), (1, 1));
    assert_eq!(drain(&mut h, 1), vec!["q1"; 6]);
}

#[test]
fn offline_queue_limits_drop_count_and_say_so_once() {
    let mut h = small();
    h.b.config.hooks.notices = true;
    let mut c = connect("off", V311);
    c.clean_start = false;
    h.connect_with(1, c);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.b.handle_closed(1, h.now);
    h.connect(2, "pub", V311);
    for i in 0..6 {
        h.publish(2, msg("t", body(i), QoS::AtLeastOnce, i as u16 + 1));
    }
    assert!(h.b.wants_input(2), "offline sessions pause no one");
    let s = h.b.stats();
    assert_eq!((s.dropped, s.dropped_offline), (2, 2));
    let full: Vec<BrokerEvent> = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, BrokerEvent::QueueFull { .. }))
        .collect();
    assert_eq!(
        full,
        [BrokerEvent::QueueFull {
            client_id: "off".into()
        }],
        "said once for the two drops"
    );
}

#[test]
fn a_slow_consumer_is_disconnected_and_keeps_its_messages() {
    let mut h = small();
    let mut c = connect("slow", V5);
    c.clean_start = false;
    c.properties = props(vec![(
        PropertyId::SESSION_EXPIRY_INTERVAL,
        PropertyValue::U32(600),
    )]);
    h.connect_with(1, c.clone());
    h.subscribe(1, "t", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    h.b.handle_packet(2, Packet::PingReq, h.now);
    for i in 0..6 {
        h.publish(2, msg("t", body(i), QoS::AtLeastOnce, i as u16 + 1));
    }
    assert!(!h.b.wants_input(2));
    h.take(1);
    h.advance(29);
    assert!(!h.is_closed(1), "not yet");
    h.advance(1);
    let out = h.take(1);
    assert!(
        matches!(out.last(), Some(Packet::Disconnect(d)) if d.reason == ReasonCode::QUOTA_EXCEEDED),
        "{out:?}"
    );
    assert!(h.is_closed(1));
    assert_eq!(h.b.stats().slow_consumers, 1);
    assert!(h.b.wants_input(2), "its publisher goes on");
    assert!(!h.is_closed(2), "and was not taken for idle meanwhile");
    // Back again: the in-flight one and everything queued arrive.
    let out = h.connect_with(3, c);
    let mut got = payloads(&out);
    let ids: Vec<u16> = publishes(&out).iter().map(|p| p.packet_id).collect();
    for id in ids {
        h.send(3, Packet::PubAck(ack(id)));
    }
    got.extend(drain(&mut h, 3));
    // The held sixth was routed after the disconnect, to an offline
    // session already at its limit: the drop policy took it, counted.
    let want: Vec<String> = (0..5).map(|i| body(i).to_string()).collect();
    assert_eq!(got, want);
    assert_eq!(h.b.stats().dropped_offline, 1);
}

#[test]
fn a_paused_publisher_is_not_timed_out_for_silence() {
    let mut h = small();
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtLeastOnce);
    let mut c = connect("pub", V311);
    c.keep_alive = 10;
    h.connect_with(2, c);
    for i in 0..6 {
        h.publish(2, msg("t", body(i), QoS::AtLeastOnce, i as u16 + 1));
    }
    assert!(!h.b.wants_input(2));
    h.advance(25);
    assert!(
        !h.is_closed(2),
        "1.5 x keepalive passed while we did not read it"
    );
}

#[test]
fn a_congested_subscriber_gets_qos0_queued_and_pauses_its_publisher() {
    let mut h = small();
    h.connect(1, "sub", V311);
    h.subscribe(1, "t", QoS::AtMostOnce);
    h.connect(2, "pub", V311);
    h.publish(2, msg("t", "direct", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&h.take(1)), ["direct"]);
    // The host says sub's socket output piles up: QoS 0 now waits in the
    // queue, which fills and pauses the publisher; nothing is dropped.
    h.b.handle_congestion(1, true, h.now);
    for i in 0..6 {
        h.publish(2, msg("t", body(i), QoS::AtMostOnce, 0));
    }
    assert!(
        h.take(1).is_empty(),
        "nothing more handed over while congested"
    );
    assert!(!h.b.wants_input(2));
    assert_eq!(h.b.stats().dropped, 0);
    h.b.handle_congestion(1, false, h.now);
    let want: Vec<String> = (0..6).map(|i| body(i).to_string()).collect();
    assert_eq!(payloads(&h.take(1)), want);
    assert!(h.b.wants_input(2));
}
