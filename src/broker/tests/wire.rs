//! The byte boundary: input split anywhere, malformed packets closing only
//! their connection with the codec's reason code, chunked zero-copy output.

use bytes::BytesMut;

use super::*;
use crate::broker::Limits;
use crate::protocol::codec::ProtocolVersion::{V5, V311};
use crate::protocol::codec::{decode, encode};

fn bytes_of(p: &Packet, v: ProtocolVersion) -> BytesMut {
    let mut b = BytesMut::new();
    encode(p, v, &mut b).unwrap();
    b
}

/// Feeds raw bytes and returns the packets sent back (decoded as `v`).
fn exchange(
    b: &mut Broker,
    conn: ConnId,
    raw: &[u8],
    v: ProtocolVersion,
    now: Instant,
) -> Vec<Packet> {
    let mut input = BytesMut::from(raw);
    b.handle_bytes(conn, &mut input, now);
    let mut chunks = Vec::new();
    let mut wire = BytesMut::new();
    while let Some(c) = b.poll_transmit_bytes(&mut chunks) {
        assert_eq!(c, conn);
        for chunk in chunks.drain(..) {
            wire.extend_from_slice(&chunk);
        }
    }
    std::iter::from_fn(|| decode(&mut wire, v, 0).unwrap()).collect()
}

fn closed(b: &mut Broker) -> Vec<ConnId> {
    std::iter::from_fn(|| b.poll_close()).collect()
}

#[test]
fn input_split_anywhere_decodes_whole_packets() {
    let mut b = Broker::new(BrokerConfig::default());
    let now = Instant::now();
    assert!(b.handle_accept(1, peer(), now));
    let raw = bytes_of(&Packet::Connect(Box::new(connect("split", V311))), V311);
    let mut input = BytesMut::new();
    let mut chunks = Vec::new();
    for (i, byte) in raw.iter().enumerate() {
        input.extend_from_slice(&[*byte]);
        b.handle_bytes(1, &mut input, now);
        let got = b.poll_transmit_bytes(&mut chunks);
        assert_eq!(
            got.is_some(),
            i + 1 == raw.len(),
            "CONNACK only after the last byte"
        );
    }
    let mut wire: BytesMut = chunks.concat().as_slice().into();
    assert!(
        matches!(decode(&mut wire, V311, 0), Ok(Some(Packet::ConnAck(a))) if a.code.is_success())
    );
}

#[test]
fn malformed_packet_after_connect_closes_only_that_connection() {
    let mut b = Broker::new(BrokerConfig::default());
    let now = Instant::now();
    for (conn, id) in [(1, "bad"), (2, "good")] {
        assert!(b.handle_accept(conn, peer(), now));
        exchange(
            &mut b,
            conn,
            &bytes_of(&Packet::Connect(Box::new(connect(id, V5))), V5),
            V5,
            now,
        );
    }
    // PUBLISH with QoS 3.
    let out = exchange(
        &mut b,
        1,
        &[0x36, 0x05, 0x00, 0x01, b't', 0x00, 0x01],
        V5,
        now,
    );
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::MALFORMED_PACKET)
    );
    assert_eq!(closed(&mut b), [1]);
    let out = exchange(&mut b, 2, &bytes_of(&Packet::PingReq, V5), V5, now);
    assert_eq!(out, [Packet::PingResp]);
}

#[test]
fn malformed_connect_gets_connack_in_v5_and_silence_in_3x() {
    let mut b = Broker::new(BrokerConfig::default());
    let now = Instant::now();
    let mut raw = bytes_of(&Packet::Connect(Box::new(connect("x", V5))), V5);
    raw[9] |= 0x01; // reserved connect flag
    assert!(b.handle_accept(1, peer(), now));
    let out = exchange(&mut b, 1, &raw, V5, now);
    assert!(matches!(&out[..], [Packet::ConnAck(a)] if a.code == ReasonCode::MALFORMED_PACKET));
    assert_eq!(closed(&mut b), [1]);

    let mut raw = bytes_of(&Packet::Connect(Box::new(connect("x", V311))), V311);
    raw[9] |= 0x01;
    assert!(b.handle_accept(2, peer(), now));
    assert!(exchange(&mut b, 2, &raw, V311, now).is_empty());
    assert_eq!(closed(&mut b), [2]);
}

