//! The Rust client over WebSockets. Against a WebSocket server written
//! here: the upgrade asks for the URI's path with the `mqtt` subprotocol
//! and the connect options' httpHeaders, client frames are masked, and a
//! CONNACK split across two frames completes the connect. Against
//! mosquitto's ws:// and wss:// listeners: a QoS 1 round trip of a 20 kB
//! message, which mosquitto sends as 4 kB frames (one per 100 ms: larger
//! messages only make the test slower), so one MQTT packet spans frames.
//! And `unix://PATH` to mosquitto's Unix socket listener.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::client::tls::TlsOptions;
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use ferromq::reactor::transport::tls_config::TlsSettings;
use ferromq::reactor::transport::ws::accept_for;
use support::Mosquitto;
use support::tls::TlsBroker;

/// An unmasked server frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

#[test]
fn upgrade_request_headers_masking_and_split_frames() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).expect("request head");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("key")
            .to_string();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
            accept_for(&key)
        );
        s.write_all(response.as_bytes()).unwrap();
        // The client's first frame: masked, binary, holding CONNECT.
        let mut h = [0u8; 2];
        s.read_exact(&mut h).expect("frame header");
        let len = usize::from(h[1] & 0x7F);
        let mut mask = [0u8; 4];
        s.read_exact(&mut mask).unwrap();
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).unwrap();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i & 3];
        }
        // CONNACK (accepted) in two frames, then a ping to be answered.
        let mut out = frame(0x2, &[0x20]);
        out.extend(frame(0x2, &[0x02, 0x00, 0x00]));
        out.extend(frame(0x9, b"hi"));
        s.write_all(&out).unwrap();
        let mut pong = [0u8; 8];
        s.read_exact(&mut pong).expect("pong");
        (head, h, payload, pong)
    });
    let c = Client::new(
        &format!("ws://127.0.0.1:{port}/custom/path"),
        "ferromq-ws-raw",
        CreateOptions::default(),
    )
    .expect("create");
    let options = ConnectOptions {
        http_headers: vec![("Authorization".into(), "Bearer token-1".into())],
        ..support::connect_options(4)
    };
    c.connect(options)
        .expect("connect over the test's WebSocket server");
    let (head, h, connect, pong) = server.join().expect("server");
    assert!(head.starts_with("GET /custom/path HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
    assert!(head.contains("Sec-WebSocket-Protocol: mqtt\r\n"), "{head}");
    assert!(head.contains("Authorization: Bearer token-1\r\n"), "{head}");
    assert_eq!(h[0], 0x82, "a final binary frame");
    assert!(h[1] & 0x80 != 0, "client frames are masked");
    assert_eq!(connect[0], 0x10, "CONNECT first");
    assert_eq!(pong[0], 0x8A, "ping answered with a pong");
    let _ = c.disconnect(
        Duration::from_millis(100),
        Default::default(),
        Properties::default(),
    );
}

fn round_trip(uri: &str, tls: Option<TlsOptions>) {
    let c = Client::new(uri, "ferromq-ws-rust", CreateOptions::default()).expect("create");
    let options = ConnectOptions {
        tls: tls.map(Arc::new),
        ..support::connect_options(5)
    };
    c.connect(options)
        .unwrap_or_else(|e| panic!("connect {uri}: {e:?}"));
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![("ferromq/ws".into(), sub)], Properties::default())
        .expect("subscribe");
    let payload: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    c.publish(
        "ferromq/ws",
        Bytes::from(payload.clone()),
        QoS::AtLeastOnce,
        false,
        Properties::default(),
    )
    .expect("publish");
    let (_, m) = c
        .receive(Duration::from_secs(10))
        .expect("receive")
        .expect("the message within 10 s");
    assert!(m.payload[..] == payload[..], "{uri}: payload differs");
    let _ = c.disconnect(
        Duration::from_millis(500),
        Default::default(),
        Properties::default(),
    );
}

#[test]
fn ws_and_wss_round_trips_through_mosquitto() {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    let b = TlsBroker::start();
    round_trip(&format!("ws://127.0.0.1:{}/mqtt", b.ws), None);
    let tls = TlsOptions::new(
        TlsSettings {
            trust_store: Some(b.certs.path("ca.pem")),
            verify_server: true,
            verify_host: true,
            ..TlsSettings::default()
        },
        None,
    );
    round_trip(&format!("wss://localhost:{}", b.wss), Some(tls));
}

#[test]
fn unix_socket_round_trip() {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    let b = TlsBroker::start();
    round_trip(&format!("unix://{}", b.unix.display()), None);
    assert!(
        b.broker
            .log()
            .wait_for("New client connected from ", Duration::from_secs(5)),
        "{}",
        b.broker.log().text()
    );
}
