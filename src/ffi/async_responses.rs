//! onSuccess/onFailure for MQTTAsync requests: the C callbacks of a request
//! become one `OnComplete` closure that fills MQTTAsync_successData(5) or
//! failureData(5) as Paho does, calls C, then frees what it allocated.

use std::ffi::{CString, c_char, c_int, c_void};

use super::async_handle::c_ptr;
use super::client_callbacks::Context;
use super::properties_convert::to_c;
use super::types::{
    MQTTAsync_failureData, MQTTAsync_failureData5, MQTTAsync_message, MQTTAsync_onFailure,
    MQTTAsync_onFailure5, MQTTAsync_onSuccess, MQTTAsync_onSuccess5, MQTTAsync_successData,
    MQTTAsync_successData_alt, MQTTAsync_successData_codes, MQTTAsync_successData_connect,
    MQTTAsync_successData_pub, MQTTAsync_successData5, MQTTAsync_successData5_alt, MQTTProperties,
};
use crate::client::error::ClientError;
use crate::client::pending::{Failure, OnComplete, Success};
use crate::client::sync::Message;
use crate::protocol::codec::{Properties, ReasonCode};

/// Which request a completion belongs to (decides how `alt` is filled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Connect,
    Publish,
    /// Subscribe to this many filters.
    Subscribe(usize),
    Unsubscribe,
    Disconnect,
}

/// A request's C callbacks and their context.
#[derive(Clone, Copy)]
pub(crate) struct Responders {
    pub context: Context,
    pub on_success: MQTTAsync_onSuccess,
    pub on_failure: MQTTAsync_onFailure,
    pub on_success5: MQTTAsync_onSuccess5,
    pub on_failure5: MQTTAsync_onFailure5,
}

impl Responders {
    pub(crate) fn none() -> Responders {
        Responders {
            context: Context(std::ptr::null_mut()),
            on_success: None,
            on_failure: None,
            on_success5: None,
            on_failure5: None,
        }
    }

    fn any3(&self) -> bool {
        self.on_success.is_some() || self.on_failure.is_some()
    }

    fn any5(&self) -> bool {
        self.on_success5.is_some() || self.on_failure5.is_some()
    }

    /// Paho refuses a request that mixes 3.x and 5 callbacks, and 5
    /// callbacks on a client not created for MQTT 5.
    pub(crate) fn check(&self, v5: bool) -> Result<(), c_int> {
        if (self.any3() && self.any5()) || (self.any5() && !v5) {
            return Err(super::types::MQTTASYNC_BAD_MQTT_OPTION);
        }
        Ok(())
    }

    /// The closure the Rust client runs once when the request completes;
    /// None when C asked for no callback.
    pub(crate) fn on_complete(self, request: Request) -> Option<OnComplete> {
        if !self.any3() && !self.any5() {
            return None;
        }
        Some(Box::new(move |token, result| match result {
            Ok(Success::Ack(a)) if request == Request::Subscribe(1) && refused(&a.codes) => {
                self.refused_subscription(token, a.codes[0], a.properties)
            }
            Ok(s) => self.success(request, token, &s),
            Err(f) => self.failure(token, &f),
        }))
    }

    /// As Paho: a subscription to one filter that the server refused goes
    /// to onFailure, with the SUBACK code as `code` (3.x) or as
    /// `reasonCode` (onFailure5, whose `code` is then 0).
    fn refused_subscription(&self, token: i32, reason: ReasonCode, properties: Properties) {
        // The SUBACK code goes out as `code` as it is (Refused keeps it).
        let f = Failure {
            error: ClientError::Refused(if self.on_failure5.is_some() {
                0
            } else {
                c_int::from(reason.0)
            }),
            reason,
            properties,
            message: None,
        };
        self.failure(token, &f)
    }

    fn success(&self, request: Request, token: i32, s: &Success) {
        let parts = Parts::new(s);
        if let Some(f) = self.on_success5 {
            let mut data = parts.data5(request, token);
            // SAFETY: the application's callback; `data` and everything it
            // points to stay valid until it returns.
            unsafe { f(self.context.0, &mut data) };
            // SAFETY: the properties were built by `to_c` in `data5`.
            unsafe { super::properties::free(&mut data.properties) };
        } else if let Some(f) = self.on_success {
            let mut data = parts.data(request, token);
            // SAFETY: as above.
            unsafe { f(self.context.0, &mut data) };
        }
    }

    fn failure(&self, token: i32, f: &Failure) {
        let message = f
            .message
            .as_ref()
            .and_then(|m| CString::new(m.as_str()).ok());
        if let Some(cb) = self.on_failure5 {
            let mut data = MQTTAsync_failureData5 {
                struct_id: id(b"MQFD"),
                struct_version: 0,
                token,
                reasonCode: c_int::from(f.reason.0),
                properties: to_c(&f.properties),
                code: super::client_errors::async_code(&f.error),
                message: c_ptr(&message),
                packet_type: 0,
            };
            // SAFETY: the application's callback; `data` is valid during the call.
            unsafe { cb(self.context.0, &mut data) };
            // SAFETY: built by `to_c` above.
            unsafe { super::properties::free(&mut data.properties) };
        } else if let Some(cb) = self.on_failure {
            let mut data = MQTTAsync_failureData {
                token,
                code: super::client_errors::async_code(&f.error),
                message: c_ptr(&message),
            };
            // SAFETY: as above.
            unsafe { cb(self.context.0, &mut data) };
        }
    }
}

