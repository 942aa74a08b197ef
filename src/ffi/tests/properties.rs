//! MQTTProperties_* behaviour, compared with what Paho C 1.3 does.

use std::ffi::{CStr, c_char, c_int};

use crate::ffi::properties::*;
use crate::ffi::properties_convert::{from_c, to_c};
use crate::ffi::properties_wire::{MQTTProperties_read, MQTTProperties_write};
use crate::ffi::reason_codes::MQTTReasonCode_toString;
use crate::ffi::types::*;
use crate::protocol::codec::{Properties, Property, PropertyId, PropertyValue};

fn empty() -> MQTTLenString {
    MQTTLenString {
        len: 0,
        data: std::ptr::null_mut(),
    }
}

fn int_prop(id: c_int, v: u32) -> MQTTProperty {
    let mut value = MQTTProperty_value {
        data: MQTTLenStringPair {
            data: empty(),
            value: empty(),
        },
    };
    value.integer4 = v;
    MQTTProperty {
        identifier: id,
        value,
    }
}

fn pair_prop(name: &[u8], val: &[u8]) -> MQTTProperty {
    let s = |b: &[u8]| MQTTLenString {
        len: b.len() as c_int,
        data: b.as_ptr().cast_mut().cast(),
    };
    MQTTProperty {
        identifier: MQTTPropertyCodes::MQTTPROPERTY_CODE_USER_PROPERTY as c_int,
        value: MQTTProperty_value {
            data: MQTTLenStringPair {
                data: s(name),
                value: s(val),
            },
        },
    }
}

const EXPIRY: c_int = MQTTPropertyCodes::MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL as c_int;
const SUB_ID: c_int = MQTTPropertyCodes::MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER as c_int;
const USER: c_int = MQTTPropertyCodes::MQTTPROPERTY_CODE_USER_PROPERTY as c_int;
const ALIAS: c_int = MQTTPropertyCodes::MQTTPROPERTY_CODE_TOPIC_ALIAS as c_int;

#[test]
fn add_rejects_unknown_ids_and_null() {
    let mut props = MQTTProperties::default();
    assert_eq!(
        MQTTProperties_add(&mut props, &int_prop(99, 1)),
        MQTT_INVALID_PROPERTY_ID
    );
    assert_eq!(
        MQTTProperties_add(&mut props, &int_prop(0, 1)),
        MQTT_INVALID_PROPERTY_ID
    );
    assert_eq!(
        MQTTProperties_add(std::ptr::null_mut(), &int_prop(EXPIRY, 1)),
        MQTTCLIENT_NULL_PARAMETER
    );
    assert_eq!(
        MQTTProperties_add(&mut props, std::ptr::null()),
        MQTTCLIENT_NULL_PARAMETER
    );
    assert_eq!(props.count, 0);
    assert!(props.array.is_null());
}

#[test]
fn add_tracks_wire_length_like_paho() {
    let mut props = MQTTProperties::default();
    assert_eq!(MQTTProperties_add(&mut props, &int_prop(EXPIRY, 77)), 0);
    assert_eq!((props.count, props.max_count, props.length), (1, 10, 5));
    assert_eq!(MQTTProperties_add(&mut props, &int_prop(SUB_ID, 200)), 0);
    assert_eq!(props.length, 8);
    assert_eq!(MQTTProperties_add(&mut props, &pair_prop(b"ab", b"xyz")), 0);
    assert_eq!(props.length, 18);
    assert_eq!(MQTTProperties_len(&mut props), 19);
    assert_eq!(MQTTProperties_len(std::ptr::null_mut()), 1);
    MQTTProperties_free(&mut props);
    assert_eq!((props.count, props.max_count, props.length), (0, 0, 0));
    assert!(props.array.is_null());
}

#[test]
fn add_grows_past_the_first_allocation_and_copies_strings() {
    let mut props = MQTTProperties::default();
    let name = b"key".to_vec();
    for i in 0..25 {
        assert_eq!(
            MQTTProperties_add(&mut props, &pair_prop(&name, format!("v{i}").as_bytes())),
            0
        );
    }
    assert_eq!((props.count, props.max_count), (25, 30));
    assert_eq!(MQTTProperties_propertyCount(&mut props, USER), 25);
    let p = MQTTProperties_getPropertyAt(&mut props, USER, 24);
    assert!(!p.is_null());
    // SAFETY: `p` points into the list; user properties use the string members.
    let (k, v) = unsafe { ((*p).value.data.data, (*p).value.data.value) };
    assert_ne!(
        k.data.cast::<u8>().cast_const(),
        name.as_ptr(),
        "the name must be a copy"
    );
    // SAFETY: copies are NUL-terminated C strings of `len` bytes.
    unsafe {
        assert_eq!(CStr::from_ptr(k.data).to_bytes(), b"key");
        assert_eq!(CStr::from_ptr(v.data).to_bytes(), b"v24");
    }
    MQTTProperties_free(&mut props);
}

