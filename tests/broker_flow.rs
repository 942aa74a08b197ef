//! Nothing lost through `ferromq broker` with its DEFAULT configuration:
//! Paho's MQTTAsync client (Debian's libpaho-mqtt3a, the reference) flooding
//! a topic it subscribes to at QoS 0, 1 and 2; a 4 -> 1 QoS 1 fan-in and a
//! 1 -> 50 QoS 1 fan-out from `ferromq bench` (which exits 2 on any QoS 1
//! loss or duplicate); and a `#` subscribe over 5,000 retained QoS 1
//! messages, which must deliver every one.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use ferromq::protocol::codec::{Packet, ProtocolVersion, PubResp, Publish, QoS};
use support::raw::{Got, Raw, WAIT};
use support::{CBuild, FerroBroker, Running};

const FERROMQ: &str = env!("CARGO_BIN_EXE_ferromq");

/// Seconds a client program may run before it is killed and the test fails.
const PROGRAM_TIMEOUT_SECS: u64 = 120;

#[test]
fn paho_async_flood_to_itself_loses_nothing() {
    if !Path::new("/usr/include/MQTTAsync.h").exists() {
        support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
        return;
    }
    let c_dir = support::manifest_dir().join("tests").join("c");
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join("flood_self");
    CBuild {
        sources: vec![c_dir.join("flood_self.c")],
        include_dirs: vec![c_dir],
        libs: vec!["paho-mqtt3a".into()],
        ..CBuild::default()
    }
    .build(&exe);
    let broker = FerroBroker::start(FERROMQ, "");
    let mut cmd = Command::new(&exe);
    cmd.arg("127.0.0.1")
        .arg(broker.port.to_string())
        .arg("1000")
        .env_remove("LD_LIBRARY_PATH");
    let (status, stdout, stderr) = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS).finish();
    assert!(
        status.success(),
        "flood_self: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- broker\n{}",
        broker.log().text()
    );
    assert!(
        stdout.contains("received qos0=1000 qos1=1000 qos2=1000 of 1000 each; out of order 0/0/0"),
        "{stdout}"
    );
}

/// Runs `ferromq bench` against a default-config `ferromq broker`; it exits
/// 2 on any QoS 1 loss or duplicate. Returns its summary.
fn bench(args: &[&str]) -> String {
    let broker = FerroBroker::start(FERROMQ, "");
    let generator = support::manifest_dir()
        .join("target")
        .join("release")
        .join("ferromq-bench");
    assert!(
        generator.exists(),
        "{} is missing: `cargo build --release` builds the load generator",
        generator.display()
    );
    let mut cmd = Command::new(FERROMQ);
    cmd.arg("bench")
        .arg("--port")
        .arg(broker.port.to_string())
        .args(["--payload", "64"])
        .args(args);
    let (status, stdout, stderr) = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS).finish();
    assert!(
        status.success(),
        "ferromq bench {args:?}: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}

#[test]
fn qos1_fan_in_four_to_one_loses_nothing() {
    let out = bench(&[
        "--mode",
        "fanin",
        "--qos",
        "1",
        "--publishers",
        "4",
        "--window",
        "64",
        "--messages",
        "20000",
    ]);
    print!("{out}");
}

#[test]
fn qos1_fan_out_one_to_fifty_loses_nothing() {
    let out = bench(&[
        "--mode",
        "fanout",
        "--qos",
        "1",
        "--subscribers",
        "50",
        "--messages",
        "2000",
    ]);
    print!("{out}");
}

#[test]
fn wildcard_subscribe_gets_all_5000_retained_qos1_messages() {
    const N: usize = 5000;
    let broker = FerroBroker::start(FERROMQ, "");
    let mut publisher = Raw::connect(broker.port, ProtocolVersion::V311, "retainer");
    for i in 0..N {
        publisher.send(&Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            retain: true,
            topic: format!("retained/{}/{i}", i % 50),
            packet_id: (i % 60_000 + 1) as u16,
            payload: Bytes::from(format!("{i}")),
            ..Publish::default()
        }));
    }
    for _ in 0..N {
        match publisher.next(WAIT) {
            Got::Packet(Packet::PubAck(_)) => {}
            other => panic!("expected PUBACK, got {other:?}"),
        }
    }
    let mut sub = Raw::connect(broker.port, ProtocolVersion::V311, "wildcard");
    sub.subscribe("#", QoS::AtLeastOnce);
    let mut topics = HashSet::new();
    while topics.len() < N {
        match sub.next(WAIT) {
            Got::Packet(Packet::Publish(p)) => {
                assert!(p.retain, "{p:?}");
                assert_eq!(p.qos, QoS::AtLeastOnce);
                sub.send(&Packet::PubAck(PubResp {
                    packet_id: p.packet_id,
                    ..PubResp::default()
                }));
                assert!(topics.insert(p.topic.clone()), "{} twice", p.topic);
            }
            other => panic!("after {} retained messages: {other:?}", topics.len()),
        }
    }
}
