//! Raw TCP peers against the embedded broker: malformed and out-of-order
//! packets close exactly that one connection (MQTT 5 with the right reason
//! code) while a connected watcher keeps getting messages; keepalive at
//! 1.5×, max_connections, max_packet_size, AUTH with an unknown method.

mod support;

use std::net::Shutdown;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ferromq::broker::Limits;
use ferromq::protocol::codec::{
    Connect, Packet, Properties, PropertyId, PropertyValue, ProtocolVersion, Publish, QoS,
    ReasonCode, Will, encode,
};
use support::raw::{Got, Raw, WAIT, Watch, connected, server};

use ProtocolVersion::{V5, V311};

#[test]
fn malformed_packets_close_only_that_connection() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    // (name, bytes after a successful CONNECT, MQTT 5 reason code). The
    // "unknown property" bytes are a valid 3.1.1 PUBLISH, so only 5 runs it.
    let cases: Vec<(&str, Vec<u8>, ReasonCode)> = vec![
        // Remaining length with a 5th continuation byte.
        (
            "bad remaining length",
            vec![0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            ReasonCode::MALFORMED_PACKET,
        ),
        // SUBSCRIBE's fixed header flags must be 0b0010.
        (
            "reserved flags",
            vec![0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
            ReasonCode::MALFORMED_PACKET,
        ),
        // Packet type 0 is reserved.
        (
            "reserved packet type",
            vec![0x00, 0x00],
            ReasonCode::MALFORMED_PACKET,
        ),
        // PUBLISH QoS 3.
        (
            "qos 3",
            vec![0x36, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00],
            ReasonCode::MALFORMED_PACKET,
        ),
        // Topic with a wildcard.
        (
            "wildcard topic",
            vec![0x30, 0x04, 0x00, 0x01, b'#', 0x00],
            ReasonCode::TOPIC_NAME_INVALID,
        ),
        // Topic that is not UTF-8.
        (
            "invalid utf-8",
            vec![0x30, 0x05, 0x00, 0x02, 0xC3, 0x28, 0x00],
            ReasonCode::MALFORMED_PACKET,
        ),
        // Property id 0x7F does not exist.
        (
            "unknown property",
            vec![0x30, 0x07, 0x00, 0x01, b'a', 0x02, 0x7F, 0x00, b'x'],
            ReasonCode::MALFORMED_PACKET,
        ),
        // Remaining length larger than what its fields say (trailing bytes
        // inside PUBACK v5 are properties: here a truncated property list).
        (
            "truncated body",
            vec![0x40, 0x04, 0x00, 0x01, 0x00, 0x05],
            ReasonCode::MALFORMED_PACKET,
        ),
        // CONNECT again.
        (
            "second CONNECT",
            {
                let mut b = BytesMut::new();
                let c = Connect {
                    protocol: V5,
                    client_id: "again".into(),
                    ..Connect::default()
                };
                encode(&Packet::Connect(Box::new(c)), V5, &mut b).unwrap();
                b.to_vec()
            },
            ReasonCode::PROTOCOL_ERROR,
        ),
    ];
    for (what, bytes, code) in &cases {
        for version in [V311, V5] {
            if *what == "unknown property" && version == V311 {
                continue;
            }
            let mut bad = connected(port, version, &format!("bad-{}", watch.n));
            bad.bytes(bytes);
            let expect = if version == V5 { Some(*code) } else { None };
            bad.expect_closed(expect, &format!("{what} ({version:?})"));
            watch.still_served(what);
        }
    }
}

#[test]
fn out_of_order_before_connect() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    // PUBLISH as the first packet: closed, no CONNACK.
    let mut r = Raw::open(port, V311);
    r.bytes(&[0x30, 0x04, 0x00, 0x01, b'a', b'x']);
    r.expect_closed(None, "PUBLISH before CONNECT");
    watch.still_served("PUBLISH before CONNECT");
    // PINGREQ first.
    let mut r = Raw::open(port, V311);
    r.bytes(&[0xC0, 0x00]);
    r.expect_closed(None, "PINGREQ before CONNECT");
    watch.still_served("PINGREQ before CONNECT");
    // Garbage first.
    let mut r = Raw::open(port, V311);
    r.bytes(b"GET / HTTP/1.1\r\n\r\n");
    r.expect_closed(None, "HTTP before CONNECT");
    watch.still_served("HTTP before CONNECT");
    // An unknown protocol level gets the 3.1.1 refusal code 1, then close.
    let mut r = Raw::open(port, V311);
    r.bytes(&[
        0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x07, 0x02, 0x00, 0x3C, 0x00, 0x01, b'z',
    ]);
    match r.next(WAIT) {
        Got::Packet(Packet::ConnAck(a)) => {
            assert_eq!(a.code, ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION)
        }
        other => panic!("protocol level 7: {other:?}"),
    }
    assert_eq!(r.next(WAIT), Got::Closed);
    watch.still_served("bad protocol level");
}

