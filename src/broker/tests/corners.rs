//! Spec corners where mosquitto's behaviour is the right one (issue 13,
//! point 6): will delay and takeover wills, 3.1 session present, the
//! client's Maximum Packet Size, acks that do not fit the message's QoS.

use super::*;
use crate::protocol::codec::ProtocolVersion::{V5, V31, V311};
use crate::protocol::codec::{Disconnect, Will};

/// A CONNECT with a will on `will/<id>`; `expiry` is the MQTT 5 session
/// expiry (3.x: persistent when non-zero), `delay` the will delay.
fn with_will(id: &str, v: ProtocolVersion, clean: bool, expiry: u32, delay: u32) -> Connect {
    let will_props = if delay > 0 {
        props(vec![(
            PropertyId::WILL_DELAY_INTERVAL,
            PropertyValue::U32(delay),
        )])
    } else {
        Properties::default()
    };
    let properties = if v.is_v5() && expiry > 0 {
        props(vec![(
            PropertyId::SESSION_EXPIRY_INTERVAL,
            PropertyValue::U32(expiry),
        )])
    } else {
        Properties::default()
    };
    Connect {
        clean_start: clean,
        properties,
        will: Some(Will {
            topic: format!("will/{id}"),
            payload: Bytes::from(format!("will of {id}")),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: will_props,
        }),
        ..connect(id, v)
    }
}

fn watcher(h: &mut H, conn: ConnId) {
    h.connect(conn, "watcher", V311);
    h.subscribe(conn, "will/#", QoS::AtMostOnce);
}

fn disconnect_reason(out: &[Packet]) -> Option<ReasonCode> {
    out.iter().find_map(|p| match p {
        Packet::Disconnect(d) => Some(d.reason),
        _ => None,
    })
}

#[test]
fn reconnect_within_the_will_delay_cancels_the_will() {
    let mut h = H::new();
    watcher(&mut h, 1);
    // Connection lost, then back (session continues) before the delay.
    h.connect_with(2, with_will("a", V5, false, 60, 3));
    h.b.handle_closed(2, h.now);
    h.advance(2);
    h.connect_with(3, with_will("a", V5, false, 60, 3));
    h.advance(10);
    assert!(h.take(1).is_empty(), "will cancelled by the reconnect");
    // The new connection's own will still works.
    h.b.handle_closed(3, h.now);
    h.advance(3);
    assert_eq!(payloads(&h.take(1)), ["will of a"]);

    // Taken over while still connected, the session continuing: the
    // delayed will of the old connection never goes out.
    h.connect_with(4, with_will("b", V5, false, 60, 3));
    h.connect_with(5, connect_persistent("b", V5, 60));
    h.advance(10);
    assert!(h.take(1).is_empty(), "takeover within the delay: no will");
}

