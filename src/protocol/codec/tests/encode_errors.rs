//! Encoder errors (one test per `EncodeError` variant) and the property
//! table/helpers API.

use bytes::{Bytes, BytesMut};

use super::*;
use EncodeError as X;

fn enc_err(p: &Packet, v: ProtocolVersion) -> EncodeError {
    let mut out = BytesMut::new();
    let e = encode(p, v, &mut out).unwrap_err();
    assert_eq!(encoded_len(p, v), Err(e.clone()));
    e
}

fn publish(topic: &str) -> Publish {
    Publish {
        topic: topic.into(),
        ..Publish::default()
    }
}

#[test]
fn string_too_long() {
    let p = Packet::Publish(publish(&"x".repeat(65_536)));
    assert_eq!(enc_err(&p, V311), X::StringTooLong(65_536));
    // Exactly 65,535 bytes is fine.
    let ok = Packet::Publish(publish(&"x".repeat(65_535)));
    assert_eq!(dec(&enc(&ok, V311), V311).unwrap(), ok);
}

#[test]
fn binary_too_long() {
    let c = Connect {
        password: Some(Bytes::from(vec![0u8; 70_000])),
        username: Some("u".into()),
        ..Connect::default()
    };
    assert_eq!(
        enc_err(&Packet::Connect(Box::new(c)), V311),
        X::BinaryTooLong(70_000)
    );
}

#[test]
fn packet_too_large() {
    // calloc'd zero pages: nothing is touched because the length pass fails.
    let big = Bytes::from(vec![0u8; varint::MAX_VARINT as usize]);
    let mut p = publish("t");
    p.payload = big;
    let e = enc_err(&Packet::Publish(p.clone()), V311);
    assert_eq!(e, X::PacketTooLarge(varint::MAX_VARINT as usize + 3));
    let mut out = BytesMut::new();
    assert_eq!(encode_publish_header(&p, V311, &mut out), Err(e));
    assert!(out.is_empty());
}

#[test]
fn varint_too_large() {
    let mut p = publish("t");
    p.properties.push(
        PropertyId::SUBSCRIPTION_IDENTIFIER,
        PropertyValue::VarInt(varint::MAX_VARINT + 1),
    );
    assert_eq!(
        enc_err(&Packet::Publish(p), V5),
        X::VarIntTooLarge(varint::MAX_VARINT + 1)
    );
}

#[test]
fn zero_packet_id() {
    let mut p = publish("t");
    p.qos = QoS::AtLeastOnce;
    assert_eq!(enc_err(&Packet::Publish(p), V311), X::ZeroPacketId);
    assert_eq!(
        enc_err(&Packet::PubAck(PubResp::default()), V5),
        X::ZeroPacketId
    );
    let s = Subscribe {
        filters: vec![("a".into(), SubscriptionOptions::default())],
        ..Subscribe::default()
    };
    assert_eq!(enc_err(&Packet::Subscribe(s), V311), X::ZeroPacketId);
}

#[test]
fn not_in_version() {
    for v in [V31, V311] {
        assert_eq!(
            enc_err(&Packet::Auth(Auth::default()), v),
            X::NotInVersion(PacketType::Auth)
        );
    }
}

#[test]
fn no_topic_filters() {
    let s = Subscribe {
        packet_id: 1,
        ..Subscribe::default()
    };
    assert_eq!(enc_err(&Packet::Subscribe(s), V5), X::NoTopicFilters);
    let u = Unsubscribe {
        packet_id: 1,
        ..Unsubscribe::default()
    };
    assert_eq!(enc_err(&Packet::Unsubscribe(u), V311), X::NoTopicFilters);
}

#[test]
fn invalid_retain_handling() {
    let opts = SubscriptionOptions {
        retain_handling: 3,
        ..SubscriptionOptions::default()
    };
    let s = Subscribe {
        packet_id: 1,
        filters: vec![("a".into(), opts)],
        ..Subscribe::default()
    };
    assert_eq!(
        enc_err(&Packet::Subscribe(s), V5),
        X::InvalidRetainHandling(3)
    );
}

