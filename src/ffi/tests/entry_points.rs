//! Entry points on bad input: the errors come from the checks in front of
//! the client, so no client is created and nothing blocks.

use std::ffi::{CStr, c_int};

use crate::ffi::mqttclient::*;
use crate::ffi::mqttclient_misc::*;
use crate::ffi::mqttclient_pubsub::*;
use crate::ffi::types::*;

fn create_opts(id: &[u8; 4], version: c_int, mqtt: c_int) -> MQTTClient_createOptions {
    MQTTClient_createOptions {
        struct_id: id.map(|b| b as std::ffi::c_char),
        struct_version: version,
        MQTTVersion: mqtt,
    }
}

#[test]
fn create_checks_its_arguments() {
    let uri = c"tcp://127.0.0.1:1883".as_ptr();
    let mut h: MQTTClient = std::ptr::null_mut();
    let none = MQTTCLIENT_PERSISTENCE_NONE;
    let null = std::ptr::null_mut();
    assert_eq!(
        MQTTClient_create(null, uri, c"id".as_ptr(), none, null.cast()),
        MQTTCLIENT_NULL_PARAMETER
    );
    assert_eq!(
        MQTTClient_create(&mut h, std::ptr::null(), c"id".as_ptr(), none, null.cast()),
        MQTTCLIENT_NULL_PARAMETER
    );
    assert_eq!(
        MQTTClient_create(&mut h, uri, std::ptr::null(), none, null.cast()),
        MQTTCLIENT_NULL_PARAMETER
    );
    assert_eq!(
        MQTTClient_create(&mut h, uri, c"\xff\xfe".as_ptr(), none, null.cast()),
        MQTTCLIENT_BAD_UTF8_STRING
    );
    assert_eq!(
        MQTTClient_create(
            &mut h,
            uri,
            c"id".as_ptr(),
            MQTTCLIENT_PERSISTENCE_USER,
            null.cast()
        ),
        MQTTCLIENT_PERSISTENCE_ERROR
    );
    let mut bad_id = create_opts(b"MQCX", 0, 5);
    assert_eq!(
        MQTTClient_createWithOptions(&mut h, uri, c"id".as_ptr(), none, null.cast(), &mut bad_id),
        MQTTCLIENT_BAD_STRUCTURE
    );
    let mut bad_version = create_opts(b"MQCO", 1, 5);
    assert_eq!(
        MQTTClient_createWithOptions(
            &mut h,
            uri,
            c"id".as_ptr(),
            none,
            null.cast(),
            &mut bad_version
        ),
        MQTTCLIENT_BAD_STRUCTURE
    );
    let mut bad_mqtt = create_opts(b"MQCO", 0, 7);
    assert_eq!(
        MQTTClient_createWithOptions(
            &mut h,
            uri,
            c"id".as_ptr(),
            none,
            null.cast(),
            &mut bad_mqtt
        ),
        MQTTCLIENT_BAD_MQTT_VERSION
    );
    assert!(h.is_null(), "the handle is written only on success");
}

#[test]
fn null_handles_fail_without_crashing() {
    let h: MQTTClient = std::ptr::null_mut();
    let topic = c"a/b".as_ptr();
    let mut dt = 42;
    assert_eq!(
        MQTTClient_publish(h, topic, 1, c"x".as_ptr().cast(), 0, 0, &mut dt),
        MQTTCLIENT_FAILURE
    );
    assert_eq!(dt, 42, "the token is written only on success");
    assert_eq!(
        MQTTClient_publish5(
            h,
            topic,
            0,
            std::ptr::null(),
            0,
            0,
            std::ptr::null_mut(),
            &mut dt
        )
        .reasonCode,
        MQTTCLIENT_FAILURE
    );
    assert_eq!(MQTTClient_subscribe(h, topic, 0), MQTTCLIENT_FAILURE);
    assert_eq!(MQTTClient_unsubscribe(h, topic), MQTTCLIENT_FAILURE);
    assert_eq!(
        MQTTClient_connect(h, std::ptr::null_mut()),
        MQTTCLIENT_FAILURE
    );
    assert_eq!(MQTTClient_disconnect(h, 0), MQTTCLIENT_FAILURE);
    assert_eq!(MQTTClient_isConnected(h), 0);
    assert_eq!(MQTTClient_setCommandTimeout(h, 10), MQTTCLIENT_FAILURE);
    assert_eq!(MQTTClient_waitForCompletion(h, 1, 10), MQTTCLIENT_FAILURE);
    let mut tokens: *mut MQTTClient_deliveryToken = std::ptr::dangling_mut();
    assert_eq!(
        MQTTClient_getPendingDeliveryTokens(h, &mut tokens),
        MQTTCLIENT_FAILURE
    );
    assert_eq!(
        MQTTClient_getPendingDeliveryTokens(h, std::ptr::null_mut()),
        MQTTCLIENT_NULL_PARAMETER
    );
    let (mut t, mut len, mut m) = (std::ptr::null_mut(), 0, std::ptr::null_mut());
    assert_eq!(
        MQTTClient_receive(h, &mut t, &mut len, &mut m, 10),
        MQTTCLIENT_FAILURE
    );
    assert_eq!(
        MQTTClient_receive(h, std::ptr::null_mut(), &mut len, &mut m, 10),
        MQTTCLIENT_NULL_PARAMETER
    );
    assert_eq!(
        MQTTClient_setCallbacks(h, std::ptr::null_mut(), None, None, None),
        MQTTCLIENT_FAILURE
    );
    MQTTClient_destroy(std::ptr::null_mut());
    let mut nothing: MQTTClient = std::ptr::null_mut();
    MQTTClient_destroy(&mut nothing);
    MQTTClient_freeMessage(std::ptr::null_mut());
    let mut no_msg: *mut MQTTClient_message = std::ptr::null_mut();
    MQTTClient_freeMessage(&mut no_msg);
    MQTTClient_free(std::ptr::null_mut());
}

#[test]
fn strerror_matches_paho_texts() {
    let text = |c| {
        // SAFETY: strerror returns a valid C string.
        unsafe { CStr::from_ptr(MQTTClient_strerror(c)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(text(0), "Success");
    assert_eq!(text(-16), "Client created for another version of MQTT");
    assert_eq!(text(-2), "Unknown error code -2");
    assert_eq!(text(99), "Unknown error code 99");
}

#[test]
fn version_info_is_null_terminated() {
    let mut p = MQTTClient_getVersionInfo();
    let mut names = Vec::new();
    // SAFETY: the table ends with a NULL name.
    unsafe {
        while !(*p).name.is_null() {
            names.push(CStr::from_ptr((*p).name).to_str().unwrap().to_owned());
            p = p.add(1);
        }
    }
    assert!(names.contains(&"Version".to_owned()));
    assert!(names.contains(&"Product name".to_owned()));
    assert!(names.contains(&"TLS library".to_owned()));
}
