//! The MQTTBroker_* entry points (include/MQTTBroker.h): an embedded
//! `broker::server::Server` behind an opaque handle, created on the first
//! start so that callbacks set before it decide which hooks the broker asks.

use std::ffi::{CStr, c_char, c_int, c_longlong, c_void};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::broker_bridge::bridge_conf;
use super::broker_hooks::{CHooks, in_delivery_callback};
use super::broker_options::{Settings, settings};
use super::guard::{
    FfiResult, bytes, c_str, checked_version, guard_or, guard_rc, qos as check_qos,
};
use super::properties_convert::from_c;
use super::types::{
    MQTTBROKER_ALREADY_STARTED, MQTTBROKER_BAD_INDEX, MQTTBROKER_BAD_LISTENER,
    MQTTBROKER_BAD_OPTION, MQTTBROKER_BAD_QOS, MQTTBROKER_BAD_REASON_CODE,
    MQTTBROKER_BAD_STRUCTURE, MQTTBROKER_BAD_TOPIC, MQTTBROKER_BAD_UTF8_STRING,
    MQTTBROKER_BIND_FAILED, MQTTBROKER_FAILURE, MQTTBROKER_IN_DELIVERY_CALLBACK,
    MQTTBROKER_NOT_FOUND, MQTTBROKER_NOT_STARTED, MQTTBROKER_NULL_PARAMETER,
    MQTTBROKER_PERSISTENCE_ERROR, MQTTBROKER_SUCCESS, MQTTBROKER_TLS_ERROR, MQTTBroker,
    MQTTBroker_bridgeOptions, MQTTBroker_callbacks, MQTTBroker_createOptions, MQTTBroker_stats,
    MQTTProperties,
};
use crate::broker::bridge::BridgeConf;
use crate::broker::server::{Hooks, Server};
use crate::protocol::codec::{PacketType, ReasonCode};

/// What an MQTTBroker handle points to.
pub(crate) struct BrokerHandle {
    inner: Mutex<Inner>,
}

struct Inner {
    settings: Settings,
    hooks: Option<Arc<CHooks>>,
    /// Made by the first start; kept (with its sessions and retained
    /// messages) across stop/start.
    server: Option<Server>,
    /// Bridges added before the first start.
    bridges: Vec<BridgeConf>,
}

