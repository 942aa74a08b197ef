//! The broker's C callbacks as `broker::server::Hooks`: builds the
//! MQTTBroker_clientInfo/MQTTBroker_message views from the broker's client
//! record and maps the C answers to reason codes.

use std::cell::Cell;
use std::ffi::{CString, c_int, c_void};

use bytes::Bytes;

use super::guard::guard_or;
use super::properties::free as free_properties;
use super::properties_convert::to_c;
use super::types::{
    MQTTBROKER_AUTH_CONTINUE, MQTTBROKER_AUTH_SUCCESS, MQTTBROKER_CONNECTION_LOST,
    MQTTBroker_callbacks, MQTTBroker_clientInfo, MQTTBroker_message, MQTTVERSION_3_1,
    MQTTVERSION_3_1_1, MQTTVERSION_5,
};
use crate::broker::server::{AuthInfo, ConnectInfo, Hooks, PublishInfo};
use crate::broker::{AuthAnswer, ClientRecord, Delivery, DisconnectCause, Hooks as Wants};
use crate::protocol::codec::{Properties, ProtocolVersion, QoS, ReasonCode};

/// The C context pointer, handed back to C unchanged.
#[derive(Clone, Copy)]
struct Context(*mut c_void);

// SAFETY: the pointer is never dereferenced in Rust; C owns what it points
// to and promised (MQTTBroker_setCallbacks) that its callbacks may be called
// with it from the broker's threads.
unsafe impl Send for Context {}
// SAFETY: as above; Rust only copies the pointer value.
unsafe impl Sync for Context {}

