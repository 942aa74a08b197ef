//! With persistence on, output waits for its batch to be durable. A QoS 0
//! flood while the store is stalled (the store's test seam stands for a
//! slow disk) must not grow that held output without bound: past the limit
//! the broker stops reading and TCP pushes the publisher back. Once the
//! store catches up every acknowledged message still arrives.

mod support;

use std::io::{ErrorKind, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::protocol::codec::{Packet, ProtocolVersion, PubResp, Publish, QoS, encode};
use support::raw::{Got, Raw};

const LIMIT: usize = 2 * 1024 * 1024;
/// What one turn may add past the limit before reading stops (a read slice
/// per connection and the output it makes).
const SLACK: usize = 1024 * 1024;
/// The flood gives up (and the test fails) past this many bytes written.
const CAP: usize = 64 * 1024 * 1024;
const WAIT: Duration = Duration::from_secs(20);

fn packet(p: &Packet) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(p, ProtocolVersion::V311, &mut out).expect("encode");
    out.to_vec()
}

fn publish(qos: QoS, id: u16, retain: bool, topic: &str, payload: &[u8]) -> Packet {
    Packet::Publish(Publish {
        qos,
        retain,
        packet_id: id,
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload),
        ..Publish::default()
    })
}

/// The subscriber acknowledges QoS 1 messages and reports their payloads
/// until "last" arrives.
fn subscriber(mut sub: Raw, tx: mpsc::Sender<String>) {
    loop {
        match sub.next(WAIT) {
            Got::Packet(Packet::Publish(p)) => {
                if p.qos == QoS::AtLeastOnce {
                    sub.send(&Packet::PubAck(PubResp {
                        packet_id: p.packet_id,
                        ..PubResp::default()
                    }));
                    let text = String::from_utf8_lossy(&p.payload).into_owned();
                    let last = text == "last";
                    let _ = tx.send(text);
                    if last {
                        return;
                    }
                }
            }
            Got::Packet(_) => {}
            other => {
                let _ = tx.send(format!("subscriber: {other:?}"));
                return;
            }
        }
    }
}

#[test]
fn qos0_flood_during_a_store_stall_is_pushed_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig {
        persistence: Some(dir.path().join("ferromq.redb")),
        ..BrokerConfig::default()
    };
    let mut server = Server::new(config, vec!["127.0.0.1:0".into()], None).expect("server");
    server.start().expect("start");
    server.set_held_limit(LIMIT);
    let port = server.ports()[0];

    let mut sub = Raw::connect(port, ProtocolVersion::V311, "held-sub");
    sub.subscribe("flood/#", QoS::AtLeastOnce);
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || subscriber(sub, tx));

    let mut publisher = Raw::connect(port, ProtocolVersion::V311, "held-pub");
    server.stall_store(true);
    // A retained QoS 1 message is staged for the store: its batch, and all
    // output after it, now waits for the stalled commit.
    publisher.send(&publish(QoS::AtLeastOnce, 1, true, "flood/first", b"first"));
    let flood = packet(&publish(QoS::AtMostOnce, 0, false, "flood/x", &[7u8; 1024]));
    publisher
        .s
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    // Write until a write makes no progress for 2 s with the held output
    // at its limit (pushed back), or CAP. A stall below the limit is only a
    // busy machine: keep writing.
    let (mut written, mut at, mut pushed_back, mut stalls) = (0usize, 0usize, false, 0);
    while written < CAP {
        match publisher.s.write(&flood[at..]) {
            Ok(n) => {
                written += n;
                at = (at + n) % flood.len();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                stalls += 1;
                if server.held_peak() >= LIMIT || stalls == 10 {
                    pushed_back = true;
                    break;
                }
            }
            Err(e) => panic!("flood write: {e}"),
        }
    }
    let peak = server.held_peak();
    server.stall_store(false);
    assert!(
        pushed_back,
        "{written} bytes of QoS 0 went in during the stall and the broker kept reading (held peak {peak})"
    );
    assert!(
        (LIMIT..=LIMIT + SLACK).contains(&peak),
        "held output peaked at {peak} bytes, limit {LIMIT} (flood wrote {written})"
    );
    // The store caught up: finish the packet cut short, then one more QoS 1.
    publisher.s.set_write_timeout(None).unwrap();
    if at != 0 {
        publisher.bytes(&flood[at..]);
    }
    publisher.send(&publish(QoS::AtLeastOnce, 2, false, "flood/last", b"last"));
    let mut acked = Vec::new();
    while acked.len() < 2 {
        match publisher.next(WAIT) {
            Got::Packet(Packet::PubAck(a)) => acked.push(a.packet_id),
            Got::Packet(_) => {}
            other => panic!("publisher waiting for PUBACKs {acked:?}: {other:?}"),
        }
    }
    assert_eq!(acked, vec![1, 2]);
    let mut got = Vec::new();
    while got.last().map(String::as_str) != Some("last") {
        match rx.recv_timeout(WAIT) {
            Ok(m) => got.push(m),
            Err(e) => panic!("subscriber got {got:?}, then {e}"),
        }
    }
    assert_eq!(got, vec!["first", "last"], "acknowledged messages");
    reader.join().expect("subscriber thread");
    println!("flood: {written} bytes before push-back, held output peaked at {peak} bytes");
    server.stop().expect("stop");
}
