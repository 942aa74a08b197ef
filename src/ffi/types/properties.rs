//! C types of MQTTProperties.h: property identifiers and value types, the
//! length-prefixed string, one property and the growable property list.
//! The enums exist for the header; Rust code reads the C ints (`enum_*`).

use std::ffi::{c_char, c_int, c_uchar, c_uint, c_ushort};

/// Returned by MQTTProperty_getType for an identifier that is not a property.
pub const MQTT_INVALID_PROPERTY_ID: c_int = -2;

/// MQTT 5 property identifiers, as carried on the wire.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MQTTPropertyCodes {
    MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR = 1,
    MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL = 2,
    MQTTPROPERTY_CODE_CONTENT_TYPE = 3,
    MQTTPROPERTY_CODE_RESPONSE_TOPIC = 8,
    MQTTPROPERTY_CODE_CORRELATION_DATA = 9,
    MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER = 11,
    MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL = 17,
    /// (The misspelling is part of the established API.)
    MQTTPROPERTY_CODE_ASSIGNED_CLIENT_IDENTIFER = 18,
    MQTTPROPERTY_CODE_SERVER_KEEP_ALIVE = 19,
    MQTTPROPERTY_CODE_AUTHENTICATION_METHOD = 21,
    MQTTPROPERTY_CODE_AUTHENTICATION_DATA = 22,
    MQTTPROPERTY_CODE_REQUEST_PROBLEM_INFORMATION = 23,
    MQTTPROPERTY_CODE_WILL_DELAY_INTERVAL = 24,
    MQTTPROPERTY_CODE_REQUEST_RESPONSE_INFORMATION = 25,
    MQTTPROPERTY_CODE_RESPONSE_INFORMATION = 26,
    MQTTPROPERTY_CODE_SERVER_REFERENCE = 28,
    MQTTPROPERTY_CODE_REASON_STRING = 31,
    MQTTPROPERTY_CODE_RECEIVE_MAXIMUM = 33,
    MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM = 34,
    MQTTPROPERTY_CODE_TOPIC_ALIAS = 35,
    MQTTPROPERTY_CODE_MAXIMUM_QOS = 36,
    MQTTPROPERTY_CODE_RETAIN_AVAILABLE = 37,
    MQTTPROPERTY_CODE_USER_PROPERTY = 38,
    MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE = 39,
    MQTTPROPERTY_CODE_WILDCARD_SUBSCRIPTION_AVAILABLE = 40,
    MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIERS_AVAILABLE = 41,
    MQTTPROPERTY_CODE_SHARED_SUBSCRIPTION_AVAILABLE = 42,
}

/// The C `enum MQTTPropertyCodes` as Rust receives it: any int value.
#[allow(non_camel_case_types)]
pub type enum_MQTTPropertyCodes = c_int;

/// How a property's value is encoded, which selects the union member used.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MQTTPropertyTypes {
    MQTTPROPERTY_TYPE_BYTE,
    MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER,
    MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER,
    MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER,
    MQTTPROPERTY_TYPE_BINARY_DATA,
    MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING,
    MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR,
}

/// A string or binary value with an explicit length (not NUL-terminated).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTLenString {
    /// Number of bytes at `data`.
    pub len: c_int,
    /// The bytes; owned by the property list that holds them.
    pub data: *mut c_char,
}

/// The two strings of a string or string-pair property (C: an anonymous
/// struct inside the value union, so C code writes `value.data`/`value.value`).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTLenStringPair {
    /// The string value, or the name of a user property.
    pub data: MQTTLenString,
    /// The value of a user property.
    pub value: MQTTLenString,
}

/// The value union of MQTTProperty (anonymous in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub union MQTTProperty_value {
    pub byte: c_uchar,
    pub integer2: c_ushort,
    pub integer4: c_uint,
    pub data: MQTTLenStringPair,
}

/// One property: its identifier and a value whose member depends on the
/// identifier's type (see MQTTProperty_getType).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MQTTProperty {
    /// The property identifier.
    pub identifier: enum_MQTTPropertyCodes,
    /// The value.
    pub value: MQTTProperty_value,
}

/// A list of properties in wire order. Zero-initialise it (or use
/// MQTTProperties_initializer); MQTTProperties_add allocates the array and
/// MQTTProperties_free releases it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTProperties {
    /// Number of entries in use.
    pub count: c_int,
    /// Number of entries the array has room for.
    pub max_count: c_int,
    /// Encoded size in bytes of all properties (without the length prefix).
    pub length: c_int,
    /// The entries.
    pub array: *mut MQTTProperty,
}

impl Default for MQTTProperties {
    fn default() -> Self {
        MQTTProperties {
            count: 0,
            max_count: 0,
            length: 0,
            array: std::ptr::null_mut(),
        }
    }
}