#[test]
fn truncated_then_closed_publishes_the_will() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    for version in [V311, V5] {
        let c = Connect {
            protocol: version,
            client_id: format!("trunc-{version:?}"),
            will: Some(Will {
                topic: "raw/will".into(),
                payload: Bytes::from_static(b"cut off"),
                qos: QoS::AtMostOnce,
                retain: false,
                properties: Properties::default(),
            }),
            ..Connect::default()
        };
        let mut r = Raw::connect_with(port, c);
        // Half a PUBLISH, then the write side closes.
        r.bytes(&[0x30, 0x10, 0x00, 0x03, b'r']);
        r.s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(r.next(WAIT), Got::Closed, "{version:?}");
        watch.w.expect_publish("raw/will", b"cut off");
        watch.still_served("truncated packet");
    }
}

#[test]
fn oversize_packet_vs_max_packet_size() {
    let limits = Limits {
        max_packet_size: 256,
        ..Limits::default()
    };
    let (_srv, port) = server(limits);
    let mut watch = Watch::new(port);
    // MQTT 5 clients are told the limit in CONNACK.
    let mut r = Raw::open(port, V5);
    r.send(&Packet::Connect(Box::new(Connect {
        protocol: V5,
        client_id: "big5".into(),
        ..Connect::default()
    })));
    match r.next(WAIT) {
        Got::Packet(Packet::ConnAck(a)) => {
            let max = a
                .properties
                .list
                .iter()
                .find(|p| p.id == PropertyId::MAXIMUM_PACKET_SIZE);
            assert_eq!(
                max.map(|p| &p.value),
                Some(&PropertyValue::U32(256)),
                "{a:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A client that only takes packets up to 64 bytes is never sent more.
    let mut small = Raw::connect_with(
        port,
        Connect {
            protocol: V5,
            client_id: "small".into(),
            properties: Properties::default()
                .with(PropertyId::MAXIMUM_PACKET_SIZE, PropertyValue::U32(64)),
            ..Connect::default()
        },
    );
    small.subscribe("raw/#", QoS::AtMostOnce);
    let big = Bytes::from(vec![b'x'; 300]);
    // Exactly at the limit passes (fixed header 1+2, topic 2+5, props 1: 11).
    r.send(&Packet::Publish(Publish {
        topic: "raw/a".into(),
        payload: Bytes::from(vec![b'y'; 245]),
        ..Default::default()
    }));
    match watch.w.next(WAIT) {
        Got::Packet(Packet::Publish(p)) => assert_eq!(p.payload.len(), 245),
        other => panic!("{other:?}"),
    }
    r.publish0("raw/tiny", b"fits");
    watch.w.expect_publish("raw/tiny", b"fits");
    small.expect_publish("raw/tiny", b"fits");
    r.send(&Packet::Publish(Publish {
        topic: "raw/a".into(),
        payload: big.clone(),
        ..Default::default()
    }));
    r.expect_closed(Some(ReasonCode::PACKET_TOO_LARGE), "oversize v5");
    watch.still_served("oversize v5");
    let mut r = Raw::connect(port, V311, "big311");
    r.send(&Packet::Publish(Publish {
        topic: "raw/a".into(),
        payload: big,
        ..Default::default()
    }));
    r.expect_closed(None, "oversize 3.1.1");
    watch.still_served("oversize 3.1.1");
}

#[test]
fn keepalive_enforced_at_one_and_a_half() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    for version in [V311, V5] {
        let start = Instant::now();
        let mut r = Raw::connect_with(
            port,
            Connect {
                protocol: version,
                client_id: format!("sleepy-{version:?}"),
                keep_alive: 1,
                will: Some(Will {
                    topic: "raw/will".into(),
                    payload: Bytes::from_static(b"timed out"),
                    qos: QoS::AtMostOnce,
                    retain: false,
                    properties: Properties::default(),
                }),
                ..Connect::default()
            },
        );
        let code = (version == V5).then_some(ReasonCode::KEEP_ALIVE_TIMEOUT);
        r.expect_closed(code, "keepalive");
        // The will goes out on a keepalive timeout.
        watch.w.expect_publish("raw/will", b"timed out");
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1400),
            "closed too early: {took:?}"
        );
        assert!(took <= Duration::from_secs(3), "closed too late: {took:?}");
        watch.still_served("keepalive timeout");
    }
    // A client that pings in time stays: two PINGREQs 0.9 s apart, each
    // answered, and the connection still open after 2 s in total.
    let mut r = Raw::connect_with(
        port,
        Connect {
            protocol: V311,
            client_id: "pinger".into(),
            keep_alive: 1,
            ..Connect::default()
        },
    );
    for _ in 0..2 {
        assert_eq!(r.next(Duration::from_millis(900)), Got::Timeout);
        r.bytes(&[0xC0, 0x00]);
        assert_eq!(r.next(WAIT), Got::Packet(Packet::PingResp));
    }
}

