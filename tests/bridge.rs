//! Bridges (mosquitto's `connection` blocks) against real mosquitto as the
//! remote and between FerroMQ brokers: both directions with prefixes, a
//! remote restart mid-stream at QoS 1 and 2 with nothing lost, the remote
//! unreachable at start, wrong credentials retried with backoff, two
//! brokers bridged both ways without a loop, a chain of three.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::broker::BrokerConfig;
use ferromq::broker::bridge::BridgeConf;
use ferromq::broker::config::mosquitto::parse_str;
use ferromq::broker::server::{Hooks, Server};
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use support::{LineLog, Mosquitto};

const WAIT: Duration = Duration::from_secs(20);

/// Bridge log lines, on a channel.
struct BridgeLog(Mutex<Sender<String>>);

impl Hooks for BridgeLog {
    fn wants(&self) -> ferromq::broker::Hooks {
        ferromq::broker::Hooks::default()
    }
    fn on_bridge_log(&self, _warning: bool, line: &str) {
        let _ = self.0.lock().unwrap().send(line.to_string());
    }
}

/// An in-process FerroMQ broker on a free port, with the bridges of a
/// mosquitto.conf text.
fn ferro(bridge_conf: &str) -> (Server, Receiver<String>) {
    let (tx, rx) = channel();
    let hooks: Arc<dyn Hooks> = Arc::new(BridgeLog(Mutex::new(tx)));
    let mut s = Server::new(
        BrokerConfig::default(),
        vec!["127.0.0.1:0".into()],
        Some(hooks),
    )
    .expect("server");
    s.start().expect("start");
    for b in bridges(bridge_conf) {
        s.add_bridge(b).expect("add_bridge");
    }
    (s, rx)
}

fn bridges(text: &str) -> Vec<BridgeConf> {
    parse_str(text, "", false).expect("bridge config").bridges
}

fn uri(port: u16) -> String {
    format!("tcp://127.0.0.1:{port}")
}

fn options(version: i32, clean: bool) -> ConnectOptions {
    ConnectOptions {
        clean_session: clean,
        clean_start: clean,
        properties: if !clean && version == 5 {
            session_expiry()
        } else {
            Properties::default()
        },
        ..support::connect_options(version)
    }
}

fn session_expiry() -> Properties {
    use ferromq::protocol::codec::{Property, PropertyId, PropertyValue};
    Properties {
        list: vec![Property {
            id: PropertyId::SESSION_EXPIRY_INTERVAL,
            value: PropertyValue::U32(3600),
        }],
    }
}

fn client(port: u16, id: &str, version: i32, clean: bool) -> Client {
    let c = Client::new(
        &uri(port),
        id,
        CreateOptions {
            mqtt_version: version,
        },
    )
    .unwrap();
    c.connect(options(version, clean)).expect("connect");
    c
}

fn subscribe(c: &Client, filter: &str, qos: QoS) {
    let o = SubscriptionOptions {
        qos,
        ..Default::default()
    };
    c.subscribe_many(vec![(filter.into(), o)], Properties::default())
        .expect("subscribe");
}

fn publish(c: &Client, topic: &str, payload: &str, qos: QoS) {
    c.publish(
        topic,
        Bytes::from(payload.to_string()),
        qos,
        false,
        Properties::default(),
    )
    .expect("publish");
}

/// The next message within `WAIT`.
fn next(c: &Client) -> (String, String) {
    let (t, m) = c
        .receive(WAIT)
        .expect("receive")
        .expect("a message in time");
    (t, String::from_utf8_lossy(&m.payload).into_owned())
}

/// Wait until the bridge's state topic on broker `port` says "1".
fn wait_up(port: u16, state_topic: &str) {
    let c = client(port, &format!("watch-{}", support::free_port()), 4, true);
    subscribe(&c, state_topic, QoS::AtLeastOnce);
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, m) = c
            .receive(left)
            .expect("receive")
            .unwrap_or_else(|| panic!("{state_topic} never said 1"));
        if &m.payload[..] == b"1" {
            return;
        }
    }
}

