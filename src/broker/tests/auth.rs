//! The router asks `Auth`: CONNECT refused (3.x code 5, MQTT 5 0x87),
//! denied PUBLISH acknowledged and dropped (MQTT 5: 0x87), denied filters
//! 0x80 / 0x87, reads checked per delivery (retained too), wills checked,
//! rules replaced live by `reconfigure`.

use std::sync::Arc;

use super::*;
use crate::broker::auth::{Acl, FileAuth, HashKind, PasswordFile, PasswordHash, Realm};
use crate::protocol::codec::ProtocolVersion::{V5, V311};
use crate::protocol::codec::{SubAck, Will};

fn auth(acl: &str, anonymous: bool) -> Arc<dyn crate::broker::auth::Auth> {
    let pw = PasswordHash::new(HashKind::Pbkdf2Sha512, b"pw", b"saltsaltsalt");
    let realm = Arc::new(Realm {
        allow_anonymous: anonymous,
        passwords: Some(Arc::new(
            PasswordFile::parse(&format!("alice:{pw}\nbob:{pw}\n")).unwrap(),
        )),
        acl: Some(Arc::new(Acl::parse(acl).unwrap())),
    });
    Arc::new(FileAuth {
        listeners: vec![],
        default: realm,
    })
}

const ACL: &str = "topic read pub/#\nuser alice\ntopic readwrite a/#\ntopic deny a/secret\n\
                   topic write w/#\nuser bob\ntopic read a/#\ntopic read will/#\npattern write will/%c\n";

fn broker(acl: &str, anonymous: bool) -> H {
    H::with(BrokerConfig {
        auth: Some(auth(acl, anonymous)),
        ..BrokerConfig::default()
    })
}

fn login(id: &str, v: ProtocolVersion, user: Option<&str>, pw: &str) -> Connect {
    let mut c = connect(id, v);
    c.username = user.map(str::to_string);
    c.password = user.map(|_| Bytes::copy_from_slice(pw.as_bytes()));
    c
}