impl BrokerHandle {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The handle behind `h`.
///
/// # Safety
/// `h` NULL or a handle from MQTTBroker_create not yet destroyed.
unsafe fn handle_ref<'a>(h: MQTTBroker) -> FfiResult<&'a BrokerHandle> {
    if h.is_null() {
        return Err(MQTTBROKER_NULL_PARAMETER);
    }
    // The broker is locked around on_client_deliver: calling it would deadlock.
    if in_delivery_callback() {
        return Err(MQTTBROKER_IN_DELIVERY_CALLBACK);
    }
    // SAFETY: per the contract, a live Box<BrokerHandle> pointer.
    Ok(unsafe { &*h.cast::<BrokerHandle>() })
}

/// The running server of a locked handle, or MQTTBROKER_NOT_STARTED.
fn running(inner: &mut Inner) -> FfiResult<&mut Server> {
    match inner.server.as_mut() {
        Some(s) if s.is_running() => Ok(s),
        _ => Err(MQTTBROKER_NOT_STARTED),
    }
}

/// Create a broker (not yet listening) from `options` (NULL: the values of
/// MQTTBroker_createOptions_initializer). On success `*handle` receives the
/// new broker; free it with MQTTBroker_destroy.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_BAD_STRUCTURE, MQTTBROKER_BAD_OPTION, MQTTBROKER_BAD_LISTENER
/// or MQTTBROKER_BAD_UTF8_STRING.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_create(
    handle: *mut MQTTBroker,
    options: *const MQTTBroker_createOptions,
) -> c_int {
    guard_rc(|| {
        if handle.is_null() {
            return Err(MQTTBROKER_NULL_PARAMETER);
        }
        // SAFETY: `options` is NULL or a caller's options struct.
        let settings = unsafe { settings(options) }?;
        let boxed = Box::new(BrokerHandle {
            inner: Mutex::new(Inner {
                settings,
                hooks: None,
                server: None,
                bridges: Vec::new(),
            }),
        });
        // SAFETY: `handle` is non-NULL and writable per the contract.
        unsafe { handle.write(Box::into_raw(boxed).cast()) };
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// Set the callbacks (NULL `callbacks`: none; struct_version 0 or 1) and
/// the `context` passed to each. Only before the first MQTTBroker_start: the broker asks exactly the
/// callbacks set then.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_BAD_STRUCTURE or MQTTBROKER_ALREADY_STARTED.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_setCallbacks(
    handle: MQTTBroker,
    context: *mut c_void,
    callbacks: *const MQTTBroker_callbacks,
) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        let hooks = if callbacks.is_null() {
            None
        } else {
            let version = checked_version!(callbacks, b"MQBK", 1)?;
            let len = match version {
                0 => std::mem::offset_of!(MQTTBroker_callbacks, on_client_unsubscribe),
                _ => std::mem::size_of::<MQTTBroker_callbacks>(),
            };
            let mut table = MQTTBroker_callbacks {
                struct_id: [0; 4],
                struct_version: 0,
                on_client_connect: None,
                on_client_publish: None,
                on_client_subscribe: None,
                on_client_disconnect: None,
                on_client_unsubscribe: None,
                on_client_deliver: None,
                on_client_auth: None,
            };
            // SAFETY: non-NULL with a checked id and version; only the
            // `len` bytes that version has are read, into a struct whose
            // later members stay NULL.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    callbacks.cast::<u8>(),
                    std::ptr::addr_of_mut!(table).cast::<u8>(),
                    len,
                );
            }
            table.struct_version = version;
            Some(Arc::new(CHooks::new(table, context)))
        };
        let mut inner = h.lock();
        if inner.server.is_some() {
            return Err(MQTTBROKER_ALREADY_STARTED);
        }
        inner.hooks = hooks;
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// Bind every listener and start serving (again, after MQTTBroker_stop).
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_ALREADY_STARTED, MQTTBROKER_BIND_FAILED,
/// MQTTBROKER_BAD_LISTENER (the name no longer resolves),
/// MQTTBROKER_PERSISTENCE_ERROR (the store cannot be opened or read; it is
/// named on stderr) or MQTTBROKER_FAILURE.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_start(handle: MQTTBroker) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        let mut inner = h.lock();
        if inner.server.as_ref().is_some_and(Server::is_running) {
            return Err(MQTTBROKER_ALREADY_STARTED);
        }
        if inner.server.is_none() {
            let hooks = inner.hooks.clone().map(|h| h as Arc<dyn Hooks>);
            let s = &inner.settings;
            let mut server =
                Server::new(s.config.clone(), s.listen.clone(), hooks).map_err(|e| {
                    let code = io_code(&e);
                    if code == MQTTBROKER_PERSISTENCE_ERROR {
                        // The caller gets a code; the person running it, the file.
                        eprintln!("ferromq: {e}");
                    }
                    code
                })?;
            for (i, spec) in s.specs.iter().enumerate() {
                server
                    .set_listener(i, spec)
                    .map_err(|_| MQTTBROKER_TLS_ERROR)?;
            }
            for b in std::mem::take(&mut inner.bridges) {
                server.add_bridge(b).map_err(|_| MQTTBROKER_BAD_OPTION)?;
            }
            inner.server = Some(server);
        }
        let server = inner.server.as_mut().ok_or(MQTTBROKER_FAILURE)?;
        server.start().map_err(|e| io_code(&e))?;
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// Add a bridge to another broker (mosquitto's `connection` block): it runs
/// while the broker serves, from the next MQTTBroker_start, or at once if
/// the broker is serving.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_BAD_STRUCTURE, MQTTBROKER_BAD_UTF8_STRING,
/// MQTTBROKER_BAD_OPTION (a bad or missing option, or a name in use) or
/// MQTTBROKER_FAILURE.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_addBridge(
    handle: MQTTBroker,
    options: *const MQTTBroker_bridgeOptions,
) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: NULL or a caller's options struct per the contract.
        let conf = unsafe { bridge_conf(options) }?;
        let mut inner = h.lock();
        match inner.server.as_mut() {
            Some(s) => s.add_bridge(conf).map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::AlreadyExists => {
                    MQTTBROKER_BAD_OPTION
                }
                _ => MQTTBROKER_FAILURE,
            })?,
            None => {
                if inner.bridges.iter().any(|b| b.name == conf.name) {
                    return Err(MQTTBROKER_BAD_OPTION);
                }
                inner.bridges.push(conf);
            }
        }
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// The code for a failed Server::new/start.
fn io_code(e: &std::io::Error) -> c_int {
    use std::io::ErrorKind::*;
    match e.kind() {
        AddrInUse | AddrNotAvailable | PermissionDenied => MQTTBROKER_BIND_FAILED,
        _ if e
            .get_ref()
            .is_some_and(|i| i.is::<crate::broker::store::StoreError>()) =>
        {
            MQTTBROKER_PERSISTENCE_ERROR
        }
        InvalidInput => MQTTBROKER_BAD_LISTENER,
        AlreadyExists => MQTTBROKER_ALREADY_STARTED,
        _ => MQTTBROKER_FAILURE,
    }
}

