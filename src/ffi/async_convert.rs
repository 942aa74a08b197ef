//! Conversions for the MQTTAsync calls: C create, connect, disconnect and
//! response options to the Rust async client's types, reading only the
//! fields each struct's version has. Will and properties reuse the
//! MQTTClient converters (the will structs have the same layout).

use std::ffi::c_int;
use std::time::Duration;

use super::async_handle::async_rc;
use super::async_responses::Responders;
use super::client_callbacks::Context;
use super::client_convert::{CONNECT_OPTIONS_MAX_VERSION, connect_option_readers, will};
use super::guard::{FfiResult, checked_version, read_field};
use super::properties_convert::from_c;
use super::types::{
    MQTTASYNC_BAD_MQTT_OPTION, MQTTASYNC_MAX_BUFFERED, MQTTASYNC_WRONG_MQTT_VERSION,
    MQTTAsync_connectOptions, MQTTAsync_createOptions, MQTTAsync_disconnectOptions,
    MQTTAsync_responseOptions, MQTTClient_willOptions, MQTTVERSION_3_1, MQTTVERSION_5,
    MQTTVERSION_DEFAULT,
};
use crate::client::r#async::{AsyncConnectOptions, AsyncCreateOptions};
use crate::client::sync::ConnectOptions;
use crate::protocol::codec::{Properties, ReasonCode};

/// Highest struct_version of each MQTTAsync option struct Paho 1.3 accepts.
pub(crate) const CREATE_OPTIONS_MAX_VERSION: c_int = 2;
pub(crate) const DISCONNECT_OPTIONS_MAX_VERSION: c_int = 1;
pub(crate) const RESPONSE_OPTIONS_MAX_VERSION: c_int = 1;

/// Seconds from a C int, negative values as 0.
fn secs(v: c_int) -> Duration {
    Duration::from_secs(u64::try_from(v).unwrap_or(0))
}

/// A supported MQTT version number, or MQTTASYNC_BAD_MQTT_OPTION.
pub(crate) fn mqtt_version(v: c_int) -> FfiResult<c_int> {
    if v != MQTTVERSION_DEFAULT && !(MQTTVERSION_3_1..=MQTTVERSION_5).contains(&v) {
        return Err(MQTTASYNC_BAD_MQTT_OPTION);
    }
    Ok(v)
}

/// Check and convert create options (NULL: the defaults).
///
/// # Safety
/// `o` NULL or a create options struct of the version it declares.
pub(crate) unsafe fn create_options(
    o: *const MQTTAsync_createOptions,
) -> FfiResult<AsyncCreateOptions> {
    let mut out = AsyncCreateOptions::default();
    if o.is_null() {
        return Ok(out);
    }
    let version = checked_version!(o, b"MQCO", CREATE_OPTIONS_MAX_VERSION)?;
    out.send_while_disconnected = read_field!(o, sendWhileDisconnected) != 0;
    let max = read_field!(o, maxBufferedMessages);
    out.max_buffered = usize::try_from(max).map_err(|_| MQTTASYNC_MAX_BUFFERED)?;
    if version >= 1 {
        out.mqtt_version = mqtt_version(read_field!(o, MQTTVersion))?;
    }
    if version >= 2 {
        out.allow_disconnected_send_at_any_time =
            read_field!(o, allowDisconnectedSendAtAnyTime) != 0;
        out.delete_oldest = read_field!(o, deleteOldestMessages) != 0;
        out.restore_messages = read_field!(o, restoreMessages) != 0;
        out.persist_qos0 = read_field!(o, persistQoS0) != 0;
    }
    Ok(out)
}

connect_option_readers!(MQTTAsync_connectOptions);

