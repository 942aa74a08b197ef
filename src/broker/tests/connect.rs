//! CONNECT rules per version, keepalive, takeover, wills, host connect hook.

use super::*;
use crate::broker::{Decision, DisconnectCause, Hooks, Limits};
use crate::protocol::codec::ProtocolVersion::{V5, V31, V311};
use crate::protocol::codec::{Disconnect, Will};

fn connack_code(out: &[Packet]) -> ReasonCode {
    match out {
        [Packet::ConnAck(a)] => a.code,
        other => panic!("expected one CONNACK, got {other:?}"),
    }
}

fn with_will(id: &str, v: ProtocolVersion, will_props: Properties) -> Connect {
    Connect {
        will: Some(Will {
            topic: "will/t".into(),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: will_props,
        }),
        ..connect(id, v)
    }
}

#[test]
fn first_packet_must_be_connect() {
    let mut h = H::new();
    assert!(h.b.handle_accept(1, peer(), h.now));
    h.send(1, Packet::PingReq);
    assert!(h.take(1).is_empty());
    assert!(h.is_closed(1));
}

#[test]
fn empty_client_id_rules_per_version() {
    let mut h = H::new();
    let out = h.connect_with(1, connect("", V31));
    assert_eq!(connack_code(&out), ReasonCode::V3_IDENTIFIER_REJECTED);
    assert!(h.is_closed(1));

    let c = Connect {
        clean_start: false,
        ..connect("", V311)
    };
    let out = h.connect_with(2, c);
    assert_eq!(connack_code(&out), ReasonCode::V3_IDENTIFIER_REJECTED);

    let out = h.connect_with(3, connect("", V311));
    assert_eq!(connack_code(&out), ReasonCode::SUCCESS);
    assert!(!h.is_closed(3));

    let out = h.connect_with(4, connect("", V5));
    let Packet::ConnAck(a) = &out[0] else {
        panic!()
    };
    assert_eq!(a.code, ReasonCode::SUCCESS);
    let Some(PropertyValue::String(id)) =
        prop_of(&a.properties, PropertyId::ASSIGNED_CLIENT_IDENTIFIER)
    else {
        panic!("no assigned id in {a:?}")
    };
    assert!(!id.is_empty());
}

#[test]
fn second_connect_is_a_protocol_error() {
    let mut h = H::new();
    h.connect(1, "a", V5);
    h.send(1, Packet::Connect(Box::new(connect("a", V5))));
    let out = h.take(1);
    assert!(matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR));
    assert!(h.is_closed(1));
}

#[test]
fn keepalive_is_enforced_at_one_and_a_half_times() {
    let mut h = H::new();
    h.connect(1, "watcher", V311);
    h.subscribe(1, "will/#", QoS::AtLeastOnce);
    let c = Connect {
        keep_alive: 10,
        ..with_will("k", V5, Properties::default())
    };
    h.connect_with(2, c);
    h.advance(10);
    h.send(2, Packet::PingReq);
    assert_eq!(h.take(2), vec![Packet::PingResp]);
    h.advance(14);
    assert!(
        !h.is_closed(2),
        "activity at t=10 moves the deadline to t=25"
    );
    h.advance(1);
    assert!(h.is_closed(2));
    let out = h.take(2);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::KEEP_ALIVE_TIMEOUT)
    );
    assert_eq!(payloads(&h.take(1)), ["gone"]);
}

#[test]
fn connect_timeout_closes_silent_connections() {
    let mut h = H::new();
    assert!(h.b.handle_accept(1, peer(), h.now));
    h.advance(9);
    assert!(!h.is_closed(1));
    h.advance(1);
    assert!(h.is_closed(1));
}

