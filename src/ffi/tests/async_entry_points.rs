//! MQTTAsync conversions and completion data without a network: option
//! structs read by version, the callback rules, the error-code mapping, and
//! the success/failure data a C callback receives.

use std::ffi::{CStr, c_int, c_void};
use std::sync::Mutex;

use bytes::Bytes;

use crate::client::pending::{Failure, Success};
use crate::client::sync::{AckResult, Message};
use crate::ffi::async_convert::{connect_options, create_options, response_options};
use crate::ffi::async_handle::async_rc;
use crate::ffi::async_responses::{Request, Responders, id};
use crate::ffi::client_callbacks::Context;
use crate::ffi::types::*;
use crate::protocol::codec::{Properties, QoS, ReasonCode};

fn create(version: c_int, mqtt: c_int, max: c_int) -> MQTTAsync_createOptions {
    MQTTAsync_createOptions {
        struct_id: id(b"MQCO"),
        struct_version: version,
        sendWhileDisconnected: 1,
        maxBufferedMessages: max,
        MQTTVersion: mqtt,
        allowDisconnectedSendAtAnyTime: 1,
        deleteOldestMessages: 1,
        restoreMessages: 1,
        persistQoS0: 1,
    }
}

#[test]
fn create_options_are_read_by_version() {
    // SAFETY: local structs.
    let v0 = unsafe { create_options(&create(0, 5, 7)) }.expect("version 0");
    assert_eq!(v0.mqtt_version, 0, "version 0 has no MQTTVersion");
    assert!(v0.send_while_disconnected && !v0.allow_disconnected_send_at_any_time);
    assert_eq!(v0.max_buffered, 7);
    // SAFETY: as above.
    let v2 = unsafe { create_options(&create(2, 5, 7)) }.expect("version 2");
    assert_eq!(v2.mqtt_version, 5);
    assert!(v2.allow_disconnected_send_at_any_time && v2.delete_oldest);
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            create_options(&create(3, 5, 7)).err(),
            Some(MQTTASYNC_BAD_STRUCTURE)
        );
        assert_eq!(
            create_options(&create(2, 5, -1)).err(),
            Some(MQTTASYNC_MAX_BUFFERED)
        );
        assert_eq!(
            create_options(&create(2, 9, 1)).err(),
            Some(MQTTASYNC_BAD_MQTT_OPTION)
        );
        assert!(create_options(std::ptr::null()).is_ok());
    }
}

fn connect(version: c_int) -> MQTTAsync_connectOptions {
    // SAFETY: the all-zero pattern is valid for this plain C struct
    // (NULL pointers, None callbacks, zero ints).
    let mut o: MQTTAsync_connectOptions = unsafe { std::mem::zeroed() };
    o.struct_id = id(b"MQTC");
    o.struct_version = version;
    o.keepAliveInterval = 30;
    o.cleansession = 1;
    o.automaticReconnect = 1;
    o.minRetryInterval = 2;
    o.maxRetryInterval = 16;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o
}

#[test]
fn connect_options_are_read_by_version() {
    // SAFETY: local structs.
    let (v3, _) = unsafe { connect_options(&connect(3), 0) }.expect("version 3");
    assert!(!v3.automatic_reconnect, "version 3 has no reconnect fields");
    assert_eq!(v3.base.mqtt_version, MQTTVERSION_3_1_1);
    // SAFETY: as above.
    let (v4, _) = unsafe { connect_options(&connect(4), 0) }.expect("version 4");
    assert!(v4.automatic_reconnect);
    assert_eq!(v4.min_retry_interval.as_secs(), 2);
    assert_eq!(v4.max_retry_interval.as_secs(), 16);
    // SAFETY: as above.
    let (v2, _) = unsafe { connect_options(&connect(2), 0) }.expect("version 2");
    assert_eq!(v2.base.mqtt_version, 0, "version 2 has no MQTTVersion");

    let mut v5 = connect(8);
    v5.MQTTVersion = MQTTVERSION_5;
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            connect_options(&v5, 0).err(),
            Some(MQTTASYNC_WRONG_MQTT_VERSION)
        );
        // A 5 client refuses cleansession.
        assert_eq!(
            connect_options(&v5, 5).err(),
            Some(MQTTASYNC_BAD_MQTT_OPTION)
        );
        v5.cleansession = 0;
        v5.cleanstart = 1;
        assert!(connect_options(&v5, 5).is_ok());
        assert_eq!(
            connect_options(&connect(9), 0).err(),
            Some(MQTTASYNC_BAD_STRUCTURE)
        );
        assert_eq!(
            connect_options(std::ptr::null(), 0).err(),
            Some(MQTTASYNC_NULL_PARAMETER)
        );
    }
}

