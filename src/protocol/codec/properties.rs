//! MQTT 5 properties: identifiers, value types and the ordered property list.
//!
//! The list keeps wire order and repeated entries (user properties,
//! subscription identifiers), because both are significant to receivers.

use bytes::Bytes;

/// A property identifier. Known ones have associated constants; the decoder
/// rejects identifiers it cannot size, so unknown ids never reach a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PropertyId(pub u8);

impl PropertyId {
    pub const PAYLOAD_FORMAT_INDICATOR: PropertyId = PropertyId(0x01);
    pub const MESSAGE_EXPIRY_INTERVAL: PropertyId = PropertyId(0x02);
    pub const CONTENT_TYPE: PropertyId = PropertyId(0x03);
    pub const RESPONSE_TOPIC: PropertyId = PropertyId(0x08);
    pub const CORRELATION_DATA: PropertyId = PropertyId(0x09);
    pub const SUBSCRIPTION_IDENTIFIER: PropertyId = PropertyId(0x0B);
    pub const SESSION_EXPIRY_INTERVAL: PropertyId = PropertyId(0x11);
    pub const ASSIGNED_CLIENT_IDENTIFIER: PropertyId = PropertyId(0x12);
    pub const SERVER_KEEP_ALIVE: PropertyId = PropertyId(0x13);
    pub const AUTHENTICATION_METHOD: PropertyId = PropertyId(0x15);
    pub const AUTHENTICATION_DATA: PropertyId = PropertyId(0x16);
    pub const REQUEST_PROBLEM_INFORMATION: PropertyId = PropertyId(0x17);
    pub const WILL_DELAY_INTERVAL: PropertyId = PropertyId(0x18);
    pub const REQUEST_RESPONSE_INFORMATION: PropertyId = PropertyId(0x19);
    pub const RESPONSE_INFORMATION: PropertyId = PropertyId(0x1A);
    pub const SERVER_REFERENCE: PropertyId = PropertyId(0x1C);
    pub const REASON_STRING: PropertyId = PropertyId(0x1F);
    pub const RECEIVE_MAXIMUM: PropertyId = PropertyId(0x21);
    pub const TOPIC_ALIAS_MAXIMUM: PropertyId = PropertyId(0x22);
    pub const TOPIC_ALIAS: PropertyId = PropertyId(0x23);
    pub const MAXIMUM_QOS: PropertyId = PropertyId(0x24);
    pub const RETAIN_AVAILABLE: PropertyId = PropertyId(0x25);
    pub const USER_PROPERTY: PropertyId = PropertyId(0x26);
    pub const MAXIMUM_PACKET_SIZE: PropertyId = PropertyId(0x27);
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: PropertyId = PropertyId(0x28);
    pub const SUBSCRIPTION_IDENTIFIERS_AVAILABLE: PropertyId = PropertyId(0x29);
    pub const SHARED_SUBSCRIPTION_AVAILABLE: PropertyId = PropertyId(0x2A);
}

/// The wire type of a property's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    BinaryData,
    Utf8String,
    Utf8StringPair,
}

/// A property value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyValue {
    Byte(u8),
    U16(u16),
    U32(u32),
    VarInt(u32),
    Binary(Bytes),
    String(String),
    Pair(String, String),
}

/// One property: identifier plus value of the identifier's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub id: PropertyId,
    pub value: PropertyValue,
}

/// An ordered property list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Properties {
    pub list: Vec<Property>,
}
