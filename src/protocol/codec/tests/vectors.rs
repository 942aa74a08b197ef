//! Known byte vectors from the specs for every packet type and version,
//! short forms, partial input, zero-copy slicing and the PUBLISH header path.

use bytes::{Bytes, BytesMut};

use super::*;

fn props(list: &[(PropertyId, PropertyValue)]) -> Properties {
    list.iter()
        .map(|(id, value)| Property {
            id: *id,
            value: value.clone(),
        })
        .collect()
}

/// Decode `bytes` as `v`, compare with `p`, encode `p` back to `bytes`, and
/// check every prefix is incomplete.
fn both_ways(bytes: &[u8], p: &Packet, v: ProtocolVersion) {
    assert_eq!(&dec(bytes, v).expect("decode"), p);
    assert_eq!(enc(p, v), bytes);
    assert_eq!(encoded_len(p, v), Ok(bytes.len()));
    assert_prefixes_incomplete(bytes, v);
}

#[test]
fn pingreq_pingresp() {
    for v in [V31, V311, V5] {
        both_ways(&[0xC0, 0x00], &Packet::PingReq, v);
        both_ways(&[0xD0, 0x00], &Packet::PingResp, v);
    }
}

#[test]
fn connect_311_minimal() {
    let bytes = [
        0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, b'a',
    ];
    let c = Connect {
        client_id: "a".into(),
        ..Connect::default()
    };
    // CONNECT carries its own version: the argument does not matter.
    for v in [V31, V311, V5] {
        both_ways(&bytes, &Packet::Connect(Box::new(c.clone())), v);
    }
}

#[test]
fn connect_try_private_sets_the_top_bit_of_the_level() {
    let bytes = [
        0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x84, 0x02, 0x00, 0x3C, 0x00, 0x01, b'a',
    ];
    let c = Connect {
        client_id: "a".into(),
        bridge: true,
        ..Connect::default()
    };
    both_ways(&bytes, &Packet::Connect(Box::new(c)), V311);
    // Any other level with the bit is still unknown.
    let mut bad = bytes;
    bad[8] = 0x86;
    let mut buf = bytes::BytesMut::from(&bad[..]);
    let e = crate::protocol::codec::decode(&mut buf, V311, 0).unwrap_err();
    assert_eq!(
        e,
        crate::protocol::codec::DecodeError::UnsupportedProtocolLevel(0x86)
    );
}

#[test]
fn connect_31_uses_mqisdp() {
    let bytes = [
        0x10, 0x0F, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C, 0x00,
        0x01, b'a',
    ];
    let c = Connect {
        protocol: V31,
        client_id: "a".into(),
        ..Connect::default()
    };
    both_ways(&bytes, &Packet::Connect(Box::new(c)), V311);
}

