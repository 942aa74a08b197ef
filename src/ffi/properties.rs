//! MQTTProperties.h functions: the growable C property list (add, copy,
//! free, lookups), property names/types and the wire-size helper. Memory the
//! list owns comes from the C allocator, as C code may free it itself.

use std::ffi::{c_char, c_int};
use std::ptr;

use super::guard::{guard_or, malloc_bytes};
use super::property_table::{property_name, property_type, vbi_len};
use super::types::MQTTPropertyTypes::*;
use super::types::{
    MQTT_INVALID_PROPERTY_ID, MQTTCLIENT_FAILURE, MQTTCLIENT_NULL_PARAMETER, MQTTLenString,
    MQTTProperties, MQTTProperty, MQTTPropertyTypes, enum_MQTTPropertyCodes,
};

/// Entries added to the array each time it grows.
const GROW_BY: c_int = 10;
/// MQTTProperties_getNumericValue(At): no such property.
const NOT_FOUND: c_int = -9_999_999;
/// MQTTProperties_getNumericValue(At): the property is not numeric.
const NOT_NUMERIC: c_int = -999_999;

/// The entries of a list as a slice (empty for NULL or an inconsistent list).
///
/// # Safety
/// `props` must be NULL or a valid list whose array holds `count` entries.
pub(crate) unsafe fn entries<'a>(props: *const MQTTProperties) -> &'a [MQTTProperty] {
    if props.is_null() {
        return &[];
    }
    // SAFETY: non-NULL per check; the caller vouches for validity.
    let p = unsafe { &*props };
    match usize::try_from(p.count) {
        Ok(n) if n > 0 && !p.array.is_null() => {
            // SAFETY: the array holds `count` initialised entries.
            unsafe { std::slice::from_raw_parts(p.array, n) }
        }
        _ => &[],
    }
}

/// Bytes one property takes on the wire, identifier included.
fn encoded_len(ty: MQTTPropertyTypes, prop: &MQTTProperty) -> c_int {
    // SAFETY: the union member read is the one `ty` selects; all members
    // are plain data, so any bit pattern is a valid value.
    let value_len = unsafe {
        match ty {
            MQTTPROPERTY_TYPE_BYTE => 1,
            MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER => 2,
            MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER => 4,
            MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER => vbi_len(prop.value.integer4) as c_int,
            MQTTPROPERTY_TYPE_BINARY_DATA | MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING => {
                2 + prop.value.data.data.len.max(0)
            }
            MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR => {
                4 + prop.value.data.data.len.max(0) + prop.value.data.value.len.max(0)
            }
        }
    };
    1 + value_len
}

/// A malloc'd copy of a length-prefixed string (NUL-terminated for
/// convenience). Fails only when memory runs out.
fn dup_len_string(s: &MQTTLenString) -> Result<MQTTLenString, ()> {
    let len = s.len.max(0);
    // SAFETY: C promises `len` readable bytes at `data` (NULL is treated as empty).
    let src = unsafe { super::guard::bytes(s.data.cast(), len) };
    let data = malloc_bytes(src);
    if data.is_null() {
        return Err(());
    }
    Ok(MQTTLenString {
        len: src.len() as c_int,
        data,
    })
}

/// Release the strings one property owns.
fn free_owned(prop: &MQTTProperty) {
    let Some(ty) = property_type(prop.identifier) else {
        return;
    };
    // SAFETY: string members are active for these types and were allocated
    // with malloc by `add`; free(NULL) is a no-op.
    unsafe {
        match ty {
            MQTTPROPERTY_TYPE_BINARY_DATA | MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING => {
                libc::free(prop.value.data.data.data.cast());
            }
            MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR => {
                libc::free(prop.value.data.data.data.cast());
                libc::free(prop.value.data.value.data.cast());
            }
            _ => {}
        }
    }
}

