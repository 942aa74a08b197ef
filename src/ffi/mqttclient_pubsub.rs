//! MQTTClient.h message calls: subscribe, unsubscribe, publish (plain, `*5`
//! and *Many forms), waitForCompletion, getPendingDeliveryTokens, receive
//! and yield. Checks and conversions here, the work in `client::sync`.

#![allow(non_snake_case)]

use std::ffi::{c_char, c_int, c_void};
use std::time::Duration;

use super::client_convert::{malloc_message, message_fields, payload, topic, topics};
use super::guard::{
    FfiResult, checked_version, guard_or, guard_rc, qos, read_field, write_pending_tokens,
};
use super::handle::{
    Handle, code, guard_response, handle_ref, live, response_code, response_from, response_single,
};
use super::properties_convert::from_c;
use super::types::{
    MQTT_BAD_SUBSCRIBE, MQTTCLIENT_FAILURE, MQTTCLIENT_NULL_PARAMETER, MQTTCLIENT_SUCCESS,
    MQTTCLIENT_WRONG_MQTT_VERSION, MQTTClient, MQTTClient_deliveryToken, MQTTClient_message,
    MQTTProperties, MQTTResponse, MQTTSubscribe_options,
};
use crate::client::sync::AckResult;
use crate::protocol::codec::SubscriptionOptions;

/// Milliseconds from a C unsigned long (32 bits on some targets).
#[allow(clippy::useless_conversion)]
pub(crate) fn millis(ms: std::ffi::c_ulong) -> Duration {
    Duration::from_millis(u64::from(ms))
}

/// The handle for a call that a client created for MQTT 5 must not make.
///
/// # Safety
/// As [`handle`].
unsafe fn v3_handle<'a>(h: MQTTClient) -> FfiResult<&'a Handle> {
    // SAFETY: forwarded contract.
    let h = unsafe { handle_ref(h) }?;
    if h.is_v5() {
        return Err(MQTTCLIENT_WRONG_MQTT_VERSION);
    }
    Ok(h)
}

/// Subscription options for `count` filters from C QoS values and optional
/// MQTT 5 option structs (an array of `count`, or NULL for defaults).
///
/// # Safety
/// `qos` `count` ints; `opts` NULL or `count` structs.
pub(crate) unsafe fn sub_options(
    count: usize,
    qoss: *const c_int,
    opts: *const MQTTSubscribe_options,
) -> FfiResult<Vec<SubscriptionOptions>> {
    if qoss.is_null() {
        return Err(MQTTCLIENT_NULL_PARAMETER);
    }
    (0..count)
        .map(|i| {
            // SAFETY: C promises `count` QoS values.
            let qos = qos(unsafe { *qoss.add(i) })?;
            let mut o = SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            };
            if !opts.is_null() {
                // SAFETY: C promises `count` option structs.
                let p = unsafe { opts.add(i) };
                checked_version!(p, b"MQSO", 0)?;
                o.no_local = read_field!(p, noLocal) != 0;
                o.retain_as_published = read_field!(p, retainAsPublished) != 0;
                o.retain_handling = read_field!(p, retainHandling);
            }
            Ok(o)
        })
        .collect()
}

/// The shared body of every subscribe call.
///
/// # Safety
/// Pointers from C: NULL or valid for `count` entries.
unsafe fn subscribe_many(
    h: &Handle,
    count: c_int,
    topic_list: *const *mut c_char,
    qoss: *mut c_int,
    opts: *const MQTTSubscribe_options,
    props: *const MQTTProperties,
) -> FfiResult<AckResult> {
    // SAFETY: forwarded contract.
    let filters = unsafe { topics(count, topic_list) }?;
    // SAFETY: forwarded contract.
    let options = unsafe { sub_options(filters.len(), qoss, opts) }?;
    // SAFETY: forwarded contract.
    let props = unsafe { from_c(props) }?;
    let result = h
        .client
        .subscribe_many(filters.into_iter().zip(options).collect(), props)
        .map_err(code)?;
    if !h.is_v5() {
        // MQTT 3.x: report the granted QoS (or 0x80) in place, as Paho does.
        for (i, c) in result.codes.iter().take(count as usize).enumerate() {
            // SAFETY: `qoss` holds `count` ints.
            unsafe { *qoss.add(i) = c_int::from(c.0) };
        }
    }
    Ok(result)
}

