//! C types of MQTTClient.h: return codes and version constants, the handle
//! and token typedefs, messages, responses, trace levels and callback types.
//! The option structs (connect, will, SSL, create, init) are in `options.rs`.

use std::ffi::{c_char, c_int, c_void};

use super::properties::MQTTProperties;
use super::reason_codes::enum_MQTTReasonCodes;

/// The call succeeded.
pub const MQTTCLIENT_SUCCESS: c_int = 0;
/// Generic failure (also: a wait timed out).
pub const MQTTCLIENT_FAILURE: c_int = -1;
/// The client is not connected.
pub const MQTTCLIENT_DISCONNECTED: c_int = -3;
/// The maximum number of in-flight messages is reached.
pub const MQTTCLIENT_MAX_MESSAGES_INFLIGHT: c_int = -4;
/// A string argument is not valid UTF-8.
pub const MQTTCLIENT_BAD_UTF8_STRING: c_int = -5;
/// A required pointer argument is NULL.
pub const MQTTCLIENT_NULL_PARAMETER: c_int = -6;
/// The topic contains an embedded NUL; see MQTTClient_receive's topicLen.
pub const MQTTCLIENT_TOPICNAME_TRUNCATED: c_int = -7;
/// A structure has the wrong struct_id or an unsupported struct_version.
pub const MQTTCLIENT_BAD_STRUCTURE: c_int = -8;
/// A QoS outside 0..2.
pub const MQTTCLIENT_BAD_QOS: c_int = -9;
/// An SSL URI or option was used with a library built without TLS.
pub const MQTTCLIENT_SSL_NOT_SUPPORTED: c_int = -10;
/// An MQTT version that is not 3.1, 3.1.1 or 5 was asked for.
pub const MQTTCLIENT_BAD_MQTT_VERSION: c_int = -11;
/// The server URI has an unknown scheme.
pub const MQTTCLIENT_BAD_PROTOCOL: c_int = -14;
/// An option that does not apply to the MQTT version in use.
pub const MQTTCLIENT_BAD_MQTT_OPTION: c_int = -15;
/// A call for the other MQTT version (a `*5` call on a 3.x client or the reverse).
pub const MQTTCLIENT_WRONG_MQTT_VERSION: c_int = -16;
/// The will topic is an empty string.
pub const MQTTCLIENT_0_LEN_WILL_TOPIC: c_int = -17;

/// Try MQTT 3.1.1, then fall back to 3.1.
pub const MQTTVERSION_DEFAULT: c_int = 0;
/// MQTT 3.1 only.
pub const MQTTVERSION_3_1: c_int = 3;
/// MQTT 3.1.1 only.
pub const MQTTVERSION_3_1_1: c_int = 4;
/// MQTT 5.0 only.
pub const MQTTVERSION_5: c_int = 5;
/// The granted QoS that reports a refused subscription (3.1.1).
pub const MQTT_BAD_SUBSCRIBE: c_int = 0x80;

/// An opaque client handle.
pub type MQTTClient = *mut c_void;
/// Identifies one QoS 1/2 publication until it completes.
pub type MQTTClient_deliveryToken = c_int;
/// Same as MQTTClient_deliveryToken.
pub type MQTTClient_token = c_int;

/// An application message (struct_id "MQTM"; struct_version 0, or 1 with
/// properties).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTClient_message {
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
    /// Duplicate delivery flag (set by the library on received messages).
    pub dup: c_int,
    /// Packet identifier (set by the library on received messages).
    pub msgid: c_int,
    /// MQTT 5 properties of the message.
    pub properties: MQTTProperties,
}

/// The result of an MQTT 5 call: the reason code, one code per topic for
/// subscribe/unsubscribe of several topics, and the acknowledgement's
/// properties. Release with MQTTResponse_free.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTResponse {
    /// Structure version (1).
    pub version: c_int,
    /// The reason code of the operation.
    pub reasonCode: enum_MQTTReasonCodes,
    /// Number of entries at `reasonCodes`.
    pub reasonCodeCount: c_int,
    /// Reason codes per topic, for the *Many calls.
    pub reasonCodes: *mut enum_MQTTReasonCodes,
    /// Properties of the acknowledgement, if any.
    pub properties: *mut MQTTProperties,
}

/// Trace verbosity levels, from most (1) to least (7) detailed.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MQTTCLIENT_TRACE_LEVELS {
    MQTTCLIENT_TRACE_MAXIMUM = 1,
    MQTTCLIENT_TRACE_MEDIUM,
    MQTTCLIENT_TRACE_MINIMUM,
    MQTTCLIENT_TRACE_PROTOCOL,
    MQTTCLIENT_TRACE_ERROR,
    MQTTCLIENT_TRACE_SEVERE,
    MQTTCLIENT_TRACE_FATAL,
}

/// The C `enum MQTTCLIENT_TRACE_LEVELS` as Rust receives it: any int value.
#[allow(non_camel_case_types)]
pub type enum_MQTTCLIENT_TRACE_LEVELS = c_int;

/// A name/value pair, as returned by MQTTClient_getVersionInfo.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTClient_nameValue {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// messageArrived callback; in C a function type, used as `MQTTClient_messageArrived*`.
pub type MQTTClient_messageArrived = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        topic_name: *mut c_char,
        topic_len: c_int,
        message: *mut MQTTClient_message,
    ) -> c_int,
>;
/// deliveryComplete callback (a C function type).
pub type MQTTClient_deliveryComplete =
    Option<unsafe extern "C" fn(context: *mut c_void, dt: MQTTClient_deliveryToken)>;
/// connectionLost callback (a C function type).
pub type MQTTClient_connectionLost =
    Option<unsafe extern "C" fn(context: *mut c_void, cause: *mut c_char)>;
/// disconnected callback (a C function type).
pub type MQTTClient_disconnected = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        properties: *mut MQTTProperties,
        reason_code: enum_MQTTReasonCodes,
    ),
>;
/// published callback (a C function type).
pub type MQTTClient_published = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        dt: c_int,
        packet_type: c_int,
        properties: *mut MQTTProperties,
        reason_code: enum_MQTTReasonCodes,
    ),
>;
/// trace callback (a C function type).
pub type MQTTClient_traceCallback =
    Option<unsafe extern "C" fn(level: enum_MQTTCLIENT_TRACE_LEVELS, message: *mut c_char)>;
