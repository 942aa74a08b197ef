//! MQTT 5 properties: identifiers, value types and the ordered property list.
//!
//! The list keeps wire order and repeated entries (user properties,
//! subscription identifiers), because both are significant to receivers.

use bytes::Bytes;

use super::varint::varint_len;

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

    /// Every known identifier, in numeric order.
    pub const ALL: [PropertyId; 27] = [
        Self::PAYLOAD_FORMAT_INDICATOR,
        Self::MESSAGE_EXPIRY_INTERVAL,
        Self::CONTENT_TYPE,
        Self::RESPONSE_TOPIC,
        Self::CORRELATION_DATA,
        Self::SUBSCRIPTION_IDENTIFIER,
        Self::SESSION_EXPIRY_INTERVAL,
        Self::ASSIGNED_CLIENT_IDENTIFIER,
        Self::SERVER_KEEP_ALIVE,
        Self::AUTHENTICATION_METHOD,
        Self::AUTHENTICATION_DATA,
        Self::REQUEST_PROBLEM_INFORMATION,
        Self::WILL_DELAY_INTERVAL,
        Self::REQUEST_RESPONSE_INFORMATION,
        Self::RESPONSE_INFORMATION,
        Self::SERVER_REFERENCE,
        Self::REASON_STRING,
        Self::RECEIVE_MAXIMUM,
        Self::TOPIC_ALIAS_MAXIMUM,
        Self::TOPIC_ALIAS,
        Self::MAXIMUM_QOS,
        Self::RETAIN_AVAILABLE,
        Self::USER_PROPERTY,
        Self::MAXIMUM_PACKET_SIZE,
        Self::WILDCARD_SUBSCRIPTION_AVAILABLE,
        Self::SUBSCRIPTION_IDENTIFIERS_AVAILABLE,
        Self::SHARED_SUBSCRIPTION_AVAILABLE,
    ];

    /// The wire type of this identifier's value, `None` if unknown.
    pub fn property_type(self) -> Option<PropertyType> {
        self.info().map(|i| i.ty)
    }

    /// The name Paho C's `MQTTPropertyName` returns for this identifier
    /// (including Paho's spelling "ASSIGNED_CLIENT_IDENTIFER").
    pub fn name(self) -> Option<&'static str> {
        self.info().map(|i| i.name)
    }

    /// True when this identifier may appear in `ctx`.
    pub fn allowed_in(self, ctx: PropertyContext) -> bool {
        self.info().is_some_and(|i| i.contexts & ctx.bit() != 0)
    }

    /// True when this identifier may appear more than once in `ctx`: user
    /// properties anywhere, subscription identifiers only in PUBLISH.
    pub fn may_repeat(self, ctx: PropertyContext) -> bool {
        self == Self::USER_PROPERTY
            || (self == Self::SUBSCRIPTION_IDENTIFIER && ctx == PropertyContext::Publish)
    }

    fn info(self) -> Option<&'static Info> {
        let i = *INDEX.get(usize::from(self.0))?;
        INFO.get(usize::from(i))
    }
}

/// Where a property list sits: each packet type with properties, plus the
/// will properties inside CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyContext {
    Connect,
    Will,
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