#[test]
fn connect_5_full() {
    let c = Connect {
        protocol: V5,
        clean_start: false,
        keep_alive: 10,
        client_id: "id".into(),
        will: Some(Will {
            topic: "w".into(),
            payload: Bytes::from_static(b"bye"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: props(&[(PropertyId::WILL_DELAY_INTERVAL, PropertyValue::U32(5))]),
        }),
        username: Some("u".into()),
        password: Some(Bytes::from_static(b"p")),
        properties: props(&[(PropertyId::SESSION_EXPIRY_INTERVAL, PropertyValue::U32(30))]),
        bridge: false,
    };
    let bytes: &[u8] = &[
        0x10, 0x28, // fixed header, remaining 40
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol
        0xEC, // username, password, will retain, will qos 1, will
        0x00, 0x0A, // keep alive
        0x05, 0x11, 0x00, 0x00, 0x00, 0x1E, // session expiry 30
        0x00, 0x02, b'i', b'd', // client id
        0x05, 0x18, 0x00, 0x00, 0x00, 0x05, // will delay 5
        0x00, 0x01, b'w', // will topic
        0x00, 0x03, b'b', b'y', b'e', // will payload
        0x00, 0x01, b'u', // username
        0x00, 0x01, b'p', // password
    ];
    both_ways(bytes, &Packet::Connect(Box::new(c)), V5);
}

#[test]
fn connect_3x_omits_properties() {
    let c = Connect {
        protocol: V311,
        will: Some(Will {
            topic: "w".into(),
            properties: props(&[(PropertyId::WILL_DELAY_INTERVAL, PropertyValue::U32(5))]),
            ..Will::default()
        }),
        properties: props(&[(PropertyId::SESSION_EXPIRY_INTERVAL, PropertyValue::U32(1))]),
        ..Connect::default()
    };
    let bytes = enc(&Packet::Connect(Box::new(c)), V5);
    let Packet::Connect(back) = dec(&bytes, V5).unwrap() else {
        panic!("not a CONNECT")
    };
    assert!(back.properties.is_empty());
    assert!(back.will.unwrap().properties.is_empty());
}

#[test]
fn connack() {
    let ok = ConnAck::default();
    both_ways(
        &[0x20, 0x02, 0x00, 0x00],
        &Packet::ConnAck(ok.clone()),
        V311,
    );
    both_ways(&[0x20, 0x03, 0x00, 0x00, 0x00], &Packet::ConnAck(ok), V5);
    let present = ConnAck {
        session_present: true,
        ..ConnAck::default()
    };
    both_ways(&[0x20, 0x02, 0x01, 0x00], &Packet::ConnAck(present), V31);
    let refused = ConnAck {
        code: ReasonCode::V3_NOT_AUTHORIZED,
        ..ConnAck::default()
    };
    both_ways(&[0x20, 0x02, 0x00, 0x05], &Packet::ConnAck(refused), V311);
    let v5 = ConnAck {
        code: ReasonCode::NOT_AUTHORIZED,
        properties: props(&[(PropertyId::RECEIVE_MAXIMUM, PropertyValue::U16(10))]),
        ..ConnAck::default()
    };
    both_ways(
        &[0x20, 0x06, 0x00, 0x87, 0x03, 0x21, 0x00, 0x0A],
        &Packet::ConnAck(v5),
        V5,
    );
}

#[test]
fn connack_from_3x_server_to_v5_client() {
    // A 3.1.1-only server answers an MQTT 5 CONNECT with a 2-byte CONNACK.
    let p = dec(&[0x20, 0x02, 0x00, 0x01], V5).unwrap();
    assert_eq!(
        p,
        Packet::ConnAck(ConnAck {
            code: ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION,
            ..ConnAck::default()
        })
    );
}

#[test]
fn publish_qos0_and_qos1() {
    let p0 = Publish {
        topic: "a/b".into(),
        payload: Bytes::from_static(b"hi"),
        ..Publish::default()
    };
    both_ways(
        &[0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i'],
        &Packet::Publish(p0.clone()),
        V311,
    );
    both_ways(
        &[0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i'],
        &Packet::Publish(p0),
        V5,
    );
    let p1 = Publish {
        dup: true,
        qos: QoS::AtLeastOnce,
        retain: true,
        topic: "a/b".into(),
        packet_id: 10,
        payload: Bytes::from_static(b"hi"),
        ..Publish::default()
    };
    both_ways(
        &[
            0x3B, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
        ],
        &Packet::Publish(p1),
        V31,
    );
    let p2 = Publish {
        qos: QoS::ExactlyOnce,
        topic: "t".into(),
        packet_id: 0x0102,
        ..Publish::default()
    };
    both_ways(
        &[0x34, 0x05, 0x00, 0x01, b't', 0x01, 0x02],
        &Packet::Publish(p2),
        V311,
    );
}

#[test]
fn publish_v5_topic_alias_allows_empty_topic() {
    let p = Publish {
        topic: String::new(),
        properties: props(&[(PropertyId::TOPIC_ALIAS, PropertyValue::U16(5))]),
        payload: Bytes::from_static(b"x"),
        ..Publish::default()
    };
    both_ways(
        &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05, b'x'],
        &Packet::Publish(p),
        V5,
    );
}

#[test]
fn publish_v5_repeated_subscription_identifiers() {
    let p = Publish {
        topic: "t".into(),
        properties: props(&[
            (
                PropertyId::SUBSCRIPTION_IDENTIFIER,
                PropertyValue::VarInt(1),
            ),
            (
                PropertyId::SUBSCRIPTION_IDENTIFIER,
                PropertyValue::VarInt(200),
            ),
            (
                PropertyId::USER_PROPERTY,
                PropertyValue::Pair("k".into(), "v".into()),
            ),
            (
                PropertyId::USER_PROPERTY,
                PropertyValue::Pair("k".into(), "w".into()),
            ),
            (
                PropertyId::CORRELATION_DATA,
                PropertyValue::Binary(Bytes::from_static(&[1, 2])),
            ),
        ]),
        ..Publish::default()
    };
    let bytes = enc(&Packet::Publish(p.clone()), V5);
    assert_eq!(dec(&bytes, V5).unwrap(), Packet::Publish(p));
    assert_prefixes_incomplete(&bytes, V5);
}

#[test]
fn pub_responses_3x() {
    for (first, mk) in [
        (0x40, Packet::PubAck as fn(PubResp) -> Packet),
        (0x50, Packet::PubRec),
        (0x62, Packet::PubRel),
        (0x70, Packet::PubComp),
    ] {
        let r = PubResp {
            packet_id: 7,
            ..PubResp::default()
        };
        for v in [V31, V311, V5] {
            both_ways(&[first, 0x02, 0x00, 0x07], &mk(r.clone()), v);
        }
    }
}

#[test]
fn pub_responses_v5_forms() {
    let with_reason = PubResp {
        packet_id: 7,
        reason: ReasonCode::NO_MATCHING_SUBSCRIBERS,
        ..PubResp::default()
    };
    both_ways(
        &[0x40, 0x03, 0x00, 0x07, 0x10],
        &Packet::PubAck(with_reason),
        V5,
    );
    let with_props = PubResp {
        packet_id: 7,
        reason: ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
        properties: props(&[(
            PropertyId::REASON_STRING,
            PropertyValue::String("no".into()),
        )]),
    };
    both_ways(
        &[
            0x62, 0x09, 0x00, 0x07, 0x92, 0x05, 0x1F, 0x00, 0x02, b'n', b'o',
        ],
        &Packet::PubRel(with_props),
        V5,
    );
    // Reason code with an explicitly empty property list decodes the same.
    assert_eq!(
        dec(&[0x70, 0x04, 0x00, 0x07, 0x00, 0x00], V5).unwrap(),
        Packet::PubComp(PubResp {
            packet_id: 7,
            ..PubResp::default()
        })
    );
}

#[test]
fn pub_response_3x_drops_v5_fields() {
    let r = PubResp {
        packet_id: 1,
        reason: ReasonCode::UNSPECIFIED_ERROR,
        properties: props(&[(PropertyId::REASON_STRING, PropertyValue::String("x".into()))]),
    };
    assert_eq!(enc(&Packet::PubAck(r), V311), [0x40, 0x02, 0x00, 0x01]);
}

#[test]
fn subscribe_and_suback() {
    let opts = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..SubscriptionOptions::default()
    };
    let s = Subscribe {
        packet_id: 1,
        filters: vec![("a/b".into(), opts)],
        ..Subscribe::default()
    };
    both_ways(
        &[0x82, 0x08, 0x00, 0x01, 0x00, 0x03, b'a', b'/', b'b', 0x01],
        &Packet::Subscribe(s),
        V311,
    );
    let v5opts = SubscriptionOptions {
        qos: QoS::ExactlyOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: 2,
    };
    let s5 = Subscribe {
        packet_id: 2,
        properties: props(&[(
            PropertyId::SUBSCRIPTION_IDENTIFIER,
            PropertyValue::VarInt(3),
        )]),
        filters: vec![("#".into(), v5opts)],
    };
    both_ways(
        &[
            0x82, 0x09, 0x00, 0x02, 0x02, 0x0B, 0x03, 0x00, 0x01, b'#', 0x2E,
        ],
        &Packet::Subscribe(s5),
        V5,
    );
    let ack = SubAck {
        packet_id: 1,
        codes: vec![ReasonCode::GRANTED_QOS_1, ReasonCode::V3_SUBACK_FAILURE],
        ..SubAck::default()
    };
    both_ways(
        &[0x90, 0x04, 0x00, 0x01, 0x01, 0x80],
        &Packet::SubAck(ack.clone()),
        V311,
    );
    both_ways(
        &[0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0x80],
        &Packet::SubAck(ack),
        V5,
    );
}

#[test]
fn unsubscribe_and_unsuback() {
    let u = Unsubscribe {
        packet_id: 2,
        filters: vec!["a/b".into()],
        ..Unsubscribe::default()
    };
    both_ways(
        &[0xA2, 0x07, 0x00, 0x02, 0x00, 0x03, b'a', b'/', b'b'],
        &Packet::Unsubscribe(u.clone()),
        V311,
    );
    both_ways(
        &[0xA2, 0x08, 0x00, 0x02, 0x00, 0x00, 0x03, b'a', b'/', b'b'],
        &Packet::Unsubscribe(u),
        V5,
    );
    let a3 = UnsubAck {
        packet_id: 2,
        ..UnsubAck::default()
    };
    both_ways(&[0xB0, 0x02, 0x00, 0x02], &Packet::UnsubAck(a3), V311);
    let a5 = UnsubAck {
        packet_id: 2,
        codes: vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_FOUND],
        ..UnsubAck::default()
    };
    both_ways(
        &[0xB0, 0x05, 0x00, 0x02, 0x00, 0x00, 0x11],
        &Packet::UnsubAck(a5.clone()),
        V5,
    );
    // UNSUBACK in 3.x has no codes: they are not written.
    assert_eq!(enc(&Packet::UnsubAck(a5), V311), [0xB0, 0x02, 0x00, 0x02]);
}