#[test]
fn unsupported_protocol_level_gets_return_code_1() {
    let mut b = Broker::new(BrokerConfig::default());
    let now = Instant::now();
    let mut raw = bytes_of(&Packet::Connect(Box::new(connect("x", V311))), V311);
    assert_eq!(raw[8], 4, "protocol level byte");
    raw[8] = 9;
    assert!(b.handle_accept(1, peer(), now));
    let out = exchange(&mut b, 1, &raw, V311, now);
    assert!(
        matches!(&out[..], [Packet::ConnAck(a)] if a.code == ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION)
    );
    assert_eq!(closed(&mut b), [1]);
}

/// Found by fuzzing (fuzz/, target broker): a second CONNECT naming an
/// unknown level got DISCONNECT 0x84, a code DISCONNECT may not carry.
#[test]
fn second_connect_with_bad_level_is_a_protocol_error() {
    let mut b = Broker::new(BrokerConfig::default());
    let now = Instant::now();
    assert!(b.handle_accept(1, peer(), now));
    let raw = bytes_of(&Packet::Connect(Box::new(connect("x", V5))), V5);
    exchange(&mut b, 1, &raw, V5, now);
    let mut again = raw.clone();
    again[8] = 9; // protocol level
    let out = exchange(&mut b, 1, &again, V5, now);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PROTOCOL_ERROR),
        "{out:?}"
    );
    assert_eq!(closed(&mut b), [1]);
}

#[test]
fn oversize_packets_close_with_packet_too_large() {
    let config = BrokerConfig {
        limits: Limits {
            max_packet_size: 64,
            ..Limits::default()
        },
        ..BrokerConfig::default()
    };
    let mut b = Broker::new(config);
    let now = Instant::now();
    assert!(b.handle_accept(1, peer(), now));
    let out = exchange(
        &mut b,
        1,
        &bytes_of(&Packet::Connect(Box::new(connect("big", V5))), V5),
        V5,
        now,
    );
    let Packet::ConnAck(a) = &out[0] else {
        panic!()
    };
    assert_eq!(
        prop_of(&a.properties, PropertyId::MAXIMUM_PACKET_SIZE),
        Some(&PropertyValue::U32(64))
    );
    let p = Publish {
        payload: Bytes::from(vec![b'x'; 100]),
        ..msg("t", "", QoS::AtMostOnce, 0)
    };
    let out = exchange(&mut b, 1, &bytes_of(&Packet::Publish(p), V5), V5, now);
    assert!(
        matches!(&out[..], [Packet::Disconnect(d)] if d.reason == ReasonCode::PACKET_TOO_LARGE)
    );
}

#[test]
fn fan_out_payload_chunks_point_into_the_publishers_read_buffer() {
    let mut b = Broker::new(BrokerConfig::default());
    let now = Instant::now();
    for (conn, id) in [(1, "s1"), (2, "s2"), (9, "pub")] {
        assert!(b.handle_accept(conn, peer(), now));
        exchange(
            &mut b,
            conn,
            &bytes_of(&Packet::Connect(Box::new(connect(id, V311))), V311),
            V311,
            now,
        );
    }
    for conn in [1, 2] {
        let s = Packet::Subscribe(Subscribe {
            packet_id: 1,
            properties: Properties::default(),
            filters: vec![("z".into(), opts(QoS::AtLeastOnce))],
        });
        exchange(&mut b, conn, &bytes_of(&s, V311), V311, now);
    }
    // Large enough not to be copied next to its header.
    let big = bytes::Bytes::from(vec![b'p'; crate::broker::fastpath::COPY_MAX + 1]);
    let publish = Publish {
        payload: big.clone(),
        ..msg("z", "", QoS::AtLeastOnce, 3)
    };
    let mut input = bytes_of(&Packet::Publish(publish), V311);
    let start = input.as_ptr() as usize;
    let range = start..start + input.len();
    b.handle_bytes(9, &mut input, now);
    let mut chunks = Vec::new();
    let mut payload_ptrs = Vec::new();
    while let Some(conn) = b.poll_transmit_bytes(&mut chunks) {
        if conn != 9 {
            let payload = chunks
                .iter()
                .find(|c| c[..] == big[..])
                .expect("payload chunk");
            payload_ptrs.push(payload.as_ptr() as usize);
        }
        chunks.clear();
    }
    assert_eq!(payload_ptrs.len(), 2);
    assert!(
        payload_ptrs
            .iter()
            .all(|p| range.contains(p) && *p == payload_ptrs[0])
    );
}
