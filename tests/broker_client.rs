//! Our Rust client API against our embedded broker: QoS 0/1/2 in order for
//! each protocol version, retained, will, cleansession=0 redelivery of
//! messages queued while offline, MQTT 5 session expiry and injection.

mod support;

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::client::error::ClientError;
use ferromq::client::sync::{Client, ConnectOptions, ConnectResult, CreateOptions};
use ferromq::protocol::codec::{
    Properties, PropertyId, PropertyValue, QoS, ReasonCode, SubscriptionOptions, Will,
};

const WAIT: Duration = Duration::from_secs(5);

fn broker() -> (Server, String) {
    let mut s =
        Server::new(BrokerConfig::default(), vec!["127.0.0.1:0".into()], None).expect("server");
    s.start().expect("start");
    let uri = format!("tcp://127.0.0.1:{}", s.ports()[0]);
    (s, uri)
}

fn opts(version: i32, clean: bool) -> ConnectOptions {
    ConnectOptions {
        keep_alive: Duration::from_secs(20),
        clean_session: clean,
        clean_start: clean,
        max_inflight: 10,
        ..support::connect_options(version)
    }
}

fn new_client(uri: &str, id: &str, version: i32) -> Client {
    Client::new(
        uri,
        id,
        CreateOptions {
            mqtt_version: version,
        },
    )
    .expect("create")
}

fn client(uri: &str, id: &str, version: i32) -> Client {
    let c = new_client(uri, id, version);
    c.connect(opts(version, true)).expect("connect");
    c
}

fn sub(c: &Client, filter: &str, qos: QoS) {
    let ack = c
        .subscribe_many(
            vec![(
                filter.into(),
                SubscriptionOptions {
                    qos,
                    ..Default::default()
                },
            )],
            Properties::default(),
        )
        .expect("subscribe");
    assert_eq!(ack.codes, vec![ReasonCode(qos as u8)]);
}

/// Publish `n` numbered messages, keeping within the client's window.
fn publish_numbered(c: &Client, topic: &str, qos: QoS, n: u32) {
    let mut tokens = VecDeque::new();
    for i in 0..n {
        loop {
            let payload = Bytes::from(i.to_be_bytes().to_vec());
            match c.publish(topic, payload, qos, false, Properties::default()) {
                Ok(r) => {
                    tokens.push_back(r.token);
                    break;
                }
                Err(ClientError::MaxInflight) => {
                    let t = tokens.pop_front().expect("a pending token");
                    c.wait_for_completion(t, WAIT).expect("completion");
                }
                Err(e) => panic!("publish: {e:?}"),
            }
        }
    }
    for t in tokens {
        c.wait_for_completion(t, WAIT).expect("completion");
    }
}

fn expect_numbered(c: &Client, topic: &str, qos: QoS, n: u32, what: &str) {
    for i in 0..n {
        let (t, m) = c
            .receive(WAIT)
            .expect("receive")
            .unwrap_or_else(|| panic!("{what}: message {i} not received"));
        assert_eq!(t, topic, "{what}");
        assert_eq!(&m.payload[..], &i.to_be_bytes(), "{what}: order at {i}");
        assert_eq!(m.qos, qos, "{what}");
    }
}

#[test]
fn qos_0_1_2_in_order_each_version() {
    let (_srv, uri) = broker();
    for version in [3, 4, 5] {
        let s = client(&uri, &format!("bc-sub-{version}"), version);
        let p = client(&uri, &format!("bc-pub-{version}"), version);
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let topic = format!("bc/order/{version}/{}", qos as u8);
            sub(&s, &topic, qos);
            publish_numbered(&p, &topic, qos, 100);
            expect_numbered(&s, &topic, qos, 100, &format!("v{version} {qos:?}"));
        }
        // Downgrade to the subscription's maximum.
        let topic = format!("bc/down/{version}");
        sub(&s, &topic, QoS::AtLeastOnce);
        publish_numbered(&p, &topic, QoS::ExactlyOnce, 5);
        expect_numbered(&s, &topic, QoS::AtLeastOnce, 5, "downgrade");
        for c in [&s, &p] {
            c.disconnect(
                Duration::from_secs(1),
                ReasonCode::SUCCESS,
                Properties::default(),
            )
            .unwrap();
        }
    }
}

