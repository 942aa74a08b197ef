//! The Rust client over TLS against mosquitto's TLS listeners: a QoS 1
//! round trip with the server checked (and with a client certificate), the
//! readable reason handed to the error callback for each bad case, TLS 1.1
//! refused with SSL_NOT_SUPPORTED, and a PSK callback left unused.
//! The same cases from C, compared with Paho, are in tests/c_tls.rs.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::client::error::ClientError;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::client::tls::TlsOptions;
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use ferromq::reactor::transport::tls_config::TlsSettings;
use support::Mosquitto;
use support::tls::TlsBroker;

fn settings(broker: &TlsBroker) -> TlsSettings {
    TlsSettings {
        trust_store: Some(broker.certs.path("ca.pem")),
        verify_server: true,
        verify_host: true,
        ..TlsSettings::default()
    }
}

/// Connect with `s`; the result, what the error callback heard, and how
/// long the connect took.
fn connect(uri: &str, s: TlsSettings) -> (Result<Client, ClientError>, Vec<String>, Duration) {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    let tls = TlsOptions::new(
        s,
        Some(Arc::new(move |r: &str| {
            h.lock().unwrap().push(r.to_string())
        })),
    );
    let client = Client::new(uri, "ferromq-tls-rust", CreateOptions::default()).expect("create");
    let options = ConnectOptions {
        connect_timeout: Duration::from_secs(10),
        tls: Some(Arc::new(tls)),
        ..support::connect_options(4)
    };
    let start = Instant::now();
    let r = client.connect(options).map(|_| client);
    let took = start.elapsed();
    let heard = heard.lock().unwrap().clone();
    (r, heard, took)
}

fn round_trip(c: &Client) {
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(
        vec![("ferromq/tls/rust".into(), sub)],
        Properties::default(),
    )
    .expect("subscribe");
    c.publish(
        "ferromq/tls/rust",
        Bytes::from_static(b"sealed"),
        QoS::AtLeastOnce,
        false,
        Properties::default(),
    )
    .expect("publish");
    let (topic, m) = c
        .receive(Duration::from_secs(10))
        .expect("receive")
        .expect("a message within 10 s");
    assert_eq!(
        (topic.as_str(), &m.payload[..]),
        ("ferromq/tls/rust", &b"sealed"[..])
    );
    assert_eq!(m.qos, QoS::AtLeastOnce);
}

fn broker() -> Option<TlsBroker> {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return None;
    }
    Some(TlsBroker::start())
}

#[test]
fn ssl_round_trip_with_and_without_client_certificate() {
    let Some(b) = broker() else { return };
    let (c, heard, _) = connect(&format!("ssl://127.0.0.1:{}", b.tls), settings(&b));
    let c = c.unwrap_or_else(|e| panic!("connect: {e:?} {heard:?}\n{}", b.broker.log().text()));
    round_trip(&c);
    let s = TlsSettings {
        key_store: Some(b.certs.path("client.pem")),
        private_key: Some(b.certs.path("client.key")),
        ..settings(&b)
    };
    let (c, heard, _) = connect(&format!("mqtts://localhost:{}", b.client_cert), s);
    let c = c.unwrap_or_else(|e| panic!("connect: {e:?} {heard:?}\n{}", b.broker.log().text()));
    round_trip(&c);
    // mosquitto took the certificate's name as the user name.
    assert!(
        b.broker
            .log()
            .wait_for("u'ferromq-test-client'", Duration::from_secs(5)),
        "{}",
        b.broker.log().text()
    );
}