#[test]
fn a_trickled_connect_still_meets_the_connect_timeout() {
    let mut h = H::new();
    assert!(h.b.handle_accept(1, peer(), h.now));
    let mut raw = bytes::BytesMut::new();
    crate::protocol::codec::encode(
        &Packet::Connect(Box::new(connect("slow", V311))),
        V311,
        &mut raw,
    )
    .unwrap();
    // A byte a second: the input keeps coming, the CONNECT never completes
    // (the reactor keeps what the broker leaves of its input buffer).
    let mut input = bytes::BytesMut::new();
    for i in 0..9 {
        input.extend_from_slice(&raw[i..=i]);
        h.b.handle_bytes(1, &mut input, h.now);
        h.advance(1);
        assert!(!h.is_closed(1), "closed after byte {i}: {:?}", h.take(1));
    }
    assert!(!h.is_closed(1));
    h.advance(1);
    assert!(h.is_closed(1), "10 s after accept the connection is closed");
}

#[test]
fn takeover_closes_the_old_connection_with_0x8e_and_sends_its_will() {
    let mut h = H::new();
    h.connect(1, "watcher", V311);
    h.subscribe(1, "will/#", QoS::AtMostOnce);
    h.connect_with(2, with_will("dup", V5, Properties::default()));
    let out = h.connect_with(3, connect("dup", V5));
    assert_eq!(connack_code(&out), ReasonCode::SUCCESS);
    let old = h.take(2);
    assert!(
        matches!(&old[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::SESSION_TAKEN_OVER)
    );
    assert!(h.is_closed(2));
    assert!(!h.is_closed(3));
    assert_eq!(payloads(&h.take(1)), ["gone"]);
}

#[test]
fn unknown_authentication_method_is_refused() {
    let mut h = H::new();
    let c = Connect {
        properties: props(vec![(
            PropertyId::AUTHENTICATION_METHOD,
            PropertyValue::String("SCRAM-SHA-1".into()),
        )]),
        ..connect("a", V5)
    };
    let out = h.connect_with(1, c);
    assert_eq!(connack_code(&out), ReasonCode::BAD_AUTHENTICATION_METHOD);
    assert!(h.is_closed(1));
}

#[test]
fn wills_follow_the_way_the_connection_ended() {
    let mut h = H::new();
    h.connect(1, "watcher", V311);
    h.subscribe(1, "will/#", QoS::AtMostOnce);

    h.connect_with(2, with_will("lost", V311, Properties::default()));
    h.b.handle_closed(2, h.now);
    assert_eq!(
        payloads(&h.take(1)),
        ["gone"],
        "socket error sends the will"
    );

    h.connect_with(3, with_will("normal", V311, Properties::default()));
    h.send(3, Packet::Disconnect(Disconnect::default()));
    assert!(h.is_closed(3));
    assert!(h.take(1).is_empty(), "normal DISCONNECT discards the will");

    h.connect_with(4, with_will("asks", V5, Properties::default()));
    let d = Disconnect {
        reason: ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
        ..Disconnect::default()
    };
    h.send(4, Packet::Disconnect(d));
    assert_eq!(payloads(&h.take(1)), ["gone"], "0x04 sends the will");

    h.connect_with(5, with_will("rude", V5, Properties::default()));
    h.send(5, Packet::ConnAck(Default::default()));
    assert!(h.is_closed(5));
    assert_eq!(
        payloads(&h.take(1)),
        ["gone"],
        "protocol error sends the will"
    );
}

#[test]
fn will_delay_is_honoured_and_cancelled_by_reconnect() {
    let mut h = H::new();
    h.connect(1, "watcher", V311);
    h.subscribe(1, "will/#", QoS::AtMostOnce);
    let delayed = props(vec![(
        PropertyId::WILL_DELAY_INTERVAL,
        PropertyValue::U32(5),
    )]);
    let expiry = props(vec![(
        PropertyId::SESSION_EXPIRY_INTERVAL,
        PropertyValue::U32(60),
    )]);
    let c = Connect {
        clean_start: false,
        properties: expiry.clone(),
        ..with_will("d", V5, delayed.clone())
    };
    h.connect_with(2, c.clone());
    h.b.handle_closed(2, h.now);
    h.advance(4);
    assert!(h.take(1).is_empty());
    h.advance(1);
    assert_eq!(payloads(&h.take(1)), ["gone"], "sent after the delay");

    h.connect_with(3, c.clone());
    h.b.handle_closed(3, h.now);
    h.advance(2);
    let again = Connect { will: None, ..c };
    h.connect_with(4, again);
    h.advance(10);
    assert!(h.take(1).is_empty(), "reconnect cancels the delayed will");
}

#[test]
fn host_connect_hook_decides_and_holds_that_sessions_input() {
    let config = BrokerConfig {
        hooks: Hooks {
            connect: true,
            ..Hooks::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    assert!(h.b.handle_accept(1, peer(), h.now));
    let c = Connect {
        username: Some("mallory".into()),
        ..connect("m", V311)
    };
    h.send(1, Packet::Connect(Box::new(c)));
    let ev = h.events();
    assert!(
        matches!(&ev[..], [BrokerEvent::ConnectRequest { conn: 1, client, .. }]
        if client.client_id == "m" && client.username.as_deref() == Some("mallory"))
    );
    assert!(h.take(1).is_empty());
    h.b.handle_decision(
        1,
        Decision::Connect(ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        h.now,
    );
    assert_eq!(
        connack_code(&h.take(1)),
        ReasonCode::V3_BAD_USER_NAME_OR_PASSWORD
    );
    assert!(h.is_closed(1));

    assert!(h.b.handle_accept(2, peer(), h.now));
    h.send(2, Packet::Connect(Box::new(connect("ok", V311))));
    h.send(2, Packet::PingReq);
    assert!(h.take(2).is_empty(), "input waits for the decision");
    h.events();
    h.b.handle_decision(2, Decision::Connect(ReasonCode::SUCCESS), h.now);
    let out = h.take(2);
    assert!(matches!(&out[..], [Packet::ConnAck(a), Packet::PingResp] if a.code.is_success()));
}

#[test]
fn connection_limit_refuses_at_accept() {
    let config = BrokerConfig {
        limits: Limits {
            max_connections: 1,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    assert!(h.b.handle_accept(1, peer(), h.now));
    assert!(!h.b.handle_accept(2, peer(), h.now));
    assert_eq!(h.b.stats().refused_connections, 1);
}

#[test]
fn server_keep_alive_overrides_the_clients() {
    let config = BrokerConfig {
        limits: Limits {
            max_keep_alive: Some(20),
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    let c = Connect {
        keep_alive: 0,
        ..connect("a", V5)
    };
    let out = h.connect_with(1, c);
    let Packet::ConnAck(a) = &out[0] else {
        panic!()
    };
    assert_eq!(
        prop_of(&a.properties, PropertyId::SERVER_KEEP_ALIVE),
        Some(&PropertyValue::U16(20))
    );
    h.advance(29);
    assert!(!h.is_closed(1));
    h.advance(1);
    assert!(h.is_closed(1));
}

#[test]
fn a_rule_breaker_is_closed_and_others_keep_being_served() {
    let config = BrokerConfig {
        hooks: Hooks {
            notices: true,
            ..Hooks::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect(1, "good", V311);
    h.subscribe(1, "t", QoS::AtMostOnce);
    h.connect(2, "bad", V5);
    h.events();
    h.send(2, Packet::SubAck(Default::default()));
    assert!(h.is_closed(2));
    let ev = h.events();
    assert!(matches!(
        &ev[..],
        [BrokerEvent::Disconnected {
            conn: 2,
            cause: DisconnectCause::ProtocolError(_),
            ..
        }]
    ));
    h.connect(3, "pub", V311);
    h.publish(3, msg("t", "still here", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&h.take(1)), ["still here"]);
    assert!(!h.is_closed(1));
}

#[test]
fn shutdown_closes_everyone_with_0x8b() {
    let mut h = H::new();
    h.connect(1, "a", V5);
    h.connect(2, "b", V311);
    let now = h.now;
    h.b.shutdown(now);
    h.flush();
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::SERVER_SHUTTING_DOWN)
    );
    assert!(
        h.take(2).is_empty(),
        "3.x has no DISCONNECT from the server"
    );
    assert!(h.is_closed(1) && h.is_closed(2));
    assert_eq!(h.b.stats().connections, 0);
}

#[test]
fn broker_can_move_to_the_reactor_thread() {
    fn is_send<T: Send>() {}
    is_send::<crate::broker::Broker>();
}

#[test]
fn a_will_delay_longer_than_the_session_fires_when_the_session_ends() {
    let mut h = H::new();
    h.connect(1, "watcher", V311);
    h.subscribe(1, "will/#", QoS::AtMostOnce);
    let c = Connect {
        clean_start: false,
        properties: props(vec![(
            PropertyId::SESSION_EXPIRY_INTERVAL,
            PropertyValue::U32(10),
        )]),
        ..with_will(
            "short",
            V5,
            props(vec![(
                PropertyId::WILL_DELAY_INTERVAL,
                PropertyValue::U32(300),
            )]),
        )
    };
    h.connect_with(2, c);
    h.b.handle_closed(2, h.now);
    h.advance(9);
    assert!(h.take(1).is_empty());
    h.advance(1);
    assert_eq!(payloads(&h.take(1)), ["gone"]);
    assert_eq!(
        h.b.stats().sessions,
        1,
        "only the watcher's session is left"
    );
}

#[test]
fn notices_report_connects_and_disconnects() {
    let config = BrokerConfig {
        hooks: Hooks {
            notices: true,
            ..Hooks::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect(1, "n", V311);
    h.send(1, Packet::Disconnect(Disconnect::default()));
    let ev = h.events();
    assert!(matches!(&ev[..], [
        BrokerEvent::Connected { conn: 1, client: a },
        BrokerEvent::Disconnected { conn: 1, client: b, cause: DisconnectCause::Normal(ReasonCode::SUCCESS) },
    ] if a.client_id == "n" && a.version == V311 && a == b));
}

#[test]
fn topic_limits_close_a_publisher_with_topic_name_invalid() {
    let config = BrokerConfig {
        limits: Limits {
            max_topic_levels: 3,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    h.connect(1, "p", V5);
    h.publish(1, msg("a/b/c", "ok", QoS::AtMostOnce, 0));
    assert!(!h.is_closed(1));
    h.publish(1, msg("a/b/c/d", "deep", QoS::AtMostOnce, 0));
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::TOPIC_NAME_INVALID)
    );
    assert!(h.is_closed(1));
}

#[test]
fn refused_connects_are_reported_as_refused_notices() {
    let config = BrokerConfig {
        hooks: Hooks {
            notices: true,
            connect: true,
            ..Hooks::default()
        },
        ..BrokerConfig::default()
    };
    let mut h = H::with(config);
    // Refused by the broker's own rules: 3.1.1 empty id without clean session.
    let c = Connect {
        clean_start: false,
        ..connect("", V311)
    };
    let out = h.connect_with(1, c);
    assert_eq!(connack_code(&out), ReasonCode::V3_IDENTIFIER_REJECTED);
    let ev = h.events();
    assert!(
        matches!(&ev[..], [BrokerEvent::Disconnected { conn: 1, client, cause: DisconnectCause::Refused(ReasonCode::CLIENT_IDENTIFIER_NOT_VALID) }] if client.client_id.is_empty()),
        "{ev:?}"
    );
    // Refused by the host's connect hook.
    assert!(h.b.handle_accept(2, peer(), h.now));
    h.send(2, Packet::Connect(Box::new(connect("denied", V5))));
    h.events();
    h.b.handle_decision(2, Decision::Connect(ReasonCode::NOT_AUTHORIZED), h.now);
    assert_eq!(connack_code(&h.take(2)), ReasonCode::NOT_AUTHORIZED);
    let ev = h.events();
    assert!(
        matches!(&ev[..], [BrokerEvent::Disconnected { conn: 2, client, cause: DisconnectCause::Refused(ReasonCode::NOT_AUTHORIZED) }] if client.client_id == "denied"),
        "{ev:?}"
    );
    // Exactly one notice: closing the refused connection adds none.
    h.b.handle_closed(2, h.now);
    assert!(h.events().is_empty());
}
