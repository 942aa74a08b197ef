//! How a bridge of `ferromq broker` picks and keeps its connection, against
//! real mosquitto remotes: with several addresses and `round_robin false`
//! it goes back to the primary once it is back, with `round_robin true` it
//! stays where it is; `start_type lazy` connects once `threshold` messages
//! are queued and leaves after `idle_timeout`; `start_type once` does not
//! reconnect. And the bridge's state and counters in `$SYS`.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::client::sync::{Client, CreateOptions};
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use support::remote::Remote;
use support::{FerroBroker, Mosquitto};

const WAIT: Duration = Duration::from_secs(20);
const EXE: &str = env!("CARGO_BIN_EXE_ferromq");
/// Longer than the bridge's primary check period (5 s).
const PROBE_WAIT: Duration = Duration::from_secs(12);

fn need_mosquitto() -> bool {
    if Mosquitto::available() {
        return true;
    }
    support::skip("mosquitto not installed");
    false
}

fn client(port: u16, id: &str) -> Client {
    let c = Client::new(
        &format!("tcp://127.0.0.1:{port}"),
        id,
        CreateOptions { mqtt_version: 4 },
    )
    .unwrap();
    c.connect(support::connect_options(4)).expect("connect");
    c
}

fn subscribe(c: &Client, filter: &str) {
    let o = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![(filter.into(), o)], Properties::default())
        .expect("subscribe");
}

/// Publish at QoS 1 and wait for the PUBACK.
fn publish(c: &Client, topic: &str, payload: &str) {
    let r = c
        .publish(
            topic,
            Bytes::from(payload.to_string()),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
        )
        .expect("publish");
    c.wait_for_completion(r.token, WAIT).expect("acknowledged");
}

fn payload_of(c: &Client) -> String {
    let (_, m) = c
        .receive(WAIT)
        .expect("receive")
        .expect("a message in time");
    String::from_utf8_lossy(&m.payload).into_owned()
}

/// Wait for `needle` in the edge's log from line `from` on; its index.
fn expect_log(edge: &FerroBroker, from: usize, needle: &str) -> usize {
    edge.log()
        .wait_for_from(from, needle, WAIT)
        .unwrap_or_else(|| panic!("no '{needle}' in the log:\n{}", edge.log().text()))
}

fn connected_line(port: u16) -> String {
    format!("bridge hub: connected to tcp://127.0.0.1:{port}")
}

/// The primary is down at start: the bridge uses the secondary, then, once
/// the primary is up, goes back to it (round_robin false) or stays
/// (round_robin true).
fn failover(round_robin: bool) {
    let mut primary = Remote::new("");
    let mut secondary = Remote::new("");
    secondary.up();
    let edge = FerroBroker::start(
        EXE,
        &format!(
            "connection hub\naddress 127.0.0.1:{} 127.0.0.1:{}\nround_robin {round_robin}\n\
             restart_timeout 1\ntopic f/# out 1\n",
            primary.port, secondary.port
        ),
    );
    let at = expect_log(&edge, 0, &connected_line(secondary.port));
    primary.up();
    let back = edge
        .log()
        .wait_for_from(at, &connected_line(primary.port), PROBE_WAIT);
    let publisher = client(edge.port, "pub");
    if round_robin {
        assert_eq!(back, None, "left the secondary:\n{}", edge.log().text());
        let sink = client(secondary.port, "sink");
        subscribe(&sink, "f/#");
        publish(&publisher, "f/1", "to the secondary");
        assert_eq!(payload_of(&sink), "to the secondary");
    } else {
        let back = back.unwrap_or_else(|| panic!("not back:\n{}", edge.log().text()));
        let probe = expect_log(&edge, at, "is back: reconnecting to it");
        assert!(probe < back);
        let sink = client(primary.port, "sink");
        subscribe(&sink, "f/#");
        publish(&publisher, "f/1", "to the primary");
        assert_eq!(payload_of(&sink), "to the primary");
    }
    primary.down();
    secondary.down();
}

#[test]
fn without_round_robin_the_bridge_returns_to_the_primary() {
    if need_mosquitto() {
        failover(false);
    }
}

#[test]
fn with_round_robin_the_bridge_stays_on_the_secondary() {
    if need_mosquitto() {
        failover(true);
    }
}

