//! `ferromq broker` against Debian's mosquitto_pub/mosquitto_sub as clients
//! (MQTT 3.1, 3.1.1 and 5): QoS, retained, wills, MQTT 5 properties,
//! `$`-topics, shared subscriptions, persistent sessions and takeover.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{FerroBroker, Running};

const PUB: &str = "/usr/bin/mosquitto_pub";
const SUB: &str = "/usr/bin/mosquitto_sub";
const VERSIONS: [&str; 3] = ["mqttv31", "mqttv311", "mqttv5"];
/// Every received message is printed as one line starting with this.
const FORMAT: &str = "M|%t|%p|%q|%r";
const WAIT: Duration = Duration::from_secs(10);

/// Our broker, or None (after printing SKIP) when the clients are missing.
fn broker() -> Option<FerroBroker> {
    FerroBroker::start_for(
        env!("CARGO_BIN_EXE_ferromq"),
        &[PUB, SUB],
        "mosquitto-clients not installed",
    )
}

/// A mosquitto_sub that has had its SUBACK (so it is subscribed).
fn sub(b: &FerroBroker, version: &str, format: &str, args: &[&str]) -> Running {
    // Line-buffered so the debug lines (SUBACK) arrive as they happen.
    let mut cmd = Command::new("stdbuf");
    cmd.args([
        "-oL",
        SUB,
        "-d",
        "-h",
        "127.0.0.1",
        "-p",
        &b.port.to_string(),
        "-V",
        version,
    ]);
    cmd.args(["-F", format]).args(args);
    let mut r = Running::spawn(cmd, 30);
    r.expect_line("received SUBACK");
    r
}

/// Run one mosquitto_pub to completion and check it succeeded.
fn publish(b: &FerroBroker, version: &str, args: &[&str]) {
    let mut cmd = Command::new(PUB);
    cmd.args(["-h", "127.0.0.1", "-p", &b.port.to_string(), "-V", version]);
    cmd.args(args);
    let out = support::run_with_timeout(cmd, 20);
    assert!(
        out.status.success(),
        "mosquitto_pub {args:?} failed: {}{}\nbroker log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        b.log().text()
    );
}

/// The message lines (prefix `prefix`) a subscriber printed, once it has
/// printed `n` of them (bounded wait); panics with its output if it does not.
fn messages(r: &Running, prefix: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        // Counted before reading: a line arriving in between is then
        // waited for, not missed (waiting for one past it hung until the
        // deadline when it came between the two calls).
        let seen = r.stdout.len();
        let got: Vec<String> = r
            .stdout
            .lines_from(0)
            .into_iter()
            .filter(|l| l.starts_with(prefix))
            .collect();
        if got.len() >= n {
            return got;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || !r.stdout.wait_lines(seen + 1, left) {
            panic!(
                "wanted {n} messages, got {got:?}\nstdout:\n{}\nstderr:\n{}",
                r.stdout.text(),
                r.stderr.text()
            );
        }
    }
}

#[test]
fn qos_0_1_2_in_order_with_downgrade_each_version() {
    let Some(b) = broker() else { return };
    for v in VERSIONS {
        for sub_qos in 0..=2u8 {
            let topic = format!("q/{v}/{sub_qos}");
            let s = sub(&b, v, FORMAT, &["-q", &sub_qos.to_string(), "-t", &topic]);
            let mut want = Vec::new();
            for pub_qos in 0..=2u8 {
                for i in 0..3 {
                    let m = format!("m{pub_qos}{i}");
                    publish(&b, v, &["-q", &pub_qos.to_string(), "-t", &topic, "-m", &m]);
                    let q = pub_qos.min(sub_qos);
                    want.push(format!("M|{topic}|{m}|{q}|0"));
                }
            }
            assert_eq!(
                messages(&s, "M|", want.len()),
                want,
                "{v} sub qos {sub_qos}"
            );
        }
    }
}

