//! The host hooks in the core: one client record per connection (kept only
//! while hooks are on), the delivery check, unsubscribe notices, the host
//! ending a client, and MQTT 5 enhanced authentication.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::*;
use crate::broker::{
    AuthAnswer, ClientRecord, Decision, Delivery, DeliveryCheck, DisconnectCause, Hooks,
};
use crate::protocol::codec::{Auth, Unsubscribe, Will};

use ProtocolVersion::{V5, V311};

fn with_hooks(hooks: Hooks) -> H {
    H::with(BrokerConfig {
        hooks,
        ..BrokerConfig::default()
    })
}

/// The client of a notice or request event.
fn client_of(ev: &BrokerEvent) -> Option<&Arc<ClientRecord>> {
    match ev {
        BrokerEvent::ConnectRequest { client, .. }
        | BrokerEvent::AuthRequest { client, .. }
        | BrokerEvent::PublishRequest { client, .. }
        | BrokerEvent::SubscribeRequest { client, .. }
        | BrokerEvent::Unsubscribed { client, .. }
        | BrokerEvent::Connected { client, .. }
        | BrokerEvent::Disconnected { client, .. } => Some(client),
        _ => None,
    }
}

#[test]
fn every_event_carries_the_same_record_and_none_is_kept_without_hooks() {
    let mut h = H::new();
    h.connect(1, "plain", V311);
    assert!(h.b.records.is_none(), "no hooks: no table");

    let mut h = with_hooks(Hooks {
        notices: true,
        publish: true,
        subscribe: true,
        unsubscribe: true,
        ..Hooks::default()
    });
    assert!(h.b.handle_accept(1, peer(), h.now));
    let c = Connect {
        username: Some("ann".into()),
        bridge: true,
        ..connect("", V5)
    };
    h.send(1, Packet::Connect(Box::new(c)));
    h.subscribe(1, "a/#", QoS::AtLeastOnce);
    h.b.handle_decision(1, Decision::Subscribe(vec![ReasonCode(1)]), h.now);
    h.publish(1, msg("a/b", "x", QoS::AtMostOnce, 0));
    h.b.handle_decision(1, Decision::Publish(ReasonCode::SUCCESS), h.now);
    let u = Unsubscribe {
        packet_id: 2,
        properties: Properties::default(),
        filters: vec!["a/#".into(), "never".into()],
    };
    h.send(1, Packet::Unsubscribe(u));
    h.send(1, Packet::Disconnect(Default::default()));
    let ev = h.events();
    let kinds: Vec<_> = ev
        .iter()
        .map(|e| format!("{e:?}").split(' ').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "Connected",
            "SubscribeRequest",
            "PublishRequest",
            "Unsubscribed",
            "Disconnected"
        ]
    );
    let first = client_of(&ev[0]).expect("record");
    assert!(first.client_id.starts_with("ferromq-"), "assigned id");
    assert_eq!(first.username.as_deref(), Some("ann"));
    assert_eq!(
        (first.peer, first.version, first.bridge),
        (peer(), V5, true)
    );
    assert_eq!(first.cert_subject, None);
    for e in &ev {
        assert!(Arc::ptr_eq(client_of(e).unwrap(), first), "{e:?}");
    }
    assert!(
        matches!(&ev[3], BrokerEvent::Unsubscribed { filters, .. } if filters == &["a/#", "never"])
    );
    h.flush();
    assert!(h.b.records.is_none(), "the table goes with the last record");
}

#[test]
fn the_certificate_name_is_in_the_record() {
    let mut h = with_hooks(Hooks {
        connect: true,
        ..Hooks::default()
    });
    assert!(h.b.handle_accept(1, peer(), h.now));
    h.b.handle_identity(1, Some("alice".into()));
    h.send(1, Packet::Connect(Box::new(connect("c", V311))));
    let ev = h.events();
    let client = client_of(&ev[0]).expect("connect request");
    assert_eq!(client.cert_subject.as_deref(), Some("alice"));
    assert_eq!(client.username.as_deref(), Some("alice"));
    // A listener that only reports it: the name is not the user name.
    assert!(h.b.handle_accept(2, peer(), h.now));
    h.b.handle_cert_subject(2, Some("bob".into()));
    let c = Connect {
        username: Some("carol".into()),
        ..connect("d", V311)
    };
    h.send(2, Packet::Connect(Box::new(c)));
    let ev = h.events();
    let client = client_of(&ev[0]).expect("connect request");
    assert_eq!(client.cert_subject.as_deref(), Some("bob"));
    assert_eq!(client.username.as_deref(), Some("carol"));
    h.b.handle_closed(2, h.now);
    // Without hooks nothing is kept.
    let mut plain = H::new();
    assert!(plain.b.handle_accept(1, peer(), plain.now));
    plain.b.handle_cert_subject(1, Some("bob".into()));
    assert!(plain.b.records.is_none());
}

