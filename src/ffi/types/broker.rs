//! C types of MQTTBroker.h: the broker's return codes, the handle, the
//! creation options with their limits, and what its callbacks receive.
//! The initializer macros are in cbindgen/MQTTBroker.h.in.

use std::ffi::{c_char, c_int, c_longlong, c_void};

use super::properties::MQTTProperties;

/// The call succeeded.
pub const MQTTBROKER_SUCCESS: c_int = 0;
/// Generic failure (e.g. no memory, or the process's reactor could not start).
pub const MQTTBROKER_FAILURE: c_int = -1;
/// A string argument is not valid UTF-8.
pub const MQTTBROKER_BAD_UTF8_STRING: c_int = -5;
/// A required pointer argument is NULL.
pub const MQTTBROKER_NULL_PARAMETER: c_int = -6;
/// A structure has the wrong struct_id or an unsupported struct_version.
pub const MQTTBROKER_BAD_STRUCTURE: c_int = -8;
/// A QoS outside 0..2.
pub const MQTTBROKER_BAD_QOS: c_int = -9;
/// A topic name that is empty, holds a wildcard, or breaks the topic limits.
pub const MQTTBROKER_BAD_TOPIC: c_int = -20;
/// MQTTBroker_start on a running broker, or MQTTBroker_setCallbacks after
/// the first start.
pub const MQTTBROKER_ALREADY_STARTED: c_int = -21;
/// The call needs a running broker (stop, getPort, publish).
pub const MQTTBROKER_NOT_STARTED: c_int = -22;
/// A listener's address could not be bound (in use, not local, no permission).
pub const MQTTBROKER_BIND_FAILED: c_int = -23;
/// A listener is not a valid "host:port", or listenerCount is negative.
pub const MQTTBROKER_BAD_LISTENER: c_int = -24;
/// A listener index outside 0..listenerCount.
pub const MQTTBROKER_BAD_INDEX: c_int = -25;
/// A limit in MQTTBroker_createOptions is out of its range.
pub const MQTTBROKER_BAD_OPTION: c_int = -26;
/// A listener's TLS settings cannot be used (a certificate or key file that
/// cannot be read or does not fit, an unknown tlsVersion, no usable cipher).
pub const MQTTBROKER_TLS_ERROR: c_int = -27;

/// MQTTBroker_listenerOptions.protocol: MQTT straight over TCP (or TLS).
pub const MQTTBROKER_PROTOCOL_MQTT: c_int = 0;
/// MQTTBroker_listenerOptions.protocol: MQTT over WebSocket (or WebSocket
/// over TLS), subprotocol "mqtt".
pub const MQTTBROKER_PROTOCOL_WEBSOCKETS: c_int = 1;

/// How one listener carries its connections (struct_id "MQBL",
/// struct_version 0), mosquitto's listener keys. TLS is on when certfile
/// is set. Start from MQTTBroker_listenerOptions_initializer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTBroker_listenerOptions {
    /// Must be "MQBL".
    pub struct_id: [c_char; 4],
    /// 0.
    pub struct_version: c_int,
    /// MQTTBROKER_PROTOCOL_MQTT (default) or MQTTBROKER_PROTOCOL_WEBSOCKETS.
    pub protocol: c_int,
    /// PEM server certificate chain (NULL: no TLS).
    pub certfile: *const c_char,
    /// PEM private key of the certificate (unencrypted).
    pub keyfile: *const c_char,
    /// PEM CA certificates that client certificates must chain to.
    pub cafile: *const c_char,
    /// A directory of PEM CA certificates, as cafile.
    pub capath: *const c_char,
    /// Non-zero: a client without a valid certificate fails the handshake.
    pub requireCertificate: c_int,
    /// Non-zero: the client certificate's common name is the user name.
    pub useIdentityAsUsername: c_int,
    /// Lowest TLS version: "tlsv1.2" (default when NULL) or "tlsv1.3".
    pub tlsVersion: *const c_char,
    /// OpenSSL cipher list for TLS 1.2 (NULL: rustls's defaults).
    pub ciphers: *const c_char,
}
/// The store under `persistenceLocation` cannot be opened or read (it is
/// damaged, not a FerroMQ store, or in use by another broker): the broker
/// does not start and the store is left as it is.
pub const MQTTBROKER_PERSISTENCE_ERROR: c_int = -28;