#[test]
fn retained_set_replace_clear() {
    let Some(b) = broker() else { return };
    for v in VERSIONS {
        let t = format!("ret/{v}");
        publish(&b, v, &["-r", "-q", "1", "-t", &t, "-m", "one"]);
        publish(&b, v, &["-r", "-q", "1", "-t", &t, "-m", "two"]);
        // A new subscriber gets the replacement, with the retain flag.
        let s = sub(&b, v, FORMAT, &["-q", "1", "-t", &t]);
        assert_eq!(messages(&s, "M|", 1), vec![format!("M|{t}|two|1|1")]);
        // A live subscriber gets a retained publish without the flag.
        publish(&b, v, &["-r", "-q", "1", "-t", &t, "-m", "three"]);
        assert_eq!(messages(&s, "M|", 2)[1], format!("M|{t}|three|1|0"));
        // An empty retained payload clears it (and is delivered to live ones).
        publish(&b, v, &["-r", "-q", "1", "-t", &t, "-n"]);
        assert_eq!(messages(&s, "M|", 3)[2], format!("M|{t}||1|0"));
        // So a later subscriber's first message is the marker sent after it.
        let s2 = sub(&b, v, FORMAT, &["-q", "1", "-t", &t]);
        publish(&b, v, &["-q", "1", "-t", &t, "-m", "marker"]);
        assert_eq!(messages(&s2, "M|", 1), vec![format!("M|{t}|marker|1|0")]);
    }
}

#[test]
fn will_on_kill_not_on_disconnect() {
    let Some(b) = broker() else { return };
    for v in VERSIONS {
        let watch = sub(&b, v, FORMAT, &["-q", "1", "-t", "will/#"]);
        // A normal DISCONNECT (mosquitto_sub -C 1 exits cleanly): no will.
        let id = format!("calm-{v}");
        let mut calm = sub(
            &b,
            v,
            "C|%p",
            &[
                "-i",
                &id,
                "-C",
                "1",
                "-t",
                "calm/x",
                "--will-topic",
                "will/calm",
                "--will-payload",
                "no",
            ],
        );
        publish(&b, v, &["-t", "calm/x", "-m", "bye"]);
        calm.expect_line("C|bye");
        let (status, _, _) = calm.finish();
        assert!(status.success());
        assert!(
            b.log()
                .wait_for(&format!("disconnect: client '{id}' (Normal"), WAIT)
        );
        // A killed client: its will is published.
        let id = format!("doomed-{v}");
        let mut doomed = sub(
            &b,
            v,
            "D|%p",
            &[
                "-i",
                &id,
                "-t",
                "x/y",
                "--will-topic",
                "will/doomed",
                "--will-payload",
                "gone",
                "--will-qos",
                "1",
            ],
        );
        doomed.kill();
        let got = messages(&watch, "M|", 1);
        assert_eq!(got, vec!["M|will/doomed|gone|1|0".to_string()], "{v}");
    }
}

#[test]
fn mqtt5_properties_forwarded() {
    let Some(b) = broker() else { return };
    let s = sub(
        &b,
        "mqttv5",
        "P|%t|%p|%P|%C|%R|%D|%E|%F|%S",
        &[
            "-q",
            "1",
            "-t",
            "props/#",
            "-D",
            "subscribe",
            "subscription-identifier",
            "42",
        ],
    );
    publish(
        &b,
        "mqttv5",
        &[
            "-q",
            "1",
            "-t",
            "props/a",
            "-m",
            "body",
            "-D",
            "publish",
            "user-property",
            "k1",
            "v1",
            "-D",
            "publish",
            "content-type",
            "text/plain",
            "-D",
            "publish",
            "response-topic",
            "reply/here",
            "-D",
            "publish",
            "correlation-data",
            "corr-7",
            "-D",
            "publish",
            "message-expiry-interval",
            "120",
            "-D",
            "publish",
            "payload-format-indicator",
            "1",
        ],
    );
    let got = messages(&s, "P|", 1);
    // The expiry interval is the remaining time: at most what was sent.
    let fields: Vec<&str> = got[0].split('|').collect();
    assert_eq!(
        &fields[..7],
        &[
            "P",
            "props/a",
            "body",
            "k1:v1",
            "text/plain",
            "reply/here",
            "corr-7"
        ],
        "{got:?}"
    );
    let expiry: u32 = fields[7].parse().expect("expiry printed");
    assert!((110..=120).contains(&expiry), "{got:?}");
    assert_eq!(&fields[8..], &["1", "42"], "{got:?}");
    // Without properties, none are invented.
    publish(&b, "mqttv5", &["-q", "1", "-t", "props/b", "-m", "plain"]);
    assert_eq!(messages(&s, "P|", 2)[1], "P|props/b|plain|||||||42");
}

#[test]
fn dollar_topics_not_matched_by_leading_wildcards() {
    let Some(b) = broker() else { return };
    for v in VERSIONS {
        let all = sub(&b, v, FORMAT, &["-t", "#", "-t", "+/x"]);
        let dollar = sub(&b, v, FORMAT, &["-t", "$app/#"]);
        publish(&b, v, &["-t", "$app/x", "-m", "hidden"]);
        publish(&b, v, &["-t", "plain/x", "-m", "marker"]);
        assert_eq!(
            messages(&dollar, "M|", 1),
            vec!["M|$app/x|hidden|0|0".to_string()]
        );
        // '#' and '+/x' both match plain/x (one copy per 3.1.1 overlap rules
        // or at most one per subscription in 5); the '$' message never comes.
        let got = messages(&all, "M|", 1);
        assert_eq!(got[0], "M|plain/x|marker|0|0", "{v}");
        assert!(!all.stdout.text().contains("hidden"), "{v}");
    }
}