#[test]
fn unknown_property_and_type_mismatch() {
    let mut p = publish("t");
    p.properties.push(PropertyId(0x05), PropertyValue::Byte(0));
    assert_eq!(enc_err(&Packet::Publish(p), V5), X::UnknownProperty(0x05));
    let mut p = publish("t");
    p.properties
        .push(PropertyId::TOPIC_ALIAS, PropertyValue::U32(1));
    assert_eq!(
        enc_err(&Packet::Publish(p.clone()), V5),
        X::PropertyTypeMismatch(0x23)
    );
    // 3.x leaves properties out, so they are not checked there.
    assert!(encoded_len(&Packet::Publish(p), V311).is_ok());
    assert!(!X::NoTopicFilters.to_string().is_empty());
}

#[test]
fn property_table() {
    assert_eq!(PropertyId::ALL.len(), 27);
    for id in PropertyId::ALL {
        assert!(id.property_type().is_some(), "{id:?}");
        assert!(id.name().is_some(), "{id:?}");
    }
    for raw in [
        0u8, 4, 5, 6, 7, 10, 12, 0x14, 0x1B, 0x1D, 0x20, 0x2B, 0x7F, 0xFF,
    ] {
        assert_eq!(PropertyId(raw).property_type(), None);
        assert_eq!(PropertyId(raw).name(), None);
        assert!(!PropertyId(raw).allowed_in(PropertyContext::Publish));
    }
    assert_eq!(
        PropertyId::SUBSCRIPTION_IDENTIFIER.property_type(),
        Some(PropertyType::VariableByteInteger)
    );
    assert_eq!(
        PropertyId::USER_PROPERTY.property_type(),
        Some(PropertyType::Utf8StringPair)
    );
    assert_eq!(
        PropertyId::ASSIGNED_CLIENT_IDENTIFIER.name(),
        Some("ASSIGNED_CLIENT_IDENTIFER")
    );
    assert_eq!(
        PropertyId::RESPONSE_INFORMATION.name(),
        Some("RESPONSE_INFORMATION")
    );
    assert!(PropertyId::WILL_DELAY_INTERVAL.allowed_in(PropertyContext::Will));
    assert!(!PropertyId::WILL_DELAY_INTERVAL.allowed_in(PropertyContext::Connect));
    assert!(PropertyId::REASON_STRING.allowed_in(PropertyContext::Auth));
    assert!(!PropertyId::REASON_STRING.allowed_in(PropertyContext::Publish));
    assert!(PropertyId::USER_PROPERTY.allowed_in(PropertyContext::Unsubscribe));
    assert!(PropertyId::SUBSCRIPTION_IDENTIFIER.may_repeat(PropertyContext::Publish));
    assert!(!PropertyId::SUBSCRIPTION_IDENTIFIER.may_repeat(PropertyContext::Subscribe));
    assert!(PropertyId::USER_PROPERTY.may_repeat(PropertyContext::Connect));
    assert!(!PropertyId::TOPIC_ALIAS.may_repeat(PropertyContext::Publish));
}