#[test]
fn retained_and_injected_messages() {
    let (srv, uri) = broker();
    let p = client(&uri, "bc-ret-pub", 4);
    let r = p
        .publish(
            "bc/ret",
            Bytes::from_static(b"kept"),
            QoS::AtLeastOnce,
            true,
            Properties::default(),
        )
        .unwrap();
    p.wait_for_completion(r.token, WAIT).unwrap();
    srv.publish(
        "bc/inj",
        Bytes::from_static(b"from host"),
        QoS::AtLeastOnce,
        true,
        &Properties::default(),
    )
    .unwrap();
    let s = client(&uri, "bc-ret-sub", 5);
    sub(&s, "bc/ret", QoS::AtLeastOnce);
    let (t, m) = s.receive(WAIT).unwrap().expect("retained");
    assert_eq!(
        (t.as_str(), &m.payload[..], m.retained),
        ("bc/ret", &b"kept"[..], true)
    );
    sub(&s, "bc/inj", QoS::AtLeastOnce);
    let (t, m) = s.receive(WAIT).unwrap().expect("injected retained");
    assert_eq!(
        (t.as_str(), &m.payload[..], m.retained),
        ("bc/inj", &b"from host"[..], true)
    );
    // Cleared with an empty payload: a new subscriber gets nothing retained,
    // so its first message is the live one published after it subscribed.
    let r = p
        .publish(
            "bc/ret",
            Bytes::new(),
            QoS::AtLeastOnce,
            true,
            Properties::default(),
        )
        .unwrap();
    p.wait_for_completion(r.token, WAIT).unwrap();
    let s2 = client(&uri, "bc-ret-sub2", 4);
    sub(&s2, "bc/ret", QoS::AtLeastOnce);
    let r = p
        .publish(
            "bc/ret",
            Bytes::from_static(b"live"),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
        )
        .unwrap();
    p.wait_for_completion(r.token, WAIT).unwrap();
    let (_, m) = s2.receive(WAIT).unwrap().expect("live");
    assert_eq!((&m.payload[..], m.retained), (&b"live"[..], false));
}

#[test]
fn will_on_abrupt_close_not_on_disconnect() {
    let (_srv, uri) = broker();
    for version in [4, 5] {
        let topic = format!("bc/will/{version}");
        let s = client(&uri, &format!("bc-will-watch-{version}"), version);
        sub(&s, &topic, QoS::AtLeastOnce);
        let will = |payload: &'static [u8]| Will {
            topic: topic.clone(),
            payload: Bytes::from_static(payload),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties::default(),
        };
        let calm = new_client(&uri, &format!("bc-calm-{version}"), version);
        let mut o = opts(version, true);
        o.will = Some(Box::new(will(b"calm")));
        calm.connect(o).unwrap();
        calm.disconnect(
            Duration::from_secs(1),
            ReasonCode::SUCCESS,
            Properties::default(),
        )
        .unwrap();
        let doomed = new_client(&uri, &format!("bc-doomed-{version}"), version);
        let mut o = opts(version, true);
        o.will = Some(Box::new(will(b"doomed")));
        doomed.connect(o).unwrap();
        drop(doomed); // destroy without DISCONNECT closes the socket
        let (_, m) = s.receive(WAIT).unwrap().expect("will");
        assert_eq!(
            &m.payload[..],
            b"doomed",
            "v{version}: calm client's will sent"
        );
    }
}

