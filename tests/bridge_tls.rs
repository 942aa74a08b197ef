//! A bridge of `ferromq broker` over TLS to a real mosquitto with TLS
//! listeners: `bridge_cafile` trusts the remote's CA (and only it),
//! `bridge_insecure` skips the host name check, `bridge_certfile` /
//! `bridge_keyfile` answer a listener that requires a client certificate,
//! `bridge_alpn` is offered; a message crosses the TLS link.

mod support;

use std::time::Duration;

use bytes::Bytes;
use ferromq::client::sync::{Client, CreateOptions};
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use support::tls::{Certs, TlsBroker};
use support::{FerroBroker, Mosquitto};

const WAIT: Duration = Duration::from_secs(20);
const EXE: &str = env!("CARGO_BIN_EXE_ferromq");

/// A `ferromq broker` bridged to 127.0.0.1:`port` with the TLS `keys`
/// (one per line; certificate file names are relative to `certs`), and
/// whether the bridge connected or failed first.
fn edge(id: &str, port: u16, certs: &Certs, keys: &[(&str, &str)]) -> (FerroBroker, bool) {
    let mut conf = format!(
        "connection hub\naddress 127.0.0.1:{port}\nremote_clientid {id}\n\
         restart_timeout 30\ntopic tls/# out 1\n"
    );
    for (k, v) in keys {
        let v = if v.ends_with(".pem") || v.ends_with(".key") {
            certs.file(v)
        } else {
            v.to_string()
        };
        conf += &format!("{k} {v}\n");
    }
    let e = FerroBroker::start(EXE, &conf);
    let first = e.log().wait_match(
        0,
        |l| l.contains("bridge hub: connected to ssl://") || l.contains("failed"),
        WAIT,
    );
    let line = first
        .and_then(|i| e.log().line(i))
        .unwrap_or_else(|| panic!("no outcome for {id}:\n{}", e.log().text()));
    let connected = line.contains("connected to ssl://");
    (e, connected)
}

fn need_mosquitto() -> bool {
    if Mosquitto::available() {
        return true;
    }
    support::skip("mosquitto not installed");
    false
}

#[test]
fn bridge_tls_keys_against_mosquitto() {
    if !need_mosquitto() {
        return;
    }
    let remote = TlsBroker::start();
    let certs = &remote.certs;
    let log = remote.broker.log();

    // The remote's CA: connected, and a message crosses.
    let (ok, connected) = edge("edge-ca", remote.tls, certs, &[("bridge_cafile", "ca.pem")]);
    assert!(connected, "{}", ok.log().text());
    assert!(log.wait_for(" as edge-ca ", WAIT), "{}", log.text());
    let sink = Client::new(
        &format!("ws://127.0.0.1:{}", remote.ws),
        "tls-sink",
        CreateOptions { mqtt_version: 4 },
    )
    .unwrap();
    sink.connect(support::connect_options(4)).expect("sink");
    let o = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    sink.subscribe_many(vec![("tls/#".into(), o)], Properties::default())
        .expect("subscribe");
    let publisher = Client::new(
        &format!("tcp://127.0.0.1:{}", ok.port),
        "tls-pub",
        CreateOptions { mqtt_version: 4 },
    )
    .unwrap();
    publisher
        .connect(support::connect_options(4))
        .expect("publisher");
    publisher
        .publish(
            "tls/a",
            Bytes::from_static(b"over tls"),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
        )
        .expect("publish");
    let (topic, m) = sink.receive(WAIT).expect("receive").expect("in time");
    assert_eq!(
        (topic.as_str(), &m.payload[..]),
        ("tls/a", &b"over tls"[..])
    );
    drop(ok);

    // A CA that did not sign the remote's certificate: refused.
    let (e, connected) = edge(
        "edge-other-ca",
        remote.tls,
        certs,
        &[("bridge_cafile", "other-ca.pem")],
    );
    assert!(!connected, "{}", e.log().text());
    drop(e);

    // A certificate for another name: refused, unless bridge_insecure.
    let (e, connected) = edge(
        "edge-name",
        remote.wrong_name,
        certs,
        &[("bridge_cafile", "ca.pem")],
    );
    assert!(!connected, "{}", e.log().text());
    drop(e);
    let (e, connected) = edge(
        "edge-insecure",
        remote.wrong_name,
        certs,
        &[("bridge_cafile", "ca.pem"), ("bridge_insecure", "true")],
    );
    assert!(connected, "{}", e.log().text());
    drop(e);

    // A listener that requires a client certificate.
    let (e, connected) = edge(
        "edge-nocert",
        remote.client_cert,
        certs,
        &[("bridge_cafile", "ca.pem")],
    );
    assert!(!connected, "{}", e.log().text());
    drop(e);
    let (e, connected) = edge(
        "edge-cert",
        remote.client_cert,
        certs,
        &[
            ("bridge_cafile", "ca.pem"),
            ("bridge_certfile", "client.pem"),
            ("bridge_keyfile", "client.key"),
        ],
    );
    assert!(connected, "{}", e.log().text());
    assert!(log.wait_for(" as edge-cert ", WAIT), "{}", log.text());
    drop(e);

    // ALPN offered (mosquitto's listener has none configured: it ignores it).
    let (e, connected) = edge(
        "edge-alpn",
        remote.tls,
        certs,
        &[("bridge_cafile", "ca.pem"), ("bridge_alpn", "mqtt")],
    );
    assert!(connected, "{}", e.log().text());
}
