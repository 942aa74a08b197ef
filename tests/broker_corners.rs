//! Raw-socket checks of spec corners where mosquitto's answer is the right
//! one (issue 13, point 6): malformed SUBSCRIBE/UNSUBSCRIBE, control
//! characters in topics, client ids and user names, and MQTT 3.1 CONNECT
//! flags. Every case runs against `ferromq`'s embedded broker and, when it is
//! installed, against mosquitto itself, with the same expected outcome.

mod support;

use std::time::Duration;

use ferromq::broker::Limits;
use ferromq::protocol::codec::{Packet, ProtocolVersion, ReasonCode};
use support::Mosquitto;
use support::raw::{Got, Raw, server};

/// How the broker must answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// CONNACK 0, and the connection still serves (PINGREQ answered).
    Accepted,
    /// CONNACK 0, then for what followed: DISCONNECT with this reason
    /// (MQTT 5) and the close.
    Disconnect(u8),
    /// CONNACK 0, then the close with nothing sent (3.x).
    ClosedAfterConnack,
    /// Closed without any CONNACK.
    ClosedAtConnect,
}

fn s16(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn pkt(first: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    let mut n = body.len();
    loop {
        let mut d = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            d |= 0x80;
        }
        v.push(d);
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(body);
    v
}

/// A CONNECT of protocol `level` (3, 4, 5) with raw `flags`; `tail` follows
/// the client id (will, user name, password as the flags say).
fn connect(level: u8, client_id: &[u8], flags: u8, tail: &[u8]) -> Vec<u8> {
    let name: &[u8] = if level == 3 { b"MQIsdp" } else { b"MQTT" };
    let mut body = s16(name);
    body.extend_from_slice(&[level, flags, 0, 60]);
    if level == 5 {
        body.push(0);
    }
    body.extend(s16(client_id));
    body.extend_from_slice(tail);
    pkt(0x10, &body)
}

fn version(level: u8) -> ProtocolVersion {
    match level {
        3 => ProtocolVersion::V31,
        4 => ProtocolVersion::V311,
        _ => ProtocolVersion::V5,
    }
}

/// Sends `conn` then `then` on a fresh connection and checks the outcome.
fn check(port: u16, broker: &str, what: &str, level: u8, conn: &[u8], then: &[u8], want: Want) {
    let ctx = format!("{broker}: {what}");
    let mut r = Raw::open(port, version(level));
    r.bytes(conn);
    let first = r.next(Duration::from_secs(5));
    if want == Want::ClosedAtConnect {
        assert_eq!(first, Got::Closed, "{ctx}: closed without CONNACK");
        return;
    }
    match first {
        Got::Packet(Packet::ConnAck(a)) => {
            assert_eq!(a.code, ReasonCode::SUCCESS, "{ctx}: CONNACK");
        }
        other => panic!("{ctx}: expected CONNACK, got {other:?}"),
    }
    r.bytes(then);
    match want {
        Want::Accepted => {
            // Acks of `then` may come first; the PINGRESP must follow.
            r.bytes(&[0xC0, 0]);
            loop {
                match r.next(Duration::from_secs(5)) {
                    Got::Packet(Packet::PingResp) => break,
                    Got::Packet(Packet::SubAck(_) | Packet::PubAck(_)) => {}
                    other => panic!("{ctx}: expected PINGRESP, got {other:?}"),
                }
            }
        }
        Want::Disconnect(code) => r.expect_closed(Some(ReasonCode(code)), &ctx),
        Want::ClosedAfterConnack => r.expect_closed(None, &ctx),
        Want::ClosedAtConnect => unreachable!(),
    }
}

type Case = (&'static str, u8, Vec<u8>, Vec<u8>, Want);

/// Runs every case on `port`; the failures, one line each.
fn run(port: u16, broker: &str, cases: &[Case]) -> Vec<String> {
    let mut failed = Vec::new();
    // Each failure is reported in the list below, not as it happens.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (what, level, conn, then, want) in cases {
        let r = std::panic::catch_unwind(|| check(port, broker, what, *level, conn, then, *want));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(msg);
        }
    }
    std::panic::set_hook(hook);
    failed
}

