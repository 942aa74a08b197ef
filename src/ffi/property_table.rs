//! The MQTT 5 property table as the C API sees it. The table itself (each
//! identifier's name and value type) is the codec's `PropertyId`; this file
//! only translates it to C: `c_int` identifiers, `MQTTPropertyTypes` and
//! NUL-terminated names, and sizes variable byte integers the way Paho's
//! fixed-size buffers expect.

use std::ffi::{CStr, CString, c_int};
use std::sync::OnceLock;

use super::types::MQTTPropertyTypes::{self, *};
use crate::protocol::codec::varint::{MAX_VARINT, varint_len};
use crate::protocol::codec::{PropertyId, PropertyType};

/// The codec identifier for a C identifier (None outside 0..=255).
fn property_id(id: c_int) -> Option<PropertyId> {
    u8::try_from(id).ok().map(PropertyId)
}

/// The value type of property `id`, or None if `id` is not a property.
pub(crate) fn property_type(id: c_int) -> Option<MQTTPropertyTypes> {
    Some(match property_id(id)?.property_type()? {
        PropertyType::Byte => MQTTPROPERTY_TYPE_BYTE,
        PropertyType::TwoByteInteger => MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER,
        PropertyType::FourByteInteger => MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER,
        PropertyType::VariableByteInteger => MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER,
        PropertyType::BinaryData => MQTTPROPERTY_TYPE_BINARY_DATA,
        PropertyType::Utf8String => MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING,
        PropertyType::Utf8StringPair => MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR,
    })
}

/// The printable name of property `id`, as a C string that lives for the
/// rest of the process (made once from the codec's names).
pub(crate) fn property_name(id: c_int) -> Option<&'static CStr> {
    static NAMES: OnceLock<Vec<(PropertyId, CString)>> = OnceLock::new();
    let id = property_id(id)?;
    let names = NAMES.get_or_init(|| {
        PropertyId::ALL
            .iter()
            .filter_map(|&id| Some((id, CString::new(id.name()?).ok()?)))
            .collect()
    });
    names
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| name.as_c_str())
}

/// A variable byte integer value as the C API writes it: values above the
/// protocol's maximum are written as the maximum, so the size
/// [`vbi_len`] reports (at most 4, as Paho's) is what is written.
pub(crate) fn vbi_value(v: u32) -> u32 {
    v.min(MAX_VARINT)
}

/// Bytes a variable byte integer takes on the wire in the C API (1..=4).
pub(crate) fn vbi_len(v: u32) -> usize {
    varint_len(vbi_value(v))
}