/// Subscribe to `topic` with `qos` (MQTT 3.x clients). Returns 0,
/// MQTT_BAD_SUBSCRIBE when the server refused, or an error code.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_subscribe(
    handle: MQTTClient,
    topic: *const c_char,
    qos: c_int,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { v3_handle(handle) }?;
        let mut q = qos;
        let list = [topic.cast_mut()];
        // SAFETY: one topic and one QoS, both local.
        unsafe {
            subscribe_many(
                h,
                1,
                list.as_ptr(),
                &mut q,
                std::ptr::null(),
                std::ptr::null(),
            )
        }?;
        Ok(if q == MQTT_BAD_SUBSCRIBE {
            MQTT_BAD_SUBSCRIBE
        } else {
            MQTTCLIENT_SUCCESS
        })
    })
}

/// Subscribe to one topic with MQTT 5 options and properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_subscribe5(
    handle: MQTTClient,
    topic: *const c_char,
    qos: c_int,
    opts: *mut MQTTSubscribe_options,
    props: *mut MQTTProperties,
) -> MQTTResponse {
    guard_response(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        let mut q = qos;
        let list = [topic.cast_mut()];
        // SAFETY: one local topic and QoS; `opts`/`props` from C.
        let r = unsafe { subscribe_many(h, 1, list.as_ptr(), &mut q, opts, props) }?;
        if !h.is_v5() {
            return Ok(response_code(if q == MQTT_BAD_SUBSCRIBE {
                MQTT_BAD_SUBSCRIBE
            } else {
                MQTTCLIENT_SUCCESS
            }));
        }
        Ok(response_from(&r.codes, &r.properties))
    })
}

/// Subscribe to `count` topics; `qos` receives the granted QoS of each.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_subscribeMany(
    handle: MQTTClient,
    count: c_int,
    topic: *const *mut c_char,
    qos: *mut c_int,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { v3_handle(handle) }?;
        // SAFETY: arrays from C, NULL-checked inside.
        unsafe { subscribe_many(h, count, topic, qos, std::ptr::null(), std::ptr::null()) }?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Subscribe to `count` topics with per-topic MQTT 5 options (`opts` is an
/// array of `count`, or NULL) and properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_subscribeMany5(
    handle: MQTTClient,
    count: c_int,
    topic: *const *mut c_char,
    qos: *mut c_int,
    opts: *mut MQTTSubscribe_options,
    props: *mut MQTTProperties,
) -> MQTTResponse {
    guard_response(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: arrays from C, NULL-checked inside.
        let r = unsafe { subscribe_many(h, count, topic, qos, opts, props) }?;
        Ok(response_from(&r.codes, &r.properties))
    })
}

/// The shared body of every unsubscribe call.
///
/// # Safety
/// Pointers from C: NULL or valid for `count` entries.
unsafe fn unsubscribe_many(
    handle: MQTTClient,
    count: c_int,
    topic_list: *const *mut c_char,
    props: *const MQTTProperties,
) -> FfiResult<AckResult> {
    // SAFETY: forwarded contract.
    let h = unsafe { super::handle::handle_ref(handle) }?;
    // SAFETY: forwarded contract.
    let (filters, props) = unsafe { (topics(count, topic_list)?, from_c(props)?) };
    h.client.unsubscribe_many(filters, props).map_err(code)
}

/// Unsubscribe from `topic`.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_unsubscribe(handle: MQTTClient, topic: *const c_char) -> c_int {
    let list = [topic.cast_mut()];
    // SAFETY: one local topic pointer from C.
    guard_rc(|| {
        unsafe { unsubscribe_many(handle, 1, list.as_ptr(), std::ptr::null()) }
            .map(|_| MQTTCLIENT_SUCCESS)
    })
}

