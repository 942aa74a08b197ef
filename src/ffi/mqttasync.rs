//! MQTTAsync.h lifecycle calls: create, the callback setters, connect,
//! reconnect, disconnect, isConnected and destroy. Each checks its C input,
//! makes one call into `client::r#async::AsyncClient` and maps the error.

#![allow(non_snake_case)]

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Mutex;

use super::async_convert::{connect_options, create_options, disconnect_options};
use super::async_handle::{AsyncHandle, CallbackSet, async_code, async_ref};
use super::async_responses::Request;
use super::client_callbacks::{Context, disconnected};
use super::guard::{FfiResult, c_str, guard_or, guard_rc};
use super::persistence::{after_read, before_write, open_store};
use super::types::{
    MQTTASYNC_FAILURE, MQTTASYNC_NULL_PARAMETER, MQTTASYNC_SUCCESS, MQTTASYNC_TRUE, MQTTAsync,
    MQTTAsync_connectOptions, MQTTAsync_connected, MQTTAsync_connectionLost,
    MQTTAsync_createOptions, MQTTAsync_deliveryComplete, MQTTAsync_disconnectOptions,
    MQTTAsync_disconnected, MQTTAsync_messageArrived, MQTTAsync_updateConnectOptions,
    MQTTPersistence_afterRead, MQTTPersistence_beforeWrite,
};
use crate::client::r#async::{AsyncClient, AsyncCreateOptions};

/// The shared body of create and createWithOptions.
///
/// # Safety
/// Pointers from C: NULL or valid.
unsafe fn create(
    out: *mut MQTTAsync,
    server_uri: *const c_char,
    client_id: *const c_char,
    persistence_type: c_int,
    persistence_context: *mut c_void,
    options: AsyncCreateOptions,
) -> FfiResult<c_int> {
    if out.is_null() {
        return Err(MQTTASYNC_NULL_PARAMETER);
    }
    // SAFETY: C strings from the caller, NULL-checked inside.
    let (uri, id) = unsafe { (c_str(server_uri)?, c_str(client_id)?) };
    let mqtt_version = options.mqtt_version;
    let offline = options.send_while_disconnected;
    let client = AsyncClient::new(uri, id, options).map_err(async_code)?;
    // SAFETY: the context as the caller gave it for this persistence type.
    if let Some(store) = unsafe { open_store(persistence_type, persistence_context, id, uri) }? {
        client.attach_store(store).map_err(async_code)?;
    }
    let ptr = Box::into_raw(Box::new(AsyncHandle {
        client,
        mqtt_version,
        offline,
        callbacks: Mutex::new(CallbackSet::default()),
    }));
    super::handle::live_async().insert(ptr as usize);
    // SAFETY: `out` checked non-NULL above.
    unsafe { out.write(ptr.cast()) };
    Ok(MQTTASYNC_SUCCESS)
}

/// Create a client for `serverURI` with identifier `clientId`, with
/// persistence NONE, DEFAULT (files under the directory
/// `persistence_context`) or USER (an MQTTClient_persistence).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_create(
    handle: *mut MQTTAsync,
    serverURI: *const c_char,
    clientId: *const c_char,
    persistence_type: c_int,
    persistence_context: *mut c_void,
) -> c_int {
    guard_rc(|| {
        // SAFETY: pointers from C, checked inside.
        unsafe {
            create(
                handle,
                serverURI,
                clientId,
                persistence_type,
                persistence_context,
                AsyncCreateOptions::default(),
            )
        }
    })
}

/// As MQTTAsync_create, with options: MQTT version and the offline buffer.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_createWithOptions(
    handle: *mut MQTTAsync,
    serverURI: *const c_char,
    clientId: *const c_char,
    persistence_type: c_int,
    persistence_context: *mut c_void,
    options: *mut MQTTAsync_createOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: options from C, checked inside.
        let o = unsafe { create_options(options) }?;
        // SAFETY: pointers from C, checked inside.
        unsafe {
            create(
                handle,
                serverURI,
                clientId,
                persistence_type,
                persistence_context,
                o,
            )
        }
    })
}

/// Set connectionLost, messageArrived (required) and deliveryComplete,
/// called on the client's thread with `context`. Not while connected.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setCallbacks(
    handle: MQTTAsync,
    context: *mut c_void,
    cl: MQTTAsync_connectionLost,
    ma: MQTTAsync_messageArrived,
    dc: MQTTAsync_deliveryComplete,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        if ma.is_none() {
            return Err(MQTTASYNC_FAILURE);
        }
        let ctx = Context(context);
        h.update_callbacks(|s| {
            s.lost = cl.map(|f| (ctx, Some(f)));
            s.arrived = ma.map(|f| (ctx, Some(f)));
            s.delivered = dc.map(|f| (ctx, Some(f)));
        })
    })
}

/// The shared body of the set-one-callback calls: change one slot of the
/// handle's callback set.
fn update_callback(handle: MQTTAsync, f: impl FnOnce(&mut CallbackSet)) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        h.update_callbacks(f)
    })
}

