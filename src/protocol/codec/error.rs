//! Codec errors: one [`DecodeError`] variant per rule a received packet can
//! break (with the MQTT 5 reason code a peer should be told), and
//! [`EncodeError`] for packets that cannot be put on the wire.

use std::fmt;

use super::packet::PacketType;
use super::properties::PropertyContext;
use super::reason::ReasonCode;

/// Why a byte sequence is not a valid MQTT packet. Each variant names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Packet type 0, or 15 (AUTH) outside MQTT 5.
    InvalidPacketType(u8),
    /// The fixed header's low nibble is not the value the type requires.
    ReservedFlags { packet_type: PacketType },
    /// A variable byte integer continues past its fourth byte.
    VarIntTooLong,
    /// MQTT 5: a variable byte integer not in its shortest form.
    NonMinimalVarInt,
    /// The remaining length is impossible for this packet type/version.
    BadRemainingLength { packet_type: PacketType, len: u32 },
    /// The whole packet (fixed header included) exceeds the limit.
    PacketTooLarge { size: u32, max: u32 },
    /// A field runs past the end of the packet (or of its property list).
    Truncated,
    /// Bytes are left over after the last field.
    TrailingBytes,
    /// A string is not well-formed UTF-8 (this includes surrogates).
    InvalidUtf8,
    /// A string contains U+0000.
    NullCharacter,
    /// CONNECT protocol name is neither "MQTT" nor "MQIsdp".
    BadProtocolName,
    /// CONNECT protocol level does not match a supported version.
    UnsupportedProtocolLevel(u8),
    /// CONNECT flags bit 0 is set.
    ReservedConnectFlag,
    /// Will QoS or Will Retain set without the Will Flag.
    WillFlagsWithoutWill,
    /// MQTT 3.1.1: Password Flag set without the User Name Flag.
    PasswordWithoutUsername,
    /// CONNACK acknowledge flags bits 1–7 are set.
    ReservedConnAckFlags,
    /// CONNACK with Session Present and a non-zero code.
    SessionPresentOnError,
    /// A QoS field holds 3.
    InvalidQos,
    /// PUBLISH QoS 0 with the DUP flag set.
    DupWithQos0,
    /// A packet identifier that must be non-zero is 0.
    ZeroPacketId,
    /// A topic name contains `+` or `#`.
    TopicContainsWildcard,
    /// A topic name is empty (MQTT 5 PUBLISH allows it only with a topic alias).
    EmptyTopic,
    /// SUBSCRIBE without any topic filter.
    EmptySubscribe,
    /// UNSUBSCRIBE without any topic filter.
    EmptyUnsubscribe,
    /// SUBACK (or MQTT 5 UNSUBACK) without any reason code.
    MissingReasonCodes { packet_type: PacketType },
    /// A topic filter breaks the wildcard or shared-subscription rules.
    InvalidTopicFilter,
    /// Reserved subscription option bits set, or retain handling 3.
    InvalidSubscriptionOptions,
    /// MQTT 5: No Local set on a shared subscription.
    NoLocalOnSharedSubscription,
    /// A property identifier this codec does not know.
    UnknownProperty(u8),
    /// A known property in a packet that does not allow it.
    PropertyNotAllowed { id: u8, packet: PropertyContext },
    /// A property that may appear once appears again.
    DuplicateProperty(u8),
    /// A property value outside its allowed range (e.g. Topic Alias 0).
    InvalidPropertyValue(u8),
    /// Authentication Data without Authentication Method.
    AuthDataWithoutMethod,
    /// A reason/return code not listed for this packet type.
    InvalidReasonCode { packet_type: PacketType, code: u8 },
}