/// With or without the broker store (a lazy bridge's queue stays its own).
fn lazy(store: Option<&std::path::Path>) {
    let mut remote = Remote::new("");
    remote.up();
    let sink = client(remote.port, "sink");
    subscribe(&sink, "l/#");
    let persistence = store
        .map(|p| format!("persistence true\npersistence_location {}\n", p.display()))
        .unwrap_or_default();
    let edge = FerroBroker::start(
        EXE,
        &format!(
            "{persistence}connection hub\naddress 127.0.0.1:{}\nstart_type lazy\nthreshold 3\n\
             idle_timeout 1\nrestart_timeout 1\ntopic l/# out 1\n",
            remote.port
        ),
    );
    let publisher = client(edge.port, "pub");
    for round in 0..2 {
        let from = edge.log().len();
        publish(&publisher, "l/x", &format!("{round}-0"));
        publish(&publisher, "l/x", &format!("{round}-1"));
        // Below the threshold: queued, not connected (the publishes were
        // acknowledged, so the bridge has seen them).
        assert!(
            !edge
                .log()
                .lines_from(from)
                .iter()
                .any(|l| l.contains("connected to")),
            "connected below the threshold:\n{}",
            edge.log().text()
        );
        publish(&publisher, "l/x", &format!("{round}-2"));
        let up = expect_log(&edge, from, &connected_line(remote.port));
        let got: Vec<String> = (0..3).map(|_| payload_of(&sink)).collect();
        assert_eq!(got, [0, 1, 2].map(|i| format!("{round}-{i}")));
        expect_log(&edge, up, "idle: stopping (lazy start)");
    }
    remote.down();
}

#[test]
fn lazy_connects_at_threshold_and_leaves_when_idle() {
    if need_mosquitto() {
        lazy(None);
    }
}

#[test]
fn lazy_with_persistence_connects_at_threshold() {
    if need_mosquitto() {
        let store = tempfile::tempdir().unwrap();
        lazy(Some(store.path()));
    }
}

#[test]
fn once_does_not_reconnect() {
    if !need_mosquitto() {
        return;
    }
    let mut remote = Remote::new("");
    remote.up();
    let edge = FerroBroker::start(
        EXE,
        &format!(
            "connection hub\naddress 127.0.0.1:{}\nstart_type once\nrestart_timeout 1\n\
             topic o/# out 1\n",
            remote.port
        ),
    );
    let up = expect_log(&edge, 0, &connected_line(remote.port));
    remote.down();
    expect_log(&edge, up, "start_type once: not reconnecting");
    assert!(
        !edge
            .log()
            .lines_from(up)
            .iter()
            .any(|l| l.contains("reconnecting in")),
        "{}",
        edge.log().text()
    );
}

#[test]
fn sys_has_the_bridge_state_and_counters() {
    if !need_mosquitto() {
        return;
    }
    let mut remote = Remote::new("");
    remote.up();
    let edge = FerroBroker::start(
        EXE,
        &format!(
            "sys_interval 1\nconnection hub\naddress 127.0.0.1:{}\nremote_clientid sys-edge\n\
             topic c/# both 1\n",
            remote.port
        ),
    );
    expect_log(&edge, 0, &connected_line(remote.port));
    let watch = client(edge.port, "watch");
    subscribe(&watch, "$SYS/broker/bridge/hub/messages/#");
    subscribe(&watch, "$SYS/broker/connection/sys-edge/state");
    let publisher = client(edge.port, "pub");
    for i in 0..3 {
        publish(&publisher, "c/out", &i.to_string());
    }
    // The bridge says it is up on the remote after its SUBSCRIBE there.
    let remote_pub = client(remote.port, "remote-pub");
    subscribe(&remote_pub, "$SYS/broker/connection/sys-edge/state");
    assert_eq!(payload_of(&remote_pub), "1");
    publish(&remote_pub, "c/in", "from the remote");
    let want: HashMap<&str, &str> = [
        ("$SYS/broker/connection/sys-edge/state", "1"),
        ("$SYS/broker/bridge/hub/messages/sent", "3"),
        ("$SYS/broker/bridge/hub/messages/received", "1"),
        ("$SYS/broker/bridge/hub/messages/dropped", "0"),
        ("$SYS/broker/bridge/hub/messages/queued", "0"),
    ]
    .into();
    let mut seen: HashMap<String, String> = HashMap::new();
    let deadline = Instant::now() + WAIT;
    while want
        .iter()
        .any(|(t, v)| seen.get(*t).map(String::as_str) != Some(*v))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some((topic, m)) = watch.receive(left).expect("receive") else {
            panic!("$SYS so far: {seen:?}");
        };
        seen.insert(topic, String::from_utf8_lossy(&m.payload).into_owned());
    }
    remote.down();
}
