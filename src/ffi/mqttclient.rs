//! MQTTClient.h lifecycle calls: create, callbacks, connect, disconnect,
//! isConnected and destroy. Each checks its C input, makes one call into
//! `client::sync::Client` and maps the error to Paho's code.

#![allow(non_snake_case)]

use std::ffi::{CString, c_char, c_int, c_void};
use std::time::Duration;

use super::client_callbacks::{CCallbacks, Context, disconnected, published};
use super::client_convert::connect_options;
use super::guard::{FfiResult, c_str, checked_version, guard_or, guard_rc, read_field};
use super::handle::{Handle, code, guard_response, handle_ref, live, response_single};
use super::persistence::open_store;
use super::properties_convert::from_c;
use super::types::{
    MQTTCLIENT_BAD_MQTT_VERSION, MQTTCLIENT_FAILURE, MQTTCLIENT_NULL_PARAMETER, MQTTCLIENT_SUCCESS,
    MQTTCLIENT_WRONG_MQTT_VERSION, MQTTClient, MQTTClient_connectOptions,
    MQTTClient_connectionLost, MQTTClient_createOptions, MQTTClient_deliveryComplete,
    MQTTClient_disconnected, MQTTClient_messageArrived, MQTTClient_published, MQTTProperties,
    MQTTResponse, MQTTVERSION_3_1, MQTTVERSION_5, MQTTVERSION_DEFAULT, enum_MQTTReasonCodes,
};
use crate::client::sync::{Client, ConnectResult, CreateOptions};
use crate::protocol::codec::{Properties, ReasonCode};

/// The shared body of create and createWithOptions.
///
/// # Safety
/// Pointers from C: NULL or valid.
unsafe fn create(
    out: *mut MQTTClient,
    server_uri: *const c_char,
    client_id: *const c_char,
    persistence_type: c_int,
    persistence_context: *mut c_void,
    mqtt_version: c_int,
) -> FfiResult<c_int> {
    if out.is_null() {
        return Err(MQTTCLIENT_NULL_PARAMETER);
    }
    // SAFETY: C strings from the caller, NULL-checked inside.
    let (uri, id) = unsafe { (c_str(server_uri)?, c_str(client_id)?) };
    if mqtt_version != MQTTVERSION_DEFAULT
        && !(MQTTVERSION_3_1..=MQTTVERSION_5).contains(&mqtt_version)
    {
        return Err(MQTTCLIENT_BAD_MQTT_VERSION);
    }
    let client = Client::new(uri, id, CreateOptions { mqtt_version }).map_err(code)?;
    // SAFETY: the context as the caller gave it for this persistence type.
    if let Some(store) = unsafe { open_store(persistence_type, persistence_context, id, uri) }? {
        client.attach_store(store).map_err(code)?;
    }
    let boxed = Box::new(Handle {
        client,
        mqtt_version,
        server_uri: std::sync::Mutex::new(CString::new(uri).unwrap_or_default()),
    });
    let ptr = Box::into_raw(boxed);
    live().insert(ptr as usize);
    // SAFETY: `out` checked non-NULL above.
    unsafe { out.write(ptr.cast()) };
    Ok(MQTTCLIENT_SUCCESS)
}

/// Create a client for `serverURI` (tcp://, mqtt://, ws:// or host:port)
/// with identifier `clientId`. Persistence: NONE, DEFAULT (a file store
/// under the directory `persistence_context`, NULL = the current one) or
/// USER (`persistence_context` is an MQTTClient_persistence).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_create(
    handle: *mut MQTTClient,
    serverURI: *const c_char,
    clientId: *const c_char,
    persistence_type: c_int,
    persistence_context: *mut c_void,
) -> c_int {
    // SAFETY: pointers from C, checked inside.
    guard_rc(|| unsafe {
        create(
            handle,
            serverURI,
            clientId,
            persistence_type,
            persistence_context,
            MQTTVERSION_DEFAULT,
        )
    })
}

/// As MQTTClient_create, with options (MQTTVersion 5 enables the `*5` calls).
/// NULL options are the defaults.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_createWithOptions(
    handle: *mut MQTTClient,
    serverURI: *const c_char,
    clientId: *const c_char,
    persistence_type: c_int,
    persistence_context: *mut c_void,
    options: *mut MQTTClient_createOptions,
) -> c_int {
    guard_rc(|| {
        let version = if options.is_null() {
            MQTTVERSION_DEFAULT
        } else {
            checked_version!(options, b"MQCO", 0)?;
            read_field!(options, MQTTVersion)
        };
        // SAFETY: pointers from C, checked inside.
        unsafe {
            create(
                handle,
                serverURI,
                clientId,
                persistence_type,
                persistence_context,
                version,
            )
        }
    })
}

