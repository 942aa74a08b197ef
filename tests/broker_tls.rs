//! `ferromq broker -c` with mosquitto's TLS and WebSocket listener keys:
//! mosquitto_pub/mosquitto_sub with --cafile (and a client certificate,
//! whose CN becomes the user name), our own client over ssl://, ws:// and
//! wss://, a missing client certificate refused, bad connections (garbage
//! on a TLS port, TLS on a plain port, non-mqtt and oversized WebSocket
//! upgrades, a silent handshake) closed alone while another client goes
//! on, and SIGHUP picking up a new certificate with a TLS connection kept.
//! Python paho-mqtt (Debian's 1.6 and PyPI's 2.x) over ssl, ws, wss and a
//! client certificate: tests/python/broker_tls_peer.py.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::client::tls::TlsOptions;
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use ferromq::reactor::transport::tls_config::TlsSettings;
use support::tls::{Certs, make_certs};
use support::{FerroBroker, Running};

const PUB: &str = "/usr/bin/mosquitto_pub";
const SUB: &str = "/usr/bin/mosquitto_sub";
const WAIT: Duration = Duration::from_secs(20);

/// Our broker with one listener of each kind.
pub struct Ferro {
    pub b: FerroBroker,
    pub plain: u16,
    pub tls: u16,
    /// TLS, client certificate required, its CN is the user name; an ACL
    /// lets only that user use `id/#`.
    pub cert: u16,
    pub ws: u16,
    pub wss: u16,
    pub certs: Certs,
    /// The configuration (and the live certificate copies) live here.
    pub dir: tempfile::TempDir,
}

impl Ferro {
    pub fn start() -> Ferro {
        let certs = make_certs();
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["server.pem", "server.key"] {
            std::fs::copy(certs.path(f), dir.path().join(format!("live-{f}"))).unwrap();
        }
        let acl = dir.path().join("acl");
        std::fs::write(
            &acl,
            "topic readwrite open/#\nuser ferromq-test-client\ntopic readwrite id/#\n",
        )
        .unwrap();
        // A password file without the certificate's user: a CN user is
        // vouched for by its certificate, not looked up there.
        let passwd = dir.path().join("passwd");
        let out = support::run_with_timeout(
            {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
                cmd.args(["passwd", "-c", "-b"])
                    .arg(&passwd)
                    .args(["alice", "secret"]);
                cmd
            },
            30,
        );
        assert!(out.status.success(), "ferromq passwd: {out:?}");
        let live = |f: &str| dir.path().join(format!("live-{f}")).display().to_string();
        let mut last = String::new();
        for _ in 0..5 {
            let p: Vec<u16> = (0..5).map(|_| support::free_port()).collect();
            let tls = format!(
                "certfile {}\nkeyfile {}\n",
                live("server.pem"),
                live("server.key")
            );
            let text = format!(
                "allow_anonymous true\nacl_file {acl}\npassword_file {pw}\nconnect_timeout 2\n\
                 log_type all\n\
                 listener {} 127.0.0.1\n\
                 listener {} 127.0.0.1\n{tls}\
                 listener {} 127.0.0.1\n{tls}cafile {ca}\nrequire_certificate true\n\
                 use_identity_as_username true\n\
                 listener {} 127.0.0.1\nprotocol websockets\n\
                 listener {} 127.0.0.1\nprotocol websockets\n{tls}",
                p[0],
                p[1],
                p[2],
                p[3],
                p[4],
                acl = acl.display(),
                pw = passwd.display(),
                ca = certs.file("ca.pem"),
            );
            let conf = dir.path().join("ferromq.conf");
            std::fs::write(&conf, text).unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
            cmd.arg("broker").arg("-c").arg(&conf);
            let mut b = FerroBroker::spawn(cmd, p[0], tempfile::tempdir().unwrap());
            if b.log()
                .wait_for(&format!("listening on 127.0.0.1:{} (wss)", p[4]), WAIT)
            {
                return Ferro {
                    b,
                    plain: p[0],
                    tls: p[1],
                    cert: p[2],
                    ws: p[3],
                    wss: p[4],
                    certs,
                    dir,
                };
            }
            last = b.log().text();
            b.kill();
        }
        panic!("ferromq broker with TLS listeners did not start:\n{last}");
    }
}