#[test]
fn bad_certificates_fail_promptly_with_a_reason() {
    let Some(b) = broker() else { return };
    // Trace lines arrive on the dispatcher, after the connect returns.
    let (trace_tx, trace_rx) = crossbeam_channel::unbounded::<String>();
    ferromq::client::trace::set_level(ferromq::client::trace::ERROR);
    ferromq::client::trace::set_callback(Some(Box::new(move |_, line: &str| {
        let _ = trace_tx.send(line.to_string());
    })));
    let cases = [
        (
            "wrong CA",
            b.tls,
            TlsSettings {
                trust_store: Some(b.certs.path("other-ca.pem")),
                ..settings(&b)
            },
            "unknown issuer",
        ),
        (
            "host name mismatch",
            b.wrong_name,
            settings(&b),
            "host name mismatch",
        ),
        ("expired", b.expired, settings(&b), "expired"),
        (
            "missing client certificate",
            b.client_cert,
            settings(&b),
            "client certificate",
        ),
    ];
    for (what, port, s, reason) in cases {
        let (r, heard, took) = connect(&format!("ssl://127.0.0.1:{port}"), s);
        assert_eq!(r.err(), Some(ClientError::Failure), "{what}");
        assert!(took < Duration::from_secs(5), "{what}: took {took:?}");
        assert!(
            heard.iter().any(|h| h.contains(reason)),
            "{what}: the error callback heard {heard:?}, not {reason:?}"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut lines = Vec::new();
        while !lines
            .iter()
            .any(|l: &String| l.contains("TLS failure") && l.contains(reason))
        {
            match trace_rx.recv_deadline(deadline) {
                Ok(l) => lines.push(l),
                Err(_) => panic!("{what}: no trace line names {reason:?}: {lines:?}"),
            }
        }
    }
    ferromq::client::trace::set_callback(None);
}

#[test]
fn unsupported_requests_and_missing_options() {
    let Some(b) = broker() else { return };
    let uri = format!("ssl://127.0.0.1:{}", b.tls);
    let s = TlsSettings {
        ssl_version: 2,
        ..settings(&b)
    };
    let (r, heard, _) = connect(&uri, s);
    assert_eq!(r.err(), Some(ClientError::SslNotSupported));
    assert!(
        heard.len() == 1 && heard[0].contains("TLS 1.1"),
        "{heard:?}"
    );
    // A PSK callback (Debian's paho_c_pub always sets one) is never called
    // and does not stop a certificate handshake.
    let s = TlsSettings {
        psk: true,
        ..settings(&b)
    };
    let (r, heard, _) = connect(&uri, s);
    assert!(r.is_ok(), "{:?} {heard:?}", r.err());
    let (r, heard, _) = connect(
        &uri,
        TlsSettings {
            cipher_list: Some("NOT-A-CIPHER".into()),
            ..settings(&b)
        },
    );
    assert_eq!(r.err(), Some(ClientError::Failure));
    assert!(heard[0].contains("cipher"), "{heard:?}");
    // As Paho: a client made for a TLS URI needs SSL options at connect.
    let c = Client::new(&uri, "ferromq-tls-none", CreateOptions::default()).expect("create");
    assert_eq!(
        c.connect(support::connect_options(4)).err(),
        Some(ClientError::NullParameter)
    );
}

/// A server that accepts TCP and then never answers the ClientHello: the
/// connect timeout covers the handshake. One that answers garbage fails
/// at once. Neither blocks another client's connect meanwhile.
#[test]
fn silent_and_garbage_servers() {
    use std::io::{Read, Write};
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let garbage = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (sp, gp) = (
        silent.local_addr().unwrap().port(),
        garbage.local_addr().unwrap().port(),
    );
    let held = std::thread::spawn(move || silent.accept().map(|(s, _)| s));
    let answered = std::thread::spawn(move || {
        let (mut s, _) = garbage.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        s
    });
    let settings = TlsSettings {
        verify_server: false,
        ..TlsSettings::default()
    };
    let connect_with = move |port: u16, timeout: Duration| {
        let c = Client::new(
            &format!("ssl://127.0.0.1:{port}"),
            "ferromq-tls-odd",
            CreateOptions::default(),
        )
        .unwrap();
        let options = ConnectOptions {
            connect_timeout: timeout,
            tls: Some(Arc::new(TlsOptions::new(settings.clone(), None))),
            ..support::connect_options(4)
        };
        let start = Instant::now();
        let r = c.connect(options).err();
        (r, start.elapsed())
    };
    let other = connect_with.clone();
    let silent_try = std::thread::spawn(move || other(sp, Duration::from_secs(2)));
    let (r, took) = connect_with(gp, Duration::from_secs(10));
    assert_eq!(r, Some(ClientError::Failure));
    assert!(took < Duration::from_secs(2), "garbage took {took:?}");
    let (r, took) = silent_try.join().unwrap();
    assert_eq!(r, Some(ClientError::Failure));
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "silent server: {took:?}"
    );
    drop(held.join());
    drop(answered.join());
}
