//! C types of MQTTAsync.h other than the option structs: return codes, the
//! handle and token, messages, the success/failure data handed to
//! onSuccess/onFailure callbacks, trace levels and the callback types.

use std::ffi::{c_char, c_int, c_void};

use super::properties::MQTTProperties;
use super::reason_codes::enum_MQTTReasonCodes;

/// The call succeeded.
pub const MQTTASYNC_SUCCESS: c_int = 0;
/// Generic failure.
pub const MQTTASYNC_FAILURE: c_int = -1;
/// A persistence operation failed.
pub const MQTTASYNC_PERSISTENCE_ERROR: c_int = -2;
/// The client is not connected.
pub const MQTTASYNC_DISCONNECTED: c_int = -3;
/// The maximum number of in-flight messages is reached.
pub const MQTTASYNC_MAX_MESSAGES_INFLIGHT: c_int = -4;
/// A string argument is not valid UTF-8.
pub const MQTTASYNC_BAD_UTF8_STRING: c_int = -5;
/// A required pointer argument is NULL.
pub const MQTTASYNC_NULL_PARAMETER: c_int = -6;
/// The topic contains an embedded NUL; see messageArrived's topicLen.
pub const MQTTASYNC_TOPICNAME_TRUNCATED: c_int = -7;
/// A structure has the wrong struct_id or an unsupported struct_version.
pub const MQTTASYNC_BAD_STRUCTURE: c_int = -8;
/// A QoS outside 0..2.
pub const MQTTASYNC_BAD_QOS: c_int = -9;
/// Every message identifier is in use.
pub const MQTTASYNC_NO_MORE_MSGIDS: c_int = -10;
/// The request was not complete when the client was destroyed.
pub const MQTTASYNC_OPERATION_INCOMPLETE: c_int = -11;
/// The offline buffer is full.
pub const MQTTASYNC_MAX_BUFFERED_MESSAGES: c_int = -12;
/// An SSL URI or option was used with a library built without TLS.
pub const MQTTASYNC_SSL_NOT_SUPPORTED: c_int = -13;
/// The server URI has an unknown scheme.
pub const MQTTASYNC_BAD_PROTOCOL: c_int = -14;
/// An option that does not apply to the MQTT version in use.
pub const MQTTASYNC_BAD_MQTT_OPTION: c_int = -15;
/// A call for the other MQTT version.
pub const MQTTASYNC_WRONG_MQTT_VERSION: c_int = -16;
/// The will topic is an empty string.
pub const MQTTASYNC_0_LEN_WILL_TOPIC: c_int = -17;
/// A connect or disconnect was ignored because another one is under way.
pub const MQTTASYNC_COMMAND_IGNORED: c_int = -18;
/// maxBufferedMessages in the create options must be >= 0.
pub const MQTTASYNC_MAX_BUFFERED: c_int = -19;
/// Returned by MQTTAsync_isComplete for a finished request.
pub const MQTTASYNC_TRUE: c_int = 1;

/// An opaque asynchronous client handle.
pub type MQTTAsync = *mut c_void;
/// Identifies one request until its onSuccess/onFailure has run.
pub type MQTTAsync_token = c_int;

/// An application message (struct_id "MQTM"; version 0, or 1 with properties).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_message {
    /// Must be "MQTM".
    pub struct_id: [c_char; 4],
    /// 0 or 1 (1 adds `properties`).
    pub struct_version: c_int,
    /// Payload length in bytes.
    pub payloadlen: c_int,
    /// The payload bytes.
    pub payload: *mut c_void,
    /// Quality of service, 0..2.
    pub qos: c_int,
    /// Retained flag.
    pub retained: c_int,
    /// Duplicate delivery flag (set on received messages).
    pub dup: c_int,
    /// Packet identifier (set on received messages).
    pub msgid: c_int,
    /// MQTT 5 properties of the message.
    pub properties: MQTTProperties,
}

/// A name/value pair (version information, WebSocket HTTP headers).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_nameValue {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// The binary password of MQTTAsync_connectData (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_binaryData {
    pub len: c_int,
    pub data: *const c_void,
}

/// The credentials an updateConnectOptions callback may change before a
/// reconnect (struct_id "MQCD", version 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_connectData {
    /// "MQCD".
    pub struct_id: [c_char; 4],
    /// 0.
    pub struct_version: c_int,
    /// User name, or NULL.
    pub username: *const c_char,
    /// Binary password.
    pub binarypwd: MQTTAsync_binaryData,
}

/// What onFailure receives.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_failureData {
    /// The failed request's token.
    pub token: MQTTAsync_token,
    /// A Paho error code, or the server's return code.
    pub code: c_int,
    /// A description, or NULL.
    pub message: *const c_char,
}

/// What onFailure5 receives (struct_id "MQFD", version 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_failureData5 {
    /// "MQFD".
    pub struct_id: [c_char; 4],
    /// 0.
    pub struct_version: c_int,
    /// The failed request's token.
    pub token: MQTTAsync_token,
    /// The server's reason code.
    pub reasonCode: enum_MQTTReasonCodes,
    /// The server's properties.
    pub properties: MQTTProperties,
    /// A Paho error code.
    pub code: c_int,
    /// A description, or NULL.
    pub message: *const c_char,
    /// The packet type of the failing acknowledgement.
    pub packet_type: c_int,
}