/// Append a deep copy of `prop` to `props`.
///
/// # Safety
/// Both pointers valid (checked for NULL); `props` built by this library or
/// zero-initialised.
pub(crate) unsafe fn add(props: *mut MQTTProperties, prop: *const MQTTProperty) -> c_int {
    if props.is_null() || prop.is_null() {
        return MQTTCLIENT_NULL_PARAMETER;
    }
    // SAFETY: both non-NULL, valid per the caller.
    let (list, prop) = unsafe { (&mut *props, &*prop) };
    let Some(ty) = property_type(prop.identifier) else {
        return MQTT_INVALID_PROPERTY_ID;
    };
    if list.count < 0 || list.max_count < list.count || (list.array.is_null() && list.count != 0) {
        return MQTTCLIENT_FAILURE;
    }
    if list.array.is_null() || list.count == list.max_count {
        let new_max = if list.array.is_null() {
            GROW_BY
        } else {
            list.max_count.saturating_add(GROW_BY)
        };
        let size = std::mem::size_of::<MQTTProperty>() * new_max as usize;
        // SAFETY: realloc of NULL is malloc; the old block came from the C allocator.
        let grown = unsafe { libc::realloc(list.array.cast(), size) }.cast::<MQTTProperty>();
        if grown.is_null() {
            return MQTTCLIENT_FAILURE;
        }
        list.array = grown;
        list.max_count = new_max;
    }
    let mut copy = *prop;
    // SAFETY: for string types the `data` member is the active one.
    let strings = unsafe { prop.value.data };
    let duplicated = match ty {
        MQTTPROPERTY_TYPE_BINARY_DATA | MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING => {
            dup_len_string(&strings.data).map(|d| copy.value.data.data = d)
        }
        MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR => match dup_len_string(&strings.data) {
            Ok(name) => match dup_len_string(&strings.value) {
                Ok(value) => {
                    copy.value.data.data = name;
                    copy.value.data.value = value;
                    Ok(())
                }
                Err(()) => {
                    // SAFETY: `name` was just allocated with malloc.
                    unsafe { libc::free(name.data.cast()) };
                    Err(())
                }
            },
            Err(()) => Err(()),
        },
        _ => Ok(()),
    };
    if duplicated.is_err() {
        return MQTTCLIENT_FAILURE;
    }
    // SAFETY: count < max_count, so the slot is inside the allocation.
    unsafe { list.array.add(list.count as usize).write(copy) };
    list.count += 1;
    list.length = list.length.saturating_add(encoded_len(ty, &copy));
    0
}

/// Release everything `props` owns and reset it to empty.
///
/// # Safety
/// `props` NULL or a list built by this library.
pub(crate) unsafe fn free(props: *mut MQTTProperties) {
    if props.is_null() {
        return;
    }
    // SAFETY: the caller vouches for the list.
    for prop in unsafe { entries(props) } {
        free_owned(prop);
    }
    // SAFETY: non-NULL; the array came from the C allocator.
    unsafe {
        libc::free((*props).array.cast());
        props.write(MQTTProperties::default());
    }
}

/// The `index`-th (from 0) property with identifier `id`.
///
/// # Safety
/// `props` NULL or a valid list.
unsafe fn find(props: *const MQTTProperties, id: c_int, index: c_int) -> Option<*mut MQTTProperty> {
    let index = usize::try_from(index).ok()?;
    // SAFETY: forwarded contract.
    let list = unsafe { entries(props) };
    let pos = list
        .iter()
        .enumerate()
        .filter(|(_, p)| p.identifier == id)
        .nth(index)?
        .0;
    // SAFETY: `pos` is inside the non-empty array, which is non-NULL.
    Some(unsafe { (*props).array.add(pos) })
}

/// Add a copy of `prop` (strings are duplicated) to the list, growing its
/// array as needed. Returns 0, MQTT_INVALID_PROPERTY_ID for an unknown
/// identifier, or a negative code for NULL arguments or lack of memory.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_add(
    props: *mut MQTTProperties,
    prop: *const MQTTProperty,
) -> c_int {
    // SAFETY: pointers come from C; `add` checks for NULL.
    guard_or(MQTTCLIENT_FAILURE, || unsafe { add(props, prop) })
}

/// Free the strings and array the list owns and reset it to empty.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_free(properties: *mut MQTTProperties) {
    // SAFETY: pointer from C; `free` checks for NULL.
    guard_or((), || unsafe { free(properties) })
}

