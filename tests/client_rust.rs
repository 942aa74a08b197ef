//! The Rust client API (the layer under the C API) against a real mosquitto:
//! connect, QoS 0/1/2 round trips in order, retained, will, MQTT 5.

mod support;

use std::time::Duration;

use bytes::Bytes;
use ferromq::client::error::ClientError;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::protocol::codec::{Properties, QoS, ReasonCode, SubscriptionOptions, Will};
use support::Mosquitto;

fn opts(version: i32) -> ConnectOptions {
    ConnectOptions {
        keep_alive: Duration::from_secs(20),
        max_inflight: 20,
        ..support::connect_options(version)
    }
}

fn client(uri: &str, id: &str, version: i32) -> Client {
    let c = Client::new(
        uri,
        id,
        CreateOptions {
            mqtt_version: version,
        },
    )
    .expect("create");
    c.connect(opts(version)).expect("connect");
    c
}

fn sub_opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..Default::default()
    }
}

#[test]
fn qos_round_trips_in_order_each_version() {
    if !Mosquitto::available() {
        return support::skip("mosquitto not installed");
    }
    let broker = Mosquitto::start();
    let uri = broker.uri();
    for version in [0, 3, 4, 5] {
        let sub = client(&uri, &format!("rs-sub-{version}"), version);
        let publ = client(&uri, &format!("rs-pub-{version}"), version);
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let topic = format!("rust/order/{version}/{}", qos as u8);
            let ack = sub
                .subscribe_many(vec![(topic.clone(), sub_opts(qos))], Properties::default())
                .unwrap();
            assert_eq!(ack.codes, vec![ReasonCode(qos as u8)]);
            // More than the in-flight window (20): publish blocks until an
            // acknowledgement frees a slot, as Paho's does.
            let mut tokens = Vec::new();
            for i in 0..50u32 {
                let payload = Bytes::from(i.to_be_bytes().to_vec());
                tokens.push(
                    publ.publish(&topic, payload, qos, false, Properties::default())
                        .unwrap()
                        .token,
                );
                assert!(publ.pending_tokens().len() <= 20, "window exceeded");
            }
            for t in tokens {
                publ.wait_for_completion(t, Duration::from_secs(5)).unwrap();
            }
            assert!(publ.pending_tokens().is_empty());
            for i in 0..50u32 {
                let (t, m) = sub
                    .receive(Duration::from_secs(5))
                    .unwrap()
                    .expect("message in time");
                assert_eq!(t, topic);
                assert_eq!(
                    &m.payload[..],
                    &i.to_be_bytes(),
                    "order at {i}, version {version}, qos {qos:?}"
                );
                assert_eq!(m.qos, qos);
            }
        }
        publ.disconnect(
            Duration::from_secs(1),
            ReasonCode::SUCCESS,
            Properties::default(),
        )
        .unwrap();
        assert!(!publ.is_connected());
        assert_eq!(
            publ.publish(
                "x",
                Bytes::new(),
                QoS::AtMostOnce,
                false,
                Properties::default()
            )
            .unwrap_err(),
            ClientError::Disconnected
        );
    }
}

#[test]
fn retained_and_will() {
    if !Mosquitto::available() {
        return support::skip("mosquitto not installed");
    }
    let broker = Mosquitto::start();
    let uri = broker.uri();
    let p = client(&uri, "rs-ret-pub", 4);
    p.publish(
        "rust/retained",
        Bytes::from_static(b"kept"),
        QoS::AtLeastOnce,
        true,
        Properties::default(),
    )
    .unwrap();
    p.wait_for_completion(1, Duration::from_secs(5)).unwrap();
    let s = client(&uri, "rs-ret-sub", 4);
    s.subscribe_many(
        vec![("rust/retained".into(), sub_opts(QoS::AtLeastOnce))],
        Properties::default(),
    )
    .unwrap();
    let (_, m) = s
        .receive(Duration::from_secs(5))
        .unwrap()
        .expect("retained message");
    assert!(m.retained);
    assert_eq!(&m.payload[..], b"kept");

    // A client whose connection dies without DISCONNECT leaves its will.
    s.subscribe_many(
        vec![("rust/will".into(), sub_opts(QoS::AtLeastOnce))],
        Properties::default(),
    )
    .unwrap();
    let w = Client::new(&uri, "rs-will", CreateOptions { mqtt_version: 4 }).unwrap();
    let mut o = opts(4);
    o.will = Some(Box::new(Will {
        topic: "rust/will".into(),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Properties::default(),
    }));
    w.connect(o).unwrap();
    drop(w); // destroy without disconnect closes the socket abruptly
    let (t, m) = s
        .receive(Duration::from_secs(5))
        .unwrap()
        .expect("will message");
    assert_eq!((t.as_str(), &m.payload[..]), ("rust/will", &b"gone"[..]));
}

#[test]
fn connect_failures() {
    assert_eq!(
        Client::new("gopher://127.0.0.1:1", "x", CreateOptions::default()).err(),
        Some(ClientError::BadProtocol)
    );
    // Nothing listens on this port: connect fails within the timeout.
    let port = support::free_port();
    let c = Client::new(
        &format!("tcp://127.0.0.1:{port}"),
        "nobody",
        CreateOptions::default(),
    )
    .unwrap();
    let mut o = opts(4);
    o.connect_timeout = Duration::from_secs(2);
    assert_eq!(c.connect(o).err(), Some(ClientError::Failure));
    assert!(!c.is_connected());
}

/// MQTTVERSION_DEFAULT: a server that refuses 3.1.1 with return code 1
/// (unacceptable protocol version) gets a second connection with 3.1.
#[test]
fn default_version_falls_back_to_31() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut levels = Vec::new();
        for _ in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap();
            assert!(n > 8 && buf[0] == 0x10, "a CONNECT");
            // Fixed header (2 bytes for a short packet), name length, name, level.
            let name_len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
            let level = buf[4 + name_len];
            levels.push(level);
            let rc = if level == 4 { 1 } else { 0 };
            s.write_all(&[0x20, 0x02, 0x00, rc]).unwrap();
            if rc == 0 {
                // Keep the accepted connection until the client goes.
                let _ = s.read(&mut buf);
            }
        }
        levels
    });
    let c = Client::new(
        &format!("tcp://127.0.0.1:{port}"),
        "fallback",
        CreateOptions::default(),
    )
    .unwrap();
    let r = c
        .connect(opts(0))
        .expect("connects with 3.1 after the refusal");
    assert_eq!(r.mqtt_version, 3);
    drop(c);
    assert_eq!(server.join().unwrap(), vec![4, 3]);
}
