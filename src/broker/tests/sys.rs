//! The `$SYS` tree: off unless configured, mosquitto's topics and formats,
//! retained, version once, changed values only, loads as mosquitto
//! computes them, never matched by a leading wildcard; and the counters.

use super::*;
use crate::protocol::codec::ProtocolVersion::{V5, V311};
use crate::protocol::codec::{Disconnect, Unsubscribe};

fn sys_config(secs: u64) -> BrokerConfig {
    BrokerConfig {
        sys_interval: Some(Duration::from_secs(secs)),
        ..BrokerConfig::default()
    }
}

/// (topic, payload, retain flag) of every PUBLISH in `out`.
fn messages(out: &[Packet]) -> Vec<(String, String, bool)> {
    publishes(out)
        .iter()
        .map(|p| {
            let payload = String::from_utf8_lossy(&p.payload).into_owned();
            (p.topic.clone(), payload, p.retain)
        })
        .collect()
}

fn value<'a>(msgs: &'a [(String, String, bool)], topic: &str) -> Option<&'a str> {
    msgs.iter()
        .rev()
        .find(|(t, _, _)| t == topic)
        .map(|(_, v, _)| v.as_str())
}

#[test]
fn sys_is_off_unless_configured() {
    let mut h = H::new();
    h.b.handle_start(h.now);
    assert_eq!(h.b.poll_timeout(), None);
    h.connect(1, "s", V311);
    h.subscribe(1, "$SYS/#", QoS::AtMostOnce);
    h.advance(3600);
    assert!(publishes(&h.take(1)).is_empty());
}

#[test]
fn sys_tree_has_mosquittos_topics_retained() {
    let mut h = H::with(sys_config(10));
    h.b.handle_start(h.now);
    h.connect(1, "sys", V311);
    let first = messages(&h.subscribe(1, "$SYS/#", QoS::AtMostOnce));
    assert!(first.iter().all(|(_, _, retain)| *retain), "all retained");
    let v = |t: &str| value(&first, t).unwrap_or_else(|| panic!("{t} missing: {first:?}"));
    assert!(v("$SYS/broker/version").starts_with("ferromq version "));
    assert_eq!(v("$SYS/broker/uptime"), "0 seconds");
    for t in [
        "clients/connected",
        "clients/disconnected",
        "clients/total",
        "clients/maximum",
        "messages/received",
        "messages/sent",
        "bytes/received",
        "bytes/sent",
        "subscriptions/count",
        "publish/messages/received",
        "publish/messages/sent",
    ] {
        assert_eq!(v(&format!("$SYS/broker/{t}")), "0", "{t} at the start");
    }
    // The version went out first (retained), so it is counted already.
    assert_eq!(v("$SYS/broker/retained messages/count"), "1");
    for t in [
        "messages/received",
        "messages/sent",
        "bytes/sent",
        "connections",
    ] {
        for m in ["1min", "5min", "15min"] {
            assert_eq!(v(&format!("$SYS/broker/load/{t}/{m}")), "0.00");
        }
    }

    // Traffic, then the next publication: live, changed values only.
    h.connect(2, "all", V5);
    h.subscribe(2, "#", QoS::AtMostOnce);
    h.connect(3, "pub", V311);
    for _ in 0..60 {
        h.publish(3, msg("a/b", "x", QoS::AtMostOnce, 0));
    }
    h.take(1);
    assert_eq!(publishes(&h.take(2)).len(), 60);
    h.advance(10);
    let next = messages(&h.take(1));
    let v = |t: &str| value(&next, t).unwrap_or_else(|| panic!("{t} missing: {next:?}"));
    assert_eq!(v("$SYS/broker/uptime"), "10 seconds");
    assert_eq!(v("$SYS/broker/clients/connected"), "3");
    assert_eq!(v("$SYS/broker/clients/total"), "3");
    assert_eq!(v("$SYS/broker/clients/maximum"), "3");
    assert_eq!(v("$SYS/broker/subscriptions/count"), "2");
    assert_eq!(v("$SYS/broker/publish/messages/received"), "60");
    // Retained so far: the $SYS topics of the first publication.
    let distinct: std::collections::HashSet<_> = first.iter().map(|(t, _, _)| t).collect();
    assert_eq!(
        v("$SYS/broker/retained messages/count"),
        distinct.len().to_string()
    );
    assert!(
        value(&next, "$SYS/broker/version").is_none(),
        "version once"
    );
    assert!(
        value(&next, "$SYS/broker/clients/disconnected").is_none(),
        "unchanged values are not published again"
    );
    // 60 messages in 10 s is 360 a minute; smoothed over 1, 5, 15 minutes
    // from 0 as mosquitto does: rate * (1 - exp(-10 s / N min)).
    for (m, n) in [("1min", 1.0f64), ("5min", 5.0), ("15min", 15.0)] {
        let want = 360.0 * (1.0 - (-10.0 / (60.0 * n)).exp());
        assert_eq!(
            v(&format!("$SYS/broker/load/publish/received/{m}")),
            format!("{want:.2}")
        );
    }
    assert!(
        !next.iter().any(|(_, _, retain)| *retain),
        "live, not retained"
    );
    // `#` never matches a `$` topic.
    assert!(publishes(&h.take(2)).is_empty(), "# got $SYS messages");

    h.send(3, Packet::Disconnect(Disconnect::default()));
    h.advance(10);
    let after = messages(&h.take(1));
    assert_eq!(value(&after, "$SYS/broker/clients/connected"), Some("2"));
    assert_eq!(value(&after, "$SYS/broker/clients/maximum"), None);
}

#[test]
fn counters_follow_subscriptions_and_connections() {
    let mut h = H::new();
    h.connect_with(
        1,
        Connect {
            clean_start: false,
            ..connect("p", V311)
        },
    );
    h.subscribe(1, "a", QoS::AtMostOnce);
    h.subscribe(1, "a", QoS::AtLeastOnce);
    h.subscribe(1, "b/#", QoS::AtMostOnce);
    h.connect(2, "c", V311);
    h.subscribe(2, "c", QoS::AtMostOnce);
    let s = h.b.stats();
    assert_eq!(
        (s.subscriptions, s.clients_connected, s.clients_maximum),
        (3, 2, 2)
    );
    h.send(
        1,
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 2,
            properties: Properties::default(),
            filters: vec!["a".into(), "zzz".into()],
        }),
    );
    h.b.handle_closed(2, h.now);
    let s = h.b.stats();
    assert_eq!(
        (s.subscriptions, s.clients_connected, s.clients_maximum),
        (1, 1, 2)
    );
    h.b.handle_closed(1, h.now);
    let s = h.b.stats();
    assert_eq!(
        (s.subscriptions, s.sessions, s.clients_connected),
        (1, 1, 0)
    );
    // A clean reconnect ends the session and its subscriptions.
    h.connect(3, "p", V311);
    let s = h.b.stats();
    assert_eq!(
        (s.subscriptions, s.clients_connected, s.connects),
        (0, 1, 3)
    );
    assert!(s.packets_in >= 8 && s.packets_out >= 8, "{s:?}");
}