impl DecodeError {
    /// The reason code the spec gives for this error (what to put in a
    /// DISCONNECT or CONNACK when closing the connection because of it).
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError::*;
        match self {
            PacketTooLarge { .. } => ReasonCode::PACKET_TOO_LARGE,
            BadProtocolName | UnsupportedProtocolLevel(_) => {
                ReasonCode::UNSUPPORTED_PROTOCOL_VERSION
            }
            TopicContainsWildcard => ReasonCode::TOPIC_NAME_INVALID,
            InvalidPropertyValue(0x23) => ReasonCode::TOPIC_ALIAS_INVALID,
            EmptyTopic
            | DupWithQos0
            | ZeroPacketId
            | SessionPresentOnError
            | NoLocalOnSharedSubscription
            | DuplicateProperty(_)
            | InvalidPropertyValue(_)
            | AuthDataWithoutMethod => ReasonCode::PROTOCOL_ERROR,
            InvalidPacketType(_)
            | ReservedFlags { .. }
            | VarIntTooLong
            | NonMinimalVarInt
            | BadRemainingLength { .. }
            | Truncated
            | TrailingBytes
            | InvalidUtf8
            | NullCharacter
            | ReservedConnectFlag
            | WillFlagsWithoutWill
            | PasswordWithoutUsername
            | ReservedConnAckFlags
            | InvalidQos
            | MissingReasonCodes { .. }
            | InvalidSubscriptionOptions
            | UnknownProperty(_)
            | PropertyNotAllowed { .. }
            | InvalidReasonCode { .. }
            // A SUBSCRIBE/UNSUBSCRIBE without filters or with a filter that
            // breaks the wildcard rules is malformed, as mosquitto answers
            // it (0x8F is for well-formed filters the server will not take).
            | EmptySubscribe
            | EmptyUnsubscribe
            | InvalidTopicFilter => ReasonCode::MALFORMED_PACKET,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeError::*;
        match self {
            InvalidPacketType(t) => write!(f, "invalid packet type {t}"),
            ReservedFlags { packet_type } => {
                write!(f, "reserved fixed header flags wrong for {packet_type:?}")
            }
            VarIntTooLong => f.write_str("variable byte integer longer than 4 bytes"),
            NonMinimalVarInt => f.write_str("variable byte integer not minimally encoded"),
            BadRemainingLength { packet_type, len } => {
                write!(f, "remaining length {len} invalid for {packet_type:?}")
            }
            PacketTooLarge { size, max } => {
                write!(f, "packet of {size} bytes exceeds maximum {max}")
            }
            Truncated => f.write_str("field runs past the end of the packet"),
            TrailingBytes => f.write_str("unexpected bytes after the last field"),
            InvalidUtf8 => f.write_str("string is not well-formed UTF-8"),
            NullCharacter => f.write_str("string contains U+0000"),
            BadProtocolName => f.write_str("protocol name is not \"MQTT\" or \"MQIsdp\""),
            UnsupportedProtocolLevel(l) => write!(f, "unsupported protocol level {l}"),
            ReservedConnectFlag => f.write_str("CONNECT reserved flag is set"),
            WillFlagsWithoutWill => f.write_str("will QoS/retain set without will flag"),
            PasswordWithoutUsername => f.write_str("password flag set without user name flag"),
            ReservedConnAckFlags => f.write_str("CONNACK reserved flags are set"),
            SessionPresentOnError => f.write_str("session present with a non-zero CONNACK code"),
            InvalidQos => f.write_str("QoS value 3 is invalid"),
            DupWithQos0 => f.write_str("DUP flag set on a QoS 0 PUBLISH"),
            ZeroPacketId => f.write_str("packet identifier 0"),
            TopicContainsWildcard => f.write_str("topic name contains a wildcard"),
            EmptyTopic => f.write_str("empty topic name"),
            EmptySubscribe => f.write_str("SUBSCRIBE without topic filters"),
            EmptyUnsubscribe => f.write_str("UNSUBSCRIBE without topic filters"),
            MissingReasonCodes { packet_type } => {
                write!(f, "{packet_type:?} without reason codes")
            }
            InvalidTopicFilter => f.write_str("invalid topic filter"),
            InvalidSubscriptionOptions => f.write_str("invalid subscription options"),
            NoLocalOnSharedSubscription => f.write_str("no local set on a shared subscription"),
            UnknownProperty(id) => write!(f, "unknown property identifier 0x{id:02X}"),
            PropertyNotAllowed { id, packet } => {
                write!(f, "property 0x{id:02X} not allowed in {packet:?}")
            }
            DuplicateProperty(id) => write!(f, "property 0x{id:02X} included more than once"),
            InvalidPropertyValue(id) => write!(f, "invalid value for property 0x{id:02X}"),
            AuthDataWithoutMethod => {
                f.write_str("authentication data without authentication method")
            }
            InvalidReasonCode { packet_type, code } => {
                write!(f, "reason code 0x{code:02X} not allowed in {packet_type:?}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a packet cannot be encoded for the given version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A string longer than 65,535 bytes.
    StringTooLong(usize),
    /// Binary data longer than 65,535 bytes.
    BinaryTooLong(usize),
    /// The remaining length would exceed 268,435,455.
    PacketTooLarge(usize),
    /// A variable byte integer value above 268,435,455.
    VarIntTooLarge(u32),
    /// QoS > 0 PUBLISH, SUBSCRIBE, UNSUBSCRIBE or an ack with packet id 0.
    ZeroPacketId,
    /// The packet type does not exist in this version (AUTH in 3.x).
    NotInVersion(PacketType),
    /// SUBSCRIBE/UNSUBSCRIBE without topic filters.
    NoTopicFilters,
    /// Subscription retain handling above 2.
    InvalidRetainHandling(u8),
    /// A property identifier with no known type.
    UnknownProperty(u8),
    /// A property value whose type does not match its identifier.
    PropertyTypeMismatch(u8),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeError::*;
        match self {
            StringTooLong(n) => write!(f, "string of {n} bytes exceeds 65535"),
            BinaryTooLong(n) => write!(f, "binary data of {n} bytes exceeds 65535"),
            PacketTooLarge(n) => write!(f, "remaining length {n} exceeds 268435455"),
            VarIntTooLarge(v) => write!(f, "value {v} exceeds 268435455"),
            ZeroPacketId => f.write_str("packet identifier 0"),
            NotInVersion(t) => write!(f, "{t:?} does not exist in this protocol version"),
            NoTopicFilters => f.write_str("no topic filters"),
            InvalidRetainHandling(v) => write!(f, "retain handling {v} is not 0, 1 or 2"),
            UnknownProperty(id) => write!(f, "unknown property identifier 0x{id:02X}"),
            PropertyTypeMismatch(id) => {
                write!(f, "value type does not match property 0x{id:02X}")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
