//! The broker's C callbacks as `broker::server::Hooks`: builds the
//! MQTTBroker_clientInfo/MQTTBroker_message views, remembers who each client
//! is (user name, address, version), and maps the C answers to reason codes.

use std::collections::HashMap;
use std::ffi::{CString, c_int, c_void};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use super::guard::guard_or;
use super::properties::free as free_properties;
use super::properties_convert::to_c;
use super::types::{
    MQTTBROKER_CONNECTION_LOST, MQTTBroker_callbacks, MQTTBroker_clientInfo, MQTTBroker_message,
    MQTTVERSION_3_1, MQTTVERSION_3_1_1, MQTTVERSION_5,
};
use crate::broker::server::{ConnectInfo, Hooks, PublishInfo};
use crate::broker::{DisconnectCause, Hooks as Wants};
use crate::protocol::codec::{ProtocolVersion, QoS, ReasonCode};

/// The C context pointer, handed back to C unchanged.
#[derive(Clone, Copy)]
struct Context(*mut c_void);

// SAFETY: the pointer is never dereferenced in Rust; C owns what it points
// to and promised (MQTTBroker_setCallbacks) that its callbacks may be called
// with it from the broker's callback thread.
unsafe impl Send for Context {}
// SAFETY: as above; Rust only copies the pointer value.
unsafe impl Sync for Context {}

/// What is known about a connected client, kept for the callbacks after
/// on_client_connect (which alone sees the CONNECT).
#[derive(Clone, Default)]
struct Known {
    username: Option<CString>,
    address: Option<CString>,
    version: c_int,
}

/// Most CONNECTs remembered between the decision and the connected notice;
/// beyond it the oldest are forgotten (they only lose their user name).
const MAX_PENDING: usize = 4096;

