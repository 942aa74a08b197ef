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

/// A subscriber that stops reading its socket: the broker's output to it
/// piles up past the congestion mark, then its QoS 0 messages queue and the
/// publisher is paused (its own writes block: TCP pushes back) instead of
/// the broker buffering without bound or dropping. Once the subscriber
/// reads again, every message arrives, in order.
#[test]
fn a_subscriber_that_stops_reading_pushes_back_on_a_qos0_publisher() {
    use std::io::{ErrorKind, Read, Write};
    use std::time::{Duration, Instant};

    let (srv, port) = support::raw::server(ferromq::broker::Limits::default());
    let mut sub = Raw::connect(port, ProtocolVersion::V311, "stalled");
    sub.subscribe("flood", QoS::AtMostOnce);
    let publisher = Raw::connect(port, ProtocolVersion::V311, "flooder");
    let mut one = bytes::BytesMut::new();
    const BODY: usize = 1000;
    let mut frames = Vec::new();
    // 64 MB of QoS 0 in 1 kB messages: far more than socket buffers, the
    // congestion mark and the queue together hold.
    const N: usize = 64 * 1024;
    for i in 0..N {
        let mut payload = format!("{i:08}").into_bytes();
        payload.resize(BODY, b'.');
        one.clear();
        ferromq::protocol::codec::encode(
            &Packet::Publish(Publish {
                topic: "flood".into(),
                payload: Bytes::from(payload),
                ..Publish::default()
            }),
            ProtocolVersion::V311,
            &mut one,
        )
        .unwrap();
        frames.extend_from_slice(&one);
    }
    let mut out = publisher.s.try_clone().unwrap();
    out.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut written = 0;
    let blocked = loop {
        match out.write(&frames[written..]) {
            Ok(n) => written += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break true;
            }
            Err(e) => panic!("publisher write: {e}"),
        }
        if written == frames.len() {
            break false;
        }
    };
    assert!(
        blocked,
        "all {} bytes went in: nothing pushed back; {:?}",
        frames.len(),
        srv.stats()
    );
    let s = srv.stats();
    assert!(s.flow_pauses >= 1, "{s:?}");
    assert_eq!(s.dropped, 0, "{s:?}");
    // Read again; the publisher writes the rest as it is let go.
    let writer = std::thread::spawn(move || {
        out.set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        out.write_all(&frames[written..]).expect("the rest goes in");
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    sub.s
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    while next < N {
        assert!(Instant::now() < deadline, "only {next} of {N} arrived");
        match ferromq::protocol::codec::decode(&mut sub.buf, ProtocolVersion::V311, 0) {
            Ok(Some(Packet::Publish(p))) => {
                let seq: usize = std::str::from_utf8(&p.payload[..8])
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(seq, next, "in order, none missing");
                next += 1;
                continue;
            }
            Ok(Some(other)) => panic!("{other:?}"),
            Ok(None) => {}
            Err(e) => panic!("{e:?}"),
        }
        let n = sub.s.read(&mut buf).expect("subscriber read");
        assert!(n > 0, "closed after {next}");
        sub.buf.extend_from_slice(&buf[..n]);
    }
    writer.join().unwrap();
    assert_eq!(srv.stats().dropped, 0);
    drop(publisher);
}

/// An offline durable session keeps the drop policy: past its queue limit
/// (1,000 by default) messages are dropped, and the broker log says so once.
#[test]
fn an_offline_session_past_its_limit_drops_and_the_log_says_so() {
    use ferromq::protocol::codec::Connect;
    let broker = FerroBroker::start(FERROMQ, "");
    let mut sub = Raw::connect_with(
        broker.port,
        Connect {
            protocol: ProtocolVersion::V311,
            client_id: "away".into(),
            clean_start: false,
            ..Connect::default()
        },
    );
    sub.subscribe("offline/t", QoS::AtLeastOnce);
    sub.send(&Packet::Disconnect(Default::default()));
    assert_eq!(sub.next(WAIT), Got::Closed);
    let mut publisher = Raw::connect(broker.port, ProtocolVersion::V311, "feeder");
    for i in 0..1001u16 {
        publisher.send(&Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            topic: "offline/t".into(),
            packet_id: i + 1,
            payload: Bytes::from_static(b"m"),
            ..Publish::default()
        }));
    }
    assert!(
        broker
            .log()
            .wait_for("queue full: client 'away' is offline", WAIT),
        "{}",
        broker.log().text()
    );
}
