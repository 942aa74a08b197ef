//! The object behind an opaque MQTTClient handle: the Rust client plus what
//! the C API needs around it (creation version, last server URI), and the
//! registry MQTTClient_yield walks, since it takes no handle.

use std::collections::BTreeSet;
use std::ffi::{CString, c_int};
use std::sync::Mutex;

use super::guard::{FfiResult, guard_or};
use super::properties_convert::to_c_boxed;
use super::types::{
    MQTTCLIENT_FAILURE, MQTTClient, MQTTResponse, MQTTVERSION_5, enum_MQTTReasonCodes,
};
use crate::client::error::ClientError;
use crate::client::sync::Client;
use crate::protocol::codec::{Properties, ReasonCode};

/// What an MQTTClient handle points to.
pub(crate) struct Handle {
    pub client: Client,
    /// The MQTTVersion given at create (5 enables the `*5` calls).
    pub mqtt_version: c_int,
    /// The URI of the last successful connect, for `returned.serverURI`.
    pub server_uri: Mutex<CString>,
}

impl Handle {
    pub(crate) fn is_v5(&self) -> bool {
        self.mqtt_version >= MQTTVERSION_5
    }
}

/// Addresses of live MQTTClient handles. Create adds, destroy removes its
/// handle here before dropping it; every entry point checks its handle
/// against it, so a destroyed or never-created handle gets an error code
/// instead of a crash. MQTTClient_yield walks it under the lock.
pub(crate) static LIVE: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());
/// The same for MQTTAsync handles.
pub(crate) static LIVE_ASYNC: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

/// Lock the registry, recovering from a poisoned lock (the set stays valid).
pub(crate) fn live() -> std::sync::MutexGuard<'static, BTreeSet<usize>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lock the MQTTAsync registry.
pub(crate) fn live_async() -> std::sync::MutexGuard<'static, BTreeSet<usize>> {
    LIVE_ASYNC.lock().unwrap_or_else(|e| e.into_inner())
}

/// Both registries, locked (held across fork() by the fork handlers).
pub(crate) fn live_locks() -> (
    std::sync::MutexGuard<'static, BTreeSet<usize>>,
    std::sync::MutexGuard<'static, BTreeSet<usize>>,
) {
    (live(), live_async())
}

/// The body of MQTTClient_destroy and MQTTAsync_destroy: free the handle in
/// `*handle` if `live` holds it (a destroyed or never-created one is only
/// cleared), then set `*handle` to NULL. A handle made before a fork() is
/// left allocated in the child (`stale`): the parent's threads may hold its
/// locks.
///
/// # Safety
/// `handle` NULL or pointing to the application's handle variable; a
/// pointer in `live` came from `Box::<T>::into_raw`.
pub(crate) unsafe fn destroy<T>(
    handle: *mut *mut std::ffi::c_void,
    live: &Mutex<BTreeSet<usize>>,
    stale: impl FnOnce(&T) -> bool,
) {
    if handle.is_null() {
        return;
    }
    // SAFETY: non-NULL pointer to the application's handle variable.
    let ptr = unsafe { handle.read() };
    if ptr.is_null() {
        return;
    }
    let was_live = live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&(ptr as usize));
    if was_live {
        // SAFETY: a pointer from Box::into_raw, found in the live set and
        // removed from it, so freed exactly once.
        let boxed = unsafe { Box::from_raw(ptr.cast::<T>()) };
        if stale(&boxed) {
            std::mem::forget(boxed);
        } else {
            drop(boxed);
        }
    }
    // SAFETY: non-NULL, writable per the API.
    unsafe { handle.write(std::ptr::null_mut()) };
}

/// The handle behind `h`; NULL or a handle that is not live is
/// MQTTCLIENT_FAILURE.
///
/// # Safety
/// `h` NULL, or any pointer: only one found in the live set is dereferenced.
pub(crate) unsafe fn handle_ref<'a>(h: MQTTClient) -> FfiResult<&'a Handle> {
    if h.is_null() || !live().contains(&(h as usize)) {
        return Err(MQTTCLIENT_FAILURE);
    }
    // SAFETY: per the contract, a live Box<Handle> pointer.
    Ok(unsafe { &*h.cast::<Handle>() })
}

/// Map a client error to its MQTTClient code.
pub(crate) fn code(e: ClientError) -> c_int {
    super::client_errors::code(&e)
}

/// An MQTTResponse carrying only a code (Paho reports API errors this way).
pub(crate) fn response_code(rc: c_int) -> MQTTResponse {
    MQTTResponse {
        version: 1,
        reasonCode: rc as enum_MQTTReasonCodes,
        reasonCodeCount: 0,
        reasonCodes: std::ptr::null_mut(),
        properties: std::ptr::null_mut(),
    }
}

/// An MQTTResponse for acknowledgement codes and properties: the first
/// code in `reasonCode`, all of them in a malloc'd array when more than one.
pub(crate) fn response_from(codes: &[ReasonCode], properties: &Properties) -> MQTTResponse {
    let mut r = response_code(codes.first().map_or(0, |c| c_int::from(c.0)));
    r.reasonCodeCount = c_int::try_from(codes.len()).unwrap_or(c_int::MAX);
    if codes.len() > 1 {
        let size = std::mem::size_of::<enum_MQTTReasonCodes>() * codes.len();
        // SAFETY: malloc of `codes.len()` ints, checked for NULL.
        let array = unsafe { libc::malloc(size) }.cast::<enum_MQTTReasonCodes>();
        if !array.is_null() {
            for (i, c) in codes.iter().enumerate() {
                // SAFETY: `i < codes.len()`, inside the allocation.
                unsafe { array.add(i).write(c_int::from(c.0)) };
            }
            r.reasonCodes = array;
        }
    }
    r.properties = to_c_boxed(properties);
    r
}

/// An MQTTResponse for a single-result call (connect5, publish5): the code
/// and properties, with no per-topic array (reasonCodeCount 0, as Paho).
pub(crate) fn response_single(code: ReasonCode, properties: &Properties) -> MQTTResponse {
    let mut r = response_code(c_int::from(code.0));
    r.properties = to_c_boxed(properties);
    r
}

/// Run an MQTTResponse-returning entry point behind the panic boundary;
/// errors and panics become a response whose reasonCode is the Paho code.
pub(crate) fn guard_response(f: impl FnOnce() -> FfiResult<MQTTResponse>) -> MQTTResponse {
    guard_or(response_code(MQTTCLIENT_FAILURE), || {
        f().unwrap_or_else(response_code)
    })
}