/// A deep copy of the list (an empty list for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_copy(props: *const MQTTProperties) -> MQTTProperties {
    guard_or(MQTTProperties::default(), || {
        let mut out = MQTTProperties::default();
        // SAFETY: pointer from C, NULL gives no entries.
        for prop in unsafe { entries(props) } {
            // SAFETY: `out` is a valid list and `prop` a valid entry.
            if unsafe { add(&mut out, prop) } != 0 {
                // SAFETY: `out` was built by `add`.
                unsafe { free(&mut out) };
                break;
            }
        }
        out
    })
}

/// 1 if the list has a property with identifier `propid`, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_hasProperty(
    props: *mut MQTTProperties,
    propid: enum_MQTTPropertyCodes,
) -> c_int {
    // SAFETY: pointer from C, NULL-safe.
    guard_or(0, || unsafe { find(props, propid, 0) }.is_some() as c_int)
}

/// How many properties with identifier `propid` the list has.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_propertyCount(
    props: *mut MQTTProperties,
    propid: enum_MQTTPropertyCodes,
) -> c_int {
    guard_or(0, || {
        // SAFETY: pointer from C, NULL-safe.
        let n = unsafe { entries(props) }
            .iter()
            .filter(|p| p.identifier == propid)
            .count();
        c_int::try_from(n).unwrap_or(c_int::MAX)
    })
}

/// The value of the `index`-th numeric property `propid`; -9999999 when
/// there is none, -999999 when the property is not numeric.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_getNumericValueAt(
    props: *mut MQTTProperties,
    propid: enum_MQTTPropertyCodes,
    index: c_int,
) -> c_int {
    guard_or(NOT_FOUND, || {
        // SAFETY: pointer from C, NULL-safe.
        let Some(p) = (unsafe { find(props, propid, index) }) else {
            return NOT_FOUND;
        };
        // SAFETY: `p` points into the list; the member read matches the type.
        unsafe {
            match property_type(propid) {
                Some(MQTTPROPERTY_TYPE_BYTE) => c_int::from((*p).value.byte),
                Some(MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER) => c_int::from((*p).value.integer2),
                Some(
                    MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER | MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER,
                ) => (*p).value.integer4 as c_int,
                _ => NOT_NUMERIC,
            }
        }
    })
}

/// MQTTProperties_getNumericValueAt with index 0.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_getNumericValue(
    props: *mut MQTTProperties,
    propid: enum_MQTTPropertyCodes,
) -> c_int {
    MQTTProperties_getNumericValueAt(props, propid, 0)
}

/// The `index`-th property `propid` in the list (owned by the list), or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_getPropertyAt(
    props: *mut MQTTProperties,
    propid: enum_MQTTPropertyCodes,
    index: c_int,
) -> *mut MQTTProperty {
    // SAFETY: pointer from C, NULL-safe.
    guard_or(ptr::null_mut(), || {
        unsafe { find(props, propid, index) }.unwrap_or(ptr::null_mut())
    })
}

/// The first property `propid` in the list, or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_getProperty(
    props: *mut MQTTProperties,
    propid: enum_MQTTPropertyCodes,
) -> *mut MQTTProperty {
    MQTTProperties_getPropertyAt(props, propid, 0)
}

/// The name of property `value` (e.g. "USER_PROPERTY"), or NULL if unknown.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTPropertyName(value: enum_MQTTPropertyCodes) -> *const c_char {
    property_name(value).map_or(ptr::null(), |n| n.as_ptr())
}

/// The MQTTPropertyTypes value of property `value`, or -1 if unknown.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperty_getType(value: enum_MQTTPropertyCodes) -> c_int {
    property_type(value).map_or(-1, |t| t as c_int)
}

/// Encoded size of the list including its length prefix (1 for NULL).
/// cbindgen:prefix=
#[unsafe(no_mangle)]
pub extern "C" fn MQTTProperties_len(props: *mut MQTTProperties) -> c_int {
    guard_or(1, || {
        if props.is_null() {
            return 1;
        }
        // SAFETY: non-NULL pointer from C.
        let length = unsafe { (*props).length }.max(0);
        length + vbi_len(length as u32) as c_int
    })
}
