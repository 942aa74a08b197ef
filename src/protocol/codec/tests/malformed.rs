//! One test (at least) per `DecodeError` variant: each feeds a packet that
//! breaks exactly that rule and checks the variant and its reason code.

use bytes::BytesMut;

use super::*;
use DecodeError as E;

/// A v5 PUBLISH "t" QoS 0 with the given raw property bytes.
fn publish_v5_props(props: &[u8]) -> Vec<u8> {
    let mut v = vec![0x30, (3 + 1 + props.len()) as u8, 0x00, 0x01, b't'];
    v.push(props.len() as u8);
    v.extend_from_slice(props);
    v
}

/// A CONNECT body for `level` with `flags` and client id "a", then `tail`.
fn connect(name: &[u8], level: u8, flags: u8, tail: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(&[level, flags, 0x00, 0x3C]);
    if level == 5 {
        body.push(0x00);
    }
    body.extend_from_slice(&[0x00, 0x01, b'a']);
    body.extend_from_slice(tail);
    let mut v = vec![0x10, body.len() as u8];
    v.extend_from_slice(&body);
    v
}

#[test]
fn invalid_packet_type() {
    assert_eq!(dec_err(&[0x00, 0x00], V311), E::InvalidPacketType(0));
    // AUTH does not exist before MQTT 5.
    assert_eq!(dec_err(&[0xF0, 0x00], V311), E::InvalidPacketType(15));
    assert_eq!(dec_err(&[0xF0], V31), E::InvalidPacketType(15));
    assert_eq!(
        E::InvalidPacketType(0).reason_code(),
        ReasonCode::MALFORMED_PACKET
    );
}

#[test]
fn reserved_flags() {
    let cases: [(&[u8], PacketType); 5] = [
        (&[0xC1, 0x00], PacketType::PingReq),
        (&[0x60, 0x02, 0x00, 0x01], PacketType::PubRel),
        (&[0x80, 0x02, 0x00, 0x01], PacketType::Subscribe),
        (&[0xA0, 0x02, 0x00, 0x01], PacketType::Unsubscribe),
        (&[0x42, 0x02, 0x00, 0x01], PacketType::PubAck),
    ];
    for (bytes, packet_type) in cases {
        // Rejected from the first byte, before the rest arrives.
        assert_eq!(dec_err(&bytes[..1], V5), E::ReservedFlags { packet_type });
        assert_eq!(dec_err(bytes, V311), E::ReservedFlags { packet_type });
    }
}

#[test]
fn varint_too_long() {
    assert_eq!(
        dec_err(&[0x30, 0x80, 0x80, 0x80, 0x80], V311),
        E::VarIntTooLong
    );
    // ... also inside a property list.
    let bytes = [0x30, 0x08, 0x00, 0x01, b't', 0x80, 0x80, 0x80, 0x80, 0x01];
    assert_eq!(dec_err(&bytes, V5), E::VarIntTooLong);
}

#[test]
fn non_minimal_varint_in_v5() {
    assert_eq!(dec_err(&[0xC0, 0x80, 0x00], V5), E::NonMinimalVarInt);
    // Property length 0 in two bytes.
    let bytes = [0x30, 0x05, 0x00, 0x01, b't', 0x80, 0x00];
    assert_eq!(dec_err(&bytes, V5), E::NonMinimalVarInt);
    // CONNECT decides by its own level.
    let mut c = connect(b"MQTT", 5, 0x02, &[]);
    let len = c[1];
    c.splice(1..2, [len | 0x80, 0x00]);
    assert_eq!(dec_err(&c, V311), E::NonMinimalVarInt);
    let mut c3 = connect(b"MQTT", 4, 0x02, &[]);
    let len = c3[1];
    c3.splice(1..2, [len | 0x80, 0x00]);
    assert!(matches!(dec(&c3, V5), Ok(Packet::Connect(_))));
}

