//! MQTTAsync command records other than publishes: Paho C writes a
//! SUBSCRIBE or UNSUBSCRIBE command record (`c-<seqno>`) between the call
//! and its sending and replays one it finds at create. A store holding such
//! records, laid out as Paho's MQTTAsyncUtils.c writes them, is read back
//! by our asynchronous client: after connect they go to the server in
//! sequence order with their tokens, and their records are removed.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::client::r#async::{AsyncClient, AsyncConnectOptions, AsyncCreateOptions};
use ferromq::client::pending::Success;
use ferromq::client::persistence::file::{FileStore, client_dir};
use ferromq::client::sync::{Callbacks, ConnectOptions, Message};
use ferromq::protocol::codec::ProtocolVersion;
use support::raw::Raw;

const WAIT: Duration = Duration::from_secs(10);

fn int(v: i32) -> [u8; 4] {
    v.to_ne_bytes()
}

/// Paho's SUBSCRIBE command record (MQTT 3.x): type 8, token, count, then
/// each filter with its NUL and its QoS.
fn subscribe_record(token: i32, filters: &[(&str, i32)]) -> Vec<u8> {
    let mut r = [int(8), int(token), int(filters.len() as i32)].concat();
    for (f, qos) in filters {
        r.extend_from_slice(f.as_bytes());
        r.push(0);
        r.extend_from_slice(&int(*qos));
    }
    r
}

/// Paho's UNSUBSCRIBE command record (MQTT 3.x): type 10, token, count,
/// the filters with their NULs.
fn unsubscribe_record(token: i32, filters: &[&str]) -> Vec<u8> {
    let mut r = [int(10), int(token), int(filters.len() as i32)].concat();
    for f in filters {
        r.extend_from_slice(f.as_bytes());
        r.push(0);
    }
    r
}

struct Collect(Mutex<mpsc::Sender<(String, Vec<u8>)>>);

impl Callbacks for Collect {
    fn connection_lost(&self, _cause: Option<&str>) {}
    fn message_arrived(&self, topic: &str, m: &Message) -> bool {
        let _ = self
            .0
            .lock()
            .unwrap()
            .send((topic.to_string(), m.payload.to_vec()));
        true
    }
    fn delivery_complete(&self, _token: i32) {}
}

#[test]
fn paho_subscribe_and_unsubscribe_records_are_replayed_after_connect() {
    let mut broker =
        Server::new(BrokerConfig::default(), vec!["127.0.0.1:0".into()], None).unwrap();
    broker.start().unwrap();
    let port = broker.ports()[0];
    let uri = format!("tcp://127.0.0.1:{port}");
    let store = tempfile::tempdir().unwrap();
    let host = format!("127.0.0.1:{port}");
    let dir = client_dir(Some(store.path()), "cmd-client", &host);
    std::fs::create_dir_all(&dir).unwrap();
    let records = [
        (
            "c-1.msg",
            subscribe_record(41, &[("cmd/a", 1), ("cmd/b", 0)]),
        ),
        ("c-2.msg", unsubscribe_record(42, &["cmd/b"])),
    ];
    for (name, bytes) in &records {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    let client = Arc::new(
        AsyncClient::new(&uri, "cmd-client", AsyncCreateOptions::default()).expect("create"),
    );
    let file = FileStore::open(Some(store.path()), "cmd-client", &host).expect("store");
    client.attach_store(Box::new(file)).expect("attach");
    let (tx, rx) = mpsc::channel();
    client
        .set_callbacks(Some(Box::new(Collect(Mutex::new(tx)))))
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    client
        .connect(
            AsyncConnectOptions {
                base: ConnectOptions {
                    keep_alive: Duration::from_secs(20),
                    clean_session: false,
                    clean_start: false,
                    ..support::connect_options(4)
                },
                automatic_reconnect: false,
                min_retry_interval: Duration::from_millis(100),
                max_retry_interval: Duration::from_millis(400),
            },
            Some(Box::new(move |_t, r| {
                let _ = done_tx.send(matches!(r, Ok(Success::Connect { .. })));
            })),
        )
        .expect("connect");
    assert_eq!(done_rx.recv_timeout(WAIT), Ok(true), "connected");
    // The restored requests complete (SUBACK, UNSUBACK) under their tokens.
    for token in [41, 42] {
        client
            .wait_for_completion(token, WAIT)
            .unwrap_or_else(|e| panic!("token {token}: {e:?}"));
    }
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "records left after replay: {left:?}");
    // Subscribed to cmd/a, cmd/b subscribed then unsubscribed, in order.
    assert_eq!(broker.stats().subscriptions, 1);
    let mut publisher = Raw::connect(port, ProtocolVersion::V311, "cmd-pub");
    publisher.publish0("cmd/a", b"replayed");
    let (topic, payload) = rx.recv_timeout(WAIT).expect("message on cmd/a");
    assert_eq!((topic.as_str(), &payload[..]), ("cmd/a", &b"replayed"[..]));
    drop(client);
    broker.stop().unwrap();
}
