//! MQTTClient.h utility calls: freeing what the library hands out, trace
//! settings, command timeout, error texts, version information and
//! global_init.

#![allow(non_snake_case)]

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_ulong, c_void};

use super::client_convert::free_message;
use super::guard::{guard_or, guard_rc};
use super::properties_convert::free_boxed;
use super::types::{
    MQTTCLIENT_SUCCESS, MQTTClient, MQTTClient_init_options, MQTTClient_message,
    MQTTClient_nameValue, MQTTClient_traceCallback, MQTTResponse, enum_MQTTCLIENT_TRACE_LEVELS,
};
use crate::client::trace;

/// Release what an MQTTResponse owns.
///
/// # Safety
/// The response's arrays come from this library (or are NULL).
pub(crate) unsafe fn free_response(r: MQTTResponse) {
    // SAFETY: per the contract both were malloc'd by this library.
    unsafe {
        libc::free(r.reasonCodes.cast());
        free_boxed(r.properties);
    }
}

/// Free a message from messageArrived or MQTTClient_receive and set
/// `*msg` to NULL.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_freeMessage(msg: *mut *mut MQTTClient_message) {
    guard_or((), || {
        if msg.is_null() {
            return;
        }
        // SAFETY: non-NULL pointer to the application's message pointer,
        // which points to a message this library allocated (or is NULL).
        unsafe {
            free_message(msg.read());
            msg.write(std::ptr::null_mut());
        }
    })
}

/// Free memory the library allocated (topic names, token arrays).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_free(ptr: *mut c_void) {
    // SAFETY: memory the library handed out comes from malloc; free(NULL) is a no-op.
    unsafe { libc::free(ptr) }
}

/// Free the reason code array and properties of an MQTTResponse.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTResponse_free(response: MQTTResponse) {
    // SAFETY: responses come from this library's `*5` calls.
    guard_or((), || unsafe { free_response(response) })
}

/// Deliver trace lines at `level` and above to the trace callback.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_setTraceLevel(level: enum_MQTTCLIENT_TRACE_LEVELS) {
    guard_or((), || trace::set_level(level))
}

/// Set (or with NULL remove) the function that receives trace lines.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_setTraceCallback(callback: MQTTClient_traceCallback) {
    guard_or((), || {
        let cb = callback.map(|f| -> trace::TraceFn {
            Box::new(move |level, line| {
                if let Ok(text) = CString::new(line) {
                    // SAFETY: the application's trace function; the text is
                    // valid for the call.
                    unsafe { f(level, text.as_ptr().cast_mut()) }
                }
            })
        });
        trace::set_callback(cb);
    })
}

/// Set how long calls wait for the server's acknowledgement (milliseconds).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_setCommandTimeout(handle: MQTTClient, milliSeconds: c_ulong) -> c_int {
    guard_rc(|| {
        // SAFETY: handle from C.
        let h = unsafe { super::handle::handle_ref(handle) }?;
        h.client
            .set_command_timeout(super::mqttclient_pubsub::millis(milliSeconds));
        Ok(MQTTCLIENT_SUCCESS)
    })
}

/// The text for a return code (as Paho words them, so logs match).
fn error_text(code: c_int) -> Option<&'static CStr> {
    Some(match code {
        0 => c"Success",
        -1 => c"Failure",
        -3 => c"Disconnected",
        -4 => c"Maximum in-flight messages amount reached",
        -5 => c"Invalid UTF8 string",
        -6 => c"Invalid (NULL) parameter",
        -7 => c"Topic containing NULL characters has been truncated",
        -8 => c"Bad structure",
        -9 => c"Invalid QoS value",
        -10 => c"SSL is not supported",
        -11 => c"Unrecognized MQTT version",
        -14 => c"Invalid protocol scheme",
        -15 => c"Options for wrong MQTT version",
        -16 => c"Client created for another version of MQTT",
        -17 => c"Zero length will topic on connect",
        _ => return None,
    })
}

thread_local! {
    /// "Unknown error code N" texts, one per thread, valid until the next call.
    static UNKNOWN: RefCell<CString> = RefCell::new(CString::default());
}

/// A description of return code `code`. Unknown codes get "Unknown error
/// code N", valid until the calling thread's next call.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_strerror(code: c_int) -> *const c_char {
    guard_or(std::ptr::null(), || {
        if let Some(text) = error_text(code) {
            return text.as_ptr();
        }
        UNKNOWN.with(|cell| {
            let mut s = cell.borrow_mut();
            *s = CString::new(format!("Unknown error code {code}")).unwrap_or_default();
            s.as_ptr()
        })
    })
}

/// The version table: name/value pairs of static strings, NULL-terminated.
struct VersionTable([MQTTClient_nameValue; 5]);

// SAFETY: the table only holds pointers to immutable static strings.
unsafe impl Sync for VersionTable {}

static VERSION_INFO: VersionTable = VersionTable([
    MQTTClient_nameValue {
        name: c"Product name".as_ptr(),
        value: c"FerroMQ Synchronous MQTT C Client Library (Paho C compatible)".as_ptr(),
    },
    MQTTClient_nameValue {
        name: c"Version".as_ptr(),
        value: c"1.3.12".as_ptr(),
    },
    MQTTClient_nameValue {
        name: c"FerroMQ version".as_ptr(),
        value: match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes())
        {
            Ok(v) => v.as_ptr(),
            Err(_) => c"unknown".as_ptr(),
        },
    },
    MQTTClient_nameValue {
        name: c"TLS library".as_ptr(),
        value: c"rustls 0.23 (crypto: ring)".as_ptr(),
    },
    MQTTClient_nameValue {
        name: std::ptr::null(),
        value: std::ptr::null(),
    },
]);

/// Name/value pairs describing the library, ended by a NULL name.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_getVersionInfo() -> *mut MQTTClient_nameValue {
    // C only reads the table, as Paho's API implies.
    VERSION_INFO.0.as_ptr().cast_mut()
}

/// Process-wide initialisation. Nothing needs doing (TLS is rustls, which
/// needs no process-wide setup; `do_openssl_init` is ignored); the
/// call is accepted with or without options.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTClient_global_init(inits: *mut MQTTClient_init_options) {
    let _ = inits;
}