/// Unsubscribe from `topic` with MQTT 5 properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_unsubscribe5(
    handle: MQTTClient,
    topic: *const c_char,
    props: *mut MQTTProperties,
) -> MQTTResponse {
    let list = [topic.cast_mut()];
    guard_response(|| {
        // SAFETY: one local topic pointer and properties from C.
        let r = unsafe { unsubscribe_many(handle, 1, list.as_ptr(), props) }?;
        Ok(response_from(&r.codes, &r.properties))
    })
}

/// Unsubscribe from `count` topics.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_unsubscribeMany(
    handle: MQTTClient,
    count: c_int,
    topic: *const *mut c_char,
) -> c_int {
    // SAFETY: array from C, NULL-checked inside.
    guard_rc(|| {
        unsafe { unsubscribe_many(handle, count, topic, std::ptr::null()) }
            .map(|_| MQTTCLIENT_SUCCESS)
    })
}

/// Unsubscribe from `count` topics with MQTT 5 properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_unsubscribeMany5(
    handle: MQTTClient,
    count: c_int,
    topic: *const *mut c_char,
    props: *mut MQTTProperties,
) -> MQTTResponse {
    guard_response(|| {
        // SAFETY: array and properties from C, NULL-checked inside.
        let r = unsafe { unsubscribe_many(handle, count, topic, props) }?;
        Ok(response_from(&r.codes, &r.properties))
    })
}

/// The shared body of every publish call; writes `*dt` for QoS 1/2.
///
/// # Safety
/// Pointers from C: NULL or valid.
#[allow(clippy::too_many_arguments)]
unsafe fn publish(
    h: &Handle,
    topic_name: *const c_char,
    payloadlen: c_int,
    data: *const c_void,
    qos_value: c_int,
    retained: c_int,
    props: *const MQTTProperties,
    dt: *mut MQTTClient_deliveryToken,
) -> FfiResult<MQTTResponse> {
    // SAFETY: forwarded contract.
    let (topic, payload, props) = unsafe {
        (
            topic(topic_name)?,
            payload(payloadlen, data)?,
            from_c(props)?,
        )
    };
    let qos = qos(qos_value)?;
    let r = h
        .client
        .publish(topic, payload, qos, retained != 0, props)
        .map_err(code)?;
    if !dt.is_null() && qos_value > 0 {
        // SAFETY: non-NULL output pointer from C.
        unsafe { dt.write(r.token) };
    }
    Ok(response_single(r.reason, &r.properties))
}

/// Publish `payloadlen` bytes to `topicName` (MQTT 3.x clients); `*dt`
/// receives the delivery token for QoS 1 and 2.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_publish(
    handle: MQTTClient,
    topicName: *const c_char,
    payloadlen: c_int,
    payload: *const c_void,
    qos: c_int,
    retained: c_int,
    dt: *mut MQTTClient_deliveryToken,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle and buffers from C, checked inside.
        let h = unsafe { v3_handle(handle) }?;
        // SAFETY: as above.
        let r = unsafe {
            publish(
                h,
                topicName,
                payloadlen,
                payload,
                qos,
                retained,
                std::ptr::null(),
                dt,
            )
        }?;
        // SAFETY: `r` was built by response_from; release what it owns.
        unsafe { super::mqttclient_misc::free_response(r) };
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Publish with MQTT 5 properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_publish5(
    handle: MQTTClient,
    topicName: *const c_char,
    payloadlen: c_int,
    payload: *const c_void,
    qos: c_int,
    retained: c_int,
    properties: *mut MQTTProperties,
    dt: *mut MQTTClient_deliveryToken,
) -> MQTTResponse {
    guard_response(|| {
        // SAFETY: handle and buffers from C, checked inside.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: as above.
        unsafe {
            publish(
                h, topicName, payloadlen, payload, qos, retained, properties, dt,
            )
        }
    })
}