#[test]
fn bad_remaining_length() {
    let bad = |packet_type, len| E::BadRemainingLength { packet_type, len };
    assert_eq!(
        dec_err(&[0xC0, 0x01, 0x00], V5),
        bad(PacketType::PingReq, 1)
    );
    assert_eq!(
        dec_err(&[0xD0, 0x01, 0x00], V311),
        bad(PacketType::PingResp, 1)
    );
    assert_eq!(
        dec_err(&[0x40, 0x03, 0x00, 0x01, 0x00], V311),
        bad(PacketType::PubAck, 3)
    );
    assert_eq!(dec_err(&[0x40, 0x01, 0x01], V5), bad(PacketType::PubAck, 1));
    assert_eq!(
        dec_err(&[0x20, 0x03, 0x00, 0x00, 0x00], V311),
        bad(PacketType::ConnAck, 3)
    );
    assert_eq!(
        dec_err(&[0xB0, 0x03, 0x00, 0x01, 0x00], V311),
        bad(PacketType::UnsubAck, 3)
    );
    assert_eq!(
        dec_err(&[0xE0, 0x01, 0x00], V311),
        bad(PacketType::Disconnect, 1)
    );
}

#[test]
fn packet_too_large_before_body() {
    // Only the fixed header is present: the size is known, the body is not.
    let mut buf = BytesMut::from(&[0x30, 0xC8, 0x01][..]);
    let e = decode(&mut buf, V311, 100).unwrap_err();
    assert_eq!(
        e,
        E::PacketTooLarge {
            size: 203,
            max: 100
        }
    );
    assert_eq!(e.reason_code(), ReasonCode::PACKET_TOO_LARGE);
}

#[test]
fn truncated() {
    // Topic length 5 but only 0 bytes follow.
    assert_eq!(dec_err(&[0x30, 0x02, 0x00, 0x05], V311), E::Truncated);
    // Property list longer than the packet.
    assert_eq!(
        dec_err(&[0x30, 0x04, 0x00, 0x01, b't', 0x05], V5),
        E::Truncated
    );
    // A property value running past its list.
    let bytes = publish_v5_props(&[0x02, 0x00, 0x00]);
    assert_eq!(dec_err(&bytes, V5), E::Truncated);
    // CONNECT cut short.
    assert_eq!(dec_err(&[0x10, 0x03, 0x00, 0x04, b'M'], V311), E::Truncated);
}

#[test]
fn trailing_bytes() {
    let c = connect(b"MQTT", 4, 0x02, &[0xFF]);
    assert_eq!(dec_err(&c, V311), E::TrailingBytes);
    let puback = [0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xFF];
    assert_eq!(dec_err(&puback, V5), E::TrailingBytes);
    let disc = [0xE0, 0x03, 0x00, 0x00, 0xFF];
    assert_eq!(dec_err(&disc, V5), E::TrailingBytes);
}

#[test]
fn invalid_utf8() {
    let bad = [0x30, 0x04, 0x00, 0x02, 0xC3, 0x28];
    assert_eq!(dec_err(&bad, V311), E::InvalidUtf8);
    // An encoded surrogate (U+D800) is not well-formed UTF-8.
    let surrogate = [0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80];
    assert_eq!(dec_err(&surrogate, V311), E::InvalidUtf8);
    let c = connect(b"MQTT", 4, 0x82, &[0x00, 0x01, 0xFF]);
    assert_eq!(dec_err(&c, V311), E::InvalidUtf8);
}

#[test]
fn null_character() {
    assert_eq!(
        dec_err(&[0x30, 0x04, 0x00, 0x02, b'a', 0x00], V311),
        E::NullCharacter
    );
    let user_prop = publish_v5_props(&[0x26, 0x00, 0x01, 0x00, 0x00, 0x00]);
    assert_eq!(dec_err(&user_prop, V5), E::NullCharacter);
}