/// Set the connectionLost, messageArrived (required) and deliveryComplete
/// callbacks, called on the client's own thread with `context`. Not allowed
/// while connected.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_setCallbacks(
    handle: MQTTClient,
    context: *mut c_void,
    cl: MQTTClient_connectionLost,
    ma: MQTTClient_messageArrived,
    dc: MQTTClient_deliveryComplete,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        if ma.is_none() {
            return Err(MQTTCLIENT_FAILURE);
        }
        let callbacks = CCallbacks {
            context: Context(context),
            connection_lost: cl,
            message_arrived: ma,
            delivery_complete: dc,
        };
        h.client
            .set_callbacks(Some(Box::new(callbacks)))
            .map_err(code)?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Set the callback for a DISCONNECT sent by an MQTT 5 server.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_setDisconnected(
    handle: MQTTClient,
    context: *mut c_void,
    co: MQTTClient_disconnected,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        h.client
            .set_disconnected(disconnected(Context(context), co))
            .map_err(code)?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Set the callback for acknowledgements of MQTT 5 publications.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_setPublished(
    handle: MQTTClient,
    context: *mut c_void,
    co: MQTTClient_published,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        h.client
            .set_published(published(Context(context), co))
            .map_err(code)?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Fill `options->returned` (version 4+) after a successful connect.
///
/// # Safety
/// `o` a checked connect options struct.
unsafe fn write_returned(h: &Handle, o: *mut MQTTClient_connectOptions, result: &ConnectResult) {
    // SAFETY: checked by connect_options before the connect.
    let version = unsafe { (*o).struct_version };
    if version < 4 {
        return;
    }
    let mut uri = h.server_uri.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(c) = CString::new(result.server_uri.as_str()) {
        *uri = c;
    }
    // SAFETY: version 4+ has `returned`; we write only its fields.
    unsafe {
        let r = std::ptr::addr_of_mut!((*o).returned);
        (*r).serverURI = uri.as_ptr();
        (*r).MQTTVersion = result.mqtt_version;
        (*r).sessionPresent = c_int::from(result.session_present);
    }
}

/// The shared body of connect and connect5.
///
/// # Safety
/// `o` NULL or valid connect options; the property lists NULL or valid.
unsafe fn connect(
    h: &Handle,
    o: *mut MQTTClient_connectOptions,
    properties: Properties,
    will_properties: Properties,
) -> FfiResult<ConnectResult> {
    // SAFETY: forwarded contract.
    let options = unsafe { connect_options(o, properties, will_properties) }?;
    let result = h.client.connect(options).map_err(code)?;
    // SAFETY: `o` was checked by connect_options.
    unsafe { write_returned(h, o, &result) };
    Ok(result)
}

/// Connect (MQTT 3.1/3.1.1) and wait for the server's CONNACK. Returns 0,
/// an API error code, or the server's CONNACK return code (1..5).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_connect(
    handle: MQTTClient,
    options: *mut MQTTClient_connectOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        if h.is_v5() {
            return Err(MQTTCLIENT_WRONG_MQTT_VERSION);
        }
        // SAFETY: options from C, checked inside.
        unsafe { connect(h, options, Properties::default(), Properties::default()) }?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Connect with MQTT 5 CONNECT and will properties (client created with
/// MQTTVERSION_5). The response holds the CONNACK reason code and properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_connect5(
    handle: MQTTClient,
    options: *mut MQTTClient_connectOptions,
    connectProperties: *mut MQTTProperties,
    willProperties: *mut MQTTProperties,
) -> MQTTResponse {
    guard_response(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        if !h.is_v5() {
            return Err(MQTTCLIENT_WRONG_MQTT_VERSION);
        }
        // SAFETY: property lists from C, NULL-safe.
        let (props, will_props) = unsafe { (from_c(connectProperties)?, from_c(willProperties)?) };
        // SAFETY: options from C, checked inside.
        let result = unsafe { connect(h, options, props, will_props) }?;
        Ok(response_single(result.reason, &result.properties))
    })
}

/// The shared body of disconnect and disconnect5.
fn disconnect(
    handle: MQTTClient,
    timeout: c_int,
    reason: enum_MQTTReasonCodes,
    props: *mut MQTTProperties,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { handle_ref(handle) }?;
        let reason = ReasonCode(u8::try_from(reason).map_err(|_| MQTTCLIENT_FAILURE)?);
        // SAFETY: property list from C, NULL-safe.
        let props = unsafe { from_c(props) }?;
        let timeout = Duration::from_millis(u64::try_from(timeout).unwrap_or(0));
        h.client.disconnect(timeout, reason, props).map_err(code)?;
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// Disconnect, giving in-flight messages up to `timeout` ms to complete.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_disconnect(handle: MQTTClient, timeout: c_int) -> c_int {
    disconnect(handle, timeout, 0, std::ptr::null_mut())
}

/// Disconnect with an MQTT 5 reason code and properties.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_disconnect5(
    handle: MQTTClient,
    timeout: c_int,
    reason: enum_MQTTReasonCodes,
    props: *mut MQTTProperties,
) -> c_int {
    disconnect(handle, timeout, reason, props)
}

/// 1 if the client is connected, else 0 (also for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_isConnected(handle: MQTTClient) -> c_int {
    guard_or(0, || {
        // SAFETY: handle from C.
        unsafe { handle_ref(handle) }.map_or(0, |h| c_int::from(h.client.is_connected()))
    })
}

/// Free the client and set `*handle` to NULL. No callback of the client
/// runs after this returns. NULL and `*handle == NULL` are ignored.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_destroy(handle: *mut MQTTClient) {
    guard_or((), || {
        // SAFETY: the application's handle variable; live handles are
        // Box<Handle> pointers from `create`.
        unsafe {
            super::handle::destroy::<Handle>(handle, &super::handle::LIVE, |h| h.client.is_stale())
        }
    })
}