#[test]
fn disconnect_forms() {
    let normal = Packet::Disconnect(Disconnect::default());
    for v in [V31, V311, V5] {
        both_ways(&[0xE0, 0x00], &normal, v);
    }
    let will = Packet::Disconnect(Disconnect {
        reason: ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
        ..Disconnect::default()
    });
    both_ways(&[0xE0, 0x01, 0x04], &will, V5);
    assert_eq!(enc(&will, V311), [0xE0, 0x00]);
    let with_props = Packet::Disconnect(Disconnect {
        reason: ReasonCode::SERVER_MOVED,
        properties: props(&[(
            PropertyId::SERVER_REFERENCE,
            PropertyValue::String("h".into()),
        )]),
    });
    both_ways(
        &[0xE0, 0x06, 0x9D, 0x04, 0x1C, 0x00, 0x01, b'h'],
        &with_props,
        V5,
    );
}

#[test]
fn auth_forms() {
    both_ways(&[0xF0, 0x00], &Packet::Auth(Auth::default()), V5);
    let cont = Packet::Auth(Auth {
        reason: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: props(&[
            (
                PropertyId::AUTHENTICATION_METHOD,
                PropertyValue::String("m".into()),
            ),
            (
                PropertyId::AUTHENTICATION_DATA,
                PropertyValue::Binary(Bytes::from_static(b"d")),
            ),
        ]),
    });
    both_ways(
        &[
            0xF0, 0x0A, 0x18, 0x08, 0x15, 0x00, 0x01, b'm', 0x16, 0x00, 0x01, b'd',
        ],
        &cont,
        V5,
    );
    // Reason code without property length is accepted.
    assert_eq!(
        dec(&[0xF0, 0x01, 0x19], V5).unwrap(),
        Packet::Auth(Auth {
            reason: ReasonCode::RE_AUTHENTICATE,
            ..Auth::default()
        })
    );
}