/// The C callbacks of one broker.
pub(crate) struct CHooks {
    callbacks: MQTTBroker_callbacks,
    context: Context,
    /// User names of accepted CONNECTs by peer address, until the client is
    /// connected under its final id.
    pending: Mutex<HashMap<SocketAddr, Option<CString>>>,
    /// Connected clients by client id.
    clients: Mutex<HashMap<String, Known>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A C string of `s`, cut at an inner NUL (MQTT strings hold none).
pub(crate) fn c_string(s: &str) -> CString {
    let end = s.find('\0').unwrap_or(s.len());
    CString::new(&s[..end]).unwrap_or_default()
}

/// The C constant for a protocol version.
pub(crate) fn version_code(v: ProtocolVersion) -> c_int {
    match v {
        ProtocolVersion::V31 => MQTTVERSION_3_1,
        ProtocolVersion::V311 => MQTTVERSION_3_1_1,
        ProtocolVersion::V5 => MQTTVERSION_5,
    }
}

/// on_client_connect's answer as a CONNACK reason code.
pub(crate) fn connect_code(rc: c_int) -> ReasonCode {
    match rc {
        0 => ReasonCode::SUCCESS,
        1 => ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
        2 => ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
        3 => ReasonCode::SERVER_UNAVAILABLE,
        4 => ReasonCode::BAD_USER_NAME_OR_PASSWORD,
        5 => ReasonCode::NOT_AUTHORIZED,
        0x80..=0xFF => ReasonCode(rc as u8),
        _ => ReasonCode::UNSPECIFIED_ERROR,
    }
}

/// on_client_publish's answer: 0..0x7F accept, 0x80..0xFF refuse with
/// that code, anything else refuses with 0x80.
pub(crate) fn publish_code(rc: c_int) -> ReasonCode {
    match rc {
        0..=0x7F => ReasonCode::SUCCESS,
        0x80..=0xFF => ReasonCode(rc as u8),
        _ => ReasonCode::UNSPECIFIED_ERROR,
    }
}

/// on_client_subscribe's answer: a granted QoS (capped at the request), a
/// failure code 0x80..0xFF, or 0x80 for anything else.
pub(crate) fn subscribe_code(rc: c_int, asked: QoS) -> ReasonCode {
    match rc {
        0..=2 => ReasonCode((rc as u8).min(asked as u8)),
        0x80..=0xFF => ReasonCode(rc as u8),
        _ => ReasonCode::UNSPECIFIED_ERROR,
    }
}

/// on_client_disconnect's `reason` for a cause.
pub(crate) fn disconnect_reason(cause: DisconnectCause) -> c_int {
    match cause {
        DisconnectCause::Normal(rc)
        | DisconnectCause::ProtocolError(rc)
        | DisconnectCause::Refused(rc) => c_int::from(rc.0),
        DisconnectCause::ConnectionLost => MQTTBROKER_CONNECTION_LOST,
        DisconnectCause::KeepAliveTimeout => c_int::from(ReasonCode::KEEP_ALIVE_TIMEOUT.0),
        DisconnectCause::TakenOver => c_int::from(ReasonCode::SESSION_TAKEN_OVER.0),
        DisconnectCause::ServerShutdown => c_int::from(ReasonCode::SERVER_SHUTTING_DOWN.0),
        DisconnectCause::SlowConsumer => c_int::from(ReasonCode::QUOTA_EXCEEDED.0),
    }
}

/// The owned strings behind one MQTTBroker_clientInfo.
struct InfoStrings {
    client_id: CString,
    known: Known,
}

impl InfoStrings {
    /// The C view; valid while `self` and `password` live.
    fn view(&self, password: Option<&[u8]>) -> MQTTBroker_clientInfo {
        let opt = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        MQTTBroker_clientInfo {
            struct_id: [b'M', b'Q', b'B', b'I'].map(|b| b as _),
            struct_version: 0,
            clientId: self.client_id.as_ptr(),
            username: opt(&self.known.username),
            password: password.map_or(std::ptr::null(), |p| p.as_ptr().cast()),
            passwordLen: password.map_or(0, |p| c_int::try_from(p.len()).unwrap_or(c_int::MAX)),
            address: opt(&self.known.address),
            MQTTVersion: self.known.version,
        }
    }
}

impl CHooks {
    pub(crate) fn new(callbacks: MQTTBroker_callbacks, context: *mut c_void) -> CHooks {
        CHooks {
            callbacks,
            context: Context(context),
            pending: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Whether any callback is set after a publish/subscribe/disconnect one
    /// (those need the connect-time facts remembered).
    fn tracks(&self) -> bool {
        let c = &self.callbacks;
        c.on_client_publish.is_some()
            || c.on_client_subscribe.is_some()
            || c.on_client_disconnect.is_some()
    }

    /// What we know of `client_id` (only its id when nothing is known).
    fn info(&self, client_id: &str) -> InfoStrings {
        InfoStrings {
            client_id: c_string(client_id),
            known: lock(&self.clients)
                .get(client_id)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

impl Hooks for CHooks {
    fn wants(&self) -> Wants {
        let c = &self.callbacks;
        let tracks = self.tracks();
        Wants {
            // Asked also when only later callbacks are set, to learn the user name.
            connect: c.on_client_connect.is_some() || tracks,
            publish: c.on_client_publish.is_some(),
            subscribe: c.on_client_subscribe.is_some(),
            notices: tracks,
        }
    }

    fn on_connect(&self, info: &ConnectInfo) -> ReasonCode {
        guard_or(ReasonCode::UNSPECIFIED_ERROR, || {
            let strings = InfoStrings {
                client_id: c_string(&info.client_id),
                known: Known {
                    username: info.username.as_deref().map(c_string),
                    address: Some(c_string(&info.peer.to_string())),
                    version: version_code(info.version),
                },
            };
            let code = match self.callbacks.on_client_connect {
                Some(f) => {
                    let view = strings.view(info.password.as_deref());
                    // SAFETY: a C function pointer given to setCallbacks; the
                    // view's pointers live until it returns.
                    connect_code(unsafe { f(self.context.0, &view) })
                }
                None => ReasonCode::SUCCESS,
            };
            if code.is_success() && self.tracks() {
                let mut pending = lock(&self.pending);
                if pending.len() >= MAX_PENDING {
                    pending.clear();
                }
                pending.insert(info.peer, strings.known.username);
            }
            code
        })
    }

    fn on_publish(&self, info: &PublishInfo) -> ReasonCode {
        guard_or(ReasonCode::UNSPECIFIED_ERROR, || {
            let Some(f) = self.callbacks.on_client_publish else {
                return ReasonCode::SUCCESS;
            };
            let who = self.info(&info.client_id);
            let topic = c_string(&info.topic);
            let mut message = MQTTBroker_message {
                struct_id: [b'M', b'Q', b'B', b'M'].map(|b| b as _),
                struct_version: 0,
                payloadlen: c_int::try_from(info.payload.len()).unwrap_or(c_int::MAX),
                payload: info.payload.as_ptr().cast(),
                qos: info.qos as c_int,
                retained: c_int::from(info.retain),
                properties: to_c(&info.properties),
            };
            let view = who.view(None);
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns.
            let rc = unsafe { f(self.context.0, &view, topic.as_ptr(), &message) };
            // SAFETY: the list was built by `to_c` and is freed once.
            unsafe { free_properties(&mut message.properties) };
            publish_code(rc)
        })
    }

    fn on_subscribe(&self, client_id: &str, filter: &str, qos: QoS) -> ReasonCode {
        guard_or(ReasonCode::UNSPECIFIED_ERROR, || {
            let Some(f) = self.callbacks.on_client_subscribe else {
                return ReasonCode(qos as u8);
            };
            let who = self.info(client_id);
            let filter = c_string(filter);
            let view = who.view(None);
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns.
            let rc = unsafe { f(self.context.0, &view, filter.as_ptr(), qos as c_int) };
            subscribe_code(rc, qos)
        })
    }

    fn on_connected(&self, client_id: &str, version: ProtocolVersion, peer: Option<SocketAddr>) {
        guard_or((), || {
            let username = peer.and_then(|p| lock(&self.pending).remove(&p)).flatten();
            let known = Known {
                username,
                address: peer.map(|p| c_string(&p.to_string())),
                version: version_code(version),
            };
            lock(&self.clients).insert(client_id.to_owned(), known);
        })
    }

    fn on_disconnect(&self, client_id: &str, cause: DisconnectCause) {
        guard_or((), || {
            let who = self.info(client_id);
            // A taken-over session's id now belongs to the new connection.
            if cause != DisconnectCause::TakenOver {
                lock(&self.clients).remove(client_id);
            }
            if let Some(f) = self.callbacks.on_client_disconnect {
                let view = who.view(None);
                // SAFETY: a C function pointer given to setCallbacks; the
                // view's pointers live until it returns.
                unsafe { f(self.context.0, &view, disconnect_reason(cause)) };
            }
        })
    }
}