#[test]
fn max_connections_refuses_only_the_extra_one() {
    let limits = Limits {
        max_connections: 3,
        ..Limits::default()
    };
    let (srv, port) = server(limits);
    let mut a = Raw::connect(port, V311, "a");
    let mut b = Raw::connect(port, V5, "b");
    a.subscribe("lim/#", QoS::AtLeastOnce);
    let mut c = Raw::connect(port, V311, "c");
    // The fourth is closed without a CONNACK.
    let mut d = Raw::open(port, V311);
    d.send(&Packet::Connect(Box::new(Connect {
        protocol: V311,
        client_id: "d".into(),
        ..Connect::default()
    })));
    let got = d.next(WAIT);
    assert!(got == Got::Closed, "extra connection: {got:?}");
    assert_eq!(srv.stats().refused_connections, 1);
    // The three others still work.
    b.publish0("lim/x", b"from b");
    a.expect_publish("lim/x", b"from b");
    c.bytes(&[0xC0, 0x00]);
    assert_eq!(c.next(WAIT), Got::Packet(Packet::PingResp));
    // Once one leaves, a new one is accepted.
    c.bytes(&[0xE0, 0x00]);
    assert_eq!(c.next(WAIT), Got::Closed);
    let deadline = Instant::now() + WAIT;
    while srv.stats().connections > 2 {
        assert!(Instant::now() < deadline, "connection count never dropped");
        std::thread::yield_now();
    }
    let _e = Raw::connect(port, V311, "e");
}

#[test]
fn auth_with_unknown_method_is_refused() {
    let (_srv, port) = server(Limits::default());
    let mut watch = Watch::new(port);
    let mut r = Raw::open(port, V5);
    r.send(&Packet::Connect(Box::new(Connect {
        protocol: V5,
        client_id: "auth".into(),
        properties: Properties::default().with(
            PropertyId::AUTHENTICATION_METHOD,
            PropertyValue::String("SCRAM-NOPE".into()),
        ),
        ..Connect::default()
    })));
    match r.next(WAIT) {
        Got::Packet(Packet::ConnAck(a)) => {
            assert_eq!(a.code, ReasonCode::BAD_AUTHENTICATION_METHOD)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.next(WAIT), Got::Closed);
    watch.still_served("unknown auth method");
}

#[test]
fn ferromq_broker_logs_refusals() {
    let b = support::FerroBroker::start(env!("CARGO_BIN_EXE_ferromq"), "");
    let mut r = Raw::open(b.port, V5);
    r.send(&Packet::Connect(Box::new(Connect {
        protocol: V5,
        client_id: "nope".into(),
        properties: Properties::default().with(
            PropertyId::AUTHENTICATION_METHOD,
            PropertyValue::String("UNKNOWN".into()),
        ),
        ..Connect::default()
    })));
    match r.next(WAIT) {
        Got::Packet(Packet::ConnAck(a)) => {
            assert_eq!(a.code, ReasonCode::BAD_AUTHENTICATION_METHOD)
        }
        other => panic!("{other:?}"),
    }
    assert!(
        b.log()
            .wait_for("refused: client 'nope' (reason 0x8c)", WAIT),
        "{}",
        b.log().text()
    );
}