fn connect_persistent(id: &str, v: ProtocolVersion, expiry: u32) -> Connect {
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

#[test]
fn takeover_sends_the_old_will_only_when_the_session_ends() {
    // (version, old clean, old expiry, new clean, will expected)
    let cases = [
        (V311, false, 0, false, false),
        (V311, false, 0, true, true),
        (V311, true, 0, false, true),
        (V5, false, 60, false, false),
        (V5, false, 60, true, true),
        (V5, false, 0, false, true),
        (V5, true, 60, false, false),
    ];
    for (n, (v, old_clean, expiry, new_clean, expected)) in cases.into_iter().enumerate() {
        let mut h = H::new();
        watcher(&mut h, 1);
        let id = format!("t{n}");
        h.connect_with(2, with_will(&id, v, old_clean, expiry, 0));
        let new = Connect {
            clean_start: new_clean,
            ..connect_persistent(&id, v, expiry)
        };
        let out = h.connect_with(3, new);
        assert!(matches!(&out[..], [Packet::ConnAck(a)] if a.code == ReasonCode::SUCCESS));
        assert!(h.is_closed(2), "case {n}: old connection closed");
        let got = payloads(&h.take(1));
        let want: Vec<String> = if expected {
            vec![format!("will of {id}")]
        } else {
            vec![]
        };
        assert_eq!(
            got, want,
            "case {n}: {v:?} old clean {old_clean} expiry {expiry} new clean {new_clean}"
        );
    }
}

#[test]
fn connack_to_mqtt_31_never_says_session_present() {
    for (v, present) in [(V31, false), (V311, true)] {
        let mut h = H::new();
        h.connect_with(1, connect_persistent("p", v, 0));
        h.subscribe(1, "q", QoS::AtLeastOnce);
        h.send(1, Packet::Disconnect(Disconnect::default()));
        let out = h.connect_with(2, connect_persistent("p", v, 0));
        match &out[..] {
            [Packet::ConnAck(a)] => {
                assert_eq!(a.code, ReasonCode::SUCCESS);
                assert_eq!(a.session_present, present, "{v:?}");
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
        // The session did continue: its subscription still delivers.
        h.connect(3, "pub", V311);
        h.publish(3, msg("q", "kept", QoS::AtLeastOnce, 1));
        assert_eq!(payloads(&h.take(2)), ["kept"], "{v:?}");
    }
}

/// A v5 subscriber to `big/#` at `qos` whose Maximum Packet Size is 64.
fn small_client(h: &mut H, conn: ConnId, qos: QoS, alias: bool) {
    let mut list = vec![
        (PropertyId::MAXIMUM_PACKET_SIZE, PropertyValue::U32(64)),
        (PropertyId::RECEIVE_MAXIMUM, PropertyValue::U16(1)),
    ];
    if alias {
        list.push((PropertyId::TOPIC_ALIAS_MAXIMUM, PropertyValue::U16(4)));
    }
    let c = Connect {
        properties: props(list),
        ..connect(&format!("small{conn}"), V5)
    };
    let out = h.connect_with(conn, c);
    assert!(matches!(&out[..], [Packet::ConnAck(a)] if a.code == ReasonCode::SUCCESS));
    h.subscribe(conn, "big/#", qos);
}

#[test]
fn too_large_for_one_client_is_skipped_for_that_client_only() {
    let big: &'static str = "x".repeat(200).leak();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        for alias in [false, true] {
            let what = format!("{qos:?} alias {alias}");
            let mut h = H::new();
            small_client(&mut h, 1, qos, alias);
            h.connect(2, "roomy", V5);
            h.subscribe(2, "big/#", qos);
            h.connect(3, "pub", V5);
            let mut pid = 0;
            let (mut seen1, mut seen2) = (Vec::new(), Vec::new());
            for payload in [big, "s1", big, "s2"] {
                pid += 1;
                h.publish(3, msg("big/t", payload, qos, pid));
                let acks = h.take(3);
                match qos {
                    QoS::AtMostOnce => assert!(acks.is_empty(), "{what}"),
                    QoS::AtLeastOnce => assert!(
                        matches!(&acks[..], [Packet::PubAck(a)] if a.packet_id == pid && a.reason == ReasonCode::SUCCESS),
                        "{what}: publisher acked: {acks:?}"
                    ),
                    QoS::ExactlyOnce => {
                        assert!(
                            matches!(&acks[..], [Packet::PubRec(a)] if a.packet_id == pid && a.reason == ReasonCode::SUCCESS),
                            "{what}: publisher got PUBREC: {acks:?}"
                        );
                        h.send(3, Packet::PubRel(ack(pid)));
                        assert!(matches!(&h.take(3)[..], [Packet::PubComp(_)]), "{what}");
                    }
                }
                // The small client acknowledges what it gets, so a stuck
                // window (receive maximum 1) would show as a missing "s2".
                for p in publishes(&h.take(1)) {
                    assert!(p.payload.len() < 64, "{what}: too large a packet sent");
                    seen1.push(String::from_utf8_lossy(&p.payload).into_owned());
                    let reply = match p.qos {
                        QoS::AtMostOnce => continue,
                        QoS::AtLeastOnce => Packet::PubAck(ack(p.packet_id)),
                        QoS::ExactlyOnce => Packet::PubRec(ack(p.packet_id)),
                    };
                    h.send(1, reply);
                    if p.qos == QoS::ExactlyOnce {
                        h.take(1);
                        h.send(1, Packet::PubComp(ack(p.packet_id)));
                    }
                }
                for p in publishes(&h.take(2)) {
                    let payload = String::from_utf8_lossy(&p.payload).into_owned();
                    match p.qos {
                        QoS::AtMostOnce => {}
                        QoS::AtLeastOnce => h.send(2, Packet::PubAck(ack(p.packet_id))),
                        QoS::ExactlyOnce => {
                            h.send(2, Packet::PubRec(ack(p.packet_id)));
                            h.take(2);
                            h.send(2, Packet::PubComp(ack(p.packet_id)));
                        }
                    }
                    seen2.push(payload);
                }
            }
            assert_eq!(seen1, ["s1", "s2"], "{what}: small client");
            assert_eq!(seen2.len(), 4, "{what}: roomy client gets all");
            assert!(!h.is_closed(1) && !h.is_closed(2) && !h.is_closed(3));
        }
    }
}

#[test]
fn an_ack_that_does_not_fit_the_qos_is_a_protocol_error() {
    type Reply = fn(u16) -> Packet;
    let cases: [(QoS, Reply, &str); 4] = [
        (
            QoS::AtLeastOnce,
            |id| Packet::PubRec(ack(id)),
            "PUBREC for QoS 1",
        ),
        (
            QoS::AtLeastOnce,
            |id| Packet::PubComp(ack(id)),
            "PUBCOMP for QoS 1",
        ),
        (
            QoS::ExactlyOnce,
            |id| Packet::PubAck(ack(id)),
            "PUBACK for QoS 2",
        ),
        (
            QoS::ExactlyOnce,
            |id| Packet::PubComp(ack(id)),
            "PUBCOMP before PUBREC",
        ),
    ];
    for v in [V5, V311] {
        for (qos, reply, what) in cases {
            let mut h = H::new();
            h.connect(1, "sub", v);
            h.subscribe(1, "t", qos);
            h.connect(2, "pub", V311);
            h.publish(2, msg("t", "m", qos, 1));
            let out = h.take(1);
            let p = publishes(&out)[0];
            h.send(1, reply(p.packet_id));
            assert!(h.is_closed(1), "{v:?} {what}: closed");
            let want = v.is_v5().then_some(ReasonCode::PROTOCOL_ERROR);
            assert_eq!(disconnect_reason(&h.take(1)), want, "{v:?} {what}");
        }
    }
    // Acks for packet ids not in flight are ignored, as mosquitto does.
    let mut h = H::new();
    h.connect(1, "c", V5);
    h.send(1, Packet::PubAck(ack(7)));
    h.send(1, Packet::PubComp(ack(8)));
    assert!(!h.is_closed(1));
}
