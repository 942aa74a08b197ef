//! Unit tests of the broker's C API: option checks and defaults (also
//! against the header's initializer), the guards of every entry point, the
//! answer mappings (what the C callbacks are shown: broker_hooks_tests.rs).

use std::ffi::{CStr, c_char, c_int, c_void};

use bytes::Bytes;

use super::broker::*;
use super::broker_hooks::{
    auth_answer, connect_code, disconnect_reason, publish_code, subscribe_code,
};
use super::broker_options::{DEFAULT_LISTENER, initializer, settings};
use super::types::*;
use crate::broker::{AuthAnswer, DisconnectCause, Limits};
use crate::protocol::codec::{QoS, ReasonCode};

fn settings_rc(o: &MQTTBroker_createOptions) -> c_int {
    // SAFETY: a valid local struct whose listeners (if any) are static.
    match unsafe { settings(o) } {
        Ok(_) => MQTTBROKER_SUCCESS,
        Err(rc) => rc,
    }
}

#[test]
fn null_options_are_the_initializer_and_the_limits_defaults() {
    // SAFETY: NULL is allowed.
    let s = unsafe { settings(std::ptr::null()) }.expect("defaults");
    assert_eq!(s.listen, vec![DEFAULT_LISTENER.to_owned()]);
    assert_eq!(
        format!("{:?}", s.config.limits),
        format!("{:?}", Limits::default())
    );
    // SAFETY: the initializer is a valid struct without listeners.
    let s2 = unsafe { settings(&initializer()) }.expect("initializer");
    assert_eq!(format!("{:?}", s2.config), format!("{:?}", s.config));
}

#[test]
fn header_initializer_matches_the_rust_one() {
    let template = include_str!("../../cbindgen/MQTTBroker.h.in");
    let start = template
        .find("#define MQTTBroker_createOptions_initializer")
        .expect("macro");
    let body = &template[start..];
    let body = &body[body.find("},").expect("id end") + 2..body.find(" }\n").expect("end")];
    let values: Vec<String> = body
        .split(',')
        .map(|v| v.trim().trim_start_matches('\\').trim().to_owned())
        .collect();
    let o = initializer();
    let want = [
        o.struct_version.to_string(),
        "NULL".to_owned(),
        o.listenerCount.to_string(),
        o.maxConnections.to_string(),
        o.maxPacketSize.to_string(),
        o.maxInflight.to_string(),
        o.maxQueued.to_string(),
        o.dropOldest.to_string(),
        o.maxTopicLength.to_string(),
        o.maxTopicLevels.to_string(),
        o.keepAliveFactorPercent.to_string(),
        o.connectTimeout.to_string(),
        o.maxKeepAlive.to_string(),
        o.topicAliasMaximum.to_string(),
        o.topicAliasOutMaximum.to_string(),
        o.receiveMaximum.to_string(),
        o.maxInflightBytes.to_string(),
        o.maxQueuedBytes.to_string(),
        o.slowConsumerTimeout.to_string(),
        "NULL".to_owned(),
        "NULL".to_owned(),
    ];
    assert_eq!(values, want);
}

/// A version 0 struct (programs built against the first header) ends at
/// receiveMaximum: nothing after it is read, and its broker gets the
/// defaults of the version 1 limits.
#[test]
fn version_0_options_are_read_to_their_end_only() {
    let full = initializer();
    let len = std::mem::offset_of!(MQTTBroker_createOptions, maxInflightBytes);
    // The version 0 bytes, then garbage where version 1 fields would be.
    let mut bytes = vec![0xFFu8; std::mem::size_of::<MQTTBroker_createOptions>()];
    // SAFETY: copying `len` bytes of a live struct into a larger buffer.
    unsafe {
        std::ptr::copy_nonoverlapping(
            std::ptr::addr_of!(full).cast::<u8>(),
            bytes.as_mut_ptr(),
            len,
        );
    }
    let p = bytes.as_ptr().cast::<MQTTBroker_createOptions>();
    // SAFETY: the buffer is as large as the struct; version written in place.
    unsafe {
        std::ptr::addr_of!((*p).struct_version)
            .cast_mut()
            .write_unaligned(0);
    }
    // SAFETY: a readable struct with no listeners.
    let s = unsafe { settings(p) }.expect("version 0");
    let l = &s.config.limits;
    let d = Limits::default();
    assert_eq!(l.max_queued_bytes, d.max_queued_bytes);
    assert_eq!(l.max_inflight_bytes, d.max_inflight_bytes);
    assert_eq!(l.slow_consumer_timeout, d.slow_consumer_timeout);
}