thread_local! {
    /// Set while this thread runs on_client_deliver (the broker is locked).
    static IN_DELIVERY: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside on_client_deliver, where calling the
/// broker would deadlock.
pub(crate) fn in_delivery_callback() -> bool {
    IN_DELIVERY.with(Cell::get)
}

/// Most Authentication Data a callback may hand back (a binary property's
/// limit).
const AUTH_DATA_MAX: usize = 65_535;

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

/// on_client_auth's answer, with the data it wrote (if any).
pub(crate) fn auth_answer(rc: c_int, data: Option<Bytes>) -> AuthAnswer {
    match rc {
        MQTTBROKER_AUTH_SUCCESS => AuthAnswer::Success(data),
        MQTTBROKER_AUTH_CONTINUE => AuthAnswer::Continue(data),
        0x80..=0xFF => AuthAnswer::Fail(ReasonCode(rc as u8)),
        _ => AuthAnswer::Fail(ReasonCode::UNSPECIFIED_ERROR),
    }
}

/// on_client_disconnect's `reason` for a cause.
pub(crate) fn disconnect_reason(cause: DisconnectCause) -> c_int {
    match cause {
        DisconnectCause::Normal(rc)
        | DisconnectCause::ProtocolError(rc)
        | DisconnectCause::Refused(rc)
        | DisconnectCause::ByHost(rc) => c_int::from(rc.0),
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
    username: Option<CString>,
    address: CString,
    cert_subject: Option<CString>,
    version: c_int,
    bridge: bool,
    /// The struct_version the callbacks were given with (0 or 1).
    struct_version: c_int,
}

impl InfoStrings {
    fn new(client: &ClientRecord, struct_version: c_int) -> InfoStrings {
        InfoStrings {
            client_id: c_string(&client.client_id),
            username: client.username.as_deref().map(c_string),
            address: c_string(&client.peer.to_string()),
            cert_subject: client.cert_subject.as_deref().map(c_string),
            version: version_code(client.version),
            bridge: client.bridge,
            struct_version,
        }
    }

    /// The C view; valid while `self` and `password` live.
    fn view(&self, password: Option<&[u8]>) -> MQTTBroker_clientInfo {
        let opt = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        MQTTBroker_clientInfo {
            struct_id: [b'M', b'Q', b'B', b'I'].map(|b| b as _),
            struct_version: self.struct_version,
            clientId: self.client_id.as_ptr(),
            username: opt(&self.username),
            password: password.map_or(std::ptr::null(), |p| p.as_ptr().cast()),
            passwordLen: password.map_or(0, |p| c_int::try_from(p.len()).unwrap_or(c_int::MAX)),
            address: self.address.as_ptr(),
            MQTTVersion: self.version,
            certSubject: opt(&self.cert_subject),
            bridge: c_int::from(self.bridge),
        }
    }
}

/// The C view of a message; its property list must be freed with
/// `free_message`.
fn c_message(
    payload: &Bytes,
    qos: QoS,
    retain: bool,
    properties: &Properties,
) -> MQTTBroker_message {
    MQTTBroker_message {
        struct_id: [b'M', b'Q', b'B', b'M'].map(|b| b as _),
        struct_version: 0,
        payloadlen: c_int::try_from(payload.len()).unwrap_or(c_int::MAX),
        payload: payload.as_ptr().cast(),
        qos: qos as c_int,
        retained: c_int::from(retain),
        properties: to_c(properties),
    }
}

fn free_message(m: &mut MQTTBroker_message) {
    // SAFETY: the list was built by `to_c` and is freed once.
    unsafe { free_properties(&mut m.properties) };
}

/// The C callbacks of one broker.
pub(crate) struct CHooks {
    callbacks: MQTTBroker_callbacks,
    context: Context,
}

impl CHooks {
    /// `callbacks` as read for its struct_version (later members NULL).
    pub(crate) fn new(callbacks: MQTTBroker_callbacks, context: *mut c_void) -> CHooks {
        CHooks {
            callbacks,
            context: Context(context),
        }
    }

    fn info(&self, client: &ClientRecord) -> InfoStrings {
        InfoStrings::new(client, self.callbacks.struct_version.clamp(0, 1))
    }
}

impl Hooks for CHooks {
    fn wants(&self) -> Wants {
        let c = &self.callbacks;
        Wants {
            connect: c.on_client_connect.is_some(),
            publish: c.on_client_publish.is_some(),
            subscribe: c.on_client_subscribe.is_some(),
            notices: c.on_client_disconnect.is_some(),
            unsubscribe: c.on_client_unsubscribe.is_some(),
            auth: c.on_client_auth.is_some(),
            deliver: c.on_client_deliver.is_some(),
            // on_client_disconnect shows the user name too.
            lean_notices: false,
        }
    }

    fn on_connect(&self, info: &ConnectInfo) -> ReasonCode {
        guard_or(ReasonCode::UNSPECIFIED_ERROR, || {
            let Some(f) = self.callbacks.on_client_connect else {
                return ReasonCode::SUCCESS;
            };
            let who = self.info(&info.client);
            let view = who.view(info.password.as_deref());
            // SAFETY: a C function pointer given to setCallbacks; the
            // view's pointers live until it returns.
            connect_code(unsafe { f(self.context.0, &view) })
        })
    }

    fn on_auth(&self, client: &ClientRecord, info: &AuthInfo) -> AuthAnswer {
        let fail = AuthAnswer::Fail(ReasonCode::UNSPECIFIED_ERROR);
        guard_or(fail, || {
            let Some(f) = self.callbacks.on_client_auth else {
                return AuthAnswer::Fail(ReasonCode::BAD_AUTHENTICATION_METHOD);
            };
            let who = self.info(client);
            let view = who.view(None);
            let method = c_string(&info.method);
            let data = info.data.as_deref().unwrap_or_default();
            let data_ptr = info
                .data
                .as_ref()
                .map_or(std::ptr::null(), |d| d.as_ptr().cast());
            let mut out = vec![0u8; AUTH_DATA_MAX];
            let mut out_len: c_int = -1;
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns, and `out` has
            // AUTH_DATA_MAX writable bytes.
            let rc = unsafe {
                f(
                    self.context.0,
                    &view,
                    method.as_ptr(),
                    data_ptr,
                    c_int::try_from(data.len()).unwrap_or(c_int::MAX),
                    c_int::try_from(info.step).unwrap_or(c_int::MAX),
                    out.as_mut_ptr().cast(),
                    AUTH_DATA_MAX as c_int,
                    &mut out_len,
                )
            };
            let reply = usize::try_from(out_len).ok().map(|n| {
                out.truncate(n.min(AUTH_DATA_MAX));
                Bytes::from(out)
            });
            auth_answer(rc, reply)
        })
    }

    fn on_publish(&self, info: &PublishInfo) -> ReasonCode {
        guard_or(ReasonCode::UNSPECIFIED_ERROR, || {
            let Some(f) = self.callbacks.on_client_publish else {
                return ReasonCode::SUCCESS;
            };
            let who = self.info(&info.client);
            let topic = c_string(&info.topic);
            let mut message = c_message(&info.payload, info.qos, info.retain, &info.properties);
            let view = who.view(None);
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns.
            let rc = unsafe { f(self.context.0, &view, topic.as_ptr(), &message) };
            free_message(&mut message);
            publish_code(rc)
        })
    }

    fn on_subscribe(&self, client: &ClientRecord, filter: &str, qos: QoS) -> ReasonCode {
        guard_or(ReasonCode::UNSPECIFIED_ERROR, || {
            let Some(f) = self.callbacks.on_client_subscribe else {
                return ReasonCode(qos as u8);
            };
            let who = self.info(client);
            let filter = c_string(filter);
            let view = who.view(None);
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns.
            let rc = unsafe { f(self.context.0, &view, filter.as_ptr(), qos as c_int) };
            subscribe_code(rc, qos)
        })
    }

    fn on_unsubscribe(&self, client: &ClientRecord, filter: &str) {
        guard_or((), || {
            let Some(f) = self.callbacks.on_client_unsubscribe else {
                return;
            };
            let who = self.info(client);
            let filter = c_string(filter);
            let view = who.view(None);
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns.
            unsafe { f(self.context.0, &view, filter.as_ptr()) };
        })
    }

    fn on_deliver(&self, client: &ClientRecord, m: &Delivery<'_>) -> bool {
        guard_or(true, || {
            let Some(f) = self.callbacks.on_client_deliver else {
                return true;
            };
            let who = self.info(client);
            let topic = c_string(m.topic);
            let mut message = c_message(m.payload, m.qos, m.retain, m.properties);
            let view = who.view(None);
            let was = IN_DELIVERY.with(|d| d.replace(true));
            // SAFETY: a C function pointer given to setCallbacks; every
            // pointer passed lives until it returns.
            let rc = unsafe { f(self.context.0, &view, topic.as_ptr(), &message) };
            IN_DELIVERY.with(|d| d.set(was));
            free_message(&mut message);
            rc == 0
        })
    }

    fn on_disconnect(&self, client: &ClientRecord, cause: DisconnectCause) {
        guard_or((), || {
            let Some(f) = self.callbacks.on_client_disconnect else {
                return;
            };
            let who = self.info(client);
            let view = who.view(None);
            // SAFETY: a C function pointer given to setCallbacks; the
            // view's pointers live until it returns.
            unsafe { f(self.context.0, &view, disconnect_reason(cause)) };
        })
    }
}