/// A delivery check that refuses topics under `secret/` and remembers
/// whom it was asked about.
#[derive(Debug, Default)]
struct NoSecrets(Mutex<Vec<String>>);

impl DeliveryCheck for NoSecrets {
    fn may_deliver(&self, client: &ClientRecord, m: &Delivery<'_>) -> bool {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", client.client_id, m.topic));
        !m.topic.starts_with("secret/")
    }
}

#[test]
fn the_delivery_check_skips_a_message_for_one_subscriber_and_counts_it() {
    let check = Arc::new(NoSecrets::default());
    let mut h = H::with(BrokerConfig {
        hooks: Hooks {
            deliver: true,
            ..Hooks::default()
        },
        delivery_check: Some(check.clone()),
        ..BrokerConfig::default()
    });
    h.connect(1, "sub", V311);
    h.subscribe(1, "#", QoS::AtLeastOnce);
    h.connect(2, "pub", V311);
    h.publish(2, msg("open/1", "a", QoS::AtLeastOnce, 1));
    h.publish(2, msg("secret/1", "b", QoS::AtLeastOnce, 2));
    h.publish(2, msg("open/2", "c", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&h.take(1)), ["a", "c"]);
    assert_eq!(h.b.stats().delivery_denied, 1);
    // The publisher was acknowledged for both.
    assert_eq!(h.take(2).len(), 2);
    assert_eq!(
        *check.0.lock().unwrap(),
        ["sub open/1", "sub secret/1", "sub open/2"]
    );
    // Queued while offline, checked when it goes out.
    let c = Connect {
        clean_start: false,
        ..connect("durable", V311)
    };
    h.connect_with(3, c.clone());
    h.subscribe(3, "secret/#", QoS::AtLeastOnce);
    h.b.handle_closed(3, h.now);
    h.publish(2, msg("secret/2", "d", QoS::AtLeastOnce, 3));
    h.connect_with(4, c);
    assert!(payloads(&h.take(4)).is_empty());
    assert_eq!(h.b.stats().delivery_denied, 3);
}

#[test]
fn the_host_ends_a_client_with_its_will() {
    let mut h = with_hooks(Hooks {
        notices: true,
        ..Hooks::default()
    });
    h.connect(1, "watcher", V311);
    h.subscribe(1, "will/#", QoS::AtMostOnce);
    let c = Connect {
        will: Some(Will {
            topic: "will/v5".into(),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Properties::default(),
        }),
        ..connect("v5", V5)
    };
    h.connect_with(2, c);
    h.connect(3, "v3", V311);
    h.events();
    assert!(!h.b.disconnect_client("nobody", ReasonCode(0x98), h.now));
    assert!(h.b.disconnect_client("v5", ReasonCode(0x98), h.now));
    assert!(h.b.disconnect_client("v3", ReasonCode(0x98), h.now));
    let out = h.take(2);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode(0x98)),
        "{out:?}"
    );
    assert!(h.take(3).is_empty(), "3.x: just closed");
    assert!(h.is_closed(2) && h.is_closed(3));
    assert_eq!(payloads(&h.take(1)), ["gone"]);
    let ev = h.events();
    assert!(matches!(&ev[..], [
        BrokerEvent::Disconnected { cause: DisconnectCause::ByHost(a), .. },
        BrokerEvent::Disconnected { cause: DisconnectCause::ByHost(b), .. },
    ] if *a == ReasonCode(0x98) && *b == ReasonCode(0x98)));
    assert!(!h.b.disconnect_client("v3", ReasonCode(0x98), h.now));
}

fn auth_props(method: &str, data: Option<&'static [u8]>) -> Properties {
    let mut list = vec![(
        PropertyId::AUTHENTICATION_METHOD,
        PropertyValue::String(method.into()),
    )];
    if let Some(d) = data {
        list.push((
            PropertyId::AUTHENTICATION_DATA,
            PropertyValue::Binary(Bytes::from_static(d)),
        ));
    }
    props(list)
}

fn auth_connect(id: &str) -> Connect {
    Connect {
        properties: auth_props("TOY", Some(b"hello")),
        ..connect(id, V5)
    }
}