/// A publish in success data (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_successData_pub {
    pub message: MQTTAsync_message,
    pub destinationName: *mut c_char,
}

/// A connect in success data (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_successData_connect {
    pub serverURI: *mut c_char,
    pub MQTTVersion: c_int,
    pub sessionPresent: c_int,
}

/// Reason codes of a SUBACK or UNSUBACK (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_successData_codes {
    pub reasonCodeCount: c_int,
    pub reasonCodes: *mut enum_MQTTReasonCodes,
}

/// The per-request part of MQTTAsync_successData (an anonymous union in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Clone, Copy)]
pub union MQTTAsync_successData_alt {
    pub qos: c_int,
    pub qosList: *mut c_int,
    pub pub_: MQTTAsync_successData_pub,
    pub connect: MQTTAsync_successData_connect,
}

/// What onSuccess receives: the token and the request's result.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MQTTAsync_successData {
    /// The request's token.
    pub token: MQTTAsync_token,
    /// Granted QoS (subscribe), granted QoS list (subscribeMany), the
    /// message (send) or the connection (connect).
    pub alt: MQTTAsync_successData_alt,
}

/// The per-request part of MQTTAsync_successData5 (an anonymous union in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Clone, Copy)]
pub union MQTTAsync_successData5_alt {
    pub sub: MQTTAsync_successData_codes,
    pub pub_: MQTTAsync_successData_pub,
    pub connect: MQTTAsync_successData_connect,
    pub unsub: MQTTAsync_successData_codes,
}

/// What onSuccess5 receives (struct_id "MQSD", version 0).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MQTTAsync_successData5 {
    /// "MQSD".
    pub struct_id: [c_char; 4],
    /// 0.
    pub struct_version: c_int,
    /// The request's token.
    pub token: MQTTAsync_token,
    /// The server's reason code.
    pub reasonCode: enum_MQTTReasonCodes,
    /// The acknowledgement's properties.
    pub properties: MQTTProperties,
    /// The request's result.
    pub alt: MQTTAsync_successData5_alt,
}

/// Trace verbosity levels, from most (1) to least (7) detailed.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MQTTASYNC_TRACE_LEVELS {
    MQTTASYNC_TRACE_MAXIMUM = 1,
    MQTTASYNC_TRACE_MEDIUM,
    MQTTASYNC_TRACE_MINIMUM,
    MQTTASYNC_TRACE_PROTOCOL,
    MQTTASYNC_TRACE_ERROR,
    MQTTASYNC_TRACE_SEVERE,
    MQTTASYNC_TRACE_FATAL,
}

/// The C `enum MQTTASYNC_TRACE_LEVELS` as Rust receives it: any int value.
pub type enum_MQTTASYNC_TRACE_LEVELS = c_int;

/// onSuccess (a C function type, used as `MQTTAsync_onSuccess*`).
pub type MQTTAsync_onSuccess =
    Option<unsafe extern "C" fn(context: *mut c_void, response: *mut MQTTAsync_successData)>;
/// onSuccess5 (a C function type).
pub type MQTTAsync_onSuccess5 =
    Option<unsafe extern "C" fn(context: *mut c_void, response: *mut MQTTAsync_successData5)>;
/// onFailure (a C function type).
pub type MQTTAsync_onFailure =
    Option<unsafe extern "C" fn(context: *mut c_void, response: *mut MQTTAsync_failureData)>;
/// onFailure5 (a C function type).
pub type MQTTAsync_onFailure5 =
    Option<unsafe extern "C" fn(context: *mut c_void, response: *mut MQTTAsync_failureData5)>;
/// messageArrived (a C function type).
pub type MQTTAsync_messageArrived = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        topic_name: *mut c_char,
        topic_len: c_int,
        message: *mut MQTTAsync_message,
    ) -> c_int,
>;
/// deliveryComplete (a C function type).
pub type MQTTAsync_deliveryComplete =
    Option<unsafe extern "C" fn(context: *mut c_void, token: MQTTAsync_token)>;
/// connectionLost (a C function type).
pub type MQTTAsync_connectionLost =
    Option<unsafe extern "C" fn(context: *mut c_void, cause: *mut c_char)>;
/// connected (a C function type).
pub type MQTTAsync_connected =
    Option<unsafe extern "C" fn(context: *mut c_void, cause: *mut c_char)>;
/// disconnected (a C function type).
pub type MQTTAsync_disconnected = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        properties: *mut MQTTProperties,
        reason_code: enum_MQTTReasonCodes,
    ),
>;
/// updateConnectOptions (a C function type).
pub type MQTTAsync_updateConnectOptions =
    Option<unsafe extern "C" fn(context: *mut c_void, data: *mut MQTTAsync_connectData) -> c_int>;
/// trace callback (a C function type).
pub type MQTTAsync_traceCallback =
    Option<unsafe extern "C" fn(level: enum_MQTTASYNC_TRACE_LEVELS, message: *mut c_char)>;
/// MQTTPersistence_beforeWrite (a C function type from MQTTClientPersistence.h).
pub type MQTTPersistence_beforeWrite = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        bufcount: c_int,
        buffers: *mut *mut c_char,
        buflens: *mut c_int,
    ) -> c_int,
>;
/// MQTTPersistence_afterRead (a C function type from MQTTClientPersistence.h).
pub type MQTTPersistence_afterRead = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        buffer: *mut *mut c_char,
        buflen: *mut c_int,
    ) -> c_int,
>;
