//! Exactly once for an incoming QoS 2 message across a client crash
//! (MQTTCLIENT_PERSISTENCE_DEFAULT): tests/c/persist_receive.c, built against
//! Paho's headers, is run on Debian's Paho C (the reference) and on FerroMQ
//! (the same binary under Paho's library names) against a scripted server.
//!
//! Run 1: the server sends PUBLISH QoS 2, reads the PUBREC, and the client
//! is killed with SIGKILL before any PUBREL (MQTT 5 delivers on PUBLISH, so
//! there the kill waits for the delivery; MQTT 3.1.1 delivers on PUBREL, as
//! Paho does). The store must then hold the `r-`/`r5-` record. Run 2 on the
//! same store, session kept: the server resends the PUBLISH with DUP (as if
//! the PUBREC were lost), then PUBREL. The client must answer PUBREC and a
//! successful PUBCOMP, and across both runs the message arrives exactly once.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ferromq::protocol::codec::{ConnAck, Packet, ProtocolVersion, PubResp, Publish, QoS};
use support::raw::{Got, Raw};
use support::{CBuild, Running};

const PROGRAM_SECS: u64 = 60;
const WAIT: Duration = Duration::from_secs(20);
const TOPIC: &str = "crash/q2";
const ID: u16 = 7;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Lib {
    Paho,
    Ours,
}

/// persist_receive built against Paho's headers, and our library under
/// Paho's names; None (SKIP) without Paho's headers.
struct Program {
    exe: PathBuf,
    names: tempfile::TempDir,
    _work: tempfile::TempDir,
}

impl Program {
    fn build() -> Option<Program> {
        if !Path::new(support::PAHO_HEADER).exists() {
            support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
            return None;
        }
        let c = support::manifest_dir().join("tests").join("c");
        let work = tempfile::tempdir().expect("tempdir");
        let exe = work.path().join("persist_receive");
        CBuild {
            sources: vec![c.join("persist_receive.c")],
            include_dirs: vec![c],
            libs: vec!["paho-mqtt3c".into()],
            ..CBuild::default()
        }
        .build(&exe);
        Some(Program {
            exe,
            names: support::paho_names_dir(),
            _work: work,
        })
    }

    fn run(&self, lib: Lib, uri: &str, store: &Path, version: &str) -> Running {
        let mut cmd = Command::new(&self.exe);
        cmd.env_remove("LD_LIBRARY_PATH");
        if lib == Lib::Ours {
            cmd.env("LD_LIBRARY_PATH", self.names.path());
        }
        cmd.args([uri, "q2-crash"]).arg(store).arg(version);
        Running::spawn(cmd, PROGRAM_SECS)
    }
}

/// Accept the client and answer its CONNECT (which must keep the session).
fn accept(l: &TcpListener, v: ProtocolVersion, session_present: bool) -> Raw {
    let (s, _) = l.accept().expect("accept");
    s.set_nodelay(true).unwrap();
    let mut raw = Raw {
        s,
        buf: BytesMut::new(),
        version: v,
    };
    match raw.next(WAIT) {
        Got::Packet(Packet::Connect(c)) => assert!(!c.clean_start, "{c:?}"),
        other => panic!("expected CONNECT, got {other:?}"),
    }
    raw.send(&Packet::ConnAck(ConnAck {
        session_present,
        ..ConnAck::default()
    }));
    raw
}

fn publish(qos: QoS, id: u16, dup: bool, topic: &str, payload: &'static [u8]) -> Packet {
    Packet::Publish(Publish {
        qos,
        dup,
        packet_id: id,
        topic: topic.into(),
        payload: Bytes::from_static(payload),
        ..Publish::default()
    })
}

/// The next packet, which must be a PUBREC/PUBCOMP of ID with success.
fn expect_ack(raw: &mut Raw, what: &str, client: &Running) -> PubResp {
    let got = raw.next(WAIT);
    let ack = match (&got, what) {
        (Got::Packet(Packet::PubRec(r)), "PUBREC")
        | (Got::Packet(Packet::PubComp(r)), "PUBCOMP") => r.clone(),
        _ => panic!(
            "expected {what}, got {got:?}\nclient stdout:\n{}\nstderr:\n{}",
            client.stdout.text(),
            client.stderr.text()
        ),
    };
    assert_eq!(ack.packet_id, ID, "{what}");
    assert!(ack.reason.is_success(), "{what} {ack:?}");
    ack
}

