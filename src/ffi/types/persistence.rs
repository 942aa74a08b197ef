//! C types of MQTTClientPersistence.h: persistence type constants and the
//! table of functions an application supplies for its own message store.

use std::ffi::{c_char, c_int, c_void};

/// Persistence type: the default file-system store.
pub const MQTTCLIENT_PERSISTENCE_DEFAULT: c_int = 0;
/// Persistence type: keep in-flight state in memory only.
pub const MQTTCLIENT_PERSISTENCE_NONE: c_int = 1;
/// Persistence type: the application's store (an MQTTClient_persistence).
pub const MQTTCLIENT_PERSISTENCE_USER: c_int = 2;
/// Returned when a persistence operation fails.
pub const MQTTCLIENT_PERSISTENCE_ERROR: c_int = -2;

/// Open the store for one client; `*handle` receives the store's handle.
pub type Persistence_open = Option<
    unsafe extern "C" fn(
        handle: *mut *mut c_void,
        clientID: *const c_char,
        serverURI: *const c_char,
        context: *mut c_void,
    ) -> c_int,
>;
/// Close the store.
pub type Persistence_close = Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>;
/// Store the concatenation of `bufcount` buffers under `key`.
pub type Persistence_put = Option<
    unsafe extern "C" fn(
        handle: *mut c_void,
        key: *mut c_char,
        bufcount: c_int,
        buffers: *mut *mut c_char,
        buflens: *mut c_int,
    ) -> c_int,
>;
/// Fetch the data stored under `key` into a buffer the store allocates.
pub type Persistence_get = Option<
    unsafe extern "C" fn(
        handle: *mut c_void,
        key: *mut c_char,
        buffer: *mut *mut c_char,
        buflen: *mut c_int,
    ) -> c_int,
>;
/// Remove the data stored under `key`.
pub type Persistence_remove =
    Option<unsafe extern "C" fn(handle: *mut c_void, key: *mut c_char) -> c_int>;
/// List all keys in an array the store allocates.
pub type Persistence_keys = Option<
    unsafe extern "C" fn(
        handle: *mut c_void,
        keys: *mut *mut *mut c_char,
        nkeys: *mut c_int,
    ) -> c_int,
>;
/// Remove everything from the store.
pub type Persistence_clear = Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>;
/// 0 when `key` is present.
pub type Persistence_containskey =
    Option<unsafe extern "C" fn(handle: *mut c_void, key: *mut c_char) -> c_int>;

/// An application-supplied message store: a context pointer and the
/// functions that operate on it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTClient_persistence {
    /// Passed to `popen`.
    pub context: *mut c_void,
    pub popen: Persistence_open,
    pub pclose: Persistence_close,
    pub pput: Persistence_put,
    pub pget: Persistence_get,
    pub premove: Persistence_remove,
    pub pkeys: Persistence_keys,
    pub pclear: Persistence_clear,
    pub pcontainskey: Persistence_containskey,
}
