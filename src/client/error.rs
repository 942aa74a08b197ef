//! Client errors, one variant per Paho C return code the API can give.

/// An error from a client operation. `code()` is the Paho C return code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// MQTTCLIENT_FAILURE (-1): generic failure, also a timed-out wait.
    Failure,
    /// MQTTCLIENT_PERSISTENCE_ERROR (-2).
    Persistence,
    /// MQTTCLIENT_DISCONNECTED (-3).
    Disconnected,
    /// MQTTCLIENT_MAX_MESSAGES_INFLIGHT (-4).
    MaxInflight,
    /// MQTTCLIENT_BAD_UTF8_STRING (-5).
    BadUtf8,
    /// MQTTCLIENT_NULL_PARAMETER (-6).
    NullParameter,
    /// MQTTCLIENT_TOPICNAME_TRUNCATED (-7).
    TopicNameTruncated,
    /// MQTTCLIENT_BAD_STRUCTURE (-8).
    BadStructure,
    /// MQTTCLIENT_BAD_QOS (-9).
    BadQos,
    /// MQTTCLIENT_SSL_NOT_SUPPORTED (-10).
    SslNotSupported,
    /// MQTTCLIENT_BAD_MQTT_VERSION (-11).
    BadMqttVersion,
    /// MQTTCLIENT_BAD_PROTOCOL (-14): unknown URI scheme.
    BadProtocol,
    /// MQTTCLIENT_BAD_MQTT_OPTION (-15).
    BadMqttOption,
    /// MQTTCLIENT_WRONG_MQTT_VERSION (-16).
    WrongMqttVersion,
    /// MQTTCLIENT_0_LEN_WILL_TOPIC (-17).
    ZeroLenWillTopic,
    /// MQTTASYNC_NO_MORE_MSGIDS (-10, asynchronous API only).
    NoMoreMsgIds,
    /// MQTTASYNC_MAX_BUFFERED_MESSAGES (-12, asynchronous API only).
    MaxBufferedMessages,
    /// MQTTASYNC_COMMAND_IGNORED (-18, asynchronous API only).
    CommandIgnored,
    /// CONNACK refused the connection: the 3.x return code (1..=5) or the
    /// MQTT 5 reason code (>= 0x80), returned as is by connect.
    Refused(i32),
}

impl ClientError {
    /// The Paho C return code for this error.
    pub fn code(&self) -> i32 {
        match self {
            ClientError::Failure => -1,
            ClientError::Persistence => -2,
            ClientError::Disconnected => -3,
            ClientError::MaxInflight => -4,
            ClientError::BadUtf8 => -5,
            ClientError::NullParameter => -6,
            ClientError::TopicNameTruncated => -7,
            ClientError::BadStructure => -8,
            ClientError::BadQos => -9,
            ClientError::SslNotSupported => -10,
            ClientError::BadMqttVersion => -11,
            ClientError::BadProtocol => -14,
            ClientError::BadMqttOption => -15,
            ClientError::WrongMqttVersion => -16,
            ClientError::ZeroLenWillTopic => -17,
            ClientError::NoMoreMsgIds => -4,
            ClientError::MaxBufferedMessages => -4,
            ClientError::CommandIgnored => -1,
            ClientError::Refused(rc) => *rc,
        }
    }

    /// The MQTTAsync return code for this error (the two APIs number a few
    /// errors differently).
    pub fn async_code(&self) -> i32 {
        match self {
            ClientError::SslNotSupported => -13,
            ClientError::NoMoreMsgIds => -10,
            ClientError::MaxBufferedMessages => -12,
            ClientError::CommandIgnored => -18,
            ClientError::BadMqttVersion => -15,
            other => other.code(),
        }
    }
}