#[test]
fn shared_subscription_one_member_per_message() {
    let Some(b) = broker() else { return };
    let plain = sub(&b, "mqttv5", FORMAT, &["-q", "1", "-t", "sh/t"]);
    let g1 = sub(&b, "mqttv5", FORMAT, &["-q", "1", "-t", "$share/g/sh/t"]);
    let g2 = sub(&b, "mqttv5", FORMAT, &["-q", "1", "-t", "$share/g/sh/t"]);
    let n = 12;
    for i in 0..n {
        publish(
            &b,
            "mqttv5",
            &["-q", "1", "-t", "sh/t", "-m", &format!("s{i}")],
        );
    }
    assert_eq!(messages(&plain, "M|", n).len(), n);
    // Wait (bounded) until the group has seen n, then check each went to
    // exactly one member and the topic is the real one.
    let deadline = std::time::Instant::now() + WAIT;
    let count = |r: &Running| {
        r.stdout
            .text()
            .lines()
            .filter(|l| l.starts_with("M|"))
            .count()
    };
    while count(&g1) + count(&g2) < n && std::time::Instant::now() < deadline {
        let (a, c) = (g1.stdout.len(), g2.stdout.len());
        g1.stdout.wait_lines(a + 1, Duration::from_millis(50));
        g2.stdout.wait_lines(c + 1, Duration::from_millis(50));
    }
    let mut all: Vec<String> = [&g1, &g2]
        .iter()
        .flat_map(|r| {
            r.stdout
                .text()
                .lines()
                .filter(|l| l.starts_with("M|"))
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(all.len(), n, "{all:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "a message reached both members: {all:?}");
    assert!(all.iter().all(|l| l.starts_with("M|sh/t|s")));
    assert!(
        count(&g1) > 0 && count(&g2) > 0,
        "one member got none: {all:?}"
    );
}

#[test]
fn persistent_session_queues_qos1_in_order() {
    let Some(b) = broker() else { return };
    for v in VERSIONS {
        let id = format!("persist-{v}");
        let topic = format!("sess/{v}");
        // Subscribe with a persistent session, then leave (-E: exit after SUBACK).
        let first = sub(
            &b,
            v,
            FORMAT,
            &["-c", "-i", &id, "-q", "1", "-t", &topic, "-E"],
        );
        let (status, _, _) = first.finish();
        assert!(status.success());
        assert!(
            b.log()
                .wait_for(&format!("disconnect: client '{id}'"), WAIT)
        );
        for i in 0..5 {
            publish(&b, v, &["-q", "1", "-t", &topic, "-m", &format!("off{i}")]);
        }
        // Reconnect: the queued messages arrive in order.
        let mut cmd = Command::new(SUB);
        cmd.args(["-h", "127.0.0.1", "-p", &b.port.to_string(), "-V", v]);
        cmd.args([
            "-c", "-i", &id, "-q", "1", "-t", &topic, "-C", "5", "-F", FORMAT,
        ]);
        let (status, out, err) = Running::spawn(cmd, 30).finish();
        assert!(status.success(), "{out}{err}");
        let want: Vec<String> = (0..5).map(|i| format!("M|{topic}|off{i}|1|0")).collect();
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got, want, "{v}");
    }
}

#[test]
fn takeover_closes_the_old_connection() {
    let Some(b) = broker() else { return };
    for v in VERSIONS {
        let id = format!("twin-{v}");
        let topic = format!("take/{v}");
        let old = sub(&b, v, FORMAT, &["-i", &id, "-t", &topic]);
        let new = sub(&b, v, FORMAT, &["-i", &id, "-t", &topic]);
        assert!(
            b.log()
                .wait_for(&format!("disconnect: client '{id}' (TakenOver)"), WAIT)
        );
        if v == "mqttv5" {
            assert!(
                old.stdout.wait_for("Received DISCONNECT (142)", WAIT),
                "{}",
                old.stdout.text()
            );
        }
        publish(&b, v, &["-t", &topic, "-m", "after"]);
        assert_eq!(
            messages(&new, "M|", 1),
            vec![format!("M|{topic}|after|0|0")]
        );
        drop(old);
    }
}
