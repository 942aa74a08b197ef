//! `ferromq broker` against Debian's prebuilt Paho C sample programs as
//! clients: paho_cs_pub/paho_cs_sub (MQTTClient) and paho_c_pub/paho_c_sub
//! (MQTTAsync), MQTT 3.1.1 and 5, QoS 0/1/2, retained and will.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{FerroBroker, Running};

const CS_PUB: &str = "/usr/bin/paho_cs_pub";
const CS_SUB: &str = "/usr/bin/paho_cs_sub";
const C_PUB: &str = "/usr/bin/paho_c_pub";
const C_SUB: &str = "/usr/bin/paho_c_sub";
const WAIT: Duration = Duration::from_secs(10);

/// Our broker, or None (after printing SKIP) when the clients are missing.
fn broker() -> Option<FerroBroker> {
    FerroBroker::start_for(
        env!("CARGO_BIN_EXE_ferromq"),
        &[CS_PUB, CS_SUB, C_PUB, C_SUB],
        "paho-mqtt sample programs (libpaho-mqtt-dev/paho.mqtt.c-examples) not installed",
    )
}

/// Run one publisher program to completion and check it succeeded.
fn publish(b: &FerroBroker, exe: &str, version: &str, args: &[&str]) {
    let mut cmd = Command::new(exe);
    cmd.args(["-h", "127.0.0.1", "-p", &b.port.to_string(), "-V", version]);
    cmd.args(args);
    let out = support::run_with_timeout(cmd, 20);
    assert!(
        out.status.success(),
        "{exe} {args:?} failed: {}{}\nbroker log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        b.log().text()
    );
}

/// Leave a retained "ready" message on `topic` (see [`sub`]).
fn mark_ready(b: &FerroBroker, version: &str, topic: &str) {
    publish(
        b,
        CS_PUB,
        version,
        &["-t", topic, "-m", "ready", "-r", "-q", "1", "-i", "marker"],
    );
}

/// A subscriber program that is subscribed: the topic holds a retained
/// "ready" message (from [`mark_ready`]), and the subscriber printing it
/// proves its SUBSCRIBE took effect (the samples print nothing else to wait
/// for).
fn sub(
    b: &FerroBroker,
    exe: &str,
    version: &str,
    id: &str,
    topic: &str,
    qos: u8,
    extra: &[&str],
) -> Running {
    let mut cmd = Command::new("stdbuf");
    cmd.args([
        "-oL",
        exe,
        "-h",
        "127.0.0.1",
        "-p",
        &b.port.to_string(),
        "-V",
        version,
    ]);
    cmd.args(["-i", id, "-t", topic, "-q", &qos.to_string()])
        .args(extra);
    let mut r = Running::spawn(cmd, 60);
    r.expect_line("ready");
    r
}

/// Wait (bounded) until `r` printed `n` lines after its "ready" line; returns
/// those lines.
fn received(r: &Running, n: usize) -> Vec<String> {
    let ready = r
        .stdout
        .wait_for_from(0, "ready", WAIT)
        .expect("ready line");
    let ok = r.stdout.wait_lines(ready + 1 + n, WAIT);
    let lines = r.stdout.lines_from(ready + 1);
    assert!(
        ok,
        "wanted {n} messages, got {lines:?}\nstderr:\n{}",
        r.stderr.text()
    );
    lines
}

#[test]
fn sync_and_async_samples_qos_matrix() {
    let Some(b) = broker() else { return };
    for v in ["311", "5"] {
        for qos in 0..=2u8 {
            let topic = format!("paho/{v}/{qos}");
            mark_ready(&b, v, &topic);
            let cs = sub(
                &b,
                CS_SUB,
                v,
                &format!("cs-sub-{v}-{qos}"),
                &topic,
                qos,
                &[],
            );
            let ca = sub(&b, C_SUB, v, &format!("c-sub-{v}-{qos}"), &topic, qos, &[]);
            let mut want = Vec::new();
            for (n, exe) in [CS_PUB, C_PUB, CS_PUB, C_PUB].iter().enumerate() {
                let m = format!("msg{n}-q{qos}");
                let id = format!("pub-{v}-{qos}-{n}");
                publish(
                    &b,
                    exe,
                    v,
                    &["-t", &topic, "-m", &m, "-q", &qos.to_string(), "-i", &id],
                );
                want.push(m);
            }
            assert_eq!(
                received(&cs, want.len()),
                want,
                "sync sub, MQTT {v}, QoS {qos}\n{}\n{}",
                cs.stdout.text(),
                b.log().text()
            );
            assert_eq!(
                received(&ca, want.len()),
                want,
                "async sub, MQTT {v}, QoS {qos}"
            );
        }
    }
}