#[test]
fn decode_consumes_exactly_one_packet() {
    let mut buf = BytesMut::from(&[0xC0, 0x00, 0xD0, 0x00, 0x40][..]);
    assert_eq!(decode(&mut buf, V311, 0), Ok(Some(Packet::PingReq)));
    assert_eq!(buf.len(), 3);
    assert_eq!(decode(&mut buf, V311, 0), Ok(Some(Packet::PingResp)));
    assert_eq!(&buf[..], &[0x40]);
    assert_eq!(decode(&mut buf, V311, 0), Ok(None));
    assert_eq!(&buf[..], &[0x40]);
}

#[test]
fn publish_payload_is_zero_copy() {
    let bytes = [0x30, 0x07, 0x00, 0x01, b't', b'a', b'b', b'c', b'd'];
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&bytes);
    let base = buf.as_ptr() as usize;
    let Some(Packet::Publish(p)) = decode(&mut buf, V311, 0).unwrap() else {
        panic!("not a PUBLISH")
    };
    assert_eq!(&p.payload[..], b"abcd");
    assert_eq!(p.payload.as_ptr() as usize, base + 5);
}

#[test]
fn binary_property_is_zero_copy() {
    let bytes = [
        0x30, 0x0A, 0x00, 0x01, b't', 0x05, 0x09, 0x00, 0x02, 0xAA, 0xBB, b'x',
    ];
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&bytes);
    let base = buf.as_ptr() as usize;
    let Some(Packet::Publish(p)) = decode(&mut buf, V5, 0).unwrap() else {
        panic!("not a PUBLISH")
    };
    let data = p
        .properties
        .get_binary(PropertyId::CORRELATION_DATA)
        .unwrap();
    assert_eq!(&data[..], &[0xAA, 0xBB]);
    assert_eq!(data.as_ptr() as usize, base + 9);
}

