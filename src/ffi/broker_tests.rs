//! Unit tests of the broker's C API: option checks and defaults (also
//! against the header's initializer), the guards of every entry point, the
//! answer mappings, and what the C callbacks are shown.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;

use super::broker::*;
use super::broker_hooks::{CHooks, connect_code, disconnect_reason, publish_code, subscribe_code};
use super::broker_options::{DEFAULT_LISTENER, initializer, settings};
use super::types::*;
use crate::broker::server::{ConnectInfo, Hooks, PublishInfo};
use crate::broker::{DisconnectCause, Limits};
use crate::protocol::codec::{
    Properties, Property, PropertyId, PropertyValue, ProtocolVersion, QoS, ReasonCode,
};

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
    stats.struct_version = 1;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_SUCCESS);
    assert_eq!(stats.droppedQoS0, 0, "version 1 has them");
    stats.struct_version = 2;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_BAD_STRUCTURE);
    stats.struct_version = 0;
    stats.struct_id[0] = b'X' as c_char;
    assert_eq!(MQTTBroker_getStats(h, &mut stats), MQTTBROKER_BAD_STRUCTURE);
    let mut cbs = callbacks_none();
    cbs.struct_id[3] = b'?' as c_char;
    assert_eq!(
        MQTTBroker_setCallbacks(h, std::ptr::null_mut(), &cbs),
        MQTTBROKER_BAD_STRUCTURE
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
        disconnect_reason(DisconnectCause::ProtocolError(ReasonCode(0x81))),
        0x81
    );
}

fn callbacks_none() -> MQTTBroker_callbacks {
    MQTTBroker_callbacks {
        struct_id: [b'M', b'Q', b'B', b'K'].map(|b| b as c_char),
        struct_version: 0,
        on_client_connect: None,
        on_client_publish: None,
        on_client_subscribe: None,
        on_client_disconnect: None,
    }
}

/// What the test callbacks saw, as text (only one test calls them).
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn opt(p: *const c_char) -> String {
    if p.is_null() {
        "-".into()
    } else {
        // SAFETY: the callbacks get NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

unsafe extern "C" fn cb_connect(ctx: *mut c_void, c: *const MQTTBroker_clientInfo) -> c_int {
    // SAFETY: the broker passes a valid info for the call's duration.
    let c = unsafe { &*c };
    // SAFETY: password/passwordLen describe readable bytes when non-NULL.
    let pw = unsafe { super::guard::bytes(c.password, c.passwordLen) };
    SEEN.lock().unwrap().push(format!(
        "connect {} {} {} {} v{} ctx{}",
        opt(c.clientId),
        opt(c.username),
        String::from_utf8_lossy(pw),
        opt(c.address),
        c.MQTTVersion,
        ctx as usize
    ));
    if opt(c.clientId) == "no" { 0x87 } else { 0 }
}

unsafe extern "C" fn cb_publish(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    topic: *const c_char,
    m: *const MQTTBroker_message,
) -> c_int {
    // SAFETY: valid for the call's duration.
    let (c, m) = unsafe { (&*c, &*m) };
    // SAFETY: payload/payloadlen describe readable bytes.
    let payload = unsafe { super::guard::bytes(m.payload, m.payloadlen) };
    SEEN.lock().unwrap().push(format!(
        "publish {} {} {} {} {} q{} r{} props{}",
        opt(c.clientId),
        opt(c.username),
        opt(c.address),
        opt(topic),
        String::from_utf8_lossy(payload),
        m.qos,
        m.retained,
        m.properties.count
    ));
    0x97
}

unsafe extern "C" fn cb_disconnect(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    reason: c_int,
) {
    // SAFETY: valid for the call's duration.
    let c = unsafe { &*c };
    SEEN.lock().unwrap().push(format!(
        "disconnect {} {} {reason}",
        opt(c.clientId),
        opt(c.username)
    ));
}

#[test]
fn hooks_ask_only_what_is_set() {
    let none = CHooks::new(callbacks_none(), std::ptr::null_mut());
    let w = none.wants();
    assert!(!w.connect && !w.publish && !w.subscribe && !w.notices);
    let mut cbs = callbacks_none();
    cbs.on_client_connect = Some(cb_connect);
    let w = CHooks::new(cbs, std::ptr::null_mut()).wants();
    assert!(w.connect && !w.publish && !w.subscribe && !w.notices);
    let mut cbs = callbacks_none();
    cbs.on_client_disconnect = Some(cb_disconnect);
    let w = CHooks::new(cbs, std::ptr::null_mut()).wants();
    // The connect hook is asked too, to learn each client's user name.
    assert!(w.connect && !w.publish && !w.subscribe && w.notices);
}

#[test]
fn callbacks_see_the_client_as_it_connected() {
    SEEN.lock().unwrap().clear();
    let mut cbs = callbacks_none();
    cbs.on_client_connect = Some(cb_connect);
    cbs.on_client_publish = Some(cb_publish);
    cbs.on_client_disconnect = Some(cb_disconnect);
    let hooks = CHooks::new(cbs, 42usize as *mut c_void);
    let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let connect = |id: &str, user: Option<&str>| ConnectInfo {
        client_id: id.into(),
        username: user.map(Into::into),
        password: Some(Bytes::from_static(b"pw")),
        peer,
        version: ProtocolVersion::V5,
    };
    assert_eq!(hooks.on_connect(&connect("no", None)), ReasonCode(0x87));
    // An empty id, accepted and then connected under an assigned one.
    assert_eq!(
        hooks.on_connect(&connect("", Some("ann"))),
        ReasonCode::SUCCESS
    );
    hooks.on_connected("auto-1", ProtocolVersion::V5, Some(peer));
    let publish = PublishInfo {
        client_id: "auto-1".into(),
        topic: "t/1".into(),
        payload: Bytes::from_static(b"hi"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties {
            list: vec![Property {
                id: PropertyId(0x26),
                value: PropertyValue::Pair("k".into(), "v".into()),
            }],
        },
    };
    assert_eq!(hooks.on_publish(&publish), ReasonCode(0x97));
    // A takeover keeps what is known for the id's new connection.
    hooks.on_disconnect("auto-1", DisconnectCause::TakenOver);
    hooks.on_disconnect("auto-1", DisconnectCause::ConnectionLost);
    // Afterwards nothing is known but the id.
    hooks.on_disconnect("auto-1", DisconnectCause::ServerShutdown);
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            "connect no - pw 127.0.0.1:4000 v5 ctx42".to_owned(),
            "connect  ann pw 127.0.0.1:4000 v5 ctx42".to_owned(),
            "publish auto-1 ann 127.0.0.1:4000 t/1 hi q1 r1 props1".to_owned(),
            "disconnect auto-1 ann 142".to_owned(),
            "disconnect auto-1 ann -1".to_owned(),
            "disconnect auto-1 - 139".to_owned(),
        ]
    );
}