impl PropertyContext {
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

const fn ctx_mask(list: &[PropertyContext]) -> u16 {
    let mut m = 0;
    let mut i = 0;
    while i < list.len() {
        m |= list[i].bit();
        i += 1;
    }
    m
}

struct Info {
    id: u8,
    ty: PropertyType,
    name: &'static str,
    contexts: u16,
}

use PropertyContext as C;
use PropertyType as T;

const MSG: u16 = ctx_mask(&[C::Publish, C::Will]);
const ACKS: u16 = ctx_mask(&[
    C::ConnAck,
    C::PubAck,
    C::PubRec,
    C::PubRel,
    C::PubComp,
    C::SubAck,
    C::UnsubAck,
    C::Disconnect,
    C::Auth,
]);
const CONN_BOTH: u16 = ctx_mask(&[C::Connect, C::ConnAck]);
const CONNACK: u16 = ctx_mask(&[C::ConnAck]);
const AUTH_SET: u16 = ctx_mask(&[C::Connect, C::ConnAck, C::Auth]);
const EVERY: u16 = u16::MAX;

const INFO: [Info; 27] = [
    Info {
        id: 0x01,
        ty: T::Byte,
        name: "PAYLOAD_FORMAT_INDICATOR",
        contexts: MSG,
    },
    Info {
        id: 0x02,
        ty: T::FourByteInteger,
        name: "MESSAGE_EXPIRY_INTERVAL",
        contexts: MSG,
    },
    Info {
        id: 0x03,
        ty: T::Utf8String,
        name: "CONTENT_TYPE",
        contexts: MSG,
    },
    Info {
        id: 0x08,
        ty: T::Utf8String,
        name: "RESPONSE_TOPIC",
        contexts: MSG,
    },
    Info {
        id: 0x09,
        ty: T::BinaryData,
        name: "CORRELATION_DATA",
        contexts: MSG,
    },
    Info {
        id: 0x0B,
        ty: T::VariableByteInteger,
        name: "SUBSCRIPTION_IDENTIFIER",
        contexts: ctx_mask(&[C::Publish, C::Subscribe]),
    },
    Info {
        id: 0x11,
        ty: T::FourByteInteger,
        name: "SESSION_EXPIRY_INTERVAL",
        contexts: ctx_mask(&[C::Connect, C::ConnAck, C::Disconnect]),
    },
    Info {
        id: 0x12,
        ty: T::Utf8String,
        name: "ASSIGNED_CLIENT_IDENTIFER",
        contexts: CONNACK,
    },
    Info {
        id: 0x13,
        ty: T::TwoByteInteger,
        name: "SERVER_KEEP_ALIVE",
        contexts: CONNACK,
    },
    Info {
        id: 0x15,
        ty: T::Utf8String,
        name: "AUTHENTICATION_METHOD",
        contexts: AUTH_SET,
    },
    Info {
        id: 0x16,
        ty: T::BinaryData,
        name: "AUTHENTICATION_DATA",
        contexts: AUTH_SET,
    },
    Info {
        id: 0x17,
        ty: T::Byte,
        name: "REQUEST_PROBLEM_INFORMATION",
        contexts: ctx_mask(&[C::Connect]),
    },
    Info {
        id: 0x18,
        ty: T::FourByteInteger,
        name: "WILL_DELAY_INTERVAL",
        contexts: ctx_mask(&[C::Will]),
    },
    Info {
        id: 0x19,
        ty: T::Byte,
        name: "REQUEST_RESPONSE_INFORMATION",
        contexts: ctx_mask(&[C::Connect]),
    },
    Info {
        id: 0x1A,
        ty: T::Utf8String,
        name: "RESPONSE_INFORMATION",
        contexts: CONNACK,
    },
    Info {
        id: 0x1C,
        ty: T::Utf8String,
        name: "SERVER_REFERENCE",
        contexts: ctx_mask(&[C::ConnAck, C::Disconnect]),
    },
    Info {
        id: 0x1F,
        ty: T::Utf8String,
        name: "REASON_STRING",
        contexts: ACKS,
    },
    Info {
        id: 0x21,
        ty: T::TwoByteInteger,
        name: "RECEIVE_MAXIMUM",
        contexts: CONN_BOTH,
    },
    Info {
        id: 0x22,
        ty: T::TwoByteInteger,
        name: "TOPIC_ALIAS_MAXIMUM",
        contexts: CONN_BOTH,
    },
    Info {
        id: 0x23,
        ty: T::TwoByteInteger,
        name: "TOPIC_ALIAS",
        contexts: ctx_mask(&[C::Publish]),
    },
    Info {
        id: 0x24,
        ty: T::Byte,
        name: "MAXIMUM_QOS",
        contexts: CONNACK,
    },
    Info {
        id: 0x25,
        ty: T::Byte,
        name: "RETAIN_AVAILABLE",
        contexts: CONNACK,
    },
    Info {
        id: 0x26,
        ty: T::Utf8StringPair,
        name: "USER_PROPERTY",
        contexts: EVERY,
    },
    Info {
        id: 0x27,
        ty: T::FourByteInteger,
        name: "MAXIMUM_PACKET_SIZE",
        contexts: CONN_BOTH,
    },
    Info {
        id: 0x28,
        ty: T::Byte,
        name: "WILDCARD_SUBSCRIPTION_AVAILABLE",
        contexts: CONNACK,
    },
    Info {
        id: 0x29,
        ty: T::Byte,
        name: "SUBSCRIPTION_IDENTIFIERS_AVAILABLE",
        contexts: CONNACK,
    },
    Info {
        id: 0x2A,
        ty: T::Byte,
        name: "SHARED_SUBSCRIPTION_AVAILABLE",
        contexts: CONNACK,
    },
];

/// Identifier → position in [`INFO`] (0xFF = unknown), for O(1) lookup.
const INDEX: [u8; 64] = {
    let mut t = [0xFF; 64];
    let mut i = 0;
    while i < INFO.len() {
        t[INFO[i].id as usize] = i as u8;
        i += 1;
    }
    t
};

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

impl PropertyValue {
    /// The wire type this value has.
    pub fn property_type(&self) -> PropertyType {
        match self {
            PropertyValue::Byte(_) => PropertyType::Byte,
            PropertyValue::U16(_) => PropertyType::TwoByteInteger,
            PropertyValue::U32(_) => PropertyType::FourByteInteger,
            PropertyValue::VarInt(_) => PropertyType::VariableByteInteger,
            PropertyValue::Binary(_) => PropertyType::BinaryData,
            PropertyValue::String(_) => PropertyType::Utf8String,
            PropertyValue::Pair(..) => PropertyType::Utf8StringPair,
        }
    }

