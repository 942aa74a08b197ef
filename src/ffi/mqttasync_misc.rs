//! MQTTAsync.h utility calls: memory the library hands out, trace settings,
//! error texts, version information and global_init. Most forward to the
//! MQTTClient implementations, which share the allocator and tracer.

#![allow(non_snake_case)]

use std::ffi::{CStr, c_char, c_int, c_void};

use super::client_convert::free_message;
use super::guard::guard_or;
use super::mqttclient_misc::{MQTTClient_setTraceCallback, MQTTClient_strerror};
use super::types::{
    MQTTAsync_init_options, MQTTAsync_message, MQTTAsync_nameValue, MQTTAsync_traceCallback,
    MQTTClient_message, enum_MQTTASYNC_TRACE_LEVELS,
};
use crate::client::trace;

/// Free a message given to messageArrived and set `*msg` to NULL.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_freeMessage(msg: *mut *mut MQTTAsync_message) {
    guard_or((), || {
        if msg.is_null() {
            return;
        }
        // SAFETY: non-NULL pointer to the application's message pointer,
        // which is NULL or a message this library malloc'd; the two message
        // structs have the same layout.
        unsafe {
            free_message(msg.read().cast::<MQTTClient_message>());
            msg.write(std::ptr::null_mut());
        }
    })
}

/// Free memory the library allocated (topic names, token arrays).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_free(ptr: *mut c_void) {
    // SAFETY: memory the library hands out comes from malloc; free(NULL) is a no-op.
    unsafe { libc::free(ptr) }
}

/// Allocate memory the library may free (e.g. in persistence callbacks).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_malloc(size: usize) -> *mut c_void {
    // SAFETY: plain malloc; C checks the result.
    unsafe { libc::malloc(size) }
}

/// Deliver trace lines at `level` and above to the trace callback.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setTraceLevel(level: enum_MQTTASYNC_TRACE_LEVELS) {
    guard_or((), || trace::set_level(level))
}

/// Set (or with NULL remove) the function that receives trace lines.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_setTraceCallback(callback: MQTTAsync_traceCallback) {
    // The two callback types are the same C function type.
    MQTTClient_setTraceCallback(callback)
}

/// The MQTTAsync texts that differ from MQTTClient's.
fn async_text(code: c_int) -> Option<&'static CStr> {
    Some(match code {
        -10 => c"No more message ids available",
        -11 => c"Operation incomplete",
        -12 => c"Maximum buffered messages amount reached",
        -13 => c"SSL is not supported",
        -15 => c"Options for wrong MQTT version",
        -18 => c"Command ignored",
        -19 => c"maxBufferedMessages in the connect options must be >= 0",
        _ => return None,
    })
}

/// A description of return code `code`.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_strerror(code: c_int) -> *const c_char {
    guard_or(std::ptr::null(), || match async_text(code) {
        Some(t) => t.as_ptr(),
        None => MQTTClient_strerror(code),
    })
}

/// The version table: name/value pairs of static strings, NULL-terminated.
struct VersionTable([MQTTAsync_nameValue; 5]);

// SAFETY: the table only holds pointers to immutable static strings.
unsafe impl Sync for VersionTable {}

static VERSION_INFO: VersionTable = VersionTable([
    MQTTAsync_nameValue {
        name: c"Product name".as_ptr(),
        value: c"FerroMQ Asynchronous MQTT C Client Library (Paho C compatible)".as_ptr(),
    },
    MQTTAsync_nameValue {
        name: c"Version".as_ptr(),
        value: c"1.3.12".as_ptr(),
    },
    MQTTAsync_nameValue {
        name: c"FerroMQ version".as_ptr(),
        value: match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes())
        {
            Ok(v) => v.as_ptr(),
            Err(_) => c"unknown".as_ptr(),
        },
    },
    MQTTAsync_nameValue {
        name: c"TLS library".as_ptr(),
        value: c"rustls 0.23 (crypto: ring)".as_ptr(),
    },
    MQTTAsync_nameValue {
        name: std::ptr::null(),
        value: std::ptr::null(),
    },
]);

/// Name/value pairs describing the library, ended by a NULL name.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_getVersionInfo() -> *mut MQTTAsync_nameValue {
    // C only reads the table, as Paho's API implies.
    VERSION_INFO.0.as_ptr().cast_mut()
}

/// Process-wide initialisation; nothing needs doing (TLS is rustls, which
/// needs no process-wide setup: `do_openssl_init` is accepted and ignored).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTAsync_global_init(inits: *mut MQTTAsync_init_options) {
    let _ = inits;
}
