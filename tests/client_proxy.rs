//! The Rust client through an HTTP CONNECT proxy (httpProxy/httpsProxy of
//! the connect options): tcp:// and ssl:// to mosquitto through a proxy
//! written in the test, with Basic credentials; a proxy refusing the
//! tunnel fails the connect promptly. The environment variables
//! (http_proxy, https_proxy) are compared with Paho in tests/c_tls.rs.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::client::error::ClientError;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::client::tls::TlsOptions;
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use ferromq::reactor::transport::tls_config::TlsSettings;
use support::Mosquitto;
use support::proxy::Proxy;
use support::tls::TlsBroker;

fn round_trip(c: &Client) {
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![("ferromq/proxy".into(), sub)], Properties::default())
        .expect("subscribe");
    c.publish(
        "ferromq/proxy",
        Bytes::from_static(b"tunnelled"),
        QoS::AtLeastOnce,
        false,
        Properties::default(),
    )
    .expect("publish");
    let (_, m) = c
        .receive(Duration::from_secs(10))
        .expect("receive")
        .expect("the message within 10 s");
    assert_eq!(&m.payload[..], b"tunnelled");
}

#[test]
fn tcp_and_tls_through_an_http_proxy() {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    let b = TlsBroker::start();
    let plain = Mosquitto::start();
    // "user:pa@ss" with the @ written as %40, as Paho's syntax wants.
    let proxy = Proxy::start(Some("dXNlcjpwYUBzcw=="));
    let c = Client::new(&plain.uri(), "ferromq-proxy-tcp", CreateOptions::default()).unwrap();
    let options = ConnectOptions {
        http_proxy: Some(format!("http://user:pa%40ss@127.0.0.1:{}/", proxy.port)),
        ..support::connect_options(4)
    };
    c.connect(options).expect("connect through the proxy");
    round_trip(&c);
    let seen = proxy.requests();
    assert!(
        seen[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", plain.port)),
        "{seen:?}"
    );

    let tls = TlsOptions::new(
        TlsSettings {
            trust_store: Some(b.certs.path("ca.pem")),
            verify_server: true,
            verify_host: true,
            ..TlsSettings::default()
        },
        None,
    );
    let uri = format!("ssl://localhost:{}", b.tls);
    let c = Client::new(&uri, "ferromq-proxy-tls", CreateOptions::default()).unwrap();
    let options = ConnectOptions {
        tls: Some(Arc::new(tls)),
        // httpProxy is for plain URIs only; TLS takes httpsProxy.
        http_proxy: Some("127.0.0.1:1".into()),
        https_proxy: Some(format!("user:pa%40ss@127.0.0.1:{}", proxy.port)),
        ..support::connect_options(4)
    };
    c.connect(options).expect("TLS through the proxy");
    round_trip(&c);
    let seen = proxy.requests();
    assert!(
        seen[1].starts_with(&format!("CONNECT localhost:{} HTTP/1.1\r\n", b.tls)),
        "{seen:?}"
    );

    // Wrong credentials: the proxy answers 407 and the connect fails fast.
    let c = Client::new(&plain.uri(), "ferromq-proxy-407", CreateOptions::default()).unwrap();
    let options = ConnectOptions {
        http_proxy: Some(format!("http://user:wrong@127.0.0.1:{}", proxy.port)),
        ..support::connect_options(4)
    };
    let start = Instant::now();
    assert_eq!(c.connect(options).err(), Some(ClientError::Failure));
    assert!(start.elapsed() < Duration::from_secs(3));
}
