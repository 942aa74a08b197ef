//! The broker's per-session limits seen from raw sockets: the queue for an
//! offline session with each drop policy (and the drop counter), topic length
//! and level limits on PUBLISH.

mod support;

use ferromq::broker::{DropPolicy, Limits};
use ferromq::protocol::codec::{
    Connect, Disconnect, Packet, Properties, ProtocolVersion, PubResp, Publish, QoS, ReasonCode,
};
use support::raw::{Got, Raw, WAIT, Watch, server};

use ProtocolVersion::{V5, V311};

fn persistent(id: &str) -> Connect {
    Connect {
        protocol: V311,
        client_id: id.into(),
        clean_start: false,
        ..Connect::default()
    }
}

#[test]
fn offline_queue_limit_with_each_drop_policy() {
    for (policy, want) in [
        (DropPolicy::DropNewest, [b"q0", b"q1", b"q2"]),
        (DropPolicy::DropOldest, [b"q2", b"q3", b"q4"]),
    ] {
        let limits = Limits {
            max_queued: 3,
            drop_policy: policy,
            ..Limits::default()
        };
        let (srv, port) = server(limits);
        let mut s = Raw::connect_with(port, persistent("queued"));
        s.subscribe("qd/t", QoS::AtLeastOnce);
        s.send(&Packet::Disconnect(Disconnect::default()));
        assert_eq!(s.next(WAIT), Got::Closed);
        let mut p = Raw::connect(port, V311, "qd-pub");
        for (i, payload) in [b"q0", b"q1", b"q2", b"q3", b"q4"].iter().enumerate() {
            p.send(&Packet::Publish(Publish {
                qos: QoS::AtLeastOnce,
                packet_id: i as u16 + 1,
                topic: "qd/t".into(),
                payload: bytes::Bytes::from_static(*payload),
                ..Default::default()
            }));
            assert!(matches!(p.next(WAIT), Got::Packet(Packet::PubAck(_))));
        }
        assert_eq!(srv.stats().dropped, 2, "{policy:?}");
        let mut s = Raw::connect_with(port, persistent("queued"));
        let mut got = Vec::new();
        for _ in 0..3 {
            match s.next(WAIT) {
                Got::Packet(Packet::Publish(m)) => {
                    got.push(m.payload.to_vec());
                    s.send(&Packet::PubAck(PubResp {
                        packet_id: m.packet_id,
                        ..Default::default()
                    }));
                }
                other => panic!("{policy:?}: {other:?}"),
            }
        }
        let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
        assert_eq!(got, want, "{policy:?}");
        // Nothing else was kept: a PINGREQ's answer is the next packet.
        s.bytes(&[0xC0, 0x00]);
        assert_eq!(s.next(WAIT), Got::Packet(Packet::PingResp));
    }
}

#[test]
fn topic_length_and_level_limits_on_publish() {
    let limits = Limits {
        max_topic_len: 16,
        max_topic_levels: 3,
        ..Limits::default()
    };
    let (_srv, port) = server(limits);
    let mut watch = Watch::new(port);
    for (what, topic) in [
        ("topic too long", "raw/abcdefghijklmnop"),
        ("too many levels", "raw/a/b/c"),
    ] {
        for version in [V311, V5] {
            let mut r = Raw::connect(port, version, "limited");
            r.send(&Packet::Publish(Publish {
                topic: topic.into(),
                payload: bytes::Bytes::from_static(b"x"),
                properties: Properties::default(),
                ..Default::default()
            }));
            let code = (version == V5).then_some(ReasonCode::TOPIC_NAME_INVALID);
            r.expect_closed(code, what);
            watch.still_served(what);
        }
    }
    // Within both limits is fine.
    let mut r = Raw::connect(port, V5, "fits");
    r.publish0("raw/a/b", b"ok");
    watch.w.expect_publish("raw/a/b", b"ok");
}
