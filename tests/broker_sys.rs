//! `$SYS` and the Prometheus endpoint of `ferromq broker`: Debian's
//! mosquitto_sub reads the tree (with mosquitto's topic names, checked
//! against mosquitto itself), the metrics move with traffic, and `$` topics
//! never match a leading `#`.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use ferromq::protocol::codec::{Packet, ProtocolVersion, QoS};
use support::raw::{Got, Raw, WAIT};
use support::{FerroBroker, Mosquitto, Running};

const SUB: &str = "/usr/bin/mosquitto_sub";
const EXE: &str = env!("CARGO_BIN_EXE_ferromq");

/// What the brief (and mosquitto's documentation) promise, all published
/// by us from the first round on.
const TOPICS: [&str; 22] = [
    "$SYS/broker/version",
    "$SYS/broker/uptime",
    "$SYS/broker/clients/connected",
    "$SYS/broker/clients/disconnected",
    "$SYS/broker/clients/total",
    "$SYS/broker/clients/maximum",
    "$SYS/broker/messages/received",
    "$SYS/broker/messages/sent",
    "$SYS/broker/publish/messages/received",
    "$SYS/broker/publish/messages/sent",
    "$SYS/broker/bytes/received",
    "$SYS/broker/bytes/sent",
    "$SYS/broker/subscriptions/count",
    "$SYS/broker/retained messages/count",
    "$SYS/broker/load/messages/received/1min",
    "$SYS/broker/load/messages/received/5min",
    "$SYS/broker/load/messages/received/15min",
    "$SYS/broker/load/messages/sent/1min",
    "$SYS/broker/load/bytes/received/1min",
    "$SYS/broker/load/bytes/sent/1min",
    "$SYS/broker/load/publish/received/1min",
    "$SYS/broker/load/connections/1min",
];

/// `mosquitto_sub -v -t '$SYS/#'` on `port`, line-buffered.
fn sys_sub(port: u16) -> Running {
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-oL", SUB, "-h", "127.0.0.1", "-p", &port.to_string()]);
    cmd.args(["-v", "-t", "$SYS/#"]);
    Running::spawn(cmd, 30)
}

/// Last value per topic of `topic value` lines.
fn values(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        // Topics may hold spaces ("retained messages/count"): the value is
        // the last word, except for the version and the uptime.
        let sentence = ["$SYS/broker/version", "$SYS/broker/uptime"]
            .into_iter()
            .find_map(|t| Some((t, line.strip_prefix(t)?.strip_prefix(' ')?)));
        let Some((topic, value)) = sentence.or_else(|| line.rsplit_once(' ')) else {
            continue;
        };
        map.insert(topic.to_string(), value.to_string());
    }
    map
}

#[test]
fn mosquitto_sub_reads_the_sys_tree_with_sane_values() {
    if !std::path::Path::new(SUB).exists() {
        support::skip("mosquitto-clients not installed");
        return;
    }
    let b = FerroBroker::start(EXE, "sys_interval 1\n");
    let mut sub = sys_sub(b.port);
    // The retained first round, then a live one that counts the subscriber.
    sub.expect_line("$SYS/broker/version ferromq version ");
    sub.expect_line("$SYS/broker/clients/connected 1");
    sub.expect_line("$SYS/broker/subscriptions/count 1");
    sub.kill();
    let text = sub.stdout.text();
    let uptime_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("$SYS/broker/uptime "))
        .collect();
    assert!(!uptime_lines.is_empty(), "no uptime in:\n{text}");
    for l in &uptime_lines {
        let v = l.trim_start_matches("$SYS/broker/uptime ");
        let secs = v
            .strip_suffix(" seconds")
            .and_then(|n| n.parse::<u64>().ok());
        assert!(secs.is_some_and(|s| s < 60), "uptime {v:?}");
    }
    let map = values(&text);
    for t in TOPICS {
        let v = map
            .get(t)
            .unwrap_or_else(|| panic!("{t} missing in:\n{text}"));
        if t.contains("/load/") {
            let x: f64 = v.parse().unwrap_or_else(|_| panic!("{t} = {v:?}"));
            assert!(x >= 0.0 && v.split_once('.').is_some_and(|(_, d)| d.len() == 2));
        } else if t != "$SYS/broker/version" && t != "$SYS/broker/uptime" {
            let n: u64 = v.parse().unwrap_or_else(|_| panic!("{t} = {v:?}"));
            assert!(n < 1_000_000, "{t} = {n}");
        }
    }
    assert_eq!(map["$SYS/broker/clients/maximum"], "1");
    assert_eq!(map["$SYS/broker/clients/total"], "1");
    let received: u64 = map["$SYS/broker/bytes/received"].parse().unwrap();
    assert!(
        received > 0,
        "the subscriber's CONNECT and SUBSCRIBE were counted"
    );

    // mosquitto publishes the same names (maximum only once it is non-zero).
    if !Mosquitto::available() {
        support::skip("mosquitto not installed: names not compared");
        return;
    }
    let m = Mosquitto::start();
    let mut msub = sys_sub(m.port);
    for t in TOPICS.iter().filter(|t| !t.ends_with("/maximum")) {
        msub.expect_line(&format!("{t} "));
    }
}

