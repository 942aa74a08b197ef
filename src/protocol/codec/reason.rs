//! Reason codes (MQTT 5) and CONNACK return codes (3.x) as one wire value.
//!
//! Unknown values are kept as they are, so a newer peer's code survives a
//! round trip and can be reported to the user.

use super::packet::PacketType;

/// A reason code byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ReasonCode(pub u8);

impl ReasonCode {
    pub const SUCCESS: ReasonCode = ReasonCode(0x00);
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode(0x00);
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode(0x00);
    pub const GRANTED_QOS_1: ReasonCode = ReasonCode(0x01);
    pub const GRANTED_QOS_2: ReasonCode = ReasonCode(0x02);
    pub const DISCONNECT_WITH_WILL_MESSAGE: ReasonCode = ReasonCode(0x04);
    pub const NO_MATCHING_SUBSCRIBERS: ReasonCode = ReasonCode(0x10);
    pub const NO_SUBSCRIPTION_FOUND: ReasonCode = ReasonCode(0x11);
    pub const CONTINUE_AUTHENTICATION: ReasonCode = ReasonCode(0x18);
    pub const RE_AUTHENTICATE: ReasonCode = ReasonCode(0x19);
    pub const UNSPECIFIED_ERROR: ReasonCode = ReasonCode(0x80);
    pub const MALFORMED_PACKET: ReasonCode = ReasonCode(0x81);
    pub const PROTOCOL_ERROR: ReasonCode = ReasonCode(0x82);
    pub const IMPLEMENTATION_SPECIFIC_ERROR: ReasonCode = ReasonCode(0x83);
    pub const UNSUPPORTED_PROTOCOL_VERSION: ReasonCode = ReasonCode(0x84);
    pub const CLIENT_IDENTIFIER_NOT_VALID: ReasonCode = ReasonCode(0x85);
    pub const BAD_USER_NAME_OR_PASSWORD: ReasonCode = ReasonCode(0x86);
    pub const NOT_AUTHORIZED: ReasonCode = ReasonCode(0x87);
    pub const SERVER_UNAVAILABLE: ReasonCode = ReasonCode(0x88);
    pub const SERVER_BUSY: ReasonCode = ReasonCode(0x89);
    pub const BANNED: ReasonCode = ReasonCode(0x8A);
    pub const SERVER_SHUTTING_DOWN: ReasonCode = ReasonCode(0x8B);
    pub const BAD_AUTHENTICATION_METHOD: ReasonCode = ReasonCode(0x8C);
    pub const KEEP_ALIVE_TIMEOUT: ReasonCode = ReasonCode(0x8D);
    pub const SESSION_TAKEN_OVER: ReasonCode = ReasonCode(0x8E);
    pub const TOPIC_FILTER_INVALID: ReasonCode = ReasonCode(0x8F);
    pub const TOPIC_NAME_INVALID: ReasonCode = ReasonCode(0x90);
    pub const PACKET_IDENTIFIER_IN_USE: ReasonCode = ReasonCode(0x91);
    pub const PACKET_IDENTIFIER_NOT_FOUND: ReasonCode = ReasonCode(0x92);
    pub const RECEIVE_MAXIMUM_EXCEEDED: ReasonCode = ReasonCode(0x93);
    pub const TOPIC_ALIAS_INVALID: ReasonCode = ReasonCode(0x94);
    pub const PACKET_TOO_LARGE: ReasonCode = ReasonCode(0x95);
    pub const MESSAGE_RATE_TOO_HIGH: ReasonCode = ReasonCode(0x96);
    pub const QUOTA_EXCEEDED: ReasonCode = ReasonCode(0x97);
    pub const ADMINISTRATIVE_ACTION: ReasonCode = ReasonCode(0x98);
    pub const PAYLOAD_FORMAT_INVALID: ReasonCode = ReasonCode(0x99);
    pub const RETAIN_NOT_SUPPORTED: ReasonCode = ReasonCode(0x9A);
    pub const QOS_NOT_SUPPORTED: ReasonCode = ReasonCode(0x9B);
    pub const USE_ANOTHER_SERVER: ReasonCode = ReasonCode(0x9C);
    pub const SERVER_MOVED: ReasonCode = ReasonCode(0x9D);
    pub const SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: ReasonCode = ReasonCode(0x9E);
    pub const CONNECTION_RATE_EXCEEDED: ReasonCode = ReasonCode(0x9F);
    pub const MAXIMUM_CONNECT_TIME: ReasonCode = ReasonCode(0xA0);
    pub const SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: ReasonCode = ReasonCode(0xA1);
    pub const WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: ReasonCode = ReasonCode(0xA2);

    /// 3.x CONNACK return codes.
    pub const V3_UNACCEPTABLE_PROTOCOL_VERSION: ReasonCode = ReasonCode(1);
    pub const V3_IDENTIFIER_REJECTED: ReasonCode = ReasonCode(2);
    pub const V3_SERVER_UNAVAILABLE: ReasonCode = ReasonCode(3);
    pub const V3_BAD_USER_NAME_OR_PASSWORD: ReasonCode = ReasonCode(4);
    pub const V3_NOT_AUTHORIZED: ReasonCode = ReasonCode(5);
    /// 3.1.1 SUBACK failure.
    pub const V3_SUBACK_FAILURE: ReasonCode = ReasonCode(0x80);

    /// True for codes below 0x80 (success and its variants).
    pub fn is_success(self) -> bool {
        self.0 < 0x80
    }
}

/// MQTT 5 codes allowed in CONNACK.
const V5_CONNACK: &[u8] = &[
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
];
/// MQTT 5 codes allowed in PUBACK and PUBREC.
const V5_PUBACK: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
/// MQTT 5 codes allowed in PUBREL and PUBCOMP.
const V5_PUBREL: &[u8] = &[0x00, 0x92];
/// MQTT 5 codes allowed in SUBACK.
const V5_SUBACK: &[u8] = &[
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];
/// MQTT 5 codes allowed in UNSUBACK.
const V5_UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
/// MQTT 5 codes allowed in DISCONNECT.
const V5_DISCONNECT: &[u8] = &[
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
];
/// MQTT 5 codes allowed in AUTH.
const V5_AUTH: &[u8] = &[0x00, 0x18, 0x19];
/// 3.x SUBACK return codes.
const V3_SUBACK: &[u8] = &[0x00, 0x01, 0x02, 0x80];

impl ReasonCode {
    /// True when the spec lists this code for `packet` (MQTT 5 lists when
    /// `v5`, otherwise the 3.x CONNACK/SUBACK return codes). Packet types
    /// without codes accept only 0.
    pub fn is_valid_for(self, packet: PacketType, v5: bool) -> bool {
        let list: &[u8] = match (packet, v5) {
            (PacketType::ConnAck, true) => V5_CONNACK,
            (PacketType::ConnAck, false) => return self.0 <= 5,
            (PacketType::PubAck | PacketType::PubRec, true) => V5_PUBACK,
            (PacketType::PubRel | PacketType::PubComp, true) => V5_PUBREL,
            (PacketType::SubAck, true) => V5_SUBACK,
            (PacketType::SubAck, false) => V3_SUBACK,
            (PacketType::UnsubAck, true) => V5_UNSUBACK,
            (PacketType::Disconnect, true) => V5_DISCONNECT,
            (PacketType::Auth, true) => V5_AUTH,
            _ => return self.0 == 0,
        };
        list.contains(&self.0)
    }
}
