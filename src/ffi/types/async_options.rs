//! C option structs of MQTTAsync.h: init, create, will, SSL, connect,
//! disconnect and response (call) options. Later struct versions only append
//! fields, so a reader must not touch fields its version lacks.

use std::ffi::{c_char, c_int, c_uchar, c_uint, c_void};

use super::async_client::{
    MQTTAsync_binaryData, MQTTAsync_nameValue, MQTTAsync_onFailure, MQTTAsync_onFailure5,
    MQTTAsync_onSuccess, MQTTAsync_onSuccess5, MQTTAsync_token,
};
use super::properties::MQTTProperties;
use super::reason_codes::enum_MQTTReasonCodes;
use super::subscribe_opts::MQTTSubscribe_options;

/// Process-wide initialisation options (struct_id "MQTG", version 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_init_options {
    /// Must be "MQTG".
    pub struct_id: [c_char; 4],
    /// Must be 0.
    pub struct_version: c_int,
    /// 1: the library initialises OpenSSL; 0: the application does.
    pub do_openssl_init: c_int,
}

/// Options of MQTTAsync_createWithOptions (struct_id "MQCO", versions 0..2):
/// version 1 adds MQTTVersion, 2 the offline buffer refinements.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_createOptions {
    /// Must be "MQCO".
    pub struct_id: [c_char; 4],
    /// 0..2.
    pub struct_version: c_int,
    /// Buffer messages sent while disconnected (after a first connect).
    pub sendWhileDisconnected: c_int,
    /// Size of the offline buffer.
    pub maxBufferedMessages: c_int,
    /// MQTTVERSION_DEFAULT, 3.x or MQTTVERSION_5 (version 1).
    pub MQTTVersion: c_int,
    /// Also buffer before the first connect (version 2).
    pub allowDisconnectedSendAtAnyTime: c_int,
    /// Drop the oldest buffered message when the buffer is full (version 2).
    pub deleteOldestMessages: c_int,
    /// Restore persisted messages on create (version 2).
    pub restoreMessages: c_int,
    /// Persist QoS 0 messages too (version 2).
    pub persistQoS0: c_int,
}

/// The binary will payload (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_willOptions_payload {
    pub len: c_int,
    pub data: *const c_void,
}

/// The last will and testament (struct_id "MQTW"; version 0, or 1 with the
/// binary payload).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_willOptions {
    /// Must be "MQTW".
    pub struct_id: [c_char; 4],
    /// 0 or 1.
    pub struct_version: c_int,
    /// The will topic.
    pub topicName: *const c_char,
    /// The will payload as a C string (used when `payload.data` is NULL).
    pub message: *const c_char,
    /// Retained flag of the will message.
    pub retained: c_int,
    /// QoS of the will message.
    pub qos: c_int,
    /// Binary payload (version 1); takes precedence over `message`.
    pub payload: MQTTAsync_willOptions_payload,
}

/// TLS options (struct_id "MQTS", versions 0..5).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_SSLOptions {
    /// Must be "MQTS".
    pub struct_id: [c_char; 4],
    /// 0..5; each version appends fields.
    pub struct_version: c_int,
    /// PEM file of trusted CA certificates.
    pub trustStore: *const c_char,
    /// PEM file of the client certificate chain.
    pub keyStore: *const c_char,
    /// PEM file of the client private key.
    pub privateKey: *const c_char,
    /// Password of the private key.
    pub privateKeyPassword: *const c_char,
    /// OpenSSL cipher list.
    pub enabledCipherSuites: *const c_char,
    /// 1: verify the server certificate.
    pub enableServerCertAuth: c_int,
    /// MQTT_SSL_VERSION_* (version 1).
    pub sslVersion: c_int,
    /// 1: verify the host name (version 1).
    pub verify: c_int,
    /// Directory of CA certificates (version 2).
    pub CApath: *const c_char,
    /// TLS error reporting callback (version 3).
    pub ssl_error_cb:
        Option<unsafe extern "C" fn(str: *const c_char, len: usize, u: *mut c_void) -> c_int>,
    /// Context of `ssl_error_cb` (version 3).
    pub ssl_error_context: *mut c_void,
    /// Pre-shared key callback (version 4).
    pub ssl_psk_cb: Option<
        unsafe extern "C" fn(
            hint: *const c_char,
            identity: *mut c_char,
            max_identity_len: c_uint,
            psk: *mut c_uchar,
            max_psk_len: c_uint,
            u: *mut c_void,
        ) -> c_uint,
    >,
    /// Context of `ssl_psk_cb` (version 4).
    pub ssl_psk_context: *mut c_void,
    /// 1: do not load the default trust store (version 4).
    pub disableDefaultTrustStore: c_int,
    /// ALPN protocol list in wire format (version 5).
    pub protos: *const c_uchar,
    /// Length of `protos` (version 5).
    pub protos_len: c_uint,
}