unsafe extern "C" fn success3(_: *mut c_void, _: *mut MQTTAsync_successData) {}
unsafe extern "C" fn success5(_: *mut c_void, _: *mut MQTTAsync_successData5) {}

#[test]
fn response_options_refuse_mixed_or_misplaced_callbacks() {
    // SAFETY: the all-zero pattern is valid for this plain C struct.
    let mut r: MQTTAsync_responseOptions = unsafe { std::mem::zeroed() };
    r.struct_id = id(b"MQTR");
    r.struct_version = 1;
    r.onSuccess = Some(success3);
    r.onSuccess5 = Some(success5);
    // SAFETY: local struct.
    unsafe {
        assert_eq!(
            response_options(&r, true).err(),
            Some(MQTTASYNC_BAD_MQTT_OPTION)
        );
        r.onSuccess = None;
        assert_eq!(
            response_options(&r, false).err(),
            Some(MQTTASYNC_BAD_MQTT_OPTION)
        );
        assert!(response_options(&r, true).is_ok());
        // Version 0 has no MQTT 5 callbacks: they are not read.
        r.struct_version = 0;
        r.onSuccess = Some(success3);
        assert!(response_options(&r, false).is_ok());
        r.struct_version = 2;
        assert_eq!(
            response_options(&r, false).err(),
            Some(MQTTASYNC_BAD_STRUCTURE)
        );
    }
}

#[test]
fn client_codes_map_to_async_codes() {
    assert_eq!(
        async_rc(MQTTCLIENT_SSL_NOT_SUPPORTED),
        MQTTASYNC_SSL_NOT_SUPPORTED
    );
    assert_eq!(
        async_rc(MQTTCLIENT_BAD_MQTT_VERSION),
        MQTTASYNC_BAD_MQTT_OPTION
    );
    assert_eq!(async_rc(MQTTCLIENT_BAD_QOS), MQTTASYNC_BAD_QOS);
}

/// What the C callbacks below saw, as text.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn record3(_: *mut c_void, r: *mut MQTTAsync_successData) {
    // SAFETY: the library passes valid data for the duration of the call.
    let r = unsafe { &*r };
    // SAFETY: the union member that matches the request, as filled.
    let line = unsafe {
        if !r.alt.pub_.destinationName.is_null() && r.alt.pub_.message.payloadlen == 5 {
            let m = r.alt.pub_.message;
            let body = std::slice::from_raw_parts(m.payload.cast::<u8>(), 5);
            format!(
                "pub {} {} {}",
                CStr::from_ptr(r.alt.pub_.destinationName).to_string_lossy(),
                String::from_utf8_lossy(body),
                m.qos
            )
        } else {
            format!("token {}", r.token)
        }
    };
    SEEN.lock().unwrap().push(line);
}

unsafe extern "C" fn record_qos_list(_: *mut c_void, r: *mut MQTTAsync_successData) {
    // SAFETY: subscribeMany of two filters: qosList has two entries.
    let list = unsafe { std::slice::from_raw_parts((*r).alt.qosList, 2) };
    SEEN.lock().unwrap().push(format!("qosList {list:?}"));
}