#[test]
fn persistent_session_redelivers_in_order() {
    let (_srv, uri) = broker();
    for version in [3, 4, 5] {
        let id = format!("bc-persist-{version}");
        let topic = format!("bc/persist/{version}");
        let c = new_client(&uri, &id, version);
        let mut o = opts(version, false);
        if version == 5 {
            o.properties = Properties::default()
                .with(PropertyId::SESSION_EXPIRY_INTERVAL, PropertyValue::U32(300));
        }
        let first: ConnectResult = c.connect(o.clone()).unwrap();
        assert!(!first.session_present);
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            sub(&c, &format!("{topic}/{}", qos as u8), qos);
        }
        c.disconnect(
            Duration::from_secs(1),
            ReasonCode::SUCCESS,
            Properties::default(),
        )
        .unwrap();
        let p = client(&uri, &format!("bc-persist-pub-{version}"), version);
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            publish_numbered(&p, &format!("{topic}/{}", qos as u8), qos, 30);
        }
        let again = c.connect(o).unwrap();
        // MQTT 3.1's CONNACK has no session-present flag (its byte is
        // reserved); the session resumes all the same, as the messages show.
        assert_eq!(again.session_present, version != 3, "v{version}");
        expect_numbered(
            &c,
            &format!("{topic}/1"),
            QoS::AtLeastOnce,
            30,
            "queued qos 1",
        );
        expect_numbered(
            &c,
            &format!("{topic}/2"),
            QoS::ExactlyOnce,
            30,
            "queued qos 2",
        );
        assert!(c.receive(Duration::from_millis(200)).unwrap().is_none());
        c.disconnect(
            Duration::from_secs(1),
            ReasonCode::SUCCESS,
            Properties::default(),
        )
        .unwrap();
        // A clean session throws it away.
        let fresh = c.connect(opts(version, true)).unwrap();
        assert!(!fresh.session_present);
    }
}

/// A publish hook that holds the first message until released.
struct Gate {
    entered: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    first: std::sync::atomic::AtomicBool,
}

impl ferromq::broker::server::Hooks for Gate {
    fn wants(&self) -> ferromq::broker::Hooks {
        ferromq::broker::Hooks {
            publish: true,
            ..Default::default()
        }
    }
    fn on_publish(&self, _info: &ferromq::broker::server::PublishInfo) -> ReasonCode {
        if self.first.swap(false, std::sync::atomic::Ordering::AcqRel) {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self.release.lock().unwrap().recv_timeout(WAIT);
        }
        ReasonCode::SUCCESS
    }
}

/// While the host decides on one publish, that connection's input waits
/// (the reactor stops reading it); once the decision comes, everything that
/// piled up is read and delivered, in order, and other clients were served
/// meanwhile.
#[test]
fn input_held_for_a_host_decision_resumes_in_order() {
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let gate = Gate {
        entered: std::sync::Mutex::new(entered_tx),
        release: std::sync::Mutex::new(release_rx),
        first: std::sync::atomic::AtomicBool::new(true),
    };
    let mut s = Server::new(
        BrokerConfig::default(),
        vec!["127.0.0.1:0".into()],
        Some(std::sync::Arc::new(gate)),
    )
    .expect("server");
    s.start().expect("start");
    let uri = format!("tcp://127.0.0.1:{}", s.ports()[0]);
    let sub = client(&uri, "held-sub", 4);
    let filters = vec![("held/#".to_string(), SubscriptionOptions::default())];
    sub.subscribe_many(filters, Properties::default()).unwrap();
    let publ = client(&uri, "held-pub", 4);
    // ~1 MB in total: more than one read slice, so reading must resume.
    let payload = Bytes::from(vec![b'h'; 4096]);
    for i in 0..256u32 {
        let mut p = payload.to_vec();
        p[..4].copy_from_slice(&i.to_be_bytes());
        publ.publish(
            "held/t",
            Bytes::from(p),
            QoS::AtMostOnce,
            false,
            Properties::default(),
        )
        .unwrap();
    }
    entered_rx
        .recv_timeout(WAIT)
        .expect("the hook saw the first publish");
    // Another client is served while the decision is pending.
    let other = client(&uri, "held-other", 4);
    assert!(other.is_connected());
    assert!(
        sub.receive(Duration::from_millis(200)).unwrap().is_none(),
        "nothing passes the gate"
    );
    release_tx.send(()).unwrap();
    for i in 0..256u32 {
        let (_, m) = sub
            .receive(WAIT)
            .unwrap()
            .expect("every held message arrives");
        assert_eq!(&m.payload[..4], &i.to_be_bytes(), "order kept at {i}");
    }
}