#[test]
fn property_helpers() {
    let mut p = Properties::new();
    assert!(p.is_empty());
    assert_eq!(p.encoded_len(), 0);
    assert_eq!(p.wire_len(), 1);
    p.push(PropertyId::MESSAGE_EXPIRY_INTERVAL, PropertyValue::U32(9));
    p.push(PropertyId::TOPIC_ALIAS, PropertyValue::U16(3));
    p.push(PropertyId::PAYLOAD_FORMAT_INDICATOR, PropertyValue::Byte(1));
    p.push(
        PropertyId::CONTENT_TYPE,
        PropertyValue::String("text".into()),
    );
    p.push(
        PropertyId::CORRELATION_DATA,
        PropertyValue::Binary(Bytes::from_static(b"cd")),
    );
    p.push(
        PropertyId::USER_PROPERTY,
        PropertyValue::Pair("a".into(), "1".into()),
    );
    p.push(
        PropertyId::USER_PROPERTY,
        PropertyValue::Pair("b".into(), "2".into()),
    );
    p.push(
        PropertyId::SUBSCRIPTION_IDENTIFIER,
        PropertyValue::VarInt(300),
    );
    assert_eq!(p.len(), 8);
    assert_eq!(p.get_u32(PropertyId::MESSAGE_EXPIRY_INTERVAL), Some(9));
    assert_eq!(p.get_u32(PropertyId::TOPIC_ALIAS), Some(3));
    assert_eq!(p.get_u32(PropertyId::SUBSCRIPTION_IDENTIFIER), Some(300));
    assert_eq!(p.get_u16(PropertyId::TOPIC_ALIAS), Some(3));
    assert_eq!(p.get_u16(PropertyId::MESSAGE_EXPIRY_INTERVAL), None);
    assert_eq!(p.get_u8(PropertyId::PAYLOAD_FORMAT_INDICATOR), Some(1));
    assert_eq!(p.get_str(PropertyId::CONTENT_TYPE), Some("text"));
    assert_eq!(
        p.get_binary(PropertyId::CORRELATION_DATA).map(|b| &b[..]),
        Some(&b"cd"[..])
    );
    assert_eq!(p.get(PropertyId::REASON_STRING), None);
    let users: Vec<_> = p.user_properties().collect();
    assert_eq!(users, [("a", "1"), ("b", "2")]);
    assert_eq!(p.get_all(PropertyId::USER_PROPERTY).count(), 2);
    assert_eq!(p.iter().count(), 8);
    // 5 + 3 + 2 + 7 + 5 + 2×7 + 3 bytes.
    assert_eq!(p.encoded_len(), 39);
    assert_eq!(p.wire_len(), 40);
    // The encoder agrees with encoded_len.
    let pubp = Publish {
        topic: "t".into(),
        properties: p.clone(),
        ..Publish::default()
    };
    assert_eq!(enc(&Packet::Publish(pubp), V5).len(), 2 + 3 + 40);
    p.remove(PropertyId::USER_PROPERTY);
    assert_eq!(p.user_properties().count(), 0);
}

#[test]
fn reason_code_lists() {
    assert!(ReasonCode::NO_MATCHING_SUBSCRIBERS.is_valid_for(PacketType::PubAck, true));
    assert!(!ReasonCode::NO_MATCHING_SUBSCRIBERS.is_valid_for(PacketType::PubRel, true));
    assert!(ReasonCode::V3_SUBACK_FAILURE.is_valid_for(PacketType::SubAck, false));
    assert!(ReasonCode::V3_NOT_AUTHORIZED.is_valid_for(PacketType::ConnAck, false));
    assert!(!ReasonCode(6).is_valid_for(PacketType::ConnAck, false));
    assert!(ReasonCode::SUCCESS.is_valid_for(PacketType::PingReq, true));
    assert!(!ReasonCode(1).is_valid_for(PacketType::PingReq, true));
}

#[test]
fn publish_len_counts_without_validating() {
    let mut p = Publish {
        topic: "ab".into(),
        payload: Bytes::from_static(b"xyz"),
        ..Publish::default()
    };
    // 1 + 1 + (2 + 2 + 3)
    assert_eq!(publish_len(&p, V311), 9);
    // + empty property length byte
    assert_eq!(publish_len(&p, V5), 10);
    // QoS 1 with the packet id not yet assigned: encode refuses, the length
    // still counts the two id bytes.
    p.qos = QoS::AtLeastOnce;
    assert_eq!(
        encoded_len(&Packet::Publish(p.clone()), V5),
        Err(X::ZeroPacketId)
    );
    assert_eq!(publish_len(&p, V5), 12);
    p.properties.push(
        PropertyId::CONTENT_TYPE,
        PropertyValue::String("json".into()),
    );
    // remaining = 2+2 + 2 (id) + 1 + (1 + 2 + 4) + 3 = 17
    assert_eq!(publish_len(&p, V5), 19);
    p.payload = Bytes::from(vec![0u8; 200]);
    // remaining = 214 → two length bytes
    assert_eq!(publish_len(&p, V5), 217);
    p.packet_id = 1;
    assert_eq!(encoded_len(&Packet::Publish(p.clone()), V5), Ok(217));
}