/// A mosquitto that can be stopped and started again on the same port with
/// the same persistence directory.
struct Remote {
    port: u16,
    dir: tempfile::TempDir,
    extra: String,
    broker: Option<Mosquitto>,
}

impl Remote {
    fn start(extra: &str) -> Remote {
        let mut r = Remote {
            port: support::free_port(),
            dir: tempfile::tempdir().unwrap(),
            extra: extra.to_string(),
            broker: None,
        };
        r.up();
        r
    }

    fn up(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        let text = format!(
            "listener {} 127.0.0.1\npersistence true\npersistence_location {}/\n\
             autosave_interval 0\n{}\n{}",
            self.port,
            self.dir.path().display(),
            if running_as_root() { "user root" } else { "" },
            self.extra
        );
        std::fs::write(&conf, text).unwrap();
        let mut cmd = Command::new(support::MOSQUITTO);
        cmd.arg("-c").arg(&conf).arg("-v");
        let m = Mosquitto::spawn(cmd, self.port, tempfile::tempdir().unwrap());
        assert!(
            m.log().wait_for(" running", WAIT),
            "mosquitto did not start:\n{}",
            m.log().text()
        );
        self.broker = Some(m);
    }

    /// SIGTERM (mosquitto saves its sessions), wait until it has exited.
    fn down(&mut self) {
        let m = self.broker.take().expect("running");
        let pid = m.pid().expect("pid") as i32;
        // SAFETY: signalling a child process we started and have not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        assert!(m.log().wait_closed(WAIT), "mosquitto did not stop");
        drop(m);
    }