/// MQTTBroker_disconnectClient: no connected client has that identifier.
pub const MQTTBROKER_NOT_FOUND: c_int = -29;

/// MQTTBroker_disconnectClient: the reason code is not one a server may
/// send in DISCONNECT.
pub const MQTTBROKER_BAD_REASON_CODE: c_int = -30;

/// Called from inside on_client_deliver, which runs while the broker is
/// busy routing: no MQTTBroker_* function may be called from there.
pub const MQTTBROKER_IN_DELIVERY_CALLBACK: c_int = -31;

/// on_client_auth: authentication succeeded (CONNACK 0 follows).
pub const MQTTBROKER_AUTH_SUCCESS: c_int = 0;

/// on_client_auth: send AUTH 0x18 (Continue authentication) with the data
/// written to `outData`, and wait for the client's next AUTH.
pub const MQTTBROKER_AUTH_CONTINUE: c_int = 0x18;

/// The `reason` given to on_client_disconnect when the connection ended
/// without a DISCONNECT packet or another reason code (EOF, socket error).
pub const MQTTBROKER_CONNECTION_LOST: c_int = -1;

/// An opaque broker handle.
pub type MQTTBroker = *mut c_void;

/// How to create a broker: its listeners and limits (struct_id "MQBO",
/// struct_version 0, 1 or 2). Start from MQTTBroker_createOptions_initializer,
/// which holds the defaults. Version 0 ends at `receiveMaximum`, version 1
/// at `slowConsumerTimeout`; their brokers get the defaults of the later
/// fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTBroker_createOptions {
    /// Must be "MQBO".
    pub struct_id: [c_char; 4],
    /// 0, 1 or 2 (the initializer's).
    pub struct_version: c_int,
    /// `listenerCount` addresses "host:port" to listen on; port 0 picks a
    /// free port (see MQTTBroker_getPort). NULL with a count of 0 means
    /// "127.0.0.1:1883".
    pub listeners: *const *const c_char,
    /// Number of entries in `listeners`.
    pub listenerCount: c_int,
    /// Most connections open at once (default 100000); more are closed at accept.
    pub maxConnections: c_int,
    /// Largest packet accepted from a client, in bytes (default 16 MiB;
    /// at most 268435460). Advertised to MQTT 5 clients.
    pub maxPacketSize: c_int,
    /// Outgoing QoS 1/2 messages unacknowledged at once per client (default
    /// 32, 1..65535).
    pub maxInflight: c_int,
    /// Messages queued per session beyond the in-flight window (default
    /// 1000). When an online client's queue is full, the clients publishing
    /// into it are paused until it drains to half (nothing is dropped).
    pub maxQueued: c_int,
    /// When an offline session's queue is full: 0 drops the arriving message
    /// (default), 1 drops the oldest queued one.
    pub dropOldest: c_int,
    /// Longest topic name or filter in bytes (default 65535, 1..65535).
    pub maxTopicLength: c_int,
    /// Most levels in a topic name or filter (default 128, at least 1).
    pub maxTopicLevels: c_int,
    /// Keepalive is enforced at keepAlive * keepAliveFactorPercent / 100
    /// (default 150, at least 100).
    pub keepAliveFactorPercent: c_int,
    /// Seconds a new connection may take to send CONNECT (default 10, at least 1).
    pub connectTimeout: c_int,
    /// Server Keep Alive in seconds: clients asking for more (or for none)
    /// get this; 0 (default) leaves the client's choice.
    pub maxKeepAlive: c_int,
    /// Topic Alias Maximum accepted from MQTT 5 clients (default 16, 0 = none).
    pub topicAliasMaximum: c_int,
    /// Topic aliases the broker assigns per MQTT 5 connection for outgoing
    /// messages (default 16, 0 = none; also limited by the client).
    pub topicAliasOutMaximum: c_int,
    /// Receive Maximum advertised to MQTT 5 clients (default 1024, 1..65535).
    pub receiveMaximum: c_int,
    /// Version 1: payload bytes of outgoing QoS 1/2 messages in flight per
    /// client (default 0 = no limit; one message always goes).
    pub maxInflightBytes: c_int,
    /// Version 1: payload bytes queued per session (default 16777216; 0 = no
    /// limit); reaching it pauses publishers as `maxQueued` does.
    pub maxQueuedBytes: c_int,
    /// Version 1: seconds an online client's queue may stay full before the
    /// client is disconnected (MQTT 5: reason 0x97); default 30, 0 = never.
    pub slowConsumerTimeout: c_int,
    /// Version 2: NULL (every listener plain MQTT over TCP) or
    /// `listenerCount` entries, one per listener in the same order: TLS
    /// and WebSocket settings.
    pub listenerOptions: *const MQTTBroker_listenerOptions,
    /// Version 2: a directory for the crash-safe store (mosquitto's
    /// `persistence_location`; the file in it is "ferromq.redb"), read at
    /// the first MQTTBroker_start: retained messages and durable sessions
    /// survive restarts and kill -9, and every acknowledgement waits for
    /// what it acknowledges to be on disk. NULL (default): no persistence.
    pub persistenceLocation: *const c_char,
}