fn have_clients() -> bool {
    if Path::new(PUB).exists() && Path::new(SUB).exists() {
        return true;
    }
    support::skip("mosquitto-clients not installed");
    false
}

/// mosquitto_sub -d for one message on `topic`, once subscribed.
fn subscriber(port: u16, topic: &str, tls: &[String]) -> Running {
    // Line-buffered so the debug lines (SUBACK) arrive as they happen.
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-oL", SUB, "-d", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-t", topic])
        .args(["-C", "1", "-W", "20", "-i", &format!("sub-{port}")])
        .args(tls);
    let mut r = Running::spawn(cmd, 30);
    r.expect_line("received SUBACK");
    r
}

/// One mosquitto_pub; its exit status and output.
fn publish(port: u16, topic: &str, msg: &str, tls: &[String]) -> (bool, String) {
    let mut cmd = Command::new(PUB);
    cmd.args([
        "-d",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-t",
        topic,
    ])
    .args(["-m", msg, "-q", "1"])
    .args(tls);
    let out = support::run_with_timeout(cmd, 30);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn mosquitto_clients_over_tls_and_client_certificates() {
    if !have_clients() {
        return;
    }
    let f = Ferro::start();
    let ca = args(&["--cafile", &f.certs.file("ca.pem")]);
    let sub = subscriber(f.tls, "open/tls", &ca);
    let (ok, out) = publish(f.tls, "open/tls", "over-tls", &ca);
    assert!(ok, "{out}");
    let (_, stdout, _) = sub.finish();
    assert!(stdout.contains("over-tls"), "{stdout}");

    // Client certificate: its CN is the user the ACL lets use id/#.
    let mut with_cert = ca.clone();
    with_cert.extend(args(&[
        "--cert",
        &f.certs.file("client.pem"),
        "--key",
        &f.certs.file("client.key"),
    ]));
    let sub = subscriber(f.cert, "id/x", &with_cert);
    let (ok, out) = publish(f.cert, "id/x", "by-identity", &with_cert);
    assert!(ok, "{out}");
    let (_, stdout, _) = sub.finish();
    assert!(stdout.contains("by-identity"), "{stdout}");

    // Without a certificate the handshake fails.
    let (ok, out) = publish(f.cert, "id/x", "nope", &ca);
    assert!(!ok, "a client without certificate got in: {out}");
    // An untrusted server certificate for the client: refused by it.
    let (ok, out) = publish(
        f.tls,
        "open/tls",
        "nope",
        &args(&["--cafile", &f.certs.file("other-ca.pem")]),
    );
    assert!(!ok, "{out}");
}

fn tls_options(ca: &Path) -> ConnectOptions {
    let s = TlsSettings {
        trust_store: Some(ca.to_path_buf()),
        verify_server: true,
        verify_host: true,
        ..TlsSettings::default()
    };
    ConnectOptions {
        connect_timeout: Duration::from_secs(10),
        tls: Some(Arc::new(TlsOptions::new(s, None))),
        ..support::connect_options(4)
    }
}

/// A connected client of ours on `uri`.
fn client(uri: &str, id: &str, ca: &Path) -> Client {
    let c = Client::new(uri, id, CreateOptions::default()).expect("create");
    c.connect(tls_options(ca))
        .unwrap_or_else(|e| panic!("connect {uri}: {e:?}"));
    c
}

/// A QoS 1 round trip through the broker on `topic`.
fn round_trip(c: &Client, topic: &str, payload: &'static [u8]) {
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![(topic.into(), sub)], Properties::default())
        .expect("subscribe");
    c.publish(
        topic,
        Bytes::from_static(payload),
        QoS::AtLeastOnce,
        false,
        Properties::default(),
    )
    .expect("publish");
    let (t, m) = c
        .receive(Duration::from_secs(10))
        .expect("receive")
        .expect("a message within 10 s");
    assert_eq!((t.as_str(), &m.payload[..]), (topic, payload));
}