    fn log(&self) -> &LineLog {
        self.broker.as_ref().expect("running").log()
    }
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn need_mosquitto() -> bool {
    if Mosquitto::available() {
        return true;
    }
    support::skip("mosquitto not installed");
    false
}

#[test]
fn both_directions_with_prefixes() {
    if !need_mosquitto() {
        return;
    }
    let remote = Remote::start("allow_anonymous true\n");
    for version in ["mqttv311", "mqttv50"] {
        let (edge, _log) = ferro(&format!(
            "connection hub\naddress 127.0.0.1:{}\nbridge_protocol_version {version}\n\
             remote_clientid edge-{version}\nnotification_topic state/{version}\n\
             topic t/# out 1 edge/ hub/edge1/\ntopic cmd/# in 2 edge/ hub/to-edge1/\n",
            remote.port
        ));
        let port = edge.ports()[0];
        wait_up(port, &format!("state/{version}"));
        let hub_sub = client(remote.port, &format!("hub-sub-{version}"), 4, true);
        subscribe(&hub_sub, "hub/#", QoS::ExactlyOnce);
        let edge_sub = client(port, &format!("edge-sub-{version}"), 4, true);
        subscribe(&edge_sub, "edge/#", QoS::ExactlyOnce);
        let edge_pub = client(port, &format!("edge-pub-{version}"), 4, true);
        let hub_pub = client(remote.port, &format!("hub-pub-{version}"), 4, true);

        publish(&edge_pub, "edge/t/1", "up", QoS::AtLeastOnce);
        assert_eq!(next(&edge_sub), ("edge/t/1".into(), "up".into()));
        assert_eq!(next(&hub_sub), ("hub/edge1/t/1".into(), "up".into()));
        publish(
            &hub_pub,
            "hub/to-edge1/cmd/reboot",
            "down",
            QoS::ExactlyOnce,
        );
        assert_eq!(
            next(&hub_sub),
            ("hub/to-edge1/cmd/reboot".into(), "down".into())
        );
        assert_eq!(next(&edge_sub), ("edge/cmd/reboot".into(), "down".into()));
        // Not matching any rule: stays where it was published.
        publish(&edge_pub, "edge/other", "local", QoS::AtLeastOnce);
        publish(&edge_pub, "edge/t/2", "after", QoS::AtLeastOnce);
        assert_eq!(next(&edge_sub).0, "edge/other");
        assert_eq!(next(&edge_sub).0, "edge/t/2");
        // The in-rule's message did not go back out: the next thing the hub
        // sees is t/2.
        assert_eq!(next(&hub_sub), ("hub/edge1/t/2".into(), "after".into()));
        assert_eq!(edge.bridges()[0].dropped(), 0);
    }
}

/// Publish `n` numbered messages on the edge while the hub restarts after
/// a third of them reached its persistent subscriber; every one arrives,
/// in order (QoS 1 may repeat one; QoS 2 never).
fn restart_mid_stream(qos: QoS) {
    let mut remote = Remote::start("allow_anonymous true\n");
    let sink_id = format!("sink-{}", qos as u8);
    let sink = client(remote.port, &sink_id, 4, false);
    subscribe(&sink, "hub/#", qos);
    let (edge, _log) = ferro(&format!(
        "connection hub\naddress 127.0.0.1:{}\nrestart_timeout 1\n\
         notification_topic state/hub\ntopic s/# out {} edge/ hub/\n",
        remote.port, qos as u8
    ));
    let port = edge.ports()[0];
    wait_up(port, "state/hub");
    let n = 300u32;
    let publisher = {
        let c = client(port, "edge-pub", 4, true);
        std::thread::spawn(move || {
            for i in 0..n {
                publish(&c, "edge/s/stream", &i.to_string(), qos);
            }
            c
        })
    };
    let mut got: Vec<u32> = Vec::new();
    let mut restarted = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.iter().collect::<HashSet<_>>().len() < n as usize {
        assert!(Instant::now() < deadline, "only {} of {n}", got.len());
        if !restarted && got.len() >= (n / 3) as usize {
            restarted = true;
            remote.down();
            remote.up();
            // The same handle: its QoS 2 state spans the reconnect.
            let c = &sink;
            // What arrived before the restart is still to be read.
            while let Ok(Some((_, m))) = c.receive(Duration::ZERO) {
                got.push(String::from_utf8_lossy(&m.payload).parse().unwrap());
            }
            c.connect(options(4, false)).expect("sink reconnects");
        }
        let c = &sink;
        match c.receive(WAIT) {
            Ok(Some((_, m))) => got.push(String::from_utf8_lossy(&m.payload).parse().unwrap()),
            Ok(None) => panic!(
                "nothing for {WAIT:?}; got {}; bridge {:?}, {} queued; edge {:?}\n{}",
                got.len(),
                edge.bridges()[0].stats(),
                edge.bridges()[0].queued(),
                edge.stats(),
                remote.log().text()
            ),
            Err(e) => panic!("sink lost: {e:?}"),
        }
    }
    assert!(restarted);
    let publisher = publisher.join().unwrap();
    drop(publisher);
    // Order: first arrivals are 0, 1, 2, ... .
    let mut seen = HashSet::new();
    let firsts: Vec<u32> = got.iter().copied().filter(|i| seen.insert(*i)).collect();
    assert_eq!(firsts, (0..n).collect::<Vec<_>>(), "order");
    if qos == QoS::ExactlyOnce {
        let mut dup = HashSet::new();
        let dups: Vec<u32> = got.iter().copied().filter(|i| !dup.insert(*i)).collect();
        assert!(dups.is_empty(), "QoS 2 delivered duplicates: {dups:?}");
    }
    assert_eq!(edge.bridges()[0].dropped(), 0);
    assert!(remote.log().len() > 0);
}

#[test]
fn remote_restart_mid_stream_qos1_loses_nothing() {
    if need_mosquitto() {
        restart_mid_stream(QoS::AtLeastOnce);
    }
}

#[test]
fn remote_restart_mid_stream_qos2_loses_nothing() {
    if need_mosquitto() {
        restart_mid_stream(QoS::ExactlyOnce);
    }
}

#[test]
fn remote_unreachable_at_start_then_the_queue_goes_out() {
    if !need_mosquitto() {
        return;
    }
    // The hub knows the sink's session, then goes away.
    let mut remote = Remote::start("allow_anonymous true\n");
    drop(client(remote.port, "late-sink", 4, false).subscribe_many(
        vec![(
            "hub/#".into(),
            SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                ..Default::default()
            },
        )],
        Properties::default(),
    ));
    remote.down();
    let (edge, log) = ferro(&format!(
        "connection hub\naddress 127.0.0.1:{}\nrestart_timeout 1\nbridge_max_queued 40\n\
         notification_topic state/late\ntopic # out 1 edge/ hub/\n",
        remote.port
    ));
    let port = edge.ports()[0];
    let line = log.recv_timeout(WAIT).expect("a log line");
    assert!(line.contains("failed"), "{line}");
    let edge_pub = client(port, "edge-pub", 4, true);
    for i in 0..50 {
        publish(&edge_pub, "edge/q", &i.to_string(), QoS::AtLeastOnce);
    }
    remote.up();
    wait_up(port, "state/late");
    let sink = client(remote.port, "late-sink", 4, false);
    // bridge_max_queued 40: the first 40 waited, the last 10 were dropped
    // (and counted), and what is published now goes straight out.
    for i in 0..40 {
        assert_eq!(next(&sink), ("hub/q".into(), i.to_string()));
    }
    publish(&edge_pub, "edge/q", "end", QoS::AtLeastOnce);
    assert_eq!(next(&sink), ("hub/q".into(), "end".into()));
    assert_eq!(edge.bridges()[0].dropped(), 10);
}