fn client_auth(data: &'static [u8]) -> Packet {
    Packet::Auth(Auth {
        reason: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: auth_props("TOY", Some(data)),
    })
}

/// The data of the AuthRequest in `ev` with its step (and re-auth flag).
fn auth_request_of(ev: &[BrokerEvent]) -> (u32, Option<Bytes>, bool) {
    match ev {
        [
            BrokerEvent::AuthRequest {
                data, step, reauth, ..
            },
        ] => (*step, data.clone(), *reauth),
        other => panic!("{other:?}"),
    }
}

/// The data of the AuthRequest in `ev` with its step.
fn auth_request(ev: &[BrokerEvent]) -> (u32, Option<Bytes>) {
    match ev {
        [
            BrokerEvent::AuthRequest {
                method, data, step, ..
            },
        ] if method == "TOY" => (*step, data.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_an_auth_hook_an_authentication_method_is_refused_with_0x8c() {
    let mut h = with_hooks(Hooks {
        connect: true,
        ..Hooks::default()
    });
    let out = h.connect_with(1, auth_connect("a"));
    assert!(matches!(&out[..], [Packet::ConnAck(a)] if a.code == ReasonCode(0x8C)));
}

#[test]
fn enhanced_authentication_continues_then_succeeds() {
    let mut h = with_hooks(Hooks {
        auth: true,
        ..Hooks::default()
    });
    assert!(h.connect_with(1, auth_connect("a")).is_empty());
    assert_eq!(
        auth_request(&h.events()),
        (0, Some(Bytes::from_static(b"hello")))
    );
    // Input waits while the host thinks.
    assert!(!h.b.wants_input(1));
    let challenge = AuthAnswer::Continue(Some(Bytes::from_static(b"nonce")));
    h.b.handle_decision(1, Decision::Auth(challenge), h.now);
    let out = h.take(1);
    let Some(Packet::Auth(a)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(a.reason, ReasonCode::CONTINUE_AUTHENTICATION);
    assert_eq!(a.properties, auth_props("TOY", Some(b"nonce")));
    h.send(1, client_auth(b"proof"));
    assert_eq!(
        auth_request(&h.events()),
        (1, Some(Bytes::from_static(b"proof")))
    );
    let ok = AuthAnswer::Success(Some(Bytes::from_static(b"welcome")));
    h.b.handle_decision(1, Decision::Auth(ok), h.now);
    let out = h.take(1);
    let Some(Packet::ConnAck(ack)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert_eq!(
        prop_of(&ack.properties, PropertyId::AUTHENTICATION_METHOD),
        Some(&PropertyValue::String("TOY".into()))
    );
    assert_eq!(
        prop_of(&ack.properties, PropertyId::AUTHENTICATION_DATA),
        Some(&PropertyValue::Binary(Bytes::from_static(b"welcome")))
    );
    h.subscribe(1, "t", QoS::AtMostOnce);

    // Re-authentication: AUTH 0x19, one more round, then AUTH 0x00.
    let reauth = |reason, data: &'static [u8]| {
        Packet::Auth(Auth {
            reason,
            properties: auth_props("TOY", Some(data)),
        })
    };
    h.send(1, reauth(ReasonCode::RE_AUTHENTICATE, b"again"));
    let again = Some(Bytes::from_static(b"again"));
    assert_eq!(auth_request_of(&h.events()), (0, again, true));
    let more = AuthAnswer::Continue(Some(Bytes::from_static(b"n2")));
    h.b.handle_decision(1, Decision::Auth(more), h.now);
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::Auth(a)]
        if a.reason == ReasonCode::CONTINUE_AUTHENTICATION
        && a.properties == auth_props("TOY", Some(b"n2"))),
        "{out:?}"
    );
    h.send(1, reauth(ReasonCode::CONTINUE_AUTHENTICATION, b"p2"));
    let p2 = Some(Bytes::from_static(b"p2"));
    assert_eq!(auth_request_of(&h.events()), (1, p2, true));
    let ok = AuthAnswer::Success(None);
    h.b.handle_decision(1, Decision::Auth(ok), h.now);
    let out = h.take(1);
    assert!(
        matches!(&out[..], [Packet::Auth(a)]
        if a.reason == ReasonCode::SUCCESS
        && a.properties == auth_props("TOY", None)),
        "{out:?}"
    );
    // A failed re-authentication ends the connection with the host's code.
    h.send(1, reauth(ReasonCode::RE_AUTHENTICATE, b"third"));
    h.events();
    let no = AuthAnswer::Fail(ReasonCode::NOT_AUTHORIZED);
    h.b.handle_decision(1, Decision::Auth(no), h.now);
    let out = h.take(1);
    assert!(matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::NOT_AUTHORIZED));
    assert!(h.is_closed(1));
}