#[test]
fn retained_replace_and_clear() {
    let Some(b) = broker() else { return };
    for v in ["311", "5"] {
        let topic = format!("paho/ret/{v}");
        publish(
            &b,
            C_PUB,
            v,
            &["-t", &topic, "-m", "first", "-r", "-q", "2"],
        );
        publish(
            &b,
            CS_PUB,
            v,
            &["-t", &topic, "-m", "second", "-r", "-q", "1"],
        );
        let mut cmd = Command::new("stdbuf");
        cmd.args([
            "-oL",
            CS_SUB,
            "-h",
            "127.0.0.1",
            "-p",
            &b.port.to_string(),
            "-V",
            v,
        ]);
        cmd.args(["-i", "ret-sub", "-t", &topic, "-q", "1"]);
        let mut s = Running::spawn(cmd, 30);
        s.expect_line("second");
        // Clear it with a null message (delivered live), then a new
        // subscriber's first line is what is published after it subscribed.
        publish(&b, CS_PUB, v, &["-t", &topic, "-n", "-r", "-q", "1"]);
        publish(&b, CS_PUB, v, &["-t", &topic, "-m", "live", "-q", "1"]);
        s.expect_line("live");
        assert!(!s.stdout.text().contains("first"), "{}", s.stdout.text());
        s.kill();
        let mut cmd = Command::new("stdbuf");
        cmd.args([
            "-oL",
            C_SUB,
            "-h",
            "127.0.0.1",
            "-p",
            &b.port.to_string(),
            "-V",
            v,
        ]);
        cmd.args(["-i", "ret-sub2", "-t", &topic, "-q", "1"]);
        let mut s2 = Running::spawn(cmd, 30);
        assert!(b.log().wait_for("connect: client 'ret-sub2'", WAIT));
        // The async sample subscribes right after CONNACK; publishing until it
        // shows a line bounds this without sleeping.
        let mut n = 0;
        while !s2.stdout.wait_for("after", Duration::from_millis(200)) {
            n += 1;
            assert!(n < 50, "subscriber never saw a message");
            publish(&b, CS_PUB, v, &["-t", &topic, "-m", "after", "-q", "1"]);
        }
        let first = s2.stdout.line(0).unwrap_or_default();
        assert_eq!(
            first,
            "after",
            "a cleared retained message was delivered: {}",
            s2.stdout.text()
        );
        s2.kill();
    }
}

#[test]
fn will_published_when_sample_is_killed() {
    let Some(b) = broker() else { return };
    for v in ["311", "5"] {
        let topic = format!("paho/will/{v}");
        mark_ready(&b, v, &topic);
        mark_ready(&b, v, &format!("paho/other/{v}"));
        let watch = sub(&b, C_SUB, v, &format!("watch-{v}"), &topic, 1, &[]);
        let mut doomed = sub(
            &b,
            CS_SUB,
            v,
            &format!("doomed-{v}"),
            &format!("paho/other/{v}"),
            0,
            &[
                "--will-topic",
                &topic,
                "--will-payload",
                "last words",
                "--will-qos",
                "1",
            ],
        );
        doomed.kill();
        assert_eq!(
            received(&watch, 1),
            vec!["last words".to_string()],
            "MQTT {v}"
        );
    }
}

#[test]
fn mqtt5_user_property_and_expiry_accepted() {
    let Some(b) = broker() else { return };
    let topic = "paho/props";
    mark_ready(&b, "5", topic);
    let s = sub(&b, CS_SUB, "5", "props-sub", topic, 1, &[]);
    publish(
        &b,
        CS_PUB,
        "5",
        &[
            "-t",
            topic,
            "-m",
            "with-props",
            "-q",
            "1",
            "--user-property",
            "a",
            "b",
            "--message-expiry",
            "60",
        ],
    );
    assert_eq!(received(&s, 1), vec!["with-props".to_string()]);
}
