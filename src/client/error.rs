//! Client errors: one variant per failure the Paho C API can report. Their
//! integer codes belong to the C API and are assigned in
//! `src/ffi/client_errors.rs`, not here.

/// An error from a client operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// Generic failure (Paho's FAILURE), also a timed-out wait.
    Failure,
    /// Persistence failed (PERSISTENCE_ERROR).
    Persistence,
    /// Not connected (DISCONNECTED).
    Disconnected,
    /// The in-flight window is full (MAX_MESSAGES_INFLIGHT).
    MaxInflight,
    /// A string is not valid UTF-8, or a topic is unusable (BAD_UTF8_STRING).
    BadUtf8,
    /// A required argument is missing (NULL_PARAMETER).
    NullParameter,
    /// A received topic was cut at a NUL (TOPICNAME_TRUNCATED).
    TopicNameTruncated,
    /// An options struct has a wrong id or version (BAD_STRUCTURE).
    BadStructure,
    /// QoS outside 0–2 (BAD_QOS).
    BadQos,
    /// A TLS URI, and TLS is not built in (SSL_NOT_SUPPORTED).
    SslNotSupported,
    /// An MQTT version the API does not know (BAD_MQTT_VERSION).
    BadMqttVersion,
    /// Unknown URI scheme (BAD_PROTOCOL).
    BadProtocol,
    /// An option that does not fit the MQTT version (BAD_MQTT_OPTION).
    BadMqttOption,
    /// An MQTT 5 call on a 3.x client or the reverse (WRONG_MQTT_VERSION).
    WrongMqttVersion,
    /// A will with an empty topic (0_LEN_WILL_TOPIC).
    ZeroLenWillTopic,
    /// No packet id is free (asynchronous API: NO_MORE_MSGIDS).
    NoMoreMsgIds,
    /// The offline buffer is full (asynchronous API: MAX_BUFFERED_MESSAGES).
    MaxBufferedMessages,
    /// The command was ignored (asynchronous API: COMMAND_IGNORED).
    CommandIgnored,
    /// CONNACK refused the connection: the 3.x return code (1..=5) or the
    /// MQTT 5 reason code (>= 0x80), returned as is by connect.
    Refused(i32),
}
