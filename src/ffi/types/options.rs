//! C option structs of MQTTClient.h: init, create, will, SSL and connect
//! options. Each carries a struct_id and struct_version; later versions only
//! append fields, so a reader must not touch fields its version lacks.

use std::ffi::{c_char, c_int, c_uchar, c_uint, c_void};

use super::client::MQTTClient_nameValue;

/// Let the library pick the TLS version.
pub const MQTT_SSL_VERSION_DEFAULT: c_int = 0;
/// TLS 1.0.
pub const MQTT_SSL_VERSION_TLS_1_0: c_int = 1;
/// TLS 1.1.
pub const MQTT_SSL_VERSION_TLS_1_1: c_int = 2;
/// TLS 1.2.
pub const MQTT_SSL_VERSION_TLS_1_2: c_int = 3;

/// Process-wide initialisation options (struct_id "MQTG", version 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTClient_init_options {
    /// Must be "MQTG".
    pub struct_id: [c_char; 4],
    /// Must be 0.
    pub struct_version: c_int,
    /// 1: the library initialises OpenSSL; 0: the application does.
    pub do_openssl_init: c_int,
}

/// Options of MQTTClient_createWithOptions (struct_id "MQCO", version 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTClient_createOptions {
    /// Must be "MQCO".
    pub struct_id: [c_char; 4],
    /// Must be 0.
    pub struct_version: c_int,
    /// MQTTVERSION_DEFAULT, 3.x or MQTTVERSION_5 (needed for the `*5` calls).
    pub MQTTVersion: c_int,
}

/// The binary will payload (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTClient_willOptions_payload {
    pub len: c_int,
    pub data: *const c_void,
}

/// The last will and testament (struct_id "MQTW"; version 0, or 1 with the
/// binary payload).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTClient_willOptions {
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
    pub payload: MQTTClient_willOptions_payload,
}

/// TLS options (struct_id "MQTS", versions 0..5).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTClient_SSLOptions {
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

/// What a successful connect reports back (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTClient_connectOptions_returned {
    pub serverURI: *const c_char,
    pub MQTTVersion: c_int,
    pub sessionPresent: c_int,
}

/// The binary password (an anonymous struct in C).
/// cbindgen:no-export
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTClient_connectOptions_binarypwd {
    pub len: c_int,
    pub data: *const c_void,
}

/// Connect options (struct_id "MQTC", versions 0..8).
///
/// Version 0 ends at `retryInterval`; 1 adds `ssl`; 2 the server URI list;
/// 3 `MQTTVersion`; 4 `returned`; 5 `binarypwd`; 6 `maxInflightMessages`
/// and `cleanstart`; 7 `httpHeaders`; 8 the HTTP proxies.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTClient_connectOptions {
    /// Must be "MQTC".
    pub struct_id: [c_char; 4],
    /// 0..8.
    pub struct_version: c_int,
    /// Keep-alive interval in seconds (0: none).
    pub keepAliveInterval: c_int,
    /// Clean session (MQTT 3.x).
    pub cleansession: c_int,
    /// Only one QoS 1/2 message in flight at a time when non-zero.
    pub reliable: c_int,
    /// Last will, or NULL.
    pub will: *mut MQTTClient_willOptions,
    /// User name, or NULL.
    pub username: *const c_char,
    /// Password as a C string, or NULL.
    pub password: *const c_char,
    /// Seconds to wait for the connection to be established.
    pub connectTimeout: c_int,
    /// Seconds before an unacknowledged message is sent again (0: only on reconnect).
    pub retryInterval: c_int,
    /// TLS options, or NULL (version 1).
    pub ssl: *mut MQTTClient_SSLOptions,
    /// Number of entries in `serverURIs` (version 2).
    pub serverURIcount: c_int,
    /// Server URIs tried in turn instead of the one given at create (version 2).
    pub serverURIs: *const *mut c_char,
    /// MQTTVERSION_* to connect with (version 3).
    pub MQTTVersion: c_int,
    /// Filled in by a successful connect (version 4).
    pub returned: MQTTClient_connectOptions_returned,
    /// Binary password, used instead of `password` when `data` is set (version 5).
    pub binarypwd: MQTTClient_connectOptions_binarypwd,
    /// Maximum QoS 1/2 messages in flight; -1: the default (version 6).
    pub maxInflightMessages: c_int,
    /// Clean start (MQTT 5, version 6).
    pub cleanstart: c_int,
    /// Extra HTTP headers for WebSocket connections, NULL-terminated (version 7).
    pub httpHeaders: *const MQTTClient_nameValue,
    /// HTTP proxy for ws:// (version 8).
    pub httpProxy: *const c_char,
    /// HTTPS proxy for wss:// (version 8).
    pub httpsProxy: *const c_char,
}