/// Close every connection (MQTT 5 clients get DISCONNECT 0x8B) and every
/// listener. Sessions and retained messages are kept for the next start.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER or
/// MQTTBROKER_NOT_STARTED.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_stop(handle: MQTTBroker) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        let mut inner = h.lock();
        let server = running(&mut inner)?;
        server.stop().map_err(|_| MQTTBROKER_FAILURE)?;
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// Read every TLS listener's certificate and key files again (after they
/// were renewed): new connections get them, open ones keep theirs, as on
/// SIGHUP for `ferromq broker`. On error the listeners keep what they had.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_NOT_STARTED or MQTTBROKER_TLS_ERROR.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_reloadCertificates(handle: MQTTBroker) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        let mut inner = h.lock();
        let specs = inner.settings.specs.clone();
        let server = running(&mut inner)?;
        let mut rc = MQTTBROKER_SUCCESS;
        for (i, spec) in specs.iter().enumerate() {
            if server.set_listener(i, spec).is_err() {
                rc = MQTTBROKER_TLS_ERROR;
            }
        }
        if rc == MQTTBROKER_SUCCESS {
            Ok(rc)
        } else {
            Err(rc)
        }
    })
}

/// Stop the broker if it runs and free it; `*handle` becomes NULL. When it
/// returns, no callback of this broker runs or will run. Do not call it from
/// one of the broker's own callbacks.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_destroy(handle: *mut MQTTBroker) {
    guard_or((), || {
        if handle.is_null() || in_delivery_callback() {
            return;
        }
        // SAFETY: `handle` is non-NULL and points to a handle variable.
        let h = unsafe { handle.read() };
        if h.is_null() {
            return;
        }
        // SAFETY: as above.
        unsafe { handle.write(std::ptr::null_mut()) };
        // SAFETY: a live handle from MQTTBroker_create, destroyed only here.
        let boxed = unsafe { Box::from_raw(h.cast::<BrokerHandle>()) };
        // Drop the server outside the lock: its drop waits for the callback
        // thread, whose callbacks may be calling into this handle.
        let server = boxed.lock().server.take();
        drop(server);
        drop(boxed);
    })
}