    /// Bytes the value takes on the wire (without the identifier).
    pub fn encoded_len(&self) -> usize {
        match self {
            PropertyValue::Byte(_) => 1,
            PropertyValue::U16(_) => 2,
            PropertyValue::U32(_) => 4,
            PropertyValue::VarInt(v) => varint_len(*v),
            PropertyValue::Binary(b) => 2 + b.len(),
            PropertyValue::String(s) => 2 + s.len(),
            PropertyValue::Pair(k, v) => 4 + k.len() + v.len(),
        }
    }
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

impl Properties {
    /// An empty list (no allocation).
    pub fn new() -> Self {
        Properties { list: Vec::new() }
    }

    /// True when the list holds no property.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Number of entries (repeated ids count each time).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Append a property (keeps order; does not replace).
    pub fn push(&mut self, id: PropertyId, value: PropertyValue) {
        self.list.push(Property { id, value });
    }

    /// Builder form of [`Properties::push`].
    pub fn with(mut self, id: PropertyId, value: PropertyValue) -> Self {
        self.push(id, value);
        self
    }

    /// Iterate in wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, Property> {
        self.list.iter()
    }

    /// The first value with identifier `id`.
    pub fn get(&self, id: PropertyId) -> Option<&PropertyValue> {
        self.list.iter().find(|p| p.id == id).map(|p| &p.value)
    }

    /// Every value with identifier `id`, in order.
    pub fn get_all(&self, id: PropertyId) -> impl Iterator<Item = &PropertyValue> {
        self.list
            .iter()
            .filter(move |p| p.id == id)
            .map(|p| &p.value)
    }

    /// First value of `id` as an integer of any integer type.
    pub fn get_u32(&self, id: PropertyId) -> Option<u32> {
        match self.get(id)? {
            PropertyValue::Byte(v) => Some(u32::from(*v)),
            PropertyValue::U16(v) => Some(u32::from(*v)),
            PropertyValue::U32(v) | PropertyValue::VarInt(v) => Some(*v),
            _ => None,
        }
    }

    /// First value of `id` if it is a two-byte integer.
    pub fn get_u16(&self, id: PropertyId) -> Option<u16> {
        match self.get(id)? {
            PropertyValue::U16(v) => Some(*v),
            _ => None,
        }
    }

    /// First value of `id` if it is a byte.
    pub fn get_u8(&self, id: PropertyId) -> Option<u8> {
        match self.get(id)? {
            PropertyValue::Byte(v) => Some(*v),
            _ => None,
        }
    }

    /// First value of `id` if it is a UTF-8 string.
    pub fn get_str(&self, id: PropertyId) -> Option<&str> {
        match self.get(id)? {
            PropertyValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// First value of `id` if it is binary data.
    pub fn get_binary(&self, id: PropertyId) -> Option<&Bytes> {
        match self.get(id)? {
            PropertyValue::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The user properties as (name, value) pairs, in order.
    pub fn user_properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().filter_map(|p| match &p.value {
            PropertyValue::Pair(k, v) if p.id == PropertyId::USER_PROPERTY => {
                Some((k.as_str(), v.as_str()))
            }
            _ => None,
        })
    }

    /// Remove every entry with identifier `id`.
    pub fn remove(&mut self, id: PropertyId) {
        self.list.retain(|p| p.id != id);
    }

    /// Bytes of the property list on the wire, excluding the leading
    /// property-length integer.
    pub fn encoded_len(&self) -> usize {
        self.list.iter().map(|p| 1 + p.value.encoded_len()).sum()
    }

    /// Bytes on the wire including the property-length integer.
    pub fn wire_len(&self) -> usize {
        let n = self.encoded_len();
        varint_len(u32::try_from(n).unwrap_or(u32::MAX)) + n
    }
}

impl<'a> IntoIterator for &'a Properties {
    type Item = &'a Property;
    type IntoIter = std::slice::Iter<'a, Property>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl FromIterator<Property> for Properties {
    fn from_iter<I: IntoIterator<Item = Property>>(iter: I) -> Self {
        Properties {
            list: iter.into_iter().collect(),
        }
    }
}
