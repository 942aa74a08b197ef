//! MQTTAsync.h request calls: send, sendMessage, subscribe(Many),
//! unsubscribe(Many), isComplete, waitForCompletion and getPendingTokens.
//! Each returns at once; the request's token goes to `response->token`.

#![allow(non_snake_case)]

use std::ffi::{c_char, c_int, c_ulong, c_void};

use super::async_convert::{ResponseRequest, response_options};
use super::async_handle::{AsyncHandle, async_code, async_ref};
use super::async_responses::Request;
use super::client_convert::{message_fields, payload, topic, topics};
use super::guard::{FfiResult, guard_rc, qos, read_field, write_pending_tokens};
use super::mqttclient_pubsub::{millis, sub_options};
use super::properties_convert::from_c;
use super::types::{
    MQTTASYNC_DISCONNECTED, MQTTASYNC_FAILURE, MQTTASYNC_NULL_PARAMETER, MQTTASYNC_SUCCESS,
    MQTTASYNC_TRUE, MQTTAsync, MQTTAsync_message, MQTTAsync_responseOptions, MQTTAsync_token,
    MQTTSubscribe_options,
};

/// Write the request's token back into the caller's response options.
fn set_token(response: *mut MQTTAsync_responseOptions, token: c_int) {
    if !response.is_null() {
        // SAFETY: non-NULL response options checked by `response_options`;
        // `token` is in every version.
        unsafe { std::ptr::addr_of_mut!((*response).token).write_unaligned(token) };
    }
}

/// The handle and checked response options of a request.
///
/// # Safety
/// Pointers from C: NULL or valid.
unsafe fn request<'a>(
    handle: MQTTAsync,
    response: *const MQTTAsync_responseOptions,
) -> FfiResult<(&'a AsyncHandle, ResponseRequest)> {
    // SAFETY: handle from C.
    let h = unsafe { async_ref(handle) }?;
    // SAFETY: options from C, checked inside.
    let r = unsafe { response_options(response, h.is_v5()) }?;
    Ok((h, r))
}

/// The shared body of send and sendMessage.
///
/// # Safety
/// Pointers from C: NULL or valid.
#[allow(clippy::too_many_arguments)]
unsafe fn send(
    handle: MQTTAsync,
    destination: *const c_char,
    len: c_int,
    data: *const c_void,
    qos_value: c_int,
    retained: c_int,
    message_properties: *const super::types::MQTTProperties,
    response: *mut MQTTAsync_responseOptions,
) -> FfiResult<c_int> {
    // SAFETY: handle from C.
    let h = unsafe { async_ref(handle) }?;
    // As Paho, a client that cannot send now says so before the arguments
    // are looked at.
    if !h.offline && !h.client.is_connected() {
        return Err(MQTTASYNC_DISCONNECTED);
    }
    // SAFETY: options from C, checked inside.
    let r = unsafe { response_options(response, h.is_v5()) }?;
    // SAFETY: C string from the caller, NULL-checked inside.
    let t = unsafe { topic(destination) }?;
    let q = qos(qos_value)?;
    // SAFETY: `len` bytes at `data` per the caller.
    let body = unsafe { payload(len, data) }?;
    // SAFETY: NULL or a valid list.
    let mut props = unsafe { from_c(message_properties) }?;
    if props.is_empty() {
        props = r.properties.clone();
    }
    let token = h
        .client
        .send(
            t,
            body,
            q,
            retained != 0,
            props,
            r.responders.on_complete(Request::Publish),
        )
        .map_err(async_code)?;
    set_token(response, token);
    Ok(MQTTASYNC_SUCCESS)
}

/// Publish `payloadlen` bytes to `destinationName`; completion (for QoS 0,
/// once handed to the connection) comes to response's callbacks.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_send(
    handle: MQTTAsync,
    destinationName: *const c_char,
    payloadlen: c_int,
    payload: *const c_void,
    qos: c_int,
    retained: c_int,
    response: *mut MQTTAsync_responseOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: pointers from C, checked inside.
        unsafe {
            send(
                handle,
                destinationName,
                payloadlen,
                payload,
                qos,
                retained,
                std::ptr::null(),
                response,
            )
        }
    })
}

/// Publish a message struct to `destinationName`.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_sendMessage(
    handle: MQTTAsync,
    destinationName: *const c_char,
    msg: *const MQTTAsync_message,
    response: *mut MQTTAsync_responseOptions,
) -> c_int {
    guard_rc(|| {
        if handle.is_null() {
            return Err(MQTTASYNC_FAILURE);
        }
        let m = message_fields!(msg)?;
        // SAFETY: fields of the checked message; buffers from C.
        unsafe {
            send(
                handle,
                destinationName,
                m.payloadlen,
                m.payload,
                m.qos,
                m.retained,
                m.properties,
                response,
            )
        }
    })
}