/// One HTTP GET of `path`; the status line and the body.
fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to metrics");
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read the answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP answer");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

fn metric(body: &str, name: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing in:\n{body}"))
}

#[test]
fn metrics_endpoint_counts_traffic() {
    let b = FerroBroker::start(EXE, "metrics_listener 127.0.0.1:0\n");
    const NEEDLE: &str = "metrics on http://";
    let line = b
        .log()
        .wait_for_from(0, NEEDLE, WAIT)
        .and_then(|i| b.log().line(i))
        .unwrap_or_else(|| panic!("no metrics line in:\n{}", b.log().text()));
    let addr: SocketAddr = line
        .rsplit_once(NEEDLE)
        .and_then(|(_, rest)| rest.strip_suffix("/metrics"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the address from {line:?}"));

    let (status, before) = get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(before.contains("# TYPE ferromq_publish_messages_received_total counter\n"));
    assert_eq!(get(addr, "/nothing").0, "HTTP/1.1 404 Not Found");

    let mut s = Raw::connect(b.port, ProtocolVersion::V311, "m-sub");
    s.subscribe("m/#", QoS::AtMostOnce);
    let mut p = Raw::connect(b.port, ProtocolVersion::V5, "m-pub");
    p.publish0("m/a", b"one");
    p.publish0("m/b", b"two");
    s.expect_publish("m/a", b"one");
    s.expect_publish("m/b", b"two");

    let (_, after) = get(addr, "/metrics");
    let delta = |name: &str| metric(&after, name) - metric(&before, name);
    assert_eq!(delta("ferromq_publish_messages_received_total"), 2);
    assert_eq!(delta("ferromq_publish_messages_sent_total"), 2);
    assert_eq!(delta("ferromq_connects_total"), 2);
    assert!(delta("ferromq_packets_received_total") >= 5, "{after}");
    assert!(delta("ferromq_bytes_received_total") > 20, "{after}");
    assert!(delta("ferromq_bytes_sent_total") > 10, "{after}");
    assert_eq!(metric(&after, "ferromq_clients_connected"), 2);
    assert_eq!(metric(&after, "ferromq_subscriptions"), 1);
}

#[test]
fn dollar_topics_never_match_a_leading_wildcard() {
    let b = FerroBroker::start(EXE, "sys_interval 1\n");
    let mut all = Raw::connect(b.port, ProtocolVersion::V5, "all");
    all.subscribe("#", QoS::AtMostOnce);
    let mut plus = Raw::connect(b.port, ProtocolVersion::V311, "plus");
    plus.subscribe("+/broker/uptime", QoS::AtMostOnce);
    let mut sys = Raw::connect(b.port, ProtocolVersion::V311, "sys");
    sys.subscribe("$SYS/broker/uptime", QoS::AtMostOnce);
    // A live (not retained) uptime: a $SYS round ran after both the
    // wildcard subscriptions were in place.
    loop {
        match sys.next(WAIT) {
            Got::Packet(Packet::Publish(m)) if !m.retain => break,
            Got::Packet(Packet::Publish(_)) => {}
            other => panic!("waiting for a live $SYS/broker/uptime: {other:?}"),
        }
    }
    // Whatever the round sent them is ahead of this marker in their queues.
    let mut p = Raw::connect(b.port, ProtocolVersion::V311, "marker");
    p.publish0("x/broker/uptime", b"marker");
    all.expect_publish("x/broker/uptime", b"marker");
    plus.expect_publish("x/broker/uptime", b"marker");
}
