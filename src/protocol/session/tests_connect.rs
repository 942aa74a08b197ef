//! Unit tests of the connection lifecycle: CONNECT/CONNACK, connect timeout,
//! keepalive, disconnect (both sides) and protocol errors.

use bytes::Bytes;

use super::client::{ClientSession, CloseReason, Event, SessionError, SessionState};
use super::test_support::*;
use crate::protocol::codec::{
    Auth, ConnAck, Disconnect, Packet, Properties, PropertyId, PropertyValue, ProtocolVersion, QoS,
    ReasonCode,
};
use std::time::Instant;

#[test]
fn new_queues_connect_from_config_and_arms_connect_timeout() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.clean_start = false;
    cfg.username = Some("u".into());
    let mut s = ClientSession::new(cfg, t0);
    assert_eq!(s.state(), SessionState::AwaitConnack);
    assert!(!s.is_connected());
    assert_eq!(s.poll_timeout(), Some(t0 + secs(5)));
    let out = packets(&mut s, t0);
    let [Packet::Connect(c)] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(c.protocol, ProtocolVersion::V311);
    assert_eq!(c.client_id, "c1");
    assert_eq!(c.keep_alive, 10);
    assert!(!c.clean_start);
    assert_eq!(c.username.as_deref(), Some("u"));
    assert_eq!(
        s.publish(
            "t".into(),
            Bytes::new(),
            QoS::AtMostOnce,
            false,
            Properties::default(),
            t0
        ),
        Err(SessionError::NotConnected)
    );
}

#[test]
fn connack_success_connects() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V311), t0);
    packets(&mut s, t0);
    s.handle_packet(connack(false), t0 + secs(1));
    let ev = events(&mut s);
    assert!(matches!(ev.as_slice(), [Event::Connected(a)] if a.code == ReasonCode::SUCCESS));
    assert!(s.is_connected());
    assert_eq!(s.connack().map(|a| a.session_present), Some(false));
    // The connect timeout is gone; keepalive counts from the CONNECT at t0.
    assert_eq!(s.poll_timeout(), Some(t0 + secs(10)));
    assert_eq!(s.send_window(), 10);
}

#[test]
fn connack_refusal_reports_and_closes() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V311), t0);
    packets(&mut s, t0);
    let refused = ConnAck {
        code: ReasonCode::V3_NOT_AUTHORIZED,
        ..ConnAck::default()
    };
    s.handle_packet(Packet::ConnAck(refused.clone()), t0);
    assert_eq!(
        events(&mut s),
        vec![
            Event::ConnectRefused(refused),
            Event::Closed(CloseReason::ServerDisconnect)
        ]
    );
    assert_eq!(s.state(), SessionState::Closed);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn v5_connack_failure_code_refuses() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V5), t0);
    packets(&mut s, t0);
    let refused = ConnAck {
        code: ReasonCode::BAD_USER_NAME_OR_PASSWORD,
        ..ConnAck::default()
    };
    s.handle_packet(Packet::ConnAck(refused.clone()), t0);
    assert_eq!(events(&mut s)[0], Event::ConnectRefused(refused));
    assert!(!s.is_connected());
}

#[test]
fn connect_timeout_closes() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V311), t0);
    packets(&mut s, t0);
    s.handle_timeout(t0 + secs(4));
    assert!(events(&mut s).is_empty(), "not yet due");
    s.handle_timeout(t0 + secs(5));
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::ConnectTimeout)]
    );
    assert_eq!(s.close_reason(), Some(&CloseReason::ConnectTimeout));
}

#[test]
fn fallback_to_v31_through_reconnect() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V311), t0);
    packets(&mut s, t0);
    let refused = ConnAck {
        code: ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION,
        ..ConnAck::default()
    };
    s.handle_packet(Packet::ConnAck(refused), t0);
    events(&mut s);
    s.reconnect(config(ProtocolVersion::V31), t0 + secs(1));
    let out = packets(&mut s, t0 + secs(1));
    assert!(matches!(out.as_slice(), [Packet::Connect(c)] if c.protocol == ProtocolVersion::V31));
    s.handle_packet(connack(false), t0 + secs(1));
    assert!(matches!(events(&mut s).as_slice(), [Event::Connected(_)]));
    assert_eq!(s.version(), ProtocolVersion::V31);
}