/// The shared body of subscribe and subscribeMany.
///
/// # Safety
/// Pointers from C: NULL or valid for `count` entries.
unsafe fn subscribe(
    handle: MQTTAsync,
    count: c_int,
    filters: *const *mut c_char,
    qoss: *const c_int,
    response: *mut MQTTAsync_responseOptions,
    single: bool,
) -> FfiResult<c_int> {
    // SAFETY: forwarded contract.
    let (h, r) = unsafe { request(handle, response) }?;
    // SAFETY: `count` C strings per the caller.
    let names = unsafe { topics(count, filters) }?;
    // MQTT 5 subscription options: one struct for subscribe, a list for
    // subscribeMany (used when its count matches).
    let mut opts: *const MQTTSubscribe_options = std::ptr::null();
    if r.version >= 1 && h.is_v5() {
        if single {
            // SAFETY: version 1 response options have `subscribeOptions`.
            opts = unsafe { std::ptr::addr_of!((*response).subscribeOptions) };
        } else if read_field!(response, subscribeOptionsCount) == count {
            opts = read_field!(response, subscribeOptionsList);
        }
    }
    // SAFETY: `count` QoS values and NULL or `count` option structs.
    let options = unsafe { sub_options(names.len(), qoss, opts) }?;
    let token = h
        .client
        .subscribe_many(
            names.into_iter().zip(options).collect(),
            r.properties.clone(),
            r.responders.on_complete(Request::Subscribe(count as usize)),
        )
        .map_err(async_code)?;
    set_token(response, token);
    Ok(MQTTASYNC_SUCCESS)
}

/// Subscribe to one filter; onSuccess gets the granted QoS in `alt.qos`.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_subscribe(
    handle: MQTTAsync,
    topic: *const c_char,
    qos: c_int,
    response: *mut MQTTAsync_responseOptions,
) -> c_int {
    let filters = [topic.cast_mut()];
    // SAFETY: one filter and one QoS, both local.
    guard_rc(|| unsafe { subscribe(handle, 1, filters.as_ptr(), &qos, response, true) })
}

/// Subscribe to `count` filters; onSuccess gets the granted QoS list in
/// `alt.qosList` (or `alt.qos` for one filter).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_subscribeMany(
    handle: MQTTAsync,
    count: c_int,
    topic: *const *mut c_char,
    qos: *const c_int,
    response: *mut MQTTAsync_responseOptions,
) -> c_int {
    // SAFETY: arrays of `count` entries from C, checked inside.
    guard_rc(|| unsafe { subscribe(handle, count, topic, qos, response, false) })
}

/// The shared body of unsubscribe and unsubscribeMany.
///
/// # Safety
/// Pointers from C: NULL or valid for `count` entries.
unsafe fn unsubscribe(
    handle: MQTTAsync,
    count: c_int,
    filters: *const *mut c_char,
    response: *mut MQTTAsync_responseOptions,
) -> FfiResult<c_int> {
    // SAFETY: forwarded contract.
    let (h, r) = unsafe { request(handle, response) }?;
    // SAFETY: `count` C strings per the caller.
    let names = unsafe { topics(count, filters) }?;
    let token = h
        .client
        .unsubscribe_many(
            names,
            r.properties.clone(),
            r.responders.on_complete(Request::Unsubscribe),
        )
        .map_err(async_code)?;
    set_token(response, token);
    Ok(MQTTASYNC_SUCCESS)
}

/// Unsubscribe from one filter.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_unsubscribe(
    handle: MQTTAsync,
    topic: *const c_char,
    response: *mut MQTTAsync_responseOptions,
) -> c_int {
    let filters = [topic.cast_mut()];
    // SAFETY: one local filter pointer.
    guard_rc(|| unsafe { unsubscribe(handle, 1, filters.as_ptr(), response) })
}

/// Unsubscribe from `count` filters.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_unsubscribeMany(
    handle: MQTTAsync,
    count: c_int,
    topic: *const *mut c_char,
    response: *mut MQTTAsync_responseOptions,
) -> c_int {
    // SAFETY: an array of `count` entries from C, checked inside.
    guard_rc(|| unsafe { unsubscribe(handle, count, topic, response) })
}

/// `*tokens` receives a malloc'd array of the tokens of incomplete
/// publications, ended by -1, or NULL when there are none.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_getPendingTokens(
    handle: MQTTAsync,
    tokens: *mut *mut MQTTAsync_token,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        if tokens.is_null() {
            return Err(MQTTASYNC_NULL_PARAMETER);
        }
        // SAFETY: `tokens` checked non-NULL above; an output pointer from C.
        unsafe { write_pending_tokens(tokens, &h.client.pending_tokens()) }?;
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// MQTTASYNC_TRUE when the request with `token` has completed.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_isComplete(handle: MQTTAsync, token: MQTTAsync_token) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        Ok(if h.client.is_complete(token) {
            MQTTASYNC_TRUE
        } else {
            0
        })
    })
}

/// Wait up to `timeout` ms for the request with `token` to complete:
/// MQTTASYNC_SUCCESS, or MQTTASYNC_FAILURE on timeout.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_waitForCompletion(
    handle: MQTTAsync,
    token: MQTTAsync_token,
    timeout: c_ulong,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        h.client
            .wait_for_completion(token, millis(timeout))
            .map_err(async_code)?;
        Ok(MQTTASYNC_SUCCESS)
    })
}