/// Set (or with NULL remove) only the connectionLost callback.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setConnectionLostCallback(
    handle: MQTTAsync,
    context: *mut c_void,
    cl: MQTTAsync_connectionLost,
) -> c_int {
    update_callback(handle, |s| s.lost = cl.map(|f| (Context(context), Some(f))))
}

/// Set (or with NULL remove) only the messageArrived callback.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setMessageArrivedCallback(
    handle: MQTTAsync,
    context: *mut c_void,
    ma: MQTTAsync_messageArrived,
) -> c_int {
    update_callback(handle, |s| {
        s.arrived = ma.map(|f| (Context(context), Some(f)))
    })
}

/// Set (or with NULL remove) only the deliveryComplete callback.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setDeliveryCompleteCallback(
    handle: MQTTAsync,
    context: *mut c_void,
    dc: MQTTAsync_deliveryComplete,
) -> c_int {
    update_callback(handle, |s| {
        s.delivered = dc.map(|f| (Context(context), Some(f)))
    })
}

/// Set the callback run after every connect, automatic reconnects included;
/// `cause` says which.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setConnected(
    handle: MQTTAsync,
    context: *mut c_void,
    co: MQTTAsync_connected,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        let context = Context(context);
        h.client
            .set_connected(co.map(|f| -> crate::client::r#async::ConnectedFn {
                Box::new(move |cause: &str| {
                    let context = context;
                    let text = CString::new(cause).unwrap_or_default();
                    // SAFETY: the application's callback; `text` outlives the call.
                    unsafe { f(context.0, text.as_ptr().cast_mut()) }
                })
            }));
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Set the callback for a server's MQTT 5 DISCONNECT.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setDisconnected(
    handle: MQTTAsync,
    context: *mut c_void,
    co: MQTTAsync_disconnected,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        h.client
            .set_disconnected(disconnected(Context(context), co))
            .map_err(async_code)?;
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Set the callback that may change the user name and password before each
/// automatic reconnect.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setUpdateConnectOptions(
    handle: MQTTAsync,
    context: *mut c_void,
    co: MQTTAsync_updateConnectOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        super::async_update::install(h, Context(context), co);
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Set (or with NULL remove) the callback that transforms each record
/// before it is written to the client's persistence (e.g. to encrypt it).
/// It gets one buffer holding the whole record; it may change the bytes in
/// place or point the buffer and length elsewhere (that memory stays the
/// application's). A non-zero return fails the write. Without persistence
/// the call succeeds and nothing is ever written.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setBeforePersistenceWrite(
    handle: MQTTAsync,
    context: *mut c_void,
    co: MQTTPersistence_beforeWrite,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        let f = co.map(|f| before_write(Context(context), f));
        h.client.set_before_write(f);
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Set (or with NULL remove) the callback that transforms each record read
/// back from the client's persistence (e.g. to decrypt it). The store is
/// read at the first connect, so a callback set after create sees every
/// record. It gets a malloc'd buffer it may change in place or replace
/// (the buffer it leaves is freed with free()). A non-zero return skips
/// the record and leaves it in the store. Without persistence the call
/// succeeds and nothing is read.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setAfterPersistenceRead(
    handle: MQTTAsync,
    context: *mut c_void,
    co: MQTTPersistence_afterRead,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        let f = co.map(|f| after_read(Context(context), f));
        h.client.set_after_read(f);
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Start connecting; the outcome comes to options' onSuccess/onFailure.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_connect(
    handle: MQTTAsync,
    options: *const MQTTAsync_connectOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        // SAFETY: options from C, checked inside.
        let (o, responders) = unsafe { connect_options(options, h.mqtt_version) }?;
        h.client
            .connect(o, responders.on_complete(Request::Connect))
            .map_err(async_code)?;
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Reconnect now with the last connect options (automatic reconnect only).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_reconnect(handle: MQTTAsync) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        h.client.reconnect().map_err(async_code)?;
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// Disconnect, letting in-flight work finish for up to options' timeout.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_disconnect(
    handle: MQTTAsync,
    options: *const MQTTAsync_disconnectOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { async_ref(handle) }?;
        // SAFETY: options from C, checked inside.
        let d = unsafe { disconnect_options(options, h.is_v5()) }?;
        h.client
            .disconnect(
                d.timeout,
                d.reason,
                d.properties,
                d.responders.on_complete(Request::Disconnect),
            )
            .map_err(async_code)?;
        Ok(MQTTASYNC_SUCCESS)
    })
}

/// 1 while connected, else 0 (also for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_isConnected(handle: MQTTAsync) -> c_int {
    guard_or(0, || {
        // SAFETY: handle from C.
        match unsafe { async_ref(handle) } {
            Ok(h) if h.client.is_connected() => MQTTASYNC_TRUE,
            _ => 0,
        }
    })
}

/// Free the client and set `*handle` to NULL. When this returns no thread
/// of the client runs. NULL and `*handle == NULL` are ignored.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_destroy(handle: *mut MQTTAsync) {
    guard_or((), || {
        // SAFETY: the application's handle variable; live handles are
        // Box<AsyncHandle> pointers from `create`.
        unsafe {
            super::handle::destroy::<AsyncHandle>(handle, &super::handle::LIVE_ASYNC, |h| {
                h.client.is_stale()
            })
        }
    })
}