/// Who a callback is about (struct_id "MQBI"). Valid only during the
/// callback: copy what you keep. A broker whose callbacks struct has
/// struct_version 0 passes struct_version 0 (ending at `MQTTVersion`);
/// with struct_version 1 it passes 1, with the members after it too.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTBroker_clientInfo {
    /// "MQBI".
    pub struct_id: [c_char; 4],
    /// 0 or 1 (see above).
    pub struct_version: c_int,
    /// The client identifier (in on_client_connect as the client sent it,
    /// possibly empty; afterwards the one in use, possibly assigned).
    pub clientId: *const c_char,
    /// The user name of the CONNECT, or NULL if there was none.
    pub username: *const c_char,
    /// The password of the CONNECT (on_client_connect only; otherwise NULL).
    pub password: *const c_void,
    /// Length of `password` in bytes.
    pub passwordLen: c_int,
    /// The client's address as "ip:port", or NULL when not known.
    pub address: *const c_char,
    /// The client's protocol: MQTTVERSION_3_1 (3), MQTTVERSION_3_1_1 (4) or
    /// MQTTVERSION_5 (5); 0 when not known.
    pub MQTTVersion: c_int,
    /// Version 1: the common name in the subject of the client's TLS
    /// certificate, on a listener that asks for one (requireCertificate or
    /// useIdentityAsUsername); NULL otherwise.
    pub certSubject: *const c_char,
    /// Version 1: non-zero when the client connected as a bridge
    /// (try_private: protocol level with 0x80 set).
    pub bridge: c_int,
}

/// A message a client published (struct_id "MQBM", struct_version 0). Valid
/// only during the callback.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTBroker_message {
    /// "MQBM".
    pub struct_id: [c_char; 4],
    /// 0.
    pub struct_version: c_int,
    /// Payload length in bytes.
    pub payloadlen: c_int,
    /// The payload bytes (not NUL-terminated).
    pub payload: *const c_void,
    /// Quality of service, 0..2.
    pub qos: c_int,
    /// Retain flag.
    pub retained: c_int,
    /// MQTT 5 properties of the PUBLISH (empty for MQTT 3.x clients).
    pub properties: MQTTProperties,
}

/// Decide on a CONNECT: return 0 to accept, or an MQTT 5 CONNACK reason
/// code (0x80..0xFF; MQTT 3.x clients get the nearest 3.x return code). The
/// MQTT 3.x return codes 1..5 are accepted too and mean their MQTT 5 twins.
pub type MQTTBroker_onClientConnect = Option<
    unsafe extern "C" fn(context: *mut c_void, client: *const MQTTBroker_clientInfo) -> c_int,