/// The fields of a message to publish, checked.
///
/// # Safety
/// `msg` NULL or a message of the version it declares.
unsafe fn publish_message(
    h: &Handle,
    topic_name: *const c_char,
    msg: *const MQTTClient_message,
    dt: *mut MQTTClient_deliveryToken,
) -> FfiResult<MQTTResponse> {
    let m = message_fields!(msg)?;
    // SAFETY: fields read from the checked message; buffers from C.
    unsafe {
        publish(
            h,
            topic_name,
            m.payloadlen,
            m.payload,
            m.qos,
            m.retained,
            m.properties,
            dt,
        )
    }
}

/// Publish a message struct to `topicName` (MQTT 3.x clients).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_publishMessage(
    handle: MQTTClient,
    topicName: *const c_char,
    msg: *mut MQTTClient_message,
    dt: *mut MQTTClient_deliveryToken,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { v3_handle(handle) }?;
        // SAFETY: message from C, checked inside.
        let r = unsafe { publish_message(h, topicName, msg, dt) }?;
        // SAFETY: `r` was built by response_from.
        unsafe { super::mqttclient_misc::free_response(r) };
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Publish a message struct, with its MQTT 5 properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_publishMessage5(
    handle: MQTTClient,
    topicName: *const c_char,
    msg: *mut MQTTClient_message,
    dt: *mut MQTTClient_deliveryToken,
) -> MQTTResponse {
    guard_response(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: message from C, checked inside.
        unsafe { publish_message(h, topicName, msg, dt) }
    })
}

/// Wait up to `timeout` ms for the publication with token `dt` to complete.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_waitForCompletion(
    handle: MQTTClient,
    dt: MQTTClient_deliveryToken,
    timeout: std::ffi::c_ulong,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        h.client
            .wait_for_completion(dt, millis(timeout))
            .map_err(code)?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// `*tokens` receives a malloc'd array of the tokens of incomplete
/// publications, ended by -1, or NULL when there are none.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_getPendingDeliveryTokens(
    handle: MQTTClient,
    tokens: *mut *mut MQTTClient_deliveryToken,
) -> c_int {
    guard_rc(|| {
        if tokens.is_null() {
            return Err(MQTTCLIENT_NULL_PARAMETER);
        }
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: `tokens` checked non-NULL above; an output pointer from C.
        unsafe { write_pending_tokens(tokens, &h.client.pending_tokens()) }?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Receive mode: wait up to `timeout` ms for a message. On success with a
/// message, `*topicName` and `*message` are malloc'd (free them with
/// MQTTClient_free and MQTTClient_freeMessage); on timeout both are NULL.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_receive(
    handle: MQTTClient,
    topicName: *mut *mut c_char,
    topicLen: *mut c_int,
    message: *mut *mut MQTTClient_message,
    timeout: std::ffi::c_ulong,
) -> c_int {
    guard_rc(|| {
        if topicName.is_null() || topicLen.is_null() || message.is_null() {
            return Err(MQTTCLIENT_NULL_PARAMETER);
        }
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        let (topic, msg, len) = match h.client.receive(millis(timeout)).map_err(code)? {
            None => (std::ptr::null_mut(), std::ptr::null_mut(), 0),
            Some((t, m)) => {
                let topic = super::guard::malloc_bytes(t.as_bytes());
                let msg = malloc_message(&m);
                if topic.is_null() || msg.is_null() {
                    // SAFETY: NULL or from malloc.
                    unsafe {
                        libc::free(topic.cast());
                        super::client_convert::free_message(msg);
                    }
                    return Err(MQTTCLIENT_FAILURE);
                }
                (topic, msg, c_int::try_from(t.len()).unwrap_or(c_int::MAX))
            }
        };
        // SAFETY: output pointers checked non-NULL above.
        unsafe {
            topicName.write(topic);
            topicLen.write(len);
            message.write(msg);
        }
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Give every client's queued work a chance to run (receive mode).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_yield() {
    guard_or((), || {
        let list = live();
        for &addr in list.iter() {
            // SAFETY: the registry holds only live handles, and destroy
            // cannot remove (and free) one while we hold the lock.
            let h = unsafe { &*(addr as *const Handle) };
            h.client.yield_now();
        }
    })
}