unsafe extern "C" fn record_connect(_: *mut c_void, r: *mut MQTTAsync_successData) {
    // SAFETY: a connect result.
    let c = unsafe { (*r).alt.connect };
    // SAFETY: serverURI is a C string valid during the call.
    let uri = unsafe { CStr::from_ptr(c.serverURI) }.to_string_lossy();
    SEEN.lock().unwrap().push(format!(
        "connect {uri} {} {}",
        c.MQTTVersion, c.sessionPresent
    ));
}

unsafe extern "C" fn record_failure5(_: *mut c_void, r: *mut MQTTAsync_failureData5) {
    // SAFETY: valid during the call.
    let r = unsafe { &*r };
    let eye = r.struct_id.map(|c| c as u8);
    SEEN.lock().unwrap().push(format!(
        "failure5 {} {} {} {}",
        String::from_utf8_lossy(&eye),
        r.token,
        r.code,
        r.reasonCode
    ));
}

unsafe extern "C" fn record_failure3(_: *mut c_void, r: *mut MQTTAsync_failureData) {
    // SAFETY: valid during the call.
    let r = unsafe { &*r };
    SEEN.lock().unwrap().push(format!(
        "failure {} {} {}",
        r.token,
        r.code,
        r.message.is_null()
    ));
}

fn responders() -> Responders {
    Responders {
        context: Context(std::ptr::null_mut()),
        ..Responders::none()
    }
}

#[test]
fn success_and_failure_data_are_filled_as_paho_fills_them() {
    SEEN.lock().unwrap().clear();
    let publish = Success::Publish {
        topic: "a/b".into(),
        message: Message {
            payload: Bytes::from_static(b"hello"),
            qos: QoS::AtLeastOnce,
            retained: false,
            dup: false,
            msgid: 3,
            properties: Properties::default(),
            receipt: None,
        },
        reason: ReasonCode::SUCCESS,
        properties: Properties::default(),
    };
    let on = |f| Responders {
        on_success: Some(f),
        ..responders()
    };
    on(record3).on_complete(Request::Publish).expect("callback")(7, Ok(publish));
    let ack = Success::Ack(AckResult {
        codes: vec![ReasonCode(1), ReasonCode(2)],
        properties: Properties::default(),
    });
    on(record_qos_list)
        .on_complete(Request::Subscribe(2))
        .expect("callback")(8, Ok(ack));
    let connect = Success::Connect {
        server_uri: "tcp://127.0.0.1:1883".into(),
        mqtt_version: 4,
        session_present: true,
        properties: Properties::default(),
    };
    on(record_connect)
        .on_complete(Request::Connect)
        .expect("callback")(0, Ok(connect));
    let failing = Responders {
        on_failure5: Some(record_failure5),
        ..responders()
    };
    let failure = Failure {
        error: crate::client::error::ClientError::Disconnected,
        reason: ReasonCode(0x87),
        properties: Properties::default(),
        message: Some("gone".into()),
    };
    failing.on_complete(Request::Unsubscribe).expect("callback")(9, Err(failure));
    // A refused single subscription goes to onFailure, as in Paho.
    let refused = || {
        Success::Ack(AckResult {
            codes: vec![ReasonCode(0x80)],
            properties: Properties::default(),
        })
    };
    let failing3 = Responders {
        on_success: Some(record3),
        on_failure: Some(record_failure3),
        ..responders()
    };
    failing3
        .on_complete(Request::Subscribe(1))
        .expect("callback")(10, Ok(refused()));
    let failing5 = Responders {
        on_failure5: Some(record_failure5),
        ..responders()
    };
    failing5
        .on_complete(Request::Subscribe(1))
        .expect("callback")(11, Ok(refused()));
    assert!(responders().on_complete(Request::Disconnect).is_none());
    assert_eq!(
        *SEEN.lock().unwrap(),
        vec![
            "pub a/b hello 1".to_string(),
            "qosList [1, 2]".to_string(),
            "connect 127.0.0.1:1883 4 1".to_string(),
            "failure5 MQFD 9 -3 135".to_string(),
            "failure 10 128 true".to_string(),
            "failure5 MQFD 11 0 128".to_string(),
        ]
    );
}