#[test]
fn wrong_credentials_are_retried_with_backoff_and_logged() {
    if !need_mosquitto() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    let st = Command::new("mosquitto_passwd")
        .arg("-c")
        .arg("-b")
        .arg(&pw)
        .args(["edge", "right"])
        .status();
    if !st.is_ok_and(|s| s.success()) {
        return support::skip("mosquitto_passwd not usable");
    }
    let remote = Remote::start(&format!(
        "allow_anonymous false\npassword_file {}\n",
        pw.display()
    ));
    let (edge, log) = ferro(&format!(
        "connection hub\naddress 127.0.0.1:{}\nremote_username edge\n\
         remote_password wrong\nrestart_timeout 1 2\ntopic # out 1\n",
        remote.port
    ));
    let start = Instant::now();
    let mut failures = Vec::new();
    while failures.len() < 3 {
        let line = log.recv_timeout(WAIT).expect("bridge log line");
        if line.contains("failed") {
            failures.push(Instant::now());
        }
    }
    // Three attempts need at least two restart delays (each ≥ the 1 s base).
    assert!(
        failures[2] - failures[0] >= Duration::from_secs(2),
        "retried too fast: {:?}",
        failures[2] - failures[0]
    );
    let attempts = edge.bridges()[0]
        .stats()
        .attempts
        .load(std::sync::atomic::Ordering::Relaxed);
    // No busy loop: at most one attempt per base interval, plus the first.
    let bound = start.elapsed().as_secs() + 2;
    assert!(
        attempts <= bound,
        "{attempts} attempts in {:?}",
        start.elapsed()
    );
    assert!(
        remote.log().text().contains("not authorised"),
        "{}",
        remote.log().text()
    );
}

#[test]
fn two_ferromq_brokers_bridged_both_ways_without_a_loop() {
    // MQTT 5: no-local; 3.1.1: try_private (our broker knows bridges).
    for version in ["mqttv50", "mqttv311"] {
        let (b, _) = ferro("");
        let bport = b.ports()[0];
        let (a, _) = ferro(&format!(
            "connection b\naddress 127.0.0.1:{bport}\nbridge_protocol_version {version}\n\
             notification_topic state/ab\ntopic # both 1\n"
        ));
        let aport = a.ports()[0];
        wait_up(aport, "state/ab");
        let a_sub = client(aport, "a-sub", 4, true);
        subscribe(&a_sub, "m/#", QoS::AtLeastOnce);
        let b_sub = client(bport, "b-sub", 4, true);
        subscribe(&b_sub, "m/#", QoS::AtLeastOnce);
        let a_pub = client(aport, "a-pub", 4, true);
        let b_pub = client(bport, "b-pub", 4, true);
        publish(&a_pub, "m/x", "x", QoS::AtLeastOnce);
        assert_eq!(next(&b_sub), ("m/x".into(), "x".into()));
        publish(&b_pub, "m/y", "y", QoS::AtLeastOnce);
        // An echo of x would reach A before y (same bridge connection).
        assert_eq!(next(&a_sub), ("m/x".into(), "x".into()), "{version}");
        assert_eq!(next(&a_sub), ("m/y".into(), "y".into()), "{version}");
        assert_eq!(next(&b_sub), ("m/y".into(), "y".into()));
        // And y did not come back to B: the next thing B sees is z.
        publish(&a_pub, "m/z", "z", QoS::AtLeastOnce);
        assert_eq!(next(&b_sub), ("m/z".into(), "z".into()), "{version}");
        assert_eq!(next(&a_sub), ("m/z".into(), "z".into()));
        assert!(a.stats().messages_in < 20 && b.stats().messages_in < 20);
    }
}