>;

/// Decide on a client's PUBLISH: return 0 to accept, or a reason code
/// 0x80..0xFF to refuse it (MQTT 5 clients see it in PUBACK/PUBREC). A
/// refused message is not delivered or retained.
pub type MQTTBroker_onClientPublish = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        client: *const MQTTBroker_clientInfo,
        topic: *const c_char,
        message: *const MQTTBroker_message,
    ) -> c_int,
>;

/// Decide on one filter of a SUBSCRIBE: return the granted QoS (0..2, never
/// more than `qos`, which was asked for) or a failure code 0x80..0xFF.
pub type MQTTBroker_onClientSubscribe = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        client: *const MQTTBroker_clientInfo,
        filter: *const c_char,
        qos: c_int,
    ) -> c_int,
>;

/// A connected client's connection ended. `reason` is an MQTT 5 reason
/// code: the client's DISCONNECT code (0, or 4 with will), 0x8D keepalive
/// timeout, 0x8E session taken over, 0x8B broker stopping, the code of a
/// protocol error; or MQTTBROKER_CONNECTION_LOST when the socket closed.
pub type MQTTBroker_onClientDisconnect = Option<
    unsafe extern "C" fn(context: *mut c_void, client: *const MQTTBroker_clientInfo, reason: c_int),
>;

/// A client unsubscribed from `filter` (whether or not it held it); one
/// call per filter of the UNSUBSCRIBE.
pub type MQTTBroker_onClientUnsubscribe = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        client: *const MQTTBroker_clientInfo,
        filter: *const c_char,
    ),
>;

/// May `message` (on `topic`) go to the subscriber `client`? Return 0 to
/// deliver it, anything else to skip it for this subscriber (counted in
/// MQTTBroker_stats deliveryDenied). Unlike the other callbacks this one is
/// called inline, on the thread routing the message, while the broker is
/// busy: it must return quickly, and any MQTTBroker_* call made from it
/// returns MQTTBROKER_IN_DELIVERY_CALLBACK.
pub type MQTTBroker_onClientDeliver = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        client: *const MQTTBroker_clientInfo,
        topic: *const c_char,
        message: *const MQTTBroker_message,
    ) -> c_int,
>;

/// One step of MQTT 5 enhanced authentication: the CONNECT (`step` 0)
/// named Authentication Method `method`, or the client sent AUTH 0x18
/// (`step` 1, 2, ...). A client so connected may re-authenticate: its AUTH
/// 0x19 is `step` 0 again, success answers AUTH 0x00 and a refusal ends it
/// with DISCONNECT and that code. `data`/`dataLen` is the Authentication Data it
/// carried (NULL/0 when none). Return MQTTBROKER_AUTH_SUCCESS to accept
/// the client, MQTTBROKER_AUTH_CONTINUE to send AUTH 0x18 and wait for its
/// answer, or a CONNACK reason code 0x80..0xFF to refuse it (anything else
/// refuses with 0x80). To send Authentication Data back (with CONTINUE or
/// SUCCESS), write at most `outCapacity` bytes to `outData` and their
/// count to `*outDataLen` (left at -1: no data).
pub type MQTTBroker_onClientAuth = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        client: *const MQTTBroker_clientInfo,
        method: *const c_char,
        data: *const c_void,
        dataLen: c_int,
        step: c_int,
        outData: *mut c_void,
        outCapacity: c_int,
        outDataLen: *mut c_int,
    ) -> c_int,
>;

