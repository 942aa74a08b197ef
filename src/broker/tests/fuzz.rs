//! Property tests: arbitrary bytes and arbitrary packet sequences never make
//! the broker panic, and its window/queue invariants hold throughout.

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::broker::Limits;
use crate::protocol::codec::{Disconnect, Unsubscribe, encode};

fn connect_bytes(v: ProtocolVersion) -> BytesMut {
    let mut b = BytesMut::new();
    encode(&Packet::Connect(Box::new(connect("fz", v))), v, &mut b).unwrap();
    b
}

proptest! {
    #[test]
    fn arbitrary_bytes_after_connect_never_panic(
        v5 in any::<bool>(),
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
    ) {
        let v = if v5 { ProtocolVersion::V5 } else { ProtocolVersion::V311 };
        let mut b = Broker::new(BrokerConfig::default());
        let now = Instant::now();
        prop_assert!(b.handle_accept(1, peer(), now));
        let mut input = connect_bytes(v);
        for chunk in chunks {
            input.extend_from_slice(&chunk);
            b.handle_bytes(1, &mut input, now);
            let mut out = Vec::new();
            while b.poll_transmit_bytes(&mut out).is_some() {}
        }
        b.handle_timeout(now + Duration::from_secs(3600));
        while b.poll_close().is_some() {}
    }

    #[test]
    fn arbitrary_first_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..128)) {
        let mut b = Broker::new(BrokerConfig::default());
        let now = Instant::now();
        prop_assert!(b.handle_accept(1, peer(), now));
        b.handle_bytes(1, &mut BytesMut::from(&raw[..]), now);
        let mut out = Vec::new();
        while b.poll_transmit_bytes(&mut out).is_some() {}
    }

    #[test]
    fn random_operations_keep_the_invariants(ops in proptest::collection::vec((0u8..12, 0usize..3, 0u16..6), 1..120)) {
        let config = BrokerConfig {
            limits: Limits { max_inflight: 2, max_queued: 3, ..Limits::default() },
            ..BrokerConfig::default()
        };
        let mut h = H::with(config);
        let topics = ["a", "a/b", "c"];
        for (op, conn, x) in ops {
            let qos = QoS::from_u8((x % 3) as u8).unwrap_or_default();
            let topic = topics[usize::from(x) % 3];
            let live = h.b.conns.get(&conn).is_some_and(|c| !c.is_closed());
            match op {
                0 if !live => {
                    h.closed.retain(|c| *c != conn);
                    let v = if x % 2 == 0 { ProtocolVersion::V5 } else { ProtocolVersion::V311 };
                    let c = Connect { clean_start: x % 3 == 0, keep_alive: 5, ..connect(&format!("c{conn}"), v) };
                    h.connect_with(conn, c);
                }
                1 => { h.subscribe(conn, if x == 5 { "#" } else { topic }, qos); }
                2 | 3 => h.publish(conn, Publish { retain: x == 4, ..msg(topic, "p", qos, x + 1) }),
                4 => h.send(conn, Packet::PubAck(ack(x + 1))),
                5 => h.send(conn, Packet::PubRec(ack(x + 1))),
                6 => h.send(conn, Packet::PubRel(ack(x + 1))),
                7 => h.send(conn, Packet::PubComp(ack(x + 1))),
                8 => h.send(conn, Packet::Disconnect(Disconnect::default())),
                9 => { h.b.handle_closed(conn, h.now); h.flush(); }
                10 => h.advance(u64::from(x) * 2),
                _ => h.send(conn, Packet::Unsubscribe(Unsubscribe {
                    packet_id: 1, properties: Properties::default(), filters: vec![topic.into()],
                })),
            }
            for conn in 0..3 {
                h.take(conn);
            }
            for (id, c) in &h.b.conns {
                for t in c.flow_on.iter().flat_map(|v| v.iter()) {
                    let s = h.b.sessions.get(t);
                    prop_assert!(s.is_some_and(|s| s.full_since().is_some()), "paused on a full queue");
                    prop_assert!(s.and_then(|s| s.conn).is_some_and(|y| y != *id), "never on itself");
                }
            }
            for s in h.b.sessions.values() {
                prop_assert!(s.inflight.len() <= 2, "window respected");
                if s.conn.is_none() && !s.queue_is_empty() {
                    prop_assert!(
                        s.flow.as_ref().is_none_or(|f| f.blocked_pubs.is_empty()),
                        "offline sessions pause no one"
                    );
                }
                if let Some(c) = s.conn {
                    prop_assert!(h.b.conns.get(&c).is_some_and(|c| c.is_connected()));
                }
            }
        }
    }
}
