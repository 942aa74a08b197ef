//! Unit tests of the broker's C callbacks: which hooks a table asks for,
//! and what each callback is shown (the client record, at struct_version
//! 0 and 1).

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::broker::MQTTBroker_getPort;
use super::broker_hooks::{CHooks, in_delivery_callback};
use super::types::*;
use crate::broker::server::{AuthInfo, ConnectInfo, Hooks, PublishInfo};
use crate::broker::{AuthAnswer, ClientRecord, Delivery, DisconnectCause};
use crate::protocol::codec::{
    Properties, Property, PropertyId, PropertyValue, ProtocolVersion, QoS, ReasonCode,
};

fn callbacks_none(version: c_int) -> MQTTBroker_callbacks {
    MQTTBroker_callbacks {
        struct_id: [b'M', b'Q', b'B', b'K'].map(|b| b as c_char),
        struct_version: version,
        on_client_connect: None,
        on_client_publish: None,
        on_client_subscribe: None,
        on_client_disconnect: None,
        on_client_unsubscribe: None,
        on_client_deliver: None,
        on_client_auth: None,
    }
}

/// What the test callbacks saw, as text (one test at a time calls them).
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn opt(p: *const c_char) -> String {
    if p.is_null() {
        "-".into()
    } else {
        // SAFETY: the callbacks get NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The client info as text; the version 1 members only when it says 1.
fn who(c: &MQTTBroker_clientInfo) -> String {
    let mut s = format!(
        "{} {} {} v{}",
        opt(c.clientId),
        opt(c.username),
        opt(c.address),
        c.MQTTVersion
    );
    if c.struct_version >= 1 {
        s += &format!(" cert={} bridge={}", opt(c.certSubject), c.bridge);
    }
    s
}

unsafe extern "C" fn cb_connect(ctx: *mut c_void, c: *const MQTTBroker_clientInfo) -> c_int {
    // SAFETY: the broker passes a valid info for the call's duration.
    let c = unsafe { &*c };
    // SAFETY: password/passwordLen describe readable bytes when non-NULL.
    let pw = unsafe { super::guard::bytes(c.password, c.passwordLen) };
    SEEN.lock().unwrap().push(format!(
        "connect {} pw={} ctx{}",
        who(c),
        String::from_utf8_lossy(pw),
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
        "publish {} {} {} q{} r{} props{}",
        who(c),
        opt(topic),
        String::from_utf8_lossy(payload),
        m.qos,
        m.retained,
        m.properties.count
    ));
    0x97
}

unsafe extern "C" fn cb_subscribe(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    filter: *const c_char,
    qos: c_int,
) -> c_int {
    // SAFETY: valid for the call's duration.
    let c = unsafe { &*c };
    SEEN.lock()
        .unwrap()
        .push(format!("subscribe {} {} q{qos}", who(c), opt(filter)));
    qos
}

unsafe extern "C" fn cb_unsubscribe(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    filter: *const c_char,
) {
    // SAFETY: valid for the call's duration.
    let c = unsafe { &*c };
    SEEN.lock()
        .unwrap()
        .push(format!("unsubscribe {} {}", who(c), opt(filter)));
}

unsafe extern "C" fn cb_deliver(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    topic: *const c_char,
    _m: *const MQTTBroker_message,
) -> c_int {
    // SAFETY: valid for the call's duration.
    let c = unsafe { &*c };
    // Calling the broker from here would deadlock: it is refused.
    let rc = MQTTBroker_getPort(8usize as MQTTBroker, 0);
    let flagged = in_delivery_callback();
    SEEN.lock().unwrap().push(format!(
        "deliver {} {} rc{rc} flagged={flagged}",
        who(c),
        opt(topic)
    ));
    c_int::from(opt(topic).starts_with("secret"))
}

unsafe extern "C" fn cb_auth(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    method: *const c_char,
    data: *const c_void,
    len: c_int,
    step: c_int,
    out: *mut c_void,
    cap: c_int,
    out_len: *mut c_int,
) -> c_int {
    // SAFETY: valid for the call's duration; `data` has `len` bytes.
    let (c, data) = unsafe { (&*c, super::guard::bytes(data, len)) };
    SEEN.lock().unwrap().push(format!(
        "auth {} {} {} step{step} cap{cap}",
        who(c),
        opt(method),
        String::from_utf8_lossy(data)
    ));
    let reply = b"challenge";
    // SAFETY: `out` has `cap` writable bytes and `out_len` is writable.
    unsafe {
        std::ptr::copy_nonoverlapping(reply.as_ptr(), out.cast::<u8>(), reply.len());
        *out_len = reply.len() as c_int;
    }
    match step {
        0 => MQTTBROKER_AUTH_CONTINUE,
        _ => 0x87,
    }
}

unsafe extern "C" fn cb_disconnect(
    _ctx: *mut c_void,
    c: *const MQTTBroker_clientInfo,
    reason: c_int,
) {
    // SAFETY: valid for the call's duration.
    let c = unsafe { &*c };
    SEEN.lock()
        .unwrap()
        .push(format!("disconnect {} {reason}", who(c)));
}

fn record(conn: usize, id: &str, user: Option<&str>) -> Arc<ClientRecord> {
    Arc::new(ClientRecord {
        conn,
        client_id: id.into(),
        username: user.map(Into::into),
        peer: "127.0.0.1:4000".parse().unwrap(),
        cert_subject: Some("alice".into()),
        version: ProtocolVersion::V5,
        bridge: true,
    })
}

#[test]
fn hooks_ask_only_what_is_set() {
    let w = CHooks::new(callbacks_none(1), std::ptr::null_mut()).wants();
    assert!(!w.connect && !w.publish && !w.subscribe && !w.notices);
    assert!(!w.unsubscribe && !w.deliver && !w.auth);
    let mut cbs = callbacks_none(0);
    cbs.on_client_disconnect = Some(cb_disconnect);
    let w = CHooks::new(cbs, std::ptr::null_mut()).wants();
    // No connect hook is asked just to learn who clients are any more.
    assert!(!w.connect && !w.publish && !w.subscribe && w.notices);
    let mut cbs = callbacks_none(1);
    cbs.on_client_unsubscribe = Some(cb_unsubscribe);
    cbs.on_client_deliver = Some(cb_deliver);
    cbs.on_client_auth = Some(cb_auth);
    let w = CHooks::new(cbs, std::ptr::null_mut()).wants();
    assert!(w.unsubscribe && w.deliver && w.auth && !w.notices && !w.connect);
}

/// Every callback, at struct_version 0 and 1.
#[test]
fn callbacks_see_the_client_record() {
    SEEN.lock().unwrap().clear();
    for version in [0, 1] {
        let mut cbs = callbacks_none(version);
        cbs.on_client_connect = Some(cb_connect);
        cbs.on_client_publish = Some(cb_publish);
        cbs.on_client_subscribe = Some(cb_subscribe);
        cbs.on_client_disconnect = Some(cb_disconnect);
        if version == 1 {
            cbs.on_client_unsubscribe = Some(cb_unsubscribe);
            cbs.on_client_deliver = Some(cb_deliver);
            cbs.on_client_auth = Some(cb_auth);
        }
        let hooks = CHooks::new(cbs, 42usize as *mut c_void);
        let no = ConnectInfo {
            client: record(1, "no", None),
            password: Some(Bytes::from_static(b"pw")),
        };
        assert_eq!(hooks.on_connect(&no), ReasonCode(0x87));
        let ann = record(2, "auto-1", Some("ann"));
        let publish = PublishInfo {
            client: ann.clone(),
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
        assert_eq!(
            hooks.on_subscribe(&ann, "a/#", QoS::AtLeastOnce),
            ReasonCode(1)
        );
        hooks.on_unsubscribe(&ann, "a/#");
        let delivery = |topic: &'static str| Delivery {
            topic,
            payload: &publish.payload,
            qos: QoS::AtMostOnce,
            retain: false,
            properties: &publish.properties,
        };
        assert!(hooks.on_deliver(&ann, &delivery("open/1")));
        assert_eq!(hooks.on_deliver(&ann, &delivery("secret/1")), version == 0);
        assert!(!in_delivery_callback());
        let step = |step, data: &'static [u8]| AuthInfo {
            method: "SCRAM".into(),
            data: Some(Bytes::from_static(data)),
            step,
            reauth: false,
        };
        let challenge = Some(Bytes::from_static(b"challenge"));
        let first = hooks.on_auth(&ann, &step(0, b"hello"));
        let second = hooks.on_auth(&ann, &step(1, b"proof"));
        if version == 1 {
            assert_eq!(first, AuthAnswer::Continue(challenge));
            assert_eq!(second, AuthAnswer::Fail(ReasonCode(0x87)));
        } else {
            assert_eq!(first, AuthAnswer::Fail(ReasonCode(0x8C)));
        }
        hooks.on_disconnect(&ann, DisconnectCause::ByHost(ReasonCode(0x98)));
    }
    let seen = SEEN.lock().unwrap().clone();
    let v0 = "127.0.0.1:4000 v5";
    let v1 = "127.0.0.1:4000 v5 cert=alice bridge=1";
    let bad = MQTTBROKER_IN_DELIVERY_CALLBACK;
    assert_eq!(
        seen,
        vec![
            format!("connect no - {v0} pw=pw ctx42"),
            format!("publish auto-1 ann {v0} t/1 hi q1 r1 props1"),
            format!("subscribe auto-1 ann {v0} a/# q1"),
            format!("disconnect auto-1 ann {v0} 152"),
            format!("connect no - {v1} pw=pw ctx42"),
            format!("publish auto-1 ann {v1} t/1 hi q1 r1 props1"),
            format!("subscribe auto-1 ann {v1} a/# q1"),
            format!("unsubscribe auto-1 ann {v1} a/#"),
            format!("deliver auto-1 ann {v1} open/1 rc{bad} flagged=true"),
            format!("deliver auto-1 ann {v1} secret/1 rc{bad} flagged=true"),
            format!("auth auto-1 ann {v1} SCRAM hello step0 cap65535"),
            format!("auth auto-1 ann {v1} SCRAM proof step1 cap65535"),
            format!("disconnect auto-1 ann {v1} 152"),
        ]
    );
}