#[test]
fn keepalive_sends_ping_after_idle_send_and_times_out() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    // Sending at t0+4 pushes the ping out to t0+14.
    publish(&mut s, "a", QoS::AtMostOnce, t0 + secs(4));
    packets(&mut s, t0 + secs(4));
    assert_eq!(s.poll_timeout(), Some(t0 + secs(14)));
    s.handle_timeout(t0 + secs(10));
    assert!(packets(&mut s, t0 + secs(10)).is_empty());
    s.handle_timeout(t0 + secs(14));
    assert_eq!(packets(&mut s, t0 + secs(14)), vec![Packet::PingReq]);
    // The deadline is keep_alive after the PINGREQ.
    assert_eq!(s.poll_timeout(), Some(t0 + secs(24)));
    s.handle_timeout(t0 + secs(24));
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::KeepAliveTimeout)]
    );
    assert!(!s.is_connected());
}

#[test]
fn pingresp_clears_the_deadline_and_rearms_keepalive() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    s.handle_timeout(t0 + secs(10));
    assert_eq!(packets(&mut s, t0 + secs(10)), vec![Packet::PingReq]);
    s.handle_packet(Packet::PingResp, t0 + secs(11));
    assert_eq!(s.poll_timeout(), Some(t0 + secs(20)));
    s.handle_timeout(t0 + secs(20));
    assert_eq!(packets(&mut s, t0 + secs(20)), vec![Packet::PingReq]);
    assert!(events(&mut s).is_empty());
}

#[test]
fn any_packet_answers_an_outstanding_ping() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    s.handle_timeout(t0 + secs(10));
    packets(&mut s, t0 + secs(10));
    s.handle_packet(incoming("x", QoS::AtMostOnce, 0), t0 + secs(15));
    s.handle_timeout(t0 + secs(20));
    assert!(
        !events(&mut s).contains(&Event::Closed(CloseReason::KeepAliveTimeout)),
        "a live server is not timed out"
    );
    assert!(s.is_connected());
}

#[test]
fn zero_keepalive_arms_no_timer() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V311);
    cfg.keep_alive = secs(0);
    let s = connected(cfg, t0);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn v5_connack_properties_are_honoured() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V5), t0);
    packets(&mut s, t0);
    let mut ack = ConnAck::default();
    ack.properties.list = vec![
        prop(PropertyId::SERVER_KEEP_ALIVE, PropertyValue::U16(30)),
        prop(PropertyId::RECEIVE_MAXIMUM, PropertyValue::U16(2)),
        prop(PropertyId::MAXIMUM_PACKET_SIZE, PropertyValue::U32(64)),
        prop(
            PropertyId::ASSIGNED_CLIENT_IDENTIFIER,
            PropertyValue::String("auto-7".into()),
        ),
    ];
    s.handle_packet(Packet::ConnAck(ack), t0);
    assert!(s.is_connected());
    assert_eq!(s.keep_alive(), Some(secs(30)));
    assert_eq!(s.poll_timeout(), Some(t0 + secs(30)));
    assert_eq!(s.send_window(), 2);
    assert_eq!(s.max_send_packet_size(), 64);
    assert_eq!(s.assigned_client_id(), Some("auto-7"));
    let big = Bytes::from(vec![0u8; 100]);
    assert!(matches!(
        s.publish(
            "t".into(),
            big,
            QoS::AtMostOnce,
            false,
            Properties::default(),
            t0
        ),
        Err(SessionError::Invalid(_))
    ));
    publish(&mut s, "t", QoS::AtLeastOnce, t0);
    publish(&mut s, "t", QoS::AtLeastOnce, t0);
    assert_eq!(
        s.publish(
            "t".into(),
            Bytes::new(),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
            t0
        ),
        Err(SessionError::InflightFull)
    );
}