fn connack_code(out: &[Packet]) -> ReasonCode {
    match out.first() {
        Some(Packet::ConnAck(a)) => a.code,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

fn codes(out: &[Packet]) -> Vec<ReasonCode> {
    match out.first() {
        Some(Packet::SubAck(SubAck { codes, .. })) => codes.clone(),
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

#[test]
fn connect_is_authenticated_as_mosquitto_does() {
    let mut h = broker(ACL, false);
    let v3 =
        |h: &mut H, conn, user, pw| connack_code(&h.connect_with(conn, login("c", V311, user, pw)));
    assert_eq!(v3(&mut h, 1, None, ""), ReasonCode::V3_NOT_AUTHORIZED);
    assert_eq!(
        v3(&mut h, 2, Some("alice"), "bad"),
        ReasonCode::V3_NOT_AUTHORIZED
    );
    assert_eq!(v3(&mut h, 3, Some("alice"), "pw"), ReasonCode::SUCCESS);
    let v5 =
        |h: &mut H, conn, user, pw| connack_code(&h.connect_with(conn, login("d", V5, user, pw)));
    assert_eq!(v5(&mut h, 4, None, ""), ReasonCode::NOT_AUTHORIZED);
    assert_eq!(
        v5(&mut h, 5, Some("carol"), "pw"),
        ReasonCode::NOT_AUTHORIZED
    );
    assert_eq!(v5(&mut h, 6, Some("bob"), "pw"), ReasonCode::SUCCESS);
}

#[test]
fn denied_publishes_are_acknowledged_and_dropped() {
    let mut h = broker(ACL, true);
    h.connect_with(1, login("bob", V5, Some("bob"), "pw"));
    h.subscribe(1, "a/#", QoS::AtLeastOnce);
    h.connect_with(2, login("alice", V5, Some("alice"), "pw"));
    h.connect_with(3, login("alice3", V311, Some("alice"), "pw"));
    h.publish(2, msg("a/secret", "no", QoS::AtLeastOnce, 1));
    h.publish(2, msg("a/secret", "no", QoS::ExactlyOnce, 2));
    h.publish(3, msg("a/secret", "no", QoS::AtLeastOnce, 3));
    h.publish(2, msg("a/ok", "yes", QoS::AtLeastOnce, 4));
    let out = h.take(2);
    let reasons: Vec<ReasonCode> = out
        .iter()
        .map(|p| match p {
            Packet::PubAck(r) | Packet::PubRec(r) => r.reason,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ReasonCode::NOT_AUTHORIZED,
            ReasonCode::NOT_AUTHORIZED,
            ReasonCode::SUCCESS
        ]
    );
    assert!(matches!(&h.take(3)[..], [Packet::PubAck(r)] if r.reason == ReasonCode::SUCCESS));
    assert_eq!(payloads(&h.take(1)), ["yes"]);
}

#[test]
fn denied_filters_get_0x80_or_0x87_and_reads_are_checked_per_message() {
    let mut h = broker(ACL, true);
    h.connect_with(1, login("alice", V5, Some("alice"), "pw"));
    let out = h.subscribe(1, "w/#", QoS::AtMostOnce);
    assert_eq!(codes(&out), [ReasonCode::NOT_AUTHORIZED]);
    h.connect(2, "anon", V311);
    assert_eq!(
        codes(&h.subscribe(2, "a/#", QoS::AtMostOnce)),
        [ReasonCode::V3_SUBACK_FAILURE]
    );
    assert_eq!(
        codes(&h.subscribe(2, "#", QoS::AtMostOnce)),
        [ReasonCode::GRANTED_QOS_0]
    );
    // alice may write a/x: the anonymous `#` subscriber may not read it.
    h.connect_with(3, login("bob", V5, Some("bob"), "pw"));
    h.subscribe(3, "#", QoS::AtMostOnce);
    h.publish(1, msg("a/x", "x", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&h.take(3)), ["x"]);
    assert!(payloads(&h.take(2)).is_empty());
    // Retained messages are reads too.
    let mut r = msg("a/kept", "kept", QoS::AtMostOnce, 0);
    r.retain = true;
    h.publish(1, r);
    h.take(3);
    h.connect(4, "anon2", V311);
    h.subscribe(4, "#", QoS::AtMostOnce);
    assert!(payloads(&h.take(4)).is_empty());
}

#[test]
fn wills_need_write_access() {
    let mut h = broker(ACL, true);
    h.connect_with(1, login("bob", V5, Some("bob"), "pw"));
    h.subscribe(1, "#", QoS::AtMostOnce);
    for (conn, id, topic) in [(2, "w1", "will/w1"), (3, "w2", "will/other")] {
        let mut c = login(id, V311, None, "");
        c.will = Some(Will {
            topic: topic.into(),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Properties::default(),
        });
        h.connect_with(conn, c);
        h.b.handle_closed(conn, h.now);
    }
    h.flush();
    let out = h.take(1);
    let topics: Vec<&str> = publishes(&out).iter().map(|p| p.topic.as_str()).collect();
    assert_eq!(topics, ["will/w1"], "the will to will/other was refused");
    assert_eq!(h.b.stats().dropped, 1);
}

#[test]
fn reconfigure_applies_new_rules_to_the_next_packet() {
    let mut h = broker("user alice\ntopic read x\n", true);
    h.connect_with(1, login("alice", V5, Some("alice"), "pw"));
    h.publish(1, msg("x", "1", QoS::AtLeastOnce, 1));
    assert!(
        matches!(&h.take(1)[..], [Packet::PubAck(r)] if r.reason == ReasonCode::NOT_AUTHORIZED)
    );
    h.b.reconfigure(BrokerConfig {
        auth: Some(auth("user alice\ntopic readwrite x\n", true)),
        ..BrokerConfig::default()
    });
    h.publish(1, msg("x", "2", QoS::AtLeastOnce, 2));
    assert!(
        matches!(&h.take(1)[..], [Packet::PubAck(r)] if r.reason.is_success()),
        "the connection stays and the new rules apply"
    );
}
