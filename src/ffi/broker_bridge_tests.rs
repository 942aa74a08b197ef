//! Unit tests of MQTTBroker_addBridge: the guards, the option checks, and a
//! bridge between two brokers made through the C API.

use std::ffi::{CString, c_char, c_int};
use std::ptr::null;
use std::time::Duration;

use bytes::Bytes;

use super::broker::*;
use super::types::*;
use crate::client::sync::{Client, ConnectOptions, CreateOptions};
use crate::protocol::codec::{Properties, QoS, SubscriptionOptions};

fn initializer() -> MQTTBroker_bridgeOptions {
    MQTTBroker_bridgeOptions {
        struct_id: [b'M', b'Q', b'B', b'B'].map(|b| b as c_char),
        struct_version: 0,
        name: null(),
        addresses: null(),
        addressCount: 0,
        topics: null(),
        topicCount: 0,
        options: null(),
    }
}

/// A created (not started) broker on a free port.
fn broker() -> MQTTBroker {
    let l = c"127.0.0.1:0";
    let listeners = [l.as_ptr()];
    let mut o = MQTTBroker_createOptions {
        listeners: listeners.as_ptr(),
        listenerCount: 1,
        ..super::broker_options::initializer()
    };
    o.maxInflight = 32;
    let mut h: MQTTBroker = std::ptr::null_mut();
    assert_eq!(MQTTBroker_create(&mut h, &o), MQTTBROKER_SUCCESS);
    h
}

/// Bridge options naming `addr` with `topics` and extra `options`.
fn add(h: MQTTBroker, name: &str, addr: &str, topics: &[&str], options: Option<&str>) -> c_int {
    let name = CString::new(name).unwrap();
    let addr = CString::new(addr).unwrap();
    let addrs = [addr.as_ptr()];
    let topics: Vec<CString> = topics.iter().map(|t| CString::new(*t).unwrap()).collect();
    let tps: Vec<*const c_char> = topics.iter().map(|t| t.as_ptr()).collect();
    let options = options.map(|o| CString::new(o).unwrap());
    let o = MQTTBroker_bridgeOptions {
        name: name.as_ptr(),
        addresses: addrs.as_ptr(),
        addressCount: 1,
        topics: tps.as_ptr(),
        topicCount: tps.len() as c_int,
        options: options.as_ref().map_or(null(), |o| o.as_ptr()),
        ..initializer()
    };
    MQTTBroker_addBridge(h, &o)
}

#[test]
fn guards_and_option_checks() {
    let h = broker();
    assert_eq!(
        MQTTBroker_addBridge(std::ptr::null_mut(), &initializer()),
        MQTTBROKER_NULL_PARAMETER
    );
    assert_eq!(MQTTBroker_addBridge(h, null()), MQTTBROKER_NULL_PARAMETER);
    let mut bad = initializer();
    bad.struct_id[3] = b'X' as c_char;
    assert_eq!(MQTTBroker_addBridge(h, &bad), MQTTBROKER_BAD_STRUCTURE);
    bad = initializer();
    bad.struct_version = 1;
    assert_eq!(MQTTBroker_addBridge(h, &bad), MQTTBROKER_BAD_STRUCTURE);
    // No name.
    assert_eq!(
        MQTTBroker_addBridge(h, &initializer()),
        MQTTBROKER_NULL_PARAMETER
    );
    // No topic, a bad topic, a bad address, an unknown or bad option.
    assert_eq!(add(h, "a", "127.0.0.1:1", &[], None), MQTTBROKER_BAD_OPTION);
    assert_eq!(
        add(h, "a", "127.0.0.1:1", &["# up"], None),
        MQTTBROKER_BAD_OPTION
    );
    assert_eq!(add(h, "a", "h:99999", &["#"], None), MQTTBROKER_BAD_OPTION);
    let opt = Some("max_queued 4");
    assert_eq!(add(h, "a", "h", &["#"], opt), MQTTBROKER_BAD_OPTION);
    let opt = Some("cleansession maybe");
    assert_eq!(add(h, "a", "h", &["#"], opt), MQTTBROKER_BAD_OPTION);
    // A count with no array.
    let name = c"a";
    let o = MQTTBroker_bridgeOptions {
        name: name.as_ptr(),
        topicCount: 1,
        ..initializer()
    };
    assert_eq!(MQTTBroker_addBridge(h, &o), MQTTBROKER_NULL_PARAMETER);
    let opt = Some("# comment\nbridge_protocol_version mqttv50\n\nrestart_timeout 1\n");
    assert_eq!(
        add(h, "a", "h:1", &["t/# both 1 \"\" r/"], opt),
        MQTTBROKER_SUCCESS
    );
    assert_eq!(
        add(h, "a", "h:1", &["#"], None),
        MQTTBROKER_BAD_OPTION,
        "name in use"
    );
    let mut h = h;
    MQTTBroker_destroy(&mut h);
}

#[test]
fn a_bridge_made_through_the_c_api_carries_messages() {
    let hub = broker();
    assert_eq!(MQTTBroker_start(hub), MQTTBROKER_SUCCESS);
    let hub_port = MQTTBroker_getPort(hub, 0);
    let edge = broker();
    let rc = add(
        edge,
        "hub",
        &format!("127.0.0.1:{hub_port}"),
        &["# out 1 edge/ hub/"],
        Some("bridge_protocol_version mqttv50\nremote_clientid c-edge\n"),
    );
    assert_eq!(rc, MQTTBROKER_SUCCESS);
    assert_eq!(MQTTBroker_start(edge), MQTTBROKER_SUCCESS);
    let sub = Client::new(
        &format!("tcp://127.0.0.1:{hub_port}"),
        "c-sub",
        CreateOptions { mqtt_version: 4 },
    )
    .unwrap();
    let opts = ConnectOptions {
        keep_alive: Duration::from_secs(30),
        clean_session: true,
        clean_start: true,
        will: None,
        username: None,
        password: None,
        connect_timeout: Duration::from_secs(5),
        retry_interval: Duration::ZERO,
        mqtt_version: 4,
        server_uris: Vec::new(),
        max_inflight: 10,
        properties: Properties::default(),
        tls: None,
        http_headers: Vec::new(),
        http_proxy: None,
        https_proxy: None,
        bridge: false,
    };
    sub.connect(opts).unwrap();
    let o = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    sub.subscribe_many(vec![("hub/#".into(), o)], Properties::default())
        .unwrap();
    // The bridge's state notice says when it is up (retained on the hub).
    let state = "$SYS/broker/connection/c-edge/state";
    sub.subscribe_many(vec![(state.into(), o)], Properties::default())
        .unwrap();
    let (t, m) = sub
        .receive(Duration::from_secs(20))
        .unwrap()
        .expect("state");
    assert_eq!((t.as_str(), &m.payload[..]), (state, &b"1"[..]));
    let topic = c"edge/x";
    let rc = MQTTBroker_publish(
        edge,
        topic.as_ptr(),
        3,
        c"hey".as_ptr().cast(),
        1,
        0,
        std::ptr::null_mut(),
    );
    assert_eq!(rc, MQTTBROKER_SUCCESS);
    let (t, m) = sub
        .receive(Duration::from_secs(20))
        .unwrap()
        .expect("bridged");
    assert_eq!(
        (t.as_str(), m.payload),
        ("hub/x", Bytes::from_static(b"hey"))
    );
    let (mut e, mut h) = (edge, hub);
    MQTTBroker_destroy(&mut e);
    MQTTBroker_destroy(&mut h);
}
