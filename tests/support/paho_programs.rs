//! Running a pair of Debian's prebuilt Paho C sample programs (a publisher
//! and a subscriber, e.g. paho_cs_pub / paho_cs_sub) through mosquitto, on
//! Paho's own library or on ours under Paho's names. Shared by
//! tests/paho_programs.rs (sync API) and tests/paho_async_programs.rs (async).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{Mosquitto, Running};

/// Bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(20);

/// One publisher/subscriber pair of sample programs.
pub struct Programs {
    /// Path of the publisher, e.g. /usr/bin/paho_cs_pub.
    pub publisher: &'static str,
    /// Path of the subscriber, e.g. /usr/bin/paho_cs_sub.
    pub subscriber: &'static str,
    /// First topic level, so each pair uses its own topics.
    pub topic_root: &'static str,
    /// Client id prefix (ids are `<prefix>-sub-...` and `<prefix>-pub-...`).
    pub id_prefix: &'static str,
}

impl Programs {
    fn sub_name(&self) -> &str {
        file_name(self.subscriber)
    }

    fn pub_name(&self) -> &str {
        file_name(self.publisher)
    }
}

fn file_name(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

/// Subscribe with the subscriber program at MQTT `version` ("311" or "5")
/// and QoS `qos`, publish two messages with the publisher program, and check
/// that the subscriber printed both in order and that mosquitto delivered
/// them at that QoS and protocol version. `on_ferromq` runs both programs on
/// our library instead of Paho's.
pub fn pub_sub(programs: &Programs, version: &str, qos: u8, on_ferromq: bool) {
    let (sub_name, pub_name) = (programs.sub_name(), programs.pub_name());
    if !Mosquitto::available() {
        super::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    if !Path::new(programs.publisher).exists() || !Path::new(programs.subscriber).exists() {
        super::skip(&format!(
            "{pub_name}/{sub_name} are not installed (paho.mqtt.c-examples)"
        ));
        return;
    }
    let names_dir = on_ferromq.then(|| {
        let lib = super::ferromq_lib();
        assert!(
            lib.exists(),
            "{} is missing (cargo builds it)",
            lib.display()
        );
        super::paho_names_dir()
    });
    let broker = Mosquitto::start();
    let port = broker.port.to_string();
    let topic = format!("{}/v{version}/q{qos}", programs.topic_root);
    let prefix = programs.id_prefix;
    let sub_id = format!("{prefix}-sub-{version}-{qos}");
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

    let mut sub = Running::spawn(program(programs.subscriber, &sub_id), 60);
    // If the subscriber dies, say so in the broker's log so the wait below
    // ends at once instead of at its deadline.
    let sub_exited = format!("<test: {sub_name} exited>");
    let (sub_out, broker_log, marker) =
        (sub.stdout.clone(), broker.log().clone(), sub_exited.clone());
    std::thread::spawn(move || {
        if sub_out.wait_closed(WAIT) {
            broker_log.push(marker);
        }
    });
    // Subscribed once mosquitto has sent the SUBACK.
    let suback = format!("Sending SUBACK to {sub_id}");
    let seen = broker
        .log()
        .wait_match(0, |l| l.contains(&suback) || l == sub_exited, WAIT)
        .and_then(|i| broker.log().line(i));
    if !seen.is_some_and(|l| l.contains(&suback)) {
        sub.kill();
        panic!(
            "{sub_name} never subscribed\nsub stderr:\n{}\nmosquitto log:\n{}",
            sub.stderr.text(),
            broker.log().text()
        );
    }

    let payloads = [
        format!("first v{version} q{qos}"),
        format!("second v{version} q{qos}"),
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let mut cmd = program(programs.publisher, &format!("{prefix}-pub-{i}"));
        cmd.args(["-m", payload]);
        let out = super::run_with_timeout(cmd, 30);
        assert!(
            out.status.success(),
            "{pub_name} failed: {}\nstdout:\n{}\nstderr:\n{}\nmosquitto log:\n{}",
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
                    "{sub_name} did not print {payload:?} (after line {from})\nstdout:\n{}\n\
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

/// The test matrix for one program pair (a `Programs` constant): MQTT 3.1.1
/// and 5 at QoS 0, 1 and 2, as `debian_paho::*` (the reference, on Debian's
/// Paho library) and `on_ferromq::*` (the same programs on our library).
#[macro_export]
macro_rules! paho_programs_matrix {
    ($programs:path) => {
        $crate::paho_programs_matrix!(@tests $programs;
            mqtt311_qos0: "311", 0;
            mqtt311_qos1: "311", 1;
            mqtt311_qos2: "311", 2;
            mqtt5_qos0: "5", 0;
            mqtt5_qos1: "5", 1;
            mqtt5_qos2: "5", 2;
        );
    };
    (@tests $programs:path; $($name:ident: $version:expr, $qos:expr;)*) => {
        /// Reference: the programs on Debian's Paho library.
        mod debian_paho {
            $(#[test]
            fn $name() {
                $crate::support::paho_programs::pub_sub(&$programs, $version, $qos, false);
            })*
        }
        /// The same programs loading our library under Paho's names.
        mod on_ferromq {
            $(#[test]
            fn $name() {
                $crate::support::paho_programs::pub_sub(&$programs, $version, $qos, true);
            })*
        }
    };
}