/// Record file names in the client's store directory.
fn records(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn arrivals(out: &str) -> usize {
    let want = format!("arrived {TOPIC} once");
    out.lines().filter(|l| *l == want).count()
}

fn crash_between_pubrec_and_pubrel(first: Lib, second: Lib, version: &str) {
    let Some(program) = Program::build() else {
        return;
    };
    let v = if version == "5" {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let uri = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let store = tempfile::tempdir().expect("tempdir");

    let mut client = program.run(first, &uri, store.path(), version);
    let mut raw = accept(&listener, v, false);
    client.expect_line("connected");
    raw.send(&publish(QoS::ExactlyOnce, ID, false, TOPIC, b"once"));
    expect_ack(&mut raw, "PUBREC", &client);
    if v == ProtocolVersion::V5 {
        // MQTT 5 delivers on PUBLISH: kill after the delivery.
        client.expect_line(&format!("arrived {TOPIC} once"));
    }
    client.kill();
    let first_out = client.stdout.text();
    let key = if v == ProtocolVersion::V5 {
        "r5-7.msg"
    } else {
        "r-7.msg"
    };
    let on_disk = records(store.path());
    assert!(
        on_disk.iter().any(|n| n == key),
        "{first:?} left no {key} after PUBREC: {on_disk:?}"
    );
    drop(raw);

    let client = program.run(second, &uri, store.path(), version);
    let mut raw = accept(&listener, v, true);
    raw.send(&publish(QoS::ExactlyOnce, ID, true, TOPIC, b"once"));
    expect_ack(&mut raw, "PUBREC", &client);
    raw.send(&Packet::PubRel(PubResp {
        packet_id: ID,
        ..PubResp::default()
    }));
    expect_ack(&mut raw, "PUBCOMP", &client);
    raw.send(&publish(QoS::AtMostOnce, 0, false, "crash/end", b"end"));
    let (status, second_out, err) = client.finish();
    assert!(
        status.success(),
        "run 2 on {second:?} failed: {status}\n{second_out}\n{err}"
    );
    let (a, b) = (arrivals(&first_out), arrivals(&second_out));
    assert_eq!(
        a + b,
        1,
        "{first:?} then {second:?}, MQTT {version}: delivered {a} + {b} times\n--- run 1\n{first_out}\n--- run 2\n{second_out}"
    );
    let left = records(store.path());
    assert!(
        !left.iter().any(|n| n.starts_with('r')),
        "the record outlived its PUBREL: {left:?}"
    );
    println!("{first:?} then {second:?}, MQTT {version}: delivered in run 1 {a}, run 2 {b}");
}

#[test]
fn paho_v311_reference() {
    crash_between_pubrec_and_pubrel(Lib::Paho, Lib::Paho, "4");
}

#[test]
fn paho_v5_reference() {
    crash_between_pubrec_and_pubrel(Lib::Paho, Lib::Paho, "5");
}

#[test]
fn ferromq_v311() {
    crash_between_pubrec_and_pubrel(Lib::Ours, Lib::Ours, "4");
}

#[test]
fn ferromq_v5() {
    crash_between_pubrec_and_pubrel(Lib::Ours, Lib::Ours, "5");
}

#[test]
fn paho_store_resumed_by_ferromq_v311() {
    crash_between_pubrec_and_pubrel(Lib::Paho, Lib::Ours, "4");
}

#[test]
fn paho_store_resumed_by_ferromq_v5() {
    crash_between_pubrec_and_pubrel(Lib::Paho, Lib::Ours, "5");
}

#[test]
fn ferromq_store_resumed_by_paho_v311() {
    crash_between_pubrec_and_pubrel(Lib::Ours, Lib::Paho, "4");
}