#[test]
fn bad_protocol_name() {
    let e = dec_err(&connect(b"MQTX", 4, 0x02, &[]), V311);
    assert_eq!(e, E::BadProtocolName);
    assert_eq!(e.reason_code(), ReasonCode::UNSUPPORTED_PROTOCOL_VERSION);
}

#[test]
fn unsupported_protocol_level() {
    let e = dec_err(&connect(b"MQTT", 6, 0x02, &[]), V5);
    assert_eq!(e, E::UnsupportedProtocolLevel(6));
    assert_eq!(e.reason_code(), ReasonCode::UNSUPPORTED_PROTOCOL_VERSION);
    assert_eq!(
        dec_err(&connect(b"MQIsdp", 4, 0x02, &[]), V5),
        E::UnsupportedProtocolLevel(4)
    );
    assert_eq!(
        dec_err(&connect(b"MQTT", 3, 0x02, &[]), V5),
        E::UnsupportedProtocolLevel(3)
    );
}

#[test]
fn reserved_connect_flag() {
    assert_eq!(
        dec_err(&connect(b"MQTT", 4, 0x03, &[]), V311),
        E::ReservedConnectFlag
    );
}

#[test]
fn will_flags_without_will() {
    assert_eq!(
        dec_err(&connect(b"MQTT", 4, 0x22, &[]), V311),
        E::WillFlagsWithoutWill
    );
    assert_eq!(
        dec_err(&connect(b"MQTT", 5, 0x0A, &[]), V5),
        E::WillFlagsWithoutWill
    );
}

#[test]
fn password_without_username_only_in_311() {
    let tail = [0x00, 0x01, b'p'];
    assert_eq!(
        dec_err(&connect(b"MQTT", 4, 0x42, &tail), V311),
        E::PasswordWithoutUsername
    );
    for (name, level) in [(&b"MQTT"[..], 5), (&b"MQIsdp"[..], 3)] {
        let Packet::Connect(c) = dec(&connect(name, level, 0x42, &tail), V311).unwrap() else {
            panic!("not a CONNECT")
        };
        assert_eq!(c.username, None);
        assert_eq!(c.password.as_deref(), Some(&b"p"[..]));
    }
}

#[test]
fn reserved_connack_flags() {
    assert_eq!(
        dec_err(&[0x20, 0x02, 0x02, 0x00], V311),
        E::ReservedConnAckFlags
    );
}