/// Check and convert connect options; also returns the request's callbacks.
///
/// # Safety
/// `o` NULL or a connect options struct of the version it declares, whose
/// pointers are valid.
pub(crate) unsafe fn connect_options(
    o: *const MQTTAsync_connectOptions,
    create_version: c_int,
) -> FfiResult<(AsyncConnectOptions, Responders)> {
    let version = checked_version!(o, b"MQTC", CONNECT_OPTIONS_MAX_VERSION)?;
    let mut responders = Responders {
        context: Context(read_field!(o, context)),
        on_success: read_field!(o, onSuccess),
        on_failure: read_field!(o, onFailure),
        ..Responders::none()
    };
    let (mut properties, mut will_properties) = (Properties::default(), Properties::default());
    let mut clean_start = false;
    if version >= 6 {
        responders.on_success5 = read_field!(o, onSuccess5);
        responders.on_failure5 = read_field!(o, onFailure5);
        clean_start = read_field!(o, cleanstart) != 0;
        // SAFETY: NULL or valid property lists from the caller.
        properties = unsafe { from_c(read_field!(o, connectProperties)) }?;
        // SAFETY: as above.
        will_properties = unsafe { from_c(read_field!(o, willProperties)) }?;
    }
    let mqtt_version = if version >= 3 {
        let v = read_field!(o, MQTTVersion);
        // As Paho: asking a client not created for MQTT 5 for version 5
        // (or anything above) is the wrong version before a bad one.
        if v >= MQTTVERSION_5 && create_version < MQTTVERSION_5 {
            return Err(MQTTASYNC_WRONG_MQTT_VERSION);
        }
        mqtt_version(v)?
    } else {
        MQTTVERSION_DEFAULT
    };
    // The client's create version decides when the connect options do not.
    let effective = if mqtt_version == MQTTVERSION_DEFAULT {
        create_version
    } else {
        mqtt_version
    };
    // Paho checks no callback combination on connect.
    let w: *const MQTTClient_willOptions = read_field!(o, will).cast_const().cast();
    // SAFETY: MQTTAsync_willOptions and MQTTClient_willOptions have the same
    // layout; the pointer is the caller's (NULL or valid).
    let will = unsafe { will(w, will_properties) }.map_err(async_rc)?;
    // SAFETY: checked struct with the caller's pointers.
    let (username, password) = unsafe { credentials(o, version) }?;
    // SAFETY: checked struct with the caller's pointers.
    let proxies = unsafe { proxies(o, version) }?;
    let clean_session = read_field!(o, cleansession) != 0;
    if (effective >= MQTTVERSION_5 && clean_session) || (effective < MQTTVERSION_5 && clean_start) {
        return Err(MQTTASYNC_BAD_MQTT_OPTION);
    }
    let inflight = read_field!(o, maxInflight);
    let base = ConnectOptions {
        keep_alive: secs(read_field!(o, keepAliveInterval).min(c_int::from(u16::MAX))),
        clean_session,
        clean_start,
        will: will.map(Box::new),
        username,
        password,
        connect_timeout: secs(read_field!(o, connectTimeout)),
        retry_interval: secs(read_field!(o, retryInterval)),
        mqtt_version,
        // SAFETY: checked struct with the caller's pointers.
        server_uris: unsafe { server_uris(o, version) }?,
        max_inflight: if inflight > 0 {
            u16::try_from(inflight).unwrap_or(u16::MAX)
        } else {
            10
        },
        properties,
        // SAFETY: checked struct with the caller's pointers.
        tls: unsafe { tls(o, version) }?,
        // SAFETY: as above.
        http_headers: unsafe { http_headers(o, version) }?,
        http_proxy: proxies.0,
        https_proxy: proxies.1,
        bridge: false,
    };
    let (auto, min, max) = if version >= 4 {
        (
            read_field!(o, automaticReconnect) != 0,
            read_field!(o, minRetryInterval),
            read_field!(o, maxRetryInterval),
        )
    } else {
        (false, 1, 60)
    };
    Ok((
        AsyncConnectOptions {
            base,
            automatic_reconnect: auto,
            min_retry_interval: secs(min.max(1)),
            max_retry_interval: secs(max.max(min).max(1)),
        },
        responders,
    ))
}

/// A checked disconnect request: timeout, reason, properties, callbacks.
pub(crate) struct DisconnectRequest {
    pub timeout: Duration,
    pub reason: ReasonCode,
    pub properties: Properties,
    pub responders: Responders,
}

/// Check and convert disconnect options (NULL: no timeout, no callbacks).
///
/// # Safety
/// `o` NULL or a disconnect options struct of the version it declares.
pub(crate) unsafe fn disconnect_options(
    o: *const MQTTAsync_disconnectOptions,
    v5: bool,
) -> FfiResult<DisconnectRequest> {
    let mut out = DisconnectRequest {
        timeout: Duration::ZERO,
        reason: ReasonCode::SUCCESS,
        properties: Properties::default(),
        responders: Responders::none(),
    };
    if o.is_null() {
        return Ok(out);
    }
    let version = checked_version!(o, b"MQTD", DISCONNECT_OPTIONS_MAX_VERSION)?;
    out.timeout = Duration::from_millis(u64::try_from(read_field!(o, timeout)).unwrap_or(0));
    out.responders.context = Context(read_field!(o, context));
    out.responders.on_success = read_field!(o, onSuccess);
    out.responders.on_failure = read_field!(o, onFailure);
    // Paho reads the MQTT 5 callbacks at every version, and its own
    // paho_c_pub sets them in a version 0 struct: so do we, for clients
    // created for MQTT 5 (which only 1.3 headers, with the full struct, can
    // make).
    if version >= 1 || v5 {
        out.responders.on_success5 = read_field!(o, onSuccess5);
        out.responders.on_failure5 = read_field!(o, onFailure5);
    }
    if version >= 1 {
        let reason = read_field!(o, reasonCode);
        out.reason = ReasonCode(u8::try_from(reason).map_err(|_| MQTTASYNC_BAD_MQTT_OPTION)?);
        // SAFETY: the struct's own property list.
        out.properties = unsafe { from_c(std::ptr::addr_of!((*o).properties)) }?;
    }
    out.responders.check(v5)?;
    Ok(out)
}

/// What a request's response options carry.
pub(crate) struct ResponseRequest {
    pub responders: Responders,
    pub properties: Properties,
    /// Version 1 options for subscribe: (single, list) as C gave them.
    pub version: c_int,
}

/// Check and convert response options (NULL: no callbacks).
///
/// # Safety
/// `o` NULL or a response options struct of the version it declares.
pub(crate) unsafe fn response_options(
    o: *const MQTTAsync_responseOptions,
    v5: bool,
) -> FfiResult<ResponseRequest> {
    let mut out = ResponseRequest {
        responders: Responders::none(),
        properties: Properties::default(),
        version: -1,
    };
    if o.is_null() {
        return Ok(out);
    }
    let version = checked_version!(o, b"MQTR", RESPONSE_OPTIONS_MAX_VERSION)?;
    out.version = version;
    out.responders.context = Context(read_field!(o, context));
    out.responders.on_success = read_field!(o, onSuccess);
    out.responders.on_failure = read_field!(o, onFailure);
    if version >= 1 {
        out.responders.on_success5 = read_field!(o, onSuccess5);
        out.responders.on_failure5 = read_field!(o, onFailure5);
        // SAFETY: the struct's own property list.
        out.properties = unsafe { from_c(std::ptr::addr_of!((*o).properties)) }?;
    }
    out.responders.check(v5)?;
    Ok(out)
}