#[test]
fn version_1_limits_reach_the_broker() {
    let mut o = initializer();
    o.maxInflightBytes = 4096;
    o.maxQueuedBytes = 0;
    o.slowConsumerTimeout = 0;
    // SAFETY: a valid struct without listeners.
    let s = unsafe { settings(&o) }.expect("version 1");
    let l = &s.config.limits;
    assert_eq!(l.max_inflight_bytes, Some(4096));
    assert_eq!(l.max_queued_bytes, None, "0 = no limit");
    assert_eq!(l.slow_consumer_timeout, None, "0 = never");
    o.slowConsumerTimeout = -1;
    assert_eq!(settings_rc(&o), MQTTBROKER_BAD_OPTION);
}

#[test]
fn options_struct_id_and_version_are_checked() {
    let mut o = initializer();
    o.struct_id[0] = b'X' as c_char;
    assert_eq!(settings_rc(&o), MQTTBROKER_BAD_STRUCTURE);
    let mut o = initializer();
    o.struct_version = 3;
    assert_eq!(settings_rc(&o), MQTTBROKER_BAD_STRUCTURE);
    o.struct_version = -1;
    assert_eq!(settings_rc(&o), MQTTBROKER_BAD_STRUCTURE);
}

#[test]
fn every_limit_is_range_checked() {
    type Set = fn(&mut MQTTBroker_createOptions, c_int);
    let cases: &[(&str, Set, &[c_int], &[c_int])] = &[
        (
            "maxConnections",
            |o, v| o.maxConnections = v,
            &[0, -1],
            &[1],
        ),
        (
            "maxPacketSize",
            |o, v| o.maxPacketSize = v,
            &[1, -1, 268_435_461],
            &[2, 268_435_460],
        ),
        (
            "maxInflight",
            |o, v| o.maxInflight = v,
            &[0, 65_536],
            &[1, 65_535],
        ),
        ("maxQueued", |o, v| o.maxQueued = v, &[-1], &[0]),
        (
            "maxTopicLength",
            |o, v| o.maxTopicLength = v,
            &[0, 65_536],
            &[1, 65_535],
        ),
        ("maxTopicLevels", |o, v| o.maxTopicLevels = v, &[0], &[1]),
        (
            "keepAliveFactorPercent",
            |o, v| o.keepAliveFactorPercent = v,
            &[99],
            &[100],
        ),
        ("connectTimeout", |o, v| o.connectTimeout = v, &[0], &[1]),
        (
            "maxKeepAlive",
            |o, v| o.maxKeepAlive = v,
            &[-1, 65_536],
            &[0, 65_535],
        ),
        (
            "topicAliasMaximum",
            |o, v| o.topicAliasMaximum = v,
            &[-1, 65_536],
            &[0],
        ),
        (
            "topicAliasOutMaximum",
            |o, v| o.topicAliasOutMaximum = v,
            &[-1, 65_536],
            &[0],
        ),
        (
            "receiveMaximum",
            |o, v| o.receiveMaximum = v,
            &[0, 65_536],
            &[1, 65_535],
        ),
    ];
    for (name, set, bad, good) in cases {
        for v in *bad {
            let mut o = initializer();
            set(&mut o, *v);
            assert_eq!(settings_rc(&o), MQTTBROKER_BAD_OPTION, "{name} = {v}");
        }
        for v in *good {
            let mut o = initializer();
            set(&mut o, *v);
            assert_eq!(settings_rc(&o), MQTTBROKER_SUCCESS, "{name} = {v}");
        }
    }
}

#[test]
fn limits_reach_the_config() {
    let mut o = initializer();
    o.maxInflight = 7;
    o.dropOldest = 1;
    o.maxKeepAlive = 30;
    o.connectTimeout = 3;
    // SAFETY: a valid local struct.
    let l = unsafe { settings(&o) }.expect("valid").config.limits;
    assert_eq!(l.max_inflight, 7);
    assert_eq!(l.drop_policy, crate::broker::DropPolicy::DropOldest);
    assert_eq!(l.max_keep_alive, Some(30));
    assert_eq!(l.connect_timeout, std::time::Duration::from_secs(3));
}

