//! Debian's prebuilt Paho C samples built for the TLS libraries —
//! paho_cs_pub/paho_cs_sub (MQTTClient, libpaho-mqtt3cs) and
//! paho_c_pub/paho_c_sub (MQTTAsync, libpaho-mqtt3as) — through mosquitto's
//! ssl://, wss:// and ws:// listeners with --cafile (and --cert/--key where
//! mosquitto requires a client certificate): `debian_paho::*` on Paho's own
//! library (the reference), `on_ferromq::*` on ours under Paho's names.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::tls::TlsBroker;
use support::{Mosquitto, Running};

const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy)]
enum Listener {
    Tls,
    ClientCert,
    Wss,
    Ws,
}

fn pub_sub(publisher: &str, subscriber: &str, listener: Listener, on_ferromq: bool) {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    if !Path::new(publisher).exists() || !Path::new(subscriber).exists() {
        support::skip(&format!(
            "{publisher}/{subscriber} are not installed (paho.mqtt.c-examples)"
        ));
        return;
    }
    let names = on_ferromq.then(support::paho_names_dir);
    let b = TlsBroker::start();
    let (uri, cert_args) = match listener {
        Listener::Tls => (format!("ssl://127.0.0.1:{}", b.tls), vec![]),
        Listener::Wss => (format!("wss://localhost:{}/mqtt", b.wss), vec![]),
        Listener::Ws => (format!("ws://127.0.0.1:{}", b.ws), vec![]),
        Listener::ClientCert => (
            format!("ssl://localhost:{}", b.client_cert),
            vec![
                "--cert".to_string(),
                b.certs.file("client.pem"),
                "--key".to_string(),
                b.certs.file("client.key"),
            ],
        ),
    };
    let name = Path::new(subscriber)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("sub");
    let topic = format!("tls/{name}/{}", listener as u8);
    let sub_id = format!("{name}-tls-sub");
    let program = |path: &str, id: &str| {
        let mut cmd = Command::new(path);
        cmd.args(["-c", &uri, "-t", &topic, "-q", "1", "-i", id])
            .arg("--cafile")
            .arg(b.certs.path("ca.pem"))
            .args(&cert_args)
            .env_remove("LD_LIBRARY_PATH");
        if let Some(d) = &names {
            cmd.env("LD_LIBRARY_PATH", d.path());
        }
        cmd
    };
    let mut sub = Running::spawn(program(subscriber, &sub_id), 60);
    let suback = format!("Sending SUBACK to {sub_id}");
    if !b.broker.log().wait_for(&suback, WAIT) {
        sub.kill();
        panic!(
            "{subscriber} never subscribed\nstdout:\n{}\nstderr:\n{}\nmosquitto log:\n{}",
            sub.stdout.text(),
            sub.stderr.text(),
            b.broker.log().text()
        );
    }
    let payload = format!("sealed by {name}");
    let mut cmd = program(publisher, "tls-pub");
    cmd.args(["-m", &payload]);
    let out = support::run_with_timeout(cmd, 30);
    assert!(
        out.status.success(),
        "{publisher} failed: {}\nstdout:\n{}\nstderr:\n{}\nmosquitto log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        b.broker.log().text()
    );
    if !sub.stdout.wait_for(&payload, WAIT) {
        sub.kill();
        panic!(
            "{subscriber} did not print {payload:?}\nstdout:\n{}\nstderr:\n{}\nmosquitto log:\n{}",
            sub.stdout.text(),
            sub.stderr.text(),
            b.broker.log().text()
        );
    }
    sub.kill();
}

macro_rules! matrix {
    ($($name:ident: $publisher:expr, $subscriber:expr, $listener:expr;)*) => {
        /// Reference: the programs on Debian's Paho library.
        mod debian_paho {
            use super::*;
            $(#[test]
            fn $name() {
                pub_sub($publisher, $subscriber, $listener, false);
            })*
        }
        /// The same programs on our library under Paho's names.
        mod on_ferromq {
            use super::*;
            $(#[test]
            fn $name() {
                pub_sub($publisher, $subscriber, $listener, true);
            })*
        }
    };
}

matrix! {
    sync_ssl: "/usr/bin/paho_cs_pub", "/usr/bin/paho_cs_sub", Listener::Tls;
    sync_ssl_client_cert: "/usr/bin/paho_cs_pub", "/usr/bin/paho_cs_sub", Listener::ClientCert;
    async_ssl: "/usr/bin/paho_c_pub", "/usr/bin/paho_c_sub", Listener::Tls;
    async_ssl_client_cert: "/usr/bin/paho_c_pub", "/usr/bin/paho_c_sub", Listener::ClientCert;
    sync_wss: "/usr/bin/paho_cs_pub", "/usr/bin/paho_cs_sub", Listener::Wss;
    async_wss: "/usr/bin/paho_c_pub", "/usr/bin/paho_c_sub", Listener::Wss;
    sync_ws: "/usr/bin/paho_cs_pub", "/usr/bin/paho_cs_sub", Listener::Ws;
    async_ws: "/usr/bin/paho_c_pub", "/usr/bin/paho_c_sub", Listener::Ws;
}
