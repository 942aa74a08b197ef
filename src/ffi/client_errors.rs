//! The one place that numbers client errors: `ClientError` → the return
//! codes of Paho's MQTTClient and MQTTAsync APIs (the two number a few
//! errors differently). Everything below src/ffi keeps the typed error.

use std::ffi::c_int;

use super::types::*;
use crate::client::error::ClientError;

/// The MQTTClient return code for `e`.
pub(crate) fn code(e: &ClientError) -> c_int {
    match e {
        ClientError::Failure => MQTTCLIENT_FAILURE,
        ClientError::Persistence => MQTTCLIENT_PERSISTENCE_ERROR,
        ClientError::Disconnected => MQTTCLIENT_DISCONNECTED,
        ClientError::MaxInflight => MQTTCLIENT_MAX_MESSAGES_INFLIGHT,
        ClientError::BadUtf8 => MQTTCLIENT_BAD_UTF8_STRING,
        ClientError::NullParameter => MQTTCLIENT_NULL_PARAMETER,
        ClientError::TopicNameTruncated => MQTTCLIENT_TOPICNAME_TRUNCATED,
        ClientError::BadStructure => MQTTCLIENT_BAD_STRUCTURE,
        ClientError::BadQos => MQTTCLIENT_BAD_QOS,
        ClientError::SslNotSupported => MQTTCLIENT_SSL_NOT_SUPPORTED,
        ClientError::BadMqttVersion => MQTTCLIENT_BAD_MQTT_VERSION,
        ClientError::BadProtocol => MQTTCLIENT_BAD_PROTOCOL,
        ClientError::BadMqttOption => MQTTCLIENT_BAD_MQTT_OPTION,
        ClientError::WrongMqttVersion => MQTTCLIENT_WRONG_MQTT_VERSION,
        ClientError::ZeroLenWillTopic => MQTTCLIENT_0_LEN_WILL_TOPIC,
        // MQTTClient has no codes of its own for these asynchronous-API
        // conditions: the nearest ones.
        ClientError::NoMoreMsgIds | ClientError::MaxBufferedMessages => {
            MQTTCLIENT_MAX_MESSAGES_INFLIGHT
        }
        ClientError::CommandIgnored => MQTTCLIENT_FAILURE,
        // CONNACK's own return/reason code, returned as it is.
        ClientError::Refused(rc) => *rc,
    }
}

/// The MQTTAsync return code for `e`.
pub(crate) fn async_code(e: &ClientError) -> c_int {
    match e {
        ClientError::SslNotSupported => MQTTASYNC_SSL_NOT_SUPPORTED,
        ClientError::NoMoreMsgIds => MQTTASYNC_NO_MORE_MSGIDS,
        ClientError::MaxBufferedMessages => MQTTASYNC_MAX_BUFFERED_MESSAGES,
        ClientError::CommandIgnored => MQTTASYNC_COMMAND_IGNORED,
        ClientError::BadMqttVersion => MQTTASYNC_BAD_MQTT_OPTION,
        other => code(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant once, with the code each API gives it (Paho's values,
    /// written out so a renumbered constant is caught too).
    #[test]
    fn every_error_has_pahos_code_in_both_apis() {
        let table = [
            (ClientError::Failure, -1, -1),
            (ClientError::Persistence, -2, -2),
            (ClientError::Disconnected, -3, -3),
            (ClientError::MaxInflight, -4, -4),
            (ClientError::BadUtf8, -5, -5),
            (ClientError::NullParameter, -6, -6),
            (ClientError::TopicNameTruncated, -7, -7),
            (ClientError::BadStructure, -8, -8),
            (ClientError::BadQos, -9, -9),
            (ClientError::SslNotSupported, -10, -13),
            (ClientError::BadMqttVersion, -11, -15),
            (ClientError::BadProtocol, -14, -14),
            (ClientError::BadMqttOption, -15, -15),
            (ClientError::WrongMqttVersion, -16, -16),
            (ClientError::ZeroLenWillTopic, -17, -17),
            (ClientError::NoMoreMsgIds, -4, -10),
            (ClientError::MaxBufferedMessages, -4, -12),
            (ClientError::CommandIgnored, -1, -18),
            (ClientError::Refused(5), 5, 5),
            (ClientError::Refused(0x87), 0x87, 0x87),
        ];
        for (e, sync, asynchronous) in table {
            assert_eq!(code(&e), sync, "{e:?}");
            assert_eq!(async_code(&e), asynchronous, "{e:?}");
        }
    }
}
