//! A bridge's outgoing queue in the broker store (`persistence true`): QoS
//! 1 and 2 messages acknowledged by `ferromq broker` while its remote (a
//! real mosquitto) is down survive a kill -9 of the broker, and go out to
//! the remote once the broker is back and the remote comes up; so do
//! messages already handed to a remote that had not acknowledged them.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::protocol::codec::{
    Properties, Property, PropertyId, PropertyValue, QoS, ReasonCode, SubscriptionOptions,
};
use support::remote::Remote;
use support::{FerroBroker, Mosquitto};

const WAIT: Duration = Duration::from_secs(20);
const EXE: &str = env!("CARGO_BIN_EXE_ferromq");

fn client(port: u16, id: &str, clean: bool) -> Client {
    let c = Client::new(
        &format!("tcp://127.0.0.1:{port}"),
        id,
        CreateOptions { mqtt_version: 5 },
    )
    .unwrap();
    let properties = Properties {
        list: vec![Property {
            id: PropertyId::SESSION_EXPIRY_INTERVAL,
            value: PropertyValue::U32(3600),
        }],
    };
    c.connect(ConnectOptions {
        clean_start: clean,
        properties,
        ..support::connect_options(5)
    })
    .expect("connect");
    c
}

#[test]
fn queued_messages_survive_kill_9_of_the_local_broker() {
    if !Mosquitto::available() {
        support::skip("mosquitto not installed");
        return;
    }
    // The hub's subscriber: a persistent session, offline meanwhile.
    let mut remote = Remote::new("");
    prepare_sink(&mut remote);

    let store = tempfile::tempdir().unwrap();
    let conf = format!(
        "persistence true\npersistence_location {}\n\
         connection hub\naddress 127.0.0.1:{}\nrestart_timeout 1\n\
         topic d/# out 2 edge/ hub/\n",
        store.path().display(),
        remote.port
    );
    let mut edge = FerroBroker::start(EXE, &conf);
    // The bridge has tried the remote and found it down.
    assert!(
        edge.log().wait_for("bridge hub: connecting", WAIT),
        "{}",
        edge.log().text()
    );
    let n = 25;
    {
        let publisher = client(edge.port, "edge-pub", true);
        for i in 0..n {
            for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let topic = format!("edge/d/{}", qos as u8);
                let r = publisher
                    .publish(
                        &topic,
                        Bytes::from(i.to_string()),
                        qos,
                        false,
                        Properties::default(),
                    )
                    .expect("publish");
                publisher
                    .wait_for_completion(r.token, WAIT)
                    .expect("acknowledged");
            }
        }
    }
    edge.kill();

    let edge = FerroBroker::start(EXE, &conf);
    remote.up();
    let sink = client(remote.port, "sink", false);
    // Payloads per QoS, and how often each arrived.
    let mut got: [HashMap<u32, u32>; 2] = Default::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.iter().any(|g| g.len() < n as usize) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some((topic, m)) = sink.receive(left).expect("receive") else {
            panic!(
                "got {:?} of {n} each; edge log:\n{}",
                got.iter().map(HashMap::len).collect::<Vec<_>>(),
                edge.log().text()
            );
        };
        let qos = match topic.as_str() {
            "hub/d/1" => 0,
            "hub/d/2" => 1,
            other => panic!("unexpected topic {other}"),
        };
        let i: u32 = String::from_utf8_lossy(&m.payload).parse().unwrap();
        *got[qos].entry(i).or_default() += 1;
    }
    // QoS 2: each exactly once (QoS 1 may repeat).
    let twice: Vec<_> = got[1].iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "QoS 2 messages repeated: {twice:?}");
    drop(edge);
    remote.down();
}

/// The sink's persistent session on the remote: subscribed to `hub/#`,
/// offline; the remote is down again afterwards.
fn prepare_sink(remote: &mut Remote) {
    remote.up();
    let sink = client(remote.port, "sink", false);
    let o = SubscriptionOptions {
        qos: QoS::ExactlyOnce,
        ..Default::default()
    };
    sink.subscribe_many(vec![("hub/#".into(), o)], Properties::default())
        .expect("subscribe");
    sink.disconnect(WAIT, ReasonCode::SUCCESS, Properties::default())
        .expect("disconnect");
    remote.down();
}

#[test]
fn unacknowledged_handed_messages_survive_kill_9() {
    if !Mosquitto::available() {
        support::skip("mosquitto not installed");
        return;
    }
    let mut remote = Remote::new("");
    prepare_sink(&mut remote);
    // In the remote's place: accepts the bridge, never acknowledges a
    // publish, and counts the payloads it was sent.
    let fake = TcpListener::bind(("127.0.0.1", remote.port)).expect("bind the remote's port");
    let n = 20;
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = fake.accept().expect("accept");
        drop(fake);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let mut answered = false;
        while let Ok(k) = s.read(&mut buf)
            && k > 0
        {
            got.extend_from_slice(&buf[..k]);
            if !answered {
                // CONNACK, session not present, accepted (3.1.1).
                answered = s.write_all(&[0x20, 0x02, 0x00, 0x00]).is_ok();
            }
            let count = got.windows(5).filter(|w| w == b"owed-").count();
            let _ = seen_tx.send(count);
        }
    });
    let store = tempfile::tempdir().unwrap();
    let conf = format!(
        "persistence true\npersistence_location {}\n\
         connection hub\naddress 127.0.0.1:{}\nrestart_timeout 1\nnotifications false\n\
         topic d/# out 1 edge/ hub/\n",
        store.path().display(),
        remote.port
    );
    let mut edge = FerroBroker::start(EXE, &conf);
    assert!(
        edge.log().wait_for("bridge hub: connected to", WAIT),
        "{}",
        edge.log().text()
    );
    let publisher = client(edge.port, "edge-pub", true);
    for i in 0..n {
        let r = publisher
            .publish(
                "edge/d/x",
                Bytes::from(format!("owed-{i}")),
                QoS::AtLeastOnce,
                false,
                Properties::default(),
            )
            .expect("publish");
        publisher
            .wait_for_completion(r.token, WAIT)
            .expect("acknowledged");
    }
    // Every one reached the remote's socket, none was acknowledged there.
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen_rx.recv_timeout(left) {
            Ok(c) if c >= n => break,
            Ok(_) => {}
            Err(e) => panic!("the fake remote did not get {n} publishes: {e}"),
        }
    }
    drop(publisher);
    edge.kill();
    fake.join().expect("fake remote");

    let edge = FerroBroker::start(EXE, &conf);
    remote.up();
    let sink = client(remote.port, "sink", false);
    let mut got: HashMap<String, u32> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some((_, m)) = sink.receive(left).expect("receive") else {
            panic!(
                "got {} of {n}: {got:?}; edge log:\n{}",
                got.len(),
                edge.log().text()
            );
        };
        *got.entry(String::from_utf8_lossy(&m.payload).into_owned())
            .or_default() += 1;
    }
    drop(edge);
    remote.down();
}