#[test]
fn session_present_on_error() {
    let e = dec_err(&[0x20, 0x02, 0x01, 0x05], V311);
    assert_eq!(e, E::SessionPresentOnError);
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn invalid_qos() {
    // PUBLISH QoS 3: rejected from the first byte.
    assert_eq!(dec_err(&[0x36], V311), E::InvalidQos);
    // Will QoS 3.
    let will = [0x00, 0x01, b'w', 0x00, 0x00];
    assert_eq!(
        dec_err(&connect(b"MQTT", 4, 0x1E, &will), V311),
        E::InvalidQos
    );
    // Subscription QoS 3.
    let sub = [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03];
    assert_eq!(dec_err(&sub, V311), E::InvalidQos);
}

#[test]
fn dup_with_qos0() {
    let e = dec_err(&[0x38, 0x03, 0x00, 0x01, b't'], V311);
    assert_eq!(e, E::DupWithQos0);
}

#[test]
fn zero_packet_id() {
    assert_eq!(
        dec_err(&[0x32, 0x05, 0x00, 0x01, b't', 0x00, 0x00], V311),
        E::ZeroPacketId
    );
    assert_eq!(dec_err(&[0x40, 0x02, 0x00, 0x00], V5), E::ZeroPacketId);
    let sub = [0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00];
    assert_eq!(dec_err(&sub, V311), E::ZeroPacketId);
    assert_eq!(
        dec_err(&[0x90, 0x03, 0x00, 0x00, 0x00], V311),
        E::ZeroPacketId
    );
}

#[test]
fn topic_contains_wildcard() {
    let e = dec_err(&[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'], V311);
    assert_eq!(e, E::TopicContainsWildcard);
    assert_eq!(e.reason_code(), ReasonCode::TOPIC_NAME_INVALID);
    let will = [0x00, 0x01, b'#', 0x00, 0x00];
    assert_eq!(
        dec_err(&connect(b"MQTT", 4, 0x06, &will), V311),
        E::TopicContainsWildcard
    );
    // Response Topic is a topic name too.
    let rt = publish_v5_props(&[0x08, 0x00, 0x01, b'#']);
    assert_eq!(dec_err(&rt, V5), E::InvalidPropertyValue(0x08));
}

#[test]
fn empty_topic() {
    assert_eq!(dec_err(&[0x30, 0x02, 0x00, 0x00], V311), E::EmptyTopic);
    // MQTT 5 without a topic alias.
    assert_eq!(dec_err(&[0x30, 0x03, 0x00, 0x00, 0x00], V5), E::EmptyTopic);
    let will = [0x00, 0x00, 0x00, 0x00];
    assert_eq!(
        dec_err(&connect(b"MQTT", 4, 0x06, &will), V311),
        E::EmptyTopic
    );
}

#[test]
fn empty_subscribe_and_unsubscribe() {
    assert_eq!(dec_err(&[0x82, 0x02, 0x00, 0x01], V311), E::EmptySubscribe);
    assert_eq!(
        dec_err(&[0x82, 0x03, 0x00, 0x01, 0x00], V5),
        E::EmptySubscribe
    );
    assert_eq!(
        dec_err(&[0xA2, 0x02, 0x00, 0x01], V311),
        E::EmptyUnsubscribe
    );
    assert_eq!(
        E::EmptySubscribe.reason_code(),
        ReasonCode::MALFORMED_PACKET
    );
}

#[test]
fn missing_reason_codes() {
    assert_eq!(
        dec_err(&[0x90, 0x02, 0x00, 0x01], V311),
        E::MissingReasonCodes {
            packet_type: PacketType::SubAck
        }
    );
    assert_eq!(
        dec_err(&[0xB0, 0x03, 0x00, 0x01, 0x00], V5),
        E::MissingReasonCodes {
            packet_type: PacketType::UnsubAck
        }
    );
}

#[test]
fn invalid_topic_filter() {
    let sub = [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, b'a', b'#', b'b', 0x00];
    let e = dec_err(&sub, V311);
    assert_eq!(e, E::InvalidTopicFilter);
    assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
    let unsub = [0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, b'+'];
    assert!(dec(&unsub, V311).is_ok());
    let unsub = [0xA2, 0x06, 0x00, 0x01, 0x00, 0x02, b'a', b'+'];
    assert_eq!(dec_err(&unsub, V311), E::InvalidTopicFilter);
    let empty = [0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00];
    assert_eq!(dec_err(&empty, V311), E::InvalidTopicFilter);
    // Shared subscription with an empty group.
    let mut shared = vec![0x82, 0x00, 0x00, 0x01, 0x00];
    let f = b"$share//a";
    shared.push(f.len() as u8);
    shared.extend_from_slice(f);
    shared.push(0x00);
    shared[1] = (shared.len() - 2) as u8;
    assert_eq!(dec_err(&shared, V311), E::InvalidTopicFilter);
}

#[test]
fn invalid_subscription_options() {
    let v3 = |opts: u8| [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', opts];
    let v5 = |opts: u8| [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', opts];
    // Reserved bits 6-7, and retain handling 3.
    assert_eq!(dec_err(&v5(0x40), V5), E::InvalidSubscriptionOptions);
    assert_eq!(dec_err(&v5(0x30), V5), E::InvalidSubscriptionOptions);
    assert!(dec(&v5(0x2E), V5).is_ok());
    // In 3.x only the QoS bits exist.
    assert_eq!(dec_err(&v3(0x04), V311), E::InvalidSubscriptionOptions);
    assert!(dec(&v3(0x02), V311).is_ok());
}

#[test]
fn no_local_on_shared_subscription() {
    let f = b"$share/g/a";
    let mut v = vec![0x82, 0x00, 0x00, 0x01, 0x00, 0x00, f.len() as u8];
    v.extend_from_slice(f);
    v.push(0x04);
    v[1] = (v.len() - 2) as u8;
    let e = dec_err(&v, V5);
    assert_eq!(e, E::NoLocalOnSharedSubscription);
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    let last = v.len() - 1;
    v[last] = 0x00;
    assert!(dec(&v, V5).is_ok());
}

#[test]
fn unknown_property() {
    let e = dec_err(&publish_v5_props(&[0x05, 0x00]), V5);
    assert_eq!(e, E::UnknownProperty(0x05));
    assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
}

#[test]
fn property_not_allowed() {
    let e = dec_err(&publish_v5_props(&[0x11, 0, 0, 0, 1]), V5);
    assert_eq!(
        e,
        E::PropertyNotAllowed {
            id: 0x11,
            packet: PropertyContext::Publish
        }
    );
    // Will Delay Interval belongs to the will, not to CONNECT itself.
    let c = [
        0x10, 0x12, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x05, 0x18, 0, 0,
        0, 1, 0x00, 0x00,
    ];
    assert_eq!(
        dec_err(&c, V5),
        E::PropertyNotAllowed {
            id: 0x18,
            packet: PropertyContext::Connect
        }
    );
}

#[test]
fn duplicate_property() {
    let e = dec_err(&publish_v5_props(&[0x23, 0, 1, 0x23, 0, 2]), V5);
    assert_eq!(e, E::DuplicateProperty(0x23));
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    // Subscription identifier may repeat in PUBLISH but not in SUBSCRIBE.
    assert!(dec(&publish_v5_props(&[0x0B, 1, 0x0B, 2]), V5).is_ok());
    let sub = [
        0x82, 0x0A, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, b'a', 0x00,
    ];
    assert_eq!(dec_err(&sub, V5), E::DuplicateProperty(0x0B));
    // User properties repeat freely.
    let up = [0x26, 0, 1, b'k', 0, 0, 0x26, 0, 1, b'k', 0, 0];
    assert!(dec(&publish_v5_props(&up), V5).is_ok());
}

#[test]
fn invalid_property_value() {
    let e = dec_err(&publish_v5_props(&[0x23, 0, 0]), V5);
    assert_eq!(e, E::InvalidPropertyValue(0x23));
    assert_eq!(e.reason_code(), ReasonCode::TOPIC_ALIAS_INVALID);
    let e = dec_err(&publish_v5_props(&[0x01, 2]), V5);
    assert_eq!(e, E::InvalidPropertyValue(0x01));
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    assert_eq!(
        dec_err(&publish_v5_props(&[0x0B, 0]), V5),
        E::InvalidPropertyValue(0x0B)
    );
    let connack = [0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00];
    assert_eq!(dec_err(&connack, V5), E::InvalidPropertyValue(0x21));
    let connack = [0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02];
    assert_eq!(dec_err(&connack, V5), E::InvalidPropertyValue(0x24));
}

#[test]
fn auth_data_without_method() {
    let auth = [0xF0, 0x06, 0x18, 0x04, 0x16, 0x00, 0x01, b'd'];
    let e = dec_err(&auth, V5);
    assert_eq!(e, E::AuthDataWithoutMethod);
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn invalid_reason_code() {
    let bad = |packet_type, code| E::InvalidReasonCode { packet_type, code };
    assert_eq!(
        dec_err(&[0x40, 0x03, 0x00, 0x01, 0x05], V5),
        bad(PacketType::PubAck, 0x05)
    );
    assert_eq!(
        dec_err(&[0x62, 0x03, 0x00, 0x01, 0x10], V5),
        bad(PacketType::PubRel, 0x10)
    );
    assert_eq!(
        dec_err(&[0x20, 0x02, 0x00, 0x06], V311),
        bad(PacketType::ConnAck, 0x06)
    );
    assert_eq!(
        dec_err(&[0x20, 0x03, 0x00, 0x01, 0x00], V5),
        bad(PacketType::ConnAck, 0x01)
    );
    assert_eq!(
        dec_err(&[0x90, 0x03, 0x00, 0x01, 0x03], V311),
        bad(PacketType::SubAck, 0x03)
    );
    assert_eq!(
        dec_err(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x11], V5),
        bad(PacketType::SubAck, 0x11)
    );
    assert_eq!(
        dec_err(&[0xE0, 0x01, 0x01], V5),
        bad(PacketType::Disconnect, 0x01)
    );
    assert_eq!(
        dec_err(&[0xF0, 0x01, 0x04], V5),
        bad(PacketType::Auth, 0x04)
    );
}

#[test]
fn every_error_has_its_reason_code_and_text() {
    use PacketType as P;
    let malformed = ReasonCode::MALFORMED_PACKET;
    let protocol = ReasonCode::PROTOCOL_ERROR;
    let table = [
        (E::InvalidPacketType(0), malformed),
        (
            E::ReservedFlags {
                packet_type: P::PubRel,
            },
            malformed,
        ),
        (E::VarIntTooLong, malformed),
        (E::NonMinimalVarInt, malformed),
        (
            E::BadRemainingLength {
                packet_type: P::PingReq,
                len: 1,
            },
            malformed,
        ),
        (
            E::PacketTooLarge { size: 9, max: 8 },
            ReasonCode::PACKET_TOO_LARGE,
        ),
        (E::Truncated, malformed),
        (E::TrailingBytes, malformed),
        (E::InvalidUtf8, malformed),
        (E::NullCharacter, malformed),
        (E::BadProtocolName, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION),
        (
            E::UnsupportedProtocolLevel(7),
            ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
        ),
        (E::ReservedConnectFlag, malformed),
        (E::WillFlagsWithoutWill, malformed),
        (E::PasswordWithoutUsername, malformed),
        (E::ReservedConnAckFlags, malformed),
        (E::SessionPresentOnError, protocol),
        (E::InvalidQos, malformed),
        (E::DupWithQos0, protocol),
        (E::ZeroPacketId, protocol),
        (E::TopicContainsWildcard, ReasonCode::TOPIC_NAME_INVALID),
        (E::EmptyTopic, protocol),
        (E::EmptySubscribe, malformed),
        (E::EmptyUnsubscribe, malformed),
        (
            E::MissingReasonCodes {
                packet_type: P::SubAck,
            },
            malformed,
        ),
        (E::InvalidTopicFilter, malformed),
        (E::InvalidSubscriptionOptions, malformed),
        (E::NoLocalOnSharedSubscription, protocol),
        (E::UnknownProperty(5), malformed),
        (
            E::PropertyNotAllowed {
                id: 1,
                packet: PropertyContext::Auth,
            },
            malformed,
        ),
        (E::DuplicateProperty(1), protocol),
        (E::InvalidPropertyValue(1), protocol),
        (
            E::InvalidPropertyValue(0x23),
            ReasonCode::TOPIC_ALIAS_INVALID,
        ),
        (E::AuthDataWithoutMethod, protocol),
        (
            E::InvalidReasonCode {
                packet_type: P::PubAck,
                code: 3,
            },
            malformed,
        ),
    ];
    let mut texts = std::collections::HashSet::new();
    for (e, code) in table {
        assert_eq!(e.reason_code(), code, "{e:?}");
        assert!(texts.insert(e.to_string()), "duplicate text for {e:?}");
    }
}