/// The callbacks of a broker (struct_id "MQBK", struct_version 0 or 1;
/// version 0 ends at `on_client_disconnect`). A NULL member is never
/// called, and the broker does not wait for it. Callbacks other than
/// on_client_deliver run on one thread per broker: while one decides, only
/// the session that asked waits. They may call any MQTTBroker_* function
/// except destroy.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTBroker_callbacks {
    /// Must be "MQBK".
    pub struct_id: [c_char; 4],
    /// 0 or 1 (the initializer's).
    pub struct_version: c_int,
    /// Accept or refuse each CONNECT.
    pub on_client_connect: MQTTBroker_onClientConnect,
    /// Accept or refuse each client PUBLISH.
    pub on_client_publish: MQTTBroker_onClientPublish,
    /// Grant or refuse each filter of a SUBSCRIBE.
    pub on_client_subscribe: MQTTBroker_onClientSubscribe,
    /// Hear that a client's connection ended.
    pub on_client_disconnect: MQTTBroker_onClientDisconnect,
    /// Version 1: hear each filter a client unsubscribes from.
    pub on_client_unsubscribe: MQTTBroker_onClientUnsubscribe,
    /// Version 1: allow or skip each message for each subscriber (inline;
    /// see MQTTBroker_onClientDeliver).
    pub on_client_deliver: MQTTBroker_onClientDeliver,
    /// Version 1: run MQTT 5 enhanced authentication. Without it a CONNECT
    /// naming an Authentication Method is refused with 0x8C.
    pub on_client_auth: MQTTBroker_onClientAuth,
}

/// Counters of a broker (struct_id "MQBS", struct_version 0..2), filled by
/// MQTTBroker_getStats. Start from MQTTBroker_stats_initializer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct MQTTBroker_stats {
    /// Must be "MQBS".
    pub struct_id: [c_char; 4],
    /// 0, 1 or 2 (the initializer's); version 0 ends at
    /// `refusedConnections`, version 1 at `slowConsumers`.
    pub struct_version: c_int,
    /// Open connections.
    pub connections: c_longlong,
    /// Sessions held, online and offline.
    pub sessions: c_longlong,
    /// Retained messages held.
    pub retained: c_longlong,
    /// Application messages received (client publishes, wills, MQTTBroker_publish).
    pub messagesIn: c_longlong,
    /// PUBLISH packets sent to clients.
    pub messagesOut: c_longlong,
    /// Messages dropped: a session's queue was full, a message was too large
    /// for its receiver, or a callback refused it.
    pub dropped: c_longlong,
    /// Queued messages dropped because their MQTT 5 expiry interval ran out.
    pub expired: c_longlong,
    /// Connections closed at accept because maxConnections was reached.
    pub refusedConnections: c_longlong,
    /// Version 1: of `dropped`, QoS 0 messages for a full online client whose
    /// publisher could not be paused.
    pub droppedQoS0: c_longlong,
    /// Version 1: of `dropped`, messages for offline sessions whose queue
    /// was full.
    pub droppedOffline: c_longlong,
    /// Version 1: times a publisher was paused because a queue it feeds was full.
    pub flowPauses: c_longlong,
    /// Version 1: clients disconnected after staying full for slowConsumerTimeout.
    pub slowConsumers: c_longlong,
    /// Version 2: messages skipped for a subscriber that may not read
    /// them (the ACL file's read check or on_client_deliver).
    pub deliveryDenied: c_longlong,
}

/// A bridge to another broker (struct_id "MQBB", struct_version 0), for
/// MQTTBroker_addBridge: mosquitto's `connection` block as a struct. Start
/// from MQTTBroker_bridgeOptions_initializer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQTTBroker_bridgeOptions {
    /// Must be "MQBB".
    pub struct_id: [c_char; 4],
    /// 0.
    pub struct_version: c_int,
    /// The bridge's name (mosquitto's `connection NAME`), unique per broker.
    pub name: *const c_char,
    /// `addressCount` "host[:port]" strings (port 1883 by default), tried
    /// in order (mosquitto's `address`).
    pub addresses: *const *const c_char,
    pub addressCount: c_int,
    /// `topicCount` topic rules, each what follows `topic` in mosquitto.conf:
    /// "PATTERN [[[out|in|both] QOS] LOCAL_PREFIX REMOTE_PREFIX]" (`""` for an
    /// empty prefix).
    pub topics: *const *const c_char,
    pub topicCount: c_int,
    /// NULL, or more of mosquitto's bridge options, one "key value" per line
    /// ("bridge_protocol_version mqttv50\nremote_username u\n...").
    pub options: *const c_char,
}
