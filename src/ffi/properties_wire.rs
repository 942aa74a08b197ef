//! MQTTProperties_write/_read: a C property list to and from its MQTT 5
//! wire form (length prefix, then identifier/value pairs). Paho declares
//! these in MQTTProperties.h for its own packet code; we provide them too.

use std::ffi::{c_char, c_int};

use super::guard::guard_or;
use super::properties::{add, entries, free};
use super::property_table::{property_type, vbi_value};
use super::types::MQTTPropertyTypes::*;
use super::types::{MQTTLenString, MQTTProperties, MQTTProperty, MQTTProperty_value};
use crate::protocol::codec::varint::{read_varint, write_varint};

/// Append a variable byte integer (the codec's encoding, clamped as the C
/// API's sizes count it).
fn put_vbi(out: &mut Vec<u8>, v: u32) {
    write_varint(vbi_value(v), out);
}

fn put_len_string(out: &mut Vec<u8>, s: &MQTTLenString) {
    // SAFETY: C promises `len` readable bytes at `data`.
    let bytes = unsafe { super::guard::bytes(s.data.cast(), s.len) };
    let bytes = &bytes[..bytes.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The wire form of one property (unknown identifiers are skipped).
fn put_property(out: &mut Vec<u8>, p: &MQTTProperty) {
    let Some(ty) = property_type(p.identifier) else {
        return;
    };
    out.push(p.identifier as u8);
    // SAFETY: the member read is the one the identifier's type selects.
    unsafe {
        match ty {
            MQTTPROPERTY_TYPE_BYTE => out.push(p.value.byte),
            MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER => {
                out.extend_from_slice(&p.value.integer2.to_be_bytes())
            }
            MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER => {
                out.extend_from_slice(&p.value.integer4.to_be_bytes())
            }
            MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER => put_vbi(out, p.value.integer4),
            MQTTPROPERTY_TYPE_BINARY_DATA | MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING => {
                put_len_string(out, &p.value.data.data)
            }
            MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR => {
                put_len_string(out, &p.value.data.data);
                put_len_string(out, &p.value.data.value);
            }
        }
    }
}

/// The wire form of a list: length prefix plus properties.
///
/// # Safety
/// `props` NULL or a valid list.
pub(crate) unsafe fn encode(props: *const MQTTProperties) -> Vec<u8> {
    let mut body = Vec::new();
    // SAFETY: forwarded contract.
    for p in unsafe { entries(props) } {
        put_property(&mut body, p);
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    put_vbi(&mut out, body.len() as u32);
    out.extend_from_slice(&body);
    out
}

/// A cursor over received bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn vbi(&mut self) -> Option<u32> {
        let (value, len) = read_varint(self.0).ok()??;
        self.take(len)?;
        Some(value)
    }
    /// A length-prefixed string, pointing into the input (copied by `add`).
    fn len_string(&mut self) -> Option<MQTTLenString> {
        let n = usize::from(self.u16()?);
        let data = self.take(n)?;
        Some(MQTTLenString {
            len: n as c_int,
            data: data.as_ptr().cast_mut().cast(),
        })
    }
}

/// Parse one property; None when the bytes are malformed.
fn read_property(r: &mut Reader<'_>) -> Option<MQTTProperty> {
    let id = r.vbi()? as c_int;
    let empty = MQTTLenString {
        len: 0,
        data: std::ptr::null_mut(),
    };
    let mut value = MQTTProperty_value {
        data: super::types::MQTTLenStringPair {
            data: empty,
            value: empty,
        },
    };
    match property_type(id)? {
        MQTTPROPERTY_TYPE_BYTE => value.byte = r.u8()?,
        MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER => value.integer2 = r.u16()?,
        MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER => value.integer4 = r.u32()?,
        MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER => value.integer4 = r.vbi()?,
        MQTTPROPERTY_TYPE_BINARY_DATA | MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING => {
            value.data.data = r.len_string()?;
        }
        MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR => {
            value.data.data = r.len_string()?;
            value.data.value = r.len_string()?;
        }
    }
    Some(MQTTProperty {
        identifier: id,
        value,
    })
}

/// Parse a whole list (length prefix included) from `input`, appending to
/// `props`. Returns the bytes consumed.
///
/// # Safety
/// `props` must be a valid list.
pub(crate) unsafe fn decode(props: *mut MQTTProperties, input: &[u8]) -> Option<usize> {
    let mut r = Reader(input);
    let len = r.vbi()? as usize;
    let prefix = input.len() - r.0.len();
    let mut body = Reader(r.take(len)?);
    while !body.0.is_empty() {
        let p = read_property(&mut body)?;
        // SAFETY: `props` valid per the caller; `p` borrows `input`, which `add` copies.
        if unsafe { add(props, &p) } != 0 {
            return None;
        }
    }
    Some(prefix + len)
}

/// Write the list's wire form at `*pptr` and advance it; returns the
/// number of bytes written. The buffer must hold MQTTProperties_len bytes.
/// cbindgen:prefix=
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_write(
    pptr: *mut *mut c_char,
    properties: *const MQTTProperties,
) -> c_int {
    guard_or(-1, || {
        if pptr.is_null() {
            return -1;
        }
        // SAFETY: `properties` from C, NULL-safe.
        let wire = unsafe { encode(properties) };
        // SAFETY: the caller provides a buffer of MQTTProperties_len bytes at `*pptr`.
        unsafe {
            let dst = *pptr;
            if dst.is_null() {
                return -1;
            }
            std::ptr::copy_nonoverlapping(wire.as_ptr(), dst.cast::<u8>(), wire.len());
            *pptr = dst.add(wire.len());
        }
        wire.len() as c_int
    })
}

/// Read a wire-form property list from `*pptr` (not past `enddata`) into
/// `properties`, advancing `*pptr`. Returns 1 on success, 0 on bad input.
/// cbindgen:prefix=
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_read(
    properties: *mut MQTTProperties,
    pptr: *mut *mut c_char,
    enddata: *mut c_char,
) -> c_int {
    guard_or(0, || {
        if properties.is_null() || pptr.is_null() || enddata.is_null() {
            return 0;
        }
        // SAFETY: non-NULL; C promises `*pptr..enddata` is a readable range.
        let (start, avail) = unsafe {
            let start = *pptr;
            if start.is_null() || enddata < start {
                return 0;
            }
            (start, enddata.offset_from(start) as usize)
        };
        // SAFETY: see above.
        let input = unsafe { std::slice::from_raw_parts(start.cast::<u8>(), avail) };
        // SAFETY: `properties` non-NULL and valid per the API contract.
        match unsafe { decode(properties, input) } {
            Some(used) => {
                // SAFETY: `used <= avail`, so the result stays in the range.
                unsafe { *pptr = start.add(used) };
                1
            }
            None => {
                // SAFETY: the list is valid; drop what a partial read added.
                unsafe { free(properties) };
                0
            }
        }
    })
}