#[test]
fn our_client_over_ssl_ws_and_wss() {
    let f = Ferro::start();
    let ca = f.certs.path("ca.pem");
    let big: &'static [u8] = Box::leak(vec![7u8; 100_000].into_boxed_slice());
    for (uri, id) in [
        (format!("ssl://127.0.0.1:{}", f.tls), "rust-ssl"),
        (format!("ssl://localhost:{}", f.tls), "rust-ssl-name"),
        (format!("ws://127.0.0.1:{}/mqtt", f.ws), "rust-ws"),
        (format!("wss://localhost:{}/mqtt", f.wss), "rust-wss"),
    ] {
        let c = client(&uri, id, &ca);
        round_trip(&c, "open/rust", b"hello");
        // Larger than a TLS record and a small WebSocket frame.
        round_trip(&c, "open/rust/big", big);
        c.disconnect(
            Duration::from_secs(5),
            ferromq::protocol::codec::ReasonCode::SUCCESS,
            Properties::default(),
        )
        .expect("disconnect");
    }
}

/// Wait (bounded) until the peer closes `s`: true when it did.
fn closed_by_peer(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn upgrade(protocol: &str, pad: usize) -> Vec<u8> {
    format!(
        "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocol}\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(pad)
    )
    .into_bytes()
}

/// The first flight of a real TLS client.
fn client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        ferromq::reactor::transport::tls_config::provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    out
}

