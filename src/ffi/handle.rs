//! The object behind an opaque MQTTClient handle: the Rust client plus what
//! the C API needs around it (creation version, last server URI), and the
//! registry MQTTClient_yield walks, since it takes no handle.

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

/// Addresses of live handles (for MQTTClient_yield). Destroy removes its
/// handle here before dropping it, and yield holds the lock while it uses
/// one, so yield never touches a destroyed handle.
pub(crate) static LIVE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Lock the registry, recovering from a poisoned lock (the list stays valid).
pub(crate) fn live() -> std::sync::MutexGuard<'static, Vec<usize>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The handle behind `h`; NULL is MQTTCLIENT_FAILURE (as Paho's checks).
///
/// # Safety
/// `h` NULL or a handle from MQTTClient_create not yet destroyed.
pub(crate) unsafe fn handle_ref<'a>(h: MQTTClient) -> FfiResult<&'a Handle> {
    if h.is_null() {
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