/// Runs `cases` against our broker, then against mosquitto if installed;
/// fails listing every case that did not hold.
fn both(cases: &[Case]) {
    let (_srv, port) = server(Limits::default());
    let mut failed = run(port, "ferromq", cases);
    if Mosquitto::available() {
        let m = Mosquitto::start();
        failed.extend(run(m.port, "mosquitto", cases));
    } else {
        support::skip("mosquitto not installed: compared with ferromq only");
    }
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

fn subscribe(v5: bool, filter: &[u8], opts: u8) -> Vec<u8> {
    let mut body = vec![0, 1];
    if v5 {
        body.push(0);
    }
    body.extend(s16(filter));
    body.push(opts);
    pkt(0x82, &body)
}

fn unsubscribe(v5: bool, filter: Option<&[u8]>) -> Vec<u8> {
    let mut body = vec![0, 1];
    if v5 {
        body.push(0);
    }
    if let Some(f) = filter {
        body.extend(s16(f));
    }
    pkt(0xA2, &body)
}

fn publish0(v5: bool, topic: &[u8]) -> Vec<u8> {
    let mut body = s16(topic);
    if v5 {
        body.push(0);
    }
    body.extend_from_slice(b"hi");
    pkt(0x30, &body)
}

#[test]
fn malformed_subscribe_and_unsubscribe_close_with_0x81() {
    let c5 = connect(5, b"m5", 0x02, &[]);
    let c4 = connect(4, b"m4", 0x02, &[]);
    let cases: Vec<Case> = vec![
        (
            "SUBSCRIBE without filters",
            5,
            c5.clone(),
            pkt(0x82, &[0, 1, 0]),
            Want::Disconnect(0x81),
        ),
        (
            "SUBSCRIBE a/#/b",
            5,
            c5.clone(),
            subscribe(true, b"a/#/b", 0),
            Want::Disconnect(0x81),
        ),
        (
            "SUBSCRIBE empty filter",
            5,
            c5.clone(),
            subscribe(true, b"", 0),
            Want::Disconnect(0x81),
        ),
        (
            "SUBSCRIBE a+",
            5,
            c5.clone(),
            subscribe(true, b"a+", 0),
            Want::Disconnect(0x81),
        ),
        (
            "SUBSCRIBE reserved option bits",
            5,
            c5.clone(),
            subscribe(true, b"a", 0xC0),
            Want::Disconnect(0x81),
        ),
        (
            "SUBSCRIBE with header flags 0",
            5,
            c5.clone(),
            {
                let mut p = subscribe(true, b"a", 0);
                p[0] = 0x80;
                p
            },
            Want::Disconnect(0x81),
        ),
        (
            "UNSUBSCRIBE without filters",
            5,
            c5.clone(),
            unsubscribe(true, None),
            Want::Disconnect(0x81),
        ),
        (
            "UNSUBSCRIBE a/#/b",
            5,
            c5.clone(),
            unsubscribe(true, Some(b"a/#/b")),
            Want::Disconnect(0x81),
        ),
        (
            "3.1.1 SUBSCRIBE a/#/b",
            4,
            c4.clone(),
            subscribe(false, b"a/#/b", 0),
            Want::ClosedAfterConnack,
        ),
        (
            "3.1.1 UNSUBSCRIBE without filters",
            4,
            c4,
            unsubscribe(false, None),
            Want::ClosedAfterConnack,
        ),
        (
            "a valid SUBSCRIBE",
            5,
            c5,
            subscribe(true, b"a/+/#", 1),
            Want::Accepted,
        ),
    ];
    both(&cases);
}

#[test]
fn control_characters_are_refused_where_mosquitto_refuses_them() {
    let c5 = connect(5, b"ctl5", 0x02, &[]);
    let c4 = connect(4, b"ctl4", 0x02, &[]);
    let none = Vec::new();
    let user = |u: &[u8]| s16(u);
    let mut will = vec![0u8];
    will.extend(s16(b"will/\x01"));
    will.extend(s16(b"x"));
    let cases: Vec<Case> = vec![
        (
            "client id with U+0001",
            5,
            connect(5, b"c\x01x", 0x02, &[]),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "3.1.1 client id with U+001F",
            4,
            connect(4, b"c\x1fx", 0x02, &[]),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "client id with U+007F",
            5,
            connect(5, b"c\x7fx", 0x02, &[]),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "client id with U+0085",
            5,
            connect(5, "c\u{85}x".as_bytes(), 0x02, &[]),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "user name with U+0007",
            5,
            connect(5, b"cu", 0x82, &user(b"u\x07")),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "3.1.1 user name with U+009F",
            4,
            connect(4, b"cu", 0x82, &user("u\u{9f}".as_bytes())),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "will topic with U+0001",
            5,
            connect(5, b"cw", 0x06, &will),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "PUBLISH topic with U+001F",
            5,
            c5.clone(),
            publish0(true, b"a\x1fb"),
            Want::Disconnect(0x81),
        ),
        (
            "PUBLISH topic with U+007F",
            5,
            c5.clone(),
            publish0(true, b"a\x7fb"),
            Want::Disconnect(0x81),
        ),
        (
            "PUBLISH topic with U+0080",
            5,
            c5.clone(),
            publish0(true, "a\u{80}b".as_bytes()),
            Want::Disconnect(0x81),
        ),
        (
            "3.1.1 PUBLISH topic with U+0001",
            4,
            c4.clone(),
            publish0(false, b"a\x01b"),
            Want::ClosedAfterConnack,
        ),
        (
            "SUBSCRIBE filter with U+0001",
            5,
            c5.clone(),
            subscribe(true, b"a/\x01", 0),
            Want::Disconnect(0x81),
        ),
        (
            "UNSUBSCRIBE filter with U+0001",
            5,
            c5.clone(),
            unsubscribe(true, Some(b"a/\x01")),
            Want::Disconnect(0x81),
        ),
        (
            "PUBLISH topic with U+00A0 and U+007E (not control)",
            5,
            c5.clone(),
            publish0(true, "a\u{a0}~b".as_bytes()),
            Want::Accepted,
        ),
        (
            "client id and user name with U+00A0 (not control)",
            4,
            connect(4, "c\u{a0}".as_bytes(), 0x82, &user("u\u{a0}".as_bytes())),
            none,
            Want::Accepted,
        ),
    ];
    both(&cases);
}

#[test]
fn mqtt_31_connect_flags_that_31_did_not_reserve_are_accepted() {
    let none = Vec::new();
    let cases: Vec<Case> = vec![
        (
            "3.1 CONNECT with flag bit 0 set",
            3,
            connect(3, b"f31a", 0x03, &[]),
            none.clone(),
            Want::Accepted,
        ),
        (
            "3.1 CONNECT with will QoS bits and no will",
            3,
            connect(3, b"f31b", 0x0A, &[]),
            none.clone(),
            Want::Accepted,
        ),
        (
            "3.1 CONNECT with will retain and no will",
            3,
            connect(3, b"f31c", 0x22, &[]),
            none.clone(),
            Want::Accepted,
        ),
        (
            "3.1.1 CONNECT with flag bit 0 set",
            4,
            connect(4, b"f311", 0x03, &[]),
            none.clone(),
            Want::ClosedAtConnect,
        ),
        (
            "3.1.1 CONNECT with will QoS bits and no will",
            4,
            connect(4, b"f311b", 0x0A, &[]),
            none,
            Want::ClosedAtConnect,
        ),
    ];
    both(&cases);
}

/// On `port`: an MQTT 5 subscriber whose Maximum Packet Size is 64 and
/// Receive Maximum 1, another without limits, and a QoS 1 publisher sending
/// big, small, big, small. The failures, one line each.
fn too_large_for_one(port: u16, broker: &str) -> Vec<String> {
    use bytes::Bytes;
    use ferromq::protocol::codec::{
        Connect, Properties, PropertyId, PropertyValue, PubResp, Publish, QoS,
    };
    let mut failed = Vec::new();
    let props = Properties::default()
        .with(PropertyId::MAXIMUM_PACKET_SIZE, PropertyValue::U32(64))
        .with(PropertyId::RECEIVE_MAXIMUM, PropertyValue::U16(1));
    let mut small = Raw::connect_with(
        port,
        Connect {
            protocol: ProtocolVersion::V5,
            client_id: "mps-small".into(),
            properties: props,
            ..Connect::default()
        },
    );
    small.subscribe("mps/#", QoS::AtLeastOnce);
    let mut roomy = Raw::connect(port, ProtocolVersion::V5, "mps-roomy");
    roomy.subscribe("mps/#", QoS::AtLeastOnce);
    let mut publisher = Raw::connect(port, ProtocolVersion::V5, "mps-pub");
    let big = Bytes::from(vec![b'x'; 200]);
    let payloads = [
        big.clone(),
        Bytes::from_static(b"s1"),
        big,
        Bytes::from_static(b"s2"),
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let id = i as u16 + 1;
        publisher.send(&Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            topic: "mps/t".into(),
            packet_id: id,
            payload: payload.clone(),
            ..Publish::default()
        }));
        match publisher.next(Duration::from_secs(5)) {
            Got::Packet(Packet::PubAck(a)) if a.packet_id == id && a.reason.0 < 0x80 => {}
            other => failed.push(format!("{broker}: publisher's PUBACK {id}: {other:?}")),
        }
    }
    let got = |r: &mut Raw, n: usize| {
        let mut seen = Vec::new();
        for _ in 0..n {
            match r.next(Duration::from_secs(5)) {
                Got::Packet(Packet::Publish(m)) => {
                    seen.push(
                        String::from_utf8_lossy(&m.payload[..m.payload.len().min(2)]).into_owned(),
                    );
                    r.send(&Packet::PubAck(PubResp {
                        packet_id: m.packet_id,
                        ..PubResp::default()
                    }));
                }
                other => seen.push(format!("{other:?}")),
            }
        }
        seen
    };
    let seen = got(&mut small, 2);
    if seen != ["s1", "s2"] {
        failed.push(format!("{broker}: small client got {seen:?}, not [s1, s2]"));
    }
    let seen = got(&mut roomy, 4);
    if seen != ["xx", "s1", "xx", "s2"] {
        failed.push(format!("{broker}: roomy client got {seen:?}"));
    }
    failed
}

#[test]
fn a_message_too_large_for_one_client_skips_that_client_only() {
    let (_srv, port) = server(Limits::default());
    let failed = too_large_for_one(port, "ferromq");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    // Shown, not asserted: mosquitto 2.0.11 (Debian 12's) stalls the small
    // client after the message it cannot send, which is the bug this
    // corner is about; a fixed mosquitto prints nothing here.
    if Mosquitto::available() {
        let m = Mosquitto::start();
        for line in too_large_for_one(m.port, "mosquitto") {
            println!("NOTE: differs from us: {line}");
        }
    }
}
