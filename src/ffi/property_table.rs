//! The MQTT 5 property table as the C API sees it: each identifier's name
//! (as Paho prints it) and value type, plus the encoded size of a value.

use std::ffi::{CStr, c_int};

use super::types::MQTTPropertyTypes::{self, *};

/// (identifier, printable name, value type) for every MQTT 5 property.
const TABLE: &[(c_int, &CStr, MQTTPropertyTypes)] = &[
    (1, c"PAYLOAD_FORMAT_INDICATOR", MQTTPROPERTY_TYPE_BYTE),
    (
        2,
        c"MESSAGE_EXPIRY_INTERVAL",
        MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER,
    ),
    (3, c"CONTENT_TYPE", MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING),
    (8, c"RESPONSE_TOPIC", MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING),
    (9, c"CORRELATION_DATA", MQTTPROPERTY_TYPE_BINARY_DATA),
    (
        11,
        c"SUBSCRIPTION_IDENTIFIER",
        MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER,
    ),
    (
        17,
        c"SESSION_EXPIRY_INTERVAL",
        MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER,
    ),
    (
        18,
        c"ASSIGNED_CLIENT_IDENTIFER",
        MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING,
    ),
    (19, c"SERVER_KEEP_ALIVE", MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER),
    (
        21,
        c"AUTHENTICATION_METHOD",
        MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING,
    ),
    (22, c"AUTHENTICATION_DATA", MQTTPROPERTY_TYPE_BINARY_DATA),
    (23, c"REQUEST_PROBLEM_INFORMATION", MQTTPROPERTY_TYPE_BYTE),
    (
        24,
        c"WILL_DELAY_INTERVAL",
        MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER,
    ),
    (25, c"REQUEST_RESPONSE_INFORMATION", MQTTPROPERTY_TYPE_BYTE),
    (
        26,
        c"RESPONSE_INFORMATION",
        MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING,
    ),
    (
        28,
        c"SERVER_REFERENCE",
        MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING,
    ),
    (31, c"REASON_STRING", MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING),
    (33, c"RECEIVE_MAXIMUM", MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER),
    (
        34,
        c"TOPIC_ALIAS_MAXIMUM",
        MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER,
    ),
    (35, c"TOPIC_ALIAS", MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER),
    (36, c"MAXIMUM_QOS", MQTTPROPERTY_TYPE_BYTE),
    (37, c"RETAIN_AVAILABLE", MQTTPROPERTY_TYPE_BYTE),
    (38, c"USER_PROPERTY", MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR),
    (
        39,
        c"MAXIMUM_PACKET_SIZE",
        MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER,
    ),
    (
        40,
        c"WILDCARD_SUBSCRIPTION_AVAILABLE",
        MQTTPROPERTY_TYPE_BYTE,
    ),
    (
        41,
        c"SUBSCRIPTION_IDENTIFIERS_AVAILABLE",
        MQTTPROPERTY_TYPE_BYTE,
    ),
    (42, c"SHARED_SUBSCRIPTION_AVAILABLE", MQTTPROPERTY_TYPE_BYTE),
];

fn entry(id: c_int) -> Option<&'static (c_int, &'static CStr, MQTTPropertyTypes)> {
    TABLE.iter().find(|e| e.0 == id)
}

/// The value type of property `id`, or None if `id` is not a property.
pub(crate) fn property_type(id: c_int) -> Option<MQTTPropertyTypes> {
    entry(id).map(|e| e.2)
}

/// The printable name of property `id`.
pub(crate) fn property_name(id: c_int) -> Option<&'static CStr> {
    entry(id).map(|e| e.1)
}

/// Bytes a variable byte integer takes on the wire (1..=4; 4 for larger values).
pub(crate) fn vbi_len(v: u64) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}