#[test]
fn bad_connections_are_closed_alone() {
    let f = Ferro::start();
    let ca = f.certs.path("ca.pem");
    let steady = client(&format!("ssl://127.0.0.1:{}", f.tls), "steady", &ca);
    round_trip(&steady, "open/steady", b"before");

    // A silent connection on the TLS port: no handshake at all. Others go
    // on meanwhile; the broker drops it after connect_timeout (2 s).
    let mut silent = TcpStream::connect(("127.0.0.1", f.tls)).unwrap();
    round_trip(&steady, "open/steady", b"during");
    let other = client(&format!("ssl://127.0.0.1:{}", f.tls), "other", &ca);
    round_trip(&other, "open/other", b"new");

    // A handshake that stops half way (ClientHello, then nothing).
    let mut half = TcpStream::connect(("127.0.0.1", f.tls)).unwrap();
    half.write_all(&client_hello()).unwrap();

    let cases: Vec<(&str, u16, Vec<u8>)> = vec![
        (
            "garbage on the TLS port",
            f.tls,
            b"GET / HTTP/1.0\r\n\r\n".repeat(20),
        ),
        ("TLS on the plain port", f.plain, client_hello()),
        ("TLS on the WebSocket port", f.ws, client_hello()),
        ("a non-mqtt WebSocket upgrade", f.ws, upgrade("chat", 0)),
        (
            "an oversized WebSocket upgrade",
            f.ws,
            upgrade("mqtt", 16 * 1024),
        ),
    ];
    for (what, port, bytes) in cases {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(&bytes).unwrap();
        assert!(closed_by_peer(&mut s), "{what}: not closed");
        round_trip(&steady, "open/steady", b"still");
    }
    // Each refusal is a line in the broker's log.
    for reason in [
        "TLS error",
        "WebSocket upgrade refused: the client did not offer the mqtt subprotocol",
        "WebSocket upgrade refused: request head longer than",
    ] {
        assert!(
            f.b.log()
                .wait_for("closed: connection from 127.0.0.1", WAIT)
                && f.b.log().wait_for(reason, WAIT),
            "no log line for {reason:?}:\n{}",
            f.b.log().text()
        );
    }
    assert!(closed_by_peer(&mut silent), "the silent connection stayed");
    assert!(closed_by_peer(&mut half), "the half handshake stayed");
    round_trip(&steady, "open/steady", b"after");
    round_trip(&other, "open/other", b"after");

    // A good upgrade on the same port is answered.
    let mut s = TcpStream::connect(("127.0.0.1", f.ws)).unwrap();
    s.write_all(&upgrade("mqtt", 10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(
        head.starts_with("HTTP/1.1 101") && head.contains("Sec-WebSocket-Protocol: mqtt"),
        "{head}"
    );
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
}

#[test]
fn sighup_reloads_the_certificate_and_keeps_connections() {
    if !have_clients() {
        return;
    }
    let f = Ferro::start();
    let old_ca = args(&["--cafile", &f.certs.file("ca.pem")]);
    let sub = subscriber(f.tls, "open/reload", &old_ca);
    let fresh = make_certs();
    for file in ["server.pem", "server.key"] {
        std::fs::copy(fresh.path(file), f.dir.path().join(format!("live-{file}"))).unwrap();
    }
    let from = f.b.log().len();
    let pid = f.b.pid().expect("broker pid") as libc::pid_t;
    // SAFETY: kill(2) on our own running child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    assert!(
        f.b.log()
            .wait_for_from(from, "reloaded configuration", WAIT)
            .is_some(),
        "{}",
        f.b.log().text()
    );
    let new_ca = args(&["--cafile", &fresh.file("ca.pem")]);
    // New connections get the new certificate: the old CA no longer fits.
    let (ok, out) = publish(f.tls, "open/reload", "old-ca", &old_ca);
    assert!(!ok, "the old certificate is still served: {out}");
    let (ok, out) = publish(f.tls, "open/reload", "new-cert", &new_ca);
    assert!(ok, "{out}");
    // The subscriber connected before the reload got it.
    let (_, stdout, _) = sub.finish();
    assert!(stdout.contains("new-cert"), "{stdout}");
    // A bad certificate file on reload: logged, the listener keeps serving.
    std::fs::write(f.dir.path().join("live-server.pem"), "not a certificate").unwrap();
    let from = f.b.log().len();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    assert!(
        f.b.log()
            .wait_for_from(from, "keeps its previous TLS settings", WAIT)
            .is_some(),
        "{}",
        f.b.log().text()
    );
    let (ok, out) = publish(f.tls, "open/reload", "still", &new_ca);
    assert!(ok, "{out}");
}

/// Where .ci/run installs paho-mqtt 2.x (as tests/broker_python.rs finds it).
fn paho2_dir() -> std::path::PathBuf {
    std::env::var_os("FERROMQ_PAHO2_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| support::manifest_dir().join("target/python-paho2"))
}

#[test]
fn python_paho_over_tls_and_websockets() {
    let f = Ferro::start();
    let script = support::manifest_dir().join("tests/python/broker_tls_peer.py");
    // Debian's python3-paho-mqtt (1.6), then PyPI's 2.x.
    let paho2 = paho2_dir();
    for (label, path) in [("Debian's", None), ("PyPI's", Some(paho2.as_path()))] {
        if path.is_some_and(|p| !p.is_dir()) {
            support::skip(&format!(
                "{} is missing: pip install --target it 'paho-mqtt>=2'",
                paho2.display()
            ));
            continue;
        }
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(&script)
            .args([f.tls, f.ws, f.wss, f.cert].map(|p| p.to_string()))
            .arg(f.certs.dir.path())
            .env_remove("PYTHONPATH");
        if let Some(p) = path {
            cmd.env("PYTHONPATH", p);
        }
        let out = support::run_with_timeout(cmd, 120);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if label == "Debian's"
            && String::from_utf8_lossy(&out.stderr).contains("No module named 'paho'")
        {
            support::skip("python3-paho-mqtt is not installed");
            continue;
        }
        assert!(
            out.status.success() && stdout.contains("ALL OK"),
            "{label} paho-mqtt failed\nstdout:\n{stdout}\nstderr:\n{}\nbroker log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            f.b.log().text()
        );
        print!("{label}: {stdout}");
    }
}