/// The port that listener `listenerIndex` (0-based, in options order) is
/// bound to, or a negative code: MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_NOT_STARTED or MQTTBROKER_BAD_INDEX.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_getPort(handle: MQTTBroker, listenerIndex: c_int) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        let mut inner = h.lock();
        let server = running(&mut inner)?;
        let port = usize::try_from(listenerIndex)
            .ok()
            .and_then(|i| server.ports().get(i))
            .ok_or(MQTTBROKER_BAD_INDEX)?;
        Ok(c_int::from(*port))
    })
}

/// Publish a message from the host program to the running broker's
/// subscribers, as if a client had published it (retained when `retained`
/// is non-zero). `properties` (NULL: none) reach MQTT 5 subscribers.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_BAD_UTF8_STRING, MQTTBROKER_BAD_QOS, MQTTBROKER_BAD_TOPIC,
/// MQTTBROKER_NOT_STARTED or MQTTBROKER_FAILURE (negative payloadlen, or
/// a property the codec does not know).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_publish(
    handle: MQTTBroker,
    topic: *const c_char,
    payloadlen: c_int,
    payload: *const c_void,
    qos: c_int,
    retained: c_int,
    properties: *mut MQTTProperties,
) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: NULL or a NUL-terminated string per the contract.
        let topic = unsafe { c_str(topic) }?;
        if payloadlen < 0 {
            return Err(MQTTBROKER_FAILURE);
        }
        if payloadlen > 0 && payload.is_null() {
            return Err(MQTTBROKER_NULL_PARAMETER);
        }
        let qos = check_qos(qos)?;
        // SAFETY: NULL or a valid property list per the contract.
        let props = unsafe { from_c(properties) }?;
        // SAFETY: `payloadlen` readable bytes at `payload` (checked non-NULL).
        let data = Bytes::copy_from_slice(unsafe { bytes(payload, payloadlen) });
        let mut inner = h.lock();
        let server = running(&mut inner)?;
        server
            .publish(topic, data, qos, retained != 0, &props)
            .map_err(|_| MQTTBROKER_BAD_TOPIC)?;
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// End the connection of the connected client `clientId` as the broker:
/// an MQTT 5 client gets DISCONNECT with `reasonCode` (one a server may
/// send, e.g. 0x98 administrative action), an MQTT 3.x client is just
/// closed; its will is published, as for any disconnect the server makes.
/// on_client_disconnect hears it with `reasonCode`.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER,
/// MQTTBROKER_BAD_UTF8_STRING, MQTTBROKER_BAD_REASON_CODE,
/// MQTTBROKER_NOT_STARTED or MQTTBROKER_NOT_FOUND (no client with that
/// identifier is connected).
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_disconnectClient(
    handle: MQTTBroker,
    clientId: *const c_char,
    reasonCode: c_int,
) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        // SAFETY: NULL or a NUL-terminated string per the contract.
        let client_id = unsafe { c_str(clientId) }?;
        let code = u8::try_from(reasonCode)
            .ok()
            .map(ReasonCode)
            .filter(|c| {
                *c != ReasonCode::DISCONNECT_WITH_WILL_MESSAGE
                    && c.is_valid_for(PacketType::Disconnect, true)
            })
            .ok_or(MQTTBROKER_BAD_REASON_CODE)?;
        let mut inner = h.lock();
        let server = running(&mut inner)?;
        match server.disconnect_client(client_id, code) {
            true => Ok(MQTTBROKER_SUCCESS),
            false => Err(MQTTBROKER_NOT_FOUND),
        }
    })
}