/// Connect options (struct_id "MQTC", versions 0..8).
///
/// Version 1 adds `ssl`; 2 the server URI list; 3 `MQTTVersion`; 4 the
/// automatic reconnect fields; 5 `binarypwd`; 6 the MQTT 5 fields; 7
/// `httpHeaders`; 8 the HTTP proxies.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_connectOptions {
    /// Must be "MQTC".
    pub struct_id: [c_char; 4],
    /// 0..8.
    pub struct_version: c_int,
    /// Keep-alive interval in seconds (0: none).
    pub keepAliveInterval: c_int,
    /// Clean session (MQTT 3.x).
    pub cleansession: c_int,
    /// Maximum QoS 1/2 messages in flight.
    pub maxInflight: c_int,
    /// Last will, or NULL.
    pub will: *mut MQTTAsync_willOptions,
    /// User name, or NULL.
    pub username: *const c_char,
    /// Password as a C string, or NULL.
    pub password: *const c_char,
    /// Seconds to wait for the connection to be established.
    pub connectTimeout: c_int,
    /// Seconds before an unacknowledged message is sent again.
    pub retryInterval: c_int,
    /// TLS options, or NULL (version 1).
    pub ssl: *mut MQTTAsync_SSLOptions,
    /// Called when the connect succeeds.
    pub onSuccess: MQTTAsync_onSuccess,
    /// Called when the connect fails.
    pub onFailure: MQTTAsync_onFailure,
    /// Context for onSuccess/onFailure.
    pub context: *mut c_void,
    /// Number of entries in `serverURIs` (version 2).
    pub serverURIcount: c_int,
    /// Server URIs tried in turn instead of the one given at create (version 2).
    pub serverURIs: *const *mut c_char,
    /// MQTTVERSION_* to connect with (version 3).
    pub MQTTVersion: c_int,
    /// Reconnect automatically when the connection is lost (version 4).
    pub automaticReconnect: c_int,
    /// First retry interval in seconds (version 4).
    pub minRetryInterval: c_int,
    /// Largest retry interval in seconds (version 4).
    pub maxRetryInterval: c_int,
    /// Binary password, used instead of `password` when `data` is set (version 5).
    pub binarypwd: MQTTAsync_binaryData,
    /// Clean start (MQTT 5, version 6).
    pub cleanstart: c_int,
    /// CONNECT properties (version 6).
    pub connectProperties: *mut MQTTProperties,
    /// Will properties (version 6).
    pub willProperties: *mut MQTTProperties,
    /// MQTT 5 success callback (version 6).
    pub onSuccess5: MQTTAsync_onSuccess5,
    /// MQTT 5 failure callback (version 6).
    pub onFailure5: MQTTAsync_onFailure5,
    /// Extra HTTP headers for WebSocket connections, NULL-terminated (version 7).
    pub httpHeaders: *const MQTTAsync_nameValue,
    /// HTTP proxy for ws:// (version 8).
    pub httpProxy: *const c_char,
    /// HTTPS proxy for wss:// (version 8).
    pub httpsProxy: *const c_char,
}

/// Disconnect options (struct_id "MQTD"; version 0, or 1 with MQTT 5 fields).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_disconnectOptions {
    /// Must be "MQTD".
    pub struct_id: [c_char; 4],
    /// 0 or 1.
    pub struct_version: c_int,
    /// Milliseconds in-flight work may take to finish.
    pub timeout: c_int,
    /// Called when the disconnect is done.
    pub onSuccess: MQTTAsync_onSuccess,
    /// Called when the disconnect fails.
    pub onFailure: MQTTAsync_onFailure,
    /// Context for the callbacks.
    pub context: *mut c_void,
    /// DISCONNECT properties (version 1).
    pub properties: MQTTProperties,
    /// DISCONNECT reason code (version 1).
    pub reasonCode: enum_MQTTReasonCodes,
    /// MQTT 5 success callback (version 1).
    pub onSuccess5: MQTTAsync_onSuccess5,
    /// MQTT 5 failure callback (version 1).
    pub onFailure5: MQTTAsync_onFailure5,
}

/// Per-request options (struct_id "MQTR"; version 0, or 1 with MQTT 5 fields).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTAsync_responseOptions {
    /// Must be "MQTR".
    pub struct_id: [c_char; 4],
    /// 0 or 1.
    pub struct_version: c_int,
    /// Called when the request succeeds.
    pub onSuccess: MQTTAsync_onSuccess,
    /// Called when the request fails.
    pub onFailure: MQTTAsync_onFailure,
    /// Context for the callbacks.
    pub context: *mut c_void,
    /// Set by the call to the request's token.
    pub token: MQTTAsync_token,
    /// MQTT 5 success callback (version 1).
    pub onSuccess5: MQTTAsync_onSuccess5,
    /// MQTT 5 failure callback (version 1).
    pub onFailure5: MQTTAsync_onFailure5,
    /// Properties of the request (version 1).
    pub properties: MQTTProperties,
    /// Subscription options for a single-topic subscribe (version 1).
    pub subscribeOptions: MQTTSubscribe_options,
    /// Number of entries in `subscribeOptionsList` (version 1).
    pub subscribeOptionsCount: c_int,
    /// Subscription options per topic for subscribeMany (version 1).
    pub subscribeOptionsList: *mut MQTTSubscribe_options,
}

/// Another name for MQTTAsync_responseOptions.
pub type MQTTAsync_callOptions = MQTTAsync_responseOptions;