#[test]
fn re_authentication_needs_the_method_the_client_connected_with() {
    let mut h = with_hooks(Hooks {
        auth: true,
        ..Hooks::default()
    });
    // Connected without enhanced authentication: AUTH is a protocol error.
    h.connect(1, "plain", V5);
    h.send(
        1,
        Packet::Auth(Auth {
            reason: ReasonCode::RE_AUTHENTICATE,
            properties: auth_props("TOY", None),
        }),
    );
    assert!(
        matches!(&h.take(1)[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR)
    );
    // Connected with TOY: AUTH 0x18 out of the blue, or another method, too.
    for (reason, method) in [
        (ReasonCode::CONTINUE_AUTHENTICATION, "TOY"),
        (ReasonCode::RE_AUTHENTICATE, "OTHER"),
    ] {
        let conn = if method == "TOY" { 2 } else { 3 };
        h.connect_with(conn, auth_connect(&format!("c{conn}")));
        h.events();
        h.b.handle_decision(conn, Decision::Auth(AuthAnswer::Success(None)), h.now);
        h.take(conn);
        h.send(
            conn,
            Packet::Auth(Auth {
                reason,
                properties: auth_props(method, None),
            }),
        );
        let out = h.take(conn);
        assert!(
            matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR),
            "{out:?}"
        );
        assert!(
            h.events()
                .iter()
                .all(|e| !matches!(e, BrokerEvent::AuthRequest { .. }))
        );
    }
}

#[test]
fn enhanced_authentication_failures() {
    let mut h = with_hooks(Hooks {
        auth: true,
        ..Hooks::default()
    });
    // The host refuses: CONNACK with its code.
    h.connect_with(1, auth_connect("a"));
    h.events();
    let no = AuthAnswer::Fail(ReasonCode::NOT_AUTHORIZED);
    h.b.handle_decision(1, Decision::Auth(no), h.now);
    assert!(matches!(&h.take(1)[..], [Packet::ConnAck(a)] if a.code == ReasonCode::NOT_AUTHORIZED));
    assert!(h.is_closed(1));
    // A client AUTH naming another method is a protocol error.
    h.connect_with(2, auth_connect("b"));
    h.events();
    let more = AuthAnswer::Continue(None);
    h.b.handle_decision(2, Decision::Auth(more), h.now);
    h.take(2);
    h.send(
        2,
        Packet::Auth(Auth {
            reason: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: auth_props("OTHER", None),
        }),
    );
    assert!(matches!(&h.take(2)[..], [Packet::ConnAck(a)] if a.code == ReasonCode::PROTOCOL_ERROR));
    // A PUBLISH in the middle of the exchange too.
    h.connect_with(3, auth_connect("c"));
    h.events();
    h.b.handle_decision(3, Decision::Auth(AuthAnswer::Continue(None)), h.now);
    h.take(3);
    h.publish(3, msg("t", "x", QoS::AtMostOnce, 0));
    assert!(h.is_closed(3));
    // A client that never answers meets the connect timeout.
    h.connect_with(4, auth_connect("d"));
    h.events();
    h.b.handle_decision(4, Decision::Auth(AuthAnswer::Continue(None)), h.now);
    h.advance(11);
    assert!(h.is_closed(4));
}

/// Enhanced authentication parks its CONNECT where the connect decision
/// does (`Conn::pending`): its phase stays a few bytes, and a connection is
/// no larger for it (idle RSS per connection is benched).
#[test]
fn the_authentication_phase_adds_nothing_to_a_connection() {
    assert!(std::mem::size_of::<crate::broker::connection::Phase>() <= 4);
    assert!(std::mem::size_of::<crate::broker::connection::Conn>() <= 184);
}

/// A host that only logs (`ferromq broker`) asks for lean notices: no
/// record per connection, so its idle footprint is that of no hooks; the
/// notices still name the client, its address and protocol.
#[test]
fn lean_notices_keep_no_record_per_connection() {
    let mut h = with_hooks(Hooks {
        notices: true,
        lean_notices: true,
        ..Hooks::default()
    });
    h.connect(1, "logged", V311);
    assert!(h.b.records.is_none(), "lean notices: no table");
    let mut h = with_hooks(Hooks {
        notices: true,
        ..Hooks::default()
    });
    h.connect(1, "logged", V311);
    assert!(h.b.records.is_some(), "full notices keep the record");
}