#[test]
fn listeners_are_checked() {
    let with = |list: &[*const c_char], count: c_int| {
        let mut o = initializer();
        o.listeners = if list.is_empty() {
            std::ptr::null()
        } else {
            list.as_ptr()
        };
        o.listenerCount = count;
        settings_rc(&o)
    };
    let ok = c"127.0.0.1:0".as_ptr();
    assert_eq!(with(&[ok, ok], 2), MQTTBROKER_SUCCESS);
    assert_eq!(with(&[], 0), MQTTBROKER_SUCCESS);
    assert_eq!(with(&[], 1), MQTTBROKER_NULL_PARAMETER);
    assert_eq!(with(&[ok], -1), MQTTBROKER_BAD_LISTENER);
    assert_eq!(with(&[std::ptr::null()], 1), MQTTBROKER_NULL_PARAMETER);
    assert_eq!(with(&[c"no-port".as_ptr()], 1), MQTTBROKER_BAD_LISTENER);
    assert_eq!(
        with(&[c"127.0.0.1:70000".as_ptr()], 1),
        MQTTBROKER_BAD_LISTENER
    );
    assert_eq!(with(&[c"\xff:1".as_ptr()], 1), MQTTBROKER_BAD_UTF8_STRING);
}

#[test]
fn entry_points_check_null_and_state() {
    let null: MQTTBroker = std::ptr::null_mut();
    assert_eq!(
        MQTTBroker_create(std::ptr::null_mut(), std::ptr::null()),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(MQTTBroker_start(null), MQTTBROKER_NULL_PARAMETER);
    assert_eq!(MQTTBroker_stop(null), MQTTBROKER_NULL_PARAMETER);
    assert_eq!(MQTTBroker_getPort(null, 0), MQTTBROKER_NULL_PARAMETER);
    assert_eq!(
        MQTTBroker_setCallbacks(null, std::ptr::null_mut(), std::ptr::null()),
        MQTTBROKER_NULL_PARAMETER
    );
    let topic = c"t".as_ptr();
    let payload = b"x".as_ptr().cast::<c_void>();
    let props = std::ptr::null_mut();
    assert_eq!(
        MQTTBroker_publish(null, topic, 1, payload, 0, 0, props),
        MQTTBROKER_NULL_PARAMETER
    );
    MQTTBroker_destroy(std::ptr::null_mut());
    let mut h = null;
    MQTTBroker_destroy(&mut h);

    // A created, never started broker.
    assert_eq!(
        MQTTBroker_create(&mut h, std::ptr::null()),
        MQTTBROKER_SUCCESS
    );
    assert!(!h.is_null());
    assert_eq!(MQTTBroker_stop(h), MQTTBROKER_NOT_STARTED);
    assert_eq!(MQTTBroker_getPort(h, 0), MQTTBROKER_NOT_STARTED);
    assert_eq!(
        MQTTBroker_publish(h, topic, 1, payload, 0, 0, props),
        MQTTBROKER_NOT_STARTED
    );
    // Argument checks come before the state check.
    assert_eq!(
        MQTTBroker_publish(h, std::ptr::null(), 1, payload, 0, 0, props),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(
        MQTTBroker_publish(h, topic, 1, payload, 3, 0, props),
        MQTTBROKER_BAD_QOS
    );
    assert_eq!(
        MQTTBroker_publish(h, c"\xfe".as_ptr(), 1, payload, 0, 0, props),
        MQTTBROKER_BAD_UTF8_STRING
    );
    assert_eq!(
        MQTTBroker_publish(h, topic, 1, std::ptr::null(), 0, 0, props),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(
        MQTTBroker_publish(h, topic, -1, payload, 0, 0, props),
        MQTTBROKER_FAILURE
    );
    let mut stats = MQTTBroker_stats {
        struct_id: [b'M', b'Q', b'B', b'S'].map(|b| b as c_char),
        struct_version: 0,
        connections: 7,
        droppedQoS0: 99,
        ..MQTTBroker_stats::default()
    };
    assert_eq!(
        MQTTBroker_getStats(null, &mut stats),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(
        MQTTBroker_getStats(h, std::ptr::null_mut()),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_SUCCESS);
    assert_eq!(stats.connections, 0, "never started: all zero");
    assert_eq!(
        stats.droppedQoS0, 99,
        "version 0 ends before the version 1 counters"
    );
    stats.deliveryDenied = 77;
    stats.struct_version = 1;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_SUCCESS);
    assert_eq!(stats.droppedQoS0, 0, "version 1 has them");
    assert_eq!(stats.deliveryDenied, 77, "version 1 ends before it");
    stats.struct_version = 2;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_SUCCESS);
    assert_eq!(stats.deliveryDenied, 0, "version 2 has it");
    stats.struct_version = 3;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_BAD_STRUCTURE);
    stats.struct_version = 0;
    stats.struct_id[0] = b'X' as c_char;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_BAD_STRUCTURE);
    let mut cbs = MQTTBroker_callbacks {
        struct_id: [b'M', b'Q', b'B', b'?'].map(|b| b as c_char),
        struct_version: 1,
        on_client_connect: None,
        on_client_publish: None,
        on_client_subscribe: None,
        on_client_disconnect: None,
        on_client_unsubscribe: None,
        on_client_deliver: None,
        on_client_auth: None,
    };
    assert_eq!(
        MQTTBroker_setCallbacks(h, std::ptr::null_mut(), &cbs),
        MQTTBROKER_BAD_STRUCTURE
    );
    cbs.struct_id[3] = b'K' as c_char;
    cbs.struct_version = 2;
    assert_eq!(
        MQTTBroker_setCallbacks(h, std::ptr::null_mut(), &cbs),
        MQTTBROKER_BAD_STRUCTURE
    );
    for v in [0, 1] {
        cbs.struct_version = v;
        assert_eq!(
            MQTTBroker_setCallbacks(h, std::ptr::null_mut(), &cbs),
            MQTTBROKER_SUCCESS
        );
    }
    let id = c"someone".as_ptr();
    assert_eq!(
        MQTTBroker_disconnectClient(std::ptr::null_mut(), id, 0x98),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(
        MQTTBroker_disconnectClient(h, std::ptr::null(), 0x98),
        MQTTBROKER_NULL_PARAMETER
    );
    let bad_utf8 = [0xC3u8, 0x28, 0];
    assert_eq!(
        MQTTBroker_disconnectClient(h, bad_utf8.as_ptr().cast(), 0x98),
        MQTTBROKER_BAD_UTF8_STRING
    );
    for code in [4, 0x10, 0x86, -1, 0x198] {
        assert_eq!(
            MQTTBroker_disconnectClient(h, id, code),
            MQTTBROKER_BAD_REASON_CODE,
            "{code:#x}"
        );
    }
    assert_eq!(
        MQTTBroker_disconnectClient(h, id, 0x98),
        MQTTBROKER_NOT_STARTED
    );
    MQTTBroker_destroy(&mut h);
    assert!(h.is_null());
}

#[test]
fn start_getport_publish_stop_through_the_entry_points() {
    let listeners = [c"127.0.0.1:0".as_ptr()];
    let mut o = initializer();
    o.listeners = listeners.as_ptr();
    o.listenerCount = 1;
    let mut h: MQTTBroker = std::ptr::null_mut();
    assert_eq!(MQTTBroker_create(&mut h, &o), MQTTBROKER_SUCCESS);
    assert_eq!(MQTTBroker_start(h), MQTTBROKER_SUCCESS);
    assert_eq!(MQTTBroker_start(h), MQTTBROKER_ALREADY_STARTED);
    assert_eq!(
        MQTTBroker_setCallbacks(h, std::ptr::null_mut(), std::ptr::null()),
        MQTTBROKER_ALREADY_STARTED
    );
    assert!(MQTTBroker_getPort(h, 0) > 0);
    assert_eq!(MQTTBroker_getPort(h, 1), MQTTBROKER_BAD_INDEX);
    assert_eq!(MQTTBroker_getPort(h, -1), MQTTBROKER_BAD_INDEX);
    let payload = b"x".as_ptr().cast::<c_void>();
    let none = std::ptr::null_mut();
    assert_eq!(
        MQTTBroker_publish(h, c"a/b".as_ptr(), 1, payload, 1, 1, none),
        MQTTBROKER_SUCCESS
    );
    assert_eq!(
        MQTTBroker_publish(h, c"a/#".as_ptr(), 1, payload, 1, 0, none),
        MQTTBROKER_BAD_TOPIC
    );
    assert_eq!(MQTTBroker_stop(h), MQTTBROKER_SUCCESS);
    assert_eq!(MQTTBroker_stop(h), MQTTBROKER_NOT_STARTED);
    MQTTBroker_destroy(&mut h);
}

#[test]
fn strerror_knows_every_code() {
    let text = |rc| {
        // SAFETY: strerror returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(MQTTBroker_strerror(rc)) }
            .to_str()
            .expect("ASCII")
            .to_owned()
    };
    assert_eq!(text(-999), "unknown error");
    for rc in [
        MQTTBROKER_SUCCESS,
        MQTTBROKER_FAILURE,
        MQTTBROKER_BAD_UTF8_STRING,
        MQTTBROKER_NULL_PARAMETER,
        MQTTBROKER_BAD_STRUCTURE,
        MQTTBROKER_BAD_QOS,
        MQTTBROKER_BAD_TOPIC,
        MQTTBROKER_ALREADY_STARTED,
        MQTTBROKER_NOT_STARTED,
        MQTTBROKER_BIND_FAILED,
        MQTTBROKER_BAD_LISTENER,
        MQTTBROKER_BAD_INDEX,
        MQTTBROKER_BAD_OPTION,
        MQTTBROKER_NOT_FOUND,
        MQTTBROKER_BAD_REASON_CODE,
        MQTTBROKER_IN_DELIVERY_CALLBACK,
    ] {
        assert_ne!(text(rc), "unknown error", "code {rc}");
    }
}

#[test]
fn answers_map_to_reason_codes() {
    assert_eq!(connect_code(0), ReasonCode::SUCCESS);
    assert_eq!(connect_code(5), ReasonCode::NOT_AUTHORIZED);
    assert_eq!(connect_code(4), ReasonCode::BAD_USER_NAME_OR_PASSWORD);
    assert_eq!(connect_code(0x87), ReasonCode(0x87));
    assert_eq!(connect_code(-3), ReasonCode::UNSPECIFIED_ERROR);
    assert_eq!(connect_code(0x40), ReasonCode::UNSPECIFIED_ERROR);
    assert_eq!(connect_code(0x100), ReasonCode::UNSPECIFIED_ERROR);
    assert_eq!(publish_code(0), ReasonCode::SUCCESS);
    assert_eq!(publish_code(0x10), ReasonCode::SUCCESS);
    assert_eq!(publish_code(0x97), ReasonCode(0x97));
    assert_eq!(publish_code(-1), ReasonCode::UNSPECIFIED_ERROR);
    assert_eq!(subscribe_code(2, QoS::AtLeastOnce), ReasonCode(1));
    assert_eq!(subscribe_code(0, QoS::ExactlyOnce), ReasonCode(0));
    assert_eq!(subscribe_code(0x87, QoS::AtMostOnce), ReasonCode(0x87));
    assert_eq!(
        subscribe_code(3, QoS::ExactlyOnce),
        ReasonCode::UNSPECIFIED_ERROR
    );
    assert_eq!(disconnect_reason(DisconnectCause::Normal(ReasonCode(4))), 4);
    assert_eq!(
        disconnect_reason(DisconnectCause::ConnectionLost),
        MQTTBROKER_CONNECTION_LOST
    );
    assert_eq!(disconnect_reason(DisconnectCause::KeepAliveTimeout), 0x8D);
    assert_eq!(disconnect_reason(DisconnectCause::TakenOver), 0x8E);
    assert_eq!(disconnect_reason(DisconnectCause::ServerShutdown), 0x8B);
    assert_eq!(
        disconnect_reason(DisconnectCause::ByHost(ReasonCode(0x98))),
        0x98
    );
    assert_eq!(
        auth_answer(0, Some(Bytes::from_static(b"ok"))),
        AuthAnswer::Success(Some(Bytes::from_static(b"ok")))
    );
    assert_eq!(auth_answer(0x18, None), AuthAnswer::Continue(None));
    assert_eq!(auth_answer(0x8C, None), AuthAnswer::Fail(ReasonCode(0x8C)));
    assert_eq!(
        auth_answer(7, None),
        AuthAnswer::Fail(ReasonCode::UNSPECIFIED_ERROR)
    );
    assert_eq!(
        disconnect_reason(DisconnectCause::ProtocolError(ReasonCode(0x81))),
        0x81
    );
}
