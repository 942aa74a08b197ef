//! Debian's prebuilt Paho C sample programs (paho_c_pub / paho_c_sub, asynchronous
//! API, libpaho-mqtt3as) through mosquitto, MQTT 3.1.1 and 5, QoS 0/1/2: `debian_paho::*` runs
//! them on Paho's own library (the reference), `on_ferromq::*` on ours.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{Mosquitto, Running};

const PAHO_PUB: &str = "/usr/bin/paho_c_pub";
const PAHO_SUB: &str = "/usr/bin/paho_c_sub";

/// Bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(20);

fn pub_sub(version: &str, qos: u8, on_ferromq: bool) {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    if !Path::new(PAHO_PUB).exists() || !Path::new(PAHO_SUB).exists() {
        support::skip("paho_c_pub/paho_c_sub are not installed (paho.mqtt.c-examples)");
        return;
    }
    let names_dir = on_ferromq.then(|| {
        let lib = support::ferromq_lib();
        assert!(
            lib.exists(),
            "{} is missing (cargo builds it)",
            lib.display()
        );
        support::paho_names_dir()
    });
    let broker = Mosquitto::start();
    let port = broker.port.to_string();
    let topic = format!("paho-async/v{version}/q{qos}");
    let sub_id = format!("c-sub-{version}-{qos}");
    let qos_arg = qos.to_string();
    let program = |path: &str, id: &str| {
        let mut cmd = Command::new(path);
        cmd.args(["-h", "127.0.0.1", "-p", &port, "-t", &topic, "-q", &qos_arg])
            .args(["-V", version, "-i", id]);
        cmd.env_remove("LD_LIBRARY_PATH");
        if let Some(dir) = &names_dir {
            cmd.env("LD_LIBRARY_PATH", dir.path());
        }
        cmd
    };

    let mut sub = Running::spawn(program(PAHO_SUB, &sub_id), 60);
    // Subscribed once mosquitto has sent the SUBACK.
    if !broker
        .log()
        .wait_for(&format!("Sending SUBACK to {sub_id}"), WAIT)
    {
        sub.kill();
        panic!(
            "paho_c_sub never subscribed\nsub stderr:\n{}\nmosquitto log:\n{}",
            sub.stderr.text(),
            broker.log().text()
        );
    }

    let payloads = [
        format!("first v{version} q{qos}"),
        format!("second v{version} q{qos}"),
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let mut cmd = program(PAHO_PUB, &format!("c-pub-{i}"));
        cmd.args(["-m", payload]);
        let out = support::run_with_timeout(cmd, 30);
        assert!(
            out.status.success(),
            "paho_c_pub failed: {}\nstdout:\n{}\nstderr:\n{}\nmosquitto log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            broker.log().text()
        );
    }
    // The subscriber prints each payload on its own line, in order.
    let mut from = 0;
    for payload in &payloads {
        match sub.stdout.wait_for_from(from, payload, WAIT) {
            Some(i) => from = i + 1,
            None => {
                sub.kill();
                panic!(
                    "paho_c_sub did not print {payload:?} (after line {from})\nstdout:\n{}\n\
                     stderr:\n{}\nmosquitto log:\n{}",
                    sub.stdout.text(),
                    sub.stderr.text(),
                    broker.log().text()
                );
            }
        }
    }
    // The broker delivered both at the QoS both sides asked for (its log may
    // lag behind the subscriber's output, so wait for the lines).
    let delivered = format!("Sending PUBLISH to {sub_id} (d0, q{qos},");
    let first = broker.log().wait_for_from(0, &delivered, WAIT);
    let second = first.and_then(|i| broker.log().wait_for_from(i + 1, &delivered, WAIT));
    let log = broker.log().text();
    assert!(
        second.is_some(),
        "expected two deliveries at QoS {qos}:\n{log}"
    );
    // mosquitto logs 3.1.1 as p2 and 5 as p5.
    let protocol = if version == "5" { "p5" } else { "p2" };
    assert!(
        log.contains(&format!("as {sub_id} ({protocol},")),
        "subscriber did not connect with MQTT {version}:\n{log}"
    );
    sub.kill();
}

macro_rules! matrix {
    ($($name:ident: $version:expr, $qos:expr;)*) => {
        /// Reference: the programs on Debian's Paho library.
        mod debian_paho {
            $(#[test]
            fn $name() {
                super::pub_sub($version, $qos, false);
            })*
        }
        /// The same programs loading our library under Paho's names.
        mod on_ferromq {
            $(#[test]
            fn $name() {
                super::pub_sub($version, $qos, true);
            })*
        }
    };
}

matrix! {
    mqtt311_qos0: "311", 0;
    mqtt311_qos1: "311", 1;
    mqtt311_qos2: "311", 2;
    mqtt5_qos0: "5", 0;
    mqtt5_qos1: "5", 1;
    mqtt5_qos2: "5", 2;
}