#[test]
fn lookups_report_missing_and_non_numeric_values() {
    let mut props = MQTTProperties::default();
    MQTTProperties_add(&mut props, &int_prop(EXPIRY, 77));
    MQTTProperties_add(&mut props, &pair_prop(b"a", b"b"));
    assert_eq!(MQTTProperties_getNumericValue(&mut props, EXPIRY), 77);
    assert_eq!(
        MQTTProperties_getNumericValue(&mut props, ALIAS),
        -9_999_999
    );
    assert_eq!(MQTTProperties_getNumericValue(&mut props, USER), -999_999);
    assert_eq!(
        MQTTProperties_getNumericValueAt(&mut props, EXPIRY, 1),
        -9_999_999
    );
    assert_eq!(
        MQTTProperties_getNumericValueAt(&mut props, EXPIRY, -1),
        -9_999_999
    );
    assert_eq!(MQTTProperties_hasProperty(&mut props, USER), 1);
    assert_eq!(MQTTProperties_hasProperty(&mut props, ALIAS), 0);
    assert_eq!(MQTTProperties_hasProperty(std::ptr::null_mut(), USER), 0);
    assert!(MQTTProperties_getProperty(&mut props, ALIAS).is_null());
    assert!(MQTTProperties_getPropertyAt(&mut props, USER, 1).is_null());
    MQTTProperties_free(&mut props);
    MQTTProperties_free(std::ptr::null_mut());
}

#[test]
fn copy_is_deep() {
    let mut props = MQTTProperties::default();
    MQTTProperties_add(&mut props, &pair_prop(b"name", b"value"));
    MQTTProperties_add(&mut props, &int_prop(EXPIRY, 5));
    let mut copy = MQTTProperties_copy(&props);
    assert_eq!((copy.count, copy.length), (props.count, props.length));
    // SAFETY: both lists hold a user property first.
    unsafe {
        assert_ne!(
            (*copy.array).value.data.data.data,
            (*props.array).value.data.data.data
        );
    }
    MQTTProperties_free(&mut props);
    assert_eq!(MQTTProperties_getNumericValue(&mut copy, EXPIRY), 5);
    MQTTProperties_free(&mut copy);
    let none = MQTTProperties_copy(std::ptr::null());
    assert_eq!(none.count, 0);
}

#[test]
fn names_types_and_reason_texts() {
    let name = |id| {
        let p = MQTTPropertyName(id);
        // SAFETY: non-NULL names are static C strings.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
    };
    assert_eq!(name(1).as_deref(), Some("PAYLOAD_FORMAT_INDICATOR"));
    assert_eq!(name(18).as_deref(), Some("ASSIGNED_CLIENT_IDENTIFER"));
    assert_eq!(name(4), None);
    assert_eq!(
        MQTTProperty_getType(38),
        MQTTPropertyTypes::MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR as c_int
    );
    assert_eq!(
        MQTTProperty_getType(11),
        MQTTPropertyTypes::MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER as c_int
    );
    assert_eq!(MQTTProperty_getType(43), -1);
    let reason = |c| {
        let p = MQTTReasonCode_toString(c);
        // SAFETY: non-NULL texts are static C strings.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
    };
    assert_eq!(reason(0).as_deref(), Some("SUCCESS"));
    assert_eq!(reason(135).as_deref(), Some("Not authorized"));
    assert_eq!(reason(3), None);
    assert_eq!(reason(-1), None);
}

#[test]
fn names_and_types_are_the_codecs() {
    for id in -1..=300 {
        let codec = u8::try_from(id).ok().map(PropertyId);
        let name = MQTTPropertyName(id);
        let want = codec.and_then(PropertyId::name);
        // SAFETY: non-NULL names are static C strings.
        let got = (!name.is_null()).then(|| unsafe { CStr::from_ptr(name) }.to_str().unwrap());
        assert_eq!(got, want, "name of {id}");
        let known = codec.and_then(PropertyId::property_type).is_some();
        assert_eq!(MQTTProperty_getType(id) != -1, known, "type of {id}");
    }
    // 257 is not property 1 cut to a byte.
    assert_eq!(MQTTProperty_getType(257), -1);
    assert!(MQTTPropertyName(257).is_null());
}