/// Fill `stats` (its struct_id and struct_version set, e.g. from
/// MQTTBroker_stats_initializer) with the broker's counters; all zero
/// before the first start. Counters survive stop/start.
///
/// Returns MQTTBROKER_SUCCESS, MQTTBROKER_NULL_PARAMETER or
/// MQTTBROKER_BAD_STRUCTURE.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_getStats(handle: MQTTBroker, stats: *mut MQTTBroker_stats) -> c_int {
    guard_rc(|| {
        // SAFETY: NULL or a live handle per the contract.
        let h = unsafe { handle_ref(handle) }?;
        let version = checked_version!(stats, b"MQBS", 2)?;
        let s = h
            .lock()
            .server
            .as_ref()
            .map(Server::stats)
            .unwrap_or_default();
        let n = |v: u64| c_longlong::try_from(v).unwrap_or(c_longlong::MAX);
        let count = |v: usize| n(v as u64);
        // SAFETY: `stats` is non-NULL with a checked id and version; only
        // the fields of that version are written (a version 0 struct ends at
        // refusedConnections), never read as a reference.
        unsafe {
            let id = std::ptr::addr_of!((*stats).struct_id).read_unaligned();
            let all = MQTTBroker_stats {
                struct_id: id,
                struct_version: version,
                connections: count(s.connections),
                sessions: count(s.sessions),
                retained: count(s.retained),
                messagesIn: n(s.messages_in),
                messagesOut: n(s.messages_out),
                dropped: n(s.dropped),
                expired: n(s.expired),
                refusedConnections: n(s.refused_connections),
                droppedQoS0: n(s.dropped_qos0),
                droppedOffline: n(s.dropped_offline),
                flowPauses: n(s.flow_pauses),
                slowConsumers: n(s.slow_consumers),
                deliveryDenied: n(s.delivery_denied),
            };
            let len = match version {
                0 => std::mem::offset_of!(MQTTBroker_stats, droppedQoS0),
                1 => std::mem::offset_of!(MQTTBroker_stats, deliveryDenied),
                _ => std::mem::size_of::<MQTTBroker_stats>(),
            };
            std::ptr::copy_nonoverlapping(
                std::ptr::addr_of!(all).cast::<u8>(),
                stats.cast::<u8>(),
                len,
            );
        }
        Ok(MQTTBROKER_SUCCESS)
    })
}

/// A static English description of an MQTTBROKER_* return code (never NULL).
#[unsafe(no_mangle)]
pub extern "C" fn MQTTBroker_strerror(code: c_int) -> *const c_char {
    guard_or(c"unknown error".as_ptr(), || strerror(code).as_ptr())
}

fn strerror(code: c_int) -> &'static CStr {
    match code {
        MQTTBROKER_SUCCESS => c"success",
        MQTTBROKER_FAILURE => c"failure",
        MQTTBROKER_BAD_UTF8_STRING => c"a string is not valid UTF-8",
        MQTTBROKER_NULL_PARAMETER => c"a required parameter is NULL",
        MQTTBROKER_BAD_STRUCTURE => c"bad structure: wrong struct_id or struct_version",
        MQTTBROKER_BAD_QOS => c"QoS is not 0, 1 or 2",
        MQTTBROKER_BAD_TOPIC => c"invalid topic name",
        MQTTBROKER_ALREADY_STARTED => c"the broker has already been started",
        MQTTBROKER_NOT_STARTED => c"the broker is not running",
        MQTTBROKER_BIND_FAILED => c"a listener address could not be bound",
        MQTTBROKER_BAD_LISTENER => c"a listener is not a valid host:port",
        MQTTBROKER_BAD_INDEX => c"no listener with that index",
        MQTTBROKER_BAD_OPTION => c"a creation option is out of range",
        MQTTBROKER_TLS_ERROR => {
            c"a listener's TLS settings cannot be used (certificate, key, version or ciphers)"
        }
        MQTTBROKER_PERSISTENCE_ERROR => c"the broker store cannot be opened or read",
        MQTTBROKER_NOT_FOUND => c"no connected client has that identifier",
        MQTTBROKER_BAD_REASON_CODE => c"not a reason code a server may send in DISCONNECT",
        MQTTBROKER_IN_DELIVERY_CALLBACK => {
            c"the broker cannot be called from inside on_client_deliver"
        }
        _ => c"unknown error",
    }
}