/// One SUBACK code, a refusal (0x80 in 3.1.1, >= 0x80 in 5).
fn refused(codes: &[ReasonCode]) -> bool {
    matches!(codes, [c] if c.0 >= 0x80)
}

/// A struct eyecatcher as C chars.
pub(crate) fn id(s: &[u8; 4]) -> [c_char; 4] {
    s.map(|b| b as c_char)
}

/// The owned pieces success data points into; they outlive the callback.
struct Parts<'a> {
    success: &'a Success,
    text: Option<CString>,
    codes: Vec<c_int>,
}

impl<'a> Parts<'a> {
    fn new(success: &'a Success) -> Parts<'a> {
        let (text, codes) = match success {
            Success::Connect { server_uri, .. } => {
                // Paho reports plain TCP addresses without their scheme.
                let shown = ["tcp://", "mqtt://"]
                    .iter()
                    .find_map(|p| server_uri.strip_prefix(p))
                    .unwrap_or(server_uri);
                (CString::new(shown).ok(), vec![])
            }
            Success::Publish { topic, .. } => (CString::new(topic.as_str()).ok(), vec![]),
            Success::Ack(a) => (None, a.codes.iter().map(|c| c_int::from(c.0)).collect()),
            Success::Disconnect => (None, vec![]),
        };
        Parts {
            success,
            text,
            codes,
        }
    }

    fn message(&self, m: &Message) -> MQTTAsync_message {
        MQTTAsync_message {
            struct_id: id(b"MQTM"),
            struct_version: 1,
            payloadlen: c_int::try_from(m.payload.len()).unwrap_or(c_int::MAX),
            payload: m.payload.as_ptr().cast::<c_void>().cast_mut(),
            qos: m.qos as c_int,
            retained: c_int::from(m.retained),
            dup: c_int::from(m.dup),
            msgid: c_int::from(m.msgid),
            properties: MQTTProperties::default(),
        }
    }

    fn connect(&self) -> Option<MQTTAsync_successData_connect> {
        match self.success {
            Success::Connect {
                mqtt_version,
                session_present,
                ..
            } => Some(MQTTAsync_successData_connect {
                serverURI: c_ptr(&self.text),
                MQTTVersion: *mqtt_version,
                sessionPresent: c_int::from(*session_present),
            }),
            _ => None,
        }
    }

    fn publish(&self) -> Option<MQTTAsync_successData_pub> {
        match self.success {
            Success::Publish { message, .. } => Some(MQTTAsync_successData_pub {
                message: self.message(message),
                destinationName: c_ptr(&self.text),
            }),
            _ => None,
        }
    }

    fn codes(&self) -> MQTTAsync_successData_codes {
        MQTTAsync_successData_codes {
            reasonCodeCount: c_int::try_from(self.codes.len()).unwrap_or(c_int::MAX),
            reasonCodes: if self.codes.is_empty() {
                std::ptr::null_mut()
            } else {
                self.codes.as_ptr().cast_mut()
            },
        }
    }

    /// MQTTAsync_successData: granted QoS (one filter) or QoS list (many)
    /// for subscribe, the message for a publish, the server for connect.
    fn data(&self, request: Request, token: i32) -> MQTTAsync_successData {
        // SAFETY: all-zero is a valid value of this union of ints,
        // pointers and structs of them; C sees no uninitialised bytes.
        let mut alt: MQTTAsync_successData_alt = unsafe { std::mem::zeroed() };
        if let Some(c) = self.connect() {
            alt.connect = c;
        } else if let Some(p) = self.publish() {
            alt.pub_ = p;
        } else if let Request::Subscribe(n) = request {
            if n > 1 {
                alt.qosList = self.codes.as_ptr().cast_mut();
            } else {
                alt.qos = self.codes.first().copied().unwrap_or(0);
            }
        }
        MQTTAsync_successData { token, alt }
    }

    /// MQTTAsync_successData5: the reason code and properties as well.
    fn data5(&self, request: Request, token: i32) -> MQTTAsync_successData5 {
        let (reason, properties) = match self.success {
            Success::Publish {
                reason, properties, ..
            } => (c_int::from(reason.0), to_c(properties)),
            Success::Connect { properties, .. } => (0, to_c(properties)),
            Success::Ack(a) => (
                self.codes.first().copied().unwrap_or(0),
                to_c(&a.properties),
            ),
            Success::Disconnect => (0, MQTTProperties::default()),
        };
        // SAFETY: as in `data`.
        let mut alt: MQTTAsync_successData5_alt = unsafe { std::mem::zeroed() };
        alt.sub = self.codes();
        if let Some(c) = self.connect() {
            alt.connect = c;
        } else if let Some(p) = self.publish() {
            alt.pub_ = p;
        } else if request == Request::Unsubscribe {
            alt.unsub = self.codes();
        }
        MQTTAsync_successData5 {
            struct_id: id(b"MQSD"),
            struct_version: 0,
            token,
            reasonCode: reason,
            properties,
            alt,
        }
    }
}
