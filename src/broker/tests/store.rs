//! The broker store: what a commit writes comes back in a new broker
//! (sessions with subscriptions, in-flight window and queue, inbound QoS 2
//! ids, retained messages); ended sessions leave the file; a damaged file is
//! an error naming it.

use super::*;
use crate::broker::store::{Restored, Store};
use crate::protocol::codec::ProtocolVersion::V311;

fn durable(id: &str) -> Connect {
    Connect {
        clean_start: false,
        ..connect(id, V311)
    }
}

/// A broker on the store at `path`, read back.
fn open(path: &std::path::Path) -> (H, Store, Restored) {
    let mut h = H::new();
    let mut store = Store::open(path).unwrap();
    let restored = store.restore(&mut h.b, h.now).unwrap();
    (h, store, restored)
}

fn commit(h: &mut H, store: &mut Store) {
    store.commit(&mut h.b, h.now).unwrap();
    assert!(!h.b.has_staged());
}

#[test]
fn sessions_and_retained_messages_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let (mut h, mut store, restored) = open(&path);
        assert_eq!(restored, Restored::default());
        h.connect_with(1, durable("sub"));
        h.subscribe(1, "q/#", QoS::ExactlyOnce);
        h.connect_with(2, durable("pub"));
        h.take(2);
        h.publish(2, msg("q/1", "a", QoS::AtLeastOnce, 1));
        h.publish(2, msg("q/2", "b", QoS::ExactlyOnce, 2));
        let got = h.take(1);
        assert_eq!(payloads(&got), ["a", "b"]);
        let ids: Vec<u16> = publishes(&got).iter().map(|p| p.packet_id).collect();
        // "a" is acknowledged and gone; "b" waits for its PUBREC.
        h.send(1, Packet::PubAck(ack(ids[0])));
        commit(&mut h, &mut store);
        h.b.handle_closed(1, h.now);
        h.publish(2, msg("q/3", "c", QoS::AtLeastOnce, 3));
        let mut r = msg("ret/x", "kept", QoS::AtLeastOnce, 4);
        r.retain = true;
        h.publish(2, r);
        // A QoS 2 message from "pub" whose PUBREL has not come yet.
        h.publish(2, msg("other", "d", QoS::ExactlyOnce, 7));
        commit(&mut h, &mut store);
        h.take(2);
        // The process dies here: no orderly end for anyone.
        drop(store);
        drop(h);

        let (mut h, mut store, restored) = open(&path);
        assert_eq!(
            restored,
            Restored {
                retained: 1,
                sessions: 2,
                messages: 2
            }
        );
        let out = h.connect_with(3, durable("sub"));
        assert!(matches!(&out[0], Packet::ConnAck(a) if a.session_present));
        let p = publishes(&out);
        assert_eq!(
            payloads(&out),
            ["b", "c"],
            "in flight first, then the queue"
        );
        assert!(
            p[0].dup && p[0].packet_id == ids[1],
            "same id, DUP: {:?}",
            p[0]
        );
        assert_eq!(p[0].qos, QoS::ExactlyOnce);
        // The publisher resends its unreleased QoS 2 message: not routed again.
        h.connect_with(4, durable("pub"));
        let mut again = msg("q/4", "d-again", QoS::ExactlyOnce, 7);
        again.dup = true;
        h.publish(4, again);
        assert!(matches!(&h.take(4)[..], [Packet::PubRec(r)] if r.packet_id == 7));
        assert!(payloads(&h.take(3)).is_empty());
        h.connect(5, "late", V311);
        let got = h.subscribe(5, "ret/#", QoS::AtLeastOnce);
        assert_eq!(payloads(&got), ["kept"]);
        commit(&mut h, &mut store);
    }
}

#[test]
fn ended_sessions_leave_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let (mut h, mut store, _) = open(&path);
        h.connect_with(1, durable("a"));
        h.subscribe(1, "t", QoS::AtLeastOnce);
        h.connect_with(2, durable("b"));
        commit(&mut h, &mut store);
        // "a" comes back clean: its stored session goes.
        h.b.handle_closed(1, h.now);
        h.connect(3, "a", V311);
        commit(&mut h, &mut store);
    }
    let (_, _, restored) = open(&path);
    assert_eq!(restored.sessions, 1, "only b is left");
}

#[test]
fn a_damaged_store_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.redb");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let e = Store::open(&path).unwrap_err().to_string();
    assert!(e.contains("broken.redb"), "{e}");
    // The file is left as it was for someone to look at.
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x5a; 8192]);
}

#[test]
fn without_a_store_nothing_is_staged() {
    let mut h = H::new();
    h.connect_with(1, durable("a"));
    h.subscribe(1, "t", QoS::AtLeastOnce);
    assert!(!h.b.has_staged());
}

#[test]
fn session_expiry_deletes_from_the_store() {
    use crate::protocol::codec::ProtocolVersion::V5;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let (mut h, mut store, _) = open(&path);
        let c = Connect {
            clean_start: false,
            properties: props(vec![(
                PropertyId::SESSION_EXPIRY_INTERVAL,
                PropertyValue::U32(10),
            )]),
            ..connect("short", V5)
        };
        h.connect_with(1, c);
        h.subscribe(1, "t", QoS::AtLeastOnce);
        h.b.handle_closed(1, h.now);
        commit(&mut h, &mut store);
    }
    {
        // Still there after a restart, with its expiry running from then.
        let (mut h, mut store, restored) = open(&path);
        assert_eq!(restored.sessions, 1);
        h.advance(11);
        assert!(h.b.has_staged(), "expiry staged the session's removal");
        commit(&mut h, &mut store);
    }
    let (_, _, restored) = open(&path);
    assert_eq!(restored.sessions, 0);
}

#[test]
fn a_delayed_will_survives_a_restart() {
    use crate::protocol::codec::ProtocolVersion::V5;
    use crate::protocol::codec::Will;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let (mut h, mut store, _) = open(&path);
        let c = Connect {
            clean_start: false,
            properties: props(vec![(
                PropertyId::SESSION_EXPIRY_INTERVAL,
                PropertyValue::U32(600),
            )]),
            will: Some(Will {
                topic: "wills/w".into(),
                payload: Bytes::from_static(b"gone"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: props(vec![(
                    PropertyId::WILL_DELAY_INTERVAL,
                    PropertyValue::U32(5),
                )]),
            }),
            ..connect("w", V5)
        };
        h.connect_with(1, c);
        commit(&mut h, &mut store);
        // kill -9 while "w" is connected.
    }
    let (mut h, _store, _) = open(&path);
    h.connect(2, "watcher", V311);
    h.subscribe(2, "wills/#", QoS::AtLeastOnce);
    h.advance(4);
    assert!(payloads(&h.take(2)).is_empty(), "not before its delay");
    h.advance(2);
    assert_eq!(payloads(&h.take(2)), ["gone"]);
}