#[test]
fn oversized_variable_byte_integers_write_what_len_counts() {
    let mut props = MQTTProperties::default();
    MQTTProperties_add(&mut props, &int_prop(SUB_ID, u32::MAX));
    // Identifier + 4 bytes, plus one length byte.
    let len = MQTTProperties_len(&mut props) as usize;
    assert_eq!(len, 6);
    let mut buf = vec![0u8; len + 1];
    let mut ptr = buf.as_mut_ptr().cast::<c_char>();
    assert_eq!(MQTTProperties_write(&mut ptr, &props) as usize, len);
    assert_eq!(buf[len], 0, "nothing written past MQTTProperties_len");
    let mut back = MQTTProperties::default();
    let mut rp = buf.as_mut_ptr().cast::<c_char>();
    // SAFETY: inside `buf`.
    let end = unsafe { buf.as_mut_ptr().add(len) }.cast::<c_char>();
    assert_eq!(MQTTProperties_read(&mut back, &mut rp, end), 1);
    assert_eq!(
        MQTTProperties_getNumericValue(&mut back, SUB_ID),
        268_435_455,
        "written as the largest variable byte integer"
    );
    MQTTProperties_free(&mut props);
    MQTTProperties_free(&mut back);
}

#[test]
fn write_then_read_round_trips() {
    let mut props = MQTTProperties::default();
    MQTTProperties_add(&mut props, &int_prop(EXPIRY, 0x0102_0304));
    MQTTProperties_add(&mut props, &int_prop(SUB_ID, 300));
    MQTTProperties_add(&mut props, &pair_prop(b"k", b"v"));
    let len = MQTTProperties_len(&mut props) as usize;
    let mut buf = vec![0u8; len];
    let mut ptr = buf.as_mut_ptr().cast::<c_char>();
    assert_eq!(MQTTProperties_write(&mut ptr, &props) as usize, len);
    assert_eq!(buf[0] as usize, len - 1);
    assert_eq!(&buf[1..6], &[2, 1, 2, 3, 4]);
    let mut back = MQTTProperties::default();
    let mut rp = buf.as_mut_ptr().cast::<c_char>();
    // SAFETY: one past the end of `buf`.
    let end = unsafe { buf.as_mut_ptr().add(len) }.cast::<c_char>();
    assert_eq!(MQTTProperties_read(&mut back, &mut rp, end), 1);
    assert_eq!(rp, end);
    assert_eq!((back.count, back.length), (3, props.length));
    assert_eq!(MQTTProperties_getNumericValue(&mut back, SUB_ID), 300);
    // A truncated buffer is rejected and leaves nothing behind.
    let mut short = MQTTProperties::default();
    let mut rp = buf.as_mut_ptr().cast::<c_char>();
    // SAFETY: inside `buf`.
    let cut = unsafe { buf.as_mut_ptr().add(len - 1) }.cast::<c_char>();
    assert_eq!(MQTTProperties_read(&mut short, &mut rp, cut), 0);
    assert_eq!(short.count, 0);
    MQTTProperties_free(&mut props);
    MQTTProperties_free(&mut back);
}

#[test]
fn conversion_to_and_from_the_codec() {
    let rust = Properties {
        list: vec![
            Property {
                id: PropertyId::CONTENT_TYPE,
                value: PropertyValue::String("text/plain".into()),
            },
            Property {
                id: PropertyId::USER_PROPERTY,
                value: PropertyValue::Pair("a".into(), "b".into()),
            },
            Property {
                id: PropertyId::CORRELATION_DATA,
                value: PropertyValue::Binary(vec![0, 255].into()),
            },
            Property {
                id: PropertyId::RECEIVE_MAXIMUM,
                value: PropertyValue::U16(20),
            },
            Property {
                id: PropertyId::MAXIMUM_QOS,
                value: PropertyValue::Byte(1),
            },
            Property {
                id: PropertyId::SUBSCRIPTION_IDENTIFIER,
                value: PropertyValue::VarInt(9),
            },
        ],
    };
    let mut c = to_c(&rust);
    assert_eq!(c.count, 6);
    // SAFETY: `c` is a valid list.
    assert_eq!(unsafe { from_c(&c) }, Ok(rust));
    MQTTProperties_free(&mut c);
    // SAFETY: NULL is the empty list.
    assert_eq!(
        unsafe { from_c(std::ptr::null()) },
        Ok(Properties::default())
    );
}

#[test]
fn conversion_rejects_bad_utf8() {
    let mut c = MQTTProperties::default();
    MQTTProperties_add(&mut c, &pair_prop(b"\xff", b"v"));
    // SAFETY: `c` is a valid list.
    assert_eq!(unsafe { from_c(&c) }, Err(MQTTCLIENT_BAD_UTF8_STRING));
    MQTTProperties_free(&mut c);
}
