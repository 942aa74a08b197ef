//! Raw-socket checks of the broker's session rules: topic aliases towards the
//! client, receive maximum / in-flight window, server keep alive, client id
//! rules, wills (protocol error, takeover, 0x04, delay), session and message
//! expiry, reason strings, overlapping subscriptions.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::broker::Limits;
use ferromq::protocol::codec::{
    Connect, Disconnect, Packet, Properties, PropertyId, PropertyValue, ProtocolVersion, PubResp,
    Publish, QoS, ReasonCode, Subscribe, SubscriptionOptions, Will,
};
use support::raw::{Got, Raw, WAIT, Watch, server};

use ProtocolVersion::{V5, V311};

fn prop(p: &Properties, id: PropertyId) -> Option<PropertyValue> {
    p.list.iter().find(|x| x.id == id).map(|x| x.value.clone())
}

fn connack(r: &mut Raw, c: Connect) -> ferromq::protocol::codec::ConnAck {
    r.send(&Packet::Connect(Box::new(c)));
    match r.next(WAIT) {
        Got::Packet(Packet::ConnAck(a)) => a,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

fn will(topic: &str, payload: &'static [u8], props: Properties) -> Option<Will> {
    Some(Will {
        topic: topic.into(),
        payload: Bytes::from_static(payload),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: props,
    })
}

fn publish1(r: &mut Raw, topic: &str, id: u16, payload: &'static [u8], props: Properties) {
    r.send(&Packet::Publish(Publish {
        qos: QoS::AtLeastOnce,
        topic: topic.into(),
        packet_id: id,
        payload: Bytes::from_static(payload),
        properties: props,
        ..Default::default()
    }));
    match r.next(WAIT) {
        Got::Packet(Packet::PubAck(a)) => assert_eq!(a.packet_id, id),
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

#[test]
fn topic_alias_towards_the_client() {
    let (_srv, port) = server(Limits::default());
    let mut s = Raw::connect_with(
        port,
        Connect {
            protocol: V5,
            client_id: "alias-sub".into(),
            properties: Properties::default()
                .with(PropertyId::TOPIC_ALIAS_MAXIMUM, PropertyValue::U16(4)),
            ..Connect::default()
        },
    );
    s.subscribe("ta/#", QoS::AtMostOnce);
    let mut p = Raw::connect(port, V311, "alias-pub");
    let mut alias = None;
    for i in 0..3u8 {
        p.publish0(
            "ta/a/rather/long/topic/name",
            [b"m0", b"m1", b"m2"][i as usize],
        );
        match s.next(WAIT) {
            Got::Packet(Packet::Publish(m)) => {
                let a = prop(&m.properties, PropertyId::TOPIC_ALIAS);
                assert!(a.is_some(), "no alias on message {i}: {m:?}");
                if i == 0 {
                    assert_eq!(m.topic, "ta/a/rather/long/topic/name");
                    alias = a;
                } else {
                    assert_eq!(m.topic, "", "alias reused, topic left out");
                    assert_eq!(a, alias);
                }
            }
            other => panic!("{other:?}"),
        }
    }
    // A client that allows none gets full topics and no alias.
    let mut plain = Raw::connect(port, V5, "alias-none");
    plain.subscribe("ta/#", QoS::AtMostOnce);
    for _ in 0..2 {
        p.publish0("ta/x", b"y");
        s.next(WAIT);
        match plain.next(WAIT) {
            Got::Packet(Packet::Publish(m)) => {
                assert_eq!(m.topic, "ta/x");
                assert_eq!(prop(&m.properties, PropertyId::TOPIC_ALIAS), None);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn receive_maximum_and_inflight_window() {
    let limits = Limits {
        max_inflight: 3,
        ..Limits::default()
    };
    let (_srv, port) = server(limits);
    // (client, window it should see): v5 asking for 2 (below the broker's 3),
    // 3.1.1 limited by the broker's max_inflight.
    let mut r5 = Raw::open(port, V5);
    let a = connack(
        &mut r5,
        Connect {
            protocol: V5,
            client_id: "rm5".into(),
            properties: Properties::default()
                .with(PropertyId::RECEIVE_MAXIMUM, PropertyValue::U16(2)),
            ..Connect::default()
        },
    );
    assert!(a.code.is_success());
    let mut r3 = Raw::connect(port, V311, "rm3");
    for (r, window) in [(&mut r5, 2usize), (&mut r3, 3usize)] {
        r.subscribe("rm/t", QoS::AtLeastOnce);
        let mut p = Raw::connect(port, V311, "rm-pub");
        for i in 0..6u16 {
            publish1(&mut p, "rm/t", i + 1, b"x", Properties::default());
        }
        let mut ids = Vec::new();
        for _ in 0..window {
            match r.next(WAIT) {
                Got::Packet(Packet::Publish(m)) => ids.push(m.packet_id),
                other => panic!("{other:?}"),
            }
        }
        // The window is full: nothing more until an ack.
        assert_eq!(r.next(Duration::from_millis(300)), Got::Timeout);
        for id in ids {
            r.send(&Packet::PubAck(PubResp {
                packet_id: id,
                ..Default::default()
            }));
        }
        let mut rest = 0;
        while rest < 6 - window {
            match r.next(WAIT) {
                Got::Packet(Packet::Publish(m)) => {
                    rest += 1;
                    r.send(&Packet::PubAck(PubResp {
                        packet_id: m.packet_id,
                        ..Default::default()
                    }));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn server_keep_alive_and_client_id_rules() {
    let limits = Limits {
        max_keep_alive: Some(10),
        ..Limits::default()
    };
    let (_srv, port) = server(limits);
    let mut r = Raw::open(port, V5);
    let a = connack(
        &mut r,
        Connect {
            protocol: V5,
            keep_alive: 60,
            ..Connect::default()
        },
    );
    assert_eq!(
        prop(&a.properties, PropertyId::SERVER_KEEP_ALIVE),
        Some(PropertyValue::U16(10))
    );
    match prop(&a.properties, PropertyId::ASSIGNED_CLIENT_IDENTIFIER) {
        Some(PropertyValue::String(s)) => assert!(!s.is_empty()),
        other => panic!("assigned client id: {other:?}"),
    }
    // 3.1.1: an empty id needs a clean session.
    let mut r = Raw::open(port, V311);
    let a = connack(
        &mut r,
        Connect {
            protocol: V311,
            clean_start: false,
            ..Connect::default()
        },
    );
    assert_eq!(a.code, ReasonCode::V3_IDENTIFIER_REJECTED);
    assert_eq!(r.next(WAIT), Got::Closed);
    let mut r = Raw::open(port, V311);
    let a = connack(&mut r, Connect::default());
    assert_eq!(a.code, ReasonCode::SUCCESS);
}

#[test]
fn wills_on_protocol_error_takeover_and_0x04_not_on_normal() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    for version in [V311, V5] {
        let c = |id: &str, payload: &'static [u8]| Connect {
            protocol: version,
            client_id: id.into(),
            will: will("raw/will", payload, Properties::default()),
            ..Connect::default()
        };
        // Protocol error (reserved packet type).
        let mut bad = Raw::connect_with(port, c(&format!("perr-{version:?}"), b"protocol error"));
        bad.bytes(&[0x00, 0x00]);
        bad.next(WAIT);
        watch.w.expect_publish("raw/will", b"protocol error");
        // Takeover: the old connection's will goes, the new one is served.
        let id = format!("twin-{version:?}");
        let mut old = Raw::connect_with(port, c(&id, b"taken over"));
        let mut new = Raw::connect(port, version, &id);
        let code = (version == V5).then_some(ReasonCode::SESSION_TAKEN_OVER);
        old.expect_closed(code, "takeover");
        watch.w.expect_publish("raw/will", b"taken over");
        new.bytes(&[0xC0, 0x00]);
        assert_eq!(new.next(WAIT), Got::Packet(Packet::PingResp));
        // A normal DISCONNECT: no will (the watcher's next message is the
        // marker published afterwards).
        let mut calm = Raw::connect_with(port, c(&format!("calm-{version:?}"), b"calm"));
        calm.send(&Packet::Disconnect(Disconnect::default()));
        assert_eq!(calm.next(WAIT), Got::Closed);
        watch.still_served("normal disconnect");
    }
    // MQTT 5 DISCONNECT 0x04 asks for the will.
    let mut c = Raw::connect_with(
        port,
        Connect {
            protocol: V5,
            client_id: "with-will".into(),
            will: will("raw/will", b"asked for", Properties::default()),
            ..Connect::default()
        },
    );
    c.send(&Packet::Disconnect(Disconnect {
        reason: ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
        properties: Properties::default(),
    }));
    assert_eq!(c.next(WAIT), Got::Closed);
    watch.w.expect_publish("raw/will", b"asked for");
}

#[test]
fn will_delay_interval() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    let c = |id: &str, delay: u32, payload: &'static [u8]| Connect {
        protocol: V5,
        client_id: id.into(),
        clean_start: false,
        will: will(
            "raw/will",
            payload,
            Properties::default().with(PropertyId::WILL_DELAY_INTERVAL, PropertyValue::U32(delay)),
        ),
        properties: Properties::default()
            .with(PropertyId::SESSION_EXPIRY_INTERVAL, PropertyValue::U32(60)),
        ..Connect::default()
    };
    // Delay 1 s: the will comes, but not before a second has passed.
    let start = Instant::now();
    let r = Raw::connect_with(port, c("delayed", 1, b"late"));
    drop(r);
    watch.w.expect_publish("raw/will", b"late");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "will too early: {:?}",
        start.elapsed()
    );
    // Delay 60 s and the client comes back: no will at all.
    let r = Raw::connect_with(port, c("returns", 60, b"never"));
    drop(r);
    let _back = Raw::connect_with(port, c("returns", 60, b"never"));
    watch.still_served("returning client");
}

#[test]
fn session_expiry_set_on_disconnect_and_message_expiry_while_queued() {
    let (_srv, port) = server(Limits::default());
    let c = |clean: bool| Connect {
        protocol: V5,
        client_id: "expiring".into(),
        clean_start: clean,
        properties: Properties::default()
            .with(PropertyId::SESSION_EXPIRY_INTERVAL, PropertyValue::U32(300)),
        ..Connect::default()
    };
    let mut r = Raw::open(port, V5);
    assert!(!connack(&mut r, c(true)).session_present);
    r.subscribe("exp/t", QoS::AtLeastOnce);
    r.send(&Packet::Disconnect(Disconnect::default()));
    assert_eq!(r.next(WAIT), Got::Closed);
    // Queued while offline: one that expires in 1 s and one in 100 s.
    let mut p = Raw::connect(port, V5, "exp-pub");
    let expiry = |s: u32| {
        Properties::default().with(PropertyId::MESSAGE_EXPIRY_INTERVAL, PropertyValue::U32(s))
    };
    publish1(&mut p, "exp/t", 1, b"short", expiry(1));
    publish1(&mut p, "exp/t", 2, b"long", expiry(100));
    // Let the short one's lifetime run out (this is the behaviour under
    // test, not synchronisation).
    std::thread::sleep(Duration::from_millis(2100));
    let mut r = Raw::open(port, V5);
    assert!(connack(&mut r, c(false)).session_present);
    match r.next(WAIT) {
        Got::Packet(Packet::Publish(m)) => {
            assert_eq!(&m.payload[..], b"long");
            match prop(&m.properties, PropertyId::MESSAGE_EXPIRY_INTERVAL) {
                Some(PropertyValue::U32(left)) => {
                    assert!((90..=98).contains(&left), "expiry {left}")
                }
                other => panic!("expiry: {other:?}"),
            }
            r.send(&Packet::PubAck(PubResp {
                packet_id: m.packet_id,
                ..Default::default()
            }));
        }
        other => panic!("{other:?}"),
    }
    // DISCONNECT with Session Expiry 0 ends the session now.
    r.send(&Packet::Disconnect(Disconnect {
        reason: ReasonCode::SUCCESS,
        properties: Properties::default()
            .with(PropertyId::SESSION_EXPIRY_INTERVAL, PropertyValue::U32(0)),
    }));
    assert_eq!(r.next(WAIT), Got::Closed);
    let mut r = Raw::open(port, V5);
    assert!(!connack(&mut r, c(false)).session_present);
}

#[test]
fn refused_filters_with_reason_string_when_asked() {
    // A filter deeper than max_topic_levels is refused in SUBACK (a
    // malformed one, e.g. "a/#/b", is a protocol violation that closes the
    // connection instead; see broker_raw.rs).
    let limits = Limits {
        max_topic_levels: 4,
        ..Limits::default()
    };
    let (_srv, port) = server(limits);
    for problem_info in [1u8, 0] {
        let mut r = Raw::connect_with(
            port,
            Connect {
                protocol: V5,
                client_id: format!("pi-{problem_info}"),
                properties: Properties::default().with(
                    PropertyId::REQUEST_PROBLEM_INFORMATION,
                    PropertyValue::Byte(problem_info),
                ),
                ..Connect::default()
            },
        );
        let opts = SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            ..Default::default()
        };
        r.send(&Packet::Subscribe(Subscribe {
            packet_id: 7,
            properties: Properties::default(),
            filters: vec![("ok/+".into(), opts), ("deep/1/2/3/4".into(), opts)],
        }));
        match r.next(WAIT) {
            Got::Packet(Packet::SubAck(a)) => {
                assert_eq!(
                    a.codes,
                    vec![ReasonCode(1), ReasonCode::TOPIC_FILTER_INVALID]
                );
                let reason = prop(&a.properties, PropertyId::REASON_STRING);
                assert_eq!(reason.is_some(), problem_info == 1, "{a:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn overlapping_subscriptions_deliver_once_at_the_highest_qos() {
    let (_srv, port) = server(Limits::default());
    for version in [V311, V5] {
        let mut s = Raw::connect(port, version, &format!("ov-{version:?}"));
        let sub_id = |n: u32| {
            if version == V5 {
                Properties::default().with(
                    PropertyId::SUBSCRIPTION_IDENTIFIER,
                    PropertyValue::VarInt(n),
                )
            } else {
                Properties::default()
            }
        };
        for (n, (filter, qos)) in [("ov/#", QoS::AtMostOnce), ("ov/+", QoS::AtLeastOnce)]
            .into_iter()
            .enumerate()
        {
            s.send(&Packet::Subscribe(Subscribe {
                packet_id: n as u16 + 1,
                properties: sub_id(n as u32 + 1),
                filters: vec![(
                    filter.into(),
                    SubscriptionOptions {
                        qos,
                        ..Default::default()
                    },
                )],
            }));
            assert!(matches!(s.next(WAIT), Got::Packet(Packet::SubAck(_))));
        }
        let mut p = Raw::connect(port, V311, &format!("ov-pub-{version:?}"));
        publish1(&mut p, "ov/x", 1, b"once", Properties::default());
        match s.next(WAIT) {
            Got::Packet(Packet::Publish(m)) => {
                assert_eq!(
                    (m.topic.as_str(), m.qos),
                    ("ov/x", QoS::AtLeastOnce),
                    "{version:?}"
                );
                if version == V5 {
                    let mut ids: Vec<_> = m
                        .properties
                        .list
                        .iter()
                        .filter(|p| p.id == PropertyId::SUBSCRIPTION_IDENTIFIER)
                        .map(|p| p.value.clone())
                        .collect();
                    ids.sort_by_key(|v| format!("{v:?}"));
                    assert_eq!(
                        ids,
                        vec![PropertyValue::VarInt(1), PropertyValue::VarInt(2)]
                    );
                }
                s.send(&Packet::PubAck(PubResp {
                    packet_id: m.packet_id,
                    ..Default::default()
                }));
            }
            other => panic!("{other:?}"),
        }
        // No second copy: the SUBACK (then the marker) comes next.
        s.subscribe("mark", QoS::AtMostOnce);
        p.publish0("mark", b"m");
        s.expect_publish("mark", b"m");
    }
}