#[test]
fn v5_connect_advertises_our_maximum_packet_size() {
    let t0 = Instant::now();
    let mut cfg = config(ProtocolVersion::V5);
    cfg.max_packet_size = 1000;
    let mut s = ClientSession::new(cfg, t0);
    let out = packets(&mut s, t0);
    let [Packet::Connect(c)] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert!(c.properties.list.contains(&prop(
        PropertyId::MAXIMUM_PACKET_SIZE,
        PropertyValue::U32(1000)
    )));
}

#[test]
fn client_disconnect_closes_after_transmission() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V5), t0);
    s.disconnect(
        ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
        Properties::default(),
        t0,
    );
    assert!(
        events(&mut s).is_empty(),
        "not closed before DISCONNECT is out"
    );
    assert_eq!(s.state(), SessionState::Disconnecting);
    assert_eq!(s.poll_timeout(), None);
    let out = packets(&mut s, t0);
    assert_eq!(
        out,
        vec![Packet::Disconnect(Disconnect {
            reason: ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
            properties: Properties::default(),
        })]
    );
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::ClientDisconnect)]
    );
    assert!(matches!(
        s.subscribe(vec![], Properties::default(), t0),
        Err(SessionError::NotConnected)
    ));
}

#[test]
fn server_disconnect_is_reported_then_closes() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V5), t0);
    let d = Disconnect {
        reason: ReasonCode::SERVER_SHUTTING_DOWN,
        properties: Properties::default(),
    };
    s.handle_packet(Packet::Disconnect(d.clone()), t0);
    assert_eq!(
        events(&mut s),
        vec![
            Event::ServerDisconnect(d),
            Event::Closed(CloseReason::ServerDisconnect)
        ]
    );
}

#[test]
fn unexpected_packet_is_a_protocol_error_v311() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    s.handle_packet(Packet::PingReq, t0);
    let ev = events(&mut s);
    assert!(
        matches!(ev.as_slice(), [Event::Closed(CloseReason::ProtocolError(t))] if t.contains("PingReq")),
        "{ev:?}"
    );
    assert!(packets(&mut s, t0).is_empty(), "3.x sends no DISCONNECT");
}

#[test]
fn unexpected_packet_v5_sends_disconnect_with_reason_first() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V5), t0);
    s.handle_packet(connack(false), t0);
    assert!(events(&mut s).is_empty());
    let out = packets(&mut s, t0);
    assert!(matches!(
        out.as_slice(),
        [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR
    ));
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Closed(CloseReason::ProtocolError(_))]
    ));
}

#[test]
fn packet_before_connack_is_a_protocol_error() {
    let t0 = Instant::now();
    let mut s = ClientSession::new(config(ProtocolVersion::V311), t0);
    packets(&mut s, t0);
    s.handle_packet(incoming("t", QoS::AtMostOnce, 0), t0);
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Closed(CloseReason::ProtocolError(_))]
    ));
}

#[test]
fn v5_auth_is_reported() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V5), t0);
    let auth = Auth {
        reason: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: Properties::default(),
    };
    s.handle_packet(Packet::Auth(auth.clone()), t0);
    assert_eq!(events(&mut s), vec![Event::Auth(auth)]);
    assert!(s.is_connected());
}

#[test]
fn connection_lost_closes_once_and_ignores_later_input() {
    let t0 = Instant::now();
    let mut s = connected(config(ProtocolVersion::V311), t0);
    publish(&mut s, "t", QoS::AtMostOnce, t0);
    s.handle_connection_lost(t0);
    s.handle_connection_lost(t0);
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::ConnectionLost)]
    );
    assert!(packets(&mut s, t0).is_empty(), "queued output is dropped");
    s.handle_packet(incoming("t", QoS::AtMostOnce, 0), t0);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), None);
}