#[test]
fn a_chain_of_three_brokers() {
    let (c, _) = ferro("");
    let cport = c.ports()[0];
    let rules = "topic up/# out 1\ntopic down/# in 1\n";
    let (b, _) = ferro(&format!(
        "connection c\naddress 127.0.0.1:{cport}\nnotification_topic state/bc\n{rules}"
    ));
    let bport = b.ports()[0];
    let (a, _) = ferro(&format!(
        "connection b\naddress 127.0.0.1:{bport}\nnotification_topic state/ab\n{rules}"
    ));
    let aport = a.ports()[0];
    wait_up(bport, "state/bc");
    wait_up(aport, "state/ab");
    let c_sub = client(cport, "c-sub", 4, true);
    subscribe(&c_sub, "up/#", QoS::AtLeastOnce);
    let a_sub = client(aport, "a-sub", 4, true);
    subscribe(&a_sub, "down/#", QoS::AtLeastOnce);
    let a_pub = client(aport, "a-pub", 4, true);
    for i in 0..20 {
        publish(&a_pub, "up/edge", &i.to_string(), QoS::AtLeastOnce);
    }
    for i in 0..20 {
        assert_eq!(next(&c_sub), ("up/edge".into(), i.to_string()));
    }
    let c_pub = client(cport, "c-pub", 4, true);
    publish(&c_pub, "down/all", "hello", QoS::AtLeastOnce);
    assert_eq!(next(&a_sub), ("down/all".into(), "hello".into()));
}

#[test]
fn a_mosquitto_bridge_configuration_runs_on_ferromq_broker_c() {
    if !need_mosquitto() {
        return;
    }
    let remote = Remote::start("allow_anonymous true\n");
    // As a mosquitto user writes it (comments, defaults, try_private).
    let conf = format!(
        "# edge broker\nallow_anonymous true\n\n\
         connection hub\naddress 127.0.0.1:{}\ntopic # both 1 edge/ hub/\n\
         remote_clientid edge-cmd\ntry_private true\nrestart_timeout 1 2\n",
        remote.port
    );
    let edge = support::FerroBroker::start(env!("CARGO_BIN_EXE_ferromq"), &conf);
    assert!(
        edge.log().wait_for("bridge hub: connected to", WAIT),
        "{}",
        edge.log().text()
    );
    wait_up(edge.port, "$SYS/broker/connection/edge-cmd/state");
    let hub_sub = client(remote.port, "hub-sub", 4, true);
    subscribe(&hub_sub, "hub/#", QoS::AtLeastOnce);
    let edge_sub = client(edge.port, "edge-sub", 4, true);
    subscribe(&edge_sub, "edge/#", QoS::AtLeastOnce);
    let logs = || format!("{}\n{}", edge.log().text(), remote.log().text());
    let edge_pub = client(edge.port, "edge-pub", 4, true);
    publish(&edge_pub, "edge/out", "up", QoS::AtLeastOnce);
    let got = hub_sub.receive(WAIT).unwrap().map(|(t, _)| t);
    assert_eq!(got.as_deref(), Some("hub/out"), "{}", logs());
    let hub_pub = client(remote.port, "hub-pub", 4, true);
    publish(&hub_pub, "hub/in/x", "down", QoS::AtLeastOnce);
    // try_private: mosquitto does not echo edge/out back to the bridge, so
    // after the local copy the next thing here is what the hub sent.
    assert_eq!(next(&edge_sub).0, "edge/out");
    let got = edge_sub.receive(WAIT).unwrap().map(|(t, _)| t);
    assert_eq!(got.as_deref(), Some("edge/in/x"), "{}", logs());
}
