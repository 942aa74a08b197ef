//! Conversions between the C property list (MQTTProperties) and the codec's
//! `Properties`: C input is checked (UTF-8, known identifiers); output lists
//! are built with MQTTProperties_add so C frees them the usual way.

use std::ffi::c_int;

use bytes::Bytes;

use super::guard::FfiResult;
use super::properties::{add, entries, free};
use super::property_table::property_type;
use super::types::MQTTPropertyTypes::*;
use super::types::{
    MQTTCLIENT_BAD_UTF8_STRING, MQTTCLIENT_FAILURE, MQTTLenString, MQTTLenStringPair,
    MQTTProperties, MQTTProperty, MQTTProperty_value,
};
use crate::protocol::codec::{Properties, Property, PropertyId, PropertyValue};

fn len_bytes(s: &MQTTLenString) -> &[u8] {
    // SAFETY: C promises `len` readable bytes at `data`.
    unsafe { super::guard::bytes(s.data.cast(), s.len) }
}

fn len_str(s: &MQTTLenString) -> FfiResult<String> {
    std::str::from_utf8(len_bytes(s))
        .map(str::to_owned)
        .map_err(|_| MQTTCLIENT_BAD_UTF8_STRING)
}

/// The codec value of one C property.
fn value_of(p: &MQTTProperty) -> FfiResult<PropertyValue> {
    let ty = property_type(p.identifier).ok_or(MQTTCLIENT_FAILURE)?;
    // SAFETY: the member read is the one the identifier's type selects.
    unsafe {
        Ok(match ty {
            MQTTPROPERTY_TYPE_BYTE => PropertyValue::Byte(p.value.byte),
            MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER => PropertyValue::U16(p.value.integer2),
            MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER => PropertyValue::U32(p.value.integer4),
            MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER => PropertyValue::VarInt(p.value.integer4),
            MQTTPROPERTY_TYPE_BINARY_DATA => {
                PropertyValue::Binary(Bytes::copy_from_slice(len_bytes(&p.value.data.data)))
            }
            MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING => {
                PropertyValue::String(len_str(&p.value.data.data)?)
            }
            MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR => {
                PropertyValue::Pair(len_str(&p.value.data.data)?, len_str(&p.value.data.value)?)
            }
        })
    }
}

/// The codec form of a C list; NULL is the empty list. Strings must be
/// UTF-8 (MQTTCLIENT_BAD_UTF8_STRING) and identifiers known
/// (MQTTCLIENT_FAILURE).
///
/// # Safety
/// `props` NULL or a valid list.
pub(crate) unsafe fn from_c(props: *const MQTTProperties) -> FfiResult<Properties> {
    // SAFETY: forwarded contract.
    let list = unsafe { entries(props) };
    let list = list
        .iter()
        .map(|p| {
            Ok(Property {
                id: PropertyId(u8::try_from(p.identifier).map_err(|_| MQTTCLIENT_FAILURE)?),
                value: value_of(p)?,
            })
        })
        .collect::<FfiResult<Vec<_>>>()?;
    Ok(Properties { list })
}

/// A borrowed C view of a byte string (copied by `add`).
fn view(bytes: &[u8]) -> MQTTLenString {
    MQTTLenString {
        len: c_int::try_from(bytes.len()).unwrap_or(c_int::MAX),
        data: bytes.as_ptr().cast_mut().cast(),
    }
}

/// A C list (malloc'd entries and strings) holding `props`. Entries the C
/// API cannot represent (ids it does not know) are left out.
pub(crate) fn to_c(props: &Properties) -> MQTTProperties {
    let mut out = MQTTProperties::default();
    let empty = view(&[]);
    for p in &props.list {
        let mut value = MQTTProperty_value {
            data: MQTTLenStringPair {
                data: empty,
                value: empty,
            },
        };
        match &p.value {
            PropertyValue::Byte(b) => value.byte = *b,
            PropertyValue::U16(v) => value.integer2 = *v,
            PropertyValue::U32(v) | PropertyValue::VarInt(v) => value.integer4 = *v,
            PropertyValue::Binary(b) => value.data.data = view(b),
            PropertyValue::String(s) => value.data.data = view(s.as_bytes()),
            PropertyValue::Pair(k, v) => {
                value.data = MQTTLenStringPair {
                    data: view(k.as_bytes()),
                    value: view(v.as_bytes()),
                }
            }
        }
        let prop = MQTTProperty {
            identifier: c_int::from(p.id.0),
            value,
        };
        // SAFETY: `out` is a valid list; `prop` borrows `p`, which outlives the call.
        let rc = unsafe { add(&mut out, &prop) };
        if rc == MQTTCLIENT_FAILURE {
            // Out of memory: return what we have rather than a broken list.
            break;
        }
    }
    out
}

/// `to_c` in a malloc'd MQTTProperties (for MQTTResponse.properties), or
/// NULL if the list is empty or memory runs out.
pub(crate) fn to_c_boxed(props: &Properties) -> *mut MQTTProperties {
    if props.list.is_empty() {
        return std::ptr::null_mut();
    }
    // SAFETY: malloc of a plain-data struct size; checked for NULL below.
    let p = unsafe { libc::malloc(std::mem::size_of::<MQTTProperties>()) }.cast::<MQTTProperties>();
    if !p.is_null() {
        // SAFETY: `p` is a fresh allocation of the right size.
        unsafe { p.write(to_c(props)) };
    }
    p
}

/// Free a list made by `to_c_boxed`, and the box.
///
/// # Safety
/// `p` NULL or from `to_c_boxed`.
pub(crate) unsafe fn free_boxed(p: *mut MQTTProperties) {
    if !p.is_null() {
        // SAFETY: per the contract, `p` is a malloc'd valid list.
        unsafe {
            free(p);
            libc::free(p.cast());
        }
    }
}
