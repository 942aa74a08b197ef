//! The C callback wrappers, driven directly as the client's dispatcher
//! would: what C receives, who frees it, and what the client is told.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::client::sync::{Callbacks, Message};
use crate::ffi::client_callbacks::{CCallbacks, Context, disconnected, published};
use crate::ffi::mqttclient_misc::{MQTTClient_free, MQTTClient_freeMessage};
use crate::ffi::properties::MQTTProperties_getNumericValue;
use crate::ffi::types::*;
use crate::protocol::codec::{Properties, Property, PropertyId, PropertyValue, QoS, ReasonCode};

/// What the C side saw, written through the context pointer.
#[derive(Default)]
struct Seen {
    calls: AtomicI32,
    topic_len: AtomicI32,
    payload_len: AtomicI32,
    value: AtomicI32,
}

unsafe extern "C" fn take(
    ctx: *mut c_void,
    topic: *mut c_char,
    topic_len: c_int,
    msg: *mut MQTTClient_message,
) -> c_int {
    // SAFETY: the test passes a Seen as context; topic and message are ours to free.
    unsafe {
        let seen = &*ctx.cast::<Seen>();
        seen.calls.fetch_add(1, Ordering::SeqCst);
        seen.topic_len.store(topic_len, Ordering::SeqCst);
        seen.payload_len.store((*msg).payloadlen, Ordering::SeqCst);
        assert_eq!(CStr::from_ptr(topic).to_str(), Ok("a/b"));
        let mut m = msg;
        MQTTClient_freeMessage(&mut m);
        assert!(m.is_null());
        MQTTClient_free(topic.cast());
    }
    1
}

unsafe extern "C" fn refuse(
    ctx: *mut c_void,
    _: *mut c_char,
    _: c_int,
    _: *mut MQTTClient_message,
) -> c_int {
    // SAFETY: the test passes a Seen as context.
    unsafe { &*ctx.cast::<Seen>() }
        .calls
        .fetch_add(1, Ordering::SeqCst);
    0
}

unsafe extern "C" fn delivered(ctx: *mut c_void, dt: MQTTClient_deliveryToken) {
    // SAFETY: the test passes a Seen as context.
    unsafe { &*ctx.cast::<Seen>() }
        .value
        .store(dt, Ordering::SeqCst);
}

unsafe extern "C" fn lost(ctx: *mut c_void, cause: *mut c_char) {
    // SAFETY: the test passes a Seen as context; cause is NULL or a C string.
    unsafe {
        let n = if cause.is_null() {
            -1
        } else {
            CStr::from_ptr(cause).to_bytes().len() as c_int
        };
        (*ctx.cast::<Seen>()).value.store(n, Ordering::SeqCst);
    }
}

unsafe extern "C" fn on_disconnect(
    ctx: *mut c_void,
    props: *mut MQTTProperties,
    reason: enum_MQTTReasonCodes,
) {
    let expiry = MQTTPropertyCodes::MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL as c_int;
    let v = MQTTProperties_getNumericValue(props, expiry);
    // SAFETY: the test passes a Seen as context.
    unsafe { &*ctx.cast::<Seen>() }
        .value
        .store(v * 1000 + reason, Ordering::SeqCst);
}

unsafe extern "C" fn on_published(
    ctx: *mut c_void,
    dt: c_int,
    ptype: c_int,
    _: *mut MQTTProperties,
    reason: enum_MQTTReasonCodes,
) {
    // SAFETY: the test passes a Seen as context.
    unsafe { &*ctx.cast::<Seen>() }
        .value
        .store(dt * 10_000 + ptype * 1000 + reason, Ordering::SeqCst);
}

fn message() -> Message {
    Message {
        payload: bytes::Bytes::from_static(b"12345"),
        qos: QoS::AtLeastOnce,
        ..Message::default()
    }
}

fn callbacks(seen: &Seen, ma: MQTTClient_messageArrived) -> CCallbacks {
    CCallbacks {
        context: Context((seen as *const Seen).cast_mut().cast()),
        connection_lost: Some(lost),
        message_arrived: ma,
        delivery_complete: Some(delivered),
    }
}

#[test]
fn taken_messages_belong_to_c() {
    let seen = Seen::default();
    let cb = callbacks(&seen, Some(take));
    assert!(cb.message_arrived("a/b", &message()));
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        seen.topic_len.load(Ordering::SeqCst),
        0,
        "0 unless the topic holds NULs"
    );
    assert_eq!(seen.payload_len.load(Ordering::SeqCst), 5);
}

#[test]
fn refused_messages_are_offered_again() {
    let seen = Seen::default();
    let cb = callbacks(&seen, Some(refuse));
    assert!(!cb.message_arrived("a/b", &message()));
    assert!(!cb.message_arrived("a/b", &message()));
    assert_eq!(seen.calls.load(Ordering::SeqCst), 2);
}

#[test]
fn delivery_and_connection_lost_reach_c() {
    let seen = Seen::default();
    let cb = callbacks(&seen, Some(take));
    cb.delivery_complete(17);
    assert_eq!(seen.value.load(Ordering::SeqCst), 17);
    cb.connection_lost(None);
    assert_eq!(seen.value.load(Ordering::SeqCst), -1);
    cb.connection_lost(Some("socket closed"));
    assert_eq!(seen.value.load(Ordering::SeqCst), 13);
}

#[test]
fn mqtt5_callbacks_receive_properties_and_reason() {
    let seen = Seen::default();
    let ctx = Context((&seen as *const Seen).cast_mut().cast());
    let props = Properties {
        list: vec![Property {
            id: PropertyId::SESSION_EXPIRY_INTERVAL,
            value: PropertyValue::U32(7),
        }],
    };
    let f = disconnected(ctx, Some(on_disconnect)).expect("a callback");
    f(&props, ReasonCode::SERVER_SHUTTING_DOWN);
    assert_eq!(seen.value.load(Ordering::SeqCst), 7 * 1000 + 0x8B);
    let f = published(ctx, Some(on_published)).expect("a callback");
    f(
        3,
        4,
        &Properties::default(),
        ReasonCode::NO_MATCHING_SUBSCRIBERS,
    );
    assert_eq!(
        seen.value.load(Ordering::SeqCst),
        3 * 10_000 + 4 * 1000 + 0x10
    );
    assert!(disconnected(ctx, None).is_none());
}