#[test]
fn publish_header_plus_payload_equals_encode() {
    for v in [V31, V311, V5] {
        let p = Publish {
            qos: QoS::ExactlyOnce,
            topic: "some/topic".into(),
            packet_id: 99,
            payload: Bytes::from(vec![7u8; 300]),
            ..Publish::default()
        };
        let mut header = BytesMut::new();
        encode_publish_header(&p, v, &mut header).unwrap();
        let mut joined = header.to_vec();
        joined.extend_from_slice(&p.payload);
        assert_eq!(joined, enc(&Packet::Publish(p.clone()), v));
        // Remaining length 300 + 12 (+1 props) needs two bytes.
        assert_eq!(header[1] & 0x80, 0x80);
    }
}

#[test]
fn max_packet_size_boundary() {
    let bytes = [0x30, 0x03, 0x00, 0x01, b't'];
    let mut buf = BytesMut::from(&bytes[..]);
    assert!(decode(&mut buf, V311, 5).unwrap().is_some());
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(
        decode(&mut buf, V311, 4),
        Err(DecodeError::PacketTooLarge { size: 5, max: 4 })
    );
}

#[test]
fn protocol_maximum_when_limit_is_zero() {
    // The largest remaining length is accepted (and waits for its body).
    let mut buf = BytesMut::from(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F][..]);
    assert_eq!(decode(&mut buf, V311, 0), Ok(None));
    // A header alone does not make the decoder allocate the whole body.
    assert!(buf.capacity() <= 128 * 1024, "capacity {}", buf.capacity());
    assert_eq!(PROTOCOL_MAX_PACKET_SIZE, 268_435_460);
}

#[test]
fn non_minimal_remaining_length_accepted_in_3x() {
    assert_eq!(dec(&[0xC0, 0x80, 0x00], V311), Ok(Packet::PingReq));
}
